/* `qg conform`: run the conformance catalogue (conform_cases.c) on one device, or on
 * every device of a plugin file, against the reference device `cpu-ref`, and print one
 * line per case (`op types shape NMSE PASS|FAIL|UNSUPPORTED`, a reason after FAIL and
 * UNSUPPORTED) and a summary line `N passed, M failed, K unsupported` per device.
 * Exit status: 0 when nothing failed, 1 when a case failed, 2 on usage or setup errors.
 */
#define _POSIX_C_SOURCE 200809L
#include "commands.h"
#include "conform_cases.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef QG_HAVE_JANSSON
#include <jansson.h>
#endif

#define DEFAULT_SEED 42
#define MAX_DEVICES 16

typedef struct options {
    const char *backend, *plugin, *ops, *types;
    bool json, perf, full, list;
    uint64_t seed;
} options;

static void usage(FILE *f) {
    fprintf(f,
            "usage: qg conform [--backend NAME | --plugin PATH] [--ops REGEX] [--types REGEX]\n"
            "                  [--json] [--perf] [--seed N] [--full] [--list]\n"
            "  --backend NAME  device to test (default: cpu), from the default plugins\n"
            "  --plugin PATH   load this plugin file and test each of its devices\n"
            "  --ops REGEX     only cases whose op matches (extended regex, any case)\n"
            "  --types REGEX   only cases whose types match (\"q4_0\", \"f32->q\", \"mask:f16\")\n"
            "  --json          one JSON object per line: a header, each case, the summary\n"
            "  --perf          also time each case on the tested device (median of 5 runs)\n"
            "  --seed N        seed of the random inputs (default %d)\n"
            "  --full          add the large, slow cases\n"
            "  --list          print the selected cases and their limits, run nothing\n"
            "The reference is always the device cpu-ref. Exit status 1 if any case fails.\n",
            DEFAULT_SEED);
}

static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->seed = DEFAULT_SEED;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **target = NULL;
        if (strcmp(a, "--backend") == 0) target = &o->backend;
        else if (strcmp(a, "--plugin") == 0) target = &o->plugin;
        else if (strcmp(a, "--ops") == 0) target = &o->ops;
        else if (strcmp(a, "--types") == 0) target = &o->types;
        if (target) {
            if (i + 1 >= argc) {
                fprintf(stderr, "qg conform: %s needs a value\n", a);
                return 2;
            }
            *target = argv[++i];
        } else if (strcmp(a, "--seed") == 0) {
            char *end = NULL;
            if (i + 1 >= argc || !*argv[i + 1]) {
                fprintf(stderr, "qg conform: --seed needs a value\n");
                return 2;
            }
            o->seed = strtoull(argv[++i], &end, 0);
            if (*end) {
                fprintf(stderr, "qg conform: --seed '%s' is not a number\n", argv[i]);
                return 2;
            }
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--perf") == 0) {
            o->perf = true;
        } else if (strcmp(a, "--full") == 0) {
            o->full = true;
        } else if (strcmp(a, "--list") == 0) {
            o->list = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return -1;
        } else {
            fprintf(stderr, "qg conform: unknown argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (o->backend && o->plugin) {
        fprintf(stderr, "qg conform: give --backend or --plugin, not both\n");
        return 2;
    }
#ifndef QG_HAVE_JANSSON
    if (o->json) {
        fprintf(stderr, "qg conform: --json needs jansson, which this build of qg lacks\n");
        return 2;
    }
#endif
    return 0;
}

static bool compile(regex_t *re, const char *pattern, const char *what) {
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB | REG_ICASE);
    if (rc == 0) return true;
    char msg[256];
    regerror(rc, re, msg, sizeof msg);
    fprintf(stderr, "qg conform: bad %s regex '%s': %s\n", what, pattern, msg);
    return false;
}

/* The device names to test; returns how many (0 after printing why). */
static int pick_devices(const options *o, char names[MAX_DEVICES][64]) {
    if (o->plugin) {
        const int before = qg_device_count();
        qg_plugin *p = NULL;
        if (qg_plugin_load(o->plugin, &p) != QG_OK) {
            fprintf(stderr, "qg conform: %s\n", qg_last_error());
            return 0;
        }
        const int after = qg_device_count();
        int n = 0;
        for (int i = before; i < after && n < MAX_DEVICES; i++) {
            qg_device_props props;
            const char *plugin_name = NULL;
            if (qg_device_get(i, &props, &plugin_name) == QG_OK) snprintf(names[n++], 64, "%s", props.name);
        }
        if (n == 0) fprintf(stderr, "qg conform: plugin %s has no devices\n", o->plugin);
        /* the reference lives in the default plugins */
        qg_plugins_load_default();
        return n;
    }
    snprintf(names[0], 64, "%s", o->backend ? o->backend : "cpu");
    return 1;
}

static const char *verdict_name(cf_verdict v) {
    return v == CF_PASS ? "PASS" : v == CF_FAIL ? "FAIL" : "UNSUPPORTED";
}

static void print_text(const options *o, const cf_case *c, const cf_outcome *r) {
    char nmse[32];
    if (isnan(r->nmse)) snprintf(nmse, sizeof nmse, "-");
    else snprintf(nmse, sizeof nmse, "%.2e", r->nmse);
    printf("%-9s %-18s %-32s %-9s %s", c->op, c->types, c->shape, nmse, verdict_name(r->verdict));
    if (o->perf && r->median_s > 0) {
        printf("  %.3f ms %.2f GB/s", r->median_s * 1e3, r->bytes / r->median_s * 1e-9);
        if (c->flops > 0) printf(" %.2f GFLOP/s", c->flops / r->median_s * 1e-9);
    }
    if (r->verdict != CF_PASS) printf("  (%s)", r->detail);
    printf("\n");
}

#ifdef QG_HAVE_JANSSON
static void emit(json_t *obj) {
    char *s = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (s) printf("%s\n", s);
    free(s);
    json_decref(obj);
}

static json_t *number_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static void print_json(const options *o, const char *dev, const cf_case *c, const cf_outcome *r) {
    json_t *j = json_object();
    json_object_set_new(j, "device", json_string(dev));
    json_object_set_new(j, "op", json_string(c->op));
    json_object_set_new(j, "types", json_string(c->types));
    json_object_set_new(j, "shape", json_string(c->shape));
    json_object_set_new(j, "result", json_string(verdict_name(r->verdict)));
    json_object_set_new(j, "nmse", number_or_null(r->nmse));
    json_object_set_new(j, "max_nmse", json_real(c->max_nmse));
    if (c->max_nmse_input > 0) {
        json_object_set_new(j, "nmse_input", number_or_null(r->nmse_input));
        json_object_set_new(j, "max_nmse_input", json_real(c->max_nmse_input));
    }
    if (r->verdict != CF_PASS) json_object_set_new(j, "detail", json_string(r->detail));
    if (o->perf && r->median_s > 0) {
        json_object_set_new(j, "median_s", json_real(r->median_s));
        json_object_set_new(j, "gb_per_s", json_real(r->bytes / r->median_s * 1e-9));
        if (c->flops > 0) json_object_set_new(j, "gflop_per_s", json_real(c->flops / r->median_s * 1e-9));
    }
    emit(j);
}
#endif

/* Run the selected cases on one device; returns the number of failures (-1: setup). */
static int run_device(const options *o, const char *dev, const cf_list *cases, const bool *selected) {
    cf_runner r = {.seed = o->seed, .perf = o->perf};
    if (qg_backend_open(dev, &r.test) != QG_OK) {
        fprintf(stderr, "qg conform: cannot open device '%s': %s\n", dev, qg_last_error());
        return -1;
    }
    if (qg_backend_open("cpu-ref", &r.ref) != QG_OK) {
        fprintf(stderr, "qg conform: cannot open the reference device cpu-ref: %s\n", qg_last_error());
        qg_backend_free(r.test);
        return -1;
    }
    const qg_device_props *props = qg_backend_props(r.test);
#ifdef QG_HAVE_JANSSON
    if (o->json) {
        json_t *h = json_object();
        json_object_set_new(h, "device", json_string(dev));
        json_object_set_new(h, "description", json_string(props->description));
        json_object_set_new(h, "reference", json_string("cpu-ref"));
        json_object_set_new(h, "seed", json_integer((json_int_t)o->seed));
        emit(h);
    } else
#endif
        printf("qg conform: device %s (%s), reference cpu-ref, seed %llu\n", dev, props->description,
               (unsigned long long)o->seed);
    fflush(stdout);
    int counts[3] = {0, 0, 0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < cases->n; i++) {
        if (!selected[i]) continue;
        cf_outcome out;
        cf_run_case(&r, &cases->v[i], &out);
        counts[out.verdict]++;
#ifdef QG_HAVE_JANSSON
        if (o->json) print_json(o, dev, &cases->v[i], &out);
        else
#endif
            print_text(o, &cases->v[i], &out);
        fflush(stdout);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const double wall = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
#ifdef QG_HAVE_JANSSON
    if (o->json) {
        json_t *s = json_object();
        json_object_set_new(s, "summary", json_true());
        json_object_set_new(s, "device", json_string(dev));
        json_object_set_new(s, "seed", json_integer((json_int_t)o->seed));
        json_object_set_new(s, "passed", json_integer(counts[CF_PASS]));
        json_object_set_new(s, "failed", json_integer(counts[CF_FAIL]));
        json_object_set_new(s, "unsupported", json_integer(counts[CF_UNSUPPORTED]));
        json_object_set_new(s, "seconds", json_real(wall));
        emit(s);
    } else
#endif
    {
        printf("%d passed, %d failed, %d unsupported\n", counts[CF_PASS], counts[CF_FAIL], counts[CF_UNSUPPORTED]);
        printf("device %s: %.1f s, seed %llu\n", dev, wall, (unsigned long long)o->seed);
    }
    fflush(stdout);
    qg_backend_free(r.ref);
    qg_backend_free(r.test);
    return counts[CF_FAIL];
}

int cmd_conform(int argc, char **argv) {
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    regex_t ops_re, types_re;
    if (o.ops && !compile(&ops_re, o.ops, "--ops")) return 2;
    if (o.types && !compile(&types_re, o.types, "--types")) {
        if (o.ops) regfree(&ops_re);
        return 2;
    }
    cf_list cases;
    bool *selected = NULL;
    rc = 2;
    if (cf_catalogue(&cases, o.full) != QG_OK) {
        fprintf(stderr, "qg conform: %s\n", qg_last_error());
        goto out;
    }
    selected = calloc((size_t)cases.n + 1, sizeof *selected);
    if (!selected) goto out;
    int n_selected = 0;
    for (int i = 0; i < cases.n; i++) {
        const cf_case *c = &cases.v[i];
        selected[i] = (!o.ops || regexec(&ops_re, c->op, 0, NULL, 0) == 0) &&
                      (!o.types || regexec(&types_re, c->types, 0, NULL, 0) == 0);
        n_selected += selected[i];
    }
    if (n_selected == 0) {
        fprintf(stderr, "qg conform: no case matches the --ops/--types filters\n");
        goto out;
    }
    if (o.list) {
        for (int i = 0; i < cases.n; i++)
            if (selected[i])
                printf("%-9s %-18s %-32s max NMSE %.0e%s\n", cases.v[i].op, cases.v[i].types, cases.v[i].shape,
                       cases.v[i].max_nmse, cases.v[i].max_nmse_input > 0 ? " (and vs input)" : "");
        printf("%d cases\n", n_selected);
        rc = 0;
        goto out;
    }
    char names[MAX_DEVICES][64];
    const int n_dev = pick_devices(&o, names);
    if (n_dev == 0) goto out;
    rc = 0;
    for (int d = 0; d < n_dev; d++) {
        int failed = run_device(&o, names[d], &cases, selected);
        if (failed < 0) rc = 2;
        else if (failed > 0 && rc == 0) rc = 1;
    }
out:
    free(selected);
    cf_list_free(&cases);
    if (o.ops) regfree(&ops_re);
    if (o.types) regfree(&types_re);
    return rc;
}
