#version 450
// SOFT_MAX: per row softmax(x * scale + mask), one workgroup per row. The mask (F32 or
// F16, optional) is broadcast over dims 2 and 3. A NaN anywhere makes the row NaN; a
// fully masked row (maximum -inf) gives zeros, as the reference kernel.
#extension GL_GOOGLE_include_directive : require
#define WG 128u
layout(local_size_x = 128) in;
#include "common.glsl"
#include "types.glsl"
#include "store.glsl"

shared float red[WG];

// op 0: sum, 1: max (NaN propagates).
float wg_reduce(float v, uint op) {
    const uint t = gl_LocalInvocationID.x;
    red[t] = v;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (t < s) {
            float a = red[t], b = red[t + s];
            red[t] = op == 0u ? a + b : (nan_bits(a) || nan_bits(b)) ? qnan() : max(a, b);
        }
        barrier();
    }
    float r = red[0];
    barrier();
    return r;
}

void main() {
    const uint td = TD, t0 = TS0, tm = TS1, has_mask = OPC;
    const uint ne0 = NE(0u, 0u), ne1 = NE(0u, 1u), ne2 = NE(0u, 2u);
    const uint r = flat_group();
    if (r >= ne1 * ne2 * NE(0u, 3u)) return;
    const uint i1 = r % ne1, i2 = (r / ne1) % ne2, i3 = r / (ne1 * ne2);
    const uint ra = row_addr(0u, i1, i2, i3), nb0 = NB(1u, 0u), t = gl_LocalInvocationID.x;
    const float scale = PF(S_OP);
    uint rm = 0u;
    if (has_mask != 0u) rm = row_addr(1u, i1, i2 % NE(2u, 2u), i3 % NE(2u, 3u));
    float mx = -1.0 / 0.0;
    for (uint i = t; i < ne0; i += WG) {
        precise float v = load_elem(0u, t0, ra, i, nb0) * scale;
        if (has_mask != 0u) v += load_elem(1u, tm, rm, i, NB(2u, 0u));
        mx = (nan_bits(v) || nan_bits(mx)) ? qnan() : max(mx, v);
    }
    mx = wg_reduce(mx, 1u);
    const uint da = row_addr(3u, i1, i2, i3), dnb = NB(0u, 0u);
    if (isinf(mx) && mx < 0.0) {
        V[0] = 0.0;
        for (uint i = t; i < ne0; i += WG) store_unit(td, da + i * dnb);
        return;
    }
    float s = 0.0;
    for (uint i = t; i < ne0; i += WG) {
        precise float v = load_elem(0u, t0, ra, i, nb0) * scale;
        if (has_mask != 0u) v += load_elem(1u, tm, rm, i, NB(2u, 0u));
        s += exp(v - mx);
    }
    const float inv = 1.0 / wg_reduce(s, 0u);
    for (uint i = t; i < ne0; i += WG) {
        precise float v = load_elem(0u, t0, ra, i, nb0) * scale;
        if (has_mask != 0u) v += load_elem(1u, tm, rm, i, NB(2u, 0u));
        V[0] = exp(v - mx) * inv;
        store_unit(td, da + i * dnb);
    }
}
