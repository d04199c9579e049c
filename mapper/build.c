/*
 * build.c — from the loop program to units and streams (layer 3 of dfg.h).
 *
 *  - Every memory that some operation touches is a VPMU; inputs and
 *    outputs also get a VAG (a DRAM load or store stream through an AGCU).
 *  - The lane operations directly inside one loop, plus one stage per
 *    reduction it carries, form the pipeline of one VPCU.  The pipeline is
 *    cut greedily, in program order, into PCUs: a cut is made when the next
 *    operation would exceed the PCU's stages or its vector/scalar input
 *    ports.  Loads, stores and key checks run in the PMU of their memory;
 *    constants are immediates and counters are replicated in every unit's
 *    counter chain, so neither makes a stream.
 *  - A stream is a register produced in one unit and used in another: a
 *    vector stream when both ends work lane-parallel in the same innermost
 *    loop, a scalar stream otherwise (a value produced once per iteration
 *    of an outer loop: a reduction result, a dynamic bound, a let).  Memory
 *    traffic with DRAM adds a vector stream between each VAG and its VPMU.
 *  - A loop with two or more child loops is a meta-pipeline (unless turned
 *    off): its children are stages, and the scratch tiles they exchange
 *    are double-buffered.
 */
#include "mapper/dfg_internal.h"

#include <stdlib.h>
#include <string.h>

/* The unit producing register r, or DFG_NONE when the value is available
 * everywhere (a constant or a counter). */
static int producer_unit(const dfg *g, int r, const int *acc_unit)
{
    const dfg_reg *reg = &g->regs[r];
    if (reg->def_op == DFG_NONE)
        return acc_unit[r];  /* accumulator result, or counter (DFG_NONE) */
    const dfg_op *op = g->ops[reg->def_op];
    if (op->code == DFG_CONST)
        return DFG_NONE;
    return op->unit;
}

typedef struct builder {
    dfg *g;
    diag_list *d;
    int *acc_unit;         /* per register: the VPCU finishing it (accumulators) */
    int *last_use_chunk;   /* scratch for partitioning */
    int def;
    int failed;
} builder;

static const char *loop_path(dfg *g, const dfg_loop *lp, const char *def_name)
{
    if (!lp)
        return def_name;
    const char *parent = loop_path(g, lp->parent, def_name);
    return arena_printf(g->a, "%s.%s", parent, lp->label ? lp->label : "L");
}

/* Does op (a lane op in the chunk being formed) bring new inputs? Count the
 * distinct external registers it reads, as vector or scalar. */
static void op_inputs(const dfg *g, const dfg_op *op, int *regs, int *n)
{
    int cand[4] = {op->a, op->b, op->c, op->pred};
    for (int k = 0; k < 4; k++) {
        int r = cand[k];
        if (r == DFG_NONE)
            continue;
        const dfg_reg *reg = &g->regs[r];
        if (reg->def_op != DFG_NONE && g->ops[reg->def_op]->code == DFG_CONST)
            continue;
        /* counters are local; accumulator results are inputs */
        if (reg->def_op == DFG_NONE && reg->level && reg->level->counter == r)
            continue;
        regs[(*n)++] = r;
    }
}

static bool is_vector_reg(const dfg *g, int r)
{
    const dfg_loop *lv = g->regs[r].level;
    return lv && lv->innermost;
}

/* Form the VPCU partitions of the lane ops directly in block b (loop lp). */
static int form_vpcu(builder *B, dfg_loop *lp, dfg_block *b, const char *def_name)
{
    dfg *g = B->g;
    const fab_fabric *f = g->fab;
    int n_lane = 0;
    for (int k = 0; k < b->n; k++)
        if (!b->s[k].is_loop && dfg_op_is_lane(b->s[k].op->code))
            n_lane++;
    int n_acc = lp ? lp->n_acc : 0;
    if (n_lane == 0 && n_acc == 0)
        return 0;
    const char *base = loop_path(g, lp, def_name);
    int part = 0;
    int unit = DFG_NONE;
    int stages = 0;
    int in_regs[256];
    int n_vin = 0, n_sin = 0, n_in = 0;

    for (int k = 0; k <= b->n; k++) {
        const dfg_op *op = k < b->n && !b->s[k].is_loop ? b->s[k].op : NULL;
        bool is_acc_slot = k == b->n && n_acc > 0;
        if (k < b->n && (!op || !dfg_op_is_lane(op->code)))
            continue;
        if (k == b->n && !is_acc_slot)
            break;
        int need_stages = op ? 1 : n_acc;
        int cand[4];
        int nc = 0;
        if (op)
            op_inputs(g, op, cand, &nc);
        else
            for (int a = 0; a < n_acc && nc < 4; a++) {
                /* accumulated values from other chunks */
                int r = lp->acc[a].val;
                const dfg_reg *reg = &g->regs[r];
                if (reg->def_op != DFG_NONE && g->ops[reg->def_op]->unit == unit)
                    continue;
                cand[nc++] = r;
            }
        int add_v = 0, add_s = 0;
        for (int c = 0; c < nc; c++) {
            int r = cand[c];
            const dfg_reg *reg = &g->regs[r];
            if (reg->def_op != DFG_NONE && g->ops[reg->def_op]->unit == unit && unit != DFG_NONE)
                continue;  /* produced in this chunk */
            bool seen = false;
            for (int q = 0; q < n_in; q++)
                seen |= in_regs[q] == r;
            for (int q = 0; q < c; q++)
                seen |= cand[q] == r;
            if (seen)
                continue;
            if (is_vector_reg(g, r) && lp && lp->innermost)
                add_v++;
            else
                add_s++;
        }
        bool fresh = unit == DFG_NONE || stages + need_stages > f->stages ||
                     n_vin + add_v > f->vector_in || n_sin + add_s > f->scalar_in;
        if (fresh) {
            if (need_stages > f->stages) {
                B->failed = 1;
                return diag_error(B->d, diag_at_file(f->source),
                                  "pipeline '%s' carries %d reductions but a PCU has %d stages",
                                  base, n_acc, f->stages);
            }
            if (add_v > f->vector_in || add_s > f->scalar_in) {
                B->failed = 1;
                return diag_error(B->d, op ? op->loc : diag_at_file(f->source),
                                  "operation '%s' in '%s' needs %d vector and %d scalar inputs; "
                                  "a PCU has %d vector and %d scalar input ports",
                                  op ? dfg_op_name(op->code) : "reduce", base, add_v, add_s,
                                  f->vector_in, f->scalar_in);
            }
            const char *name = part == 0 ? base : arena_printf(g->a, "%s#%d", base, part);
            unit = dfg_new_unit(g, DFG_VPCU, name);
            if (unit == DFG_NONE)
                return diag_error(B->d, diag_at_file(f->source), "out of memory");
            g->units[unit].loop = lp;
            g->units[unit].part = part++;
            g->units[unit].def = B->def;
            if (lp && part == 1)
                lp->vpcu = unit;
            stages = n_vin = n_sin = n_in = 0;
            /* recount inputs for the fresh chunk */
            add_v = add_s = 0;
            for (int c = 0; c < nc; c++) {
                bool seen = false;
                for (int q = 0; q < c; q++)
                    seen |= cand[q] == cand[c];
                if (seen)
                    continue;
                if (is_vector_reg(g, cand[c]) && lp && lp->innermost)
                    add_v++;
                else
                    add_s++;
            }
        }
        for (int c = 0; c < nc && n_in < 256; c++) {
            bool seen = false;
            for (int q = 0; q < n_in; q++)
                seen |= in_regs[q] == cand[c];
            if (!seen)
                in_regs[n_in++] = cand[c];
        }
        n_vin += add_v;
        n_sin += add_s;
        stages += need_stages;
        g->units[unit].n_stages = stages;
        if (op)
            g->ops[op->id]->unit = unit;
        else {
            g->units[unit].reduces = true;
            for (int a = 0; a < n_acc; a++)
                B->acc_unit[lp->acc[a].reg] = unit;
        }
    }
    return 0;
}

static int form_block(builder *B, dfg_loop *lp, dfg_block *b, const char *def_name)
{
    if (form_vpcu(B, lp, b, def_name) != 0)
        return -1;
    int children = 0;
    for (int k = 0; k < b->n; k++) {
        if (!b->s[k].is_loop)
            continue;
        children++;
        if (form_block(B, b->s[k].loop, &b->s[k].loop->body, def_name) != 0)
            return -1;
    }
    if (lp)
        lp->metapipe = B->g->opts.metapipe && children >= 2;
    return 0;
}

/* Add a stream src -> dst carrying reg, unless it exists. */
static int add_stream(builder *B, int src, int dst, int reg, bool vector)
{
    dfg *g = B->g;
    if (src == DFG_NONE || dst == DFG_NONE || src == dst)
        return 0;
    for (int k = 0; k < g->n_streams; k++) {
        const dfg_stream *s = &g->streams[k];
        if (s->src == src && s->dst == dst && s->reg == reg)
            return 0;
    }
    dfg_stream_kind kind = vector ? DFG_STREAM_VECTOR : DFG_STREAM_SCALAR;
    if (dfg_new_stream(g, kind, src, dst, reg, vector ? g->opts.lanes : 1) == DFG_NONE) {
        B->failed = 1;
        return -1;
    }
    return 0;
}

/* Units that execute something inside loop lp's subtree (they all hold a
 * copy of lp's counter chain and need its dynamic bounds). */
static void collect_units(const dfg *g, const dfg_block *b, bool *mark)
{
    for (int k = 0; k < b->n; k++) {
        if (b->s[k].is_loop) {
            collect_units(g, &b->s[k].loop->body, mark);
            if (b->s[k].loop->n_acc)
                for (int u = 0; u < g->n_units; u++)
                    if (g->units[u].loop == b->s[k].loop && g->units[u].reduces)
                        mark[u] = true;
        } else if (b->s[k].op->unit != DFG_NONE)
            mark[b->s[k].op->unit] = true;
    }
}

static int uses_to_streams(builder *B, const dfg_block *b, dfg_loop *lp)
{
    dfg *g = B->g;
    for (int k = 0; k < b->n; k++) {
        if (b->s[k].is_loop) {
            dfg_loop *in = b->s[k].loop;
            if (uses_to_streams(B, &in->body, in) != 0)
                return -1;
            bool *mark = calloc((size_t)g->n_units + 1, sizeof *mark);
            if (!mark)
                return -1;
            collect_units(g, &in->body, mark);
            int ctl[3] = {in->lo, in->hi, in->pred};
            for (int u = 0; u < g->n_units; u++) {
                if (!mark[u])
                    continue;
                for (int c = 0; c < 3; c++)
                    if (ctl[c] != DFG_NONE &&
                        add_stream(B, producer_unit(g, ctl[c], B->acc_unit), u, ctl[c], false) != 0) {
                        free(mark);
                        return -1;
                    }
            }
            free(mark);
            for (int a = 0; a < in->n_acc; a++) {
                int fin = B->acc_unit[in->acc[a].reg];
                int src[2] = {in->acc[a].val, in->acc[a].pred};
                for (int c = 0; c < 2; c++)
                    if (src[c] != DFG_NONE &&
                        add_stream(B, producer_unit(g, src[c], B->acc_unit), fin, src[c],
                                   in->innermost && is_vector_reg(g, src[c])) != 0)
                        return -1;
            }
            continue;
        }
        const dfg_op *op = b->s[k].op;
        if (op->unit == DFG_NONE)
            continue;
        int ops_in[4 + PAT_MAX_RANK];
        int n = 0;
        ops_in[n++] = op->a;
        ops_in[n++] = op->b;
        ops_in[n++] = op->c;
        ops_in[n++] = op->pred;
        if (op->mem != DFG_NONE)
            for (int q = 0; q < op->n_idx; q++)
                ops_in[n++] = op->idx[q];
        for (int q = 0; q < n; q++) {
            int r = ops_in[q];
            if (r == DFG_NONE)
                continue;
            bool vec = lp && lp->innermost && is_vector_reg(g, r);
            if (add_stream(B, producer_unit(g, r, B->acc_unit), op->unit, r, vec) != 0)
                return -1;
        }
    }
    return 0;
}

static void mark_metapipe_buffers(dfg *g, const dfg_block *b, bool inside)
{
    for (int k = 0; k < b->n; k++) {
        if (b->s[k].is_loop) {
            const dfg_loop *lp = b->s[k].loop;
            mark_metapipe_buffers(g, &lp->body, inside || lp->metapipe);
        } else if (inside) {
            const dfg_op *op = b->s[k].op;
            if ((op->code == DFG_STORE || op->code == DFG_RMW) &&
                g->mems[op->mem].kind == DFG_MEM_SCRATCH)
                g->mems[op->mem].depth = 2;
        }
    }
}

int dfg_build_units(dfg *g, diag_list *d)
{
    const fab_fabric *f = g->fab;
    builder B = {.g = g, .d = d};
    B.acc_unit = malloc((size_t)(g->n_regs + 1) * sizeof *B.acc_unit);
    bool *touched = calloc((size_t)g->n_mems + 1, sizeof *touched);
    if (!B.acc_unit || !touched) {
        free(B.acc_unit);
        free(touched);
        return diag_error(d, diag_at_file(f->source), "out of memory");
    }
    for (int r = 0; r < g->n_regs; r++)
        B.acc_unit[r] = DFG_NONE;
    int rc = 0;

    /* VPCUs, loop by loop. */
    for (int k = 0; k < g->n_defs && rc == 0; k++) {
        B.def = k;
        rc = form_block(&B, NULL, &g->defs[k].body, g->defs[k].target->name);
    }

    /* VPMUs and VAGs for the memories in use; outputs always. */
    for (int k = 0; k < g->n_ops; k++)
        if (g->ops[k]->mem != DFG_NONE)
            touched[g->ops[k]->mem] = true;
    for (int m = 0; m < g->n_mems && rc == 0; m++) {
        dfg_mem *mem = &g->mems[m];
        if (mem->decl && mem->decl->kind == PAT_CONST)
            continue;
        if (!touched[m] && mem->kind != DFG_MEM_OUTPUT)
            continue;
        mem->vpmu = dfg_new_unit(g, DFG_VPMU, mem->name);
        g->units[mem->vpmu].mem = m;
        if (mem->kind == DFG_MEM_INPUT || mem->kind == DFG_MEM_OUTPUT) {
            bool store = mem->kind == DFG_MEM_OUTPUT;
            mem->vag = dfg_new_unit(g, DFG_VAG, arena_printf(g->a, "%s %s", store ? "store" : "load", mem->name));
            g->units[mem->vag].mem = m;
            g->units[mem->vag].store = store;
            if (store)
                add_stream(&B, mem->vpmu, mem->vag, DFG_NONE, true);
            else
                add_stream(&B, mem->vag, mem->vpmu, DFG_NONE, true);
        }
    }
    for (int k = 0; k < g->n_ops; k++) {
        dfg_op *op = g->ops[k];
        if (op->mem != DFG_NONE)
            op->unit = g->mems[op->mem].vpmu;
        else if (op->code == DFG_CHECK) {
            /* the key check runs in the PMU of the scatter that follows it */
            op->unit = DFG_NONE;
            for (int q = k + 1; q < g->n_ops; q++)
                if (g->ops[q]->code == DFG_RMW && g->ops[q]->idx[g->ops[q]->n_idx - 1] == op->a) {
                    op->unit = g->mems[g->ops[q]->mem].vpmu;
                    break;
                }
        }
    }
    for (int k = 0; k < g->n_defs && rc == 0; k++)
        rc = uses_to_streams(&B, &g->defs[k].body, NULL);
    for (int k = 0; k < g->n_defs; k++)
        mark_metapipe_buffers(g, &g->defs[k].body, false);

    /* Port counts per unit. */
    for (int s = 0; s < g->n_streams; s++) {
        const dfg_stream *st = &g->streams[s];
        bool vec = st->kind == DFG_STREAM_VECTOR;
        dfg_unit *src = &g->units[st->src], *dst = &g->units[st->dst];
        /* one output port per distinct value, however many consumers */
        bool first = true;
        for (int q = 0; q < s; q++)
            if (g->streams[q].src == st->src && g->streams[q].reg == st->reg && st->reg != DFG_NONE)
                first = false;
        if (first) {
            if (vec)
                src->vec_out++;
            else
                src->scal_out++;
        }
        if (vec)
            dst->vec_in++;
        else
            dst->scal_in++;
    }
    free(B.acc_unit);
    free(touched);
    if (rc != 0 || B.failed)
        return -1;
    return 0;
}
