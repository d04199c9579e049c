/*
 * svg.h — the fabric picture (`--svg FILE`): the checkerboard of PCUs and
 * PMUs with the AGCUs on its west and east edges, the placed units coloured
 * by what they hold, every routed net as a path along its links, the link
 * use as a heat map, a legend and the key figures of the run.  Plain SVG
 * 1.1, sized so that a 4 x 4 and a 32 x 40 fabric both read well, with a
 * tooltip (<title>) on every unit, net and used link for closer study.
 *
 * Elements carry classes a script (or a test) can count: one
 * class="site pcu|pmu|agcu" <rect> per site, one class="unit" <g> per
 * placed unit, one class="net" <path> per net that uses at least one link
 * (with a class="net-source" <circle> at its source switch and a
 * class="net-sink" <rect> where its tree ends), one class="heat" <line>
 * per directed lane with traffic.
 */
#ifndef RDUMAP_CLI_SVG_H
#define RDUMAP_CLI_SVG_H

#include "mapper/place/place.h"
#include "mapper/route/route.h"
#include "util/diag.h"
#include "util/outputs.h"

#include <stdbool.h>
#include <stdio.h>

/* One unit to draw: its name (drawn when it fits, always in the tooltip),
 * its kind, its site (an index into place_sites; -1: not placed, counted in
 * the legend), and its group: what it holds, e.g. the definition or tensor
 * name; units of one group share a colour (NULL: "(none)"). */
typedef struct svg_unit {
    const char *name;
    place_kind kind;
    int site;
    const char *group;
    bool has_busy;   /* simulated: busy is its busy cycles over the run's (drawn as a bar) */
    double busy;
} svg_unit;

/* The title, up to 8 lines of key figures (cost, cycles, ...) and the
 * nets' labels. */
typedef struct svg_figures {
    const char *title;
    const char *lines[8];
    int n_lines;
    const char *const *net_label;  /* per routed net, what it carries between which units
                                      (shown in its tooltip), or NULL */
} svg_figures;

/* Draw the fabric, the placed units, the routes and the link-use heat
 * map; write it whole or not at all (util/outputs.h).  route may be NULL
 * (placement only).  Returns 0 or -1 with a diagnostic.
 *
 * Refused with a diagnostic and nothing written: a unit on a site that does
 * not exist or is of another kind, two units on one site, a route result
 * for another fabric (n_links != route_n_links(f)) or with a link id out of
 * range.  fig may be NULL.  Colours are a function of the sorted set of
 * groups, so the same program gets the same colours in every run. */
int svg_write(const char *path, const fab_fabric *f, const place_sites *s,
              const svg_unit *units, int n_units, const route_result *route,
              const svg_figures *fig, diag_list *d);

/* The same, written to `out` (a stream of an output set, util/outputs.h);
 * path only names the picture in diagnostics. */
int svg_write_stream(FILE *out, const char *path, const fab_fabric *f, const place_sites *s,
                     const svg_unit *units, int n_units, const route_result *route,
                     const svg_figures *fig, diag_list *d);

#endif
