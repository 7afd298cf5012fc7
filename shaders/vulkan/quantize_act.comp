#version 450
// MUL_MAT activation pass of the integer-dot-product path (mmvq.comp): quantizes each
// 32-element block of x (F32, any strides) to int8 in the scratch buffer, laid out for
// packed 4x8-bit dot products. For B blocks in all (rows of x in order, k/32 blocks a
// row): word 8*b .. 8*b+7 hold block b's 32 int8 values (element 4*w + i in byte i of
// word w), and words 8*B + 2*b, 8*B + 2*b + 1 its scale d and s = d * sum(q) as floats.
// One invocation per partner block (32 elements, 256 for Q8_K). The rounding is the
// partner type's (TS1), as act.comp and cpu-ref do it, so the integers and scales are
// the ones cpu-ref's dot products see: Q8_0 and Q8_1 keep d rounded to F16 (Q8_1 also s,
// from the unrounded d), Q8_K has one float d per 256 elements (repeated per block).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#include "common.glsl"
#include "types.glsl"

// Nearest integer, halves away from zero (roundf), clamped to +-127; NaN gives 0.
int round_away_q8(float v) {
    if (nan_bits(v)) return 0;
    float t = trunc(v);
    if (abs(v - t) >= 0.5) t += sign(v);
    return int(clamp(t, -127.0, 127.0));
}

void main() {
    const uint tp = TS1;
    const bool qk = tp == T_Q8_K;
    const uint U = qk ? 256u : 32u;
    const uint k = NE(2u, 0u), n = NE(2u, 1u), b2 = NE(2u, 2u);
    const uint upr = k / U, g = flat_id(64u);
    const uint r = g / upr, u = g % upr;
    const uint rows = n * b2 * NE(2u, 3u);
    if (r >= rows) return;
    const uint j = r % n, i2 = (r / n) % b2, i3 = r / (n * b2);
    const uint nb0 = NB(2u, 0u);
    const uint ra = P(S_OFF + 1u) + j * NB(2u, 1u) + i2 * NB(2u, 2u) + i3 * NB(2u, 3u) + u * U * nb0;
    float amax = 0.0;
    for (uint e = 0u; e < U; e++) amax = max(amax, abs(uintBitsToFloat(rd32(1u, ra + e * nb0))));
    const float d = amax / 127.0;
    const float id = qk ? (amax > 0.0 ? 127.0 / amax : 0.0) : (d != 0.0 ? 1.0 / d : 0.0);
    const float dq = qk ? (amax > 0.0 ? d : 0.0) : h2f(f2h(d));
    const uint nxb = rows * (k / 32u), base = P(S_OFF + 3u) >> 2;
    for (uint sb = 0u; sb < U / 32u; sb++) {
        const uint b = r * (k / 32u) + u * (U / 32u) + sb;
        int sum = 0;
        for (uint w = 0u; w < 8u; w++) {
            uint packed = 0u;
            for (uint i = 0u; i < 4u; i++) {
                precise float a = uintBitsToFloat(rd32(1u, ra + (32u * sb + 4u * w + i) * nb0)) * id;
                int q;
                if (qk) q = amax > 0.0 ? int(!(a > -127.0) ? -127.0 : a >= 127.0 ? 127.0 : roundEven(a)) : 0;
                else q = round_away_q8(a);
                sum += q;
                packed |= (uint(q) & 0xffu) << (8u * i);
            }
            bufs[3].d[base + 8u * b + w] = packed;
        }
        float s = float(sum) * (tp == T_Q8_1 ? d : dq);
        if (tp == T_Q8_1) s = h2f(f2h(s));
        bufs[3].d[base + 8u * nxb + 2u * b] = floatBitsToUint(dq);
        bufs[3].d[base + 8u * nxb + 2u * b + 1u] = floatBitsToUint(s);
    }
}
