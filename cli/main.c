/*
 * main.c — the rdumap command.  The pipeline reads top to bottom in
 * run_program(): parse, bound the work, lower, form units, check, place,
 * route (everything that can refuse a program comes first, so a program
 * that cannot map is refused before any data exists), then inputs, the
 * reference, emulate, verify, report.  Only this file prints and exits;
 * every stage below returns errors in a diag_list.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/placement_io.h"
#include "cli/svg.h"
#include "mapper/import/import.h"
#include "patterns/pat_data.h"
#include "util/alloc.h"
#include "util/outputs.h"
#include "util/suggest.h"
#include "util/alloc.h"

static void usage(FILE *out)
{
    fputs("usage: rdumap PROGRAM.pat [options]\n"
          "       rdumap MODEL.onnx [options]\n"
          "       rdumap --dfg GRAPH.{xml,dot} [options]\n"
          "       rdumap --fabric F.cfg --describe\n"
          "\n"
          "  --fabric F.cfg      target fabric (default: the built-in SN10)\n"
          "  --describe          print the fabric model and exit\n"
          "  --seed N            seed for generated inputs (default 1), and for placement\n"
          "                      unless --seed-place is given\n"
          "  --seed-place N      seed for placement only: vary it without changing the data\n"
          "  --data DIR          read inputs from DIR/NAME.npy\n"
          "  --gen-missing       generate inputs that have no file in DIR\n"
          "  --out DIR           write outputs as DIR/NAME.npy (all or nothing)\n"
          "  --save-inputs DIR   write the inputs used (generated or read) as DIR/NAME.npy\n"
          "  --reference DIR     expected outputs from DIR/NAME.npy instead of the interpreter\n"
          "  --max-work N        iterations the reference may run (default 1e10; see docs/reference.md)\n"
          "  --interpret         run the reference interpreter only\n"
          "  --dump-ir           print the typed pattern IR\n"
          "  --dump-dfg FILE     write the dataflow graph as DOT ('-' for text on stdout)\n"
          "  --place S           ilp | sa | greedy | random (default sa)\n"
          "  --time-limit S      ilp time limit in seconds (default 60)\n"
          "  --mip-gap G         ilp relative gap at which to stop (default 0)\n"
          "  --effort E          sa effort multiplier (default 1)\n"
          "  --route-iters N     PathFinder iterations (default 50)\n"
          "  --no-metapipe       run the stages of outer loops one after another\n"
          "  --no-fusion         compute every buffer in its own definition, held in PMUs, instead\n"
          "                      of fusing it into the definition that reads it\n"
          "  --no-tiling         keep every tensor in PMUs: refuse one larger than a PMU instead of\n"
          "                      keeping it in DRAM and tiling the definitions that read it\n"
          "  --par N|auto        replicate each definition's outer map loop N ways; auto (the default):\n"
          "                      the most replicas (128 down to 1) that fit and route; --par 1: one pipeline\n"
          "                      (with --placement, the count the saved report mapped)\n"
          "  --map-only          stop after placement and routing (no emulation)\n"
          "  --dense             run loops under a false guard masked instead of skipping them\n"
          "  --baseline kernel   each definition as its own kernel through DRAM, reconfiguring between\n"
          "  --gains             also emulate without meta-pipelining, dense, unfused, and kernel by\n"
          "                      kernel (each definition mapped on its own), and report what each\n"
          "                      feature buys (ratios of cycles)\n"
          "  --json FILE         write the JSON report\n"
          "  --svg FILE          draw the placement, routes and link use as SVG\n"
          "  --placement FILE    replay the placement saved in a --json report\n"
          "  --trace FILE        write the simulation as Chrome trace-event JSON (Perfetto opens it)\n"
          "  --mutate SPEC       inject a fault in the mapping, to check that verification catches it:\n"
          "                      N or op:N (operation N, see --dump-dfg -), stream:N (mis-wire stream N),\n"
          "                      partition:NAME, replica:N (drop replica N of --par), buffer:NAME\n"
          "                      (rotate an N-buffer early)\n"
          "                      check that verification catches a wrong lowering\n"
          "  --dfg FILE          map an imported dataflow graph (Morpher XML, CGRA-ME DOT)\n"
          "  --strict            with --dfg: refuse a duplicate Morpher idx and a DOT cycle\n"
          "                      without a marked loop-carried edge (see docs/import.md)\n"
          "  --shape NAME=DIMS   an .onnx input's shape (1,3,8,8) or a symbolic dimension's size\n"
          "  --emit-pat FILE     write an .onnx model's decomposition as a .pat program\n"
          "  --emit-data DIR     write an .onnx model's constants as DIR/NAME.npy (for that program)\n"
          "  -q, --quiet         print only errors\n"
          "  -h, --help          this text\n"
          "\n"
          "exit status: 0 mapped and verified, 1 bad program/fabric/data, 2 does not fit,\n"
          "3 verification failed, 4 usage, I/O (a file that cannot be opened, read or written)\n"
          "or out of memory (see docs/robustness.md)\n",
          out);
}

static int parse_number(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < lo || v > hi || isnan(v)) {
        fprintf(stderr, "rdumap: error: %s takes a number from %g to %g, not '%s'\n", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Parse argv into o; returns 0, 1 for --help, or -1 on a usage error. */
static int parse_args(int argc, char **argv, cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->metapipe = true;
    o->par = 0;     /* auto */
    bool par_given = false;
    o->max_work = PAT_DEFAULT_MAX_WORK;
    bool seed_place = false;
    place_opts_default(&o->place);
    o->place.strategy = PLACE_SA;
    route_opts_default(&o->route);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        double num;
#define NEED_VALUE()                                                                        \
    do {                                                                                    \
        if (!val) {                                                                         \
            fprintf(stderr, "rdumap: error: %s needs a value\n", a);                        \
            return -1;                                                                      \
        }                                                                                   \
        i++;                                                                                \
    } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return 1;
        else if (!strcmp(a, "--fabric")) { NEED_VALUE(); o->fabric = val; }
        else if (!strcmp(a, "--describe")) o->describe = true;
        else if (!strcmp(a, "--seed")) {
            NEED_VALUE();
            if (parse_number(a, val, 0, 9007199254740992.0, &num))
                return -1;
            o->seed = (uint64_t)num;
            if (!seed_place)
                o->place.seed = o->seed;
        }
        else if (!strcmp(a, "--seed-place")) {
            NEED_VALUE();
            if (parse_number(a, val, 0, 9007199254740992.0, &num))
                return -1;
            o->place.seed = (uint64_t)num;
            seed_place = true;
        }
        else if (!strcmp(a, "--max-work")) {
            NEED_VALUE();
            if (parse_number(a, val, 1, 9.2e18, &num))
                return -1;
            o->max_work = (int64_t)num;
        }
        else if (!strcmp(a, "--reference")) { NEED_VALUE(); o->reference_dir = val; }
        else if (!strcmp(a, "--save-inputs")) { NEED_VALUE(); o->save_inputs_dir = val; }
        else if (!strcmp(a, "--data")) { NEED_VALUE(); o->data_dir = val; }
        else if (!strcmp(a, "--out")) { NEED_VALUE(); o->out_dir = val; }
        else if (!strcmp(a, "--gen-missing")) o->gen_missing = true;
        else if (!strcmp(a, "--interpret")) o->interpret = true;
        else if (!strcmp(a, "--dump-ir")) o->dump_ir = true;
        else if (!strcmp(a, "--dump-dfg")) { NEED_VALUE(); o->dump_dfg = val; }
        else if (!strcmp(a, "--json")) { NEED_VALUE(); o->json = val; }
        else if (!strcmp(a, "--svg")) { NEED_VALUE(); o->svg = val; }
        else if (!strcmp(a, "--placement")) { NEED_VALUE(); o->placement_in = val; }
        else if (!strcmp(a, "--dfg")) { NEED_VALUE(); o->dfg_file = val; }
        else if (!strcmp(a, "--strict")) o->strict = true;
        else if (!strcmp(a, "--no-metapipe")) o->metapipe = false;
        else if (!strcmp(a, "--no-tiling")) o->no_tiling = true;
        else if (!strcmp(a, "--no-fusion")) o->no_fusion = true;
        else if (!strcmp(a, "--map-only")) o->map_only = true;
        else if (!strcmp(a, "--dense")) o->dense = true;
        else if (!strcmp(a, "--par")) {
            NEED_VALUE();
            par_given = true;
            if (!strcmp(val, "auto"))
                o->par = 0;
            else if (parse_number(a, val, 1, 4096, &num))
                return -1;
            else
                o->par = (int)num;
        }
        else if (!strcmp(a, "--gains")) o->gains = true;
        else if (!strcmp(a, "--baseline")) {
            NEED_VALUE();
            if (strcmp(val, "kernel") != 0) {
                fprintf(stderr, "rdumap: error: --baseline takes 'kernel', not '%s'\n", val);
                return -1;
            }
            o->kernel_baseline = true;
        }
        else if (!strcmp(a, "--mutate")) { NEED_VALUE(); o->mutate = val; }
        else if (!strcmp(a, "--trace")) { NEED_VALUE(); o->trace = val; }
        else if (!strcmp(a, "--place")) {
            NEED_VALUE();
            if (place_strategy_parse(val, &o->place.strategy) != 0) {
                fprintf(stderr, "rdumap: error: --place takes ilp, sa, greedy or random, not '%s'\n", val);
                return -1;
            }
        }
        else if (!strcmp(a, "--time-limit")) {
            NEED_VALUE();
            if (parse_number(a, val, 0.001, 1e6, &o->place.time_limit))
                return -1;
        }
        else if (!strcmp(a, "--mip-gap")) {
            NEED_VALUE();
            if (parse_number(a, val, 0, 1, &o->place.mip_gap))
                return -1;
        }
        else if (!strcmp(a, "--effort")) {
            NEED_VALUE();
            if (parse_number(a, val, 0.001, 1000, &o->place.effort))
                return -1;
        }
        else if (!strcmp(a, "--route-iters")) {
            NEED_VALUE();
            if (parse_number(a, val, 1, 100000, &num))
                return -1;
            o->route.max_iters = (int)num;
        }
        else if (!strcmp(a, "--emit-pat")) { NEED_VALUE(); o->emit_pat = val; }
        else if (!strcmp(a, "--emit-data")) { NEED_VALUE(); o->emit_data = val; }
        else if (!strcmp(a, "--shape")) {
            NEED_VALUE();
            if (o->n_shapes == (int)(sizeof o->shapes / sizeof *o->shapes)) {
                fprintf(stderr, "rdumap: error: too many --shape options\n");
                return -1;
            }
            o->shapes[o->n_shapes++] = val;
        }
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) o->quiet = true;
        else if (a[0] == '-' && a[1]) {
            static const char *const known[] = {
                "--fabric", "--describe", "--seed", "--data", "--gen-missing", "--out", "--interpret", "--dump-ir",
                "--dump-dfg", "--place", "--time-limit", "--mip-gap", "--effort", "--route-iters", "--no-metapipe", "--no-tiling",
                "--par", "--map-only", "--dense", "--baseline", "--gains", "--json", "--svg", "--placement",
                "--mutate", "--dfg", "--quiet", "--help", "--trace", "--seed-place", "--max-work", "--reference",
                "--save-inputs", "--strict", "--shape", "--emit-pat", "--emit-data", "--no-fusion"};
            suggest sg;
            suggest_init(&sg, a, strlen(a));
            for (size_t k = 0; k < sizeof known / sizeof *known; k++)
                suggest_offer(&sg, known[k]);
            if (suggest_best(&sg))
                fprintf(stderr, "rdumap: error: unknown option '%s'; did you mean '%s'?\n", a, suggest_best(&sg));
            else
                fprintf(stderr, "rdumap: error: unknown option '%s' (see rdumap --help)\n", a);
            return -1;
        }
        else if (!o->program) o->program = a;
        else {
            fprintf(stderr, "rdumap: error: more than one program given ('%s' and '%s')\n", o->program, a);
            return -1;
        }
#undef NEED_VALUE
    }
    if (!o->program && !o->dfg_file && !o->describe) {
        fprintf(stderr, "rdumap: error: no program given (see rdumap --help)\n");
        return -1;
    }
    if (o->program && o->dfg_file) {
        fprintf(stderr, "rdumap: error: give a .pat program or --dfg, not both\n");
        return -1;
    }
    /* A saved placement is of one replica count: the one it was made at. */
    if (o->placement_in && !par_given)
        o->par = placement_saved_par(o->placement_in);
    return 0;
}

/* Print one line per output: shape and a few statistics of its values. */
static void summarise_outputs(const pat_program *p, const pat_values *v)
{
    for (int k = 0; k < p->n_decls; k++) {
        const pat_decl *dc = p->decls[k];
        if (dc->kind != PAT_OUTPUT)
            continue;
        const pat_tensor *t = &v->t[k];
        char ty[96];
        double sum = 0, mn = INFINITY, mx = -INFINITY;
        for (int64_t i = 0; i < t->count; i++) {
            double x = dc->type.elem == PAT_F32 ? (double)t->data.f[i] : (double)t->data.i[i];
            sum += x;
            mn = x < mn ? x : mn;
            mx = x > mx ? x : mx;
        }
        printf("%-12s %-16s sum %.6g  min %.6g  max %.6g  mean %.6g\n", dc->name,
               pat_type_str(&dc->type, ty, sizeof ty), sum, mn, mx, t->count ? sum / (double)t->count : 0.0);
    }
}

/* Build the placement problem of the graph's units and streams. */
static int make_place_problem(cli_job *job, place_kind **kinds, const char ***names, place_net **nets)
{
    const dfg *g = job->g;
    *kinds = xcalloc((size_t)g->n_units + 1, sizeof **kinds);
    *names = xcalloc((size_t)g->n_units + 1, sizeof **names);
    *nets = xcalloc((size_t)g->n_streams + 1, sizeof **nets);
    if (!*kinds || !*names || !*nets)
        return -1;
    for (int u = 0; u < g->n_units; u++) {
        (*kinds)[u] = g->units[u].kind == DFG_VPCU ? PLACE_PCU : g->units[u].kind == DFG_VPMU ? PLACE_PMU : PLACE_AGCU;
        (*names)[u] = g->units[u].name;
    }
    double *w = xcalloc((size_t)g->n_streams + 1, sizeof *w);
    if (!w)
        return -1;
    dfg_stream_weights(g, w);
    for (int s = 0; s < g->n_streams; s++)
        (*nets)[s] = (place_net){.src = g->streams[s].src, .dst = g->streams[s].dst, .width = w[s]};
    free(w);
    job->pp = (place_problem){.fab = job->fab, .n_units = g->n_units, .kind = *kinds, .name = *names,
                              .n_nets = g->n_streams, .nets = *nets};
    return 0;
}

/* Route every stream: streams from one unit carrying one value form one
 * multi-sink net.  Fills each stream's routed hops. */
static int route_streams(cli_job *job, diag_list *d)
{
    dfg *g = job->g;
    int n = g->n_streams;
    route_net *nets = xcalloc((size_t)n + 1, sizeof *nets);
    int *net_of = xcalloc((size_t)n + 1, sizeof *net_of);
    int *sink_idx = xcalloc((size_t)n + 1, sizeof *sink_idx);
    int *rows = xcalloc((size_t)n + 1, sizeof *rows);
    int *cols = xcalloc((size_t)n + 1, sizeof *cols);
    int *order = xcalloc((size_t)n + 1, sizeof *order);
    int rc = -1;
    if (!nets || !net_of || !sink_idx || !rows || !cols || !order) {
        diag_error(d, diag_at_file(job->fab->source), "out of memory");
        goto out;
    }
    int n_nets = 0, pos = 0;
    for (int s = 0; s < n; s++)
        net_of[s] = -1;
    for (int s = 0; s < n; s++) {
        if (net_of[s] >= 0)
            continue;
        const dfg_stream *st = &g->streams[s];
        route_net *rn = &nets[n_nets];
        const place_site *src = &job->sites.site[job->place.site[st->src]];
        rn->cls = st->kind == DFG_STREAM_VECTOR ? ROUTE_VECTOR : st->kind == DFG_STREAM_SCALAR ? ROUTE_SCALAR : ROUTE_CONTROL;
        rn->src_row = src->row;
        rn->src_col = src->col;
        rn->sink_row = rows + pos;
        rn->sink_col = cols + pos;
        rn->name = g->units[st->src].name;
        for (int q = s; q < n; q++) {
            const dfg_stream *sq = &g->streams[q];
            if (net_of[q] >= 0 || sq->src != st->src || sq->reg != st->reg || sq->kind != st->kind)
                continue;
            /* Memory traffic carries no register: only a load VAG's streams
             * to the copies of its tensor share a net (a multicast tree). */
            if (st->reg == DFG_NONE && q != s && !(g->units[st->src].kind == DFG_VAG && !g->units[st->src].store))
                continue;
            const place_site *dst = &job->sites.site[job->place.site[sq->dst]];
            rows[pos] = dst->row;
            cols[pos] = dst->col;
            net_of[q] = n_nets;
            sink_idx[q] = rn->n_sinks++;
            order[pos++] = q;
        }
        n_nets++;
    }
    /* --par auto's trial counts negotiate for at most 8 iterations: a
     * design that needs more is congested enough to take fewer replicas */
    route_opts ro = job->opts->route;
    if (job->par_trial && ro.max_iters > 8)
        ro.max_iters = 8;
    int r = route_run(job->fab, nets, n_nets, &ro, &job->route, d);
    job->routed = true;
    if (r != 0)
        goto out;
    for (int s = 0; s < n; s++) {
        g->streams[s].hops = job->route.net[net_of[s]].sink_hops[sink_idx[s]];
        g->streams[s].net = net_of[s];
    }
    free(job->stream_net);
    job->stream_net = net_of;   /* kept for the picture's net labels */
    net_of = NULL;
    rc = 0;
out:
    free(nets);
    free(net_of);
    free(sink_idx);
    free(rows);
    free(cols);
    free(order);
    return rc;
}

/* For each routed net, what it carries between which units ("value 'x'
 * from A to B and 2 more"), for the picture's tooltips; NULL when out of
 * memory (the nets are then drawn without labels). */
static char **net_labels(const cli_job *job)
{
    const dfg *g = job->g;
    int n = job->route.n_nets;
    char **label = xcalloc((size_t)n + 1, sizeof *label);
    int *sinks = xcalloc((size_t)n + 1, sizeof *sinks);
    int *first = xmalloc(((size_t)n + 1) * sizeof *first);
    if (!label || !sinks || !first || !job->stream_net) {
        free(label);
        free(sinks);
        free(first);
        return NULL;
    }
    for (int k = 0; k < n; k++)
        first[k] = -1;
    for (int s = 0; s < g->n_streams; s++) {
        int k = job->stream_net[s];
        if (k < 0 || k >= n)
            continue;
        if (first[k] < 0)
            first[k] = s;
        sinks[k]++;
    }
    for (int k = 0; k < n; k++) {
        if (first[k] < 0)
            continue;
        const dfg_stream *st = &g->streams[first[k]];
        const dfg_unit *src = &g->units[st->src], *dst = &g->units[st->dst];
        char value[160];
        if (st->reg != DFG_NONE && g->regs[st->reg].name)
            snprintf(value, sizeof value, "value '%s'", g->regs[st->reg].name);
        else if (st->reg != DFG_NONE && src->kind != DFG_VPCU)
            snprintf(value, sizeof value, "elements of '%s' (r%d)", g->mems[src->mem].name, st->reg);
        else if (st->reg != DFG_NONE)
            snprintf(value, sizeof value, "value r%d", st->reg);
        else {
            const dfg_unit *m = src->kind != DFG_VPCU ? src : dst;
            snprintf(value, sizeof value, "tensor '%s'", m->kind != DFG_VPCU ? g->mems[m->mem].name : "?");
        }
        size_t len = strlen(value) + strlen(src->name) + strlen(dst->name) + 64;
        label[k] = xmalloc(len);
        if (!label[k])
            continue;
        if (sinks[k] > 1)
            snprintf(label[k], len, "%s from %s to %s and %d more", value, src->name, dst->name, sinks[k] - 1);
        else
            snprintf(label[k], len, "%s from %s to %s", value, src->name, dst->name);
    }
    free(sinks);
    free(first);
    return label;
}

/* The picture: units grouped by what they hold (a VPCU by its definition,
 * a VPMU or VAG by its tensor), the routes if routing ran. */
static int write_svg(const cli_job *job, diag_list *d)
{
    const dfg *g = job->g;
    svg_unit *units = xcalloc((size_t)g->n_units + 1, sizeof *units);
    if (!units)
        return diag_error(d, diag_at_file(job->opts->svg), "out of memory");
    for (int u = 0; u < g->n_units; u++) {
        const dfg_unit *un = &g->units[u];
        const char *group = un->kind == DFG_VPCU ? (un->def >= 0 ? g->defs[un->def].target->name : NULL)
                                                 : g->mems[un->mem].name;
        units[u] = (svg_unit){un->name, job->pp.kind[u], job->place.site[u], group, false, 0};
        if (job->emulated && job->emu.cycles > 0) {
            units[u].has_busy = true;
            units[u].busy = (double)job->emu.unit[u].busy / (double)job->emu.cycles;
        }
    }
    char l0[160], l1[160], l2[160];
    snprintf(l0, sizeof l0, "graph: %d VPCUs, %d VPMUs, %d VAGs, %d streams", g->n_pcus, g->n_pmus, g->n_ags,
             g->n_streams);
    snprintf(l1, sizeof l1, "placement %s: cost %.1f", job->opts->placement_in ? "replayed" :
             place_strategy_name(job->opts->place.strategy), job->place.cost);
    bool routed = job->routed && job->route.link_use;
    if (routed)
        snprintf(l2, sizeof l2, "routing: %d iterations, %d overused links, %ld hops, max link use %.0f%%",
                 job->route.iterations, job->route.overused_links, job->route.total_hops,
                 100.0 * job->route.max_link_util);
    else
        snprintf(l2, sizeof l2, "routing: not done");
    char **labels = routed ? net_labels(job) : NULL;
    svg_figures fig = {job->prog->file, {l0, l1, l2}, 3, (const char *const *)labels};
    FILE *out = outputs_add(job->outs, job->opts->svg, d);
    int rc = out ? svg_write_stream(out, job->opts->svg, job->fab, &job->sites, units, g->n_units,
                                    routed ? &job->route : NULL, &fig, d)
                 : -1;
    for (int k = 0; labels && k < job->route.n_nets; k++)
        free(labels[k]);
    free(labels);
    free(units);
    return rc;
}

/* The emulator's view of a placed and routed job: each unit's site and
 * each stream's net, in arrays the caller frees. */
static int emu_placement(const cli_job *job, emu_opts *eo, int **site_row, int **site_col, int **stream_net)
{
    const dfg *g = job->g;
    *site_row = xmalloc(((size_t)g->n_units + 1) * sizeof **site_row);
    *site_col = xmalloc(((size_t)g->n_units + 1) * sizeof **site_col);
    *stream_net = xmalloc(((size_t)g->n_streams + 1) * sizeof **stream_net);
    if (!*site_row || !*site_col || !*stream_net)
        return -1;
    for (int u = 0; u < g->n_units; u++) {
        (*site_row)[u] = job->sites.site[job->place.site[u]].row;
        (*site_col)[u] = job->sites.site[job->place.site[u]].col;
    }
    for (int s = 0; s < g->n_streams; s++)
        (*stream_net)[s] = g->streams[s].net;
    eo->site_row = *site_row;
    eo->site_col = *site_col;
    eo->route = &job->route;
    eo->stream_net = *stream_net;
    return 0;
}

/* One variant of the design: emulate it and check it computes the same. */
static int variant_cycles(cli_job *job, const pat_values *ref, const emu_opts *eo, const char *what,
                          int64_t *cycles, int64_t *reconfig, diag_list *d)
{
    pat_values out = {0};
    emu_result res;
    int rc = emu_run_opts(job->g, ref, &out, eo, &res, d);
    if (rc == 0) {
        cli_job tmp = *job;
        tmp.verdict = NULL;
        if (cli_verify(&tmp, ref, &out) != 0 || !tmp.verified)
            rc = diag_error(d, diag_at_file(job->prog->file), "the %s variant computes different outputs", what);
        free(tmp.verdict);
        *cycles = res.cycles;
        if (reconfig)
            *reconfig = res.reconfig_cycles;
    }
    emu_result_free(&res);
    pat_values_free(&out);
    return rc;
}

static int map_job(cli_job *job, arena *a, int par, bool check_only, place_kind **kinds, const char ***names,
                   place_net **nets, diag_list *d);
static void reset_mapping(cli_job *job, place_kind **kinds, const char ***names, place_net **nets);
static bool fused_any(const dfg *g);

/* Everything a job mapped for a variant of --gains holds outside its arena. */
static void free_sub_job(cli_job *sub, place_kind **kinds, const char ***names, place_net **nets)
{
    reset_mapping(sub, kinds, names, nets);
    if (sub->sites.site)
        place_sites_free(&sub->sites);
    free(sub->guards_off);
    free(sub->fusion_off);
    free(sub->split_off);
    free(sub->interchange_off);
    free(sub->par_bound);
}

/* The message of d's first error, or NULL. */
static const char *first_error(const diag_list *d)
{
    for (int k = 0; k < d->n; k++)
        if (d->items[k].sev == DIAG_ERROR)
            return d->items[k].msg;
    return NULL;
}

/* --gains without fusion: the program mapped again with every buffer in
 * its own definition (its own lowering, placement and routing, at the
 * design's replica count) and emulated (cycles_no_fusion).  When it does
 * not map, the fusion gain is not measured and the report says why. */
static int unfused_variant(cli_job *job, const pat_values *ref, const emu_opts *base, diag_list *d)
{
    arena a;
    arena_init(&a);
    dfg g2;
    cli_opts o2 = *job->opts;
    o2.no_fusion = true;
    o2.dump_dfg = o2.svg = o2.json = o2.trace = o2.placement_in = o2.mutate = NULL;
    cli_job sub = {.opts = &o2, .fab = job->fab, .g = &g2, .outs = job->outs, .prog = job->prog,
                   .bounds = job->bounds};
    place_kind *kinds = NULL;
    const char **names = NULL;
    place_net *nets = NULL;
    int *site_row = NULL, *site_col = NULL, *stream_net = NULL;
    int rc = 0;
    diag_list md;
    diag_init(&md);
    if (place_sites_init(&sub.sites, job->fab) != 0) {
        rc = diag_error(d, diag_at_file(job->fab->source), "out of memory");
        goto out;
    }
    int st = map_job(&sub, &a, job->g->opts.par, false, &kinds, &names, &nets, &md);
    if (st != EXIT_OK) {
        const char *why = first_error(&md);
        if (!why)
            why = "it does not map";
        job->no_fusion_off = xstrdup(why);
        rc = alloc_failures() > 0 ? diag_error(d, diag_at_file(job->prog->file), "out of memory") : 0;
        goto out;
    }
    emu_opts eo = *base;
    eo.trace = NULL;
    if (emu_placement(&sub, &eo, &site_row, &site_col, &stream_net) != 0) {
        rc = diag_error(d, diag_at_file(job->prog->file), "out of memory");
        goto out;
    }
    rc = variant_cycles(&sub, ref, &eo, "--no-fusion", &job->cycles_no_fusion, NULL, d);
    job->have_no_fusion = rc == 0;
out:
    diag_free(&md);
    free(site_row);
    free(site_col);
    free(stream_net);
    free_sub_job(&sub, &kinds, &names, &nets);
    arena_destroy(&a);
    return rc;
}

static int map_program(cli_job *job, arena *a, place_kind **kinds, const char ***names, place_net **nets,
                       diag_list *d);

/* Definition k of p as a program of its own (a kernel): what it reads is
 * an input (loaded from DRAM), what it defines an output (stored to
 * DRAM); every other tensor is a buffer nothing touches.  The
 * declarations keep their ids, so the reference's values feed it. */
static const pat_program *kernel_program(const pat_program *p, int k, arena *a)
{
    pat_program *q = arena_alloc(a, sizeof *q);
    pat_decl **decls = arena_calloc(a, (size_t)(p->n_decls ? p->n_decls : 1), sizeof *decls);
    pat_def *df = arena_alloc(a, sizeof *df);
    pat_def **defs = arena_alloc(a, sizeof *defs);
    if (!q || !decls || !df || !defs)
        return NULL;
    const pat_def *src = p->defs[k];
    *df = *src;
    df->index = 0;
    for (int i = 0; i < p->n_decls; i++) {
        const pat_decl *dc = p->decls[i];
        pat_decl *nd = arena_alloc(a, sizeof *nd);
        if (!nd)
            return NULL;
        *nd = *dc;
        nd->def = NULL;
        if (dc == src->target) {
            nd->kind = PAT_OUTPUT;
            nd->def = df;
            df->target = nd;
        } else if (dc->kind != PAT_CONST && dc->kind != PAT_INPUT) {
            /* defined by an earlier kernel (read here from DRAM) or by a
             * later one (not touched here) */
            nd->kind = dc->def && dc->def->index < k ? PAT_INPUT : PAT_BUFFER;
            nd->has_gen = false;
        }
        decls[i] = nd;
    }
    *q = *p;
    q->decls = decls;
    q->n_defs = 1;
    defs[0] = df;
    q->defs = defs;
    return q;
}

/* The kernel-by-kernel baseline of --gains, done independently: each
 * definition mapped as its own program (its own --par choice, placement
 * and routing), emulated on the reference's values of what it reads
 * (loaded from DRAM) and verified, its result stored to DRAM; the
 * baseline is the kernels' cycles in sequence plus the fabric's
 * reconfiguration between them.  0, or -1 when a kernel computes a
 * different result; a kernel that does not map leaves the baseline
 * unmeasured, with the reason. */
static int independent_kernels(cli_job *job, const pat_values *ref, const emu_opts *base, diag_list *d)
{
    const pat_program *p = job->prog;
    int rc = 0;
    int64_t total = 0;
    job->kernels = xcalloc((size_t)p->n_defs + 1, sizeof *job->kernels);
    if (!job->kernels)
        return diag_error(d, diag_at_file(p->file), "out of memory");
    for (int k = 0; k < p->n_defs && rc == 0 && !job->kernels_off; k++) {
        arena a;
        arena_init(&a);
        dfg g2;
        cli_opts o2 = *job->opts;
        o2.no_fusion = true;
        o2.gains = o2.kernel_baseline = false;
        o2.dump_dfg = o2.svg = o2.json = o2.trace = o2.placement_in = o2.mutate = NULL;
        const pat_program *kp = kernel_program(p, k, &a);
        cli_job sub = {.opts = &o2, .fab = job->fab, .g = &g2, .outs = job->outs, .prog = kp,
                       .bounds = job->bounds};
        place_kind *kinds = NULL;
        const char **names = NULL;
        place_net *nets = NULL;
        int *site_row = NULL, *site_col = NULL, *stream_net = NULL;
        pat_values out = {0};
        emu_result res = {0};
        bool ran = false;
        diag_list md;
        diag_init(&md);
        if (!kp) {
            rc = diag_error(d, diag_at_file(p->file), "out of memory");
            goto next;
        }
        int st = map_program(&sub, &a, &kinds, &names, &nets, &md);
        if (st != EXIT_OK) {
            const char *why = first_error(&md);
            if (!why)
                why = "it does not map";
            char buf[600];
            snprintf(buf, sizeof buf, "kernel %s does not map on its own: %s", p->defs[k]->target->name, why);
            job->kernels_off = xstrdup(buf);
            if (alloc_failures() > 0)
                rc = diag_error(d, diag_at_file(p->file), "out of memory");
            goto next;
        }
        emu_opts eo = *base;
        eo.trace = NULL;
        eo.kernel_baseline = false;
        if (emu_placement(&sub, &eo, &site_row, &site_col, &stream_net) != 0) {
            rc = diag_error(d, diag_at_file(p->file), "out of memory");
            goto next;
        }
        rc = emu_run_opts(&g2, ref, &out, &eo, &res, d);
        ran = true;
        if (rc == 0) {
            sub.verdict = NULL;
            if (cli_verify(&sub, ref, &out) != 0 || !sub.verified)
                rc = diag_error(d, diag_at_file(p->file), "kernel %s of the baseline computes a different result",
                                p->defs[k]->target->name);
            free(sub.verdict);
            job->kernels[k] = (cli_kernel){.name = p->defs[k]->target->name, .par = g2.opts.par,
                                           .pcus = g2.n_pcus, .cycles = res.cycles};
            total += res.cycles;
        }
    next:
        if (ran)
            emu_result_free(&res);
        pat_values_free(&out);
        diag_free(&md);
        free(site_row);
        free(site_col);
        free(stream_net);
        free_sub_job(&sub, &kinds, &names, &nets);
        arena_destroy(&a);
    }
    if (rc == 0 && !job->kernels_off) {
        job->n_kernels = p->n_defs;
        job->cycles_kernel_reconfig = (int64_t)(p->n_defs - 1) * job->fab->reconfig_cycles;
        job->cycles_kernel = total + job->cycles_kernel_reconfig;
    }
    return rc;
}

/* --gains: what meta-pipelining, sparsity, fusion and spatial execution
 * buy, each a ratio of emulated cycles on the same fabric and data. */
static int measure_gains(cli_job *job, const pat_values *ref, const emu_opts *base, diag_list *d)
{
    dfg *g = job->g;
    double cyc = (double)job->emu.cycles;
    bool *saved = xcalloc((size_t)g->n_loops + 1, sizeof *saved);
    if (!saved)
        return diag_error(d, diag_at_file(job->prog->file), "out of memory");
    for (int l = 0; l < g->n_loops; l++) {
        saved[l] = g->loops[l]->metapipe;
        g->loops[l]->metapipe = false;
    }
    emu_opts nomp = *base;
    nomp.trace = NULL;
    int rc = variant_cycles(job, ref, &nomp, "--no-metapipe", &job->cycles_no_metapipe, NULL, d);
    for (int l = 0; l < g->n_loops; l++)
        g->loops[l]->metapipe = saved[l];
    free(saved);
    emu_opts dense = *base, kernel = *base;
    dense.trace = kernel.trace = NULL;
    dense.dense = true;
    kernel.kernel_baseline = true;
    if (rc == 0)
        rc = variant_cycles(job, ref, &dense, "--dense", &job->cycles_dense, NULL, d);
    /* Fused, the baseline's kernels are the program's definitions, which
     * only the unfused mapping has. */
    if (rc == 0 && fused_any(g))
        rc = unfused_variant(job, ref, base, d);
    else if (rc == 0 && !job->fusion_off && !g->opts.no_fusion && job->prog->n_defs > 1) {
        /* nothing fused: the design is its own variant without fusion */
        job->cycles_no_fusion = job->emu.cycles;
        job->have_no_fusion = true;
    }
    /* The baseline: with one definition it is the design itself (the same
     * program mapped the same way: one kernel, nothing to reconfigure);
     * with more, every definition mapped on its own. */
    (void)kernel;
    if (rc == 0 && job->prog->n_defs == 1) {
        job->cycles_kernel = job->emu.cycles;
        job->cycles_kernel_reconfig = 0;
    } else if (rc == 0)
        rc = independent_kernels(job, ref, base, d);
    if (rc != 0 || cyc <= 0)
        return rc;
    job->have_gains = true;
    job->gain_metapipe = (double)job->cycles_no_metapipe / cyc;
    job->gain_sparsity = (double)job->cycles_dense / cyc;
    job->gain_spatial = job->kernels_off ? 0.0 : (double)job->cycles_kernel / cyc;
    job->gain_fusion = job->have_no_fusion ? (double)job->cycles_no_fusion / cyc : 0.0;
    return 0;
}

/* --dump-dfg: text on stdout for "-", else DOT joining the output set. */
static int write_dump(const char *path, const dfg *g, outputs *outs, diag_list *d)
{
    if (!strcmp(path, "-")) {
        dfg_dump_text(stdout, g);
        return 0;
    }
    FILE *f = outputs_add(outs, path, d);
    if (!f)
        return -1;
    dfg_dump_dot(f, g);
    return 0;
}

/* --json: the report, whole, joins the output set. */
static int write_report(const cli_job *job, diag_list *d)
{
    json_t *root = cli_report_json(job, d);
    int rc = root ? cli_output_json(job->outs, job->opts->json, root, d) : -1;
    json_decref(root);
    return rc;
}

/* Placements tried before giving up on routing. */
enum { PLACE_ATTEMPTS = 4 };

/* Append every diagnostic of from to to, and empty from. */
static void move_diags(diag_list *to, diag_list *from)
{
    for (int k = 0; k < from->n; k++) {
        const diag *g = &from->items[k];
        if (g->sev == DIAG_ERROR)
            diag_error(to, g->loc, "%s", g->msg);
        else if (g->sev == DIAG_WARNING)
            diag_warning(to, g->loc, "%s", g->msg);
        else
            diag_note(to, g->loc, "%s", g->msg);
    }
    to->n_io_errors += from->n_io_errors;
    diag_free(from);
}

/* Place the job's units: replay a saved placement, run the ILP from the
 * default annealer's placement (so it is never worse than --place sa), or
 * run the chosen strategy.  Counts the attempt. */
static int place_job(cli_job *job, const place_opts *po, diag_list *d)
{
    const cli_opts *o = job->opts;
    job->place_attempts++;
    if (o->placement_in) {
        job->place = (place_result){.site = xmalloc(((size_t)job->pp.n_units + 1) * sizeof *job->place.site),
                                    .bound = NAN};
        job->placed = true;
        if (!job->place.site || placement_read(o->placement_in, &job->pp, &job->sites, job->place.site, d) != 0) {
            job->place_replay_failed = true;
            return -1;
        }
        job->place.cost = place_cost(&job->pp, &job->sites, job->place.site);
        return 0;
    }
    if (po->strategy == PLACE_ILP) {
        place_opts so = *po;
        so.strategy = PLACE_SA;
        place_result sa = {0};
        if (place_run(&job->pp, &job->sites, &so, &sa, d) != 0) {
            place_result_free(&sa);
            return -1;
        }
        /* --time-limit covers the whole ILP placement, warm start included
         * (wall-clock seconds, as place.h says). */
        place_opts io = *po;
        io.warm = sa.site;
        io.time_limit = fmax(po->time_limit - sa.seconds, 1e-3);
        int rc = place_run(&job->pp, &job->sites, &io, &job->place, d);
        job->place.seconds += sa.seconds;
        place_result_free(&sa);
        if (rc != 0)
            return -1;
    } else if (place_run(&job->pp, &job->sites, po, &job->place, d) != 0)
        return -1;
    job->placed = true;
    return 0;
}

/* Forget the mapping of an earlier attempt (--par auto). */
static void reset_mapping(cli_job *job, place_kind **kinds, const char ***names, place_net **nets)
{
    if (job->placed || job->place.site)
        place_result_free(&job->place);
    if (job->routed)
        route_result_free(&job->route);
    free(job->stream_net);
    job->stream_net = NULL;
    job->placed = job->routed = false;
    job->place_attempts = 0;
    free(*kinds);
    free(*names);
    free(*nets);
    *kinds = NULL;
    *names = NULL;
    *nets = NULL;
}

static int place_and_route(cli_job *job, place_kind **kinds, const char ***names, place_net **nets,
                           diag_list *d);
static int place_graph(cli_job *job, place_kind **kinds, const char ***names, place_net **nets, diag_list *d);

/* --par auto: why `par` replicas were not taken (what bounded the count),
 * kept for the report: the first error of its attempt, or that no loop is
 * long enough to split so many ways. */
static void note_par_bound(cli_job *job, int par, int status, const diag_list *md)
{
    const char *why = first_error(md);
    char buf[512], *s = NULL;
    if (status != EXIT_OK && why) {
        snprintf(buf, sizeof buf, "%d replicas: %s", par, why);
        s = xstrdup(buf);
    } else if (status == EXIT_OK && job->g->n_par_loops == 0) {
        snprintf(buf, sizeof buf, "%d replicas: no loop to split %d ways (none is independent and that long)", par, par);
        s = xstrdup(buf);
    }
    if (s) {
        free(job->par_bound);
        job->par_bound = s;
    }
}

/* Has the lowering turned a guard into a scan mask or loop bounds? */
static bool has_guard_loops(const dfg *g)
{
    for (int l = 0; l < g->n_loops; l++)
        if (g->loops[l]->scan != DFG_NONE || g->loops[l]->bounded)
            return true;
    return false;
}

/* Lower, form units and check: 0 when the graph fits, 1 when it does
 * not, -1 when the program cannot be lowered; diagnostics in fd. */
static int lower_and_check(cli_job *job, arena *a, const dfg_opts *dop, diag_list *fd)
{
    bool not_fit = false;
    if (dfg_lower(job->g, a, job->prog, job->fab, dop, fd) != 0)
        return -1;
    if (dfg_build_units(job->g, fd) != 0 || dfg_check(job->g, &not_fit, fd) != 0)
        return 1;
    return 0;
}

/* Has the lowering fused a buffer into the definition reading it? */
static bool fused_any(const dfg *g)
{
    for (int k = 0; k < g->n_fusion; k++)
        if (g->fusion[k].into)
            return true;
    return false;
}

/* Lower the program with `par` replicas, form and check its units, and
 * (unless check_only) place and route them.  Returns EXIT_OK, EXIT_NOFIT (does not fit, or cannot be
 * routed), EXIT_INPUT or EXIT_USAGE. */
static int map_job(cli_job *job, arena *a, int par, bool check_only, place_kind **kinds, const char ***names,
                   place_net **nets, diag_list *d)
{
    const cli_opts *o = job->opts;
    const fab_fabric *fab = job->fab;
    dfg *g = job->g;
    /* The kernel baseline is kernel by kernel: one per definition. */
    dfg_opts dop = {.metapipe = o->metapipe, .lanes = fab->lanes, .par = par, .no_tiling = o->no_tiling,
                    .no_fusion = o->no_fusion || o->kernel_baseline};
    free(job->guards_off);
    free(job->fusion_off);
    free(job->interchange_off);
    job->guards_off = job->fusion_off = job->interchange_off = NULL;
    diag_list fd;
    diag_init(&fd);
    int rc = lower_and_check(job, a, &dop, &fd);
    /* Fusion and guards turned into loop control are the lowering's
     * choices, not the program's: where the graph cannot be lowered or
     * does not fit with them, try it without, fusion first, and say why
     * in the report. */
    if (rc != 0 && fused_any(g)) {
        job->fusion_off = xstrdup(fd.n > 0 ? fd.items[0].msg : "the graph does not fit with it");
        diag_free(&fd);
        diag_init(&fd);
        dop.no_fusion = true;
        rc = lower_and_check(job, a, &dop, &fd);
    }
    if (rc != 0 && g->n_interchanged > 0) {
        job->interchange_off = xstrdup(fd.n > 0 ? fd.items[0].msg : "the graph does not fit with it");
        diag_free(&fd);
        diag_init(&fd);
        dop.no_interchange = true;
        rc = lower_and_check(job, a, &dop, &fd);
    }
    if (rc > 0 && has_guard_loops(g)) {
        /* A scan mask or a bound from a guard is one more scalar input of
         * every unit under its loop. */
        job->guards_off = xstrdup(fd.n > 0 ? fd.items[0].msg : "the graph does not fit with them");
        diag_free(&fd);
        diag_init(&fd);
        dop.no_scan = dop.no_bounds = true;
        rc = lower_and_check(job, a, &dop, &fd);
    }
    if (rc != 0) {
        free(job->guards_off);
        free(job->fusion_off);
        free(job->interchange_off);
        job->guards_off = job->fusion_off = job->interchange_off = NULL;
    }
    move_diags(d, &fd);
    if (rc < 0)
        return EXIT_INPUT;
    bool bad = rc > 0;
    if (bad) {
        if (o->dump_dfg && !check_only)
            write_dump(o->dump_dfg, g, job->outs, d);
        return EXIT_NOFIT;
    }
    if (check_only)
        return EXIT_OK;
    diag_list pd;
    diag_init(&pd);
    int status = place_graph(job, kinds, names, nets, &pd);
    free(job->split_off);
    job->split_off = NULL;
    if (status == EXIT_NOFIT && g->split.n_split > 0 && !job->par_trial && !o->placement_in &&
        alloc_failures() == 0) {
        /* A split reduction's partials converge on one PMU: where that
         * does not route, try the count without splitting (and say why). */
        char *why = xstrdup(pd.n > 0 ? pd.items[0].msg : "it does not route");
        diag_list rd;
        diag_init(&rd);
        reset_mapping(job, kinds, names, nets);
        dop.no_split = true;
        int rc2 = lower_and_check(job, a, &dop, &rd);
        if (rc2 == 0) {
            status = place_graph(job, kinds, names, nets, &rd);
            if (status == EXIT_OK) {
                diag_free(&pd);
                pd = rd;
                job->split_off = why;
                why = NULL;
            } else
                diag_free(&rd);
        } else
            diag_free(&rd);
        free(why);
    }
    move_diags(d, &pd);
    /* Dumped after routing, so that every stream shows its routed hops. */
    if (o->dump_dfg && write_dump(o->dump_dfg, g, job->outs, d) != 0)
        return EXIT_USAGE;
    return status;
}

/* Place and route the checked graph of map_job, the fault of --mutate
 * injected first. */
static int place_graph(cli_job *job, place_kind **kinds, const char ***names, place_net **nets, diag_list *d)
{
    const cli_opts *o = job->opts;
    const fab_fabric *fab = job->fab;
    /* Each AGCU serves as many DRAM streams as it must: as many slots per
     * AGCU as the VAGs need, spread evenly. */
    int slots = fab->agcus > 0 ? (job->g->n_ags + fab->agcus - 1) / fab->agcus : 1;
    place_sites_free(&job->sites);
    if (place_sites_init_slots(&job->sites, fab, slots < 1 ? 1 : slots) != 0)
        return diag_error(d, diag_at_file(fab->source), "out of memory"), EXIT_INPUT;
    if (o->mutate && dfg_mutate(job->g, o->mutate, d) != 0)
        return EXIT_USAGE;
    return place_and_route(job, kinds, names, nets, d);
}

/* Place and route the checked graph of map_job. */
static int place_and_route(cli_job *job, place_kind **kinds, const char ***names, place_net **nets,
                           diag_list *d)
{
    const cli_opts *o = job->opts;
    const fab_fabric *fab = job->fab;
    if (make_place_problem(job, kinds, names, nets) != 0)
        return diag_error(d, diag_at_file(fab->source), "out of memory"), EXIT_INPUT;
    if (place_job(job, &o->place, d) != 0)
        return job->place_replay_failed ? EXIT_INPUT : EXIT_NOFIT;
    /* A placement the router cannot legalise is placed again with the
     * next seeds (a fixed sequence, so runs stay deterministic); greedy
     * and replayed placements do not depend on the seed. */
    diag_list rd;
    diag_init(&rd);
    int routed = route_streams(job, &rd);
    /* (--par auto tries a count that may not route once: a smaller count
     * is the cheaper answer than three more placements of this one) */
    bool retry = !o->placement_in && o->place.strategy != PLACE_GREEDY && !job->par_trial;
    /* Out of memory is not congestion: placing again would make the
     * result depend on memory pressure. */
    while (routed != 0 && retry && job->place_attempts < PLACE_ATTEMPTS && alloc_failures() == 0) {
        place_opts po = o->place;
        po.seed = o->place.seed + (uint64_t)job->place_attempts;
        place_result_free(&job->place);
        job->placed = false;
        route_result_free(&job->route);
        job->routed = false;
        diag_free(&rd);
        diag_init(&rd);
        if (place_job(job, &po, d) != 0)
            break;
        routed = route_streams(job, &rd);
    }
    move_diags(d, &rd);
    return routed == 0 ? EXIT_OK : EXIT_NOFIT;
}

/* Lower, form units, check, place and route the job's program: once at
 * --par N, or for --par auto from the most replicas down until one fits
 * and routes.  Returns an exit status. */
static int map_program(cli_job *job, arena *a, place_kind **kinds, const char ***names, place_net **nets,
                       diag_list *d)
{
    const cli_opts *o = job->opts;
    const fab_fabric *fab = job->fab;
    dfg *g = job->g;
    int status = EXIT_INPUT;
    if (place_sites_init(&job->sites, fab) != 0)
        return diag_error(d, diag_at_file(fab->source), "out of memory"), EXIT_INPUT;
    static const int auto_par[] = {128, 96, 64, 48, 32, 24, 16, 12, 8, 6, 4, 3, 2, 1};
    int n_auto = (int)(sizeof auto_par / sizeof *auto_par);
    /* --par auto: first, without placing, the most replicas whose graph
     * fits the fabric (units, ports, capacities) and parallelises a loop;
     * none when no count does.  Then place and route from there down until
     * one routes: usually the first. */
    int first = 0;
    if (o->par == 0) {
        first = n_auto - 1;
        for (int t = 0; t < n_auto - 1; t++) {
            diag_list md;
            diag_init(&md);
            status = map_job(job, a, auto_par[t], true, kinds, names, nets, &md);
            note_par_bound(job, auto_par[t], status, &md);
            diag_free(&md);
            /* (a loop shorter than the count is not parallelised at it) */
            if (status == EXIT_OK && g->n_par_loops > 0) {
                first = t;
                break;
            }
            if (status != EXIT_OK && status != EXIT_NOFIT)
                break;
        }
    }
    int n_try = o->par > 0 ? 1 : n_auto;
    for (int t = o->par > 0 ? 0 : first; t < n_try; t++) {
        int par = o->par > 0 ? o->par : auto_par[t];
        diag_list md;
        diag_init(&md);
        reset_mapping(job, kinds, names, nets);
        /* every count but the last is a trial: placed once, and a count
         * that does not route is followed by about half of it (the list
         * alternates halves), not by the next */
        job->par_trial = o->par == 0 && t < n_try - 1;
        status = map_job(job, a, par, false, kinds, names, nets, &md);
        /* a replica count that parallelises nothing is no answer for auto */
        bool idle = o->par == 0 && par > 1 && status == EXIT_OK && g->n_par_loops == 0;
        if (!idle && (status == EXIT_OK || t == n_try - 1 || status != EXIT_NOFIT)) {
            move_diags(d, &md);
            break;
        }
        if (o->par == 0)
            note_par_bound(job, par, status, &md);
        diag_free(&md);
        if (o->par == 0 && status == EXIT_NOFIT && job->placed && t + 2 < n_try)
            t++;  /* placed but not routed: skip to about half */
    }
    job->par_trial = false;
    if (o->par == 0 && status == EXIT_OK && g->opts.par == auto_par[0] && !job->par_bound)
        job->par_bound = xstrdup("128 replicas are the most --par auto tries");
    return status;
}

/* The inputs (read or generated, saved with --save-inputs) and the
 * expected outputs (the interpreter, or --reference DIR) in ref, with the
 * reordering bound of every element in rb.  Returns an exit status. */
static int reference_values(const cli_opts *o, const pat_program *p, onnx_model *onnx, pat_values *ref,
                            pat_bounds *rb, diag_list *d)
{
    if (pat_values_init(ref, p) != 0)
        return diag_error(d, diag_at_file(p->file), "out of memory for the program's tensors"), EXIT_INPUT;
    if (cli_load_inputs(o, p, onnx, ref, d) != 0)
        return EXIT_INPUT;
    if (o->save_inputs_dir && cli_save_inputs(p, o->save_inputs_dir, ref, d) != 0)
        return EXIT_USAGE;
    if (o->reference_dir)
        return cli_load_reference(p, o->reference_dir, ref, rb, d);
    pat_interp_opts io = {.max_work = o->max_work};
    return pat_interpret_opts(p, ref, &io, rb, d) != 0 ? EXIT_INPUT : EXIT_OK;
}

/* The whole job for a .pat program; returns the exit status. */
static int run_program(const cli_opts *o, const fab_fabric *fab, diag_list *d)
{
    arena a;
    arena_init(&a);
    pat_values ref = {0}, emu_out = {0};
    pat_bounds rb = {0};
    dfg g;
    outputs outs;
    outputs_begin(&outs);
    cli_job job = {.opts = o, .fab = fab, .g = &g, .outs = &outs};
    place_kind *kinds = NULL;
    const char **names = NULL;
    place_net *nets = NULL;
    int status = EXIT_INPUT;
    int *site_row = NULL, *site_col = NULL, *stream_net = NULL;
    char *trace_buf = NULL;    /* the trace, in memory until the run's outputs are committed */
    size_t trace_len = 0;

    /* 1. Parse and check (or read and decompose an ONNX model). */
    onnx_model onnx;
    const pat_program *p = cli_load_program(o, &a, &onnx, d);
    if (!p)
        goto done;
    job.prog = p;
    if (o->dump_ir)
        pat_dump(stdout, p);

    /* 2. Bound the work the reference and the emulator will do: a program
     * past the limit is refused before anything runs. */
    if (!o->map_only && pat_check_work(p, o->max_work, d) != 0) {
        status = EXIT_NOFIT;
        job.g = NULL;
        goto refused;
    }
    if (o->interpret) {
        status = reference_values(o, p, &onnx, &ref, &rb, d);
        if (status != EXIT_OK)
            goto done;
        if (!o->quiet)
            summarise_outputs(p, &ref);
        if (o->out_dir && pat_add_outputs(&outs, p, o->out_dir, &ref, d) != 0) {
            status = EXIT_USAGE;
            goto done;
        }
        status = EXIT_OK;
        goto done;
    }

    /* 3-4. Lower, form units, check, place and route: once, or for
     * --par auto from the most replicas down until one fits and routes. */
    status = map_program(&job, &a, &kinds, &names, &nets, d);
    if (status == EXIT_NOFIT && job.placed && job.routed && job.route.overused_links > 0) {
        /* The report of a congested mapping is what the user needs to see
         * why: write it (without emulation) before failing. */
        job.refused = cli_refusal_reason(d);
        if (o->svg)
            write_svg(&job, d);
        if (o->json)
            write_report(&job, d);
        goto done;
    }
    if (status == EXIT_NOFIT)
        goto refused;
    if (status != EXIT_OK)
        goto done;
    /* Without emulation the picture is drawn now; with it, once the busy
     * fractions are known. */
    if (o->svg && o->map_only && write_svg(&job, d) != 0) {
        status = EXIT_USAGE;
        goto done;
    }

    if (o->map_only) {
        if (!o->quiet)
            cli_report_text(stdout, &job);
        status = o->json && write_report(&job, d) != 0 ? EXIT_USAGE : EXIT_OK;
        goto done;
    }

    /* 5. Only a program that maps gets data and a reference. */
    status = reference_values(o, p, &onnx, &ref, &rb, d);
    if (status != EXIT_OK)
        goto done;

    /* 6. Emulate and verify. */
    status = EXIT_INPUT;
    emu_opts eo = {.dense = o->dense, .kernel_baseline = o->kernel_baseline};
    if (emu_placement(&job, &eo, &site_row, &site_col, &stream_net) != 0) {
        diag_error(d, diag_at_file(p->file), "out of memory");
        goto done;
    }
    if (o->trace) {
        /* Kept in memory, then joins the run's outputs (all written or none). */
        eo.trace = open_memstream(&trace_buf, &trace_len);
        if (!eo.trace) {
            diag_error(d, diag_at_file(o->trace), "out of memory for the trace");
            goto done;
        }
    }
    int erc = emu_run_opts(&g, &ref, &emu_out, &eo, &job.emu, d);
    if (eo.trace) {
        if (fclose(eo.trace) != 0 && erc == 0)
            erc = diag_error(d, diag_at_file(o->trace), "out of memory for the trace");
        eo.trace = NULL;
    }
    if (erc != 0) {
        /* A fault or deadlock of the simulated hardware on a program the
         * reference ran cleanly is the mapping's, not the user's. */
        status = EXIT_VERIFY;
        goto done;
    }
    job.emulated = true;
    job.bounds = &rb;
    if (o->trace) {
        FILE *tf = outputs_add(&outs, o->trace, d);
        if (!tf || fwrite(trace_buf, 1, trace_len, tf) != trace_len) {
            status = EXIT_USAGE;
            goto done;
        }
    }
    if (o->gains && measure_gains(&job, &ref, &eo, d) != 0) {
        status = EXIT_VERIFY;
        goto done;
    }
    if (cli_verify(&job, &ref, &emu_out) != 0) {
        diag_error(d, diag_at_file(p->file), "out of memory");
        goto done;
    }

    /* 7. Report, then write outputs only for a verified mapping. */
    if (o->svg && write_svg(&job, d) != 0) {
        status = EXIT_USAGE;
        goto done;
    }
    if (!o->quiet)
        cli_report_text(stdout, &job);
    if (o->json && write_report(&job, d) != 0) {
        status = EXIT_USAGE;
        goto done;
    }
    if (!job.verified) {
        diag_error(d, diag_at_file(p->file), "the emulated outputs differ from the reference; nothing written");
        status = EXIT_VERIFY;
        goto done;
    }
    if (o->out_dir && pat_add_outputs(&outs, p, o->out_dir, &emu_out, d) != 0) {
        status = EXIT_USAGE;
        goto done;
    }
    status = EXIT_OK;
    goto done;

refused:
    /* A refusal keeps its reason as data for a sweep script. */
    if (o->json && cli_report_refusal_json(&outs, o->json, &job, status, d) != 0)
        status = EXIT_USAGE;
done:
    /* Every output file, or none: none after an I/O error or out of memory. */
    if (alloc_failures() > 0 || d->n_io_errors > 0 || outs.failed)
        outputs_abort(&outs);
    else if (outputs_commit(&outs, d) != 0)
        status = EXIT_USAGE;
    free(trace_buf);
    free(site_row);
    free(site_col);
    free(stream_net);
    free(job.refused);
    free(job.par_bound);
    free(job.guards_off);
    free(job.fusion_off);
    free(job.no_fusion_off);
    free(job.split_off);
    free(job.interchange_off);
    free(job.kernels_off);
    free(job.kernels);
    free(kinds);
    free(names);
    free(nets);
    free(job.stream_net);
    free(job.verdict);
    if (job.placed)
        place_result_free(&job.place);
    if (job.routed)
        route_result_free(&job.route);
    if (job.sites.site)
        place_sites_free(&job.sites);
    emu_result_free(&job.emu);
    pat_bounds_free(&rb);
    pat_values_free(&ref);
    pat_values_free(&emu_out);
    onnx_model_free(&onnx);
    arena_destroy(&a);
    return status;
}

static int run_import(const cli_opts *o, const fab_fabric *fab, diag_list *d)
{
    imp_opts io;
    imp_opts_default(&io);
    io.place = o->place;
    io.route = o->route;
    io.read.strict = o->strict;
    imp_report r;
    int status = imp_run(o->dfg_file, fab, &io, &r, d);
    if (!o->quiet && status != IMP_EXIT_BAD_INPUT && status != IMP_EXIT_IO)
        imp_report_print(stdout, &r);
    outputs outs;
    outputs_begin(&outs);
    bool reported = status != IMP_EXIT_BAD_INPUT && status != IMP_EXIT_IO && alloc_failures() == 0;
    if (o->json && reported) {
        json_t *j = imp_report_json(&r);
        if (!j)
            diag_error(d, diag_at_file(o->json), "out of memory building the JSON report");
        if (!j || cli_output_json(&outs, o->json, j, d) != 0)
            status = EXIT_USAGE;
        json_decref(j);
    }
    if (o->svg && reported) {
        FILE *f = outputs_add(&outs, o->svg, d);
        if (!f || imp_report_svg(f, &r, fab) != 0) {
            if (f)
                diag_error(d, diag_at_file(o->svg), "cannot draw the picture (out of memory)");
            status = EXIT_USAGE;
        }
    }
    if (status == EXIT_USAGE || alloc_failures() > 0 || d->n_io_errors > 0 || outs.failed)
        outputs_abort(&outs);
    else if (outputs_commit(&outs, d) != 0)
        status = EXIT_USAGE;
    imp_report_free(&r);
    return status;
}

int main(int argc, char **argv)
{
    if (cli_alloc_init() != 0) {
        fprintf(stderr, "rdumap: error: RDUMAP_FAULT_ALLOC takes N or N+ (N > 0)\n");
        return EXIT_USAGE;
    }
    cli_opts o;
    int pa = parse_args(argc, argv, &o);
    if (pa != 0) {
        usage(pa > 0 ? stdout : stderr);
        return pa > 0 ? EXIT_OK : EXIT_USAGE;
    }
    diag_list d;
    diag_init(&d);
    fab_fabric fab;
    int status;
    if ((o.fabric ? fab_load_file(o.fabric, &fab, &d) : fab_load_default(&fab, &d)) != 0)
        status = EXIT_INPUT;
    else if (o.describe && !o.program && !o.dfg_file) {
        fab_describe(stdout, &fab);
        status = EXIT_OK;
    } else if (o.dfg_file)
        status = run_import(&o, &fab, &d);
    else
        status = run_program(&o, &fab, &d);
    status = cli_final_status(status, &d);
    diag_print(stderr, &d);
    diag_free(&d);
    return status;
}
