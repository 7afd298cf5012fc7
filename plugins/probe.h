/* Internal to plugins/: the out-of-process plugin probe (QG_PLUGIN_PROBE=1). */
#ifndef QG_PLUGINS_PROBE_H
#define QG_PLUGINS_PROBE_H

#include <stdbool.h>
#include <stddef.h>

/* Whether QG_PLUGIN_PROBE asks for probing (read on every call; cheap). */
bool qg_probe_enabled(void);

/* Run dlopen, the entry point, init, device_count and device_props of the plugin at
 * path in a forked child. Returns true when the child finished (whatever the plugin
 * answered: ordinary failures are left to the in-process loader, which reports them
 * as usual); false when it crashed, exited early or timed out, with why filled in
 * ("crashed in init (signal 11) during probe; skipped"). */
bool qg_probe_plugin(const char *path, char *why, size_t why_size);

#endif
