/*
 * route.h — routing streams over the switch mesh.
 *
 * The routing graph has one node per switch; between neighbouring switches
 * run, in each direction, vector_links vector tracks, scalar_links scalar
 * tracks and control_links control tracks.  A net (a stream from one site
 * to one or more sites) of a class takes one track of its class on every
 * link of its route tree: a static route owns its track.  Routing is
 * PathFinder's negotiated congestion (McMurchie and Ebeling 1995): every
 * net is ripped up and rerouted each iteration at a cost of
 * (base + history) x present-congestion, until no link is over capacity.
 */
#ifndef RDUMAP_MAPPER_ROUTE_H
#define RDUMAP_MAPPER_ROUTE_H

#include <stdbool.h>

#include "fabric/fab.h"
#include "util/diag.h"

typedef enum route_class { ROUTE_VECTOR, ROUTE_SCALAR, ROUTE_CONTROL } route_class;

typedef struct route_net {
    route_class cls;
    int src_row, src_col;     /* the source's switch */
    int n_sinks;
    const int *sink_row, *sink_col;  /* n_sinks each */
    const char *name;         /* for messages; may be NULL */
} route_net;

typedef struct route_opts {
    int max_iters;            /* --route-iters (default 50) */
    double pres_fac_initial;  /* present-congestion factor of iteration 2 (default 0.5);
                               * iteration 1 ignores congestion (factor 0) */
    double pres_fac_mult;     /* growth of that factor per iteration (default 1.5) */
    double hist_fac;          /* history added per track of overuse per iteration (default 1) */
    bool greedy;              /* baseline: one first-come pass, no negotiation; a net
                               * takes the shortest path over links with a free track,
                               * or, if there is none, the shortest path regardless */
} route_opts;

/* A directed link between neighbouring switches, in one class. */
typedef struct route_link {
    int row, col;             /* from switch */
    int dir;                  /* 0 north, 1 east, 2 south, 3 west */
    route_class cls;
} route_link;

typedef struct route_net_result {
    int n_links;
    int *links;               /* link ids used by the net's tree; malloc'd */
    int *sink_hops;           /* hops from source to each sink; malloc'd */
} route_net_result;

typedef struct route_result {
    int n_nets;
    route_net_result *net;    /* malloc'd, n_nets entries */
    int iterations;
    int overused_links;       /* 0 when the routing is legal */
    long total_hops;          /* links used, summed over nets */
    int max_hops;             /* longest source-to-sink route */
    double max_link_util;     /* worst (tracks used / capacity) over links */
    double seconds;
    int n_links;              /* link ids run 0 .. n_links-1 */
    int *link_use;            /* tracks used per link; malloc'd */
} route_result;

void route_opts_default(route_opts *o);

/* Route every net.  Returns 0 when no link is over capacity; otherwise -1
 * with the result filled (overused_links > 0) and a diagnostic naming the
 * worst links ("12 links over capacity after 50 iterations, worst at switch
 * (3,7) east, vector: 5 streams on 2 tracks") and notes naming the streams
 * on the worst one.  Also -1, with r empty (n_nets = 0, no arrays), for a
 * bad net: a switch off the mesh, no sinks, or a class with zero tracks
 * between different switches.  A sink on the source's switch costs 0 links.
 * o may be NULL for the defaults.  r is overwritten (free an old result
 * first); route_result_free(r) is safe after any return.
 * Time: O(iterations x sinks x mesh log mesh) at worst; A* keeps it near
 * the routes' lengths in practice. */
int route_run(const fab_fabric *f, const route_net *nets, int n_nets, const route_opts *o,
              route_result *r, diag_list *d);
void route_result_free(route_result *r);

/* Link ids: id = ((cls x rows + row) x cols + col) x 4 + dir, so n_links =
 * 3 x rows x cols x 4.  The ids of links that would leave the mesh exist
 * but have capacity 0 and are never used. */
int route_n_links(const fab_fabric *f);

/* Decode a link id; capacity of a link in tracks. */
route_link route_link_decode(const fab_fabric *f, int link);
int route_link_capacity(const fab_fabric *f, int link);
/* "switch (3,7) east, vector" into buf. */
char *route_link_str(const fab_fabric *f, int link, char *buf, size_t size);

#endif
