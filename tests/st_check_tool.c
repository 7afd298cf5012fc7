/* Helper for tests/python/st_crosscheck.py (not a test by itself):
 *   st_check_tool dump PATH      print what our reader sees in PATH (file, index or dir)
 *   st_check_tool write PATH     write the fixed set of tensors described below
 *   st_check_tool copy IN OUT    read IN and write every tensor and metadata entry to OUT
 * dump prints "meta HEXKEY HEXVALUE" and "tensor HEXNAME DTYPE DIMS SIZE FNV1A64" lines,
 * DIMS comma-separated ("-" for a scalar), names and strings hex-encoded so any byte
 * survives. write's values follow formulas that the python side recomputes with numpy:
 * element i of a float tensor is ((7 i) mod 17 - 8) / 4, exact in every float dtype. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qg/safetensors.h"

static void hex(const char *s) {
    if (!*s) fputs("-", stdout);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) printf("%02x", *c);
}

static uint64_t fnv1a(const void *p, uint64_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *c = p;
    for (uint64_t i = 0; i < n; i++) h = (h ^ c[i]) * 0x100000001b3ull;
    return h;
}

static int dump(const char *path) {
    qg_st *st = NULL;
    if (qg_st_open(path, &st) != QG_OK) {
        fprintf(stderr, "st_check_tool: %s\n", qg_last_error());
        return 1;
    }
    for (int64_t i = 0; i < qg_st_n_meta(st); i++) {
        fputs("meta ", stdout);
        hex(qg_st_meta_key(st, i));
        fputs(" ", stdout);
        hex(qg_st_meta_value(st, i));
        fputs("\n", stdout);
    }
    for (int64_t i = 0; i < qg_st_n_tensors(st); i++) {
        const qg_st_tensor_info *t = qg_st_tensor(st, i);
        fputs("tensor ", stdout);
        hex(t->name);
        printf(" %s ", t->dtype_name);
        if (!t->n_dims) fputs("-", stdout);
        for (int d = 0; d < t->n_dims; d++) printf("%s%lld", d ? "," : "", (long long)t->shape[d]);
        printf(" %llu %016llx\n", (unsigned long long)t->size, (unsigned long long)fnv1a(t->data, t->size));
    }
    qg_st_close(st);
    return 0;
}

typedef struct spec {
    const char *name;
    qg_st_dtype dt;
    int n_dims;
    int64_t shape[3];
} spec;

static const spec SET[] = {
    {"f64", QG_ST_F64, 2, {3, 4}},       {"f32", QG_ST_F32, 3, {2, 3, 4}},  {"f16", QG_ST_F16, 2, {5, 7}},
    {"bf16", QG_ST_BF16, 2, {4, 6}},     {"i64", QG_ST_I64, 1, {6}},        {"i32", QG_ST_I32, 2, {2, 5}},
    {"i16", QG_ST_I16, 2, {3, 3}},       {"i8", QG_ST_I8, 1, {16}},         {"u8", QG_ST_U8, 2, {4, 4}},
    {"bool", QG_ST_BOOL, 1, {7}},        {"e4m3", QG_ST_F8_E4M3, 2, {3, 8}}, {"e5m2", QG_ST_F8_E5M2, 2, {8, 3}},
    {"scalar", QG_ST_F32, 0, {0}},       {"empty", QG_ST_F16, 2, {0, 4}},
};

/* Fills element i of a tensor of dtype dt at p. */
static void fill(qg_st_dtype dt, int64_t i, unsigned char *p) {
    float f = (float)((i * 7) % 17 - 8) * 0.25f;
    switch (dt) {
    case QG_ST_F64: { double d = f; memcpy(p, &d, 8); break; }
    case QG_ST_F32: memcpy(p, &f, 4); break;
    case QG_ST_F16: { uint16_t h = qg_fp32_to_fp16(f); memcpy(p, &h, 2); break; }
    case QG_ST_BF16: { uint16_t h = qg_fp32_to_bf16(f); memcpy(p, &h, 2); break; }
    case QG_ST_F8_E4M3: *p = qg_fp32_to_e4m3(f); break;
    case QG_ST_F8_E5M2: *p = qg_fp32_to_e5m2(f); break;
    case QG_ST_I64: { int64_t v = i * 1000000007LL - 3000000000LL; memcpy(p, &v, 8); break; }
    case QG_ST_I32: { int32_t v = (int32_t)(i * 100003 - 500000); memcpy(p, &v, 4); break; }
    case QG_ST_I16: { int16_t v = (int16_t)((i * 3001) % 65536 - 32768); memcpy(p, &v, 2); break; }
    case QG_ST_I8: { int8_t v = (int8_t)((i * 37) % 256 - 128); memcpy(p, &v, 1); break; }
    case QG_ST_U8: *p = (unsigned char)((i * 37) % 256); break;
    case QG_ST_BOOL: *p = i % 3 == 0; break;
    }
}

static int fail(void) {
    fprintf(stderr, "st_check_tool: %s\n", qg_last_error());
    return 1;
}

static int write_set(const char *path) {
    enum { N = sizeof SET / sizeof SET[0] };
    unsigned char *buf[N] = {0};
    qg_st_writer *w = NULL;
    int rc = 0;
    if (qg_st_writer_new(&w) != QG_OK) return fail();
    if (qg_st_writer_meta(w, "format", "pt") != QG_OK ||
        qg_st_writer_meta(w, "note", "quote \" backslash \\ newline \n caf\xc3\xa9") != QG_OK)
        rc = fail();
    for (int k = 0; k < N && !rc; k++) {
        int64_t nel = 1;
        for (int d = 0; d < SET[k].n_dims; d++) nel *= SET[k].shape[d];
        size_t es = qg_st_dtype_size(SET[k].dt);
        buf[k] = malloc((size_t)nel * es + 1);
        if (!buf[k]) return 1;
        for (int64_t i = 0; i < nel; i++) fill(SET[k].dt, i, buf[k] + (size_t)i * es);
        if (qg_st_writer_add(w, SET[k].name, SET[k].dt, SET[k].n_dims, SET[k].shape, buf[k]) != QG_OK) rc = fail();
    }
    if (!rc && qg_st_writer_save(w, path) != QG_OK) rc = fail();
    qg_st_writer_free(w);
    for (int k = 0; k < N; k++) free(buf[k]);
    return rc;
}

static int copy(const char *in, const char *out) {
    qg_st *st = NULL;
    qg_st_writer *w = NULL;
    if (qg_st_open(in, &st) != QG_OK) return fail();
    int rc = qg_st_writer_new(&w) == QG_OK ? 0 : fail();
    for (int64_t i = 0; i < qg_st_n_meta(st) && !rc; i++)
        if (qg_st_writer_meta(w, qg_st_meta_key(st, i), qg_st_meta_value(st, i)) != QG_OK) rc = fail();
    for (int64_t i = 0; i < qg_st_n_tensors(st) && !rc; i++) {
        const qg_st_tensor_info *t = qg_st_tensor(st, i);
        if (qg_st_writer_add(w, t->name, t->dtype, t->n_dims, t->shape, t->data) != QG_OK) rc = fail();
    }
    if (!rc && qg_st_writer_save(w, out) != QG_OK) rc = fail();
    qg_st_writer_free(w);
    qg_st_close(st);
    return rc;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "dump") == 0) return dump(argv[2]);
    if (argc == 3 && strcmp(argv[1], "write") == 0) return write_set(argv[2]);
    if (argc == 4 && strcmp(argv[1], "copy") == 0) return copy(argv[2], argv[3]);
    fprintf(stderr, "usage: st_check_tool dump PATH | write PATH | copy IN OUT\n");
    return 2;
}
