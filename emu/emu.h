/*
 * emu.h — the face of emu/: emulation of a mapped dataflow graph.
 *
 * The emulator executes the graph's loop program (mapper/dfg.h) on real
 * data — never the source program — so that a wrong lowering is a wrong
 * output.  Innermost loops run lane-parallel, `lanes` iterations per
 * vector, with per-lane predicates; reductions finish with a cross-lane
 * tree, so sums are reordered exactly as the hardware would.
 *
 * Timing model (version 1, stated in docs/mapping.md):
 *  - an innermost loop issues one vector per cycle; a vector whose memory
 *    accesses fall in the same PMU bank more than once stalls for the extra
 *    bank cycles (a PMU serves `banks` distinct words a cycle);
 *  - each execution of an innermost loop pays its pipeline latency: the
 *    stages of its PCUs, log2(lanes) for a reduction tree, one PMU read, and
 *    the routed hops of its input streams times hop_cycles;
 *  - an outer loop's iteration runs its scalar operations (one cycle) and
 *    its child loops one after another; in a meta-pipeline the children are
 *    stages overlapped across iterations through double buffers:
 *        finish[s][i] = max(finish[s][i-1], finish[s-1][i], finish[s+1][i-2]) + t[s][i]
 *  - definitions run one after another; inputs are loaded from DRAM before
 *    the first and outputs stored after the last, at the fabric's DRAM
 *    bandwidth shared by the AGCUs, plus the DRAM latency;
 *  - a loop whose predicate is false (a `where` or `?:` around it) is
 *    skipped and costs nothing; with emu_opts.dense it runs masked, at full
 *    cost and without effect;
 *  - with emu_opts.kernel_baseline each definition loads what it reads and
 *    stores what it defines through DRAM, and the fabric is reconfigured
 *    (reconfig_cycles) between definitions.
 */
#ifndef RDUMAP_EMU_EMU_H
#define RDUMAP_EMU_EMU_H

#include <stdbool.h>
#include <stdint.h>

#include "mapper/dfg.h"
#include "patterns/pat.h"
#include "util/diag.h"

/* Variants of the same mapped design, for measuring what each feature buys. */
typedef struct emu_opts {
    bool dense;            /* a predicated loop runs masked instead of being skipped */
    bool kernel_baseline;  /* each definition is its own kernel: it loads what it reads
                            * from DRAM and stores its result, with the fabric's
                            * reconfiguration time between kernels */
} emu_opts;

typedef struct emu_unit_stats {
    int64_t busy;          /* cycles in which the unit issued a vector or scalar op */
    int64_t conflicts;     /* VPMU: extra cycles lost to bank conflicts */
    int64_t accesses;      /* VPMU: vector accesses served */
} emu_unit_stats;

typedef struct emu_result {
    int64_t cycles;                /* total */
    int64_t load_cycles;           /* DRAM -> PMUs before the first definition */
    int64_t compute_cycles;        /* the definitions */
    int64_t store_cycles;          /* PMUs -> DRAM after the last */
    int64_t reconfig_cycles;       /* kernel baseline: loading configurations */
    int64_t *def_cycles;           /* per definition; malloc'd */
    int64_t flops;                 /* useful f32 operations on active lanes */
    int64_t dram_bytes;
    int64_t vectors;               /* vector issues of innermost loops */
    int64_t conflict_cycles;       /* stall cycles from bank conflicts */
    double compute_bound_cycles;
    double memory_bound_cycles;
    double roofline_fraction;
    double host_seconds;
    emu_unit_stats *unit;          /* per dfg unit; malloc'd */
    int n_units;
} emu_result;

/* Emulate g on the inputs in vals (filled by the caller); on success fill
 * out (initialised here, one tensor per declaration: outputs and buffers
 * hold what the graph computed) and res.  A run-time error (index out of
 * bounds, key out of range, i32 division by zero) is a diagnostic with the
 * source position and -1; out is then freed and nothing is returned. */
int emu_run(const dfg *g, const pat_values *vals, pat_values *out, emu_result *res, diag_list *d);
/* The same with a variant of the design (NULL: the default). */
int emu_run_opts(const dfg *g, const pat_values *vals, pat_values *out, const emu_opts *o,
                 emu_result *res, diag_list *d);
void emu_result_free(emu_result *res);

#endif
