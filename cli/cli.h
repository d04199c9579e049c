/*
 * cli.h — the pieces of the rdumap command: options, the mapping job's
 * results, verification and reports.  Private to cli/.
 */
#ifndef RDUMAP_CLI_CLI_H
#define RDUMAP_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "emu/emu.h"
#include "fabric/fab.h"
#include "mapper/dfg.h"
#include "mapper/place/place.h"
#include "mapper/route/route.h"
#include "patterns/onnx/onnx.h"
#include "patterns/pat.h"
#include "util/outputs.h"

#include <jansson.h>

/* Exit statuses, as ../shared/design.md fixes them. */
enum {
    EXIT_OK = 0,          /* mapped and verified */
    EXIT_INPUT = 1,       /* the program, fabric or data is wrong */
    EXIT_NOFIT = 2,       /* it cannot be mapped */
    EXIT_VERIFY = 3,      /* verification failed */
    EXIT_USAGE = 4,       /* usage, I/O (a file that cannot be opened, read or
                             written) or out of memory */
};

typedef struct cli_opts {
    const char *program;
    const char *fabric;        /* NULL: the built-in SN10 */
    const char *dfg_file;      /* --dfg: an imported graph */
    bool strict;               /* --strict: refuse what the graph's own tool tolerates */
    uint64_t seed;
    const char *data_dir, *out_dir;
    const char *reference_dir;    /* --reference: expected outputs from DIR/NAME.npy */
    const char *save_inputs_dir;  /* --save-inputs: write the inputs used as DIR/NAME.npy */
    int64_t max_work;             /* --max-work: iterations the reference may run */
    bool gen_missing;
    const char *json, *dump_dfg, *svg, *placement_in;
    bool dump_ir, interpret, describe, quiet;
    bool map_only;             /* stop after routing: no emulation, no verification */
    bool dense;                /* --dense: predicated loops run masked */
    bool kernel_baseline;      /* --baseline kernel */
    bool gains;                /* --gains: emulate the variants and report the ratios */
    bool metapipe;
    bool no_fusion;            /* --no-fusion: every buffer computed by its own definition */
    bool no_tiling;            /* --no-tiling: no tensor in DRAM, so none larger than a PMU */
    int par;                   /* --par N */
    const char *mutate;        /* --mutate SPEC: a fault injected in the mapping (testing aid), or NULL */
    const char *trace;         /* --trace FILE: Chrome trace-event JSON of the simulation */
    place_opts place;
    route_opts route;
    /* ONNX models (cli/onnx_cli.c) */
    const char *emit_pat;      /* --emit-pat FILE: the decomposed program as .pat */
    const char *emit_data;     /* --emit-data DIR: the model's constants as NAME.npy */
    int n_shapes;
    const char *shapes[16];    /* --shape NAME=DIMS */
} cli_opts;

/* Per output: the comparison of the emulated value with the reference. */
typedef struct cli_verdict {
    const char *name;
    bool elem_i32;
    double max_abs_err, max_rel_err;
    double worst_ratio;        /* largest |got - want| / (1e-5 + 1e-4 |want| + R) */
    double max_bound;          /* largest finite R */
    int64_t mismatches;
    int64_t first_bad;         /* element index of the first mismatch, or -1 */
    double bad_got, bad_want, bad_bound;  /* that element */
    int64_t overflows;         /* inf against a finite reference within reach of FLT_MAX */
    int64_t unbounded;         /* elements whose R is unbounded (f32: any value accepted) */
    bool passed;
} cli_verdict;

/* One kernel of the independent kernel-by-kernel baseline (--gains). */
typedef struct cli_kernel {
    const char *name;
    int par, pcus;
    int64_t cycles;
} cli_kernel;

typedef struct cli_job {
    const cli_opts *opts;
    const fab_fabric *fab;
    const pat_program *prog;
    dfg *g;
    place_problem pp;
    place_sites sites;
    place_result place;
    bool placed;
    int place_attempts;        /* placements tried until one could be routed */
    bool place_replay_failed;  /* --placement could not be read or applied */
    route_result route;
    bool routed;
    int *stream_net;           /* per stream: the routed net that carries it (route_streams) */
    outputs *outs;             /* every output file of the run (all or nothing) */
    emu_result emu;
    bool emulated;
    int n_verdicts;
    cli_verdict *verdict;
    bool verified;
    const pat_bounds *bounds;  /* the reordering bound of every reference element */
    char *refused;             /* the reason a program that does not fit was refused */
    char *par_bound;           /* --par auto: why more replicas were not taken, or NULL */
    char *fusion_off;          /* why the buffers are not fused after all (fuse.c), or NULL */
    char *interchange_off;     /* why no map is vectorised along its own index after all, or NULL */
    char *split_off;           /* why the reductions are not split across the replicas after all, or NULL */
    char *guards_off;          /* why guards are not scanned nor loop bounds (lower.c), or NULL */
    bool par_trial;            /* --par auto is trying a count: one placement attempt */
    double t_lower;
    /* --gains: cycles of each variant over the cycles of this design */
    bool have_gains;
    double gain_metapipe, gain_sparsity, gain_spatial;
    double gain_fusion;               /* cycles_no_fusion over the design's, when have_no_fusion */
    bool have_no_fusion;              /* cycles_no_fusion measured */
    char *no_fusion_off;              /* why the variant without fusion does not map, or NULL */
    int64_t cycles_no_metapipe, cycles_dense, cycles_kernel, cycles_no_fusion;
    int64_t cycles_kernel_reconfig;   /* of cycles_kernel: reconfiguring between kernels */
    int n_kernels;                    /* the baseline's kernels, each mapped on its own ... */
    cli_kernel *kernels;
    char *kernels_off;                /* ... or why one does not map (no spatial gain) */
} cli_job;

/* Compare every output of the emulation with the reference (tolerance of
 * the contract: |got - want| <= 1e-5 + 1e-4 |want| + R for f32, with R from
 * job->bounds (0 where there are none), exact for i32).  -1 out of memory. */
int cli_verify(cli_job *job, const pat_values *want, const pat_values *got);
/* The verify line(s) of the text report, and the JSON of one output. */
void cli_verify_text(FILE *out, const cli_verdict *v);
struct json_t *cli_verify_json(const cli_verdict *v);

/* --reference DIR: every output from DIR/NAME.npy into ref, and its bound
 * from DIR/NAME.R.npy when that file exists (else R = 0).  Exit status. */
int cli_load_reference(const pat_program *p, const char *dir, pat_values *ref, pat_bounds *rb, diag_list *d);
/* --save-inputs DIR: every input as DIR/NAME.npy.  0 or -1. */
int cli_save_inputs(const pat_program *p, const char *dir, const pat_values *vals, diag_list *d);

/* Every error of d as "FILE:LINE:COL: message" lines (malloc'd, or NULL). */
char *cli_refusal_reason(const diag_list *d);
/* The JSON report of a program refused before it was mapped, with the
 * reason as data: {"refused": {"exit", "reason", "errors"}}, and null for
 * what did not run.  0, or -1 with a diagnostic. */
int cli_report_refusal_json(outputs *outs, const char *path, const cli_job *job, int status, diag_list *d);

void cli_report_text(FILE *out, const cli_job *job);

/* Point jansson's and libxml2's allocators at util/alloc.h and arm fault
 * injection from RDUMAP_FAULT_ALLOC; -1 when that variable is malformed. */
int cli_alloc_init(void);
/* The run's exit status, given the status of the stages: 4 with a message
 * when any allocation failed (out of memory), 4 when a failure came from a
 * file that could not be opened, read or written. */
int cli_final_status(int status, diag_list *d);
/* The JSON report of the job, or NULL with a diagnostic when it cannot be
 * built whole (out of memory): never a report with a section missing. */
json_t *cli_report_json(const cli_job *job, diag_list *d);
/* Add `root`, dumped, to the output set as `path`; -1 with a diagnostic. */
int cli_output_json(outputs *outs, const char *path, const json_t *root, diag_list *d);

/* onnx_cli.c: the program of a .pat file or of an .onnx model (then m is
 * filled and must be freed with onnx_model_free); NULL with diagnostics. */
const pat_program *cli_load_program(const cli_opts *o, arena *a, onnx_model *m, diag_list *d);
/* Fill the program's inputs: from --data or the generator, and for a model
 * its constants. */
int cli_load_inputs(const cli_opts *o, const pat_program *p, const onnx_model *m, pat_values *vals, diag_list *d);

#endif
