/* Internal to plugins/: the process-wide plugin registry shared by the loader, the
 * default discovery, the device list and qg_backend_open. One recursive mutex guards
 * everything (loading is rare; a plugin's init may call back into the library).
 * Plugins stay loaded until the process exits, so pointers into them (vtables, names)
 * never dangle. */
#ifndef QG_PLUGINS_REGISTRY_H
#define QG_PLUGINS_REGISTRY_H

#include "core/backend_impl.h"

void qg_registry_lock(void);
void qg_registry_unlock(void);

/* Loaded plugins in load order (call with the lock held). */
int qg_registry_n_plugins(void);
qg_plugin *qg_registry_plugin(int i);
qg_plugin *qg_registry_find_name(const char *name);
qg_plugin *qg_registry_find_path(const char *real_path);
/* Takes ownership of p (heap-allocated); QG_ERR_NO_MEMORY if the list cannot grow. */
qg_status qg_registry_add(qg_plugin *p);

/* Append one attempt to the report list (copied). */
void qg_registry_report(const qg_plugin_report *r);

/* Load one file with the lock held. In discovery mode a plugin whose name is already
 * loaded is skipped: QG_OK with *out = NULL and a "skipped" report. Otherwise the same
 * as qg_plugin_load. */
qg_status qg_plugin_load_locked(const char *path, bool discovery, qg_plugin **out);

/* Load just libqg-<prefix>.so for a device name from the search places (lock held). */
void qg_plugins_load_for_device_locked(const char *device_name);
/* Whether qg_plugins_load_default has run in this process. */
bool qg_plugins_default_attempted(void);

#endif
