/* Test plugin: a shared object that does not export qg_plugin_entry (a typo'd name). */
#include "stubs.h"

static const qg_plugin_vtable vt = {.abi_version = QG_PLUGIN_ABI_VERSION,
                                    .struct_size = sizeof(qg_plugin_vtable),
                                    .name = "no-entry",
                                    STUB_VTABLE_FIELDS,
                                    .init = stub_init,
                                    .compute = stub_compute};

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry_point(void) { return &vt; }
