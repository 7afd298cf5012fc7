/* The ternary types TQ1_0 and TQ2_0 (256-element super-blocks, w = d * t with t in
 * {-1, 0, 1}). TQ2_0 stores t+1 in 2-bit fields; TQ1_0 packs five trits per byte as a
 * base-3 fraction of 256 (byte = ceil(v * 256 / 243) for v = the trits read as a base-3
 * number, most significant first), so trit n is recovered as the top "digit" of
 * byte * 3^n: ((u8)(byte * 3^n) * 3) >> 8. Quantizers: d = amax, t = round(x / d). */
#include "core/quant/quant.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

static const uint8_t pow3[6] = {1, 3, 9, 27, 81, 243};

/* One trit (0..2) of a TQ1_0 byte. */
static int tq1_trit(uint8_t byte, int n) {
    uint8_t shifted = (uint8_t)(byte * pow3[n]);
    return ((uint16_t)shifted * 3) >> 8;
}

/* Scale d = amax and the ternary codes t+1 (0..2) for one super-block. */
static float ternary_codes(const float *x, uint8_t t[QG_QK_K]) {
    float amax = qg_absmax(x, QG_QK_K);
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

void qg_tq1_0_trits(const void *block, uint8_t t[QG_QK_K]) {
    const uint8_t *bytes = block; /* qs[48] then qh[4] */
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < tq1_sections[s].trits; k++)
            for (int m = 0; m < tq1_sections[s].count; m++)
                t[tq1_sections[s].elem0 + k * tq1_sections[s].count + m] =
                    (uint8_t)tq1_trit(bytes[tq1_sections[s].byte0 + m], k);
}

void qg_tq2_0_trits(const void *block, uint8_t t[QG_QK_K]) {
    qg_unpack_2bit(((const qg_block_tq2_0 *)block)->qs, t);
}

/* w = (t - 1) * d for the trits of each block. */
static void ternary_to_float(const uint8_t *x, size_t size, size_t d_off,
                             void (*trits)(const void *, uint8_t *), float *dst, int64_t n) {
    uint8_t t[QG_QK_K];
    for (int64_t i = 0; i < n / QG_QK_K; i++, x += size, dst += QG_QK_K) {
        uint16_t d16;
        memcpy(&d16, x + d_off, sizeof d16);
        float d = qg_fp16_to_fp32(d16);
        trits(x, t);
        for (int j = 0; j < QG_QK_K; j++) dst[j] = (float)(t[j] - 1) * d;
    }
}

void qg_to_float_tq1_0(const void *src, float *dst, int64_t n) {
    ternary_to_float(src, sizeof(qg_block_tq1_0), offsetof(qg_block_tq1_0, d), qg_tq1_0_trits,
                     dst, n);
}

static void tq1_0_pack(const uint8_t t[QG_QK_K], void *block) {
    uint8_t *bytes = block;
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

static void tq2_0_pack(const uint8_t t[QG_QK_K], void *block) {
    qg_pack_2bit(t, ((qg_block_tq2_0 *)block)->qs);
}

/* d = amax stored as fp16 at d_off, the codes by pack(). */
static void ternary_from_float(const float *src, uint8_t *x, size_t size, size_t d_off,
                               void (*pack)(const uint8_t *, void *), int64_t n) {
    uint8_t t[QG_QK_K];
    for (int64_t i = 0; i < n / QG_QK_K; i++, src += QG_QK_K, x += size) {
        uint16_t d16 = qg_fp32_to_fp16(ternary_codes(src, t));
        memcpy(x + d_off, &d16, sizeof d16);
        pack(t, x);
    }
}

void qg_from_float_tq1_0(const float *src, void *dst, int64_t n) {
    ternary_from_float(src, dst, sizeof(qg_block_tq1_0), offsetof(qg_block_tq1_0, d), tq1_0_pack,
                       n);
}

void qg_to_float_tq2_0(const void *src, float *dst, int64_t n) {
    ternary_to_float(src, sizeof(qg_block_tq2_0), offsetof(qg_block_tq2_0, d), qg_tq2_0_trits,
                     dst, n);
}

void qg_from_float_tq2_0(const float *src, void *dst, int64_t n) {
    ternary_from_float(src, dst, sizeof(qg_block_tq2_0), offsetof(qg_block_tq2_0, d), tq2_0_pack,
                       n);
}
