/* Scalar reference dot products of the plain and FP8 types: F32, F16 and BF16 against
 * their own type, FP8 and MXFP8 against F32. Each element is converted exactly to float
 * and the products are accumulated in double, so the only rounding is the final one. */
#include "core/quant/quant.h"

#define SAME(v) (v)

/* One element at a time: x decoded by decx, y by decy, products summed in double. */
#define ELEM_DOT(t, xtype, ytype, decx, decy)                                         \
    float qg_vec_dot_##t(int64_t n, const void *x, const void *y) {                   \
        const xtype *a = x;                                                           \
        const ytype *b = y;                                                           \
        double sum = 0;                                                               \
        for (int64_t i = 0; i < n; i++) sum += (double)decx(a[i]) * (double)decy(b[i]); \
        return (float)sum;                                                            \
    }

ELEM_DOT(f32, float, float, SAME, SAME)
ELEM_DOT(f16, uint16_t, uint16_t, qg_fp16_to_fp32, qg_fp16_to_fp32)
ELEM_DOT(bf16, uint16_t, uint16_t, qg_bf16_to_fp32, qg_bf16_to_fp32)
ELEM_DOT(f8_e4m3, uint8_t, float, qg_e4m3_to_fp32, SAME)
ELEM_DOT(f8_e5m2, uint8_t, float, qg_e5m2_to_fp32, SAME)

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
