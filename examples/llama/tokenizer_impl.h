/* Internals shared by the tokenizer's files: the tokenizer object, the string and merge
 * hash maps, the Unicode helpers (UTF-8 decoding the way llama.cpp does it, category
 * flags, the GPT-2 byte <-> character mapping) and the two segmenters (BPE and SPM). */
#ifndef QGL_TOKENIZER_IMPL_H
#define QGL_TOKENIZER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tokenizer.h"

/* Unicode flag bits (the generator writes them as numbers). */
enum {
    QGL_UF_UNDEFINED = 1,
    QGL_UF_NUMBER = 2,
    QGL_UF_LETTER = 4,
    QGL_UF_SEPARATOR = 8,
    QGL_UF_MARK = 16,
    QGL_UF_PUNCT = 32,
    QGL_UF_SYMBOL = 64,
    QGL_UF_CONTROL = 128,
    QGL_UF_WHITESPACE = 256, /* added from the White_Space list */
};

extern const uint32_t qgl_ucat_start[];
extern const uint8_t qgl_ucat_flags[];
extern const size_t qgl_ucat_count;
extern const uint32_t qgl_white_space[];
extern const size_t qgl_white_space_count;
extern const char qgl_unicode_version[];

/* Flags of a code point (QGL_UF_*); 0 for values >= 0x110000. */
uint32_t qgl_cp_flags(uint32_t cp);
/* Decode UTF-8 into code points; each byte that does not start a well-formed sequence
 * becomes U+FFFD (llama.cpp's rule: lead byte class and continuation bytes checked,
 * overlong forms and surrogates accepted). Returns the count; cps needs len entries. */
size_t qgl_utf8_decode(const char *s, size_t len, uint32_t *cps);
/* Encode one code point (<= 0x10FFFF) into buf (4 bytes); returns its length. */
size_t qgl_utf8_encode(uint32_t cp, char *buf);
/* Byte length of a UTF-8 sequence from its first byte (1 for stray bytes). */
size_t qgl_utf8_len(unsigned char lead);
/* GPT-2 byte -> printable character mapping, UTF-8 encoded into out (1 or 2 bytes). */
size_t qgl_byte_to_char(uint8_t b, char out[2]);
/* Inverse for one code point; -1 when the code point is not in the mapping. */
int qgl_char_to_byte(uint32_t cp);

/* Open-addressing map from byte strings to int32 (keys are referenced, not copied). */
typedef struct qgl_strmap {
    uint32_t *slots; /* index+1 into the entry arrays, 0 = empty */
    size_t mask;
    const char **keys;
    uint32_t *lens;
    int32_t *vals;
    size_t n, cap;
} qgl_strmap;

qg_status qgl_strmap_init(qgl_strmap *m, size_t expected);
void qgl_strmap_free(qgl_strmap *m);
/* Insert or replace. */
qg_status qgl_strmap_put(qgl_strmap *m, const char *key, size_t len, int32_t val);
/* Value or -1. */
int32_t qgl_strmap_get(const qgl_strmap *m, const char *key, size_t len);

/* Map from a (left, right) pair of byte strings to a merge rank. */
typedef struct qgl_pairmap {
    uint32_t *slots;
    size_t mask;
    const char **left;
    uint32_t *llen;
    const char **right;
    uint32_t *rlen;
    int32_t *rank;
    size_t n, cap;
} qgl_pairmap;

qg_status qgl_pairmap_init(qgl_pairmap *m, size_t expected);
void qgl_pairmap_free(qgl_pairmap *m);
/* Keeps the first rank for a pair that appears twice. */
qg_status qgl_pairmap_put(qgl_pairmap *m, const char *l, size_t ll, const char *r, size_t rl,
                          int32_t rank);
int32_t qgl_pairmap_get(const qgl_pairmap *m, const char *l, size_t ll, const char *r, size_t rl);

typedef struct qgl_vtoken {
    const char *text; /* into the tokenizer's text arena */
    uint32_t len;
    float score;
    uint32_t attr;
    const char *piece; /* decoded bytes (special=true rendering) */
    uint32_t piece_len;
} qgl_vtoken;

typedef enum qgl_pre_kind {
    QGL_PRE_SMOLLM = 1, /* \p{N} split, then the GPT-2 regex */
} qgl_pre_kind;

struct qgl_tokenizer {
    qgl_vocab_kind kind;
    qgl_pre_kind pre;
    int32_t n_vocab;
    qgl_vtoken *tok;
    char *arena;        /* token texts and pieces */
    char *merge_arena;  /* merge strings */
    qgl_strmap vocab;
    qgl_pairmap merges;
    qgl_token bos, eos, eot, unk, pad;
    bool add_bos, add_eos, add_space_prefix;
    uint8_t *eog;       /* n_vocab flags */
    qgl_token *special; /* control/user-defined/unknown ids, longest text first */
    size_t n_special;
    char *chat_template;
};

/* Shared construction steps (tokenizer_load.c), used by the GGUF and the tokenizer.json
 * loaders: the vocabulary entries come from a callback (text, score, GGUF token type
 * 1..6), the merges from another (left and right parts; false skips a malformed one). */
typedef void (*qgl_token_fn)(void *user, int32_t i, qg_gguf_str *text, float *score, int32_t *type);
typedef bool (*qgl_merge_fn)(void *user, uint64_t j, qg_gguf_str *left, qg_gguf_str *right);
qg_status qgl_tok_set_vocab(qgl_tokenizer *t, int32_t n, qgl_token_fn get, void *user);
qg_status qgl_tok_set_merges(qgl_tokenizer *t, uint64_t n, qgl_merge_fn get, void *user);
/* After the vocabulary, flags and special ids are set: end-of-generation set, pieces,
 * special-token list (the chat template is the caller's). */
qg_status qgl_tok_finish(qgl_tokenizer *t);

/* Segment one raw text fragment (no special tokens inside) and append its ids. */
qg_status qgl_bpe_tokenize(const qgl_tokenizer *t, const char *text, size_t len,
                           qgl_tokens *out);
qg_status qgl_spm_tokenize(const qgl_tokenizer *t, const char *text, size_t len,
                           qgl_tokens *out);
/* SentencePiece byte token: "<0xXX>", else the byte itself as a token; -1 if neither. */
qgl_token qgl_spm_byte_token(const qgl_tokenizer *t, uint8_t b);

#endif
