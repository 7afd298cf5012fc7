/* Hugging Face llama checkpoints (a directory with config.json, *.safetensors and
 * tokenizer.json): recognising one, hyper-parameters from config.json, and the tensor
 * names (model.layers.N.self_attn.q_proj.weight ...) that stand for the GGUF names the
 * model code asks for (blk.N.attn_q.weight ...).
 */
#ifndef QGL_HF_CONFIG_H
#define QGL_HF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "llama_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The checkpoint directory of path (a directory, or a .safetensors / index file inside
 * one) when that directory holds a config.json; false for anything else. */
bool qgl_hf_checkpoint_dir(const char *path, char *dir, size_t size);

/* Hyper-parameters from dir/config.json (model_type "llama", silu, no biases, rope
 * scaling none or linear); errors name the file and the field. n_vocab is vocab_size. */
qg_status qgl_hf_read_config(const char *dir, qgl_hparams *hp);

/* The Hugging Face name of a GGUF llama tensor name, written into buf; NULL when the
 * name has no counterpart. */
const char *qgl_hf_tensor_name(const char *gguf_name, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
