/*
 * test_util.c — the arena, the diagnostics printer and the PRNG.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/arena.h"
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
        cmocka_unit_test(prng_is_deterministic_and_uniform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
