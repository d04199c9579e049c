/*
 * select_guard.c — a `?:` that selects the identity is a guard: a pass
 * before lowering.
 *
 *   reduce (j: N) + where w { c ? e : 0.0 }   =>   reduce (j: N) + where w && c { e }
 *
 * For a reduction whose body selects its operator's identity on one side
 * (0 for +, 1 for *; either side, the condition negated for the other),
 * adding the identity changes nothing, so the iterations where the
 * condition is false can be skipped instead of computed and combined.
 * The condition then joins the `where` guard, and everything the lowering
 * does with guards applies to it: a conjunct that bounds an index (`j <=
 * i`, `j < len[r]`) becomes the loop's bounds, a guard over blocks is
 * scanned, a counter-only guard lets counter chains skip whole vectors.
 * `c` is evaluated exactly when it was before (after `w`, as `&&` short-
 * circuits), and `e` only where it was selected, so faults are unchanged.
 * (An f32 sum that adds +0.0 to -0.0 gives +0.0 where the skip leaves
 * -0.0: equal under the contract's comparison.)
 *
 * The reference runs the program as written; the lowering sees the
 * rewritten patterns only.
 */
#include "mapper/dfg_internal.h"

#include <string.h>

typedef struct rewriter {
    arena *a;
    int n;                 /* guards made */
    bool oom;
} rewriter;

static bool is_identity(const pat_expr *e, pat_redop op)
{
    if (op != PAT_RED_ADD && op != PAT_RED_MUL)
        return false;
    double want = op == PAT_RED_ADD ? 0.0 : 1.0;
    if (e->kind == PAT_E_INT)
        return e->u.ival == (int32_t)want;
    if (e->kind == PAT_E_FLOAT)
        return e->u.fval == (float)want;
    return false;
}

static pat_expr *rewrite(rewriter *R, const pat_expr *e);

static pat_expr *dup(rewriter *R, const pat_expr *e)
{
    pat_expr *n = arena_alloc(R->a, sizeof *n);
    if (!n) {
        R->oom = true;
        return (pat_expr *)e;
    }
    *n = *e;
    return n;
}

static pat_expr **rewrite_list(rewriter *R, pat_expr *const *v, int n)
{
    pat_expr **out = arena_calloc(R->a, (size_t)(n > 0 ? n : 1), sizeof *out);
    if (!out) {
        R->oom = true;
        return (pat_expr **)v;
    }
    for (int k = 0; k < n; k++)
        out[k] = rewrite(R, v[k]);
    return out;
}

/* The guard form of a reduce whose body selects the identity, or NULL. */
static pat_expr *as_guard(rewriter *R, const pat_expr *e, pat_expr *body)
{
    const pat_pattern *pt = &e->u.pat;
    while (body->kind == PAT_E_BLOCK && body->u.block.n == 0)  /* `{ c ? e : 0.0 }` */
        body = body->u.block.result;
    if (e->kind != PAT_E_REDUCE || body->kind != PAT_E_SELECT || body->type.rank != 0)
        return NULL;
    pat_expr *cond = body->u.select.cond, *keep;
    bool negate = false;
    if (is_identity(body->u.select.els, pt->op))
        keep = body->u.select.then;
    else if (is_identity(body->u.select.then, pt->op)) {
        keep = body->u.select.els;
        negate = true;
    } else
        return NULL;
    if (negate) {
        pat_expr *nc = dup(R, cond);
        if (R->oom)
            return NULL;
        *nc = (pat_expr){.kind = PAT_E_UNARY, .type = cond->type, .loc = cond->loc};
        nc->u.unary.op = PAT_NOT;
        nc->u.unary.arg = cond;
        cond = nc;
    }
    pat_expr *where = cond;
    if (pt->where) {
        where = dup(R, cond);
        if (R->oom)
            return NULL;
        *where = (pat_expr){.kind = PAT_E_BINARY, .type = cond->type, .loc = cond->loc};
        where->u.binary.op = PAT_AND;
        where->u.binary.lhs = rewrite(R, pt->where);
        where->u.binary.rhs = cond;
    }
    pat_expr *n = dup(R, e);
    if (R->oom)
        return NULL;
    n->u.pat.where = where;
    n->u.pat.body = keep;
    R->n++;
    return n;
}

static pat_expr *rewrite(rewriter *R, const pat_expr *e)
{
    if (!e || R->oom)
        return (pat_expr *)e;
    pat_expr *n;
    switch (e->kind) {
    case PAT_E_INT:
    case PAT_E_FLOAT:
    case PAT_E_TENSOR:
    case PAT_E_VAR:
        return (pat_expr *)e;
    default:
        n = dup(R, e);
        if (R->oom)
            return n;
    }
    switch (e->kind) {
    case PAT_E_ACCESS:
        n->u.access.base = rewrite(R, e->u.access.base);
        n->u.access.idx = rewrite_list(R, e->u.access.idx, e->u.access.n);
        break;
    case PAT_E_UNARY:
        n->u.unary.arg = rewrite(R, e->u.unary.arg);
        break;
    case PAT_E_BINARY:
        n->u.binary.lhs = rewrite(R, e->u.binary.lhs);
        n->u.binary.rhs = rewrite(R, e->u.binary.rhs);
        break;
    case PAT_E_SELECT:
        n->u.select.cond = rewrite(R, e->u.select.cond);
        n->u.select.then = rewrite(R, e->u.select.then);
        n->u.select.els = rewrite(R, e->u.select.els);
        break;
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++)
            n->u.call.args[k] = rewrite(R, e->u.call.args[k]);
        break;
    case PAT_E_BLOCK:
        n->u.block.values = rewrite_list(R, e->u.block.values, e->u.block.n);
        n->u.block.result = rewrite(R, e->u.block.result);
        break;
    case PAT_E_MAP:
    case PAT_E_REDUCE:
    case PAT_E_GROUPBY: {
        pat_index *ix = arena_calloc(R->a, (size_t)(e->u.pat.n_idx > 0 ? e->u.pat.n_idx : 1), sizeof *ix);
        if (!ix) {
            R->oom = true;
            return n;
        }
        for (int k = 0; k < e->u.pat.n_idx; k++) {
            ix[k] = e->u.pat.idx[k];
            ix[k].lo = rewrite(R, ix[k].lo);
            ix[k].hi = rewrite(R, ix[k].hi);
        }
        n->u.pat.idx = ix;
        n->u.pat.key = rewrite(R, e->u.pat.key);
        pat_expr *body = rewrite(R, e->u.pat.body);
        pat_expr *g = as_guard(R, n, body);
        if (g)
            return g;
        n->u.pat.where = rewrite(R, e->u.pat.where);
        n->u.pat.body = body;
        break;
    }
    default:
        break;
    }
    return n;
}

const pat_program *dfg_select_guards(const pat_program *p, arena *a, int *n_guards)
{
    *n_guards = 0;
    pat_program *q = dfg_program_copy(p, a);
    if (!q)
        return NULL;
    for (int k = 0; k < p->n_defs; k++) {
        rewriter R = {.a = a};
        pat_expr *v = rewrite(&R, p->defs[k]->value);
        if (R.oom)
            return NULL;
        if (!R.n)
            continue;
        if (dfg_program_set(q, a, k, v, p->defs[k]->n_slots) != 0)
            return NULL;
        *n_guards += R.n;
    }
    return q;
}
