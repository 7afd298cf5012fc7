/* Graph builders for the computing ops: element-wise, matrix product, rows, norms,
 * softmax, rope and activations. Each checks shapes and types when the node is built,
 * so a mistake is reported where it is made, not when the graph runs. */
#include "qg/graph.h"

#include <math.h>
#include <string.h>

#include "core/context.h"

#define FAIL(ctx, ...) qg_ctx_fail(ctx, QG_ERR_SHAPE, __VA_ARGS__)
#define SHAPE_FMT "[%lld,%lld,%lld,%lld]"
#define SHAPE_ARGS(t) (long long)(t)->ne[0], (long long)(t)->ne[1], (long long)(t)->ne[2], (long long)(t)->ne[3]

/* NULL (an earlier builder failed) and empty sources stop a builder (qg_ctx_src_missing). */
static bool missing(qg_context *ctx, const char *op, const qg_tensor *a) {
    return qg_ctx_src_missing(ctx, op, a, false);
}

static qg_tensor *new_node(qg_context *ctx, qg_op op, qg_type type, const int64_t *ne) {
    qg_tensor *t = qg_ctx_alloc_tensor(ctx, type, 4, ne);
    if (t) t->op = op;
    return t;
}

static bool is_float_type(qg_type t) { return t == QG_TYPE_F32 || t == QG_TYPE_F16; }

static bool can_broadcast(const qg_tensor *b, const qg_tensor *a) {
    for (int i = 0; i < QG_MAX_DIMS; i++)
        if (b->ne[i] == 0 || a->ne[i] % b->ne[i] != 0) return false;
    return true;
}

static qg_tensor *binary(qg_context *ctx, qg_op op, qg_tensor *a, qg_tensor *b) {
    const char *name = qg_op_name(op);
    if (missing(ctx, name, a) || missing(ctx, name, b)) return NULL;
    if (!is_float_type(a->type) || !is_float_type(b->type))
        return FAIL(ctx, "%s: types %s and %s (F32 or F16 expected)", name, qg_type_name(a->type),
                    qg_type_name(b->type));
    if (!can_broadcast(b, a))
        return FAIL(ctx, "%s: %s " SHAPE_FMT " cannot be broadcast to %s " SHAPE_FMT, name, b->name,
                    SHAPE_ARGS(b), a->name, SHAPE_ARGS(a));
    qg_tensor *r = new_node(ctx, op, a->type, a->ne);
    if (r) {
        r->src[0] = a;
        r->src[1] = b;
    }
    return r;
}

qg_tensor *qg_add(qg_context *ctx, qg_tensor *a, qg_tensor *b) { return binary(ctx, QG_OP_ADD, a, b); }

qg_tensor *qg_mul(qg_context *ctx, qg_tensor *a, qg_tensor *b) { return binary(ctx, QG_OP_MUL, a, b); }

static qg_tensor *unary(qg_context *ctx, qg_op op, qg_tensor *a) {
    if (missing(ctx, qg_op_name(op), a)) return NULL;
    if (!is_float_type(a->type))
        return FAIL(ctx, "%s: type %s (F32 or F16 expected)", qg_op_name(op), qg_type_name(a->type));
    qg_tensor *r = new_node(ctx, op, a->type, a->ne);
    if (r) r->src[0] = a;
    return r;
}

qg_tensor *qg_scale(qg_context *ctx, qg_tensor *a, float s) {
    qg_tensor *r = unary(ctx, QG_OP_SCALE, a);
    if (r) qg_set_op_param_f32(r, 0, s);
    return r;
}

qg_tensor *qg_silu(qg_context *ctx, qg_tensor *a) { return unary(ctx, QG_OP_SILU, a); }

qg_tensor *qg_gelu(qg_context *ctx, qg_tensor *a) { return unary(ctx, QG_OP_GELU, a); }

static qg_tensor *norm(qg_context *ctx, qg_op op, qg_tensor *a, float eps) {
    if (!(eps >= 0.0f) || !isfinite(eps))
        return FAIL(ctx, "%s: eps %g must be finite and >= 0", qg_op_name(op), (double)eps);
    qg_tensor *r = unary(ctx, op, a);
    if (r) qg_set_op_param_f32(r, 0, eps);
    return r;
}

qg_tensor *qg_rms_norm(qg_context *ctx, qg_tensor *a, float eps) { return norm(ctx, QG_OP_RMS_NORM, a, eps); }

qg_tensor *qg_norm(qg_context *ctx, qg_tensor *a, float eps) { return norm(ctx, QG_OP_NORM, a, eps); }

qg_tensor *qg_mul_mat(qg_context *ctx, qg_tensor *w, qg_tensor *x) {
    if (missing(ctx, "MUL_MAT", w) || missing(ctx, "MUL_MAT", x)) return NULL;
    const qg_type_traits *tw = qg_type_get(w->type);
    if (!tw || !tw->vec_dot)
        return qg_ctx_fail(ctx, QG_ERR_UNSUPPORTED, "MUL_MAT: %s cannot be a weight (type %s has no dot product)",
                           w->name, qg_type_name(w->type));
    if (x->type != QG_TYPE_F32)
        return FAIL(ctx, "MUL_MAT: activations %s are %s (F32 expected)", x->name, qg_type_name(x->type));
    if (w->ne[0] != x->ne[0])
        return FAIL(ctx, "MUL_MAT: inner dims differ: %s " SHAPE_FMT " vs %s " SHAPE_FMT, w->name, SHAPE_ARGS(w),
                    x->name, SHAPE_ARGS(x));
    if (w->ne[2] == 0 || w->ne[3] == 0 || x->ne[2] % w->ne[2] || x->ne[3] % w->ne[3])
        return FAIL(ctx, "MUL_MAT: %s " SHAPE_FMT " cannot be broadcast over %s " SHAPE_FMT, w->name,
                    SHAPE_ARGS(w), x->name, SHAPE_ARGS(x));
    if (w->nb[0] != tw->type_size)
        return FAIL(ctx, "MUL_MAT: weight rows of %s must be contiguous", w->name);
    qg_tensor *r = new_node(ctx, QG_OP_MUL_MAT, QG_TYPE_F32, (int64_t[]){w->ne[1], x->ne[1], x->ne[2], x->ne[3]});
    if (r) {
        r->src[0] = w;
        r->src[1] = x;
    }
    return r;
}

static bool is_index_type(qg_type t) { return t == QG_TYPE_I32 || t == QG_TYPE_I64; }

qg_tensor *qg_get_rows(qg_context *ctx, qg_tensor *a, qg_tensor *ids) {
    if (missing(ctx, "GET_ROWS", a) || missing(ctx, "GET_ROWS", ids)) return NULL;
    if (!is_index_type(ids->type))
        return FAIL(ctx, "GET_ROWS: ids %s are %s (I32 or I64 expected)", ids->name, qg_type_name(ids->type));
    if (ids->ne[1] != a->ne[2] || ids->ne[2] != a->ne[3] || ids->ne[3] != 1)
        return FAIL(ctx, "GET_ROWS: ids " SHAPE_FMT " do not match rows " SHAPE_FMT, SHAPE_ARGS(ids), SHAPE_ARGS(a));
    const qg_type_traits *ta = qg_type_get(a->type);
    if (a->nb[0] != ta->type_size) return FAIL(ctx, "GET_ROWS: rows of %s must be contiguous", a->name);
    qg_tensor *r = new_node(ctx, QG_OP_GET_ROWS, QG_TYPE_F32, (int64_t[]){a->ne[0], ids->ne[0], ids->ne[1], ids->ne[2]});
    if (r) {
        r->src[0] = a;
        r->src[1] = ids;
    }
    return r;
}

qg_tensor *qg_soft_max(qg_context *ctx, qg_tensor *a, qg_tensor *mask, float scale) {
    if (missing(ctx, "SOFT_MAX", a)) return NULL;
    if (a->type != QG_TYPE_F32) return FAIL(ctx, "SOFT_MAX: %s is %s (F32 expected)", a->name, qg_type_name(a->type));
    if (mask) {
        if (!is_float_type(mask->type))
            return FAIL(ctx, "SOFT_MAX: mask %s is %s (F32 or F16 expected)", mask->name, qg_type_name(mask->type));
        if (mask->ne[0] != a->ne[0] || mask->ne[1] < a->ne[1] || mask->ne[2] == 0 || mask->ne[3] == 0 ||
            a->ne[2] % mask->ne[2] || a->ne[3] % mask->ne[3])
            return FAIL(ctx, "SOFT_MAX: mask " SHAPE_FMT " does not fit " SHAPE_FMT, SHAPE_ARGS(mask), SHAPE_ARGS(a));
    }
    if (!isfinite(scale)) return FAIL(ctx, "SOFT_MAX: scale is not finite");
    qg_tensor *r = new_node(ctx, QG_OP_SOFT_MAX, QG_TYPE_F32, a->ne);
    if (r) {
        r->src[0] = a;
        r->src[1] = mask;
        qg_set_op_param_f32(r, 0, scale);
    }
    return r;
}

qg_tensor *qg_rope(qg_context *ctx, qg_tensor *a, qg_tensor *pos, int n_dims, int mode, float freq_base,
                   float freq_scale) {
    if (missing(ctx, "ROPE", a) || missing(ctx, "ROPE", pos)) return NULL;
    if (!is_float_type(a->type)) return FAIL(ctx, "ROPE: %s is %s (F32 or F16 expected)", a->name, qg_type_name(a->type));
    if (pos->type != QG_TYPE_I32 || pos->ne[0] != a->ne[2] || qg_nelements(pos) != pos->ne[0])
        return FAIL(ctx, "ROPE: positions must be I32 [%lld], got %s " SHAPE_FMT, (long long)a->ne[2],
                    qg_type_name(pos->type), SHAPE_ARGS(pos));
    if (n_dims <= 0 || n_dims % 2 || n_dims > a->ne[0])
        return FAIL(ctx, "ROPE: n_dims %d must be even and in 1..%lld", n_dims, (long long)a->ne[0]);
    if (mode != QG_ROPE_NORMAL && mode != QG_ROPE_NEOX)
        return qg_ctx_fail(ctx, QG_ERR_INVALID_ARG, "ROPE: unknown mode %d", mode);
    if (!(freq_base > 0.0f) || !isfinite(freq_base) || !(freq_scale > 0.0f) || !isfinite(freq_scale))
        return qg_ctx_fail(ctx, QG_ERR_INVALID_ARG, "ROPE: freq_base %g and freq_scale %g must be > 0",
                           (double)freq_base, (double)freq_scale);
    qg_tensor *r = new_node(ctx, QG_OP_ROPE, a->type, a->ne);
    if (r) {
        r->src[0] = a;
        r->src[1] = pos;
        r->op_params[0] = n_dims;
        r->op_params[1] = mode;
        qg_set_op_param_f32(r, 2, freq_base);
        qg_set_op_param_f32(r, 3, freq_scale);
    }
    return r;
}
