/* Lookup tables of the AVX-512 VNNI integer dot products (simd_avx512_int.h): map a
 * weight type to its kernel in simd_avx512_legacy.c / simd_avx512_kquants.c, or NULL.
 * Only switch statements here, and (GCC) the AVX flags this file gets as a simd_avx512*.c
 * are switched off, so asking is safe on any x86-64 processor.
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#pragma GCC target("no-avx512f,no-avx2,no-avx,no-fma,no-f16c")
#endif
#include "simd_avx512_int.h"

#include <stddef.h>

qg_vec_dot_fn cpu_avx512_int_vec_dot(qg_type weight) {
    switch ((int)weight) {
    case QG_TYPE_Q4_0: return cpu_avx512_vec_dot_q4_0;
    case QG_TYPE_Q4_1: return cpu_avx512_vec_dot_q4_1;
    case QG_TYPE_Q5_0: return cpu_avx512_vec_dot_q5_0;
    case QG_TYPE_Q5_1: return cpu_avx512_vec_dot_q5_1;
    case QG_TYPE_Q8_0: return cpu_avx512_vec_dot_q8_0;
    case QG_TYPE_IQ4_NL: return cpu_avx512_vec_dot_iq4_nl;
    case QG_TYPE_MXFP4: return cpu_avx512_vec_dot_mxfp4;
    case QG_TYPE_Q2_K: return cpu_avx512_vec_dot_q2_K;
    case QG_TYPE_Q3_K: return cpu_avx512_vec_dot_q3_K;
    case QG_TYPE_Q4_K: return cpu_avx512_vec_dot_q4_K;
    case QG_TYPE_Q5_K: return cpu_avx512_vec_dot_q5_K;
    case QG_TYPE_Q6_K: return cpu_avx512_vec_dot_q6_K;
    case QG_TYPE_IQ4_XS: return cpu_avx512_vec_dot_iq4_xs;
    default: return NULL;
    }
}

cpu_dot4_fn cpu_avx512_int_vec_dot4(qg_type weight) {
    switch ((int)weight) {
    case QG_TYPE_Q4_0: return cpu_avx512_vec_dot4_q4_0;
    case QG_TYPE_Q4_1: return cpu_avx512_vec_dot4_q4_1;
    case QG_TYPE_Q5_0: return cpu_avx512_vec_dot4_q5_0;
    case QG_TYPE_Q5_1: return cpu_avx512_vec_dot4_q5_1;
    case QG_TYPE_Q8_0: return cpu_avx512_vec_dot4_q8_0;
    case QG_TYPE_IQ4_NL: return cpu_avx512_vec_dot4_iq4_nl;
    case QG_TYPE_MXFP4: return cpu_avx512_vec_dot4_mxfp4;
    case QG_TYPE_Q2_K: return cpu_avx512_vec_dot4_q2_K;
    case QG_TYPE_Q3_K: return cpu_avx512_vec_dot4_q3_K;
    case QG_TYPE_Q4_K: return cpu_avx512_vec_dot4_q4_K;
    case QG_TYPE_Q5_K: return cpu_avx512_vec_dot4_q5_K;
    case QG_TYPE_Q6_K: return cpu_avx512_vec_dot4_q6_K;
    case QG_TYPE_IQ4_XS: return cpu_avx512_vec_dot4_iq4_xs;
    default: return NULL;
    }
}

cpu_dot_rows_fn cpu_avx512_int_vec_dot_rows(qg_type weight) {
    switch ((int)weight) {
    case QG_TYPE_Q4_0: return cpu_avx512_vec_dot_rows_q4_0;
    case QG_TYPE_Q4_1: return cpu_avx512_vec_dot_rows_q4_1;
    case QG_TYPE_Q5_0: return cpu_avx512_vec_dot_rows_q5_0;
    case QG_TYPE_Q5_1: return cpu_avx512_vec_dot_rows_q5_1;
    case QG_TYPE_Q8_0: return cpu_avx512_vec_dot_rows_q8_0;
    case QG_TYPE_IQ4_NL: return cpu_avx512_vec_dot_rows_iq4_nl;
    case QG_TYPE_MXFP4: return cpu_avx512_vec_dot_rows_mxfp4;
    case QG_TYPE_Q2_K: return cpu_avx512_vec_dot_rows_q2_K;
    case QG_TYPE_Q3_K: return cpu_avx512_vec_dot_rows_q3_K;
    case QG_TYPE_Q4_K: return cpu_avx512_vec_dot_rows_q4_K;
    case QG_TYPE_Q5_K: return cpu_avx512_vec_dot_rows_q5_K;
    case QG_TYPE_Q6_K: return cpu_avx512_vec_dot_rows_q6_K;
    case QG_TYPE_IQ4_XS: return cpu_avx512_vec_dot_rows_iq4_xs;
    default: return NULL;
    }
}

const cpu_gemm_fns *cpu_avx512_int_gemm(void) { return NULL; }
