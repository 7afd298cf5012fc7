/* Element decoders of every weight type the CUDA plugin reads, bit-exact with the scalar
 * references in the core/quant sources (same float operations in the same order, no FMA
 * contraction: products and sums go through qgcu_mul/qgcu_add, which are __fmul_rn and
 * __fadd_rn on the device). The file is plain C as well as CUDA, so a host test
 * (tests/test_cuda_mm_host.c) checks every decoder against the type table's to_float.
 * Lookup tables are packed into 64-bit constants, so no device or constant memory is
 * needed and the same code runs on host and device.
 *
 * API (all `static inline __host__ __device__`):
 *   qgcu_type_ok(t)            1 if the type has a decoder here (every to_float type
 *                              except the integer and F64 types), else 0
 *   qgcu_type_block(t)         elements per block (1 for plain types), 0 if unknown
 *   qgcu_type_bytes(t)         bytes per block, 0 if unknown
 *   qgcu_dq_<t>(blk, j)        element j (0 <= j < block size) of the block at blk
 *   qgcu_dequant_elem(t, row, i)  element i of a row of type t starting at row (blocks
 *                              contiguous from row); runtime dispatch for generic kernels
 *   qgcu_half_to_float(h), qgcu_bf16_to_float(h), qgcu_e4m3_to_float(v),
 *   qgcu_e5m2_to_float(v), qgcu_e8m0_to_float(e): scalar conversions
 *   qgcu_iq4_value(i), qgcu_e2m1_x2(i): the IQ4 and doubled-E2M1 tables (i in 0..15)
 * Type ids are the qg_type values (QG_TYPE_*), passed as int.
 */
#ifndef QG_CUDA_DEQUANT_CUH
#define QG_CUDA_DEQUANT_CUH

#include <stdint.h>
#include <string.h>

#include "qg/core.h"

#ifdef __CUDACC__
#include <cuda_fp16.h>
#define QGCU_HD static inline __host__ __device__
#else
#define QGCU_HD static inline
#endif

QGCU_HD float qgcu_bits_f32(uint32_t u) {
#ifdef __CUDA_ARCH__
    return __uint_as_float(u);
#else
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
#endif
}

/* Unfused float multiply and add: the CPU references are compiled without contraction. */
QGCU_HD float qgcu_mul(float a, float b) {
#ifdef __CUDA_ARCH__
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}

QGCU_HD float qgcu_add(float a, float b) {
#ifdef __CUDA_ARCH__
    return __fadd_rn(a, b);
#else
    return a + b;
#endif
}

QGCU_HD float qgcu_sub(float a, float b) {
#ifdef __CUDA_ARCH__
    return __fsub_rn(a, b);
#else
    return a - b;
#endif
}

QGCU_HD uint16_t qgcu_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

QGCU_HD uint32_t qgcu_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* IEEE half to float, exact (subnormals, inf and NaN included). */
QGCU_HD float qgcu_half_to_float(uint16_t h) {
#ifdef __CUDA_ARCH__
    return __half2float(__ushort_as_half(h));
#else
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0x1f) return qgcu_bits_f32(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
        float v = (float)man * 5.9604644775390625e-8f; /* man * 2^-24, exact */
        return sign ? -v : v;
    }
    return qgcu_bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
#endif
}

QGCU_HD float qgcu_bf16_to_float(uint16_t h) { return qgcu_bits_f32((uint32_t)h << 16); }

/* 2^k for -149 <= k <= 127, exact (subnormal results built from their bit pattern). */
QGCU_HD float qgcu_pow2(int k) {
    if (k >= -126) return qgcu_bits_f32((uint32_t)(k + 127) << 23);
    return qgcu_bits_f32(1u << (k + 149));
}

QGCU_HD float qgcu_e4m3_to_float(uint8_t v) {
    int exp = (v >> 3) & 15, man = v & 7;
    float mag;
    if (exp == 15 && man == 7) mag = qgcu_bits_f32(0x7fc00000u);
    else if (exp == 0) mag = (float)man * 0.001953125f; /* 2^-9 */
    else mag = (float)(8 + man) * qgcu_pow2(exp - 10);
    return (v & 0x80) ? -mag : mag;
}

QGCU_HD float qgcu_e5m2_to_float(uint8_t v) { return qgcu_half_to_float((uint16_t)(v << 8)); }

QGCU_HD float qgcu_e8m0_to_float(uint8_t e) {
    return e == 0xff ? qgcu_bits_f32(0x7fc00000u) : qgcu_pow2((int)e - 127);
}

/* NVFP4 sub-block scale: unsigned E4M3, codes 0 and 0x7F mean zero. */
QGCU_HD float qgcu_ue4m3_to_float(uint8_t v) {
    v &= 0x7f;
    return v == 0x7f ? 0.0f : qgcu_e4m3_to_float(v);
}

/* The 16 IQ4 levels and the doubled E2M1 values, one int8 per byte of two u64s. */
#define QGCU_IQ4_LO 0xF6EADDCFBFAD9881ull
#define QGCU_IQ4_HI 0x7159453526190D01ull
#define QGCU_E2M1_LO 0x0C08060403020100ull
#define QGCU_E2M1_HI 0xF4F8FAFCFDFEFF00ull

QGCU_HD int qgcu_iq4_value(int i) {
    uint64_t k = i < 8 ? QGCU_IQ4_LO : QGCU_IQ4_HI;
    return (int8_t)(uint8_t)(k >> (8 * (i & 7)));
}

QGCU_HD int qgcu_e2m1_x2(int i) {
    uint64_t k = i < 8 ? QGCU_E2M1_LO : QGCU_E2M1_HI;
    return (int8_t)(uint8_t)(k >> (8 * (i & 7)));
}

/* Nibble j of a 16-byte block of 32 4-bit codes: elements j < 16 are low nibbles. */
QGCU_HD int qgcu_nib32(const uint8_t *qs, int j) {
    return j < 16 ? (qs[j] & 15) : (qs[j - 16] >> 4);
}

QGCU_HD float qgcu_dq_f32(const uint8_t *b, int j) {
    (void)j;
    return qgcu_bits_f32(qgcu_u32(b));
}
QGCU_HD float qgcu_dq_f16(const uint8_t *b, int j) { (void)j; return qgcu_half_to_float(qgcu_u16(b)); }
QGCU_HD float qgcu_dq_bf16(const uint8_t *b, int j) { (void)j; return qgcu_bf16_to_float(qgcu_u16(b)); }
QGCU_HD float qgcu_dq_f8_e4m3(const uint8_t *b, int j) { (void)j; return qgcu_e4m3_to_float(b[0]); }
QGCU_HD float qgcu_dq_f8_e5m2(const uint8_t *b, int j) { (void)j; return qgcu_e5m2_to_float(b[0]); }

QGCU_HD float qgcu_dq_q4_0(const uint8_t *b, int j) {
    return qgcu_mul((float)(qgcu_nib32(b + 2, j) - 8), qgcu_half_to_float(qgcu_u16(b)));
}

QGCU_HD float qgcu_dq_q4_1(const uint8_t *b, int j) {
    float d = qgcu_half_to_float(qgcu_u16(b)), m = qgcu_half_to_float(qgcu_u16(b + 2));
    return qgcu_add(qgcu_mul((float)qgcu_nib32(b + 4, j), d), m);
}

/* 5-bit level of element j: qh is a little-endian u32 with bit j = bit 4 of element j. */
QGCU_HD int qgcu_q5_level(const uint8_t *qh, const uint8_t *qs, int j) {
    return qgcu_nib32(qs, j) | (int)(((qgcu_u32(qh) >> j) & 1u) << 4);
}

QGCU_HD float qgcu_dq_q5_0(const uint8_t *b, int j) {
    return qgcu_mul((float)(qgcu_q5_level(b + 2, b + 6, j) - 16), qgcu_half_to_float(qgcu_u16(b)));
}

QGCU_HD float qgcu_dq_q5_1(const uint8_t *b, int j) {
    float d = qgcu_half_to_float(qgcu_u16(b)), m = qgcu_half_to_float(qgcu_u16(b + 2));
    return qgcu_add(qgcu_mul((float)qgcu_q5_level(b + 4, b + 8, j), d), m);
}

QGCU_HD float qgcu_dq_q8_0(const uint8_t *b, int j) {
    return qgcu_mul((float)(int8_t)b[2 + j], qgcu_half_to_float(qgcu_u16(b)));
}

QGCU_HD float qgcu_dq_q8_1(const uint8_t *b, int j) {
    return qgcu_mul((float)(int8_t)b[4 + j], qgcu_half_to_float(qgcu_u16(b)));
}

/* Q2_K {scales[16], qs[64], d, dmin}: w = (d*sc)*q - dmin*mn per 16-element sub-block. */
QGCU_HD float qgcu_dq_q2_K(const uint8_t *b, int e) {
    int h = e >> 7, s = (e >> 5) & 3, l = e & 31;
    int q = (b[16 + 32 * h + l] >> (2 * s)) & 3;
    uint8_t sc = b[e >> 4];
    float dl = qgcu_mul(qgcu_half_to_float(qgcu_u16(b + 80)), (float)(sc & 15));
    float ml = qgcu_mul(qgcu_half_to_float(qgcu_u16(b + 82)), (float)(sc >> 4));
    return qgcu_sub(qgcu_mul(dl, (float)q), ml);
}

/* Q3_K sub-block scale i (0..15) with the +32 offset removed. */
QGCU_HD int qgcu_q3_K_scale(const uint8_t *s, int i) {
    int lo = i < 8 ? (s[i] & 15) : (s[i - 8] >> 4);
    int hi = (s[8 + (i & 3)] >> (2 * (i >> 2))) & 3;
    return (lo | (hi << 4)) - 32;
}

/* Q3_K {hmask[32], qs[64], scales[12], d}: signed level -4..3, w = (d*sc)*q. */
QGCU_HD int qgcu_q3_K_level(const uint8_t *b, int e) {
    int h = e >> 7, s = (e >> 5) & 3, l = e & 31;
    int low = (b[32 + 32 * h + l] >> (2 * s)) & 3;
    return low - (((b[l] >> (4 * h + s)) & 1) ? 0 : 4);
}

QGCU_HD float qgcu_dq_q3_K(const uint8_t *b, int e) {
    float dl = qgcu_mul(qgcu_half_to_float(qgcu_u16(b + 108)), (float)qgcu_q3_K_scale(b + 96, e >> 4));
    return qgcu_mul(dl, (float)qgcu_q3_K_level(b, e));
}

/* 6-bit scale and min j (0..7) of the 12-byte Q4_K/Q5_K scales field. */
QGCU_HD void qgcu_kq_scale_min(const uint8_t *s, int j, int *sc, int *mn) {
    if (j < 4) {
        *sc = s[j] & 63;
        *mn = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
        *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* Q4_K/Q5_K low 4 bits of element e: chunk c = e/64 holds two sub-blocks in qs[32c..]. */
QGCU_HD int qgcu_k4_nib(const uint8_t *qs, int e) {
    uint8_t v = qs[32 * (e >> 6) + (e & 31)];
    return (e & 32) ? (v >> 4) : (v & 15);
}

QGCU_HD float qgcu_k_type1(const uint8_t *b, int e, int q) {
    int sc, mn;
    qgcu_kq_scale_min(b + 4, e >> 5, &sc, &mn);
    float d1 = qgcu_mul(qgcu_half_to_float(qgcu_u16(b)), (float)sc);
    float m1 = qgcu_mul(qgcu_half_to_float(qgcu_u16(b + 2)), (float)mn);
    return qgcu_sub(qgcu_mul(d1, (float)q), m1);
}

/* Q4_K {d, dmin, scales[12], qs[128]}. */
QGCU_HD float qgcu_dq_q4_K(const uint8_t *b, int e) { return qgcu_k_type1(b, e, qgcu_k4_nib(b + 16, e)); }

/* Q5_K {d, dmin, scales[12], qh[32], qs[128]}: bit (2c + high-half) of qh[l] is bit 4. */
QGCU_HD int qgcu_q5_K_level(const uint8_t *b, int e) {
    int hb = (b[16 + (e & 31)] >> (2 * (e >> 6) + ((e >> 5) & 1))) & 1;
    return qgcu_k4_nib(b + 48, e) | (hb << 4);
}

QGCU_HD float qgcu_dq_q5_K(const uint8_t *b, int e) { return qgcu_k_type1(b, e, qgcu_q5_K_level(b, e)); }

/* Q6_K {ql[128], qh[64], scales[16] (int8), d}: signed level q-32. */
QGCU_HD int qgcu_q6_K_level(const uint8_t *b, int e) {
    int h = e >> 7, quarter = (e >> 5) & 3, l = e & 31;
    uint8_t ql = b[64 * h + l + 32 * (quarter & 1)];
    int lo = (quarter & 2) ? (ql >> 4) : (ql & 15);
    int hi = (b[128 + 32 * h + l] >> (2 * quarter)) & 3;
    return (lo | (hi << 4)) - 32;
}

QGCU_HD float qgcu_dq_q6_K(const uint8_t *b, int e) {
    float ds = qgcu_mul(qgcu_half_to_float(qgcu_u16(b + 208)), (float)(int8_t)b[192 + (e >> 4)]);
    return qgcu_mul(ds, (float)qgcu_q6_K_level(b, e));
}

/* Q8_K {float d, qs[256], bsums[16]}. */
QGCU_HD float qgcu_dq_q8_K(const uint8_t *b, int e) {
    return qgcu_mul(qgcu_bits_f32(qgcu_u32(b)), (float)(int8_t)b[4 + e]);
}

QGCU_HD float qgcu_dq_iq4_nl(const uint8_t *b, int j) {
    return qgcu_mul(qgcu_half_to_float(qgcu_u16(b)), (float)qgcu_iq4_value(qgcu_nib32(b + 2, j)));
}

/* IQ4_XS {d, scales_h (u16), scales_l[4], qs[128]}: scale of 32-element sub-block ib. */
QGCU_HD int qgcu_iq4_xs_scale(const uint8_t *b, int ib) {
    int lo = (b[4 + (ib >> 1)] >> (4 * (ib & 1))) & 15;
    int hi = (qgcu_u16(b + 2) >> (2 * ib)) & 3;
    return (lo | (hi << 4)) - 32;
}

QGCU_HD float qgcu_dq_iq4_xs(const uint8_t *b, int e) {
    int ib = e >> 5;
    float dl = qgcu_mul(qgcu_half_to_float(qgcu_u16(b)), (float)qgcu_iq4_xs_scale(b, ib));
    return qgcu_mul(dl, (float)qgcu_iq4_value(qgcu_nib32(b + 8 + 16 * ib, e & 31)));
}

/* TQ1_0 {qs[48], qh[4], d}: trit k of a byte is ((u8)(byte * 3^k) * 3) >> 8. Elements
 * 0..159 use bytes 0..31 (5 trits), 160..239 bytes 32..47, 240..255 bytes 48..51. */
QGCU_HD int qgcu_tq1_trit(const uint8_t *b, int e) {
    int byte, k;
    if (e < 160) { byte = e & 31; k = e >> 5; }
    else if (e < 240) { byte = 32 + ((e - 160) & 15); k = (e - 160) >> 4; }
    else { byte = 48 + ((e - 240) & 3); k = (e - 240) >> 2; }
    int p = k == 0 ? 1 : k == 1 ? 3 : k == 2 ? 9 : k == 3 ? 27 : 81;
    uint8_t shifted = (uint8_t)(b[byte] * p);
    return ((int)shifted * 3) >> 8;
}

QGCU_HD float qgcu_dq_tq1_0(const uint8_t *b, int e) {
    return qgcu_mul((float)(qgcu_tq1_trit(b, e) - 1), qgcu_half_to_float(qgcu_u16(b + 52)));
}

/* TQ2_0 {qs[64], d}: element e = 128g + 32l + m sits in bits 2l of qs[32g + m]. */
QGCU_HD int qgcu_tq2_level(const uint8_t *b, int e) {
    return ((b[32 * (e >> 7) + (e & 31)] >> (2 * ((e >> 5) & 3))) & 3) - 1;
}

QGCU_HD float qgcu_dq_tq2_0(const uint8_t *b, int e) {
    return qgcu_mul((float)qgcu_tq2_level(b, e), qgcu_half_to_float(qgcu_u16(b + 64)));
}

/* MXFP4 {e, qs[16]}: w = E2M1x2[code] * 2^(e-128); e = 0xFF is NaN. */
QGCU_HD float qgcu_mxfp4_half_scale(uint8_t e) {
    return e == 0xff ? qgcu_bits_f32(0x7fc00000u) : qgcu_pow2((int)e - 128);
}

QGCU_HD float qgcu_dq_mxfp4(const uint8_t *b, int j) {
    return qgcu_mul((float)qgcu_e2m1_x2(qgcu_nib32(b + 1, j)), qgcu_mxfp4_half_scale(b[0]));
}

/* NVFP4 {d[4], qs[32]}: sub-block s of 16 uses qs[8s..8s+7] (low nibbles first). */
QGCU_HD float qgcu_dq_nvfp4(const uint8_t *b, int e) {
    int s = e >> 4, r = e & 15;
    uint8_t v = b[4 + 8 * s + (r & 7)];
    int code = r < 8 ? (v & 15) : (v >> 4);
    float h = qgcu_mul(qgcu_ue4m3_to_float(b[s]), 0.5f);
    return qgcu_mul((float)qgcu_e2m1_x2(code), h);
}

QGCU_HD float qgcu_dq_mxfp8_e4m3(const uint8_t *b, int j) {
    return qgcu_mul(qgcu_e4m3_to_float(b[1 + j]), qgcu_e8m0_to_float(b[0]));
}

QGCU_HD float qgcu_dq_mxfp8_e5m2(const uint8_t *b, int j) {
    return qgcu_mul(qgcu_e5m2_to_float(b[1 + j]), qgcu_e8m0_to_float(b[0]));
}

/* The X-macro list of decodable types: X(TYPE suffix, function suffix, block, bytes). */
#define QGCU_DQ_TYPES(X)                \
    X(F32, f32, 1, 4)                   \
    X(F16, f16, 1, 2)                   \
    X(BF16, bf16, 1, 2)                 \
    X(Q4_0, q4_0, 32, 18)               \
    X(Q4_1, q4_1, 32, 20)               \
    X(Q5_0, q5_0, 32, 22)               \
    X(Q5_1, q5_1, 32, 24)               \
    X(Q8_0, q8_0, 32, 34)               \
    X(Q8_1, q8_1, 32, 36)               \
    X(Q2_K, q2_K, 256, 84)              \
    X(Q3_K, q3_K, 256, 110)             \
    X(Q4_K, q4_K, 256, 144)             \
    X(Q5_K, q5_K, 256, 176)             \
    X(Q6_K, q6_K, 256, 210)             \
    X(Q8_K, q8_K, 256, 292)             \
    X(IQ4_NL, iq4_nl, 32, 18)           \
    X(IQ4_XS, iq4_xs, 256, 136)         \
    X(TQ1_0, tq1_0, 256, 54)            \
    X(TQ2_0, tq2_0, 256, 66)            \
    X(MXFP4, mxfp4, 32, 17)             \
    X(NVFP4, nvfp4, 64, 36)             \
    X(F8_E4M3, f8_e4m3, 1, 1)           \
    X(F8_E5M2, f8_e5m2, 1, 1)           \
    X(MXFP8_E4M3, mxfp8_e4m3, 32, 33)   \
    X(MXFP8_E5M2, mxfp8_e5m2, 32, 33)

QGCU_HD int qgcu_type_block(int t) {
    switch (t) {
#define QGCU_X(T, f, bs, bytes) case QG_TYPE_##T: return bs;
        QGCU_DQ_TYPES(QGCU_X)
#undef QGCU_X
    default: return 0;
    }
}

QGCU_HD int qgcu_type_bytes(int t) {
    switch (t) {
#define QGCU_X(T, f, bs, bytes) case QG_TYPE_##T: return bytes;
        QGCU_DQ_TYPES(QGCU_X)
#undef QGCU_X
    default: return 0;
    }
}

QGCU_HD int qgcu_type_ok(int t) { return qgcu_type_block(t) != 0; }

/* Element i of a row of type t (runtime dispatch; 0 for an unknown type). */
QGCU_HD float qgcu_dequant_elem(int t, const uint8_t *row, int64_t i) {
    switch (t) {
#define QGCU_X(T, f, bs, bytes) \
    case QG_TYPE_##T: return qgcu_dq_##f(row + (i / bs) * bytes, (int)(i % bs));
        QGCU_DQ_TYPES(QGCU_X)
#undef QGCU_X
    default: return 0.0f;
    }
}

#endif
