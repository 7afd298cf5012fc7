/* Graph builders that move data with type conversion: cpy (into an existing tensor),
 * cont/cast (into a new contiguous tensor) and set_rows (scatter rows into a cache).
 * CPY's src[1] is the destination when there is one; its result then views that
 * destination, so later readers of the destination depend on the copy. */
#include "qg/graph.h"

#include <stdio.h>
#include <string.h>

#include "core/context.h"

static bool missing(qg_context *ctx, const char *op, const qg_tensor *a) {
    return qg_ctx_src_missing(ctx, op, a, false);
}

/* Can rows of this tensor be written with the type's from_float? */
static const char *writable(const qg_tensor *t) {
    const qg_type_traits *tt = qg_type_get(t->type);
    if (!tt->from_float) return "its type has no quantizer";
    if (tt->block_size > 1 && t->nb[0] != tt->type_size) return "its rows are not contiguous";
    return NULL;
}

/* The result of a node that writes into dst's storage: same shape/strides as dst. */
static qg_tensor *view_node(qg_context *ctx, qg_op op, qg_tensor *dst) {
    qg_tensor *r = qg_ctx_alloc_tensor(ctx, dst->type, 4, dst->ne);
    if (!r) return NULL;
    r->op = op;
    memcpy(r->nb, dst->nb, sizeof r->nb);
    r->view_src = dst->view_src ? dst->view_src : dst;
    r->view_offs = dst->view_offs;
    r->data = dst->data;
    r->buffer = dst->buffer;
    r->pbuf = dst->pbuf;
    snprintf(r->name, sizeof r->name, "%.50s (written)", dst->name);
    return r;
}

qg_tensor *qg_cpy(qg_context *ctx, qg_tensor *a, qg_tensor *b) {
    if (missing(ctx, "CPY", a) || missing(ctx, "CPY", b)) return NULL;
    if (qg_nelements(a) != qg_nelements(b))
        return qg_ctx_fail(ctx, QG_ERR_SHAPE, "CPY: %s has %lld elements, destination %s %lld", a->name,
                           (long long)qg_nelements(a), b->name, (long long)qg_nelements(b));
    const char *why = writable(b);
    if (why) return qg_ctx_fail(ctx, QG_ERR_UNSUPPORTED, "CPY: cannot write %s (%s): %s", b->name, qg_type_name(b->type), why);
    const qg_type_traits *ta = qg_type_get(a->type);
    if (ta->block_size > 1 && (a->nb[0] != ta->type_size || a->ne[0] != b->ne[0]))
        return qg_ctx_fail(ctx, QG_ERR_SHAPE, "CPY: quantized source %s must keep its row length", a->name);
    qg_tensor *r = view_node(ctx, QG_OP_CPY, b);
    if (r) {
        r->src[0] = a;
        r->src[1] = b;
    }
    return r;
}

qg_tensor *qg_cast(qg_context *ctx, qg_tensor *a, qg_type type) {
    if (missing(ctx, "CPY", a)) return NULL;
    const qg_type_traits *tt = qg_type_get(type);
    if (!tt) return qg_ctx_fail(ctx, QG_ERR_INVALID_ARG, "cast: unknown type id %d", (int)type);
    if (!tt->from_float) return qg_ctx_fail(ctx, QG_ERR_UNSUPPORTED, "cast: type %s has no quantizer", tt->name);
    const qg_type_traits *ta = qg_type_get(a->type);
    if (ta->block_size > 1 && a->nb[0] != ta->type_size)
        return qg_ctx_fail(ctx, QG_ERR_SHAPE, "cast: rows of quantized %s must be contiguous", a->name);
    qg_tensor *r = qg_ctx_alloc_tensor(ctx, type, 4, a->ne); /* checks the block size */
    if (!r) return NULL;
    r->op = QG_OP_CPY;
    r->src[0] = a;
    return r;
}

qg_tensor *qg_cont(qg_context *ctx, qg_tensor *a) {
    if (missing(ctx, "CPY", a)) return NULL;
    return qg_cast(ctx, a, a->type);
}

qg_tensor *qg_set_rows(qg_context *ctx, qg_tensor *dst, qg_tensor *src, qg_tensor *ids) {
    if (missing(ctx, "SET_ROWS", dst) || missing(ctx, "SET_ROWS", src) || missing(ctx, "SET_ROWS", ids)) return NULL;
    if (src->type != QG_TYPE_F32)
        return qg_ctx_fail(ctx, QG_ERR_SHAPE, "SET_ROWS: rows %s are %s (F32 expected)", src->name, qg_type_name(src->type));
    if (ids->type != QG_TYPE_I32 && ids->type != QG_TYPE_I64)
        return qg_ctx_fail(ctx, QG_ERR_SHAPE, "SET_ROWS: ids %s are %s (I32 or I64 expected)", ids->name,
                           qg_type_name(ids->type));
    if (src->ne[0] != dst->ne[0] || src->ne[2] != dst->ne[2] || src->ne[3] != dst->ne[3] ||
        ids->ne[0] != src->ne[1] || ids->ne[1] != src->ne[2] || ids->ne[2] != src->ne[3] || ids->ne[3] != 1)
        return qg_ctx_fail(ctx, QG_ERR_SHAPE,
                           "SET_ROWS: dst [%lld,%lld,%lld,%lld], src [%lld,%lld,%lld,%lld], ids [%lld,%lld,%lld,%lld] do not fit",
                           (long long)dst->ne[0], (long long)dst->ne[1], (long long)dst->ne[2], (long long)dst->ne[3],
                           (long long)src->ne[0], (long long)src->ne[1], (long long)src->ne[2], (long long)src->ne[3],
                           (long long)ids->ne[0], (long long)ids->ne[1], (long long)ids->ne[2], (long long)ids->ne[3]);
    const char *why = writable(dst);
    if (why) return qg_ctx_fail(ctx, QG_ERR_UNSUPPORTED, "SET_ROWS: cannot write %s: %s", dst->name, why);
    qg_tensor *r = view_node(ctx, QG_OP_SET_ROWS, dst);
    if (r) {
        r->src[0] = src;
        r->src[1] = ids;
        r->src[2] = dst;
    }
    return r;
}
