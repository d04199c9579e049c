/*
 * dfg.c — construction helpers and names for the dataflow graph.
 *
 * Arrays of the graph grow by doubling inside the arena (the old copy is
 * simply abandoned to the arena); the graph is built once per job, so the
 * waste is bounded by a factor of two.
 */
#include "mapper/dfg_internal.h"

#include <string.h>

void *dfg_grow(arena *a, void *old, int n, int *cap, size_t elem)
{
    if (n < *cap)
        return old;
    int ncap = *cap ? 2 * *cap : 16;
    void *fresh = arena_calloc(a, (size_t)ncap, elem);
    if (!fresh)
        return NULL;
    if (old && n > 0)
        memcpy(fresh, old, (size_t)n * elem);
    *cap = ncap;
    return fresh;
}

int dfg_new_reg(dfg *g, pat_elem type, dfg_loop *level, const char *name)
{
    dfg_reg *regs = dfg_grow(g->a, g->regs, g->n_regs, &g->cap_regs, sizeof *regs);
    if (!regs)
        return DFG_NONE;
    g->regs = regs;
    dfg_reg *r = &g->regs[g->n_regs];
    r->type = type;
    r->level = level;
    r->def_op = DFG_NONE;
    r->name = name;
    return g->n_regs++;
}

dfg_op *dfg_new_op(dfg *g, dfg_opcode code, pat_elem type)
{
    dfg_op **ops = dfg_grow(g->a, g->ops, g->n_ops, &g->cap_ops, sizeof *ops);
    dfg_op *op = arena_alloc(g->a, sizeof *op);
    if (!ops || !op)
        return NULL;
    g->ops = ops;
    op->code = code;
    op->type = type;
    op->dst = op->a = op->b = op->c = op->pred = op->guard = DFG_NONE;
    op->mem = DFG_NONE;
    op->unit = DFG_NONE;
    op->id = g->n_ops;
    g->ops[g->n_ops++] = op;
    return op;
}

int dfg_block_add(dfg *g, dfg_block *b, dfg_stmt s)
{
    dfg_stmt *grown = dfg_grow(g->a, b->s, b->n, &b->cap, sizeof *grown);
    if (!grown)
        return -1;
    b->s = grown;
    b->s[b->n++] = s;
    return 0;
}

int dfg_new_unit(dfg *g, dfg_unit_kind kind, const char *name)
{
    dfg_unit *units = dfg_grow(g->a, g->units, g->n_units, &g->cap_units, sizeof *units);
    if (!units)
        return DFG_NONE;
    g->units = units;
    dfg_unit *u = &g->units[g->n_units];
    memset(u, 0, sizeof *u);
    u->kind = kind;
    u->name = name;
    u->mem = DFG_NONE;
    u->def = DFG_NONE;
    switch (kind) {
    case DFG_VPCU: g->n_pcus++; break;
    case DFG_VPMU: g->n_pmus++; break;
    case DFG_VAG: g->n_ags++; break;
    }
    return g->n_units++;
}

int dfg_new_stream(dfg *g, dfg_stream_kind kind, int src, int dst, int reg, double width)
{
    dfg_stream *s = dfg_grow(g->a, g->streams, g->n_streams, &g->cap_streams, sizeof *s);
    if (!s)
        return DFG_NONE;
    g->streams = s;
    dfg_stream *st = &g->streams[g->n_streams];
    st->kind = kind;
    st->src = src;
    st->dst = dst;
    st->reg = reg;
    st->width = width;
    st->hops = 0;
    return g->n_streams++;
}

/* DFG_OPCODES: keep in the order of dfg_opcode. */
static const char *const op_names[DFG_N_OPCODES] = {
    "const", "copy", "add", "sub", "mul", "div", "mod", "neg",
    "lt", "le", "gt", "ge", "eq", "ne", "land", "lnot",
    "exp", "log", "sqrt", "tanh", "abs", "max", "min",
    "tof32", "toi32", "select", "load", "store", "rmw", "check",
};

const char *dfg_op_name(dfg_opcode c)
{
    return (unsigned)c < DFG_N_OPCODES ? op_names[c] : "?";
}

bool dfg_op_is_lane(dfg_opcode c)
{
    switch (c) {
    case DFG_CONST:
    case DFG_COPY:
    case DFG_LOAD:
    case DFG_STORE:
    case DFG_RMW:
    case DFG_CHECK:
    case DFG_N_OPCODES:
        return false;
    default:
        return true;
    }
}

const char *dfg_unit_kind_name(dfg_unit_kind k)
{
    switch (k) {
    case DFG_VPCU: return "VPCU";
    case DFG_VPMU: return "VPMU";
    case DFG_VAG: return "VAG";
    }
    return "?";
}
