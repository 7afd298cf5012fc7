/* NEON dot products of the 32-element block types against Q8_0 / Q8_1 activations:
 * Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL and MXFP4.
 *
 * Each block's 32 weight levels become two int8x16 vectors (elements 0-15, 16-31):
 * nibbles by AND/shift, the fifth bit of Q5 by a bit test against a broadcast of the qh
 * bytes, IQ4_NL and MXFP4 values by a 16-entry table lookup (TBL). SDOT multiplies them
 * with the activation bytes into four exact int32 lane sums, which are converted and
 * scaled by d_x * d_y into float accumulators (two, alternating between blocks). Type-1
 * weights (Q4_1, Q5_1) add m * s per block from the Q8_1 activation block. The sums
 * differ from the scalar references by float rounding order only. The vec_dot4 variants
 * expand each weight block once for four activation rows, the vec_dot_rows variants load
 * each activation block once for four weight rows, with per-pair operations identical to
 * vec_dot's.
 */
#include "simd_neon.h"

#include <math.h>

#include "core/quant/k_internal.h"

static const int8_t iq4_levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
static const int8_t e2m1_x2[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
static const uint8_t bit_sel[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};

#define ALWAYS static inline __attribute__((always_inline))
#define UNROLL_C _Pragma("GCC unroll 4")

/* Low nibbles of 16 bytes (elements 0-15) and high nibbles (16-31). */
ALWAYS void nibbles(const uint8_t *qs, uint8x16_t *lo, uint8x16_t *hi) {
    const uint8x16_t q = vld1q_u8(qs);
    *lo = vandq_u8(q, vdupq_n_u8(15));
    *hi = vshrq_n_u8(q, 4);
}

/* 16 in byte j where bit j of the two bytes b (little-endian) is set, else 0. */
ALWAYS uint8x16_t bit16(const uint8_t *b) {
    const uint8x16_t v = vcombine_u8(vdup_n_u8(b[0]), vdup_n_u8(b[1]));
    return vandq_u8(vtstq_u8(v, vld1q_u8(bit_sel)), vdupq_n_u8(16));
}

ALWAYS void q4_0_levels(const qg_block_q4_0 *b, int8x16_t *lo, int8x16_t *hi) {
    uint8x16_t l, h;
    nibbles(b->qs, &l, &h);
    *lo = vsubq_s8(vreinterpretq_s8_u8(l), vdupq_n_s8(8));
    *hi = vsubq_s8(vreinterpretq_s8_u8(h), vdupq_n_s8(8));
}

ALWAYS void q4_1_levels(const qg_block_q4_1 *b, int8x16_t *lo, int8x16_t *hi) {
    uint8x16_t l, h;
    nibbles(b->qs, &l, &h);
    *lo = vreinterpretq_s8_u8(l);
    *hi = vreinterpretq_s8_u8(h);
}

/* The five-bit types: nibble | bit << 4, minus off (16 for Q5_0, 0 for Q5_1). */
ALWAYS void q5_levels(const uint8_t *qh, const uint8_t *qs, int off, int8x16_t *lo, int8x16_t *hi) {
    uint8x16_t l, h;
    nibbles(qs, &l, &h);
    *lo = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(l, bit16(qh))), vdupq_n_s8((int8_t)off));
    *hi = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(h, bit16(qh + 2))), vdupq_n_s8((int8_t)off));
}

ALWAYS void q5_0_levels(const qg_block_q5_0 *b, int8x16_t *lo, int8x16_t *hi) { q5_levels(b->qh, b->qs, 16, lo, hi); }
ALWAYS void q5_1_levels(const qg_block_q5_1 *b, int8x16_t *lo, int8x16_t *hi) { q5_levels(b->qh, b->qs, 0, lo, hi); }

ALWAYS void q8_0_levels(const qg_block_q8_0 *b, int8x16_t *lo, int8x16_t *hi) {
    *lo = vld1q_s8(b->qs);
    *hi = vld1q_s8(b->qs + 16);
}

ALWAYS void lut_levels(const int8_t *table, const uint8_t *qs, int8x16_t *lo, int8x16_t *hi) {
    uint8x16_t l, h;
    nibbles(qs, &l, &h);
    const int8x16_t t = vld1q_s8(table);
    *lo = vqtbl1q_s8(t, l);
    *hi = vqtbl1q_s8(t, h);
}

ALWAYS void iq4_nl_levels(const qg_block_iq4_nl *b, int8x16_t *lo, int8x16_t *hi) {
    lut_levels(iq4_levels, b->qs, lo, hi);
}
ALWAYS void mxfp4_levels(const qg_block_mxfp4 *b, int8x16_t *lo, int8x16_t *hi) { lut_levels(e2m1_x2, b->qs, lo, hi); }

/* Half the E8M0 block scale, 2^(e-128) (the levels are doubled E2M1 values), NaN for 0xFF. */
ALWAYS float e8m0_half(uint8_t e) {
    uint32_t bits;
    if (e == 0xff) return NAN;
    if (e >= 2) bits = (uint32_t)(e - 1) << 23;
    else bits = e == 1 ? 0x00400000u : 0x00200000u; /* 2^-127, 2^-128: subnormal */
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

#define D16(b) neon_fp16((b)->d)
#define E8(b) e8m0_half((b)->e)
#define NO_MIN(c, b, yb) ((void)0)
#define ADD_MIN(c, b, yb) (msum[c] += neon_fp16((b)->m) * neon_fp16((yb)->s))

/* nr weight rows x + r*xs against nc activation rows y + c*ys (nr * nc <= 4; 1 x 1 for
 * vec_dot, 1 x 4 for vec_dot4, up to 4 x 1 for vec_dot_rows), out[r * nc + c]. Every
 * (row, column) pair sees the very same operations whatever nr and nc are: two
 * accumulators take even and odd blocks, the block minimum terms (type 1) go to a float
 * sum. */
#define TILE(name, WB, YB, LEVELS, DX, MIN)                                                            \
    ALWAYS void name##_tile(int nr, int nc, int64_t n, const void *vx, size_t xs, const void *vy, size_t ys, \
                            float *out) {                                                              \
        const int64_t nb = n / 32;                                                                     \
        const WB *x[4];                                                                                \
        const YB *y[4];                                                                                \
        float32x4_t acc0[4], acc1[4];                                                                  \
        float msum[4];                                                                                 \
        UNROLL_C for (int r = 0; r < nr; r++) x[r] = (const WB *)((const char *)vx + (size_t)r * xs);  \
        UNROLL_C for (int c = 0; c < nc; c++) y[c] = (const YB *)((const char *)vy + (size_t)c * ys);  \
        UNROLL_C for (int t = 0; t < nr * nc; t++) {                                                   \
            acc0[t] = acc1[t] = vdupq_n_f32(0.0f);                                                     \
            msum[t] = 0.0f;                                                                            \
        }                                                                                              \
        int64_t b = 0;                                                                                 \
        for (; b + 2 <= nb; b += 2) {                                                                  \
            UNROLL_C for (int r = 0; r < nr; r++) {                                                    \
                const WB *xb = x[r] + b;                                                               \
                int8x16_t lo0, hi0, lo1, hi1;                                                          \
                LEVELS(&xb[0], &lo0, &hi0);                                                            \
                LEVELS(&xb[1], &lo1, &hi1);                                                            \
                const float dx0 = DX(&xb[0]), dx1 = DX(&xb[1]);                                        \
                UNROLL_C for (int c = 0; c < nc; c++) {                                                \
                    const YB *yb = y[c] + b;                                                           \
                    const int t = r * nc + c;                                                          \
                    const int32x4_t s0 = neon_dot32(vdupq_n_s32(0), lo0, hi0, yb[0].qs);               \
                    const int32x4_t s1 = neon_dot32(vdupq_n_s32(0), lo1, hi1, yb[1].qs);               \
                    acc0[t] = vfmaq_n_f32(acc0[t], vcvtq_f32_s32(s0), dx0 * neon_fp16(yb[0].d));       \
                    acc1[t] = vfmaq_n_f32(acc1[t], vcvtq_f32_s32(s1), dx1 * neon_fp16(yb[1].d));       \
                    MIN(t, &xb[0], &yb[0]);                                                            \
                    MIN(t, &xb[1], &yb[1]);                                                            \
                }                                                                                      \
            }                                                                                          \
        }                                                                                              \
        if (b < nb) {                                                                                  \
            UNROLL_C for (int r = 0; r < nr; r++) {                                                    \
                const WB *xb = x[r] + b;                                                               \
                int8x16_t lo, hi;                                                                      \
                LEVELS(xb, &lo, &hi);                                                                  \
                const float dx = DX(xb);                                                               \
                UNROLL_C for (int c = 0; c < nc; c++) {                                                \
                    const YB *yb = y[c] + b;                                                           \
                    const int t = r * nc + c;                                                          \
                    const int32x4_t s = neon_dot32(vdupq_n_s32(0), lo, hi, yb->qs);                    \
                    acc0[t] = vfmaq_n_f32(acc0[t], vcvtq_f32_s32(s), dx * neon_fp16(yb->d));           \
                    MIN(t, xb, yb);                                                                    \
                }                                                                                      \
            }                                                                                          \
        }                                                                                              \
        UNROLL_C for (int t = 0; t < nr * nc; t++) out[t] = vaddvq_f32(vaddq_f32(acc0[t], acc1[t])) + msum[t]; \
    }                                                                                                  \
    float cpu_neon_vec_dot_##name(int64_t n, const void *x, const void *y) {                           \
        float r;                                                                                       \
        name##_tile(1, 1, n, x, 0, y, 0, &r);                                                          \
        return r;                                                                                      \
    }                                                                                                  \
    void cpu_neon_vec_dot4_##name(int64_t n, const void *x, const void *y, size_t ys, float *out) {    \
        name##_tile(1, 4, n, x, 0, y, ys, out);                                                        \
    }                                                                                                  \
    void cpu_neon_vec_dot_rows_##name(int64_t n, const void *x, size_t xs, const void *y, float *out, int nrows) { \
        int r = 0;                                                                                     \
        for (; r + 4 <= nrows; r += 4) name##_tile(4, 1, n, (const char *)x + (size_t)r * xs, xs, y, 0, out + r); \
        for (; r < nrows; r++) name##_tile(1, 1, n, (const char *)x + (size_t)r * xs, xs, y, 0, out + r); \
    }

TILE(q4_0, qg_block_q4_0, qg_block_q8_0, q4_0_levels, D16, NO_MIN)
TILE(q4_1, qg_block_q4_1, qg_block_q8_1, q4_1_levels, D16, ADD_MIN)
TILE(q5_0, qg_block_q5_0, qg_block_q8_0, q5_0_levels, D16, NO_MIN)
TILE(q5_1, qg_block_q5_1, qg_block_q8_1, q5_1_levels, D16, ADD_MIN)
TILE(q8_0, qg_block_q8_0, qg_block_q8_0, q8_0_levels, D16, NO_MIN)
TILE(iq4_nl, qg_block_iq4_nl, qg_block_q8_0, iq4_nl_levels, D16, NO_MIN)
TILE(mxfp4, qg_block_mxfp4, qg_block_q8_0, mxfp4_levels, E8, NO_MIN)
