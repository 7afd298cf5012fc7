/* Program building and the compiled-binary cache. A program is one kernel family's
 * source (shaders/opencl/<family>.cl after the shared common.cl; the typed family is
 * dequant.cl, kquantize.cl, quantize.cl, rows.cl and mul_mat.cl) built for one device with
 * type-selecting macros (-DSTYPE=<id> -DDTYPE=<id>). Built programs live in the device's list for the rest of
 * its life; their binaries are also kept in $XDG_CACHE_HOME/qgraph (or ~/.cache/qgraph)
 * under a name hashing the device name, driver version, source and options. Any cache
 * problem (missing, short, corrupt, refused by the driver) just means building from
 * source; QG_OPENCL_NO_CACHE=1 bypasses the cache. QG_OPENCL_BUILD_OPTIONS is appended to
 * the build options. Build failures report the build log.
 */
#define _POSIX_C_SOURCE 200809L
#include "ocl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC 0x51474f43u /* "QGOC" */

static const char *family_name[OCL_FAM_COUNT] = {"elementwise", "norm", "rope", "typed"};

int ocl_program_type(const qg_plugin_device *dev, qg_type t) {
    if (!dev->specialize) return -1;
    return ocl_plain_float(t) ? 0 : (int)t;
}

/* Source pieces of a family, in order (NULL-terminated). */
static void family_sources(ocl_family fam, const char *src[7]) {
    int n = 0;
    src[n++] = ocl_src_common;
    switch (fam) {
    case OCL_FAM_ELEMENTWISE: src[n++] = ocl_src_elementwise; break;
    case OCL_FAM_NORM: src[n++] = ocl_src_norm; break;
    case OCL_FAM_ROPE: src[n++] = ocl_src_rope; break;
    case OCL_FAM_TYPED:
        src[n++] = ocl_src_dequant;
        src[n++] = ocl_src_kquantize;
        src[n++] = ocl_src_quantize;
        src[n++] = ocl_src_rows;
        src[n++] = ocl_src_mul_mat;
        break;
    case OCL_FAM_COUNT: break;
    }
    src[n] = NULL;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void cache_dir(char *buf, size_t size) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg) snprintf(buf, size, "%s/qgraph", xdg);
    else if (home && *home) snprintf(buf, size, "%s/.cache/qgraph", home);
    else buf[0] = '\0';
}

static int mkdir_p(const char *path) {
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static unsigned char *read_cache(const char *path, uint64_t key, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint32_t magic = 0;
    uint64_t k = 0, n = 0;
    unsigned char *data = NULL;
    if (fread(&magic, sizeof magic, 1, f) == 1 && fread(&k, sizeof k, 1, f) == 1 && fread(&n, sizeof n, 1, f) == 1 &&
        magic == CACHE_MAGIC && k == key && n > 0 && n < ((uint64_t)1 << 30)) {
        data = malloc((size_t)n);
        if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
            free(data);
            data = NULL;
        }
    }
    fclose(f);
    *size = (size_t)n;
    return data;
}

/* Best effort: a write to a temporary name, then rename, so readers never see half a file. */
static void write_cache(const char *dir, const char *path, uint64_t key, cl_program prog) {
    size_t size = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS || size == 0) return;
    unsigned char *bin = malloc(size);
    if (!bin) return;
    unsigned char *bins[1] = {bin};
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) == CL_SUCCESS && mkdir_p(dir) == 0) {
        char tmp[600];
        snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
        FILE *f = fopen(tmp, "wb");
        if (f) {
            uint32_t magic = CACHE_MAGIC;
            uint64_t n = size;
            bool ok = fwrite(&magic, sizeof magic, 1, f) == 1 && fwrite(&key, sizeof key, 1, f) == 1 &&
                      fwrite(&n, sizeof n, 1, f) == 1 && fwrite(bin, 1, size, f) == size;
            ok = fclose(f) == 0 && ok;
            if (!ok || rename(tmp, path) != 0) remove(tmp);
        }
    }
    free(bin);
}

static qg_status build_log_error(qg_plugin_device *dev, cl_program prog, cl_int err, const char *fam,
                                 const char *opts) {
    size_t n = 0;
    char log[2048] = "";
    if (clGetProgramBuildInfo(prog, dev->id, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) == CL_SUCCESS && n > 0) {
        char *full = malloc(n + 1);
        if (full && clGetProgramBuildInfo(prog, dev->id, CL_PROGRAM_BUILD_LOG, n, full, NULL) == CL_SUCCESS) {
            full[n] = '\0';
            snprintf(log, sizeof log, "%s", full);
        }
        free(full);
    }
    return qg_set_error(QG_ERR_BACKEND, "opencl: building kernels '%s' (%s) for %s failed: %s (%d); build log:\n%s",
                        fam, opts, dev->dev_name, ocl_err_name(err), (int)err, log);
}

static qg_status build(qg_plugin_device *dev, ocl_family fam, int stype, int dtype, cl_program *out) {
    const char *src[7];
    family_sources(fam, src);
    size_t lens[7];
    cl_uint n_src = 0;
    for (; src[n_src]; n_src++) lens[n_src] = strlen(src[n_src]);
    char opts[512];
    int o = snprintf(opts, sizeof opts, "-cl-std=CL1.2%s", dev->correct_div ? " -cl-fp32-correctly-rounded-divide-sqrt" : "");
    if (fam == OCL_FAM_TYPED) o += snprintf(opts + o, sizeof opts - (size_t)o, " -DSTYPE=%d -DDTYPE=%d", stype, dtype);
    const char *extra = getenv("QG_OPENCL_BUILD_OPTIONS");
    if (extra && *extra && (size_t)o < sizeof opts) snprintf(opts + o, sizeof opts - (size_t)o, " %s", extra);

    uint64_t key = 0xcbf29ce484222325ull;
    key = fnv1a(key, dev->dev_name, strlen(dev->dev_name) + 1);
    key = fnv1a(key, dev->driver, strlen(dev->driver) + 1);
    for (cl_uint i = 0; i < n_src; i++) key = fnv1a(key, src[i], lens[i]);
    key = fnv1a(key, opts, strlen(opts) + 1);
    char dir[400], path[512];
    cache_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/opencl-%016llx.bin", dir, (unsigned long long)key);

    cl_int err;
    if (dir[0] && !getenv("QG_OPENCL_NO_CACHE")) {
        size_t size = 0;
        unsigned char *bin = read_cache(path, key, &size);
        if (bin) {
            const unsigned char *bins[1] = {bin};
            cl_int bst = CL_SUCCESS;
            cl_program p = clCreateProgramWithBinary(dev->ctx, 1, &dev->id, &size, bins, &bst, &err);
            free(bin);
            if (p && err == CL_SUCCESS && bst == CL_SUCCESS && clBuildProgram(p, 1, &dev->id, opts, NULL, NULL) == CL_SUCCESS) {
                *out = p;
                return QG_OK;
            }
            if (p) clReleaseProgram(p);
        }
    }
    cl_program p = clCreateProgramWithSource(dev->ctx, n_src, src, lens, &err);
    if (!p) return ocl_fail(err, "clCreateProgramWithSource");
    err = clBuildProgram(p, 1, &dev->id, opts, NULL, NULL);
    if (err != CL_SUCCESS) {
        qg_status st = build_log_error(dev, p, err, family_name[fam], opts);
        clReleaseProgram(p);
        return st;
    }
    if (dir[0] && !getenv("QG_OPENCL_NO_CACHE")) write_cache(dir, path, key, p);
    *out = p;
    return QG_OK;
}

qg_status ocl_program_get(qg_plugin_device *dev, ocl_family fam, int stype, int dtype, cl_program *out) {
    for (int i = 0; i < dev->n_progs; i++) {
        const ocl_program *p = &dev->progs[i];
        if (p->fam == fam && p->stype == stype && p->dtype == dtype) {
            *out = p->prog;
            return QG_OK;
        }
    }
    if (dev->n_progs == OCL_MAX_PROGRAMS)
        return qg_set_error(QG_ERR_NO_MEMORY, "opencl: %s holds %d programs already", dev->name, OCL_MAX_PROGRAMS);
    cl_program prog;
    qg_status st = build(dev, fam, stype, dtype, &prog);
    if (st != QG_OK) return st;
    dev->progs[dev->n_progs++] = (ocl_program){fam, stype, dtype, prog};
    *out = prog;
    return QG_OK;
}

qg_status ocl_kernel(qg_plugin_device *dev, ocl_family fam, int stype, int dtype, const char *name,
                     cl_kernel *out) {
    cl_program prog = NULL;
    qg_status st = ocl_program_get(dev, fam, stype, dtype, &prog);
    if (st != QG_OK) return st;
    cl_int err;
    *out = clCreateKernel(prog, name, &err);
    if (!*out) {
        char what[96];
        snprintf(what, sizeof what, "clCreateKernel(%s)", name);
        return ocl_fail(err, what);
    }
    return QG_OK;
}

void ocl_programs_release(qg_plugin_device *dev) {
    for (int i = 0; i < dev->n_progs; i++) clReleaseProgram(dev->progs[i].prog);
    dev->n_progs = 0;
}
