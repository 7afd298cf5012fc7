/* Internal to the AVX2 K-quant dot products (simd_avx2_kquants.c: vec_dot4, the
 * mat-mat leftovers; simd_avx2_kquants_dot.c: vec_dot and vec_dot_rows, the mat-vec):
 * the small helpers both use. Levels are expanded to bytes 32 at a time and multiplied
 * with the activation bytes by maddubs (unsigned levels first; signed ones are offset to
 * unsigned and the offset is taken back through Q8_K's per-16 sums, bsums); the int16
 * pair sums are multiplied by the sub-block scales in madd. Include only from files
 * built with -mavx2 -mfma -mf16c.
 */
#ifndef QG_CPU_SIMD_AVX2_KQUANTS_H
#define QG_CPU_SIMD_AVX2_KQUANTS_H

#include "simd_avx2.h"

#include "core/quant/k_internal.h"

static const int8_t kq_iq4_levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

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

#endif
