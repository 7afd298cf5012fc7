/* The tokenizer program run by the fuzz_tokenizer target and replayed by
 * test_fuzz_tokenizer (examples/llama/tokenizer*.c). The first input byte picks what is
 * fuzzed:
 *   0, 1  text tokenized with a fixed vocabulary (0: byte-level BPE, 1: SentencePiece
 *         style; from tests/fuzz/vocab, or for 0 the file named by QG_FUZZ_TOKENIZER_GGUF,
 *         e.g. the real SmolLM2 model); the second byte holds add_special/parse_special.
 *         Every id must be in range and detokenize must succeed; for BPE on valid UTF-8
 *         without special parsing, detokenize(tokenize(text)) must give the text back.
 *   2     a GGUF image whose tokenizer.* metadata is loaded, then used on fixed strings.
 *   3     a chat template (up to the first NUL) applied to a message (the rest).
 * Any violated property traps, which libFuzzer reports as a crash. */
#ifndef QGF_TOKENIZER_PROGRAM_H
#define QGF_TOKENIZER_PROGRAM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qg/qg.h"
#include "tokenizer.h"

#ifndef QG_FUZZ_DIR
#define QG_FUZZ_DIR "tests/fuzz"
#endif

static qgl_tokenizer *load_file(const char *path) {
    qg_gguf *f = NULL;
    qgl_tokenizer *t = NULL;
    if (qg_gguf_open(path, &f) != QG_OK) return NULL;
    if (qgl_tokenizer_load(f, &t) != QG_OK) t = NULL;
    qg_gguf_close(f);
    return t;
}

/* The fixed vocabularies, loaded once (never freed: they live as long as the fuzzer). */
static qgl_tokenizer *vocab(int which) {
    static qgl_tokenizer *v[2];
    static int tried[2];
    if (!tried[which]) {
        tried[which] = 1;
        const char *env = getenv("QG_FUZZ_TOKENIZER_GGUF");
        if (which == 0 && env && *env) v[0] = load_file(env);
        if (!v[which]) v[which] = load_file(which == 0 ? QG_FUZZ_DIR "/vocab/bpe.gguf" : QG_FUZZ_DIR "/vocab/spm.gguf");
        if (!v[which]) __builtin_trap(); /* the seed vocabularies must load */
    }
    return v[which];
}

/* Strict UTF-8 validity: no overlong forms, surrogates or code points above U+10FFFF. */
static int valid_utf8(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
        else return 0;
        if (i + len > n) return 0;
        for (size_t j = 1; j < len; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

static void run_text(const qgl_tokenizer *t, const uint8_t *text, size_t n, int add_special, int parse_special,
                     int check_roundtrip) {
    qgl_tokens ids = {0};
    if (qgl_tokenize(t, (const char *)text, n, add_special, parse_special, &ids) == QG_OK) {
        const int32_t nv = qgl_n_vocab(t);
        for (size_t i = 0; i < ids.n; i++)
            if (ids.ids[i] < 0 || ids.ids[i] >= nv) __builtin_trap();
        for (size_t i = 0; i < ids.n; i++) {
            size_t len = 0;
            if (!qgl_token_to_piece(t, ids.ids[i], true, &len)) __builtin_trap();
        }
        char *out = NULL;
        size_t out_len = 0;
        if (qgl_detokenize(t, ids.ids, ids.n, true, false, &out, &out_len) != QG_OK) __builtin_trap();
        if (check_roundtrip && (out_len != n || memcmp(out, text, n) != 0)) __builtin_trap();
        free(out);
    }
    qgl_tokens_free(&ids);
}

static void qgf_tokenizer_program(const uint8_t *data, size_t size) {
    if (size < 1) return;
    const int mode = data[0] % 4;
    data++;
    size--;
    if (mode == 0 || mode == 1) {
        if (size < 1) return;
        const int add_special = data[0] & 1, parse_special = (data[0] >> 1) & 1;
        const qgl_tokenizer *t = vocab(mode);
        const int rt = mode == 0 && !parse_special && valid_utf8(data + 1, size - 1);
        run_text(t, data + 1, size - 1, add_special, parse_special, rt);
    } else if (mode == 2) {
        qg_gguf *f = NULL;
        if (qg_gguf_open_memory(data, size, "fuzz.gguf", &f) != QG_OK) return;
        qgl_tokenizer *t = NULL;
        if (qgl_tokenizer_load(f, &t) == QG_OK) {
            static const char *texts[] = {"Hello world", " the  12345\n\n", "<|im_start|>x<|im_end|>",
                                          "caf\xc3\xa9 \xe6\x97\xa5 \xff\xfe", ""};
            for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
                run_text(t, (const uint8_t *)texts[i], strlen(texts[i]), 1, (int)(i & 1), 0);
            const qgl_chat_msg msg = {"user", "hi"};
            char *out = NULL;
            if (qgl_chat_apply(t, &msg, 1, true, &out) == QG_OK) free(out);
            qgl_tokenizer_free(t);
        }
        qg_gguf_close(f);
    } else {
        const uint8_t *nul = memchr(data, 0, size);
        if (!nul) return;
        char *tmpl = malloc((size_t)(nul - data) + 1);
        char *content = malloc(size - (size_t)(nul - data));
        if (tmpl && content) {
            memcpy(tmpl, data, (size_t)(nul - data));
            tmpl[nul - data] = 0;
            memcpy(content, nul + 1, size - (size_t)(nul - data) - 1);
            content[size - (size_t)(nul - data) - 1] = 0;
            const qgl_chat_msg msgs[2] = {{"system", "be brief"}, {"user", content}};
            char *out = NULL;
            if (qgl_chat_apply_template(tmpl, msgs, 2, true, &out) == QG_OK) free(out);
        }
        free(tmpl);
        free(content);
    }
}

#endif
