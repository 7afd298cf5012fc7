/* The plugin registry: the list of loaded plugins, the report of every load attempt,
 * and the device enumeration across plugins (qg_device_count / qg_device_get). Memory
 * stays reachable from static pointers until exit, so leak checkers stay quiet. */
#define _GNU_SOURCE
#include "plugins/registry.h"
#include "core/alloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t registry_mutex;
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;

static qg_plugin **plugins;
static int n_plugins, cap_plugins;

static qg_plugin_report *reports;
static int n_reports, cap_reports;

static void init_mutex(void) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&registry_mutex, &attr);
    pthread_mutexattr_destroy(&attr);
}

void qg_registry_lock(void) {
    pthread_once(&registry_once, init_mutex);
    pthread_mutex_lock(&registry_mutex);
}

void qg_registry_unlock(void) { pthread_mutex_unlock(&registry_mutex); }

int qg_registry_n_plugins(void) { return n_plugins; }

qg_plugin *qg_registry_plugin(int i) { return i >= 0 && i < n_plugins ? plugins[i] : NULL; }

qg_plugin *qg_registry_find_name(const char *name) {
    for (int i = 0; i < n_plugins; i++)
        if (strcmp(plugins[i]->vt->name, name) == 0) return plugins[i];
    return NULL;
}

qg_plugin *qg_registry_find_path(const char *real_path) {
    for (int i = 0; i < n_plugins; i++)
        if (strcmp(plugins[i]->path, real_path) == 0) return plugins[i];
    return NULL;
}

qg_status qg_registry_add(qg_plugin *p) {
    if (n_plugins == cap_plugins) {
        int cap = cap_plugins ? 2 * cap_plugins : 8;
        qg_plugin **grown = qg_realloc(plugins, (size_t)cap * sizeof *grown);
        if (!grown) return qg_set_error(QG_ERR_NO_MEMORY, "plugin registry: out of memory");
        plugins = grown;
        cap_plugins = cap;
    }
    plugins[n_plugins++] = p;
    return QG_OK;
}

void qg_registry_report(const qg_plugin_report *r) {
    if (n_reports == cap_reports) {
        int cap = cap_reports ? 2 * cap_reports : 8;
        qg_plugin_report *grown = qg_realloc(reports, (size_t)cap * sizeof *grown);
        if (!grown) return; /* the report is best effort; the status still reaches the caller */
        reports = grown;
        cap_reports = cap;
    }
    reports[n_reports++] = *r;
}

int qg_plugin_report_count(void) {
    qg_registry_lock();
    int n = n_reports;
    qg_registry_unlock();
    return n;
}

qg_status qg_plugin_report_get(int i, qg_plugin_report *out) {
    if (!out) return qg_set_error(QG_ERR_INVALID_ARG, "qg_plugin_report_get: out is NULL");
    qg_registry_lock();
    qg_status st = QG_OK;
    if (i < 0 || i >= n_reports)
        st = qg_set_error(QG_ERR_NOT_FOUND, "plugin report %d out of range (%d entries)", i,
                          n_reports);
    else
        *out = reports[i];
    qg_registry_unlock();
    return st;
}

int qg_device_count(void) {
    qg_registry_lock();
    int n = 0;
    for (int i = 0; i < n_plugins; i++) n += plugins[i]->n_devices;
    qg_registry_unlock();
    return n;
}

qg_status qg_device_get(int i, qg_device_props *props, const char **plugin_name) {
    if (!props) return qg_set_error(QG_ERR_INVALID_ARG, "qg_device_get: props is NULL");
    qg_registry_lock();
    qg_status st = QG_OK;
    bool found = false;
    int first = 0;
    for (int p = 0; p < n_plugins; p++) {
        qg_plugin *pl = plugins[p];
        if (i >= first && i < first + pl->n_devices) {
            found = true;
            memset(props, 0, sizeof *props);
            st = pl->vt->device_props(i - first, props);
            props->name[sizeof props->name - 1] = '\0';
            props->description[sizeof props->description - 1] = '\0';
            props->features[sizeof props->features - 1] = '\0';
            if (st == QG_OK && plugin_name) *plugin_name = pl->vt->name;
            break;
        }
        first += pl->n_devices;
    }
    if (!found)
        st = qg_set_error(QG_ERR_NOT_FOUND, "device %d out of range (%d devices)", i, first);
    qg_registry_unlock();
    return st;
}
