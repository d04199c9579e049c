/*
 * test_route.c — PathFinder over the switch mesh (mapper/route/route.h).
 *
 * Every routed result is checked by validate(), which rebuilds what a
 * legal result must be from the nets alone: each net's links form a tree
 * rooted at its source, each link leaves a switch already in the tree, each
 * sink is reached at the depth reported, and the per-link use equals the
 * count over nets.  The cases then pin down exact hop counts, a detour that
 * only negotiation finds, an impossible cut, tree sharing and determinism.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mapper/route/route.h"
#include "util/prng.h"

static fab_fabric mesh_fabric(int rows, int cols, int vector, int scalar, int control)
{
    fab_fabric f;
    memset(&f, 0, sizeof f);
    snprintf(f.name, sizeof f.name, "m%dx%d", rows, cols);
    f.rows = rows;
    f.cols = cols;
    f.vector_links = vector;
    f.scalar_links = scalar;
    f.control_links = control;
    return f;
}

static const int DR[4] = {-1, 0, 1, 0}, DC[4] = {0, 1, 0, -1};

/* Check that r is a well-formed routing of nets (see the file's note). */
static void validate(const fab_fabric *f, const route_net *nets, int n_nets, const route_result *r)
{
    int n_links = 3 * f->rows * f->cols * 4;
    assert_int_equal(r->n_links, n_links);
    assert_int_equal(r->n_nets, n_nets);
    int *use = calloc((size_t)n_links, sizeof *use);
    int *depth = malloc((size_t)(f->rows * f->cols) * sizeof *depth);
    long total = 0;
    int max_hops = 0;
    for (int i = 0; i < n_nets; i++) {
        const route_net *n = &nets[i];
        const route_net_result *res = &r->net[i];
        for (int v = 0; v < f->rows * f->cols; v++)
            depth[v] = -1;
        depth[n->src_row * f->cols + n->src_col] = 0;
        for (int k = 0; k < res->n_links; k++) {
            int l = res->links[k];
            assert_true(l >= 0 && l < n_links);
            route_link rl = route_link_decode(f, l);
            assert_int_equal(rl.cls, n->cls);
            assert_true(route_link_capacity(f, l) > 0);
            int from = rl.row * f->cols + rl.col;
            int to = (rl.row + DR[rl.dir]) * f->cols + rl.col + DC[rl.dir];
            assert_true(depth[from] >= 0);   /* leaves the tree built so far */
            assert_int_equal(depth[to], -1); /* and reaches a new switch */
            depth[to] = depth[from] + 1;
            use[l]++;
        }
        for (int k = 0; k < n->n_sinks; k++) {
            int s = n->sink_row[k] * f->cols + n->sink_col[k];
            assert_int_equal(depth[s], res->sink_hops[k]);
            if (res->sink_hops[k] > max_hops)
                max_hops = res->sink_hops[k];
        }
        total += res->n_links;
    }
    int overused = 0;
    double util = 0;
    for (int l = 0; l < n_links; l++) {
        assert_int_equal(r->link_use[l], use[l]);
        int cap = route_link_capacity(f, l);
        overused += use[l] > cap;
        if (cap > 0 && (double)use[l] / cap > util)
            util = (double)use[l] / cap;
    }
    assert_int_equal(r->overused_links, overused);
    assert_int_equal(r->total_hops, total);
    assert_int_equal(r->max_hops, max_hops);
    assert_true(r->max_link_util == util);
    free(use);
    free(depth);
}

/* Route and validate; returns route_run's value. */
static int run(const fab_fabric *f, const route_net *nets, int n, const route_opts *o, route_result *r,
               diag_list *d)
{
    int rc = route_run(f, nets, n, o, r, d);
    if (r->net)
        validate(f, nets, n, r);
    return rc;
}

static int link_of(const fab_fabric *f, route_class cls, int row, int col, int dir)
{
    return (((int)cls * f->rows + row) * f->cols + col) * 4 + dir;
}

/* -------------------------------------------------------------- links */

static void link_ids_decode_and_capacities(void **state)
{
    (void)state;
    fab_fabric f = mesh_fabric(3, 5, 4, 2, 1);
    assert_int_equal(route_n_links(&f), 3 * 3 * 5 * 4);
    for (int l = 0; l < route_n_links(&f); l++) {
        route_link rl = route_link_decode(&f, l);
        assert_int_equal(link_of(&f, rl.cls, rl.row, rl.col, rl.dir), l);
    }
    /* Interior links have their class's tracks; links off the mesh none. */
    assert_int_equal(route_link_capacity(&f, link_of(&f, ROUTE_VECTOR, 1, 1, 1)), 4);
    assert_int_equal(route_link_capacity(&f, link_of(&f, ROUTE_SCALAR, 1, 1, 0)), 2);
    assert_int_equal(route_link_capacity(&f, link_of(&f, ROUTE_CONTROL, 2, 4, 3)), 1);
    assert_int_equal(route_link_capacity(&f, link_of(&f, ROUTE_VECTOR, 0, 2, 0)), 0);   /* north of row 0 */
    assert_int_equal(route_link_capacity(&f, link_of(&f, ROUTE_VECTOR, 2, 4, 1)), 0);   /* east of last col */
    assert_int_equal(route_link_capacity(&f, link_of(&f, ROUTE_SCALAR, 2, 1, 2)), 0);   /* south of last row */
    assert_int_equal(route_link_capacity(&f, link_of(&f, ROUTE_CONTROL, 1, 0, 3)), 0);  /* west of col 0 */
    assert_int_equal(route_link_capacity(&f, -1), 0);
    char buf[64];
    assert_string_equal(route_link_str(&f, link_of(&f, ROUTE_SCALAR, 2, 3, 1), buf, sizeof buf),
                        "switch (2,3) east, scalar");
    route_opts o;
    route_opts_default(&o);
    assert_int_equal(o.max_iters, 50);
    assert_false(o.greedy);
}

/* -------------------------------------------------------- exact routes */

static void straight_route(void **state)
{
    (void)state;
    fab_fabric f = mesh_fabric(3, 8, 2, 1, 1);
    int sr[] = {0}, sc[] = {5};
    route_net net = {ROUTE_VECTOR, 0, 0, 1, sr, sc, "a"};
    route_result r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(run(&f, &net, 1, NULL, &r, &d), 0);
    assert_int_equal(d.n, 0);
    assert_int_equal(r.iterations, 1);
    assert_int_equal(r.net[0].n_links, 5);
    assert_int_equal(r.net[0].sink_hops[0], 5);
    assert_int_equal(r.total_hops, 5);
    assert_int_equal(r.max_hops, 5);
    /* The one shortest path: east along row 0. */
    for (int k = 0; k < 5; k++)
        assert_int_equal(r.net[0].links[k], link_of(&f, ROUTE_VECTOR, 0, k, 1));
    assert_true(r.max_link_util == 0.5);   /* 1 stream on 2 tracks */
    route_result_free(&r);
    diag_free(&d);
}

static void l_shaped_route(void **state)
{
    (void)state;
    fab_fabric f = mesh_fabric(6, 8, 1, 1, 1);
    int sr[] = {4}, sc[] = {6};
    route_net net = {ROUTE_SCALAR, 1, 1, 1, sr, sc, NULL};
    route_result r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(run(&f, &net, 1, NULL, &r, &d), 0);
    /* 3 rows down and 5 columns across: 8 hops, each south or east. */
    assert_int_equal(r.net[0].sink_hops[0], 8);
    assert_int_equal(r.net[0].n_links, 8);
    int south = 0, east = 0;
    for (int k = 0; k < 8; k++) {
        route_link rl = route_link_decode(&f, r.net[0].links[k]);
        south += rl.dir == 2;
        east += rl.dir == 1;
    }
    assert_int_equal(south, 3);
    assert_int_equal(east, 5);
    /* And the other way round: west and north. */
    route_result_free(&r);
    int br[] = {1}, bc[] = {1};
    route_net back = {ROUTE_CONTROL, 4, 6, 1, br, bc, NULL};
    assert_int_equal(run(&f, &back, 1, NULL, &r, &d), 0);
    assert_int_equal(r.net[0].sink_hops[0], 8);
    for (int k = 0; k < 8; k++) {
        int dir = route_link_decode(&f, r.net[0].links[k]).dir;
        assert_true(dir == 0 || dir == 3);
    }
    route_result_free(&r);
    diag_free(&d);
}

static void same_switch_uses_no_link(void **state)
{
    (void)state;
    /* Even in a class with no tracks at all. */
    fab_fabric f = mesh_fabric(2, 2, 1, 0, 0);
    int sr[] = {1, 1}, sc[] = {0, 0};
    route_net nets[] = {
        {ROUTE_VECTOR, 1, 0, 1, sr, sc, "v"},
        {ROUTE_SCALAR, 1, 0, 2, sr, sc, "s"},
        {ROUTE_CONTROL, 1, 0, 1, sr, sc, "c"},
    };
    route_result r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(run(&f, nets, 3, NULL, &r, &d), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r.net[i].n_links, 0);
        assert_int_equal(r.net[i].sink_hops[0], 0);
    }
    assert_int_equal(r.total_hops, 0);
    assert_true(r.max_link_util == 0.0);
    route_result_free(&r);
    diag_free(&d);
}

static void class_without_tracks_is_an_error(void **state)
{
    (void)state;
    fab_fabric f = mesh_fabric(3, 3, 2, 0, 1);
    int sr[] = {2}, sc[] = {2};
    route_net net = {ROUTE_SCALAR, 0, 0, 1, sr, sc, "n_bound"};
    route_result r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(route_run(&f, &net, 1, NULL, &r, &d), -1);
    assert_int_equal(d.n_errors, 1);
    assert_string_equal(d.items[0].msg, "stream 'n_bound': a scalar stream from switch (0,0) to another "
                                        "switch, but fabric m3x3 has no scalar links (scalar_links = 0)");
    route_result_free(&r);   /* safe on a result that was never filled */
    diag_free(&d);
}

static void bad_nets_are_errors(void **state)
{
    (void)state;
    fab_fabric f = mesh_fabric(3, 3, 2, 1, 1);
    int sr[] = {3}, sc[] = {0};
    int ok_r[] = {1}, ok_c[] = {1};
    route_net nets[] = {
        {ROUTE_VECTOR, 0, 0, 1, sr, sc, "off"},
        {ROUTE_VECTOR, -1, 0, 1, ok_r, ok_c, "neg"},
        {ROUTE_VECTOR, 0, 0, 0, ok_r, ok_c, "none"},
    };
    route_result r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(route_run(&f, nets, 3, NULL, &r, &d), -1);
    assert_int_equal(d.n_errors, 3);
    assert_string_equal(d.items[0].msg, "stream 'off': sink switch (3,0) is outside the 3 x 3 mesh");
    assert_string_equal(d.items[1].msg, "stream 'neg': source switch (-1,0) is outside the 3 x 3 mesh");
    assert_string_equal(d.items[2].msg, "stream 'none' has no sink");
    route_result_free(&r);
    diag_free(&d);
}

/* ---------------------------------------------------------- negotiation */

/* On a 3 x 3 mesh with one vector track per link, switch (1,1) has four
 * incoming links.  Four one-hop nets end at (1,1), one from each neighbour,
 * and net "through" goes (1,0) -> (1,2), whose only shortest path also
 * enters (1,1).  Five streams want four links: first come, first served,
 * "through" takes its shortest path and one of the four is stuck.
 * PathFinder makes "through" go around, over the top or the bottom row (4
 * hops), and everyone fits. */
static void negotiation_detours_where_greedy_fails(void **state)
{
    (void)state;
    fab_fabric f = mesh_fabric(3, 3, 1, 1, 1);
    int to_r[] = {1, 1, 1, 1, 1}, to_c[] = {2, 1, 1, 1, 1};
    route_net nets[] = {
        {ROUTE_VECTOR, 1, 0, 1, &to_r[0], &to_c[0], "through"},
        {ROUTE_VECTOR, 0, 1, 1, &to_r[1], &to_c[1], "from_north"},
        {ROUTE_VECTOR, 1, 2, 1, &to_r[2], &to_c[2], "from_east"},
        {ROUTE_VECTOR, 2, 1, 1, &to_r[3], &to_c[3], "from_south"},
        {ROUTE_VECTOR, 1, 0, 1, &to_r[4], &to_c[4], "from_west"},
    };
    route_opts o;
    route_opts_default(&o);
    o.greedy = true;
    route_result r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(run(&f, nets, 5, &o, &r, &d), -1);
    assert_true(r.overused_links > 0);
    assert_int_equal(r.iterations, 1);
    /* "through" took its straight path: 2 hops. */
    assert_int_equal(r.net[0].sink_hops[0], 2);
    assert_non_null(strstr(d.items[0].msg, "over capacity after 1 iteration, worst at switch ("));
    route_result_free(&r);
    diag_free(&d);

    diag_init(&d);
    route_opts_default(&o);
    assert_int_equal(run(&f, nets, 5, &o, &r, &d), 0);
    assert_int_equal(d.n, 0);
    assert_int_equal(r.overused_links, 0);
    assert_true(r.iterations > 1);
    assert_true(r.max_link_util == 1.0);
    /* "through" detoured: 4 hops where the Manhattan distance is 2, and
     * every other net kept its one hop. */
    assert_int_equal(r.net[0].sink_hops[0], 4);
    for (int i = 1; i < 5; i++)
        assert_int_equal(r.net[i].sink_hops[0], 1);
    assert_int_equal(r.total_hops, 8);
    route_result_free(&r);
    diag_free(&d);
}

/* Three vector streams must cross from column 0 to column 1 of a 2 x 2
 * mesh; the cut has two eastward links of one track each. */
static void impossible_cut_names_the_worst_link(void **state)
{
    (void)state;
    fab_fabric f = mesh_fabric(2, 2, 1, 1, 1);
    int r0[] = {0}, r1[] = {1}, c1[] = {1};
    route_net nets[] = {
        {ROUTE_VECTOR, 0, 0, 1, r0, c1, "x"},
        {ROUTE_VECTOR, 1, 0, 1, r1, c1, "y"},
        {ROUTE_VECTOR, 0, 0, 1, r1, c1, "z"},
    };
    route_opts o;
    route_opts_default(&o);
    o.max_iters = 12;
    route_result r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(run(&f, nets, 3, &o, &r, &d), -1);
    assert_int_equal(r.iterations, 12);
    assert_int_equal(r.overused_links, 1);
    assert_true(r.max_link_util == 2.0);
    assert_int_equal(d.n_errors, 1);
    const char *m = d.items[0].msg;
    if (strcmp(m, "1 link over capacity after 12 iterations, worst at switch (0,0) east, vector: "
                  "2 streams on 1 track") != 0)
        assert_string_equal(m, "1 link over capacity after 12 iterations, worst at switch (1,0) east, "
                               "vector: 2 streams on 1 track");
    /* A note names the two streams that share it. */
    assert_int_equal(d.items[1].sev, DIAG_NOTE);
    assert_non_null(strstr(d.items[1].msg, ",0) east, vector: "));
    /* two names, quoted */
    int quotes = 0;
    for (const char *c = d.items[1].msg; *c; c++)
        quotes += *c == '\'';
    assert_int_equal(quotes, 4);
    route_result_free(&r);
    diag_free(&d);
}

static void multi_sink_tree_shares_links(void **state)
{
    (void)state;
    fab_fabric f = mesh_fabric(4, 8, 1, 1, 1);
    /* From (0,0) to (0,4), (0,6) and (2,6): one tree along row 0 then down
     * column 6, 6 + 2 = 8 links, where separate routes would take 4 + 6 +
     * 8 = 18. */
    int sr[] = {2, 0, 0}, sc[] = {6, 6, 4};
    route_net net = {ROUTE_VECTOR, 0, 0, 3, sr, sc, "bcast"};
    route_result r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(run(&f, &net, 1, NULL, &r, &d), 0);
    assert_int_equal(r.net[0].sink_hops[0], 8);
    assert_int_equal(r.net[0].sink_hops[1], 6);
    assert_int_equal(r.net[0].sink_hops[2], 4);
    assert_int_equal(r.net[0].n_links, 8);
    assert_int_equal(r.total_hops, 8);
    assert_int_equal(r.max_hops, 8);
    /* One track suffices: a tree uses each link once. */
    assert_true(r.max_link_util == 1.0);
    route_result_free(&r);
    diag_free(&d);
}

/* Random congested nets on an 8 x 8 mesh. */
static route_net *random_nets(prng *p, const fab_fabric *f, int n, int **rows, int **cols)
{
    route_net *nets = calloc((size_t)n, sizeof *nets);
    *rows = calloc((size_t)n * 3, sizeof **rows);
    *cols = calloc((size_t)n * 3, sizeof **cols);
    for (int i = 0; i < n; i++) {
        nets[i].cls = prng_below(p, 4) == 0 ? ROUTE_SCALAR : ROUTE_VECTOR;
        nets[i].src_row = (int)prng_below(p, (uint64_t)f->rows);
        nets[i].src_col = (int)prng_below(p, (uint64_t)f->cols);
        nets[i].n_sinks = 1 + (int)prng_below(p, 3);
        for (int k = 0; k < nets[i].n_sinks; k++) {
            (*rows)[3 * i + k] = (int)prng_below(p, (uint64_t)f->rows);
            (*cols)[3 * i + k] = (int)prng_below(p, (uint64_t)f->cols);
        }
        nets[i].sink_row = &(*rows)[3 * i];
        nets[i].sink_col = &(*cols)[3 * i];
    }
    return nets;
}

static void routing_is_deterministic(void **state)
{
    (void)state;
    fab_fabric f = mesh_fabric(8, 8, 2, 2, 1);
    prng p;
    prng_seed(&p, 42);
    int *rows, *cols;
    route_net *nets = random_nets(&p, &f, 50, &rows, &cols);
    route_result a, b;
    diag_list d;
    diag_init(&d);
    int ra = run(&f, nets, 50, NULL, &a, &d);
    int rb = run(&f, nets, 50, NULL, &b, &d);
    assert_int_equal(ra, rb);
    /* 50 nets on 8 x 8 with 2 tracks is congested (iterations > 1) but routable. */
    assert_int_equal(ra, 0);
    assert_true(a.iterations > 1);
    assert_int_equal(a.iterations, b.iterations);
    assert_int_equal(a.total_hops, b.total_hops);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(a.net[i].n_links, b.net[i].n_links);
        assert_memory_equal(a.net[i].links, b.net[i].links, (size_t)a.net[i].n_links * sizeof(int));
        assert_memory_equal(a.net[i].sink_hops, b.net[i].sink_hops, (size_t)nets[i].n_sinks * sizeof(int));
    }
    assert_memory_equal(a.link_use, b.link_use, (size_t)a.n_links * sizeof(int));
    route_result_free(&a);
    route_result_free(&b);
    free(nets);
    free(rows);
    free(cols);
    diag_free(&d);
}

/* With tracks to spare nothing negotiates: one iteration, and every
 * single-sink net takes a shortest path. */
static void uncongested_nets_take_shortest_paths(void **state)
{
    (void)state;
    fab_fabric f = mesh_fabric(9, 11, 64, 64, 64);
    prng p;
    prng_seed(&p, 3);
    enum { N = 200 };
    int rows[N], cols[N];
    route_net nets[N];
    for (int i = 0; i < N; i++) {
        nets[i].cls = (route_class)prng_below(&p, 3);
        nets[i].src_row = (int)prng_below(&p, 9);
        nets[i].src_col = (int)prng_below(&p, 11);
        rows[i] = (int)prng_below(&p, 9);
        cols[i] = (int)prng_below(&p, 11);
        nets[i].n_sinks = 1;
        nets[i].sink_row = &rows[i];
        nets[i].sink_col = &cols[i];
        nets[i].name = NULL;
    }
    route_result r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(run(&f, nets, N, NULL, &r, &d), 0);
    assert_int_equal(r.iterations, 1);
    long manhattan = 0;
    for (int i = 0; i < N; i++) {
        int m = abs(rows[i] - nets[i].src_row) + abs(cols[i] - nets[i].src_col);
        assert_int_equal(r.net[i].sink_hops[0], m);
        assert_int_equal(r.net[i].n_links, m);
        manhattan += m;
    }
    assert_int_equal(r.total_hops, manhattan);
    assert_true(r.max_link_util <= 1.0);
    route_result_free(&r);
    diag_free(&d);
}

static void no_nets_is_a_legal_routing(void **state)
{
    (void)state;
    fab_fabric f = mesh_fabric(2, 3, 1, 1, 1);
    route_result r;
    diag_list d;
    diag_init(&d);
    assert_int_equal(run(&f, NULL, 0, NULL, &r, &d), 0);
    assert_int_equal(r.iterations, 1);
    assert_int_equal(r.total_hops, 0);
    route_result_free(&r);
    diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(link_ids_decode_and_capacities),
        cmocka_unit_test(straight_route),
        cmocka_unit_test(l_shaped_route),
        cmocka_unit_test(same_switch_uses_no_link),
        cmocka_unit_test(class_without_tracks_is_an_error),
        cmocka_unit_test(bad_nets_are_errors),
        cmocka_unit_test(negotiation_detours_where_greedy_fails),
        cmocka_unit_test(impossible_cut_names_the_worst_link),
        cmocka_unit_test(multi_sink_tree_shares_links),
        cmocka_unit_test(routing_is_deterministic),
        cmocka_unit_test(uncongested_nets_take_shortest_paths),
        cmocka_unit_test(no_nets_is_a_legal_routing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
