/* Which SIMD functions the CPU backend may use: the AVX2 table (when the AVX2 files were
 * compiled in, QG_CPU_AVX2) maps weight types to their AVX2 dot products and partner
 * types to their AVX2 quantizers, and cpu_simd_best() hands it out only when CPUID says
 * the processor and its OS run AVX2, FMA and F16C. On aarch64 the NEON table
 * (QG_CPU_NEON: simd_neon_*.c, the dot products, quantizers and row functions of the
 * AVX2 table, and a tiled mat-mat of its own, simd_neon_gemm*.c) is handed out when
 * AT_HWCAP has ASIMDDP. Where the AVX-512 files were compiled in (QG_CPU_AVX512), the
 * "avx512" tables (the AVX-512 functions of simd_table_avx512.c over the AVX2 table) win
 * when CPUID says AVX-512 F, BW, VL and DQ are usable: "avx512" with VNNI (the integer
 * dots), "avx512-bf16" with VNNI and AVX512_BF16, "avx512-novnni" without VNNI. QG_CPU_SIMD=scalar|avx2 lowers the choice. This file is built
 * without any -m flag, so it runs on every processor of its architecture.
 */
#include "simd.h"

#include <stdatomic.h>
#include <stdlib.h>
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
    CASE(f8_e4m3, F8_E4M3) CASE(f8_e5m2, F8_E5M2) CASE(mxfp8_e4m3, MXFP8_E4M3) CASE(mxfp8_e5m2, MXFP8_E5M2)
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
    CASE(q2_K, Q2_K) CASE(q3_K, Q3_K) CASE(q4_K, Q4_K) CASE(q5_K, Q5_K) CASE(q6_K, Q6_K) CASE(iq4_xs, IQ4_XS)
    CASE(f8_e4m3, F8_E4M3) CASE(f8_e5m2, F8_E5M2) CASE(mxfp8_e4m3, MXFP8_E4M3) CASE(mxfp8_e5m2, MXFP8_E5M2)
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
#include "gemm_neon_layout.h"

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
    .gemm = &cpu_neon_gemm_fns,
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

#ifdef QG_CPU_AVX512
#include <pthread.h>

#include "simd_avx512.h"

/* The AVX-512 tables, one per set of optional features (F: none, V: VNNI, B: VNNI and
 * BF16): the AVX-512 function where simd_table_avx512.c has one, else the AVX2 table's
 * (an AVX-512 processor runs AVX2 code). vec_dot4 and vec_dot_rows must repeat vec_dot
 * bit for bit, so they fall back to AVX2 only for types whose vec_dot does too. */
#define AVX512_LOOKUPS(S, FEATS)                                                              \
    static qg_vec_dot_fn avx512##S##_vec_dot(qg_type t) {                                     \
        qg_vec_dot_fn f = cpu_avx512_vec_dot(t, FEATS);                                        \
        return f ? f : avx2_vec_dot(t);                                                        \
    }                                                                                          \
    static cpu_dot4_fn avx512##S##_vec_dot4(qg_type t) {                                      \
        cpu_dot4_fn f = cpu_avx512_vec_dot4(t, FEATS);                                         \
        return f ? f : cpu_avx512_vec_dot(t, FEATS) ? NULL : avx2_vec_dot4(t);                 \
    }                                                                                          \
    static cpu_dot_rows_fn avx512##S##_vec_dot_rows(qg_type t) {                              \
        cpu_dot_rows_fn f = cpu_avx512_vec_dot_rows(t, FEATS);                                 \
        return f ? f : cpu_avx512_vec_dot(t, FEATS) ? NULL : avx2_vec_dot_rows(t);             \
    }
AVX512_LOOKUPS(F, 0u)
AVX512_LOOKUPS(V, CPU_AVX512_VNNI)
AVX512_LOOKUPS(B, CPU_AVX512_VNNI | CPU_AVX512_BF16)
#undef AVX512_LOOKUPS

static qg_from_float_fn avx512_from_float(qg_type t) {
    qg_from_float_fn f = cpu_avx512_from_float(t);
    return f ? f : avx2_from_float(t);
}

#define AVX512_TABLE(NAME, S)                                                                   \
    {                                                                                           \
        .name = NAME, .vec_dot = avx512##S##_vec_dot, .vec_dot4 = avx512##S##_vec_dot4,         \
        .from_float = avx512_from_float, .exp_row = cpu_avx2_exp_row, .silu_row = cpu_avx2_silu_row, \
        .gelu_row = cpu_avx2_gelu_row, .soft_max_row = cpu_avx2_soft_max_row,                   \
        .rms_norm_row = cpu_avx2_rms_norm_row, .gemm = NULL, .norm_row = cpu_avx2_norm_row,     \
        .add_row = cpu_avx2_add_row, .mul_row = cpu_avx2_mul_row, .scale_row = cpu_avx2_scale_row, \
        .rope_row = cpu_avx2_rope_row, .to_float = avx2_to_float,                               \
        .vec_dot_rows = avx512##S##_vec_dot_rows,                                               \
    }
/* indexed by the feats bits (0, VNNI, -, VNNI|BF16; BF16 without VNNI counts as neither) */
static cpu_simd_fns avx512_fns[4] = {AVX512_TABLE("avx512-novnni", F), AVX512_TABLE("avx512", V),
                                     AVX512_TABLE("avx512-novnni", F), AVX512_TABLE("avx512-bf16", B)};
#undef AVX512_TABLE

/* The tiled mat-mat: the VNNI one where simd_avx512_int.c has one, else the AVX2 one;
 * a function result, so it is filled in once, before the tables are handed out. */
static pthread_once_t avx512_once = PTHREAD_ONCE_INIT;

static void avx512_init(void) {
    for (unsigned f = 0; f < 4; f++) {
        const cpu_gemm_fns *g = cpu_avx512_gemm(f);
        avx512_fns[f].gemm = g ? g : avx2_fns.gemm;
    }
}

const cpu_simd_fns *cpu_simd_avx512(unsigned feats) {
    pthread_once(&avx512_once, avx512_init);
    return &avx512_fns[feats & 3u];
}
#else
const cpu_simd_fns *cpu_simd_avx512(unsigned feats) {
    (void)feats;
    return NULL;
}
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

bool cpu_simd_avx512_usable(const char *features) {
    return has_word(features, "avx2") && has_word(features, "fma") && has_word(features, "f16c") &&
           has_word(features, "avx512f") && has_word(features, "avx512bw") && has_word(features, "avx512vl") &&
           has_word(features, "avx512dq");
}

/* The optional AVX-512 features (CPU_AVX512_*) named in a cpu_features() list. */
static unsigned avx512_feats(const char *features) {
    if (!has_word(features, "avx512vnni")) return 0;
    return CPU_AVX512_VNNI | (has_word(features, "avx512bf16") ? CPU_AVX512_BF16 : 0u);
}

/* Codes of the tables for cpu_simd_best's cache: PICK_AVX512 + the feats bits. */
enum { PICK_NONE = 2, PICK_AVX2 = 1, PICK_NEON = 3, PICK_AVX512 = 4 };

static int pick(const char *features, bool neon_usable, const char *override) {
    int s = PICK_NONE;
    if (cpu_simd_avx512(0) && cpu_simd_avx512_usable(features))
        s = PICK_AVX512 + (int)avx512_feats(features);
    else if (cpu_simd_avx2() && has_word(features, "avx2") && has_word(features, "fma") && has_word(features, "f16c"))
        s = PICK_AVX2;
    else if (cpu_simd_neon() && neon_usable)
        s = PICK_NEON;
    /* QG_CPU_SIMD only lowers the choice: scalar < avx2 < avx512; neon is its own line */
    if (override && strcmp(override, "scalar") == 0) s = PICK_NONE;
    if (override && strcmp(override, "avx2") == 0 && s >= PICK_AVX512) s = PICK_AVX2;
    return s;
}

static const cpu_simd_fns *table_of(int s) {
    if (s >= PICK_AVX512) return cpu_simd_avx512((unsigned)(s - PICK_AVX512));
    switch (s) {
    case PICK_AVX2: return cpu_simd_avx2();
    case PICK_NEON: return cpu_simd_neon();
    default: return NULL;
    }
}

const cpu_simd_fns *cpu_simd_pick(const char *features, bool neon_usable, const char *override) {
    return table_of(pick(features, neon_usable, override));
}

const cpu_simd_fns *cpu_simd_best(void) {
    static atomic_int state; /* 0: not asked yet, else a PICK_ code (racing askers agree) */
    int s = atomic_load(&state);
    if (s == 0) {
        char f[256];
        cpu_features(f, sizeof f);
        s = pick(f, cpu_simd_neon() && cpu_simd_neon_usable(), getenv("QG_CPU_SIMD"));
        atomic_store(&state, s);
    }
    return table_of(s);
}
