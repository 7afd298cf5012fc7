/* Internal to core/quant: the 32-element weight blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
 * Q8_1, MXFP4) decoded to plain integers in element order with a float scale d (and, for
 * type-1 blocks, an offset m): w = (float)q * d [+ m]. One decoder per type serves both
 * the dequantizer (legacy.c, fp4.c) and the dot product (dot_blocks.c), through the two
 * row loops below. Everything here is static inline (the row loops always inlined) so
 * each row function gets its own copy with the decoder folded in. */
#ifndef QG_QUANT_BLOCK32_H
#define QG_QUANT_BLOCK32_H

#include "core/quant/quant.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#define QG_B32 32

/* Decode one block: q[32], scale *d, offset *m (type-1 only). */
typedef void (*qg_b32_decode_fn)(const void *block, int q[QG_B32], float *d, float *m);

/* Element j < 16 in the low nibble of qs[j], element j + 16 in the high one; minus off. */
static inline void qg_b32_nibbles(const uint8_t *qs, int off, int q[QG_B32]) {
    for (int j = 0; j < 16; j++) {
        q[j] = (qs[j] & 15) - off;
        q[j + 16] = (qs[j] >> 4) - off;
    }
}

/* The 5-bit types: nibbles as above plus bit j of the little-endian u32 qh as bit 4. */
static inline void qg_b32_q5(const uint8_t qh[4], const uint8_t *qs, int off, int q[QG_B32]) {
    uint32_t h = (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 |
                 (uint32_t)qh[3] << 24;
    for (int j = 0; j < 16; j++) {
        q[j] = ((qs[j] & 15) | (int)(((h >> j) & 1) << 4)) - off;
        q[j + 16] = ((qs[j] >> 4) | (int)(((h >> (j + 16)) & 1) << 4)) - off;
    }
}

static inline void qg_b32_decode_q4_0(const void *block, int q[QG_B32], float *d, float *m) {
    const qg_block_q4_0 *b = block;
    qg_b32_nibbles(b->qs, 8, q);
    *d = qg_fp16_to_fp32(b->d);
    *m = 0;
}

static inline void qg_b32_decode_q4_1(const void *block, int q[QG_B32], float *d, float *m) {
    const qg_block_q4_1 *b = block;
    qg_b32_nibbles(b->qs, 0, q);
    *d = qg_fp16_to_fp32(b->d);
    *m = qg_fp16_to_fp32(b->m);
}

static inline void qg_b32_decode_q5_0(const void *block, int q[QG_B32], float *d, float *m) {
    const qg_block_q5_0 *b = block;
    qg_b32_q5(b->qh, b->qs, 16, q);
    *d = qg_fp16_to_fp32(b->d);
    *m = 0;
}

static inline void qg_b32_decode_q5_1(const void *block, int q[QG_B32], float *d, float *m) {
    const qg_block_q5_1 *b = block;
    qg_b32_q5(b->qh, b->qs, 0, q);
    *d = qg_fp16_to_fp32(b->d);
    *m = qg_fp16_to_fp32(b->m);
}

/* Q8_0 and Q8_1 start alike (d, then Q8_1's s, then qs): the caller passes the qs. */
static inline void qg_b32_int8(const int8_t *qs, uint16_t d16, int q[QG_B32], float *d) {
    for (int j = 0; j < QG_B32; j++) q[j] = qs[j];
    *d = qg_fp16_to_fp32(d16);
}

static inline void qg_b32_decode_q8_0(const void *block, int q[QG_B32], float *d, float *m) {
    const qg_block_q8_0 *b = block;
    qg_b32_int8(b->qs, b->d, q, d);
    *m = 0;
}

static inline void qg_b32_decode_q8_1(const void *block, int q[QG_B32], float *d, float *m) {
    const qg_block_q8_1 *b = block;
    qg_b32_int8(b->qs, b->d, q, d);
    *m = 0;
}

/* MXFP4: doubled E2M1 values, so the scale is half the E8M0 block scale. */
static inline void qg_b32_decode_mxfp4(const void *block, int q[QG_B32], float *d, float *m) {
    const qg_block_mxfp4 *b = block;
    for (int j = 0; j < 16; j++) {
        q[j] = qg_e2m1_x2[b->qs[j] & 15];
        q[j + 16] = qg_e2m1_x2[b->qs[j] >> 4];
    }
    *d = b->e == 0xff ? NAN : ldexpf(1.0f, (int)b->e - 128);
    *m = 0;
}

#define QG_B32_INLINE static inline __attribute__((always_inline))

/* Row dequantizer: w = (float)q * d, plus m for type-1 blocks. */
QG_B32_INLINE void qg_b32_to_float(const void *src, size_t size, qg_b32_decode_fn decode,
                                   bool type1, float *dst, int64_t n) {
    const uint8_t *x = src;
    int q[QG_B32];
    for (int64_t i = 0; i < n / QG_B32; i++, dst += QG_B32) {
        float d, m;
        decode(x + (size_t)i * size, q, &d, &m);
        if (type1)
            for (int j = 0; j < QG_B32; j++) dst[j] = (float)q[j] * d + m;
        else
            for (int j = 0; j < QG_B32; j++) dst[j] = (float)q[j] * d;
    }
}

/* Row dot product against Q8_0 (type 0) or Q8_1 (type 1): the integer products of a block
 * are summed exactly, the scales applied once per block in float (d_x * d_y * sumi, plus
 * m * s for type 1, where Q8_1's s = d_y * sum(q_y)) and the blocks summed in float. */
QG_B32_INLINE float qg_b32_vec_dot(int64_t n, const void *vx, size_t size,
                                   qg_b32_decode_fn decode, bool type1, const void *vy) {
    const uint8_t *x = vx;
    const qg_block_q8_0 *y0 = vy;
    const qg_block_q8_1 *y1 = vy;
    int q[QG_B32];
    float sum = 0;
    for (int64_t i = 0; i < n / QG_B32; i++) {
        float d, m;
        decode(x + (size_t)i * size, q, &d, &m);
        const int8_t *qy = type1 ? y1[i].qs : y0[i].qs;
        int sumi = 0;
        for (int j = 0; j < QG_B32; j++) sumi += q[j] * qy[j];
        if (type1)
            sum += d * qg_fp16_to_fp32(y1[i].d) * (float)sumi + m * qg_fp16_to_fp32(y1[i].s);
        else
            sum += d * qg_fp16_to_fp32(y0[i].d) * (float)sumi;
    }
    return sum;
}

#endif
