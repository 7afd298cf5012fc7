/* Internal to the CPU backend: the ARM NEON (dot-product) functions of the simd_neon_*.c
 * files, for the table in simd_table.c, and small inline helpers those files share (only
 * visible to code built for aarch64). Only compiled and used on aarch64.
 */
#ifndef QG_CPU_SIMD_NEON_H
#define QG_CPU_SIMD_NEON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qg/core.h"

/* Dot products of one weight row against one activation row in the partner type. */
#define QG_NEON_DOTS(X)                                                              \
    X(q4_0) X(q4_1) X(q5_0) X(q5_1) X(q8_0) X(iq4_nl) X(mxfp4)                       \
    X(q2_K) X(q3_K) X(q4_K) X(q5_K) X(q6_K) X(iq4_xs)                                \
    X(f32) X(f16) X(bf16) X(f8_e4m3) X(f8_e5m2) X(mxfp8_e4m3) X(mxfp8_e5m2)
#define QG_NEON_DECLARE_DOT(t) float cpu_neon_vec_dot_##t(int64_t n, const void *x, const void *y);
QG_NEON_DOTS(QG_NEON_DECLARE_DOT)

/* One weight row against four activation rows y, y + ys, ... (same results as vec_dot). */
#define QG_NEON_DOTS4(X)                                                             \
    X(q4_0) X(q4_1) X(q5_0) X(q5_1) X(q8_0) X(iq4_nl) X(mxfp4) X(q2_K) X(q3_K) X(q4_K) X(q5_K) X(q6_K) \
    X(iq4_xs) X(f16)
#define QG_NEON_DECLARE_DOT4(t) \
    void cpu_neon_vec_dot4_##t(int64_t n, const void *x, const void *y, size_t ys, float *out);
QG_NEON_DOTS4(QG_NEON_DECLARE_DOT4)

/* Several weight rows x + r*xs against one activation row (cpu_dot_rows_fn, simd.h). */
#define QG_NEON_DOT_ROWS(X) X(q4_0) X(q4_1) X(q5_0) X(q5_1) X(q8_0) X(iq4_nl) X(mxfp4)
#define QG_NEON_DECLARE_DOT_ROWS(t) \
    void cpu_neon_vec_dot_rows_##t(int64_t n, const void *x, size_t xs, const void *y, float *out, int nrows);
QG_NEON_DOT_ROWS(QG_NEON_DECLARE_DOT_ROWS)

void cpu_neon_from_float_q8_0(const float *x, void *y, int64_t n);
void cpu_neon_from_float_q8_1(const float *x, void *y, int64_t n);
void cpu_neon_from_float_q8_K(const float *x, void *y, int64_t n);
void cpu_neon_from_float_f16(const float *x, void *y, int64_t n);
void cpu_neon_from_float_bf16(const float *x, void *y, int64_t n);

/* Row functions (simd_neon_rows.c), with the contracts of cpu_simd_fns in simd.h. */
void cpu_neon_exp_row(const float *x, float *y, int64_t n);
void cpu_neon_silu_row(const float *x, float *y, int64_t n);
void cpu_neon_gelu_row(const float *x, float *y, int64_t n);
void cpu_neon_soft_max_row(const float *x, const float *mask, float scale, float *y, int64_t n);
void cpu_neon_rms_norm_row(const float *x, float *y, int64_t n, float eps);
void cpu_neon_norm_row(const float *x, float *y, int64_t n, float eps);
void cpu_neon_add_row(const float *x, const float *y, float *o, int64_t n);
void cpu_neon_mul_row(const float *x, const float *y, float *o, int64_t n);
void cpu_neon_scale_row(const float *x, float s, float *o, int64_t n);
void cpu_neon_rope_row(const float *x, float *o, int64_t n, int n_dims, bool neox, const double *c,
                       const double *s);

/* Row dequantizers for GET_ROWS (simd_neon_dequant.c), bit-identical with to_float. */
void cpu_neon_to_float_f16(const void *src, float *dst, int64_t n);
void cpu_neon_to_float_bf16(const void *src, float *dst, int64_t n);
void cpu_neon_to_float_q4_0(const void *src, float *dst, int64_t n);
void cpu_neon_to_float_q8_0(const void *src, float *dst, int64_t n);
void cpu_neon_to_float_q6_K(const void *src, float *dst, int64_t n);

#ifdef __aarch64__
#include <arm_neon.h>
#include <string.h>

static inline float neon_fp16(uint16_t h) {
    __fp16 v;
    memcpy(&v, &h, sizeof v);
    return (float)v;
}

/* Pairwise totals of four int32x4: lane j holds the sum of the four lanes of the j-th. */
static inline int32x4_t neon_sum4(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    return vpaddq_s32(vpaddq_s32(a, b), vpaddq_s32(c, d));
}

#ifdef __ARM_FEATURE_DOTPROD
/* sum over 32 bytes of x*y (x at lo (elements 0-15) and hi (16-31), y at p), into acc. */
static inline int32x4_t neon_dot32(int32x4_t acc, int8x16_t lo, int8x16_t hi, const int8_t *p) {
    return vdotq_s32(vdotq_s32(acc, lo, vld1q_s8(p)), hi, vld1q_s8(p + 16));
}
#endif
#endif

#endif
