/* Kernels as Vulkan compute pipelines: the one descriptor-set layout they share
 * (binding 0: four storage buffers, binding 1: the parameter buffer; a 4-byte push
 * constant with the slot index), pipelines created on first use from the embedded
 * SPIR-V (one per kernel and set of specialization constants; a kernel's feature
 * variant when the device has its features, see vk_variants), and a pipeline cache
 * kept on disk under $XDG_CACHE_HOME/qgraph (or ~/.cache/qgraph), one file per device
 * and driver, reloaded at open and saved at close when new pipelines were built.
 */
#define _POSIX_C_SOURCE 200809L
#include "vk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static bool cache_path(const qg_plugin_device *d, char *out, size_t size, bool make_dir) {
    char dir[512];
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0]) snprintf(dir, sizeof dir, "%s", xdg);
    else if (home && home[0]) snprintf(dir, sizeof dir, "%s/.cache", home);
    else return false;
    if (make_dir) mkdir(dir, 0700);
    size_t len = strlen(dir);
    snprintf(dir + len, sizeof dir - len, "/qgraph");
    if (make_dir && mkdir(dir, 0700) != 0 && errno != EEXIST) return false;
    char uuid[2 * VK_UUID_SIZE + 1];
    for (unsigned i = 0; i < VK_UUID_SIZE; i++) snprintf(uuid + 2 * i, 3, "%02x", d->props.pipelineCacheUUID[i]);
    int n = snprintf(out, size, "%s/vulkan-%04x-%04x-%s.bin", dir, d->props.vendorID, d->props.deviceID, uuid);
    return n > 0 && (size_t)n < size;
}

/* The cache file's bytes if its header names this device and driver, else NULL. */
static void *load_cache(const qg_plugin_device *d, size_t *size) {
    char path[640];
    *size = 0;
    if (!cache_path(d, path, sizeof path, false)) return NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    void *data = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n >= 32 && n < (64L << 20) && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n)) &&
        fread(data, 1, (size_t)n, f) == (size_t)n) {
        uint32_t hdr[4];
        memcpy(hdr, data, sizeof hdr);
        if (hdr[0] >= 32 && hdr[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && hdr[2] == d->props.vendorID &&
            hdr[3] == d->props.deviceID &&
            memcmp((char *)data + 16, d->props.pipelineCacheUUID, VK_UUID_SIZE) == 0)
            *size = (size_t)n;
    }
    fclose(f);
    if (*size == 0) {
        free(data);
        return NULL;
    }
    return data;
}

void vk_cache_save(qg_plugin_device *d) {
    if (!d->cache || !d->cache_dirty) return;
    size_t n = 0;
    if (vkGetPipelineCacheData(d->dev, d->cache, &n, NULL) != VK_SUCCESS || n == 0) return;
    void *data = malloc(n);
    if (!data) return;
    char path[640], tmp[700];
    if (vkGetPipelineCacheData(d->dev, d->cache, &n, data) == VK_SUCCESS && cache_path(d, path, sizeof path, true)) {
        snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
        FILE *f = fopen(tmp, "wb");
        if (f) {
            bool ok = fwrite(data, 1, n, f) == n;
            ok = fclose(f) == 0 && ok;
            if (!ok || rename(tmp, path) != 0) remove(tmp);
            else d->cache_dirty = false;
        }
    }
    free(data);
}

qg_status vk_pipelines_init(qg_plugin_device *d) {
    VkDescriptorSetLayoutBinding b[2] = {
        {.binding = 0, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = 4,
         .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT},
        {.binding = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = 1,
         .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT},
    };
    VkDescriptorSetLayoutCreateInfo li = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, .bindingCount = 2, .pBindings = b};
    VkResult r = vkCreateDescriptorSetLayout(d->dev, &li, NULL, &d->dsl);
    if (r != VK_SUCCESS) return vk_fail(r, "vkCreateDescriptorSetLayout on %s", d->name);
    VkPushConstantRange pc = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = 4};
    VkPipelineLayoutCreateInfo pli = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &d->dsl,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &pc,
    };
    r = vkCreatePipelineLayout(d->dev, &pli, NULL, &d->layout);
    if (r != VK_SUCCESS) return vk_fail(r, "vkCreatePipelineLayout on %s", d->name);
    size_t n = 0;
    void *data = load_cache(d, &n);
    VkPipelineCacheCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO, .initialDataSize = n, .pInitialData = data};
    r = vkCreatePipelineCache(d->dev, &ci, NULL, &d->cache);
    if (r != VK_SUCCESS && data) { /* a rejected file: start empty */
        ci.initialDataSize = 0;
        ci.pInitialData = NULL;
        r = vkCreatePipelineCache(d->dev, &ci, NULL, &d->cache);
    }
    free(data);
    if (r != VK_SUCCESS) return vk_fail(r, "vkCreatePipelineCache on %s", d->name);
    return QG_OK;
}

void vk_pipelines_free(qg_plugin_device *d) {
    for (int i = 0; i < d->n_pipes; i++) vkDestroyPipeline(d->dev, d->pipes[i].pipe, NULL);
    free(d->pipes);
    d->pipes = NULL;
    d->n_pipes = d->cap_pipes = 0;
    if (d->cache) vkDestroyPipelineCache(d->dev, d->cache, NULL);
    if (d->layout) vkDestroyPipelineLayout(d->dev, d->layout, NULL);
    if (d->dsl) vkDestroyDescriptorSetLayout(d->dev, d->dsl, NULL);
    d->cache = VK_NULL_HANDLE;
    d->layout = VK_NULL_HANDLE;
    d->dsl = VK_NULL_HANDLE;
}

/* Feature variants of a kernel: SPIR-V named <kernel><suffix> (backends/vulkan/
 * CMakeLists.txt), used when the device has every feature in need; the first one that
 * exists wins, else the kernel itself (the fallback) runs. */
static const struct {
    const char *suffix;
    unsigned need;
} vk_variants[] = {
    {"_h16", VKF_STORAGE16 | VKF_FP16 | VKF_FP16MATH},
    {"_s", VKF_STORAGE16 | VKF_STORAGE8},
    {"_s16", VKF_STORAGE16},
    {"_s8", VKF_STORAGE8},
};

static const vk_spirv_blob *find_blob(const char *name) {
    for (int i = 0; i < vk_spirv_count; i++)
        if (strcmp(vk_spirv_blobs[i].name, name) == 0) return &vk_spirv_blobs[i];
    return NULL;
}

/* The blob that runs kernel `name` on d: its best feature variant, or itself. */
static const vk_spirv_blob *pick_blob(const qg_plugin_device *d, const char *name) {
    char v[64];
    for (size_t i = 0; i < sizeof vk_variants / sizeof vk_variants[0]; i++) {
        if ((d->features & vk_variants[i].need) != vk_variants[i].need) continue;
        int n = snprintf(v, sizeof v, "%s%s", name, vk_variants[i].suffix);
        const vk_spirv_blob *b = n > 0 && (size_t)n < sizeof v ? find_blob(v) : NULL;
        if (b) return b;
    }
    return find_blob(name);
}

qg_status vk_pipeline_get(qg_plugin_device *d, const char *name, const vk_spec *spec, VkPipeline *out) {
    for (int i = 0; i < d->n_pipes; i++)
        if (strcmp(d->pipes[i].req, name) == 0 && d->pipes[i].feat == d->features &&
            memcmp(&d->pipes[i].spec, spec, sizeof *spec) == 0) {
            *out = d->pipes[i].pipe;
            return QG_OK;
        }
    if (strlen(name) >= sizeof d->pipes[0].req)
        return qg_set_error(QG_ERR_UNSUPPORTED, "vulkan: kernel name \"%s\" is too long", name);
    const vk_spirv_blob *blob = pick_blob(d, name);
    if (!blob) return qg_set_error(QG_ERR_UNSUPPORTED, "vulkan: no kernel named \"%s\" in the plugin", name);
    if (d->n_pipes == d->cap_pipes) {
        int cap = d->cap_pipes ? 2 * d->cap_pipes : 32;
        vk_pipe *p = realloc(d->pipes, (size_t)cap * sizeof *p);
        if (!p) return qg_set_error(QG_ERR_NO_MEMORY, "vulkan: out of host memory for pipelines");
        d->pipes = p;
        d->cap_pipes = cap;
    }
    VkShaderModuleCreateInfo mi = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = blob->size,
        .pCode = (const uint32_t *)(const void *)blob->data,
    };
    VkShaderModule mod;
    VkResult r = vkCreateShaderModule(d->dev, &mi, NULL, &mod);
    if (r != VK_SUCCESS) return vk_fail(r, "vkCreateShaderModule for kernel %s on %s", name, d->name);
    VkSpecializationMapEntry me[4];
    for (uint32_t i = 0; i < 4; i++) me[i] = (VkSpecializationMapEntry){.constantID = i, .offset = 4 * i, .size = 4};
    VkSpecializationInfo si = {.mapEntryCount = 4, .pMapEntries = me, .dataSize = sizeof spec->v, .pData = spec->v};
    VkComputePipelineCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = mod,
                  .pName = "main",
                  .pSpecializationInfo = &si},
        .layout = d->layout,
    };
    VkPipeline pipe;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = vkCreateComputePipelines(d->dev, d->cache, 1, &pci, NULL, &pipe);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (getenv("QG_VULKAN_VERBOSE"))
        fprintf(stderr, "vulkan: built kernel %s (SPIR-V %s) in %.3f s\n", name, blob->name,
                (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    vkDestroyShaderModule(d->dev, mod, NULL);
    if (r != VK_SUCCESS) return vk_fail(r, "creating the pipeline of kernel %s on %s", name, d->name);
    snprintf(d->pipes[d->n_pipes].req, sizeof d->pipes[0].req, "%s", name);
    d->pipes[d->n_pipes].name = blob->name;
    d->pipes[d->n_pipes].feat = d->features;
    if (strcmp(blob->name, name) != 0) d->n_variant_pipes++;
    d->pipes[d->n_pipes].spec = *spec;
    d->pipes[d->n_pipes].pipe = pipe;
    d->n_pipes++;
    d->cache_dirty = true;
    *out = pipe;
    return QG_OK;
}
