/* The plugin probe: with QG_PLUGIN_PROBE=1 the loader first tries each plugin in a
 * forked child, so that a plugin that crashes or hangs in its entry point, init,
 * device_count or device_props takes down the child instead of the process.
 *
 * The child reports its progress over a pipe, one byte per stage reached; the parent
 * reads until end of file (or until QG_PLUGIN_PROBE_TIMEOUT seconds, default 10, pass;
 * then it kills the child) and reaps it. A child that reaches the final stage passed;
 * any other end (signal, exit status, timeout) names the last stage it entered. The
 * child never returns into the caller: it leaves with _exit() so that no atexit
 * handler or stdio buffer of the parent runs twice, and it puts the fatal signals back
 * to their default action so that a crash ends it with that signal. Not a sandbox: a plugin that
 * passes the probe is then loaded in-process as usual (so its init runs twice).
 */
#define _GNU_SOURCE
#include "plugins/probe.h"
#include "plugins/registry.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { ST_DLOPEN = 'o', ST_ENTRY = 'e', ST_INIT = 'i', ST_COUNT = 'c', ST_PROPS = 'p', ST_DONE = 'k' };

static const char *stage_name(int stage) {
    switch (stage) {
    case ST_DLOPEN: return "dlopen (library constructors)";
    case ST_ENTRY: return "its entry point";
    case ST_INIT: return "init";
    case ST_COUNT: return "device_count";
    case ST_PROPS: return "device_props";
    default: return "startup";
    }
}

bool qg_probe_enabled(void) {
    const char *e = getenv("QG_PLUGIN_PROBE");
    return e && *e && strcmp(e, "0") != 0;
}

static void mark(int fd, char stage) {
    ssize_t r;
    do r = write(fd, &stage, 1);
    while (r < 0 && errno == EINTR);
}

static qg_plugin_entry_fn entry_from_symbol(void *sym) {
    qg_plugin_entry_fn fn;
    memcpy(&fn, &sym, sizeof fn);
    return fn;
}

/* The child's work; ordinary failures just stop early with ST_DONE written, since the
 * in-process loader will find and report them again. */
static void child_run(const char *path, int fd) {
    mark(fd, ST_DLOPEN);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
    void *sym = dlsym(h, QG_PLUGIN_ENTRY);
    if (!sym) return;
    mark(fd, ST_ENTRY);
    const qg_plugin_vtable *vt = entry_from_symbol(sym)();
    if (!vt || vt->abi_version != QG_PLUGIN_ABI_VERSION || vt->struct_size != sizeof(qg_plugin_vtable)) return;
    if (!vt->init || !vt->device_count || !vt->device_props) return;
    mark(fd, ST_INIT);
    if (vt->init(&qg_host_services) != QG_OK) return;
    mark(fd, ST_COUNT);
    int n = 0;
    if (vt->device_count(&n) != QG_OK) return;
    mark(fd, ST_PROPS);
    for (int i = 0; i < n && i < 64; i++) {
        qg_device_props props;
        memset(&props, 0, sizeof props);
        (void)vt->device_props(i, &props);
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double timeout_s(void) {
    const char *e = getenv("QG_PLUGIN_PROBE_TIMEOUT");
    double t = e && *e ? strtod(e, NULL) : 10.0;
    return t > 0 ? t : 10.0;
}

bool qg_probe_plugin(const char *path, char *why, size_t why_size) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int fds[2];
    if (pipe(fds) != 0) {
        snprintf(why, why_size, "plugin %s: cannot create the probe pipe (%s); skipped", base, strerror(errno));
        return false;
    }
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_size, "plugin %s: cannot fork the probe (%s); skipped", base, strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0) {
        /* The parent's crash handlers (a test framework's, a sanitizer's) must not run
         * in the child: a crash there has to end it with the signal itself. */
        static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};
        for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) signal(fatal[i], SIG_DFL);
        close(fds[0]);
        child_run(path, fds[1]);
        mark(fds[1], ST_DONE);
        _exit(0);
    }
    close(fds[1]);
    int last = 0;
    bool timed_out = false;
    double deadline = now_s() + timeout_s();
    for (;;) {
        double left = deadline - now_s();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) continue; /* timeout is caught at the top */
        char buf[16];
        ssize_t r = read(fds[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break; /* end of file: the child is gone */
        last = buf[r - 1];
    }
    close(fds[0]);
    if (timed_out) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!timed_out && last == ST_DONE && WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
    if (timed_out)
        snprintf(why, why_size, "plugin %s hung in %s (no answer in %.0f s) during probe; skipped", base,
                 stage_name(last), timeout_s());
    else if (WIFSIGNALED(status))
        snprintf(why, why_size, "plugin %s crashed in %s (signal %d) during probe; skipped", base, stage_name(last),
                 WTERMSIG(status));
    else
        snprintf(why, why_size, "plugin %s crashed in %s (exit status %d) during probe; skipped", base,
                 stage_name(last), WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return false;
}
