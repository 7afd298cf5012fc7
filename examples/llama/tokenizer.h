/* Text <-> token ids for llama-style models, built from a GGUF file's tokenizer.* metadata.
 *
 * Two vocabulary kinds are handled: tokenizer.ggml.model "gpt2" (byte-level BPE with a merge
 * list and a regex-like pre-tokenizer, e.g. SmolLM2's "smollm") and "llama" (SentencePiece
 * style BPE driven by token scores, spaces written as U+2581, byte fallback <0xXX>). The
 * results follow llama.cpp's tokenizer, including its special-token matching, its handling
 * of invalid UTF-8 (each bad byte becomes U+FFFD) and its add-BOS/EOS rules.
 *
 *     qgl_tokenizer *tok; qgl_tokenizer_load(gguf, &tok);
 *     qgl_tokens ids = {0}; qgl_tokenize(tok, text, strlen(text), true, false, &ids);
 *     ... qgl_tokens_free(&ids); qgl_tokenizer_free(tok);
 */
#ifndef QGL_TOKENIZER_H
#define QGL_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qg/core.h"
#include "qg/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t qgl_token;
#define QGL_TOKEN_NULL (-1)

typedef struct qgl_tokenizer qgl_tokenizer;

typedef enum qgl_vocab_kind {
    QGL_VOCAB_BPE = 1, /* "gpt2": byte-level BPE with merges */
    QGL_VOCAB_SPM = 2, /* "llama": SentencePiece-style, scores + byte fallback */
} qgl_vocab_kind;

/* Token attributes (bit set), derived from tokenizer.ggml.token_type. */
enum {
    QGL_ATTR_UNKNOWN = 1 << 0,
    QGL_ATTR_UNUSED = 1 << 1,
    QGL_ATTR_NORMAL = 1 << 2,
    QGL_ATTR_CONTROL = 1 << 3,
    QGL_ATTR_USER_DEFINED = 1 << 4,
    QGL_ATTR_BYTE = 1 << 5,
};

/* A growable array of token ids; zero-initialise, free with qgl_tokens_free. */
typedef struct qgl_tokens {
    qgl_token *ids;
    size_t n;
    size_t cap;
} qgl_tokens;

QG_API void qgl_tokens_free(qgl_tokens *v);
QG_API qg_status qgl_tokens_push(qgl_tokens *v, qgl_token id);

/* Build a tokenizer from an opened GGUF (everything needed is copied; the file may be
 * closed afterwards). Errors name the offending key. */
QG_API qg_status qgl_tokenizer_load(const qg_gguf *f, qgl_tokenizer **out);
QG_API void qgl_tokenizer_free(qgl_tokenizer *t);
/* Build a tokenizer from a Hugging Face checkpoint directory: tokenizer.json (a "BPE"
 * model with byte-level pre-tokenization; vocab, merges, added tokens) and, if present,
 * tokenizer_config.json (bos/eos/unk/pad tokens, add_bos_token, chat_template). The
 * vocabulary is padded with unused "[PAD<i>]" tokens up to n_vocab_min entries (the
 * embedding's row count), as llama.cpp's converter does. Needs jansson at build time
 * (QG_ERR_UNSUPPORTED otherwise). */
QG_API qg_status qgl_tokenizer_load_hf(const char *dir, int32_t n_vocab_min, qgl_tokenizer **out);

QG_API qgl_vocab_kind qgl_tokenizer_kind(const qgl_tokenizer *t);
QG_API int32_t qgl_n_vocab(const qgl_tokenizer *t);
QG_API qgl_token qgl_token_bos(const qgl_tokenizer *t);
QG_API qgl_token qgl_token_eos(const qgl_tokenizer *t);
QG_API qgl_token qgl_token_eot(const qgl_tokenizer *t);
QG_API qgl_token qgl_token_unk(const qgl_tokenizer *t);
QG_API qgl_token qgl_token_pad(const qgl_tokenizer *t);
/* Whether tokenize(add_special=true) prepends BOS / appends EOS. */
QG_API bool qgl_add_bos(const qgl_tokenizer *t);
QG_API bool qgl_add_eos(const qgl_tokenizer *t);
/* End-of-generation: EOS, EOT and the end-like control tokens llama.cpp stops on. */
QG_API bool qgl_is_eog(const qgl_tokenizer *t, qgl_token id);
QG_API uint32_t qgl_token_attr(const qgl_tokenizer *t, qgl_token id);
/* Raw vocabulary text of a token (not NUL-terminated), NULL for an id out of range. */
QG_API const char *qgl_token_text(const qgl_tokenizer *t, qgl_token id, size_t *len);
/* Look a vocabulary string up; QGL_TOKEN_NULL if absent. */
QG_API qgl_token qgl_text_to_token(const qgl_tokenizer *t, const char *text, size_t len);

/* Tokenize len bytes of text and append the ids to out. add_special adds BOS/EOS as the
 * model asks; parse_special lets control tokens written in the text ("<|im_start|>")
 * become their ids (user-defined tokens always do). */
QG_API qg_status qgl_tokenize(const qgl_tokenizer *t, const char *text, size_t len,
                              bool add_special, bool parse_special, qgl_tokens *out);

/* The bytes a token stands for (not NUL-terminated; may be a partial UTF-8 sequence).
 * Control/unknown tokens give their text when special is true, nothing otherwise.
 * An id out of range gives NULL. */
QG_API const char *qgl_token_to_piece(const qgl_tokenizer *t, qgl_token id, bool special,
                                      size_t *len);

/* Concatenate the pieces of n ids into a malloc'ed NUL-terminated string (free()).
 * remove_special drops a leading BOS / trailing EOS the model adds itself; special
 * renders control tokens as text. Ids out of range fail with QG_ERR_INVALID_ARG. */
QG_API qg_status qgl_detokenize(const qgl_tokenizer *t, const qgl_token *ids, size_t n,
                                bool remove_special, bool special, char **out, size_t *out_len);

/* Chat formatting. The model's tokenizer.chat_template must be ChatML (contains
 * "<|im_start|>"); otherwise QG_ERR_UNSUPPORTED (QG_ERR_NOT_FOUND when there is none). */
typedef struct qgl_chat_msg {
    const char *role;    /* "system", "user", "assistant" */
    const char *content;
} qgl_chat_msg;

/* The template text, or NULL when the file has none. */
QG_API const char *qgl_chat_template(const qgl_tokenizer *t);
/* Render messages as the template does (including a default system prompt the template
 * inserts when the first message is not a system one), ending with the assistant
 * header when add_assistant. *out is malloc'ed and NUL-terminated (free()). */
QG_API qg_status qgl_chat_apply(const qgl_tokenizer *t, const qgl_chat_msg *msgs, size_t n,
                                bool add_assistant, char **out);
/* Same, for a template given as text. */
QG_API qg_status qgl_chat_apply_template(const char *tmpl, const qgl_chat_msg *msgs, size_t n,
                                         bool add_assistant, char **out);

#ifdef __cplusplus
}
#endif
#endif
