/* The ternary types TQ1_0 and TQ2_0 (256-element super-blocks, w = d * t with t in
 * {-1, 0, 1}). TQ2_0 stores t+1 in 2-bit fields; TQ1_0 packs five trits per byte as a
 * base-3 fraction of 256 (byte = ceil(v * 256 / 243) for v = the trits read as a base-3
 * number, most significant first), so trit n is recovered as the top "digit" of
 * byte * 3^n: ((u8)(byte * 3^n) * 3) >> 8. Quantizers: d = amax, t = round(x / d). */
#include "core/quant/quant.h"

#include <math.h>

static const uint8_t pow3[6] = {1, 3, 9, 27, 81, 243};

/* One trit (0..2) of a TQ1_0 byte. */
static int tq1_trit(uint8_t byte, int n) {
    uint8_t shifted = (uint8_t)(byte * pow3[n]);
    return ((uint16_t)shifted * 3) >> 8;
}

/* Scale d = amax and the ternary codes t+1 (0..2) for one super-block. */
static float ternary_codes(const float *x, uint8_t t[QG_QK_K]) {
    float amax = 0;
    for (int j = 0; j < QG_QK_K; j++)
        if (fabsf(x[j]) > amax) amax = fabsf(x[j]);
    float id = amax > 0 && isfinite(amax) ? 1.0f / amax : 0.0f;
    for (int j = 0; j < QG_QK_K; j++) {
        float v = x[j] * id;
        t[j] = (uint8_t)(isnan(v) ? 1 : v >= 0.5f ? 2 : v <= -0.5f ? 0 : 1);
    }
    return amax;
}

/* TQ1_0 layout: (first byte, byte count, trits per byte, first element). Byte b of a
 * section holds elements first + n * count + (b - first byte) for trit n. The last
 * section has four trits per byte, the fifth trit position left as zero. */
static const struct { int byte0, count, trits, elem0; } tq1_sections[3] = {
    {0, 32, 5, 0},
    {32, 16, 5, 160},
    {48, 4, 4, 240},
};

void qg_to_float_tq1_0(const void *src, float *dst, int64_t n) {
    const qg_block_tq1_0 *b = src;
    for (int64_t i = 0; i < n / QG_QK_K; i++, dst += QG_QK_K) {
        const uint8_t *bytes = (const uint8_t *)&b[i]; /* qs[48] then qh[4] */
        float d = qg_fp16_to_fp32(b[i].d);
        for (int s = 0; s < 3; s++)
            for (int k = 0; k < tq1_sections[s].trits; k++)
                for (int m = 0; m < tq1_sections[s].count; m++) {
                    int t = tq1_trit(bytes[tq1_sections[s].byte0 + m], k);
                    dst[tq1_sections[s].elem0 + k * tq1_sections[s].count + m] =
                        (float)(t - 1) * d;
                }
    }
}

void qg_from_float_tq1_0(const float *src, void *dst, int64_t n) {
    qg_block_tq1_0 *b = dst;
    uint8_t t[QG_QK_K];
    for (int64_t i = 0; i < n / QG_QK_K; i++, src += QG_QK_K) {
        uint8_t *bytes = (uint8_t *)&b[i];
        b[i].d = qg_fp32_to_fp16(ternary_codes(src, t));
        for (int s = 0; s < 3; s++)
            for (int m = 0; m < tq1_sections[s].count; m++) {
                int v = 0;
                for (int k = 0; k < 5; k++) {
                    int tr = k < tq1_sections[s].trits
                                 ? t[tq1_sections[s].elem0 + k * tq1_sections[s].count + m]
                                 : 0;
                    v = v * 3 + tr;
                }
                bytes[tq1_sections[s].byte0 + m] = (uint8_t)((v * 256 + 242) / 243);
            }
    }
}

void qg_to_float_tq2_0(const void *src, float *dst, int64_t n) {
    const qg_block_tq2_0 *b = src;
    for (int64_t i = 0; i < n / QG_QK_K; i++) {
        float d = qg_fp16_to_fp32(b[i].d);
        for (int g = 0; g < 2; g++)             /* 32-byte groups */
            for (int l = 0; l < 4; l++)         /* 2-bit field */
                for (int m = 0; m < 32; m++, dst++)
                    *dst = (float)(((b[i].qs[32 * g + m] >> (2 * l)) & 3) - 1) * d;
    }
}

void qg_from_float_tq2_0(const float *src, void *dst, int64_t n) {
    qg_block_tq2_0 *b = dst;
    uint8_t t[QG_QK_K];
    for (int64_t i = 0; i < n / QG_QK_K; i++, src += QG_QK_K) {
        b[i].d = qg_fp32_to_fp16(ternary_codes(src, t));
        for (int g = 0; g < 2; g++)
            for (int m = 0; m < 32; m++) {
                int q = 0;
                for (int l = 0; l < 4; l++) q |= t[128 * g + 32 * l + m] << (2 * l);
                b[i].qs[32 * g + m] = (uint8_t)q;
            }
    }
}
