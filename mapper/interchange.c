/*
 * interchange.c — vectorise the loop that fills the lanes best: a pass
 * before lowering.
 *
 * Only the innermost loop of a nest is vectorised.  A map whose innermost
 * index x is long but whose body is a short reduction fills few lanes: a
 * 3x3 convolution's `reduce (c: C, dy: 3, dx: 3)` issues C*3 vectors of 3
 * active lanes for every output element.  Interchanged, the reduction runs
 * over rows of x instead:
 *
 *   map (..., x: X) { E(reduce (r..) op { B(x) }, x) }
 *     =>  map (...) { let acc.row = reduce (r..) op { map (x: X) { B(x) } }
 *                     map (x: X) { E(acc.row[x], x) } }
 *
 * where the reduce is evaluated once per element (in E's lets or operands,
 * not under a pattern, `?:` or `&&`/`||`) and reads no let of E bound
 * before it.  The row-valued reduction combines a
 * whole row of x per iteration, element by element: the same operations in
 * the same order for every element (no lane tree), so the values are the
 * reference's, and the vectors are X wide.  It is done when it issues
 * fewer vectors: X * prod(r) / e * ceil(e / lanes) before, prod(r) *
 * ceil(X / lanes) after, e being the reduction's innermost extent, and
 * it saves at least 4096 issues over the map's other indices (in a small
 * definition, blocksparse's 16 x 16 layout, the change of units moved the
 * placement more than the 192 issues it saved: 743,625 -> 809,161 cycles).
 *
 * Conditions: the reduction is scalar, over static ranges, with no loop
 * in its body or guard (that would be the vector loop), no `where` that
 * reads x (a guard per lane would have to move into the row); the
 * body of the map is scalar; no tensor the definition touches is kept in
 * DRAM (tiling plans one definition's loops as written).  The reference
 * runs the program as written.
 */
#include "mapper/dfg_internal.h"

#include <stdio.h>
#include <string.h>

/* Vector issues an interchange must save, over the map's other indices. */
enum { INTERCHANGE_MIN_SAVED = 4096 };

typedef struct interchanger {
    arena *a;
    int lanes;
    int slots;
    int n;
    const char *def;       /* the definition, for the record */
    const char **what;     /* what was interchanged, a line each (at most 16) */
    int *n_what;
    bool oom;
} interchanger;

static bool is_var(const pat_expr *e, const void *v)
{
    return e->kind == PAT_E_VAR && e->u.var == v;
}

static bool uses_var(const pat_expr *e, const pat_var *v)
{
    return dfg_expr_any(e, is_var, v);
}

/* The first reduce of e evaluated once per evaluation of e (not under a
 * pattern, a `?:` or a short-circuit operator), or NULL; the lets bound
 * before it on the way are added to bound (at most 32, else NULL). */
static const pat_expr *find_reduce(const pat_expr *e, const pat_var **bound, int *n_bound)
{
    const pat_expr *r = NULL;
    switch (e->kind) {
    case PAT_E_REDUCE:
        return e;
    case PAT_E_UNARY:
        return find_reduce(e->u.unary.arg, bound, n_bound);
    case PAT_E_BINARY:
        if (e->u.binary.op == PAT_AND || e->u.binary.op == PAT_OR)
            return NULL;
        r = find_reduce(e->u.binary.lhs, bound, n_bound);
        return r ? r : find_reduce(e->u.binary.rhs, bound, n_bound);
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n && !r; k++)
            r = find_reduce(e->u.call.args[k], bound, n_bound);
        return r;
    case PAT_E_BLOCK:
        for (int k = 0; k < e->u.block.n; k++) {
            r = find_reduce(e->u.block.values[k], bound, n_bound);
            if (r)
                return r;
            if (*n_bound == 32)
                return NULL;
            bound[(*n_bound)++] = e->u.block.vars[k];
        }
        return find_reduce(e->u.block.result, bound, n_bound);
    default:
        return NULL;
    }
}

static pat_expr *mk(interchanger *I, const pat_expr *like);


/* e with the node `old` replaced by `by` (the nodes on the way copied). */
static pat_expr *replace(interchanger *I, const pat_expr *e, const pat_expr *old, pat_expr *by)
{
    if (e == old)
        return by;
    pat_expr *n = mk(I, e);
    if (!n)
        return NULL;
    switch (e->kind) {
    case PAT_E_UNARY:
        n->u.unary.arg = replace(I, e->u.unary.arg, old, by);
        break;
    case PAT_E_BINARY:
        n->u.binary.lhs = replace(I, e->u.binary.lhs, old, by);
        n->u.binary.rhs = replace(I, e->u.binary.rhs, old, by);
        break;
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++)
            n->u.call.args[k] = replace(I, e->u.call.args[k], old, by);
        break;
    case PAT_E_BLOCK: {
        pat_expr **vals = arena_calloc(I->a, (size_t)(e->u.block.n > 0 ? e->u.block.n : 1), sizeof *vals);
        if (!vals) {
            I->oom = true;
            return NULL;
        }
        for (int k = 0; k < e->u.block.n; k++)
            vals[k] = replace(I, e->u.block.values[k], old, by);
        n->u.block.values = vals;
        n->u.block.result = replace(I, e->u.block.result, old, by);
        break;
    }
    default:
        return (pat_expr *)e;  /* (find_reduce does not look further) */
    }
    return n;
}

static pat_expr *mk(interchanger *I, const pat_expr *like)
{
    pat_expr *n = arena_alloc(I->a, sizeof *n);
    if (!n) {
        I->oom = true;
        return NULL;
    }
    *n = *like;
    return n;
}

/* The interchanged form of map e, or NULL when it does not apply or pay. */
static pat_expr *interchange(interchanger *I, const pat_expr *e)
{
    const pat_pattern *mp = &e->u.pat;
    if (e->kind != PAT_E_MAP || mp->n_idx < 1 || mp->body->type.rank != 0)
        return NULL;
    const pat_index *xi = &mp->idx[mp->n_idx - 1];
    pat_var *x = xi->var;
    int32_t X = xi->extent;
    if (X <= 0)
        return NULL;
    /* the reduction: evaluated once per element of the map, not reading a
     * let of the body bound before it (it moves out of the body) */
    const pat_expr *body = mp->body;
    const pat_var *bound[32];
    int n_bound = 0;
    const pat_expr *red = find_reduce(body, bound, &n_bound);
    if (!red || red->type.rank != 0 || red->u.pat.body->type.rank != 0)
        return NULL;
    for (int k = 0; k < n_bound; k++)
        if (uses_var(red, bound[k]))
            return NULL;
    const pat_pattern *rp = &red->u.pat;
    int64_t trips = 1;
    for (int k = 0; k < rp->n_idx; k++) {
        if (rp->idx[k].extent <= 0)
            return NULL;
        trips *= rp->idx[k].extent;
    }
    /* (a loop inside the body would be the vector loop, not r's) */
    if ((rp->where && uses_var(rp->where, x)) || dfg_has_pattern(rp->body) || dfg_has_pattern(rp->where))
        return NULL;
    int64_t L = I->lanes, inner = rp->idx[rp->n_idx - 1].extent;
    int64_t before = (int64_t)X * (trips / inner) * ((inner + L - 1) / L);
    int64_t after = trips * ((X + L - 1) / L);
    /* (and saves enough issues to matter: in a small definition the change
     * of units moves the placement more than the issues it saves) */
    int64_t others = 1;
    for (int k = 0; k + 1 < mp->n_idx; k++)
        others *= mp->idx[k].extent > 0 ? mp->idx[k].extent : 1;
    if (after * 2 > before || others * (before - after) < INTERCHANGE_MIN_SAVED)
        return NULL;

    /* acc.row = reduce (r..) op where w { map (x: X) { B } } */
    pat_var *row = arena_calloc(I->a, 1, sizeof *row);
    pat_index *rx = arena_calloc(I->a, 1, sizeof *rx);
    pat_expr *rmap = mk(I, e), *rred = mk(I, red);
    if (!row || !rx || I->oom)
        return (I->oom = true), NULL;
    row->name = "acc.row";
    row->loc = red->loc;
    row->type = red->type;
    row->type.rank = 1;
    row->type.dims[0] = X;
    row->slot = I->slots++;
    *rx = *xi;
    rmap->type = row->type;
    rmap->loc = red->loc;
    rmap->u.pat = (pat_pattern){.n_idx = 1, .idx = rx, .body = rp->body};
    rred->type = row->type;
    rred->u.pat.body = rmap;

    /* map (x: X) { let acc = acc.row[x] ... E }  (or acc.row[x]) */
    pat_expr *rowref = mk(I, e), *xref = mk(I, e), *elem = mk(I, red);
    pat_expr **aidx = arena_calloc(I->a, 1, sizeof *aidx);
    if (I->oom || !aidx)
        return (I->oom = true), NULL;
    *rowref = (pat_expr){.kind = PAT_E_VAR, .type = row->type, .loc = red->loc};
    rowref->u.var = row;
    *xref = (pat_expr){.kind = PAT_E_VAR, .type = x->type, .loc = red->loc};
    xref->u.var = x;
    aidx[0] = xref;
    *elem = (pat_expr){.kind = PAT_E_ACCESS, .type = red->type, .loc = red->loc};
    elem->u.access.base = rowref;
    elem->u.access.n = 1;
    elem->u.access.idx = aidx;
    pat_expr *per = replace(I, body, red, elem);
    if (I->oom)
        return NULL;
    pat_expr *xmap = mk(I, e);
    pat_index *xx = arena_calloc(I->a, 1, sizeof *xx);
    if (I->oom || !xx)
        return (I->oom = true), NULL;
    *xx = *xi;
    xmap->type = row->type;
    xmap->type.elem = mp->body->type.elem;
    xmap->u.pat = (pat_pattern){.n_idx = 1, .idx = xx, .body = per};

    /* { let acc.row = ...  map (x) {...} }, inside the map's other indices */
    pat_expr *blk = mk(I, e);
    pat_var **bv = arena_calloc(I->a, 1, sizeof *bv);
    pat_expr **bval = arena_calloc(I->a, 1, sizeof *bval);
    if (I->oom || !bv || !bval)
        return (I->oom = true), NULL;
    bv[0] = row;
    bval[0] = rred;
    *blk = (pat_expr){.kind = PAT_E_BLOCK, .type = xmap->type, .loc = e->loc};
    blk->u.block.n = 1;
    blk->u.block.vars = bv;
    blk->u.block.values = bval;
    blk->u.block.result = xmap;
    I->n++;
    if (*I->n_what < 16) {
        char idx[160] = "";
        for (int k = 0; k < rp->n_idx; k++)
            snprintf(idx + strlen(idx), sizeof idx - strlen(idx), "%s%s", k ? ", " : "", rp->idx[k].var->name);
        I->what[(*I->n_what)++] =
            arena_printf(I->a, "%s: along %s (%d) inside reduce (%s): %lld vector issues instead of %lld per row of %s",
                         I->def, x->name, (int)X, idx, (long long)after, (long long)before, x->name);
    }
    if (mp->n_idx == 1)
        return blk;
    pat_expr *outer = mk(I, e);
    if (I->oom)
        return NULL;
    outer->u.pat.n_idx = mp->n_idx - 1;
    outer->u.pat.body = blk;
    return outer;
}

/* e with its maps interchanged where it pays (only maps at definition
 * level or nested in maps: their bodies run once per element). */
static pat_expr *walk(interchanger *I, pat_expr *e)
{
    if (!e || I->oom || e->kind != PAT_E_MAP)
        return e;
    pat_expr *n = interchange(I, e);
    if (n)
        return n;
    pat_expr *body = walk(I, e->u.pat.body);
    if (body == e->u.pat.body)
        return e;
    n = mk(I, e);
    if (n)
        n->u.pat.body = body;
    return n ? n : e;
}

static bool is_big_tensor(const pat_expr *e, const void *pmu_bytes)
{
    return e->kind == PAT_E_TENSOR && e->u.decl->kind != PAT_CONST &&
           4 * pat_type_count(&e->u.decl->type) > *(const int64_t *)pmu_bytes;
}

/* Does the expression touch a tensor larger than pmu_bytes? */
static bool touches_big(const pat_expr *e, int64_t pmu_bytes)
{
    return pmu_bytes > 0 && dfg_expr_any(e, is_big_tensor, &pmu_bytes);
}

const pat_program *dfg_interchange(const pat_program *p, arena *a, int lanes, int64_t pmu_bytes, int *n_done,
                                  const char ***what)
{
    *n_done = 0;
    *what = arena_calloc(a, 16, sizeof **what);
    int n_what = 0;
    if (!*what)
        return NULL;
    pat_program *q = dfg_program_copy(p, a);
    if (!q)
        return NULL;
    for (int k = 0; k < p->n_defs; k++) {
        const pat_def *df = p->defs[k];
        if (touches_big(df->value, pmu_bytes) ||
            (pmu_bytes > 0 && 4 * pat_type_count(&df->target->type) > pmu_bytes))
            continue;
        interchanger I = {.a = a, .lanes = lanes > 0 ? lanes : 1, .slots = df->n_slots, .def = df->target->name,
                          .what = *what, .n_what = &n_what};
        pat_expr *v = walk(&I, df->value);
        if (I.oom)
            return NULL;
        if (!I.n)
            continue;
        if (dfg_program_set(q, a, k, v, I.slots) != 0)
            return NULL;
        *n_done += I.n;
    }
    return q;
}
