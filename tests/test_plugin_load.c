/* Plugin loader tests. By path: each broken plugin in build/test-plugins/bad must fail
 * with QG_ERR_PLUGIN and a message naming the file and the root cause, and be recorded
 * in the report list; the template loads, a second load of the same file returns the
 * same plugin, a copy with the same name is refused, and its device opens with options
 * and supports_op forwarded. Default discovery with the broken directory first and the
 * real plugin directory second still loads the CPU plugin.
 * With --only-bad (a second ctest case) only broken places are searched and the error
 * must list every one of them. With --threads (a third) several threads race to the
 * first discovery and open devices: discovery must run exactly once. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char bad_dir[1024], real_dir[1024], template_path[1024], dup_path[1024];
static int expect_cpu;

static const char *bad_file(const char *name) {
    static char buf[1200];
    snprintf(buf, sizeof buf, "%s/%s", bad_dir, name);
    return buf;
}

/* The message and the latest report must both name the cause. */
static void expect_failure(const char *file, const char *cause1, const char *cause2) {
    qg_plugin *p = (qg_plugin *)0x1;
    int before = qg_plugin_report_count();
    qg_status st = qg_plugin_load(bad_file(file), &p);
    const char *msg = qg_last_error();
    printf("  %s -> %s: %s\n", file, qg_status_name(st), msg);
    assert_int_equal(st, QG_ERR_PLUGIN);
    assert_null(p);
    assert_non_null(strstr(msg, file));
    assert_non_null(strstr(msg, cause1));
    if (cause2) assert_non_null(strstr(msg, cause2));

    assert_int_equal(qg_plugin_report_count(), before + 1);
    qg_plugin_report r;
    assert_int_equal(qg_plugin_report_get(before, &r), QG_OK);
    assert_false(r.loaded);
    assert_int_equal(r.status, QG_ERR_PLUGIN);
    assert_non_null(strstr(r.path, file));
    assert_non_null(strstr(r.error, cause1));
}

static void test_wrong_abi(void **state) {
    (void)state;
    expect_failure("libqg-bad-abi.so", "ABI version 7", "host expects 1");
}

static void test_wrong_struct_size(void **state) {
    (void)state;
    expect_failure("libqg-bad-size.so", "vtable size", "host expects");
}

static void test_missing_entry(void **state) {
    (void)state;
    expect_failure("libqg-no-entry.so", "missing symbol qg_plugin_entry", NULL);
}

static void test_null_vtable(void **state) {
    (void)state;
    expect_failure("libqg-null-vtable.so", "qg_plugin_entry() returned NULL", NULL);
}

static void test_null_function(void **state) {
    (void)state;
    expect_failure("libqg-null-fn.so", "required function compute is NULL", NULL);
}

static void test_init_failure(void **state) {
    (void)state;
    expect_failure("libqg-init-fail.so", "init failed",
                   "init-fail: the frobnicator is not plugged in");
}

static void test_missing_dependency(void **state) {
    (void)state;
    expect_failure("libqg-missing-dep.so", "libqgbaddep.so", "cannot open shared object file");
}

static void test_not_elf(void **state) {
    (void)state;
    expect_failure("libqg-garbage.so", "invalid ELF header", NULL);
}

static void test_no_such_file(void **state) {
    (void)state;
    expect_failure("libqg-does-not-exist.so", "cannot open shared object file",
                   "No such file or directory");
}

static void test_bad_arguments(void **state) {
    (void)state;
    assert_int_equal(qg_plugin_load(NULL, NULL), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_plugin_load("", NULL), QG_ERR_INVALID_ARG);
    qg_plugin_report r;
    assert_int_equal(qg_plugin_report_get(-1, &r), QG_ERR_NOT_FOUND);
    assert_int_equal(qg_plugin_report_get(qg_plugin_report_count(), &r), QG_ERR_NOT_FOUND);
    qg_device_props props;
    assert_int_equal(qg_device_get(qg_device_count(), &props, NULL), QG_ERR_NOT_FOUND);
    assert_int_equal(qg_backend_open(NULL, NULL), QG_ERR_INVALID_ARG);
}

static void test_template_load(void **state) {
    (void)state;
    int devices_before = qg_device_count();
    qg_plugin *p1 = NULL, *p2 = NULL;
    assert_int_equal(qg_plugin_load(template_path, &p1), QG_OK);
    assert_non_null(p1);
    assert_int_equal(qg_device_count(), devices_before + 1);
    /* the same file again: the same plugin, no new devices */
    assert_int_equal(qg_plugin_load(template_path, &p2), QG_OK);
    assert_ptr_equal(p1, p2);
    assert_int_equal(qg_device_count(), devices_before + 1);

    /* another file whose plugin has the same name is refused */
    qg_plugin *p3 = NULL;
    assert_int_equal(qg_plugin_load(dup_path, &p3), QG_ERR_PLUGIN);
    assert_null(p3);
    assert_non_null(strstr(qg_last_error(), "already loaded"));
    assert_non_null(strstr(qg_last_error(), "'template'"));
    assert_int_equal(qg_device_count(), devices_before + 1);

    qg_device_props props;
    const char *plugin_name = NULL;
    assert_int_equal(qg_device_get(devices_before, &props, &plugin_name), QG_OK);
    assert_string_equal(props.name, "template0");
    assert_string_equal(plugin_name, "template");
    assert_true(props.host_memory);
}

static void init_f32(qg_tensor *t, int64_t ne0, int64_t ne1) {
    memset(t, 0, sizeof *t);
    t->type = QG_TYPE_F32;
    t->ne[0] = ne0, t->ne[1] = ne1, t->ne[2] = 1, t->ne[3] = 1;
    t->nb[0] = sizeof(float);
    t->nb[1] = t->nb[0] * (size_t)ne0;
    t->nb[2] = t->nb[3] = t->nb[1] * (size_t)ne1;
}

static void test_template_backend(void **state) {
    (void)state;
    qg_backend *be = NULL;
    assert_int_equal(qg_backend_open("template0", &be), QG_OK);
    assert_non_null(be);
    assert_string_equal(qg_backend_name(be), "template0");
    assert_string_equal(qg_backend_props(be)->name, "template0");

    char value[16];
    assert_int_equal(qg_backend_get_option(be, "verbose", value, sizeof value), QG_OK);
    assert_string_equal(value, "0");
    assert_int_equal(qg_backend_set_option(be, "verbose", "1"), QG_OK);
    assert_int_equal(qg_backend_get_option(be, "verbose", value, sizeof value), QG_OK);
    assert_string_equal(value, "1");
    assert_int_equal(qg_backend_set_option(be, "verbose", "yes please"), QG_ERR_INVALID_ARG);
    assert_int_equal(qg_backend_set_option(be, "no-such-key", "1"), QG_ERR_NOT_FOUND);
    assert_non_null(strstr(qg_last_error(), "no-such-key"));
    assert_int_equal(qg_backend_get_option(be, "no-such-key", value, sizeof value),
                     QG_ERR_NOT_FOUND);

    qg_tensor a, b, sum, w, mm;
    init_f32(&a, 4, 3);
    init_f32(&b, 4, 1);
    init_f32(&sum, 4, 3);
    sum.op = QG_OP_ADD;
    sum.src[0] = &a, sum.src[1] = &b;
    assert_true(qg_backend_supports_op(be, &sum));
    init_f32(&w, 4, 2);
    init_f32(&mm, 2, 3);
    mm.op = QG_OP_MUL_MAT;
    mm.src[0] = &w, mm.src[1] = &a;
    assert_true(qg_backend_supports_op(be, &mm));
    a.type = QG_TYPE_F16; /* the template is F32 only */
    assert_false(qg_backend_supports_op(be, &sum));
    assert_false(qg_backend_supports_op(be, &mm));
    assert_false(qg_backend_supports_op(be, NULL));
    assert_int_equal(qg_backend_synchronize(be), QG_OK);
    qg_backend_free(be);
    qg_backend_free(NULL);
}

/* QG_PLUGIN_PATH = <bad dir>:<real dir> (set in main before any load). */
static void test_default_discovery(void **state) {
    (void)state;
    int first = qg_plugin_report_count();
    qg_status st = qg_plugins_load_default();
    printf("  load_default -> %s %s\n  search path: %s\n", qg_status_name(st), qg_last_error(),
           qg_plugin_search_path());
    assert_int_equal(st, QG_OK);
    assert_int_equal(strncmp(qg_plugin_search_path(), bad_dir, strlen(bad_dir)), 0);
    assert_non_null(strstr(qg_plugin_search_path(), real_dir));

    /* every broken plugin of the directory was tried and reported with its reason */
    static const char *const expected[][2] = {
        {"libqg-bad-abi.so", "ABI version 7"},
        {"libqg-bad-size.so", "vtable size"},
        {"libqg-garbage.so", "invalid ELF header"},
        {"libqg-init-fail.so", "frobnicator"},
        {"libqg-missing-dep.so", "libqgbaddep.so"},
        {"libqg-no-entry.so", "qg_plugin_entry"},
        {"libqg-null-fn.so", "compute"},
        {"libqg-null-vtable.so", "returned NULL"},
    };
    int n = qg_plugin_report_count();
    int last_index = -1;
    for (size_t e = 0; e < sizeof expected / sizeof expected[0]; e++) {
        int found = -1;
        for (int i = first; i < n && found < 0; i++) {
            qg_plugin_report r;
            assert_int_equal(qg_plugin_report_get(i, &r), QG_OK);
            const char *base = strrchr(r.path, '/');
            if (base && strcmp(base + 1, expected[e][0]) == 0) {
                found = i;
                assert_false(r.loaded);
                assert_int_equal(r.status, QG_ERR_PLUGIN);
                assert_non_null(strstr(r.error, expected[e][1]));
            }
        }
        if (found < 0) fail_msg("no report for %s", expected[e][0]);
        assert_true(found > last_index); /* a directory is loaded in name order */
        last_index = found;
    }

    if (!expect_cpu) {
        printf("  the CPU backend is not part of this build; not checking it\n");
        return;
    }
    bool cpu = false, cpu_ref = false;
    for (int i = 0; i < qg_device_count(); i++) {
        qg_device_props props;
        const char *plugin = NULL;
        assert_int_equal(qg_device_get(i, &props, &plugin), QG_OK);
        if (strcmp(props.name, "cpu") == 0) cpu = true;
        if (strcmp(props.name, "cpu-ref") == 0) cpu_ref = true;
    }
    assert_true(cpu);
    assert_true(cpu_ref);
    qg_backend *be = NULL;
    assert_int_equal(qg_backend_open("cpu", &be), QG_OK);
    qg_backend_free(be);

    /* idempotent */
    int reports = qg_plugin_report_count();
    assert_int_equal(qg_plugins_load_default(), QG_OK);
    assert_int_equal(qg_plugin_report_count(), reports);
}

static void test_unknown_device(void **state) {
    (void)state;
    qg_backend *be = (qg_backend *)0x1;
    assert_int_equal(qg_backend_open("no-such-device", &be), QG_ERR_NOT_FOUND);
    assert_null(be);
    printf("  %s\n", qg_last_error());
    assert_non_null(strstr(qg_last_error(), "no-such-device"));
    assert_non_null(strstr(qg_last_error(), "template0"));
    if (expect_cpu) assert_non_null(strstr(qg_last_error(), "cpu-ref"));
}

/* --only-bad: QG_PLUGIN_PATH = <bad dir>:<missing dir>, QG_PLUGIN_PATH_ONLY=1. */
static void test_only_bad(void **state) {
    (void)state;
    qg_status st = qg_plugins_load_default();
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", qg_last_error());
    printf("  load_default -> %s:\n%s\n", qg_status_name(st), msg);
    assert_int_equal(st, QG_ERR_PLUGIN);
    assert_int_equal(qg_device_count(), 0);
    assert_non_null(strstr(msg, bad_dir));
    assert_non_null(strstr(msg, "/nonexistent-qg-plugin-dir (does not exist)"));
    assert_non_null(strstr(msg, "libqg-bad-abi.so: ABI version 7"));
    assert_null(strstr(msg, real_dir));

    /* repeated calls give the same answer; opening a device reports the same cause */
    assert_int_equal(qg_plugins_load_default(), QG_ERR_PLUGIN);
    assert_string_equal(qg_last_error(), msg);
    qg_backend *be = (qg_backend *)0x1;
    assert_int_equal(qg_backend_open("cpu", &be), QG_ERR_PLUGIN);
    assert_null(be);
    assert_non_null(strstr(qg_last_error(), bad_dir));
}

#define N_THREADS 4

static void *open_devices(void *arg) {
    const char *device = arg;
    for (int i = 0; i < 20; i++) {
        qg_backend *be = NULL;
        if (qg_backend_open(device, &be) != QG_OK) return (void *)qg_last_error();
        char value[8];
        qg_status st = qg_backend_get_option(be, "verbose", value, sizeof value);
        if (st != QG_OK && st != QG_ERR_NOT_FOUND && st != QG_ERR_UNSUPPORTED)
            return (void *)"get_option failed";
        qg_backend_free(be);
        if (qg_plugins_load_default() != QG_OK) return (void *)"load_default failed";
        if (qg_device_count() < 1) return (void *)"no devices";
    }
    return NULL;
}

/* --threads: QG_PLUGIN_PATH = <bad dir>:<real dir>, nothing loaded yet. */
static void test_concurrent_first_use(void **state) {
    (void)state;
    const char *device = expect_cpu ? "cpu" : NULL;
    if (!device) {
        assert_int_equal(qg_plugin_load(template_path, NULL), QG_OK);
        device = "template0";
    }
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, open_devices, (void *)device), 0);
    for (int i = 0; i < N_THREADS; i++) {
        void *err = NULL;
        pthread_join(th[i], &err);
        if (err) fail_msg("thread %d: %s", i, (const char *)err);
    }
    /* discovery ran once: each file of the broken directory was tried exactly once */
    int n = qg_plugin_report_count(), bad_abi = 0;
    for (int i = 0; i < n; i++) {
        qg_plugin_report r;
        assert_int_equal(qg_plugin_report_get(i, &r), QG_OK);
        if (strstr(r.path, "libqg-bad-abi.so")) bad_abi++;
    }
    assert_int_equal(bad_abi, 1);
}

static int read_env(char *dst, size_t size, const char *name) {
    const char *v = getenv(name);
    if (!v || !*v) return 0;
    snprintf(dst, size, "%s", v);
    return 1;
}

int main(int argc, char **argv) {
    if (!read_env(bad_dir, sizeof bad_dir, "QG_BAD_PLUGIN_DIR") ||
        !read_env(real_dir, sizeof real_dir, "QG_REAL_PLUGIN_DIR") ||
        !read_env(template_path, sizeof template_path, "QG_TEMPLATE_PLUGIN") ||
        !read_env(dup_path, sizeof dup_path, "QG_DUP_PLUGIN"))
        return qgt_skip("QG_BAD_PLUGIN_DIR, QG_REAL_PLUGIN_DIR, QG_TEMPLATE_PLUGIN or "
                        "QG_DUP_PLUGIN not set (run through ctest)");
    const char *e = getenv("QG_EXPECT_CPU");
    expect_cpu = e && strcmp(e, "1") == 0;

    char path[2200];
    if (argc > 1 && strcmp(argv[1], "--only-bad") == 0) {
        snprintf(path, sizeof path, "%s:/nonexistent-qg-plugin-dir", bad_dir);
        setenv("QG_PLUGIN_PATH", path, 1);
        setenv("QG_PLUGIN_PATH_ONLY", "1", 1);
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_only_bad)};
        return cmocka_run_group_tests(tests, NULL, NULL);
    }
    snprintf(path, sizeof path, "%s:%s", bad_dir, real_dir);
    setenv("QG_PLUGIN_PATH", path, 1);
    unsetenv("QG_PLUGIN_PATH_ONLY");
    if (argc > 1 && strcmp(argv[1], "--threads") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_concurrent_first_use)};
        return cmocka_run_group_tests(tests, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrong_abi),          cmocka_unit_test(test_wrong_struct_size),
        cmocka_unit_test(test_missing_entry),      cmocka_unit_test(test_null_vtable),
        cmocka_unit_test(test_null_function),      cmocka_unit_test(test_init_failure),
        cmocka_unit_test(test_missing_dependency), cmocka_unit_test(test_not_elf),
        cmocka_unit_test(test_no_such_file),       cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_template_load),      cmocka_unit_test(test_template_backend),
        cmocka_unit_test(test_default_discovery),  cmocka_unit_test(test_unknown_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
