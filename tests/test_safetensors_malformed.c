/* Malformed safetensors files, generated here: each must be rejected with
 * QG_ERR_FORMAT, a NULL handle and a message naming the offending field or tensor, both
 * from memory and from a file. Headers are written with ' for " to stay readable. */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "qg/safetensors.h"

typedef struct bad_case {
    const char *what;
    const char *header;   /* ' becomes "; NULL: raw bytes below */
    uint64_t data_size;   /* zero bytes appended after the header */
    const char *expect;   /* substring the message must contain */
    const unsigned char *raw;
    size_t raw_size;
    uint64_t len_override; /* nonzero: written as the length prefix instead */
} bad_case;

static const unsigned char five[5] = {8, 0, 0, 0, 0};

static const bad_case CASES[] = {
    {"empty file", NULL, 0, "8-byte header length", five, 0, 0},
    {"truncated length prefix", NULL, 0, "8-byte header length", five, 5, 0},
    {"header length past the end", "{}", 0, "exceeds the", NULL, 0, 1000},
    {"header length huge", "{}", 0, "limit", NULL, 0, 0x8000000000000000ull},
    {"header length over 100 MB", "{}", 0, "limit", NULL, 0, 200000000ull},
    {"not JSON", "hello world", 0, "'{'", NULL, 0, 0},
    {"JSON array, not object", "[1, 2]", 0, "'{'", NULL, 0, 0},
    {"truncated JSON", "{'a': ", 0, "JSON", NULL, 0, 0},
    {"trailing garbage in header", "{} xyz", 0, "JSON", NULL, 0, 0},
    {"__metadata__ not an object", "{'__metadata__': [1]}", 0, "__metadata__", NULL, 0, 0},
    {"non-string metadata value", "{'__metadata__': {'k': 1}}", 0, "'k'", NULL, 0, 0},
    {"entry not an object", "{'w': 5}", 0, "'w'", NULL, 0, 0},
    {"missing dtype", "{'w': {'shape': [1], 'data_offsets': [0, 4]}}", 4, "dtype", NULL, 0, 0},
    {"missing shape", "{'w': {'dtype': 'F32', 'data_offsets': [0, 4]}}", 4, "shape", NULL, 0, 0},
    {"missing data_offsets", "{'w': {'dtype': 'F32', 'shape': [1]}}", 4, "data_offsets", NULL, 0, 0},
    {"unknown dtype", "{'w': {'dtype': 'C64', 'shape': [1], 'data_offsets': [0, 8]}}", 8, "C64", NULL, 0, 0},
    {"dtype not a string", "{'w': {'dtype': 4, 'shape': [1], 'data_offsets': [0, 4]}}", 4, "dtype", NULL, 0, 0},
    {"negative dim", "{'w': {'dtype': 'F32', 'shape': [-1], 'data_offsets': [0, 4]}}", 4, "negative", NULL, 0, 0},
    {"shape product overflow", "{'w': {'dtype': 'F32', 'shape': [4294967296, 4294967296, 16], 'data_offsets': [0, 4]}}", 4, "overflow", NULL, 0, 0},
    {"too many dims", "{'w': {'dtype': 'I8', 'shape': [1,1,1,1,1,1,1,1,1], 'data_offsets': [0, 1]}}", 1, "dims", NULL, 0, 0},
    {"shape not an array", "{'w': {'dtype': 'F32', 'shape': 1, 'data_offsets': [0, 4]}}", 4, "shape", NULL, 0, 0},
    {"shape holds a real", "{'w': {'dtype': 'F32', 'shape': [1.0], 'data_offsets': [0, 4]}}", 4, "real", NULL, 0, 0},
    {"offsets not ints", "{'w': {'dtype': 'F32', 'shape': [1], 'data_offsets': ['0', '4']}}", 4, "data_offsets", NULL, 0, 0},
    {"offsets of three", "{'w': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4, 8]}}", 4, "data_offsets", NULL, 0, 0},
    {"offsets reversed", "{'w': {'dtype': 'F32', 'shape': [0], 'data_offsets': [8, 4]}}", 8, "reversed", NULL, 0, 0},
    {"end past data", "{'w': {'dtype': 'F32', 'shape': [4], 'data_offsets': [0, 16]}}", 8, "past", NULL, 0, 0},
    {"size mismatch", "{'w': {'dtype': 'F32', 'shape': [3], 'data_offsets': [0, 8]}}", 8, "'w'", NULL, 0, 0},
    {"overlapping tensors", "{'a': {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 8]}, 'b': {'dtype': 'F32', 'shape': [2], 'data_offsets': [4, 12]}}", 12, "overlap", NULL, 0, 0},
    {"hole between tensors", "{'a': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}, 'b': {'dtype': 'F32', 'shape': [1], 'data_offsets': [8, 12]}}", 12, "hole", NULL, 0, 0},
    {"hole at the start", "{'a': {'dtype': 'F32', 'shape': [1], 'data_offsets': [4, 8]}}", 8, "hole", NULL, 0, 0},
    {"unused bytes at the end", "{'a': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}}", 8, "cover only", NULL, 0, 0},
    {"duplicate key", "{'a': {'dtype': 'I8', 'shape': [1], 'data_offsets': [0, 1]}, 'a': {'dtype': 'I8', 'shape': [1], 'data_offsets': [1, 2]}}", 2, "duplicate", NULL, 0, 0},
    {"NUL in a name", "{'a\\u0000b': {'dtype': 'I8', 'shape': [1], 'data_offsets': [0, 1]}}", 1, "JSON", NULL, 0, 0},
    {"invalid UTF-8", "{'\xff': {'dtype': 'I8', 'shape': [1], 'data_offsets': [0, 1]}}", 1, "JSON", NULL, 0, 0},
    {"empty tensor name", "{'': {'dtype': 'I8', 'shape': [1], 'data_offsets': [0, 1]}}", 1, "empty name", NULL, 0, 0},
    {"integer too big for JSON", "{'w': {'dtype': 'I8', 'shape': [99999999999999999999], 'data_offsets': [0, 1]}}", 1, "JSON", NULL, 0, 0},
    {"negative offset", "{'w': {'dtype': 'I8', 'shape': [1], 'data_offsets': [-1, 0]}}", 1, "negative", NULL, 0, 0},
};

static unsigned char *build(const bad_case *c, size_t *size) {
    if (!c->header) {
        unsigned char *p = malloc(c->raw_size + 1);
        assert_non_null(p);
        if (c->raw_size) memcpy(p, c->raw, c->raw_size);
        *size = c->raw_size;
        return p;
    }
    size_t hl = strlen(c->header);
    *size = 8 + hl + (size_t)c->data_size;
    unsigned char *p = calloc(1, *size);
    assert_non_null(p);
    uint64_t len = c->len_override ? c->len_override : hl;
    memcpy(p, &len, 8);
    for (size_t i = 0; i < hl; i++) p[8 + i] = c->header[i] == '\'' ? '"' : (unsigned char)c->header[i];
    return p;
}

static void check_rejected(qg_status s, qg_st *st, const bad_case *c, const char *via) {
    const char *msg = qg_last_error();
    print_message("%-28s [%s] %s: %s\n", c->what, via, qg_status_name(s), msg);
    assert_int_equal(s, QG_ERR_FORMAT);
    assert_null(st);
    assert_true(strlen(msg) > 0);
    if (!strstr(msg, c->expect)) fail_msg("message for '%s' lacks '%s'", c->what, c->expect);
}

static void test_malformed(void **state) {
    (void)state;
    int n = (int)(sizeof CASES / sizeof CASES[0]);
    char tmpl[] = "/tmp/qg_st_bad_XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    close(fd);
    for (int i = 0; i < n; i++) {
        size_t size;
        unsigned char *img = build(&CASES[i], &size);
        qg_st *st = (qg_st *)1;
        qg_clear_error();
        qg_status s = qg_st_open_memory(img, size, "bad.safetensors", &st);
        check_rejected(s, st, &CASES[i], "memory");
        assert_non_null(strstr(qg_last_error(), "bad.safetensors"));
        FILE *f = fopen(tmpl, "wb");
        assert_non_null(f);
        if (size) assert_int_equal(fwrite(img, 1, size, f), size);
        fclose(f);
        st = (qg_st *)1;
        qg_clear_error();
        s = qg_st_open(tmpl, &st);
        if (size == 0) { /* an empty file is reported as such */
            assert_int_equal(s, QG_ERR_FORMAT);
            assert_null(st);
            assert_non_null(strstr(qg_last_error(), "empty"));
        } else {
            check_rejected(s, st, &CASES[i], "file");
            assert_non_null(strstr(qg_last_error(), tmpl));
        }
        free(img);
    }
    unlink(tmpl);
    print_message("%d malformed files rejected\n", n);
    assert_true(n >= 20);
}

/* The same header made valid is accepted: the cases fail for the reason they name. */
static void test_control(void **state) {
    (void)state;
    static const bad_case ok = {"valid", "{'__metadata__': {'k': 'v'}, 'a': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}, 'b': {'dtype': 'F32', 'shape': [2], 'data_offsets': [4, 12]}, 'z': {'dtype': 'F32', 'shape': [0, 5], 'data_offsets': [12, 12]}}", 12, "", NULL, 0, 0};
    size_t size;
    unsigned char *img = build(&ok, &size);
    qg_st *st = NULL;
    qg_status s = qg_st_open_memory(img, size, "ok", &st);
    if (s != QG_OK) fail_msg("%s", qg_last_error());
    assert_int_equal(qg_st_n_tensors(st), 3);
    assert_int_equal(qg_st_n_meta(st), 1);
    qg_st_close(st);
    free(img);
}

int main(void) {
    static const char tiny[16] = {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '};
    qg_st *probe = NULL;
    if (qg_st_open_memory(tiny, sizeof tiny, "probe", &probe) == QG_ERR_UNSUPPORTED)
        return qgt_skip("%s", qg_last_error());
    qg_st_close(probe);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_control),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
