/* `qg info FILE [--json]`: what a GGUF or safetensors checkpoint holds, from its headers
 * only (tensor data is never read, so a multi-gigabyte file answers at once).
 *
 * Prints the format and version, the metadata (arrays longer than 8 summarised), the
 * tensor table, the parameter count and an estimate of the weight memory at common
 * types: per tensor, exactly the type `qg quantize` would pick (quant_mix_plan) and its
 * block-exact size. --json prints the same content as one JSON object (needs jansson).
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_input.h"
#include "qg/qg.h"

#ifdef QG_HAVE_JANSSON
#include <jansson.h>
#endif

#define MAX_ARRAY_SHOWN 8

static const struct { const char *label, *target; } estimates[] = {
    {"F32", "f32"},       {"F16/BF16", "f16"}, {"F8 (e4m3)", "f8_e4m3"}, {"MXFP8", "mxfp8_e4m3"},
    {"Q8_0", "q8_0"},     {"Q6_K", "q6_k"},    {"Q5_K_M", "q5_k_m"},     {"Q4_K_M", "q4_k_m"},
    {"Q4_0", "q4_0"},     {"Q3_K_M", "q3_k_m"}, {"Q2_K", "q2_k"},
};
#define N_EST (int)(sizeof estimates / sizeof estimates[0])

static const char *vtype_name(qg_gguf_vtype t) {
    static const char *names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

/* One array element (not string/array) as text. */
static void elem_text(qg_gguf_vtype t, const uint8_t *p, char *buf, size_t size) {
    union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32; float f32;
            uint64_t u64; int64_t i64; double f64; } v;
    static const size_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    memset(&v, 0, sizeof v);
    if ((unsigned)t < sizeof sizes / sizeof sizes[0] && sizes[t]) memcpy(&v, p, sizes[t]);
    switch (t) {
    case QG_GGUF_UINT8: snprintf(buf, size, "%u", v.u8); break;
    case QG_GGUF_INT8: snprintf(buf, size, "%d", v.i8); break;
    case QG_GGUF_UINT16: snprintf(buf, size, "%u", v.u16); break;
    case QG_GGUF_INT16: snprintf(buf, size, "%d", v.i16); break;
    case QG_GGUF_UINT32: snprintf(buf, size, "%" PRIu32, v.u32); break;
    case QG_GGUF_INT32: snprintf(buf, size, "%" PRId32, v.i32); break;
    case QG_GGUF_FLOAT32: snprintf(buf, size, "%g", v.f32); break;
    case QG_GGUF_BOOL: snprintf(buf, size, "%s", v.u8 ? "true" : "false"); break;
    case QG_GGUF_UINT64: snprintf(buf, size, "%" PRIu64, v.u64); break;
    case QG_GGUF_INT64: snprintf(buf, size, "%" PRId64, v.i64); break;
    case QG_GGUF_FLOAT64: snprintf(buf, size, "%g", v.f64); break;
    default: snprintf(buf, size, "?"); break;
    }
}

static size_t elem_size(qg_gguf_vtype t) {
    static const size_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return (unsigned)t < sizeof sizes / sizeof sizes[0] ? sizes[t] : 0;
}

static void str_text(qg_gguf_str s, char *buf, size_t size, size_t max) {
    size_t n = s.len < max ? (size_t)s.len : max;
    snprintf(buf, size, "\"%.*s\"%s", (int)n, s.data, s.len > max ? "..." : "");
}

/* A kv's value as one line: scalars, strings (shortened), arrays (summarised past 8). */
static void kv_text(const qg_gguf *g, int64_t i, char *buf, size_t size) {
    qg_gguf_vtype t = qg_gguf_kv_type(g, i);
    if (t == QG_GGUF_STRING) {
        str_text(qg_gguf_kv_str(g, i), buf, size, 200);
    } else if (t == QG_GGUF_ARRAY) {
        qg_gguf_vtype et = qg_gguf_arr_type(g, i);
        uint64_t n = qg_gguf_arr_n(g, i);
        size_t off = 0;
        bool summary = n > MAX_ARRAY_SHOWN;
        uint64_t shown = summary ? 3 : n;
        off += (size_t)snprintf(buf, size, summary ? "[%s x %" PRIu64 "] " : "[", vtype_name(et), n);
        const uint8_t *data = et != QG_GGUF_STRING && et != QG_GGUF_ARRAY ? qg_gguf_arr_data(g, i) : NULL;
        for (uint64_t j = 0; j < shown && off < size; j++) {
            char e[128];
            if (et == QG_GGUF_STRING) str_text(qg_gguf_arr_str(g, i, j), e, sizeof e, 40);
            else if (data) elem_text(et, data + j * elem_size(et), e, sizeof e);
            else snprintf(e, sizeof e, "[...]");
            off += (size_t)snprintf(buf + off, size - off, "%s%s", j ? ", " : "", e);
        }
        if (off < size) snprintf(buf + off, size - off, summary ? ", ..." : "]");
    } else {
        uint8_t raw[8] = {0};
        double d = 0;
        qg_gguf_kv_as_f64(g, i, &d);
        if (t == QG_GGUF_FLOAT32 || t == QG_GGUF_FLOAT64 || t == QG_GGUF_BOOL) {
            if (t == QG_GGUF_BOOL) raw[0] = d != 0;
            float f = (float)d;
            if (t == QG_GGUF_FLOAT32) memcpy(raw, &f, 4);
            if (t == QG_GGUF_FLOAT64) memcpy(raw, &d, 8);
            elem_text(t, raw, buf, size);
        } else {
            snprintf(buf, size, "%.0f", d);
        }
    }
}

typedef struct estimate {
    uint64_t bytes;
    int n_fallback;
} estimate;

static void estimate_all(const model_input *in, estimate *est) {
    quant_choice *plan = calloc((size_t)(in->n ? in->n : 1), sizeof *plan);
    for (int e = 0; e < N_EST; e++) {
        quant_target t;
        est[e] = (estimate){0, 0};
        if (!plan || !quant_target_parse(estimates[e].target, &t)) continue;
        quant_mix_plan(&t, &in->hints, in->t, in->n, plan);
        for (int64_t i = 0; i < in->n; i++) {
            est[e].bytes += quant_tensor_bytes(plan[i].type, in->t[i].ne);
            est[e].n_fallback += plan[i].fallback;
        }
    }
    free(plan);
}

/* Offset of a tensor's data: from the GGUF infos, or from the start of the safetensors
 * data (the lowest tensor address of the same shard). */
static uint64_t tensor_offset(const model_input *in, int64_t i) {
    if (in->gguf) return qg_gguf_tensor(in->gguf, i)->offset;
    const qg_st_tensor_info *ti = qg_st_tensor(in->st, i);
    const char *lo = in->data[i];
    for (int64_t j = 0; j < in->n; j++) {
        const qg_st_tensor_info *tj = qg_st_tensor(in->st, j);
        if (strcmp(tj->file, ti->file) == 0 && (const char *)in->data[j] < lo) lo = in->data[j];
    }
    return (uint64_t)((const char *)in->data[i] - lo);
}

static int64_t n_params(const model_input *in) {
    int64_t n = 0;
    for (int64_t i = 0; i < in->n; i++) n += in->t[i].ne[0] * in->t[i].ne[1] * in->t[i].ne[2] * in->t[i].ne[3];
    return n;
}

static void print_text(const model_input *in, const estimate *est) {
    printf("file:    %s\n", in->path);
    if (in->gguf)
        printf("format:  GGUF v%u (alignment %zu, data at %" PRIu64 ", %" PRIu64 " bytes)\n",
               qg_gguf_version(in->gguf), qg_gguf_alignment(in->gguf), qg_gguf_data_offset(in->gguf),
               qg_gguf_file_size(in->gguf));
    else
        printf("format:  safetensors\n");
    if (in->gguf) {
        printf("\nmetadata (%" PRId64 "):\n", qg_gguf_n_kv(in->gguf));
        for (int64_t i = 0; i < qg_gguf_n_kv(in->gguf); i++) {
            char v[2048];
            kv_text(in->gguf, i, v, sizeof v);
            printf("  %-40s %-4s %s\n", qg_gguf_key(in->gguf, i), vtype_name(qg_gguf_kv_type(in->gguf, i)), v);
        }
    } else {
        printf("\nmetadata (%" PRId64 "):\n", qg_st_n_meta(in->st));
        for (int64_t i = 0; i < qg_st_n_meta(in->st); i++)
            printf("  %-40s str  \"%s\"\n", qg_st_meta_key(in->st, i), qg_st_meta_value(in->st, i));
        if (in->config_path[0]) printf("  (config: %s)\n", in->config_path);
    }
    printf("\ntensors (%" PRId64 "):\n  %-48s %-10s %-28s %14s %14s\n", in->n, "name", "type", "shape", "bytes",
           "offset");
    for (int64_t i = 0; i < in->n; i++) {
        const quant_tensor_in *t = &in->t[i];
        char shape[96];
        size_t off = (size_t)snprintf(shape, sizeof shape, "[");
        for (int d = 0; d < t->n_dims && d < 4; d++)
            off += (size_t)snprintf(shape + off, sizeof shape - off, "%s%" PRId64, d ? ", " : "", t->ne[d]);
        snprintf(shape + off, sizeof shape - off, "]");
        printf("  %-48s %-10s %-28s %14" PRIu64 " %14" PRIu64 "\n", t->name, qg_type_name(t->type), shape, in->size[i],
               tensor_offset(in, i));
    }
    int64_t np = n_params(in);
    printf("\nparameters: %" PRId64 " (%.3f B)\n", np, np / 1e9);
    printf("\nweight memory by type (as `qg quantize` would write it):\n  %-10s %16s %12s %10s %s\n", "type", "bytes",
           "MiB", "bits/w", "fallbacks");
    for (int e = 0; e < N_EST; e++)
        printf("  %-10s %16" PRIu64 " %12.2f %10.3f %d\n", estimates[e].label, est[e].bytes, est[e].bytes / 1048576.0,
               np ? 8.0 * (double)est[e].bytes / (double)np : 0.0, est[e].n_fallback);
    printf("note: the KV cache and activations come on top of these figures.\n");
}

#ifdef QG_HAVE_JANSSON
static int print_json(const model_input *in, const estimate *est) {
    json_t *root = json_object();
    json_object_set_new(root, "file", json_string(in->path));
    json_object_set_new(root, "format", json_string(in->gguf ? "gguf" : "safetensors"));
    if (in->gguf) {
        json_object_set_new(root, "version", json_integer(qg_gguf_version(in->gguf)));
        json_object_set_new(root, "alignment", json_integer((json_int_t)qg_gguf_alignment(in->gguf)));
        json_object_set_new(root, "data_offset", json_integer((json_int_t)qg_gguf_data_offset(in->gguf)));
        json_object_set_new(root, "file_size", json_integer((json_int_t)qg_gguf_file_size(in->gguf)));
    }
    json_t *meta = json_array();
    if (in->gguf) {
        for (int64_t i = 0; i < qg_gguf_n_kv(in->gguf); i++) {
            char v[2048];
            kv_text(in->gguf, i, v, sizeof v);
            json_t *kv = json_object();
            json_object_set_new(kv, "key", json_string(qg_gguf_key(in->gguf, i)));
            json_object_set_new(kv, "type", json_string(vtype_name(qg_gguf_kv_type(in->gguf, i))));
            json_object_set_new(kv, "value", json_string(v));
            json_array_append_new(meta, kv);
        }
    } else {
        for (int64_t i = 0; i < qg_st_n_meta(in->st); i++) {
            json_t *kv = json_object();
            json_object_set_new(kv, "key", json_string(qg_st_meta_key(in->st, i)));
            json_object_set_new(kv, "type", json_string("str"));
            json_object_set_new(kv, "value", json_string(qg_st_meta_value(in->st, i)));
            json_array_append_new(meta, kv);
        }
    }
    json_object_set_new(root, "metadata", meta);
    json_t *tens = json_array();
    for (int64_t i = 0; i < in->n; i++) {
        json_t *t = json_object(), *shape = json_array();
        for (int d = 0; d < in->t[i].n_dims && d < 4; d++) json_array_append_new(shape, json_integer(in->t[i].ne[d]));
        json_object_set_new(t, "name", json_string(in->t[i].name));
        json_object_set_new(t, "type", json_string(qg_type_name(in->t[i].type)));
        json_object_set_new(t, "shape", shape);
        json_object_set_new(t, "bytes", json_integer((json_int_t)in->size[i]));
        json_object_set_new(t, "offset", json_integer((json_int_t)tensor_offset(in, i)));
        json_array_append_new(tens, t);
    }
    json_object_set_new(root, "tensors", tens);
    int64_t np = n_params(in);
    json_object_set_new(root, "n_params", json_integer(np));
    json_t *ests = json_array();
    for (int e = 0; e < N_EST; e++) {
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string(estimates[e].label));
        json_object_set_new(o, "target", json_string(estimates[e].target));
        json_object_set_new(o, "bytes", json_integer((json_int_t)est[e].bytes));
        json_object_set_new(o, "bits_per_weight", json_real(np ? 8.0 * (double)est[e].bytes / (double)np : 0.0));
        json_object_set_new(o, "fallbacks", json_integer(est[e].n_fallback));
        json_array_append_new(ests, o);
    }
    json_object_set_new(root, "memory_estimates", ests);
    json_object_set_new(root, "note", json_string("the KV cache and activations come on top of these figures"));
    char *s = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (!s) return 1;
    puts(s);
    free(s);
    return 0;
}
#endif

int cmd_info(int argc, char **argv) {
    const char *path = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = true;
        else if (!path && argv[i][0] != '-') path = argv[i];
        else {
            fprintf(stderr, "usage: qg info FILE [--json]\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: qg info FILE [--json]\n");
        return 2;
    }
#ifndef QG_HAVE_JANSSON
    if (json) {
        fprintf(stderr, "qg info: --json needs jansson, which this build lacks\n");
        return 2;
    }
#endif
    model_input in;
    if (model_input_open(path, &in) != QG_OK) {
        fprintf(stderr, "qg info: %s\n", qg_last_error());
        return 1;
    }
    estimate est[N_EST];
    estimate_all(&in, est);
    int rc = 0;
#ifdef QG_HAVE_JANSSON
    if (json) rc = print_json(&in, est);
    else print_text(&in, est);
#else
    print_text(&in, est);
#endif
    model_input_close(&in);
    return rc;
}
