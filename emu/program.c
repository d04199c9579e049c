/*
 * program.c — the loop program projected onto each unit: what each
 * context runs.
 *
 * Every operation of the graph runs in one unit (op->unit, or its copy for
 * replica r of a parallel loop; a write to a tensor that replicas read is
 * multicast: every copy performs it).  A reduction is finished by the VPCU
 * that holds its lane tree.  A VPCU's work is one context; a VPMU's work
 * is split into contexts that the hardware runs concurrently: the
 * replicas of a parallel loop (each has its own stream), and accesses in
 * different stages of a meta-pipeline (which the controller's tokens and
 * the N-buffers order).  Accesses not separated by a meta-pipeline stay in
 * one context, in program order, which is what keeps a PMU's reads after
 * its writes.
 *
 * A context's program keeps the loops around its work (each unit has its
 * own counter chain: the loops' bounds and guards are values it computes
 * or receives), and at the position where each value it needs from
 * another unit is defined, a receive from the FIFO of the stream that
 * delivers it; after each value another unit needs, a send.  A value with
 * no stream into the unit, or a stream whose source does not produce the
 * value it carries, is a mapping fault found here, before any cycle.
 *
 * Statements become ISSUE nodes: receives, operations and sends at one
 * loop level — one vector (or scalar group) in one cycle; a unit issues
 * only when every input of the issue is there.  A receive after a send
 * starts a new issue: the value may depend, through the units downstream,
 * on what was sent.  The blocks that are controllers (two or more
 * child loops, and the program over its definitions) wrap each stage's
 * nodes in STAGE_IN / STAGE_OUT tokens.
 *
 * A vector loop whose every effect (memory access, reduction) is guarded
 * by one predicate computed from counters and constants alone has that
 * guard evaluated by every counter chain: a vector whose lanes are all
 * off is skipped by every unit at once, without an issue (unless --dense).
 */
#include "emu/emu_internal.h"
#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct item {
    const dfg_op *op;          /* an operation, or NULL for a reduction */
    const dfg_loop *acc_loop;  /* the loop whose reductions it finishes */
    int unit, replica;
} item;

typedef struct pb {
    emu_sim *S;
    const dfg *g;
    const dfg_loop **loop_of;  /* per op: the loop whose body holds it */
    int *def_of;               /* per op: its definition */
    int *guard_of;             /* per loop: the guard register its counter chain evaluates, or -1 */
    int *def_of_loop;          /* per loop: its definition */
    int *loop_of_reg;          /* per register: the loop whose counter or reduction it is, or -1 */
    int *in_first, *in_list;   /* streams into each unit (CSR) */
    item *items;
    int n_items, cap_items;
    int *group;                /* per item: its context */
    /* per context during construction */
    bool *mark_op;             /* ops it runs */
    bool *mark_acc;            /* loops whose reductions it finishes */
    bool *walk;                /* loops it walks */
    int *sends_of;             /* per register: first send record, or -1 */
    int (*send_rec)[3];        /* (register, fifo, next) */
    int n_send_rec, cap_send_rec;
    int *recv_fifo;            /* per register: the FIFO it is received from, or -1 */
    bool *recv_done;
} pb;

static const dfg_loop *par_root(const dfg_loop *lp)
{
    while (lp && lp->parent)
        lp = lp->parent;
    return lp && lp->par > 1 ? lp : NULL;
}

static bool vec_reg(const dfg *g, int r)
{
    return r != DFG_NONE && g->regs[r].level && g->regs[r].level->innermost;
}

static void map_ops(pb *P, const dfg_block *b, const dfg_loop *lp, int def)
{
    for (int k = 0; k < b->n; k++) {
        if (b->s[k].is_loop) {
            P->def_of_loop[b->s[k].loop->id] = def;
            map_ops(P, &b->s[k].loop->body, b->s[k].loop, def);
        }
        else {
            P->loop_of[b->s[k].op->id] = lp;
            P->def_of[b->s[k].op->id] = def;
        }
    }
}

static int copy_unit(const emu_sim *S, int base, int r)
{
    if (r < 0 || S->n_unit_copy[base] <= 1)
        return base;
    return r < S->n_unit_copy[base] ? S->unit_copy[base][r] : base;
}

static int add_item(pb *P, item it)
{
    if (!emu_grow((void **)&P->items, P->n_items, &P->cap_items, sizeof *P->items))
        return -1;
    P->items[P->n_items++] = it;
    return 0;
}

/* The (meta-pipeline loop, stage) pairs on the path to item it, outermost
 * first; returns how many. */
static int stage_path(const pb *P, const item *it, int *ml, int *ms)
{
    const dfg_loop *inner = it->op ? P->loop_of[it->op->id] : it->acc_loop;
    const dfg_loop *chain[EMU_MAX_NEST];
    int n = 0;
    for (const dfg_loop *lp = inner; lp && n < EMU_MAX_NEST; lp = lp->parent)
        chain[n++] = lp;
    int out = 0;
    /* chain[q] is inside chain[q+1]: its stage at chain[q+1]. */
    for (int q = n - 1; q >= 1; q--) {
        const dfg_loop *m = chain[q];
        if (!m->metapipe)
            continue;
        int stage[1024];
        int nb = m->body.n;
        int *st = nb <= 1024 ? stage : xmalloc((size_t)nb * sizeof *st);
        if (!st)
            return out;
        dfg_block_stages(&m->body, st);
        for (int k = 0; k < nb; k++)
            if (m->body.s[k].is_loop && m->body.s[k].loop == chain[q - 1]) {
                ml[out] = m->id;
                ms[out++] = st[k];
            }
        if (st != stage)
            free(st);
    }
    /* an operation directly in a meta-pipeline's body: its statement's stage */
    if (it->op && inner && inner->metapipe) {
        int nb = inner->body.n;
        int *st = xmalloc(((size_t)nb + 1) * sizeof *st);
        if (st) {
            dfg_block_stages(&inner->body, st);
            for (int k = 0; k < nb; k++)
                if (!inner->body.s[k].is_loop && inner->body.s[k].op == it->op) {
                    ml[out] = inner->id;
                    ms[out++] = st[k];
                }
            free(st);
        }
    }
    return out;
}

static bool separated(const pb *P, const item *a, const item *b)
{
    int ma[EMU_MAX_NEST], sa[EMU_MAX_NEST], mb[EMU_MAX_NEST], sb[EMU_MAX_NEST];
    int na = stage_path(P, a, ma, sa), nb = stage_path(P, b, mb, sb);
    for (int k = 0; k < na && k < nb && ma[k] == mb[k]; k++)
        if (sa[k] != sb[k])
            return true;
    return false;
}

/* Does u's value bound, guard or scan a loop around v (so that the unit
 * computing u needs it for v's counter chain)? */
static bool bounds_loop(const pb *P, const dfg_op *u, const dfg_op *v)
{
    if (u->dst == DFG_NONE)
        return false;
    for (const dfg_loop *lp = P->loop_of[v->id]; lp; lp = lp->parent) {
        int rs[DFG_LOOP_CTL];
        dfg_loop_ctl(lp, rs);
        for (int i = 0; i < DFG_LOOP_CTL; i++)
            if (rs[i] == u->dst)
                return true;
    }
    return false;
}

static int find(int *parent, int x)
{
    while (parent[x] != x)
        x = parent[x] = parent[parent[x]];
    return x;
}

/* ------------------------------------------------------------------ */
/* Node construction                                                   */

typedef struct emitter {
    pb *P;
    emu_ctx *c;
    int *slot_of;
    int replica;
    bool failed;
} emitter;

static int slot(emitter *E, int r)
{
    if (r == DFG_NONE)
        return -1;
    if (E->slot_of[r] < 0)
        E->slot_of[r] = E->c->n_slot++;
    return E->slot_of[r];
}

static int new_node(emitter *E, emu_node_kind kind, int parent)
{
    emu_ctx *c = E->c;
    if (!emu_grow((void **)&c->node, c->n_node, &c->cap_node, sizeof *c->node)) {
        E->failed = true;
        return -1;
    }
    emu_node *n = &c->node[c->n_node];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    n->next = -1;
    n->parent = parent;
    n->child = -1;
    n->ctr = n->lo = n->hi = n->pred = n->scan = n->guard = -1;
    n->store = -1;
    return c->n_node++;
}

static emu_mu *new_mu(emitter *E, emu_mu_kind kind)
{
    emu_ctx *c = E->c;
    if (!emu_grow((void **)&c->mu, c->n_mu, &c->cap_mu, sizeof *c->mu)) {
        E->failed = true;
        return NULL;
    }
    emu_mu *m = &c->mu[c->n_mu++];
    memset(m, 0, sizeof *m);
    m->kind = (uint8_t)kind;
    m->dst = m->a = m->b = m->c = m->pred = m->guard = m->store = m->rot = m->fifo = m->acc = -1;
    return m;
}

/* A block under construction: its node list and its open issue. */
typedef struct blk {
    int head, tail;
    int parent;
    int issue;             /* open ISSUE node, or -1 */
    bool issue_work;       /* it runs an operation or sends */
    bool issue_sent;       /* it sends: a later receive may depend on what it sent, through
                            * the units downstream (each issues only with all its inputs) */
    int ctl, stage;        /* controller instance and open stage (-1 none) */
    int stage_node;        /* STAGE_IN node of the open stage */
} blk;

static void append(emitter *E, blk *B, int n)
{
    if (n < 0)
        return;
    if (B->tail >= 0)
        E->c->node[B->tail].next = n;
    else
        B->head = n;
    B->tail = n;
}

static void close_issue(blk *B)
{
    B->issue = -1;
    B->issue_work = false;
    B->issue_sent = false;
}

/* The issue operations are added to: the open one, or a new one. */
static int issue(emitter *E, blk *B, bool for_recv)
{
    if (B->issue >= 0 && for_recv && B->issue_sent)
        close_issue(B);
    if (B->issue < 0) {
        int n = new_node(E, NODE_ISSUE, B->parent);
        if (n < 0)
            return -1;
        E->c->node[n].first_mu = E->c->n_mu;
        append(E, B, n);
        B->issue = n;
    }
    return B->issue;
}

/* Micro-ops of one issue must be contiguous: an issue is extended only
 * while it is the last node built (nested loops close it first). */
static void add_to_issue(emitter *E, int n)
{
    E->c->node[n].n_mu++;
}

static int add_participant(emu_sim *S, int ctl, int stage, int ctx)
{
    emu_ctl *C = &S->ctl[ctl];
    int k = C->n_part[stage];
    int *p = xrealloc(C->part[stage], (size_t)(k + 1) * sizeof *p);
    if (!p)
        return -1;
    C->part[stage] = p;
    int64_t *d = xrealloc(C->part_done[stage], (size_t)(k + 1) * sizeof *d);
    if (!d)
        return -1;
    C->part_done[stage] = d;
    p[k] = ctx;
    d[k] = 0;
    C->n_part[stage] = k + 1;
    return k;
}

/* Before a statement of stage s of a controller block: close the open
 * stage and open s. */
static void enter_stage(emitter *E, blk *B, int s)
{
    if (B->ctl < 0 || B->stage == s)
        return;
    close_issue(B);
    if (B->stage >= 0) {
        int n = new_node(E, NODE_STAGE_OUT, B->parent);
        if (n < 0)
            return;
        E->c->node[n].ctl = B->ctl;
        E->c->node[n].stage = B->stage;
        E->c->node[n].store = E->c->node[B->stage_node].store;  /* participant index */
        append(E, B, n);
    }
    int n = new_node(E, NODE_STAGE_IN, B->parent);
    if (n < 0)
        return;
    int part = add_participant(E->P->S, B->ctl, s, E->c->id);
    if (part < 0) {
        E->failed = true;
        return;
    }
    E->c->node[n].ctl = B->ctl;
    E->c->node[n].stage = s;
    E->c->node[n].store = part;
    append(E, B, n);
    B->stage = s;
    B->stage_node = n;
}

static void leave_stages(emitter *E, blk *B)
{
    if (B->ctl < 0 || B->stage < 0)
        return;
    close_issue(B);
    int n = new_node(E, NODE_STAGE_OUT, B->parent);
    if (n < 0)
        return;
    E->c->node[n].ctl = B->ctl;
    E->c->node[n].stage = B->stage;
    E->c->node[n].store = E->c->node[B->stage_node].store;
    append(E, B, n);
    B->stage = -1;
}

static void emit_recv(emitter *E, blk *B, int r)
{
    pb *P = E->P;
    if (r == DFG_NONE || P->recv_fifo[r] < 0 || P->recv_done[r])
        return;
    int n = issue(E, B, true);
    emu_mu *m = new_mu(E, MU_RECV);
    if (n < 0 || !m)
        return;
    m->dst = slot(E, r);
    m->fifo = P->recv_fifo[r];
    add_to_issue(E, n);
    P->recv_done[r] = true;
}

static void emit_sends(emitter *E, blk *B, int r, int lat)
{
    pb *P = E->P;
    if (P->sends_of[r] < 0)
        return;
    int n = issue(E, B, false);
    emu_mu *m = new_mu(E, MU_SEND);
    if (n < 0 || !m)
        return;
    m->a = slot(E, r);
    m->sa = vec_reg(P->g, r);
    m->rot = lat;  /* extra latency: the lane tree of a reduction */
    m->fifo = E->c->n_send;
    for (int k = P->sends_of[r]; k >= 0; k = P->send_rec[k][2]) {
        emu_ctx *c = E->c;
        if (!emu_grow((void **)&c->send, c->n_send, &c->cap_send, sizeof *c->send)) {
            E->failed = true;
            return;
        }
        c->send[c->n_send++] = P->send_rec[k][1];
        m->n_fifo++;
    }
    add_to_issue(E, n);
    B->issue_work = true;
    B->issue_sent = true;
}

static int controller_of(const emitter *E, const dfg_loop *lp)
{
    const emu_sim *S = E->P->S;
    int base = S->ctl_of_loop[lp->id];
    if (base < 0)
        return -1;
    return par_root(lp) && E->replica >= 0 ? base + E->replica : base;
}

static int emit_block(emitter *E, const dfg_block *b, const dfg_loop *lp, int parent, int ctl);

/* A micro-op's operation, its destination and operand slots, and whether
 * each operand is per-lane or broadcast. */
static void set_operands(emitter *E, emu_mu *m, const dfg_op *op)
{
    const dfg *g = E->P->g;
    m->op = op;
    m->dst = slot(E, op->dst);
    m->a = slot(E, op->a);
    m->b = slot(E, op->b);
    m->c = slot(E, op->c);
    m->sa = vec_reg(g, op->a);
    m->sb = vec_reg(g, op->b);
    m->sc = vec_reg(g, op->c);
}


static void emit_loop(emitter *E, blk *B, const dfg_loop *K)
{
    pb *P = E->P;
    const dfg *g = P->g;
    close_issue(B);
    int n = new_node(E, NODE_LOOP, B->parent);
    if (n < 0)
        return;
    append(E, B, n);
    emu_node *nd = &E->c->node[n];
    nd->loop = K;
    nd->ctr = slot(E, K->counter);
    nd->lo = slot(E, K->lo);
    nd->hi = slot(E, K->hi);
    nd->pred = slot(E, K->pred);
    nd->scan = slot(E, K->scan);
    nd->vector = K->innermost;
    if (K->par > 1 && K->chunk && E->replica >= 0) {
        nd->chunked = true;
        nd->chunk_lo = K->chunk[2 * E->replica];
        nd->chunk_hi = K->chunk[2 * E->replica + 1];
    }
    if (P->mark_acc[K->id]) {
        nd->first_acc = E->c->n_acc;
        for (int a = 0; a < K->n_acc; a++) {
            emu_ctx *c = E->c;
            if (!emu_grow((void **)&c->acc, c->n_acc, &c->cap_acc, sizeof *c->acc)) {
                E->failed = true;
                return;
            }
            emu_acc *ea = &c->acc[c->n_acc++];
            ea->src = &K->acc[a];
            ea->reg = slot(E, K->acc[a].reg);
            ea->val = slot(E, K->acc[a].val);
            ea->pred = slot(E, K->acc[a].pred);
            ea->vector = K->innermost;
            ea->sval = K->innermost && vec_reg(g, K->acc[a].val);
            ea->spred = K->innermost && vec_reg(g, K->acc[a].pred);
        }
        E->c->node[n].n_acc = K->n_acc;
    }
    if (K->innermost && P->guard_of[K->id] >= 0) {
        /* The counter chain's copy of the guard: its operations, in order. */
        int gr = P->guard_of[K->id];
        int first = E->c->n_mu;
        for (int k = 0; k < K->body.n; k++) {
            const dfg_op *op = K->body.s[k].op;
            if (K->body.s[k].is_loop || !dfg_op_is_lane(op->code) || op->id > g->regs[gr].def_op)
                continue;
            emu_mu *m = new_mu(E, MU_LANE);
            if (!m)
                return;
            set_operands(E, m, op);
            m->sg = 2;  /* the counter chain's evaluation: not counted as work */
        }
        E->c->node[n].guard = slot(E, gr);
        E->c->node[n].guard_mu = first;
        E->c->node[n].guard_n = E->c->n_mu - first;
    }
    int ctl = controller_of(E, K);
    int body = emit_block(E, &K->body, K, n, ctl);
    E->c->node[n].child = body;
    if (P->mark_acc[K->id]) {
        int lat = 0;
        if (K->innermost)
            while ((1 << lat) < E->P->S->lanes)
                lat++;
        for (int a = 0; a < K->n_acc; a++)
            emit_sends(E, B, K->acc[a].reg, lat);
        close_issue(B);
    }
    for (int a = 0; a < K->n_acc; a++)
        emit_recv(E, B, K->acc[a].reg);
}

static void emit_op(emitter *E, blk *B, const dfg_op *op)
{
    pb *P = E->P;
    const dfg *g = P->g;
    emu_sim *S = P->S;
    if (op->code == DFG_CONST)
        return;
    if (!P->mark_op[op->id]) {
        emit_recv(E, B, op->dst);
        return;
    }
    int n = issue(E, B, false);
    bool mem = op->code == DFG_LOAD || op->code == DFG_STORE || op->code == DFG_RMW;
    emu_mu *m = new_mu(E, mem ? MU_MEM : op->code == DFG_CHECK ? MU_CHECK : MU_LANE);
    if (n < 0 || !m)
        return;
    set_operands(E, m, op);
    m->pred = slot(E, op->pred);
    m->sp = vec_reg(g, op->pred);
    m->guard = op->guard != DFG_NONE && E->slot_of[op->guard] >= 0 ? E->slot_of[op->guard] : -1;
    m->sg = vec_reg(g, op->guard);
    if (mem || op->code == DFG_CHECK) {
        m->store = S->store_of[E->c->unit];
        m->n_idx = op->n_idx;
        for (int q = 0; q < op->n_idx; q++) {
            m->idx[q] = slot(E, op->idx[q]);
            m->sidx[q] = vec_reg(g, op->idx[q]);
        }
        if (mem) {
            /* The loop whose iterations rotate this tile's copies: the
             * LOOP node of this program walking it. */
            int rot = g->mems[op->mem].rotate;
            for (int p = B->parent; p >= 0 && rot >= 0; p = E->c->node[p].parent)
                if (E->c->node[p].loop->id == rot) {
                    m->rot = p;
                    break;
                }
        }
        E->c->node[n].store = m->store;
        E->c->node[n].dram = E->c->dram;
    }
    add_to_issue(E, n);
    E->c->node[n].costs = true;
    B->issue_work = true;
    if (op->dst != DFG_NONE)
        emit_sends(E, B, op->dst, 0);
}

static int emit_block(emitter *E, const dfg_block *b, const dfg_loop *lp, int parent, int ctl)
{
    pb *P = E->P;
    blk B = {.head = -1, .tail = -1, .parent = parent, .issue = -1, .ctl = ctl, .stage = -1};
    int *stage = xmalloc(((size_t)b->n + 1) * sizeof *stage);
    if (!stage) {
        E->failed = true;
        return -1;
    }
    dfg_block_stages(b, stage);
    for (int k = 0; k < b->n && !E->failed; k++) {
        if (b->s[k].is_loop) {
            const dfg_loop *K = b->s[k].loop;
            bool acc_recv = false;
            for (int a = 0; a < K->n_acc; a++)
                acc_recv |= P->recv_fifo[K->acc[a].reg] >= 0;
            if (!P->walk[K->id] && !acc_recv)
                continue;
            enter_stage(E, &B, stage[k]);
            if (P->walk[K->id])
                emit_loop(E, &B, K);
            else
                for (int a = 0; a < K->n_acc; a++)
                    emit_recv(E, &B, K->acc[a].reg);
            continue;
        }
        const dfg_op *op = b->s[k].op;
        bool mine = P->mark_op[op->id];
        bool recv = op->dst != DFG_NONE && P->recv_fifo[op->dst] >= 0;
        if (!mine && !recv)
            continue;
        enter_stage(E, &B, stage[k]);
        emit_op(E, &B, op);
    }
    /* The reductions this context finishes on lp: one step per iteration,
     * after the body (the lane tree for a vector loop). */
    if (lp && P->mark_acc[lp->id] && !E->failed) {
        int first = E->c->node[parent].first_acc;
        if (B.stage >= 0)
            enter_stage(E, &B, B.stage);
        int n = issue(E, &B, false);
        for (int a = 0; a < lp->n_acc && n >= 0; a++) {
            emu_mu *m = new_mu(E, MU_ACC);
            if (!m)
                break;
            m->acc = first + a;
            add_to_issue(E, n);
            E->c->node[n].costs = true;
        }
        B.issue_work = true;
    }
    leave_stages(E, &B);
    free(stage);
    return B.head;
}

/* Which loops the context walks: those around its work. */
static bool mark_walk(pb *P, const dfg_block *b)
{
    bool any = false;
    for (int k = 0; k < b->n; k++) {
        if (b->s[k].is_loop) {
            const dfg_loop *K = b->s[k].loop;
            bool in = mark_walk(P, &K->body) || P->mark_acc[K->id];
            P->walk[K->id] = in;
            any |= in;
        } else
            any |= P->mark_op[b->s[k].op->id];
    }
    return any;
}

/* Mark what context cid does: its operations, the loops whose reductions
 * it finishes, and the loops it walks around them. */
static void mark_context(pb *P, int cid)
{
    const dfg *g = P->g;
    memset(P->mark_op, 0, (size_t)g->n_ops * sizeof *P->mark_op);
    memset(P->mark_acc, 0, (size_t)g->n_loops * sizeof *P->mark_acc);
    for (int k = 0; k < P->n_items; k++)
        if (P->group[k] == cid) {
            if (P->items[k].op)
                P->mark_op[P->items[k].op->id] = true;
            else
                P->mark_acc[P->items[k].acc_loop->id] = true;
        }
    memset(P->walk, 0, (size_t)g->n_loops * sizeof *P->walk);
    for (int k = 0; k < g->n_defs; k++)
        mark_walk(P, &g->defs[k].body);
}

/* Registers the context needs; calls need(r) for each. */
static void needs(pb *P, emitter *E, const dfg_block *b, bool *need)
{
    const dfg *g = P->g;
    for (int k = 0; k < b->n; k++) {
        if (b->s[k].is_loop) {
            const dfg_loop *K = b->s[k].loop;
            if (!P->walk[K->id])
                continue;
            int rs[DFG_LOOP_CTL];
            for (int q = 0; q < dfg_loop_ctl(K, rs); q++)
                if (rs[q] != DFG_NONE)
                    need[rs[q]] = true;
            if (P->mark_acc[K->id])
                for (int a = 0; a < K->n_acc; a++) {
                    need[K->acc[a].val] = true;
                    if (K->acc[a].pred != DFG_NONE)
                        need[K->acc[a].pred] = true;
                }
            needs(P, E, &K->body, need);
            continue;
        }
        const dfg_op *op = b->s[k].op;
        if (!P->mark_op[op->id])
            continue;
        int rs[4 + PAT_MAX_RANK] = {op->a, op->b, op->c, op->pred};
        int n = 4;
        for (int q = 0; q < op->n_idx; q++)
            rs[n++] = op->idx[q];
        for (int q = 0; q < n; q++)
            if (rs[q] != DFG_NONE)
                need[rs[q]] = true;
    }
    (void)g;
    (void)E;
}

static bool local_reg(const pb *P, int r)
{
    const dfg *g = P->g;
    const dfg_reg *reg = &g->regs[r];
    if (reg->def_op != DFG_NONE) {
        const dfg_op *op = g->ops[reg->def_op];
        return op->code == DFG_CONST || P->mark_op[op->id];
    }
    int l = P->loop_of_reg[r];
    if (l < 0)
        return false;
    const dfg_loop *K = g->loops[l];
    return K->counter == r ? P->walk[l] : P->mark_acc[l];
}

/* Which chunk a unit runs (for matching the two ends of a stream): its
 * replica index when its base unit has copies, else -1 (any). */
static int unit_chunk(const emu_sim *S, int u)
{
    int base = S->g->units[u].base;
    return S->n_unit_copy[base] > 1 ? S->g->units[u].replica : -1;
}

/* The context of unit u producing register r (for a consumer running
 * chunk `replica`), or -1. */
static int producer(const pb *P, int u, int r, int replica)
{
    const emu_sim *S = P->S;
    const dfg *g = P->g;
    int found = -1;
    for (int k = 0; k < P->n_items; k++) {
        const item *it = &P->items[k];
        if (it->unit != u)
            continue;
        bool defines = false;
        if (it->op)
            defines = it->op->dst == r;
        else
            for (int a = 0; a < it->acc_loop->n_acc; a++)
                defines |= it->acc_loop->acc[a].reg == r;
        if (!defines)
            continue;
        int c = P->group[k];
        int cr = S->ctx[c].replica;
        if (cr < 0 || replica < 0 || cr == replica || g->units[u].shared_by) {
            if (found < 0 || (cr == replica && S->ctx[found].replica != replica))
                found = c;
        }
    }
    return found;
}

/* The loop (K) for which register r is a guard its counter chain can
 * compute: r is the predicate of every effect in K and is computed from
 * counters and constants alone. */
static bool counter_expr(const dfg *g, const dfg_loop *K, int r, int depth)
{
    if (r == DFG_NONE || depth > 32)
        return false;
    const dfg_reg *reg = &g->regs[r];
    if (reg->def_op == DFG_NONE) {
        for (const dfg_loop *lp = K; lp; lp = lp->parent)
            if (lp->counter == r)
                return true;
        return false;
    }
    const dfg_op *op = g->ops[reg->def_op];
    if (op->code == DFG_CONST)
        return true;
    if (!dfg_op_is_lane(op->code) || op->pred != DFG_NONE || reg->level != K)
        return false;
    int rs[3] = {op->a, op->b, op->c};
    for (int q = 0; q < 3; q++)
        if (rs[q] != DFG_NONE && !counter_expr(g, K, rs[q], depth + 1))
            return false;
    return true;
}

static void find_guards(pb *P)
{
    const dfg *g = P->g;
    for (int l = 0; l < g->n_loops; l++) {
        const dfg_loop *K = g->loops[l];
        P->guard_of[l] = -1;
        if (!K->innermost)
            continue;
        int p = DFG_NONE;
        bool ok = true;
        for (int k = 0; k < K->body.n && ok; k++) {
            const dfg_op *op = K->body.s[k].op;
            bool effect = op->code == DFG_LOAD || op->code == DFG_STORE || op->code == DFG_RMW || op->code == DFG_CHECK;
            if (!effect)
                continue;
            if (op->pred == DFG_NONE || (p != DFG_NONE && op->pred != p))
                ok = false;
            p = op->pred;
        }
        for (int a = 0; a < K->n_acc && ok; a++) {
            if (K->acc[a].pred == DFG_NONE || (p != DFG_NONE && K->acc[a].pred != p))
                ok = false;
            p = K->acc[a].pred;
        }
        if (ok && p != DFG_NONE && counter_expr(g, K, p, 0))
            P->guard_of[l] = p;
    }
}

/* ------------------------------------------------------------------ */
/* Controllers                                                         */

static int new_ctl(emu_sim *S, const dfg_loop *lp, int n_stages, bool metapipe)
{
    if (!emu_grow((void **)&S->ctl, S->n_ctl, &S->cap_ctl, sizeof *S->ctl))
        return -1;
    int id = S->n_ctl++;  /* counted at once: free_sim frees what an allocation below leaves */
    emu_ctl *C = &S->ctl[id];
    memset(C, 0, sizeof *C);
    C->loop = lp;
    C->metapipe = metapipe;
    C->n_stages = n_stages;
    C->n_part = xcalloc((size_t)n_stages, sizeof *C->n_part);
    C->part = xcalloc((size_t)n_stages, sizeof *C->part);
    C->part_done = xcalloc((size_t)n_stages, sizeof *C->part_done);
    C->min_done = xcalloc((size_t)n_stages, sizeof *C->min_done);
    C->lag_depth = xcalloc((size_t)n_stages * (size_t)n_stages, sizeof *C->lag_depth);
    if (!C->n_part || !C->part || !C->part_done || !C->min_done || !C->lag_depth)
        return -1;
    return id;
}

/* Meta-pipeline lags: stage s may run at most 2 iterations ahead of the
 * stage after it (double buffering); build_controllers tightens this for
 * the stages reading a tile that s writes, to the tile's depth. */
static void set_lags(emu_ctl *C)
{
    int S = C->n_stages;
    for (int s = 0; s + 1 < S; s++)
        C->lag_depth[s * S + s + 1] = 2;
}

static void tile_stages(const dfg *g, const dfg_block *b, int stage, int mem, int *w, int *r)
{
    for (int k = 0; k < b->n; k++) {
        if (b->s[k].is_loop) {
            tile_stages(g, &b->s[k].loop->body, stage, mem, w, r);
            continue;
        }
        const dfg_op *op = b->s[k].op;
        if (op->mem != mem)
            continue;
        if (op->code != DFG_LOAD && (*w < 0 || stage < *w))
            *w = stage;
        if (op->code != DFG_STORE && stage > *r)
            *r = stage;
    }
}

static int build_controllers(emu_sim *S)
{
    const dfg *g = S->g;
    S->ctl_of_loop = xmalloc(((size_t)g->n_loops + 1) * sizeof *S->ctl_of_loop);
    if (!S->ctl_of_loop)
        return -1;
    S->root_ctl = new_ctl(S, NULL, g->n_defs > 0 ? g->n_defs : 1, false);
    if (S->root_ctl < 0)
        return -1;
    for (int l = 0; l < g->n_loops; l++) {
        const dfg_loop *lp = g->loops[l];
        S->ctl_of_loop[l] = -1;
        int n = 0;
        for (int k = 0; k < lp->body.n; k++)
            n += lp->body.s[k].is_loop;
        if (n < 2)
            continue;
        const dfg_loop *root = par_root(lp);
        int inst = root ? root->par : 1;
        for (int r = 0; r < inst; r++) {
            int c = new_ctl(S, lp, n, lp->metapipe);
            if (c < 0)
                return -1;
            if (r == 0)
                S->ctl_of_loop[l] = c;
            emu_ctl *C = &S->ctl[c];
            if (!lp->metapipe)
                continue;
            set_lags(C);
            int *stage = xmalloc(((size_t)lp->body.n + 1) * sizeof *stage);
            if (!stage)
                return -1;
            dfg_block_stages(&lp->body, stage);
            for (int m = 0; m < g->n_mems; m++) {
                if (g->mems[m].rotate != lp->id)
                    continue;
                int w = -1, rd = -1;
                for (int k = 0; k < lp->body.n; k++) {
                    dfg_block one = {.n = 1, .cap = 1, .s = &lp->body.s[k]};
                    tile_stages(g, &one, stage[k], m, &w, &rd);
                }
                if (w >= 0 && rd > w) {
                    int *lag = &C->lag_depth[w * n + rd];
                    int d = g->mems[m].depth;
                    if (*lag == 0 || d < *lag)
                        *lag = d;
                }
            }
            free(stage);
        }
    }
    /* A definition body with two or more loops runs them one after another. */
    return 0;
}

/* ------------------------------------------------------------------ */
/* Building every context                                              */

static int new_unit_ctx(emu_sim *S, int unit, int replica, int def)
{
    int ci = sim_new_ctx(S, CTX_UNIT, unit, S->g->units[unit].name);
    if (ci < 0)
        return -1;
    emu_ctx *c = &S->ctx[ci];
    c->replica = replica;
    c->def = def;
    const dfg_unit *un = &S->g->units[unit];
    c->latency = un->kind == DFG_VPCU ? (un->n_stages > 0 ? un->n_stages : 1) : 1;
    if (un->kind == DFG_VAG) {
        /* the address generator of a DRAM-resident tensor */
        c->dram = true;
        c->x.mem = un->mem;
        c->x.agcu = dram_agcu_of(S, unit);
        c->x.image = S->dram_image[un->mem];
        c->x.grant_time = xcalloc(128, sizeof *c->x.grant_time);
        if (!c->x.grant_time)
            return -1;
    }
    return ci;
}

int prog_build(emu_sim *S)
{
    const dfg *g = S->g;
    diag_loc at = diag_at_file(S->f->source);
    pb P = {.S = S, .g = g};
    int rc = -1;
    int first_unit_ctx = S->n_ctx;
    int *parent = NULL, *slot_of = NULL;
    bool *need = NULL, *written = NULL;
    int *dctl = NULL;
    P.loop_of = xcalloc((size_t)g->n_ops + 1, sizeof *P.loop_of);
    P.def_of = xcalloc((size_t)g->n_ops + 1, sizeof *P.def_of);
    P.def_of_loop = xcalloc((size_t)g->n_loops + 1, sizeof *P.def_of_loop);
    P.loop_of_reg = xmalloc(((size_t)g->n_regs + 1) * sizeof *P.loop_of_reg);
    P.in_first = xcalloc((size_t)g->n_units + 2, sizeof *P.in_first);
    P.in_list = xmalloc(((size_t)g->n_streams + 1) * sizeof *P.in_list);
    P.guard_of = xcalloc((size_t)g->n_loops + 1, sizeof *P.guard_of);
    P.mark_op = xcalloc((size_t)g->n_ops + 1, sizeof *P.mark_op);
    P.mark_acc = xcalloc((size_t)g->n_loops + 1, sizeof *P.mark_acc);
    P.walk = xcalloc((size_t)g->n_loops + 1, sizeof *P.walk);
    P.sends_of = xmalloc(((size_t)g->n_regs + 1) * sizeof *P.sends_of);
    P.recv_fifo = xmalloc(((size_t)g->n_regs + 1) * sizeof *P.recv_fifo);
    P.recv_done = xcalloc((size_t)g->n_regs + 1, sizeof *P.recv_done);
    slot_of = xmalloc(((size_t)g->n_regs + 1) * sizeof *slot_of);
    need = xcalloc((size_t)g->n_regs + 1, sizeof *need);
    dctl = xmalloc(((size_t)g->n_defs + 1) * sizeof *dctl);
    if (!P.loop_of || !P.def_of || !P.def_of_loop || !P.loop_of_reg || !P.in_first || !P.in_list || !P.guard_of || !P.mark_op || !P.mark_acc || !P.walk || !P.sends_of ||
        !P.recv_fifo || !P.recv_done || !slot_of || !need || !dctl)
        goto oom;
    for (int k = 0; k < g->n_defs; k++)
        map_ops(&P, &g->defs[k].body, NULL, k);
    for (int r = 0; r < g->n_regs; r++)
        P.loop_of_reg[r] = -1;
    for (int l = 0; l < g->n_loops; l++) {
        P.loop_of_reg[g->loops[l]->counter] = l;
        for (int a = 0; a < g->loops[l]->n_acc; a++)
            P.loop_of_reg[g->loops[l]->acc[a].reg] = l;
    }
    for (int s = 0; s < g->n_streams; s++)
        P.in_first[g->streams[s].dst + 1]++;
    for (int u = 0; u < g->n_units; u++)
        P.in_first[u + 1] += P.in_first[u];
    {
        int *fill = xcalloc((size_t)g->n_units + 1, sizeof *fill);
        if (!fill)
            goto oom;
        for (int s = 0; s < g->n_streams; s++) {
            int u = g->streams[s].dst;
            P.in_list[P.in_first[u] + fill[u]++] = s;
        }
        free(fill);
    }
    find_guards(&P);
    if (build_controllers(S) != 0)
        goto oom;
    for (int k = 0; k < g->n_defs; k++) {
        int n = 0;
        for (int q = 0; q < g->defs[k].body.n; q++)
            n += g->defs[k].body.s[q].is_loop;
        dctl[k] = n >= 2 ? new_ctl(S, NULL, n, false) : -1;
        if (n >= 2 && dctl[k] < 0)
            goto oom;
    }

    /* 1. Work items: every operation in the unit (or units) that run it,
     * every reduction in the VPCU that finishes it. */
    for (int k = 0; k < g->n_ops; k++) {
        const dfg_op *op = g->ops[k];
        if (op->unit == DFG_NONE || op->code == DFG_CONST)
            continue;
        const dfg_loop *root = par_root(P.loop_of[k]);
        if (root && g->units[op->unit].shared_by) {
            /* one load for every replica: it runs replica 0's chunk and
             * multicasts (par.c) */
            if (add_item(&P, (item){op, NULL, op->unit, 0}) != 0)
                goto oom;
            continue;
        }
        if (root) {
            for (int r = 0; r < root->par; r++)
                if (add_item(&P, (item){op, NULL, copy_unit(S, op->unit, r), r}) != 0)
                    goto oom;
            continue;
        }
        bool multicast = (op->code == DFG_STORE || op->code == DFG_RMW) && g->mems[op->mem].copies > 1 &&
                         !g->mems[op->mem].partitioned;
        int copies = multicast ? S->n_unit_copy[op->unit] : 1;
        for (int r = 0; r < copies; r++)
            if (add_item(&P, (item){op, NULL, copy_unit(S, op->unit, multicast ? r : -1), -1}) != 0)
                goto oom;
    }
    for (int l = 0; l < g->n_loops; l++) {
        const dfg_loop *lp = g->loops[l];
        if (!lp->n_acc)
            continue;
        int fin = -1;
        for (int u = 0; u < g->n_units; u++)
            if (g->units[u].kind == DFG_VPCU && g->units[u].loop == lp && g->units[u].reduces &&
                g->units[u].replica == 0) {
                fin = u;
                break;
            }
        if (fin < 0) {
            diag_error(S->d, diag_at_file("rdumap"), "internal error of the mapping: no unit finishes the reductions of loop %d", l);
            goto out;
        }
        const dfg_loop *root = par_root(lp);
        if (root) {
            for (int r = 0; r < root->par; r++)
                if (add_item(&P, (item){NULL, lp, copy_unit(S, fin, r), r}) != 0)
                    goto oom;
        } else if (add_item(&P, (item){NULL, lp, fin, -1}) != 0)
            goto oom;
    }

    /* 2. Contexts: per (unit, replica); a PMU's accesses split where a
     * meta-pipeline separates them. */
    parent = xmalloc(((size_t)P.n_items + 1) * sizeof *parent);
    P.group = xmalloc(((size_t)P.n_items + 1) * sizeof *P.group);
    written = xcalloc((size_t)g->n_mems + 1, sizeof *written);
    if (!parent || !P.group || !written)
        goto oom;
    for (int k = 0; k < g->n_ops; k++)
        if (g->ops[k]->code == DFG_STORE || g->ops[k]->code == DFG_RMW)
            written[g->ops[k]->mem] = true;
    for (int k = 0; k < P.n_items; k++)
        parent[k] = k;
    for (int a = 0; a < P.n_items; a++)
        for (int b = a + 1; b < P.n_items; b++) {
            const item *x = &P.items[a], *y = &P.items[b];
            if (x->unit != y->unit || x->replica != y->replica)
                continue;
            /* a value one computes and the other uses stays inside the unit:
             * they must share a context (no stream runs within a unit) */
            bool feeds = false;
            if (x->op && y->op) {
                const dfg_op *u = x->op, *v = y->op;
                for (int q = 0; q < 2 && !feeds; q++) {
                    int rs[4 + PAT_MAX_RANK] = {v->a, v->b, v->c, v->pred};
                    int nr = 4;
                    for (int i2 = 0; i2 < v->n_idx; i2++)
                        rs[nr++] = v->idx[i2];
                    for (int i2 = 0; i2 < nr && !feeds; i2++)
                        feeds = u->dst != DFG_NONE && rs[i2] == u->dst;
                    const dfg_op *t = u;
                    u = v;
                    v = t;
                }
            }
            if (!feeds && g->units[x->unit].kind != DFG_VPCU && separated(&P, x, y))
                continue;
            /* Reads of a tensor nothing writes (filled from DRAM before
             * they start) need no order among them: each its own context,
             * so that one consumer's read never waits for another's round
             * trip; the banks they share still serve one access at a time. */
            if (!feeds && g->units[x->unit].kind == DFG_VPMU && x->op && y->op && x->op->code == DFG_LOAD &&
                y->op->code == DFG_LOAD && x->op->mem == y->op->mem && !written[x->op->mem] &&
                !bounds_loop(&P, x->op, y->op) && !bounds_loop(&P, y->op, x->op))
                continue;
            int ra = find(parent, a), rb = find(parent, b);
            if (ra != rb)
                parent[rb > ra ? rb : ra] = rb > ra ? ra : rb;
        }
    for (int k = 0; k < P.n_items; k++)
        P.group[k] = -1;
    for (int k = 0; k < P.n_items; k++) {
        int root = find(parent, k);
        if (P.group[root] < 0) {
            const item *it = &P.items[root];
            int def = it->op ? P.def_of[it->op->id] : P.def_of_loop[it->acc_loop->id];
            P.group[root] = new_unit_ctx(S, it->unit, it->replica, def);
            if (P.group[root] < 0)
                goto oom;
        }
        P.group[k] = P.group[root];
    }

    /* 3. Streams: for every value a context needs from another unit, the
     * stream into its unit that carries it and the context producing it. */
    int n_unit_ctx = S->n_ctx - first_unit_ctx;
    int **recv_of = xcalloc((size_t)n_unit_ctx + 1, sizeof *recv_of);  /* per context: reg -> fifo */
    if (!recv_of)
        goto oom;
    for (int ci = 0; ci < n_unit_ctx && rc == -1; ci++) {
        int cid = first_unit_ctx + ci;
        emu_ctx *c = &S->ctx[cid];
        memset(need, 0, (size_t)g->n_regs * sizeof *need);
        mark_context(&P, cid);
        for (int k = 0; k < g->n_defs; k++)
            needs(&P, NULL, &g->defs[k].body, need);
        recv_of[ci] = xmalloc(((size_t)g->n_regs + 1) * sizeof **recv_of);
        if (!recv_of[ci]) {
            for (int q = 0; q < ci; q++)
                free(recv_of[q]);
            free(recv_of);
            goto oom;
        }
        for (int r = 0; r < g->n_regs; r++) {
            recv_of[ci][r] = -1;
            if (!need[r] || local_reg(&P, r))
                continue;
            int stream = -1, prod = -1;
            for (int si = P.in_first[c->unit]; si < P.in_first[c->unit + 1]; si++) {
                int s = P.in_list[si];
                const dfg_stream *st = &g->streams[s];
                if (st->reg != r)
                    continue;
                int ch = unit_chunk(S, st->src);
                /* a replica receives from its own copy of a replicated
                 * unit, or from the original when the value is computed
                 * outside the parallel loops (a multicast, par.c) */
                if (ch >= 0 && c->replica >= 0 && ch != c->replica &&
                    !(ch == 0 && producer(&P, st->src, st->src_reg, -1) >= 0 &&
                      S->ctx[producer(&P, st->src, st->src_reg, -1)].replica < 0))
                    continue;
                int p = producer(&P, st->src, st->src_reg, c->replica >= 0 ? c->replica : ch);
                if (stream >= 0 && p >= 0 && prod >= 0) {
                    diag_error(S->d, diag_at_file("rdumap"), "internal error of the mapping: unit '%s' receives r%d on two streams",
                               g->units[c->unit].name, r);
                    rc = -2;
                    break;
                }
                if (stream < 0 || (prod < 0 && p >= 0)) {
                    stream = s;
                    prod = p;
                }
            }
            if (rc == -2)
                break;
            const dfg_reg *rr = &g->regs[r];
            const char *nm = rr->name ? rr->name : "a value";
            if (stream < 0) {
                diag_error(S->d, diag_at_file("rdumap"), "internal error of the mapping: unit '%s' needs r%d (%s) and no stream delivers it",
                           g->units[c->unit].name, r, nm);
                rc = -2;
                break;
            }
            if (prod < 0) {
                const dfg_stream *st = &g->streams[stream];
                diag_error(S->d, diag_at_file("rdumap"),
                           "internal error of the mapping: stream %d from '%s' to '%s' carries r%d, which '%s' does not produce",
                           stream, g->units[st->src].name, g->units[c->unit].name, st->src_reg, g->units[st->src].name);
                rc = -2;
                break;
            }
            const dfg_stream *st = &g->streams[stream];
            int q = sim_new_fifo(S, stream, st->kind == DFG_STREAM_VECTOR ? S->lanes : 1);
            if (q < 0) {
                rc = -3;
                break;
            }
            S->fifo[q].prod = prod;
            S->fifo[q].cons = cid;
            recv_of[ci][r] = q;
        }
    }
    if (rc == -2) {
        for (int q = 0; q < n_unit_ctx; q++)
            free(recv_of[q]);
        free(recv_of);
        rc = -1;
        goto out;
    }
    if (rc == -3) {
        for (int q = 0; q < n_unit_ctx; q++)
            free(recv_of[q]);
        free(recv_of);
        goto oom;
    }

    /* 4. Programs. */
    for (int ci = 0; ci < n_unit_ctx && !S->failed; ci++) {
        int cid = first_unit_ctx + ci;
        emu_ctx *c = &S->ctx[cid];
        memset(P.recv_done, 0, (size_t)g->n_regs * sizeof *P.recv_done);
        mark_context(&P, cid);
        memcpy(P.recv_fifo, recv_of[ci], (size_t)g->n_regs * sizeof *P.recv_fifo);
        /* sends: every FIFO this context produces, by register */
        P.n_send_rec = 0;
        for (int r = 0; r < g->n_regs; r++)
            P.sends_of[r] = -1;
        for (int q = 0; q < S->n_fifo; q++) {
            const emu_fifo *f = &S->fifo[q];
            if (f->prod != cid || f->stream < 0 || g->streams[f->stream].reg == DFG_NONE)
                continue;
            if (P.n_send_rec == P.cap_send_rec) {
                int cap = P.cap_send_rec ? 2 * P.cap_send_rec : 64;
                int(*grown)[3] = xrealloc(P.send_rec, (size_t)cap * sizeof *grown);
                if (!grown) {
                    for (int k = 0; k < n_unit_ctx; k++)
                        free(recv_of[k]);
                    free(recv_of);
                    goto oom;
                }
                P.send_rec = grown;
                P.cap_send_rec = cap;
            }
            int r = g->streams[f->stream].src_reg;
            P.send_rec[P.n_send_rec][0] = r;
            P.send_rec[P.n_send_rec][1] = q;
            P.send_rec[P.n_send_rec][2] = P.sends_of[r];
            P.sends_of[r] = P.n_send_rec++;
        }
        for (int r = 0; r < g->n_regs; r++)
            slot_of[r] = -1;
        emitter E = {.P = &P, .c = c, .slot_of = slot_of, .replica = c->replica};
        blk top = {.head = -1, .tail = -1, .parent = -1, .issue = -1, .ctl = S->root_ctl, .stage = -1};
        for (int k = 0; k < g->n_defs && !E.failed; k++) {
            bool any = false;
            for (int q = 0; q < g->n_ops && !any; q++)
                any = P.def_of[q] == k && P.mark_op[q];
            for (int q = 0; q < g->defs[k].body.n && !any; q++)
                any = g->defs[k].body.s[q].is_loop && P.walk[g->defs[k].body.s[q].loop->id];
            bool recv_here = false;
            for (int q = 0; q < g->n_ops && !recv_here; q++)
                recv_here = P.def_of[q] == k && g->ops[q]->dst != DFG_NONE && P.recv_fifo[g->ops[q]->dst] >= 0;
            if (!any && !recv_here)
                continue;
            if (c->def < 0)
                c->def = k;
            enter_stage(&E, &top, k);
            int body = emit_block(&E, &g->defs[k].body, NULL, -1, dctl[k]);
            if (body >= 0) {
                /* splice the definition's nodes after the stage token */
                E.c->node[top.tail].next = body;
                int t = body;
                while (E.c->node[t].next >= 0)
                    t = E.c->node[t].next;
                top.tail = t;
            }
        }
        leave_stages(&E, &top);
        c->pc = top.head;
        /* Values a receive never reached: the position was not walked. */
        for (int r = 0; r < g->n_regs && !E.failed; r++)
            if (P.recv_fifo[r] >= 0 && !P.recv_done[r]) {
                diag_error(S->d, diag_at_file("rdumap"), "internal error of the mapping: unit '%s' cannot place the receive of r%d",
                           g->units[c->unit].name, r);
                E.failed = true;
                S->failed = true;
            }
        if (E.failed) {
            if (!S->failed)
                diag_error(S->d, at, "out of memory in the simulator");
            S->failed = true;
            break;
        }
        /* Register file; constants are immediates. */
        c->reg = xcalloc((size_t)c->n_slot * (size_t)S->lanes + 1, sizeof *c->reg);
        c->seq = xcalloc((size_t)c->n_node + 1, sizeof *c->seq);
        if (!c->reg || !c->seq) {
            diag_error(S->d, at, "out of memory in the simulator");
            S->failed = true;
            break;
        }
        for (int r = 0; r < g->n_regs; r++) {
            if (slot_of[r] < 0 || g->regs[r].def_op == DFG_NONE)
                continue;
            const dfg_op *op = g->ops[g->regs[r].def_op];
            if (op->code != DFG_CONST)
                continue;
            uint32_t w;
            if (op->type == PAT_F32)
                memcpy(&w, &op->imm.f, sizeof w);
            else
                w = (uint32_t)op->imm.i;
            for (int l = 0; l < S->lanes; l++)
                c->reg[(size_t)slot_of[r] * (size_t)S->lanes + (size_t)l] = w;
        }
    }
    for (int q = 0; q < n_unit_ctx; q++)
        free(recv_of[q]);
    free(recv_of);
    /* One context per (vector loop, replica) counts the loop's vector
     * issues: its first VPCU, else its first PMU context. */
    for (int pass = 0; pass < 2 && !S->failed; pass++)
        for (int ci = first_unit_ctx; ci < S->n_ctx; ci++) {
            emu_ctx *c = &S->ctx[ci];
            if ((g->units[c->unit].kind == DFG_VPCU) != (pass == 0))
                continue;
            for (int n = 0; n < c->n_node; n++) {
                emu_node *nd = &c->node[n];
                if (nd->kind != NODE_LOOP || !nd->vector)
                    continue;
                bool taken = false;
                for (int cj = first_unit_ctx; cj < S->n_ctx && !taken; cj++) {
                    const emu_ctx *o = &S->ctx[cj];
                    if (o->replica != c->replica)
                        continue;
                    for (int m = 0; m < o->n_node && !taken; m++)
                        taken = o->node[m].kind == NODE_LOOP && o->node[m].count && o->node[m].loop == nd->loop;
                }
                nd->count = !taken;
            }
        }
    rc = S->failed ? -1 : 0;
    goto out;
oom:
    diag_error(S->d, at, "out of memory in the simulator");
    rc = -1;
out:
    free(P.loop_of);
    free(P.def_of);
    free(P.def_of_loop);
    free(P.loop_of_reg);
    free(P.in_first);
    free(P.in_list);
    free(P.guard_of);
    free(P.items);
    free(P.group);
    free(P.mark_op);
    free(P.mark_acc);
    free(P.walk);
    free(P.sends_of);
    free(P.send_rec);
    free(P.recv_fifo);
    free(P.recv_done);
    free(parent);
    free(written);
    free(slot_of);
    free(need);
    free(dctl);
    return rc;
}

/* Debugging aid: the program of every context (RDUMAP_EMU_DUMP=1). */
void prog_dump(const emu_sim *S, FILE *out);
void prog_dump(const emu_sim *S, FILE *out)
{
    static const char *mk[] = {"recv", "send", "lane", "mem", "check", "acc"};
    static const char *nk[] = {"loop", "issue", "stage_in", "stage_out", "wait"};
    for (int c = 0; c < S->n_ctx; c++) {
        const emu_ctx *x = &S->ctx[c];
        char who[256];
        fprintf(out, "ctx %d %s kind %d replica %d def %d pc %d\n", c, sim_ctx_name(S, c, who, sizeof who), x->kind,
                x->replica, x->def, x->pc);
        for (int n = 0; n < x->n_node; n++) {
            const emu_node *nd = &x->node[n];
            fprintf(out, "  n%d %s next %d parent %d", n, nk[nd->kind], nd->next, nd->parent);
            if (nd->kind == NODE_LOOP)
                fprintf(out, " loop L%d child %d ctr s%d lo s%d hi s%d pred s%d acc %d%s", nd->loop->id, nd->child,
                        nd->ctr, nd->lo, nd->hi, nd->pred, nd->n_acc, nd->vector ? " vector" : "");
            if (nd->kind == NODE_ISSUE) {
                fprintf(out, " costs %d store %d:", nd->costs, nd->store);
                for (int k = 0; k < nd->n_mu; k++) {
                    const emu_mu *m = &x->mu[nd->first_mu + k];
                    fprintf(out, " %s", mk[m->kind]);
                    if (m->op)
                        fprintf(out, "#%d", m->op->id);
                    if (m->kind == MU_RECV)
                        fprintf(out, "(q%d->s%d)", m->fifo, m->dst);
                    if (m->kind == MU_SEND)
                        fprintf(out, "(s%d x%d)", m->a, m->n_fifo);
                }
            }
            if (nd->kind == NODE_STAGE_IN || nd->kind == NODE_STAGE_OUT)
                fprintf(out, " ctl %d stage %d part %d", nd->ctl, nd->stage, nd->store);
            fputc('\n', out);
        }
    }
}
