/*
 * build.c — from the loop program to units and streams (layer 3 of dfg.h).
 *
 *  - Every memory that some operation touches is a VPMU; inputs and
 *    outputs also get a VAG (a DRAM load or store stream through an AGCU).
 *    A memory resident in DRAM (larger than a PMU, lower.c) has no VPMU:
 *    its VAG runs its loads and stores, address arithmetic included.
 *  - The lane operations directly inside one loop, plus one stage per
 *    reduction it carries, form the pipeline of one VPCU.  The pipeline is
 *    cut greedily, in program order, into PCUs: a cut is made when the next
 *    operation would exceed the PCU's stages or its vector/scalar input
 *    ports.  Loads, stores and key checks run in the PMU of their memory;
 *    constants are immediates and counters are replicated in every unit's
 *    counter chain, so neither makes a stream.  An operation that only
 *    computes addresses runs in its memory's PMU (or AGCU), and one whose
 *    result addresses several memories (a tile offset) is copied into
 *    each of them rather than run in a PCU of its own and streamed.
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
#include "util/alloc.h"

#include <stdio.h>
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
    int *loop_of_reg;      /* per register: the loop whose counter or reduction it is, or -1 */
    int *addr_mem;         /* per op: the memory whose address it computes in that memory's
                            * PMU (an address-only operation), or DFG_NONE */
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

static bool is_vector_reg(const dfg *g, int r)
{
    const dfg_loop *lv = g->regs[r].level;
    return lv && lv->innermost;
}

/* Is register r an input a unit must receive (not a constant, not a
 * counter of its own chain)? */
static bool needs_stream(const dfg *g, int r)
{
    if (r == DFG_NONE)
        return false;
    const dfg_reg *reg = &g->regs[r];
    if (reg->def_op != DFG_NONE)
        return g->ops[reg->def_op]->code != DFG_CONST;
    return !(reg->level && reg->level->counter == r);
}

/* The lane operations of one loop body, plus a pseudo-operation at the end
 * for the reductions the loop carries (one stage each, on the lane tree). */
typedef struct pipeline {
    int n;                 /* items: lane ops, then the reduction pseudo-op if any */
    const dfg_op **op;     /* NULL for the reduction pseudo-op */
    int *stages;
    int (*in)[4];          /* input registers of each item (DFG_NONE padded) */
    bool *used_outside;    /* per register: read by something that is not a lane op of this body */
    int chain_inputs;      /* scalar inputs every PCU of it needs for its counter chain:
                            * the dynamic bounds and guards of its loop and the loops around it */
} pipeline;

/* Count the ports of the chunk [j, i) of the pipeline. */
static void chunk_ports(const dfg *g, const pipeline *pl, const dfg_loop *lp, int j, int i, int ports[4])
{
    /* ports: vector in, scalar in, vector out, scalar out */
    int seen_in[64], n_seen = 0;
    ports[0] = ports[1] = ports[2] = ports[3] = 0;
    bool vec_loop = lp && lp->innermost;
    for (int k = j; k < i; k++)
        for (int q = 0; q < 4; q++) {
            int r = pl->in[k][q];
            if (!needs_stream(g, r))
                continue;
            bool inside = false;
            for (int m = j; m < i && !inside; m++)
                inside = pl->op[m] && pl->op[m]->dst == r;
            bool dup = false;
            for (int m = 0; m < n_seen && !dup; m++)
                dup = seen_in[m] == r;
            if (inside || dup)
                continue;
            if (n_seen < 64)
                seen_in[n_seen++] = r;
            ports[vec_loop && is_vector_reg(g, r) ? 0 : 1]++;
        }
    for (int k = j; k < i; k++) {
        const dfg_op *op = pl->op[k];
        if (!op)
            continue;
        int r = op->dst;
        bool out = pl->used_outside[r];
        for (int m = 0; m < pl->n && !out; m++) {
            if (m >= j && m < i)
                continue;
            for (int q = 0; q < 4; q++)
                out |= pl->in[m][q] == r;
        }
        if (out)
            ports[vec_loop && is_vector_reg(g, r) ? 2 : 3]++;
    }
    if (i == pl->n && !pl->op[pl->n - 1])
        ports[3] += lp->n_acc;  /* reduction results leave as scalars */
    ports[1] += pl->chain_inputs;
}

/* The last item of pipeline pl that register r depends on through other
 * units (a load whose index the pipeline computed, a reduction whose guard
 * it computed, ...), or -1.  A PCU reads its inputs at the head of its
 * pipeline: an item that needs such a value cannot share a PCU with the
 * items it depends on, or the PCU would wait for its own round trip.
 * memo[r]: -2 not computed yet. */
static int dep_max(const builder *B, const pipeline *pl, int r, int *memo, int depth)
{
    const dfg *g = B->g;
    if (r == DFG_NONE)
        return -1;
    if (memo[r] != -2)
        return memo[r];
    int best = -1;
    for (int m = 0; m < pl->n; m++)
        if (pl->op[m] && pl->op[m]->dst == r) {
            memo[r] = m;
            return m;
        }
    if (depth > 12)
        return -1;
    int rs[4 + PAT_MAX_RANK + 16];
    int n = 0;
    int def = g->regs[r].def_op;
    if (def != DFG_NONE) {
        const dfg_op *op = g->ops[def];
        if (op->code != DFG_CONST) {
            rs[n++] = op->a;
            rs[n++] = op->b;
            rs[n++] = op->c;
            rs[n++] = op->pred;
            for (int q = 0; q < op->n_idx; q++)
                rs[n++] = op->idx[q];
        }
    } else if (B->loop_of_reg[r] >= 0 && g->loops[B->loop_of_reg[r]]->counter != r) {
        const dfg_loop *K = g->loops[B->loop_of_reg[r]];
        n += dfg_loop_ctl(K, rs + n);
        for (int a = 0; a < K->n_acc && n < 4 + PAT_MAX_RANK + 14; a++) {
            rs[n++] = K->acc[a].val;
            rs[n++] = K->acc[a].pred;
        }
    }
    for (int q = 0; q < n; q++) {
        int v = dep_max(B, pl, rs[q], memo, depth + 1);
        if (v > best)
            best = v;
    }
    memo[r] = best;
    return best;
}

/* Form the VPCUs of the lane ops directly in block b (loop lp): the fewest
 * PCUs, each a contiguous run of the pipeline within the PCU's stages and
 * its four port limits, by dynamic programming over the cut points. */
static int form_vpcu(builder *B, dfg_loop *lp, dfg_block *b, const char *def_name)
{
    dfg *g = B->g;
    const fab_fabric *f = g->fab;
    int n_lane = 0;
    for (int k = 0; k < b->n; k++)
        if (!b->s[k].is_loop && dfg_op_is_lane(b->s[k].op->code) && B->addr_mem[b->s[k].op->id] == DFG_NONE)
            n_lane++;
    int n_acc = lp ? lp->n_acc : 0;
    if (n_lane == 0 && n_acc == 0)
        return 0;
    /* A pipeline outside every loop (a scalar definition) is named apart
     * from the VPMU that holds the definition's value. */
    const char *base = lp ? loop_path(g, lp, def_name) : arena_printf(g->a, "%s.scalar", def_name);
    /* Sibling loops share index names (softmax's three `j` loops): keep
     * every unit's name unique, since placements are saved by name. */
    for (int u = 0, k = 2; u < g->n_units; u++)
        if (!strcmp(g->units[u].name, base)) {
            base = arena_printf(g->a, "%s~%d", lp ? loop_path(g, lp, def_name) : def_name, k++);
            u = -1;
        }
    int n = n_lane + (n_acc > 0);
    pipeline pl = {.n = n};
    pl.op = xcalloc((size_t)n, sizeof *pl.op);
    pl.stages = xcalloc((size_t)n, sizeof *pl.stages);
    pl.in = xcalloc((size_t)n, sizeof *pl.in);
    pl.used_outside = xcalloc((size_t)g->n_regs + 1, sizeof *pl.used_outside);
    int *best = xcalloc((size_t)n + 1, sizeof *best);
    int *from = xcalloc((size_t)n + 1, sizeof *from);
    int *memo = xmalloc(((size_t)g->n_regs + 1) * sizeof *memo);
    int *need_cut = xcalloc((size_t)n + 1, sizeof *need_cut);
    int rc = -1;
    if (!pl.op || !pl.stages || !pl.in || !pl.used_outside || !best || !from || !memo || !need_cut) {
        diag_error(B->d, diag_at_file(f->source), "out of memory");
        goto out;
    }
    int m = 0;
    for (int k = 0; k < b->n; k++) {
        if (b->s[k].is_loop || !dfg_op_is_lane(b->s[k].op->code) || B->addr_mem[b->s[k].op->id] != DFG_NONE)
            continue;
        const dfg_op *op = b->s[k].op;
        pl.op[m] = op;
        pl.stages[m] = 1;
        int cand[4] = {op->a, op->b, op->c, op->pred};
        memcpy(pl.in[m], cand, sizeof cand);
        m++;
    }
    if (n_acc > 0) {
        pl.op[m] = NULL;
        pl.stages[m] = n_acc;
        for (int q = 0; q < 4; q++)
            pl.in[m][q] = DFG_NONE;
        for (int a = 0, q = 0; a < n_acc && q < 4; a++) {
            pl.in[m][q++] = lp->acc[a].val;
            if (lp->acc[a].pred != DFG_NONE && q < 4)
                pl.in[m][q++] = lp->acc[a].pred;
        }
    }
    /* Registers read by anything other than this body's lane ops: memory
     * ops, nested loops, other loops' reductions, the enclosing levels. */
    for (int k = 0; k < g->n_ops; k++) {
        const dfg_op *op = g->ops[k];
        bool mine = false;
        for (int q = 0; q < n_lane && !mine; q++)
            mine = pl.op[q] == op;
        if (mine)
            continue;
        int rs[4 + PAT_MAX_RANK] = {op->a, op->b, op->c, op->pred};
        int nr = 4;
        for (int q = 0; q < op->n_idx; q++)
            rs[nr++] = op->idx[q];
        for (int q = 0; q < nr; q++)
            if (rs[q] != DFG_NONE)
                pl.used_outside[rs[q]] = true;
    }
    for (int l = 0; l < g->n_loops; l++) {
        const dfg_loop *o = g->loops[l];
        int rs[DFG_LOOP_CTL];
        for (int q = 0; q < dfg_loop_ctl(o, rs); q++)
            if (rs[q] != DFG_NONE)
                pl.used_outside[rs[q]] = true;
        if (o != lp)
            for (int a = 0; a < o->n_acc; a++) {
                pl.used_outside[o->acc[a].val] = true;
                if (o->acc[a].pred != DFG_NONE)
                    pl.used_outside[o->acc[a].pred] = true;
            }
    }

    /* The counter chain: bounds and guards streamed in (as uses_to_streams
     * derives them), the same for every PCU of this pipeline. */
    {
        int seen[DFG_LOOP_CTL * 64], n_seen = 0;
        for (const dfg_loop *o = lp; o; o = o->parent) {
            int rs[DFG_LOOP_CTL];
            for (int q = 0; q < dfg_loop_ctl(o, rs); q++) {
                if (!needs_stream(g, rs[q]))
                    continue;
                bool dup = false;
                for (int k = 0; k < n_seen && !dup; k++)
                    dup = seen[k] == rs[q];
                if (!dup && n_seen < DFG_LOOP_CTL * 64)
                    seen[n_seen++] = rs[q];
            }
        }
        pl.chain_inputs = n_seen;
    }

    /* need_cut[k]: item k must start at or after this item (a round trip
     * through another unit). */
    for (int r = 0; r < g->n_regs; r++)
        memo[r] = -2;
    for (int k = 0; k < n; k++) {
        need_cut[k] = 0;
        for (int q = 0; q < 4; q++) {
            int r = pl.in[k][q];
            if (r == DFG_NONE)
                continue;
            bool inside = false;
            for (int q2 = 0; q2 < n && !inside; q2++)
                inside = pl.op[q2] && pl.op[q2]->dst == r;
            if (inside)
                continue;
            int dm = dep_max(B, &pl, r, memo, 0);
            if (dm >= 0 && dm + 1 > need_cut[k])
                need_cut[k] = dm + 1;
        }
    }

    /* best[i]: fewest PCUs for items [0, i); from[i]: where its last chunk starts. */
    const int limit[4] = {f->vector_in, f->scalar_in, f->vector_out, f->scalar_out};
    best[0] = 0;
    for (int i = 1; i <= n; i++) {
        best[i] = -1;
        int stages = 0;
        for (int j = i - 1; j >= 0; j--) {
            stages += pl.stages[j];
            if (stages > f->stages)
                break;
            if (best[j] < 0)
                continue;
            bool round_trip = false;
            for (int k = j; k < i && !round_trip; k++)
                round_trip = need_cut[k] > j;
            if (round_trip)
                continue;
            int ports[4];
            chunk_ports(g, &pl, lp, j, i, ports);
            bool fits = true;
            for (int q = 0; q < 4; q++)
                fits &= ports[q] <= limit[q];
            if (fits && (best[i] < 0 || best[j] + 1 < best[i])) {
                best[i] = best[j] + 1;
                from[i] = j;
            }
        }
        if (best[i] < 0) {
            /* Nothing ending at item i fits: explain with the item alone. */
            int ports[4];
            chunk_ports(g, &pl, lp, i - 1, i, ports);
            const dfg_op *op = pl.op[i - 1];
            B->failed = 1;
            char chain[96] = "";
            if (pl.chain_inputs)
                snprintf(chain, sizeof chain, " (%d of them the dynamic bounds and guards of its loops)",
                         pl.chain_inputs);
            diag_error(B->d, op ? op->loc : diag_at_file(f->source),
                       "pipeline '%s' cannot be cut to fit a PCU: its %s needs %d stage%s, "
                       "%d vector and %d scalar inputs%s, %d vector and %d scalar outputs; a PCU has "
                       "%d stages, %d+%d inputs and %d+%d outputs",
                       base, op ? dfg_op_name(op->code) : "reduction", pl.stages[i - 1],
                       pl.stages[i - 1] == 1 ? "" : "s", ports[0], ports[1], chain, ports[2], ports[3],
                       f->stages, f->vector_in, f->scalar_in, f->vector_out, f->scalar_out);
            goto out;
        }
    }
    /* Walk the cuts back to front, then create the units front to back. */
    int n_chunks = best[n];
    int *cut = xcalloc((size_t)n_chunks + 1, sizeof *cut);
    if (!cut) {
        diag_error(B->d, diag_at_file(f->source), "out of memory");
        goto out;
    }
    for (int i = n, c = n_chunks; c > 0; c--) {
        cut[c] = i;
        i = from[i];
    }
    cut[0] = 0;
    for (int c = 0; c < n_chunks; c++) {
        const char *name = c == 0 ? base : arena_printf(g->a, "%s#%d", base, c);
        int unit = dfg_new_unit(g, DFG_VPCU, name);
        if (unit == DFG_NONE) {
            free(cut);
            diag_error(B->d, diag_at_file(f->source), "out of memory");
            goto out;
        }
        dfg_unit *u = &g->units[unit];
        u->loop = lp;
        u->part = c;
        u->def = B->def;
        if (lp && c == 0)
            lp->vpcu = unit;
        for (int k = cut[c]; k < cut[c + 1]; k++) {
            u->n_stages += pl.stages[k];
            if (pl.op[k])
                g->ops[pl.op[k]->id]->unit = unit;
            else {
                u->reduces = true;
                for (int a = 0; a < n_acc; a++)
                    B->acc_unit[lp->acc[a].reg] = unit;
            }
        }
    }
    free(cut);
    rc = 0;
out:
    free(pl.op);
    free(pl.stages);
    free(pl.in);
    free(pl.used_outside);
    free(best);
    free(from);
    free(memo);
    free(need_cut);
    return rc;
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
            bool *mark = xcalloc((size_t)g->n_units + 1, sizeof *mark);
            if (!mark)
                return -1;
            collect_units(g, &in->body, mark);
            /* the unit finishing its own reductions runs its counter chain too */
            if (in->n_acc)
                for (int u = 0; u < g->n_units; u++)
                    if (g->units[u].loop == in && g->units[u].reduces)
                        mark[u] = true;
            int ctl[DFG_LOOP_CTL];
            dfg_loop_ctl(in, ctl);
            for (int u = 0; u < g->n_units; u++) {
                if (!mark[u])
                    continue;
                for (int c = 0; c < DFG_LOOP_CTL; c++)
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

/* Accesses of scratch tiles in the subtree of block b: per memory, the
 * earliest stage writing it and the latest stage reading it. */
static void stage_accesses(const dfg *g, const dfg_block *b, int stage, int *first_write, int *last_read,
                           int *count)
{
    for (int k = 0; k < b->n; k++) {
        if (b->s[k].is_loop) {
            stage_accesses(g, &b->s[k].loop->body, stage, first_write, last_read, count);
            continue;
        }
        const dfg_op *op = b->s[k].op;
        if (op->mem == DFG_NONE || g->mems[op->mem].kind != DFG_MEM_SCRATCH)
            continue;
        count[op->mem]++;
        if (op->code == DFG_LOAD || op->code == DFG_RMW)
            if (last_read[op->mem] < stage)
                last_read[op->mem] = stage;
        if (op->code == DFG_STORE || op->code == DFG_RMW)
            if (first_write[op->mem] < 0 || first_write[op->mem] > stage)
                first_write[op->mem] = stage;
    }
}

int dfg_buffer_depths(const dfg *g, int *depth, int *rotate)
{
    int *fw = xmalloc(((size_t)g->n_mems + 1) * sizeof *fw);
    int *lr = xmalloc(((size_t)g->n_mems + 1) * sizeof *lr);
    int *total = xcalloc((size_t)g->n_mems + 1, sizeof *total);
    int *inside = xcalloc((size_t)g->n_mems + 1, sizeof *inside);
    int *stage = NULL;
    int rc = -1;
    if (!fw || !lr || !total || !inside)
        goto out;
    for (int m = 0; m < g->n_mems; m++) {
        depth[m] = 1;
        rotate[m] = -1;
    }
    for (int k = 0; k < g->n_ops; k++)
        if (g->ops[k]->mem != DFG_NONE)
            total[g->ops[k]->mem]++;
    /* Loops in creation order: outer loops before the loops inside them,
     * so the innermost meta-pipeline separating a write from its read wins. */
    for (int l = 0; l < g->n_loops; l++) {
        const dfg_loop *lp = g->loops[l];
        if (!lp->metapipe)
            continue;
        free(stage);
        stage = xmalloc(((size_t)lp->body.n + 1) * sizeof *stage);
        if (!stage)
            goto out;
        dfg_block_stages(&lp->body, stage);
        for (int m = 0; m < g->n_mems; m++) {
            fw[m] = lr[m] = -1;
            inside[m] = 0;
        }
        for (int k = 0; k < lp->body.n; k++) {
            dfg_block one = {.n = 1, .cap = 1, .s = &lp->body.s[k]};
            stage_accesses(g, &one, stage[k], fw, lr, inside);
        }
        /* Only a tile that lives within one iteration (every access to it
         * inside this loop's body) is private to an iteration and can be
         * N-buffered; one that outlives the iteration (filled before the
         * loop, read after it) must stay one copy. */
        for (int m = 0; m < g->n_mems; m++)
            if (fw[m] >= 0 && lr[m] > fw[m] && inside[m] == total[m]) {
                depth[m] = lr[m] - fw[m] + 1;
                rotate[m] = lp->id;
            }
    }
    rc = 0;
out:
    free(fw);
    free(lr);
    free(total);
    free(inside);
    free(stage);
    return rc;
}

/* An operation that computes addresses for several memories — a tile's
 * offset that the loads of A and B both add — would run in a PCU of its
 * own and stream its result to each memory's PMU or AGCU.  Each memory's
 * address pipeline computes it instead: the operation is copied, once per
 * memory, next to itself (its copies read the same operands), and each
 * memory's accesses use their own copy; find_address_ops then puts each
 * copy in its memory's unit.  Ops are renumbered in program order after.
 * Returns 0, or -1 out of memory. */
enum { ADDR_MAX_MEMS = 8 };

static int block_of_op(dfg_block *b, const dfg_op *op, dfg_block **out, int *at)
{
    for (int k = 0; k < b->n; k++) {
        if (b->s[k].is_loop) {
            if (block_of_op(&b->s[k].loop->body, op, out, at))
                return 1;
        } else if (b->s[k].op == op) {
            *out = b;
            *at = k;
            return 1;
        }
    }
    return 0;
}

static void renumber_block(dfg *g, const dfg_block *b, int *next)
{
    for (int k = 0; k < b->n; k++) {
        if (b->s[k].is_loop) {
            renumber_block(g, &b->s[k].loop->body, next);
            continue;
        }
        dfg_op *op = b->s[k].op;
        op->id = (*next)++;
        g->ops[op->id] = op;
        if (op->dst != DFG_NONE)
            g->regs[op->dst].def_op = op->id;
    }
}

static int copy_shared_address_ops(dfg *g)
{
    int n0 = g->n_ops;
    /* per register: the memories whose addresses alone it feeds (n_set
     * -1: some other use) */
    int (*set)[ADDR_MAX_MEMS] = xcalloc((size_t)g->n_regs + 1, sizeof *set);
    int *n_set = xcalloc((size_t)g->n_regs + 1, sizeof *n_set);
    int *tag = xmalloc(((size_t)n0 * ADDR_MAX_MEMS + 1) * sizeof *tag);  /* per op (and copy): its memory */
    int n_copies = 0, rc = -1;
    if (!set || !n_set || !tag)
        goto out;
#define MIXED(r)                      \
    do {                              \
        if ((r) != DFG_NONE)          \
            n_set[(r)] = -1;          \
    } while (0)
    for (int l = 0; l < g->n_loops; l++) {
        const dfg_loop *lp = g->loops[l];
        int rs[DFG_LOOP_CTL];
        dfg_loop_ctl(lp, rs);
        for (int i = 0; i < DFG_LOOP_CTL; i++)
            MIXED(rs[i]);
        for (int a = 0; a < lp->n_acc; a++) {
            MIXED(lp->acc[a].val);
            MIXED(lp->acc[a].pred);
        }
    }
    for (int k = n0 - 1; k >= 0; k--) {
        const dfg_op *op = g->ops[k];
        bool is_mem = op->code == DFG_LOAD || op->code == DFG_STORE || op->code == DFG_RMW;
        bool addr = !is_mem && dfg_op_is_lane(op->code) && op->dst != DFG_NONE && n_set[op->dst] > 0;
        int rs[3] = {op->a, op->b, op->c};
        for (int i = 0; i < 3; i++) {
            int r = rs[i];
            if (r == DFG_NONE || n_set[r] < 0)
                continue;
            if (!addr) {
                n_set[r] = -1;
                continue;
            }
            for (int q = 0; q < n_set[op->dst] && n_set[r] >= 0; q++) {
                int m = set[op->dst][q];
                bool have = false;
                for (int j = 0; j < n_set[r] && !have; j++)
                    have = set[r][j] == m;
                if (!have) {
                    if (n_set[r] == ADDR_MAX_MEMS)
                        n_set[r] = -1;
                    else
                        set[r][n_set[r]++] = m;
                }
            }
        }
        MIXED(op->pred);
        if (op->code == DFG_CHECK)
            MIXED(op->a);
        for (int q = 0; q < op->n_idx; q++) {
            int r = op->idx[q];
            if (r == DFG_NONE || n_set[r] < 0 || !is_mem)
                continue;
            bool have = false;
            for (int j = 0; j < n_set[r] && !have; j++)
                have = set[r][j] == op->mem;
            if (!have) {
                if (n_set[r] == ADDR_MAX_MEMS)
                    n_set[r] = -1;
                else
                    set[r][n_set[r]++] = op->mem;
            }
        }
    }
#undef MIXED
    /* Tags: a memory access is its memory's; an address op of one memory
     * that memory's; -1 otherwise (copies get theirs as they are made). */
    for (int k = 0; k < n0; k++) {
        const dfg_op *op = g->ops[k];
        bool is_mem = op->code == DFG_LOAD || op->code == DFG_STORE || op->code == DFG_RMW;
        tag[k] = is_mem ? op->mem : -1;
        if (!is_mem && dfg_op_is_lane(op->code) && op->dst != DFG_NONE && n_set[op->dst] >= 1)
            tag[k] = set[op->dst][0];
    }
    /* Users first: by the time an op is copied, each of its users has one
     * memory. */
    for (int k = n0 - 1; k >= 0; k--) {
        dfg_op *op = g->ops[k];
        bool is_mem = op->code == DFG_LOAD || op->code == DFG_STORE || op->code == DFG_RMW;
        if (is_mem || !dfg_op_is_lane(op->code) || op->dst == DFG_NONE || n_set[op->dst] < 2)
            continue;
        dfg_block *b = NULL;
        int at = -1;
        for (int d = 0; d < g->n_defs && !b; d++)
            block_of_op(&g->defs[d].body, op, &b, &at);
        if (!b)
            continue;
        for (int q = 1; q < n_set[op->dst]; q++) {
            int m = set[op->dst][q];
            dfg_op *cp = dfg_new_op(g, op->code, op->type);
            if (!cp)
                goto out;
            int id = cp->id;
            *cp = *op;
            cp->id = id;
            cp->dst = dfg_new_reg(g, g->regs[op->dst].type, g->regs[op->dst].level, g->regs[op->dst].name);
            if (cp->dst == DFG_NONE)
                goto out;
            g->regs[cp->dst].def_op = id;
            tag[id] = m;
            n_copies++;
            /* next to the original: same level, same operands */
            if (dfg_block_add(g, b, (dfg_stmt){.op = cp}) != 0)
                goto out;
            memmove(&b->s[at + 1 + q], &b->s[at + q], (size_t)(b->n - 1 - (at + q)) * sizeof *b->s);
            b->s[at + q] = (dfg_stmt){.op = cp};
            /* the users of memory m read the copy */
            for (int u = 0; u < g->n_ops; u++) {
                dfg_op *us = g->ops[u];
                if (us == cp || tag[u] != m)
                    continue;
                if (us->a == op->dst)
                    us->a = cp->dst;
                if (us->b == op->dst)
                    us->b = cp->dst;
                if (us->c == op->dst)
                    us->c = cp->dst;
                for (int i = 0; i < us->n_idx; i++)
                    if (us->idx[i] == op->dst)
                        us->idx[i] = cp->dst;
            }
        }
    }
    if (n_copies) {
        int next = 0;
        for (int d = 0; d < g->n_defs; d++)
            renumber_block(g, &g->defs[d].body, &next);
    }
    rc = 0;
out:
    free(set);
    free(n_set);
    free(tag);
    return rc;
}

/* Operations that only compute addresses: each one's result is used only
 * as an index of one memory's accesses (or by other such operations for
 * the same memory).  They run in that memory's PMU, whose address
 * pipeline has `stages` stages as a PCU has (Plasticine's PMU carries a
 * scalar datapath for address calculation); a memory needing more keeps
 * them in its PCUs.  Fills B->addr_mem. */
static int find_address_ops(builder *B)
{
    dfg *g = B->g;
    int *use_mem = xmalloc(((size_t)g->n_regs + 1) * sizeof *use_mem);  /* -1 none yet, -2 mixed */
    int *count = xcalloc((size_t)g->n_mems + 1, sizeof *count);
    if (!use_mem || !count) {
        free(use_mem);
        free(count);
        return -1;
    }
    for (int r = 0; r < g->n_regs; r++)
        use_mem[r] = -1;
#define USE(r, m)                                                                   \
    do {                                                                            \
        int r_ = (r);                                                               \
        if (r_ != DFG_NONE)                                                         \
            use_mem[r_] = use_mem[r_] == -1 || use_mem[r_] == (m) ? (m) : -2;        \
    } while (0)
    /* Every use that is not an index is "mixed". */
    for (int l = 0; l < g->n_loops; l++) {
        const dfg_loop *lp = g->loops[l];
        USE(lp->lo, -2);
        USE(lp->hi, -2);
        USE(lp->pred, -2);
        USE(lp->scan, -2);
        for (int a = 0; a < lp->n_acc; a++) {
            USE(lp->acc[a].val, -2);
            USE(lp->acc[a].pred, -2);
        }
    }
    /* Users come after their definitions: walk backwards. */
    for (int k = g->n_ops - 1; k >= 0; k--) {
        const dfg_op *op = g->ops[k];
        bool is_mem = op->code == DFG_LOAD || op->code == DFG_STORE || op->code == DFG_RMW;
        int as = -2;
        if (!is_mem && dfg_op_is_lane(op->code) && op->dst != DFG_NONE && use_mem[op->dst] >= 0 &&
            count[use_mem[op->dst]] < g->fab->stages)
            as = use_mem[op->dst];
        if (as >= 0) {
            B->addr_mem[k] = as;
            count[as]++;
        }
        int m = is_mem ? op->mem : as;
        USE(op->a, is_mem ? -2 : m);
        USE(op->b, is_mem ? -2 : m);
        USE(op->c, is_mem ? -2 : m);
        USE(op->pred, -2);
        for (int q = 0; q < op->n_idx; q++)
            USE(op->idx[q], is_mem ? op->mem : -2);
        if (op->code == DFG_CHECK)
            USE(op->a, -2);
    }
#undef USE
    free(use_mem);
    free(count);
    return 0;
}

/* How an index register varies across the lanes of innermost loop lp:
 * 2 for the counter plus or minus a lane-invariant value (unit stride),
 * 1 for any other lane-varying value (a gather, a scaled counter), 0 for a
 * value that is the same on every lane. */
static int lane_stride_class(const dfg *g, const dfg_loop *lp, int r)
{
    const dfg_reg *reg = &g->regs[r];
    if (reg->level != lp)
        return 0;
    if (r == lp->counter)
        return 2;
    if (reg->def_op == DFG_NONE)
        return 1;
    const dfg_op *op = g->ops[reg->def_op];
    if (op->code == DFG_ADD || op->code == DFG_SUB) {
        int a = lane_stride_class(g, lp, op->a), b = lane_stride_class(g, lp, op->b);
        if ((a == 2 && b == 0) || (op->code == DFG_ADD && a == 0 && b == 2))
            return 2;
    }
    return 1;
}

static void choose_banking_in(dfg *g, const dfg_block *b, const dfg_loop *lp, int *votes)
{
    for (int k = 0; k < b->n; k++) {
        if (b->s[k].is_loop) {
            choose_banking_in(g, &b->s[k].loop->body, b->s[k].loop, votes);
            continue;
        }
        const dfg_op *op = b->s[k].op;
        if (op->mem == DFG_NONE || !lp || !lp->innermost)
            continue;
        for (int q = 0; q < op->n_idx; q++)
            votes[op->mem * PAT_MAX_RANK + q] += lane_stride_class(g, lp, op->idx[q]);
    }
}

/* Bank every memory so that its lane-parallel accesses fall in distinct
 * banks: cyclically along the one dimension they vary in, or diagonally
 * (the sum of the indices) when different accesses vary in different
 * dimensions — rows in one loop, columns in another — which is
 * conflict-free for both.  The last dimension when no access is
 * lane-parallel. */
static int choose_banking(dfg *g)
{
    int *votes = xcalloc((size_t)g->n_mems * PAT_MAX_RANK + 1, sizeof *votes);
    if (!votes)
        return -1;
    for (int k = 0; k < g->n_defs; k++)
        choose_banking_in(g, &g->defs[k].body, NULL, votes);
    for (int m = 0; m < g->n_mems; m++) {
        dfg_mem *mem = &g->mems[m];
        mem->bank_dims = 0;
        for (int q = 0; q < mem->type.rank; q++)
            if (votes[m * PAT_MAX_RANK + q] > 0)
                mem->bank_dims |= 1u << q;
        if (!mem->bank_dims && mem->type.rank > 0)
            mem->bank_dims = 1u << (mem->type.rank - 1);
    }
    free(votes);
    return 0;
}

int dfg_build_units(dfg *g, diag_list *d)
{
    if (choose_banking(g) != 0 || copy_shared_address_ops(g) != 0)
        return diag_error(d, diag_at_file(g->fab->source), "out of memory");
    const fab_fabric *f = g->fab;
    builder B = {.g = g, .d = d};
    B.acc_unit = xmalloc((size_t)(g->n_regs + 1) * sizeof *B.acc_unit);
    B.addr_mem = xmalloc((size_t)(g->n_ops + 1) * sizeof *B.addr_mem);
    bool *touched = xcalloc((size_t)g->n_mems + 1, sizeof *touched);
    if (!B.acc_unit || !B.addr_mem || !touched) {
        free(B.acc_unit);
        free(B.addr_mem);
        free(touched);
        return diag_error(d, diag_at_file(f->source), "out of memory");
    }
    B.loop_of_reg = xmalloc((size_t)(g->n_regs + 1) * sizeof *B.loop_of_reg);
    if (!B.loop_of_reg) {
        free(B.acc_unit);
        free(B.addr_mem);
        free(touched);
        return diag_error(d, diag_at_file(f->source), "out of memory");
    }
    for (int r = 0; r < g->n_regs; r++) {
        B.acc_unit[r] = DFG_NONE;
        B.loop_of_reg[r] = -1;
    }
    for (int l = 0; l < g->n_loops; l++) {
        B.loop_of_reg[g->loops[l]->counter] = l;
        for (int a = 0; a < g->loops[l]->n_acc; a++)
            B.loop_of_reg[g->loops[l]->acc[a].reg] = l;
    }
    for (int k = 0; k < g->n_ops; k++)
        B.addr_mem[k] = DFG_NONE;
    if (find_address_ops(&B) != 0) {
        free(B.acc_unit);
        free(B.addr_mem);
        free(B.loop_of_reg);
        free(touched);
        return diag_error(d, diag_at_file(f->source), "out of memory");
    }
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
        if (mem->dram) {
            /* In DRAM: its VAG runs every load and store of it. */
            mem->vag = dfg_new_unit(g, DFG_VAG, arena_printf(g->a, "dram %s", mem->name));
            if (mem->vag == DFG_NONE) {
                rc = diag_error(d, diag_at_file(f->source), "out of memory");
                break;
            }
            g->units[mem->vag].mem = m;
            g->units[mem->vag].store = mem->kind == DFG_MEM_OUTPUT;
            continue;
        }
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
            op->unit = g->mems[op->mem].dram ? g->mems[op->mem].vag : g->mems[op->mem].vpmu;
        else if (B.addr_mem[k] != DFG_NONE)
            op->unit = g->mems[B.addr_mem[k]].dram ? g->mems[B.addr_mem[k]].vag : g->mems[B.addr_mem[k]].vpmu;
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
    if (rc == 0) {
        int *depth = xmalloc(((size_t)g->n_mems + 1) * sizeof *depth);
        int *rotate = xmalloc(((size_t)g->n_mems + 1) * sizeof *rotate);
        if (!depth || !rotate || dfg_buffer_depths(g, depth, rotate) != 0)
            rc = diag_error(d, diag_at_file(f->source), "out of memory");
        else
            for (int m = 0; m < g->n_mems; m++) {
                g->mems[m].depth = depth[m];
                g->mems[m].rotate = rotate[m];
            }
        free(depth);
        free(rotate);
    }
    if (rc == 0 && !B.failed)
        rc = dfg_parallelise(g, d);

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
    free(B.addr_mem);
    free(B.loop_of_reg);
    free(touched);
    if (rc != 0 || B.failed)
        return -1;
    return 0;
}
