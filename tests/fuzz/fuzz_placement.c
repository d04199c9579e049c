/*
 * fuzz_placement.c — libFuzzer target for the placement reader
 * (cli/placement_io.c, `--placement FILE`): any bytes are read as a saved
 * placement of a four-unit problem on the built-in SN10 fabric.  A success
 * must place every unit on a distinct site of its kind; a failure must say
 * why; nothing may crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/placement_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fab_fabric fab;
static place_sites sites;
static bool ready;

static const place_kind kind[] = {PLACE_PCU, PLACE_PMU, PLACE_AGCU, PLACE_PCU};
static const char *const name[] = {"C.i.j", "C", "load A", "C.i.j~2"};
static const place_net nets[] = {{0, 1, 1}, {2, 0, 1}, {3, 1, 2}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        diag_list d0;
        diag_init(&d0);
        if (fab_load_default(&fab, &d0) != 0 || place_sites_init(&sites, &fab) != 0)
            abort();
        diag_free(&d0);
        ready = true;
    }
    place_problem p = {.fab = &fab, .n_units = 4, .kind = kind, .name = name, .n_nets = 3, .nets = nets};
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    diag_list d;
    diag_init(&d);
    int site[4] = {-1, -1, -1, -1};
    int rc = placement_read_string("fuzz.json", text, size, &p, &sites, site, &d);
    /* FUZZ_VERBOSE=1: say what each input gave (for triage of corpora). */
    if (getenv("FUZZ_VERBOSE")) {
        fprintf(stderr, "-> %s\n", rc == 0 ? "accepted" : "refused");
        diag_print(stderr, &d);
    }
    if ((rc == 0) != (d.n_errors == 0))
        abort();
    for (int u = 0; rc == 0 && u < 4; u++) {
        if (site[u] < 0 || site[u] >= sites.n || sites.site[site[u]].kind != kind[u])
            abort();
        for (int v = 0; v < u; v++)
            if (site[u] == site[v])
                abort();
    }
    diag_free(&d);
    free(text);
    return 0;
}
