/* Internal to the AVX2 files of the CPU backend (compiled with -mavx2 -mfma -mf16c): the
 * functions they export to the table in simd_table.c, and small inline helpers they
 * share. Only include this from files built with those flags.
 */
#ifndef QG_CPU_SIMD_AVX2_H
#define QG_CPU_SIMD_AVX2_H

#include <stddef.h>
#include <stdint.h>

#include "qg/core.h"

#define QG_AVX2_DOTS(X)                                                              \
    X(q4_0) X(q4_1) X(q5_0) X(q5_1) X(q8_0) X(iq4_nl) X(mxfp4)                       \
    X(q2_K) X(q3_K) X(q4_K) X(q5_K) X(q6_K) X(iq4_xs)                                \
    X(f32) X(f16) X(bf16) X(f8_e4m3) X(f8_e5m2) X(mxfp8_e4m3) X(mxfp8_e5m2)
#define QG_AVX2_DECLARE_DOT(t) float cpu_avx2_vec_dot_##t(int64_t n, const void *x, const void *y);
QG_AVX2_DOTS(QG_AVX2_DECLARE_DOT)

/* One weight row against four activation rows y, y + ys, ... (same results as vec_dot). */
#define QG_AVX2_DOTS4(X)                                                             \
    X(q4_0) X(q4_1) X(q5_0) X(q5_1) X(q8_0) X(iq4_nl) X(mxfp4) X(q2_K) X(q3_K) X(q4_K) X(q5_K) X(q6_K) \
    X(iq4_xs) X(f16)
#define QG_AVX2_DECLARE_DOT4(t) \
    void cpu_avx2_vec_dot4_##t(int64_t n, const void *x, const void *y, size_t ys, float *out);
QG_AVX2_DOTS4(QG_AVX2_DECLARE_DOT4)

/* Several weight rows x, x + xs, ... against one activation row (cpu_dot_rows_fn of
 * simd.h): the super-block types (simd_avx2_kquants_dot.c). */
#define QG_AVX2_KQ_DOT_ROWS(X) X(q2_K) X(q3_K) X(q4_K) X(q5_K) X(q6_K) X(iq4_xs)
#define QG_AVX2_DECLARE_KQ_DOT_ROWS(t) \
    void cpu_avx2_vec_dot_rows_##t(int64_t n, const void *x, size_t xs, const void *y, float *out, int nrows);
QG_AVX2_KQ_DOT_ROWS(QG_AVX2_DECLARE_KQ_DOT_ROWS)

/* The FP8 types' four-column and multi-row dot products (simd_avx2_fp8.c). */
#define QG_AVX2_FP8(X) X(f8_e4m3) X(f8_e5m2) X(mxfp8_e4m3) X(mxfp8_e5m2)
QG_AVX2_FP8(QG_AVX2_DECLARE_DOT4)
QG_AVX2_FP8(QG_AVX2_DECLARE_KQ_DOT_ROWS)

void cpu_avx2_from_float_q8_0(const float *x, void *y, int64_t n);
void cpu_avx2_from_float_q8_1(const float *x, void *y, int64_t n);
void cpu_avx2_from_float_q8_K(const float *x, void *y, int64_t n);
void cpu_avx2_from_float_f16(const float *x, void *y, int64_t n);
void cpu_avx2_from_float_bf16(const float *x, void *y, int64_t n);

void cpu_avx2_exp_row(const float *x, float *y, int64_t n);
void cpu_avx2_silu_row(const float *x, float *y, int64_t n);
void cpu_avx2_gelu_row(const float *x, float *y, int64_t n);
void cpu_avx2_soft_max_row(const float *x, const float *mask, float scale, float *y, int64_t n);
void cpu_avx2_rms_norm_row(const float *x, float *y, int64_t n, float eps);

#ifdef __AVX2__
#include <immintrin.h>

static inline float avx2_hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int32_t avx2_hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* Products of signed bytes x*y summed in groups of four into 8 int32 lanes. y must not
 * hold -128 (activations are clamped to +-127); x may. maddubs needs an unsigned first
 * operand, so |x| goes there and x's sign moves onto y. */
static inline __m256i avx2_dot_i8(__m256i x, __m256i y) {
    const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* Unsigned bytes u (0..127) times signed bytes y, summed in groups of four. */
static inline __m256i avx2_dot_u8(__m256i u, __m256i y) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, y), _mm256_set1_epi16(1));
}

/* 16 packed nibble bytes -> 32 bytes: low nibbles (elements 0..15) then high nibbles. */
static inline __m256i avx2_nibbles(const uint8_t *qs) {
    const __m128i b = _mm_loadu_si128((const __m128i *)qs);
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
    return _mm256_and_si256(both, _mm256_set1_epi8(15));
}

/* 32 bits -> 32 bytes, byte j = 0xFF when bit j is set. */
static inline __m256i avx2_bits_to_bytes(uint32_t bits) {
    const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits),
                                          _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2,
                                                           2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i sel = _mm256_set1_epi64x(0x8040201008040201ll);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, sel), sel);
}

static inline uint32_t avx2_load_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline float avx2_fp16(uint16_t h) { return _cvtsh_ss(h); }
#endif

#endif
