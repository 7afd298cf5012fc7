/* Hugging Face llama checkpoints: the directory test, config.json -> qgl_hparams with the
 * defaults of transformers' LlamaConfig for absent keys, and the GGUF -> Hugging Face
 * tensor-name table. Settings the graph does not implement (biases, other activations,
 * rope scaling other than linear, a head size other than hidden_size / heads) are refused
 * with the field's name instead of being ignored.
 */
#define _POSIX_C_SOURCE 200809L
#include "hf_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef QG_HAVE_JANSSON
#include <jansson.h>
#endif

bool qgl_hf_checkpoint_dir(const char *path, char *dir, size_t size) {
    struct stat sb;
    if (!path || stat(path, &sb) != 0) return false;
    if (S_ISDIR(sb.st_mode)) {
        snprintf(dir, size, "%s", path);
    } else {
        const char *slash = strrchr(path, '/');
        if (slash) snprintf(dir, size, "%.*s", (int)(slash - path), path);
        else snprintf(dir, size, ".");
        if (!slash && strlen(path) == 0) return false;
    }
    char cfg[4096];
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    return stat(cfg, &sb) == 0 && S_ISREG(sb.st_mode);
}

static const struct {
    const char *gguf, *hf;
} LAYER_NAMES[] = {
    {"attn_norm", "input_layernorm"},      {"attn_q", "self_attn.q_proj"}, {"attn_k", "self_attn.k_proj"},
    {"attn_v", "self_attn.v_proj"},        {"attn_output", "self_attn.o_proj"},
    {"ffn_norm", "post_attention_layernorm"}, {"ffn_gate", "mlp.gate_proj"}, {"ffn_up", "mlp.up_proj"},
    {"ffn_down", "mlp.down_proj"},
};

const char *qgl_hf_tensor_name(const char *name, char *buf, size_t size) {
    if (!strcmp(name, "token_embd.weight")) snprintf(buf, size, "model.embed_tokens.weight");
    else if (!strcmp(name, "output_norm.weight")) snprintf(buf, size, "model.norm.weight");
    else if (!strcmp(name, "output.weight")) snprintf(buf, size, "lm_head.weight");
    else {
        int il, used = 0;
        char part[32];
        if (sscanf(name, "blk.%d.%31[a-z_].weight%n", &il, part, &used) != 2 || name[used] != '\0' || il < 0)
            return NULL;
        for (size_t i = 0; i < sizeof LAYER_NAMES / sizeof LAYER_NAMES[0]; i++)
            if (!strcmp(part, LAYER_NAMES[i].gguf)) {
                snprintf(buf, size, "model.layers.%d.%s.weight", il, LAYER_NAMES[i].hf);
                return buf;
            }
        return NULL;
    }
    return buf;
}

#ifdef QG_HAVE_JANSSON
static qg_status get_int(json_t *root, const char *path, const char *key, bool required, int64_t def,
                         int64_t *out) {
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v)) {
        if (required) return qg_set_error(QG_ERR_FORMAT, "%s: '%s' is missing", path, key);
        *out = def;
        return QG_OK;
    }
    if (!json_is_integer(v)) return qg_set_error(QG_ERR_FORMAT, "%s: '%s' is not an integer", path, key);
    *out = (int64_t)json_integer_value(v);
    return QG_OK;
}

static qg_status get_num(json_t *root, const char *path, const char *key, double def, float *out) {
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v)) {
        *out = (float)def;
        return QG_OK;
    }
    if (!json_is_number(v)) return qg_set_error(QG_ERR_FORMAT, "%s: '%s' is not a number", path, key);
    *out = (float)json_number_value(v);
    return QG_OK;
}

/* Features of config.json the llama graph does not have. */
static qg_status check_unsupported(json_t *root, const char *path, float *rope_scale) {
    const char *mt = json_string_value(json_object_get(root, "model_type"));
    if (!mt || strcmp(mt, "llama") != 0)
        return qg_set_error(QG_ERR_UNSUPPORTED, "%s: model_type '%s' is not supported (llama only)", path,
                            mt ? mt : "(none)");
    const char *act = json_string_value(json_object_get(root, "hidden_act"));
    if (act && strcmp(act, "silu") != 0)
        return qg_set_error(QG_ERR_UNSUPPORTED, "%s: hidden_act '%s' is not supported (silu only)", path, act);
    if (json_is_true(json_object_get(root, "attention_bias")) || json_is_true(json_object_get(root, "mlp_bias")))
        return qg_set_error(QG_ERR_UNSUPPORTED, "%s: attention_bias / mlp_bias are not supported", path);
    json_t *rs = json_object_get(root, "rope_scaling");
    *rope_scale = 1.0f;
    if (rs && !json_is_null(rs)) {
        const char *type = json_string_value(json_object_get(rs, "rope_type"));
        if (!type) type = json_string_value(json_object_get(rs, "type"));
        json_t *factor = json_object_get(rs, "factor");
        if (!type || strcmp(type, "linear") != 0 || !json_is_number(factor) || !(json_number_value(factor) > 0))
            return qg_set_error(QG_ERR_UNSUPPORTED, "%s: rope_scaling '%s' is not supported (linear only)", path,
                                type ? type : "?");
        *rope_scale = (float)(1.0 / json_number_value(factor));
    }
    return QG_OK;
}

static qg_status read_hparams(json_t *root, const char *path, qgl_hparams *hp) {
    memset(hp, 0, sizeof *hp);
    qg_status st;
    int64_t head_dim = 0;
    if ((st = check_unsupported(root, path, &hp->rope_scale)) != QG_OK ||
        (st = get_int(root, path, "hidden_size", true, 0, &hp->n_embd)) != QG_OK ||
        (st = get_int(root, path, "num_hidden_layers", true, 0, &hp->n_layer)) != QG_OK ||
        (st = get_int(root, path, "intermediate_size", true, 0, &hp->n_ff)) != QG_OK ||
        (st = get_int(root, path, "num_attention_heads", true, 0, &hp->n_head)) != QG_OK ||
        (st = get_int(root, path, "vocab_size", true, 0, &hp->n_vocab)) != QG_OK ||
        (st = get_int(root, path, "max_position_embeddings", false, 2048, &hp->n_ctx_train)) != QG_OK ||
        (st = get_int(root, path, "num_key_value_heads", false, hp->n_head, &hp->n_head_kv)) != QG_OK ||
        (st = get_num(root, path, "rope_theta", 10000.0, &hp->rope_base)) != QG_OK ||
        (st = get_num(root, path, "rms_norm_eps", 1e-6, &hp->rms_eps)) != QG_OK)
        return st;
    if (hp->n_embd <= 0 || hp->n_embd > (1 << 16) || hp->n_layer <= 0 || hp->n_layer > 1024 || hp->n_ff <= 0 ||
        hp->n_head <= 0 || hp->n_head_kv <= 0 || hp->n_head % hp->n_head_kv != 0 || hp->n_embd % hp->n_head != 0 ||
        hp->n_vocab <= 0 || hp->n_vocab > (1 << 24))
        return qg_set_error(QG_ERR_FORMAT,
                            "%s: inconsistent hyper-parameters: hidden_size %lld, num_hidden_layers %lld, "
                            "intermediate_size %lld, num_attention_heads %lld, num_key_value_heads %lld, vocab_size %lld",
                            path, (long long)hp->n_embd, (long long)hp->n_layer, (long long)hp->n_ff,
                            (long long)hp->n_head, (long long)hp->n_head_kv, (long long)hp->n_vocab);
    hp->head_dim = hp->n_rot = hp->n_embd / hp->n_head;
    if ((st = get_int(root, path, "head_dim", false, hp->head_dim, &head_dim)) != QG_OK) return st;
    if (head_dim != hp->head_dim)
        return qg_set_error(QG_ERR_UNSUPPORTED, "%s: head_dim %lld differs from hidden_size / num_attention_heads",
                            path, (long long)head_dim);
    if (hp->n_rot % 2 || !(hp->rope_base > 0) || !(hp->rms_eps >= 0))
        return qg_set_error(QG_ERR_FORMAT, "%s: bad head size %lld, rope_theta %g or rms_norm_eps %g", path,
                            (long long)hp->n_rot, (double)hp->rope_base, (double)hp->rms_eps);
    return QG_OK;
}

qg_status qgl_hf_read_config(const char *dir, qgl_hparams *hp) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!json_is_object(root)) {
        json_decref(root);
        return qg_set_error(QG_ERR_FORMAT, "%s: %s (line %d)", path, root ? "not a JSON object" : err.text, err.line);
    }
    qg_status st = read_hparams(root, path, hp);
    json_decref(root);
    return st;
}
#else
qg_status qgl_hf_read_config(const char *dir, qgl_hparams *hp) {
    (void)hp;
    return qg_set_error(QG_ERR_UNSUPPORTED, "%s/config.json: reading it needs a build with jansson", dir);
}
#endif
