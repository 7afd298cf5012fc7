#version 450
// ROPE: the first n_dims values of each row are rotated in pairs by
// theta_i = pos * freq_scale * freq_base^(-2i/n_dims): adjacent pairs (NORMAL) or
// (i, i + n_dims/2) (NEOX); the rest is copied. The host computes the frequencies in
// double; with ROPE_F64 (shaderFloat64) theta is formed and reduced modulo 2*pi in double,
// otherwise in float. One invocation per pair.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#include "common.glsl"
#include "types.glsl"
#include "store.glsl"

void main() {
    const uint td = TD, t0 = TS0;
    const uint ne0 = NE(0u, 0u), ne1 = NE(0u, 1u), ne2 = NE(0u, 2u);
    const uint n_dims = P(S_OP), mode = P(S_OP + 1u), half_ = n_dims / 2u;
    const uint ppr = (ne0 + 1u) / 2u, g = flat_id(64u);
    const uint r = g / ppr, k = g % ppr;
    if (r >= ne1 * ne2 * NE(0u, 3u)) return;
    const uint i1 = r % ne1, i2 = (r / ne1) % ne2, i3 = r / (ne1 * ne2);
    const uint ra = row_addr(0u, i1, i2, i3), nb0 = NB(1u, 0u);
    const uint da = row_addr(3u, i1, i2, i3), dnb = NB(0u, 0u);
    if (k >= half_) {
        uint e = n_dims + 2u * (k - half_);
        for (uint q = e; q < min(e + 2u, ne0); q++) {
            V[0] = load_elem(0u, t0, ra, q, nb0);
            store_unit(td, da + q * dnb);
        }
        return;
    }
    // Position pos[i2] (I32, or the low word of I64).
    const int pos = int(rd32(1u, P(S_OFF + 1u) + i2 * NB(2u, 0u)));
    const uint tab = P(S_X + 2u) + 3u * k;
#ifdef ROPE_F64
    double th = double(pos) * double(PF(S_OP + 3u)) * packDouble2x32(uvec2(p[tab], p[tab + 1u]));
    const double tau = 6.283185307179586476925;
    th -= tau * floor(th / tau + 0.5LF);
    const float theta = float(th);
#else
    float theta = float(pos) * PF(S_OP + 3u) * uintBitsToFloat(p[tab + 2u]);
    const float tau = 6.2831853071795864;
    theta -= tau * floor(theta / tau + 0.5);
#endif
    const float c = cos(theta), s = sin(theta);
    const uint j0 = mode == 2u ? k : 2u * k, j1 = mode == 2u ? k + half_ : 2u * k + 1u;
    const float x0 = load_elem(0u, t0, ra, j0, nb0), x1 = load_elem(0u, t0, ra, j1, nb0);
    V[0] = x0 * c - x1 * s;
    store_unit(td, da + j0 * dnb);
    V[0] = x0 * s + x1 * c;
    store_unit(td, da + j1 * dnb);
}
