/* qg_model_load: GGUF files written by the test (f32, f16, q8_0, a 1-D tensor) load on
 * "cpu" without copies (tensors point into the mapping) and on "cpu-ref" with
 * convert_to q4_0 (values equal the type table's to_float(from_float(x)) of the stored
 * data); the progress callback sees every tensor and can cancel; a 32-aligned GGUF
 * (less than the CPU's 64-byte buffer alignment) is still used in place with the right values; safetensors BF16 tensors keep their values and get their
 * shapes reversed; more than 4 dimensions is a clear error naming the tensor.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qg/model.h"
#include "testutil.h"

#define NE0 64
#define NE1 4

static char gguf64[256], gguf32[256], stpath[256], st5path[256];
static float src_f32[NE0 * NE1], src_v[NE0];
static uint16_t src_f16[NE0 * NE1], src_bf16[NE0 * 3];
static uint8_t src_q8[NE1 * NE0 / 32 * 34];

static void write_gguf(const char *path, uint32_t align) {
    qg_gguf_writer *w;
    assert_int_equal(qg_gguf_writer_new(&w), QG_OK);
    if (align != 32) assert_int_equal(qg_gguf_set_alignment(w, align), QG_OK);
    assert_int_equal(qg_gguf_set_str(w, "general.name", "test"), QG_OK);
    int64_t ne[2] = {NE0, NE1}, nv[1] = {NE0 - 2};
    assert_int_equal(qg_gguf_add_tensor(w, "a.f32", QG_TYPE_F32, 2, ne, src_f32), QG_OK);
    assert_int_equal(qg_gguf_add_tensor(w, "odd.vec", QG_TYPE_F32, 1, nv, src_v), QG_OK);
    assert_int_equal(qg_gguf_add_tensor(w, "b.f16", QG_TYPE_F16, 2, ne, src_f16), QG_OK);
    assert_int_equal(qg_gguf_add_tensor(w, "c.q8_0", QG_TYPE_Q8_0, 2, ne, src_q8), QG_OK);
    assert_int_equal(qg_gguf_writer_save(w, path), QG_OK);
    qg_gguf_writer_free(w);
}

static int setup(void **state) {
    (void)state;
    qgt_rng r;
    qgt_seed(&r, 7);
    qgt_fill_uniform(&r, src_f32, NE0 * NE1, -2, 2);
    qgt_fill_uniform(&r, src_v, NE0, -1, 1);
    for (int i = 0; i < NE0 * NE1; i++) src_f16[i] = qg_fp32_to_fp16(qgt_uniform(&r, -3, 3));
    for (int i = 0; i < NE0 * 3; i++) src_bf16[i] = qg_fp32_to_bf16(qgt_uniform(&r, -3, 3));
    float tmp[NE0 * NE1];
    qgt_fill_uniform(&r, tmp, NE0 * NE1, -1, 1);
    qg_type_get(QG_TYPE_Q8_0)->from_float(tmp, src_q8, NE0 * NE1);
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(gguf64, sizeof gguf64, "%s/qg_test_model_%d_64.gguf", dir, (int)getpid());
    snprintf(gguf32, sizeof gguf32, "%s/qg_test_model_%d_32.gguf", dir, (int)getpid());
    snprintf(stpath, sizeof stpath, "%s/qg_test_model_%d.safetensors", dir, (int)getpid());
    snprintf(st5path, sizeof st5path, "%s/qg_test_model_%d_5d.safetensors", dir, (int)getpid());
    write_gguf(gguf64, 64);
    write_gguf(gguf32, 32);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    unlink(gguf64);
    unlink(gguf32);
    unlink(stpath);
    unlink(st5path);
    return 0;
}

static qg_backend *open_or_skip(const char *name) {
    qg_backend *be = NULL;
    if (qg_backend_open(name, &be) != QG_OK) return NULL;
    return be;
}

/* Compare a loaded tensor with the expected floats exactly. */
static void expect_values(const qg_tensor *t, const float *want, int64_t n) {
    float *got = malloc((size_t)n * sizeof *got);
    assert_non_null(got);
    assert_int_equal(qg_tensor_get_f32(t, got), QG_OK);
    for (int64_t i = 0; i < n; i++)
        if (got[i] != want[i]) fail_msg("%s[%lld]: %g != %g", t->name, (long long)i, got[i], want[i]);
    free(got);
}

static void stored_as_f32(qg_type type, const void *data, float *out, int64_t n) {
    qg_type_get(type)->to_float(data, out, n);
}

static int64_t progress_calls;
static bool count_progress(int64_t done, int64_t total, const char *name, void *user) {
    (void)user;
    progress_calls++;
    assert_true(done >= 1 && done <= total && name && name[0]);
    return true;
}
static bool cancel_at_2(int64_t done, int64_t total, const char *name, void *user) {
    (void)total;
    (void)name;
    (void)user;
    return done < 2;
}

static void test_zero_copy_cpu(void **state) {
    (void)state;
    qg_backend *cpu = open_or_skip("cpu");
    if (!cpu) skip();
    qg_model_params p = qg_model_default_params();
    p.progress = count_progress;
    progress_calls = 0;
    qg_model *m;
    assert_int_equal(qg_model_load(gguf64, cpu, &p, &m), QG_OK);
    assert_int_equal(progress_calls, 4);
    assert_true(qg_model_is_zero_copy(m));
    const qg_gguf *g = qg_model_gguf(m);
    assert_non_null(g);
    assert_null(qg_model_safetensors(m));
    for (int64_t i = 0; i < qg_gguf_n_tensors(g); i++) {
        const qg_gguf_tensor_info *ti = qg_gguf_tensor(g, i);
        qg_tensor *t = qg_model_tensor(m, ti->name);
        assert_non_null(t);
        assert_ptr_equal(t->data, ti->data); /* inside the mapping, no copy */
        assert_int_equal(t->type, ti->type);
    }
    qg_tensor *v = qg_model_tensor(m, "odd.vec");
    assert_int_equal(v->ne[0], NE0 - 2);
    expect_values(qg_model_tensor(m, "a.f32"), src_f32, NE0 * NE1);
    float want[NE0 * NE1];
    stored_as_f32(QG_TYPE_Q8_0, src_q8, want, NE0 * NE1);
    expect_values(qg_model_tensor(m, "c.q8_0"), want, NE0 * NE1);
    assert_null(qg_model_tensor(m, "missing"));
    qg_model_free(m);
    qg_backend_free(cpu);
}

static void test_aligned_32_values(void **state) {
    (void)state;
    qg_backend *cpu = open_or_skip("cpu");
    if (!cpu) skip();
    qg_model *m;
    assert_int_equal(qg_model_load(gguf32, cpu, NULL, &m), QG_OK);
    /* wrapped host memory takes tensors at any offset: every tensor stays in the mapping */
    const qg_gguf *g = qg_model_gguf(m);
    for (int64_t i = 0; i < qg_gguf_n_tensors(g); i++) {
        const qg_gguf_tensor_info *ti = qg_gguf_tensor(g, i);
        if (ti->size) assert_ptr_equal(qg_model_tensor(m, ti->name)->data, ti->data);
    }
    assert_true(qg_model_is_zero_copy(m));
    expect_values(qg_model_tensor(m, "a.f32"), src_f32, NE0 * NE1);
    expect_values(qg_model_tensor(m, "odd.vec"), src_v, NE0 - 2);
    float want[NE0 * NE1];
    stored_as_f32(QG_TYPE_F16, src_f16, want, NE0 * NE1);
    expect_values(qg_model_tensor(m, "b.f16"), want, NE0 * NE1);
    qg_model_free(m);
    qg_backend_free(cpu);
}

static void test_convert_cpu_ref(void **state) {
    (void)state;
    qg_backend *be = open_or_skip("cpu-ref");
    if (!be) skip();
    qg_model_params p = qg_model_default_params();
    p.convert_to = QG_TYPE_Q4_0;
    qg_model *m;
    assert_int_equal(qg_model_load(gguf64, be, &p, &m), QG_OK);
    assert_false(qg_model_is_zero_copy(m));
    const qg_type_traits *q4 = qg_type_get(QG_TYPE_Q4_0);
    uint8_t q[NE1 * NE0 / 32 * 18];
    float f[NE0 * NE1], want[NE0 * NE1];
    /* f32 and f16 matrices are converted: want = to_float(from_float(stored values)) */
    const struct { const char *name; qg_type type; const void *data; } conv[] = {
        {"a.f32", QG_TYPE_F32, src_f32}, {"b.f16", QG_TYPE_F16, src_f16}};
    for (int k = 0; k < 2; k++) {
        qg_tensor *t = qg_model_tensor(m, conv[k].name);
        assert_int_equal(t->type, QG_TYPE_Q4_0);
        stored_as_f32(conv[k].type, conv[k].data, f, NE0 * NE1);
        q4->from_float(f, q, NE0 * NE1);
        q4->to_float(q, want, NE0 * NE1);
        expect_values(t, want, NE0 * NE1);
    }
    /* quantized and 1-D tensors are kept */
    assert_int_equal(qg_model_tensor(m, "c.q8_0")->type, QG_TYPE_Q8_0);
    assert_int_equal(qg_model_tensor(m, "odd.vec")->type, QG_TYPE_F32);
    expect_values(qg_model_tensor(m, "odd.vec"), src_v, NE0 - 2);
    qg_model_free(m);
    qg_backend_free(be);
}

static void test_cancel_and_errors(void **state) {
    (void)state;
    qg_backend *cpu = open_or_skip("cpu");
    if (!cpu) skip();
    qg_model_params p = qg_model_default_params();
    p.progress = cancel_at_2;
    qg_model *m = (qg_model *)1;
    assert_int_equal(qg_model_load(gguf64, cpu, &p, &m), QG_ERR_INVALID_ARG);
    assert_null(m);
    assert_non_null(strstr(qg_last_error(), "cancelled"));
    p = qg_model_default_params();
    p.convert_to = QG_TYPE_I32;
    assert_int_equal(qg_model_load(gguf64, cpu, &p, &m), QG_ERR_INVALID_ARG);
    assert_int_not_equal(qg_model_load("/nonexistent/model.gguf", cpu, NULL, &m), QG_OK);
    assert_null(m);
    qg_backend_free(cpu);
}

static void test_safetensors_bf16(void **state) {
    (void)state;
    qg_backend *cpu = open_or_skip("cpu");
    if (!cpu) skip();
    qg_st_writer *w;
    assert_int_equal(qg_st_writer_new(&w), QG_OK);
    int64_t shape[2] = {3, NE0}; /* outermost first */
    assert_int_equal(qg_st_writer_add(w, "model.embed.weight", QG_ST_BF16, 2, shape, src_bf16), QG_OK);
    assert_int_equal(qg_st_writer_add(w, "scalar", QG_ST_BF16, 0, NULL, src_bf16), QG_OK);
    assert_int_equal(qg_st_writer_save(w, stpath), QG_OK);
    qg_st_writer_free(w);
    qg_model *m;
    assert_int_equal(qg_model_load(stpath, cpu, NULL, &m), QG_OK);
    assert_non_null(qg_model_safetensors(m));
    assert_null(qg_model_gguf(m));
    qg_tensor *t = qg_model_tensor(m, "model.embed.weight");
    assert_non_null(t);
    assert_int_equal(t->type, QG_TYPE_BF16);
    assert_int_equal(t->ne[0], NE0);
    assert_int_equal(t->ne[1], 3);
    float want[NE0 * 3];
    stored_as_f32(QG_TYPE_BF16, src_bf16, want, NE0 * 3);
    expect_values(t, want, NE0 * 3);
    qg_tensor *s = qg_model_tensor(m, "scalar");
    assert_non_null(s);
    assert_int_equal(qg_nelements(s), 1);
    expect_values(s, want, 1);
    qg_model_free(m);

    /* 5 dimensions: a clear error that names the tensor */
    assert_int_equal(qg_st_writer_new(&w), QG_OK);
    int64_t shape5[5] = {1, 1, 1, 2, 2};
    assert_int_equal(qg_st_writer_add(w, "five.dims", QG_ST_BF16, 5, shape5, src_bf16), QG_OK);
    assert_int_equal(qg_st_writer_save(w, st5path), QG_OK);
    qg_st_writer_free(w);
    assert_int_not_equal(qg_model_load(st5path, cpu, NULL, &m), QG_OK);
    assert_non_null(strstr(qg_last_error(), "five.dims"));
    qg_backend_free(cpu);
}

int main(void) {
    qg_backend *probe = NULL;
    if (qg_backend_open("cpu", &probe) != QG_OK) return qgt_skip("no cpu device: %s", qg_last_error());
    qg_backend_free(probe);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_copy_cpu),     cmocka_unit_test(test_aligned_32_values),
        cmocka_unit_test(test_convert_cpu_ref),   cmocka_unit_test(test_cancel_and_errors),
        cmocka_unit_test(test_safetensors_bf16),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
