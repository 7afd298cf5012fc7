/* Kernels of the fast CPU device for SILU, GELU, SOFT_MAX, RMS_NORM, NORM, ADD, MUL,
 * SCALE, ROPE and GET_ROWS: the reference kernels' row loops (rows split over threads in
 * contiguous ranges, any input/output type through the row helpers) with the per-row
 * work done by the SIMD row functions of simd.h. Used only when cpu_simd_best() is
 * non-NULL and has them (kernels.c).
 *
 * ROPE keeps, per thread, the table freq_base^(-2i/n_dims) for the node and the cosines
 * and sines of the current position: rows of one token (its heads) are adjacent, so
 * those are evaluated once per token instead of once per row, with the same double
 * expressions as the reference kernel. GET_ROWS dequantizes straight into the output
 * row with the SIMD to_float where the source type has one.
 */
#include "ops_fast.h"

#include <math.h>
#include <string.h>

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

typedef enum { ROW_SILU, ROW_GELU, ROW_RMS, ROW_SOFT_MAX, ROW_NORM, ROW_SCALE } row_kind;

static qg_status rows(const cpu_params *p, qg_tensor *node, row_kind kind) {
    const cpu_simd_fns *s = cpu_simd_best();
    const qg_tensor *a = node->src[0], *mask = kind == ROW_SOFT_MAX ? node->src[1] : NULL;
    const float param = kind == ROW_SILU || kind == ROW_GELU ? 0.0f : qg_op_param_f32(node, 0);
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
        case ROW_NORM: s->norm_row(x, o, n, param); break;
        case ROW_SCALE: s->scale_row(x, param, o, n); break;
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
qg_status cpu_fast_norm(const cpu_params *p, qg_tensor *node) { return rows(p, node, ROW_NORM); }
qg_status cpu_fast_scale(const cpu_params *p, qg_tensor *node) { return rows(p, node, ROW_SCALE); }

qg_status cpu_fast_add(const cpu_params *p, qg_tensor *node) { return cpu_binary_rows(p, node, cpu_simd_best()->add_row); }
qg_status cpu_fast_mul(const cpu_params *p, qg_tensor *node) { return cpu_binary_rows(p, node, cpu_simd_best()->mul_row); }

size_t cpu_fast_rope_thread_bytes(int64_t ne0) {
    /* input and output rows (floats), then three tables of ne0/2 doubles */
    return 2 * (size_t)ne0 * sizeof(float) + 3 * (size_t)(ne0 / 2 + 1) * sizeof(double);
}

qg_status cpu_fast_rope(const cpu_params *p, qg_tensor *node) {
    const cpu_simd_fns *s = cpu_simd_best();
    const qg_tensor *a = node->src[0], *pos = node->src[1];
    const int n_dims = node->op_params[0];
    const bool neox = node->op_params[1] == QG_ROPE_NEOX;
    const double base = qg_op_param_f32(node, 2);
    const double fscale = qg_op_param_f32(node, 3);
    const int64_t n = node->ne[0];
    const int half = n_dims / 2;
    float *ba = (float *)p->wthread, *bo = ba + n;
    double *freq = (double *)(void *)(bo + n), *c = freq + half + 1, *sn = c + half + 1;
    for (int i = 0; i < half; i++) freq[i] = pow(base, -2.0 * i / n_dims);
    bool have = false;
    int64_t cached = 0;
    int64_t lo, hi;
    cpu_split(qg_nrows(node), p->ith, p->nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        int64_t i1, i2, i3;
        unravel(node, r, &i1, &i2, &i3);
        const int64_t t = cpu_read_id(pos, i2, 0, 0);
        if (!have || t != cached) {
            for (int i = 0; i < half; i++) {
                const double theta = (double)t * fscale * freq[i];
                c[i] = cos(theta);
                sn[i] = sin(theta);
            }
            have = true;
            cached = t;
        }
        const float *x = cpu_load_row(a, i1, i2, i3, ba);
        float *o = cpu_out_row(node, i1, i2, i3, bo);
        s->rope_row(x, o, n, n_dims, neox, c, sn);
        cpu_store_row(node, i1, i2, i3, o);
    }
    return QG_OK;
}

/* GET_ROWS: as the reference (ids checked first), dequantizing with the SIMD to_float
 * when the source type has one and its rows are packed. */
qg_status cpu_fast_get_rows(const cpu_params *p, qg_tensor *node) {
    const qg_tensor *a = node->src[0], *ids = node->src[1];
    const qg_type_traits *ta = qg_type_get(a->type);
    const cpu_simd_fns *s = cpu_simd_best();
    qg_to_float_fn conv = s->to_float ? s->to_float(a->type) : NULL;
    if (!conv || !(ta->block_size > 1 || a->nb[0] == ta->type_size)) return cpu_ref_get_rows(p, node);
    for (int64_t i2 = 0; i2 < ids->ne[2]; i2++)
        for (int64_t i1 = 0; i1 < ids->ne[1]; i1++)
            for (int64_t i0 = 0; i0 < ids->ne[0]; i0++) {
                const int64_t id = cpu_read_id(ids, i0, i1, i2);
                if (id < 0 || id >= a->ne[1])
                    return cpu_fail(p, QG_ERR_INVALID_ARG,
                                    "%s node '%s': row id %lld at [%lld, %lld, %lld] of '%s' is out of range [0, %lld)",
                                    qg_op_name(node->op), node->name, (long long)id, (long long)i0,
                                    (long long)i1, (long long)i2, ids->name, (long long)a->ne[1]);
            }
    float *buf = (float *)p->wthread;
    int64_t lo, hi;
    cpu_split(qg_nrows(node), p->ith, p->nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        int64_t i1, i2, i3;
        unravel(node, r, &i1, &i2, &i3);
        const int64_t id = cpu_read_id(ids, i1, i2 % ids->ne[1], i3 % ids->ne[2]);
        float *o = cpu_out_row(node, i1, i2, i3, buf);
        conv(cpu_row_ptr(a, id, i2 % a->ne[2], i3 % a->ne[3]), o, node->ne[0]);
        cpu_store_row(node, i1, i2, i3, o);
    }
    return QG_OK;
}
