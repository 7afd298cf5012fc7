/* Reference MUL_MAT kernel: dst[i, j] = vec_dot(k, w row i, x row j) per plane.
 *
 * Phase 1 converts every row of x (gathered through its strides, so transposed or
 * permuted x work) to the weight's vec_dot_type with that type's from_float, into the
 * node's shared scratch; threads split these rows. A barrier follows. Phase 2 splits the
 * output by chunks of 16 weight rows (per plane) so each thread reads its weight rows
 * once for all n columns and writes 64-byte pieces of each output row. Each output
 * element is one vec_dot call, so results do not depend on the thread count.
 * Broadcasting follows ggml: x plane (i2, i3) uses weight plane (i2 / (b2/a2), i3 / (b3/a3)).
 * F32 weights whose vec_dot_type is F32 read unit-stride x rows in place.
 */
#include "cpu.h"

#define CHUNK_ROWS 16

static bool direct_x(const qg_tensor *node) {
    const qg_type_traits *tw = qg_type_get(node->src[0]->type);
    return tw->vec_dot_type == QG_TYPE_F32 && node->src[1]->nb[0] == sizeof(float);
}

size_t cpu_mul_mat_shared_size(const qg_tensor *node) {
    if (direct_x(node)) return 0;
    const qg_tensor *x = node->src[1];
    const qg_type vdt = qg_type_get(node->src[0]->type)->vec_dot_type;
    return (size_t)qg_nrows(x) * qg_row_size(vdt, x->ne[0]);
}

qg_status cpu_ref_mul_mat(const cpu_params *p, qg_tensor *node) {
    const qg_tensor *w = node->src[0], *x = node->src[1];
    const qg_type_traits *tw = qg_type_get(w->type);
    const qg_type_traits *tv = qg_type_get(tw->vec_dot_type);
    const int64_t k = w->ne[0], m = w->ne[1], n = x->ne[1];
    const int64_t b2 = x->ne[2], b3 = x->ne[3];
    const int64_t r2 = b2 / w->ne[2], r3 = b3 / w->ne[3];
    const bool direct = direct_x(node);
    const size_t vrow = qg_row_size(tw->vec_dot_type, k);
    char *conv = p->wshared;

    if (!direct) {
        float *buf = (float *)p->wthread;
        int64_t lo, hi;
        cpu_split(qg_nrows(x), p->ith, p->nth, &lo, &hi);
        for (int64_t q = lo; q < hi; q++) {
            const int64_t j = q % n, i2 = (q / n) % b2, i3 = q / (n * b2);
            tv->from_float(cpu_load_row(x, j, i2, i3, buf), conv + (size_t)q * vrow, k);
        }
        cpu_barrier_wait(p->barrier);
    }

    const int64_t chunks = (m + CHUNK_ROWS - 1) / CHUNK_ROWS;
    int64_t lo, hi;
    cpu_split(chunks * b2 * b3, p->ith, p->nth, &lo, &hi);
    for (int64_t u = lo; u < hi; u++) {
        const int64_t plane = u / chunks, c = u % chunks;
        const int64_t i2 = plane % b2, i3 = plane / b2;
        const int64_t i_lo = c * CHUNK_ROWS, i_hi = i_lo + CHUNK_ROWS < m ? i_lo + CHUNK_ROWS : m;
        const char *wplane = (const char *)w->data + (size_t)(i2 / r2) * w->nb[2] + (size_t)(i3 / r3) * w->nb[3];
        for (int64_t j = 0; j < n; j++) {
            const void *y = direct ? (const void *)cpu_row_ptr(x, j, i2, i3)
                                   : (const void *)(conv + (size_t)((i3 * b2 + i2) * n + j) * vrow);
            float *out = (float *)cpu_row_ptr(node, j, i2, i3);
            for (int64_t i = i_lo; i < i_hi; i++)
                out[i] = tw->vec_dot(k, wplane + (size_t)i * w->nb[1], y);
        }
    }
    return QG_OK;
}
