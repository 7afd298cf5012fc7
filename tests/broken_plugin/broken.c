/* A deliberately wrong backend for testing `qg conform`: the template plugin
 * (plugins/template/template.c, compiled into this file with its entry point renamed)
 * with two changes made through its vtable: the plugin is called "broken" with device
 * "broken0", and after every MUL_MAT it adds 1e-2 to the first output element. Everything
 * else (ADD, buffers, supports_op) is the template's own code, so `qg conform --plugin`
 * must report FAIL for MUL_MAT cases while ADD cases still pass.
 */
#include <stdio.h>

#define qg_plugin_entry template_plugin_entry
#include "../../plugins/template/template.c"
#undef qg_plugin_entry

static qg_plugin_vtable broken_vtable;
static const qg_plugin_vtable *inner;

static qg_status broken_device_props(int index, qg_device_props *props) {
    qg_status st = inner->device_props(index, props);
    if (st == QG_OK) {
        snprintf(props->name, sizeof props->name, "broken%d", index);
        snprintf(props->description, sizeof props->description,
                 "deliberately broken: the template with MUL_MAT off by 1e-2 in one element");
    }
    return st;
}

static qg_status broken_compute(qg_plugin_device *dev, qg_tensor *const *nodes, int n_nodes) {
    qg_status st = inner->compute(dev, nodes, n_nodes);
    if (st != QG_OK) return st;
    for (int i = 0; i < n_nodes; i++)
        if (nodes[i]->op == QG_OP_MUL_MAT && nodes[i]->type == QG_TYPE_F32 && nodes[i]->data)
            *(float *)nodes[i]->data += 1e-2f;
    return QG_OK;
}

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void) {
    inner = template_plugin_entry();
    broken_vtable = *inner;
    broken_vtable.name = "broken";
    broken_vtable.version = "1.0-broken";
    broken_vtable.device_props = broken_device_props;
    broken_vtable.compute = broken_compute;
    return &broken_vtable;
}
