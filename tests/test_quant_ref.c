/* The scalar reference quantization against ggml itself: tests/data/ref/quant/ref-<t>.gguf
 * (read with the project's GGUF reader) hold ggml's quantization (`quant`) of `input`,
 * its dequantization (`dequant`), an `activation` vector and `matvec` = dequant x
 * activation (double accumulation). For each type we check that
 *   (a) to_float(quant) == dequant bit for bit;
 *   (b) for the types in the bit-exact column, from_float(input) == quant byte for byte;
 *   (c) for the others, RMSE(to_float(from_float(input)), input) <= 1.01 * ref.rmse;
 *   (d) for weight types, vec_dot(quant row, partner(activation)) agrees with matvec
 *       within the error the activation quantization can introduce (see check_dot), and
 *       with the exact sum of dequant x dequantized partner up to float rounding;
 *   (e) dequant . activation summed in double reproduces matvec (1e-5 relative).
 * A missing quantizer or dot product is a failure, not a skip. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define ROWS 8
#define COLS 2048

typedef struct {
    const char *name;
    bool bit_exact_quant; /* our reference quantizer reproduces ggml's bytes */
    bool weight;          /* a mul_mat weight type: has a vec_dot to check */
} ref_case;

static const ref_case cases[] = {
    {"f16", true, true},     {"bf16", true, true},    {"q4_0", true, true},
    {"q4_1", true, true},    {"q5_0", true, true},    {"q5_1", true, true},
    {"q8_0", true, true},    {"q8_1", true, false},   {"mxfp4", true, true},
    {"nvfp4", true, true},   {"tq1_0", true, true},   {"tq2_0", true, true},
    {"q2_K", false, true},   {"q3_K", false, true},   {"q4_K", false, true},
    {"q5_K", false, true},   {"q6_K", false, true},   {"iq4_nl", false, true},
    {"iq4_xs", false, true},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

typedef struct {
    qg_gguf *f;
    const qg_type_traits *tr;
    const float *input, *dequant, *activation, *matvec;
    const uint8_t *quant;
    size_t row_bytes;
    double ref_rmse;
} ref_file;

static const void *tensor(qg_gguf *f, const char *name, qg_type type, int64_t ne0,
                          int64_t ne1) {
    int64_t i = qg_gguf_find_tensor(f, name);
    assert_true(i >= 0);
    const qg_gguf_tensor_info *ti = qg_gguf_tensor(f, i);
    assert_non_null(ti);
    assert_int_equal(ti->type, type);
    assert_int_equal(ti->ne[0], ne0);
    assert_int_equal(ti->ne[1], ne1);
    assert_int_equal(ti->size, qg_row_size(type, ne0) * (size_t)ne1);
    return ti->data;
}

static void open_ref(const char *name, ref_file *r) {
    char rel[128];
    snprintf(rel, sizeof rel, "ref/quant/ref-%s.gguf", name);
    qg_status st = qg_gguf_open(qgt_data_path(rel), &r->f);
    if (st != QG_OK) printf("%s: %s\n", name, qg_last_error());
    assert_int_equal(st, QG_OK);
    r->tr = qg_type_by_name(name);
    assert_non_null(r->tr);
    r->input = tensor(r->f, "input", QG_TYPE_F32, COLS, ROWS);
    r->quant = tensor(r->f, "quant", r->tr->type, COLS, ROWS);
    r->dequant = tensor(r->f, "dequant", QG_TYPE_F32, COLS, ROWS);
    r->activation = tensor(r->f, "activation", QG_TYPE_F32, COLS, 1);
    r->matvec = tensor(r->f, "matvec", QG_TYPE_F32, ROWS, 1);
    r->row_bytes = qg_row_size(r->tr->type, COLS);
    assert_int_equal(qg_gguf_get_f64(r->f, "ref.rmse", &r->ref_rmse), QG_OK);
}

/* (a) */
static void check_dequant(const ref_file *r) {
    float *out = malloc(sizeof(float) * ROWS * COLS);
    assert_non_null(out);
    r->tr->to_float(r->quant, out, ROWS * COLS);
    int bad = 0;
    for (int i = 0; i < ROWS * COLS; i++) {
        if (memcmp(&out[i], &r->dequant[i], sizeof(float)) != 0 && bad++ < 3)
            printf("%s: dequant[%d] = %.9g, ggml %.9g\n", r->tr->name, i, (double)out[i],
                   (double)r->dequant[i]);
    }
    free(out);
    assert_int_equal(bad, 0);
}

/* (b) and (c) */
static void check_quantizer(const ref_file *r, bool bit_exact) {
    if (!r->tr->from_float) printf("%s: no quantizer (from_float is NULL)\n", r->tr->name);
    assert_non_null(r->tr->from_float);
    size_t qbytes = r->row_bytes * ROWS;
    uint8_t *q = malloc(qbytes);
    float *back = malloc(sizeof(float) * ROWS * COLS);
    assert_true(q && back);
    r->tr->from_float(r->input, q, ROWS * COLS);
    r->tr->to_float(q, back, ROWS * COLS);
    double rmse = qgt_rmse(back, r->input, ROWS * COLS);
    size_t diff = 0;
    for (size_t i = 0; i < qbytes; i++) diff += q[i] != r->quant[i];
    printf("%s: rmse ours %.7g, ggml %.7g; %zu of %zu bytes differ from ggml's quant\n",
           r->tr->name, rmse, r->ref_rmse, diff, qbytes);
    free(q);
    free(back);
    if (bit_exact) assert_int_equal(diff, 0);
    else assert_true(rmse <= r->ref_rmse * 1.01);
}

/* Q8_1 activations carry s = fp16(d * sum(q)) and type-1 weights (Q4_1, Q5_1: fp16 d,
 * fp16 m first in the block, w = d*q + m) use m * s for the min's share of the block,
 * so vec_dot computes sum(w * â) + sum over blocks of m * (s - d*sum(q)). This returns
 * that block term for one row (0 for other partners) and its magnitude in *abs_out. */
static double q8_1_sum_term(const ref_file *r, const uint8_t *wrow, const uint8_t *ay,
                            double *abs_out) {
    double term = 0, abs = 0;
    *abs_out = 0;
    if (r->tr->vec_dot_type != QG_TYPE_Q8_1) return 0;
    for (int b = 0; b < COLS / 32; b++) {
        const uint8_t *wb = wrow + (size_t)b * r->tr->type_size, *yb = ay + (size_t)b * 36;
        uint16_t m16, d16, s16;
        memcpy(&m16, wb + 2, 2);
        memcpy(&d16, yb, 2);
        memcpy(&s16, yb + 2, 2);
        int sumq = 0;
        for (int j = 0; j < 32; j++) sumq += (int8_t)yb[4 + j];
        double t = (double)qg_fp16_to_fp32(m16) *
                   ((double)qg_fp16_to_fp32(s16) - (double)qg_fp16_to_fp32(d16) * sumq);
        term += t;
        abs += fabs(t);
    }
    *abs_out = abs;
    return term;
}

/* (d). Let a be the activation, â its partner-quantized-then-dequantized copy and w a
 * dequantized weight row. vec_dot computes sum(w * â) (+ the Q8_1 term above) with
 * integer sums inside blocks and float arithmetic for scales and block sums, so
 *   |vec_dot - sum(w*â)| <= 1e-5 * sum|w*â|      (float rounding of ~3 operations per
 *                                                 block and a 64..128-term float sum,
 *                                                 each 2^-24 relative: well below 1e-5)
 *   |sum(w*â) - matvec|  <= sum(|w| * |a - â|)   (triangle inequality; matvec = sum(w*a))
 * plus the same 1e-5 * sum|w*a| allowance for float rounding (and |Q8_1 term|). The
 * second bound is the partner's quantization error weighted by the row, tight by
 * construction and far smaller than what a wrong element order or scale would give. */
static void check_dot(const ref_file *r) {
    const qg_type_traits *p = qg_type_get(r->tr->vec_dot_type);
    assert_non_null(p);
    if (!r->tr->vec_dot || !p->from_float)
        printf("%s: no vec_dot or no %s quantizer\n", r->tr->name, p->name);
    assert_non_null(r->tr->vec_dot);
    assert_non_null(p->from_float);
    uint8_t *ay = malloc(qg_row_size(p->type, COLS));
    float *ahat = malloc(sizeof(float) * COLS);
    assert_true(ay && ahat);
    p->from_float(r->activation, ay, COLS);
    p->to_float(ay, ahat, COLS);
    double worst = 0;
    for (int row = 0; row < ROWS; row++) {
        const float *w = r->dequant + (size_t)row * COLS;
        const uint8_t *wq = r->quant + (size_t)row * r->row_bytes;
        double exact_hat = 0, abs_hat = 0, bound = 0, abs_wa = 0, abs_term;
        for (int i = 0; i < COLS; i++) {
            exact_hat += (double)w[i] * ahat[i];
            abs_hat += fabs((double)w[i] * ahat[i]);
            bound += fabs((double)w[i]) * fabs((double)r->activation[i] - ahat[i]);
            abs_wa += fabs((double)w[i] * r->activation[i]);
        }
        exact_hat += q8_1_sum_term(r, wq, ay, &abs_term);
        double mv = r->matvec[row];
        float got = r->tr->vec_dot(COLS, wq, ay);
        double e_hat = fabs(got - exact_hat), e_mv = fabs(got - mv);
        bool ok_hat = e_hat <= 1e-5 * (abs_hat + abs_term);
        bool ok_mv = e_mv <= bound + abs_term + 1e-5 * abs_wa;
        if (!ok_hat || !ok_mv)
            printf("%s row %d: vec_dot %.9g, exact %.9g, matvec %.9g (bound %.3g)\n",
                   r->tr->name, row, (double)got, exact_hat, mv, bound + abs_term);
        assert_true(ok_hat);
        assert_true(ok_mv);
        if (abs_wa > 0 && e_mv / abs_wa > worst) worst = e_mv / abs_wa;
    }
    printf("%s: vec_dot x %s vs matvec: worst |error| / sum|w*a| = %.3g\n", r->tr->name,
           p->name, worst);
    free(ay);
    free(ahat);
}

/* (e) dequant . activation in double against matvec (stored as f32: 1e-5 relative is
 * far above its rounding; the 1e-12 * sum|w*a| term only matters for rows near 0). */
static void check_matvec(const ref_file *r) {
    for (int row = 0; row < ROWS; row++) {
        const float *w = r->dequant + (size_t)row * COLS;
        double dd = 0, abs_wa = 0;
        for (int i = 0; i < COLS; i++) {
            dd += (double)w[i] * r->activation[i];
            abs_wa += fabs((double)w[i] * r->activation[i]);
        }
        double mv = r->matvec[row];
        if (!(fabs(dd - mv) <= 1e-5 * fabs(mv) + 1e-12 * abs_wa))
            printf("%s row %d: dequant.activation %.9g, matvec %.9g\n", r->tr->name, row, dd, mv);
        assert_true(fabs(dd - mv) <= 1e-5 * fabs(mv) + 1e-12 * abs_wa);
    }
}

static void test_ref(void **state) {
    const ref_case *c = *state;
    ref_file r;
    memset(&r, 0, sizeof r);
    open_ref(c->name, &r);
    check_dequant(&r);
    check_matvec(&r);
    if (c->weight) check_dot(&r);
    else assert_null(r.tr->vec_dot);
    check_quantizer(&r, c->bit_exact_quant);
    qg_gguf_close(r.f);
}

int main(void) {
    struct CMUnitTest tests[N_CASES];
    for (int i = 0; i < N_CASES; i++) {
        memset(&tests[i], 0, sizeof tests[i]);
        tests[i].name = cases[i].name;
        tests[i].test_func = test_ref;
        tests[i].initial_state = (void *)&cases[i];
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
