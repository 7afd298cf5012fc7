/* AVX2 dot products of the 256-element super-block types (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K,
 * IQ4_XS) against one Q8_K activation row: vec_dot (one weight row) and vec_dot_rows
 * (several weight rows, the mat-vec). Each super-block leaves its integer sums in int32
 * vectors; four super-blocks at a time are summed horizontally together (hsum4_epi32) and
 * their float parts evaluated in one double vector with the very operations of the
 * scalar reference, then added to the row's running sum one by one in block order, so
 * the result is the reference's float bit for bit. vec_dot_rows runs the one-row kernel
 * row after row, so each row's result is exactly vec_dot's (and the mat-vec gets its
 * longer work units). The weights are prefetched KQ_PREFETCH bytes ahead.
 */
#include "simd_avx2_kquants.h"

#include <string.h>

/* Blocks' vectors are folded to 128 bits at once (fewer live vectors: GCC spilled less);
 * hsum4: [sum a, sum b, sum c, sum d] over their int32 lanes (wrapping, like the scalar). */
static inline __m128i fold128(__m256i v) { return _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)); }
static inline __m128i hsum4_epi32(__m128i a, __m128i b, __m128i c, __m128i d) {
    const __m128i ab = _mm_add_epi32(_mm_unpacklo_epi32(a, b), _mm_unpackhi_epi32(a, b));
    const __m128i cd = _mm_add_epi32(_mm_unpacklo_epi32(c, d), _mm_unpackhi_epi32(c, d));
    return _mm_add_epi32(_mm_unpacklo_epi64(ab, cd), _mm_unpackhi_epi64(ab, cd));
}

/* int16 lanes equal to byte jl of b (low 128 bits) and byte jh (high 128 bits), zero-extended. */
static inline __m256i bcast_u8(__m256i b, int jl, int jh) {
    return _mm256_shuffle_epi8(b, ctl16((short)(0x8000 | jl), (short)(0x8000 | jh)));
}

/* v shifted left by s bits (right by -s) in 16-bit lanes; s is a constant after unrolling. */
static inline __m256i shift16(__m256i v, int s) { return s >= 0 ? _mm256_slli_epi16(v, s) : _mm256_srli_epi16(v, -s); }

/* sum + c[0] + ... + c[cnt-1], added left to right. */
static inline double add_in_order(double sum, __m256d c, int cnt) {
    const __m128d lo = _mm256_castpd256_pd128(c), hi = _mm256_extractf128_pd(c, 1);
    sum += _mm_cvtsd_f64(lo);
    if (cnt > 1) sum += _mm_cvtsd_f64(_mm_unpackhi_pd(lo, lo));
    if (cnt > 2) sum += _mm_cvtsd_f64(hi);
    if (cnt > 3) sum += _mm_cvtsd_f64(_mm_unpackhi_pd(hi, hi));
    return sum;
}

/* Four blocks' float parts; dd lane j: fp16 d (bits 0-15) and, type 1, dmin (bits 16-31).
 * Type 1: y.d * (d * isum - dmin * msum); type 0: (y.d * d) * isum. */
static inline __m256d finish4(bool type1, __m128i isum, __m128i msum, __m128i dd, __m128 yd) {
    const __m256 f = _mm256_cvtph_ps(
        _mm_shuffle_epi8(dd, _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15)));
    const __m256d d = _mm256_cvtps_pd(_mm256_castps256_ps128(f)), y = _mm256_cvtps_pd(yd);
    if (!type1) return _mm256_mul_pd(_mm256_mul_pd(y, d), _mm256_cvtepi32_pd(isum));
    const __m256d dmin = _mm256_cvtps_pd(_mm256_extractf128_ps(f, 1));
    const __m256d t = _mm256_sub_pd(_mm256_mul_pd(d, _mm256_cvtepi32_pd(isum)), _mm256_mul_pd(dmin, _mm256_cvtepi32_pd(msum)));
    return _mm256_mul_pd(y, t);
}

/* Software prefetch distance of the weights (0: none), bytes ahead in each row. In a
 * single-thread benchmark streaming 128 MB of weights from DRAM (Zen 3, under load), 768
 * to 4096 bytes were all faster than none (by 10-30%); the hardware prefetcher alone
 * falls behind. Rechecked for Q4_K rows (160 MB, distances alternated in one process):
 * 0: 15.4, 1024: 13.1, 2048: 12.0, 4096: 12.0, 6144: 13.0 ns per super-block; the
 * NTA and T1 hints measured the same as T0. */
#ifndef KQ_PREFETCH
#define KQ_PREFETCH 2048
#endif

/* The step: NAME##_blk(x, y, &msum, &dd) returns a super-block's integer sum vector
 * (type 0: already including the level offset's bsums term), sets the min sum vector
 * (type 1) and the block's fp16 scales; NAME##_step adds cnt (1..4) blocks' float parts
 * to sum in block order. With cnt = 4 (a constant after inlining) the vectors are built
 * from registers: loading them from arrays would stall on store forwarding.
 * NAME##_row is one row; vec_dot_rows runs it row after row: interleaving four rows
 * four blocks at a time (the activation loads shared) measured slower, about 20 vs 14-16
 * ns per Q4_K super-block streaming from DRAM, single thread (four streams per core),
 * and no faster from L2 (the shared loads are not what limits these kernels). */
#define KQ_DOTS(name, blk_t, type1)                                                                        \
    static inline __attribute__((always_inline)) double name##_step(const blk_t *x, const qg_block_q8_K *y, \
                                                                    int cnt, double sum) {                 \
        __m128i a[4], m[4];                                                                                \
        uint32_t dd[4] = {0, 0, 0, 0};                                                                     \
        float yd[4] = {0, 0, 0, 0};                                                                        \
        UNROLL for (int j = 0; j < 4; j++) {                                                               \
            a[j] = m[j] = _mm_setzero_si128();                                                             \
            if (j < cnt) {                                                                                 \
                __m256i mj;                                                                                \
                a[j] = fold128(name##_blk(x + j, y + j, &mj, &dd[j])), m[j] = fold128(mj);                 \
                yd[j] = y[j].d;                                                                            \
            }                                                                                              \
        }                                                                                                  \
        const __m128i is = hsum4_epi32(a[0], a[1], a[2], a[3]);                                            \
        const __m128i ms = type1 ? hsum4_epi32(m[0], m[1], m[2], m[3]) : is;                               \
        const __m128i d4 = cnt == 4 ? _mm_setr_epi32((int)dd[0], (int)dd[1], (int)dd[2], (int)dd[3])        \
                                    : _mm_loadu_si128((const __m128i *)dd);                                \
        const __m128 y4 = cnt == 4 ? _mm_setr_ps(y[0].d, y[1].d, y[2].d, y[3].d) : _mm_loadu_ps(yd);       \
        return add_in_order(sum, finish4(type1, is, ms, d4, y4), cnt);                                     \
    }                                                                                                      \
    static __attribute__((noinline)) double name##_tail(const blk_t *x, const qg_block_q8_K *y, int cnt,   \
                                                        double sum) {                                      \
        return name##_step(x, y, cnt, sum);                                                                \
    }                                                                                                      \
    static inline __attribute__((always_inline)) float name##_row(int64_t n, const blk_t *x,               \
                                                                  const qg_block_q8_K *y) {                \
        const int64_t nb = n / QG_QK_K;                                                                    \
        double sum = 0.0;                                                                                  \
        int64_t i = 0;                                                                                     \
        for (; i + 4 <= nb; i += 4) {                                                                      \
            if (KQ_PREFETCH)                                                                               \
                for (size_t o = 0; o < 4 * sizeof(blk_t); o += 64)                                         \
                    _mm_prefetch((const char *)(x + i) + KQ_PREFETCH + o, _MM_HINT_T0);                    \
            sum = name##_step(x + i, y + i, 4, sum);                                                       \
        }                                                                                                  \
        if (i < nb) sum = name##_tail(x + i, y + i, (int)(nb - i), sum);                                   \
        return (float)sum;                                                                                 \
    }                                                                                                      \
    float cpu_avx2_vec_dot_##name(int64_t n, const void *x, const void *y) { return name##_row(n, x, y); } \
    void cpu_avx2_vec_dot_rows_##name(int64_t n, const void *x, size_t xs, const void *y, float *out,     \
                                      int nrows) {                                                         \
        for (int r = 0; r < nrows; r++) out[r] = name##_row(n, (const blk_t *)((const char *)x + (size_t)r * xs), y); \
    }

/* Q4_K/Q5_K: the eight 6-bit scales (bytes 0-7) and mins (bytes 8-15) in both 128-bit
 * halves, and the vector of min j times bsums 2j + 2j+1 (summed later). Of the 12 scale
 * bytes (s[0-3]: scales 0-3 in the low 6 bits, the top bits of scales 4-7 above them;
 * s[4-7] the same for the mins; s[8-11]: low nibbles of scales 4-7, high nibbles of mins
 * 4-7) 32-bit lanes [s0-3, s8-11, s4-7, s8-11] >> [0, 0, 0, 4] give the low bits and
 * [-, s0-3, -, s4-7] >> 2 the top bits at 4-5, all in vector registers (the 16-byte load
 * stays inside the block: the levels follow the scales). */
static inline __m256i scale_min_bytes(const uint8_t *s, const int16_t *bsums, __m256i *msum) {
    const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)s));
    const __m256i a = _mm256_shuffle_epi8(v, _mm256_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11,
                                                              0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11));
    const __m256i b = _mm256_shuffle_epi8(v, _mm256_setr_epi8(-1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, 4, 5, 6, 7,
                                                              -1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, 4, 5, 6, 7));
    const __m256i lo = _mm256_and_si256(_mm256_srlv_epi32(a, _mm256_setr_epi32(0, 0, 0, 4, 0, 0, 0, 4)),
                                        _mm256_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f,
                                                          0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
    const __m256i B = _mm256_or_si256(lo, _mm256_and_si256(_mm256_srli_epi16(b, 2), _mm256_set1_epi8(0x30)));
    const __m256i mn = _mm256_shuffle_epi8(B, _mm256_setr_epi8(8, -128, 8, -128, 9, -128, 9, -128, 10, -128, 10, -128, 11,
                                                               -128, 11, -128, 12, -128, 12, -128, 13, -128, 13, -128,
                                                               14, -128, 14, -128, 15, -128, 15, -128));
    *msum = _mm256_madd_epi16(mn, load32(bsums));
    return B;
}

static inline __attribute__((always_inline)) __m256i q4_K_blk(const qg_block_q4_K *x, const qg_block_q8_K *y,
                                                               __m256i *msum, uint32_t *dd) {
    const __m256i B = scale_min_bytes(x->scales, y->bsums, msum);
    memcpy(dd, &x->d, 4);
    const __m256i m4v = _mm256_set1_epi8(15);
    __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
    UNROLL
    for (int k = 0; k < 4; ++k) {
        const __m256i q = load32(x->qs + 32 * k);
        const __m256i lo = _mm256_and_si256(q, m4v), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4v);
        a0 = _mm256_add_epi32(a0, dot_scaled(lo, load32(y->qs + 64 * k), bcast_u8(B, 2 * k, 2 * k)));
        a1 = _mm256_add_epi32(a1, dot_scaled(hi, load32(y->qs + 64 * k + 32), bcast_u8(B, 2 * k + 1, 2 * k + 1)));
    }
    return _mm256_add_epi32(a0, a1);
}
KQ_DOTS(q4_K, qg_block_q4_K, true)

static inline __attribute__((always_inline)) __m256i q5_K_blk(const qg_block_q5_K *x, const qg_block_q8_K *y,
                                                               __m256i *msum, uint32_t *dd) {
    const __m256i B = scale_min_bytes(x->scales, y->bsums, msum);
    memcpy(dd, &x->d, 4);
    const __m256i m4v = _mm256_set1_epi8(15), m16 = _mm256_set1_epi8(16);
    const __m256i h = load32(x->qh); /* bit 2k: low nibbles of chunk k, 2k+1: high */
    __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
    UNROLL
    for (int k = 0; k < 4; ++k) {
        const __m256i q = load32(x->qs + 32 * k);
        const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, m4v), _mm256_and_si256(shift16(h, 4 - 2 * k), m16));
        const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4v),
                                           _mm256_and_si256(shift16(h, 3 - 2 * k), m16));
        a0 = _mm256_add_epi32(a0, dot_scaled(lo, load32(y->qs + 64 * k), bcast_u8(B, 2 * k, 2 * k)));
        a1 = _mm256_add_epi32(a1, dot_scaled(hi, load32(y->qs + 64 * k + 32), bcast_u8(B, 2 * k + 1, 2 * k + 1)));
    }
    return _mm256_add_epi32(a0, a1);
}
KQ_DOTS(q5_K, qg_block_q5_K, true)

static inline __attribute__((always_inline)) __m256i q6_K_blk(const qg_block_q6_K *x, const qg_block_q8_K *y,
                                                               __m256i *msum, uint32_t *dd) {
    const __m256i S = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x->scales));
    *msum = _mm256_setzero_si256();
    uint16_t d;
    memcpy(&d, &x->d, 2);
    *dd = d;
    const __m256i m4 = _mm256_set1_epi8(15), m30 = _mm256_set1_epi8(0x30);
    __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
    UNROLL
    for (int h = 0; h < 2; ++h) {
        const __m256i ql0 = load32(x->ql + 64 * h), ql1 = load32(x->ql + 64 * h + 32);
        const __m256i qh = load32(x->qh + 32 * h);
        const __m256i q[4] = {
            _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30)),
            _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30)),
        };
        UNROLL
        for (int p = 0; p < 4; p += 2) {
            a0 = _mm256_add_epi32(a0, dot_scaled(q[p], load32(y->qs + 128 * h + 32 * p), scale_pair16(S, 8 * h + 2 * p)));
            a1 = _mm256_add_epi32(a1, dot_scaled(q[p + 1], load32(y->qs + 128 * h + 32 * p + 32),
                                                 scale_pair16(S, 8 * h + 2 * p + 2)));
        }
    }
    /* levels q stand for q - 32 */
    const __m256i off = _mm256_madd_epi16(S, load32(y->bsums));
    return _mm256_sub_epi32(_mm256_add_epi32(a0, a1), _mm256_slli_epi32(off, 5));
}
KQ_DOTS(q6_K, qg_block_q6_K, false)

static inline __attribute__((always_inline)) __m256i q2_K_blk(const qg_block_q2_K *x, const qg_block_q8_K *y,
                                                               __m256i *msum, uint32_t *dd) {
    const __m128i raw = _mm_loadu_si128((const __m128i *)x->scales), m15 = _mm_set1_epi8(15);
    const __m256i SC = _mm256_broadcastsi128_si256(_mm_and_si128(raw, m15));
    *msum = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), m15)), load32(y->bsums));
    memcpy(dd, &x->d, 4);
    const __m256i m3 = _mm256_set1_epi8(3);
    __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
    UNROLL
    for (int h = 0; h < 2; ++h) {
        const __m256i q = load32(x->qs + 32 * h);
        UNROLL
        for (int s = 0; s < 4; s += 2) {
            const int sb = 8 * h + 2 * s;
            const __m256i u0 = _mm256_and_si256(shift16(q, -2 * s), m3), u1 = _mm256_and_si256(shift16(q, -2 * s - 2), m3);
            a0 = _mm256_add_epi32(a0, dot_scaled(u0, load32(y->qs + 128 * h + 32 * s), bcast_u8(SC, sb, sb + 1)));
            a1 = _mm256_add_epi32(a1, dot_scaled(u1, load32(y->qs + 128 * h + 32 * s + 32), bcast_u8(SC, sb + 2, sb + 3)));
        }
    }
    return _mm256_add_epi32(a0, a1);
}
KQ_DOTS(q2_K, qg_block_q2_K, true)

/* Q3_K's sixteen 6-bit scales as int16 (stored +32: taken off). Low nibbles: bytes 0-7
 * (scales 0-7) and their high nibbles (scales 8-15); two high bits per scale in bytes
 * 8-11, scale j at bit 2*(j/4) of byte 8 + j%4. One 16-byte load ending at the scales'
 * last byte (the block's d follows, and the block may end the buffer); 32-bit lanes
 * [bytes 0-3, 4-7, 0-3, 4-7] >> [0, 0, 4, 4] give the nibbles, [8-11] x4 shifted by
 * [+4, +2, 0, -2] put the high bits at 4-5 of each byte. */
static inline __m256i q3_K_scales(const uint8_t *scales) {
    const __m128i v = _mm_loadu_si128((const __m128i *)(scales - 4));
    const __m128i lo = _mm_and_si128(
        _mm_srlv_epi32(_mm_shuffle_epi8(v, _mm_setr_epi8(4, 5, 6, 7, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11)),
                       _mm_setr_epi32(0, 0, 4, 4)),
        _mm_set1_epi8(15));
    const __m128i h = _mm_shuffle_epi8(v, _mm_setr_epi8(12, 13, 14, 15, 12, 13, 14, 15, 12, 13, 14, 15, 12, 13, 14, 15));
    const __m128i hi = _mm_and_si128(_mm_srlv_epi32(_mm_sllv_epi32(h, _mm_setr_epi32(4, 2, 0, 0)), _mm_setr_epi32(0, 0, 0, 2)),
                                     _mm_set1_epi8(0x30));
    return _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_or_si128(lo, hi)), _mm256_set1_epi16(32));
}

static inline __attribute__((always_inline)) __m256i q3_K_blk(const qg_block_q3_K *x, const qg_block_q8_K *y,
                                                               __m256i *msum, uint32_t *dd) {
    const __m256i S = q3_K_scales(x->scales);
    *msum = _mm256_setzero_si256();
    uint16_t d;
    memcpy(&d, &x->d, 2);
    *dd = d;
    const __m256i m3 = _mm256_set1_epi8(3), b2 = _mm256_set1_epi8(4);
    const __m256i hm = load32(x->hmask); /* bit 4h+s: third bit of group (h, s) */
    __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
    UNROLL
    for (int h = 0; h < 2; ++h) {
        const __m256i q = load32(x->qs + 32 * h);
        UNROLL
        for (int s = 0; s < 4; ++s) {
            const __m256i u = _mm256_or_si256(_mm256_and_si256(shift16(q, -2 * s), m3),
                                              _mm256_and_si256(shift16(hm, 2 - (4 * h + s)), b2));
            const __m256i p = dot_scaled(u, load32(y->qs + 128 * h + 32 * s), scale_pair16(S, 8 * h + 2 * s));
            if (s % 2) a1 = _mm256_add_epi32(a1, p);
            else a0 = _mm256_add_epi32(a0, p);
        }
    }
    /* u stands for u - 4 */
    const __m256i off = _mm256_madd_epi16(S, load32(y->bsums));
    return _mm256_sub_epi32(_mm256_add_epi32(a0, a1), _mm256_slli_epi32(off, 2));
}
KQ_DOTS(q3_K, qg_block_q3_K, false)

/* IQ4_XS: 32 bytes of nibbles hold sub-blocks 2p (low 128 bits) and 2p+1; the low
 * nibbles are their elements 0-15, the high nibbles 16-31, so each is paired with
 * activation halves from the two sub-blocks and one pair of scales serves both. */
static inline __attribute__((always_inline)) __m256i iq4_xs_blk(const qg_block_iq4_xs *x, const qg_block_q8_K *y,
                                                                 __m256i *msum, uint32_t *dd) {
    uint32_t sl;
    memcpy(&sl, x->scales_l, 4);
    const __m128i nib = _mm_cvtepu8_epi16(
        _mm_unpacklo_epi8(_mm_cvtsi32_si128((int)(sl & 0x0f0f0f0fu)), _mm_cvtsi32_si128((int)((sl >> 4) & 0x0f0f0f0fu))));
    /* bits 2j, 2j+1 of scales_h to the top of lane j, then down to 0-1 */
    const __m128i hb = _mm_srli_epi16(
        _mm_mullo_epi16(_mm_set1_epi16((short)x->scales_h),
                        _mm_setr_epi16(1 << 14, 1 << 12, 1 << 10, 1 << 8, 1 << 6, 1 << 4, 1 << 2, 1)),
        14);
    const __m256i LS =
        _mm256_broadcastsi128_si256(_mm_sub_epi16(_mm_or_si128(nib, _mm_slli_epi16(hb, 4)), _mm_set1_epi16(32)));
    *msum = _mm256_setzero_si256();
    uint16_t d;
    memcpy(&d, &x->d, 2);
    *dd = d;
    const __m128i t = _mm_loadu_si128((const __m128i *)kq_iq4_levels);
    const __m256i lut = _mm256_set_m128i(t, t), m4 = _mm256_set1_epi8(15);
    __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
    UNROLL
    for (int p = 0; p < 4; ++p) {
        const __m256i q = load32(x->qs + 32 * p);
        const __m256i wl = _mm256_shuffle_epi8(lut, _mm256_and_si256(q, m4));
        const __m256i wh = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
        const int8_t *yq = y->qs + 64 * p;
        const __m256i yl = _mm256_loadu2_m128i((const __m128i *)(yq + 32), (const __m128i *)yq);
        const __m256i yh = _mm256_loadu2_m128i((const __m128i *)(yq + 48), (const __m128i *)(yq + 16));
        const __m256i sc = _mm256_shuffle_epi8(
            LS, ctl16((short)(0x0100 * (4 * p + 1) + 4 * p), (short)(0x0100 * (4 * p + 3) + 4 * p + 2)));
        /* signed levels: |w| unsigned, sign moved onto y (y is never -128) */
        const __m256i pl = _mm256_maddubs_epi16(_mm256_sign_epi8(wl, wl), _mm256_sign_epi8(yl, wl));
        const __m256i ph = _mm256_maddubs_epi16(_mm256_sign_epi8(wh, wh), _mm256_sign_epi8(yh, wh));
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(pl, sc));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(ph, sc));
    }
    return _mm256_add_epi32(a0, a1);
}
KQ_DOTS(iq4_xs, qg_block_iq4_xs, false)
