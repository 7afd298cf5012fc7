/* AVX2 dot products of the 32-element block types against Q8_0 / Q8_1 activations:
 * Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL and MXFP4.
 *
 * Each block's 32 weight levels are expanded to 32 bytes, multiplied with the 32
 * activation bytes by maddubs/madd into 8 exact int32 partial sums, and those are
 * scaled by d_x * d_y into float accumulators. Four blocks go per step: their eight
 * f16 scales are packed in a general register and converted by one instruction, and the
 * nibble types expand two blocks per 256-bit vector (see TILE). Signed levels are multiplied as |x|
 * with x's sign moved onto y (y is never -128); unsigned levels (type-1 weights)
 * multiply y directly and add m * s from the Q8_1 block. The vec_dot4 variants expand
 * each weight block once for four activation rows (mat-mat).
 */
#include "simd_avx2.h"

#include <math.h>
#include <string.h>

#include "core/quant/k_internal.h"

/* Loops over the 1..4 activation columns are unrolled so that each column's
 * accumulators stay in registers. */
#define UNROLL_C _Pragma("GCC unroll 4")

/* The 16 IQ4_NL levels and the E2M1 (FP4) values times two, by 4-bit code. */
static const int8_t iq4_levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
static const int8_t e2m1_x2[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

static inline __m256i load_y(const int8_t *qs) { return _mm256_loadu_si256((const __m256i *)qs); }

/* Q5_0 levels minus 16 as signed bytes: the high bit set keeps the nibble (16 + q - 16);
 * clear, q - 16 is the nibble with the top four bits set. */
/* 32 bits at p -> 32 bytes, byte j = 0xFF when bit j is set (the four bytes are
 * broadcast straight from memory). */
static inline __m256i bits_to_bytes_mem(const uint8_t *p) {
    const __m256i v = _mm256_shuffle_epi8(_mm256_broadcastd_epi32(_mm_loadu_si32(p)),
                                          _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2,
                                                           2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i sel = _mm256_set1_epi64x(0x8040201008040201ll);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, sel), sel);
}

static inline __m256i q5_0_levels(const qg_block_q5_0 *b) {
    const __m256i hb = bits_to_bytes_mem(b->qh);
    return _mm256_or_si256(avx2_nibbles(b->qs), _mm256_andnot_si256(hb, _mm256_set1_epi8((char)0xF0)));
}

static inline __m256i q5_1_levels(const qg_block_q5_1 *b) {
    const __m256i hb = bits_to_bytes_mem(b->qh);
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

/* Four f16 values (at p, p + stride, p + 2 stride, p + 3 stride bytes) as four floats.
 * The halves are packed in a general register (integer ALUs, idle in these loops) so the
 * vector side pays one move and one conversion for four blocks. */
static inline __m128 f16x4_strided(const void *p, size_t stride) {
    const unsigned char *b = p;
    uint16_t h[4];
    for (int j = 0; j < 4; j++) memcpy(&h[j], b + (size_t)j * stride, sizeof h[j]);
    const uint64_t packed = (uint64_t)h[0] | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 32 | (uint64_t)h[3] << 48;
    return _mm_cvtph_ps(_mm_cvtsi64_si128((long long)packed));
}

static inline float hsum128(__m128 v) {
    v = _mm_add_ps(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(_mm_add_ss(v, _mm_movehdup_ps(v)));
}

/* Lane j (0..3) of v in all eight lanes. */
static inline __m256 lane_bcast(__m128 v, int j) {
    return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(v), _mm256_set1_epi32(j));
}

/* Two blocks' activations arranged like PAIR_LEVELS: [ya[0..15] | yb[0..15]] and
 * [ya[16..31] | yb[16..31]]. The sum of levels times activations is returned as floats,
 * lanes 0-3 holding block a's part, lanes 4-7 block b's. is_signed 0: unsigned levels;
 * 1: signed levels (sign moved onto y); 8: unsigned nibbles u standing for u - 8, the
 * offset taken back through maddubs(8, y) (int16 sums stay within 8 * 127 * 4). */
static inline __attribute__((always_inline)) __m256 pair_isum(__m256i lo, __m256i hi, const int8_t *ya,
                                                              const int8_t *yb, int is_signed, int wide) {
    __m256i y0 = _mm256_loadu2_m128i((const __m128i *)yb, (const __m128i *)ya);
    __m256i y1 = _mm256_loadu2_m128i((const __m128i *)(yb + 16), (const __m128i *)(ya + 16));
    if (is_signed == 1) {
        y0 = _mm256_sign_epi8(y0, lo);
        y1 = _mm256_sign_epi8(y1, hi);
        lo = _mm256_sign_epi8(lo, lo);
        hi = _mm256_sign_epi8(hi, hi);
    }
    const __m256i one = _mm256_set1_epi16(1);
    __m256i p0 = _mm256_maddubs_epi16(lo, y0), p1 = _mm256_maddubs_epi16(hi, y1);
    if (is_signed >= 2) { /* levels are u - is_signed: take is_signed * y back off */
        const __m256i off = _mm256_set1_epi8((char)is_signed);
        p0 = _mm256_sub_epi16(p0, _mm256_maddubs_epi16(off, y0));
        p1 = _mm256_sub_epi16(p1, _mm256_maddubs_epi16(off, y1));
    }
    const __m256i s = wide ? _mm256_add_epi32(_mm256_madd_epi16(p0, one), _mm256_madd_epi16(p1, one))
                           : _mm256_madd_epi16(_mm256_add_epi16(p0, p1), one);
    return _mm256_cvtepi32_ps(s);
}

/* Nibbles of two blocks pa, pb: lo = [a low nibbles | b low nibbles], hi the same
 * for the high nibbles. */
#define NIBBLE_PAIR(pa, pb, lo, hi)                                                    \
    do {                                                                               \
        const __m256i v_ = _mm256_loadu2_m128i((const __m128i *)(pb)->qs, (const __m128i *)(pa)->qs); \
        lo = _mm256_and_si256(v_, _mm256_set1_epi8(15));                               \
        hi = _mm256_and_si256(_mm256_srli_epi16(v_, 4), _mm256_set1_epi8(15));         \
    } while (0)
#define LUT_PAIR(T, pa, pb, lo, hi)                                                    \
    do {                                                                               \
        NIBBLE_PAIR(pa, pb, lo, hi);                                                   \
        lo = _mm256_shuffle_epi8(lut16(T), lo);                                        \
        hi = _mm256_shuffle_epi8(lut16(T), hi);                                        \
    } while (0)
#define IQ4_PAIR(pa, pb, lo, hi) LUT_PAIR(iq4_levels, pa, pb, lo, hi)
#define FP4_PAIR(pa, pb, lo, hi) LUT_PAIR(e2m1_x2, pa, pb, lo, hi)
#define NO_PAIR(pa, pb, lo, hi) ((void)(pa), (void)(pb), lo = hi = _mm256_setzero_si256())

/* One weight row against nc (1..4) activation rows y + c*ys. Each column has its own
 * accumulators and sees exactly the same operations whatever nc is, so a column's result
 * does not depend on how columns are grouped. LEVELS(b) gives block b's 32 levels as
 * bytes (signed when SIGNED), DX(b) its float scale and DX4(b) those of blocks b..b+3;
 * MIN4 / MIN add m * s per block for the type-1 weights.
 * Blocks go four at a time: their scales are converted together, and the four products
 * alternate between two accumulators so that consecutive FMAs do not wait on each other.
 * Nibble types (PAIR) expand two blocks per 256-bit vector with PAIR_LEVELS, so one
 * conversion and one FMA serve two blocks (PAIR_SIGNED is pair_isum's is_signed; WIDE:
 * levels too large to add two maddubs results in int16). */
#define TILE(name, WB, YB, LEVELS, DX, DX4, SIGNED, MIN, MIN4, PAIR, PAIR_LEVELS, PAIR_SIGNED, WIDE)      \
    static inline __attribute__((always_inline)) __m256 name##_isum(__m256i q, const YB *yb) {      \
        __m256i yv = load_y(yb->qs);                                                                \
        const __m256i uq = SIGNED ? _mm256_sign_epi8(q, q) : q;                                     \
        if (SIGNED) yv = _mm256_sign_epi8(yv, q);                                                   \
        return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(uq, yv), _mm256_set1_epi16(1))); \
    }                                                                                               \
    static inline __attribute__((always_inline)) void name##_tile(int nc, int64_t n, const void *vx,  \
                                                                  const void *vy, size_t ys, float *out) { \
        const WB *x = vx;                                                                           \
        const int64_t nb = n / 32;                                                                  \
        __m256 acc0[4], acc1[4];                                                                    \
        __m128 macc[4];                                                                             \
        float msum[4];                                                                              \
        const YB *y[4];                                                                             \
        UNROLL_C for (int c = 0; c < nc; c++) {                                                              \
            acc0[c] = acc1[c] = _mm256_setzero_ps();                                                \
            macc[c] = _mm_setzero_ps();                                                             \
            msum[c] = 0.0f;                                                                         \
            y[c] = (const YB *)((const char *)vy + (size_t)c * ys);                                 \
        }                                                                                           \
        int64_t b = 0;                                                                              \
        for (; b + 4 <= nb; b += 4) {                                                               \
            const __m128 dx = DX4(b);                                                               \
            if (PAIR) {                                                                             \
                /* nibble types: blocks b, b+1 (and b+2, b+3) share one 256-bit vector of      \
                 * levels, low nibbles in one, high nibbles in the other */                   \
                __m256i lo0, hi0, lo1, hi1;                                                         \
                PAIR_LEVELS(&x[b], &x[b + 1], lo0, hi0);                                        \
                PAIR_LEVELS(&x[b + 2], &x[b + 3], lo1, hi1);                                    \
                UNROLL_C for (int c = 0; c < nc; c++) {                                                      \
                    const YB *yb = y[c] + b;                                                        \
                    const __m256 d = _mm256_castps128_ps256(_mm_mul_ps(dx, f16x4_strided(&yb->d, sizeof(YB)))); \
                    acc0[c] = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(d, _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1)), \
                                              pair_isum(lo0, hi0, yb[0].qs, yb[1].qs, PAIR_SIGNED, WIDE), acc0[c]); \
                    acc1[c] = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(d, _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3)), \
                                              pair_isum(lo1, hi1, yb[2].qs, yb[3].qs, PAIR_SIGNED, WIDE), acc1[c]); \
                    MIN4(b, yb, macc[c]);                                                           \
                }                                                                                   \
                continue;                                                                           \
            }                                                                                       \
            const __m256i q0 = LEVELS(b), q1 = LEVELS(b + 1), q2 = LEVELS(b + 2), q3 = LEVELS(b + 3); \
            UNROLL_C for (int c = 0; c < nc; c++) {                                                          \
                const YB *yb = y[c] + b;                                                            \
                const __m128 d = _mm_mul_ps(dx, f16x4_strided(&yb->d, sizeof(YB)));                 \
                acc0[c] = _mm256_fmadd_ps(lane_bcast(d, 0), name##_isum(q0, yb), acc0[c]);          \
                acc1[c] = _mm256_fmadd_ps(lane_bcast(d, 1), name##_isum(q1, yb + 1), acc1[c]);      \
                acc0[c] = _mm256_fmadd_ps(lane_bcast(d, 2), name##_isum(q2, yb + 2), acc0[c]);      \
                acc1[c] = _mm256_fmadd_ps(lane_bcast(d, 3), name##_isum(q3, yb + 3), acc1[c]);      \
                MIN4(b, yb, macc[c]);                                                               \
            }                                                                                       \
        }                                                                                           \
        for (; b < nb; b++) {                                                                       \
            const __m256i q = LEVELS(b);                                                            \
            const float dx = DX(b);                                                                 \
            UNROLL_C for (int c = 0; c < nc; c++) {                                                          \
                const YB *yb = y[c] + b;                                                            \
                acc0[c] = _mm256_fmadd_ps(_mm256_set1_ps(dx * avx2_fp16(yb->d)), name##_isum(q, yb), acc0[c]); \
                MIN(b, yb, msum[c]);                                                                \
            }                                                                                       \
        }                                                                                           \
        UNROLL_C for (int c = 0; c < nc; c++)                                                                \
            out[c] = avx2_hsum_ps(_mm256_add_ps(acc0[c], acc1[c])) + (hsum128(macc[c]) + msum[c]); \
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
#define D16_4(b) f16x4_strided(&x[b].d, sizeof x[0])
#define NO_MIN(b, yb, acc) ((void)0)
#define ADD_MIN(b, yb, acc) (acc += avx2_fp16(x[b].m) * avx2_fp16((yb)->s))
#define NO_MIN4(b, yb, acc) ((void)0)
#define ADD_MIN4(b, yb, acc) \
    (acc = _mm_fmadd_ps(f16x4_strided(&x[b].m, sizeof x[0]), f16x4_strided(&(yb)->s, sizeof *(yb)), acc))
#define E8(b) e8m0_half(x[b].e)
#define E8_4(b) _mm_setr_ps(e8m0_half(x[b].e), e8m0_half(x[b + 1].e), e8m0_half(x[b + 2].e), e8m0_half(x[b + 3].e))

TILE(q4_0, qg_block_q4_0, qg_block_q8_0, Q4_0_L, D16, D16_4, 1, NO_MIN, NO_MIN4, 1, NIBBLE_PAIR, 8, 0)
TILE(q4_1, qg_block_q4_1, qg_block_q8_1, Q4_1_L, D16, D16_4, 0, ADD_MIN, ADD_MIN4, 1, NIBBLE_PAIR, 0, 0)
TILE(q5_0, qg_block_q5_0, qg_block_q8_0, Q5_0_L, D16, D16_4, 1, NO_MIN, NO_MIN4, 0, NO_PAIR, 0, 0)
TILE(q5_1, qg_block_q5_1, qg_block_q8_1, Q5_1_L, D16, D16_4, 0, ADD_MIN, ADD_MIN4, 0, NO_PAIR, 0, 0)
TILE(q8_0, qg_block_q8_0, qg_block_q8_0, Q8_0_L, D16, D16_4, 1, NO_MIN, NO_MIN4, 0, NO_PAIR, 0, 0)
TILE(iq4_nl, qg_block_iq4_nl, qg_block_q8_0, IQ4_L, D16, D16_4, 1, NO_MIN, NO_MIN4, 1, IQ4_PAIR, 1, 1)
TILE(mxfp4, qg_block_mxfp4, qg_block_q8_0, FP4_L, E8, E8_4, 1, NO_MIN, NO_MIN4, 1, FP4_PAIR, 1, 0)
