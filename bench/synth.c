/*
 * synth.c — the layered graph generator of synth.h.
 *
 * Units are numbered layer by layer.  Layer 0 holds the first half of the
 * AGCUs, the last layer the rest; the interior units are spread evenly over
 * the interior layers, which alternate PMU, PCU, PMU, ... so that every
 * pipeline reads from and writes to a memory.  A unit at relative position
 * x in [0,1) of its layer feeds units of the next layer drawn around x
 * (within a window of fanout + 2 units), then each unit of the next layer
 * left without an input gets one from the unit of the previous layer at its
 * own relative position.
 */
#include "bench/synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/prng.h"

void synth_fabric(fab_fabric *f, int rows, int cols, int agcus)
{
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "synthetic-%dx%d", rows, cols);
    snprintf(f->source, sizeof f->source, "<synthetic>");
    f->rows = rows;
    f->cols = cols;
    f->clock_mhz = 1000;
    f->reconfig_cycles = 10000;
    f->lanes = 16;
    f->stages = 6;
    f->vector_in = 4;
    f->vector_out = 2;
    f->scalar_in = 4;
    f->scalar_out = 2;
    f->fifo_depth = 16;
    f->pmu_kib = 256;
    f->pmu_banks = 16;
    f->vector_links = 2;
    f->scalar_links = 4;
    f->control_links = 1;
    f->hop_cycles = 1;
    f->agcus = agcus;
    f->dram_gbps = 50;
    f->dram_latency_ns = 100;
    f->n_pcus = (rows * cols + 1) / 2;
    f->n_pmus = rows * cols / 2;
}

void synth_free(synth_graph *g)
{
    free(g->kind);
    free(g->nets);
    memset(g, 0, sizeof *g);
}

int synth_layered(const synth_opts *o, const fab_fabric *fab, synth_graph *g)
{
    memset(g, 0, sizeof *g);
    int interior = o->units - o->agcus;
    int inner_layers = o->layers - 2;
    if (o->agcus < 2 || o->layers < 3 || o->fanout < 1 || interior < inner_layers)
        return -1;
    int n = o->units, L = o->layers;
    int *start = malloc((size_t)(L + 1) * sizeof *start);
    g->kind = malloc((size_t)n * sizeof *g->kind);
    long cap = (long)n * (o->fanout + 1);
    g->nets = malloc((size_t)cap * sizeof *g->nets);
    char *fed = calloc((size_t)n, 1);
    if (!start || !g->kind || !g->nets || !fed) {
        free(start);
        free(fed);
        synth_free(g);
        return -1;
    }
    /* Layer boundaries and kinds. */
    start[0] = 0;
    start[1] = o->agcus / 2;
    for (int l = 1; l <= inner_layers; l++)
        start[l + 1] = start[1] + (int)((long)interior * l / inner_layers);
    start[L] = n;
    for (int l = 0; l < L; l++)
        for (int u = start[l]; u < start[l + 1]; u++) {
            place_kind k = l == 0 || l == L - 1 ? PLACE_AGCU : (l % 2 ? PLACE_PMU : PLACE_PCU);
            g->kind[u] = k;
            if (k == PLACE_PCU)
                g->n_pcus++;
            else if (k == PLACE_PMU)
                g->n_pmus++;
            else
                g->n_agcus++;
        }
    prng r;
    prng_seed_stream(&r, o->seed, "synth-layered");
    int m = 0;
    for (int l = 0; l + 1 < L; l++) {
        int a0 = start[l], na = start[l + 1] - a0;
        int b0 = start[l + 1], nb = start[l + 2] - b0;
        if (na == 0 || nb == 0)
            continue;
        int window = o->fanout + 2;
        for (int i = 0; i < na; i++) {
            int centre = (int)((long)i * nb / na);
            for (int f = 0; f < o->fanout && f < nb; f++) {
                int j = centre - window / 2 + (int)prng_below(&r, (uint64_t)window);
                if (j < 0)
                    j = 0;
                if (j >= nb)
                    j = nb - 1;
                place_net *e = &g->nets[m++];
                e->src = a0 + i;
                e->dst = b0 + j;
                e->width = prng_unit(&r) < 0.8 ? o->lanes : 1;
                fed[b0 + j] = 1;
            }
        }
        for (int j = 0; j < nb; j++)
            if (!fed[b0 + j] && m < cap) {
                place_net *e = &g->nets[m++];
                e->src = a0 + (int)((long)j * na / nb);
                e->dst = b0 + j;
                e->width = o->lanes;
            }
    }
    free(start);
    free(fed);
    g->prob.fab = fab;
    g->prob.n_units = n;
    g->prob.kind = g->kind;
    g->prob.name = NULL;
    g->prob.n_nets = m;
    g->prob.nets = g->nets;
    return 0;
}
