/*
 * place_ilp.c — exact placement as a MILP solved by GLPK.  The only file of
 * rdumap that calls GLPK.
 *
 * The model:
 *   x[u][t] in {0,1}  for every unit u and site t of u's kind
 *   sum_t x[u][t] = 1                 every unit on one site
 *   sum_u x[u][t] <= 1                at most one unit per site
 *   X_u = sum_t col(t) x[u][t], Y_u = sum_t row(t) x[u][t]
 * and, for every pair {a, b} joined by nets of total width w > 0,
 *   dx >= X_a - X_b, dx >= X_b - X_a, dy >= Y_a - Y_b, dy >= Y_b - Y_a
 *   minimise sum w (dx + dy)
 * which at an integer point is exactly place_cost (nets between the same
 * two units are merged; a net from a unit to itself costs nothing).
 *
 * The relaxation of that model alone is weak: spreading every unit evenly
 * over all sites makes every X equal and the bound 0.  Three families of
 * valid inequalities, each true of every legal placement and so leaving the
 * optimum unchanged, lift it:
 *   - dx + dy >= the least distance between two distinct sites of the two
 *     units' kinds (2 between two PCUs of a checkerboard, 1 PCU to PMU);
 *   - for each unit u, sum_v w_uv (dx_uv + dy_uv) >= sum_t GL(u,t) x[u][t],
 *     where GL(u,t) is the least cost of u's neighbours around site t: the
 *     neighbours of each kind take distinct other sites of that kind, so
 *     pairing the heaviest with the nearest (the Gilmore-Lawler argument)
 *     gives a lower bound;
 *   - when the model stays small, the pair products of Adams and Johnson
 *     (RLT-1): y[s][t] >= 0 with sum_t y[s][t] = x[a][s] and
 *     sum_s y[s][t] = x[b][t], and dx + dy >= sum d(s,t) y[s][t].
 * One unit is also confined to orbit representatives under the symmetries
 * of the fabric (see "symmetry" below for why that keeps an optimum).
 *
 * Solving: the root relaxation by the simplex method with the LP presolver
 * on, then branch and bound with glp_intopt.  The MIP presolver is left off
 * because it renumbers the columns, and the warm start — the incumbent from
 * annealing, handed to GLPK with glp_ios_heur_sol at the first heuristic
 * call — is stated in the original columns.  The callback also records the
 * best bound of the open nodes (glp_ios_best_node), which is the proven
 * lower bound when the time limit stops the search.
 *
 * GLPK is kept on a leash: its terminal output goes to a hook that keeps the
 * last two lines (for the diagnostic) and prints nothing; a GLPK fatal error
 * calls our error hook, which longjmps back here, after which glp_free_env
 * releases everything GLPK held.  Before building, the model's size is
 * estimated and a model of more than PLACE_ILP_MAX_NONZEROS coefficients is
 * refused with a diagnostic rather than run out of memory.
 */
#include "mapper/place/place_internal.h"
#include "util/alloc.h"

#include <glpk.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { PLACE_ILP_MAX_NONZEROS = 2000000 };

/* The pair products make the relaxation much stronger and each simplex
 * much slower: beyond this many product columns the root relaxation of a
 * mid-sized graph (40 units on 8 x 8: 60,000 columns) did not finish within
 * a 5-10 s limit, and no bound at all is worse than a weak one. */
enum { PLACE_ILP_MAX_PRODUCTS = 20000 };

typedef struct pair {
    int a, b;          /* units, a < b */
    double w;          /* total width of the nets between them */
} pair;

typedef struct glpk_guard {
    jmp_buf env;
    char prev[256];    /* the line before it: on a fatal error, the message */
    char last[256];    /* last line GLPK tried to print: "Error detected in ..." */
} glpk_guard;

typedef struct search {
    const double *warm;   /* incumbent, columns 1..n */
    double warm_cost;
    bool given;
    double bound;         /* best bound of the open nodes seen, -inf if none */
    double deadline;      /* now_seconds() at which the search stops */
} search;

static double now_seconds(void);

static void on_glpk_error(void *info)
{
    glpk_guard *g = info;
    longjmp(g->env, 1);
}

static int on_glpk_output(void *info, const char *s)
{
    glpk_guard *g = info;
    size_t n = strlen(s);
    if (n > 1) {   /* skip bare newlines */
        memcpy(g->prev, g->last, sizeof g->prev);
        snprintf(g->last, sizeof g->last, "%s", s);
        size_t m = strlen(g->last);
        if (m > 0 && g->last[m - 1] == '\n')
            g->last[m - 1] = '\0';
    }
    return 1;      /* nonzero: GLPK prints nothing */
}

static void on_search(glp_tree *T, void *info)
{
    search *s = info;
    int node = glp_ios_best_node(T);
    if (node != 0) {
        double b = glp_ios_node_bound(T, node);
        /* -DBL_MAX: the node's LP is not solved yet, so no bound at all. */
        if (b > s->bound && b > -0.5 * DBL_MAX)
            s->bound = b;
    }
    if (glp_ios_reason(T) == GLP_IHEUR && !s->given) {
        s->given = true;
        glp_ios_heur_sol(T, s->warm);
    }
    /* GLPK checks its tm_lim only between some steps of branch and bound;
     * the callback runs at every node, so the limit holds to one node. */
    if (now_seconds() >= s->deadline)
        glp_ios_terminate(T);
}

static int cmp_pair(const void *x, const void *y)
{
    const pair *a = x, *b = y;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return (a->b > b->b) - (a->b < b->b);
}

static int cmp_desc(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a < b) - (a > b);
}

static int cmp_int(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

/* Merge the nets into pairs of distinct units with positive total width.
 * Returns the count, or -1 when out of memory; *out is malloc'd. */
static int build_pairs(const place_problem *p, pair **out)
{
    pair *all = xmalloc((size_t)(p->n_nets > 0 ? p->n_nets : 1) * sizeof *all);
    if (!all)
        return -1;
    int n = 0;
    for (int i = 0; i < p->n_nets; i++) {
        const place_net *e = &p->nets[i];
        if (e->src == e->dst || e->width <= 0)
            continue;
        all[n].a = e->src < e->dst ? e->src : e->dst;
        all[n].b = e->src < e->dst ? e->dst : e->src;
        all[n].w = e->width;
        n++;
    }
    qsort(all, (size_t)n, sizeof *all, cmp_pair);
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (m > 0 && all[m - 1].a == all[i].a && all[m - 1].b == all[i].b)
            all[m - 1].w += all[i].w;
        else
            all[m++] = all[i];
    }
    *out = all;
    return m;
}

/* Least distance between two distinct sites, one of kind ka, one of kb. */
static int least_distance(const place_ctx *c, int ka, int kb)
{
    int best = -1;
    for (int i = 0; i < c->n_kind_site[ka]; i++)
        for (int j = 0; j < c->n_kind_site[kb]; j++) {
            int s = c->kind_site[ka][i], t = c->kind_site[kb][j];
            if (s == t)
                continue;
            int d = place_site_dist(c->s, s, t);
            if (best < 0 || d < best)
                best = d;
        }
    return best < 0 ? 0 : best;
}

/* Gilmore-Lawler bound for unit u on site t: its neighbours of each kind,
 * heaviest first, on the nearest distinct other sites of that kind.
 * wk[k] holds u's neighbour weights of kind k, sorted descending. */
static double gl_bound(const place_ctx *c, int t, double *const wk[PLACE_N_KINDS],
                       const int nk[PLACE_N_KINDS], int *dist)
{
    double sum = 0;
    for (int k = 0; k < PLACE_N_KINDS; k++) {
        if (nk[k] == 0)
            continue;
        int m = 0;
        for (int j = 0; j < c->n_kind_site[k]; j++) {
            int s = c->kind_site[k][j];
            if (s != t)
                dist[m++] = place_site_dist(c->s, s, t);
        }
        qsort(dist, (size_t)m, sizeof *dist, cmp_int);
        for (int i = 0; i < nk[k] && i < m; i++)
            sum += wk[k][i] * dist[i];
    }
    return sum;
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The model in coordinate form, 1-based as glp_load_matrix wants. */
typedef struct model {
    int n_rows, n_cols, nz;
    int *ia, *ja;
    double *ar;
    double *obj;      /* n_cols+1 */
    double *rlo;      /* n_rows+1: row lower bound (or the fixed value) */
    char *rtype;      /* n_rows+1: 'E' = fixed, 'L' = lower, 'U' = upper */
    int *xcol;        /* n_units: first x column of each unit */
    int pair_col;     /* first dx column; dy follows each dx */
    int *ycol;        /* n_pairs: first product column of each pair, or NULL */
    int n_pairs;
    bool int_dist;    /* every width an integer */
    char *zero;       /* n_cols+1: column fixed at 0 (symmetry breaking) */
} model;

/* Number of product columns y[a,s,b,t] of a pair: every site s of a with
 * every site t of b, except t == s when both are of one kind. */
static long pair_products(const place_ctx *c, const pair *e)
{
    int ka = c->p->kind[e->a], kb = c->p->kind[e->b];
    long sa = c->n_kind_site[ka], sb = c->n_kind_site[kb];
    return ka == kb ? sa * (sb - 1) : sa * sb;
}

static void model_free(model *m)
{
    free(m->ia);
    free(m->ja);
    free(m->ar);
    free(m->obj);
    free(m->rlo);
    free(m->rtype);
    free(m->xcol);
    free(m->ycol);
    free(m->zero);
}

static void add_nz(model *m, int row, int col, double v)
{
    m->nz++;
    m->ia[m->nz] = row;
    m->ja[m->nz] = col;
    m->ar[m->nz] = v;
}

static int new_row(model *m, char type, double rhs)
{
    m->n_rows++;
    m->rtype[m->n_rows] = type;
    m->rlo[m->n_rows] = rhs;
    return m->n_rows;
}

/* Build the model of the top of the file.  Returns 0, or -1 out of memory. */
static int build_model(const place_ctx *c, const pair *pr, int n_pairs, bool products,
                       long max_rows, long max_nz, model *m)
{
    const place_problem *p = c->p;
    int n = p->n_units;
    memset(m, 0, sizeof *m);
    long cols = 0;
    for (int u = 0; u < n; u++)
        cols += c->n_kind_site[p->kind[u]];
    m->pair_col = (int)cols + 1;
    m->n_cols = (int)cols + 2 * n_pairs;
    m->n_pairs = n_pairs;
    m->int_dist = true;
    for (int i = 0; i < n_pairs; i++)
        if (pr[i].w != floor(pr[i].w))
            m->int_dist = false;
    if (products) {
        m->ycol = xmalloc((size_t)(n_pairs > 0 ? n_pairs : 1) * sizeof *m->ycol);
        if (!m->ycol)
            return -1;
        for (int i = 0; i < n_pairs; i++) {
            m->ycol[i] = m->n_cols + 1;
            m->n_cols += (int)pair_products(c, &pr[i]);
        }
    }
    m->ia = xmalloc((size_t)(max_nz + 1) * sizeof *m->ia);
    m->ja = xmalloc((size_t)(max_nz + 1) * sizeof *m->ja);
    m->ar = xmalloc((size_t)(max_nz + 1) * sizeof *m->ar);
    m->obj = xcalloc((size_t)m->n_cols + 1, sizeof *m->obj);
    m->rlo = xmalloc((size_t)(max_rows + 1) * sizeof *m->rlo);
    m->rtype = xmalloc((size_t)(max_rows + 1));
    m->xcol = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *m->xcol);
    int *deg = xcalloc((size_t)(n > 0 ? n : 1), sizeof *deg);
    int *dist = xmalloc((size_t)(c->s->n > 0 ? c->s->n : 1) * sizeof *dist);
    double *wbuf = xmalloc((size_t)(n_pairs > 0 ? 2 * n_pairs : 1) * sizeof *wbuf);
    int *nb_start = xcalloc((size_t)n + 1, sizeof *nb_start);
    int *nb = xmalloc((size_t)(n_pairs > 0 ? 2 * n_pairs : 1) * sizeof *nb);
    if (!m->ia || !m->ja || !m->ar || !m->obj || !m->rlo || !m->rtype || !m->xcol ||
        !deg || !dist || !wbuf || !nb_start || !nb) {
        free(deg);
        free(dist);
        free(wbuf);
        free(nb_start);
        free(nb);
        model_free(m);
        return -1;
    }
    int col = 1;
    for (int u = 0; u < n; u++) {
        m->xcol[u] = col;
        col += c->n_kind_site[p->kind[u]];
    }
    /* Each unit on one site. */
    for (int u = 0; u < n; u++) {
        int r = new_row(m, 'E', 1);
        for (int j = 0; j < c->n_kind_site[p->kind[u]]; j++)
            add_nz(m, r, m->xcol[u] + j, 1);
    }
    /* At most one unit per site: one row per site of a kind in use. */
    for (int k = 0; k < PLACE_N_KINDS; k++) {
        bool used = false;
        for (int u = 0; u < n && !used; u++)
            used = (int)p->kind[u] == k;
        if (!used)
            continue;
        for (int j = 0; j < c->n_kind_site[k]; j++) {
            int r = new_row(m, 'U', 1);
            for (int u = 0; u < n; u++)
                if ((int)p->kind[u] == k)
                    add_nz(m, r, m->xcol[u] + j, 1);
        }
    }
    /* Distances of each pair. */
    int dmin[PLACE_N_KINDS][PLACE_N_KINDS];
    for (int a = 0; a < PLACE_N_KINDS; a++)
        for (int b = 0; b < PLACE_N_KINDS; b++)
            dmin[a][b] = -1;
    for (int i = 0; i < n_pairs; i++) {
        int a = pr[i].a, b = pr[i].b;
        int dx = m->pair_col + 2 * i, dy = dx + 1;
        m->obj[dx] = pr[i].w;
        m->obj[dy] = pr[i].w;
        for (int axis = 0; axis < 2; axis++)
            for (int sign = -1; sign <= 1; sign += 2) {
                /* d - sign (P_a - P_b) >= 0 with P the column or row. */
                int r = new_row(m, 'L', 0);
                add_nz(m, r, axis == 0 ? dx : dy, 1);
                for (int j = 0; j < c->n_kind_site[p->kind[a]]; j++) {
                    const place_site *t = &c->s->site[c->kind_site[p->kind[a]][j]];
                    double pos = axis == 0 ? t->col : t->row;
                    if (pos != 0)
                        add_nz(m, r, m->xcol[a] + j, -sign * pos);
                }
                for (int j = 0; j < c->n_kind_site[p->kind[b]]; j++) {
                    const place_site *t = &c->s->site[c->kind_site[p->kind[b]][j]];
                    double pos = axis == 0 ? t->col : t->row;
                    if (pos != 0)
                        add_nz(m, r, m->xcol[b] + j, sign * pos);
                }
            }
        int ka = p->kind[a], kb = p->kind[b];
        if (dmin[ka][kb] < 0)
            dmin[ka][kb] = dmin[kb][ka] = least_distance(c, ka, kb);
        if (dmin[ka][kb] > 0) {
            int r = new_row(m, 'L', dmin[ka][kb]);
            add_nz(m, r, dx, 1);
            add_nz(m, r, dy, 1);
        }
        if (products) {
            /* y[s][t] = x[a][s] x[b][t]: rows sum_t y[s][t] = x[a][s] and
             * sum_s y[s][t] = x[b][t] force the product at integer x, so
             * dx + dy >= sum d(s,t) y[s][t] is the exact distance there. */
            int na = c->n_kind_site[ka], nbk = c->n_kind_site[kb];
            int row_a = m->n_rows + 1;
            for (int j = 0; j < na; j++)
                add_nz(m, new_row(m, 'E', 0), m->xcol[a] + j, -1);
            int row_b = m->n_rows + 1;
            for (int j = 0; j < nbk; j++)
                add_nz(m, new_row(m, 'E', 0), m->xcol[b] + j, -1);
            int rd = new_row(m, 'L', 0);
            add_nz(m, rd, dx, 1);
            add_nz(m, rd, dy, 1);
            int y = m->ycol[i];
            for (int ja = 0; ja < na; ja++)
                for (int jb = 0; jb < nbk; jb++) {
                    if (ka == kb && ja == jb)
                        continue;
                    add_nz(m, row_a + ja, y, 1);
                    add_nz(m, row_b + jb, y, 1);
                    int dd = place_site_dist(c->s, c->kind_site[ka][ja], c->kind_site[kb][jb]);
                    if (dd != 0)
                        add_nz(m, rd, y, -dd);
                    y++;
                }
        }
        nb_start[a + 1]++;
        nb_start[b + 1]++;
    }
    /* Gilmore-Lawler rows: neighbours of each unit, as pair indices. */
    for (int u = 0; u < n; u++)
        nb_start[u + 1] += nb_start[u];
    for (int i = 0; i < n_pairs; i++) {
        nb[nb_start[pr[i].a] + deg[pr[i].a]++] = i;
        nb[nb_start[pr[i].b] + deg[pr[i].b]++] = i;
    }
    for (int u = 0; u < n; u++) {
        if (deg[u] == 0)
            continue;
        double *wk[PLACE_N_KINDS];
        int nk[PLACE_N_KINDS] = {0};
        double *w = wbuf;
        for (int k = 0; k < PLACE_N_KINDS; k++) {
            wk[k] = w;
            for (int q = nb_start[u]; q < nb_start[u + 1]; q++) {
                const pair *e = &pr[nb[q]];
                int v = e->a == u ? e->b : e->a;
                if ((int)p->kind[v] == k)
                    wk[k][nk[k]++] = e->w;
            }
            qsort(wk[k], (size_t)nk[k], sizeof *wk[k], cmp_desc);
            w += nk[k];
        }
        int r = new_row(m, 'L', 0);
        for (int q = nb_start[u]; q < nb_start[u + 1]; q++) {
            int i = nb[q];
            add_nz(m, r, m->pair_col + 2 * i, pr[i].w);
            add_nz(m, r, m->pair_col + 2 * i + 1, pr[i].w);
        }
        int k = p->kind[u];
        for (int j = 0; j < c->n_kind_site[k]; j++) {
            double gl = gl_bound(c, c->kind_site[k][j], wk, nk, dist);
            if (gl > 0)
                add_nz(m, r, m->xcol[u] + j, -gl);
        }
    }
    free(deg);
    free(dist);
    free(wbuf);
    free(nb_start);
    free(nb);
    return 0;
}

/* What solve() brings back from GLPK. */
typedef struct solution {
    double *x;          /* n_cols+1: the MIP solution's columns, if any */
    double obj;         /* its objective */
    int status;         /* glp_mip_status, or GLP_UNDEF */
    int ret;            /* glp_intopt's return code */
    char error[600];    /* why solve() failed (two GLPK lines fit) */
} solution;

/* Load the model into GLPK, solve the root relaxation (LP presolver on),
 * then branch and bound from the warm start, within the time left of
 * opts.time_limit since t0.  Every glp_* call of rdumap is in here.
 * Returns 0 with `sol` filled (possibly with no solution: time limit), or
 * -1 with sol->error set when GLPK failed; GLPK's memory is released in
 * both cases. */
static int solve(const model *m, const place_opts *o, double t0, search *srch, solution *sol)
{
    glpk_guard guard;
    guard.last[0] = guard.prev[0] = '\0';
    glp_prob *volatile lp = NULL;
    sol->status = GLP_UNDEF;
    sol->ret = 0;
    glp_term_hook(on_glpk_output, &guard);
    glp_error_hook(on_glpk_error, &guard);
    if (setjmp(guard.env) != 0) {
        /* GLPK failed inside; its environment is unusable: drop it all. */
        glp_free_env();
        snprintf(sol->error, sizeof sol->error, "GLPK failed: %s%s%s",
                 guard.prev[0] ? guard.prev : "", guard.prev[0] ? "; " : "",
                 guard.last[0] ? guard.last : "(no message)");
        return -1;
    }
    lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MIN);
    glp_add_rows(lp, m->n_rows);
    for (int i = 1; i <= m->n_rows; i++) {
        if (m->rtype[i] == 'E')
            glp_set_row_bnds(lp, i, GLP_FX, m->rlo[i], m->rlo[i]);
        else if (m->rtype[i] == 'U')
            glp_set_row_bnds(lp, i, GLP_UP, 0, m->rlo[i]);
        else
            glp_set_row_bnds(lp, i, GLP_LO, m->rlo[i], 0);
    }
    glp_add_cols(lp, m->n_cols);
    for (int j = 1; j <= m->n_cols; j++) {
        if (j < m->pair_col) {
            glp_set_col_kind(lp, j, GLP_BV);
            if (m->zero[j])
                glp_set_col_bnds(lp, j, GLP_FX, 0, 0);
        }
        else {
            glp_set_col_bnds(lp, j, GLP_LO, 0, 0);
        }
        glp_set_obj_coef(lp, j, m->obj[j]);
    }
    glp_load_matrix(lp, m->nz, m->ia, m->ja, m->ar);

    double left = o->time_limit - (now_seconds() - t0);
    glp_smcp sm;
    glp_init_smcp(&sm);
    sm.msg_lev = GLP_MSG_OFF;
    sm.presolve = GLP_ON;
    sm.tm_lim = left > 0 ? (int)fmin(left * 1000, 2e9) : 1;
    int lp_ret = glp_simplex(lp, &sm);
    int rc = 0;
    if (lp_ret == 0 && glp_get_status(lp) == GLP_OPT) {
        left = o->time_limit - (now_seconds() - t0);
        glp_iocp io;
        glp_init_iocp(&io);
        io.msg_lev = GLP_MSG_OFF;
        io.presolve = GLP_OFF;
        io.bt_tech = GLP_BT_BLB;
        io.tm_lim = left > 0 ? (int)fmin(left * 1000, 2e9) : 1;
        io.mip_gap = o->mip_gap;
        io.cb_func = on_search;
        srch->deadline = t0 + o->time_limit;
        io.cb_info = srch;
        sol->ret = glp_intopt(lp, &io);
        sol->status = glp_mip_status(lp);
        if (sol->status == GLP_OPT || sol->status == GLP_FEAS) {
            sol->obj = glp_mip_obj_val(lp);
            for (int j = 1; j <= m->n_cols; j++)
                sol->x[j] = glp_mip_col_val(lp, j);
        }
        /* GLP_ESTOP: on_search stopped it at the deadline, as GLP_ETMLIM. */
        if (sol->ret != 0 && sol->ret != GLP_ETMLIM && sol->ret != GLP_EMIPGAP && sol->ret != GLP_ESTOP) {
            snprintf(sol->error, sizeof sol->error, "branch and bound failed (GLPK code %d)",
                     sol->ret);
            rc = -1;
        }
    } else if (lp_ret != 0 && lp_ret != GLP_ETMLIM) {
        snprintf(sol->error, sizeof sol->error, "the root relaxation failed (GLPK code %d)", lp_ret);
        rc = -1;
    }
    glp_delete_prob(lp);
    glp_error_hook(NULL, NULL);
    glp_term_hook(NULL, NULL);
    glp_free_env();
    return rc;
}

/* ---------------------------------------------------------------- symmetry
 *
 * A map g of the grid onto itself (the eight symmetries of a square, or the
 * four of a rectangle) that sends every site of a kind in use to a site of
 * the same kind preserves every Manhattan distance, so a placement P and
 * g(P) cost the same.  Such maps form a group G.  Fixing one unit u0 to the
 * representative (least index) of its site's orbit under G therefore keeps
 * at least one optimal placement: for any P some g in G sends u0's site to
 * its orbit's representative.  On tiny.cfg (AGCUs on both edges of every
 * row) G holds the identity and the half turn: half the search. */

/* Position of (r, c) under map g of the dihedral group; false if g needs a
 * square grid and this one is not. */
static bool map_point(int g, int rows, int cols, int r, int c, int *r2, int *c2)
{
    if (g >= 4 && rows != cols)
        return false;
    switch (g) {
    case 0: *r2 = r; *c2 = c; break;
    case 1: *r2 = rows - 1 - r; *c2 = cols - 1 - c; break;
    case 2: *r2 = rows - 1 - r; *c2 = c; break;
    case 3: *r2 = r; *c2 = cols - 1 - c; break;
    case 4: *r2 = c; *c2 = r; break;
    case 5: *r2 = cols - 1 - c; *c2 = rows - 1 - r; break;
    case 6: *r2 = c; *c2 = rows - 1 - r; break;
    default: *r2 = cols - 1 - c; *c2 = r; break;
    }
    return true;
}

/* The site of kind k at (r, c), or -1. */
static int site_of(const place_ctx *c, int k, int r, int col)
{
    if (r < 0 || r >= c->rows || col < 0 || col >= c->cols)
        return -1;
    if (k != PLACE_AGCU) {
        int t = c->grid[r * c->cols + col];
        return t >= 0 && (int)c->s->site[t].kind == k ? t : -1;
    }
    for (int j = 0; j < c->n_kind_site[k]; j++) {
        int t = c->kind_site[k][j];
        if (c->s->site[t].row == r && c->s->site[t].col == col)
            return t;
    }
    return -1;
}

/* Choose u0 (the unit of greatest total width, lowest index first), mark in
 * forbid[] the sites of its kind that are not orbit representatives, and
 * move the incumbent by the g that puts u0 on a representative.  Returns u0,
 * -1 when there is no symmetry to break, or -2 when out of memory. */
static int break_symmetry(const place_ctx *c, const pair *pr, int n_pairs, int *incumbent,
                          char *forbid)
{
    const place_problem *p = c->p;
    int ns = c->s->n, n = p->n_units;
    bool used[PLACE_N_KINDS] = {false};
    for (int u = 0; u < n; u++)
        used[p->kind[u]] = true;
    int *perm = xmalloc((size_t)8 * (size_t)(ns > 0 ? ns : 1) * sizeof *perm);
    double *wdeg = xcalloc((size_t)(n > 0 ? n : 1), sizeof *wdeg);
    if (!perm || !wdeg) {
        free(perm);
        free(wdeg);
        return -2;
    }
    int n_g = 0;
    for (int g = 0; g < 8; g++) {
        int *pg = perm + (size_t)n_g * (size_t)ns;
        bool ok = true;
        for (int t = 0; t < ns && ok; t++) {
            pg[t] = t;
            int k = c->s->site[t].kind, r2, c2;
            if (!used[k])
                continue;
            ok = map_point(g, c->rows, c->cols, c->s->site[t].row, c->s->site[t].col, &r2, &c2);
            if (ok)
                pg[t] = site_of(c, k, r2, c2);
            ok = ok && pg[t] >= 0;
        }
        if (ok)
            n_g++;
    }
    int u0 = -1;
    for (int i = 0; i < n_pairs; i++) {
        wdeg[pr[i].a] += pr[i].w;
        wdeg[pr[i].b] += pr[i].w;
    }
    for (int u = 0; u < n; u++)
        if (wdeg[u] > 0 && (u0 < 0 || wdeg[u] > wdeg[u0]))
            u0 = u;
    if (n_g > 1 && u0 >= 0) {
        int k = p->kind[u0];
        for (int j = 0; j < c->n_kind_site[k]; j++) {
            int t = c->kind_site[k][j], rep = t;
            for (int g = 0; g < n_g; g++)
                if (perm[(size_t)g * (size_t)ns + (size_t)t] < rep)
                    rep = perm[(size_t)g * (size_t)ns + (size_t)t];
            forbid[t] = rep != t;
        }
        /* Move the incumbent so that u0 sits on a representative. */
        int s0 = incumbent[u0];
        for (int g = 0; g < n_g && forbid[s0]; g++) {
            const int *pg = perm + (size_t)g * (size_t)ns;
            if (!forbid[pg[s0]]) {
                for (int u = 0; u < n; u++)
                    incumbent[u] = pg[incumbent[u]];
                break;
            }
        }
    } else {
        u0 = -1;
    }
    free(perm);
    free(wdeg);
    return u0;
}

int place_ilp_run(const place_ctx *c, const place_opts *o, int *incumbent,
                  place_result *r, diag_list *d)
{
    const place_problem *p = c->p;
    diag_loc at = diag_at_file(NULL);
    int n = p->n_units;
    double t0 = now_seconds();
    memcpy(r->site, incumbent, (size_t)n * sizeof *r->site);
    r->optimal = false;
    if (n == 0) {   /* nothing to place: GLPK refuses an empty model */
        r->bound = 0;
        r->optimal = true;
        return 0;
    }

    pair *pr = NULL;
    int n_pairs = build_pairs(p, &pr);
    if (n_pairs < 0)
        return diag_error(d, at, "placement: ilp: out of memory");

    /* Size of the model, counted before anything big is allocated. */
    long cols = 0, rows = n, nz = 0, site_rows = 0;
    for (int u = 0; u < n; u++) {
        long su = c->n_kind_site[p->kind[u]];
        cols += su;
        nz += 2 * su;   /* its assignment row and its site rows */
    }
    for (int k = 0; k < PLACE_N_KINDS; k++) {
        bool used = false;
        for (int u = 0; u < n && !used; u++)
            used = (int)p->kind[u] == k;
        if (used)
            site_rows += c->n_kind_site[k];
    }
    rows += site_rows + n;   /* site rows, one Gilmore-Lawler row per unit */
    for (int i = 0; i < n_pairs; i++) {
        long sa = c->n_kind_site[p->kind[pr[i].a]], sb = c->n_kind_site[p->kind[pr[i].b]];
        cols += 2;
        rows += 5;
        nz += 4 * (1 + sa + sb) + 2 + 4;   /* distance rows, least distance, GL terms */
    }
    nz += cols - 2L * n_pairs;             /* GL site terms, at most one per x */
    /* The product rows, if they fit too. */
    long p_cols = 0, p_rows = 0, p_nz = 0;
    for (int i = 0; i < n_pairs; i++) {
        long sa = c->n_kind_site[p->kind[pr[i].a]], sb = c->n_kind_site[p->kind[pr[i].b]];
        long y = pair_products(c, &pr[i]);
        p_cols += y;
        p_rows += sa + sb + 1;
        p_nz += 3 * y + sa + sb + 2;
    }
    bool products = nz + p_nz <= PLACE_ILP_MAX_NONZEROS && p_cols <= PLACE_ILP_MAX_PRODUCTS;
    if (products) {
        cols += p_cols;
        rows += p_rows;
        nz += p_nz;
    }
    if (nz > PLACE_ILP_MAX_NONZEROS) {
        free(pr);
        return diag_error(d, at,
            "placement: ilp: the model would have %ld variables, %ld constraints and %ld "
            "nonzeros, more than the limit of %d; use --place sa, or a smaller fabric or graph",
            cols, rows, nz, (int)PLACE_ILP_MAX_NONZEROS);
    }

    model m;
    if (build_model(c, pr, n_pairs, products, rows, nz, &m) != 0) {
        free(pr);
        return diag_error(d, at, "placement: ilp: out of memory building the model");
    }
    double *warm = xcalloc((size_t)m.n_cols + 1, sizeof *warm);
    int *assigned = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *assigned);
    char *forbid = xcalloc((size_t)(c->s->n > 0 ? c->s->n : 1), 1);
    m.zero = xcalloc((size_t)m.n_cols + 1, 1);
    int u0 = warm && assigned && forbid && m.zero
                 ? break_symmetry(c, pr, n_pairs, incumbent, forbid) : -2;
    if (u0 < -1) {
        free(warm);
        free(assigned);
        free(forbid);
        free(pr);
        model_free(&m);
        return diag_error(d, at, "placement: ilp: out of memory");
    }
    if (u0 >= 0) {
        int k = p->kind[u0];
        for (int j = 0; j < c->n_kind_site[k]; j++)
            m.zero[m.xcol[u0] + j] = forbid[c->kind_site[k][j]];
        memcpy(r->site, incumbent, (size_t)n * sizeof *r->site);
    }
    free(forbid);
    /* The incumbent in the model's columns. */
    int *pos_in_kind = xmalloc((size_t)(c->s->n > 0 ? c->s->n : 1) * sizeof *pos_in_kind);
    if (!pos_in_kind) {
        free(warm);
        free(assigned);
        free(pr);
        model_free(&m);
        return diag_error(d, at, "placement: ilp: out of memory");
    }
    for (int k = 0; k < PLACE_N_KINDS; k++)
        for (int j = 0; j < c->n_kind_site[k]; j++)
            pos_in_kind[c->kind_site[k][j]] = j;
    for (int u = 0; u < n; u++)
        warm[m.xcol[u] + pos_in_kind[incumbent[u]]] = 1;
    for (int i = 0; i < n_pairs; i++) {
        const place_site *a = &c->s->site[incumbent[pr[i].a]], *b = &c->s->site[incumbent[pr[i].b]];
        warm[m.pair_col + 2 * i] = abs(a->col - b->col);
        warm[m.pair_col + 2 * i + 1] = abs(a->row - b->row);
        if (products) {
            int ka = p->kind[pr[i].a], kb = p->kind[pr[i].b];
            int ja = pos_in_kind[incumbent[pr[i].a]], jb = pos_in_kind[incumbent[pr[i].b]];
            int nbk = c->n_kind_site[kb];
            int k = ka == kb ? ja * (nbk - 1) + (jb < ja ? jb : jb - 1) : ja * nbk + jb;
            warm[m.ycol[i] + k] = 1;
        }
    }
    bool integral = true;
    for (int i = 0; i < n_pairs; i++)
        if (pr[i].w != floor(pr[i].w))
            integral = false;

    search srch = {.warm = warm, .warm_cost = place_cost(p, c->s, incumbent), .given = false,
                   .bound = -INFINITY};
    solution sol = {.x = xcalloc((size_t)m.n_cols + 1, sizeof(double))};
    if (!sol.x || solve(&m, o, t0, &srch, &sol) != 0) {
        int rc = diag_error(d, at, "placement: ilp: %s",
                            sol.x ? sol.error : "out of memory");
        free(sol.x);
        free(warm);
        free(assigned);
        free(pos_in_kind);
        free(pr);
        model_free(&m);
        return rc;
    }

    /* Read the solution, if GLPK has one at least as good as ours. */
    double inc_cost = place_cost(p, c->s, incumbent);
    bool have = sol.status == GLP_OPT || sol.status == GLP_FEAS;
    if (have) {
        for (int u = 0; u < n && have; u++) {
            assigned[u] = -1;
            int k = p->kind[u];
            for (int j = 0; j < c->n_kind_site[k]; j++)
                if (sol.x[m.xcol[u] + j] > 0.5) {
                    if (assigned[u] >= 0)
                        have = false;
                    assigned[u] = c->kind_site[k][j];
                }
            if (assigned[u] < 0)
                have = false;
        }
        if (have && place_cost(p, c->s, assigned) <= inc_cost)
            memcpy(r->site, assigned, (size_t)n * sizeof *r->site);
    }
    double cost = place_cost(p, c->s, r->site);
    double bound = srch.bound;
    if (sol.status == GLP_OPT && o->mip_gap == 0 && sol.ret == 0)
        bound = sol.obj;
    if (integral && isfinite(bound))
        bound = ceil(bound - 1e-6);
    if (bound > cost)
        bound = cost;
    r->bound = isfinite(bound) ? bound : NAN;
    r->optimal = isfinite(bound) && cost - bound <= 1e-6 * (cost > 1 ? cost : 1);

    free(sol.x);
    free(warm);
    free(assigned);
    free(pos_in_kind);
    free(pr);
    model_free(&m);
    return 0;
}
