/* ARM NEON (with the dot-product extension) versions of the most used MUL_MAT pieces:
 * the Q4_0, Q8_0 and Q4_K dot products and the Q8_0 / Q8_K activation quantizers.
 * Built with -march=armv8.2-a+dotprod on aarch64 only; simd_table.c hands them out when
 * the kernel reports the ASIMDDP capability.
 *
 * Dot products: SDOT sums four byte products into each int32 lane, exactly; Q4_0/Q8_0
 * scale the lane sums by d_x d_y into float lanes (float rounding differs from the
 * reference only in order), Q4_K keeps the whole super-block in integers and evaluates
 * the float part in double exactly as the reference, so it returns the same float.
 * Quantizers are bit-exact with the scalar ones: FMAXNM ignores NaN like the scalar
 * `if (fabsf(x) > amax)`, FRINTA is roundf (Q8_0), FRINTN is lrintf in the default mode
 * (Q8_K), FCVTZS turns NaN into 0 (Q8_0); Q8_K maps NaN to -127 as its reference does.
 */
#include "simd_neon.h"

#include <arm_neon.h>
#include <string.h>

#include "core/quant/k_internal.h"

static inline float fp16(uint16_t h) {
    __fp16 v;
    memcpy(&v, &h, sizeof v);
    return (float)v;
}

float cpu_neon_vec_dot_q8_0(int64_t n, const void *vx, const void *vy) {
    const qg_block_q8_0 *x = vx, *y = vy;
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < n / 32; b++) {
        int32x4_t s = vdotq_s32(vdupq_n_s32(0), vld1q_s8(x[b].qs), vld1q_s8(y[b].qs));
        s = vdotq_s32(s, vld1q_s8(x[b].qs + 16), vld1q_s8(y[b].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), fp16(x[b].d) * fp16(y[b].d));
    }
    return vaddvq_f32(acc);
}

float cpu_neon_vec_dot_q4_0(int64_t n, const void *vx, const void *vy) {
    const qg_block_q4_0 *x = vx;
    const qg_block_q8_0 *y = vy;
    const uint8x16_t m4 = vdupq_n_u8(15);
    const int8x16_t eight = vdupq_n_s8(8);
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8x16_t q = vld1q_u8(x[b].qs);
        const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, m4)), eight);
        const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);
        int32x4_t s = vdotq_s32(vdupq_n_s32(0), lo, vld1q_s8(y[b].qs));
        s = vdotq_s32(s, hi, vld1q_s8(y[b].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), fp16(x[b].d) * fp16(y[b].d));
    }
    return vaddvq_f32(acc);
}

float cpu_neon_vec_dot_q4_K(int64_t n, const void *vx, const void *vy) {
    const qg_block_q4_K *x = vx;
    const qg_block_q8_K *y = vy;
    const uint8x16_t m4 = vdupq_n_u8(15);
    double sum = 0.0;
    for (int64_t i = 0; i < n / QG_QK_K; ++i) {
        const uint8_t *s = x[i].scales;
        int sc[8], mn[8];
        for (int j = 0; j < 4; j++) {
            sc[j] = s[j] & 63;
            mn[j] = s[j + 4] & 63;
        }
        for (int j = 4; j < 8; j++) {
            sc[j] = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
            mn[j] = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
        }
        int32_t isum = 0, msum = 0;
        for (int k = 0; k < 4; k++) {
            const int8_t *yq = y[i].qs + 64 * k;
            const uint8x16_t q0 = vld1q_u8(x[i].qs + 32 * k), q1 = vld1q_u8(x[i].qs + 32 * k + 16);
            int32x4_t lo = vdotq_s32(vdupq_n_s32(0), vreinterpretq_s8_u8(vandq_u8(q0, m4)), vld1q_s8(yq));
            lo = vdotq_s32(lo, vreinterpretq_s8_u8(vandq_u8(q1, m4)), vld1q_s8(yq + 16));
            int32x4_t hi = vdotq_s32(vdupq_n_s32(0), vreinterpretq_s8_u8(vshrq_n_u8(q0, 4)), vld1q_s8(yq + 32));
            hi = vdotq_s32(hi, vreinterpretq_s8_u8(vshrq_n_u8(q1, 4)), vld1q_s8(yq + 48));
            isum += sc[2 * k] * vaddvq_s32(lo) + sc[2 * k + 1] * vaddvq_s32(hi);
        }
        for (int j = 0; j < 8; j++) msum += mn[j] * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
        sum += (double)y[i].d * ((double)fp16(x[i].d) * isum - (double)fp16(x[i].dmin) * msum);
    }
    return (float)sum;
}

static inline float absmax(const float *x, int n) {
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int j = 0; j < n; j += 4) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(x + j)));
    return vmaxnmvq_f32(m);
}

/* Four float lanes -> four int8 (values already within +-127). */
static inline void store4(int8_t *dst, int32x4_t v) {
    const int8x8_t b = vqmovn_s16(vcombine_s16(vqmovn_s32(v), vdup_n_s16(0)));
    memcpy(dst, &b, 4);
}

void cpu_neon_from_float_q8_0(const float *x, void *vy, int64_t n) {
    qg_block_q8_0 *y = vy;
    const float32x4_t lo = vdupq_n_f32(-127.0f), hi = vdupq_n_f32(127.0f);
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        const float d = absmax(x, 32) / 127.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        y[i].d = qg_fp32_to_fp16(d);
        for (int j = 0; j < 32; j += 4) {
            const float32x4_t r = vrndaq_f32(vmulq_n_f32(vld1q_f32(x + j), id));
            store4(y[i].qs + j, vcvtq_s32_f32(vminq_f32(vmaxq_f32(r, lo), hi))); /* NaN stays NaN -> 0 */
        }
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
        for (int j = 0; j < QG_QK_K; j += 4) {
            const float32x4_t r = vrndnq_f32(vmulq_n_f32(vld1q_f32(x + j), is));
            store4(y[i].qs + j, vcvtq_s32_f32(vminq_f32(vmaxnmq_f32(r, lo), hi))); /* NaN -> -127 */
        }
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int l = 0; l < 16; l++) s += y[i].qs[16 * g + l];
            y[i].bsums[g] = (int16_t)s;
        }
        y[i].d = amax / 127.0f;
    }
}
