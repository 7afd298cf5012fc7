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

static void q5_K_levels(const qg_block_q5_K *restrict b, uint8_t *restrict q) {
    for (int c = 0; c < 4; ++c) {
        for (int l = 0; l < 32; ++l) {
            q[64 * c + l] = (uint8_t)((b->qs[32 * c + l] & 15) | (((b->qh[l] >> (2 * c)) & 1) << 4));
            q[64 * c + 32 + l] =
                (uint8_t)((b->qs[32 * c + l] >> 4) | (((b->qh[l] >> (2 * c + 1)) & 1) << 4));
        }
    }
}

static void q5_K_decode(const void *restrict block, qg_kq_block *restrict out) {
    const qg_block_q5_K *b = block;
    qg_kq_decode_sm6(b->d, b->dmin, b->scales, out);
    q5_K_levels(b, out->uq);
}

static void q5_K_quantize_block(const float *x, void *block) {
    qg_block_q5_K *y = block;
    uint8_t L[QG_QK_K];
    qg_kq_levels_sm6(x, 31, -0.5f, 15, y->scales, &y->d, &y->dmin, L);
    memset(y->qh, 0, sizeof y->qh);
    for (int c = 0; c < 4; ++c) {
        for (int l = 0; l < 32; ++l) {
            uint8_t lo = L[64 * c + l], hi = L[64 * c + 32 + l];
            y->qs[32 * c + l] = (uint8_t)((lo & 15) | ((hi & 15) << 4));
            y->qh[l] |= (uint8_t)(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
        }
    }
}

QG_KQ_ROW_FUNCTIONS(q5_K)
