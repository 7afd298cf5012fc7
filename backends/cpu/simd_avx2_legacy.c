/* AVX2 dot products of the 32-element block types against Q8_0 / Q8_1 activations:
 * Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL and MXFP4.
 *
 * Each block's 32 weight levels are expanded to 32 bytes, multiplied with the 32
 * activation bytes by maddubs/madd into 8 exact int32 partial sums, and those are
 * scaled by d_x * d_y into 8 float accumulators. Signed levels are multiplied as |x|
 * with x's sign moved onto y (y is never -128); unsigned levels (type-1 weights)
 * multiply y directly and add m * s from the Q8_1 block. The vec_dot4 variants expand
 * each weight block once for four activation rows (mat-mat).
 */
#include "simd_avx2.h"

#include <math.h>
#include <string.h>

#include "core/quant/k_internal.h"

/* The 16 IQ4_NL levels and the E2M1 (FP4) values times two, by 4-bit code. */
static const int8_t iq4_levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
static const int8_t e2m1_x2[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

static inline __m256i load_y(const int8_t *qs) { return _mm256_loadu_si256((const __m256i *)qs); }

/* Q5_0 levels minus 16 as signed bytes: the high bit set keeps the nibble (16 + q - 16);
 * clear, q - 16 is the nibble with the top four bits set. */
static inline __m256i q5_0_levels(const qg_block_q5_0 *b) {
    const __m256i hb = avx2_bits_to_bytes(avx2_load_u32(b->qh));
    return _mm256_or_si256(avx2_nibbles(b->qs), _mm256_andnot_si256(hb, _mm256_set1_epi8((char)0xF0)));
}

static inline __m256i q5_1_levels(const qg_block_q5_1 *b) {
    const __m256i hb = avx2_bits_to_bytes(avx2_load_u32(b->qh));
    return _mm256_or_si256(avx2_nibbles(b->qs), _mm256_and_si256(hb, _mm256_set1_epi8(16)));
}

static inline __m256i lut16(const int8_t t[16]) {
    const __m128i v = _mm_loadu_si128((const __m128i *)t);
    return _mm256_set_m128i(v, v);
}

/* Half the E8M0 block scale, 2^(e-128), built from its bits (NaN for e = 0xFF). */
static inline float e8m0_half(uint8_t e) {
    uint32_t bits;
    if (e == 0xff) return NAN;
    if (e >= 2) bits = (uint32_t)(e - 1) << 23;
    else bits = e == 1 ? 0x00400000u : 0x00200000u; /* 2^-127, 2^-128: subnormal */
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* One weight row against nc (1..4) activation rows y + c*ys. Each column has its own
 * accumulator and sees exactly the same operations whatever nc is, so a column's result
 * does not depend on how columns are grouped. LEVELS(b) gives block b's 32 levels as
 * bytes (signed when SIGNED), DX(b) its float scale; MIN adds m * s per block for the
 * type-1 weights. */
#define TILE(name, WB, YB, LEVELS, DX, SIGNED, MIN)                                               \
    static inline __attribute__((always_inline)) void name##_tile(int nc, int64_t n, const void *vx,  \
                                                                  const void *vy, size_t ys, float *out) { \
        const WB *x = vx;                                                                           \
        __m256 acc[4];                                                                              \
        float msum[4];                                                                              \
        for (int c = 0; c < nc; c++) {                                                              \
            acc[c] = _mm256_setzero_ps();                                                           \
            msum[c] = 0.0f;                                                                         \
        }                                                                                           \
        for (int64_t b = 0; b < n / 32; b++) {                                                      \
            const __m256i q = LEVELS(b);                                                            \
            const __m256i uq = SIGNED ? _mm256_sign_epi8(q, q) : q;                                 \
            const float dx = DX(b);                                                                 \
            for (int c = 0; c < nc; c++) {                                                          \
                const YB *yb = (const YB *)((const char *)vy + (size_t)c * ys) + b;                 \
                __m256i yv = load_y(yb->qs);                                                        \
                if (SIGNED) yv = _mm256_sign_epi8(yv, q);                                           \
                const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(uq, yv), _mm256_set1_epi16(1)); \
                acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(dx * avx2_fp16(yb->d)), _mm256_cvtepi32_ps(s), acc[c]); \
                MIN(b, yb, msum[c]);                                                                \
            }                                                                                       \
        }                                                                                           \
        for (int c = 0; c < nc; c++) out[c] = avx2_hsum_ps(acc[c]) + msum[c];                      \
    }                                                                                               \
    float cpu_avx2_vec_dot_##name(int64_t n, const void *x, const void *y) {                        \
        float r;                                                                                    \
        name##_tile(1, n, x, y, 0, &r);                                                             \
        return r;                                                                                   \
    }                                                                                               \
    void cpu_avx2_vec_dot4_##name(int64_t n, const void *x, const void *y, size_t ys, float *out) { \
        name##_tile(4, n, x, y, ys, out);                                                           \
    }

#define Q4_0_L(b) _mm256_sub_epi8(avx2_nibbles(x[b].qs), _mm256_set1_epi8(8))
#define Q4_1_L(b) avx2_nibbles(x[b].qs)
#define Q5_0_L(b) q5_0_levels(&x[b])
#define Q5_1_L(b) q5_1_levels(&x[b])
#define Q8_0_L(b) load_y(x[b].qs)
#define IQ4_L(b) _mm256_shuffle_epi8(lut16(iq4_levels), avx2_nibbles(x[b].qs))
#define FP4_L(b) _mm256_shuffle_epi8(lut16(e2m1_x2), avx2_nibbles(x[b].qs))
#define D16(b) avx2_fp16(x[b].d)
#define NO_MIN(b, yb, acc) ((void)0)
#define ADD_MIN(b, yb, acc) (acc += avx2_fp16(x[b].m) * avx2_fp16((yb)->s))
#define E8(b) e8m0_half(x[b].e)

TILE(q4_0, qg_block_q4_0, qg_block_q8_0, Q4_0_L, D16, 1, NO_MIN)
TILE(q4_1, qg_block_q4_1, qg_block_q8_1, Q4_1_L, D16, 0, ADD_MIN)
TILE(q5_0, qg_block_q5_0, qg_block_q8_0, Q5_0_L, D16, 1, NO_MIN)
TILE(q5_1, qg_block_q5_1, qg_block_q8_1, Q5_1_L, D16, 0, ADD_MIN)
TILE(q8_0, qg_block_q8_0, qg_block_q8_0, Q8_0_L, D16, 1, NO_MIN)
TILE(iq4_nl, qg_block_iq4_nl, qg_block_q8_0, IQ4_L, D16, 1, NO_MIN)
TILE(mxfp4, qg_block_mxfp4, qg_block_q8_0, FP4_L, E8, 1, NO_MIN)
