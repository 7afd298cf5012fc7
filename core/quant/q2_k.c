/* Q2_K: 256-element super-blocks of 16 sub-blocks, 2-bit levels, w = d*sc*q - dmin*mn
 * with 4-bit sc and mn per sub-block. Scalar reference dequantizer (bit-exact with
 * ggml's float evaluation order: dl = d*sc and ml = dmin*mn as floats, then dl*q - ml),
 * reference quantizer (type-1 search per sub-block weighted by |x|, then 4-bit
 * sub-block scales) and the dot product against Q8_K.
 */
#include "core/quant/k_internal.h"
#include "core/quant/kquants.h"

#include <string.h>

/* The 256 two-bit levels of a block, in element order. */
static void q2_K_levels(const qg_block_q2_K *b, uint8_t *q) {
    for (int h = 0; h < 2; ++h) {
        const uint8_t *qs = b->qs + 32 * h;
        for (int s = 0; s < 4; ++s) {
            uint8_t *out = q + 128 * h + 32 * s;
            for (int l = 0; l < 32; ++l) out[l] = (uint8_t)((qs[l] >> (2 * s)) & 3);
        }
    }
}

void qg_to_float_q2_K(const void *src, float *dst, int64_t n) {
    const qg_block_q2_K *b = src;
    for (int64_t i = 0; i < n / QG_QK_K; ++i, ++b) {
        const float d = qg_fp16_to_fp32(b->d);
        const float dmin = qg_fp16_to_fp32(b->dmin);
        uint8_t q[QG_QK_K];
        q2_K_levels(b, q);
        for (int j = 0; j < 16; ++j) {
            const float dl = d * (b->scales[j] & 15);
            const float ml = dmin * (b->scales[j] >> 4);
            for (int l = 0; l < 16; ++l) *dst++ = dl * q[16 * j + l] - ml;
        }
    }
}

static void q2_K_quantize_block(const float *x, qg_block_q2_K *y) {
    uint8_t L[QG_QK_K];
    float scales[16], mins[16], w[16];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 16; ++j) {
        for (int l = 0; l < 16; ++l) w[l] = fabsf(x[16 * j + l]);
        scales[j] = qg_kq_search_type1(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], -0.5f, 0.1f,
                                       15, true);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    /* Sub-block scales and mins become 4-bit multiples of d and dmin. */
    float is = max_scale > 0.0f ? 15.0f / max_scale : 0.0f;
    float im = max_min > 0.0f ? 15.0f / max_min : 0.0f;
    for (int j = 0; j < 16; ++j) {
        int sc = qg_kq_round_clamp(is * scales[j], 0, 15);
        int mn = qg_kq_round_clamp(im * mins[j], 0, 15);
        y->scales[j] = (uint8_t)(sc | (mn << 4));
    }
    y->d = qg_fp32_to_fp16(max_scale / 15.0f);
    y->dmin = qg_fp32_to_fp16(max_min / 15.0f);

    /* Re-assign the levels for the scales actually stored. */
    const float d = qg_fp16_to_fp32(y->d);
    const float dmin = qg_fp16_to_fp32(y->dmin);
    for (int j = 0; j < 16; ++j) {
        const float dl = d * (y->scales[j] & 15);
        const float ml = dmin * (y->scales[j] >> 4);
        for (int l = 0; l < 16; ++l) {
            L[16 * j + l] = dl != 0.0f ? (uint8_t)qg_kq_round_clamp((x[16 * j + l] + ml) / dl, 0, 3)
                                       : 0;
        }
    }
    memset(y->qs, 0, sizeof y->qs);
    for (int h = 0; h < 2; ++h) {
        for (int s = 0; s < 4; ++s) {
            for (int l = 0; l < 32; ++l) {
                y->qs[32 * h + l] |= (uint8_t)(L[128 * h + 32 * s + l] << (2 * s));
            }
        }
    }
}

void qg_from_float_q2_K(const float *src, void *dst, int64_t n) {
    qg_block_q2_K *y = dst;
    for (int64_t i = 0; i < n / QG_QK_K; ++i) q2_K_quantize_block(src + i * QG_QK_K, y + i);
}

/* Integer sums per sub-block; the mins use Q8_K's bsums (one per 16 quants). */
float qg_vec_dot_q2_K(int64_t n, const void *vx, const void *vy) {
    const qg_block_q2_K *x = vx;
    const qg_block_q8_K *y = vy;
    double sum = 0.0;
    for (int64_t i = 0; i < n / QG_QK_K; ++i) {
        uint8_t q[QG_QK_K];
        q2_K_levels(&x[i], q);
        int32_t isum = 0, msum = 0;
        for (int j = 0; j < 16; ++j) {
            int32_t s = 0;
            for (int l = 0; l < 16; ++l) s += q[16 * j + l] * y[i].qs[16 * j + l];
            isum += (x[i].scales[j] & 15) * s;
            msum += (x[i].scales[j] >> 4) * y[i].bsums[j];
        }
        sum += (double)y[i].d * ((double)qg_fp16_to_fp32(x[i].d) * isum -
                                 (double)qg_fp16_to_fp32(x[i].dmin) * msum);
    }
    return (float)sum;
}
