/* Building a tokenizer from GGUF metadata (tokenizer.ggml.*): vocabulary, scores, token
 * types, merges, special ids, add-BOS/EOS flags and the chat template; then the derived
 * tables: the text -> id map, rendered pieces, the end-of-generation set and the list of
 * special tokens matched as whole strings. Defaults follow llama.cpp. The vocabulary,
 * merge and derived-table steps are shared with tokenizer_hf.c (tokenizer.json). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

#define KEY_MODEL "tokenizer.ggml.model"
#define KEY_TOKENS "tokenizer.ggml.tokens"

/* GGUF token types. */
enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_USER = 4, TT_UNUSED = 5, TT_BYTE = 6 };

static uint32_t type_to_attr(int32_t tt)
{
    switch (tt) {
    case TT_NORMAL: return QGL_ATTR_NORMAL;
    case TT_UNKNOWN: return QGL_ATTR_UNKNOWN;
    case TT_CONTROL: return QGL_ATTR_CONTROL;
    case TT_USER: return QGL_ATTR_USER_DEFINED;
    case TT_UNUSED: return QGL_ATTR_UNUSED;
    case TT_BYTE: return QGL_ATTR_BYTE;
    default: return 0;
    }
}

/* Where the GGUF arrays are: tokens, scores, token types, merges (-1 when absent). */
typedef struct qgl_gguf_src {
    const qg_gguf *f;
    int64_t ti, si, yi, mi;
} qgl_gguf_src;

static bool str_is(qg_gguf_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.data, lit, n) == 0;
}

/* Array key of an expected element type; -1 when absent, -2 (error set) when wrong. */
static int64_t find_array(const qg_gguf *f, const char *key, qg_gguf_vtype a, qg_gguf_vtype b,
                          uint64_t min_n)
{
    int64_t i = qg_gguf_find_key(f, key);
    if (i < 0)
        return -1;
    qg_gguf_vtype et = qg_gguf_arr_type(f, i);
    if (qg_gguf_kv_type(f, i) != QG_GGUF_ARRAY || (et != a && et != b)) {
        qg_set_error(QG_ERR_FORMAT, "tokenizer: GGUF key %s has the wrong type", key);
        return -2;
    }
    if (qg_gguf_arr_n(f, i) < min_n) {
        qg_set_error(QG_ERR_FORMAT, "tokenizer: GGUF key %s has %llu entries, need %llu", key,
                     (unsigned long long)qg_gguf_arr_n(f, i), (unsigned long long)min_n);
        return -2;
    }
    return i;
}

/* Render what a token stands for (llama.cpp's token_to_piece with special = true). */
static size_t render_piece(const qgl_tokenizer *t, const qgl_vtoken *v, char *dst,
                           uint32_t *cps)
{
    if (v->attr & (QGL_ATTR_CONTROL | QGL_ATTR_UNKNOWN | QGL_ATTR_USER_DEFINED)) {
        memcpy(dst, v->text, v->len);
        return v->len;
    }
    if (v->attr & QGL_ATTR_NORMAL) {
        size_t n = 0;
        if (t->kind == QGL_VOCAB_SPM) {
            for (size_t i = 0; i < v->len;) {
                if (i + 3 <= v->len && memcmp(v->text + i, "\xe2\x96\x81", 3) == 0) {
                    dst[n++] = ' ';
                    i += 3;
                } else {
                    dst[n++] = v->text[i++];
                }
            }
            return n;
        }
        size_t nc = qgl_utf8_decode(v->text, v->len, cps);
        for (size_t i = 0; i < nc; i++) {
            int b = qgl_char_to_byte(cps[i]);
            if (b >= 0)
                dst[n++] = (char)b;
            else
                n += qgl_utf8_encode(cps[i], dst + n); /* not a byte character: keep it */
        }
        return n;
    }
    if (v->attr & QGL_ATTR_BYTE) {
        /* "<0xXX>": the two hex digits after "<0x" */
        if (v->len < 5)
            return 0;
        dst[0] = (char)strtol((char[3]){v->text[3], v->text[4], 0}, NULL, 16);
        return 1;
    }
    return 0;
}

static void set_special(const qg_gguf *f, const char *key, int32_t n_vocab, qgl_token *id)
{
    uint64_t v;
    if (*id >= n_vocab)
        *id = QGL_TOKEN_NULL;
    if (qg_gguf_get_u64(f, key, &v) == QG_OK && v < (uint64_t)n_vocab)
        *id = (qgl_token)v;
}

static qgl_token find_text(const qgl_tokenizer *t, const char *const *names)
{
    for (size_t i = 0; names[i]; i++) {
        int32_t id = qgl_strmap_get(&t->vocab, names[i], strlen(names[i]));
        if (id >= 0)
            return id;
    }
    return QGL_TOKEN_NULL;
}

static void mark_eog(qgl_tokenizer *t, qgl_token id)
{
    if (id >= 0 && id < t->n_vocab) {
        t->eog[id] = 1;
        t->tok[id].attr |= QGL_ATTR_CONTROL; /* llama.cpp treats these as control */
    }
}

/* End-of-turn / end-of-generation tokens found by their text, as llama.cpp does. */
static void detect_specials(qgl_tokenizer *t)
{
    static const char *const eot_names[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
        "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<end_of_utterance>", NULL};
    static const char *const fim_pad[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>",
                                          "[PAD]", NULL};
    static const char *const fim_rep[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                          "<REPO>", "<reponame>", NULL};
    static const char *const fim_sep[] = {"<|file_sep|>", NULL};
    static const char *const eog_names[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
        "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>",
        "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>",
        "<|tool_response>", "[e~[", NULL};
    if (t->eot == QGL_TOKEN_NULL)
        t->eot = find_text(t, eot_names);
    if (t->eot >= 0)
        t->tok[t->eot].attr |= QGL_ATTR_CONTROL;
    mark_eog(t, find_text(t, fim_pad));
    mark_eog(t, find_text(t, fim_rep));
    mark_eog(t, find_text(t, fim_sep));
    for (size_t i = 0; eog_names[i]; i++)
        mark_eog(t, qgl_strmap_get(&t->vocab, eog_names[i], strlen(eog_names[i])));
    if (t->eos >= 0)
        t->eog[t->eos] = 1;
    if (t->eot >= 0)
        t->eog[t->eot] = 1;
}

typedef struct len_id {
    uint32_t len;
    qgl_token id;
} len_id;

static int by_len_desc(const void *a, const void *b)
{
    const len_id *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return x->id < y->id ? -1 : (x->id > y->id);
}

/* Merge j of the GGUF list, "left right" split at the first space after the first byte. */
static bool gguf_merge(void *user, uint64_t j, qg_gguf_str *l, qg_gguf_str *r)
{
    const qgl_gguf_src *g = user;
    qg_gguf_str s = qg_gguf_arr_str(g->f, g->mi, j);
    const char *sp = s.len > 1 ? memchr(s.data + 1, ' ', s.len - 1) : NULL;
    if (!sp)
        return false;
    *l = (qg_gguf_str){(uint64_t)(sp - s.data), s.data};
    *r = (qg_gguf_str){s.len - l->len - 1, sp + 1};
    return true;
}

qg_status qgl_tok_set_merges(qgl_tokenizer *t, uint64_t nm, qgl_merge_fn get, void *user)
{
    if (nm > 0x7fffffff)
        return qg_set_error(QG_ERR_FORMAT, "tokenizer: %llu merges is too many",
                            (unsigned long long)nm);
    uint64_t total = 0;
    qg_gguf_str l, r;
    for (uint64_t j = 0; j < nm; j++)
        if (get(user, j, &l, &r))
            total += l.len + r.len;
    t->merge_arena = malloc(total + 1);
    qg_status st = t->merge_arena ? qgl_pairmap_init(&t->merges, nm)
                                  : qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory");
    char *p = t->merge_arena;
    for (uint64_t j = 0; j < nm && st == QG_OK; j++) {
        if (!get(user, j, &l, &r))
            continue; /* a malformed merge never applies */
        memcpy(p, l.data, l.len);
        memcpy(p + l.len, r.data, r.len);
        st = qgl_pairmap_put(&t->merges, p, l.len, p + l.len, r.len, (int32_t)j);
        p += l.len + r.len;
    }
    return st;
}

static qg_status load_merges(qgl_tokenizer *t, const qg_gguf *f)
{
    int64_t mi = find_array(f, "tokenizer.ggml.merges", QG_GGUF_STRING, QG_GGUF_STRING, 0);
    if (mi == -2)
        return QG_ERR_FORMAT;
    if (mi < 0)
        return qg_set_error(QG_ERR_FORMAT, "tokenizer: gpt2 vocabulary without "
                                           "tokenizer.ggml.merges");
    qgl_gguf_src g = {f, -1, -1, -1, mi};
    return qgl_tok_set_merges(t, qg_gguf_arr_n(f, mi), gguf_merge, &g);
}

/* Vocabulary entry i of the GGUF arrays (array data in the mapping need not be aligned:
 * elements are copied out). */
static void gguf_token(void *user, int32_t i, qg_gguf_str *text, float *score, int32_t *type)
{
    const qgl_gguf_src *g = user;
    *text = qg_gguf_arr_str(g->f, g->ti, (uint64_t)i);
    *score = 0.0f;
    if (g->si >= 0) {
        const char *d = qg_gguf_arr_data(g->f, g->si);
        if (qg_gguf_arr_type(g->f, g->si) == QG_GGUF_INT32) {
            int32_t iv;
            memcpy(&iv, d + 4 * (size_t)i, 4);
            *score = (float)iv;
        } else {
            memcpy(score, d + 4 * (size_t)i, 4);
        }
    }
    *type = TT_NORMAL;
    if (g->yi >= 0)
        memcpy(type, (const char *)qg_gguf_arr_data(g->f, g->yi) + 4 * (size_t)i, 4);
}

qg_status qgl_tok_set_vocab(qgl_tokenizer *t, int32_t n, qgl_token_fn get, void *user)
{
    /* arena: each text (or its "[EMPTY_n]" placeholder, < 24 bytes) plus NUL, then the
     * pieces, at most 3 bytes per text byte (a stray byte decodes to U+FFFD) */
    uint64_t total = 0;
    qg_gguf_str s;
    float score;
    int32_t tt;
    for (int32_t i = 0; i < n; i++) {
        get(user, i, &s, &score, &tt);
        total += 4 * (s.len < 24 ? 24 : s.len) + 1;
    }
    t->n_vocab = n;
    t->tok = calloc((size_t)n, sizeof(*t->tok));
    t->eog = calloc((size_t)n, 1);
    t->arena = malloc(total + 1);
    if (!t->tok || !t->eog || !t->arena)
        return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory for %d tokens", n);
    qg_status st = qgl_strmap_init(&t->vocab, (size_t)n);
    char *p = t->arena;
    for (int32_t i = 0; i < n && st == QG_OK; i++) {
        get(user, i, &s, &score, &tt);
        qgl_vtoken *v = &t->tok[i];
        v->text = p;
        if (s.len == 0) {
            v->len = (uint32_t)snprintf(p, 24, "[EMPTY_%d]", i);
        } else {
            memcpy(p, s.data, s.len);
            v->len = (uint32_t)s.len;
        }
        p[v->len] = 0;
        p += v->len + 1;
        v->score = score;
        v->attr = type_to_attr(tt);
        st = qgl_strmap_put(&t->vocab, v->text, v->len, i);
    }
    return st;
}

static qg_status load_vocab(qgl_tokenizer *t, const qg_gguf *f, int64_t ti)
{
    uint64_t n = qg_gguf_arr_n(f, ti);
    int64_t si = find_array(f, "tokenizer.ggml.scores", QG_GGUF_FLOAT32, QG_GGUF_INT32, n);
    int64_t yi = find_array(f, "tokenizer.ggml.token_type", QG_GGUF_INT32, QG_GGUF_INT32, n);
    if (si == -2 || yi == -2)
        return QG_ERR_FORMAT;
    qgl_gguf_src g = {f, ti, si, yi, -1};
    return qgl_tok_set_vocab(t, (int32_t)n, gguf_token, &g);
}

/* Flags and special ids from the GGUF keys, then the shared derived tables. */
static qg_status finish(qgl_tokenizer *t, const qg_gguf *f)
{
    bool b;
    if (qg_gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &b) == QG_OK)
        t->add_bos = b;
    if (qg_gguf_get_bool(f, "tokenizer.ggml.add_eos_token", &b) == QG_OK)
        t->add_eos = b;
    if (qg_gguf_get_bool(f, "tokenizer.ggml.add_space_prefix", &b) == QG_OK)
        t->add_space_prefix = b;
    set_special(f, "tokenizer.ggml.bos_token_id", t->n_vocab, &t->bos);
    set_special(f, "tokenizer.ggml.eos_token_id", t->n_vocab, &t->eos);
    set_special(f, "tokenizer.ggml.eot_token_id", t->n_vocab, &t->eot);
    set_special(f, "tokenizer.ggml.unknown_token_id", t->n_vocab, &t->unk);
    set_special(f, "tokenizer.ggml.padding_token_id", t->n_vocab, &t->pad);
    if ((t->add_bos && t->bos < 0) || (t->add_eos && t->eos < 0))
        return qg_set_error(QG_ERR_FORMAT, "tokenizer: add_%s_token is set but the file has "
                                           "no valid %s id",
                            t->add_bos && t->bos < 0 ? "bos" : "eos",
                            t->add_bos && t->bos < 0 ? "bos" : "eos");
    qg_status st = qgl_tok_finish(t);
    if (st != QG_OK)
        return st;
    qg_gguf_str tmpl;
    if (qg_gguf_get_str(f, "tokenizer.chat_template", &tmpl) == QG_OK) {
        t->chat_template = malloc(tmpl.len + 1);
        if (!t->chat_template)
            return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory");
        memcpy(t->chat_template, tmpl.data, tmpl.len);
        t->chat_template[tmpl.len] = 0;
    }
    return QG_OK;
}

qg_status qgl_tok_finish(qgl_tokenizer *t)
{
    detect_specials(t);

    /* pieces after the attribute fix-ups above */
    uint32_t max_len = 0;
    char *p = t->arena;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        p = (char *)t->tok[i].text + t->tok[i].len + 1;
        if (t->tok[i].len > max_len)
            max_len = t->tok[i].len;
    }
    uint32_t *cps = malloc(((size_t)max_len + 1) * sizeof(*cps));
    len_id *sp = malloc((size_t)t->n_vocab * sizeof(*sp));
    t->special = malloc((size_t)t->n_vocab * sizeof(*t->special));
    if (!cps || !sp || !t->special) {
        free(cps);
        free(sp);
        return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory");
    }
    for (int32_t i = 0; i < t->n_vocab; i++) {
        qgl_vtoken *v = &t->tok[i];
        v->piece = p;
        v->piece_len = (uint32_t)render_piece(t, v, p, cps);
        p += v->piece_len;
        if (v->attr & (QGL_ATTR_CONTROL | QGL_ATTR_USER_DEFINED | QGL_ATTR_UNKNOWN)) {
            sp[t->n_special].len = v->len;
            sp[t->n_special++].id = i;
        }
    }
    qsort(sp, t->n_special, sizeof(*sp), by_len_desc);
    for (size_t i = 0; i < t->n_special; i++)
        t->special[i] = sp[i].id;
    free(sp);
    free(cps);
    return QG_OK;
}

qg_status qgl_tokenizer_load(const qg_gguf *f, qgl_tokenizer **out)
{
    if (!f || !out)
        return qg_set_error(QG_ERR_INVALID_ARG, "qgl_tokenizer_load: NULL argument");
    *out = NULL;
    qg_gguf_str model, pre = {0, NULL};
    if (qg_gguf_get_str(f, KEY_MODEL, &model) != QG_OK)
        return qg_set_error(QG_ERR_FORMAT, "tokenizer: missing or non-string %s", KEY_MODEL);
    qgl_tokenizer *t = calloc(1, sizeof(*t));
    if (!t)
        return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory");
    t->bos = t->eos = t->eot = t->unk = t->pad = QGL_TOKEN_NULL;
    qg_status st = QG_OK;
    if (str_is(model, "gpt2")) {
        t->kind = QGL_VOCAB_BPE;
        t->bos = t->eos = 11; /* llama.cpp's defaults for gpt2 vocabularies */
        if (qg_gguf_get_str(f, "tokenizer.ggml.pre", &pre) != QG_OK || !str_is(pre, "smollm"))
            st = qg_set_error(QG_ERR_UNSUPPORTED,
                              "tokenizer: pre-tokenizer '%.*s' is not supported (only "
                              "\"smollm\")",
                              pre.data ? (int)pre.len : 6, pre.data ? pre.data : "(none)");
        t->pre = QGL_PRE_SMOLLM;
    } else if (str_is(model, "llama")) {
        t->kind = QGL_VOCAB_SPM;
        t->bos = 1;
        t->eos = 2;
        t->unk = 0;
        t->add_bos = true;
        t->add_space_prefix = true;
    } else {
        st = qg_set_error(QG_ERR_UNSUPPORTED, "tokenizer: %s '%.*s' is not supported "
                                              "(gpt2 and llama are)",
                          KEY_MODEL, (int)model.len, model.data);
    }
    int64_t ti = -1;
    if (st == QG_OK) {
        ti = find_array(f, KEY_TOKENS, QG_GGUF_STRING, QG_GGUF_STRING, 1);
        if (ti == -1)
            st = qg_set_error(QG_ERR_FORMAT, "tokenizer: missing %s", KEY_TOKENS);
        else if (ti == -2)
            st = QG_ERR_FORMAT;
        else if (qg_gguf_arr_n(f, ti) >= 0x7fffffff)
            st = qg_set_error(QG_ERR_FORMAT, "tokenizer: %s is too long", KEY_TOKENS);
    }
    if (st == QG_OK)
        st = load_vocab(t, f, ti);
    if (st == QG_OK && t->kind == QGL_VOCAB_BPE)
        st = load_merges(t, f);
    if (st == QG_OK)
        st = finish(t, f);
    if (st != QG_OK) {
        qgl_tokenizer_free(t);
        return st;
    }
    *out = t;
    return QG_OK;
}

void qgl_tokenizer_free(qgl_tokenizer *t)
{
    if (!t)
        return;
    qgl_strmap_free(&t->vocab);
    qgl_pairmap_free(&t->merges);
    free(t->tok);
    free(t->arena);
    free(t->merge_arena);
    free(t->eog);
    free(t->special);
    free(t->chat_template);
    free(t);
}
