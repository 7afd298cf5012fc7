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
#include "qg/graph.h"

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

/* Shapes are checked once by qg_node_well_formed; what remains here is types. */
static bool readable(const qg_tensor *t) { return has_dequantizer(t->type); }
static bool writable(const qg_tensor *t) { return ocl_has_quantizer(t->type); }
static bool plain(const qg_tensor *t) { return plain_ok(t->type) && t->type != QG_TYPE_F64; }

static bool arith(const qg_tensor *node, const qg_tensor *a) { return plain(a) && plain(node); }

static bool supports_binary(const qg_tensor *node) {
    return arith(node, node->src[0]) && plain(node->src[1]);
}

static bool supports_rows(const qg_tensor *node) { return readable(node->src[0]) && writable(node); }

bool ocl_supports_op(const qg_plugin_device *dev, const qg_tensor *node) {
    if (!qg_node_well_formed(node)) return false;
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
    case QG_OP_SOFT_MAX: /* a mask is F32 or F16 (the contract), both plain here */
    case QG_OP_ROPE:
        return arith(node, node->src[0]);
    case QG_OP_GET_ROWS:
    case QG_OP_SET_ROWS:
    case QG_OP_CPY:
        return supports_rows(node);
    case QG_OP_MUL_MAT:
        return readable(node->src[0]);
    case QG_OP_COUNT:
        break;
    }
    return false;
}
