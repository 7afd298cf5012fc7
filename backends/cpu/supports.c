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
#include "qg/graph.h"

/* Shapes are checked once by qg_node_well_formed; what remains here is types. */
static bool readable(const qg_tensor *t) { return qg_type_get(t->type)->to_float != NULL; }
static bool writable(const qg_tensor *t) { return qg_type_get(t->type)->from_float != NULL; }
static bool is_float_like(const qg_tensor *t) { return !qg_type_get(t->type)->is_integer; }

/* Plain arithmetic on floats: readable non-integer input, writable non-integer output. */
static bool arith(const qg_tensor *node, const qg_tensor *a) {
    return readable(a) && writable(node) && is_float_like(a) && is_float_like(node);
}

static bool supports_binary(const qg_tensor *node) {
    const qg_tensor *b = node->src[1];
    return arith(node, node->src[0]) && readable(b) && is_float_like(b);
}

static bool supports_rows(const qg_tensor *node) { return readable(node->src[0]) && writable(node); }

static bool supports_mul_mat(const qg_tensor *node) {
    /* The activations are converted with the partner type's quantizer. */
    const qg_type_traits *tv = qg_type_get(qg_type_get(node->src[0]->type)->vec_dot_type);
    return tv && tv->from_float;
}

bool cpu_supports_op(const qg_tensor *node) {
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
    case QG_OP_RMS_NORM:
    case QG_OP_NORM:
    case QG_OP_SOFT_MAX:
    case QG_OP_ROPE:
        return arith(node, node->src[0]);
    case QG_OP_GET_ROWS:
    case QG_OP_SET_ROWS:
    case QG_OP_CPY:
        return supports_rows(node);
    case QG_OP_MUL_MAT:
        return supports_mul_mat(node);
    case QG_OP_COUNT:
        break;
    }
    return false;
}
