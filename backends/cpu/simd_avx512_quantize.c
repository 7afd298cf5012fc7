/* AVX-512 versions of the activation quantizers (from_float of the partner types Q8_0,
 * Q8_1, Q8_K, F16 and BF16), bit-exact with the scalar ones in core/quant, by the same
 * rules as the AVX2 ones (simd_avx2_quantize.c):
 *  - the block maximum of |x| skips NaN (VMAXPS returns its second operand, the running
 *    maximum, when the first is NaN); scale and inverse in scalar float as the reference;
 *  - Q8_0/Q8_1 round half away from zero: truncate, then step away from zero where the
 *    dropped fraction is at least one half (exact for every float); NaN gives 0, the
 *    result is clamped to +-127;
 *  - Q8_K rounds to nearest even; NaN and anything below -127 give -127 (VMAXPS again);
 *    one 16-lane vector is exactly one of its 16-element bsums groups;
 *  - F16 by VCVTPS2PH (round to nearest even, NaN quieted with its payload, as the scalar
 *    code); BF16 by the same integer rounding as the scalar code.
 * Fp16 scales use VCVTPS2PH too, which rounds as qg_fp32_to_fp16 does. The F16 and BF16
 * tails are masked: no scalar code, and nothing here calls the C library but memset.
 */
#include "simd_avx512.h"

#include <immintrin.h>
#include <string.h>

#include "core/quant/quant.h"

static inline uint16_t f16_of(float f) { return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT); }

/* max |x| over n floats (n a multiple of 16), NaN ignored. */
static inline float absmax(const float *x, int n) {
    __m512 m = _mm512_setzero_ps();
    for (int j = 0; j < n; j += 16) m = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + j)), m);
    return _mm512_reduce_max_ps(m);
}

/* roundf(v) clamped to +-127, NaN -> 0, as int32 lanes. */
static inline __m512i round_away_q8(__m512 v) {
    const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __mmask16 half = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, t)), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __m512 step = _mm512_or_ps(_mm512_and_ps(v, _mm512_set1_ps(-0.0f)), _mm512_set1_ps(1.0f));
    __m512 r = _mm512_mask_add_ps(t, half, t, step);
    r = _mm512_min_ps(_mm512_max_ps(r, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
    r = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), r);
    return _mm512_cvtps_epi32(r);
}

/* One 32-element block into qs; returns sum(qs). */
static inline int quant_block_q8(const float *x, float id, int8_t *qs) {
    const __m512 s = _mm512_set1_ps(id);
    const __m512i q0 = round_away_q8(_mm512_mul_ps(_mm512_loadu_ps(x), s));
    const __m512i q1 = round_away_q8(_mm512_mul_ps(_mm512_loadu_ps(x + 16), s));
    _mm_storeu_si128((__m128i *)qs, _mm512_cvtsepi32_epi8(q0));
    _mm_storeu_si128((__m128i *)(qs + 16), _mm512_cvtsepi32_epi8(q1));
    return _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
}

void cpu_avx512_from_float_q8_0(const float *x, void *vy, int64_t n) {
    qg_block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        const float d = absmax(x, 32) / 127.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        y[i].d = f16_of(d);
        quant_block_q8(x, id, y[i].qs);
    }
}

void cpu_avx512_from_float_q8_1(const float *x, void *vy, int64_t n) {
    qg_block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        const float d = absmax(x, 32) / 127.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        y[i].d = f16_of(d);
        const int sum = quant_block_q8(x, id, y[i].qs);
        y[i].s = f16_of((float)sum * d);
    }
}

void cpu_avx512_from_float_q8_K(const float *x, void *vy, int64_t n) {
    qg_block_q8_K *y = vy;
    for (int64_t i = 0; i < n / QG_QK_K; i++, x += QG_QK_K) {
        const float amax = absmax(x, QG_QK_K);
        memset(&y[i], 0, sizeof y[i]);
        if (!(amax > 0.0f)) continue;
        const __m512 is = _mm512_set1_ps(127.0f / amax);
        for (int g = 0; g < QG_QK_K / 16; g++) {
            __m512 r = _mm512_roundscale_ps(_mm512_mul_ps(is, _mm512_loadu_ps(x + 16 * g)),
                                            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            r = _mm512_min_ps(_mm512_max_ps(r, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
            const __m512i q = _mm512_cvtps_epi32(r);
            _mm_storeu_si128((__m128i *)(y[i].qs + 16 * g), _mm512_cvtsepi32_epi8(q));
            y[i].bsums[g] = (int16_t)_mm512_reduce_add_epi32(q);
        }
        y[i].d = amax / 127.0f;
    }
}

void cpu_avx512_from_float_f16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(y + i), _mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm256_mask_storeu_epi16(y + i, m, _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i), _MM_FROUND_TO_NEAREST_INT));
    }
}

/* 16 floats -> 16 BF16 (round to nearest even; NaN: the top half, quieted). */
static inline __m256i bf16_of(__m512 f) {
    const __m512i b = _mm512_castps_si512(f);
    const __m512i r = _mm512_add_epi32(
        b, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1))));
    const __mmask16 nan = _mm512_cmp_ps_mask(f, f, _CMP_UNORD_Q);
    const __m512i v = _mm512_mask_mov_epi32(_mm512_srli_epi32(r, 16), nan,
                                            _mm512_or_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(0x40)));
    return _mm512_cvtepi32_epi16(v);
}

void cpu_avx512_from_float_bf16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm256_storeu_si256((__m256i *)(y + i), bf16_of(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm256_mask_storeu_epi16(y + i, m, bf16_of(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
