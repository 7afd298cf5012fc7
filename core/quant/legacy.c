/* The 32-element GGUF block types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q8_1: dequantizers and
 * the reference quantizers of shared/spec/quant-formats.md. The quantizers reproduce
 * ggml's reference output byte for byte, so the float evaluation order matters: scales
 * are computed in float, the inverse scale comes from the unrounded d, and only the
 * stored d (and m, s) are rounded to fp16. Elements j and j+16 share byte qs[j]. */
#include "core/quant/quant.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define QK 32
#define HALF (QK / 2)

/* Signed value of the largest magnitude (the first one on ties). */
static float signed_absmax(const float *x) {
    float amax = 0, max = 0;
    for (int j = 0; j < QK; j++) {
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    return max;
}

static void min_max(const float *x, float *mn, float *mx) {
    float lo = FLT_MAX, hi = -FLT_MAX;
    for (int j = 0; j < QK; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    *mn = lo;
    *mx = hi;
}

/* Truncating float -> int conversion as the reference quantizers do it, kept inside the
 * int8 range so that NaN or overflowing input cannot trigger undefined behaviour. */
static int trunc_q(float v, int hi) {
    if (!(v > 0)) return 0;
    if (v >= (float)hi) return hi;
    return (int)v;
}

void qg_to_float_q4_0(const void *src, float *dst, int64_t n) {
    const qg_block_q4_0 *b = src;
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        float d = qg_fp16_to_fp32(b[i].d);
        for (int j = 0; j < HALF; j++) {
            dst[j] = (float)((b[i].qs[j] & 15) - 8) * d;
            dst[j + HALF] = (float)((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void qg_from_float_q4_0(const float *src, void *dst, int64_t n) {
    qg_block_q4_0 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        float d = signed_absmax(src) / -8.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = qg_fp32_to_fp16(d);
        for (int j = 0; j < HALF; j++) {
            int q0 = trunc_q(src[j] * id + 8.5f, 15);
            int q1 = trunc_q(src[j + HALF] * id + 8.5f, 15);
            b[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void qg_to_float_q4_1(const void *src, float *dst, int64_t n) {
    const qg_block_q4_1 *b = src;
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        float d = qg_fp16_to_fp32(b[i].d), m = qg_fp16_to_fp32(b[i].m);
        for (int j = 0; j < HALF; j++) {
            dst[j] = (float)(b[i].qs[j] & 15) * d + m;
            dst[j + HALF] = (float)(b[i].qs[j] >> 4) * d + m;
        }
    }
}

void qg_from_float_q4_1(const float *src, void *dst, int64_t n) {
    qg_block_q4_1 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        float mn, mx;
        min_max(src, &mn, &mx);
        float d = (mx - mn) / 15.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = qg_fp32_to_fp16(d);
        b[i].m = qg_fp32_to_fp16(mn);
        for (int j = 0; j < HALF; j++) {
            int q0 = trunc_q((src[j] - mn) * id + 0.5f, 15);
            int q1 = trunc_q((src[j + HALF] - mn) * id + 0.5f, 15);
            b[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

/* The 5-bit types keep bit 4 of element j in bit j of a little-endian u32. */
static void q5_unpack(const uint8_t qh[4], const uint8_t qs[16], int q[QK]) {
    uint32_t h = (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 |
                 (uint32_t)qh[3] << 24;
    for (int j = 0; j < HALF; j++) {
        q[j] = (qs[j] & 15) | (int)(((h >> j) & 1) << 4);
        q[j + HALF] = (qs[j] >> 4) | (int)(((h >> (j + HALF)) & 1) << 4);
    }
}

static void q5_pack(const int q[QK], uint8_t qh[4], uint8_t qs[16]) {
    uint32_t h = 0;
    for (int j = 0; j < HALF; j++) {
        qs[j] = (uint8_t)((q[j] & 15) | ((q[j + HALF] & 15) << 4));
        h |= (uint32_t)((q[j] >> 4) & 1) << j;
        h |= (uint32_t)((q[j + HALF] >> 4) & 1) << (j + HALF);
    }
    for (int k = 0; k < 4; k++) qh[k] = (uint8_t)(h >> (8 * k));
}

void qg_to_float_q5_0(const void *src, float *dst, int64_t n) {
    const qg_block_q5_0 *b = src;
    int q[QK];
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        float d = qg_fp16_to_fp32(b[i].d);
        q5_unpack(b[i].qh, b[i].qs, q);
        for (int j = 0; j < QK; j++) dst[j] = (float)(q[j] - 16) * d;
    }
}

void qg_from_float_q5_0(const float *src, void *dst, int64_t n) {
    qg_block_q5_0 *b = dst;
    int q[QK];
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        float d = signed_absmax(src) / -16.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = qg_fp32_to_fp16(d);
        for (int j = 0; j < QK; j++) q[j] = trunc_q(src[j] * id + 16.5f, 31);
        q5_pack(q, b[i].qh, b[i].qs);
    }
}

void qg_to_float_q5_1(const void *src, float *dst, int64_t n) {
    const qg_block_q5_1 *b = src;
    int q[QK];
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        float d = qg_fp16_to_fp32(b[i].d), m = qg_fp16_to_fp32(b[i].m);
        q5_unpack(b[i].qh, b[i].qs, q);
        for (int j = 0; j < QK; j++) dst[j] = (float)q[j] * d + m;
    }
}

void qg_from_float_q5_1(const float *src, void *dst, int64_t n) {
    qg_block_q5_1 *b = dst;
    int q[QK];
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        float mn, mx;
        min_max(src, &mn, &mx);
        float d = (mx - mn) / 31.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = qg_fp32_to_fp16(d);
        b[i].m = qg_fp32_to_fp16(mn);
        for (int j = 0; j < QK; j++) q[j] = trunc_q((src[j] - mn) * id + 0.5f, 31);
        q5_pack(q, b[i].qh, b[i].qs);
    }
}

/* roundf (half away from zero) into -127..127; NaN gives 0. */
static int8_t round_q8(float v) {
    if (isnan(v)) return 0;
    float r = roundf(v);
    if (r > 127) r = 127;
    if (r < -127) r = -127;
    return (int8_t)r;
}

static float absmax(const float *x) {
    float amax = 0;
    for (int j = 0; j < QK; j++)
        if (fabsf(x[j]) > amax) amax = fabsf(x[j]);
    return amax;
}

void qg_to_float_q8_0(const void *src, float *dst, int64_t n) {
    const qg_block_q8_0 *b = src;
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        float d = qg_fp16_to_fp32(b[i].d);
        for (int j = 0; j < QK; j++) dst[j] = (float)b[i].qs[j] * d;
    }
}

void qg_from_float_q8_0(const float *src, void *dst, int64_t n) {
    qg_block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        float d = absmax(src) / 127.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = qg_fp32_to_fp16(d);
        for (int j = 0; j < QK; j++) b[i].qs[j] = round_q8(src[j] * id);
    }
}

void qg_to_float_q8_1(const void *src, float *dst, int64_t n) {
    const qg_block_q8_1 *b = src;
    for (int64_t i = 0; i < n / QK; i++, dst += QK) {
        float d = qg_fp16_to_fp32(b[i].d);
        for (int j = 0; j < QK; j++) dst[j] = (float)b[i].qs[j] * d;
    }
}

void qg_from_float_q8_1(const float *src, void *dst, int64_t n) {
    qg_block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK; i++, src += QK) {
        float d = absmax(src) / 127.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        int sum = 0;
        b[i].d = qg_fp32_to_fp16(d);
        for (int j = 0; j < QK; j++) {
            b[i].qs[j] = round_q8(src[j] * id);
            sum += b[i].qs[j];
        }
        b[i].s = qg_fp32_to_fp16((float)sum * d);
    }
}
