/* Reference MUL_MAT kernel: dst[i, j] = vec_dot(k, w row i, x row j) per plane.
 *
 * Phase 1 converts every row of x (gathered through its strides, so transposed or
 * permuted x work) to the weight's vec_dot_type with that type's from_float, into the
 * node's shared scratch; threads split these rows. A barrier follows. Phase 2 cuts the
 * output into chunks of 16 weight rows (per plane), so a thread reads its weight rows
 * once for all n columns and writes 64-byte pieces of each output row. Thread t takes
 * chunk t first, then claims the next unclaimed chunk from a shared counter (in its own
 * cache line at the start of the scratch), so a thread slowed down by other processes
 * does not hold the others up. Each output element is one vec_dot call, so results do
 * not depend on the thread count or on which thread computed them.
 * Broadcasting follows ggml: x plane (i2, i3) uses weight plane (i2 / (b2/a2), i3 / (b3/a3)).
 * F32 weights whose vec_dot_type is F32 read unit-stride x rows in place.
 *
 * The same loop serves the fast device: cpu_mul_mat_run() takes the dot product and the
 * activation quantizer as parameters (the reference passes the type table's scalar ones),
 * plus optionally a 4-column dot product that expands each weight row once for four
 * activation columns; it returns what vec_dot would, so outputs do not depend on it.
 */
#include "cpu.h"

#include <stdatomic.h>

#define CHUNK_ROWS 16

static bool direct_x(const qg_tensor *node) {
    const qg_type_traits *tw = qg_type_get(node->src[0]->type);
    return tw->vec_dot_type == QG_TYPE_F32 && node->src[1]->nb[0] == sizeof(float);
}

_Static_assert(sizeof(atomic_llong) <= CPU_ALIGN, "chunk counter fits its cache line");

size_t cpu_mul_mat_shared_size(const qg_tensor *node) {
    if (direct_x(node)) return CPU_ALIGN;
    const qg_tensor *x = node->src[1];
    const qg_type vdt = qg_type_get(node->src[0]->type)->vec_dot_type;
    return CPU_ALIGN + (size_t)qg_nrows(x) * qg_row_size(vdt, x->ne[0]);
}

qg_status cpu_mul_mat_run(const cpu_params *p, qg_tensor *node, qg_vec_dot_fn vec_dot, cpu_dot4_fn vec_dot4,
                          qg_from_float_fn from_float) {
    const qg_tensor *w = node->src[0], *x = node->src[1];
    const qg_type_traits *tw = qg_type_get(w->type);
    const int64_t k = w->ne[0], m = w->ne[1], n = x->ne[1];
    const int64_t b2 = x->ne[2], b3 = x->ne[3];
    const int64_t r2 = b2 / w->ne[2], r3 = b3 / w->ne[3];
    const bool direct = direct_x(node);
    const size_t vrow = qg_row_size(tw->vec_dot_type, k);
    atomic_llong *next = (atomic_llong *)p->wshared;
    char *conv = (char *)p->wshared + CPU_ALIGN;

    if (p->ith == 0) atomic_store_explicit(next, p->nth, memory_order_relaxed);
    if (!direct) {
        float *buf = (float *)p->wthread;
        int64_t lo, hi;
        cpu_split(qg_nrows(x), p->ith, p->nth, &lo, &hi);
        for (int64_t q = lo; q < hi; q++) {
            const int64_t j = q % n, i2 = (q / n) % b2, i3 = q / (n * b2);
            from_float(cpu_load_row(x, j, i2, i3, buf), conv + (size_t)q * vrow, k);
        }
    }
    cpu_barrier_wait(p->barrier);

    const int64_t chunks = (m + CHUNK_ROWS - 1) / CHUNK_ROWS, units = chunks * b2 * b3;
    for (int64_t u = p->ith; u < units; u = atomic_fetch_add_explicit(next, 1, memory_order_relaxed)) {
        const int64_t plane = u / chunks, c = u % chunks;
        const int64_t i2 = plane % b2, i3 = plane / b2;
        const int64_t i_lo = c * CHUNK_ROWS, i_hi = i_lo + CHUNK_ROWS < m ? i_lo + CHUNK_ROWS : m;
        const char *wplane = (const char *)w->data + (size_t)(i2 / r2) * w->nb[2] + (size_t)(i3 / r3) * w->nb[3];
        const size_t ys = direct ? x->nb[1] : vrow;
        int64_t j = 0;
        for (; vec_dot4 && j + 4 <= n; j += 4) {
            const char *y = direct ? cpu_row_ptr(x, j, i2, i3) : conv + (size_t)((i3 * b2 + i2) * n + j) * vrow;
            float *out[4];
            for (int col = 0; col < 4; col++) out[col] = (float *)cpu_row_ptr(node, j + col, i2, i3);
            for (int64_t i = i_lo; i < i_hi; i++) {
                float r[4];
                vec_dot4(k, wplane + (size_t)i * w->nb[1], y, ys, r);
                for (int col = 0; col < 4; col++) out[col][i] = r[col];
            }
        }
        for (; j < n; j++) {
            const void *y = direct ? (const void *)cpu_row_ptr(x, j, i2, i3)
                                   : (const void *)(conv + (size_t)((i3 * b2 + i2) * n + j) * vrow);
            float *out = (float *)cpu_row_ptr(node, j, i2, i3);
            for (int64_t i = i_lo; i < i_hi; i++)
                out[i] = vec_dot(k, wplane + (size_t)i * w->nb[1], y);
        }
    }
    return QG_OK;
}

qg_status cpu_ref_mul_mat(const cpu_params *p, qg_tensor *node) {
    const qg_type_traits *tw = qg_type_get(node->src[0]->type);
    return cpu_mul_mat_run(p, node, tw->vec_dot, NULL, qg_type_get(tw->vec_dot_type)->from_float);
}
