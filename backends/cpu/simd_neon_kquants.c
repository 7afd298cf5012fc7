/* NEON dot products of the 256-element super-block types against Q8_K: Q2_K, Q3_K, Q4_K,
 * Q5_K, Q6_K and IQ4_XS.
 *
 * Levels are expanded 16 bytes at a time (signed types get their offset subtracted in
 * the bytes, so no bsums correction is needed) and SDOT gives each sub-block's products
 * as four int32 lanes; pairwise adds fold four sub-blocks into one vector, which is
 * multiplied by their integer scales. The type-1 mins are applied through Q8_K's per-16
 * sums (bsums). All of this is exact integer arithmetic, and the float part is evaluated
 * in double exactly as the scalar reference (k_blocks.c) does, so these return the very
 * same float. vec_dot4 variants run the same per-column code for four activation rows.
 */
#include "simd_neon.h"

#include "core/quant/k_internal.h"

#define ALWAYS static inline __attribute__((always_inline))
#define UNROLL _Pragma("GCC unroll 8")
#define UNROLL_C _Pragma("GCC unroll 4")

static const int8_t iq4_levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/* Eight or sixteen small signed integers (int8x8 / int8x16) widened to int32x4 quarters. */
ALWAYS void widen8(int8x8_t v, int32x4_t out[2]) {
    const int16x8_t w = vmovl_s8(v);
    out[0] = vmovl_s16(vget_low_s16(w));
    out[1] = vmovl_s16(vget_high_s16(w));
}

ALWAYS void widen16(int8x16_t v, int32x4_t out[4]) {
    widen8(vget_low_s8(v), out);
    widen8(vget_high_s8(v), out + 2);
}

/* Q4_K/Q5_K: the eight 6-bit scales and mins of the 12 packed bytes (four at a time in
 * 32-bit words): bytes 0-3 hold scales 0-3 (low 6 bits) and the top bits of scales 4-7,
 * bytes 4-7 the same for the mins, bytes 8-11 the low nibbles of scales 4-7 and (high
 * nibbles) of mins 4-7. */
ALWAYS void unpack_sm6(const uint8_t *s, int8x8_t *sc, int16x8_t *mn) {
    uint32_t u0, u1, u2;
    memcpy(&u0, s, 4);
    memcpy(&u1, s + 4, 4);
    memcpy(&u2, s + 8, 4);
    const uint32_t m6 = 0x3f3f3f3fu, m4 = 0x0f0f0f0fu, m2 = 0x03030303u;
    const uint64_t sc64 = (uint64_t)(u0 & m6) | (uint64_t)((u2 & m4) | (((u0 >> 6) & m2) << 4)) << 32;
    const uint64_t mn64 = (uint64_t)(u1 & m6) | (uint64_t)(((u2 >> 4) & m4) | (((u1 >> 6) & m2) << 4)) << 32;
    *sc = vreinterpret_s8_u64(vdup_n_u64(sc64));
    *mn = vreinterpretq_s16_u16(vmovl_u8(vreinterpret_u8_u64(vdup_n_u64(mn64))));
}

/* sum_j mn_j * (bsums[2j] + bsums[2j+1]) for eight int16 mins. */
ALWAYS int32_t min_sum32(int16x8_t mn, const int16_t *bsums) {
    const int16x8_t pairs = vpaddq_s16(vld1q_s16(bsums), vld1q_s16(bsums + 8));
    return vaddvq_s32(vmlal_high_s16(vmull_s16(vget_low_s16(mn), vget_low_s16(pairs)), mn, pairs));
}

/* sum_j mn_j * bsums[j] for sixteen int16 mins (two vectors). */
ALWAYS int32_t min_sum16(int16x8_t m0, int16x8_t m1, const int16_t *bsums) {
    const int16x8_t b0 = vld1q_s16(bsums), b1 = vld1q_s16(bsums + 8);
    int32x4_t s = vmull_s16(vget_low_s16(m0), vget_low_s16(b0));
    s = vmlal_high_s16(s, m0, b0);
    s = vmlal_s16(s, vget_low_s16(m1), vget_low_s16(b1));
    s = vmlal_high_s16(s, m1, b1);
    return vaddvq_s32(s);
}

/* The per-super-block prologue and epilogue every tile shares. */
#define TILE_BEGIN(WB)                                                                   \
    const WB *x = vx;                                                                    \
    double sum[4] = {0.0, 0.0, 0.0, 0.0};                                                \
    for (int64_t i = 0; i < n / QG_QK_K; ++i) {                                          \
        const qg_block_q8_K *yb[4];                                                      \
        int32x4_t acc[4];                                                                \
        UNROLL_C for (int c = 0; c < nc; c++) {                                          \
            yb[c] = (const qg_block_q8_K *)((const char *)vy + (size_t)c * ys) + i;      \
            acc[c] = vdupq_n_s32(0);                                                     \
        }
#define TILE_END                                                                         \
    }                                                                                    \
    UNROLL_C for (int c = 0; c < nc; c++) out[c] = (float)sum[c];

/* Type-1 types with eight sub-blocks of 32 (Q4_K, Q5_K): chunk k holds sub-blocks 2k (low
 * nibbles) and 2k+1 (high); FIFTH adds Q5_K's fifth bit from the 32 bytes at QH. */
#define SM6_TILE(name, WB, FIFTH, QH)                                                                     \
    ALWAYS void name##_tile(int nc, int64_t n, const void *vx, const void *vy, size_t ys, float *out) { \
        const uint8x16_t m4 = vdupq_n_u8(15), one = vdupq_n_u8(1);                                    \
        (void)one;                                                                                    \
        TILE_BEGIN(WB)                                                                                \
        int8x8_t sc8;                                                                                 \
        int16x8_t mn;                                                                                 \
        unpack_sm6(x[i].scales, &sc8, &mn);                                                           \
        int32x4_t sc[2];                                                                              \
        widen8(sc8, sc);                                                                              \
        int32x4_t part[4][4];                                                                         \
        uint8x16_t h0 = vdupq_n_u8(0), h1 = vdupq_n_u8(0);                                            \
        if (FIFTH) {                                                                                  \
            h0 = vld1q_u8(QH);                                                                        \
            h1 = vld1q_u8((QH) + 16);                                                                 \
        }                                                                                             \
        UNROLL for (int k = 0; k < 4; k++) {                                                          \
            const uint8x16_t q0 = vld1q_u8(x[i].qs + 32 * k), q1 = vld1q_u8(x[i].qs + 32 * k + 16);   \
            uint8x16_t l0 = vandq_u8(q0, m4), l1 = vandq_u8(q1, m4);                                  \
            uint8x16_t u0 = vshrq_n_u8(q0, 4), u1 = vshrq_n_u8(q1, 4);                                \
            if (FIFTH) {                                                                              \
                l0 = vorrq_u8(l0, vshlq_n_u8(vandq_u8(h0, one), 4));                                  \
                l1 = vorrq_u8(l1, vshlq_n_u8(vandq_u8(h1, one), 4));                                  \
                u0 = vorrq_u8(u0, vshlq_n_u8(vandq_u8(vshrq_n_u8(h0, 1), one), 4));                   \
                u1 = vorrq_u8(u1, vshlq_n_u8(vandq_u8(vshrq_n_u8(h1, 1), one), 4));                   \
                h0 = vshrq_n_u8(h0, 2);                                                               \
                h1 = vshrq_n_u8(h1, 2);                                                               \
            }                                                                                         \
            UNROLL_C for (int c = 0; c < nc; c++) {                                                   \
                const int8_t *q = yb[c]->qs + 64 * k;                                                 \
                part[c][2 * (k % 2)] =                                                                \
                    neon_dot32(vdupq_n_s32(0), vreinterpretq_s8_u8(l0), vreinterpretq_s8_u8(l1), q);  \
                part[c][2 * (k % 2) + 1] =                                                            \
                    neon_dot32(vdupq_n_s32(0), vreinterpretq_s8_u8(u0), vreinterpretq_s8_u8(u1), q + 32); \
                if (k % 2) /* sub-blocks 2k-2 .. 2k+1 done: fold them with their scales */            \
                    acc[c] = vmlaq_s32(acc[c], neon_sum4(part[c][0], part[c][1], part[c][2], part[c][3]), sc[k / 2]); \
            }                                                                                         \
        }                                                                                             \
        const double d = neon_fp16(x[i].d), dmin = neon_fp16(x[i].dmin);                              \
        UNROLL_C for (int c = 0; c < nc; c++) {                                                       \
            const int32_t isum = vaddvq_s32(acc[c]), msum = min_sum32(mn, yb[c]->bsums);              \
            sum[c] += (double)yb[c]->d * (d * isum - dmin * msum);                                    \
        }                                                                                             \
        TILE_END                                                                                      \
    }

SM6_TILE(q4_K, qg_block_q4_K, 0, x[i].qs) /* QH unused */
SM6_TILE(q5_K, qg_block_q5_K, 1, x[i].qh)

/* Q2_K and Q3_K: sixteen sub-blocks of 16, the 2-bit fields of byte 32h + l at bits 2s
 * (element 128h + 32s + l, sub-block 8h + 2s + l/16). Q3_K adds the high bit (bit 4h+s of
 * hmask[l], clear meaning minus 4) and subtracts 4. DMIN: the block's dmin (type 1 only). */
#define TWO_BIT_TILE(name, WB, THREE, DMIN)                                                                 \
    ALWAYS void name##_tile(int nc, int64_t n, const void *vx, const void *vy, size_t ys, float *out) { \
        const uint8x16_t m3 = vdupq_n_u8(3), one = vdupq_n_u8(1);                                     \
        (void)one;                                                                                    \
        TILE_BEGIN(WB)                                                                                \
        int32x4_t sc[4];                                                                              \
        int16x8_t mn0 = vdupq_n_s16(0), mn1 = vdupq_n_s16(0);                                         \
        uint8x16_t hm0 = vdupq_n_u8(0), hm1 = vdupq_n_u8(0);                                          \
        name##_scales(&x[i], sc, &mn0, &mn1, &hm0, &hm1);                                             \
        int32x4_t part[4][4];                                                                         \
        UNROLL for (int h = 0; h < 2; h++) {                                                          \
            uint8x16_t q0 = vld1q_u8(x[i].qs + 32 * h), q1 = vld1q_u8(x[i].qs + 32 * h + 16);         \
            UNROLL for (int s = 0; s < 4; s++) {                                                      \
                uint8x16_t l0 = vandq_u8(q0, m3), l1 = vandq_u8(q1, m3);                              \
                int8x16_t v0 = vreinterpretq_s8_u8(l0), v1 = vreinterpretq_s8_u8(l1);                 \
                if (THREE) {                                                                          \
                    l0 = vorrq_u8(l0, vshlq_n_u8(vandq_u8(hm0, one), 2));                             \
                    l1 = vorrq_u8(l1, vshlq_n_u8(vandq_u8(hm1, one), 2));                             \
                    v0 = vsubq_s8(vreinterpretq_s8_u8(l0), vdupq_n_s8(4));                            \
                    v1 = vsubq_s8(vreinterpretq_s8_u8(l1), vdupq_n_s8(4));                            \
                    hm0 = vshrq_n_u8(hm0, 1);                                                         \
                    hm1 = vshrq_n_u8(hm1, 1);                                                         \
                }                                                                                     \
                q0 = vshrq_n_u8(q0, 2);                                                               \
                q1 = vshrq_n_u8(q1, 2);                                                               \
                const int sb = 8 * h + 2 * s;                                                         \
                UNROLL_C for (int c = 0; c < nc; c++) {                                               \
                    const int8_t *q = yb[c]->qs + 16 * sb;                                            \
                    part[c][sb % 4] = vdotq_s32(vdupq_n_s32(0), v0, vld1q_s8(q));                     \
                    part[c][sb % 4 + 1] = vdotq_s32(vdupq_n_s32(0), v1, vld1q_s8(q + 16));            \
                    if (sb % 4 == 2) /* sub-blocks sb-2 .. sb+1 done */                               \
                        acc[c] = vmlaq_s32(acc[c], neon_sum4(part[c][0], part[c][1], part[c][2], part[c][3]), sc[sb / 4]); \
                }                                                                                     \
            }                                                                                         \
        }                                                                                             \
        const double d = neon_fp16(x[i].d);                                                           \
        UNROLL_C for (int c = 0; c < nc; c++) {                                                       \
            const int32_t isum = vaddvq_s32(acc[c]);                                                  \
            if (THREE) {                                                                              \
                sum[c] += (double)yb[c]->d * d * isum;                                                \
            } else {                                                                                  \
                const int32_t msum = min_sum16(mn0, mn1, yb[c]->bsums);                               \
                sum[c] += (double)yb[c]->d * (d * isum - (double)(DMIN) * msum);   \
            }                                                                                         \
        }                                                                                             \
        TILE_END                                                                                      \
    }

/* Q2_K: sub-block scales in the low nibbles, mins in the high ones. */
ALWAYS void q2_K_scales(const qg_block_q2_K *b, int32x4_t sc[4], int16x8_t *mn0, int16x8_t *mn1, uint8x16_t *hm0,
                        uint8x16_t *hm1) {
    (void)hm0;
    (void)hm1;
    const uint8x16_t raw = vld1q_u8(b->scales);
    widen16(vreinterpretq_s8_u8(vandq_u8(raw, vdupq_n_u8(15))), sc);
    const uint8x16_t m = vshrq_n_u8(raw, 4);
    *mn0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(m)));
    *mn1 = vreinterpretq_s16_u16(vmovl_high_u8(m));
}

/* Q3_K: sixteen 6-bit scales stored +32: low nibbles in bytes 0-7 (scales 0-7) and their
 * high nibbles (scales 8-15); two high bits per scale in bytes 8-11, scale j at bit
 * 2*(j/4) of byte 8 + j%4. Also loads the high-bit mask. */
ALWAYS void q3_K_scales(const qg_block_q3_K *b, int32x4_t sc[4], int16x8_t *mn0, int16x8_t *mn1, uint8x16_t *hm0,
                        uint8x16_t *hm1) {
    (void)mn0;
    (void)mn1;
    uint32_t u0, u1, u2;
    memcpy(&u0, b->scales, 4);
    memcpy(&u1, b->scales + 4, 4);
    memcpy(&u2, b->scales + 8, 4);
    const uint32_t m4 = 0x0f0f0f0fu, m2 = 0x03030303u;
    const uint32_t w[4] = {(u0 & m4) | ((u2 & m2) << 4), (u1 & m4) | (((u2 >> 2) & m2) << 4),
                           ((u0 >> 4) & m4) | (((u2 >> 4) & m2) << 4), ((u1 >> 4) & m4) | (((u2 >> 6) & m2) << 4)};
    const uint8x16_t packed = vreinterpretq_u8_u32(vld1q_u32(w));
    widen16(vsubq_s8(vreinterpretq_s8_u8(packed), vdupq_n_s8(32)), sc);
    *hm0 = vld1q_u8(b->hmask);
    *hm1 = vld1q_u8(b->hmask + 16);
}

TWO_BIT_TILE(q2_K, qg_block_q2_K, 0, neon_fp16(x[i].dmin))
TWO_BIT_TILE(q3_K, qg_block_q3_K, 1, 0.0)

/* Q6_K: in each half h of 128 elements, ql[64h + l] holds elements l (low nibble) and
 * l + 64 (high), ql[64h + 32 + l] elements l + 32 and l + 96; qh[32h + l] their high two
 * bits at 0, 4, 2 and 6. Levels are q - 32 with signed 8-bit sub-block scales. */
ALWAYS void q6_K_tile(int nc, int64_t n, const void *vx, const void *vy, size_t ys, float *out) {
    const uint8x16_t m4 = vdupq_n_u8(15), m3 = vdupq_n_u8(3);
    const int8x16_t k32 = vdupq_n_s8(32);
    TILE_BEGIN(qg_block_q6_K)
    int32x4_t sc[4];
    widen16(vld1q_s8(x[i].scales), sc);
    int32x4_t part[4][4];
    UNROLL for (int h = 0; h < 2; h++) {
        uint8x16_t lv[2][4]; /* [half][p]: elements 128h + 32p + 16 half .. + 15 */
        UNROLL for (int half = 0; half < 2; half++) {
            const uint8_t *ql = x[i].ql + 64 * h + 16 * half;
            const uint8x16_t a = vld1q_u8(ql), b = vld1q_u8(ql + 32), hb = vld1q_u8(x[i].qh + 32 * h + 16 * half);
            lv[half][0] = vorrq_u8(vandq_u8(a, m4), vshlq_n_u8(vandq_u8(hb, m3), 4));
            lv[half][1] = vorrq_u8(vandq_u8(b, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m3), 4));
            lv[half][2] = vorrq_u8(vshrq_n_u8(a, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), m3), 4));
            lv[half][3] = vorrq_u8(vshrq_n_u8(b, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4));
        }
        UNROLL for (int p = 0; p < 4; p++) {
            const int sb = 8 * h + 2 * p; /* and sb + 1 for the second half */
            const int8x16_t v0 = vsubq_s8(vreinterpretq_s8_u8(lv[0][p]), k32);
            const int8x16_t v1 = vsubq_s8(vreinterpretq_s8_u8(lv[1][p]), k32);
            UNROLL_C for (int c = 0; c < nc; c++) {
                part[c][sb % 4] = vdotq_s32(vdupq_n_s32(0), v0, vld1q_s8(yb[c]->qs + 16 * sb));
                part[c][sb % 4 + 1] = vdotq_s32(vdupq_n_s32(0), v1, vld1q_s8(yb[c]->qs + 16 * sb + 16));
                if (sb % 4 == 2) /* sub-blocks sb-2 .. sb+1 done */
                    acc[c] = vmlaq_s32(acc[c], neon_sum4(part[c][0], part[c][1], part[c][2], part[c][3]), sc[sb / 4]);
            }
        }
    }
    const double d = neon_fp16(x[i].d);
    UNROLL_C for (int c = 0; c < nc; c++) sum[c] += (double)yb[c]->d * d * vaddvq_s32(acc[c]);
    TILE_END
}

/* IQ4_XS: eight sub-blocks of 32, levels from the IQ4 table (low nibbles of qs[16ib..]
 * are elements 0-15 of sub-block ib, high nibbles 16-31), 6-bit scales stored +32. */
ALWAYS void iq4_xs_tile(int nc, int64_t n, const void *vx, const void *vy, size_t ys, float *out) {
    const int8x16_t lut = vld1q_s8(iq4_levels);
    const uint8x16_t m4 = vdupq_n_u8(15);
    TILE_BEGIN(qg_block_iq4_xs)
    int32_t scv[8];
    for (int ib = 0; ib < 8; ib++)
        scv[ib] = (((x[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 15) | (((x[i].scales_h >> (2 * ib)) & 3) << 4)) - 32;
    const int32x4_t sc[2] = {vld1q_s32(scv), vld1q_s32(scv + 4)};
    int32x4_t part[4][4];
    UNROLL for (int ib = 0; ib < 8; ib++) {
        const uint8x16_t q = vld1q_u8(x[i].qs + 16 * ib);
        const int8x16_t lo = vqtbl1q_s8(lut, vandq_u8(q, m4)), hi = vqtbl1q_s8(lut, vshrq_n_u8(q, 4));
        UNROLL_C for (int c = 0; c < nc; c++) {
            part[c][ib % 4] = neon_dot32(vdupq_n_s32(0), lo, hi, yb[c]->qs + 32 * ib);
            if (ib % 4 == 3)
                acc[c] = vmlaq_s32(acc[c], neon_sum4(part[c][0], part[c][1], part[c][2], part[c][3]), sc[ib / 4]);
        }
    }
    const double d = neon_fp16(x[i].d);
    UNROLL_C for (int c = 0; c < nc; c++) sum[c] += (double)yb[c]->d * d * vaddvq_s32(acc[c]);
    TILE_END
}

#define TILE_ENTRIES(name)                                                                          \
    float cpu_neon_vec_dot_##name(int64_t n, const void *x, const void *y) {                        \
        float r;                                                                                    \
        name##_tile(1, n, x, y, 0, &r);                                                             \
        return r;                                                                                   \
    }                                                                                               \
    void cpu_neon_vec_dot4_##name(int64_t n, const void *x, const void *y, size_t ys, float *out) { \
        name##_tile(4, n, x, y, ys, out);                                                           \
    }

TILE_ENTRIES(q2_K)
TILE_ENTRIES(q3_K)
TILE_ENTRIES(q4_K)
TILE_ENTRIES(q5_K)
TILE_ENTRIES(q6_K)
TILE_ENTRIES(iq4_xs)
