/*
 * imp_graph.c — the imported graph: building it, telling the two formats
 * apart, and the checks every format shares.
 *
 * A file is Morpher DFG XML when its first significant character is '<',
 * CGRA-ME DOT when its first word is `digraph`, `graph` or `strict`
 * (comments skipped); the extension is not trusted.  The checks here are
 * those that do not depend on the format: nothing may flow into an
 * immediate, and every cycle must cross a loop-carried edge — a cycle made
 * of distance-0 edges is a combinational loop and cannot be scheduled.
 */
#include "mapper/import/imp_internal.h"
#include "util/alloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

double imp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char *imp_format_name(imp_format f)
{
    return f == IMP_MORPHER_XML ? "Morpher DFG XML" : "CGRA-ME DOT";
}

/* Grow an arena array of `size`-byte elements to hold n + 1 of them.
 * Capacities are powers of two, so the capacity is implied by n. */
static void *grow(arena *a, void *items, int n, size_t size)
{
    bool full = n == 0 || (n >= 8 && (n & (n - 1)) == 0);
    if (!full)
        return items;
    int cap = n == 0 ? 8 : 2 * n;
    void *bigger = arena_calloc(a, (size_t)cap, size);
    if (bigger && n > 0)
        memcpy(bigger, items, (size_t)n * size);
    return bigger;
}

/* FNV-1a: names are short, and this is only a lookup table. */
static unsigned name_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void index_put(imp_graph *g, int v)
{
    unsigned mask = (unsigned)g->index_cap - 1;
    unsigned i = name_hash(g->node[v].name) & mask;
    while (g->index[i] >= 0)
        i = (i + 1) & mask;
    g->index[i] = v;
}

/* Keep the name index at most half full; rebuilt in the arena when it grows. */
static int index_reserve(imp_graph *g, int n)
{
    if (2 * n < g->index_cap)
        return 0;
    int cap = g->index_cap ? 2 * g->index_cap : 64;
    while (2 * n >= cap)
        cap *= 2;
    int *table = arena_calloc(&g->arena, (size_t)cap, sizeof *table);
    if (!table)
        return -1;
    for (int i = 0; i < cap; i++)
        table[i] = -1;
    g->index = table;
    g->index_cap = cap;
    for (int v = 0; v < g->n_nodes; v++)
        index_put(g, v);
    return 0;
}

int imp_graph_add_node(imp_graph *g, const imp_node *n)
{
    imp_node *items = grow(&g->arena, g->node, g->n_nodes, sizeof *items);
    if (!items || index_reserve(g, g->n_nodes + 1) != 0)
        return -1;
    g->node = items;
    g->node[g->n_nodes] = *n;
    index_put(g, g->n_nodes);
    return g->n_nodes++;
}

int imp_graph_add_edge(imp_graph *g, const imp_edge *e)
{
    imp_edge *items = grow(&g->arena, g->edge, g->n_edges, sizeof *items);
    if (!items)
        return -1;
    g->edge = items;
    g->edge[g->n_edges] = *e;
    return g->n_edges++;
}

int imp_graph_find(const imp_graph *g, const char *name)
{
    if (g->index_cap == 0)
        return -1;
    unsigned mask = (unsigned)g->index_cap - 1;
    for (unsigned i = name_hash(name) & mask; g->index[i] >= 0; i = (i + 1) & mask)
        if (strcmp(g->node[g->index[i]].name, name) == 0)
            return g->index[i];
    return -1;
}

void imp_graph_free(imp_graph *g)
{
    arena_destroy(&g->arena);
    memset(g, 0, sizeof *g);
}

/* ------------------------------------------------------------ the checks */

/* Report the cycle closed by the back edge u -> v: the DFS stack holds the
 * path from v to u. */
static void report_loop(const imp_graph *g, const int *stack, int depth, int v, diag_list *d)
{
    int from = 0;
    while (from < depth && stack[from] != v)
        from++;
    size_t len = 64;
    for (int i = from; i < depth; i++)
        len += strlen(g->node[stack[i]].name) + 4;
    len += strlen(g->node[v].name);
    char *text = xmalloc(len);
    if (!text) {
        diag_error(d, diag_at_file(g->file), "combinational loop through node %s", g->node[v].name);
        return;
    }
    text[0] = '\0';
    for (int i = from; i < depth; i++) {
        strcat(text, g->node[stack[i]].name);
        strcat(text, " -> ");
    }
    strcat(text, g->node[v].name);
    diag_loc at = {g->file, g->node[v].line, 0};
    diag_error(d, at, "combinational loop: the cycle %s has no loop-carried edge", text);
    free(text);
}

int imp_graph_check(const imp_graph *g, diag_list *d)
{
    int errors = d->n_errors;
    for (int e = 0; e < g->n_edges; e++) {
        const imp_edge *ed = &g->edge[e];
        const imp_node *dst = &g->node[ed->dst];
        if (dst->info && dst->info->cls == IMP_IMMEDIATE) {
            diag_loc at = {g->file, ed->line ? ed->line : dst->line, 0};
            diag_error(d, at, "edge %s -> %s flows into the constant %s (%s), which takes no input",
                       g->node[ed->src].name, dst->name, dst->name, dst->op);
        }
    }
    /* Depth-first search over distance-0 edges; a grey successor closes a
     * cycle.  Iterative, so that a long chain cannot overflow the stack. */
    int n = g->n_nodes;
    int *first = xcalloc((size_t)n + 1, sizeof *first);
    int *succ = xmalloc(((size_t)g->n_edges + 1) * sizeof *succ);
    int *colour = xcalloc((size_t)n + 1, sizeof *colour);
    int *stack = xmalloc(((size_t)n + 1) * sizeof *stack);
    int *next = xmalloc(((size_t)n + 1) * sizeof *next);
    if (!first || !succ || !colour || !stack || !next) {
        free(first), free(succ), free(colour), free(stack), free(next);
        return diag_error(d, diag_at_file(g->file), "out of memory checking the graph");
    }
    for (int e = 0; e < g->n_edges; e++)
        if (g->edge[e].distance == 0)
            first[g->edge[e].src + 1]++;
    for (int v = 0; v < n; v++)
        first[v + 1] += first[v];
    int *fill = next;  /* borrowed as a cursor while filling */
    memcpy(fill, first, (size_t)n * sizeof *fill);
    for (int e = 0; e < g->n_edges; e++)
        if (g->edge[e].distance == 0)
            succ[fill[g->edge[e].src]++] = g->edge[e].dst;
    int loops = 0;
    for (int root = 0; root < n && loops < 3; root++) {
        if (colour[root])
            continue;
        int depth = 0;
        stack[depth] = root;
        next[depth] = first[root];
        colour[root] = 1;
        depth++;
        while (depth > 0 && loops < 3) {
            int u = stack[depth - 1];
            if (next[depth - 1] < first[u + 1]) {
                int v = succ[next[depth - 1]++];
                if (colour[v] == 1) {
                    report_loop(g, stack, depth, v, d);
                    loops++;
                } else if (colour[v] == 0) {
                    colour[v] = 1;
                    stack[depth] = v;
                    next[depth] = first[v];
                    depth++;
                }
            } else {
                colour[u] = 2;
                depth--;
            }
        }
    }
    free(first), free(succ), free(colour), free(stack), free(next);
    return d->n_errors > errors ? -1 : 0;
}

/* -------------------------------------------------------------- loading */

/* Skip blanks and comments (XML <!-- -->, DOT // /ast # ) from p. */
static const char *skip_noise(const char *p)
{
    for (;;) {
        while (*p && (isspace((unsigned char)*p) || (unsigned char)*p == 0xef ||
                      (unsigned char)*p == 0xbb || (unsigned char)*p == 0xbf))
            p++;
        if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '#') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else {
            return p;
        }
    }
}

static bool word_at(const char *p, const char *w)
{
    size_t n = strlen(w);
    return strncasecmp(p, w, n) == 0 && !isalnum((unsigned char)p[n]) && p[n] != '_';
}

int imp_load_string(const char *name, const char *text, imp_graph *g, diag_list *d)
{
    return imp_load_string_with(name, text, NULL, g, d);
}

int imp_load_string_with(const char *name, const char *text, const imp_read_opts *ro, imp_graph *g,
                         diag_list *d)
{
    static const imp_read_opts defaults = {0};
    if (!ro)
        ro = &defaults;
    memset(g, 0, sizeof *g);
    arena_init(&g->arena);
    g->file = name;
    const char *p = skip_noise(text);
    if (*p == '\0')
        return diag_error(d, diag_at_file(name), "empty file: expected a Morpher DFG XML or a CGRA-ME DOT graph");
    int rc;
    if (*p == '<') {
        g->format = IMP_MORPHER_XML;
        rc = imp_read_morpher(g, name, text, ro, d);
    } else if (word_at(p, "digraph") || word_at(p, "graph") || word_at(p, "strict")) {
        g->format = IMP_CGRAME_DOT;
        rc = imp_read_dot(g, name, text, ro, d);
    } else {
        int line = 1;
        for (const char *q = text; q < p; q++)
            line += *q == '\n';
        diag_loc at = {name, line, (int)(p - text) + 1};
        for (const char *q = p; q > text && q[-1] != '\n'; q--)
            at.col = (int)(p - q) + 1;
        if (p == text || p[-1] == '\n')
            at.col = 1;
        return diag_error(d, at, "neither a Morpher DFG XML (which starts with '<') nor a CGRA-ME DOT graph (which starts with 'digraph')");
    }
    if (rc == 0 && !diag_has_errors(d))
        rc = imp_graph_check(g, d);
    return rc == 0 && !diag_has_errors(d) ? 0 : -1;
}

int imp_load(const char *path, imp_graph *g, diag_list *d, bool *io_error)
{
    return imp_load_with(path, NULL, g, d, io_error);
}

int imp_load_with(const char *path, const imp_read_opts *ro, imp_graph *g, diag_list *d, bool *io_error)
{
    memset(g, 0, sizeof *g);
    arena_init(&g->arena);
    g->file = path;
    if (io_error)
        *io_error = false;
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0;
    if (f) {
        for (;;) {
            if (len + 4096 + 1 > cap) {
                cap = cap ? 2 * cap : 65536;
                char *bigger = xrealloc(text, cap);
                if (!bigger)
                    break;
                text = bigger;
            }
            size_t got = fread(text + len, 1, cap - len - 1, f);
            len += got;
            if (got == 0)
                break;
        }
        bool bad = ferror(f) || !text;
        fclose(f);
        if (bad) {
            free(text);
            text = NULL;
        }
    }
    if (!text) {
        if (io_error)
            *io_error = true;
        return diag_io_error(d, diag_at_file(path), "cannot read the graph: %s", strerror(errno ? errno : EIO));
    }
    text[len] = '\0';
    if (memchr(text, '\0', len)) {
        free(text);
        return diag_error(d, diag_at_file(path), "a binary file, not a Morpher DFG XML or a CGRA-ME DOT graph");
    }
    /* The list keeps its own copy of the name: point diagnostics at it, so
     * that they outlive this graph. */
    int had = d->n_sources;
    diag_add_source(d, path, text);
    const char *name = d->n_sources > had ? d->sources[d->n_sources - 1].file : path;
    arena_destroy(&g->arena);
    int rc = imp_load_string_with(name, text, ro, g, d);
    free(text);
    return rc;
}
