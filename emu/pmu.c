/*
 * pmu.c — pattern memory units: storage, banks, ports, N-buffers,
 * partitions, and the fill and drain of DRAM tensors.
 *
 * The model.  Each VPMU unit holds its tensor (or one partition of it:
 * the rows of dimension 0 that one replica of a parallel loop owns, or one
 * full copy of a tensor that replicas read) in `depth` buffer copies.  Its
 * banks serve one vector access at a time: a vector of up to `banks`
 * distinct words in distinct banks takes one cycle, and each further
 * distinct word falling in an already used bank one more cycle (a bank
 * conflict).  The bank of an element is the sum of its indices along the
 * banked dimensions (chosen by the mapper) modulo `banks`.  Contexts of
 * one unit — the stages of a meta-pipeline, the streams of several
 * replicas, the DRAM fill or drain — contend for the banks: an access
 * waits while another holds them (port contention), lowest context first
 * when several want the same cycle.
 *
 * An access runs where the data is: an index out of the tensor's range, or
 * a row outside this unit's partition, is a fault of the simulated
 * hardware — an internal error of the mapping, since the reference ran the
 * same program on the same data cleanly.  An N-buffered tile is addressed
 * in copy (iteration of its meta-pipeline loop mod depth): the writer of
 * iteration n+1 fills another copy than the reader of iteration n reads.
 *
 * Fill: the words a load VAG streams in are written at the element offset
 * each entry carries, checked against the order the fill expects.  Drain:
 * once the definition of an output has finished (a token of the program's
 * controller), its words are read out in DRAM order and streamed to the
 * store VAG.
 */
#include "emu/emu_internal.h"
#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>

int64_t pmu_local(const emu_store *st, int64_t elem, int copy, const pat_type *t)
{
    if (t->rank == 0)
        return (int64_t)copy * st->local_count;
    int64_t row = elem / st->row_stride;
    if (row < st->row_lo || row >= st->row_hi)
        return -1;
    return (int64_t)copy * st->local_count + elem - (int64_t)st->row_lo * st->row_stride;
}

/* The bank of each element (by decomposing its offset): for the DRAM
 * fill and drain, whose vectors come as offsets. */
static void banks_of(const emu_sim *S, const emu_store *st, const int64_t *addr, const bool *on, int n, int *bank)
{
    const dfg_mem *m = &S->g->mems[st->mem];
    int banks = S->f->pmu_banks;
    for (int l = 0; l < n; l++) {
        if (!on[l])
            continue;
        int64_t rest = addr[l], b = 0;
        for (int k = 0; k < m->type.rank; k++) {
            int64_t i = rest / st->stride[k];
            rest -= i * st->stride[k];
            if (m->bank_dims & (1u << k))
                b += i;
        }
        bank[l] = (int)(b % banks);
    }
}

int pmu_bank_cycles(emu_sim *S, const int *bank, const int64_t *addr, const bool *on, int n)
{
    /* Fast path: every active lane in its own bank. */
    uint64_t seen[EMU_MAX_LANES / 64] = {0};
    int first = -1;
    bool collide = false;
    for (int l = 0; l < n; l++) {
        if (!on[l])
            continue;
        if (first < 0)
            first = l;
        int b = bank[l];
        uint64_t bit = 1ull << (b & 63);
        collide |= (seen[b >> 6] & bit) != 0;
        seen[b >> 6] |= bit;
    }
    if (first < 0)
        return 0;
    if (!collide)
        return 1;
    /* The most distinct addresses falling in one bank (lanes reading one
     * address share the word): each bank's lanes in a list, from its head
     * (bank_count[b] - 1), holding only addresses not seen before in that
     * bank, with the running count at the head: linear in the lanes for
     * random gathers, not the n log n of a sort. */
    int next[EMU_MAX_LANES], cnt[EMU_MAX_LANES];
    int worst = 1;
    for (int l = 0; l < n; l++) {
        if (!on[l])
            continue;
        int b = bank[l], h = S->bank_count[b] - 1;
        bool dup = false;
        for (int q = h; q >= 0 && !dup; q = next[q])
            dup = addr[q] == addr[l];
        if (dup)
            continue;
        next[l] = h;
        cnt[l] = (h >= 0 ? cnt[h] : 0) + 1;
        S->bank_count[b] = l + 1;
        if (cnt[l] > worst)
            worst = cnt[l];
    }
    for (int l = 0; l < n; l++)
        if (on[l])
            S->bank_count[bank[l]] = 0;
    return worst;
}

int pmu_access(emu_sim *S, emu_ctx *c, const emu_mu *m, int n, bool masked)
{
    const dfg_op *op = m->op;
    emu_store *st = &S->store[m->store];
    const dfg_mem *mem = &S->g->mems[st->mem];
    int L = S->lanes;
    const uint32_t *pp = m->pred >= 0 ? c->reg + (size_t)m->pred * (size_t)L : NULL;
    bool on[EMU_MAX_LANES];
    int64_t elem[EMU_MAX_LANES];
    uint32_t *dst = m->dst >= 0 ? c->reg + (size_t)m->dst * (size_t)L : NULL;
    if (masked) {
        if (dst)
            memset(dst, 0, (size_t)L * sizeof *dst);
        return 0;
    }
    if (op->code == DFG_CHECK) {
        const uint32_t *pa = c->reg + (size_t)m->a * (size_t)L;
        for (int l = 0; l < n; l++) {
            if (pp && pp[(size_t)l * m->sp] == 0)
                continue;
            int32_t k = (int32_t)pa[(size_t)l * m->sa];
            if (k < 0 || k >= op->imm.i)
                return sim_fault(S, c->id, op, "%s is %d, outside [0, %d)", op->what, k, op->imm.i);
        }
        return 0;
    }
    int copy = 0;
    if (m->rot >= 0 && st->depth > 1) {
        int64_t it = c->seq[m->rot] - 1;
        if (op->code != DFG_LOAD)
            it += mem->write_skew;
        copy = (int)(it % st->depth);
    }
    int any = 0;
    int bank[EMU_MAX_LANES];
    int banks = S->f->pmu_banks;
    unsigned bmask = (banks & (banks - 1)) == 0 ? (unsigned)banks - 1 : 0;
    bool whole = mem->type.rank == 0 || (st->row_lo == 0 && st->row_hi == dfg_part_type(mem)->dims[0]);
    int64_t base = (int64_t)copy * st->local_count;
    /* Indices the same on every lane are checked and added once. */
    int64_t ebase = 0;
    int bbase = 0, nv = 0, vk[PAT_MAX_RANK];
    for (int k = 0; k < m->n_idx; k++) {
        if (m->sidx[k]) {
            vk[nv++] = k;
            continue;
        }
        if (pp) {
            vk[nv++] = k;  /* under a predicate: checked only on active lanes */
            continue;
        }
        int32_t i = (int32_t)c->reg[(size_t)m->idx[k] * (size_t)L];
        if (n > 0 && (i < 0 || i >= mem->type.dims[k]))
            return sim_fault(S, c->id, op, "index %d out of bounds for dimension %d of '%s' (size %d)", i, k,
                             mem->name, mem->type.dims[k]);
        ebase += (int64_t)i * st->stride[k];
        if (mem->bank_dims & (1u << k))
            bbase += i;
    }
    uint64_t seen[EMU_MAX_LANES / 64] = {0};
    bool collide = false;
    const uint32_t *pa = m->a >= 0 ? c->reg + (size_t)m->a * (size_t)L : NULL;
    if (!pp && whole && nv == 1 && op->code == DFG_LOAD && bmask) {
        /* The common load: every lane on, one index varying across them. */
        int k = vk[0];
        const uint32_t *ix = c->reg + (size_t)m->idx[k] * (size_t)L;
        size_t sx = m->sidx[k];
        int64_t stride = st->stride[k];
        int32_t dim = mem->type.dims[k];
        bool banked = (mem->bank_dims & (1u << k)) != 0;
        const uint32_t *data = st->data + base;
        for (int l = 0; l < n; l++) {
            int32_t i = (int32_t)ix[(size_t)l * sx];
            if (i < 0 || i >= dim)
                return sim_fault(S, c->id, op, "index %d out of bounds for dimension %d of '%s' (size %d)", i, k,
                                 mem->name, dim);
            int64_t e = ebase + (int64_t)i * stride;
            elem[l] = e;
            on[l] = true;
            int bk = (int)((unsigned)(bbase + (banked ? i : 0)) & bmask);
            bank[l] = bk;
            uint64_t bit = 1ull << (bk & 63);
            collide |= (seen[bk >> 6] & bit) != 0;
            seen[bk >> 6] |= bit;
            dst[l] = data[e];
        }
        any = n > 0;
    } else
    for (int l = 0; l < n; l++) {
        on[l] = !pp || pp[(size_t)l * m->sp] != 0;
        if (!on[l]) {
            if (dst)
                dst[l] = 0;
            continue;
        }
        any = 1;
        int64_t e = ebase;
        int b = bbase;
        for (int q = 0; q < nv; q++) {
            int k = vk[q];
            int32_t i = (int32_t)c->reg[(size_t)m->idx[k] * (size_t)L + (size_t)l * m->sidx[k]];
            if (i < 0 || i >= mem->type.dims[k])
                return sim_fault(S, c->id, op, "index %d out of bounds for dimension %d of '%s' (size %d)", i, k,
                                 mem->name, mem->type.dims[k]);
            e += (int64_t)i * st->stride[k];
            if (mem->bank_dims & (1u << k))
                b += i;
        }
        elem[l] = e;
        int bk = bmask ? (int)((unsigned)b & bmask) : b % banks;
        bank[l] = bk;
        uint64_t bit = 1ull << (bk & 63);
        collide |= (seen[bk >> 6] & bit) != 0;
        seen[bk >> 6] |= bit;
        int64_t w = whole ? base + e : pmu_local(st, e, copy, &mem->type);
        if (w < 0)
            return sim_fault(S, c->id, op, "row %lld of '%s'%s is not in the partition of this PMU (rows %d..%d)",
                             (long long)(e / st->row_stride), mem->name,
                             mem->part_dims == 2 ? " (its first two dimensions as one)" : "", st->row_lo,
                             st->row_hi - 1);
        emu_mem_word(S->res, op, mem->type.elem, &st->data[w], dst ? &dst[l] : NULL,
                     pa ? pa[(size_t)l * m->sa] : 0);
    }
    if (!any)
        return 0;
    int cycles = collide ? pmu_bank_cycles(S, bank, elem, on, n) : 1;
    S->res->lane_ops += n;
    emu_unit_stats *us = &S->res->unit[st->unit];
    us->accesses++;
    if (cycles > 1) {
        us->conflicts += cycles - 1;
        S->res->conflict_cycles += cycles - 1;
    }
    return cycles;
}

/* ------------------------------------------------------------------ */
/* Building the stores                                                 */

static int new_store(emu_sim *S, int unit, int mem, int32_t row_lo, int32_t row_hi)
{
    if (!emu_grow((void **)&S->store, S->n_store, &S->cap_store, sizeof *S->store))
        return -1;
    const dfg_mem *m = &S->g->mems[mem];
    emu_store *st = &S->store[S->n_store];
    memset(st, 0, sizeof *st);
    st->unit = unit;
    st->mem = mem;
    st->depth = m->depth > 0 ? m->depth : 1;
    int64_t stride = 1;
    for (int k = m->type.rank - 1; k >= 0; k--) {
        st->stride[k] = stride;
        stride *= m->type.dims[k];
    }
    if (m->type.rank == 0) {
        st->local_count = 1;
        st->row_lo = 0;
        st->row_hi = 1;
        st->row_stride = 1;
    } else {
        st->row_lo = row_lo;
        st->row_hi = row_hi;
        st->row_stride = st->stride[m->part_dims == 2 && m->type.rank >= 2 ? 1 : 0];
        st->local_count = (int64_t)(row_hi - row_lo) * st->row_stride;
    }
    st->data = xcalloc((size_t)(st->local_count * st->depth) + 1, sizeof *st->data);
    if (!st->data)
        return -1;
    S->store_of[unit] = S->n_store;
    return S->n_store++;
}

int pmu_build(emu_sim *S)
{
    const dfg *g = S->g;
    for (int u = 0; u < g->n_units; u++) {
        const dfg_unit *un = &g->units[u];
        if (un->kind != DFG_VPMU)
            continue;
        const dfg_mem *m = &g->mems[un->mem];
        int32_t lo = 0, hi = m->type.rank ? dfg_part_type(m)->dims[0] : 1;
        if (m->partitioned && m->part_row) {
            lo = m->part_row[un->replica];
            hi = m->part_row[un->replica + 1];
        }
        if (new_store(S, u, un->mem, lo, hi) < 0)
            return diag_error(S->d, diag_at_file(S->f->source), "out of memory for the PMU of '%s'", m->name);
        emu_store *st = &S->store[S->n_store - 1];
        st->loaded = m->kind != DFG_MEM_INPUT;
        /* Data that is on chip from the start: an input without a DRAM stream. */
        if (m->kind == DFG_MEM_INPUT && m->vag == DFG_NONE) {
            const uint32_t *img = S->dram_image[un->mem];
            for (int64_t w = 0; w < st->local_count; w++)
                st->data[w] = img[(int64_t)st->row_lo * st->row_stride * (m->type.rank > 0) + w];
            st->loaded = true;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Fill and drain                                                      */

/* The banks' cycles for one vector a fill writes or a drain reads, held
 * busy and counted; returns them. */
static int transfer_access(emu_sim *S, emu_store *st, const int64_t *elem, const bool *on, int n)
{
    int bank[EMU_MAX_LANES];
    banks_of(S, st, elem, on, n, bank);
    int cycles = pmu_bank_cycles(S, bank, elem, on, n);
    st->busy_until = S->now + cycles;
    st->busy_cycles += cycles;
    S->res->unit[st->unit].accesses++;
    if (cycles > 1) {
        S->res->unit[st->unit].conflicts += cycles - 1;
        S->res->conflict_cycles += cycles - 1;
    }
    return cycles;
}

void pmu_fill_step(emu_sim *S, emu_ctx *c)
{
    emu_xfer *x = &c->x;
    emu_store *st = &S->store[x->store];
    const dfg_mem *m = &S->g->mems[st->mem];
    if (x->walk.done >= x->walk.total) {
        c->done = true;
        return;
    }
    if (st->busy_until > S->now) {
        sim_block(S, c, WAIT_BANKS, x->store);
        sim_wake(S, c->id, st->busy_until);
        return;
    }
    if (!fifo_can_pop(&S->fifo[x->fifo], S->now)) {
        sim_wait_input(S, c, x->fifo);
        return;
    }
    int64_t tag;
    int count;
    const uint32_t *w = fifo_front(&S->fifo[x->fifo], &tag, &count);
    int64_t elem[EMU_MAX_LANES];
    bool on[EMU_MAX_LANES];
    int n = walk_next(&x->walk, elem, S->lanes);
    if (n != count || elem[0] != tag) {
        sim_fault(S, c->id, NULL,
                  "the fill of '%s' expected %d words at element %lld and its stream delivered %d at %lld",
                  m->name, n, (long long)elem[0], count, (long long)tag);
        return;
    }
    for (int l = 0; l < n; l++) {
        int64_t loc = pmu_local(st, elem[l], 0, &m->type);
        if (loc < 0) {
            sim_fault(S, c->id, NULL, "the fill of '%s' was sent element %lld, outside this PMU's rows %d..%d",
                      m->name, (long long)elem[l], st->row_lo, st->row_hi - 1);
            return;
        }
        st->data[loc] = w[l];
        on[l] = true;
    }
    fifo_pop(S, x->fifo);
    int cycles = transfer_access(S, st, elem, on, n);
    sim_fired(S, c, cycles);
    if (x->walk.done >= x->walk.total) {
        st->loaded = true;
        /* Contexts waiting for the tensor poll on their next step. */
        for (int k = 0; k < S->n_ctx; k++)
            if (S->ctx[k].wait == WAIT_LOADED && S->ctx[k].wait_obj == x->store)
                sim_wake(S, k, S->now + cycles);
    }
}

void pmu_drain_step(emu_sim *S, emu_ctx *c)
{
    emu_xfer *x = &c->x;
    emu_store *st = &S->store[x->store];
    const dfg_mem *m = &S->g->mems[st->mem];
    emu_ctl *root = &S->ctl[S->root_ctl];
    if (x->walk.done >= x->walk.total) {
        c->done = true;
        return;
    }
    if (root->min_done[x->def] < 1) {
        sim_block(S, c, WAIT_TOKEN, S->root_ctl);
        return;
    }
    if (st->busy_until > S->now) {
        sim_block(S, c, WAIT_BANKS, x->store);
        sim_wake(S, c->id, st->busy_until);
        return;
    }
    if (!fifo_can_push(&S->fifo[x->fifo])) {
        sim_block(S, c, WAIT_CREDIT, x->fifo);
        return;
    }
    int64_t elem[EMU_MAX_LANES];
    bool on[EMU_MAX_LANES];
    int n = walk_next(&x->walk, elem, S->lanes);
    uint32_t *w = fifo_push(S, x->fifo, S->now + 1, elem[0], n);
    for (int l = 0; l < n; l++) {
        int64_t loc = pmu_local(st, elem[l], 0, &m->type);
        if (loc < 0) {
            sim_fault(S, c->id, NULL, "the drain of '%s' reached element %lld, outside this PMU's rows %d..%d",
                      m->name, (long long)elem[l], st->row_lo, st->row_hi - 1);
            return;
        }
        w[l] = st->data[loc];
        on[l] = true;
    }
    int cycles = transfer_access(S, st, elem, on, n);
    sim_fired(S, c, cycles);
    if (x->walk.done >= x->walk.total)
        c->done = true;
}

/* The results: outputs from their DRAM image (or, in the kernel
 * baseline, their PMUs), buffers gathered from their PMUs. */
int pmu_outputs(emu_sim *S, pat_values *out)
{
    const dfg *g = S->g;
    if (pat_values_init(out, g->prog) != 0)
        return -1;
    for (int mi = 0; mi < g->n_mems; mi++) {
        const dfg_mem *m = &g->mems[mi];
        if (!m->decl || (m->kind != DFG_MEM_OUTPUT && m->kind != DFG_MEM_BUFFER) || m->decl->kind == PAT_CONST)
            continue;
        pat_tensor *t = &out->t[m->decl->id];
        if (pat_tensor_alloc(t, &m->type) != 0)
            return -1;
        uint32_t *dstw = (uint32_t *)t->data.p;
        if ((m->kind == DFG_MEM_OUTPUT && m->vag != DFG_NONE) || m->dram) {
            memcpy(dstw, S->dram_image[mi], (size_t)t->count * 4);
            continue;
        }
        /* Gather: every store of this memory contributes its rows (copy 0
         * of its N-buffer; full replicas hold the same words). */
        for (int k = 0; k < S->n_store; k++) {
            const emu_store *st = &S->store[k];
            if (st->mem != mi)
                continue;
            int64_t base = m->type.rank ? (int64_t)st->row_lo * st->row_stride : 0;
            memcpy(dstw + base, st->data, (size_t)st->local_count * 4);
        }
    }
    return 0;
}
