/* Reference row-wise kernels: RMS_NORM, NORM and SOFT_MAX.
 *
 * Sums are accumulated in double and each output is rounded once to float. NORM uses
 * two passes (mean, then the mean of squared deviations). SOFT_MAX forms
 * v = x*scale + mask in float, subtracts the row maximum and normalises exp() in
 * double. A row whose values are all -inf (fully masked) gives all zeros, as ggml's CPU
 * kernel does; a NaN anywhere in a row makes the whole row NaN.
 */
#include "cpu.h"

#include <math.h>

static float *thread_row(const cpu_params *p, const qg_tensor *node, int k) {
    return (float *)p->wthread + (size_t)k * (size_t)node->ne[0];
}

static void unravel(const qg_tensor *t, int64_t r, int64_t *i1, int64_t *i2, int64_t *i3) {
    *i1 = r % t->ne[1];
    *i2 = (r / t->ne[1]) % t->ne[2];
    *i3 = r / (t->ne[1] * t->ne[2]);
}

static qg_status norm_rows(const cpu_params *p, qg_tensor *node, bool rms) {
    const qg_tensor *a = node->src[0];
    const double eps = qg_op_param_f32(node, 0);
    const int64_t n = node->ne[0];
    float *ba = thread_row(p, node, 0), *bo = thread_row(p, node, 1);
    int64_t lo, hi;
    cpu_split(qg_nrows(node), p->ith, p->nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        int64_t i1, i2, i3;
        unravel(node, r, &i1, &i2, &i3);
        const float *x = cpu_load_row(a, i1, i2, i3, ba);
        float *o = cpu_out_row(node, i1, i2, i3, bo);
        double mean = 0.0, sq = 0.0;
        if (!rms) {
            for (int64_t i = 0; i < n; i++) mean += x[i];
            mean /= (double)n;
        }
        for (int64_t i = 0; i < n; i++) {
            double d = (double)x[i] - mean;
            sq += d * d;
        }
        const double inv = 1.0 / sqrt(sq / (double)n + eps);
        for (int64_t i = 0; i < n; i++) o[i] = (float)(((double)x[i] - mean) * inv);
        cpu_store_row(node, i1, i2, i3, o);
    }
    return QG_OK;
}

qg_status cpu_ref_rms_norm(const cpu_params *p, qg_tensor *node) { return norm_rows(p, node, true); }
qg_status cpu_ref_norm(const cpu_params *p, qg_tensor *node) { return norm_rows(p, node, false); }

qg_status cpu_ref_soft_max(const cpu_params *p, qg_tensor *node) {
    const qg_tensor *a = node->src[0], *mask = node->src[1];
    const float scale = qg_op_param_f32(node, 0);
    const int64_t n = node->ne[0];
    float *ba = thread_row(p, node, 0), *bm = thread_row(p, node, 1), *bo = thread_row(p, node, 2);
    int64_t lo, hi;
    cpu_split(qg_nrows(node), p->ith, p->nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        int64_t i1, i2, i3;
        unravel(node, r, &i1, &i2, &i3);
        const float *x = cpu_load_row(a, i1, i2, i3, ba);
        const float *m = mask ? cpu_load_row(mask, i1, i2 % mask->ne[2], i3 % mask->ne[3], bm) : NULL;
        float *o = cpu_out_row(node, i1, i2, i3, bo);
        float max = -INFINITY;
        for (int64_t i = 0; i < n; i++) {
            float v = x[i] * scale + (m ? m[i] : 0.0f);
            o[i] = v;
            if (isnan(v) || isnan(max)) max = NAN;
            else if (v > max) max = v;
        }
        if (max == -INFINITY) {
            for (int64_t i = 0; i < n; i++) o[i] = 0.0f;
        } else {
            double sum = 0.0;
            for (int64_t i = 0; i < n; i++) sum += exp((double)o[i] - (double)max);
            const double inv = 1.0 / sum;
            for (int64_t i = 0; i < n; i++) o[i] = (float)(exp((double)o[i] - (double)max) * inv);
        }
        cpu_store_row(node, i1, i2, i3, o);
    }
    return QG_OK;
}
