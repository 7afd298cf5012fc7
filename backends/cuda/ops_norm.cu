// Row-wise kernels: RMS_NORM, NORM and SOFT_MAX, one block of 256 threads per row.
// As in cpu-ref, sums are accumulated in double and each output is rounded once to
// float (the summation order differs: per-thread partial sums, then a tree). NORM takes
// two passes (mean, then the mean of squared deviations). SOFT_MAX forms
// v = x*scale + mask in float (product rounded before the add, like cpu-ref), takes the
// row maximum, and normalises exp(v - max) in double; a fully masked row (all -inf)
// gives zeros and any NaN makes the whole row NaN, as in cpu-ref.
#include "elem.cuh"

namespace {

constexpr int kThreads = 256;

// Sum of v over the block (every thread gets the result).
__device__ double block_sum(double v, double *sh) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    __syncthreads(); // sh may still be read by a previous call
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    double t = 0.0;
    for (int w = 0; w < kThreads / 32; w++) t += sh[w];
    return t;
}

// Maximum with cpu-ref's NaN rule: NaN anywhere gives NaN.
__device__ float nan_max(float a, float b) {
    if (isnan(a) || isnan(b)) return __int_as_float(0x7fc00000);
    return a > b ? a : b;
}

__device__ float block_max(float v, float *sh) {
    for (int o = 16; o > 0; o >>= 1) v = nan_max(v, __shfl_xor_sync(0xffffffffu, v, o));
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    __syncthreads();
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    float t = -INFINITY;
    for (int w = 0; w < kThreads / 32; w++) t = nan_max(t, sh[w]);
    return t;
}

__global__ void norm_kernel(cu_tensor o, cu_tensor a, float eps_f, int rms) {
    __shared__ double sh[kThreads / 32];
    const int64_t n_rows = o.ne[1] * o.ne[2] * o.ne[3], n = o.ne[0];
    const double eps = eps_f;
    for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
        int64_t i1, i2, i3;
        cu_unravel_row(o.ne, r, &i1, &i2, &i3);
        const char *ra = cu_row(a, i1, i2, i3);
        double mean = 0.0;
        if (!rms) {
            double s = 0.0;
            for (int64_t i = threadIdx.x; i < n; i += kThreads) s += (double)cu_load_in_row(a, ra, i);
            mean = block_sum(s, sh) / (double)n;
        }
        double sq = 0.0;
        for (int64_t i = threadIdx.x; i < n; i += kThreads) {
            const double d = (double)cu_load_in_row(a, ra, i) - mean;
            sq += d * d;
        }
        const double inv = 1.0 / sqrt(block_sum(sq, sh) / (double)n + eps);
        __syncthreads(); // every read of the row is done before an in-place write
        for (int64_t i = threadIdx.x; i < n; i += kThreads)
            cu_store(o, i, i1, i2, i3, (float)(((double)cu_load_in_row(a, ra, i) - mean) * inv));
    }
}

__global__ void soft_max_kernel(cu_tensor o, cu_tensor a, cu_tensor m, int has_mask, float scale) {
    __shared__ double shd[kThreads / 32];
    __shared__ float shf[kThreads / 32];
    const int64_t n_rows = o.ne[1] * o.ne[2] * o.ne[3], n = o.ne[0];
    for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
        int64_t i1, i2, i3;
        cu_unravel_row(o.ne, r, &i1, &i2, &i3);
        const char *ra = cu_row(a, i1, i2, i3);
        const char *rm = has_mask ? cu_row(m, i1, i2 % m.ne[2], i3 % m.ne[3]) : nullptr;
        // v(i) = x*scale + mask, recomputed in each pass (bit-identical every time)
#define V(i) __fadd_rn(__fmul_rn(cu_load_in_row(a, ra, (i)), scale), rm ? cu_load_in_row(m, rm, (i)) : 0.0f)
        float mx = -INFINITY;
        for (int64_t i = threadIdx.x; i < n; i += kThreads) mx = nan_max(mx, V(i));
        mx = block_max(mx, shf);
        if (mx == -INFINITY) {
            __syncthreads();
            for (int64_t i = threadIdx.x; i < n; i += kThreads) cu_store(o, i, i1, i2, i3, 0.0f);
            continue;
        }
        double s = 0.0;
        for (int64_t i = threadIdx.x; i < n; i += kThreads) s += exp((double)V(i) - (double)mx);
        const double inv = 1.0 / block_sum(s, shd);
        __syncthreads();
        for (int64_t i = threadIdx.x; i < n; i += kThreads)
            cu_store(o, i, i1, i2, i3, (float)(exp((double)V(i) - (double)mx) * inv));
#undef V
    }
}

} // namespace

extern "C" qg_status cu_op_norm(qg_plugin_device *dev, qg_tensor *node) {
    cu_out out;
    qg_status st = cu_out_begin(dev, node, &out);
    if (st != QG_OK) return st;
    cu_tensor a;
    cu_tensor_of(node->src[0], &a);
    norm_kernel<<<cu_row_grid(qg_nrows(node)), kThreads, 0, dev->stream>>>(out.t, a, qg_op_param_f32(node, 0),
                                                                          node->op == QG_OP_RMS_NORM);
    if ((st = cu_launched("norm_kernel")) != QG_OK) return st;
    return cu_out_end(dev, node, &out);
}

extern "C" qg_status cu_op_soft_max(qg_plugin_device *dev, qg_tensor *node) {
    cu_out out;
    qg_status st = cu_out_begin(dev, node, &out);
    if (st != QG_OK) return st;
    cu_tensor a, m;
    cu_tensor_of(node->src[0], &a);
    if (node->src[1]) cu_tensor_of(node->src[1], &m);
    else m = a;
    soft_max_kernel<<<cu_row_grid(qg_nrows(node)), kThreads, 0, dev->stream>>>(out.t, a, m, node->src[1] != nullptr,
                                                                               qg_op_param_f32(node, 0));
    if ((st = cu_launched("soft_max_kernel")) != QG_OK) return st;
    return cu_out_end(dev, node, &out);
}
