/* AVX2 row dequantizers (to_float) for GET_ROWS on the fast CPU device: F16, BF16, Q4_0,
 * Q8_0, Q4_K and Q6_K rows to floats.
 *
 * Each computes, per element, the same float operations in the same order as the scalar
 * reference in core/quant (level converted to float, times the block's float scale; Q4_K
 * subtracts the scaled minimum after the product, without fusing), so the results are
 * bit-identical with cpu-ref. The six-bit scales of Q4_K are unpacked here rather than
 * through core's internal helpers, which the plugin cannot link.
 */
#include "simd_avx2.h"
#include "simd_avx2_rows.h"

#include <string.h>

#include "core/quant/k_internal.h"

/* 8 int8 levels at q as floats times d. */
static inline __m256 i8x8_scaled(const int8_t *q, __m256 d) {
    const __m256i v = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)q));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(v), d);
}

void cpu_avx2_to_float_f16(const void *src, float *dst, int64_t n) {
    const uint16_t *x = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
    for (; i < n; i++) dst[i] = avx2_fp16(x[i]);
}

void cpu_avx2_to_float_bf16(const void *src, float *dst, int64_t n) {
    const uint16_t *x = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(x + i)));
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
    }
    for (; i < n; i++) {
        const uint32_t bits = (uint32_t)x[i] << 16;
        memcpy(&dst[i], &bits, sizeof bits);
    }
}

void cpu_avx2_to_float_q8_0(const void *src, float *dst, int64_t n) {
    const qg_block_q8_0 *b = src;
    for (int64_t i = 0; i < n / 32; i++, dst += 32) {
        const __m256 d = _mm256_set1_ps(avx2_fp16(b[i].d));
        for (int j = 0; j < 32; j += 8) _mm256_storeu_ps(dst + j, i8x8_scaled(b[i].qs + j, d));
    }
}

void cpu_avx2_to_float_q4_0(const void *src, float *dst, int64_t n) {
    const qg_block_q4_0 *b = src;
    for (int64_t i = 0; i < n / 32; i++, dst += 32) {
        const __m256 d = _mm256_set1_ps(avx2_fp16(b[i].d));
        int8_t q[32];
        _mm256_storeu_si256((__m256i *)q, _mm256_sub_epi8(avx2_nibbles(b[i].qs), _mm256_set1_epi8(8)));
        for (int j = 0; j < 32; j += 8) _mm256_storeu_ps(dst + j, i8x8_scaled(q + j, d));
    }
}

/* Q4_K scale and min j (0..7), six bits each, packed in 12 bytes. */
static inline void q4_K_scale_min(const uint8_t *s, int j, int *sc, int *mn) {
    if (j < 4) {
        *sc = s[j] & 63;
        *mn = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
        *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

void cpu_avx2_to_float_q4_K(const void *src, float *dst, int64_t n) {
    const qg_block_q4_K *b = src;
    for (int64_t i = 0; i < n / QG_QK_K; i++) {
        const float d = avx2_fp16(b[i].d), dmin = avx2_fp16(b[i].dmin);
        for (int j = 0; j < 8; j++, dst += 32) {
            int sc, mn;
            q4_K_scale_min(b[i].scales, j, &sc, &mn);
            const __m256 d1 = _mm256_set1_ps(d * (float)sc), m1 = _mm256_set1_ps(dmin * (float)mn);
            /* sub-block j: low nibbles (even j) or high nibbles (odd j) of qs[32 (j/2) ..] */
            const __m256i raw = _mm256_loadu_si256((const __m256i *)(b[i].qs + 32 * (j / 2)));
            const __m256i lev = _mm256_and_si256(j % 2 ? _mm256_srli_epi16(raw, 4) : raw, _mm256_set1_epi8(15));
            uint8_t q[32];
            _mm256_storeu_si256((__m256i *)q, lev);
            for (int l = 0; l < 32; l += 8) {
                const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(q + l)));
                _mm256_storeu_ps(dst + l, _mm256_sub_ps(_mm256_mul_ps(d1, _mm256_cvtepi32_ps(v)), m1));
            }
        }
    }
}

void cpu_avx2_to_float_q6_K(const void *src, float *dst, int64_t n) {
    const qg_block_q6_K *b = src;
    const __m256i m4 = _mm256_set1_epi8(15), m30 = _mm256_set1_epi8(0x30), off = _mm256_set1_epi8(32);
    for (int64_t i = 0; i < n / QG_QK_K; i++, dst += QG_QK_K) {
        const float d = avx2_fp16(b[i].d);
        int8_t q[QG_QK_K];
        for (int h = 0; h < 2; h++) {
            const __m256i ql0 = _mm256_loadu_si256((const __m256i *)(b[i].ql + 64 * h));
            const __m256i ql1 = _mm256_loadu_si256((const __m256i *)(b[i].ql + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(b[i].qh + 32 * h));
            const __m256i lv[4] = {
                _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30)),
                _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30)),
            };
            for (int p = 0; p < 4; p++)
                _mm256_storeu_si256((__m256i *)(q + 128 * h + 32 * p), _mm256_sub_epi8(lv[p], off));
        }
        for (int e = 0; e < QG_QK_K; e += 8) {
            const __m256 f = _mm256_set1_ps(d * (float)b[i].scales[e / 16]);
            _mm256_storeu_ps(dst + e, i8x8_scaled(q + e, f));
        }
    }
}
