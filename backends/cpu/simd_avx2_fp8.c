/* AVX2 dot products of the FP8 weight types against F32 activations: F8_E4M3, F8_E5M2
 * and the block-scaled MXFP8 (E4M3 or E5M2 elements, one E8M0 power-of-two scale per 32
 * elements), as one row against one column (vec_dot), one row against four columns
 * (vec_dot4: each weight row converted once for the four) and several rows against one
 * column (vec_dot_rows, which lets MUL_MAT stream long runs of rows for mat-vec). All
 * three run the same per-pair operations, so they agree bit for bit.
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
 *
 * In cache the conversions bound the speed (about 6 cycles per 32 E5M2 codes, 7.5 per 32
 * E4M3 on Zen 3; vcvtph2ps from a register and vextracti128 each issue at one per
 * cycle). E5M2 widens 16 codes at a time with 128-bit unpacks straight from memory (no
 * extracts; measured 15-20% faster than 256-bit unpacks; pshufb or pmovzx widening was
 * no faster), while E4M3, which needs the shift and mask as well, does those on 256 bits
 * and extracts (its 128-bit form and staging halves through memory were no faster). Two
 * rows at a time did not pay either, nor did shifting codes into float bits and fixing
 * the exponent with a multiply (3x slower: subnormal codes become float denormals). From
 * DRAM one core streaming a row does not keep enough reads in flight by itself, so every
 * 32 codes the loops prefetch FP8_PREFETCH bytes ahead: each line is asked for twice,
 * which measured faster than once (perhaps because a prefetch is dropped when the miss
 * buffers are full).
 */
#include "simd_avx2.h"

#include "core/quant/quant.h"

#ifndef FP8_PREFETCH
#define FP8_PREFETCH 2048
#endif

/* (a macro: through an inline function GCC 12 at -O2 dropped some of the prefetches) */
#define PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)

#define INLINE static inline __attribute__((always_inline))
/* Loops over columns and unrolled blocks must unroll so accumulators stay in registers. */
#define UNROLL4 _Pragma("GCC unroll 4")

/* The 32 codes at p as four vectors of floats holding elements 0-7, 8-15, 16-23 and 24-31
 * (E4M3 scaled by 2^-8; not for E4M3 NaN, which the callers check; mx: the running
 * maximum of the E4M3 code magnitudes). Unpacking with zero bytes puts each code in the
 * top of a 16-bit lane. */
INLINE void fp8x32(const uint8_t *p, int e4m3, __m256 f[4], __m256i *mx) {
    if (e4m3) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)p);
        const __m256i keep = _mm256_set1_epi16((short)0xBF80);
        /* within 128-bit lanes: lo holds elements 0-7 | 16-23, hi 8-15 | 24-31 */
        const __m256i z = _mm256_setzero_si256();
        const __m256i lo = _mm256_and_si256(_mm256_srai_epi16(_mm256_unpacklo_epi8(z, v), 1), keep);
        const __m256i hi = _mm256_and_si256(_mm256_srai_epi16(_mm256_unpackhi_epi8(z, v), 1), keep);
        *mx = _mm256_max_epu8(*mx, _mm256_and_si256(v, _mm256_set1_epi8(0x7f)));
        f[0] = _mm256_cvtph_ps(_mm256_castsi256_si128(lo));
        f[1] = _mm256_cvtph_ps(_mm256_castsi256_si128(hi));
        f[2] = _mm256_cvtph_ps(_mm256_extracti128_si256(lo, 1));
        f[3] = _mm256_cvtph_ps(_mm256_extracti128_si256(hi, 1));
    } else {
        const __m128i z = _mm_setzero_si128();
        const __m128i a = _mm_loadu_si128((const __m128i *)p), b = _mm_loadu_si128((const __m128i *)(p + 16));
        f[0] = _mm256_cvtph_ps(_mm_unpacklo_epi8(z, a));
        f[1] = _mm256_cvtph_ps(_mm_unpackhi_epi8(z, a));
        f[2] = _mm256_cvtph_ps(_mm_unpacklo_epi8(z, b));
        f[3] = _mm256_cvtph_ps(_mm_unpackhi_epi8(z, b));
    }
}

/* Whether that magnitude maximum is an E4M3 NaN (S.1111.111). */
INLINE bool has_nan(int e4m3, __m256i mx) {
    return e4m3 && _mm256_movemask_epi8(_mm256_cmpeq_epi8(mx, _mm256_set1_epi8(0x7f))) != 0;
}

static inline float fp8_scalar(uint8_t c, int e4m3) { return e4m3 ? qg_e4m3_to_fp32(c) : qg_e5m2_to_fp32(c); }

/* The exact scalar loop, for rows holding E4M3 NaN codes (rare). */
static float f8_dot_special(int64_t n, const uint8_t *x, const float *y, int e4m3) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += fp8_scalar(x[i], e4m3) * y[i];
    return sum;
}

static inline const float *col(const float *y, size_t ys, int c) {
    return (const float *)((const char *)y + (size_t)c * ys);
}

/* One weight row x against nc (1 or 4) columns y, y + ys bytes: four accumulators per
 * column, one per group of 8 elements, then ((a0 + a1) + (a2 + a3)) summed, scaled back
 * and the tail added in order. out[c] does not depend on nc. */
INLINE void f8_tile(int64_t n, const uint8_t *x, const float *y, size_t ys, int nc, int e4m3, float *out) {
    __m256 a[4][4];
    for (int c = 0; c < 4; c++)
        for (int j = 0; j < 4; j++) a[c][j] = _mm256_setzero_ps();
    __m256i mx = _mm256_setzero_si256();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        PREFETCH(x + i + FP8_PREFETCH);
        __m256 f[4];
        fp8x32(x + i, e4m3, f, &mx);
        UNROLL4 for (int c = 0; c < nc; c++) {
            const float *yc = col(y, ys, c) + i;
            a[c][0] = _mm256_fmadd_ps(f[0], _mm256_loadu_ps(yc), a[c][0]);
            a[c][1] = _mm256_fmadd_ps(f[1], _mm256_loadu_ps(yc + 8), a[c][1]);
            a[c][2] = _mm256_fmadd_ps(f[2], _mm256_loadu_ps(yc + 16), a[c][2]);
            a[c][3] = _mm256_fmadd_ps(f[3], _mm256_loadu_ps(yc + 24), a[c][3]);
        }
    }
    const bool nan = has_nan(e4m3, mx);
    for (int c = 0; c < nc; c++) {
        const float *yc = col(y, ys, c);
        if (nan) {
            out[c] = f8_dot_special(n, x, yc, e4m3);
            continue;
        }
        float sum = avx2_hsum_ps(_mm256_add_ps(_mm256_add_ps(a[c][0], a[c][1]), _mm256_add_ps(a[c][2], a[c][3])));
        if (e4m3) sum *= 256.0f;
        for (int64_t t = i; t < n; t++) sum += fp8_scalar(x[t], e4m3) * yc[t];
        out[c] = sum;
    }
}

/* 2^(e-127) for every E8M0 byte e (NaN for 0xFF), read with a broadcast load. */
#define E8M0_BITS(e) ((e) == 0 ? 0x00400000u : (e) == 255 ? 0x7fc00000u : (uint32_t)(e) << 23)
#define E8M0_4(e) E8M0_BITS(e), E8M0_BITS((e) + 1), E8M0_BITS((e) + 2), E8M0_BITS((e) + 3)
#define E8M0_16(e) E8M0_4(e), E8M0_4((e) + 4), E8M0_4((e) + 8), E8M0_4((e) + 12)
#define E8M0_64(e) E8M0_16(e), E8M0_16((e) + 16), E8M0_16((e) + 32), E8M0_16((e) + 48)
static const union {
    uint32_t bits[256];
    float f[256];
} e8m0_table = {{E8M0_64(0), E8M0_64(64), E8M0_64(128), E8M0_64(192)}};

static inline float e8m0(uint8_t e) { return e8m0_table.f[e]; }

/* The exact scalar loop for MXFP8 rows holding E4M3 NaN codes. */
static float mxfp8_dot_special(int64_t n, const qg_block_mxfp8 *x, const float *y, int e4m3) {
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QG_QK_MXFP8; b++, y += QG_QK_MXFP8)
        sum += f8_dot_special(QG_QK_MXFP8, x[b].q, y, e4m3) * e8m0(x[b].e);
    return sum;
}

/* One block's converted elements f against 32 floats at y: the block's products summed
 * in a block accumulator, then scaled by the power of two s into the running total t. */
INLINE __m256 mx_block(const __m256 f[4], const float *y, __m256 s, __m256 t) {
    __m256 p0 = _mm256_mul_ps(f[0], _mm256_loadu_ps(y));
    __m256 p1 = _mm256_mul_ps(f[1], _mm256_loadu_ps(y + 8));
    p0 = _mm256_fmadd_ps(f[2], _mm256_loadu_ps(y + 16), p0);
    p1 = _mm256_fmadd_ps(f[3], _mm256_loadu_ps(y + 24), p1);
    return _mm256_fmadd_ps(_mm256_add_ps(p0, p1), s, t);
}

/* MXFP8 row x against nc (1 or 4) columns: two running totals per column (even and odd
 * blocks, so consecutive blocks do not wait on each other), a prefetch per block. */
INLINE void mx_tile(int64_t n, const qg_block_mxfp8 *x, const float *y, size_t ys, int nc, int e4m3, float *out) {
    __m256 t[4][2];
    for (int c = 0; c < 4; c++) t[c][0] = t[c][1] = _mm256_setzero_ps();
    __m256i mx = _mm256_setzero_si256();
    const int64_t nb = n / QG_QK_MXFP8;
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        UNROLL4 for (int h = 0; h < 2; h++) {
            const qg_block_mxfp8 *blk = x + b + h;
            PREFETCH((const char *)blk + FP8_PREFETCH);
            __m256 f[4];
            fp8x32(blk->q, e4m3, f, &mx);
            const __m256 s = _mm256_broadcast_ss(&e8m0_table.f[blk->e]);
            UNROLL4 for (int c = 0; c < nc; c++) t[c][h] =
                mx_block(f, col(y, ys, c) + (b + h) * QG_QK_MXFP8, s, t[c][h]);
        }
    }
    if (b < nb) {
        __m256 f[4];
        fp8x32(x[b].q, e4m3, f, &mx);
        const __m256 s = _mm256_broadcast_ss(&e8m0_table.f[x[b].e]);
        UNROLL4 for (int c = 0; c < nc; c++) t[c][0] =
            mx_block(f, col(y, ys, c) + b * QG_QK_MXFP8, s, t[c][0]);
    }
    const bool nan = has_nan(e4m3, mx);
    for (int c = 0; c < nc; c++) {
        if (nan) {
            out[c] = mxfp8_dot_special(n, x, col(y, ys, c), e4m3);
            continue;
        }
        const float sum = avx2_hsum_ps(_mm256_add_ps(t[c][0], t[c][1]));
        out[c] = e4m3 ? sum * 256.0f : sum;
    }
}

/* The exported functions of one type: T(n, x, y, ys, nc, out) is its tile. The row loop
 * calls vec_dot (kept out of line: inlined into the loop, the constants spilled and the
 * in-cache speed dropped by 4%). */
#define FP8_FNS(name, T)                                                                                   \
    __attribute__((noinline)) float cpu_avx2_vec_dot_##name(int64_t n, const void *x, const void *y) {   \
        float r;                                                                                           \
        T(n, x, y, 0, 1, &r);                                                                              \
        return r;                                                                                          \
    }                                                                                                      \
    void cpu_avx2_vec_dot4_##name(int64_t n, const void *x, const void *y, size_t ys, float *out) {       \
        T(n, x, y, ys, 4, out);                                                                            \
    }                                                                                                      \
    void cpu_avx2_vec_dot_rows_##name(int64_t n, const void *x, size_t xs, const void *y, float *out,     \
                                      int nrows) {                                                         \
        for (int r = 0; r < nrows; r++)                                                                    \
            out[r] = cpu_avx2_vec_dot_##name(n, (const char *)x + (size_t)r * xs, y);                      \
    }

#define T_E4M3(n, x, y, ys, nc, out) f8_tile(n, x, y, ys, nc, 1, out)
#define T_E5M2(n, x, y, ys, nc, out) f8_tile(n, x, y, ys, nc, 0, out)
#define T_MX_E4M3(n, x, y, ys, nc, out) mx_tile(n, x, y, ys, nc, 1, out)
#define T_MX_E5M2(n, x, y, ys, nc, out) mx_tile(n, x, y, ys, nc, 0, out)
FP8_FNS(f8_e4m3, T_E4M3)
FP8_FNS(f8_e5m2, T_E5M2)
FP8_FNS(mxfp8_e4m3, T_MX_E4M3)
FP8_FNS(mxfp8_e5m2, T_MX_E5M2)
