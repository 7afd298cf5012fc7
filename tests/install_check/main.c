/* Install check: using only the installed headers and library, open device template0
 * (the out-of-tree template plugin, found through QG_PLUGIN_PATH), run
 *     z = mul_mat(w, transpose(at) + b) + bias
 * through the scheduler and compare every element with a hand computation. The inputs
 * are small integers, so the float results are exact. Exit 0 on success. */
#include <stdio.h>
#include <string.h>

#include "qg/qg.h"

#define CHECK(call)                                                                       \
    do {                                                                                  \
        qg_status st_ = (call);                                                           \
        if (st_ != QG_OK) {                                                               \
            fprintf(stderr, "install_check: %s failed: %s: %s\n", #call,                  \
                    qg_status_name(st_), qg_last_error());                                \
            return 1;                                                                     \
        }                                                                                 \
    } while (0)

enum { K = 4, M = 2, N = 3 };

int main(void) {
    /* at is stored [N, K] (ne0 = N), so its transpose is a strided [K, N] operand. */
    float at[K][N], b[N][K], w[M][K], bias[M];
    for (int j = 0; j < N; j++)
        for (int k = 0; k < K; k++) {
            at[k][j] = (float)(j * K + k - 5);
            b[j][k] = (float)((k * 3 + j) % 7 - 3);
        }
    for (int i = 0; i < M; i++) {
        bias[i] = (float)(10 * i - 4);
        for (int k = 0; k < K; k++) w[i][k] = (float)((i + 2 * k) % 5 - 2);
    }

    qg_backend *be;
    CHECK(qg_backend_open("template0", &be));

    qg_context *ctx;
    CHECK(qg_context_new(&ctx));
    qg_tensor *t_at = qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_F32, N, K), "at");
    qg_tensor *t_b = qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_F32, K, N), "b");
    qg_tensor *t_w = qg_set_name(qg_new_tensor_2d(ctx, QG_TYPE_F32, K, M), "w");
    qg_tensor *t_bias = qg_set_name(qg_new_tensor_1d(ctx, QG_TYPE_F32, M), "bias");
    qg_tensor *x = qg_add(ctx, qg_transpose(ctx, t_at), t_b);
    qg_tensor *z = qg_add(ctx, qg_mul_mat(ctx, t_w, x), t_bias);
    CHECK(qg_context_status(ctx));
    if (!z) return fprintf(stderr, "install_check: graph building failed\n"), 1;

    qg_graph *g;
    CHECK(qg_graph_new(&g));
    CHECK(qg_graph_add(g, z));

    qg_buffer *leafs;
    CHECK(qg_backend_alloc_ctx_tensors(be, ctx, &leafs));
    CHECK(qg_tensor_set(t_at, at, 0, sizeof at));
    CHECK(qg_tensor_set(t_b, b, 0, sizeof b));
    CHECK(qg_tensor_set(t_w, w, 0, sizeof w));
    CHECK(qg_tensor_set(t_bias, bias, 0, sizeof bias));

    qg_sched *s;
    CHECK(qg_sched_new(&be, 1, &s));
    CHECK(qg_sched_alloc(s, g));
    CHECK(qg_sched_compute(s, g));
    if (qg_sched_node_backend(s, z) != be) {
        fprintf(stderr, "install_check: the result was not computed on template0\n");
        return 1;
    }

    float got[N][M];
    CHECK(qg_tensor_get(z, got, 0, sizeof got));
    int bad = 0;
    for (int j = 0; j < N; j++)
        for (int i = 0; i < M; i++) {
            double want = bias[i];
            for (int k = 0; k < K; k++) want += (double)w[i][k] * (at[k][j] + b[j][k]);
            if ((double)got[j][i] != want) {
                fprintf(stderr, "install_check: z[%d][%d] = %g, expected %g\n", j, i,
                        (double)got[j][i], want);
                bad++;
            }
        }

    qg_sched_free(s);
    qg_graph_free(g);
    qg_buffer_free(leafs);
    qg_context_free(ctx);
    qg_backend_free(be);
    if (bad) return 1;
    printf("install_check: %d x %d result from template0 matches the hand computation\n", N, M);
    return 0;
}
