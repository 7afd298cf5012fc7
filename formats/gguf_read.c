/* GGUF reader: maps a file (or takes a caller's buffer) and validates the whole header
 * before handing out a handle. Every byte is read through one bounds-checked cursor;
 * every count read from the file (kvs, tensors, array elements, string lengths) is
 * compared with the bytes left before anything sized by it is allocated.
 *
 * Decisions beyond what the format spells out:
 * - v1 (u32 counts) and byte-swapped (big-endian) files are rejected with a message.
 * - Keys and tensor names must be non-empty and free of NUL bytes (we hand out
 *   NUL-terminated copies). Arrays may nest at most GGUF_MAX_NESTING levels.
 * - A dimension of 0 is accepted, as ggml accepts it: the tensor has 0 bytes and
 *   data == NULL. Dimensions above INT64_MAX ("negative") are rejected.
 * - Zero-sized tensors are ignored by the overlap check.
 */
#define _POSIX_C_SOURCE 200809L
#include "formats/gguf_internal.h"
#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Smallest possible encodings, used to bound counts before allocating. */
#define KV_MIN_BYTES 14u     /* key length 8 + key 1 + type 4 + value 1 */
#define TENSOR_MIN_BYTES 33u /* name length 8 + name 1 + n_dims 4 + ne 8 + type 4 + offset 8 */

typedef struct cursor {
    const uint8_t *base;
    uint64_t size;
    uint64_t pos;
    const char *file;
} cursor;

static qg_status fail(const cursor *c, const char *fmt, ...) QG_PRINTF(2, 3);
static qg_status fail(const cursor *c, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return qg_set_error(QG_ERR_FORMAT, "gguf: %s: %s", c->file, msg);
}

static uint64_t left(const cursor *c) { return c->size - c->pos; }

/* The only place that advances through the buffer. `what` names the field. */
static qg_status take(cursor *c, uint64_t n, const uint8_t **out, const char *what) {
    if (n > left(c))
        return fail(c, "truncated: %s needs %llu bytes at offset %llu but only %llu remain", what,
                    (unsigned long long)n, (unsigned long long)c->pos, (unsigned long long)left(c));
    *out = c->base + c->pos;
    c->pos += n;
    return QG_OK;
}

static qg_status rd_u32(cursor *c, uint32_t *v, const char *what) {
    const uint8_t *p = NULL;
    qg_status st = take(c, 4, &p, what);
    if (st == QG_OK) memcpy(v, p, 4);
    return st;
}

static qg_status rd_u64(cursor *c, uint64_t *v, const char *what) {
    const uint8_t *p = NULL;
    qg_status st = take(c, 8, &p, what);
    if (st == QG_OK) memcpy(v, p, 8);
    return st;
}

/* A string: u64 length (checked against the bytes left) then the bytes. */
static qg_status rd_str(cursor *c, uint64_t *len, const uint8_t **data, const char *what) {
    qg_status st = rd_u64(c, len, what);
    if (st != QG_OK) return st;
    if (*len > left(c))
        return fail(c, "%s: string length %llu at offset %llu exceeds the %llu bytes left", what,
                    (unsigned long long)*len, (unsigned long long)(c->pos - 8),
                    (unsigned long long)left(c));
    return take(c, *len, data, what);
}

/* Parses one value of type t. kv is NULL for elements of nested arrays. */
static qg_status parse_value(cursor *c, uint32_t t, int depth, const char *key, gguf_kv *kv) {
    qg_status st;
    const uint8_t *p = NULL;
    if (t >= GGUF_N_VTYPES) return fail(c, "%s: invalid value type %u", key, t);
    size_t sz = gguf_vtype_size((qg_gguf_vtype)t);
    if (sz) {
        if ((st = take(c, sz, &p, key)) != QG_OK) return st;
        if (t == QG_GGUF_BOOL && *p > 1) return fail(c, "%s: bool value %u is not 0 or 1", key, *p);
        if (kv) kv->data = p;
        return QG_OK;
    }
    if (t == QG_GGUF_STRING) {
        uint64_t len;
        if ((st = rd_str(c, &len, &p, key)) != QG_OK) return st;
        if (kv) kv->data = p;
        return QG_OK;
    }
    /* array */
    if (depth >= GGUF_MAX_NESTING)
        return fail(c, "%s: arrays nested deeper than %d levels", key, GGUF_MAX_NESTING);
    uint32_t et;
    uint64_t n;
    if ((st = rd_u32(c, &et, key)) != QG_OK) return st;
    if (et >= GGUF_N_VTYPES) return fail(c, "%s: invalid array element type %u", key, et);
    if ((st = rd_u64(c, &n, key)) != QG_OK) return st;
    size_t esz = gguf_vtype_size((qg_gguf_vtype)et);
    uint64_t min = esz ? esz : et == QG_GGUF_STRING ? 8 : 12;
    if (n > left(c) / min)
        return fail(c, "%s: array count %llu of %s is more than the %llu bytes left could hold",
                    key, (unsigned long long)n, gguf_vtype_name((qg_gguf_vtype)et),
                    (unsigned long long)left(c));
    if (kv) {
        kv->arr_type = (qg_gguf_vtype)et;
        kv->n = n;
    }
    if (esz) {
        if ((st = take(c, n * esz, &p, key)) != QG_OK) return st;
        if (et == QG_GGUF_BOOL)
            for (uint64_t j = 0; j < n; j++)
                if (p[j] > 1)
                    return fail(c, "%s: bool element %llu is %u, not 0 or 1", key,
                                (unsigned long long)j, p[j]);
        if (kv) kv->data = p;
        return QG_OK;
    }
    if (kv) kv->data = c->base + c->pos;
    if (et == QG_GGUF_STRING && kv && n) {
        kv->str_off = qg_malloc(n * sizeof *kv->str_off); /* n <= bytes left / 8 */
        if (!kv->str_off) return qg_set_error(QG_ERR_NO_MEMORY, "gguf: %s: out of memory for key '%s'", c->file, key);
    }
    for (uint64_t j = 0; j < n; j++) {
        if (et == QG_GGUF_STRING) {
            uint64_t len;
            if (kv) kv->str_off[j] = c->pos;
            st = rd_str(c, &len, &p, key);
        } else {
            st = parse_value(c, QG_GGUF_ARRAY, depth + 1, key, NULL);
        }
        if (st != QG_OK) return st;
    }
    return QG_OK;
}

static qg_status parse_kv(cursor *c, qg_gguf *f, int64_t i) {
    char what[64];
    uint64_t len;
    const uint8_t *p = NULL;
    qg_status st;
    gguf_kv *kv = &f->kvs[i];
    snprintf(what, sizeof what, "key %lld", (long long)i);
    if ((st = rd_str(c, &len, &p, what)) != QG_OK) return st;
    if (len == 0) return fail(c, "key %lld is empty", (long long)i);
    if (memchr(p, 0, len)) return fail(c, "key %lld contains a NUL byte", (long long)i);
    if (!(kv->key = qg_malloc(len + 1)))
        return qg_set_error(QG_ERR_NO_MEMORY, "gguf: %s: out of memory for key %lld", c->file, (long long)i);
    memcpy(kv->key, p, len);
    kv->key[len] = '\0';
    f->n_kv = i + 1; /* owned from here on */
    char label[160];
    snprintf(label, sizeof label, "key '%.128s'", kv->key);
    uint32_t t;
    if ((st = rd_u32(c, &t, label)) != QG_OK) return st;
    kv->type = (qg_gguf_vtype)t;
    kv->arr_type = GGUF_VTYPE_INVALID;
    kv->n = 1;
    kv->raw = c->base + c->pos;
    if ((st = parse_value(c, t, 0, label, kv)) != QG_OK) return st;
    kv->raw_size = (uint64_t)(c->base + c->pos - kv->raw);
    return QG_OK;
}

static qg_status parse_tensor_info(cursor *c, qg_gguf *f, int64_t i) {
    char what[64];
    uint64_t len;
    const uint8_t *p = NULL;
    qg_status st;
    qg_gguf_tensor_info *ti = &f->tensors[i];
    snprintf(what, sizeof what, "name of tensor %lld", (long long)i);
    if ((st = rd_str(c, &len, &p, what)) != QG_OK) return st;
    if (len == 0) return fail(c, "tensor %lld has an empty name", (long long)i);
    if (memchr(p, 0, len)) return fail(c, "tensor %lld: name contains a NUL byte", (long long)i);
    char *name = qg_malloc(len + 1);
    if (!name) return qg_set_error(QG_ERR_NO_MEMORY, "gguf: %s: out of memory for tensor %lld", c->file, (long long)i);
    memcpy(name, p, len);
    name[len] = '\0';
    ti->name = name;
    f->n_tensors = i + 1;
    char label[160];
    snprintf(label, sizeof label, "tensor '%.128s'", name);

    uint32_t n_dims, type;
    if ((st = rd_u32(c, &n_dims, label)) != QG_OK) return st;
    if (n_dims < 1 || n_dims > 4) return fail(c, "tensor '%s': n_dims %u is not in 1..4", name, n_dims);
    ti->n_dims = (int)n_dims;
    uint64_t nel = 1;
    for (int d = 0; d < 4; d++) ti->ne[d] = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        uint64_t ne;
        if ((st = rd_u64(c, &ne, label)) != QG_OK) return st;
        if (ne > (uint64_t)INT64_MAX)
            return fail(c, "tensor '%s': ne[%u] = %llu is negative as int64", name, d, (unsigned long long)ne);
        ti->ne[d] = (int64_t)ne;
        if (!gguf_mul_u64(nel, ne, &nel) || nel > (uint64_t)INT64_MAX)
            return fail(c, "tensor '%s': element count overflows int64 at ne[%u]", name, d);
    }
    if ((st = rd_u32(c, &type, label)) != QG_OK) return st;
    const qg_type_traits *tt = type <= (uint32_t)INT32_MAX ? qg_type_get((qg_type)type) : NULL;
    if (!tt) return fail(c, "tensor '%s': unknown or retired type id %u", name, type);
    ti->type = (qg_type)type;
    if (ti->ne[0] % tt->block_size != 0)
        return fail(c, "tensor '%s': row length %lld is not a multiple of the block size %lld of %s", name,
                    (long long)ti->ne[0], (long long)tt->block_size, tt->name);
    /* qg_row_size(type, ne0) * rows, computed from the same table row with overflow checks */
    uint64_t row, rows = nel && ti->ne[0] ? nel / (uint64_t)ti->ne[0] : 0;
    if (!gguf_mul_u64((uint64_t)(ti->ne[0] / tt->block_size), tt->type_size, &row) ||
        !gguf_mul_u64(row, rows, &ti->size))
        return fail(c, "tensor '%s': byte size overflows", name);
    return rd_u64(c, &ti->offset, label);
}

static const char *kv_name(const void *ctx, int64_t i) { return ((const qg_gguf *)ctx)->kvs[i].key; }
static const char *tensor_name(const void *ctx, int64_t i) { return ((const qg_gguf *)ctx)->tensors[i].name; }

static qg_status read_alignment(cursor *c, qg_gguf *f) {
    f->alignment = QG_GGUF_DEFAULT_ALIGNMENT;
    int64_t i = gguf_index_find(&f->kv_index, "general.alignment", kv_name, f);
    if (i < 0) return QG_OK;
    const gguf_kv *kv = &f->kvs[i];
    if (kv->type != QG_GGUF_UINT32)
        return fail(c, "key 'general.alignment' is %s, not u32", gguf_vtype_name(kv->type));
    uint32_t a;
    memcpy(&a, kv->data, 4);
    if (a == 0 || (a & (a - 1)) != 0)
        return fail(c, "key 'general.alignment' = %u is not a nonzero power of two", a);
    f->alignment = a;
    return QG_OK;
}

static int by_offset(const void *a, const void *b) {
    uint64_t x = (*(const qg_gguf_tensor_info *const *)a)->offset;
    uint64_t y = (*(const qg_gguf_tensor_info *const *)b)->offset;
    return x < y ? -1 : x > y;
}

/* Offsets aligned, data inside the file, no two non-empty tensors overlapping. */
static qg_status check_tensor_data(cursor *c, qg_gguf *f) {
    uint64_t data_size = f->data_offset <= f->size ? f->size - f->data_offset : 0;
    int64_t n_nonempty = 0;
    for (int64_t i = 0; i < f->n_tensors; i++) {
        qg_gguf_tensor_info *ti = &f->tensors[i];
        uint64_t end;
        if (ti->offset % f->alignment)
            return fail(c, "tensor '%s': offset %llu is not a multiple of the alignment %llu", ti->name,
                        (unsigned long long)ti->offset, (unsigned long long)f->alignment);
        if (!gguf_add_u64(ti->offset, ti->size, &end) || end > data_size)
            return fail(c, "tensor '%s': data at offset %llu, %llu bytes, lies outside the data section (%llu bytes)",
                        ti->name, (unsigned long long)ti->offset, (unsigned long long)ti->size,
                        (unsigned long long)data_size);
        ti->data = ti->size ? f->base + f->data_offset + ti->offset : NULL;
        if (ti->size) n_nonempty++;
    }
    if (n_nonempty < 2) return QG_OK;
    const qg_gguf_tensor_info **order = qg_malloc((size_t)n_nonempty * sizeof *order);
    if (!order) return qg_set_error(QG_ERR_NO_MEMORY, "gguf: %s: out of memory", c->file);
    int64_t k = 0;
    for (int64_t i = 0; i < f->n_tensors; i++)
        if (f->tensors[i].size) order[k++] = &f->tensors[i];
    qsort(order, (size_t)n_nonempty, sizeof *order, by_offset);
    qg_status st = QG_OK;
    for (k = 1; k < n_nonempty && st == QG_OK; k++)
        if (order[k]->offset < order[k - 1]->offset + order[k - 1]->size)
            st = fail(c, "tensors '%s' (offset %llu, %llu bytes) and '%s' (offset %llu) overlap",
                      order[k - 1]->name, (unsigned long long)order[k - 1]->offset,
                      (unsigned long long)order[k - 1]->size, order[k]->name,
                      (unsigned long long)order[k]->offset);
    qg_free(order);
    return st;
}

static qg_status parse(cursor *c, qg_gguf *f) {
    const uint8_t *p = NULL;
    qg_status st;
    int64_t da, db;
    if ((st = take(c, 4, &p, "magic")) != QG_OK) return st;
    if (memcmp(p, GGUF_MAGIC, 4) != 0)
        return fail(c, "bad magic %02x %02x %02x %02x (expected \"GGUF\")", p[0], p[1], p[2], p[3]);
    if ((st = rd_u32(c, &f->version, "version")) != QG_OK) return st;
    if (f->version == 1) return fail(c, "GGUF version 1 is not supported (only 2 and 3)");
    if (f->version == 0x02000000u || f->version == 0x03000000u)
        return fail(c, "big-endian GGUF files are not supported");
    if (f->version != 2 && f->version != 3)
        return fail(c, "unsupported GGUF version %u (only 2 and 3)", f->version);
    uint64_t n_tensors, n_kv;
    if ((st = rd_u64(c, &n_tensors, "tensor count")) != QG_OK) return st;
    if ((st = rd_u64(c, &n_kv, "kv count")) != QG_OK) return st;
    if (n_kv > left(c) / KV_MIN_BYTES || n_tensors > left(c) / TENSOR_MIN_BYTES ||
        n_kv * KV_MIN_BYTES + n_tensors * TENSOR_MIN_BYTES > left(c))
        return fail(c, "header claims %llu kvs and %llu tensors, more than the %llu bytes left could hold",
                    (unsigned long long)n_kv, (unsigned long long)n_tensors, (unsigned long long)left(c));
    if (n_kv && !(f->kvs = qg_calloc(n_kv, sizeof *f->kvs)))
        return qg_set_error(QG_ERR_NO_MEMORY, "gguf: %s: out of memory for %llu kvs", c->file, (unsigned long long)n_kv);
    for (uint64_t i = 0; i < n_kv; i++)
        if ((st = parse_kv(c, f, (int64_t)i)) != QG_OK) return st;
    if ((st = gguf_index_build(&f->kv_index, f->n_kv, kv_name, f, &da, &db)) != QG_OK) return st;
    if (da >= 0) return fail(c, "duplicate key '%s' (kvs %lld and %lld)", f->kvs[da].key, (long long)da, (long long)db);
    if ((st = read_alignment(c, f)) != QG_OK) return st;
    if (n_tensors && !(f->tensors = qg_calloc(n_tensors, sizeof *f->tensors)))
        return qg_set_error(QG_ERR_NO_MEMORY, "gguf: %s: out of memory for %llu tensors", c->file, (unsigned long long)n_tensors);
    for (uint64_t i = 0; i < n_tensors; i++)
        if ((st = parse_tensor_info(c, f, (int64_t)i)) != QG_OK) return st;
    if ((st = gguf_index_build(&f->tensor_index, f->n_tensors, tensor_name, f, &da, &db)) != QG_OK) return st;
    if (da >= 0) return fail(c, "duplicate tensor name '%s' (tensors %lld and %lld)", f->tensors[da].name, (long long)da, (long long)db);
    if (!gguf_align_u64(c->pos, f->alignment, &f->data_offset))
        return fail(c, "data section offset overflows");
    return check_tensor_data(c, f);
}

void gguf_handle_free(qg_gguf *f) {
    if (!f) return;
    for (int64_t i = 0; i < f->n_kv; i++) {
        qg_free(f->kvs[i].key);
        qg_free(f->kvs[i].str_off);
    }
    qg_free(f->kvs);
    for (int64_t i = 0; i < f->n_tensors; i++) qg_free((char *)f->tensors[i].name);
    qg_free(f->tensors);
    gguf_index_free(&f->kv_index);
    gguf_index_free(&f->tensor_index);
    if (f->map) munmap(f->map, f->map_size);
    qg_free(f->name);
    qg_free(f);
}

/* Takes ownership of map (unmapped on failure). */
static qg_status open_buffer(const void *data, uint64_t size, const char *name, void *map,
                             size_t map_size, qg_gguf **out) {
    qg_gguf *f = qg_calloc(1, sizeof *f);
    char *nm = qg_strdup(name ? name : "<memory>");
    if (!f || !nm) {
        if (map) munmap(map, map_size);
        qg_free(f);
        qg_free(nm);
        return qg_set_error(QG_ERR_NO_MEMORY, "gguf: out of memory opening %s", name ? name : "<memory>");
    }
    f->name = nm;
    f->base = data;
    f->size = size;
    f->map = map;
    f->map_size = map_size;
    cursor c = {data, size, 0, nm};
    qg_status st = parse(&c, f);
    if (st != QG_OK) {
        gguf_handle_free(f);
        return st;
    }
    *out = f;
    return QG_OK;
}

qg_status qg_gguf_open_memory(const void *data, size_t size, const char *name, qg_gguf **out) {
    if (!out) return qg_set_error(QG_ERR_INVALID_ARG, "gguf: out is NULL");
    *out = NULL;
    if (!data && size) return qg_set_error(QG_ERR_INVALID_ARG, "gguf: data is NULL");
    return open_buffer(data, size, name, NULL, 0, out);
}

qg_status qg_gguf_open(const char *path, qg_gguf **out) {
    if (!out) return qg_set_error(QG_ERR_INVALID_ARG, "gguf: out is NULL");
    *out = NULL;
    if (!path) return qg_set_error(QG_ERR_INVALID_ARG, "gguf: path is NULL");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return qg_set_error(QG_ERR_IO, "gguf: cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return qg_set_error(QG_ERR_IO, "gguf: cannot stat %s: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return qg_set_error(QG_ERR_IO, "gguf: %s is not a regular file", path);
    }
    if (sb.st_size == 0) {
        close(fd);
        return qg_set_error(QG_ERR_FORMAT, "gguf: %s: empty file", path);
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return qg_set_error(QG_ERR_IO, "gguf: %s: too large to map", path);
    }
    size_t size = (size_t)sb.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) return qg_set_error(QG_ERR_IO, "gguf: cannot map %s: %s", path, strerror(e));
    return open_buffer(map, size, path, map, size, out);
}

void qg_gguf_close(qg_gguf *f) { gguf_handle_free(f); }
