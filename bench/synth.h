/*
 * synth.h — synthetic layered dataflow graphs as placement problems, for
 * the benchmarks and the placement tests.
 *
 * The shape is that of a lowered pattern program: a first layer of AGCUs
 * (loads), interior layers alternating PMUs and PCUs (tile, pipeline, tile,
 * ...), a last layer of AGCUs (stores).  Each unit feeds `fanout` units of
 * the next layer chosen near its own relative position (so the graph has
 * locality a good placement can exploit, as real pipelines do), and every
 * unit past the first layer has at least one input.  Streams are vectors of
 * `lanes` words with probability 0.8, else scalars of width 1.
 */
#ifndef RDUMAP_BENCH_SYNTH_H
#define RDUMAP_BENCH_SYNTH_H

#include <stdint.h>

#include "mapper/place/place.h"

typedef struct synth_opts {
    int units;        /* total units, AGCUs included */
    int agcus;        /* AGCU units (split between the first and last layers); >= 2 */
    int layers;       /* >= 3 */
    int fanout;       /* outputs per unit, >= 1 */
    double lanes;     /* width of a vector stream */
    uint64_t seed;
} synth_opts;

typedef struct synth_graph {
    place_problem prob;     /* points into the arrays below */
    place_kind *kind;
    place_net *nets;
    int n_pcus, n_pmus, n_agcus;
} synth_graph;

/* Build the graph for fabric `fab`.  Returns 0, or -1 on bad options or
 * out of memory.  Equal options give equal graphs. */
int synth_layered(const synth_opts *o, const fab_fabric *fab, synth_graph *g);
void synth_free(synth_graph *g);

/* A fabric filled in by hand (no file): rows x cols, `agcus` AGCUs, the
 * other fields set to plausible values. */
void synth_fabric(fab_fabric *f, int rows, int cols, int agcus);

#endif
