/* Graph builders that compute nothing: views, reshapes, permutes and transposes. The
 * result shares its source's storage (view_src is the storage owner, view_offs the byte
 * offset into it); the scheduler gives it a data pointer once the owner has one. */
#include "qg/graph.h"

#include <stdio.h>
#include <string.h>

#include <stdint.h>

#include "core/context.h"

static qg_tensor *view_of(qg_context *ctx, qg_op op, qg_tensor *a, const int64_t *ne, const size_t *nb,
                          size_t offset) {
    qg_tensor *r = qg_ctx_alloc_tensor(ctx, a->type, 4, ne);
    if (!r) return NULL;
    r->op = op;
    memcpy(r->nb, nb, sizeof r->nb);
    r->src[0] = a;
    qg_tensor *root = a->view_src ? a->view_src : a;
    r->view_src = root;
    r->view_offs = a->view_offs + offset;
    if (a->data) r->data = (char *)a->data + offset;
    r->buffer = a->buffer;
    r->pbuf = a->pbuf;
    size_t need = qg_nbytes(r);
    if (qg_nelements(r) > 0 && (r->view_offs > qg_nbytes(root) || need > qg_nbytes(root) - r->view_offs))
        return qg_ctx_fail(ctx, QG_ERR_SHAPE, "%s of %s: bytes %zu..%zu fall outside its storage (%zu bytes)",
                           qg_op_name(op), a->name, r->view_offs, r->view_offs + need, qg_nbytes(root));
    snprintf(r->name, sizeof r->name, "%.50s (%s)", a->name, op == QG_OP_VIEW ? "view" : "reshaped");
    return r;
}

static bool missing(qg_context *ctx, const char *op, const qg_tensor *a) {
    return qg_ctx_src_missing(ctx, op, a, true);
}

qg_tensor *qg_view_4d(qg_context *ctx, qg_tensor *a, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3,
                      size_t nb1, size_t nb2, size_t nb3, size_t offset) {
    if (missing(ctx, "VIEW", a)) return NULL;
    const qg_type_traits *tt = qg_type_get(a->type);
    if (ne0 < 0 || ne1 < 0 || ne2 < 0 || ne3 < 0 || ne0 % tt->block_size)
        return qg_ctx_fail(ctx, QG_ERR_SHAPE, "VIEW of %s: bad shape [%lld,%lld,%lld,%lld]", a->name,
                           (long long)ne0, (long long)ne1, (long long)ne2, (long long)ne3);
    return view_of(ctx, QG_OP_VIEW, a, (int64_t[]){ne0, ne1, ne2, ne3}, (size_t[]){a->nb[0], nb1, nb2, nb3},
                   offset);
}

qg_tensor *qg_view_1d(qg_context *ctx, qg_tensor *a, int64_t ne0, size_t offset) {
    if (missing(ctx, "VIEW", a)) return NULL;
    size_t row = qg_row_size(a->type, ne0);
    return qg_view_4d(ctx, a, ne0, 1, 1, 1, row, row, row, offset);
}

qg_tensor *qg_view_2d(qg_context *ctx, qg_tensor *a, int64_t ne0, int64_t ne1, size_t nb1, size_t offset) {
    return qg_view_4d(ctx, a, ne0, ne1, 1, 1, nb1, nb1 * (size_t)ne1, nb1 * (size_t)ne1, offset);
}

qg_tensor *qg_view_3d(qg_context *ctx, qg_tensor *a, int64_t ne0, int64_t ne1, int64_t ne2, size_t nb1,
                      size_t nb2, size_t offset) {
    return qg_view_4d(ctx, a, ne0, ne1, ne2, 1, nb1, nb2, nb2 * (size_t)ne2, offset);
}

qg_tensor *qg_reshape(qg_context *ctx, qg_tensor *a, int n_dims, const int64_t *ne) {
    if (missing(ctx, "RESHAPE", a)) return NULL;
    if (!qg_is_contiguous(a)) return qg_ctx_fail(ctx, QG_ERR_SHAPE, "RESHAPE: %s is not contiguous", a->name);
    if (n_dims < 1 || n_dims > QG_MAX_DIMS) return qg_ctx_fail(ctx, QG_ERR_SHAPE, "RESHAPE: %d dims", n_dims);
    int64_t dims[QG_MAX_DIMS] = {1, 1, 1, 1};
    int64_t n = 1;
    for (int i = 0; i < n_dims; i++) {
        if (ne[i] < 0) return qg_ctx_fail(ctx, QG_ERR_SHAPE, "RESHAPE: ne[%d] is negative", i);
        dims[i] = ne[i];
        if (ne[i] && n > INT64_MAX / ne[i])
            return qg_ctx_fail(ctx, QG_ERR_SHAPE, "RESHAPE: element count of the new shape overflows");
        n *= ne[i];
    }
    if (n != qg_nelements(a))
        return qg_ctx_fail(ctx, QG_ERR_SHAPE, "RESHAPE: %s has %lld elements, new shape %lld", a->name,
                           (long long)qg_nelements(a), (long long)n);
    const qg_type_traits *tt = qg_type_get(a->type);
    if (dims[0] % tt->block_size)
        return qg_ctx_fail(ctx, QG_ERR_SHAPE, "RESHAPE: row %lld not a multiple of the block size", (long long)dims[0]);
    size_t nb[QG_MAX_DIMS];
    nb[0] = tt->type_size;
    nb[1] = nb[0] * (size_t)(dims[0] / tt->block_size);
    nb[2] = nb[1] * (size_t)dims[1];
    nb[3] = nb[2] * (size_t)dims[2];
    return view_of(ctx, QG_OP_RESHAPE, a, dims, nb, 0);
}

qg_tensor *qg_reshape_2d(qg_context *ctx, qg_tensor *a, int64_t ne0, int64_t ne1) {
    return qg_reshape(ctx, a, 2, (int64_t[]){ne0, ne1});
}

qg_tensor *qg_reshape_3d(qg_context *ctx, qg_tensor *a, int64_t ne0, int64_t ne1, int64_t ne2) {
    return qg_reshape(ctx, a, 3, (int64_t[]){ne0, ne1, ne2});
}

qg_tensor *qg_reshape_4d(qg_context *ctx, qg_tensor *a, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3) {
    return qg_reshape(ctx, a, 4, (int64_t[]){ne0, ne1, ne2, ne3});
}

qg_tensor *qg_permute(qg_context *ctx, qg_tensor *a, int axis0, int axis1, int axis2, int axis3) {
    if (missing(ctx, "PERMUTE", a)) return NULL;
    int axes[QG_MAX_DIMS] = {axis0, axis1, axis2, axis3};
    int seen = 0;
    for (int i = 0; i < QG_MAX_DIMS; i++) {
        if (axes[i] < 0 || axes[i] >= QG_MAX_DIMS || (seen & (1 << axes[i])))
            return qg_ctx_fail(ctx, QG_ERR_SHAPE, "PERMUTE: (%d,%d,%d,%d) is not a permutation", axis0, axis1,
                               axis2, axis3);
        seen |= 1 << axes[i];
    }
    const qg_type_traits *tt = qg_type_get(a->type);
    if (tt->block_size != 1 && axes[0] != 0)
        return qg_ctx_fail(ctx, QG_ERR_SHAPE, "PERMUTE: cannot move the row dim of quantized %s", a->name);
    int64_t ne[QG_MAX_DIMS];
    size_t nb[QG_MAX_DIMS];
    for (int i = 0; i < QG_MAX_DIMS; i++) {
        ne[axes[i]] = a->ne[i];
        nb[axes[i]] = a->nb[i];
    }
    qg_tensor *r = view_of(ctx, QG_OP_PERMUTE, a, ne, nb, 0);
    if (r) {
        for (int i = 0; i < QG_MAX_DIMS; i++) r->op_params[i] = axes[i];
        snprintf(r->name, sizeof r->name, "%.50s (permuted)", a->name);
    }
    return r;
}

qg_tensor *qg_transpose(qg_context *ctx, qg_tensor *a) {
    qg_tensor *r = qg_permute(ctx, a, 1, 0, 2, 3);
    if (r) {
        r->op = QG_OP_TRANSPOSE;
        snprintf(r->name, sizeof r->name, "%.50s (transposed)", a->name);
    }
    return r;
}
