/*
 * dfg_check.c — the graph's invariants, checked after every pass in debug
 * builds and always before placement.
 *
 * Two kinds of failure are told apart: an internal inconsistency (a bug of
 * rdumap: an operand used before it is defined, a type mismatch, a value
 * read outside the loop that defines it) and a graph that is well formed
 * but does not fit the fabric (stages, ports, PMU capacity, unit counts),
 * which is the user's "cannot be mapped" (exit code 2).
 */
#include "mapper/dfg_internal.h"
#include "util/alloc.h"

#include <stdlib.h>

typedef struct checker {
    const dfg *g;
    diag_list *d;
    bool *defined;
    int errors;
} checker;

static bool visible(const dfg_loop *level, const dfg_loop *at)
{
    for (const dfg_loop *l = at; l; l = l->parent)
        if (l == level)
            return true;
    return level == NULL;
}

static void check_use(checker *C, const dfg_op *op, const dfg_loop *at, int r, const char *role)
{
    const dfg *g = C->g;
    if (r == DFG_NONE)
        return;
    if (r < 0 || r >= g->n_regs) {
        C->errors++;
        diag_error(C->d, op->loc, "internal: op %d (%s) %s names register %d of %d", op->id,
                   dfg_op_name(op->code), role, r, g->n_regs);
        return;
    }
    if (!C->defined[r]) {
        C->errors++;
        diag_error(C->d, op->loc, "internal: op %d (%s) reads r%d before it is defined", op->id,
                   dfg_op_name(op->code), r);
    }
    if (!visible(g->regs[r].level, at)) {
        C->errors++;
        diag_error(C->d, op->loc, "internal: op %d (%s) reads r%d outside the loop that defines it",
                   op->id, dfg_op_name(op->code), r);
    }
}

static void expect_type(checker *C, const dfg_op *op, int r, pat_elem t, const char *role)
{
    if (r == DFG_NONE || r < 0 || r >= C->g->n_regs)
        return;
    if (C->g->regs[r].type != t) {
        C->errors++;
        diag_error(C->d, op->loc, "internal: op %d (%s) %s r%d is %s, expected %s", op->id,
                   dfg_op_name(op->code), role, r, pat_elem_str(C->g->regs[r].type), pat_elem_str(t));
    }
}

static void check_op(checker *C, const dfg_op *op, const dfg_loop *at)
{
    const dfg *g = C->g;
    check_use(C, op, at, op->a, "operand a");
    check_use(C, op, at, op->b, "operand b");
    check_use(C, op, at, op->c, "operand c");
    check_use(C, op, at, op->pred, "predicate");
    expect_type(C, op, op->pred, PAT_I32, "predicate");
    switch (op->code) {
    case DFG_ADD: case DFG_SUB: case DFG_MUL: case DFG_DIV: case DFG_MOD:
    case DFG_MAX: case DFG_MIN:
        expect_type(C, op, op->a, op->type, "operand a");
        expect_type(C, op, op->b, op->type, "operand b");
        break;
    case DFG_NEG: case DFG_EXP: case DFG_LOG: case DFG_SQRT: case DFG_TANH: case DFG_ABS:
        expect_type(C, op, op->a, op->type, "operand a");
        break;
    case DFG_LT: case DFG_LE: case DFG_GT: case DFG_GE: case DFG_EQ: case DFG_NE:
        if (op->a != DFG_NONE && op->b != DFG_NONE)
            expect_type(C, op, op->b, g->regs[op->a].type, "operand b");
        break;
    case DFG_LAND:
    case DFG_SHL:
    case DFG_BIT:
        expect_type(C, op, op->b, PAT_I32, "operand b");
        /* fall through */
    case DFG_LNOT:
        expect_type(C, op, op->a, PAT_I32, "operand a");
        break;
    case DFG_TOF32:
        expect_type(C, op, op->a, PAT_I32, "operand a");
        break;
    case DFG_TOI32:
        expect_type(C, op, op->a, PAT_F32, "operand a");
        break;
    case DFG_SELECT:
        expect_type(C, op, op->a, PAT_I32, "condition");
        expect_type(C, op, op->b, op->type, "operand b");
        expect_type(C, op, op->c, op->type, "operand c");
        break;
    case DFG_LOAD: case DFG_STORE: case DFG_RMW: {
        if (op->mem < 0 || op->mem >= g->n_mems) {
            C->errors++;
            diag_error(C->d, op->loc, "internal: op %d names memory %d", op->id, op->mem);
            break;
        }
        const dfg_mem *m = &g->mems[op->mem];
        if (op->n_idx != m->type.rank) {
            C->errors++;
            diag_error(C->d, op->loc, "internal: op %d indexes '%s' with %d indices, it has %d dimensions",
                       op->id, m->name, op->n_idx, m->type.rank);
        }
        for (int k = 0; k < op->n_idx; k++) {
            check_use(C, op, at, op->idx[k], "index");
            expect_type(C, op, op->idx[k], PAT_I32, "index");
        }
        if (op->code != DFG_LOAD)
            expect_type(C, op, op->a, m->type.elem, "stored value");
        if (m->kind == DFG_MEM_INPUT && op->code != DFG_LOAD) {
            C->errors++;
            diag_error(C->d, op->loc, "internal: op %d writes input '%s'", op->id, m->name);
        }
        break;
    }
    case DFG_CHECK:
        expect_type(C, op, op->a, PAT_I32, "key");
        break;
    default:
        break;
    }
    if (op->dst != DFG_NONE) {
        if (g->regs[op->dst].type != op->type && op->code != DFG_STORE) {
            C->errors++;
            diag_error(C->d, op->loc, "internal: op %d (%s) writes r%d of the wrong type", op->id,
                       dfg_op_name(op->code), op->dst);
        }
        if (C->defined[op->dst]) {
            C->errors++;
            diag_error(C->d, op->loc, "internal: r%d defined twice", op->dst);
        }
        C->defined[op->dst] = true;
    }
}

static void check_block(checker *C, const dfg_block *b, const dfg_loop *at)
{
    for (int k = 0; k < b->n && C->errors < 20; k++) {
        if (!b->s[k].is_loop) {
            check_op(C, b->s[k].op, at);
            continue;
        }
        const dfg_loop *lp = b->s[k].loop;
        dfg_op fake = {.code = DFG_COPY, .loc = diag_at_file("loop"), .id = -1};
        check_use(C, &fake, at, lp->lo, "loop bound");
        check_use(C, &fake, at, lp->hi, "loop bound");
        check_use(C, &fake, at, lp->pred, "loop predicate");
        check_use(C, &fake, at, lp->scan, "loop scan mask");
        if (lp->scan != DFG_NONE && (lp->trip < 1 || lp->trip > 32 || lp->innermost)) {
            C->errors++;
            diag_error(C->d, diag_at_file("dfg"), "internal: loop %d scans a mask over %d iterations", lp->id,
                       lp->trip);
        }
        if (lp->parent != at) {
            C->errors++;
            diag_error(C->d, diag_at_file("dfg"), "internal: loop %d has the wrong parent", lp->id);
        }
        C->defined[lp->counter] = true;
        check_block(C, &lp->body, lp);
        for (int a = 0; a < lp->n_acc; a++) {
            check_use(C, &fake, lp, lp->acc[a].val, "accumulated value");
            check_use(C, &fake, lp, lp->acc[a].pred, "accumulator predicate");
            expect_type(C, &fake, lp->acc[a].val, lp->acc[a].type, "accumulated value");
            C->defined[lp->acc[a].reg] = true;
        }
    }
}

/* Where a memory comes from in the source: the declaration of a program
 * tensor, else the first operation that stores into a scratch tile (the
 * expression it materialises), else the fabric file. */
static diag_loc mem_loc(const dfg *g, int mem)
{
    const dfg_mem *m = &g->mems[mem];
    if (m->decl)
        return m->decl->loc;
    for (int k = 0; k < g->n_ops; k++)
        if (g->ops[k]->mem == mem && g->ops[k]->code == DFG_STORE && g->ops[k]->loc.line > 0)
            return g->ops[k]->loc;
    return diag_at_file(g->fab->source);
}

int dfg_check(const dfg *g, bool *not_fit, diag_list *d)
{
    *not_fit = false;
    checker C = {.g = g, .d = d};
    C.defined = xcalloc((size_t)g->n_regs + 1, sizeof *C.defined);
    if (!C.defined)
        return diag_error(d, diag_at_file("dfg"), "out of memory");
    for (int k = 0; k < g->n_defs; k++)
        check_block(&C, &g->defs[k].body, NULL);
    free(C.defined);
    if (C.errors)
        return -1;

    /* N-buffers: a tile read k stages after its write in a meta-pipeline
     * needs k+1 copies, rotated by that loop's iterations. */
    int *depth = xmalloc(((size_t)g->n_mems + 1) * sizeof *depth);
    int *rotate = xmalloc(((size_t)g->n_mems + 1) * sizeof *rotate);
    if (!depth || !rotate || dfg_buffer_depths(g, depth, rotate) != 0) {
        free(depth);
        free(rotate);
        return diag_error(d, diag_at_file("dfg"), "out of memory");
    }
    for (int m = 0; m < g->n_mems; m++)
        if (g->mems[m].depth < depth[m] || (depth[m] > 1 && g->mems[m].rotate != rotate[m])) {
            C.errors++;
            diag_error(d, diag_at_file("dfg"),
                       "internal: tile '%s' is read %d stages after its write and needs %d buffer copies "
                       "rotated by loop %d; it has %d rotated by loop %d",
                       g->mems[m].name, depth[m] - 1, depth[m], rotate[m], g->mems[m].depth, g->mems[m].rotate);
        }
    free(depth);
    free(rotate);
    if (C.errors)
        return -1;

    /* Fit: per unit, then in total. */
    const fab_fabric *f = g->fab;
    diag_loc at = diag_at_file(f->source);
    int misfits = 0;
    int64_t pmu_bytes = (int64_t)f->pmu_kib * 1024;
    for (int u = 0; u < g->n_units; u++) {
        const dfg_unit *un = &g->units[u];
        if (un->kind == DFG_VPCU) {
            if (un->n_stages > f->stages)
                misfits++, diag_error(d, at, "VPCU '%s' needs %d stages; a PCU has %d", un->name,
                                      un->n_stages, f->stages);
            if (un->vec_in > f->vector_in || un->scal_in > f->scalar_in)
                misfits++, diag_error(d, at, "VPCU '%s' needs %d vector and %d scalar inputs; a PCU has %d and %d",
                                      un->name, un->vec_in, un->scal_in, f->vector_in, f->scalar_in);
            if (un->vec_out > f->vector_out || un->scal_out > f->scalar_out)
                misfits++, diag_error(d, at, "VPCU '%s' needs %d vector and %d scalar outputs; a PCU has %d and %d",
                                      un->name, un->vec_out, un->scal_out, f->vector_out, f->scalar_out);
        } else if (un->kind == DFG_VPMU) {
            const dfg_mem *m = &g->mems[un->mem];
            int64_t need = m->copy_bytes * m->depth;
            if (need > pmu_bytes) {
                char t[96];
                misfits++;
                diag_error(d, mem_loc(g, un->mem),
                           "tile '%s' (%s%s%s) of %lld KiB exceeds a %d KiB PMU (pmu_kib of fabric '%s', %s)",
                           un->name, pat_type_str(&m->type, t, sizeof t), m->partitioned ? ", one partition" : "",
                           m->depth > 1 ? ", double-buffered" : "",
                           (long long)((need + 1023) / 1024), f->pmu_kib, f->name, f->source);
            }
        }
    }
    if (g->n_pcus > f->n_pcus)
        misfits++, diag_error(d, at, "needs %d PCUs, the fabric has %d", g->n_pcus, f->n_pcus);
    if (g->n_pmus > f->n_pmus)
        misfits++, diag_error(d, at, "needs %d PMUs, the fabric has %d", g->n_pmus, f->n_pmus);
    /* DRAM streams are not bounded by the AGCUs: each AGCU serves several. */
    if (misfits) {
        *not_fit = true;
        return -1;
    }
    return 0;
}
