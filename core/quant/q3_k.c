/* Q3_K: 256-element super-blocks of 16 sub-blocks, signed 3-bit levels (-4..3) split in
 * two low bits (qs, packed like Q2_K) and a high-bit mask, w = d*(sc-32)*q with 6-bit
 * sub-block scales. Scalar reference dequantizer (bit-exact with ggml: dl = d*(sc-32) as
 * a float, then dl*q), reference quantizer (signed scale search per sub-block with a
 * coordinate-descent refinement, then 6-bit signed sub-block scales) and the dot product
 * against Q8_K. The search weights all elements equally: it then minimises the squared
 * error itself; weighting by x^2 (ggml's choice) measured 7% higher RMSE on the
 * reference rows with this search.
 */
#include "core/quant/k_internal.h"
#include "core/quant/kquants.h"

#include <string.h>

/* Sub-block scale i (0..15) with the +32 offset removed. */
static int q3_K_scale(const uint8_t *s, int i) {
    int lo = i < 8 ? (s[i] & 15) : (s[i - 8] >> 4);
    int hi = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
    return (lo | (hi << 4)) - 32;
}

/* The 256 signed levels of a block, in element order. Bit m of hmask[l] belongs to
 * shift step m (0..7, counted across both halves). */
static void q3_K_levels(const qg_block_q3_K *b, int8_t *q) {
    for (int h = 0; h < 2; ++h) {
        for (int s = 0; s < 4; ++s) {
            const int m = 4 * h + s;
            int8_t *out = q + 128 * h + 32 * s;
            for (int l = 0; l < 32; ++l) {
                int low = (b->qs[32 * h + l] >> (2 * s)) & 3;
                out[l] = (int8_t)(low - ((b->hmask[l] >> m) & 1 ? 0 : 4));
            }
        }
    }
}

void qg_to_float_q3_K(const void *src, float *dst, int64_t n) {
    const qg_block_q3_K *b = src;
    for (int64_t i = 0; i < n / QG_QK_K; ++i, ++b) {
        const float d = qg_fp16_to_fp32(b->d);
        int8_t q[QG_QK_K];
        q3_K_levels(b, q);
        for (int j = 0; j < 16; ++j) {
            const float dl = d * q3_K_scale(b->scales, j);
            for (int l = 0; l < 16; ++l) *dst++ = dl * q[16 * j + l];
        }
    }
}

static void q3_K_quantize_block(const float *x, qg_block_q3_K *y) {
    int8_t L[QG_QK_K];
    float scales[16];
    float amax = 0.0f, max_scale = 0.0f;
    for (int j = 0; j < 16; ++j) {
        scales[j] = qg_kq_search_type0(16, 4, x + 16 * j, L + 16 * j, QG_KQ_W_ONE, 5);
        if (fabsf(scales[j]) > amax) {
            amax = fabsf(scales[j]);
            max_scale = scales[j];
        }
    }
    memset(y, 0, sizeof *y);
    if (amax > 0.0f) {
        /* The largest scale maps to -32, the most negative 6-bit value. */
        const float is = -32.0f / max_scale;
        for (int j = 0; j < 16; ++j) {
            int l = qg_kq_round_clamp(is * scales[j], -32, 31) + 32;
            if (j < 8) y->scales[j] |= (uint8_t)(l & 15);
            else y->scales[j - 8] |= (uint8_t)((l & 15) << 4);
            y->scales[8 + j % 4] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
        }
        y->d = qg_fp32_to_fp16(1.0f / is);
    } else {
        for (int j = 0; j < 8; ++j) y->scales[j] = 0x22; /* stored +32: scale 0 */
        for (int j = 8; j < 12; ++j) y->scales[j] = 0xAA;
    }

    /* Re-assign levels for the stored scales; level l is kept as l+4 (0..7). */
    const float d = qg_fp16_to_fp32(y->d);
    uint8_t u[QG_QK_K];
    for (int j = 0; j < 16; ++j) {
        const float dl = d * q3_K_scale(y->scales, j);
        for (int l = 0; l < 16; ++l) {
            int v = dl != 0.0f ? qg_kq_round_clamp(x[16 * j + l] / dl, -4, 3) : 0;
            u[16 * j + l] = (uint8_t)(v + 4);
        }
    }
    for (int h = 0; h < 2; ++h) {
        for (int s = 0; s < 4; ++s) {
            const int m = 4 * h + s;
            for (int l = 0; l < 32; ++l) {
                uint8_t v = u[128 * h + 32 * s + l];
                y->qs[32 * h + l] |= (uint8_t)((v & 3) << (2 * s));
                if (v > 3) y->hmask[l] |= (uint8_t)(1u << m);
            }
        }
    }
}

void qg_from_float_q3_K(const float *src, void *dst, int64_t n) {
    qg_block_q3_K *y = dst;
    for (int64_t i = 0; i < n / QG_QK_K; ++i) q3_K_quantize_block(src + i * QG_QK_K, y + i);
}

float qg_vec_dot_q3_K(int64_t n, const void *vx, const void *vy) {
    const qg_block_q3_K *x = vx;
    const qg_block_q8_K *y = vy;
    double sum = 0.0;
    for (int64_t i = 0; i < n / QG_QK_K; ++i) {
        int8_t q[QG_QK_K];
        q3_K_levels(&x[i], q);
        int32_t isum = 0;
        for (int j = 0; j < 16; ++j) {
            int32_t s = 0;
            for (int l = 0; l < 16; ++l) s += q[16 * j + l] * y[i].qs[16 * j + l];
            isum += q3_K_scale(x[i].scales, j) * s;
        }
        sum += (double)y[i].d * (double)qg_fp16_to_fp32(x[i].d) * isum;
    }
    return (float)sum;
}
