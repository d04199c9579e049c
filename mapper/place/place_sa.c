/*
 * place_sa.c — simulated annealing in the manner of VPR (Betz and Rose,
 * "VPR: A New Packing, Placement and Routing Tool for FPGA Research", 1997).
 *
 * A move picks a unit and a site of its kind within the range limit (a
 * window of +-rlim rows and columns around the unit); the unit moves there,
 * or swaps with the unit already there.  Its cost change is computed from
 * the nets touching the one or two units moved (the per-unit net lists of
 * place_ctx), never by re-summing the whole placement.
 *
 * The schedule is VPR's:
 *   - T0 = 20 x the standard deviation of the cost change over n_units
 *     random moves (tried and undone);
 *   - effort x n_units^(4/3) moves per temperature (at least effort x
 *     SA_MIN_MOVES, so that a graph of a few units is annealed too);
 *   - T <- alpha T with alpha chosen by the accept rate R of the last
 *     temperature: 0.5 if R > 0.96, 0.9 if R > 0.8, 0.95 if R > 0.15, else 0.8;
 *   - rlim <- rlim x (1 - 0.44 + R), kept in [2, max(rows, cols)], which
 *     steers R towards 0.44;
 *   - stop when T < 0.005 x cost / nets, or when three temperatures in a row
 *     change nothing (frozen); then one greedy pass at T = 0 (the quench).
 * Then, where the neighbourhood is small enough to enumerate (units x sites
 * up to POLISH_LIMIT), a polish: steepest descent over every single move
 * and swap within a window until none lowers the cost, so the result is a
 * local optimum for those moves.  Small problems (up to RESTART_UNITS units) are annealed
 * RESTARTS times from the same start with independent random streams, and
 * the best result is kept: on a large fabric a handful of units otherwise
 * settle in the first basin they cool into.
 * The cost is re-summed exactly after every temperature so rounding never
 * accumulates, and the best placement seen at those points is the result.
 * Everything random comes from one util/prng stream seeded by opts.seed.
 */
#include "mapper/place/place_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/prng.h"
#include "util/alloc.h"

/* VPR's n^(4/3) moves per temperature is a dozen for a graph of 7 units:
 * too few to equilibrate.  Small graphs get at least this many (x effort). */
enum { SA_MIN_MOVES = 1000 };

/* VPR's least range limit is 1, on a grid where every cell takes a block.
 * On a checkerboard the nearest sites of a unit's own kind are 2 away in a
 * straight line; a window of +-1 would offer only the diagonals. */
enum { SA_MIN_RLIM = 2 };

/* The polish tries, per pass, every unit at every site of its kind within
 * POLISH_WINDOW rows and columns (every AGCU for a VAG). */
enum { POLISH_LIMIT = 2000000, POLISH_WINDOW = 4 };
/* Restarts and iterated local search for small problems (each costs
 * milliseconds): RESTARTS annealings, then ILS_ROUNDS rounds of kicking
 * 1 to ILS_KICK random units to random sites of their kind and polishing,
 * keeping a round only when it lowers the cost, and stopping after
 * ILS_PATIENCE rounds in a row that do not. */
enum { RESTARTS = 16, RESTART_UNITS = 64, ILS_ROUNDS = 1000, ILS_KICK = 6, ILS_PATIENCE = 400 };

typedef struct anneal {
    const place_ctx *c;
    int *site;      /* unit -> site */
    int *occ;       /* site -> unit, or -1 */
    int *movable;   /* units whose kind has more than one site */
    int n_movable;
    prng g;
} anneal;

/* Sum of width x distance over the nets of u, and of v (if v >= 0) except
 * those already counted with u. */
static double local_cost(const anneal *a, int u, int v)
{
    const place_ctx *c = a->c;
    const place_problem *p = c->p;
    double sum = 0;
    for (int k = c->adj_start[u]; k < c->adj_start[u + 1]; k++) {
        const place_net *e = &p->nets[c->adj_net[k]];
        sum += e->width * place_site_dist(c->s, a->site[e->src], a->site[e->dst]);
    }
    if (v < 0)
        return sum;
    for (int k = c->adj_start[v]; k < c->adj_start[v + 1]; k++) {
        const place_net *e = &p->nets[c->adj_net[k]];
        if (e->src == u || e->dst == u)
            continue;
        sum += e->width * place_site_dist(c->s, a->site[e->src], a->site[e->dst]);
    }
    return sum;
}

/* Move u to site t, swapping with its occupant if any. */
static void apply_move(anneal *a, int u, int t)
{
    int from = a->site[u], v = a->occ[t];
    a->site[u] = t;
    a->occ[t] = u;
    a->occ[from] = v;
    if (v >= 0)
        a->site[v] = from;
}

/* Pick a target site for u within the window of +-rlim; -1 if none found. */
static int pick_target(anneal *a, int u, int rlim)
{
    const place_ctx *c = a->c;
    int k = c->p->kind[u], from = a->site[u];
    if (k == PLACE_AGCU) {
        int n = c->n_kind_site[k];
        int t = c->kind_site[k][prng_below(&a->g, (uint64_t)n)];
        return t == from ? -1 : t;
    }
    const place_site *f = &c->s->site[from];
    int r0 = f->row - rlim < 0 ? 0 : f->row - rlim;
    int r1 = f->row + rlim > c->rows - 1 ? c->rows - 1 : f->row + rlim;
    int c0 = f->col - rlim < 0 ? 0 : f->col - rlim;
    int c1 = f->col + rlim > c->cols - 1 ? c->cols - 1 : f->col + rlim;
    for (int tries = 0; tries < 16; tries++) {
        int r = r0 + (int)prng_below(&a->g, (uint64_t)(r1 - r0 + 1));
        int col = c0 + (int)prng_below(&a->g, (uint64_t)(c1 - c0 + 1));
        int t = c->grid[r * c->cols + col];
        if (t >= 0 && t != from && (int)c->s->site[t].kind == k)
            return t;
    }
    return -1;
}

/* Propose one move; fill *u, *t and the cost change, without applying it. */
static bool propose(anneal *a, int rlim, int *u, int *t, double *delta)
{
    *u = a->movable[prng_below(&a->g, (uint64_t)a->n_movable)];
    *t = pick_target(a, *u, rlim);
    if (*t < 0)
        return false;
    int v = a->occ[*t];
    double before = local_cost(a, *u, v);
    int from = a->site[*u];
    apply_move(a, *u, *t);
    double after = local_cost(a, *u, v);
    apply_move(a, *u, from);
    *delta = after - before;
    return true;
}

static double full_cost(const anneal *a)
{
    return place_cost(a->c->p, a->c->s, a->site);
}

/* A cluster kick: a unit and its neighbours within two nets move
 * together by one offset that keeps the checkerboard's parity, so a group
 * that settled on the wrong side of the fabric can move as a whole (single
 * moves would each raise the cost).  A VAG in the cluster goes to the AGCU
 * nearest its shifted position.
 * Returns false when the offset leaves the fabric. */
static bool cluster_kick(anneal *a, int n)
{
    const place_ctx *c = a->c;
    const place_problem *p = c->p;
    int members[64], n_mem = 0;
    int u0 = (int)prng_below(&a->g, (uint64_t)n);
    members[n_mem++] = u0;
    for (int depth = 0, lo = 0; depth < 2; depth++) {
        int hi = n_mem;
        for (int i = lo; i < hi; i++) {
            int u = members[i];
            for (int k = c->adj_start[u]; k < c->adj_start[u + 1]; k++) {
                const place_net *e = &p->nets[c->adj_net[k]];
                int v = e->src == u ? e->dst : e->src;
                bool seen = false;
                for (int q = 0; q < n_mem && !seen; q++)
                    seen = members[q] == v;
                if (!seen && n_mem < 64)
                    members[n_mem++] = v;
            }
        }
        lo = hi;
    }
    int span = c->rows > c->cols ? c->rows : c->cols;
    int dr = (int)prng_below(&a->g, (uint64_t)(2 * span + 1)) - span;
    int dc = (int)prng_below(&a->g, (uint64_t)(2 * span + 1)) - span;
    if ((dr + dc) % 2 != 0)
        dc += dc > 0 ? -1 : 1;
    if (dr == 0 && dc == 0)
        return false;
    int target[64];
    for (int i = 0; i < n_mem; i++) {
        int u = members[i];
        target[i] = -1;
        const place_site *f = &c->s->site[a->site[u]];
        int r = f->row + dr, col = f->col + dc;
        if (p->kind[u] == PLACE_AGCU) {
            /* a VAG goes to the AGCU nearest its shifted position */
            int best_d = -1;
            for (int q = 0; q < c->n_kind_site[PLACE_AGCU]; q++) {
                int t = c->kind_site[PLACE_AGCU][q];
                const place_site *ts = &c->s->site[t];
                int dd = abs(ts->row - r) + abs(ts->col - col);
                if (best_d < 0 || dd < best_d) {
                    best_d = dd;
                    target[i] = t;
                }
            }
            continue;
        }
        if (r < 0 || r >= c->rows || col < 0 || col >= c->cols)
            return false;
        int t = c->grid[r * c->cols + col];
        if (t < 0 || c->s->site[t].kind != p->kind[u])
            return false;
        target[i] = t;
    }
    for (int i = 0; i < n_mem; i++)
        if (target[i] >= 0 && a->site[members[i]] != target[i])
            apply_move(a, members[i], target[i]);
    return true;
}

/* Steepest descent over all single moves and swaps of a.site; returns the
 * cost reached. */
static double polish(anneal *a, double cost)
{
    const place_ctx *c = a->c;
    const place_problem *p = c->p;
    for (int pass = 0; pass < 1000; pass++) {
        double best_dc = -1e-9;
        int best_u = -1, best_t = -1;
        for (int u = 0; u < p->n_units; u++) {
            int k = p->kind[u];
            /* AGCUs are few: try them all.  Other units try the sites of
             * their kind within POLISH_WINDOW rows and columns. */
            const place_site *f = &c->s->site[a->site[u]];
            int r0 = f->row - POLISH_WINDOW, r1 = f->row + POLISH_WINDOW;
            int c0 = f->col - POLISH_WINDOW, c1 = f->col + POLISH_WINDOW;
            r0 = r0 < 0 ? 0 : r0;
            c0 = c0 < 0 ? 0 : c0;
            r1 = r1 > c->rows - 1 ? c->rows - 1 : r1;
            c1 = c1 > c->cols - 1 ? c->cols - 1 : c1;
            int n_cand = k == PLACE_AGCU ? c->n_kind_site[k] : (r1 - r0 + 1) * (c1 - c0 + 1);
            for (int q = 0; q < n_cand; q++) {
                int t = k == PLACE_AGCU ? c->kind_site[k][q]
                                        : c->grid[(r0 + q / (c1 - c0 + 1)) * c->cols + c0 + q % (c1 - c0 + 1)];
                if (t < 0 || t == a->site[u] || (int)c->s->site[t].kind != k)
                    continue;
                int v = a->occ[t];
                double before = local_cost(a, u, v);
                int from = a->site[u];
                apply_move(a, u, t);
                double dc = local_cost(a, u, v) - before;
                apply_move(a, u, from);
                if (dc < best_dc) {
                    best_dc = dc;
                    best_u = u;
                    best_t = t;
                }
            }
        }
        if (best_u < 0)
            break;
        apply_move(a, best_u, best_t);
        cost += best_dc;
    }
    return cost;
}

static int anneal_once(const place_ctx *c, const place_opts *o, const int *start, int *site, long *moves,
                       const char *stream)
{
    const place_problem *p = c->p;
    const place_sites *s = c->s;
    int n = p->n_units;
    *moves = 0;
    memcpy(site, start, (size_t)n * sizeof *site);
    anneal a = {.c = c};
    a.site = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *a.site);
    a.occ = xmalloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *a.occ);
    a.movable = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *a.movable);
    if (!a.site || !a.occ || !a.movable) {
        free(a.site);
        free(a.occ);
        free(a.movable);
        return -1;
    }
    memcpy(a.site, start, (size_t)n * sizeof *a.site);
    for (int i = 0; i < s->n; i++)
        a.occ[i] = -1;
    for (int u = 0; u < n; u++) {
        a.occ[a.site[u]] = u;
        if (c->n_kind_site[p->kind[u]] > 1)
            a.movable[a.n_movable++] = u;
    }
    prng_seed_stream(&a.g, o->seed, stream);

    double cost = full_cost(&a), best = cost;
    int max_r = c->rows > c->cols ? c->rows : c->cols;
    if (a.n_movable == 0 || p->n_nets == 0 || cost == 0)
        goto done;

    /* T0 from the spread of the cost change of random moves, tried and
     * undone (the starting placement is kept). */
    double sum = 0, sum2 = 0;
    int tried = 0;
    for (int i = 0; i < n; i++) {
        int u, t;
        double dc;
        if (!propose(&a, max_r, &u, &t, &dc))
            continue;
        sum += dc;
        sum2 += dc * dc;
        tried++;
    }
    *moves += n;
    double sd = tried > 1 ? sqrt(fmax(0, (sum2 - sum * sum / tried) / (tried - 1))) : 0;
    double T = 20 * sd;
    double rlim = max_r;
    double per_t = o->effort * fmax(pow((double)n, 4.0 / 3.0), SA_MIN_MOVES);
    long inner = per_t < 1 ? 1 : (long)per_t;
    int frozen = 0;

    for (int step = 0; step < 100000 && T > 0; step++) {
        if (T < 0.005 * cost / p->n_nets)
            break;
        long accepted = 0, proposed = 0, changed = 0;
        for (long m = 0; m < inner; m++) {
            int u, t;
            double dc;
            if (!propose(&a, (int)rlim, &u, &t, &dc))
                continue;
            proposed++;
            if (dc <= 0 || prng_unit(&a.g) < exp(-dc / T)) {
                apply_move(&a, u, t);
                cost += dc;
                accepted++;
                if (dc != 0)
                    changed++;
            }
        }
        *moves += inner;
        cost = full_cost(&a);
        if (cost < best) {
            best = cost;
            memcpy(site, a.site, (size_t)n * sizeof *site);
        }
        if (cost == 0)
            break;
        double R = proposed > 0 ? (double)accepted / (double)proposed : 0;
        double alpha = R > 0.96 ? 0.5 : R > 0.8 ? 0.9 : R > 0.15 ? 0.95 : 0.8;
        T *= alpha;
        rlim *= 1 - 0.44 + R;
        if (rlim < SA_MIN_RLIM)
            rlim = SA_MIN_RLIM;
        if (rlim > max_r)
            rlim = max_r;
        frozen = changed == 0 ? frozen + 1 : 0;
        if (frozen >= 3)
            break;
    }

    /* Quench: T = 0, only moves that do not raise the cost. */
    for (long m = 0; m < inner; m++) {
        int u, t;
        double dc;
        if (propose(&a, (int)rlim, &u, &t, &dc) && dc <= 0)
            apply_move(&a, u, t);
    }
    *moves += inner;
    cost = full_cost(&a);
    if (cost < best) {
        best = cost;
        memcpy(site, a.site, (size_t)n * sizeof *site);
    }
    /* Polish the best placement seen, where enumerating is affordable. */
    if ((double)n * (double)s->n <= POLISH_LIMIT) {
        memcpy(a.site, site, (size_t)n * sizeof *site);
        for (int i = 0; i < s->n; i++)
            a.occ[i] = -1;
        for (int u = 0; u < n; u++)
            a.occ[a.site[u]] = u;
        polish(&a, best);
        if (full_cost(&a) < best)
            memcpy(site, a.site, (size_t)n * sizeof *site);
    }
done:
    free(a.site);
    free(a.occ);
    free(a.movable);
    return 0;
}

int place_sa_run(const place_ctx *c, const place_opts *o, const int *start,
                 int *site, long *moves)
{
    int n = c->p->n_units;
    if (anneal_once(c, o, start, site, moves, "place-sa") != 0)
        return -1;
    if (n > RESTART_UNITS)
        return 0;
    int *trial = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *trial);
    if (!trial)
        return -1;
    double best = place_cost(c->p, c->s, site);
    int *from = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *from);
    if (!from) {
        free(trial);
        return -1;
    }
    for (int r = 1; r < RESTARTS; r++) {
        char stream[32];
        snprintf(stream, sizeof stream, "place-sa-%d", r);
        long m = 0;
        /* Odd restarts start from a random placement, so that a cluster
         * the given start put on the wrong side of the fabric can form on
         * the other. */
        const int *begin = start;
        if (r % 2 == 1) {
            place_opts ro = *o;
            ro.seed = o->seed * 1000003u + (uint64_t)r;
            if (place_random_run(c, &ro, from) == 0)
                begin = from;
        }
        if (anneal_once(c, o, begin, trial, &m, stream) != 0) {
            free(from);
            free(trial);
            return -1;
        }
        *moves += m;
        double cost = place_cost(c->p, c->s, trial);
        if (cost < best) {
            best = cost;
            memcpy(site, trial, (size_t)n * sizeof *site);
        }
    }
    free(from);
    /* Iterated local search from the best: kick, polish, keep if better. */
    anneal a = {.c = c};
    a.site = trial;
    a.occ = xmalloc((size_t)(c->s->n > 0 ? c->s->n : 1) * sizeof *a.occ);
    a.movable = NULL;
    if (!a.occ) {
        free(trial);
        return -1;
    }
    prng_seed_stream(&a.g, o->seed, "place-sa-ils");
    int rounds = ILS_ROUNDS, stale = 0;
    for (int r = 0; r < rounds && best > 0 && stale < ILS_PATIENCE; r++, stale++) {
        memcpy(trial, site, (size_t)n * sizeof *trial);
        for (int i = 0; i < c->s->n; i++)
            a.occ[i] = -1;
        for (int u = 0; u < n; u++)
            a.occ[trial[u]] = u;
        if (r % 2 == 1 && cluster_kick(&a, n)) {
            polish(&a, 0);
            double cost = place_cost(c->p, c->s, trial);
            if (cost < best - 1e-9) {
                best = cost;
                memcpy(site, trial, (size_t)n * sizeof *site);
                stale = 0;
            }
            continue;
        }
        int kick = 1 + (int)prng_below(&a.g, ILS_KICK);
        for (int k = 0; k < kick; k++) {
            int u = (int)prng_below(&a.g, (uint64_t)n);
            int kind = c->p->kind[u];
            if (c->n_kind_site[kind] < 2)
                continue;
            int t = c->kind_site[kind][prng_below(&a.g, (uint64_t)c->n_kind_site[kind])];
            if (t != trial[u])
                apply_move(&a, u, t);
        }
        polish(&a, 0);
        double cost = place_cost(c->p, c->s, trial);
        if (cost < best - 1e-9) {
            best = cost;
            memcpy(site, trial, (size_t)n * sizeof *site);
            stale = 0;
        }
    }
    free(a.occ);
    free(trial);
    return 0;
}
