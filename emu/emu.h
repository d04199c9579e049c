/*
 * emu.h — the face of emu/: a cycle-level simulation of a mapped dataflow
 * graph (mapper/dfg.h), on real data.
 *
 * What runs is the mapped design, never the source program: every unit of
 * the graph executes its share of the loop program — a VPCU its lane
 * operations, a VPMU the loads, stores and scatters of its tensor, a VAG
 * its DRAM bursts — on its own counter chain, and values travel between
 * units only through the simulated streams (credited FIFOs of fifo_depth
 * entries, routed hops x hop_cycles of latency) and memories (PMU banks
 * and N-buffers, DRAM).  So a stream to the wrong unit, a wrong partition,
 * a dropped replica or a buffer rotated too early is a wrong output, and
 * verification sees it.
 *
 * The model, module by module (each file opens with its part):
 *   sim.c     the cycle loop: contexts, scheduling, controllers (tokens),
 *             deadlock detection, results;
 *   program.c the loop program projected onto each unit (its "context");
 *   pcu.c     lane operations on vectors and the cross-lane reduction tree;
 *   pmu.c     storage, banks, ports, N-buffers and partitions;
 *   dram.c    AGCUs and DRAM: bursts, shared bandwidth, latency;
 *   net.c     streams: FIFOs, credits, hop latency, link traffic;
 *   trace.c   Chrome trace-event JSON (--trace) for Perfetto;
 *   estimate.c the analytic estimate (formula model) the compiler may use
 *             to choose among options; no reported figure comes from it.
 * docs/emulator.md states the model, its assumptions and its limits.
 */
#ifndef RDUMAP_EMU_EMU_H
#define RDUMAP_EMU_EMU_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mapper/dfg.h"
#include "mapper/route/route.h"
#include "patterns/pat.h"
#include "util/diag.h"

/* Variants of the same mapped design, for measuring what each feature buys,
 * and where the design sits on the fabric. */
typedef struct emu_opts {
    bool dense;            /* issue everything: loops under a false guard run masked and
                            * fully masked vectors are issued */
    bool kernel_baseline;  /* each definition is its own kernel: it loads what it reads
                            * from DRAM and stores its result, with the fabric's
                            * reconfiguration time between kernels */
    const int *site_row;   /* per unit: its placed site (NULL: not placed) */
    const int *site_col;
    const route_result *route;  /* the routes, for per-link traffic (NULL: none) */
    const int *stream_net; /* per stream: its routed net in route (NULL: none) */
    FILE *trace;           /* write Chrome trace-event JSON here (NULL: none) */
} emu_opts;

typedef struct emu_unit_stats {
    int64_t busy;          /* cycles in which the unit issued (PCU: vectors or scalar
                            * groups; PMU: cycles its banks served an access) */
    int64_t starved;       /* cycles a context of the unit, between its first and last issue,
                            * waited for an input, a control token or a DRAM transfer */
    int64_t backpressured; /* ... waited for credit on an output */
    int64_t contention;    /* VPMU: ... waited for the banks, busy with another stream's access
                            * (a unit with several contexts: the most waiting one's figures;
                            * the wait before its first issue is `first`) */
    int64_t conflicts;     /* VPMU: extra cycles lost to bank conflicts */
    int64_t accesses;      /* VPMU: vector accesses served */
    int64_t issues;        /* issues (vector or scalar) of its contexts */
    int64_t first, last;   /* first and last cycle it issued, or -1 */
} emu_unit_stats;

typedef struct emu_result {
    int64_t cycles;                /* from the start to the last DRAM store, all units idle */
    int64_t flops;                 /* useful f32 operations on active lanes */
    int64_t int_ops;               /* useful i32 lane operations on active lanes */
    int64_t lane_ops;              /* every lane operation and PMU word access the units performed */
    int64_t dram_read_bytes, dram_write_bytes;
    int64_t dram_bytes;            /* read + written */
    int64_t dram_busy_cycles;      /* cycles in which some AGCU had a transfer waiting for DRAM */
    int64_t vectors;               /* vector issues of innermost loops */
    int64_t skipped_vectors;       /* fully masked vectors the counter chains skipped */
    int64_t skipped_iterations;    /* iterations of scan loops whose guard bit was clear */
    int64_t conflict_cycles;       /* stall cycles from bank conflicts */
    int64_t reconfig_cycles;       /* kernel baseline: loading configurations */
    int64_t *def_start, *def_end;  /* per definition: first issue, last completion; malloc'd */
    double compute_bound_cycles;
    double memory_bound_cycles;    /* the compulsory DRAM traffic (each input read once, each output
                                    * written once) at the fabric's bandwidth: what any design must move */
    int64_t compulsory_bytes;      /* that traffic */
    double roofline_fraction;
    double host_seconds;
    emu_unit_stats *unit;          /* per dfg unit; malloc'd */
    int n_units;
    int64_t *stream_words;         /* per dfg stream: words carried; malloc'd */
    int n_streams;
    int64_t *link_words;           /* per route link id: words carried (NULL without routes) */
    int n_links;
    int64_t dram_window;           /* cycles per entry of dram_window_bytes */
    int64_t *dram_window_bytes;    /* DRAM bytes moved in each window; malloc'd */
    int n_dram_windows;
} emu_result;

/* Simulate g on the inputs in vals (filled by the caller; the reference
 * has already run on them cleanly); on success fill out (initialised here,
 * one tensor per declaration: outputs as stored in DRAM, buffers as left in
 * their PMUs) and res.  A fault of the simulated hardware (an address out
 * of range, a row outside a PMU's partition, a key out of range) or a
 * deadlock is an internal error of the mapping: a diagnostic naming the
 * unit, its site and the operation's source, and -1; out is then freed. */
int emu_run(const dfg *g, const pat_values *vals, pat_values *out, emu_result *res, diag_list *d);
/* The same with a variant of the design (NULL: the default). */
int emu_run_opts(const dfg *g, const pat_values *vals, pat_values *out, const emu_opts *o,
                 emu_result *res, diag_list *d);
void emu_result_free(emu_result *res);

/* The analytic estimate (estimate.c): the loop program's cycles by formula
 * — vector issues, bank conflicts, pipeline latency, meta-pipeline
 * recurrence, DRAM before and after — for the compiler's choices and for
 * cross-checking the simulation.  Needs the inputs for dynamic trip counts.
 * Returns 0 and *cycles, or -1 with a diagnostic. */
int emu_estimate(const dfg *g, const pat_values *vals, int64_t *cycles, diag_list *d);

#endif
