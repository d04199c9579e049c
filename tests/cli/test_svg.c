/*
 * test_svg.c — the fabric picture (cli/svg.h).
 *
 * Every picture written is read back with libxml2, so a file that is not
 * well-formed XML fails; the checks then count the classed elements the
 * header promises against figures the test computes itself from the
 * inputs (sites of the fabric, placed units, nets with links, directed
 * lanes with traffic), and read back names, colours and sizes.  Failures
 * must leave no file, neither the target nor the temporary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/svg.h"

static const char *TINY_CFG =
    "[fabric]\nname = tiny\nrows = 4\ncols = 4\nclock_mhz = 1000\n"
    "[pcu]\nlanes = 4\nstages = 4\n[pmu]\nkib = 16\nbanks = 4\n"
    "[network]\nvector_links = 2\nscalar_links = 2\n[dram]\nagcus = 8\ngbps = 16\n";

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/rdumap-svg-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int files_in_dir(void)
{
    DIR *dp = opendir(dir);
    assert_non_null(dp);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(dp);
    return n;
}

static int teardown(void **state)
{
    (void)state;
    DIR *dp = opendir(dir);
    if (dp) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(dp)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
                if (rmdir(p) != 0)
                    remove(p);
            }
        closedir(dp);
    }
    rmdir(dir);
    return 0;
}

/* ------------------------------------------------------------ XML reading */

static bool has_class(xmlNode *n, const char *want)
{
    xmlChar *c = xmlGetProp(n, (const xmlChar *)"class");
    bool hit = false;
    if (c) {
        size_t k = strlen(want);
        hit = !strncmp((const char *)c, want, k) && (c[k] == '\0' || c[k] == ' ');
        xmlFree(c);
    }
    return hit;
}

static bool is(xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

/* Count elements named `name` whose class starts with the word `cls`. */
static int count(xmlNode *n, const char *name, const char *cls)
{
    int c = 0;
    for (; n; n = n->next) {
        if (is(n, name) && (!cls || has_class(n, cls)))
            c++;
        c += count(n->children, name, cls);
    }
    return c;
}

static xmlDoc *read_svg(const char *path)
{
    xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    assert_non_null(doc);
    xmlNode *root = xmlDocGetRootElement(doc);
    assert_non_null(root);
    assert_string_equal((const char *)root->name, "svg");
    return doc;
}

static double num_prop(xmlNode *n, const char *prop)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)prop);
    assert_non_null(v);
    double x = atof((const char *)v);
    xmlFree(v);
    return x;
}

/* The <g class="unit"> whose title begins with "NAME (", or NULL. */
static xmlNode *find_unit(xmlNode *n, const char *name)
{
    for (; n; n = n->next) {
        if (is(n, "g") && has_class(n, "unit")) {
            for (xmlNode *c = n->children; c; c = c->next)
                if (is(c, "title")) {
                    xmlChar *t = xmlNodeGetContent(c);
                    size_t k = strlen(name);
                    bool hit = !strncmp((const char *)t, name, k) && !strncmp((const char *)t + k, " (", 2);
                    xmlFree(t);
                    if (hit)
                        return n;
                }
        }
        xmlNode *deeper = find_unit(n->children, name);
        if (deeper)
            return deeper;
    }
    return NULL;
}

/* The fill of a unit's rect, copied into out. */
static void unit_fill(xmlDoc *doc, const char *name, char out[16])
{
    xmlNode *g = find_unit(xmlDocGetRootElement(doc), name);
    assert_non_null(g);
    for (xmlNode *c = g->children; c; c = c->next)
        if (is(c, "rect")) {
            xmlChar *f = xmlGetProp(c, (const xmlChar *)"fill");
            assert_non_null(f);
            snprintf(out, 16, "%s", (const char *)f);
            xmlFree(f);
            return;
        }
    fail_msg("unit '%s' has no rect", name);
}

/* Text of the first <text> child of a unit group, or "" if none. */
static void unit_label(xmlDoc *doc, const char *name, char *out, size_t n)
{
    xmlNode *g = find_unit(xmlDocGetRootElement(doc), name);
    assert_non_null(g);
    out[0] = '\0';
    for (xmlNode *c = g->children; c; c = c->next)
        if (is(c, "text")) {
            xmlChar *t = xmlNodeGetContent(c);
            snprintf(out, n, "%s", (const char *)t);
            xmlFree(t);
        }
}

static bool doc_has_text(xmlNode *n, const char *needle)
{
    for (; n; n = n->next) {
        if (n->type == XML_TEXT_NODE && n->content && strstr((const char *)n->content, needle))
            return true;
        if (doc_has_text(n->children, needle))
            return true;
    }
    return false;
}

/* Count elements `name` of class `cls` whose attribute `prop` is `value`. */
static int count_with(xmlNode *n, const char *name, const char *cls, const char *prop, const char *value)
{
    int c = 0;
    for (; n; n = n->next) {
        if (is(n, name) && has_class(n, cls)) {
            xmlChar *v = xmlGetProp(n, (const xmlChar *)prop);
            c += v && !strcmp((const char *)v, value);
            xmlFree(v);
        }
        c += count_with(n->children, name, cls, prop, value);
    }
    return c;
}

/* ------------------------------------------------------------ fixtures */

typedef struct world {
    fab_fabric f;
    place_sites s;
} world;

static void tiny_world(world *w)
{
    diag_list d;
    diag_init(&d);
    assert_int_equal(fab_load_string("tiny.cfg", TINY_CFG, &w->f, &d), 0);
    assert_int_equal(place_sites_init(&w->s, &w->f), 0);
    diag_free(&d);
}

static int first_site(const place_sites *s, place_kind k, int nth)
{
    for (int i = 0; i < s->n; i++)
        if (s->site[i].kind == k && nth-- == 0)
            return i;
    fail_msg("no site");
    return -1;
}

static void path_of(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

/* Directed link positions (row, col, dir) that carry traffic in any class. */
static int lanes_in_use(const fab_fabric *f, const route_result *r)
{
    int per_class = f->rows * f->cols * 4, n = 0;
    for (int pos = 0; pos < per_class; pos++)
        n += r->link_use[pos] > 0 || r->link_use[per_class + pos] > 0 || r->link_use[2 * per_class + pos] > 0;
    return n;
}

/* Switches where some net's tree ends: entered, never left. */
static int tree_ends(const fab_fabric *f, const route_result *r)
{
    static const int dr[4] = {-1, 0, 1, 0}, dc[4] = {0, 1, 0, -1};
    int n = 0, sw = f->rows * f->cols;
    char *in = calloc((size_t)sw, 1), *out = calloc((size_t)sw, 1);
    for (int i = 0; i < r->n_nets; i++) {
        memset(in, 0, (size_t)sw);
        memset(out, 0, (size_t)sw);
        for (int k = 0; k < r->net[i].n_links; k++) {
            route_link l = route_link_decode(f, r->net[i].links[k]);
            out[l.row * f->cols + l.col] = 1;
            in[(l.row + dr[l.dir]) * f->cols + l.col + dc[l.dir]] = 1;
        }
        for (int v = 0; v < sw; v++)
            n += in[v] && !out[v];
    }
    free(in);
    free(out);
    return n;
}

/* Route three nets on the tiny fabric: a vector tree, a scalar net, and a
 * net whose only sink shares its source's switch (no links). */
static void route_tiny(const fab_fabric *f, route_result *r)
{
    static const int tr[2] = {3, 0}, tc[2] = {3, 3};
    static const int sr[1] = {2}, sc[1] = {2};
    static const int zr[1] = {1}, zc[1] = {0};
    route_net nets[3] = {
        {ROUTE_VECTOR, 0, 0, 2, tr, tc, "tree"},
        {ROUTE_SCALAR, 1, 1, 1, sr, sc, "scalar"},
        {ROUTE_VECTOR, 1, 0, 1, zr, zc, "local"},
    };
    diag_list d;
    diag_init(&d);
    assert_int_equal(route_run(f, nets, 3, NULL, r, &d), 0);
    diag_free(&d);
    assert_true(r->net[0].n_links >= 6);
    assert_true(r->net[1].n_links == 2);
    assert_int_equal(r->net[2].n_links, 0);
}

/* ------------------------------------------------------------ tests */

static void test_tiny_full_picture(void **state)
{
    (void)state;
    world w;
    tiny_world(&w);
    route_result r;
    route_tiny(&w.f, &r);
    const char *odd = "a<b&\"c\">'d";
    svg_unit units[6] = {
        {"C.i.j", PLACE_PCU, first_site(&w.s, PLACE_PCU, 0), "C", false, 0},
        {odd, PLACE_PCU, first_site(&w.s, PLACE_PCU, 1), "C", false, 0},
        {"A", PLACE_PMU, first_site(&w.s, PLACE_PMU, 0), "A", false, 0},
        {"B", PLACE_PMU, first_site(&w.s, PLACE_PMU, 1), NULL, false, 0},
        {"load A", PLACE_AGCU, first_site(&w.s, PLACE_AGCU, 0), "A", false, 0},
        {"spare", PLACE_PCU, -1, "C", false, 0},
    };
    static const char *const labels[3] = {"value 'acc' from C.i.j to C", NULL, NULL};
    svg_figures fig = {"gemm on tiny", {"placement sa: cost 12.0", "cycles 1234 & more <ok>"}, 2, labels};
    char path[256];
    path_of(path, sizeof path, "tiny.svg");
    diag_list d;
    diag_init(&d);
    assert_int_equal(svg_write(path, &w.f, &w.s, units, 6, &r, &fig, &d), 0);
    assert_int_equal(d.n, 0);
    assert_int_equal(files_in_dir(), 1);

    xmlDoc *doc = read_svg(path);
    xmlNode *root = xmlDocGetRootElement(doc);
    /* one rect per site, by kind */
    assert_int_equal(count(root, "rect", "site"), 16 + 8);
    assert_int_equal(count_with(root, "rect", "site", "class", "site pcu"), 8);
    assert_int_equal(count_with(root, "rect", "site", "class", "site pmu"), 8);
    assert_int_equal(count_with(root, "rect", "site", "class", "site agcu"), 8);
    /* one group per placed unit; the unplaced one is counted in the legend */
    assert_int_equal(count(root, "g", "unit"), 5);
    assert_null(find_unit(root, "spare"));
    assert_true(doc_has_text(root, "1 unit not placed"));
    /* one path per net with links, a lane per directed position in use */
    assert_int_equal(count(root, "path", "net"), 2);
    assert_int_equal(count(root, "circle", "net-source"), 2);
    assert_int_equal(count(root, "rect", "net-sink"), tree_ends(&w.f, &r));
    assert_true(tree_ends(&w.f, &r) >= 2);
    assert_int_equal(count(root, "line", "heat"), lanes_in_use(&w.f, &r));
    assert_true(lanes_in_use(&w.f, &r) >= 8);
    /* names survive escaping, in the tooltip and, when short, as a label */
    assert_non_null(find_unit(root, odd));
    char label[64];
    unit_label(doc, "A", label, sizeof label);
    assert_string_equal(label, "A");
    assert_true(doc_has_text(root, "cycles 1234 & more <ok>"));
    /* a net's tooltip names what it carries between which units */
    assert_true(doc_has_text(root, "net 0: value 'acc' from C.i.j to C; vector"));
    assert_true(doc_has_text(root, "gemm on tiny"));
    /* groups: one colour per group, distinct between groups, "(none)" listed */
    char c1[16], c2[16], a1[16], a2[16], b[16];
    unit_fill(doc, "C.i.j", c1);
    unit_fill(doc, odd, c2);
    unit_fill(doc, "A", a1);
    unit_fill(doc, "load A", a2);
    unit_fill(doc, "B", b);
    assert_string_equal(c1, c2);
    assert_string_equal(a1, a2);
    assert_string_not_equal(c1, a1);
    assert_string_not_equal(b, a1);
    assert_string_not_equal(b, c1);
    assert_true(doc_has_text(root, "(none)"));
    /* no overuse in this routing: no lane in the over-capacity colour */
    assert_int_equal(count_with(root, "line", "heat", "stroke", "#2d004b"), 0);
    assert_false(doc_has_text(root, "over capacity"));
    xmlFreeDoc(doc);
    remove(path);
    route_result_free(&r);
    place_sites_free(&w.s);
    diag_free(&d);
}

/* The colour of a group depends on the set of groups, not on the order of
 * the units. */
static void test_colours_stable(void **state)
{
    (void)state;
    world w;
    tiny_world(&w);
    svg_unit units[4] = {
        {"p", PLACE_PCU, first_site(&w.s, PLACE_PCU, 0), "gemm", false, 0},
        {"q", PLACE_PCU, first_site(&w.s, PLACE_PCU, 1), "softmax", false, 0},
        {"m", PLACE_PMU, first_site(&w.s, PLACE_PMU, 0), "X", false, 0},
        {"n", PLACE_PMU, first_site(&w.s, PLACE_PMU, 1), "gemm", false, 0},
    };
    svg_unit rev[4] = {units[3], units[2], units[1], units[0]};
    char p1[256], p2[256];
    path_of(p1, sizeof p1, "a.svg");
    path_of(p2, sizeof p2, "b.svg");
    diag_list d;
    diag_init(&d);
    assert_int_equal(svg_write(p1, &w.f, &w.s, units, 4, NULL, NULL, &d), 0);
    assert_int_equal(svg_write(p2, &w.f, &w.s, rev, 4, NULL, NULL, &d), 0);
    xmlDoc *a = read_svg(p1), *b = read_svg(p2);
    const char *names[4] = {"p", "q", "m", "n"};
    char fa[4][16], fb[4][16];
    for (int k = 0; k < 4; k++) {
        unit_fill(a, names[k], fa[k]);
        unit_fill(b, names[k], fb[k]);
        assert_string_equal(fa[k], fb[k]);
    }
    assert_string_equal(fa[0], fa[3]);
    assert_string_not_equal(fa[0], fa[1]);
    assert_string_not_equal(fa[0], fa[2]);
    assert_string_not_equal(fa[1], fa[2]);
    /* placement only: no nets, no heat, and the legend says so */
    assert_int_equal(count(xmlDocGetRootElement(a), "path", "net"), 0);
    assert_int_equal(count(xmlDocGetRootElement(a), "line", "heat"), 0);
    assert_true(doc_has_text(xmlDocGetRootElement(a), "not routed"));
    xmlFreeDoc(a);
    xmlFreeDoc(b);
    remove(p1);
    remove(p2);
    place_sites_free(&w.s);
    diag_free(&d);
}

/* Many groups: every one gets its own colour (past the fixed palette). */
static void test_many_groups_distinct(void **state)
{
    (void)state;
    world w;
    tiny_world(&w);
    enum { N = 8 };
    svg_unit units[N];
    char names[N][8], grp[N][8];
    for (int k = 0; k < N; k++) {
        snprintf(names[k], sizeof names[k], "u%d", k);
        snprintf(grp[k], sizeof grp[k], "g%d", k);
        units[k] = (svg_unit){names[k], PLACE_PCU, first_site(&w.s, PLACE_PCU, k), grp[k], false, 0};
    }
    /* and 8 more groups on the PMUs, 16 in all, beyond the 11 of Set3 */
    svg_unit more[2 * N];
    char names2[N][8], grp2[N][8];
    memcpy(more, units, sizeof units);
    for (int k = 0; k < N; k++) {
        snprintf(names2[k], sizeof names2[k], "v%d", k);
        snprintf(grp2[k], sizeof grp2[k], "h%d", k);
        more[N + k] = (svg_unit){names2[k], PLACE_PMU, first_site(&w.s, PLACE_PMU, k), grp2[k], false, 0};
    }
    char p[256];
    path_of(p, sizeof p, "many.svg");
    diag_list d;
    diag_init(&d);
    assert_int_equal(svg_write(p, &w.f, &w.s, more, 2 * N, NULL, NULL, &d), 0);
    xmlDoc *doc = read_svg(p);
    char fill[2 * N][16];
    for (int k = 0; k < 2 * N; k++)
        unit_fill(doc, more[k].name, fill[k]);
    for (int i = 0; i < 2 * N; i++)
        for (int j = i + 1; j < 2 * N; j++)
            assert_string_not_equal(fill[i], fill[j]);
    xmlFreeDoc(doc);
    remove(p);
    place_sites_free(&w.s);
    diag_free(&d);
}

/* sn10 (32 x 40) and tiny (4 x 4) both come out at a sensible size, the
 * tiles of the small one larger. */
static void test_scale(void **state)
{
    (void)state;
    world t, s;
    tiny_world(&t);
    diag_list d;
    diag_init(&d);
    assert_int_equal(fab_load_default(&s.f, &d), 0);
    assert_int_equal(place_sites_init(&s.s, &s.f), 0);
    svg_unit su[3] = {
        {"C.i.j.k", PLACE_PCU, first_site(&s.s, PLACE_PCU, 100), "C", false, 0},
        {"A", PLACE_PMU, first_site(&s.s, PLACE_PMU, 7), "A", false, 0},
        {"load A", PLACE_AGCU, first_site(&s.s, PLACE_AGCU, 3), "A", false, 0},
    };
    char ps[256], pt[256];
    path_of(ps, sizeof ps, "sn10.svg");
    path_of(pt, sizeof pt, "tiny.svg");
    /* Nothing placed: the whole fabric. */
    assert_int_equal(svg_write(ps, &s.f, &s.s, su, 0, NULL, NULL, &d), 0);
    assert_int_equal(svg_write(pt, &t.f, &t.s, su, 0, NULL, NULL, &d), 0);
    xmlDoc *ds = read_svg(ps), *dt = read_svg(pt);
    xmlNode *rs = xmlDocGetRootElement(ds), *rt = xmlDocGetRootElement(dt);
    assert_int_equal(count(rs, "rect", "site"), 32 * 40 + s.f.agcus);
    assert_int_equal(count(rs, "g", "unit"), 0);
    assert_int_equal(count(rs, "text", "crop"), 0);
    double ws = num_prop(rs, "width"), hs = num_prop(rs, "height");
    double wt = num_prop(rt, "width"), ht = num_prop(rt, "height");
    assert_true(ws >= 900 && ws <= 2200 && hs >= 700 && hs <= 1600);
    assert_true(wt >= 600 && wt <= 1600 && ht >= 400 && ht <= 1200);
    /* the first site tile of each: a fixed fraction of the pitch */
    xmlNode *tile_s = NULL, *tile_t = NULL;
    for (xmlNode *n = rs->children; n && !tile_s; n = n->next)
        for (xmlNode *c = n->children; c && !tile_s; c = c->next)
            if (is(c, "rect") && has_class(c, "site"))
                tile_s = c;
    for (xmlNode *n = rt->children; n && !tile_t; n = n->next)
        for (xmlNode *c = n->children; c && !tile_t; c = c->next)
            if (is(c, "rect") && has_class(c, "site"))
                tile_t = c;
    assert_non_null(tile_s);
    assert_non_null(tile_t);
    double ts = num_prop(tile_s, "width"), tt = num_prop(tile_t, "width");
    assert_true(ts >= 12 && ts <= 24);
    assert_true(tt >= 50 && tt <= 90);
    xmlFreeDoc(ds);
    xmlFreeDoc(dt);

    /* Three units in a corner of sn10: only the used area (and a margin)
     * is drawn, with tiles large enough for their labels. */
    assert_int_equal(svg_write(ps, &s.f, &s.s, su, 3, NULL, NULL, &d), 0);
    ds = read_svg(ps);
    rs = xmlDocGetRootElement(ds);
    int sites = count(rs, "rect", "site");
    assert_true(sites > 3 && sites < 32 * 40 / 4);
    assert_int_equal(count(rs, "g", "unit"), 3);
    assert_int_equal(count(rs, "text", "crop"), 1);
    tile_s = NULL;
    for (xmlNode *n = rs->children; n && !tile_s; n = n->next)
        for (xmlNode *c = n->children; c && !tile_s; c = c->next)
            if (is(c, "rect") && has_class(c, "site"))
                tile_s = c;
    assert_non_null(tile_s);
    assert_true(num_prop(tile_s, "width") >= 30);   /* 15 px uncropped */
    xmlFreeDoc(ds);
    remove(ps);
    remove(pt);
    place_sites_free(&s.s);
    place_sites_free(&t.s);
    diag_free(&d);
}

/* Overuse shows in the over-capacity colour and the legend counts it. */
static void test_overuse_heat(void **state)
{
    (void)state;
    world w;
    tiny_world(&w);
    route_result r;
    route_tiny(&w.f, &r);
    int l = r.net[0].links[0];
    r.link_use[l] = route_link_capacity(&w.f, l) + 1;
    char p[256];
    path_of(p, sizeof p, "over.svg");
    diag_list d;
    diag_init(&d);
    assert_int_equal(svg_write(p, &w.f, &w.s, NULL, 0, &r, NULL, &d), 0);
    xmlDoc *doc = read_svg(p);
    xmlNode *root = xmlDocGetRootElement(doc);
    assert_int_equal(count_with(root, "line", "heat", "stroke", "#2d004b"), 1);
    assert_true(doc_has_text(root, "1 link over capacity"));
    xmlFreeDoc(doc);
    remove(p);
    route_result_free(&r);
    place_sites_free(&w.s);
    diag_free(&d);
}

/* A unit shows its whole name when it fits (shrunk a little if need be),
 * else the last part of it, else nothing (the tooltip still has it). */
static void test_labels(void **state)
{
    (void)state;
    world w;
    tiny_world(&w);
    svg_unit units[4] = {
        {"assign.n.k", PLACE_PCU, 0, "a", false, 0},
        {"averyveryverylongdefinition.k2", PLACE_PCU, 1, "a", false, 0},
        {"averyveryverylongnamewithoutanybreak", PLACE_PCU, 2, "a", false, 0},
        {"A", PLACE_PCU, 3, "a", false, 0},
    };
    char p[256];
    path_of(p, sizeof p, "labels.svg");
    diag_list d;
    diag_init(&d);
    assert_int_equal(svg_write(p, &w.f, &w.s, units, 4, NULL, NULL, &d), 0);
    xmlDoc *doc = read_svg(p);
    char label[64];
    unit_label(doc, "assign.n.k", label, sizeof label);
    assert_string_equal(label, "assign.n.k");
    unit_label(doc, "averyveryverylongdefinition.k2", label, sizeof label);
    assert_string_equal(label, "k2");
    unit_label(doc, "averyveryverylongnamewithoutanybreak", label, sizeof label);
    assert_string_equal(label, "");
    unit_label(doc, "A", label, sizeof label);
    assert_string_equal(label, "A");
    xmlFreeDoc(doc);
    remove(p);
    place_sites_free(&w.s);
    diag_free(&d);
}

/* Subpaths ("M") in the i-th net path. */
static int net_segments(xmlNode *n, int *seen, int want)
{
    for (; n; n = n->next) {
        if (is(n, "path") && has_class(n, "net") && (*seen)++ == want) {
            xmlChar *dd = xmlGetProp(n, (const xmlChar *)"d");
            int m = 0;
            for (const xmlChar *c = dd; *c; c++)
                m += *c == 'M';
            xmlFree(dd);
            return m;
        }
        int r = net_segments(n->children, seen, want);
        if (r >= 0)
            return r;
    }
    return -1;
}

/* Each link segment is drawn once per net: a tree's links one each, and a
 * net that (wrongly) used both directions of a segment still draws it once. */
static void test_segments_once_per_net(void **state)
{
    (void)state;
    world w;
    tiny_world(&w);
    route_result r;
    route_tiny(&w.f, &r);
    route_net_result *nr = &r.net[1];
    int n0 = nr->n_links;
    route_link l = route_link_decode(&w.f, nr->links[0]);
    static const int DR[4] = {-1, 0, 1, 0}, DC[4] = {0, 1, 0, -1};
    int back_row = l.row + DR[l.dir], back_col = l.col + DC[l.dir], back_dir = (l.dir + 2) % 4;
    int back = (((int)l.cls * w.f.rows + back_row) * w.f.cols + back_col) * 4 + back_dir;
    route_link bl = route_link_decode(&w.f, back);
    assert_int_equal(bl.row, back_row);
    assert_int_equal(bl.dir, back_dir);
    nr->links = realloc(nr->links, (size_t)(n0 + 1) * sizeof *nr->links);
    nr->links[n0] = back;
    nr->n_links = n0 + 1;
    char p[256];
    path_of(p, sizeof p, "seg.svg");
    diag_list d;
    diag_init(&d);
    assert_int_equal(svg_write(p, &w.f, &w.s, NULL, 0, &r, NULL, &d), 0);
    xmlDoc *doc = read_svg(p);
    int seen = 0;
    assert_int_equal(net_segments(xmlDocGetRootElement(doc), &seen, 0), r.net[0].n_links);
    seen = 0;
    assert_int_equal(net_segments(xmlDocGetRootElement(doc), &seen, 1), n0);
    xmlFreeDoc(doc);
    remove(p);
    route_result_free(&r);
    place_sites_free(&w.s);
    diag_free(&d);
}

/* Names that are not valid UTF-8 or hold control bytes still give XML. */
static void test_bad_bytes(void **state)
{
    (void)state;
    world w;
    tiny_world(&w);
    svg_unit units[2] = {
        {"x\xff\xc0y\x01z", PLACE_PCU, 0, "g\x80", false, 0},
        {"\xe2\x82\xac" "5", PLACE_PMU, first_site(&w.s, PLACE_PMU, 0), "\xe2\x82", false, 0},
    };
    svg_figures fig = {"t\x02", {"\xf4\x90\x80\x80"}, 1, NULL};
    char p[256];
    path_of(p, sizeof p, "bytes.svg");
    diag_list d;
    diag_init(&d);
    assert_int_equal(svg_write(p, &w.f, &w.s, units, 2, NULL, &fig, &d), 0);
    xmlDoc *doc = read_svg(p);
    assert_non_null(find_unit(xmlDocGetRootElement(doc), "x??y?z"));
    assert_non_null(find_unit(xmlDocGetRootElement(doc), "\xe2\x82\xac" "5"));
    xmlFreeDoc(doc);
    remove(p);
    place_sites_free(&w.s);
    diag_free(&d);
}

static void test_unwritable(void **state)
{
    (void)state;
    world w;
    tiny_world(&w);
    diag_list d;
    diag_init(&d);
    assert_int_equal(svg_write("/nonexistent-rdumap-dir/x.svg", &w.f, &w.s, NULL, 0, NULL, NULL, &d), -1);
    assert_int_equal(d.n_errors, 1);
    assert_string_equal(d.items[0].loc.file, "/nonexistent-rdumap-dir/x.svg");
    assert_non_null(strstr(d.items[0].msg, "cannot write"));
    assert_int_equal(access("/nonexistent-rdumap-dir/x.svg", F_OK), -1);
    diag_free(&d);

    /* the target is a directory: the rename fails, the temporary goes */
    char sub[256];
    path_of(sub, sizeof sub, "adir");
    assert_int_equal(mkdir(sub, 0755), 0);
    diag_init(&d);
    assert_int_equal(svg_write(sub, &w.f, &w.s, NULL, 0, NULL, NULL, &d), -1);
    assert_int_equal(d.n_errors, 1);
    assert_non_null(strstr(d.items[0].msg, "cannot write"));
    assert_int_equal(files_in_dir(), 1);
    rmdir(sub);
    place_sites_free(&w.s);
    diag_free(&d);
}

/* Inputs that would draw a false picture are refused, nothing written. */
static void test_bad_input(void **state)
{
    (void)state;
    world w;
    tiny_world(&w);
    char p[256];
    path_of(p, sizeof p, "bad.svg");
    diag_list d;

    svg_unit off[1] = {{"far", PLACE_PCU, w.s.n, "g", false, 0}};
    diag_init(&d);
    assert_int_equal(svg_write(p, &w.f, &w.s, off, 1, NULL, NULL, &d), -1);
    assert_non_null(strstr(d.items[0].msg, "does not exist"));
    diag_free(&d);

    svg_unit kind[1] = {{"X", PLACE_PCU, first_site(&w.s, PLACE_PMU, 0), "g", false, 0}};
    diag_init(&d);
    assert_int_equal(svg_write(p, &w.f, &w.s, kind, 1, NULL, NULL, &d), -1);
    assert_non_null(strstr(d.items[0].msg, "VPCU on a PMU site"));
    diag_free(&d);

    svg_unit twice[2] = {{"X", PLACE_PCU, 0, "g", false, 0}, {"Y", PLACE_PCU, 0, "g", false, 0}};
    diag_init(&d);
    assert_int_equal(svg_write(p, &w.f, &w.s, twice, 2, NULL, NULL, &d), -1);
    assert_non_null(strstr(d.items[0].msg, "'X' and 'Y' on one site"));
    diag_free(&d);

    /* a routing of the tiny fabric drawn over sn10 */
    route_result r;
    route_tiny(&w.f, &r);
    world s;
    diag_init(&d);
    assert_int_equal(fab_load_default(&s.f, &d), 0);
    assert_int_equal(place_sites_init(&s.s, &s.f), 0);
    assert_int_equal(svg_write(p, &s.f, &s.s, NULL, 0, &r, NULL, &d), -1);
    assert_non_null(strstr(d.items[0].msg, "not for fabric"));
    diag_free(&d);

    /* a link id out of range */
    int saved = r.net[0].links[0];
    r.net[0].links[0] = r.n_links + 5;
    diag_init(&d);
    assert_int_equal(svg_write(p, &w.f, &w.s, NULL, 0, &r, NULL, &d), -1);
    assert_non_null(strstr(d.items[0].msg, "not a link"));
    diag_free(&d);
    r.net[0].links[0] = saved;

    assert_int_equal(files_in_dir(), 0);
    route_result_free(&r);
    place_sites_free(&s.s);
    place_sites_free(&w.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_full_picture),
        cmocka_unit_test(test_colours_stable),
        cmocka_unit_test(test_many_groups_distinct),
        cmocka_unit_test(test_scale),
        cmocka_unit_test(test_overuse_heat),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_segments_once_per_net),
        cmocka_unit_test(test_bad_bytes),
        cmocka_unit_test(test_unwritable),
        cmocka_unit_test(test_bad_input),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    xmlCleanupParser();
    return rc;
}
