// ROPE: for each row (one head of one token, position pos[i2]) the first n_dims values
// are rotated in pairs by theta_i = pos * freq_scale * freq_base^(-2i/n_dims):
// adjacent pairs (x[2i], x[2i+1]) in NORMAL mode, (x[i], x[i + n_dims/2]) in NEOX mode;
// values past n_dims are copied. theta, cos, sin and the rotation are evaluated in
// double and rounded once to float, in cpu-ref's order. One block per row, one thread
// per pair (each thread reads and writes only its own pair, so in-place is safe).
#include "elem.cuh"

namespace {

__global__ void rope_kernel(cu_tensor o, cu_tensor a, cu_tensor pos, int n_dims, int neox, double base,
                            double fscale) {
    const int64_t n_rows = o.ne[1] * o.ne[2] * o.ne[3], n = o.ne[0];
    const int half = n_dims / 2;
    for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
        int64_t i1, i2, i3;
        cu_unravel_row(o.ne, r, &i1, &i2, &i3);
        const char *ra = cu_row(a, i1, i2, i3);
        const double t = (double)cu_load_id(pos, i2, 0, 0);
        for (int i = threadIdx.x; i < half; i += blockDim.x) {
            const double theta = t * fscale * pow(base, -2.0 * i / n_dims);
            double s, c;
            sincos(theta, &s, &c);
            const int64_t j0 = neox ? i : 2 * i, j1 = neox ? i + half : 2 * i + 1;
            const double x0 = cu_load_in_row(a, ra, j0), x1 = cu_load_in_row(a, ra, j1);
            cu_store(o, j0, i1, i2, i3, (float)(x0 * c - x1 * s));
            cu_store(o, j1, i1, i2, i3, (float)(x0 * s + x1 * c));
        }
        for (int64_t i = 2 * half + threadIdx.x; i < n; i += blockDim.x)
            cu_store(o, i, i1, i2, i3, cu_load_in_row(a, ra, i));
    }
}

} // namespace

extern "C" qg_status cu_op_rope(qg_plugin_device *dev, qg_tensor *node) {
    cu_out out;
    qg_status st = cu_out_begin(dev, node, &out);
    if (st != QG_OK) return st;
    cu_tensor a, pos;
    cu_tensor_of(node->src[0], &a);
    cu_tensor_of(node->src[1], &pos);
    const int n_dims = node->op_params[0];
    const int half = n_dims / 2;
    const unsigned threads = half >= 128 ? 128 : half >= 64 ? 64 : 32;
    rope_kernel<<<cu_row_grid(qg_nrows(node)), threads, 0, dev->stream>>>(
        out.t, a, pos, n_dims, node->op_params[1] == QG_ROPE_NEOX, (double)qg_op_param_f32(node, 2),
        (double)qg_op_param_f32(node, 3));
    if ((st = cu_launched("rope_kernel")) != QG_OK) return st;
    return cu_out_end(dev, node, &out);
}
