/* IQ4_NL (blocks of 32, one fp16 scale) and IQ4_XS (super-blocks of 256: an fp16 d and
 * eight 6-bit sub-block scales ls, w = d*(ls-32)*T[q]): 4-bit indices into a fixed
 * non-linear table T. Scalar reference dequantizers (bit-exact with ggml: d*T[q], and for
 * IQ4_XS dl = d*(ls-32) as a float then dl*T[q]), reference quantizers and the dot
 * products (IQ4_NL against Q8_0, IQ4_XS against Q8_K).
 *
 * Quantizer: for each block of 32, candidate scales map the signed extreme to either end
 * of the table, nudged by -7..7 table units; each candidate assigns every x to the nearest
 * table value, the scale is refit by least squares (weights x^2) and the best kept.
 * IQ4_XS then expresses the per-block scales as 6-bit multiples of a super-block d.
 */
#include "core/quant/k_internal.h"
#include "core/quant/kquants.h"

#include <string.h>

const int8_t qg_iq4_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                  1,    13,   25,  38,  53,  69,  89,  113};

/* Index of the table value nearest to v (the lower one on ties). */
static int iq4_nearest(float v) {
    if (!(v > qg_iq4_values[0])) return 0;
    if (v >= qg_iq4_values[15]) return 15;
    int k = 0;
    while (k < 14 && v > qg_iq4_values[k + 1]) ++k;
    /* now T[k] < v <= T[k+1] */
    return v - qg_iq4_values[k] <= qg_iq4_values[k + 1] - v ? k : k + 1;
}

/* Best scale for 32 values (0 for an all-tiny block). */
static float iq4_block_scale(const float *x) {
    const float max = qg_signed_absmax(x, 32);
    if (!(fabsf(max) >= QG_KQ_EPS)) return 0.0f;
    float best_d = 0.0f, best = -1.0f;
    const int ends[2] = {qg_iq4_values[0], qg_iq4_values[15]};
    for (int e = 0; e < 2; ++e) {
        for (int t = -7; t <= 7; ++t) {
            const float id = (ends[e] + t) / max;
            float sqx = 0.0f, sq2 = 0.0f;
            for (int j = 0; j < 32; ++j) {
                const float q = qg_iq4_values[iq4_nearest(id * x[j])];
                const float w = x[j] * x[j];
                sqx += w * q * x[j];
                sq2 += w * q * q;
            }
            /* The refit scale sqx/sq2 lowers the error by sqx^2/sq2: maximise that. */
            if (sq2 > 0.0f && sqx * sqx / sq2 > best) {
                best = sqx * sqx / sq2;
                best_d = sqx / sq2;
            }
        }
    }
    return best_d;
}

/* Nibble order as Q4_0: element j < 16 in the low nibble of qs[j], j+16 in the high. */
static void iq4_pack(const uint8_t *L, uint8_t *qs) {
    for (int j = 0; j < 16; ++j) qs[j] = (uint8_t)(L[j] | (L[j + 16] << 4));
}

static void iq4_assign(const float *x, float d, uint8_t *L) {
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < 32; ++j) L[j] = (uint8_t)iq4_nearest(id * x[j]);
}

/* Table values of 32 elements stored as in Q4_0 (element j < 16 low nibble of qs[j]). */
static void iq4_values32(const uint8_t *qs, int8_t *v) {
    for (int j = 0; j < 16; ++j) {
        v[j] = qg_iq4_values[qs[j] & 15];
        v[j + 16] = qg_iq4_values[qs[j] >> 4];
    }
}

void qg_to_float_iq4_nl(const void *src, float *dst, int64_t n) {
    const qg_block_iq4_nl *b = src;
    int8_t v[32];
    for (int64_t i = 0; i < n / QG_QK_IQ4NL; ++i, ++b, dst += 32) {
        const float d = qg_fp16_to_fp32(b->d);
        iq4_values32(b->qs, v);
        for (int j = 0; j < 32; ++j) dst[j] = d * v[j];
    }
}

void qg_from_float_iq4_nl(const float *src, void *dst, int64_t n) {
    qg_block_iq4_nl *y = dst;
    for (int64_t i = 0; i < n / QG_QK_IQ4NL; ++i, ++y) {
        const float *x = src + 32 * i;
        uint8_t L[32];
        y->d = qg_fp32_to_fp16(iq4_block_scale(x));
        iq4_assign(x, qg_fp16_to_fp32(y->d), L);
        iq4_pack(L, y->qs);
    }
}

float qg_vec_dot_iq4_nl(int64_t n, const void *vx, const void *vy) {
    const qg_block_iq4_nl *x = vx;
    const qg_block_q8_0 *y = vy;
    int8_t v[32];
    double sum = 0.0;
    for (int64_t i = 0; i < n / QG_QK_IQ4NL; ++i) {
        int32_t s = 0;
        iq4_values32(x[i].qs, v);
        for (int j = 0; j < 32; ++j) s += v[j] * y[i].qs[j];
        sum += (double)qg_fp16_to_fp32(x[i].d) * (double)qg_fp16_to_fp32(y[i].d) * s;
    }
    return (float)sum;
}

static int iq4_xs_scale(const qg_block_iq4_xs *b, int ib) {
    int lo = (b->scales_l[ib / 2] >> (4 * (ib % 2))) & 15;
    int hi = (b->scales_h >> (2 * ib)) & 3;
    return (lo | (hi << 4)) - 32;
}

/* IQ4_XS as a type-0 K-quant block: eight sub-blocks of 32 with levels T[q]. */
static void iq4_xs_decode(const void *restrict block, qg_kq_block *restrict out) {
    const qg_block_iq4_xs *b = block;
    out->type1 = false;
    out->nsub = 8;
    out->d = qg_fp16_to_fp32(b->d);
    for (int ib = 0; ib < 8; ++ib) {
        out->sc[ib] = iq4_xs_scale(b, ib);
        iq4_values32(b->qs + 16 * ib, out->sq + 32 * ib);
    }
}

static void iq4_xs_quantize_block(const float *x, void *block) {
    qg_block_iq4_xs *y = block;
    float scales[8];
    for (int ib = 0; ib < 8; ++ib) scales[ib] = iq4_block_scale(x + 32 * ib);
    const float max_scale = qg_signed_absmax(scales, 8);
    memset(y, 0, sizeof *y);
    /* The largest sub-block scale maps to ls-32 = -32. */
    const float d = fabsf(max_scale) > 0.0f ? -max_scale / 32.0f : 0.0f;
    y->d = qg_fp32_to_fp16(d);
    const float dh = qg_fp16_to_fp32(y->d);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int ib = 0; ib < 8; ++ib) {
        const int l = qg_kq_round_clamp(id * scales[ib], -32, 31);
        const int ls = l + 32;
        y->scales_l[ib / 2] |= (uint8_t)((ls & 15) << (4 * (ib % 2)));
        y->scales_h |= (uint16_t)((ls >> 4) << (2 * ib));
        uint8_t L[32];
        iq4_assign(x + 32 * ib, dh * l, L);
        iq4_pack(L, y->qs + 16 * ib);
    }
}

QG_KQ_ROW_FUNCTIONS(iq4_xs)
