/* Replays the tokenizer fuzz target's seed corpus (tests/fuzz/corpus/tokenizer) and every
 * tokenizer-* file in tests/fuzz/regressions through its program (tokenizing with fixed
 * vocabularies, loading vocabularies from GGUF images, chat templates), so every build
 * checks what the fuzzer once found. The program traps on a violated property. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "fuzz/tokenizer_program.h"

static int replay(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    if (!d) fail_msg("cannot read %s", dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strncmp(de->d_name, prefix, strlen(prefix)) != 0) continue;
        char path[1500];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static unsigned char buf[1 << 20];
        size_t size = fread(buf, 1, sizeof buf, f);
        fclose(f);
        qgf_tokenizer_program(buf, size);
        n++;
    }
    closedir(d);
    return n;
}

static void test_seeds(void **state) {
    (void)state;
    int n = replay(QG_FUZZ_DIR "/corpus/tokenizer", "");
    print_message("%d tokenizer seeds replayed\n", n);
    assert_true(n >= 10);
}

static void test_regressions(void **state) {
    (void)state;
    int n = replay(QG_FUZZ_DIR "/regressions", "tokenizer-");
    print_message("%d tokenizer regressions replayed\n", n);
    assert_true(n >= 0);
}

/* The seed vocabularies must load and round-trip a plain sentence. */
static void test_vocab_roundtrip(void **state) {
    (void)state;
    const qgl_tokenizer *t = vocab(0);
    const char *text = "the thing and 12 ing";
    qgl_tokens ids = {0};
    assert_int_equal(qgl_tokenize(t, text, strlen(text), false, false, &ids), QG_OK);
    assert_true(ids.n > 0 && ids.n < strlen(text)); /* merges applied */
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(qgl_detokenize(t, ids.ids, ids.n, true, false, &out, &len), QG_OK);
    assert_int_equal(len, strlen(text));
    assert_memory_equal(out, text, len);
    free(out);
    qgl_tokens_free(&ids);
    assert_non_null(vocab(1));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vocab_roundtrip),
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_regressions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
