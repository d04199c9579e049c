/*
 * fuzz_fabric.c — libFuzzer target for the .cfg loader (built with
 * -Dfuzz=true and clang).  Any input must load or fail with diagnostics;
 * a crash, a sanitizer report or a leak is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fabric/fab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    diag_list d;
    diag_init(&d);
    fab_fabric f;
    int rc = fab_load_string("fuzz.cfg", text, &f, &d);
    if ((rc == 0) != (d.n_errors == 0))
        abort();
    diag_free(&d);
    free(text);
    return 0;
}
