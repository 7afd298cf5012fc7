/* Which AVX-512 function serves a type (simd_avx512.h), given the optional features the
 * processor has (CPU_AVX512_VNNI, CPU_AVX512_BF16): the VNNI integer kernels of
 * simd_avx512_int.c first (with VNNI only), then the float, FP8 and quantizer kernels of
 * the other simd_avx512_*.c files, else NULL. simd_table.c builds the "avx512" tables on
 * these and falls back to the AVX2 functions where they give NULL; the emulator test
 * (tests/test_cpu_avx512.c, tests/avx512_guest.c) calls them directly. Plain C without
 * libc, built without any -m flag, so asking is safe on every x86-64 processor.
 */
#include "simd_avx512.h"

#include <stddef.h>

#include "simd_avx512_int.h"

qg_vec_dot_fn cpu_avx512_vec_dot(qg_type t, unsigned feats) {
    qg_vec_dot_fn f = (feats & CPU_AVX512_VNNI) ? cpu_avx512_int_vec_dot(t) : NULL;
    if (f) return f;
    switch (t) {
    case QG_TYPE_F32: return cpu_avx512_vec_dot_f32;
    case QG_TYPE_F16: return cpu_avx512_vec_dot_f16;
    case QG_TYPE_BF16: return (feats & CPU_AVX512_BF16) ? cpu_avx512bf16_vec_dot_bf16 : cpu_avx512_vec_dot_bf16;
    case QG_TYPE_F8_E4M3: return cpu_avx512_vec_dot_f8_e4m3;
    case QG_TYPE_F8_E5M2: return cpu_avx512_vec_dot_f8_e5m2;
    case QG_TYPE_MXFP8_E4M3: return cpu_avx512_vec_dot_mxfp8_e4m3;
    case QG_TYPE_MXFP8_E5M2: return cpu_avx512_vec_dot_mxfp8_e5m2;
    default: return NULL;
    }
}

cpu_dot4_fn cpu_avx512_vec_dot4(qg_type t, unsigned feats) {
    cpu_dot4_fn f = (feats & CPU_AVX512_VNNI) ? cpu_avx512_int_vec_dot4(t) : NULL;
    if (f) return f;
    return t == QG_TYPE_F16 ? cpu_avx512_vec_dot4_f16 : NULL;
}

cpu_dot_rows_fn cpu_avx512_vec_dot_rows(qg_type t, unsigned feats) {
    return (feats & CPU_AVX512_VNNI) ? cpu_avx512_int_vec_dot_rows(t) : NULL;
}

qg_from_float_fn cpu_avx512_from_float(qg_type t) {
    switch (t) {
    case QG_TYPE_Q8_0: return cpu_avx512_from_float_q8_0;
    case QG_TYPE_Q8_1: return cpu_avx512_from_float_q8_1;
    case QG_TYPE_Q8_K: return cpu_avx512_from_float_q8_K;
    case QG_TYPE_F16: return cpu_avx512_from_float_f16;
    case QG_TYPE_BF16: return cpu_avx512_from_float_bf16;
    default: return NULL;
    }
}

const cpu_gemm_fns *cpu_avx512_gemm(unsigned feats) { return (feats & CPU_AVX512_VNNI) ? cpu_avx512_int_gemm() : NULL; }
