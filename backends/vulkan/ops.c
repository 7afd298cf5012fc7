/* compute() of the Vulkan backend: checks every node, sizes the per-split resources
 * (descriptor sets, parameter words, MUL_MAT scratch), then fills one parameter slot per
 * dispatch and records the dispatches of all nodes into one command buffer.
 *
 * MUL_MAT takes two dispatches: act.comp gathers x into a contiguous F32 scratch after a
 * round trip through the weight's partner type (Q8_0/Q8_1/Q8_K/F16/BF16, as the CPU
 * reference quantizes activations), then mmv.comp (few columns) or mmt.comp (tiles)
 * dequantizes the weights in-shader and multiplies in float. On devices with integer
 * dot products, few columns of the weight types of mmvq_name() instead take
 * quantize_act.comp (x to packed int8 blocks) and mmvq.comp (int8x4 dot products).
 */
#include "vk.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MMV_MAX_COLS 8
#define MMVQ_ROWS 2 /* weight rows per workgroup of mmvq.comp (NR there) */

static bool needs_work(const qg_tensor *t) { return t->op != QG_OP_NONE && !qg_op_is_view(t->op); }

static uint32_t rope_words(const qg_tensor *n) {
    return n->op == QG_OP_ROPE ? 3u * (uint32_t)(n->op_params[0] / 2) : 0u;
}

/* The buffer and byte offset of a tensor's data. */
static qg_status locate(qg_plugin_device *d, const qg_tensor *node, const qg_tensor *t, vk_binding *b,
                        uint32_t *off) {
    qg_plugin_buffer *pb = t->pbuf;
    if (!pb && t->view_src) pb = qg_view_root((qg_tensor *)t)->pbuf;
    if (!pb || !t->data)
        return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: tensor '%s' of %s node '%s' has no storage", t->name,
                            qg_op_name(node->op), node->name);
    if (pb->dev != d)
        return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: tensor '%s' of node '%s' lives on another device", t->name,
                            node->name);
    const uintptr_t a = (uintptr_t)t->data;
    const size_t n = qg_nbytes(t);
    if (a < pb->base || a - pb->base > pb->size || n > pb->size - (a - pb->base))
        return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: tensor '%s' of node '%s' lies outside its %zu-byte buffer",
                            t->name, node->name, pb->size);
    b->buf = pb->m.buf;
    b->lo = a - pb->base;
    b->hi = b->lo + n;
    *off = (uint32_t)b->lo;
    return QG_OK;
}

/* Shape, strides and type of t into slot s at tensor index ti (0 dst, 1..3 sources). */
static void put_tensor(uint32_t *s, int ti, const qg_tensor *t) {
    for (int i = 0; i < 4; i++) {
        s[VKS_NE + 8 * ti + i] = (uint32_t)t->ne[i];
        s[VKS_NE + 8 * ti + 4 + i] = (uint32_t)t->nb[i];
    }
    s[VKS_TYPE + ti] = (uint32_t)t->type;
}

static uint32_t div_up(uint64_t a, uint64_t b) { return (uint32_t)((a + b - 1) / b); }

/* A slot with dst and sources filled in, and their bindings (slot index in *si). */
static qg_status standard_slot(qg_plugin_device *d, const qg_tensor *node, uint32_t extra, vk_binding b[4],
                               uint32_t **out, uint32_t *si) {
    memset(b, 0, 4 * sizeof *b);
    uint32_t *s = vk_slot(d, VKS_WORDS + extra, si);
    qg_status st = locate(d, node, node, &b[3], &s[VKS_OFF + 3]);
    put_tensor(s, 0, node);
    for (int i = 0; i < 3 && st == QG_OK; i++) {
        const qg_tensor *src = node->src[i];
        if (!src || (node->op == QG_OP_SET_ROWS && i == 2)) continue;
        st = locate(d, node, src, &b[i], &s[VKS_OFF + i]);
        put_tensor(s, i + 1, src);
    }
    for (int i = 0; i < 16; i++) s[VKS_OP + i] = (uint32_t)node->op_params[i];
    *out = s;
    return st;
}

/* Specialization: dst type, src0 type, src1 type, op-specific value. */
static vk_spec spec_of(const qg_tensor *node, uint32_t v3) {
    vk_spec s = {{(uint32_t)node->type, node->src[0] ? (uint32_t)node->src[0]->type : 0u,
                  node->src[1] ? (uint32_t)node->src[1]->type : 0u, v3}};
    return s;
}

static uint32_t units(const qg_tensor *grid, qg_type dst_type) {
    const int64_t qk = qg_type_get(dst_type)->block_size;
    return (uint32_t)(qg_nrows(grid) * (grid->ne[0] / qk));
}

/* Weight types with an integer-dot-product mat-vec kernel (mmvq.comp): pipeline suffix. */
static const char *mmvq_name(qg_type t) {
    switch (t) {
    case QG_TYPE_Q4_0: case QG_TYPE_Q4_1: case QG_TYPE_Q5_0: case QG_TYPE_Q5_1: case QG_TYPE_Q8_0:
    case QG_TYPE_IQ4_NL: case QG_TYPE_MXFP4: case QG_TYPE_Q4_K: case QG_TYPE_Q5_K: case QG_TYPE_Q6_K:
    case QG_TYPE_IQ4_XS:
        return vk_weight_name(t);
    default:
        return NULL;
    }
}

static qg_status record_mul_mat(qg_plugin_device *d, const qg_tensor *node, int path) {
    const qg_tensor *w = node->src[0], *x = node->src[1];
    const qg_type_traits *tw = qg_type_get(w->type);
    const qg_type partner = tw->vec_dot_type;
    const int64_t k = w->ne[0], m = w->ne[1], n = x->ne[1], planes = x->ne[2] * x->ne[3];
    vk_binding b[4];
    uint32_t *s, si;
    qg_status st = standard_slot(d, node, 0, b, &s, &si);
    if (st != QG_OK) return st;
    const bool vec = path == 1 || (path == 0 && n <= MMV_MAX_COLS);
    const bool intdot = vec && d->has_intdot && mmvq_name(w->type) && k % 32 == 0;
    /* Pass 1: x -> scratch (dst binding): F32 rounded through the partner type, or int8
     * blocks (32 bytes of values + 8 of scales per 32 elements, fits the F32 size). */
    const size_t xbytes = intdot ? (size_t)(k / 32 * n * planes * 40) : (size_t)(k * n * planes * 4);
    vk_binding ba[4] = {{0}, b[1], {0}, {d->scratch.buf, 0, xbytes}};
    const uint32_t dst_off = s[VKS_OFF + 3];
    s[VKS_OFF + 3] = 0;
    s[VKS_X + 1] = (uint32_t)partner;
    const uint32_t pqk = (uint32_t)qg_type_get(partner)->block_size;
    vk_spec sa = {{0, 0, (uint32_t)partner, 0}};
    st = vk_dispatch(d, intdot ? "quantize_act" : "act", sa, ba, si,
                     div_up((uint64_t)qg_nrows(x) * (uint64_t)(k / pqk), 64), node);
    if (st != QG_OK) return st;
    /* Pass 2: weights x scratch -> dst, in row chunks that fit one binding window. */
    const uint32_t chunks = vk_mul_mat_chunks(d, node);
    const int64_t rows = (m + chunks - 1) / chunks;
    char name[32];
    const char *sg = d->use_subgroups ? "sg_" : "";
    if (intdot) snprintf(name, sizeof name, "mmvq_%s%s", sg, mmvq_name(w->type));
    else if (vec) snprintf(name, sizeof name, "mmv_%s%s", sg, vk_weight_name(w->type));
    else snprintf(name, sizeof name, "mmt_%s", vk_weight_name(w->type));
    for (int64_t i0 = 0; i0 < m && st == QG_OK; i0 += rows) {
        const int64_t mc = m - i0 < rows ? m - i0 : rows;
        uint32_t si2;
        uint32_t *s2 = vk_slot(d, VKS_WORDS, &si2);
        memcpy(s2, s, VKS_WORDS * 4);
        s2[VKS_OFF + 0] += (uint32_t)((size_t)i0 * w->nb[1]);
        s2[VKS_OFF + 1] = 0;
        s2[VKS_OFF + 3] = dst_off + (uint32_t)i0 * 4u;
        s2[VKS_NE + 8 + 1] = (uint32_t)mc;
        vk_binding bm[4] = {b[0], {d->scratch.buf, 0, xbytes}, {0}, b[3]};
        if (chunks > 1) {
            bm[0].lo = b[0].lo + (size_t)i0 * w->nb[1];
            bm[0].hi = bm[0].lo + (size_t)(mc - 1) * w->nb[1] + qg_row_size(w->type, k);
            bm[3].lo = b[3].lo + (size_t)i0 * 4;
        }
        const uint32_t groups = intdot ? (uint32_t)(((mc + MMVQ_ROWS - 1) / MMVQ_ROWS) * ((n + 3) / 4) * planes)
                                : vec ? (uint32_t)(mc * ((n + 3) / 4) * planes)
                                    : (uint32_t)(((mc + 31) / 32) * ((n + 31) / 32) * planes);
        st = vk_dispatch(d, name, spec_of(node, 0), bm, si2, groups, node);
    }
    return st;
}

uint32_t vk_mul_mat_chunks(const qg_plugin_device *d, const qg_tensor *node) {
    const qg_tensor *w = node->src[0];
    if (qg_nbytes(w) + d->min_align <= d->max_range || w->nb[1] == 0) return 1;
    const size_t per = (d->max_range - d->min_align) / w->nb[1];
    const size_t rows = per > 0 ? per : 1;
    return (uint32_t)(((size_t)w->ne[1] + rows - 1) / rows);
}

static qg_status record_rope(qg_plugin_device *d, const qg_tensor *node) {
    const int half = node->op_params[0] / 2;
    vk_binding b[4];
    uint32_t *s, si;
    qg_status st = standard_slot(d, node, 3u * (uint32_t)half, b, &s, &si);
    if (st != QG_OK) return st;
    const double base = qg_op_param_f32(node, 2);
    s[VKS_X + 2] = si + VKS_WORDS;
    for (int i = 0; i < half; i++) {
        const double f = pow(base, -2.0 * i / node->op_params[0]);
        const float ff = (float)f;
        memcpy(&s[VKS_WORDS + 3 * i], &f, 8);
        memcpy(&s[VKS_WORDS + 3 * i + 2], &ff, 4);
    }
    const uint64_t pairs = (uint64_t)qg_nrows(node) * (uint64_t)((node->ne[0] + 1) / 2);
    return vk_dispatch(d, d->has_f64 ? "rope_f64" : "rope", spec_of(node, 0), b, si, div_up(pairs, 64), node);
}

/* The rows variant a node needs: F64 data, a K-quant or IQ4_XS destination (kquant.glsl),
 * or neither. */
static const char *rows_kernel(const qg_tensor *node) {
    if (node->type == QG_TYPE_F64 || node->src[0]->type == QG_TYPE_F64) return "rows_f64";
    switch (node->type) {
    case QG_TYPE_Q2_K: case QG_TYPE_Q3_K: case QG_TYPE_Q4_K: case QG_TYPE_Q5_K: case QG_TYPE_Q6_K:
    case QG_TYPE_IQ4_XS:
        return "rows_k";
    default:
        return "rows";
    }
}

static qg_status record_node(qg_plugin_device *d, const qg_tensor *node, int path) {
    vk_binding b[4];
    uint32_t *s, si;
    qg_status st;
    switch (node->op) {
    case QG_OP_MUL_MAT:
        return record_mul_mat(d, node, path);
    case QG_OP_ROPE:
        return record_rope(d, node);
    case QG_OP_ADD:
    case QG_OP_MUL:
    case QG_OP_SCALE:
    case QG_OP_SILU:
    case QG_OP_GELU:
        if ((st = standard_slot(d, node, 0, b, &s, &si)) != QG_OK) return st;
        s[VKS_X] = (uint32_t)node->op;
        return vk_dispatch(d, "eltwise", spec_of(node, (uint32_t)node->op), b, si, div_up(units(node, node->type), 64), node);
    case QG_OP_CPY:
    case QG_OP_GET_ROWS:
    case QG_OP_SET_ROWS:
        if ((st = standard_slot(d, node, 0, b, &s, &si)) != QG_OK) return st;
        s[VKS_X] = (uint32_t)node->op;
        return vk_dispatch(d, rows_kernel(node),
                           spec_of(node, (uint32_t)node->op), b, si,
                           div_up(units(node->op == QG_OP_SET_ROWS ? node->src[0] : node, node->type), 64), node);
    case QG_OP_RMS_NORM:
    case QG_OP_NORM:
        if ((st = standard_slot(d, node, 0, b, &s, &si)) != QG_OK) return st;
        s[VKS_X] = (uint32_t)node->op;
        return vk_dispatch(d, "norm", spec_of(node, (uint32_t)node->op), b, si, (uint32_t)qg_nrows(node), node);
    case QG_OP_SOFT_MAX:
        if ((st = standard_slot(d, node, 0, b, &s, &si)) != QG_OK) return st;
        s[VKS_X + 1] = node->src[1] != NULL;
        return vk_dispatch(d, "softmax", spec_of(node, node->src[1] != NULL), b, si, (uint32_t)qg_nrows(node), node);
    default:
        return qg_set_error(QG_ERR_UNSUPPORTED, "vulkan: no kernel for %s node '%s'", qg_op_name(node->op),
                            node->name);
    }
}

qg_status vk_compute(qg_plugin_device *d, qg_tensor *const *nodes, int n, int path) {
    if (n < 0 || (n > 0 && !nodes))
        return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: compute given %d nodes and a NULL list", n);
    uint32_t n_dispatch = 0, words = 0;
    size_t scratch = 0;
    for (int i = 0; i < n; i++) {
        const qg_tensor *node = nodes[i];
        if (!node) return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: NULL node passed to compute");
        if ((unsigned)node->op >= QG_OP_COUNT || !needs_work(node)) continue;
        if (!vk_supports(d, node))
            return qg_set_error(QG_ERR_UNSUPPORTED, "vulkan: device %s cannot run %s node '%s' (types/shapes/strides)",
                                d->name, qg_op_name(node->op), node->name);
        const int nd = node->op == QG_OP_MUL_MAT ? 1 + (int)vk_mul_mat_chunks(d, node) : 1;
        n_dispatch += (uint32_t)nd;
        words += (uint32_t)nd * VKS_WORDS + rope_words(node);
        if (node->op == QG_OP_MUL_MAT) {
            size_t need = (size_t)qg_nelements(node->src[1]) * sizeof(float);
            if (need > scratch) scratch = need;
        }
    }
    qg_status st = vk_begin(d, n_dispatch, words, scratch);
    for (int i = 0; i < n && st == QG_OK; i++)
        if ((unsigned)nodes[i]->op < QG_OP_COUNT && needs_work(nodes[i])) st = record_node(d, nodes[i], path);
    if (st != QG_OK) {
        vkEndCommandBuffer(d->cmd);
        return st;
    }
    return vk_submit(d);
}
