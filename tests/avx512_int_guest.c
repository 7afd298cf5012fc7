/* Freestanding guest for tools/emu/qg_emu.py: runs the calls listed in the data block
 * (tests/avx512_int_guest.h) through the AVX-512 VNNI lookups of simd_avx512_int.h and
 * writes the results back into the block. Linked static without libc, together with the
 * kernel objects (built with the AVX-512 flags); the emulator calls qg_guest_entry with
 * the block's address and size. Returns the number of calls run, or ~0 for a malformed
 * block.
 */
#include "avx512_int_guest.h"

#include <stddef.h>

#include "simd_avx512_int.h"

/* gcc may emit calls to these for struct copies even in freestanding code. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) *d++ = *s++;
    return dst;
}
void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}

uint64_t qg_guest_entry(void *data, uint64_t size);
uint64_t qg_guest_entry(void *data, uint64_t size) {
    unsigned char *base = data;
    avx512_int_header *h = data;
    if (size < sizeof *h || h->magic != AVX512_INT_MAGIC) return ~0ull;
    if ((size - sizeof *h) / sizeof(avx512_int_call) < h->ncalls) return ~0ull;
    avx512_int_call *calls = (avx512_int_call *)(h + 1);
    h->done = 0;
    for (uint32_t i = 0; i < h->ncalls; i++) {
        avx512_int_call *c = &calls[i];
        const void *x = base + c->x_off, *y = base + c->y_off;
        float *out = (float *)(base + c->out_off);
        c->status = AVX512_INT_NO_FUNCTION;
        if (c->kind == AVX512_INT_DOT) {
            qg_vec_dot_fn f = cpu_avx512_int_vec_dot((qg_type)c->type);
            if (f) {
                out[0] = f(c->n, x, y);
                c->status = AVX512_INT_DONE;
            }
        } else if (c->kind == AVX512_INT_DOT4) {
            cpu_dot4_fn f = cpu_avx512_int_vec_dot4((qg_type)c->type);
            if (f) {
                f(c->n, x, y, c->ys, out);
                c->status = AVX512_INT_DONE;
            }
        } else if (c->kind == AVX512_INT_ROWS) {
            cpu_dot_rows_fn f = cpu_avx512_int_vec_dot_rows((qg_type)c->type);
            if (f) {
                f(c->n, x, c->xs, y, out, c->nrows);
                c->status = AVX512_INT_DONE;
            }
        }
        h->done = i + 1;
    }
    return h->done;
}
