/*
 * dram.c — AGCUs and DRAM: the loads that fill input PMUs, the stores that
 * drain output PMUs, and (kernel baseline) each kernel's traffic.
 *
 * The model.  DRAM delivers `gbps` in all: every cycle adds bytes_per_cycle
 * to a budget, and each 64-byte burst the budget covers is granted to one
 * AGCU with demand, the AGCU that has been granted least so far (so the
 * bandwidth is shared equally among the AGCUs active in a cycle), and
 * within it to its stream granted least (an AGCU serves its streams one
 * burst at a time).  A granted burst lands latency_ns later.  A load VAG
 * then streams the landed words, one vector a cycle, into the FIFOs of the
 * PMUs that hold the tensor (a partition each, or a full copy each by
 * multicast); a store VAG takes vectors from its PMU's drain and writes
 * them to DRAM, its bursts landing latency_ns after their grant.  Each
 * AGCU buffers at most 128 bursts (8 KiB) in flight per stream.
 *
 * Transfers overlap with compute: a load starts at cycle 0 and its PMU is
 * readable once filled; a store starts when its definition finishes, while
 * later definitions compute.  Assumption (docs/emulator.md): the AGCU's
 * coalescing buffer reorders bursts so that each vector it streams runs
 * along the tensor's banked dimension; DRAM is charged the tensor's bytes.
 */
#include "emu/emu_internal.h"
#include "util/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { RING = 128 };

/* ------------------------------------------------------------------ */
/* Element order                                                       */

void walk_init(emu_walk *w, const pat_type *t, unsigned bank_dims, int32_t row_lo, int32_t row_hi)
{
    memset(w, 0, sizeof *w);
    w->type = t;
    w->row_lo = row_lo;
    w->row_hi = row_hi;
    int r = t->rank;
    if (r == 0) {
        w->total = 1;
        return;
    }
    /* The banked dimension runs fastest; the last one when it is banked. */
    int fast = r - 1;
    if (!(bank_dims & (1u << (r - 1))))
        for (int k = r - 1; k >= 0; k--)
            if (bank_dims & (1u << k)) {
                fast = k;
                break;
            }
    int n = 0;
    for (int k = 0; k < r; k++)
        if (k != fast)
            w->order[n++] = k;
    w->order[n] = fast;
    w->total = row_hi > row_lo ? (int64_t)(row_hi - row_lo) : 0;
    for (int k = 1; k < r; k++)
        w->total *= t->dims[k];
    w->at[0] = row_lo;
}

int walk_next(emu_walk *w, int64_t *elem, int max)
{
    const pat_type *t = w->type;
    if (w->done >= w->total)
        return 0;
    if (t->rank == 0) {
        elem[0] = 0;
        w->done = 1;
        return 1;
    }
    int r = t->rank;
    int fast = w->order[r - 1];
    int32_t end = fast == 0 ? w->row_hi : t->dims[fast];
    int64_t stride[PAT_MAX_RANK];
    int64_t s = 1;
    for (int k = r - 1; k >= 0; k--) {
        stride[k] = s;
        s *= t->dims[k];
    }
    int64_t base = 0;
    for (int k = 0; k < r; k++)
        base += (int64_t)w->at[k] * stride[k];
    int n = 0;
    while (n < max && w->at[fast] < end) {
        elem[n++] = base;
        base += stride[fast];
        w->at[fast]++;
    }
    w->done += n;
    if (w->at[fast] >= end) {
        /* Carry into the slower dimensions. */
        w->at[fast] = fast == 0 ? w->row_lo : 0;
        for (int q = r - 2; q >= 0; q--) {
            int k = w->order[q];
            int32_t lim = k == 0 ? w->row_hi : t->dims[k];
            if (++w->at[k] < lim)
                break;
            w->at[k] = k == 0 ? w->row_lo : 0;
        }
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* The arbiter                                                         */

static bool in_flight_full(const emu_xfer *x)
{
    return x->ring_tail - x->ring_head >= RING;
}

static bool has_demand(const emu_xfer *x)
{
    return x->granted < x->bytes && !in_flight_full(x);
}

void dram_demand(emu_sim *S, emu_ctx *c)
{
    if (!has_demand(&c->x))
        return;
    for (int k = 0; k < S->n_dram_active; k++)
        if (S->dram_active[k] == c->id)
            return;
    if (!emu_grow((void **)&S->dram_active, S->n_dram_active, &S->cap_dram_active, sizeof *S->dram_active)) {
        sim_fault(S, c->id, NULL, "out of memory");
        return;
    }
    S->dram_active[S->n_dram_active++] = c->id;
    if (!S->dram_scheduled) {
        S->dram_scheduled = true;
        sim_wake(S, -1, S->now);
    }
}

static int64_t agcu_granted(const emu_sim *S, int agcu)
{
    int64_t sum = 0;
    for (int k = 0; k < S->n_dram_active; k++) {
        const emu_ctx *c = &S->ctx[S->dram_active[k]];
        if (c->x.agcu == agcu)
            sum += c->x.granted;
    }
    return sum;
}

/* One cycle of DRAM: grant the bursts the bandwidth covers. */
void dram_step(emu_sim *S)
{
    /* once a cycle, however many times it was woken in it */
    if (S->dram_stepped >= 0 && S->now <= S->dram_stepped) {
        if (S->n_dram_active > 0)
            sim_wake(S, -1, S->dram_stepped + 1);
        else
            S->dram_scheduled = false;
        return;
    }
    S->dram_stepped = S->now;
    S->dram_budget += S->dram_bpc;
    if (S->n_dram_active > 0)
        S->res->dram_busy_cycles++;
    int64_t moved = 0;
    while (S->dram_budget >= EMU_BURST && S->n_dram_active > 0) {
        /* the AGCU granted least, then its stream granted least */
        int best = -1;
        int64_t best_a = 0, best_s = 0;
        for (int k = 0; k < S->n_dram_active; k++) {
            const emu_ctx *c = &S->ctx[S->dram_active[k]];
            int64_t a = agcu_granted(S, c->x.agcu), s = c->x.granted;
            if (best < 0 || a < best_a || (a == best_a && s < best_s)) {
                best = k;
                best_a = a;
                best_s = s;
            }
        }
        emu_ctx *c = &S->ctx[S->dram_active[best]];
        emu_xfer *x = &c->x;
        int64_t b = x->bytes - x->granted < EMU_BURST ? x->bytes - x->granted : EMU_BURST;
        x->granted += b;
        x->grant_time[x->ring_tail % RING] = S->now;
        x->ring_tail++;
        x->last_grant = S->now;
        moved += b;
        S->dram_budget -= EMU_BURST;
        if (c->kind == CTX_UNIT)
            dram_resolve(S, c);
        else
            sim_wake(S, c->id, S->now + S->dram_lat);
        if (!has_demand(x))
            S->dram_active[best] = S->dram_active[--S->n_dram_active];
    }
    if (S->n_dram_active == 0 && S->dram_budget > EMU_BURST)
        S->dram_budget = EMU_BURST;  /* an idle DRAM banks no bandwidth */
    if (moved) {
        S->dram_last_busy = S->now;
        emu_result *res = S->res;
        while (S->now / res->dram_window >= 512) {
            /* double the window: merge pairs */
            for (int k = 0; k < 256; k++)
                res->dram_window_bytes[k] = res->dram_window_bytes[2 * k] + res->dram_window_bytes[2 * k + 1];
            memset(res->dram_window_bytes + 256, 0, 256 * sizeof *res->dram_window_bytes);
            res->dram_window *= 2;
        }
        res->dram_window_bytes[S->now / res->dram_window] += moved;
        if (S->trace)
            trace_dram(S, S->now, moved);
    }
    if (S->n_dram_active > 0)
        sim_wake(S, -1, S->now + 1);
    else
        S->dram_scheduled = false;
}

/* Landed bytes: bursts whose latency has passed leave the ring. */
static void land(emu_sim *S, emu_xfer *x)
{
    while (x->ring_head < x->ring_tail && x->grant_time[x->ring_head % RING] + S->dram_lat <= S->now) {
        x->ring_head++;
        int64_t landed = x->ring_head * EMU_BURST;
        x->arrived_bytes = landed < x->granted ? landed : x->granted;
        if (x->ring_head == x->ring_tail)
            x->arrived_bytes = x->granted;
    }
}

static void wait_landing(emu_sim *S, emu_ctx *c)
{
    emu_xfer *x = &c->x;
    sim_block(S, c, WAIT_DRAM, -1);
    if (x->ring_head < x->ring_tail)
        sim_wake(S, c->id, x->grant_time[x->ring_head % RING] + S->dram_lat);
    dram_demand(S, c);
}

/* ------------------------------------------------------------------ */
/* Load, store, kernel                                                 */

void dram_load_step(emu_sim *S, emu_ctx *c)
{
    emu_xfer *x = &c->x;
    const dfg_mem *m = &S->g->mems[x->mem];
    land(S, x);
    for (;;) {
        if (x->target >= x->n_out) {
            c->done = true;
            return;
        }
        if (x->walk.done < x->walk.total)
            break;
        if (++x->target < x->n_out)
            walk_init(&x->walk, dfg_part_type(m), dfg_part_banks(m), x->out_lo[x->target], x->out_hi[x->target]);
    }
    /* The next vector: within the row it is in, up to `lanes` words. */
    emu_walk peek = x->walk;
    int64_t elem[EMU_MAX_LANES];
    int n = walk_next(&peek, elem, S->lanes);
    int64_t need = (x->load_bytes + (int64_t)n * 4);
    if (x->arrived_bytes < need) {
        wait_landing(S, c);
        return;
    }
    bool multicast = x->out_lo[x->target] < 0;
    int first = multicast ? 0 : x->target, last = multicast ? x->n_out : x->target + 1;
    for (int q = first; q < last; q++)
        if (!fifo_can_push(&S->fifo[x->out[q]])) {
            sim_block(S, c, WAIT_CREDIT, x->out[q]);
            return;
        }
    x->walk = peek;
    for (int q = first; q < last; q++) {
        uint32_t *w = fifo_push(S, x->out[q], S->now + 1, elem[0], n);
        for (int l = 0; l < n; l++)
            w[l] = x->image[elem[l]];
    }
    x->load_bytes += (int64_t)n * 4;
    if (multicast && x->walk.done >= x->walk.total)
        x->target = x->n_out;
    sim_fired(S, c, 1);
    dram_demand(S, c);
}

void dram_store_step(emu_sim *S, emu_ctx *c)
{
    emu_xfer *x = &c->x;
    const dfg_mem *m = &S->g->mems[x->mem];
    land(S, x);
    if (x->walk.done >= x->walk.total) {
        /* Everything received: done once every burst has landed. */
        if (x->granted < x->bytes || x->ring_head < x->ring_tail) {
            wait_landing(S, c);
            return;
        }
        c->done = true;
        return;
    }
    if (x->bytes - x->granted >= RING * EMU_BURST) {
        wait_landing(S, c);
        return;
    }
    if (!fifo_can_pop(&S->fifo[x->fifo], S->now)) {
        sim_wait_input(S, c, x->fifo);
        dram_demand(S, c);
        return;
    }
    int64_t tag;
    int count;
    const uint32_t *w = fifo_front(&S->fifo[x->fifo], &tag, &count);
    int64_t elem[EMU_MAX_LANES];
    int n = walk_next(&x->walk, elem, S->lanes);
    if (n != count || elem[0] != tag) {
        sim_fault(S, c->id, NULL, "the store of '%s' expected %d words at element %lld and received %d at %lld",
                  m->name, n, (long long)elem[0], count, (long long)tag);
        return;
    }
    for (int l = 0; l < n; l++)
        x->image[elem[l]] = w[l];
    fifo_pop(S, x->fifo);
    x->bytes += (int64_t)n * 4;
    sim_fired(S, c, 1);
    dram_demand(S, c);
}

void dram_kernel_step(emu_sim *S, emu_ctx *c)
{
    emu_xfer *x = &c->x;
    emu_ctl *root = &S->ctl[S->root_ctl];
    land(S, x);
    for (;;) {
        switch (x->phase) {
        case 0: /* wait for the kernel before to store, then reconfigure */
            if (x->def > 0) {
                const emu_ctx *prev = &S->ctx[c->id - 1];
                if (!prev->done) {
                    sim_block(S, c, WAIT_TOKEN, prev->id);
                    return;
                }
                if (x->wait_until < 0) {
                    x->wait_until = S->now + S->f->reconfig_cycles;
                    S->res->reconfig_cycles += S->f->reconfig_cycles;
                }
                if (S->now < x->wait_until) {
                    sim_block(S, c, WAIT_TOKEN, -1);
                    sim_wake(S, c->id, x->wait_until);
                    return;
                }
            }
            x->phase = 1;
            x->bytes = x->load_bytes;
            break;
        case 1: /* load what the kernel reads */
            if (x->arrived_bytes < x->bytes) {
                wait_landing(S, c);
                return;
            }
            S->kernel_ready[x->def] = true;
            for (int k = 0; k < root->n_waiters; k++)
                sim_wake(S, root->waiters[k], S->now + 1);
            x->phase = 2;
            break;
        case 2: /* the kernel computes */
            if (root->min_done[x->def] < 1) {
                sim_block(S, c, WAIT_TOKEN, S->root_ctl);
                return;
            }
            x->phase = 3;
            x->bytes += x->store_bytes;
            break;
        case 3: /* store what it defines */
            if (x->arrived_bytes < x->bytes) {
                wait_landing(S, c);
                return;
            }
            for (int k = 0; k < S->n_ctx; k++)
                if (S->ctx[k].kind == CTX_STORE && S->ctx[k].x.mem == x->mem && !S->ctx[k].done) {
                    sim_block(S, c, WAIT_DRAM, -1);
                    sim_wake(S, c->id, S->now + 1);
                    return;
                }
            x->phase = 4;
            c->done = true;
            if (c->id + 1 < S->n_ctx && S->ctx[c->id + 1].kind == CTX_KERNEL)
                sim_wake(S, c->id + 1, S->now + 1);
            return;
        default:
            c->done = true;
            return;
        }
    }
}

/* ------------------------------------------------------------------ */
/* DRAM-resident tensors: the accesses of their VAGs                   */

/*
 * A tensor larger than a PMU stays in DRAM; its VAG runs the loads and
 * stores the loop program makes of it, each on the lanes of one vector.
 * The access is done on the DRAM image when the VAG issues it (the
 * values are the ones DRAM holds then: accesses of one VAG are in program
 * order, and a definition reading what another stored starts only after
 * the store's bursts landed, dram_settled).  Its timing: the 64-byte
 * bursts the active lanes touch join the VAG's demand, which the arbiter
 * grants with every other AGCU's (dram_step); a loaded vector waits in
 * the AGCU (its FIFO entry is EMU_PENDING) until its bursts are granted,
 * and arrives latency_ns later plus the stream's hops.  An AGCU holds at
 * most EMU_AGCU_BUFFER bytes waiting: a VAG with that much demand not yet
 * granted stops issuing, and the FIFOs it feeds are that much deeper.
 * Bursts are counted per vector: two vectors touching one burst pay for
 * it twice (no cache in the AGCU; docs/emulator.md).
 */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int dram_access(emu_sim *S, emu_ctx *c, const emu_mu *m, int n, bool masked)
{
    const dfg_op *op = m->op;
    const dfg_mem *mem = &S->g->mems[op->mem];
    int L = S->lanes;
    uint32_t *dst = m->dst >= 0 ? c->reg + (size_t)m->dst * (size_t)L : NULL;
    if (masked || n <= 0) {
        if (dst)
            memset(dst, 0, (size_t)L * sizeof *dst);
        return 0;
    }
    const uint32_t *pp = m->pred >= 0 ? c->reg + (size_t)m->pred * (size_t)L : NULL;
    const uint32_t *pa = m->a >= 0 ? c->reg + (size_t)m->a * (size_t)L : NULL;
    uint32_t *img = S->dram_image[op->mem];
    int64_t burst[EMU_MAX_LANES];
    int nb = 0;
    bool sorted = true;
    for (int l = 0; l < n; l++) {
        if (pp && pp[(size_t)l * m->sp] == 0) {
            if (dst)
                dst[l] = 0;
            continue;
        }
        int64_t e = 0;
        for (int k = 0; k < m->n_idx; k++) {
            int32_t i = (int32_t)c->reg[(size_t)m->idx[k] * (size_t)L + (size_t)l * m->sidx[k]];
            if (i < 0 || i >= mem->type.dims[k])
                return sim_fault(S, c->id, op, "index %d out of bounds for dimension %d of '%s' (size %d)", i, k,
                                 mem->name, mem->type.dims[k]);
            e = e * mem->type.dims[k] + i;
        }
        emu_mem_word(S->res, op, mem->type.elem, &img[e], dst ? &dst[l] : NULL, pa ? pa[(size_t)l * m->sa] : 0);
        int64_t b = e * 4 / EMU_BURST;
        if (nb == 0 || burst[nb - 1] != b) {
            sorted &= nb == 0 || burst[nb - 1] < b;
            burst[nb++] = b;
        }
    }
    if (nb == 0)
        return 0;
    if (!sorted) {
        qsort(burst, (size_t)nb, sizeof *burst, cmp_i64);
        int u = 1;
        for (int k = 1; k < nb; k++)
            if (burst[k] != burst[u - 1])
                burst[u++] = burst[k];
        nb = u;
    }
    int64_t bytes = (int64_t)nb * EMU_BURST;
    S->res->lane_ops += n;
    S->res->unit[c->unit].accesses++;
    if (op->code != DFG_STORE)
        S->res->dram_read_bytes += bytes;
    if (op->code != DFG_LOAD) {
        S->res->dram_write_bytes += bytes;
        c->x.wrote = true;
    }
    c->x.bytes += op->code == DFG_RMW ? 2 * bytes : bytes;
    dram_demand(S, c);
    return nb;
}

uint32_t *dram_send(emu_sim *S, emu_ctx *c, int q, int count)
{
    emu_xfer *x = &c->x;
    if (x->granted >= x->bytes && c->pend_head == c->pend_tail)
        return fifo_push(S, q, S->now + c->latency, 0, count);
    if (c->pend_tail - c->pend_head >= c->pend_cap) {
        /* grow the ring, unrolled into the new array */
        int cap = c->pend_cap ? 2 * c->pend_cap : 64;
        emu_pend *p = xmalloc((size_t)cap * sizeof *p);
        if (!p) {
            sim_fault(S, c->id, NULL, "out of memory");
            return NULL;
        }
        for (int64_t k = c->pend_head; k < c->pend_tail; k++)
            p[k - c->pend_head] = c->pend[k % c->pend_cap];
        free(c->pend);
        c->pend = p;
        c->pend_tail -= c->pend_head;
        c->pend_head = 0;
        c->pend_cap = cap;
    }
    emu_fifo *f = &S->fifo[q];
    c->pend[c->pend_tail % c->pend_cap] = (emu_pend){.fifo = q, .pos = f->tail, .need = x->bytes};
    c->pend_tail++;
    return fifo_push(S, q, EMU_PENDING, 0, count);
}

void dram_resolve(emu_sim *S, emu_ctx *c)
{
    emu_xfer *x = &c->x;
    x->ring_head = x->ring_tail;  /* no landing ring: the FIFOs hold what waits */
    while (c->pend_head < c->pend_tail) {
        emu_pend *p = &c->pend[c->pend_head % c->pend_cap];
        if (p->need > x->granted)
            break;
        emu_fifo *f = &S->fifo[p->fifo];
        if (p->pos >= f->head) {
            int64_t at = S->now + S->dram_lat + c->latency + f->hop_latency;
            if (p->pos > f->head) {
                int64_t prev = f->ready[(p->pos - 1) % f->depth];
                if (prev < EMU_PENDING && at <= prev)
                    at = prev + 1;
            }
            f->ready[p->pos % f->depth] = at;
            if (f->cons >= 0)
                sim_wake(S, f->cons, at);
        }
        c->pend_head++;
    }
    if (c->wait == WAIT_DRAM)
        sim_wake(S, c->id, S->now + 1);
}

bool dram_settled(emu_sim *S, emu_ctx *c)
{
    emu_xfer *x = &c->x;
    if (x->granted < x->bytes) {
        sim_block(S, c, WAIT_DRAM, -1);
        dram_demand(S, c);
        return false;
    }
    if (x->wrote && x->last_grant + S->dram_lat > S->now) {
        sim_block(S, c, WAIT_DRAM, -1);
        sim_wake(S, c->id, x->last_grant + S->dram_lat);
        return false;
    }
    x->wrote = false;
    if (c->wait != WAIT_NONE) {
        c->waited[c->wait] += S->now - c->wait_since;
        c->wait = WAIT_NONE;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Building the transfer contexts                                      */

static int new_ctx(emu_sim *S, emu_ctx_kind kind, int unit, const char *what)
{
    int c = sim_new_ctx(S, kind, unit, what);
    if (c >= 0 && (kind == CTX_LOAD || kind == CTX_STORE || kind == CTX_KERNEL)) {
        S->ctx[c].x.grant_time = xcalloc(RING, sizeof *S->ctx[c].x.grant_time);
        if (!S->ctx[c].x.grant_time)
            return -1;
    }
    return c;
}

int dram_agcu_of(const emu_sim *S, int unit)
{
    if (S->o.site_row && S->o.site_col)
        return S->o.site_row[unit] * S->f->cols + S->o.site_col[unit];
    return S->f->rows * S->f->cols + unit;
}

static int def_of_mem(const dfg *g, int m)
{
    for (int k = 0; k < g->n_defs; k++)
        if (g->defs[k].target == &g->mems[m])
            return k;
    return -1;
}

/* Bytes definition k reads from program tensors (for the kernel baseline). */
static int64_t def_read_bytes(const dfg *g, const dfg_block *b, int k, bool *seen)
{
    int64_t bytes = 0;
    for (int q = 0; q < b->n; q++) {
        if (b->s[q].is_loop) {
            bytes += def_read_bytes(g, &b->s[q].loop->body, k, seen);
            continue;
        }
        const dfg_op *op = b->s[q].op;
        if (op->code != DFG_LOAD || seen[op->mem])
            continue;
        const dfg_mem *m = &g->mems[op->mem];
        if (m->kind == DFG_MEM_SCRATCH || m == g->defs[k].target || m->dram)
            continue;  /* a DRAM-resident tensor's reads are the design's own */
        seen[op->mem] = true;
        bytes += m->bytes;
    }
    return bytes;
}

int dram_build(emu_sim *S)
{
    const dfg *g = S->g;
    diag_loc at = diag_at_file(S->f->source);
    int *load_ctx = xmalloc(((size_t)g->n_units + 1) * sizeof *load_ctx);
    int *store_ctx = xmalloc(((size_t)g->n_units + 1) * sizeof *store_ctx);
    if (!load_ctx || !store_ctx) {
        free(load_ctx);
        free(store_ctx);
        return diag_error(S->d, at, "out of memory");
    }
    int rc = -1;
    for (int u = 0; u < g->n_units; u++) {
        load_ctx[u] = store_ctx[u] = -1;
        const dfg_unit *un = &g->units[u];
        if (un->kind != DFG_VAG || g->mems[un->mem].dram)
            continue;  /* a DRAM-resident tensor's VAG runs a program (program.c) */
        int c = new_ctx(S, un->store ? CTX_STORE : CTX_LOAD, u, un->name);
        if (c < 0)
            goto oom;
        S->ctx[c].x.mem = un->mem;
        S->ctx[c].x.agcu = dram_agcu_of(S, u);
        S->ctx[c].x.image = S->dram_image[un->mem];
        (un->store ? store_ctx : load_ctx)[u] = c;
    }
    /* Fills and drains: one per PMU copy of a DRAM tensor, wired by the
     * streams the graph has (whatever unit they come from). */
    for (int s = 0; s < g->n_streams; s++) {
        const dfg_stream *st = &g->streams[s];
        if (st->reg != DFG_NONE)
            continue;
        const dfg_unit *src = &g->units[st->src], *dst = &g->units[st->dst];
        if (src->kind == DFG_VAG && !src->store && dst->kind == DFG_VPMU) {
            int q = sim_new_fifo(S, s, S->lanes);
            if (q < 0)
                goto oom;
            int store = S->store_of[st->dst];
            int c = new_ctx(S, CTX_FILL, st->dst, arena_printf(g->a, "%s (fill)", dst->name));
            if (c < 0)
                goto oom;
            emu_ctx *fc = &S->ctx[c];
            fc->x.store = store;
            fc->x.fifo = q;
            fc->x.mem = dst->mem;
            const emu_store *es = &S->store[store];
            const dfg_mem *m = &g->mems[dst->mem];
            walk_init(&fc->x.walk, dfg_part_type(m), dfg_part_banks(m), es->row_lo, es->row_hi);
            S->fifo[q].cons = c;
            /* The load streams what its own tensor holds into this FIFO. */
            emu_ctx *lc = &S->ctx[load_ctx[st->src]];
            int *out = xrealloc(lc->x.out, (size_t)(lc->x.n_out + 1) * sizeof *out);
            int32_t *lo = out ? xrealloc(lc->x.out_lo, (size_t)(lc->x.n_out + 1) * sizeof *lo) : NULL;
            if (out)
                lc->x.out = out;
            if (lo)
                lc->x.out_lo = lo;
            int32_t *hi = lo ? xrealloc(lc->x.out_hi, (size_t)(lc->x.n_out + 1) * sizeof *hi) : NULL;
            if (!hi)
                goto oom;
            lc->x.out_hi = hi;
            const dfg_mem *lm = &g->mems[lc->x.mem];
            bool full = !lm->partitioned;
            lc->x.out[lc->x.n_out] = q;
            lc->x.out_lo[lc->x.n_out] = full ? -1 : es->row_lo;
            lc->x.out_hi[lc->x.n_out] = full ? -1 : es->row_hi;
            lc->x.n_out++;
            S->fifo[q].prod = lc->id;
        } else if (src->kind == DFG_VPMU && dst->kind == DFG_VAG && dst->store) {
            int q = sim_new_fifo(S, s, S->lanes);
            if (q < 0)
                goto oom;
            int store = S->store_of[st->src];
            int c = new_ctx(S, CTX_DRAIN, st->src, arena_printf(g->a, "%s (drain)", src->name));
            if (c < 0)
                goto oom;
            emu_ctx *dc = &S->ctx[c];
            dc->x.store = store;
            dc->x.fifo = q;
            dc->x.mem = src->mem;
            dc->x.def = def_of_mem(g, src->mem);
            dc->def = dc->x.def;
            const emu_store *es = &S->store[store];
            const dfg_mem *m = &g->mems[src->mem];
            walk_init(&dc->x.walk, dfg_part_type(m), dfg_part_banks(m), es->row_lo, es->row_hi);
            S->fifo[q].prod = c;
            emu_ctx *sc = &S->ctx[store_ctx[st->dst]];
            if (sc->x.fifo >= 0) {
                diag_error(S->d, diag_at_file("rdumap"), "internal error of the mapping: store '%s' is fed by two PMUs", dst->name);
                goto out;
            }
            sc->x.fifo = q;
            walk_init(&sc->x.walk, dfg_part_type(m), dfg_part_banks(m), es->row_lo, es->row_hi);
            S->fifo[q].cons = sc->id;
        }
    }
    /* Loads: the first target's walk; the bytes they will move. */
    for (int c = 0; c < S->n_ctx; c++) {
        emu_ctx *lc = &S->ctx[c];
        if (lc->kind == CTX_LOAD) {
            const dfg_mem *m = &g->mems[lc->x.mem];
            if (lc->x.n_out == 0) {
                lc->done = true;
                continue;
            }
            bool multicast = lc->x.out_lo[0] < 0;
            int64_t words = 0;
            for (int q = 0; q < lc->x.n_out; q++) {
                emu_walk w;
                int32_t lo = multicast ? 0 : lc->x.out_lo[q],
                        hi = multicast ? (m->type.rank ? dfg_part_type(m)->dims[0] : 1) : lc->x.out_hi[q];
                walk_init(&w, dfg_part_type(m), dfg_part_banks(m), lo, hi);
                words += w.total;
                if (q == 0)
                    lc->x.walk = w;
                if (multicast) {
                    for (int k = 0; k < lc->x.n_out; k++)
                        lc->x.out_lo[k] = lc->x.out_hi[k] = -1;
                    break;
                }
            }
            lc->x.bytes = words * 4;
            S->res->dram_read_bytes += lc->x.bytes;
        } else if (lc->kind == CTX_STORE) {
            if (lc->x.fifo < 0)
                lc->done = true;
            lc->x.bytes = 0;  /* grows as words arrive */
            S->res->dram_write_bytes += lc->x.walk.total * 4;
        }
    }
    if (S->o.kernel_baseline) {
        /* Each definition a kernel: the inputs of the first arrive through
         * the VAGs as in the spatial design; every later kernel loads again
         * what it reads, and a kernel whose result is an intermediate stores
         * it (an output is stored by its own VAG). */
        bool *seen = xcalloc((size_t)g->n_mems + 1, sizeof *seen);
        if (!seen)
            goto oom;
        for (int k = 0; k < g->n_defs; k++) {
            memset(seen, 0, (size_t)g->n_mems * sizeof *seen);
            int c = new_ctx(S, CTX_KERNEL, -1, arena_printf(g->a, "kernel %s", g->defs[k].target->name));
            if (c < 0) {
                free(seen);
                goto oom;
            }
            emu_xfer *x = &S->ctx[c].x;
            x->def = k;
            S->ctx[c].def = k;
            x->agcu = -1 - k;
            x->load_bytes = k == 0 ? 0 : def_read_bytes(g, &g->defs[k].body, k, seen);
            x->store_bytes = g->defs[k].target->kind == DFG_MEM_BUFFER && !g->defs[k].target->dram
                                 ? g->defs[k].target->bytes : 0;
            x->mem = (int)(g->defs[k].target - g->mems);
            S->res->dram_read_bytes += x->load_bytes;
            S->res->dram_write_bytes += x->store_bytes;
        }
        free(seen);
    }
    rc = 0;
    goto out;
oom:
    diag_error(S->d, at, "out of memory in the simulator");
out:
    free(load_ctx);
    free(store_ctx);
    return rc;
}
