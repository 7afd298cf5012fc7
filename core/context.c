/* qg_context: an arena of tensor metadata. Tensors are carved from fixed-size chunks so
 * their addresses never move; everything is freed with the context. */
#include "core/context.h"
#include "core/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_TENSORS 256

typedef struct chunk {
    struct chunk *next;
    int used;
    qg_tensor tensors[CHUNK_TENSORS];
} chunk;

struct qg_context {
    chunk *first, *last;
    int n_tensors;
    qg_tensor **index;   /* creation order, for qg_context_tensor */
    int index_cap;
    qg_status status;    /* first builder error */
    char error[512];
};

qg_status qg_context_new(qg_context **out) {
    if (!out) return qg_set_error(QG_ERR_INVALID_ARG, "qg_context_new: out is NULL");
    *out = qg_calloc(1, sizeof(qg_context));
    if (!*out) return qg_set_error(QG_ERR_NO_MEMORY, "qg_context_new: out of memory");
    return QG_OK;
}

void qg_context_free(qg_context *ctx) {
    if (!ctx) return;
    for (chunk *c = ctx->first; c;) {
        chunk *next = c->next;
        qg_free(c);
        c = next;
    }
    qg_free(ctx->index);
    qg_free(ctx);
}

qg_status qg_context_status(const qg_context *ctx) { return ctx ? ctx->status : QG_ERR_INVALID_ARG; }

const char *qg_context_error(const qg_context *ctx) { return ctx ? ctx->error : "no context"; }

int qg_context_n_tensors(const qg_context *ctx) { return ctx ? ctx->n_tensors : 0; }

qg_tensor *qg_context_tensor(const qg_context *ctx, int i) {
    if (!ctx || i < 0 || i >= ctx->n_tensors) return NULL;
    return ctx->index[i];
}

qg_tensor *qg_get_tensor(const qg_context *ctx, const char *name) {
    if (!ctx || !name) return NULL;
    for (int i = 0; i < ctx->n_tensors; i++)
        if (strcmp(ctx->index[i]->name, name) == 0) return ctx->index[i];
    return NULL;
}

qg_tensor *qg_ctx_fail(qg_context *ctx, qg_status st, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    qg_set_error(st, "%s", msg);
    if (ctx && ctx->status == QG_OK) {
        ctx->status = st;
        snprintf(ctx->error, sizeof ctx->error, "%s", msg);
    }
    return NULL;
}

static qg_tensor *take_slot(qg_context *ctx) {
    if (!ctx->last || ctx->last->used == CHUNK_TENSORS) {
        chunk *c = qg_calloc(1, sizeof(chunk));
        if (!c) return NULL;
        if (ctx->last) ctx->last->next = c;
        else ctx->first = c;
        ctx->last = c;
    }
    if (ctx->n_tensors == ctx->index_cap) {
        int cap = ctx->index_cap ? 2 * ctx->index_cap : 64;
        qg_tensor **idx = qg_realloc(ctx->index, (size_t)cap * sizeof *idx);
        if (!idx) return NULL;
        ctx->index = idx;
        ctx->index_cap = cap;
    }
    qg_tensor *t = &ctx->last->tensors[ctx->last->used++];
    ctx->index[ctx->n_tensors++] = t;
    return t;
}

qg_tensor *qg_ctx_alloc_tensor(qg_context *ctx, qg_type type, int n_dims, const int64_t *ne) {
    if (!ctx) return qg_ctx_fail(NULL, QG_ERR_INVALID_ARG, "tensor: context is NULL");
    const qg_type_traits *tt = qg_type_get(type);
    if (!tt) return qg_ctx_fail(ctx, QG_ERR_INVALID_ARG, "tensor: unknown type id %d", (int)type);
    if (n_dims < 1 || n_dims > QG_MAX_DIMS || !ne)
        return qg_ctx_fail(ctx, QG_ERR_SHAPE, "tensor: %d dims (1..4 allowed)", n_dims);
    int64_t dims[QG_MAX_DIMS] = {1, 1, 1, 1};
    int64_t total = 1;
    for (int i = 0; i < n_dims; i++) {
        if (ne[i] < 0) return qg_ctx_fail(ctx, QG_ERR_SHAPE, "tensor: ne[%d] = %lld is negative", i, (long long)ne[i]);
        dims[i] = ne[i];
        if (ne[i] && total > INT64_MAX / ne[i])
            return qg_ctx_fail(ctx, QG_ERR_SHAPE, "tensor: element count overflows");
        total *= ne[i];
    }
    if (dims[0] % tt->block_size)
        return qg_ctx_fail(ctx, QG_ERR_SHAPE, "tensor: row length %lld is not a multiple of %s's block size %lld",
                           (long long)dims[0], tt->name, (long long)tt->block_size);
    if ((uint64_t)(total / tt->block_size) > (uint64_t)(SIZE_MAX / 2) / tt->type_size)
        return qg_ctx_fail(ctx, QG_ERR_SHAPE, "tensor: byte size overflows");
    qg_tensor *t = take_slot(ctx);
    if (!t) return qg_ctx_fail(ctx, QG_ERR_NO_MEMORY, "tensor: out of memory");
    memset(t, 0, sizeof *t);
    t->type = type;
    t->op = QG_OP_NONE;
    for (int i = 0; i < QG_MAX_DIMS; i++) t->ne[i] = dims[i];
    t->nb[0] = tt->type_size;
    t->nb[1] = tt->type_size * (size_t)(dims[0] / tt->block_size);
    t->nb[2] = t->nb[1] * (size_t)dims[1];
    t->nb[3] = t->nb[2] * (size_t)dims[2];
    return t;
}

qg_tensor *qg_new_tensor(qg_context *ctx, qg_type type, int n_dims, const int64_t *ne) {
    return qg_ctx_alloc_tensor(ctx, type, n_dims, ne);
}

qg_tensor *qg_new_tensor_1d(qg_context *ctx, qg_type type, int64_t ne0) {
    return qg_ctx_alloc_tensor(ctx, type, 1, (int64_t[]){ne0});
}

qg_tensor *qg_new_tensor_2d(qg_context *ctx, qg_type type, int64_t ne0, int64_t ne1) {
    return qg_ctx_alloc_tensor(ctx, type, 2, (int64_t[]){ne0, ne1});
}

qg_tensor *qg_new_tensor_3d(qg_context *ctx, qg_type type, int64_t ne0, int64_t ne1, int64_t ne2) {
    return qg_ctx_alloc_tensor(ctx, type, 3, (int64_t[]){ne0, ne1, ne2});
}

qg_tensor *qg_new_tensor_4d(qg_context *ctx, qg_type type, int64_t ne0, int64_t ne1, int64_t ne2,
                            int64_t ne3) {
    return qg_ctx_alloc_tensor(ctx, type, 4, (int64_t[]){ne0, ne1, ne2, ne3});
}

bool qg_ctx_src_missing(qg_context *ctx, const char *op, const qg_tensor *a, bool allow_empty) {
    if (!a) {
        if (qg_context_status(ctx) == QG_OK) qg_ctx_fail(ctx, QG_ERR_INVALID_ARG, "%s: source tensor is NULL", op);
        return true;
    }
    if (!allow_empty && qg_nelements(a) == 0) {
        qg_ctx_fail(ctx, QG_ERR_SHAPE, "%s: source %s is empty [%lld,%lld,%lld,%lld]", op, a->name,
                    (long long)a->ne[0], (long long)a->ne[1], (long long)a->ne[2], (long long)a->ne[3]);
        return true;
    }
    return false;
}
