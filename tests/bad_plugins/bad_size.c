/* Test plugin: right ABI version but a vtable size that does not match the host's. */
#include "stubs.h"

static const qg_plugin_vtable vt = {.abi_version = QG_PLUGIN_ABI_VERSION,
                                    .struct_size = sizeof(qg_plugin_vtable) + 8,
                                    .name = "bad-size",
                                    STUB_VTABLE_FIELDS,
                                    .init = stub_init,
                                    .compute = stub_compute};

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void) { return &vt; }
