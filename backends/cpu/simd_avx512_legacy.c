/* AVX-512 VNNI dot products of the 32-element block types against Q8_0 / Q8_1
 * activations: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL and MXFP4.
 *
 * Two blocks go per 512-bit vector (elements of block a in bytes 0-31, of block b in
 * 32-63, as the activation bytes lie). vpdpbusd multiplies unsigned weight bytes with
 * signed activation bytes and adds each group of four products into an int32 lane, so
 * the weights are expanded to unsigned codes u = level + OFF:
 *  - Q4_0 (OFF 8), Q5_0 (16), MXFP4 (12, levels doubled), IQ4_NL (128, through a table),
 *    Q8_0 (128, by flipping the sign bit) take OFF * (sum of four y) back off. That term
 *    depends on the activations alone: it is computed once per activation block pair
 *    (a vpdpbusd of the constant OFF with y, negated) and seeds the accumulation of each
 *    weight row against it, so a row pays one vpdpbusd per two blocks;
 *  - Q4_1 and Q5_1 have unsigned levels already and add m * s from the Q8_1 block.
 * Every int32 lane holds the exact sum of four products, whatever scheme; each lane is
 * converted to float and multiplied with its block's d_x * d_y in an FMA. Four blocks go
 * per step (two accumulators), the last nb % 4 one at a time in 256-bit vectors.
 *
 * One kernel (TILE) runs nr weight rows against nc activation rows; every (row, column)
 * pair sees exactly the same operations whatever nr and nc are, so vec_dot (1 x 1),
 * vec_dot4 (1 x 4) and vec_dot_rows (up to 4 x 1) agree bit for bit.
 */
#include "simd_avx512_int.h"

#include <immintrin.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "core/quant/k_internal.h"

_Static_assert(offsetof(qg_block_q4_1, m) == 2 && offsetof(qg_block_q5_1, m) == 2 && offsetof(qg_block_q8_1, s) == 2,
               "type-1 minimum and Q8_1 sum follow d");

#define UNROLL4 _Pragma("GCC unroll 4")

/* Weight prefetch distance in bytes (as the AVX2 kernels; unmeasured on AVX-512
 * hardware); vec_dot_rows prefetches the next group of four rows. 0 turns it off. */
#ifndef QG_AVX512_PREFETCH
#define QG_AVX512_PREFETCH 3072
#endif

#define PREFETCH(p, len)                                                                 \
    do {                                                                                 \
        if (pfd)                                                                         \
            for (size_t o_ = 0; o_ < (len); o_ += 64)                                    \
                _mm_prefetch((const char *)(p) + pfd + o_, _MM_HINT_T0);                 \
    } while (0)

/* Unsigned codes by 4-bit index: IQ4_NL levels + 128, E2M1 values times two plus 12. */
static const uint8_t iq4_u[16] = {1, 24, 45, 63, 79, 93, 106, 118, 129, 141, 153, 166, 181, 197, 217, 241};
static const uint8_t e2m1_u[16] = {12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0};

/* Half the E8M0 block scale by code e: 2^(e-128) (2^-127 and 2^-128 are subnormal
 * floats, exact), NaN for e = 0xFF (the levels are doubled, hence the half). */
#define E8H64BASE_(e) ((e) >> 6 == 0 ? 0x1p-128 : (e) >> 6 == 1 ? 0x1p-64 : (e) >> 6 == 2 ? 1.0 : 0x1p64)
#define E8H_(e) ((e) == 255 ? NAN : (float)(E8H64BASE_(e) * (double)(1ull << ((e) & 63))))
#define E8H4_(e) E8H_(e), E8H_((e) + 1), E8H_((e) + 2), E8H_((e) + 3)
#define E8H16_(e) E8H4_(e), E8H4_((e) + 4), E8H4_((e) + 8), E8H4_((e) + 12)
#define E8H64_(e) E8H16_(e), E8H16_((e) + 16), E8H16_((e) + 32), E8H16_((e) + 48)
static const float e8m0_half_tab[256] = {E8H64_(0), E8H64_(64), E8H64_(128), E8H64_(192)};

static inline float f16(uint16_t h) { return _cvtsh_ss(h); }

/* Four f16 values at p, p + stride, ... as four floats (packed in a general register,
 * one conversion). */
static inline __m128 f16x4(const void *p, size_t stride) {
    const unsigned char *b = p;
    const uint64_t packed = (uint64_t)ld16(b) | (uint64_t)ld16(b + stride) << 16 |
                            (uint64_t)ld16(b + 2 * stride) << 32 | (uint64_t)ld16(b + 3 * stride) << 48;
    return _mm_cvtph_ps(_mm_cvtsi64_si128((long long)packed));
}

static inline float hsum128(__m128 v) {
    v = _mm_add_ps(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(_mm_add_ss(v, _mm_movehdup_ps(v)));
}

static inline float hsum256(__m256 v) {
    return hsum128(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)));
}

static inline float hsum512(__m512 v) {
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return hsum256(_mm256_add_ps(_mm512_castps512_ps256(v), hi));
}

/* 64 activation bytes: the 32 of block a, then the 32 of block b. */
static inline __m512i y_pair(const int8_t *ya, const int8_t *yb) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)ya)),
                              _mm256_loadu_si256((const __m256i *)yb), 1);
}

/* -off * (sum of each four bytes of y) in int32 lanes (zero for off 0). */
static inline __m512i neg_off(__m512i y, int off) {
    if (!off) return _mm512_setzero_si512();
    const __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8((char)off), y);
    return _mm512_sub_epi32(_mm512_setzero_si512(), s);
}

static inline __m256i neg_off256(__m256i y, int off) {
    if (!off) return _mm256_setzero_si256();
    const __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8((char)off), y);
    return _mm256_sub_epi32(_mm256_setzero_si256(), s);
}

/* Nibbles of two blocks (16 bytes at qa, at qb) in element order: 128-bit lanes a low,
 * a high, b low, b high nibbles; through the 16-entry table T when given. */
static inline __attribute__((always_inline)) __m512i nib_pair(const uint8_t *qa, const uint8_t *qb,
                                                              const uint8_t *T) {
    __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)qa));
    v = _mm512_mask_broadcast_i32x4(v, 0xFF00, _mm_loadu_si128((const __m128i *)qb));
    v = _mm512_mask_srli_epi16(v, 0xFF00FF00u, v, 4);
    v = _mm512_and_si512(v, _mm512_set1_epi8(15));
    if (T) v = _mm512_shuffle_epi8(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)T)), v);
    return v;
}

/* The same for one block in 256 bits. */
static inline __attribute__((always_inline)) __m256i nib_one(const uint8_t *q, const uint8_t *T) {
    const __m128i b = _mm_loadu_si128((const __m128i *)q);
    __m256i v = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(b, 4), b), _mm256_set1_epi8(15));
    if (T) v = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)T)), v);
    return v;
}

/* Q5: add 16 where the block's high bit is set (bit j of qh for element j). */
static inline __m512i q5_high_pair(__m512i v, const uint8_t *qha, const uint8_t *qhb) {
    const __mmask64 k = _cvtu64_mask64((uint64_t)ld32(qha) | (uint64_t)ld32(qhb) << 32);
    return _mm512_mask_add_epi8(v, k, v, _mm512_set1_epi8(16));
}

static inline __m256i q5_high_one(__m256i v, const uint8_t *qh) {
    return _mm256_mask_add_epi8(v, _cvtu32_mask32(ld32(qh)), v, _mm256_set1_epi8(16));
}

/* Q8_0 weights as unsigned codes level + 128. */
static inline __m512i q8_pair(const int8_t *qa, const int8_t *qb) {
    return _mm512_xor_si512(y_pair(qa, qb), _mm512_set1_epi8((char)0x80));
}

static inline __m256i q8_one(const int8_t *q) {
    return _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)q), _mm256_set1_epi8((char)0x80));
}

/* Lanes 0-7 of the result hold lane i of d, lanes 8-15 lane j. */
static inline __m512 d_pair(__m128 d, int i, int j) {
    const __m512i idx = _mm512_setr_epi32(i, i, i, i, i, i, i, i, j, j, j, j, j, j, j, j);
    return _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(d));
}

/* nr (1..4) weight rows x + r*xs against nc (1..4) activation rows y + c*ys, results in
 * out[r * nc + c]. Per type: WB/YB the blocks, DX(xb) one weight scale as float, DX4(xb)
 * four as __m128, OFF the code offset, PAIR(xb) the codes of blocks xb[0], xb[1] as 64
 * bytes, ONE(xb) those of one block as 32, HAS_MIN: type-1 weight whose m (bytes 2-3)
 * times the Q8_1 s (same place) is added per block. */
#define TILE(name, WB, YB, DX, DX4, OFF, PAIR, ONE, HAS_MIN)                                                     \
    static inline __attribute__((always_inline)) void name##_tile(const int nr, const int nc, int64_t n,        \
                                                                  const void *vx, size_t xs, const void *vy,      \
                                                                  size_t ys, float *out, size_t pfd) {          \
        const int64_t nb = n / 32;                                                                              \
        const WB *x[4];                                                                                         \
        const YB *y[4];                                                                                         \
        __m512 acc0[4][4], acc1[4][4];                                                                          \
        __m256 acct[4][4];                                                                                      \
        __m128 macc[4][4];                                                                                      \
        float msum[4][4];                                                                                       \
        UNROLL4 for (int r = 0; r < nr; r++) x[r] = (const WB *)((const char *)vx + (size_t)r * xs);            \
        UNROLL4 for (int c = 0; c < nc; c++) y[c] = (const YB *)((const char *)vy + (size_t)c * ys);            \
        UNROLL4 for (int r = 0; r < nr; r++) UNROLL4 for (int c = 0; c < nc; c++) {                             \
            acc0[r][c] = acc1[r][c] = _mm512_setzero_ps();                                                      \
            acct[r][c] = _mm256_setzero_ps();                                                                   \
            macc[r][c] = _mm_setzero_ps();                                                                      \
            msum[r][c] = 0.0f;                                                                                  \
        }                                                                                                       \
        int64_t b = 0;                                                                                          \
        for (; b + 4 <= nb; b += 4) {                                                                           \
            __m512i y0[4], y1[4], n0[4], n1[4];                                                                 \
            __m128 dy[4];                                                                                       \
            UNROLL4 for (int c = 0; c < nc; c++) {                                                              \
                const YB *yc = y[c] + b;                                                                        \
                y0[c] = y_pair(yc[0].qs, yc[1].qs);                                                             \
                y1[c] = y_pair(yc[2].qs, yc[3].qs);                                                             \
                n0[c] = neg_off(y0[c], OFF);                                                                    \
                n1[c] = neg_off(y1[c], OFF);                                                                    \
                dy[c] = f16x4(&yc->d, sizeof *yc);                                                              \
            }                                                                                                   \
            UNROLL4 for (int r = 0; r < nr; r++) {                                                              \
                const WB *xb = x[r] + b;                                                                        \
                PREFETCH(xb, 4 * sizeof(WB));                                                                   \
                const __m128 dx = DX4(xb);                                                                      \
                const __m512i u0 = PAIR(xb), u1 = PAIR(xb + 2);                                                 \
                UNROLL4 for (int c = 0; c < nc; c++) {                                                          \
                    const __m128 d = _mm_mul_ps(dx, dy[c]);                                                     \
                    const __m512i i0 = _mm512_dpbusd_epi32(n0[c], u0, y0[c]);                                   \
                    const __m512i i1 = _mm512_dpbusd_epi32(n1[c], u1, y1[c]);                                   \
                    acc0[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i0), d_pair(d, 0, 1), acc0[r][c]);          \
                    acc1[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i1), d_pair(d, 2, 3), acc1[r][c]);          \
                    if (HAS_MIN)                                                                                \
                        macc[r][c] = _mm_fmadd_ps(f16x4((const char *)xb + 2, sizeof *xb),                      \
                                                  f16x4((const char *)(y[c] + b) + 2, sizeof(YB)), macc[r][c]); \
                }                                                                                               \
            }                                                                                                   \
        }                                                                                                       \
        for (; b < nb; b++) {                                                                                   \
            __m256i yv[4], ng[4];                                                                               \
            UNROLL4 for (int c = 0; c < nc; c++) {                                                              \
                yv[c] = _mm256_loadu_si256((const __m256i *)y[c][b].qs);                                        \
                ng[c] = neg_off256(yv[c], OFF);                                                                 \
            }                                                                                                   \
            UNROLL4 for (int r = 0; r < nr; r++) {                                                              \
                const WB *xb = x[r] + b;                                                                        \
                const __m256i u = ONE(xb);                                                                      \
                UNROLL4 for (int c = 0; c < nc; c++) {                                                          \
                    const YB *yb = y[c] + b;                                                                    \
                    const __m256i is = _mm256_dpbusd_epi32(ng[c], u, yv[c]);                                    \
                    acct[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_set1_ps(DX(xb) * f16(yb->d)),   \
                                                 acct[r][c]);                                                   \
                    if (HAS_MIN) msum[r][c] += f16(ld16((const char *)xb + 2)) * f16(ld16((const char *)yb + 2)); \
                }                                                                                               \
            }                                                                                                   \
        }                                                                                                       \
        UNROLL4 for (int r = 0; r < nr; r++) UNROLL4 for (int c = 0; c < nc; c++)                               \
            out[r * nc + c] = (hsum512(_mm512_add_ps(acc0[r][c], acc1[r][c])) + hsum256(acct[r][c])) +         \
                              (hsum128(macc[r][c]) + msum[r][c]);                                               \
    }                                                                                                           \
    float cpu_avx512_vec_dot_##name(int64_t n, const void *x, const void *y) {                                  \
        float r;                                                                                                \
        name##_tile(1, 1, n, x, 0, y, 0, &r, QG_AVX512_PREFETCH);                                               \
        return r;                                                                                               \
    }                                                                                                           \
    void cpu_avx512_vec_dot4_##name(int64_t n, const void *x, const void *y, size_t ys, float *out) {           \
        name##_tile(1, 4, n, x, 0, y, ys, out, QG_AVX512_PREFETCH);                                             \
    }                                                                                                           \
    void cpu_avx512_vec_dot_rows_##name(int64_t n, const void *x, size_t xs, const void *y, float *out,         \
                                        int nrows) {                                                            \
        const char *w = x;                                                                                      \
        const size_t pf = QG_AVX512_PREFETCH ? 4 * xs : 0;                                                      \
        for (; nrows >= 4; nrows -= 4, w += 4 * xs, out += 4) name##_tile(4, 1, n, w, xs, y, 0, out, pf);        \
        if (nrows == 3) name##_tile(3, 1, n, w, xs, y, 0, out, pf);                                             \
        else if (nrows == 2) name##_tile(2, 1, n, w, xs, y, 0, out, pf);                                        \
        else if (nrows == 1) name##_tile(1, 1, n, w, xs, y, 0, out, pf);                                        \
    }

#define D16(xb) f16((xb)->d)
#define D16_4(xb) f16x4(&(xb)->d, sizeof *(xb))
#define E8(xb) e8m0_half_tab[(xb)->e]
#define E8_4(xb) \
    _mm_setr_ps(e8m0_half_tab[(xb)[0].e], e8m0_half_tab[(xb)[1].e], e8m0_half_tab[(xb)[2].e], e8m0_half_tab[(xb)[3].e])

#define Q4_PAIR(xb) nib_pair((xb)[0].qs, (xb)[1].qs, NULL)
#define Q4_ONE(xb) nib_one((xb)->qs, NULL)
#define Q5_PAIR(xb) q5_high_pair(nib_pair((xb)[0].qs, (xb)[1].qs, NULL), (xb)[0].qh, (xb)[1].qh)
#define Q5_ONE(xb) q5_high_one(nib_one((xb)->qs, NULL), (xb)->qh)
#define Q8_PAIR(xb) q8_pair((xb)[0].qs, (xb)[1].qs)
#define Q8_ONE(xb) q8_one((xb)->qs)
#define IQ4_PAIR(xb) nib_pair((xb)[0].qs, (xb)[1].qs, iq4_u)
#define IQ4_ONE(xb) nib_one((xb)->qs, iq4_u)
#define FP4_PAIR(xb) nib_pair((xb)[0].qs, (xb)[1].qs, e2m1_u)
#define FP4_ONE(xb) nib_one((xb)->qs, e2m1_u)

TILE(q4_0, qg_block_q4_0, qg_block_q8_0, D16, D16_4, 8, Q4_PAIR, Q4_ONE, 0)
TILE(q4_1, qg_block_q4_1, qg_block_q8_1, D16, D16_4, 0, Q4_PAIR, Q4_ONE, 1)
TILE(q5_0, qg_block_q5_0, qg_block_q8_0, D16, D16_4, 16, Q5_PAIR, Q5_ONE, 0)
TILE(q5_1, qg_block_q5_1, qg_block_q8_1, D16, D16_4, 0, Q5_PAIR, Q5_ONE, 1)
TILE(q8_0, qg_block_q8_0, qg_block_q8_0, D16, D16_4, 128, Q8_PAIR, Q8_ONE, 0)
TILE(iq4_nl, qg_block_iq4_nl, qg_block_q8_0, D16, D16_4, 128, IQ4_PAIR, IQ4_ONE, 0)
TILE(mxfp4, qg_block_mxfp4, qg_block_q8_0, E8, E8_4, 12, FP4_PAIR, FP4_ONE, 0)
