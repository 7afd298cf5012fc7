/* qgraph model loading: weights from a GGUF file, a safetensors file or a sharded
 * safetensors directory, as graph tensors on a chosen backend.
 *
 * qg_model_load() opens the file(s), creates one leaf tensor per stored tensor in a new
 * context (same names; shapes in ggml order, ne[0] innermost) and gives them storage:
 * on a host-memory backend without conversion the tensors point straight into the file
 * mapping (zero copy); otherwise they are uploaded into one buffer of the backend.
 * With a target type set, floating-point tensors of 2+ dims whose rows fit the type's
 * block size are converted while loading ("quantize while loading"); others are kept.
 *
 *     qg_model_params p = qg_model_default_params();
 *     p.convert_to = QG_TYPE_Q8_0; p.progress = print_progress;
 *     qg_model *m; if (qg_model_load("model.gguf", cpu, &p, &m) != QG_OK) puts(qg_last_error());
 *     qg_tensor *w = qg_model_tensor(m, "blk.0.attn_q.weight");
 */
#ifndef QG_MODEL_H
#define QG_MODEL_H

#include "qg/backend.h"
#include "qg/gguf.h"
#include "qg/safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called after each tensor; return false to cancel the load (QG_ERR_INVALID_ARG). */
typedef bool (*qg_progress_fn)(int64_t done, int64_t total, const char *tensor, void *user);

typedef struct qg_model_params {
    int convert_to;           /* a qg_type, or -1 to keep the stored types */
    qg_progress_fn progress;  /* optional */
    void *progress_user;
} qg_model_params;

typedef struct qg_model qg_model;

QG_API qg_model_params qg_model_default_params(void);
QG_API qg_status qg_model_load(const char *path, qg_backend *backend, const qg_model_params *params,
                               qg_model **out);
QG_API void qg_model_free(qg_model *m);

QG_API qg_context *qg_model_context(const qg_model *m);   /* owns the weight tensors */
QG_API qg_tensor *qg_model_tensor(const qg_model *m, const char *name);
/* The GGUF metadata, when the model came from a GGUF file (else NULL). */
QG_API const qg_gguf *qg_model_gguf(const qg_model *m);
/* The safetensors handle, when the model came from safetensors (else NULL). */
QG_API const qg_st *qg_model_safetensors(const qg_model *m);
/* True when tensors point into the file mapping without a copy. Such weights are
 * read-only (the mapping is): do not qg_tensor_set them. */
QG_API bool qg_model_is_zero_copy(const qg_model *m);

#ifdef __cplusplus
}
#endif
#endif
