/* The llama graph on the real model, checked against itself: a prompt evaluated as one
 * batch gives the same logits as the same tokens fed one at a time through the KV cache
 * (this exercises the cache writes, the cache views and the causal mask); a model split
 * across two backends (layers 15.. on the second) keeps those layers'
 * weights and caches on the second backend and generates the same greedy tokens as the
 * model on one backend (two handles of `cpu`, so that kernels are identical on both
 * sides; cpu + cpu-ref is checked against llama.cpp in test_llama_ref.c); bad requests
 * fail with a status instead of crashing.
 * Agreement with llama.cpp itself is checked in test_llama_ref.c.
 * Needs the model (QG_MODEL or ~/.cache/qgraph/models, see tools/fetch-model.sh).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llama_ctx.h"
#include "llama_model.h"
#include "llama_setup.h"
#include "sampling.h"
#include "testutil.h"

static char model_path[1024];
/* "The capital of France is" followed by a few more ordinary tokens of the vocabulary. */
static const int32_t prompt[] = {504, 3575, 282, 4649, 314, 7042, 30, 198, 504, 2988, 314};
#define N_PROMPT (int)(sizeof prompt / sizeof prompt[0])

static qgl_model *load(qg_backend **be, int n_be, int split) {
    qgl_model *m = NULL;
    qg_status st = qgl_model_load(model_path, be, n_be, split, &m);
    if (st != QG_OK) fail_msg("loading %s: %s", model_path, qg_last_error());
    return m;
}

/* On cpu-ref every output element is one scalar dot product whatever the batch shape,
 * and masked positions add exact zeros, so a batch and single steps must agree to the
 * last bit; a wrong cache write, view or mask changes logits by whole units. (Faster
 * kernels may sum in another order, and this model's activation outliers (~2e4) turn
 * such rounding differences into visible ones through the 8-bit activation blocks, so
 * the exact check is made on the reference device.) */
static void test_batch_matches_incremental(void **state) {
    (void)state;
    qg_backend *cpu;
    if (qg_backend_open("cpu-ref", &cpu) != QG_OK) skip();
    qgl_model *m = load(&cpu, 1, 0);
    const int64_t nv = m->hp.n_vocab;
    float *batch = malloc((size_t)N_PROMPT * (size_t)nv * sizeof(float));
    float *one = malloc((size_t)nv * sizeof(float));
    assert_non_null(batch);
    assert_non_null(one);

    qgl_session *s;
    assert_int_equal(qgl_session_new(m, &cpu, 1, 64, QG_TYPE_F16, &s), QG_OK);
    assert_int_equal(qgl_eval(s, prompt, N_PROMPT, true, batch), QG_OK);
    assert_int_equal(qgl_session_n_past(s), N_PROMPT);
    qgl_session_reset(s);
    double worst = 0.0;
    for (int i = 0; i < N_PROMPT; i++) {
        assert_int_equal(qgl_eval(s, &prompt[i], 1, false, one), QG_OK);
        const float *b = batch + (size_t)i * (size_t)nv;
        for (int64_t v = 0; v < nv; v++) {
            assert_true(isfinite(one[v]));
            double d = fabs((double)one[v] - (double)b[v]);
            if (d > worst) worst = d;
        }
        assert_int_equal(qgl_argmax(one, nv), qgl_argmax(b, nv));
    }
    printf("cpu-ref, batch vs one-at-a-time: max |logit diff| = %.3g over %d positions\n", worst, N_PROMPT);
    assert_true(worst < 1e-4);

    /* Last-logits mode returns the last row of the all-logits mode. */
    qgl_session_reset(s);
    assert_int_equal(qgl_eval(s, prompt, N_PROMPT, false, one), QG_OK);
    double last = 0.0;
    for (int64_t v = 0; v < nv; v++) {
        double d = fabs((double)one[v] - (double)batch[(size_t)(N_PROMPT - 1) * (size_t)nv + (size_t)v]);
        if (d > last) last = d;
    }
    assert_true(last < 1e-4);
    qgl_session_free(s);
    free(batch);
    free(one);
    qgl_model_free(m);
    qg_backend_free(cpu);
}

/* Greedy tokens after the prompt; logits of the first step into first (n_vocab). */
static void greedy(qgl_model *m, qg_backend **be, int n_be, int n_gen, int32_t *out, float *first,
                   int *nodes_per_backend) {
    qgl_session *s;
    assert_int_equal(qgl_session_new(m, be, n_be, 64, QG_TYPE_F16, &s), QG_OK);
    float *logits = malloc((size_t)m->hp.n_vocab * sizeof(float));
    assert_non_null(logits);
    assert_int_equal(qgl_eval(s, prompt, 5, false, logits), QG_OK);
    memcpy(first, logits, (size_t)m->hp.n_vocab * sizeof(float));
    for (int i = 0; i < n_gen; i++) {
        out[i] = qgl_argmax(logits, m->hp.n_vocab);
        if (qgl_eval(s, &out[i], 1, false, logits) != QG_OK) fail_msg("eval: %s", qg_last_error());
    }
    if (nodes_per_backend) assert_int_equal(qgl_session_last_stats(s, NULL, nodes_per_backend), QG_OK);
    free(logits);
    qgl_session_free(s);
}

/* Two handles of the same device are two backends to the scheduler: the split moves data
 * between them exactly as between different devices, with identical kernels on both
 * sides, so the results must not change at all. */
static void test_split_two_backends(void **state) {
    (void)state;
    qg_backend *be[2];
    assert_int_equal(qg_backend_open("cpu", &be[0]), QG_OK);
    assert_int_equal(qg_backend_open("cpu", &be[1]), QG_OK);
    assert_ptr_not_equal(be[0], be[1]);
    enum { N_GEN = 6, SPLIT = 15 };
    qgl_model *whole = load(be, 1, 0);
    qgl_model *split = load(be, 2, SPLIT);
    assert_int_equal(split->split, SPLIT);
    for (int il = 0; il < split->hp.n_layer; il++) {
        qg_backend *want = be[il < SPLIT ? 0 : 1];
        assert_ptr_equal(qg_buffer_backend(split->layers[il].wq->buffer), want);
        assert_ptr_equal(qg_buffer_backend(split->layers[il].w_down->buffer), want);
    }
    assert_ptr_equal(qg_buffer_backend(split->tok_embd->buffer), be[0]);
    assert_ptr_equal(qg_buffer_backend(split->output->buffer), be[1]);
    const int64_t nv = whole->hp.n_vocab;
    int32_t a[N_GEN], b[N_GEN];
    float *la = malloc((size_t)nv * sizeof(float)), *lb = malloc((size_t)nv * sizeof(float));
    int nodes[QG_SCHED_MAX_BACKENDS] = {0};
    greedy(whole, be, 1, N_GEN, a, la, NULL);
    greedy(split, be, 2, N_GEN, b, lb, nodes);
    double worst = 0.0;
    for (int64_t v = 0; v < nv; v++) worst = fmax(worst, fabs((double)la[v] - (double)lb[v]));
    printf("split at layer %d: nodes per backend in the last step: first %d, second %d; "
           "first-step max |logit diff| vs one backend %.3g\n",
           SPLIT, nodes[0], nodes[1], worst);
    assert_true(worst < 1e-5);
    for (int i = 0; i < N_GEN; i++) assert_int_equal(a[i], b[i]);
    free(la);
    free(lb);
    qgl_model_free(split);
    qgl_model_free(whole);
    qg_backend_free(be[1]);
    qg_backend_free(be[0]);
}

static void test_bad_requests(void **state) {
    (void)state;
    qg_backend *cpu;
    assert_int_equal(qg_backend_open("cpu", &cpu), QG_OK);
    qgl_model *m = NULL;
    assert_int_not_equal(qgl_model_load("/nonexistent/model.gguf", &cpu, 1, 0, &m), QG_OK);
    assert_null(m);
    /* A valid GGUF that is not a llama model. */
    qg_status st = qgl_model_load(qgt_data_path("ref/quant/ref-q4_0.gguf"), &cpu, 1, 0, &m);
    assert_int_not_equal(st, QG_OK);
    assert_null(m);
    printf("non-model GGUF: %s\n", qg_last_error());
    /* A split needs a second backend and a layer inside the model. */
    assert_int_equal(qgl_model_load(model_path, &cpu, 1, 10, &m), QG_ERR_INVALID_ARG);
    qg_backend *two[2] = {cpu, cpu};
    assert_int_equal(qgl_model_load(model_path, two, 2, 999, &m), QG_ERR_INVALID_ARG);

    m = load(&cpu, 1, 0);
    qgl_session *s;
    assert_int_equal(qgl_session_new(m, &cpu, 1, 0, QG_TYPE_F16, &s), QG_ERR_INVALID_ARG);
    assert_int_equal(qgl_session_new(m, &cpu, 1, 8, QG_TYPE_Q4_0, &s), QG_ERR_UNSUPPORTED);
    assert_int_equal(qgl_session_new(m, &cpu, 1, 8, QG_TYPE_F32, &s), QG_OK);
    float *logits = malloc((size_t)m->hp.n_vocab * sizeof(float));
    const int32_t bad[2] = {1, (int32_t)m->hp.n_vocab};
    assert_int_equal(qgl_eval(s, bad, 2, false, logits), QG_ERR_INVALID_ARG);
    const int32_t neg = -5;
    assert_int_equal(qgl_eval(s, &neg, 1, false, logits), QG_ERR_INVALID_ARG);
    assert_int_equal(qgl_session_n_past(s), 0);
    assert_int_equal(qgl_eval(s, prompt, 8, false, logits), QG_OK);
    assert_int_equal(qgl_eval(s, prompt, 1, false, logits), QG_ERR_INVALID_ARG); /* context full */
    assert_int_equal(qgl_session_truncate(s, 9), QG_ERR_INVALID_ARG);
    assert_int_equal(qgl_session_truncate(s, 4), QG_OK);
    assert_int_equal(qgl_eval(s, prompt + 4, 4, false, logits), QG_OK);
    free(logits);
    qgl_session_free(s);
    qgl_model_free(m);
    qg_backend_free(cpu);
}

int main(void) {
    qgl_default_model_path(model_path, sizeof model_path);
    if (access(model_path, R_OK) != 0)
        return qgt_skip("model %s not found (run tools/fetch-model.sh or set QG_MODEL)", model_path);
    qg_backend *cpu;
    if (qg_backend_open("cpu", &cpu) != QG_OK) return qgt_skip("no cpu device: %s", qg_last_error());
    qg_backend_free(cpu);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_matches_incremental),
        cmocka_unit_test(test_split_two_backends),
        cmocka_unit_test(test_bad_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
