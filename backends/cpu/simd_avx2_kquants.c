/* AVX2 dot products of the 256-element super-block types (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K,
 * IQ4_XS) against four Q8_K activation rows at once (vec_dot4, the mat-mat columns the
 * tiled path leaves): each chunk of levels is expanded once for all four columns. The
 * float part is evaluated exactly as the scalar reference does it (in double, same
 * operations, blocks added in order), so each column gets the very same float as the
 * references in core/quant and as vec_dot (simd_avx2_kquants_dot.c).
 */
#include "simd_avx2_kquants.h"

#include <string.h>

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
    const __m128i t = _mm_loadu_si128((const __m128i *)kq_iq4_levels);
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
