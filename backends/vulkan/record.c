/* Recording and submitting a split: one command buffer per compute(), one descriptor set
 * and one parameter slot per dispatch, a compute-to-compute memory barrier only where a
 * dispatch reads bytes an earlier dispatch since the last barrier wrote, or writes bytes
 * one read or wrote (byte ranges per VkBuffer). vk_wait() waits for the fence of the
 * last submission and turns a data error the kernels reported (a row id out of range)
 * into a status naming the node.
 */
#include "vk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

qg_status vk_wait(qg_plugin_device *d) {
    if (!d->pending) return QG_OK;
    VkResult r = vkWaitForFences(d->dev, 1, &d->fence, VK_TRUE, UINT64_MAX);
    d->pending = false;
    VkResult r2 = vkResetFences(d->dev, 1, &d->fence);
    if (r != VK_SUCCESS) return vk_fail(r, "waiting for queued work on %s", d->name);
    if (r2 != VK_SUCCESS) return vk_fail(r2, "vkResetFences on %s", d->name);
    uint32_t *hdr = d->params.map;
    if (hdr[0] != 0) {
        const uint32_t count = hdr[0], slot = hdr[1];
        hdr[0] = hdr[1] = 0;
        for (int i = 0; i < d->n_slots; i++)
            if (d->slots[i].slot == slot)
                return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: %s node '%s' on %s: %u row id(s) out of range",
                                    qg_op_name((qg_op)d->slots[i].op), d->slots[i].name, d->name, count);
        return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: %u row id(s) out of range on %s", count, d->name);
    }
    return QG_OK;
}

static qg_status ensure_pool(qg_plugin_device *d, uint32_t n) {
    if (n == 0) n = 1;
    if (d->dpool && n <= d->dpool_cap) {
        VkResult r = vkResetDescriptorPool(d->dev, d->dpool, 0);
        return r == VK_SUCCESS ? QG_OK : vk_fail(r, "vkResetDescriptorPool on %s", d->name);
    }
    if (d->dpool) vkDestroyDescriptorPool(d->dev, d->dpool, NULL);
    d->dpool = VK_NULL_HANDLE;
    uint32_t cap = d->dpool_cap ? d->dpool_cap : 64;
    while (cap < n) cap *= 2;
    VkDescriptorPoolSize ps = {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = 5 * cap};
    VkDescriptorPoolCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = cap, .poolSizeCount = 1, .pPoolSizes = &ps};
    VkResult r = vkCreateDescriptorPool(d->dev, &ci, NULL, &d->dpool);
    if (r != VK_SUCCESS) return vk_fail(r, "vkCreateDescriptorPool for %u sets on %s", cap, d->name);
    d->dpool_cap = cap;
    return QG_OK;
}

static qg_status ensure_mem(qg_plugin_device *d, vk_mem *m, size_t bytes, bool host) {
    if (m->buf && m->size >= bytes) return QG_OK;
    size_t cap = m->size ? m->size : 4096;
    while (cap < bytes) cap *= 2;
    vk_mem n;
    qg_status st = vk_mem_alloc(d, cap, host, &n);
    if (st != QG_OK) return st;
    if (host && m->map) memcpy(n.map, m->map, VKS_HEADER * 4);
    vk_mem_free(d, m);
    *m = n;
    return QG_OK;
}

qg_status vk_begin(qg_plugin_device *d, uint32_t n_dispatch, uint32_t n_words, size_t scratch_bytes) {
    qg_status st = vk_wait(d);
    if (st == QG_OK) st = ensure_pool(d, n_dispatch);
    if (st == QG_OK) st = ensure_mem(d, &d->params, ((size_t)VKS_HEADER + n_words) * 4, true);
    if (st == QG_OK && scratch_bytes) st = ensure_mem(d, &d->scratch, scratch_bytes, false);
    if (st != QG_OK) return st;
    if (d->cap_slots < (int)n_dispatch) {
        void *p = realloc(d->slots, n_dispatch * sizeof *d->slots);
        if (!p) return qg_set_error(QG_ERR_NO_MEMORY, "vulkan: out of host memory recording %u dispatches", n_dispatch);
        d->slots = p;
        d->cap_slots = (int)n_dispatch;
    }
    d->params_used = VKS_HEADER;
    d->n_slots = d->n_ranges = d->n_dispatch = d->n_barriers = 0;
    VkResult r = vkResetCommandBuffer(d->cmd, 0);
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    if (r == VK_SUCCESS) r = vkBeginCommandBuffer(d->cmd, &bi);
    return r == VK_SUCCESS ? QG_OK : vk_fail(r, "beginning a command buffer on %s", d->name);
}

uint32_t *vk_slot(qg_plugin_device *d, uint32_t n_words, uint32_t *index) {
    uint32_t *p = (uint32_t *)d->params.map + d->params_used;
    memset(p, 0, (size_t)n_words * 4);
    *index = d->params_used;
    d->params_used += n_words;
    return p;
}

static bool overlaps(const vk_range *a, VkBuffer buf, size_t lo, size_t hi) {
    return a->buf == buf && a->lo < hi && lo < a->hi;
}

/* Whether a barrier is needed before a dispatch with these bindings; records them. */
static qg_status track(qg_plugin_device *d, const vk_binding b[4], bool *barrier) {
    *barrier = false;
    for (int i = 0; i < 4 && !*barrier; i++) {
        if (!b[i].buf) continue;
        for (int k = 0; k < d->n_ranges; k++)
            if (overlaps(&d->ranges[k], b[i].buf, b[i].lo, b[i].hi) && (i == 3 || d->ranges[k].write)) {
                *barrier = true;
                break;
            }
    }
    if (*barrier) d->n_ranges = 0;
    if (d->n_ranges + 4 > d->cap_ranges) {
        int cap = d->cap_ranges ? 2 * d->cap_ranges : 64;
        void *p = realloc(d->ranges, (size_t)cap * sizeof *d->ranges);
        if (!p) return qg_set_error(QG_ERR_NO_MEMORY, "vulkan: out of host memory tracking ranges");
        d->ranges = p;
        d->cap_ranges = cap;
    }
    for (int i = 0; i < 4; i++)
        if (b[i].buf)
            d->ranges[d->n_ranges++] = (vk_range){.buf = b[i].buf, .lo = b[i].lo, .hi = b[i].hi, .write = i == 3};
    return QG_OK;
}

qg_status vk_dispatch(qg_plugin_device *d, const char *pipe_name, vk_spec spec, const vk_binding b[4], uint32_t slot,
                      uint32_t groups, const qg_tensor *node) {
    VkPipeline pipe;
    qg_status st = vk_pipeline_get(d, pipe_name, &spec, &pipe);
    if (st != QG_OK) return st;
    bool barrier;
    if ((st = track(d, b, &barrier)) != QG_OK) return st;
    if (barrier) {
        VkMemoryBarrier mb = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
            .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT,
            .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
        };
        vkCmdPipelineBarrier(d->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1,
                             &mb, 0, NULL, 0, NULL);
        d->n_barriers++;
    }
    VkDescriptorSetAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = d->dpool,
        .descriptorSetCount = 1,
        .pSetLayouts = &d->dsl,
    };
    VkDescriptorSet set;
    VkResult r = vkAllocateDescriptorSets(d->dev, &ai, &set);
    if (r != VK_SUCCESS) return vk_fail(r, "vkAllocateDescriptorSets on %s", d->name);
    /* Each binding is a window starting at an aligned offset at or below the data; the
     * slot's byte offsets become relative to it. */
    VkDescriptorBufferInfo bi[5];
    uint32_t *sp = (uint32_t *)d->params.map + slot;
    for (int i = 0; i < 4; i++) {
        if (!b[i].buf) {
            bi[i] = (VkDescriptorBufferInfo){.buffer = d->params.buf, .offset = 0, .range = VK_WHOLE_SIZE};
            continue;
        }
        const size_t base = b[i].lo - b[i].lo % d->min_align;
        size_t range = ((b[i].hi + 3) & ~(size_t)3) - base;
        if (range < 4) range = 4;
        if (range > d->max_range)
            return qg_set_error(QG_ERR_UNSUPPORTED, "vulkan: %s node '%s': binding %d spans %zu bytes, %s binds at most %zu",
                                qg_op_name(node->op), node->name, i, range, d->name, d->max_range);
        sp[VKS_OFF + i] -= (uint32_t)base;
        bi[i] = (VkDescriptorBufferInfo){.buffer = b[i].buf, .offset = base, .range = range};
    }
    bi[4] = (VkDescriptorBufferInfo){.buffer = d->params.buf, .offset = 0, .range = VK_WHOLE_SIZE};
    VkWriteDescriptorSet w[2] = {
        {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = 0, .descriptorCount = 4,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .pBufferInfo = bi},
        {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = 1, .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .pBufferInfo = &bi[4]},
    };
    vkUpdateDescriptorSets(d->dev, 2, w, 0, NULL);
    vkCmdBindPipeline(d->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
    vkCmdBindDescriptorSets(d->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, d->layout, 0, 1, &set, 0, NULL);
    vkCmdPushConstants(d->cmd, d->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, 4, &slot);
    const uint32_t maxx = d->props.limits.maxComputeWorkGroupCount[0];
    const uint32_t gx = groups < maxx ? groups : maxx;
    const uint32_t gy = gx ? (groups + gx - 1) / gx : 0;
    if (gy > d->props.limits.maxComputeWorkGroupCount[1])
        return qg_set_error(QG_ERR_UNSUPPORTED, "vulkan: %s node '%s' needs %u workgroups, more than %s can launch",
                            qg_op_name(node->op), node->name, groups, d->name);
    if (gx) vkCmdDispatch(d->cmd, gx, gy, 1);
    d->n_dispatch++;
    d->slots[d->n_slots].slot = slot;
    d->slots[d->n_slots].op = node->op;
    snprintf(d->slots[d->n_slots].name, QG_MAX_NAME, "%s", node->name);
    d->n_slots++;
    return QG_OK;
}

qg_status vk_submit(qg_plugin_device *d) {
    VkResult r = vkEndCommandBuffer(d->cmd);
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &d->cmd};
    if (r == VK_SUCCESS) r = vkQueueSubmit(d->queue, 1, &si, d->fence);
    if (r != VK_SUCCESS) return vk_fail(r, "submitting work to %s", d->name);
    d->pending = true;
    if (d->cache_dirty) vk_cache_save(d);
    return QG_OK;
}
