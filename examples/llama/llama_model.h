/* qgllama: a small llama-architecture inference library on top of the qgraph public API.
 *
 * qgl_model holds the hyper-parameters read from the GGUF `llama.*` keys and the weight
 * tensors (loaded zero-copy with qg_model_load where the backend shares host memory).
 * With a split, layers [0, split) take their weights from the first backend and the
 * remaining layers plus the output head from the second one; each layer's KV cache
 * lives next to its weights. A Hugging Face checkpoint directory (config.json +
 * safetensors, hf_config.h) loads the same way, optionally converting the weights to a
 * quantized type while loading. qgl_session (llama_ctx.c) evaluates batches of tokens
 * against a KV cache and returns logits; qgl_sampler (sampling.c) picks tokens.
 */
#ifndef QGL_LLAMA_MODEL_H
#define QGL_LLAMA_MODEL_H

#include "qg/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qgl_hparams {
    int64_t n_vocab;
    int64_t n_ctx_train;
    int64_t n_embd;
    int64_t n_layer;
    int64_t n_head;
    int64_t n_head_kv;
    int64_t n_ff;
    int64_t head_dim;
    int64_t n_rot;        /* rotated dims per head */
    float rope_base;
    float rope_scale;     /* frequency scale (1 / linear factor) */
    float rms_eps;
} qgl_hparams;

typedef struct qgl_layer {
    qg_tensor *attn_norm, *wq, *wk, *wv, *wo;
    qg_tensor *ffn_norm, *w_gate, *w_up, *w_down;
    int part; /* which loaded part (0 or 1) holds this layer: its backend */
} qgl_layer;

typedef struct qgl_model {
    qgl_hparams hp;
    qg_model *part[2];     /* part[1] only with a split onto a second backend */
    qg_backend *part_be[2];
    int n_parts;
    int split;             /* first layer of part 1 (n_layer when not split) */
    qg_tensor *tok_embd;   /* from part 0: embeddings are looked up at the start */
    qg_tensor *out_norm;   /* from the last part */
    qg_tensor *output;     /* output.weight, or the tied token embedding of the last part */
    bool tied_output;
    qgl_layer *layers;
    uint64_t file_size;
    char *hf_dir;               /* the checkpoint directory of a Hugging Face model, else NULL */
    qg_context *own_ctx[2];     /* per part: re-ordered q/k weights of a Hugging Face model */
    qg_buffer *own_buf[2];
} qgl_model;

/* Load a llama-architecture GGUF. backends[0] holds the weights; with 0 < split < n_layer
 * and n_backends >= 2, layers split.. and the output head go to backends[1]. */
qg_status qgl_model_load(const char *path, qg_backend *const *backends, int n_backends, int split,
                         qgl_model **out);
/* The same for a GGUF file or a Hugging Face checkpoint (directory with config.json and
 * *.safetensors, or a .safetensors file in one); convert_to >= 0 converts floating-point
 * matrices to that qg_type while loading (qg_model_params.convert_to), -1 keeps them. */
qg_status qgl_model_load_ex(const char *path, qg_backend *const *backends, int n_backends, int split, int convert_to,
                            qgl_model **out);
void qgl_model_free(qgl_model *m);
/* Metadata of the file (for the tokenizer); NULL for a Hugging Face checkpoint, whose
 * directory is m->hf_dir. */
const qg_gguf *qgl_model_gguf(const qgl_model *m);

/* Read hyper-parameters from GGUF metadata; fails naming the missing or bad key. */
qg_status qgl_hparams_read(const qg_gguf *g, const char *path, qgl_hparams *hp);

#ifdef __cplusplus
}
#endif
#endif
