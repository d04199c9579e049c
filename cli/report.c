/*
 * report.c — verification against the reference interpreter, and the text
 * and JSON reports.  Every number printed here was measured or computed by
 * an earlier stage; this file only compares and formats.
 */
#include "cli/cli.h"
#include "util/alloc.h"

#include <jansson.h>
#include <math.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void human(char *buf, size_t n, double v)
{
    if (v >= 1e9)
        snprintf(buf, n, "%.3g G", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, n, "%.3g M", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, n, "%.3g k", v / 1e3);
    else
        snprintf(buf, n, "%.3g ", v);
}

/* Where unit u sits and what part of the source it runs. */
static void unit_label(const cli_job *job, int u, char *buf, size_t size)
{
    const dfg *g = job->g;
    const dfg_unit *un = &g->units[u];
    char site[48] = "";
    if (job->placed) {
        const place_site *s = &job->sites.site[job->place.site[u]];
        snprintf(site, sizeof site, " at (%d,%d)", s->row, s->col);
    }
    diag_loc loc = {0};
    if (un->kind == DFG_VPMU || un->kind == DFG_VAG) {
        const dfg_mem *m = &g->mems[un->mem];
        if (m->decl)
            loc = m->decl->loc;
    }
    for (int k = 0; k < g->n_ops && !loc.line; k++)
        if (g->ops[k]->unit == un->base)
            loc = g->ops[k]->loc;
    if (loc.line)
        snprintf(buf, size, "%s %s%s, line %d", dfg_unit_kind_name(un->kind), un->name, site, loc.line);
    else
        snprintf(buf, size, "%s %s%s", dfg_unit_kind_name(un->kind), un->name, site);
}

static int64_t stalled(const emu_unit_stats *s)
{
    return s->starved + s->backpressured + s->contention;
}

/* The three busiest and the three most stalled units. */
static void print_units(FILE *out, const cli_job *job)
{
    const emu_result *e = &job->emu;
    int n = e->n_units;
    for (int pass = 0; pass < 2; pass++) {
        int best[3] = {-1, -1, -1};
        for (int u = 0; u < n; u++) {
            int64_t v = pass ? stalled(&e->unit[u]) : e->unit[u].busy;
            if (v <= 0)
                continue;
            for (int k = 0; k < 3; k++) {
                int64_t bv = best[k] < 0 ? -1 : pass ? stalled(&e->unit[best[k]]) : e->unit[best[k]].busy;
                if (v > bv) {
                    for (int q = 2; q > k; q--)
                        best[q] = best[q - 1];
                    best[k] = u;
                    break;
                }
            }
        }
        for (int k = 0; k < 3 && best[k] >= 0; k++) {
            const emu_unit_stats *s = &e->unit[best[k]];
            char lab[256];
            unit_label(job, best[k], lab, sizeof lab);
            if (!pass)
                fprintf(out, "%s %s: busy %lld cycles (%.0f%%)\n", k ? "            " : "busiest     ", lab,
                        (long long)s->busy, e->cycles ? 100.0 * (double)s->busy / (double)e->cycles : 0.0);
            else
                fprintf(out, "%s %s: starved %lld, back-pressured %lld, bank contention %lld cycles\n",
                        k ? "            " : "most stalled", lab, (long long)s->starved, (long long)s->backpressured,
                        (long long)s->contention);
        }
    }
}

/* Which tensors stay in DRAM and how each tiled definition is strip-mined
 * (lower.c): "tiling       C: i 16 tiles of 64, j 16 tiles of 64 (A.tile
 * 256 KiB x2, ...); in DRAM: A, B, C". */
static void report_tiling(FILE *out, const dfg *g)
{
    /* tensors over several PMUs (--par): partitions by rows, or copies */
    bool any = false;
    for (int m = 0; m < g->n_mems; m++) {
        const dfg_mem *mm = &g->mems[m];
        if (mm->copies <= 1 || mm->vpmu == DFG_NONE || !mm->decl)
            continue;
        fprintf(out, "%s %s %s", any ? "," : "across PMUs ", mm->name,
                mm->partitioned ? "rows" : "copies");
        fprintf(out, " x%d", mm->copies);
        any = true;
    }
    if (any)
        fputs(" (program tensors split by rows over the replicas' PMUs, or copied to each)\n", out);
    int n_dram = 0;
    for (int m = 0; m < g->n_mems; m++)
        n_dram += g->mems[m].dram;
    if (!n_dram)
        return;
    bool first = true;
    for (int k = 0; k < g->n_defs; k++) {
        const dfg_def *gd = &g->defs[k];
        if (!gd->n_tile)
            continue;
        fprintf(out, first ? "tiling       %s:" : "             %s:", gd->target->name);
        first = false;
        for (int t = 0; t < gd->n_tile; t++)
            fprintf(out, "%s %s %d tiles of %d", t ? "," : "", gd->tile[t].var, gd->tile[t].extent / gd->tile[t].size,
                    gd->tile[t].size);
        const char *sep = " (";
        for (int m = 0; m < g->n_mems; m++) {
            const dfg_mem *mm = &g->mems[m];
            if (mm->tile_of < 0 || mm->tile_def != k)
                continue;
            fprintf(out, "%s%s %lld KiB x%d", sep, mm->name, (long long)((mm->bytes + 1023) / 1024), mm->depth);
            sep = ", ";
        }
        fputs(*sep == ',' ? ")" : "", out);
        fprintf(out, "; model: %.3g cycles, %.3g MB of DRAM traffic\n", gd->tile_est_cycles,
                gd->tile_est_traffic / 1e6);
    }
    fprintf(out, first ? "tiling       in DRAM:" : "             in DRAM:");
    for (int m = 0, n = 0; m < g->n_mems; m++)
        if (g->mems[m].dram)
            fprintf(out, "%s %s", n++ ? "," : "", g->mems[m].name);
    fputs(" (larger than a PMU; read and written by their VAGs)\n", out);
}

/* The bytes of the buffers fused away, and in *part those of one
 * iteration's part of each (a register's word, or a tile). */
static int64_t fused_bytes(const dfg *g, int64_t *part)
{
    int64_t whole = 0;
    if (part)
        *part = 0;
    for (int k = 0; k < g->n_fusion && !g->opts.no_fusion; k++) {
        const dfg_fusion *fu = &g->fusion[k];
        if (!fu->into)
            continue;
        whole += 4 * pat_type_count(&fu->buffer->type);
        if (part)
            *part += 4 * pat_type_count(&fu->part);
    }
    return whole;
}

/* fuse.c's choices: each buffer fused into its consumer (by which shared
 * indices, and what one iteration of them holds) or why not. */
static void report_fusion(FILE *out, const cli_job *job)
{
    const dfg *g = job->g;
    if (job->fusion_off) {
        fprintf(out, "fusion       none (every buffer in its own definition): with it, %s\n", job->fusion_off);
        return;
    }
    if (g->opts.no_fusion) {
        bool any = false;
        for (int k = 0; k < g->prog->n_defs; k++)
            any |= g->prog->defs[k]->target->kind == PAT_BUFFER;
        if (any)
            fprintf(out, "fusion       none (%s): every buffer in its own definition\n",
                    job->opts->kernel_baseline ? "--baseline kernel" : "--no-fusion");
        return;
    }
    for (int k = 0; k < g->n_fusion; k++) {
        const dfg_fusion *fu = &g->fusion[k];
        fprintf(out, k ? "             %s " : "fusion       %s ", fu->buffer->name);
        if (!fu->into) {
            fprintf(out, "not fused: %s\n", fu->why);
            continue;
        }
        fprintf(out, "into %s by (", fu->into->name);
        for (int j = 0; j < fu->depth; j++)
            fprintf(out, "%s%s", j ? ", " : "", fu->shared[j]);
        char ty[64];
        if (fu->part.rank == 0)
            fputs("): one element an iteration, in a register (no PMU)\n", out);
        else
            fprintf(out, "): a %s tile an iteration, in a PMU the meta-pipeline buffers\n",
                    pat_type_str(&fu->part, ty, sizeof ty));
    }
}

void cli_report_text(FILE *out, const cli_job *job)
{
    const fab_fabric *f = job->fab;
    const dfg *g = job->g;
    fprintf(out, "program      %s\n", job->prog->file);
    fprintf(out, "fabric       %s (%d x %d units: %d PCUs, %d PMUs, %d AGCUs)\n", f->name, f->rows,
            f->cols, f->n_pcus, f->n_pmus, f->agcus);
    fprintf(out, "graph        %d VPCUs, %d VPMUs, %d VAGs, %d streams (%d loops, %d operations)", g->n_pcus,
            g->n_pmus, g->n_ags, g->n_streams, g->n_loops, g->n_ops);
    if (g->n_par_loops)
        fprintf(out, "; %d loop%s replicated %d ways", g->n_par_loops, g->n_par_loops == 1 ? "" : "s", g->opts.par);
    fputc('\n', out);
    if (job->par_bound)
        fprintf(out, "par auto     %d replica%s; not more: %s\n", g->opts.par, g->opts.par == 1 ? "" : "s",
                job->par_bound);
    for (int k = 0; k < g->n_defs && g->opts.par > 1; k++) {
        const dfg_def *gd = &g->defs[k];
        fprintf(out, k ? "             %s: " : "par          %s: ", gd->target->name);
        const char *split = g->split.what ? g->split.what[k] : NULL;
        if (gd->par_loop && split)
            fprintf(out, "%s split %d ways (each replica a chunk, the partials combined after)\n", split,
                    g->opts.par);
        else if (gd->par_loop) {
            if (gd->par_inner)
                fprintf(out, "loops %s, %s %d ways (%d x %d)", gd->par_loop->label, gd->par_inner->label, g->opts.par,
                        (int)gd->par_loop->trip, gd->par_inner->par);
            else
                fprintf(out, "loop %s %d ways", gd->par_loop->label, g->opts.par);
            const char *sh[8];
            int n_sh = dfg_shared_loads(g, k, sh, 8);
            for (int q = 0; q < n_sh; q++)
                fprintf(out, q ? ", %s" : "; loaded once for every replica (one AGCU stream, multicast): %s", sh[q]);
            fputc('\n', out);
        }
        else
            fprintf(out, "one pipeline: %s\n", gd->par_why ? gd->par_why : "not replicated");
    }
    if (job->split_off)
        fprintf(out, "split        none (reductions in one pipeline each): with the split, %s\n", job->split_off);
    if (job->guards_off)
        fprintf(out, "guards       neither scanned nor loop bounds (evaluated in each iteration): with them, %s\n",
                job->guards_off);
    if (job->interchange_off)
        fprintf(out, "vectorised   innermost loops as written: interchanged, %s\n", job->interchange_off);
    for (int k = 0; k < g->n_interchanged && k < 16; k++)
        fprintf(out, k ? "             %s\n" : "vectorised   %s\n", g->interchanged[k]);
    report_fusion(out, job);
    report_tiling(out, g);
    if (job->placed) {
        if (job->opts->placement_in)
            fprintf(out, "placement    replayed from %s: cost %.1f", job->opts->placement_in, job->place.cost);
        else
            fprintf(out, "placement    %s: cost %.1f", place_strategy_name(job->opts->place.strategy),
                    job->place.cost);
        if (!isnan(job->place.bound))
            fprintf(out, ", bound %.1f%s", job->place.bound, job->place.optimal ? " (optimal)" : "");
        fprintf(out, ", %.3f s", job->place.seconds);
        if (job->place_attempts > 1)
            fprintf(out, " (attempt %d: the earlier seeds' placements could not be routed)", job->place_attempts);
        fputc('\n', out);
    }
    if (job->routed)
        fprintf(out, "routing      %d iteration%s, %d overused links, %ld hops (longest %d), max link use %.0f%%, %.3f s\n",
                job->route.iterations, job->route.iterations == 1 ? "" : "s", job->route.overused_links,
                job->route.total_hops, job->route.max_hops, 100.0 * job->route.max_link_util,
                job->route.seconds);
    if (!job->emulated) {
        fprintf(out, "result       mapped (not emulated: --map-only)\n");
        return;
    }
    const emu_result *e = &job->emu;
    double us = (double)e->cycles / f->clock_mhz;
    fprintf(out, "cycles       %lld = %.1f us at %d MHz, simulated (DRAM busy %lld cycles", (long long)e->cycles, us,
            f->clock_mhz, (long long)e->dram_busy_cycles);
    for (int k = 0; k < job->g->n_defs && k < 4; k++)
        if (e->def_start[k] >= 0)
            fprintf(out, "; %s %lld..%lld", job->g->defs[k].target->name, (long long)e->def_start[k],
                    (long long)e->def_end[k]);
    fprintf(out, "%s)\n", job->g->n_defs > 4 ? "; ..." : "");
    char fl[32], io[32], rb[32], wb[32];
    human(fl, sizeof fl, (double)e->flops);
    human(io, sizeof io, (double)e->int_ops);
    human(rb, sizeof rb, (double)e->dram_read_bytes);
    human(wb, sizeof wb, (double)e->dram_write_bytes);
    fprintf(out, "work         %sFLOP, %sop on i32, DRAM %sB read and %sB written, %lld vector issues", fl, io, rb,
            wb, (long long)e->vectors);
    if (e->skipped_vectors)
        fprintf(out, " (%lld fully masked vectors skipped)", (long long)e->skipped_vectors);
    if (e->skipped_iterations)
        fprintf(out, " (%lld guarded iterations skipped by scan)", (long long)e->skipped_iterations);
    fprintf(out, ", %lld bank-conflict stalls\n", (long long)e->conflict_cycles);
    fprintf(out, "roofline     compute bound %.0f cycles, memory bound %.0f cycles: %.2f%% of the roofline",
            e->compute_bound_cycles, e->memory_bound_cycles, 100.0 * e->roofline_fraction);
    if (e->compulsory_bytes > 0 && (double)e->dram_bytes > 1.01 * (double)e->compulsory_bytes)
        fprintf(out, " (memory bound of the compulsory %.3g MB; this design moves %.2fx that)",
                (double)e->compulsory_bytes / 1e6, (double)e->dram_bytes / (double)e->compulsory_bytes);
    fputc('\n', out);
    print_units(out, job);
    const char *reconfig_src = job->fab->reconfig_given
                                   ? "the fabric's reconfig_cycles"
                                   : "reconfig_cycles not given: the contract's default, an assumption";
    if (e->reconfig_cycles)
        fprintf(out, "kernels      %d definitions as kernels through DRAM, %lld cycles reconfiguring (%lld per "
                     "kernel: %s)\n",
                job->g->n_defs, (long long)e->reconfig_cycles, (long long)job->fab->reconfig_cycles, reconfig_src);
    if (job->have_gains) {
        fprintf(out, "gains        meta-pipelining %.2fx, sparsity %.2fx, ", job->gain_metapipe, job->gain_sparsity);
        if (job->have_no_fusion)
            fprintf(out, "fusion %.2fx%s, ", job->gain_fusion, fused_bytes(g, NULL) ? "" : " (nothing fused)");
        else if (g->prog->n_defs > 1)
            fputs("fusion not measured, ", out);
        fprintf(out, "spatial vs kernel-by-kernel %.2fx\n", job->gain_spatial);
        if (job->have_no_fusion && fused_bytes(g, NULL)) {
            int64_t part = 0, whole = fused_bytes(g, &part);
            fprintf(out, "             without fusion: %lld cycles (mapped on its own); fused, %lld KiB of buffers are "
                         "never held whole (%lld KiB of tiles an iteration instead)\n",
                    (long long)job->cycles_no_fusion, (long long)(whole / 1024), (long long)((part + 1023) / 1024));
        } else if (job->no_fusion_off)
            fprintf(out, "             fusion not measured: without it the program does not map: %s\n",
                    job->no_fusion_off);
        else if (!job->have_no_fusion && g->prog->n_defs > 1)
            fprintf(out, "             fusion not measured: %s\n",
                    job->fusion_off ? "nothing is fused (see the fusion line)"
                                    : g->opts.no_fusion ? "fusion is off" : "nothing to fuse");
        if (job->cycles_kernel_reconfig > 0 && e->cycles > 0)
            fprintf(out, "             kernel-by-kernel: %lld cycles, %lld of them reconfiguring (%lld per kernel: "
                         "%s); without them %.2fx\n",
                    (long long)job->cycles_kernel, (long long)job->cycles_kernel_reconfig,
                    (long long)job->fab->reconfig_cycles, reconfig_src,
                    (double)(job->cycles_kernel - job->cycles_kernel_reconfig) / (double)e->cycles);
        for (int k = 0; k < job->n_kernels; k++)
            fprintf(out, "%s%s %lld cycles at %d replica%s (%d PCUs)%s", k ? "" : "             kernels, each mapped on its own: ",
                    job->kernels[k].name, (long long)job->kernels[k].cycles, job->kernels[k].par,
                    job->kernels[k].par == 1 ? "" : "s", job->kernels[k].pcus, k + 1 < job->n_kernels ? "; " : "\n");
        if (job->kernels_off)
            fprintf(out, "             spatial not measured: %s\n", job->kernels_off);
    }
    for (int k = 0; k < job->n_verdicts; k++)
        cli_verify_text(out, &job->verdict[k]);
    fprintf(out, "result       %s\n", job->verified ? "mapped and verified" : "VERIFICATION FAILED");
}

/* Every jansson call below can fail (out of memory); the report is built
 * with a sticky flag, so that a missing section fails the run instead of
 * being written as a partial report.  json_object_set_new and
 * json_array_append_new release the value on failure, and json_pack
 * releases the values of its "o" arguments, so nothing leaks either way. */
typedef struct jbuild {
    bool ok;
} jbuild;

static json_t *chk(jbuild *b, json_t *v)
{
    if (!v)
        b->ok = false;
    return v;
}

static void put(jbuild *b, json_t *obj, const char *key, json_t *v)
{
    if (json_object_set_new(obj, key, v) != 0)
        b->ok = false;
}

static void push(jbuild *b, json_t *arr, json_t *v)
{
    if (json_array_append_new(arr, v) != 0)
        b->ok = false;
}

/* The same for the JSON report. */
static json_t *fusion_json(jbuild *b, const cli_job *job)
{
    const dfg *g = job->g;
    json_t *arr = chk(b, json_array());
    for (int k = 0; arr && k < g->n_fusion && !g->opts.no_fusion; k++) {
        const dfg_fusion *fu = &g->fusion[k];
        json_t *shared = chk(b, json_array());
        for (int j = 0; shared && j < fu->depth; j++)
            push(b, shared, json_string(fu->shared[j]));
        char ty[64];
        push(b, arr, json_pack("{s:s, s:o, s:o, s:o, s:o}", "buffer", fu->buffer->name, "into",
                               fu->into ? json_string(fu->into->name) : json_null(), "shared", shared, "part",
                               fu->into ? json_string(pat_type_str(&fu->part, ty, sizeof ty)) : json_null(),
                               "why", fu->why ? json_string(fu->why) : json_null()));
    }
    return arr;
}

static json_t *tiling_json(jbuild *b, const dfg *g)
{
    json_t *dram = chk(b, json_array()), *defs = chk(b, json_array()), *tiles = chk(b, json_array());
    for (int m = 0; dram && tiles && m < g->n_mems; m++) {
        const dfg_mem *mm = &g->mems[m];
        if (mm->dram)
            push(b, dram, json_string(mm->name));
        if (mm->tile_of < 0)
            continue;
        json_t *shape = chk(b, json_array());
        for (int q = 0; shape && q < mm->type.rank; q++)
            push(b, shape, json_integer(mm->type.dims[q]));
        push(b, tiles, json_pack("{s:s, s:s, s:o, s:I, s:i}", "name", mm->name, "of", g->mems[mm->tile_of].name,
                                 "shape", shape ? shape : json_null(), "bytes", (json_int_t)mm->bytes, "depth",
                                 mm->depth));
    }
    for (int k = 0; defs && k < g->n_defs; k++) {
        const dfg_def *gd = &g->defs[k];
        if (!gd->n_tile)
            continue;
        json_t *ix = chk(b, json_array());
        for (int t = 0; ix && t < gd->n_tile; t++)
            push(b, ix, json_pack("{s:s, s:i, s:i, s:i}", "index", gd->tile[t].var, "extent", gd->tile[t].extent,
                                  "size", gd->tile[t].size, "tiles", gd->tile[t].extent / gd->tile[t].size));
        push(b, defs, json_pack("{s:s, s:o, s:f, s:f}", "name", gd->target->name, "indices", ix ? ix : json_null(),
                                "model_cycles", gd->tile_est_cycles, "model_dram_bytes", gd->tile_est_traffic));
    }
    json_t *split = chk(b, json_array());
    for (int m = 0; split && m < g->n_mems; m++) {
        const dfg_mem *mm = &g->mems[m];
        if (mm->copies > 1 && mm->vpmu != DFG_NONE && mm->decl)
            push(b, split, json_pack("{s:s, s:i, s:s, s:I}", "name", mm->name, "pmus", mm->copies, "how",
                                     mm->partitioned ? "rows" : "copies", "bytes_per_pmu",
                                     (json_int_t)mm->copy_bytes));
    }
    return chk(b, json_pack("{s:o, s:o, s:o, s:o}", "dram", dram ? dram : json_null(), "definitions",
                            defs ? defs : json_null(), "tiles", tiles ? tiles : json_null(), "across_pmus",
                            split ? split : json_null()));
}


static json_t *placement_json(jbuild *b, const cli_job *job)
{
    json_t *units = chk(b, json_array());
    const dfg *g = job->g;
    for (int u = 0; units && u < g->n_units && job->placed; u++) {
        const place_site *s = &job->sites.site[job->place.site[u]];
        push(b, units, json_pack("{s:s, s:s, s:i, s:i, s:i}", "unit", g->units[u].name, "kind",
                                 dfg_unit_kind_name(g->units[u].kind), "site", job->place.site[u], "row", s->row,
                                 "col", s->col));
    }
    return units;
}

static json_t *routes_json(jbuild *b, const cli_job *job)
{
    json_t *routes = chk(b, json_array());
    if (!job->routed)
        return routes;
    for (int n = 0; routes && n < job->route.n_nets; n++) {
        const route_net_result *nr = &job->route.net[n];
        json_t *links = chk(b, json_array());
        for (int k = 0; links && k < nr->n_links; k++) {
            route_link l = route_link_decode(job->fab, nr->links[k]);
            static const char *const dirs[] = {"north", "east", "south", "west"};
            push(b, links, json_pack("{s:i, s:i, s:s}", "row", l.row, "col", l.col, "dir", dirs[l.dir & 3]));
        }
        push(b, routes, json_pack("{s:i, s:o}", "net", n, "links", links));
    }
    return routes;
}

json_t *cli_report_json(const cli_job *job, diag_list *d)
{
    jbuild bb = {true}, *b = &bb;
    const cli_opts *o = job->opts;
    const fab_fabric *f = job->fab;
    const dfg *g = job->g;
    const emu_result *e = &job->emu;
    json_t *verdicts = chk(b, json_object());
    for (int k = 0; verdicts && k < job->n_verdicts; k++) {
        const cli_verdict *v = &job->verdict[k];
        put(b, verdicts, v->name, cli_verify_json(v));
    }
    json_t *units = chk(b, json_object());
    for (int u = 0; units && u < g->n_units && job->emulated; u++) {
        const emu_unit_stats *us = &e->unit[u];
        put(b, units, g->units[u].name,
            json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "kind",
                      dfg_unit_kind_name(g->units[u].kind), "busy", (json_int_t)us->busy, "starved",
                      (json_int_t)us->starved, "backpressured", (json_int_t)us->backpressured, "contention",
                      (json_int_t)us->contention, "issues", (json_int_t)us->issues, "accesses",
                      (json_int_t)us->accesses, "bank_conflicts", (json_int_t)us->conflicts, "first",
                      (json_int_t)us->first, "last", (json_int_t)us->last));
    }
    json_t *links = chk(b, json_array());
    for (int l = 0; links && l < e->n_links && job->emulated && e->link_words; l++) {
        if (!e->link_words[l])
            continue;
        char name[96];
        route_link_str(f, l, name, sizeof name);
        push(b, links, json_pack("{s:s, s:I}", "link", name, "words", (json_int_t)e->link_words[l]));
    }
    json_t *streams = chk(b, json_array());
    for (int s = 0; streams && s < e->n_streams && job->emulated; s++)
        push(b, streams, json_pack("{s:s, s:s, s:I}", "src", g->units[g->streams[s].src].name, "dst",
                                   g->units[g->streams[s].dst].name, "words", (json_int_t)e->stream_words[s]));
    json_t *bw = chk(b, json_array());
    for (int w = 0; bw && w < e->n_dram_windows && job->emulated; w++)
        push(b, bw, json_integer((json_int_t)e->dram_window_bytes[w]));
    json_t *root = chk(b, json_pack(
        "{s:s, s:{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f}, "
        "s:{s:I, s:s, s:b, s:i, s:f, s:f, s:b, s:b, s:i, s:b}, "
        "s:{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}}",
        "program", job->prog->file,
        "fabric", "name", f->name, "source", f->source, "rows", f->rows, "cols", f->cols, "pcus", f->n_pcus,
        "pmus", f->n_pmus, "agcus", f->agcus, "lanes", f->lanes, "stages", f->stages, "clock_mhz",
        (double)f->clock_mhz,
        "options", "seed", (json_int_t)o->seed, "place", place_strategy_name(o->place.strategy), "metapipe",
        o->metapipe, "route_iters", o->route.max_iters, "time_limit", o->place.time_limit, "effort",
        o->place.effort, "dense", o->dense, "kernel_baseline", o->kernel_baseline, "par", o->par,
        "no_fusion", o->no_fusion,
        "dfg", "pcus", g->n_pcus, "pmus", g->n_pmus, "ags", g->n_ags, "streams", g->n_streams, "loops",
        g->n_loops, "operations", g->n_ops, "par", g->opts.par, "par_loops", g->n_par_loops));
    if (root) {
        put(b, json_object_get(root, "dfg"), "par_bound",
            job->par_bound ? json_string(job->par_bound) : json_null());
        put(b, json_object_get(root, "dfg"), "scan_off",
            job->guards_off ? json_string(job->guards_off) : json_null());
        put(b, json_object_get(root, "dfg"), "fusion", fusion_json(b, job));
        json_t *pd = chk(b, json_array());
        for (int k = 0; pd && k < g->n_defs; k++) {
            const dfg_def *gd = &g->defs[k];
            const char *split = g->split.what ? g->split.what[k] : NULL;
            const char *sh[8];
            int n_sh = dfg_shared_loads(g, k, sh, 8);
            json_t *mc = chk(b, json_array());
            for (int q = 0; mc && q < n_sh; q++)
                push(b, mc, json_string(sh[q]));
            push(b, pd, json_pack("{s:s, s:o, s:o, s:i, s:o, s:o, s:o*}", "name", gd->target->name, "loop",
                                  gd->par_loop ? json_string(gd->par_loop->label) : json_null(), "inner",
                                  gd->par_inner ? json_string(gd->par_inner->label) : json_null(), "ways",
                                  gd->par_loop ? g->opts.par : 1, "split",
                                  split && gd->par_loop ? json_string(split) : json_null(), "why",
                                  gd->par_why ? json_string(gd->par_why) : json_null(), "multicast", mc));
        }
        put(b, json_object_get(root, "dfg"), "par_definitions", pd);
        json_t *ic = chk(b, json_array());
        for (int k = 0; ic && k < g->n_interchanged && k < 16; k++)
            push(b, ic, json_string(g->interchanged[k]));
        put(b, json_object_get(root, "dfg"), "interchanged", ic);
        put(b, json_object_get(root, "dfg"), "split_off",
            job->split_off ? json_string(job->split_off) : json_null());
        put(b, json_object_get(root, "dfg"), "fusion_off",
            job->fusion_off ? json_string(job->fusion_off) : json_null());
    }
    json_t *place = chk(b, json_pack("{s:i, s:s, s:f, s:o, s:f, s:b, s:o}", "attempts", job->place_attempts,
                                     "strategy", o->placement_in ? "replayed" : place_strategy_name(o->place.strategy),
                                     "cost", job->place.cost, "bound",
                                     isnan(job->place.bound) ? json_null() : json_real(job->place.bound), "seconds",
                                     job->place.seconds, "optimal", job->place.optimal, "units",
                                     placement_json(b, job)));
    json_t *route = chk(b, json_pack("{s:i, s:i, s:I, s:i, s:f, s:f, s:o}", "iterations", job->route.iterations,
                                     "overused_links", job->route.overused_links, "total_hops",
                                     (json_int_t)job->route.total_hops, "max_hops", job->route.max_hops,
                                     "max_link_util", job->route.max_link_util, "seconds", job->route.seconds,
                                     "nets", routes_json(b, job)));
    json_t *emu = NULL, *verify = NULL;
    if (job->emulated) {
        emu = chk(b, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, "
                               "s:o, s:o, s:o, s:{s:I, s:o}}",
                               "reconfig_cycles", (json_int_t)e->reconfig_cycles, "cycles", (json_int_t)e->cycles,
                               "flops", (json_int_t)e->flops, "int_ops", (json_int_t)e->int_ops, "lane_ops",
                               (json_int_t)e->lane_ops, "dram_bytes", (json_int_t)e->dram_bytes, "dram_read_bytes",
                               (json_int_t)e->dram_read_bytes, "dram_write_bytes", (json_int_t)e->dram_write_bytes,
                               "dram_busy_cycles", (json_int_t)e->dram_busy_cycles, "compulsory_dram_bytes",
                               (json_int_t)e->compulsory_bytes, "compute_bound_cycles",
                               e->compute_bound_cycles, "memory_bound_cycles", e->memory_bound_cycles,
                               "roofline_fraction", e->roofline_fraction, "host_seconds", e->host_seconds, "vectors",
                               (json_int_t)e->vectors, "skipped_vectors", (json_int_t)e->skipped_vectors,
                               "skipped_iterations", (json_int_t)e->skipped_iterations,
                               "bank_conflict_cycles", (json_int_t)e->conflict_cycles, "units", units, "links", links,
                               "streams", streams, "dram_bandwidth", "window_cycles", (json_int_t)e->dram_window,
                               "bytes", bw));
        units = links = streams = bw = NULL;
        json_t *defs = chk(b, json_array());
        for (int k = 0; defs && k < g->n_defs; k++)
            push(b, defs,
                 json_pack("{s:s, s:I, s:I, s:I}", "name", g->defs[k].target->name, "start",
                           (json_int_t)e->def_start[k], "end", (json_int_t)e->def_end[k], "cycles",
                           (json_int_t)(e->def_start[k] >= 0 ? e->def_end[k] - e->def_start[k] : 0)));
        put(b, emu, "definitions", defs);
        verify = chk(b, json_pack("{s:b, s:o}", "passed", job->verified, "outputs", verdicts));
        verdicts = NULL;
    } else {
        /* Without emulation there are no cycles and nothing was verified:
         * say so with nulls rather than zeros. */
        emu = chk(b, json_null());
        verify = chk(b, json_null());
    }
    json_decref(units);
    json_decref(links);
    json_decref(streams);
    json_decref(bw);
    json_decref(verdicts);
    if (job->have_gains)
        put(b, root, "gains",
            json_pack("{s:f, s:f, s:f, s:f, s:o, s:{s:I, s:o, s:I, s:I, s:I}, s:{s:I, s:b}, s:o}", "metapipe",
                      job->gain_metapipe, "sparsity", job->gain_sparsity, "spatial", job->gain_spatial,
                      "spatial_without_reconfig",
                      job->emu.cycles > 0 ? (double)(job->cycles_kernel - job->cycles_kernel_reconfig) /
                                                (double)job->emu.cycles
                                          : 0.0,
                      "fusion", job->have_no_fusion ? json_real(job->gain_fusion) : json_null(), "variant_cycles", "no_metapipe",
                      (json_int_t)job->cycles_no_metapipe, "no_fusion",
                      job->have_no_fusion ? json_integer((json_int_t)job->cycles_no_fusion) : json_null(), "dense",
                      (json_int_t)job->cycles_dense, "kernel_baseline", (json_int_t)job->cycles_kernel,
                      "kernel_baseline_reconfig", (json_int_t)job->cycles_kernel_reconfig, "reconfig",
                      "cycles_per_kernel", (json_int_t)job->fab->reconfig_cycles, "assumed",
                      !job->fab->reconfig_given, "no_fusion_off",
                      job->no_fusion_off ? json_string(job->no_fusion_off) : json_null()));
    if (job->have_gains) {
        json_t *ks = chk(b, json_array());
        for (int k = 0; ks && k < job->n_kernels; k++)
            push(b, ks, json_pack("{s:s, s:i, s:i, s:I}", "name", job->kernels[k].name, "par", job->kernels[k].par,
                                  "pcus", job->kernels[k].pcus, "cycles", (json_int_t)job->kernels[k].cycles));
        json_t *gj = json_object_get(root, "gains");
        put(b, gj, "kernels", ks);
        put(b, gj, "kernels_off", job->kernels_off ? json_string(job->kernels_off) : json_null());
    }
    put(b, root, "tiling", tiling_json(b, g));
    put(b, root, "refused",
        job->refused ? json_pack("{s:i, s:s}", "exit", EXIT_NOFIT, "reason", job->refused) : json_null());
    put(b, root, "place", place);
    put(b, root, "route", route);
    put(b, root, "emu", emu);
    put(b, root, "verify", verify);
    if (!b->ok) {
        json_decref(root);
        diag_error(d, diag_at_file(o->json ? o->json : job->prog->file),
                   "out of memory building the JSON report; it was not written");
        return NULL;
    }
    return root;
}

int cli_output_json(outputs *outs, const char *path, const json_t *root, diag_list *d)
{
    FILE *f = outputs_add(outs, path, d);
    if (!f)
        return -1;
    errno = 0;
    if (json_dumpf(root, f, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 || fputc('\n', f) == EOF) {
        outs->failed = true;
        /* jansson reports no reason: a failed write sets errno, a failed
         * allocation does not. */
        if (errno)
            return diag_io_error(d, diag_at_file(path), "cannot write: %s", strerror(errno));
        return diag_error(d, diag_at_file(path), "out of memory writing the JSON report");
    }
    return 0;
}
