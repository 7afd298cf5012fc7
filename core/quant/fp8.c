/* FP8 element conversions (OCP OFP8 E4M3 "FN" and E5M2) and the MXFP8 block types
 * (OCP MX v1.0: 32 elements sharing one E8M0 scale), as specified in
 * shared/spec/fp8.md: round to nearest even, finite overflow saturates, NaN stays NaN,
 * infinity saturates for E4M3 and stays infinite for E5M2. */
#include "core/quant/quant.h"

#include <math.h>
#include <string.h>

#define E4M3_MAX_CODE 0x7eu /* 448 */
#define E5M2_MAX_CODE 0x7bu /* 57344 */
#define E5M2_INF_CODE 0x7cu

float qg_e4m3_to_fp32(uint8_t v) {
    int exp = (v >> 3) & 15, man = v & 7;
    float mag;
    if (exp == 15 && man == 7) mag = NAN;
    else if (exp == 0) mag = ldexpf((float)man, -9);
    else mag = ldexpf((float)(8 + man), exp - 10);
    return (v & 0x80) ? -mag : mag;
}

float qg_e5m2_to_fp32(uint8_t v) {
    return qg_fp16_to_fp32((uint16_t)((uint16_t)v << 8));
}

/* Sign, NaN and infinity handling around qg_round_minifloat; finite overflow saturates
 * to max_code. */
static uint8_t fp8_encode(float f, int mbits, int bias, uint32_t max_code, uint8_t nan_code,
                          uint8_t inf_code) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint8_t sign = (uint8_t)((x >> 24) & 0x80u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return (uint8_t)(sign | nan_code);
    if (ax == 0x7f800000u) return (uint8_t)(sign | inf_code);
    uint32_t q = qg_round_minifloat(ax, mbits, bias);
    if (q > max_code) q = max_code;
    return (uint8_t)(sign | q);
}

uint8_t qg_fp32_to_e4m3(float f) {
    return fp8_encode(f, 3, 7, E4M3_MAX_CODE, 0x7f, E4M3_MAX_CODE);
}

uint8_t qg_fp32_to_e5m2(float f) {
    return fp8_encode(f, 2, 15, E5M2_MAX_CODE, 0x7e, E5M2_INF_CODE);
}

float qg_e8m0_to_fp32(uint8_t e) {
    if (e == 0xff) return NAN;
    return ldexpf(1.0f, (int)e - 127);
}

QG_ELEM_ROWS(f8_e4m3, uint8_t, qg_e4m3_to_fp32, qg_fp32_to_e4m3)
QG_ELEM_ROWS(f8_e5m2, uint8_t, qg_e5m2_to_fp32, qg_fp32_to_e5m2)

/* OCP MX shared scale (see quant.h). */
uint8_t qg_mx_scale(const float *x, int n, int emax_elem) {
    float amax = qg_absmax(x, n);
    if (amax == 0) return 0;
    if (isinf(amax)) return 254;
    int ex;
    frexpf(amax, &ex); /* amax = m * 2^ex, m in [0.5, 1): floor(log2(amax)) = ex - 1 */
    int e = ex - 1 - emax_elem + 127;
    if (e < 0) e = 0;
    if (e > 254) e = 254;
    return (uint8_t)e;
}

static void mxfp8_from_float(const float *src, void *dst, int64_t n, int emax_elem,
                             uint8_t (*enc)(float)) {
    qg_block_mxfp8 *b = dst;
    for (int64_t i = 0; i < n / QG_QK_MXFP8; i++, src += QG_QK_MXFP8) {
        uint8_t e = qg_mx_scale(src, QG_QK_MXFP8, emax_elem);
        b[i].e = e;
        /* dividing by 2^(e-127) is exact scaling by a power of two (ldexp) */
        for (int j = 0; j < QG_QK_MXFP8; j++) b[i].q[j] = enc(ldexpf(src[j], 127 - (int)e));
    }
}

static void mxfp8_to_float(const void *src, float *dst, int64_t n, float (*dec)(uint8_t)) {
    const qg_block_mxfp8 *b = src;
    for (int64_t i = 0; i < n / QG_QK_MXFP8; i++, dst += QG_QK_MXFP8) {
        float d = qg_e8m0_to_fp32(b[i].e);
        for (int j = 0; j < QG_QK_MXFP8; j++) dst[j] = dec(b[i].q[j]) * d;
    }
}

void qg_to_float_mxfp8_e4m3(const void *src, float *dst, int64_t n) {
    mxfp8_to_float(src, dst, n, qg_e4m3_to_fp32);
}

void qg_from_float_mxfp8_e4m3(const float *src, void *dst, int64_t n) {
    mxfp8_from_float(src, dst, n, 8, qg_fp32_to_e4m3);
}

void qg_to_float_mxfp8_e5m2(const void *src, float *dst, int64_t n) {
    mxfp8_to_float(src, dst, n, qg_e5m2_to_fp32);
}

void qg_from_float_mxfp8_e5m2(const float *src, void *dst, int64_t n) {
    mxfp8_from_float(src, dst, n, 15, qg_fp32_to_e5m2);
}
