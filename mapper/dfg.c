/*
 * dfg.c — construction helpers and names for the dataflow graph.
 *
 * Arrays of the graph grow by doubling inside the arena (the old copy is
 * simply abandoned to the arena); the graph is built once per job, so the
 * waste is bounded by a factor of two.
 */
#include "mapper/dfg_internal.h"

#include <math.h>
#include <stdlib.h>
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
    u->base = g->n_units;
    u->replica = 0;
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
    st->src_reg = reg;
    st->net = -1;
    st->width = width;
    st->hops = 0;
    return g->n_streams++;
}

/* DFG_OPCODES: keep in the order of dfg_opcode. */
static const char *const op_names[DFG_N_OPCODES] = {
    "const", "copy", "add", "sub", "mul", "div", "mod", "neg",
    "lt", "le", "gt", "ge", "eq", "ne", "land", "lnot",
    "exp", "log", "sqrt", "tanh", "abs", "max", "min",
    "tof32", "toi32", "select", "shl", "bit", "load", "store", "rmw", "check",
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

int dfg_block_stages(const dfg_block *b, int *stage)
{
    int n = 0;
    for (int k = 0; k < b->n; k++)
        n += b->s[k].is_loop;
    int next = 0;
    for (int k = 0; k < b->n; k++) {
        stage[k] = next < n ? next : n - 1;
        if (b->s[k].is_loop)
            next++;
    }
    return n;
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

int dfg_mutate_op(dfg *g, int id, diag_list *d)
{
    if (id < 0 || id >= g->n_ops)
        return diag_error(d, diag_at_file("--mutate"), "there is no operation %d (the graph has %d)", id,
                          g->n_ops);
    dfg_op *op = g->ops[id];
    switch (op->code) {
    case DFG_ADD: op->code = DFG_SUB; return 0;
    case DFG_SUB: op->code = DFG_ADD; return 0;
    case DFG_MUL: op->code = DFG_ADD; return 0;
    case DFG_DIV: op->code = DFG_MUL; return 0;
    case DFG_MAX: op->code = DFG_MIN; return 0;
    case DFG_MIN: op->code = DFG_MAX; return 0;
    case DFG_LT: op->code = DFG_GE; return 0;
    case DFG_GE: op->code = DFG_LT; return 0;
    case DFG_GT: op->code = DFG_LE; return 0;
    case DFG_LE: op->code = DFG_GT; return 0;
    case DFG_EQ: op->code = DFG_NE; return 0;
    case DFG_NE: op->code = DFG_EQ; return 0;
    case DFG_SHL: op->code = DFG_BIT; return 0;
    case DFG_BIT: op->code = DFG_SHL; return 0;
    case DFG_CONST:
        if (op->type == PAT_F32)
            op->imm.f += 1.0f;
        else
            op->imm.i += 1;
        return 0;
    default:
        return diag_error(d, diag_at_file("--mutate"), "operation %d (%s) has no twin to mutate into", id,
                          dfg_op_name(op->code));
    }
}

int dfg_mutate(dfg *g, const char *spec, diag_list *d)
{
    diag_loc at = diag_at_file("--mutate");
    const char *colon = strchr(spec, ':');
    size_t klen = colon ? (size_t)(colon - spec) : 0;
    const char *arg = colon ? colon + 1 : spec;
    char *end;
    long n = strtol(arg, &end, 10);
    bool numeric = *arg && !*end && n >= 0 && n <= 1000000000;
    if (!colon || (klen == 2 && !strncmp(spec, "op", 2))) {
        if (!numeric)
            return diag_error(d, at, "'%s' is not an operation number", arg);
        return dfg_mutate_op(g, (int)n, d);
    }
    if (klen == 6 && !strncmp(spec, "stream", 6)) {
        if (!numeric || n >= g->n_streams)
            return diag_error(d, at, "there is no stream %s (the graph has %d)", arg, g->n_streams);
        dfg_stream *s = &g->streams[n];
        const dfg_unit *su = &g->units[s->src];
        for (int t = 0; t < g->n_streams; t++) {
            const dfg_stream *o = &g->streams[t];
            const dfg_unit *ou = &g->units[o->src];
            if (t == n || o->kind != s->kind || o->src == s->src || ou->kind != su->kind)
                continue;
            if ((o->reg == DFG_NONE) != (s->reg == DFG_NONE))
                continue;
            if (s->reg != DFG_NONE && (g->regs[o->src_reg].level != g->regs[s->reg].level ||
                                       g->regs[o->src_reg].type != g->regs[s->reg].type))
                continue;
            if (s->reg == DFG_NONE && (ou->store != su->store || g->mems[ou->mem].type.elem != g->mems[su->mem].type.elem))
                continue;
            s->src = o->src;
            s->src_reg = o->src_reg;
            return 0;
        }
        return diag_error(d, at, "stream %ld has no other source of the same kind and rate to be wired to", n);
    }
    if (klen == 7 && !strncmp(spec, "replica", 7)) {
        int hit = 0;
        for (int l = 0; l < g->n_loops; l++) {
            dfg_loop *lp = g->loops[l];
            if (lp->par > 1 && numeric && n < lp->par) {
                lp->chunk[2 * n + 1] = lp->chunk[2 * n];
                hit++;
            }
        }
        if (!hit)
            return diag_error(d, at, "no parallel loop has a replica %s (map with --par)", arg);
        return 0;
    }
    bool part = klen == 9 && !strncmp(spec, "partition", 9), buf = klen == 6 && !strncmp(spec, "buffer", 6);
    if (part || buf) {
        for (int m = 0; m < g->n_mems; m++) {
            dfg_mem *mm = &g->mems[m];
            if (strcmp(mm->name, arg) != 0)
                continue;
            if (part) {
                if (!mm->partitioned || !mm->part_row || mm->copies < 2 || mm->part_row[1] + 1 >= mm->part_row[2])
                    return diag_error(d, at, "tensor '%s' is not partitioned over PMUs (map with --par)", arg);
                mm->part_row[1]++;
                return 0;
            }
            if (mm->depth < 2)
                return diag_error(d, at, "tile '%s' is not N-buffered", arg);
            mm->write_skew = 1;
            return 0;
        }
        return diag_error(d, at, "there is no tensor or tile '%s'", arg);
    }
    return diag_error(d, at, "'%s' is not a mutation: op:N, stream:N, partition:NAME, replica:N or buffer:NAME",
                      spec);
}

static int find_in_block(const dfg_block *b, dfg_opcode c)
{
    for (int k = 0; k < b->n; k++) {
        if (b->s[k].is_loop) {
            int r = find_in_block(&b->s[k].loop->body, c);
            if (r >= 0)
                return r;
        } else if (b->s[k].op->code == c)
            return b->s[k].op->id;
    }
    return -1;
}

int dfg_find_op(const dfg *g, const char *def, dfg_opcode c)
{
    for (int k = 0; k < g->n_defs; k++)
        if (!def || !strcmp(g->defs[k].target->name, def)) {
            int r = find_in_block(&g->defs[k].body, c);
            if (r >= 0 || def)
                return r;
        }
    return -1;
}

static void shared_in_block(const dfg *g, const dfg_block *b, const char **names, int *n, int max)
{
    for (int k = 0; k < b->n; k++) {
        if (b->s[k].is_loop) {
            shared_in_block(g, &b->s[k].loop->body, names, n, max);
            continue;
        }
        const dfg_op *op = b->s[k].op;
        if (op->unit == DFG_NONE || !g->units[op->unit].shared_by || op->mem == DFG_NONE)
            continue;
        const char *nm = g->mems[op->mem].name;
        bool seen = false;
        for (int q = 0; q < *n && !seen; q++)
            seen = !strcmp(names[q], nm);
        if (!seen && *n < max)
            names[(*n)++] = nm;
    }
}

int dfg_shared_loads(const dfg *g, int def, const char **names, int max)
{
    int n = 0;
    const dfg_loop *lp = def >= 0 && def < g->n_defs ? g->defs[def].par_loop : NULL;
    if (lp)
        shared_in_block(g, &lp->body, names, &n, max);
    return n;
}

/* Iterations of the loops from lp outwards for one replica: a vector
 * loop counts its vectors, a parallel loop one replica's chunk, a loop
 * of dynamic bounds one iteration (unknown before the data). */
static double level_iterations(const dfg *g, const dfg_loop *lp)
{
    double n = 1;
    int lanes = g->opts.lanes > 0 ? g->opts.lanes : 1;
    for (; lp; lp = lp->parent) {
        double t = lp->trip > 0 ? lp->trip : 1;
        if (lp->par > 1)
            t = ceil(t / lp->par);
        if (lp->innermost)
            t = ceil(t / lanes);
        n *= t;
    }
    return n;
}

double dfg_stream_entries(const dfg *g, int s)
{
    const dfg_stream *st = &g->streams[s];
    if (st->reg != DFG_NONE)
        return level_iterations(g, g->regs[st->reg].level);
    /* a tensor filled from DRAM or drained to it: its vectors */
    const dfg_unit *u = g->units[st->dst].kind == DFG_VPMU ? &g->units[st->dst] : &g->units[st->src];
    if (u->mem == DFG_NONE)
        return 1;
    const dfg_mem *m = &g->mems[u->mem];
    double words = (double)(m->copy_bytes > 0 ? m->copy_bytes : m->bytes) / 4;
    double v = ceil(words / (g->opts.lanes > 0 ? g->opts.lanes : 1));
    return v > 1 ? v : 1;
}

void dfg_stream_weights(const dfg *g, double *w)
{
    /* every stream holds a track on each link of its route, whatever it
     * carries (the floor, an eighth of the busiest stream's entries), and
     * the entries it carries cross each of those links: a pipeline's
     * operand streams are kept short before a fill that runs once.  The
     * eighth was measured on the examples (docs/placement.md): without a
     * floor, fills spread until Plasticine's two vector tracks at its
     * edge overflow; with flat weights, a scatter from one AGCU pulls
     * its PMUs halfway from the PCUs that read them every cycle. */
    double emax = 1;
    for (int s = 0; s < g->n_streams; s++) {
        w[s] = dfg_stream_entries(g, s);
        if (w[s] > emax)
            emax = w[s];
    }
    for (int s = 0; s < g->n_streams; s++)
        w[s] += emax / 8;
}
