/* Model loading (include/qg/model.h): the tensors of a GGUF or safetensors checkpoint as
 * leaf tensors of a new context, with storage on a backend.
 *
 * Each stored tensor is first described in a neutral form (name, type, ne[], bytes and a
 * pointer into the file mapping). On a host-memory backend, tensors that need no
 * conversion are placed straight into a buffer wrapping the mapping (host-memory
 * backends accept any offset there; GGUF keeps data 32-byte aligned) (one per mapped file); all others get one
 * backend buffer (qg_backend_alloc_ctx_tensors) and are uploaded, converted row by row
 * through float when params->convert_to applies. The file handle stays open for the
 * model's lifetime because zero-copy tensors point into its mapping.
 */
#define _POSIX_C_SOURCE 200809L
#include "qg/model.h"
#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct src_tensor {
    const char *name;
    qg_type type;
    int n_dims;
    int64_t ne[4];
    uint64_t size;
    const void *data;
    const char *file; /* groups tensors by mapping */
} src_tensor;

typedef struct host_map {
    const char *file;
    char *base;
    size_t size;
    qg_buffer *buf;
} host_map;

struct qg_model {
    qg_context *ctx;
    qg_gguf *gguf;
    qg_st *st;
    host_map *maps;
    int n_maps;
    qg_buffer *upload;
    char **names;      /* full names (tensor->name is truncated at QG_MAX_NAME-1) */
    qg_tensor **tensors;
    int64_t n_tensors;
    bool zero_copy;
};

qg_model_params qg_model_default_params(void) {
    qg_model_params p = {.convert_to = -1, .progress = NULL, .progress_user = NULL};
    return p;
}

void qg_model_free(qg_model *m) {
    if (!m) return;
    qg_buffer_free(m->upload);
    for (int i = 0; i < m->n_maps; i++) qg_buffer_free(m->maps[i].buf);
    qg_free(m->maps);
    qg_context_free(m->ctx);
    if (m->names)
        for (int64_t i = 0; i < m->n_tensors; i++) qg_free(m->names[i]);
    qg_free(m->names);
    qg_free(m->tensors);
    qg_gguf_close(m->gguf);
    qg_st_close(m->st);
    qg_free(m);
}

qg_context *qg_model_context(const qg_model *m) { return m ? m->ctx : NULL; }
const qg_gguf *qg_model_gguf(const qg_model *m) { return m ? m->gguf : NULL; }
const qg_st *qg_model_safetensors(const qg_model *m) { return m ? m->st : NULL; }
bool qg_model_is_zero_copy(const qg_model *m) { return m && m->zero_copy; }

qg_tensor *qg_model_tensor(const qg_model *m, const char *name) {
    if (!m || !name) return NULL;
    for (int64_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->names[i], name) == 0) return m->tensors[i];
    return NULL;
}

static bool is_gguf(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char magic[4] = {0};
    size_t n = fread(magic, 1, 4, f);
    fclose(f);
    return n == 4 && memcmp(magic, "GGUF", 4) == 0;
}

static qg_status describe_gguf(const qg_gguf *g, src_tensor *out, int64_t n, const char *path) {
    for (int64_t i = 0; i < n; i++) {
        const qg_gguf_tensor_info *ti = qg_gguf_tensor(g, i);
        out[i] = (src_tensor){ti->name, ti->type, ti->n_dims, {ti->ne[0], ti->ne[1], ti->ne[2], ti->ne[3]},
                              ti->size, ti->data, path};
        if (out[i].n_dims < 1) out[i].n_dims = 1;
    }
    return QG_OK;
}

static qg_status describe_st(const qg_st *st, src_tensor *out, int64_t n, const char *path) {
    for (int64_t i = 0; i < n; i++) {
        const qg_st_tensor_info *ti = qg_st_tensor(st, i);
        int type = qg_st_dtype_to_type(ti->dtype);
        if (type < 0)
            return qg_set_error(QG_ERR_UNSUPPORTED, "%s: tensor '%s': dtype %s has no qgraph type", path, ti->name,
                                ti->dtype_name);
        if (ti->n_dims > QG_MAX_DIMS)
            return qg_set_error(QG_ERR_UNSUPPORTED, "%s: tensor '%s' has %d dimensions (at most %d are supported)",
                                path, ti->name, ti->n_dims, QG_MAX_DIMS);
        src_tensor *s = &out[i];
        *s = (src_tensor){ti->name, (qg_type)type, ti->n_dims > 0 ? ti->n_dims : 1, {1, 1, 1, 1}, ti->size, ti->data,
                          ti->file ? ti->file : path};
        for (int d = 0; d < ti->n_dims; d++) s->ne[d] = ti->shape[ti->n_dims - 1 - d]; /* outermost first */
    }
    return QG_OK;
}

/* Does this tensor get converted to `to`? Floating-point matrices whose rows fit the block. */
static bool converts(const src_tensor *s, int to) {
    if (to < 0 || (qg_type)to == s->type || s->n_dims < 2) return false;
    const qg_type_traits *src = qg_type_get(s->type), *dst = qg_type_get((qg_type)to);
    if (!src || !dst || src->is_quantized || src->is_integer) return false;
    return s->ne[0] % dst->block_size == 0;
}

/* The mapping window already planned for tensor s's file, or NULL. */
static host_map *map_for(qg_model *m, const src_tensor *s) {
    for (int i = 0; i < m->n_maps; i++)
        if (strcmp(m->maps[i].file, s->file) == 0) return &m->maps[i];
    return NULL;
}

/* One page-aligned window per file covering every tensor placed in it. */
static qg_status plan_maps(qg_model *m, const src_tensor *src, int64_t n, const bool *want) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (page == 0 || page > (1u << 20)) page = 4096;
    for (int64_t i = 0; i < n; i++) {
        if (!want[i]) continue;
        host_map *hm = map_for(m, &src[i]);
        char *lo = (char *)(uintptr_t)((uintptr_t)src[i].data / page * page);
        char *hi = (char *)src[i].data + src[i].size;
        if (!hm) {
            host_map *nm = qg_realloc(m->maps, (size_t)(m->n_maps + 1) * sizeof *nm);
            if (!nm) return qg_set_error(QG_ERR_NO_MEMORY, "model load: out of memory");
            m->maps = nm;
            hm = &m->maps[m->n_maps++];
            *hm = (host_map){src[i].file, lo, (size_t)(hi - lo), NULL};
            continue;
        }
        char *end = hm->base + hm->size;
        if (lo < hm->base) hm->base = lo;
        if (hi > end) end = hi;
        hm->size = (size_t)(end - hm->base);
    }
    return QG_OK;
}

static qg_status upload(qg_tensor *t, const src_tensor *s) {
    if (t->type == s->type) return qg_tensor_set(t, s->data, 0, (size_t)s->size);
    const qg_type_traits *from = qg_type_get(s->type), *to = qg_type_get(t->type);
    int64_t ne0 = s->ne[0], rows = s->ne[1] * s->ne[2] * s->ne[3];
    size_t in_row = qg_row_size(s->type, ne0), out_row = qg_row_size(t->type, ne0);
    float *f = qg_malloc((size_t)ne0 * sizeof *f);
    uint8_t *dst = qg_malloc(out_row * (size_t)rows);
    if (!f || !dst) {
        qg_free(f);
        qg_free(dst);
        return qg_set_error(QG_ERR_NO_MEMORY, "model load: out of memory converting '%s'", s->name);
    }
    for (int64_t r = 0; r < rows; r++) {
        from->to_float((const uint8_t *)s->data + (size_t)r * in_row, f, ne0);
        to->from_float(f, dst + (size_t)r * out_row, ne0);
    }
    qg_status st = qg_tensor_set(t, dst, 0, out_row * (size_t)rows);
    qg_free(f);
    qg_free(dst);
    return st;
}

static qg_status build(qg_model *m, qg_backend *be, const qg_model_params *p, const src_tensor *src, int64_t n,
                       const char *path) {
    qg_status st = qg_context_new(&m->ctx);
    if (st != QG_OK) return st;
    m->names = qg_calloc((size_t)(n ? n : 1), sizeof *m->names);
    m->tensors = qg_calloc((size_t)(n ? n : 1), sizeof *m->tensors);
    bool *direct = qg_calloc((size_t)(n ? n : 1), sizeof *direct);
    if (!m->names || !m->tensors || !direct) {
        qg_free(direct);
        return qg_set_error(QG_ERR_NO_MEMORY, "model load: out of memory");
    }
    const qg_device_props *props = qg_backend_props(be);
    for (int64_t i = 0; i < n; i++) {
        const src_tensor *s = &src[i];
        bool conv = converts(s, p->convert_to);
        qg_tensor *t = qg_new_tensor(m->ctx, conv ? (qg_type)p->convert_to : s->type, s->n_dims, s->ne);
        if (!t) {
            qg_free(direct);
            return qg_set_error(QG_ERR_FORMAT, "%s: tensor '%s': %s", path, s->name, qg_context_error(m->ctx));
        }
        qg_set_name(t, "%s", s->name);
        t->flags |= QG_FLAG_PARAM;
        m->names[i] = qg_strdup(s->name);
        m->tensors[i] = t;
        m->n_tensors = i + 1;
        if (!m->names[i]) {
            qg_free(direct);
            return qg_set_error(QG_ERR_NO_MEMORY, "model load: out of memory");
        }
        direct[i] = props->host_memory && !conv && s->size > 0;
    }
    st = plan_maps(m, src, n, direct);
    for (int i = 0; st == QG_OK && i < m->n_maps; i++)
        st = qg_buffer_from_host(be, m->maps[i].base, m->maps[i].size, &m->maps[i].buf);
    for (int64_t i = 0; st == QG_OK && i < n; i++) {
        if (!direct[i]) continue;
        host_map *hm = map_for(m, &src[i]);
        st = qg_buffer_place(hm->buf, m->tensors[i], (size_t)((const char *)src[i].data - hm->base));
    }
    bool all_direct = n > 0;
    for (int64_t i = 0; i < n; i++) all_direct = all_direct && direct[i];
    qg_free(direct);
    if (st == QG_OK) st = qg_backend_alloc_ctx_tensors(be, m->ctx, &m->upload);
    if (st != QG_OK) return st;
    m->zero_copy = all_direct;
    for (int64_t i = 0; i < n; i++) {
        /* tensors placed in the mapping need no copy */
        if (m->upload && m->tensors[i]->buffer == m->upload && (st = upload(m->tensors[i], &src[i])) != QG_OK)
            return st;
        if (p->progress && !p->progress(i + 1, n, src[i].name, p->progress_user))
            return qg_set_error(QG_ERR_INVALID_ARG, "%s: loading cancelled at tensor '%s'", path, src[i].name);
    }
    return QG_OK;
}

qg_status qg_model_load(const char *path, qg_backend *backend, const qg_model_params *params, qg_model **out) {
    if (!out) return qg_set_error(QG_ERR_INVALID_ARG, "qg_model_load: NULL out");
    *out = NULL;
    if (!path || !backend) return qg_set_error(QG_ERR_INVALID_ARG, "qg_model_load: NULL argument");
    qg_model_params p = params ? *params : qg_model_default_params();
    if (p.convert_to >= 0) {
        const qg_type_traits *tt = qg_type_get((qg_type)p.convert_to);
        if (!tt || !tt->from_float || tt->is_integer)
            return qg_set_error(QG_ERR_INVALID_ARG, "qg_model_load: cannot convert to type %d (%s)", p.convert_to,
                                qg_type_name((qg_type)p.convert_to));
    }
    qg_model *m = qg_calloc(1, sizeof *m);
    if (!m) return qg_set_error(QG_ERR_NO_MEMORY, "qg_model_load: out of memory");
    qg_status st;
    int64_t n = 0;
    if (is_gguf(path)) {
        st = qg_gguf_open(path, &m->gguf);
        if (st == QG_OK) n = qg_gguf_n_tensors(m->gguf);
    } else {
        st = qg_st_open(path, &m->st);
        if (st == QG_OK) n = qg_st_n_tensors(m->st);
    }
    src_tensor *src = NULL;
    if (st == QG_OK) {
        src = qg_calloc((size_t)(n ? n : 1), sizeof *src);
        if (!src) st = qg_set_error(QG_ERR_NO_MEMORY, "qg_model_load: out of memory");
    }
    if (st == QG_OK) st = m->gguf ? describe_gguf(m->gguf, src, n, path) : describe_st(m->st, src, n, path);
    if (st == QG_OK) st = build(m, backend, &p, src, n, path);
    qg_free(src);
    if (st != QG_OK) {
        qg_model_free(m);
        return st;
    }
    *out = m;
    return QG_OK;
}
