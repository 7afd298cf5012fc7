/* AVX2 dot products of the 32-element block types against Q8_0 / Q8_1 activations:
 * Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL and MXFP4.
 *
 * Each block's 32 weight levels are expanded to bytes, multiplied with the 32 activation
 * bytes by maddubs/madd into exact int32 partial sums, and those are scaled by d_x * d_y
 * into float accumulators. Four blocks go per step, their f16 scales packed in a general
 * register and converted by one instruction. maddubs wants an unsigned first operand:
 *  - offset types (Q4_0, Q5_0, MXFP4) expand their codes to unsigned u = level + o and
 *    take o * (sum of y) back off, which depends on the activations alone (shared by
 *    the rows of vec_dot_rows);
 *  - unsigned levels (Q4_1, Q5_1) multiply y directly and add m * s from the Q8_1 block;
 *  - Q8_0's signed levels go as |x| with x's sign moved onto y; IQ4_NL's (never -128)
 *    the other way round, |y| (shared by the rows) times x with y's sign.
 * The 4- and 5-bit types (Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, MXFP4) expand two blocks per
 * 256-bit vector (low nibbles of both, then high nibbles of both, Q5 high bits OR-ed in
 * as 16) so one conversion and one FMA serve two blocks.
 *
 * One kernel (TILE) runs nr weight rows against nc activation rows; every (row, column)
 * pair sees exactly the same operations whatever nr and nc are, so vec_dot (1 x 1),
 * vec_dot4 (1 x 4, mat-mat: each weight block expanded once for four columns) and
 * vec_dot_rows (up to 4 x 1, mat-vec: each activation block loaded, and its offset sum
 * computed, once for several weight rows) agree bit for bit.
 */
#include "simd_avx2.h"
#include "simd.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "core/quant/k_internal.h"

_Static_assert(offsetof(qg_block_q4_1, m) == 2 && offsetof(qg_block_q5_1, m) == 2 && offsetof(qg_block_q8_1, s) == 2,
               "type-1 minimum and Q8_1 sum follow d");

/* Loops over rows and columns are unrolled so that each pair's accumulators stay in
 * registers. */
#define UNROLL4 _Pragma("GCC unroll 4")

/* Software prefetch of the weights (for rows streamed from DRAM), in bytes ahead of the
 * block being read: one row (vec_dot, vec_dot4) is prefetched QG_LEGACY_PREFETCH ahead,
 * running on into the rows that follow it; a group of rows (vec_dot_rows) prefetches the
 * same place in the next group (4 rows on), since several interleaved streams within a
 * page defeat the hardware prefetcher. Measured on Zen 3 (single thread, DRAM-resident
 * weights, under load): Q8_0 12 -> 16 GB/s, Q4_0 rows 7 -> 11 GB/s; 0 turns it off. */
#ifndef QG_LEGACY_PREFETCH
#define QG_LEGACY_PREFETCH 3072
#endif
#ifndef QG_LEGACY_ROWS_PREFETCH
#define QG_LEGACY_ROWS_PREFETCH(xs) (QG_LEGACY_PREFETCH ? 4 * (xs) : 0)
#endif

/* Prefetch the lines of bytes [p + pfd, + len) (pfd, a variable of the kernel). The test
 * is on the build setting, not on pfd: testing pfd at run time made gcc branch around
 * every row's prefetch inside the multi-row loop (same results, Q4_1 rows measured 4%
 * faster without the branches, single thread, L2-resident weights). */
#define PREFETCH(p, len)                                                                        \
    do {                                                                                        \
        if (QG_LEGACY_PREFETCH)                                                                 \
            for (size_t o_ = 0; o_ < (len); o_ += 64)                                           \
                _mm_prefetch((const char *)(p) + pfd + o_, _MM_HINT_T0);                        \
    } while (0)

/* The 16 IQ4_NL levels, and the E2M1 (FP4) values times two plus 12, by 4-bit code. */
static const int8_t iq4_levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
static const int8_t e2m1_x2_p12[16] = {12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0};

/* 32 bits at p -> 32 bytes, byte j = 0xFF when bit j is set. */
static inline __m256i bits_to_bytes_mem(const uint8_t *p) {
    const __m256i v = _mm256_shuffle_epi8(_mm256_broadcastd_epi32(_mm_loadu_si32(p)),
                                          _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2,
                                                           2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i sel = _mm256_set1_epi64x(0x8040201008040201ll);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, sel), sel);
}

/* Q5 codes 0..31 (nibble plus 16 times the high bit) in element order. */
static inline __m256i q5_codes(const uint8_t *qs, const uint8_t *qh) {
    return _mm256_or_si256(avx2_nibbles(qs), _mm256_and_si256(bits_to_bytes_mem(qh), _mm256_set1_epi8(16)));
}

/* The high bits of two Q5 blocks (qh at qa, qb) put into the nibble_pair vectors: lo
 * (elements 0-15 of a, then of b) gets 16 where bits 0-15 of its block are set, hi the
 * same for bits 16-31. One 16-byte load per block (its qh and the first 12 qs bytes,
 * inside the block) fills a lane; a shuffle spreads each qh byte over eight bytes, the
 * AND keeps bit j in byte j, and sign_epi8 turns a nonzero byte into 16 (bit 7 reads
 * as negative, so its constant is -16). */
static inline __attribute__((always_inline)) void q5_high_pair(const uint8_t *qa, const uint8_t *qb, __m256i *lo,
                                                               __m256i *hi) {
    const __m256i v = _mm256_loadu2_m128i((const __m128i *)qb, (const __m128i *)qa);
    const __m256i sel = _mm256_set1_epi64x(0x8040201008040201ll);
    const __m256i c16 = _mm256_set1_epi64x((long long)0xF010101010101010ull);
    const __m256i vlo = _mm256_shuffle_epi8(v, _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0,
                                                                0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
    const __m256i vhi = _mm256_shuffle_epi8(v, _mm256_setr_epi8(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2,
                                                                2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    *lo = _mm256_or_si256(*lo, _mm256_sign_epi8(c16, _mm256_and_si256(vlo, sel)));
    *hi = _mm256_or_si256(*hi, _mm256_sign_epi8(c16, _mm256_and_si256(vhi, sel)));
}

static inline __m256i lut16(const int8_t t[16]) {
    const __m128i v = _mm_loadu_si128((const __m128i *)t);
    return _mm256_set_m128i(v, v);
}

/* Half the E8M0 block scale by code e: 2^(e-128) (2^-127 and 2^-128 are subnormal
 * floats, exact), NaN for e = 0xFF. */
#define E8H64BASE_(e) ((e) >> 6 == 0 ? 0x1p-128 : (e) >> 6 == 1 ? 0x1p-64 : (e) >> 6 == 2 ? 1.0 : 0x1p64)
#define E8H_(e) ((e) == 255 ? NAN : (float)(E8H64BASE_(e) * (double)(1ull << ((e) & 63))))
#define E8H4_(e) E8H_(e), E8H_((e) + 1), E8H_((e) + 2), E8H_((e) + 3)
#define E8H16_(e) E8H4_(e), E8H4_((e) + 4), E8H4_((e) + 8), E8H4_((e) + 12)
#define E8H64_(e) E8H16_(e), E8H16_((e) + 16), E8H16_((e) + 32), E8H16_((e) + 48)
static const float e8m0_half_tab[256] = {E8H64_(0), E8H64_(64), E8H64_(128), E8H64_(192)};
static inline float e8m0_half(uint8_t e) { return e8m0_half_tab[e]; }

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

/* The f16 value at byte offset off of p (the m of Q4_1/Q5_1 and the s of Q8_1 both
 * follow the 2-byte d). */
static inline float f16_at(const void *p, size_t off) {
    uint16_t h;
    memcpy(&h, (const char *)p + off, sizeof h);
    return avx2_fp16(h);
}

static inline float hsum128(__m128 v) {
    v = _mm_add_ps(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(_mm_add_ss(v, _mm_movehdup_ps(v)));
}

/* Lane j (0..3) of v in all eight lanes. */
static inline __m256 lane_bcast(__m128 v, int j) {
    return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(v), _mm256_set1_epi32(j));
}

static inline __m256i madd1(__m256i p) { return _mm256_madd_epi16(p, _mm256_set1_epi16(1)); }

/* Sum of signed levels q times y in 8 int32 lanes (sign of q moved onto y). */
static inline __m256i signed_isum(__m256i q, __m256i y) {
    return madd1(_mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(y, q)));
}

/* The activation side of one pair of blocks (ya, yb): y0 = [ya[0..15] | yb[0..15]],
 * y1 = [ya[16..31] | yb[16..31]], for offset types off = OFF * (y0 + y1) pairwise in
 * int16, and for pair_isum's mode 3 a0, a1 = |y0|, |y1|. */
typedef struct { __m256i y0, y1, off, a0, a1; } pair_y;
static inline __attribute__((always_inline)) pair_y pair_load(const int8_t *ya, const int8_t *yb, int off,
                                                              int mode) {
    pair_y p;
    p.y0 = _mm256_loadu2_m128i((const __m128i *)yb, (const __m128i *)ya);
    p.y1 = _mm256_loadu2_m128i((const __m128i *)(yb + 16), (const __m128i *)(ya + 16));
    p.off = p.a0 = p.a1 = _mm256_setzero_si256();
    if (mode == 3) {
        p.a0 = _mm256_abs_epi8(p.y0);
        p.a1 = _mm256_abs_epi8(p.y1);
    }
    if (off) {
        const __m256i o = _mm256_set1_epi8((char)off);
        p.off = _mm256_add_epi16(_mm256_maddubs_epi16(o, p.y0), _mm256_maddubs_epi16(o, p.y1));
    }
    return p;
}

/* Levels lo/hi of a pair against its activations (pair_load) as 8 int32 sums, lanes 0-3
 * block a, 4-7 block b. mode 0: unsigned levels; 1: signed (sign moved onto y, int32
 * adds since |levels| up to 127 would overflow int16); 3: signed levels that are never
 * -128 (IQ4_NL), y's sign moved onto them instead so that |y| is shared by the rows
 * (|y| * level * sign(y) = level * y; int32 adds as for 1); 2: unsigned codes u (0..31)
 * standing for u - OFF (p.off is taken back in int16: every term stays within
 * 4 * 31 * 127). */
static inline __attribute__((always_inline)) __m256i pair_isum(__m256i lo, __m256i hi, const pair_y *p, int mode) {
    if (mode == 1) return _mm256_add_epi32(signed_isum(lo, p->y0), signed_isum(hi, p->y1));
    if (mode == 3)
        return _mm256_add_epi32(madd1(_mm256_maddubs_epi16(p->a0, _mm256_sign_epi8(lo, p->y0))),
                                madd1(_mm256_maddubs_epi16(p->a1, _mm256_sign_epi8(hi, p->y1))));
    const __m256i s = _mm256_add_epi16(_mm256_maddubs_epi16(lo, p->y0), _mm256_maddubs_epi16(hi, p->y1));
    return madd1(mode == 2 ? _mm256_sub_epi16(s, p->off) : s);
}

/* Nibbles of two blocks pa, pb: lo = [a low nibbles | b low nibbles], hi the same for
 * the high nibbles, through the lookup table T when given. */
static inline __attribute__((always_inline)) void nibble_pair(const void *qa, const void *qb, const int8_t *T,
                                                              __m256i *lo, __m256i *hi) {
    const __m256i v = _mm256_loadu2_m128i((const __m128i *)qb, (const __m128i *)qa);
    *lo = _mm256_and_si256(v, _mm256_set1_epi8(15));
    *hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(15));
    if (T) {
        *lo = _mm256_shuffle_epi8(lut16(T), *lo);
        *hi = _mm256_shuffle_epi8(lut16(T), *hi);
    }
}

/* nr (1..4) weight rows x + r*xs against nc (1..4) activation rows y + c*ys, results in
 * out[r * nc + c]. Per type: WB/YB the blocks, DX(xb)/DX4(xb) one or four weight scales,
 * MODE the integer scheme (pair_isum's mode; for non-pair types 0 unsigned, 1 signed,
 * 2 offset), OFF the offset, PAIR: nibble type (LUT its table or NULL, HIGH(xb, lo0, hi0,
 * lo1, hi1) adds the Q5 high bits of the four blocks or does nothing), otherwise
 * CODES(xb) the block's 32 codes in element order; TAIL(xb) the signed (MODE 1, 2) or
 * unsigned (0) levels of a single block for the last nb % 4 blocks; HAS_MIN: type-1
 * weight whose m (bytes 2-3, after d) times the Q8_1 s (the same place) is added per
 * block. */
#define TILE(name, WB, YB, DX, DX4, MODE, OFF, PAIR, LUT, HIGH, CODES, TAIL, HAS_MIN)                       \
    static inline __attribute__((always_inline)) void name##_tile(const int nr, const int nc, int64_t n,    \
                                                                  const void *vx, size_t xs, const void *vy,  \
                                                                  size_t ys, float *out, size_t pfd) {      \
        const int64_t nb = n / 32;                                                                          \
        const WB *x[4];                                                                                     \
        const YB *y[4];                                                                                     \
        __m256 acc0[4][4], acc1[4][4];                                                                      \
        __m128 macc[4][4];                                                                                  \
        float msum[4][4];                                                                                   \
        UNROLL4 for (int r = 0; r < nr; r++) x[r] = (const WB *)((const char *)vx + (size_t)r * xs);        \
        UNROLL4 for (int c = 0; c < nc; c++) y[c] = (const YB *)((const char *)vy + (size_t)c * ys);        \
        UNROLL4 for (int r = 0; r < nr; r++) UNROLL4 for (int c = 0; c < nc; c++) {                         \
            acc0[r][c] = acc1[r][c] = _mm256_setzero_ps();                                                  \
            macc[r][c] = _mm_setzero_ps();                                                                  \
            msum[r][c] = 0.0f;                                                                              \
        }                                                                                                   \
        int64_t b = 0;                                                                                      \
        for (; b + 4 <= nb; b += 4) {                                                                       \
            if (PAIR) {                                                                                     \
                UNROLL4 for (int r = 0; r < nr; r++) {                                                      \
                    const WB *xb = x[r] + b;                                                                \
                    PREFETCH(xb, 4 * sizeof(WB));                                                           \
                    const __m128 dx = DX4(xb);                                                              \
                    __m256i lo0, hi0, lo1, hi1;                                                             \
                    nibble_pair(xb[0].qs, xb[1].qs, LUT, &lo0, &hi0);                                       \
                    nibble_pair(xb[2].qs, xb[3].qs, LUT, &lo1, &hi1);                                       \
                    HIGH(xb, lo0, hi0, lo1, hi1);                                                           \
                    UNROLL4 for (int c = 0; c < nc; c++) {                                                  \
                        const YB *yc = y[c] + b;                                                            \
                        const pair_y p0 = pair_load(yc[0].qs, yc[1].qs, OFF, MODE);                         \
                        const pair_y p1 = pair_load(yc[2].qs, yc[3].qs, OFF, MODE);                         \
                        const __m256 d = _mm256_castps128_ps256(_mm_mul_ps(dx, D16_4(yc)));                 \
                        acc0[r][c] = _mm256_fmadd_ps(                                                       \
                            _mm256_permutevar8x32_ps(d, _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1)),         \
                            _mm256_cvtepi32_ps(pair_isum(lo0, hi0, &p0, MODE)), acc0[r][c]);                \
                        acc1[r][c] = _mm256_fmadd_ps(                                                       \
                            _mm256_permutevar8x32_ps(d, _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3)),         \
                            _mm256_cvtepi32_ps(pair_isum(lo1, hi1, &p1, MODE)), acc1[r][c]);                \
                        if (HAS_MIN) macc[r][c] = _mm_fmadd_ps(MIN4(xb), MIN4(yc), macc[r][c]);             \
                    }                                                                                       \
                }                                                                                           \
                continue;                                                                                   \
            }                                                                                               \
            UNROLL4 for (int r = 0; r < nr; r++) {                                                          \
                const WB *xb = x[r] + b;                                                                    \
                PREFETCH(xb, 4 * sizeof(WB));                                                               \
                const __m128 dx = DX4(xb);                                                                  \
                __m256i q[4];                                                                               \
                UNROLL4 for (int j = 0; j < 4; j++) q[j] = CODES(&xb[j]);                                   \
                UNROLL4 for (int c = 0; c < nc; c++) {                                                      \
                    const YB *yc = y[c] + b;                                                                \
                    const __m128 d = _mm_mul_ps(dx, D16_4(yc));                                             \
                    __m256 s[4];                                                                            \
                    UNROLL4 for (int j = 0; j < 4; j++) {                                                   \
                        const __m256i yv = _mm256_loadu_si256((const __m256i *)yc[j].qs);                   \
                        __m256i is;                                                                         \
                        if (MODE == 1) is = signed_isum(q[j], yv);                                          \
                        else if (MODE == 2)                                                                 \
                            is = madd1(_mm256_sub_epi16(_mm256_maddubs_epi16(q[j], yv),                     \
                                                        _mm256_maddubs_epi16(_mm256_set1_epi8(OFF), yv)));  \
                        else is = madd1(_mm256_maddubs_epi16(q[j], yv));                                    \
                        s[j] = _mm256_cvtepi32_ps(is);                                                      \
                    }                                                                                       \
                    acc0[r][c] = _mm256_fmadd_ps(lane_bcast(d, 0), s[0], acc0[r][c]);                       \
                    acc1[r][c] = _mm256_fmadd_ps(lane_bcast(d, 1), s[1], acc1[r][c]);                       \
                    acc0[r][c] = _mm256_fmadd_ps(lane_bcast(d, 2), s[2], acc0[r][c]);                       \
                    acc1[r][c] = _mm256_fmadd_ps(lane_bcast(d, 3), s[3], acc1[r][c]);                       \
                    if (HAS_MIN) macc[r][c] = _mm_fmadd_ps(MIN4(xb), MIN4(yc), macc[r][c]);                 \
                }                                                                                           \
            }                                                                                               \
        }                                                                                                   \
        for (; b < nb; b++) {                                                                               \
            UNROLL4 for (int r = 0; r < nr; r++) {                                                          \
                const WB *xb = x[r] + b;                                                                    \
                const __m256i q = TAIL(xb);                                                                 \
                UNROLL4 for (int c = 0; c < nc; c++) {                                                      \
                    const YB *yb = y[c] + b;                                                                \
                    const __m256i yq = _mm256_loadu_si256((const __m256i *)yb->qs);                         \
                    const __m256i is = MODE ? signed_isum(q, yq) : madd1(_mm256_maddubs_epi16(q, yq));      \
                    acc0[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(DX(xb) * avx2_fp16(yb->d)),                 \
                                                 _mm256_cvtepi32_ps(is), acc0[r][c]);                       \
                    if (HAS_MIN)                                                                            \
                        msum[r][c] += f16_at(xb, 2) * f16_at(yb, 2);                                        \
                }                                                                                           \
            }                                                                                               \
        }                                                                                                   \
        UNROLL4 for (int r = 0; r < nr; r++) UNROLL4 for (int c = 0; c < nc; c++)                           \
            out[r * nc + c] =                                                                               \
                avx2_hsum_ps(_mm256_add_ps(acc0[r][c], acc1[r][c])) + (hsum128(macc[r][c]) + msum[r][c]);   \
    }                                                                                                       \
    float cpu_avx2_vec_dot_##name(int64_t n, const void *x, const void *y) {                                \
        float r;                                                                                            \
        name##_tile(1, 1, n, x, 0, y, 0, &r, QG_LEGACY_PREFETCH);                                           \
        return r;                                                                                           \
    }                                                                                                       \
    void cpu_avx2_vec_dot4_##name(int64_t n, const void *x, const void *y, size_t ys, float *out) {         \
        name##_tile(1, 4, n, x, 0, y, ys, out, QG_LEGACY_PREFETCH);                                         \
    }                                                                                                       \
    void cpu_avx2_vec_dot_rows_##name(int64_t n, const void *x, size_t xs, const void *y, float *out,         \
                                      int nrows) {                                                          \
        const char *w = x;                                                                                  \
        const size_t pf = QG_LEGACY_ROWS_PREFETCH(xs);                                                      \
        for (; nrows >= 4; nrows -= 4, w += 4 * xs, out += 4) name##_tile(4, 1, n, w, xs, y, 0, out, pf);    \
        if (nrows == 3) name##_tile(3, 1, n, w, xs, y, 0, out, pf);                                         \
        else if (nrows == 2) name##_tile(2, 1, n, w, xs, y, 0, out, pf);                                    \
        else if (nrows == 1) name##_tile(1, 1, n, w, xs, y, 0, out, pf);                                    \
    }

#define MIN4(xb) f16x4_strided((const char *)(xb) + 2, sizeof *(xb))
#define D16(xb) avx2_fp16((xb)->d)
#define D16_4(xb) f16x4_strided(&(xb)->d, sizeof *(xb))
#define E8(xb) e8m0_half((xb)->e)
#define E8_4(xb) _mm_setr_ps(e8m0_half((xb)[0].e), e8m0_half((xb)[1].e), e8m0_half((xb)[2].e), e8m0_half((xb)[3].e))
#define NO_CODES(xb) ((void)(xb), _mm256_setzero_si256())
#define Q5_CODES(xb) q5_codes((xb)->qs, (xb)->qh)
#define NO_HIGH(xb, lo0, hi0, lo1, hi1) ((void)0)
#define Q5_HIGH(xb, lo0, hi0, lo1, hi1) \
    (q5_high_pair((xb)[0].qh, (xb)[1].qh, &(lo0), &(hi0)), q5_high_pair((xb)[2].qh, (xb)[3].qh, &(lo1), &(hi1)))
#define Q8_CODES(xb) _mm256_loadu_si256((const __m256i *)(xb)->qs)
#define Q4_0_T(xb) _mm256_sub_epi8(avx2_nibbles((xb)->qs), _mm256_set1_epi8(8))
#define Q4_1_T(xb) avx2_nibbles((xb)->qs)
#define Q5_0_T(xb) _mm256_sub_epi8(Q5_CODES(xb), _mm256_set1_epi8(16))
#define Q5_1_T(xb) Q5_CODES(xb)
#define IQ4_T(xb) _mm256_shuffle_epi8(lut16(iq4_levels), avx2_nibbles((xb)->qs))
#define FP4_T(xb) _mm256_sub_epi8(_mm256_shuffle_epi8(lut16(e2m1_x2_p12), avx2_nibbles((xb)->qs)), _mm256_set1_epi8(12))

TILE(q4_0, qg_block_q4_0, qg_block_q8_0, D16, D16_4, 2, 8, 1, NULL, NO_HIGH, NO_CODES, Q4_0_T, 0)
TILE(q4_1, qg_block_q4_1, qg_block_q8_1, D16, D16_4, 0, 0, 1, NULL, NO_HIGH, NO_CODES, Q4_1_T, 1)
TILE(q5_0, qg_block_q5_0, qg_block_q8_0, D16, D16_4, 2, 16, 1, NULL, Q5_HIGH, NO_CODES, Q5_0_T, 0)
TILE(q5_1, qg_block_q5_1, qg_block_q8_1, D16, D16_4, 0, 0, 1, NULL, Q5_HIGH, NO_CODES, Q5_1_T, 1)
TILE(q8_0, qg_block_q8_0, qg_block_q8_0, D16, D16_4, 1, 0, 0, NULL, NO_HIGH, Q8_CODES, Q8_CODES, 0)
TILE(iq4_nl, qg_block_iq4_nl, qg_block_q8_0, D16, D16_4, 3, 0, 1, iq4_levels, NO_HIGH, NO_CODES, IQ4_T, 0)
TILE(mxfp4, qg_block_mxfp4, qg_block_q8_0, E8, E8_4, 2, 12, 1, e2m1_x2_p12, NO_HIGH, NO_CODES, FP4_T, 0)
