/* The Vulkan integer-dot-product mat-vec path (quantize_act.comp + mmvq.comp) against
 * cpu-ref: MUL_MAT with n = 1, 3 and 7 columns (7: two column groups, 3 planes over
 * weights broadcast from one) for every weight type that has an mmvq kernel, with
 * subgroup and shared-memory reductions. The kernels must reproduce cpu-ref's integer
 * dot products: activations are quantized with the partner type's rounding (F16 s of
 * Q8_1 included), so only the float summation order differs.
 *
 * Which kernel ran is read from the pipeline builds that QG_VULKAN_VERBOSE=1 logs to
 * stderr (captured in a temporary file): with intdot on the device, mmvq_* must have
 * been built; run with QG_VK_DISABLE=intdot (the second ctest entry) the same cases must
 * take the float kernels (mmv_*) and pass test_vulkan_ops's limits. Skips (77) without vulkan0,
 * or without intdot when it was not disabled on purpose.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static qg_backend *be_ref, *be_vk;
static bool intdot;   /* the device runs the integer path */

static const qg_type types[] = {QG_TYPE_Q4_0, QG_TYPE_Q4_1, QG_TYPE_Q5_0, QG_TYPE_Q5_1, QG_TYPE_Q8_0,
                                QG_TYPE_IQ4_NL, QG_TYPE_MXFP4, QG_TYPE_Q4_K, QG_TYPE_Q5_K, QG_TYPE_Q6_K,
                                QG_TYPE_IQ4_XS};

typedef struct shape { int64_t k, m, n, planes; } shape;

/* out = w[k, m, 1] x x[k, n, planes] on be, leaves filled from a seeded generator
 * (row 0 of x scaled by 8 so blocks of different magnitude meet); *vals: m*n*planes floats. */
static qg_status run(qg_backend *be, qg_type t, shape s, uint64_t seed, float **vals, char *err, size_t errsz) {
    qg_context *ctx;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    qg_tensor *w = qg_new_tensor_4d(ctx, t, s.k, s.m, 1, 1);
    qg_tensor *x = qg_new_tensor_4d(ctx, QG_TYPE_F32, s.k, s.n, s.planes, 1);
    assert_non_null(w);
    assert_non_null(x);
    qg_tensor *out = qg_mul_mat(ctx, w, x);
    assert_non_null(out);
    qg_buffer *buf = NULL;
    assert_int_equal(qg_backend_alloc_ctx_tensors(be, ctx, &buf), QG_OK);
    qgt_rng rng;
    qgt_seed(&rng, seed);
    const int64_t nw = s.k * s.m, nx = s.k * s.n * s.planes;
    float *f = malloc((size_t)(nw > nx ? nw : nx) * sizeof *f);
    void *q = malloc(qg_nbytes(w));
    assert_non_null(f);
    assert_non_null(q);
    qgt_fill_uniform(&rng, f, nw, -1.0f, 1.0f);
    qg_type_get(t)->from_float(f, q, nw);
    assert_int_equal(qg_tensor_set(w, q, 0, qg_nbytes(w)), QG_OK);
    qgt_fill_uniform(&rng, f, nx, -1.0f, 1.0f);
    for (int64_t e = 0; e < s.k; e++) f[e] *= 8.0f;
    assert_int_equal(qg_tensor_set(x, f, 0, qg_nbytes(x)), QG_OK);
    free(q);
    free(f);
    qg_graph *g;
    assert_int_equal(qg_graph_new(&g), QG_OK);
    assert_int_equal(qg_graph_add(g, out), QG_OK);
    qg_sched *sc;
    assert_int_equal(qg_sched_new(&be, 1, &sc), QG_OK);
    qg_status st = qg_sched_compute(sc, g);
    if (st == QG_OK) st = qg_backend_synchronize(be);
    snprintf(err, errsz, "%s", qg_last_error());
    *vals = NULL;
    if (st == QG_OK) {
        *vals = malloc(qg_nbytes(out));
        assert_non_null(*vals);
        assert_int_equal(qg_tensor_get(out, *vals, 0, qg_nbytes(out)), QG_OK);
    }
    qg_sched_free(sc);
    qg_graph_free(g);
    qg_buffer_free(buf);
    qg_context_free(ctx);
    return st;
}

/* Runs one case on vulkan0 with stderr going to a temporary file; returns its text
 * (the pipeline builds of this run) in log. */
static qg_status run_logged(qg_type t, shape s, uint64_t seed, float **vals, char *err, size_t errsz, char *log,
                            size_t logsz) {
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    const int saved = dup(fileno(stderr));
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), fileno(stderr)) >= 0);
    qg_status st = run(be_vk, t, s, seed, vals, err, errsz);
    fflush(stderr);
    assert_true(dup2(saved, fileno(stderr)) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(log, 1, logsz - 1, tmp);
    log[n] = '\0';
    fclose(tmp);
    return st;
}

static void check_type(qg_type t, bool subgroups) {
    const shape shapes[] = {{512, 67, 1, 1}, {512, 67, 3, 1}, {256, 33, 7, 3}};
    const char *tn = qg_type_name(t);
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const shape s = shapes[i];
        const uint64_t seed = 1000u + 10u * (uint64_t)t + i;
        float *ref, *got;
        char err[512], log[8192];
        if (run(be_ref, t, s, seed, &ref, err, sizeof err) != QG_OK) fail_msg("%s: cpu-ref failed: %s", tn, err);
        if (run_logged(t, s, seed, &got, err, sizeof err, log, sizeof log) != QG_OK)
            fail_msg("%s n=%lld: vulkan0 failed: %s", tn, (long long)s.n, err);
        const int64_t cnt = s.m * s.n * s.planes;
        const double nmse = qgt_nmse(got, ref, cnt);
        double maxref = 0, maxdiff = 0;
        for (int64_t e = 0; e < cnt; e++) {
            if (isnan(got[e]) || isnan(ref[e])) fail_msg("%s: NaN at %lld", tn, (long long)e);
            maxref = fmax(maxref, fabs(ref[e]));
            maxdiff = fmax(maxdiff, fabs((double)got[e] - (double)ref[e]));
        }
        const double rel = maxdiff / (maxref > 0 ? maxref : 1.0);
        /* Integer path: the same integers and scales as cpu-ref, only the float summation
         * order differs (measured on lavapipe: <= 2.5e-7 of max|ref|): 2e-6. The float
         * kernels (intdot off) use test_vulkan_ops's limits: 2e-5, and 2e-3 for type-1
         * weights, whose min term cpu-ref takes from the F16-rounded s = d*sum(q). */
        const bool type1 = t == QG_TYPE_Q4_1 || t == QG_TYPE_Q5_1;
        const double tol = intdot ? 2e-6 : type1 ? 2e-3 : 2e-5;
        printf("  %-7s n=%lld planes=%lld %-9s nmse %.2e  max rel %.2e (tol %.0e)\n", tn, (long long)s.n,
               (long long)s.planes, subgroups ? "subgroup" : "shared", nmse, rel, tol);
        if (rel > tol) fail_msg("%s n=%lld: max relative error %.3e > %.0e", tn, (long long)s.n, rel, tol);
        if (nmse > 2e-4) fail_msg("%s n=%lld: NMSE %.3e above conform's 2e-4", tn, (long long)s.n, nmse);
        /* The kernel used: built on the first case of each type and reduction. */
        if (i == 0) {
            char want[64];
            snprintf(want, sizeof want, "kernel %s_%s%s ", intdot ? "mmvq" : "mmv", subgroups ? "sg_" : "", tn);
            for (char *c = want; *c; c++) *c = (char)tolower((unsigned char)*c); /* q4_K -> mmvq_q4_k */
            if (!strstr(log, want)) fail_msg("%s: expected pipeline build \"%s\" in the log:\n%s", tn, want, log);
            if (!intdot && strstr(log, "mmvq_")) fail_msg("%s: intdot is off but an mmvq kernel was built", tn);
        }
        free(ref);
        free(got);
    }
}

static void test_mmvq_types(void **state) {
    (void)state;
    char v[8];
    assert_int_equal(qg_backend_get_option(be_vk, "subgroups", v, sizeof v), QG_OK);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) check_type(types[i], strcmp(v, "1") == 0);
}

static void test_mmvq_shared_reduction(void **state) {
    (void)state;
    char v[8];
    assert_int_equal(qg_backend_get_option(be_vk, "subgroups", v, sizeof v), QG_OK);
    if (strcmp(v, "1") != 0) {
        printf("  (no subgroup arithmetic: the shared-memory reduction was tested above)\n");
        return;
    }
    assert_int_equal(qg_backend_set_option(be_vk, "subgroups", "0"), QG_OK);
    check_type(QG_TYPE_Q4_0, false);
    check_type(QG_TYPE_Q4_K, false);
    assert_int_equal(qg_backend_set_option(be_vk, "subgroups", "1"), QG_OK);
}

int main(void) {
    setenv("QG_VULKAN_VERBOSE", "1", 1);
    if (qg_backend_open("vulkan0", &be_vk) != QG_OK) return qgt_skip("vulkan0 cannot be opened: %s", qg_last_error());
    const char *feat = qg_backend_props(be_vk)->features;
    const char *dis = getenv("QG_VK_DISABLE");
    /* A space-separated word "intdot" (not the one inside "disabled=...,intdot"). */
    intdot = false;
    for (const char *p = feat; (p = strstr(p, "intdot")) != NULL; p += 6)
        if ((p == feat || p[-1] == ' ') && (p[6] == '\0' || p[6] == ' ')) intdot = true;
    const bool off_on_purpose = dis && (strstr(dis, "intdot") || strstr(dis, "all"));
    if (!intdot && !off_on_purpose) {
        qg_backend_free(be_vk);
        return qgt_skip("vulkan0 has no integer dot product (features: %s)", feat);
    }
    if (qg_backend_open("cpu-ref", &be_ref) != QG_OK) return qgt_skip("cpu-ref cannot be opened: %s", qg_last_error());
    printf("vulkan0: %s [%s]; integer path %s\n", qg_backend_props(be_vk)->description, feat,
           intdot ? "on" : "off (QG_VK_DISABLE)");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mmvq_types),
        cmocka_unit_test(test_mmvq_shared_reduction),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    qg_backend_free(be_vk);
    qg_backend_free(be_ref);
    return rc;
}
