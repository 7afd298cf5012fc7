/* Internal: the allocation wrappers every library file uses instead of malloc & co.
 *
 * They behave exactly like their libc counterparts, except that a test can arm a
 * fault (qg_alloc_fail_after() or the environment variable QG_FAIL_ALLOC=N) so that the
 * N-th allocation from then on returns NULL; that lets a test walk every allocation of
 * a workload and check that each failure ends in a clean status. qg_free() is plain
 * free(); it exists so that every pointer from these wrappers is released by a wrapper.
 */
#ifndef QG_CORE_ALLOC_H
#define QG_CORE_ALLOC_H

#include <stddef.h>

void *qg_malloc(size_t size);
void *qg_calloc(size_t n, size_t size);
/* On failure (injected or real) p is left untouched, like realloc(). */
void *qg_realloc(void *p, size_t size);
char *qg_strdup(const char *s);
void qg_free(void *p);

#endif
