/* Internal declarations of the Vulkan backend plugin: the plugin-wide instance, the
 * device and buffer objects, the parameter-slot layout shared with the GLSL kernels
 * (shaders/vulkan/common.glsl), and the functions each file provides.
 *
 * Execution model: compute() records every node of a split into one command buffer
 * (one or two dispatches per node, a pipeline barrier wherever a dispatch touches bytes
 * an earlier unbarriered dispatch wrote, or writes bytes it read), submits it with a
 * fence and returns; synchronize() and every buffer access wait for that fence. Each
 * dispatch reads its shapes, strides, byte offsets and op parameters from a slot of a
 * host-visible parameter buffer whose index comes as a push constant.
 */
#ifndef QG_VK_H
#define QG_VK_H

#include "qg/plugin.h"

#include <vulkan/vulkan.h>

#define VK_MAX_DEVICES 16
#define VK_ALIGN 64
/* Optional features (features.c); QG_VK_DISABLE names them by word. */
#define VKF_STORAGE16 0x01u /* storageBuffer16BitAccess */
#define VKF_STORAGE8 0x02u  /* storageBuffer8BitAccess */
#define VKF_FP16 0x04u      /* shaderFloat16 */
#define VKF_INT8 0x08u      /* shaderInt8 */
#define VKF_INTDOT 0x10u    /* shaderIntegerDotProduct */
#define VKF_SUBGROUP 0x20u  /* subgroup basic + arithmetic in compute shaders */
#define VKF_ALL 0x3fu
/* Not a device feature: option "fp16math" allows the float16-arithmetic variants. */
#define VKF_FP16MATH 0x100u
/* Parameter slots (uint32 words): see common.glsl. */
#define VKS_WORDS 64
#define VKS_OFF 0
#define VKS_NE 4      /* ne of dst, src0, src1, src2 at VKS_NE + 8*t, nb at VKS_NE + 8*t + 4 */
#define VKS_TYPE 36
#define VKS_OP 40
#define VKS_X 56
#define VKS_HEADER 64 /* words 0..63 of the buffer: [0] error count, [1] failing slot */

typedef struct vk_spirv_blob {
    const char *name;
    const unsigned char *data;
    size_t size;
} vk_spirv_blob;
extern const vk_spirv_blob vk_spirv_blobs[];
extern const int vk_spirv_count;

/* The plugin-wide Vulkan instance and physical devices (instance.c). */
typedef struct vk_global {
    VkInstance instance;
    int n_phys;
    VkPhysicalDevice phys[VK_MAX_DEVICES];
    VkResult init_result; /* why there is no instance, if so */
    uint32_t api_version; /* the instance's API version (1.1 .. 1.3) */
} vk_global;
extern vk_global vk_g;

/* One buffer and its memory. */
typedef struct vk_mem {
    VkBuffer buf;
    VkDeviceMemory mem;
    void *map;      /* persistent mapping, or NULL when not host-visible */
    size_t size;
} vk_mem;

/* Specialization constants of a pipeline: dst type, src0 type, src1 type, op. */
typedef struct vk_spec {
    uint32_t v[4];
} vk_spec;

typedef struct vk_pipe {
    char req[40];     /* the kernel name asked for */
    unsigned feat;    /* d->features when it was built (variants depend on them) */
    const char *name; /* the SPIR-V blob used: that kernel or a feature variant of it */
    vk_spec spec;
    VkPipeline pipe;
} vk_pipe;

/* Hazard tracking for barriers: byte ranges touched since the last barrier. */
typedef struct vk_range {
    VkBuffer buf;
    size_t lo, hi;
    bool write;
} vk_range;

struct qg_plugin_device {
    int index;
    char name[16];
    VkPhysicalDevice phys;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties memprops;
    VkDevice dev;
    VkQueue queue;
    uint32_t qfam;
    /* What the device reports and we use. */
    bool has_f64, has_subgroup_arith, has_f16, has_int8, has_storage16, has_storage8;
    bool has_intdot;          /* shaderIntegerDotProduct (Vulkan 1.3 or VK_KHR_shader_integer_dot_product) */
    unsigned features;        /* VKF_* enabled on the device (reported and not in QG_VK_DISABLE),
                                 plus VKF_FP16MATH while option "fp16math" is on */
    unsigned disabled;        /* VKF_* named by QG_VK_DISABLE */
    uint32_t subgroup_size;
    size_t max_range;         /* maxStorageBufferRange: the largest window one binding sees */
    size_t min_align;         /* minStorageBufferOffsetAlignment of binding windows */
    size_t max_alloc;         /* largest buffer (maxMemoryAllocationSize, below 4 GiB) */
    bool force_staging;       /* option "staging": never map buffers (tests the copy path) */
    bool use_subgroups;       /* option "subgroups" (default: when supported) */
    int mm_path;              /* option "matmul": 0 auto, 1 vec, 2 tiled */

    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    VkPipelineCache cache;
    bool cache_dirty;
    vk_pipe *pipes;
    int n_pipes, cap_pipes;
    int n_variant_pipes;      /* pipelines built from a feature variant (option "variants") */

    VkCommandPool cmdpool;
    VkCommandBuffer cmd, xfer;
    VkFence fence, xfer_fence;
    bool pending;             /* cmd was submitted and not yet waited for */
    VkDescriptorPool dpool;
    uint32_t dpool_cap;
    vk_mem params;            /* host-visible parameter slots */
    uint32_t params_used;     /* words used by the recording in progress */
    vk_mem scratch;           /* MUL_MAT activations */
    vk_mem staging;           /* host-visible bounce buffer for non-mappable memory */
    /* Names of the nodes of the last submission by slot, for data errors. */
    struct { uint32_t slot; char name[QG_MAX_NAME]; int op; } *slots;
    int n_slots, cap_slots;
    vk_range *ranges;
    int n_ranges, cap_ranges;
    int n_dispatch, n_barriers; /* of the last compute, for tests */
};

struct qg_plugin_buffer {
    qg_plugin_device *dev;
    vk_mem m;                 /* m.size: allocated bytes (a multiple of 4) */
    size_t size;              /* bytes asked for */
    uintptr_t base;           /* the fake address handed to the host */
};

/* result.c */
const char *vk_result_name(VkResult r);
qg_status vk_fail(VkResult r, const char *fmt, ...) QG_PRINTF(2, 3);

/* instance.c */
qg_status vk_global_init(void);
void vk_global_shutdown(void);
void vk_fill_props(int index, qg_device_props *p);

/* features.c: the feature structs of one device, chained for vkGetPhysicalDeviceFeatures2
 * and then reused (members narrowed to what is used) for vkCreateDevice. */
typedef struct vk_feature_chain {
    VkPhysicalDeviceFeatures2 f2;
    VkPhysicalDevice16BitStorageFeatures s16;
    VkPhysicalDevice8BitStorageFeatures s8;
    VkPhysicalDeviceShaderFloat16Int8Features fi;
    VkPhysicalDeviceShaderIntegerDotProductFeatures dp;
    bool s8_chained, fi_chained, dp_chained;
    bool has_s8_ext, has_fi_ext, has_dp_ext; /* chained through the extension, not core */
    const char *ext[3];
    uint32_t n_ext;
} vk_feature_chain;
/* QG_VK_DISABLE as VKF_* bits; an unknown word is an error naming it. */
qg_status vk_disable_mask(unsigned *mask);
/* Comma list of the words of mask ("storage8,fp16"). */
void vk_disable_words(unsigned mask, char *out, size_t size);
bool vk_has_extension(VkPhysicalDevice pd, const char *name);
/* Effective API version of a device: min(device, instance). */
uint32_t vk_api_version(VkPhysicalDevice pd);
/* Queries the device's optional features into c; returns the VKF_* it reports. */
unsigned vk_query_features(VkPhysicalDevice pd, vk_feature_chain *c, uint32_t *subgroup_size);
/* Narrows a queried chain to the VKF_* in use (plus the core features in base) and
 * lists the extensions to enable. */
void vk_enable_features(vk_feature_chain *c, unsigned use, const VkPhysicalDeviceFeatures *base);

/* device.c */
qg_status vk_device_open(int index, qg_plugin_device **out);
void vk_device_close(qg_plugin_device *dev);

/* memory.c */
qg_status vk_mem_alloc(qg_plugin_device *d, size_t size, bool host, vk_mem *m);
void vk_mem_free(qg_plugin_device *d, vk_mem *m);
qg_status vk_buffer_alloc(qg_plugin_device *d, size_t size, qg_plugin_buffer **out, void **base);
void vk_buffer_free(qg_plugin_buffer *b);
qg_status vk_buffer_set(qg_plugin_buffer *b, size_t off, const void *src, size_t size);
qg_status vk_buffer_get(qg_plugin_buffer *b, size_t off, void *dst, size_t size);
qg_status vk_buffer_copy(qg_plugin_buffer *s, size_t so, qg_plugin_buffer *d, size_t dof, size_t size);
qg_status vk_buffer_clear(qg_plugin_buffer *b, uint8_t value);

/* pipeline.c */
qg_status vk_pipelines_init(qg_plugin_device *d);
void vk_pipelines_free(qg_plugin_device *d);
qg_status vk_pipeline_get(qg_plugin_device *d, const char *name, const vk_spec *spec, VkPipeline *out);
void vk_cache_save(qg_plugin_device *d);

/* record.c */
qg_status vk_wait(qg_plugin_device *d);
qg_status vk_begin(qg_plugin_device *d, uint32_t n_dispatch, uint32_t n_words, size_t scratch_bytes);
/* A new parameter slot of n words (>= VKS_WORDS), zeroed; returns its word index. */
uint32_t *vk_slot(qg_plugin_device *d, uint32_t n_words, uint32_t *index);
typedef struct vk_binding {
    VkBuffer buf;
    size_t lo, hi;  /* bytes the dispatch touches (hazards) */
} vk_binding;
/* Record one dispatch: bindings 0..2 read, 3 written (buf VK_NULL_HANDLE: unused). */
qg_status vk_dispatch(qg_plugin_device *d, const char *pipe, vk_spec spec, const vk_binding b[4], uint32_t slot,
                      uint32_t groups, const qg_tensor *node);
qg_status vk_submit(qg_plugin_device *d);
/* One-shot transfer commands (memory.c): begin, then submit and wait. */
qg_status vk_xfer_begin(qg_plugin_device *d);
qg_status vk_xfer_end(qg_plugin_device *d);

/* Largest single buffer of a physical device (instance.c). */
size_t vk_max_alloc(VkPhysicalDevice pd);

/* ops.c */
/* Row chunks a MUL_MAT's weights are split into so each fits one binding window. */
uint32_t vk_mul_mat_chunks(const qg_plugin_device *d, const qg_tensor *node);
qg_status vk_compute(qg_plugin_device *d, qg_tensor *const *nodes, int n, int path);

/* supports.c */
bool vk_supports(qg_plugin_device *d, const qg_tensor *node);
bool vk_type_readable(qg_type t);
bool vk_type_writable(qg_type t);
/* Pipeline-name suffix of a MUL_MAT weight type ("q4_0"), or NULL. */
const char *vk_weight_name(qg_type t);

#endif
