/* Peak memory of the llama example at a 2048-token context: after loading the model,
 * the tokenizer and a session (as `qg run --ctx 2048` does), evaluating a short prompt
 * and generating a few tokens, the process's peak resident set (getrusage ru_maxrss)
 * must stay under 2 x (model file size + KV cache size). Weights are mapped from the
 * file without a copy on the CPU, so the budget leaves room for the tokenizer, the
 * compute buffers and the runtime, but not for a second copy of the weights.
 * This test runs in its own process so that nothing else inflates the peak.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "llama_setup.h"
#include "sampling.h"
#include "testutil.h"

static char model_path[1024];

static void test_peak_rss_ctx_2048(void **state) {
    (void)state;
    qgl_setup_params p = {.model_path = model_path, .backends = "cpu", .n_ctx = 2048, .kv_type = QG_TYPE_F16};
    qgl_setup su;
    if (qgl_setup_open(&p, &su) != QG_OK) fail_msg("%s", qg_last_error());
    const int32_t prompt[] = {504, 3575, 282, 4649, 314};
    float *logits = malloc((size_t)su.model->hp.n_vocab * sizeof(float));
    assert_non_null(logits);
    assert_int_equal(qgl_eval(su.session, prompt, 5, false, logits), QG_OK);
    for (int i = 0; i < 8; i++) {
        int32_t t = qgl_argmax(logits, su.model->hp.n_vocab);
        assert_int_equal(qgl_eval(su.session, &t, 1, false, logits), QG_OK);
    }
    const size_t rss = qgl_peak_rss();
    const size_t file = (size_t)su.model->file_size, kv = qgl_session_kv_bytes(su.session);
    const size_t limit = 2 * (file + kv);
    printf("peak RSS %.1f MiB; model file %.1f MiB, KV cache (F16, 2048 positions) %.1f MiB, limit %.1f MiB\n",
           rss / 1048576.0, file / 1048576.0, kv / 1048576.0, limit / 1048576.0);
    assert_true(rss > 0);
    /* The KV cache: 2 (K, V) x layers x 2048 x n_embd_kv x 2 bytes. */
    const qgl_hparams *hp = &su.model->hp;
    assert_int_equal(kv, (size_t)(2 * hp->n_layer * 2048 * hp->head_dim * hp->n_head_kv * 2));
    assert_true(rss < limit);
    free(logits);
    qgl_setup_close(&su);
}

int main(void) {
    qgl_default_model_path(model_path, sizeof model_path);
    if (access(model_path, R_OK) != 0)
        return qgt_skip("model %s not found (run tools/fetch-model.sh or set QG_MODEL)", model_path);
    qg_backend *cpu;
    if (qg_backend_open("cpu", &cpu) != QG_OK) return qgt_skip("no cpu device: %s", qg_last_error());
    qg_backend_free(cpu);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_peak_rss_ctx_2048)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
