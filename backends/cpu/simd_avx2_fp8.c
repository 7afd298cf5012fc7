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
 *
 * In cache, the conversions bound the speed (on Zen 3 the F16C conversions and the byte
 * unpacking compete for the same pipes; the variants tried, including going through
 * memory, were no faster). From DRAM one core streaming a row does not keep enough reads
 * in flight by itself, so every 32 codes the loops prefetch FP8_PREFETCH bytes ahead:
 * each line is asked for twice, which measured faster than once (perhaps because a
 * prefetch is dropped when the miss buffers are full).
 */
#include "simd_avx2.h"

#include "core/quant/quant.h"

#ifndef FP8_PREFETCH
#define FP8_PREFETCH 2048
#endif

/* (a macro: through an inline function GCC 12 at -O2 dropped some of the prefetches) */
#define PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)

/* The 32 codes at p as four vectors of floats holding elements 0-7, 8-15, 16-23 and 24-31
 * (E4M3 scaled by 2^-8; not for E4M3 NaN, which the callers check). Unpacking with zero
 * bytes puts each code in the top of a 16-bit lane (within 128-bit lanes, hence the
 * order of the halves). */
static inline __attribute__((always_inline)) void fp8x32(__m256i v, int e4m3, __m256 f[4]) {
    __m256i lo = _mm256_unpacklo_epi8(_mm256_setzero_si256(), v); /* elements 0-7 | 16-23 */
    __m256i hi = _mm256_unpackhi_epi8(_mm256_setzero_si256(), v); /* 8-15 | 24-31 */
    if (e4m3) {
        const __m256i keep = _mm256_set1_epi16((short)0xBF80);
        lo = _mm256_and_si256(_mm256_srai_epi16(lo, 1), keep);
        hi = _mm256_and_si256(_mm256_srai_epi16(hi, 1), keep);
    }
    f[0] = _mm256_cvtph_ps(_mm256_castsi256_si128(lo));
    f[1] = _mm256_cvtph_ps(_mm256_castsi256_si128(hi));
    f[2] = _mm256_cvtph_ps(_mm256_extracti128_si256(lo, 1));
    f[3] = _mm256_cvtph_ps(_mm256_extracti128_si256(hi, 1));
}

/* Running maximum of the code magnitudes (bytes & 0x7F). */
static inline __m256i mag_max(__m256i mx, __m256i v) {
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

/* 32 codes at x against 32 floats at y into four accumulators. */
#define F8_STEP(x, y, a)                                                \
    do {                                                                \
        const __m256i v_ = _mm256_loadu_si256((const __m256i *)(x));   \
        __m256 f_[4];                                                   \
        fp8x32(v_, e4m3, f_);                                           \
        if (e4m3) mx = mag_max(mx, v_);                                 \
        (a)[0] = _mm256_fmadd_ps(f_[0], _mm256_loadu_ps(y), (a)[0]);        \
        (a)[1] = _mm256_fmadd_ps(f_[1], _mm256_loadu_ps((y) + 8), (a)[1]);  \
        (a)[2] = _mm256_fmadd_ps(f_[2], _mm256_loadu_ps((y) + 16), (a)[2]); \
        (a)[3] = _mm256_fmadd_ps(f_[3], _mm256_loadu_ps((y) + 24), (a)[3]); \
    } while (0)

static inline __attribute__((always_inline)) float f8_dot(int64_t n, const uint8_t *x, const float *y, int e4m3) {
    __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    __m256i mx = _mm256_setzero_si256();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        PREFETCH(x + i + FP8_PREFETCH);
        F8_STEP(x + i, y + i, a);
    }
    if (e4m3 && has_nan(mx)) return f8_dot_special(n, x, y, e4m3);
    float sum = avx2_hsum_ps(_mm256_add_ps(_mm256_add_ps(a[0], a[1]), _mm256_add_ps(a[2], a[3])));
    if (e4m3) sum *= 256.0f;
    for (; i < n; i++) sum += fp8_scalar(x[i], e4m3) * y[i];
    return sum;
}

float cpu_avx2_vec_dot_f8_e4m3(int64_t n, const void *x, const void *y) { return f8_dot(n, x, y, 1); }

float cpu_avx2_vec_dot_f8_e5m2(int64_t n, const void *x, const void *y) { return f8_dot(n, x, y, 0); }

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

/* One block: its 32 products summed in a block accumulator, then scaled (by a power of
 * two, broadcast from the table: a load, measured a little faster than building it) into
 * the running total t. */
#define MX_STEP(blk, y, t)                                                                  \
    do {                                                                                    \
        const __m256i v_ = _mm256_loadu_si256((const __m256i *)(blk)->q);                  \
        __m256 f_[4];                                                                       \
        fp8x32(v_, e4m3, f_);                                                               \
        if (e4m3) mx = mag_max(mx, v_);                                                     \
        __m256 p0_ = _mm256_mul_ps(f_[0], _mm256_loadu_ps(y));                              \
        __m256 p1_ = _mm256_mul_ps(f_[1], _mm256_loadu_ps((y) + 8));                        \
        p0_ = _mm256_fmadd_ps(f_[2], _mm256_loadu_ps((y) + 16), p0_);                       \
        p1_ = _mm256_fmadd_ps(f_[3], _mm256_loadu_ps((y) + 24), p1_);                       \
        t = _mm256_fmadd_ps(_mm256_add_ps(p0_, p1_), _mm256_broadcast_ss(&e8m0_table.f[(blk)->e]), t); \
    } while (0)

/* Two running totals (consecutive blocks do not wait on each other); a prefetch per
 * block. */
static inline __attribute__((always_inline)) float mxfp8_dot(int64_t n, const qg_block_mxfp8 *x, const float *y,
                                                             int e4m3) {
    __m256 t0 = _mm256_setzero_ps(), t1 = t0;
    __m256i mx = _mm256_setzero_si256();
    const int64_t nb = n / QG_QK_MXFP8;
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        PREFETCH((const char *)(x + b) + FP8_PREFETCH);
        MX_STEP(x + b, y + b * QG_QK_MXFP8, t0);
        PREFETCH((const char *)(x + b + 1) + FP8_PREFETCH);
        MX_STEP(x + b + 1, y + (b + 1) * QG_QK_MXFP8, t1);
    }
    if (b < nb) MX_STEP(x + b, y + b * QG_QK_MXFP8, t0);
    if (e4m3 && has_nan(mx)) return mxfp8_dot_special(n, x, y, e4m3);
    const float sum = avx2_hsum_ps(_mm256_add_ps(t0, t1));
    return e4m3 ? sum * 256.0f : sum;
}

float cpu_avx2_vec_dot_mxfp8_e4m3(int64_t n, const void *x, const void *y) { return mxfp8_dot(n, x, y, 1); }

float cpu_avx2_vec_dot_mxfp8_e5m2(int64_t n, const void *x, const void *y) { return mxfp8_dot(n, x, y, 0); }
