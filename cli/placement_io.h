/*
 * placement_io.h — replay a placement saved by `rdumap --json` (`--placement
 * FILE`), so that a mapping can be re-routed, re-emulated or drawn without
 * placing again, and so that two strategies can be compared on exactly the
 * same placement.
 *
 * The file is the whole JSON report, or just its "place" object, or a bare
 * array of units; each unit is {"unit": NAME, "kind": "VPCU"|"VPMU"|"VAG",
 * "row": R, "col": C} ("site": N may be present and is ignored: site numbers
 * differ between fabrics, so a site is found by its row, column and kind).
 */
#ifndef RDUMAP_CLI_PLACEMENT_IO_H
#define RDUMAP_CLI_PLACEMENT_IO_H

#include "mapper/place/place.h"
#include "util/diag.h"

#include <stddef.h>

/* Read a placement saved by --json (the whole report, or just its
 * "place" object, or a bare array of units) and map it onto the
 * current problem by unit name.  Every unit of the problem must be
 * present, on a site of its kind that exists on this fabric (checked
 * by row/col and kind, not by the site index alone, so a placement
 * from another fabric is refused with the reason), no site twice.
 * Fills site_out[n_units]. Returns 0 or -1 with FILE-named diagnostics
 * ("placement.json: unit 'C.i.j.k' is missing", "... site (3,4) is a
 * PMU, unit 'X' is a VPCU").
 *
 * Details of the contract:
 *  - p->name must be given and the names distinct (units are matched by
 *    name); a unit in the file that the problem does not have, or a unit
 *    given twice, is an error (the placement is of another program);
 *  - "kind", when present, must agree with the problem's kind;
 *  - malformed JSON is reported at its line and column, with the line
 *    quoted (the file's text is registered with diag_add_source);
 *  - every error found is reported, not only the first (up to the list's
 *    cap); site_out is written only on success;
 *  - path is kept in the diagnostics' locations: it must outlive d. */
int placement_read(const char *path, const place_problem *p, const place_sites *s,
                   int *site_out, diag_list *d);

/* The replica count of the mapping a saved report placed (its
 * "dfg"."par"), or 1 when the file does not say (a bare placement, an
 * import report) or cannot be read: placement_read reports that. */
int placement_saved_par(const char *path);

/* The same on the len bytes of text (NUL-terminated), named path in the
 * diagnostics (the fuzz target reads from memory). */
int placement_read_string(const char *path, const char *text, size_t len, const place_problem *p,
                          const place_sites *s, int *site_out, diag_list *d);

#endif
