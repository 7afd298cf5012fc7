/* Shared by the OpenCL tests (test_opencl*.c): build the same graph twice, run it on
 * "cpu-ref" (the oracle) and on an OpenCL device through the public scheduler with that
 * one backend, with identical leaf data, and compare the results (NMSE of the floats
 * and, for CPY/SET_ROWS destinations, the raw bytes).
 *
 * Leaf data: float leafs get uniform values in [-1, 1) times a scale read from a name
 * suffix "*<scale>" (default 1); I32/I64 leafs named "ids<max>" get ids in [0, max).
 */
#ifndef QG_TEST_OPENCL_CMP_H
#define QG_TEST_OPENCL_CMP_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef qg_tensor *(*cmp_build_fn)(qg_context *ctx, const void *arg);

typedef struct cmp_result {
    qg_status st;
    char err[512];
    float *vals;          /* output as floats */
    int64_t n;
    unsigned char *bytes; /* raw bytes of the output's storage root */
    size_t size;
} cmp_result;

static qg_backend *cmp_be[2];
static const char *cmp_dev_name[2] = {"cpu-ref", NULL};

/* Opens cpu-ref and the OpenCL device; false (with why) if either is missing. */
static bool cmp_open(const char *dev, char *why, size_t size) {
    cmp_dev_name[1] = dev;
    for (int i = 0; i < 2; i++)
        if (!cmp_be[i] && qg_backend_open(cmp_dev_name[i], &cmp_be[i]) != QG_OK) {
            snprintf(why, size, "cannot open %s: %s", cmp_dev_name[i], qg_last_error());
            return false;
        }
    return true;
}

static void cmp_close(void) {
    for (int i = 0; i < 2; i++) {
        qg_backend_free(cmp_be[i]);
        cmp_be[i] = NULL;
    }
}

static void fill_leaf(qg_tensor *t, qgt_rng *rng) {
    const int64_t n = qg_nelements(t);
    float *v = malloc((size_t)n * sizeof *v);
    assert_non_null(v);
    if (t->type == QG_TYPE_I32 || t->type == QG_TYPE_I64) {
        long max = strncmp(t->name, "ids", 3) == 0 ? strtol(t->name + 3, NULL, 10) : 1;
        for (int64_t i = 0; i < n; i++) v[i] = (float)(qgt_next(rng) % (uint64_t)(max > 0 ? max : 1));
    } else {
        const char *star = strchr(t->name, '*');
        float scale = star ? strtof(star + 1, NULL) : 1.0f;
        for (int64_t i = 0; i < n; i++) v[i] = scale * qgt_uniform(rng, -1.0f, 1.0f);
    }
    if (qg_tensor_set_f32(t, v) != QG_OK) fail_msg("setting leaf '%s': %s", t->name, qg_last_error());
    free(v);
}

static void cmp_run(int which, cmp_build_fn build, const void *arg, uint64_t seed, cmp_result *r) {
    memset(r, 0, sizeof *r);
    qg_backend *be = cmp_be[which];
    qg_context *ctx;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    qg_tensor *out = build(ctx, arg);
    if (!out) fail_msg("building the graph: %s", qg_context_error(ctx));
    qg_buffer *buf = NULL;
    if (qg_backend_alloc_ctx_tensors(be, ctx, &buf) != QG_OK) fail_msg("alloc leafs: %s", qg_last_error());
    qgt_rng rng;
    qgt_seed(&rng, seed);
    for (int i = 0; i < qg_context_n_tensors(ctx); i++) {
        qg_tensor *t = qg_context_tensor(ctx, i);
        if (t->op == QG_OP_NONE && !t->view_src && t->data) fill_leaf(t, &rng);
    }
    qg_graph *g;
    assert_int_equal(qg_graph_new(&g), QG_OK);
    assert_int_equal(qg_graph_add(g, out), QG_OK);
    qg_sched *s;
    assert_int_equal(qg_sched_new(&be, 1, &s), QG_OK);
    r->st = qg_sched_compute(s, g);
    if (r->st != QG_OK) {
        snprintf(r->err, sizeof r->err, "%s", qg_last_error());
    } else {
        qg_tensor *root = qg_view_root(out);
        r->size = qg_nbytes(root);
        r->bytes = malloc(r->size);
        assert_non_null(r->bytes);
        if (qg_tensor_get(root, r->bytes, 0, r->size) != QG_OK) fail_msg("reading: %s", qg_last_error());
        r->n = qg_nelements(root);
        r->vals = malloc((size_t)r->n * sizeof(float));
        assert_non_null(r->vals);
        if (qg_tensor_get_f32(root, r->vals) != QG_OK) fail_msg("reading floats: %s", qg_last_error());
    }
    qg_sched_free(s);
    qg_graph_free(g);
    qg_buffer_free(buf);
    qg_context_free(ctx);
}

static void cmp_free(cmp_result *r) {
    free(r->vals);
    free(r->bytes);
    memset(r, 0, sizeof *r);
}

/* Whether the OpenCL device runs the graph's output node itself (not a fallback). */
static bool cmp_supported(cmp_build_fn build, const void *arg) {
    qg_context *ctx;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    qg_tensor *out = build(ctx, arg);
    if (!out) fail_msg("building the graph: %s", qg_context_error(ctx));
    qg_tensor *node = out;
    bool ok = qg_backend_supports_op(cmp_be[1], node);
    qg_context_free(ctx);
    return ok;
}

/* Run on both devices; require success, NMSE <= tol and, when exact, identical bytes. */
static void cmp_check(const char *what, cmp_build_fn build, const void *arg, double tol, bool exact) {
    if (!cmp_supported(build, arg)) fail_msg("%s: %s does not support the node", what, cmp_dev_name[1]);
    cmp_result ref, got;
    cmp_run(0, build, arg, 1234, &ref);
    cmp_run(1, build, arg, 1234, &got);
    if (ref.st != QG_OK) fail_msg("%s: cpu-ref failed: %s", what, ref.err);
    if (got.st != QG_OK) fail_msg("%s: %s failed: %s", what, cmp_dev_name[1], got.err);
    assert_int_equal(ref.n, got.n);
    double nmse = qgt_nmse(got.vals, ref.vals, got.n);
    int64_t nan_mismatch = 0;
    for (int64_t i = 0; i < got.n; i++)
        if (isnan(got.vals[i]) != isnan(ref.vals[i])) nan_mismatch++;
    printf("  %-40s nmse %.3g%s\n", what, nmse, exact ? (memcmp(ref.bytes, got.bytes, ref.size) ? " BYTES DIFFER" : " bytes equal") : "");
    if (nan_mismatch) fail_msg("%s: %lld NaN mismatches", what, (long long)nan_mismatch);
    if (!(nmse <= tol)) fail_msg("%s: nmse %g above %g", what, nmse, tol);
    if (exact && memcmp(ref.bytes, got.bytes, ref.size) != 0) {
        size_t i = 0;
        while (ref.bytes[i] == got.bytes[i]) i++;
        fail_msg("%s: bytes differ first at %zu (cpu-ref %02x, %s %02x)", what, i, ref.bytes[i], cmp_dev_name[1],
                 got.bytes[i]);
    }
    cmp_free(&ref);
    cmp_free(&got);
}

#endif
