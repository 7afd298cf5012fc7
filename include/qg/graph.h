/* qgraph graph building.
 *
 * Ops are built by calling the functions below on tensors of one context; each returns
 * the result tensor, or NULL when the shapes or types do not fit (the reason is in
 * qg_last_error() and qg_context_status()). A NULL input yields NULL, so a chain of
 * calls can be checked once. Nothing is computed here: collect the outputs into a
 * qg_graph and hand it to a scheduler (backend.h).
 *
 *     qg_tensor *h = qg_silu(ctx, qg_mul_mat(ctx, w1, x));
 *     qg_graph *g; qg_graph_new(&g); qg_graph_add(g, h);
 *
 * Conventions follow ggml: ne[0] is the innermost (row) dimension; qg_mul_mat(w, x)
 * takes w as [k, m] and x as [k, n] and gives [m, n], i.e. y = x * w^T row by row.
 */
#ifndef QG_GRAPH_H
#define QG_GRAPH_H

#include "qg/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element-wise a + b and a * b; b is broadcast (a.ne[i] must be a multiple of b.ne[i]).
 * The result has a's shape and type F32 (a F16 input gives F16). */
QG_API qg_tensor *qg_add(qg_context *ctx, qg_tensor *a, qg_tensor *b);
QG_API qg_tensor *qg_mul(qg_context *ctx, qg_tensor *a, qg_tensor *b);
QG_API qg_tensor *qg_scale(qg_context *ctx, qg_tensor *a, float s);

/* w [k, m, a2, a3] of any type with a vec_dot, x F32 [k, n, b2, b3] with b2 % a2 == 0 and
 * b3 % a3 == 0 -> F32 [m, n, b2, b3]. x may be non-contiguous (e.g. transposed). */
QG_API qg_tensor *qg_mul_mat(qg_context *ctx, qg_tensor *w, qg_tensor *x);

/* Rows of a [k, rows, a2] (any type) picked by ids (I32 or I64 [n, a2]) -> F32 [k, n, a2]. */
QG_API qg_tensor *qg_get_rows(qg_context *ctx, qg_tensor *a, qg_tensor *ids);

QG_API qg_tensor *qg_rms_norm(qg_context *ctx, qg_tensor *a, float eps);
QG_API qg_tensor *qg_norm(qg_context *ctx, qg_tensor *a, float eps);

/* Row-wise softmax(a * scale + mask). mask (optional, F32 or F16): ne[0] == a.ne[0],
 * ne[1] >= a.ne[1], broadcast over dims 2 and 3 like qg_add. */
QG_API qg_tensor *qg_soft_max(qg_context *ctx, qg_tensor *a, qg_tensor *mask, float scale);

/* Rotary embedding on a [head_dim, n_head, n_tokens, 1] with pos I32 [n_tokens]: the first
 * n_dims of each head are rotated by pos * freq_scale * freq_base^(-2i/n_dims).
 * mode is QG_ROPE_NORMAL or QG_ROPE_NEOX. */
QG_API qg_tensor *qg_rope(qg_context *ctx, qg_tensor *a, qg_tensor *pos, int n_dims, int mode,
                          float freq_base, float freq_scale);

QG_API qg_tensor *qg_silu(qg_context *ctx, qg_tensor *a);
QG_API qg_tensor *qg_gelu(qg_context *ctx, qg_tensor *a);

/* Copy a into b (same element count, any shapes), converting to b's type: quantizes when b
 * is a quantized type (rows of b must be whole blocks). Returns a view of b to use as the
 * dependency for later readers of b. */
QG_API qg_tensor *qg_cpy(qg_context *ctx, qg_tensor *a, qg_tensor *b);
/* A contiguous copy of a (same type), and a contiguous copy converted to another type. */
QG_API qg_tensor *qg_cont(qg_context *ctx, qg_tensor *a);
QG_API qg_tensor *qg_cast(qg_context *ctx, qg_tensor *a, qg_type type);

/* Write the rows of src [k, n, s2] into dst [k, rows, s2] at ids (I32 or I64 [n, s2]),
 * converting to dst's type. Returns a view of dst (a KV cache, typically). */
QG_API qg_tensor *qg_set_rows(qg_context *ctx, qg_tensor *dst, qg_tensor *src, qg_tensor *ids);

/* Views share the source's storage. Strides nb1.. are in bytes; offset in bytes. */
QG_API qg_tensor *qg_view_1d(qg_context *ctx, qg_tensor *a, int64_t ne0, size_t offset);
QG_API qg_tensor *qg_view_2d(qg_context *ctx, qg_tensor *a, int64_t ne0, int64_t ne1, size_t nb1,
                             size_t offset);
QG_API qg_tensor *qg_view_3d(qg_context *ctx, qg_tensor *a, int64_t ne0, int64_t ne1, int64_t ne2,
                             size_t nb1, size_t nb2, size_t offset);
QG_API qg_tensor *qg_view_4d(qg_context *ctx, qg_tensor *a, int64_t ne0, int64_t ne1, int64_t ne2,
                             int64_t ne3, size_t nb1, size_t nb2, size_t nb3, size_t offset);
/* Same data, new shape (a must be contiguous, element counts equal). */
QG_API qg_tensor *qg_reshape(qg_context *ctx, qg_tensor *a, int n_dims, const int64_t *ne);
QG_API qg_tensor *qg_reshape_2d(qg_context *ctx, qg_tensor *a, int64_t ne0, int64_t ne1);
QG_API qg_tensor *qg_reshape_3d(qg_context *ctx, qg_tensor *a, int64_t ne0, int64_t ne1, int64_t ne2);
QG_API qg_tensor *qg_reshape_4d(qg_context *ctx, qg_tensor *a, int64_t ne0, int64_t ne1, int64_t ne2,
                                int64_t ne3);
/* Dimension i of a becomes dimension axis_i of the result. */
QG_API qg_tensor *qg_permute(qg_context *ctx, qg_tensor *a, int axis0, int axis1, int axis2,
                             int axis3);
/* Swap dims 0 and 1. */
QG_API qg_tensor *qg_transpose(qg_context *ctx, qg_tensor *a);

/* Whether a node's shapes and op parameters satisfy its op's contract (what the builders
 * above guarantee): every dimension positive, packed rows for block types, broadcast and
 * index rules, mul_mat's F32 activations and output. Types beyond that are the backend's
 * business: a backend's supports_op calls this, then checks what its kernels handle. */
QG_API bool qg_node_well_formed(const qg_tensor *node);

/* A graph: the nodes needed to compute its outputs, in an order where every node comes
 * after its sources. Leafs (op NONE) are listed separately. */
typedef struct qg_graph qg_graph;

QG_API qg_status qg_graph_new(qg_graph **out);
QG_API void qg_graph_free(qg_graph *g);
/* Add t and everything it depends on (idempotent); marks t as an output. */
QG_API qg_status qg_graph_add(qg_graph *g, qg_tensor *t);
QG_API int qg_graph_n_nodes(const qg_graph *g);
QG_API qg_tensor *qg_graph_node(const qg_graph *g, int i);
QG_API int qg_graph_n_leafs(const qg_graph *g);
QG_API qg_tensor *qg_graph_leaf(const qg_graph *g, int i);

/* Memory planning: intermediate tensors share buffer space once their last consumer
 * has run. Plans every node that needs storage as if all ran on one device. */
typedef struct qg_plan_stats {
    size_t planned_bytes; /* peak of the plan (what is allocated) */
    size_t naive_bytes;   /* sum of all planned tensors' sizes (no reuse) */
    int n_tensors;        /* tensors that needed storage */
} qg_plan_stats;

QG_API qg_status qg_graph_plan(const qg_graph *g, size_t alignment, qg_plan_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
