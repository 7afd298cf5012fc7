/* SIMD versions of the per-type functions behind MUL_MAT: dot products of a weight row
 * against an activation row in the weight's partner type, and the partner-type
 * quantizers (from_float) that prepare the activations. A table maps a type to its SIMD
 * function, or to NULL where only the scalar reference from the type table exists.
 *
 * Dot products agree with the scalar references up to float rounding (integer sums are
 * exact; the order of the float scaling and summation may differ). Quantizers are
 * bit-exact with the scalar ones, since cpu and cpu-ref must quantize activations alike.
 * The AVX2 functions live in files compiled with -mavx2 -mfma -mf16c; the table code
 * itself is plain C, so asking is safe on any processor.
 */
#ifndef QG_CPU_SIMD_H
#define QG_CPU_SIMD_H

#include "qg/core.h"

/* One weight row x against four activation rows y, y + ys, y + 2ys, y + 3ys: out[c] is
 * exactly what vec_dot(n, x, y + c*ys) returns (the weight levels are expanded once for
 * the four, which is where mat-mat gains). */
typedef void (*cpu_dot4_fn)(int64_t n, const void *x, const void *y, size_t ys, float *out);

/* nrows (>= 0) weight rows x, x + xs, x + 2xs, ... against one activation row y: out[r]
 * is exactly what vec_dot(n, x + r*xs, y) returns (the activation blocks are loaded, and
 * what depends on them alone computed, once for several rows; mat-vec gains). */
typedef void (*cpu_dot_rows_fn)(int64_t n, const void *x, size_t xs, const void *y, float *out, int nrows);

/* Tiled mat-mat for one weight type (gemm_layout.h, simd_avx2_gemm*.c): every activation
 * column is packed once, CPU_GEMM_ROWS weight rows at a time are expanded into a panel of
 * int8 levels plus scales, and a register-tiled kernel runs the panel against all columns.
 * Results match vec_dot within float reordering (K-quants: exactly, in the same double
 * evaluation), and do not depend on how rows and columns are tiled or threaded. */
#define CPU_GEMM_ROWS 16
typedef struct cpu_gemm cpu_gemm;
typedef struct cpu_gemm_fns {
    const cpu_gemm *(*find)(qg_type weight); /* NULL: no tiled path for this weight type */
    size_t (*x_size)(int64_t k);             /* bytes of one packed activation column (64-multiple) */
    size_t (*panel_size)(int64_t k);         /* bytes of one panel (64-multiple) */
    /* One row of the weight's partner type (as its from_float wrote it) -> packed column. */
    void (*pack_x)(const cpu_gemm *g, const void *xq, int64_t k, void *dst);
    /* rows (1..CPU_GEMM_ROWS) weight rows nb1 bytes apart -> panel. */
    void (*pack_w)(const cpu_gemm *g, const void *w, size_t nb1, int rows, int64_t k, void *panel);
    /* out + j*ldo bytes, floats 0..rows-1: the panel's rows against columns x + j*xs bytes. */
    void (*run)(const cpu_gemm *g, const void *panel, int rows, int64_t k, const void *x, size_t xs,
                int64_t ncols, char *out, size_t ldo);
    /* Like run for rows (> CPU_GEMM_ROWS allowed) spread over consecutive panels ps bytes
     * apart (panel p holds rows 16p..): each activation chunk is loaded once for all of
     * them. NULL: none (run per panel). */
    void (*run_panels)(const cpu_gemm *g, const void *panels, size_t ps, int rows, int64_t k, const void *x,
                       size_t xs, int64_t ncols, char *out, size_t ldo);
    /* Fewest activation columns from which the tiled path pays for this type (measured per
     * type); NULL: the caller's default. */
    int64_t (*min_cols)(const cpu_gemm *g);
} cpu_gemm_fns;

typedef struct cpu_simd_fns {
    const char *name;                          /* "avx2" */
    qg_vec_dot_fn (*vec_dot)(qg_type weight);  /* NULL: no SIMD dot for this weight type */
    cpu_dot4_fn (*vec_dot4)(qg_type weight);   /* NULL: none (use vec_dot per column) */
    qg_from_float_fn (*from_float)(qg_type partner); /* NULL: no SIMD quantizer */
    /* Row functions of the element-wise and row-wise ops (float rows, y may be x); all
     * NULL in tables without them (the reference kernels are used then). */
    void (*exp_row)(const float *x, float *y, int64_t n);
    void (*silu_row)(const float *x, float *y, int64_t n);
    void (*gelu_row)(const float *x, float *y, int64_t n);
    /* softmax(x * scale + mask) (mask may be NULL), same NaN / all -inf rules as cpu-ref */
    void (*soft_max_row)(const float *x, const float *mask, float scale, float *y, int64_t n);
    void (*rms_norm_row)(const float *x, float *y, int64_t n, float eps);
    const cpu_gemm_fns *gemm; /* NULL: no tiled mat-mat in this table */
    /* NORM, ADD/MUL (equal-length rows; o may alias x or y), SCALE and ROPE rows (ROPE:
     * pair i rotated by the angle with cosine c[i] and sine s[i], NEOX or adjacent pairs,
     * values past n_dims copied; o may be x but must not partly overlap it); NULL in
     * tables without them. */
    void (*norm_row)(const float *x, float *y, int64_t n, float eps);
    void (*add_row)(const float *x, const float *y, float *o, int64_t n);
    void (*mul_row)(const float *x, const float *y, float *o, int64_t n);
    void (*scale_row)(const float *x, float s, float *o, int64_t n);
    void (*rope_row)(const float *x, float *o, int64_t n, int n_dims, bool neox, const double *c,
                     const double *s);
    /* Row dequantizer for GET_ROWS, bit-identical with the type's to_float; NULL: none. */
    qg_to_float_fn (*to_float)(qg_type t);
    /* Several weight rows against one activation row (cpu_dot_rows_fn); NULL (the table
     * or the type): none, use vec_dot per row. */
    cpu_dot_rows_fn (*vec_dot_rows)(qg_type weight);
} cpu_simd_fns;

/* The AVX2 multi-row dot products (simd_avx2_legacy.c). */
#define QG_AVX2_DOT_ROWS(X) X(q4_0) X(q4_1) X(q5_0) X(q5_1) X(q8_0) X(iq4_nl) X(mxfp4)
#define QG_AVX2_DECLARE_DOT_ROWS(t) \
    void cpu_avx2_vec_dot_rows_##t(int64_t n, const void *x, size_t xs, const void *y, float *out, int nrows);
QG_AVX2_DOT_ROWS(QG_AVX2_DECLARE_DOT_ROWS)

/* The AVX2 table if it was compiled in (whether or not this processor can run it). */
const cpu_simd_fns *cpu_simd_avx2(void);
/* Whether this processor (and its OS) runs AVX2 + FMA + F16C code. */
bool cpu_simd_avx2_usable(void);
/* The NEON (dot-product) table if compiled in (aarch64), and whether the CPU has it. */
const cpu_simd_fns *cpu_simd_neon(void);
bool cpu_simd_neon_usable(void);
/* The AVX-512 tables if compiled in (QG_CPU_AVX512; simd_table_avx512.c): the AVX-512
 * functions where there are some, the AVX2 ones elsewhere, for a processor with AVX2,
 * FMA, F16C, AVX-512 F, BW, VL, DQ (cpu_simd_avx512_usable(cpu_features())) and the
 * optional features feats: "avx512-novnni" (0), "avx512" (VNNI: the integer dots),
 * "avx512-bf16" (VNNI | BF16: also the BF16 dot with VDPBF16PS). */
#define CPU_AVX512_VNNI 1u
#define CPU_AVX512_BF16 2u
const cpu_simd_fns *cpu_simd_avx512(unsigned feats);
bool cpu_simd_avx512_usable(const char *features);
/* The best table this processor can run, or NULL (scalar only). Decided once: the best
 * of avx512(-bf16), avx2, neon that CPUID / AT_HWCAP allow, lowered (never raised) by the
 * environment variable QG_CPU_SIMD=scalar|avx2|avx512|neon, for debugging. */
const cpu_simd_fns *cpu_simd_best(void);
/* The same choice for given cpu_features() words, NEON usability and QG_CPU_SIMD value
 * (NULL: unset), for tests. */
const cpu_simd_fns *cpu_simd_pick(const char *features, bool neon_usable, const char *override);

#endif
