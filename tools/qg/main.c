/* qg: the command-line front end. `qg <command> [args]` dispatches to one function per
 * subcommand (commands.h); commands not written yet say so and exit with status 2. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#include "qg/qg.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv); /* NULL: not implemented yet */
    const char *summary;
} command;

static const command commands[] = {
    {"info", cmd_info, "describe a GGUF or safetensors file (tensors, types, metadata)"},
    {"quantize", cmd_quantize, "convert a model file to another tensor type"},
    {"run", cmd_run, "generate text with a llama-architecture model (-m MODEL -p PROMPT | --chat)"},
    {"perplexity", cmd_perplexity, "perplexity of a llama-architecture model on a text file (-m MODEL -f TEXT)"},
    {"bench", cmd_bench, "measure mul_mat throughput and memory bandwidth (matmul|memory)"},
    {"conform", cmd_conform, "check a backend plugin against the reference device"},
    {"devices", cmd_devices, "list plugins and devices ([--json] [--plugin PATH])"},
};

#define N_COMMANDS (int)(sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
    fprintf(f, "usage: qg <command> [args]\n\ncommands:\n");
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s%s\n", commands[i].name, commands[i].summary,
                commands[i].run ? "" : " (not implemented yet)");
    fprintf(f, "\nenvironment: QG_PLUGIN_PATH (extra plugin files or directories, ':'-separated),\n"
               "  QG_PLUGIN_PATH_ONLY=1 (search nothing else), QG_LOG_LEVEL=debug|info|warn|error\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0) {
        printf("qg %d.%d.%d (plugin ABI %d)\n", QG_VERSION_MAJOR, QG_VERSION_MINOR,
               QG_VERSION_PATCH, QG_PLUGIN_ABI_VERSION);
        return 0;
    }
    for (int i = 0; i < N_COMMANDS; i++) {
        if (strcmp(name, commands[i].name) != 0) continue;
        if (!commands[i].run) {
            fprintf(stderr, "qg: command '%s' is not implemented yet\n", name);
            return 2;
        }
        return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "qg: unknown command '%s'\n\n", name);
    usage(stderr);
    return 2;
}
