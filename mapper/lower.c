/*
 * lower.c — from the typed pattern IR to the loop program of the dataflow
 * graph (see dfg.h for the three layers).
 *
 * Two mutually recursive walks do all the work:
 *
 *   lower_scalar(e)          emits the operations computing the scalar e at
 *                            the current loop level and returns its register;
 *   lower_into(e, mem, pre)  writes the value of e (any shape) into memory
 *                            mem at index prefix pre ++ the element index,
 *                            either storing or combining (read-modify-write).
 *
 * A map becomes loops around its body; a reduce becomes loops carrying an
 * accumulator (scalar body) or combining into memory element by element
 * (row-valued body); a group-by fills its memory with the identity and then
 * scatters with read-modify-write behind a key-range check.  A tensor value
 * that is not written straight to its destination — a tensor `let`, a
 * group-by or reduce used as an operand — is materialised into a scratch
 * memory (a VPMU tile) at the level where it is needed.
 *
 * Conditional evaluation is predication: the operations of a `where`
 * block, of the unselected side of `?:`, and of the right side of `&&`/`||`
 * carry a predicate register, and a predicated load, division, check,
 * store or loop does nothing on lanes where the predicate is false — so the
 * program faults exactly where the reference interpreter does.
 */
#include "mapper/dfg_internal.h"

#include <math.h>
#include <string.h>

typedef enum { INTO_STORE, INTO_COMBINE } into_mode;

typedef struct lower {
    dfg *g;
    diag_list *d;
    dfg_block *cur;        /* where statements are appended */
    dfg_loop *level;       /* current loop, NULL at definition level */
    int pred;              /* current predicate register, or DFG_NONE */
    int *slot_reg;         /* variable slot -> register (indices, scalar lets) */
    int *slot_mem;         /* variable slot -> memory (tensor lets) */
    const pat_def *def;
    bool no_unroll;        /* keep every loop (for tests of the unroller) */
    int failed;
} lower;

/* ------------------------------------------------------------------ */
/* Emission                                                            */

static dfg_op *emit(lower *L, dfg_opcode code, pat_elem type, diag_loc loc)
{
    dfg_op *op = dfg_new_op(L->g, code, type);
    if (!op || dfg_block_add(L->g, L->cur, (dfg_stmt){.op = op}) != 0) {
        if (!L->failed)
            diag_error(L->d, loc, "out of memory while lowering");
        L->failed = 1;
        return NULL;
    }
    op->loc = loc;
    op->pred = L->pred;
    op->guard = L->pred;
    return op;
}

static int set_dst(lower *L, dfg_op *op, pat_elem type)
{
    if (!op)
        return DFG_NONE;
    int r = dfg_new_reg(L->g, type, L->level, NULL);
    if (r == DFG_NONE) {
        L->failed = 1;
        return DFG_NONE;
    }
    op->dst = r;
    L->g->regs[r].def_op = op->id;
    return r;
}

static int emit_const_i(lower *L, int32_t v, diag_loc loc)
{
    dfg_op *op = emit(L, DFG_CONST, PAT_I32, loc);
    if (!op)
        return DFG_NONE;
    op->imm.i = v;
    op->pred = DFG_NONE;
    return set_dst(L, op, PAT_I32);
}

static int emit_const_f(lower *L, float v, diag_loc loc)
{
    dfg_op *op = emit(L, DFG_CONST, PAT_F32, loc);
    if (!op)
        return DFG_NONE;
    op->imm.f = v;
    op->pred = DFG_NONE;
    return set_dst(L, op, PAT_F32);
}

static int emit_op(lower *L, dfg_opcode code, pat_elem type, int a, int b, int c, diag_loc loc)
{
    if (a == DFG_NONE && code != DFG_CONST)
        return DFG_NONE;
    dfg_op *op = emit(L, code, type, loc);
    if (!op)
        return DFG_NONE;
    op->a = a;
    op->b = b;
    op->c = c;
    /* Pure lane arithmetic cannot fault: it computes on every lane and the
     * predicate only matters where an effect or a fault is possible. */
    if (code != DFG_DIV && code != DFG_MOD)
        op->pred = DFG_NONE;
    return set_dst(L, op, type);
}

/* The identity of a reduction operator, as the contract defines it. */
static int emit_identity(lower *L, pat_redop op, pat_elem type, diag_loc loc)
{
    if (type == PAT_F32) {
        float v = op == PAT_RED_ADD ? 0.0f : op == PAT_RED_MUL ? 1.0f
                : op == PAT_RED_MAX ? -INFINITY : INFINITY;
        return emit_const_f(L, v, loc);
    }
    int32_t v = op == PAT_RED_ADD ? 0 : op == PAT_RED_MUL ? 1
              : op == PAT_RED_MAX ? INT32_MIN : INT32_MAX;
    return emit_const_i(L, v, loc);
}

/* pred && (r != 0) as an i32 predicate register. */
static int and_pred(lower *L, int pred, int cond, diag_loc loc)
{
    if (pred == DFG_NONE)
        return cond;
    return emit_op(L, DFG_LAND, PAT_I32, pred, cond, DFG_NONE, loc);
}

static int truth(lower *L, int r, diag_loc loc)
{
    int zero = emit_const_i(L, 0, loc);
    return emit_op(L, DFG_NE, PAT_I32, r, zero, DFG_NONE, loc);
}

/* ------------------------------------------------------------------ */
/* Loops                                                               */

typedef struct saved_level {
    dfg_block *cur;
    dfg_loop *level;
    int pred;
} saved_level;

/* Open a loop over [lo, hi) at the current level and descend into its body.
 * The loop runs only where the current predicate holds; inside, the
 * predicate starts true again. Returns the loop, or NULL. */
static dfg_loop *open_loop(lower *L, int lo, int hi, int32_t trip, const char *label,
                           saved_level *save, diag_loc loc)
{
    dfg *g = L->g;
    dfg_loop **loops = dfg_grow(g->a, g->loops, g->n_loops, &g->cap_loops, sizeof *loops);
    dfg_loop *lp = arena_alloc(g->a, sizeof *lp);
    if (!loops || !lp || lo == DFG_NONE || hi == DFG_NONE) {
        if (!L->failed)
            diag_error(L->d, loc, "out of memory while lowering");
        L->failed = 1;
        return NULL;
    }
    g->loops = loops;
    lp->id = g->n_loops;
    g->loops[g->n_loops++] = lp;
    lp->lo = lo;
    lp->hi = hi;
    lp->trip = trip;
    lp->pred = L->pred;
    lp->parent = L->level;
    lp->depth = L->level ? L->level->depth + 1 : 1;
    lp->innermost = true;
    lp->vpcu = DFG_NONE;
    lp->par = 1;
    lp->chunk = NULL;
    lp->label = label;
    if (L->level)
        L->level->innermost = false;
    if (dfg_block_add(g, L->cur, (dfg_stmt){.is_loop = true, .loop = lp}) != 0) {
        L->failed = 1;
        return NULL;
    }
    save->cur = L->cur;
    save->level = L->level;
    save->pred = L->pred;
    L->cur = &lp->body;
    L->level = lp;
    L->pred = DFG_NONE;
    lp->counter = dfg_new_reg(g, PAT_I32, lp, label);
    if (lp->counter == DFG_NONE) {
        L->failed = 1;
        return NULL;
    }
    return lp;
}

static void close_loop(lower *L, const saved_level *save)
{
    L->cur = save->cur;
    L->level = save->level;
    L->pred = save->pred;
}

/* Attach a reduction to loop lp; returns the result register, which lives
 * at the loop's enclosing level. */
static int add_acc(lower *L, dfg_loop *lp, int val, int pred, pat_redop op, pat_elem type)
{
    dfg *g = L->g;
    dfg_acc *acc = arena_calloc(g->a, (size_t)lp->n_acc + 1, sizeof *acc);
    int r = dfg_new_reg(g, type, lp->parent, NULL);
    if (!acc || r == DFG_NONE || val == DFG_NONE) {
        L->failed = 1;
        return DFG_NONE;
    }
    if (lp->n_acc)
        memcpy(acc, lp->acc, (size_t)lp->n_acc * sizeof *acc);
    acc[lp->n_acc] = (dfg_acc){.reg = r, .val = val, .pred = pred, .op = op, .type = type};
    lp->acc = acc;
    lp->n_acc++;
    return r;
}

/* Open the loops of a pattern's indices, binding each index variable to
 * its counter.  Dynamic bounds are computed at the level where the index
 * is opened, so an inner range may depend on an outer index. */
static int open_pattern_loops(lower *L, const pat_pattern *pt, dfg_loop **loops,
                              saved_level *saves, diag_loc loc);

static int lower_scalar(lower *L, const pat_expr *e);

static int open_pattern_loops(lower *L, const pat_pattern *pt, dfg_loop **loops,
                              saved_level *saves, diag_loc loc)
{
    for (int k = 0; k < pt->n_idx; k++) {
        const pat_index *ix = &pt->idx[k];
        int lo, hi;
        int32_t trip;
        if (ix->lo) {
            lo = lower_scalar(L, ix->lo);
            hi = lower_scalar(L, ix->hi);
            trip = -1;
        } else {
            lo = emit_const_i(L, 0, loc);
            hi = emit_const_i(L, ix->extent, loc);
            trip = ix->extent;
        }
        loops[k] = open_loop(L, lo, hi, trip, ix->var->name, &saves[k], ix->var->loc);
        if (!loops[k])
            return -1;
        L->slot_reg[ix->var->slot] = loops[k]->counter;
        L->g->regs[loops[k]->counter].name = ix->var->name;
    }
    return 0;
}

static void close_pattern_loops(lower *L, int n, const saved_level *saves)
{
    for (int k = n - 1; k >= 0; k--)
        close_loop(L, &saves[k]);
}

/* ------------------------------------------------------------------ */
/* Memories                                                            */

static int new_mem(lower *L, dfg_mem_kind kind, const char *name, const pat_type *type,
                   const pat_decl *decl)
{
    dfg *g = L->g;
    dfg_mem *m = dfg_grow(g->a, g->mems, g->n_mems, &g->cap_mems, sizeof *m);
    if (!m) {
        L->failed = 1;
        return DFG_NONE;
    }
    g->mems = m;
    dfg_mem *mm = &g->mems[g->n_mems];
    mm->kind = kind;
    mm->name = name;
    mm->type = *type;
    mm->decl = decl;
    mm->bytes = pat_type_count(type) * 4;
    mm->depth = 1;
    mm->banks = g->fab ? g->fab->pmu_banks : 1;
    mm->vpmu = DFG_NONE;
    mm->vag = DFG_NONE;
    mm->copies = 1;
    mm->copy_bytes = mm->bytes;
    mm->rotate = -1;
    mm->write_skew = 0;
    mm->part_row = NULL;
    return g->n_mems++;
}

/* Do registers a and b hold the same value: the same register, or two
 * constants equal in type and bits? */
static bool same_value(const dfg *g, int a, int b)
{
    if (a == b)
        return true;
    int da = g->regs[a].def_op, db = g->regs[b].def_op;
    if (da == DFG_NONE || db == DFG_NONE)
        return false;
    const dfg_op *x = g->ops[da], *y = g->ops[db];
    return x->code == DFG_CONST && y->code == DFG_CONST && x->type == y->type && x->imm.i == y->imm.i;
}

/* An identical load already emitted in the current block, with no store,
 * scatter or loop in between that could change what it read: reuse its
 * value instead of opening a second read stream from the PMU (unrolled
 * copies of a body read the same words).  Returns its register, or
 * DFG_NONE. */
static int earlier_load(const lower *L, int mem, int n_idx, const int *idx)
{
    const dfg_block *b = L->cur;
    for (int k = b->n - 1; k >= 0; k--) {
        if (b->s[k].is_loop)
            return DFG_NONE;
        const dfg_op *op = b->s[k].op;
        if (op->mem == mem && op->code != DFG_LOAD)
            return DFG_NONE;
        if (op->code != DFG_LOAD || op->mem != mem || op->n_idx != n_idx || op->pred != L->pred)
            continue;
        bool same = true;
        for (int q = 0; q < n_idx && same; q++)
            same = same_value(L->g, op->idx[q], idx[q]);
        if (same)
            return op->dst;
    }
    return DFG_NONE;
}

static int emit_mem_op(lower *L, dfg_opcode code, int mem, int n_idx, const int *idx, int val,
                       diag_loc loc)
{
    const dfg_mem *m = &L->g->mems[mem];
    if (code == DFG_LOAD) {
        bool ok = true;
        for (int q = 0; q < n_idx; q++)
            ok &= idx[q] != DFG_NONE;
        int r = ok ? earlier_load(L, mem, n_idx, idx) : DFG_NONE;
        if (r != DFG_NONE)
            return r;
    }
    dfg_op *op = emit(L, code, m->type.elem, loc);
    if (!op)
        return DFG_NONE;
    op->mem = mem;
    op->n_idx = n_idx;
    for (int k = 0; k < n_idx; k++) {
        if (idx[k] == DFG_NONE) {
            L->failed = 1;
            return DFG_NONE;
        }
        op->idx[k] = idx[k];
    }
    op->what = m->name;
    if (code == DFG_LOAD)
        return set_dst(L, op, m->type.elem);
    op->a = val;
    return val;
}

/* ------------------------------------------------------------------ */
/* Unrolling                                                           */

/* Tiny static loops (`map (c: 2) { c == 0 ? call : put }`) would stand
 * between an outer loop and the lanes: the outer loop could not be
 * vectorised and everything in it would run one element per cycle.  A
 * pattern or copy of at most UNROLL_MAX iterations whose body opens no
 * loop of its own is therefore unrolled inside a loop: its body is emitted
 * once per index value, with the index a constant. */
enum { UNROLL_MAX = 8 };

/* Would lowering e (as a value) open a loop? */
static bool opens_loops(const pat_expr *e)
{
    if (!e)
        return false;
    switch (e->kind) {
    case PAT_E_INT:
    case PAT_E_FLOAT:
    case PAT_E_VAR:
        return e->type.rank > 0;
    case PAT_E_TENSOR:
        return e->type.rank > 0;
    case PAT_E_ACCESS: {
        const pat_expr *b = e->u.access.base;
        if (b->kind != PAT_E_TENSOR && b->kind != PAT_E_VAR)
            return true;
        for (int k = 0; k < e->u.access.n; k++)
            if (opens_loops(e->u.access.idx[k]))
                return true;
        return false;
    }
    case PAT_E_UNARY:
        return opens_loops(e->u.unary.arg);
    case PAT_E_BINARY:
        return opens_loops(e->u.binary.lhs) || opens_loops(e->u.binary.rhs);
    case PAT_E_SELECT:
        return opens_loops(e->u.select.cond) || opens_loops(e->u.select.then) || opens_loops(e->u.select.els);
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++)
            if (opens_loops(e->u.call.args[k]))
                return true;
        return false;
    case PAT_E_BLOCK:
        for (int k = 0; k < e->u.block.n; k++)
            if (e->u.block.vars[k]->type.rank > 0 || opens_loops(e->u.block.values[k]))
                return true;
        return opens_loops(e->u.block.result);
    case PAT_E_MAP:
    case PAT_E_REDUCE:
    case PAT_E_GROUPBY:
        return true;
    }
    return true;
}

/* A scratch memory holds one iteration's private value.  Written inside a
 * loop that runs lane-parallel, every lane would write the same words, so
 * nothing that writes a scratch may be unrolled into a loop body (its own
 * loops keep the enclosing loop scalar); program tensors are indexed by the
 * enclosing counters, which differ from lane to lane. */
static bool unroll_target_ok(const lower *L, int mem)
{
    return L->g->mems[mem].kind != DFG_MEM_SCRATCH;
}

/* Is this map small and flat enough to unroll at the current level? */
static bool unroll_map(const lower *L, const pat_expr *e, int mem)
{
    if (!L->level || L->no_unroll || !unroll_target_ok(L, mem))
        return false;
    int64_t n = 1;
    for (int k = 0; k < e->u.pat.n_idx; k++) {
        if (e->u.pat.idx[k].lo)
            return false;
        n *= e->u.pat.idx[k].extent;
    }
    return n <= UNROLL_MAX && e->u.pat.body->type.rank == 0 && !opens_loops(e->u.pat.body);
}

/* ------------------------------------------------------------------ */
/* Values into memory                                                  */

static int lower_into(lower *L, const pat_expr *e, int mem, int n_pre, const int *pre,
                      into_mode mode, pat_redop op);

/* Write value `val` (register) at mem[pre], storing or combining. */
static int put(lower *L, int mem, int n_pre, const int *pre, int val, into_mode mode, pat_redop op,
               diag_loc loc)
{
    if (val == DFG_NONE)
        return -1;
    if (mode == INTO_STORE)
        emit_mem_op(L, DFG_STORE, mem, n_pre, pre, val, loc);
    else {
        emit_mem_op(L, DFG_RMW, mem, n_pre, pre, val, loc);
        dfg_op *last = L->g->ops[L->g->n_ops - 1];
        last->redop = op;
    }
    return L->failed ? -1 : 0;
}

/* Loops over every element of a value of type t (the dims from `from`),
 * calling back with the element index registers appended to pre. */
typedef int (*elem_fn)(lower *L, void *ctx, int n_idx, const int *idx);

static int for_each_element(lower *L, const pat_type *t, int n_pre, const int *pre,
                            diag_loc loc, elem_fn fn, void *ctx, int dst_mem)
{
    int idx[2 * PAT_MAX_RANK];
    saved_level saves[PAT_MAX_RANK];
    if (n_pre + t->rank > 2 * PAT_MAX_RANK) {
        diag_error(L->d, loc, "value of rank %d nested too deeply to lower", n_pre + t->rank);
        L->failed = 1;
        return -1;
    }
    if (n_pre > 0)
        memcpy(idx, pre, (size_t)n_pre * sizeof *idx);
    if (L->level && !L->no_unroll && pat_type_count(t) <= UNROLL_MAX && unroll_target_ok(L, dst_mem)) {
        int32_t at[PAT_MAX_RANK] = {0};
        for (;;) {
            for (int k = 0; k < t->rank; k++)
                idx[n_pre + k] = emit_const_i(L, at[k], loc);
            if (fn(L, ctx, n_pre + t->rank, idx) != 0)
                return -1;
            int k = t->rank - 1;
            while (k >= 0 && ++at[k] == t->dims[k])
                at[k--] = 0;
            if (k < 0)
                return 0;
        }
    }
    int opened = 0;
    for (int k = 0; k < t->rank; k++) {
        int lo = emit_const_i(L, 0, loc);
        int hi = emit_const_i(L, t->dims[k], loc);
        dfg_loop *lp = open_loop(L, lo, hi, t->dims[k], "e", &saves[k], loc);
        if (!lp)
            break;
        opened++;
        idx[n_pre + k] = lp->counter;
    }
    int rc = opened == t->rank ? fn(L, ctx, n_pre + t->rank, idx) : -1;
    close_pattern_loops(L, opened, saves);
    return rc;
}

typedef struct copy_ctx {
    int src;               /* memory read, element-wise */
    int src_pre;           /* leading index registers of idx that belong to dst only */
    int dst;
    into_mode mode;
    pat_redop op;
    diag_loc loc;
    int fill;              /* register to write instead of a load, or DFG_NONE */
} copy_ctx;

static int copy_elem(lower *L, void *vctx, int n_idx, const int *idx)
{
    copy_ctx *c = vctx;
    int val = c->fill;
    if (val == DFG_NONE)
        val = emit_mem_op(L, DFG_LOAD, c->src, n_idx - c->src_pre, idx + c->src_pre, DFG_NONE, c->loc);
    return put(L, c->dst, n_idx, idx, val, c->mode, c->op, c->loc);
}

/* mem[pre ++ e] = identity of op, for every element e of type t. */
static int fill_identity(lower *L, int mem, int n_pre, const int *pre, const pat_type *t,
                         pat_redop op, diag_loc loc)
{
    int id = emit_identity(L, op, t->elem, loc);
    copy_ctx c = {.src = DFG_NONE, .src_pre = n_pre, .dst = mem, .mode = INTO_STORE,
                  .loc = loc, .fill = id};
    return for_each_element(L, t, n_pre, pre, loc, copy_elem, &c, c.dst);
}

/* Materialise a tensor value into a fresh scratch memory; returns it. */
static int materialise(lower *L, const pat_expr *e, const char *name)
{
    const char *nm = arena_printf(L->g->a, "%s.%s@%d:%d", L->def->target->name,
                                  name ? name : "tmp", e->loc.line, e->loc.col);
    int mem = new_mem(L, DFG_MEM_SCRATCH, nm, &e->type, NULL);
    if (mem == DFG_NONE)
        return DFG_NONE;
    if (lower_into(L, e, mem, 0, NULL, INTO_STORE, PAT_RED_ADD) != 0)
        return DFG_NONE;
    return mem;
}

/* The memory holding a tensor-valued expression that is only read: a
 * declared tensor, a tensor let, or a fresh materialisation. */
static int tensor_mem(lower *L, const pat_expr *e)
{
    if (e->kind == PAT_E_TENSOR)
        return L->g->mems ? e->u.decl->id : DFG_NONE;
    if (e->kind == PAT_E_VAR && !e->u.var->is_index && e->u.var->type.rank > 0)
        return L->slot_mem[e->u.var->slot];
    return materialise(L, e, NULL);
}

static int bind_lets(lower *L, const pat_expr *blk)
{
    for (int k = 0; k < blk->u.block.n; k++) {
        const pat_var *v = blk->u.block.vars[k];
        const pat_expr *val = blk->u.block.values[k];
        if (v->type.rank == 0) {
            int r = lower_scalar(L, val);
            if (r == DFG_NONE)
                return -1;
            L->slot_reg[v->slot] = r;
            if (!L->g->regs[r].name)
                L->g->regs[r].name = v->name;
        } else {
            int m = materialise(L, val, v->name);
            if (m == DFG_NONE)
                return -1;
            L->slot_mem[v->slot] = m;
        }
    }
    return 0;
}

/* A reduce or group-by whose value must itself be combined into mem (a
 * reduce inside a reduce): compute it into a scratch first, so that its
 * identity fill does not clobber the outer accumulation, then combine the
 * scratch element by element. */
static int combine_through_scratch(lower *L, const pat_expr *e, int mem, int n_pre, const int *pre,
                                   pat_redop op, const char *what)
{
    int m = materialise(L, e, what);
    if (m == DFG_NONE)
        return -1;
    copy_ctx c = {.src = m, .src_pre = n_pre, .dst = mem, .mode = INTO_COMBINE, .op = op,
                  .loc = e->loc, .fill = DFG_NONE};
    return for_each_element(L, &e->type, n_pre, pre, e->loc, copy_elem, &c, c.dst);
}

/* The start of a reduce or group-by into memory: fill the destination with
 * the operator's identity, open the pattern's loops, and put the body under
 * its `where` guard.  *outer is the predicate to restore afterwards. */
static int begin_accumulation(lower *L, const pat_expr *e, int mem, int n_pre, const int *pre,
                              dfg_loop **loops, saved_level *saves, int *outer)
{
    const pat_pattern *pt = &e->u.pat;
    if (fill_identity(L, mem, n_pre, pre, &e->type, pt->op, e->loc) != 0)
        return -1;
    if (open_pattern_loops(L, pt, loops, saves, e->loc) != 0)
        return -1;
    *outer = L->pred;
    if (pt->where)
        L->pred = and_pred(L, L->pred, truth(L, lower_scalar(L, pt->where), pt->where->loc), pt->where->loc);
    return L->failed ? -1 : 0;
}

static int lower_into(lower *L, const pat_expr *e, int mem, int n_pre, const int *pre,
                      into_mode mode, pat_redop op)
{
    if (L->failed)
        return -1;
    if (e->type.rank == 0 && e->kind != PAT_E_BLOCK && e->kind != PAT_E_SELECT)
        return put(L, mem, n_pre, pre, lower_scalar(L, e), mode, op, e->loc);
    if (n_pre + e->type.rank > 2 * PAT_MAX_RANK)
        return diag_error(L->d, e->loc, "value nested too deeply to lower (rank %d)", n_pre + e->type.rank);

    switch (e->kind) {
    case PAT_E_BLOCK:
        if (bind_lets(L, e) != 0)
            return -1;
        return lower_into(L, e->u.block.result, mem, n_pre, pre, mode, op);

    case PAT_E_SELECT: {
        int c = lower_scalar(L, e->u.select.cond);
        int p = truth(L, c, e->loc);
        int outer = L->pred;
        int np = emit_op(L, DFG_LNOT, PAT_I32, p, DFG_NONE, DFG_NONE, e->loc);
        L->pred = and_pred(L, outer, p, e->loc);
        int rc = lower_into(L, e->u.select.then, mem, n_pre, pre, mode, op);
        L->pred = and_pred(L, outer, np, e->loc);
        if (rc == 0)
            rc = lower_into(L, e->u.select.els, mem, n_pre, pre, mode, op);
        L->pred = outer;
        return rc;
    }

    case PAT_E_MAP: {
        const pat_pattern *pt = &e->u.pat;
        if (unroll_map(L, e, mem)) {
            /* One copy of the body per index tuple, indices as constants. */
            int idx[2 * PAT_MAX_RANK];
            int32_t at[PAT_MAX_RANK] = {0};
            if (n_pre > 0)
                memcpy(idx, pre, (size_t)n_pre * sizeof *idx);
            for (;;) {
                for (int k = 0; k < pt->n_idx; k++) {
                    int r = emit_const_i(L, at[k], pt->idx[k].var->loc);
                    L->slot_reg[pt->idx[k].var->slot] = r;
                    idx[n_pre + k] = r;
                }
                if (lower_into(L, pt->body, mem, n_pre + pt->n_idx, idx, mode, op) != 0)
                    return -1;
                int k = pt->n_idx - 1;
                while (k >= 0 && ++at[k] == pt->idx[k].extent)
                    at[k--] = 0;
                if (k < 0)
                    return 0;
            }
        }
        dfg_loop *loops[PAT_MAX_RANK];
        saved_level saves[PAT_MAX_RANK];
        int idx[2 * PAT_MAX_RANK];
        if (pt->n_idx > PAT_MAX_RANK)
            return diag_error(L->d, e->loc, "too many indices to lower");
        if (n_pre > 0)
        memcpy(idx, pre, (size_t)n_pre * sizeof *idx);
        if (open_pattern_loops(L, pt, loops, saves, e->loc) != 0)
            return -1;
        for (int k = 0; k < pt->n_idx; k++)
            idx[n_pre + k] = loops[k]->counter;
        int rc = lower_into(L, pt->body, mem, n_pre + pt->n_idx, idx, mode, op);
        close_pattern_loops(L, pt->n_idx, saves);
        return rc;
    }

    case PAT_E_REDUCE: {
        /* A row-valued reduction: combine the body element-wise into the
         * destination, which first holds the identity. */
        const pat_pattern *pt = &e->u.pat;
        if (mode == INTO_COMBINE)
            return combine_through_scratch(L, e, mem, n_pre, pre, op, "reduce");
        dfg_loop *loops[PAT_MAX_RANK];
        saved_level saves[PAT_MAX_RANK];
        int outer;
        if (begin_accumulation(L, e, mem, n_pre, pre, loops, saves, &outer) != 0)
            return -1;
        int rc = lower_into(L, pt->body, mem, n_pre, pre, INTO_COMBINE, pt->op);
        L->pred = outer;
        close_pattern_loops(L, pt->n_idx, saves);
        return rc;
    }

    case PAT_E_GROUPBY: {
        const pat_pattern *pt = &e->u.pat;
        if (mode == INTO_COMBINE)
            return combine_through_scratch(L, e, mem, n_pre, pre, op, "groupby");
        dfg_loop *loops[PAT_MAX_RANK];
        saved_level saves[PAT_MAX_RANK];
        int outer;
        if (begin_accumulation(L, e, mem, n_pre, pre, loops, saves, &outer) != 0)
            return -1;
        int key = lower_scalar(L, pt->key);
        dfg_op *chk = emit(L, DFG_CHECK, PAT_I32, pt->key->loc);
        int rc = -1;
        if (chk && key != DFG_NONE) {
            chk->a = key;
            chk->imm.i = pt->groups;
            chk->what = arena_printf(L->g->a, "group-by key of '%s'", L->def->target->name);
            int idx[2 * PAT_MAX_RANK];
            if (n_pre > 0)
        memcpy(idx, pre, (size_t)n_pre * sizeof *idx);
            idx[n_pre] = key;
            rc = lower_into(L, pt->body, mem, n_pre + 1, idx, INTO_COMBINE, pt->op);
        }
        L->pred = outer;
        close_pattern_loops(L, pt->n_idx, saves);
        return rc;
    }

    case PAT_E_TENSOR:
    case PAT_E_VAR:
    default: {
        int src = tensor_mem(L, e);
        if (src == DFG_NONE)
            return -1;
        copy_ctx c = {.src = src, .src_pre = n_pre, .dst = mem, .mode = mode, .op = op,
                      .loc = e->loc, .fill = DFG_NONE};
        return for_each_element(L, &e->type, n_pre, pre, e->loc, copy_elem, &c, c.dst);
    }
    }
}

/* ------------------------------------------------------------------ */
/* Scalars                                                             */

static dfg_opcode binop_code(pat_binop op)
{
    switch (op) {
    case PAT_ADD: return DFG_ADD;
    case PAT_SUB: return DFG_SUB;
    case PAT_MUL: return DFG_MUL;
    case PAT_DIV: return DFG_DIV;
    case PAT_MOD: return DFG_MOD;
    case PAT_LT: return DFG_LT;
    case PAT_LE: return DFG_LE;
    case PAT_GT: return DFG_GT;
    case PAT_GE: return DFG_GE;
    case PAT_EQ: return DFG_EQ;
    case PAT_NE: return DFG_NE;
    case PAT_AND:
    case PAT_OR: break;
    }
    return DFG_N_OPCODES;
}

/* Does e read any of the pattern's own index variables (or a let that
 * might)?  Conservative: any variable bound inside the pattern counts. */
static bool uses_pattern_indices(const pat_expr *e, const pat_pattern *pt)
{
    if (!e)
        return false;
    switch (e->kind) {
    case PAT_E_INT:
    case PAT_E_FLOAT:
    case PAT_E_TENSOR:
        return false;
    case PAT_E_VAR:
        for (int k = 0; k < pt->n_idx; k++)
            if (pt->idx[k].var == e->u.var)
                return true;
        return false;
    case PAT_E_ACCESS:
        if (uses_pattern_indices(e->u.access.base, pt))
            return true;
        for (int k = 0; k < e->u.access.n; k++)
            if (uses_pattern_indices(e->u.access.idx[k], pt))
                return true;
        return false;
    case PAT_E_UNARY:
        return uses_pattern_indices(e->u.unary.arg, pt);
    case PAT_E_BINARY:
        return uses_pattern_indices(e->u.binary.lhs, pt) || uses_pattern_indices(e->u.binary.rhs, pt);
    case PAT_E_SELECT:
        return uses_pattern_indices(e->u.select.cond, pt) || uses_pattern_indices(e->u.select.then, pt) ||
               uses_pattern_indices(e->u.select.els, pt);
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++)
            if (uses_pattern_indices(e->u.call.args[k], pt))
                return true;
        return false;
    default:
        return true;  /* blocks and patterns: do not look inside */
    }
}

/* A `where` that does not depend on the reduction's own indices decides
 * for the whole loop: evaluated once before it, it predicates the loop, so
 * the work is skipped instead of masked lane by lane.  Only for static
 * index spaces, which are never empty, so the guard is evaluated exactly
 * when the reference evaluates it. */
static bool hoistable_guard(const pat_pattern *pt)
{
    if (!pt->where)
        return false;
    for (int k = 0; k < pt->n_idx; k++)
        if (pt->idx[k].lo)
            return false;
    return !uses_pattern_indices(pt->where, pt);
}

static int lower_reduce_scalar(lower *L, const pat_expr *e)
{
    const pat_pattern *pt = &e->u.pat;
    dfg_loop *loops[PAT_MAX_RANK];
    saved_level saves[PAT_MAX_RANK];
    if (pt->n_idx > PAT_MAX_RANK)
        return diag_error(L->d, e->loc, "too many indices to lower"), DFG_NONE;
    int outer = L->pred;
    bool hoist = hoistable_guard(pt);
    if (hoist)
        L->pred = and_pred(L, L->pred, truth(L, lower_scalar(L, pt->where), pt->where->loc), pt->where->loc);
    if (open_pattern_loops(L, pt, loops, saves, e->loc) != 0)
        return DFG_NONE;
    int guard = DFG_NONE;
    if (pt->where && !hoist) {
        guard = truth(L, lower_scalar(L, pt->where), pt->where->loc);
        L->pred = guard;
    }
    int val = lower_scalar(L, pt->body);
    /* Innermost loop: the guarded accumulation; every loop outside it
     * combines the result of the one inside. */
    int r = DFG_NONE;
    for (int k = pt->n_idx - 1; k >= 0; k--) {
        close_loop(L, &saves[k]);
        r = add_acc(L, loops[k], val, k == pt->n_idx - 1 ? guard : DFG_NONE, pt->op, e->type.elem);
        val = r;
    }
    L->pred = outer;
    return r;
}

static int lower_scalar(lower *L, const pat_expr *e)
{
    if (L->failed)
        return DFG_NONE;
    if (e->type.rank != 0) {
        diag_error(L->d, e->loc, "internal: tensor value where a scalar was expected");
        L->failed = 1;
        return DFG_NONE;
    }
    pat_elem t = e->type.elem;
    switch (e->kind) {
    case PAT_E_INT:
        return emit_const_i(L, e->u.ival, e->loc);
    case PAT_E_FLOAT:
        return emit_const_f(L, e->u.fval, e->loc);
    case PAT_E_TENSOR:
        return emit_mem_op(L, DFG_LOAD, e->u.decl->id, 0, NULL, DFG_NONE, e->loc);
    case PAT_E_VAR: {
        int r = L->slot_reg[e->u.var->slot];
        if (r == DFG_NONE) {
            diag_error(L->d, e->loc, "internal: variable '%s' used before it is bound", e->u.var->name);
            L->failed = 1;
        }
        return r;
    }
    case PAT_E_ACCESS: {
        int mem = tensor_mem(L, e->u.access.base);
        if (mem == DFG_NONE)
            return DFG_NONE;
        int idx[PAT_MAX_RANK];
        for (int k = 0; k < e->u.access.n; k++)
            idx[k] = lower_scalar(L, e->u.access.idx[k]);
        return emit_mem_op(L, DFG_LOAD, mem, e->u.access.n, idx, DFG_NONE, e->loc);
    }
    case PAT_E_UNARY: {
        int a = lower_scalar(L, e->u.unary.arg);
        if (e->u.unary.op == PAT_NEG)
            return emit_op(L, DFG_NEG, t, a, DFG_NONE, DFG_NONE, e->loc);
        return emit_op(L, DFG_LNOT, PAT_I32, a, DFG_NONE, DFG_NONE, e->loc);
    }
    case PAT_E_BINARY: {
        pat_binop op = e->u.binary.op;
        if (op == PAT_AND || op == PAT_OR) {
            /* Short circuit: the right side runs only where it decides. */
            int a = lower_scalar(L, e->u.binary.lhs);
            int p = truth(L, a, e->loc);
            int outer = L->pred;
            int need = op == PAT_AND ? p : emit_op(L, DFG_LNOT, PAT_I32, p, DFG_NONE, DFG_NONE, e->loc);
            L->pred = and_pred(L, outer, need, e->loc);
            int b = truth(L, lower_scalar(L, e->u.binary.rhs), e->loc);
            L->pred = outer;
            if (op == PAT_AND) {
                int zero = emit_const_i(L, 0, e->loc);
                return emit_op(L, DFG_SELECT, PAT_I32, p, b, zero, e->loc);
            }
            int one = emit_const_i(L, 1, e->loc);
            return emit_op(L, DFG_SELECT, PAT_I32, p, one, b, e->loc);
        }
        int a = lower_scalar(L, e->u.binary.lhs);
        int b = lower_scalar(L, e->u.binary.rhs);
        return emit_op(L, binop_code(op), t, a, b, DFG_NONE, e->loc);
    }
    case PAT_E_SELECT: {
        int c = lower_scalar(L, e->u.select.cond);
        int p = truth(L, c, e->loc);
        int np = emit_op(L, DFG_LNOT, PAT_I32, p, DFG_NONE, DFG_NONE, e->loc);
        int outer = L->pred;
        L->pred = and_pred(L, outer, p, e->loc);
        int a = lower_scalar(L, e->u.select.then);
        L->pred = and_pred(L, outer, np, e->loc);
        int b = lower_scalar(L, e->u.select.els);
        L->pred = outer;
        return emit_op(L, DFG_SELECT, t, p, a, b, e->loc);
    }
    case PAT_E_CALL: {
        int a = lower_scalar(L, e->u.call.args[0]);
        int b = e->u.call.n > 1 ? lower_scalar(L, e->u.call.args[1]) : DFG_NONE;
        pat_elem at = e->u.call.args[0]->type.elem;
        switch (e->u.call.fn) {
        case PAT_FN_EXP: return emit_op(L, DFG_EXP, t, a, DFG_NONE, DFG_NONE, e->loc);
        case PAT_FN_LOG: return emit_op(L, DFG_LOG, t, a, DFG_NONE, DFG_NONE, e->loc);
        case PAT_FN_SQRT: return emit_op(L, DFG_SQRT, t, a, DFG_NONE, DFG_NONE, e->loc);
        case PAT_FN_TANH: return emit_op(L, DFG_TANH, t, a, DFG_NONE, DFG_NONE, e->loc);
        case PAT_FN_ABS: return emit_op(L, DFG_ABS, t, a, DFG_NONE, DFG_NONE, e->loc);
        case PAT_FN_MAX: return emit_op(L, DFG_MAX, t, a, b, DFG_NONE, e->loc);
        case PAT_FN_MIN: return emit_op(L, DFG_MIN, t, a, b, DFG_NONE, e->loc);
        case PAT_FN_F32:
            return at == PAT_F32 ? a : emit_op(L, DFG_TOF32, PAT_F32, a, DFG_NONE, DFG_NONE, e->loc);
        case PAT_FN_I32:
            return at == PAT_I32 ? a : emit_op(L, DFG_TOI32, PAT_I32, a, DFG_NONE, DFG_NONE, e->loc);
        }
        break;
    }
    case PAT_E_BLOCK:
        if (bind_lets(L, e) != 0)
            return DFG_NONE;
        return lower_scalar(L, e->u.block.result);
    case PAT_E_REDUCE:
        return lower_reduce_scalar(L, e);
    case PAT_E_MAP:
    case PAT_E_GROUPBY:
        break;
    }
    diag_error(L->d, e->loc, "internal: cannot lower this expression as a scalar");
    L->failed = 1;
    return DFG_NONE;
}

/* ------------------------------------------------------------------ */
/* Programs                                                            */

int dfg_lower(dfg *g, arena *a, const pat_program *p, const fab_fabric *f,
              const dfg_opts *o, diag_list *d)
{
    memset(g, 0, sizeof *g);
    g->a = a;
    g->prog = p;
    g->fab = f;
    g->opts = *o;
    if (f)
        g->opts.lanes = f->lanes;
    if (g->opts.lanes < 1)
        g->opts.lanes = 1;
    if (g->opts.par < 1)
        g->opts.par = 1;

    lower L = {.g = g, .d = d, .pred = DFG_NONE};
    /* One memory per declaration, indexed like the declarations, so that
     * decl->id is the memory of a tensor; constants get an empty slot. */
    for (int k = 0; k < p->n_decls; k++) {
        const pat_decl *dc = p->decls[k];
        dfg_mem_kind kind = dc->kind == PAT_INPUT ? DFG_MEM_INPUT
                          : dc->kind == PAT_OUTPUT ? DFG_MEM_OUTPUT : DFG_MEM_BUFFER;
        if (new_mem(&L, kind, dc->name, &dc->type, dc) == DFG_NONE)
            return diag_error(d, dc->loc, "out of memory while lowering");
        if (dc->kind == PAT_CONST)
            g->mems[k].bytes = g->mems[k].copy_bytes = 0;
    }
    g->defs = arena_calloc(a, (size_t)(p->n_defs ? p->n_defs : 1), sizeof *g->defs);
    if (!g->defs)
        return diag_error(d, diag_at_file(p->file), "out of memory while lowering");
    g->n_defs = p->n_defs;
    for (int k = 0; k < p->n_defs; k++) {
        const pat_def *df = p->defs[k];
        dfg_def *gd = &g->defs[k];
        gd->src = df;
        gd->target = &g->mems[df->target->id];
        int n = df->n_slots > 0 ? df->n_slots : 1;
        L.slot_reg = arena_calloc(a, (size_t)n, sizeof *L.slot_reg);
        L.slot_mem = arena_calloc(a, (size_t)n, sizeof *L.slot_mem);
        if (!L.slot_reg || !L.slot_mem)
            return diag_error(d, df->loc, "out of memory while lowering");
        for (int s = 0; s < n; s++)
            L.slot_reg[s] = L.slot_mem[s] = DFG_NONE;
        L.def = df;
        L.cur = &gd->body;
        L.level = NULL;
        L.pred = DFG_NONE;
        if (lower_into(&L, df->value, df->target->id, 0, NULL, INTO_STORE, PAT_RED_ADD) != 0 || L.failed) {
            if (!diag_has_errors(d))
                diag_error(d, df->loc, "cannot lower the definition of '%s'", df->target->name);
            return -1;
        }
    }
    /* Scratch tiles added while lowering may have moved the memory array:
     * point every definition at its target's current place. */
    for (int k = 0; k < p->n_defs; k++)
        g->defs[k].target = &g->mems[p->defs[k]->target->id];
    return 0;
}
