/* AVX2 dot products of the FP8 weight types against F32 activations: F8_E4M3, F8_E5M2
 * and the block-scaled MXFP8 (E4M3 or E5M2 elements, one E8M0 power-of-two scale per 32
 * elements).
 *
 * Both element formats reach float through F16C. A byte placed in the top of a 16-bit
 * lane is, for E5M2, exactly the half-precision number. For E4M3, an arithmetic shift
 * right by one and a mask (S.EEEE.MMM -> S.0EEEE.MMM0000000) give a half whose value is
 * the E4M3 value times 2^-8 for every finite code, subnormals included (both formats keep
 * subnormals at the bottom of their exponent range, 8 binades apart, and half subnormals
 * convert to normal floats, so no float operation sees a subnormal operand); the sum is
 * scaled back by 2^8 at the end. The one E4M3 NaN pattern (S.1111.111, which would read
 * as 480) is caught by a running maximum of the code magnitudes, and such rows are redone
 * with the exact scalar conversion. The scalar references sum in double; these differ
 * from them by float rounding.
 */
#include "simd_avx2.h"

#include <math.h>
#include <string.h>

#include "core/quant/quant.h"

/* Eight E5M2 codes at p as floats (each byte widened, shifted into the top half). */
static inline __m256 e5m2x8(const uint8_t *p) {
    return _mm256_cvtph_ps(_mm_slli_epi16(_mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)p)), 8));
}

/* The 32 codes at p as four vectors of floats holding elements 0-7, 8-15, 16-23 and 24-31
 * (E4M3 scaled by 2^-8; not for E4M3 NaN, which the callers check). E5M2 widens eight
 * bytes at a time, E4M3 uses the unpacks (each measured the faster for its format). */
static inline __attribute__((always_inline)) void fp8x32(const uint8_t *p, int e4m3, __m256 f[4]) {
    if (!e4m3) {
        f[0] = e5m2x8(p);
        f[1] = e5m2x8(p + 8);
        f[2] = e5m2x8(p + 16);
        f[3] = e5m2x8(p + 24);
        return;
    }
    /* interleaving with zero bytes works within 128-bit lanes */
    const __m256i v = _mm256_loadu_si256((const __m256i *)p);
    const __m256i keep = _mm256_set1_epi16((short)0xBF80);
    const __m256i lo = _mm256_and_si256(_mm256_srai_epi16(_mm256_unpacklo_epi8(_mm256_setzero_si256(), v), 1), keep);
    const __m256i hi = _mm256_and_si256(_mm256_srai_epi16(_mm256_unpackhi_epi8(_mm256_setzero_si256(), v), 1), keep);
    /* lo: elements 0-7 | 16-23, hi: 8-15 | 24-31 */
    f[0] = _mm256_cvtph_ps(_mm256_castsi256_si128(lo));
    f[1] = _mm256_cvtph_ps(_mm256_castsi256_si128(hi));
    f[2] = _mm256_cvtph_ps(_mm256_extracti128_si256(lo, 1));
    f[3] = _mm256_cvtph_ps(_mm256_extracti128_si256(hi, 1));
}

/* Running maximum of the code magnitudes (bytes & 0x7F). */
static inline __m256i mag_max(__m256i mx, const uint8_t *p) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)p);
    return _mm256_max_epu8(mx, _mm256_and_si256(v, _mm256_set1_epi8(0x7f)));
}

/* Whether that magnitude maximum is an E4M3 NaN (S.1111.111). */
static inline bool has_nan(__m256i mx) {
    return _mm256_movemask_epi8(_mm256_cmpeq_epi8(mx, _mm256_set1_epi8(0x7f))) != 0;
}

static inline float fp8_scalar(uint8_t c, int e4m3) { return e4m3 ? qg_e4m3_to_fp32(c) : qg_e5m2_to_fp32(c); }

/* The exact scalar loop, for rows holding E4M3 NaN codes (rare). */
static float f8_dot_special(int64_t n, const uint8_t *x, const float *y, int e4m3) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += fp8_scalar(x[i], e4m3) * y[i];
    return sum;
}

static inline __attribute__((always_inline)) float f8_dot(int64_t n, const uint8_t *x, const float *y, int e4m3) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    __m256i mx = _mm256_setzero_si256();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 f[4];
        fp8x32(x + i, e4m3, f);
        if (e4m3) mx = mag_max(mx, x + i);
        a0 = _mm256_fmadd_ps(f[0], _mm256_loadu_ps(y + i), a0);
        a1 = _mm256_fmadd_ps(f[1], _mm256_loadu_ps(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(f[2], _mm256_loadu_ps(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(f[3], _mm256_loadu_ps(y + i + 24), a3);
    }
    if (e4m3 && has_nan(mx)) return f8_dot_special(n, x, y, e4m3);
    float sum = avx2_hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    if (e4m3) sum *= 256.0f;
    for (; i < n; i++) sum += fp8_scalar(x[i], e4m3) * y[i];
    return sum;
}

float cpu_avx2_vec_dot_f8_e4m3(int64_t n, const void *x, const void *y) { return f8_dot(n, x, y, 1); }

float cpu_avx2_vec_dot_f8_e5m2(int64_t n, const void *x, const void *y) { return f8_dot(n, x, y, 0); }

/* 2^(e-127) for an E8M0 byte, NaN for 0xFF. */
static inline float e8m0(uint8_t e) {
    const uint32_t bits = e == 0xff ? 0x7fc00000u : e == 0 ? 0x00400000u : (uint32_t)e << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* The exact scalar loop for MXFP8 rows holding E4M3 NaN codes. */
static float mxfp8_dot_special(int64_t n, const qg_block_mxfp8 *x, const float *y, int e4m3) {
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QG_QK_MXFP8; b++, y += QG_QK_MXFP8)
        sum += f8_dot_special(QG_QK_MXFP8, x[b].q, y, e4m3) * e8m0(x[b].e);
    return sum;
}

/* Each block's 32 products are summed in a block accumulator, then scaled (by a power of
 * two) into one of two running totals (alternating, so consecutive blocks do not wait on
 * each other). */
static inline __attribute__((always_inline)) float mxfp8_dot(int64_t n, const qg_block_mxfp8 *x, const float *y,
                                                             int e4m3) {
    __m256 t0 = _mm256_setzero_ps(), t1 = t0;
    __m256i mx = _mm256_setzero_si256();
    const float *y0 = y;
    for (int64_t b = 0; b < n / QG_QK_MXFP8; b++, y += QG_QK_MXFP8) {
        __m256 f[4];
        fp8x32(x[b].q, e4m3, f);
        if (e4m3) mx = mag_max(mx, x[b].q);
        __m256 p0 = _mm256_mul_ps(f[0], _mm256_loadu_ps(y));
        __m256 p1 = _mm256_mul_ps(f[1], _mm256_loadu_ps(y + 8));
        p0 = _mm256_fmadd_ps(f[2], _mm256_loadu_ps(y + 16), p0);
        p1 = _mm256_fmadd_ps(f[3], _mm256_loadu_ps(y + 24), p1);
        const __m256 s = _mm256_set1_ps(e8m0(x[b].e));
        if (b & 1) t1 = _mm256_fmadd_ps(_mm256_add_ps(p0, p1), s, t1);
        else t0 = _mm256_fmadd_ps(_mm256_add_ps(p0, p1), s, t0);
    }
    if (e4m3 && has_nan(mx)) return mxfp8_dot_special(n, x, y0, e4m3);
    const float sum = avx2_hsum_ps(_mm256_add_ps(t0, t1));
    return e4m3 ? sum * 256.0f : sum;
}

float cpu_avx2_vec_dot_mxfp8_e4m3(int64_t n, const void *x, const void *y) { return mxfp8_dot(n, x, y, 1); }

float cpu_avx2_vec_dot_mxfp8_e5m2(int64_t n, const void *x, const void *y) { return mxfp8_dot(n, x, y, 0); }
