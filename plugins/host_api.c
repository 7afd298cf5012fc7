/* The services the host lends every plugin at init(): error reporting (the caller's
 * thread-local qg_last_error), logging to stderr and the type table. The log threshold
 * comes from QG_LOG_LEVEL (debug, info, warn, error; default warn), read once. */
#define _GNU_SOURCE
#include "core/backend_impl.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static int log_threshold = QG_LOG_WARN;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void read_log_level(void) {
    static const char *const names[] = {"debug", "info", "warn", "error"};
    const char *env = getenv("QG_LOG_LEVEL");
    if (!env || !*env) return;
    for (int i = 0; i < 4; i++)
        if (strcasecmp(env, names[i]) == 0) log_threshold = i;
    if (strcasecmp(env, "warning") == 0) log_threshold = QG_LOG_WARN;
}

static void host_log(int level, const char *fmt, ...) QG_PRINTF(2, 3);

static void host_log(int level, const char *fmt, ...) {
    static const char *const tags[] = {"debug", "info", "warn", "error"};
    pthread_once(&log_once, read_log_level);
    if (level < log_threshold) return;
    if (level < QG_LOG_DEBUG) level = QG_LOG_DEBUG;
    if (level > QG_LOG_ERROR) level = QG_LOG_ERROR;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* one fprintf per line so lines from several threads do not interleave */
    fprintf(stderr, "qg %s: %s\n", tags[level], msg);
}

const qg_host_api qg_host_services = {
    .abi_version = QG_PLUGIN_ABI_VERSION,
    .set_error = qg_set_error,
    .log = host_log,
    .type_get = qg_type_get,
};
