/*
 * test_place.c — placement: sites, the cost function, legality, and every
 * strategy (legal results, determinism, the ILP against brute force, SA
 * against the ILP optimum and against random).
 *
 * Fabrics are filled in by hand (synth_fabric) so these tests depend on the
 * fabric module only through fab_unit_at and fab_agcu_site.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench/synth.h"
#include "mapper/place/place.h"
#include "util/diag.h"
#include "util/prng.h"

/* ------------------------------------------------------------ helpers */

static bool diag_contains(const diag_list *d, const char *text)
{
    for (int i = 0; i < d->n; i++)
        if (strstr(d->items[i].msg, text))
            return true;
    return false;
}

/* Index of the site of kind k at (row, col), or -1. */
static int site_at(const place_sites *s, place_kind k, int row, int col)
{
    for (int i = 0; i < s->n; i++)
        if (s->site[i].kind == k && s->site[i].row == row && s->site[i].col == col)
            return i;
    return -1;
}

static place_problem problem(const fab_fabric *f, int n_units, const place_kind *kind,
                             int n_nets, const place_net *nets)
{
    place_problem p = {f, n_units, kind, NULL, n_nets, nets};
    return p;
}

/* A random small problem: n units of mixed kinds, m nets of width 1..4. */
typedef struct small {
    place_kind kind[16];
    place_net nets[40];
    int n, m;
} small;

static void small_random(small *g, int n, int m, int max_agcu, uint64_t seed)
{
    prng r;
    prng_seed(&r, seed);
    g->n = n;
    g->m = m;
    int agcus = 0;
    for (int u = 0; u < n; u++) {
        int k = (int)prng_below(&r, 3);
        if (k == PLACE_AGCU && agcus >= max_agcu)
            k = (int)prng_below(&r, 2);
        agcus += k == PLACE_AGCU;
        g->kind[u] = (place_kind)k;
    }
    for (int i = 0; i < m; i++) {
        g->nets[i].src = (int)prng_below(&r, (uint64_t)n);
        do
            g->nets[i].dst = (int)prng_below(&r, (uint64_t)n);
        while (g->nets[i].dst == g->nets[i].src);
        g->nets[i].width = (double)(1 + prng_below(&r, 4));
    }
}

/* The optimum by enumerating every legal placement. */
static void brute(const place_problem *p, const place_sites *s, int u, int *site, char *used,
                  double *best)
{
    if (u == p->n_units) {
        double c = place_cost(p, s, site);
        if (c < *best)
            *best = c;
        return;
    }
    for (int t = 0; t < s->n; t++) {
        if (used[t] || s->site[t].kind != p->kind[u])
            continue;
        used[t] = 1;
        site[u] = t;
        brute(p, s, u + 1, site, used, best);
        used[t] = 0;
    }
}

static double brute_force_optimum(const place_problem *p, const place_sites *s)
{
    int site[16] = {0};
    char used[64] = {0};
    double best = INFINITY;
    brute(p, s, 0, site, used, &best);
    return best;
}

/* ------------------------------------------------------------ sites */

static void sites_follow_the_checkerboard_and_agcus(void **state)
{
    (void)state;
    fab_fabric f;
    synth_fabric(&f, 4, 4, 8);
    place_sites s;
    assert_int_equal(place_sites_init(&s, &f), 0);
    assert_int_equal(s.n, 16 + 8);
    /* PCUs row-major where r + c is even, then PMUs, then AGCUs. */
    static const int pcu[8][2] = {{0, 0}, {0, 2}, {1, 1}, {1, 3}, {2, 0}, {2, 2}, {3, 1}, {3, 3}};
    static const int pmu[8][2] = {{0, 1}, {0, 3}, {1, 0}, {1, 2}, {2, 1}, {2, 3}, {3, 0}, {3, 2}};
    for (int i = 0; i < 8; i++) {
        assert_int_equal(s.site[i].kind, PLACE_PCU);
        assert_int_equal(s.site[i].row, pcu[i][0]);
        assert_int_equal(s.site[i].col, pcu[i][1]);
        assert_int_equal(s.site[8 + i].kind, PLACE_PMU);
        assert_int_equal(s.site[8 + i].row, pmu[i][0]);
        assert_int_equal(s.site[8 + i].col, pmu[i][1]);
    }
    /* 8 AGCUs on 4 rows: one per row on each edge, west first. */
    for (int i = 0; i < 8; i++) {
        assert_int_equal(s.site[16 + i].kind, PLACE_AGCU);
        assert_int_equal(s.site[16 + i].row, i % 4);
        assert_int_equal(s.site[16 + i].col, i < 4 ? 0 : 3);
    }
    place_sites_free(&s);
    assert_null(s.site);
}

/* ------------------------------------------------------------ cost, check */

static void cost_is_width_times_manhattan(void **state)
{
    (void)state;
    fab_fabric f;
    synth_fabric(&f, 4, 4, 4);
    place_sites s;
    assert_int_equal(place_sites_init(&s, &f), 0);
    place_kind kind[4] = {PLACE_AGCU, PLACE_PMU, PLACE_PCU, PLACE_PMU};
    place_net nets[4] = {{0, 1, 16}, {1, 2, 16}, {2, 3, 1}, {3, 3, 5}};
    place_problem p = problem(&f, 4, kind, 4, nets);
    int site[4];
    /* AGCU 0 of 4 on 4 rows: row = floor(1 x 4 / 4) = 1, col 0; none at row 0. */
    assert_int_equal(site_at(&s, PLACE_AGCU, 0, 0), -1);
    site[0] = site_at(&s, PLACE_AGCU, 1, 0);
    site[1] = site_at(&s, PLACE_PMU, 3, 2);
    site[2] = site_at(&s, PLACE_PCU, 0, 2);
    site[3] = site_at(&s, PLACE_PMU, 0, 1);
    for (int i = 0; i < 4; i++)
        assert_true(site[i] >= 0);
    /* 16 x (2 + 2) + 16 x (3 + 0) + 1 x (0 + 1) + 5 x 0 = 64 + 48 + 1 = 113 */
    assert_true(place_cost(&p, &s, site) == 113.0);
    /* A fractional width counts as such: 2.5 x 1. */
    place_net half[1] = {{2, 3, 2.5}};
    place_problem q = problem(&f, 4, kind, 1, half);
    assert_true(place_cost(&q, &s, site) == 2.5);
    /* No nets, no cost. */
    place_problem e = problem(&f, 4, kind, 0, NULL);
    assert_true(place_cost(&e, &s, site) == 0.0);
    place_sites_free(&s);
}

static void check_finds_each_illegality(void **state)
{
    (void)state;
    fab_fabric f;
    synth_fabric(&f, 4, 4, 4);
    place_sites s;
    assert_int_equal(place_sites_init(&s, &f), 0);
    place_kind kind[3] = {PLACE_PCU, PLACE_PMU, PLACE_PCU};
    const char *names[3] = {"matmul", "tileA", "relu"};
    place_problem p = problem(&f, 3, kind, 0, NULL);
    p.name = names;
    diag_list d;
    diag_init(&d);
    int ok[3] = {0, 8, 1};
    assert_int_equal(place_check(&p, &s, ok, &d), 0);
    assert_int_equal(d.n, 0);

    int wrong_kind[3] = {0, 1, 2};   /* tileA (PMU) on a PCU site */
    assert_int_equal(place_check(&p, &s, wrong_kind, &d), -1);
    assert_true(diag_contains(&d, "'tileA' (PMU) is on site 1, a PCU at (0,2)"));
    diag_free(&d);

    int shared[3] = {0, 8, 0};
    assert_int_equal(place_check(&p, &s, shared, &d), -1);
    assert_true(diag_contains(&d, "'matmul' and 'relu' are both on the PCU at (0,0)"));
    diag_free(&d);

    int outside[3] = {0, 8, 99};
    assert_int_equal(place_check(&p, &s, outside, &d), -1);
    assert_true(diag_contains(&d, "'relu' is on site 99, which does not exist"));
    diag_free(&d);
    place_sites_free(&s);
}

static void too_many_units_fail_in_the_fabrics_terms(void **state)
{
    (void)state;
    fab_fabric f;
    synth_fabric(&f, 4, 4, 2);
    place_sites s;
    assert_int_equal(place_sites_init(&s, &f), 0);
    place_kind kind[12];
    for (int i = 0; i < 9; i++)
        kind[i] = PLACE_PCU;
    kind[9] = kind[10] = kind[11] = PLACE_AGCU;
    place_problem p = problem(&f, 12, kind, 0, NULL);
    for (int st = PLACE_ILP; st <= PLACE_RANDOM; st++) {
        place_opts o;
        place_opts_default(&o);
        o.strategy = (place_strategy)st;
        place_result r;
        diag_list d;
        diag_init(&d);
        assert_int_equal(place_run(&p, &s, &o, &r, &d), -1);
        assert_null(r.site);
        assert_true(diag_contains(&d, "needs 9 PCUs, the fabric has 8"));
        assert_true(diag_contains(&d, "needs 3 AGCUs, the fabric has 2"));
        assert_false(diag_contains(&d, "PMUs"));
        diag_free(&d);
    }
    place_sites_free(&s);
}

static void malformed_problems_are_refused(void **state)
{
    (void)state;
    fab_fabric f;
    synth_fabric(&f, 4, 4, 2);
    place_sites s;
    assert_int_equal(place_sites_init(&s, &f), 0);
    place_kind kind[2] = {PLACE_PCU, PLACE_PMU};
    place_net bad_end[1] = {{0, 2, 1}};
    place_net bad_width[1] = {{0, 1, -1}};
    place_opts o;
    place_opts_default(&o);
    place_result r;
    diag_list d;
    diag_init(&d);
    place_problem p = problem(&f, 2, kind, 1, bad_end);
    assert_int_equal(place_run(&p, &s, &o, &r, &d), -1);
    assert_true(diag_contains(&d, "net 0 joins units 0 and 2, but there are 2 units"));
    diag_free(&d);
    p = problem(&f, 2, kind, 1, bad_width);
    assert_int_equal(place_run(&p, &s, &o, &r, &d), -1);
    assert_true(diag_contains(&d, "net 0 has width -1"));
    diag_free(&d);
    /* An illegal warm start is refused, not used. */
    p = problem(&f, 2, kind, 0, NULL);
    int warm[2] = {0, 0};
    o.warm = warm;
    assert_int_equal(place_run(&p, &s, &o, &r, &d), -1);
    assert_true(diag_contains(&d, "starting placement given is not legal"));
    diag_free(&d);
    place_sites_free(&s);
}

static void strategy_names_round_trip(void **state)
{
    (void)state;
    const char *names[] = {"ilp", "sa", "greedy", "random"};
    for (int i = 0; i < 4; i++) {
        place_strategy st;
        assert_int_equal(place_strategy_parse(names[i], &st), 0);
        assert_int_equal(st, i);
        assert_string_equal(place_strategy_name(st), names[i]);
    }
    place_strategy st = PLACE_SA;
    assert_int_equal(place_strategy_parse("annealing", &st), -1);
    assert_int_equal(place_strategy_parse(NULL, &st), -1);
}

/* ------------------------------------------------------------ strategies */

static void every_strategy_places_legally(void **state)
{
    (void)state;
    fab_fabric f;
    synth_fabric(&f, 8, 8, 8);
    place_sites s;
    assert_int_equal(place_sites_init(&s, &f), 0);
    synth_opts so = {.units = 40, .agcus = 6, .layers = 6, .fanout = 2, .lanes = 16, .seed = 3};
    synth_graph g;
    assert_int_equal(synth_layered(&so, &f, &g), 0);
    for (int st = PLACE_ILP; st <= PLACE_RANDOM; st++) {
        place_opts o;
        place_opts_default(&o);
        o.strategy = (place_strategy)st;
        o.time_limit = 1;   /* ilp: this model is not meant to be solved here */
        place_result r;
        diag_list d;
        diag_init(&d);
        assert_int_equal(place_run(&g.prob, &s, &o, &r, &d), 0);
        assert_int_equal(d.n_errors, 0);
        assert_int_equal(place_check(&g.prob, &s, r.site, &d), 0);
        assert_true(r.cost == place_cost(&g.prob, &s, r.site));
        assert_true(r.seconds >= 0);
        if (st == PLACE_ILP) {
            /* In 1 s the root relaxation may not be solved: no bound then. */
            assert_true(isnan(r.bound) || r.bound <= r.cost);
            assert_true(r.optimal == (!isnan(r.bound) && r.bound == r.cost));
        } else {
            assert_true(isnan(r.bound));
            assert_false(r.optimal);
        }
        if (st == PLACE_SA)
            assert_true(r.moves > 0);
        place_result_free(&r);
        diag_free(&d);
    }
    synth_free(&g);
    place_sites_free(&s);
}

static void random_and_sa_are_deterministic_for_a_seed(void **state)
{
    (void)state;
    fab_fabric f;
    synth_fabric(&f, 8, 8, 8);
    place_sites s;
    assert_int_equal(place_sites_init(&s, &f), 0);
    synth_opts so = {.units = 50, .agcus = 6, .layers = 7, .fanout = 2, .lanes = 16, .seed = 9};
    synth_graph g;
    assert_int_equal(synth_layered(&so, &f, &g), 0);
    place_strategy sts[2] = {PLACE_RANDOM, PLACE_SA};
    for (int i = 0; i < 2; i++) {
        place_opts o;
        place_opts_default(&o);
        o.strategy = sts[i];
        o.seed = 42;
        place_result a, b, c;
        diag_list d;
        diag_init(&d);
        assert_int_equal(place_run(&g.prob, &s, &o, &a, &d), 0);
        assert_int_equal(place_run(&g.prob, &s, &o, &b, &d), 0);
        o.seed = 43;
        assert_int_equal(place_run(&g.prob, &s, &o, &c, &d), 0);
        assert_memory_equal(a.site, b.site, (size_t)g.prob.n_units * sizeof *a.site);
        assert_true(a.cost == b.cost);
        assert_int_equal(a.moves, b.moves);
        /* Another seed gives another placement (50 units: a coincidence
         * would be astronomically unlikely). */
        assert_memory_not_equal(a.site, c.site, (size_t)g.prob.n_units * sizeof *a.site);
        place_result_free(&a);
        place_result_free(&b);
        place_result_free(&c);
        diag_free(&d);
    }
    synth_free(&g);
    place_sites_free(&s);
}

static void greedy_puts_a_chain_side_by_side(void **state)
{
    (void)state;
    fab_fabric f;
    synth_fabric(&f, 6, 6, 4);
    place_sites s;
    assert_int_equal(place_sites_init(&s, &f), 0);
    /* PMU -> PCU -> PMU -> PCU: each consumer next to its producer, so each
     * stream is 1 hop and the cost is 3 x 16. */
    place_kind kind[4] = {PLACE_PMU, PLACE_PCU, PLACE_PMU, PLACE_PCU};
    place_net nets[3] = {{0, 1, 16}, {1, 2, 16}, {2, 3, 16}};
    place_problem p = problem(&f, 4, kind, 3, nets);
    place_opts o;
    place_opts_default(&o);
    o.strategy = PLACE_GREEDY;
    place_result r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(place_run(&p, &s, &o, &r, &d), 0);
    assert_true(r.cost == 48.0);
    /* The first unit aims at the centre (2.5, 2.5): a PMU at distance 1. */
    const place_site *first = &s.site[r.site[0]];
    assert_int_equal(abs(2 * first->row - 5) + abs(2 * first->col - 5), 2);
    /* Greedy is a pure function of the problem. */
    place_result again;
    o.seed = 77;
    assert_int_equal(place_run(&p, &s, &o, &again, &d), 0);
    assert_memory_equal(r.site, again.site, sizeof(int) * 4);
    place_result_free(&r);
    place_result_free(&again);
    diag_free(&d);
    place_sites_free(&s);
}

static void greedy_survives_cycles(void **state)
{
    (void)state;
    fab_fabric f;
    synth_fabric(&f, 4, 4, 2);
    place_sites s;
    assert_int_equal(place_sites_init(&s, &f), 0);
    /* A feedback loop 0 -> 1 -> 2 -> 0 with no unit free of producers. */
    place_kind kind[3] = {PLACE_PCU, PLACE_PMU, PLACE_PCU};
    place_net nets[3] = {{0, 1, 1}, {1, 2, 1}, {2, 0, 1}};
    place_problem p = problem(&f, 3, kind, 3, nets);
    place_opts o;
    place_opts_default(&o);
    o.strategy = PLACE_GREEDY;
    place_result r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(place_run(&p, &s, &o, &r, &d), 0);
    /* PCU-PMU 1, PMU-PCU 1, two PCUs at least 2 apart: optimum 4. */
    assert_true(r.cost == 4.0);
    place_result_free(&r);
    diag_free(&d);
    place_sites_free(&s);
}

/* The ILP's optimum equals the enumerated one on 5 random instances. */
static void ilp_matches_brute_force_on(int agcus, int max_agcu, uint64_t seed0)
{
    fab_fabric f;
    synth_fabric(&f, 4, 4, agcus);
    place_sites s;
    assert_int_equal(place_sites_init(&s, &f), 0);
    for (int inst = 0; inst < 5; inst++) {
        small g;
        int n = 4 + inst % 3;
        small_random(&g, n, n + 2, max_agcu, seed0 + (uint64_t)inst);
        place_problem p = problem(&f, g.n, g.kind, g.m, g.nets);
        double opt = brute_force_optimum(&p, &s);
        place_opts o;
        place_opts_default(&o);
        o.strategy = PLACE_ILP;
        o.time_limit = 20;
        place_result r;
        diag_list d;
        diag_init(&d);
        assert_int_equal(place_run(&p, &s, &o, &r, &d), 0);
        assert_true(r.optimal);
        assert_true(fabs(r.cost - opt) < 1e-9);
        assert_true(fabs(r.bound - opt) < 1e-9);
        place_result_free(&r);
        diag_free(&d);
    }
    place_sites_free(&s);
}

static void ilp_equals_brute_force(void **state)
{
    (void)state;
    /* Three cases so that the ILP's symmetry breaking meets no symmetry
     * (4 AGCUs on rows 1 and 3 of both edges: the half turn does not map
     * them onto themselves), the half turn (8 AGCUs, one per row and edge),
     * and the four maps of a square checkerboard (no AGCU units). */
    ilp_matches_brute_force_on(4, 2, 100);
    ilp_matches_brute_force_on(8, 3, 200);
    ilp_matches_brute_force_on(8, 0, 300);
}

static void ilp_bound_never_exceeds_the_optimum(void **state)
{
    (void)state;
    /* With a warm start that is already optimal, whatever the search does,
     * the bound must stay at or below the brute-force optimum. */
    fab_fabric f;
    synth_fabric(&f, 4, 4, 4);
    place_sites s;
    assert_int_equal(place_sites_init(&s, &f), 0);
    small g;
    small_random(&g, 5, 8, 2, 555);
    place_problem p = problem(&f, g.n, g.kind, g.m, g.nets);
    double opt = brute_force_optimum(&p, &s);
    place_opts o;
    place_opts_default(&o);
    o.strategy = PLACE_ILP;
    o.mip_gap = 0.5;   /* stop early: the bound may be loose, never wrong */
    place_result r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(place_run(&p, &s, &o, &r, &d), 0);
    assert_true(r.cost >= opt - 1e-9);
    assert_true(isnan(r.bound) || r.bound <= opt + 1e-9);
    place_result_free(&r);
    diag_free(&d);
    place_sites_free(&s);
}

static void ilp_refuses_a_model_too_large(void **state)
{
    (void)state;
    fab_fabric f;
    synth_fabric(&f, 64, 64, 16);
    place_sites s;
    assert_int_equal(place_sites_init(&s, &f), 0);
    synth_opts so = {.units = 600, .agcus = 8, .layers = 10, .fanout = 2, .lanes = 16, .seed = 1};
    synth_graph g;
    assert_int_equal(synth_layered(&so, &f, &g), 0);
    place_opts o;
    place_opts_default(&o);
    o.strategy = PLACE_ILP;
    place_result r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(place_run(&g.prob, &s, &o, &r, &d), -1);
    assert_true(diag_contains(&d, "more than the limit of 2000000"));
    assert_null(r.site);
    diag_free(&d);
    synth_free(&g);
    place_sites_free(&s);
}

static void sa_is_near_the_ilp_optimum(void **state)
{
    (void)state;
    fab_fabric f;
    synth_fabric(&f, 4, 4, 4);
    place_sites s;
    assert_int_equal(place_sites_init(&s, &f), 0);
    double sa_sum = 0, opt_sum = 0;
    for (int inst = 0; inst < 4; inst++) {
        small g;
        small_random(&g, 7, 10, 2, 900 + (uint64_t)inst);
        place_problem p = problem(&f, g.n, g.kind, g.m, g.nets);
        place_opts o;
        place_opts_default(&o);
        o.strategy = PLACE_ILP;
        o.time_limit = 30;
        place_result ilp, sa;
        diag_list d;
        diag_init(&d);
        assert_int_equal(place_run(&p, &s, &o, &ilp, &d), 0);
        assert_true(ilp.optimal);
        o.strategy = PLACE_SA;
        o.seed = 5;
        assert_int_equal(place_run(&p, &s, &o, &sa, &d), 0);
        assert_true(sa.cost >= ilp.cost - 1e-9);       /* nothing beats the optimum */
        assert_true(sa.cost <= 1.10 * ilp.cost + 1e-9); /* each within 10 % */
        sa_sum += sa.cost;
        opt_sum += ilp.cost;
        place_result_free(&ilp);
        place_result_free(&sa);
        diag_free(&d);
    }
    assert_true(sa_sum <= 1.03 * opt_sum);               /* on average within 3 % */
    place_sites_free(&s);
}

static void sa_beats_random_on_a_layered_graph(void **state)
{
    (void)state;
    fab_fabric f;
    synth_fabric(&f, 10, 10, 8);
    place_sites s;
    assert_int_equal(place_sites_init(&s, &f), 0);
    synth_opts so = {.units = 80, .agcus = 8, .layers = 8, .fanout = 2, .lanes = 16, .seed = 4};
    synth_graph g;
    assert_int_equal(synth_layered(&so, &f, &g), 0);
    double sa_sum = 0, rnd_sum = 0;
    for (int seed = 1; seed <= 3; seed++) {
        place_opts o;
        place_opts_default(&o);
        o.seed = (uint64_t)seed;
        place_result sa, rnd;
        diag_list d;
        diag_init(&d);
        o.strategy = PLACE_SA;
        assert_int_equal(place_run(&g.prob, &s, &o, &sa, &d), 0);
        o.strategy = PLACE_RANDOM;
        assert_int_equal(place_run(&g.prob, &s, &o, &rnd, &d), 0);
        sa_sum += sa.cost;
        rnd_sum += rnd.cost;
        place_result_free(&sa);
        place_result_free(&rnd);
        diag_free(&d);
    }
    /* A structured graph placed well costs a fraction of a random placement. */
    assert_true(sa_sum < 0.5 * rnd_sum);
    synth_free(&g);
    place_sites_free(&s);
}

static void sa_never_ends_worse_than_its_warm_start(void **state)
{
    (void)state;
    fab_fabric f;
    synth_fabric(&f, 8, 8, 8);
    place_sites s;
    assert_int_equal(place_sites_init(&s, &f), 0);
    synth_opts so = {.units = 40, .agcus = 6, .layers = 6, .fanout = 3, .lanes = 16, .seed = 12};
    synth_graph g;
    assert_int_equal(synth_layered(&so, &f, &g), 0);
    place_opts o;
    place_opts_default(&o);
    place_result gr, sa;
    diag_list d;
    diag_init(&d);
    o.strategy = PLACE_GREEDY;
    assert_int_equal(place_run(&g.prob, &s, &o, &gr, &d), 0);
    o.strategy = PLACE_SA;
    o.warm = gr.site;
    o.effort = 0.2;
    assert_int_equal(place_run(&g.prob, &s, &o, &sa, &d), 0);
    assert_true(sa.cost <= gr.cost);
    place_result_free(&gr);
    place_result_free(&sa);
    diag_free(&d);
    synth_free(&g);
    place_sites_free(&s);
}

static void degenerate_problems_place_for_every_strategy(void **state)
{
    (void)state;
    fab_fabric f;
    synth_fabric(&f, 2, 2, 2);
    place_sites s;
    assert_int_equal(place_sites_init(&s, &f), 0);
    /* No units; units and no nets; every site taken, one net. */
    place_kind full[6] = {PLACE_PCU, PLACE_PCU, PLACE_PMU, PLACE_PMU, PLACE_AGCU, PLACE_AGCU};
    place_net one[1] = {{0, 5, 3}};
    place_problem cases[3] = {problem(&f, 0, NULL, 0, NULL), problem(&f, 6, full, 0, NULL),
                              problem(&f, 6, full, 1, one)};
    for (int c = 0; c < 3; c++)
        for (int st = PLACE_ILP; st <= PLACE_RANDOM; st++) {
            place_opts o;
            place_opts_default(&o);
            o.strategy = (place_strategy)st;
            place_result r;
            diag_list d;
            diag_init(&d);
            assert_int_equal(place_run(&cases[c], &s, &o, &r, &d), 0);
            assert_int_equal(place_check(&cases[c], &s, r.site, &d), 0);
            if (c < 2)
                assert_true(r.cost == 0.0);
            /* PCU 0 to AGCU 1 (east edge of row 1, col 1): from (0,0) it is 2
             * hops, from (1,1) 0; the optimum puts PCU 0 at (1,1). */
            if (c == 2 && (st == PLACE_ILP || st == PLACE_SA))
                assert_true(r.cost == 0.0);
            if (st == PLACE_ILP)
                assert_true(r.optimal && r.bound == r.cost);
            place_result_free(&r);
            diag_free(&d);
        }
    place_sites_free(&s);
}

/* Odd shapes of problem, all strategies: self nets, repeated nets, zero
 * widths, fractional widths, units with no nets, fabrics of 2 x 3 .. 5 x 5.
 * The result must be legal and its cost place_cost's; the ILP's bound must
 * not exceed any other strategy's cost. */
static void random_odd_problems_place_legally(void **state)
{
    (void)state;
    prng g;
    prng_seed(&g, 2024);
    for (int trial = 0; trial < 12; trial++) {
        fab_fabric f;
        int rows = 2 + (int)prng_below(&g, 4), cols = 3 + (int)prng_below(&g, 3);
        synth_fabric(&f, rows, cols, 2 + 2 * (int)prng_below(&g, (uint64_t)rows));
        place_sites s;
        assert_int_equal(place_sites_init(&s, &f), 0);
        int have[3] = {0}, n = 0;
        for (int i = 0; i < s.n; i++)
            have[s.site[i].kind]++;
        place_kind kind[40];
        for (int k = 0; k < 3; k++) {
            int take = (int)prng_below(&g, (uint64_t)(have[k] < 4 ? have[k] + 1 : 5));
            for (int i = 0; i < take; i++)
                kind[n++] = (place_kind)k;
        }
        place_net nets[30];
        int m = n > 0 ? (int)prng_below(&g, 20) : 0;
        for (int i = 0; i < m; i++) {
            nets[i].src = (int)prng_below(&g, (uint64_t)n);
            nets[i].dst = (int)prng_below(&g, (uint64_t)n);   /* may be a self net */
            int w = (int)prng_below(&g, 4);
            nets[i].width = w == 3 ? 0.5 : (double)w;          /* 0, 1, 2 or 0.5 */
        }
        place_problem p = problem(&f, n, kind, m, nets);
        double least = INFINITY, bound = NAN;
        for (int st = PLACE_ILP; st <= PLACE_RANDOM; st++) {
            place_opts o;
            place_opts_default(&o);
            o.strategy = (place_strategy)st;
            o.seed = (uint64_t)trial;
            o.time_limit = 5;
            place_result r;
            diag_list d;
            diag_init(&d);
            assert_int_equal(place_run(&p, &s, &o, &r, &d), 0);
            assert_int_equal(place_check(&p, &s, r.site, &d), 0);
            assert_true(r.cost == place_cost(&p, &s, r.site));
            if (st == PLACE_ILP)
                bound = r.bound;
            if (r.cost < least)
                least = r.cost;
            place_result_free(&r);
            diag_free(&d);
        }
        assert_true(isnan(bound) || bound <= least + 1e-9);
        place_sites_free(&s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sites_follow_the_checkerboard_and_agcus),
        cmocka_unit_test(cost_is_width_times_manhattan),
        cmocka_unit_test(check_finds_each_illegality),
        cmocka_unit_test(too_many_units_fail_in_the_fabrics_terms),
        cmocka_unit_test(malformed_problems_are_refused),
        cmocka_unit_test(strategy_names_round_trip),
        cmocka_unit_test(degenerate_problems_place_for_every_strategy),
        cmocka_unit_test(random_odd_problems_place_legally),
        cmocka_unit_test(every_strategy_places_legally),
        cmocka_unit_test(random_and_sa_are_deterministic_for_a_seed),
        cmocka_unit_test(greedy_puts_a_chain_side_by_side),
        cmocka_unit_test(greedy_survives_cycles),
        cmocka_unit_test(ilp_equals_brute_force),
        cmocka_unit_test(ilp_bound_never_exceeds_the_optimum),
        cmocka_unit_test(ilp_refuses_a_model_too_large),
        cmocka_unit_test(sa_is_near_the_ilp_optimum),
        cmocka_unit_test(sa_beats_random_on_a_layered_graph),
        cmocka_unit_test(sa_never_ends_worse_than_its_warm_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
