/* The Vulkan instance shared by all devices of the plugin, created at init: Vulkan 1.1
 * to 1.3 (what the loader has), no layers or extensions. No loader/driver is not an init
 * failure: the plugin then has no devices and device_open reports the VkResult. Also the
 * device properties the host lists (name vulkanN, the driver's device name, heap sizes,
 * capability words: the effective features, see features.c).
 */
#include "vk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vk_global vk_g;

qg_status vk_global_init(void) {
    if (vk_g.instance) return QG_OK;
    /* Ask for the loader's version up to 1.3, so that devices with Vulkan 1.2/1.3 give
     * 8-bit storage, float16/int8 and integer dot product as core features. */
    uint32_t api = VK_API_VERSION_1_1;
    if (vkEnumerateInstanceVersion(&api) != VK_SUCCESS || api < VK_API_VERSION_1_1) api = VK_API_VERSION_1_1;
    if (api > VK_API_VERSION_1_3) api = VK_API_VERSION_1_3;
    vk_g.api_version = VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(api), VK_API_VERSION_MINOR(api), 0);
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "qgraph",
        .pEngineName = "qgraph",
        .apiVersion = vk_g.api_version,
    };
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    VkResult r = vkCreateInstance(&ci, NULL, &vk_g.instance);
    if (r != VK_SUCCESS) {
        vk_g.instance = VK_NULL_HANDLE;
        vk_g.init_result = r;
        return QG_OK;
    }
    uint32_t n = VK_MAX_DEVICES;
    r = vkEnumeratePhysicalDevices(vk_g.instance, &n, vk_g.phys);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        vk_g.init_result = r;
        n = 0;
    }
    /* Only devices with Vulkan 1.1 (subgroup properties, descriptor features we use). */
    int k = 0;
    for (uint32_t i = 0; i < n; i++) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(vk_g.phys[i], &p);
        if (p.apiVersion >= VK_API_VERSION_1_1) vk_g.phys[k++] = vk_g.phys[i];
    }
    vk_g.n_phys = k;
    return QG_OK;
}

void vk_global_shutdown(void) {
    if (vk_g.instance) vkDestroyInstance(vk_g.instance, NULL);
    memset(&vk_g, 0, sizeof vk_g);
}

size_t vk_max_alloc(VkPhysicalDevice pd) {
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3};
    vkGetPhysicalDeviceProperties2(pd, &p2);
    /* Offsets are 32-bit in the kernels: cap single buffers below 4 GiB. */
    uint64_t cap = m3.maxMemoryAllocationSize;
    if (cap > 0xfffffff0u) cap = 0xfffffff0u;
    return (size_t)cap;
}

static void append(char *out, size_t size, const char *word) {
    size_t len = strlen(out);
    if (len < size) snprintf(out + len, size - len, "%s%s", len ? " " : "", word);
}

void vk_fill_props(int index, qg_device_props *p) {
    memset(p, 0, sizeof *p);
    VkPhysicalDevice pd = vk_g.phys[index];
    VkPhysicalDeviceProperties pr;
    vkGetPhysicalDeviceProperties(pd, &pr);
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(pd, &mp);
    snprintf(p->name, sizeof p->name, "vulkan%d", index);
    snprintf(p->description, sizeof p->description, "%.96s (Vulkan %u.%u.%u)", pr.deviceName,
             VK_API_VERSION_MAJOR(pr.apiVersion), VK_API_VERSION_MINOR(pr.apiVersion),
             VK_API_VERSION_PATCH(pr.apiVersion));
    for (uint32_t h = 0; h < mp.memoryHeapCount; h++)
        if (mp.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) p->memory_total += mp.memoryHeaps[h].size;
    p->memory_free = 0; /* unknown without VK_EXT_memory_budget */

    vk_feature_chain fc;
    uint32_t sg_size = 0;
    unsigned disabled = 0;
    const unsigned reported = vk_query_features(pd, &fc, &sg_size);
    if (vk_disable_mask(&disabled) != QG_OK) disabled = 0; /* device open reports the bad word */
    const unsigned f = reported & ~disabled;
    char w[96];
    const uint32_t api = vk_api_version(pd);
    snprintf(w, sizeof w, "vulkan%u.%u", VK_API_VERSION_MAJOR(api), VK_API_VERSION_MINOR(api));
    append(p->features, sizeof p->features, w);
    snprintf(w, sizeof w, "subgroup=%u", sg_size);
    append(p->features, sizeof p->features, w);
    if (f & VKF_SUBGROUP) append(p->features, sizeof p->features, "subgroup-arith");
    if (fc.f2.features.shaderFloat64) append(p->features, sizeof p->features, "fp64");
    if (f & VKF_STORAGE16) append(p->features, sizeof p->features, "storage16");
    if (f & VKF_STORAGE8) append(p->features, sizeof p->features, "storage8");
    if (f & VKF_FP16) append(p->features, sizeof p->features, "fp16");
    if (f & VKF_INT8) append(p->features, sizeof p->features, "int8");
    if (f & VKF_INTDOT) append(p->features, sizeof p->features, "intdot");
    /* Reported for information: no kernel uses cooperative matrices (README.md). */
    if (vk_has_extension(pd, "VK_KHR_cooperative_matrix")) append(p->features, sizeof p->features, "coopmat");
    if (reported & disabled) {
        /* Reported by the device but hidden by QG_VK_DISABLE. */
        char off[64];
        vk_disable_words(reported & disabled, off, sizeof off);
        snprintf(w, sizeof w, "disabled=%s", off);
        append(p->features, sizeof p->features, w);
    }

    p->max_alloc = vk_max_alloc(pd);
    p->alignment = VK_ALIGN;
    switch (pr.deviceType) {
    case VK_PHYSICAL_DEVICE_TYPE_CPU: p->kind = QG_DEVICE_CPU; break;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: p->kind = QG_DEVICE_IGPU; break;
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: p->kind = QG_DEVICE_GPU; break;
    default: p->kind = QG_DEVICE_ACCEL; break;
    }
    p->host_memory = false;
    p->is_software = pr.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
}
