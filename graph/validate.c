/* qg_node_well_formed: the shape and parameter contract of each op, in one place. The
 * builders (ops*.c) guarantee it with explanatory errors; backends call this before
 * checking the types their kernels handle, so no backend restates the shape rules. */
#include "qg/graph.h"

static bool shaped(const qg_tensor *t) {
    if (!t) return false;
    const qg_type_traits *tt = qg_type_get(t->type);
    if (!tt) return false;
    for (int i = 0; i < QG_MAX_DIMS; i++)
        if (t->ne[i] <= 0) return false;
    /* Rows of block types are packed blocks. */
    return tt->block_size == 1 || (t->nb[0] == tt->type_size && t->ne[0] % tt->block_size == 0);
}

static bool ids_ok(const qg_tensor *t) {
    return shaped(t) && (t->type == QG_TYPE_I32 || t->type == QG_TYPE_I64) && t->ne[3] == 1;
}

static bool broadcasts(const qg_tensor *b, const qg_tensor *a, int from_dim) {
    for (int i = from_dim; i < QG_MAX_DIMS; i++)
        if (a->ne[i] % b->ne[i] != 0) return false;
    return true;
}

static bool soft_max_ok(const qg_tensor *node, const qg_tensor *a, const qg_tensor *m) {
    if (!m) return true;
    if (!shaped(m) || (m->type != QG_TYPE_F32 && m->type != QG_TYPE_F16)) return false;
    return m->ne[0] == a->ne[0] && m->ne[1] >= a->ne[1] && broadcasts(m, node, 2);
}

static bool rope_ok(const qg_tensor *node, const qg_tensor *a, const qg_tensor *pos) {
    const int n_dims = node->op_params[0], mode = node->op_params[1];
    if (!ids_ok(pos) || (mode != QG_ROPE_NORMAL && mode != QG_ROPE_NEOX)) return false;
    return n_dims > 0 && n_dims % 2 == 0 && n_dims <= a->ne[0] && pos->ne[0] >= a->ne[2];
}

static bool get_rows_ok(const qg_tensor *node, const qg_tensor *a, const qg_tensor *ids) {
    return ids_ok(ids) && node->ne[0] == a->ne[0] && node->ne[1] == ids->ne[0] && node->ne[2] % ids->ne[1] == 0 &&
           node->ne[3] % ids->ne[2] == 0 && node->ne[2] % a->ne[2] == 0 && node->ne[3] % a->ne[3] == 0;
}

static bool set_rows_ok(const qg_tensor *node, const qg_tensor *s, const qg_tensor *ids) {
    return ids_ok(ids) && node->ne[0] == s->ne[0] && ids->ne[0] == s->ne[1] && node->ne[2] == s->ne[2] &&
           node->ne[3] == s->ne[3] && s->ne[2] % ids->ne[1] == 0 && s->ne[3] % ids->ne[2] == 0;
}

static bool mul_mat_ok(const qg_tensor *node, const qg_tensor *w, const qg_tensor *x) {
    const qg_type_traits *tw = qg_type_get(w->type);
    const qg_type_traits *tv = tw->vec_dot ? qg_type_get(tw->vec_dot_type) : NULL;
    if (!tv || w->nb[0] != tw->type_size || w->ne[0] % tv->block_size != 0) return false;
    if (x->type != QG_TYPE_F32 || node->type != QG_TYPE_F32 || node->nb[0] != sizeof(float)) return false;
    if (x->ne[0] != w->ne[0] || x->ne[2] % w->ne[2] != 0 || x->ne[3] % w->ne[3] != 0) return false;
    return node->ne[0] == w->ne[1] && node->ne[1] == x->ne[1] && node->ne[2] == x->ne[2] && node->ne[3] == x->ne[3];
}

bool qg_node_well_formed(const qg_tensor *node) {
    if (!node || (unsigned)node->op >= QG_OP_COUNT) return false;
    if (node->op == QG_OP_NONE || qg_op_is_view(node->op)) return qg_type_get(node->type) != NULL;
    const qg_tensor *a = node->src[0], *b = node->src[1];
    if (!shaped(node) || !shaped(a)) return false;
    switch (node->op) {
    case QG_OP_ADD:
    case QG_OP_MUL:
        return qg_same_shape(node, a) && shaped(b) && broadcasts(b, a, 0);
    case QG_OP_SCALE:
    case QG_OP_SILU:
    case QG_OP_GELU:
    case QG_OP_RMS_NORM:
    case QG_OP_NORM:
        return qg_same_shape(node, a);
    case QG_OP_SOFT_MAX:
        return qg_same_shape(node, a) && soft_max_ok(node, a, b);
    case QG_OP_ROPE:
        return qg_same_shape(node, a) && rope_ok(node, a, b);
    case QG_OP_GET_ROWS:
        return get_rows_ok(node, a, b);
    case QG_OP_SET_ROWS:
        return set_rows_ok(node, a, b);
    case QG_OP_CPY:
        return qg_nelements(a) == qg_nelements(node) &&
               (a->ne[0] == node->ne[0] || qg_type_get(a->type)->block_size == 1);
    case QG_OP_MUL_MAT:
        return shaped(b) && mul_mat_ok(node, a, b);
    default:
        return false;
    }
}
