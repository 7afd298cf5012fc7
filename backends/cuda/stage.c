/* Staged outputs: ops compute floats; a result of a block type (Q4_0, Q4_K...) is
 * produced as contiguous float rows in scratch first, each row tagged with the byte offset
 * of its destination, and then quantized in one pass, on the device for the types with
 * a device quantizer, else with the host's reference quantizer (rows_host.c).
 */
#include "cu.h"

static size_t round_up(size_t n) { return (n + CU_ALIGN - 1) / CU_ALIGN * CU_ALIGN; }

qg_status cu_stage_begin(qg_plugin_device *dev, qg_type type, int64_t ne0, int64_t n_rows, size_t extra_bytes,
                         cu_stage *s) {
    const size_t row_bytes = qg_row_size(type, ne0);
    if (row_bytes == 0) return qg_set_error(QG_ERR_SHAPE, "cuda: rows of %lld %s values are not whole blocks",
                                            (long long)ne0, qg_type_name(type));
    const size_t f_bytes = round_up((size_t)ne0 * (size_t)n_rows * sizeof(float));
    const size_t o_bytes = round_up((size_t)n_rows * sizeof(int64_t));
    const size_t q_bytes = round_up(row_bytes * (size_t)n_rows);
    char *p = cu_scratch_get(dev, &dev->op_scratch, f_bytes + o_bytes + q_bytes + round_up(extra_bytes));
    if (!p) return QG_ERR_NO_MEMORY;
    s->rows = (float *)p;
    s->off = (int64_t *)(p + f_bytes);
    s->qbytes = p + f_bytes + o_bytes;
    s->extra = p + f_bytes + o_bytes + q_bytes;
    s->ne0 = ne0;
    s->n_rows = n_rows;
    return QG_OK;
}

qg_status cu_stage_store(qg_plugin_device *dev, qg_type type, char *base, const cu_stage *s) {
    if (s->n_rows == 0) return QG_OK;
    if (cu_device_quantizer(type)) return cu_launch_quantize(dev, type, base, s);
    return cu_stage_store_host(dev, type, base, s);
}

qg_status cu_out_begin(qg_plugin_device *dev, const qg_tensor *node, cu_out *out) {
    cu_tensor_of(node, &out->t);
    out->staged = !cu_plain_type(node->type);
    if (!out->staged) return QG_OK;
    qg_status st = cu_stage_begin(dev, node->type, node->ne[0], qg_nrows(node), 0, &out->stage);
    if (st != QG_OK) return st;
    out->t.type = QG_TYPE_F32;
    out->t.data = (char *)out->stage.rows;
    out->t.nb[0] = sizeof(float);
    for (int i = 1; i < 4; i++) out->t.nb[i] = out->t.nb[i - 1] * out->t.ne[i - 1];
    return QG_OK;
}

qg_status cu_out_end(qg_plugin_device *dev, const qg_tensor *node, cu_out *out) {
    if (!out->staged) return QG_OK;
    int64_t nb[4];
    for (int i = 0; i < 4; i++) nb[i] = (int64_t)node->nb[i];
    qg_status st = cu_launch_row_offsets(dev, node->ne, nb, out->stage.off);
    if (st != QG_OK) return st;
    return cu_stage_store(dev, node->type, (char *)node->data, &out->stage);
}
