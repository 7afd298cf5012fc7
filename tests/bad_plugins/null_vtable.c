/* Test plugin: the entry symbol exists but returns no vtable. */
#include "qg/plugin.h"

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void) { return NULL; }
