/* NEON row dequantizers for GET_ROWS, bit-identical with the type table's to_float: F16
 * and BF16 (exact widening), Q4_0 and Q8_0 ((float)q * d, one rounding) and Q6_K
 * ((d * sc) rounded to float, then times q, as the reference evaluates it). Every value
 * is produced by the same single float operations as the scalar code, so no result
 * depends on contraction into fused multiply-adds.
 */
#include "simd_neon.h"

#include "core/quant/k_internal.h"

void cpu_neon_to_float_f16(const void *src, float *dst, int64_t n) {
    const uint16_t *x = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(x + i));
        vst1q_f32(dst + i, vcvt_f32_f16(vget_low_f16(h)));
        vst1q_f32(dst + i + 4, vcvt_high_f32_f16(h));
    }
    for (; i < n; i++) dst[i] = neon_fp16(x[i]);
}

void cpu_neon_to_float_bf16(const void *src, float *dst, int64_t n) {
    const uint16_t *x = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint16x8_t h = vld1q_u16(x + i);
        vst1q_f32(dst + i, vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16)));
        vst1q_f32(dst + i + 4, vreinterpretq_f32_u32(vshll_high_n_u16(h, 16)));
    }
    for (; i < n; i++) dst[i] = qg_bf16_to_fp32(x[i]);
}

/* 16 signed bytes times d, stored as 16 floats. */
static inline void store16(int8x16_t q, float d, float *dst) {
    const int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_high_s8(q);
    vst1q_f32(dst, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), d));
    vst1q_f32(dst + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(lo)), d));
    vst1q_f32(dst + 8, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), d));
    vst1q_f32(dst + 12, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(hi)), d));
}

void cpu_neon_to_float_q4_0(const void *src, float *dst, int64_t n) {
    const qg_block_q4_0 *x = src;
    for (int64_t b = 0; b < n / 32; b++, dst += 32) {
        const uint8x16_t q = vld1q_u8(x[b].qs);
        const float d = neon_fp16(x[b].d);
        store16(vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(15))), vdupq_n_s8(8)), d, dst);
        store16(vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), vdupq_n_s8(8)), d, dst + 16);
    }
}

void cpu_neon_to_float_q8_0(const void *src, float *dst, int64_t n) {
    const qg_block_q8_0 *x = src;
    for (int64_t b = 0; b < n / 32; b++, dst += 32) {
        const float d = neon_fp16(x[b].d);
        store16(vld1q_s8(x[b].qs), d, dst);
        store16(vld1q_s8(x[b].qs + 16), d, dst + 16);
    }
}

/* Q6_K: levels q - 32 laid out as in q6_K_levels (core/quant/q6_k.c), sub-block scale
 * d * sc[j] rounded to float first. */
void cpu_neon_to_float_q6_K(const void *src, float *dst, int64_t n) {
    const qg_block_q6_K *x = src;
    const uint8x16_t m4 = vdupq_n_u8(15), m3 = vdupq_n_u8(3);
    for (int64_t i = 0; i < n / QG_QK_K; i++, dst += QG_QK_K) {
        const float d = neon_fp16(x[i].d);
        for (int h = 0; h < 2; h++)
            for (int half = 0; half < 2; half++) {
                const uint8_t *ql = x[i].ql + 64 * h + 16 * half;
                const uint8x16_t a = vld1q_u8(ql), b = vld1q_u8(ql + 32), hb = vld1q_u8(x[i].qh + 32 * h + 16 * half);
                const uint8x16_t lv[4] = {
                    vorrq_u8(vandq_u8(a, m4), vshlq_n_u8(vandq_u8(hb, m3), 4)),
                    vorrq_u8(vandq_u8(b, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m3), 4)),
                    vorrq_u8(vshrq_n_u8(a, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), m3), 4)),
                    vorrq_u8(vshrq_n_u8(b, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4)),
                };
                for (int p = 0; p < 4; p++) {
                    const int sb = 8 * h + 2 * p + half; /* elements 16 sb .. 16 sb + 15 */
                    const float dl = d * (float)x[i].scales[sb];
                    store16(vsubq_s8(vreinterpretq_s8_u8(lv[p]), vdupq_n_s8(32)), dl, dst + 16 * sb);
                }
            }
    }
}
