/*
 * bench_route.c — PathFinder on the built-in SN10-class fabric (32 x 40
 * switches) with many random, placement-like nets: each source has 1 to 3
 * sinks within a few hops, as a placer that did its job leaves them.
 *
 *     bench_route [NETS [SEED [RADIUS]]]     (default 2000 nets, seed 1, radius 5)
 *
 * Prints the routing figures and the wall time; exits 1 if the nets could
 * not be routed, so a regression in quality is as visible as one in speed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fabric/fab.h"
#include "mapper/route/route.h"
#include "util/prng.h"

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    int radius = argc > 3 ? atoi(argv[3]) : 5;
    if (n < 1 || radius < 1) {
        fprintf(stderr, "usage: bench_route [NETS [SEED [RADIUS]]]\n");
        return 4;
    }
    diag_list d;
    diag_init(&d);
    fab_fabric f;
    if (fab_load_default(&f, &d) != 0) {
        diag_print(stderr, &d);
        return 1;
    }
    prng p;
    prng_seed_stream(&p, seed, "bench_route");
    route_net *nets = calloc((size_t)n, sizeof *nets);
    int *rows = calloc((size_t)n * 3, sizeof *rows), *cols = calloc((size_t)n * 3, sizeof *cols);
    if (!nets || !rows || !cols)
        return 1;
    for (int i = 0; i < n; i++) {
        uint64_t u = prng_below(&p, 20);
        nets[i].cls = u < 15 ? ROUTE_VECTOR : u < 19 ? ROUTE_SCALAR : ROUTE_CONTROL;
        nets[i].src_row = (int)prng_below(&p, (uint64_t)f.rows);
        nets[i].src_col = (int)prng_below(&p, (uint64_t)f.cols);
        nets[i].n_sinks = 1 + (int)prng_below(&p, 3);
        for (int k = 0; k < nets[i].n_sinks; k++) {
            int r, c;
            do {   /* uniform in the square around the source, on the mesh */
                r = nets[i].src_row + (int)prng_below(&p, (uint64_t)(2 * radius + 1)) - radius;
                c = nets[i].src_col + (int)prng_below(&p, (uint64_t)(2 * radius + 1)) - radius;
            } while (r < 0 || r >= f.rows || c < 0 || c >= f.cols);
            rows[3 * i + k] = r;
            cols[3 * i + k] = c;
        }
        nets[i].sink_row = &rows[3 * i];
        nets[i].sink_col = &cols[3 * i];
    }
    route_opts o;
    route_opts_default(&o);
    route_result r;
    int rc = route_run(&f, nets, n, &o, &r, &d);
    diag_print(stderr, &d);
    printf("route bench: fabric %s (%d x %d switches), %d nets (seed %llu, radius %d)\n", f.name, f.rows,
           f.cols, n, (unsigned long long)seed, radius);
    printf("  %s after %d iterations; %d links over capacity\n", rc == 0 ? "routed" : "FAILED",
           r.iterations, r.overused_links);
    printf("  total hops %ld, longest route %d hops, max link use %.2f of capacity\n", r.total_hops,
           r.max_hops, r.max_link_util);
    /* Stretch: routed hops over Manhattan distance, per sink. */
    long manhattan = 0, routed = 0;
    int worst_extra = 0;
    for (int i = 0; i < n && r.net; i++)
        for (int k = 0; k < nets[i].n_sinks; k++) {
            int m = abs(nets[i].sink_row[k] - nets[i].src_row) + abs(nets[i].sink_col[k] - nets[i].src_col);
            manhattan += m;
            routed += r.net[i].sink_hops[k];
            if (r.net[i].sink_hops[k] - m > worst_extra)
                worst_extra = r.net[i].sink_hops[k] - m;
        }
    printf("  source-to-sink hops %ld against %ld Manhattan (stretch %.3f); worst detour +%d hops\n",
           routed, manhattan, manhattan ? (double)routed / manhattan : 1.0, worst_extra);
    printf("  %.3f s (%.1f us per net per iteration)\n", r.seconds,
           r.seconds * 1e6 / ((double)n * (r.iterations ? r.iterations : 1)));
    route_result_free(&r);
    diag_free(&d);
    free(nets);
    free(rows);
    free(cols);
    return rc == 0 ? 0 : 1;
}
