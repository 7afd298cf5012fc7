/* simple-graph: a 2-layer MLP built by hand with the qgraph C API, run on the CPU plugin,
 * and checked against the same computation done directly in C.
 *
 *     y = W2 * silu(W1 * x + b1) + b2      x: 8 inputs, hidden: 16, y: 4 outputs, batch 3
 *
 * Usage: simple-graph [device]   (default "cpu") */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "qg/qg.h"

enum { N_IN = 8, N_HID = 16, N_OUT = 4, BATCH = 3 };

static int fail(const char *what) {
    fprintf(stderr, "simple-graph: %s: %s\n", what, qg_last_error());
    return 1;
}

/* Deterministic small weights so the hand computation below is reproducible. */
static float weight(int i, int j, float scale) { return scale * (float)(((i * 7 + j * 3) % 11) - 5) / 5.0f; }

int main(int argc, char **argv) {
    const char *device = argc > 1 ? argv[1] : "cpu";
    float w1[N_HID][N_IN], b1[N_HID], w2[N_OUT][N_HID], b2[N_OUT], x[BATCH][N_IN];
    for (int i = 0; i < N_HID; i++) {
        for (int j = 0; j < N_IN; j++) w1[i][j] = weight(i, j, 0.5f);
        b1[i] = 0.1f * (float)(i % 3);
    }
    for (int i = 0; i < N_OUT; i++) {
        for (int j = 0; j < N_HID; j++) w2[i][j] = weight(j, i, 0.25f);
        b2[i] = -0.05f * (float)i;
    }
    for (int b = 0; b < BATCH; b++)
        for (int j = 0; j < N_IN; j++) x[b][j] = (float)(j - b) / 4.0f;

    qg_backend *be;
    if (qg_backend_open(device, &be) != QG_OK) return fail("open device");
    printf("device: %s (%s)\n", qg_backend_props(be)->name, qg_backend_props(be)->description);

    /* Weights and the input are leafs: tensors in a context, then storage on the device.
     * In ggml's convention a weight [k, m] maps k inputs to m outputs. */
    qg_context *ctx;
    if (qg_context_new(&ctx) != QG_OK) return fail("context");
    qg_tensor *tw1 = qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_F32, N_IN, N_HID), "w1");
    qg_tensor *tb1 = qg_set_name(qg_new_tensor_1d(ctx, QG_TYPE_F32, N_HID), "b1");
    qg_tensor *tw2 = qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_F32, N_HID, N_OUT), "w2");
    qg_tensor *tb2 = qg_set_name(qg_new_tensor_1d(ctx, QG_TYPE_F32, N_OUT), "b2");
    qg_tensor *tx = qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_F32, N_IN, BATCH), "x");
    qg_set_input(tx);

    /* The graph: nothing runs yet, each call only adds a node. */
    qg_tensor *h = qg_silu(ctx, qg_add(ctx, qg_mul_mat(ctx, tw1, tx), tb1));
    qg_tensor *y = qg_set_name(qg_add(ctx, qg_mul_mat(ctx, tw2, h), tb2), "y");
    if (qg_context_status(ctx) != QG_OK) return fail("build graph");
    qg_graph *g;
    if (qg_graph_new(&g) != QG_OK || qg_graph_add(g, y) != QG_OK) return fail("graph");

    qg_buffer *wbuf;
    if (qg_backend_alloc_ctx_tensors(be, ctx, &wbuf) != QG_OK) return fail("allocate weights");
    if (qg_tensor_set(tw1, w1, 0, sizeof w1) != QG_OK || qg_tensor_set(tb1, b1, 0, sizeof b1) != QG_OK ||
        qg_tensor_set(tw2, w2, 0, sizeof w2) != QG_OK || qg_tensor_set(tb2, b2, 0, sizeof b2) != QG_OK ||
        qg_tensor_set(tx, x, 0, sizeof x) != QG_OK)
        return fail("upload");

    qg_plan_stats plan;
    if (qg_graph_plan(g, 64, &plan) != QG_OK) return fail("plan");
    printf("graph: %d nodes; memory plan: %zu bytes planned, %zu bytes without reuse (%d tensors)\n",
           qg_graph_n_nodes(g), plan.planned_bytes, plan.naive_bytes, plan.n_tensors);

    qg_sched *sched;
    if (qg_sched_new(&be, 1, &sched) != QG_OK) return fail("scheduler");
    if (qg_sched_compute(sched, g) != QG_OK) return fail("compute");
    float out[BATCH][N_OUT];
    if (qg_tensor_get(y, out, 0, sizeof out) != QG_OK) return fail("download");

    /* The same MLP by hand, in double. */
    double max_err = 0;
    for (int b = 0; b < BATCH; b++) {
        double hid[N_HID];
        for (int i = 0; i < N_HID; i++) {
            double a = b1[i];
            for (int j = 0; j < N_IN; j++) a += (double)w1[i][j] * x[b][j];
            hid[i] = a / (1.0 + exp(-a));
        }
        printf("y[%d] =", b);
        for (int o = 0; o < N_OUT; o++) {
            double a = b2[o];
            for (int j = 0; j < N_HID; j++) a += (double)w2[o][j] * hid[j];
            double err = fabs(a - out[b][o]);
            if (err > max_err) max_err = err;
            printf(" %9.5f", out[b][o]);
        }
        printf("\n");
    }
    int ok = max_err < 1e-4;
    printf("max |graph - hand computation| = %.2e: %s\n", max_err, ok ? "OK" : "MISMATCH");

    qg_sched_free(sched);
    qg_graph_free(g);
    qg_buffer_free(wbuf);
    qg_context_free(ctx);
    qg_backend_free(be);
    return ok ? 0 : 1;
}
