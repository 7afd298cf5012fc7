/* The `qg conform` catalogue: a table of generators, each appending cases (graph
 * builder + parameters + NMSE limit vs cpu-ref) for one family of ops.
 *
 * How the limits were chosen (NMSE = sum((a-b)^2) / sum(b^2) against cpu-ref, which
 * computes in double where it can and rounds once):
 *  - ADD, MUL, SCALE, copies, GET_ROWS: one correctly rounded float operation per
 *    element (or an exact conversion), so any correct backend agrees to the last bit
 *    save for operation order inside a dequantizer: 1e-10.
 *  - F16 outputs and F16/BF16 conversions: round-to-nearest-even is the rule; a second
 *    rounding (computing in F16) moves a few elements by one ulp: 1e-9 for plain copies,
 *    1e-7 for arithmetic with an F16 result.
 *  - SILU, GELU, norms, SOFT_MAX: float transcendental functions and float sums are
 *    good to ~1e-6 relative per element (NMSE ~1e-12): 1e-8. SOFT_MAX of inputs ~1e4
 *    loses the low bits of x*scale (ulp(1e4) ~ 1e-3): 1e-6.
 *  - ROPE: theta = pos * freq_scale * base^(-2i/n) evaluated in float is off by up to
 *    pos * 2^-23 rad (4e-3 rad at pos 32767), so large positions get 1e-4 and small ones
 *    (<= 512) 1e-6.
 *  - MUL_MAT: see mul_mat_limit(); quantized weights allow for a backend that keeps
 *    activations in float where cpu-ref quantizes them to the type's vec_dot_type (an
 *    error of ~2e-5 NMSE for Q8 activations): 2e-4.
 *  - CPY into lossy types: see quant_limit(); a backend's quantizer may choose other
 *    (equally good) codes than cpu-ref's, so vs cpu-ref the limit is 3x the per-type
 *    quantization error, and vs the F32 input it is the per-type error itself.
 */
#include "conform_cases.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { L_CONTIG = 0, L_TRANS = 1, L_ROWVIEW = 2, L_PERM = 3 };
enum { U_SCALE, U_SILU, U_GELU, U_RMS_NORM, U_NORM };

static const char *const layout_tag[] = {"", ":trans", ":rowview", ":perm"};

static cf_fill uni(float lo, float hi) { return (cf_fill){CF_UNIFORM, lo, hi, 0, 0}; }
static cf_fill ids_fill(cf_fill_kind kind, int64_t max) { return (cf_fill){kind, 0, 0, max, 0}; }

qg_tensor *cf_leaf(cf_graph *g, qg_type type, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, cf_fill fill) {
    if (g->n_leaf >= CF_MAX_LEAFS) return NULL;
    qg_tensor *t = qg_new_tensor_4d(g->ctx, type, ne0, ne1, ne2, ne3);
    if (!t) return NULL;
    qg_set_name(t, "leaf%d", g->n_leaf);
    g->leaf[g->n_leaf] = t;
    g->fill[g->n_leaf++] = fill;
    return t;
}

/* The case's first operand of shape c->ne and type t, laid out as c->iv[1] says: a plain
 * leaf, a transpose of a [ne1, ne0] leaf (2-D), a window of a larger leaf (row stride and
 * offset), or a permute of a [ne0, ne2, ne1, ne3] leaf (rows of planes interleaved). */
static qg_tensor *operand(cf_graph *g, const cf_case *c, qg_type t, cf_fill f) {
    const int64_t *ne = c->ne;
    qg_tensor *a;
    switch (c->iv[1]) {
    case L_TRANS:
        return qg_transpose(g->ctx, cf_leaf(g, t, ne[1], ne[0], ne[2], ne[3], f));
    case L_ROWVIEW:
        a = cf_leaf(g, t, ne[0] + 16, ne[1] + 3, ne[2], ne[3], f);
        if (!a) return NULL;
        return qg_view_4d(g->ctx, a, ne[0], ne[1], ne[2], ne[3], a->nb[1], a->nb[2], a->nb[3], a->nb[1] + 8 * a->nb[0]);
    case L_PERM:
        return qg_permute(g->ctx, cf_leaf(g, t, ne[0], ne[2], ne[1], ne[3], f), 0, 2, 1, 3);
    default:
        return cf_leaf(g, t, ne[0], ne[1], ne[2], ne[3], f);
    }
}

static cf_fill operand_fill(const cf_case *c) {
    cf_fill f = uni(c->f[2], c->f[3]);
    if (c->iv[2]) {
        f.kind = CF_SPECIAL;
        f.special = c->iv[2];
    }
    return f;
}

/* ---- builders: iv[0] op or mode, iv[1] layout, iv[2] special values, f[] params ---- */

static qg_tensor *b_binary(cf_graph *g, const cf_case *c) {
    qg_tensor *a = operand(g, c, c->t0, operand_fill(c));
    qg_tensor *b = cf_leaf(g, c->t1, c->ne2[0], c->ne2[1], c->ne2[2], c->ne2[3], operand_fill(c));
    return c->iv[0] == QG_OP_ADD ? qg_add(g->ctx, a, b) : qg_mul(g->ctx, a, b);
}

static qg_tensor *b_unary(cf_graph *g, const cf_case *c) {
    qg_tensor *a = operand(g, c, c->t0, operand_fill(c));
    switch (c->iv[0]) {
    case U_SCALE: return qg_scale(g->ctx, a, c->f[0]);
    case U_SILU: return qg_silu(g->ctx, a);
    case U_GELU: return qg_gelu(g->ctx, a);
    case U_RMS_NORM: return qg_rms_norm(g->ctx, a, c->f[0]);
    default: return qg_norm(g->ctx, a, c->f[0]);
    }
}

/* ne2: mask shape (ne2[0] == 0: no mask), t1 its type; f[0] scale. */
static qg_tensor *b_soft_max(cf_graph *g, const cf_case *c) {
    qg_tensor *a = operand(g, c, QG_TYPE_F32, operand_fill(c));
    qg_tensor *mask = NULL;
    if (c->ne2[0])
        mask = cf_leaf(g, c->t1, c->ne2[0], c->ne2[1], c->ne2[2], c->ne2[3], (cf_fill){CF_CAUSAL, -1, 1, 0, 0});
    return qg_soft_max(g->ctx, a, mask, c->f[0]);
}

/* ne = [head_dim, n_head, n_tokens, 1]; iv[0] n_dims, iv[3] mode, ne2[0] max position. */
static qg_tensor *b_rope(cf_graph *g, const cf_case *c) {
    qg_tensor *a = operand(g, c, QG_TYPE_F32, operand_fill(c));
    qg_tensor *pos = cf_leaf(g, QG_TYPE_I32, c->ne[2], 1, 1, 1, ids_fill(CF_POSITIONS, c->ne2[0]));
    return qg_rope(g->ctx, a, pos, c->iv[0], c->iv[3], c->f[0], c->f[1]);
}

/* a t0 [ne0, ne1, ne2], ids t1 [ne2[0], ne2[1]] in [0, ne1). */
static qg_tensor *b_get_rows(cf_graph *g, const cf_case *c) {
    qg_tensor *a = cf_leaf(g, c->t0, c->ne[0], c->ne[1], c->ne[2], 1, uni(-1, 1));
    qg_tensor *ids = cf_leaf(g, c->t1, c->ne2[0], c->ne2[1], 1, 1, ids_fill(CF_IDS, c->ne[1]));
    return qg_get_rows(g->ctx, a, ids);
}

/* dst t0 [ne0, ne1, ne2]; src F32 [ne0, ne2[0], ne2]; ids t1 [ne2[0], ne2] distinct. */
static qg_tensor *b_set_rows(cf_graph *g, const cf_case *c) {
    qg_tensor *dst = cf_leaf(g, c->t0, c->ne[0], c->ne[1], c->ne[2], 1, uni(-1, 1));
    qg_tensor *src = cf_leaf(g, QG_TYPE_F32, c->ne[0], c->ne2[0], c->ne[2], 1, uni(-1, 1));
    qg_tensor *ids = cf_leaf(g, c->t1, c->ne2[0], c->ne[2], 1, 1, ids_fill(CF_DISTINCT, c->ne[1]));
    return qg_set_rows(g->ctx, dst, src, ids);
}

/* iv[0]: 0 = qg_cpy into a t1 leaf of shape ne2 (ne when ne2[0] == 0), 1 = qg_cont,
 * 2 = qg_cast to t1; the source is a t0 operand. */
static qg_tensor *b_copy(cf_graph *g, const cf_case *c) {
    qg_tensor *a = operand(g, c, c->t0, uni(-1, 1));
    if (c->iv[0] == 1) return qg_cont(g->ctx, a);
    if (c->iv[0] == 2) return qg_cast(g->ctx, a, c->t1);
    const int64_t *ne = c->ne2[0] ? c->ne2 : c->ne;
    return qg_cpy(g->ctx, a, cf_leaf(g, c->t1, ne[0], ne[1], ne[2], ne[3], uni(-1, 1)));
}

/* w t0 [k, m, a2, a3] (ne; iv[2]: a row window of a larger leaf), x F32 [k, n, b2, b3]
 * (ne2) in layout iv[1]: contiguous, transposed [n, k] leaf, or permuted planes. */
static qg_tensor *b_mul_mat(cf_graph *g, const cf_case *c) {
    const int64_t *w = c->ne, *x = c->ne2;
    qg_tensor *wt;
    if (c->iv[2]) {
        qg_tensor *big = cf_leaf(g, c->t0, w[0], w[1] + 5, 1, 1, uni(-1, 1));
        wt = big ? qg_view_2d(g->ctx, big, w[0], w[1], big->nb[1], 3 * big->nb[1]) : NULL;
    } else {
        wt = cf_leaf(g, c->t0, w[0], w[1], w[2], w[3], uni(-1, 1));
    }
    qg_tensor *xt;
    if (c->iv[1] == L_TRANS)
        xt = qg_transpose(g->ctx, cf_leaf(g, QG_TYPE_F32, x[1], x[0], x[2], x[3], uni(-1, 1)));
    else if (c->iv[1] == L_PERM)
        xt = qg_permute(g->ctx, cf_leaf(g, QG_TYPE_F32, x[0], x[2], x[1], x[3], uni(-1, 1)), 0, 2, 1, 3);
    else
        xt = cf_leaf(g, QG_TYPE_F32, x[0], x[1], x[2], x[3], uni(-1, 1));
    return qg_mul_mat(g->ctx, wt, xt);
}

/* ---- the list ---- */

static cf_case oom_sink; /* where add() points after an allocation failure */
static bool oom;

static cf_case *add(cf_list *l, const char *op, cf_build_fn build, double max_nmse) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 256;
        cf_case *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) {
            oom = true;
            memset(&oom_sink, 0, sizeof oom_sink);
            return &oom_sink;
        }
        l->v = v;
        l->cap = cap;
    }
    cf_case *c = &l->v[l->n++];
    memset(c, 0, sizeof *c);
    c->op = op;
    c->build = build;
    c->max_nmse = max_nmse;
    c->f[2] = -1;
    c->f[3] = 1;
    for (int i = 0; i < 4; i++) c->ne[i] = c->ne2[i] = 1;
    return c;
}

static void set_ne(int64_t *dst, int64_t a, int64_t b, int64_t c, int64_t d) {
    dst[0] = a, dst[1] = b, dst[2] = c, dst[3] = d;
}

/* "256x64x4" (trailing 1s dropped) appended to buf. */
static void cat_shape(char *buf, size_t size, const int64_t *ne) {
    int nd = 4;
    while (nd > 1 && ne[nd - 1] == 1) nd--;
    for (int i = 0; i < nd; i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%lld", i ? "x" : "", (long long)ne[i]);
    }
}

static void describe(cf_case *c, const char *types, bool two_shapes, const char *tag) {
    snprintf(c->types, sizeof c->types, "%s", types);
    c->shape[0] = '\0';
    cat_shape(c->shape, sizeof c->shape, c->ne);
    if (two_shapes) {
        strcat(c->shape, ",");
        cat_shape(c->shape, sizeof c->shape, c->ne2);
    }
    size_t len = strlen(c->shape);
    snprintf(c->shape + len, sizeof c->shape - len, "%s", tag);
}

static const char *tn(qg_type t) { return qg_type_name(t); }

static void gen_binary(cf_list *l, bool full) {
    (void)full;
    static const struct { int64_t a[4], b[4]; int layout, special; qg_type ta; } shapes[] = {
        {{256, 64, 1, 1}, {256, 64, 1, 1}, L_CONTIG, 0, QG_TYPE_F32},
        {{256, 32, 4, 2}, {256, 1, 4, 1}, L_CONTIG, 0, QG_TYPE_F32},
        {{64, 16, 3, 2}, {1, 16, 1, 2}, L_CONTIG, 0, QG_TYPE_F32},
        {{64, 48, 1, 1}, {64, 1, 1, 1}, L_TRANS, 0, QG_TYPE_F32},
        {{200, 30, 1, 1}, {200, 30, 1, 1}, L_ROWVIEW, 0, QG_TYPE_F32},
        {{256, 16, 1, 1}, {256, 16, 1, 1}, L_CONTIG, CF_NAN | CF_PINF | CF_NINF, QG_TYPE_F32},
        {{256, 32, 1, 1}, {256, 1, 1, 1}, L_CONTIG, 0, QG_TYPE_F16},
    };
    const qg_op ops[2] = {QG_OP_ADD, QG_OP_MUL};
    for (int o = 0; o < 2; o++)
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            /* an F16 result is rounded once more: 1e-7 (see the top of the file) */
            cf_case *c = add(l, qg_op_name(ops[o]), b_binary, shapes[i].ta == QG_TYPE_F16 ? 1e-7 : 1e-10);
            c->iv[0] = ops[o];
            c->iv[1] = shapes[i].layout;
            c->iv[2] = shapes[i].special;
            c->t0 = shapes[i].ta;
            c->t1 = QG_TYPE_F32;
            memcpy(c->ne, shapes[i].a, sizeof c->ne);
            memcpy(c->ne2, shapes[i].b, sizeof c->ne2);
            char types[40];
            snprintf(types, sizeof types, "%s,%s", tn(c->t0), tn(c->t1));
            describe(c, types, true, shapes[i].special ? ":nan-inf" : layout_tag[c->iv[1]]);
        }
}

/* SCALE, SILU, GELU; RMS_NORM and NORM with eps edge cases. */
static void gen_unary(cf_list *l, bool full) {
    (void)full;
    static const struct {
        int op; float param, lo, hi; int64_t ne[4]; int layout, special; qg_type t; double limit; const char *tag;
    } rows[] = {
        {U_SCALE, 0.125f, -1, 1, {256, 64, 1, 1}, L_CONTIG, 0, QG_TYPE_F32, 1e-10, ""},
        {U_SCALE, -3.5f, -1, 1, {64, 8, 6, 1}, L_PERM, 0, QG_TYPE_F32, 1e-10, ":perm"},
        {U_SCALE, 0.5f, -1, 1, {256, 16, 1, 1}, L_CONTIG, CF_NAN | CF_PINF | CF_NINF, QG_TYPE_F32, 1e-10, ":nan-inf"},
        {U_SCALE, 0.5f, -1, 1, {256, 32, 1, 1}, L_CONTIG, 0, QG_TYPE_F16, 1e-7, ""},
        {U_SILU, 0, -8, 8, {256, 64, 1, 1}, L_CONTIG, 0, QG_TYPE_F32, 1e-8, ""},
        {U_SILU, 0, -8, 8, {64, 48, 1, 1}, L_TRANS, 0, QG_TYPE_F32, 1e-8, ":trans"},
        {U_SILU, 0, -100, 100, {256, 16, 1, 1}, L_CONTIG, 0, QG_TYPE_F32, 1e-8, ":large"},
        /* silu(-inf) is 0 or NaN depending on the formula: only NaN and +Inf are defined */
        {U_SILU, 0, -8, 8, {256, 16, 1, 1}, L_CONTIG, CF_NAN | CF_PINF, QG_TYPE_F32, 1e-8, ":nan-inf"},
        {U_SILU, 0, -8, 8, {256, 32, 1, 1}, L_CONTIG, 0, QG_TYPE_F16, 1e-7, ""},
        {U_GELU, 0, -8, 8, {256, 64, 1, 1}, L_CONTIG, 0, QG_TYPE_F32, 1e-8, ""},
        {U_GELU, 0, -8, 8, {200, 30, 1, 1}, L_ROWVIEW, 0, QG_TYPE_F32, 1e-8, ":rowview"},
        {U_GELU, 0, -100, 100, {256, 16, 1, 1}, L_CONTIG, 0, QG_TYPE_F32, 1e-8, ":large"},
        {U_GELU, 0, -8, 8, {256, 16, 1, 1}, L_CONTIG, CF_NAN | CF_PINF, QG_TYPE_F32, 1e-8, ":nan-inf"},
        {U_GELU, 0, -8, 8, {256, 32, 1, 1}, L_CONTIG, 0, QG_TYPE_F16, 1e-7, ""},
        {U_RMS_NORM, 1e-6f, -1, 1, {4096, 4, 1, 1}, L_CONTIG, 0, QG_TYPE_F32, 1e-8, ":eps=1e-6"},
        {U_RMS_NORM, 0.0f, -1, 1, {576, 7, 1, 1}, L_CONTIG, 0, QG_TYPE_F32, 1e-8, ":eps=0"},
        {U_RMS_NORM, 1e-12f, -1e-3f, 1e-3f, {576, 7, 1, 1}, L_CONTIG, 0, QG_TYPE_F32, 1e-8, ":eps=1e-12:small"},
        {U_RMS_NORM, 1.0f, -1, 1, {576, 7, 1, 1}, L_CONTIG, 0, QG_TYPE_F32, 1e-8, ":eps=1"},
        {U_RMS_NORM, 1e-5f, -1, 1, {64, 3, 2, 1}, L_PERM, 0, QG_TYPE_F32, 1e-8, ":eps=1e-5:perm"},
        {U_RMS_NORM, 1e-6f, -1, 1, {200, 6, 1, 1}, L_ROWVIEW, 0, QG_TYPE_F32, 1e-8, ":eps=1e-6:rowview"},
        {U_NORM, 1e-5f, -1, 1, {4096, 4, 1, 1}, L_CONTIG, 0, QG_TYPE_F32, 1e-8, ":eps=1e-5"},
        {U_NORM, 0.0f, -1, 1, {576, 7, 1, 1}, L_CONTIG, 0, QG_TYPE_F32, 1e-8, ":eps=0"},
        {U_NORM, 1e-12f, -1e-3f, 1e-3f, {576, 7, 1, 1}, L_CONTIG, 0, QG_TYPE_F32, 1e-8, ":eps=1e-12:small"},
        {U_NORM, 1.0f, -1, 1, {576, 7, 1, 1}, L_CONTIG, 0, QG_TYPE_F32, 1e-8, ":eps=1"},
        /* mean 100, spread 1: one-pass E[x^2]-E[x]^2 in float loses ~3 digits; 1e-6 still
         * admits a float two-pass implementation */
        {U_NORM, 1e-6f, 99, 101, {576, 7, 1, 1}, L_CONTIG, 0, QG_TYPE_F32, 1e-6, ":eps=1e-6:offset"},
        {U_NORM, 1e-5f, -1, 1, {64, 3, 2, 1}, L_PERM, 0, QG_TYPE_F32, 1e-8, ":eps=1e-5:perm"},
    };
    static const char *const names[] = {"SCALE", "SILU", "GELU", "RMS_NORM", "NORM"};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cf_case *c = add(l, names[rows[i].op], b_unary, rows[i].limit);
        c->iv[0] = rows[i].op;
        c->iv[1] = rows[i].layout;
        c->iv[2] = rows[i].special;
        c->t0 = rows[i].t;
        c->f[0] = rows[i].param;
        c->f[2] = rows[i].lo;
        c->f[3] = rows[i].hi;
        memcpy(c->ne, rows[i].ne, sizeof c->ne);
        char tag[64];
        snprintf(tag, sizeof tag, "%s", rows[i].tag);
        if (rows[i].op == U_SCALE) snprintf(tag, sizeof tag, ":s=%g%s", (double)rows[i].param, rows[i].tag);
        describe(c, tn(c->t0), false, tag);
    }
}

static void gen_soft_max(cf_list *l, bool full) {
    (void)full;
    static const struct {
        int64_t a[4], mask[4]; qg_type mt; float scale, mag; int layout; double limit;
    } rows[] = {
        {{256, 32, 4, 1}, {0, 1, 1, 1}, QG_TYPE_F32, 1.0f, 4, L_CONTIG, 1e-8},
        {{256, 32, 4, 1}, {256, 32, 1, 1}, QG_TYPE_F32, 0.125f, 4, L_CONTIG, 1e-8},
        {{256, 32, 4, 1}, {256, 32, 1, 1}, QG_TYPE_F16, 0.125f, 4, L_CONTIG, 1e-8},
        {{256, 30, 2, 1}, {256, 32, 1, 1}, QG_TYPE_F16, 0.0883883f, 4, L_CONTIG, 1e-8},
        {{128, 16, 4, 1}, {128, 16, 4, 1}, QG_TYPE_F32, 1.0f, 4, L_CONTIG, 1e-8},
        {{67, 5, 3, 1}, {67, 5, 1, 1}, QG_TYPE_F32, 0.5f, 4, L_CONTIG, 1e-8},
        {{256, 8, 4, 1}, {0, 1, 1, 1}, QG_TYPE_F32, 0.25f, 4, L_PERM, 1e-8},
        {{256, 16, 2, 1}, {0, 1, 1, 1}, QG_TYPE_F32, 1.0f, 1e4f, L_CONTIG, 1e-6},
        {{256, 16, 2, 1}, {256, 16, 1, 1}, QG_TYPE_F16, 0.125f, 1e4f, L_CONTIG, 1e-6},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cf_case *c = add(l, "SOFT_MAX", b_soft_max, rows[i].limit);
        memcpy(c->ne, rows[i].a, sizeof c->ne);
        memcpy(c->ne2, rows[i].mask, sizeof c->ne2);
        c->t1 = rows[i].mt;
        c->f[0] = rows[i].scale;
        c->f[2] = -rows[i].mag;
        c->f[3] = rows[i].mag;
        c->iv[1] = rows[i].layout;
        char types[40], tag[64];
        snprintf(types, sizeof types, rows[i].mask[0] ? "f32,mask:%s" : "f32", tn(rows[i].mt));
        snprintf(tag, sizeof tag, ":scale=%g%s%s", (double)rows[i].scale, rows[i].mag > 100 ? ":large" : "",
                 layout_tag[rows[i].layout]);
        describe(c, types, rows[i].mask[0] != 0, tag);
    }
}

static void gen_rope(cf_list *l, bool full) {
    (void)full;
    static const struct {
        int64_t ne[4]; int n_dims; float base, fscale; int64_t max_pos; int layout;
    } rows[] = {
        {{64, 4, 8, 1}, 64, 10000.0f, 1.0f, 512, L_CONTIG},
        {{128, 2, 8, 1}, 128, 10000.0f, 0.25f, 32768, L_CONTIG},
        {{64, 3, 5, 1}, 32, 1000000.0f, 0.125f, 32768, L_CONTIG},
        {{64, 4, 6, 1}, 64, 10000.0f, 1.0f, 32768, L_PERM},
    };
    const int modes[2] = {QG_ROPE_NORMAL, QG_ROPE_NEOX};
    for (int m = 0; m < 2; m++)
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            cf_case *c = add(l, "ROPE", b_rope, rows[i].max_pos <= 512 ? 1e-6 : 1e-4);
            memcpy(c->ne, rows[i].ne, sizeof c->ne);
            c->ne2[0] = rows[i].max_pos;
            c->iv[0] = rows[i].n_dims;
            c->iv[1] = rows[i].layout;
            c->iv[3] = modes[m];
            c->f[0] = rows[i].base;
            c->f[1] = rows[i].fscale;
            char tag[96];
            snprintf(tag, sizeof tag, ":%s:dims=%d:base=%g:fs=%g:pos<%lld%s", m ? "neox" : "normal", rows[i].n_dims,
                     (double)rows[i].base, (double)rows[i].fscale, (long long)rows[i].max_pos,
                     layout_tag[rows[i].layout]);
            describe(c, "f32,i32", false, tag);
        }
}

/* Types that can be read (every non-integer type) and written (those with from_float). */
static bool float_like(const qg_type_traits *t) { return !t->is_integer && t->to_float; }

static void gen_get_rows(cf_list *l, bool full) {
    (void)full;
    int n;
    const qg_type_traits *tab = qg_type_table(&n);
    for (int i = 0; i < n; i++) {
        if (!float_like(&tab[i]) || !tab[i].from_float || 256 % tab[i].block_size != 0) continue;
        cf_case *c = add(l, "GET_ROWS", b_get_rows, 1e-10);
        c->t0 = tab[i].type;
        c->t1 = QG_TYPE_I32;
        set_ne(c->ne, 256, 40, 1, 1);
        set_ne(c->ne2, 17, 1, 1, 1);
        char types[40];
        snprintf(types, sizeof types, "%s,i32", tab[i].name);
        describe(c, types, true, "");
    }
    cf_case *c = add(l, "GET_ROWS", b_get_rows, 1e-10);
    c->t0 = QG_TYPE_Q4_0, c->t1 = QG_TYPE_I32;
    set_ne(c->ne, 256, 20, 3, 1);
    set_ne(c->ne2, 9, 3, 1, 1);
    describe(c, "q4_0,i32", true, "");
    c = add(l, "GET_ROWS", b_get_rows, 1e-10);
    c->t0 = QG_TYPE_F16, c->t1 = QG_TYPE_I64;
    set_ne(c->ne, 64, 33, 1, 1);
    set_ne(c->ne2, 70, 1, 1, 1);
    describe(c, "f16,i64", true, "");
}

/* Expected quantization NMSE of a type on uniform [-1, 1) data: about 1.5-2x what the
 * scalar reference quantizers measured on such data (q4_0 4.2e-3, q8_0 1.4e-5, q2_K
 * 5.4e-2, tq1_0 0.25 ...). A type missing here gets the error of a uniform quantizer
 * with its bits per element (4^-(bits-1)). */
static double quant_limit(qg_type type) {
    static const struct { qg_type t; double nmse; } known[] = {
        {QG_TYPE_F16, 1e-7}, {QG_TYPE_BF16, 5e-6}, {QG_TYPE_F64, 1e-14}, {QG_TYPE_Q4_0, 8e-3},
        {QG_TYPE_Q4_1, 7e-3}, {QG_TYPE_Q5_0, 2e-3}, {QG_TYPE_Q5_1, 2e-3}, {QG_TYPE_Q8_0, 3e-5},
        {QG_TYPE_Q8_1, 3e-5}, {QG_TYPE_Q2_K, 0.1}, {QG_TYPE_Q3_K, 3e-2}, {QG_TYPE_Q4_K, 6e-3},
        {QG_TYPE_Q5_K, 1.5e-3}, {QG_TYPE_Q6_K, 4e-4}, {QG_TYPE_Q8_K, 3e-5}, {QG_TYPE_IQ4_NL, 8e-3},
        {QG_TYPE_IQ4_XS, 8e-3}, {QG_TYPE_TQ1_0, 0.4}, {QG_TYPE_TQ2_0, 0.4}, {QG_TYPE_MXFP4, 4e-2},
        {QG_TYPE_NVFP4, 2e-2}, {QG_TYPE_F8_E4M3, 1e-3}, {QG_TYPE_F8_E5M2, 4e-3},
        {QG_TYPE_MXFP8_E4M3, 4e-3}, {QG_TYPE_MXFP8_E5M2, 6e-3},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].t == type) return known[i].nmse;
    const qg_type_traits *t = qg_type_get(type);
    const double bits = 8.0 * (double)t->type_size / (double)t->block_size;
    return pow(4.0, -(bits - 1.0));
}

static void gen_set_rows(cf_list *l, bool full) {
    (void)full;
    static const struct { qg_type dst, ids; int64_t k, rows, planes, n; } rows[] = {
        {QG_TYPE_F32, QG_TYPE_I32, 128, 64, 2, 9}, {QG_TYPE_F16, QG_TYPE_I32, 128, 64, 2, 9},
        {QG_TYPE_Q8_0, QG_TYPE_I32, 128, 64, 2, 9}, {QG_TYPE_F16, QG_TYPE_I64, 64, 40, 1, 13},
        {QG_TYPE_Q8_0, QG_TYPE_I64, 32, 40, 1, 40}, {QG_TYPE_F32, QG_TYPE_I64, 96, 7, 3, 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const qg_type d = rows[i].dst;
        cf_case *c = add(l, "SET_ROWS", b_set_rows, d == QG_TYPE_F32 ? 1e-10 : d == QG_TYPE_F16 ? 1e-9 : 3 * quant_limit(d));
        c->t0 = d;
        c->t1 = rows[i].ids;
        set_ne(c->ne, rows[i].k, rows[i].rows, rows[i].planes, 1);
        set_ne(c->ne2, rows[i].n, rows[i].planes, 1, 1);
        char types[40];
        snprintf(types, sizeof types, "f32->%s,%s", tn(d), tn(rows[i].ids));
        describe(c, types, true, "");
    }
}

/* CPY F32 -> every writable type, rows that do not line up, CPY/CONT of permuted data. */
static void gen_copy(cf_list *l, bool full) {
    (void)full;
    int n;
    const qg_type_traits *tab = qg_type_table(&n);
    char types[40];
    for (int i = 0; i < n; i++) {
        if (!float_like(&tab[i]) || !tab[i].from_float || tab[i].type == QG_TYPE_F32) continue;
        if (512 % tab[i].block_size != 0) continue;
        const double q = quant_limit(tab[i].type);
        cf_case *c = add(l, "CPY", b_copy, 3 * q);
        c->max_nmse_input = q;
        c->t0 = QG_TYPE_F32;
        c->t1 = tab[i].type;
        set_ne(c->ne, 512, 16, 1, 1);
        c->ne2[0] = 0; /* the destination has the source's shape */
        snprintf(types, sizeof types, "f32->%s", tab[i].name);
        describe(c, types, false, "");
    }
    static const struct { int kind, layout; qg_type from, to; int64_t ne[4], ne2[4]; double limit; } rows[] = {
        {0, L_CONTIG, QG_TYPE_F32, QG_TYPE_Q4_0, {256, 32, 1, 1}, {512, 16, 1, 1}, 3 * 8e-3},
        {0, L_CONTIG, QG_TYPE_F32, QG_TYPE_F16, {256, 32, 1, 1}, {128, 64, 1, 1}, 1e-9},
        {0, L_PERM, QG_TYPE_F32, QG_TYPE_F16, {32, 16, 8, 1}, {0, 1, 1, 1}, 1e-9},
        {0, L_TRANS, QG_TYPE_F16, QG_TYPE_F32, {48, 64, 1, 1}, {0, 1, 1, 1}, 1e-10},
        {1, L_TRANS, QG_TYPE_F32, QG_TYPE_F32, {48, 64, 1, 1}, {0, 1, 1, 1}, 1e-10},
        {1, L_PERM, QG_TYPE_F16, QG_TYPE_F16, {32, 8, 6, 2}, {0, 1, 1, 1}, 1e-10},
        {1, L_ROWVIEW, QG_TYPE_F32, QG_TYPE_F32, {100, 20, 1, 1}, {0, 1, 1, 1}, 1e-10},
        {2, L_PERM, QG_TYPE_F32, QG_TYPE_F16, {32, 8, 6, 1}, {0, 1, 1, 1}, 1e-9},
    };
    static const char *const op_names[] = {"CPY", "CONT", "CAST"};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cf_case *c = add(l, op_names[rows[i].kind], b_copy, rows[i].limit);
        c->iv[0] = rows[i].kind;
        c->iv[1] = rows[i].layout;
        c->t0 = rows[i].from;
        c->t1 = rows[i].to;
        memcpy(c->ne, rows[i].ne, sizeof c->ne);
        memcpy(c->ne2, rows[i].ne2, sizeof c->ne2);
        snprintf(types, sizeof types, "%s->%s", tn(c->t0), tn(c->t1));
        describe(c, types, rows[i].ne2[0] != 0, layout_tag[rows[i].layout]);
    }
}

/* MUL_MAT limit vs cpu-ref per weight type: F32 weights differ only in summation order
 * (~k * 2^-48 per element): 1e-8. F16/FP8 weights: cpu-ref rounds activations to F16
 * (or keeps F32), a backend may do the other: F16 rounding costs ~4e-8: 1e-6. BF16:
 * activations rounded to BF16 cost ~3e-6: 2e-5. Block-quantized weights: activations
 * quantized to Q8_0/Q8_1/Q8_K (~2e-5) or not at all: 2e-4. */
static double mul_mat_limit(const qg_type_traits *t) {
    if (t->type == QG_TYPE_F32) return 1e-8;
    if (t->type == QG_TYPE_BF16 || t->vec_dot_type == QG_TYPE_BF16) return 2e-5;
    const qg_type_traits *v = qg_type_get(t->vec_dot_type);
    if (v && v->is_quantized) return 2e-4;
    return 1e-6;
}

static void mm_case(cf_list *l, const qg_type_traits *t, int64_t k, int64_t m, int64_t n, int layout, int64_t a2,
                    int64_t a3, int64_t b2, int64_t b3, bool wview) {
    cf_case *c = add(l, "MUL_MAT", b_mul_mat, mul_mat_limit(t));
    c->t0 = t->type;
    c->t1 = QG_TYPE_F32;
    if (layout == L_PERM && b2 == 1) b2 = 2; /* one plane would be contiguous after all */
    set_ne(c->ne, k, m, a2, a3);
    set_ne(c->ne2, k, n, b2, b3);
    c->iv[1] = layout;
    c->iv[2] = wview;
    c->flops = 2.0 * (double)k * (double)m * (double)n * (double)b2 * (double)b3;
    char types[40], tag[32];
    snprintf(types, sizeof types, "%s*f32", t->name);
    snprintf(tag, sizeof tag, "%s%s", layout_tag[layout], wview ? ":wview" : "");
    describe(c, types, true, tag);
}

static void gen_mul_mat(cf_list *l, bool full) {
    static const int64_t ns[] = {1, 2, 7, 32, 128, 512};
    int n_types;
    const qg_type_traits *tab = qg_type_table(&n_types);
    for (int i = 0; i < n_types; i++) {
        const qg_type_traits *t = &tab[i];
        const qg_type_traits *v = t->vec_dot ? qg_type_get(t->vec_dot_type) : NULL;
        if (!v || !t->from_float || !v->from_float) continue;
        const int64_t kblk = t->block_size > v->block_size ? t->block_size : v->block_size;
        if (256 % kblk != 0) continue;
        /* the sweep: n x rows that are and are not multiples of 64 x activation layouts */
        for (int mi = 0; mi < 2; mi++)
            for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
                /* the costliest combinations (n = 512 on 64 rows or permuted) only in --full */
                const int64_t m = mi ? 67 : 64, n = ns[ni];
                if (mi || n < 512 || full) mm_case(l, t, 256, m, n, L_CONTIG, 1, 1, 1, 1, false);
                if (n < 512 || full) mm_case(l, t, 256, m, n, L_PERM, 1, 1, 1, 1, false);
                if (mi || n <= 7) mm_case(l, t, 256, m, n, L_TRANS, 1, 1, 1, 1, false);
            }
        for (int64_t n = 1; n <= 7; n += 6) {
            mm_case(l, t, 256, 67, n, L_CONTIG, 2, 3, 4, 6, false); /* weights broadcast over dims 2, 3 */
            if (kblk != 256) mm_case(l, t, kblk, 67, n, L_CONTIG, 1, 1, 1, 1, false); /* k = one block */
            mm_case(l, t, 4096, 67, n, L_CONTIG, 1, 1, 1, 1, false);
            if (576 % kblk == 0) { /* 135M llama: attention and MLP up, then MLP down */
                mm_case(l, t, 576, 576, n, L_CONTIG, 1, 1, 1, 1, false);
                mm_case(l, t, 576, 1536, n, L_CONTIG, 1, 1, 1, 1, false);
            }
            mm_case(l, t, 1536, 576, n, L_CONTIG, 1, 1, 1, 1, false);
        }
        mm_case(l, t, 256, 67, 7, L_PERM, 1, 1, 1, 1, true);
        mm_case(l, t, 4096, 11008, 1, L_CONTIG, 1, 1, 1, 1, false); /* 7B llama */
        if (full) {
            mm_case(l, t, 4096, 11008, 7, L_CONTIG, 1, 1, 1, 1, false);
            mm_case(l, t, 11008, 4096, 2, L_CONTIG, 1, 1, 1, 1, false);
            mm_case(l, t, 4096, 4096, 32, L_PERM, 1, 1, 1, 1, false);
        }
    }
}

typedef void (*cf_generator)(cf_list *l, bool full);

static const struct { const char *family; cf_generator gen; } generators[] = {
    {"ADD/MUL", gen_binary},
    {"SCALE/SILU/GELU/norms", gen_unary},
    {"SOFT_MAX", gen_soft_max},
    {"ROPE", gen_rope},
    {"GET_ROWS", gen_get_rows},
    {"SET_ROWS", gen_set_rows},
    {"CPY/CONT", gen_copy},
    {"MUL_MAT", gen_mul_mat},
};

qg_status cf_catalogue(cf_list *list, bool full) {
    memset(list, 0, sizeof *list);
    oom = false;
    for (size_t i = 0; i < sizeof generators / sizeof generators[0]; i++) generators[i].gen(list, full);
    if (oom) {
        cf_list_free(list);
        return qg_set_error(QG_ERR_NO_MEMORY, "conform: out of memory building the catalogue");
    }
    return QG_OK;
}

void cf_list_free(cf_list *list) {
    free(list->v);
    memset(list, 0, sizeof *list);
}
