/* Q8_K: the activation type of K-quant dot products: 256 int8 quants, one float scale and
 * the sum of each group of 16 quants (bsums, which carry the min terms of type-1 weights).
 *
 * Convention: d = amax/127 >= 0 and q = round(x * 127/amax) clamped to [-127, 127], so
 * the element of largest magnitude maps to +127 or -127 with its own sign (ggml stores
 * d = -max/127 instead, with max the signed extreme; both decode as w = d*q). A block
 * whose largest |x| is zero (or NaN) is all zeros with d = 0.
 */
#include "core/quant/k_internal.h"
#include "core/quant/kquants.h"

#include <string.h>

void qg_to_float_q8_K(const void *src, float *dst, int64_t n) {
    const qg_block_q8_K *b = src;
    for (int64_t i = 0; i < n / QG_QK_K; ++i, ++b) {
        for (int j = 0; j < QG_QK_K; ++j) *dst++ = b->d * b->qs[j];
    }
}

void qg_from_float_q8_K(const float *src, void *dst, int64_t n) {
    qg_block_q8_K *y = dst;
    for (int64_t i = 0; i < n / QG_QK_K; ++i, ++y) {
        const float *x = src + i * QG_QK_K;
        float amax = 0.0f;
        for (int j = 0; j < QG_QK_K; ++j) {
            if (fabsf(x[j]) > amax) amax = fabsf(x[j]);
        }
        memset(y, 0, sizeof *y);
        if (!(amax > 0.0f)) continue;
        const float is = 127.0f / amax;
        for (int j = 0; j < QG_QK_K; ++j) {
            y->qs[j] = (int8_t)qg_kq_round_clamp(is * x[j], -127, 127);
        }
        for (int g = 0; g < 16; ++g) {
            int s = 0;
            for (int l = 0; l < 16; ++l) s += y->qs[16 * g + l];
            y->bsums[g] = (int16_t)s;
        }
        y->d = amax / 127.0f;
    }
}

/* Q8_K has no dot product of its own (it is only ever the activation side). */
