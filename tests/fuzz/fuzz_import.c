/*
 * fuzz_import.c — libFuzzer target for the imported-graph readers: the
 * Morpher DFG XML reader (libxml2 in recover mode) when built with
 * -DFUZZ_NAME='"fuzz.xml"', the CGRA-ME DOT reader (Graphviz cgraph) with
 * '"fuzz.dot"'.  The reader is chosen by the name's extension, as
 * imp_load_string does for files.  Any input must load or fail with
 * errors; a crash, sanitizer report or leak is a bug, and so is a failure
 * without an error or a success with one.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapper/import/import.h"

#ifndef FUZZ_NAME
#define FUZZ_NAME "fuzz.xml"
#endif

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
    imp_graph g;
    int rc = imp_load_string(FUZZ_NAME, text, &g, &d);
    /* FUZZ_VERBOSE=1: say what each input gave (for triage of corpora). */
    if (getenv("FUZZ_VERBOSE")) {
        fprintf(stderr, "-> %s\n", rc == 0 ? "accepted" : "refused");
        diag_print(stderr, &d);
    }
    if ((rc == 0) != (d.n_errors == 0))
        abort();
    imp_graph_free(&g);
    diag_free(&d);
    free(text);
    return 0;
}
