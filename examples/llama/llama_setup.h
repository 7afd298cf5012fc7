/* Shared set-up for the llama front ends (qg run, qg perplexity, tests): open a comma
 * separated backend list, load model + tokenizer + session in one call, read peak RSS.
 * The model is a GGUF file or a Hugging Face checkpoint directory (tokenizer.json). */
#ifndef QGL_LLAMA_SETUP_H
#define QGL_LLAMA_SETUP_H

#include "llama_ctx.h"
#include "llama_model.h"
#include "tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qgl_setup_params {
    const char *model_path;
    const char *backends;  /* "cpu", "vulkan0,cpu" ... */
    int threads;           /* <= 0: the backend's default */
    int split;             /* 0: no split; else layers [split, n) on the second backend */
    int n_ctx;
    qg_type kv_type;
    const char *quantize;  /* NULL: keep the stored types; else a type name ("q8_0") the
                              floating-point matrices are converted to while loading */
} qgl_setup_params;

typedef struct qgl_setup {
    qg_backend *be[QG_SCHED_MAX_BACKENDS];
    int n_be;
    qgl_model *model;
    qgl_tokenizer *tok;
    qgl_session *session;
} qgl_setup;

qg_status qgl_setup_open(const qgl_setup_params *p, qgl_setup *out);
void qgl_setup_close(qgl_setup *s);
/* Peak resident set size of this process in bytes (getrusage). */
size_t qgl_peak_rss(void);
/* The default model path: $QG_MODEL, else $HOME/.cache/qgraph/models/SmolLM2-135M-Instruct.Q4_1.gguf. */
const char *qgl_default_model_path(char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
