/* AVX-512 VNNI integer dot products of the CPU backend (issue #5): lookups by weight type
 * for the block-32 types against Q8_0 / Q8_1 and the K-quants against Q8_K, each NULL
 * where this file set has no kernel (the AVX-512 table then falls back to the AVX2 one).
 * The lookups are plain C and safe to call on any processor; the functions they return
 * need AVX-512 F, BW, VL and VNNI (the caller checks CPUID before using them).
 */
#ifndef QG_CPU_SIMD_AVX512_INT_H
#define QG_CPU_SIMD_AVX512_INT_H

#include <stdint.h>
#include <string.h>

#include "qg/core.h"
#include "simd.h"

/* Unaligned 16/32-bit loads of block fields, shared by the two kernel files. */
static inline uint16_t ld16(const void *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint32_t ld32(const void *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

qg_vec_dot_fn cpu_avx512_int_vec_dot(qg_type weight);
cpu_dot4_fn cpu_avx512_int_vec_dot4(qg_type weight);
cpu_dot_rows_fn cpu_avx512_int_vec_dot_rows(qg_type weight);
/* The VNNI tiled mat-mat functions, or NULL when there are none. */
const cpu_gemm_fns *cpu_avx512_int_gemm(void);

/* The kernels behind the lookups (simd_avx512_legacy.c, simd_avx512_kquants.c), named
 * cpu_avx512_vec_dot_<type>, cpu_avx512_vec_dot4_<type>, cpu_avx512_vec_dot_rows_<type>. */
#define QG_AVX512_INT_B32(X) X(q4_0) X(q4_1) X(q5_0) X(q5_1) X(q8_0) X(iq4_nl) X(mxfp4)
#define QG_AVX512_INT_KQ(X) X(q2_K) X(q3_K) X(q4_K) X(q5_K) X(q6_K) X(iq4_xs)
#define QG_AVX512_DECLARE_DOT(t) float cpu_avx512_vec_dot_##t(int64_t n, const void *x, const void *y);
#define QG_AVX512_DECLARE_DOT4(t) \
    void cpu_avx512_vec_dot4_##t(int64_t n, const void *x, const void *y, size_t ys, float *out);
#define QG_AVX512_DECLARE_ROWS(t) \
    void cpu_avx512_vec_dot_rows_##t(int64_t n, const void *x, size_t xs, const void *y, float *out, int nrows);
QG_AVX512_INT_B32(QG_AVX512_DECLARE_DOT)
QG_AVX512_INT_B32(QG_AVX512_DECLARE_DOT4)
QG_AVX512_INT_B32(QG_AVX512_DECLARE_ROWS)
QG_AVX512_INT_KQ(QG_AVX512_DECLARE_DOT)
QG_AVX512_INT_KQ(QG_AVX512_DECLARE_DOT4)
QG_AVX512_INT_KQ(QG_AVX512_DECLARE_ROWS)

#endif
