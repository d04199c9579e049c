/*
 * imp_report.c — the report of an imported graph's mapping, as text and as
 * JSON.
 *
 * Every number says its unit.  The JSON uses the keys of design.md's report
 * contract where they mean the same thing (program, fabric, options, dfg,
 * place, route) and adds "import" for what only an imported loop body has
 * (II, RecMII, the recurrence that sets II, latency, phase times).  There
 * is no emulation or verification of an imported graph: "emu" and "verify"
 * are null.
 */
#include "mapper/import/import.h"

#include <math.h>
#include <string.h>

static const char *kind_name(place_kind k)
{
    return k == PLACE_PCU ? "PCU" : k == PLACE_PMU ? "PMU" : "AGCU";
}

/* The plural ending for n things. */
static const char *plural(long n)
{
    return n == 1 ? "" : "s";
}

void imp_report_print(FILE *out, const imp_report *r)
{
    fprintf(out, "graph    %s (%s)\n", r->file, r->format && *r->format ? r->format : "unread");
    if (r->n_nodes == 0) {
        fprintf(out, "status   %s\n", r->status);
        return;
    }
    fprintf(out, "         %d operations: %d compute, %d memory, %d input/output, %d immediates\n", r->n_nodes,
            r->n_compute, r->n_memory, r->n_io, r->n_immediate);
    fprintf(out, "         %d edges: %d loop-carried, %d predicates\n", r->n_edges, r->n_loop_edges,
            r->n_pred_edges);
    fprintf(out, "fabric   %s\n", r->fabric);
    if (r->n_units > 0) {
        fprintf(out, "units    %d PCU%s (up to %d stage%s used), %d PMU%s, %d AGCU%s; %d stream%s between units, "
                     "%d of them feedback\n",
                r->n_pcus, plural(r->n_pcus), r->max_stages_used, plural(r->max_stages_used), r->n_pmus,
                plural(r->n_pmus), r->n_ags, plural(r->n_ags), r->n_streams, plural(r->n_streams), r->n_feedback);
        for (int u = 0; u < r->n_units; u++) {
            const imp_unit *unit = &r->unit[u];
            fprintf(out, "         %-12s %-4s", unit->name, kind_name(unit->kind));
            if (unit->site >= 0)
                fprintf(out, " at (%d,%d)", unit->row, unit->col);
            fprintf(out, "  in %d out %d  ops", unit->in_streams, unit->out_streams);
            for (int k = 0; k < unit->n_ops && k < 16; k++)
                fprintf(out, " %s:%s", r->node_name[unit->ops[k]], r->node_op[unit->ops[k]]);
            if (unit->n_ops > 16)
                fprintf(out, " ...");
            fprintf(out, "\n");
        }
    }
    if (r->placed) {
        fprintf(out, "place    %s: cost %.6g (words x hops)", r->strategy, r->place_cost);
        if (!isnan(r->place_bound))
            fprintf(out, ", bound %.6g%s", r->place_bound, r->place_optimal ? ", optimal" : "");
        fprintf(out, "\n");
    }
    if (r->n_route_nets > 0 || r->routed) {
        fprintf(out, "route    %d net%s, %d iteration%s, %d link%s over capacity, %ld hop%s in all, longest route "
                     "%d hop%s, worst link %.0f%% used\n",
                r->n_route_nets, plural(r->n_route_nets), r->route_iterations, plural(r->route_iterations),
                r->route_overused, plural(r->route_overused), r->route_total_hops, plural(r->route_total_hops),
                r->route_max_hops, plural(r->route_max_hops), 100.0 * r->route_max_util);
    }
    if (r->n_units > 0) {
        fprintf(out, "RecMII   %d cycle%s (before placement: stages only)\n", r->recmii, plural(r->recmii));
        if (r->placed) {
            fprintf(out, "II       %d cycle%s (stages + %s hops x hop_cycles)", r->ii, plural(r->ii),
                    r->timing_routed ? "routed" : "Manhattan");
            if (r->ii_cycle)
                fprintf(out, "; set by the recurrence %s: %d cycle%s over %d iteration%s", r->ii_cycle,
                        r->ii_cycle_latency, plural(r->ii_cycle_latency), r->ii_cycle_distance,
                        plural(r->ii_cycle_distance));
            fprintf(out, "\n");
            fprintf(out, "latency  %d cycles for one iteration (longest path; %d operations deep)\n", r->latency,
                    r->depth);
        }
    }
    fprintf(out, "time     read %.3f s, cluster %.3f s, place %.3f s, route %.3f s, timing %.3f s\n", r->t_read,
            r->t_cluster, r->t_place, r->t_route, r->t_timing);
    fprintf(out, "status   %s\n", r->status);
}

static json_t *number_or_null(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

json_t *imp_report_json(const imp_report *r)
{
    json_t *units = json_array();
    for (int u = 0; units && u < r->n_units; u++) {
        const imp_unit *unit = &r->unit[u];
        json_t *ops = json_array();
        for (int k = 0; ops && k < unit->n_ops; k++)
            json_array_append_new(ops, json_pack("{s:s, s:s, s:i}", "id", r->node_name[unit->ops[k]], "op",
                                                 r->node_op[unit->ops[k]], "stage", k + 1));
        json_array_append_new(units, json_pack("{s:s, s:s, s:o, s:o, s:i, s:i, s:o}", "name", unit->name,
                                               "kind", kind_name(unit->kind), "row",
                                               unit->site >= 0 ? json_integer(unit->row) : json_null(), "col",
                                               unit->site >= 0 ? json_integer(unit->col) : json_null(),
                                               "in_streams", unit->in_streams, "out_streams", unit->out_streams,
                                               "ops", ops ? ops : json_null()));
    }
    json_t *place = r->placed
                        ? json_pack("{s:s, s:f, s:o, s:b, s:f}", "strategy", r->strategy ? r->strategy : "",
                                    "cost", r->place_cost, "bound", number_or_null(r->place_bound), "optimal",
                                    r->place_optimal, "seconds", r->t_place)
                        : json_null();
    json_t *route = r->n_route_nets > 0 || r->routed
                        ? json_pack("{s:i, s:i, s:I, s:i, s:f, s:f, s:i, s:b}", "iterations", r->route_iterations,
                                    "overused_links", r->route_overused, "total_hops",
                                    (json_int_t)r->route_total_hops, "max_hops", r->route_max_hops,
                                    "max_link_util", r->route_max_util, "seconds", r->t_route, "nets",
                                    r->n_route_nets, "legal", r->routed)
                        : json_null();
    json_t *import = json_pack(
        "{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:i, s:i, s:b, s:o, s:{s:f, s:f, s:f, "
        "s:f, s:f}}",
        "format", r->format ? r->format : "", "nodes", r->n_nodes, "edges", r->n_edges, "compute", r->n_compute,
        "memory", r->n_memory, "io", r->n_io, "immediates", r->n_immediate, "loop_carried_edges", r->n_loop_edges,
        "predicate_edges", r->n_pred_edges, "recmii", r->n_units > 0 ? json_integer(r->recmii) : json_null(),
        "ii", r->placed ? json_integer(r->ii) : json_null(), "ii_cycle",
        r->placed && r->ii_cycle ? json_string(r->ii_cycle) : json_null(), "latency_cycles",
        r->placed ? json_integer(r->latency) : json_null(), "depth_ops", r->depth, "max_stages_used",
        r->max_stages_used, "timing_routed", r->timing_routed, "units", units ? units : json_null(), "seconds",
        "read", r->t_read, "cluster", r->t_cluster, "place", r->t_place, "route", r->t_route, "timing",
        r->t_timing);
    json_t *streams = json_array();
    for (int k = 0; import && streams && k < r->n_streams; k++) {
        const imp_stream *st = &r->stream[k];
        json_array_append_new(streams, json_pack("{s:s, s:s, s:s, s:b, s:o}", "from", r->unit[st->src_unit].name,
                                                 "to", r->unit[st->dst_unit].name, "value", st->value,
                                                 "feedback", st->feedback,
                                                 "hops", st->hops >= 0 ? json_integer(st->hops) : json_null()));
    }
    if (import && streams)
        json_object_set_new(import, "streams", streams);
    else
        json_decref(streams);
    return json_pack("{s:s, s:s, s:{s:s, s:b}, s:{s:i, s:i, s:i, s:i}, s:o, s:o, s:n, s:n, s:o, s:s, s:i}",
                     "program", r->file ? r->file : "", "fabric", r->fabric ? r->fabric : "", "options", "place",
                     r->strategy ? r->strategy : "", "strict", r->strict, "dfg", "pcus", r->n_pcus, "pmus", r->n_pmus, "ags", r->n_ags,
                     "streams", r->n_streams, "place", place ? place : json_null(), "route",
                     route ? route : json_null(), "emu", "verify", "import", import ? import : json_null(),
                     "status", r->status ? r->status : "", "exit", r->exit_class);
}

/* ------------------------------------------------------------------ SVG */

enum { CELL = 56, MARGIN = 40 };

static void cell_centre(int row, int col, double *x, double *y)
{
    *x = MARGIN + col * CELL + CELL / 2.0;
    *y = MARGIN + row * CELL + CELL / 2.0;
}

/* Escape the few characters XML cares about. */
static void svg_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", out);
        else if (*s == '>')
            fputs("&gt;", out);
        else if (*s == '&')
            fputs("&amp;", out);
        else if (*s == '"')
            fputs("&quot;", out);
        else
            fputc(*s, out);
    }
}

int imp_report_svg(FILE *out, const imp_report *r, const fab_fabric *f)
{
    if (!r->placed)
        return -1;
    int width = 2 * MARGIN + f->cols * CELL, height = 2 * MARGIN + f->rows * CELL + 40;
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                 "font-family=\"sans-serif\" font-size=\"9\">\n", width, height);
    fprintf(out, "<title>");
    svg_text(out, r->file);
    fprintf(out, " on %s</title>\n", f->name);
    /* the checkerboard */
    for (int row = 0; row < f->rows; row++)
        for (int col = 0; col < f->cols; col++)
            fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#bbb\"/>\n",
                    MARGIN + col * CELL + 2, MARGIN + row * CELL + 2, CELL - 4, CELL - 4,
                    fab_unit_at(f, row, col) == FAB_PCU ? "#eef3fb" : "#eef8ee");
    /* the AGCUs, outside the west and east edges */
    for (int k = 0; k < f->agcus; k++) {
        int row, col;
        fab_agcu_site(f, k, &row, &col);
        double x, y;
        cell_centre(row, col, &x, &y);
        x += col == 0 ? -CELL / 2.0 - 14 : CELL / 2.0 + 2;
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"#f4f4f4\" stroke=\"#999\"/>\n",
                x, y - 6);
    }
    /* the units */
    for (int u = 0; u < r->n_units; u++) {
        const imp_unit *unit = &r->unit[u];
        double x, y;
        cell_centre(unit->row, unit->col, &x, &y);
        if (unit->kind == PLACE_AGCU) {
            x += unit->col == 0 ? -CELL / 2.0 - 8 : CELL / 2.0 + 8;
            fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"#f0b000\"/>\n", x - 6,
                    y - 6);
            continue;
        }
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#333\"/>\n",
                x - CELL / 2.0 + 4, y - CELL / 2.0 + 4, CELL - 8, CELL - 8,
                unit->kind == PLACE_PCU ? "#8fb3e8" : "#93d193");
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, y - 8);
        svg_text(out, unit->name);
        fprintf(out, "</text>\n");
        for (int k = 0; k < unit->n_ops && k < 3; k++) {
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, y + 2 + 9 * k);
            svg_text(out, r->node_op[unit->ops[k]]);
            fprintf(out, "</text>\n");
        }
    }
    /* the streams */
    for (int k = 0; k < r->n_streams; k++) {
        const imp_stream *s = &r->stream[k];
        double x1, y1, x2, y2;
        cell_centre(r->unit[s->src_unit].row, r->unit[s->src_unit].col, &x1, &y1);
        cell_centre(r->unit[s->dst_unit].row, r->unit[s->dst_unit].col, &x2, &y2);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\"%s "
                     "opacity=\"0.7\"><title>",
                x1 + 3, y1 + 3, x2 - 3, y2 - 3, s->feedback ? "#c0392b" : "#34495e",
                s->feedback ? " stroke-dasharray=\"4 3\"" : "");
        svg_text(out, s->value);
        fprintf(out, ": %d hops</title></line>\n", s->hops);
    }
    fprintf(out, "<text x=\"%d\" y=\"%d\">", MARGIN, height - 20);
    svg_text(out, r->file);
    fprintf(out, " on %s: %d PCUs, %d PMUs, %d AGCUs; II %d, latency %d cycles; %s cost %.6g</text>\n", f->name,
            r->n_pcus, r->n_pmus, r->n_ags, r->ii, r->latency, r->strategy ? r->strategy : "", r->place_cost);
    fprintf(out, "</svg>\n");
    return 0;
}
