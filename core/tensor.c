/* Shape and stride queries on tensors, names and flags. */
#include "qg/tensor.h"

#include <stdarg.h>
#include <stdio.h>

int64_t qg_nelements(const qg_tensor *t) { return !t ? 0 : t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]; }

int64_t qg_nrows(const qg_tensor *t) { return !t ? 0 : t->ne[1] * t->ne[2] * t->ne[3]; }

size_t qg_nbytes(const qg_tensor *t) {
    if (!t) return 0; /* a failed builder's NULL: nothing */
    for (int i = 0; i < QG_MAX_DIMS; i++)
        if (t->ne[i] <= 0) return 0;
    const qg_type_traits *tt = qg_type_get(t->type);
    if (!tt) return 0;
    /* Bytes from the first to one past the last element, strides as given. */
    size_t n;
    int first;
    if (tt->block_size == 1) {
        n = tt->type_size;
        first = 0;
    } else {
        n = (size_t)(t->ne[0] / tt->block_size) * t->nb[0]; /* rows of blocks are packed */
        first = 1;
    }
    for (int i = first; i < QG_MAX_DIMS; i++) n += (size_t)(t->ne[i] - 1) * t->nb[i];
    return n;
}

int qg_n_dims(const qg_tensor *t) {
    for (int i = QG_MAX_DIMS - 1; i >= 1; i--)
        if (t->ne[i] > 1) return i + 1;
    return 1;
}

bool qg_is_contiguous(const qg_tensor *t) {
    if (!t) return false;
    const qg_type_traits *tt = qg_type_get(t->type);
    if (!tt) return false;
    size_t expect = tt->type_size;
    if (t->nb[0] != expect) return false;
    expect *= (size_t)(t->ne[0] / tt->block_size);
    for (int i = 1; i < QG_MAX_DIMS; i++) {
        /* The stride of a dimension of size 1 never matters. */
        if (t->ne[i] != 1 && t->nb[i] != expect) return false;
        expect *= (size_t)t->ne[i];
    }
    return true;
}

bool qg_same_shape(const qg_tensor *a, const qg_tensor *b) {
    for (int i = 0; i < QG_MAX_DIMS; i++)
        if (a->ne[i] != b->ne[i]) return false;
    return true;
}

bool qg_op_is_view(qg_op op) {
    return op == QG_OP_VIEW || op == QG_OP_RESHAPE || op == QG_OP_PERMUTE || op == QG_OP_TRANSPOSE;
}

const char *qg_op_name(qg_op op) {
    static const char *const names[QG_OP_COUNT] = {
        [QG_OP_NONE] = "NONE",       [QG_OP_ADD] = "ADD",         [QG_OP_MUL] = "MUL",
        [QG_OP_SCALE] = "SCALE",     [QG_OP_MUL_MAT] = "MUL_MAT", [QG_OP_GET_ROWS] = "GET_ROWS",
        [QG_OP_RMS_NORM] = "RMS_NORM", [QG_OP_NORM] = "NORM",     [QG_OP_SOFT_MAX] = "SOFT_MAX",
        [QG_OP_ROPE] = "ROPE",       [QG_OP_SILU] = "SILU",       [QG_OP_GELU] = "GELU",
        [QG_OP_CPY] = "CPY",         [QG_OP_SET_ROWS] = "SET_ROWS", [QG_OP_VIEW] = "VIEW",
        [QG_OP_RESHAPE] = "RESHAPE", [QG_OP_PERMUTE] = "PERMUTE", [QG_OP_TRANSPOSE] = "TRANSPOSE",
    };
    if ((unsigned)op < QG_OP_COUNT && names[op]) return names[op];
    return "?";
}

qg_tensor *qg_view_root(qg_tensor *t) {
    while (t && t->view_src) t = t->view_src;
    return t;
}

qg_tensor *qg_set_name(qg_tensor *t, const char *fmt, ...) {
    if (!t || !fmt) return t;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    return t;
}

void qg_set_input(qg_tensor *t) {
    if (t) t->flags |= QG_FLAG_INPUT;
}

void qg_set_output(qg_tensor *t) {
    if (t) t->flags |= QG_FLAG_OUTPUT;
}
