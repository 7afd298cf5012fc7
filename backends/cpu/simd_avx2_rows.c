/* AVX2 row functions for the element-wise and row-wise ops of the fast CPU device:
 * SILU, GELU (tanh form), SOFT_MAX, RMS_NORM, NORM, ADD, MUL, SCALE and ROPE on rows of
 * floats.
 *
 * exp is computed in float: n = round(x log2 e), r = x - n ln2 (ln2 split in two parts
 * so the product is exact enough), e^r by its degree-7 Taylor polynomial (truncation
 * below 6e-9 relative on |r| <= ln2/2) and 2^n applied as two factors so that results
 * that overflow or fall into the subnormal range still round once. About 2 ulp in all.
 * SILU is x sigmoid(x); GELU uses the identity 0.5 (1 + tanh z) = sigmoid(2z), which stays
 * accurate where tanh z is near -1; sigmoid(t) is 1/(1+e^-t) or e^t/(1+e^t) by sign.
 * SOFT_MAX, RMS_NORM and NORM sum in double (four lanes) like the reference kernels;
 * the norms also scale in double. ADD, MUL and SCALE are one float operation per element
 * and ROPE rotates in double, as the references do, so those are bit-identical.
 */
#include "simd_avx2.h"
#include "simd_avx2_rows.h"

#include <math.h>

static inline __m256 exp_ps(__m256 x) {
    /* min/max return their second operand for NaN, so NaN passes through. */
    x = _mm256_max_ps(_mm256_set1_ps(-104.0f), _mm256_min_ps(_mm256_set1_ps(89.0f), x));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-06f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    /* 2^n as 2^h * 2^(n-h), h = n/2 rounded down: both factors are normal floats. */
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i h = _mm256_srai_epi32(ni, 1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, h), bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

void cpu_avx2_exp_row(const float *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, exp_ps(_mm256_loadu_ps(x + i)));
    if (i < n) {
        float in[8] = {0}, out[8];
        for (int64_t j = i; j < n; j++) in[j - i] = x[j];
        _mm256_storeu_ps(out, exp_ps(_mm256_loadu_ps(in)));
        for (int64_t j = i; j < n; j++) y[j] = out[j - i];
    }
}

/* Apply F to 8 floats at a time; the tail goes through a zero-padded copy. */
#define ROW_MAP(F)                                                                   \
    int64_t i = 0;                                                                  \
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, F(_mm256_loadu_ps(x + i)));  \
    if (i < n) {                                                                    \
        float in[8] = {0}, out[8];                                                  \
        for (int64_t j = i; j < n; j++) in[j - i] = x[j];                           \
        _mm256_storeu_ps(out, F(_mm256_loadu_ps(in)));                              \
        for (int64_t j = i; j < n; j++) y[j] = out[j - i];                          \
    }

/* v * sigmoid(t) with e = e^-|t|: v/(1+e) for t >= 0 and v*e/(1+e) for t < 0, so that
 * e^-t never overflows and tiny results keep their (subnormal) value. */
static inline __m256 v_sigmoid(__m256 v, __m256 t) {
    const __m256 e = exp_ps(_mm256_or_ps(t, _mm256_set1_ps(-0.0f))); /* e^-|t| */
    const __m256 num = _mm256_blendv_ps(v, _mm256_mul_ps(v, e), t);
    return _mm256_div_ps(num, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

static inline __m256 silu8(__m256 v) { return v_sigmoid(v, v); }

static inline __m256 gelu8(__m256 v) {
    const __m256 v3 = _mm256_mul_ps(_mm256_mul_ps(v, v), v);
    const __m256 z = _mm256_mul_ps(_mm256_set1_ps(0.79788456080286535588f),
                                   _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), v3, v));
    return v_sigmoid(v, _mm256_add_ps(z, z));
}

void cpu_avx2_silu_row(const float *x, float *y, int64_t n) { ROW_MAP(silu8) }

void cpu_avx2_gelu_row(const float *x, float *y, int64_t n) { ROW_MAP(gelu8) }

static inline __m256d sum8_pd(__m256 v, __m256d acc) {
    acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    return _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

static inline double hsum_pd(__m256d v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/* y = softmax(x * scale + mask); the caller has already handled NaN and all -inf rows:
 * here v = x*scale + mask is formed, its maximum taken, then exp(v - max) / sum. */
void cpu_avx2_soft_max_row(const float *x, const float *mask, float scale, float *y, int64_t n) {
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
    const __m256 mv = _mm256_set1_ps(max);
    __m256d acc = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(y + i), mv));
        _mm256_storeu_ps(y + i, e);
        acc = sum8_pd(e, acc);
    }
    double sum = hsum_pd(acc);
    if (i < n) {
        float in[8], out[8];
        for (int j = 0; j < 8; j++) in[j] = i + j < n ? y[i + j] - max : -INFINITY;
        _mm256_storeu_ps(out, exp_ps(_mm256_loadu_ps(in)));
        for (int64_t j = i; j < n; j++) {
            y[j] = out[j - i];
            sum += out[j - i];
        }
    }
    const double inv = 1.0 / sum;
    for (int64_t j = 0; j < n; j++) y[j] = (float)(y[j] * inv);
}

void cpu_avx2_rms_norm_row(const float *x, float *y, int64_t n, float eps) {
    __m256d acc = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(x + i));
        acc = _mm256_fmadd_pd(v, v, acc);
    }
    double sq = hsum_pd(acc);
    for (; i < n; i++) sq += (double)x[i] * (double)x[i];
    const double inv = 1.0 / sqrt(sq / (double)n + (double)eps);
    const __m256d s = _mm256_set1_pd(inv);
    for (i = 0; i + 4 <= n; i += 4)
        _mm_storeu_ps(y + i, _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), s)));
    for (; i < n; i++) y[i] = (float)((double)x[i] * inv);
}

/* NORM: mean, then the mean of squared deviations, both summed in double (four lanes),
 * and (x - mean) * inv in double, rounded once, as the reference kernel does. */
void cpu_avx2_norm_row(const float *x, float *y, int64_t n, float eps) {
    __m256d acc = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm_loadu_ps(x + i)));
    double mean = hsum_pd(acc);
    for (; i < n; i++) mean += x[i];
    mean /= (double)n;
    const __m256d mv = _mm256_set1_pd(mean);
    acc = _mm256_setzero_pd();
    for (i = 0; i + 4 <= n; i += 4) {
        const __m256d d = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), mv);
        acc = _mm256_add_pd(acc, _mm256_mul_pd(d, d));
    }
    double sq = hsum_pd(acc);
    for (; i < n; i++) sq += ((double)x[i] - mean) * ((double)x[i] - mean);
    const double inv = 1.0 / sqrt(sq / (double)n + (double)eps);
    const __m256d s = _mm256_set1_pd(inv);
    for (i = 0; i + 4 <= n; i += 4) {
        const __m256d d = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), mv);
        _mm_storeu_ps(y + i, _mm256_cvtpd_ps(_mm256_mul_pd(d, s)));
    }
    for (; i < n; i++) y[i] = (float)(((double)x[i] - mean) * inv);
}

/* ADD, MUL, SCALE: one float operation per element, so bit-identical with the reference.
 * o may be x or y. */
void cpu_avx2_add_row(const float *x, const float *y, float *o, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(o + i, _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) o[i] = x[i] + y[i];
}

void cpu_avx2_mul_row(const float *x, const float *y, float *o, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(o + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) o[i] = x[i] * y[i];
}

void cpu_avx2_scale_row(const float *x, float s, float *o, int64_t n) {
    const __m256 sv = _mm256_set1_ps(s);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(o + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), sv));
    for (; i < n; i++) o[i] = x[i] * s;
}

/* (x0 c - x1 s, x0 s + x1 c) in double from float pairs, rounded once to float; the same
 * operations (no fused multiply-add) as the reference. */
static inline void rot4(__m128 a, __m128 b, const double *c, const double *s, __m128 *oa, __m128 *ob) {
    const __m256d x0 = _mm256_cvtps_pd(a), x1 = _mm256_cvtps_pd(b);
    const __m256d cv = _mm256_loadu_pd(c), sv = _mm256_loadu_pd(s);
    *oa = _mm256_cvtpd_ps(_mm256_sub_pd(_mm256_mul_pd(x0, cv), _mm256_mul_pd(x1, sv)));
    *ob = _mm256_cvtpd_ps(_mm256_add_pd(_mm256_mul_pd(x0, sv), _mm256_mul_pd(x1, cv)));
}

/* ROPE on one row of n values: pairs i = 0 .. n_dims/2 - 1 rotated by the angle whose
 * cosine and sine are c[i], s[i]; pairs (x[i], x[i + n_dims/2]) when neox, else
 * (x[2i], x[2i+1]); values past n_dims copied. o must not overlap x. */
void cpu_avx2_rope_row(const float *x, float *o, int64_t n, int n_dims, bool neox, const double *c,
                       const double *s) {
    const int half = n_dims / 2;
    int i = 0;
    if (neox) {
        for (; i + 4 <= half; i += 4) {
            __m128 oa, ob;
            rot4(_mm_loadu_ps(x + i), _mm_loadu_ps(x + i + half), c + i, s + i, &oa, &ob);
            _mm_storeu_ps(o + i, oa);
            _mm_storeu_ps(o + i + half, ob);
        }
    } else {
        const __m256i deint = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
        for (; i + 4 <= half; i += 4) {
            const __m256 v = _mm256_permutevar8x32_ps(_mm256_loadu_ps(x + 2 * i), deint);
            __m128 oa, ob;
            rot4(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1), c + i, s + i, &oa, &ob);
            _mm_storeu_ps(o + 2 * i, _mm_unpacklo_ps(oa, ob));
            _mm_storeu_ps(o + 2 * i + 4, _mm_unpackhi_ps(oa, ob));
        }
    }
    for (; i < half; i++) {
        const int64_t j0 = neox ? i : 2 * i, j1 = neox ? i + half : 2 * i + 1;
        const double x0 = x[j0], x1 = x[j1];
        o[j0] = (float)(x0 * c[i] - x1 * s[i]);
        o[j1] = (float)(x0 * s[i] + x1 * c[i]);
    }
    for (int64_t k = 2 * (int64_t)half; k < n; k++) o[k] = x[k];
}
