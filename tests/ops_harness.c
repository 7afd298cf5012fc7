/* The op-test harness (see ops_harness.h): leafs with known values, one graph run per
 * (device, thread count) through qg_backend_open / qg_backend_alloc_ctx_tensors /
 * qg_sched_*, and tolerance checks that report the first mismatching elements.
 */
#include "ops_harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const DEVICES[2] = {"cpu-ref", "cpu"};
static qg_backend *open_be[2];

static qg_backend *backend(const char *name) {
    for (int i = 0; i < 2; i++) {
        if (strcmp(name, DEVICES[i]) != 0) continue;
        if (!open_be[i] && qg_backend_open(name, &open_be[i]) != QG_OK) {
            fail_msg("qg_backend_open(%s): %s", name, qg_last_error());
        }
        return open_be[i];
    }
    fail_msg("unknown device %s", name);
    return NULL;
}

bool oh_devices_available(char *why, size_t size) {
    for (int i = 0; i < 2; i++) {
        if (!open_be[i] && qg_backend_open(DEVICES[i], &open_be[i]) != QG_OK) {
            snprintf(why, size, "device %s cannot be opened: %s", DEVICES[i], qg_last_error());
            return false;
        }
    }
    return true;
}

void oh_shutdown(void) {
    for (int i = 0; i < 2; i++) {
        qg_backend_free(open_be[i]);
        open_be[i] = NULL;
    }
}

static oh_leaf *add_leaf(oh_case *c, qg_type type, const int64_t ne[4]) {
    assert_true(c->n_leaf < OH_MAX_LEAFS);
    qg_tensor *t = qg_new_tensor(c->ctx, type, 4, ne);
    if (!t) fail_msg("qg_new_tensor(%s): %s", qg_type_name(type), qg_context_error(c->ctx));
    qg_set_name(t, "leaf%d", c->n_leaf);
    oh_leaf *l = &c->leaf[c->n_leaf++];
    l->t = t;
    l->size = qg_nbytes(t);
    l->bytes = calloc(1, l->size + 1);
    l->vals = calloc((size_t)qg_nelements(t) + 1, sizeof(float));
    assert_non_null(l->bytes);
    assert_non_null(l->vals);
    return l;
}

qg_tensor *oh_leaf_values(oh_case *c, qg_type type, const int64_t ne[4], const float *vals) {
    oh_leaf *l = add_leaf(c, type, ne);
    const qg_type_traits *tt = qg_type_get(type);
    const int64_t n = qg_nelements(l->t);
    tt->from_float(vals, l->bytes, n);
    tt->to_float(l->bytes, l->vals, n);
    return l->t;
}

qg_tensor *oh_leaf_uniform(oh_case *c, qg_type type, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, float lo,
                           float hi) {
    const int64_t ne[4] = {ne0, ne1, ne2, ne3};
    const int64_t n = ne0 * ne1 * ne2 * ne3;
    float *v = malloc((size_t)n * sizeof(float) + 1);
    assert_non_null(v);
    qgt_fill_uniform(&c->rng, v, n, lo, hi);
    qg_tensor *t = oh_leaf_values(c, type, ne, v);
    free(v);
    return t;
}

qg_tensor *oh_leaf_ids(oh_case *c, qg_type type, int64_t ne0, int64_t ne1, int64_t ne2, int64_t max) {
    const int64_t ne[4] = {ne0, ne1, ne2, 1};
    oh_leaf *l = add_leaf(c, type, ne);
    for (int64_t i = 0; i < ne0 * ne1 * ne2; i++) {
        int64_t id = (int64_t)(qgt_next(&c->rng) % (uint64_t)max);
        if (type == QG_TYPE_I64)
            ((int64_t *)l->bytes)[i] = id;
        else
            ((int32_t *)l->bytes)[i] = (int32_t)id;
        l->vals[i] = (float)id;
    }
    return l->t;
}

oh_leaf *oh_find_leaf(oh_case *c, const qg_tensor *t) {
    for (int i = 0; i < c->n_leaf; i++)
        if (c->leaf[i].t == t) return &c->leaf[i];
    return NULL;
}

double oh_at(oh_case *c, const qg_tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    qg_tensor *root = qg_view_root((qg_tensor *)t);
    oh_leaf *l = oh_find_leaf(c, root);
    if (!l) fail_msg("oh_at: %s is not a view of a leaf", t->name);
    const size_t base = t == root ? 0 : t->view_offs;
    const size_t rows = base + (size_t)i1 * t->nb[1] + (size_t)i2 * t->nb[2] + (size_t)i3 * t->nb[3];
    const qg_type_traits *tt = qg_type_get(root->type);
    size_t idx;
    if (tt->block_size == 1) {
        idx = (rows + (size_t)i0 * t->nb[0]) / tt->type_size;
    } else {
        idx = rows / root->nb[1] * (size_t)root->ne[0] + (size_t)i0; /* rows of blocks stay whole */
    }
    assert_true(idx < (size_t)qg_nelements(root));
    return l->vals[idx];
}

void oh_case_free(oh_case *c) {
    for (int i = 0; i < c->n_leaf; i++) {
        free(c->leaf[i].bytes);
        free(c->leaf[i].vals);
    }
    qg_context_free(c->ctx);
    memset(c, 0, sizeof *c);
}

void oh_result_free(oh_result *r) {
    free(r->bytes);
    free(r->vals);
    memset(r, 0, sizeof *r);
}

void oh_run(const char *dev, int nth, oh_build_fn build, const void *arg, uint64_t seed, oh_case *c, oh_result *r) {
    memset(c, 0, sizeof *c);
    memset(r, 0, sizeof *r);
    qgt_seed(&c->rng, seed);
    assert_int_equal(qg_context_new(&c->ctx), QG_OK);
    c->out = build(c, arg);
    if (!c->out) fail_msg("building the graph failed: %s", qg_context_error(c->ctx));
    qg_set_name(c->out, "out");

    qg_backend *be = backend(dev);
    char value[16];
    snprintf(value, sizeof value, "%d", nth);
    assert_int_equal(qg_backend_set_option(be, "threads", value), QG_OK);

    qg_buffer *buf = NULL;
    if (qg_backend_alloc_ctx_tensors(be, c->ctx, &buf) != QG_OK) fail_msg("alloc leafs: %s", qg_last_error());
    for (int i = 0; i < c->n_leaf; i++)
        if (qg_tensor_set(c->leaf[i].t, c->leaf[i].bytes, 0, c->leaf[i].size) != QG_OK)
            fail_msg("set %s: %s", c->leaf[i].t->name, qg_last_error());

    qg_graph *g = NULL;
    qg_sched *s = NULL;
    assert_int_equal(qg_graph_new(&g), QG_OK);
    if (qg_graph_add(g, c->out) != QG_OK) fail_msg("graph_add: %s", qg_last_error());
    if (qg_sched_new(&be, 1, &s) != QG_OK) fail_msg("sched_new: %s", qg_last_error());
    r->st = qg_sched_alloc(s, g);
    if (r->st != QG_OK) fail_msg("sched_alloc on %s: %s", dev, qg_last_error());
    r->st = qg_sched_compute(s, g);
    if (r->st != QG_OK) {
        snprintf(r->err, sizeof r->err, "%s", qg_last_error());
    } else {
        const qg_tensor *target = c->out->view_src ? c->out->view_src : c->out;
        r->size = qg_nbytes(target);
        r->bytes = malloc(r->size + 1);
        assert_non_null(r->bytes);
        if (qg_tensor_get(target, r->bytes, 0, r->size) != QG_OK) fail_msg("get output: %s", qg_last_error());
        if (qg_is_contiguous(target)) {
            r->n = qg_nelements(target);
            r->vals = malloc((size_t)r->n * sizeof(float) + 1);
            assert_non_null(r->vals);
            qg_type_get(target->type)->to_float(r->bytes, r->vals, r->n);
        }
    }
    qg_sched_free(s);
    qg_graph_free(g);
    qg_buffer_free(buf);
}

void oh_run_all(oh_build_fn build, const void *arg, uint64_t seed, oh_check_fn check) {
    for (int d = 0; d < 2; d++) {
        oh_case c1;
        oh_result r1;
        oh_run(DEVICES[d], 1, build, arg, seed, &c1, &r1);
        if (r1.st != QG_OK) fail_msg("%s, 1 thread: compute failed: %s", DEVICES[d], r1.err);
        check(&c1, &r1, arg, DEVICES[d]);
        for (int nth = 2; nth <= 3; nth++) {
            oh_case c;
            oh_result r;
            oh_run(DEVICES[d], nth, build, arg, seed, &c, &r);
            if (r.st != QG_OK) fail_msg("%s, %d threads: compute failed: %s", DEVICES[d], nth, r.err);
            assert_int_equal(r.size, r1.size);
            if (memcmp(r.bytes, r1.bytes, r.size) != 0)
                fail_msg("%s: %d threads give different bits than 1 thread", DEVICES[d], nth);
            oh_case_free(&c);
            oh_result_free(&r);
        }
        oh_case_free(&c1);
        oh_result_free(&r1);
    }
}

static void report(const char *what, int64_t bad, int64_t n) {
    if (bad) fail_msg("%s: %lld of %lld elements out of tolerance", what, (long long)bad, (long long)n);
}

static bool mismatch(float got, double ref, double tol) {
    if (isnan(ref) || isnan(got)) return !(isnan(ref) && isnan(got));
    if (isinf(ref) || isinf(got)) return (double)got != ref;
    return fabs((double)got - ref) > tol;
}

void oh_expect_close(const char *what, const float *got, const double *ref, int64_t n, double atol, double rtol) {
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        double tol = atol + rtol * fabs(ref[i]);
        if (mismatch(got[i], ref[i], tol)) {
            if (bad < 5) printf("  %s[%lld]: got %.9g, want %.9g (tol %.3g)\n", what, (long long)i, got[i], ref[i], tol);
            bad++;
        }
    }
    report(what, bad, n);
}

void oh_expect_within(const char *what, const float *got, const double *ref, const double *tol, int64_t n) {
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        if (mismatch(got[i], ref[i], tol[i])) {
            if (bad < 5) printf("  %s[%lld]: got %.9g, want %.9g (tol %.3g)\n", what, (long long)i, got[i], ref[i], tol[i]);
            bad++;
        }
    }
    report(what, bad, n);
}

qg_tensor *oh_build_mul_mat(oh_case *c, const void *arg) {
    const oh_mm_arg *a = arg;
    qg_tensor *w = oh_leaf_uniform(c, a->type, a->k, a->m, a->a2, a->a3, -1.0f, 1.0f);
    qg_tensor *x;
    if (a->x_transposed)
        x = qg_transpose(c->ctx, oh_leaf_uniform(c, QG_TYPE_F32, a->n, a->k, a->b2, a->b3, -2.0f, 2.0f));
    else
        x = oh_leaf_uniform(c, QG_TYPE_F32, a->k, a->n, a->b2, a->b3, -2.0f, 2.0f);
    return qg_mul_mat(c->ctx, w, x);
}
