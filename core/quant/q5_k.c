/* Q5_K: 256-element super-blocks of 8 sub-blocks of 32, 5-bit levels (low 4 bits in qs as
 * in Q4_K, the fifth in qh: in chunk c, bit 2c of qh[l] for the low-nibble sub-block and
 * bit 2c+1 for the high one), w = d*sc*q - dmin*mn with 6-bit sc and mn. Scalar reference
 * dequantizer (bit-exact with ggml: d1 = d*sc, m1 = dmin*mn, then d1*q - m1), reference
 * quantizer (type-1 search per sub-block weighted by rms(x)+|x|) and the dot product
 * against Q8_K.
 */
#include "core/quant/k_internal.h"
#include "core/quant/kquants.h"

#include <string.h>

static void q5_K_levels(const qg_block_q5_K *b, uint8_t *q) {
    for (int c = 0; c < 4; ++c) {
        for (int l = 0; l < 32; ++l) {
            q[64 * c + l] = (uint8_t)((b->qs[32 * c + l] & 15) | (((b->qh[l] >> (2 * c)) & 1) << 4));
            q[64 * c + 32 + l] =
                (uint8_t)((b->qs[32 * c + l] >> 4) | (((b->qh[l] >> (2 * c + 1)) & 1) << 4));
        }
    }
}

void qg_to_float_q5_K(const void *src, float *dst, int64_t n) {
    const qg_block_q5_K *b = src;
    for (int64_t i = 0; i < n / QG_QK_K; ++i, ++b) {
        const float d = qg_fp16_to_fp32(b->d);
        const float dmin = qg_fp16_to_fp32(b->dmin);
        uint8_t q[QG_QK_K];
        q5_K_levels(b, q);
        for (int j = 0; j < 8; ++j) {
            int sc, mn;
            qg_kq_unpack_scale_min(b->scales, j, &sc, &mn);
            const float d1 = d * sc;
            const float m1 = dmin * mn;
            for (int l = 0; l < 32; ++l) *dst++ = d1 * q[32 * j + l] - m1;
        }
    }
}

static void q5_K_quantize_block(const float *x, qg_block_q5_K *y) {
    float scales[8], mins[8];
    qg_kq_type1_subblocks(x, 31, -0.5f, 15, scales, mins);
    qg_kq_quantize_scales6(scales, mins, y->scales, &y->d, &y->dmin);

    const float d = qg_fp16_to_fp32(y->d);
    const float dmin = qg_fp16_to_fp32(y->dmin);
    uint8_t L[QG_QK_K];
    for (int j = 0; j < 8; ++j) {
        int sc, mn;
        qg_kq_unpack_scale_min(y->scales, j, &sc, &mn);
        const float d1 = d * sc;
        const float m1 = dmin * mn;
        for (int l = 0; l < 32; ++l) {
            L[32 * j + l] =
                d1 != 0.0f ? (uint8_t)qg_kq_round_clamp((x[32 * j + l] + m1) / d1, 0, 31) : 0;
        }
    }
    memset(y->qh, 0, sizeof y->qh);
    for (int c = 0; c < 4; ++c) {
        for (int l = 0; l < 32; ++l) {
            uint8_t lo = L[64 * c + l], hi = L[64 * c + 32 + l];
            y->qs[32 * c + l] = (uint8_t)((lo & 15) | ((hi & 15) << 4));
            y->qh[l] |= (uint8_t)(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
        }
    }
}

void qg_from_float_q5_K(const float *src, void *dst, int64_t n) {
    qg_block_q5_K *y = dst;
    for (int64_t i = 0; i < n / QG_QK_K; ++i) q5_K_quantize_block(src + i * QG_QK_K, y + i);
}

float qg_vec_dot_q5_K(int64_t n, const void *vx, const void *vy) {
    const qg_block_q5_K *x = vx;
    const qg_block_q8_K *y = vy;
    double sum = 0.0;
    for (int64_t i = 0; i < n / QG_QK_K; ++i) {
        uint8_t q[QG_QK_K];
        q5_K_levels(&x[i], q);
        int32_t isum = 0, msum = 0;
        for (int j = 0; j < 8; ++j) {
            int sc, mn;
            qg_kq_unpack_scale_min(x[i].scales, j, &sc, &mn);
            int32_t s = 0;
            for (int l = 0; l < 32; ++l) s += q[32 * j + l] * y[i].qs[32 * j + l];
            isum += sc * s;
            msum += mn * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
        }
        sum += (double)y[i].d * ((double)qg_fp16_to_fp32(x[i].d) * isum -
                                 (double)qg_fp16_to_fp32(x[i].dmin) * msum);
    }
    return (float)sum;
}
