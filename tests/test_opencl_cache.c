/* The OpenCL backend's compiled-program cache: binaries appear under
 * $XDG_CACHE_HOME/qgraph after a first run; corrupt cache files and an unusable cache
 * location are ignored (kernels are rebuilt from source, results stay right); a build
 * failure is reported with the OpenCL error name and the build log.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_opencl_cmp.h"

static char root[256];

static qg_tensor *build_scale(qg_context *ctx, const void *arg) {
    (void)arg;
    return qg_scale(ctx, qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_F32, 100, 3), "a"), 0.5f);
}

/* Number of cache files; with `corrupt`, overwrite each with garbage; with `valid`, count
 * only files starting with the cache magic. */
static int scan(bool corrupt, bool valid) {
    char dir[300];
    snprintf(dir, sizeof dir, "%s/qgraph", root);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "opencl-", 7) != 0) continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (corrupt) { /* keep the header (magic, key, size), garble the binary itself */
            FILE *f = fopen(path, "r+b");
            assert_non_null(f);
            fseek(f, 0, SEEK_END);
            long size = ftell(f);
            for (long i = 20; i < size; i += 7) {
                fseek(f, i, SEEK_SET);
                fputc((int)(i * 31 & 255), f);
            }
            fclose(f);
        }
        if (valid) {
            unsigned char m[4] = {0};
            FILE *f = fopen(path, "rb");
            if (!f || fread(m, 1, 4, f) != 4 || memcmp(m, "COGQ", 4) != 0) {
                if (f) fclose(f);
                continue;
            }
            fclose(f);
        }
        n++;
    }
    closedir(d);
    return n;
}

static void reopen(void) {
    char why[512];
    cmp_close();
    if (!cmp_open("opencl0", why, sizeof why)) fail_msg("%s", why);
}

static void test_cache(void **state) {
    (void)state;
    cmp_check("scale (cold cache)", build_scale, NULL, 0.0, true);
    int n = scan(false, true);
    printf("  %d cache file(s) after the first run\n", n);
    assert_true(n >= 1);
    scan(true, false);
    reopen();
    cmp_check("scale (corrupt cache)", build_scale, NULL, 0.0, true);
    reopen();
    cmp_check("scale (warm cache)", build_scale, NULL, 0.0, true);
}

static void test_unusable_location(void **state) {
    (void)state;
    char file[300];
    snprintf(file, sizeof file, "%s/not-a-dir", root);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    setenv("XDG_CACHE_HOME", file, 1); /* qgraph/ cannot be created under a file */
    reopen();
    cmp_check("scale (unusable cache dir)", build_scale, NULL, 0.0, true);
    setenv("XDG_CACHE_HOME", root, 1);
}

/* A kernel build failure names the OpenCL error and carries the compiler's log. */
static void test_build_error(void **state) {
    (void)state;
    setenv("QG_OPENCL_BUILD_OPTIONS", "-DQG_OPENCL_TEST_BUILD_ERROR", 1);
    reopen();
    cmp_result r;
    cmp_run(1, build_scale, NULL, 1, &r);
    unsetenv("QG_OPENCL_BUILD_OPTIONS");
    printf("  error: %.300s\n", r.err);
    assert_int_not_equal(r.st, QG_OK);
    assert_non_null(strstr(r.err, "CL_BUILD_PROGRAM_FAILURE"));
    assert_non_null(strstr(r.err, "requested build failure"));
    cmp_free(&r);
    reopen();
    cmp_check("scale (after a failed build)", build_scale, NULL, 0.0, true);
}

int main(void) {
    char why[512];
    snprintf(root, sizeof root, "/tmp/qg-ocl-cache-XXXXXX");
    if (!mkdtemp(root)) return qgt_skip("mkdtemp failed");
    setenv("XDG_CACHE_HOME", root, 1);
    if (qg_plugins_load_default() != QG_OK) return qgt_skip("no plugins: %s", qg_last_error());
    if (!cmp_open("opencl0", why, sizeof why)) return qgt_skip("%s", why);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cache), cmocka_unit_test(test_unusable_location),
                                       cmocka_unit_test(test_build_error)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    cmp_close();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
    return rc;
}
