/* AVX2 dot products of the float weight types F32, F16 and BF16 against their own type
 * (the FP8 types are in simd_avx2_fp8.c). Elements are converted exactly to float (F16C
 * for halves, a shift for BF16) and multiplied-added into several 8-wide float
 * accumulators. The scalar references add in double, so results differ from them by
 * float rounding only.
 */
#include "simd_avx2.h"

#include "core/quant/quant.h"

/* Loops over the 1..4 activation columns are unrolled so that each column's
 * accumulators stay in registers. */
#define UNROLL_C _Pragma("GCC unroll 4")

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
    UNROLL_C for (int c = 0; c < nc; c++) {
        y[c] = (const uint16_t *)((const char *)vy + (size_t)c * ys);
        a0[c] = a1[c] = _mm256_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
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
