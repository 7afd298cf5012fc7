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
static void q6_K_levels(const qg_block_q6_K *restrict b, int8_t *restrict q) {
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

static void q6_K_decode(const void *restrict block, qg_kq_block *restrict out) {
    const qg_block_q6_K *b = block;
    out->type1 = false;
    out->nsub = 16;
    out->d = qg_fp16_to_fp32(b->d);
    for (int j = 0; j < 16; ++j) out->sc[j] = b->scales[j];
    q6_K_levels(b, out->sq);
}

static void q6_K_quantize_block(const float *x, void *block) {
    qg_block_q6_K *y = block;
    int8_t L[QG_QK_K];
    float scales[16];
    int sc[16];
    for (int j = 0; j < 16; ++j)
        scales[j] = qg_kq_search_type0(16, 32, x + 16 * j, L + 16 * j, QG_KQ_W_ONE, 2);
    const float max_scale = qg_signed_absmax(scales, 16);
    if (fabsf(max_scale) < QG_KQ_EPS) {
        for (int j = 0; j < 16; ++j) y->scales[j] = 0;
        y->d = qg_fp32_to_fp16(0.0f);
    } else {
        const float is = -128.0f / max_scale;
        for (int j = 0; j < 16; ++j) y->scales[j] = (int8_t)qg_kq_round_clamp(is * scales[j], -128, 127);
        y->d = qg_fp32_to_fp16(1.0f / is);
    }
    /* Re-assign the levels for the stored scales (all zero for a zero block). */
    for (int j = 0; j < 16; ++j) sc[j] = y->scales[j];
    qg_kq_assign_type0(x, sc, 16, qg_fp16_to_fp32(y->d), 32, L);
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

QG_KQ_ROW_FUNCTIONS(q6_K)
