/*
 * fab.h — the face of fabric/: the fabric model read from a `.cfg` file
 * (contract: shared/spec/fabric-config.md) and the figures derived from it.
 *
 * The model is a rows x cols checkerboard of units, a PCU where r + c is
 * even and a PMU where it is odd, one switch per unit in a 2-D mesh, and
 * AGCUs on the west and east edges attached to the edge switch of their row.
 */
#ifndef RDUMAP_FABRIC_FAB_H
#define RDUMAP_FABRIC_FAB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/diag.h"

typedef enum fab_unit_kind { FAB_PCU, FAB_PMU } fab_unit_kind;

typedef struct fab_fabric {
    char name[128];
    char source[512];         /* the file it came from, or "<built-in sn10>" */
    /* [fabric] */
    int rows, cols;
    int clock_mhz;
    int64_t reconfig_cycles;
    bool reconfig_given;      /* reconfig_cycles was in the file (else the contract's default) */
    /* [pcu] */
    int lanes, stages;
    int vector_in, vector_out, scalar_in, scalar_out;
    int fifo_depth;
    /* [pmu] */
    int pmu_kib, pmu_banks;
    /* [network] */
    int vector_links, scalar_links, control_links;
    int hop_cycles;
    /* [dram] */
    int agcus;
    double dram_gbps;
    double dram_latency_ns;
    /* derived by the loader */
    int n_pcus, n_pmus;
} fab_fabric;

/* Read and validate a fabric file; every rule of the contract is checked and
 * an error names the file, the line and the key.  Returns 0, or -1 with
 * diagnostics in d. */
int fab_load_file(const char *path, fab_fabric *out, diag_list *d);
int fab_load_string(const char *name, const char *text, fab_fabric *out, diag_list *d);

/* The built-in default: fabric/sn10.cfg, compiled into the program. */
int fab_load_default(fab_fabric *out, diag_list *d);

fab_unit_kind fab_unit_at(const fab_fabric *f, int row, int col);

/* Position of AGCU k (0 .. agcus-1): the first half on the west edge, the
 * second on the east, spread evenly over the rows; *row and *col are those
 * of the edge switch it is attached to (col 0 or cols-1). */
void fab_agcu_site(const fab_fabric *f, int k, int *row, int *col);

double fab_peak_flop_per_cycle(const fab_fabric *f);   /* PCUs x lanes x stages x 2 */
double fab_peak_flops(const fab_fabric *f);            /* per second */
int64_t fab_onchip_bytes(const fab_fabric *f);         /* PMUs x kib x 1024 */
double fab_dram_bytes_per_cycle(const fab_fabric *f);
int64_t fab_dram_latency_cycles(const fab_fabric *f);  /* rounded up */

/* Print the model for `--describe`. */
void fab_describe(FILE *out, const fab_fabric *f);

#endif
