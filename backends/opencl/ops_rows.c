/* Host side of GET_ROWS, SET_ROWS and CPY (rows.cl): the program is specialised for the
 * (source type, destination type) pair; one work-item per destination block of a row
 * (per element for plain destinations). Row ids are checked on the device (see
 * compute.c for how a bad id becomes an error).
 */
#include "ocl.h"

qg_status ocl_op_rows(qg_plugin_device *dev, qg_tensor *node) {
    const qg_tensor *src = node->src[0];
    const char *name = node->op == QG_OP_GET_ROWS ? "get_rows" : node->op == QG_OP_SET_ROWS ? "set_rows" : "cpy";
    cl_kernel k;
    qg_status st = ocl_kernel(dev, OCL_FAM_TYPED, ocl_program_type(dev, src->type), ocl_program_type(dev, node->type), name, &k);
    if (st != QG_OK) return st;
    ocl_args a = {.k = k};
    arg_tensor(&a, dev, src);
    arg_int(&a, (int)src->type);
    if (node->op != QG_OP_CPY) {
        arg_tensor(&a, dev, node->src[1]);
        arg_int(&a, node->src[1]->type == QG_TYPE_I64);
    }
    arg_tensor(&a, dev, node);
    arg_int(&a, (int)node->type);
    if (node->op != QG_OP_CPY) arg_mem(&a, dev->err);
    st = args_done(&a, name);
    if (st == QG_OK) {
        const int64_t dqk = qg_type_get(node->type)->block_size;
        const qg_tensor *r = node->op == QG_OP_SET_ROWS ? src : node;
        const size_t global[2] = {(size_t)(node->ne[0] / dqk), (size_t)(r->ne[1] * r->ne[2] * r->ne[3])};
        st = ocl_launch(dev, k, 2, global, NULL, name);
    }
    clReleaseKernel(k);
    return st;
}
