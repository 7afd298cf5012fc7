/* Building a tokenizer from a Hugging Face checkpoint's tokenizer.json and
 * tokenizer_config.json, the way llama.cpp's converter turns them into GGUF metadata:
 * the BPE vocabulary by id (gaps and ids up to the embedding size become unused
 * "[PAD<i>]" tokens), added tokens as control tokens when marked special or when they
 * look special ("<|...|>"), user-defined otherwise, the merges (either "a b" strings or
 * ["a", "b"] pairs), bos/eos/unk/pad from tokenizer_config.json (else config.json's
 * *_token_id), add_bos_token/add_eos_token and the chat template. Only the byte-level
 * pre-tokenization that the shared code implements is accepted (individual digits, then
 * the GPT-2 regex: SmolLM's); anything else is refused by name rather than guessed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

#ifdef QG_HAVE_JANSSON
#include <jansson.h>

enum { TT_NORMAL = 1, TT_CONTROL = 3, TT_USER = 4, TT_UNUSED = 5 };
#define MAX_VOCAB (1 << 24)

typedef struct hf_vocab {
    qg_gguf_str *text;
    int32_t *type;
    char *pads; /* "[PAD<i>]" texts of the ids nobody names */
    json_t *merges;
} hf_vocab;

static void hf_token(void *user, int32_t i, qg_gguf_str *text, float *score, int32_t *type) {
    const hf_vocab *v = user;
    *text = v->text[i];
    *score = 0.0f;
    *type = v->type[i];
}

static bool hf_merge(void *user, uint64_t j, qg_gguf_str *l, qg_gguf_str *r) {
    const hf_vocab *v = user;
    json_t *m = json_array_get(v->merges, (size_t)j);
    if (json_is_string(m)) {
        const char *s = json_string_value(m);
        size_t n = json_string_length(m);
        const char *sp = n > 1 ? memchr(s + 1, ' ', n - 1) : NULL;
        if (!sp) return false;
        *l = (qg_gguf_str){(uint64_t)(sp - s), s};
        *r = (qg_gguf_str){n - l->len - 1, sp + 1};
        return true;
    }
    json_t *a = json_array_get(m, 0), *b = json_array_get(m, 1);
    if (!json_is_array(m) || json_array_size(m) != 2 || !json_is_string(a) || !json_is_string(b)) return false;
    *l = (qg_gguf_str){json_string_length(a), json_string_value(a)};
    *r = (qg_gguf_str){json_string_length(b), json_string_value(b)};
    return true;
}

static json_t *load_json(const char *dir, const char *name, bool required, qg_status *st) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    json_error_t err;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (required) *st = qg_set_error(QG_ERR_NOT_FOUND, "%s: cannot open", path);
        return NULL;
    }
    json_t *root = json_loadf(f, JSON_ALLOW_NUL, &err);
    fclose(f);
    if (!json_is_object(root)) {
        *st = qg_set_error(QG_ERR_FORMAT, "%s: %s (line %d)", path, root ? "not a JSON object" : err.text,
                           err.line);
        json_decref(root);
        return NULL;
    }
    return root;
}

/* Added tokens llama.cpp's converter treats as control even when not marked special. */
static bool looks_special(const char *s, size_t n) {
    static const char *const names[] = {"<pad>", "<mask>", "<2mass>", "[@BOS@]", NULL};
    for (size_t i = 0; names[i]; i++)
        if (n == strlen(names[i]) && memcmp(s, names[i], n) == 0) return true;
    if (n >= 4 && memcmp(s, "<|", 2) == 0 && memcmp(s + n - 2, "|>", 2) == 0) return true;
    return n >= 8 && memcmp(s, "<unused", 7) == 0 && s[n - 1] == '>';
}

/* The one pre-tokenizer the segmenter implements: Digits(individual) then ByteLevel
 * with the GPT-2 regex and no prefix space. */
static qg_status check_pre(json_t *root) {
    json_t *norm = json_object_get(root, "normalizer");
    if (norm && !json_is_null(norm))
        return qg_set_error(QG_ERR_UNSUPPORTED, "tokenizer.json: normalizer '%s' is not supported",
                            json_string_value(json_object_get(norm, "type")) ? json_string_value(json_object_get(norm, "type")) : "?");
    json_t *pre = json_object_get(root, "pre_tokenizer");
    const char *type = json_string_value(json_object_get(pre, "type"));
    json_t *seq = json_object_get(pre, "pretokenizers");
    json_t *d = json_array_get(seq, 0), *b = json_array_get(seq, 1);
    bool ok = type && !strcmp(type, "Sequence") && json_array_size(seq) == 2 &&
              json_is_string(json_object_get(d, "type")) && !strcmp(json_string_value(json_object_get(d, "type")), "Digits") &&
              json_is_true(json_object_get(d, "individual_digits")) && json_is_string(json_object_get(b, "type")) &&
              !strcmp(json_string_value(json_object_get(b, "type")), "ByteLevel") &&
              !json_is_true(json_object_get(b, "add_prefix_space")) && !json_is_false(json_object_get(b, "use_regex"));
    if (!ok)
        return qg_set_error(QG_ERR_UNSUPPORTED,
                            "tokenizer.json: pre_tokenizer '%s' is not supported (only Digits(individual) + "
                            "ByteLevel, as SmolLM uses)",
                            type ? type : "(none)");
    return QG_OK;
}

/* Fill v->text/type from model.vocab and added_tokens; ids must be 0 <= id < 2^24. */
static qg_status read_vocab(json_t *root, int32_t n_vocab_min, hf_vocab *v, int32_t *n_out) {
    json_t *model = json_object_get(root, "model");
    const char *mt = json_string_value(json_object_get(model, "type"));
    if (!mt || strcmp(mt, "BPE") != 0)
        return qg_set_error(QG_ERR_UNSUPPORTED, "tokenizer.json: model type '%s' is not supported (BPE only)",
                            mt ? mt : "(none)");
    if (json_is_true(json_object_get(model, "byte_fallback")))
        return qg_set_error(QG_ERR_UNSUPPORTED, "tokenizer.json: BPE with byte_fallback is not supported");
    json_t *vocab = json_object_get(model, "vocab"), *added = json_object_get(root, "added_tokens");
    v->merges = json_object_get(model, "merges");
    if (!json_is_object(vocab) || !json_is_array(v->merges))
        return qg_set_error(QG_ERR_FORMAT, "tokenizer.json: model.vocab (object) or model.merges (array) missing");
    int64_t n = n_vocab_min > 0 ? n_vocab_min : 0;
    const char *key;
    json_t *val;
    size_t i;
    json_object_foreach(vocab, key, val) {
        json_int_t id = json_integer_value(val);
        if (!json_is_integer(val) || id < 0 || id >= MAX_VOCAB)
            return qg_set_error(QG_ERR_FORMAT, "tokenizer.json: token '%.64s' has a bad id", key);
        if (id + 1 > n) n = id + 1;
    }
    json_array_foreach(added, i, val) {
        json_int_t id = json_integer_value(json_object_get(val, "id"));
        if (!json_is_string(json_object_get(val, "content")) || id < 0 || id >= MAX_VOCAB)
            return qg_set_error(QG_ERR_FORMAT, "tokenizer.json: added_tokens[%zu] has no content or a bad id", i);
        if (id + 1 > n) n = id + 1;
    }
    if (n == 0) return qg_set_error(QG_ERR_FORMAT, "tokenizer.json: empty vocabulary");
    v->text = calloc((size_t)n, sizeof *v->text);
    v->type = calloc((size_t)n, sizeof *v->type);
    v->pads = malloc((size_t)n * 20);
    if (!v->text || !v->type || !v->pads) return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer.json: out of memory");
    json_object_foreach(vocab, key, val) {
        json_int_t id = json_integer_value(val);
        if (v->text[id].data)
            return qg_set_error(QG_ERR_FORMAT, "tokenizer.json: id %lld is given to two tokens", (long long)id);
        v->text[id] = (qg_gguf_str){strlen(key), key};
        v->type[id] = TT_NORMAL;
    }
    json_array_foreach(added, i, val) {
        json_int_t id = json_integer_value(json_object_get(val, "id"));
        json_t *c = json_object_get(val, "content");
        v->text[id] = (qg_gguf_str){json_string_length(c), json_string_value(c)};
        bool special = json_is_true(json_object_get(val, "special"));
        v->type[id] = special || looks_special(v->text[id].data, v->text[id].len) ? TT_CONTROL : TT_USER;
    }
    for (int64_t id = 0; id < n; id++) {
        if (v->text[id].data) continue;
        char *p = v->pads + 20 * id;
        v->text[id] = (qg_gguf_str){(uint64_t)snprintf(p, 20, "[PAD%lld]", (long long)id), p};
        v->type[id] = TT_UNUSED;
    }
    *n_out = (int32_t)n;
    return QG_OK;
}

/* tokenizer_config.json's "<kind>_token" (a string or {"content": ...}) as an id, else
 * config.json's "<kind>_token_id"; unchanged when neither names a known token. */
static void special_id(const qgl_tokenizer *t, json_t *tcfg, json_t *cfg, const char *kind, qgl_token *id) {
    char key[32];
    snprintf(key, sizeof key, "%s_token", kind);
    json_t *s = json_object_get(tcfg, key);
    if (json_is_object(s)) s = json_object_get(s, "content");
    if (json_is_string(s)) {
        int32_t found = qgl_strmap_get(&t->vocab, json_string_value(s), json_string_length(s));
        if (found >= 0) {
            *id = found;
            return;
        }
    }
    snprintf(key, sizeof key, "%s_token_id", kind);
    json_t *n = json_object_get(cfg, key);
    if (json_is_integer(n) && json_integer_value(n) >= 0 && json_integer_value(n) < t->n_vocab)
        *id = (qgl_token)json_integer_value(n);
}

static qg_status read_config(qgl_tokenizer *t, json_t *tcfg, json_t *cfg) {
    t->bos = t->eos = t->n_vocab > 11 ? 11 : QGL_TOKEN_NULL; /* llama.cpp's gpt2 defaults */
    special_id(t, tcfg, cfg, "bos", &t->bos);
    special_id(t, tcfg, cfg, "eos", &t->eos);
    special_id(t, tcfg, cfg, "unk", &t->unk);
    special_id(t, tcfg, cfg, "pad", &t->pad);
    t->add_bos = json_is_true(json_object_get(tcfg, "add_bos_token"));
    t->add_eos = json_is_true(json_object_get(tcfg, "add_eos_token"));
    if ((t->add_bos && t->bos < 0) || (t->add_eos && t->eos < 0))
        return qg_set_error(QG_ERR_FORMAT, "tokenizer_config.json: add_%s_token is set but there is no such token",
                            t->add_bos && t->bos < 0 ? "bos" : "eos");
    json_t *tmpl = json_object_get(tcfg, "chat_template");
    if (json_is_array(tmpl)) { /* [{"name": "default", "template": ...}, ...] */
        json_t *e, *pick = NULL;
        size_t i;
        json_array_foreach(tmpl, i, e) {
            const char *name = json_string_value(json_object_get(e, "name"));
            if (name && !strcmp(name, "default")) pick = json_object_get(e, "template");
        }
        tmpl = pick;
    }
    if (json_is_string(tmpl)) {
        size_t n = json_string_length(tmpl);
        t->chat_template = malloc(n + 1);
        if (!t->chat_template) return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory");
        memcpy(t->chat_template, json_string_value(tmpl), n);
        t->chat_template[n] = 0;
    }
    return QG_OK;
}

static qg_status build(const char *dir, int32_t n_vocab_min, json_t *root, qgl_tokenizer *t) {
    hf_vocab v = {0};
    json_t *tcfg = NULL, *cfg = NULL;
    int32_t n = 0;
    qg_status st = check_pre(root);
    if (st == QG_OK) st = read_vocab(root, n_vocab_min, &v, &n);
    if (st == QG_OK) st = qgl_tok_set_vocab(t, n, hf_token, &v);
    if (st == QG_OK) st = qgl_tok_set_merges(t, json_array_size(v.merges), hf_merge, &v);
    if (st == QG_OK) {
        tcfg = load_json(dir, "tokenizer_config.json", false, &st);
        if (st == QG_OK) cfg = load_json(dir, "config.json", false, &st);
    }
    if (st == QG_OK) st = read_config(t, tcfg, cfg);
    if (st == QG_OK) st = qgl_tok_finish(t);
    json_decref(tcfg);
    json_decref(cfg);
    free(v.text);
    free(v.type);
    free(v.pads);
    return st;
}

qg_status qgl_tokenizer_load_hf(const char *dir, int32_t n_vocab_min, qgl_tokenizer **out) {
    if (!dir || !out) return qg_set_error(QG_ERR_INVALID_ARG, "qgl_tokenizer_load_hf: NULL argument");
    *out = NULL;
    qg_status st = QG_OK;
    json_t *root = load_json(dir, "tokenizer.json", true, &st);
    if (!root) return st;
    qgl_tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        json_decref(root);
        return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory");
    }
    t->kind = QGL_VOCAB_BPE;
    t->pre = QGL_PRE_SMOLLM;
    t->bos = t->eos = t->eot = t->unk = t->pad = QGL_TOKEN_NULL;
    st = build(dir, n_vocab_min, root, t);
    json_decref(root);
    if (st != QG_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", qg_last_error());
        qgl_tokenizer_free(t);
        return qg_set_error(st, "%s: %s", dir, why);
    }
    *out = t;
    return QG_OK;
}
#else
qg_status qgl_tokenizer_load_hf(const char *dir, int32_t n_vocab_min, qgl_tokenizer **out) {
    (void)n_vocab_min;
    if (out) *out = NULL;
    return qg_set_error(QG_ERR_UNSUPPORTED, "%s: reading tokenizer.json needs a build with jansson",
                        dir ? dir : "(null)");
}
#endif
