/*
 * bench_place.c — placement benchmarks (meson benchmark(), not tests).
 *
 *   bench_place sa     [units] [side]   SA on a layered graph (default 5,000
 *                                       units on a 72 x 72 fabric: 64 x 64 holds
 *                                       at most 4,224 units); target < 30 s
 *   bench_place ilp    [units]          ILP to proven optimality on a 4 x 4
 *                                       fabric like tiny.cfg (default 16 units);
 *                                       target < 10 s
 *   bench_place ratio  [graphs]         sa, greedy and random on several
 *                                       graphs: the average cost ratios
 *
 * Each prints what it measured, one result per line, so that the numbers in
 * docs/placement.md can be reproduced with the command shown there.  Exit
 * status 0 unless placement itself fails; the speed targets are reported
 * (MET / MISSED), not enforced, because a shared machine makes timings noisy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/synth.h"
#include "mapper/place/place.h"
#include "util/diag.h"

/* Processor time of this process, in seconds: on a shared machine the wall
 * time (place_result.seconds) also counts the time others took. */
static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double last_cpu;   /* processor seconds of the last run() */

static int run(const place_problem *p, const place_sites *s, place_strategy st, uint64_t seed,
               double effort, place_result *r)
{
    place_opts o;
    place_opts_default(&o);
    o.strategy = st;
    o.seed = seed;
    o.effort = effort;
    o.time_limit = 60;
    diag_list d;
    diag_init(&d);
    double c0 = cpu_seconds();
    int rc = place_run(p, s, &o, r, &d);
    last_cpu = cpu_seconds() - c0;
    if (rc != 0)
        diag_print(stderr, &d);
    diag_free(&d);
    return rc;
}

static int bench_sa(int units, int side)
{
    fab_fabric f;
    synth_fabric(&f, side, side, 2 * side);
    place_sites s;
    if (place_sites_init(&s, &f) != 0)
        return 1;
    int agcus = 2 * side < units / 10 ? 2 * side : units / 10;
    synth_opts so = {.units = units, .agcus = agcus < 2 ? 2 : agcus, .layers = 40,
                     .fanout = 2, .lanes = 16, .seed = 1};
    synth_graph g;
    if (synth_layered(&so, &f, &g) != 0) {
        place_sites_free(&s);
        return 1;
    }
    printf("graph: %d units (%d PCUs, %d PMUs, %d AGCUs), %d nets; fabric %d x %d, %d AGCUs\n",
           g.prob.n_units, g.n_pcus, g.n_pmus, g.n_agcus, g.prob.n_nets, side, side, f.agcus);
    place_result rnd, gr, sa;
    int rc = run(&g.prob, &s, PLACE_RANDOM, 1, 1, &rnd);
    rc = rc ? rc : run(&g.prob, &s, PLACE_GREEDY, 1, 1, &gr);
    rc = rc ? rc : run(&g.prob, &s, PLACE_SA, 1, 1, &sa);
    if (rc == 0) {
        printf("random: cost %.0f  %.3f s\n", rnd.cost, rnd.seconds);
        printf("greedy: cost %.0f  %.3f s\n", gr.cost, gr.seconds);
        printf("sa:     cost %.0f  %.3f s wall, %.3f s cpu  %ld moves (%.2f M moves/cpu s)\n",
               sa.cost, sa.seconds, last_cpu, sa.moves, sa.moves / last_cpu / 1e6);
        printf("sa/random %.3f  sa/greedy %.3f\n", sa.cost / rnd.cost, sa.cost / gr.cost);
        printf("target sa < 30 s: %s (wall)\n", sa.seconds < 30 ? "MET" : "MISSED");
        place_result_free(&rnd);
        place_result_free(&gr);
        place_result_free(&sa);
    }
    synth_free(&g);
    place_sites_free(&s);
    return rc ? 1 : 0;
}

static int bench_ilp(int units)
{
    fab_fabric f;
    synth_fabric(&f, 4, 4, 8);   /* tiny.cfg's grid and AGCUs */
    place_sites s;
    if (place_sites_init(&s, &f) != 0)
        return 1;
    int worst_fail = 0;
    double worst = 0, total = 0;
    int n_graphs = 5;
    for (uint64_t seed = 1; seed <= (uint64_t)n_graphs; seed++) {
        synth_opts so = {.units = units, .agcus = 4, .layers = 5, .fanout = 2, .lanes = 4,
                         .seed = seed};
        synth_graph g;
        if (synth_layered(&so, &f, &g) != 0) {
            place_sites_free(&s);
            return 1;
        }
        place_result sa, ilp;
        int rc = run(&g.prob, &s, PLACE_SA, 1, 1, &sa);
        rc = rc ? rc : run(&g.prob, &s, PLACE_ILP, 1, 1, &ilp);
        if (rc == 0) {
            printf("graph %d: %d units (%d PCUs, %d PMUs, %d AGCUs), %d nets: sa %.0f; ilp %.0f, "
                   "bound %.0f, %s, %.3f s wall, %.3f s cpu\n",
                   (int)seed, g.prob.n_units, g.n_pcus, g.n_pmus, g.n_agcus, g.prob.n_nets, sa.cost,
                   ilp.cost, ilp.bound, ilp.optimal ? "optimal" : "NOT proven", ilp.seconds, last_cpu);
            if (last_cpu > worst)
                worst = last_cpu;
            total += last_cpu;
            worst_fail |= !ilp.optimal;
            place_result_free(&sa);
            place_result_free(&ilp);
        }
        synth_free(&g);
        if (rc) {
            place_sites_free(&s);
            return 1;
        }
    }
    printf("ilp: mean %.3f s cpu, worst %.3f s cpu over %d graphs; all optimal: %s\n",
           total / n_graphs, worst, n_graphs, worst_fail ? "no" : "yes");
    printf("target ilp optimal < 10 s: %s (cpu)\n", !worst_fail && worst < 10 ? "MET" : "MISSED");
    place_sites_free(&s);
    return 0;
}

static int bench_ratio(int graphs)
{
    fab_fabric f;
    synth_fabric(&f, 16, 16, 16);
    place_sites s;
    if (place_sites_init(&s, &f) != 0)
        return 1;
    double sum_sr = 0, sum_gr = 0, sum_sg = 0;
    for (int i = 1; i <= graphs; i++) {
        synth_opts so = {.units = 200, .agcus = 12, .layers = 10, .fanout = 1 + i % 3, .lanes = 16,
                         .seed = (uint64_t)i};
        synth_graph g;
        if (synth_layered(&so, &f, &g) != 0) {
            place_sites_free(&s);
            return 1;
        }
        place_result rnd, gr, sa;
        int rc = run(&g.prob, &s, PLACE_RANDOM, (uint64_t)i, 1, &rnd);
        rc = rc ? rc : run(&g.prob, &s, PLACE_GREEDY, (uint64_t)i, 1, &gr);
        rc = rc ? rc : run(&g.prob, &s, PLACE_SA, (uint64_t)i, 1, &sa);
        if (rc == 0) {
            printf("graph %d (fanout %d, %d nets): random %.0f  greedy %.0f  sa %.0f (%.2f s)\n", i,
                   so.fanout, g.prob.n_nets, rnd.cost, gr.cost, sa.cost, sa.seconds);
            sum_sr += sa.cost / rnd.cost;
            sum_gr += gr.cost / rnd.cost;
            sum_sg += sa.cost / gr.cost;
            place_result_free(&rnd);
            place_result_free(&gr);
            place_result_free(&sa);
        }
        synth_free(&g);
        if (rc) {
            place_sites_free(&s);
            return 1;
        }
    }
    printf("average over %d graphs: sa/random %.3f  greedy/random %.3f  sa/greedy %.3f\n", graphs,
           sum_sr / graphs, sum_gr / graphs, sum_sg / graphs);
    place_sites_free(&s);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "sa";
    if (strcmp(mode, "sa") == 0)
        return bench_sa(argc > 2 ? atoi(argv[2]) : 5000, argc > 3 ? atoi(argv[3]) : 72);
    if (strcmp(mode, "ilp") == 0)
        return bench_ilp(argc > 2 ? atoi(argv[2]) : 16);
    if (strcmp(mode, "ratio") == 0)
        return bench_ratio(argc > 2 ? atoi(argv[2]) : 8);
    fprintf(stderr, "usage: bench_place sa [units] [side] | ilp [units] | ratio [graphs]\n");
    return 4;
}
