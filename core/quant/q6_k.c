/* Q6_K: 256-element super-blocks of 16 sub-blocks of 16, 6-bit levels stored +32 (low 4
 * bits in ql, high 2 in qh), w = d*sc*(q-32) with signed 8-bit sub-block scales. Scalar
 * reference dequantizer (bit-exact with ggml: (d*sc)*q in float), reference quantizer
 * (signed scale search per sub-block, uniform weights as in Q3_K, then 8-bit scales
 * where the largest maps to -128) and the dot product against Q8_K.
 */
#include "core/quant/k_internal.h"
#include "core/quant/kquants.h"

/* Signed levels (q-32) in element order. In each half of 128, ql[l] holds elements l
 * (low nibble) and l+64 (high), ql[l+32] elements l+32 and l+96; qh[l] has their high
 * bits at 0, 4, 2 and 6 respectively. */
static void q6_K_levels(const qg_block_q6_K *b, int8_t *q) {
    for (int h = 0; h < 2; ++h) {
        const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
        int8_t *out = q + 128 * h;
        for (int l = 0; l < 32; ++l) {
            out[l] = (int8_t)(((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32);
            out[l + 32] = (int8_t)(((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32);
            out[l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
            out[l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
        }
    }
}

void qg_to_float_q6_K(const void *src, float *dst, int64_t n) {
    const qg_block_q6_K *b = src;
    for (int64_t i = 0; i < n / QG_QK_K; ++i, ++b) {
        const float d = qg_fp16_to_fp32(b->d);
        int8_t q[QG_QK_K];
        q6_K_levels(b, q);
        for (int e = 0; e < QG_QK_K; ++e) *dst++ = d * b->scales[e / 16] * q[e];
    }
}

static void q6_K_quantize_block(const float *x, qg_block_q6_K *y) {
    int8_t L[QG_QK_K];
    float scales[16];
    float amax = 0.0f, max_scale = 0.0f;
    for (int j = 0; j < 16; ++j) {
        scales[j] = qg_kq_search_type0(16, 32, x + 16 * j, L + 16 * j, QG_KQ_W_ONE, 2);
        if (fabsf(scales[j]) > amax) {
            amax = fabsf(scales[j]);
            max_scale = scales[j];
        }
    }
    if (amax < QG_KQ_EPS) {
        for (int j = 0; j < 16; ++j) y->scales[j] = 0;
        y->d = qg_fp32_to_fp16(0.0f);
        for (int e = 0; e < QG_QK_K; ++e) L[e] = 0;
    } else {
        const float is = -128.0f / max_scale;
        for (int j = 0; j < 16; ++j) y->scales[j] = (int8_t)qg_kq_round_clamp(is * scales[j], -128, 127);
        y->d = qg_fp32_to_fp16(1.0f / is);
        const float d = qg_fp16_to_fp32(y->d);
        for (int j = 0; j < 16; ++j) {
            const float dl = d * y->scales[j];
            for (int l = 0; l < 16; ++l) {
                L[16 * j + l] =
                    (int8_t)(dl != 0.0f ? qg_kq_round_clamp(x[16 * j + l] / dl, -32, 31) : 0);
            }
        }
    }
    for (int h = 0; h < 2; ++h) {
        uint8_t *ql = y->ql + 64 * h, *qh = y->qh + 32 * h;
        const int8_t *Lh = L + 128 * h;
        for (int l = 0; l < 32; ++l) {
            int a = Lh[l] + 32, b = Lh[l + 32] + 32, c = Lh[l + 64] + 32, e = Lh[l + 96] + 32;
            ql[l] = (uint8_t)((a & 15) | ((c & 15) << 4));
            ql[l + 32] = (uint8_t)((b & 15) | ((e & 15) << 4));
            qh[l] = (uint8_t)((a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6));
        }
    }
}

void qg_from_float_q6_K(const float *src, void *dst, int64_t n) {
    qg_block_q6_K *y = dst;
    for (int64_t i = 0; i < n / QG_QK_K; ++i) q6_K_quantize_block(src + i * QG_QK_K, y + i);
}

float qg_vec_dot_q6_K(int64_t n, const void *vx, const void *vy) {
    const qg_block_q6_K *x = vx;
    const qg_block_q8_K *y = vy;
    double sum = 0.0;
    for (int64_t i = 0; i < n / QG_QK_K; ++i) {
        int8_t q[QG_QK_K];
        q6_K_levels(&x[i], q);
        int32_t isum = 0;
        for (int j = 0; j < 16; ++j) {
            int32_t s = 0;
            for (int l = 0; l < 16; ++l) s += q[16 * j + l] * y[i].qs[16 * j + l];
            isum += x[i].scales[j] * s;
        }
        sum += (double)y[i].d * (double)qg_fp16_to_fp32(x[i].d) * isum;
    }
    return (float)sum;
}
