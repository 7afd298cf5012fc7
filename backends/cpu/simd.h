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
} cpu_simd_fns;

/* The AVX2 table if it was compiled in (whether or not this processor can run it). */
const cpu_simd_fns *cpu_simd_avx2(void);
/* Whether this processor (and its OS) runs AVX2 + FMA + F16C code. */
bool cpu_simd_avx2_usable(void);
/* The NEON (dot-product) table if compiled in (aarch64), and whether the CPU has it. */
const cpu_simd_fns *cpu_simd_neon(void);
bool cpu_simd_neon_usable(void);
/* The best table this processor can run, or NULL (scalar only). */
const cpu_simd_fns *cpu_simd_best(void);

#endif
