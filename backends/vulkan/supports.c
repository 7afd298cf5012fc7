/* What the Vulkan kernels accept (supports_op); the same rules as the CPU reference
 * (backends/cpu/supports.c) restricted to what the kernels implement:
 *  - readable types: F32, F16, BF16, F8, I8/I16/I32 and every block type (their
 *    dequantizers are in shaders/vulkan/types.glsl); F64 only for CPY, GET_ROWS and
 *    SET_ROWS on devices with shaderFloat64 (kernel variant rows_f64); I64 only as ids;
 *  - writable types: the plain ones above and every block type (device quantizers in
 *    shaders/vulkan/store.glsl and kquant.glsl);
 *  - NORM, RMS_NORM, SOFT_MAX and ROPE write element by element: plain output types;
 *  - every byte address must fit the kernels' 32-bit offsets, and every tensor one
 *    binding window (maxStorageBufferRange), except 2-D MUL_MAT weights (split by rows).
 */
#include "vk.h"
#include "qg/graph.h"

bool vk_type_readable(qg_type t) {
    const qg_type_traits *tt = qg_type_get(t);
    if (!tt) return false;
    switch (t) {
    case QG_TYPE_F64:
    case QG_TYPE_I64:
        return false;
    default:
        return true;
    }
}

bool vk_type_writable(qg_type t) {
    switch (t) {
    case QG_TYPE_F32: case QG_TYPE_F16: case QG_TYPE_BF16: case QG_TYPE_F8_E4M3: case QG_TYPE_F8_E5M2:
    case QG_TYPE_I8: case QG_TYPE_I16: case QG_TYPE_I32:
    case QG_TYPE_Q4_0: case QG_TYPE_Q4_1: case QG_TYPE_Q5_0: case QG_TYPE_Q5_1: case QG_TYPE_Q8_0:
    case QG_TYPE_Q8_1: case QG_TYPE_IQ4_NL: case QG_TYPE_MXFP4: case QG_TYPE_NVFP4:
    case QG_TYPE_MXFP8_E4M3: case QG_TYPE_MXFP8_E5M2: case QG_TYPE_Q8_K:
    case QG_TYPE_TQ1_0: case QG_TYPE_TQ2_0:
    case QG_TYPE_Q2_K: case QG_TYPE_Q3_K: case QG_TYPE_Q4_K: case QG_TYPE_Q5_K: case QG_TYPE_Q6_K:
    case QG_TYPE_IQ4_XS:
        return true;
    default:
        return false;
    }
}

const char *vk_weight_name(qg_type t) {
    switch (t) {
    case QG_TYPE_F32: return "f32";
    case QG_TYPE_F16: return "f16";
    case QG_TYPE_BF16: return "bf16";
    case QG_TYPE_Q4_0: return "q4_0";
    case QG_TYPE_Q4_1: return "q4_1";
    case QG_TYPE_Q5_0: return "q5_0";
    case QG_TYPE_Q5_1: return "q5_1";
    case QG_TYPE_Q8_0: return "q8_0";
    case QG_TYPE_Q2_K: return "q2_k";
    case QG_TYPE_Q3_K: return "q3_k";
    case QG_TYPE_Q4_K: return "q4_k";
    case QG_TYPE_Q5_K: return "q5_k";
    case QG_TYPE_Q6_K: return "q6_k";
    case QG_TYPE_IQ4_NL: return "iq4_nl";
    case QG_TYPE_IQ4_XS: return "iq4_xs";
    case QG_TYPE_TQ1_0: return "tq1_0";
    case QG_TYPE_TQ2_0: return "tq2_0";
    case QG_TYPE_MXFP4: return "mxfp4";
    case QG_TYPE_NVFP4: return "nvfp4";
    case QG_TYPE_F8_E4M3: return "f8_e4m3";
    case QG_TYPE_F8_E5M2: return "f8_e5m2";
    case QG_TYPE_MXFP8_E4M3: return "mxfp8_e4m3";
    case QG_TYPE_MXFP8_E5M2: return "mxfp8_e5m2";
    default: return NULL;
    }
}

#define LIMIT 0x7fffffffu

static bool shape_ok(const qg_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < QG_MAX_DIMS; i++) {
        if (t->ne[i] <= 0 || t->ne[i] > LIMIT || t->nb[i] > LIMIT) return false;
        n *= t->ne[i];
        if (n > LIMIT) return false;
    }
    return qg_nbytes(t) <= LIMIT;
}

static bool readable(const qg_tensor *t) {
    if (!t || !vk_type_readable(t->type) || !shape_ok(t)) return false;
    const qg_type_traits *tt = qg_type_get(t->type);
    if (tt->block_size > 1 && (t->nb[0] != tt->type_size || t->ne[0] % tt->block_size != 0)) return false;
    return true;
}

static bool writable(const qg_tensor *t) { return readable(t) && vk_type_writable(t->type); }

/* Row movers (CPY, GET_ROWS, SET_ROWS) also read and write F64 on devices with
 * shaderFloat64 (the rows_f64 kernel variant). */
static bool f64_ok(const qg_plugin_device *d, const qg_tensor *t) {
    return t && t->type == QG_TYPE_F64 && d->has_f64 && shape_ok(t);
}
static bool rows_readable(const qg_plugin_device *d, const qg_tensor *t) { return readable(t) || f64_ok(d, t); }
static bool rows_writable(const qg_plugin_device *d, const qg_tensor *t) { return writable(t) || f64_ok(d, t); }
static bool plain_out(const qg_tensor *t) { return writable(t) && qg_type_get(t->type)->block_size == 1; }
static bool float_like(const qg_tensor *t) { return !qg_type_get(t->type)->is_integer; }

/* Shapes are checked once by qg_node_well_formed; what remains here is types, the
 * 32-bit addressing limits (shape_ok) and what the kernel variants cover. */
static bool arith(const qg_tensor *node, const qg_tensor *a) {
    return readable(a) && writable(node) && float_like(a) && float_like(node);
}

static bool supports_binary(const qg_tensor *node) {
    const qg_tensor *b = node->src[1];
    return arith(node, node->src[0]) && readable(b) && float_like(b);
}

static bool supports_soft_max(const qg_tensor *node) {
    const qg_tensor *m = node->src[1];
    return arith(node, node->src[0]) && plain_out(node) && (!m || readable(m));
}

static bool supports_rope(const qg_tensor *node) {
    /* ids need the 32-bit limits too; the kernels handle at most 4096 rotated dims */
    return arith(node, node->src[0]) && plain_out(node) && shape_ok(node->src[1]) && node->op_params[0] <= 4096;
}

static bool supports_rows(const qg_plugin_device *d, const qg_tensor *node) {
    const qg_tensor *a = node->src[0];
    if (!rows_readable(d, a) || !rows_writable(d, node)) return false;
    if (node->op == QG_OP_CPY) return true;
    return shape_ok(node->src[1]); /* the ids */
}

static bool supports_mul_mat(const qg_tensor *node) {
    const qg_tensor *w = node->src[0], *x = node->src[1];
    return readable(w) && readable(x) && shape_ok(node) && vk_weight_name(w->type);
}

/* Whether t fits one binding window (maxStorageBufferRange). MUL_MAT weights of one
 * plane may be larger: they are split by rows (ops.c), so one row must fit. */
static bool fits(const qg_plugin_device *d, const qg_tensor *node, int s) {
    const qg_tensor *t = s < 0 ? node : node->src[s];
    if (!t) return true;
    if (qg_nbytes(t) + d->min_align <= d->max_range) return true;
    return node->op == QG_OP_MUL_MAT && s == 0 && t->ne[2] == 1 && t->ne[3] == 1 &&
           t->nb[1] >= qg_row_size(t->type, t->ne[0]) && t->nb[1] + d->min_align <= d->max_range;
}

static bool supports_op(qg_plugin_device *d, const qg_tensor *node);

bool vk_supports(qg_plugin_device *d, const qg_tensor *node) {
    if (!supports_op(d, node)) return false;
    if (node->op == QG_OP_NONE || qg_op_is_view(node->op)) return true;
    for (int s = -1; s < QG_MAX_SRC; s++)
        if (!fits(d, node, s)) return false;
    return true;
}

static bool supports_op(qg_plugin_device *d, const qg_tensor *node) {
    if (!qg_node_well_formed(node)) return false;
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
        return arith(node, node->src[0]);
    case QG_OP_RMS_NORM:
    case QG_OP_NORM:
        return arith(node, node->src[0]) && plain_out(node);
    case QG_OP_SOFT_MAX:
        return supports_soft_max(node);
    case QG_OP_ROPE:
        return supports_rope(node);
    case QG_OP_GET_ROWS:
    case QG_OP_SET_ROWS:
    case QG_OP_CPY:
        return supports_rows(d, node);
    case QG_OP_MUL_MAT:
        return supports_mul_mat(node);
    case QG_OP_COUNT:
        break;
    }
    return false;
}
