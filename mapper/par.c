/*
 * par.c — parallelising outer map loops over replicated pipelines (--par).
 *
 * A definition's outermost loop is a parallel map when its iterations are
 * independent: a static trip count, no reduction carried, no guard, and
 * every write inside it either to a scratch tile (private to an
 * iteration: nothing outside the loop touches it) or a plain store into a
 * program tensor at row `i` (the loop's own counter), or it is the
 * outermost tile loop of a tiled map (dfg_loop.disjoint), whose every
 * tile stores its own block of the target.  Such a loop gets P = --par replicas, each running a
 * contiguous chunk of the iterations on its own copies of the loop's
 * pipelines:
 *
 *  - every VPCU inside the loop is replicated P times;
 *  - a scratch tile written inside it gets P private copies;
 *  - a program tensor whose every access, anywhere in the program, is at
 *    row `i` of a parallel loop is partitioned: copy r holds the rows of
 *    chunk r;
 *  - any other tensor the loop reads is replicated: each replica reads its
 *    own full copy, filled by one multicast stream from its producer, so
 *    DRAM traffic does not grow;
 *  - a tensor the loop writes but that cannot be partitioned stays one
 *    VPMU that every replica writes (its banks serve them one access a
 *    cycle);
 *  - a partitioned output is stored through one AGCU per partition; a
 *    load feeding several copies is one multicast (or scatter) tree;
 *  - a DRAM tensor loaded inside the loop (a tile, or a direct access)
 *    gets an AGCU stream per replica, except where what the stream loads
 *    is the same for every replica (nothing it computes, and no bound or
 *    guard around it, depends on the replica, and the chunks are equally
 *    long): then one stream, running replica 0's chunk, loads it once and
 *    multicasts it to every replica's consumer (dfg_unit.shared_by), so
 *    the tiles of B in a gemm tiled by rows of A cross DRAM once, not
 *    once per replica.  The replicas then advance together: the stream
 *    waits for the credit of the slowest.
 *
 * When no definition has a loop of P iterations, a top-level loop shorter
 * than P whose body is one loop (and operations) is replicated together
 * with that loop: P a multiple of its trip, k = P / trip dividing the
 * inner trip; replica r runs iteration r / k of the outer loop and chunk
 * r mod k of the inner one (the inner loop's par is k, its chunk table
 * indexed by replica).  A tensor every access indexes at [outer][inner]
 * is partitioned by the rows of its first two dimensions taken as one
 * (dfg_mem.part_dims 2); one indexed by the outer counter alone is copied.
 *
 * The loop program is unchanged; the simulator runs each replica's units
 * on its chunk (dfg_loop.chunk) and each partition in its own PMU
 * (dfg_mem.part_row), so a wrong chunk or partition is a wrong output.
 */
#include "mapper/dfg_internal.h"
#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>

static bool inside(const dfg_loop *lp, const dfg_loop *top)
{
    for (; lp; lp = lp->parent)
        if (lp == top)
            return true;
    return false;
}

/* Map each op to the loop whose body holds it (NULL at definition level). */
static void op_loops(const dfg_block *b, dfg_loop *lp, dfg_loop **of)
{
    for (int k = 0; k < b->n; k++) {
        if (b->s[k].is_loop)
            op_loops(&b->s[k].loop->body, b->s[k].loop, of);
        else
            of[b->s[k].op->id] = lp;
    }
}

/* The parallel top-level loop enclosing lp, or NULL. */
static dfg_loop *par_root(dfg_loop *lp)
{
    while (lp && lp->parent)
        lp = lp->parent;
    return lp && lp->par > 1 ? lp : NULL;
}

/* Why lp cannot run in parallel (NULL when it can), for the report. */
/* Is op a store at the row of lp (and, replicated with it, of lc)? */
static bool at_own_row(const dfg_op *op, const dfg_loop *lp, const dfg_loop *lc)
{
    return op->n_idx > (lc ? 1 : 0) && op->idx[0] == lp->counter && (!lc || op->idx[1] == lc->counter);
}

/* Why lp (with lc, the loop inside it, when the two are replicated
 * together) cannot run in parallel (NULL when it can), for the report. */
static const char *ineligible(const dfg *g, dfg_loop *lp, const dfg_loop *lc, dfg_loop **loop_of)
{
    if (!lc && lp->trip < g->opts.par)
        return arena_printf(g->a, "its loop %s has %d iterations, fewer than %d", lp->label, (int)lp->trip,
                            g->opts.par);
    if (lp->n_acc || (lc && lc->n_acc))
        return arena_printf(g->a, "its loop %s carries a reduction", (lc && lc->n_acc ? lc : lp)->label);
    if (lp->pred != DFG_NONE || lp->bounded)
        return arena_printf(g->a, "its loop %s is guarded", lp->label);
    if (lc && (lc->pred != DFG_NONE || lc->bounded || lc->scan != DFG_NONE))
        return arena_printf(g->a, "its loop %s is guarded", lc->label);
    for (int k = 0; k < g->n_ops; k++) {
        const dfg_op *op = g->ops[k];
        if (!inside(loop_of[k], lp) || (op->code != DFG_STORE && op->code != DFG_RMW))
            continue;
        if (g->mems[op->mem].kind == DFG_MEM_SCRATCH) {
            /* private to an iteration if nothing outside the loop touches
             * it; shared with what follows the loop if every write inside
             * is a store at the loop's own row and outside it is only read
             * (a split reduction's partials, rsplit.c); not otherwise (a
             * tile of partial sums accumulates across the iterations of
             * its loop, lower.c) */
            bool outside = false, read_only = true;
            for (int q = 0; q < g->n_ops; q++)
                if (g->ops[q]->mem == op->mem && !inside(loop_of[q], lp)) {
                    outside = true;
                    read_only &= g->ops[q]->code == DFG_LOAD;
                }
            if (!outside)
                continue;
            if (!read_only || op->code != DFG_STORE || !at_own_row(op, lp, lc))
                return arena_printf(g->a, "its loop %s accumulates into %s across iterations", lp->label,
                                    g->mems[op->mem].name);
            continue;
        }
        if (lp->disjoint && !lc && op->code == DFG_STORE)
            continue;  /* a tile loop: each iteration stores its own block */
        if (op->code != DFG_STORE || !at_own_row(op, lp, lc))
            return arena_printf(g->a, "its loop %s %s %s other than at its own row", lc ? lc->label : lp->label,
                                op->code == DFG_RMW ? "combines into" : "writes", g->mems[op->mem].name);
    }
    return NULL;
}

/* The loop to replicate together with lp when lp alone is shorter than P
 * replicas: the one loop in its body (other statements are operations),
 * of a static trip count from 0, that P / trip(lp) divides, so that each
 * replica runs one iteration of lp and an equal chunk of it; else NULL. */
static dfg_loop *inner_to_collapse(const dfg *g, const dfg_loop *lp, int P)
{
    if (lp->trip < 2 || lp->trip >= P || P % lp->trip != 0 || lp->disjoint)
        return NULL;
    dfg_loop *lc = NULL;
    for (int k = 0; k < lp->body.n; k++)
        if (lp->body.s[k].is_loop) {
            if (lc)
                return NULL;
            lc = lp->body.s[k].loop;
        }
    int kk = P / lp->trip;
    if (!lc || lc->trip < kk || lc->trip % kk != 0 || lc->disjoint)
        return NULL;
    int d = g->regs[lc->lo].def_op;
    if (d == DFG_NONE || g->ops[d]->code != DFG_CONST || g->ops[d]->imm.i != 0)
        return NULL;
    return lc;
}

/* The loop replicated together with par root lp, or NULL. */
static const dfg_loop *collapsed_with(const dfg_loop *lp)
{
    for (int k = 0; k < lp->body.n; k++)
        if (lp->body.s[k].is_loop && lp->body.s[k].loop->par > 1)
            return lp->body.s[k].loop;
    return NULL;
}

/* Does a VPCU run inside lp?  A loop whose work is all in PMUs (a group-by's
 * identity fill) has nothing to replicate: its replicas would be contexts
 * of the same PMUs, so it is not parallelised (nor counted as such). */
static bool has_pipeline(const dfg *g, const dfg_loop *lp)
{
    for (int u = 0; u < g->n_units; u++)
        if (g->units[u].kind == DFG_VPCU && inside(g->units[u].loop, lp))
            return true;
    return false;
}

/* The registers whose value may differ between the replicas of a parallel
 * loop: its counter; what is computed from such a value; what is loaded
 * from a memory written inside a parallel loop (a replica's tile, or a
 * tensor another definition writes in parallel); the counter of a loop
 * whose bounds, guard or scan mask do, and the reductions of values that
 * do.  A fixpoint: a loop-carried value can feed an earlier op. */
static bool *replica_variant(const dfg *g, const bool *written)
{
    bool *var = xcalloc((size_t)g->n_regs + 1, sizeof *var);
    if (!var)
        return NULL;
    for (int l = 0; l < g->n_loops; l++)
        if (g->loops[l]->par > 1)
            var[g->loops[l]->counter] = true;
    for (bool changed = true; changed;) {
        changed = false;
        for (int k = 0; k < g->n_ops; k++) {
            const dfg_op *op = g->ops[k];
            if (op->dst == DFG_NONE || var[op->dst])
                continue;
            bool v = op->code == DFG_LOAD && written[op->mem];
            int rs[4 + PAT_MAX_RANK] = {op->a, op->b, op->c, op->pred};
            int nr = 4;
            for (int i = 0; i < op->n_idx; i++)
                rs[nr++] = op->idx[i];
            for (int i = 0; i < nr && !v; i++)
                v = rs[i] != DFG_NONE && var[rs[i]];
            if (v)
                var[op->dst] = changed = true;
        }
        for (int l = 0; l < g->n_loops; l++) {
            const dfg_loop *lp = g->loops[l];
            int rs[DFG_LOOP_CTL];
            dfg_loop_ctl(lp, rs);
            bool v = false;
            for (int i = 0; i < DFG_LOOP_CTL && !v; i++)
                v = rs[i] != DFG_NONE && var[rs[i]];
            if (v && !var[lp->counter])
                var[lp->counter] = changed = true;
            for (int a = 0; a < lp->n_acc; a++) {
                const dfg_acc *ac = &lp->acc[a];
                bool va = v || var[ac->val] || (ac->pred != DFG_NONE && var[ac->pred]);
                if (va && !var[ac->reg])
                    var[ac->reg] = changed = true;
            }
        }
    }
    return var;
}

/* Does DRAM load unit u read, inside every parallel loop it serves, the
 * same words in the same order for every replica?  Then one AGCU stream
 * loads them once and multicasts them to every replica's consumer (a tile
 * of B that every row block of a gemm reads), instead of each replica
 * loading its own: the replicas' chunks must be equally long, so that
 * each consumes all that is sent; nothing it computes, no bound or guard
 * of a loop around it, may depend on the replica. */
static bool same_for_every_replica(const dfg *g, int u, dfg_loop **loop_of, const bool *var)
{
    const dfg_unit *un = &g->units[u];
    if (un->kind != DFG_VAG || un->store)
        return false;
    bool any = false;
    for (int k = 0; k < g->n_ops; k++) {
        const dfg_op *op = g->ops[k];
        dfg_loop *root = par_root(loop_of[k]);
        if (op->unit != u || !root)
            continue;
        if (root->trip % root->par != 0 || op->code == DFG_STORE || op->code == DFG_RMW)
            return false;
        int rs[4 + PAT_MAX_RANK] = {op->a, op->b, op->c, op->pred};
        int nr = 4;
        for (int i = 0; i < op->n_idx; i++)
            rs[nr++] = op->idx[i];
        for (int i = 0; i < nr; i++)
            if (rs[i] != DFG_NONE && var[rs[i]])
                return false;
        for (const dfg_loop *lp = loop_of[k]; lp && lp != root; lp = lp->parent) {
            int cs[DFG_LOOP_CTL];
            dfg_loop_ctl(lp, cs);
            for (int i = 0; i < DFG_LOOP_CTL; i++)
                if (cs[i] != DFG_NONE && var[cs[i]])
                    return false;
        }
        any = true;
    }
    return any;
}

int dfg_parallelise(dfg *g, diag_list *d)
{
    int P = g->opts.par;
    if (P <= 1)
        return 0;
    dfg_loop **loop_of = xcalloc((size_t)g->n_ops + 1, sizeof *loop_of);
    bool *touched = xcalloc((size_t)g->n_mems + 1, sizeof *touched);
    bool *written = xcalloc((size_t)g->n_mems + 1, sizeof *written);
    bool *not_row = xcalloc((size_t)g->n_mems + 1, sizeof *not_row);
    bool *shared = xcalloc((size_t)g->n_mems + 1, sizeof *shared);  /* accessed outside every parallel loop */
    int *first = xmalloc(((size_t)g->n_units + 1) * sizeof *first);
    int32_t *trip_of = xcalloc((size_t)g->n_mems + 1, sizeof *trip_of);
    int *pdims_of = xcalloc((size_t)g->n_mems + 1, sizeof *pdims_of);
    bool *var = NULL;
    int rc = -1;
    if (!loop_of || !touched || !written || !not_row || !shared || !first || !trip_of || !pdims_of) {
        diag_error(d, diag_at_file(g->fab->source), "out of memory");
        goto out;
    }
    for (int k = 0; k < g->n_defs; k++)
        op_loops(&g->defs[k].body, NULL, loop_of);

    /* 1. The parallel loops.  A loop shorter than P is replicated with the
     * loop inside it only when no definition has a loop long enough
     * (pass 1): otherwise the short one stays one pipeline and leaves the
     * fabric's units to the others (blocksparse's 16-row layout at 64
     * replicas would need 896 PCUs, and --par auto would settle for 48). */
    for (int pass = 0; pass < 2 && !g->n_par_loops; pass++)
    for (int k = 0; k < g->n_defs; k++) {
        dfg_def *gd = &g->defs[k];
        const dfg_block *b = &gd->body;
        gd->par_why = "it has no loop";
        int why_rank = 0;
        for (int q = 0; q < b->n; q++) {
            if (!b->s[q].is_loop)
                continue;
            /* (the report gives the first reason of the most telling
             * kind: a loop with a pipeline that cannot be replicated, then
             * one without, then a loop whose work is all in PMUs) */
            bool pipe = has_pipeline(g, b->s[q].loop);
            const char *why = ineligible(g, b->s[q].loop, NULL, loop_of);
            /* shorter than P: replicated with the loop inside it, if it can */
            dfg_loop *lc = why && pass == 1 ? inner_to_collapse(g, b->s[q].loop, P) : NULL;
            if (lc && !ineligible(g, b->s[q].loop, lc, loop_of))
                why = NULL;
            else
                lc = NULL;
            int rank = why ? (pipe ? 3 : 2) : 1;
            if (!why && !pipe)
                why = arena_printf(g->a, "its loop %s has all its work in PMUs", b->s[q].loop->label);
            if (why) {
                if (!gd->par_loop && rank > why_rank) {
                    gd->par_why = why;
                    why_rank = rank;
                }
                continue;
            }
            {
                dfg_loop *lp = b->s[q].loop;
                if (!gd->par_loop)
                    gd->par_loop = lp;
                gd->par_why = NULL;
                lp->par = P;
                /* Replica r runs the contiguous chunk [chunk[2r], chunk[2r+1])
                 * of the trip count (the bounds are static constants). */
                lp->chunk = arena_calloc(g->a, 2 * (size_t)P, sizeof *lp->chunk);
                if (!lp->chunk) {
                    diag_error(d, diag_at_file(g->fab->source), "out of memory");
                    goto out;
                }
                for (int r = 0; r < P; r++) {
                    lp->chunk[2 * r] = (int32_t)((int64_t)lp->trip * r / P);
                    lp->chunk[2 * r + 1] = (int32_t)((int64_t)lp->trip * (r + 1) / P);
                }
                if (lc) {
                    /* k = P / trip(lp) replicas per iteration of lp: replica
                     * r runs iteration r / k of lp and chunk r % k of lc */
                    int kk = P / (int)lp->trip;
                    lc->par = kk;
                    lc->chunk = arena_calloc(g->a, 2 * (size_t)P, sizeof *lc->chunk);
                    if (!lc->chunk) {
                        diag_error(d, diag_at_file(g->fab->source), "out of memory");
                        goto out;
                    }
                    for (int r = 0; r < P; r++) {
                        lp->chunk[2 * r] = r / kk;
                        lp->chunk[2 * r + 1] = r / kk + 1;
                        lc->chunk[2 * r] = (int32_t)((int64_t)lc->trip * (r % kk) / kk);
                        lc->chunk[2 * r + 1] = (int32_t)((int64_t)lc->trip * (r % kk + 1) / kk);
                    }
                    if (gd->par_loop == lp)
                        gd->par_inner = lc;
                }
                g->n_par_loops++;
            }
        }
    }
    if (!g->n_par_loops) {
        rc = 0;
        goto out;
    }

    /* 2. Memories, from every access in the program. */
    for (int k = 0; k < g->n_ops; k++) {
        const dfg_op *op = g->ops[k];
        if (op->mem == DFG_NONE)
            continue;
        dfg_loop *root = par_root(loop_of[k]);
        const dfg_mem *m = &g->mems[op->mem];
        const dfg_loop *lc = root ? collapsed_with(root) : NULL;
        /* Rows of the parallel loop's index, or of the two indices of
         * loops replicated together (whose rows are then those of the
         * first two dimensions as one, each the size of its loop). */
        int pd = lc ? 2 : 1;
        int32_t trip = lc ? root->trip * lc->trip : root ? root->trip : 0;
        bool at_row = root && at_own_row(op, root, lc) &&
                      (lc ? m->type.dims[0] == root->trip && m->type.dims[1] == lc->trip : m->type.dims[0] >= P);
        /* A partition follows the chunks of the loops that index it: they
         * must all split the same trip count, the same way. */
        if (at_row && trip_of[op->mem] && (trip_of[op->mem] != trip || pdims_of[op->mem] != pd))
            at_row = false;
        if (at_row) {
            trip_of[op->mem] = trip;
            pdims_of[op->mem] = pd;
        }
        touched[op->mem] |= root != NULL;
        shared[op->mem] |= root == NULL;
        written[op->mem] |= root && op->code != DFG_LOAD;
        not_row[op->mem] |= !at_row;
    }
    for (int m = 0; m < g->n_mems; m++) {
        dfg_mem *mem = &g->mems[m];
        if (mem->vpmu == DFG_NONE || !touched[m])
            continue;
        bool priv = mem->kind == DFG_MEM_SCRATCH && !shared[m];
        if (priv || !not_row[m] || !written[m]) {
            /* private tiles, partitions, or read-only replicas */
            mem->copies = P;
            mem->partitioned = !priv && !not_row[m];
        }
        if (mem->partitioned && pdims_of[m] == 2) {
            /* rows of the first two dimensions as one */
            mem->part_dims = 2;
            mem->part_type = mem->type;
            mem->part_type.rank = mem->type.rank - 1;
            mem->part_type.dims[0] = mem->type.dims[0] * mem->type.dims[1];
            for (int q = 1; q < mem->part_type.rank; q++)
                mem->part_type.dims[q] = mem->type.dims[q + 1];
            mem->part_banks = 0;
            for (int q = 0; q < mem->type.rank; q++)
                if (mem->bank_dims & (1u << q))
                    mem->part_banks |= 1u << (q < 2 ? 0 : q - 1);
        }
        if (mem->partitioned) {
            /* Copy r holds the rows replica r's chunk indexes; rows past
             * the trip count (never indexed in parallel) go to the last. */
            int64_t trip = trip_of[m];
            const pat_type *pt = dfg_part_type(mem);
            mem->part_row = arena_calloc(g->a, (size_t)P + 1, sizeof *mem->part_row);
            if (!mem->part_row) {
                diag_error(d, diag_at_file(g->fab->source), "out of memory");
                goto out;
            }
            int64_t rows = 0;
            for (int r = 0; r <= P; r++) {
                mem->part_row[r] = r == P ? pt->dims[0] : (int32_t)(trip * r / P);
                if (r > 0 && mem->part_row[r] - mem->part_row[r - 1] > rows)
                    rows = mem->part_row[r] - mem->part_row[r - 1];
            }
            mem->copy_bytes = mem->bytes / pt->dims[0] * rows;
        }
    }

    /* 3. Replica units. */
    var = replica_variant(g, written);
    if (!var) {
        diag_error(d, diag_at_file(g->fab->source), "out of memory");
        goto out;
    }
    int n_base = g->n_units;
    for (int u = 0; u < n_base; u++) {
        first[u] = -1;
        dfg_unit un = g->units[u];
        int copies = 1;
        if (un.kind == DFG_VPCU && par_root(un.loop))
            copies = P;
        else if (un.kind == DFG_VPMU)
            copies = g->mems[un.mem].copies;
        else if (un.kind == DFG_VAG && un.store && g->mems[un.mem].partitioned)
            copies = P;  /* each partition stores through its own AGCU */
        else if (un.kind == DFG_VAG && g->mems[un.mem].dram && touched[un.mem]) {
            /* a DRAM-resident tensor read or written in parallel: an AGCU
             * per replica, or one multicasting what every replica reads */
            if (same_for_every_replica(g, u, loop_of, var))
                g->units[u].shared_by = P;
            else
                copies = P;
        }
        for (int r = 1; r < copies; r++) {
            const char *name = arena_printf(g->a, "%s/%c%d", un.name,
                                            un.kind == DFG_VPMU && g->mems[un.mem].partitioned ? 'p' : 'r', r);
            int v = dfg_new_unit(g, un.kind, name);
            if (v == DFG_NONE) {
                diag_error(d, diag_at_file(g->fab->source), "out of memory");
                goto out;
            }
            dfg_unit *nu = &g->units[v];
            *nu = un;
            nu->name = name;
            nu->base = u;
            nu->replica = r;
            if (r == 1)
                first[u] = v;
        }
    }

    /* 4. Replica streams: both ends replicated -> one per replica; one end
     * replicated -> one per replica from or to the single end (a multicast
     * or a gather). */
    int n_streams = g->n_streams;
    for (int s = 0; s < n_streams; s++) {
        dfg_stream st = g->streams[s];
        int cs = first[st.src] >= 0 ? P : 1, cd = first[st.dst] >= 0 ? P : 1;
        if (cs == 1 && cd == 1)
            continue;
        /* A shared load runs replica 0's chunk: it takes its addresses
         * from replica 0's units alone. */
        if (cd == 1 && g->units[st.dst].shared_by)
            continue;
        /* A unit outside the parallel loops reads one full copy of a
         * replicated tensor, not all of them. */
        const dfg_unit *su = &g->units[st.src];
        /* A value computed outside the parallel loops is sent by the
         * original unit alone (its replicas do not compute it), to every
         * replica of the consumer: a multicast.  A value computed inside
         * them is used inside them only, so every replica sends its own,
         * also to a consumer that is not replicated (a tensor every replica
         * writes), which then gathers them. */
        if (cs > 1 && st.reg != DFG_NONE) {
            const dfg_reg *rg = &g->regs[st.reg];
            dfg_loop *at = rg->def_op != DFG_NONE ? loop_of[rg->def_op] : rg->level;
            if (!par_root(at))
                cs = 1;
        }
        if (cs == 1 && cd == 1)
            continue;
        /* The drain of a replicated tensor: one copy is enough. */
        if (cs > 1 && cd == 1 && st.reg == DFG_NONE &&
            ((su->kind == DFG_VPMU && !g->mems[su->mem].partitioned) || (su->kind == DFG_VAG && g->mems[su->mem].dram)))
            continue;
        for (int r = 1; r < P; r++) {
            int src = cs > 1 ? first[st.src] + r - 1 : st.src;
            int dst = cd > 1 ? first[st.dst] + r - 1 : st.dst;
            if (dfg_new_stream(g, st.kind, src, dst, st.reg, st.width) == DFG_NONE) {
                diag_error(d, diag_at_file(g->fab->source), "out of memory");
                goto out;
            }
        }
    }
    rc = 0;
out:
    free(loop_of);
    free(touched);
    free(written);
    free(not_row);
    free(shared);
    free(first);
    free(trip_of);
    free(pdims_of);
    free(var);
    return rc;
}
