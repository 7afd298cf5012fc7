/* AVX2 versions of the activation quantizers (from_float of the partner types Q8_0,
 * Q8_1, Q8_K, F16 and BF16), bit-exact with the scalar ones in core/quant:
 *  - the block maximum of |x| skips NaN as the scalar `if (fabsf(x) > amax)` does
 *    (MAXPS returns its second operand when the first is NaN);
 *  - the scale and its inverse are computed in scalar float exactly as the reference;
 *  - Q8_0/Q8_1 round half away from zero (roundf): truncate, then step away from zero
 *    when the dropped fraction is at least one half, which is exact for every float;
 *    NaN gives 0 and the result is clamped to +-127;
 *  - Q8_K rounds to nearest even (lrintf in the default rounding mode), NaN and
 *    anything below -127 give -127;
 *  - F16 uses the F16C conversion (round to nearest even, NaN payloads kept and quieted
 *    like the scalar code), BF16 the same integer rounding as the scalar code.
 */
#include "simd_avx2.h"

#include <string.h>

#include "core/quant/quant.h"

static inline __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

static inline float hmax_ps(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* max |x| over n floats (n a multiple of 8), NaN ignored. */
static inline float absmax(const float *x, int n) {
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < n; j += 8) m = _mm256_max_ps(abs_ps(_mm256_loadu_ps(x + j)), m);
    return hmax_ps(m);
}

/* roundf(v) clamped to +-127, NaN -> 0, as int32 lanes. */
static inline __m256i round_away_q8(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 half = _mm256_cmp_ps(abs_ps(_mm256_sub_ps(v, t)), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    const __m256 step = _mm256_or_ps(_mm256_and_ps(v, _mm256_set1_ps(-0.0f)), _mm256_set1_ps(1.0f));
    __m256 r = _mm256_add_ps(t, _mm256_and_ps(half, step));
    r = _mm256_min_ps(_mm256_max_ps(r, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
    r = _mm256_andnot_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), r);
    return _mm256_cvtps_epi32(r);
}

/* Four vectors of 8 int32 (each in -127..127) -> 32 int8 in element order. */
static inline __m256i pack32(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
    return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* One 32-element block into qs; returns sum(qs). */
static inline int quant_block_q8(const float *x, float id, int8_t *qs) {
    const __m256 s = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; k++) q[k] = round_away_q8(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), s));
    _mm256_storeu_si256((__m256i *)qs, pack32(q[0], q[1], q[2], q[3]));
    return avx2_hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
}

void cpu_avx2_from_float_q8_0(const float *x, void *vy, int64_t n) {
    qg_block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        const float d = absmax(x, 32) / 127.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        y[i].d = qg_fp32_to_fp16(d);
        quant_block_q8(x, id, y[i].qs);
    }
}

void cpu_avx2_from_float_q8_1(const float *x, void *vy, int64_t n) {
    qg_block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        const float d = absmax(x, 32) / 127.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        y[i].d = qg_fp32_to_fp16(d);
        const int sum = quant_block_q8(x, id, y[i].qs);
        y[i].s = qg_fp32_to_fp16((float)sum * d);
    }
}

void cpu_avx2_from_float_q8_K(const float *x, void *vy, int64_t n) {
    qg_block_q8_K *y = vy;
    for (int64_t i = 0; i < n / QG_QK_K; i++, x += QG_QK_K) {
        const float amax = absmax(x, QG_QK_K);
        memset(&y[i], 0, sizeof y[i]);
        if (!(amax > 0.0f)) continue;
        const __m256 is = _mm256_set1_ps(127.0f / amax);
        for (int g = 0; g < QG_QK_K / 32; g++) {
            __m256i q[4];
            for (int k = 0; k < 4; k++) {
                __m256 r = _mm256_round_ps(_mm256_mul_ps(is, _mm256_loadu_ps(x + 32 * g + 8 * k)),
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                r = _mm256_min_ps(_mm256_max_ps(r, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
                q[k] = _mm256_cvtps_epi32(r);
            }
            _mm256_storeu_si256((__m256i *)(y[i].qs + 32 * g), pack32(q[0], q[1], q[2], q[3]));
            y[i].bsums[2 * g] = (int16_t)avx2_hsum_epi32(_mm256_add_epi32(q[0], q[1]));
            y[i].bsums[2 * g + 1] = (int16_t)avx2_hsum_epi32(_mm256_add_epi32(q[2], q[3]));
        }
        y[i].d = amax / 127.0f;
    }
}

void cpu_avx2_from_float_f16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) y[i] = qg_fp32_to_fp16(x[i]);
}

void cpu_avx2_from_float_bf16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t i = 0;
    const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7fff);
    for (; i + 8 <= n; i += 8) {
        const __m256i b = _mm256_castps_si256(_mm256_loadu_ps(x + i));
        const __m256i r = _mm256_add_epi32(b, _mm256_add_epi32(bias, _mm256_and_si256(_mm256_srli_epi32(b, 16), one)));
        const __m256 bf = _mm256_castsi256_ps(b);
        const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(bf, bf, _CMP_UNORD_Q));
        const __m256i qnan = _mm256_or_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(0x40));
        const __m256i v = _mm256_blendv_epi8(_mm256_srli_epi32(r, 16), qnan, nan);
        const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(v, v), 0xD8);
        _mm_storeu_si128((__m128i *)(y + i), _mm256_castsi256_si128(p));
    }
    for (; i < n; i++) y[i] = qg_fp32_to_bf16(x[i]);
}
