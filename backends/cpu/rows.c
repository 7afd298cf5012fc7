/* Row access shared by the CPU kernels: read any row of any type as floats (honouring
 * the element stride nb[0] of plain types), and write floats back into a row of any
 * type through the type table's converters.
 */
#include "cpu.h"

#include <string.h>

static bool unit_f32(const qg_tensor *t) { return t->type == QG_TYPE_F32 && t->nb[0] == sizeof(float); }

const float *cpu_load_row(const qg_tensor *t, int64_t i1, int64_t i2, int64_t i3, float *buf) {
    const char *row = cpu_row_ptr(t, i1, i2, i3);
    if (unit_f32(t)) return (const float *)row;
    const qg_type_traits *tt = qg_type_get(t->type);
    if (tt->block_size > 1 || t->nb[0] == tt->type_size) {
        /* Whole row in one call: blocks are packed by construction (see supports.c). */
        tt->to_float(row, buf, t->ne[0]);
    } else if (t->type == QG_TYPE_F32) {
        for (int64_t i = 0; i < t->ne[0]; i++) memcpy(&buf[i], row + (size_t)i * t->nb[0], sizeof(float));
    } else {
        for (int64_t i = 0; i < t->ne[0]; i++) tt->to_float(row + (size_t)i * t->nb[0], &buf[i], 1);
    }
    return buf;
}

float *cpu_out_row(qg_tensor *t, int64_t i1, int64_t i2, int64_t i3, float *buf) {
    if (unit_f32(t)) return (float *)cpu_row_ptr(t, i1, i2, i3);
    return buf;
}

void cpu_store_row(qg_tensor *t, int64_t i1, int64_t i2, int64_t i3, const float *src) {
    char *row = cpu_row_ptr(t, i1, i2, i3);
    if ((const char *)src == row) return;
    const qg_type_traits *tt = qg_type_get(t->type);
    if (tt->block_size > 1 || t->nb[0] == tt->type_size) {
        tt->from_float(src, row, t->ne[0]);
    } else {
        for (int64_t i = 0; i < t->ne[0]; i++) tt->from_float(&src[i], row + (size_t)i * t->nb[0], 1);
    }
}
