/* The host round trip for block types without a device quantizer (the K-quants, Q8_K,
 * IQ4_XS, TQ1_0/TQ2_0, MXFP4, NVFP4): the staged float rows and their destination
 * offsets are copied to the host, quantized with the type table's reference from_float
 * (so the bytes equal cpu-ref's), uploaded to scratch and scattered to their rows by a
 * kernel. It waits for the stream; none of these types is written on an inference hot
 * path (they are weight formats), so simplicity wins over speed here.
 */
#include "cu.h"

#include <stdlib.h>

qg_status cu_stage_store_host(qg_plugin_device *dev, qg_type type, char *base, const cu_stage *s) {
    const qg_type_traits *tt = qg_type_get(type);
    if (!tt || !tt->from_float)
        return qg_set_error(QG_ERR_UNSUPPORTED, "cuda: %s has no quantizer", qg_type_name(type));
    const size_t row_bytes = qg_row_size(type, s->ne0);
    const size_t n_f = (size_t)s->ne0 * (size_t)s->n_rows;
    float *f = malloc(n_f * sizeof(float));
    unsigned char *q = malloc(row_bytes * (size_t)s->n_rows);
    if (!f || !q) {
        free(f);
        free(q);
        return qg_set_error(QG_ERR_NO_MEMORY, "cuda: no host memory to quantize %lld rows of %s",
                            (long long)s->n_rows, tt->name);
    }
    cudaError_t err = cudaMemcpyAsync(f, s->rows, n_f * sizeof(float), cudaMemcpyDeviceToHost, dev->stream);
    if (err == cudaSuccess) err = cudaStreamSynchronize(dev->stream);
    qg_status st = QG_OK;
    if (err != cudaSuccess) {
        st = cu_failf(err, "%s: reading %lld rows to quantize as %s on the host", dev->name, (long long)s->n_rows,
                      tt->name);
    } else {
        for (int64_t r = 0; r < s->n_rows; r++)
            tt->from_float(f + (size_t)r * (size_t)s->ne0, q + (size_t)r * row_bytes, s->ne0);
        err = cudaMemcpyAsync(s->qbytes, q, row_bytes * (size_t)s->n_rows, cudaMemcpyHostToDevice, dev->stream);
        if (err == cudaSuccess) st = cu_launch_scatter(dev, base, s, row_bytes);
        else st = cu_failf(err, "%s: uploading %s rows", dev->name, tt->name);
        /* the pageable source q must outlive the copy */
        if (st == QG_OK) {
            err = cudaStreamSynchronize(dev->stream);
            if (err != cudaSuccess) st = cu_failf(err, "%s: writing %s rows", dev->name, tt->name);
        }
    }
    free(f);
    free(q);
    return st;
}
