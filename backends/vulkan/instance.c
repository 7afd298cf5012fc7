/* The Vulkan instance shared by all devices of the plugin, created at init: Vulkan 1.1,
 * no layers or extensions. No loader/driver is not an init failure: the plugin then
 * has no devices and device_open reports the VkResult. Also the device properties the
 * host lists (name vulkanN, the driver's device name, heap sizes, capability words).
 */
#include "vk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vk_global vk_g;

qg_status vk_global_init(void) {
    if (vk_g.instance) return QG_OK;
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "qgraph",
        .pEngineName = "qgraph",
        .apiVersion = VK_API_VERSION_1_1,
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

static bool has_extension(VkPhysicalDevice pd, const char *name) {
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || n == 0) return false;
    VkExtensionProperties *e = malloc(n * sizeof *e);
    bool found = false;
    if (e && vkEnumerateDeviceExtensionProperties(pd, NULL, &n, e) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = strcmp(e[i].extensionName, name) == 0;
    free(e);
    return found;
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

    VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceProperties2 pr2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sg};
    vkGetPhysicalDeviceProperties2(pd, &pr2);
    VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s16};
    vkGetPhysicalDeviceFeatures2(pd, &f2);
    char w[32];
    snprintf(w, sizeof w, "vulkan%u.%u", VK_API_VERSION_MAJOR(pr.apiVersion), VK_API_VERSION_MINOR(pr.apiVersion));
    append(p->features, sizeof p->features, w);
    snprintf(w, sizeof w, "subgroup=%u", sg.subgroupSize);
    append(p->features, sizeof p->features, w);
    if ((sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
        (sg.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT))
        append(p->features, sizeof p->features, "subgroup-arith");
    if (f2.features.shaderFloat64) append(p->features, sizeof p->features, "fp64");
    if (s16.storageBuffer16BitAccess) append(p->features, sizeof p->features, "storage16");
    /* Reported for information (no kernel variant uses them yet, see README.md); each
     * feature struct is chained only when the device has its extension. */
    VkPhysicalDevice8BitStorageFeaturesKHR s8 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES_KHR};
    VkPhysicalDeviceShaderFloat16Int8FeaturesKHR fi = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES_KHR};
    VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR dp = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES_KHR};
    VkPhysicalDeviceFeatures2 fx = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    void **tail = &fx.pNext;
    if (has_extension(pd, "VK_KHR_8bit_storage")) { *tail = &s8; tail = &s8.pNext; }
    if (has_extension(pd, "VK_KHR_shader_float16_int8")) { *tail = &fi; tail = &fi.pNext; }
    if (has_extension(pd, "VK_KHR_shader_integer_dot_product")) { *tail = &dp; tail = &dp.pNext; }
    vkGetPhysicalDeviceFeatures2(pd, &fx);
    if (s8.storageBuffer8BitAccess) append(p->features, sizeof p->features, "storage8");
    if (fi.shaderFloat16) append(p->features, sizeof p->features, "fp16");
    if (fi.shaderInt8) append(p->features, sizeof p->features, "int8");
    if (dp.shaderIntegerDotProduct) append(p->features, sizeof p->features, "intdot");
    if (has_extension(pd, "VK_KHR_cooperative_matrix")) append(p->features, sizeof p->features, "coopmat");

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
