#version 450
// MUL_MAT, matrix-vector path (few columns): one workgroup per weight row and group of
// up to NC columns of one plane. Threads stride over k, dequantizing weights of type
// WTYPE (compile-time) in-shader and multiplying with the prepared F32 activations
// (act.comp); partial sums are reduced with subgroup arithmetic (SUBGROUP variant) or a
// shared-memory tree.
#extension GL_GOOGLE_include_directive : require
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#define WG 64u
#define NC 4u
layout(local_size_x = 64) in;
#include "common.glsl"
#include "types.glsl"

shared float red[NC][WG];

void main() {
    const uint k = NE(1u, 0u), m = NE(1u, 1u), n = NE(2u, 1u), b2 = NE(2u, 2u), b3 = NE(2u, 3u);
    const uint ncb = (n + NC - 1u) / NC;
    const uint g = flat_group();
    if (g >= m * ncb * b2 * b3) return;
    const uint i = g % m, rest = g / m, cb = rest % ncb, plane = rest / ncb;
    const uint i2 = plane % b2, i3 = plane / b2;
    const uint r2 = b2 / NE(1u, 2u), r3 = b3 / NE(1u, 3u);
    const uint wa = row_addr(0u, i, i2 / r2, i3 / r3);
    const uint j0 = cb * NC, nc = min(NC, n - j0);
    const uint xb = (P(S_OFF + 1u) >> 2) + (plane * n + j0) * k;
    const uint t = gl_LocalInvocationID.x;
    float acc[NC];
    for (uint c = 0u; c < NC; c++) acc[c] = 0.0;
    for (uint e = t; e < k; e += WG) {
        const float w = load_elem(0u, WTYPE, wa, e, type_size(WTYPE));
        for (uint c = 0u; c < nc; c++) acc[c] += w * uintBitsToFloat(bufs[1].d[xb + c * k + e]);
    }
#ifdef SUBGROUP
    for (uint c = 0u; c < NC; c++) acc[c] = subgroupAdd(acc[c]);
    if (subgroupElect())
        for (uint c = 0u; c < NC; c++) red[c][gl_SubgroupID] = acc[c];
    barrier();
    if (t < nc) {
        float s = 0.0;
        for (uint q = 0u; q < gl_NumSubgroups; q++) s += red[t][q];
        wr32(row_addr(3u, j0 + t, i2, i3) + i * 4u, floatBitsToUint(s));
    }
#else
    for (uint c = 0u; c < NC; c++) red[c][t] = acc[c];
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (t < s)
            for (uint c = 0u; c < NC; c++) red[c][t] += red[c][t + s];
        barrier();
    }
    if (t < nc) wr32(row_addr(3u, j0 + t, i2, i3) + i * 4u, floatBitsToUint(red[t][0]));
#endif
}
