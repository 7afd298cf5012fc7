#version 450
// RMS_NORM and NORM: one workgroup per row, sums reduced in shared memory. NORM takes
// two passes (mean, then the mean of squared deviations), as the reference does.
#extension GL_GOOGLE_include_directive : require
#define WG 128u
layout(local_size_x = 128) in;
#include "common.glsl"
#include "types.glsl"
#include "store.glsl"

shared float red[WG];

float wg_sum(float v) {
    const uint t = gl_LocalInvocationID.x;
    red[t] = v;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (t < s) red[t] += red[t + s];
        barrier();
    }
    float r = red[0];
    barrier();
    return r;
}

void main() {
    const uint td = TD, t0 = TS0, op = OPC;
    const uint ne0 = NE(0u, 0u), ne1 = NE(0u, 1u), ne2 = NE(0u, 2u);
    const uint r = flat_group();
    if (r >= ne1 * ne2 * NE(0u, 3u)) return;
    const uint i1 = r % ne1, i2 = (r / ne1) % ne2, i3 = r / (ne1 * ne2);
    const uint ra = row_addr(0u, i1, i2, i3), nb0 = NB(1u, 0u), t = gl_LocalInvocationID.x;
    float mean = 0.0;
    if (op == 7u) {
        float s = 0.0;
        for (uint i = t; i < ne0; i += WG) s += load_elem(0u, t0, ra, i, nb0);
        mean = wg_sum(s) / float(ne0);
    }
    float sq = 0.0;
    for (uint i = t; i < ne0; i += WG) {
        float dv = load_elem(0u, t0, ra, i, nb0) - mean;
        sq += dv * dv;
    }
    const float inv = 1.0 / sqrt(wg_sum(sq) / float(ne0) + PF(S_OP));
    const uint da = row_addr(3u, i1, i2, i3), dnb = NB(0u, 0u);
    for (uint i = t; i < ne0; i += WG) {
        V[0] = (load_elem(0u, t0, ra, i, nb0) - mean) * inv;
        store_unit(td, da + i * dnb);
    }
}
