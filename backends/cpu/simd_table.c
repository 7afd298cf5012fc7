/* Which SIMD functions the CPU backend may use: the AVX2 table (when the AVX2 files were
 * compiled in, QG_CPU_AVX2) maps weight types to their AVX2 dot products and partner
 * types to their AVX2 quantizers, and cpu_simd_best() hands it out only when CPUID says
 * the processor and its OS run AVX2, FMA and F16C. On aarch64 the NEON table
 * (QG_CPU_NEON: simd_neon_*.c, the dot products, quantizers and row functions of the
 * AVX2 table, without the tiled mat-mat) is handed out when AT_HWCAP has ASIMDDP. This
 * file is built without any -m flag, so it runs on every processor of its architecture.
 */
#include "simd.h"

#include <stdatomic.h>
#include <string.h>

#include "cpuinfo.h"

#ifdef QG_CPU_AVX2
#include "simd_avx2.h"
#include "gemm_layout.h"
#include "simd_avx2_rows.h"

static qg_vec_dot_fn avx2_vec_dot(qg_type t) {
    switch (t) {
#define CASE(name, T) case QG_TYPE_##T: return cpu_avx2_vec_dot_##name;
    CASE(q4_0, Q4_0) CASE(q4_1, Q4_1) CASE(q5_0, Q5_0) CASE(q5_1, Q5_1) CASE(q8_0, Q8_0)
    CASE(iq4_nl, IQ4_NL) CASE(mxfp4, MXFP4) CASE(q2_K, Q2_K) CASE(q3_K, Q3_K) CASE(q4_K, Q4_K)
    CASE(q5_K, Q5_K) CASE(q6_K, Q6_K) CASE(iq4_xs, IQ4_XS) CASE(f32, F32) CASE(f16, F16) CASE(bf16, BF16)
    CASE(f8_e4m3, F8_E4M3) CASE(f8_e5m2, F8_E5M2) CASE(mxfp8_e4m3, MXFP8_E4M3) CASE(mxfp8_e5m2, MXFP8_E5M2)
#undef CASE
    default: return NULL;
    }
}

static cpu_dot4_fn avx2_vec_dot4(qg_type t) {
    switch (t) {
#define CASE(name, T) case QG_TYPE_##T: return cpu_avx2_vec_dot4_##name;
    CASE(q4_0, Q4_0) CASE(q4_1, Q4_1) CASE(q5_0, Q5_0) CASE(q5_1, Q5_1) CASE(q8_0, Q8_0)
    CASE(iq4_nl, IQ4_NL) CASE(mxfp4, MXFP4) CASE(q2_K, Q2_K) CASE(q3_K, Q3_K) CASE(q4_K, Q4_K)
    CASE(q5_K, Q5_K) CASE(q6_K, Q6_K) CASE(iq4_xs, IQ4_XS) CASE(f16, F16)
#undef CASE
    default: return NULL;
    }
}

static qg_from_float_fn avx2_from_float(qg_type t) {
    switch (t) {
    case QG_TYPE_Q8_0: return cpu_avx2_from_float_q8_0;
    case QG_TYPE_Q8_1: return cpu_avx2_from_float_q8_1;
    case QG_TYPE_Q8_K: return cpu_avx2_from_float_q8_K;
    case QG_TYPE_F16: return cpu_avx2_from_float_f16;
    case QG_TYPE_BF16: return cpu_avx2_from_float_bf16;
    default: return NULL;
    }
}

static qg_to_float_fn avx2_to_float(qg_type t) {
    switch (t) {
    case QG_TYPE_F16: return cpu_avx2_to_float_f16;
    case QG_TYPE_BF16: return cpu_avx2_to_float_bf16;
    case QG_TYPE_Q4_0: return cpu_avx2_to_float_q4_0;
    case QG_TYPE_Q8_0: return cpu_avx2_to_float_q8_0;
    case QG_TYPE_Q4_K: return cpu_avx2_to_float_q4_K;
    case QG_TYPE_Q6_K: return cpu_avx2_to_float_q6_K;
    default: return NULL;
    }
}

static cpu_dot_rows_fn avx2_vec_dot_rows(qg_type t) {
    switch (t) {
#define CASE(name, T) case QG_TYPE_##T: return cpu_avx2_vec_dot_rows_##name;
    CASE(q4_0, Q4_0) CASE(q4_1, Q4_1) CASE(q5_0, Q5_0) CASE(q5_1, Q5_1) CASE(q8_0, Q8_0)
    CASE(iq4_nl, IQ4_NL) CASE(mxfp4, MXFP4)
#undef CASE
    default: return NULL;
    }
}

static const cpu_simd_fns avx2_fns = {
    .name = "avx2",
    .vec_dot = avx2_vec_dot,
    .vec_dot4 = avx2_vec_dot4,
    .from_float = avx2_from_float,
    .exp_row = cpu_avx2_exp_row,
    .silu_row = cpu_avx2_silu_row,
    .gelu_row = cpu_avx2_gelu_row,
    .soft_max_row = cpu_avx2_soft_max_row,
    .rms_norm_row = cpu_avx2_rms_norm_row,
    .gemm = &cpu_avx2_gemm_fns,
    .norm_row = cpu_avx2_norm_row,
    .add_row = cpu_avx2_add_row,
    .mul_row = cpu_avx2_mul_row,
    .scale_row = cpu_avx2_scale_row,
    .rope_row = cpu_avx2_rope_row,
    .to_float = avx2_to_float,
    .vec_dot_rows = avx2_vec_dot_rows,
};

const cpu_simd_fns *cpu_simd_avx2(void) { return &avx2_fns; }
#else
const cpu_simd_fns *cpu_simd_avx2(void) { return NULL; }
#endif

#ifdef QG_CPU_NEON
#include <sys/auxv.h>

#include "simd_neon.h"

#define NEON_HWCAP_ASIMDDP (1ul << 20) /* AT_HWCAP bit of the dot-product instructions */

static qg_vec_dot_fn neon_vec_dot(qg_type t) {
    switch (t) {
#define CASE(name, T) case QG_TYPE_##T: return cpu_neon_vec_dot_##name;
    CASE(q4_0, Q4_0) CASE(q4_1, Q4_1) CASE(q5_0, Q5_0) CASE(q5_1, Q5_1) CASE(q8_0, Q8_0)
    CASE(iq4_nl, IQ4_NL) CASE(mxfp4, MXFP4) CASE(q2_K, Q2_K) CASE(q3_K, Q3_K) CASE(q4_K, Q4_K)
    CASE(q5_K, Q5_K) CASE(q6_K, Q6_K) CASE(iq4_xs, IQ4_XS) CASE(f32, F32) CASE(f16, F16) CASE(bf16, BF16)
    CASE(f8_e4m3, F8_E4M3) CASE(f8_e5m2, F8_E5M2) CASE(mxfp8_e4m3, MXFP8_E4M3) CASE(mxfp8_e5m2, MXFP8_E5M2)
#undef CASE
    default: return NULL;
    }
}

static cpu_dot4_fn neon_vec_dot4(qg_type t) {
    switch (t) {
#define CASE(name, T) case QG_TYPE_##T: return cpu_neon_vec_dot4_##name;
    CASE(q4_0, Q4_0) CASE(q4_1, Q4_1) CASE(q5_0, Q5_0) CASE(q5_1, Q5_1) CASE(q8_0, Q8_0)
    CASE(iq4_nl, IQ4_NL) CASE(mxfp4, MXFP4) CASE(q2_K, Q2_K) CASE(q3_K, Q3_K) CASE(q4_K, Q4_K)
    CASE(q5_K, Q5_K) CASE(q6_K, Q6_K) CASE(iq4_xs, IQ4_XS) CASE(f16, F16)
#undef CASE
    default: return NULL;
    }
}

static qg_from_float_fn neon_from_float(qg_type t) {
    switch (t) {
    case QG_TYPE_Q8_0: return cpu_neon_from_float_q8_0;
    case QG_TYPE_Q8_1: return cpu_neon_from_float_q8_1;
    case QG_TYPE_Q8_K: return cpu_neon_from_float_q8_K;
    case QG_TYPE_F16: return cpu_neon_from_float_f16;
    case QG_TYPE_BF16: return cpu_neon_from_float_bf16;
    default: return NULL;
    }
}

static qg_to_float_fn neon_to_float(qg_type t) {
    switch (t) {
    case QG_TYPE_F16: return cpu_neon_to_float_f16;
    case QG_TYPE_BF16: return cpu_neon_to_float_bf16;
    case QG_TYPE_Q4_0: return cpu_neon_to_float_q4_0;
    case QG_TYPE_Q8_0: return cpu_neon_to_float_q8_0;
    case QG_TYPE_Q6_K: return cpu_neon_to_float_q6_K;
    default: return NULL;
    }
}

static cpu_dot_rows_fn neon_vec_dot_rows(qg_type t) {
    switch (t) {
#define CASE(name, T) case QG_TYPE_##T: return cpu_neon_vec_dot_rows_##name;
    CASE(q4_0, Q4_0) CASE(q4_1, Q4_1) CASE(q5_0, Q5_0) CASE(q5_1, Q5_1) CASE(q8_0, Q8_0)
    CASE(iq4_nl, IQ4_NL) CASE(mxfp4, MXFP4)
#undef CASE
    default: return NULL;
    }
}

static const cpu_simd_fns neon_fns = {
    .name = "neon",
    .vec_dot = neon_vec_dot,
    .vec_dot4 = neon_vec_dot4,
    .from_float = neon_from_float,
    .exp_row = cpu_neon_exp_row,
    .silu_row = cpu_neon_silu_row,
    .gelu_row = cpu_neon_gelu_row,
    .soft_max_row = cpu_neon_soft_max_row,
    .rms_norm_row = cpu_neon_rms_norm_row,
    .norm_row = cpu_neon_norm_row,
    .add_row = cpu_neon_add_row,
    .mul_row = cpu_neon_mul_row,
    .scale_row = cpu_neon_scale_row,
    .rope_row = cpu_neon_rope_row,
    .to_float = neon_to_float,
    .vec_dot_rows = neon_vec_dot_rows,
};

const cpu_simd_fns *cpu_simd_neon(void) { return &neon_fns; }
bool cpu_simd_neon_usable(void) { return (getauxval(AT_HWCAP) & NEON_HWCAP_ASIMDDP) != 0; }
#else
const cpu_simd_fns *cpu_simd_neon(void) { return NULL; }
bool cpu_simd_neon_usable(void) { return false; }
#endif

static bool has_word(const char *list, const char *word) {
    const size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return true;
    return false;
}

bool cpu_simd_avx2_usable(void) {
    char f[256];
    cpu_features(f, sizeof f);
    return has_word(f, "avx2") && has_word(f, "fma") && has_word(f, "f16c");
}

const cpu_simd_fns *cpu_simd_best(void) {
    static atomic_int state; /* 0: not asked yet, 1: avx2, 2: none, 3: neon (racing askers agree) */
    int s = atomic_load(&state);
    if (s == 0) {
        s = cpu_simd_avx2() && cpu_simd_avx2_usable() ? 1 : cpu_simd_neon() && cpu_simd_neon_usable() ? 3 : 2;
        atomic_store(&state, s);
    }
    return s == 1 ? cpu_simd_avx2() : s == 3 ? cpu_simd_neon() : NULL;
}
