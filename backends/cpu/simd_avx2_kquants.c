/* AVX2 dot products of the 256-element super-block types against Q8_K: Q2_K, Q3_K, Q4_K,
 * Q5_K, Q6_K and IQ4_XS, for one activation column (vec_dot, the mat-vec) and for four
 * (vec_dot4).
 *
 * Levels are expanded to bytes 32 at a time and multiplied with the activation bytes by
 * maddubs (unsigned levels first; signed ones are offset to unsigned and the offset is
 * taken back through Q8_K's per-16 sums, bsums); the int16 pair sums are multiplied by
 * the sub-block scales in madd, so int32 vectors hold the super-block's scaled sums. The
 * float part is evaluated exactly as the scalar reference does it (in double, same
 * operations, blocks added in order), so these return the very same float as the
 * references in core/quant. vec_dot sums four super-blocks' vectors horizontally at once
 * and evaluates their float parts in one double vector; it prefetches the weights
 * KQ_PREFETCH bytes ahead.
 */
#include "simd_avx2.h"

#include <string.h>

#include "core/quant/k_internal.h"

static const int8_t iq4_levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/* The fixed-count loops over a super-block's chunks must be unrolled: their shuffle
 * controls are only constants once the loop index is. */
#define UNROLL _Pragma("GCC unroll 8")
/* Loops over the 1..4 activation columns likewise, so accumulators stay in registers. */
#define UNROLL_C _Pragma("GCC unroll 4")

static inline __m256i load32(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

/* sum over 32 bytes of u*y*scale (u unsigned, maddubs pair sums times int16 scales). */
static inline __m256i dot_scaled(__m256i u, __m256i y, __m256i scales) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, y), scales);
}

/* Q4_K/Q5_K: the eight 6-bit scales and mins of a block as int16 vectors, unpacked four
 * at a time in 32-bit words. Bytes 0-3 hold scales 0-3 (low 6 bits) and the top bits of
 * scales 4-7; bytes 4-7 the same for the mins; bytes 8-11 the low nibbles of scales 4-7
 * and (high nibbles) of mins 4-7. */
static inline void unpack_scale_min(const uint8_t *s, __m128i *sc, __m128i *mn) {
    uint32_t u0, u1, u2;
    memcpy(&u0, s, 4);
    memcpy(&u1, s + 4, 4);
    memcpy(&u2, s + 8, 4);
    const uint32_t m6 = 0x3f3f3f3fu, m4 = 0x0f0f0f0fu, m2 = 0x03030303u;
    const uint32_t sc_lo = u0 & m6, mn_lo = u1 & m6;
    const uint32_t sc_hi = (u2 & m4) | (((u0 >> 6) & m2) << 4);
    const uint32_t mn_hi = ((u2 >> 4) & m4) | (((u1 >> 6) & m2) << 4);
    *sc = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)sc_hi, (int)sc_lo));
    *mn = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)mn_hi, (int)mn_lo));
}

/* sum_j mn_j * (bsums[2j] + bsums[2j+1]) for the eight int16 mins. */
static inline int32_t min_sum(__m128i mn, const int16_t *bsums) {
    const __m128i b0 = _mm_loadu_si128((const __m128i *)bsums), b1 = _mm_loadu_si128((const __m128i *)(bsums + 8));
    __m128i p = _mm_madd_epi16(_mm_hadd_epi16(b0, b1), mn);
    p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4e));
    p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0xb1));
    return _mm_cvtsi128_si32(p);
}

/* Broadcast int16 lane j (0..7) of v to all 16 lanes of a 256-bit vector. */
static inline __m256i bcast16(__m256i v2, int j) {
    return _mm256_shuffle_epi8(v2, _mm256_set1_epi16((short)(0x0100 * (2 * j + 1) + 2 * j)));
}

/* A shuffle control: int16 lo in the low 128 bits, hi in the high 128 bits (written as
 * one 256-bit constant: GCC builds _mm256_set_m128i of two constants with instructions). */
static inline __m256i ctl16(short lo, short hi) {
    return _mm256_setr_epi16(lo, lo, lo, lo, lo, lo, lo, lo, hi, hi, hi, hi, hi, hi, hi, hi);
}

/* For sixteen int16 scales S (lane 0: scales 0-7, lane 1: 8-15) and an even sub-block
 * sb: scale sb in all int16 of the low 128 bits, scale sb+1 in the high 128 bits (the
 * layout dot_scaled wants for a 32-byte group spanning sub-blocks sb and sb+1). */
static inline __m256i scale_pair16(__m256i S, int sb) {
    const __m256i half = sb < 8 ? _mm256_permute2x128_si256(S, S, 0x00) : _mm256_permute2x128_si256(S, S, 0x11);
    const int j = sb % 8;
    return _mm256_shuffle_epi8(half, ctl16((short)(0x0100 * (2 * j + 1) + 2 * j), (short)(0x0100 * (2 * j + 3) + 2 * j + 2)));
}

/* Horizontal sum of madd(S, bsums): sum_j S_j * bsums_j over sixteen int16. */
static inline int32_t scaled_bsums(__m256i S, const int16_t *bsums) {
    return avx2_hsum_epi32(_mm256_madd_epi16(S, _mm256_loadu_si256((const __m256i *)bsums)));
}

/* One Q4_K row against nc (1..4) activation rows y + c*ys (the vec_dot4 variant expands
 * each chunk of levels once for all of them). */
static inline __attribute__((always_inline)) void q4_K_tile(int nc, int64_t n, const void *vx, const void *vy,
                                                            size_t ys, float *out) {
    const qg_block_q4_K *x = vx;
    const __m256i m4 = _mm256_set1_epi8(15);
    double sum[4] = {0.0, 0.0, 0.0, 0.0};
    for (int64_t i = 0; i < n / QG_QK_K; ++i) {
        __m128i sc, mn;
        unpack_scale_min(x[i].scales, &sc, &mn);
        const __m256i sc2 = _mm256_broadcastsi128_si256(sc);
        const qg_block_q8_K *yb[4];
        __m256i acc[4];
        UNROLL_C for (int c = 0; c < nc; c++) {
            yb[c] = (const qg_block_q8_K *)((const char *)vy + (size_t)c * ys) + i;
            acc[c] = _mm256_setzero_si256();
        }
        UNROLL
        for (int k = 0; k < 4; ++k) {
            const __m256i q = load32(x[i].qs + 32 * k);
            const __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            const __m256i slo = bcast16(sc2, 2 * k), shi = bcast16(sc2, 2 * k + 1);
            UNROLL_C for (int c = 0; c < nc; c++) {
                acc[c] = _mm256_add_epi32(acc[c], dot_scaled(lo, load32(yb[c]->qs + 64 * k), slo));
                acc[c] = _mm256_add_epi32(acc[c], dot_scaled(hi, load32(yb[c]->qs + 64 * k + 32), shi));
            }
        }
        const double d = avx2_fp16(x[i].d), dmin = avx2_fp16(x[i].dmin);
        UNROLL_C for (int c = 0; c < nc; c++) {
            const int32_t isum = avx2_hsum_epi32(acc[c]), msum = min_sum(mn, yb[c]->bsums);
            sum[c] += (double)yb[c]->d * (d * isum - dmin * msum);
        }
    }
    UNROLL_C for (int c = 0; c < nc; c++) out[c] = (float)sum[c];
}

void cpu_avx2_vec_dot4_q4_K(int64_t n, const void *x, const void *y, size_t ys, float *out) {
    q4_K_tile(4, n, x, y, ys, out);
}

static inline __attribute__((always_inline)) void q5_K_tile(int nc, int64_t n, const void *vx, const void *vy,
                                                            size_t ys, float *out) {
    const qg_block_q5_K *x = vx;
    const __m256i m4 = _mm256_set1_epi8(15), one = _mm256_set1_epi8(1);
    double sum[4] = {0.0, 0.0, 0.0, 0.0};
    for (int64_t i = 0; i < n / QG_QK_K; ++i) {
        __m128i sc, mn;
        unpack_scale_min(x[i].scales, &sc, &mn);
        const __m256i sc2 = _mm256_broadcastsi128_si256(sc);
        const qg_block_q8_K *yb[4];
        __m256i acc[4];
        UNROLL_C for (int c = 0; c < nc; c++) {
            yb[c] = (const qg_block_q8_K *)((const char *)vy + (size_t)c * ys) + i;
            acc[c] = _mm256_setzero_si256();
        }
        __m256i h = load32(x[i].qh); /* bit 2k: low sub-block of chunk k, 2k+1: high */
        UNROLL
        for (int k = 0; k < 4; ++k) {
            const __m256i q = load32(x[i].qs + 32 * k);
            __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(h, one), 4));
            h = _mm256_srli_epi16(h, 1);
            hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(h, one), 4));
            h = _mm256_srli_epi16(h, 1);
            const __m256i slo = bcast16(sc2, 2 * k), shi = bcast16(sc2, 2 * k + 1);
            UNROLL_C for (int c = 0; c < nc; c++) {
                acc[c] = _mm256_add_epi32(acc[c], dot_scaled(lo, load32(yb[c]->qs + 64 * k), slo));
                acc[c] = _mm256_add_epi32(acc[c], dot_scaled(hi, load32(yb[c]->qs + 64 * k + 32), shi));
            }
        }
        const double d = avx2_fp16(x[i].d), dmin = avx2_fp16(x[i].dmin);
        UNROLL_C for (int c = 0; c < nc; c++) {
            const int32_t isum = avx2_hsum_epi32(acc[c]), msum = min_sum(mn, yb[c]->bsums);
            sum[c] += (double)yb[c]->d * (d * isum - dmin * msum);
        }
    }
    UNROLL_C for (int c = 0; c < nc; c++) out[c] = (float)sum[c];
}

/* Q6_K: levels q in 0..63 stand for q - 32; the -32 comes back as -32 * sum(sc * bsums).
 * One row against nc (1..4) activation rows, as for Q4_K. */
static inline __attribute__((always_inline)) void q6_K_tile(int nc, int64_t n, const void *vx, const void *vy,
                                                            size_t ys, float *out) {
    const qg_block_q6_K *x = vx;
    const __m256i m4 = _mm256_set1_epi8(15), m30 = _mm256_set1_epi8(0x30);
    double sum[4] = {0.0, 0.0, 0.0, 0.0};
    for (int64_t i = 0; i < n / QG_QK_K; ++i) {
        const __m256i S = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales));
        const qg_block_q8_K *yb[4];
        __m256i acc[4];
        UNROLL_C for (int c = 0; c < nc; c++) {
            yb[c] = (const qg_block_q8_K *)((const char *)vy + (size_t)c * ys) + i;
            acc[c] = _mm256_setzero_si256();
        }
        UNROLL
        for (int h = 0; h < 2; ++h) {
            const __m256i ql0 = load32(x[i].ql + 64 * h), ql1 = load32(x[i].ql + 64 * h + 32);
            const __m256i qh = load32(x[i].qh + 32 * h);
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30)),
                _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30)),
            };
            UNROLL
            for (int p = 0; p < 4; ++p) {
                const int sb = 8 * h + 2 * p;
                const __m256i sp = scale_pair16(S, sb);
                UNROLL_C for (int c = 0; c < nc; c++)
                    acc[c] = _mm256_add_epi32(acc[c], dot_scaled(q[p], load32(yb[c]->qs + 128 * h + 32 * p), sp));
            }
        }
        const double d = avx2_fp16(x[i].d);
        UNROLL_C for (int c = 0; c < nc; c++) {
            const int32_t isum = avx2_hsum_epi32(acc[c]) - 32 * scaled_bsums(S, yb[c]->bsums);
            sum[c] += (double)yb[c]->d * d * isum;
        }
    }
    UNROLL_C for (int c = 0; c < nc; c++) out[c] = (float)sum[c];
}

void cpu_avx2_vec_dot4_q6_K(int64_t n, const void *x, const void *y, size_t ys, float *out) {
    q6_K_tile(4, n, x, y, ys, out);
}

static inline __attribute__((always_inline)) void q2_K_tile(int nc, int64_t n, const void *vx, const void *vy,
                                                            size_t ys, float *out) {
    const qg_block_q2_K *x = vx;
    const __m256i m3 = _mm256_set1_epi8(3);
    double sum[4] = {0.0, 0.0, 0.0, 0.0};
    for (int64_t i = 0; i < n / QG_QK_K; ++i) {
        const __m128i raw = _mm_loadu_si128((const __m128i *)x[i].scales);
        const __m256i SC = _mm256_cvtepu8_epi16(_mm_and_si128(raw, _mm_set1_epi8(15)));
        const __m256i MN = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(15)));
        const qg_block_q8_K *yb[4];
        __m256i acc[4];
        UNROLL_C for (int c = 0; c < nc; c++) {
            yb[c] = (const qg_block_q8_K *)((const char *)vy + (size_t)c * ys) + i;
            acc[c] = _mm256_setzero_si256();
        }
        UNROLL
        for (int h = 0; h < 2; ++h) {
            __m256i q = load32(x[i].qs + 32 * h);
            UNROLL
            for (int s = 0; s < 4; ++s) {
                const int sb = 8 * h + 2 * s;
                const __m256i u = _mm256_and_si256(q, m3), sp = scale_pair16(SC, sb);
                UNROLL_C for (int c = 0; c < nc; c++)
                    acc[c] = _mm256_add_epi32(acc[c], dot_scaled(u, load32(yb[c]->qs + 128 * h + 32 * s), sp));
                q = _mm256_srli_epi16(q, 2);
            }
        }
        const double d = avx2_fp16(x[i].d), dmin = avx2_fp16(x[i].dmin);
        UNROLL_C for (int c = 0; c < nc; c++) {
            const int32_t msum = scaled_bsums(MN, yb[c]->bsums);
            const int32_t isum = avx2_hsum_epi32(acc[c]);
            sum[c] += (double)yb[c]->d * (d * isum - dmin * msum);
        }
    }
    UNROLL_C for (int c = 0; c < nc; c++) out[c] = (float)sum[c];
}

/* Q3_K: u = low2 + 4*hbit in 0..7 stands for u - 4; the -4 comes back through bsums. */
static inline __attribute__((always_inline)) void q3_K_tile(int nc, int64_t n, const void *vx, const void *vy,
                                                            size_t ys, float *out) {
    const qg_block_q3_K *x = vx;
    const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    double sum[4] = {0.0, 0.0, 0.0, 0.0};
    for (int64_t i = 0; i < n / QG_QK_K; ++i) {
        /* sixteen 6-bit scales: low nibbles in bytes 0-7 (scales 0-7) and their high
         * nibbles (scales 8-15); two high bits per scale in bytes 8-11, scale j at bit
         * 2*(j/4) of byte 8 + j%4. Stored +32. */
        uint32_t u0, u1, u2;
        memcpy(&u0, x[i].scales, 4);
        memcpy(&u1, x[i].scales + 4, 4);
        memcpy(&u2, x[i].scales + 8, 4);
        const uint32_t m4 = 0x0f0f0f0fu, m2 = 0x03030303u;
        const __m128i packed = _mm_set_epi32((int)(((u1 >> 4) & m4) | (((u2 >> 6) & m2) << 4)),
                                             (int)(((u0 >> 4) & m4) | (((u2 >> 4) & m2) << 4)),
                                             (int)((u1 & m4) | (((u2 >> 2) & m2) << 4)),
                                             (int)((u0 & m4) | ((u2 & m2) << 4)));
        const __m256i SC = _mm256_sub_epi16(_mm256_cvtepu8_epi16(packed), _mm256_set1_epi16(32));
        const qg_block_q8_K *yb[4];
        __m256i acc[4];
        UNROLL_C for (int c = 0; c < nc; c++) {
            yb[c] = (const qg_block_q8_K *)((const char *)vy + (size_t)c * ys) + i;
            acc[c] = _mm256_setzero_si256();
        }
        __m256i hm = load32(x[i].hmask);
        UNROLL
        for (int h = 0; h < 2; ++h) {
            __m256i q = load32(x[i].qs + 32 * h);
            UNROLL
            for (int s = 0; s < 4; ++s) {
                const int sb = 8 * h + 2 * s;
                const __m256i u =
                    _mm256_or_si256(_mm256_and_si256(q, m3), _mm256_slli_epi16(_mm256_and_si256(hm, one), 2));
                const __m256i sp = scale_pair16(SC, sb);
                UNROLL_C for (int c = 0; c < nc; c++)
                    acc[c] = _mm256_add_epi32(acc[c], dot_scaled(u, load32(yb[c]->qs + 128 * h + 32 * s), sp));
                q = _mm256_srli_epi16(q, 2);
                hm = _mm256_srli_epi16(hm, 1);
            }
        }
        const double d = avx2_fp16(x[i].d);
        UNROLL_C for (int c = 0; c < nc; c++) {
            const int32_t isum = avx2_hsum_epi32(acc[c]) - 4 * scaled_bsums(SC, yb[c]->bsums);
            sum[c] += (double)yb[c]->d * d * isum;
        }
    }
    UNROLL_C for (int c = 0; c < nc; c++) out[c] = (float)sum[c];
}

static inline __attribute__((always_inline)) void iq4_xs_tile(int nc, int64_t n, const void *vx, const void *vy,
                                                              size_t ys, float *out) {
    const qg_block_iq4_xs *x = vx;
    const __m128i t = _mm_loadu_si128((const __m128i *)iq4_levels);
    const __m256i lut = _mm256_set_m128i(t, t);
    double sum[4] = {0.0, 0.0, 0.0, 0.0};
    for (int64_t i = 0; i < n / QG_QK_K; ++i) {
        const qg_block_q8_K *yb[4];
        __m256i acc[4];
        UNROLL_C for (int c = 0; c < nc; c++) {
            yb[c] = (const qg_block_q8_K *)((const char *)vy + (size_t)c * ys) + i;
            acc[c] = _mm256_setzero_si256();
        }
        UNROLL
        for (int ib = 0; ib < 8; ++ib) {
            const int lo = (x[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 15;
            const int hi = (x[i].scales_h >> (2 * ib)) & 3;
            const __m256i sc = _mm256_set1_epi16((short)((lo | (hi << 4)) - 32));
            const __m256i w = _mm256_shuffle_epi8(lut, avx2_nibbles(x[i].qs + 16 * ib));
            const __m256i aw = _mm256_sign_epi8(w, w);
            /* signed levels: |w| unsigned, sign moved onto y (y is never -128) */
            UNROLL_C for (int c = 0; c < nc; c++) {
                const __m256i p = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(load32(yb[c]->qs + 32 * ib), w));
                acc[c] = _mm256_add_epi32(acc[c], _mm256_madd_epi16(p, sc));
            }
        }
        const double d = avx2_fp16(x[i].d);
        UNROLL_C for (int c = 0; c < nc; c++) sum[c] += (double)yb[c]->d * d * avx2_hsum_epi32(acc[c]);
    }
    UNROLL_C for (int c = 0; c < nc; c++) out[c] = (float)sum[c];
}

#define TILE_ENTRIES(name)                                                                          \
    void cpu_avx2_vec_dot4_##name(int64_t n, const void *x, const void *y, size_t ys, float *out) { \
        name##_tile(4, n, x, y, ys, out);                                                           \
    }

TILE_ENTRIES(q2_K)
TILE_ENTRIES(q3_K)
TILE_ENTRIES(q5_K)
TILE_ENTRIES(iq4_xs)

/* One column (vec_dot, the n = 1 mat-vec): each super-block leaves its integer sums in
 * int32 vectors; four super-blocks at a time are summed horizontally together
 * (hsum4_epi32) and their float parts evaluated in one double vector with the very
 * operations of the reference, then added to the running sum one by one in block order,
 * so the result is still the reference's float bit for bit. */

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

/* Software prefetch distance of the weights in vec_dot (0: none). In a single-thread
 * benchmark streaming 128 MB of weights from DRAM (Zen 3, under load), 768 to 4096 bytes
 * were all faster than none (by 10-30%); the hardware prefetcher alone falls behind. */
#ifndef KQ_PREFETCH
#define KQ_PREFETCH 2048
#endif

/* The row loop: NAME##_blk(x, y, &msum, &dd) returns a super-block's integer sum vector
 * (type 0: already including the level offset's bsums term), sets the min sum vector
 * (type 1) and the block's fp16 scales. */
#define DOT1(name, blk_t, type1)                                                                          \
    float cpu_avx2_vec_dot_##name(int64_t n, const void *vx, const void *vy) {                             \
        const blk_t *x = vx;                                                                               \
        const qg_block_q8_K *y = vy;                                                                       \
        const int64_t nb = n / QG_QK_K;                                                                    \
        double sum = 0.0;                                                                                  \
        int64_t i = 0;                                                                                     \
        for (; i + 4 <= nb; i += 4) {                                                                      \
            if (KQ_PREFETCH)                                                                               \
                for (size_t o = 0; o < 4 * sizeof(blk_t); o += 64)                                         \
                    _mm_prefetch((const char *)(x + i) + KQ_PREFETCH + o, _MM_HINT_T0);                    \
            __m128i a[4], m[4];                                                                            \
            uint32_t dd[4];                                                                                \
            __m256i mj;                                                                                    \
            UNROLL for (int j = 0; j < 4; j++)                                                             \
                a[j] = fold128(name##_blk(x + i + j, y + i + j, &mj, &dd[j])), m[j] = fold128(mj);         \
            /* (vectors built from registers: loading them from arrays would stall on store forwarding) */ \
            const __m128i is = hsum4_epi32(a[0], a[1], a[2], a[3]);                                        \
            const __m128i ms = type1 ? hsum4_epi32(m[0], m[1], m[2], m[3]) : is;                           \
            const __m256d c = finish4(type1, is, ms, _mm_setr_epi32((int)dd[0], (int)dd[1], (int)dd[2], (int)dd[3]), \
                                      _mm_setr_ps(y[i].d, y[i + 1].d, y[i + 2].d, y[i + 3].d));             \
            sum = add_in_order(sum, c, 4);                                                                 \
        }                                                                                                  \
        if (i < nb) {                                                                                      \
            const int cnt = (int)(nb - i);                                                                 \
            __m128i a[4], m[4];                                                                            \
            uint32_t dd[4] = {0, 0, 0, 0};                                                                 \
            float yd[4] = {0, 0, 0, 0};                                                                    \
            for (int j = 0; j < 4; j++) {                                                                  \
                a[j] = m[j] = _mm_setzero_si128();                                                         \
                if (j < cnt) {                                                                             \
                    __m256i mj;                                                                            \
                    a[j] = fold128(name##_blk(x + i + j, y + i + j, &mj, &dd[j])), m[j] = fold128(mj);     \
                    yd[j] = y[i + j].d;                                                                    \
                }                                                                                          \
            }                                                                                              \
            const __m128i is = hsum4_epi32(a[0], a[1], a[2], a[3]);                                        \
            const __m128i ms = type1 ? hsum4_epi32(m[0], m[1], m[2], m[3]) : is;                           \
            sum = add_in_order(sum, finish4(type1, is, ms, _mm_loadu_si128((const __m128i *)dd), _mm_loadu_ps(yd)), cnt); \
        }                                                                                                  \
        return (float)sum;                                                                                 \
    }

/* Q4_K/Q5_K one column: the eight 6-bit scales (bytes 0-7) and mins (bytes 8-15) in both
 * 128-bit halves, and the vector of min j times bsums 2j + 2j+1 (summed later). */
static inline __m256i scale_min_bytes(const uint8_t *s, const int16_t *bsums, __m256i *msum) {
    uint32_t u0, u1, u2;
    memcpy(&u0, s, 4);
    memcpy(&u1, s + 4, 4);
    memcpy(&u2, s + 8, 4);
    const uint32_t m6 = 0x3f3f3f3fu, m4 = 0x0f0f0f0fu, m2 = 0x03030303u;
    const __m256i B = _mm256_broadcastsi128_si256(_mm_setr_epi32((int)(u0 & m6), (int)((u2 & m4) | (((u0 >> 6) & m2) << 4)),
                                                                 (int)(u1 & m6), (int)(((u2 >> 4) & m4) | (((u1 >> 6) & m2) << 4))));
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
DOT1(q4_K, qg_block_q4_K, true)

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
DOT1(q5_K, qg_block_q5_K, true)

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
DOT1(q6_K, qg_block_q6_K, false)

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
DOT1(q2_K, qg_block_q2_K, true)

static inline __attribute__((always_inline)) __m256i q3_K_blk(const qg_block_q3_K *x, const qg_block_q8_K *y,
                                                               __m256i *msum, uint32_t *dd) {
    uint32_t u0, u1, u2;
    memcpy(&u0, x->scales, 4);
    memcpy(&u1, x->scales + 4, 4);
    memcpy(&u2, x->scales + 8, 4);
    const uint32_t m4 = 0x0f0f0f0fu, m2 = 0x03030303u;
    const __m128i packed = _mm_set_epi32((int)(((u1 >> 4) & m4) | (((u2 >> 6) & m2) << 4)),
                                         (int)(((u0 >> 4) & m4) | (((u2 >> 4) & m2) << 4)),
                                         (int)((u1 & m4) | (((u2 >> 2) & m2) << 4)), (int)((u0 & m4) | ((u2 & m2) << 4)));
    const __m256i S = _mm256_sub_epi16(_mm256_cvtepu8_epi16(packed), _mm256_set1_epi16(32));
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
DOT1(q3_K, qg_block_q3_K, false)

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
    const __m128i t = _mm_loadu_si128((const __m128i *)iq4_levels);
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
DOT1(iq4_xs, qg_block_iq4_xs, false)
