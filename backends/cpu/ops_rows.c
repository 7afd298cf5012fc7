/* Reference row-moving kernels: GET_ROWS (gather rows of any type into F32), SET_ROWS
 * (scatter rows into a destination of any type with a from_float) and CPY (copy with
 * type conversion between any two shapes of equal element count).
 *
 * Row ids are data: every thread validates all of them before touching memory and a
 * bad id fails the node with QG_ERR_INVALID_ARG naming it. SET_ROWS splits the work by
 * destination rows and applies source rows in order, so duplicate ids resolve to the
 * last source row, as a sequential loop would, whatever the thread count.
 */
#include "cpu.h"

#include <string.h>

static qg_status check_ids(const cpu_params *p, const qg_tensor *node, const qg_tensor *ids, int64_t n_rows) {
    for (int64_t i2 = 0; i2 < ids->ne[2]; i2++)
        for (int64_t i1 = 0; i1 < ids->ne[1]; i1++)
            for (int64_t i0 = 0; i0 < ids->ne[0]; i0++) {
                int64_t id = cpu_read_id(ids, i0, i1, i2);
                if (id < 0 || id >= n_rows)
                    return cpu_fail(p, QG_ERR_INVALID_ARG,
                                    "%s node '%s': row id %lld at [%lld, %lld, %lld] of '%s' is out of range [0, %lld)",
                                    qg_op_name(node->op), node->name, (long long)id, (long long)i0,
                                    (long long)i1, (long long)i2, ids->name, (long long)n_rows);
            }
    return QG_OK;
}

qg_status cpu_ref_get_rows(const cpu_params *p, qg_tensor *node) {
    const qg_tensor *a = node->src[0], *ids = node->src[1];
    qg_status st = check_ids(p, node, ids, a->ne[1]);
    if (st != QG_OK) return st;
    float *buf = (float *)p->wthread;
    const size_t row_bytes = (size_t)node->ne[0] * sizeof(float);
    int64_t lo, hi;
    cpu_split(qg_nrows(node), p->ith, p->nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        const int64_t i1 = r % node->ne[1];
        const int64_t i2 = (r / node->ne[1]) % node->ne[2];
        const int64_t i3 = r / (node->ne[1] * node->ne[2]);
        const int64_t id = cpu_read_id(ids, i1, i2 % ids->ne[1], i3 % ids->ne[2]);
        float *o = cpu_out_row(node, i1, i2, i3, buf);
        const float *x = cpu_load_row(a, id, i2 % a->ne[2], i3 % a->ne[3], o);
        if (x != o) memcpy(o, x, row_bytes);
        cpu_store_row(node, i1, i2, i3, o);
    }
    return QG_OK;
}

qg_status cpu_ref_set_rows(const cpu_params *p, qg_tensor *node) {
    const qg_tensor *src = node->src[0], *ids = node->src[1];
    qg_status st = check_ids(p, node, ids, node->ne[1]);
    if (st != QG_OK) return st;
    float *buf = (float *)p->wthread;
    int64_t lo, hi;
    cpu_split(node->ne[1], p->ith, p->nth, &lo, &hi);
    if (lo == hi) return QG_OK;
    for (int64_t i3 = 0; i3 < src->ne[3]; i3++)
        for (int64_t i2 = 0; i2 < src->ne[2]; i2++)
            for (int64_t i = 0; i < src->ne[1]; i++) {
                const int64_t id = cpu_read_id(ids, i, i2 % ids->ne[1], i3 % ids->ne[2]);
                if (id < lo || id >= hi) continue;
                cpu_store_row(node, id, i2, i3, cpu_load_row(src, i, i2, i3, buf));
            }
    return QG_OK;
}

/* Element L (in row-major order over ne) of a plain-typed tensor, as float. */
static float load_elem(const qg_tensor *t, const qg_type_traits *tt, int64_t L) {
    const int64_t i0 = L % t->ne[0];
    L /= t->ne[0];
    const int64_t i1 = L % t->ne[1];
    L /= t->ne[1];
    const int64_t i2 = L % t->ne[2];
    const int64_t i3 = L / t->ne[2];
    const char *ptr = cpu_row_ptr(t, i1, i2, i3) + (size_t)i0 * t->nb[0];
    float v;
    tt->to_float(ptr, &v, 1);
    return v;
}

qg_status cpu_ref_cpy(const cpu_params *p, qg_tensor *node) {
    const qg_tensor *a = node->src[0];
    const qg_type_traits *ta = qg_type_get(a->type);
    const int64_t n0 = node->ne[0];
    float *buf = (float *)p->wthread;
    float *bo = buf + (a->ne[0] > n0 ? a->ne[0] : n0);
    int64_t lo, hi;
    cpu_split(qg_nrows(node), p->ith, p->nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        const int64_t i1 = r % node->ne[1];
        const int64_t i2 = (r / node->ne[1]) % node->ne[2];
        const int64_t i3 = r / (node->ne[1] * node->ne[2]);
        if (a->ne[0] == n0) {
            /* Rows line up: row r of the destination is row r of the source. */
            const int64_t j1 = r % a->ne[1];
            const int64_t j2 = (r / a->ne[1]) % a->ne[2];
            const int64_t j3 = r / (a->ne[1] * a->ne[2]);
            cpu_store_row(node, i1, i2, i3, cpu_load_row(a, j1, j2, j3, buf));
        } else {
            float *o = cpu_out_row(node, i1, i2, i3, bo);
            for (int64_t e = 0; e < n0; e++) o[e] = load_elem(a, ta, r * n0 + e);
            cpu_store_row(node, i1, i2, i3, o);
        }
    }
    return QG_OK;
}
