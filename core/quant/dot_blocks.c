/* Scalar reference dot products of the block types against their partner (activation)
 * types: Q4_0, Q5_0, Q8_0, MXFP4, NVFP4 x Q8_0; Q4_1, Q5_1 x Q8_1; TQ1_0, TQ2_0 x Q8_K.
 * Within a block the integer products are summed exactly in an int; the block's scales
 * are applied once per block in float (d_x * d_y * sumi) and the block results summed
 * in float, in block order. Type-1 weights (w = d*q + m) add m * s, where the Q8_1 field
 * s = d_y * sum(q_y) carries sum(y). The 32-element types share the row loop and block
 * decoders of block32.h. */
#include "core/quant/block32.h"

#include <stddef.h>
#include <string.h>

#define B32_DOT(t, type1)                                                             \
    float qg_vec_dot_##t(int64_t n, const void *vx, const void *vy) {                 \
        return qg_b32_vec_dot(n, vx, sizeof(qg_block_##t), qg_b32_decode_##t, type1, vy); \
    }

B32_DOT(q4_0, false)
B32_DOT(q4_1, true)
B32_DOT(q5_0, false)
B32_DOT(q5_1, true)
B32_DOT(q8_0, false)
B32_DOT(mxfp4, false) /* doubled E2M1 values: the decoder's scale is half the block's */

/* E2M1 codes of qs[j] (low nibble: element j, high: element j + half) as doubled ints. */
static void unpack_e2m1(const uint8_t *qs, int half, int q[]) {
    for (int j = 0; j < half; j++) {
        q[j] = qg_e2m1_x2[qs[j] & 15];
        q[j + half] = qg_e2m1_x2[qs[j] >> 4];
    }
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
static float ternary_dot(int64_t n, const uint8_t *x, size_t size, size_t d_off,
                         void (*trits)(const void *, uint8_t *), const void *vy) {
    const qg_block_q8_K *y = vy;
    uint8_t t[QG_QK_K];
    float sum = 0;
    for (int64_t i = 0; i < n / QG_QK_K; i++, x += size) {
        uint16_t d16;
        memcpy(&d16, x + d_off, sizeof d16);
        trits(x, t);
        int sumi = 0;
        for (int j = 0; j < QG_QK_K; j++) sumi += ((int)t[j] - 1) * y[i].qs[j];
        sum += qg_fp16_to_fp32(d16) * y[i].d * (float)sumi;
    }
    return sum;
}

float qg_vec_dot_tq1_0(int64_t n, const void *x, const void *y) {
    return ternary_dot(n, x, sizeof(qg_block_tq1_0), offsetof(qg_block_tq1_0, d), qg_tq1_0_trits,
                       y);
}

float qg_vec_dot_tq2_0(int64_t n, const void *x, const void *y) {
    return ternary_dot(n, x, sizeof(qg_block_tq2_0), offsetof(qg_block_tq2_0, d), qg_tq2_0_trits,
                       y);
}
