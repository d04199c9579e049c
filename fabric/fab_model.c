/*
 * fab_model.c — the fabric as a grid: which unit sits where, where the
 * AGCUs attach, and the peak figures every report divides by.
 *
 * Everything here is a pure function of a loaded fab_fabric, so that the
 * placer, the router, the emulator and the reports agree on one geometry
 * and one set of peaks (design.md, "Measures").
 */
#include "fabric/fab.h"

#include <inttypes.h>
#include <math.h>

fab_unit_kind fab_unit_at(const fab_fabric *f, int row, int col)
{
    (void)f;
    return (row + col) % 2 == 0 ? FAB_PCU : FAB_PMU;
}

/* AGCUs 0 .. h-1 go on the west edge, h .. 2h-1 on the east (h = agcus/2).
 * The i-th of an edge sits at the middle of the i-th of h equal bands of
 * rows: row = floor((2i + 1) x rows / 2h).  Bands are at least one row high
 * (agcus <= 2 x rows), so the rows of one edge are distinct. */
void fab_agcu_site(const fab_fabric *f, int k, int *row, int *col)
{
    int h = f->agcus / 2;
    if (h < 1)
        h = 1;
    bool east = k >= h;
    int i = east ? k - h : k;
    *row = (int)(((int64_t)(2 * i + 1) * f->rows) / (2 * h));
    if (*row >= f->rows)
        *row = f->rows - 1;
    *col = east ? f->cols - 1 : 0;
}

double fab_peak_flop_per_cycle(const fab_fabric *f)
{
    return (double)f->n_pcus * f->lanes * f->stages * 2.0;
}

double fab_peak_flops(const fab_fabric *f)
{
    return fab_peak_flop_per_cycle(f) * f->clock_mhz * 1e6;
}

int64_t fab_onchip_bytes(const fab_fabric *f)
{
    return (int64_t)f->n_pmus * f->pmu_kib * 1024;
}

/* GB/s are decimal (1e9 bytes), as DRAM vendors quote them. */
double fab_dram_bytes_per_cycle(const fab_fabric *f)
{
    return f->dram_gbps * 1e9 / (f->clock_mhz * 1e6);
}

int64_t fab_dram_latency_cycles(const fab_fabric *f)
{
    double cycles = f->dram_latency_ns * f->clock_mhz / 1000.0;
    /* Round up, but do not let 125.0000000001 become 126. */
    return (int64_t)ceil(cycles - 1e-9);
}

static const char *edge_rows(const fab_fabric *f, bool east, char *buf, size_t size)
{
    int h = f->agcus / 2;
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < h && n + 16 < size; i++) {
        int r, c;
        fab_agcu_site(f, east ? h + i : i, &r, &c);
        n += (size_t)snprintf(buf + n, size - n, "%s%d", i ? " " : "", r);
    }
    if (n + 16 >= size && h > 0)
        snprintf(buf + n, size - n, " ...");
    return buf;
}

void fab_describe(FILE *out, const fab_fabric *f)
{
    char rows_w[256], rows_e[256];
    double onchip_mib = (double)fab_onchip_bytes(f) / (1024.0 * 1024.0);
    fprintf(out, "fabric %s (from %s)\n", f->name, f->source);
    fprintf(out, "  grid      %d rows x %d cols = %d units, a checkerboard: PCU where row+col is even\n",
            f->rows, f->cols, f->rows * f->cols);
    fprintf(out, "  units     %d PCUs, %d PMUs, %d AGCUs\n", f->n_pcus, f->n_pmus, f->agcus);
    fprintf(out, "  clock     %d MHz; %" PRId64 " cycles to load a new configuration\n", f->clock_mhz,
            f->reconfig_cycles);
    fprintf(out, "  PCU       %d lanes x %d stages; %d vector in, %d vector out, %d scalar in, "
                 "%d scalar out; FIFOs of %d\n",
            f->lanes, f->stages, f->vector_in, f->vector_out, f->scalar_in, f->scalar_out, f->fifo_depth);
    fprintf(out, "  PMU       %d KiB scratchpad in %d banks\n", f->pmu_kib, f->pmu_banks);
    fprintf(out, "  network   2-D mesh of switches; per direction between neighbours: %d vector, "
                 "%d scalar, %d control links; %d cycle%s per hop\n",
            f->vector_links, f->scalar_links, f->control_links, f->hop_cycles,
            f->hop_cycles == 1 ? "" : "s");
    fprintf(out, "  AGCUs     %d on the west edge (col 0, rows %s), %d on the east (col %d, rows %s)\n",
            f->agcus / 2, edge_rows(f, false, rows_w, sizeof rows_w), f->agcus / 2, f->cols - 1,
            edge_rows(f, true, rows_e, sizeof rows_e));
    fprintf(out, "  DRAM      %g GB/s shared by the AGCUs, %g ns latency\n", f->dram_gbps,
            f->dram_latency_ns);
    fprintf(out, "  peak      %.0f FLOP/cycle (PCUs x lanes x stages x 2) = %.3f TFLOP/s\n",
            fab_peak_flop_per_cycle(f), fab_peak_flops(f) / 1e12);
    fprintf(out, "  on chip   %.2f MiB = %" PRId64 " KiB (PMUs x KiB)\n", onchip_mib,
            fab_onchip_bytes(f) / 1024);
    fprintf(out, "  DRAM      %.3f bytes/cycle; latency %" PRId64 " cycles\n",
            fab_dram_bytes_per_cycle(f), fab_dram_latency_cycles(f));
}
