/*
 * place_greedy.c — constructive placement in topological order.
 *
 * Units are visited in a topological order of the unit graph (nets as edges
 * from src to dst), breadth first, so that a producer is placed before its
 * consumers and each layer after the one that feeds it.  A cycle (a
 * feedback stream) is broken deterministically: when no unit is free of
 * unvisited producers, the unvisited unit with the fewest of them, and of
 * those the lowest index, is taken next.
 *
 * Each unit goes to the free site of its kind nearest (Manhattan) to the
 * width-weighted centroid of its already placed neighbours; a unit with no
 * placed neighbour (the first of each connected part) aims at the centre of
 * the fabric.  Ties go to the nearer site in straight-line distance, then to
 * the lower site index, so the result depends on nothing but the problem.
 * Cost O(units x sites of a kind + nets).
 */
#include "mapper/place/place_internal.h"
#include "util/alloc.h"

#include <math.h>
#include <stdlib.h>

/* Fill order[0 .. n-1] with the visiting order described above. */
static int topo_order(const place_ctx *c, int *order)
{
    const place_problem *p = c->p;
    int n = p->n_units;
    size_t sz = (size_t)(n > 0 ? n : 1);
    int *indeg = xcalloc(sz, sizeof *indeg);
    char *done = xcalloc(sz, 1);
    int *queue = xmalloc(sz * sizeof *queue);
    if (!indeg || !done || !queue) {
        free(indeg);
        free(done);
        free(queue);
        return -1;
    }
    for (int i = 0; i < p->n_nets; i++)
        if (p->nets[i].src != p->nets[i].dst)
            indeg[p->nets[i].dst]++;
    int head = 0, tail = 0, n_out = 0, scan = 0;
    for (int u = 0; u < n; u++)
        if (indeg[u] == 0) {
            queue[tail++] = u;
            done[u] = 1;
        }
    while (n_out < n) {
        if (head == tail) {
            /* Only cycles remain: take the unit with the fewest unvisited
             * producers, lowest index first. */
            int best = -1;
            while (scan < n && done[scan])
                scan++;
            for (int u = scan; u < n; u++)
                if (!done[u] && (best < 0 || indeg[u] < indeg[best]))
                    best = u;
            queue[tail++] = best;
            done[best] = 1;
        }
        int u = queue[head++];
        order[n_out++] = u;
        for (int k = c->adj_start[u]; k < c->adj_start[u + 1]; k++) {
            const place_net *e = &p->nets[c->adj_net[k]];
            if (e->src != u || e->dst == u)
                continue;
            if (--indeg[e->dst] == 0 && !done[e->dst]) {
                queue[tail++] = e->dst;
                done[e->dst] = 1;
            }
        }
    }
    free(indeg);
    free(done);
    free(queue);
    return 0;
}

int place_greedy_run(const place_ctx *c, int *site)
{
    const place_problem *p = c->p;
    const place_sites *s = c->s;
    int n = p->n_units;
    size_t sz = (size_t)(n > 0 ? n : 1);
    int *order = xmalloc(sz * sizeof *order);
    char *used = xcalloc((size_t)(s->n > 0 ? s->n : 1), 1);
    if (!order || !used || topo_order(c, order) != 0) {
        free(order);
        free(used);
        return -1;
    }
    for (int u = 0; u < n; u++)
        site[u] = -1;
    for (int i = 0; i < n; i++) {
        int u = order[i];
        /* Width-weighted centroid of the placed neighbours (plain centroid
         * when all their widths are 0). */
        double wr = 0, wc = 0, w = 0, pr = 0, pc = 0;
        int placed = 0;
        for (int k = c->adj_start[u]; k < c->adj_start[u + 1]; k++) {
            const place_net *e = &p->nets[c->adj_net[k]];
            int v = e->src == u ? e->dst : e->src;
            if (v == u || site[v] < 0)
                continue;
            const place_site *t = &s->site[site[v]];
            wr += e->width * t->row;
            wc += e->width * t->col;
            w += e->width;
            pr += t->row;
            pc += t->col;
            placed++;
        }
        double tr, tc;
        if (w > 0) {
            tr = wr / w;
            tc = wc / w;
        } else if (placed > 0) {
            tr = pr / placed;
            tc = pc / placed;
        } else {
            tr = (c->rows - 1) / 2.0;
            tc = (c->cols - 1) / 2.0;
        }
        int k = p->kind[u], best = -1;
        double best_d = 0, best_e = 0;
        for (int j = 0; j < c->n_kind_site[k]; j++) {
            int t = c->kind_site[k][j];
            if (used[t])
                continue;
            double dr = s->site[t].row - tr, dc = s->site[t].col - tc;
            double dm = fabs(dr) + fabs(dc), de = dr * dr + dc * dc;
            if (best < 0 || dm < best_d - 1e-9 || (dm <= best_d + 1e-9 && de < best_e - 1e-9)) {
                best = t;
                best_d = dm;
                best_e = de;
            }
        }
        /* validate() guaranteed a free site of every kind in use. */
        site[u] = best;
        used[best] = 1;
    }
    free(order);
    free(used);
    return 0;
}
