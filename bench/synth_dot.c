/*
 * synth_dot.c — write a synthetic layered graph (synth.h) as a CGRA-ME DOT
 * file and a fabric .cfg it fits, so that the results harness (bench/run)
 * maps graphs of any size with one `rdumap --dfg GRAPH.dot --fabric F.cfg`
 * process each, through the same reader, placer and router as real graphs.
 *
 *   synth_dot UNITS SEED GRAPH.dot FABRIC.cfg
 *
 * The graph is synth_layered's: AGCU units become `input` (first layer) and
 * `output` (last layer) nodes, PMU units `load` nodes (no array, so each is
 * a VPMU of its own), PCU units `add`/`mul` nodes.  The fabric has one stage
 * per PCU, so the importer's clustering cannot merge operations and the
 * mapped graph has exactly UNITS units; it is the smallest square whose
 * PCUs and PMUs are at most 80% used, with one AGCU per input/output node,
 * and its vector_in/vector_out are raised to the largest fan-in/fan-out of
 * the graph (at least the contract's defaults, 4 and 2); it has 4 vector
 * tracks per link (2 leave even an annealed 10,000-unit graph unroutable).  A net drawn twice
 * between the same two units is written once.  Equal arguments give equal
 * files.  Exit status 0, or 4 on bad arguments or I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/synth.h"

static int side_for(int units)
{
    /* interior units split about evenly between PCUs and PMUs: each half
     * must fill at most 80% of its sites (rows x cols / 2 each) */
    int side = 4;
    while ((double)side * side / 2 * 0.8 < (double)units / 2 + 1)
        side++;
    return side;
}

static int cmp_net(const void *a, const void *b)
{
    const place_net *x = a, *y = b;
    if (x->dst != y->dst)
        return x->dst < y->dst ? -1 : 1;
    return x->src < y->src ? -1 : x->src > y->src;
}

static const char *opcode(const synth_graph *g, int u, int n_layer0)
{
    switch (g->kind[u]) {
    case PLACE_AGCU:
        return u < n_layer0 ? "input" : "output";
    case PLACE_PMU:
        return "load";
    default:
        return u % 2 ? "mul" : "add";
    }
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: synth_dot UNITS SEED GRAPH.dot FABRIC.cfg\n");
        return 4;
    }
    char *end;
    long units = strtol(argv[1], &end, 10);
    if (*end || units < 20 || units > 200000) {
        fprintf(stderr, "synth_dot: UNITS must be 20 .. 200000, not '%s'\n", argv[1]);
        return 4;
    }
    unsigned long long seed = strtoull(argv[2], &end, 10);
    if (*end || !*argv[2]) {
        fprintf(stderr, "synth_dot: SEED must be a number, not '%s'\n", argv[2]);
        return 4;
    }
    int side = side_for((int)units);
    int agcus = (int)(units / 10);
    if (agcus > 2 * side)
        agcus = 2 * side;
    agcus &= ~1;
    if (agcus < 2)
        agcus = 2;
    fab_fabric fab;
    synth_fabric(&fab, side, side, agcus);
    fab.vector_links = 4;   /* two tracks leave an annealed 10,000-unit graph unroutable */
    synth_opts so = {.units = (int)units, .agcus = agcus, .layers = 40, .fanout = 2, .lanes = 16,
                     .seed = seed};
    synth_graph g;
    if (synth_layered(&so, &fab, &g) != 0) {
        fprintf(stderr, "synth_dot: cannot build a %ld-unit graph\n", units);
        return 4;
    }
    /* one net per (src, dst), sorted by destination so operands number in order */
    place_net *nets = g.nets;
    int m = g.prob.n_nets;
    qsort(nets, (size_t)m, sizeof *nets, cmp_net);
    int k = 0;
    for (int i = 0; i < m; i++)
        if (k == 0 || nets[i].src != nets[k - 1].src || nets[i].dst != nets[k - 1].dst)
            nets[k++] = nets[i];
    m = k;
    int *in = calloc((size_t)units, sizeof *in), *out = calloc((size_t)units, sizeof *out);
    if (!in || !out) {
        free(in), free(out);
        synth_free(&g);
        fprintf(stderr, "synth_dot: out of memory\n");
        return 4;
    }
    int max_in = 4, max_out = 2;
    for (int i = 0; i < m; i++) {
        in[nets[i].dst]++;
        out[nets[i].src]++;
    }
    for (int u = 0; u < units; u++)
        if (g.kind[u] != PLACE_AGCU) {
            max_in = in[u] > max_in ? in[u] : max_in;
            max_out = out[u] > max_out ? out[u] : max_out;
        }
    int n_layer0 = agcus / 2;   /* synth.c: layer 0 holds the first half of the AGCUs */
    FILE *f = fopen(argv[3], "w");
    int rc = 0;
    if (!f) {
        perror(argv[3]);
        rc = 4;
    } else {
        fprintf(f, "// synthetic layered graph: %ld units (%d PCUs, %d PMUs, %d AGCUs), %d streams, seed %llu\n",
                units, g.n_pcus, g.n_pmus, g.n_agcus, m, seed);
        fprintf(f, "// written by bench/synth_dot for the results harness (bench/run)\ndigraph synth {\n");
        for (int u = 0; u < units; u++)
            fprintf(f, "  u%d[opcode=%s];\n", u, opcode(&g, u, n_layer0));
        for (int i = 0, operand = 0; i < m; i++) {
            operand = i > 0 && nets[i - 1].dst == nets[i].dst ? operand + 1 : 0;
            fprintf(f, "  u%d -> u%d[operand=%d];\n", nets[i].src, nets[i].dst, operand);
        }
        fprintf(f, "}\n");
        if (fclose(f) != 0) {
            perror(argv[3]);
            rc = 4;
        }
    }
    f = rc ? NULL : fopen(argv[4], "w");
    if (!rc && !f) {
        perror(argv[4]);
        rc = 4;
    } else if (f) {
        fprintf(f, "# synthetic fabric for the %ld-unit graph of bench/synth_dot (seed %llu):\n"
                   "# the smallest square with PCUs and PMUs at most 80%% used, one stage per PCU.\n"
                   "[fabric]\nname = synthetic-%ld\nrows = %d\ncols = %d\nclock_mhz = %d\n\n"
                   "[pcu]\nlanes = %d\nstages = 1\nvector_in = %d\nvector_out = %d\n\n"
                   "[pmu]\nkib = %d\nbanks = %d\n\n"
                   "[network]\nvector_links = %d\nscalar_links = %d\n\n"
                   "[dram]\nagcus = %d\ngbps = %.0f\n",
                units, seed, units, side, side, fab.clock_mhz, fab.lanes, max_in, max_out, fab.pmu_kib,
                fab.pmu_banks, fab.vector_links, fab.scalar_links, agcus, fab.dram_gbps);
        if (fclose(f) != 0) {
            perror(argv[4]);
            rc = 4;
        }
    }
    free(in);
    free(out);
    synth_free(&g);
    return rc;
}
