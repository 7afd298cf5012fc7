/* Scalar reference dot products of the block types against their partner (activation)
 * types: Q4_0, Q5_0, Q8_0, MXFP4, NVFP4 x Q8_0; Q4_1, Q5_1 x Q8_1; TQ1_0, TQ2_0 x Q8_K.
 * Within a block the integer products are summed exactly in an int; the block's scales
 * are applied once per block in float (d_x * d_y * sumi) and the block results summed
 * in float, in block order. Type-1 weights (w = d*q + m) add m * s, where the Q8_1 field
 * s = d_y * sum(q_y) carries sum(y). */
#include "core/quant/quant.h"

#include <math.h>
#include <string.h>

#define QK 32

/* Unpack the 32 quant values of a weight block as plain ints, in element order. */
static void unpack_q4(const uint8_t qs[16], int off, int q[QK]) {
    for (int j = 0; j < 16; j++) {
        q[j] = (qs[j] & 15) - off;
        q[j + 16] = (qs[j] >> 4) - off;
    }
}

static void unpack_q5(const uint8_t qh[4], const uint8_t qs[16], int off, int q[QK]) {
    uint32_t h = (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
    for (int j = 0; j < 16; j++) {
        q[j] = ((qs[j] & 15) | (int)(((h >> j) & 1) << 4)) - off;
        q[j + 16] = ((qs[j] >> 4) | (int)(((h >> (j + 16)) & 1) << 4)) - off;
    }
}

static int dot32(const int q[QK], const int8_t y[QK]) {
    int sum = 0;
    for (int j = 0; j < QK; j++) sum += q[j] * y[j];
    return sum;
}

float qg_vec_dot_q4_0(int64_t n, const void *vx, const void *vy) {
    const qg_block_q4_0 *x = vx;
    const qg_block_q8_0 *y = vy;
    int q[QK];
    float sum = 0;
    for (int64_t i = 0; i < n / QK; i++) {
        unpack_q4(x[i].qs, 8, q);
        sum += qg_fp16_to_fp32(x[i].d) * qg_fp16_to_fp32(y[i].d) * (float)dot32(q, y[i].qs);
    }
    return sum;
}

float qg_vec_dot_q4_1(int64_t n, const void *vx, const void *vy) {
    const qg_block_q4_1 *x = vx;
    const qg_block_q8_1 *y = vy;
    int q[QK];
    float sum = 0;
    for (int64_t i = 0; i < n / QK; i++) {
        unpack_q4(x[i].qs, 0, q);
        sum += qg_fp16_to_fp32(x[i].d) * qg_fp16_to_fp32(y[i].d) * (float)dot32(q, y[i].qs) +
               qg_fp16_to_fp32(x[i].m) * qg_fp16_to_fp32(y[i].s);
    }
    return sum;
}

float qg_vec_dot_q5_0(int64_t n, const void *vx, const void *vy) {
    const qg_block_q5_0 *x = vx;
    const qg_block_q8_0 *y = vy;
    int q[QK];
    float sum = 0;
    for (int64_t i = 0; i < n / QK; i++) {
        unpack_q5(x[i].qh, x[i].qs, 16, q);
        sum += qg_fp16_to_fp32(x[i].d) * qg_fp16_to_fp32(y[i].d) * (float)dot32(q, y[i].qs);
    }
    return sum;
}

float qg_vec_dot_q5_1(int64_t n, const void *vx, const void *vy) {
    const qg_block_q5_1 *x = vx;
    const qg_block_q8_1 *y = vy;
    int q[QK];
    float sum = 0;
    for (int64_t i = 0; i < n / QK; i++) {
        unpack_q5(x[i].qh, x[i].qs, 0, q);
        sum += qg_fp16_to_fp32(x[i].d) * qg_fp16_to_fp32(y[i].d) * (float)dot32(q, y[i].qs) +
               qg_fp16_to_fp32(x[i].m) * qg_fp16_to_fp32(y[i].s);
    }
    return sum;
}

float qg_vec_dot_q8_0(int64_t n, const void *vx, const void *vy) {
    const qg_block_q8_0 *x = vx;
    const qg_block_q8_0 *y = vy;
    int q[QK];
    float sum = 0;
    for (int64_t i = 0; i < n / QK; i++) {
        for (int j = 0; j < QK; j++) q[j] = x[i].qs[j];
        sum += qg_fp16_to_fp32(x[i].d) * qg_fp16_to_fp32(y[i].d) * (float)dot32(q, y[i].qs);
    }
    return sum;
}

/* FP4 codes as doubled E2M1 integers, so the scale applied is half the block scale. */
static void unpack_e2m1(const uint8_t *qs, int half, int q[]) {
    for (int j = 0; j < half; j++) {
        q[j] = qg_e2m1_x2[qs[j] & 15];
        q[j + half] = qg_e2m1_x2[qs[j] >> 4];
    }
}

float qg_vec_dot_mxfp4(int64_t n, const void *vx, const void *vy) {
    const qg_block_mxfp4 *x = vx;
    const qg_block_q8_0 *y = vy;
    int q[QK];
    float sum = 0;
    for (int64_t i = 0; i < n / QK; i++) {
        unpack_e2m1(x[i].qs, 16, q);
        float h = x[i].e == 0xff ? NAN : ldexpf(1.0f, (int)x[i].e - 128);
        sum += h * qg_fp16_to_fp32(y[i].d) * (float)dot32(q, y[i].qs);
    }
    return sum;
}

/* One NVFP4 block (64 elements) spans two Q8_0 blocks; each 16-element sub-block has its
 * own scale, so the scales are applied per sub-block before the activation scale. */
float qg_vec_dot_nvfp4(int64_t n, const void *vx, const void *vy) {
    const qg_block_nvfp4 *x = vx;
    const qg_block_q8_0 *y = vy;
    int q[QG_NVFP4_SUB];
    float sum = 0;
    for (int64_t i = 0; i < n / QG_QK_NVFP4; i++) {
        for (int half = 0; half < 2; half++) {
            const qg_block_q8_0 *yb = &y[2 * i + half];
            float part = 0;
            for (int s = 0; s < 2; s++) {
                int sub = 2 * half + s, sumi = 0;
                unpack_e2m1(x[i].qs + 8 * sub, 8, q);
                for (int j = 0; j < QG_NVFP4_SUB; j++) sumi += q[j] * yb->qs[16 * s + j];
                part += qg_ue4m3_to_fp32(x[i].d[sub]) * 0.5f * (float)sumi;
            }
            sum += part * qg_fp16_to_fp32(yb->d);
        }
    }
    return sum;
}

/* Ternary weights against Q8_K: sum over the super-block of (t - 1) * q_y, in an int. */
static float ternary_dot(int64_t n, const void *vx, size_t stride, const void *vy,
                         void (*codes)(const void *block, uint8_t t[QG_QK_K], float *d)) {
    const uint8_t *x = vx;
    const qg_block_q8_K *y = vy;
    uint8_t t[QG_QK_K];
    float sum = 0;
    for (int64_t i = 0; i < n / QG_QK_K; i++) {
        float d;
        codes(x + (size_t)i * stride, t, &d);
        int sumi = 0;
        for (int j = 0; j < QG_QK_K; j++) sumi += ((int)t[j] - 1) * y[i].qs[j];
        sum += d * y[i].d * (float)sumi;
    }
    return sum;
}

/* Trits t+1 (0..2) of a ternary block, recovered through the dequantizer: with d
 * replaced by 1 the dequantized values are exactly t. */
static void tq1_codes(const void *block, uint8_t t[QG_QK_K], float *d) {
    qg_block_tq1_0 b;
    float w[QG_QK_K];
    memcpy(&b, block, sizeof b);
    *d = qg_fp16_to_fp32(b.d);
    b.d = 0x3c00; /* 1.0 */
    qg_to_float_tq1_0(&b, w, QG_QK_K);
    for (int j = 0; j < QG_QK_K; j++) t[j] = (uint8_t)((int)w[j] + 1);
}

static void tq2_codes(const void *block, uint8_t t[QG_QK_K], float *d) {
    qg_block_tq2_0 b;
    float w[QG_QK_K];
    memcpy(&b, block, sizeof b);
    *d = qg_fp16_to_fp32(b.d);
    b.d = 0x3c00;
    qg_to_float_tq2_0(&b, w, QG_QK_K);
    for (int j = 0; j < QG_QK_K; j++) t[j] = (uint8_t)((int)w[j] + 1);
}

float qg_vec_dot_tq1_0(int64_t n, const void *x, const void *y) {
    return ternary_dot(n, x, sizeof(qg_block_tq1_0), y, tq1_codes);
}

float qg_vec_dot_tq2_0(int64_t n, const void *x, const void *y) {
    return ternary_dot(n, x, sizeof(qg_block_tq2_0), y, tq2_codes);
}
