/* The CPU plugin through its ABI (dlopen of libqg-cpu.so, the vtable called directly)
 * and through the public backend API: two devices "cpu" and "cpu-ref" with sane
 * properties (features checked against /proc/cpuinfo), the "threads" option
 * (get/set/invalid values/unknown keys), buffer bounds and alignment, and compute()
 * on hand-placed tensors including refused nodes and many runs with changing thread
 * counts (the pool must neither hang nor leak).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *handle;
static const qg_plugin_vtable *vt;

static void quiet_log(int level, const char *fmt, ...) {
    (void)level;
    (void)fmt;
}

static const qg_host_api host = {
    .abi_version = QG_PLUGIN_ABI_VERSION,
    .set_error = qg_set_error,
    .log = quiet_log,
    .type_get = qg_type_get,
};

static const char *plugin_path(void) {
    static char path[1024];
    const char *dir = getenv("QG_PLUGIN_PATH");
    if (dir && *dir) {
        snprintf(path, sizeof path, "%.*s/libqg-cpu.so", (int)strcspn(dir, ":"), dir);
        return path;
    }
    const char *build = getenv("QG_BUILD_DIR");
    snprintf(path, sizeof path, "%s/lib/qgraph/libqg-cpu.so", build ? build : ".");
    return path;
}

static void test_vtable_and_init(void **state) {
    (void)state;
    assert_int_equal(vt->abi_version, QG_PLUGIN_ABI_VERSION);
    assert_int_equal(vt->struct_size, sizeof(qg_plugin_vtable));
    assert_string_equal(vt->name, "cpu");
    assert_non_null(vt->version);
    qg_host_api wrong = host;
    wrong.abi_version = QG_PLUGIN_ABI_VERSION + 1;
    assert_int_equal(vt->init(&wrong), QG_ERR_PLUGIN);
    assert_int_equal(vt->init(NULL), QG_ERR_INVALID_ARG);
    assert_int_equal(vt->init(&host), QG_OK);
}

/* /proc/cpuinfo's spelling of a feature word. */
static const char *cpuinfo_flag(const char *w) {
    if (!strcmp(w, "sse3")) return "pni";
    if (!strcmp(w, "sse4.1")) return "sse4_1";
    if (!strcmp(w, "sse4.2")) return "sse4_2";
    if (!strcmp(w, "avxvnni")) return "avx_vnni";
    return w;
}

static bool has_word(const char *list, const char *w) {
    size_t n = strlen(w);
    for (const char *p = list; (p = strstr(p, w)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0' || p[n] == '\n')) return true;
    return false;
}

static void test_devices(void **state) {
    (void)state;
    int n = 0;
    assert_int_equal(vt->device_count(&n), QG_OK);
    assert_int_equal(n, 2);
    const char *names[2] = {"cpu", "cpu-ref"};
    for (int i = 0; i < 2; i++) {
        qg_device_props p;
        assert_int_equal(vt->device_props(i, &p), QG_OK);
        assert_string_equal(p.name, names[i]);
        assert_int_equal(p.kind, QG_DEVICE_CPU);
        assert_int_equal(p.alignment, 64);
        assert_true(p.host_memory);
        assert_false(p.is_software);
        assert_true(p.memory_total > 0);
        assert_true(p.memory_free > 0 && p.memory_free <= p.memory_total);
        char threads[32];
        snprintf(threads, sizeof threads, "%ld threads", sysconf(_SC_NPROCESSORS_ONLN));
        if (!strstr(p.description, threads)) fail_msg("description \"%s\" lacks \"%s\"", p.description, threads);
    }
    qg_device_props p;
    assert_int_equal(vt->device_props(2, &p), QG_ERR_NOT_FOUND);
    assert_int_equal(vt->device_props(-1, &p), QG_ERR_NOT_FOUND);
    qg_plugin_device *dev = NULL;
    assert_int_equal(vt->device_open(5, &dev), QG_ERR_NOT_FOUND);
    assert_null(dev);

    /* Every reported feature is one the kernel lists; the key SIMD flags are not missed. */
    assert_int_equal(vt->device_props(0, &p), QG_OK);
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[8192] = "", flags[8192] = "";
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "flags", 5)) {
            snprintf(flags, sizeof flags, "%s", strchr(line, ':') ? strchr(line, ':') + 1 : "");
            break;
        }
    fclose(f);
    if (!flags[0]) return; /* not x86 */
    char copy[256];
    snprintf(copy, sizeof copy, "%s", p.features);
    for (char *save = NULL, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
        if (!has_word(flags, cpuinfo_flag(w))) fail_msg("feature %s not in /proc/cpuinfo flags", w);
    const char *key[] = {"avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl"};
    for (size_t i = 0; i < sizeof key / sizeof key[0]; i++)
        if (has_word(flags, key[i]) && !has_word(p.features, key[i]))
            fail_msg("/proc/cpuinfo has %s but features are \"%s\"", key[i], p.features);
}

static void test_options(void **state) {
    (void)state;
    for (int d = 0; d < 2; d++) {
        qg_plugin_device *dev = NULL;
        assert_int_equal(vt->device_open(d, &dev), QG_OK);
        char v[32];
        assert_int_equal(vt->get_option(dev, "threads", v, sizeof v), QG_OK);
        assert_int_equal(atol(v), sysconf(_SC_NPROCESSORS_ONLN));
        assert_int_equal(vt->set_option(dev, "threads", "3"), QG_OK);
        assert_int_equal(vt->get_option(dev, "threads", v, sizeof v), QG_OK);
        assert_string_equal(v, "3");
        const char *bad[] = {"0", "513", "-2", "abc", "2x", "", "99999999999999999999"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            assert_int_equal(vt->set_option(dev, "threads", bad[i]), QG_ERR_INVALID_ARG);
            assert_non_null(strstr(qg_last_error(), "threads"));
        }
        assert_int_equal(vt->get_option(dev, "threads", v, sizeof v), QG_OK);
        assert_string_equal(v, "3");
        assert_int_equal(vt->set_option(dev, "threads", "512"), QG_OK);
        assert_int_equal(vt->set_option(dev, "threads", "1"), QG_OK);
        assert_int_equal(vt->set_option(dev, "flux_capacitor", "1"), QG_ERR_NOT_FOUND);
        assert_non_null(strstr(qg_last_error(), "flux_capacitor"));
        assert_int_equal(vt->get_option(dev, "flux_capacitor", v, sizeof v), QG_ERR_NOT_FOUND);
        assert_non_null(strstr(qg_last_error(), "flux_capacitor"));
        assert_int_equal(vt->get_option(dev, "threads", v, 1), QG_ERR_INVALID_ARG);
        vt->device_close(dev);
    }
}

static void test_buffers(void **state) {
    (void)state;
    qg_plugin_device *dev = NULL;
    assert_int_equal(vt->device_open(0, &dev), QG_OK);
    qg_plugin_buffer *a = NULL, *b = NULL, *z = NULL;
    void *base = NULL, *zbase = NULL;
    assert_int_equal(vt->buffer_alloc(dev, 100, &a, &base), QG_OK);
    assert_non_null(base);
    assert_int_equal((uintptr_t)base % 64, 0);
    assert_int_equal(vt->buffer_alloc(dev, 0, &z, &zbase), QG_OK);
    assert_non_null(zbase);
    assert_int_equal(vt->buffer_alloc(dev, 64, &b, &base), QG_OK);
    qg_plugin_buffer *huge = NULL;
    assert_int_equal(vt->buffer_alloc(dev, SIZE_MAX, &huge, &base), QG_ERR_NO_MEMORY);
    assert_null(huge);

    unsigned char in[100], out[100];
    for (int i = 0; i < 100; i++) in[i] = (unsigned char)(i * 7 + 1);
    assert_int_equal(vt->buffer_set(a, 0, in, 100), QG_OK);
    assert_int_equal(vt->buffer_get(a, 0, out, 100), QG_OK);
    assert_memory_equal(in, out, 100);
    assert_int_equal(vt->buffer_set(a, 90, in, 20), QG_ERR_INVALID_ARG);
    assert_non_null(strstr(qg_last_error(), "outside"));
    assert_int_equal(vt->buffer_get(a, 101, out, 0), QG_ERR_INVALID_ARG);
    assert_int_equal(vt->buffer_get(a, 100, out, 0), QG_OK);
    assert_int_equal(vt->buffer_get(a, SIZE_MAX, out, 2), QG_ERR_INVALID_ARG);
    assert_int_equal(vt->buffer_set(a, 2, in, SIZE_MAX), QG_ERR_INVALID_ARG);
    assert_int_equal(vt->buffer_get(a, 1, out, SIZE_MAX - 0), QG_ERR_INVALID_ARG);
    assert_int_equal(vt->buffer_set(z, 0, in, 1), QG_ERR_INVALID_ARG);

    assert_int_equal(vt->buffer_copy(a, 10, b, 4, 50), QG_OK);
    assert_int_equal(vt->buffer_get(b, 4, out, 50), QG_OK);
    assert_memory_equal(in + 10, out, 50);
    assert_int_equal(vt->buffer_copy(a, 60, b, 0, 41), QG_ERR_INVALID_ARG); /* source overrun */
    assert_int_equal(vt->buffer_copy(a, 0, b, 30, 40), QG_ERR_INVALID_ARG); /* destination overrun */
    assert_int_equal(vt->buffer_copy(a, SIZE_MAX, b, 0, 1), QG_ERR_INVALID_ARG);
    assert_int_equal(vt->buffer_clear(b, 0xAB), QG_OK);
    assert_int_equal(vt->buffer_get(b, 0, out, 64), QG_OK);
    for (int i = 0; i < 64; i++) assert_int_equal(out[i], 0xAB);

    vt->buffer_free(a);
    vt->buffer_free(b);
    vt->buffer_free(z);
    vt->device_close(dev);
}

/* ADD of two hand-placed F32 tensors, then refused nodes. */
static void test_compute_direct(void **state) {
    (void)state;
    qg_plugin_device *dev = NULL;
    assert_int_equal(vt->device_open(1, &dev), QG_OK);
    qg_context *ctx = NULL;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    enum { N = 37 };
    qg_tensor *x = qg_new_tensor_2d(ctx, QG_TYPE_F32, N, 3), *y = qg_new_tensor_1d(ctx, QG_TYPE_F32, N);
    qg_tensor *s = qg_add(ctx, x, y);
    assert_non_null(s);
    qg_set_name(s, "sum");
    qg_plugin_buffer *buf = NULL;
    void *base = NULL;
    assert_int_equal(vt->buffer_alloc(dev, 3 * 1024, &buf, &base), QG_OK);
    x->data = base;
    y->data = (char *)base + 1024;
    s->data = (char *)base + 2048;
    float xv[3 * N], yv[N], sv[3 * N];
    for (int i = 0; i < 3 * N; i++) xv[i] = (float)i * 0.5f;
    for (int i = 0; i < N; i++) yv[i] = (float)(N - i);
    assert_int_equal(vt->buffer_set(buf, 0, xv, sizeof xv), QG_OK);
    assert_int_equal(vt->buffer_set(buf, 1024, yv, sizeof yv), QG_OK);

    /* Many runs, changing the pool size in between: no hang, same answer. */
    for (int run = 0; run < 200; run++) {
        if (run % 20 == 0) {
            char v[8];
            snprintf(v, sizeof v, "%d", 1 + run / 20 % 4);
            assert_int_equal(vt->set_option(dev, "threads", v), QG_OK);
        }
        assert_int_equal(vt->buffer_clear(buf, 0), QG_OK);
        assert_int_equal(vt->buffer_set(buf, 0, xv, sizeof xv), QG_OK);
        assert_int_equal(vt->buffer_set(buf, 1024, yv, sizeof yv), QG_OK);
        assert_int_equal(vt->compute(dev, &s, 1), QG_OK);
        assert_int_equal(vt->buffer_get(buf, 2048, sv, sizeof sv), QG_OK);
        for (int i = 0; i < 3 * N; i++) assert_true(sv[i] == xv[i] + yv[i % N]);
    }
    assert_true(vt->supports_op(dev, s));
    assert_int_equal(vt->compute(dev, NULL, 0), QG_OK);

    /* An integer ADD is not supported: refused before anything runs. */
    s->type = QG_TYPE_I32;
    assert_false(vt->supports_op(dev, s));
    assert_int_equal(vt->compute(dev, &s, 1), QG_ERR_UNSUPPORTED);
    assert_non_null(strstr(qg_last_error(), "sum"));
    s->type = QG_TYPE_F32;
    s->op = (qg_op)(QG_OP_COUNT + 5); /* corrupt op id */
    assert_false(vt->supports_op(dev, s));
    assert_int_equal(vt->compute(dev, &s, 1), QG_ERR_UNSUPPORTED);
    s->op = QG_OP_ADD;
    /* A source without storage. */
    y->data = NULL;
    assert_int_equal(vt->compute(dev, &s, 1), QG_ERR_INVALID_ARG);
    assert_non_null(strstr(qg_last_error(), "sum"));
    qg_tensor *none = NULL;
    assert_int_equal(vt->compute(dev, &none, 1), QG_ERR_INVALID_ARG);

    vt->buffer_free(buf);
    vt->device_close(dev);
    qg_context_free(ctx);
}

static void test_public_api(void **state) {
    (void)state;
    const char *names[2] = {"cpu", "cpu-ref"};
    for (int i = 0; i < 2; i++) {
        qg_backend *be = NULL;
        if (qg_backend_open(names[i], &be) != QG_OK) fail_msg("open %s: %s", names[i], qg_last_error());
        assert_string_equal(qg_backend_name(be), names[i]);
        assert_string_equal(qg_backend_props(be)->name, names[i]);
        assert_int_equal(qg_backend_set_option(be, "threads", "2"), QG_OK);
        char v[8];
        assert_int_equal(qg_backend_get_option(be, "threads", v, sizeof v), QG_OK);
        assert_string_equal(v, "2");
        assert_int_equal(qg_backend_set_option(be, "threads", "many"), QG_ERR_INVALID_ARG);
        qg_backend_free(be);
    }
}

int main(void) {
    const char *path = plugin_path();
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) return qgt_skip("cannot load %s: %s", path, dlerror());
    qg_plugin_entry_fn entry;
    *(void **)&entry = dlsym(handle, QG_PLUGIN_ENTRY);
    if (!entry) {
        printf("%s has no %s\n", path, QG_PLUGIN_ENTRY);
        return 1;
    }
    vt = entry();
    if (!vt) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vtable_and_init), cmocka_unit_test(test_devices),
        cmocka_unit_test(test_options),         cmocka_unit_test(test_buffers),
        cmocka_unit_test(test_compute_direct),  cmocka_unit_test(test_public_api),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    vt->shutdown();
    dlclose(handle);
    return rc;
}
