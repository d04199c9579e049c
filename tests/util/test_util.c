/*
 * test_util.c — the arena, the diagnostics printer and the PRNG.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/alloc.h"
#include "util/arena.h"
#include "util/outputs.h"
#include "util/suggest.h"
#include "util/diag.h"
#include "util/prng.h"

static void arena_allocates_zeroed_aligned_memory(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    for (int i = 1; i < 2000; i++) {
        unsigned char *p = arena_alloc(&a, (size_t)i * 7);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        for (int k = 0; k < i * 7; k++)
            assert_int_equal(p[k], 0);
        memset(p, 0xab, (size_t)i * 7);
    }
    /* A block larger than a chunk. */
    char *big = arena_alloc(&a, 1 << 20);
    assert_non_null(big);
    big[(1 << 20) - 1] = 1;
    assert_string_equal(arena_printf(&a, "%s-%d", "pcu", 7), "pcu-7");
    assert_string_equal(arena_strndup(&a, "switch", 3), "swi");
    assert_null(arena_calloc(&a, SIZE_MAX / 2, 4));
    arena_destroy(&a);
}

static void diag_prints_line_and_caret(void **state)
{
    (void)state;
    diag_list d;
    diag_init(&d);
    diag_add_source(&d, "t.pat", "const N = 4\nx = map (i: N) { y }\n");
    diag_loc loc = {"t.pat", 2, 18};
    diag_error(&d, loc, "unknown name '%s'", "y");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    diag_print(f, &d);
    fclose(f);
    assert_string_equal(buf, "t.pat:2:18: error: unknown name 'y'\n"
                             "    x = map (i: N) { y }\n"
                             "                     ^\n");
    free(buf);
    assert_true(diag_has_errors(&d));
    diag_free(&d);
}

static void diag_keeps_at_most_max_errors(void **state)
{
    (void)state;
    diag_list d;
    diag_init(&d);
    for (int i = 0; i < 25; i++)
        diag_error(&d, diag_at_file("f"), "error %d", i);
    assert_int_equal(d.n, DIAG_MAX_ERRORS);
    assert_int_equal(d.dropped, 5);
    assert_true(diag_full(&d));
    diag_free(&d);
}

/* A 7 MB line is quoted around the caret only, not echoed whole. */
static void diag_trims_a_long_line_around_the_caret(void **state)
{
    (void)state;
    size_t n = 7u << 20;
    char *text = malloc(n + 1);
    assert_non_null(text);
    memset(text, 'x', n);
    text[n] = '\0';
    text[5000000] = '@';
    diag_list d;
    diag_init(&d);
    diag_add_source(&d, "long.pat", text);
    diag_error(&d, (diag_loc){"long.pat", 1, 5000001}, "unexpected '@'");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    diag_print(f, &d);
    fclose(f);
    assert_true(len < 400);
    char *quote = strchr(buf, '\n') + 1, *caret = strchr(quote, '\n') + 1;
    /* The caret sits under the '@', both lines start with "    ...". */
    assert_int_equal(strchr(quote, '@') - quote, strchr(caret, '^') - caret);
    assert_memory_equal(quote, "    ...x", 8);
    free(buf);
    diag_free(&d);
    free(text);
}

/* The Nth hooked allocation fails, once or from then on; every call and
 * every failure is counted. */
static void alloc_fails_the_armed_call(void **state)
{
    (void)state;
    alloc_reset();
    alloc_fault_arm(2, false);
    void *a = xmalloc(8), *b = xcalloc(2, 8), *c = xstrdup("pcu");
    assert_non_null(a);
    assert_null(b);
    assert_non_null(c);
    assert_int_equal(alloc_calls(), 3);
    assert_int_equal(alloc_failures(), 1);
    alloc_fault_arm(1, true);
    void *g = xrealloc(a, 64);
    assert_null(g);
    assert_null(xmalloc(1));
    assert_int_equal(alloc_failures(), 3);
    alloc_fault_arm(0, false);
    assert_null(xreallocarray(NULL, SIZE_MAX / 2, 4)); /* overflow is a failure too */
    assert_null(xcalloc(SIZE_MAX / 2, 4));
    assert_int_equal(alloc_failures(), 5);
    free(a);
    free(c);
    setenv("RDUMAP_FAULT_ALLOC", "3x", 1);
    assert_int_equal(alloc_fault_from_env(), -1);
    setenv("RDUMAP_FAULT_ALLOC", "2+", 1);
    assert_int_equal(alloc_fault_from_env(), 0);
    void *ok = xmalloc(1);
    assert_non_null(ok);
    assert_null(xmalloc(1));
    assert_null(xmalloc(1));
    free(ok);
    unsetenv("RDUMAP_FAULT_ALLOC");
    alloc_reset();
}

static char tmpdir[] = "/tmp/rdumap-util-XXXXXX";

static int count_entries(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "ls -A %s | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p && fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

/* Two files commit together; a failed one (a directory in the way, a full
 * device) leaves every target as it was and no temporary behind. */
static void outputs_are_all_or_nothing(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(tmpdir));
    char a[300], b[300], sub[300];
    snprintf(a, sizeof a, "%s/a.json", tmpdir);
    snprintf(b, sizeof b, "%s/b.svg", tmpdir);
    snprintf(sub, sizeof sub, "%s/new/deeper", tmpdir);
    diag_list d;
    diag_init(&d);
    outputs o;
    outputs_begin(&o);
    fputs("first", outputs_add(&o, a, &d));
    fputs("second", outputs_add(&o, b, &d));
    assert_int_equal(count_entries(tmpdir), 2); /* only temporaries so far */
    assert_int_equal(access(a, F_OK), -1);
    assert_int_equal(outputs_commit(&o, &d), 0);
    assert_int_equal(count_entries(tmpdir), 2);
    assert_int_equal(access(a, F_OK), 0);

    /* A device that fails every write: nothing else changes. */
    outputs_begin(&o);
    fputs("changed", outputs_add(&o, a, &d));
    fputs("to the full disk", outputs_add(&o, "/dev/full", &d));
    assert_int_equal(outputs_commit(&o, &d), -1);
    assert_string_equal(d.items[0].loc.file, "/dev/full");
    assert_non_null(strstr(d.items[0].msg, "No space left on device"));
    assert_int_equal(d.n_io_errors, 1);
    FILE *f = fopen(a, "r");
    char back[16] = {0};
    assert_non_null(fgets(back, sizeof back, f));
    fclose(f);
    assert_string_equal(back, "first");
    assert_int_equal(count_entries(tmpdir), 2);
    diag_free(&d);
    diag_init(&d);

    /* A directory whose parent is missing is not created. */
    outputs_begin(&o);
    assert_int_equal(outputs_mkdir(&o, sub, &d), -1);
    assert_non_null(strstr(d.items[0].msg, "parent does not exist"));
    outputs_abort(&o);
    diag_free(&d);
    diag_init(&d);

    /* A read-only directory (skipped as root, who may write anyway). */
    if (geteuid() != 0) {
        chmod(tmpdir, 0555);
        outputs_begin(&o);
        assert_null(outputs_add(&o, a, &d));
        assert_int_equal(outputs_commit(&o, &d), -1);
        assert_non_null(strstr(d.items[0].msg, "Permission denied"));
        chmod(tmpdir, 0755);
    }
    unlink(a);
    unlink(b);
    rmdir(tmpdir);
    diag_free(&d);
}

static const char *nearest_of(const char *word, const char *const *cands)
{
    suggest sg;
    suggest_init(&sg, word, strlen(word));
    for (int k = 0; cands[k]; k++)
        suggest_offer(&sg, cands[k]);
    return suggest_best(&sg);
}

/* Typos get the nearest word; one-letter names and strangers get none. */
static void suggest_finds_the_nearest_word(void **state)
{
    (void)state;
    static const char *const kw[] = {"map", "reduce", "groupby", "const", "input", NULL};
    assert_string_equal(nearest_of("reduse", kw), "reduce");
    assert_string_equal(nearest_of("cosnt", kw), "const");
    assert_string_equal(nearest_of("gropuby", kw), "groupby");
    assert_null(nearest_of("q", kw));
    assert_null(nearest_of("banana", kw));
    assert_null(nearest_of("reduce", kw)); /* the word itself is no suggestion */
    static const char *const names[] = {"t", "Num", "N", NULL};
    assert_null(nearest_of("q", names));
    assert_string_equal(nearest_of("Nmu", names), "Num");
    assert_int_equal(suggest_distance("kitten", 6, "sitting", 7, 10), 3);
    assert_true(suggest_distance("kitten", 6, "sitting", 7, 1) > 1);
}

static void prng_is_deterministic_and_uniform(void **state)
{
    (void)state;
    prng a, b;
    prng_seed(&a, 42);
    prng_seed(&b, 42);
    for (int i = 0; i < 100; i++)
        assert_true(prng_next(&a) == prng_next(&b));
    prng_seed(&b, 43);
    assert_false(prng_next(&a) == prng_next(&b));
    /* Buckets of prng_below are roughly even. */
    int count[10] = {0};
    for (int i = 0; i < 100000; i++)
        count[prng_below(&a, 10)]++;
    for (int k = 0; k < 10; k++)
        assert_in_range(count[k], 9500, 10500);
    for (int i = 0; i < 1000; i++) {
        double u = prng_unit(&a);
        assert_true(u >= 0.0 && u < 1.0);
    }
    prng s1, s2;
    prng_seed_stream(&s1, 1, "A");
    prng_seed_stream(&s2, 1, "B");
    assert_false(prng_next(&s1) == prng_next(&s2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arena_allocates_zeroed_aligned_memory),
        cmocka_unit_test(diag_prints_line_and_caret),
        cmocka_unit_test(diag_keeps_at_most_max_errors),
        cmocka_unit_test(diag_trims_a_long_line_around_the_caret),
        cmocka_unit_test(alloc_fails_the_armed_call),
        cmocka_unit_test(outputs_are_all_or_nothing),
        cmocka_unit_test(suggest_finds_the_nearest_word),
        cmocka_unit_test(prng_is_deterministic_and_uniform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
