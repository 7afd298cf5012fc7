// Element-wise kernels: ADD and MUL (src1 broadcast by index modulo its shape), SCALE,
// SILU and GELU (tanh form). One block per output row, threads stride over the row.
// ADD, MUL and SCALE are one correctly rounded float operation per element as in
// cpu-ref; SILU and GELU evaluate their formula in double and round once, as cpu-ref
// does, so results match it to the last bit wherever the device's exp/tanh agree with
// glibc's to double precision before the final rounding.
#include "elem.cuh"

namespace {

enum { K_ADD, K_MUL, K_SCALE, K_SILU, K_GELU };

__global__ void binary_kernel(cu_tensor o, cu_tensor a, cu_tensor b, int kind) {
    const int64_t n_rows = o.ne[1] * o.ne[2] * o.ne[3];
    for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
        int64_t i1, i2, i3;
        cu_unravel_row(o.ne, r, &i1, &i2, &i3);
        const char *ra = cu_row(a, i1, i2, i3);
        const char *rb = cu_row(b, i1 % b.ne[1], i2 % b.ne[2], i3 % b.ne[3]);
        for (int64_t i0 = threadIdx.x; i0 < o.ne[0]; i0 += blockDim.x) {
            const float x = cu_load_in_row(a, ra, i0), y = cu_load_in_row(b, rb, i0 % b.ne[0]);
            cu_store(o, i0, i1, i2, i3, kind == K_MUL ? __fmul_rn(x, y) : __fadd_rn(x, y));
        }
    }
}

__global__ void unary_kernel(cu_tensor o, cu_tensor a, int kind, float s) {
    const int64_t n_rows = o.ne[1] * o.ne[2] * o.ne[3];
    const double c = 0.79788456080286535588; // sqrt(2/pi)
    for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
        int64_t i1, i2, i3;
        cu_unravel_row(o.ne, r, &i1, &i2, &i3);
        const char *ra = cu_row(a, i1, i2, i3);
        for (int64_t i0 = threadIdx.x; i0 < o.ne[0]; i0 += blockDim.x) {
            const float x = cu_load_in_row(a, ra, i0);
            const double v = x;
            float y;
            if (kind == K_SCALE) y = __fmul_rn(x, s);
            else if (kind == K_SILU) y = (float)(v / (1.0 + exp(-v)));
            else y = (float)(0.5 * v * (1.0 + tanh(c * (v + 0.044715 * v * v * v))));
            cu_store(o, i0, i1, i2, i3, y);
        }
    }
}

unsigned threads_for(int64_t ne0) { return ne0 >= 256 ? 256 : ne0 >= 128 ? 128 : ne0 >= 64 ? 64 : 32; }

} // namespace

extern "C" qg_status cu_op_binary(qg_plugin_device *dev, qg_tensor *node) {
    cu_out out;
    qg_status st = cu_out_begin(dev, node, &out);
    if (st != QG_OK) return st;
    cu_tensor a, b;
    cu_tensor_of(node->src[0], &a);
    cu_tensor_of(node->src[1], &b);
    binary_kernel<<<cu_row_grid(qg_nrows(node)), threads_for(node->ne[0]), 0, dev->stream>>>(
        out.t, a, b, node->op == QG_OP_MUL ? K_MUL : K_ADD);
    if ((st = cu_launched("binary_kernel")) != QG_OK) return st;
    return cu_out_end(dev, node, &out);
}

extern "C" qg_status cu_op_unary(qg_plugin_device *dev, qg_tensor *node) {
    cu_out out;
    qg_status st = cu_out_begin(dev, node, &out);
    if (st != QG_OK) return st;
    cu_tensor a;
    cu_tensor_of(node->src[0], &a);
    const int kind = node->op == QG_OP_SCALE ? K_SCALE : node->op == QG_OP_SILU ? K_SILU : K_GELU;
    const float s = node->op == QG_OP_SCALE ? qg_op_param_f32(node, 0) : 0.0f;
    unary_kernel<<<cu_row_grid(qg_nrows(node)), threads_for(node->ne[0]), 0, dev->stream>>>(out.t, a, kind, s);
    if ((st = cu_launched("unary_kernel")) != QG_OK) return st;
    return cu_out_end(dev, node, &out);
}
