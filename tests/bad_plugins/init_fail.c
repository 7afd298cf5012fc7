/* Test plugin: init() fails and explains why through the host's set_error. */
#include "stubs.h"

static qg_status failing_init(const qg_host_api *host) {
    return host->set_error(QG_ERR_BACKEND, "init-fail: the frobnicator is not plugged in");
}

static const qg_plugin_vtable vt = {.abi_version = QG_PLUGIN_ABI_VERSION,
                                    .struct_size = sizeof(qg_plugin_vtable),
                                    .name = "init-fail",
                                    STUB_VTABLE_FIELDS,
                                    .compute = stub_compute,
                                    .init = failing_init};

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void) { return &vt; }
