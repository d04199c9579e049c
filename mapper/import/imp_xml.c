/*
 * imp_xml.c — reader of Morpher's DFG XML.
 *
 *   <MutexBB> ... </MutexBB>
 *   <DFG count="10">
 *   <Node idx="4" ASAP="1" ALAP="2"BB="for.body"CONST="1">
 *   <OP>ADD</OP>
 *   <BasePointerName size="128">A</BasePointerName>      (memory ops, optional)
 *   <Inputs> <Input idx="15"/> </Inputs>
 *   <Outputs> <Output idx="5" nextiter="0" type="I1"/> </Outputs>
 *   <RecParents> </RecParents>
 *   </Node> ...
 *   </DFG>
 *
 * Morpher writes these files by hand-rolled printing, and they are not
 * well-formed: two top-level elements, attributes run together with no
 * space (`ALAP="2"BB=`), and in matrixmultiply.xml two <Output> tags run
 * together with their `type` and `/>` lost.  They are read in three steps:
 *
 *  1. A lexical repair that libxml2 cannot do: a blank is put between a
 *     closing quote and the next attribute name inside a tag.  (libxml2's
 *     recover mode drops every attribute after such a point, which would
 *     silently lose BB and CONST.)  One warning, at the first such line,
 *     lists every line repaired.  The text is wrapped in one synthetic root element, on
 *     line 1, so that line numbers do not move.
 *  2. libxml2 in recover mode (XML_PARSE_RECOVER), its messages captured by
 *     a structured error handler and never printed.  Every message inside
 *     the file becomes a warning at its line ("repaired: ..."); a message
 *     that says the document ended inside an open element is an error: the
 *     file is truncated.
 *  3. A walk of the tree that checks what recovery may have lost: a node
 *     without idx or OP, an edge to an idx that does not exist, an opcode
 *     not in the table, a DFG count= that disagrees with the number of
 *     nodes.  Each is an error at FILE:LINE.
 * An idx declared twice is read as Morpher's own reader reads it (DFG::
 * parseXML in ecolab-nus/Morpher_CGRA_Mapper): every <Node> element is a
 * node, and DFG::findNode returns the first node with an idx, so the edges
 * a later twin lists, and every edge to that idx, belong to the first; the
 * twin stays in the graph with no edge at all.  Here the twin is named
 * "IDX#K" (its K-th declaration), and the repair is a warning at its line.
 * With imp_read_opts.strict it is an error instead.
 * Edges come from <Output>: nextiter="1" is a loop-carried edge (distance
 * 1), type P/PS a predicate, I1/I2 operand 0/1.  <Input> lists are checked
 * against the outputs and a disagreement is a warning.
 */
#include "mapper/import/imp_internal.h"
#include "util/alloc.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#define WRAP_OPEN "<rdumap-morpher-dfg>"
#define WRAP_NAME "rdumap-morpher-dfg"

/* ------------------------------------------------- step 1: lexical repair */

/* Copy text, inserting a blank between a closing quote inside a tag and a
 * following attribute name.  Returns a malloc'd string or NULL; counts the
 * repairs and lists the lines they are on. */
typedef struct line_list {
    int *line;
    int n, cap;
} line_list;

/* Record a repaired line once (repairs arrive in line order). */
static void note_line(line_list *l, int line)
{
    if (l->n > 0 && l->line[l->n - 1] == line)
        return;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        int *bigger = xrealloc(l->line, (size_t)cap * sizeof *bigger);
        if (!bigger)
            return;
        l->line = bigger;
        l->cap = cap;
    }
    l->line[l->n++] = line;
}

static char *separate_attributes(const char *text, int *count, line_list *lines)
{
    size_t n = strlen(text);
    char *out = xmalloc(sizeof WRAP_OPEN + 2 * n + 32);
    if (!out)
        return NULL;
    size_t o = 0, start = 0;
    int line = 1;
    /* An XML declaration must stay first: the wrapper goes after it. */
    if (strncmp(text, "<?xml", 5) == 0) {
        const char *end = strstr(text, "?>");
        start = end ? (size_t)(end - text) + 2 : 0;
        for (size_t i = 0; i < start; i++) {
            out[o++] = text[i];
            line += text[i] == '\n';
        }
    }
    memcpy(out + o, WRAP_OPEN, sizeof WRAP_OPEN - 1);
    o += sizeof WRAP_OPEN - 1;
    bool in_tag = false;
    char quote = 0;
    *count = 0;
    for (size_t i = start; i < n; i++) {
        char c = text[i];
        out[o++] = c;
        if (c == '\n')
            line++;
        if (quote) {
            if (c == quote) {
                quote = 0;
                char next = text[i + 1];
                if (isalpha((unsigned char)next) || next == '_') {
                    out[o++] = ' ';
                    (*count)++;
                    note_line(lines, line);
                }
            }
        } else if (in_tag) {
            if (c == '"' || c == '\'')
                quote = c;
            else if (c == '>')
                in_tag = false;
        } else if (c == '<') {
            if (strncmp(text + i, "<!--", 4) == 0) {
                const char *end = strstr(text + i + 4, "-->");
                size_t stop = end ? (size_t)(end - text) + 3 : n;
                for (size_t k = i + 1; k < stop; k++) {
                    out[o++] = text[k];
                    line += text[k] == '\n';
                }
                i = stop - 1;
            } else {
                in_tag = true;
            }
        }
    }
    memcpy(out + o, "\n</" WRAP_NAME ">", sizeof "\n</" WRAP_NAME ">");
    return out;
}

/* ------------------------------------------- step 2: libxml2, captured */

typedef struct xml_capture {
    diag_list *d;
    const char *file;
    int last_line;        /* lines in the original text */
    bool truncated;       /* reported once */
    int repairs;
    int last_repair_line; /* collapse libxml2's several messages per defect */
} xml_capture;

static void trim_newline(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

#if LIBXML_VERSION >= 21200
static void on_xml_error(void *user, const xmlError *e)
#else
static void on_xml_error(void *user, xmlErrorPtr e)
#endif
{
    xml_capture *cap = user;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", e->message ? e->message : "malformed XML");
    trim_newline(msg);
    bool mentions_wrap = (e->str1 && strcmp(e->str1, WRAP_NAME) == 0) ||
                         (e->str2 && strcmp(e->str2, WRAP_NAME) == 0);
    if (e->code == XML_ERR_TAG_NOT_FINISHED || mentions_wrap || e->line > cap->last_line) {
        if (cap->truncated)
            return;
        cap->truncated = true;
        diag_loc at = {cap->file, cap->last_line, 0};
        if (e->str1 && strcmp(e->str1, WRAP_NAME) != 0 && e->int1 > 0)
            diag_error(cap->d, at, "the file ends inside <%s>, opened at line %d: truncated",
                       e->str1, e->int1);
        else
            diag_error(cap->d, at, "the file ends inside an open element: truncated (%s)", msg);
        return;
    }
    if (e->level == XML_ERR_WARNING)
        return;
    /* libxml2 says three things about one broken tag; one warning a line. */
    if (e->line == cap->last_repair_line)
        return;
    cap->last_repair_line = e->line;
    cap->repairs++;
    diag_loc at = {cap->file, e->line, 0};
    diag_warning(cap->d, at, "malformed XML, recovered: %s", msg);
}

/* ------------------------------------------------------ step 3: the walk */

static bool is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* An attribute's value copied into the arena, or NULL. */
static const char *attr(imp_graph *g, xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (!v)
        return NULL;
    char *s = arena_strdup(&g->arena, (const char *)v);
    xmlFree(v);
    return s;
}

static const char *text_of(imp_graph *g, xmlNode *n)
{
    xmlChar *v = xmlNodeGetContent(n);
    if (!v)
        return NULL;
    const char *s = (const char *)v;
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    char *copy = arena_strndup(&g->arena, s, len);
    xmlFree(v);
    return copy;
}

static bool parse_ll(const char *s, long long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static int line_of(const xmlNode *n)
{
    long l = xmlGetLineNo(n);
    return l > 0 && l < INT_MAX ? (int)l : 0;
}

/* Edges are read before every node is known; resolved after the walk. */
typedef struct pending {
    int src;
    const char *dst;
    int distance;
    bool predicate;
    int operand;
    int line;
    bool input;        /* from <Input> (a cross-check), not <Output> */
} pending;

typedef struct walk {
    imp_graph *g;
    diag_list *d;
    const char *file;
    bool strict;
    pending *edges;
    int n_edges, cap_edges;
    int n_node_elements;
} walk;

static int push_pending(walk *w, const pending *p)
{
    if (w->n_edges == w->cap_edges) {
        int cap = w->cap_edges ? 2 * w->cap_edges : 64;
        pending *bigger = xrealloc(w->edges, (size_t)cap * sizeof *bigger);
        if (!bigger)
            return -1;
        w->edges = bigger;
        w->cap_edges = cap;
    }
    w->edges[w->n_edges++] = *p;
    return 0;
}

static void read_edges(walk *w, int self, xmlNode *list, bool inputs)
{
    for (xmlNode *c = list->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        diag_loc at = {w->file, line_of(c), 0};
        if (!is(c, inputs ? "Input" : "Output")) {
            diag_warning(w->d, at, "unexpected <%s> in <%s>, ignored", (const char *)c->name,
                         (const char *)list->name);
            continue;
        }
        pending p = {self, attr(w->g, c, "idx"), 0, false, -1, at.line, inputs};
        if (!p.dst) {
            diag_error(w->d, at, "<%s> without idx", (const char *)c->name);
            continue;
        }
        if (!inputs) {
            const char *next = attr(w->g, c, "nextiter");
            long long dist = 0;
            if (next && (!parse_ll(next, &dist) || dist < 0 || dist > 1000)) {
                diag_error(w->d, at, "nextiter=\"%s\" is not an iteration distance (0 or more)", next);
                continue;
            }
            if (!next)
                diag_warning(w->d, at, "<Output> without nextiter, taken as 0 (same iteration)");
            p.distance = (int)dist;
            const char *type = attr(w->g, c, "type");
            if (!type) {
                diag_warning(w->d, at, "<Output idx=\"%s\"> without type, taken as a data edge", p.dst);
            } else if (strcmp(type, "P") == 0 || strcmp(type, "PS") == 0) {
                p.predicate = true;
            } else if (strcmp(type, "I1") == 0) {
                p.operand = 0;
            } else if (strcmp(type, "I2") == 0) {
                p.operand = 1;
            } else if (strcmp(type, "I3") == 0) {
                p.operand = 2;
            } else {
                diag_warning(w->d, at, "unknown edge type \"%s\", taken as a data edge", type);
            }
        }
        if (push_pending(w, &p) != 0)
            diag_error(w->d, at, "out of memory");
    }
}

static void read_node(walk *w, xmlNode *x)
{
    imp_graph *g = w->g;
    diag_loc at = {w->file, line_of(x), 0};
    w->n_node_elements++;
    imp_node n = {0};
    n.line = at.line;
    n.asap = n.alap = -1;
    n.name = attr(g, x, "idx");
    if (!n.name) {
        diag_error(w->d, at, "<Node> without idx");
        return;
    }
    long long v;
    if (!parse_ll(n.name, &v)) {
        diag_error(w->d, at, "node idx=\"%s\" is not an integer", n.name);
        return;
    }
    /* A twin of an earlier idx: its edges belong to that node (owner). */
    int owner = imp_graph_find(g, n.name);
    if (owner >= 0 && w->strict) {
        diag_error(w->d, at, "duplicate node idx %s (first declared at line %d); --strict refuses it",
                   n.name, g->node[owner].line);
        return;
    }
    const char *s;
    if ((s = attr(g, x, "ASAP")) && parse_ll(s, &v) && v >= 0 && v < INT_MAX)
        n.asap = (int)v;
    if ((s = attr(g, x, "ALAP")) && parse_ll(s, &v) && v >= 0 && v < INT_MAX)
        n.alap = (int)v;
    if ((s = attr(g, x, "CONST"))) {
        if (!parse_ll(s, &n.const_value)) {
            diag_error(w->d, at, "node %s: CONST=\"%s\" is not an integer", n.name, s);
            return;
        }
        n.has_const = true;
    }
    xmlNode *outputs = NULL, *inputs = NULL;
    for (xmlNode *c = x->children; c; c = c->next) {
        if (is(c, "OP")) {
            n.op = text_of(g, c);
        } else if (is(c, "BasePointerName")) {
            n.base = text_of(g, c);
        } else if (is(c, "Outputs")) {
            outputs = c;
        } else if (is(c, "Inputs")) {
            inputs = c;
        } else if (is(c, "Node")) {
            diag_warning(w->d, (diag_loc){w->file, line_of(c), 0},
                         "<Node> nested inside node %s (an unclosed tag?), read as its sibling", n.name);
        }
    }
    if (!n.op || !*n.op) {
        diag_error(w->d, at, "node %s has no <OP>", n.name);
        return;
    }
    n.info = imp_opcode_find(n.op);
    if (!n.info) {
        diag_error(w->d, at, "unknown opcode '%s' (node %s); the accepted opcodes are the table in docs/import.md",
                   n.op, n.name);
        return;
    }
    if (owner >= 0) {
        /* "88#2": the second declaration of idx 88 (and so on). */
        const char *idx = n.name;
        char twin_name[64];
        int k = 2;
        do
            snprintf(twin_name, sizeof twin_name, "%.40s#%d", idx, k++);
        while (imp_graph_find(g, twin_name) >= 0);
        n.name = arena_strdup(&g->arena, twin_name);
        if (!n.name) {
            diag_error(w->d, at, "out of memory");
            return;
        }
        diag_warning(w->d, at,
                     "duplicate node idx %s (first declared at line %d): read as Morpher reads it, the "
                     "first node with idx %s owns this node's edges and every edge to idx %s; this %s "
                     "stays in the graph as %s, with no edge",
                     idx, g->node[owner].line, idx, idx, n.op, n.name);
    }
    int self = imp_graph_add_node(g, &n);
    if (self < 0) {
        diag_error(w->d, at, "out of memory");
        return;
    }
    if (owner >= 0)
        self = owner;
    if (outputs)
        read_edges(w, self, outputs, false);
    if (inputs)
        read_edges(w, self, inputs, true);
    /* A node nested by a broken tag is still a node. */
    for (xmlNode *c = x->children; c; c = c->next)
        if (is(c, "Node"))
            read_node(w, c);
}

static int compare_keys(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Resolve pending edges to node indices (outputs first), then check each
 * <Input> against the outputs, looked up in a sorted list of (src, dst). */
static void resolve_edges(walk *w)
{
    imp_graph *g = w->g;
    long long *keys = NULL;
    for (int pass = 0; pass < 2; pass++) {
        bool inputs = pass == 1;
        if (inputs) {
            keys = xmalloc(((size_t)g->n_edges + 1) * sizeof *keys);
            if (!keys) {
                diag_error(w->d, diag_at_file(w->file), "out of memory");
                return;
            }
            for (int e = 0; e < g->n_edges; e++)
                keys[e] = (long long)g->edge[e].src * ((long long)g->n_nodes + 1) + g->edge[e].dst;
            qsort(keys, (size_t)g->n_edges, sizeof *keys, compare_keys);
        }
        for (int i = 0; i < w->n_edges; i++) {
            const pending *p = &w->edges[i];
            if (p->input != inputs)
                continue;
            diag_loc at = {w->file, p->line, 0};
            int other = imp_graph_find(g, p->dst);
            if (other < 0) {
                diag_error(w->d, at, "dangling edge: node %s %s node %s, which does not exist",
                           g->node[p->src].name, inputs ? "lists an input from" : "has an output to", p->dst);
                continue;
            }
            if (!inputs) {
                imp_edge e = {p->src, other, p->distance, p->predicate, p->operand, p->line};
                if (imp_graph_add_edge(g, &e) < 0)
                    diag_error(w->d, at, "out of memory");
                continue;
            }
            long long key = (long long)other * ((long long)g->n_nodes + 1) + p->src;
            if (!bsearch(&key, keys, (size_t)g->n_edges, sizeof *keys, compare_keys))
                diag_warning(w->d, at, "node %s lists an input from node %s, which has no output to it; ignored",
                             g->node[p->src].name, p->dst);
        }
    }
    free(keys);
}

int imp_read_morpher(imp_graph *g, const char *file, const char *text, const imp_read_opts *ro, diag_list *d)
{
    int errors = d->n_errors;
    int repairs = 0;
    line_list lines = {0};
    char *fixed = separate_attributes(text, &repairs, &lines);
    if (!fixed) {
        free(lines.line);
        return diag_error(d, diag_at_file(file), "out of memory reading the graph");
    }
    if (repairs > 0 && lines.n > 0) {
        /* One warning at the first line that names every repaired line: each
         * repair is reported, without a hundred identical messages. */
        size_t len = 16 + 12 * (size_t)lines.n, used = 0;
        char *list = xmalloc(len);
        for (int i = 0; list && i < lines.n; i++)
            used += (size_t)snprintf(list + used, len - used, "%s%d", i ? ", " : "", lines.line[i]);
        diag_loc at = {file, lines.line[0], 0};
        diag_warning(d, at, "malformed XML, recovered: attributes run together with no blank between them "
                            "(%d %s) on line%s %s; separated", repairs,
                     repairs == 1 ? "occasion" : "occasions", lines.n == 1 ? "" : "s", list ? list : "?");
        free(list);
    }
    free(lines.line);
    xml_capture cap = {d, file, 1, false, 0, 0};
    for (const char *p = text; *p; p++)
        cap.last_line += *p == '\n';
    if (text[0] && text[strlen(text) - 1] == '\n')
        cap.last_line--;

    xmlSetStructuredErrorFunc(&cap, on_xml_error);
    xmlDoc *doc = xmlReadMemory(fixed, (int)strlen(fixed), file, NULL,
                                XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_BIG_LINES |
                                XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlSetStructuredErrorFunc(NULL, NULL);
    free(fixed);
    if (!doc)
        return diag_error(d, diag_at_file(file), "not understood as Morpher DFG XML");

    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *dfg = NULL;
    int n_dfg = 0;
    for (xmlNode *c = root ? root->children : NULL; c; c = c->next) {
        if (is(c, "DFG")) {
            if (n_dfg++ == 0)
                dfg = c;
            else
                diag_error(d, (diag_loc){file, line_of(c), 0}, "a second <DFG> (the first is at line %d)",
                           line_of(dfg));
        } else if (c->type == XML_ELEMENT_NODE && !is(c, "MutexBB")) {
            diag_warning(d, (diag_loc){file, line_of(c), 0}, "unexpected top-level <%s>, ignored",
                         (const char *)c->name);
        }
    }
    if (!dfg) {
        xmlFreeDoc(doc);
        if (d->n_errors > errors)
            return -1;
        return diag_error(d, (diag_loc){file, 1, 0}, "no <DFG> element: not a Morpher DFG XML");
    }
    walk w = {g, d, file, ro->strict, NULL, 0, 0, 0};
    for (xmlNode *c = dfg->children; c; c = c->next) {
        if (is(c, "Node"))
            read_node(&w, c);
        else if (c->type == XML_ELEMENT_NODE)
            diag_warning(d, (diag_loc){file, line_of(c), 0}, "unexpected <%s> in <DFG>, ignored",
                         (const char *)c->name);
    }
    if (d->n_errors == errors)
        resolve_edges(&w);
    free(w.edges);
    const char *count = (const char *)xmlGetProp(dfg, (const xmlChar *)"count");
    long long declared;
    if (count && parse_ll(count, &declared) && declared != w.n_node_elements && !cap.truncated)
        diag_error(d, (diag_loc){file, line_of(dfg), 0},
                   "<DFG count=\"%lld\"> but the file has %d <Node> elements: truncated or damaged",
                   declared, w.n_node_elements);
    xmlFree((xmlChar *)count);
    if (w.n_node_elements == 0 && d->n_errors == errors)
        diag_error(d, (diag_loc){file, line_of(dfg), 0}, "<DFG> has no <Node>");
    xmlFreeDoc(doc);
    return d->n_errors > errors ? -1 : 0;
}
