/*
 * svg.c — the fabric picture: SVG 1.1 text written with fprintf.
 *
 * Layout.  Every unit of the checkerboard owns a square cell of side T
 * (the pitch), chosen from the larger grid side so that the grid is about
 * 960 px across, between 20 px (sn10, 32 x 40, is 960 x 768) and 110 px (a
 * 4 x 4 fabric is 440 px).  The switch of a unit sits at its cell's
 * centre; the tile drawn for the unit covers the middle 66% of the cell,
 * so the links between switches show in the gaps between tiles.  AGCUs
 * stand in an extra column beyond the west and east edges, joined to the
 * edge switch of their row.  The legend takes a column on the right.
 *
 * Layers, bottom to top: the mesh of links (pale), the heat map (one lane
 * per direction beside each link, right-hand traffic: an eastbound lane
 * runs south of the link's centre line, a northbound one east of it), the
 * site tiles, the placed units, the routed nets, the legend.  A net is
 * drawn once per undirected segment it uses, shifted diagonally by a small
 * offset that depends on its index, so that nets sharing a link run side
 * by side and their corners still meet.  Routes are coloured by class
 * (vector, scalar, control); units by group.
 *
 * Nothing here judges the mapping: the figures come from the caller, the
 * heat from route_result.link_use over route_link_capacity().
 */
#include "cli/svg.h"
#include "util/alloc.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int DROW[4] = {-1, 0, 1, 0};
static const int DCOL[4] = {0, 1, 0, -1};
static const char *const DIR_NAME[4] = {"north", "east", "south", "west"};
static const char *const CLASS_NAME[3] = {"vector", "scalar", "control"};

/* Colours.  Tiles: pale blue PCUs, pale sand PMUs, pale green AGCUs.
 * Groups: ColorBrewer Set3 (light enough for black text), then hues on
 * the golden angle.  Heat: ColorBrewer YlOrRd without its palest step (a
 * lane with any traffic must show on white), purple past capacity. */
#define PCU_FILL "#e9eff8"
#define PCU_LINE "#a9bbd6"
#define PMU_FILL "#f7efe1"
#define PMU_LINE "#d5bf96"
#define AGCU_FILL "#e6f2e6"
#define AGCU_LINE "#99c299"
#define MESH_LINE "#dadada"
#define OVER_FILL "#2d004b"   /* darker than 100%, and another hue */
static const char *const SET3[] = {"#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
                                   "#b3de69", "#fccde5", "#bc80bd", "#ccebc5", "#ffed6f"};
enum { N_SET3 = (int)(sizeof SET3 / sizeof SET3[0]) };
static const char *const CLASS_COLOUR[3] = {"#1f4e9c", "#1b7837", "#762a83"};
static const double HEAT_STOP[5][3] = {
    {254, 217, 118}, {254, 178, 76}, {253, 141, 60}, {227, 26, 28}, {128, 0, 38}};

enum { MAX_LEGEND_GROUPS = 40, NET_SLOTS = 7 };

/* ------------------------------------------------------------ helpers */

/* Write s as XML character data, escaped (& < > " '), with control bytes
 * and invalid UTF-8 replaced by '?', cut to max_chars code points with
 * "..." (max_chars <= 0: no limit). */
static void put_text(FILE *out, const char *s, int max_chars)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    int chars = 0;
    while (*p) {
        if (max_chars > 0 && chars == max_chars) {
            fputs("...", out);
            return;
        }
        unsigned c = *p;
        int len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        bool ok = len > 0;
        for (int k = 1; ok && k < len; k++)
            ok = (p[k] & 0xc0) == 0x80;
        if (ok && len == 2 && c < 0xc2)
            ok = false;  /* overlong */
        if (ok && len == 3) {
            unsigned v = ((c & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
            ok = v >= 0x800 && (v < 0xd800 || v > 0xdfff) && v != 0xfffe && v != 0xffff;
        }
        if (ok && len == 4) {
            unsigned v = ((c & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) | ((p[2] & 0x3fu) << 6) | (p[3] & 0x3fu);
            ok = v >= 0x10000 && v <= 0x10ffff;
        }
        if (!ok) {
            fputc('?', out);
            p++;
        } else if (len > 1) {
            fwrite(p, 1, (size_t)len, out);
            p += len;
        } else {
            switch (c) {
            case '&': fputs("&amp;", out); break;
            case '<': fputs("&lt;", out); break;
            case '>': fputs("&gt;", out); break;
            case '"': fputs("&quot;", out); break;
            case '\'': fputs("&apos;", out); break;
            default: fputc(c < 0x20 && c != '\t' ? '?' : (int)c, out); break;
            }
            p++;
        }
        chars++;
    }
}

/* Code points of s (invalid bytes count one each), for fitting text. */
static int text_chars(const char *s)
{
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xc0) != 0x80;
    return n;
}

static void hsl_hex(double h, double sat, double light, char out[8])
{
    double c = (1 - fabs(2 * light - 1)) * sat;
    double hp = fmod(h, 360.0) / 60.0;
    double x = c * (1 - fabs(fmod(hp, 2.0) - 1));
    double r = 0, g = 0, b = 0;
    if (hp < 1) { r = c; g = x; }
    else if (hp < 2) { r = x; g = c; }
    else if (hp < 3) { g = c; b = x; }
    else if (hp < 4) { g = x; b = c; }
    else if (hp < 5) { r = x; b = c; }
    else { r = c; b = x; }
    double m = light - c / 2;
    snprintf(out, 8, "#%02x%02x%02x", (unsigned)lround((r + m) * 255), (unsigned)lround((g + m) * 255),
             (unsigned)lround((b + m) * 255));
}

static void group_colour(int k, char out[8])
{
    if (k < N_SET3)
        snprintf(out, 8, "%s", SET3[k]);
    else
        hsl_hex(20.0 + 137.508 * (k - N_SET3), 0.55, 0.74, out);
}

/* Heat colour for a utilisation u (tracks used / tracks). */
static void heat_colour(double u, char out[8])
{
    if (u > 1.0 + 1e-9) {
        snprintf(out, 8, "%s", OVER_FILL);
        return;
    }
    if (u < 0)
        u = 0;
    double x = u * 4;
    int i = x >= 4 ? 3 : (int)x;
    double t = x - i;
    int rgb[3];
    for (int k = 0; k < 3; k++)
        rgb[k] = (int)lround(HEAT_STOP[i][k] + t * (HEAT_STOP[i + 1][k] - HEAT_STOP[i][k]));
    snprintf(out, 8, "#%02x%02x%02x", (unsigned)rgb[0], (unsigned)rgb[1], (unsigned)rgb[2]);
}

static const char *null_group(const char *g)
{
    return g ? g : "(none)";
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* ------------------------------------------------------------ layout */

typedef struct layout {
    const fab_fabric *f;
    double T;              /* cell pitch */
    double tile;           /* side of a drawn tile */
    double gx0, gy0;       /* top left corner of the grid */
    double agcu_w;         /* width of the AGCU column on each side */
    double lx0, ly0;       /* top left of the legend */
    double legend_w;
    double width, height;
    double font;           /* unit labels */
    int r0, r1, c0, c1;    /* the rows and columns drawn (the used area, see crop()) */
} layout;

static double cell_x(const layout *L, int col)
{
    return L->gx0 + (col - L->c0 + 0.5) * L->T;
}

static double cell_y(const layout *L, int row)
{
    return L->gy0 + (row - L->r0 + 0.5) * L->T;
}

/* Columns and rows drawn. */
static int view_cols(const layout *L)
{
    return L->c1 - L->c0 + 1;
}

static int view_rows(const layout *L)
{
    return L->r1 - L->r0 + 1;
}

static bool cell_in_view(const layout *L, int row, int col)
{
    return row >= L->r0 && row <= L->r1 && col >= L->c0 && col <= L->c1;
}

/* An AGCU shows when its row does and its edge column is drawn. */
static bool site_in_view(const layout *L, const place_site *s)
{
    return cell_in_view(L, s->row, s->col);
}

/* The part of the fabric to draw: every used site and routed link, with a
 * margin of one cell; the whole fabric when that is most of it anyway.  A
 * small program on sn10 (32 x 40) fills a corner: drawn whole, its labels
 * would be a few pixels high. */
static void crop(layout *L, const place_sites *s, const svg_unit *units, int n_units, const route_result *route)
{
    const fab_fabric *f = L->f;
    int r0 = f->rows, r1 = -1, c0 = f->cols, c1 = -1;
#define SEE(r, c) do { r0 = (r) < r0 ? (r) : r0; r1 = (r) > r1 ? (r) : r1; \
                       c0 = (c) < c0 ? (c) : c0; c1 = (c) > c1 ? (c) : c1; } while (0)
    for (int u = 0; u < n_units; u++)
        if (units[u].site >= 0)
            SEE(s->site[units[u].site].row, s->site[units[u].site].col);
    for (int i = 0; route && i < route->n_nets; i++)
        for (int k = 0; k < route->net[i].n_links; k++) {
            route_link l = route_link_decode(f, route->net[i].links[k]);
            SEE(l.row, l.col);
            SEE(l.row + DROW[l.dir], l.col + DCOL[l.dir]);
        }
#undef SEE
    L->r0 = 0, L->r1 = f->rows - 1, L->c0 = 0, L->c1 = f->cols - 1;
    if (r1 < 0)
        return;
    r0 = r0 > 0 ? r0 - 1 : 0;
    c0 = c0 > 0 ? c0 - 1 : 0;
    r1 = r1 + 1 < f->rows ? r1 + 1 : f->rows - 1;
    c1 = c1 + 1 < f->cols ? c1 + 1 : f->cols - 1;
    if (4 * (r1 - r0 + 1) >= 3 * f->rows && 4 * (c1 - c0 + 1) >= 3 * f->cols)
        return;
    L->r0 = r0, L->r1 = r1, L->c0 = c0, L->c1 = c1;
}

/* Centre of a site's tile: its cell, or for an AGCU the extra column on
 * its edge. */
static void site_centre(const layout *L, const place_site *s, double *x, double *y)
{
    *y = cell_y(L, s->row);
    if (s->kind != PLACE_AGCU)
        *x = cell_x(L, s->col);
    else if (s->col == 0)
        *x = L->gx0 - 0.5 * L->agcu_w;
    else
        *x = L->gx0 + view_cols(L) * L->T + 0.5 * L->agcu_w;
}

/* ------------------------------------------------------------ drawing */

/* The legend's list of groups and the colour of each. */
typedef struct groups {
    const char **name;     /* sorted, distinct */
    int n;
    char (*colour)[8];
} groups;

static int group_index(const groups *G, const char *name)
{
    const char *key = null_group(name);
    const char **hit = bsearch(&key, G->name, (size_t)G->n, sizeof *G->name, cmp_str);
    return hit ? (int)(hit - G->name) : 0;
}

static void draw_mesh(FILE *out, const layout *L, const place_sites *s)
{
    const fab_fabric *f = L->f;
    fprintf(out, "<g id=\"mesh\">\n<path class=\"mesh\" fill=\"none\" stroke=\"%s\" stroke-width=\"%.2f\" d=\"",
            MESH_LINE, fmax(1.0, 0.05 * L->T));
    (void)f;
    for (int r = L->r0; r <= L->r1; r++)
        for (int c = L->c0; c <= L->c1; c++) {
            if (c + 1 <= L->c1)
                fprintf(out, "M%.1f %.1fH%.1f", cell_x(L, c), cell_y(L, r), cell_x(L, c + 1));
            if (r + 1 <= L->r1)
                fprintf(out, "M%.1f %.1fV%.1f", cell_x(L, c), cell_y(L, r), cell_y(L, r + 1));
        }
    for (int i = 0; i < s->n; i++)
        if (s->site[i].kind == PLACE_AGCU && site_in_view(L, &s->site[i])) {
            double x, y;
            site_centre(L, &s->site[i], &x, &y);
            fprintf(out, "M%.1f %.1fH%.1f", x, y, cell_x(L, s->site[i].col));
        }
    fputs("\"/>\n</g>\n", out);
}

/* Links (of any class) carrying more nets than they have tracks. */
static int count_over(const fab_fabric *f, const route_result *route)
{
    int n = 0;
    for (int id = 0; id < route->n_links; id++)
        n += route->link_use[id] > route_link_capacity(f, id);
    return n;
}

/* One lane per directed link position with traffic, coloured by the worst
 * class's use/capacity; returns the number of lanes drawn. */
static int draw_heat(FILE *out, const layout *L, const route_result *route)
{
    const fab_fabric *f = L->f;
    int drawn = 0;
    double off = 0.10 * L->T, w = fmax(1.2, 0.12 * L->T);
    fputs("<g id=\"heat\" stroke-linecap=\"butt\">\n", out);
    int per_class = f->rows * f->cols * 4;
    for (int pos = 0; pos < per_class; pos++) {
        double worst = 0;
        bool used = false;
        for (int cls = 0; cls < 3; cls++) {
            int id = cls * per_class + pos;
            int cap = route_link_capacity(f, id);
            int use = route->link_use[id];
            if (use > 0)
                used = true;
            double u = cap > 0 ? (double)use / cap : use > 0 ? INFINITY : 0;
            if (u > worst)
                worst = u;
        }
        if (!used)
            continue;
        route_link l = route_link_decode(f, pos);
        int r2 = l.row + DROW[l.dir], c2 = l.col + DCOL[l.dir];
        if (r2 < 0 || r2 >= f->rows || c2 < 0 || c2 >= f->cols)
            continue;  /* never used by a legal router; nothing to draw */
        if (!cell_in_view(L, l.row, l.col) || !cell_in_view(L, r2, c2))
            continue;  /* cannot happen: the view holds every used link */
        double x1 = cell_x(L, l.col), y1 = cell_y(L, l.row), x2 = cell_x(L, c2), y2 = cell_y(L, r2);
        /* Right-hand traffic: the lane lies to the right of its heading. */
        double dx = -DROW[l.dir] * off, dy = DCOL[l.dir] * off;
        char col[8];
        heat_colour(worst, col);
        fprintf(out, "<line class=\"heat\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                     "stroke-width=\"%.2f\"><title>switch (%d,%d) %s:",
                x1 + dx, y1 + dy, x2 + dx, y2 + dy, col, w, l.row, l.col, DIR_NAME[l.dir]);
        for (int cls = 0; cls < 3; cls++) {
            int id = cls * per_class + pos;
            if (route_link_capacity(f, id) > 0 || route->link_use[id] > 0)
                fprintf(out, " %s %d/%d", CLASS_NAME[cls], route->link_use[id], route_link_capacity(f, id));
        }
        fputs(" tracks</title></line>\n", out);
        drawn++;
    }
    fputs("</g>\n", out);
    return drawn;
}

static void draw_sites(FILE *out, const layout *L, const place_sites *s)
{
    double h = L->tile / 2, rx = 0.08 * L->T;
    fputs("<g id=\"sites\" stroke-width=\"1\">\n", out);
    for (int i = 0; i < s->n; i++) {
        const place_site *t = &s->site[i];
        if (!site_in_view(L, t))
            continue;
        double x, y;
        site_centre(L, t, &x, &y);
        const char *cls = t->kind == PLACE_PCU ? "pcu" : t->kind == PLACE_PMU ? "pmu" : "agcu";
        const char *fill = t->kind == PLACE_PCU ? PCU_FILL : t->kind == PLACE_PMU ? PMU_FILL : AGCU_FILL;
        const char *line = t->kind == PLACE_PCU ? PCU_LINE : t->kind == PLACE_PMU ? PMU_LINE : AGCU_LINE;
        fprintf(out, "<rect class=\"site %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"%.1f\" "
                     "fill=\"%s\" stroke=\"%s\"><title>%s (%d,%d)</title></rect>\n",
                cls, x - h, y - h, L->tile, L->tile, t->kind == PLACE_AGCU ? h : rx, fill, line,
                t->kind == PLACE_PCU ? "PCU" : t->kind == PLACE_PMU ? "PMU" : "AGCU", t->row, t->col);
    }
    fputs("</g>\n", out);
}

/* The corner radius that marks a unit's kind: square VPCUs, rounded
 * VPMUs, round VAGs. */
static double kind_radius(place_kind k, double side)
{
    return k == PLACE_PCU ? 0.06 * side : k == PLACE_PMU ? 0.25 * side : 0.5 * side;
}

static const char *kind_unit_name(place_kind k)
{
    return k == PLACE_PCU ? "VPCU" : k == PLACE_PMU ? "VPMU" : "VAG";
}

/* The text to show on a unit of inner width w, and its font size: the
 * whole name, shrunk to as little as 2/3 of the font if need be, else the
 * part after its last '.', ':' or ' ' likewise; NULL when neither fits. */
static const char *short_name(const char *name, double w, double font, double *size)
{
    if (!name || !*name)
        return NULL;
    const char *cut = NULL;
    for (const char *p = name; *p; p++)
        if ((*p == '.' || *p == ':' || *p == ' ') && p[1])
            cut = p + 1;
    const char *tries[2] = {name, cut};
    for (int k = 0; k < 2; k++) {
        if (!tries[k])
            continue;
        double fit = w / (0.6 * text_chars(tries[k]));
        if (fit >= font * (2.0 / 3.0) && fit >= 3.0) {
            *size = fmin(font, fit);
            return tries[k];
        }
    }
    return NULL;
}

static void draw_units(FILE *out, const layout *L, const place_sites *s, const svg_unit *units, int n_units,
                       const groups *G)
{
    double side = L->tile - 0.08 * L->T;
    fprintf(out, "<g id=\"units\" stroke=\"#333333\" stroke-width=\"%.2f\" font-size=\"%.1f\" "
                 "text-anchor=\"middle\">\n", fmin(1.5, fmax(0.5, 0.015 * L->T)), L->font);
    for (int u = 0; u < n_units; u++) {
        const svg_unit *un = &units[u];
        if (un->site < 0)
            continue;
        const place_site *t = &s->site[un->site];
        double x, y;
        site_centre(L, t, &x, &y);
        int g = group_index(G, un->group);
        fputs("<g class=\"unit\"><title>", out);
        put_text(out, un->name, 0);
        fprintf(out, " (%s) on %s (%d,%d), group ", kind_unit_name(un->kind),
                t->kind == PLACE_PCU ? "PCU" : t->kind == PLACE_PMU ? "PMU" : "AGCU", t->row, t->col);
        put_text(out, null_group(un->group), 0);
        if (un->has_busy)
            fprintf(out, ", busy %.0f%% of the cycles", 100.0 * un->busy);
        fprintf(out, "</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"%.1f\" "
                     "fill=\"%s\"/>",
                x - side / 2, y - side / 2, side, side, kind_radius(un->kind, side), G->colour[g]);
        if (un->has_busy) {
            /* its busy fraction: a bar along the bottom edge */
            double b = un->busy < 0 ? 0 : un->busy > 1 ? 1 : un->busy;
            fprintf(out, "<rect class=\"busy\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                         "fill=\"#222222\" stroke=\"none\"/>",
                    x - side / 2, y + side / 2 - 0.12 * side, side * b, 0.12 * side);
        }
        double size = L->font;
        const char *label = short_name(un->name, side - 2, L->font, &size);
        if (label) {
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.1f\" stroke=\"none\" fill=\"#111111\">", x,
                    y + 0.35 * size, size);
            put_text(out, label, 0);
            fputs("</text>", out);
        }
        fputs("</g>\n", out);
    }
    fputs("</g>\n", out);
}

/* One path per net with links: each undirected segment once, shifted by
 * the net's offset; a dot at the source switch, a hollow square at each
 * end.  Returns the number of nets drawn and counts them per class. */
static int draw_nets(FILE *out, const layout *L, const route_result *route, const char *const *label,
                     int per_class_nets[3])
{
    const fab_fabric *f = L->f;
    int drawn = 0, max_links = 0;
    for (int i = 0; i < route->n_nets; i++)
        if (route->net[i].n_links > max_links)
            max_links = route->net[i].n_links;
    int *key = xmalloc(((size_t)max_links + 1) * sizeof *key);
    int *from = xmalloc(((size_t)max_links + 1) * sizeof *from);
    int *to = xmalloc(((size_t)max_links + 1) * sizeof *to);
    if (!key || !from || !to) {
        free(key);
        free(from);
        free(to);
        return -1;
    }
    double step = 0.30 * L->T / NET_SLOTS;
    double w = fmin(3.5, fmax(1.0, 0.06 * L->T));
    fputs("<g id=\"nets\" fill=\"none\" stroke-linecap=\"round\" stroke-linejoin=\"round\" "
          "stroke-opacity=\"0.85\">\n", out);
    for (int i = 0; i < route->n_nets; i++) {
        const route_net_result *nr = &route->net[i];
        if (nr->n_links == 0)
            continue;
        route_class cls = route_link_decode(f, nr->links[0]).cls;
        int n = 0;
        for (int k = 0; k < nr->n_links; k++) {
            route_link l = route_link_decode(f, nr->links[k]);
            int a = l.row * f->cols + l.col, b = (l.row + DROW[l.dir]) * f->cols + l.col + DCOL[l.dir];
            from[k] = a;
            to[k] = b;
            /* undirected segment: lower switch, and whether it runs east */
            key[n++] = (a < b ? a : b) * 2 + (DROW[l.dir] == 0);
        }
        qsort(key, (size_t)n, sizeof *key, cmp_int);
        double off = ((i % NET_SLOTS) - (NET_SLOTS - 1) / 2.0) * step;
        const char *dash = cls == ROUTE_CONTROL ? " stroke-dasharray=\"3 2\"" : "";
        fprintf(out, "<path class=\"net\" stroke=\"%s\" stroke-width=\"%.2f\"%s d=\"", CLASS_COLOUR[cls],
                cls == ROUTE_VECTOR ? w : 0.7 * w, dash);
        for (int k = 0; k < n; k++) {
            if (k > 0 && key[k] == key[k - 1])
                continue;
            int sw = key[k] / 2, east = key[k] % 2;
            int r = sw / f->cols, c = sw % f->cols;
            double x = cell_x(L, c) + off, y = cell_y(L, r) + off;
            if (east)
                fprintf(out, "M%.1f %.1fH%.1f", x, y, cell_x(L, c + 1) + off);
            else
                fprintf(out, "M%.1f %.1fV%.1f", x, y, cell_y(L, r + 1) + off);
        }
        fprintf(out, "\"><title>net %d: ", i);
        if (label && label[i]) {
            put_text(out, label[i], 0);
            fputs("; ", out);
        }
        fprintf(out, "%s, %d link%s</title></path>\n", CLASS_NAME[cls], nr->n_links, nr->n_links == 1 ? "" : "s");
        /* The source: a switch the tree leaves but never enters. */
        qsort(to, (size_t)nr->n_links, sizeof *to, cmp_int);
        for (int k = 0; k < nr->n_links; k++)
            if (!bsearch(&from[k], to, (size_t)nr->n_links, sizeof *to, cmp_int)) {
                fprintf(out, "<circle class=\"net-source\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" "
                             "stroke=\"none\"/>\n",
                        cell_x(L, from[k] % f->cols) + off, cell_y(L, from[k] / f->cols) + off, 1.6 * w,
                        CLASS_COLOUR[cls]);
                break;
            }
        /* The ends: switches the tree enters but never leaves (a sink
         * inside the tree, passed through on the way, has no mark). */
        qsort(from, (size_t)nr->n_links, sizeof *from, cmp_int);
        for (int k = 0; k < nr->n_links; k++)
            if ((k == 0 || to[k] != to[k - 1]) && !bsearch(&to[k], from, (size_t)nr->n_links, sizeof *from, cmp_int))
                fprintf(out, "<rect class=\"net-sink\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                             "fill=\"#ffffff\" stroke=\"%s\" stroke-width=\"%.2f\"/>\n",
                        cell_x(L, to[k] % f->cols) + off - 1.4 * w, cell_y(L, to[k] / f->cols) + off - 1.4 * w,
                        2.8 * w, 2.8 * w, CLASS_COLOUR[cls], 0.6 * w);
        per_class_nets[cls]++;
        drawn++;
    }
    fputs("</g>\n", out);
    free(key);
    free(from);
    free(to);
    return drawn;
}

/* ------------------------------------------------------------ legend */

typedef struct legend_pen {
    FILE *out;
    double x, y;           /* next line's baseline */
    double line;           /* line height */
} legend_pen;

static void heading(legend_pen *P, const char *text)
{
    P->y += 0.5 * P->line;
    fprintf(P->out, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">%s</text>\n", P->x, P->y, text);
    P->y += P->line;
}

static void swatch(legend_pen *P, const char *fill, const char *stroke, double rx)
{
    double s = 0.8 * P->line;
    fprintf(P->out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"%.1f\" fill=\"%s\" "
                    "stroke=\"%s\"/>\n",
            P->x, P->y - 0.75 * s, s, s, rx * s, fill, stroke);
}

typedef struct legend_facts {
    int n_kind[3], unplaced;
    int nets_drawn, per_class_nets[3];
    int lanes, over_links;
    double max_util;
    bool routed;
} legend_facts;

static void draw_legend(FILE *out, const layout *L, const groups *G, const svg_figures *fig,
                        const legend_facts *F, const fab_fabric *f)
{
    legend_pen P = {out, L->lx0, L->ly0, 16};
    double tx = L->lx0 + 1.3 * P.line;
    fprintf(out, "<g id=\"legend\" font-size=\"12\" fill=\"#222222\">\n");

    if (fig && fig->n_lines > 0) {
        heading(&P, "Figures");
        for (int k = 0; k < fig->n_lines && k < 8; k++) {
            if (!fig->lines[k])
                continue;
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", P.x, P.y);
            put_text(out, fig->lines[k], 70);
            fputs("</text>\n", out);
            P.y += P.line;
        }
    }

    heading(&P, "Sites (pale: empty)");
    const struct { const char *fill, *line, *text; double rx; } site_keys[3] = {
        {PCU_FILL, PCU_LINE, "PCU (compute)", 0.1},
        {PMU_FILL, PMU_LINE, "PMU (memory)", 0.1},
        {AGCU_FILL, AGCU_LINE, "AGCU (DRAM)", 0.5},
    };
    int n_sites[3] = {f->n_pcus, f->n_pmus, f->agcus};
    for (int k = 0; k < 3; k++) {
        swatch(&P, site_keys[k].fill, site_keys[k].line, site_keys[k].rx);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">%s: %d of %d used</text>\n", tx, P.y, site_keys[k].text,
                F->n_kind[k], n_sites[k]);
        P.y += P.line;
    }

    heading(&P, "Units (shape: kind; colour: group)");
    const char *kind_text[3] = {"VPCU: a pipeline", "VPMU: a tensor or tile", "VAG: a DRAM stream"};
    for (int k = 0; k < 3; k++) {
        swatch(&P, "#ffffff", "#333333", kind_radius((place_kind)k, 1.0));
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", tx, P.y, kind_text[k]);
        P.y += P.line;
    }
    if (F->unplaced > 0) {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#b2182b\">%d unit%s not placed (not drawn)</text>\n", P.x,
                P.y, F->unplaced, F->unplaced == 1 ? "" : "s");
        P.y += P.line;
    }
    for (int g = 0; g < G->n && g < MAX_LEGEND_GROUPS; g++) {
        swatch(&P, G->colour[g], "#333333", 0.1);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", tx, P.y);
        put_text(out, G->name[g], 40);
        fputs("</text>\n", out);
        P.y += P.line;
    }
    if (G->n > MAX_LEGEND_GROUPS) {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">... and %d more groups</text>\n", P.x, P.y,
                G->n - MAX_LEGEND_GROUPS);
        P.y += P.line;
    }

    heading(&P, "Routes");
    if (!F->routed) {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">not routed (placement only)</text>\n", P.x, P.y);
        P.y += P.line;
    } else {
        for (int c = 0; c < 3; c++) {
            fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
                    P.x, P.y - 4, P.x + 0.9 * P.line, P.y - 4, CLASS_COLOUR[c],
                    c == ROUTE_CONTROL ? " stroke-dasharray=\"3 2\"" : "");
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">%s: %d net%s</text>\n", tx, P.y, CLASS_NAME[c],
                    F->per_class_nets[c], F->per_class_nets[c] == 1 ? "" : "s");
            P.y += P.line;
        }
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">dot: a net's source; square: its ends</text>\n", P.x, P.y);
        P.y += P.line;

        heading(&P, "Link use (tracks used / tracks)");
        double bar_w = 200, bar_h = 12;
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"url(#heat-scale)\" "
                     "stroke=\"#666666\" stroke-width=\"0.5\"/>\n",
                P.x, P.y - bar_h, bar_w, bar_h);
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n", P.x + bar_w + 8,
                P.y - bar_h, bar_h, bar_h, OVER_FILL);
        P.y += 0.9 * P.line;
        for (int k = 0; k <= 4; k++)
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%d%%</text>\n",
                    P.x + k * bar_w / 4, P.y, 25 * k);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">over</text>\n", P.x + bar_w + 6, P.y);
        P.y += P.line;
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">one lane per direction, worst class</text>\n", P.x, P.y);
        P.y += P.line;
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">%d lanes in use, max %.0f%%</text>\n", P.x, P.y, F->lanes,
                100.0 * F->max_util);
        P.y += P.line;
        if (F->over_links > 0) {
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">%d link%s over capacity</text>\n", P.x, P.y,
                    OVER_FILL, F->over_links, F->over_links == 1 ? "" : "s");
            P.y += P.line;
        }
    }
    fputs("</g>\n", out);
}

/* Height the legend needs, in lines of 16 px: the same steps as
 * draw_legend (a heading is 1.5 lines). */
static double legend_height(const groups *G, const svg_figures *fig, const legend_facts *F)
{
    double lines = 0;
    if (fig && fig->n_lines > 0) {
        lines += 1.5;
        for (int k = 0; k < fig->n_lines && k < 8; k++)
            lines += fig->lines[k] != NULL;
    }
    lines += 1.5 + 3;                                            /* sites */
    lines += 1.5 + 3 + (F->unplaced > 0);                        /* units */
    lines += G->n > MAX_LEGEND_GROUPS ? MAX_LEGEND_GROUPS + 1 : G->n;
    if (F->routed)
        lines += 1.5 + 4 + 1.5 + 0.9 + 3 + (F->over_links > 0); /* routes, heat */
    else
        lines += 1.5 + 1;
    return 16.0 * lines;
}

/* ------------------------------------------------------------ checks */

static int check_input(const char *path, const fab_fabric *f, const place_sites *s, const svg_unit *units,
                       int n_units, const route_result *route, diag_list *d)
{
    diag_loc at = diag_at_file(path);
    int errors = d->n_errors;
    int *holder = xmalloc(((size_t)s->n + 1) * sizeof *holder);
    if (!holder)
        return diag_error(d, at, "out of memory drawing the fabric");
    for (int i = 0; i < s->n; i++)
        holder[i] = -1;
    for (int u = 0; u < n_units; u++) {
        const char *name = units[u].name ? units[u].name : "?";
        int t = units[u].site;
        if (t < 0)
            continue;
        if (t >= s->n) {
            diag_error(d, at, "cannot draw unit '%s': site %d does not exist (the fabric has %d)", name, t, s->n);
            continue;
        }
        if (s->site[t].kind != units[u].kind) {
            diag_error(d, at, "cannot draw unit '%s': it is a %s on a %s site (%d,%d)", name,
                       kind_unit_name(units[u].kind),
                       s->site[t].kind == PLACE_PCU ? "PCU" : s->site[t].kind == PLACE_PMU ? "PMU" : "AGCU",
                       s->site[t].row, s->site[t].col);
            continue;
        }
        if (holder[t] >= 0)
            diag_error(d, at, "cannot draw units '%s' and '%s' on one site (%d,%d)",
                       units[holder[t]].name ? units[holder[t]].name : "?", name, s->site[t].row, s->site[t].col);
        else
            holder[t] = u;
    }
    free(holder);
    if (route) {
        int n_links = route_n_links(f);
        if (route->n_links != n_links || (n_links > 0 && !route->link_use) || (route->n_nets > 0 && !route->net))
            diag_error(d, at, "cannot draw the routes: the routing result is not for fabric '%s' "
                       "(%d links, expected %d)", f->name, route->n_links, n_links);
        else
            for (int i = 0; i < route->n_nets; i++) {
                const route_net_result *nr = &route->net[i];
                for (int k = 0; k < nr->n_links; k++) {
                    int l = nr->links[k];
                    if (l < 0 || l >= n_links || route_link_capacity(f, l) == 0) {
                        diag_error(d, at, "cannot draw net %d: link %d is not a link of fabric '%s'", i, l,
                                   f->name);
                        break;
                    }
                    if (route_link_decode(f, l).cls != route_link_decode(f, nr->links[0]).cls) {
                        diag_error(d, at, "cannot draw net %d: its links are of two classes", i);
                        break;
                    }
                }
            }
    }
    return d->n_errors > errors ? -1 : 0;
}

/* ------------------------------------------------------------ writer */

int svg_write_stream(FILE *out, const char *path, const fab_fabric *f, const place_sites *s,
                     const svg_unit *units, int n_units, const route_result *route, const svg_figures *fig,
                     diag_list *d)
{
    diag_loc at = diag_at_file(path);
    if (f->rows <= 0 || f->cols <= 0)
        return diag_error(d, at, "cannot draw fabric '%s': it has no units", f->name);
    if (check_input(path, f, s, units, n_units, route, d) != 0)
        return -1;

    /* Groups: sorted, distinct; colours follow the sorted order. */
    groups G = {0};
    G.name = xmalloc(((size_t)n_units + 1) * sizeof *G.name);
    G.colour = xmalloc(((size_t)n_units + 1) * sizeof *G.colour);
    if (!G.name || !G.colour) {
        free(G.name);
        free(G.colour);
        return diag_error(d, at, "out of memory drawing the fabric");
    }
    for (int u = 0; u < n_units; u++)
        G.name[u] = null_group(units[u].group);
    qsort(G.name, (size_t)n_units, sizeof *G.name, cmp_str);
    for (int u = 0; u < n_units; u++)
        if (G.n == 0 || strcmp(G.name[G.n - 1], G.name[u]) != 0)
            G.name[G.n++] = G.name[u];
    for (int g = 0; g < G.n; g++)
        group_colour(g, G.colour[g]);

    legend_facts F = {0};
    F.routed = route != NULL;
    for (int u = 0; u < n_units; u++) {
        if (units[u].site < 0)
            F.unplaced++;
        else
            F.n_kind[units[u].kind]++;
    }
    if (route)
        F.max_util = route->max_link_util;

    /* Layout (see the top of the file). */
    layout L = {.f = f};
    crop(&L, s, units, n_units, route);
    bool cropped = view_rows(&L) < f->rows || view_cols(&L) < f->cols;
    int side = view_rows(&L) > view_cols(&L) ? view_rows(&L) : view_cols(&L);
    L.T = fmin(110.0, fmax(20.0, floor(960.0 / side)));
    L.tile = 0.66 * L.T;
    L.agcu_w = 1.2 * L.T;
    L.font = fmin(12.0, fmax(4.0, 0.2 * L.T));
    double pad = 16, title_h = cropped ? 64 : 48, label = f->rows >= 100 || f->cols >= 100 ? 26 : 20;
    L.gx0 = pad + label + L.agcu_w;
    L.gy0 = pad + title_h + label;
    L.lx0 = L.gx0 + view_cols(&L) * L.T + L.agcu_w + 24;
    L.ly0 = L.gy0 - 8;
    /* Wide enough for the longest figure line (cut at 70 characters). */
    L.legend_w = 320;
    for (int k = 0; fig && k < fig->n_lines && k < 8; k++)
        if (fig->lines[k])
            L.legend_w = fmax(L.legend_w, 6.8 * fmin(73.0, text_chars(fig->lines[k])) + 16);
    L.width = L.lx0 + L.legend_w + pad;
    if (route)
        F.over_links = count_over(f, route);
    double legend_end = L.ly0 + legend_height(&G, fig, &F);
    L.height = fmax(L.gy0 + view_rows(&L) * L.T + pad, legend_end + pad);

    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
                 "viewBox=\"0 0 %.0f %.0f\" font-family=\"Helvetica, Arial, sans-serif\">\n",
            ceil(L.width), ceil(L.height), ceil(L.width), ceil(L.height));
    fputs("<title>", out);
    put_text(out, fig && fig->title ? fig->title : f->name, 0);
    fputs("</title>\n<desc>rdumap fabric picture: placement, routes and link use</desc>\n", out);
    fputs("<defs><linearGradient id=\"heat-scale\" x1=\"0\" y1=\"0\" x2=\"1\" y2=\"0\">", out);
    for (int k = 0; k < 5; k++)
        fprintf(out, "<stop offset=\"%.2f\" stop-color=\"#%02x%02x%02x\"/>", k / 4.0, (unsigned)HEAT_STOP[k][0],
                (unsigned)HEAT_STOP[k][1], (unsigned)HEAT_STOP[k][2]);
    fputs("</linearGradient></defs>\n", out);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", ceil(L.width),
            ceil(L.height));

    /* Title and the fabric's line. */
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"18\" font-weight=\"bold\" fill=\"#111111\">", pad,
            pad + 16);
    put_text(out, fig && fig->title ? fig->title : "rdumap", 90);
    fprintf(out, "</text>\n<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#444444\">fabric ", pad, pad + 36);
    put_text(out, f->name, 60);
    fprintf(out, ": %d x %d units, %d PCUs, %d PMUs, %d AGCUs; %d vector, %d scalar, %d control tracks "
                 "per link and direction</text>\n",
            f->rows, f->cols, f->n_pcus, f->n_pmus, f->agcus, f->vector_links, f->scalar_links, f->control_links);
    if (cropped)
        fprintf(out, "<text class=\"crop\" x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#444444\">showing the "
                     "used area: rows %d to %d, columns %d to %d</text>\n",
                pad, pad + 52, L.r0, L.r1, L.c0, L.c1);

    /* Row and column numbers, thinned so that they never collide. */
    int every = (int)ceil(22.0 / L.T);
    fprintf(out, "<g id=\"labels\" font-size=\"%.0f\" fill=\"#777777\" text-anchor=\"middle\">\n",
            fmin(11.0, fmax(8.0, 0.3 * L.T)));
    for (int c = L.c0; c <= L.c1; c += every)
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">%d</text>\n", cell_x(&L, c), L.gy0 - 6, c);
    for (int r = L.r0; r <= L.r1; r += every)
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">%d</text>\n", pad + label / 2, cell_y(&L, r) + 4, r);
    fputs("</g>\n", out);

    draw_mesh(out, &L, s);
    if (route)
        F.lanes = draw_heat(out, &L, route);
    draw_sites(out, &L, s);
    draw_units(out, &L, s, units, n_units, &G);
    int rc = 0;
    if (route && (F.nets_drawn = draw_nets(out, &L, route, fig ? fig->net_label : NULL, F.per_class_nets)) < 0)
        rc = diag_error(d, at, "out of memory drawing the routes");
    draw_legend(out, &L, &G, fig, &F, f);
    fputs("</svg>\n", out);

    if (rc == 0 && ferror(out))
        rc = diag_io_error(d, at, "cannot write the picture: %s", strerror(errno ? errno : EIO));
    free(G.name);
    free(G.colour);
    return rc;
}

int svg_write(const char *path, const fab_fabric *f, const place_sites *s, const svg_unit *units, int n_units,
              const route_result *route, const svg_figures *fig, diag_list *d)
{
    outputs o;
    outputs_begin(&o);
    FILE *out = outputs_add(&o, path, d);
    if (!out || svg_write_stream(out, path, f, s, units, n_units, route, fig, d) != 0) {
        outputs_abort(&o);
        return -1;
    }
    return outputs_commit(&o, d);
}
