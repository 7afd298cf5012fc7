/* Q4_K: 256-element super-blocks of 8 sub-blocks of 32, 4-bit levels, w = d*sc*q - dmin*mn
 * with 6-bit sc and mn per sub-block. Scalar reference dequantizer (bit-exact with
 * ggml: d1 = d*sc and m1 = dmin*mn as floats, then d1*q - m1), reference quantizer
 * (type-1 search per sub-block weighted by rms(x)+|x|, then 6-bit sub-block scales) and
 * the dot product against Q8_K.
 */
#include "core/quant/k_internal.h"
#include "core/quant/kquants.h"

/* Levels of a block in element order: chunk c holds sub-block 2c in the low nibbles of
 * qs[32c..32c+31] and sub-block 2c+1 in the high nibbles. */
static void q4_K_levels(const qg_block_q4_K *restrict b, uint8_t *restrict q) {
    for (int c = 0; c < 4; ++c) {
        for (int l = 0; l < 32; ++l) {
            q[64 * c + l] = b->qs[32 * c + l] & 15;
            q[64 * c + 32 + l] = b->qs[32 * c + l] >> 4;
        }
    }
}

static void q4_K_decode(const void *restrict block, qg_kq_block *restrict out) {
    const qg_block_q4_K *b = block;
    qg_kq_decode_sm6(b->d, b->dmin, b->scales, out);
    q4_K_levels(b, out->uq);
}

static void q4_K_quantize_block(const float *x, void *block) {
    qg_block_q4_K *y = block;
    uint8_t L[QG_QK_K];
    qg_kq_levels_sm6(x, 15, -1.0f, 20, y->scales, &y->d, &y->dmin, L);
    for (int c = 0; c < 4; ++c) {
        for (int l = 0; l < 32; ++l) {
            y->qs[32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
        }
    }
}

QG_KQ_ROW_FUNCTIONS(q4_K)
