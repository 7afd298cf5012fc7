/* Perplexity over windows (see llama_ppl.h). Windows are evaluated in batches of at
 * most PPL_BATCH tokens so that the logits buffer stays at PPL_BATCH x n_vocab floats;
 * batches lying wholly in the unscored first half only ask for their last logits. The
 * error estimate is llama.cpp's: ppl * sqrt((mean(nll^2) - mean(nll)^2) / (count - 1)). */
#include "llama_ppl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PPL_BATCH 64

/* -log softmax(logits)[target], in double. */
static double nll_of(const float *logits, int64_t n_vocab, int32_t target) {
    double max = logits[0];
    for (int64_t i = 1; i < n_vocab; i++)
        if (logits[i] > max) max = logits[i];
    double sum = 0.0;
    for (int64_t i = 0; i < n_vocab; i++) sum += exp((double)logits[i] - max);
    return log(sum) - ((double)logits[target] - max);
}

static void finish(qgl_ppl_result *r) {
    const double mean = r->nll_sum / r->count;
    r->ppl = exp(mean);
    const double var = r->nll2_sum / r->count - mean * mean;
    r->ppl_err = var > 0 && r->count > 1 ? r->ppl * sqrt(var / (r->count - 1)) : 0.0;
}

static qg_status score_window(qgl_session *s, int64_t n_vocab, const int32_t *win, int n_ctx, float *logits,
                              qgl_ppl_result *r) {
    const int first = n_ctx / 2;
    qgl_session_reset(s);
    for (int b = 0; b < n_ctx; b += PPL_BATCH) {
        const int n = n_ctx - b < PPL_BATCH ? n_ctx - b : PPL_BATCH;
        const bool scored = b + n > first;
        qg_status st = qgl_eval(s, win + b, n, scored, logits);
        if (st != QG_OK) return st;
        if (!scored) continue;
        for (int j = b > first ? b : first; j < b + n && j < n_ctx - 1; j++) {
            const double v = nll_of(logits + (size_t)(j - b) * (size_t)n_vocab, n_vocab, win[j + 1]);
            r->nll_sum += v;
            r->nll2_sum += v * v;
            r->count++;
        }
    }
    return QG_OK;
}

qg_status qgl_perplexity(qgl_session *s, int64_t n_vocab, const int32_t *tokens, size_t n_tokens, int n_ctx,
                         int32_t bos, int max_chunks, qgl_ppl_progress progress, void *user,
                         qgl_ppl_result *out) {
    if (!s || !tokens || !out || n_vocab < 1 || n_ctx < 4)
        return qg_set_error(QG_ERR_INVALID_ARG, "perplexity: bad arguments (n_ctx %d)", n_ctx);
    memset(out, 0, sizeof *out);
    if (n_ctx > qgl_session_n_ctx(s))
        return qg_set_error(QG_ERR_INVALID_ARG, "perplexity: window of %d exceeds the session context of %d", n_ctx,
                            qgl_session_n_ctx(s));
    if (n_tokens < 2 * (size_t)n_ctx)
        return qg_set_error(QG_ERR_INVALID_ARG, "perplexity: %zu tokens; at least %d are needed for a context of %d",
                            n_tokens, 2 * n_ctx, n_ctx);
    for (size_t i = 0; i < n_tokens; i++)
        if (tokens[i] < 0 || tokens[i] >= n_vocab)
            return qg_set_error(QG_ERR_INVALID_ARG, "perplexity: token %d at %zu is outside the vocabulary", tokens[i], i);
    int n_chunks = (int)(n_tokens / (size_t)n_ctx);
    if (max_chunks > 0 && max_chunks < n_chunks) n_chunks = max_chunks;
    float *logits = malloc((size_t)PPL_BATCH * (size_t)n_vocab * sizeof *logits);
    int32_t *win = malloc((size_t)n_ctx * sizeof *win);
    qg_status st = logits && win ? QG_OK : qg_set_error(QG_ERR_NO_MEMORY, "perplexity: out of memory");
    for (int c = 0; st == QG_OK && c < n_chunks; c++) {
        memcpy(win, tokens + (size_t)c * (size_t)n_ctx, (size_t)n_ctx * sizeof *win);
        if (bos >= 0) win[0] = bos;
        if ((st = score_window(s, n_vocab, win, n_ctx, logits, out)) != QG_OK) break;
        out->n_chunks = c + 1;
        finish(out);
        if (progress && !progress(out, user)) break;
    }
    free(logits);
    free(win);
    return st;
}
