/* `qg devices [--json] [--plugin PATH]...`: load the plugins (any given with --plugin
 * first, then the default search) and list every load attempt and every device. Exit
 * status 0 when at least one device exists, 1 otherwise (with the places searched). */
#define _POSIX_C_SOURCE 200809L
#include "commands.h"

#include <stdio.h>
#include <string.h>

#include "qg/qg.h"

#ifdef QG_HAVE_JANSSON
#include <jansson.h>
#endif

static const char *kind_name(int kind) {
    switch (kind) {
    case QG_DEVICE_CPU: return "cpu";
    case QG_DEVICE_GPU: return "gpu";
    case QG_DEVICE_IGPU: return "igpu";
    case QG_DEVICE_ACCEL: return "accel";
    default: return "unknown";
    }
}

static void format_bytes(char *buf, size_t size, uint64_t bytes) {
    if (bytes == 0)
        snprintf(buf, size, "unknown");
    else if (bytes >= (1ull << 30))
        snprintf(buf, size, "%.1f GiB", (double)bytes / (double)(1ull << 30));
    else
        snprintf(buf, size, "%.1f MiB", (double)bytes / (double)(1ull << 20));
}

static void print_text(void) {
    const char *search = qg_plugin_search_path();
    printf("plugin search path: %s\n\nplugins:\n", *search ? search : "(empty)");
    int n_reports = qg_plugin_report_count();
    if (n_reports == 0) printf("  (none found)\n");
    for (int i = 0; i < n_reports; i++) {
        qg_plugin_report r;
        if (qg_plugin_report_get(i, &r) != QG_OK) continue;
        printf("  %s\n", r.path);
        if (r.name[0]) printf("    name: %s  version: %s\n", r.name, r.version[0] ? r.version : "-");
        if (r.loaded)
            printf("    loaded, %d device%s\n", r.n_devices, r.n_devices == 1 ? "" : "s");
        else if (r.status == QG_OK)
            printf("    %s\n", r.error);
        else
            printf("    not loaded (%s): %s\n", qg_status_name(r.status), r.error);
    }
    int n = qg_device_count();
    printf("\ndevices:\n");
    if (n == 0) printf("  (none)\n");
    for (int i = 0; i < n; i++) {
        qg_device_props p;
        const char *plugin = "?";
        if (qg_device_get(i, &p, &plugin) != QG_OK) {
            printf("  #%d: %s\n", i, qg_last_error());
            continue;
        }
        char total[32], avail[32];
        format_bytes(total, sizeof total, p.memory_total);
        format_bytes(avail, sizeof avail, p.memory_free);
        printf("  %s (plugin %s)\n", p.name, plugin);
        printf("    description: %s\n", p.description);
        printf("    kind: %s  memory: %s total, %s free  host-memory: %s  software: %s\n",
               kind_name(p.kind), total, avail, p.host_memory ? "yes" : "no",
               p.is_software ? "yes" : "no");
        printf("    alignment: %zu  max alloc: %zu\n", p.alignment, p.max_alloc);
        printf("    features: %s\n", p.features[0] ? p.features : "-");
    }
}

#ifdef QG_HAVE_JANSSON
static json_t *features_array(const char *features) {
    json_t *arr = json_array();
    char buf[sizeof ((qg_device_props *)0)->features];
    snprintf(buf, sizeof buf, "%s", features);
    char *save = NULL;
    for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
        json_array_append_new(arr, json_string(w));
    return arr;
}

static int print_json(void) {
    json_t *root = json_object();
    json_object_set_new(root, "search_path", json_string(qg_plugin_search_path()));
    json_t *plugins = json_array();
    for (int i = 0; i < qg_plugin_report_count(); i++) {
        qg_plugin_report r;
        if (qg_plugin_report_get(i, &r) != QG_OK) continue;
        json_t *o = json_object();
        json_object_set_new(o, "path", json_string(r.path));
        json_object_set_new(o, "name", json_string(r.name));
        json_object_set_new(o, "version", json_string(r.version));
        json_object_set_new(o, "loaded", json_boolean(r.loaded));
        json_object_set_new(o, "status", json_string(qg_status_name(r.status)));
        json_object_set_new(o, "error", json_string(r.error));
        json_object_set_new(o, "n_devices", json_integer(r.n_devices));
        json_array_append_new(plugins, o);
    }
    json_object_set_new(root, "plugins", plugins);
    json_t *devices = json_array();
    for (int i = 0; i < qg_device_count(); i++) {
        qg_device_props p;
        const char *plugin = "?";
        if (qg_device_get(i, &p, &plugin) != QG_OK) continue;
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(p.name));
        json_object_set_new(o, "plugin", json_string(plugin));
        json_object_set_new(o, "description", json_string(p.description));
        json_object_set_new(o, "kind", json_string(kind_name(p.kind)));
        json_object_set_new(o, "memory_total", json_integer((json_int_t)p.memory_total));
        json_object_set_new(o, "memory_free", json_integer((json_int_t)p.memory_free));
        json_object_set_new(o, "alignment", json_integer((json_int_t)p.alignment));
        json_object_set_new(o, "max_alloc", json_integer((json_int_t)p.max_alloc));
        json_object_set_new(o, "features", features_array(p.features));
        json_object_set_new(o, "host_memory", json_boolean(p.host_memory));
        json_object_set_new(o, "software", json_boolean(p.is_software));
        json_array_append_new(devices, o);
    }
    json_object_set_new(root, "devices", devices);
    int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    printf("\n");
    json_decref(root);
    return rc == 0 ? 0 : 1;
}
#endif

int cmd_devices(int argc, char **argv) {
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--plugin") == 0 && i + 1 < argc) {
            /* failures are in the report list printed below */
            qg_plugin_load(argv[++i], NULL);
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: qg devices [--json] [--plugin PATH]...\n");
            return 0;
        } else {
            fprintf(stderr, "qg devices: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
#ifndef QG_HAVE_JANSSON
    if (json) {
        fprintf(stderr, "qg devices: --json needs jansson, which this build of qg lacks\n");
        return 2;
    }
#endif
    qg_status st = qg_plugins_load_default();
    char load_error[1024];
    snprintf(load_error, sizeof load_error, "%s", st == QG_OK ? "" : qg_last_error());

    int rc = 0;
#ifdef QG_HAVE_JANSSON
    if (json) rc = print_json();
    else
#endif
        print_text();
    if (qg_device_count() == 0) {
        fprintf(stderr, "qg devices: no device found; searched %s\n%s\n", qg_plugin_search_path(),
                load_error);
        return 1;
    }
    return rc;
}
