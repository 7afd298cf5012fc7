/* Internal to qgllama: the KV cache layout and the graph builder for one batch.
 *
 * Per layer the K cache is F16/F32 [head_dim * n_head_kv, n_ctx] (one row per position)
 * and the V cache is stored transposed, [n_ctx, head_dim * n_head_kv] (one row per
 * channel), so that both attention products read packed rows of the cache as the
 * "weight" operand of mul_mat. A batch graph writes the new keys and values at their
 * positions with set_rows and attends over positions [0, n_past + n_tokens). A context
 * shift (qgl_kv_move) moves cached rows down and re-rotates their keys.
 */
#ifndef QGL_LLAMA_GRAPH_H
#define QGL_LLAMA_GRAPH_H

#include "llama_model.h"

typedef struct qgl_kv {
    qg_type type;
    int64_t n_ctx;
    qg_context *ctx[2];   /* per model part: tensors of the layers on that part's backend */
    qg_buffer *buf[2];
    qg_tensor **k, **v;   /* per layer */
    size_t bytes;         /* total size of all caches */
} qgl_kv;

/* One batch: the graph and its inputs (filled by the caller after qg_sched_alloc). */
typedef struct qgl_batch_graph {
    qg_context *ctx;
    qg_graph *graph;
    int n_tokens, n_past, n_kv;
    bool all_logits;
    qg_tensor *tokens;  /* I32 [n_tokens] */
    qg_tensor *pos;     /* I32 [n_tokens]: n_past .. n_past + n_tokens - 1 */
    qg_tensor *vids;    /* I32 [n_tokens, n_embd_kv]: positions again, per V-cache row */
    qg_tensor *mask;    /* F32 [n_kv, n_tokens]: 0 or -inf (causal) */
    qg_tensor *logits;  /* F32 [n_vocab, all_logits ? n_tokens : 1] */
} qgl_batch_graph;

qg_status qgl_kv_init(qgl_kv *kv, const qgl_model *m, int64_t n_ctx, qg_type type);
void qgl_kv_free(qgl_kv *kv);

qg_status qgl_build_batch(const qgl_model *m, const qgl_kv *kv, int n_tokens, int n_past, bool all_logits,
                          qgl_batch_graph *out);
void qgl_batch_free(qgl_batch_graph *b);
/* Fill tokens, positions, V-cache ids and the causal mask (after qg_sched_alloc). */
qg_status qgl_batch_set_inputs(const qgl_batch_graph *b, const qgl_model *m, const int32_t *tokens);

/* Context shift: move the cached positions [src, src + n) of every layer down to
 * [dst, dst + n) (dst < src) and rotate their keys by dst - src positions with RoPE, so
 * the cache holds what evaluating those tokens at their new positions would have
 * written (RoPE rotations compose). Runs one graph on sched. */
qg_status qgl_kv_move(const qgl_model *m, const qgl_kv *kv, qg_sched *sched, int dst, int src, int n);

#endif
