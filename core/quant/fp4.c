/* The FP4 (E2M1 element) block types: MXFP4 (32 elements, one E8M0 power-of-two scale,
 * OCP MX) and NVFP4 (64 elements in 4 sub-blocks of 16, each with an unsigned E4M3
 * scale). E2M1 values are {0, .5, 1, 1.5, 2, 3, 4, 6} with bit 3 as the sign; we keep
 * them doubled as integers (qg_e2m1_x2) so products with int8 stay integer.
 * Quantizers: MXFP4 takes e = floor(log2(amax)) - 2 + 127 (2 = exponent of 6, the
 * largest E2M1 value); NVFP4 takes each sub-block scale as amax/6 rounded to E4M3. Each
 * element then takes the nearest representable value (the lower code on ties). */
#include "core/quant/block32.h"

#include <math.h>

const int8_t qg_e2m1_x2[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

/* Code whose value T[code] * half_scale is nearest to x (first code on ties). */
static uint8_t nearest_e2m1(float x, float half_scale) {
    uint8_t best = 0;
    float best_err = fabsf((float)qg_e2m1_x2[0] * half_scale - x);
    for (uint8_t c = 1; c < 16; c++) {
        float err = fabsf((float)qg_e2m1_x2[c] * half_scale - x);
        if (err < best_err) {
            best_err = err;
            best = c;
        }
    }
    return best;
}

/* Nearest codes of x[j] and x[j + half] packed into the low and high nibble of qs[j]. */
static void pack_e2m1(const float *x, int half, float half_scale, uint8_t *qs) {
    for (int j = 0; j < half; j++) {
        uint8_t lo = nearest_e2m1(x[j], half_scale), hi = nearest_e2m1(x[j + half], half_scale);
        qs[j] = (uint8_t)(lo | (hi << 4));
    }
}

void qg_to_float_mxfp4(const void *src, float *dst, int64_t n) {
    qg_b32_to_float(src, sizeof(qg_block_mxfp4), qg_b32_decode_mxfp4, false, dst, n);
}

void qg_from_float_mxfp4(const float *src, void *dst, int64_t n) {
    qg_block_mxfp4 *b = dst;
    for (int64_t i = 0; i < n / QG_QK_MXFP4; i++, src += QG_QK_MXFP4) {
        uint8_t e = qg_mx_scale(src, QG_QK_MXFP4, 2); /* 2: the exponent of 6 */
        b[i].e = e;
        pack_e2m1(src, 16, ldexpf(1.0f, (int)e - 128), b[i].qs);
    }
}

/* Unsigned E4M3 sub-block scale; codes 0 and 0x7F (the NaN pattern) mean zero. */
float qg_ue4m3_to_fp32(uint8_t v) {
    v &= 0x7f;
    return v == 0x7f ? 0.0f : qg_e4m3_to_fp32(v);
}

void qg_to_float_nvfp4(const void *src, float *dst, int64_t n) {
    const qg_block_nvfp4 *b = src;
    for (int64_t i = 0; i < n / QG_QK_NVFP4; i++) {
        for (int s = 0; s < 4; s++, dst += QG_NVFP4_SUB) {
            float h = qg_ue4m3_to_fp32(b[i].d[s]) * 0.5f;
            const uint8_t *qs = b[i].qs + 8 * s;
            for (int j = 0; j < 8; j++) {
                dst[j] = (float)qg_e2m1_x2[qs[j] & 15] * h;
                dst[j + 8] = (float)qg_e2m1_x2[qs[j] >> 4] * h;
            }
        }
    }
}

void qg_from_float_nvfp4(const float *src, void *dst, int64_t n) {
    qg_block_nvfp4 *b = dst;
    for (int64_t i = 0; i < n / QG_QK_NVFP4; i++) {
        for (int s = 0; s < 4; s++, src += QG_NVFP4_SUB) {
            float amax = qg_absmax(src, QG_NVFP4_SUB);
            uint8_t code = isnan(amax) ? 0 : qg_fp32_to_e4m3(amax / 6.0f);
            b[i].d[s] = code;
            pack_e2m1(src, 8, qg_ue4m3_to_fp32(code) * 0.5f, b[i].qs + 8 * s);
        }
    }
}
