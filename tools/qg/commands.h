/* The qg subcommands: each lives in its own cmd_<name>.c and takes the arguments that
 * follow its name (argv[0] is the command name). Returns the process exit status. */
#ifndef QG_TOOL_COMMANDS_H
#define QG_TOOL_COMMANDS_H

int cmd_devices(int argc, char **argv);
int cmd_conform(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);

#endif
