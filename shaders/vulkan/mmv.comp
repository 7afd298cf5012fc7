#version 450
// MUL_MAT, matrix-vector path (few columns): one workgroup per weight row and group of
// up to NC columns of one plane. Threads stride over k, dequantizing weights of type
// WTYPE (compile-time) in-shader and multiplying with the prepared F32 activations
// (act.comp); partial sums are reduced with subgroup arithmetic (SUBGROUP variant) or a
// shared-memory tree. Feature variants (backends/vulkan/CMakeLists.txt): STORAGE8 /
// STORAGE16 narrow loads (common.glsl), F16_HW, and FP16 (float16 arithmetic for F16
// weights).
#extension GL_GOOGLE_include_directive : require
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#ifdef FP16
// F16 weights with shaderFloat16 (and STORAGE16): see the loop in main().
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_shader_16bit_storage : require
layout(set = 0, binding = 0) buffer BufH4 { f16vec4 d[]; } bufsh4[4];
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
#ifdef FP16
    if ((k & 3u) == 0u && (wa & 7u) == 0u) {
        // 4 weights per step: products and their 4-term sum in float16 (packed math),
        // the running sum in float. A partial sum that overflows float16 (products
        // above 65504: inf, or NaN from inf - inf) is redone in float; a NaN weight gives
        // NaN either way. x was rounded through F16 by act.comp, so
        // converting it back is exact.
        for (uint q = t; q < k / 4u; q += WG) {
            const f16vec4 w = bufsh4[0].d[(wa >> 3) + q];
            for (uint c = 0u; c < nc; c++) {
                const uint xa = xb + c * k + 4u * q;
                const vec4 x = vec4(uintBitsToFloat(bufs[1].d[xa]), uintBitsToFloat(bufs[1].d[xa + 1u]),
                                    uintBitsToFloat(bufs[1].d[xa + 2u]), uintBitsToFloat(bufs[1].d[xa + 3u]));
                const float16_t h = dot(w, f16vec4(x));
                acc[c] += isinf(h) || isnan(h) ? dot(vec4(w), x) : float(h);
            }
        }
    } else
#endif
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
