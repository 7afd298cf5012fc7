/* Vulkan backend errors surface as a qg_status with a message: a buffer larger than the
 * device's largest allocation is refused up front, and a real driver failure (the
 * process address space capped with RLIMIT_AS so that vkAllocateMemory cannot get its
 * memory, which makes lavapipe return VK_ERROR_OUT_OF_DEVICE_MEMORY) comes back as
 * QG_ERR_NO_MEMORY naming the VkResult. The device keeps working afterwards. Skips (77)
 * when vulkan0 cannot be opened.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "testutil.h"

static qg_backend *be;

/* The device still allocates, fills and reads back a small buffer. */
static void still_works(void) {
    qg_buffer *buf;
    assert_int_equal(qg_backend_alloc_buffer(be, 4096, &buf), QG_OK);
    qg_context *ctx;
    assert_int_equal(qg_context_new(&ctx), QG_OK);
    qg_tensor *t = qg_new_tensor_1d(ctx, QG_TYPE_F32, 16);
    assert_int_equal(qg_buffer_place(buf, t, 0), QG_OK);
    float in[16], out[16];
    for (int i = 0; i < 16; i++) in[i] = (float)i * 0.5f;
    assert_int_equal(qg_tensor_set(t, in, 0, sizeof in), QG_OK);
    assert_int_equal(qg_tensor_get(t, out, 0, sizeof out), QG_OK);
    assert_memory_equal(in, out, sizeof in);
    qg_context_free(ctx);
    qg_buffer_free(buf);
}

static void test_larger_than_device(void **state) {
    (void)state;
    const qg_device_props *p = qg_backend_props(be);
    assert_true(p->max_alloc > 0);
    qg_buffer *buf = NULL;
    assert_int_equal(qg_backend_alloc_buffer(be, p->max_alloc + 4096, &buf), QG_ERR_NO_MEMORY);
    assert_null(buf);
    printf("  error: %s\n", qg_last_error());
    assert_non_null(strstr(qg_last_error(), "vulkan0"));
    assert_non_null(strstr(qg_last_error(), "exceeds"));
    still_works();
}

/* Bytes of address space this process maps now (from /proc/self/statm). */
static size_t mapped_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) pages = 0;
        fclose(f);
    }
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

static void test_driver_out_of_memory(void **state) {
    (void)state;
    const qg_device_props *p = qg_backend_props(be);
    const size_t want = (size_t)1 << 30;
    if (p->max_alloc < want || mapped_bytes() == 0) {
        printf("  (max_alloc %zu or /proc/self/statm unusable: not exercised)\n", p->max_alloc);
        return;
    }
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_AS, &old), 0);
    struct rlimit cap = old;
    cap.rlim_cur = (rlim_t)(mapped_bytes() + ((size_t)256 << 20));
    if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < cap.rlim_cur) cap.rlim_cur = old.rlim_cur;
    assert_int_equal(setrlimit(RLIMIT_AS, &cap), 0);
    qg_buffer *buf = NULL;
    qg_status st = qg_backend_alloc_buffer(be, want, &buf);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", qg_last_error());
    assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
    if (st == QG_OK) {
        qg_buffer_free(buf);
        /* Device memory outside the process (a real GPU) is not limited by RLIMIT_AS. */
        if (!p->is_software) {
            printf("  (a GPU allocation is not bounded by RLIMIT_AS: path not exercised here)\n");
            return;
        }
        fail_msg("a 1 GiB allocation succeeded under a %zu-byte address-space cap", (size_t)cap.rlim_cur);
    }
    printf("  error: %s\n", msg);
    assert_int_equal(st, QG_ERR_NO_MEMORY);
    assert_null(buf);
    assert_non_null(strstr(msg, "VK_ERROR_OUT_OF_"));
    still_works();
}

int main(void) {
    if (qg_backend_open("vulkan0", &be) != QG_OK) return qgt_skip("vulkan0 cannot be opened: %s", qg_last_error());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_larger_than_device),
        cmocka_unit_test(test_driver_out_of_memory),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    qg_backend_free(be);
    return rc;
}
