/* libqg-vulkan.so: the Vulkan backend plugin. One device per Vulkan 1.1 physical device
 * (vulkan0, vulkan1, ...). Options: "subgroups" (1/0: subgroup reductions in the
 * mat-vec kernel, default on where the device supports subgroup arithmetic), "matmul"
 * (auto|vec|tiled: force a MUL_MAT path), "staging" (1/0: for buffers allocated later,
 * never map memory and move bytes through the staging buffer; default from
 * QG_VULKAN_STAGING), "fp16math" (1/0: float16 arithmetic in the F16 mat-vec where the
 * device has it; default 0, or QG_VULKAN_FP16MATH=1); read-only "variants" (pipelines
 * built from a feature variant).
 * QG_VULKAN_VERBOSE=1 logs each kernel build and its time to stderr; QG_VK_DISABLE
 * hides device features (features.c).
 * See vk.h for the execution model.
 */
#include "vk.h"

#include <stdio.h>
#include <string.h>

static qg_status vkp_init(const qg_host_api *host) {
    if (!host) return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: init given no host services");
    if (host->abi_version != QG_PLUGIN_ABI_VERSION)
        return qg_set_error(QG_ERR_PLUGIN, "vulkan: host ABI version %u, plugin built for %d", host->abi_version,
                            QG_PLUGIN_ABI_VERSION);
    return vk_global_init();
}

static void vkp_shutdown(void) { vk_global_shutdown(); }

static qg_status vkp_device_count(int *count) {
    if (!count) return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: device_count given NULL");
    *count = vk_g.n_phys;
    return QG_OK;
}

static qg_status check_index(int index) {
    if (!vk_g.instance)
        return qg_set_error(QG_ERR_NOT_FOUND, "vulkan: no Vulkan instance (vkCreateInstance: %s): no device %d",
                            vk_result_name(vk_g.init_result), index);
    if (index < 0 || index >= vk_g.n_phys)
        return qg_set_error(QG_ERR_NOT_FOUND, "vulkan: no device %d (found %d Vulkan 1.1 devices)", index,
                            vk_g.n_phys);
    return QG_OK;
}

static qg_status vkp_device_props(int index, qg_device_props *props) {
    qg_status st = check_index(index);
    if (st != QG_OK) return st;
    if (!props) return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: device_props given NULL");
    vk_fill_props(index, props);
    return QG_OK;
}

static qg_status vkp_device_open(int index, qg_plugin_device **dev) {
    qg_status st = check_index(index);
    if (st != QG_OK) return st;
    if (!dev) return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: device_open given NULL");
    return vk_device_open(index, dev);
}

static qg_status parse_bool(const char *key, const char *value, bool *out) {
    if (strcmp(value, "1") == 0 || strcmp(value, "on") == 0 || strcmp(value, "true") == 0) *out = true;
    else if (strcmp(value, "0") == 0 || strcmp(value, "off") == 0 || strcmp(value, "false") == 0) *out = false;
    else return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: option %s=\"%s\": expected 1 or 0", key, value);
    return QG_OK;
}

static qg_status vkp_set_option(qg_plugin_device *d, const char *key, const char *value) {
    if (!d || !key || !value) return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: set_option given NULL");
    bool b;
    qg_status st;
    if (strcmp(key, "subgroups") == 0) {
        if ((st = parse_bool(key, value, &b)) != QG_OK) return st;
        if (b && !d->has_subgroup_arith)
            return qg_set_error(QG_ERR_UNSUPPORTED, "vulkan: %s has no subgroup arithmetic in compute shaders", d->name);
        d->use_subgroups = b;
        return QG_OK;
    }
    if (strcmp(key, "staging") == 0) {
        if ((st = parse_bool(key, value, &b)) != QG_OK) return st;
        d->force_staging = b;
        return QG_OK;
    }
    if (strcmp(key, "fp16math") == 0) {
        if ((st = parse_bool(key, value, &b)) != QG_OK) return st;
        if (b && !(d->has_f16 && d->has_storage16))
            return qg_set_error(QG_ERR_UNSUPPORTED, "vulkan: %s has no shaderFloat16 with 16-bit storage (or "
                                "QG_VK_DISABLE hides them)", d->name);
        d->features = b ? d->features | VKF_FP16MATH : d->features & ~VKF_FP16MATH;
        return QG_OK;
    }
    if (strcmp(key, "matmul") == 0) {
        if (strcmp(value, "auto") == 0) d->mm_path = 0;
        else if (strcmp(value, "vec") == 0) d->mm_path = 1;
        else if (strcmp(value, "tiled") == 0) d->mm_path = 2;
        else return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: option matmul=\"%s\": expected auto, vec or tiled", value);
        return QG_OK;
    }
    return qg_set_error(QG_ERR_NOT_FOUND, "vulkan: unknown option \"%s\"", key);
}

static qg_status put(char *value, size_t size, const char *key, const char *fmt, unsigned v) {
    int n = snprintf(value, size, fmt, v);
    if (n < 0 || (size_t)n >= size)
        return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: option %s needs %d bytes, buffer has %zu", key, n + 1, size);
    return QG_OK;
}

static qg_status vkp_get_option(qg_plugin_device *d, const char *key, char *value, size_t size) {
    if (!d || !key || !value) return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: get_option given NULL");
    if (strcmp(key, "subgroups") == 0) return put(value, size, key, "%u", d->use_subgroups);
    if (strcmp(key, "staging") == 0) return put(value, size, key, "%u", d->force_staging);
    if (strcmp(key, "fp16math") == 0) return put(value, size, key, "%u", (d->features & VKF_FP16MATH) != 0);
    if (strcmp(key, "matmul") == 0)
        return put(value, size, key, d->mm_path == 0 ? "auto" : d->mm_path == 1 ? "vec" : "tiled", 0);
    /* Read-only statistics of the last compute (for tests). */
    if (strcmp(key, "dispatches") == 0) return put(value, size, key, "%u", (unsigned)d->n_dispatch);
    if (strcmp(key, "barriers") == 0) return put(value, size, key, "%u", (unsigned)d->n_barriers);
    /* Pipelines built so far from a feature variant (pipeline.c), 0 with QG_VK_DISABLE=all. */
    if (strcmp(key, "variants") == 0) return put(value, size, key, "%u", (unsigned)d->n_variant_pipes);
    return qg_set_error(QG_ERR_NOT_FOUND, "vulkan: unknown option \"%s\"", key);
}

static qg_status vkp_buffer_alloc(qg_plugin_device *d, size_t size, qg_plugin_buffer **buf, void **base) {
    if (!d || !buf || !base) return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: buffer_alloc given NULL");
    return vk_buffer_alloc(d, size, buf, base);
}

static bool vkp_supports(qg_plugin_device *d, const qg_tensor *node) { return d && vk_supports(d, node); }

static qg_status vkp_compute(qg_plugin_device *d, qg_tensor *const *nodes, int n) {
    if (!d) return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: compute on a NULL device");
    return vk_compute(d, nodes, n, d->mm_path);
}

static qg_status vkp_synchronize(qg_plugin_device *d) {
    if (!d) return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: synchronize on a NULL device");
    return vk_wait(d);
}

static const qg_plugin_vtable vtable = {
    .abi_version = QG_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(qg_plugin_vtable),
    .name = "vulkan",
    .version = "0.1.0",
    .init = vkp_init,
    .shutdown = vkp_shutdown,
    .device_count = vkp_device_count,
    .device_props = vkp_device_props,
    .device_open = vkp_device_open,
    .device_close = vk_device_close,
    .set_option = vkp_set_option,
    .get_option = vkp_get_option,
    .buffer_alloc = vkp_buffer_alloc,
    .buffer_free = vk_buffer_free,
    .buffer_set = vk_buffer_set,
    .buffer_get = vk_buffer_get,
    .buffer_copy = vk_buffer_copy,
    .buffer_clear = vk_buffer_clear,
    .supports_op = vkp_supports,
    .compute = vkp_compute,
    .synchronize = vkp_synchronize,
    .event_new = NULL,
    .event_free = NULL,
    .event_record = NULL,
    .event_wait = NULL,
};

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void);

QG_PLUGIN_EXPORT const qg_plugin_vtable *qg_plugin_entry(void) { return &vtable; }
