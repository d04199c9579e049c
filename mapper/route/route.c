/*
 * route.c — PathFinder routing of streams over the switch mesh.
 *
 * The routing graph.  igraph builds the mesh (a directed square lattice
 * with both directions of every neighbour pair) and is the reference for
 * its shape; from it we derive flat arrays (for each switch, its out-links
 * and their far ends) because the inner loop runs millions of relaxations
 * and must not go through igraph's accessors.  Each directed neighbour pair
 * carries three independent resources, one per class (vector, scalar,
 * control), with vector_links, scalar_links, control_links tracks.  Nets of
 * different classes never compete, so each net searches only its class.
 *
 * The algorithm (McMurchie and Ebeling, "PathFinder", FPGA 1995, in the
 * form VPR uses):
 *   - every iteration rips up and reroutes every net, in input order;
 *   - a net is a tree grown sink by sink, nearest sink first: A* from all
 *     nodes already in the tree (at cost 0) to the next sink, with the
 *     Manhattan distance as heuristic (admissible: every link costs >= 1);
 *   - link cost = (b + h) x p, with b = 1, h the history (grows by hist_fac
 *     x overuse after every iteration that ends with that link overused)
 *     and p = 1 + pres_fac x (tracks the link would be over capacity if this
 *     net took it); pres_fac is 0 in iteration 1 (plain shortest paths),
 *     then pres_fac_initial, multiplied by pres_fac_mult each iteration;
 *   - stop when no link is over capacity, or after max_iters.
 * Everything is deterministic: nets in input order, sinks by distance then
 * index, heap ties by node number, neighbours in N E S W order.
 *
 * The greedy option is the first-come baseline that negotiation is measured
 * against: one pass, full links forbidden while any other path exists.
 */
#include "mapper/route/route.h"
#include "util/alloc.h"

#include <igraph/igraph.h>
#include <math.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const DIR_NAME[4] = {"north", "east", "south", "west"};
static const char *const CLASS_NAME[3] = {"vector", "scalar", "control"};
static const int DROW[4] = {-1, 0, 1, 0};
static const int DCOL[4] = {0, 1, 0, -1};

/* --------------------------------------------------------------- links */

int route_n_links(const fab_fabric *f)
{
    return 3 * f->rows * f->cols * 4;
}

static int link_id(const fab_fabric *f, route_class cls, int row, int col, int dir)
{
    return (((int)cls * f->rows + row) * f->cols + col) * 4 + dir;
}

route_link route_link_decode(const fab_fabric *f, int link)
{
    route_link l;
    l.dir = link % 4;
    int sw = link / 4;
    l.col = sw % f->cols;
    l.row = (sw / f->cols) % f->rows;
    l.cls = (route_class)(sw / f->cols / f->rows);
    return l;
}

static int class_tracks(const fab_fabric *f, route_class cls)
{
    switch (cls) {
    case ROUTE_VECTOR: return f->vector_links;
    case ROUTE_SCALAR: return f->scalar_links;
    case ROUTE_CONTROL: return f->control_links;
    }
    return 0;
}

int route_link_capacity(const fab_fabric *f, int link)
{
    if (link < 0 || link >= route_n_links(f))
        return 0;
    route_link l = route_link_decode(f, link);
    int r = l.row + DROW[l.dir], c = l.col + DCOL[l.dir];
    if (r < 0 || r >= f->rows || c < 0 || c >= f->cols)
        return 0;
    return class_tracks(f, l.cls);
}

char *route_link_str(const fab_fabric *f, int link, char *buf, size_t size)
{
    route_link l = route_link_decode(f, link);
    snprintf(buf, size, "switch (%d,%d) %s, %s", l.row, l.col, DIR_NAME[l.dir], CLASS_NAME[l.cls]);
    return buf;
}

void route_opts_default(route_opts *o)
{
    o->max_iters = 50;
    o->pres_fac_initial = 0.5;
    o->pres_fac_mult = 1.5;
    o->hist_fac = 1.0;
    o->greedy = false;
}

void route_result_free(route_result *r)
{
    if (r->net)
        for (int i = 0; i < r->n_nets; i++) {
            free(r->net[i].links);
            free(r->net[i].sink_hops);
        }
    free(r->net);
    free(r->link_use);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------ the routing graph */

/* The mesh as flat arrays: out-links of switch v are adj_to[4v .. 4v+3]
 * (far switch, or -1 off the mesh), in direction order N E S W. */
typedef struct mesh {
    int n;          /* switches = rows x cols; switch id = row x cols + col */
    int *adj_to;    /* 4n */
} mesh;

/* igraph reports most failures through its error handler (ignored here:
 * every return is checked), but some — an allocation failing deep inside a
 * constructor — through its fatal handler, whose default aborts.  While
 * the mesh is built, a fatal error jumps back to mesh_build, which reports
 * it as a failure (out of memory): the process never aborts. */
static jmp_buf *mesh_fatal_jump;

static void mesh_fatal(const char *reason, const char *file, int line)
{
    (void)reason;
    (void)file;
    (void)line;
    longjmp(*mesh_fatal_jump, 1);
}

/* The lattice's edges, through igraph, into m->adj_to; 0, or -1. */
static int mesh_edges(mesh *m, const fab_fabric *f)
{
    igraph_t g;
    igraph_vector_int_t dims;
    int rc = -1;
    /* Dimension 0 varies fastest: vertex = col + row x cols = switch id. */
    if (igraph_vector_int_init(&dims, 2) != IGRAPH_SUCCESS)
        return -1;
    VECTOR(dims)[0] = f->cols;
    VECTOR(dims)[1] = f->rows;
    if (igraph_square_lattice(&g, &dims, 1, IGRAPH_DIRECTED, /*mutual*/ true, NULL) != IGRAPH_SUCCESS) {
        igraph_vector_int_destroy(&dims);
        return -1;
    }
    igraph_vector_int_destroy(&dims);
    rc = 0;
    for (igraph_integer_t e = 0; e < igraph_ecount(&g); e++) {
        igraph_integer_t from, to;
        igraph_edge(&g, e, &from, &to);
        int fr = (int)from / f->cols, fc = (int)from % f->cols;
        int tr = (int)to / f->cols, tc = (int)to % f->cols;
        int dir = -1;
        for (int d = 0; d < 4; d++)
            if (fr + DROW[d] == tr && fc + DCOL[d] == tc)
                dir = d;
        if (dir < 0) {   /* not a neighbour pair: never for a lattice */
            rc = -1;
            break;
        }
        m->adj_to[4 * from + dir] = (int)to;
    }
    /* Every switch has its 2 to 4 neighbours, as the contract's mesh. */
    if (rc == 0 && igraph_ecount(&g) != 2 * ((igraph_integer_t)f->rows * (f->cols - 1) +
                                             (igraph_integer_t)(f->rows - 1) * f->cols))
        rc = -1;
    igraph_destroy(&g);
    return rc;
}

/* Build the mesh with igraph and derive the arrays; -1 on failure. */
static int mesh_build(mesh *m, const fab_fabric *f)
{
    m->n = f->rows * f->cols;
    m->adj_to = xmalloc((size_t)m->n * 4 * sizeof *m->adj_to);
    if (!m->adj_to)
        return -1;
    for (int i = 0; i < 4 * m->n; i++)
        m->adj_to[i] = -1;
    igraph_error_handler_t *old = igraph_set_error_handler(igraph_error_handler_ignore);
    igraph_fatal_handler_t *old_fatal = igraph_set_fatal_handler(mesh_fatal);
    jmp_buf jump;
    mesh_fatal_jump = &jump;
    volatile int rc = -1;
    if (setjmp(jump) == 0)
        rc = mesh_edges(m, f);
    mesh_fatal_jump = NULL;
    igraph_set_fatal_handler(old_fatal);
    igraph_set_error_handler(old);
    if (rc != 0) {
        free(m->adj_to);
        m->adj_to = NULL;
    }
    return rc;
}

/* ------------------------------------------------------------- the heap */

typedef struct heap_item {
    double key;
    int node;
} heap_item;

typedef struct heap {
    heap_item *a;
    int n, cap;
} heap;

static bool item_less(heap_item x, heap_item y)
{
    return x.key < y.key || (x.key == y.key && x.node < y.node);
}

static int heap_push(heap *h, double key, int node)
{
    if (h->n == h->cap) {
        int cap = h->cap ? 2 * h->cap : 256;
        heap_item *g = xrealloc(h->a, (size_t)cap * sizeof *g);
        if (!g)
            return -1;
        h->a = g;
        h->cap = cap;
    }
    int i = h->n++;
    heap_item it = {key, node};
    while (i > 0 && item_less(it, h->a[(i - 1) / 2])) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = it;
    return 0;
}

static heap_item heap_pop(heap *h)
{
    heap_item top = h->a[0], last = h->a[--h->n];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && item_less(h->a[c + 1], h->a[c]))
            c++;
        if (!item_less(h->a[c], last))
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    h->a[i] = last;
    return top;
}

/* ------------------------------------------------------------ the router */

typedef struct router {
    const fab_fabric *f;
    mesh m;
    int n_links;
    int *cap;          /* tracks per link */
    int *use;          /* nets using each link now */
    double *hist;      /* history cost per link */
    double pres_fac;
    bool greedy;
    /* A* scratch: dist and prev_link valid where seen == cur; closed where done == cur */
    double *dist;
    int *prev_link;
    unsigned *seen, *done;
    unsigned cur;
    /* the tree of the net being routed: nodes, and depth valid where in_tree == tree_cur */
    unsigned *in_tree;
    unsigned tree_cur;
    int *depth;
    int *tree_nodes;
    int *path;         /* one path's links, sink to tree */
    int *order;        /* sinks in routing order */
    heap h;
} router;

static int manhattan(const fab_fabric *f, int a, int b)
{
    return abs(a / f->cols - b / f->cols) + abs(a % f->cols - b % f->cols);
}

static double link_cost(const router *rt, int l)
{
    if (rt->greedy)   /* first come: a full link only when there is no other way */
        return rt->use[l] >= rt->cap[l] ? 1e9 : 1.0;
    int over = rt->use[l] + 1 - rt->cap[l];
    double p = 1.0 + rt->pres_fac * (over > 0 ? over : 0);
    return (1.0 + rt->hist[l]) * p;
}

/* Advance a stamp; on wrap-around clear the arrays that use it. */
static void next_stamp(unsigned *cur, unsigned *a, unsigned *b, int n)
{
    if (++*cur == 0) {
        memset(a, 0, (size_t)n * sizeof *a);
        if (b)
            memset(b, 0, (size_t)n * sizeof *b);
        *cur = 1;
    }
}

static int append_link(route_net_result *res, int *cap, int l)
{
    if (res->n_links == *cap) {
        int c = *cap ? 2 * *cap : 8;
        int *g = xrealloc(res->links, (size_t)c * sizeof *g);
        if (!g)
            return -1;
        res->links = g;
        *cap = c;
    }
    res->links[res->n_links++] = l;
    return 0;
}

/* The switch a link leaves from. */
static int link_from(const fab_fabric *f, int l)
{
    int sw = l / 4;
    return sw % (f->rows * f->cols);
}

/* Route one net as a tree, sink by sink (nearest first), each by A* from
 * every node already in the tree.  Fills res->links (each link once, in the
 * order added) and res->sink_hops (the tree depth of each sink).  Returns 0,
 * or -1 when out of memory. */
static int route_tree(router *rt, const route_net *net, route_net_result *res, int *links_cap)
{
    const fab_fabric *f = rt->f;
    const int cols = f->cols;
    res->n_links = 0;
    next_stamp(&rt->tree_cur, rt->in_tree, NULL, rt->m.n);
    int src = net->src_row * cols + net->src_col;
    int n_tree = 0;
    rt->tree_nodes[n_tree++] = src;
    rt->in_tree[src] = rt->tree_cur;
    rt->depth[src] = 0;

    /* Sinks nearest the source first, ties by index: insertion sort. */
    for (int k = 0; k < net->n_sinks; k++) {
        int s = net->sink_row[k] * cols + net->sink_col[k];
        int dk = manhattan(f, src, s), j = k;
        while (j > 0) {
            int p = rt->order[j - 1];
            int dp = manhattan(f, src, net->sink_row[p] * cols + net->sink_col[p]);
            if (dp <= dk)
                break;
            rt->order[j] = p;
            j--;
        }
        rt->order[j] = k;
    }

    for (int oi = 0; oi < net->n_sinks; oi++) {
        int k = rt->order[oi];
        int sink = net->sink_row[k] * cols + net->sink_col[k];
        if (rt->in_tree[sink] != rt->tree_cur) {
            next_stamp(&rt->cur, rt->seen, rt->done, rt->m.n);
            rt->h.n = 0;
            for (int t = 0; t < n_tree; t++) {
                int v = rt->tree_nodes[t];
                rt->dist[v] = 0;
                rt->prev_link[v] = -1;
                rt->seen[v] = rt->cur;
                if (heap_push(&rt->h, manhattan(f, v, sink), v) != 0)
                    return -1;
            }
            bool reached = false;
            while (rt->h.n > 0) {
                int v = heap_pop(&rt->h).node;
                if (rt->done[v] == rt->cur)
                    continue;
                rt->done[v] = rt->cur;
                if (v == sink) {
                    reached = true;
                    break;
                }
                for (int d = 0; d < 4; d++) {
                    int w = rt->m.adj_to[4 * v + d];
                    if (w < 0 || rt->done[w] == rt->cur)
                        continue;
                    int l = link_id(f, net->cls, v / cols, v % cols, d);
                    if (rt->cap[l] == 0)
                        continue;
                    double c = rt->dist[v] + link_cost(rt, l);
                    if (rt->seen[w] != rt->cur || c < rt->dist[w]) {
                        rt->seen[w] = rt->cur;
                        rt->dist[w] = c;
                        rt->prev_link[w] = l;
                        if (heap_push(&rt->h, c + manhattan(f, w, sink), w) != 0)
                            return -1;
                    }
                }
            }
            if (!reached)
                return -1;   /* the mesh is connected and the class has tracks: never */
            int n_path = 0;
            for (int v = sink; rt->in_tree[v] != rt->tree_cur;) {
                int l = rt->prev_link[v];
                rt->path[n_path++] = l;
                v = link_from(f, l);
            }
            for (int j = n_path - 1; j >= 0; j--) {
                int l = rt->path[j];
                int from = link_from(f, l), to = rt->m.adj_to[4 * from + l % 4];
                rt->depth[to] = rt->depth[from] + 1;
                rt->in_tree[to] = rt->tree_cur;
                rt->tree_nodes[n_tree++] = to;
                if (append_link(res, links_cap, l) != 0)
                    return -1;
            }
        }
        res->sink_hops[k] = rt->depth[sink];
    }
    return 0;
}

/* ------------------------------------------------------------ validation */

static const char *net_label(const route_net *n, int i, char *buf, size_t size)
{
    if (n->name)
        snprintf(buf, size, "'%s'", n->name);
    else
        snprintf(buf, size, "#%d", i);
    return buf;
}

static bool on_mesh(const fab_fabric *f, int r, int c)
{
    return r >= 0 && r < f->rows && c >= 0 && c < f->cols;
}

static int check_nets(const fab_fabric *f, const route_net *nets, int n_nets, diag_list *d)
{
    int bad = 0;
    diag_loc at = diag_at_file(NULL);
    for (int i = 0; i < n_nets; i++) {
        const route_net *n = &nets[i];
        char label[160];
        net_label(n, i, label, sizeof label);
        if ((int)n->cls < 0 || (int)n->cls > 2) {
            bad = diag_error(d, at, "stream %s: unknown route class %d", label, (int)n->cls);
            continue;
        }
        if (n->n_sinks < 1 || !n->sink_row || !n->sink_col) {
            bad = diag_error(d, at, "stream %s has no sink", label);
            continue;
        }
        if (!on_mesh(f, n->src_row, n->src_col)) {
            bad = diag_error(d, at, "stream %s: source switch (%d,%d) is outside the %d x %d mesh",
                             label, n->src_row, n->src_col, f->rows, f->cols);
            continue;
        }
        bool away = false;
        for (int k = 0; k < n->n_sinks; k++) {
            if (!on_mesh(f, n->sink_row[k], n->sink_col[k])) {
                bad = diag_error(d, at, "stream %s: sink switch (%d,%d) is outside the %d x %d mesh",
                                 label, n->sink_row[k], n->sink_col[k], f->rows, f->cols);
                away = false;
                break;
            }
            if (n->sink_row[k] != n->src_row || n->sink_col[k] != n->src_col)
                away = true;
        }
        if (away && class_tracks(f, n->cls) == 0)
            bad = diag_error(d, at,
                             "stream %s: a %s stream from switch (%d,%d) to another switch, but "
                             "fabric %s has no %s links (%s_links = 0)",
                             label, CLASS_NAME[n->cls], n->src_row, n->src_col, f->name,
                             CLASS_NAME[n->cls], CLASS_NAME[n->cls]);
    }
    return bad;
}

/* ------------------------------------------------------------- reporting */

/* Is link x worse than link y: more tracks over, then higher use/capacity,
 * then the lower id (so the order is total and fixed). */
static bool worse(const router *rt, int x, int y)
{
    int ox = rt->use[x] - rt->cap[x], oy = rt->use[y] - rt->cap[y];
    if (ox != oy)
        return ox > oy;
    /* use/cap compared exactly: use_x x cap_y against use_y x cap_x */
    long ux = (long)rt->use[x] * rt->cap[y], uy = (long)rt->use[y] * rt->cap[x];
    if (ux != uy)
        return ux > uy;
    return x < y;
}

enum { WORST_SHOWN = 5 };

static void report_overuse(const router *rt, const route_net *nets, int n_nets, const route_result *r,
                           diag_list *d)
{
    const fab_fabric *f = rt->f;
    diag_loc at = diag_at_file(NULL);
    /* The WORST_SHOWN worst overused links, worst first: one scan with a
     * small insertion list. */
    int over[WORST_SHOWN], n_over = 0, n = 0;
    for (int l = 0; l < rt->n_links; l++) {
        if (rt->use[l] <= rt->cap[l])
            continue;
        n++;
        int j = n_over < WORST_SHOWN ? n_over++ : WORST_SHOWN;
        while (j > 0 && worse(rt, l, over[j - 1])) {
            if (j < WORST_SHOWN)
                over[j] = over[j - 1];
            j--;
        }
        if (j < WORST_SHOWN)
            over[j] = l;
    }
    char where[96];
    int w = over[0];
    diag_error(d, at, "%d link%s over capacity after %d iteration%s, worst at %s: %d streams on %d track%s",
               n, n == 1 ? "" : "s", r->iterations, r->iterations == 1 ? "" : "s",
               route_link_str(f, w, where, sizeof where), rt->use[w], rt->cap[w],
               rt->cap[w] == 1 ? "" : "s");
    /* Which streams share the worst link. */
    char names[512];
    size_t len = 0;
    int shown = 0, total = 0;
    names[0] = '\0';
    for (int i = 0; i < n_nets; i++) {
        for (int k = 0; k < r->net[i].n_links; k++)
            if (r->net[i].links[k] == w) {
                total++;
                if (shown < 8 && len < sizeof names - 64) {
                    char label[160];
                    len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", shown ? ", " : "",
                                            net_label(&nets[i], i, label, 48));
                    shown++;
                }
                break;
            }
    }
    if (total > shown)
        snprintf(names + len, sizeof names - len, " and %d more", total - shown);
    diag_note(d, at, "streams on %s: %s", where, names);
    for (int i = 1; i < n_over; i++)
        diag_note(d, at, "also over capacity: %s: %d streams on %d track%s",
                  route_link_str(f, over[i], where, sizeof where), rt->use[over[i]], rt->cap[over[i]],
                  rt->cap[over[i]] == 1 ? "" : "s");
    if (n > n_over)
        diag_note(d, at, "and %d more link%s over capacity", n - n_over, n - n_over == 1 ? "" : "s");
}

/* ------------------------------------------------------------- route_run */

static void router_free(router *rt)
{
    free(rt->m.adj_to);
    free(rt->cap);
    free(rt->use);
    free(rt->hist);
    free(rt->dist);
    free(rt->prev_link);
    free(rt->seen);
    free(rt->done);
    free(rt->in_tree);
    free(rt->depth);
    free(rt->tree_nodes);
    free(rt->path);
    free(rt->order);
    free(rt->h.a);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int route_run(const fab_fabric *f, const route_net *nets, int n_nets, const route_opts *o,
              route_result *r, diag_list *d)
{
    double t0 = now_seconds();
    memset(r, 0, sizeof *r);
    route_opts defaults;
    route_opts_default(&defaults);
    if (!o)
        o = &defaults;
    if (n_nets < 0 || (n_nets > 0 && !nets))
        return diag_error(d, diag_at_file(NULL), "route: %d streams but no stream table", n_nets);
    if (check_nets(f, nets, n_nets, d) != 0)
        return -1;

    router rt;
    memset(&rt, 0, sizeof rt);
    rt.f = f;
    rt.greedy = o->greedy;
    rt.n_links = route_n_links(f);
    int n = f->rows * f->cols, max_sinks = 1;
    for (int i = 0; i < n_nets; i++)
        if (nets[i].n_sinks > max_sinks)
            max_sinks = nets[i].n_sinks;
    int *links_cap = xcalloc((size_t)(n_nets ? n_nets : 1), sizeof *links_cap);
    rt.cap = xmalloc((size_t)rt.n_links * sizeof *rt.cap);
    rt.use = xcalloc((size_t)rt.n_links, sizeof *rt.use);
    rt.hist = xcalloc((size_t)rt.n_links, sizeof *rt.hist);
    rt.dist = xmalloc((size_t)n * sizeof *rt.dist);
    rt.prev_link = xmalloc((size_t)n * sizeof *rt.prev_link);
    rt.seen = xcalloc((size_t)n, sizeof *rt.seen);
    rt.done = xcalloc((size_t)n, sizeof *rt.done);
    rt.in_tree = xcalloc((size_t)n, sizeof *rt.in_tree);
    rt.depth = xmalloc((size_t)n * sizeof *rt.depth);
    rt.tree_nodes = xmalloc((size_t)n * sizeof *rt.tree_nodes);
    rt.path = xmalloc((size_t)n * sizeof *rt.path);
    rt.order = xmalloc((size_t)max_sinks * sizeof *rt.order);
    r->n_nets = n_nets;
    r->net = xcalloc((size_t)(n_nets ? n_nets : 1), sizeof *r->net);
    r->n_links = rt.n_links;
    r->link_use = xcalloc((size_t)rt.n_links, sizeof *r->link_use);
    bool ok = links_cap && rt.cap && rt.use && rt.hist && rt.dist && rt.prev_link && rt.seen &&
              rt.done && rt.in_tree && rt.depth && rt.tree_nodes && rt.path && rt.order && r->net &&
              r->link_use;
    for (int i = 0; ok && i < n_nets; i++) {
        r->net[i].sink_hops = xcalloc((size_t)nets[i].n_sinks, sizeof *r->net[i].sink_hops);
        ok = r->net[i].sink_hops != NULL;
    }
    if (ok && mesh_build(&rt.m, f) != 0) {
        router_free(&rt);
        free(links_cap);
        route_result_free(r);
        return diag_error(d, diag_at_file(NULL), "route: cannot build the %d x %d switch mesh",
                          f->rows, f->cols);
    }
    if (ok)
        for (int l = 0; l < rt.n_links; l++)
            rt.cap[l] = route_link_capacity(f, l);

    int max_iters = o->greedy ? 1 : (o->max_iters > 0 ? o->max_iters : 1);
    int overused = 0;
    for (int iter = 1; ok && iter <= max_iters; iter++) {
        rt.pres_fac = iter == 1 ? 0.0 : o->pres_fac_initial * pow(o->pres_fac_mult, iter - 2);
        for (int i = 0; ok && i < n_nets; i++) {
            route_net_result *res = &r->net[i];
            for (int k = 0; k < res->n_links; k++)
                rt.use[res->links[k]]--;
            if (route_tree(&rt, &nets[i], res, &links_cap[i]) != 0) {
                ok = false;
                break;
            }
            for (int k = 0; k < res->n_links; k++)
                rt.use[res->links[k]]++;
        }
        r->iterations = iter;
        overused = 0;
        for (int l = 0; l < rt.n_links; l++)
            if (rt.use[l] > rt.cap[l]) {
                overused++;
                rt.hist[l] += o->hist_fac * (rt.use[l] - rt.cap[l]);
            }
        if (overused == 0)
            break;
    }
    if (!ok) {
        router_free(&rt);
        free(links_cap);
        route_result_free(r);
        return diag_error(d, diag_at_file(NULL), "route: out of memory");
    }

    r->overused_links = overused;
    for (int i = 0; i < n_nets; i++) {
        r->total_hops += r->net[i].n_links;
        for (int k = 0; k < nets[i].n_sinks; k++)
            if (r->net[i].sink_hops[k] > r->max_hops)
                r->max_hops = r->net[i].sink_hops[k];
    }
    for (int l = 0; l < rt.n_links; l++) {
        r->link_use[l] = rt.use[l];
        if (rt.cap[l] > 0 && (double)rt.use[l] / rt.cap[l] > r->max_link_util)
            r->max_link_util = (double)rt.use[l] / rt.cap[l];
    }
    if (overused > 0)
        report_overuse(&rt, nets, n_nets, r, d);
    router_free(&rt);
    free(links_cap);
    r->seconds = now_seconds() - t0;
    return overused > 0 ? -1 : 0;
}
