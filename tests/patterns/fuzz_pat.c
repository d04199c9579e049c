/*
 * fuzz_pat.c — libFuzzer target for the front end: any byte string is
 * lexed, parsed and checked; when it checks, it is dumped and, if small
 * enough, interpreted on zeroed inputs.  Nothing may crash, leak or trip a
 * sanitizer, whatever the input.  Built only with -Dfuzz=true and clang:
 *
 *   CC=clang meson setup /tmp/build-fuzz -Dfuzz=true -Db_sanitize=address,undefined
 *   meson compile -C /tmp/build-fuzz fuzz_pat
 *   /tmp/build-fuzz/tests/patterns/fuzz_pat -max_len=4096 tests/golden/cases
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patterns/pat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Interpret only programs whose tensors and loops stay small. */
static bool small_enough(const pat_program *p)
{
    int64_t total = 0;
    for (int i = 0; i < p->n_decls; i++)
        if (p->decls[i]->kind != PAT_CONST)
            total += pat_type_count(&p->decls[i]->type);
    return total <= 1 << 16;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    arena a;
    arena_init(&a);
    diag_list d;
    diag_init(&d);
    pat_program *p = pat_load_string("fuzz.pat", text, &a, &d);
    FILE *sink = fopen("/dev/null", "w");
    if (sink) {
        diag_print(sink, &d);
        if (p)
            pat_dump(sink, p);
        fclose(sink);
    }
    /* Loops are bounded by extents and data; with zeroed inputs dynamic
     * ranges are empty, so the run time follows the static shapes. */
    if (p && small_enough(p)) {
        pat_values v;
        if (pat_values_init(&v, p) == 0) {
            bool ok = true;
            for (int i = 0; i < p->n_decls && ok; i++)
                if (p->decls[i]->kind == PAT_INPUT)
                    ok = pat_tensor_alloc(&v.t[i], &p->decls[i]->type) == 0;
            if (ok)
                pat_interpret(p, &v, &d);
            pat_values_free(&v);
        }
    }
    diag_free(&d);
    arena_destroy(&a);
    free(text);
    return 0;
}
