/* Plugin isolation (QG_PLUGIN_PROBE=1): the "crash-init" test plugin segfaults in
 * init(). Probed, it is skipped with a message naming the stage and the signal, and the
 * process goes on; `qg devices` with it on the search path exits 0 and still lists the
 * CPU. Without the probe the same `qg devices` dies, which is what the probe is for.
 * Each case runs in a child process so that a crash is observed, not suffered. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* Run argv with extra environment entries; stdout+stderr collected in out. */
static int run(char *const argv[], const char *const *env, char *out, size_t size) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        for (int i = 0; env[i]; i += 2) setenv(env[i], env[i + 1], 1);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t r;
    while ((r = read(fds[0], out + len, size - 1 - len)) > 0) len += (size_t)r;
    out[len] = '\0';
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static char search[4096];

static void test_qg_devices_probe(void **state) {
    (void)state;
    char *argv[] = {getenv("QG_CLI"), "devices", NULL};
    const char *env[] = {"QG_PLUGIN_PATH", search, "QG_PLUGIN_PROBE", "1", "QG_PLUGIN_PATH_ONLY", "1", NULL};
    static char out[65536];
    int status = run(argv, env, out, sizeof out);
    printf("%s", out);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_non_null(strstr(out, "crashed in init (signal 11) during probe; skipped"));
    assert_non_null(strstr(out, "  cpu (plugin cpu)"));
}

static void test_qg_devices_no_probe(void **state) {
    (void)state;
    char *argv[] = {getenv("QG_CLI"), "devices", NULL};
    const char *env[] = {"QG_PLUGIN_PATH", search, "QG_PLUGIN_PROBE", "0", "QG_PLUGIN_PATH_ONLY", "1", NULL};
    static char out[65536];
    int status = run(argv, env, out, sizeof out);
    /* A plain build dies of SIGSEGV; under AddressSanitizer the sanitizer reports the
     * SEGV and exits with status 1 instead. Either way: no device list. */
    if (WIFSIGNALED(status)) {
        printf("qg devices without probe: killed by signal %d\n", WTERMSIG(status));
        assert_int_equal(WTERMSIG(status), 11);
    } else {
        printf("qg devices without probe: exit status %d\n%s", WEXITSTATUS(status), out);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
        assert_non_null(strstr(out, "SEGV"));
    }
    assert_null(strstr(out, "devices:"));
}

/* In-process: qg_plugin_load of the crashing plugin returns an error and we survive. */
static void test_load_probed(void **state) {
    (void)state;
    setenv("QG_PLUGIN_PROBE", "1", 1);
    qg_plugin *p = NULL;
    qg_status st = qg_plugin_load(getenv("QG_CRASH_PLUGIN"), &p);
    printf("%s\n", qg_last_error());
    assert_int_equal(st, QG_ERR_PLUGIN);
    assert_null(p);
    assert_non_null(strstr(qg_last_error(), "libqg-crash-init.so crashed in init (signal 11) during probe"));
    /* A good plugin passes the probe and loads as usual. */
    const char *tmpl = getenv("QG_TEMPLATE_PLUGIN");
    if (tmpl) {
        assert_int_equal(qg_plugin_load(tmpl, &p), QG_OK);
        assert_non_null(p);
        qg_backend *be;
        assert_int_equal(qg_backend_open("template0", &be), QG_OK);
        qg_backend_free(be);
    }
    unsetenv("QG_PLUGIN_PROBE");
}

int main(void) {
    const char *cli = getenv("QG_CLI"), *crash = getenv("QG_CRASH_PLUGIN"), *plugins = getenv("QG_PLUGIN_PATH");
    if (!crash || access(crash, R_OK) != 0) return qgt_skip("crash-init test plugin not built (QG_CRASH_PLUGIN)");
    const struct CMUnitTest with_cli[] = {
        cmocka_unit_test(test_qg_devices_probe),
        cmocka_unit_test(test_qg_devices_no_probe),
    };
    const struct CMUnitTest in_process[] = {
        cmocka_unit_test(test_load_probed),
    };
    int rc = cmocka_run_group_tests(in_process, NULL, NULL);
    if (!cli || access(cli, X_OK) != 0 || !plugins) {
        printf("SKIPPED: qg CLI or plugin dir unknown (QG_CLI, QG_PLUGIN_PATH); CLI cases not run\n");
        return rc;
    }
    /* the real plugins first, then the crashing one */
    snprintf(search, sizeof search, "%s:%s", plugins, crash);
    return rc | cmocka_run_group_tests(with_cli, NULL, NULL);
}
