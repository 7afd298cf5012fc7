/* What the CUDA kernels accept (supports_op). Shapes are checked once by
 * qg_node_well_formed; what remains here is types:
 *  - plain types (F32, F16, BF16, F8_E4M3, F8_E5M2, F64, I8..I64) are read and written
 *    element by element with any element stride;
 *  - every block type is read through the device dequantizers (dequant.cuh), and every
 *    block type with a from_float can be written: on the device for the types of
 *    quantize.cuh, through the host's reference quantizer for the rest (rows_host.c);
 *  - arithmetic ops take non-integer inputs and outputs, like the CPU reference;
 *  - MUL_MAT is whatever the matrix kernels (mm.h) accept.
 */
#include "cu.h"
#include "mm.h"
#include "qg/graph.h"

bool cu_plain_type(qg_type t) {
    switch (t) {
    case QG_TYPE_F32: case QG_TYPE_F16: case QG_TYPE_BF16: case QG_TYPE_F8_E4M3: case QG_TYPE_F8_E5M2:
    case QG_TYPE_F64: case QG_TYPE_I8: case QG_TYPE_I16: case QG_TYPE_I32: case QG_TYPE_I64:
        return true;
    default:
        return false;
    }
}

bool cu_device_quantizer(qg_type t) {
    switch (t) {
    case QG_TYPE_Q4_0: case QG_TYPE_Q4_1: case QG_TYPE_Q5_0: case QG_TYPE_Q5_1: case QG_TYPE_Q8_0:
    case QG_TYPE_Q8_1: case QG_TYPE_IQ4_NL: case QG_TYPE_MXFP8_E4M3: case QG_TYPE_MXFP8_E5M2:
        return true;
    default:
        return false;
    }
}

/* Readable: every known type (the dequantizers cover all block types of the table). */
static bool readable(const qg_tensor *t) {
    const qg_type_traits *tt = qg_type_get(t->type);
    return tt && tt->to_float;
}

static bool writable(const qg_tensor *t) {
    const qg_type_traits *tt = qg_type_get(t->type);
    return tt && tt->from_float && (cu_plain_type(t->type) || tt->block_size > 1);
}

static bool is_float_like(const qg_tensor *t) { return !qg_type_get(t->type)->is_integer; }

static bool arith(const qg_tensor *node, const qg_tensor *a) {
    return readable(a) && writable(node) && is_float_like(a) && is_float_like(node);
}

bool cu_supports_op(const qg_plugin_device *dev, const qg_tensor *node) {
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
        return arith(node, node->src[0]) && readable(node->src[1]) && is_float_like(node->src[1]);
    case QG_OP_SCALE:
    case QG_OP_SILU:
    case QG_OP_GELU:
    case QG_OP_RMS_NORM:
    case QG_OP_NORM:
    case QG_OP_SOFT_MAX:
    case QG_OP_ROPE:
        return arith(node, node->src[0]);
    case QG_OP_GET_ROWS:
    case QG_OP_SET_ROWS:
    case QG_OP_CPY:
        return readable(node->src[0]) && writable(node);
    case QG_OP_MUL_MAT: {
        qgcu_mm_env env = {.stream = dev->stream, .device = dev->index, .cc = dev->cc, .sm_count = dev->sm_count};
        return qgcu_mul_mat_supported(&env, node);
    }
    case QG_OP_COUNT:
        break;
    }
    return false;
}
