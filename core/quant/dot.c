/* Scalar reference dot products of the plain and FP8 types: F32, F16 and BF16 against
 * their own type, FP8 and MXFP8 against F32. Each element is converted exactly to float
 * and the products are accumulated in double, so the only rounding is the final one. */
#include "core/quant/quant.h"

float qg_vec_dot_f32(int64_t n, const void *x, const void *y) {
    const float *a = x, *b = y;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += (double)a[i] * (double)b[i];
    return (float)sum;
}

float qg_vec_dot_f16(int64_t n, const void *x, const void *y) {
    const uint16_t *a = x, *b = y;
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)qg_fp16_to_fp32(a[i]) * (double)qg_fp16_to_fp32(b[i]);
    return (float)sum;
}

float qg_vec_dot_bf16(int64_t n, const void *x, const void *y) {
    const uint16_t *a = x, *b = y;
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)qg_bf16_to_fp32(a[i]) * (double)qg_bf16_to_fp32(b[i]);
    return (float)sum;
}

float qg_vec_dot_f8_e4m3(int64_t n, const void *x, const void *y) {
    const uint8_t *a = x;
    const float *b = y;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += (double)qg_e4m3_to_fp32(a[i]) * (double)b[i];
    return (float)sum;
}

float qg_vec_dot_f8_e5m2(int64_t n, const void *x, const void *y) {
    const uint8_t *a = x;
    const float *b = y;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += (double)qg_e5m2_to_fp32(a[i]) * (double)b[i];
    return (float)sum;
}

/* MXFP8: the block's power-of-two scale multiplies the block's partial sum (exact). */
static float mxfp8_dot(int64_t n, const void *x, const float *y, float (*dec)(uint8_t)) {
    const qg_block_mxfp8 *b = x;
    double sum = 0;
    for (int64_t i = 0; i < n / QG_QK_MXFP8; i++, y += QG_QK_MXFP8) {
        double part = 0;
        for (int j = 0; j < QG_QK_MXFP8; j++) part += (double)dec(b[i].q[j]) * (double)y[j];
        sum += part * (double)qg_e8m0_to_fp32(b[i].e);
    }
    return (float)sum;
}

float qg_vec_dot_mxfp8_e4m3(int64_t n, const void *x, const void *y) {
    return mxfp8_dot(n, x, y, qg_e4m3_to_fp32);
}

float qg_vec_dot_mxfp8_e5m2(int64_t n, const void *x, const void *y) {
    return mxfp8_dot(n, x, y, qg_e5m2_to_fp32);
}
