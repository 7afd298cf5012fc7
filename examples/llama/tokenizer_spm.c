/* SentencePiece-style segmentation ("llama" vocabularies): spaces become U+2581, the text
 * is cut into UTF-8 characters, and adjacent symbols are merged greedily, highest token
 * score first (ties: leftmost), as long as the merged text is a vocabulary entry. Symbols
 * left without a token are written as byte tokens (<0xXX>). */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

typedef struct sym {
    const char *text;
    int32_t n;
    int32_t prev, next;
} sym;

typedef struct cand {
    float score;
    int32_t left, right;
    int32_t size; /* merged byte length when pushed */
} cand;

typedef struct heap {
    cand *v;
    size_t n, cap;
} heap;

static bool cand_before(const cand *a, const cand *b)
{
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static qg_status push(heap *h, cand c)
{
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 64;
        cand *nv = realloc(h->v, nc * sizeof(*nv));
        if (!nv)
            return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory (SPM queue)");
        h->v = nv;
        h->cap = nc;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!cand_before(&c, &h->v[up]))
            break;
        h->v[i] = h->v[up];
        i = up;
    }
    h->v[i] = c;
    return QG_OK;
}

static cand pop(heap *h)
{
    cand top = h->v[0];
    cand last = h->v[--h->n];
    size_t i = 0, n = h->n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && cand_before(&h->v[c + 1], &h->v[c]))
            c++;
        if (!cand_before(&h->v[c], &last))
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (n > 0)
        h->v[i] = last;
    return top;
}

static qg_status try_merge(const qgl_tokenizer *t, const sym *s, heap *h, int32_t l, int32_t r)
{
    if (l < 0 || r < 0)
        return QG_OK;
    /* symbols are consecutive in the text, so the merged text is contiguous */
    int32_t id = qgl_strmap_get(&t->vocab, s[l].text, (size_t)(s[l].n + s[r].n));
    if (id < 0)
        return QG_OK;
    cand c = {t->tok[id].score, l, r, s[l].n + s[r].n};
    return push(h, c);
}

qgl_token qgl_spm_byte_token(const qgl_tokenizer *t, uint8_t b)
{
    static const char hex[] = "0123456789ABCDEF";
    char buf[6] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
    int32_t id = qgl_strmap_get(&t->vocab, buf, 6);
    if (id >= 0)
        return id;
    char c = (char)b;
    return qgl_strmap_get(&t->vocab, &c, 1);
}

static qg_status segment(const qgl_tokenizer *t, const char *text, size_t len, qgl_tokens *out)
{
    sym *s = malloc(len * sizeof(*s));
    if (!s)
        return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory (SPM symbols)");
    int32_t n = 0;
    for (size_t off = 0; off < len;) {
        size_t cl = qgl_utf8_len((unsigned char)text[off]);
        if (cl > len - off)
            cl = len - off;
        s[n].text = text + off;
        s[n].n = (int32_t)cl;
        s[n].prev = n - 1;
        off += cl;
        s[n].next = off == len ? -1 : n + 1;
        n++;
    }
    heap h = {0};
    qg_status st = QG_OK;
    for (int32_t i = 1; i < n && st == QG_OK; i++)
        st = try_merge(t, s, &h, i - 1, i);
    while (st == QG_OK && h.n > 0) {
        cand c = pop(&h);
        sym *a = &s[c.left], *b = &s[c.right];
        if (a->n == 0 || b->n == 0 || a->n + b->n != c.size)
            continue;
        a->n += b->n;
        b->n = 0;
        a->next = b->next;
        if (b->next >= 0)
            s[b->next].prev = c.left;
        st = try_merge(t, s, &h, a->prev, c.left);
        if (st == QG_OK)
            st = try_merge(t, s, &h, c.left, a->next);
    }
    for (int32_t i = 0; i != -1 && n > 0 && st == QG_OK; i = s[i].next) {
        int32_t id = qgl_strmap_get(&t->vocab, s[i].text, (size_t)s[i].n);
        if (id >= 0) {
            st = qgl_tokens_push(out, id);
            continue;
        }
        /* a merged symbol is always a token, so this is one character without a token */
        for (int32_t k = 0; k < s[i].n && st == QG_OK; k++) {
            qgl_token bt = qgl_spm_byte_token(t, (uint8_t)s[i].text[k]);
            if (bt < 0)
                bt = t->unk;
            if (bt < 0)
                st = qg_set_error(QG_ERR_FORMAT,
                                  "tokenizer: no byte token <0x%02X> and no unknown token",
                                  (unsigned)(uint8_t)s[i].text[k]);
            else
                st = qgl_tokens_push(out, bt);
        }
    }
    free(h.v);
    free(s);
    return st;
}

qg_status qgl_spm_tokenize(const qgl_tokenizer *t, const char *text, size_t len, qgl_tokens *out)
{
    if (len == 0)
        return QG_OK;
    size_t spaces = 0;
    for (size_t i = 0; i < len; i++)
        spaces += text[i] == ' ';
    char *esc = malloc(len + 2 * spaces + 1);
    if (!esc)
        return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory for %zu bytes", len);
    size_t m = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') {
            memcpy(esc + m, "\xe2\x96\x81", 3);
            m += 3;
        } else {
            esc[m++] = text[i];
        }
    }
    qg_status st = segment(t, esc, m, out);
    free(esc);
    return st;
}
