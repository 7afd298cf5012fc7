/* Kernels of the fast CPU device for SILU, GELU, SOFT_MAX and RMS_NORM: the reference
 * kernels' row loop (rows split over threads, any input/output type through the row
 * helpers) with the per-row math done by the SIMD row functions of simd.h. Used only
 * when cpu_simd_best() is non-NULL (kernels.c).
 */
#include "cpu.h"

static float *thread_row(const cpu_params *p, const qg_tensor *node, int k) {
    int64_t w = node->ne[0];
    for (int s = 0; s < 2; s++)
        if (node->src[s] && node->src[s]->ne[0] > w) w = node->src[s]->ne[0];
    return (float *)p->wthread + (size_t)k * (size_t)w;
}

static void unravel(const qg_tensor *t, int64_t r, int64_t *i1, int64_t *i2, int64_t *i3) {
    *i1 = r % t->ne[1];
    *i2 = (r / t->ne[1]) % t->ne[2];
    *i3 = r / (t->ne[1] * t->ne[2]);
}

typedef enum { ROW_SILU, ROW_GELU, ROW_RMS, ROW_SOFT_MAX } row_kind;

static qg_status rows(const cpu_params *p, qg_tensor *node, row_kind kind) {
    const cpu_simd_fns *s = cpu_simd_best();
    const qg_tensor *a = node->src[0], *mask = kind == ROW_SOFT_MAX ? node->src[1] : NULL;
    const float param = kind == ROW_RMS || kind == ROW_SOFT_MAX ? qg_op_param_f32(node, 0) : 0.0f;
    float *ba = thread_row(p, node, 0), *bm = thread_row(p, node, 1), *bo = thread_row(p, node, 2);
    const int64_t n = node->ne[0];
    int64_t lo, hi;
    cpu_split(qg_nrows(node), p->ith, p->nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        int64_t i1, i2, i3;
        unravel(node, r, &i1, &i2, &i3);
        const float *x = cpu_load_row(a, i1, i2, i3, ba);
        float *o = cpu_out_row(node, i1, i2, i3, bo);
        switch (kind) {
        case ROW_SILU: s->silu_row(x, o, n); break;
        case ROW_GELU: s->gelu_row(x, o, n); break;
        case ROW_RMS: s->rms_norm_row(x, o, n, param); break;
        case ROW_SOFT_MAX: {
            const float *m = mask ? cpu_load_row(mask, i1, i2 % mask->ne[2], i3 % mask->ne[3], bm) : NULL;
            s->soft_max_row(x, m, param, o, n);
            break;
        }
        }
        cpu_store_row(node, i1, i2, i3, o);
    }
    return QG_OK;
}

qg_status cpu_fast_silu(const cpu_params *p, qg_tensor *node) { return rows(p, node, ROW_SILU); }
qg_status cpu_fast_gelu(const cpu_params *p, qg_tensor *node) { return rows(p, node, ROW_GELU); }
qg_status cpu_fast_rms_norm(const cpu_params *p, qg_tensor *node) { return rows(p, node, ROW_RMS); }
qg_status cpu_fast_soft_max(const cpu_params *p, qg_tensor *node) { return rows(p, node, ROW_SOFT_MAX); }
