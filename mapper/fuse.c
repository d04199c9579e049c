/*
 * fuse.c — fusion across definitions: the first pass of the lowering.
 *
 * A `buffer` defined by a map and read by the next definition alone, which
 * is a map reading it at its own leading indices, is computed inside that
 * definition instead of before it:
 *
 *   Hd = map (b: B, h: H) { P(b, h) }
 *   Y  = map (b: B, o: O) { ... Hd[b][h] ... }
 *
 * becomes, for the lowering only (the reference runs the program as
 * written, so a wrong fusion is a wrong output):
 *
 *   Y  = map (b: B) { let Hd = map (h: H) { P(b, h) }
 *                     map (o: O) { ... Hd[h] ... } }
 *
 * The depth d is the number of leading map indices that producer and
 * consumer share and at which every read of the buffer is made (here 1:
 * `b`).  At full depth the buffer is one scalar per iteration, a register
 * that never touches a PMU (an element-wise chain); below it, each
 * iteration computes a tile of the remaining dimensions, which the
 * lowering materialises in a scratch PMU that the meta-pipeline over the
 * shared indices N-buffers, so that producer and consumer overlap.  Either
 * way the buffer's own memory is never touched and gets no unit, and the
 * work is the producer's, once: nothing is recomputed.
 *
 * A chain fuses left to right (a buffer fused into a definition whose
 * target is itself a buffer read by the next one fuses again).  Every
 * buffer left unfused gets the reason, which the report prints.
 */
#include "mapper/dfg_internal.h"

#include <string.h>

typedef struct copier {
    arena *a;
    pat_var **vmap;        /* producer slot -> its variable in the fused definition; NULL: keep */
    int base;              /* the producer's slots start here */
    const pat_decl *buf;   /* reads of it are replaced ... */
    int depth;             /* ... dropping this many leading indices ... */
    pat_var *tile;         /* ... by reads of this let */
    bool oom;
} copier;

static pat_var *map_var(copier *c, pat_var *v)
{
    if (!c->vmap)
        return v;
    if (!c->vmap[v->slot]) {
        pat_var *n = arena_alloc(c->a, sizeof *n);
        if (!n) {
            c->oom = true;
            return v;
        }
        *n = *v;
        n->slot = c->base + v->slot;
        c->vmap[v->slot] = n;
    }
    return c->vmap[v->slot];
}

static pat_expr *copy(copier *c, const pat_expr *e);

static pat_expr **copy_list(copier *c, pat_expr *const *v, int n)
{
    pat_expr **out = arena_calloc(c->a, (size_t)(n > 0 ? n : 1), sizeof *out);
    if (!out) {
        c->oom = true;
        return NULL;
    }
    for (int k = 0; k < n; k++)
        out[k] = copy(c, v[k]);
    return out;
}

static pat_index *copy_indices(copier *c, const pat_index *ix, int n)
{
    pat_index *out = arena_calloc(c->a, (size_t)(n > 0 ? n : 1), sizeof *out);
    if (!out) {
        c->oom = true;
        return NULL;
    }
    for (int k = 0; k < n; k++) {
        out[k] = ix[k];
        out[k].var = map_var(c, ix[k].var);
        out[k].lo = ix[k].lo ? copy(c, ix[k].lo) : NULL;
        out[k].hi = ix[k].hi ? copy(c, ix[k].hi) : NULL;
    }
    return out;
}

/* A copy of e in the fused definition: the producer's variables renamed
 * into their new slots, reads of the fused buffer turned into reads of the
 * let that holds its part for the current iteration. */
static pat_expr *copy(copier *c, const pat_expr *e)
{
    if (!e)
        return NULL;
    pat_expr *n = arena_alloc(c->a, sizeof *n);
    if (!n) {
        c->oom = true;
        return (pat_expr *)e;
    }
    *n = *e;
    switch (e->kind) {
    case PAT_E_INT:
    case PAT_E_FLOAT:
    case PAT_E_TENSOR:
        break;
    case PAT_E_VAR:
        n->u.var = map_var(c, e->u.var);
        break;
    case PAT_E_ACCESS:
        if (c->buf && e->u.access.base->kind == PAT_E_TENSOR && e->u.access.base->u.decl == c->buf) {
            pat_expr *tv = arena_alloc(c->a, sizeof *tv);
            if (!tv) {
                c->oom = true;
                break;
            }
            *tv = (pat_expr){.kind = PAT_E_VAR, .type = c->tile->type, .loc = e->u.access.base->loc};
            tv->u.var = c->tile;
            if (c->tile->type.rank == 0) {
                tv->loc = e->loc;
                return tv;
            }
            n->u.access.base = tv;
            n->u.access.n = e->u.access.n - c->depth;
            n->u.access.idx = copy_list(c, e->u.access.idx + c->depth, n->u.access.n);
            break;
        }
        n->u.access.base = copy(c, e->u.access.base);
        n->u.access.idx = copy_list(c, e->u.access.idx, e->u.access.n);
        break;
    case PAT_E_UNARY:
        n->u.unary.arg = copy(c, e->u.unary.arg);
        break;
    case PAT_E_BINARY:
        n->u.binary.lhs = copy(c, e->u.binary.lhs);
        n->u.binary.rhs = copy(c, e->u.binary.rhs);
        break;
    case PAT_E_SELECT:
        n->u.select.cond = copy(c, e->u.select.cond);
        n->u.select.then = copy(c, e->u.select.then);
        n->u.select.els = copy(c, e->u.select.els);
        break;
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++)
            n->u.call.args[k] = copy(c, e->u.call.args[k]);
        break;
    case PAT_E_BLOCK: {
        int m = e->u.block.n;
        n->u.block.values = copy_list(c, e->u.block.values, m);
        n->u.block.vars = arena_calloc(c->a, (size_t)(m > 0 ? m : 1), sizeof *n->u.block.vars);
        if (!n->u.block.vars) {
            c->oom = true;
            break;
        }
        for (int k = 0; k < m; k++)
            n->u.block.vars[k] = map_var(c, e->u.block.vars[k]);
        n->u.block.result = copy(c, e->u.block.result);
        break;
    }
    case PAT_E_MAP:
    case PAT_E_REDUCE:
    case PAT_E_GROUPBY:
        n->u.pat.idx = copy_indices(c, e->u.pat.idx, e->u.pat.n_idx);
        n->u.pat.where = copy(c, e->u.pat.where);
        n->u.pat.key = copy(c, e->u.pat.key);
        n->u.pat.body = copy(c, e->u.pat.body);
        break;
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* Which buffers fuse                                                  */

typedef struct reads {
    const pat_decl *buf;
    int n;                 /* reads of buf */
    bool whole;            /* buf used as a whole value (not an element read) */
    int depth;             /* leading consumer indices every read is made at */
    const pat_pattern *outer;  /* the consumer's map */
    const pat_decl *late;  /* a tensor read that is defined at or after `before` */
    const pat_decl *big;   /* a tensor read larger than `pmu_bytes` (kept in DRAM), or NULL */
    int64_t pmu_bytes;
    int before;            /* definition index bounding what may be read */
} reads;

static void scan_reads(reads *r, const pat_expr *e)
{
    if (!e)
        return;
    switch (e->kind) {
    case PAT_E_INT:
    case PAT_E_FLOAT:
    case PAT_E_VAR:
        return;
    case PAT_E_TENSOR:
        if (e->u.decl == r->buf)
            r->whole = true;
        if (!r->late && e->u.decl->def && e->u.decl->def->index >= r->before)
            r->late = e->u.decl;
        if (!r->big && r->pmu_bytes > 0 && e->u.decl->kind != PAT_CONST &&
            4 * pat_type_count(&e->u.decl->type) > r->pmu_bytes)
            r->big = e->u.decl;
        return;
    case PAT_E_ACCESS: {
        const pat_expr *b = e->u.access.base;
        if (b->kind == PAT_E_TENSOR && b->u.decl == r->buf) {
            r->n++;
            int d = 0;
            while (r->outer && d < r->depth && d < e->u.access.n && e->u.access.idx[d]->kind == PAT_E_VAR &&
                   e->u.access.idx[d]->u.var == r->outer->idx[d].var)
                d++;
            r->depth = d;
        } else
            scan_reads(r, b);
        for (int k = 0; k < e->u.access.n; k++)
            scan_reads(r, e->u.access.idx[k]);
        return;
    }
    case PAT_E_UNARY:
        scan_reads(r, e->u.unary.arg);
        return;
    case PAT_E_BINARY:
        scan_reads(r, e->u.binary.lhs);
        scan_reads(r, e->u.binary.rhs);
        return;
    case PAT_E_SELECT:
        scan_reads(r, e->u.select.cond);
        scan_reads(r, e->u.select.then);
        scan_reads(r, e->u.select.els);
        return;
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++)
            scan_reads(r, e->u.call.args[k]);
        return;
    case PAT_E_BLOCK:
        for (int k = 0; k < e->u.block.n; k++)
            scan_reads(r, e->u.block.values[k]);
        scan_reads(r, e->u.block.result);
        return;
    case PAT_E_MAP:
    case PAT_E_REDUCE:
    case PAT_E_GROUPBY:
        for (int k = 0; k < e->u.pat.n_idx; k++) {
            scan_reads(r, e->u.pat.idx[k].lo);
            scan_reads(r, e->u.pat.idx[k].hi);
        }
        scan_reads(r, e->u.pat.where);
        scan_reads(r, e->u.pat.key);
        scan_reads(r, e->u.pat.body);
        return;
    }
}

/* The original position of a definition in the source (a fused one
 * stands where its consumer stood). */
static int src_index(const pat_def *df)
{
    return df->target->def ? df->target->def->index : df->index;
}

/* Can defs[k] (a buffer's producer) fuse into defs[k + 1]?  The depth, or
 * 0 with the reason in *why. */
static int fusable(pat_def *const *defs, int n, int k, int64_t pmu_bytes, arena *a, const char **why)
{
    const pat_def *P = defs[k];
    const pat_decl *t = P->target;
    *why = NULL;
    if (k + 1 >= n) {
        *why = "no definition follows it";
        return 0;
    }
    const pat_def *C = defs[k + 1];
    if (P->value->kind != PAT_E_MAP) {
        *why = "its definition is not a map";
        return 0;
    }
    if (C->value->kind != PAT_E_MAP) {
        *why = arena_printf(a, "'%s', which reads it, is not defined by a map", C->target->name);
        return 0;
    }
    /* Read by the next definition alone, element by element. */
    for (int j = 0; j < n; j++) {
        if (j == k + 1 || j == k)
            continue;
        reads r = {.buf = t, .before = 0x7fffffff};
        scan_reads(&r, defs[j]->value);
        if (r.n > 0 || r.whole) {
            reads rc = {.buf = t, .before = 0x7fffffff};
            scan_reads(&rc, C->value);
            *why = rc.n > 0 || rc.whole
                       ? arena_printf(a, "'%s' reads it as well as '%s'", defs[j]->target->name, C->target->name)
                       : arena_printf(a, "'%s' reads it, and is not the definition after it",
                                      defs[j]->target->name);
            return 0;
        }
    }
    const pat_pattern *cp = &C->value->u.pat, *pp = &P->value->u.pat;
    int most = cp->n_idx < pp->n_idx ? cp->n_idx : pp->n_idx;
    int same = 0;
    while (same < most && cp->idx[same].extent > 0 && cp->idx[same].extent == pp->idx[same].extent)
        same++;
    reads r = {.buf = t, .outer = cp, .depth = same, .before = 0x7fffffff};
    scan_reads(&r, C->value);
    if (r.whole) {
        *why = arena_printf(a, "'%s' uses it as a whole value", C->target->name);
        return 0;
    }
    if (r.n == 0) {
        *why = arena_printf(a, "'%s' does not read it", C->target->name);
        return 0;
    }
    if (r.depth == 0) {
        *why = same == 0 ? arena_printf(a, "'%s' does not share its first map index", C->target->name)
                         : arena_printf(a, "'%s' reads it at other rows than its own (not at its index '%s')",
                                        C->target->name, cp->idx[0].var->name);
        return 0;
    }
    /* The producer reads nothing defined at or after it. */
    reads late = {.buf = NULL, .before = src_index(P)};
    scan_reads(&late, P->value);
    if (late.late) {
        *why = arena_printf(a, "its definition reads '%s', defined after it", late.late->name);
        return 0;
    }
    /* Tiling through DRAM plans one definition's loops at a time: a
     * definition that reads a tensor kept in DRAM stays on its own. */
    reads big = {.buf = t, .before = 0x7fffffff, .pmu_bytes = pmu_bytes};
    scan_reads(&big, P->value);
    scan_reads(&big, C->value);
    if (!big.big && pmu_bytes > 0 && 4 * pat_type_count(&C->target->type) > pmu_bytes)
        big.big = C->target;
    if (big.big) {
        *why = arena_printf(a, "'%s' is larger than a PMU and kept in DRAM: a definition reading it is tiled on "
                               "its own",
                            big.big->name);
        return 0;
    }
    int64_t bytes = 4;
    for (int q = r.depth; q < t->type.rank; q++)
        bytes *= t->type.dims[q];
    if (pmu_bytes > 0 && bytes > pmu_bytes) {
        *why = arena_printf(a, "its part per iteration of '%s' (%lld KiB) exceeds a PMU",
                            cp->idx[r.depth - 1].var->name, (long long)(bytes / 1024));
        return 0;
    }
    return r.depth;
}

/* The definition computing P's buffer d indices deep inside C. */
static pat_def *fuse_pair(arena *a, const pat_def *P, const pat_def *C, int d)
{
    const pat_pattern *pp = &P->value->u.pat, *cp = &C->value->u.pat;
    const pat_decl *t = P->target;
    int np = P->n_slots > 0 ? P->n_slots : 0;
    copier c = {.a = a, .base = C->n_slots};
    c.vmap = arena_calloc(a, (size_t)(np > 0 ? np : 1), sizeof *c.vmap);
    pat_var *tile = arena_alloc(a, sizeof *tile);
    pat_expr *pv = arena_alloc(a, sizeof *pv);
    pat_expr *blk = arena_alloc(a, sizeof *blk);
    pat_expr *outer = arena_alloc(a, sizeof *outer);
    pat_def *df = arena_alloc(a, sizeof *df);
    pat_var **vars = arena_alloc(a, sizeof *vars);
    pat_expr **vals = arena_alloc(a, sizeof *vals);
    if (!c.vmap || !tile || !pv || !blk || !outer || !df || !vars || !vals)
        return NULL;
    /* The producer's shared indices are the consumer's. */
    for (int k = 0; k < d; k++)
        c.vmap[pp->idx[k].var->slot] = cp->idx[k].var;

    pat_type tt = t->type;
    tt.rank = t->type.rank - d;
    for (int q = 0; q < tt.rank; q++)
        tt.dims[q] = t->type.dims[q + d];
    for (int q = tt.rank; q < PAT_MAX_RANK; q++)
        tt.dims[q] = 0;
    *tile = (pat_var){.name = t->name, .loc = P->loc, .type = tt, .is_index = false,
                      .slot = C->n_slots + np};

    /* The producer's part for one iteration of the shared indices. */
    if (pp->n_idx > d) {
        *pv = *P->value;
        pv->type = tt;
        pv->u.pat.n_idx = pp->n_idx - d;
        pv->u.pat.idx = copy_indices(&c, pp->idx + d, pp->n_idx - d);
        pv->u.pat.body = copy(&c, pp->body);
    } else
        pv = copy(&c, pp->body);

    /* The consumer's part, reading it. */
    copier cc = {.a = a, .buf = t, .depth = d, .tile = tile};
    pat_expr *res;
    if (cp->n_idx > d) {
        res = arena_alloc(a, sizeof *res);
        if (!res)
            return NULL;
        *res = *C->value;
        res->type.rank = C->value->type.rank - d;
        for (int q = 0; q < PAT_MAX_RANK; q++)
            res->type.dims[q] = q < res->type.rank ? C->value->type.dims[q + d] : 0;
        res->u.pat.n_idx = cp->n_idx - d;
        res->u.pat.idx = cp->idx + d;
        res->u.pat.body = copy(&cc, cp->body);
    } else
        res = copy(&cc, cp->body);
    if (c.oom || cc.oom || !pv || !res)
        return NULL;

    vars[0] = tile;
    vals[0] = pv;
    *blk = (pat_expr){.kind = PAT_E_BLOCK, .type = res->type, .loc = res->loc};
    blk->u.block.n = 1;
    blk->u.block.vars = vars;
    blk->u.block.values = vals;
    blk->u.block.result = res;
    *outer = *C->value;
    outer->u.pat.n_idx = d;
    outer->u.pat.body = blk;
    *df = *C;
    df->value = outer;
    df->n_slots = C->n_slots + np + 1;
    return df;
}

const pat_program *dfg_fuse(const pat_program *p, arena *a, int64_t pmu_bytes, dfg_fusion **out, int *n_out)
{
    *out = NULL;
    *n_out = 0;
    int n = p->n_defs, nb = 0;
    for (int k = 0; k < n; k++)
        nb += p->defs[k]->target->kind == PAT_BUFFER;
    if (nb == 0)
        return p;
    pat_program *q = arena_alloc(a, sizeof *q);
    pat_def **defs = arena_calloc(a, (size_t)n, sizeof *defs);
    dfg_fusion *fu = arena_calloc(a, (size_t)nb, sizeof *fu);
    if (!q || !defs || !fu)
        return NULL;
    memcpy(defs, p->defs, (size_t)n * sizeof *defs);
    int nf = 0;
    for (int k = 0; k < n;) {
        if (defs[k]->target->kind != PAT_BUFFER) {
            k++;
            continue;
        }
        const char *why;
        int d = fusable(defs, n, k, pmu_bytes, a, &why);
        dfg_fusion *f = &fu[nf++];
        f->buffer = defs[k]->target;
        if (d == 0) {
            f->why = why;
            k++;
            continue;
        }
        pat_def *df = fuse_pair(a, defs[k], defs[k + 1], d);
        if (!df)
            return NULL;
        f->into = defs[k + 1]->target;
        f->depth = d;
        f->part = df->value->u.pat.body->u.block.vars[0]->type;
        for (int j = 0; j < d; j++)
            f->shared[j] = df->value->u.pat.idx[j].var->name;
        memmove(defs + k, defs + k + 1, (size_t)(n - k - 1) * sizeof *defs);
        defs[--n] = NULL;
        defs[k] = df;
        /* (the fused definition may itself produce a buffer: k stays) */
    }
    for (int k = 0; k < n; k++) {
        if (defs[k]->index != k) {
            pat_def *c = arena_alloc(a, sizeof *c);
            if (!c)
                return NULL;
            *c = *defs[k];
            c->index = k;
            defs[k] = c;
        }
    }
    *q = *p;
    q->n_defs = n;
    q->defs = defs;
    *out = fu;
    *n_out = nf;
    return q;
}
