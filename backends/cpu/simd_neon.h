/* Internal to the CPU backend: the ARM NEON (dot-product) functions of simd_neon.c, for
 * the table in simd_table.c. Only compiled and used on aarch64. */
#ifndef QG_CPU_SIMD_NEON_H
#define QG_CPU_SIMD_NEON_H

#include <stdint.h>

#include "qg/core.h"

float cpu_neon_vec_dot_q4_0(int64_t n, const void *x, const void *y);
float cpu_neon_vec_dot_q8_0(int64_t n, const void *x, const void *y);
float cpu_neon_vec_dot_q4_K(int64_t n, const void *x, const void *y);
void cpu_neon_from_float_q8_0(const float *x, void *y, int64_t n);
void cpu_neon_from_float_q8_K(const float *x, void *y, int64_t n);

#endif
