/* Reference ROPE kernel. For each row (one head of one token) the first n_dims values
 * are rotated in pairs by theta_i = pos * freq_scale * freq_base^(-2i/n_dims),
 * i = 0 .. n_dims/2 - 1: adjacent pairs (x[2i], x[2i+1]) in NORMAL mode, pairs
 * (x[i], x[i + n_dims/2]) in NEOX mode. Values past n_dims are copied unchanged.
 * theta, its cosine and sine and the rotation are evaluated in double and rounded once
 * to float. The position of a row is pos[i2] (dim 2 is the token axis).
 */
#include "cpu.h"

#include <math.h>

qg_status cpu_ref_rope(const cpu_params *p, qg_tensor *node) {
    const qg_tensor *a = node->src[0], *pos = node->src[1];
    const int n_dims = node->op_params[0];
    const int mode = node->op_params[1];
    const double base = qg_op_param_f32(node, 2);
    const double fscale = qg_op_param_f32(node, 3);
    const int64_t n = node->ne[0];
    const int half = n_dims / 2;
    float *ba = (float *)p->wthread, *bo = ba + n;
    int64_t lo, hi;
    cpu_split(qg_nrows(node), p->ith, p->nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        const int64_t i1 = r % node->ne[1];
        const int64_t i2 = (r / node->ne[1]) % node->ne[2];
        const int64_t i3 = r / (node->ne[1] * node->ne[2]);
        const float *x = cpu_load_row(a, i1, i2, i3, ba);
        float *o = cpu_out_row(node, i1, i2, i3, bo);
        const double t = (double)cpu_read_id(pos, i2, 0, 0);
        for (int i = 0; i < half; i++) {
            const double theta = t * fscale * pow(base, -2.0 * i / n_dims);
            const double c = cos(theta), s = sin(theta);
            const int64_t j0 = mode == QG_ROPE_NEOX ? i : 2 * i;
            const int64_t j1 = mode == QG_ROPE_NEOX ? i + half : 2 * i + 1;
            const double x0 = x[j0], x1 = x[j1];
            o[j0] = (float)(x0 * c - x1 * s);
            o[j1] = (float)(x0 * s + x1 * c);
        }
        for (int64_t i = 2 * half; i < n; i++) o[i] = x[i];
        cpu_store_row(node, i1, i2, i3, o);
    }
    return QG_OK;
}
