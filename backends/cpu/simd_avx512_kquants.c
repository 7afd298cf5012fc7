/* AVX-512 (BW + VNNI) dot products of the 256-element super-block types Q2_K, Q3_K, Q4_K,
 * Q5_K, Q6_K and IQ4_XS against Q8_K: vec_dot (one activation row), vec_dot4 (four, each
 * chunk of levels expanded once for all of them) and vec_dot_rows (vec_dot per row).
 *
 * A super-block is walked 64 elements at a time, in element order, so that one 64-byte
 * load gives the matching activations. The levels are expanded to unsigned bytes
 * (Q3_K and Q6_K stored with their offset, 4 and 32; IQ4_XS as |level| with the level's
 * sign moved onto the activation bytes by a masked negate), multiplied with the
 * activations by vpmaddubsw into int16 pair sums (at most 2 * 63 * 127, or 2 * 127 * 127
 * for IQ4_XS: no saturation), and those are multiplied by the int16 sub-block scales
 * and accumulated into int32 lanes by one vpdpwssd (the scales are spread over the
 * chunk's sub-blocks by vpermw). The offsets and the type-1 minimums come back through
 * the Q8_K per-16 sums (bsums). All of that is exact integer arithmetic, so the
 * super-block's isum and msum are the reference's; the float part is then evaluated in
 * double exactly as the scalar reference does it (same operations, blocks added in
 * order), so every result is bitwise the reference's, whichever entry point computed it.
 */
#include "simd_avx512_int.h"

#include <immintrin.h>
#include <string.h>

#include "core/quant/k_internal.h"

#define UNROLL _Pragma("GCC unroll 8")
#define UNROLL_C _Pragma("GCC unroll 4")

/* Weight prefetch distance in bytes (unmeasured on AVX-512 hardware; 0: none). */
#ifndef QG_AVX512_KQ_PREFETCH
#define QG_AVX512_KQ_PREFETCH 2048
#endif

/* A copy of core's qg_iq4_values: libqgraph does not export it, and the emulator guest
 * (tests/cpu_avx512.cmake) links no core code. */
static const int8_t iq4_levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

static inline float f16(uint16_t h) { return _cvtsh_ss(h); }

static inline __m512i load64(const void *p) { return _mm512_loadu_si512(p); }

/* 32 bytes at p in both halves of a 512-bit vector. */
static inline __m512i bcast32(const void *p) {
    return _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)p));
}

static inline __attribute__((always_inline)) void prefetch_block(const void *p, size_t bytes) {
    if (QG_AVX512_KQ_PREFETCH)
        for (size_t o = 0; o < bytes; o += 64) _mm_prefetch((const char *)p + QG_AVX512_KQ_PREFETCH + o, _MM_HINT_T0);
}

/* The int16 scales S (lanes 0..15 of a 512-bit vector) spread over a 64-element chunk:
 * len 16: int16 lanes 8L..8L+7 get S[first + L] (L = 0..3); len 32: lanes 0-15 get
 * S[first], 16-31 S[first + 1]. */
static inline __m512i spread(__m512i S, int first, int len) {
    short idx[32];
    for (int i = 0; i < 32; i++) idx[i] = (short)(first + (2 * i) / len);
    return _mm512_permutexvar_epi16(_mm512_loadu_si512(idx), S);
}

/* sum of u*y*scale over 64 bytes added to acc (u unsigned, scales int16 per pair). */
static inline __m512i dot_scaled(__m512i acc, __m512i u, __m512i y, __m512i scales) {
    return _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(u, y), scales);
}

/* The sixteen int16 products S_g * bsums_g, pairwise added into 8 int32 lanes (S in
 * the low 256 bits). */
static inline __m256i bsum_products(__m512i S, const int16_t *bsums) {
    return _mm256_madd_epi16(_mm512_castsi512_si256(S), _mm256_loadu_si256((const __m256i *)bsums));
}

/* Q4_K/Q5_K: the eight 6-bit scales and mins (12 bytes at s) as int16 vectors: bytes
 * 0-3 hold scales 0-3 in their low 6 bits and the top bits of scales 4-7; bytes 4-7 the
 * same for the mins; bytes 8-11 the low nibbles of scales 4-7 and (high nibbles) of mins
 * 4-7. sc gets the scales in int16 lanes 0..7 (and the mins in 8..15); mn16 each min
 * twice (lanes 2j, 2j+1), the layout that multiplies the sixteen bsums. The 16-byte load
 * reads 4 bytes past the scales, still inside the block (qs or qh follow). */
static inline void scale_min_k4(const uint8_t *s, __m512i *sc, __m512i *mn16) {
    const __m128i v = _mm_loadu_si128((const __m128i *)s);
    /* low bits: bytes 0-3 (scales 0-3), 8-11 (low nibbles of scales 4-7), 4-7 (mins 0-3),
     * 8-11 again (high nibbles: mins 4-7) */
    __m128i lo = _mm_shuffle_epi8(v, _mm_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11));
    lo = _mm_mask_mov_epi8(lo, 0xF000, _mm_srli_epi16(lo, 4));
    lo = _mm_and_si128(lo, _mm_setr_epi8(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15));
    /* top two bits of bytes 0-3 (scales 4-7) and 4-7 (mins 4-7) become bits 4-5 */
    const __m128i hi = _mm_shuffle_epi8(v, _mm_setr_epi8(-1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, 4, 5, 6, 7));
    const __m128i b = _mm_or_si128(lo, _mm_and_si128(_mm_srli_epi16(hi, 2), _mm_set1_epi8(0x30)));
    const __m256i w = _mm256_cvtepu8_epi16(b);
    *sc = _mm512_castsi256_si512(w);
    *mn16 = _mm512_castsi256_si512(
        _mm256_permutexvar_epi16(_mm256_setr_epi16(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15), w));
}

/* Q4_K/Q5_K chunk k's 4-bit codes: low nibbles of qs[32k..] in bytes 0-31, high in 32-63. */
static inline __m512i nib_k(const uint8_t *qs) {
    __m512i v = bcast32(qs);
    v = _mm512_mask_srli_epi16(v, 0xFFFF0000u, v, 4);
    return _mm512_and_si512(v, _mm512_set1_epi8(15));
}

/* Per type, NAME_sb(xb, nc, yb, acc, mp): one super-block xb against the nc (1..4)
 * activation blocks yb[c]: acc[c] collects the scaled level products in int32 lanes,
 * mp[c] the madd products whose sum is the type-1 msum (sum of min * bsums) or, for the
 * offset types, the offset correction to take off isum. */
#define AI static inline __attribute__((always_inline))

AI void q4_K_sb(const qg_block_q4_K *xb, int nc, const qg_block_q8_K *const *yb, __m512i *acc, __m256i *mp) {
    prefetch_block(xb, sizeof *xb);
    __m512i sc, mn;
    scale_min_k4(xb->scales, &sc, &mn);
    UNROLL_C for (int c = 0; c < nc; c++) acc[c] = _mm512_setzero_si512();
    UNROLL for (int k = 0; k < 4; ++k) {
        const __m512i u = nib_k(xb->qs + 32 * k), s = spread(sc, 2 * k, 32);
        UNROLL_C for (int c = 0; c < nc; c++) acc[c] = dot_scaled(acc[c], u, load64(yb[c]->qs + 64 * k), s);
    }
    UNROLL_C for (int c = 0; c < nc; c++) mp[c] = bsum_products(mn, yb[c]->bsums);
}

AI void q5_K_sb(const qg_block_q5_K *xb, int nc, const qg_block_q8_K *const *yb, __m512i *acc, __m256i *mp) {
    prefetch_block(xb, sizeof *xb);
    __m512i sc, mn;
    scale_min_k4(xb->scales, &sc, &mn);
    UNROLL_C for (int c = 0; c < nc; c++) acc[c] = _mm512_setzero_si512();
    /* bit 2k of qh[l]: element 64k + l, bit 2k+1: element 64k + 32 + l */
    const __m512i h = bcast32(xb->qh);
    UNROLL for (int k = 0; k < 4; ++k) {
        const __m512i bit = _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << (2 * k))),
                                               _mm256_set1_epi8((char)(1 << (2 * k + 1))), 1);
        __m512i u = nib_k(xb->qs + 32 * k);
        u = _mm512_mask_add_epi8(u, _mm512_test_epi8_mask(h, bit), u, _mm512_set1_epi8(16));
        const __m512i s = spread(sc, 2 * k, 32);
        UNROLL_C for (int c = 0; c < nc; c++) acc[c] = dot_scaled(acc[c], u, load64(yb[c]->qs + 64 * k), s);
    }
    UNROLL_C for (int c = 0; c < nc; c++) mp[c] = bsum_products(mn, yb[c]->bsums);
}

/* Q6_K: codes q in 0..63 stand for q - 32; the -32 comes back as 32 * sum(sc * bsums).
 * In each half h of 128 elements, ql[64h + l] holds elements l (low nibble) and l + 64
 * (high), ql[64h + 32 + l] elements l + 32 and l + 96; qh[32h + l] their high bits at
 * 0, 2, 4 and 6 (in that element order). */
AI void q6_K_sb(const qg_block_q6_K *xb, int nc, const qg_block_q8_K *const *yb, __m512i *acc, __m256i *mp) {
    prefetch_block(xb, sizeof *xb);
    const __m512i m4 = _mm512_set1_epi8(15), m30 = _mm512_set1_epi8(0x30);
    /* shift counts per int16: qh bits 0-1 (2-3) to bits 4-5 in the low (high) half */
    const __m512i shl_a = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i shr_b = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    const __m256i S16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)xb->scales));
    const __m512i S = _mm512_castsi256_si512(S16);
    UNROLL_C for (int c = 0; c < nc; c++) acc[c] = _mm512_setzero_si512();
    UNROLL for (int h = 0; h < 2; ++h) {
        const __m512i ql = load64(xb->ql + 64 * h), qh = bcast32(xb->qh + 32 * h);
        const __m512i q0 =
            _mm512_or_si512(_mm512_and_si512(ql, m4), _mm512_and_si512(_mm512_sllv_epi16(qh, shl_a), m30));
        const __m512i q1 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                                           _mm512_and_si512(_mm512_srlv_epi16(qh, shr_b), m30));
        const __m512i s0 = spread(S, 8 * h, 16), s1 = spread(S, 8 * h + 4, 16);
        UNROLL_C for (int c = 0; c < nc; c++) {
            acc[c] = dot_scaled(acc[c], q0, load64(yb[c]->qs + 128 * h), s0);
            acc[c] = dot_scaled(acc[c], q1, load64(yb[c]->qs + 128 * h + 64), s1);
        }
    }
    const __m512i S32 = _mm512_castsi256_si512(_mm256_slli_epi16(S16, 5));
    UNROLL_C for (int c = 0; c < nc; c++) mp[c] = bsum_products(S32, yb[c]->bsums);
}

/* Q2_K / Q3_K low bits: in each half h of 128 elements, qs[32h + l] holds elements
 * 32s + l at bits 2s..2s+1 (s = 0..3). Chunk p (0, 1) of the half: elements 64p..64p+63
 * are s = 2p (bytes 0-31) and 2p + 1 (bytes 32-63). */
static inline __m512i low2_chunk(__m512i q, int p) {
    const __m512i cnt = _mm512_inserti64x4(_mm512_set1_epi16((short)(4 * p)), _mm256_set1_epi16((short)(4 * p + 2)), 1);
    return _mm512_and_si512(_mm512_srlv_epi16(q, cnt), _mm512_set1_epi8(3));
}

AI void q2_K_sb(const qg_block_q2_K *xb, int nc, const qg_block_q8_K *const *yb, __m512i *acc, __m256i *mp) {
    prefetch_block(xb, sizeof *xb);
    const __m128i raw = _mm_loadu_si128((const __m128i *)xb->scales);
    const __m512i SC = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(_mm_and_si128(raw, _mm_set1_epi8(15))));
    const __m512i MN =
        _mm512_castsi256_si512(_mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(15))));
    UNROLL_C for (int c = 0; c < nc; c++) acc[c] = _mm512_setzero_si512();
    UNROLL for (int h = 0; h < 2; ++h) {
        const __m512i q = bcast32(xb->qs + 32 * h);
        UNROLL for (int p = 0; p < 2; ++p) {
            const __m512i u = low2_chunk(q, p), s = spread(SC, 8 * h + 4 * p, 16);
            UNROLL_C for (int c = 0; c < nc; c++)
                acc[c] = dot_scaled(acc[c], u, load64(yb[c]->qs + 128 * h + 64 * p), s);
        }
    }
    UNROLL_C for (int c = 0; c < nc; c++) mp[c] = bsum_products(MN, yb[c]->bsums);
}

/* Q3_K: codes u = low2 + 4 * hbit in 0..7 stand for u - 4 (the -4 comes back through
 * bsums); bit m of hmask[l] belongs to element 32m + l. Sixteen 6-bit scales stored +32:
 * low nibbles in bytes 0-7 (scales 0-7) and their high nibbles (scales 8-15), the two
 * high bits of scale j at bits 2(j/4) of byte 8 + j%4. */
AI void q3_K_sb(const qg_block_q3_K *xb, int nc, const qg_block_q8_K *const *yb, __m512i *acc, __m256i *mp) {
    prefetch_block(xb, sizeof *xb);
    /* the 12 scale bytes (a masked load: the block may end 2 bytes after them) */
    const __m128i v = _mm_maskz_loadu_epi8(0x0FFF, xb->scales);
    __m128i lo = _mm_shuffle_epi8(v, _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7));
    lo = _mm_and_si128(_mm_mask_mov_epi8(lo, 0xFF00, _mm_srli_epi16(lo, 4)), _mm_set1_epi8(15));
    /* scale j's high bits: bits 2(j/4) of byte 8 + j%4 (j/4 is constant per int16 pair) */
    __m128i hi = _mm_shuffle_epi8(v, _mm_setr_epi8(8, 9, 10, 11, 8, 9, 10, 11, 8, 9, 10, 11, 8, 9, 10, 11));
    hi = _mm_and_si128(_mm_srlv_epi16(hi, _mm_setr_epi16(0, 0, 2, 2, 4, 4, 6, 6)), _mm_set1_epi8(3));
    const __m128i packed = _mm_or_si128(lo, _mm_slli_epi16(hi, 4));
    const __m256i SC16 = _mm256_sub_epi16(_mm256_cvtepu8_epi16(packed), _mm256_set1_epi16(32));
    const __m512i SC = _mm512_castsi256_si512(SC16);
    UNROLL_C for (int c = 0; c < nc; c++) acc[c] = _mm512_setzero_si512();
    const __m512i hm = bcast32(xb->hmask);
    UNROLL for (int h = 0; h < 2; ++h) {
        const __m512i q = bcast32(xb->qs + 32 * h);
        UNROLL for (int p = 0; p < 2; ++p) {
            const int m = 4 * h + 2 * p;
            const __m512i bit =
                _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << m)), _mm256_set1_epi8((char)(1 << (m + 1))), 1);
            __m512i u = low2_chunk(q, p);
            u = _mm512_mask_add_epi8(u, _mm512_test_epi8_mask(hm, bit), u, _mm512_set1_epi8(4));
            const __m512i s = spread(SC, 8 * h + 4 * p, 16);
            UNROLL_C for (int c = 0; c < nc; c++)
                acc[c] = dot_scaled(acc[c], u, load64(yb[c]->qs + 128 * h + 64 * p), s);
        }
    }
    const __m512i SC4 = _mm512_castsi256_si512(_mm256_slli_epi16(SC16, 2));
    UNROLL_C for (int c = 0; c < nc; c++) mp[c] = bsum_products(SC4, yb[c]->bsums);
}

/* IQ4_XS: sub-block ib (32 elements) has its 16 bytes at qs + 16 ib, low nibbles first;
 * the 6-bit scale is (scales_l nibble | scales_h two bits << 4) - 32. Levels are signed
 * (never -128): |level| goes unsigned, its sign onto the activation bytes. */
AI void iq4_xs_sb(const qg_block_iq4_xs *xb, int nc, const qg_block_q8_K *const *yb, __m512i *acc, __m256i *mp) {
    prefetch_block(xb, sizeof *xb);
    const __m512i lut = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)iq4_levels));
    /* the eight scales: nibble ib of scales_l, bits 2ib..2ib+1 of scales_h */
    const __m128i lo = _mm_cvtepu8_epi16(_mm_cvtsi32_si128((int)ld32(xb->scales_l)));
    const __m128i nib = _mm_and_si128(_mm_or_si128(lo, _mm_slli_epi16(lo, 4)), _mm_set1_epi16(0x0f0f));
    /* nib: int16 lane j = scales_l byte j, low nibble in its low byte, high in its high */
    const __m128i l8 = _mm_cvtepu8_epi16(nib);
    const __m128i hsh = _mm_srlv_epi32(_mm_set1_epi32(xb->scales_h), _mm_setr_epi32(0, 4, 8, 12));
    const __m128i h16 = _mm_and_si128(_mm_srlv_epi16(_mm_shuffle_epi8(hsh, _mm_setr_epi8(0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13)),
                                                     _mm_setr_epi16(0, 2, 0, 2, 0, 2, 0, 2)),
                                      _mm_set1_epi16(3));
    const __m512i SC = _mm512_castsi128_si512(_mm_sub_epi16(_mm_or_si128(l8, _mm_slli_epi16(h16, 4)), _mm_set1_epi16(32)));
    UNROLL_C for (int c = 0; c < nc; c++) acc[c] = _mm512_setzero_si512();
    UNROLL for (int k = 0; k < 4; ++k) {
        /* sub-blocks 2k, 2k+1: 128-bit lanes low, high nibbles of each */
        const uint8_t *q = xb->qs + 32 * k;
        __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)q));
        v = _mm512_mask_broadcast_i32x4(v, 0xFF00, _mm_loadu_si128((const __m128i *)(q + 16)));
        v = _mm512_and_si512(_mm512_mask_srli_epi16(v, 0xFF00FF00u, v, 4), _mm512_set1_epi8(15));
        const __m512i w = _mm512_shuffle_epi8(lut, v);
        const __mmask64 neg = _mm512_movepi8_mask(w);
        const __m512i aw = _mm512_abs_epi8(w), s = spread(SC, 2 * k, 32);
        UNROLL_C for (int c = 0; c < nc; c++) {
            const __m512i yv = load64(yb[c]->qs + 64 * k);
            const __m512i sy = _mm512_mask_sub_epi8(yv, neg, _mm512_setzero_si512(), yv);
            acc[c] = dot_scaled(acc[c], aw, sy, s);
        }
    }
    UNROLL_C for (int c = 0; c < nc; c++) mp[c] = _mm256_setzero_si256();
}

static inline int32_t hsum256_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* Lane b of the result: the sum of the int32 lanes of v[b] (per 128-bit half first). */
static inline __m128i reduce4_256(__m256i v0, __m256i v1, __m256i v2, __m256i v3) {
    const __m256i s01 = _mm256_add_epi32(_mm256_unpacklo_epi32(v0, v1), _mm256_unpackhi_epi32(v0, v1));
    const __m256i s23 = _mm256_add_epi32(_mm256_unpacklo_epi32(v2, v3), _mm256_unpackhi_epi32(v2, v3));
    const __m256i t = _mm256_add_epi32(_mm256_unpacklo_epi64(s01, s23), _mm256_unpackhi_epi64(s01, s23));
    return _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
}

static inline __m256i fold512(__m512i v) {
    return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

/* Four f16 values p, p + stride, ... as doubles (packed in a general register). */
static inline __m256d f16x4_pd(const void *p, size_t stride) {
    const unsigned char *b = p;
    uint16_t h[4];
    for (int j = 0; j < 4; j++) memcpy(&h[j], b + (size_t)j * stride, 2);
    const uint64_t packed = (uint64_t)h[0] | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 32 | (uint64_t)h[3] << 48;
    return _mm256_cvtps_pd(_mm_cvtph_ps(_mm_cvtsi64_si128((long long)packed)));
}

/* The entry points of one type (WB its block, D_OFF / DMIN_OFF the byte offsets of its
 * f16 d and dmin, TYPE1 whether dmin * msum is subtracted or the offset correction
 * folded into isum). The float part is the reference's, per super-block:
 *   type 1: (double)y.d * ((double)d * isum - (double)dmin * msum)
 *   type 0: (double)y.d * (double)d * isum
 * and the super-blocks are added to one double in order. vec_dot evaluates it for four
 * super-blocks at once in the lanes of a vector (the same operations per lane), then
 * adds the four in order; vec_dot4 one super-block at a time for each column.
 * vec_dot_rows runs vec_dot row after row (its prefetch runs on into the next row); the
 * activation row stays in L1, so sharing its loads between rows would save little. */
#define KQ_ENTRIES(name, WB, D_OFF, DMIN_OFF, TYPE1)                                                            \
    static inline double name##_one(const WB *xb, const qg_block_q8_K *yb, __m512i acc, __m256i mp) {          \
        const double d = f16(ld16((const char *)xb + D_OFF));                                                   \
        if (TYPE1) {                                                                                            \
            const double dmin = f16(ld16((const char *)xb + DMIN_OFF));                                         \
            const int32_t isum = _mm512_reduce_add_epi32(acc), msum = hsum256_epi32(mp);                        \
            return (double)yb->d * (d * isum - dmin * msum);                                                    \
        }                                                                                                       \
        const int32_t isum = _mm512_reduce_add_epi32(acc) - hsum256_epi32(mp);                                  \
        return (double)yb->d * d * isum;                                                                        \
    }                                                                                                           \
    float cpu_avx512_vec_dot_##name(int64_t n, const void *vx, const void *vy) {                                \
        const WB *x = vx;                                                                                       \
        const qg_block_q8_K *y = vy;                                                                            \
        const int64_t nb = n / QG_QK_K;                                                                         \
        double sum = 0.0;                                                                                       \
        int64_t i = 0;                                                                                          \
        for (; i + 4 <= nb; i += 4) {                                                                           \
            __m512i acc[4];                                                                                     \
            __m256i mp[4];                                                                                      \
            UNROLL_C for (int b = 0; b < 4; b++) {                                                              \
                const qg_block_q8_K *yb = &y[i + b];                                                            \
                name##_sb(&x[i + b], 1, &yb, &acc[b], &mp[b]);                                                  \
                if (!TYPE1) acc[b] = _mm512_sub_epi32(acc[b], _mm512_zextsi256_si512(mp[b]));                   \
            }                                                                                                   \
            const __m256d is = _mm256_cvtepi32_pd(                                                              \
                reduce4_256(fold512(acc[0]), fold512(acc[1]), fold512(acc[2]), fold512(acc[3])));               \
            const __m256d yd = _mm256_cvtps_pd(_mm_setr_ps(y[i].d, y[i + 1].d, y[i + 2].d, y[i + 3].d));       \
            const __m256d d = f16x4_pd((const char *)&x[i] + D_OFF, sizeof(WB));                                \
            __m256d c;                                                                                          \
            if (TYPE1) {                                                                                        \
                const __m256d ms = _mm256_cvtepi32_pd(reduce4_256(mp[0], mp[1], mp[2], mp[3]));                 \
                const __m256d dmin = f16x4_pd((const char *)&x[i] + DMIN_OFF, sizeof(WB));                      \
                c = _mm256_mul_pd(yd, _mm256_sub_pd(_mm256_mul_pd(d, is), _mm256_mul_pd(dmin, ms)));            \
            } else {                                                                                            \
                c = _mm256_mul_pd(_mm256_mul_pd(yd, d), is);                                                    \
            }                                                                                                   \
            double cs[4];                                                                                       \
            _mm256_storeu_pd(cs, c);                                                                            \
            sum += cs[0];                                                                                       \
            sum += cs[1];                                                                                       \
            sum += cs[2];                                                                                       \
            sum += cs[3];                                                                                       \
        }                                                                                                       \
        for (; i < nb; i++) {                                                                                   \
            __m512i acc;                                                                                        \
            __m256i mp;                                                                                         \
            const qg_block_q8_K *yb = &y[i];                                                                    \
            name##_sb(&x[i], 1, &yb, &acc, &mp);                                                                \
            sum += name##_one(&x[i], yb, acc, mp);                                                              \
        }                                                                                                       \
        return (float)sum;                                                                                      \
    }                                                                                                           \
    void cpu_avx512_vec_dot4_##name(int64_t n, const void *vx, const void *vy, size_t ys, float *out) {         \
        const WB *x = vx;                                                                                       \
        double sum[4] = {0.0, 0.0, 0.0, 0.0};                                                                   \
        for (int64_t i = 0; i < n / QG_QK_K; ++i) {                                                             \
            const qg_block_q8_K *yb[4];                                                                         \
            UNROLL_C for (int c = 0; c < 4; c++) yb[c] = (const qg_block_q8_K *)((const char *)vy + c * ys) + i; \
            __m512i acc[4];                                                                                     \
            __m256i mp[4];                                                                                      \
            name##_sb(&x[i], 4, yb, acc, mp);                                                                   \
            UNROLL_C for (int c = 0; c < 4; c++) sum[c] += name##_one(&x[i], yb[c], acc[c], mp[c]);             \
        }                                                                                                       \
        UNROLL_C for (int c = 0; c < 4; c++) out[c] = (float)sum[c];                                            \
    }                                                                                                           \
    void cpu_avx512_vec_dot_rows_##name(int64_t n, const void *x, size_t xs, const void *y, float *out,         \
                                        int nrows) {                                                            \
        for (int r = 0; r < nrows; r++) out[r] = cpu_avx512_vec_dot_##name(n, (const char *)x + (size_t)r * xs, y); \
    }

KQ_ENTRIES(q2_K, qg_block_q2_K, 80, 82, 1)
KQ_ENTRIES(q3_K, qg_block_q3_K, 108, 0, 0)
KQ_ENTRIES(q4_K, qg_block_q4_K, 0, 2, 1)
KQ_ENTRIES(q5_K, qg_block_q5_K, 0, 2, 1)
KQ_ENTRIES(q6_K, qg_block_q6_K, 208, 0, 0)
KQ_ENTRIES(iq4_xs, qg_block_iq4_xs, 0, 0, 0)
