/* Tokenizer entry points: the id vector, accessors, tokenize (special-token matching,
 * then the vocabulary's segmenter on the text in between, plus BOS/EOS) and the way
 * back (token pieces and detokenize). Loading lives in tokenizer_load.c. */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

void qgl_tokens_free(qgl_tokens *v)
{
    if (!v)
        return;
    free(v->ids);
    v->ids = NULL;
    v->n = v->cap = 0;
}

qg_status qgl_tokens_push(qgl_tokens *v, qgl_token id)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 64;
        qgl_token *ni = realloc(v->ids, nc * sizeof(*ni));
        if (!ni)
            return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory for %zu ids", nc);
        v->ids = ni;
        v->cap = nc;
    }
    v->ids[v->n++] = id;
    return QG_OK;
}

qgl_vocab_kind qgl_tokenizer_kind(const qgl_tokenizer *t) { return t->kind; }
int32_t qgl_n_vocab(const qgl_tokenizer *t) { return t->n_vocab; }
qgl_token qgl_token_bos(const qgl_tokenizer *t) { return t->bos; }
qgl_token qgl_token_eos(const qgl_tokenizer *t) { return t->eos; }
qgl_token qgl_token_eot(const qgl_tokenizer *t) { return t->eot; }
qgl_token qgl_token_unk(const qgl_tokenizer *t) { return t->unk; }
qgl_token qgl_token_pad(const qgl_tokenizer *t) { return t->pad; }
bool qgl_add_bos(const qgl_tokenizer *t) { return t->add_bos; }
bool qgl_add_eos(const qgl_tokenizer *t) { return t->add_eos; }
const char *qgl_chat_template(const qgl_tokenizer *t) { return t->chat_template; }

bool qgl_is_eog(const qgl_tokenizer *t, qgl_token id)
{
    return id >= 0 && id < t->n_vocab && t->eog[id];
}

uint32_t qgl_token_attr(const qgl_tokenizer *t, qgl_token id)
{
    return id >= 0 && id < t->n_vocab ? t->tok[id].attr : 0;
}

const char *qgl_token_text(const qgl_tokenizer *t, qgl_token id, size_t *len)
{
    if (id < 0 || id >= t->n_vocab)
        return NULL;
    if (len)
        *len = t->tok[id].len;
    return t->tok[id].text;
}

qgl_token qgl_text_to_token(const qgl_tokenizer *t, const char *text, size_t len)
{
    return qgl_strmap_get(&t->vocab, text, len);
}

/* A piece of the input: raw text [off, off+len) or an already-matched token. */
typedef struct frag {
    size_t off, len;
    qgl_token id; /* QGL_TOKEN_NULL for raw text */
} frag;

typedef struct frags {
    frag *v;
    size_t n, cap;
} frags;

static qg_status frag_add(frags *f, size_t off, size_t len, qgl_token id)
{
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 16;
        frag *nv = realloc(f->v, nc * sizeof(*nv));
        if (!nv)
            return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory (fragments)");
        f->v = nv;
        f->cap = nc;
    }
    f->v[f->n++] = (frag){off, len, id};
    return QG_OK;
}

/* Cut every occurrence of each special token out of the raw fragments, longest tokens
 * first; each token's occurrences are found left to right without overlap. Control and
 * unknown tokens take part only when parse_special is set. */
static qg_status partition(const qgl_tokenizer *t, const char *text, size_t len,
                           bool parse_special, frags *cur)
{
    frags next = {0};
    qg_status st = frag_add(cur, 0, len, QGL_TOKEN_NULL);
    for (size_t s = 0; s < t->n_special && st == QG_OK; s++) {
        const qgl_vtoken *sp = &t->tok[t->special[s]];
        if (!parse_special && (sp->attr & (QGL_ATTR_CONTROL | QGL_ATTR_UNKNOWN)))
            continue;
        next.n = 0;
        for (size_t i = 0; i < cur->n && st == QG_OK; i++) {
            frag f = cur->v[i];
            if (f.id != QGL_TOKEN_NULL) {
                st = frag_add(&next, f.off, f.len, f.id);
                continue;
            }
            size_t pos = f.off, end = f.off + f.len;
            while (st == QG_OK && pos < end) {
                const char *m = memmem(text + pos, end - pos, sp->text, sp->len);
                if (!m) {
                    st = frag_add(&next, pos, end - pos, QGL_TOKEN_NULL);
                    break;
                }
                size_t at = (size_t)(m - text);
                if (at > pos)
                    st = frag_add(&next, pos, at - pos, QGL_TOKEN_NULL);
                if (st == QG_OK)
                    st = frag_add(&next, at, sp->len, t->special[s]);
                pos = at + sp->len;
            }
        }
        frags tmp = *cur;
        *cur = next;
        next = tmp;
    }
    free(next.v);
    return st;
}

qg_status qgl_tokenize(const qgl_tokenizer *t, const char *text, size_t len, bool add_special,
                       bool parse_special, qgl_tokens *out)
{
    if (!t || !out || (!text && len))
        return qg_set_error(QG_ERR_INVALID_ARG, "qgl_tokenize: NULL argument");
    frags fr = {0};
    qg_status st = QG_OK;
    if (len > 0)
        st = partition(t, text, len, parse_special, &fr);
    if (st == QG_OK && add_special && t->add_bos)
        st = qgl_tokens_push(out, t->bos);
    bool prev_special = true; /* SPM: a space is prefixed to text at the start or after a token */
    char *buf = NULL;
    for (size_t i = 0; i < fr.n && st == QG_OK; i++) {
        frag f = fr.v[i];
        if (f.id != QGL_TOKEN_NULL) {
            st = qgl_tokens_push(out, f.id);
            prev_special = true;
        } else if (t->kind == QGL_VOCAB_BPE) {
            st = qgl_bpe_tokenize(t, text + f.off, f.len, out);
        } else if (t->add_space_prefix && prev_special) {
            char *nb = realloc(buf, f.len + 1);
            if (!nb) {
                st = qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory");
                break;
            }
            buf = nb;
            buf[0] = ' ';
            memcpy(buf + 1, text + f.off, f.len);
            st = qgl_spm_tokenize(t, buf, f.len + 1, out);
            prev_special = false;
        } else {
            st = qgl_spm_tokenize(t, text + f.off, f.len, out);
            prev_special = false;
        }
    }
    if (st == QG_OK && add_special && t->add_eos)
        st = qgl_tokens_push(out, t->eos);
    free(buf);
    free(fr.v);
    return st;
}

const char *qgl_token_to_piece(const qgl_tokenizer *t, qgl_token id, bool special, size_t *len)
{
    size_t dummy;
    if (!len)
        len = &dummy;
    *len = 0;
    if (id < 0 || id >= t->n_vocab)
        return NULL;
    const qgl_vtoken *v = &t->tok[id];
    if (!special && (v->attr & (QGL_ATTR_CONTROL | QGL_ATTR_UNKNOWN))) {
        *len = 0;
        return v->piece;
    }
    *len = v->piece_len;
    return v->piece;
}

qg_status qgl_detokenize(const qgl_tokenizer *t, const qgl_token *ids, size_t n,
                         bool remove_special, bool special, char **out, size_t *out_len)
{
    if (!t || !out || (!ids && n))
        return qg_set_error(QG_ERR_INVALID_ARG, "qgl_detokenize: NULL argument");
    *out = NULL;
    bool strip_space = t->add_space_prefix;
    if (remove_special && t->add_bos && n > 0 && ids[0] == t->bos) {
        strip_space = false;
        ids++;
        n--;
    }
    if (remove_special && t->add_eos && n > 0 && ids[n - 1] == t->eos)
        n--;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->n_vocab)
            return qg_set_error(QG_ERR_INVALID_ARG, "qgl_detokenize: id %d at position %zu is "
                                                    "outside the vocabulary (0..%d)",
                                (int)ids[i], i, (int)t->n_vocab - 1);
        total += t->tok[ids[i]].piece_len;
    }
    char *s = malloc(total + 1);
    if (!s)
        return qg_set_error(QG_ERR_NO_MEMORY, "qgl_detokenize: out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        size_t pl = 0;
        const char *p = qgl_token_to_piece(t, ids[i], special, &pl);
        if (i == 0 && strip_space && pl > 0 && p[0] == ' ') {
            p++;
            pl--;
        }
        memcpy(s + m, p, pl);
        m += pl;
    }
    s[m] = 0;
    *out = s;
    if (out_len)
        *out_len = m;
    return QG_OK;
}
