/* Vulkan backend plumbing: device properties, buffer set/get/copy/clear through mapped
 * memory and through the staging path, barriers only between dependent dispatches, a
 * row id out of range reported as an error naming the node, unknown options, and the
 * on-disk pipeline cache. Skips (77) when vulkan0 cannot be opened.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static qg_backend *be;

static void test_props(void **state) {
    (void)state;
    const qg_device_props *p = qg_backend_props(be);
    assert_string_equal(p->name, "vulkan0");
    assert_false(p->host_memory);
    assert_true(p->alignment >= 4);
    assert_true(p->memory_total > 0);
    assert_true(strstr(p->features, "vulkan1.") != NULL);
    printf("  %s: kind %d software %d features [%s]\n", p->description, p->kind, p->is_software, p->features);
}

static void roundtrip(const char *staging) {
    assert_int_equal(qg_backend_set_option(be, "staging", staging), QG_OK);
    const size_t n = 1000003; /* odd size */
    unsigned char *a = malloc(n), *b = malloc(n);
    assert_non_null(a);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) a[i] = (unsigned char)(i * 7 + 3);
    qg_buffer *buf;
    assert_int_equal(qg_backend_alloc_buffer(be, 2 * n + 64, &buf), QG_OK);
    qg_context *ctx;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    qg_tensor *t0 = qg_new_tensor_1d(ctx, QG_TYPE_I8, (int64_t)n);
    qg_tensor *t1 = qg_new_tensor_1d(ctx, QG_TYPE_I8, (int64_t)n);
    assert_int_equal(qg_buffer_place(buf, t0, 0), QG_OK);
    assert_int_equal(qg_buffer_place(buf, t1, n + 64 - (n % 64)), QG_OK);
    assert_int_equal(qg_tensor_set(t0, a, 0, n), QG_OK);
    memset(b, 0, n);
    assert_int_equal(qg_tensor_get(t0, b, 0, n), QG_OK);
    assert_memory_equal(a, b, n);
    /* partial, unaligned reads and writes */
    assert_int_equal(qg_tensor_set(t0, a + 5, 3, 17), QG_OK);
    assert_int_equal(qg_tensor_get(t0, b, 3, 17), QG_OK);
    assert_memory_equal(a + 5, b, 17);
    assert_int_equal(qg_tensor_get(t0, b, 0, 3), QG_OK);
    assert_memory_equal(a, b, 3);
    assert_int_equal(qg_tensor_get(t0, b, n, 1), QG_ERR_INVALID_ARG);
    qg_buffer_free(buf);
    qg_context_free(ctx);
    free(a);
    free(b);
    assert_int_equal(qg_backend_set_option(be, "staging", "0"), QG_OK);
}

static void test_buffers_mapped(void **state) {
    (void)state;
    roundtrip("0");
}

static void test_buffers_staged(void **state) {
    (void)state;
    roundtrip("1");
}

/* A chain of 4 dependent element-wise ops and 2 independent ones; run with staged
 * buffers too. Checks values and that barriers only separate dependent dispatches. */
static void chain(const char *staging) {
    assert_int_equal(qg_backend_set_option(be, "staging", staging), QG_OK);
    qg_context *ctx;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    qg_tensor *x = qg_new_tensor_1d(ctx, QG_TYPE_F32, 256);
    qg_tensor *y = qg_new_tensor_1d(ctx, QG_TYPE_F32, 256);
    qg_tensor *h = qg_scale(ctx, qg_add(ctx, qg_scale(ctx, x, 2.0f), y), 0.5f);
    qg_tensor *z = qg_add(ctx, qg_mul(ctx, x, y), qg_mul(ctx, y, y));
    qg_tensor *out = qg_add(ctx, h, z);
    assert_int_equal(qg_context_status(ctx), QG_OK);
    qg_buffer *buf;
    assert_int_equal(qg_backend_alloc_ctx_tensors(be, ctx, &buf), QG_OK);
    float xv[256], yv[256], ov[256];
    for (int i = 0; i < 256; i++) {
        xv[i] = (float)i / 64.0f - 2.0f;
        yv[i] = (float)(i % 17) / 8.0f;
    }
    assert_int_equal(qg_tensor_set(x, xv, 0, sizeof xv), QG_OK);
    assert_int_equal(qg_tensor_set(y, yv, 0, sizeof yv), QG_OK);
    qg_graph *g;
    assert_int_equal(qg_graph_new(&g), QG_OK);
    assert_int_equal(qg_graph_add(g, out), QG_OK);
    qg_sched *s;
    assert_int_equal(qg_sched_new(&be, 1, &s), QG_OK);
    assert_int_equal(qg_sched_compute(s, g), QG_OK);
    assert_int_equal(qg_tensor_get(out, ov, 0, sizeof ov), QG_OK);
    for (int i = 0; i < 256; i++) {
        float e = (xv[i] * 2.0f + yv[i]) * 0.5f + (xv[i] * yv[i] + yv[i] * yv[i]);
        if (ov[i] != e) fail_msg("element %d: %g, expected %g", i, ov[i], e);
    }
    char v[32];
    assert_int_equal(qg_backend_get_option(be, "dispatches", v, sizeof v), QG_OK);
    assert_string_equal(v, "7");
    assert_int_equal(qg_backend_get_option(be, "barriers", v, sizeof v), QG_OK);
    const int barriers = atoi(v);
    printf("  7 dispatches, %d barriers\n", barriers);
    assert_true(barriers >= 3 && barriers < 6); /* a barrier per dependency level, not per dispatch */
    qg_sched_free(s);
    qg_graph_free(g);
    qg_buffer_free(buf);
    qg_context_free(ctx);
    assert_int_equal(qg_backend_set_option(be, "staging", "0"), QG_OK);
}

static void test_dependent_dispatches(void **state) {
    (void)state;
    chain("0");
    chain("1");
}

static void test_bad_row_id(void **state) {
    (void)state;
    qg_context *ctx;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    qg_tensor *a = qg_new_tensor_2d(ctx, QG_TYPE_F32, 8, 4);
    qg_tensor *ids = qg_new_tensor_1d(ctx, QG_TYPE_I32, 3);
    qg_tensor *r = qg_set_name(qg_get_rows(ctx, a, ids), "picked");
    qg_buffer *buf;
    assert_int_equal(qg_backend_alloc_ctx_tensors(be, ctx, &buf), QG_OK);
    float av[32] = {0};
    int32_t iv[3] = {1, 4, 0};
    assert_int_equal(qg_tensor_set(a, av, 0, sizeof av), QG_OK);
    assert_int_equal(qg_tensor_set(ids, iv, 0, sizeof iv), QG_OK);
    qg_graph *g;
    assert_int_equal(qg_graph_new(&g), QG_OK);
    assert_int_equal(qg_graph_add(g, r), QG_OK);
    qg_sched *s;
    assert_int_equal(qg_sched_new(&be, 1, &s), QG_OK);
    assert_int_equal(qg_sched_compute(s, g), QG_ERR_INVALID_ARG);
    printf("  error: %s\n", qg_last_error());
    assert_non_null(strstr(qg_last_error(), "picked"));
    /* the device still works afterwards */
    iv[1] = 3;
    assert_int_equal(qg_tensor_set(ids, iv, 0, sizeof iv), QG_OK);
    assert_int_equal(qg_sched_compute(s, g), QG_OK);
    qg_sched_free(s);
    qg_graph_free(g);
    qg_buffer_free(buf);
    qg_context_free(ctx);
}

static void test_options(void **state) {
    (void)state;
    char v[16];
    assert_int_equal(qg_backend_set_option(be, "no-such-option", "1"), QG_ERR_NOT_FOUND);
    assert_int_equal(qg_backend_get_option(be, "no-such-option", v, sizeof v), QG_ERR_NOT_FOUND);
    assert_int_equal(qg_backend_set_option(be, "matmul", "sideways"), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_backend_set_option(be, "staging", "maybe"), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_backend_set_option(be, "matmul", "tiled"), QG_OK);
    assert_int_equal(qg_backend_get_option(be, "matmul", v, sizeof v), QG_OK);
    assert_string_equal(v, "tiled");
    assert_int_equal(qg_backend_get_option(be, "matmul", v, 2), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_backend_set_option(be, "matmul", "auto"), QG_OK);
}

/* The pipeline cache is written under $XDG_CACHE_HOME/qgraph when the device closes. */
static void test_pipeline_cache(void **state) {
    (void)state;
    char dir[] = "/tmp/qg-vkcache-XXXXXX";
    assert_non_null(mkdtemp(dir));
    setenv("XDG_CACHE_HOME", dir, 1);
    qg_backend *b2;
    assert_int_equal(qg_backend_open("vulkan0", &b2), QG_OK);
    qg_context *ctx;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    qg_tensor *x = qg_new_tensor_1d(ctx, QG_TYPE_F32, 64);
    qg_tensor *y = qg_silu(ctx, x);
    qg_buffer *buf;
    assert_int_equal(qg_backend_alloc_ctx_tensors(b2, ctx, &buf), QG_OK);
    float xv[64] = {0};
    assert_int_equal(qg_tensor_set(x, xv, 0, sizeof xv), QG_OK);
    qg_graph *g;
    assert_int_equal(qg_graph_new(&g), QG_OK);
    assert_int_equal(qg_graph_add(g, y), QG_OK);
    qg_sched *s;
    assert_int_equal(qg_sched_new(&b2, 1, &s), QG_OK);
    assert_int_equal(qg_sched_compute(s, g), QG_OK);
    qg_sched_free(s);
    qg_graph_free(g);
    qg_buffer_free(buf);
    qg_context_free(ctx);
    qg_backend_free(b2);
    char sub[64], cmd[160];
    snprintf(sub, sizeof sub, "%s/qgraph", dir);
    struct stat st;
    assert_int_equal(stat(sub, &st), 0);
    snprintf(cmd, sizeof cmd, "ls %s/vulkan-*.bin > /dev/null 2>&1", sub);
    int rc = system(cmd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("  could not remove %s\n", dir);
    unsetenv("XDG_CACHE_HOME");
    assert_int_equal(rc, 0);
}

int main(void) {
    if (qg_backend_open("vulkan0", &be) != QG_OK) return qgt_skip("vulkan0 cannot be opened: %s", qg_last_error());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_props),
        cmocka_unit_test(test_buffers_mapped),
        cmocka_unit_test(test_buffers_staged),
        cmocka_unit_test(test_dependent_dispatches),
        cmocka_unit_test(test_bad_row_id),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_pipeline_cache),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    qg_backend_free(be);
    return rc;
}
