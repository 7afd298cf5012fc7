#version 450
// MUL_MAT activation pass: gathers x (F32, any strides) into a contiguous F32 scratch
// [k, n, b2, b3] after a round trip through the weight's partner type (Q8_0, Q8_1, Q8_K,
// F16, BF16; none for F32), so the float product that follows sees exactly the values
// the reference's integer dot products see. One invocation per partner block.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#define V_SIZE 256
#include "common.glsl"
#include "types.glsl"
#include "store.glsl"

void main() {
    const uint tp = TS1;
    const uint U = type_qk(tp);
    const uint k = NE(2u, 0u), n = NE(2u, 1u), b2 = NE(2u, 2u);
    const uint upr = k / U, g = flat_id(64u);
    const uint r = g / upr, u = g % upr;
    if (r >= n * b2 * NE(2u, 3u)) return;
    const uint j = r % n, i2 = (r / n) % b2, i3 = r / (n * b2);
    const uint ra = P(S_OFF + 1u) + j * NB(2u, 1u) + i2 * NB(2u, 2u) + i3 * NB(2u, 3u);
    for (uint e = 0u; e < U; e++) V[e] = uintBitsToFloat(rd32(1u, ra + (u * U + e) * NB(2u, 0u)));
    if (tp == T_F16) {
        V[0] = h2f(f2h(V[0]));
    } else if (tp == T_BF16) {
        V[0] = bf2f(f2bf(V[0]));
    } else if (tp == T_Q8_0 || tp == T_Q8_1) {
        float amax = 0.0;
        for (uint e = 0u; e < 32u; e++) amax = max(amax, abs(V[e]));
        float d = amax / 127.0;
        float id = d != 0.0 ? 1.0 / d : 0.0;
        float dh = h2f(f2h(d));
        for (uint e = 0u; e < 32u; e++) {
            precise float a = V[e] * id;
            V[e] = float(round_q8(a)) * dh;
        }
    } else if (tp == T_Q8_K) {
        float amax = 0.0;
        for (uint e = 0u; e < 256u; e++) amax = max(amax, abs(V[e]));
        if (!(amax > 0.0)) {
            for (uint e = 0u; e < 256u; e++) V[e] = 0.0;
        } else {
            const float is = 127.0 / amax, d = amax / 127.0;
            for (uint e = 0u; e < 256u; e++) {
                precise float a = is * V[e];
                float q = !(a > -127.0) ? -127.0 : a >= 127.0 ? 127.0 : roundEven(a);
                V[e] = d * q;
            }
        }
    }
    const uint da = P(S_OFF + 3u) + (r * k + u * U) * 4u;
    for (uint e = 0u; e < U; e++) bufs[3].d[(da >> 2) + e] = floatBitsToUint(V[e]);
}
