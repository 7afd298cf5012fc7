/* safetensors writer: collects tensors (by reference) and metadata, then saves.
 *
 * The header is written by hand (no JSON library needed): "__metadata__" first when
 * there is any, then the tensors in insertion order with data offsets in the same order,
 * so the data section is the tensors back to back. The header is padded with spaces so
 * that the data section starts at a multiple of 8 bytes, as the reference writer does.
 * Names, keys and values must be valid UTF-8 (JSON strings); they are escaped as needed.
 * Saving writes "<path>.tmp.<pid>", fsyncs it and renames it over path; on any failure the
 * temporary file is removed and path is untouched.
 */
#define _POSIX_C_SOURCE 200809L
#include "formats/st_internal.h"
#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct wtensor {
    char *name;
    const st_dtype_row *dt;
    int n_dims;
    int64_t shape[QG_ST_MAX_DIMS];
    uint64_t size;
    const void *data;
} wtensor;

struct qg_st_writer {
    wtensor *t;
    int64_t n, cap;
    char **mk, **mv;
    int64_t n_meta, cap_meta;
};

/* Growable text buffer; `err` sticks after the first allocation failure. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    int err;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
    if (b->err) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *np = qg_realloc(b->p, cap);
        if (!np) {
            b->err = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

static void put_json_str(sbuf *b, const char *s) {
    put(b, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        char esc[8];
        if (*c == '"' || *c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*c;
            put(b, esc, 2);
        } else if (*c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *c);
            put(b, esc, 6);
        } else {
            put(b, (const char *)c, 1);
        }
    }
    put(b, "\"", 1);
}

/* Strict UTF-8 check (no overlongs, no surrogates, <= U+10FFFF). */
static int valid_utf8(const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned c = *s, n, min, cp;
        if (c < 0x80) { s++; continue; }
        if ((c & 0xE0) == 0xC0) { n = 1; min = 0x80; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { n = 2; min = 0x800; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { n = 3; min = 0x10000; cp = c & 0x07; }
        else return 0;
        for (unsigned i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        s += n + 1;
    }
    return 1;
}

qg_status qg_st_writer_new(qg_st_writer **out) {
    if (!out) return qg_set_error(QG_ERR_INVALID_ARG, "safetensors writer: out is NULL");
    *out = qg_calloc(1, sizeof **out);
    return *out ? QG_OK : qg_set_error(QG_ERR_NO_MEMORY, "safetensors writer: out of memory");
}

void qg_st_writer_free(qg_st_writer *w) {
    if (!w) return;
    for (int64_t i = 0; i < w->n; i++) qg_free(w->t[i].name);
    qg_free(w->t);
    for (int64_t i = 0; i < w->n_meta; i++) {
        qg_free(w->mk[i]);
        qg_free(w->mv[i]);
    }
    qg_free(w->mk);
    qg_free(w->mv);
    qg_free(w);
}

qg_status qg_st_writer_meta(qg_st_writer *w, const char *key, const char *value) {
    if (!w || !key || !value) return qg_set_error(QG_ERR_INVALID_ARG, "safetensors writer: NULL argument to qg_st_writer_meta");
    if (!valid_utf8(key) || !valid_utf8(value))
        return qg_set_error(QG_ERR_INVALID_ARG, "safetensors writer: metadata key '%.64s' or its value is not valid UTF-8", key);
    for (int64_t i = 0; i < w->n_meta; i++)
        if (strcmp(w->mk[i], key) == 0)
            return qg_set_error(QG_ERR_INVALID_ARG, "safetensors writer: metadata key '%.128s' set twice", key);
    if (w->n_meta == w->cap_meta) {
        int64_t cap = w->cap_meta ? 2 * w->cap_meta : 8;
        char **nk = qg_realloc(w->mk, (size_t)cap * sizeof *nk);
        if (!nk) return qg_set_error(QG_ERR_NO_MEMORY, "safetensors writer: out of memory");
        w->mk = nk;
        char **nv = qg_realloc(w->mv, (size_t)cap * sizeof *nv);
        if (!nv) return qg_set_error(QG_ERR_NO_MEMORY, "safetensors writer: out of memory");
        w->mv = nv;
        w->cap_meta = cap;
    }
    char *k = qg_strdup(key), *v = qg_strdup(value);
    if (!k || !v) {
        qg_free(k);
        qg_free(v);
        return qg_set_error(QG_ERR_NO_MEMORY, "safetensors writer: out of memory");
    }
    w->mk[w->n_meta] = k;
    w->mv[w->n_meta] = v;
    w->n_meta++;
    return QG_OK;
}

qg_status qg_st_writer_add(qg_st_writer *w, const char *name, qg_st_dtype dtype, int n_dims,
                           const int64_t *shape, const void *data) {
    if (!w || !name) return qg_set_error(QG_ERR_INVALID_ARG, "safetensors writer: NULL writer or name");
    if (!name[0] || strcmp(name, "__metadata__") == 0 || !valid_utf8(name))
        return qg_set_error(QG_ERR_INVALID_ARG, "safetensors writer: invalid tensor name '%.128s' (empty, reserved or not UTF-8)", name);
    const st_dtype_row *dt = st_dtype_row_of(dtype);
    if (!dt) return qg_set_error(QG_ERR_INVALID_ARG, "safetensors writer: tensor '%.128s': unknown dtype %d", name, (int)dtype);
    if (n_dims < 0 || n_dims > QG_ST_MAX_DIMS || (n_dims && !shape))
        return qg_set_error(QG_ERR_INVALID_ARG, "safetensors writer: tensor '%.128s': n_dims %d is not in 0..%d (or shape is NULL)",
                            name, n_dims, QG_ST_MAX_DIMS);
    uint64_t nel = 1, size;
    for (int d = 0; d < n_dims; d++) {
        if (shape[d] < 0)
            return qg_set_error(QG_ERR_INVALID_ARG, "safetensors writer: tensor '%.128s': shape[%d] = %lld is negative", name, d,
                                (long long)shape[d]);
        if (!st_mul_u64(nel, (uint64_t)shape[d], &nel) || nel > (uint64_t)INT64_MAX)
            return qg_set_error(QG_ERR_INVALID_ARG, "safetensors writer: tensor '%.128s': element count overflows", name);
    }
    if (!st_mul_u64(nel, dt->size, &size) || size > (uint64_t)INT64_MAX)
        return qg_set_error(QG_ERR_INVALID_ARG, "safetensors writer: tensor '%.128s': byte size overflows", name);
    if (size && !data) return qg_set_error(QG_ERR_INVALID_ARG, "safetensors writer: tensor '%.128s': data is NULL", name);
    for (int64_t i = 0; i < w->n; i++)
        if (strcmp(w->t[i].name, name) == 0)
            return qg_set_error(QG_ERR_INVALID_ARG, "safetensors writer: tensor '%.128s' added twice", name);
    if (w->n == w->cap) {
        int64_t cap = w->cap ? 2 * w->cap : 16;
        wtensor *nt = qg_realloc(w->t, (size_t)cap * sizeof *nt);
        if (!nt) return qg_set_error(QG_ERR_NO_MEMORY, "safetensors writer: out of memory");
        w->t = nt;
        w->cap = cap;
    }
    wtensor *t = &w->t[w->n];
    memset(t, 0, sizeof *t);
    if (!(t->name = qg_strdup(name))) return qg_set_error(QG_ERR_NO_MEMORY, "safetensors writer: out of memory");
    t->dt = dt;
    t->n_dims = n_dims;
    for (int d = 0; d < n_dims; d++) t->shape[d] = shape[d];
    t->size = size;
    t->data = data;
    w->n++;
    return QG_OK;
}

/* Header JSON padded with spaces so that 8 + length is a multiple of 8. */
static qg_status build_header(const qg_st_writer *w, sbuf *b) {
    char num[64];
    uint64_t off = 0;
    puts_(b, "{");
    if (w->n_meta) {
        puts_(b, "\"__metadata__\":{");
        for (int64_t i = 0; i < w->n_meta; i++) {
            if (i) puts_(b, ",");
            put_json_str(b, w->mk[i]);
            puts_(b, ":");
            put_json_str(b, w->mv[i]);
        }
        puts_(b, "}");
    }
    for (int64_t i = 0; i < w->n; i++) {
        const wtensor *t = &w->t[i];
        if (i || w->n_meta) puts_(b, ",");
        put_json_str(b, t->name);
        puts_(b, ":{\"dtype\":\"");
        puts_(b, t->dt->name);
        puts_(b, "\",\"shape\":[");
        for (int d = 0; d < t->n_dims; d++) {
            snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)t->shape[d]);
            puts_(b, num);
        }
        uint64_t end;
        if (!st_add_u64(off, t->size, &end))
            return qg_set_error(QG_ERR_INVALID_ARG, "safetensors writer: total data size overflows");
        snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off, (unsigned long long)end);
        puts_(b, num);
        off = end;
    }
    puts_(b, "}");
    while (!b->err && b->len % 8) puts_(b, " ");
    if (b->err) return qg_set_error(QG_ERR_NO_MEMORY, "safetensors writer: out of memory building the header");
    return QG_OK;
}

static int write_all(int fd, const void *p, uint64_t n) {
    const char *c = p;
    while (n) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : (size_t)n;
        ssize_t k = write(fd, c, chunk);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return k == 0 ? EIO : errno;
        c += k;
        n -= (uint64_t)k;
    }
    return 0;
}

qg_status qg_st_writer_save(qg_st_writer *w, const char *path) {
    if (!w || !path) return qg_set_error(QG_ERR_INVALID_ARG, "safetensors writer: NULL writer or path");
    sbuf b = {0};
    qg_status st = build_header(w, &b);
    if (st != QG_OK) {
        qg_free(b.p);
        return st;
    }
    size_t tlen = strlen(path) + 32;
    char *tmp = qg_malloc(tlen);
    if (!tmp) {
        qg_free(b.p);
        return qg_set_error(QG_ERR_NO_MEMORY, "safetensors writer: out of memory");
    }
    snprintf(tmp, tlen, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        st = qg_set_error(QG_ERR_IO, "safetensors writer: cannot create %s: %s", tmp, strerror(errno));
        qg_free(tmp);
        qg_free(b.p);
        return st;
    }
    uint64_t hlen = b.len;
    int err = write_all(fd, &hlen, 8);
    if (!err) err = write_all(fd, b.p, b.len);
    for (int64_t i = 0; i < w->n && !err; i++)
        if (w->t[i].size) err = write_all(fd, w->t[i].data, w->t[i].size);
    if (!err && fsync(fd) != 0) err = errno;
    if (close(fd) != 0 && !err) err = errno;
    if (err) st = qg_set_error(QG_ERR_IO, "safetensors writer: cannot write %s: %s", tmp, strerror(err));
    else if (rename(tmp, path) != 0)
        st = qg_set_error(QG_ERR_IO, "safetensors writer: cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (st != QG_OK) unlink(tmp);
    qg_free(tmp);
    qg_free(b.p);
    return st;
}
