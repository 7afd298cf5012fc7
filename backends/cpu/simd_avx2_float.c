/* AVX2 dot products of the float weight types F32, F16 and BF16 against their own type
 * (the FP8 types are in simd_avx2_fp8.c). Elements are converted exactly to float (F16C
 * for halves; BF16 bits moved to the top of a 32-bit lane) and multiplied-added into
 * several 8-wide float accumulators. The scalar references add in double, so results
 * differ from them by float rounding only.
 *
 * A mat-vec streams each weight row once from memory; one core does not keep enough
 * reads in flight by itself, so the F16 and BF16 loops prefetch the weight row
 * FLOAT_PREFETCH bytes ahead, twice per 64-byte line (as in simd_avx2_fp8.c; measured on
 * Zen 3). BF16 widens by interleaving with zeros (below), one instruction per eight
 * elements instead of two.
 */
#include "simd_avx2.h"

#include "core/quant/quant.h"

#ifndef FLOAT_PREFETCH
#define FLOAT_PREFETCH 2048
#endif

/* Loops over the 1..4 activation columns are unrolled so that each column's
 * accumulators stay in registers. */
#define UNROLL_C _Pragma("GCC unroll 4")

/* (a macro: through an inline function GCC 12 at -O2 dropped some of the prefetches) */
#define PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)

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

/* F16: one row against nc (1..4) F16 activation rows; two accumulators per row. (Four
 * per row made a single row about 1.3x faster in cache, but vec_dot4 must repeat
 * vec_dot's operations exactly, and sixteen accumulators, or the columns in two pairs,
 * made it 15-20% slower.) */
static inline __attribute__((always_inline)) void f16_tile(int nc, int64_t n, const void *vx, const void *vy,
                                                           size_t ys, float *out) {
    const uint16_t *x = vx;
    const uint16_t *y[4];
    __m256 a0[4], a1[4];
    UNROLL_C for (int c = 0; c < nc; c++) {
        y[c] = (const uint16_t *)((const char *)vy + (size_t)c * ys);
        a0[c] = a1[c] = _mm256_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        PREFETCH((const char *)(x + i) + FLOAT_PREFETCH);
        const __m256 x0 = f16x8(x + i), x1 = f16x8(x + i + 8);
        UNROLL_C for (int c = 0; c < nc; c++) {
            a0[c] = _mm256_fmadd_ps(x0, f16x8(y[c] + i), a0[c]);
            a1[c] = _mm256_fmadd_ps(x1, f16x8(y[c] + i + 8), a1[c]);
        }
    }
    for (; i + 8 <= n; i += 8)
        UNROLL_C for (int c = 0; c < nc; c++) a0[c] = _mm256_fmadd_ps(f16x8(x + i), f16x8(y[c] + i), a0[c]);
    UNROLL_C for (int c = 0; c < nc; c++) {
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

/* BF16: interleaving 16 halves with zeros puts each in the top of a 32-bit lane, which is
 * its float. The unpacks work within 128-bit lanes, so elements come out permuted, but x
 * and y alike: the products pair up as they should. */
static inline void bf16x16(const uint16_t *p, __m256 *lo, __m256 *hi) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)p);
    *lo = _mm256_castsi256_ps(_mm256_unpacklo_epi16(_mm256_setzero_si256(), v));
    *hi = _mm256_castsi256_ps(_mm256_unpackhi_epi16(_mm256_setzero_si256(), v));
}

float cpu_avx2_vec_dot_bf16(int64_t n, const void *vx, const void *vy) {
    const uint16_t *x = vx, *y = vy;
    __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        PREFETCH((const char *)(x + i) + FLOAT_PREFETCH);
        PREFETCH((const char *)(x + i + 16) + FLOAT_PREFETCH);
        __m256 x0, x1, x2, x3, y0, y1, y2, y3;
        bf16x16(x + i, &x0, &x1);
        bf16x16(y + i, &y0, &y1);
        bf16x16(x + i + 16, &x2, &x3);
        bf16x16(y + i + 16, &y2, &y3);
        a[0] = _mm256_fmadd_ps(x0, y0, a[0]);
        a[1] = _mm256_fmadd_ps(x1, y1, a[1]);
        a[2] = _mm256_fmadd_ps(x2, y2, a[2]);
        a[3] = _mm256_fmadd_ps(x3, y3, a[3]);
    }
    float sum = avx2_hsum_ps(_mm256_add_ps(_mm256_add_ps(a[0], a[1]), _mm256_add_ps(a[2], a[3])));
    for (; i < n; i++) sum += qg_bf16_to_fp32(x[i]) * qg_bf16_to_fp32(y[i]);
    return sum;
}
