/* Opening a Vulkan device: a compute queue, the features the kernels may use (queried,
 * never assumed: a missing optional feature selects a fallback kernel variant, and
 * QG_VK_DISABLE hides reported ones, see features.c), the
 * descriptor/pipeline layout shared by all kernels, the command buffers, fences and the
 * parameter buffer. Closing waits for the queue and saves the pipeline cache.
 */
#include "vk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static qg_status pick_queue(qg_plugin_device *d) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(d->phys, &n, NULL);
    VkQueueFamilyProperties qf[32];
    if (n > 32) n = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(d->phys, &n, qf);
    for (uint32_t i = 0; i < n; i++)
        if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
            d->qfam = i;
            return QG_OK;
        }
    return qg_set_error(QG_ERR_UNSUPPORTED, "vulkan: %s (%s) has no compute queue", d->name, d->props.deviceName);
}

static qg_status create_device(qg_plugin_device *d) {
    VkPhysicalDeviceFeatures base;
    vkGetPhysicalDeviceFeatures(d->phys, &base);
    if (!base.shaderStorageBufferArrayDynamicIndexing)
        return qg_set_error(QG_ERR_UNSUPPORTED,
                            "vulkan: %s (%s) lacks shaderStorageBufferArrayDynamicIndexing, which the kernels need",
                            d->name, d->props.deviceName);
    vk_feature_chain fc;
    const unsigned reported = vk_query_features(d->phys, &fc, &d->subgroup_size);
    d->features = reported & ~d->disabled;
    d->has_f64 = base.shaderFloat64;
    d->has_storage16 = d->features & VKF_STORAGE16;
    d->has_storage8 = d->features & VKF_STORAGE8;
    d->has_f16 = d->features & VKF_FP16;
    d->has_int8 = d->features & VKF_INT8;
    d->has_intdot = d->features & VKF_INTDOT;
    d->has_subgroup_arith = d->features & VKF_SUBGROUP;
    d->use_subgroups = d->has_subgroup_arith;
    /* float16 arithmetic changes results (see README.md): only when asked for. */
    const char *fm = getenv("QG_VULKAN_FP16MATH");
    if (fm && fm[0] == '1' && d->has_f16 && d->has_storage16) d->features |= VKF_FP16MATH;

    /* Enable only what the kernels use: dynamic indexing of the buffer array, for the
     * double-precision variants shaderFloat64, and the optional features in use. */
    VkPhysicalDeviceFeatures want = {0};
    want.shaderStorageBufferArrayDynamicIndexing = VK_TRUE;
    want.shaderFloat64 = d->has_f64 ? VK_TRUE : VK_FALSE;
    vk_enable_features(&fc, d->features, &want);
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = d->qfam,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = &fc.f2,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
        .enabledExtensionCount = fc.n_ext,
        .ppEnabledExtensionNames = fc.n_ext ? fc.ext : NULL,
    };
    VkResult r = vkCreateDevice(d->phys, &dci, NULL, &d->dev);
    if (r != VK_SUCCESS) {
        d->dev = VK_NULL_HANDLE;
        return vk_fail(r, "vkCreateDevice for %s (%s)", d->name, d->props.deviceName);
    }
    vkGetDeviceQueue(d->dev, d->qfam, 0, &d->queue);
    return QG_OK;
}

static qg_status create_commands(qg_plugin_device *d) {
    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = d->qfam,
    };
    VkResult r = vkCreateCommandPool(d->dev, &pci, NULL, &d->cmdpool);
    if (r != VK_SUCCESS) return vk_fail(r, "vkCreateCommandPool on %s", d->name);
    VkCommandBuffer cbs[2];
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = d->cmdpool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 2,
    };
    r = vkAllocateCommandBuffers(d->dev, &ai, cbs);
    if (r != VK_SUCCESS) return vk_fail(r, "vkAllocateCommandBuffers on %s", d->name);
    d->cmd = cbs[0];
    d->xfer = cbs[1];
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    if ((r = vkCreateFence(d->dev, &fci, NULL, &d->fence)) != VK_SUCCESS ||
        (r = vkCreateFence(d->dev, &fci, NULL, &d->xfer_fence)) != VK_SUCCESS)
        return vk_fail(r, "vkCreateFence on %s", d->name);
    return QG_OK;
}

qg_status vk_device_open(int index, qg_plugin_device **out) {
    *out = NULL;
    qg_plugin_device *d = calloc(1, sizeof *d);
    if (!d) return qg_set_error(QG_ERR_NO_MEMORY, "vulkan: out of memory opening vulkan%d", index);
    d->index = index;
    snprintf(d->name, sizeof d->name, "vulkan%d", index);
    d->phys = vk_g.phys[index];
    vkGetPhysicalDeviceProperties(d->phys, &d->props);
    vkGetPhysicalDeviceMemoryProperties(d->phys, &d->memprops);
    d->max_range = d->props.limits.maxStorageBufferRange;
    d->min_align = d->props.limits.minStorageBufferOffsetAlignment ? d->props.limits.minStorageBufferOffsetAlignment : 4;
    if (d->min_align < 4) d->min_align = 4;
    d->max_alloc = vk_max_alloc(d->phys);
    const char *env = getenv("QG_VULKAN_STAGING");
    d->force_staging = env && env[0] == '1';
    qg_status st = vk_disable_mask(&d->disabled);
    if (st == QG_OK) st = pick_queue(d);
    if (st == QG_OK) st = create_device(d);
    if (st == QG_OK) st = create_commands(d);
    if (st == QG_OK) st = vk_pipelines_init(d);
    if (st == QG_OK) st = vk_mem_alloc(d, 64 * 1024, true, &d->params);
    if (st != QG_OK) {
        vk_device_close(d);
        return st;
    }
    memset(d->params.map, 0, VKS_HEADER * 4);
    *out = d;
    return QG_OK;
}

void vk_device_close(qg_plugin_device *d) {
    if (!d) return;
    if (d->dev) {
        vkDeviceWaitIdle(d->dev);
        vk_cache_save(d);
        vk_mem_free(d, &d->params);
        vk_mem_free(d, &d->scratch);
        vk_mem_free(d, &d->staging);
        if (d->dpool) vkDestroyDescriptorPool(d->dev, d->dpool, NULL);
        vk_pipelines_free(d);
        if (d->fence) vkDestroyFence(d->dev, d->fence, NULL);
        if (d->xfer_fence) vkDestroyFence(d->dev, d->xfer_fence, NULL);
        if (d->cmdpool) vkDestroyCommandPool(d->dev, d->cmdpool, NULL);
        vkDestroyDevice(d->dev, NULL);
    }
    free(d->slots);
    free(d->ranges);
    free(d);
}
