/* Reading a model file's tensor table for `qg info` and `qg quantize`: a GGUF file or a
 * safetensors file / index / directory, opened with the library readers (headers only;
 * tensor data stays in the mapping until someone touches it), described as one neutral
 * list with the model facts the quantization mixes need.
 */
#ifndef QG_TOOL_MODEL_INPUT_H
#define QG_TOOL_MODEL_INPUT_H

#include "qg/gguf.h"
#include "qg/safetensors.h"
#include "quant_mix.h"

typedef struct model_input {
    const char *path;
    qg_gguf *gguf;           /* exactly one of gguf / st is set */
    qg_st *st;
    int64_t n;
    quant_tensor_in *t;      /* names point into the reader's storage */
    const void **data;       /* per tensor, into the mapping */
    uint64_t *size;          /* bytes per tensor */
    quant_hints hints;
    char config_path[1024];  /* config.json beside a safetensors checkpoint, or "" */
} model_input;

/* Open path; on failure the message (qg_last_error) names the file and the problem. */
qg_status model_input_open(const char *path, model_input *in);
void model_input_close(model_input *in);

#endif
