/* Default plugin discovery (qg_plugins_load_default). Places are searched in order:
 * every entry of QG_PLUGIN_PATH (':'-separated; a directory gives each libqg-*.so in it,
 * sorted by name; a file gives itself), then ../lib/qgraph next to the running executable,
 * then the install libdir. QG_PLUGIN_PATH_ONLY=1 restricts the search to QG_PLUGIN_PATH
 * (hermetic tests, conformance runs). A file already loaded is skipped silently, a second
 * plugin with a name already loaded is skipped and reported; the first one wins. */
#define _GNU_SOURCE
#include "plugins/registry.h"
#include "core/alloc.h"

#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef QG_PLUGIN_INSTALL_LIBDIR
#define QG_PLUGIN_INSTALL_LIBDIR ""
#endif

#define MAX_PLACES 32
#define SUMMARY_SIZE 4096

static bool attempted;
static char failure_summary[SUMMARY_SIZE];
static char search_path[SUMMARY_SIZE];
static char places[MAX_PLACES][PATH_MAX];
static int n_places;

bool qg_plugins_default_attempted(void) {
    qg_registry_lock();
    bool a = attempted;
    qg_registry_unlock();
    return a;
}

static void add_place(const char *p) {
    if (!p || !*p || n_places == MAX_PLACES) return;
    for (int i = 0; i < n_places; i++)
        if (strcmp(places[i], p) == 0) return;
    size_t n = strlen(p);
    if (n >= PATH_MAX) return;
    memcpy(places[n_places++], p, n + 1);
}

/* Fill places[] and search_path (once; the lock is held). */
static void compute_places(void) {
    if (n_places > 0) return;
    const char *env = getenv("QG_PLUGIN_PATH");
    if (env) {
        char *copy = qg_strdup(env);
        char *save = NULL;
        for (char *tok = copy ? strtok_r(copy, ":", &save) : NULL; tok;
             tok = strtok_r(NULL, ":", &save))
            add_place(tok);
        qg_free(copy);
    }
    const char *only = getenv("QG_PLUGIN_PATH_ONLY");
    if (!(only && *only && strcmp(only, "0") != 0)) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = '\0';
            char *slash = strrchr(exe, '/');
            if (slash) {
                *slash = '\0';
                char dir[PATH_MAX + 16];
                snprintf(dir, sizeof dir, "%s/../lib/qgraph", exe);
                char real[PATH_MAX];
                add_place(realpath(dir, real) ? real : dir);
            }
        }
        add_place(QG_PLUGIN_INSTALL_LIBDIR);
    }
    size_t len = 0;
    search_path[0] = '\0';
    for (int i = 0; i < n_places && len < sizeof search_path; i++)
        len += (size_t)snprintf(search_path + len, sizeof search_path - len, "%s%s",
                                i ? ":" : "", places[i]);
}

const char *qg_plugin_search_path(void) {
    qg_registry_lock();
    compute_places();
    qg_registry_unlock();
    return search_path;
}

static int is_plugin_name(const char *name) {
    size_t n = strlen(name);
    return n > 9 && strncmp(name, "libqg-", 6) == 0 && strcmp(name + n - 3, ".so") == 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted libqg-*.so names in dir; returns how many (negative if it cannot be read). */
static int list_dir(const char *dir, char ***names_out) {
    *names_out = NULL;
    DIR *d = opendir(dir);
    if (!d) return -1;
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_plugin_name(e->d_name)) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **grown = qg_realloc(names, (size_t)cap * sizeof *grown);
            if (!grown) break;
            names = grown;
        }
        names[n] = qg_strdup(e->d_name);
        if (names[n]) n++;
    }
    closedir(d);
    if (n > 1) qsort(names, (size_t)n, sizeof *names, cmp_str);
    *names_out = names;
    return n;
}

static void append(char *buf, size_t size, size_t *len, const char *fmt, ...) QG_PRINTF(4, 5);

static void append(char *buf, size_t size, size_t *len, const char *fmt, ...) {
    if (*len >= size) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n > 0) *len += (size_t)n;
    if (*len >= size) *len = size;
}

/* Load every candidate of one place; note what was there into the summary. */
static void search_place(const char *place, char *summary, size_t size, size_t *len) {
    struct stat st;
    if (stat(place, &st) != 0) {
        append(summary, size, len, "\n  %s (does not exist)", place);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        append(summary, size, len, "\n  %s (file)", place);
        qg_plugin_load_locked(place, true, NULL);
        return;
    }
    char **names;
    int n = list_dir(place, &names);
    if (n < 0) {
        append(summary, size, len, "\n  %s (cannot be read)", place);
        return;
    }
    append(summary, size, len, "\n  %s (%d libqg-*.so)", place, n);
    for (int i = 0; i < n; i++) {
        char file[PATH_MAX + 256];
        int len_file = snprintf(file, sizeof file, "%s/%s", place, names[i]);
        if (len_file > 0 && (size_t)len_file < sizeof file) qg_plugin_load_locked(file, true, NULL);
        qg_free(names[i]);
    }
    qg_free(names);
}

/* Load only the plugin file a device name points at (libqg-<prefix>.so, the prefix being
 * the name without its trailing index or "-variant": cpu-ref -> cpu, vulkan0 -> vulkan),
 * from the first place that has it. qg_backend_open tries this before a full discovery,
 * so opening "cpu" does not start every GPU driver on the machine (PoCL alone adds
 * ~70 MiB of RSS). The lock is held. */
void qg_plugins_load_for_device_locked(const char *device_name) {
    char prefix[64];
    size_t n = 0;
    while (device_name[n] && device_name[n] != '-' && n + 1 < sizeof prefix) n++;
    while (n > 0 && device_name[n - 1] >= '0' && device_name[n - 1] <= '9') n--;
    if (n == 0) return;
    memcpy(prefix, device_name, n);
    prefix[n] = '\0';
    compute_places();
    for (int i = 0; i < n_places; i++) {
        char file[PATH_MAX + 96];
        struct stat st;
        if (stat(places[i], &st) != 0) continue;
        const int w = S_ISDIR(st.st_mode) ? snprintf(file, sizeof file, "%s/libqg-%s.so", places[i], prefix)
                                          : snprintf(file, sizeof file, "%s", places[i]);
        if (w < 0 || (size_t)w >= sizeof file) continue; /* a path this long cannot be opened anyway */
        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;
        if (strncmp(base, "libqg-", 6) != 0 || strncmp(base + 6, prefix, n) != 0 || strcmp(base + 6 + n, ".so") != 0)
            continue;
        if (stat(file, &st) == 0 && qg_plugin_load_locked(file, true, NULL) == QG_OK) return;
    }
}

qg_status qg_plugins_load_default(void) {
    qg_registry_lock();
    if (!attempted) {
        attempted = true;
        compute_places();
        int first_report = qg_plugin_report_count();
        char searched[SUMMARY_SIZE];
        size_t len = 0;
        searched[0] = '\0';
        for (int i = 0; i < n_places; i++) search_place(places[i], searched, sizeof searched, &len);

        size_t flen = 0;
        append(failure_summary, sizeof failure_summary, &flen,
               "no backend plugin could be loaded; searched:%s", n_places ? searched : " nothing "
               "(QG_PLUGIN_PATH is empty and QG_PLUGIN_PATH_ONLY is set)");
        int n_reports = qg_plugin_report_count();
        for (int i = first_report; i < n_reports; i++) {
            qg_plugin_report r;
            if (qg_plugin_report_get(i, &r) != QG_OK || r.loaded) continue;
            const char *base = strrchr(r.path, '/');
            append(failure_summary, sizeof failure_summary, &flen, "\n  %s: %s",
                   base ? base + 1 : r.path, r.error);
        }
    }
    qg_status st = QG_OK;
    if (qg_registry_n_plugins() == 0)
        st = qg_set_error(QG_ERR_PLUGIN, "%s", failure_summary);
    else
        qg_clear_error();
    qg_registry_unlock();
    return st;
}
