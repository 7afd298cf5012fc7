/* The tensor table of a GGUF or safetensors checkpoint as one list (model_input.h), plus
 * the hints the quantization mixes use: head counts, expert count, block count and the
 * architecture, from GGUF metadata or from a config.json beside safetensors files.
 */
#define _POSIX_C_SOURCE 200809L
#include "model_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef QG_HAVE_JANSSON
#include <jansson.h>
#endif

static bool file_is_gguf(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char magic[4] = {0};
    size_t n = fread(magic, 1, 4, f);
    fclose(f);
    return n == 4 && memcmp(magic, "GGUF", 4) == 0;
}

static int64_t gguf_int(const qg_gguf *g, const char *arch, const char *suffix) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int64_t v = 0;
    if (qg_gguf_get_i64(g, key, &v) != QG_OK) v = 0;
    return v;
}

static void gguf_hints(const qg_gguf *g, quant_hints *h) {
    qg_gguf_str s;
    char arch[128] = "";
    if (qg_gguf_get_str(g, "general.architecture", &s) == QG_OK && s.len < sizeof arch) {
        memcpy(arch, s.data, s.len);
        arch[s.len] = '\0';
    }
    if (!arch[0]) return;
    h->falcon = strcmp(arch, "falcon") == 0;
    h->n_head = gguf_int(g, arch, "attention.head_count");
    h->n_head_kv = gguf_int(g, arch, "attention.head_count_kv");
    if (h->n_head_kv == 0) h->n_head_kv = h->n_head;
    h->n_expert = gguf_int(g, arch, "expert_count");
    h->n_layer = gguf_int(g, arch, "block_count");
    qg_clear_error();
}

static void find_config(const char *path, char *out, size_t size) {
    struct stat sb;
    out[0] = '\0';
    if (stat(path, &sb) != 0) return;
    if (S_ISDIR(sb.st_mode)) {
        snprintf(out, size, "%s/config.json", path);
    } else {
        const char *slash = strrchr(path, '/');
        if (slash) snprintf(out, size, "%.*s/config.json", (int)(slash - path), path);
        else snprintf(out, size, "config.json");
    }
    if (stat(out, &sb) != 0 || !S_ISREG(sb.st_mode)) out[0] = '\0';
}

#ifdef QG_HAVE_JANSSON
static int64_t json_int(json_t *root, const char *key) {
    json_t *v = json_object_get(root, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static void config_hints(const char *config, quant_hints *h) {
    json_t *root = json_load_file(config, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return;
    }
    h->n_head = json_int(root, "num_attention_heads");
    h->n_head_kv = json_int(root, "num_key_value_heads");
    if (h->n_head_kv == 0) h->n_head_kv = h->n_head;
    h->n_expert = json_int(root, "num_local_experts");
    if (h->n_expert == 0) h->n_expert = json_int(root, "num_experts");
    h->n_layer = json_int(root, "num_hidden_layers");
    const char *mt = json_string_value(json_object_get(root, "model_type"));
    h->falcon = mt && strcmp(mt, "falcon") == 0;
    json_decref(root);
}
#else
static void config_hints(const char *config, quant_hints *h) {
    (void)config;
    (void)h;
}
#endif

static qg_status alloc_lists(model_input *in) {
    size_t n = (size_t)(in->n ? in->n : 1);
    in->t = calloc(n, sizeof *in->t);
    in->data = calloc(n, sizeof *in->data);
    in->size = calloc(n, sizeof *in->size);
    if (!in->t || !in->data || !in->size) return qg_set_error(QG_ERR_NO_MEMORY, "%s: out of memory", in->path);
    return QG_OK;
}

static qg_status describe_st(model_input *in) {
    for (int64_t i = 0; i < in->n; i++) {
        const qg_st_tensor_info *ti = qg_st_tensor(in->st, i);
        int type = qg_st_dtype_to_type(ti->dtype);
        if (type < 0)
            return qg_set_error(QG_ERR_UNSUPPORTED, "%s: tensor '%s': dtype %s has no qgraph type", in->path,
                                ti->name, ti->dtype_name);
        if (ti->n_dims > 4)
            return qg_set_error(QG_ERR_UNSUPPORTED, "%s: tensor '%s' has %d dimensions (at most 4 are supported)",
                                in->path, ti->name, ti->n_dims);
        quant_tensor_in *t = &in->t[i];
        *t = (quant_tensor_in){ti->name, (qg_type)type, ti->n_dims > 0 ? ti->n_dims : 1, {1, 1, 1, 1}};
        for (int d = 0; d < ti->n_dims; d++) t->ne[d] = ti->shape[ti->n_dims - 1 - d];
        in->data[i] = ti->data;
        in->size[i] = ti->size;
    }
    return QG_OK;
}

qg_status model_input_open(const char *path, model_input *in) {
    memset(in, 0, sizeof *in);
    in->path = path;
    qg_status st;
    if (file_is_gguf(path)) {
        if ((st = qg_gguf_open(path, &in->gguf)) != QG_OK) return st;
        in->n = qg_gguf_n_tensors(in->gguf);
        if ((st = alloc_lists(in)) != QG_OK) goto fail;
        for (int64_t i = 0; i < in->n; i++) {
            const qg_gguf_tensor_info *ti = qg_gguf_tensor(in->gguf, i);
            in->t[i] = (quant_tensor_in){ti->name, ti->type, ti->n_dims > 0 ? ti->n_dims : 1,
                                         {ti->ne[0], ti->ne[1], ti->ne[2], ti->ne[3]}};
            in->data[i] = ti->data;
            in->size[i] = ti->size;
        }
        gguf_hints(in->gguf, &in->hints);
        return QG_OK;
    }
    if ((st = qg_st_open(path, &in->st)) != QG_OK) return st;
    in->n = qg_st_n_tensors(in->st);
    if ((st = alloc_lists(in)) != QG_OK || (st = describe_st(in)) != QG_OK) goto fail;
    find_config(path, in->config_path, sizeof in->config_path);
    if (in->config_path[0]) config_hints(in->config_path, &in->hints);
    return QG_OK;
fail:
    model_input_close(in);
    return st;
}

void model_input_close(model_input *in) {
    qg_gguf_close(in->gguf);
    qg_st_close(in->st);
    free(in->t);
    free(in->data);
    free(in->size);
    memset(in, 0, sizeof *in);
}
