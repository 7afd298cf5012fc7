/* What the CPU kernels accept (supports_op). Rules shared by all ops: every tensor has
 * a known type; rows of block types are packed (nb[0] == block bytes, ne[0] a multiple
 * of the block size) while plain types may have any element stride; inputs are read
 * through the type's to_float and outputs written through its from_float, so:
 *  - ADD, MUL, SCALE, SILU, GELU, RMS_NORM, NORM, SOFT_MAX, ROPE: any non-integer input
 *    type, any non-integer output type with a from_float (F32, F16, BF16, quantized...);
 *  - GET_ROWS: any source type, I32/I64 ids, any writable output;
 *  - SET_ROWS, CPY: any readable source, any writable destination; CPY between shapes
 *    whose rows do not line up needs a plain (block size 1) source;
 *  - MUL_MAT: weights of a type with a vec_dot (packed rows), F32 x with any strides,
 *    contiguous F32 output.
 * View ops and leafs need no work and are always accepted.
 */
#include "cpu.h"

static bool readable(const qg_tensor *t) {
    if (!t) return false;
    const qg_type_traits *tt = qg_type_get(t->type);
    if (!tt || !tt->to_float) return false;
    for (int i = 0; i < QG_MAX_DIMS; i++)
        if (t->ne[i] <= 0) return false;
    if (tt->block_size > 1 && (t->nb[0] != tt->type_size || t->ne[0] % tt->block_size != 0)) return false;
    return true;
}

static bool writable(const qg_tensor *t) {
    return readable(t) && qg_type_get(t->type)->from_float != NULL;
}

static bool is_float_like(const qg_tensor *t) { return !qg_type_get(t->type)->is_integer; }

static bool is_ids(const qg_tensor *t) {
    if (!t || (t->type != QG_TYPE_I32 && t->type != QG_TYPE_I64) || t->ne[3] != 1) return false;
    for (int i = 0; i < QG_MAX_DIMS; i++)
        if (t->ne[i] <= 0) return false;
    return true;
}

/* Plain arithmetic on floats: readable non-integer input, writable non-integer output. */
static bool arith(const qg_tensor *node, const qg_tensor *a) {
    return readable(a) && writable(node) && is_float_like(a) && is_float_like(node) && qg_same_shape(node, a);
}

static bool supports_binary(const qg_tensor *node) {
    const qg_tensor *a = node->src[0], *b = node->src[1];
    if (!arith(node, a) || !readable(b) || !is_float_like(b)) return false;
    for (int i = 0; i < QG_MAX_DIMS; i++)
        if (a->ne[i] % b->ne[i] != 0) return false;
    return true;
}

static bool supports_soft_max(const qg_tensor *node) {
    const qg_tensor *a = node->src[0], *m = node->src[1];
    if (!arith(node, a)) return false;
    if (!m) return true;
    if (!readable(m) || (m->type != QG_TYPE_F32 && m->type != QG_TYPE_F16)) return false;
    return m->ne[0] == a->ne[0] && m->ne[1] >= a->ne[1] && a->ne[2] % m->ne[2] == 0 && a->ne[3] % m->ne[3] == 0;
}

static bool supports_rope(const qg_tensor *node) {
    const qg_tensor *a = node->src[0], *pos = node->src[1];
    const int n_dims = node->op_params[0], mode = node->op_params[1];
    if (!arith(node, a) || !is_ids(pos)) return false;
    if (mode != QG_ROPE_NORMAL && mode != QG_ROPE_NEOX) return false;
    if (n_dims <= 0 || n_dims % 2 != 0 || n_dims > a->ne[0]) return false;
    return pos->ne[0] >= a->ne[2];
}

static bool supports_get_rows(const qg_tensor *node) {
    const qg_tensor *a = node->src[0], *ids = node->src[1];
    if (!readable(a) || !is_ids(ids) || !writable(node)) return false;
    return node->ne[0] == a->ne[0] && node->ne[1] == ids->ne[0] && node->ne[2] % ids->ne[1] == 0 &&
           node->ne[3] % ids->ne[2] == 0 && node->ne[2] % a->ne[2] == 0 && node->ne[3] % a->ne[3] == 0;
}

static bool supports_set_rows(const qg_tensor *node) {
    const qg_tensor *s = node->src[0], *ids = node->src[1];
    if (!readable(s) || !is_ids(ids) || !writable(node)) return false;
    return node->ne[0] == s->ne[0] && ids->ne[0] == s->ne[1] && node->ne[2] == s->ne[2] &&
           node->ne[3] == s->ne[3] && s->ne[2] % ids->ne[1] == 0 && s->ne[3] % ids->ne[2] == 0;
}

static bool supports_cpy(const qg_tensor *node) {
    const qg_tensor *a = node->src[0];
    if (!readable(a) || !writable(node) || qg_nelements(a) != qg_nelements(node)) return false;
    return a->ne[0] == node->ne[0] || qg_type_get(a->type)->block_size == 1;
}

static bool supports_mul_mat(const qg_tensor *node) {
    const qg_tensor *w = node->src[0], *x = node->src[1];
    if (!readable(w) || !readable(x)) return false;
    const qg_type_traits *tw = qg_type_get(w->type);
    if (!tw->vec_dot || w->nb[0] != tw->type_size) return false;
    const qg_type_traits *tv = qg_type_get(tw->vec_dot_type);
    if (!tv || !tv->from_float || w->ne[0] % tv->block_size != 0) return false;
    if (x->type != QG_TYPE_F32 || node->type != QG_TYPE_F32 || node->nb[0] != sizeof(float)) return false;
    if (x->ne[0] != w->ne[0] || x->ne[2] % w->ne[2] != 0 || x->ne[3] % w->ne[3] != 0) return false;
    return node->ne[0] == w->ne[1] && node->ne[1] == x->ne[1] && node->ne[2] == x->ne[2] &&
           node->ne[3] == x->ne[3];
}

bool cpu_supports_op(const qg_tensor *node) {
    if (!node || !qg_type_get(node->type)) return false;
    switch (node->op) {
    case QG_OP_NONE:
    case QG_OP_VIEW:
    case QG_OP_RESHAPE:
    case QG_OP_PERMUTE:
    case QG_OP_TRANSPOSE:
        return true;
    case QG_OP_ADD:
    case QG_OP_MUL:
        return supports_binary(node);
    case QG_OP_SCALE:
    case QG_OP_SILU:
    case QG_OP_GELU:
    case QG_OP_RMS_NORM:
    case QG_OP_NORM:
        return arith(node, node->src[0]);
    case QG_OP_SOFT_MAX:
        return supports_soft_max(node);
    case QG_OP_ROPE:
        return supports_rope(node);
    case QG_OP_GET_ROWS:
        return supports_get_rows(node);
    case QG_OP_SET_ROWS:
        return supports_set_rows(node);
    case QG_OP_CPY:
        return supports_cpy(node);
    case QG_OP_MUL_MAT:
        return supports_mul_mat(node);
    case QG_OP_COUNT:
        break;
    }
    return false;
}
