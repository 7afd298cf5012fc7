/* Byte-level BPE ("gpt2" vocabularies) with the SmolLM2 pre-tokenizer.
 *
 * Pre-tokenization, as llama.cpp does for pre-type "smollm": every \p{N} code point is cut
 * out as its own piece, then each remaining piece is split with the GPT-2 pattern
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * implemented by hand over code points. Each word is re-encoded to UTF-8, every byte is
 * replaced by its GPT-2 printable character, and the word's characters are merged
 * pairwise, lowest merge rank first (ties: leftmost), with a binary heap of candidate
 * pairs whose stale entries are skipped when popped. Short words are cached per call. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

typedef struct sym {
    const char *text;
    int32_t n; /* bytes; 0 once merged into its left neighbour */
    int32_t prev, next;
} sym;

typedef struct pair {
    int32_t rank, left, right;
    int32_t ln, rn; /* symbol sizes when pushed: a mismatch marks a stale entry */
} pair;

/* Per-call cache of short words already merged (the merge result depends on the word
 * alone, and natural text repeats its words a lot). Stops growing when full. */
#define CACHE_SLOTS 16384
#define CACHE_MAX_WORD 64

typedef struct centry {
    uint64_t hash;
    uint32_t key_off, key_len;
    uint32_t ids_off, ids_n;
} centry;

typedef struct cache {
    centry *slot; /* key_len 0 = empty (words are never empty) */
    size_t n;
    char *keys;
    size_t nk, ck;
    qgl_token *ids;
    size_t ni, ci;
} cache;

typedef struct work {
    sym *s;
    size_t cs;
    pair *h;
    size_t nh, ch;
    char *word;
    size_t cw;
    cache c;
} work;

static bool pair_less(const pair *a, const pair *b)
{
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static qg_status heap_push(work *w, pair p)
{
    if (w->nh == w->ch) {
        size_t nc = w->ch ? w->ch * 2 : 64;
        pair *nh = realloc(w->h, nc * sizeof(*nh));
        if (!nh)
            return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory (BPE queue)");
        w->h = nh;
        w->ch = nc;
    }
    size_t i = w->nh++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!pair_less(&p, &w->h[up]))
            break;
        w->h[i] = w->h[up];
        i = up;
    }
    w->h[i] = p;
    return QG_OK;
}

static pair heap_pop(work *w)
{
    pair top = w->h[0];
    pair last = w->h[--w->nh];
    size_t i = 0, n = w->nh;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && pair_less(&w->h[c + 1], &w->h[c]))
            c++;
        if (!pair_less(&w->h[c], &last))
            break;
        w->h[i] = w->h[c];
        i = c;
    }
    if (n > 0)
        w->h[i] = last;
    return top;
}

static qg_status try_pair(const qgl_tokenizer *t, work *w, int32_t l, int32_t r)
{
    if (l < 0 || r < 0)
        return QG_OK;
    const sym *a = &w->s[l], *b = &w->s[r];
    int32_t rank = qgl_pairmap_get(&t->merges, a->text, (size_t)a->n, b->text, (size_t)b->n);
    if (rank < 0)
        return QG_OK;
    pair p = {rank, l, r, a->n, b->n};
    return heap_push(w, p);
}

static qg_status emit_symbol(const qgl_tokenizer *t, const char *s, size_t n, qgl_tokens *out)
{
    int32_t id = qgl_strmap_get(&t->vocab, s, n);
    if (id >= 0)
        return qgl_tokens_push(out, id);
    /* not a token: fall back to one-byte tokens, dropping bytes that have none */
    for (size_t i = 0; i < n; i++) {
        int32_t b = qgl_strmap_get(&t->vocab, s + i, 1);
        if (b >= 0) {
            qg_status st = qgl_tokens_push(out, b);
            if (st != QG_OK)
                return st;
        }
    }
    return QG_OK;
}

/* Merge one byte-encoded word and append its ids. */
static qg_status bpe_word(const qgl_tokenizer *t, work *w, const char *word, size_t len,
                          qgl_tokens *out)
{
    if (len > w->cs) {
        sym *ns = realloc(w->s, len * sizeof(*ns));
        if (!ns)
            return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory (BPE symbols)");
        w->s = ns;
        w->cs = len;
    }
    int32_t n = 0;
    for (size_t off = 0; off < len;) {
        size_t cl = qgl_utf8_len((unsigned char)word[off]);
        if (cl > len - off)
            cl = len - off;
        w->s[n].text = word + off;
        w->s[n].n = (int32_t)cl;
        w->s[n].prev = n - 1;
        off += cl;
        w->s[n].next = off == len ? -1 : n + 1;
        n++;
    }
    w->nh = 0;
    qg_status st = QG_OK;
    for (int32_t i = 1; i < n && st == QG_OK; i++)
        st = try_pair(t, w, i - 1, i);
    while (st == QG_OK && w->nh > 0) {
        pair p = heap_pop(w);
        sym *a = &w->s[p.left], *b = &w->s[p.right];
        if (a->n == 0 || b->n == 0 || a->n != p.ln || b->n != p.rn)
            continue;
        a->n += b->n;
        b->n = 0;
        a->next = b->next;
        if (b->next >= 0)
            w->s[b->next].prev = p.left;
        st = try_pair(t, w, a->prev, p.left);
        if (st == QG_OK)
            st = try_pair(t, w, p.left, a->next);
    }
    for (int32_t i = 0; i < n && st == QG_OK; i++)
        if (w->s[i].n > 0)
            st = emit_symbol(t, w->s[i].text, (size_t)w->s[i].n, out);
    return st;
}

static uint64_t word_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h ^ (h >> 29);
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap : 1024;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np)
        return false;
    *p = np;
    *cap = nc;
    return true;
}

/* BPE with the cache in front: a hit appends the remembered ids. */
static qg_status cached_word(const qgl_tokenizer *t, work *w, const char *word, size_t len,
                             qgl_tokens *out)
{
    cache *c = &w->c;
    if (len > CACHE_MAX_WORD)
        return bpe_word(t, w, word, len, out);
    if (!c->slot) {
        c->slot = calloc(CACHE_SLOTS, sizeof(*c->slot));
        if (!c->slot)
            return bpe_word(t, w, word, len, out);
    }
    uint64_t h = word_hash(word, len);
    size_t i = (size_t)h & (CACHE_SLOTS - 1);
    while (c->slot[i].key_len) {
        centry *e = &c->slot[i];
        if (e->hash == h && e->key_len == len && memcmp(c->keys + e->key_off, word, len) == 0) {
            for (uint32_t k = 0; k < e->ids_n; k++) {
                qg_status st = qgl_tokens_push(out, c->ids[e->ids_off + k]);
                if (st != QG_OK)
                    return st;
            }
            return QG_OK;
        }
        i = (i + 1) & (CACHE_SLOTS - 1);
    }
    size_t before = out->n;
    qg_status st = bpe_word(t, w, word, len, out);
    size_t made = out->n - before;
    if (st != QG_OK || c->n >= CACHE_SLOTS / 2 ||
        !grow((void **)&c->keys, &c->ck, c->nk + len, 1) ||
        !grow((void **)&c->ids, &c->ci, c->ni + made, sizeof(*c->ids)))
        return st; /* not remembering it is fine */
    centry *e = &c->slot[i];
    *e = (centry){h, (uint32_t)c->nk, (uint32_t)len, (uint32_t)c->ni, (uint32_t)made};
    memcpy(c->keys + c->nk, word, len);
    memcpy(c->ids + c->ni, out->ids + before, made * sizeof(*c->ids));
    c->nk += len;
    c->ni += made;
    c->n++;
    return QG_OK;
}

/* Byte-encode code points [a, b) into w->word and run BPE on it. */
static qg_status encode_word(const qgl_tokenizer *t, work *w, const uint32_t *cps, size_t a,
                             size_t b, qgl_tokens *out)
{
    size_t need = (b - a) * 8;
    if (need > w->cw) {
        char *nw = realloc(w->word, need);
        if (!nw)
            return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory (word)");
        w->word = nw;
        w->cw = need;
    }
    size_t n = 0;
    for (size_t i = a; i < b; i++) {
        char u[4];
        size_t ul = qgl_utf8_encode(cps[i], u);
        for (size_t k = 0; k < ul; k++)
            n += qgl_byte_to_char((uint8_t)u[k], w->word + n);
    }
    return cached_word(t, w, w->word, n, out);
}

static uint32_t flags_at(const uint32_t *cps, size_t p, size_t end)
{
    return p < end ? qgl_cp_flags(cps[p]) : 0;
}

#define IS_OTHER(f) (((f) & (QGL_UF_WHITESPACE | QGL_UF_LETTER | QGL_UF_NUMBER)) == 0 && (f) != 0)

/* The GPT-2 pattern over cps[ini, end); each word goes to encode_word. */
static qg_status gpt2_split(const qgl_tokenizer *t, work *w, const uint32_t *cps, size_t ini,
                            size_t end, qgl_tokens *out)
{
    size_t pos = ini;
    while (pos < end) {
        uint32_t cp = cps[pos];
        size_t stop;
        if (cp == '\'' && pos + 1 < end) {
            uint32_t c1 = cps[pos + 1];
            if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
                qg_status st = encode_word(t, w, cps, pos, pos + 2, out);
                if (st != QG_OK)
                    return st;
                pos += 2;
                continue;
            }
            if (pos + 2 < end) {
                uint32_t c2 = cps[pos + 2];
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') ||
                    (c1 == 'l' && c2 == 'l')) {
                    qg_status st = encode_word(t, w, cps, pos, pos + 3, out);
                    if (st != QG_OK)
                        return st;
                    pos += 3;
                    continue;
                }
            }
        }
        size_t body = pos + (cp == ' ' ? 1 : 0);
        uint32_t f2 = flags_at(cps, body, end);
        if (cp != ' ')
            f2 = qgl_cp_flags(cp);
        if (f2 & QGL_UF_LETTER) {
            stop = body;
            while (flags_at(cps, stop, end) & QGL_UF_LETTER)
                stop++;
        } else if (f2 & QGL_UF_NUMBER) {
            stop = body;
            while (flags_at(cps, stop, end) & QGL_UF_NUMBER)
                stop++;
        } else if (IS_OTHER(f2)) {
            stop = body;
            for (;;) {
                uint32_t f = flags_at(cps, stop, end);
                if (!IS_OTHER(f))
                    break;
                stop++;
            }
        } else {
            size_t nws = 0;
            while (flags_at(cps, pos + nws, end) & QGL_UF_WHITESPACE)
                nws++;
            if (nws > 1 && pos + nws < end)
                stop = pos + nws - 1; /* \s+(?!\S): leave the last one for the next word */
            else if (nws > 0)
                stop = pos + nws;
            else
                stop = pos + 1;
        }
        qg_status st = encode_word(t, w, cps, pos, stop, out);
        if (st != QG_OK)
            return st;
        pos = stop;
    }
    return QG_OK;
}

/* \p{N} as llama.cpp evaluates it: ASCII digits, or a non-ASCII, non-space number. */
static bool splits_as_number(uint32_t cp)
{
    if (cp < 128)
        return cp >= '0' && cp <= '9';
    uint32_t f = qgl_cp_flags(cp);
    return !(f & QGL_UF_WHITESPACE) && (f & 0xFF) == QGL_UF_NUMBER;
}

qg_status qgl_bpe_tokenize(const qgl_tokenizer *t, const char *text, size_t len, qgl_tokens *out)
{
    if (len == 0)
        return QG_OK;
    uint32_t *cps = malloc(len * sizeof(*cps));
    if (!cps)
        return qg_set_error(QG_ERR_NO_MEMORY, "tokenizer: out of memory for %zu bytes of text",
                            len);
    size_t n = qgl_utf8_decode(text, len, cps);
    work w;
    memset(&w, 0, sizeof(w));
    qg_status st = QG_OK;
    size_t i = 0;
    while (i < n && st == QG_OK) {
        size_t j = i + 1;
        if (!splits_as_number(cps[i]))
            while (j < n && !splits_as_number(cps[j]))
                j++;
        st = gpt2_split(t, &w, cps, i, j, out);
        i = j;
    }
    free(w.s);
    free(w.h);
    free(w.word);
    free(w.c.slot);
    free(w.c.keys);
    free(w.c.ids);
    free(cps);
    return st;
}
