/* K-quants (Q2_K..Q6_K), Q8_K and IQ4_NL/IQ4_XS against ggml's reference vectors
 * (tests/data/ref/quant/ref-<type>.gguf, written by ggml itself) through the type table:
 * dequantization bit-exact with ggml's, our quantizer's RMSE on the reference rows
 * within 1% of ggml's `ref.rmse`, round trips of random data, degenerate blocks, the
 * Q8_K activation format, and the dot products against Q8_K/Q8_0 checked against
 * double-precision sums and the file's `matvec`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qg/gguf.h"
#include "testutil.h"

#define ROWS 8
#define COLS 2048

typedef struct {
    qg_type type;
    const char *name;    /* file suffix */
    qg_type partner;     /* expected vec_dot_type */
} kq_case;

static const kq_case cases[] = {
    {QG_TYPE_Q2_K, "q2_K", QG_TYPE_Q8_K},     {QG_TYPE_Q3_K, "q3_K", QG_TYPE_Q8_K},
    {QG_TYPE_Q4_K, "q4_K", QG_TYPE_Q8_K},     {QG_TYPE_Q5_K, "q5_K", QG_TYPE_Q8_K},
    {QG_TYPE_Q6_K, "q6_K", QG_TYPE_Q8_K},     {QG_TYPE_IQ4_NL, "iq4_nl", QG_TYPE_Q8_0},
    {QG_TYPE_IQ4_XS, "iq4_xs", QG_TYPE_Q8_K},
};
#define N_CASES (sizeof cases / sizeof cases[0])

typedef struct {
    qg_gguf *f;
    const float *input, *dequant, *activation, *matvec;
    const uint8_t *quant;
    double rmse;
} ref_file;

static const qg_gguf_tensor_info *need_tensor(qg_gguf *f, const char *name, qg_type type,
                                              int64_t ne0, int64_t ne1) {
    int64_t i = qg_gguf_find_tensor(f, name);
    assert_true(i >= 0);
    const qg_gguf_tensor_info *ti = qg_gguf_tensor(f, i);
    assert_non_null(ti);
    assert_int_equal(ti->type, type);
    assert_int_equal(ti->ne[0], ne0);
    assert_int_equal(ti->ne[1], ne1);
    return ti;
}

static void ref_open(const kq_case *c, ref_file *r) {
    char rel[64];
    snprintf(rel, sizeof rel, "ref/quant/ref-%s.gguf", c->name);
    qg_status st = qg_gguf_open(qgt_data_path(rel), &r->f);
    if (st != QG_OK) fail_msg("%s: %s", rel, qg_last_error());
    r->input = need_tensor(r->f, "input", QG_TYPE_F32, COLS, ROWS)->data;
    r->quant = need_tensor(r->f, "quant", c->type, COLS, ROWS)->data;
    r->dequant = need_tensor(r->f, "dequant", QG_TYPE_F32, COLS, ROWS)->data;
    r->activation = need_tensor(r->f, "activation", QG_TYPE_F32, COLS, 1)->data;
    r->matvec = need_tensor(r->f, "matvec", QG_TYPE_F32, ROWS, 1)->data;
    assert_int_equal(qg_gguf_get_f64(r->f, "ref.rmse", &r->rmse), QG_OK);
}

static const qg_type_traits *traits(qg_type t) {
    const qg_type_traits *tt = qg_type_get(t);
    assert_non_null(tt);
    assert_non_null(tt->to_float);
    assert_non_null(tt->from_float);
    return tt;
}

static void *xmalloc(size_t n) {
    void *p = calloc(1, n);
    assert_non_null(p);
    return p;
}

static void test_dequant_exact(void **state) {
    const kq_case *c = *state;
    ref_file r;
    ref_open(c, &r);
    const qg_type_traits *tt = traits(c->type);
    float *out = xmalloc(sizeof(float) * ROWS * COLS);
    tt->to_float(r.quant, out, (int64_t)ROWS * COLS);
    int64_t bad = 0;
    for (int64_t i = 0; i < ROWS * COLS; ++i) {
        if (memcmp(&out[i], &r.dequant[i], sizeof(float)) != 0) {
            if (bad < 5) printf("%s: element %lld: ours %.9g ggml %.9g\n", c->name, (long long)i,
                                out[i], r.dequant[i]);
            ++bad;
        }
    }
    assert_int_equal(bad, 0);
    free(out);
    qg_gguf_close(r.f);
}

static void test_quantize_rmse(void **state) {
    const kq_case *c = *state;
    ref_file r;
    ref_open(c, &r);
    const qg_type_traits *tt = traits(c->type);
    uint8_t *q = xmalloc(qg_row_size(c->type, COLS) * ROWS);
    float *out = xmalloc(sizeof(float) * ROWS * COLS);
    tt->from_float(r.input, q, (int64_t)ROWS * COLS);
    tt->to_float(q, out, (int64_t)ROWS * COLS);
    for (int64_t i = 0; i < ROWS * COLS; ++i) assert_true(isfinite(out[i]));
    /* Rows that are all zeros come back as exact zeros. */
    for (int row = 0; row < ROWS; ++row) {
        bool zero = true;
        for (int j = 0; j < COLS; ++j) zero = zero && r.input[row * COLS + j] == 0.0f;
        for (int j = 0; zero && j < COLS; ++j) assert_true(out[row * COLS + j] == 0.0f);
    }
    double ours = qgt_rmse(out, r.input, (int64_t)ROWS * COLS);
    printf("%-7s RMSE ours %.6f  ggml %.6f  ratio %.4f\n", c->name, ours, r.rmse, ours / r.rmse);
    assert_true(ours <= 1.01 * r.rmse);
    free(q);
    free(out);
    qg_gguf_close(r.f);
}

/* ggml's NMSE on one row of the reference file (its dequant against the input). */
static double ggml_row_nmse(const ref_file *r, int row) {
    return qgt_nmse(r->dequant + row * COLS, r->input + row * COLS, COLS);
}

/* Random data: quantized and back with finite results. N(0,1) and uniform [0.1, 2] have
 * counterparts in the reference rows (0 and 7), so our NMSE on fresh samples must stay
 * within 10% of ggml's there (the margin covers sampling noise of 16384 values). The
 * symmetric uniform and Laplace data have no reference row; they must beat the bound
 * that a uniform quantizer with the format's level count gives on N(0,1)-like data,
 * taken loosely as 4x ggml's N(0,1) NMSE (Laplace tails cost more). */
static void test_roundtrip_random(void **state) {
    const kq_case *c = *state;
    ref_file r;
    ref_open(c, &r);
    const qg_type_traits *tt = traits(c->type);
    const int64_t n = 16384;
    float *x = xmalloc(sizeof(float) * n), *y = xmalloc(sizeof(float) * n);
    uint8_t *q = xmalloc(qg_row_size(c->type, n));
    qgt_rng rng;
    qgt_seed(&rng, 1234 + (uint64_t)c->type);
    for (int dist = 0; dist < 4; ++dist) {
        static const char *const names[] = {"normal", "uniform+", "uniform+-", "laplace"};
        for (int64_t i = 0; i < n; ++i) {
            switch (dist) {
            case 0: x[i] = qgt_normal(&rng); break;
            case 1: x[i] = qgt_uniform(&rng, 0.1f, 2.0f); break;
            case 2: x[i] = qgt_uniform(&rng, -1.0f, 1.0f); break;
            default: {
                float u = qgt_uniform(&rng, -0.5f, 0.5f);
                x[i] = (u < 0 ? 1.0f : -1.0f) * logf(1.0f - 2.0f * fabsf(u) + 1e-12f);
            }
            }
        }
        tt->from_float(x, q, n);
        tt->to_float(q, y, n);
        for (int64_t i = 0; i < n; ++i) assert_true(isfinite(y[i]));
        double nmse = qgt_nmse(y, x, n);
        double bound = dist == 0 ? 1.10 * ggml_row_nmse(&r, 0)
                     : dist == 1 ? 1.10 * ggml_row_nmse(&r, 7)
                                 : 4.0 * ggml_row_nmse(&r, 0);
        printf("%-7s %-9s nmse %.3e  bound %.3e\n", c->name, names[dist], nmse, bound);
        assert_true(nmse <= bound);
    }
    free(x);
    free(y);
    free(q);
    qg_gguf_close(r.f);
}

/* Degenerate blocks: zeros, constants, a lone outlier, denormal-size and tiny values,
 * NaN/Inf in a neighbouring block. No NaN/Inf may come out of a finite block. */
static void test_degenerate(void **state) {
    const kq_case *c = *state;
    const qg_type_traits *tt = traits(c->type);
    const int64_t bs = tt->block_size;
    const int64_t n = 2 * 256; /* two super-blocks (16 IQ4_NL blocks) */
    float *x = xmalloc(sizeof(float) * n), *y = xmalloc(sizeof(float) * n);
    float *y2 = xmalloc(sizeof(float) * n);
    uint8_t *q = xmalloc(qg_row_size(c->type, n)), *q2 = xmalloc(qg_row_size(c->type, n));
    for (int kind = 0; kind < 8; ++kind) {
        for (int64_t i = 0; i < n; ++i) {
            switch (kind) {
            case 0: x[i] = 0.0f; break;
            case 1: x[i] = 0.5f; break;
            case 2: x[i] = -3.0f; break;
            case 3: x[i] = (i % bs == 5) ? 1000.0f : 0.0f; break;
            case 4: x[i] = (i % 2 ? 1.0f : -1.0f) * 1e-40f; break; /* denormal */
            case 5: x[i] = (i % 3 ? 1.0f : -0.5f) * 1e-20f; break;
            case 6: x[i] = (float)(i % 7) * 1e-6f; break;
            default: x[i] = (i % bs == 0) ? -6e4f : 1e-3f; break;
            }
        }
        tt->from_float(x, q, n);
        tt->to_float(q, y, n);
        for (int64_t i = 0; i < n; ++i) {
            if (!isfinite(y[i])) fail_msg("%s kind %d: element %lld is %g", c->name, kind,
                                          (long long)i, y[i]);
        }
        if (kind == 0) {
            for (int64_t i = 0; i < n; ++i) assert_true(y[i] == 0.0f);
        }
        if (kind == 3) { /* the outlier itself survives to within 2% */
            for (int64_t i = 5; i < n; i += bs) assert_true(fabsf(y[i] - 1000.0f) <= 20.0f);
        }
        if (kind == 4) { /* far below the format's resolution: quantized to zero */
            for (int64_t i = 0; i < n; ++i) assert_true(fabsf(y[i]) <= 1e-30f);
        }
    }
    /* Blocks are independent: NaN and Inf in the first block leave the others as if
     * quantized alone. */
    qgt_rng rng;
    qgt_seed(&rng, 99);
    for (int64_t i = 0; i < n; ++i) x[i] = qgt_normal(&rng);
    tt->from_float(x + bs, q2, n - bs);
    tt->to_float(q2, y2, n - bs);
    x[1] = NAN;
    x[2] = INFINITY;
    x[3] = -INFINITY;
    tt->from_float(x, q, n);
    tt->to_float(q, y, n);
    assert_memory_equal(y + bs, y2, sizeof(float) * (size_t)(n - bs));
    free(x);
    free(y);
    free(y2);
    free(q);
    free(q2);
}

/* Q8_K: |x - d*q| <= d/2 per element, the largest |x| maps to +-127, bsums are the sums
 * of each 16 quants, all-zero blocks are exact. */
static void test_q8_K(void **state) {
    (void)state;
    const qg_type_traits *tt = traits(QG_TYPE_Q8_K);
    assert_int_equal(tt->block_size, 256);
    assert_int_equal(tt->type_size, 292);
    const int64_t n = 4 * 256;
    float *x = xmalloc(sizeof(float) * n), *y = xmalloc(sizeof(float) * n);
    uint8_t *q = xmalloc(qg_row_size(QG_TYPE_Q8_K, n));
    qgt_rng rng;
    qgt_seed(&rng, 7);
    for (int64_t i = 0; i < n; ++i) x[i] = qgt_normal(&rng) * (i < 256 ? 1.0f : 1e-3f);
    for (int64_t i = 512; i < 768; ++i) x[i] = 0.0f; /* block 2: zeros */
    x[300] = -50.0f;                                 /* block 1: negative extreme */
    tt->from_float(x, q, n);
    tt->to_float(q, y, n);
    for (int b = 0; b < 4; ++b) {
        const uint8_t *blk = q + 292 * b;
        float d;
        memcpy(&d, blk, 4);
        const int8_t *qs = (const int8_t *)(blk + 4);
        int16_t bsums[16];
        memcpy(bsums, blk + 260, sizeof bsums);
        float amax = 0.0f;
        int amax_at = 0;
        for (int j = 0; j < 256; ++j) {
            if (fabsf(x[256 * b + j]) > amax) {
                amax = fabsf(x[256 * b + j]);
                amax_at = j;
            }
        }
        for (int j = 0; j < 256; ++j) {
            float err = fabsf(x[256 * b + j] - y[256 * b + j]);
            assert_true(err <= 0.5f * fabsf(d) * (1.0f + 1e-5f) + 1e-30f);
        }
        if (amax > 0.0f) {
            assert_int_equal(abs(qs[amax_at]), 127);
            assert_true((qs[amax_at] > 0) == (x[256 * b + amax_at] * d > 0));
        } else {
            for (int j = 0; j < 256; ++j) assert_true(y[256 * b + j] == 0.0f);
        }
        for (int g = 0; g < 16; ++g) {
            int s = 0;
            for (int l = 0; l < 16; ++l) s += qs[16 * g + l];
            assert_int_equal(bsums[g], s);
        }
    }
    free(x);
    free(y);
    free(q);
}

/* Dot products of quantized rows with the activation quantized to the partner type.
 * (a) Against a double sum of the dequantized operands: the kernel accumulates integers
 *     exactly and applies the scales in double, so the only differences are the float
 *     roundings of each dequantized element (a few ulp) and of the result:
 *     |dot - ref| <= 1e-5 * sum|x_i*y_i|.
 * (b) ggml's rows against the file's `matvec` (ggml's dequant times the f32 activation in
 *     double): the difference is sum x_i*(a_i - a8_i) (a8 = dequantized partner), bounded
 *     by sum |x_i|*|a_i - a8_i| plus the same rounding slack; and once that difference is
 *     computed and removed, what is left must agree to rounding (1e-5 of the magnitudes;
 *     the only roundings are float ones of a8, of matvec as stored and of the result). */
static void test_vec_dot(void **state) {
    const kq_case *c = *state;
    ref_file r;
    ref_open(c, &r);
    const qg_type_traits *tt = traits(c->type);
    assert_non_null(tt->vec_dot);
    assert_int_equal(tt->vec_dot_type, c->partner);
    const qg_type_traits *pt = traits(tt->vec_dot_type);
    const size_t rs = qg_row_size(c->type, COLS);
    uint8_t *act8 = xmalloc(qg_row_size(pt->type, COLS));
    uint8_t *ours = xmalloc(rs * ROWS);
    float *a8 = xmalloc(sizeof(float) * COLS), *xd = xmalloc(sizeof(float) * COLS);
    pt->from_float(r.activation, act8, COLS);
    pt->to_float(act8, a8, COLS);
    tt->from_float(r.input, ours, (int64_t)ROWS * COLS);
    for (int row = 0; row < ROWS; ++row) {
        for (int which = 0; which < 2; ++which) {
            const uint8_t *xq = (which == 0 ? r.quant : ours) + rs * row;
            tt->to_float(xq, xd, COLS);
            double ref = 0.0, mag = 0.0, qerr = 0.0, corr = 0.0, mag32 = 0.0;
            for (int i = 0; i < COLS; ++i) {
                ref += (double)xd[i] * a8[i];
                mag += fabs((double)xd[i] * a8[i]);
                qerr += fabs((double)xd[i]) * fabs((double)r.activation[i] - a8[i]);
                corr += (double)xd[i] * ((double)r.activation[i] - a8[i]);
                mag32 += fabs((double)xd[i] * r.activation[i]);
            }
            float dot = tt->vec_dot(COLS, xq, act8);
            assert_true(isfinite(dot));
            if (mag == 0.0) assert_true(dot == 0.0f);
            if (fabs(dot - ref) > 1e-5 * mag) {
                fail_msg("%s row %d (%s quant): dot %.9g, double ref %.9g, |x||y| %.3g", c->name,
                         row, which ? "our" : "ggml", dot, ref, mag);
            }
            if (which == 0) {
                double diff = fabs(dot - (double)r.matvec[row]);
                double bound = qerr + 1e-5 * (mag + fabs((double)r.matvec[row]));
                printf("%-7s row %d: dot %.7g  matvec %.7g  |diff| %.3g  bound %.3g\n", c->name,
                       row, dot, r.matvec[row], diff, bound);
                assert_true(diff <= bound);
                double left = fabs(dot - ((double)r.matvec[row] - corr));
                if (left > 1e-5 * (mag + mag32)) {
                    fail_msg("%s row %d: dot %.9g vs matvec %.9g minus activation error %.9g",
                             c->name, row, dot, r.matvec[row], corr);
                }
            }
        }
    }
    free(act8);
    free(ours);
    free(a8);
    free(xd);
    qg_gguf_close(r.f);
}

int main(void) {
    char rel[64];
    snprintf(rel, sizeof rel, "ref/quant/ref-%s.gguf", cases[0].name);
    FILE *probe = fopen(qgt_data_path(rel), "rb");
    if (!probe) return qgt_skip("reference vectors not found at %s", qgt_data_path(rel));
    fclose(probe);

    static const struct {
        const char *what;
        CMUnitTestFunction fn;
    } kinds[] = {{"dequant_exact", test_dequant_exact},
                 {"quantize_rmse", test_quantize_rmse},
                 {"roundtrip_random", test_roundtrip_random},
                 {"degenerate", test_degenerate},
                 {"vec_dot", test_vec_dot}};
    static char names[N_CASES * 5][48];
    struct CMUnitTest tests[N_CASES * 5 + 1];
    size_t nt = 0;
    for (size_t i = 0; i < N_CASES; ++i) {
        for (size_t k = 0; k < 5; ++k, ++nt) {
            snprintf(names[nt], sizeof names[nt], "%s/%s", cases[i].name, kinds[k].what);
            tests[nt] = (struct CMUnitTest){names[nt], kinds[k].fn, NULL, NULL, (void *)&cases[i]};
        }
    }
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_q8_K);
    return _cmocka_run_group_tests("kquants", tests, nt, NULL, NULL);
}
