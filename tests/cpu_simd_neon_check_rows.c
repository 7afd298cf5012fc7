/* The NEON row functions and GET_ROWS dequantizers against references written here from
 * the reference kernels' formulas; part of the cpu_simd_neon_check program (see
 * cpu_simd_neon_check.c), with the bounds of the AVX2 tests (test_cpu_simd.c test_rows,
 * test_cpu_simd_rows2.c, test_ops.c):
 *  - exp within 2 ulp (subnormal results within 2 units of 2^-149), SILU within 8 eps
 *    relative, GELU within (6|z| + 8) eps relative, on a dense grid over [-110, 110]
 *    plus NaN and infinities (absolute slack 2^-140 where results are subnormal);
 *  - SOFT_MAX (scale, masks with -inf, odd lengths) within 1e-7 + 1e-5 |ref| of the
 *    double reference; all -inf rows give zeros and rows with NaN give NaN;
 *  - RMS_NORM and NORM (sums in double in another order) within 2 ulp of the float
 *    result; a NaN or infinity makes NORM's row NaN;
 *  - ADD, MUL, SCALE (one float operation) and ROPE (double rotation rounded once,
 *    NEOX and adjacent pairs, odd pair counts, in place) bit-identical;
 *  - the F16, BF16, Q4_0, Q8_0, Q6_K dequantizers bit-identical with to_float on random
 *    raw blocks.
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/simd.h"
#include "testrand.h"

int neon_check_rows(const cpu_simd_fns *s, int *checks);

static qgt_rng rs = {0x9E3779B97F4A7C15ull};

static uint64_t rnext(void) { return qgt_next(&rs); }
static float rnormal(void) { return qgt_normal(&rs); }

static int fails;

#define FAIL(...)                                       \
    do {                                                \
        if (fails < 40) printf("FAIL " __VA_ARGS__);    \
        fails++;                                        \
    } while (0)

static bool same(float a, float b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; }

static float ulp(float v) {
    v = fabsf(v);
    return v < FLT_MIN ? FLT_TRUE_MIN : nextafterf(v, INFINITY) - v;
}

/* Random floats with some NaN, infinities, signed zeros and subnormals mixed in. */
static void special_row(float *x, int64_t n) {
    static const float sp[] = {0.0f, -0.0f, 1e-40f, -3e-39f, 65504.0f, -1e30f, 3.4e38f, 1.0f};
    for (int64_t i = 0; i < n; i++) {
        const uint64_t r = rnext() % 16;
        x[i] = r < 8 ? rnormal() * 4.0f : sp[r - 8];
        if (rnext() % 23 == 0) x[i] = NAN;
        if (rnext() % 29 == 0) x[i] = (rnext() & 1) ? INFINITY : -INFINITY;
    }
}

static void check_math(const cpu_simd_fns *s, int *checks) {
    const int n = 200003;
    float *x = malloc((size_t)n * sizeof(float)), *y = malloc((size_t)n * sizeof(float));
    float *g = malloc((size_t)n * sizeof(float)), *si = malloc((size_t)n * sizeof(float));
    for (int i = 0; i < n; i++) x[i] = -110.0f + 220.0f * (float)i / (float)n;
    x[7] = NAN;
    x[8] = INFINITY;
    x[9] = -INFINITY;
    s->exp_row(x, y, n);
    s->gelu_row(x, g, n);
    s->silu_row(x, si, n);
    for (int i = 0; i < n; i++) {
        const double v = x[i];
        (*checks)++;
        if (isnan(v)) {
            if (!(isnan(y[i]) && isnan(g[i]) && isnan(si[i]))) FAIL("exp/gelu/silu of NaN not NaN\n");
            continue;
        }
        const double e = exp(v);
        if (e > FLT_MAX) {
            if (!isinf(y[i])) FAIL("exp(%g) = %g, expected inf\n", v, y[i]);
        } else {
            const double u = e < FLT_MIN ? 0x1p-149 : e * FLT_EPSILON;
            if (!(fabs(y[i] - e) <= 2 * u)) FAIL("exp(%.9g) = %.9g, expected %.9g\n", v, y[i], e);
        }
        if (isinf(v)) continue;
        const double r = v / (1.0 + exp(-v));
        if (!(fabs(si[i] - r) <= 8 * FLT_EPSILON * fabs(r) + 0x1p-140)) FAIL("silu(%.9g) = %.9g, expected %.9g\n", v, si[i], r);
        const double z = 0.79788456080286535588 * (v + 0.044715 * v * v * v);
        const double rg = v / (1.0 + exp(-2.0 * z));
        if (!(fabs(g[i] - rg) <= (6 * fabs(z) + 8) * FLT_EPSILON * fabs(rg) + 0x1p-140))
            FAIL("gelu(%.9g) = %.9g, expected %.9g\n", v, g[i], rg);
    }
    free(x);
    free(y);
    free(g);
    free(si);
}

static void check_soft_max(const cpu_simd_fns *s, int *checks) {
    float x[80], m[80], o[80], v[80];
    for (int64_t n = 1; n <= 75; n += (n < 20 ? 1 : 9)) {
        for (int kind = 0; kind < 5; kind++) {
            const float scale = kind == 0 ? 1.0f : 0.125f + (float)(rnext() % 100) * 0.05f;
            for (int64_t i = 0; i < n; i++) {
                x[i] = rnormal() * 6.0f;
                m[i] = rnext() % 5 == 0 ? -INFINITY : rnormal();
            }
            if (kind == 3) /* fully masked */
                for (int64_t i = 0; i < n; i++) m[i] = -INFINITY;
            if (kind == 4) x[rnext() % n] = NAN;
            const float *mask = kind == 0 ? NULL : m;
            s->soft_max_row(x, mask, scale, o, n);
            float max = -INFINITY;
            bool nan = false;
            for (int64_t i = 0; i < n; i++) {
                v[i] = x[i] * scale + (mask ? mask[i] : 0.0f);
                nan |= isnan(v[i]);
                if (v[i] > max) max = v[i];
            }
            double sum = 0.0;
            for (int64_t i = 0; i < n; i++) sum += exp((double)v[i] - (double)max);
            for (int64_t i = 0; i < n; i++) {
                (*checks)++;
                if (nan) {
                    if (!isnan(o[i])) FAIL("soft_max n=%lld with NaN: o[%lld] = %g\n", (long long)n, (long long)i, o[i]);
                } else if (max == -INFINITY) {
                    if (!same(o[i], 0.0f)) FAIL("soft_max n=%lld all -inf: o[%lld] = %g\n", (long long)n, (long long)i, o[i]);
                } else {
                    const double ref = exp((double)v[i] - (double)max) / sum;
                    if (!(fabs(o[i] - ref) <= 1e-7 + 1e-5 * fabs(ref)))
                        FAIL("soft_max n=%lld kind %d i=%lld: %.9g, expected %.9g\n", (long long)n, kind, (long long)i,
                             o[i], ref);
                }
            }
        }
    }
}

static void check_norms(const cpu_simd_fns *s, int *checks) {
    float x[300], o[300], r[300];
    for (int64_t n = 1; n <= 300; n += (n < 12 ? 1 : 37)) {
        for (int kind = 0; kind < 3; kind++) {
            for (int64_t i = 0; i < n; i++)
                x[i] = kind == 0 ? rnormal() : kind == 1 ? 1000.0f + rnormal() * 1e-3f : 1e-20f * (float)i;
            const float eps = kind == 2 ? 0.0f : 1e-5f;
            s->norm_row(x, o, n, eps);
            s->rms_norm_row(x, r, n, eps);
            double mean = 0.0, sq = 0.0, sq2 = 0.0;
            for (int64_t i = 0; i < n; i++) {
                mean += x[i];
                sq2 += (double)x[i] * (double)x[i];
            }
            mean /= (double)n;
            for (int64_t i = 0; i < n; i++) sq += ((double)x[i] - mean) * ((double)x[i] - mean);
            const double inv = 1.0 / sqrt(sq / (double)n + eps), inv2 = 1.0 / sqrt(sq2 / (double)n + eps);
            for (int64_t i = 0; i < n; i++) {
                const float want = (float)(((double)x[i] - mean) * inv), want2 = (float)((double)x[i] * inv2);
                (*checks)++;
                if (isnan(want) ? !isnan(o[i]) : !(fabsf(o[i] - want) <= 2.0f * ulp(want)))
                    FAIL("norm n=%lld kind %d i=%lld: %.9g, expected %.9g\n", (long long)n, kind, (long long)i, o[i], want);
                if (isnan(want2) ? !isnan(r[i]) : !(fabsf(r[i] - want2) <= 2.0f * ulp(want2)))
                    FAIL("rms_norm n=%lld kind %d i=%lld: %.9g, expected %.9g\n", (long long)n, kind, (long long)i, r[i],
                         want2);
            }
        }
    }
    for (int64_t i = 0; i < 19; i++) x[i] = (float)i;
    x[7] = INFINITY;
    s->norm_row(x, o, 19, 1e-5f);
    for (int i = 0; i < 19; i++)
        if (!isnan(o[i])) FAIL("norm with inf: o[%d] = %.9g, expected NaN\n", i, o[i]);
}

static void check_binary_and_rope(const cpu_simd_fns *s, int *checks) {
    float x[96], y[96], o[96], io[96];
    for (int64_t n = 1; n <= 70; n += (n < 20 ? 1 : 7)) {
        special_row(x, n);
        special_row(y, n);
        const float sc = rnormal();
        for (int op = 0; op < 3; op++) {
            memcpy(io, x, sizeof x);
            if (op == 0) s->add_row(x, y, o, n), s->add_row(io, y, io, n);
            if (op == 1) s->mul_row(x, y, o, n), s->mul_row(io, y, io, n);
            if (op == 2) s->scale_row(x, sc, o, n), s->scale_row(io, sc, io, n);
            for (int64_t i = 0; i < n; i++) {
                const float want = op == 0 ? x[i] + y[i] : op == 1 ? x[i] * y[i] : x[i] * sc;
                (*checks)++;
                if (!same(o[i], want) || !same(io[i], want))
                    FAIL("op %d n=%lld i=%lld: %.9g (in place %.9g), expected %.9g\n", op, (long long)n, (long long)i,
                         o[i], io[i], want);
            }
        }
    }
    enum { N = 96 };
    double c[N / 2], sn[N / 2];
    const int dims[] = {2, 6, 8, 18, 32, 64, 90, 96};
    for (int di = 0; di < (int)(sizeof dims / sizeof dims[0]); di++) {
        const int n_dims = dims[di], half = n_dims / 2;
        for (int neox = 0; neox < 2; neox++) {
            special_row(x, N);
            const double t = (double)(rnext() % 40000);
            for (int i = 0; i < half; i++) {
                const double th = t * pow(10000.0, -2.0 * i / n_dims);
                c[i] = cos(th);
                sn[i] = sin(th);
            }
            memcpy(io, x, sizeof x);
            s->rope_row(x, o, N, n_dims, neox, c, sn);
            s->rope_row(io, io, N, n_dims, neox, c, sn);
            for (int i = 0; i < N; i++) {
                float want = x[i];
                if (i < 2 * half) {
                    const int p = neox ? i % half : i / 2;
                    const bool first = neox ? i < half : i % 2 == 0;
                    const int j0 = neox ? p : 2 * p, j1 = neox ? p + half : 2 * p + 1;
                    const double x0 = x[j0], x1 = x[j1];
                    want = first ? (float)(x0 * c[p] - x1 * sn[p]) : (float)(x0 * sn[p] + x1 * c[p]);
                }
                (*checks)++;
                if (!same(o[i], want) || !same(io[i], want))
                    FAIL("rope %s n_dims=%d i=%d: %.9g (in place %.9g), expected %.9g\n", neox ? "neox" : "normal",
                         n_dims, i, o[i], io[i], want);
            }
        }
    }
}

static void check_to_float(const cpu_simd_fns *s, int *checks) {
    static const struct {
        qg_type type;
        int n_f16, off[2];
    } cases[] = {
        {QG_TYPE_F16, 0, {0}}, {QG_TYPE_BF16, 0, {0}}, {QG_TYPE_Q4_0, 1, {0}}, {QG_TYPE_Q8_0, 1, {0}}, {QG_TYPE_Q6_K, 1, {208}},
    };
    enum { K = 1024 };
    static unsigned char w[4096];
    static float got[K], want[K];
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const qg_type_traits *t = qg_type_get(cases[ci].type);
        qg_to_float_fn f = s->to_float(cases[ci].type);
        if (!f) {
            FAIL("no NEON to_float for %s\n", t->name);
            continue;
        }
        for (int rep = 0; rep < 20; rep++) {
            const int64_t n = t->block_size == 1 ? 1 + (int64_t)(rnext() % K) : K;
            const size_t bytes = qg_row_size(t->type, n);
            for (size_t i = 0; i < bytes; i++) w[i] = (unsigned char)rnext();
            for (size_t b = 0; b + t->type_size <= bytes && t->block_size > 1; b += t->type_size)
                for (int k = 0; k < cases[ci].n_f16; k++) {
                    const uint16_t h = (uint16_t)(rnext() % 0x7800); /* below 2^15: finite */
                    memcpy(w + b + (size_t)cases[ci].off[k], &h, 2);
                }
            f(w, got, n);
            t->to_float(w, want, n);
            (*checks)++;
            for (int64_t i = 0; i < n; i++)
                if (!same(got[i], want[i])) {
                    FAIL("%s to_float n=%lld element %lld: %.9g, expected %.9g\n", t->name, (long long)n, (long long)i,
                         got[i], want[i]);
                    break;
                }
        }
    }
}

/* Runs every check above; returns the number of failures (counting checks in *checks). */
int neon_check_rows(const cpu_simd_fns *s, int *checks) {
    if (!s->exp_row || !s->silu_row || !s->gelu_row || !s->soft_max_row || !s->rms_norm_row || !s->norm_row ||
        !s->add_row || !s->mul_row || !s->scale_row || !s->rope_row || !s->to_float) {
        FAIL("the NEON table lacks row functions\n");
        return fails;
    }
    check_math(s, checks);
    check_soft_max(s, checks);
    check_norms(s, checks);
    check_binary_and_rope(s, checks);
    check_to_float(s, checks);
    return fails;
}
