/*
 * dfg.h — the dataflow graph of virtual units: the one structure shared by
 * the mapper and the emulator.
 *
 * A program is lowered (lower.c) into three layers that always stay
 * consistent:
 *
 *  1. The loop program.  Every definition becomes a tree of counted loops
 *     (static bounds, or bounds read at run time: CSR row ranges) whose
 *     bodies are straight-line lists of lane operations on typed virtual
 *     registers, predicated so that a guarded or unselected computation
 *     neither runs nor faults.  Reductions are accumulators carried by a
 *     loop; group-bys and tensor-valued sub-expressions are materialised
 *     into memories with read-modify-write.  This layer carries the whole
 *     meaning of the program: the emulator executes it, so a wrong lowering
 *     is a wrong output.
 *
 *  2. Memories (VPMUs): every input, output and buffer tensor, and every
 *     scratch tile the lowering materialises, with element type, shape,
 *     banking and buffer depth; and VAGs, the DRAM load/store streams of
 *     inputs and outputs through AGCUs.
 *
 *  3. Units and streams (build.c).  The operations directly inside one
 *     loop form one pipeline, a VPCU, whose counter chain is the chain of
 *     enclosing loops; a VPCU with more lane operations (or ports) than a
 *     PCU has is partitioned into a chain of PCUs.  Loads and stores run in
 *     the PMU that holds the memory.  A stream is every value that crosses
 *     from one unit to another: a vector stream inside a vectorised
 *     (innermost) loop, a scalar stream for a value produced once per outer
 *     iteration (a reduction result, a dynamic bound).  The controller tree
 *     is the loop tree: the children of a loop run one after another, or
 *     overlapped as the stages of a meta-pipeline.
 *
 * Everything lives in the arena of the dfg.
 */
#ifndef RDUMAP_MAPPER_DFG_H
#define RDUMAP_MAPPER_DFG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fabric/fab.h"
#include "patterns/pat.h"
#include "util/arena.h"
#include "util/diag.h"

/* ------------------------------------------------------------------ */
/* Lane operations                                                     */

/* grep DFG_OPCODES when changing: dfg_op_name, dfg_op_is_lane, emu.c. */
typedef enum dfg_opcode {
    DFG_CONST,      /* dst = imm */
    DFG_COPY,       /* dst = a */
    DFG_ADD, DFG_SUB, DFG_MUL, DFG_DIV, DFG_MOD,
    DFG_NEG,
    DFG_LT, DFG_LE, DFG_GT, DFG_GE, DFG_EQ, DFG_NE,
    DFG_LAND,       /* (a != 0) & (b != 0), on i32: predicate algebra */
    DFG_LNOT,       /* a == 0 */
    DFG_EXP, DFG_LOG, DFG_SQRT, DFG_TANH, DFG_ABS,
    DFG_MAX, DFG_MIN,
    DFG_TOF32,      /* i32 -> f32 */
    DFG_TOI32,      /* f32 -> i32, toward zero */
    DFG_SELECT,     /* dst = a != 0 ? b : c */
    DFG_SHL,        /* dst = a << (b & 31), on i32: a predicate as a bit of a mask */
    DFG_BIT,        /* dst = (a >> (b & 31)) & 1, on i32: bit b of mask a */
    DFG_LOAD,       /* dst = mem[idx...]            (runs in the PMU) */
    DFG_STORE,      /* mem[idx...] = a              (runs in the PMU) */
    DFG_RMW,        /* mem[idx...] = mem[idx...] redop a  (group-by scatter) */
    DFG_CHECK,      /* run-time check: 0 <= a < imm, else error (key range) */
    DFG_N_OPCODES
} dfg_opcode;

enum { DFG_NONE = -1 };

typedef struct dfg_op {
    dfg_opcode code;
    pat_elem type;         /* type of dst, or of the stored value */
    int dst;               /* register written, or DFG_NONE */
    int a, b, c;           /* operand registers, or DFG_NONE */
    int pred;              /* the op runs on lanes where pred != 0; DFG_NONE: always */
    int guard;             /* the predicate it was lowered under, kept on pure ops for
                            * accounting: its work is useful only where guard != 0 */
    union { int32_t i; float f; } imm;
    int mem;               /* LOAD, STORE, RMW: memory index */
    int n_idx;             /* LOAD, STORE, RMW: one index register per dimension */
    int idx[PAT_MAX_RANK];
    pat_redop redop;       /* RMW */
    diag_loc loc;          /* source position, for run-time errors */
    const char *what;      /* LOAD/STORE/CHECK: name used in run-time errors */
    int unit;              /* the unit that executes it (build.c) */
    int id;                /* position in dfg.ops, for dumps and mutation */
} dfg_op;

/* ------------------------------------------------------------------ */
/* The loop program                                                    */

typedef struct dfg_loop dfg_loop;

/* A statement of a loop body: an operation or a nested loop. */
typedef struct dfg_stmt {
    bool is_loop;
    dfg_op *op;
    dfg_loop *loop;
} dfg_stmt;

typedef struct dfg_block {
    int n, cap;
    dfg_stmt *s;
} dfg_block;

/* A reduction carried by a loop: before the first iteration reg = the
 * identity of op; in each iteration where pred holds, reg = reg op val;
 * after the loop, reg holds the result. */
typedef struct dfg_acc {
    int reg;
    int val;               /* register in the body */
    int pred;              /* register in the body, or DFG_NONE */
    pat_redop op;
    pat_elem type;
} dfg_acc;

struct dfg_loop {
    int id;
    int counter;           /* register holding the index in each iteration */
    int lo, hi;            /* registers of the enclosing level: [lo, hi) */
    int32_t trip;          /* static trip count, or -1 when the bounds are dynamic */
    bool bounded;          /* [lo, hi) narrows a static [0, trip) to where the leading conjuncts
                            * of its `where` hold (lower.c, guard_bounds); the body still applies
                            * the whole guard, and --dense runs [0, trip) under it */
    int pred;              /* the loop runs only where pred != 0 (enclosing level) */
    int scan;              /* a register of the enclosing level, or DFG_NONE: a bit mask of the
                            * iterations that run (bit b: iteration b), computed before the
                            * loop from its guard, which the body still applies; the counter
                            * chain steps from set bit to set bit (--dense runs them all) */
    dfg_block body;
    int n_acc;
    dfg_acc *acc;
    dfg_loop *parent;      /* NULL for a definition's top-level loops */
    int depth;             /* 1 for top-level loops */
    bool innermost;        /* has no nested loop: vectorised across lanes */
    bool metapipe;         /* its child loops run as overlapped stages */
    int vpcu;              /* the VPCU of the operations directly in its body, or -1 */
    int par;               /* replicas running disjoint chunks of its iterations (1: none) */
    bool disjoint;         /* its iterations write disjoint elements of every program tensor (the
                            * outermost tile loop of a tiled map, lower.c): it may run in parallel */
    int32_t *chunk;        /* par > 1: replica r runs iterations lo + [chunk[2r], chunk[2r+1]) */
    const char *label;     /* the source index name, for dumps */
};

/* The registers a loop's counter chain reads from the enclosing level
 * (bounds, predicate, scan mask), DFG_NONE where absent; returns how many
 * slots it filled (always DFG_LOOP_CTL). */
enum { DFG_LOOP_CTL = 4 };
static inline int dfg_loop_ctl(const dfg_loop *lp, int rs[DFG_LOOP_CTL])
{
    rs[0] = lp->lo;
    rs[1] = lp->hi;
    rs[2] = lp->pred;
    rs[3] = lp->scan;
    return DFG_LOOP_CTL;
}

/* ------------------------------------------------------------------ */
/* Registers and memories                                              */

typedef struct dfg_reg {
    pat_elem type;
    dfg_loop *level;       /* innermost loop that defines it; NULL: definition level */
    int def_op;            /* defining op id, or DFG_NONE (counter, accumulator) */
    const char *name;      /* source name (index, let), or NULL */
} dfg_reg;

typedef enum dfg_mem_kind {
    DFG_MEM_INPUT,         /* loaded from DRAM by a VAG */
    DFG_MEM_OUTPUT,        /* stored to DRAM by a VAG */
    DFG_MEM_BUFFER,        /* an intermediate tensor of the program */
    DFG_MEM_SCRATCH,       /* a tile materialised by the lowering */
} dfg_mem_kind;

typedef struct dfg_mem {
    dfg_mem_kind kind;
    const char *name;
    pat_type type;
    const pat_decl *decl;  /* input/output/buffer: its declaration */
    int64_t bytes;         /* one copy */
    int depth;             /* buffer copies: k+1 for a tile read k stages after its write
                            * in a meta-pipeline, else 1 */
    int rotate;            /* the meta-pipeline loop (id) whose iterations rotate its copies, or -1 */
    int write_skew;        /* fault injection only (--mutate buffer:NAME): the writer's copy runs
                            * this many iterations ahead of the reader's; 0 in every mapping */
    int banks;
    unsigned bank_dims;    /* bit k set: index k takes part in the bank number; the bank of
                            * an element is (sum of those indices) mod banks.  One bit is
                            * cyclic banking on that dimension; several bits are diagonal
                            * (skewed) banking, conflict-free along each of them */
    int vpmu;              /* unit index (of copy 0) */
    int vag;               /* unit index of its VAG, or -1 */
    int copies;            /* VPMUs holding it: 1, or the replicas of a parallel loop */
    bool partitioned;      /* copies hold disjoint slices of dimension 0 (else full replicas) */
    int64_t copy_bytes;    /* bytes one copy holds */
    int32_t *part_row;     /* partitioned: copy r holds rows [part_row[r], part_row[r+1]) */
    int part_dims;         /* partitioned over the rows of its first 2 dimensions together (a
                            * loop nest replicated over two indices, par.c): 2; else 1 */
    pat_type part_type;    /* part_dims 2: the type with those 2 dimensions as one (rows) ... */
    unsigned part_banks;   /* ... and its banked dimensions on that type */
    bool dram;             /* resident in DRAM (larger than a PMU): no VPMU; its loads and stores
                            * run in its VAG, an AGCU's address generator, and each vector costs
                            * the 64-byte bursts it touches (lower.c, tiling) */
    int tile_of;           /* a scratch tile of a DRAM tensor: that tensor's memory, else -1 */
    int tile_def;          /* ... and the definition (index) it is a tile of */
} dfg_mem;

/* ------------------------------------------------------------------ */
/* Units and streams                                                   */

typedef enum dfg_unit_kind { DFG_VPCU, DFG_VPMU, DFG_VAG } dfg_unit_kind;

typedef struct dfg_unit {
    dfg_unit_kind kind;
    const char *name;
    dfg_loop *loop;        /* VPCU: the loop whose body it runs (NULL: top level) */
    int part;              /* VPCU: partition index within its loop's pipeline */
    int n_stages;          /* VPCU: lane operations it holds */
    bool reduces;          /* VPCU: finishes a reduction with the lane tree */
    int vec_in, vec_out, scal_in, scal_out;  /* streams, counted by build.c */
    int mem;               /* VPMU, VAG: the memory */
    bool store;            /* VAG: store (true) or load */
    int def;               /* index of the definition it belongs to, or -1 */
    int base;              /* the unit it replicates (itself for an original) */
    int replica;           /* 0 .. copies-1 */
    int shared_by;         /* VAG loading inside a parallel loop the same words for every replica:
                            * one unit runs replica 0's chunk and multicasts to all the replicas'
                            * consumers (par.c); their count, else 0 */
} dfg_unit;

typedef enum dfg_stream_kind { DFG_STREAM_VECTOR, DFG_STREAM_SCALAR, DFG_STREAM_CONTROL } dfg_stream_kind;

typedef struct dfg_stream {
    dfg_stream_kind kind;
    int src, dst;          /* units */
    int reg;               /* the value carried (as the consumer receives it), or DFG_NONE for
                            * memory traffic */
    int src_reg;           /* the value the source sends: reg, except under a stream-endpoint
                            * mutation, which rewires the consumer to another unit's output */
    int net;               /* the routed net carrying it, or -1 before routing */
    double width;          /* words per cycle: lanes (vector) or 1 */
    int hops;              /* routed hops, filled after routing */
} dfg_stream;

/* A strip-mined index of a tiled definition: its map index `var` of
 * `extent` iterations runs as extent/size tiles of `size`. */
typedef struct dfg_tile_dim {
    const char *var;
    int32_t extent, size;
} dfg_tile_dim;

/* One definition of the program: its loop tree. */
typedef struct dfg_def {
    const pat_def *src;
    dfg_mem *target;
    dfg_block body;        /* top-level statements (ops and loops) */
    int n_tile;            /* tiled through DRAM (lower.c): its strip-mined indices (the map's, then
                            * a reduction split across tiles), else 0 */
    dfg_tile_dim tile[PAT_MAX_RANK + 1];
    double tile_est_cycles;  /* the tile model's estimate for the sizes it chose (lower.c) */
    double tile_est_traffic; /* ... and its DRAM bytes */
    dfg_loop *par_loop;    /* --par: its first loop replicated (par.c), or NULL ... */
    dfg_loop *par_inner;   /* ... with the loop inside it when the two are replicated together
                            * (the first shorter than --par), else NULL ... */
    const char *par_why;   /* ... and then why not (NULL when --par 1) */
} dfg_def;

/* A buffer and its fusion into the next definition (fuse.c), or why not. */
typedef struct dfg_fusion {
    const pat_decl *buffer;
    const pat_decl *into;  /* the definition that computes it now, or NULL when not fused */
    int depth;             /* the leading map indices producer and consumer share */
    const char *shared[PAT_MAX_RANK];  /* their names (the consumer's) */
    pat_type part;         /* what one iteration of them computes: a scalar, or a tile */
    const char *why;       /* not fused: the reason */
} dfg_fusion;

/* Definition-level reductions split across replicas (rsplit.c), by
 * definition as lowered: what was split, or why not (NULL: nothing to say). */
typedef struct dfg_split {
    int n_split;
    const char **what;
    const char **why;
} dfg_split;

typedef struct dfg_opts {
    bool metapipe;         /* overlap the child loops of an outer loop (default on) */
    int lanes;             /* from the fabric */
    int par;               /* --par: replicas of each definition's outer map loop (1: none) */
    bool no_tiling;        /* --no-tiling: keep every tensor in PMUs (refused when one does not fit) */
    bool no_scan;          /* guard block loops by lane instead of scanning a mask (lower.c) */
    bool no_bounds;        /* keep index guards (`where j <= i`) as guards, not loop bounds */
    bool no_fusion;        /* --no-fusion: every definition its own pipelines, buffers in PMUs */
    bool no_split;         /* keep definition-level reductions whole under --par (rsplit.c) */
    bool no_interchange;   /* vectorise innermost loops as written (interchange.c) */
} dfg_opts;

typedef struct dfg {
    arena *a;
    const pat_program *prog;
    const fab_fabric *fab;
    dfg_opts opts;

    int n_regs, cap_regs;
    dfg_reg *regs;
    int n_ops, cap_ops;
    dfg_op **ops;          /* every op, by id */
    int n_loops, cap_loops;
    dfg_loop **loops;
    int n_mems, cap_mems;
    dfg_mem *mems;
    int n_defs;
    dfg_def *defs;         /* the definitions as lowered: after fusion, fewer than the program's */
    int n_fusion;
    dfg_fusion *fusion;    /* every buffer: fused into its consumer or why not */
    dfg_split split;       /* --par: reductions split across the replicas */
    int n_select_guards;   /* reductions whose `c ? e : identity` body became `where c` */
    int n_interchanged;    /* maps vectorised along their index instead of their reduction's ... */
    const char **interchanged;  /* ... each stated (at most 16) */

    int n_units, cap_units;
    dfg_unit *units;
    int n_streams, cap_streams;
    dfg_stream *streams;
    int n_pcus, n_pmus, n_ags;   /* units by kind */
    int n_par_loops;             /* loops replicated by --par */
} dfg;

/* Fusion (fuse.c): p with every buffer that can be computed inside the
 * definition reading it moved there; p itself when none can; NULL when
 * out of memory.  *fu lists every buffer (fused or why not). */
const pat_program *dfg_fuse(const pat_program *p, arena *a, int64_t pmu_bytes, dfg_fusion **fu, int *n_fu);

/* Under --par P: p with every definition-level reduce and group-by of a
 * long enough static first index split into P partials and their
 * combination (rsplit.c); NULL when out of memory. */
const pat_program *dfg_split_reductions(const pat_program *p, arena *a, int P, dfg_split *out);

/* p with every reduce whose body is `c ? e : identity` (0 for +, 1 for *)
 * rewritten as `where c { e }` (select_guard.c); NULL when out of memory. */
const pat_program *dfg_select_guards(const pat_program *p, arena *a, int *n_guards);

/* p with every map whose innermost index is longer than the short
 * reduction in its body interchanged with it, where that issues at most
 * half the vectors (interchange.c); NULL when out of memory. */
const pat_program *dfg_interchange(const pat_program *p, arena *a, int lanes, int64_t pmu_bytes, int *n_done,
                                  const char ***what);

/* Lower a checked program into the loop program and its memories.
 * Returns 0, or -1 with a diagnostic for a construct it cannot lower
 * (never a silent mis-lowering). */
int dfg_lower(dfg *g, arena *a, const pat_program *p, const fab_fabric *f,
              const dfg_opts *o, diag_list *d);

/* Form the units and streams of a lowered graph for fabric f: VPCUs per
 * loop, partitioned by the PCU's stages and ports; VPMUs; VAGs.  Returns 0,
 * or -1 with the reason a unit cannot fit any PCU or PMU (exit code 2). */
int dfg_build_units(dfg *g, diag_list *d);

/* Check every invariant of the graph against its fabric: register types
 * and levels, op operands defined before use, stage and port counts,
 * memory capacity.  Returns 0, or -1 with what is wrong.  `fits` errors
 * (capacity, stages, ports) are distinguished from internal errors by
 * *not_fit being set. */
int dfg_check(const dfg *g, bool *not_fit, diag_list *d);

/* Write the graph as DOT (units, streams, memories, the loop tree). */
void dfg_dump_dot(FILE *out, const dfg *g);
/* Write the loop program as text. */
void dfg_dump_text(FILE *out, const dfg *g);

/* Fault injection, for the tests that prove verification can fail: change
 * operation `id` into a different one of the same shape (add <-> sub,
 * mul -> add, div -> mul, max <-> min, a constant + 1, comparisons
 * flipped).  Returns 0, or -1 with a diagnostic when op `id` does not exist
 * or has no such twin. */
int dfg_mutate_op(dfg *g, int id, diag_list *d);

/* Fault injection for the mapping (--mutate): SPEC is one of
 *   N or op:N          operation N becomes its twin (dfg_mutate_op);
 *   stream:N           stream N's consumer is wired to another unit's output of the same
 *                      kind and rate (a mis-wired stream);
 *   partition:NAME     the first partition boundary of tensor NAME moves by one row;
 *   replica:N          replica N of the parallel loops gets an empty chunk (dropped);
 *   buffer:NAME        the N-buffer NAME rotates one iteration early on its writer's side.
 * Applied after the checks, before placement.  Returns 0, or -1 with a
 * diagnostic when the target does not exist or has no such mutation. */
int dfg_mutate(dfg *g, const char *spec, diag_list *d);

/* The id of the first lane operation with opcode c in definition `def`
 * (by name), or -1. For tests and `--mutate`. */
int dfg_find_op(const dfg *g, const char *def, dfg_opcode c);

/* The stages of a controller block: each child loop is a stage, in order;
 * any other statement belongs to the stage of the next loop after it (of
 * the last loop when none follows).  Fills stage[k] for each of the
 * block's statements; returns the number of stages (child loops). */
int dfg_block_stages(const dfg_block *b, int *stage);

const char *dfg_op_name(dfg_opcode c);
/* True for operations that occupy a PCU stage. */
bool dfg_op_is_lane(dfg_opcode c);
const char *dfg_unit_kind_name(dfg_unit_kind k);

/* The DRAM tensors that definition `def`'s parallel loop loads once for
 * all its replicas (a VAG with shared_by, par.c): up to max names in
 * `names`; returns how many. */
int dfg_shared_loads(const dfg *g, int def, const char **names, int max);

/* The entries (vectors, or scalars) stream s carries in a run, from the
 * static trip counts (a loop of dynamic bounds counted once); for a
 * stream of memory traffic (a fill or drain), the vectors of one copy. */
double dfg_stream_entries(const dfg *g, int s);
/* A memory as its partitions see it: rows of its first part_dims
 * dimensions (its own type unless part_dims is 2), with the banked
 * dimensions on that type. */
static inline const pat_type *dfg_part_type(const dfg_mem *m)
{
    return m->part_dims == 2 ? &m->part_type : &m->type;
}
static inline unsigned dfg_part_banks(const dfg_mem *m)
{
    return m->part_dims == 2 ? m->part_banks : m->bank_dims;
}

/* Each stream's net weight in the placement (w: n_streams entries): the
 * entries it carries, plus a floor for the track it holds (an eighth of
 * the busiest stream's). */
void dfg_stream_weights(const dfg *g, double *w);

#endif
