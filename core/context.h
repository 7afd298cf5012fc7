/* Internal: the tensor arena behind qg_context, used by the graph builders. */
#ifndef QG_CONTEXT_INTERNAL_H
#define QG_CONTEXT_INTERNAL_H

#include "qg/tensor.h"

/* A new tensor of the context: contiguous over ne (n_dims <= 4, unused dims 1).
 * Records a context error and returns NULL on a bad type or shape. */
qg_tensor *qg_ctx_alloc_tensor(qg_context *ctx, qg_type type, int n_dims, const int64_t *ne);

/* Record a builder failure (the first one is kept by the context) and return NULL. */
qg_tensor *qg_ctx_fail(qg_context *ctx, qg_status st, const char *fmt, ...) QG_PRINTF(3, 4);

/* A builder's check of a source: NULL (an earlier builder failed: passed on) or, unless
 * allow_empty (views), an empty tensor records a context error and returns true. */
bool qg_ctx_src_missing(qg_context *ctx, const char *op, const qg_tensor *a, bool allow_empty);

#endif
