/*
 * mapper_fixture.h — shared set-up for the mapper and emulator tests: a
 * program and a fabric from strings, lowered, formed into units, checked.
 */
#ifndef RDUMAP_TESTS_MAPPER_FIXTURE_H
#define RDUMAP_TESTS_MAPPER_FIXTURE_H

#include <stdbool.h>

#include "fabric/fab.h"
#include "mapper/dfg.h"
#include "patterns/pat.h"
#include "patterns/pat_data.h"

/* A roomy test fabric: 8 x 8 units, 16 lanes, 6 stages, 64 KiB PMUs. */
extern const char *fixture_fabric_text;

typedef struct fixture {
    arena a;
    diag_list d;
    fab_fabric fab;
    const pat_program *prog;
    dfg g;
    bool not_fit;
    int stage;          /* how far it got: 1 parsed, 2 lowered, 3 built, 4 checked */
} fixture;

/* --no-tiling for the next fixture_map (false by default). */
extern bool fixture_no_tiling;
/* --no-fusion for the next fixture_map (false by default). */
extern bool fixture_no_fusion;

/* Parse `src` and map it onto the fabric `fabric_text` (NULL: the fixture
 * fabric) up to the check.  Returns the stage reached. */
int fixture_map(fixture *fx, const char *src, const char *fabric_text, bool metapipe);
/* The same with --par. */
int fixture_map_par(fixture *fx, const char *src, const char *fabric_text, bool metapipe, int par);
void fixture_free(fixture *fx);

/* Generate the inputs (seed 7), run the reference and the emulator, and
 * compare every output exactly (i32) or within the contract's tolerance
 * (f32).  Returns the number of elements that differ, or -1 when a stage
 * failed (diagnostics in fx->d). */
long fixture_compare(fixture *fx, long long *cycles);

#endif
