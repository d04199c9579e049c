/*
 * estimate.c — the analytic estimate: the loop program of a mapped graph
 * timed by formula.  It was the project's first emulator; the cycle-level
 * simulation (sim.c) replaced it for every reported figure.  It stays as a
 * fast estimate for the compiler's choices and as a cross-check: on a
 * kernel with one definition, dense vectors and no contention the two
 * agree within the pipeline fill (tests/emu).
 *
 * It runs the loop program lane-parallel on real data (dynamic trip counts
 * need the data) and times it:
 *  - an innermost loop issues one vector per cycle; a vector whose memory
 *    accesses fall in the same PMU bank more than once stalls for the extra
 *    bank cycles;
 *  - each execution of an innermost loop pays its pipeline latency: the
 *    stages of its PCUs, log2(lanes) for a reduction tree, one PMU read, and
 *    the routed hops of its input streams times hop_cycles;
 *  - an outer loop's iteration runs its scalar operations (one cycle) and
 *    its child loops one after another; in a meta-pipeline the children are
 *    stages overlapped across iterations through double buffers:
 *        finish[s][i] = max(finish[s][i-1], finish[s-1][i], finish[s+1][i-2]) + t[s][i]
 *  - definitions run one after another; inputs are loaded from DRAM before
 *    the first and outputs stored after the last, at the fabric's DRAM
 *    bandwidth, plus the DRAM latency; a loop under a false guard costs
 *    nothing.
 */
#include "emu/emu_internal.h"
#include "util/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What the estimate tracks while it runs. */
typedef struct est_unit_stats {
    int64_t busy, conflicts, accesses;
} est_unit_stats;

typedef struct est_result {
    int64_t cycles, load_cycles, compute_cycles, store_cycles;
    int64_t *def_cycles;
    int64_t flops, dram_bytes, vectors, conflict_cycles;
    est_unit_stats *unit;
    int n_units;
} est_result;

typedef struct est_opts {
    bool dense;
} est_opts;

typedef struct emu_mem {
    uint32_t *data;
    int64_t count;
    int64_t stride[PAT_MAX_RANK];
    unsigned bank_dims;
} emu_mem;

typedef struct emu {
    const dfg *g;
    const fab_fabric *f;
    diag_list *d;
    int lanes;
    uint32_t *regs;            /* n_regs x lanes */
    emu_mem *mem;
    est_result *res;
    int64_t *latency;          /* per loop */
    int64_t *loop_busy;        /* per loop: issue cycles */
    int *bank_count;           /* scratch, banks entries */
    const dfg_def *def;
    est_opts opts;
    int masked;                /* > 0 inside a loop run masked (--dense) */
    int failed;
    /* the vector being executed */
    const dfg_loop *vloop;
    int n;                     /* valid lanes */
    int stall;                 /* extra bank cycles of this vector */
} emu;

/* Lane l of register r as the current vector sees it. */
static inline uint32_t rd(const emu *E, int r, int l)
{
    const dfg_reg *reg = &E->g->regs[r];
    int lane = reg->level == E->vloop && E->vloop ? l : 0;
    return E->regs[(size_t)r * (size_t)E->lanes + (size_t)lane];
}

static inline uint32_t *wr(emu *E, int r)
{
    return &E->regs[(size_t)r * (size_t)E->lanes];
}

static const char *def_name(const emu *E)
{
    return E->def ? E->def->target->name : "?";
}

static int runtime_error(emu *E, const dfg_op *op, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int runtime_error(emu *E, const dfg_op *op, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!E->failed)
        diag_error(E->d, op->loc, "in definition of '%s' (emulated): %s", def_name(E), msg);
    E->failed = 1;
    return -1;
}

/* The linear address of lane l of a memory op; -1 after a run-time error. */
static int64_t address(emu *E, const dfg_op *op, int l, int *bank)
{
    const dfg_mem *m = &E->g->mems[op->mem];
    const emu_mem *em = &E->mem[op->mem];
    int64_t a = 0;
    *bank = 0;
    for (int k = 0; k < op->n_idx; k++) {
        int32_t i = (int32_t)rd(E, op->idx[k], l);
        /* rd() is cheap here: index registers are few per op. */
        if (i < 0 || i >= m->type.dims[k]) {
            runtime_error(E, op, "index %d out of bounds for dimension %d of '%s' (size %d)", i, k,
                          m->name, m->type.dims[k]);
            return -1;
        }
        a += (int64_t)i * em->stride[k];
        if (em->bank_dims & (1u << k))
            *bank += i;
    }
    return a;
}

/* Base and lane stride of register r for the current vector: stride 1 for
 * a per-lane value, 0 for a broadcast scalar. */
static void operand(const emu *E, int r, const uint32_t **base, size_t *stride)
{
    if (r == DFG_NONE)
        return;
    *base = &E->regs[(size_t)r * (size_t)E->lanes];
    *stride = E->vloop && E->g->regs[r].level == E->vloop ? 1 : 0;
}

static bool lane_on(const emu *E, int pred, int l)
{
    if (E->masked)
        return false;
    return pred == DFG_NONE || rd(E, pred, l) != 0;
}

static bool is_flop(dfg_opcode c)
{
    switch (c) {
    case DFG_ADD: case DFG_SUB: case DFG_MUL: case DFG_DIV: case DFG_NEG:
    case DFG_EXP: case DFG_LOG: case DFG_SQRT: case DFG_TANH: case DFG_ABS:
    case DFG_MAX: case DFG_MIN:
        return true;
    default:
        return false;
    }
}

/* Bank-conflict cycles of one vector access: the most distinct addresses
 * that fall in one bank (lanes reading one address share the word).  The
 * common cases — every lane in its own bank, or one broadcast address — are
 * decided in one pass; only colliding banks are searched for duplicates. */
static int bank_cycles(emu *E, const int64_t *addr, const int *bank, const bool *on, int n)
{
    int banks = E->f->pmu_banks;
    int worst = 0, first = -1;
    bool broadcast = true;
    for (int l = 0; l < n; l++) {
        if (!on[l])
            continue;
        if (first < 0)
            first = l;
        else if (addr[l] != addr[first])
            broadcast = false;
        int c = ++E->bank_count[bank[l] % banks];
        if (c > worst)
            worst = c;
    }
    if (worst > 1 && !broadcast) {
        worst = 0;
        for (int l = 0; l < n; l++) {
            if (!on[l])
                continue;
            int b = bank[l] % banks;
            if (E->bank_count[b] <= 1) {
                if (worst < 1)
                    worst = 1;
                continue;
            }
            int distinct = 0;
            for (int q = 0; q < n; q++) {
                if (!on[q] || bank[q] % banks != b)
                    continue;
                bool dup = false;
                for (int r = 0; r < q && !dup; r++)
                    dup = on[r] && bank[r] % banks == b && addr[r] == addr[q];
                distinct += !dup;
            }
            if (distinct > worst)
                worst = distinct;
        }
    } else if (broadcast)
        worst = first >= 0 ? 1 : 0;
    for (int l = 0; l < n; l++)
        if (on[l])
            E->bank_count[bank[l] % banks] = 0;
    return worst;
}

static int exec_mem_op(emu *E, const dfg_op *op)
{
    int n = E->n;
    int64_t addr[256];
    int bank[256];
    bool on[256];
    const dfg_mem *m = &E->g->mems[op->mem];
    uint32_t *data = E->mem[op->mem].data;
    uint32_t *dst = op->dst != DFG_NONE ? wr(E, op->dst) : NULL;
    int any = 0;
    for (int l = 0; l < n; l++) {
        on[l] = lane_on(E, op->pred, l);
        if (!on[l]) {
            if (dst)
                dst[l] = 0;
            continue;
        }
        any = 1;
        addr[l] = address(E, op, l, &bank[l]);
        if (addr[l] < 0)
            return -1;
        switch (op->code) {
        case DFG_LOAD:
            dst[l] = data[addr[l]];
            break;
        case DFG_STORE:
            data[addr[l]] = rd(E, op->a, l);
            break;
        case DFG_RMW:
            data[addr[l]] = pcu_combine(op->redop, m->type.elem, data[addr[l]], rd(E, op->a, l));
            if (m->type.elem == PAT_F32)
                E->res->flops++;
            break;
        default:
            break;
        }
    }
    if (!any)
        return 0;
    int cycles = E->vloop ? bank_cycles(E, addr, bank, on, n) : 1;
    /* (the estimate charges a DRAM-resident tensor's accesses as PMU ones) */
    est_unit_stats *st = &E->res->unit[m->dram ? m->vag : m->vpmu];
    st->accesses++;
    if (cycles > 1) {
        st->conflicts += cycles - 1;
        if (cycles - 1 > E->stall)
            E->stall = cycles - 1;
    }
    return 0;
}

static int exec_op(emu *E, const dfg_op *op)
{
    int n = E->n;
    switch (op->code) {
    case DFG_LOAD:
    case DFG_STORE:
    case DFG_RMW:
        return exec_mem_op(E, op);
    case DFG_CHECK:
        for (int l = 0; l < n; l++) {
            if (!lane_on(E, op->pred, l))
                continue;
            int32_t k = (int32_t)rd(E, op->a, l);
            if (k < 0 || k >= op->imm.i)
                return runtime_error(E, op, "%s is %d, outside [0, %d)", op->what, k, op->imm.i);
        }
        return 0;
    default:
        break;
    }
    uint32_t *dst = wr(E, op->dst);
    bool f = op->type == PAT_F32;
    if (f && is_flop(op->code)) {
        int64_t useful = 0;
        for (int l = 0; l < n; l++)
            useful += lane_on(E, op->guard, l);
        E->res->flops += useful;
    }
    /* Operand types decide comparisons; the result type decides the rest. */
    bool fa = op->a != DFG_NONE && E->g->regs[op->a].type == PAT_F32;
    static const uint32_t zero_reg[1] = {0};
    const uint32_t *pa = zero_reg, *pb = zero_reg;
    size_t sa = 0, sb = 0;
    operand(E, op->a, &pa, &sa);
    operand(E, op->b, &pb, &sb);
    for (int l = 0; l < n; l++) {
        uint32_t a = pa[(size_t)l * sa];
        uint32_t b = pb[(size_t)l * sb];
        if (!f && (op->code == DFG_DIV || op->code == DFG_MOD)) {
            if (!lane_on(E, op->pred, l)) {
                dst[l] = 0;
                continue;
            }
            if (b == 0)
                return runtime_error(E, op, "i32 division by zero");
        }
        uint32_t r = emu_lane_value(op, fa, a, b, op->code == DFG_SELECT ? rd(E, op->c, l) : 0);
        dst[l] = r;
    }
    return 0;
}

static int64_t exec_loop(emu *E, const dfg_loop *lp, int64_t *lat);
static int64_t exec_loop_body(emu *E, const dfg_loop *lp, int32_t lo, int32_t hi, int64_t *lat_out);

/* Run the statements of a block at a scalar level (one lane); returns the
 * cycles of its child loops one after another (the caller overlaps them
 * when it is a meta-pipeline) plus one cycle for its scalar operations.
 * When the block is a perfect nest — one child loop and nothing else — the
 * child's pipeline need not drain between iterations: *lat (if given) is
 * then the child's latency, which the caller pays once, not per iteration. */
static int64_t exec_scalar_block(emu *E, const dfg_block *b, int64_t *stage_t, int *n_stages,
                                 int64_t *lat)
{
    int64_t total = 0, child_lat = 0;
    int s = 0;
    bool direct = false;
    for (int k = 0; k < b->n && !E->failed; k++) {
        if (b->s[k].is_loop) {
            int64_t t = exec_loop(E, b->s[k].loop, &child_lat);
            total += t;
            if (stage_t)
                stage_t[++s] = t;
        } else {
            const dfg_op *op = b->s[k].op;
            E->vloop = NULL;
            E->n = 1;
            exec_op(E, op);
            /* Loads and stores ride the PMUs' pipelines; only lane
             * operations cost the scalar level an issue cycle. */
            if (dfg_op_is_lane(op->code))
                direct = true;
        }
    }
    if (s == 1 && lat) {
        /* One child loop, with at most a scalar prologue or epilogue (a
         * bound, the scale after a reduction): the scalar work is another
         * pipelined stage of the same stream, so an iteration costs the
         * longer of the child's issue and one scalar issue, and the
         * latency (one stage more) is paid once by the caller. */
        int64_t issue = total - child_lat;
        if (direct && issue < 1)
            issue = 1;
        *lat = child_lat + (direct ? 1 : 0);
        return issue + *lat;
    }
    if (direct)
        total += 1;
    if (stage_t) {
        stage_t[0] = direct ? 1 : 0;
        *n_stages = s + 1;
    }
    if (lat)
        *lat = 0;
    return total;
}

static int64_t exec_loop(emu *E, const dfg_loop *lp, int64_t *lat_out)
{
    int L = E->lanes;
    int32_t lo = (int32_t)E->regs[(size_t)lp->lo * (size_t)L];
    int32_t hi = (int32_t)E->regs[(size_t)lp->hi * (size_t)L];
    bool off = lp->pred != DFG_NONE && E->regs[(size_t)lp->pred * (size_t)L] == 0;
    for (int a = 0; a < lp->n_acc; a++)
        wr(E, lp->acc[a].reg)[0] = pcu_identity(lp->acc[a].op, lp->acc[a].type);
    *lat_out = 0;
    if (lp->bounded && E->opts.dense) {
        lo = 0;
        hi = lp->trip;
    }
    if (off && E->opts.dense && lp->trip >= 0) {
        /* Dense: the skipped loop runs anyway, masked, at full cost. */
        E->masked++;
        hi = lo + lp->trip;
        int64_t c = hi > lo ? exec_loop_body(E, lp, lo, hi, lat_out) : 0;
        E->masked--;
        return c;
    }
    if (off || hi <= lo)
        return 0;
    if (lp->par > 1) {
        /* Replicas run contiguous chunks at once: the loop takes as long
         * as its slowest chunk.  (Values do not depend on the order.) */
        int64_t worst = 0, n = (int64_t)hi - lo;
        for (int r = 0; r < lp->par; r++) {
            int32_t a = (int32_t)(lo + n * r / lp->par), b = (int32_t)(lo + n * (r + 1) / lp->par);
            int64_t lat = 0;
            int64_t c = b > a ? exec_loop_body(E, lp, a, b, &lat) : 0;
            if (c > worst) {
                worst = c;
                *lat_out = lat;
            }
        }
        return worst;
    }
    return exec_loop_body(E, lp, lo, hi, lat_out);
}

/* Run iterations [lo, hi) of lp: vectorised when innermost, else one
 * iteration at a time with its child loops as stages. */
static int64_t exec_loop_body(emu *E, const dfg_loop *lp, int32_t lo, int32_t hi, int64_t *lat_out)
{
    int L = E->lanes;
    int64_t cycles = 0;

    if (lp->innermost) {
        uint32_t *ctr = wr(E, lp->counter);
        int64_t vectors = 0;
        for (int64_t base = lo; base < hi && !E->failed; base += L) {
            int n = (int)(hi - base < L ? hi - base : L);
            for (int l = 0; l < n; l++)
                ctr[l] = (uint32_t)(int32_t)(base + l);
            E->vloop = lp;
            E->n = n;
            E->stall = 0;
            for (int k = 0; k < lp->body.n && !E->failed; k++)
                exec_op(E, lp->body.s[k].op);
            /* Reductions: a tree across the lanes, then into the accumulator. */
            for (int a = 0; a < lp->n_acc; a++) {
                const dfg_acc *ac = &lp->acc[a];
                uint32_t tree[256] = {0};
                uint32_t id = pcu_identity(ac->op, ac->type);
                for (int l = 0; l < L; l++) {
                    bool on = l < n && lane_on(E, ac->pred, l);
                    tree[l] = on ? rd(E, ac->val, l) : id;
                    if (on && ac->type == PAT_F32)
                        E->res->flops++;
                }
                for (int stride = 1; stride < L; stride *= 2)
                    for (int l = 0; l + stride < L; l += 2 * stride)
                        tree[l] = pcu_combine(ac->op, ac->type, tree[l], tree[l + stride]);
                uint32_t *acc = wr(E, ac->reg);
                acc[0] = pcu_combine(ac->op, ac->type, acc[0], tree[0]);
            }
            cycles += 1 + E->stall;
            E->res->conflict_cycles += E->stall;
            vectors++;
        }
        E->vloop = NULL;
        E->res->vectors += vectors;
        E->loop_busy[lp->id] += vectors;
        *lat_out = E->latency[lp->id];
        return cycles + E->latency[lp->id];
    }

    /* An outer loop: scalar iterations, children as stages. */
    int nb = lp->body.n + 2;
    int64_t small[3][16];
    int64_t *buf = nb <= 16 ? &small[0][0] : xcalloc((size_t)nb * 3, sizeof *buf);
    int64_t *f1 = buf, *f2 = buf + nb, *t = buf + 2 * nb;
    if (nb <= 16)
        memset(small, 0, sizeof small);
    if (!buf) {
        E->failed = 1;
        diag_error(E->d, diag_at_file("emu"), "out of memory");
        return 0;
    }
    int64_t *f0 = xcalloc((size_t)nb, sizeof *f0);
    if (!f0) {
        if (buf != &small[0][0])
            free(buf);
        E->failed = 1;
        diag_error(E->d, diag_at_file("emu"), "out of memory");
        return 0;
    }
    uint32_t *ctr = wr(E, lp->counter);
    int64_t seq = 0, max_lat = 0;
    /* a scan loop runs only the iterations whose guard bit is set */
    bool scan = lp->scan != DFG_NONE && !E->opts.dense && !E->masked;
    uint32_t mask = scan ? E->regs[(size_t)lp->scan * (size_t)L] : 0;
    for (int32_t it = lo; it < hi && !E->failed; it++) {
        if (scan && !((mask >> ((uint32_t)it & 31u)) & 1u))
            continue;
        ctr[0] = (uint32_t)it;
        int ns = 0;
        int64_t lat = 0;
        seq += exec_scalar_block(E, &lp->body, t, &ns, &lat);
        seq -= lat;
        if (lat > max_lat)
            max_lat = lat;
        if (lp->metapipe) {
            /* finish[s][i] = max(finish[s][i-1], finish[s-1][i], finish[s+1][i-2]) + t[s][i] */
            for (int s = 0; s < ns; s++) {
                int64_t start = f1[s];
                if (s > 0 && f0[s - 1] > start)
                    start = f0[s - 1];
                if (s + 1 < ns && f2[s + 1] > start)
                    start = f2[s + 1];
                f0[s] = start + t[s];
            }
            memcpy(f2, f1, (size_t)ns * sizeof *f2);
            memcpy(f1, f0, (size_t)ns * sizeof *f1);
            cycles = f0[ns - 1];
            for (int s = 0; s < ns; s++)
                if (f0[s] > cycles)
                    cycles = f0[s];
        }
        for (int a = 0; a < lp->n_acc; a++) {
            const dfg_acc *ac = &lp->acc[a];
            if (!lane_on(E, ac->pred, 0))
                continue;
            uint32_t *acc = wr(E, ac->reg);
            acc[0] = pcu_combine(ac->op, ac->type, acc[0], E->regs[(size_t)ac->val * (size_t)L]);
            if (ac->type == PAT_F32)
                E->res->flops++;
        }
        E->loop_busy[lp->id]++;
    }
    if (!lp->metapipe) {
        cycles = seq + max_lat;
        *lat_out = max_lat;
    }
    free(f0);
    if (buf != &small[0][0])
        free(buf);
    return cycles;
}

/* Pipeline latency of one execution of an innermost loop. */
static int64_t loop_latency(const dfg *g, const dfg_loop *lp)
{
    const fab_fabric *f = g->fab;
    int64_t lat = 0;
    int max_hops = 0;
    bool reduce = false, mem = false;
    for (int u = 0; u < g->n_units; u++) {
        const dfg_unit *un = &g->units[u];
        if (un->kind != DFG_VPCU || un->loop != lp || un->replica != 0)
            continue;
        lat += un->n_stages;
        reduce |= un->reduces;
        for (int s = 0; s < g->n_streams; s++)
            if (g->streams[s].dst == u && g->streams[s].hops > max_hops)
                max_hops = g->streams[s].hops;
    }
    for (int k = 0; k < lp->body.n; k++)
        if (!lp->body.s[k].is_loop && lp->body.s[k].op->mem != DFG_NONE)
            mem = true;
    if (reduce) {
        int l = 0;
        while ((1 << l) < g->opts.lanes)
            l++;
        lat += l;
    }
    if (mem)
        lat += 1;
    return lat + (int64_t)max_hops * f->hop_cycles;
}

static void free_mems(emu *E)
{
    if (!E->mem)
        return;
    for (int m = 0; m < E->g->n_mems; m++)
        free(E->mem[m].data);
    free(E->mem);
    E->mem = NULL;
}


static int estimate_run(const dfg *g, const pat_values *vals, est_result *res, diag_list *d)
{
    const fab_fabric *f = g->fab;
    memset(res, 0, sizeof *res);
    emu E = {.g = g, .f = f, .d = d, .lanes = g->opts.lanes, .res = res};
    if (E.lanes > 256)
        return diag_error(d, diag_at_file(f->source), "the estimate supports at most 256 lanes");
    E.regs = xcalloc((size_t)g->n_regs * (size_t)E.lanes + 1, sizeof *E.regs);
    E.mem = xcalloc((size_t)g->n_mems + 1, sizeof *E.mem);
    E.latency = xcalloc((size_t)g->n_loops + 1, sizeof *E.latency);
    E.loop_busy = xcalloc((size_t)g->n_loops + 1, sizeof *E.loop_busy);
    E.bank_count = xcalloc((size_t)f->pmu_banks + 1, sizeof *E.bank_count);
    res->unit = xcalloc((size_t)g->n_units + 1, sizeof *res->unit);
    res->def_cycles = xcalloc((size_t)g->n_defs + 1, sizeof *res->def_cycles);
    res->n_units = g->n_units;
    int rc = -1;
    if (!E.regs || !E.mem || !E.latency || !E.loop_busy || !E.bank_count || !res->unit || !res->def_cycles) {
        diag_error(d, diag_at_file(f->source), "out of memory in the estimate");
        goto done;
    }

    /* Memories: inputs copied from the data, everything else zeroed. */
    int64_t in_bytes = 0, out_bytes = 0;
    for (int m = 0; m < g->n_mems; m++) {
        const dfg_mem *mm = &g->mems[m];
        emu_mem *em = &E.mem[m];
        if (mm->decl && mm->decl->kind == PAT_CONST)
            continue;
        em->count = pat_type_count(&mm->type);
        em->data = xcalloc((size_t)em->count, sizeof *em->data);
        if (!em->data) {
            diag_error(d, diag_at_file(f->source), "out of memory for '%s'", mm->name);
            goto done;
        }
        int64_t stride = 1;
        for (int k = mm->type.rank - 1; k >= 0; k--) {
            em->stride[k] = stride;
            stride *= mm->type.dims[k];
        }
        if (mm->kind == DFG_MEM_INPUT) {
            const pat_tensor *t = &vals->t[mm->decl->id];
            if (!t->data.p || t->count != em->count) {
                diag_error(d, mm->decl->loc, "input '%s' has no data", mm->name);
                goto done;
            }
            memcpy(em->data, t->data.p, (size_t)em->count * 4);
            if (mm->vpmu != DFG_NONE)
                in_bytes += em->count * 4;
        } else if (mm->kind == DFG_MEM_OUTPUT) {
            out_bytes += em->count * 4;
        }
        em->bank_dims = mm->bank_dims;
    }
    for (int l = 0; l < g->n_loops; l++)
        E.latency[l] = g->loops[l]->innermost ? loop_latency(g, g->loops[l]) : 0;

    double bpc = fab_dram_bytes_per_cycle(f);
    int64_t lat = fab_dram_latency_cycles(f);
    res->load_cycles = in_bytes ? lat + (int64_t)ceil((double)in_bytes / bpc) : 0;
    res->store_cycles = out_bytes ? lat + (int64_t)ceil((double)out_bytes / bpc) : 0;
    res->dram_bytes = in_bytes + out_bytes;
    for (int k = 0; k < g->n_defs && !E.failed; k++) {
        E.def = &g->defs[k];
        E.vloop = NULL;
        res->def_cycles[k] = exec_scalar_block(&E, &g->defs[k].body, NULL, NULL, NULL);
        res->compute_cycles += res->def_cycles[k];
    }
    if (E.failed)
        goto done;
    res->cycles = res->load_cycles + res->compute_cycles + res->store_cycles;
    rc = 0;

done:
    free_mems(&E);
    free(E.regs);
    free(E.latency);
    free(E.loop_busy);
    free(E.bank_count);
    free(res->unit);
    free(res->def_cycles);
    return rc;
}

int emu_estimate(const dfg *g, const pat_values *vals, int64_t *cycles, diag_list *d)
{
    est_result res;
    int rc = estimate_run(g, vals, &res, d);
    *cycles = rc == 0 ? res.cycles : 0;
    return rc;
}
