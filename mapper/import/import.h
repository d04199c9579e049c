/*
 * import.h — the face of mapper/import/: dataflow graphs from other CGRA
 * tools (Morpher's DFG XML, CGRA-ME's DOT), mapped spatially onto a fabric
 * with the same placer, router and cost model as `.pat` programs.
 *
 * The job has three steps, each usable alone:
 *   imp_load   read a file (the format is told apart by content) into an
 *              imp_graph, validate it (duplicate ids, dangling edges,
 *              unknown opcodes, combinational loops) — exit class 1 on error;
 *   imp_map    cluster the operations into virtual units (VPCUs of at most
 *              `stages` operations within the PCU's port counts, VPMUs of
 *              memory ports, VAGs for CGRA-ME input/output), place them with
 *              place_run, route the streams with route_run, and time the
 *              result: II from the recurrences, latency of one iteration;
 *   imp_run    both, for the CLI: `rdumap --dfg FILE`.
 * The report prints as text (imp_report_print) or as the JSON of the
 * project's report contract (imp_report_json).  docs/import.md explains the
 * semantics and the opcode table.
 */
#ifndef RDUMAP_MAPPER_IMPORT_H
#define RDUMAP_MAPPER_IMPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "fabric/fab.h"
#include "mapper/place/place.h"
#include "mapper/route/route.h"
#include "util/arena.h"
#include "util/diag.h"

/* ---------------------------------------------------------------- opcodes */

/* What an operation becomes on the fabric. */
typedef enum imp_op_class {
    IMP_COMPUTE,    /* one SIMD stage of a PCU pipeline */
    IMP_LOAD,       /* a read port of a VPMU (one stage of its address pipeline) */
    IMP_STORE,      /* a write port of a VPMU */
    IMP_IMMEDIATE,  /* a constant folded into its consumers: no unit, no stream */
    IMP_INPUT,      /* a DRAM load stream through an AGCU (a VAG) */
    IMP_OUTPUT      /* a DRAM store stream through an AGCU (a VAG) */
} imp_op_class;

/* One row of THE opcode table (imp_opcode.c documents every row). */
typedef struct imp_opcode {
    const char *name;       /* as written, matched case-insensitively */
    imp_op_class cls;
    const char *tools;      /* "Morpher", "CGRA-ME" or "both" */
    const char *meaning;    /* one line, for docs and --describe */
} imp_opcode;

/* Look an opcode up; NULL when it is not in the table. */
const imp_opcode *imp_opcode_find(const char *name);
int imp_opcode_count(void);
const imp_opcode *imp_opcode_at(int i);
const char *imp_op_class_name(imp_op_class c);

/* ------------------------------------------------------------------ graph */

typedef enum imp_format { IMP_MORPHER_XML, IMP_CGRAME_DOT } imp_format;

typedef struct imp_node {
    const char *name;       /* Morpher idx or DOT node name */
    const char *op;         /* opcode as written */
    const imp_opcode *info; /* its row in the table */
    int line;               /* where it is declared (0 when unknown) */
    int asap, alap;         /* Morpher's schedule hints; -1 when absent */
    bool has_const;         /* CONST= (Morpher) or value= (CGRA-ME) given */
    long long const_value;
    const char *base;       /* array (BasePointerName) of a memory op, or NULL */
} imp_node;

typedef struct imp_edge {
    int src, dst;           /* node indices */
    int distance;           /* 0 within an iteration; >= 1 loop-carried (nextiter) */
    bool predicate;         /* Morpher type P / PS: a lane predicate */
    int operand;            /* operand slot, -1 when unknown */
    int line;
} imp_edge;

typedef struct imp_graph {
    arena arena;            /* every string and array below */
    const char *file;
    imp_format format;
    int n_nodes, n_edges;
    imp_node *node;
    imp_edge *edge;
    int *index;             /* open-addressing table of node indices by name (-1 empty) */
    int index_cap;          /* a power of two, at least twice n_nodes */
} imp_graph;

/* How a file is read.  By default a graph is read as the tool that wrote
 * it reads it (docs/import.md): a Morpher idx declared twice stays in the
 * graph as an isolated node and its edges go to the first node with that
 * idx (a warning at its line); a CGRA-ME cycle of plain edges is a
 * loop-carried dependence, its back edge chosen by a depth-first search (a
 * note at its line).  strict refuses both, as errors. */
typedef struct imp_read_opts {
    bool strict;
} imp_read_opts;

/* Read and validate a graph.  Returns 0, or -1 with errors in d (warnings
 * for every repair of a malformed but understood file).  *io_error is set
 * when the file could not be read at all (may be NULL).  Free g with
 * imp_graph_free in every case.  ro may be NULL (the defaults);
 * imp_load and imp_load_string read with the defaults. */
int imp_load_with(const char *path, const imp_read_opts *ro, imp_graph *g, diag_list *d, bool *io_error);
int imp_load_string_with(const char *name, const char *text, const imp_read_opts *ro, imp_graph *g,
                         diag_list *d);
int imp_load(const char *path, imp_graph *g, diag_list *d, bool *io_error);
int imp_load_string(const char *name, const char *text, imp_graph *g, diag_list *d);
void imp_graph_free(imp_graph *g);

const char *imp_format_name(imp_format f);

/* ---------------------------------------------------------------- mapping */

typedef struct imp_opts {
    place_opts place;
    route_opts route;
    bool no_route;          /* stop after placement (timing from Manhattan distances) */
    imp_read_opts read;     /* how imp_run reads the file (--strict) */
} imp_opts;

void imp_opts_default(imp_opts *o);

/* A virtual unit of the mapped design. */
typedef struct imp_unit {
    place_kind kind;        /* VPCU, VPMU or VAG */
    const char *name;       /* "pcu3", "pmu1:A", "ag0:in0" */
    const char *array;      /* the array of a VPMU when known */
    int n_ops;
    int *ops;               /* node indices, in stage order */
    int in_streams, out_streams;
    int site;               /* into the place_sites; -1 before placement */
    int row, col;           /* the site's switch */
} imp_unit;

/* A stream of the mapped design: one value sent to one other unit. */
typedef struct imp_stream {
    int src_unit, dst_unit;
    const char *value;      /* the producing operation's id */
    bool feedback;          /* carries a loop-carried edge */
    int hops;               /* routed hops (Manhattan when not routed); -1 before placement */
} imp_stream;

/* Exit classes, as the CLI's exit status. */
enum { IMP_EXIT_OK = 0, IMP_EXIT_BAD_INPUT = 1, IMP_EXIT_NO_FIT = 2, IMP_EXIT_IO = 4 };

typedef struct imp_report {
    arena arena;            /* units, names, cycle text */
    const char *file;
    const char *format;
    const char *fabric;
    int exit_class;         /* IMP_EXIT_* */
    const char *status;     /* one line: "mapped" or why not */
    /* the graph */
    int n_nodes, n_edges;
    int n_compute, n_memory, n_immediate, n_io;
    int n_loop_edges, n_pred_edges;
    /* the units */
    int n_units, n_pcus, n_pmus, n_ags;
    imp_unit *unit;
    int *unit_of;           /* per node: its unit, -1 for an immediate */
    int *stage_of;          /* per node: its stage in its unit, from 1; 0 for none */
    const char **node_name; /* per node: its id in the file */
    const char **node_op;   /* per node: its opcode as written */
    int n_streams;          /* (value, consumer unit) pairs between units */
    imp_stream *stream;     /* n_streams entries */
    int n_feedback;         /* of which carry a loop-carried edge */
    int max_stages_used;
    /* timing */
    int recmii;             /* bound before placement: stages only, >= 1 */
    int ii;                 /* mapped: stages + hops x hop_cycles, >= 1 */
    const char *ii_cycle;   /* the recurrence that sets ii, "a -> b -> a", or NULL */
    int ii_cycle_latency, ii_cycle_distance;
    int latency;            /* one iteration, longest path, cycles */
    int depth;              /* longest path in operations (before mapping) */
    bool timing_routed;     /* hops from routes (else Manhattan distances) */
    /* placement and routing */
    const char *strategy;
    bool strict;            /* read with imp_read_opts.strict */
    bool placed, routed;
    double place_cost, place_bound;   /* bound NAN when none */
    bool place_optimal;
    long place_moves;
    int route_iterations, route_overused;
    long route_total_hops;
    int route_max_hops;
    double route_max_util;
    int n_route_nets;
    /* phase times, seconds */
    double t_read, t_cluster, t_place, t_route, t_timing;
} imp_report;

/* Map a loaded graph on a fabric.  Returns the exit class: 0 mapped,
 * 2 does not fit or cannot be routed (with the numbers in d), 1 when the
 * graph is wrong.  r is initialised here and filled as far as the job got;
 * free it with imp_report_free in every case.  Diagnostics name g->file,
 * which imp_load points at d's own copy of the path, so they outlive g. */
int imp_map(const imp_graph *g, const fab_fabric *f, const imp_opts *o,
            imp_report *r, diag_list *d);

/* The whole job for `rdumap --dfg FILE`: load, map, report.  Returns the
 * exit class (4 when the file cannot be read). */
int imp_run(const char *path, const fab_fabric *f, const imp_opts *o,
            imp_report *r, diag_list *d);

void imp_report_free(imp_report *r);

/* The text report: units used, placement cost, routing, II, latency, and
 * the time of each phase. */
void imp_report_print(FILE *out, const imp_report *r);

/* An SVG picture of the mapping: the fabric's checkerboard, the units
 * placed on it with their operations, the AGCUs, and every stream as a
 * line (feedback streams dashed).  Returns 0, or -1 when nothing was
 * placed. */
int imp_report_svg(FILE *out, const imp_report *r, const fab_fabric *f);

/* The JSON report (keys of design.md's contract where they apply, plus
 * "import"); a new reference, NULL when out of memory. */
json_t *imp_report_json(const imp_report *r);

#endif
