/* Tensor-type choices for `qg quantize` and the size estimates of `qg info`.
 *
 * A target is either a plain type ("q4_0", "f16", "mxfp8_e4m3": every quantizable
 * weight gets exactly that type) or one of llama.cpp's mixes ("q4_k_m", "q3_k_s", ...:
 * a base K-quant plus per-tensor upgrades decided by the tensor's role and layer). Both
 * go through quant_mix_plan(), which also applies the common rules: only 2+-D "weight"
 * tensors are quantized, 1-D float tensors become F32, integer tensors stay as they are,
 * and a tensor whose row length does not divide the chosen block size falls back to a
 * type that fits (recorded in the plan so the caller can list it).
 */
#ifndef QG_TOOL_QUANT_MIX_H
#define QG_TOOL_QUANT_MIX_H

#include <stdbool.h>
#include <stdint.h>

#include "qg/core.h"

typedef struct quant_target {
    char name[32];     /* as given, lower case */
    bool is_mix;       /* a llama.cpp mix rather than a plain type */
    int mix;           /* index into the mix table (is_mix) */
    qg_type base;      /* the plain type, or the mix's base type */
    int ftype;         /* llama.cpp's general.file_type number (1024: none fits) */
} quant_target;

/* Model facts some mix rules depend on (0 / false when unknown). */
typedef struct quant_hints {
    int64_t n_head, n_head_kv; /* for the GQA factor n_head / n_head_kv */
    int64_t n_expert;
    int64_t n_layer;           /* block count; counted from names when 0 */
    bool falcon;               /* general.architecture == "falcon" */
} quant_hints;

typedef struct quant_tensor_in {
    const char *name;
    qg_type type;      /* stored type */
    int n_dims;
    int64_t ne[4];
} quant_tensor_in;

typedef struct quant_choice {
    qg_type type;      /* type to write */
    qg_type wanted;    /* the type the rules asked for (differs after a fallback) */
    bool fallback;     /* the row did not divide `wanted`'s block size */
    bool quantizable;  /* a weight the target applies to */
} quant_choice;

/* Parse a target name; false when it is neither a mix nor a type with a quantizer. */
bool quant_target_parse(const char *name, quant_target *out);
/* The names accepted by quant_target_parse, for usage messages. */
void quant_target_list(char *buf, size_t size);
/* Choose a type for each of n tensors (out has n entries). */
void quant_mix_plan(const quant_target *t, const quant_hints *h, const quant_tensor_in *in, int64_t n,
                    quant_choice *out);
/* Bytes of a tensor of shape ne stored as type (rows must divide the block size). */
uint64_t quant_tensor_bytes(qg_type type, const int64_t ne[4]);

#endif
