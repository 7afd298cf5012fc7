/* AVX2 dot products of the float-like weight types: F32, F16 and BF16 against their own
 * type, FP8 (E4M3, E5M2) and MXFP8 against F32. Elements are converted exactly to float
 * (F16C for halves; E5M2 is the top byte of a half; E4M3 by rebiasing its bits into a
 * float, its subnormals from their integer mantissa; BF16 by a shift) and
 * multiplied-added into four 8-wide float accumulators. The scalar references add in
 * double, so results differ from them by float rounding only.
 */
#include "simd_avx2.h"

#include <string.h>

#include "core/quant/quant.h"

/* Four accumulators over groups of 32: LOADX(i) and LOADY(i) give 8 floats of x and y
 * at element i; the last n % 8 elements are done one at a time by TAIL(i). */
#define DOT_LOOP(n, LOADX, LOADY, TAIL)                                              \
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                     \
    int64_t i = 0;                                                                  \
    for (; i + 32 <= (n); i += 32) {                                                \
        a0 = _mm256_fmadd_ps(LOADX(i), LOADY(i), a0);                               \
        a1 = _mm256_fmadd_ps(LOADX(i + 8), LOADY(i + 8), a1);                       \
        a2 = _mm256_fmadd_ps(LOADX(i + 16), LOADY(i + 16), a2);                     \
        a3 = _mm256_fmadd_ps(LOADX(i + 24), LOADY(i + 24), a3);                     \
    }                                                                               \
    for (; i + 8 <= (n); i += 8) a0 = _mm256_fmadd_ps(LOADX(i), LOADY(i), a0);      \
    float sum = avx2_hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))); \
    for (; i < (n); i++) sum += TAIL(i);                                            \
    return sum;

static inline __m256 f16x8(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }

static inline __m256 bf16x8(const uint16_t *p) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

static inline __m256 e5m2x8(const uint8_t *p) {
    const __m128i b = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)p));
    return _mm256_cvtph_ps(_mm_slli_epi16(b, 8));
}

/* E4M3 (bias 7, no infinities, S.1111.111 is NaN). Normal codes become float bits
 * directly (exponent rebiased by 120); subnormal codes (exponent 0) are m * 2^-9,
 * converted from the integer m. No float arithmetic sees a subnormal operand, which
 * some processors handle slowly. */
static inline __m256 e4m3x8(const uint8_t *p) {
    const __m256i b = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
    const __m256i mag = _mm256_and_si256(b, _mm256_set1_epi32(0x7f));
    const __m256 normal = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32(mag, 20), _mm256_set1_epi32(120 << 23)));
    const __m256 sub = _mm256_mul_ps(_mm256_cvtepi32_ps(mag), _mm256_set1_ps(0x1p-9f));
    __m256 v = _mm256_blendv_ps(normal, sub, _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(8), mag)));
    v = _mm256_or_ps(v, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(b, _mm256_set1_epi32(0x80)), 24)));
    const __m256i nan = _mm256_cmpeq_epi32(mag, _mm256_set1_epi32(0x7f));
    return _mm256_or_ps(v, _mm256_castsi256_ps(nan));
}

float cpu_avx2_vec_dot_f32(int64_t n, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
#define LX(i) _mm256_loadu_ps(x + (i))
#define LY(i) _mm256_loadu_ps(y + (i))
#define T(i) x[i] * y[i]
    DOT_LOOP(n, LX, LY, T)
#undef LX
#undef LY
#undef T
}

/* F16: one row against nc (1..4) F16 activation rows; two accumulators per row. */
static inline __attribute__((always_inline)) void f16_tile(int nc, int64_t n, const void *vx, const void *vy,
                                                           size_t ys, float *out) {
    const uint16_t *x = vx;
    const uint16_t *y[4];
    __m256 a0[4], a1[4];
    for (int c = 0; c < nc; c++) {
        y[c] = (const uint16_t *)((const char *)vy + (size_t)c * ys);
        a0[c] = a1[c] = _mm256_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 x0 = f16x8(x + i), x1 = f16x8(x + i + 8);
        for (int c = 0; c < nc; c++) {
            a0[c] = _mm256_fmadd_ps(x0, f16x8(y[c] + i), a0[c]);
            a1[c] = _mm256_fmadd_ps(x1, f16x8(y[c] + i + 8), a1[c]);
        }
    }
    for (; i + 8 <= n; i += 8)
        for (int c = 0; c < nc; c++) a0[c] = _mm256_fmadd_ps(f16x8(x + i), f16x8(y[c] + i), a0[c]);
    for (int c = 0; c < nc; c++) {
        float sum = avx2_hsum_ps(_mm256_add_ps(a0[c], a1[c]));
        for (int64_t j = i; j < n; j++) sum += avx2_fp16(x[j]) * avx2_fp16(y[c][j]);
        out[c] = sum;
    }
}

float cpu_avx2_vec_dot_f16(int64_t n, const void *x, const void *y) {
    float r;
    f16_tile(1, n, x, y, 0, &r);
    return r;
}

void cpu_avx2_vec_dot4_f16(int64_t n, const void *x, const void *y, size_t ys, float *out) {
    f16_tile(4, n, x, y, ys, out);
}

float cpu_avx2_vec_dot_bf16(int64_t n, const void *vx, const void *vy) {
    const uint16_t *x = vx, *y = vy;
#define LX(i) bf16x8(x + (i))
#define LY(i) bf16x8(y + (i))
#define T(i) qg_bf16_to_fp32(x[i]) * qg_bf16_to_fp32(y[i])
    DOT_LOOP(n, LX, LY, T)
#undef LX
#undef LY
#undef T
}

float cpu_avx2_vec_dot_f8_e4m3(int64_t n, const void *vx, const void *vy) {
    const uint8_t *x = vx;
    const float *y = vy;
#define LX(i) e4m3x8(x + (i))
#define LY(i) _mm256_loadu_ps(y + (i))
#define T(i) qg_e4m3_to_fp32(x[i]) * y[i]
    DOT_LOOP(n, LX, LY, T)
#undef LX
#undef LY
#undef T
}

float cpu_avx2_vec_dot_f8_e5m2(int64_t n, const void *vx, const void *vy) {
    const uint8_t *x = vx;
    const float *y = vy;
#define LX(i) e5m2x8(x + (i))
#define LY(i) _mm256_loadu_ps(y + (i))
#define T(i) qg_e5m2_to_fp32(x[i]) * y[i]
    DOT_LOOP(n, LX, LY, T)
#undef LX
#undef LY
#undef T
}

/* 2^(e-127) for an E8M0 byte, NaN for 0xFF. */
static inline float e8m0(uint8_t e) {
    const uint32_t bits = e == 0xff ? 0x7fc00000u : e == 0 ? 0x00400000u : (uint32_t)e << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Each block's 32 products are summed in a block accumulator, then scaled (by a power of
 * two) into the total. */
#define MXFP8_DOT(CONV)                                                                   \
    const qg_block_mxfp8 *x = vx;                                                         \
    const float *y = vy;                                                                  \
    __m256 t0 = _mm256_setzero_ps(), t1 = t0;                                             \
    for (int64_t b = 0; b < n / QG_QK_MXFP8; b++, y += QG_QK_MXFP8) {                     \
        const uint8_t *q = x[b].q;                                                        \
        __m256 p0 = _mm256_mul_ps(CONV(q), _mm256_loadu_ps(y));                           \
        __m256 p1 = _mm256_mul_ps(CONV(q + 8), _mm256_loadu_ps(y + 8));                   \
        p0 = _mm256_fmadd_ps(CONV(q + 16), _mm256_loadu_ps(y + 16), p0);                  \
        p1 = _mm256_fmadd_ps(CONV(q + 24), _mm256_loadu_ps(y + 24), p1);                  \
        const __m256 s = _mm256_set1_ps(e8m0(x[b].e));                                    \
        if (b & 1) t1 = _mm256_fmadd_ps(_mm256_add_ps(p0, p1), s, t1);                    \
        else t0 = _mm256_fmadd_ps(_mm256_add_ps(p0, p1), s, t0);                          \
    }                                                                                     \
    return avx2_hsum_ps(_mm256_add_ps(t0, t1));

float cpu_avx2_vec_dot_mxfp8_e4m3(int64_t n, const void *vx, const void *vy) { MXFP8_DOT(e4m3x8) }

float cpu_avx2_vec_dot_mxfp8_e5m2(int64_t n, const void *vx, const void *vy) { MXFP8_DOT(e5m2x8) }
