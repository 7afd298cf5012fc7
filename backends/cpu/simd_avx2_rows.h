/* The AVX2 row functions added for NORM, ADD, MUL, SCALE, ROPE (simd_avx2_rows.c) and the
 * row dequantizers for GET_ROWS (simd_avx2_dequant.c), as simd_table.c hands them out
 * through cpu_simd_fns. Only the definitions need the AVX2 flags; declaring is safe
 * anywhere.
 */
#ifndef QG_CPU_SIMD_AVX2_ROWS_H
#define QG_CPU_SIMD_AVX2_ROWS_H

#include <stdbool.h>
#include <stdint.h>

void cpu_avx2_norm_row(const float *x, float *y, int64_t n, float eps);
void cpu_avx2_add_row(const float *x, const float *y, float *o, int64_t n);
void cpu_avx2_mul_row(const float *x, const float *y, float *o, int64_t n);
void cpu_avx2_scale_row(const float *x, float s, float *o, int64_t n);
void cpu_avx2_rope_row(const float *x, float *o, int64_t n, int n_dims, bool neox, const double *c,
                       const double *s);

void cpu_avx2_to_float_f16(const void *src, float *dst, int64_t n);
void cpu_avx2_to_float_bf16(const void *src, float *dst, int64_t n);
void cpu_avx2_to_float_q4_0(const void *src, float *dst, int64_t n);
void cpu_avx2_to_float_q8_0(const void *src, float *dst, int64_t n);
void cpu_avx2_to_float_q4_K(const void *src, float *dst, int64_t n);
void cpu_avx2_to_float_q6_K(const void *src, float *dst, int64_t n);

#endif
