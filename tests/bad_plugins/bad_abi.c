/* Test plugin: built for a future plugin ABI (version 7); the host must refuse it
 * before reading anything past the version fields. */
#include "stubs.h"

static const qg_plugin_vtable vt = {.abi_version = 7,
                                    .struct_size = sizeof(qg_plugin_vtable),
                                    .name = "bad-abi",
                                    STUB_VTABLE_FIELDS,
                                    .init = stub_init,
                                    .compute = stub_compute};

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void) { return &vt; }
