/* Internal: the per-type scalar reference functions behind the type table (core/types.c)
 * for the plain types, FP8, the 32-element block types and the ternary types, plus the
 * block layouts and small helpers they share. The K-quants and IQ4 types are declared in
 * core/quant/kquants.h. Naming: qg_to_float_<t>, qg_from_float_<t>, qg_vec_dot_<t>, with
 * <t> the type's lower-case name. Every vec_dot takes y in the row's partner type. */
#ifndef QG_QUANT_QUANT_H
#define QG_QUANT_QUANT_H

#include "qg/core.h"

#include <math.h>
#include <stdint.h>

#define QG_QK4_0 32
#define QG_QK8_0 32
#define QG_QK_MXFP4 32
#define QG_QK_NVFP4 64
#define QG_NVFP4_SUB 16
#define QG_QK_MXFP8 32
#define QG_QK_K 256

/* Block layouts (packed little-endian, no padding; the struct sizes are checked by a
 * static assert in types.c). fp16 fields are stored as raw uint16_t bits. */
typedef struct { uint16_t d; uint8_t qs[16]; } qg_block_q4_0;
typedef struct { uint16_t d; uint16_t m; uint8_t qs[16]; } qg_block_q4_1;
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } qg_block_q5_0;
typedef struct { uint16_t d; uint16_t m; uint8_t qh[4]; uint8_t qs[16]; } qg_block_q5_1;
typedef struct { uint16_t d; int8_t qs[32]; } qg_block_q8_0;
typedef struct { uint16_t d; uint16_t s; int8_t qs[32]; } qg_block_q8_1;
typedef struct { uint8_t e; uint8_t qs[16]; } qg_block_mxfp4;
typedef struct { uint8_t d[4]; uint8_t qs[32]; } qg_block_nvfp4;
typedef struct { uint8_t e; uint8_t q[32]; } qg_block_mxfp8;
typedef struct { uint8_t qs[48]; uint8_t qh[4]; uint16_t d; } qg_block_tq1_0;
typedef struct { uint8_t qs[64]; uint16_t d; } qg_block_tq2_0;
typedef struct { float d; int8_t qs[256]; int16_t bsums[16]; } qg_block_q8_K;

/* Round a positive finite float (given by its bits ax, sign cleared) to the nearest
 * magnitude code of a small binary float format with `mbits` mantissa bits and exponent
 * bias `bias`, ties to even. Subnormals of the target are handled; overflow is not: the
 * code can land on or beyond the format's infinity/NaN codes and the caller saturates. */
static inline uint32_t qg_round_minifloat(uint32_t ax, int mbits, int bias) {
    int e = (int)(ax >> 23);
    if (e >= 128 - bias) { /* result is a normal number of the target */
        uint32_t x = ax - ((uint32_t)(127 - bias) << 23);
        int sh = 23 - mbits;
        x += ((1u << (sh - 1)) - 1) + ((x >> sh) & 1);
        return x >> sh;
    }
    /* subnormal target: count units of 2^(1 - bias - mbits) */
    int shift = 151 - bias - mbits - e;
    if (e == 0 || shift > 24) return 0; /* below half a unit */
    uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    uint32_t q = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    return q;
}

/* Largest |x[j]| of n values (0 for none; NaN is skipped). */
static inline float qg_absmax(const float *x, int n) {
    float amax = 0;
    for (int j = 0; j < n; j++)
        if (fabsf(x[j]) > amax) amax = fabsf(x[j]);
    return amax;
}

/* The value of largest magnitude, with its sign (the first one on ties; 0 for none). */
static inline float qg_signed_absmax(const float *x, int n) {
    float amax = 0, max = 0;
    for (int j = 0; j < n; j++) {
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    return max;
}

/* 2-bit fields of 256 elements in 64 bytes (Q2_K, Q3_K's low bits, TQ2_0): element
 * 128*h + 32*s + l sits in bits 2s..2s+1 of byte 32*h + l. Packing keeps the low 2 bits. */
static inline void qg_unpack_2bit(const uint8_t *qs, uint8_t *q) {
    for (int h = 0; h < 2; h++)
        for (int s = 0; s < 4; s++)
            for (int l = 0; l < 32; l++)
                q[128 * h + 32 * s + l] = (uint8_t)((qs[32 * h + l] >> (2 * s)) & 3);
}

static inline void qg_pack_2bit(const uint8_t *q, uint8_t *qs) {
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++) {
            int v = 0;
            for (int s = 0; s < 4; s++) v |= (q[128 * h + 32 * s + l] & 3) << (2 * s);
            qs[32 * h + l] = (uint8_t)v;
        }
}

/* 2^(e-127) for an E8M0 scale byte (0xFF is NaN). */
float qg_e8m0_to_fp32(uint8_t e);

/* OCP MX shared scale of n values: e = floor(log2(amax)) - emax_elem + 127 (emax_elem:
 * exponent of the element format's largest value), clamped to 0..254; an all-zero block
 * gets 0. NaN is ignored for amax; an infinite amax takes 254. (fp8.c) */
uint8_t qg_mx_scale(const float *x, int n, int emax_elem);

/* E2M1 (FP4) values times two, indexed by the 4-bit code (bit 3 is the sign). */
extern const int8_t qg_e2m1_x2[16];

/* NVFP4 sub-block scale: unsigned E4M3 (bias 7); codes 0 and 0x7F mean zero. */
float qg_ue4m3_to_fp32(uint8_t v);

/* The 256 codes t+1 (0..2) of a TQ1_0 / TQ2_0 block, in element order (ternary.c). */
void qg_tq1_0_trits(const void *block, uint8_t t[QG_QK_K]);
void qg_tq2_0_trits(const void *block, uint8_t t[QG_QK_K]);

#define QG_DECLARE_ROW(t)                                                             \
    void qg_to_float_##t(const void *src, float *dst, int64_t n);                     \
    void qg_from_float_##t(const float *src, void *dst, int64_t n);
/* Element-wise row conversions of a one-element type stored as ctype. */
#define QG_ELEM_ROWS(t, ctype, dec, enc)                                              \
    void qg_to_float_##t(const void *src, float *dst, int64_t n) {                    \
        const ctype *s = src;                                                         \
        for (int64_t i = 0; i < n; i++) dst[i] = dec(s[i]);                           \
    }                                                                                 \
    void qg_from_float_##t(const float *src, void *dst, int64_t n) {                  \
        ctype *d = dst;                                                               \
        for (int64_t i = 0; i < n; i++) d[i] = enc(src[i]);                           \
    }
#define QG_DECLARE_DOT(t) float qg_vec_dot_##t(int64_t n, const void *x, const void *y);

/* float.c: plain types */
QG_DECLARE_ROW(f32)
QG_DECLARE_ROW(f16)
QG_DECLARE_ROW(bf16)
QG_DECLARE_ROW(f64)
QG_DECLARE_ROW(i8)
QG_DECLARE_ROW(i16)
QG_DECLARE_ROW(i32)
QG_DECLARE_ROW(i64)

/* fp8.c */
QG_DECLARE_ROW(f8_e4m3)
QG_DECLARE_ROW(f8_e5m2)
QG_DECLARE_ROW(mxfp8_e4m3)
QG_DECLARE_ROW(mxfp8_e5m2)

/* legacy.c */
QG_DECLARE_ROW(q4_0)
QG_DECLARE_ROW(q4_1)
QG_DECLARE_ROW(q5_0)
QG_DECLARE_ROW(q5_1)
QG_DECLARE_ROW(q8_0)
QG_DECLARE_ROW(q8_1)

/* fp4.c */
QG_DECLARE_ROW(mxfp4)
QG_DECLARE_ROW(nvfp4)

/* ternary.c */
QG_DECLARE_ROW(tq1_0)
QG_DECLARE_ROW(tq2_0)

/* dot.c (plain and FP8 types) and dot_blocks.c (block types) */
QG_DECLARE_DOT(f32)
QG_DECLARE_DOT(f16)
QG_DECLARE_DOT(bf16)
QG_DECLARE_DOT(f8_e4m3)
QG_DECLARE_DOT(f8_e5m2)
QG_DECLARE_DOT(mxfp8_e4m3)
QG_DECLARE_DOT(mxfp8_e5m2)
QG_DECLARE_DOT(q4_0)
QG_DECLARE_DOT(q4_1)
QG_DECLARE_DOT(q5_0)
QG_DECLARE_DOT(q5_1)
QG_DECLARE_DOT(q8_0)
QG_DECLARE_DOT(mxfp4)
QG_DECLARE_DOT(nvfp4)
QG_DECLARE_DOT(tq1_0)
QG_DECLARE_DOT(tq2_0)

#endif
