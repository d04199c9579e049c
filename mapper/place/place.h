/*
 * place.h — placement of virtual units on the sites of a fabric.
 *
 * The problem is stated abstractly, so that the dataflow graph of a `.pat`
 * program and a graph imported from another CGRA tool are placed by the same
 * code: units of three kinds (PCU, PMU, AGCU) joined by weighted nets.
 *
 * Sites: every PCU and PMU of the checkerboard, and every AGCU; a unit may
 * only sit on a site of its own kind, one unit per site.  A site's position
 * is the switch it attaches to (an AGCU's is its edge switch).
 *
 * The cost, one function for every strategy and for the report:
 *     sum over nets of width (the net's weight) x Manhattan distance(site(src), site(dst)).
 * A VAG sits on an AGCU site, so its streams' distances are its distance to
 * the PMUs it feeds, measured from its AGCU.
 */
#ifndef RDUMAP_MAPPER_PLACE_H
#define RDUMAP_MAPPER_PLACE_H

#include <stdbool.h>

#include "fabric/fab.h"
#include "util/diag.h"

typedef enum place_kind { PLACE_PCU, PLACE_PMU, PLACE_AGCU } place_kind;

typedef struct place_net {
    int src, dst;          /* unit indices */
    double width;          /* its weight: for a .pat program, the entries the stream carries plus
                            * a floor (dfg_stream_weights); for an imported graph, the lanes */
} place_net;

typedef struct place_problem {
    const fab_fabric *fab;
    int n_units;
    const place_kind *kind;   /* n_units entries */
    const char *const *name;  /* n_units entries, for messages; may be NULL */
    int n_nets;
    const place_net *nets;
} place_problem;

/* The sites of a fabric, in a fixed order: PCUs row-major, then PMUs
 * row-major, then AGCUs 0 .. agcus-1. */
typedef struct place_site {
    place_kind kind;
    int row, col;
} place_site;

typedef struct place_sites {
    int n;
    place_site *site;      /* malloc'd */
} place_sites;

int place_sites_init(place_sites *s, const fab_fabric *f);
/* The same with `slots` sites per AGCU, all at the AGCU's switch: an AGCU
 * serves several DRAM streams, time-multiplexed (the simulator shares its
 * bursts among them), so a program may have more VAGs than the fabric has
 * AGCUs.  Slot k of AGCU a is site rows*cols + a*slots + k. */
int place_sites_init_slots(place_sites *s, const fab_fabric *f, int slots);
void place_sites_free(place_sites *s);

typedef enum place_strategy { PLACE_ILP, PLACE_SA, PLACE_GREEDY, PLACE_RANDOM } place_strategy;

typedef struct place_opts {
    place_strategy strategy;
    uint64_t seed;
    double time_limit;     /* ilp: seconds of wall-clock time (CLOCK_MONOTONIC, default
                              60), from entering place_run to its return; held to
                              within one branch-and-bound node */
    double mip_gap;        /* ilp: relative gap at which to stop (default 0) */
    double effort;         /* sa: moves per temperature = effort x n_units^(4/3) (default 1) */
    const int *warm;       /* optional starting placement (sites) for sa and ilp,
                            * or NULL; checked for legality; ignored by the others */
} place_opts;

/* strategy sa, seed 1, time_limit 60 s, mip_gap 0, effort 1, warm NULL. */
void place_opts_default(place_opts *o);

typedef struct place_result {
    int *site;             /* n_units entries, indices into place_sites; malloc'd */
    double cost;           /* place_cost of the result */
    double bound;          /* proven lower bound (ilp), else NAN; NAN too if the
                            * time ran out before the root relaxation was solved */
    bool optimal;          /* ilp proved cost == optimum */
    double seconds;        /* wall time of the strategy */
    long moves;            /* sa: moves tried; others: 0 */
} place_result;

/* Place `p` with the chosen strategy.  Returns 0 with a legal placement, or
 * -1 with a diagnostic in the fabric's terms ("needs 731 PCUs, the fabric
 * has 640").  sa starts from greedy, or from o->warm; ilp starts from the
 * better of o->warm and sa, and o->time_limit covers both.  On -1, r->site
 * is NULL and nothing needs freeing.  See docs/placement.md. */
int place_run(const place_problem *p, const place_sites *s, const place_opts *o,
              place_result *r, diag_list *d);
void place_result_free(place_result *r);

/* The one cost function (see the top of this file). */
double place_cost(const place_problem *p, const place_sites *s, const int *site);

/* Check that a placement is legal: every unit on a site of its kind, no two
 * units on one site.  Returns 0 or -1 with a diagnostic. */
int place_check(const place_problem *p, const place_sites *s, const int *site, diag_list *d);

const char *place_strategy_name(place_strategy s);
int place_strategy_parse(const char *name, place_strategy *out);

#endif
