/* qgraph tensors and contexts.
 *
 * A qg_tensor is metadata: a type, up to 4 dimensions `ne[]` (ne[0] innermost) with
 * byte strides `nb[]`, the op that produces it and its sources, and (once allocated) a
 * data address inside a backend buffer. The struct is part of the plugin ABI, so its
 * layout only changes together with QG_PLUGIN_ABI_VERSION.
 *
 * A qg_context is an arena that owns tensor metadata: create one, make tensors and ops
 * in it (see graph.h), free it once. Builders return NULL on error and the context
 * remembers the first error (qg_context_status) so a chain of builder calls can be
 * checked once at the end.
 */
#ifndef QG_TENSOR_H
#define QG_TENSOR_H

#include "qg/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QG_MAX_DIMS 4
#define QG_MAX_SRC 4
#define QG_MAX_OP_PARAMS 16
#define QG_MAX_NAME 64

/* Ops. Parameters live in op_params (int32 words; floats are stored bit-cast). */
typedef enum qg_op {
    QG_OP_NONE = 0,   /* a leaf: weights, inputs, caches */
    QG_OP_ADD,        /* src0 + src1, src1 broadcast (src0.ne[i] % src1.ne[i] == 0) */
    QG_OP_MUL,        /* src0 * src1, broadcast as ADD */
    QG_OP_SCALE,      /* src0 * p[0](f32) */
    QG_OP_MUL_MAT,    /* src0 = weights [k, m, a2, a3], src1 = x [k, n, b2, b3] -> F32 [m, n, b2, b3] */
    QG_OP_GET_ROWS,   /* src0 [k, rows, ne2], src1 = I32 ids [n, ne2] -> F32 [k, n, ne2] */
    QG_OP_RMS_NORM,   /* per row x / sqrt(mean(x^2) + eps), p[0] = eps(f32) */
    QG_OP_NORM,       /* per row (x - mean) / sqrt(var + eps), p[0] = eps(f32) */
    QG_OP_SOFT_MAX,   /* per row softmax(x * p[0](f32) + mask), src1 = mask (optional) */
    QG_OP_ROPE,       /* src1 = I32 positions [ne2]; p: n_dims, mode, base(f32), scale(f32) */
    QG_OP_SILU,       /* x * sigmoid(x) */
    QG_OP_GELU,       /* tanh approximation */
    QG_OP_CPY,        /* write src0 into the result (same element count, converting type, any
                         shapes, element order kept); the result views src1 when src1 is set */
    QG_OP_SET_ROWS,   /* dst = src2; dst row src1[i] = src0 row i (converted); result views src2 */
    QG_OP_VIEW,       /* no computation: views of another tensor's data */
    QG_OP_RESHAPE,
    QG_OP_PERMUTE,    /* p[0..3] = axis permutation */
    QG_OP_TRANSPOSE,
    QG_OP_COUNT
} qg_op;

enum qg_rope_mode {
    QG_ROPE_NORMAL = 0, /* rotate adjacent pairs (x[2i], x[2i+1]) (llama) */
    QG_ROPE_NEOX = 2,   /* rotate halves (x[i], x[i + n_dims/2]) (NeoX, Qwen) */
};

enum qg_tensor_flags {
    QG_FLAG_INPUT = 1,   /* data is set by the user before compute */
    QG_FLAG_OUTPUT = 2,  /* data is read by the user after compute: never reused */
    QG_FLAG_PARAM = 4,   /* a weight */
    QG_FLAG_SCHEDULED = 8, /* storage was given by a scheduler: every allocation re-plans it */
};

typedef struct qg_tensor qg_tensor;
typedef struct qg_buffer qg_buffer;               /* host-side buffer object */
typedef struct qg_plugin_buffer qg_plugin_buffer; /* a plugin's own buffer handle */

struct qg_tensor {
    qg_type type;
    qg_op op;
    int64_t ne[QG_MAX_DIMS];   /* elements per dimension */
    size_t nb[QG_MAX_DIMS];    /* byte strides: nb[0] = block bytes, nb[1] = row bytes, ... */
    int32_t op_params[QG_MAX_OP_PARAMS];
    int32_t flags;
    qg_tensor *src[QG_MAX_SRC];
    qg_tensor *view_src;       /* tensor whose storage this one views, or NULL */
    size_t view_offs;          /* byte offset into view_src's data */
    void *data;                /* address in the buffer's address space (base + offset) */
    qg_buffer *buffer;         /* host-side buffer holding data; NULL until allocated */
    qg_plugin_buffer *pbuf;    /* the owning plugin's handle of that buffer */
    void *extra;               /* free for the backend that computes this tensor */
    char name[QG_MAX_NAME];
};

typedef struct qg_context qg_context;

/* Create an empty context (grows as needed). */
QG_API qg_status qg_context_new(qg_context **out);
/* Free a context and every tensor it owns (not the buffers tensors were allocated in). */
QG_API void qg_context_free(qg_context *ctx);
/* QG_OK, or the first error a builder in this context hit (message in qg_context_error). */
QG_API qg_status qg_context_status(const qg_context *ctx);
QG_API const char *qg_context_error(const qg_context *ctx);
/* Number of tensors made in this context, and the i-th in creation order. */
QG_API int qg_context_n_tensors(const qg_context *ctx);
QG_API qg_tensor *qg_context_tensor(const qg_context *ctx, int i);
/* First tensor with this name, or NULL. */
QG_API qg_tensor *qg_get_tensor(const qg_context *ctx, const char *name);

/* A new leaf tensor, contiguous; NULL (and a context error) on bad shape/type. */
QG_API qg_tensor *qg_new_tensor(qg_context *ctx, qg_type type, int n_dims, const int64_t *ne);
QG_API qg_tensor *qg_new_tensor_1d(qg_context *ctx, qg_type type, int64_t ne0);
QG_API qg_tensor *qg_new_tensor_2d(qg_context *ctx, qg_type type, int64_t ne0, int64_t ne1);
QG_API qg_tensor *qg_new_tensor_3d(qg_context *ctx, qg_type type, int64_t ne0, int64_t ne1, int64_t ne2);
QG_API qg_tensor *qg_new_tensor_4d(qg_context *ctx, qg_type type, int64_t ne0, int64_t ne1,
                                   int64_t ne2, int64_t ne3);

/* Name a tensor (printf style, truncated to QG_MAX_NAME-1); returns t. NULL-safe. */
QG_API qg_tensor *qg_set_name(qg_tensor *t, const char *fmt, ...) QG_PRINTF(2, 3);
QG_API void qg_set_input(qg_tensor *t);
QG_API void qg_set_output(qg_tensor *t);

QG_API int64_t qg_nelements(const qg_tensor *t);
QG_API int64_t qg_nrows(const qg_tensor *t);   /* ne[1]*ne[2]*ne[3] */
QG_API size_t qg_nbytes(const qg_tensor *t);   /* bytes spanned by the tensor's data */
QG_API int qg_n_dims(const qg_tensor *t);      /* 1 + index of the last dim > 1 */
QG_API bool qg_is_contiguous(const qg_tensor *t);
QG_API bool qg_same_shape(const qg_tensor *a, const qg_tensor *b);
QG_API bool qg_op_is_view(qg_op op);           /* VIEW, RESHAPE, PERMUTE, TRANSPOSE */
QG_API const char *qg_op_name(qg_op op);       /* "MUL_MAT" */
/* The tensor that owns the storage (follows view_src to the end). */
QG_API qg_tensor *qg_view_root(qg_tensor *t);

static inline float qg_op_param_f32(const qg_tensor *t, int i) {
    union { int32_t i; float f; } u; u.i = t->op_params[i]; return u.f;
}
static inline void qg_set_op_param_f32(qg_tensor *t, int i, float v) {
    union { int32_t i; float f; } u; u.f = v; t->op_params[i] = u.i;
}

#ifdef __cplusplus
}
#endif
#endif
