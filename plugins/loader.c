/* Loading one plugin file: dlopen, find the entry symbol, check the ABI version and
 * vtable size before touching anything else, check the required functions, refuse a
 * duplicate name, init() and count devices. Every attempt lands in the report list;
 * a failure closes the handle and returns QG_ERR_PLUGIN naming the file and the cause. */
#define _GNU_SOURCE
#include "plugins/registry.h"
#include "core/alloc.h"
#include "plugins/probe.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copy with truncation (paths longer than the fixed fields are cut, not overflowed). */
static void copy_str(char *dst, size_t size, const char *src) {
    size_t n = src ? strlen(src) : 0;
    if (n >= size) n = size - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Record a failed attempt and set the thread's error: "plugin '<path>': <cause>". */
static qg_status fail(qg_plugin_report *r, void *handle, const char *fmt, ...) QG_PRINTF(3, 4);

static qg_status fail(qg_plugin_report *r, void *handle, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    if (handle) dlclose(handle);
    r->loaded = false;
    r->status = QG_ERR_PLUGIN;
    qg_registry_report(r);
    qg_host_services.log(QG_LOG_INFO, "plugin '%s' not loaded: %s", r->path, r->error);
    return qg_set_error(QG_ERR_PLUGIN, "plugin '%s': %s", r->path, r->error);
}

/* The name of the first required function that is NULL, or NULL when all are set. */
static const char *missing_function(const qg_plugin_vtable *vt) {
#define REQUIRE(fn) if (!vt->fn) return #fn
    REQUIRE(init);
    REQUIRE(device_count);
    REQUIRE(device_props);
    REQUIRE(device_open);
    REQUIRE(device_close);
    REQUIRE(buffer_alloc);
    REQUIRE(buffer_free);
    REQUIRE(buffer_set);
    REQUIRE(buffer_get);
    REQUIRE(buffer_copy);
    REQUIRE(buffer_clear);
    REQUIRE(supports_op);
    REQUIRE(compute);
    REQUIRE(synchronize);
#undef REQUIRE
    return NULL;
}

static qg_plugin_entry_fn entry_from_symbol(void *sym) {
    qg_plugin_entry_fn fn;
    memcpy(&fn, &sym, sizeof fn); /* POSIX guarantees data and function pointers match */
    return fn;
}

qg_status qg_plugin_load_locked(const char *path, bool discovery, qg_plugin **out) {
    if (out) *out = NULL;
    if (!path || !*path) return qg_set_error(QG_ERR_INVALID_ARG, "qg_plugin_load: empty path");

    qg_plugin_report r;
    memset(&r, 0, sizeof r);
    copy_str(r.path, sizeof r.path, path);

    /* Same file loaded before (any spelling of its path): hand back that plugin. */
    char real[PATH_MAX];
    if (realpath(path, real)) {
        qg_plugin *same = qg_registry_find_path(real);
        if (same) {
            if (out) *out = same;
            return QG_OK;
        }
    } else {
        copy_str(real, sizeof real, path);
    }

    /* QG_PLUGIN_PROBE=1: a plugin that crashes or hangs in a child is never dlopen'ed here. */
    char why[sizeof r.error];
    if (qg_probe_enabled() && !qg_probe_plugin(path, why, sizeof why)) return fail(&r, NULL, "%s", why);

    dlerror();
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        return fail(&r, NULL, "%s", why ? why : "dlopen failed");
    }
    dlerror();
    void *sym = dlsym(handle, QG_PLUGIN_ENTRY);
    if (!sym) return fail(&r, handle, "missing symbol " QG_PLUGIN_ENTRY " (not a qgraph plugin?)");

    const qg_plugin_vtable *vt = entry_from_symbol(sym)();
    if (!vt) return fail(&r, handle, QG_PLUGIN_ENTRY "() returned NULL");
    /* Nothing but these two fields may be read before they match. */
    if (vt->abi_version != QG_PLUGIN_ABI_VERSION)
        return fail(&r, handle, "ABI version %u, host expects %d", (unsigned)vt->abi_version,
                    QG_PLUGIN_ABI_VERSION);
    if (vt->struct_size != sizeof(qg_plugin_vtable))
        return fail(&r, handle, "vtable size %u bytes, host expects %zu (built against another "
                    "qg/plugin.h)", (unsigned)vt->struct_size, sizeof(qg_plugin_vtable));

    if (!vt->name || !vt->name[0]) return fail(&r, handle, "vtable has no plugin name");
    if (strlen(vt->name) >= sizeof r.name)
        return fail(&r, handle, "plugin name longer than %zu bytes", sizeof r.name - 1);
    copy_str(r.name, sizeof r.name, vt->name);
    copy_str(r.version, sizeof r.version, vt->version);

    const char *missing = missing_function(vt);
    if (missing) return fail(&r, handle, "required function %s is NULL in the vtable", missing);
    int n_events = !!vt->event_new + !!vt->event_free + !!vt->event_record + !!vt->event_wait;
    if (n_events != 0 && n_events != 4)
        return fail(&r, handle, "event functions must be all set or all NULL (%d of 4 set)",
                    n_events);

    qg_plugin *prev = qg_registry_find_name(vt->name);
    if (prev) {
        if (!discovery)
            return fail(&r, handle, "a plugin named '%s' is already loaded from '%s'", vt->name,
                        prev->path);
        snprintf(r.error, sizeof r.error, "skipped: a plugin named '%s' is already loaded from '%.400s'",
                 vt->name, prev->path);
        dlclose(handle);
        r.status = QG_OK;
        qg_registry_report(&r);
        qg_host_services.log(QG_LOG_INFO, "plugin '%s' %s", path, r.error);
        return QG_OK;
    }

    qg_clear_error();
    qg_status st = vt->init(&qg_host_services);
    if (st != QG_OK) {
        const char *msg = qg_last_error();
        return fail(&r, handle, "init failed: %s", *msg ? msg : qg_status_name(st));
    }
    int n_devices = -1;
    qg_clear_error();
    st = vt->device_count(&n_devices);
    if (st != QG_OK || n_devices < 0) {
        char msg[400];
        copy_str(msg, sizeof msg, *qg_last_error() ? qg_last_error() : qg_status_name(st));
        if (vt->shutdown) vt->shutdown();
        if (st == QG_OK) return fail(&r, handle, "device_count gave %d", n_devices);
        return fail(&r, handle, "device_count failed: %s", msg);
    }

    qg_plugin *p = qg_calloc(1, sizeof *p);
    if (!p || qg_registry_add(p) != QG_OK) {
        qg_free(p);
        if (vt->shutdown) vt->shutdown();
        return fail(&r, handle, "out of memory");
    }
    copy_str(p->path, sizeof p->path, real);
    p->handle = handle;
    p->vt = vt;
    p->n_devices = n_devices;

    r.loaded = true;
    r.status = QG_OK;
    r.n_devices = n_devices;
    qg_registry_report(&r);
    qg_host_services.log(QG_LOG_DEBUG, "loaded plugin '%s' %s from '%s' (%d devices)", vt->name,
                         r.version, real, n_devices);
    qg_clear_error();
    if (out) *out = p;
    return QG_OK;
}

qg_status qg_plugin_load(const char *path, qg_plugin **out) {
    qg_registry_lock();
    qg_status st = qg_plugin_load_locked(path, false, out);
    qg_registry_unlock();
    return st;
}
