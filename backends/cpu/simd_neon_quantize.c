/* NEON versions of the activation quantizers (from_float of the partner types Q8_0, Q8_1,
 * Q8_K, F16 and BF16), bit-exact with the scalar ones in core/quant:
 *  - FMAXNM ignores NaN like the scalar `if (fabsf(x) > amax)`, so the block maximum
 *    agrees; the scale and its inverse are computed in scalar float as the reference;
 *  - Q8_0/Q8_1 round half away from zero (FRINTA is roundf), clamp to +-127 with
 *    FMAX/FMIN, which keep NaN, and FCVTZS turns NaN into 0 as the reference does;
 *  - Q8_K rounds to nearest even (FRINTN is lrintf in the default rounding mode); FMAXNM
 *    against -127 maps NaN to -127 as its reference does;
 *  - F16 uses FCVTN (round to nearest even; NaN keeps its top payload bits and is
 *    quieted, like qg_fp32_to_fp16), BF16 the same integer rounding as the scalar code.
 */
#include "simd_neon.h"

#include "core/quant/quant.h"

static inline float absmax(const float *x, int n) {
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int j = 0; j < n; j += 4) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(x + j)));
    return vmaxnmvq_f32(m);
}

/* 32 floats times id, rounded half away from zero, clamped, NaN -> 0, stored as int8;
 * returns the sum of the 32 levels. */
static inline int quant32_away(const float *x, float id, int8_t *qs) {
    const float32x4_t lo = vdupq_n_f32(-127.0f), hi = vdupq_n_f32(127.0f);
    int32x4_t q[8];
    for (int j = 0; j < 8; j++) {
        const float32x4_t r = vrndaq_f32(vmulq_n_f32(vld1q_f32(x + 4 * j), id));
        q[j] = vcvtq_s32_f32(vminq_f32(vmaxq_f32(r, lo), hi)); /* NaN stays NaN -> 0 */
    }
    int16x8_t h[4];
    for (int j = 0; j < 4; j++) h[j] = vcombine_s16(vmovn_s32(q[2 * j]), vmovn_s32(q[2 * j + 1]));
    vst1q_s8(qs, vcombine_s8(vmovn_s16(h[0]), vmovn_s16(h[1])));
    vst1q_s8(qs + 16, vcombine_s8(vmovn_s16(h[2]), vmovn_s16(h[3])));
    return vaddvq_s32(vaddq_s32(vaddq_s32(vpaddlq_s16(h[0]), vpaddlq_s16(h[1])),
                                vaddq_s32(vpaddlq_s16(h[2]), vpaddlq_s16(h[3]))));
}

void cpu_neon_from_float_q8_0(const float *x, void *vy, int64_t n) {
    qg_block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        const float d = absmax(x, 32) / 127.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        y[i].d = qg_fp32_to_fp16(d);
        (void)quant32_away(x, id, y[i].qs);
    }
}

void cpu_neon_from_float_q8_1(const float *x, void *vy, int64_t n) {
    qg_block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        const float d = absmax(x, 32) / 127.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        y[i].d = qg_fp32_to_fp16(d);
        const int sum = quant32_away(x, id, y[i].qs);
        y[i].s = qg_fp32_to_fp16((float)sum * d);
    }
}

void cpu_neon_from_float_q8_K(const float *x, void *vy, int64_t n) {
    qg_block_q8_K *y = vy;
    const float32x4_t lo = vdupq_n_f32(-127.0f), hi = vdupq_n_f32(127.0f);
    for (int64_t i = 0; i < n / QG_QK_K; i++, x += QG_QK_K) {
        const float amax = absmax(x, QG_QK_K);
        memset(&y[i], 0, sizeof y[i]);
        if (!(amax > 0.0f)) continue;
        const float is = 127.0f / amax;
        for (int g = 0; g < 16; g++) { /* 16 elements: one bsums entry */
            int32x4_t q[4];
            for (int j = 0; j < 4; j++) {
                const float32x4_t r = vrndnq_f32(vmulq_n_f32(vld1q_f32(x + 16 * g + 4 * j), is));
                q[j] = vcvtq_s32_f32(vminq_f32(vmaxnmq_f32(r, lo), hi)); /* NaN -> -127 */
            }
            const int16x8_t h0 = vcombine_s16(vmovn_s32(q[0]), vmovn_s32(q[1]));
            const int16x8_t h1 = vcombine_s16(vmovn_s32(q[2]), vmovn_s32(q[3]));
            vst1q_s8(y[i].qs + 16 * g, vcombine_s8(vmovn_s16(h0), vmovn_s16(h1)));
            y[i].bsums[g] = (int16_t)vaddvq_s16(vaddq_s16(h0, h1));
        }
        y[i].d = amax / 127.0f;
    }
}

void cpu_neon_from_float_f16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float16x8_t h = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(x + i)), vld1q_f32(x + i + 4));
        vst1q_u16(y + i, vreinterpretq_u16_f16(h));
    }
    for (; i < n; i++) y[i] = qg_fp32_to_fp16(x[i]);
}

void cpu_neon_from_float_bf16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t i = 0;
    const uint32x4_t bias = vdupq_n_u32(0x7fff), one = vdupq_n_u32(1), quiet = vdupq_n_u32(0x40);
    for (; i + 8 <= n; i += 8) {
        uint16x4_t h[2];
        for (int k = 0; k < 2; k++) {
            const float32x4_t f = vld1q_f32(x + i + 4 * k);
            const uint32x4_t b = vreinterpretq_u32_f32(f);
            const uint32x4_t r = vaddq_u32(b, vaddq_u32(bias, vandq_u32(vshrq_n_u32(b, 16), one)));
            const uint32x4_t nan = vorrq_u32(vshrq_n_u32(b, 16), quiet);
            /* vceqq(f, f) is false for NaN */
            h[k] = vmovn_u32(vbslq_u32(vceqq_f32(f, f), vshrq_n_u32(r, 16), nan));
        }
        vst1q_u16(y + i, vcombine_u16(h[0], h[1]));
    }
    for (; i < n; i++) y[i] = qg_fp32_to_bf16(x[i]);
}
