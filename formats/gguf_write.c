/* GGUF writer (v3). Key/values are kept as their encoded value bytes (so copying a kv
 * from an opened file, nested arrays included, is a byte copy); tensors are referenced.
 * Every argument is validated when it is added and again before the first byte is
 * written. Saving writes "<path>.tmp.<pid>" in the target directory, fsyncs it and
 * renames it over path; any failure removes the temporary file.
 *
 * Layout: header, kvs in insertion order (a replaced key keeps its place), tensor
 * infos in insertion order, zero padding to the alignment, then each tensor's data
 * padded to the alignment (the last one too, as ggml and gguf-py do).
 */
#define _POSIX_C_SOURCE 200809L
#include "formats/gguf_internal.h"
#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct wkv {
    char *key;
    qg_gguf_vtype type;
    uint8_t *raw; /* value encoding after the type field */
    size_t raw_size;
} wkv;

typedef struct wtensor {
    char *name;
    qg_type type;
    int n_dims;
    int64_t ne[4];
    const void *data;
    uint64_t size;
    uint64_t offset;
} wtensor;

struct qg_gguf_writer {
    wkv *kvs;
    size_t n_kv, cap_kv;
    wtensor *tensors;
    size_t n_tensors, cap_tensors;
};

qg_status qg_gguf_writer_new(qg_gguf_writer **out) {
    if (!out) return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: out is NULL");
    *out = qg_calloc(1, sizeof **out);
    return *out ? QG_OK : qg_set_error(QG_ERR_NO_MEMORY, "gguf writer: out of memory");
}

void qg_gguf_writer_free(qg_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        qg_free(w->kvs[i].key);
        qg_free(w->kvs[i].raw);
    }
    for (size_t i = 0; i < w->n_tensors; i++) qg_free(w->tensors[i].name);
    qg_free(w->kvs);
    qg_free(w->tensors);
    qg_free(w);
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t nc = *cap ? *cap * 2 : 16;
    void *q = qg_realloc(*p, nc * elem);
    if (!q) return false;
    *p = q;
    *cap = nc;
    return true;
}

/* Takes ownership of raw (freed on failure). */
static qg_status put_kv(qg_gguf_writer *w, const char *key, qg_gguf_vtype type, uint8_t *raw,
                        size_t raw_size) {
    if (!w || !key || !*key) {
        qg_free(raw);
        return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: NULL writer or empty key");
    }
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kvs[i].key, key) == 0) {
            qg_free(w->kvs[i].raw);
            w->kvs[i].type = type;
            w->kvs[i].raw = raw;
            w->kvs[i].raw_size = raw_size;
            return QG_OK;
        }
    }
    char *k = qg_strdup(key);
    if (!k || !grow((void **)&w->kvs, &w->cap_kv, w->n_kv + 1, sizeof *w->kvs)) {
        qg_free(k);
        qg_free(raw);
        return qg_set_error(QG_ERR_NO_MEMORY, "gguf writer: out of memory adding key '%s'", key);
    }
    w->kvs[w->n_kv++] = (wkv){k, type, raw, raw_size};
    return QG_OK;
}

static qg_status set_scalar(qg_gguf_writer *w, const char *key, qg_gguf_vtype t, const void *v) {
    size_t n = gguf_vtype_size(t);
    uint8_t *raw = qg_malloc(n);
    if (!raw) return qg_set_error(QG_ERR_NO_MEMORY, "gguf writer: out of memory");
    memcpy(raw, v, n);
    return put_kv(w, key, t, raw, n);
}

qg_status qg_gguf_set_u8(qg_gguf_writer *w, const char *k, uint8_t v) { return set_scalar(w, k, QG_GGUF_UINT8, &v); }
qg_status qg_gguf_set_i8(qg_gguf_writer *w, const char *k, int8_t v) { return set_scalar(w, k, QG_GGUF_INT8, &v); }
qg_status qg_gguf_set_u16(qg_gguf_writer *w, const char *k, uint16_t v) { return set_scalar(w, k, QG_GGUF_UINT16, &v); }
qg_status qg_gguf_set_i16(qg_gguf_writer *w, const char *k, int16_t v) { return set_scalar(w, k, QG_GGUF_INT16, &v); }
qg_status qg_gguf_set_u32(qg_gguf_writer *w, const char *k, uint32_t v) { return set_scalar(w, k, QG_GGUF_UINT32, &v); }
qg_status qg_gguf_set_i32(qg_gguf_writer *w, const char *k, int32_t v) { return set_scalar(w, k, QG_GGUF_INT32, &v); }
qg_status qg_gguf_set_u64(qg_gguf_writer *w, const char *k, uint64_t v) { return set_scalar(w, k, QG_GGUF_UINT64, &v); }
qg_status qg_gguf_set_i64(qg_gguf_writer *w, const char *k, int64_t v) { return set_scalar(w, k, QG_GGUF_INT64, &v); }
qg_status qg_gguf_set_f32(qg_gguf_writer *w, const char *k, float v) { return set_scalar(w, k, QG_GGUF_FLOAT32, &v); }
qg_status qg_gguf_set_f64(qg_gguf_writer *w, const char *k, double v) { return set_scalar(w, k, QG_GGUF_FLOAT64, &v); }

qg_status qg_gguf_set_bool(qg_gguf_writer *w, const char *k, bool v) {
    uint8_t b = v ? 1 : 0;
    return set_scalar(w, k, QG_GGUF_BOOL, &b);
}

qg_status qg_gguf_set_str(qg_gguf_writer *w, const char *key, const char *v) {
    if (!v) return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: NULL string for key '%s'", key ? key : "");
    uint64_t len = strlen(v);
    uint8_t *raw = qg_malloc(8 + len);
    if (!raw) return qg_set_error(QG_ERR_NO_MEMORY, "gguf writer: out of memory");
    memcpy(raw, &len, 8);
    memcpy(raw + 8, v, len);
    return put_kv(w, key, QG_GGUF_STRING, raw, 8 + len);
}

qg_status qg_gguf_set_arr(qg_gguf_writer *w, const char *key, qg_gguf_vtype type,
                          const void *data, uint64_t n) {
    size_t esz = gguf_vtype_size(type);
    uint64_t bytes;
    if (!esz)
        return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: key '%s': qg_gguf_set_arr needs a fixed-size element type, not %s",
                            key ? key : "", gguf_vtype_name(type));
    if (n && !data) return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: key '%s': NULL data", key ? key : "");
    if (!gguf_mul_u64(n, esz, &bytes) || bytes > SIZE_MAX - 12)
        return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: key '%s': array too large", key ? key : "");
    if (type == QG_GGUF_BOOL)
        for (uint64_t j = 0; j < n; j++)
            if (((const uint8_t *)data)[j] > 1)
                return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: key '%s': bool element %llu is not 0 or 1",
                                    key ? key : "", (unsigned long long)j);
    uint8_t *raw = qg_malloc(12 + (size_t)bytes);
    if (!raw) return qg_set_error(QG_ERR_NO_MEMORY, "gguf writer: out of memory");
    uint32_t et = (uint32_t)type;
    memcpy(raw, &et, 4);
    memcpy(raw + 4, &n, 8);
    if (bytes) memcpy(raw + 12, data, (size_t)bytes);
    return put_kv(w, key, QG_GGUF_ARRAY, raw, 12 + (size_t)bytes);
}

qg_status qg_gguf_set_arr_str(qg_gguf_writer *w, const char *key, const char *const *v, uint64_t n) {
    size_t total = 12;
    if (n && !v) return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: key '%s': NULL array", key ? key : "");
    for (uint64_t j = 0; j < n; j++) {
        if (!v[j])
            return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: key '%s': string %llu is NULL", key ? key : "",
                                (unsigned long long)j);
        size_t len = strlen(v[j]);
        if (total > SIZE_MAX - 8 - len) return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: array too large");
        total += 8 + len;
    }
    uint8_t *raw = qg_malloc(total), *p = raw;
    if (!raw) return qg_set_error(QG_ERR_NO_MEMORY, "gguf writer: out of memory");
    uint32_t et = QG_GGUF_STRING;
    memcpy(p, &et, 4);
    memcpy(p + 4, &n, 8);
    p += 12;
    for (uint64_t j = 0; j < n; j++) {
        uint64_t len = strlen(v[j]);
        memcpy(p, &len, 8);
        memcpy(p + 8, v[j], len);
        p += 8 + len;
    }
    return put_kv(w, key, QG_GGUF_ARRAY, raw, total);
}

qg_status qg_gguf_copy_kv(qg_gguf_writer *w, const qg_gguf *src) {
    if (!w || !src) return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: NULL writer or source");
    for (int64_t i = 0; i < src->n_kv; i++) {
        const gguf_kv *kv = &src->kvs[i];
        uint8_t *raw = qg_malloc(kv->raw_size ? kv->raw_size : 1);
        if (!raw) return qg_set_error(QG_ERR_NO_MEMORY, "gguf writer: out of memory copying '%s'", kv->key);
        memcpy(raw, kv->raw, kv->raw_size);
        qg_status st = put_kv(w, kv->key, kv->type, raw, kv->raw_size);
        if (st != QG_OK) return st;
    }
    return QG_OK;
}

qg_status qg_gguf_set_alignment(qg_gguf_writer *w, uint32_t alignment) {
    if (alignment == 0 || (alignment & (alignment - 1)))
        return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: alignment %u is not a nonzero power of two", alignment);
    return qg_gguf_set_u32(w, "general.alignment", alignment);
}

/* Shape/type check shared by add_tensor and save; computes the byte size. */
static qg_status check_tensor(const char *name, qg_type type, int n_dims, const int64_t *ne,
                              uint64_t *size) {
    const qg_type_traits *tt = qg_type_get(type);
    uint64_t nel = 1, row, rows;
    if (!tt) return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: tensor '%s': unknown type id %d", name, (int)type);
    if (n_dims < 1 || n_dims > 4 || !ne)
        return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: tensor '%s': n_dims %d is not in 1..4", name, n_dims);
    for (int d = 0; d < n_dims; d++) {
        if (ne[d] < 0) return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: tensor '%s': ne[%d] = %lld is negative", name, d, (long long)ne[d]);
        if (!gguf_mul_u64(nel, (uint64_t)ne[d], &nel) || nel > (uint64_t)INT64_MAX)
            return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: tensor '%s': element count overflows", name);
    }
    if (ne[0] % tt->block_size)
        return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: tensor '%s': row length %lld is not a multiple of the block size %lld of %s",
                            name, (long long)ne[0], (long long)tt->block_size, tt->name);
    rows = ne[0] ? nel / (uint64_t)ne[0] : 0;
    if (!gguf_mul_u64((uint64_t)(ne[0] / tt->block_size), tt->type_size, &row) || !gguf_mul_u64(row, rows, size))
        return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: tensor '%s': byte size overflows", name);
    return QG_OK;
}

qg_status qg_gguf_add_tensor(qg_gguf_writer *w, const char *name, qg_type type, int n_dims,
                             const int64_t *ne, const void *data) {
    uint64_t size;
    if (!w || !name || !*name) return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: NULL writer or empty tensor name");
    qg_status st = check_tensor(name, type, n_dims, ne, &size);
    if (st != QG_OK) return st;
    if (size && !data) return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: tensor '%s': NULL data", name);
    for (size_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: duplicate tensor name '%s'", name);
    char *nm = qg_strdup(name);
    if (!nm || !grow((void **)&w->tensors, &w->cap_tensors, w->n_tensors + 1, sizeof *w->tensors)) {
        qg_free(nm);
        return qg_set_error(QG_ERR_NO_MEMORY, "gguf writer: out of memory adding tensor '%s'", name);
    }
    wtensor *t = &w->tensors[w->n_tensors++];
    *t = (wtensor){nm, type, n_dims, {1, 1, 1, 1}, data, size, 0};
    for (int d = 0; d < n_dims; d++) t->ne[d] = ne[d];
    return QG_OK;
}

/* Buffered output to a file descriptor; the first error sticks. */
typedef struct out {
    int fd;
    int err;
    size_t n;
    uint8_t buf[1 << 16];
} out;

static void out_flush(out *o) {
    size_t done = 0;
    while (!o->err && done < o->n) {
        ssize_t k = write(o->fd, o->buf + done, o->n - done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) o->err = k < 0 ? errno : EIO;
        else done += (size_t)k;
    }
    o->n = 0;
}

static void out_put(out *o, const void *p, uint64_t n) {
    const uint8_t *s = p;
    while (n && !o->err) {
        if (o->n == sizeof o->buf) out_flush(o);
        size_t k = sizeof o->buf - o->n;
        if (k > n) k = (size_t)n;
        memcpy(o->buf + o->n, s, k);
        o->n += k;
        s += k;
        n -= k;
    }
}

static void out_u32(out *o, uint32_t v) { out_put(o, &v, 4); }
static void out_u64(out *o, uint64_t v) { out_put(o, &v, 8); }
static void out_zeros(out *o, uint64_t n) {
    static const uint8_t z[64];
    while (n) {
        uint64_t k = n < sizeof z ? n : sizeof z;
        out_put(o, z, k);
        n -= k;
    }
}

/* Alignment from the general.alignment kv (the single source of truth). */
static qg_status writer_alignment(const qg_gguf_writer *w, uint64_t *align) {
    *align = QG_GGUF_DEFAULT_ALIGNMENT;
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kvs[i].key, "general.alignment") != 0) continue;
        uint32_t a = 0;
        if (w->kvs[i].type == QG_GGUF_UINT32) memcpy(&a, w->kvs[i].raw, 4);
        if (a == 0 || (a & (a - 1)))
            return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: general.alignment must be a u32 nonzero power of two");
        *align = a;
    }
    return QG_OK;
}

static void write_all(out *o, qg_gguf_writer *w, uint64_t align) {
    uint64_t pos = 24;
    out_put(o, GGUF_MAGIC, 4);
    out_u32(o, GGUF_VERSION_WRITE);
    out_u64(o, w->n_tensors);
    out_u64(o, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        uint64_t len = strlen(w->kvs[i].key);
        out_u64(o, len);
        out_put(o, w->kvs[i].key, len);
        out_u32(o, (uint32_t)w->kvs[i].type);
        out_put(o, w->kvs[i].raw, w->kvs[i].raw_size);
        pos += 12 + len + w->kvs[i].raw_size;
    }
    for (size_t i = 0; i < w->n_tensors; i++) {
        const wtensor *t = &w->tensors[i];
        uint64_t len = strlen(t->name);
        out_u64(o, len);
        out_put(o, t->name, len);
        out_u32(o, (uint32_t)t->n_dims);
        for (int d = 0; d < t->n_dims; d++) out_u64(o, (uint64_t)t->ne[d]);
        out_u32(o, (uint32_t)t->type);
        out_u64(o, t->offset);
        pos += 8 + len + 4 + 8 * (uint64_t)t->n_dims + 4 + 8;
    }
    out_zeros(o, (align - pos % align) % align);
    for (size_t i = 0; i < w->n_tensors; i++) {
        const wtensor *t = &w->tensors[i];
        if (t->size && o->n) out_flush(o);
        if (t->size && !o->err) { /* large data goes straight to the file */
            size_t done = 0;
            while (!o->err && done < t->size) {
                ssize_t k = write(o->fd, (const uint8_t *)t->data + done, t->size - done);
                if (k < 0 && errno == EINTR) continue;
                if (k <= 0) o->err = k < 0 ? errno : EIO;
                else done += (size_t)k;
            }
        }
        out_zeros(o, (align - t->size % align) % align);
    }
    out_flush(o);
}

/* Best effort: make the rename itself durable. */
static void fsync_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

qg_status qg_gguf_writer_save(qg_gguf_writer *w, const char *path) {
    uint64_t align, off = 0;
    if (!w || !path || !*path) return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: NULL writer or empty path");
    qg_status st = writer_alignment(w, &align);
    if (st != QG_OK) return st;
    for (size_t i = 0; i < w->n_tensors; i++) { /* re-check everything before writing */
        wtensor *t = &w->tensors[i];
        uint64_t size;
        if ((st = check_tensor(t->name, t->type, t->n_dims, t->ne, &size)) != QG_OK) return st;
        t->offset = off;
        if (!gguf_add_u64(off, size, &off) || !gguf_align_u64(off, align, &off))
            return qg_set_error(QG_ERR_INVALID_ARG, "gguf writer: total tensor data size overflows");
    }
    size_t tlen = strlen(path) + 32;
    char *tmp = qg_malloc(tlen);
    out *o = qg_malloc(sizeof *o);
    if (!tmp || !o) {
        qg_free(tmp);
        qg_free(o);
        return qg_set_error(QG_ERR_NO_MEMORY, "gguf writer: out of memory");
    }
    snprintf(tmp, tlen, "%s.tmp.%ld", path, (long)getpid());
    o->err = 0;
    o->n = 0;
    o->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (o->fd < 0) {
        st = qg_set_error(QG_ERR_IO, "gguf writer: cannot create %s: %s", tmp, strerror(errno));
    } else {
        write_all(o, w, align);
        if (!o->err && fsync(o->fd) != 0) o->err = errno;
        if (close(o->fd) != 0 && !o->err) o->err = errno;
        if (o->err) st = qg_set_error(QG_ERR_IO, "gguf writer: cannot write %s: %s", tmp, strerror(o->err));
        else if (rename(tmp, path) != 0)
            st = qg_set_error(QG_ERR_IO, "gguf writer: cannot rename %s to %s: %s", tmp, path, strerror(errno));
        if (st != QG_OK) unlink(tmp);
        else fsync_dir(path);
    }
    qg_free(tmp);
    qg_free(o);
    return st;
}
