/* Backend objects: opening a device by name across all loaded plugins and forwarding
 * the per-device calls (options, supports_op, synchronize) to the owning plugin. */
#define _GNU_SOURCE
#include "plugins/registry.h"
#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Find the device called name: its plugin and index inside it (lock held). */
static qg_plugin *find_device(const char *name, int *index, qg_device_props *props) {
    for (int p = 0; p < qg_registry_n_plugins(); p++) {
        qg_plugin *pl = qg_registry_plugin(p);
        for (int d = 0; d < pl->n_devices; d++) {
            memset(props, 0, sizeof *props);
            if (pl->vt->device_props(d, props) != QG_OK) continue;
            props->name[sizeof props->name - 1] = '\0';
            props->description[sizeof props->description - 1] = '\0';
            props->features[sizeof props->features - 1] = '\0';
            if (strcmp(props->name, name) == 0) {
                *index = d;
                return pl;
            }
        }
    }
    return NULL;
}

/* "cpu, cpu-ref, vulkan0" or "none" (lock held). */
static void device_names(char *buf, size_t size) {
    size_t len = 0;
    buf[0] = '\0';
    for (int p = 0; p < qg_registry_n_plugins(); p++) {
        qg_plugin *pl = qg_registry_plugin(p);
        for (int d = 0; d < pl->n_devices; d++) {
            qg_device_props props;
            memset(&props, 0, sizeof props);
            if (pl->vt->device_props(d, &props) != QG_OK) continue;
            props.name[sizeof props.name - 1] = '\0';
            int n = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", props.name);
            if (n < 0 || (size_t)n >= size - len) return;
            len += (size_t)n;
        }
    }
    if (!len) snprintf(buf, size, "none");
}

qg_status qg_backend_open(const char *device_name, qg_backend **out) {
    if (!out) return qg_set_error(QG_ERR_INVALID_ARG, "qg_backend_open: out is NULL");
    *out = NULL;
    if (!device_name || !*device_name)
        return qg_set_error(QG_ERR_INVALID_ARG, "qg_backend_open: empty device name");

    qg_registry_lock();
    qg_device_props props;
    int index = -1;
    qg_plugin *pl = find_device(device_name, &index, &props);
    if (!pl && !qg_plugins_default_attempted()) {
        qg_plugins_load_for_device_locked(device_name); /* the one plugin it names, if any */
        pl = find_device(device_name, &index, &props);
    }
    if (!pl && (!qg_plugins_default_attempted() || qg_registry_n_plugins() == 0)) {
        /* idempotent: after a failed discovery this repeats its message */
        qg_status st = qg_plugins_load_default();
        if (st != QG_OK && qg_registry_n_plugins() == 0) {
            qg_registry_unlock();
            return st;
        }
        pl = find_device(device_name, &index, &props);
    }
    if (!pl) {
        char names[512];
        device_names(names, sizeof names);
        qg_registry_unlock();
        return qg_set_error(QG_ERR_NOT_FOUND, "no device named '%s'; available: %s (search path %s)",
                            device_name, names, qg_plugin_search_path());
    }
    qg_registry_unlock();

    qg_backend *be = qg_calloc(1, sizeof *be);
    if (!be) return qg_set_error(QG_ERR_NO_MEMORY, "qg_backend_open: out of memory");
    qg_clear_error();
    qg_status st = pl->vt->device_open(index, &be->dev);
    if (st != QG_OK) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", *qg_last_error() ? qg_last_error() : qg_status_name(st));
        qg_free(be);
        return qg_set_error(st, "opening device '%s' of plugin '%s' failed: %s", device_name,
                            pl->vt->name, msg);
    }
    /* recursive: a locked call (a scheduler's copy) may set a tensor on the same device */
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&be->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    be->plugin = pl;
    be->vt = pl->vt;
    be->device_index = index;
    be->props = props;
    *out = be;
    return QG_OK;
}

void qg_backend_free(qg_backend *be) {
    if (!be) return;
    if (be->dev) be->vt->device_close(be->dev);
    pthread_mutex_destroy(&be->lock);
    qg_free(be);
}

const qg_device_props *qg_backend_props(const qg_backend *be) { return be ? &be->props : NULL; }

const char *qg_backend_name(const qg_backend *be) { return be ? be->props.name : "(null)"; }

qg_status qg_backend_set_option(qg_backend *be, const char *key, const char *value) {
    if (!be || !key || !value)
        return qg_set_error(QG_ERR_INVALID_ARG, "qg_backend_set_option: NULL argument");
    if (!be->vt->set_option)
        return qg_set_error(QG_ERR_UNSUPPORTED, "device '%s' has no settable options (key '%s')",
                            be->props.name, key);
    pthread_mutex_lock(&be->lock);
    qg_status st = be->vt->set_option(be->dev, key, value);
    pthread_mutex_unlock(&be->lock);
    return st;
}

qg_status qg_backend_get_option(qg_backend *be, const char *key, char *value, size_t size) {
    if (!be || !key || !value || size == 0)
        return qg_set_error(QG_ERR_INVALID_ARG, "qg_backend_get_option: NULL argument or size 0");
    if (!be->vt->get_option)
        return qg_set_error(QG_ERR_UNSUPPORTED, "device '%s' has no readable options (key '%s')",
                            be->props.name, key);
    value[0] = '\0';
    pthread_mutex_lock(&be->lock);
    qg_status st = be->vt->get_option(be->dev, key, value, size);
    pthread_mutex_unlock(&be->lock);
    value[size - 1] = '\0';
    return st;
}

bool qg_backend_supports_op(qg_backend *be, const qg_tensor *node) {
    if (!be || !node) return false;
    return be->vt->supports_op(be->dev, node);
}

qg_status qg_backend_synchronize(qg_backend *be) {
    if (!be) return qg_set_error(QG_ERR_INVALID_ARG, "qg_backend_synchronize: backend is NULL");
    pthread_mutex_lock(&be->lock);
    qg_status st = be->vt->synchronize(be->dev);
    pthread_mutex_unlock(&be->lock);
    return st;
}
