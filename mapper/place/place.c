/*
 * place.c — the placement problem: sites, the one cost function, the
 * legality check, and the dispatch to a strategy.
 *
 * Everything a strategy may assume is checked here once, before it runs:
 * unit kinds and net endpoints are in range, widths are finite and not
 * negative, and there are at least as many sites of each kind as units of
 * that kind (otherwise the error is said in the fabric's terms, "needs 731
 * PCUs, the fabric has 640").  After the strategy, the placement is checked
 * again and its cost recomputed by place_cost, so that a strategy's own
 * bookkeeping (annealing's incremental deltas, the ILP's objective) is never
 * what the report shows.
 */
#include "mapper/place/place_internal.h"
#include "util/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- sites */

int place_sites_init(place_sites *s, const fab_fabric *f)
{
    return place_sites_init_slots(s, f, 1);
}

int place_sites_init_slots(place_sites *s, const fab_fabric *f, int slots)
{
    s->n = 0;
    s->site = NULL;
    if (f->rows <= 0 || f->cols <= 0 || f->agcus < 0 || slots < 1 || slots > 1 << 20)
        return -1;
    int n = f->rows * f->cols + f->agcus * slots;
    s->site = xmalloc((size_t)n * sizeof *s->site);
    if (!s->site)
        return -1;
    static const fab_unit_kind order[2] = {FAB_PCU, FAB_PMU};
    for (int k = 0; k < 2; k++)
        for (int r = 0; r < f->rows; r++)
            for (int c = 0; c < f->cols; c++)
                if (fab_unit_at(f, r, c) == order[k]) {
                    place_site *t = &s->site[s->n++];
                    t->kind = order[k] == FAB_PCU ? PLACE_PCU : PLACE_PMU;
                    t->row = r;
                    t->col = c;
                }
    for (int a = 0; a < f->agcus; a++)
        for (int k = 0; k < slots; k++) {
            place_site *t = &s->site[s->n++];
            t->kind = PLACE_AGCU;
            fab_agcu_site(f, a, &t->row, &t->col);
        }
    return 0;
}

void place_sites_free(place_sites *s)
{
    free(s->site);
    s->site = NULL;
    s->n = 0;
}

/* ---------------------------------------------------------------- names */

static const char *const strategy_names[] = {"ilp", "sa", "greedy", "random"};

const char *place_strategy_name(place_strategy s)
{
    if ((int)s < 0 || (int)s >= 4)
        return "?";
    return strategy_names[s];
}

int place_strategy_parse(const char *name, place_strategy *out)
{
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, strategy_names[i]) == 0) {
            *out = (place_strategy)i;
            return 0;
        }
    return -1;
}

static const char *kind_name(place_kind k)
{
    switch (k) {
    case PLACE_PCU: return "PCU";
    case PLACE_PMU: return "PMU";
    case PLACE_AGCU: return "AGCU";
    }
    return "?";
}

static bool kind_valid(place_kind k)
{
    return (int)k >= 0 && (int)k < PLACE_N_KINDS;
}

void place_opts_default(place_opts *o)
{
    memset(o, 0, sizeof *o);
    o->strategy = PLACE_SA;
    o->seed = 1;
    o->time_limit = 60;
    o->mip_gap = 0;
    o->effort = 1;
    o->warm = NULL;
}

/* ---------------------------------------------------------------- cost */

double place_cost(const place_problem *p, const place_sites *s, const int *site)
{
    double cost = 0;
    for (int i = 0; i < p->n_nets; i++) {
        const place_net *n = &p->nets[i];
        if (n->src < 0 || n->src >= p->n_units || n->dst < 0 || n->dst >= p->n_units)
            return NAN;
        int a = site[n->src], b = site[n->dst];
        if (a < 0 || a >= s->n || b < 0 || b >= s->n)
            return NAN;
        cost += n->width * place_site_dist(s, a, b);
    }
    return cost;
}

/* ---------------------------------------------------------------- check */

/* A unit's name for messages: its given name, else "unit N". */
static void unit_label(const place_problem *p, int u, char *buf, size_t len)
{
    if (p->name && p->name[u])
        snprintf(buf, len, "'%s'", p->name[u]);
    else
        snprintf(buf, len, "unit %d", u);
}

int place_check(const place_problem *p, const place_sites *s, const int *site, diag_list *d)
{
    diag_loc at = diag_at_file(NULL);
    int *owner = xmalloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *owner);
    if (!owner)
        return diag_error(d, at, "placement: out of memory checking a placement");
    for (int i = 0; i < s->n; i++)
        owner[i] = -1;
    int bad = 0;
    char a[160], b[160];
    for (int u = 0; u < p->n_units && !diag_full(d); u++) {
        unit_label(p, u, a, sizeof a);
        int t = site[u];
        if (t < 0 || t >= s->n) {
            diag_error(d, at, "placement: %s is on site %d, which does not exist (the fabric has %d sites)",
                       a, t, s->n);
            bad = 1;
            continue;
        }
        const place_site *st = &s->site[t];
        if (!kind_valid(p->kind[u]) || st->kind != p->kind[u]) {
            diag_error(d, at, "placement: %s (%s) is on site %d, a %s at (%d,%d)",
                       a, kind_valid(p->kind[u]) ? kind_name(p->kind[u]) : "unknown kind",
                       t, kind_name(st->kind), st->row, st->col);
            bad = 1;
        }
        if (owner[t] >= 0) {
            unit_label(p, owner[t], b, sizeof b);
            diag_error(d, at, "placement: %s and %s are both on the %s at (%d,%d)",
                       b, a, kind_name(st->kind), st->row, st->col);
            bad = 1;
        } else {
            owner[t] = u;
        }
    }
    free(owner);
    return bad ? -1 : 0;
}

/* ---------------------------------------------------------------- problem */

/* Check what every strategy relies on; report all problems found. */
static int validate(const place_problem *p, const place_sites *s, diag_list *d)
{
    diag_loc at = diag_at_file(NULL);
    int bad = 0;
    if (p->n_units < 0 || p->n_nets < 0 || (p->n_units > 0 && !p->kind) ||
        (p->n_nets > 0 && !p->nets))
        return diag_error(d, at, "placement: malformed problem (%d units, %d nets)",
                          p->n_units, p->n_nets);
    int need[PLACE_N_KINDS] = {0}, have[PLACE_N_KINDS] = {0};
    char a[160];
    for (int u = 0; u < p->n_units; u++) {
        if (!kind_valid(p->kind[u])) {
            unit_label(p, u, a, sizeof a);
            diag_error(d, at, "placement: %s has an unknown kind %d", a, (int)p->kind[u]);
            bad = 1;
            continue;
        }
        need[p->kind[u]]++;
    }
    for (int i = 0; i < s->n; i++)
        if (kind_valid(s->site[i].kind))
            have[s->site[i].kind]++;
    for (int i = 0; i < p->n_nets; i++) {
        const place_net *n = &p->nets[i];
        if (n->src < 0 || n->src >= p->n_units || n->dst < 0 || n->dst >= p->n_units) {
            diag_error(d, at, "placement: net %d joins units %d and %d, but there are %d units",
                       i, n->src, n->dst, p->n_units);
            bad = 1;
        } else if (!isfinite(n->width) || n->width < 0) {
            diag_error(d, at, "placement: net %d has width %g; a width is words per cycle, >= 0",
                       i, n->width);
            bad = 1;
        }
    }
    for (int k = 0; k < PLACE_N_KINDS; k++)
        if (need[k] > have[k]) {
            const fab_fabric *f = p->fab;
            if (f && f->name[0])
                diag_error(d, at, "needs %d %ss, the fabric has %d (fabric %s, %d x %d units, %d AGCUs)",
                           need[k], kind_name((place_kind)k), have[k], f->name, f->rows, f->cols,
                           f->agcus);
            else
                diag_error(d, at, "needs %d %ss, the fabric has %d",
                           need[k], kind_name((place_kind)k), have[k]);
            bad = 1;
        }
    return bad ? -1 : 0;
}

void place_ctx_free(place_ctx *c)
{
    for (int k = 0; k < PLACE_N_KINDS; k++)
        free(c->kind_site[k]);
    free(c->grid);
    free(c->adj_start);
    free(c->adj_net);
    memset(c, 0, sizeof *c);
}

int place_ctx_init(place_ctx *c, const place_problem *p, const place_sites *s)
{
    memset(c, 0, sizeof *c);
    c->p = p;
    c->s = s;
    int rows = 1, cols = 1;
    for (int i = 0; i < s->n; i++) {
        if (s->site[i].row + 1 > rows)
            rows = s->site[i].row + 1;
        if (s->site[i].col + 1 > cols)
            cols = s->site[i].col + 1;
    }
    c->rows = rows;
    c->cols = cols;
    for (int k = 0; k < PLACE_N_KINDS; k++) {
        c->kind_site[k] = xmalloc((size_t)(s->n > 0 ? s->n : 1) * sizeof(int));
        if (!c->kind_site[k])
            goto oom;
    }
    c->grid = xmalloc((size_t)rows * (size_t)cols * sizeof *c->grid);
    c->adj_start = xcalloc((size_t)p->n_units + 1, sizeof *c->adj_start);
    c->adj_net = xmalloc((size_t)(2 * p->n_nets > 0 ? 2 * p->n_nets : 1) * sizeof *c->adj_net);
    if (!c->grid || !c->adj_start || !c->adj_net)
        goto oom;
    for (int i = 0; i < rows * cols; i++)
        c->grid[i] = -1;
    for (int i = 0; i < s->n; i++) {
        place_kind k = s->site[i].kind;
        c->kind_site[k][c->n_kind_site[k]++] = i;
        if (k != PLACE_AGCU && s->site[i].row >= 0 && s->site[i].col >= 0)
            c->grid[s->site[i].row * cols + s->site[i].col] = i;
    }
    /* Nets per unit, in net order: count, prefix-sum, fill. */
    for (int i = 0; i < p->n_nets; i++) {
        c->adj_start[p->nets[i].src + 1]++;
        if (p->nets[i].dst != p->nets[i].src)
            c->adj_start[p->nets[i].dst + 1]++;
    }
    for (int u = 0; u < p->n_units; u++)
        c->adj_start[u + 1] += c->adj_start[u];
    int *fill = xmalloc((size_t)(p->n_units > 0 ? p->n_units : 1) * sizeof *fill);
    if (!fill)
        goto oom;
    memcpy(fill, c->adj_start, (size_t)p->n_units * sizeof *fill);
    for (int i = 0; i < p->n_nets; i++) {
        c->adj_net[fill[p->nets[i].src]++] = i;
        if (p->nets[i].dst != p->nets[i].src)
            c->adj_net[fill[p->nets[i].dst]++] = i;
    }
    free(fill);
    return 0;
oom:
    place_ctx_free(c);
    return -1;
}

/* ---------------------------------------------------------------- run */

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void place_result_free(place_result *r)
{
    free(r->site);
    r->site = NULL;
}

int place_run(const place_problem *p, const place_sites *s, const place_opts *o,
              place_result *r, diag_list *d)
{
    diag_loc at = diag_at_file(NULL);
    memset(r, 0, sizeof *r);
    r->bound = NAN;
    if (validate(p, s, d) != 0)
        return -1;
    if (o->warm && place_check(p, s, o->warm, d) != 0)
        return diag_error(d, at, "placement: the starting placement given is not legal");
    if (o->strategy == PLACE_SA && !(o->effort > 0 && isfinite(o->effort)))
        return diag_error(d, at, "placement: sa effort must be a positive number, not %g", o->effort);
    if (o->strategy == PLACE_ILP && !(o->time_limit > 0) )
        return diag_error(d, at, "placement: ilp time limit must be positive, not %g s", o->time_limit);
    if (o->strategy == PLACE_ILP && !(o->mip_gap >= 0 && isfinite(o->mip_gap)))
        return diag_error(d, at, "placement: ilp mip gap must be >= 0, not %g", o->mip_gap);

    place_ctx c;
    if (place_ctx_init(&c, p, s) != 0)
        return diag_error(d, at, "placement: out of memory");
    size_t n = (size_t)(p->n_units > 0 ? p->n_units : 1);
    r->site = xmalloc(n * sizeof *r->site);
    int *start = xmalloc(n * sizeof *start);
    if (!r->site || !start) {
        free(start);
        place_ctx_free(&c);
        place_result_free(r);
        return diag_error(d, at, "placement: out of memory");
    }

    double t0 = now_seconds();
    int rc = 0;
    switch (o->strategy) {
    case PLACE_RANDOM:   /* a start means nothing to these two: ignored */
        rc = place_random_run(&c, o, r->site);
        break;
    case PLACE_GREEDY:
        rc = place_greedy_run(&c, r->site);
        break;
    case PLACE_SA:
        if (o->warm)
            memcpy(start, o->warm, (size_t)p->n_units * sizeof *start);
        else
            rc = place_greedy_run(&c, start);
        if (rc == 0)
            rc = place_sa_run(&c, o, start, r->site, &r->moves);
        break;
    case PLACE_ILP:
        /* The incumbent: the better of the warm start and annealing from
         * greedy.  It bounds the search from the first node. */
        rc = place_greedy_run(&c, start);
        if (rc == 0) {
            /* Annealing restarts and polishes small problems itself. */
            place_opts so = *o;
            so.effort = 1;
            rc = place_sa_run(&c, &so, start, r->site, &r->moves);
        }
        if (rc == 0 && o->warm && place_cost(p, s, o->warm) < place_cost(p, s, r->site))
            memcpy(r->site, o->warm, (size_t)p->n_units * sizeof *r->site);
        if (rc == 0) {
            /* The time limit covers the whole strategy, annealing included. */
            place_opts io = *o;
            io.time_limit = fmax(o->time_limit - (now_seconds() - t0), 1e-3);
            memcpy(start, r->site, (size_t)p->n_units * sizeof *start);
            rc = place_ilp_run(&c, &io, start, r, d);
        }
        break;
    default:
        rc = diag_error(d, at, "placement: unknown strategy %d", (int)o->strategy);
        break;
    }
    r->seconds = now_seconds() - t0;
    free(start);
    place_ctx_free(&c);
    if (rc != 0 && !diag_has_errors(d))
        diag_error(d, at, "placement: out of memory in %s", place_strategy_name(o->strategy));
    if (rc == 0 && place_check(p, s, r->site, d) != 0)
        rc = diag_error(d, at, "placement: internal error: %s produced an illegal placement",
                        place_strategy_name(o->strategy));
    if (rc != 0) {
        place_result_free(r);
        return -1;
    }
    r->cost = place_cost(p, s, r->site);
    return 0;
}
