/* Test plugin: needs libqgbaddep.so, which the dynamic linker cannot find at run time
 * (it is built into a directory that is on no search path and the plugin has no RPATH). */
#include "stubs.h"

int qg_bad_dep_value(void);

static qg_status dep_init(const qg_host_api *host) {
    (void)host;
    return qg_bad_dep_value() == 42 ? QG_OK : QG_ERR_PLUGIN;
}

static const qg_plugin_vtable vt = {.abi_version = QG_PLUGIN_ABI_VERSION,
                                    .struct_size = sizeof(qg_plugin_vtable),
                                    .name = "missing-dep",
                                    STUB_VTABLE_FIELDS,
                                    .compute = stub_compute,
                                    .init = dep_init};

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void) { return &vt; }
