/* Opening everything a llama front end needs, in order: the backends of a comma
 * separated list (with an optional thread count for those that have the option), the
 * model on them (split or not, converted or not), the tokenizer from the model's
 * metadata (or the checkpoint's tokenizer.json) and a session.
 * On failure everything opened so far is released and the error names the step. */
#define _POSIX_C_SOURCE 200809L
#include "llama_setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

size_t qgl_peak_rss(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (size_t)ru.ru_maxrss * 1024; /* kilobytes on Linux */
}

const char *qgl_default_model_path(char *buf, size_t size) {
    const char *env = getenv("QG_MODEL");
    if (env && *env) {
        snprintf(buf, size, "%s", env);
        return buf;
    }
    const char *home = getenv("HOME");
    snprintf(buf, size, "%s/.cache/qgraph/models/SmolLM2-135M-Instruct.Q4_1.gguf", home ? home : ".");
    return buf;
}

void qgl_setup_close(qgl_setup *s) {
    if (!s) return;
    qgl_session_free(s->session);
    qgl_tokenizer_free(s->tok);
    qgl_model_free(s->model);
    for (int i = 0; i < s->n_be; i++) qg_backend_free(s->be[i]);
    memset(s, 0, sizeof *s);
}

static qg_status open_backends(const qgl_setup_params *p, qgl_setup *s) {
    const char *list = p->backends && *p->backends ? p->backends : "cpu";
    char name[128];
    for (const char *c = list; *c;) {
        size_t len = strcspn(c, ",");
        if (len == 0 || len >= sizeof name)
            return qg_set_error(QG_ERR_INVALID_ARG, "backend list \"%s\": empty or overlong name", list);
        if (s->n_be == QG_SCHED_MAX_BACKENDS)
            return qg_set_error(QG_ERR_INVALID_ARG, "backend list \"%s\": at most %d backends", list,
                                QG_SCHED_MAX_BACKENDS);
        memcpy(name, c, len);
        name[len] = '\0';
        for (int i = 0; i < s->n_be; i++)
            if (strcmp(qg_backend_name(s->be[i]), name) == 0)
                return qg_set_error(QG_ERR_INVALID_ARG, "backend list \"%s\" names %s twice", list, name);
        qg_status st = qg_backend_open(name, &s->be[s->n_be]);
        if (st != QG_OK) return st;
        s->n_be++;
        if (p->threads > 0) {
            char v[16];
            snprintf(v, sizeof v, "%d", p->threads);
            st = qg_backend_set_option(s->be[s->n_be - 1], "threads", v);
            if (st != QG_OK && st != QG_ERR_NOT_FOUND && st != QG_ERR_UNSUPPORTED) return st;
        }
        c += len;
        if (*c == ',') c++;
    }
    return QG_OK;
}

qg_status qgl_setup_open(const qgl_setup_params *p, qgl_setup *s) {
    memset(s, 0, sizeof *s);
    if (!p || !p->model_path) return qg_set_error(QG_ERR_INVALID_ARG, "no model path given");
    qg_status st = open_backends(p, s);
    if (st == QG_OK && p->split > 0 && s->n_be < 2)
        st = qg_set_error(QG_ERR_INVALID_ARG, "--split needs at least two backends (--backend a,b)");
    int convert_to = -1;
    if (st == QG_OK && p->quantize) {
        const qg_type_traits *tt = qg_type_by_name(p->quantize);
        if (!tt || !tt->from_float || tt->is_integer)
            st = qg_set_error(QG_ERR_INVALID_ARG, "--quantize %s: not a type weights can be converted to",
                              p->quantize);
        else
            convert_to = (int)tt->type;
    }
    if (st == QG_OK) st = qgl_model_load_ex(p->model_path, s->be, s->n_be, p->split, convert_to, &s->model);
    if (st == QG_OK && s->model->hf_dir)
        st = qgl_tokenizer_load_hf(s->model->hf_dir, (int32_t)s->model->hp.n_vocab, &s->tok);
    else if (st == QG_OK && (st = qgl_tokenizer_load(qgl_model_gguf(s->model), &s->tok)) != QG_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", qg_last_error());
        st = qg_set_error(st, "%s: tokenizer: %s", p->model_path, why);
    }
    if (st == QG_OK && qgl_n_vocab(s->tok) != s->model->hp.n_vocab)
        st = qg_set_error(QG_ERR_FORMAT, "%s: the tokenizer has %d tokens, the embedding %lld rows", p->model_path,
                          qgl_n_vocab(s->tok), (long long)s->model->hp.n_vocab);
    if (st == QG_OK)
        st = qgl_session_new(s->model, s->be, s->n_be, p->n_ctx > 0 ? p->n_ctx : 2048,
                             p->kv_type == QG_TYPE_F32 ? QG_TYPE_F32 : QG_TYPE_F16, &s->session);
    if (st != QG_OK) qgl_setup_close(s);
    return st;
}
