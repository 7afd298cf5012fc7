/* Perplexity as llama.cpp's perplexity tool computes it: windows of n_ctx tokens, each
 * evaluated from an empty cache (its first token replaced by BOS when the model adds
 * one), the second half of each window scored: logits at position j (n_ctx/2 <= j <
 * n_ctx-1) give -log p(token j+1). */
#ifndef QGL_LLAMA_PPL_H
#define QGL_LLAMA_PPL_H

#include "llama_ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qgl_ppl_result {
    int n_chunks;     /* windows evaluated */
    int count;        /* tokens scored */
    double nll_sum;   /* sum of -log p */
    double nll2_sum;  /* sum of (-log p)^2 */
    double ppl;       /* exp(nll_sum / count) */
    double ppl_err;   /* ppl * sqrt(var(nll) / (count - 1)), 0 if undefined */
} qgl_ppl_result;

/* Called after each window with the running result; return false to stop. */
typedef bool (*qgl_ppl_progress)(const qgl_ppl_result *running, void *user);

/* max_chunks <= 0: every whole window. bos < 0: never replace the first token.
 * Needs at least 2 * n_ctx tokens (as llama.cpp) and n_ctx <= the session's context. */
qg_status qgl_perplexity(qgl_session *s, int64_t n_vocab, const int32_t *tokens, size_t n_tokens, int n_ctx,
                         int32_t bos, int max_chunks, qgl_ppl_progress progress, void *user,
                         qgl_ppl_result *out);

#ifdef __cplusplus
}
#endif
#endif
