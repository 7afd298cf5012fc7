/* Sessions: one KV cache, one scheduler, the position where the next batch goes and the
 * tokens behind the cached positions. Each qgl_eval builds the batch graph, lets the
 * scheduler plan it (compute buffers are kept and only grow), fills the inputs, runs it
 * and reads the logits back. A context shift moves cache rows with qgl_kv_move. */
#include "llama_ctx.h"

#include <stdlib.h>
#include <string.h>

#include "llama_graph.h"

struct qgl_session {
    const qgl_model *m;
    qgl_kv kv;
    qg_sched *sched;
    qg_backend *be[QG_SCHED_MAX_BACKENDS];
    int n_be;
    int n_past;
    int auto_keep;   /* < 0: no automatic shift */
    int n_shifts;
    int32_t *toks;   /* [n_ctx]: the token at each cached position */
    qg_sched_stats last;
    int nodes_per_backend[QG_SCHED_MAX_BACKENDS];
};

qg_status qgl_session_new(const qgl_model *m, qg_backend *const *backends, int n_backends, int n_ctx,
                          qg_type kv_type, qgl_session **out) {
    if (!m || !backends || !out || n_backends < 1 || n_backends > QG_SCHED_MAX_BACKENDS)
        return qg_set_error(QG_ERR_INVALID_ARG, "qgl_session_new: bad arguments");
    *out = NULL;
    for (int p = 0; p < m->n_parts; p++) {
        bool found = false;
        for (int i = 0; i < n_backends; i++) found |= backends[i] == m->part_be[p];
        if (!found)
            return qg_set_error(QG_ERR_INVALID_ARG, "qgl_session_new: the model's backend %s is not in the list",
                                qg_backend_name(m->part_be[p]));
    }
    qgl_session *s = calloc(1, sizeof *s);
    if (!s) return qg_set_error(QG_ERR_NO_MEMORY, "qgl_session_new: out of memory");
    s->m = m;
    memcpy(s->be, backends, (size_t)n_backends * sizeof *backends);
    s->n_be = n_backends;
    s->auto_keep = -1;
    qg_status st = qgl_kv_init(&s->kv, m, n_ctx, kv_type);
    if (st == QG_OK && !(s->toks = malloc((size_t)n_ctx * sizeof *s->toks)))
        st = qg_set_error(QG_ERR_NO_MEMORY, "qgl_session_new: out of memory");
    if (st == QG_OK) st = qg_sched_new(backends, n_backends, &s->sched);
    /* A split model keeps each layer on the backend holding its weights and cache. */
    if (st == QG_OK && m->n_parts > 1) st = qg_sched_set_weight_affinity(s->sched, true);
    if (st != QG_OK) {
        qgl_session_free(s);
        return st;
    }
    *out = s;
    return QG_OK;
}

void qgl_session_free(qgl_session *s) {
    if (!s) return;
    qg_sched_free(s->sched);
    qgl_kv_free(&s->kv);
    free(s->toks);
    free(s);
}

int qgl_session_n_past(const qgl_session *s) { return s ? s->n_past : 0; }
int qgl_session_n_ctx(const qgl_session *s) { return s ? (int)s->kv.n_ctx : 0; }
void qgl_session_reset(qgl_session *s) {
    if (s) s->n_past = 0;
}
qg_status qgl_session_truncate(qgl_session *s, int n) {
    if (!s || n < 0 || n > s->n_past)
        return qg_set_error(QG_ERR_INVALID_ARG, "qgl_session_truncate: %d is outside 0..%d", n, s ? s->n_past : 0);
    s->n_past = n;
    return QG_OK;
}

qg_status qgl_session_shift(qgl_session *s, int n_keep, int n_discard) {
    if (!s || n_keep < 0 || n_discard < 1 || n_keep > s->n_past - n_discard)
        return qg_set_error(QG_ERR_INVALID_ARG, "qgl_session_shift: keeping %d and dropping %d of %d cached positions",
                            n_keep, n_discard, s ? s->n_past : 0);
    const int src = n_keep + n_discard, n_move = s->n_past - src;
    if (n_move > 0) {
        qg_status st = qgl_kv_move(s->m, &s->kv, s->sched, n_keep, src, n_move);
        if (st != QG_OK) return st;
        memmove(s->toks + n_keep, s->toks + src, (size_t)n_move * sizeof *s->toks);
    }
    s->n_past -= n_discard;
    s->n_shifts++;
    return QG_OK;
}

void qgl_session_set_auto_shift(qgl_session *s, int n_keep) {
    if (s) s->auto_keep = n_keep < 0 ? -1 : n_keep;
}

int qgl_session_n_shifts(const qgl_session *s) { return s ? s->n_shifts : 0; }
const int32_t *qgl_session_tokens(const qgl_session *s) { return s ? s->toks : NULL; }

/* Make room for n more tokens by an automatic shift, as described in llama_ctx.h. */
static qg_status make_room(qgl_session *s, int n) {
    const int64_t need = (int64_t)s->n_past + n - s->kv.n_ctx;
    if (need <= 0) return QG_OK;
    const int keep = s->auto_keep < s->n_past ? s->auto_keep : s->n_past;
    const int n_left = s->n_past - keep;
    if (s->auto_keep < 0 || need > n_left)
        return qg_set_error(QG_ERR_INVALID_ARG, "qgl_eval: %d more tokens after %d do not fit the context of %lld%s", n,
                            s->n_past, (long long)s->kv.n_ctx, s->auto_keep < 0 ? "" : " even after a context shift");
    const int n_discard = n_left / 2 > need ? n_left / 2 : (int)need;
    return qgl_session_shift(s, keep, n_discard);
}

size_t qgl_session_kv_bytes(const qgl_session *s) { return s ? s->kv.bytes : 0; }

qg_status qgl_session_last_stats(const qgl_session *s, qg_sched_stats *stats, int *nodes_per_backend) {
    if (!s) return qg_set_error(QG_ERR_INVALID_ARG, "qgl_session_last_stats: NULL session");
    if (stats) *stats = s->last;
    if (nodes_per_backend) memcpy(nodes_per_backend, s->nodes_per_backend, (size_t)s->n_be * sizeof(int));
    return QG_OK;
}

static void count_nodes(qgl_session *s, const qg_graph *g) {
    memset(s->nodes_per_backend, 0, sizeof s->nodes_per_backend);
    for (int i = 0; i < qg_graph_n_nodes(g); i++) {
        qg_backend *be = qg_sched_node_backend(s->sched, qg_graph_node(g, i));
        for (int b = 0; b < s->n_be; b++)
            if (be == s->be[b]) s->nodes_per_backend[b]++;
    }
}

qg_status qgl_eval(qgl_session *s, const int32_t *tokens, int n, bool all_logits, float *logits) {
    if (!s || !tokens || !logits || n < 1) return qg_set_error(QG_ERR_INVALID_ARG, "qgl_eval: bad arguments");
    for (int i = 0; i < n; i++) /* before any shift: a refused batch changes nothing */
        if (tokens[i] < 0 || tokens[i] >= s->m->hp.n_vocab)
            return qg_set_error(QG_ERR_INVALID_ARG, "qgl_eval: token %d at batch index %d is outside the vocabulary of %lld",
                                tokens[i], i, (long long)s->m->hp.n_vocab);
    qg_status st = make_room(s, n);
    if (st != QG_OK) return st;
    qgl_batch_graph b;
    st = qgl_build_batch(s->m, &s->kv, n, s->n_past, all_logits, &b);
    if (st != QG_OK) return st;
    if ((st = qg_sched_alloc(s->sched, b.graph)) == QG_OK && (st = qgl_batch_set_inputs(&b, s->m, tokens)) == QG_OK &&
        (st = qg_sched_compute(s->sched, b.graph)) == QG_OK) {
        size_t bytes = (size_t)(all_logits ? n : 1) * (size_t)s->m->hp.n_vocab * sizeof(float);
        st = qg_tensor_get(b.logits, logits, 0, bytes);
    }
    if (st == QG_OK) {
        memcpy(s->toks + s->n_past, tokens, (size_t)n * sizeof *tokens);
        s->n_past += n;
        qg_sched_get_stats(s->sched, &s->last);
        count_nodes(s, b.graph);
    }
    qgl_batch_free(&b);
    return st;
}
