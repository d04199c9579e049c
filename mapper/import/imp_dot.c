/*
 * imp_dot.c — reader of CGRA-ME's dataflow graphs in DOT.
 *
 *   digraph G {
 *     load1[opcode=load];  c2[opcode=const, value=4];  add0[opcode=add];
 *     load1 -> add0[operand=0];  c2 -> add0[operand=1];
 *     add0 -> phi3[operand=0];   phi3 -> add0[operand=1];   (a recurrence)
 *   }
 *
 * Graphviz's cgraph parses the text (agmemread); its messages are captured
 * through agseterrf and become errors at their line — nothing is printed.
 * cgraph does not keep line numbers, and it silently merges a node declared
 * twice, so a small locator scans the text for statement heads (`ID [` and
 * `ID -> ID`) only to give every node and edge a line and to find duplicate
 * declarations; all meaning comes from cgraph.
 *
 * Loop-carried edges, in this order (docs/import.md states the rule):
 *  1. an edge that says so, by `dist=N` / `distance=N` (N >= 1) or
 *     `backedge=true`;
 *  2. an edge into a `phi` that closes a cycle — in SSA form a phi's value
 *     from the loop body comes from the previous iteration;
 *  3. CGRA-ME's own files mark nothing: a loop-carried dependence is a
 *     plain edge that closes a cycle (an accumulator is `add16->add16`).
 *     CGRA-ME finds these edges by a depth-first search (OpGraph::
 *     getMaxCycle and edgeLatencies: an edge to a node still on the search
 *     path closes a cycle).  So does mark_dfs_backedges: from the sources
 *     (nodes with no incoming same-iteration edge) in file order, then from
 *     every node not yet reached in file order, following each node's
 *     out-edges in the order their statements appear; every edge to a node
 *     on the current path becomes loop-carried (distance 1), a note at its
 *     line.  A self-loop is always such an edge.
 * With imp_read_opts.strict step 3 is skipped, and a cycle of plain edges
 * is a combinational loop (imp_graph_check), as it was before.
 */
#include "mapper/import/imp_internal.h"
#include "util/alloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <graphviz/cgraph.h>

/* --------------------------------------------- cgraph's messages, captured */

/* cgraph calls the handler with fragments ("Error", ": ", "syntax error in
 * line 4 near ']'\n"); they are joined up to the newline. */
static struct {
    diag_list *d;
    const char *file;
    int last_line;
    char buf[1024];
    size_t len;
    int reported;
} capture;

static void flush_capture(void)
{
    if (capture.len == 0)
        return;
    capture.buf[capture.len] = '\0';
    char *msg = capture.buf;
    while (*msg == ' ' || *msg == ':')
        msg++;
    bool warning = strncmp(msg, "Warning", 7) == 0;
    if (strncmp(msg, "Error", 5) == 0 || warning) {
        msg += warning ? 7 : 5;
        while (*msg == ' ' || *msg == ':')
            msg++;
    }
    size_t n = strlen(msg);
    while (n > 0 && isspace((unsigned char)msg[n - 1]))
        msg[--n] = '\0';
    int line = 0;
    const char *l = strstr(msg, "line ");
    if (l)
        line = atoi(l + 5);
    if (line > capture.last_line)
        line = capture.last_line;
    if (n > 0 && warning) {
        diag_loc at = {capture.file, line, 0};
        diag_warning(capture.d, at, "DOT: %s", msg);
    } else if (n > 0) {
        diag_loc at = {capture.file, line, 0};
        diag_error(capture.d, at, "DOT syntax: %s", msg);
        capture.reported++;
    }
    capture.len = 0;
}

static int on_cgraph_message(char *fragment)
{
    for (const char *p = fragment; *p; p++) {
        if (*p == '\n') {
            flush_capture();
        } else if (capture.len + 1 < sizeof capture.buf) {
            capture.buf[capture.len++] = *p;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ the locator */

typedef struct token {
    const char *s;   /* ID text (quotes removed), or the punctuation */
    size_t n;
    int line;
    char kind;       /* 'i' ID, '>' an edge operator, or the punctuation char */
} token;

typedef struct tokens {
    token *t;
    int n, cap;
    int *by_name;    /* ID tokens sorted by text, then position */
    int n_names;
    int *edges;      /* positions i of `ID -> ID` sorted by (source, sink, position) */
    int n_edges;
} tokens;

static void push_token(tokens *ts, token t)
{
    if (ts->n == ts->cap) {
        int cap = ts->cap ? 2 * ts->cap : 256;
        token *bigger = xrealloc(ts->t, (size_t)cap * sizeof *bigger);
        if (!bigger)
            return;
        ts->t = bigger;
        ts->cap = cap;
    }
    ts->t[ts->n++] = t;
}

/* Split text into DOT tokens, enough to find statement heads. */
static void tokenize(const char *text, tokens *ts)
{
    int line = 1;
    const char *p = text;
    while (*p) {
        char c = *p;
        if (c == '\n') {
            line++;
            p++;
        } else if (isspace((unsigned char)c)) {
            p++;
        } else if (c == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                p++;
        } else if (c == '#' ) {
            while (*p && *p != '\n')
                p++;
        } else if (c == '/' && p[1] == '*') {
            p += 2;
            while (*p && !(p[0] == '*' && p[1] == '/'))
                line += *p++ == '\n';
            if (*p)
                p += 2;
        } else if (c == '"') {
            const char *s = ++p;
            int at = line;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                line += *p++ == '\n';
            }
            push_token(ts, (token){s, (size_t)(p - s), at, 'i'});
            if (*p)
                p++;
        } else if (c == '-' && (p[1] == '>' || p[1] == '-')) {
            push_token(ts, (token){p, 2, line, '>'});
            p += 2;
        } else if (isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-' || (unsigned char)c >= 0x80) {
            const char *s = p;
            while (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || (unsigned char)*p >= 0x80 ||
                   (*p == '-' && p[1] != '>' && p[1] != '-'))
                p++;
            push_token(ts, (token){s, (size_t)(p - s), line, 'i'});
        } else {
            push_token(ts, (token){p, 1, line, c});
            p++;
        }
    }
}

static bool token_is(const token *t, const char *name)
{
    return t->kind == 'i' && strlen(name) == t->n && strncmp(t->s, name, t->n) == 0;
}

/* Skip a bracketed attribute list starting at token i ('['); return the
 * index after it, and whether it sets `opcode`. */
static int skip_attrs(const tokens *ts, int i, bool *has_opcode)
{
    *has_opcode = false;
    int k = i + 1;
    while (k < ts->n && ts->t[k].kind != ']') {
        if (token_is(&ts->t[k], "opcode"))
            *has_opcode = true;
        k++;
    }
    return k < ts->n ? k + 1 : k;
}

/* Sorting by text needs the token array: qsort has no context argument,
 * and this file already keeps per-read state (capture) for cgraph. */
static const tokens *sorting;

static int compare_text(const token *a, const token *b)
{
    size_t n = a->n < b->n ? a->n : b->n;
    int c = memcmp(a->s, b->s, n);
    return c ? c : (a->n > b->n) - (a->n < b->n);
}

static int compare_names(const void *x, const void *y)
{
    int i = *(const int *)x, j = *(const int *)y;
    int c = compare_text(&sorting->t[i], &sorting->t[j]);
    return c ? c : (i > j) - (i < j);
}

static int compare_edges(const void *x, const void *y)
{
    int i = *(const int *)x, j = *(const int *)y;
    int c = compare_text(&sorting->t[i], &sorting->t[j]);
    if (!c)
        c = compare_text(&sorting->t[i + 2], &sorting->t[j + 2]);
    return c ? c : (i > j) - (i < j);
}

/* Sort the ID tokens and the edge statements, so that every lookup below
 * is a binary search: O((T + N) log T) for T tokens and N nodes. */
static int index_tokens(tokens *ts)
{
    ts->by_name = xmalloc(((size_t)ts->n + 1) * sizeof *ts->by_name);
    ts->edges = xmalloc(((size_t)ts->n + 1) * sizeof *ts->edges);
    if (!ts->by_name || !ts->edges)
        return -1;
    for (int i = 0; i < ts->n; i++) {
        if (ts->t[i].kind != 'i')
            continue;
        ts->by_name[ts->n_names++] = i;
        if (i + 2 < ts->n && ts->t[i + 1].kind == '>' && ts->t[i + 2].kind == 'i')
            ts->edges[ts->n_edges++] = i;
    }
    sorting = ts;
    qsort(ts->by_name, (size_t)ts->n_names, sizeof *ts->by_name, compare_names);
    qsort(ts->edges, (size_t)ts->n_edges, sizeof *ts->edges, compare_edges);
    sorting = NULL;
    return 0;
}

/* First position in sorted[0 .. n) whose token(s) are not below `key`
 * (the token key_src, and key_dst too when not NULL). */
static int lower_bound(const tokens *ts, const int *sorted, int n, const token *key_src, const token *key_dst)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2, i = sorted[mid];
        int c = compare_text(&ts->t[i], key_src);
        if (!c && key_dst)
            c = compare_text(&ts->t[i + 2], key_dst);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static token key_of(const char *name)
{
    return (token){name, strlen(name), 0, 'i'};
}

/* The line of node `name`'s declaration with an opcode (or its first
 * mention); *second gets the line of a second declaration with an opcode. */
static int node_line(const tokens *ts, const char *name, int *second)
{
    int first_decl = 0, first_seen = 0;
    *second = 0;
    token key = key_of(name);
    for (int k = lower_bound(ts, ts->by_name, ts->n_names, &key, NULL); k < ts->n_names; k++) {
        int i = ts->by_name[k];
        const token *t = &ts->t[i];
        if (compare_text(t, &key) != 0)
            break;
        if (!first_seen)
            first_seen = t->line;
        bool head = i == 0 || strchr(";{}]", ts->t[i - 1].kind) != NULL;
        bool edge = (i + 1 < ts->n && ts->t[i + 1].kind == '>') || (i > 0 && ts->t[i - 1].kind == '>');
        if (!head || edge || i + 1 >= ts->n || ts->t[i + 1].kind != '[')
            continue;
        bool has_opcode;
        skip_attrs(ts, i + 1, &has_opcode);
        if (!has_opcode)
            continue;
        if (!first_decl)
            first_decl = t->line;
        else if (!*second)
            *second = t->line;
    }
    return first_decl ? first_decl : first_seen;
}

/* The line of the k-th (from 0) edge statement `src -> dst`, or 0. */
static int edge_line(const tokens *ts, const char *src, const char *dst, int k)
{
    token ks = key_of(src), kd = key_of(dst);
    int at = lower_bound(ts, ts->edges, ts->n_edges, &ks, &kd) + k;
    if (at >= ts->n_edges)
        return 0;
    int i = ts->edges[at];
    if (compare_text(&ts->t[i], &ks) != 0 || compare_text(&ts->t[i + 2], &kd) != 0)
        return 0;
    return ts->t[i].line;
}

/* ----------------------------------------------------------------- reader */

static bool parse_int(const char *s, long long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static const char *get(void *obj, const char *key)
{
    char *v = agget(obj, (char *)key);
    return v && *v ? v : NULL;
}

/* Mark edges into a phi that close a cycle as loop-carried: u -> phi is a
 * back edge when phi reaches u without passing through another edge into
 * a phi.  Edges marked explicitly keep their distance. */
static void mark_phi_backedges(imp_graph *g, const bool *explicit_dist)
{
    int n = g->n_nodes;
    if (n == 0)
        return;
    bool *seen = xmalloc((size_t)n * sizeof *seen);
    int *queue = xmalloc((size_t)n * sizeof *queue);
    bool *into_phi = xcalloc((size_t)g->n_edges + 1, sizeof *into_phi);
    if (!seen || !queue || !into_phi) {
        free(seen), free(queue), free(into_phi);
        return;
    }
    for (int e = 0; e < g->n_edges; e++)
        into_phi[e] = strcasecmp(g->node[g->edge[e].dst].op, "phi") == 0;
    for (int e = 0; e < g->n_edges; e++) {
        imp_edge *ed = &g->edge[e];
        if (!into_phi[e] || explicit_dist[e])
            continue;
        memset(seen, 0, (size_t)n * sizeof *seen);
        int head = 0, tail = 0;
        queue[tail++] = ed->dst;
        seen[ed->dst] = true;
        while (head < tail && !seen[ed->src]) {
            int u = queue[head++];
            for (int f = 0; f < g->n_edges; f++) {
                const imp_edge *x = &g->edge[f];
                if (x->src != u || into_phi[f] || x->distance > 0 || seen[x->dst])
                    continue;
                seen[x->dst] = true;
                queue[tail++] = x->dst;
            }
        }
        if (seen[ed->src])
            ed->distance = 1;
    }
    free(seen), free(queue), free(into_phi);
}

/* Order the same-iteration out-edges of each node by their statement's line
 * (cgraph keeps them by head node, not by statement). */
static const imp_graph *edge_sorting;

static int compare_edge_lines(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    const imp_edge *ea = &edge_sorting->edge[a], *eb = &edge_sorting->edge[b];
    if (ea->src != eb->src)
        return (ea->src > eb->src) - (ea->src < eb->src);
    if (ea->line != eb->line)
        return (ea->line > eb->line) - (ea->line < eb->line);
    return (a > b) - (a < b);
}

/* Notes for the first edges a search reads as loop-carried; the rest are
 * counted in one note. */
enum { DFS_NOTES = 20 };

/* Step 3 above: the back edges of a depth-first search over same-iteration
 * edges become loop-carried.  Iterative, so a long chain cannot overflow
 * the stack.  Returns 0, or -1 when out of memory. */
static int mark_dfs_backedges(imp_graph *g, const char *file, diag_list *d)
{
    int n = g->n_nodes, m = 0, found = 0;
    int *order = malloc(((size_t)g->n_edges + 1) * sizeof *order);
    int *first = calloc((size_t)n + 2, sizeof *first);
    int *indeg = calloc((size_t)n + 1, sizeof *indeg);
    char *colour = calloc((size_t)n + 1, 1);
    int *stack = malloc(((size_t)n + 1) * sizeof *stack);
    int *next = malloc(((size_t)n + 1) * sizeof *next);
    if (!order || !first || !indeg || !colour || !stack || !next) {
        free(order), free(first), free(indeg), free(colour), free(stack), free(next);
        return -1;
    }
    for (int e = 0; e < g->n_edges; e++) {
        if (g->edge[e].distance != 0)
            continue;
        order[m++] = e;
        first[g->edge[e].src + 1]++;
        indeg[g->edge[e].dst]++;
    }
    edge_sorting = g;
    qsort(order, (size_t)m, sizeof *order, compare_edge_lines);
    edge_sorting = NULL;
    for (int v = 0; v < n; v++)
        first[v + 1] += first[v];
    /* pass 0: the sources; pass 1: whatever is left (cycles no source reaches) */
    for (int pass = 0; pass < 2; pass++) {
        for (int root = 0; root < n; root++) {
            if (colour[root] || (pass == 0 && indeg[root] > 0))
                continue;
            int depth = 0;
            stack[depth] = root;
            next[depth++] = first[root];
            colour[root] = 1;
            while (depth > 0) {
                int u = stack[depth - 1];
                if (next[depth - 1] == first[u + 1]) {
                    colour[u] = 2;
                    depth--;
                    continue;
                }
                imp_edge *e = &g->edge[order[next[depth - 1]++]];
                int v = e->dst;
                if (colour[v] == 1) {
                    e->distance = 1;
                    if (found++ < DFS_NOTES)
                        diag_note(d, (diag_loc){file, e->line, 0},
                                  "edge %s -> %s closes a cycle: read as loop-carried (distance 1), as CGRA-ME "
                                  "reads a plain edge that closes a cycle",
                                  g->node[e->src].name, g->node[v].name);
                } else if (colour[v] == 0) {
                    colour[v] = 1;
                    stack[depth] = v;
                    next[depth++] = first[v];
                }
            }
        }
    }
    if (found > DFS_NOTES)
        diag_note(d, diag_at_file(file), "%d more edges close a cycle and are read as loop-carried (%d in all)",
                  found - DFS_NOTES, found);
    free(order), free(first), free(indeg), free(colour), free(stack), free(next);
    return 0;
}

int imp_read_dot(imp_graph *g, const char *file, const char *text, const imp_read_opts *ro, diag_list *d)
{
    int errors = d->n_errors;
    capture.d = d;
    capture.file = file;
    capture.len = 0;
    capture.reported = 0;
    capture.last_line = 1;
    for (const char *p = text; *p; p++)
        capture.last_line += *p == '\n' && p[1] != '\0';
    agusererrf old = agseterrf(on_cgraph_message);
    agerrlevel_t old_level = agseterr(AGWARN);
    /* cgraph's lexer keeps what follows the closing brace of one graph and
     * lexes it before the next one (a trailing newline shifts every line
     * number of the next read by one), and keeps its line count: give it
     * no trailing blanks, and reset the count. */
    size_t len = strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    char *trimmed = xmalloc(len + 1);
    if (!trimmed) {
        agseterrf(old);
        agseterr(old_level);
        return diag_error(d, diag_at_file(file), "out of memory reading the graph");
    }
    memcpy(trimmed, text, len);
    trimmed[len] = '\0';
    agreadline(1);
    Agraph_t *dot = agmemread(trimmed);
    free(trimmed);
    flush_capture();
    agseterrf(old);
    agseterr(old_level);
    if (!dot) {
        if (capture.reported == 0)
            diag_error(d, (diag_loc){file, capture.last_line, 0}, "DOT: the graph could not be read (truncated?)");
        return -1;
    }
    if (!agisdirected(dot)) {
        agclose(dot);
        return diag_error(d, (diag_loc){file, 1, 0}, "an undirected graph: a dataflow graph must be a digraph");
    }
    tokens ts = {0};
    tokenize(text, &ts);
    if (index_tokens(&ts) != 0) {
        free(ts.t), free(ts.by_name), free(ts.edges);
        agclose(dot);
        return diag_error(d, diag_at_file(file), "out of memory reading the graph");
    }

    for (Agnode_t *v = agfstnode(dot); v; v = agnxtnode(dot, v)) {
        imp_node n = {0};
        n.asap = n.alap = -1;
        n.name = arena_strdup(&g->arena, agnameof(v));
        if (!n.name) {
            diag_error(d, diag_at_file(file), "out of memory reading the graph");
            break;
        }
        int second;
        n.line = node_line(&ts, n.name, &second);
        diag_loc at = {file, n.line, 0};
        if (second) {
            diag_error(d, (diag_loc){file, second, 0}, "duplicate node '%s' (first declared at line %d)", n.name,
                       n.line);
            continue;
        }
        const char *op = get(v, "opcode");
        if (!op) {
            bool used = agfstedge(dot, v) != NULL;
            diag_error(d, at, used ? "dangling edge: node '%s' is used by an edge but never declared with an opcode"
                                   : "node '%s' has no opcode", n.name);
            continue;
        }
        n.op = arena_strdup(&g->arena, op);
        n.info = imp_opcode_find(op);
        if (!n.info) {
            diag_error(d, at, "unknown opcode '%s' (node %s); the accepted opcodes are the table in docs/import.md",
                       op, n.name);
            continue;
        }
        const char *value = get(v, "value");
        if (value && parse_int(value, &n.const_value))
            n.has_const = true;
        const char *array = get(v, "array");
        if (array)
            n.base = arena_strdup(&g->arena, array);
        if (!n.op || (array && !n.base)) {
            diag_error(d, at, "out of memory reading the graph");
            break;
        }
        if (imp_graph_add_node(g, &n) < 0)
            diag_error(d, at, "out of memory");
    }
    bool *explicit_dist = NULL;
    if (d->n_errors == errors) {
        int n_edges = 0;
        for (Agnode_t *v = agfstnode(dot); v; v = agnxtnode(dot, v))
            for (Agedge_t *e = agfstout(dot, v); e; e = agnxtout(dot, e))
                n_edges++;
        explicit_dist = xcalloc((size_t)n_edges + 1, sizeof *explicit_dist);
        for (Agnode_t *v = agfstnode(dot); v && explicit_dist; v = agnxtnode(dot, v)) {
            int first_out = g->n_edges;   /* v's out-edges are added together */
            for (Agedge_t *e = agfstout(dot, v); e; e = agnxtout(dot, e)) {
                const char *src = agnameof(agtail(e)), *dst = agnameof(aghead(e));
                imp_edge ed = {imp_graph_find(g, src), imp_graph_find(g, dst), 0, false, -1, 0};
                int k = 0;   /* earlier edges src -> dst: this is the k-th statement */
                for (int i = first_out; i < g->n_edges; i++)
                    k += g->edge[i].src == ed.src && g->edge[i].dst == ed.dst;
                ed.line = edge_line(&ts, src, dst, k);
                diag_loc at = {file, ed.line, 0};
                long long v64;
                const char *operand = get(e, "operand");
                if (operand) {
                    if (!parse_int(operand, &v64) || v64 < 0 || v64 > 64) {
                        diag_error(d, at, "edge %s -> %s: operand=%s is not an operand number", src, dst, operand);
                        continue;
                    }
                    ed.operand = (int)v64;
                }
                const char *dist = get(e, "dist");
                if (!dist)
                    dist = get(e, "distance");
                bool marked = false;
                if (dist) {
                    if (!parse_int(dist, &v64) || v64 < 0 || v64 > 1000) {
                        diag_error(d, at, "edge %s -> %s: dist=%s is not an iteration distance", src, dst, dist);
                        continue;
                    }
                    ed.distance = (int)v64;
                    marked = true;
                }
                const char *back = get(e, "backedge");
                if (back && (strcasecmp(back, "true") == 0 || strcmp(back, "1") == 0)) {
                    if (ed.distance == 0)
                        ed.distance = 1;
                    marked = true;
                }
                const char *pred = get(e, "predicate");
                ed.predicate = pred && (strcasecmp(pred, "true") == 0 || strcmp(pred, "1") == 0);
                int idx = imp_graph_add_edge(g, &ed);
                if (idx < 0)
                    diag_error(d, at, "out of memory");
                else
                    explicit_dist[idx] = marked;
            }
        }
        if (!explicit_dist)
            diag_error(d, diag_at_file(file), "out of memory");
        else if (d->n_errors == errors) {
            mark_phi_backedges(g, explicit_dist);
            if (!ro->strict && mark_dfs_backedges(g, file, d) != 0)
                diag_error(d, diag_at_file(file), "out of memory");
        }
    }
    if (d->n_errors == errors && g->n_nodes == 0)
        diag_error(d, (diag_loc){file, 1, 0}, "the graph has no nodes");
    free(explicit_dist);
    free(ts.t), free(ts.by_name), free(ts.edges);
    agclose(dot);
    return d->n_errors > errors ? -1 : 0;
}
