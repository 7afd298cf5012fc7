/* Optional device features the kernels may use: what a physical device reports
 * (16/8-bit storage, float16/int8 arithmetic, integer dot product, subgroup
 * arithmetic), the QG_VK_DISABLE switch that hides some of them so the fallback
 * kernels run, and the feature structs and extensions to enable at vkCreateDevice.
 * A feature struct is chained only when the device's effective API version has it in
 * core or the device lists the extension that defines it.
 */
#include "vk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *word;
    unsigned bit;
} feature_words[] = {
    {"storage16", VKF_STORAGE16}, {"storage8", VKF_STORAGE8}, {"fp16", VKF_FP16},
    {"int8", VKF_INT8},           {"intdot", VKF_INTDOT},     {"subgroup", VKF_SUBGROUP},
};
#define N_WORDS (sizeof feature_words / sizeof feature_words[0])

qg_status vk_disable_mask(unsigned *mask) {
    *mask = 0;
    const char *env = getenv("QG_VK_DISABLE");
    if (!env) return QG_OK;
    const char *p = env;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len > 0 && p[0] == ' ') p++, len--;
        while (len > 0 && p[len - 1] == ' ') len--;
        if (len == 3 && strncmp(p, "all", 3) == 0) {
            *mask = VKF_ALL;
        } else if (len > 0) {
            bool found = false;
            for (size_t i = 0; i < N_WORDS && !found; i++)
                if (strlen(feature_words[i].word) == len && strncmp(p, feature_words[i].word, len) == 0) {
                    *mask |= feature_words[i].bit;
                    found = true;
                }
            if (!found) {
                *mask = 0;
                return qg_set_error(QG_ERR_INVALID_ARG,
                                    "vulkan: QG_VK_DISABLE=\"%s\": unknown feature \"%.*s\" (known: storage16, "
                                    "storage8, fp16, int8, intdot, subgroup, all)",
                                    env, (int)len, p);
            }
        }
        if (!e) break;
        p = e + 1;
    }
    return QG_OK;
}

void vk_disable_words(unsigned mask, char *out, size_t size) {
    if (size == 0) return;
    out[0] = '\0';
    for (size_t i = 0; i < N_WORDS; i++)
        if (mask & feature_words[i].bit) {
            size_t len = strlen(out);
            if (len < size) snprintf(out + len, size - len, "%s%s", len ? "," : "", feature_words[i].word);
        }
}

bool vk_has_extension(VkPhysicalDevice pd, const char *name) {
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || n == 0) return false;
    VkExtensionProperties *e = malloc(n * sizeof *e);
    bool found = false;
    if (e && vkEnumerateDeviceExtensionProperties(pd, NULL, &n, e) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = strcmp(e[i].extensionName, name) == 0;
    free(e);
    return found;
}

uint32_t vk_api_version(VkPhysicalDevice pd) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(pd, &p);
    return p.apiVersion < vk_g.api_version ? p.apiVersion : vk_g.api_version;
}

/* Chains the feature structs of c into f2 (each only where the device has it) and
 * fills c->ext with the extensions they need. */
static void chain(VkPhysicalDevice pd, vk_feature_chain *c) {
    const uint32_t api = vk_api_version(pd);
    memset(c, 0, sizeof *c);
    c->f2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
    c->s16.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES;
    c->s8.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES;
    c->fi.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES;
    c->dp.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES;
    void **tail = &c->f2.pNext;
    *tail = &c->s16; /* core since Vulkan 1.1, the minimum we accept */
    tail = &c->s16.pNext;
    if (api >= VK_API_VERSION_1_2 || (c->has_s8_ext = vk_has_extension(pd, "VK_KHR_8bit_storage"))) {
        *tail = &c->s8;
        tail = &c->s8.pNext;
        c->s8_chained = true;
    }
    if (api >= VK_API_VERSION_1_2 || (c->has_fi_ext = vk_has_extension(pd, "VK_KHR_shader_float16_int8"))) {
        *tail = &c->fi;
        tail = &c->fi.pNext;
        c->fi_chained = true;
    }
    if (api >= VK_API_VERSION_1_3 || (c->has_dp_ext = vk_has_extension(pd, "VK_KHR_shader_integer_dot_product"))) {
        *tail = &c->dp;
        tail = &c->dp.pNext;
        c->dp_chained = true;
    }
}

unsigned vk_query_features(VkPhysicalDevice pd, vk_feature_chain *c, uint32_t *subgroup_size) {
    chain(pd, c);
    vkGetPhysicalDeviceFeatures2(pd, &c->f2);
    VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sg};
    vkGetPhysicalDeviceProperties2(pd, &p2);
    if (subgroup_size) *subgroup_size = sg.subgroupSize;
    unsigned m = 0;
    if (c->s16.storageBuffer16BitAccess) m |= VKF_STORAGE16;
    if (c->s8_chained && c->s8.storageBuffer8BitAccess) m |= VKF_STORAGE8;
    if (c->fi_chained && c->fi.shaderFloat16) m |= VKF_FP16;
    if (c->fi_chained && c->fi.shaderInt8) m |= VKF_INT8;
    if (c->dp_chained && c->dp.shaderIntegerDotProduct) m |= VKF_INTDOT;
    if ((sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) && (sg.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
        (sg.supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT))
        m |= VKF_SUBGROUP;
    return m;
}

void vk_enable_features(vk_feature_chain *c, unsigned use, const VkPhysicalDeviceFeatures *base) {
    /* Keep the chain, set only the wanted members (reported ones stay off when
     * QG_VK_DISABLE hides them). */
    c->f2.features = *base;
    c->s16.storageBuffer16BitAccess = (use & VKF_STORAGE16) && c->s16.storageBuffer16BitAccess;
    c->s16.uniformAndStorageBuffer16BitAccess = VK_FALSE;
    c->s16.storagePushConstant16 = VK_FALSE;
    c->s16.storageInputOutput16 = VK_FALSE;
    c->s8.storageBuffer8BitAccess = (use & VKF_STORAGE8) && c->s8.storageBuffer8BitAccess;
    c->s8.uniformAndStorageBuffer8BitAccess = VK_FALSE;
    c->s8.storagePushConstant8 = VK_FALSE;
    c->fi.shaderFloat16 = (use & VKF_FP16) && c->fi.shaderFloat16;
    c->fi.shaderInt8 = (use & VKF_INT8) && c->fi.shaderInt8;
    c->dp.shaderIntegerDotProduct = (use & VKF_INTDOT) && c->dp.shaderIntegerDotProduct;
    c->n_ext = 0;
    if (c->has_s8_ext && c->s8.storageBuffer8BitAccess) c->ext[c->n_ext++] = "VK_KHR_8bit_storage";
    if (c->has_fi_ext && (c->fi.shaderFloat16 || c->fi.shaderInt8)) c->ext[c->n_ext++] = "VK_KHR_shader_float16_int8";
    if (c->has_dp_ext && c->dp.shaderIntegerDotProduct) c->ext[c->n_ext++] = "VK_KHR_shader_integer_dot_product";
}
