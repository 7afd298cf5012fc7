/* What the OpenCL kernels accept (supports_op). Types:
 *  - plain float types (F32, F16, BF16, F8_E4M3, F8_E5M2) are read and written by every
 *    kernel, with any element stride; F64 by the row kernels (CPY, GET_ROWS, SET_ROWS)
 *    on devices with cl_khr_fp64;
 *  - every block type with a device dequantizer (dequant.cl) can be read: as a GET_ROWS or
 *    CPY/SET_ROWS source, and as MUL_MAT weights; rows of blocks must be packed;
 *  - every block type with a quantizer in the type table also has a device quantizer
 *    (quantize.cl, kquantize.cl) and can be written by CPY, SET_ROWS and GET_ROWS.
 *  Integer types are not handled (only I32/I64 row ids and positions are read).
 * Shapes follow the CPU reference (backends/cpu/supports.c).
 */
#include "ocl.h"

/* Set while one supports_op check runs: whether the device has cl_khr_fp64 (F64 data). */
static _Thread_local bool fp64_ok;

bool ocl_plain_float(qg_type t) {
    return t == QG_TYPE_F32 || t == QG_TYPE_F16 || t == QG_TYPE_BF16 || t == QG_TYPE_F8_E4M3 ||
           t == QG_TYPE_F8_E5M2 || t == QG_TYPE_F64;
}

static bool plain_ok(qg_type t) { return ocl_plain_float(t) && (t != QG_TYPE_F64 || fp64_ok); }

static bool has_dequantizer(qg_type t) {
    switch (t) {
    case QG_TYPE_Q4_0: case QG_TYPE_Q4_1: case QG_TYPE_Q5_0: case QG_TYPE_Q5_1: case QG_TYPE_Q8_0:
    case QG_TYPE_Q8_1: case QG_TYPE_Q2_K: case QG_TYPE_Q3_K: case QG_TYPE_Q4_K: case QG_TYPE_Q5_K:
    case QG_TYPE_Q6_K: case QG_TYPE_IQ4_NL: case QG_TYPE_IQ4_XS: case QG_TYPE_TQ1_0: case QG_TYPE_TQ2_0:
    case QG_TYPE_MXFP4: case QG_TYPE_NVFP4: case QG_TYPE_MXFP8_E4M3: case QG_TYPE_MXFP8_E5M2:
    case QG_TYPE_Q8_K:
        return true;
    default:
        return plain_ok(t);
    }
}

bool ocl_has_quantizer(qg_type t) {
    switch (t) {
    case QG_TYPE_Q4_0: case QG_TYPE_Q4_1: case QG_TYPE_Q5_0: case QG_TYPE_Q5_1: case QG_TYPE_Q8_0:
    case QG_TYPE_Q8_1: case QG_TYPE_MXFP4: case QG_TYPE_NVFP4: case QG_TYPE_MXFP8_E4M3:
    case QG_TYPE_MXFP8_E5M2: case QG_TYPE_TQ1_0: case QG_TYPE_TQ2_0: case QG_TYPE_Q8_K:
    case QG_TYPE_Q2_K: case QG_TYPE_Q3_K: case QG_TYPE_Q4_K: case QG_TYPE_Q5_K: case QG_TYPE_Q6_K:
    case QG_TYPE_IQ4_NL: case QG_TYPE_IQ4_XS:
        return true;
    default:
        return plain_ok(t);
    }
}

static bool shaped(const qg_tensor *t) {
    if (!t || !qg_type_get(t->type)) return false;
    for (int i = 0; i < QG_MAX_DIMS; i++)
        if (t->ne[i] <= 0) return false;
    const qg_type_traits *tt = qg_type_get(t->type);
    if (tt->block_size > 1 && (t->nb[0] != tt->type_size || t->ne[0] % tt->block_size != 0)) return false;
    return true;
}

static bool readable(const qg_tensor *t) { return shaped(t) && has_dequantizer(t->type); }
static bool writable(const qg_tensor *t) { return shaped(t) && ocl_has_quantizer(t->type); }
static bool plain(const qg_tensor *t) { return shaped(t) && plain_ok(t->type) && t->type != QG_TYPE_F64; }

static bool is_ids(const qg_tensor *t) {
    if (!t || (t->type != QG_TYPE_I32 && t->type != QG_TYPE_I64) || t->ne[3] != 1) return false;
    for (int i = 0; i < QG_MAX_DIMS; i++)
        if (t->ne[i] <= 0) return false;
    return true;
}

static bool arith(const qg_tensor *node, const qg_tensor *a) {
    return plain(a) && plain(node) && qg_same_shape(node, a);
}

static bool supports_binary(const qg_tensor *node) {
    const qg_tensor *a = node->src[0], *b = node->src[1];
    if (!arith(node, a) || !plain(b)) return false;
    for (int i = 0; i < QG_MAX_DIMS; i++)
        if (a->ne[i] % b->ne[i] != 0) return false;
    return true;
}

static bool supports_soft_max(const qg_tensor *node) {
    const qg_tensor *a = node->src[0], *m = node->src[1];
    if (!arith(node, a)) return false;
    if (!m) return true;
    if (!plain(m) || (m->type != QG_TYPE_F32 && m->type != QG_TYPE_F16)) return false;
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
    if (!readable(w) || !shaped(x)) return false;
    const qg_type_traits *tw = qg_type_get(w->type);
    if (!tw->vec_dot) return false;
    const qg_type_traits *tv = qg_type_get(tw->vec_dot_type);
    if (!tv || w->ne[0] % tv->block_size != 0) return false;
    if (x->type != QG_TYPE_F32 || node->type != QG_TYPE_F32 || node->nb[0] != sizeof(float)) return false;
    if (x->ne[0] != w->ne[0] || x->ne[2] % w->ne[2] != 0 || x->ne[3] % w->ne[3] != 0) return false;
    return node->ne[0] == w->ne[1] && node->ne[1] == x->ne[1] && node->ne[2] == x->ne[2] &&
           node->ne[3] == x->ne[3];
}

bool ocl_supports_op(const qg_plugin_device *dev, const qg_tensor *node) {
    if (!node || !qg_type_get(node->type)) return false;
    fp64_ok = dev->fp64;
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
