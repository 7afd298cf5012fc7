/* NEON dot products of the float weight types: F32, F16 and BF16 against their own type,
 * and the FP8 types F8_E4M3, F8_E5M2, MXFP8_E4M3 and MXFP8_E5M2 against F32.
 *
 * Elements are converted exactly to float (FCVTL for halves, a 16-bit shift for BF16) and
 * multiplied-added into four 4-lane accumulators; the scalar references add in double, so
 * results differ from them by float rounding only. FP8 bytes reach float through half
 * precision: an E5M2 byte in the top of a 16-bit lane is the half with the same value
 * (infinities and NaN included); for E4M3, the lane shifted right arithmetically by one
 * and masked to S.0EEEE.MMM0000000 is a half worth 2^-8 times the E4M3 value for every
 * finite code (both formats keep subnormals at the bottom of their exponent range), and
 * the sum is scaled back by 2^8. The E4M3 NaN code S.1111.111 (which would read as 480)
 * is caught by a running maximum of the code magnitudes; such rows are redone with the
 * exact scalar conversion, which makes them NaN like the reference.
 */
#include "simd_neon.h"

#include <math.h>

#include "core/quant/quant.h"

#define ALWAYS static inline __attribute__((always_inline))
#define UNROLL_C _Pragma("GCC unroll 4")

ALWAYS float32x4_t f16_lo(uint16x8_t h) { return vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(h))); }
ALWAYS float32x4_t f16_hi(uint16x8_t h) { return vcvt_high_f32_f16(vreinterpretq_f16_u16(h)); }
ALWAYS float32x4_t bf16_lo(uint16x8_t h) { return vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16)); }
ALWAYS float32x4_t bf16_hi(uint16x8_t h) { return vreinterpretq_f32_u32(vshll_high_n_u16(h, 16)); }

ALWAYS float hsum4(float32x4_t a, float32x4_t b, float32x4_t c, float32x4_t d) {
    return vaddvq_f32(vaddq_f32(vaddq_f32(a, b), vaddq_f32(c, d)));
}

float cpu_neon_vec_dot_f32(int64_t n, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = vfmaq_f32(a0, vld1q_f32(x + i), vld1q_f32(y + i));
        a1 = vfmaq_f32(a1, vld1q_f32(x + i + 4), vld1q_f32(y + i + 4));
        a2 = vfmaq_f32(a2, vld1q_f32(x + i + 8), vld1q_f32(y + i + 8));
        a3 = vfmaq_f32(a3, vld1q_f32(x + i + 12), vld1q_f32(y + i + 12));
    }
    for (; i + 4 <= n; i += 4) a0 = vfmaq_f32(a0, vld1q_f32(x + i), vld1q_f32(y + i));
    float sum = hsum4(a0, a1, a2, a3);
    for (; i < n; i++) sum += x[i] * y[i];
    return sum;
}

/* F16: one row against nc (1..4) F16 activation rows, 16 elements per step. */
ALWAYS void f16_tile(int nc, int64_t n, const void *vx, const void *vy, size_t ys, float *out) {
    const uint16_t *x = vx;
    const uint16_t *y[4];
    float32x4_t a[4][4];
    UNROLL_C for (int c = 0; c < nc; c++) {
        y[c] = (const uint16_t *)((const char *)vy + (size_t)c * ys);
        a[c][0] = a[c][1] = a[c][2] = a[c][3] = vdupq_n_f32(0.0f);
    }
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint16x8_t h0 = vld1q_u16(x + i), h1 = vld1q_u16(x + i + 8);
        const float32x4_t x0 = f16_lo(h0), x1 = f16_hi(h0), x2 = f16_lo(h1), x3 = f16_hi(h1);
        UNROLL_C for (int c = 0; c < nc; c++) {
            const uint16x8_t g0 = vld1q_u16(y[c] + i), g1 = vld1q_u16(y[c] + i + 8);
            a[c][0] = vfmaq_f32(a[c][0], x0, f16_lo(g0));
            a[c][1] = vfmaq_f32(a[c][1], x1, f16_hi(g0));
            a[c][2] = vfmaq_f32(a[c][2], x2, f16_lo(g1));
            a[c][3] = vfmaq_f32(a[c][3], x3, f16_hi(g1));
        }
    }
    for (; i + 8 <= n; i += 8) {
        const uint16x8_t h0 = vld1q_u16(x + i);
        UNROLL_C for (int c = 0; c < nc; c++) {
            const uint16x8_t g0 = vld1q_u16(y[c] + i);
            a[c][0] = vfmaq_f32(a[c][0], f16_lo(h0), f16_lo(g0));
            a[c][1] = vfmaq_f32(a[c][1], f16_hi(h0), f16_hi(g0));
        }
    }
    UNROLL_C for (int c = 0; c < nc; c++) {
        float sum = hsum4(a[c][0], a[c][1], a[c][2], a[c][3]);
        for (int64_t j = i; j < n; j++) sum += neon_fp16(x[j]) * neon_fp16(y[c][j]);
        out[c] = sum;
    }
}

float cpu_neon_vec_dot_f16(int64_t n, const void *x, const void *y) {
    float r;
    f16_tile(1, n, x, y, 0, &r);
    return r;
}

void cpu_neon_vec_dot4_f16(int64_t n, const void *x, const void *y, size_t ys, float *out) {
    f16_tile(4, n, x, y, ys, out);
}

float cpu_neon_vec_dot_bf16(int64_t n, const void *vx, const void *vy) {
    const uint16_t *x = vx, *y = vy;
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint16x8_t h0 = vld1q_u16(x + i), h1 = vld1q_u16(x + i + 8);
        const uint16x8_t g0 = vld1q_u16(y + i), g1 = vld1q_u16(y + i + 8);
        a0 = vfmaq_f32(a0, bf16_lo(h0), bf16_lo(g0));
        a1 = vfmaq_f32(a1, bf16_hi(h0), bf16_hi(g0));
        a2 = vfmaq_f32(a2, bf16_lo(h1), bf16_lo(g1));
        a3 = vfmaq_f32(a3, bf16_hi(h1), bf16_hi(g1));
    }
    for (; i + 8 <= n; i += 8) {
        const uint16x8_t h0 = vld1q_u16(x + i), g0 = vld1q_u16(y + i);
        a0 = vfmaq_f32(a0, bf16_lo(h0), bf16_lo(g0));
        a1 = vfmaq_f32(a1, bf16_hi(h0), bf16_hi(g0));
    }
    float sum = hsum4(a0, a1, a2, a3);
    for (; i < n; i++) sum += qg_bf16_to_fp32(x[i]) * qg_bf16_to_fp32(y[i]);
    return sum;
}

/* 16 FP8 codes as 16 halves (two uint16x8: elements 0-7, 8-15); E4M3 as 2^-8 times. */
ALWAYS void fp8x16(uint8x16_t v, int e4m3, uint16x8_t *lo, uint16x8_t *hi) {
    uint16x8_t a = vshll_n_u8(vget_low_u8(v), 8), b = vshll_high_n_u8(v, 8);
    if (e4m3) {
        const uint16x8_t keep = vdupq_n_u16(0xBF80);
        a = vandq_u16(vreinterpretq_u16_s16(vshrq_n_s16(vreinterpretq_s16_u16(a), 1)), keep);
        b = vandq_u16(vreinterpretq_u16_s16(vshrq_n_s16(vreinterpretq_s16_u16(b), 1)), keep);
    }
    *lo = a;
    *hi = b;
}

/* sum over 16 elements of fp8(x) * y into the four accumulators a[0..3]. */
ALWAYS void fp8_fma16(uint8x16_t v, int e4m3, const float *y, float32x4_t a[4]) {
    uint16x8_t lo, hi;
    fp8x16(v, e4m3, &lo, &hi);
    a[0] = vfmaq_f32(a[0], f16_lo(lo), vld1q_f32(y));
    a[1] = vfmaq_f32(a[1], f16_hi(lo), vld1q_f32(y + 4));
    a[2] = vfmaq_f32(a[2], f16_lo(hi), vld1q_f32(y + 8));
    a[3] = vfmaq_f32(a[3], f16_hi(hi), vld1q_f32(y + 12));
}

ALWAYS float fp8_scalar(uint8_t c, int e4m3) { return e4m3 ? qg_e4m3_to_fp32(c) : qg_e5m2_to_fp32(c); }

/* The exact scalar loop, for rows holding E4M3 NaN codes (rare). */
static float f8_dot_special(int64_t n, const uint8_t *x, const float *y, int e4m3) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += fp8_scalar(x[i], e4m3) * y[i];
    return sum;
}

ALWAYS float f8_dot(int64_t n, const uint8_t *x, const float *y, int e4m3) {
    float32x4_t a[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
    uint8x16_t mx = vdupq_n_u8(0);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint8x16_t v = vld1q_u8(x + i);
        if (e4m3) mx = vmaxq_u8(mx, vandq_u8(v, vdupq_n_u8(0x7f)));
        fp8_fma16(v, e4m3, y + i, a);
    }
    if (e4m3 && vmaxvq_u8(mx) == 0x7f) return f8_dot_special(n, x, y, e4m3);
    float sum = hsum4(a[0], a[1], a[2], a[3]);
    if (e4m3) sum *= 256.0f;
    for (; i < n; i++) sum += fp8_scalar(x[i], e4m3) * y[i];
    return sum;
}

float cpu_neon_vec_dot_f8_e4m3(int64_t n, const void *x, const void *y) { return f8_dot(n, x, y, 1); }

float cpu_neon_vec_dot_f8_e5m2(int64_t n, const void *x, const void *y) { return f8_dot(n, x, y, 0); }

/* 2^(e-127) for an E8M0 byte, NaN for 0xFF. */
ALWAYS float e8m0(uint8_t e) {
    const uint32_t bits = e == 0xff ? 0x7fc00000u : e == 0 ? 0x00400000u : (uint32_t)e << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static float mxfp8_dot_special(int64_t n, const qg_block_mxfp8 *x, const float *y, int e4m3) {
    float sum = 0.0f;
    for (int64_t b = 0; b < n / QG_QK_MXFP8; b++, y += QG_QK_MXFP8)
        sum += f8_dot_special(QG_QK_MXFP8, x[b].q, y, e4m3) * e8m0(x[b].e);
    return sum;
}

/* Each block's 32 products are summed in four block accumulators, then scaled by the
 * block's power of two into one of two running totals (alternating between blocks). */
ALWAYS float mxfp8_dot(int64_t n, const qg_block_mxfp8 *x, const float *y, int e4m3) {
    float32x4_t t0 = vdupq_n_f32(0.0f), t1 = t0;
    uint8x16_t mx = vdupq_n_u8(0);
    const float *y0 = y;
    for (int64_t b = 0; b < n / QG_QK_MXFP8; b++, y += QG_QK_MXFP8) {
        const uint8x16_t v0 = vld1q_u8(x[b].q), v1 = vld1q_u8(x[b].q + 16);
        if (e4m3) mx = vmaxq_u8(mx, vmaxq_u8(vandq_u8(v0, vdupq_n_u8(0x7f)), vandq_u8(v1, vdupq_n_u8(0x7f))));
        float32x4_t p[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
        fp8_fma16(v0, e4m3, y, p);
        fp8_fma16(v1, e4m3, y + 16, p);
        const float32x4_t s = vaddq_f32(vaddq_f32(p[0], p[1]), vaddq_f32(p[2], p[3]));
        if (b & 1) t1 = vfmaq_n_f32(t1, s, e8m0(x[b].e));
        else t0 = vfmaq_n_f32(t0, s, e8m0(x[b].e));
    }
    if (e4m3 && vmaxvq_u8(mx) == 0x7f) return mxfp8_dot_special(n, x, y0, e4m3);
    const float sum = vaddvq_f32(vaddq_f32(t0, t1));
    return e4m3 ? sum * 256.0f : sum;
}

float cpu_neon_vec_dot_mxfp8_e4m3(int64_t n, const void *x, const void *y) { return mxfp8_dot(n, x, y, 1); }

float cpu_neon_vec_dot_mxfp8_e5m2(int64_t n, const void *x, const void *y) { return mxfp8_dot(n, x, y, 0); }
