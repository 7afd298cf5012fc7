/* Internal: an open-addressing hash map from pointers to ints (tensor -> index), used by
 * the graph walk and the scheduler. */
#ifndef QG_PTRMAP_H
#define QG_PTRMAP_H

#include <stddef.h>

#include "qg/core.h"

typedef struct qg_ptrmap {
    const void **keys;
    int *vals;
    size_t cap, n;
} qg_ptrmap;

/* Index of key, or -1 if absent. */
int qg_ptrmap_get(const qg_ptrmap *m, const void *key);
/* Insert or overwrite. */
qg_status qg_ptrmap_put(qg_ptrmap *m, const void *key, int val);
void qg_ptrmap_clear(qg_ptrmap *m);  /* frees the storage */

#endif
