/* Q2_K: 256-element super-blocks of 16 sub-blocks, 2-bit levels, w = d*sc*q - dmin*mn
 * with 4-bit sc and mn per sub-block. Scalar reference dequantizer (bit-exact with
 * ggml's float evaluation order: dl = d*sc and ml = dmin*mn as floats, then dl*q - ml),
 * reference quantizer (type-1 search per sub-block weighted by |x|, then 4-bit
 * sub-block scales) and the dot product against Q8_K.
 */
#include "core/quant/k_internal.h"
#include "core/quant/kquants.h"

/* Sub-block scales (low nibble) and mins (high nibble) as ints. */
static void q2_K_scales(const uint8_t *packed, int *sc, int *mn) {
    for (int j = 0; j < 16; ++j) {
        sc[j] = packed[j] & 15;
        mn[j] = packed[j] >> 4;
    }
}

static void q2_K_decode(const void *restrict block, qg_kq_block *restrict out) {
    const qg_block_q2_K *b = block;
    out->type1 = true;
    out->nsub = 16;
    out->d = qg_fp16_to_fp32(b->d);
    out->dmin = qg_fp16_to_fp32(b->dmin);
    q2_K_scales(b->scales, out->sc, out->mn);
    qg_unpack_2bit(b->qs, out->uq);
}

static void q2_K_quantize_block(const float *x, void *block) {
    qg_block_q2_K *y = block;
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
        int s4 = qg_kq_round_clamp(is * scales[j], 0, 15);
        int m4 = qg_kq_round_clamp(im * mins[j], 0, 15);
        y->scales[j] = (uint8_t)(s4 | (m4 << 4));
    }
    y->d = qg_fp32_to_fp16(max_scale / 15.0f);
    y->dmin = qg_fp32_to_fp16(max_min / 15.0f);

    /* Re-assign the levels for the scales actually stored. */
    int sc[16], mn[16];
    q2_K_scales(y->scales, sc, mn);
    qg_kq_assign_type1(x, sc, mn, 16, qg_fp16_to_fp32(y->d), qg_fp16_to_fp32(y->dmin), 3, L);
    qg_pack_2bit(L, y->qs);
}

QG_KQ_ROW_FUNCTIONS(q2_K)
