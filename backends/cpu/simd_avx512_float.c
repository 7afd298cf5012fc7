/* AVX-512 dot products of the float weight types F32, F16 and BF16 against their own
 * type. Elements are converted exactly to float (VCVTPH2PS for halves; BF16 bits moved to
 * the top of a 32-bit lane) and multiplied-added into 16-wide float accumulators; the
 * last n % 16 elements go through masked loads (masked-off lanes read as zero), so there
 * is no scalar tail. The scalar references add in double: results differ from them by
 * float rounding only.
 *
 * cpu_avx512bf16_vec_dot_bf16 uses VDPBF16PS (AVX512_BF16), 32 pairs per instruction.
 * Its products of two BF16 values are exact in float, but the instruction flushes
 * subnormal inputs and outputs to zero whatever MXCSR says (see simd_avx512.h).
 */
#include "simd_avx512.h"

#include <immintrin.h>

static inline __mmask16 tail16(int64_t left) { return (__mmask16)((1u << left) - 1u); }

float cpu_avx512_vec_dot_f32(int64_t n, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 32), _mm512_loadu_ps(y + i + 32), a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), _mm512_loadu_ps(y + i + 48), a3);
    }
    for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a0);
    if (i < n) {
        const __mmask16 m = tail16(n - i);
        a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i), a1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

static inline __m512 f16x16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }

static inline __m512 f16x16_mask(__mmask16 m, const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

/* F16: one row against nc (1..4) rows; two accumulators per row. vec_dot4 must repeat
 * vec_dot's operations exactly, so both are this one function. */
static inline __attribute__((always_inline)) void f16_tile(int nc, int64_t n, const void *vx, const void *vy,
                                                           size_t ys, float *out) {
    const uint16_t *x = vx;
    const uint16_t *y[4];
    __m512 a0[4], a1[4];
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; c++) {
        y[c] = (const uint16_t *)((const char *)vy + (size_t)c * ys);
        a0[c] = a1[c] = _mm512_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 x0 = f16x16(x + i), x1 = f16x16(x + i + 16);
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; c++) {
            a0[c] = _mm512_fmadd_ps(x0, f16x16(y[c] + i), a0[c]);
            a1[c] = _mm512_fmadd_ps(x1, f16x16(y[c] + i + 16), a1[c]);
        }
    }
    for (; i + 16 <= n; i += 16) {
        const __m512 x0 = f16x16(x + i);
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; c++) a0[c] = _mm512_fmadd_ps(x0, f16x16(y[c] + i), a0[c]);
    }
    if (i < n) {
        const __mmask16 m = tail16(n - i);
        const __m512 x0 = f16x16_mask(m, x + i);
        _Pragma("GCC unroll 4") for (int c = 0; c < nc; c++)
            a1[c] = _mm512_fmadd_ps(x0, f16x16_mask(m, y[c] + i), a1[c]);
    }
    _Pragma("GCC unroll 4") for (int c = 0; c < nc; c++) out[c] = _mm512_reduce_add_ps(_mm512_add_ps(a0[c], a1[c]));
}

float cpu_avx512_vec_dot_f16(int64_t n, const void *x, const void *y) {
    float r;
    f16_tile(1, n, x, y, 0, &r);
    return r;
}

void cpu_avx512_vec_dot4_f16(int64_t n, const void *x, const void *y, size_t ys, float *out) {
    f16_tile(4, n, x, y, ys, out);
}

/* 16 BF16 values -> 16 floats (the bits shifted into the top half of each lane). */
static inline __m512 bf16x16(__m256i v) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16)); }

float cpu_avx512_vec_dot_bf16(int64_t n, const void *vx, const void *vy) {
    const uint16_t *x = vx, *y = vy;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
#define LD(p, k) bf16x16(_mm256_loadu_si256((const __m256i *)((p) + i + (k))))
        a0 = _mm512_fmadd_ps(LD(x, 0), LD(y, 0), a0);
        a1 = _mm512_fmadd_ps(LD(x, 16), LD(y, 16), a1);
        a2 = _mm512_fmadd_ps(LD(x, 32), LD(y, 32), a2);
        a3 = _mm512_fmadd_ps(LD(x, 48), LD(y, 48), a3);
    }
    for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(LD(x, 0), LD(y, 0), a0);
#undef LD
    if (i < n) {
        const __mmask16 m = tail16(n - i);
        a1 = _mm512_fmadd_ps(bf16x16(_mm256_maskz_loadu_epi16(m, x + i)), bf16x16(_mm256_maskz_loadu_epi16(m, y + i)),
                             a1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

static inline __m512bh bh32(__m512i v) { return (__m512bh)v; }

float cpu_avx512bf16_vec_dot_bf16(int64_t n, const void *vx, const void *vy) {
    const uint16_t *x = vx, *y = vy;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_dpbf16_ps(a0, bh32(_mm512_loadu_si512(x + i)), bh32(_mm512_loadu_si512(y + i)));
        a1 = _mm512_dpbf16_ps(a1, bh32(_mm512_loadu_si512(x + i + 32)), bh32(_mm512_loadu_si512(y + i + 32)));
    }
    for (; i < n; i += 32) {
        const int64_t left = n - i < 32 ? n - i : 32;
        const __mmask32 m = (__mmask32)(left == 32 ? 0xFFFFFFFFu : (1u << left) - 1u);
        a0 = _mm512_dpbf16_ps(a0, bh32(_mm512_maskz_loadu_epi16(m, x + i)), bh32(_mm512_maskz_loadu_epi16(m, y + i)));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}
