/* Reference element-wise kernels: ADD and MUL (src1 broadcast by index modulo its
 * shape), SCALE, SILU and GELU (tanh form). Rows of any type are converted to float,
 * computed, and converted back to the output type, so F16 (and any type with a
 * from_float) works the same way as F32. ADD, MUL and SCALE compute in float (one
 * correctly rounded operation per element); SILU and GELU evaluate their formula in
 * double and round once to float.
 */
#include "cpu.h"

#include <math.h>

/* Per-thread float rows: three rows of the widest ne[0] among node and sources. */
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

static void add_row(const float *x, const float *y, float *o, int64_t n) {
    for (int64_t i = 0; i < n; i++) o[i] = x[i] + y[i];
}

static void mul_row(const float *x, const float *y, float *o, int64_t n) {
    for (int64_t i = 0; i < n; i++) o[i] = x[i] * y[i];
}

qg_status cpu_binary_rows(const cpu_params *p, qg_tensor *node, cpu_binary_row_fn row) {
    const qg_tensor *a = node->src[0], *b = node->src[1];
    float *ba = thread_row(p, node, 0), *bb = thread_row(p, node, 1), *bo = thread_row(p, node, 2);
    const int64_t n0 = node->ne[0], nb0 = b->ne[0];
    int64_t lo, hi;
    cpu_split(qg_nrows(node), p->ith, p->nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        int64_t i1, i2, i3;
        unravel(node, r, &i1, &i2, &i3);
        const float *x = cpu_load_row(a, i1, i2, i3, ba);
        const float *y = cpu_load_row(b, i1 % b->ne[1], i2 % b->ne[2], i3 % b->ne[3], bb);
        float *o = cpu_out_row(node, i1, i2, i3, bo);
        for (int64_t off = 0; off < n0; off += nb0) /* src1's row repeats along dim 0 */
            row(x + off, y, o + off, n0 - off < nb0 ? n0 - off : nb0);
        cpu_store_row(node, i1, i2, i3, o);
    }
    return QG_OK;
}

qg_status cpu_ref_add(const cpu_params *p, qg_tensor *node) { return cpu_binary_rows(p, node, add_row); }
qg_status cpu_ref_mul(const cpu_params *p, qg_tensor *node) { return cpu_binary_rows(p, node, mul_row); }

typedef enum { UN_SCALE, UN_SILU, UN_GELU } unary_kind;

static qg_status unary(const cpu_params *p, qg_tensor *node, unary_kind kind) {
    const qg_tensor *a = node->src[0];
    float *ba = thread_row(p, node, 0), *bo = thread_row(p, node, 2);
    const float s = kind == UN_SCALE ? qg_op_param_f32(node, 0) : 0.0f;
    const double c = 0.79788456080286535588; /* sqrt(2/pi) */
    const int64_t n0 = node->ne[0];
    int64_t lo, hi;
    cpu_split(qg_nrows(node), p->ith, p->nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        int64_t i1, i2, i3;
        unravel(node, r, &i1, &i2, &i3);
        const float *x = cpu_load_row(a, i1, i2, i3, ba);
        float *o = cpu_out_row(node, i1, i2, i3, bo);
        for (int64_t i = 0; i < n0; i++) {
            double v = x[i];
            switch (kind) {
            case UN_SCALE: o[i] = x[i] * s; break;
            case UN_SILU: o[i] = (float)(v / (1.0 + exp(-v))); break;
            case UN_GELU: o[i] = (float)(0.5 * v * (1.0 + tanh(c * (v + 0.044715 * v * v * v)))); break;
            }
        }
        cpu_store_row(node, i1, i2, i3, o);
    }
    return QG_OK;
}

qg_status cpu_ref_scale(const cpu_params *p, qg_tensor *node) { return unary(p, node, UN_SCALE); }
qg_status cpu_ref_silu(const cpu_params *p, qg_tensor *node) { return unary(p, node, UN_SILU); }
qg_status cpu_ref_gelu(const cpu_params *p, qg_tensor *node) { return unary(p, node, UN_GELU); }
