/* AVX-512 dot products of the FP8 weight types against F32 activations: F8_E4M3, F8_E5M2
 * and the block-scaled MXFP8 (32 E4M3 or E5M2 elements sharing one E8M0 power-of-two
 * scale).
 *
 * 32 codes are widened to 16-bit lanes with the code in the top byte (VPMOVZXBW, shift)
 * and converted by VCVTPH2PS, 16 at a time, in element order. For E5M2 that half is
 * exactly the number (infinities and NaN included). For E4M3 an arithmetic shift right by
 * one and a mask (S.EEEE.MMM -> S.0EEEE.MMM0000000) give a half worth the E4M3 value
 * times 2^-8 for every finite code, subnormals included (the trick of simd_avx2_fp8.c);
 * the sum is scaled back by 2^8 at the end. The one E4M3 NaN pattern (S.1111.111, which
 * would read as 480) is found by a compare on the same 16-bit lanes and those lanes set to
 * NaN, so no row needs a scalar pass. Tails (n % 32) use masked loads, zero elsewhere.
 * The scalar references sum in double; these differ from them by float rounding.
 */
#include "simd_avx512.h"

#include <immintrin.h>

#include "core/quant/quant.h"

/* 32 codes (bytes of v) -> two vectors of 16 floats, elements 0-15 and 16-31 (E4M3 times
 * 2^-8, E4M3 NaN codes as NaN). */
static inline __attribute__((always_inline)) void fp8x32(__m256i v, int e4m3, __m512 *f0, __m512 *f1) {
    __m512i w = _mm512_slli_epi16(_mm512_cvtepu8_epi16(v), 8);
    __mmask32 nan = 0;
    if (e4m3) {
        nan = _mm512_cmpeq_epi16_mask(_mm512_and_si512(w, _mm512_set1_epi16(0x7f00)), _mm512_set1_epi16(0x7f00));
        w = _mm512_and_si512(_mm512_srai_epi16(w, 1), _mm512_set1_epi16((short)0xBF80));
    }
    *f0 = _mm512_cvtph_ps(_mm512_castsi512_si256(w));
    *f1 = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(w, 1));
    if (e4m3 && nan) {
        const __m512 qnan = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fc00000));
        *f0 = _mm512_mask_mov_ps(*f0, (__mmask16)nan, qnan);
        *f1 = _mm512_mask_mov_ps(*f1, (__mmask16)(nan >> 16), qnan);
    }
}

static inline __attribute__((always_inline)) float f8_dot(int64_t n, const uint8_t *x, const float *y, int e4m3) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 f0, f1, f2, f3;
        fp8x32(_mm256_loadu_si256((const __m256i *)(x + i)), e4m3, &f0, &f1);
        fp8x32(_mm256_loadu_si256((const __m256i *)(x + i + 32)), e4m3, &f2, &f3);
        a0 = _mm512_fmadd_ps(f0, _mm512_loadu_ps(y + i), a0);
        a1 = _mm512_fmadd_ps(f1, _mm512_loadu_ps(y + i + 16), a1);
        a2 = _mm512_fmadd_ps(f2, _mm512_loadu_ps(y + i + 32), a2);
        a3 = _mm512_fmadd_ps(f3, _mm512_loadu_ps(y + i + 48), a3);
    }
    for (; i < n; i += 32) {
        const int64_t left = n - i < 32 ? n - i : 32;
        const __mmask32 m = (__mmask32)(left == 32 ? 0xFFFFFFFFu : (1u << left) - 1u);
        __m512 f0, f1;
        fp8x32(_mm256_maskz_loadu_epi8(m, x + i), e4m3, &f0, &f1);
        a0 = _mm512_fmadd_ps(f0, _mm512_maskz_loadu_ps((__mmask16)m, y + i), a0);
        a1 = _mm512_fmadd_ps(f1, _mm512_maskz_loadu_ps((__mmask16)(m >> 16), y + i + 16), a1);
    }
    const float sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    return e4m3 ? sum * 256.0f : sum;
}

float cpu_avx512_vec_dot_f8_e4m3(int64_t n, const void *x, const void *y) { return f8_dot(n, x, y, 1); }

float cpu_avx512_vec_dot_f8_e5m2(int64_t n, const void *x, const void *y) { return f8_dot(n, x, y, 0); }

/* 2^(e-127) for an E8M0 byte (0: the subnormal 2^-127; 0xFF: NaN). */
static inline __m512 e8m0(uint8_t e) {
    const uint32_t bits = e == 0 ? 0x00400000u : e == 255 ? 0x7fc00000u : (uint32_t)e << 23;
    return _mm512_castsi512_ps(_mm512_set1_epi32((int)bits));
}

/* One block: its 32 products summed, then scaled into the running total t. */
static inline __attribute__((always_inline)) __m512 mx_step(const qg_block_mxfp8 *b, const float *y, __m512 t,
                                                            int e4m3) {
    __m512 f0, f1;
    fp8x32(_mm256_loadu_si256((const __m256i *)b->q), e4m3, &f0, &f1);
    const __m512 p = _mm512_fmadd_ps(f1, _mm512_loadu_ps(y + 16), _mm512_mul_ps(f0, _mm512_loadu_ps(y)));
    return _mm512_fmadd_ps(p, e8m0(b->e), t);
}

/* Two running totals, so that consecutive blocks do not wait on each other. */
static inline __attribute__((always_inline)) float mxfp8_dot(int64_t n, const qg_block_mxfp8 *x, const float *y,
                                                             int e4m3) {
    __m512 t0 = _mm512_setzero_ps(), t1 = t0;
    const int64_t nb = n / QG_QK_MXFP8;
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        t0 = mx_step(x + b, y + b * QG_QK_MXFP8, t0, e4m3);
        t1 = mx_step(x + b + 1, y + (b + 1) * QG_QK_MXFP8, t1, e4m3);
    }
    if (b < nb) t0 = mx_step(x + b, y + b * QG_QK_MXFP8, t0, e4m3);
    const float sum = _mm512_reduce_add_ps(_mm512_add_ps(t0, t1));
    return e4m3 ? sum * 256.0f : sum;
}

float cpu_avx512_vec_dot_mxfp8_e4m3(int64_t n, const void *x, const void *y) { return mxfp8_dot(n, x, y, 1); }

float cpu_avx512_vec_dot_mxfp8_e5m2(int64_t n, const void *x, const void *y) { return mxfp8_dot(n, x, y, 0); }
