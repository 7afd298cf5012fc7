/* The AVX-512 functions of the CPU backend (issue #5) that are not integer VNNI dot
 * products (those are in simd_avx512_int.h): float and FP8 dot products and the
 * activation quantizers, in the simd_avx512_*.c files, which are compiled with
 * -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16 (plus AVX2, FMA,
 * F16C). simd_table_avx512.c (plain C) maps types to them.
 *
 * The functions need AVX-512 F, BW, VL and DQ; cpu_avx512bf16_vec_dot_bf16 also needs
 * AVX512_BF16 (the integer kernels of simd_avx512_int.h need VNNI). The results follow the rules of simd.h (dots within float rounding of the
 * scalar references, quantizers bit-exact), with one documented exception: VDPBF16PS
 * treats subnormal inputs and results as zero, so cpu_avx512bf16_vec_dot_bf16 agrees
 * with the reference only where the products and partial sums stay at or above 2^-126.
 */
#ifndef QG_CPU_SIMD_AVX512_H
#define QG_CPU_SIMD_AVX512_H

#include <stddef.h>
#include <stdint.h>

#include "simd.h"

float cpu_avx512_vec_dot_f32(int64_t n, const void *x, const void *y);
float cpu_avx512_vec_dot_f16(int64_t n, const void *x, const void *y);
void cpu_avx512_vec_dot4_f16(int64_t n, const void *x, const void *y, size_t ys, float *out);
float cpu_avx512_vec_dot_bf16(int64_t n, const void *x, const void *y);
float cpu_avx512bf16_vec_dot_bf16(int64_t n, const void *x, const void *y);

float cpu_avx512_vec_dot_f8_e4m3(int64_t n, const void *x, const void *y);
float cpu_avx512_vec_dot_f8_e5m2(int64_t n, const void *x, const void *y);
float cpu_avx512_vec_dot_mxfp8_e4m3(int64_t n, const void *x, const void *y);
float cpu_avx512_vec_dot_mxfp8_e5m2(int64_t n, const void *x, const void *y);

void cpu_avx512_from_float_q8_0(const float *x, void *y, int64_t n);
void cpu_avx512_from_float_q8_1(const float *x, void *y, int64_t n);
void cpu_avx512_from_float_q8_K(const float *x, void *y, int64_t n);
void cpu_avx512_from_float_f16(const float *x, void *y, int64_t n);
void cpu_avx512_from_float_bf16(const float *x, void *y, int64_t n);

/* The AVX-512 function for a type on a processor with feats (CPU_AVX512_*, simd.h), or NULL where there is none
 * (the table then uses the AVX2 one). VNNI integer kernels come first
 * (simd_avx512_int.h), then the ones declared above. Plain C: safe to ask anywhere. */
qg_vec_dot_fn cpu_avx512_vec_dot(qg_type weight, unsigned feats);
cpu_dot4_fn cpu_avx512_vec_dot4(qg_type weight, unsigned feats);
cpu_dot_rows_fn cpu_avx512_vec_dot_rows(qg_type weight, unsigned feats);
qg_from_float_fn cpu_avx512_from_float(qg_type partner);
const cpu_gemm_fns *cpu_avx512_gemm(unsigned feats);

#endif
