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
    /* Tiling (the definition being lowered, while its tiles are computed):
     * per memory, its tile, or DFG_NONE; per dimension of a tiled memory,
     * the position of the map index it follows, or -1 (the whole extent);
     * per map index position, the register of its index within the tile. */
    const int *tile_mem;
    const int *tile_dim;   /* tile_n x PAT_MAX_RANK */
    int tile_n;            /* the memories the plan knows (those before the tiles) */
    int tile_local[PAT_MAX_RANK + 1];
    /* A reduction split across tiles: its value is read from the tile of
     * partial sums `split_acc` at the map's indices within the tile. */
    const pat_expr *split_reduce;
    int split_acc;
    int split_n;
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
    lp->bounded = false;
    lp->pred = L->pred;
    lp->scan = DFG_NONE;
    lp->parent = L->level;
    lp->depth = L->level ? L->level->depth + 1 : 1;
    lp->innermost = true;
    lp->vpcu = DFG_NONE;
    lp->par = 1;
    lp->disjoint = false;
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

static bool uses_indices_from(const pat_expr *e, const pat_pattern *pt, int from);

/* The first max conjuncts of a `where`, left to right (a && b && c);
 * returns how many it stored. */
static int conjuncts(const pat_expr *e, const pat_expr **out, int n, int max)
{
    if (e->kind == PAT_E_BINARY && e->u.binary.op == PAT_AND) {
        n = conjuncts(e->u.binary.lhs, out, n, max);
        return conjuncts(e->u.binary.rhs, out, n, max);
    }
    if (n < max)
        out[n++] = e;
    return n;
}

/* Can e be evaluated where the reference might not evaluate it: no
 * memory access, division or call, nothing that can fault? */
static bool cannot_fault(const pat_expr *e)
{
    switch (e->kind) {
    case PAT_E_INT:
    case PAT_E_VAR:
        return true;
    case PAT_E_UNARY:
        return cannot_fault(e->u.unary.arg);
    case PAT_E_BINARY:
        return e->u.binary.op != PAT_DIV && e->u.binary.op != PAT_MOD && e->u.binary.op != PAT_AND &&
               e->u.binary.op != PAT_OR && cannot_fault(e->u.binary.lhs) && cannot_fault(e->u.binary.rhs);
    default:
        return false;
    }
}

/* Is e computed from indices and constants alone (what a counter chain
 * can evaluate)? */
static bool counter_only(const pat_expr *e)
{
    switch (e->kind) {
    case PAT_E_INT:
        return true;
    case PAT_E_VAR:
        return e->u.var->is_index;
    case PAT_E_UNARY:
        return counter_only(e->u.unary.arg);
    case PAT_E_BINARY:
        return counter_only(e->u.binary.lhs) && counter_only(e->u.binary.rhs);
    default:
        return false;
    }
}

/* Guards as loop bounds: the conjuncts of a reduce's or group-by's `where`
 * (up to the first that is not a binary operation) that compare index k
 * (static, [0, extent)) with an expression of outer values (`j <= i`,
 * `j < len[r]`) narrow its loop to where they hold, so the iterations they
 * rule out are never issued, vectorised or not.  Any such conjunct may be
 * applied (outside the bounds the guard is false), but the first is the
 * only one the reference evaluates at the loop's first iteration whatever
 * the data (a static space is never empty): a later one is evaluated only
 * where the earlier hold, so it must be unable to fault.  The body keeps
 * the whole guard (--dense runs [0, extent) under it).  Sets *lo and *hi
 * (registers) and returns whether any conjunct applied. */
static bool guard_bounds(lower *L, const pat_pattern *pt, int k, int *lo, int *hi, diag_loc loc)
{
    const pat_index *ix = &pt->idx[k];
    if (!pt->where || ix->lo || L->g->opts.no_bounds)
        return false;
    const pat_expr *c[16];
    int n = conjuncts(pt->where, c, 0, 16);
    bool any = false;
    for (int q = 0; q < n; q++) {
        const pat_expr *e = c[q];
        if (e->kind != PAT_E_BINARY)
            break;
        pat_binop op = e->u.binary.op;
        const pat_expr *a = e->u.binary.lhs, *b = e->u.binary.rhs;
        if (b->kind == PAT_E_VAR && b->u.var == ix->var) {
            /* e < j is j > e, and so on */
            const pat_expr *t = a;
            a = b;
            b = t;
            op = op == PAT_LT ? PAT_GT : op == PAT_LE ? PAT_GE : op == PAT_GT ? PAT_LT : op == PAT_GE ? PAT_LE : op;
        }
        bool form = a->kind == PAT_E_VAR && a->u.var == ix->var &&
                    (op == PAT_LT || op == PAT_LE || op == PAT_GT || op == PAT_GE || op == PAT_EQ) &&
                    !uses_indices_from(b, pt, k) && !dfg_has_pattern(b) && (q == 0 || cannot_fault(b));
        if (!form)
            continue;  /* the body's guard applies it */
        if (k == pt->n_idx - 1 && !dfg_has_pattern(pt->body) && counter_only(b))
            continue;  /* a vector loop: its counter chains skip the vectors it rules out (emu) */
        int v = lower_scalar(L, b);
        if (op == PAT_LT || op == PAT_LE || op == PAT_EQ) {
            /* j < v: hi = min(hi, v);  j <= v: hi = min(hi, min(v, extent - 1) + 1) */
            int bound = v;
            if (op != PAT_LT) {
                int last = emit_const_i(L, ix->extent - 1, loc);
                bound = emit_op(L, DFG_ADD, PAT_I32, emit_op(L, DFG_MIN, PAT_I32, v, last, DFG_NONE, loc),
                                emit_const_i(L, 1, loc), DFG_NONE, loc);
            }
            *hi = emit_op(L, DFG_MIN, PAT_I32, *hi, bound, DFG_NONE, loc);
        }
        if (op == PAT_GT || op == PAT_GE || op == PAT_EQ) {
            /* j >= v: lo = max(lo, v);  j > v: lo = max(lo, max(v, -1) + 1) */
            int bound = v;
            if (op == PAT_GT) {
                int before = emit_const_i(L, -1, loc);
                bound = emit_op(L, DFG_ADD, PAT_I32, emit_op(L, DFG_MAX, PAT_I32, v, before, DFG_NONE, loc),
                                emit_const_i(L, 1, loc), DFG_NONE, loc);
            }
            *lo = emit_op(L, DFG_MAX, PAT_I32, *lo, bound, DFG_NONE, loc);
        }
        any = true;
    }
    return any;
}

static int open_pattern_loops(lower *L, const pat_pattern *pt, dfg_loop **loops,
                              saved_level *saves, diag_loc loc)
{
    for (int k = 0; k < pt->n_idx; k++) {
        const pat_index *ix = &pt->idx[k];
        int lo, hi;
        int32_t trip;
        bool bounded = false;
        if (ix->lo) {
            lo = lower_scalar(L, ix->lo);
            hi = lower_scalar(L, ix->hi);
            trip = -1;
        } else {
            lo = emit_const_i(L, 0, loc);
            hi = emit_const_i(L, ix->extent, loc);
            trip = ix->extent;
            bounded = guard_bounds(L, pt, k, &lo, &hi, pt->where ? pt->where->loc : loc);
        }
        loops[k] = open_loop(L, lo, hi, trip, ix->var->name, &saves[k], ix->var->loc);
        if (!loops[k])
            return -1;
        loops[k]->bounded = bounded;
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
    mm->dram = false;
    mm->tile_of = -1;
    mm->tile_def = -1;
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

/* Does e read index k or a later one of pattern pt? */
static bool uses_indices_from(const pat_expr *e, const pat_pattern *pt, int from)
{
    pat_pattern tail = *pt;
    tail.idx = pt->idx + from;
    tail.n_idx = pt->n_idx - from;
    return uses_pattern_indices(e, &tail);
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

/* A `where` on a reduction whose body is itself a loop nest (the blocks of
 * a block-sparse product) is evaluated for every iteration at once, a lane
 * each, before the loop, and packed into a bit mask; the loop's counter
 * chain then steps from set bit to set bit, so an iteration whose guard is
 * false costs nothing, where a scalar guard would cost an issue per
 * iteration (the loop is not innermost, so no lane mask can skip it).
 * Only for one static index of at most 32 iterations (a mask word), whose
 * guard the reference evaluates at every iteration anyway (so no fault
 * moves) and which holds no loop itself.  Inside, the guard is the
 * iteration's bit of the mask (no second evaluation): --dense runs every
 * iteration under it, and a scan that visited the wrong iterations would
 * drop blocks, which verification sees. */
static bool scannable_guard(const pat_pattern *pt)
{
    return pt->where && pt->n_idx == 1 && !pt->idx[0].lo && pt->idx[0].extent <= 32 &&
           uses_pattern_indices(pt->where, pt) && !dfg_has_pattern(pt->where) && dfg_has_pattern(pt->body);
}

/* The mask of scannable_guard: bit b set where the guard holds at
 * iteration b, from one vector loop over the index. */
static int scan_mask(lower *L, const pat_pattern *pt, diag_loc loc)
{
    const pat_index *ix = &pt->idx[0];
    saved_level save;
    int lo = emit_const_i(L, 0, loc), hi = emit_const_i(L, ix->extent, loc);
    const char *label = arena_printf(L->g->a, "%s/mask", ix->var->name);
    dfg_loop *ml = label ? open_loop(L, lo, hi, ix->extent, label, &save, ix->var->loc) : NULL;
    if (!ml) {
        L->failed = 1;
        return DFG_NONE;
    }
    L->slot_reg[ix->var->slot] = ml->counter;
    int p = truth(L, lower_scalar(L, pt->where), pt->where->loc);
    int bit = emit_op(L, DFG_SHL, PAT_I32, p, ml->counter, DFG_NONE, pt->where->loc);
    close_loop(L, &save);
    return add_acc(L, ml, bit, DFG_NONE, PAT_RED_ADD, PAT_I32);
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
    int mask = !hoist && !L->g->opts.no_scan && scannable_guard(pt) ? scan_mask(L, pt, e->loc) : DFG_NONE;
    if (open_pattern_loops(L, pt, loops, saves, e->loc) != 0)
        return DFG_NONE;
    loops[0]->scan = mask;
    int guard = DFG_NONE;
    if (mask != DFG_NONE) {
        /* the guard is the iteration's bit of the mask: --dense runs every
         * iteration, and this masks the ones the scan skips */
        guard = emit_op(L, DFG_BIT, PAT_I32, mask, loops[0]->counter, DFG_NONE, pt->where->loc);
        L->pred = guard;
    } else if (pt->where && !hoist) {
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
        if (L->tile_mem && mem < L->tile_n && L->tile_mem[mem] != DFG_NONE) {
            /* a tiled tensor: the tile holds it, indexed within the tile
             * along the dimensions the tiles follow */
            for (int k = 0; k < e->u.access.n; k++) {
                int p = L->tile_dim[mem * PAT_MAX_RANK + k];
                idx[k] = p >= 0 ? L->tile_local[p] : lower_scalar(L, e->u.access.idx[k]);
            }
            return emit_mem_op(L, DFG_LOAD, L->tile_mem[mem], e->u.access.n, idx, DFG_NONE, e->loc);
        }
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
        if (e == L->split_reduce)
            return emit_mem_op(L, DFG_LOAD, L->split_acc, L->split_n, L->tile_local, DFG_NONE, e->loc);
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
/* Tiling through DRAM                                                 */

/*
 * A tensor larger than a PMU stays in DRAM (dfg_mem.dram): its VAG runs
 * its loads and stores, and each vector costs the DRAM bursts it touches.
 * That is always correct, and fast only when each element is used once.
 * A definition whose value is a `map` that reads such a tensor, or
 * defines one, is strip-mined so that what it reuses is on chip:
 *
 *   - each DRAM tensor the map reads whose every access indexes some
 *     dimension by exactly a map index `i` follows that index: its tile
 *     holds `size(i)` of those rows and the whole of every other
 *     dimension; the target, indexed by the map's indices, follows them all;
 *   - the tile sizes are the largest divisors of the extents such that
 *     every tile fits a PMU twice (double-buffered): the index whose tile
 *     is largest is shrunk first, so the tiles stay as square as the
 *     tensors allow, which maximises the reuse of each loaded tile;
 *   - the tiled indices become tile loops, outermost first.  In the tile
 *     loop of index i, a stage loads the tiles that follow i (and no
 *     index inside it), so a tile is loaded once and reused across every
 *     inner tile; the innermost tile loop then computes the target's tile
 *     and stores it.  Each tile loop is a meta-pipeline, so loading the
 *     next tiles, computing this one and storing the last overlap, and the
 *     tiles are double-buffered (dfg_buffer_depths).
 *
 * An access the tiling cannot follow (a dimension indexed by anything
 * else, a tensor used whole) reads the whole extent of that dimension; a
 * tensor whose tile cannot fit keeps its direct DRAM accesses.  A tensor
 * reduced over (gemm's B along k) is tiled only along the map index of its
 * other dimension: a reduction is not split across tiles, so a reduction
 * dimension longer than a PMU can hold twice, times one row of the tile,
 * is read from DRAM directly (docs/mapping.md, limits).
 */

typedef struct tile_plan {
    int n_var;                       /* the map's indices: positions 0 .. n_var-1 */
    int n_pos;                       /* and the split reduction's index, position n_var */
    const pat_expr *split;           /* the reduction that may be split across tiles, or NULL */
    const pat_var *var[PAT_MAX_RANK + 1];
    int32_t extent[PAT_MAX_RANK + 1], size[PAT_MAX_RANK + 1];
    int *dim;                        /* n_mems x PAT_MAX_RANK: -2 unseen, -1 whole, else position */
    bool *bad;                       /* per memory: used whole, or not tileable */
    bool *seen;                      /* per memory: read by the map */
    double est_cycles, est_traffic;  /* the model's estimate of the chosen sizes (tile_model) */
} tile_plan;

static int var_position(const tile_plan *tp, const pat_var *v)
{
    for (int p = 0; p < tp->n_pos; p++)
        if (tp->var[p] == v)
            return p;
    return -1;
}

static void tile_scan(const dfg *g, tile_plan *tp, const pat_expr *e);

static void tile_scan_pattern(const dfg *g, tile_plan *tp, const pat_pattern *pt)
{
    for (int k = 0; k < pt->n_idx; k++) {
        if (pt->idx[k].lo)
            tile_scan(g, tp, pt->idx[k].lo);
        if (pt->idx[k].hi)
            tile_scan(g, tp, pt->idx[k].hi);
    }
    if (pt->where)
        tile_scan(g, tp, pt->where);
    if (pt->key)
        tile_scan(g, tp, pt->key);
    tile_scan(g, tp, pt->body);
}

static void tile_scan(const dfg *g, tile_plan *tp, const pat_expr *e)
{
    if (!e)
        return;
    switch (e->kind) {
    case PAT_E_INT:
    case PAT_E_FLOAT:
    case PAT_E_VAR:
        return;
    case PAT_E_TENSOR:
        tp->bad[e->u.decl->id] = true;  /* the whole value */
        return;
    case PAT_E_ACCESS: {
        const pat_expr *b = e->u.access.base;
        for (int k = 0; k < e->u.access.n; k++)
            tile_scan(g, tp, e->u.access.idx[k]);
        if (b->kind != PAT_E_TENSOR) {
            tile_scan(g, tp, b);
            return;
        }
        int m = b->u.decl->id;
        tp->seen[m] = true;
        for (int k = 0; k < e->u.access.n && k < PAT_MAX_RANK; k++) {
            const pat_expr *ix = e->u.access.idx[k];
            int p = ix->kind == PAT_E_VAR ? var_position(tp, ix->u.var) : -1;
            int *d = &tp->dim[m * PAT_MAX_RANK + k];
            *d = *d == -2 || *d == p ? p : -1;
        }
        return;
    }
    case PAT_E_UNARY:
        tile_scan(g, tp, e->u.unary.arg);
        return;
    case PAT_E_BINARY:
        tile_scan(g, tp, e->u.binary.lhs);
        tile_scan(g, tp, e->u.binary.rhs);
        return;
    case PAT_E_SELECT:
        tile_scan(g, tp, e->u.select.cond);
        tile_scan(g, tp, e->u.select.then);
        tile_scan(g, tp, e->u.select.els);
        return;
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++)
            tile_scan(g, tp, e->u.call.args[k]);
        return;
    case PAT_E_BLOCK:
        for (int k = 0; k < e->u.block.n; k++)
            tile_scan(g, tp, e->u.block.values[k]);
        tile_scan(g, tp, e->u.block.result);
        return;
    case PAT_E_MAP:
    case PAT_E_REDUCE:
    case PAT_E_GROUPBY:
        tile_scan_pattern(g, tp, &e->u.pat);
        return;
    }
}

/* Bytes of memory m's tile under the plan's sizes (the whole tensor along
 * the dimensions no tiled index follows). */
static int64_t tile_bytes(const dfg *g, const tile_plan *tp, int m)
{
    const pat_type *t = &g->mems[m].type;
    int64_t n = 4;
    for (int k = 0; k < t->rank; k++) {
        int p = tp->dim[m * PAT_MAX_RANK + k];
        n *= p >= 0 ? tp->size[p] : t->dims[k];
    }
    return n;
}

/* Does memory m have a dimension that follows a tiled index? */
static bool follows_tiles(const dfg *g, const tile_plan *tp, int m)
{
    for (int k = 0; k < g->mems[m].type.rank; k++) {
        int p = tp->dim[m * PAT_MAX_RANK + k];
        if (p >= 0 && tp->size[p] < tp->extent[p])
            return true;
    }
    return false;
}


/* Is e a scalar expression without patterns or lets, whose variables are
 * the map's indices or v? (The body of a reduction that can be split.) */
static bool split_body_ok(const tile_plan *tp, const pat_expr *e, const pat_var *v)
{
    if (!e)
        return true;
    switch (e->kind) {
    case PAT_E_INT:
    case PAT_E_FLOAT:
        return true;
    case PAT_E_TENSOR:
        return e->type.rank == 0;
    case PAT_E_VAR:
        return e->u.var == v || (e->u.var->is_index && var_position(tp, e->u.var) >= 0);
    case PAT_E_ACCESS:
        if (e->u.access.base->kind != PAT_E_TENSOR)
            return false;
        for (int k = 0; k < e->u.access.n; k++)
            if (!split_body_ok(tp, e->u.access.idx[k], v))
                return false;
        return true;
    case PAT_E_UNARY:
        return split_body_ok(tp, e->u.unary.arg, v);
    case PAT_E_BINARY:
        return split_body_ok(tp, e->u.binary.lhs, v) && split_body_ok(tp, e->u.binary.rhs, v);
    case PAT_E_SELECT:
        return split_body_ok(tp, e->u.select.cond, v) && split_body_ok(tp, e->u.select.then, v) &&
               split_body_ok(tp, e->u.select.els, v);
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++)
            if (!split_body_ok(tp, e->u.call.args[k], v))
                return false;
        return true;
    case PAT_E_BLOCK:
        return e->u.block.n == 0 && split_body_ok(tp, e->u.block.result, v);
    default:
        return false;
    }
}

/* The reduction a map's body evaluates unconditionally once per element
 * (reached through arithmetic, calls and lets only), over one static
 * index, whose body reads nothing but tensors and indices: partial sums
 * of it over tiles of its index can be combined in a PMU.  NULL if none. */
static const pat_expr *find_split(const tile_plan *tp, const pat_expr *e)
{
    switch (e->kind) {
    case PAT_E_REDUCE: {
        const pat_pattern *pt = &e->u.pat;
        if (e->type.rank != 0 || pt->n_idx != 1 || pt->idx[0].lo)
            return NULL;
        const pat_var *v = pt->idx[0].var;
        return split_body_ok(tp, pt->body, v) && split_body_ok(tp, pt->where, v) ? e : NULL;
    }
    case PAT_E_UNARY:
        return find_split(tp, e->u.unary.arg);
    case PAT_E_BINARY: {
        if (e->u.binary.op == PAT_AND || e->u.binary.op == PAT_OR)
            return NULL;
        const pat_expr *r = find_split(tp, e->u.binary.lhs);
        return r ? r : find_split(tp, e->u.binary.rhs);
    }
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++) {
            const pat_expr *r = find_split(tp, e->u.call.args[k]);
            if (r)
                return r;
        }
        return NULL;
    case PAT_E_BLOCK:
        for (int k = 0; k < e->u.block.n; k++) {
            const pat_expr *r = find_split(tp, e->u.block.values[k]);
            if (r)
                return r;
        }
        return find_split(tp, e->u.block.result);
    default:
        return NULL;
    }
}

/* Does any node of e (e included, and everything under patterns and
 * blocks) satisfy pred?  (dfg_internal.h) */
bool dfg_expr_any(const pat_expr *e, bool (*pred)(const pat_expr *, const void *), const void *ctx)
{
    if (!e)
        return false;
    if (pred(e, ctx))
        return true;
    switch (e->kind) {
    case PAT_E_ACCESS:
        for (int k = 0; k < e->u.access.n; k++)
            if (dfg_expr_any(e->u.access.idx[k], pred, ctx))
                return true;
        return dfg_expr_any(e->u.access.base, pred, ctx);
    case PAT_E_UNARY:
        return dfg_expr_any(e->u.unary.arg, pred, ctx);
    case PAT_E_BINARY:
        return dfg_expr_any(e->u.binary.lhs, pred, ctx) || dfg_expr_any(e->u.binary.rhs, pred, ctx);
    case PAT_E_SELECT:
        return dfg_expr_any(e->u.select.cond, pred, ctx) || dfg_expr_any(e->u.select.then, pred, ctx) ||
               dfg_expr_any(e->u.select.els, pred, ctx);
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++)
            if (dfg_expr_any(e->u.call.args[k], pred, ctx))
                return true;
        return false;
    case PAT_E_BLOCK:
        for (int k = 0; k < e->u.block.n; k++)
            if (dfg_expr_any(e->u.block.values[k], pred, ctx))
                return true;
        return dfg_expr_any(e->u.block.result, pred, ctx);
    case PAT_E_MAP:
    case PAT_E_REDUCE:
    case PAT_E_GROUPBY:
        for (int k = 0; k < e->u.pat.n_idx; k++)
            if (dfg_expr_any(e->u.pat.idx[k].lo, pred, ctx) || dfg_expr_any(e->u.pat.idx[k].hi, pred, ctx))
                return true;
        return dfg_expr_any(e->u.pat.where, pred, ctx) || dfg_expr_any(e->u.pat.key, pred, ctx) ||
               dfg_expr_any(e->u.pat.body, pred, ctx);
    default:
        return false;
    }
}

static bool is_pattern(const pat_expr *e, const void *ctx)
{
    (void)ctx;
    return e->kind == PAT_E_MAP || e->kind == PAT_E_REDUCE || e->kind == PAT_E_GROUPBY;
}

pat_program *dfg_program_copy(const pat_program *p, arena *a)
{
    pat_program *q = arena_alloc(a, sizeof *q);
    pat_def **defs = arena_calloc(a, (size_t)(p->n_defs ? p->n_defs : 1), sizeof *defs);
    if (!q || !defs)
        return NULL;
    *q = *p;
    for (int k = 0; k < p->n_defs; k++)
        defs[k] = p->defs[k];
    q->defs = defs;
    return q;
}

int dfg_program_set(pat_program *q, arena *a, int k, pat_expr *v, int n_slots)
{
    pat_def *nd = arena_alloc(a, sizeof *nd);
    if (!nd)
        return -1;
    *nd = *q->defs[k];
    nd->value = v;
    nd->n_slots = n_slots;
    q->defs[k] = nd;
    return 0;
}

/* Does e contain a pattern (a loop of its own)?  (dfg_internal.h) */
bool dfg_has_pattern(const pat_expr *e)
{
    return dfg_expr_any(e, is_pattern, NULL);
}

/* The model of a tiling (the sizes in tp->size), for one pipeline per
 * replica of the outermost tile loop (P of them):
 *   traffic  every tile load and store: a tile is loaded once per
 *            iteration of every tile loop around the stage that loads it,
 *            so a tensor not following an outer index is reloaded for each
 *            of its tiles, except that the replicas of the outermost tile
 *            loop share such a load when their chunks are equal (par.c);
 *            bytes at the fabric's DRAM bandwidth;
 *   compute  the map's iterations (times the split reduction's) in vectors
 *            of the loop that runs lane-parallel, whose tile may fill fewer
 *            lanes than the PCU has, over P pipelines;
 *   overhead each innermost tile iteration starts with a DRAM latency that
 *            the meta-pipeline does not hide;
 * estimated cycles = max(traffic, compute) + overhead.  Fills *traffic
 * (bytes) and returns the cycles. */
static double tile_model(const lower *L, const tile_plan *tp, int vec_pos, int P, double *traffic)
{
    const dfg *g = L->g;
    int ps = tp->n_var;
    bool split = tp->split && tp->size[ps] < tp->extent[ps];
    /* tile loops: the shrunk map indices in order, then the split reduction */
    int level_of[PAT_MAX_RANK + 1], n_lv = 0;
    double tiles_upto[PAT_MAX_RANK + 2];
    tiles_upto[0] = 1;
    for (int p = 0; p < tp->n_pos; p++) {
        level_of[p] = -1;
        bool t = p < tp->n_var ? tp->size[p] < tp->extent[p] : split;
        if (t) {
            level_of[p] = n_lv++;
            tiles_upto[n_lv] = tiles_upto[n_lv - 1] * (tp->extent[p] / tp->size[p]);
        }
    }
    /* the outermost tile loop runs in P replicas: with a multiple of P
     * tiles, a tensor not following it is loaded once for all of them
     * (par.c), not once per replica */
    int p0 = -1;
    for (int p = 0; p < tp->n_var && p0 < 0; p++)
        if (tp->size[p] < tp->extent[p])
            p0 = p;
    bool shared = P > 1 && p0 >= 0 && (tp->extent[p0] / tp->size[p0]) % P == 0;
    double bytes = 0;
    for (int m = 0; m < g->n_mems; m++) {
        if (tp->bad[m])
            continue;
        int lv = -1;
        bool follows_p0 = false;
        for (int k = 0; k < g->mems[m].type.rank; k++) {
            int p = tp->dim[m * PAT_MAX_RANK + k];
            if (p >= 0 && level_of[p] > lv)
                lv = level_of[p];
            follows_p0 |= p >= 0 && p == p0;
        }
        if (lv < 0)
            continue;
        double b = (double)tile_bytes(g, tp, m) * tiles_upto[lv + 1];
        bytes += shared && !follows_p0 ? b / P : b;
    }
    *traffic = bytes;
    double work = 1;
    for (int p = 0; p < tp->n_pos; p++)
        work *= tp->extent[p];
    int lanes = g->opts.lanes;
    double vec = lanes;
    if (vec_pos >= 0) {
        int32_t n = vec_pos == ps && !split ? tp->extent[ps] : tp->size[vec_pos];
        vec = n < lanes ? n : lanes;
    }
    double compute = work / vec / P;
    double traffic_cycles = bytes / fab_dram_bytes_per_cycle(g->fab);
    double overhead = tiles_upto[n_lv] * (double)fab_dram_latency_cycles(g->fab) / P;
    return (traffic_cycles > compute ? traffic_cycles : compute) + overhead;
}

/* Choose the tile sizes: of every combination of divisors of the extents
 * (largest first) under which every tile fits a PMU twice and the partial
 * results (when the reduction is split) three times, the one the model
 * estimates fastest; with --par N, among those whose outermost tiled
 * index has a multiple of N tiles, else at least N, if any.  The first of equals is kept, so
 * larger tiles win ties.  Leaves the sizes in tp->size, and the model's
 * estimate in tp->est_traffic and tp->est_cycles. */
static void choose_tile_sizes(lower *L, tile_plan *tp, int target, const pat_expr *body)
{
    dfg *g = L->g;
    (void)target;
    int64_t pmu = (int64_t)g->fab->pmu_kib * 1024;
    int ps = tp->n_var;
    int P = g->opts.par > 1 ? g->opts.par : 1;
    int vec_pos = tp->split ? ps : dfg_has_pattern(body) ? -1 : tp->n_var - 1;
    /* divisors of each extent, largest first (only where some tile follows) */
    enum { MAX_DIV = 64 };
    int32_t div[PAT_MAX_RANK + 1][MAX_DIV];
    int n_div[PAT_MAX_RANK + 1];
    for (int p = 0; p < tp->n_pos; p++) {
        bool followed = false;
        for (int m = 0; m < g->n_mems && !followed; m++)
            if (!tp->bad[m])
                for (int k = 0; k < g->mems[m].type.rank; k++)
                    followed |= tp->dim[m * PAT_MAX_RANK + k] == p;
        n_div[p] = 0;
        int32_t e = tp->extent[p];
        for (int32_t d = e; d >= 1 && n_div[p] < MAX_DIV; d = followed ? d - 1 : 0)
            if (e % d == 0)
                div[p][n_div[p]++] = d;
        /* past MAX_DIV divisors the smallest are left out, but 1 stays */
        if (followed && div[p][n_div[p] - 1] != 1)
            div[p][n_div[p] - 1] = 1;
    }
    int32_t best[PAT_MAX_RANK + 1];
    double best_cost = -1, best_traffic = 0;
    /* pass 0: the outermost tiled index has a multiple of P tiles, so
     * the replicas' chunks are equal and a tile every replica reads is
     * loaded once for all (par.c); pass 1: at least P; pass 2: any */
    for (int pass = 0; pass < 3 && best_cost < 0; pass++) {
        int at[PAT_MAX_RANK + 1] = {0};
        for (;;) {
            for (int p = 0; p < tp->n_pos; p++)
                tp->size[p] = div[p][at[p]];
            bool ok = true;
            for (int m = 0; m < g->n_mems && ok; m++)
                if (!tp->bad[m] && 2 * tile_bytes(g, tp, m) > pmu)
                    ok = false;
            if (ok && tp->split && tp->size[ps] < tp->extent[ps]) {
                int64_t acc = 4;
                for (int p = 0; p < tp->n_var; p++)
                    acc *= tp->size[p];
                ok = 3 * acc <= pmu;
            }
            if (ok && pass < 2 && P > 1) {
                int p0 = -1;
                for (int p = 0; p < tp->n_var && p0 < 0; p++)
                    if (tp->size[p] < tp->extent[p])
                        p0 = p;
                int32_t tiles = p0 >= 0 ? tp->extent[p0] / tp->size[p0] : 0;
                ok = tiles >= P && (pass == 1 || tiles % P == 0);
            }
            if (ok) {
                double traffic;
                double c = tile_model(L, tp, vec_pos, P, &traffic);
                if (best_cost < 0 || c < best_cost) {
                    best_cost = c;
                    best_traffic = traffic;
                    memcpy(best, tp->size, sizeof best);
                }
            }
            int p = tp->n_pos - 1;
            while (p >= 0 && ++at[p] == n_div[p])
                at[p--] = 0;
            if (p < 0)
                break;
        }
        if (P == 1)
            break;
    }
    if (best_cost < 0) {
        /* nothing fits: every tensor keeps its direct accesses */
        for (int p = 0; p < tp->n_pos; p++)
            tp->size[p] = tp->extent[p];
        for (int m = 0; m < g->n_mems; m++)
            tp->bad[m] = true;
        return;
    }
    memcpy(tp->size, best, sizeof best);
    tp->est_cycles = best_cost;
    tp->est_traffic = best_traffic;
}

/* Plan the tiles of definition df; returns true when it is to be tiled. */
static bool plan_tiles(lower *L, const pat_def *df, int target, tile_plan *tp)
{
    dfg *g = L->g;
    const pat_expr *e = df->value;
    if (!g->fab || e->kind != PAT_E_MAP || e->u.pat.n_idx > PAT_MAX_RANK)
        return false;
    const pat_pattern *pt = &e->u.pat;
    bool any = g->mems[target].dram;
    for (int m = 0; m < g->n_mems; m++)
        any |= g->mems[m].dram;
    if (!any)
        return false;
    tp->n_var = tp->n_pos = pt->n_idx;
    for (int p = 0; p < pt->n_idx; p++) {
        if (pt->idx[p].lo)
            return false;
        tp->var[p] = pt->idx[p].var;
        tp->extent[p] = tp->size[p] = pt->idx[p].extent;
    }
    tp->split = pt->body->type.rank == 0 ? find_split(tp, pt->body) : NULL;
    int ps = tp->n_var;
    if (tp->split) {
        tp->var[ps] = tp->split->u.pat.idx[0].var;
        tp->extent[ps] = tp->size[ps] = tp->split->u.pat.idx[0].extent;
        tp->n_pos++;
    }
    for (int k = 0; k < g->n_mems * PAT_MAX_RANK; k++)
        tp->dim[k] = -2;
    tile_scan(g, tp, pt->body);
    /* the target follows the map's indices */
    tp->seen[target] = true;
    for (int k = 0; k < g->mems[target].type.rank; k++)
        tp->dim[target * PAT_MAX_RANK + k] = k < pt->n_idx ? k : -1;
    int64_t pmu = (int64_t)g->fab->pmu_kib * 1024;
    for (int m = 0; m < g->n_mems; m++) {
        bool follows = false;
        for (int k = 0; k < g->mems[m].type.rank; k++) {
            int *d = &tp->dim[m * PAT_MAX_RANK + k];
            if (*d == -2)
                *d = -1;
            follows |= *d >= 0;
        }
        if (!g->mems[m].dram || !tp->seen[m] || !follows)
            tp->bad[m] = true;
    }
    /* A tensor whose smallest tile (one row of each index it follows)
     * cannot fit a PMU twice keeps its direct DRAM accesses. */
    for (int m = 0; m < g->n_mems; m++) {
        if (tp->bad[m])
            continue;
        int32_t keep[PAT_MAX_RANK + 1];
        memcpy(keep, tp->size, sizeof keep);
        for (int p = 0; p < tp->n_pos; p++)
            tp->size[p] = 1;
        if (2 * tile_bytes(g, tp, m) > pmu)
            tp->bad[m] = true;
        memcpy(tp->size, keep, sizeof keep);
    }
    choose_tile_sizes(L, tp, target, pt->body);
    bool tiled = false;
    for (int m = 0; m < g->n_mems; m++)
        if (!tp->bad[m] && follows_tiles(g, tp, m))
            tiled = true;
        else
            tp->bad[m] = true;
    if (tp->split && tp->size[ps] == tp->extent[ps]) {
        /* not split after all: the reduction reads whole extents */
        tp->split = NULL;
        for (int k = 0; k < g->n_mems * PAT_MAX_RANK; k++)
            if (tp->dim[k] == ps)
                tp->dim[k] = -1;
    }
    return tiled;
}

/* Is map index v read in e other than as an index a tile follows (so
 * that its global value is needed)? */
static bool raw_use(const dfg *g, const tile_plan *tp, const pat_expr *e, const pat_var *v)
{
    if (!e)
        return false;
    switch (e->kind) {
    case PAT_E_VAR:
        return e->u.var == v;
    case PAT_E_INT:
    case PAT_E_FLOAT:
    case PAT_E_TENSOR:
        return false;
    case PAT_E_ACCESS: {
        const pat_expr *b = e->u.access.base;
        int m = b->kind == PAT_E_TENSOR ? b->u.decl->id : -1;
        for (int k = 0; k < e->u.access.n; k++) {
            if (m >= 0 && !tp->bad[m] && tp->dim[m * PAT_MAX_RANK + k] >= 0)
                continue;  /* read within the tile */
            if (raw_use(g, tp, e->u.access.idx[k], v))
                return true;
        }
        return m < 0 && raw_use(g, tp, b, v);
    }
    case PAT_E_UNARY:
        return raw_use(g, tp, e->u.unary.arg, v);
    case PAT_E_BINARY:
        return raw_use(g, tp, e->u.binary.lhs, v) || raw_use(g, tp, e->u.binary.rhs, v);
    case PAT_E_SELECT:
        return raw_use(g, tp, e->u.select.cond, v) || raw_use(g, tp, e->u.select.then, v) ||
               raw_use(g, tp, e->u.select.els, v);
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++)
            if (raw_use(g, tp, e->u.call.args[k], v))
                return true;
        return false;
    case PAT_E_BLOCK:
        for (int k = 0; k < e->u.block.n; k++)
            if (raw_use(g, tp, e->u.block.values[k], v))
                return true;
        return raw_use(g, tp, e->u.block.result, v);
    case PAT_E_MAP:
    case PAT_E_REDUCE:
    case PAT_E_GROUPBY: {
        const pat_pattern *pt = &e->u.pat;
        for (int k = 0; k < pt->n_idx; k++)
            if (raw_use(g, tp, pt->idx[k].lo, v) || raw_use(g, tp, pt->idx[k].hi, v))
                return true;
        return raw_use(g, tp, pt->where, v) || raw_use(g, tp, pt->key, v) || raw_use(g, tp, pt->body, v);
    }
    }
    return true;
}

/* Copy memory m's tile between DRAM and its tile: loops over the tile's
 * elements, the global index of a tiled dimension being its tile base
 * plus the index within the tile. */
static int tile_copy(lower *L, const tile_plan *tp, int m, int tile, const int *base, bool load,
                     diag_loc loc)
{
    const dfg_mem *mm = &L->g->mems[m];
    int rank = mm->type.rank;
    saved_level saves[PAT_MAX_RANK];
    int local[PAT_MAX_RANK], global[PAT_MAX_RANK];
    for (int k = 0; k < rank; k++) {
        int p = tp->dim[m * PAT_MAX_RANK + k];
        bool t = p >= 0 && tp->size[p] < tp->extent[p];
        int32_t n = t ? tp->size[p] : mm->type.dims[k];
        int lo = emit_const_i(L, 0, loc), hi = emit_const_i(L, n, loc);
        const char *label = arena_printf(L->g->a, "%s.%d", mm->name, k);
        dfg_loop *lp = open_loop(L, lo, hi, n, label, &saves[k], loc);
        if (!lp)
            return -1;
        local[k] = lp->counter;
        global[k] = t ? emit_op(L, DFG_ADD, PAT_I32, base[p], lp->counter, DFG_NONE, loc) : lp->counter;
    }
    int rc = 0;
    if (load) {
        int v = emit_mem_op(L, DFG_LOAD, m, rank, global, DFG_NONE, loc);
        rc = emit_mem_op(L, DFG_STORE, tile, rank, local, v, loc) == DFG_NONE ? -1 : 0;
    } else {
        int v = emit_mem_op(L, DFG_LOAD, tile, rank, local, DFG_NONE, loc);
        rc = emit_mem_op(L, DFG_STORE, m, rank, global, v, loc) == DFG_NONE ? -1 : 0;
    }
    for (int k = rank - 1; k >= 0; k--)
        close_loop(L, &saves[k]);
    return rc || L->failed ? -1 : 0;
}

/* The deepest tile level memory m's tile follows (-1: none). */
static int tile_level(const dfg *g, const tile_plan *tp, int m, const int *level_of)
{
    int deepest = -1;
    for (int k = 0; k < g->mems[m].type.rank; k++) {
        int q = tp->dim[m * PAT_MAX_RANK + k];
        if (q >= 0 && level_of[q] > deepest)
            deepest = level_of[q];
    }
    return deepest;
}

/* The stage loading the tiles of level t (those that follow its index and
 * none deeper).  Several load in one stage (a loop of one iteration
 * around their copies), so that each is read one stage after its write
 * and two copies of it suffice. */
static int load_tiles(lower *L, const tile_plan *tp, const int *tile_mem, int n_mems, int target,
                      const int *level_of, int t, const int *base, const char *var, diag_loc loc)
{
    dfg *g = L->g;
    int n_here = 0;
    for (int m = 0; m < n_mems; m++)
        n_here += tile_mem[m] != DFG_NONE && m != target && tile_level(g, tp, m, level_of) == t;
    saved_level load_save;
    if (n_here > 1 && !open_loop(L, emit_const_i(L, 0, loc), emit_const_i(L, 1, loc), 1,
                                 arena_printf(g->a, "%s.load", var), &load_save, loc))
        return -1;
    for (int m = 0; m < n_mems; m++)
        if (tile_mem[m] != DFG_NONE && m != target && tile_level(g, tp, m, level_of) == t &&
            tile_copy(L, tp, m, tile_mem[m], base, true, loc) != 0)
            return -1;
    if (n_here > 1)
        close_loop(L, &load_save);
    return L->failed ? -1 : 0;
}

/* Open the loop of position p over one tile (its tile size when the
 * index is tiled, else its whole extent) and bind its variable: within the
 * tile, the loop's counter (L->tile_local, what tiles are indexed by);
 * globally, the tile's base plus the counter where `need_global` (an ADD),
 * else the counter itself.  Returns the loop (NULL on failure) and sets
 * *global. */
static dfg_loop *open_in_tile(lower *L, const tile_plan *tp, int p, bool tiled, bool need_global, const int *base,
                              saved_level *save, int *global, diag_loc loc)
{
    int32_t n = tiled ? tp->size[p] : tp->extent[p];
    dfg_loop *lp = open_loop(L, emit_const_i(L, 0, loc), emit_const_i(L, n, loc), n, tp->var[p]->name, save,
                             tp->var[p]->loc);
    if (!lp)
        return NULL;
    *global = tiled && need_global ? emit_op(L, DFG_ADD, PAT_I32, base[p], lp->counter, DFG_NONE, loc)
                                   : lp->counter;
    L->slot_reg[tp->var[p]->slot] = *global;
    L->tile_local[p] = lp->counter;
    if (*global != DFG_NONE && L->g->regs[*global].name == NULL)
        L->g->regs[*global].name = tp->var[p]->name;
    return lp;
}

/* A reduction split across the tiles of its index k: a tile of partial
 * results, one per element of the map's tile, is filled with the
 * operator's identity; a loop over k's tiles loads the tiles that follow
 * k and combines each tile's reduction into it (read-modify-write); the
 * map then reads the reduction's value from it.  Three stages of the
 * innermost tile loop, so the partial results have three copies. */
static int split_partials(lower *L, const pat_def *df, const tile_plan *tp, const int *tile_mem, int n_mems,
                          int target, const int *level_of, int n_t, int *base, int *acc_out)
{
    dfg *g = L->g;
    const pat_expr *red = tp->split;
    const pat_pattern *rp = &red->u.pat;
    diag_loc loc = red->loc;
    int ps = tp->n_var;
    pat_type at = {.elem = red->type.elem, .rank = tp->n_var};
    for (int p = 0; p < tp->n_var; p++)
        at.dims[p] = tp->size[p];
    int acc = new_mem(L, DFG_MEM_SCRATCH, arena_printf(g->a, "%s.acc", df->target->name), &at, NULL);
    if (acc == DFG_NONE)
        return diag_error(L->d, loc, "out of memory while tiling");
    g->mems[acc].tile_of = target;
    g->mems[acc].tile_def = df->index;
    *acc_out = acc;
    /* stage: the identity into every partial result */
    if (fill_identity(L, acc, 0, NULL, &at, rp->op, loc) != 0)
        return -1;
    /* stage: over k's tiles, load its tiles, then accumulate */
    saved_level ks;
    int32_t n = tp->extent[ps] / tp->size[ps];
    dfg_loop *kl = open_loop(L, emit_const_i(L, 0, loc), emit_const_i(L, n, loc), n,
                             arena_printf(g->a, "%s.tile", tp->var[ps]->name), &ks, tp->var[ps]->loc);
    if (!kl)
        return -1;
    base[ps] = emit_op(L, DFG_MUL, PAT_I32, kl->counter, emit_const_i(L, tp->size[ps], loc), DFG_NONE, loc);
    if (load_tiles(L, tp, tile_mem, n_mems, target, level_of, n_t, base, tp->var[ps]->name, loc) != 0)
        return -1;
    saved_level ms[PAT_MAX_RANK + 1];
    int idx[PAT_MAX_RANK];
    for (int p = 0; p <= tp->n_var; p++) {
        /* the map's indices, then (innermost, lane-parallel) k's */
        bool need = raw_use(g, tp, rp->body, tp->var[p]) || raw_use(g, tp, rp->where, tp->var[p]);
        int global;
        if (!open_in_tile(L, tp, p, p == ps || level_of[p] >= 0, need, base, &ms[p], &global, loc))
            return -1;
        if (p < ps)
            idx[p] = L->tile_local[p];
    }
    dfg_loop *il = L->level;
    int guard = DFG_NONE;
    if (rp->where) {
        guard = truth(L, lower_scalar(L, rp->where), rp->where->loc);
        L->pred = guard;
    }
    int val = lower_scalar(L, rp->body);
    L->pred = DFG_NONE;
    close_loop(L, &ms[ps]);
    int part = add_acc(L, il, val, guard, rp->op, red->type.elem);
    if (put(L, acc, tp->n_var, idx, part, INTO_COMBINE, rp->op, loc) != 0)
        return -1;
    for (int p = tp->n_var - 1; p >= 0; p--)
        close_loop(L, &ms[p]);
    close_loop(L, &ks);
    return L->failed ? -1 : 0;
}

/* Lower definition df, whose value is a map, tiled as planned. */
static int lower_tiled(lower *L, const pat_def *df, int target, tile_plan *tp)
{
    dfg *g = L->g;
    const pat_expr *e = df->value;
    const pat_pattern *pt = &e->u.pat;
    diag_loc loc = e->loc;
    int n_mems = g->n_mems;
    int *tile_mem = arena_calloc(g->a, (size_t)n_mems, sizeof *tile_mem);
    if (!tile_mem)
        return diag_error(L->d, loc, "out of memory while tiling");
    /* The tiles. */
    for (int m = 0; m < n_mems; m++) {
        tile_mem[m] = DFG_NONE;
        if (tp->bad[m])
            continue;
        pat_type t = g->mems[m].type;
        for (int k = 0; k < t.rank; k++) {
            int p = tp->dim[m * PAT_MAX_RANK + k];
            if (p >= 0)
                t.dims[k] = tp->size[p];
        }
        /* "A.tile", or "A.tile.Y" when another definition tiles A too */
        const char *name = arena_printf(g->a, "%s.tile", g->mems[m].name);
        for (int q = 0; q < g->n_mems; q++)
            if (!strcmp(g->mems[q].name, name)) {
                name = arena_printf(g->a, "%s.tile.%s", g->mems[m].name, df->target->name);
                break;
            }
        int tm = new_mem(L, DFG_MEM_SCRATCH, name, &t, NULL);
        if (tm == DFG_NONE)
            return diag_error(L->d, loc, "out of memory while tiling");
        g->mems[tm].tile_of = m;
        g->mems[tm].tile_def = df->index;
        tile_mem[m] = tm;
    }
    /* The tile loops, outermost first, each loading the tiles that follow
     * its index and none inside it. */
    int order[PAT_MAX_RANK + 1], n_t = 0, level_of[PAT_MAX_RANK + 1];
    int ps = tp->n_var;  /* the split reduction's position */
    for (int p = 0; p < tp->n_pos; p++) {
        level_of[p] = -1;
        if (p < tp->n_var && tp->size[p] < tp->extent[p]) {
            level_of[p] = n_t;
            order[n_t++] = p;
        }
    }
    if (tp->split)
        level_of[ps] = n_t;  /* its tiles load inside the loop over its tiles, innermost */
    dfg_def *gd = &g->defs[df->index];
    gd->tile_est_cycles = tp->est_cycles;
    gd->tile_est_traffic = tp->est_traffic;
    gd->n_tile = 0;
    for (int t = 0; t < n_t + (tp->split != NULL); t++) {
        int p = t < n_t ? order[t] : ps;
        gd->tile[gd->n_tile++] = (dfg_tile_dim){.var = tp->var[p]->name, .extent = tp->extent[p], .size = tp->size[p]};
    }
    saved_level saves[PAT_MAX_RANK];
    int base[PAT_MAX_RANK + 1];
    for (int p = 0; p <= PAT_MAX_RANK; p++)
        base[p] = DFG_NONE;
    for (int t = 0; t < n_t; t++) {
        int p = order[t];
        int32_t n = tp->extent[p] / tp->size[p];
        const char *label = arena_printf(g->a, "%s.tile", tp->var[p]->name);
        dfg_loop *lp = open_loop(L, emit_const_i(L, 0, loc), emit_const_i(L, n, loc), n, label, &saves[t],
                                 tp->var[p]->loc);
        if (!lp)
            return -1;
        /* each tile of the outermost index writes its own block of the
         * target (and nothing else): the tiles may run in parallel */
        lp->disjoint = t == 0;
        base[p] = emit_op(L, DFG_MUL, PAT_I32, lp->counter, emit_const_i(L, tp->size[p], loc), DFG_NONE, loc);
        if (load_tiles(L, tp, tile_mem, n_mems, target, level_of, t, base, tp->var[p]->name, loc) != 0)
            return -1;
    }
    L->tile_mem = tile_mem;
    L->tile_dim = tp->dim;
    L->tile_n = n_mems;
    int acc = DFG_NONE;
    if (tp->split && split_partials(L, df, tp, tile_mem, n_mems, target, level_of, n_t, base, &acc) != 0)
        return -1;
    /* The map over one tile of every index (its split reduction read from
     * the partial sums). */
    L->split_reduce = tp->split;
    L->split_acc = acc;
    L->split_n = tp->n_var;
    saved_level inner[PAT_MAX_RANK];
    int idx[PAT_MAX_RANK];
    for (int p = 0; p < pt->n_idx; p++) {
        /* its global value, where something needs it */
        bool need = tile_mem[target] == DFG_NONE || raw_use(g, tp, pt->body, tp->var[p]);
        int global;
        if (!open_in_tile(L, tp, p, level_of[p] >= 0, need, base, &inner[p], &global, loc))
            return -1;
        idx[p] = tile_mem[target] != DFG_NONE ? L->tile_local[p] : global;
    }
    int dst = tile_mem[target] != DFG_NONE ? tile_mem[target] : target;
    int rc = lower_into(L, pt->body, dst, pt->n_idx, idx, INTO_STORE, PAT_RED_ADD);
    for (int p = pt->n_idx - 1; p >= 0; p--)
        close_loop(L, &inner[p]);
    L->tile_mem = NULL;
    L->tile_dim = NULL;
    L->split_reduce = NULL;
    if (rc == 0 && tile_mem[target] != DFG_NONE)
        rc = tile_copy(L, tp, target, tile_mem[target], base, false, loc);
    for (int t = n_t - 1; t >= 0; t--)
        close_loop(L, &saves[t]);
    return rc || L->failed ? -1 : 0;
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
        /* A tensor larger than a PMU stays in DRAM, read and written
         * through its VAG and tiled where a definition reuses it. */
        else if (f && !g->opts.no_tiling && g->mems[k].bytes > (int64_t)f->pmu_kib * 1024)
            g->mems[k].dram = true;
    }
    /* A `?:` selecting a reduction's identity is a guard (select_guard.c),
     * unless guards stay evaluated in each iteration. */
    if (!g->opts.no_bounds) {
        p = dfg_select_guards(p, a, &g->n_select_guards);
        if (!p)
            return diag_error(d, diag_at_file(g->prog->file), "out of memory while lowering");
    }
    /* A map's long innermost index around a short reduction is the one to
     * vectorise (interchange.c). */
    if (!g->opts.no_interchange) {
        p = dfg_interchange(p, a, g->opts.lanes, f && !g->opts.no_tiling ? (int64_t)f->pmu_kib * 1024 : 0,
                            &g->n_interchanged, &g->interchanged);
        if (!p)
            return diag_error(d, diag_at_file(g->prog->file), "out of memory while lowering");
    }
    /* Fusion next: the definitions lowered are the fused ones; the
     * declarations (and so the memories) stay the program's. */
    if (!g->opts.no_fusion) {
        p = dfg_fuse(p, a, f ? (int64_t)f->pmu_kib * 1024 : 0, &g->fusion, &g->n_fusion);
        if (!p)
            return diag_error(d, diag_at_file(g->prog->file), "out of memory while fusing");
    }
    if (g->opts.par > 1 && !g->opts.no_split) {
        p = dfg_split_reductions(p, a, g->opts.par, &g->split);
        if (!p)
            return diag_error(d, diag_at_file(g->prog->file), "out of memory while splitting reductions");
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
        tile_plan tp = {0};
        tp.dim = arena_calloc(a, (size_t)g->n_mems * PAT_MAX_RANK + 1, sizeof *tp.dim);
        tp.bad = arena_calloc(a, (size_t)g->n_mems + 1, sizeof *tp.bad);
        tp.seen = arena_calloc(a, (size_t)g->n_mems + 1, sizeof *tp.seen);
        if (!tp.dim || !tp.bad || !tp.seen)
            return diag_error(d, df->loc, "out of memory while lowering");
        int rc = plan_tiles(&L, df, df->target->id, &tp)
                     ? lower_tiled(&L, df, df->target->id, &tp)
                     : lower_into(&L, df->value, df->target->id, 0, NULL, INTO_STORE, PAT_RED_ADD);
        if (rc != 0 || L.failed) {
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
