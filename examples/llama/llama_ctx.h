/* qgllama sessions: a KV cache, the current position and a scheduler over the chosen
 * backends. qgl_eval() runs a batch of tokens (the prompt as one batch, then one token
 * per step) and returns logits; the graph is rebuilt per call (cheap: a few hundred
 * nodes) while the scheduler keeps its compute buffers between calls.
 * When the cache is full, a context shift (as llama.cpp's) keeps the first n_keep
 * positions, drops the oldest of the others and moves the rest down, re-rotating
 * their keys; with qgl_session_set_auto_shift qgl_eval does that by itself, so a
 * generation can run past the context size.
 */
#ifndef QGL_LLAMA_CTX_H
#define QGL_LLAMA_CTX_H

#include "llama_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qgl_session qgl_session;

/* backends: the scheduler's list (first supporting backend runs a node); the model's
 * part backends must be among them. kv_type: QG_TYPE_F16 (as llama.cpp) or QG_TYPE_F32. */
qg_status qgl_session_new(const qgl_model *m, qg_backend *const *backends, int n_backends, int n_ctx,
                          qg_type kv_type, qgl_session **out);
void qgl_session_free(qgl_session *s);

/* Evaluate n tokens at positions n_past .. n_past + n - 1 and advance n_past. logits
 * receives n_vocab floats (the last token's), or n * n_vocab with all_logits. */
qg_status qgl_eval(qgl_session *s, const int32_t *tokens, int n, bool all_logits, float *logits);

int qgl_session_n_past(const qgl_session *s);
int qgl_session_n_ctx(const qgl_session *s);
/* Forget the cached positions (the cache is overwritten by later batches). */
void qgl_session_reset(qgl_session *s);
/* Keep only the first n cached positions (n <= n_past), to re-evaluate from there. */
qg_status qgl_session_truncate(qgl_session *s, int n);
/* Context shift: drop the cached positions [n_keep, n_keep + n_discard), move the later
 * ones down by n_discard (keys re-rotated to their new positions) and decrease n_past
 * by n_discard. Needs n_keep >= 0, n_discard >= 1, n_keep + n_discard <= n_past. */
qg_status qgl_session_shift(qgl_session *s, int n_keep, int n_discard);
/* Automatic shift (off by default, n_keep < 0): when a batch does not fit, qgl_eval
 * first shifts away half of the positions after the first n_keep (more if the batch
 * needs it), and fails only if the batch cannot fit even then (the cache is then left
 * untouched). A shift stays done if the evaluation after it fails. */
void qgl_session_set_auto_shift(qgl_session *s, int n_keep);
/* Shifts done so far (automatic or explicit). */
int qgl_session_n_shifts(const qgl_session *s);
/* The tokens behind the cached positions 0 .. n_past - 1 (valid until the next call
 * that changes the session); after a shift, the kept ones. */
const int32_t *qgl_session_tokens(const qgl_session *s);
/* Bytes of the KV cache (all layers, K and V). */
size_t qgl_session_kv_bytes(const qgl_session *s);
/* Scheduler statistics of the last evaluation, and how many of its nodes each backend ran. */
qg_status qgl_session_last_stats(const qgl_session *s, qg_sched_stats *stats, int *nodes_per_backend);

#ifdef __cplusplus
}
#endif
#endif
