/* The llama forward pass as a qgraph graph, for a batch of n_tokens tokens at positions
 * n_past.. on top of a KV cache (layout in llama_graph.h).
 *
 * Per layer: RMSNorm -> Q, K, V projections -> RoPE (adjacent pairs, QG_ROPE_NORMAL) on
 * Q and K -> K and V written into the cache with set_rows -> scores K^T Q per head (the
 * n_head query heads share n_head_kv cache heads through mul_mat's broadcast over dim 2)
 * -> softmax with 1/sqrt(head_dim) scaling and a causal mask -> V * P -> output
 * projection and residual; then RMSNorm -> SwiGLU FFN (silu(gate) * up -> down) and
 * residual. Finally RMSNorm and the output head (separate or tied to the embedding).
 * qgl_kv_move (the context shift) is a second, small graph over the same caches:
 * get_rows -> rope by the position delta -> set_rows for keys, get_rows -> set_rows for
 * the transposed values.
 */
#include "llama_graph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

qg_status qgl_kv_init(qgl_kv *kv, const qgl_model *m, int64_t n_ctx, qg_type type) {
    memset(kv, 0, sizeof *kv);
    const qgl_hparams *hp = &m->hp;
    if (n_ctx < 1 || n_ctx > (1 << 20))
        return qg_set_error(QG_ERR_INVALID_ARG, "context size %lld is outside 1..%d", (long long)n_ctx, 1 << 20);
    if (type != QG_TYPE_F16 && type != QG_TYPE_F32)
        return qg_set_error(QG_ERR_UNSUPPORTED, "KV cache type %s (F16 or F32 expected)", qg_type_name(type));
    kv->type = type;
    kv->n_ctx = n_ctx;
    kv->k = calloc((size_t)hp->n_layer, sizeof *kv->k);
    kv->v = calloc((size_t)hp->n_layer, sizeof *kv->v);
    if (!kv->k || !kv->v) {
        qgl_kv_free(kv);
        return qg_set_error(QG_ERR_NO_MEMORY, "KV cache: out of memory");
    }
    const int64_t n_embd_kv = hp->head_dim * hp->n_head_kv;
    qg_status st = QG_OK;
    for (int p = 0; p < m->n_parts && st == QG_OK; p++) {
        if ((st = qg_context_new(&kv->ctx[p])) != QG_OK) break;
        for (int il = 0; il < hp->n_layer; il++) {
            if (m->layers[il].part != p) continue;
            kv->k[il] = qg_set_name(qg_new_tensor_2d(kv->ctx[p], type, n_embd_kv, n_ctx), "cache_k.%d", il);
            kv->v[il] = qg_set_name(qg_new_tensor_2d(kv->ctx[p], type, n_ctx, n_embd_kv), "cache_v.%d", il);
        }
        if ((st = qg_context_status(kv->ctx[p])) != QG_OK) {
            st = qg_set_error(st, "KV cache: %s", qg_context_error(kv->ctx[p]));
            break;
        }
        st = qg_backend_alloc_ctx_tensors(m->part_be[p], kv->ctx[p], &kv->buf[p]);
    }
    if (st != QG_OK) {
        qgl_kv_free(kv);
        return st;
    }
    /* Start from zeros: no stale NaN can leak into a product even through a bug. */
    size_t row = qg_row_size(type, n_embd_kv) * (size_t)n_ctx;
    void *zeros = calloc(1, row);
    if (!zeros) {
        qgl_kv_free(kv);
        return qg_set_error(QG_ERR_NO_MEMORY, "KV cache: out of memory");
    }
    for (int il = 0; il < hp->n_layer && st == QG_OK; il++) {
        st = qg_tensor_set(kv->k[il], zeros, 0, row);
        if (st == QG_OK) st = qg_tensor_set(kv->v[il], zeros, 0, row);
        kv->bytes += 2 * row;
    }
    free(zeros);
    if (st != QG_OK) qgl_kv_free(kv);
    return st;
}

void qgl_kv_free(qgl_kv *kv) {
    for (int p = 0; p < 2; p++) {
        qg_buffer_free(kv->buf[p]);
        qg_context_free(kv->ctx[p]);
    }
    free(kv->k);
    free(kv->v);
    memset(kv, 0, sizeof *kv);
}

void qgl_batch_free(qgl_batch_graph *b) {
    qg_graph_free(b->graph);
    qg_context_free(b->ctx);
    memset(b, 0, sizeof *b);
}

static qg_tensor *norm(qg_context *c, qg_tensor *x, qg_tensor *w, float eps) {
    return qg_mul(c, qg_rms_norm(c, x, eps), w);
}

/* Self-attention of one layer; x is the normalised input [n_embd, n]. */
static qg_tensor *attention(qg_context *c, const qgl_model *m, const qgl_kv *kv, const qgl_batch_graph *b,
                            int il, qg_tensor *x) {
    const qgl_hparams *hp = &m->hp;
    const qgl_layer *L = &m->layers[il];
    const int64_t n = b->n_tokens, hd = hp->head_dim, n_kv = b->n_kv;
    const int64_t n_embd_kv = hd * hp->n_head_kv;
    const size_t esz = qg_row_size(kv->type, 1);

    qg_tensor *q = qg_reshape_3d(c, qg_mul_mat(c, L->wq, x), hd, hp->n_head, n);
    qg_tensor *k = qg_reshape_3d(c, qg_mul_mat(c, L->wk, x), hd, hp->n_head_kv, n);
    qg_tensor *v = qg_mul_mat(c, L->wv, x); /* [n_embd_kv, n] */
    q = qg_rope(c, q, b->pos, (int)hp->n_rot, QG_ROPE_NORMAL, hp->rope_base, hp->rope_scale);
    k = qg_rope(c, k, b->pos, (int)hp->n_rot, QG_ROPE_NORMAL, hp->rope_base, hp->rope_scale);

    /* Write the new rows; later reads view the results so they come after the writes. */
    qg_tensor *kw = qg_set_rows(c, kv->k[il], qg_reshape_2d(c, k, n_embd_kv, n), b->pos);
    qg_tensor *vdst = qg_view_3d(c, kv->v[il], 1, kv->n_ctx, n_embd_kv, esz, esz * (size_t)kv->n_ctx, 0);
    qg_tensor *vsrc = v ? qg_view_3d(c, v, 1, n, n_embd_kv, v->nb[1], v->nb[0], 0) : NULL;
    qg_tensor *vw = qg_set_rows(c, vdst, vsrc, b->vids);
    if (!kw || !vw) return NULL;

    qg_tensor *kview = qg_view_3d(c, kw, hd, n_kv, hp->n_head_kv, kw->nb[1], esz * (size_t)hd, 0);
    qg_tensor *vview = qg_view_3d(c, vw, n_kv, hd, hp->n_head_kv, esz * (size_t)kv->n_ctx,
                                  esz * (size_t)kv->n_ctx * (size_t)hd, 0);
    qg_tensor *qp = qg_permute(c, q, 0, 2, 1, 3);                 /* [hd, n, n_head] */
    qg_tensor *kq = qg_mul_mat(c, kview, qp);                     /* [n_kv, n, n_head] */
    kq = qg_soft_max(c, kq, b->mask, 1.0f / sqrtf((float)hd));
    qg_tensor *kqv = qg_mul_mat(c, vview, kq);                    /* [hd, n, n_head] */
    qg_tensor *o = qg_cont(c, qg_permute(c, kqv, 0, 2, 1, 3));    /* [hd, n_head, n] */
    o = qg_reshape_2d(c, o, hp->n_embd, n);
    return qg_set_name(qg_mul_mat(c, L->wo, o), "attn_out.%d", il);
}

static qg_tensor *ffn(qg_context *c, const qgl_layer *L, qg_tensor *x) {
    qg_tensor *g = qg_silu(c, qg_mul_mat(c, L->w_gate, x));
    qg_tensor *u = qg_mul_mat(c, L->w_up, x);
    return qg_mul_mat(c, L->w_down, qg_mul(c, g, u));
}

qg_status qgl_build_batch(const qgl_model *m, const qgl_kv *kv, int n_tokens, int n_past, bool all_logits,
                          qgl_batch_graph *b) {
    memset(b, 0, sizeof *b);
    const qgl_hparams *hp = &m->hp;
    if (n_tokens < 1 || n_past < 0 || (int64_t)n_past + n_tokens > kv->n_ctx)
        return qg_set_error(QG_ERR_INVALID_ARG, "batch of %d tokens at position %d does not fit the context of %lld",
                            n_tokens, n_past, (long long)kv->n_ctx);
    qg_status st = qg_context_new(&b->ctx);
    if (st != QG_OK) return st;
    qg_context *c = b->ctx;
    b->n_tokens = n_tokens;
    b->n_past = n_past;
    b->n_kv = n_past + n_tokens;
    b->all_logits = all_logits;
    const int64_t n_embd_kv = hp->head_dim * hp->n_head_kv;

    b->tokens = qg_set_name(qg_new_tensor_1d(c, QG_TYPE_I32, n_tokens), "tokens");
    b->pos = qg_set_name(qg_new_tensor_1d(c, QG_TYPE_I32, n_tokens), "positions");
    b->vids = qg_set_name(qg_new_tensor_2d(c, QG_TYPE_I32, n_tokens, n_embd_kv), "v_rows");
    b->mask = qg_set_name(qg_new_tensor_2d(c, QG_TYPE_F32, b->n_kv, n_tokens), "kq_mask");
    qg_set_input(b->tokens);
    qg_set_input(b->pos);
    qg_set_input(b->vids);
    qg_set_input(b->mask);

    qg_tensor *x = qg_get_rows(c, m->tok_embd, b->tokens); /* [n_embd, n] */
    for (int il = 0; il < hp->n_layer; il++) {
        const qgl_layer *L = &m->layers[il];
        qg_tensor *h = qg_add(c, attention(c, m, kv, b, il, norm(c, x, L->attn_norm, hp->rms_eps)), x);
        x = qg_add(c, ffn(c, L, norm(c, h, L->ffn_norm, hp->rms_eps)), h);
        qg_set_name(x, "layer_out.%d", il);
    }
    if (!all_logits && n_tokens > 1 && x) x = qg_view_2d(c, x, hp->n_embd, 1, x->nb[1], x->nb[1] * (size_t)(n_tokens - 1));
    x = norm(c, x, m->out_norm, hp->rms_eps);
    b->logits = qg_set_name(qg_mul_mat(c, m->output, x), "logits");
    if ((st = qg_context_status(c)) != QG_OK) {
        st = qg_set_error(st, "building the llama graph: %s", qg_context_error(c));
        qgl_batch_free(b);
        return st;
    }
    qg_set_output(b->logits);
    if ((st = qg_graph_new(&b->graph)) == QG_OK) st = qg_graph_add(b->graph, b->logits);
    if (st != QG_OK) qgl_batch_free(b);
    return st;
}

qg_status qgl_batch_set_inputs(const qgl_batch_graph *b, const qgl_model *m, const int32_t *tokens) {
    const int n = b->n_tokens, n_kv = b->n_kv;
    const int64_t n_embd_kv = m->hp.head_dim * m->hp.n_head_kv;
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= m->hp.n_vocab)
            return qg_set_error(QG_ERR_INVALID_ARG, "token %d at batch index %d is outside the vocabulary of %lld",
                                tokens[i], i, (long long)m->hp.n_vocab);
    size_t n_vids = (size_t)n * (size_t)n_embd_kv, n_mask = (size_t)n_kv * (size_t)n;
    int32_t *ids = malloc(n_vids * sizeof *ids);
    float *mask = malloc(n_mask * sizeof *mask);
    if (!ids || !mask) {
        free(ids);
        free(mask);
        return qg_set_error(QG_ERR_NO_MEMORY, "batch inputs: out of memory");
    }
    for (int64_t r = 0; r < n_embd_kv; r++)
        for (int i = 0; i < n; i++) ids[(size_t)r * (size_t)n + (size_t)i] = b->n_past + i;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n_kv; j++) mask[(size_t)i * (size_t)n_kv + (size_t)j] = j <= b->n_past + i ? 0.0f : -INFINITY;
    qg_status st = qg_tensor_set(b->tokens, tokens, 0, (size_t)n * sizeof(int32_t));
    if (st == QG_OK) st = qg_tensor_set(b->pos, ids, 0, (size_t)n * sizeof(int32_t));
    if (st == QG_OK) st = qg_tensor_set(b->vids, ids, 0, n_vids * sizeof *ids);
    if (st == QG_OK) st = qg_tensor_set(b->mask, mask, 0, n_mask * sizeof *mask);
    free(ids);
    free(mask);
    return st;
}

qg_status qgl_kv_move(const qgl_model *m, const qgl_kv *kv, qg_sched *sched, int dst, int src, int n) {
    const qgl_hparams *hp = &m->hp;
    if (n < 1 || dst < 0 || dst >= src || (int64_t)src + n > kv->n_ctx)
        return qg_set_error(QG_ERR_INVALID_ARG, "KV move of %d positions from %d to %d does not fit the context of %lld",
                            n, src, dst, (long long)kv->n_ctx);
    const int64_t hd = hp->head_dim, n_embd_kv = hd * hp->n_head_kv, n_ctx = kv->n_ctx;
    const size_t esz = qg_row_size(kv->type, 1);
    qg_context *c;
    qg_graph *g = NULL;
    qg_status st = qg_context_new(&c);
    if (st != QG_OK) return st;
    qg_tensor *from = qg_set_name(qg_new_tensor_1d(c, QG_TYPE_I32, n), "shift_from");
    qg_tensor *to = qg_set_name(qg_new_tensor_1d(c, QG_TYPE_I32, n), "shift_to");
    qg_tensor *delta = qg_set_name(qg_new_tensor_1d(c, QG_TYPE_I32, n), "shift_delta");
    qg_tensor *vfrom = qg_set_name(qg_new_tensor_2d(c, QG_TYPE_I32, n, n_embd_kv), "shift_v_from");
    qg_tensor *vto = qg_set_name(qg_new_tensor_2d(c, QG_TYPE_I32, n, n_embd_kv), "shift_v_to");
    qg_tensor *in[] = {from, to, delta, vfrom, vto};
    for (int i = 0; i < 5; i++) qg_set_input(in[i]);
    st = qg_graph_new(&g);
    for (int il = 0; il < hp->n_layer && st == QG_OK; il++) {
        /* Keys: gather the rows (as F32), rotate by the position delta, write them back. */
        qg_tensor *k = qg_reshape_3d(c, qg_get_rows(c, kv->k[il], from), hd, hp->n_head_kv, n);
        k = qg_rope(c, k, delta, (int)hp->n_rot, QG_ROPE_NORMAL, hp->rope_base, hp->rope_scale);
        qg_tensor *kw = qg_set_rows(c, kv->k[il], qg_reshape_2d(c, k, n_embd_kv, n), to);
        /* Values are stored transposed: one element per (position, channel) row. */
        qg_tensor *vcol = qg_view_3d(c, kv->v[il], 1, n_ctx, n_embd_kv, esz, esz * (size_t)n_ctx, 0);
        qg_tensor *vw = qg_set_rows(c, vcol, qg_get_rows(c, vcol, vfrom), vto);
        if (!kw || !vw) break;
        if ((st = qg_graph_add(g, kw)) == QG_OK) st = qg_graph_add(g, vw);
    }
    if (st == QG_OK && (st = qg_context_status(c)) != QG_OK)
        st = qg_set_error(st, "building the KV shift graph: %s", qg_context_error(c));
    int32_t *ids = NULL;
    if (st == QG_OK && (st = qg_sched_alloc(sched, g)) == QG_OK) {
        const size_t nv = (size_t)n * (size_t)n_embd_kv;
        ids = malloc(2 * nv * sizeof *ids);
        if (!ids) st = qg_set_error(QG_ERR_NO_MEMORY, "KV shift: out of memory");
    }
    if (st == QG_OK) {
        const size_t nv = (size_t)n * (size_t)n_embd_kv;
        int32_t *idv = ids + nv;
        for (int i = 0; i < n; i++) ids[i] = src + i;
        st = qg_tensor_set(from, ids, 0, (size_t)n * sizeof *ids);
        for (int64_t r = 0; r < n_embd_kv; r++)
            for (int i = 0; i < n; i++) idv[(size_t)r * (size_t)n + (size_t)i] = src + i;
        if (st == QG_OK) st = qg_tensor_set(vfrom, idv, 0, nv * sizeof *ids);
        for (size_t i = 0; i < nv; i++) idv[i] += dst - src;
        if (st == QG_OK) st = qg_tensor_set(vto, idv, 0, nv * sizeof *ids);
        for (int i = 0; i < n; i++) ids[i] = dst + i;
        if (st == QG_OK) st = qg_tensor_set(to, ids, 0, (size_t)n * sizeof *ids);
        for (int i = 0; i < n; i++) ids[i] = dst - src;
        if (st == QG_OK) st = qg_tensor_set(delta, ids, 0, (size_t)n * sizeof *ids);
    }
    if (st == QG_OK) st = qg_sched_compute(sched, g);
    free(ids);
    qg_graph_free(g);
    qg_context_free(c);
    return st;
}
