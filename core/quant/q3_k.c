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

static void q3_K_scales(const uint8_t *packed, int *sc) {
    for (int j = 0; j < 16; ++j) sc[j] = q3_K_scale(packed, j);
}

/* The 256 signed levels of a block, in element order: the low two bits are laid out as
 * in Q2_K; bit m of hmask[l] belongs to element 32*m + l and clear means minus 4. */
static void q3_K_levels(const qg_block_q3_K *restrict b, int8_t *restrict q) {
    uint8_t low[QG_QK_K];
    qg_unpack_2bit(b->qs, low);
    for (int e = 0; e < QG_QK_K; ++e)
        q[e] = (int8_t)(low[e] - ((b->hmask[e % 32] >> (e / 32)) & 1 ? 0 : 4));
}

static void q3_K_decode(const void *restrict block, qg_kq_block *restrict out) {
    const qg_block_q3_K *b = block;
    out->type1 = false;
    out->nsub = 16;
    out->d = qg_fp16_to_fp32(b->d);
    q3_K_scales(b->scales, out->sc);
    q3_K_levels(b, out->sq);
}

static void q3_K_quantize_block(const float *x, void *block) {
    qg_block_q3_K *y = block;
    int8_t L[QG_QK_K];
    float scales[16];
    for (int j = 0; j < 16; ++j)
        scales[j] = qg_kq_search_type0(16, 4, x + 16 * j, L + 16 * j, QG_KQ_W_ONE, 5);
    const float max_scale = qg_signed_absmax(scales, 16);
    memset(y, 0, sizeof *y);
    if (fabsf(max_scale) > 0.0f) {
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

    /* Re-assign levels for the stored scales; level l is stored as l+4 (0..7). */
    int sc[16];
    uint8_t u[QG_QK_K];
    q3_K_scales(y->scales, sc);
    qg_kq_assign_type0(x, sc, 16, qg_fp16_to_fp32(y->d), 4, L);
    for (int e = 0; e < QG_QK_K; ++e) {
        u[e] = (uint8_t)(L[e] + 4);
        if (u[e] > 3) y->hmask[e % 32] |= (uint8_t)(1u << (e / 32));
    }
    qg_pack_2bit(u, y->qs);
}

QG_KQ_ROW_FUNCTIONS(q3_K)
