/* Per-thread error messages behind qg_last_error(). */
#include "qg/core.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_error[4096];

const char *qg_status_name(qg_status st) {
    static const char *const names[] = {
        "QG_OK",          "QG_ERR_INVALID_ARG", "QG_ERR_NO_MEMORY", "QG_ERR_IO",
        "QG_ERR_FORMAT",  "QG_ERR_UNSUPPORTED", "QG_ERR_SHAPE",     "QG_ERR_PLUGIN",
        "QG_ERR_BACKEND", "QG_ERR_NOT_FOUND",
    };
    if ((unsigned)st < sizeof names / sizeof names[0]) return names[st];
    return "QG_ERR_UNKNOWN";
}

const char *qg_last_error(void) { return last_error; }

void qg_clear_error(void) { last_error[0] = '\0'; }

qg_status qg_set_error(qg_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return st;
}
