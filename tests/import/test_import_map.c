/*
 * test_import_map.c — mapping imported graphs: clustering within the PCU's
 * stages and ports, legal placement and routing through place_run and
 * route_run, the II from the recurrences (exact maximum cycle ratio), the
 * latency, the exit classes and the JSON report.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mapper/import/import.h"

#ifndef DFGS_DIR
#error "DFGS_DIR must name tests/data/dfgs"
#endif
#ifndef DOT_DIR
#error "DOT_DIR must name tests/import/dot"
#endif
#ifndef FABRIC_DIR
#error "FABRIC_DIR must name fabric/"
#endif

static int count_errors(const diag_list *d)
{
    int n = 0;
    for (int i = 0; i < d->n; i++)
        n += d->items[i].sev == DIAG_ERROR;
    return n;
}

/* A fabric with the given stages and lanes on rows x cols, 2 vector links. */
static void make_fabric(fab_fabric *f, int rows, int cols, int lanes, int stages)
{
    char text[1024];
    snprintf(text, sizeof text,
             "[fabric]\nname = test\nrows = %d\ncols = %d\nclock_mhz = 1000\n"
             "[pcu]\nlanes = %d\nstages = %d\n[pmu]\nkib = 16\nbanks = 4\n"
             "[network]\nvector_links = 2\nscalar_links = 1\n[dram]\nagcus = %d\ngbps = 16\n",
             rows, cols, lanes, stages, 2 * rows);
    diag_list d;
    diag_init(&d);
    if (fab_load_string("test.cfg", text, f, &d) != 0) {
        diag_print(stderr, &d);
        fail_msg("test fabric refused");
    }
    diag_free(&d);
}

static void load_fabric(fab_fabric *f, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, FABRIC_DIR "/%s", name);
    diag_list d;
    diag_init(&d);
    if (fab_load_file(path, f, &d) != 0) {
        diag_print(stderr, &d);
        fail_msg("%s refused", path);
    }
    diag_free(&d);
}

/* Map DOT or XML text; returns the exit class. */
static int map_text(const char *name, const char *text, const fab_fabric *f, place_strategy s, imp_report *r,
                    diag_list *d)
{
    imp_graph g;
    if (imp_load_string(name, text, &g, d) != 0) {
        diag_print(stderr, d);
        fail_msg("%s did not load", name);
    }
    imp_opts o;
    imp_opts_default(&o);
    o.place.strategy = s;
    o.place.seed = 7;
    memset(r, 0, sizeof *r);
    int rc = imp_map(&g, f, &o, r, d);
    imp_graph_free(&g);
    return rc;
}

static int map_file(const char *file, const fab_fabric *f, place_strategy s, imp_report *r, diag_list *d)
{
    char path[512];
    snprintf(path, sizeof path, DFGS_DIR "/morpher/%s", file);
    imp_opts o;
    imp_opts_default(&o);
    o.place.strategy = s;
    o.place.seed = 7;
    o.place.time_limit = 20;
    return imp_run(path, f, &o, r, d);
}

/* The invariants of every mapped design, checked from the report alone. */
static void check_design(const imp_report *r, const fab_fabric *f)
{
    assert_true(r->placed);
    int ops = 0;
    for (int u = 0; u < r->n_units; u++) {
        const imp_unit *a = &r->unit[u];
        ops += a->n_ops;
        assert_true(a->n_ops >= 1);
        if (a->kind == PLACE_PCU)
            assert_true(a->n_ops <= f->stages);
        if (a->kind != PLACE_AGCU) {
            assert_true(a->in_streams <= f->vector_in);
            assert_true(a->out_streams <= f->vector_out);
        }
        assert_true(a->site >= 0);
        for (int v = 0; v < u; v++)
            assert_int_not_equal(r->unit[v].site, a->site);
        for (int k = 0; k < a->n_ops; k++) {
            assert_int_equal(r->unit_of[a->ops[k]], u);
            assert_int_equal(r->stage_of[a->ops[k]], k + 1);
        }
        if (a->kind == PLACE_PCU)
            assert_int_equal((a->row + a->col) % 2, 0);
        else if (a->kind == PLACE_PMU)
            assert_int_equal((a->row + a->col) % 2, 1);
    }
    assert_int_equal(ops, r->n_nodes - r->n_immediate);
    assert_int_equal(r->n_pcus + r->n_pmus + r->n_ags, r->n_units);
    assert_true(r->ii >= r->recmii);
    assert_true(r->recmii >= 1);
    assert_true(r->latency >= r->depth);
    assert_true(r->place_cost >= 0);
}

/* ------------------------------------------------------------ the samples */

static void sum_maps_on_tiny_with_every_strategy(void **state)
{
    (void)state;
    fab_fabric f;
    load_fabric(&f, "tiny.cfg");
    const place_strategy all[] = {PLACE_RANDOM, PLACE_GREEDY, PLACE_SA, PLACE_ILP};
    double ilp_cost = -1, others_min = INFINITY;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        imp_report r;
        diag_list d;
        diag_init(&d);
        int rc = map_file("sum.xml", &f, all[i], &r, &d);
        if (rc != 0)
            diag_print(stderr, &d);
        assert_int_equal(rc, IMP_EXIT_OK);
        assert_int_equal(r.exit_class, IMP_EXIT_OK);
        check_design(&r, &f);
        assert_true(r.routed);
        assert_int_equal(r.route_overused, 0);
        assert_int_equal(r.n_nodes, 7);
        if (all[i] == PLACE_ILP) {
            assert_true(r.place_optimal);
            ilp_cost = r.place_cost;
        } else if (r.place_cost < others_min) {
            others_min = r.place_cost;
        }
        imp_report_free(&r);
        diag_free(&d);
    }
    /* the proven optimum is no worse than any heuristic */
    assert_true(ilp_cost >= 0 && ilp_cost <= others_min + 1e-9);
}

/* ILP proves its placement optimal on the micro-benchmarks on tiny, and
 * the optimum is no worse than SA's.  (mac2 takes about 10 s: its proof is
 * in docs/import.md, not in the unit suite.) */
static void ilp_is_optimal_on_the_micro_benchmarks(void **state)
{
    (void)state;
    fab_fabric f;
    load_fabric(&f, "tiny.cfg");
    const char *files[] = {"sum.xml",    "mac.xml",    "matrixmultiply.xml", "conv2.xml",     "mults1.xml",
                           "mults2.xml", "array_add.xml", "conv3.xml",       "accumulate.xml", "cap.xml"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        imp_report r, rs;
        diag_list d;
        diag_init(&d);
        assert_int_equal(map_file(files[i], &f, PLACE_ILP, &r, &d), IMP_EXIT_OK);
        assert_int_equal(map_file(files[i], &f, PLACE_SA, &rs, &d), IMP_EXIT_OK);
        if (!r.place_optimal)
            fail_msg("%s: ILP did not prove its placement optimal", files[i]);
        assert_true(fabs(r.place_cost - r.place_bound) < 1e-6);
        assert_true(r.place_cost <= rs.place_cost + 1e-9);
        check_design(&r, &f);
        imp_report_free(&r);
        imp_report_free(&rs);
        diag_free(&d);
    }
}

static void one_operation_per_pe_on_cgra4x4(void **state)
{
    (void)state;
    fab_fabric f;
    load_fabric(&f, "cgra4x4.cfg");
    assert_int_equal(f.stages, 1);
    assert_int_equal(f.lanes, 1);
    imp_report r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(map_file("mac.xml", &f, PLACE_SA, &r, &d), IMP_EXIT_OK);
    check_design(&r, &f);
    assert_int_equal(r.n_pcus, r.n_compute);
    assert_int_equal(r.n_compute, 6);
    for (int u = 0; u < r.n_pcus; u++)
        assert_int_equal(r.unit[u].n_ops, 1);
    imp_report_free(&r);
    diag_free(&d);
}

static void too_big_exits_2_with_the_numbers(void **state)
{
    (void)state;
    fab_fabric f;
    load_fabric(&f, "cgra4x4.cfg");
    imp_report r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(map_file("fix_fft.xml", &f, PLACE_SA, &r, &d), IMP_EXIT_NO_FIT);
    bool pcus = false, pmus = false;
    for (int i = 0; i < d.n; i++) {
        pcus |= strstr(d.items[i].msg, "needs 41 PCUs") && strstr(d.items[i].msg, "has 8");
        pmus |= strstr(d.items[i].msg, "PMUs") && strstr(d.items[i].msg, "has 8");
    }
    assert_true(pcus);
    assert_true(pmus);
    assert_false(r.placed);
    imp_report_free(&r);
    diag_free(&d);
}

static void bad_graph_exits_1_and_missing_file_4(void **state)
{
    (void)state;
    fab_fabric f;
    load_fabric(&f, "plasticine.cfg");
    imp_report r;
    diag_list d;
    diag_init(&d);
    /* dct.xml declares idx 88 twice: --strict refuses it */
    imp_opts o;
    imp_opts_default(&o);
    o.place.strategy = PLACE_GREEDY;
    o.read.strict = true;
    assert_int_equal(imp_run(DFGS_DIR "/morpher/dct.xml", &f, &o, &r, &d), IMP_EXIT_BAD_INPUT);
    assert_int_equal(r.exit_class, IMP_EXIT_BAD_INPUT);
    assert_false(r.placed);
    imp_report_free(&r);
    assert_int_equal(imp_run(DFGS_DIR "/cgrame/sum.dot", &f, &o, &r, &d), IMP_EXIT_BAD_INPUT);
    imp_report_free(&r);
    assert_int_equal(map_file("no-such-graph.xml", &f, PLACE_GREEDY, &r, &d), IMP_EXIT_IO);
    imp_report_free(&r);
    diag_free(&d);
}
/* Every sample of both tools maps on plasticine, dct and gemm_nt (read as
 * Morpher reads their duplicate idx) and CGRA-ME's accum and sum (their
 * self-loops loop-carried) included. */
static void every_sample_maps_on_plasticine(void **state)
{
    (void)state;
    fab_fabric f;
    load_fabric(&f, "plasticine.cfg");
    static const struct {
        const char *file;
        int nodes, loop_edges;
    } cases[] = {
        {"morpher/accumulate.xml", 15, -1}, {"morpher/array_add.xml", 20, -1}, {"morpher/cap.xml", 18, -1},
        {"morpher/conv2.xml", 12, -1},      {"morpher/conv3.xml", 17, -1},     {"morpher/fix_fft.xml", 58, -1},
        {"morpher/mac.xml", 10, -1},        {"morpher/mac2.xml", 20, -1},      {"morpher/matrixmultiply.xml", 10, -1},
        {"morpher/mults1.xml", 15, -1},     {"morpher/mults2.xml", 19, -1},    {"morpher/sum.xml", 7, -1},
        {"morpher/dct.xml", 88, 2},         {"morpher/gemm_nt.xml", 52, 2},
        {"cgrame/accum.dot", 18, 2},        {"cgrame/sum.dot", 7, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, DFGS_DIR "/%s", cases[i].file);
        imp_opts o;
        imp_opts_default(&o);
        o.place.strategy = PLACE_GREEDY;
        imp_report r;
        diag_list d;
        diag_init(&d);
        int rc = imp_run(path, &f, &o, &r, &d);
        if (rc != 0) {
            diag_print(stderr, &d);
            fail_msg("%s did not map", cases[i].file);
        }
        check_design(&r, &f);
        assert_true(r.routed);
        assert_int_equal(r.route_overused, 0);
        assert_int_equal(r.n_nodes, cases[i].nodes);
        if (cases[i].loop_edges >= 0)
            assert_int_equal(r.n_loop_edges, cases[i].loop_edges);
        imp_report_free(&r);
        diag_free(&d);
    }
}

/* The isolated twin of a duplicate idx is an operation like any other: it
 * occupies a unit, with no stream. */
static void the_twin_of_a_duplicate_idx_is_placed_with_no_stream(void **state)
{
    (void)state;
    fab_fabric f;
    load_fabric(&f, "plasticine.cfg");
    imp_opts o;
    imp_opts_default(&o);
    o.place.strategy = PLACE_GREEDY;
    imp_report r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(imp_run(DFGS_DIR "/morpher/gemm_nt.xml", &f, &o, &r, &d), IMP_EXIT_OK);
    int twin = -1;
    for (int v = 0; v < r.n_nodes; v++)
        if (strcmp(r.node_name[v], "52#2") == 0)
            twin = v;
    assert_true(twin >= 0);
    assert_string_equal(r.node_op[twin], "STOREB");
    int u = r.unit_of[twin];
    assert_true(u >= 0);
    assert_int_equal(r.unit[u].kind, PLACE_PMU);
    assert_int_equal(r.unit[u].n_ops, 1);
    assert_int_equal(r.unit[u].in_streams + r.unit[u].out_streams, 0);
    for (int s = 0; s < r.n_streams; s++)
        assert_true(r.stream[s].src_unit != u && r.stream[s].dst_unit != u);
    imp_report_free(&r);
    diag_free(&d);
}
/* The CGRA-ME DOT files in tests/import/dot, read from disk. */
static void dot_files_map_with_their_recurrences(void **state)
{
    (void)state;
    fab_fabric tiny, cgra;
    load_fabric(&tiny, "tiny.cfg");
    load_fabric(&cgra, "cgra4x4.cfg");
    imp_opts o;
    imp_opts_default(&o);
    o.place.strategy = PLACE_SA;
    o.place.seed = 3;
    imp_report r;
    diag_list d;
    diag_init(&d);
    /* two phi-closed recurrences of 2 operations each */
    assert_int_equal(imp_run(DOT_DIR "/dotprod.dot", &tiny, &o, &r, &d), IMP_EXIT_OK);
    check_design(&r, &tiny);
    assert_int_equal(r.n_loop_edges, 2);
    assert_int_equal(r.recmii, 2);
    assert_int_equal(r.ii, 2);
    assert_int_equal(r.n_pmus, 2);
    assert_int_equal(r.n_ags, 1);
    imp_report_free(&r);
    /* one operation per PE: each recurrence crosses two PE-to-PE links of
     * at least 2 hops each way: II >= 2 + 2 x 2 */
    assert_int_equal(imp_run(DOT_DIR "/dotprod.dot", &cgra, &o, &r, &d), IMP_EXIT_OK);
    check_design(&r, &cgra);
    assert_int_equal(r.recmii, 2);
    assert_true(r.ii >= 6);
    assert_int_equal(r.n_pcus, 5);
    imp_report_free(&r);
    assert_int_equal(imp_run(DOT_DIR "/saxpy.dot", &cgra, &o, &r, &d), IMP_EXIT_OK);
    check_design(&r, &cgra);
    assert_int_equal(r.ii, 1);
    assert_int_equal(r.n_ags, 3);
    assert_int_equal(r.n_immediate, 1);
    assert_int_equal(count_errors(&d), 0);
    imp_report_free(&r);
    diag_free(&d);
}

/* --------------------------------------------------------------- timing */

static const char *ring3 =
    "digraph G {\n  a[opcode=add];\n  b[opcode=mul];\n  c[opcode=sub];\n"
    "  a -> b;\n  b -> c;\n  c -> a[backedge=true];\n}\n";

static void recurrence_in_one_pcu_costs_its_stages(void **state)
{
    (void)state;
    fab_fabric f;
    make_fabric(&f, 4, 4, 4, 4);
    imp_report r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(map_text("ring3.dot", ring3, &f, PLACE_GREEDY, &r, &d), IMP_EXIT_OK);
    check_design(&r, &f);
    assert_int_equal(r.n_pcus, 1);
    assert_int_equal(r.n_streams, 0);
    assert_int_equal(r.recmii, 3);
    assert_int_equal(r.ii, 3);
    assert_int_equal(r.latency, 3);
    assert_non_null(r.ii_cycle);
    assert_non_null(strstr(r.ii_cycle, "a"));
    assert_non_null(strstr(r.ii_cycle, "b"));
    assert_non_null(strstr(r.ii_cycle, "c"));
    assert_int_equal(r.ii_cycle_latency, 3);
    assert_int_equal(r.ii_cycle_distance, 1);
    imp_report_free(&r);
    diag_free(&d);
}

static void recurrence_across_pes_pays_its_hops(void **state)
{
    (void)state;
    fab_fabric f;
    make_fabric(&f, 4, 4, 1, 1);
    imp_report r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(map_text("ring3.dot", ring3, &f, PLACE_SA, &r, &d), IMP_EXIT_OK);
    check_design(&r, &f);
    assert_int_equal(r.n_pcus, 3);
    assert_int_equal(r.recmii, 3);
    /* two PCUs of a checkerboard are at least 2 hops apart: 3 stages + 3 x >= 2 hops */
    assert_true(r.ii >= 9);
    assert_int_equal(r.ii, r.ii_cycle_latency);
    /* the II is the cycle's stages plus its routed hops */
    int hops = r.ii - 3;
    assert_true(hops >= 6);
    assert_true(r.timing_routed);
    imp_report_free(&r);
    diag_free(&d);
}

static void ii_is_the_maximum_cycle_ratio(void **state)
{
    (void)state;
    /* Two recurrences: a 5-operation ring over 2 iterations (ratio 2.5)
     * and a 2-operation ring over 1 (ratio 2).  RecMII = ceil(2.5) = 3. */
    const char *two =
        "digraph G {\n  a[opcode=add];\n  b[opcode=add];\n  c[opcode=add];\n  d[opcode=add];\n  e[opcode=add];\n"
        "  x[opcode=mul];\n  y[opcode=mul];\n"
        "  a -> b;\n  b -> c;\n  c -> d;\n  d -> e;\n  e -> a[dist=2];\n"
        "  x -> y;\n  y -> x[dist=1];\n  e -> x;\n}\n";
    fab_fabric f;
    make_fabric(&f, 4, 4, 4, 6);
    imp_report r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(map_text("two.dot", two, &f, PLACE_GREEDY, &r, &d), IMP_EXIT_OK);
    assert_int_equal(r.recmii, 3);
    check_design(&r, &f);
    imp_report_free(&r);
    diag_free(&d);
    /* Over 5 iterations the ring's ratio is 1: the 2-ring (ratio 2) sets it. */
    char five[1024];
    snprintf(five, sizeof five, "%s", two);
    char *dist = strstr(five, "dist=2");
    dist[5] = '5';
    diag_init(&d);
    assert_int_equal(map_text("five.dot", five, &f, PLACE_GREEDY, &r, &d), IMP_EXIT_OK);
    assert_int_equal(r.recmii, 2);
    imp_report_free(&r);
    diag_free(&d);
}

static void no_recurrence_means_ii_1(void **state)
{
    (void)state;
    const char *chain = "digraph G {\n  i[opcode=input];\n  a[opcode=add];\n  k[opcode=const];\n"
                        "  o[opcode=output];\n  i -> a;\n  k -> a;\n  a -> o;\n}\n";
    fab_fabric f;
    make_fabric(&f, 4, 4, 4, 4);
    imp_report r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(map_text("chain.dot", chain, &f, PLACE_ILP, &r, &d), IMP_EXIT_OK);
    check_design(&r, &f);
    assert_int_equal(r.ii, 1);
    assert_int_equal(r.recmii, 1);
    assert_null(r.ii_cycle);
    assert_int_equal(r.n_ags, 2);
    assert_int_equal(r.n_immediate, 1);
    assert_int_equal(r.n_streams, 2);
    /* input -> add -> output: 3 stages plus the hops of two streams (an
     * AGCU shares the switch of its edge unit, so a hop count may be 0) */
    int manhattan = 0;
    for (int u = 0; u < r.n_units; u++)
        if (r.unit[u].kind == PLACE_AGCU)
            manhattan += abs(r.unit[u].row - r.unit[0].row) + abs(r.unit[u].col - r.unit[0].col);
    assert_int_equal(r.unit[0].kind, PLACE_PCU);
    assert_true(r.latency >= 3 + manhattan);
    assert_true(r.place_optimal);
    imp_report_free(&r);
    diag_free(&d);
}

/* ---------------------------------------------------------- the limits */

static void unroutable_design_exits_2(void **state)
{
    (void)state;
    /* On a 2 x 2 fabric with one vector track per link every switch has two
     * incoming links: three streams into one PE cannot all arrive. */
    const char *three = "digraph G {\n  l1[opcode=load];\n  l2[opcode=load];\n  a[opcode=add];\n"
                        "  c[opcode=add];\n  l1 -> c;\n  l2 -> c;\n  a -> c;\n}\n";
    fab_fabric f;
    diag_list d;
    diag_init(&d);
    assert_int_equal(fab_load_string("two.cfg",
                                     "[fabric]\nname = two\nrows = 2\ncols = 2\nclock_mhz = 100\n"
                                     "[pcu]\nlanes = 1\nstages = 1\n[pmu]\nkib = 1\nbanks = 1\n"
                                     "[network]\nvector_links = 1\nscalar_links = 0\n[dram]\nagcus = 2\ngbps = 1\n",
                                     &f, &d),
                     0);
    imp_report r;
    assert_int_equal(map_text("three.dot", three, &f, PLACE_GREEDY, &r, &d), IMP_EXIT_NO_FIT);
    assert_true(r.placed);
    assert_false(r.routed);
    assert_true(r.route_overused > 0);
    assert_int_equal(r.exit_class, IMP_EXIT_NO_FIT);
    assert_string_equal(r.status, "routing failed");
    assert_true(count_errors(&d) >= 1);
    imp_report_free(&r);
    diag_free(&d);
}

static void ports_split_a_wide_operation_set(void **state)
{
    (void)state;
    /* Six independent inputs summed by a chain: one PCU of 8 stages would
     * need 6 input streams; vector_in is 4, so the chain is split. */
    const char *wide =
        "digraph G {\n  i0[opcode=input];\n  i1[opcode=input];\n  i2[opcode=input];\n  i3[opcode=input];\n"
        "  i4[opcode=input];\n  i5[opcode=input];\n  a1[opcode=add];\n  a2[opcode=add];\n  a3[opcode=add];\n"
        "  a4[opcode=add];\n  a5[opcode=add];\n  o[opcode=output];\n"
        "  i0 -> a1;\n  i1 -> a1;\n  a1 -> a2;\n  i2 -> a2;\n  a2 -> a3;\n  i3 -> a3;\n  a3 -> a4;\n  i4 -> a4;\n"
        "  a4 -> a5;\n  i5 -> a5;\n  a5 -> o;\n}\n";
    fab_fabric f;
    make_fabric(&f, 4, 6, 4, 8);
    assert_int_equal(f.vector_in, 4);
    imp_report r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(map_text("wide.dot", wide, &f, PLACE_GREEDY, &r, &d), IMP_EXIT_OK);
    check_design(&r, &f);
    assert_int_equal(r.n_pcus, 2);
    imp_report_free(&r);
    diag_free(&d);
}

/* gemm_nt's recurrence 3 -> 4 -> 50 -> 0 -> 1 -> 2 -> 3 takes seven values
 * from outside (five products, a load, a compare): more than one PCU's 4
 * vector inputs.  It is seeded as few consecutive segments as the ports
 * allow (three), before the products can take its stages; packed in plain
 * topological order it was cut at almost every operation (five VPCUs). */
static void a_wide_recurrence_is_cut_into_few_segments(void **state)
{
    (void)state;
    fab_fabric f;
    load_fabric(&f, "plasticine.cfg");
    assert_int_equal(f.vector_in, 4);
    imp_report r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(map_file("gemm_nt.xml", &f, PLACE_GREEDY, &r, &d), IMP_EXIT_OK);
    check_design(&r, &f);
    assert_int_equal(r.recmii, 6);
    static const char *cycle[] = {"0", "1", "2", "3", "4", "50"};
    int units[6], distinct = 0;
    for (size_t c = 0; c < 6; c++)
        for (int v = 0; v < r.n_nodes; v++) {
            if (strcmp(r.node_name[v], cycle[c]) != 0)
                continue;
            bool seen = false;
            for (int k = 0; k < distinct; k++)
                seen |= units[k] == r.unit_of[v];
            if (!seen)
                units[distinct++] = r.unit_of[v];
        }
    assert_int_equal(distinct, 3);
    imp_report_free(&r);
    diag_free(&d);
}

static void stages_bound_the_cluster(void **state)
{
    (void)state;
    /* a chain of 7 compute operations on 3-stage PCUs: 3 PCUs */
    const char *chain =
        "digraph G {\n  i[opcode=input];\n  a[opcode=add];\n  b[opcode=add];\n  c[opcode=add];\n  d[opcode=add];\n"
        "  e[opcode=add];\n  f[opcode=add];\n  g[opcode=add];\n  o[opcode=output];\n"
        "  i -> a;\n  a -> b;\n  b -> c;\n  c -> d;\n  d -> e;\n  e -> f;\n  f -> g;\n  g -> o;\n}\n";
    fab_fabric f;
    make_fabric(&f, 4, 4, 4, 3);
    imp_report r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(map_text("chain7.dot", chain, &f, PLACE_GREEDY, &r, &d), IMP_EXIT_OK);
    check_design(&r, &f);
    assert_int_equal(r.n_pcus, 3);
    /* a chain cut into 3 pipelines: 2 streams between PCUs + 2 to the AGCUs */
    assert_int_equal(r.n_streams, 4);
    imp_report_free(&r);
    diag_free(&d);
}

static void memory_ops_share_a_pmu_by_array(void **state)
{
    (void)state;
    const char *mem =
        "digraph G {\n  i[opcode=input];\n  l1[opcode=load, array=A];\n  l2[opcode=load, array=A];\n"
        "  l3[opcode=load, array=B];\n  s[opcode=add];\n  t[opcode=add];\n  st[opcode=store, array=A];\n"
        "  i -> l1;\n  i -> l2;\n  i -> l3;\n  l1 -> s;\n  l2 -> s;\n  s -> t;\n  l3 -> t;\n  t -> st;\n  i -> st;\n}\n";
    fab_fabric f;
    make_fabric(&f, 4, 4, 4, 4);
    imp_report r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(map_text("mem.dot", mem, &f, PLACE_GREEDY, &r, &d), IMP_EXIT_OK);
    check_design(&r, &f);
    assert_int_equal(r.n_pmus, 2);
    bool a = false, b = false;
    for (int u = 0; u < r.n_units; u++) {
        if (r.unit[u].kind != PLACE_PMU)
            continue;
        if (strcmp(r.unit[u].array, "A") == 0) {
            a = true;
            assert_int_equal(r.unit[u].n_ops, 3);
        } else if (strcmp(r.unit[u].array, "B") == 0) {
            b = true;
        }
    }
    assert_true(a && b);
    imp_report_free(&r);
    diag_free(&d);
}

/* ----------------------------------------------------------- the report */

static void json_report_has_the_contract_keys(void **state)
{
    (void)state;
    fab_fabric f;
    load_fabric(&f, "tiny.cfg");
    imp_report r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(map_file("mac.xml", &f, PLACE_GREEDY, &r, &d), IMP_EXIT_OK);
    json_t *j = imp_report_json(&r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "fabric")), "tiny");
    assert_true(json_is_false(json_object_get(json_object_get(j, "options"), "strict")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "dfg"), "pcus")), r.n_pcus);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "dfg"), "streams")), r.n_streams);
    json_t *place = json_object_get(j, "place");
    assert_string_equal(json_string_value(json_object_get(place, "strategy")), "greedy");
    assert_true(fabs(json_real_value(json_object_get(place, "cost")) - r.place_cost) < 1e-9);
    assert_true(json_is_null(json_object_get(place, "bound")));
    json_t *route = json_object_get(j, "route");
    assert_int_equal(json_integer_value(json_object_get(route, "overused_links")), 0);
    json_t *imp = json_object_get(j, "import");
    assert_int_equal(json_integer_value(json_object_get(imp, "ii")), r.ii);
    assert_int_equal(json_integer_value(json_object_get(imp, "recmii")), r.recmii);
    assert_int_equal(json_integer_value(json_object_get(imp, "latency_cycles")), r.latency);
    assert_int_equal((int)json_array_size(json_object_get(imp, "units")), r.n_units);
    assert_true(json_is_null(json_object_get(j, "emu")));
    assert_int_equal(json_integer_value(json_object_get(j, "exit")), 0);
    json_decref(j);
    /* and the text report says the same numbers */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    imp_report_print(out, &r);
    fclose(out);
    char want[64];
    snprintf(want, sizeof want, "II       %d cycle%s (", r.ii, r.ii == 1 ? "" : "s");
    assert_non_null(strstr(buf, want));
    snprintf(want, sizeof want, "units    %d PCU%s (", r.n_pcus, r.n_pcus == 1 ? "" : "s");
    assert_non_null(strstr(buf, want));
    assert_non_null(strstr(buf, "status   mapped"));
    free(buf);
    /* the picture: one line per stream, one box per PCU or PMU */
    out = open_memstream(&buf, &len);
    assert_int_equal(imp_report_svg(out, &r, &f), 0);
    fclose(out);
    int lines = 0, boxes = 0;
    for (const char *p = buf; (p = strstr(p, "<line ")); p++)
        lines++;
    for (const char *p = buf; (p = strstr(p, "stroke=\"#333\"")); p++)
        boxes++;
    assert_int_equal(lines, r.n_streams);
    assert_int_equal(boxes, r.n_pcus + r.n_pmus);
    assert_non_null(strstr(buf, "</svg>"));
    free(buf);
    imp_report_free(&r);
    diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sum_maps_on_tiny_with_every_strategy),
        cmocka_unit_test(ilp_is_optimal_on_the_micro_benchmarks),
        cmocka_unit_test(one_operation_per_pe_on_cgra4x4),
        cmocka_unit_test(too_big_exits_2_with_the_numbers),
        cmocka_unit_test(bad_graph_exits_1_and_missing_file_4),
        cmocka_unit_test(every_sample_maps_on_plasticine),
        cmocka_unit_test(the_twin_of_a_duplicate_idx_is_placed_with_no_stream),
        cmocka_unit_test(dot_files_map_with_their_recurrences),
        cmocka_unit_test(recurrence_in_one_pcu_costs_its_stages),
        cmocka_unit_test(recurrence_across_pes_pays_its_hops),
        cmocka_unit_test(ii_is_the_maximum_cycle_ratio),
        cmocka_unit_test(no_recurrence_means_ii_1),
        cmocka_unit_test(unroutable_design_exits_2),
        cmocka_unit_test(ports_split_a_wide_operation_set),
        cmocka_unit_test(a_wide_recurrence_is_cut_into_few_segments),
        cmocka_unit_test(stages_bound_the_cluster),
        cmocka_unit_test(memory_ops_share_a_pmu_by_array),
        cmocka_unit_test(json_report_has_the_contract_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
