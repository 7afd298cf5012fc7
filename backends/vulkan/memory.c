/* Device memory: buffers in device-local memory, mapped persistently when that memory
 * is also host-visible and coherent (lavapipe, UMA GPUs), otherwise reached through a
 * host-visible staging buffer and transfer commands. Buffer bases handed to the host are
 * fake, aligned, never-dereferenced tokens from a private address range; tensor data is
 * base + offset and is mapped back through the tensor's pbuf. Every access waits for
 * queued compute work first.
 */
#include "vk.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define STAGING_BYTES ((size_t)16 << 20)

static int find_type(const qg_plugin_device *d, uint32_t bits, VkMemoryPropertyFlags want) {
    for (uint32_t i = 0; i < d->memprops.memoryTypeCount; i++)
        if ((bits & (1u << i)) && (d->memprops.memoryTypes[i].propertyFlags & want) == want) return (int)i;
    return -1;
}

qg_status vk_mem_alloc(qg_plugin_device *d, size_t size, bool host, vk_mem *m) {
    memset(m, 0, sizeof *m);
    if (size == 0) size = 4;
    size = (size + 3) & ~(size_t)3;
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkResult r = vkCreateBuffer(d->dev, &bci, NULL, &m->buf);
    if (r != VK_SUCCESS) return vk_fail(r, "vkCreateBuffer of %zu bytes on %s", size, d->name);
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(d->dev, m->buf, &req);
    const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int type = -1;
    bool map = false;
    if (host) {
        type = find_type(d, req.memoryTypeBits, hv);
        map = true;
    } else {
        if (!d->force_staging) type = find_type(d, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | hv);
        map = type >= 0;
        if (type < 0) type = find_type(d, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
        if (type < 0) type = find_type(d, req.memoryTypeBits, 0);
    }
    if (type < 0) {
        vkDestroyBuffer(d->dev, m->buf, NULL);
        m->buf = VK_NULL_HANDLE;
        return qg_set_error(QG_ERR_NO_MEMORY, "vulkan: %s has no %s memory type for a buffer", d->name,
                            host ? "host-visible" : "device");
    }
    VkMemoryAllocateInfo mai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)type,
    };
    r = vkAllocateMemory(d->dev, &mai, NULL, &m->mem);
    if (r == VK_SUCCESS) r = vkBindBufferMemory(d->dev, m->buf, m->mem, 0);
    if (r == VK_SUCCESS && map) r = vkMapMemory(d->dev, m->mem, 0, VK_WHOLE_SIZE, 0, &m->map);
    if (r != VK_SUCCESS) {
        vk_mem_free(d, m);
        return vk_fail(r, "allocating %zu bytes of memory on %s", size, d->name);
    }
    m->size = size;
    return QG_OK;
}

void vk_mem_free(qg_plugin_device *d, vk_mem *m) {
    if (m->buf) vkDestroyBuffer(d->dev, m->buf, NULL);
    if (m->mem) vkFreeMemory(d->dev, m->mem, NULL); /* unmaps implicitly */
    memset(m, 0, sizeof *m);
}

qg_status vk_xfer_begin(qg_plugin_device *d) {
    VkResult r = vkResetCommandBuffer(d->xfer, 0);
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    if (r == VK_SUCCESS) r = vkBeginCommandBuffer(d->xfer, &bi);
    return r == VK_SUCCESS ? QG_OK : vk_fail(r, "beginning a transfer on %s", d->name);
}

qg_status vk_xfer_end(qg_plugin_device *d) {
    VkResult r = vkEndCommandBuffer(d->xfer);
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &d->xfer};
    if (r == VK_SUCCESS) r = vkQueueSubmit(d->queue, 1, &si, d->xfer_fence);
    if (r == VK_SUCCESS) r = vkWaitForFences(d->dev, 1, &d->xfer_fence, VK_TRUE, UINT64_MAX);
    VkResult r2 = vkResetFences(d->dev, 1, &d->xfer_fence);
    if (r == VK_SUCCESS) r = r2;
    return r == VK_SUCCESS ? QG_OK : vk_fail(r, "a transfer on %s", d->name);
}

static atomic_uintptr_t next_token = (uintptr_t)1 << 44;

qg_status vk_buffer_alloc(qg_plugin_device *d, size_t size, qg_plugin_buffer **out, void **base) {
    *out = NULL;
    *base = NULL;
    if (size > d->max_alloc)
        return qg_set_error(QG_ERR_NO_MEMORY, "vulkan: buffer of %zu bytes exceeds the largest buffer of %s (%zu bytes)",
                            size, d->name, d->max_alloc);
    qg_plugin_buffer *b = calloc(1, sizeof *b);
    if (!b) return qg_set_error(QG_ERR_NO_MEMORY, "vulkan: out of host memory for a buffer");
    qg_status st = vk_mem_alloc(d, size, false, &b->m);
    if (st != QG_OK) {
        free(b);
        return st;
    }
    b->dev = d;
    b->size = size;
    /* Tokens of different buffers never overlap and keep VK_ALIGN alignment. */
    const uintptr_t span = ((uintptr_t)size + ((uintptr_t)1 << 20)) & ~(((uintptr_t)1 << 20) - 1);
    b->base = atomic_fetch_add(&next_token, span + ((uintptr_t)1 << 20));
    *out = b;
    *base = (void *)b->base;
    return QG_OK;
}

void vk_buffer_free(qg_plugin_buffer *b) {
    if (!b) return;
    vk_wait(b->dev);
    vk_mem_free(b->dev, &b->m);
    free(b);
}

static qg_status check_range(const qg_plugin_buffer *b, size_t off, size_t size, const char *what) {
    if (!b) return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: %s on a NULL buffer", what);
    if (off > b->size || size > b->size - off)
        return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: %s of %zu bytes at offset %zu is outside the %zu-byte buffer",
                            what, size, off, b->size);
    return QG_OK;
}

static qg_status ensure_staging(qg_plugin_device *d) {
    if (d->staging.buf) return QG_OK;
    return vk_mem_alloc(d, STAGING_BYTES, true, &d->staging);
}

/* Copy through the staging buffer in chunks: to_dev uploads host -> buffer. */
static qg_status staged(qg_plugin_buffer *b, size_t off, void *host, size_t size, bool to_dev) {
    qg_plugin_device *d = b->dev;
    qg_status st = ensure_staging(d);
    for (size_t done = 0; st == QG_OK && done < size;) {
        size_t n = size - done < STAGING_BYTES ? size - done : STAGING_BYTES;
        if (to_dev) memcpy(d->staging.map, (char *)host + done, n);
        if ((st = vk_xfer_begin(d)) != QG_OK) break;
        VkBufferCopy c = {.srcOffset = to_dev ? 0 : off + done, .dstOffset = to_dev ? off + done : 0, .size = n};
        vkCmdCopyBuffer(d->xfer, to_dev ? d->staging.buf : b->m.buf, to_dev ? b->m.buf : d->staging.buf, 1, &c);
        if ((st = vk_xfer_end(d)) != QG_OK) break;
        if (!to_dev) memcpy((char *)host + done, d->staging.map, n);
        done += n;
    }
    return st;
}

qg_status vk_buffer_set(qg_plugin_buffer *b, size_t off, const void *src, size_t size) {
    qg_status st = check_range(b, off, size, "buffer_set");
    if (st != QG_OK || size == 0) return st;
    if (!src) return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: buffer_set given NULL data");
    if ((st = vk_wait(b->dev)) != QG_OK) return st;
    if (b->m.map) {
        memcpy((char *)b->m.map + off, src, size);
        return QG_OK;
    }
    return staged(b, off, (void *)src, size, true);
}

qg_status vk_buffer_get(qg_plugin_buffer *b, size_t off, void *dst, size_t size) {
    qg_status st = check_range(b, off, size, "buffer_get");
    if (st != QG_OK || size == 0) return st;
    if (!dst) return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: buffer_get given NULL destination");
    if ((st = vk_wait(b->dev)) != QG_OK) return st;
    if (b->m.map) {
        memcpy(dst, (const char *)b->m.map + off, size);
        return QG_OK;
    }
    return staged(b, off, dst, size, false);
}

qg_status vk_buffer_copy(qg_plugin_buffer *s, size_t so, qg_plugin_buffer *d, size_t dof, size_t size) {
    qg_status st = check_range(s, so, size, "buffer_copy source");
    if (st == QG_OK) st = check_range(d, dof, size, "buffer_copy destination");
    if (st != QG_OK || size == 0) return st;
    if (s->dev != d->dev) return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: buffer_copy between two devices");
    if ((st = vk_wait(s->dev)) != QG_OK) return st;
    if (s->m.map && d->m.map) {
        memmove((char *)d->m.map + dof, (const char *)s->m.map + so, size);
        return QG_OK;
    }
    if (s == d && so < dof + size && dof < so + size) {
        /* Overlapping copy inside one buffer: bounce through host memory. */
        void *tmp = malloc(size);
        if (!tmp) return qg_set_error(QG_ERR_NO_MEMORY, "vulkan: no host memory for a %zu-byte copy", size);
        st = vk_buffer_get(s, so, tmp, size);
        if (st == QG_OK) st = vk_buffer_set(d, dof, tmp, size);
        free(tmp);
        return st;
    }
    if ((st = vk_xfer_begin(s->dev)) != QG_OK) return st;
    VkBufferCopy c = {.srcOffset = so, .dstOffset = dof, .size = size};
    vkCmdCopyBuffer(s->dev->xfer, s->m.buf, d->m.buf, 1, &c);
    return vk_xfer_end(s->dev);
}

qg_status vk_buffer_clear(qg_plugin_buffer *b, uint8_t value) {
    if (!b) return qg_set_error(QG_ERR_INVALID_ARG, "vulkan: buffer_clear on a NULL buffer");
    qg_status st = vk_wait(b->dev);
    if (st != QG_OK) return st;
    if (b->m.map) {
        memset(b->m.map, value, b->size);
        return QG_OK;
    }
    if ((st = vk_xfer_begin(b->dev)) != QG_OK) return st;
    vkCmdFillBuffer(b->dev->xfer, b->m.buf, 0, VK_WHOLE_SIZE, 0x01010101u * value);
    return vk_xfer_end(b->dev);
}
