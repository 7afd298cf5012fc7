// Row-moving kernels: GET_ROWS (gather rows of any type), SET_ROWS (scatter rows into a
// destination, KV-cache style) and CPY (copy with type conversion between any two shapes
// of equal element count, element order kept). Sources of every type are read through
// elem.cuh; plain destinations are written directly, block-typed ones through a stage
// (stage.c). Row ids are data: a bad id raises the device error flag (compute.c reports
// it) and its row is not written. SET_ROWS resolves duplicate ids to the last source row,
// as cpu-ref's sequential loop does: each destination row keeps the highest source index
// that claimed it (atomicMax) and only that source row writes it.
#include "elem.cuh"

namespace {

__global__ void get_rows_kernel(cu_tensor o, cu_tensor a, cu_tensor ids, int *err) {
    const int64_t n_rows = o.ne[1] * o.ne[2] * o.ne[3];
    for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
        int64_t i1, i2, i3;
        cu_unravel_row(o.ne, r, &i1, &i2, &i3);
        const int64_t id = cu_load_id(ids, i1, i2 % ids.ne[1], i3 % ids.ne[2]);
        if (id < 0 || id >= a.ne[1]) {
            if (threadIdx.x == 0) cu_flag_bad_id(err, id);
            continue;
        }
        const char *ra = cu_row(a, id, i2 % a.ne[2], i3 % a.ne[3]);
        for (int64_t i0 = threadIdx.x; i0 < o.ne[0]; i0 += blockDim.x) cu_store(o, i0, i1, i2, i3, cu_load_in_row(a, ra, i0));
    }
}

// Destination row of source row (i, i2, i3) of SET_ROWS, or -1 for a bad id.
__device__ int64_t set_rows_id(const cu_tensor &ids, int64_t i, int64_t i2, int64_t i3, int64_t rows) {
    const int64_t id = cu_load_id(ids, i, i2 % ids.ne[1], i3 % ids.ne[2]);
    return id >= 0 && id < rows ? id : -1;
}

__global__ void set_rows_claim(cu_tensor src, cu_tensor ids, int64_t rows, int *winner, int *err) {
    const int64_t n_rows = src.ne[1] * src.ne[2] * src.ne[3];
    for (int64_t r = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; r < n_rows; r += (int64_t)gridDim.x * blockDim.x) {
        int64_t i, i2, i3;
        cu_unravel_row(src.ne, r, &i, &i2, &i3);
        const int64_t id = set_rows_id(ids, i, i2, i3, rows);
        if (id < 0) {
            cu_flag_bad_id(err, cu_load_id(ids, i, i2 % ids.ne[1], i3 % ids.ne[2]));
            continue;
        }
        atomicMax(&winner[(i3 * src.ne[2] + i2) * rows + id], (int)i);
    }
}

// Plain destination: the winning source rows write their converted values.
__global__ void set_rows_plain(cu_tensor dst, cu_tensor src, cu_tensor ids, const int *winner) {
    const int64_t n_rows = src.ne[1] * src.ne[2] * src.ne[3], rows = dst.ne[1];
    for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
        int64_t i, i2, i3;
        cu_unravel_row(src.ne, r, &i, &i2, &i3);
        const int64_t id = set_rows_id(ids, i, i2, i3, rows);
        if (id < 0 || winner[(i3 * src.ne[2] + i2) * rows + id] != (int)i) continue;
        const char *rs = cu_row(src, i, i2, i3);
        for (int64_t i0 = threadIdx.x; i0 < src.ne[0]; i0 += blockDim.x)
            cu_store(dst, i0, id, i2, i3, cu_load_in_row(src, rs, i0));
    }
}

// Block destination: every source row is staged as floats; the winners get the offset
// of their destination row, the others -1.
__global__ void set_rows_stage(cu_tensor dst, cu_tensor src, cu_tensor ids, const int *winner, float *rows_f,
                               int64_t *off) {
    const int64_t n_rows = src.ne[1] * src.ne[2] * src.ne[3], rows = dst.ne[1], n0 = src.ne[0];
    for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
        int64_t i, i2, i3;
        cu_unravel_row(src.ne, r, &i, &i2, &i3);
        const int64_t id = set_rows_id(ids, i, i2, i3, rows);
        const bool win = id >= 0 && winner[(i3 * src.ne[2] + i2) * rows + id] == (int)i;
        if (threadIdx.x == 0) off[r] = win ? id * dst.nb[1] + i2 * dst.nb[2] + i3 * dst.nb[3] : -1;
        if (!win) { // keep the staged row defined (the host quantizer reads every row)
            for (int64_t i0 = threadIdx.x; i0 < n0; i0 += blockDim.x) rows_f[r * n0 + i0] = 0.0f;
            continue;
        }
        const char *rs = cu_row(src, i, i2, i3);
        for (int64_t i0 = threadIdx.x; i0 < n0; i0 += blockDim.x) rows_f[r * n0 + i0] = cu_load_in_row(src, rs, i0);
    }
}

__global__ void cpy_kernel(cu_tensor o, cu_tensor a) {
    const int64_t n_rows = o.ne[1] * o.ne[2] * o.ne[3], n0 = o.ne[0];
    const bool aligned = a.ne[0] == n0;
    for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
        int64_t i1, i2, i3;
        cu_unravel_row(o.ne, r, &i1, &i2, &i3);
        if (aligned) { // row r of the destination is row r of the source
            int64_t j1, j2, j3;
            cu_unravel_row(a.ne, r, &j1, &j2, &j3);
            const char *ra = cu_row(a, j1, j2, j3);
            for (int64_t i0 = threadIdx.x; i0 < n0; i0 += blockDim.x) cu_store(o, i0, i1, i2, i3, cu_load_in_row(a, ra, i0));
        } else { // element L in row-major order (plain sources only)
            for (int64_t i0 = threadIdx.x; i0 < n0; i0 += blockDim.x) {
                int64_t L = r * n0 + i0;
                const int64_t j0 = L % a.ne[0];
                L /= a.ne[0];
                const int64_t j1 = L % a.ne[1];
                L /= a.ne[1];
                const int64_t j2 = L % a.ne[2], j3 = L / a.ne[2];
                cu_store(o, i0, i1, i2, i3, cu_load(a, j0, j1, j2, j3));
            }
        }
    }
}

unsigned threads_for(int64_t ne0) { return ne0 >= 256 ? 256 : ne0 >= 128 ? 128 : ne0 >= 64 ? 64 : 32; }

} // namespace

extern "C" qg_status cu_op_get_rows(qg_plugin_device *dev, qg_tensor *node) {
    cu_out out;
    qg_status st = cu_out_begin(dev, node, &out);
    if (st != QG_OK) return st;
    cu_tensor a, ids;
    cu_tensor_of(node->src[0], &a);
    cu_tensor_of(node->src[1], &ids);
    get_rows_kernel<<<cu_row_grid(qg_nrows(node)), threads_for(node->ne[0]), 0, dev->stream>>>(out.t, a, ids,
                                                                                              dev->err_dev);
    if ((st = cu_launched("get_rows_kernel")) != QG_OK) return st;
    return cu_out_end(dev, node, &out);
}

extern "C" qg_status cu_op_set_rows(qg_plugin_device *dev, qg_tensor *node) {
    const qg_tensor *src = node->src[0];
    cu_tensor d, s, ids;
    cu_tensor_of(node, &d);
    cu_tensor_of(src, &s);
    cu_tensor_of(node->src[1], &ids);
    const int64_t n_src = qg_nrows(src);
    const size_t win_bytes = (size_t)(node->ne[1] * node->ne[2] * node->ne[3]) * sizeof(int);
    if (node->ne[1] > 0 && src->ne[1] > 0x7fffffff)
        return qg_set_error(QG_ERR_UNSUPPORTED, "cuda: SET_ROWS with more than 2^31 source rows");
    const bool staged = !cu_plain_type(node->type);
    cu_stage stage;
    int *winner;
    qg_status st;
    if (staged) {
        if ((st = cu_stage_begin(dev, node->type, node->ne[0], n_src, win_bytes, &stage)) != QG_OK) return st;
        winner = (int *)stage.extra;
    } else {
        winner = (int *)cu_scratch_get(dev, &dev->op_scratch, win_bytes);
        if (!winner) return QG_ERR_NO_MEMORY;
    }
    cudaError_t err = cudaMemsetAsync(winner, 0xff, win_bytes, dev->stream); // all -1
    if (err != cudaSuccess) return cu_fail(err, "cudaMemsetAsync (SET_ROWS winners)");
    const unsigned claim_grid = (unsigned)((n_src + 255) / 256 < 65535 * 16 ? (n_src + 255) / 256 : 65535 * 16);
    set_rows_claim<<<claim_grid ? claim_grid : 1, 256, 0, dev->stream>>>(s, ids, node->ne[1], winner, dev->err_dev);
    if ((st = cu_launched("set_rows_claim")) != QG_OK) return st;
    if (!staged) {
        set_rows_plain<<<cu_row_grid(n_src), threads_for(node->ne[0]), 0, dev->stream>>>(d, s, ids, winner);
        return cu_launched("set_rows_plain");
    }
    set_rows_stage<<<cu_row_grid(n_src), threads_for(node->ne[0]), 0, dev->stream>>>(d, s, ids, winner, stage.rows,
                                                                                    stage.off);
    if ((st = cu_launched("set_rows_stage")) != QG_OK) return st;
    return cu_stage_store(dev, node->type, (char *)node->data, &stage);
}

extern "C" qg_status cu_op_cpy(qg_plugin_device *dev, qg_tensor *node) {
    cu_out out;
    qg_status st = cu_out_begin(dev, node, &out);
    if (st != QG_OK) return st;
    cu_tensor a;
    cu_tensor_of(node->src[0], &a);
    cpy_kernel<<<cu_row_grid(qg_nrows(node)), threads_for(node->ne[0]), 0, dev->stream>>>(out.t, a);
    if ((st = cu_launched("cpy_kernel")) != QG_OK) return st;
    return cu_out_end(dev, node, &out);
}
