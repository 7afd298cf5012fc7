/* Internal: the memory planner. Given tensors with sizes and lifetimes (the step they
 * are produced at and the last step they are read at), it assigns byte offsets in one
 * buffer so that tensors alive at the same time never overlap, reusing the space of
 * tensors whose last reader has run. */
#ifndef QG_PLANNER_H
#define QG_PLANNER_H

#include <stddef.h>

#include "qg/core.h"

#define QG_PLAN_FOREVER 0x7fffffff

typedef struct qg_plan_req {
    size_t size;
    int first;      /* step at which it is written (inputs: 0, nodes: 1..) */
    int last;       /* last step it is read at (QG_PLAN_FOREVER: never freed) */
    size_t offset;  /* result */
} qg_plan_req;

/* Assign offsets (aligned to alignment, a power of two); *peak gets the buffer size
 * needed and *naive the sum of all aligned sizes. */
qg_status qg_plan_solve(qg_plan_req *reqs, int n, size_t alignment, size_t *peak, size_t *naive);

#endif
