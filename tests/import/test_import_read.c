/*
 * test_import_read.c — the Morpher XML and CGRA-ME DOT readers: the
 * sample graphs as they are, and small inline cases of every kind of
 * malformed input (truncated, unknown opcode, dangling edge, duplicate id,
 * a cycle without a loop-carried edge), each expected at its line.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mapper/import/import.h"
#include "util/prng.h"

#ifndef DFGS_DIR
#error "DFGS_DIR must name tests/data/dfgs"
#endif

/* ----------------------------------------------------------------- helpers */

/* The first diagnostic of severity sev whose message contains text, or NULL. */
static const diag *find_diag(const diag_list *d, diag_severity sev, const char *text)
{
    for (int i = 0; i < d->n; i++)
        if (d->items[i].sev == sev && strstr(d->items[i].msg, text))
            return &d->items[i];
    return NULL;
}

static int count_sev(const diag_list *d, diag_severity sev)
{
    int n = 0;
    for (int i = 0; i < d->n; i++)
        n += d->items[i].sev == sev;
    return n;
}

static int find_edge(const imp_graph *g, const char *src, const char *dst)
{
    for (int e = 0; e < g->n_edges; e++)
        if (strcmp(g->node[g->edge[e].src].name, src) == 0 && strcmp(g->node[g->edge[e].dst].name, dst) == 0)
            return e;
    return -1;
}

static int find_node(const imp_graph *g, const char *name)
{
    for (int v = 0; v < g->n_nodes; v++)
        if (strcmp(g->node[v].name, name) == 0)
            return v;
    return -1;
}

/* Load text; expect failure with an error containing `text` at `line`. */
static void expect_error(const char *name, const char *src, const char *text, int line)
{
    diag_list d;
    diag_init(&d);
    imp_graph g;
    int rc = imp_load_string(name, src, &g, &d);
    if (rc == 0 || !find_diag(&d, DIAG_ERROR, text)) {
        diag_print(stderr, &d);
        fail_msg("%s: expected an error containing \"%s\"", name, text);
    }
    const diag *e = find_diag(&d, DIAG_ERROR, text);
    assert_int_equal(e->loc.line, line);
    assert_string_equal(e->loc.file, name);
    imp_graph_free(&g);
    diag_free(&d);
}

static void load_ok(const char *name, const char *src, imp_graph *g, diag_list *d)
{
    diag_init(d);
    int rc = imp_load_string(name, src, g, d);
    if (rc != 0) {
        diag_print(stderr, d);
        fail_msg("%s did not load", name);
    }
}

/* -------------------------------------------------------- Morpher samples */

static void morpher_mac_reads_as_written(void **state)
{
    (void)state;
    diag_list d;
    diag_init(&d);
    imp_graph g;
    bool io = true;
    assert_int_equal(imp_load(DFGS_DIR "/morpher/mac.xml", &g, &d, &io), 0);
    assert_false(io);
    assert_int_equal(g.format, IMP_MORPHER_XML);
    assert_int_equal(g.n_nodes, 10);
    assert_int_equal(g.n_edges, 14);
    int loops = 0;
    for (int e = 0; e < g.n_edges; e++)
        loops += g.edge[e].distance == 1;
    assert_int_equal(loops, 4);
    int add = find_node(&g, "4");
    assert_true(add >= 0);
    assert_string_equal(g.node[add].op, "ADD");
    assert_true(g.node[add].has_const);
    assert_int_equal(g.node[add].const_value, 1);
    assert_int_equal(g.node[add].asap, 1);
    assert_int_equal(g.node[add].alap, 2);
    assert_int_equal(g.node[add].line, 15);
    int self = find_edge(&g, "4", "4");
    assert_true(self >= 0);
    assert_int_equal(g.edge[self].distance, 1);
    int pred = find_edge(&g, "5", "8");
    assert_true(pred >= 0);
    assert_true(g.edge[pred].predicate);
    assert_int_equal(g.edge[pred].distance, 0);
    /* the run-together attributes are one warning, at the first line */
    const diag *w = find_diag(&d, DIAG_WARNING, "run together");
    assert_non_null(w);
    assert_int_equal(w->loc.line, 4);
    assert_non_null(strstr(w->msg, "(15 occasions) on lines 4, 15, 31, 44, 57, 70, 82, 94, 107, 121;"));
    assert_int_equal(count_sev(&d, DIAG_ERROR), 0);
    imp_graph_free(&g);
    diag_free(&d);
}

static void morpher_matrixmultiply_is_recovered_at_line_24(void **state)
{
    (void)state;
    diag_list d;
    diag_init(&d);
    imp_graph g;
    assert_int_equal(imp_load(DFGS_DIR "/morpher/matrixmultiply.xml", &g, &d, NULL), 0);
    const diag *w = find_diag(&d, DIAG_WARNING, "malformed XML, recovered");
    bool at_24 = false;
    for (int i = 0; i < d.n; i++)
        at_24 |= d.items[i].sev == DIAG_WARNING && d.items[i].loc.line == 24;
    assert_non_null(w);
    assert_true(at_24);
    /* both run-together <Output>s survive, loop-carried */
    int a = find_edge(&g, "4", "7"), b = find_edge(&g, "4", "11");
    assert_true(a >= 0 && b >= 0);
    assert_int_equal(g.edge[a].distance, 1);
    assert_int_equal(g.edge[b].distance, 1);
    assert_int_equal(g.n_nodes, 10);
    imp_graph_free(&g);
    diag_free(&d);
}

/* Every Morpher sample reads.  dct and gemm_nt declare one idx twice; they
 * read as Morpher reads them, with one warning at the twin's line. */
static void morpher_samples_all_read(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        int nodes;
        int twin_line;     /* line of a duplicate idx, 0 when none */
        const char *twin;  /* its name in the graph */
    } cases[] = {
        {"accumulate.xml", 15, 0, NULL},  {"array_add.xml", 20, 0, NULL}, {"cap.xml", 18, 0, NULL},
        {"conv2.xml", 12, 0, NULL},       {"conv3.xml", 17, 0, NULL},     {"fix_fft.xml", 58, 0, NULL},
        {"mac.xml", 10, 0, NULL},         {"mac2.xml", 20, 0, NULL},      {"matrixmultiply.xml", 10, 0, NULL},
        {"mults1.xml", 15, 0, NULL},      {"mults2.xml", 19, 0, NULL},    {"sum.xml", 7, 0, NULL},
        {"dct.xml", 88, 1192, "88#2"},    {"gemm_nt.xml", 52, 687, "52#2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, DFGS_DIR "/morpher/%s", cases[i].file);
        diag_list d;
        diag_init(&d);
        imp_graph g;
        int rc = imp_load(path, &g, &d, NULL);
        if (rc != 0)
            diag_print(stderr, &d);
        assert_int_equal(rc, 0);
        assert_int_equal(g.n_nodes, cases[i].nodes);
        for (int v = 0; v < g.n_nodes; v++)
            assert_non_null(g.node[v].info);
        const diag *w = find_diag(&d, DIAG_WARNING, "duplicate node idx");
        if (cases[i].twin_line == 0) {
            assert_null(w);
        } else {
            assert_non_null(w);
            assert_int_equal(w->loc.line, cases[i].twin_line);
            int twin = find_node(&g, cases[i].twin);
            assert_true(twin >= 0);
            assert_int_equal(g.node[twin].line, cases[i].twin_line);
            assert_string_equal(g.node[twin].op, "STOREB");
            for (int e = 0; e < g.n_edges; e++)
                assert_true(g.edge[e].src != twin && g.edge[e].dst != twin);
        }
        imp_graph_free(&g);
        diag_free(&d);
        /* --strict refuses the twin at its line, naming the first */
        if (cases[i].twin_line) {
            imp_read_opts strict = {.strict = true};
            diag_init(&d);
            assert_int_equal(imp_load_with(path, &strict, &g, &d, NULL), -1);
            const diag *e = find_diag(&d, DIAG_ERROR, "duplicate node idx");
            assert_non_null(e);
            assert_int_equal(e->loc.line, cases[i].twin_line);
            assert_non_null(strstr(e->msg, "--strict"));
            imp_graph_free(&g);
            diag_free(&d);
        }
    }
}
/* --------------------------------------------------- Morpher, malformed */

#define NODE(idx, op, outputs) \
    "<Node idx=\"" idx "\" ASAP=\"0\" ALAP=\"0\"BB=\"b\">\n<OP>" op "</OP>\n<Inputs>\n</Inputs>\n<Outputs>\n" \
    outputs "</Outputs>\n</Node>\n"
#define OUT(idx, next) "\t<Output idx=\"" idx "\" nextiter=\"" next "\" type=\"I1\"/>\n"

static void morpher_truncated_file_is_an_error(void **state)
{
    (void)state;
    /* cut inside the second node */
    expect_error("cut.xml",
                 "<DFG count=\"2\">\n" NODE("1", "LOAD", OUT("2", "0")) "<Node idx=\"2\" ASAP=\"0\">\n<OP>ADD</OP>\n<Inp",
                 "truncated", 12);
    /* cut after a whole node: the count says what is missing */
    expect_error("short.xml", "<DFG count=\"3\">\n" NODE("1", "LOAD", "") NODE("2", "ADD", "") "</DFG>\n",
                 "count=\"3\"", 1);
    /* nothing but a start */
    expect_error("start.xml", "<DFG count=\"1\">\n<Node idx=\"1\"", "truncated", 2);
}

static void morpher_unknown_opcode_names_it(void **state)
{
    (void)state;
    expect_error("op.xml", "<DFG count=\"2\">\n" NODE("1", "LOAD", OUT("2", "0")) NODE("2", "FROB", "") "</DFG>\n",
                 "unknown opcode 'FROB' (node 2)", 10);
}

static void morpher_dangling_edge_is_an_error(void **state)
{
    (void)state;
    expect_error("dangle.xml", "<DFG count=\"1\">\n" NODE("1", "ADD", OUT("9", "0")) "</DFG>\n",
                 "dangling edge: node 1 has an output to node 9", 7);
}

/* A duplicate idx is read as Morpher's DFG::parseXML reads it: findNode
 * returns the first node with an idx, so the twin's <Output>s and every
 * edge to the idx belong to the first; the twin stays, with no edge. */
static void morpher_duplicate_idx_is_read_as_morpher_reads_it(void **state)
{
    (void)state;
    /* lines: 1 <DFG>; node 1 at 2; node 2 (ADD) at 10; its twin (MUL) at 18,
     * whose <Output> to 4 is at line 23; node 3 at 26; node 4 at 33 */
    const char *text = "<DFG count=\"5\">\n" NODE("1", "LOAD", OUT("2", "0")) NODE("2", "ADD", OUT("3", "0"))
        NODE("2", "MUL", OUT("4", "0")) NODE("3", "STORE", "") NODE("4", "STORE", "") "</DFG>\n";
    imp_graph g;
    diag_list d;
    load_ok("dup.xml", text, &g, &d);
    assert_int_equal(count_sev(&d, DIAG_ERROR), 0);
    assert_int_equal(g.n_nodes, 5);
    int first = find_node(&g, "2"), twin = find_node(&g, "2#2");
    assert_true(first >= 0 && twin >= 0);
    assert_string_equal(g.node[first].op, "ADD");
    assert_int_equal(g.node[first].line, 10);
    assert_string_equal(g.node[twin].op, "MUL");
    assert_int_equal(g.node[twin].line, 18);
    /* the edge to idx 2 goes to the first node; the twin's output is the first's */
    assert_true(find_edge(&g, "1", "2") >= 0);
    assert_true(find_edge(&g, "2", "3") >= 0);
    int owned = find_edge(&g, "2", "4");
    assert_true(owned >= 0);
    assert_int_equal(g.edge[owned].line, 23);
    assert_int_equal(g.n_edges, 3);
    for (int e = 0; e < g.n_edges; e++)
        assert_true(g.edge[e].src != twin && g.edge[e].dst != twin);
    /* the repair is one warning at the twin's line */
    const diag *w = find_diag(&d, DIAG_WARNING, "duplicate node idx 2 (first declared at line 10)");
    assert_non_null(w);
    assert_int_equal(w->loc.line, 18);
    assert_non_null(strstr(w->msg, "2#2"));
    imp_graph_free(&g);
    diag_free(&d);
    /* a third declaration is 2#3 */
    load_ok("dup3.xml", "<DFG count=\"3\">\n" NODE("2", "ADD", "") NODE("2", "SUB", "") NODE("2", "OR", "") "</DFG>\n",
            &g, &d);
    assert_int_equal(g.n_nodes, 3);
    assert_string_equal(g.node[find_node(&g, "2#3")].op, "OR");
    imp_graph_free(&g);
    diag_free(&d);
    /* --strict: today's refusal, at the twin's line */
    imp_read_opts strict = {.strict = true};
    diag_init(&d);
    assert_int_equal(imp_load_string_with("dup.xml", text, &strict, &g, &d), -1);
    const diag *e = find_diag(&d, DIAG_ERROR, "duplicate node idx 2 (first declared at line 10)");
    assert_non_null(e);
    assert_int_equal(e->loc.line, 18);
    imp_graph_free(&g);
    diag_free(&d);
}
static void morpher_cycle_needs_a_loop_carried_edge(void **state)
{
    (void)state;
    expect_error("comb.xml",
                 "<DFG count=\"2\">\n" NODE("1", "ADD", OUT("2", "0")) NODE("2", "ADD", OUT("1", "0")) "</DFG>\n",
                 "combinational loop", 2);
    /* the same cycle, closed by nextiter="1", is a recurrence */
    imp_graph g;
    diag_list d;
    load_ok("rec.xml", "<DFG count=\"2\">\n" NODE("1", "ADD", OUT("2", "0")) NODE("2", "ADD", OUT("1", "1")) "</DFG>\n",
            &g, &d);
    assert_int_equal(g.edge[find_edge(&g, "2", "1")].distance, 1);
    imp_graph_free(&g);
    diag_free(&d);
}

static void morpher_well_formed_file_reads_without_warnings(void **state)
{
    (void)state;
    imp_graph g;
    diag_list d;
    load_ok("clean.xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- written by hand -->\n<DFG count=\"2\">\n"
            "<Node idx=\"1\" ASAP=\"0\" ALAP=\"0\" CONST=\"7\">\n<OP>MUL</OP>\n<Outputs>\n" OUT("2", "0")
            "</Outputs>\n</Node>\n<Node idx=\"2\" ASAP=\"1\" ALAP=\"1\">\n<OP>OSTORE</OP>\n"
            "<Inputs>\n<Input idx=\"1\"/>\n</Inputs>\n</Node>\n</DFG>\n",
            &g, &d);
    if (d.n != 0)
        diag_print(stderr, &d);
    assert_int_equal(d.n, 0);
    assert_int_equal(g.n_nodes, 2);
    assert_int_equal(g.n_edges, 1);
    assert_int_equal(g.node[0].line, 4);
    assert_int_equal(g.node[1].line, 10);
    imp_graph_free(&g);
    diag_free(&d);
}

static void morpher_missing_dfg_and_garbage(void **state)
{
    (void)state;
    expect_error("nodfg.xml", "<MutexBB>\n</MutexBB>\n", "no <DFG>", 1);
    expect_error("junk.txt", "\n\nhello world\n", "neither a Morpher DFG XML", 3);
    expect_error("edge.xml", "<DFG count=\"1\">\n" NODE("1", "ADD", OUT("1", "x")) "</DFG>\n",
                 "nextiter=\"x\"", 7);
}

/* ------------------------------------------------------------ CGRA-ME DOT */

static const char *dot_mac =
    "// a multiply-accumulate\n"
    "digraph G {\n"
    "  a[opcode=input];\n"
    "  b[opcode=load];\n"
    "  k[opcode=const, value=3];\n"
    "  m[opcode=mul];\n"
    "  acc[opcode=add];\n"
    "  o[opcode=output];\n"
    "  a -> m[operand=0];\n"
    "  b -> m[operand=1];\n"
    "  m -> acc[operand=0];\n"
    "  acc -> acc[operand=1, backedge=true];\n"
    "  k -> b[operand=0];\n"
    "  acc -> o[operand=0];\n"
    "}\n";

static void dot_reads_nodes_edges_and_attributes(void **state)
{
    (void)state;
    imp_graph g;
    diag_list d;
    load_ok("mac.dot", dot_mac, &g, &d);
    assert_int_equal(g.format, IMP_CGRAME_DOT);
    assert_int_equal(g.n_nodes, 6);
    assert_int_equal(g.n_edges, 6);
    int k = find_node(&g, "k");
    assert_int_equal(g.node[k].info->cls, IMP_IMMEDIATE);
    assert_true(g.node[k].has_const);
    assert_int_equal(g.node[k].const_value, 3);
    assert_int_equal(g.node[k].line, 5);
    assert_int_equal(g.node[find_node(&g, "a")].info->cls, IMP_INPUT);
    assert_int_equal(g.node[find_node(&g, "o")].info->cls, IMP_OUTPUT);
    int e = find_edge(&g, "b", "m");
    assert_int_equal(g.edge[e].operand, 1);
    assert_int_equal(g.edge[e].line, 10);
    assert_int_equal(g.edge[find_edge(&g, "acc", "acc")].distance, 1);
    assert_int_equal(g.edge[find_edge(&g, "m", "acc")].distance, 0);
    imp_graph_free(&g);
    diag_free(&d);
}

static void dot_syntax_error_has_its_line(void **state)
{
    (void)state;
    expect_error("syntax.dot", "digraph G {\n  a[opcode=add];\n  a -> ;\n}\n", "DOT syntax", 3);
}

static void dot_truncated_is_an_error(void **state)
{
    (void)state;
    diag_list d;
    diag_init(&d);
    imp_graph g;
    assert_int_equal(imp_load_string("cut.dot", "digraph G {\n  a[opcode=add];\n  a -> b[oper", &g, &d), -1);
    assert_true(count_sev(&d, DIAG_ERROR) >= 1);
    assert_true(d.items[0].loc.line >= 1 && d.items[0].loc.line <= 3);
    imp_graph_free(&g);
    diag_free(&d);
}

static void dot_unknown_opcode_names_it(void **state)
{
    (void)state;
    expect_error("op.dot", "digraph G {\n  a[opcode=add];\n  b[opcode=frobnicate];\n  a -> b;\n}\n",
                 "unknown opcode 'frobnicate' (node b)", 3);
}

static void dot_undeclared_node_is_a_dangling_edge(void **state)
{
    (void)state;
    expect_error("dangle.dot", "digraph G {\n  a[opcode=add];\n  a -> ghost[operand=0];\n}\n",
                 "dangling edge: node 'ghost'", 3);
}

static void dot_duplicate_declaration_is_an_error(void **state)
{
    (void)state;
    expect_error("dup.dot", "digraph G {\n  a[opcode=add];\n  b[opcode=mul];\n  a[opcode=sub];\n  a -> b;\n}\n",
                 "duplicate node 'a' (first declared at line 2)", 4);
}

/* Load with --strict; expect an error containing text at line. */
static void expect_strict_error(const char *name, const char *src, const char *text, int line)
{
    imp_read_opts strict = {.strict = true};
    diag_list d;
    diag_init(&d);
    imp_graph g;
    if (imp_load_string_with(name, src, &strict, &g, &d) == 0 || !find_diag(&d, DIAG_ERROR, text)) {
        diag_print(stderr, &d);
        fail_msg("%s: expected an error containing \"%s\" with --strict", name, text);
    }
    assert_int_equal(find_diag(&d, DIAG_ERROR, text)->loc.line, line);
    imp_graph_free(&g);
    diag_free(&d);
}

/* The loop-carried edges of a DOT graph: exactly the edges named "src>dst"
 * in `carried` (space-separated) have distance >= 1. */
static void expect_carried(const imp_graph *g, const char *carried)
{
    for (int e = 0; e < g->n_edges; e++) {
        char key[128];
        snprintf(key, sizeof key, " %s>%s ", g->node[g->edge[e].src].name, g->node[g->edge[e].dst].name);
        char list[256];
        snprintf(list, sizeof list, " %s ", carried);
        bool want = strstr(list, key) != NULL;
        if ((g->edge[e].distance > 0) != want)
            fail_msg("edge%s has distance %d (expected the loop-carried edges: %s)", key, g->edge[e].distance,
                     carried);
    }
}

static void dot_plain_cycles_are_loop_carried(void **state)
{
    (void)state;
    imp_graph g;
    diag_list d;
    /* no source reaches the ring: the search starts at a, the first node
     * in the file, and b -> a closes the cycle */
    const char *ring = "digraph G {\n  a[opcode=add];\n  b[opcode=mul];\n  a -> b[operand=0];\n  b -> a[operand=0];\n}\n";
    load_ok("ring.dot", ring, &g, &d);
    expect_carried(&g, "b>a");
    const diag *n = find_diag(&d, DIAG_NOTE, "edge b -> a closes a cycle");
    assert_non_null(n);
    assert_int_equal(n->loc.line, 5);
    imp_graph_free(&g);
    diag_free(&d);
    /* --strict: the cycle is the combinational loop it was before */
    expect_strict_error("ring.dot", ring, "combinational loop", 2);

    /* the search starts from the sources: s reaches a first, so b -> a
     * closes the cycle, although b is the first node of the file */
    load_ok("src.dot",
            "digraph G {\n  b[opcode=add];\n  a[opcode=add];\n  s[opcode=input];\n"
            "  s -> a;\n  a -> b;\n  b -> a;\n}\n", &g, &d);
    expect_carried(&g, "b>a");
    imp_graph_free(&g);
    diag_free(&d);

    /* out-edges in statement order: s -> q (line 3) is followed before
     * s -> p (line 4), so p -> q closes the cycle (by head node, p being
     * declared first, it would have been q -> p) */
    load_ok("order.dot",
            "digraph G {\n  s[opcode=input]; p[opcode=add]; q[opcode=add];\n  s -> q;\n  s -> p;\n"
            "  p -> q;\n  q -> p;\n}\n", &g, &d);
    expect_carried(&g, "p>q");
    assert_int_equal(find_diag(&d, DIAG_NOTE, "edge p -> q closes a cycle")->loc.line, 5);
    imp_graph_free(&g);
    diag_free(&d);

    /* many cycles: a note for each of the first 20, then one that counts
     * the rest; every one of them is loop-carried */
    char many[4096] = "digraph G {\n";
    for (int k = 0; k < 25; k++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "  n%d[opcode=add];\n  n%d -> n%d;\n", k, k, k);
    strcat(many, "}\n");
    load_ok("many.dot", many, &g, &d);
    for (int e = 0; e < g.n_edges; e++)
        assert_int_equal(g.edge[e].distance, 1);
    assert_int_equal(count_sev(&d, DIAG_NOTE), 21);
    assert_non_null(find_diag(&d, DIAG_NOTE, "5 more edges close a cycle and are read as loop-carried (25 in all)"));
    imp_graph_free(&g);
    diag_free(&d);

    /* two cycles through one node: both back edges found */
    load_ok("two.dot",
            "digraph G {\n  i[opcode=input]; a[opcode=add]; b[opcode=add]; c[opcode=add];\n"
            "  i -> a;\n  a -> b;\n  b -> a;\n  a -> c;\n  c -> a;\n}\n", &g, &d);
    expect_carried(&g, "b>a c>a");
    imp_graph_free(&g);
    diag_free(&d);
}

static void dot_self_loop_is_loop_carried(void **state)
{
    (void)state;
    imp_graph g;
    diag_list d;
    const char *acc = "digraph G {\n  l[opcode=load];\n  s[opcode=add];\n  l -> s[operand=0];\n"
                      "  s -> s[operand=1];\n}\n";
    load_ok("acc.dot", acc, &g, &d);
    expect_carried(&g, "s>s");
    assert_int_equal(g.edge[find_edge(&g, "s", "s")].distance, 1);
    assert_int_equal(find_diag(&d, DIAG_NOTE, "edge s -> s closes a cycle")->loc.line, 5);
    imp_graph_free(&g);
    diag_free(&d);
    expect_strict_error("acc.dot", acc, "combinational loop: the cycle s -> s", 3);
}

/* The explicit marks come first and are kept: a phi closes its cycle, and
 * dist= / backedge= keep their distance; the search then finds nothing. */
static void dot_explicit_loop_carried_edges_are_kept(void **state)
{
    (void)state;
    imp_graph g;
    diag_list d;
    load_ok("phi.dot",
            "digraph G {\n  p[opcode=phi];\n  i[opcode=input];\n  a[opcode=add];\n  i -> p;\n  p -> a;\n  a -> p;\n}\n",
            &g, &d);
    expect_carried(&g, "a>p");
    assert_null(find_diag(&d, DIAG_NOTE, "closes a cycle"));
    imp_graph_free(&g);
    diag_free(&d);
    /* b -> a is marked dist=2: the plain a -> b stays same-iteration,
     * though a search from a would have chosen b -> a anyway, and from b
     * it would have chosen a -> b */
    load_ok("dist.dot", "digraph G {\n  b[opcode=add];\n  a[opcode=add];\n  a -> b;\n  b -> a[dist=2];\n}\n",
            &g, &d);
    assert_int_equal(g.edge[find_edge(&g, "b", "a")].distance, 2);
    expect_carried(&g, "b>a");
    assert_null(find_diag(&d, DIAG_NOTE, "closes a cycle"));
    imp_graph_free(&g);
    diag_free(&d);
    load_ok("back.dot", "digraph G {\n  b[opcode=add];\n  a[opcode=add];\n  b -> a;\n  a -> b[backedge=true];\n}\n",
            &g, &d);
    expect_carried(&g, "a>b");
    assert_int_equal(g.edge[find_edge(&g, "a", "b")].distance, 1);
    imp_graph_free(&g);
    diag_free(&d);
    /* --strict keeps them too */
    imp_read_opts strict = {.strict = true};
    diag_init(&d);
    assert_int_equal(imp_load_string_with("dist.dot", "digraph G {\n  a[opcode=add];\n  b[opcode=add];\n  a -> b;\n"
                                          "  b -> a[dist=2];\n}\n", &strict, &g, &d), 0);
    imp_graph_free(&g);
    diag_free(&d);
}

/* CGRA-ME's own files: every loop-carried dependence is a self-loop. */
static void cgrame_samples_read_with_their_self_loops(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        int nodes, edges;
        const char *carried;
    } cases[] = {
        {"accum.dot", 18, 22, "add0>add0 add16>add16"},
        {"sum.dot", 7, 8, "add3>add3 add5>add5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, DFGS_DIR "/cgrame/%s", cases[i].file);
        imp_graph g;
        diag_list d;
        diag_init(&d);
        if (imp_load(path, &g, &d, NULL) != 0) {
            diag_print(stderr, &d);
            fail_msg("%s did not read", cases[i].file);
        }
        assert_int_equal(g.format, IMP_CGRAME_DOT);
        assert_int_equal(g.n_nodes, cases[i].nodes);
        assert_int_equal(g.n_edges, cases[i].edges);
        expect_carried(&g, cases[i].carried);
        assert_int_equal(count_sev(&d, DIAG_WARNING), 0);
        assert_int_equal(count_sev(&d, DIAG_NOTE), 2);
        imp_graph_free(&g);
        diag_free(&d);
        imp_read_opts strict = {.strict = true};
        diag_init(&d);
        assert_int_equal(imp_load_with(path, &strict, &g, &d, NULL), -1);
        assert_non_null(find_diag(&d, DIAG_ERROR, "combinational loop"));
        imp_graph_free(&g);
        diag_free(&d);
    }
}
static void dot_undirected_graph_is_refused(void **state)
{
    (void)state;
    expect_error("undirected.dot", "graph G {\n  a[opcode=add];\n  b[opcode=add];\n  a -- b;\n}\n", "undirected", 1);
}

/* ----------------------------------------------------- the opcode table */

static void every_opcode_is_found_in_any_case(void **state)
{
    (void)state;
    assert_true(imp_opcode_count() >= 50);
    for (int i = 0; i < imp_opcode_count(); i++) {
        const imp_opcode *op = imp_opcode_at(i);
        assert_ptr_equal(imp_opcode_find(op->name), op);
        char upper[32];
        size_t n = strlen(op->name);
        assert_true(n < sizeof upper);
        for (size_t k = 0; k <= n; k++)
            upper[k] = (char)(op->name[k] >= 'a' && op->name[k] <= 'z' ? op->name[k] - 32 : op->name[k]);
        assert_ptr_equal(imp_opcode_find(upper), op);
        assert_non_null(op->meaning);
        /* no name twice */
        for (int j = 0; j < i; j++)
            assert_string_not_equal(imp_opcode_at(j)->name, op->name);
    }
    assert_null(imp_opcode_find("frobnicate"));
    assert_int_equal(imp_opcode_find("OSTORE")->cls, IMP_STORE);
    assert_int_equal(imp_opcode_find("LOADB")->cls, IMP_LOAD);
    assert_int_equal(imp_opcode_find("MOVC")->cls, IMP_IMMEDIATE);
    assert_int_equal(imp_opcode_find("icmp")->cls, IMP_COMPUTE);
}

/* Every opcode of the tools' own lists (imp_opcode.c cites where each list
 * is) is in the table, in the class it must have. */
static void the_tools_whole_opcode_sets_are_accepted(void **state)
{
    (void)state;
    static const char *morpher[] = {
        "NOP", "ADD", "SUB", "MUL", "SEXT", "DIV", "LS", "RS", "ARS", "AND", "OR", "XOR", "SELECT", "CMERGE",
        "CMP", "PCMP", "NCMP", "CLT", "BR", "CGT", "LOADCL", "MOVCL", "LOAD", "LOADH", "LOADB", "STORE",
        "STOREH", "STOREB", "JUMPL", "MOVC", "OLOADCL", "OLOAD", "OLOADH", "OLOADB", "OSTORE", "OSTOREH",
        "OSTOREB", "ENDL",
    };
    static const char *cgrame[] = {
        "nop", "input", "output", "const", "trunc", "sext", "zext", "phi", "add", "sub", "mul", "div", "and",
        "or", "xor", "shl", "shra", "shrl", "gep", "icmp", "load", "store", "shr", "input_pred", "output_pred",
        "mult", "ashr", "lshr", "br", "cmp", "sqrt", "fadd", "fmul", "fdiv", "fp2int", "int2fp", "select",
        "mulu_full_lo", "mulu_half_lo", "mulu_quart_lo", "mulu_full_hi", "mulu_half_hi", "mulu_quart_hi",
        "muls_full_lo", "muls_half_lo", "muls_quart_lo", "muls_full_hi", "muls_half_hi", "muls_quart_hi",
        "add_full", "add_half", "add_quart", "addrcal", "get_real", "get_imag", "combine",
    };
    for (size_t i = 0; i < sizeof morpher / sizeof morpher[0]; i++) {
        const imp_opcode *op = imp_opcode_find(morpher[i]);
        if (!op)
            fail_msg("Morpher opcode %s is not in the table", morpher[i]);
        assert_true(strcmp(op->tools, "Morpher") == 0 || strcmp(op->tools, "both") == 0);
        bool load = strstr(morpher[i], "LOAD") != NULL, store = strstr(morpher[i], "STORE") != NULL;
        assert_int_equal(op->cls, load ? IMP_LOAD : store ? IMP_STORE
                                  : strcmp(morpher[i], "MOVC") == 0 ? IMP_IMMEDIATE : IMP_COMPUTE);
    }
    for (size_t i = 0; i < sizeof cgrame / sizeof cgrame[0]; i++) {
        const imp_opcode *op = imp_opcode_find(cgrame[i]);
        if (!op)
            fail_msg("CGRA-ME opcode %s is not in the table", cgrame[i]);
        assert_true(strcmp(op->tools, "CGRA-ME") == 0 || strcmp(op->tools, "both") == 0);
        imp_op_class want = strncmp(cgrame[i], "input", 5) == 0    ? IMP_INPUT
                            : strncmp(cgrame[i], "output", 6) == 0 ? IMP_OUTPUT
                            : strcmp(cgrame[i], "const") == 0      ? IMP_IMMEDIATE
                            : strcmp(cgrame[i], "load") == 0       ? IMP_LOAD
                            : strcmp(cgrame[i], "store") == 0      ? IMP_STORE
                                                                   : IMP_COMPUTE;
        assert_int_equal(op->cls, want);
    }
    /* found in no list of either tool: still an error that names it */
    expect_error("incr.dot", "digraph G {\n  a[opcode=incr];\n}\n", "unknown opcode 'incr' (node a)", 2);
}

/* ------------------------------------------ the libraries never print */

static void readers_never_print(void **state)
{
    (void)state;
    fflush(stderr);
    int saved = dup(2);
    FILE *sink = tmpfile();
    assert_non_null(sink);
    dup2(fileno(sink), 2);
    diag_list d;
    diag_init(&d);
    imp_graph g;
    imp_load(DFGS_DIR "/morpher/matrixmultiply.xml", &g, &d, NULL);
    imp_graph_free(&g);
    imp_load_string("bad.xml", "<DFG count=\"1\">\n<Node idx=\"1\"<<<>", &g, &d);
    imp_graph_free(&g);
    imp_load_string("bad.dot", "digraph { a -> ; ] }", &g, &d);
    imp_graph_free(&g);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fseek(sink, 0, SEEK_END);
    long size = ftell(sink);
    fclose(sink);
    assert_true(count_sev(&d, DIAG_ERROR) >= 2);
    diag_free(&d);
    assert_int_equal(size, 0);
}

static void unreadable_file_is_an_io_error(void **state)
{
    (void)state;
    diag_list d;
    diag_init(&d);
    imp_graph g;
    bool io = false;
    assert_int_equal(imp_load("/nonexistent/graph.xml", &g, &d, &io), -1);
    assert_true(io);
    assert_non_null(find_diag(&d, DIAG_ERROR, "cannot read"));
    imp_graph_free(&g);
    diag_free(&d);
}

/* ------------------------------------------------- every truncation */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* Cut a sample at many points: every cut before the end of </DFG> is an
 * error (never a crash, never a graph that silently lost nodes), every cut
 * after it still reads. */
static void morpher_every_truncation_is_caught(void **state)
{
    (void)state;
    char *text = slurp(DFGS_DIR "/morpher/cap.xml");
    size_t n = strlen(text);
    size_t end = (size_t)(strstr(text, "</DFG>") - text) + strlen("</DFG>");
    for (size_t cut = 0; cut <= n; cut += cut < end - 40 ? 13 : 1) {
        char saved = text[cut];
        text[cut] = '\0';
        diag_list d;
        diag_init(&d);
        imp_graph g;
        int rc = imp_load_string("cap.xml", text, &g, &d);
        if ((rc == 0) != (cut >= end)) {
            diag_print(stderr, &d);
            fail_msg("cut at byte %zu of %zu (</DFG> ends at %zu): rc %d", cut, n, end, rc);
        }
        imp_graph_free(&g);
        diag_free(&d);
        text[cut] = saved;
    }
    free(text);
}

static void dot_every_truncation_is_caught(void **state)
{
    (void)state;
    size_t n = strlen(dot_mac);
    size_t end = (size_t)(strrchr(dot_mac, '}') - dot_mac) + 1;
    char *text = malloc(n + 1);
    assert_non_null(text);
    for (size_t cut = 0; cut <= n; cut++) {
        memcpy(text, dot_mac, cut);
        text[cut] = '\0';
        diag_list d;
        diag_init(&d);
        imp_graph g;
        int rc = imp_load_string("mac.dot", text, &g, &d);
        /* a cut that leaves a whole statement list may still be a smaller
         * legal graph only if the closing brace survives */
        if (cut < end && rc == 0)
            fail_msg("cut at byte %zu of %zu read as a graph", cut, n);
        if (cut >= end && rc != 0) {
            diag_print(stderr, &d);
            fail_msg("cut at byte %zu after the graph failed", cut);
        }
        imp_graph_free(&g);
        diag_free(&d);
    }
    free(text);
}

/* Random damage (a fuzz pass with a fixed seed): a few bytes of a sample
 * replaced by bytes that matter to the syntax.  Whatever the reader says,
 * it must say it without crashing, leaking or printing, and a graph it
 * accepts must be consistent. */
static void damaged_files_never_crash(void **state)
{
    (void)state;
    static const char alphabet[] = "<>/\"= \n{}[];-abcI1P0";
    char *xml = slurp(DFGS_DIR "/morpher/mults1.xml");
    prng p;
    prng_seed(&p, 2026);
    for (int round = 0; round < 400; round++) {
        bool dot = round % 2 == 1;
        const char *base = dot ? dot_mac : xml;
        size_t n = strlen(base);
        char *text = malloc(n + 1);
        assert_non_null(text);
        memcpy(text, base, n + 1);
        int hits = 1 + (int)prng_below(&p, 4);
        for (int h = 0; h < hits; h++)
            text[prng_below(&p, n)] = alphabet[prng_below(&p, sizeof alphabet - 1)];
        diag_list d;
        diag_init(&d);
        imp_graph g;
        int rc = imp_load_string(dot ? "fuzz.dot" : "fuzz.xml", text, &g, &d);
        if (rc == 0) {
            assert_int_equal(count_sev(&d, DIAG_ERROR), 0);
            for (int e = 0; e < g.n_edges; e++) {
                assert_true(g.edge[e].src >= 0 && g.edge[e].src < g.n_nodes);
                assert_true(g.edge[e].dst >= 0 && g.edge[e].dst < g.n_nodes);
            }
            for (int v = 0; v < g.n_nodes; v++)
                assert_non_null(g.node[v].info);
        } else {
            assert_true(count_sev(&d, DIAG_ERROR) >= 1);
        }
        imp_graph_free(&g);
        diag_free(&d);
        free(text);
    }
    free(xml);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(morpher_mac_reads_as_written),
        cmocka_unit_test(morpher_matrixmultiply_is_recovered_at_line_24),
        cmocka_unit_test(morpher_samples_all_read),
        cmocka_unit_test(morpher_truncated_file_is_an_error),
        cmocka_unit_test(morpher_unknown_opcode_names_it),
        cmocka_unit_test(morpher_dangling_edge_is_an_error),
        cmocka_unit_test(morpher_duplicate_idx_is_read_as_morpher_reads_it),
        cmocka_unit_test(morpher_cycle_needs_a_loop_carried_edge),
        cmocka_unit_test(morpher_well_formed_file_reads_without_warnings),
        cmocka_unit_test(morpher_missing_dfg_and_garbage),
        cmocka_unit_test(dot_reads_nodes_edges_and_attributes),
        cmocka_unit_test(dot_syntax_error_has_its_line),
        cmocka_unit_test(dot_truncated_is_an_error),
        cmocka_unit_test(dot_unknown_opcode_names_it),
        cmocka_unit_test(dot_undeclared_node_is_a_dangling_edge),
        cmocka_unit_test(dot_duplicate_declaration_is_an_error),
        cmocka_unit_test(dot_plain_cycles_are_loop_carried),
        cmocka_unit_test(dot_self_loop_is_loop_carried),
        cmocka_unit_test(dot_explicit_loop_carried_edges_are_kept),
        cmocka_unit_test(cgrame_samples_read_with_their_self_loops),
        cmocka_unit_test(dot_undirected_graph_is_refused),
        cmocka_unit_test(every_opcode_is_found_in_any_case),
        cmocka_unit_test(the_tools_whole_opcode_sets_are_accepted),
        cmocka_unit_test(readers_never_print),
        cmocka_unit_test(unreadable_file_is_an_io_error),
        cmocka_unit_test(morpher_every_truncation_is_caught),
        cmocka_unit_test(dot_every_truncation_is_caught),
        cmocka_unit_test(damaged_files_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
