/* Test plugin: a valid vtable except that the required compute() is NULL. */
#include "stubs.h"

static const qg_plugin_vtable vt = {.abi_version = QG_PLUGIN_ABI_VERSION,
                                    .struct_size = sizeof(qg_plugin_vtable),
                                    .name = "null-fn",
                                    STUB_VTABLE_FIELDS,
                                    .init = stub_init};

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void) { return &vt; }
