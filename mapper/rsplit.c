/*
 * rsplit.c — splitting a definition's reductions across replicas: a pass
 * of the lowering under --par P (P > 1).
 *
 * --par replicates a definition's outer map; a reduction evaluated once
 * for the whole definition (tpch_q6's revenue, logreg's gbias, a
 * grand total) has no map to replicate, so it ran as one pipeline however
 * large the fabric.  This pass rewrites such a scalar reduce over
 * `n: N` (its first index, static, at least 2P iterations) into P partial
 * reductions and their combination:
 *
 *   reduce (n: N, ...) op where g { B }
 *     =>  { let part = map (split: P) { reduce (n: lo(split) .. lo(split + 1), ...) op where g { B } }
 *           reduce (combine: P) op { part[combine] } }
 *
 * with lo(r) = r * (N / P) + min(r, N % P), so the chunks cover 0 .. N
 * once.  (A row-valued reduce would combine element by element, `map
 * (jc..) { reduce (combine: P) op { part[combine][jc..] } }`, but its
 * partials are combined into memory, which par.c does not replicate: only
 * scalar reductions are split.)  The map over split
 * is then an ordinary parallel map (par.c): each replica reduces its chunk
 * on its own pipelines and writes its row of `part`, a PMU that the
 * combination reads.  The reference runs the program as written; the
 * split reorders the reduction, as the contract allows for + and * (its
 * bound R covers any order), and max, min and i32 arithmetic come out
 * exact.
 *
 * Only reductions at definition level are split (not under a pattern, a
 * `?:` or a short-circuit operator): one inside a map is parallel through
 * the map already.
 */
#include "mapper/dfg_internal.h"

#include <string.h>

typedef struct splitter {
    arena *a;
    int P;
    int slots;             /* the definition's slots so far (grows) */
    int n_split;
    const char *what;      /* the first reduction split, for the report */
    const char *why;       /* or why the first one was not */
    bool oom;
} splitter;

static pat_expr *node(splitter *S, pat_expr_kind kind, pat_elem elem, int rank, const int32_t *dims, diag_loc loc)
{
    pat_expr *e = arena_calloc(S->a, 1, sizeof *e);
    if (!e) {
        S->oom = true;
        return NULL;
    }
    e->kind = kind;
    e->loc = loc;
    e->type.elem = elem;
    e->type.rank = rank;
    for (int q = 0; q < rank; q++)
        e->type.dims[q] = dims[q];
    return e;
}

static pat_expr *int_lit(splitter *S, int32_t v, diag_loc loc)
{
    pat_expr *e = node(S, PAT_E_INT, PAT_I32, 0, NULL, loc);
    if (e)
        e->u.ival = v;
    return e;
}

static pat_expr *var_ref(splitter *S, pat_var *v, diag_loc loc)
{
    pat_expr *e = node(S, PAT_E_VAR, v->type.elem, v->type.rank, v->type.dims, loc);
    if (e)
        e->u.var = v;
    return e;
}

static pat_expr *binary(splitter *S, pat_binop op, pat_expr *l, pat_expr *r, diag_loc loc)
{
    pat_expr *e = node(S, PAT_E_BINARY, PAT_I32, 0, NULL, loc);
    if (e) {
        e->u.binary.op = op;
        e->u.binary.lhs = l;
        e->u.binary.rhs = r;
    }
    return e;
}

static pat_var *new_var(splitter *S, const char *name, pat_elem elem, int rank, const int32_t *dims, bool index,
                        diag_loc loc)
{
    pat_var *v = arena_calloc(S->a, 1, sizeof *v);
    if (!v) {
        S->oom = true;
        return NULL;
    }
    v->name = name;
    v->loc = loc;
    v->type.elem = elem;
    v->type.rank = rank;
    for (int q = 0; q < rank; q++)
        v->type.dims[q] = dims[q];
    v->is_index = index;
    v->slot = S->slots++;
    return v;
}

/* lo(r + add) = (r + add) * q + min(r + add, rem), in i32 (no overflow:
 * at most N). */
static pat_expr *chunk_start(splitter *S, pat_var *r, int add, int32_t q, int32_t rem, diag_loc loc)
{
    if (rem == 0) {  /* (r + add) * q */
        pat_expr *ra = add ? binary(S, PAT_ADD, var_ref(S, r, loc), int_lit(S, add, loc), loc) : var_ref(S, r, loc);
        return binary(S, PAT_MUL, ra, int_lit(S, q, loc), loc);
    }
    pat_expr *ra = add ? binary(S, PAT_ADD, var_ref(S, r, loc), int_lit(S, add, loc), loc) : var_ref(S, r, loc);
    pat_expr *rb = add ? binary(S, PAT_ADD, var_ref(S, r, loc), int_lit(S, add, loc), loc) : var_ref(S, r, loc);
    pat_expr *rc = add ? binary(S, PAT_ADD, var_ref(S, r, loc), int_lit(S, add, loc), loc) : var_ref(S, r, loc);
    pat_expr *sel = node(S, PAT_E_SELECT, PAT_I32, 0, NULL, loc);
    if (!sel)
        return NULL;
    sel->u.select.cond = binary(S, PAT_LT, rb, int_lit(S, rem, loc), loc);
    sel->u.select.then = rc;
    sel->u.select.els = int_lit(S, rem, loc);
    return binary(S, PAT_ADD, binary(S, PAT_MUL, ra, int_lit(S, q, loc), loc), sel, loc);
}

/* The split form of the reduce or group-by e (see the top). */
static pat_expr *split(splitter *S, const pat_expr *e)
{
    const pat_pattern *pt = &e->u.pat;
    diag_loc loc = e->loc;
    int P = S->P, rank = e->type.rank;
    int32_t N = pt->idx[0].extent, q = N / P, rem = N % P;
    int32_t pdims[PAT_MAX_RANK];
    if (rank + 1 > PAT_MAX_RANK)
        return NULL;
    pdims[0] = P;
    for (int k = 0; k < rank; k++)
        pdims[k + 1] = e->type.dims[k];
    pat_var *r = new_var(S, "split", PAT_I32, 0, NULL, true, loc);
    pat_var *part = new_var(S, "part", e->type.elem, rank + 1, pdims, false, loc);
    pat_var *r2 = new_var(S, "combine", PAT_I32, 0, NULL, true, loc);
    /* the partial reduction over chunk r */
    pat_expr *inner = arena_alloc(S->a, sizeof *inner);
    pat_index *ix = arena_calloc(S->a, (size_t)pt->n_idx, sizeof *ix);
    pat_index *rx = arena_calloc(S->a, 1, sizeof *rx);
    pat_index *cx = arena_calloc(S->a, 1, sizeof *cx);
    pat_expr *map = node(S, PAT_E_MAP, e->type.elem, rank + 1, pdims, loc);
    pat_expr *comb = node(S, PAT_E_REDUCE, e->type.elem, 0, NULL, loc);
    pat_expr *acc = node(S, PAT_E_ACCESS, e->type.elem, 0, NULL, loc);
    pat_expr **aidx = arena_calloc(S->a, (size_t)rank + 1, sizeof *aidx);
    pat_expr *blk = node(S, PAT_E_BLOCK, e->type.elem, rank, e->type.dims, loc);
    pat_var **bv = arena_calloc(S->a, 1, sizeof *bv);
    pat_expr **bval = arena_calloc(S->a, 1, sizeof *bval);
    if (!r || !part || !r2 || !inner || !ix || !rx || !cx || !map || !comb || !acc || !aidx || !blk || !bv || !bval) {
        S->oom = true;
        return NULL;
    }
    *inner = *e;
    memcpy(ix, pt->idx, (size_t)pt->n_idx * sizeof *ix);
    ix[0].extent = 0;
    ix[0].lo = chunk_start(S, r, 0, q, rem, loc);
    ix[0].hi = chunk_start(S, r, 1, q, rem, loc);
    inner->u.pat.idx = ix;
    *rx = (pat_index){.var = r, .extent = P};
    map->u.pat = (pat_pattern){.n_idx = 1, .idx = rx, .body = inner};
    /* the combination: element by element for a row-valued result */
    pat_expr *result;
    aidx[0] = var_ref(S, r2, loc);
    pat_index *jx = rank ? arena_calloc(S->a, (size_t)rank, sizeof *jx) : NULL;
    if (rank && !jx) {
        S->oom = true;
        return NULL;
    }
    for (int k = 0; k < rank; k++) {
        pat_var *j = new_var(S, "jc", PAT_I32, 0, NULL, true, loc);
        if (!j)
            return NULL;
        jx[k] = (pat_index){.var = j, .extent = e->type.dims[k]};
        aidx[k + 1] = var_ref(S, j, loc);
    }
    acc->u.access.base = var_ref(S, part, loc);
    acc->u.access.n = rank + 1;
    acc->u.access.idx = aidx;
    *cx = (pat_index){.var = r2, .extent = P};
    comb->u.pat = (pat_pattern){.n_idx = 1, .idx = cx, .op = pt->op, .body = acc};
    if (rank) {
        result = node(S, PAT_E_MAP, e->type.elem, rank, e->type.dims, loc);
        if (!result)
            return NULL;
        result->u.pat = (pat_pattern){.n_idx = rank, .idx = jx, .body = comb};
    } else
        result = comb;
    bv[0] = part;
    bval[0] = map;
    blk->u.block.n = 1;
    blk->u.block.vars = bv;
    blk->u.block.values = bval;
    blk->u.block.result = result;
    return S->oom ? NULL : blk;
}

/* e with its definition-level reductions split; e itself when none is. */
static pat_expr *walk(splitter *S, pat_expr *e)
{
    if (!e || S->oom)
        return e;
    pat_expr *n;
    switch (e->kind) {
    case PAT_E_GROUPBY:
        /* Not yet: each replica's partial histogram would need a PMU of
         * its own (its scatter is read-modify-write), and the combination
         * reads every replica's, which a partitioned tensor does not
         * serve; in one shared PMU the replicas contend and it does not
         * pay (measured: kmeans 32,454 -> 56,402 cycles on sn10). */
        S->why = S->why ? S->why : "its group-by is not split across replicas";
        return e;
    case PAT_E_REDUCE: {
        const pat_index *ix0 = &e->u.pat.idx[0];
        if (e->type.rank > 0) {
            /* its partials would be combined into memory (read-modify-
             * write), which par.c does not replicate */
            S->why = S->why ? S->why : arena_printf(S->a, "its reduction over %s is row-valued", ix0->var->name);
            return e;
        }
        if (ix0->extent <= 0) {
            S->why = S->why ? S->why : arena_printf(S->a, "its reduction over %s has a dynamic range", ix0->var->name);
            return e;
        }
        if (ix0->extent < 2 * S->P) {
            S->why = S->why ? S->why
                            : arena_printf(S->a, "its reduction over %s has %d iterations, fewer than 2 a replica",
                                           ix0->var->name, (int)ix0->extent);
            return e;
        }
        n = split(S, e);
        if (!n)
            return e;
        if (!S->what)
            S->what = arena_printf(S->a, "%s over %s", e->kind == PAT_E_REDUCE ? "reduction" : "group-by",
                                   ix0->var->name);
        S->n_split++;
        return n;
    }
    case PAT_E_UNARY:
    case PAT_E_BINARY:
    case PAT_E_CALL:
    case PAT_E_BLOCK:
        n = arena_alloc(S->a, sizeof *n);
        if (!n) {
            S->oom = true;
            return e;
        }
        *n = *e;
        break;
    default:
        return e;  /* patterns run per element, ?: is predicated */
    }
    if (e->kind == PAT_E_UNARY)
        n->u.unary.arg = walk(S, e->u.unary.arg);
    else if (e->kind == PAT_E_BINARY) {
        if (e->u.binary.op == PAT_AND || e->u.binary.op == PAT_OR)
            return e;  /* the right side is predicated */
        n->u.binary.lhs = walk(S, e->u.binary.lhs);
        n->u.binary.rhs = walk(S, e->u.binary.rhs);
    } else if (e->kind == PAT_E_CALL) {
        for (int k = 0; k < e->u.call.n; k++)
            n->u.call.args[k] = walk(S, e->u.call.args[k]);
    } else {
        int m = e->u.block.n;
        pat_expr **vals = arena_calloc(S->a, (size_t)(m > 0 ? m : 1), sizeof *vals);
        if (!vals) {
            S->oom = true;
            return e;
        }
        for (int k = 0; k < m; k++)
            vals[k] = walk(S, e->u.block.values[k]);
        n->u.block.values = vals;
        n->u.block.result = walk(S, e->u.block.result);
    }
    return n;
}

const pat_program *dfg_split_reductions(const pat_program *p, arena *a, int P, dfg_split *out)
{
    memset(out, 0, sizeof *out);
    out->what = arena_calloc(a, (size_t)(p->n_defs ? p->n_defs : 1), sizeof *out->what);
    out->why = arena_calloc(a, (size_t)(p->n_defs ? p->n_defs : 1), sizeof *out->why);
    pat_program *q = dfg_program_copy(p, a);
    if (!out->what || !out->why || !q)
        return NULL;
    for (int k = 0; k < p->n_defs; k++) {
        const pat_def *df = p->defs[k];
        splitter S = {.a = a, .P = P, .slots = df->n_slots};
        pat_expr *v = walk(&S, df->value);
        if (S.oom)
            return NULL;
        out->what[k] = S.what;
        out->why[k] = S.n_split ? NULL : S.why;
        out->n_split += S.n_split;
        if (S.n_split && dfg_program_set(q, a, k, v, S.slots) != 0)
            return NULL;
    }
    return q;
}
