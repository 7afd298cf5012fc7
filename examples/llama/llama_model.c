/* Loading a llama-architecture model: hyper-parameters from the GGUF `llama.*` keys and
 * the weight tensors by their llama.cpp names (token_embd, blk.N.attn_q, ...).
 *
 * Weights come from qg_model_load, which maps host-memory backends zero-copy. A split
 * loads the file a second time on the second backend and takes layers [split, n_layer)
 * and the output head from that copy; on host-memory backends both are mappings of the
 * same file, so only the pages each part reads become resident. Every expected tensor's
 * shape is checked against the hyper-parameters before anything is built on it.
 * A Hugging Face checkpoint is read through the same code: hyper-parameters from
 * config.json, each GGUF name mapped to its Hugging Face name, and the q/k rows put in
 * the order the graph's RoPE expects (reorder_qk).
 */
#define _POSIX_C_SOURCE 200809L
#include "llama_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_config.h"

/* Re-raise a metadata error with the file and key (the message is copied first: the
 * error buffer cannot be both source and destination of the formatting). */
static qg_status key_error(qg_status st, const char *path, const char *key) {
    char why[512];
    snprintf(why, sizeof why, "%s", qg_last_error());
    return qg_set_error(st, "%s: metadata key '%s': %s", path, key, why);
}

static qg_status get_int(const qg_gguf *g, const char *path, const char *key, bool required, int64_t def,
                         int64_t *out) {
    qg_status st = qg_gguf_get_i64(g, key, out);
    if (st == QG_ERR_NOT_FOUND && !required) {
        *out = def;
        return QG_OK;
    }
    if (st != QG_OK) return key_error(st, path, key);
    return QG_OK;
}

static qg_status get_float(const qg_gguf *g, const char *path, const char *key, double def, float *out) {
    double v;
    qg_status st = qg_gguf_get_f64(g, key, &v);
    if (st == QG_ERR_NOT_FOUND) v = def;
    else if (st != QG_OK) return key_error(st, path, key);
    *out = (float)v;
    return QG_OK;
}

qg_status qgl_hparams_read(const qg_gguf *g, const char *path, qgl_hparams *hp) {
    qg_gguf_str arch;
    if (qg_gguf_get_str(g, "general.architecture", &arch) != QG_OK)
        return qg_set_error(QG_ERR_FORMAT, "%s: no general.architecture key", path);
    if (arch.len != 5 || memcmp(arch.data, "llama", 5) != 0)
        return qg_set_error(QG_ERR_UNSUPPORTED, "%s: architecture '%.*s' is not supported (llama only)", path,
                            (int)(arch.len > 64 ? 64 : arch.len), arch.data);
    memset(hp, 0, sizeof *hp);
    qg_status st;
    if ((st = get_int(g, path, "llama.embedding_length", true, 0, &hp->n_embd)) != QG_OK ||
        (st = get_int(g, path, "llama.block_count", true, 0, &hp->n_layer)) != QG_OK ||
        (st = get_int(g, path, "llama.feed_forward_length", true, 0, &hp->n_ff)) != QG_OK ||
        (st = get_int(g, path, "llama.attention.head_count", true, 0, &hp->n_head)) != QG_OK ||
        (st = get_int(g, path, "llama.context_length", false, 2048, &hp->n_ctx_train)) != QG_OK)
        return st;
    if ((st = get_int(g, path, "llama.attention.head_count_kv", false, hp->n_head, &hp->n_head_kv)) != QG_OK)
        return st;
    if (hp->n_embd <= 0 || hp->n_embd > (1 << 16) || hp->n_layer <= 0 || hp->n_layer > 1024 || hp->n_ff <= 0 ||
        hp->n_head <= 0 || hp->n_head_kv <= 0 || hp->n_head % hp->n_head_kv != 0 || hp->n_embd % hp->n_head != 0)
        return qg_set_error(QG_ERR_FORMAT,
                            "%s: inconsistent hyper-parameters: n_embd %lld, n_layer %lld, n_ff %lld, n_head %lld, "
                            "n_head_kv %lld",
                            path, (long long)hp->n_embd, (long long)hp->n_layer, (long long)hp->n_ff,
                            (long long)hp->n_head, (long long)hp->n_head_kv);
    hp->head_dim = hp->n_embd / hp->n_head;
    if ((st = get_int(g, path, "llama.rope.dimension_count", false, hp->head_dim, &hp->n_rot)) != QG_OK) return st;
    if (hp->n_rot <= 0 || hp->n_rot > hp->head_dim || hp->n_rot % 2)
        return qg_set_error(QG_ERR_FORMAT, "%s: llama.rope.dimension_count %lld does not fit head size %lld", path,
                            (long long)hp->n_rot, (long long)hp->head_dim);
    float lin = 1.0f;
    if ((st = get_float(g, path, "llama.rope.freq_base", 10000.0, &hp->rope_base)) != QG_OK ||
        (st = get_float(g, path, "llama.rope.scale_linear", 1.0, &lin)) != QG_OK ||
        (st = get_float(g, path, "llama.attention.layer_norm_rms_epsilon", 1e-5, &hp->rms_eps)) != QG_OK)
        return st;
    if (!(hp->rope_base > 0) || !(lin > 0) || !(hp->rms_eps >= 0))
        return qg_set_error(QG_ERR_FORMAT, "%s: bad rope base %g, rope scale %g or rms epsilon %g", path,
                            (double)hp->rope_base, (double)lin, (double)hp->rms_eps);
    hp->rope_scale = 1.0f / lin;
    hp->n_vocab = 0; /* from the embedding matrix */
    int64_t nv;
    if (get_int(g, path, "llama.vocab_size", false, 0, &nv) == QG_OK) hp->n_vocab = nv;
    return QG_OK;
}

/* A stored tensor by its GGUF name (mapped to the Hugging Face name for such models). */
static qg_tensor *lookup(const qgl_model *m, const qg_model *src, const char *name, const char **stored) {
    static _Thread_local char buf[128];
    *stored = name;
    if (m->hf_dir) {
        if (!(*stored = qgl_hf_tensor_name(name, buf, sizeof buf))) return NULL;
    }
    return qg_model_tensor(src, *stored);
}

/* A weight by name with the expected shape (trailing dims 1). */
static qg_status want(const qgl_model *m, const qg_model *src, const char *path, const char *name, int64_t ne0,
                      int64_t ne1, qg_tensor **out) {
    const char *stored;
    qg_tensor *t = lookup(m, src, name, &stored);
    if (!t) return qg_set_error(QG_ERR_NOT_FOUND, "%s: tensor '%s' is missing", path, stored ? stored : name);
    if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 || t->ne[3] != 1)
        return qg_set_error(QG_ERR_SHAPE, "%s: tensor '%s' is [%lld, %lld, %lld, %lld], expected [%lld, %lld]", path,
                            stored, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                            (long long)t->ne[3], (long long)ne0, (long long)ne1);
    *out = t;
    return QG_OK;
}

static qg_status load_layer(const qgl_model *m, const char *path, int il, qgl_layer *L) {
    const qgl_hparams *hp = &m->hp;
    const qg_model *src = m->part[L->part];
    const int64_t n_embd_kv = hp->head_dim * hp->n_head_kv;
    char name[96];
    qg_status st;
#define WANT(field, suffix, a, b)                                                   \
    snprintf(name, sizeof name, "blk.%d.%s.weight", il, suffix);                   \
    if ((st = want(m, src, path, name, a, b, &L->field)) != QG_OK) return st;
    WANT(attn_norm, "attn_norm", hp->n_embd, 1);
    WANT(wq, "attn_q", hp->n_embd, hp->n_embd);
    WANT(wk, "attn_k", hp->n_embd, n_embd_kv);
    WANT(wv, "attn_v", hp->n_embd, n_embd_kv);
    WANT(wo, "attn_output", hp->n_embd, hp->n_embd);
    WANT(ffn_norm, "ffn_norm", hp->n_embd, 1);
    WANT(w_gate, "ffn_gate", hp->n_embd, hp->n_ff);
    WANT(w_up, "ffn_up", hp->n_embd, hp->n_ff);
    WANT(w_down, "ffn_down", hp->n_ff, hp->n_embd);
#undef WANT
    return QG_OK;
}

void qgl_model_free(qgl_model *m) {
    if (!m) return;
    free(m->layers);
    for (int i = 0; i < 2; i++) {
        qg_buffer_free(m->own_buf[i]);
        qg_context_free(m->own_ctx[i]);
        qg_model_free(m->part[i]);
    }
    free(m->hf_dir);
    free(m);
}

const qg_gguf *qgl_model_gguf(const qgl_model *m) { return m ? qg_model_gguf(m->part[0]) : NULL; }

static bool file_is_gguf(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char magic[4] = {0};
    size_t n = fread(magic, 1, 4, f);
    fclose(f);
    return n == 4 && memcmp(magic, "GGUF", 4) == 0;
}

/* Hugging Face q_proj/k_proj rows keep each head's two rotary halves apart (rotate_half);
 * the graph's RoPE (as llama.cpp's GGUF layout) rotates adjacent pairs. Row h*hd + 2i + j
 * of the re-ordered matrix is row h*hd + j*hd/2 + i of the stored one. Rows are whole
 * quantization blocks, so this works for every type, after a conversion too. The copies
 * live in one buffer per part (the originals may be a read-only file mapping). */
static qg_status reorder_qk(qgl_model *m) {
    const qgl_hparams *hp = &m->hp;
    qg_status st = QG_OK;
    for (int p = 0; p < m->n_parts && st == QG_OK; p++) st = qg_context_new(&m->own_ctx[p]);
    qg_tensor **fresh = calloc((size_t)hp->n_layer * 2, sizeof *fresh);
    if (!fresh) st = qg_set_error(QG_ERR_NO_MEMORY, "qgl_model_load: out of memory");
    for (int il = 0; il < hp->n_layer && st == QG_OK; il++) {
        const qgl_layer *L = &m->layers[il];
        qg_context *c = m->own_ctx[L->part];
        fresh[2 * il] = qg_set_name(qg_new_tensor_2d(c, L->wq->type, L->wq->ne[0], L->wq->ne[1]), "hf_q.%d", il);
        fresh[2 * il + 1] = qg_set_name(qg_new_tensor_2d(c, L->wk->type, L->wk->ne[0], L->wk->ne[1]), "hf_k.%d", il);
    }
    for (int p = 0; p < m->n_parts && st == QG_OK; p++) {
        if ((st = qg_context_status(m->own_ctx[p])) != QG_OK) break;
        st = qg_backend_alloc_ctx_tensors(m->part_be[p], m->own_ctx[p], &m->own_buf[p]);
    }
    size_t max_bytes = 0;
    for (int il = 0; il < hp->n_layer && st == QG_OK; il++)
        if (qg_nbytes(m->layers[il].wq) > max_bytes) max_bytes = qg_nbytes(m->layers[il].wq);
    uint8_t *a = st == QG_OK ? malloc(max_bytes ? max_bytes : 1) : NULL;
    uint8_t *b = st == QG_OK ? malloc(max_bytes ? max_bytes : 1) : NULL;
    if (st == QG_OK && (!a || !b)) st = qg_set_error(QG_ERR_NO_MEMORY, "qgl_model_load: out of memory");
    const int64_t hd = hp->head_dim;
    for (int il = 0; il < hp->n_layer && st == QG_OK; il++) {
        qgl_layer *L = &m->layers[il];
        for (int w = 0; w < 2 && st == QG_OK; w++) {
            qg_tensor *src = w ? L->wk : L->wq, *dst = fresh[2 * il + w];
            const size_t row = qg_row_size(src->type, src->ne[0]);
            const int64_t heads = src->ne[1] / hd;
            if ((st = qg_tensor_get(src, a, 0, qg_nbytes(src))) != QG_OK) break;
            for (int64_t h = 0; h < heads; h++)
                for (int64_t i = 0; i < hd / 2; i++)
                    for (int64_t j = 0; j < 2; j++)
                        memcpy(b + (size_t)(h * hd + 2 * i + j) * row, a + (size_t)(h * hd + j * hd / 2 + i) * row,
                               row);
            if ((st = qg_tensor_set(dst, b, 0, qg_nbytes(src))) != QG_OK) break;
            if (w) L->wk = dst;
            else L->wq = dst;
        }
    }
    free(a);
    free(b);
    free(fresh);
    return st;
}

/* Open part 0 and read the hyper-parameters from the GGUF or config.json. */
static qg_status open_first(qgl_model *m, const char *path, qg_backend *be, const qg_model_params *p) {
    char dir[4096];
    qg_status st;
    if (!file_is_gguf(path) && qgl_hf_checkpoint_dir(path, dir, sizeof dir)) {
        if (!(m->hf_dir = strdup(dir))) return qg_set_error(QG_ERR_NO_MEMORY, "qgl_model_load: out of memory");
        if ((st = qgl_hf_read_config(dir, &m->hp)) != QG_OK) return st;
        if ((st = qg_model_load(path, be, p, &m->part[0])) != QG_OK) return st;
        const qg_st *sf = qg_model_safetensors(m->part[0]);
        for (int64_t i = 0; sf && i < qg_st_n_tensors(sf); i++) m->file_size += qg_st_tensor(sf, i)->size;
        return QG_OK;
    }
    if ((st = qg_model_load(path, be, p, &m->part[0])) != QG_OK) return st;
    const qg_gguf *g = qg_model_gguf(m->part[0]);
    if (!g)
        return qg_set_error(QG_ERR_UNSUPPORTED,
                            "%s: not a GGUF file, and no config.json beside it (llama models are read from GGUF or "
                            "a Hugging Face checkpoint directory)",
                            path);
    m->file_size = qg_gguf_file_size(g);
    return qgl_hparams_read(g, path, &m->hp);
}

qg_status qgl_model_load(const char *path, qg_backend *const *backends, int n_backends, int split,
                         qgl_model **out) {
    return qgl_model_load_ex(path, backends, n_backends, split, -1, out);
}

qg_status qgl_model_load_ex(const char *path, qg_backend *const *backends, int n_backends, int split, int convert_to,
                            qgl_model **out) {
    if (!path || !backends || n_backends < 1 || !backends[0] || !out)
        return qg_set_error(QG_ERR_INVALID_ARG, "qgl_model_load: bad arguments");
    *out = NULL;
    qgl_model *m = calloc(1, sizeof *m);
    if (!m) return qg_set_error(QG_ERR_NO_MEMORY, "qgl_model_load: out of memory");
    qg_model_params p = qg_model_default_params();
    p.convert_to = convert_to < 0 ? -1 : convert_to;
    qg_status st = open_first(m, path, backends[0], &p);
    if (st != QG_OK) goto fail;
    m->part_be[0] = backends[0];
    m->n_parts = 1;
    qgl_hparams *hp = &m->hp;
    m->split = (int)hp->n_layer;
    if (split > 0 && split < hp->n_layer) {
        if (n_backends < 2 || !backends[1]) {
            st = qg_set_error(QG_ERR_INVALID_ARG, "--split %d needs two backends", split);
            goto fail;
        }
        if ((st = qg_model_load(path, backends[1], &p, &m->part[1])) != QG_OK) goto fail;
        m->part_be[1] = backends[1];
        m->n_parts = 2;
        m->split = split;
    } else if (split != 0 && split != hp->n_layer) {
        st = qg_set_error(QG_ERR_INVALID_ARG, "split %d is outside 0..%lld", split, (long long)hp->n_layer);
        goto fail;
    }
    const qg_model *last = m->part[m->n_parts - 1];
    const char *stored;
    qg_tensor *emb = lookup(m, m->part[0], "token_embd.weight", &stored);
    if (!emb || emb->ne[0] != hp->n_embd || emb->ne[2] != 1 || emb->ne[3] != 1 || emb->ne[1] < 1) {
        st = qg_set_error(QG_ERR_FORMAT, "%s: %s is missing or not [%lld, n_vocab]", path, stored,
                          (long long)hp->n_embd);
        goto fail;
    }
    if (hp->n_vocab == 0) hp->n_vocab = emb->ne[1];
    if (emb->ne[1] != hp->n_vocab) {
        st = qg_set_error(QG_ERR_FORMAT, "%s: %s has %lld rows, the vocabulary size is %lld", path, stored,
                          (long long)emb->ne[1], (long long)hp->n_vocab);
        goto fail;
    }
    m->tok_embd = emb;
    if ((st = want(m, last, path, "output_norm.weight", hp->n_embd, 1, &m->out_norm)) != QG_OK) goto fail;
    if (lookup(m, last, "output.weight", &stored)) {
        if ((st = want(m, last, path, "output.weight", hp->n_embd, hp->n_vocab, &m->output)) != QG_OK) goto fail;
    } else {
        m->output = lookup(m, last, "token_embd.weight", &stored);
        m->tied_output = true;
    }
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) {
        st = qg_set_error(QG_ERR_NO_MEMORY, "qgl_model_load: out of memory");
        goto fail;
    }
    for (int il = 0; il < hp->n_layer; il++) {
        m->layers[il].part = il < m->split ? 0 : 1;
        if ((st = load_layer(m, path, il, &m->layers[il])) != QG_OK) goto fail;
    }
    if (m->hf_dir && (st = reorder_qk(m)) != QG_OK) goto fail;
    *out = m;
    return QG_OK;
fail:
    qgl_model_free(m);
    return st;
}
