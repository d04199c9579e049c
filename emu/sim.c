/*
 * sim.c — the cycle loop of the simulator: contexts, their scheduling,
 * the controllers' tokens, deadlock detection and the results.
 *
 * The loop is event-driven at cycle granularity: a context is stepped in a
 * cycle when it may be able to act — after its last issue's cycles, when a
 * FIFO it waits on receives an entry or frees a credit, when a token it
 * waits for is released, when the banks it waits for are free, when a
 * DRAM burst lands.  Contexts due in the same cycle are stepped in the
 * order of their index (the DRAM arbiter first), so runs are
 * deterministic.  A stepped context either issues (one vector or scalar
 * group in a cycle, more cycles for bank conflicts), or blocks and records
 * why: waiting for an input (starved), for credit (back-pressured), for
 * the banks (contention), for a token or a DRAM transfer (starved).
 *
 * A controller stage starts an iteration when the stage before it has
 * finished that iteration; a sequential controller also waits for its
 * last stage to finish the previous iteration; a meta-pipeline lets each
 * stage run ahead of the stages after it by at most the depth of the
 * buffers between them.  Tokens take one cycle.
 *
 * When no context can ever act again and some have not finished, the
 * design is deadlocked: the report names each waiting unit, its site, and
 * what it waits for.
 */
#include "emu/emu_internal.h"
#include "util/alloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* Scheduling                                                          */

static bool heap_less(const emu_heap_item *a, const emu_heap_item *b)
{
    return a->t < b->t || (a->t == b->t && a->ctx < b->ctx);
}

static int heap_push(emu_sim *S, int64_t t, int ctx)
{
    if (!emu_grow((void **)&S->heap, S->n_heap, &S->cap_heap, sizeof *S->heap))
        return -1;
    int k = S->n_heap++;
    emu_heap_item it = {t, ctx};
    while (k > 0) {
        int p = (k - 1) / 2;
        if (!heap_less(&it, &S->heap[p]))
            break;
        S->heap[k] = S->heap[p];
        k = p;
    }
    S->heap[k] = it;
    return 0;
}

static emu_heap_item heap_pop(emu_sim *S)
{
    emu_heap_item top = S->heap[0];
    emu_heap_item last = S->heap[--S->n_heap];
    int k = 0;
    for (;;) {
        int c = 2 * k + 1;
        if (c >= S->n_heap)
            break;
        if (c + 1 < S->n_heap && heap_less(&S->heap[c + 1], &S->heap[c]))
            c++;
        if (!heap_less(&S->heap[c], &last))
            break;
        S->heap[k] = S->heap[c];
        k = c;
    }
    if (S->n_heap > 0)
        S->heap[k] = last;
    return top;
}

void sim_wake(emu_sim *S, int ctx, int64_t t)
{
    if (ctx < 0) {
        if (heap_push(S, t, -1) != 0)
            S->failed = true;
        return;
    }
    emu_ctx *c = &S->ctx[ctx];
    if (c->done)
        return;
    if (c->sched >= 0 && c->sched <= t)
        return;
    c->sched = t;
    if (heap_push(S, t, ctx) != 0)
        S->failed = true;
}

void sim_block(emu_sim *S, emu_ctx *c, emu_wait why, int obj)
{
    if (c->wait != WAIT_NONE) {
        c->waited[c->wait] += S->now - c->wait_since;
        if (c->first >= 0)
            c->stalled[c->wait] += S->now - c->wait_since;
    }
    c->wait = why;
    c->wait_obj = obj;
    c->wait_since = S->now;
}

void sim_fired(emu_sim *S, emu_ctx *c, int64_t cycles)
{
    if (c->wait != WAIT_NONE) {
        c->waited[c->wait] += S->now - c->wait_since;
        if (c->first >= 0)
            c->stalled[c->wait] += S->now - c->wait_since;
        c->wait = WAIT_NONE;
    }
    if (c->first < 0)
        c->first = S->now;
    c->last = S->now + cycles;
    c->busy += cycles;
    c->issues++;
    if (c->last > S->end)
        S->end = c->last;
    if (S->trace)
        trace_span(S, c->id, S->now, S->now + cycles);
    sim_wake(S, c->id, S->now + cycles);
}

bool emu_grow(void **array, int n, int *cap, size_t elem)
{
    if (n < *cap)
        return true;
    int ncap = *cap ? 2 * *cap : 16;
    void *grown = xrealloc(*array, (size_t)ncap * elem);
    if (!grown)
        return false;
    *array = grown;
    *cap = ncap;
    return true;
}

int sim_new_ctx(emu_sim *S, emu_ctx_kind kind, int unit, const char *what)
{
    if (!emu_grow((void **)&S->ctx, S->n_ctx, &S->cap_ctx, sizeof *S->ctx))
        return -1;
    emu_ctx *c = &S->ctx[S->n_ctx];
    memset(c, 0, sizeof *c);
    c->id = S->n_ctx;
    c->kind = kind;
    c->unit = unit;
    c->replica = -1;
    c->def = -1;
    c->what = what;
    c->sched = -1;
    c->first = c->last = -1;
    c->pc = -1;
    c->x.mem = c->x.store = c->x.fifo = -1;
    c->x.wait_until = -1;
    return S->n_ctx++;
}

int sim_new_fifo(emu_sim *S, int stream, int width)
{
    if (!emu_grow((void **)&S->fifo, S->n_fifo, &S->cap_fifo, sizeof *S->fifo))
        return -1;
    int64_t hops = stream >= 0 ? S->g->streams[stream].hops : 0;
    int depth = S->f->fifo_depth;
    if (stream >= 0) {
        /* What a DRAM-resident tensor's VAG reads waits for its bursts in
         * the AGCU's buffer, in front of the stream's FIFO. */
        const dfg_unit *su = &S->g->units[S->g->streams[stream].src];
        if (su->kind == DFG_VAG && S->g->mems[su->mem].dram)
            depth += EMU_AGCU_BUFFER / (4 * width);
    }
    if (fifo_init(&S->fifo[S->n_fifo], stream, width, depth, hops * S->f->hop_cycles) != 0) {
        fifo_free(&S->fifo[S->n_fifo]);
        return -1;
    }
    return S->n_fifo++;
}

const char *sim_ctx_name(const emu_sim *S, int ci, char *buf, size_t size)
{
    const emu_ctx *c = &S->ctx[ci];
    if (c->unit < 0) {
        snprintf(buf, size, "%s", c->what);
        return buf;
    }
    const dfg_unit *u = &S->g->units[c->unit];
    char site[48] = "";
    if (S->o.site_row)
        snprintf(site, sizeof site, " at (%d,%d)", S->o.site_row[c->unit], S->o.site_col[c->unit]);
    char rep[32] = "";
    if (c->replica >= 0)
        snprintf(rep, sizeof rep, ", replica %d", c->replica);
    snprintf(buf, size, "%s '%s'%s%s%s", dfg_unit_kind_name(u->kind), u->name, site, rep,
             c->kind == CTX_FILL ? " (DRAM fill)" : c->kind == CTX_DRAIN ? " (DRAM drain)" : "");
    return buf;
}

int sim_fault(emu_sim *S, int ci, const dfg_op *op, const char *fmt, ...)
{
    char msg[512], who[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!S->failed) {
        sim_ctx_name(S, ci, who, sizeof who);
        if (op && op->loc.line > 0)
            diag_error(S->d, diag_at_file("rdumap"),
                       "internal error of the mapping: %s faulted at cycle %lld: %s, in the operation from "
                       "%s:%d:%d; the reference ran this program cleanly",
                       who, (long long)S->now, msg, op->loc.file ? op->loc.file : "?", op->loc.line, op->loc.col);
        else
            diag_error(S->d, diag_at_file("rdumap"),
                       "internal error of the mapping: %s faulted at cycle %lld: %s", who, (long long)S->now, msg);
    }
    S->failed = true;
    return -1;
}

/* ------------------------------------------------------------------ */
/* Controllers                                                         */

void sim_wait_input(emu_sim *S, emu_ctx *c, int q)
{
    sim_block(S, c, WAIT_INPUT, q);
    int64_t t = fifo_head_ready(&S->fifo[q]);
    if (t > S->now && t < EMU_PENDING)
        sim_wake(S, c->id, t);
}

static void ctl_wait(emu_sim *S, emu_ctl *C, emu_ctx *c)
{
    for (int k = 0; k < C->n_waiters; k++)
        if (C->waiters[k] == c->id)
            return;
    if (!emu_grow((void **)&C->waiters, C->n_waiters, &C->cap_waiters, sizeof *C->waiters)) {
        S->failed = true;
        return;
    }
    C->waiters[C->n_waiters++] = c->id;
}

/* May participant `part` of stage s start its next iteration? */
static bool stage_may_start(const emu_sim *S, int ci, const emu_ctl *C, int s, int part)
{
    int64_t n = C->part_done[s][part];
    int ns = C->n_stages;
    for (int p = s - 1; p >= 0; p--)
        if (C->n_part[p] > 0) {
            if (C->min_done[p] < n + 1)
                return false;
            break;
        }
    if (!C->metapipe && n > 0) {
        /* sequential: the last stage finished the previous iteration */
        for (int p = ns - 1; p > s; p--)
            if (C->n_part[p] > 0) {
                if (C->min_done[p] < n)
                    return false;
                break;
            }
    }
    if (C->metapipe)
        for (int t = s + 1; t < ns; t++) {
            int d = C->lag_depth[s * ns + t];
            if (d > 0 && C->n_part[t] > 0 && C->min_done[t] < n - d + 1)
                return false;
        }
    if (C == &S->ctl[S->root_ctl] && S->o.kernel_baseline && !S->kernel_ready[s])
        return false;
    (void)ci;
    return true;
}

static void stage_done(emu_sim *S, emu_ctl *C, int s, int part)
{
    C->part_done[s][part]++;
    int64_t m = C->part_done[s][0];
    for (int k = 1; k < C->n_part[s]; k++)
        if (C->part_done[s][k] < m)
            m = C->part_done[s][k];
    if (m != C->min_done[s]) {
        C->min_done[s] = m;
        for (int k = 0; k < C->n_waiters; k++)
            sim_wake(S, C->waiters[k], S->now + 1);
        C->n_waiters = 0;
        /* drains wait on the program's controller */
        if (C == &S->ctl[S->root_ctl])
            for (int k = 0; k < S->n_ctx; k++)
                if (S->ctx[k].wait == WAIT_TOKEN && S->ctx[k].wait_obj == S->root_ctl)
                    sim_wake(S, k, S->now + 1);
    }
}

/* ------------------------------------------------------------------ */
/* Running a unit's program                                            */

static bool masked_now(const emu_ctx *c)
{
    for (int k = 0; k < c->sp; k++)
        if (c->stack[k].masked)
            return true;
    return false;
}

/* Set the counter for the frame's current iteration; false when the loop
 * has no iteration left. */
static bool begin_iteration(emu_sim *S, emu_ctx *c, emu_frame *fr)
{
    const emu_node *nd = &c->node[fr->node];
    int L = S->lanes;
    uint32_t *ctr = c->reg + (size_t)nd->ctr * (size_t)L;
    for (;;) {
        if (fr->scan) {
            /* the counter chain steps to the next set bit of the mask */
            int32_t from = fr->it;
            while (fr->it < fr->hi && !((fr->mask >> ((uint32_t)fr->it & 31u)) & 1u))
                fr->it++;
            if (nd->n_acc)
                S->res->skipped_iterations += fr->it - from;
        }
        if (fr->it >= fr->hi)
            return false;
        if (!nd->vector) {
            ctr[0] = (uint32_t)fr->it;
            fr->n = 1;
            break;
        }
        int n = fr->hi - fr->it < L ? (int)(fr->hi - fr->it) : L;
        for (int l = 0; l < L; l++)
            ctr[l] = (uint32_t)(fr->it + (l < n ? l : 0));
        fr->n = n;
        if (nd->guard < 0 || S->o.dense || fr->masked)
            break;
        /* The counter chain evaluates the guard: skip a vector with no lane on. */
        for (int k = 0; k < nd->guard_n; k++)
            pcu_lane(S, c, &c->mu[nd->guard_mu + k], n, false);
        const uint32_t *gv = c->reg + (size_t)nd->guard * (size_t)L;
        bool any = false;
        for (int l = 0; l < n && !any; l++)
            any = gv[l] != 0;
        if (any)
            break;
        if (nd->count)
            S->res->skipped_vectors++;
        fr->it += L;
    }
    c->seq[fr->node]++;
    return true;
}

static void enter_loop(emu_sim *S, emu_ctx *c, int ni)
{
    const emu_node *nd = &c->node[ni];
    int L = S->lanes;
    int32_t lo = (int32_t)c->reg[(size_t)nd->lo * (size_t)L];
    int32_t hi = (int32_t)c->reg[(size_t)nd->hi * (size_t)L];
    bool off = nd->pred >= 0 && c->reg[(size_t)nd->pred * (size_t)L] == 0;
    for (int a = 0; a < nd->n_acc; a++) {
        const emu_acc *ea = &c->acc[nd->first_acc + a];
        c->reg[(size_t)ea->reg * (size_t)L] = pcu_identity(ea->src->op, ea->src->type);
    }
    if (nd->loop->bounded && S->o.dense) {
        /* --dense: the whole static range, under the guard */
        lo = 0;
        hi = nd->loop->trip;
    }
    if (nd->chunked) {
        int32_t base = lo;
        lo = base + nd->chunk_lo;
        hi = base + nd->chunk_hi;
    }
    bool masked = false;
    if (off) {
        if (!(S->o.dense && nd->loop->trip >= 0)) {
            c->pc = nd->next;
            return;
        }
        masked = true;
        hi = lo + nd->loop->trip;
    }
    if (hi <= lo) {
        c->pc = nd->next;
        return;
    }
    if (c->sp >= EMU_MAX_NEST) {
        sim_fault(S, c->id, NULL, "loops nested deeper than %d", EMU_MAX_NEST);
        return;
    }
    bool outer_masked = masked_now(c);
    emu_frame *fr = &c->stack[c->sp++];
    *fr = (emu_frame){.node = ni, .it = lo, .hi = hi, .masked = masked || outer_masked};
    if (nd->scan >= 0 && !S->o.dense && !fr->masked) {
        fr->scan = true;
        fr->mask = c->reg[(size_t)nd->scan * (size_t)L];
    }
    if (!begin_iteration(S, c, fr)) {
        c->sp--;
        c->pc = nd->next;
        return;
    }
    c->pc = nd->child;
}

/* The end of a loop body: the next iteration, or the loop's exit. */
static void end_of_body(emu_sim *S, emu_ctx *c)
{
    emu_frame *fr = &c->stack[c->sp - 1];
    const emu_node *nd = &c->node[fr->node];
    fr->it += nd->vector ? S->lanes : 1;
    if (begin_iteration(S, c, fr)) {
        c->pc = nd->child;
        return;
    }
    c->sp--;
    c->pc = nd->next;
}

/* Try to run ISSUE node nd; returns the cycles it took (0: free), or -1
 * when the context blocked. */
static int64_t run_issue(emu_sim *S, emu_ctx *c, const emu_node *nd)
{
    int L = S->lanes;
    bool vec = nd->parent >= 0 && c->node[nd->parent].vector;
    int n = vec && c->sp > 0 ? c->stack[c->sp - 1].n : 1;
    bool masked = masked_now(c);
    /* Every input present, every output with credit, the banks free. */
    for (int k = 0; k < nd->n_mu; k++) {
        const emu_mu *m = &c->mu[nd->first_mu + k];
        if (m->kind == MU_RECV && !fifo_can_pop(&S->fifo[m->fifo], S->now)) {
            sim_wait_input(S, c, m->fifo);
            return -1;
        }
        if (m->kind == MU_SEND)
            for (int q = 0; q < m->n_fifo; q++)
                if (!fifo_can_push(&S->fifo[c->send[m->fifo + q]])) {
                    sim_block(S, c, WAIT_CREDIT, c->send[m->fifo + q]);
                    return -1;
                }
    }
    if (nd->dram && c->x.bytes - c->x.granted >= EMU_AGCU_BUFFER) {
        /* the AGCU holds as many bursts as it can wait for */
        sim_block(S, c, WAIT_DRAM, -1);
        dram_demand(S, c);
        return -1;
    }
    emu_store *st = nd->store >= 0 ? &S->store[nd->store] : NULL;
    if (st && !st->loaded) {
        sim_block(S, c, WAIT_LOADED, nd->store);
        return -1;
    }
    if (st && st->busy_until > S->now) {
        sim_block(S, c, WAIT_BANKS, nd->store);
        sim_wake(S, c->id, st->busy_until);
        return -1;
    }
    int64_t bank = 0;
    for (int k = 0; k < nd->n_mu && !S->failed; k++) {
        const emu_mu *m = &c->mu[nd->first_mu + k];
        switch (m->kind) {
        case MU_RECV: {
            emu_fifo *q = &S->fifo[m->fifo];
            const uint32_t *w = fifo_front(q, NULL, NULL);
            uint32_t *dst = c->reg + (size_t)m->dst * (size_t)L;
            if (q->width == 1)
                for (int l = 0; l < L; l++)
                    dst[l] = w[0];
            else
                memcpy(dst, w, (size_t)L * sizeof *dst);
            fifo_pop(S, m->fifo);
            break;
        }
        case MU_SEND: {
            const uint32_t *v = c->reg + (size_t)m->a * (size_t)L;
            for (int q = 0; q < m->n_fifo; q++) {
                int fi = c->send[m->fifo + q];
                int width = S->fifo[fi].width;
                /* a conflicting access delivers its words after its bank cycles */
                int64_t ready = S->now + c->latency + m->rot + (bank > 1 ? bank - 1 : 0);
                uint32_t *w = c->dram ? dram_send(S, c, fi, width == 1 ? 1 : n)
                                      : fifo_push(S, fi, ready, 0, width == 1 ? 1 : n);
                if (!w)
                    return -1;
                if (width == 1)
                    w[0] = v[0];
                else
                    memcpy(w, v, (size_t)L * sizeof *w);
            }
            break;
        }
        case MU_LANE:
            pcu_lane(S, c, m, n, masked);
            break;
        case MU_MEM:
        case MU_CHECK: {
            if (m->store < 0 && m->kind == MU_MEM) {
                if (dram_access(S, c, m, n, masked) < 0)
                    return -1;
                break;
            }
            int cyc = pmu_access(S, c, m, n, masked);
            if (cyc < 0)
                return -1;
            bank += cyc;
            break;
        }
        case MU_ACC:
            pcu_acc_step(S, c, &c->acc[m->acc], n, masked);
            break;
        }
    }
    if (S->failed)
        return -1;
    int64_t cost = nd->costs ? 1 : 0;
    if (bank > cost)
        cost = bank;
    if (st && bank > 0) {
        st->busy_until = S->now + bank;
        st->busy_cycles += bank;
    }
    if (vec && nd->costs && c->node[nd->parent].count)
        S->res->vectors++;
    return cost;
}

void prog_step(emu_sim *S, emu_ctx *c)
{
    for (int guard = 0; !S->failed; guard++) {
        if (c->pc < 0) {
            if (c->sp == 0) {
                if (c->dram && !dram_settled(S, c))
                    return;
                c->done = true;
                if (c->wait != WAIT_NONE) {
                    c->waited[c->wait] += S->now - c->wait_since;
                    c->wait = WAIT_NONE;
                }
                if (S->now > S->end)
                    S->end = S->now;
                return;
            }
            end_of_body(S, c);
            continue;
        }
        emu_node *nd = &c->node[c->pc];
        switch (nd->kind) {
        case NODE_LOOP:
            enter_loop(S, c, c->pc);
            continue;
        case NODE_STAGE_IN: {
            emu_ctl *C = &S->ctl[nd->ctl];
            if (!stage_may_start(S, c->id, C, nd->stage, nd->store)) {
                ctl_wait(S, C, c);
                sim_block(S, c, WAIT_TOKEN, nd->ctl);
                return;
            }
            c->pc = nd->next;
            continue;
        }
        case NODE_STAGE_OUT:
            if (c->dram && !dram_settled(S, c))
                return;
            stage_done(S, &S->ctl[nd->ctl], nd->stage, nd->store);
            c->pc = nd->next;
            continue;
        case NODE_ISSUE: {
            int64_t cost = run_issue(S, c, nd);
            if (cost < 0)
                return;
            c->pc = nd->next;
            if (cost > 0) {
                sim_fired(S, c, cost);
                return;
            }
            continue;
        }
        default:
            c->pc = nd->next;
            continue;
        }
    }
}

/* ------------------------------------------------------------------ */
/* The run                                                             */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *wait_name(emu_wait w)
{
    switch (w) {
    case WAIT_INPUT: return "an input";
    case WAIT_CREDIT: return "credit on an output";
    case WAIT_TOKEN: return "a control token";
    case WAIT_BANKS: return "its banks";
    case WAIT_DRAM: return "DRAM";
    case WAIT_LOADED: return "its tensor to arrive from DRAM";
    default: return "nothing";
    }
}

static void report_deadlock(emu_sim *S)
{
    const dfg *g = S->g;
    int waiting = 0;
    for (int k = 0; k < S->n_ctx; k++)
        waiting += !S->ctx[k].done;
    diag_error(S->d, diag_at_file("rdumap"),
               "internal error of the mapping: deadlock at cycle %lld: %d unit context%s wait and none can proceed",
               (long long)S->now, waiting, waiting == 1 ? "" : "s");
    int shown = 0;
    for (int k = 0; k < S->n_ctx && shown < 12; k++) {
        const emu_ctx *c = &S->ctx[k];
        if (c->done)
            continue;
        char who[256], what[384] = "";
        sim_ctx_name(S, k, who, sizeof who);
        if ((c->wait == WAIT_INPUT || c->wait == WAIT_CREDIT) && c->wait_obj >= 0) {
            const emu_fifo *q = &S->fifo[c->wait_obj];
            char other[256] = "?";
            int o = c->wait == WAIT_INPUT ? q->prod : q->cons;
            if (o >= 0)
                sim_ctx_name(S, o, other, sizeof other);
            const dfg_stream *st = q->stream >= 0 ? &g->streams[q->stream] : NULL;
            snprintf(what, sizeof what, " on stream %d (%s %s)%s%s", q->stream,
                     c->wait == WAIT_INPUT ? "from" : "to", other,
                     st && st->reg != DFG_NONE && g->regs[st->reg].name ? ", value " : "",
                     st && st->reg != DFG_NONE && g->regs[st->reg].name ? g->regs[st->reg].name : "");
        } else if (c->wait == WAIT_TOKEN && c->wait_obj >= 0 && c->wait_obj < S->n_ctl) {
            const emu_ctl *C = &S->ctl[c->wait_obj];
            snprintf(what, sizeof what, " of the %s controller of %s", C->metapipe ? "meta-pipeline" : "sequential",
                     C->loop ? (C->loop->label ? C->loop->label : "a loop") : "the program");
        }
        diag_note(S->d, diag_at_file("rdumap"), "%s waits for %s%s", who, wait_name(c->wait), what);
        shown++;
    }
}

static void free_sim(emu_sim *S)
{
    for (int k = 0; k < S->n_ctx; k++) {
        emu_ctx *c = &S->ctx[k];
        free(c->node);
        free(c->mu);
        free(c->send);
        free(c->acc);
        free(c->reg);
        free(c->seq);
        free(c->x.out);
        free(c->x.out_lo);
        free(c->x.out_hi);
        free(c->x.grant_time);
        free(c->pend);
    }
    free(S->ctx);
    for (int q = 0; q < S->n_fifo; q++)
        fifo_free(&S->fifo[q]);
    free(S->fifo);
    for (int k = 0; k < S->n_store; k++)
        free(S->store[k].data);
    free(S->store);
    free(S->store_of);
    for (int k = 0; k < S->n_ctl; k++) {
        emu_ctl *C = &S->ctl[k];
        for (int s = 0; s < C->n_stages; s++) {
            if (C->part)
                free(C->part[s]);
            if (C->part_done)
                free(C->part_done[s]);
        }
        free(C->n_part);
        free(C->part);
        free(C->part_done);
        free(C->min_done);
        free(C->lag_depth);
        free(C->waiters);
    }
    free(S->ctl);
    free(S->ctl_of_loop);
    free(S->heap);
    free(S->dram_active);
    free(S->kernel_ready);
    free(S->bank_count);
    if (S->unit_copy)
        for (int u = 0; u < S->g->n_units; u++)
            free(S->unit_copy[u]);
    free(S->unit_copy);
    free(S->n_unit_copy);
    if (S->dram_image)
        for (int m = 0; m < S->g->n_mems; m++)
            if (S->g->mems[m].kind != DFG_MEM_INPUT)
                free(S->dram_image[m]);
    free(S->dram_image);
    trace_free(S);
}

int emu_run(const dfg *g, const pat_values *vals, pat_values *out, emu_result *res, diag_list *d)
{
    return emu_run_opts(g, vals, out, NULL, res, d);
}

int emu_run_opts(const dfg *g, const pat_values *vals, pat_values *out, const emu_opts *o, emu_result *res,
                 diag_list *d)
{
    double t0 = now_seconds();
    const fab_fabric *f = g->fab;
    diag_loc at = diag_at_file(f->source);
    memset(res, 0, sizeof *res);
    memset(out, 0, sizeof *out);
    emu_sim S = {.g = g, .f = f, .res = res, .d = d, .lanes = g->opts.lanes, .root_ctl = -1, .dram_stepped = -1};
    if (o)
        S.o = *o;
    int rc = -1;
    if (S.lanes > EMU_MAX_LANES || S.lanes < 1)
        return diag_error(d, at, "the simulator supports 1 to %d lanes", EMU_MAX_LANES);
    res->n_units = g->n_units;
    res->n_streams = g->n_streams;
    res->unit = xcalloc((size_t)g->n_units + 1, sizeof *res->unit);
    res->stream_words = xcalloc((size_t)g->n_streams + 1, sizeof *res->stream_words);
    res->def_start = xcalloc((size_t)g->n_defs + 1, sizeof *res->def_start);
    res->def_end = xcalloc((size_t)g->n_defs + 1, sizeof *res->def_end);
    S.store_of = xmalloc(((size_t)g->n_units + 1) * sizeof *S.store_of);
    S.unit_copy = xcalloc((size_t)g->n_units + 1, sizeof *S.unit_copy);
    S.n_unit_copy = xcalloc((size_t)g->n_units + 1, sizeof *S.n_unit_copy);
    S.dram_image = xcalloc((size_t)g->n_mems + 1, sizeof *S.dram_image);
    S.kernel_ready = xcalloc((size_t)g->n_defs + 1, sizeof *S.kernel_ready);
    S.bank_count = xcalloc((size_t)f->pmu_banks + 1, sizeof *S.bank_count);
    if (!res->unit || !res->stream_words || !res->def_start || !res->def_end || !S.store_of || !S.unit_copy ||
        !S.n_unit_copy || !S.dram_image || !S.kernel_ready || !S.bank_count)
        goto oom;
    for (int u = 0; u < g->n_units; u++) {
        S.store_of[u] = -1;
        res->unit[u].first = res->unit[u].last = -1;
    }
    /* The copies of each unit, by replica. */
    for (int u = 0; u < g->n_units; u++) {
        int b = g->units[u].base;
        int r = g->units[u].replica;
        if (r + 1 > S.n_unit_copy[b]) {
            int *grown = xrealloc(S.unit_copy[b], (size_t)(r + 1) * sizeof *grown);
            if (!grown)
                goto oom;
            for (int q = S.n_unit_copy[b]; q <= r; q++)
                grown[q] = b;
            S.unit_copy[b] = grown;
            S.n_unit_copy[b] = r + 1;
        }
        S.unit_copy[b][r] = u;
    }
    /* DRAM: inputs hold their data; outputs start zeroed. */
    for (int m = 0; m < g->n_mems; m++) {
        const dfg_mem *mm = &g->mems[m];
        if (mm->kind == DFG_MEM_INPUT) {
            const pat_tensor *t = &vals->t[mm->decl->id];
            if (!t->data.p || t->count != pat_type_count(&mm->type)) {
                diag_error(d, mm->decl->loc, "input '%s' has no data", mm->name);
                goto out;
            }
            S.dram_image[m] = (uint32_t *)t->data.p;
        } else if (mm->kind == DFG_MEM_OUTPUT || mm->dram) {
            S.dram_image[m] = xcalloc((size_t)pat_type_count(&mm->type) + 1, 4);
            if (!S.dram_image[m])
                goto oom;
        }
    }
    S.dram_bpc = fab_dram_bytes_per_cycle(f);
    S.dram_lat = fab_dram_latency_cycles(f);
    if (pmu_build(&S) != 0 || dram_build(&S) != 0 || prog_build(&S) != 0)
        goto out;
    /* DRAM bandwidth over time: at most 512 windows, doubled as the run grows. */
    res->dram_window = 64;
    res->n_dram_windows = 512;
    res->dram_window_bytes = xcalloc(512, sizeof *res->dram_window_bytes);
    if (!res->dram_window_bytes)
        goto oom;
    if (S.o.trace && trace_begin(&S) != 0)
        goto oom;

    if (getenv("RDUMAP_EMU_DUMP")) {
        void prog_dump(const emu_sim *S, FILE *out);
        prog_dump(&S, stderr);
    }
    /* Every context starts at cycle 0. */
    for (int k = 0; k < S.n_ctx; k++)
        sim_wake(&S, k, 0);
    while (S.n_heap > 0 && !S.failed) {
        emu_heap_item it = heap_pop(&S);
        S.now = it.t;
        if (it.ctx < 0) {
            dram_step(&S);
            continue;
        }
        emu_ctx *c = &S.ctx[it.ctx];
        if (c->done || c->sched != it.t)
            continue;
        c->sched = -1;
        switch (c->kind) {
        case CTX_UNIT: prog_step(&S, c); break;
        case CTX_FILL: pmu_fill_step(&S, c); break;
        case CTX_DRAIN: pmu_drain_step(&S, c); break;
        case CTX_LOAD: dram_load_step(&S, c); break;
        case CTX_STORE: dram_store_step(&S, c); break;
        case CTX_KERNEL: dram_kernel_step(&S, c); break;
        }
        if (c->done && S.now > S.end)
            S.end = S.now;
    }
    if (S.failed)
        goto out;
    for (int k = 0; k < S.n_ctx; k++)
        if (!S.ctx[k].done) {
            report_deadlock(&S);
            goto out;
        }

    /* Results. */
    res->cycles = S.end;
    /* windows up to the end of the run */
    res->n_dram_windows = (int)(res->cycles / res->dram_window + 1);
    if (res->n_dram_windows > 512)
        res->n_dram_windows = 512;
    res->dram_bytes = res->dram_read_bytes + res->dram_write_bytes;
    for (int k = 0; k < g->n_defs; k++)
        res->def_start[k] = res->def_end[k] = -1;
    for (int k = 0; k < S.n_ctx; k++) {
        const emu_ctx *c = &S.ctx[k];
        if (c->unit >= 0) {
            emu_unit_stats *us = &res->unit[c->unit];
            bool pmu = g->units[c->unit].kind == DFG_VPMU;
            if (!pmu)
                us->busy += c->busy;
            us->issues += c->issues;
            /* a unit waits as long as its most waiting context */
            /* stalls of its work: waits between its first issue and its last */
            int64_t sv = c->stalled[WAIT_INPUT] + c->stalled[WAIT_TOKEN] + c->stalled[WAIT_DRAM] + c->stalled[WAIT_LOADED];
            if (sv > us->starved)
                us->starved = sv;
            if (c->stalled[WAIT_CREDIT] > us->backpressured)
                us->backpressured = c->stalled[WAIT_CREDIT];
            if (c->stalled[WAIT_BANKS] > us->contention)
                us->contention = c->stalled[WAIT_BANKS];
            if (c->first >= 0 && (us->first < 0 || c->first < us->first))
                us->first = c->first;
            if (c->last > us->last)
                us->last = c->last;
        }
        if (c->def >= 0 && c->kind == CTX_UNIT && c->first >= 0) {
            if (res->def_start[c->def] < 0 || c->first < res->def_start[c->def])
                res->def_start[c->def] = c->first;
            if (c->last > res->def_end[c->def])
                res->def_end[c->def] = c->last;
        }
    }
    for (int k = 0; k < S.n_store; k++)
        res->unit[S.store[k].unit].busy += S.store[k].busy_cycles;
    if (S.o.route && S.o.stream_net) {
        /* A net's words cross every link of its tree once (a multicast
         * tree carries one copy per link). */
        const route_result *rr = S.o.route;
        res->n_links = rr->n_links;
        res->link_words = xcalloc((size_t)rr->n_links + 1, sizeof *res->link_words);
        int64_t *net_words = xcalloc((size_t)rr->n_nets + 1, sizeof *net_words);
        if (!res->link_words || !net_words) {
            free(net_words);
            goto oom;
        }
        for (int s = 0; s < g->n_streams; s++) {
            int nn = S.o.stream_net[s];
            if (nn >= 0 && nn < rr->n_nets && res->stream_words[s] > net_words[nn])
                net_words[nn] = res->stream_words[s];
        }
        for (int nn = 0; nn < rr->n_nets; nn++)
            for (int k = 0; k < rr->net[nn].n_links; k++)
                res->link_words[rr->net[nn].links[k]] += net_words[nn];
        free(net_words);
    }
    if (pmu_outputs(&S, out) != 0)
        goto oom;
    double peak = fab_peak_flop_per_cycle(f);
    res->compute_bound_cycles = peak > 0 ? (double)res->flops / peak : 0;
    /* The roofline's memory side is the traffic any design must move (every
     * input read once, every output written once), not what this one moved:
     * reloading tiles adds traffic, which must not raise the bound. */
    res->compulsory_bytes = 0;
    for (int m = 0; m < g->n_mems; m++) {
        const dfg_mem *mm = &g->mems[m];
        if ((mm->kind == DFG_MEM_INPUT && (mm->vpmu != DFG_NONE || mm->vag != DFG_NONE)) || mm->kind == DFG_MEM_OUTPUT)
            res->compulsory_bytes += mm->bytes;
    }
    res->memory_bound_cycles = S.dram_bpc > 0 ? (double)res->compulsory_bytes / S.dram_bpc : 0;
    double bound = res->compute_bound_cycles > res->memory_bound_cycles ? res->compute_bound_cycles
                                                                         : res->memory_bound_cycles;
    res->roofline_fraction = res->cycles > 0 ? bound / (double)res->cycles : 0;
    if (S.trace && trace_end(&S) != 0) {
        diag_error(d, at, "cannot write the trace");
        goto out;
    }
    rc = 0;
    goto out;
oom:
    diag_error(d, at, "out of memory in the simulator");
out:
    if (rc != 0) {
        pat_values_free(out);
        memset(out, 0, sizeof *out);
    }
    free_sim(&S);
    res->host_seconds = now_seconds() - t0;
    return rc;
}

void emu_result_free(emu_result *res)
{
    free(res->unit);
    free(res->def_start);
    free(res->def_end);
    free(res->stream_words);
    free(res->link_words);
    free(res->dram_window_bytes);
    memset(res, 0, sizeof *res);
}
