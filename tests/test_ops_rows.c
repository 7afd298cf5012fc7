/* Row-moving ops on the CPU devices: GET_ROWS from every type (I32 and I64 ids, several
 * planes), SET_ROWS into every type with a quantizer (duplicate ids resolve to the last
 * row), CPY from F32 into every type (bit-exact against the type's own from_float on
 * the host), CPY between different shapes and from non-contiguous sources, and the
 * run-time id checks that must fail with QG_ERR_INVALID_ARG naming the node. Each case
 * runs with 1, 2 and 3 threads on cpu-ref and cpu and must give the same bits.
 */
#include "ops_harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t pick_rows(qgt_rng *r, int64_t max) { return 1 + (int64_t)(qgt_next(r) % (uint64_t)max); }

/* Floats are compared by bits, with any NaN equal to any NaN. */
static void expect_same_floats(const char *what, const float *got, const float *want, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        if (isnan(got[i]) && isnan(want[i])) continue;
        if (memcmp(&got[i], &want[i], sizeof(float)) != 0)
            fail_msg("%s[%lld]: got %.9g, want %.9g", what, (long long)i, got[i], want[i]);
    }
}

/* GET_ROWS. */

typedef struct { qg_type type, ids; int64_t k, rows, n, planes; } gr_arg;

static qg_tensor *build_get_rows(oh_case *c, const void *p) {
    const gr_arg *a = p;
    qg_tensor *w = oh_leaf_uniform(c, a->type, a->k, a->rows, a->planes, 1, -3.0f, 3.0f);
    qg_tensor *ids = oh_leaf_ids(c, a->ids, a->n, a->planes, 1, a->rows);
    return qg_get_rows(c->ctx, w, ids);
}

static void check_get_rows(oh_case *c, const oh_result *r, const void *p, const char *dev) {
    const gr_arg *a = p;
    const qg_tensor *w = c->out->src[0], *ids = c->out->src[1];
    const float *wv = oh_find_leaf(c, w)->vals;
    float *want = malloc((size_t)r->n * sizeof(float));
    assert_non_null(want);
    for (int64_t i2 = 0; i2 < a->planes; i2++)
        for (int64_t i = 0; i < a->n; i++) {
            const int64_t id = (int64_t)oh_at(c, ids, i, i2, 0, 0);
            memcpy(want + (i2 * a->n + i) * a->k, wv + (i2 * a->rows + id) * a->k, (size_t)a->k * sizeof(float));
        }
    char what[64];
    snprintf(what, sizeof what, "GET_ROWS %s %s", qg_type_name(a->type), dev);
    expect_same_floats(what, r->vals, want, r->n);
    free(want);
}

static void test_get_rows_all_types(void **state) {
    (void)state;
    qgt_rng rng;
    qgt_seed(&rng, 606);
    int count = 0;
    const qg_type_traits *tab = qg_type_table(&count);
    int tested = 0;
    for (int t = 0; t < count; t++) {
        if (tab[t].is_integer || !tab[t].from_float) continue;
        gr_arg a = {.type = tab[t].type, .ids = t % 2 ? QG_TYPE_I64 : QG_TYPE_I32};
        a.k = tab[t].block_size * pick_rows(&rng, tab[t].block_size > 1 ? 2 : 40);
        a.rows = pick_rows(&rng, 9);
        a.n = pick_rows(&rng, 7);
        a.planes = pick_rows(&rng, 3);
        oh_run_all(build_get_rows, &a, 6000 + (uint64_t)t, check_get_rows);
        tested++;
    }
    assert_true(tested >= 20);
}

/* SET_ROWS. */

typedef struct { qg_type type, ids; int64_t k, rows, n, planes; bool dup; } sr_arg;

static qg_tensor *build_set_rows(oh_case *c, const void *p) {
    const sr_arg *a = p;
    qg_tensor *dst = oh_leaf_uniform(c, a->type, a->k, a->rows, a->planes, 1, -1.0f, 1.0f);
    qg_tensor *src = oh_leaf_uniform(c, QG_TYPE_F32, a->k, a->n, a->planes, 1, -4.0f, 4.0f);
    qg_tensor *ids = oh_leaf_ids(c, a->ids, a->n, a->planes, 1, a->rows);
    if (a->dup && a->n > 1) {
        /* the same destination row twice: the later source row must win */
        oh_leaf *l = oh_find_leaf(c, ids);
        if (a->ids == QG_TYPE_I64) ((int64_t *)l->bytes)[a->n - 1] = ((int64_t *)l->bytes)[0];
        else ((int32_t *)l->bytes)[a->n - 1] = ((int32_t *)l->bytes)[0];
        l->vals[a->n - 1] = l->vals[0];
    }
    return qg_set_rows(c->ctx, dst, src, ids);
}

static void check_set_rows(oh_case *c, const oh_result *r, const void *p, const char *dev) {
    const sr_arg *a = p;
    const qg_tensor *src = c->out->src[0], *ids = c->out->src[1], *dst = c->out->src[2];
    const qg_type_traits *tt = qg_type_get(a->type);
    const size_t rb = qg_row_size(a->type, a->k);
    unsigned char *want = malloc(r->size);
    assert_non_null(want);
    memcpy(want, oh_find_leaf(c, (qg_tensor *)dst)->bytes, r->size);
    const float *sv = oh_find_leaf(c, (qg_tensor *)src)->vals;
    for (int64_t i2 = 0; i2 < a->planes; i2++)
        for (int64_t i = 0; i < a->n; i++) {
            const int64_t id = (int64_t)oh_at(c, ids, i, i2, 0, 0);
            tt->from_float(sv + (i2 * a->n + i) * a->k, want + (size_t)(i2 * a->rows + id) * rb, a->k);
        }
    if (memcmp(want, r->bytes, r->size) != 0)
        fail_msg("SET_ROWS %s %s: destination bytes differ from the host reference", qg_type_name(a->type), dev);
    free(want);
}

static void test_set_rows_all_types(void **state) {
    (void)state;
    qgt_rng rng;
    qgt_seed(&rng, 707);
    int count = 0;
    const qg_type_traits *tab = qg_type_table(&count);
    for (int t = 0; t < count; t++) {
        if (tab[t].is_integer || !tab[t].from_float) continue;
        sr_arg a = {.type = tab[t].type, .ids = t % 2 ? QG_TYPE_I32 : QG_TYPE_I64, .dup = t % 3 == 0};
        a.k = tab[t].block_size * pick_rows(&rng, tab[t].block_size > 1 ? 2 : 33);
        a.rows = 2 + pick_rows(&rng, 8);
        a.n = pick_rows(&rng, a.rows);
        a.planes = pick_rows(&rng, 3);
        oh_run_all(build_set_rows, &a, 7000 + (uint64_t)t, check_set_rows);
    }
}

/* CPY. */

typedef struct { qg_type type; int64_t k, n, planes; bool transposed; } cpy_arg;

static qg_tensor *build_cpy(oh_case *c, const void *p) {
    const cpy_arg *a = p;
    qg_tensor *src;
    if (a->transposed) /* a [n, k] leaf seen as [k, n]: element stride = a row */
        src = qg_transpose(c->ctx, oh_leaf_uniform(c, QG_TYPE_F32, a->n, a->k, a->planes, 1, -5.0f, 5.0f));
    else
        src = oh_leaf_uniform(c, QG_TYPE_F32, a->k, a->n, a->planes, 1, -5.0f, 5.0f);
    qg_tensor *dst = oh_leaf_uniform(c, a->type, a->k, a->n, a->planes, 1, 0.0f, 1.0f);
    return qg_cpy(c->ctx, src, dst);
}

static void check_cpy(oh_case *c, const oh_result *r, const void *p, const char *dev) {
    const cpy_arg *a = p;
    const qg_tensor *src = c->out->src[0];
    const qg_type_traits *tt = qg_type_get(a->type);
    const int64_t n = a->k * a->n * a->planes;
    float *x = malloc((size_t)n * sizeof(float)), *want = malloc((size_t)n * sizeof(float));
    float *got = malloc((size_t)n * sizeof(float));
    unsigned char *q = malloc(r->size);
    assert_true(x && want && got && q);
    for (int64_t i2 = 0; i2 < a->planes; i2++)
        for (int64_t i1 = 0; i1 < a->n; i1++)
            for (int64_t i0 = 0; i0 < a->k; i0++)
                x[(i2 * a->n + i1) * a->k + i0] = (float)oh_at(c, src, i0, i1, i2, 0);
    tt->from_float(x, q, n); /* the type's own reference round trip */
    tt->to_float(q, want, n);
    tt->to_float(r->bytes, got, n);
    char what[64];
    snprintf(what, sizeof what, "CPY f32->%s %s", tt->name, dev);
    expect_same_floats(what, got, want, n);
    free(x);
    free(want);
    free(got);
    free(q);
}

static void test_cpy_f32_to_all_types(void **state) {
    (void)state;
    qgt_rng rng;
    qgt_seed(&rng, 808);
    int count = 0;
    const qg_type_traits *tab = qg_type_table(&count);
    for (int t = 0; t < count; t++) {
        if (tab[t].is_integer || !tab[t].from_float) continue;
        cpy_arg a = {.type = tab[t].type, .transposed = t % 2 == 1};
        a.k = tab[t].block_size * pick_rows(&rng, tab[t].block_size > 1 ? 2 : 37);
        a.n = pick_rows(&rng, 6);
        a.planes = pick_rows(&rng, 3);
        oh_run_all(build_cpy, &a, 8000 + (uint64_t)t, check_cpy);
    }
}

/* CPY between shapes whose rows do not line up, from F16 views, and qg_cast from a
 * quantized type (dequantization on the device). */
typedef struct { int kind; } reshape_arg;

static qg_tensor *build_cpy_shapes(oh_case *c, const void *p) {
    const reshape_arg *a = p;
    switch (a->kind) {
    case 0: { /* F32 permuted [5, 3, 4] -> F16 [6, 10] */
        qg_tensor *s = qg_permute(c->ctx, oh_leaf_uniform(c, QG_TYPE_F32, 5, 4, 3, 1, -2, 2), 0, 2, 1, 3);
        return qg_cpy(c->ctx, s, oh_leaf_uniform(c, QG_TYPE_F16, 6, 10, 1, 1, 0, 1));
    }
    case 1: { /* F16 transposed [7, 9] -> F32 [3, 21] */
        qg_tensor *s = qg_transpose(c->ctx, oh_leaf_uniform(c, QG_TYPE_F16, 9, 7, 1, 1, -2, 2));
        return qg_cpy(c->ctx, s, oh_leaf_uniform(c, QG_TYPE_F32, 3, 21, 1, 1, 0, 1));
    }
    default: /* Q4_K [512, 3, 2] -> F32 via qg_cast */
        return qg_cast(c->ctx, oh_leaf_uniform(c, QG_TYPE_Q4_K, 512, 3, 2, 1, -2, 2), QG_TYPE_F32);
    }
}

static void check_cpy_shapes(oh_case *c, const oh_result *r, const void *p, const char *dev) {
    (void)p;
    const qg_tensor *s = c->out->src[0];
    const qg_type_traits *tt = qg_type_get(c->out->type);
    const int64_t n = qg_nelements(s);
    float *x = malloc((size_t)n * sizeof(float)), *want = malloc((size_t)n * sizeof(float));
    unsigned char *q = malloc((size_t)n * 4);
    assert_true(x && want && q);
    int64_t L = 0;
    for (int64_t i3 = 0; i3 < s->ne[3]; i3++)
        for (int64_t i2 = 0; i2 < s->ne[2]; i2++)
            for (int64_t i1 = 0; i1 < s->ne[1]; i1++)
                for (int64_t i0 = 0; i0 < s->ne[0]; i0++) x[L++] = (float)oh_at(c, s, i0, i1, i2, i3);
    tt->from_float(x, q, n);
    tt->to_float(q, want, n);
    char what[64];
    snprintf(what, sizeof what, "CPY %s->%s %s", qg_type_name(s->type), tt->name, dev);
    assert_int_equal(r->n, n);
    expect_same_floats(what, r->vals, want, n);
    free(x);
    free(want);
    free(q);
}

static void test_cpy_shapes(void **state) {
    (void)state;
    for (int k = 0; k < 3; k++) {
        reshape_arg a = {k};
        oh_run_all(build_cpy_shapes, &a, 8500 + (uint64_t)k, check_cpy_shapes);
    }
}

/* ids out of range. */

typedef struct { bool set; qg_type ids; int64_t bad; } bad_arg;

static qg_tensor *build_bad_ids(oh_case *c, const void *p) {
    const bad_arg *a = p;
    qg_tensor *ids = oh_leaf_ids(c, a->ids, 4, 1, 1, 3);
    oh_leaf *l = oh_find_leaf(c, ids);
    if (a->ids == QG_TYPE_I64) ((int64_t *)l->bytes)[2] = a->bad;
    else ((int32_t *)l->bytes)[2] = (int32_t)a->bad;
    qg_tensor *rows = oh_leaf_uniform(c, QG_TYPE_F32, 8, 3, 1, 1, -1, 1);
    qg_tensor *out;
    if (a->set)
        out = qg_set_rows(c->ctx, rows, oh_leaf_uniform(c, QG_TYPE_F32, 8, 4, 1, 1, -1, 1), ids);
    else
        out = qg_get_rows(c->ctx, rows, ids);
    qg_set_name(out, "picked");
    return out;
}

static void test_ids_out_of_range(void **state) {
    (void)state;
    const char *devs[2] = {"cpu-ref", "cpu"};
    const int64_t bad[3] = {3, -1, 1000000};
    for (int d = 0; d < 2; d++)
        for (int k = 0; k < 6; k++)
            for (int nth = 1; nth <= 3; nth += 2) {
                bad_arg a = {.set = k % 2, .ids = k < 3 ? QG_TYPE_I32 : QG_TYPE_I64, .bad = bad[k % 3]};
                oh_case c;
                oh_result r;
                oh_run(devs[d], nth, build_bad_ids, &a, 9000, &c, &r);
                assert_int_equal(r.st, QG_ERR_INVALID_ARG);
                /* the builder renames the node "out"; the message must name it and the id */
                char id[32];
                snprintf(id, sizeof id, "%lld", (long long)a.bad);
                if (!strstr(r.err, "'out'") || !strstr(r.err, id) || !strstr(r.err, a.set ? "SET_ROWS" : "GET_ROWS"))
                    fail_msg("unexpected message: %s", r.err);
                oh_case_free(&c);
                oh_result_free(&r);
            }
}

int main(void) {
    char why[512];
    if (!oh_devices_available(why, sizeof why)) return qgt_skip("%s", why);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_rows_all_types), cmocka_unit_test(test_set_rows_all_types),
        cmocka_unit_test(test_cpy_f32_to_all_types), cmocka_unit_test(test_cpy_shapes),
        cmocka_unit_test(test_ids_out_of_range),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    oh_shutdown();
    return rc;
}
