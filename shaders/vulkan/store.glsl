// Writing results into the destination (bufs[3]) in any type with a device quantizer:
// plain types one element at a time, block types one whole block per invocation from
// the values in V[] (the "unit" of a type: 1 element, or its block). The quantizers
// follow the reference rules of core/quant (legacy.c, iq4.c, fp4.c, fp8.c) step by
// step; `precise` forbids fused multiply-adds the reference does not do. 256-element
// blocks (Q8_K, TQ1_0, TQ2_0, and with KQUANT defined Q2_K..Q6_K and IQ4_XS from
// kquant.glsl) need V_SIZE 256 and QB_SIZE 292 in the including kernel.

#ifndef V_SIZE
#define V_SIZE 64
#endif
#ifndef QB_SIZE
#define QB_SIZE 40
#endif
float V[V_SIZE];  // the unit's values
uint QB[QB_SIZE]; // the encoded block, one byte per entry

// Write QB[0..n) at byte address a, whole words directly, shared words with atomics.
void flush_block(uint a, uint n) {
    uint w1 = (a + n + 3u) >> 2;
    for (uint w = a >> 2; w < w1; w++) {
        uint v = 0u, m = 0u;
        for (uint k = 0u; k < 4u; k++) {
            uint ba = 4u * w + k;
            if (ba >= a && ba < a + n) {
                v |= (QB[ba - a] & 0xffu) << (8u * k);
                m |= 0xffu << (8u * k);
            }
        }
        wr_masked(w, v, m);
    }
}

int trunc_q(float v, int hi) {
    if (!(v > 0.0)) return 0;
    if (v >= float(hi)) return hi;
    return int(v);
}

// C roundf: half away from zero.
float round_away(float v) {
    float t = trunc(v);
    if (abs(v - t) >= 0.5) t += sign(v);
    return t;
}

int round_q8(float v) {
    if (nan_bits(v)) return 0;
    return int(clamp(round_away(v), -127.0, 127.0));
}

float signed_absmax(uint n) {
    float amax = 0.0, mx = 0.0;
    for (uint j = 0u; j < n; j++)
        if (abs(V[j]) > amax) { amax = abs(V[j]); mx = V[j]; }
    return mx;
}

void put16(uint i, uint v) { QB[i] = v & 0xffu; QB[i + 1u] = (v >> 8) & 0xffu; }

void quant_q4_0() {
    float d = signed_absmax(32u) / -8.0;
    float id = d != 0.0 ? 1.0 / d : 0.0;
    put16(0u, f2h(d));
    for (uint j = 0u; j < 16u; j++) {
        precise float a = V[j] * id + 8.5, b = V[j + 16u] * id + 8.5;
        QB[2u + j] = uint(trunc_q(a, 15)) | (uint(trunc_q(b, 15)) << 4);
    }
}

void min_max(out float mn, out float mx) {
    mn = uintBitsToFloat(0x7f7fffffu);
    mx = -mn;
    for (uint j = 0u; j < 32u; j++) {
        if (V[j] < mn) mn = V[j];
        if (V[j] > mx) mx = V[j];
    }
}

void quant_q4_1() {
    float mn, mx;
    min_max(mn, mx);
    precise float d = (mx - mn) / 15.0;
    float id = d != 0.0 ? 1.0 / d : 0.0;
    put16(0u, f2h(d));
    put16(2u, f2h(mn));
    for (uint j = 0u; j < 16u; j++) {
        precise float a = (V[j] - mn) * id + 0.5, b = (V[j + 16u] - mn) * id + 0.5;
        QB[4u + j] = uint(trunc_q(a, 15)) | (uint(trunc_q(b, 15)) << 4);
    }
}

// 5-bit quants q[] (in V as floats of ints) into qh at h0 and qs at s0.
void pack_q5(uint h0, uint s0, int q[32]) {
    uint h = 0u;
    for (uint j = 0u; j < 16u; j++) {
        QB[s0 + j] = uint(q[j] & 15) | (uint(q[j + 16u] & 15) << 4);
        h |= uint((q[j] >> 4) & 1) << j;
        h |= uint((q[j + 16u] >> 4) & 1) << (j + 16u);
    }
    for (uint k = 0u; k < 4u; k++) QB[h0 + k] = (h >> (8u * k)) & 0xffu;
}

void quant_q5_0() {
    float d = signed_absmax(32u) / -16.0;
    float id = d != 0.0 ? 1.0 / d : 0.0;
    put16(0u, f2h(d));
    int q[32];
    for (uint j = 0u; j < 32u; j++) {
        precise float a = V[j] * id + 16.5;
        q[j] = trunc_q(a, 31);
    }
    pack_q5(2u, 6u, q);
}

void quant_q5_1() {
    float mn, mx;
    min_max(mn, mx);
    precise float d = (mx - mn) / 31.0;
    float id = d != 0.0 ? 1.0 / d : 0.0;
    put16(0u, f2h(d));
    put16(2u, f2h(mn));
    int q[32];
    for (uint j = 0u; j < 32u; j++) {
        precise float a = (V[j] - mn) * id + 0.5;
        q[j] = trunc_q(a, 31);
    }
    pack_q5(4u, 8u, q);
}

void quant_q8(bool with_s) {
    float amax = 0.0;
    for (uint j = 0u; j < 32u; j++) amax = max(amax, abs(V[j]));
    float d = amax / 127.0;
    float id = d != 0.0 ? 1.0 / d : 0.0;
    put16(0u, f2h(d));
    uint q0 = with_s ? 4u : 2u;
    int sum = 0;
    for (uint j = 0u; j < 32u; j++) {
        precise float a = V[j] * id;
        int q = round_q8(a);
        sum += q;
        QB[q0 + j] = uint(q) & 0xffu;
    }
    if (with_s) {
        precise float s = float(sum) * d;
        put16(2u, f2h(s));
    }
}

// Index of the table value nearest to v, the lower one on ties (iq4_nearest in iq4.c).
// A counted loop, not a `while` with a data-dependent exit: on lavapipe (Mesa 22.3)
// that loop, run inside the loops of quant_iq4_xs, left the block store that follows
// with most of its writes dropped (see backends/vulkan/README.md).
int iq4_nearest(float v) {
    int k = 0; // T[k] < v <= T[k+1] for v inside the table's range
    for (int i = 1; i < 15; i++) k += v > float(IQ4V[i]) ? 1 : 0;
    int r = v - float(IQ4V[k]) <= float(IQ4V[k + 1]) - v ? k : k + 1;
    r = v >= float(IQ4V[15]) ? 15 : r;
    return v > float(IQ4V[0]) ? r : 0;
}

// Best IQ4 scale of V[o..o+32) (0 for an all-tiny block), as iq4_block_scale in iq4.c.
float iq4_scale(uint o) {
    float amax = 0.0, mx = 0.0;
    for (uint j = 0u; j < 32u; j++)
        if (abs(V[o + j]) > amax) { amax = abs(V[o + j]); mx = V[o + j]; }
    float best_d = 0.0, best = -1.0;
    const int ne = amax >= 1e-15 ? 2 : 0; // no search for an all-tiny block (d = 0)
    for (int e = 0; e < ne; ++e) {
        for (int t = -7; t <= 7; ++t) {
            float id = float((e == 0 ? IQ4V[0] : IQ4V[15]) + t) / mx;
            precise float sqx = 0.0, sq2 = 0.0;
            for (uint j = 0u; j < 32u; j++) {
                precise float pv = id * V[o + j];
                float q = float(IQ4V[iq4_nearest(pv)]);
                precise float w = V[o + j] * V[o + j];
                sqx += w * q * V[o + j];
                sq2 += w * q * q;
            }
            if (sq2 > 0.0) {
                precise float g = sqx * sqx / sq2;
                if (g > best) { best = g; best_d = sqx / sq2; }
            }
        }
    }
    return best_d;
}

// Nearest IQ4 codes of V[o..o+32) for scale d, packed like Q4_0 at QB[q0..q0+16).
void iq4_assign(uint o, float d, uint q0) {
    float id = d != 0.0 ? 1.0 / d : 0.0;
    for (uint j = 0u; j < 16u; j++) {
        precise float a = id * V[o + j], b = id * V[o + j + 16u];
        QB[q0 + j] = uint(iq4_nearest(a)) | (uint(iq4_nearest(b)) << 4);
    }
}

void quant_iq4_nl() {
    uint dh = f2h(iq4_scale(0u));
    put16(0u, dh);
    iq4_assign(0u, h2f(dh), 2u);
}

#if V_SIZE >= 256
void quant_q8_k() {
    float amax = 0.0;
    for (uint j = 0u; j < 256u; j++) if (abs(V[j]) > amax) amax = abs(V[j]);
    for (uint i = 0u; i < 292u; i++) QB[i] = 0u;
    if (!(amax > 0.0)) return;
    float is = 127.0 / amax;
    for (uint g = 0u; g < 16u; g++) {
        int s = 0;
        for (uint l = 0u; l < 16u; l++) {
            precise float v = is * V[16u * g + l];
            int q = !(v > -127.0) ? -127 : v >= 127.0 ? 127 : int(roundEven(v));
            QB[4u + 16u * g + l] = uint(q) & 0xffu;
            s += q;
        }
        put16(260u + 2u * g, uint(s));
    }
    uint db = floatBitsToUint(amax / 127.0);
    put16(0u, db);
    put16(2u, db >> 16);
}

// Ternary codes t+1 (0..2) into V as floats; returns d = amax (ternary_codes in ternary.c).
float ternary() {
    float amax = 0.0;
    for (uint j = 0u; j < 256u; j++) if (abs(V[j]) > amax) amax = abs(V[j]);
    bool fin = floatBitsToUint(amax) < 0x7f800000u;
    float id = amax > 0.0 && fin ? 1.0 / amax : 0.0;
    for (uint j = 0u; j < 256u; j++) {
        precise float v = V[j] * id;
        V[j] = nan_bits(v) ? 1.0 : v >= 0.5 ? 2.0 : v <= -0.5 ? 0.0 : 1.0;
    }
    return amax;
}

void quant_tq2_0() {
    float d = ternary();
    for (uint g = 0u; g < 2u; g++)
        for (uint m = 0u; m < 32u; m++) {
            uint q = 0u;
            for (uint l = 0u; l < 4u; l++) q |= uint(V[128u * g + 32u * l + m]) << (2u * l);
            QB[32u * g + m] = q;
        }
    put16(64u, f2h(d));
}

void quant_tq1_0() {
    float d = ternary();
    for (uint s = 0u; s < 3u; s++) {
        uint byte0 = s == 0u ? 0u : s == 1u ? 32u : 48u, cnt = s == 0u ? 32u : s == 1u ? 16u : 4u;
        uint trits = s == 2u ? 4u : 5u, e0 = s == 0u ? 0u : s == 1u ? 160u : 240u;
        for (uint m = 0u; m < cnt; m++) {
            uint v = 0u;
            for (uint k = 0u; k < 5u; k++) v = v * 3u + (k < trits ? uint(V[e0 + k * cnt + m]) : 0u);
            QB[byte0 + m] = (v * 256u + 242u) / 243u;
        }
    }
    put16(52u, f2h(d));
}
#endif

#if V_SIZE >= 256 && QB_SIZE >= 292 && defined(KQUANT)
#include "kquant.glsl"
#endif

uint nearest_e2m1(float x, float hs) {
    uint best = 0u;
    precise float best_err = abs(float(E2M1X2[0]) * hs - x);
    for (uint c = 1u; c < 16u; c++) {
        precise float err = abs(float(E2M1X2[c]) * hs - x);
        if (err < best_err) { best_err = err; best = c; }
    }
    return best;
}

// floor(log2(a)) of a positive finite float, exactly (from its bits).
int ilog2(float a) {
    uint x = floatBitsToUint(a);
    int e = int(x >> 23);
    if (e == 0) return findMSB(x & 0x7fffffu) - 149;
    return e - 127;
}

void quant_mxfp4() {
    float amax = 0.0;
    for (uint j = 0u; j < 32u; j++) if (abs(V[j]) > amax) amax = abs(V[j]);
    int e = 0;
    bool inf_ = floatBitsToUint(amax) == 0x7f800000u;
    if (amax > 0.0 && !inf_ && !nan_bits(amax)) e = clamp(ilog2(amax) - 2 + 127, 0, 254);
    else if (inf_) e = 254;
    float h = ldexp(1.0, e - 128);
    QB[0] = uint(e);
    for (uint j = 0u; j < 16u; j++)
        QB[1u + j] = nearest_e2m1(V[j], h) | (nearest_e2m1(V[j + 16u], h) << 4);
}

void quant_nvfp4() {
    for (uint s = 0u; s < 4u; s++) {
        float amax = 0.0;
        for (uint j = 0u; j < 16u; j++) if (abs(V[16u * s + j]) > amax) amax = abs(V[16u * s + j]);
        uint code = nan_bits(amax) ? 0u : f2e4m3(amax / 6.0);
        QB[s] = code;
        float h = ue4m3f(code) * 0.5;
        for (uint j = 0u; j < 8u; j++)
            QB[4u + 8u * s + j] = nearest_e2m1(V[16u * s + j], h) | (nearest_e2m1(V[16u * s + j + 8u], h) << 4);
    }
}

void quant_mxfp8(bool e4) {
    float amax = 0.0;
    for (uint j = 0u; j < 32u; j++) { float a = abs(V[j]); if (a > amax) amax = a; }
    int e = 0;
    if (floatBitsToUint(amax) == 0x7f800000u) e = 254;
    else if (amax > 0.0) e = clamp(ilog2(amax) - (e4 ? 8 : 15) + 127, 0, 254);
    QB[0] = uint(e);
    for (uint j = 0u; j < 32u; j++) {
        float v = ldexp(V[j], 127 - e);
        QB[1u + j] = e4 ? f2e4m3(v) : f2e5m2(v);
    }
}

// Saturating round-to-even float -> integer (as core/quant/float.c), NaN gives 0.
int to_int_sat(float f, float lim) {
    if (nan_bits(f)) return 0;
    float r = roundEven(f);
    if (r >= lim) return int(lim - 1.0);
    if (r < -lim) return -int(lim);
    return int(r);
}

// Store the unit (V[0], or a block) of type t at byte address a.
void store_unit(uint t, uint a) {
    switch (t) {
    case T_F32: wr32(a, floatBitsToUint(V[0])); return;
    case T_F16: wr16(a, f2h(V[0])); return;
    case T_BF16: wr16(a, f2bf(V[0])); return;
    case T_F8_E4M3: wr8(a, f2e4m3(V[0])); return;
    case T_F8_E5M2: wr8(a, f2e5m2(V[0])); return;
    case T_I8: wr8(a, uint(to_int_sat(V[0], 128.0))); return;
    case T_I16: wr16(a, uint(to_int_sat(V[0], 32768.0))); return;
    case T_I32: {
        // 2^31 is exact in float; values at or beyond it saturate.
        int v = nan_bits(V[0]) ? 0 : V[0] >= 2147483648.0 ? 2147483647 :
                V[0] < -2147483648.0 ? int(0x80000000u) : int(roundEven(V[0]));
        wr32(a, uint(v));
        return;
    }
#ifdef HAS_F64
    case T_F64: {
        uvec2 w = unpackDouble2x32(double(V[0]));
        wr32(a, w.x);
        wr32(a + 4u, w.y);
        return;
    }
#endif
    case T_Q4_0: quant_q4_0(); break;
    case T_Q4_1: quant_q4_1(); break;
    case T_Q5_0: quant_q5_0(); break;
    case T_Q5_1: quant_q5_1(); break;
    case T_Q8_0: quant_q8(false); break;
    case T_Q8_1: quant_q8(true); break;
    case T_IQ4_NL: quant_iq4_nl(); break;
    case T_MXFP4: quant_mxfp4(); break;
    case T_NVFP4: quant_nvfp4(); break;
    case T_MXFP8_E4M3: quant_mxfp8(true); break;
    case T_MXFP8_E5M2: quant_mxfp8(false); break;
#if V_SIZE >= 256
    case T_Q8_K: quant_q8_k(); break;
    case T_TQ1_0: quant_tq1_0(); break;
    case T_TQ2_0: quant_tq2_0(); break;
#endif
#if V_SIZE >= 256 && QB_SIZE >= 292 && defined(KQUANT)
    case T_Q2_K: quant_q2_k(); break;
    case T_Q3_K: quant_q3_k(); break;
    case T_Q4_K: quant_q45_k(false); break;
    case T_Q5_K: quant_q45_k(true); break;
    case T_Q6_K: quant_q6_k(); break;
    case T_IQ4_XS: quant_iq4_xs(); break;
#endif
    default: return;
    }
    flush_block(a, type_size(t));
}
