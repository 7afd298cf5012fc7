// Kernels behind staged outputs (stage.c): the byte offsets of a tensor's rows, the device
// quantizers (quantize.cuh, one thread per block) and the scatter of host-quantized rows
// to their destinations (rows_host.c).
#include "elem.cuh"
#include "quantize.cuh"

namespace {

__global__ void row_offsets_kernel(int64_t ne1, int64_t ne2, int64_t n_rows, int64_t nb1, int64_t nb2, int64_t nb3,
                                   int64_t *off) {
    for (int64_t r = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; r < n_rows; r += (int64_t)gridDim.x * blockDim.x) {
        const int64_t i1 = r % ne1, i2 = (r / ne1) % ne2, i3 = r / (ne1 * ne2);
        off[r] = i1 * nb1 + i2 * nb2 + i3 * nb3;
    }
}

__global__ void quantize_kernel(int type, int block_bytes, char *base, const float *rows, const int64_t *off,
                                int64_t ne0, int64_t n_rows) {
    const int64_t per_row = ne0 / 32, n = per_row * n_rows;
    for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < n; k += (int64_t)gridDim.x * blockDim.x) {
        const int64_t r = k / per_row, b = k % per_row;
        if (off[r] < 0) continue;
        cu_quantize_block(type, rows + r * ne0 + b * 32, (uint8_t *)base + off[r] + b * block_bytes);
    }
}

__global__ void scatter_kernel(char *base, const unsigned char *src, const int64_t *off, int64_t row_bytes,
                               int64_t n_rows) {
    for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
        if (off[r] < 0) continue;
        unsigned char *d = (unsigned char *)base + off[r];
        const unsigned char *s = src + r * row_bytes;
        for (int64_t i = threadIdx.x; i < row_bytes; i += blockDim.x) d[i] = s[i];
    }
}

unsigned grid_for(int64_t n, unsigned threads) {
    const int64_t g = (n + threads - 1) / threads;
    return (unsigned)(g < 1 ? 1 : g > 65535 * 16 ? 65535 * 16 : g);
}

} // namespace

extern "C" qg_status cu_launch_row_offsets(qg_plugin_device *dev, const int64_t ne[4], const int64_t nb[4],
                                           int64_t *off) {
    const int64_t n_rows = ne[1] * ne[2] * ne[3];
    row_offsets_kernel<<<grid_for(n_rows, 256), 256, 0, dev->stream>>>(ne[1], ne[2], n_rows, nb[1], nb[2], nb[3],
                                                                      off);
    return cu_launched("row_offsets_kernel");
}

extern "C" qg_status cu_launch_quantize(qg_plugin_device *dev, qg_type type, char *base, const cu_stage *s) {
    const qg_type_traits *tt = qg_type_get(type);
    if (!tt || tt->block_size != 32 || s->ne0 % 32 != 0)
        return qg_set_error(QG_ERR_UNSUPPORTED, "cuda: no device quantizer for %s", qg_type_name(type));
    const int64_t n = s->ne0 / 32 * s->n_rows;
    quantize_kernel<<<grid_for(n, 128), 128, 0, dev->stream>>>((int)type, (int)tt->type_size, base, s->rows, s->off,
                                                              s->ne0, s->n_rows);
    return cu_launched("quantize_kernel");
}

extern "C" qg_status cu_launch_scatter(qg_plugin_device *dev, char *base, const cu_stage *s, size_t row_bytes) {
    scatter_kernel<<<cu_row_grid(s->n_rows), 128, 0, dev->stream>>>(base, (const unsigned char *)s->qbytes, s->off,
                                                                    (int64_t)row_bytes, s->n_rows);
    return cu_launched("scatter_kernel");
}
