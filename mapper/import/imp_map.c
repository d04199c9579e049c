/*
 * imp_map.c — mapping an imported graph spatially, as on an RDU.
 *
 * Every operation occupies one pipeline stage; nothing is time-multiplexed.
 *   - Immediates (MOVC, const) fold into their consumers: no unit, no stream.
 *   - Memory operations are ports of VPMUs.  Operations on the same array
 *     (Morpher's BasePointerName, CGRA-ME's `array=`) share a VPMU while its
 *     ports allow; an operation on an unknown array gets a VPMU of its own.
 *     The fabric contract gives a PMU no port counts, so a PMU is held to
 *     the PCU's (vector_in / vector_out): an assumption, stated in the docs.
 *   - CGRA-ME input/output nodes are VAGs: streams through an AGCU.
 *   - Compute operations are clustered into VPCUs of at most `stages`
 *     operations whose input and output streams fit vector_in/vector_out.
 *     A stream is one value sent to one other unit (a multicast to three
 *     units is three streams, one route tree).  Clustering minimises the
 *     streams that cross between units, a stream on a recurrence weighing
 *     REC_WEIGHT (it adds its hops to the II), in three steps:
 *       0. seeding: the compute operations of each recurrence (a strongly
 *          connected component) that fits one PCU start in one VPCU; one
 *          that does not starts as consecutive runs, each in its own VPCU;
 *       1. greedy topological packing: each other operation, in topological
 *          order, joins the VPCU holding most of its neighbours that still
 *          has a free stage, fits its ports and keeps the unit graph
 *          acyclic; else it opens a new VPCU;
 *       2. refinement to a fixed point: single operations move to a
 *          neighbouring VPCU, and pairs of VPCUs merge, whenever that
 *          removes streams (or, for merges, keeps them) within the limits.
 *     Each step looks only at the neighbourhood it changes, so clustering
 *     a 1000-operation graph takes tens of milliseconds.
 *     "Acyclic" is over distance-0 edges between VPCUs (PMU ports and VAGs
 *     count one per operation): a pipeline reads its inputs at stage 1 and
 *     emits after its last stage, so a same-iteration path that leaves a
 *     VPCU and re-enters it would deadlock.
 *   - Loop-carried edges are feedback streams: routed like any stream.
 *
 * Timing, in cycles.  An operation takes one stage.  Within a VPCU a value
 * computed at stage i and used at stage j > i waits j - i - 1 cycles in
 * pipeline registers (a loop-carried value fed back to an earlier stage
 * waits none).  Between units a value leaves after the source pipeline's
 * last stage, crosses hops x hop_cycles, and enters at stage 1 of the
 * destination.  Hops are the routed hops (Manhattan distance when routing
 * was not done).
 *   - II = the maximum cycle ratio: over all recurrence cycles, cycle
 *     latency / cycle iteration distance (the number of nextiter edges on
 *     it), rounded up, at least 1.  Computed exactly, not by enumerating
 *     cycles: the smallest integer L such that no cycle has positive weight
 *     under w(e) = latency(e) - L x distance(e), found by Bellman-Ford
 *     positive-cycle detection and bisection on L.  The cycle that sets II
 *     is extracted from the Bellman-Ford predecessors at L - 1.
 *   - RecMII, the bound before placement, is the same with stages only
 *     (every edge latency 1: the operations of the cycle).
 *   - Latency of one iteration: the longest path over distance-0 edges.
 */
#include "mapper/import/imp_internal.h"
#include "util/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- the state */

typedef struct part {
    place_kind kind;
    int size;
    const char *array;   /* PMU: the array, or NULL */
} part;

typedef struct mapper {
    const imp_graph *g;
    const fab_fabric *f;
    imp_report *r;
    diag_list *d;
    int n;               /* nodes */
    bool *live;          /* not an immediate */
    int *topo;           /* live nodes in topological order (distance-0 edges) */
    int n_topo;
    int *part_of;        /* node -> part, -1 for immediates and unassigned */
    part *parts;
    int n_parts, cap_parts;
    /* scratch for the checks, sized n + parts */
    int *mark;
    int *indeg;
    int *queue;
    /* edges */
    int *out_first;      /* out-edges of live node v: out_edge[out_first[v] .. out_first[v+1]) */
    int *out_edge;
    int *in_first;       /* in-edges from live producers, the same way */
    int *in_edge;
    bool *recurrent;     /* per edge: it lies on a cycle */
    unsigned *stamp;     /* per node: visited in the current local_cost */
    int *adj_first, *adj_fill, *adj;   /* acyclic()'s adjacency, parts + nodes */
    unsigned stamp_now;
} mapper;

static bool compute_node(const mapper *m, int v)
{
    return m->g->node[v].info->cls == IMP_COMPUTE;
}

/* An edge carries a stream when its source is a live operation. */
static bool stream_edge(const mapper *m, int e)
{
    return m->live[m->g->edge[e].src];
}

static int new_part(mapper *m, place_kind kind, const char *array)
{
    if (m->n_parts == m->cap_parts) {
        int cap = m->cap_parts ? 2 * m->cap_parts : 16;
        part *bigger = xrealloc(m->parts, (size_t)cap * sizeof *bigger);
        if (!bigger)
            return -1;
        m->parts = bigger;
        m->cap_parts = cap;
    }
    m->parts[m->n_parts] = (part){kind, 0, array};
    return m->n_parts++;
}

/* Topological order of live nodes over distance-0 edges (the graph has
 * passed imp_graph_check, so one exists).  Ties go to the smaller ASAP,
 * then to the file order, so that the order reads like the source. */
static int order_nodes(mapper *m)
{
    const imp_graph *g = m->g;
    int *indeg = xcalloc((size_t)m->n + 1, sizeof *indeg);
    bool *done = xcalloc((size_t)m->n + 1, sizeof *done);
    if (!indeg || !done) {
        free(indeg), free(done);
        return -1;
    }
    for (int e = 0; e < g->n_edges; e++)
        if (g->edge[e].distance == 0 && stream_edge(m, e))
            indeg[g->edge[e].dst]++;
    m->n_topo = 0;
    int live = 0;
    for (int v = 0; v < m->n; v++)
        live += m->live[v];
    while (m->n_topo < live) {
        int best = -1;
        for (int v = 0; v < m->n; v++) {
            if (!m->live[v] || done[v] || indeg[v] > 0)
                continue;
            if (best < 0 || g->node[v].asap < g->node[best].asap)
                best = v;
        }
        if (best < 0)
            break;
        done[best] = true;
        m->topo[m->n_topo++] = best;
        for (int e = 0; e < g->n_edges; e++)
            if (g->edge[e].src == best && g->edge[e].distance == 0)
                indeg[g->edge[e].dst]--;
    }
    free(indeg), free(done);
    return m->n_topo == live ? 0 : -1;
}

/* ------------------------------------------------------------ the limits */

/* Input and output streams of part p under the current assignment: an
 * unassigned node counts as outside every part. */
static void ports(mapper *m, int p, int *in, int *out)
{
    const imp_graph *g = m->g;
    *in = *out = 0;
    /* mark[v] bit 1: v's value enters p; bit 2: v's value leaves p */
    memset(m->mark, 0, (size_t)m->n * sizeof *m->mark);
    for (int e = 0; e < g->n_edges; e++) {
        if (!stream_edge(m, e))
            continue;
        int a = g->edge[e].src, b = g->edge[e].dst;
        bool a_in = m->part_of[a] == p, b_in = m->part_of[b] == p;
        if (!a_in && b_in && !(m->mark[a] & 1)) {
            m->mark[a] |= 1;
            (*in)++;
        }
        if (a_in && !b_in && !(m->mark[a] & 2)) {
            m->mark[a] |= 2;
            (*out)++;
        }
    }
}

static bool ports_fit(mapper *m, int p)
{
    if (p < 0 || m->parts[p].kind == PLACE_AGCU || m->parts[p].size == 0)
        return true;
    int in, out;
    ports(m, p, &in, &out);
    return in <= m->f->vector_in && out <= m->f->vector_out;
}

/* True when the graph of PCU parts (other nodes one vertex each) has no
 * cycle over distance-0 edges.  Kahn's algorithm on an adjacency built
 * for the call, O(nodes + edges). */
static bool acyclic(mapper *m)
{
    const imp_graph *g = m->g;
    int nv = m->n_parts + m->n;
#define VERTEX(v) (m->part_of[v] >= 0 && m->parts[m->part_of[v]].kind == PLACE_PCU ? m->part_of[v] \
                                                                                  : m->n_parts + (v))
    memset(m->indeg, 0, (size_t)nv * sizeof *m->indeg);
    memset(m->adj_first, 0, ((size_t)nv + 1) * sizeof *m->adj_first);
    for (int e = 0; e < g->n_edges; e++) {
        if (!stream_edge(m, e) || g->edge[e].distance != 0)
            continue;
        int a = VERTEX(g->edge[e].src), b = VERTEX(g->edge[e].dst);
        if (a != b) {
            m->indeg[b]++;
            m->adj_first[a + 1]++;
        }
    }
    for (int x = 0; x < nv; x++)
        m->adj_first[x + 1] += m->adj_first[x];
    memcpy(m->adj_fill, m->adj_first, (size_t)nv * sizeof *m->adj_fill);
    for (int e = 0; e < g->n_edges; e++) {
        if (!stream_edge(m, e) || g->edge[e].distance != 0)
            continue;
        int a = VERTEX(g->edge[e].src), b = VERTEX(g->edge[e].dst);
        if (a != b)
            m->adj[m->adj_fill[a]++] = b;
    }
#undef VERTEX
    int head = 0, tail = 0;
    for (int x = 0; x < nv; x++)
        if (m->indeg[x] == 0)
            m->queue[tail++] = x;
    while (head < tail) {
        int x = m->queue[head++];
        for (int k = m->adj_first[x]; k < m->adj_first[x + 1]; k++)
            if (--m->indeg[m->adj[k]] == 0)
                m->queue[tail++] = m->adj[k];
    }
    return tail == nv;
}

/* The clustering objective: streams between parts, (value, consumer part)
 * pairs, unassigned nodes each a part of their own.  A stream that closes
 * a recurrence (its edge lies on a cycle) weighs REC_WEIGHT: it adds its
 * pipeline and hops to the II, where any other stream only adds latency. */
enum { REC_WEIGHT = 4 };

/* The weighted streams of one value u: its distinct consumer parts other
 * than its own (an unassigned consumer is a part of its own). */
static int value_cost(const mapper *m, int u)
{
    const imp_graph *g = m->g;
    if (!m->live[u])
        return 0;
    int pu = m->part_of[u], cost = 0;
    const int *out = m->out_edge + m->out_first[u];
    int n_out = m->out_first[u + 1] - m->out_first[u];
    for (int i = 0; i < n_out; i++) {
        int c = g->edge[out[i]].dst, pc = m->part_of[c];
        if ((pc == pu && pc >= 0) || c == u)
            continue;
        bool seen = false;
        for (int j = 0; j < i && !seen; j++) {
            int c2 = g->edge[out[j]].dst;
            seen = pc >= 0 ? m->part_of[c2] == pc : c2 == c;
        }
        if (seen)
            continue;
        bool rec = false;
        for (int j = i; j < n_out && !rec; j++) {
            int c2 = g->edge[out[j]].dst;
            if (pc >= 0 ? m->part_of[c2] == pc : c2 == c)
                rec = m->recurrent[out[j]];
        }
        cost += rec ? REC_WEIGHT : 1;
    }
    return cost;
}

/* The cost of the values whose streams change when the nodes in `moved`
 * change part: the moved nodes' own values and those of their producers,
 * each counted once (stamp[] marks them). */
static int local_cost(mapper *m, const int *moved, int n_moved)
{
    const imp_graph *g = m->g;
    m->stamp_now++;
    int cost = 0;
    for (int k = 0; k < n_moved; k++) {
        int v = moved[k];
        if (m->stamp[v] != m->stamp_now) {
            m->stamp[v] = m->stamp_now;
            cost += value_cost(m, v);
        }
        for (int i = m->in_first[v]; i < m->in_first[v + 1]; i++) {
            int u = g->edge[m->in_edge[i]].src;
            if (m->stamp[u] != m->stamp_now) {
                m->stamp[u] = m->stamp_now;
                cost += value_cost(m, u);
            }
        }
    }
    return cost;
}

/* Out-edge lists of live nodes, and which edges lie on a cycle (the
 * destination reaches the source, over edges of any distance). */
static int index_edges(mapper *m)
{
    const imp_graph *g = m->g;
    size_t nn = (size_t)m->n + 2, ne = (size_t)g->n_edges + 1;
    m->out_first = xcalloc(nn, sizeof *m->out_first);
    m->out_edge = xmalloc(ne * sizeof *m->out_edge);
    m->in_first = xcalloc(nn, sizeof *m->in_first);
    m->in_edge = xmalloc(ne * sizeof *m->in_edge);
    m->stamp = xcalloc(nn, sizeof *m->stamp);
    m->recurrent = xcalloc(ne, sizeof *m->recurrent);
    bool *seen = xmalloc(nn * sizeof *seen);
    int *fill = xmalloc(nn * sizeof *fill);
    if (!m->out_first || !m->out_edge || !m->in_first || !m->in_edge || !m->stamp || !m->recurrent || !seen ||
        !fill) {
        free(seen), free(fill);
        return -1;
    }
    for (int e = 0; e < g->n_edges; e++)
        if (m->live[g->edge[e].src])
            m->out_first[g->edge[e].src + 1]++;
    for (int v = 0; v < m->n; v++)
        m->out_first[v + 1] += m->out_first[v];
    memcpy(fill, m->out_first, (size_t)(m->n + 1) * sizeof *fill);
    for (int e = 0; e < g->n_edges; e++)
        if (m->live[g->edge[e].src])
            m->out_edge[fill[g->edge[e].src]++] = e;
    /* in-edges from live producers */
    for (int e = 0; e < g->n_edges; e++)
        if (m->live[g->edge[e].src])
            m->in_first[g->edge[e].dst + 1]++;
    for (int v = 0; v < m->n; v++)
        m->in_first[v + 1] += m->in_first[v];
    memcpy(fill, m->in_first, (size_t)(m->n + 1) * sizeof *fill);
    for (int e = 0; e < g->n_edges; e++)
        if (m->live[g->edge[e].src])
            m->in_edge[fill[g->edge[e].dst]++] = e;
    for (int e = 0; e < g->n_edges; e++) {
        int a = g->edge[e].src, b = g->edge[e].dst;
        if (!m->live[a])
            continue;
        if (a == b) {
            m->recurrent[e] = true;
            continue;
        }
        memset(seen, 0, nn * sizeof *seen);
        int head = 0, tail = 0;
        m->queue[tail++] = b;
        seen[b] = true;
        while (head < tail && !seen[a]) {
            int u = m->queue[head++];
            for (int k = m->out_first[u]; k < m->out_first[u + 1]; k++) {
                int w = g->edge[m->out_edge[k]].dst;
                if (!seen[w]) {
                    seen[w] = true;
                    m->queue[tail++] = w;
                }
            }
        }
        m->recurrent[e] = seen[a];
    }
    free(seen), free(fill);
    return 0;
}

/* Move v to part `to` (or -1); keep sizes. */
static void assign(mapper *m, int v, int to)
{
    int from = m->part_of[v];
    if (from >= 0)
        m->parts[from].size--;
    m->part_of[v] = to;
    if (to >= 0)
        m->parts[to].size++;
}

/* ------------------------------------------------------------ clustering */

/* Memory operations into VPMUs (by array while the ports allow), I/O into
 * VAGs. */
static int group_memory_and_io(mapper *m)
{
    const imp_graph *g = m->g;
    for (int i = 0; i < m->n_topo; i++) {
        int v = m->topo[i];
        imp_op_class cls = g->node[v].info->cls;
        if (cls == IMP_INPUT || cls == IMP_OUTPUT) {
            int p = new_part(m, PLACE_AGCU, NULL);
            if (p < 0)
                return -1;
            assign(m, v, p);
            continue;
        }
        if (cls != IMP_LOAD && cls != IMP_STORE)
            continue;
        const char *array = g->node[v].base;
        bool placed = false;
        for (int p = 0; p < m->n_parts && array && !placed; p++) {
            if (m->parts[p].kind != PLACE_PMU || !m->parts[p].array || strcmp(m->parts[p].array, array) != 0)
                continue;
            assign(m, v, p);
            if (ports_fit(m, p))
                placed = true;
            else
                assign(m, v, -1);
        }
        if (!placed) {
            int p = new_part(m, PLACE_PMU, array);
            if (p < 0)
                return -1;
            assign(m, v, p);
        }
    }
    return 0;
}

/* Neighbour count of v inside part p (edges either way, any distance;
 * recurrent edges weigh REC_WEIGHT). */
static int ties(const mapper *m, int v, int p)
{
    const imp_graph *g = m->g;
    int k = 0;
    for (int i = m->out_first[v]; i < m->out_first[v + 1]; i++) {
        int e = m->out_edge[i], c = g->edge[e].dst;
        if (c != v && m->live[c] && m->part_of[c] == p)
            k += m->recurrent[e] ? REC_WEIGHT : 1;
    }
    for (int i = m->in_first[v]; i < m->in_first[v + 1]; i++) {
        int e = m->in_edge[i], u = g->edge[e].src;
        if (u != v && m->part_of[u] == p)
            k += m->recurrent[e] ? REC_WEIGHT : 1;
    }
    return k;
}

/* The neighbour of v across its i-th edge (out-edges first, then in-edges),
 * or -1 past the end. */
static int neighbour(const mapper *m, int v, int i)
{
    int n_out = m->out_first[v + 1] - m->out_first[v];
    int n_in = m->in_first[v + 1] - m->in_first[v];
    if (i < n_out)
        return m->g->edge[m->out_edge[m->out_first[v] + i]].dst;
    if (i < n_out + n_in)
        return m->g->edge[m->in_edge[m->in_first[v] + i - n_out]].src;
    return -1;
}

static int find_root(int *up, int x)
{
    while (up[x] != x)
        x = up[x] = up[up[x]];
    return x;
}

/* Seed one VPCU with the compute operations of each recurrence (a strongly
 * connected component: the components of the edges that lie on cycles)
 * that fits in one pipeline, so that its cycle pays no hops.  A recurrence
 * that does not fit (too many operations, or too many streams for the
 * ports) is seeded as consecutive segments, as few as the limits allow. */
static int seed_recurrences(mapper *m)
{
    const imp_graph *g = m->g;
    int *up = xmalloc(((size_t)m->n + 1) * sizeof *up);
    bool *tried = xcalloc((size_t)m->n + 1, sizeof *tried);   /* by root: seeded once */
    if (!up || !tried) {
        free(up), free(tried);
        return -1;
    }
    for (int v = 0; v < m->n; v++)
        up[v] = v;
    for (int e = 0; e < g->n_edges; e++)
        if (m->recurrent[e])
            up[find_root(up, g->edge[e].src)] = find_root(up, g->edge[e].dst);
    for (int i = 0; i < m->n_topo; i++) {
        int root = find_root(up, m->topo[i]);
        if (!compute_node(m, m->topo[i]) || m->part_of[m->topo[i]] >= 0 || tried[root])
            continue;
        tried[root] = true;
        int members = 0;
        for (int k = 0; k < m->n_topo; k++) {
            int v = m->topo[k];
            members += compute_node(m, v) && find_root(up, v) == root;
        }
        bool cyclic = false;
        for (int e = 0; e < g->n_edges && !cyclic; e++)
            cyclic = m->recurrent[e] && find_root(up, g->edge[e].src) == root;
        if (!cyclic || members < 2)
            continue;
        /* Whole, when it fits one pipeline: its cycle pays no hop. */
        int p = new_part(m, PLACE_PCU, NULL);
        if (p < 0) {
            free(up), free(tried);
            return -1;
        }
        if (members <= m->f->stages) {
            for (int k = 0; k < m->n_topo; k++) {
                int v = m->topo[k];
                if (compute_node(m, v) && find_root(up, v) == root)
                    assign(m, v, p);
            }
            if (ports_fit(m, p) && acyclic(m))
                continue;
            for (int v = 0; v < m->n; v++)
                if (m->part_of[v] == p)
                    assign(m, v, -1);
        }
        /* Else as few segments as the stage, port and acyclic limits allow,
         * each a run of the recurrence in topological order, seeded before
         * any other operation can take their stages and ports: every cut
         * adds its hops to the II.  A new VPCU is opened only when the
         * current one is not empty, so at most one is left empty per
         * recurrence (the bound on parts in imp_map). */
        for (int k = 0; k < m->n_topo; k++) {
            int v = m->topo[k];
            if (!compute_node(m, v) || find_root(up, v) != root || m->part_of[v] >= 0)
                continue;
            if (m->parts[p].size < m->f->stages) {
                assign(m, v, p);
                if (ports_fit(m, p) && acyclic(m))
                    continue;
                assign(m, v, -1);
            }
            if (m->parts[p].size == 0)
                continue;   /* v alone breaks a limit: left to the packing */
            p = new_part(m, PLACE_PCU, NULL);
            if (p < 0) {
                free(up), free(tried);
                return -1;
            }
            assign(m, v, p);
            if (!ports_fit(m, p) || !acyclic(m))
                assign(m, v, -1);
        }
    }
    free(up), free(tried);
    return 0;
}

static int pack_compute(mapper *m)
{
    int stages = m->f->stages;
    for (int i = 0; i < m->n_topo; i++) {
        int v = m->topo[i];
        if (!compute_node(m, v) || m->part_of[v] >= 0)
            continue;
        int best = -1, best_ties = 0;
        int other;
        for (int k = 0; (other = neighbour(m, v, k)) >= 0; k++) {
            int p = m->part_of[other];
            if (p < 0 || m->parts[p].kind != PLACE_PCU || m->parts[p].size >= stages)
                continue;
            /* most ties; among equals the newest VPCU, the one being filled */
            int t = ties(m, v, p);
            if (t == 0 || t < best_ties || (t == best_ties && p <= best))
                continue;
            assign(m, v, p);
            bool ok = ports_fit(m, p) && acyclic(m);
            assign(m, v, -1);
            if (ok) {
                best = p;
                best_ties = t;
            }
        }
        if (best < 0) {
            best = new_part(m, PLACE_PCU, NULL);
            if (best < 0)
                return -1;
        }
        assign(m, v, best);
    }
    return 0;
}

/* One pass of single-operation moves and pairwise merges; true when the
 * clustering changed.  A move must remove streams, a merge must not add
 * any; both must keep the stage, port and acyclic limits.  Costs are
 * compared on the values the change touches only (local_cost). */
static bool refine_pass(mapper *m)
{
    int stages = m->f->stages;
    bool changed = false;
    for (int i = 0; i < m->n_topo; i++) {
        int v = m->topo[i];
        if (!compute_node(m, v))
            continue;
        int other;
        for (int k = 0; (other = neighbour(m, v, k)) >= 0; k++) {
            int from = m->part_of[v], to = other >= 0 && m->live[other] ? m->part_of[other] : -1;
            if (to < 0 || to == from || m->parts[to].kind != PLACE_PCU || m->parts[to].size >= stages)
                continue;
            int before = local_cost(m, &v, 1);
            assign(m, v, to);
            int after = local_cost(m, &v, 1);
            if (after < before && ports_fit(m, to) && ports_fit(m, from) && acyclic(m))
                changed = true;
            else
                assign(m, v, from);
        }
    }
    int *members = xmalloc(2 * ((size_t)m->n + 1) * sizeof *members);
    int *linked = xmalloc(((size_t)m->n_parts + 1) * sizeof *linked);
    if (!members || !linked) {
        free(members), free(linked);
        return changed;
    }
    for (int a = 0; a < m->n_parts; a++) {
        if (m->parts[a].kind != PLACE_PCU || m->parts[a].size == 0)
            continue;
    rescan:;
        /* the PCU parts a stream links to a, in index order */
        int n_a = 0, n_linked = 0;
        for (int v = 0; v < m->n; v++)
            if (m->part_of[v] == a)
                members[n_a++] = v;
        for (int k = 0; k < n_a; k++) {
            int other;
            for (int i = 0; (other = neighbour(m, members[k], i)) >= 0; i++) {
                int b = m->part_of[other];
                if (b <= a || m->parts[b].kind != PLACE_PCU)
                    continue;
                int j = n_linked;
                while (j > 0 && linked[j - 1] > b)
                    j--;
                if (j > 0 && linked[j - 1] == b)
                    continue;
                memmove(linked + j + 1, linked + j, (size_t)(n_linked - j) * sizeof *linked);
                linked[j] = b;
                n_linked++;
            }
        }
        for (int j = 0; j < n_linked; j++) {
            int b = linked[j];
            if (m->parts[b].size == 0 || m->parts[a].size + m->parts[b].size > stages)
                continue;
            int n_both = n_a;
            for (int v = 0; v < m->n; v++)
                if (m->part_of[v] == b)
                    members[n_both++] = v;
            int before = local_cost(m, members, n_both);
            for (int k = n_a; k < n_both; k++)
                assign(m, members[k], a);
            int after = local_cost(m, members, n_both);
            if (after <= before && ports_fit(m, a) && acyclic(m)) {
                changed = true;
                goto rescan;   /* a grew: its links changed */
            } else {
                for (int k = n_a; k < n_both; k++)
                    assign(m, members[k], b);
            }
        }
    }
    free(members), free(linked);
    return changed;
}

/* ------------------------------------------------------------ the units */

/* Turn the parts into the report's units: PCUs, then PMUs, then VAGs, each
 * with its operations in stage order.  Fills unit_of and stage_of. */
static int build_units(mapper *m)
{
    imp_report *r = m->r;
    const imp_graph *g = m->g;
    int *unit_of_part = xmalloc(((size_t)m->n_parts + 1) * sizeof *unit_of_part);
    if (!unit_of_part)
        return -1;
    r->n_units = 0;
    const place_kind order[3] = {PLACE_PCU, PLACE_PMU, PLACE_AGCU};
    for (int k = 0; k < 3; k++)
        for (int p = 0; p < m->n_parts; p++)
            if (m->parts[p].kind == order[k] && m->parts[p].size > 0)
                unit_of_part[p] = r->n_units++;
            else if (m->parts[p].kind == order[k])
                unit_of_part[p] = -1;
    r->unit = arena_calloc(&r->arena, (size_t)r->n_units + 1, sizeof *r->unit);
    if (!r->unit) {
        free(unit_of_part);
        return -1;
    }
    for (int p = 0; p < m->n_parts; p++) {
        int u = unit_of_part[p];
        if (u < 0)
            continue;
        imp_unit *unit = &r->unit[u];
        unit->kind = m->parts[p].kind;
        unit->array = m->parts[p].array ? arena_strdup(&r->arena, m->parts[p].array) : NULL;
        unit->site = -1;
        unit->ops = arena_calloc(&r->arena, (size_t)m->parts[p].size, sizeof *unit->ops);
        if (!unit->ops) {
            free(unit_of_part);
            return -1;
        }
        int in, out;
        ports(m, p, &in, &out);
        unit->in_streams = in;
        unit->out_streams = out;
        if (unit->kind == PLACE_PCU) {
            r->n_pcus++;
        } else if (unit->kind == PLACE_PMU) {
            r->n_pmus++;
        } else {
            r->n_ags++;
        }
    }
    int pcu = 0, pmu = 0, ag = 0;
    for (int u = 0; u < r->n_units; u++) {
        imp_unit *unit = &r->unit[u];
        if (unit->kind == PLACE_PCU)
            unit->name = arena_printf(&r->arena, "pcu%d", pcu++);
        else if (unit->kind == PLACE_PMU)
            unit->name = unit->array ? arena_printf(&r->arena, "pmu%d:%s", pmu++, unit->array)
                                     : arena_printf(&r->arena, "pmu%d", pmu++);
        else
            unit->name = arena_printf(&r->arena, "ag%d", ag++);
    }
    for (int v = 0; v < m->n; v++)
        r->unit_of[v] = -1;
    for (int i = 0; i < m->n_topo; i++) {
        int v = m->topo[i];
        int u = unit_of_part[m->part_of[v]];
        imp_unit *unit = &r->unit[u];
        unit->ops[unit->n_ops++] = v;
        r->unit_of[v] = u;
        r->stage_of[v] = unit->n_ops;
        if (unit->kind == PLACE_AGCU && unit->n_ops == 1)
            unit->name = arena_printf(&r->arena, "%s:%s", unit->name, g->node[v].name);
    }
    for (int u = 0; u < r->n_units; u++)
        if (r->unit[u].kind == PLACE_PCU && r->unit[u].n_ops > r->max_stages_used)
            r->max_stages_used = r->unit[u].n_ops;
    free(unit_of_part);
    return 0;
}

/* Streams: (value, consumer unit) pairs with the consumer elsewhere.
 * stream_of[e] gives each edge its stream, or -1 when it stays in its unit
 * (or comes from an immediate). */
typedef struct streams {
    int n;
    int *value;          /* producing node */
    int *dst_unit;
    bool *feedback;      /* carries a loop-carried edge */
    int *stream_of;      /* per edge */
} streams;

static int build_streams(mapper *m, streams *s)
{
    const imp_graph *g = m->g;
    imp_report *r = m->r;
    size_t ne = (size_t)g->n_edges + 1;
    s->value = xmalloc(ne * sizeof *s->value);
    s->dst_unit = xmalloc(ne * sizeof *s->dst_unit);
    s->feedback = xcalloc(ne, sizeof *s->feedback);
    s->stream_of = xmalloc(ne * sizeof *s->stream_of);
    s->n = 0;
    if (!s->value || !s->dst_unit || !s->feedback || !s->stream_of)
        return -1;
    for (int e = 0; e < g->n_edges; e++) {
        const imp_edge *ed = &g->edge[e];
        s->stream_of[e] = -1;
        if (!m->live[ed->src])
            continue;
        int us = r->unit_of[ed->src], ud = r->unit_of[ed->dst];
        if (us == ud)
            continue;
        int k = 0;
        while (k < s->n && !(s->value[k] == ed->src && s->dst_unit[k] == ud))
            k++;
        if (k == s->n) {
            s->value[k] = ed->src;
            s->dst_unit[k] = ud;
            s->n++;
        }
        s->stream_of[e] = k;
        if (ed->distance > 0)
            s->feedback[k] = true;
    }
    r->n_streams = s->n;
    r->stream = arena_calloc(&r->arena, (size_t)s->n + 1, sizeof *r->stream);
    if (!r->stream)
        return -1;
    for (int k = 0; k < s->n; k++)
        r->stream[k] = (imp_stream){r->unit_of[s->value[k]], s->dst_unit[k],
                                    arena_strdup(&r->arena, g->node[s->value[k]].name), s->feedback[k], -1};
    r->n_feedback = 0;
    for (int k = 0; k < s->n; k++)
        r->n_feedback += s->feedback[k];
    return 0;
}

static void streams_free(streams *s)
{
    free(s->value), free(s->dst_unit), free(s->feedback), free(s->stream_of);
}

/* ---------------------------------------------------------------- timing */

/* The latency an edge adds on top of its source's own stage (see the top
 * of this file); hops[k] per stream (NULL: 0). */
static int transfer(const mapper *m, int e, const streams *s, const int *hops)
{
    const imp_graph *g = m->g;
    const imp_report *r = m->r;
    int a = g->edge[e].src, b = g->edge[e].dst;
    int ua = r->unit_of[a], ub = r->unit_of[b];
    int sa = r->stage_of[a], sb = r->stage_of[b];
    if (ua == ub) {
        if (r->unit[ua].kind == PLACE_PCU && sb > sa)
            return sb - sa - 1;
        return 0;
    }
    int tail = r->unit[ua].kind == PLACE_PCU ? r->unit[ua].n_ops - sa : 0;
    int head = r->unit[ub].kind == PLACE_PCU ? sb - 1 : 0;
    int k = s->stream_of[e];
    int h = hops && k >= 0 ? hops[k] : 0;
    return tail + h * m->f->hop_cycles + head;
}

/* Bellman-Ford on longest paths with w(e) = lat[e] - L x dist(e): true when
 * a positive cycle exists; *witness gets a node on it. */
static bool positive_cycle(const mapper *m, const int *lat, long long L, int *pred, long long *dist,
                           int *witness)
{
    const imp_graph *g = m->g;
    for (int v = 0; v < m->n; v++) {
        dist[v] = 0;
        pred[v] = -1;
    }
    int last = -1;
    for (int round = 0; round <= m->n; round++) {
        last = -1;
        for (int e = 0; e < g->n_edges; e++) {
            if (lat[e] < 0)
                continue;
            int a = g->edge[e].src, b = g->edge[e].dst;
            long long w = lat[e] - L * g->edge[e].distance;
            if (dist[a] + w > dist[b]) {
                dist[b] = dist[a] + w;
                pred[b] = e;
                last = b;
            }
        }
        if (last < 0)
            return false;
    }
    *witness = last;
    return true;
}

/* The smallest integer II >= 1 with no cycle of latency > II x distance;
 * lat[e] < 0 drops an edge.  The cycle that sets it goes into the report
 * when `name_cycle`. */
static int max_cycle_ii(mapper *m, const int *lat, bool name_cycle)
{
    const imp_graph *g = m->g;
    int *pred = xmalloc(((size_t)m->n + 1) * sizeof *pred);
    long long *dist = xmalloc(((size_t)m->n + 1) * sizeof *dist);
    if (!pred || !dist) {
        free(pred), free(dist);
        return 1;
    }
    long long hi = 1;
    for (int e = 0; e < g->n_edges; e++)
        if (lat[e] > 0)
            hi += lat[e];
    long long lo = 1;
    int witness;
    /* invariant: no positive cycle at hi */
    while (lo < hi) {
        long long mid = lo + (hi - lo) / 2;
        if (positive_cycle(m, lat, mid, pred, dist, &witness))
            lo = mid + 1;
        else
            hi = mid;
    }
    int ii = (int)lo;
    if (name_cycle && positive_cycle(m, lat, ii - 1, pred, dist, &witness)) {
        int x = witness;
        for (int i = 0; i < m->n; i++)
            x = g->edge[pred[x]].src;
        int len = 0, latency = 0, distance = 0;
        size_t text_len = 1;
        int y = x;
        do {
            int e = pred[y];
            latency += lat[e];
            distance += g->edge[e].distance;
            text_len += strlen(g->node[y].name) + 4;
            y = g->edge[e].src;
            len++;
        } while (y != x && len <= m->n);
        text_len += strlen(g->node[x].name);
        char *text = arena_alloc(&m->r->arena, text_len + 8);
        int *cyc = xmalloc(((size_t)len + 1) * sizeof *cyc);
        if (text && cyc) {
            y = x;
            for (int i = 0; i < len; i++) {
                cyc[len - 1 - i] = y;
                y = g->edge[pred[y]].src;
            }
            text[0] = '\0';
            for (int i = 0; i < len; i++) {
                strcat(text, g->node[cyc[i]].name);
                strcat(text, " -> ");
            }
            strcat(text, g->node[cyc[0]].name);
            m->r->ii_cycle = text;
            m->r->ii_cycle_latency = latency;
            m->r->ii_cycle_distance = distance;
        }
        free(cyc);
    }
    free(pred), free(dist);
    return ii;
}

/* Longest path over distance-0 edges, nodes counting one stage each. */
static int longest_path(const mapper *m, const int *lat)
{
    const imp_graph *g = m->g;
    int *t = xcalloc((size_t)m->n + 1, sizeof *t);
    if (!t)
        return 0;
    int best = 0;
    for (int i = 0; i < m->n_topo; i++) {
        int v = m->topo[i];
        int start = 0;
        for (int e = 0; e < g->n_edges; e++)
            if (g->edge[e].dst == v && g->edge[e].distance == 0 && lat[e] >= 0) {
                int a = g->edge[e].src;
                if (t[a] - 1 + lat[e] > start)
                    start = t[a] - 1 + lat[e];
            }
        t[v] = start + 1;
        if (t[v] > best)
            best = t[v];
    }
    free(t);
    return best;
}

/* RecMII, depth, II and latency.  hops may be NULL (before placement). */
static int time_design(mapper *m, const streams *s, const int *hops)
{
    const imp_graph *g = m->g;
    int *lat = xmalloc(((size_t)g->n_edges + 1) * sizeof *lat);
    if (!lat)
        return -1;
    for (int e = 0; e < g->n_edges; e++)
        lat[e] = m->live[g->edge[e].src] ? 1 : -1;
    m->r->recmii = max_cycle_ii(m, lat, hops == NULL);
    m->r->depth = longest_path(m, lat);
    if (hops) {
        for (int e = 0; e < g->n_edges; e++)
            if (lat[e] > 0)
                lat[e] = 1 + transfer(m, e, s, hops);
        m->r->ii = max_cycle_ii(m, lat, true);
        m->r->latency = longest_path(m, lat);
    }
    free(lat);
    return 0;
}

/* -------------------------------------------------------- place and route */

static int place_and_route(mapper *m, const imp_opts *o, streams *s)
{
    imp_report *r = m->r;
    const fab_fabric *f = m->f;
    diag_list *d = m->d;
    int rc = IMP_EXIT_NO_FIT;
    place_kind *kind = xmalloc(((size_t)r->n_units + 1) * sizeof *kind);
    const char **names = xmalloc(((size_t)r->n_units + 1) * sizeof *names);
    place_net *nets = xmalloc(((size_t)s->n + 1) * sizeof *nets);
    int *hops = xcalloc((size_t)s->n + 1, sizeof *hops);
    route_net *rnets = xcalloc((size_t)s->n + 1, sizeof *rnets);
    int *sink_row = xmalloc(((size_t)s->n + 1) * sizeof *sink_row);
    int *sink_col = xmalloc(((size_t)s->n + 1) * sizeof *sink_col);
    int *net_of = xmalloc(((size_t)s->n + 1) * sizeof *net_of);   /* stream -> route net */
    int *sink_of = xmalloc(((size_t)s->n + 1) * sizeof *sink_of); /* stream -> sink index */
    place_sites sites = {0};
    place_result pr = {0};
    route_result rr = {0};
    bool have_sites = false, have_pr = false, have_rr = false;
    if (!kind || !names || !nets || !hops || !rnets || !sink_row || !sink_col || !net_of || !sink_of) {
        diag_error(d, diag_at_file(m->g->file), "out of memory");
        goto done;
    }
    for (int u = 0; u < r->n_units; u++) {
        kind[u] = r->unit[u].kind;
        names[u] = r->unit[u].name;
    }
    double width = f->lanes;
    for (int k = 0; k < s->n; k++)
        nets[k] = (place_net){r->unit_of[s->value[k]], s->dst_unit[k], width};
    place_problem prob = {f, r->n_units, kind, names, s->n, nets};
    if (place_sites_init(&sites, f) != 0) {
        diag_error(d, diag_at_file(m->g->file), "cannot list the sites of the fabric");
        goto done;
    }
    have_sites = true;
    double t0 = imp_now();
    int prc = place_run(&prob, &sites, &o->place, &pr, d);
    r->t_place = imp_now() - t0;
    have_pr = prc == 0;
    if (prc != 0)
        goto done;
    r->placed = true;
    r->place_cost = pr.cost;
    r->place_bound = pr.bound;
    r->place_optimal = pr.optimal;
    r->place_moves = pr.moves;
    for (int u = 0; u < r->n_units; u++) {
        r->unit[u].site = pr.site[u];
        r->unit[u].row = sites.site[pr.site[u]].row;
        r->unit[u].col = sites.site[pr.site[u]].col;
    }
    /* Manhattan hops first: the timing when routing is skipped or fails. */
    for (int k = 0; k < s->n; k++) {
        const imp_unit *a = &r->unit[r->unit_of[s->value[k]]], *b = &r->unit[s->dst_unit[k]];
        hops[k] = abs(a->row - b->row) + abs(a->col - b->col);
    }
    if (o->no_route) {
        rc = IMP_EXIT_OK;
        goto done;
    }
    /* One route net per value that leaves its unit: a multicast tree to
     * every consumer unit on another switch. */
    int n_rnets = 0, n_sinks = 0;
    for (int k = 0; k < s->n; k++)
        net_of[k] = sink_of[k] = -1;
    for (int k = 0; k < s->n; k++) {
        if (net_of[k] >= 0 || hops[k] == 0)
            continue;
        const imp_unit *src = &r->unit[r->unit_of[s->value[k]]];
        route_net *rn = &rnets[n_rnets];
        rn->cls = ROUTE_VECTOR;
        rn->src_row = src->row;
        rn->src_col = src->col;
        rn->sink_row = sink_row + n_sinks;
        rn->sink_col = sink_col + n_sinks;
        rn->name = m->g->node[s->value[k]].name;
        for (int j = k; j < s->n; j++) {
            if (s->value[j] != s->value[k] || hops[j] == 0)
                continue;
            const imp_unit *dst = &r->unit[s->dst_unit[j]];
            sink_row[n_sinks] = dst->row;
            sink_col[n_sinks] = dst->col;
            net_of[j] = n_rnets;
            sink_of[j] = rn->n_sinks++;
            n_sinks++;
        }
        n_rnets++;
    }
    r->n_route_nets = n_rnets;
    t0 = imp_now();
    int rrc = route_run(f, rnets, n_rnets, &o->route, &rr, d);
    r->t_route = imp_now() - t0;
    have_rr = true;
    r->route_iterations = rr.iterations;
    r->route_overused = rr.overused_links;
    r->route_total_hops = rr.total_hops;
    r->route_max_hops = rr.max_hops;
    r->route_max_util = rr.max_link_util;
    if (rr.net && rr.n_nets == n_rnets) {
        for (int k = 0; k < s->n; k++)
            if (net_of[k] >= 0 && rr.net[net_of[k]].sink_hops)
                hops[k] = rr.net[net_of[k]].sink_hops[sink_of[k]];
        r->timing_routed = true;
    }
    if (rrc != 0)
        goto done;
    r->routed = true;
    rc = IMP_EXIT_OK;
done:
    for (int k = 0; r->placed && k < s->n; k++)
        r->stream[k].hops = hops[k];
    if (r->placed) {
        double t1 = imp_now();
        time_design(m, s, hops);
        r->t_timing += imp_now() - t1;
    }
    if (have_rr)
        route_result_free(&rr);
    if (have_pr)
        place_result_free(&pr);
    if (have_sites)
        place_sites_free(&sites);
    free(kind), free(names), free(nets), free(hops), free(rnets);
    free(sink_row), free(sink_col), free(net_of), free(sink_of);
    return rc;
}

/* ------------------------------------------------------------- the job */

void imp_opts_default(imp_opts *o)
{
    memset(o, 0, sizeof *o);
    place_opts_default(&o->place);
    route_opts_default(&o->route);
}

static void count_graph(const imp_graph *g, imp_report *r)
{
    r->n_nodes = g->n_nodes;
    r->n_edges = g->n_edges;
    for (int v = 0; v < g->n_nodes; v++) {
        switch (g->node[v].info->cls) {
        case IMP_COMPUTE: r->n_compute++; break;
        case IMP_LOAD:
        case IMP_STORE: r->n_memory++; break;
        case IMP_IMMEDIATE: r->n_immediate++; break;
        case IMP_INPUT:
        case IMP_OUTPUT: r->n_io++; break;
        }
    }
    for (int e = 0; e < g->n_edges; e++) {
        r->n_loop_edges += g->edge[e].distance > 0;
        r->n_pred_edges += g->edge[e].predicate;
    }
}

static void report_init(imp_report *r, const char *file, const fab_fabric *f)
{
    memset(r, 0, sizeof *r);
    arena_init(&r->arena);
    r->file = arena_strdup(&r->arena, file ? file : "<graph>");
    r->fabric = arena_strdup(&r->arena, f ? f->name : "?");
    r->format = "";
    r->status = "not mapped";
    r->place_bound = NAN;
    r->exit_class = IMP_EXIT_BAD_INPUT;
}

/* Does the design fit?  Each shortfall in the fabric's terms. */
static bool fits(mapper *m)
{
    const imp_report *r = m->r;
    const fab_fabric *f = m->f;
    diag_list *d = m->d;
    diag_loc at = diag_at_file(m->g->file);   /* g->file outlives the report (see imp_load) */
    bool ok = true;
    if (r->n_pcus > f->n_pcus) {
        diag_error(d, at, "needs %d PCUs (%d compute operations, at most %d stage%s each), the fabric %s has %d",
                   r->n_pcus, r->n_compute, f->stages, f->stages == 1 ? "" : "s", f->name, f->n_pcus);
        ok = false;
    }
    if (r->n_pmus > f->n_pmus) {
        diag_error(d, at, "needs %d PMUs (%d memory operations), the fabric %s has %d", r->n_pmus, r->n_memory,
                   f->name, f->n_pmus);
        ok = false;
    }
    if (r->n_ags > f->agcus) {
        diag_error(d, at, "needs %d AGCUs (one per input/output stream), the fabric %s has %d", r->n_ags,
                   f->name, f->agcus);
        ok = false;
    }
    for (int u = 0; u < r->n_units; u++) {
        const imp_unit *unit = &r->unit[u];
        if (unit->kind == PLACE_AGCU)
            continue;
        const char *what = unit->kind == PLACE_PCU ? "PCU" : "PMU";
        if (unit->in_streams > f->vector_in) {
            diag_error(d, at, "%s (operation %s) needs %d input streams, a %s has vector_in = %d", unit->name,
                       m->g->node[unit->ops[0]].name, unit->in_streams, what, f->vector_in);
            ok = false;
        }
        if (unit->out_streams > f->vector_out) {
            diag_error(d, at, "%s (operation %s) needs %d output streams, a %s has vector_out = %d", unit->name,
                       m->g->node[unit->ops[0]].name, unit->out_streams, what, f->vector_out);
            ok = false;
        }
    }
    return ok;
}

/* The mapping proper, into an initialised report. */
static int map_graph(const imp_graph *g, const fab_fabric *f, const imp_opts *o, imp_report *r, diag_list *d)
{
    r->format = imp_format_name(g->format);
    r->strategy = place_strategy_name(o->place.strategy);
    count_graph(g, r);
    mapper m = {0};
    m.g = g;
    m.f = f;
    m.r = r;
    m.d = d;
    m.n = g->n_nodes;
    size_t nn = (size_t)g->n_nodes + 1;
    m.live = xcalloc(nn, sizeof *m.live);
    m.topo = xmalloc(nn * sizeof *m.topo);
    m.part_of = xmalloc(nn * sizeof *m.part_of);
    m.mark = xmalloc(nn * sizeof *m.mark);
    /* acyclic() works on parts + nodes: a node opens at most one part, and
     * each recurrence (at least 2 nodes, seeded once) leaves at most one
     * empty part, so parts <= 2n */
    m.indeg = xmalloc(3 * nn * sizeof *m.indeg);
    m.queue = xmalloc(3 * nn * sizeof *m.queue);
    m.adj_first = xmalloc((3 * nn + 1) * sizeof *m.adj_first);
    m.adj_fill = xmalloc((3 * nn + 1) * sizeof *m.adj_fill);
    m.adj = xmalloc(((size_t)g->n_edges + 1) * sizeof *m.adj);
    r->unit_of = arena_calloc(&r->arena, nn, sizeof *r->unit_of);
    r->stage_of = arena_calloc(&r->arena, nn, sizeof *r->stage_of);
    r->node_name = arena_calloc(&r->arena, nn, sizeof *r->node_name);
    r->node_op = arena_calloc(&r->arena, nn, sizeof *r->node_op);
    streams s = {0};
    int rc = IMP_EXIT_BAD_INPUT;
    double t0 = imp_now();
    if (!m.live || !m.topo || !m.part_of || !m.mark || !m.indeg || !m.queue || !m.adj_first || !m.adj_fill ||
        !m.adj || !r->unit_of || !r->stage_of ||
        !r->node_name || !r->node_op) {
        diag_error(d, diag_at_file(g->file), "out of memory");
        goto done;
    }
    for (int v = 0; v < m.n; v++) {
        m.live[v] = g->node[v].info->cls != IMP_IMMEDIATE;
        r->node_name[v] = arena_strdup(&r->arena, g->node[v].name);
        r->node_op[v] = arena_strdup(&r->arena, g->node[v].op);
        m.part_of[v] = -1;
    }
    if (index_edges(&m) != 0) {
        diag_error(d, diag_at_file(g->file), "out of memory");
        goto done;
    }
    if (order_nodes(&m) != 0) {
        diag_error(d, diag_at_file(g->file), "the graph has a combinational loop");
        goto done;
    }
    if (group_memory_and_io(&m) != 0 || seed_recurrences(&m) != 0 || pack_compute(&m) != 0) {
        diag_error(d, diag_at_file(g->file), "out of memory");
        goto done;
    }
    for (int pass = 0; pass < 50 && refine_pass(&m); pass++)
        ;
    if (build_units(&m) != 0 || build_streams(&m, &s) != 0) {
        diag_error(d, diag_at_file(g->file), "out of memory");
        goto done;
    }
    r->t_cluster = imp_now() - t0;
    t0 = imp_now();
    time_design(&m, &s, NULL);
    r->t_timing = imp_now() - t0;
    if (!fits(&m)) {
        rc = IMP_EXIT_NO_FIT;
        r->status = "does not fit the fabric";
        goto done;
    }
    rc = place_and_route(&m, o, &s);
    if (rc == IMP_EXIT_OK)
        r->status = o->no_route ? "placed (not routed)" : "mapped";
    else if (!r->placed)
        r->status = "placement failed";
    else
        r->status = "routing failed";
done:
    r->exit_class = rc;
    streams_free(&s);
    free(m.live), free(m.topo), free(m.part_of), free(m.mark), free(m.indeg), free(m.queue), free(m.parts);
    free(m.adj_first), free(m.adj_fill), free(m.adj);
    free(m.out_first), free(m.out_edge), free(m.in_first), free(m.in_edge), free(m.stamp), free(m.recurrent);
    return rc;
}

int imp_map(const imp_graph *g, const fab_fabric *f, const imp_opts *o, imp_report *r, diag_list *d)
{
    report_init(r, g->file, f);
    return map_graph(g, f, o, r, d);
}

int imp_run(const char *path, const fab_fabric *f, const imp_opts *o, imp_report *r, diag_list *d)
{
    report_init(r, path, f);
    r->strategy = place_strategy_name(o->place.strategy);
    r->strict = o->read.strict;
    imp_graph g;
    bool io_error = false;
    double t0 = imp_now();
    int rc = imp_load_with(path, &o->read, &g, d, &io_error);
    r->t_read = imp_now() - t0;
    if (rc != 0) {
        r->exit_class = io_error ? IMP_EXIT_IO : IMP_EXIT_BAD_INPUT;
        r->status = io_error ? "cannot read the file" : "the graph is wrong";
        r->format = g.n_nodes > 0 ? imp_format_name(g.format) : "";
        imp_graph_free(&g);
        return r->exit_class;
    }
    rc = map_graph(&g, f, o, r, d);
    imp_graph_free(&g);
    return rc;
}

void imp_report_free(imp_report *r)
{
    arena_destroy(&r->arena);
    memset(r, 0, sizeof *r);
}
