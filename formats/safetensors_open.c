/* safetensors: opening files, directories and sharded checkpoints, plus the dtype table
 * and the handle accessors.
 *
 * qg_st_open(path) accepts
 * - a .safetensors file (memory-mapped read-only);
 * - a "*.json" index ({"weight_map": {tensor: shard file}, ...}): every shard named in it
 *   is opened once from the index's directory; shard names containing '/', '\\' or ".."
 *   are rejected (path traversal); each listed tensor must be found in its named shard and
 *   each shard tensor must be listed with that shard;
 * - a directory: its model.safetensors.index.json if present, otherwise its only
 *   *.safetensors file (none or several is an error).
 * The metadata of a sharded checkpoint is the union of the shards' "__metadata__" (the
 * first shard, in index order, wins a key); the index's own "metadata" is not exposed.
 * U8 and BOOL have no qgraph type: qg_st_dtype_to_type returns -1 for them (reading U8
 * bytes as I8 would turn values above 127 negative).
 */
#define _POSIX_C_SOURCE 200809L
#include "formats/st_internal.h"
#include "core/alloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef QG_HAVE_JANSSON
#include <jansson.h>
#endif

static const st_dtype_row DTYPES[ST_N_DTYPES] = {
    {QG_ST_F64, "F64", 8, QG_TYPE_F64},
    {QG_ST_F32, "F32", 4, QG_TYPE_F32},
    {QG_ST_F16, "F16", 2, QG_TYPE_F16},
    {QG_ST_BF16, "BF16", 2, QG_TYPE_BF16},
    {QG_ST_I64, "I64", 8, QG_TYPE_I64},
    {QG_ST_I32, "I32", 4, QG_TYPE_I32},
    {QG_ST_I16, "I16", 2, QG_TYPE_I16},
    {QG_ST_I8, "I8", 1, QG_TYPE_I8},
    {QG_ST_U8, "U8", 1, -1},
    {QG_ST_BOOL, "BOOL", 1, -1},
    {QG_ST_F8_E4M3, "F8_E4M3", 1, QG_TYPE_F8_E4M3},
    {QG_ST_F8_E5M2, "F8_E5M2", 1, QG_TYPE_F8_E5M2},
};

const st_dtype_row *st_dtype_row_of(qg_st_dtype d) {
    return (unsigned)d < ST_N_DTYPES ? &DTYPES[d] : NULL;
}

const st_dtype_row *st_dtype_by_name(const char *name) {
    for (int i = 0; i < ST_N_DTYPES; i++)
        if (strcmp(DTYPES[i].name, name) == 0) return &DTYPES[i];
    return NULL;
}

int qg_st_dtype_to_type(qg_st_dtype dtype) {
    const st_dtype_row *r = st_dtype_row_of(dtype);
    return r ? r->qg_type : -1;
}

size_t qg_st_dtype_size(qg_st_dtype dtype) {
    const st_dtype_row *r = st_dtype_row_of(dtype);
    return r ? r->size : 0;
}

void st_handle_free(qg_st *st) {
    if (!st) return;
    for (int64_t i = 0; i < st->n_tensors; i++) qg_free((char *)st->tensors[i].name);
    qg_free(st->tensors);
    for (int64_t i = 0; i < st->n_meta; i++) {
        qg_free(st->meta_keys[i]);
        qg_free(st->meta_values[i]);
    }
    qg_free(st->meta_keys);
    qg_free(st->meta_values);
    qg_free(st->by_name);
    for (int i = 0; i < st->n_shards; i++) {
        if (st->shards[i].map) munmap(st->shards[i].map, st->shards[i].map_size);
        qg_free(st->shards[i].path);
    }
    qg_free(st->shards);
    qg_free(st);
}

void qg_st_close(qg_st *st) { st_handle_free(st); }

static int name_cmp(const qg_st *st, int64_t i, const char *name) { return strcmp(st->tensors[i].name, name); }

qg_status st_build_index(qg_st *st) {
    if (!st->n_tensors) return QG_OK;
    st->by_name = qg_malloc((size_t)st->n_tensors * sizeof *st->by_name);
    if (!st->by_name) return qg_set_error(QG_ERR_NO_MEMORY, "safetensors: out of memory");
    for (int64_t i = 0; i < st->n_tensors; i++) st->by_name[i] = i;
    /* qsort has no context argument, so sort the indices with a merge sort of our own. */
    int64_t n = st->n_tensors;
    int64_t *tmp = qg_malloc((size_t)n * sizeof *tmp);
    if (!tmp) return qg_set_error(QG_ERR_NO_MEMORY, "safetensors: out of memory");
    for (int64_t w = 1; w < n; w *= 2) { /* bottom-up merge sort of indices by name */
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                tmp[k++] = strcmp(st->tensors[st->by_name[a]].name, st->tensors[st->by_name[b]].name) <= 0
                               ? st->by_name[a++] : st->by_name[b++];
            while (a < mid) tmp[k++] = st->by_name[a++];
            while (b < hi) tmp[k++] = st->by_name[b++];
        }
        memcpy(st->by_name, tmp, (size_t)n * sizeof *tmp);
    }
    qg_free(tmp);
    for (int64_t i = 1; i < n; i++) {
        const qg_st_tensor_info *a = &st->tensors[st->by_name[i - 1]], *b = &st->tensors[st->by_name[i]];
        if (strcmp(a->name, b->name) == 0)
            return qg_set_error(QG_ERR_FORMAT, "safetensors: tensor '%s' appears twice (in %s and %s)", a->name,
                                a->file, b->file);
    }
    return QG_OK;
}

int64_t qg_st_find(const qg_st *st, const char *name) {
    if (!st || !name || !st->by_name) return -1;
    int64_t lo = 0, hi = st->n_tensors;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(st, st->by_name[mid], name);
        if (c == 0) return st->by_name[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

int64_t qg_st_n_tensors(const qg_st *st) { return st ? st->n_tensors : 0; }
const qg_st_tensor_info *qg_st_tensor(const qg_st *st, int64_t i) {
    return st && i >= 0 && i < st->n_tensors ? &st->tensors[i] : NULL;
}
int64_t qg_st_n_meta(const qg_st *st) { return st ? st->n_meta : 0; }
const char *qg_st_meta_key(const qg_st *st, int64_t i) {
    return st && i >= 0 && i < st->n_meta ? st->meta_keys[i] : NULL;
}
const char *qg_st_meta_value(const qg_st *st, int64_t i) {
    return st && i >= 0 && i < st->n_meta ? st->meta_values[i] : NULL;
}

/* Adds a shard slot owning a copy of path; returns its index or -1 (message set). */
static int add_shard(qg_st *st, const char *path) {
    st_shard *ns = qg_realloc(st->shards, (size_t)(st->n_shards + 1) * sizeof *ns);
    if (!ns) return qg_set_error(QG_ERR_NO_MEMORY, "safetensors: out of memory"), -1;
    st->shards = ns;
    memset(&ns[st->n_shards], 0, sizeof *ns);
    if (!(ns[st->n_shards].path = qg_strdup(path))) return qg_set_error(QG_ERR_NO_MEMORY, "safetensors: out of memory"), -1;
    return st->n_shards++;
}

qg_status qg_st_open_memory(const void *data, size_t size, const char *name, qg_st **out) {
    if (!out) return qg_set_error(QG_ERR_INVALID_ARG, "safetensors: out is NULL");
    *out = NULL;
    if (!data && size) return qg_set_error(QG_ERR_INVALID_ARG, "safetensors: data is NULL");
    qg_st *st = qg_calloc(1, sizeof *st);
    if (!st) return qg_set_error(QG_ERR_NO_MEMORY, "safetensors: out of memory");
    int s = add_shard(st, name ? name : "<memory>");
    qg_status rc = s < 0 ? QG_ERR_NO_MEMORY : st_parse_image(st, data, size, st->shards[s].path);
    if (rc == QG_OK) rc = st_build_index(st);
    if (rc != QG_OK) {
        st_handle_free(st);
        return rc;
    }
    *out = st;
    return QG_OK;
}

/* Maps path read-only into shard slot s. */
static qg_status map_file(st_shard *sh) {
    int fd = open(sh->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return qg_set_error(QG_ERR_IO, "safetensors: cannot open %s: %s", sh->path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return qg_set_error(QG_ERR_IO, "safetensors: %s is not a readable regular file", sh->path);
    }
    if (sb.st_size == 0) {
        close(fd);
        return qg_set_error(QG_ERR_FORMAT, "safetensors: %s: empty file", sh->path);
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return qg_set_error(QG_ERR_IO, "safetensors: %s: too large to map", sh->path);
    }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) return qg_set_error(QG_ERR_IO, "safetensors: cannot map %s: %s", sh->path, strerror(e));
    sh->map = map;
    sh->map_size = (size_t)sb.st_size;
    return QG_OK;
}

static qg_status open_single(const char *path, qg_st **out) {
    qg_st *st = qg_calloc(1, sizeof *st);
    if (!st) return qg_set_error(QG_ERR_NO_MEMORY, "safetensors: out of memory");
    int s = add_shard(st, path);
    qg_status rc = s < 0 ? QG_ERR_NO_MEMORY : map_file(&st->shards[s]);
    if (rc == QG_OK) rc = st_parse_image(st, st->shards[s].map, st->shards[s].map_size, st->shards[s].path);
    if (rc == QG_OK) rc = st_build_index(st);
    if (rc != QG_OK) {
        st_handle_free(st);
        return rc;
    }
    *out = st;
    return QG_OK;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

#ifdef QG_HAVE_JANSSON
/* A shard name must be a plain file name: no separators, no "..". */
static int safe_shard_name(const char *s) {
    return s[0] != '\0' && !strchr(s, '/') && !strchr(s, '\\') && !strstr(s, "..");
}

static qg_status open_index_json(qg_st *st, const char *path, json_t *root) {
    if (!json_is_object(root)) return qg_set_error(QG_ERR_FORMAT, "safetensors: %s: index is not a JSON object", path);
    json_t *wm = json_object_get(root, "weight_map");
    if (!json_is_object(wm))
        return qg_set_error(QG_ERR_FORMAT, "safetensors: %s: index has no 'weight_map' object", path);
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path + 1) : 0;
    const char *k;
    json_t *v;
    qg_status rc;
    json_object_foreach(wm, k, v) {
        if (!json_is_string(v))
            return qg_set_error(QG_ERR_FORMAT, "safetensors: %s: weight_map entry '%.128s' is not a string", path, k);
        const char *shard = json_string_value(v);
        if (!safe_shard_name(shard))
            return qg_set_error(QG_ERR_FORMAT, "safetensors: %s: weight_map entry '%.128s' names shard '%.128s', which is not a plain file name in the index's directory",
                                path, k, shard);
        size_t plen = dlen + strlen(shard) + 1;
        char *full = qg_malloc(plen);
        if (!full) return qg_set_error(QG_ERR_NO_MEMORY, "safetensors: out of memory");
        snprintf(full, plen, "%.*s%s", (int)dlen, path, shard);
        int seen = 0;
        for (int i = 0; i < st->n_shards && !seen; i++) seen = strcmp(st->shards[i].path, full) == 0;
        int s = seen ? 0 : add_shard(st, full);
        qg_free(full);
        if (s < 0) return QG_ERR_NO_MEMORY;
        if (seen) continue;
        if ((rc = map_file(&st->shards[s])) != QG_OK) return rc;
        if ((rc = st_parse_image(st, st->shards[s].map, st->shards[s].map_size, st->shards[s].path)) != QG_OK) return rc;
    }
    if ((rc = st_build_index(st)) != QG_OK) return rc;
    json_object_foreach(wm, k, v) {
        int64_t i = qg_st_find(st, k);
        const char *shard = json_string_value(v);
        if (i < 0)
            return qg_set_error(QG_ERR_FORMAT, "safetensors: %s: tensor '%.128s' is not in its shard %s", path, k, shard);
        if (!ends_with(st->tensors[i].file, shard) || strlen(st->tensors[i].file) != dlen + strlen(shard))
            return qg_set_error(QG_ERR_FORMAT, "safetensors: %s: tensor '%.128s' is listed in shard %s but found in %s",
                                path, k, shard, st->tensors[i].file);
    }
    for (int64_t i = 0; i < st->n_tensors; i++)
        if (!json_object_get(wm, st->tensors[i].name))
            return qg_set_error(QG_ERR_FORMAT, "safetensors: %s: tensor '%.128s' of shard %s is not listed in weight_map",
                                path, st->tensors[i].name, st->tensors[i].file);
    return QG_OK;
}
#endif

static qg_status open_index(const char *path, qg_st **out) {
#ifdef QG_HAVE_JANSSON
    FILE *fp = fopen(path, "rb");
    if (!fp) return qg_set_error(QG_ERR_IO, "safetensors: cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > ST_MAX_HEADER) {
        fclose(fp);
        return qg_set_error(QG_ERR_FORMAT, "safetensors: %s: index is not a regular file of at most %u bytes", path,
                            ST_MAX_HEADER);
    }
    json_error_t err;
    json_t *root = json_loadf(fp, JSON_REJECT_DUPLICATES, &err);
    fclose(fp);
    if (!root)
        return qg_set_error(QG_ERR_FORMAT, "safetensors: %s: index is not valid JSON: %s (line %d)", path, err.text, err.line);
    qg_st *st = qg_calloc(1, sizeof *st);
    qg_status rc = st ? open_index_json(st, path, root) : qg_set_error(QG_ERR_NO_MEMORY, "safetensors: out of memory");
    json_decref(root);
    if (rc != QG_OK) {
        st_handle_free(st);
        return rc;
    }
    *out = st;
    return QG_OK;
#else
    (void)out;
    return qg_set_error(QG_ERR_UNSUPPORTED, "safetensors: %s: qgraph was built without jansson; cannot read JSON", path);
#endif
}

static qg_status open_dir(const char *dir, qg_st **out) {
    size_t dl = strlen(dir);
    const char *sep = dl && dir[dl - 1] == '/' ? "" : "/";
    char buf[4096];
    snprintf(buf, sizeof buf, "%s%smodel.safetensors.index.json", dir, sep);
    if (access(buf, F_OK) == 0) return open_index(buf, out);
    DIR *d = opendir(dir);
    if (!d) return qg_set_error(QG_ERR_IO, "safetensors: cannot read directory %s: %s", dir, strerror(errno));
    int found = 0;
    char first[1024] = "";
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!ends_with(de->d_name, ".safetensors")) continue;
        if (!found++) snprintf(first, sizeof first, "%s", de->d_name);
    }
    closedir(d);
    if (found == 0) return qg_set_error(QG_ERR_NOT_FOUND, "safetensors: %s holds no *.safetensors file and no model.safetensors.index.json", dir);
    if (found > 1)
        return qg_set_error(QG_ERR_FORMAT, "safetensors: %s holds %d *.safetensors files but no model.safetensors.index.json saying how they fit together",
                            dir, found);
    int n = snprintf(buf, sizeof buf, "%s%s%s", dir, sep, first);
    if (n < 0 || (size_t)n >= sizeof buf) return qg_set_error(QG_ERR_INVALID_ARG, "safetensors: path too long in %s", dir);
    return open_single(buf, out);
}

qg_status qg_st_open(const char *path, qg_st **out) {
    if (!out) return qg_set_error(QG_ERR_INVALID_ARG, "safetensors: out is NULL");
    *out = NULL;
    if (!path) return qg_set_error(QG_ERR_INVALID_ARG, "safetensors: path is NULL");
    struct stat sb;
    if (stat(path, &sb) != 0) return qg_set_error(QG_ERR_IO, "safetensors: cannot open %s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) return open_dir(path, out);
    if (ends_with(path, ".json")) return open_index(path, out);
    return open_single(path, out);
}
