/* Loading the CUDA plugin (libqg-cuda.so from QG_PLUGIN_PATH). On a machine without a
 * CUDA driver or device (CI) the load must fail cleanly: QG_ERR_PLUGIN with the
 * "CUDA: no driver/device" reason, a failed entry in the plugin report, and the other
 * plugins (cpu) still load and open. With a GPU, the plugin must list cuda0.. with a
 * name, memory and compute capability, open it and allocate, fill and read a buffer.
 * Skips (77) only when the plugin was not built (no nvcc).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static char plugin_path[1024];

static int find_device(const char *name, qg_device_props *out) {
    for (int i = 0; i < qg_device_count(); i++) {
        qg_device_props p;
        const char *plugin = NULL;
        if (qg_device_get(i, &p, &plugin) == QG_OK && strcmp(p.name, name) == 0) {
            if (out) *out = p;
            return i;
        }
    }
    return -1;
}

static void check_gpu_present(void) {
    qg_device_props p;
    assert_true(find_device("cuda0", &p) >= 0);
    printf("  cuda0: %s [%s], %llu bytes\n", p.description, p.features, (unsigned long long)p.memory_total);
    assert_int_equal(p.kind, QG_DEVICE_GPU);
    assert_true(p.memory_total > 0);
    assert_non_null(strstr(p.features, "sm_"));
    assert_int_equal(p.alignment, 256);
    qg_backend *be;
    assert_int_equal(qg_backend_open("cuda0", &be), QG_OK);
    char value[256];
    assert_int_equal(qg_backend_get_option(be, "device", value, sizeof value), QG_OK);
    assert_true(strlen(value) > 0);
    assert_int_equal(qg_backend_get_option(be, "no-such-option", value, sizeof value), QG_ERR_NOT_FOUND);
    /* a buffer round trip larger than one staging half, at an odd offset */
    const size_t n = (size_t)20 << 20;
    unsigned char *src = malloc(n), *dst = malloc(n);
    assert_non_null(src);
    assert_non_null(dst);
    for (size_t i = 0; i < n; i++) src[i] = (unsigned char)(i * 2654435761u >> 13);
    qg_buffer *buf;
    assert_int_equal(qg_backend_alloc_buffer(be, n + 64, &buf), QG_OK);
    qg_context *ctx;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    qg_tensor *t = qg_new_tensor_1d(ctx, QG_TYPE_I8, (int64_t)n);
    assert_non_null(t);
    assert_int_equal(qg_buffer_place(buf, t, 0), QG_OK);
    assert_int_equal(qg_tensor_set(t, src, 0, n), QG_OK);
    memset(dst, 0, n);
    assert_int_equal(qg_tensor_get(t, dst, 0, n), QG_OK);
    assert_memory_equal(src, dst, n);
    assert_int_equal(qg_tensor_get(t, dst, 3, 1000), QG_OK);
    assert_memory_equal(src + 3, dst, 1000);
    assert_int_not_equal(qg_tensor_get(t, dst, n - 10, 100), QG_OK); /* out of range: refused */
    qg_context_free(ctx);
    qg_buffer_free(buf);
    qg_backend_free(be);
    free(src);
    free(dst);
}

static void test_load(void **state) {
    (void)state;
    qg_plugin *plugin = NULL;
    qg_status st = qg_plugin_load(plugin_path, &plugin);
    if (st == QG_OK) {
        printf("  the CUDA plugin loaded: a driver and a device exist\n");
        check_gpu_present();
        return;
    }
    const char *msg = qg_last_error();
    printf("  load failed as expected without a GPU: %s: %s\n", qg_status_name(st), msg);
    assert_int_equal(st, QG_ERR_PLUGIN);
    assert_non_null(strstr(msg, "CUDA: no driver/device: "));
    assert_non_null(strstr(msg, "libqg-cuda.so"));
    /* the default discovery goes on with the other plugins */
    assert_int_equal(qg_plugins_load_default(), QG_OK);
    assert_true(find_device("cpu", NULL) >= 0);
    assert_true(find_device("cuda0", NULL) < 0);
    bool reported = false;
    for (int i = 0; i < qg_plugin_report_count(); i++) {
        qg_plugin_report r;
        assert_int_equal(qg_plugin_report_get(i, &r), QG_OK);
        if (strstr(r.path, "libqg-cuda.so") && !r.loaded) {
            assert_int_equal(r.status, QG_ERR_PLUGIN);
            assert_non_null(strstr(r.error, "CUDA: no driver/device"));
            reported = true;
        }
    }
    assert_true(reported);
    qg_backend *be = NULL;
    assert_int_equal(qg_backend_open("cuda0", &be), QG_ERR_NOT_FOUND);
    assert_null(be);
    assert_int_equal(qg_backend_open("cpu", &be), QG_OK);
    qg_backend_free(be);
}

int main(void) {
    const char *dir = getenv("QG_PLUGIN_PATH");
    if (!dir) return qgt_skip("QG_PLUGIN_PATH is not set");
    snprintf(plugin_path, sizeof plugin_path, "%s/libqg-cuda.so", dir);
    if (access(plugin_path, R_OK) != 0) return qgt_skip("the CUDA plugin was not built (%s)", plugin_path);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_load)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
