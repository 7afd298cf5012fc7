/* The graph-builder program run by the fuzz_graph target and replayed by
 * test_fuzz_regressions. The input is a little program:
 * each step reads an opcode byte and operand bytes and calls one builder (new tensor,
 * element-wise ops, mul_mat, norms, softmax, rope, get/set_rows, cpy/cast, views,
 * reshape, permute) on tensors picked from a pool, with sizes and strides taken from
 * the input (including huge and zero values). A builder may refuse (NULL, with an
 * error message); whatever it accepts must satisfy qg_node_well_formed and have a size
 * that fits in memory arithmetic. The surviving tensors are then put in a graph and
 * planned. Any violation traps, which libFuzzer reports as a crash. */
#ifndef QGF_GRAPH_PROGRAM_H
#define QGF_GRAPH_PROGRAM_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qg/qg.h"

#define POOL 16

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint8_t u8(reader *r) {
    if (r->n == 0) return 0;
    r->n--;
    return *r->p++;
}

/* A dimension: mostly small, sometimes zero, negative or enormous. */
static int64_t dim(reader *r) {
    uint8_t b = u8(r);
    switch (b >> 5) {
    case 0: return 0;
    case 1: return -(int64_t)(b & 31) - 1;
    case 2: return (int64_t)1 << (20 + (b & 31)); /* up to 2^51 */
    case 3: return 32 * (int64_t)((b & 31) + 1);   /* block multiples */
    default: return (b & 63) + 1;
    }
}

static size_t stride(reader *r) {
    uint8_t b = u8(r);
    if (b >= 0xf0) return (size_t)1 << (b & 15) << 40;
    return (size_t)b * 2;
}

static qg_type pick_type(reader *r) {
    static const qg_type types[] = {
        QG_TYPE_F32,  QG_TYPE_F16,    QG_TYPE_BF16,    QG_TYPE_I32,     QG_TYPE_Q4_0, QG_TYPE_Q8_0,
        QG_TYPE_Q4_K, QG_TYPE_Q6_K,   QG_TYPE_IQ4_NL,  QG_TYPE_F8_E4M3, QG_TYPE_MXFP8_E4M3, QG_TYPE_Q5_1,
    };
    uint8_t b = u8(r);
    if (b == 0xff) return (qg_type)(u8(r) * 7); /* an id that may not exist */
    return types[b % (sizeof types / sizeof types[0])];
}

static qg_tensor *pick(reader *r, qg_tensor **pool) {
    return pool[u8(r) % POOL];
}

/* Print the node a builder accepted although it breaks the op's contract, then trap. */
static void reject(const qg_tensor *t, const char *why) {
    fprintf(stderr, "fuzz_graph: %s: %s [%lld %lld %lld %lld] type %d", why, qg_op_name(t->op), (long long)t->ne[0],
            (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3], (int)t->type);
    for (int i = 0; i < QG_MAX_SRC && t->src[i]; i++)
        fprintf(stderr, " | src%d %s [%lld %lld %lld %lld] nb [%zu %zu %zu %zu] type %d", i, qg_op_name(t->src[i]->op),
                (long long)t->src[i]->ne[0], (long long)t->src[i]->ne[1], (long long)t->src[i]->ne[2],
                (long long)t->src[i]->ne[3], t->src[i]->nb[0], t->src[i]->nb[1], t->src[i]->nb[2], t->src[i]->nb[3],
                (int)t->src[i]->type);
    fprintf(stderr, " (%s)\n", qg_last_error());
    __builtin_trap();
}

static void check(qg_tensor *t) {
    if (!t) return;
    if (t->op != QG_OP_NONE && !qg_node_well_formed(t)) reject(t, "not well formed");
    for (int i = 0; i < QG_MAX_DIMS; i++)
        if (t->ne[i] < 0) reject(t, "negative dimension"); /* leafs may be empty */
    (void)qg_nbytes(t);
    (void)qg_is_contiguous(t);
}

static qg_tensor *step(reader *r, qg_context *ctx, qg_tensor **pool) {
    qg_tensor *a = pick(r, pool), *b = pick(r, pool), *c = pick(r, pool);
    float f = (float)(int8_t)u8(r) / 16.0f;
    switch (u8(r) % 24) {
    case 0: {
        int64_t ne[4] = {dim(r), dim(r), dim(r), dim(r)};
        return qg_new_tensor(ctx, pick_type(r), 1 + u8(r) % 4, ne);
    }
    case 1: return qg_add(ctx, a, b);
    case 2: return qg_mul(ctx, a, b);
    case 3: return qg_scale(ctx, a, f);
    case 4: return qg_mul_mat(ctx, a, b);
    case 5: return qg_get_rows(ctx, a, b);
    case 6: return qg_rms_norm(ctx, a, f);
    case 7: return qg_norm(ctx, a, f);
    case 8: return qg_soft_max(ctx, a, u8(r) & 1 ? b : NULL, f);
    case 9: return qg_rope(ctx, a, b, (int)dim(r), u8(r) % 4, 10000.0f, f);
    case 10: return qg_silu(ctx, a);
    case 11: return qg_gelu(ctx, a);
    case 12: return qg_cpy(ctx, a, b);
    case 13: return qg_cont(ctx, a);
    case 14: return qg_cast(ctx, a, pick_type(r));
    case 15: return qg_set_rows(ctx, a, b, c);
    case 16: return qg_view_1d(ctx, a, dim(r), stride(r));
    case 17: return qg_view_2d(ctx, a, dim(r), dim(r), stride(r), stride(r));
    case 18: return qg_view_3d(ctx, a, dim(r), dim(r), dim(r), stride(r), stride(r), stride(r));
    case 19: return qg_view_4d(ctx, a, dim(r), dim(r), dim(r), dim(r), stride(r), stride(r), stride(r),
                               stride(r));
    case 20: {
        int64_t ne[4] = {dim(r), dim(r), dim(r), dim(r)};
        return qg_reshape(ctx, a, (int)(u8(r) % 6) - 1, ne);
    }
    case 21: return qg_permute(ctx, a, u8(r) % 5, u8(r) % 5, u8(r) % 5, u8(r) % 5);
    case 22: return qg_transpose(ctx, a);
    default: return qg_reshape_2d(ctx, a, dim(r), dim(r));
    }
}

static void qgf_graph_program(const uint8_t *data, size_t size) {
    reader r = {data, size};
    qg_context *ctx = NULL;
    if (qg_context_new(&ctx) != QG_OK) return;
    qg_tensor *pool[POOL];
    /* A few well-formed seeds so short inputs reach the interesting builders. */
    pool[0] = qg_new_tensor_2d(ctx, QG_TYPE_F32, 64, 4);
    pool[1] = qg_new_tensor_2d(ctx, QG_TYPE_Q4_0, 64, 8);
    pool[2] = qg_new_tensor_1d(ctx, QG_TYPE_I32, 4);
    pool[3] = qg_new_tensor_3d(ctx, QG_TYPE_F32, 16, 4, 4);
    pool[4] = qg_new_tensor_2d(ctx, QG_TYPE_F16, 64, 32);
    for (int i = 5; i < POOL; i++) pool[i] = pool[i % 5];

    int steps = 0;
    while (r.n > 0 && steps++ < 64) {
        qg_tensor *t = step(&r, ctx, pool);
        check(t);
        if (t) pool[u8(&r) % POOL] = t;
    }

    qg_graph *g = NULL;
    if (qg_graph_new(&g) == QG_OK) {
        for (int i = 0; i < POOL; i++)
            if (qg_graph_add(g, pool[i]) != QG_OK) break;
        for (int i = 0; i < qg_graph_n_nodes(g); i++) check(qg_graph_node(g, i));
        qg_plan_stats st;
        (void)qg_graph_plan(g, 64, &st);
        qg_graph_free(g);
    }
    qg_context_free(ctx);
}

#endif
