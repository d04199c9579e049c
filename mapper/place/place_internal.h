/*
 * place_internal.h — what the placement strategies share, private to
 * mapper/place/ (nothing outside this folder includes it).
 *
 * place.c validates the problem once and builds a place_ctx: the sites of
 * each kind, a grid index from (row, col) to PCU/PMU site, and for every
 * unit the list of nets that touch it (so that annealing can compute a move's
 * cost change from those nets alone).  Each strategy then fills `site` with a
 * legal placement; place.c measures the time and the cost.
 */
#ifndef RDUMAP_MAPPER_PLACE_INTERNAL_H
#define RDUMAP_MAPPER_PLACE_INTERNAL_H

#include "mapper/place/place.h"

enum { PLACE_N_KINDS = 3 };

typedef struct place_ctx {
    const place_problem *p;
    const place_sites *s;
    int rows, cols;
    int *kind_site[PLACE_N_KINDS];   /* site indices of each kind, in site order */
    int n_kind_site[PLACE_N_KINDS];
    int *grid;                       /* rows*cols: the PCU or PMU site at (r, c) */
    int *adj_start;                  /* n_units+1: CSR offsets into adj_net */
    int *adj_net;                    /* net indices touching each unit (a
                                      * self-net is listed once) */
} place_ctx;

int place_ctx_init(place_ctx *c, const place_problem *p, const place_sites *s);
void place_ctx_free(place_ctx *c);

/* Manhattan distance between two sites. */
static inline int place_site_dist(const place_sites *s, int a, int b)
{
    int dr = s->site[a].row - s->site[b].row;
    int dc = s->site[a].col - s->site[b].col;
    return (dr < 0 ? -dr : dr) + (dc < 0 ? -dc : dc);
}

/* Each strategy fills site[0 .. n_units-1] with a legal placement and
 * returns 0, or returns -1 with a diagnostic (out of memory; for ilp, a
 * model too large or a solver failure).  `moves` (sa), `bound` and
 * `optimal` (ilp) go into r; r->site is already allocated. */
int place_random_run(const place_ctx *c, const place_opts *o, int *site);
int place_greedy_run(const place_ctx *c, int *site);
int place_sa_run(const place_ctx *c, const place_opts *o, const int *start,
                 int *site, long *moves);
int place_ilp_run(const place_ctx *c, const place_opts *o, int *incumbent,
                  place_result *r, diag_list *d);

#endif
