/* Scalar conversions between float and the plain storage types: IEEE half and bfloat16
 * (round to nearest even, subnormals, inf and NaN handled bit-exactly), F64, and the
 * integer types (I8..I64: from float rounds to nearest even and saturates, NaN gives 0).
 * The row functions here are the to_float/from_float entries of the plain types. */
#include "core/quant/quant.h"

#include <math.h>
#include <string.h>

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float qg_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) return bits_f32(sign | 0x7f800000u | (man << 13)); /* inf, NaN */
    if (exp == 0) {
        /* zero or subnormal: man * 2^-24, exact in float */
        float v = ldexpf((float)man, -24);
        return sign ? -v : v;
    }
    return bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

uint16_t qg_fp32_to_fp16(float f) {
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu)); /* quiet NaN */
    if (ax == 0x7f800000u) return (uint16_t)(sign | 0x7c00u);
    uint32_t q = qg_round_minifloat(ax, 10, 15);
    if (q >= 0x7c00u) q = 0x7c00u; /* rounds beyond the largest finite half: infinity */
    return (uint16_t)(sign | q);
}

float qg_bf16_to_fp32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t qg_fp32_to_bf16(float f) {
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

void qg_to_float_f32(const void *src, float *dst, int64_t n) {
    memmove(dst, src, (size_t)n * sizeof(float));
}

void qg_from_float_f32(const float *src, void *dst, int64_t n) {
    memmove(dst, src, (size_t)n * sizeof(float));
}

QG_ELEM_ROWS(f16, uint16_t, qg_fp16_to_fp32, qg_fp32_to_fp16)
QG_ELEM_ROWS(bf16, uint16_t, qg_bf16_to_fp32, qg_fp32_to_bf16)

void qg_to_float_f64(const void *src, float *dst, int64_t n) {
    const double *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = (float)s[i];
}

void qg_from_float_f64(const float *src, void *dst, int64_t n) {
    double *d = dst;
    for (int64_t i = 0; i < n; i++) d[i] = (double)src[i];
}

/* Round to nearest, ties to even, independent of the current rounding mode; the caller
 * has already clamped x to the target range, so the result fits. NaN gives 0. */
static double round_even(double x) {
    if (isnan(x)) return 0;
    double r = floor(x);
    double diff = x - r;
    if (diff > 0.5 || (diff == 0.5 && fmod(r, 2.0) != 0)) r += 1;
    return r;
}

/* Saturating float -> integer in [lo, hi]; lim is 2^(bits-1) as a double, which is
 * exact even where hi itself is not representable (I64). */
static int64_t to_int(float f, int64_t lo, int64_t hi, double lim) {
    double r = round_even((double)f);
    if (r >= lim) return hi;
    if (r < -lim) return lo;
    return (int64_t)r;
}

#define INT_ROWS(t, ctype, lo, hi, bits)                                              \
    void qg_to_float_##t(const void *src, float *dst, int64_t n) {                    \
        const ctype *s = src;                                                         \
        for (int64_t i = 0; i < n; i++) dst[i] = (float)s[i];                         \
    }                                                                                 \
    void qg_from_float_##t(const float *src, void *dst, int64_t n) {                  \
        ctype *d = dst;                                                               \
        for (int64_t i = 0; i < n; i++)                                               \
            d[i] = (ctype)to_int(src[i], lo, hi, ldexp(1.0, bits - 1));               \
    }

INT_ROWS(i8, int8_t, INT8_MIN, INT8_MAX, 8)
INT_ROWS(i16, int16_t, INT16_MIN, INT16_MAX, 16)
INT_ROWS(i32, int32_t, INT32_MIN, INT32_MAX, 32)
INT_ROWS(i64, int64_t, INT64_MIN, INT64_MAX, 64)
