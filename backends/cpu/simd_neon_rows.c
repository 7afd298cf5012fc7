/* NEON row functions for the element-wise and row-wise ops of the fast CPU device: exp,
 * SILU, GELU (tanh form), SOFT_MAX, RMS_NORM, NORM, ADD, MUL, SCALE and ROPE on rows of
 * floats, with the same numerics as the AVX2 ones (simd_avx2_rows.c):
 *
 * exp in float: n = round(x log2 e), r = x - n ln2 (ln2 in two parts), e^r by its
 * degree-7 Taylor polynomial and 2^n applied as two factors, so that results that
 * overflow or are subnormal still round once; about 2 ulp. SILU is x sigmoid(x), GELU
 * x sigmoid(2z) with z = sqrt(2/pi)(x + 0.044715 x^3) (the identity 0.5 (1 + tanh z) =
 * sigmoid(2z)); sigmoid(t) is 1/(1+e^-t) or e^t/(1+e^t) by sign, so e^-|t| never
 * overflows. SOFT_MAX, RMS_NORM and NORM sum in double (two-lane vectors) like the
 * reference kernels; the norms also scale in double. ADD, MUL and SCALE are one float
 * operation per element and ROPE rotates in double with separate multiplies and adds,
 * as the references do, so those are bit-identical.
 */
#include "simd_neon.h"

#include <math.h>
#include <stdbool.h>

static inline float32x4_t exp4(float32x4_t x) {
    /* FMAX/FMIN return NaN for a NaN operand, so NaN passes through. */
    x = vmaxq_f32(vdupq_n_f32(-104.0f), vminq_f32(vdupq_n_f32(89.0f), x));
    const float32x4_t n = vrndnq_f32(vmulq_n_f32(x, 1.44269504088896341f));
    float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693145751953125f));
    r = vfmsq_f32(r, n, vdupq_n_f32(1.428606765330187045e-06f));
    float32x4_t p = vdupq_n_f32(1.0f / 5040.0f);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 720.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 120.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 24.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 6.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(0.5f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    /* 2^n as 2^h * 2^(n-h), h = n/2 rounded down: both factors are normal floats. */
    const int32x4_t ni = vcvtq_s32_f32(n), h = vshrq_n_s32(ni, 1), bias = vdupq_n_s32(127);
    const float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(h, bias), 23));
    const float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vsubq_s32(ni, h), bias), 23));
    return vmulq_f32(vmulq_f32(p, s1), s2);
}

/* Apply F to 4 floats at a time; the tail goes through a zero-padded copy. */
#define ROW_MAP(F)                                                         \
    int64_t i = 0;                                                        \
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, F(vld1q_f32(x + i)));     \
    if (i < n) {                                                          \
        float in[4] = {0}, out[4];                                        \
        for (int64_t j = i; j < n; j++) in[j - i] = x[j];                 \
        vst1q_f32(out, F(vld1q_f32(in)));                                 \
        for (int64_t j = i; j < n; j++) y[j] = out[j - i];                \
    }

void cpu_neon_exp_row(const float *x, float *y, int64_t n) { ROW_MAP(exp4) }

/* v * sigmoid(t) with e = e^-|t|: v/(1+e) for t >= 0, v*e/(1+e) for t < 0. */
static inline float32x4_t v_sigmoid(float32x4_t v, float32x4_t t) {
    const float32x4_t e = exp4(vnegq_f32(vabsq_f32(t)));
    const float32x4_t num = vbslq_f32(vcltq_f32(t, vdupq_n_f32(0.0f)), vmulq_f32(v, e), v);
    return vdivq_f32(num, vaddq_f32(vdupq_n_f32(1.0f), e));
}

static inline float32x4_t silu4(float32x4_t v) { return v_sigmoid(v, v); }

static inline float32x4_t gelu4(float32x4_t v) {
    const float32x4_t v3 = vmulq_f32(vmulq_f32(v, v), v);
    const float32x4_t z = vmulq_n_f32(vfmaq_n_f32(v, v3, 0.044715f), 0.79788456080286535588f);
    return v_sigmoid(v, vaddq_f32(z, z));
}

void cpu_neon_silu_row(const float *x, float *y, int64_t n) { ROW_MAP(silu4) }

void cpu_neon_gelu_row(const float *x, float *y, int64_t n) { ROW_MAP(gelu4) }

/* Four floats added to a double accumulator (two lanes). */
static inline float64x2_t sum4_f64(float32x4_t v, float64x2_t acc) {
    return vaddq_f64(vaddq_f64(acc, vcvt_f64_f32(vget_low_f32(v))), vcvt_high_f64_f32(v));
}

/* y = softmax(x * scale + mask): v = x*scale + mask is formed (NaN anywhere makes the
 * maximum NaN, an all -inf row gives zeros, as the reference), then exp(v - max) / sum. */
void cpu_neon_soft_max_row(const float *x, const float *mask, float scale, float *y, int64_t n) {
    float max = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i] * scale + (mask ? mask[i] : 0.0f);
        y[i] = v;
        if (isnan(v) || isnan(max)) max = NAN;
        else if (v > max) max = v;
    }
    if (max == -INFINITY) {
        for (int64_t i = 0; i < n; i++) y[i] = 0.0f;
        return;
    }
    const float32x4_t mv = vdupq_n_f32(max);
    float64x2_t acc = vdupq_n_f64(0.0);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t e = exp4(vsubq_f32(vld1q_f32(y + i), mv));
        vst1q_f32(y + i, e);
        acc = sum4_f64(e, acc);
    }
    double sum = vaddvq_f64(acc);
    if (i < n) {
        float in[4], out[4];
        for (int j = 0; j < 4; j++) in[j] = i + j < n ? y[i + j] - max : -INFINITY;
        vst1q_f32(out, exp4(vld1q_f32(in)));
        for (int64_t j = i; j < n; j++) {
            y[j] = out[j - i];
            sum += out[j - i];
        }
    }
    const double inv = 1.0 / sum;
    for (int64_t j = 0; j < n; j++) y[j] = (float)(y[j] * inv);
}

/* Four floats times a double, rounded once to float each. */
static inline float32x4_t scale4_f64(float32x4_t v, float64x2_t s) {
    const float64x2_t lo = vmulq_f64(vcvt_f64_f32(vget_low_f32(v)), s), hi = vmulq_f64(vcvt_high_f64_f32(v), s);
    return vcvt_high_f32_f64(vcvt_f32_f64(lo), hi);
}

void cpu_neon_rms_norm_row(const float *x, float *y, int64_t n, float eps) {
    float64x2_t a0 = vdupq_n_f64(0.0), a1 = a0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t v = vld1q_f32(x + i);
        const float64x2_t lo = vcvt_f64_f32(vget_low_f32(v)), hi = vcvt_high_f64_f32(v);
        a0 = vfmaq_f64(a0, lo, lo);
        a1 = vfmaq_f64(a1, hi, hi);
    }
    double sq = vaddvq_f64(vaddq_f64(a0, a1));
    for (; i < n; i++) sq += (double)x[i] * (double)x[i];
    const double inv = 1.0 / sqrt(sq / (double)n + (double)eps);
    const float64x2_t s = vdupq_n_f64(inv);
    for (i = 0; i + 4 <= n; i += 4) vst1q_f32(y + i, scale4_f64(vld1q_f32(x + i), s));
    for (; i < n; i++) y[i] = (float)((double)x[i] * inv);
}

/* NORM: mean, then the mean of squared deviations, both summed in double, and
 * (x - mean) * inv in double, rounded once, as the reference kernel does. */
void cpu_neon_norm_row(const float *x, float *y, int64_t n, float eps) {
    float64x2_t acc = vdupq_n_f64(0.0);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) acc = sum4_f64(vld1q_f32(x + i), acc);
    double mean = vaddvq_f64(acc);
    for (; i < n; i++) mean += x[i];
    mean /= (double)n;
    const float64x2_t mv = vdupq_n_f64(mean);
    float64x2_t a0 = vdupq_n_f64(0.0), a1 = a0;
    for (i = 0; i + 4 <= n; i += 4) {
        const float32x4_t v = vld1q_f32(x + i);
        const float64x2_t d0 = vsubq_f64(vcvt_f64_f32(vget_low_f32(v)), mv), d1 = vsubq_f64(vcvt_high_f64_f32(v), mv);
        a0 = vaddq_f64(a0, vmulq_f64(d0, d0));
        a1 = vaddq_f64(a1, vmulq_f64(d1, d1));
    }
    double sq = vaddvq_f64(vaddq_f64(a0, a1));
    for (; i < n; i++) sq += ((double)x[i] - mean) * ((double)x[i] - mean);
    const double inv = 1.0 / sqrt(sq / (double)n + (double)eps);
    const float64x2_t s = vdupq_n_f64(inv);
    for (i = 0; i + 4 <= n; i += 4) {
        const float32x4_t v = vld1q_f32(x + i);
        const float64x2_t d0 = vmulq_f64(vsubq_f64(vcvt_f64_f32(vget_low_f32(v)), mv), s);
        const float64x2_t d1 = vmulq_f64(vsubq_f64(vcvt_high_f64_f32(v), mv), s);
        vst1q_f32(y + i, vcvt_high_f32_f64(vcvt_f32_f64(d0), d1));
    }
    for (; i < n; i++) y[i] = (float)(((double)x[i] - mean) * inv);
}

/* ADD, MUL, SCALE: one float operation per element; o may be x or y. */
void cpu_neon_add_row(const float *x, const float *y, float *o, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(o + i, vaddq_f32(vld1q_f32(x + i), vld1q_f32(y + i)));
    for (; i < n; i++) o[i] = x[i] + y[i];
}

void cpu_neon_mul_row(const float *x, const float *y, float *o, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(o + i, vmulq_f32(vld1q_f32(x + i), vld1q_f32(y + i)));
    for (; i < n; i++) o[i] = x[i] * y[i];
}

void cpu_neon_scale_row(const float *x, float s, float *o, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(o + i, vmulq_n_f32(vld1q_f32(x + i), s));
    for (; i < n; i++) o[i] = x[i] * s;
}

/* Two pairs: (x0 c - x1 s, x0 s + x1 c) in double, each rounded once to float. */
static inline void rot2(float32x2_t a, float32x2_t b, const double *c, const double *s, float32x2_t *oa,
                        float32x2_t *ob) {
    const float64x2_t x0 = vcvt_f64_f32(a), x1 = vcvt_f64_f32(b), cv = vld1q_f64(c), sv = vld1q_f64(s);
    *oa = vcvt_f32_f64(vsubq_f64(vmulq_f64(x0, cv), vmulq_f64(x1, sv)));
    *ob = vcvt_f32_f64(vaddq_f64(vmulq_f64(x0, sv), vmulq_f64(x1, cv)));
}

/* ROPE on one row of n values: pair i (0 .. n_dims/2 - 1) rotated by the angle with
 * cosine c[i] and sine s[i]; pairs (x[i], x[i + n_dims/2]) when neox, else (x[2i],
 * x[2i+1]); values past n_dims copied. o may be x but must not partly overlap it. */
void cpu_neon_rope_row(const float *x, float *o, int64_t n, int n_dims, bool neox, const double *c,
                       const double *s) {
    const int half = n_dims / 2;
    int i = 0;
    if (neox) {
        for (; i + 2 <= half; i += 2) {
            float32x2_t oa, ob;
            rot2(vld1_f32(x + i), vld1_f32(x + i + half), c + i, s + i, &oa, &ob);
            vst1_f32(o + i, oa);
            vst1_f32(o + i + half, ob);
        }
    } else {
        for (; i + 2 <= half; i += 2) {
            const float32x2x2_t v = vld2_f32(x + 2 * i); /* val[0]: x[2i], x[2i+2]; val[1]: odd */
            float32x2x2_t r;
            rot2(v.val[0], v.val[1], c + i, s + i, &r.val[0], &r.val[1]);
            vst2_f32(o + 2 * i, r);
        }
    }
    for (; i < half; i++) {
        const int64_t j0 = neox ? i : 2 * i, j1 = neox ? i + half : 2 * i + 1;
        const double x0 = x[j0], x1 = x[j1];
        o[j0] = (float)(x0 * c[i] - x1 * s[i]);
        o[j1] = (float)(x0 * s[i] + x1 * c[i]);
    }
    if (o != x)
        for (int64_t k = 2 * (int64_t)half; k < n; k++) o[k] = x[k];
}
