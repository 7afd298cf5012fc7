/* Replays every file in tests/fuzz/regressions (inputs that once crashed or misbehaved
 * under the fuzzers) and in the seed corpus through both the GGUF and the safetensors
 * reader, reading back everything they hand out, and through the graph-builder program
 * of the fuzz_graph target (which traps on a malformed node). Seeds must open with their
 * own reader. The directories must be readable even when they hold no inputs. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "fuzz/fuzz_touch.h"
#include "fuzz/graph_program.h"

static char g_fuzz_dir[1024];

static unsigned char *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    unsigned char *p = malloc(cap);
    size_t k;
    while (p && (k = fread(p + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            unsigned char *q = realloc(p, cap *= 2);
            if (!q) free(p);
            p = q;
        }
    }
    fclose(f);
    *size = n;
    return p;
}

/* Feeds each regular file of dir to both readers; returns the number of files and how
 * many opened with the gguf (*n_gguf) and safetensors (*n_st) readers. */
static int replay_dir(const char *sub, int *n_gguf, int *n_st) {
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/%s", g_fuzz_dir, sub);
    DIR *d = opendir(dir);
    if (!d) fail_msg("cannot read %s", dir);
    int n = 0;
    *n_gguf = *n_st = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char path[1500];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t size = 0;
        unsigned char *img = slurp(path, &size);
        assert_non_null(img);
        int g = qgf_touch_gguf(img, size), s = qgf_touch_st(img, size);
        qgf_graph_program(img, size);
        print_message("%s/%s (%zu bytes): gguf %s, safetensors %s\n", sub, de->d_name, size,
                      g ? "opened" : "rejected", s ? "opened" : "rejected");
        *n_gguf += g;
        *n_st += s;
        free(img);
        n++;
    }
    closedir(d);
    return n;
}

static void test_regressions(void **state) {
    (void)state;
    int g, s;
    int n = replay_dir("regressions", &g, &s);
    print_message("%d regression inputs replayed without a crash\n", n);
    assert_true(n >= 0);
}

static void test_seeds(void **state) {
    (void)state;
    int g, s;
    int n = replay_dir("corpus/gguf", &g, &s);
    assert_true(n >= 2);
    assert_int_equal(g, n); /* every GGUF seed is a valid file */
    assert_int_equal(s, 0);
    n = replay_dir("corpus/safetensors", &g, &s);
    assert_true(n >= 2);
    assert_int_equal(s, n);
    assert_int_equal(g, 0);
    n = replay_dir("corpus/graph", &g, &s);
    assert_true(n >= 2);
}

int main(void) {
#ifdef QG_FUZZ_DIR
    snprintf(g_fuzz_dir, sizeof g_fuzz_dir, "%s", QG_FUZZ_DIR);
#else
    snprintf(g_fuzz_dir, sizeof g_fuzz_dir, "%s", qgt_data_path("../fuzz"));
#endif
    qg_st *probe = NULL;
    static const char tiny[16] = {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '};
    if (qg_st_open_memory(tiny, sizeof tiny, "probe", &probe) == QG_ERR_UNSUPPORTED)
        return qgt_skip("%s", qg_last_error());
    qg_st_close(probe);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regressions),
        cmocka_unit_test(test_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
