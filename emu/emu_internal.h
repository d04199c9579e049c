/*
 * emu_internal.h — the pieces of the cycle-level simulator, shared by the
 * files of emu/.  Not part of the folder's face; nothing outside emu/
 * includes it.
 *
 * Vocabulary.  A *context* is one thread of control of one unit: a VPCU
 * has one (its pipeline); a VPMU has one per group of accesses that run
 * concurrently (the stages of a meta-pipeline, the replicas of a parallel
 * loop) plus a fill context (DRAM -> banks) for an input and a drain
 * context (banks -> DRAM) for an output; a VAG has one.  A context runs a
 * *program*: the loop program projected onto what the context does (its
 * operations, the values it receives and sends, the loops around them),
 * as a tree of nodes.  An ISSUE node is what the context does in one
 * cycle: pop its inputs, run its operations on one vector (or one scalar
 * group), push its outputs.  Controllers are *tokens*: a STAGE_IN node
 * waits until the controller lets the stage start that iteration, a
 * STAGE_OUT node reports it finished.
 */
#ifndef RDUMAP_EMU_INTERNAL_H
#define RDUMAP_EMU_INTERNAL_H

#include "emu/emu.h"

#include <math.h>
#include <string.h>

enum { EMU_MAX_LANES = 256, EMU_MAX_NEST = 64, EMU_BURST = 64 };
/* Bytes an AGCU holds in flight per stream: 128 bursts (dram.c). */
enum { EMU_AGCU_BUFFER = 128 * EMU_BURST };

typedef struct emu_sim emu_sim;

/* ------------------------------------------------------------------ */
/* Lane arithmetic, as the reference computes it (pcu.c; the estimate too) */

static inline float emu_as_f(uint32_t w)
{
    float f;
    memcpy(&f, &w, sizeof f);
    return f;
}

static inline uint32_t emu_from_f(float f)
{
    uint32_t w;
    memcpy(&w, &f, sizeof w);
    return w;
}

/* The value of pure lane operation op on one lane's operands: binary32 with
 * the C library's functions, wrapping i32, f32 -> i32 truncating toward zero
 * and saturating (NaN to 0).  fa: the operands are f32 (comparisons).  An
 * i32 DIV or MOD needs b != 0: the caller checks the lane and the divisor
 * first.  0 for an opcode that is not a pure lane operation. */
static inline uint32_t emu_lane_value(const dfg_op *op, bool fa, uint32_t a, uint32_t b, uint32_t c)
{
    bool f = op->type == PAT_F32;
    switch (op->code) {
    case DFG_CONST: return f ? emu_from_f(op->imm.f) : (uint32_t)op->imm.i;
    case DFG_COPY: return a;
    case DFG_ADD: return f ? emu_from_f(emu_as_f(a) + emu_as_f(b)) : a + b;
    case DFG_SUB: return f ? emu_from_f(emu_as_f(a) - emu_as_f(b)) : a - b;
    case DFG_MUL: return f ? emu_from_f(emu_as_f(a) * emu_as_f(b)) : a * b;
    case DFG_DIV:
        if (f)
            return emu_from_f(emu_as_f(a) / emu_as_f(b));
        return (int32_t)a == INT32_MIN && (int32_t)b == -1 ? a : (uint32_t)((int32_t)a / (int32_t)b);
    case DFG_MOD:
        if (f)
            return emu_from_f(fmodf(emu_as_f(a), emu_as_f(b)));
        return (int32_t)a == INT32_MIN && (int32_t)b == -1 ? 0 : (uint32_t)((int32_t)a % (int32_t)b);
    case DFG_NEG: return f ? emu_from_f(-emu_as_f(a)) : 0u - a;
    case DFG_LT: return fa ? emu_as_f(a) < emu_as_f(b) : (int32_t)a < (int32_t)b;
    case DFG_LE: return fa ? emu_as_f(a) <= emu_as_f(b) : (int32_t)a <= (int32_t)b;
    case DFG_GT: return fa ? emu_as_f(a) > emu_as_f(b) : (int32_t)a > (int32_t)b;
    case DFG_GE: return fa ? emu_as_f(a) >= emu_as_f(b) : (int32_t)a >= (int32_t)b;
    case DFG_EQ: return fa ? emu_as_f(a) == emu_as_f(b) : a == b;
    case DFG_NE: return fa ? emu_as_f(a) != emu_as_f(b) : a != b;
    case DFG_LAND: return a != 0 && b != 0;
    case DFG_LNOT: return a == 0;
    case DFG_EXP: return emu_from_f(expf(emu_as_f(a)));
    case DFG_LOG: return emu_from_f(logf(emu_as_f(a)));
    case DFG_SQRT: return emu_from_f(sqrtf(emu_as_f(a)));
    case DFG_TANH: return emu_from_f(tanhf(emu_as_f(a)));
    case DFG_ABS: return f ? emu_from_f(fabsf(emu_as_f(a))) : ((int32_t)a < 0 ? 0u - a : a);
    case DFG_MAX: return f ? emu_from_f(fmaxf(emu_as_f(a), emu_as_f(b))) : ((int32_t)b > (int32_t)a ? b : a);
    case DFG_MIN: return f ? emu_from_f(fminf(emu_as_f(a), emu_as_f(b))) : ((int32_t)b < (int32_t)a ? b : a);
    case DFG_TOF32: return emu_from_f((float)(int32_t)a);
    case DFG_TOI32: {
        float x = emu_as_f(a);
        if (isnan(x))
            return 0;
        if (x >= 2147483648.0f)
            return (uint32_t)INT32_MAX;
        if (x <= -2147483648.0f)
            return (uint32_t)INT32_MIN;
        return (uint32_t)(int32_t)x;
    }
    case DFG_SELECT: return a != 0 ? b : c;
    case DFG_SHL: return a << (b & 31u);
    case DFG_BIT: return (a >> (b & 31u)) & 1u;
    default: return 0;
    }
}

/* pcu.c: a reduction operator on two words. */
uint32_t pcu_combine(pat_redop op, pat_elem t, uint32_t a, uint32_t b);

/* One lane of a memory operation on its word: a load into *dst, a store of
 * val, or a read-modify-write (a group-by's combine, counted as work). */
static inline void emu_mem_word(emu_result *res, const dfg_op *op, pat_elem el, uint32_t *word, uint32_t *dst,
                                uint32_t val)
{
    switch (op->code) {
    case DFG_LOAD:
        *dst = *word;
        break;
    case DFG_STORE:
        *word = val;
        break;
    case DFG_RMW:
        *word = pcu_combine(op->redop, el, *word, val);
        if (el == PAT_F32)
            res->flops++;
        else
            res->int_ops++;
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ */
/* Streams (net.c)                                                     */

typedef struct emu_fifo {
    int stream;            /* the dfg stream it simulates */
    int width;             /* words per entry: lanes (vector) or 1 (scalar) */
    int depth;             /* entries: fifo_depth */
    int64_t hop_latency;   /* routed hops x hop_cycles */
    uint32_t *buf;         /* depth x width words */
    int64_t *ready;        /* per slot: first cycle the entry can be popped */
    int64_t *tag;          /* per slot: the element offset of a DRAM/PMU transfer */
    int *count;            /* per slot: valid words */
    int64_t head, tail;    /* entries popped and pushed so far */
    int prod, cons;        /* producer and consumer contexts (-1 none) */
    int max_occ;
} emu_fifo;

bool fifo_can_pop(const emu_fifo *q, int64_t now);
bool fifo_can_push(const emu_fifo *q);
/* When the head entry becomes poppable, or -1 when the FIFO is empty. */
int64_t fifo_head_ready(const emu_fifo *q);

const uint32_t *fifo_front(const emu_fifo *q, int64_t *tag, int *count);
void fifo_pop(emu_sim *S, int q);
/* Reserve the next entry: ready at `ready` plus the hops; returns its words. */
uint32_t *fifo_push(emu_sim *S, int q, int64_t ready, int64_t tag, int count);
int fifo_init(emu_fifo *q, int stream, int width, int depth, int64_t hop_latency);
void fifo_free(emu_fifo *q);

/* ------------------------------------------------------------------ */
/* PMU storage (pmu.c)                                                 */

/* The banks of one VPMU unit holding (a partition or a copy of) a tensor,
 * N-buffered. */
typedef struct emu_store {
    int unit;              /* the VPMU */
    int mem;               /* the dfg memory */
    uint32_t *data;        /* depth x local_count words */
    int64_t local_count;   /* elements of one buffer copy */
    int32_t row_lo, row_hi;/* rows it holds: of dimension 0, or of the first two together
                            * (dfg_mem.part_dims) */
    int64_t row_stride;    /* elements in one such row */
    int64_t stride[PAT_MAX_RANK];
    int depth;
    bool loaded;           /* input: the fill from DRAM is complete */
    int64_t busy_until;    /* the banks serve one access at a time */
    int64_t busy_cycles;
} emu_store;

/* The words the lanes of a vector access touch, and the cycles the banks
 * need for them (the most distinct addresses falling in one bank). */
int pmu_bank_cycles(emu_sim *S, const int *bank, const int64_t *addr, const bool *on, int n);
/* Element offset (in the whole tensor) -> word in st's copy `copy`, or -1
 * when the row is not in st's partition. */
int64_t pmu_local(const emu_store *st, int64_t elem, int copy, const pat_type *t);

/* ------------------------------------------------------------------ */
/* Programs (program.c)                                                */

typedef enum emu_mu_kind {
    MU_RECV,               /* pop a value from a FIFO into a slot */
    MU_SEND,               /* push a slot to FIFOs */
    MU_LANE,               /* a lane operation (PCU stage, or PMU address pipeline) */
    MU_MEM,                /* load, store or scatter (PMU) */
    MU_CHECK,              /* the key-range check of a scatter (PMU) */
    MU_ACC,                /* one step of a reduction: the lane tree, then the accumulator */
} emu_mu_kind;

typedef struct emu_mu {
    uint8_t kind;
    const dfg_op *op;      /* LANE, MEM, CHECK */
    int dst, a, b, c, pred;  /* slots, or -1 */
    int guard;             /* LANE: the slot of the guard its work counts under, or -1 */
    uint8_t sa, sb, sc, sp, sg;  /* per-lane (1) or broadcast (0) operands */
    int n_idx;
    int idx[PAT_MAX_RANK];
    uint8_t sidx[PAT_MAX_RANK];
    int store;             /* MEM, CHECK: the emu_store */
    int rot;               /* MEM: the LOOP node whose iterations rotate its N-buffer, or -1 */
    int fifo;              /* RECV: the FIFO; SEND: first of n_fifo in ctx->send */
    int n_fifo;
    int acc;               /* ACC: index in ctx->acc */
} emu_mu;

typedef struct emu_acc {
    const dfg_acc *src;
    int reg, val, pred;    /* slots */
    bool vector;           /* a reduction over a vector loop: the lane tree each issue */
    uint8_t sval, spred;   /* per-lane (1) or broadcast (0) value and predicate */
} emu_acc;

typedef enum emu_node_kind { NODE_LOOP, NODE_ISSUE, NODE_STAGE_IN, NODE_STAGE_OUT, NODE_WAIT_DEF } emu_node_kind;

typedef struct emu_node {
    uint8_t kind;
    int next;              /* next node of the block, or -1 */
    int parent;            /* enclosing LOOP node, or -1 */
    /* LOOP */
    const dfg_loop *loop;
    int child;             /* first node of its body, or -1 */
    int ctr, lo, hi, pred; /* slots (-1: none) */
    int scan;              /* slot of the loop's scan mask (dfg_loop.scan), or -1 */
    bool vector;
    int first_acc, n_acc;  /* the reductions this context finishes */
    bool chunked;          /* a parallel loop: this context runs [chunk_lo, chunk_hi) */
    int32_t chunk_lo, chunk_hi;
    int guard;             /* vector loop: slot of the guard its counter chain evaluates, or -1 */
    int guard_mu, guard_n; /* the pure lane operations computing it */
    bool count;            /* vector loop: this context counts its vector issues (one per loop
                            * and replica does, so emu_result.vectors counts each vector once) */
    /* ISSUE */
    int first_mu, n_mu;
    bool costs;            /* takes an issue cycle (it runs an operation) */
    bool dram;             /* accesses a DRAM-resident tensor (its VAG's context) */
    int store;             /* ISSUE: the PMU store whose banks it uses, or -1;
                            * STAGE_IN/OUT: the context's participant index */
    /* STAGE_IN / STAGE_OUT / WAIT_DEF */
    int ctl, stage;
} emu_node;

typedef struct emu_frame {
    int node;              /* LOOP node */
    int32_t it, hi;        /* current counter (first lane of the vector), end */
    uint32_t mask;         /* scanning (a scan loop, not --dense): bit b set when iteration b
                            * runs (a scan loop's static range is within [0, 32)) */
    bool scan;
    int n;                 /* active lanes of the current vector */
    bool masked;           /* --dense: a loop under a false guard runs with every lane off */
} emu_frame;

typedef enum emu_ctx_kind { CTX_UNIT, CTX_FILL, CTX_DRAIN, CTX_LOAD, CTX_STORE, CTX_KERNEL } emu_ctx_kind;

typedef enum emu_wait {
    WAIT_NONE, WAIT_INPUT, WAIT_CREDIT, WAIT_TOKEN, WAIT_BANKS, WAIT_DRAM, WAIT_LOADED
} emu_wait;

/* A DRAM transfer in element order (dram.c): the banked dimension runs
 * fastest, so consecutive words of a vector fall in distinct banks. */
typedef struct emu_walk {
    const pat_type *type;
    int order[PAT_MAX_RANK];   /* dimensions, slowest first */
    int32_t row_lo, row_hi;    /* rows of dimension 0 */
    int32_t at[PAT_MAX_RANK];  /* the next element */
    int64_t done, total;       /* elements walked, in all */
} emu_walk;

void walk_init(emu_walk *w, const pat_type *t, unsigned bank_dims, int32_t row_lo, int32_t row_hi);
/* Up to max elements along the fastest dimension: their offsets; 0 at the end. */
int walk_next(emu_walk *w, int64_t *elem, int max);

typedef struct emu_xfer {      /* a VAG, fill, drain or kernel loader */
    int mem, store;            /* the dfg memory; the emu_store (fill, drain) */
    int fifo;                  /* fill: input FIFO; drain: output FIFO; store: input FIFO */
    int n_out;                 /* load: FIFOs of its targets */
    int *out;                  /* load: one FIFO per target store */
    int32_t *out_lo, *out_hi;  /* load: rows each target takes */
    int target;                /* load: the target being served */
    emu_walk walk;
    int64_t bytes, granted, arrived_bytes;  /* DRAM side: total, granted, landed */
    int64_t *grant_time;       /* per burst granted and not yet landed: its cycle (ring) */
    int64_t ring_head, ring_tail;
    int64_t last_grant;
    int def;                   /* drain, kernel: the definition it follows */
    int agcu;                  /* the AGCU it uses (site index or a synthetic id) */
    int phase;                 /* kernel loader: 0 wait, 1 loading, 2 computing, 3 storing, 4 done */
    int64_t load_bytes, store_bytes;
    int64_t wait_until;
    uint32_t *image;           /* load: the tensor in DRAM; store: the output in DRAM */
    bool wrote;                /* a DRAM-resident tensor's VAG: it has stored since its last stage end */
} emu_xfer;

/* A value a DRAM-resident tensor's VAG has sent before the bursts it read
 * were granted: FIFO entry `pos` of `fifo` is released (ready) once `need`
 * bytes of the VAG's demand are granted, and arrives when they land. */
typedef struct emu_pend {
    int fifo;
    int64_t pos, need;
} emu_pend;

/* Ready time of a FIFO entry still waiting for DRAM. */
#define EMU_PENDING ((int64_t)1 << 60)

typedef struct emu_ctx {
    int id;
    emu_ctx_kind kind;
    int unit;              /* the dfg unit (-1: a kernel loader) */
    int replica;           /* the parallel chunk it runs, or -1 */
    int def;               /* its definition, or -1 */
    const char *what;      /* for deadlock reports */
    /* program (CTX_UNIT) */
    emu_node *node;
    int n_node, cap_node;
    emu_mu *mu;
    int n_mu, cap_mu;
    int *send;
    int n_send, cap_send;
    emu_acc *acc;
    int n_acc, cap_acc;
    uint32_t *reg;         /* n_slot x lanes words */
    int n_slot;
    int *slot_of;          /* dfg register -> slot, or -1 (setup only) */
    int64_t *seq;          /* per LOOP node: body entries so far */
    int latency;           /* cycles from issue to its outputs leaving the unit */
    emu_frame stack[EMU_MAX_NEST];
    int sp, pc;
    bool entered;          /* pc's LOOP node was entered (frame pushed) */
    /* transfers */
    emu_xfer x;
    emu_pend *pend;        /* a DRAM-resident tensor's VAG: sends waiting for their bursts (ring) */
    int64_t pend_head, pend_tail;
    int pend_cap;
    bool dram;             /* the VAG of a DRAM-resident tensor (CTX_UNIT) */
    /* scheduling */
    int64_t sched;         /* the cycle it is scheduled at, or -1 */
    emu_wait wait;
    int wait_obj;
    int64_t wait_since;
    bool done;
    int64_t issues, busy, first, last;
    int64_t waited[WAIT_LOADED + 1];
    int64_t stalled[WAIT_LOADED + 1];  /* waits that ended in an issue after its first: stalls of its work */
} emu_ctx;

/* ------------------------------------------------------------------ */
/* Controllers (sim.c)                                                 */

/* One controller instance: a loop body with two or more child loops (or
 * the program over its definitions), for one replica.  Stage s may start
 * iteration n when the stage before it finished n, and (sequential) the
 * last stage finished n-1, or (meta-pipeline) every later stage reading
 * a buffer it writes has finished n - depth. */
typedef struct emu_ctl {
    const dfg_loop *loop;  /* NULL: the program's definitions */
    bool metapipe;
    int n_stages;
    int *n_part;           /* per stage: participating contexts */
    int **part;            /* per stage: the contexts */
    int64_t **part_done;   /* per stage, per participant: iterations finished */
    int64_t *min_done;     /* per stage: iterations every participant finished */
    int *lag_stage;        /* per stage: a later stage it must not run ahead of, or -1 */
    int *lag_depth;        /* ... by more than this many iterations */
    int *waiters;          /* contexts waiting on a token */
    int n_waiters, cap_waiters;
} emu_ctl;

/* ------------------------------------------------------------------ */
/* The simulation                                                      */

typedef struct emu_heap_item {
    int64_t t;
    int ctx;
} emu_heap_item;

struct emu_sim {
    const dfg *g;
    const fab_fabric *f;
    emu_opts o;
    emu_result *res;
    diag_list *d;
    int lanes;
    int64_t now;
    int64_t end;           /* the last cycle anything finished */
    bool failed;
    emu_ctx *ctx;
    int n_ctx, cap_ctx;
    emu_fifo *fifo;
    int n_fifo, cap_fifo;
    emu_store *store;
    int n_store, cap_store;
    int *store_of;         /* per (unit): its emu_store, or -1 */
    emu_ctl *ctl;
    int n_ctl, cap_ctl;
    int *ctl_of_loop;      /* per loop id: first controller instance, or -1 */
    int root_ctl;
    emu_heap_item *heap;
    int n_heap, cap_heap;
    /* DRAM */
    double dram_bpc;
    int64_t dram_lat;
    double dram_budget;
    int *dram_active;      /* contexts with DRAM demand, in round-robin order */
    int n_dram_active, cap_dram_active;
    int dram_rr;
    bool dram_scheduled;
    int64_t dram_last_busy;
    int64_t dram_stepped;  /* the last cycle the DRAM was stepped, or -1 */
    /* kernel baseline */
    bool *kernel_ready;    /* per definition */
    /* scratch */
    int *bank_count;
    /* per op: the replica copies of its unit (setup) */
    int **unit_copy;       /* per base unit: unit of replica r, n = copies */
    int *n_unit_copy;
    uint32_t **dram_image; /* per memory: inputs' data, outputs' DRAM copy */
    /* trace */
    struct emu_trace *trace;
};

/* sim.c */
/* Make room for one more element in a malloc'd array of *n of *cap
 * elements; returns false when out of memory (the array is kept). */
bool emu_grow(void **array, int n, int *cap, size_t elem);
/* A new context of kind and unit (-1 none), zeroed and unscheduled; its
 * index, or -1 out of memory. */
int sim_new_ctx(emu_sim *S, emu_ctx_kind kind, int unit, const char *what);
int sim_fault(emu_sim *S, int ctx, const dfg_op *op, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void sim_wake(emu_sim *S, int ctx, int64_t t);
void sim_block(emu_sim *S, emu_ctx *c, emu_wait why, int obj);
void sim_fired(emu_sim *S, emu_ctx *c, int64_t cycles);
/* Block c on input FIFO q: it is woken by the next push, or when the
 * entry in flight arrives. */
void sim_wait_input(emu_sim *S, emu_ctx *c, int q);
int sim_new_fifo(emu_sim *S, int stream, int width);
const char *sim_ctx_name(const emu_sim *S, int c, char *buf, size_t size);

/* program.c: build every unit context's program. */
int prog_build(emu_sim *S);
/* sim.c: run a CTX_UNIT context at S->now until it fires or blocks. */
void prog_step(emu_sim *S, emu_ctx *c);

/* pcu.c */
void pcu_lane(emu_sim *S, emu_ctx *c, const emu_mu *m, int n, bool masked);
void pcu_acc_init(emu_ctx *c, const emu_acc *a);
void pcu_acc_step(emu_sim *S, emu_ctx *c, const emu_acc *a, int n, bool masked);
uint32_t pcu_identity(pat_redop op, pat_elem t);

/* pmu.c */
int pmu_build(emu_sim *S);
/* Run a memory operation (or check) on the lanes of the current vector;
 * returns the bank cycles, or -1 after a fault. */
int pmu_access(emu_sim *S, emu_ctx *c, const emu_mu *m, int n, bool masked);
void pmu_fill_step(emu_sim *S, emu_ctx *c);
void pmu_drain_step(emu_sim *S, emu_ctx *c);
int pmu_outputs(emu_sim *S, pat_values *out);

/* dram.c */
int dram_build(emu_sim *S);
void dram_step(emu_sim *S);
void dram_demand(emu_sim *S, emu_ctx *c);
void dram_load_step(emu_sim *S, emu_ctx *c);
void dram_store_step(emu_sim *S, emu_ctx *c);
void dram_kernel_step(emu_sim *S, emu_ctx *c);
/* A DRAM-resident tensor's access by its VAG context c (a MU_MEM with no
 * PMU store): done on the DRAM image; the bursts it touches join c's
 * demand.  Returns the bursts, or -1 after a fault. */
int dram_access(emu_sim *S, emu_ctx *c, const emu_mu *m, int n, bool masked);
/* Push a value c sends into FIFO q: held in the AGCU (EMU_PENDING) until
 * c's demand so far is granted.  Returns the entry's words. */
uint32_t *dram_send(emu_sim *S, emu_ctx *c, int q, int count);
/* Release the sends of c whose bursts are granted. */
void dram_resolve(emu_sim *S, emu_ctx *c);
/* True when c may end a stage: its demand granted and its writes landed;
 * else c is blocked (and woken when that may have changed). */
bool dram_settled(emu_sim *S, emu_ctx *c);
/* The AGCU site of a unit (or a synthetic one before placement). */
int dram_agcu_of(const emu_sim *S, int unit);

/* trace.c */
typedef struct emu_trace emu_trace;
int trace_begin(emu_sim *S);
void trace_span(emu_sim *S, int ctx, int64_t t0, int64_t t1);
void trace_dram(emu_sim *S, int64_t t, int64_t bytes);
void trace_fifo(emu_sim *S, int fifo);
int trace_end(emu_sim *S);
void trace_free(emu_sim *S);

#endif
