#version 450
// MUL_MAT, tiled path (many columns): each workgroup of 16x16 threads computes a 32x32
// tile of the output (2x2 per thread), staging 32-deep slices of dequantized weights
// (type WTYPE, compile-time) and prepared F32 activations in shared memory.
#extension GL_GOOGLE_include_directive : require
#define BM 32u
#define BN 32u
#define BK 32u
layout(local_size_x = 256) in;
#include "common.glsl"
#include "types.glsl"

shared float ws[BK][BM + 1u];
shared float xs[BK][BN + 1u];

void main() {
    const uint k = NE(1u, 0u), m = NE(1u, 1u), n = NE(2u, 1u), b2 = NE(2u, 2u), b3 = NE(2u, 3u);
    const uint tm = (m + BM - 1u) / BM, tn = (n + BN - 1u) / BN;
    const uint g = flat_group();
    if (g >= tm * tn * b2 * b3) return;
    const uint bi = g % tm, rest = g / tm, bj = rest % tn, plane = rest / tn;
    const uint i2 = plane % b2, i3 = plane / b2;
    const uint r2 = b2 / NE(1u, 2u), r3 = b3 / NE(1u, 3u);
    const uint t = gl_LocalInvocationID.x, tx = t % 16u, ty = t / 16u;
    const uint xb = (P(S_OFF + 1u) >> 2) + plane * n * k;
    float acc[2][2] = float[2][2](float[2](0.0, 0.0), float[2](0.0, 0.0));
    for (uint k0 = 0u; k0 < k; k0 += BK) {
        for (uint q = 0u; q < 4u; q++) {
            const uint idx = t + 256u * q, kk = idx % BK, rr = idx / BK;
            const uint row = bi * BM + rr, col = bj * BN + rr, e = k0 + kk;
            float w = 0.0, x = 0.0;
            if (row < m && e < k)
                w = load_elem(0u, WTYPE, row_addr(0u, row, i2 / r2, i3 / r3), e, type_size(WTYPE));
            if (col < n && e < k) x = uintBitsToFloat(bufs[1].d[xb + col * k + e]);
            ws[kk][rr] = w;
            xs[kk][rr] = x;
        }
        barrier();
        for (uint kk = 0u; kk < BK; kk++) {
            const float a0 = ws[kk][2u * ty], a1 = ws[kk][2u * ty + 1u];
            const float x0 = xs[kk][2u * tx], x1 = xs[kk][2u * tx + 1u];
            acc[0][0] += a0 * x0;
            acc[0][1] += a0 * x1;
            acc[1][0] += a1 * x0;
            acc[1][1] += a1 * x1;
        }
        barrier();
    }
    for (uint a = 0u; a < 2u; a++)
        for (uint b = 0u; b < 2u; b++) {
            const uint row = bi * BM + 2u * ty + a, col = bj * BN + 2u * tx + b;
            if (row < m && col < n) wr32(row_addr(3u, col, i2, i3) + row * 4u, floatBitsToUint(acc[a][b]));
        }
}
