/*
 * onnx_ops.c — each supported ONNX operator, written once as a
 * parallel-pattern template in `.pat` text.
 *
 * The nodes are visited in graph order.  Each one infers its outputs'
 * static types and then takes one of four routes:
 *  - fold: every input is a known constant and the output is small (shape
 *    arithmetic: Shape, Gather, Concat, Unsqueeze, ...): its values are
 *    computed here and never reach the program;
 *  - view: a reshape-like operator (Transpose, Reshape, Flatten, Squeeze,
 *    Unsqueeze, Slice, Identity) becomes index arithmetic on its input, so
 *    whoever reads it indexes the input directly: no copy;
 *  - inline: an element-wise operator whose one reader is element-wise and
 *    as large is an expression that the reader evaluates in place;
 *  - define: otherwise a buffer (or the graph output) defined by the
 *    operator's template: `map` over the output's indices, with `reduce`
 *    for contractions, reductions, normalisations and windows.
 * A graph output is always a definition (of an `output`).
 *
 * Reading a value at an index (access()) is where the routes meet: a
 * declaration is indexed, a view maps the index onto its base, an inlined
 * expression is generated at that index, a one-element constant is a
 * literal, and a larger constant is declared an input whose values the
 * model supplies.
 *
 * Names: the decomposition's own names begin with '_' (_i0 for the output's
 * indices, _k0 for reduction indices, _j0 for inner maps, _t1 for lets),
 * which the reader's names never do.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "patterns/onnx/onnx_internal.h"

/* Largest constant computed at read time (shape arithmetic, small views). */
enum { FOLD_MAX = 1 << 16 };

/* ------------------------------------------------------------------ */
/* Diagnostics and text                                                */

int ox_node_error(ox_ctx *c, const ox_node *n, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *name = n->p->name && *n->p->name ? n->p->name : NULL;
    if (name)
        return diag_error(c->d, diag_at_file(c->path), "node %d '%s' (%s, opset %" PRId64 "): %s", n->pos, name,
                          n->op, n->opset, msg);
    return diag_error(c->d, diag_at_file(c->path), "node %d (%s, opset %" PRId64 "): %s", n->pos, n->op, n->opset,
                      msg);
}

static void append(ox_ctx *c, char **buf, size_t *len, size_t *cap, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
static void append(ox_ctx *c, char **buf, size_t *len, size_t *cap, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int need = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (need < 0) {
        c->oom = true;
        return;
    }
    if (*len + (size_t)need + 1 > *cap) {
        size_t nc = (*cap ? *cap * 2 : 4096);
        while (nc < *len + (size_t)need + 1)
            nc *= 2;
        char *nb = realloc(*buf, nc);
        if (!nb) {
            c->oom = true;
            return;
        }
        *buf = nb;
        *cap = nc;
    }
    vsnprintf(*buf + *len, (size_t)need + 1, fmt, ap);
    *len += (size_t)need;
}

static void put_decl(ox_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_decl(ox_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    append(c, &c->decls, &c->n_decls_text, &c->cap_decls_text, fmt, ap);
    va_end(ap);
}

static void put_def(ox_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_def(ox_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    append(c, &c->defs, &c->n_defs_text, &c->cap_defs_text, fmt, ap);
    va_end(ap);
}

/* arena printf that records running out of memory and never returns NULL */
static const char *S(ox_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *S(ox_ctx *c, const char *fmt, ...)
{
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int need = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    char *s = need >= 0 ? arena_alloc(c->a, (size_t)need + 1) : NULL;
    if (s)
        vsnprintf(s, (size_t)need + 1, fmt, ap);
    va_end(ap);
    if (!s) {
        c->oom = true;
        return "0";
    }
    return s;
}

/* A literal of element type e. */
static const char *lit(ox_ctx *c, double x, pat_elem e)
{
    if (e == PAT_I32) {
        if (x == INT32_MIN)
            return "(-2147483647 - 1)";
        return x < 0 ? S(c, "(-%.0f)", -x) : S(c, "%.0f", x);
    }
    float f = (float)x;
    char buf[64];
    snprintf(buf, sizeof buf, "%.9g", (double)fabsf(f));
    if (!strpbrk(buf, ".e"))
        strcat(buf, ".0");
    return f < 0 || (f == 0 && signbit(f)) ? S(c, "(-%s)", buf) : S(c, "%s", buf);
}

static const char *type_text(ox_ctx *c, const pat_type *t)
{
    char buf[160];
    return S(c, "%s", pat_type_str(t, buf, sizeof buf));
}

static int64_t count_of(const pat_type *t)
{
    return pat_type_count(t);
}

/* ------------------------------------------------------------------ */
/* Attributes                                                          */

static const Onnx__AttributeProto *attr(const ox_node *n, const char *name)
{
    for (size_t k = 0; k < n->p->n_attribute; k++)
        if (n->p->attribute[k]->name && !strcmp(n->p->attribute[k]->name, name))
            return n->p->attribute[k];
    return NULL;
}

static int64_t attr_i(const ox_node *n, const char *name, int64_t def)
{
    const Onnx__AttributeProto *at = attr(n, name);
    return at && at->has_i ? at->i : at && at->has_f ? (int64_t)at->f : def;
}

static double attr_f(const ox_node *n, const char *name, double def)
{
    const Onnx__AttributeProto *at = attr(n, name);
    return at && at->has_f ? (double)at->f : at && at->has_i ? (double)at->i : def;
}

/* The ints of attribute `name` (up to max) into out; their count, or -1 when absent. */
static int attr_ints(const ox_node *n, const char *name, int64_t *out, int max)
{
    const Onnx__AttributeProto *at = attr(n, name);
    if (!at)
        return -1;
    int k = 0;
    for (; k < (int)at->n_ints && k < max; k++)
        out[k] = at->ints[k];
    return (int)at->n_ints > max ? max + 1 : k;
}

static const char *attr_s(ox_ctx *c, const ox_node *n, const char *name, const char *def)
{
    const Onnx__AttributeProto *at = attr(n, name);
    if (!at || !at->has_s)
        return def;
    char *s = arena_strndup(c->a, (const char *)at->s.data, at->s.len);
    if (!s)
        c->oom = true;
    return s ? s : def;
}

/* ------------------------------------------------------------------ */
/* Declarations and access                                             */

static int declare(ox_ctx *c, ox_value *v, pat_decl_kind kind)
{
    if (v->declared)
        return 0;
    if (!v->pat && !(v->pat = ox_pat_name(c, v->name))) {
        c->oom = true;
        return -1;
    }
    v->declared = true;
    const char *ty = type_text(c, &v->type);
    if (kind == PAT_INPUT) {
        v->form = OXF_DECL;
        if (v->known)
            put_decl(c, "input  %s : %s   # %s '%s', from the model\n", v->pat, ty,
                     v->is_init ? "initializer" : "constant", v->name);
        else if (v->has_gen)
            put_decl(c, "input  %s : %s in %" PRId64 " .. %" PRId64 "   # graph input %d\n", v->pat, ty, v->gen_lo,
                     v->gen_hi, v->graph_input);
        else
            put_decl(c, "input  %s : %s   # graph input %d\n", v->pat, ty, v->graph_input);
    } else
        put_decl(c, "%s %s : %s\n", kind == PAT_OUTPUT ? "output" : "buffer", v->pat, ty);
    return 0;
}

static const char *access(ox_ctx *c, ox_value *v, const char *const *idx);
static const char *ew_expr(ox_ctx *c, ox_node *n, const char *const *idx);
static void materialize(ox_ctx *c, ox_value *v);
static const char *reexpr(ox_ctx *c, ox_value *v, const char *const *idx);
static bool ew_of_node(const ox_node *n);

/* Numeric index of the base of view v at index idx of v. */
static void view_base_num(const ox_value *v, const int64_t *idx, int64_t *bidx)
{
    const ox_value *b = v->base;
    switch (v->view) {
    case OXV_PERM:
        for (int k = 0; k < v->type.rank; k++)
            bidx[v->perm[k]] = idx[k];
        break;
    case OXV_SLICE:
        for (int k = 0; k < v->type.rank; k++)
            bidx[k] = v->start[k] + v->step[k] * idx[k];
        break;
    case OXV_BCAST:
        for (int k = 0; k < b->type.rank; k++)
            bidx[k] = b->type.dims[k] == 1 ? 0 : idx[v->type.rank - b->type.rank + k];
        break;
    case OXV_TILE:
        for (int k = 0; k < b->type.rank; k++)
            bidx[k] = idx[k] % b->type.dims[k];
        break;
    case OXV_RESHAPE: {
        int64_t flat = 0;
        for (int k = 0; k < v->type.rank; k++)
            flat = flat * v->type.dims[k] + idx[k];
        for (int k = b->type.rank - 1; k >= 0; k--) {
            bidx[k] = flat % b->type.dims[k];
            flat /= b->type.dims[k];
        }
        break;
    }
    }
}

/* The base's index expressions of view v at index idx. */
static void view_base_text(ox_ctx *c, const ox_value *v, const char *const *idx, const char **bidx)
{
    const ox_value *b = v->base;
    switch (v->view) {
    case OXV_PERM:
        for (int k = 0; k < v->type.rank; k++)
            bidx[v->perm[k]] = idx[k];
        break;
    case OXV_SLICE:
        for (int k = 0; k < v->type.rank; k++) {
            int64_t s = v->start[k], st = v->step[k];
            if (b->type.dims[k] == 1)
                bidx[k] = "0";
            else if (s == 0 && st == 1)
                bidx[k] = idx[k];
            else if (st == 1)
                bidx[k] = S(c, "(%s + %" PRId64 ")", idx[k], s);
            else if (s == 0)
                bidx[k] = S(c, "(%s * %" PRId64 ")", idx[k], st);
            else
                bidx[k] = S(c, "(%" PRId64 " + %s * %" PRId64 ")", s, idx[k], st);
        }
        break;
    case OXV_BCAST:
        for (int k = 0; k < b->type.rank; k++)
            bidx[k] = b->type.dims[k] == 1 ? "0" : idx[v->type.rank - b->type.rank + k];
        break;
    case OXV_TILE:
        for (int k = 0; k < b->type.rank; k++)
            bidx[k] = b->type.dims[k] == v->type.dims[k] ? idx[k] : b->type.dims[k] == 1 ? "0"
                    : S(c, "(%s %% %d)", idx[k], b->type.dims[k]);
        break;
    case OXV_RESHAPE: {
        /* Dimensions of 1 come and go freely.  The others fall into groups
         * whose sizes multiply to the same number on both sides (a split,
         * a merge, or one to one): within a group the base index is the
         * group's flat index taken apart, so a reshape that only splits or
         * merges needs no division at all on the merging side. */
        int vd[PAT_MAX_RANK], bd[PAT_MAX_RANK], nv = 0, nb = 0;
        for (int k = 0; k < v->type.rank; k++)
            if (v->type.dims[k] != 1)
                vd[nv++] = k;
        for (int k = 0; k < b->type.rank; k++) {
            bidx[k] = "0";
            if (b->type.dims[k] != 1)
                bd[nb++] = k;
        }
        int i = 0, j = 0;
        while (i < nv && j < nb) {
            int i0 = i, j0 = j;
            int64_t pv = v->type.dims[vd[i++]], pb = b->type.dims[bd[j++]];
            while (pv != pb && (i < nv || j < nb)) {
                if ((pv < pb && i < nv) || j == nb)
                    pv *= v->type.dims[vd[i++]];
                else
                    pb *= b->type.dims[bd[j++]];
            }
            const char *flat = NULL;
            int64_t stride = 1;
            for (int q = i - 1; q >= i0; q--) {
                const char *ix = idx[vd[q]];
                const char *term = stride == 1 ? ix : S(c, "%s * %" PRId64, ix, stride);
                flat = flat ? S(c, "%s + %s", term, flat) : term;
                stride *= v->type.dims[vd[q]];
            }
            const char *pf = i - i0 > 1 ? S(c, "(%s)", flat) : flat;
            stride = 1;
            for (int q = j - 1; q >= j0; q--) {
                int k = bd[q];
                const char *e = stride == 1 ? pf : S(c, "%s / %" PRId64, pf, stride);
                bidx[k] = q == j0 ? e : S(c, "(%s%s%s %% %d)", stride == 1 ? "" : "(", e, stride == 1 ? "" : ")",
                                          b->type.dims[k]);
                stride *= b->type.dims[k];
            }
        }
        break;
    }
    }
}

/* The element of v at index idx (idx has v's rank) as an expression. */
static const char *access(ox_ctx *c, ox_value *v, const char *const *idx)
{
    if (v->form == OXF_VIEW) {
        const char *bidx[PAT_MAX_RANK];
        view_base_text(c, v, idx, bidx);
        return access(c, v->base, bidx);
    }
    if (v->form == OXF_EXPR)
        return reexpr(c, v, idx);
    if (v->known && !v->declared && count_of(&v->type) == 1 && isfinite((float)v->kv[0]))
        return lit(c, v->kv[0], v->type.elem);   /* .pat has no literal for inf or nan */
    if (!v->declared)
        declare(c, v, PAT_INPUT);
    if (v->type.rank == 0)
        return v->pat;
    size_t len = strlen(v->pat) + 1;
    for (int k = 0; k < v->type.rank; k++)
        len += strlen(idx[k]) + 2;
    char *s = arena_alloc(c->a, len);
    if (!s) {
        c->oom = true;
        return "0";
    }
    strcpy(s, v->pat);
    for (int k = 0; k < v->type.rank; k++) {
        strcat(s, "[");
        strcat(s, idx[k]);
        strcat(s, "]");
    }
    return s;
}

/* The element of operand v, broadcast (numpy rules) to an output of rank r
 * and dims od, at the output's index idx. */
static const char *access_bcast(ox_ctx *c, ox_value *v, int r, const char *const *idx)
{
    const char *vi[PAT_MAX_RANK];
    int q = v->type.rank;
    /* leading dimensions beyond the output's rank are 1 where shapes were
     * checked; index 0 stays in bounds where they were not */
    for (int k = 0; k < q; k++)
        vi[k] = v->type.dims[k] == 1 || r - q + k < 0 ? "0" : idx[r - q + k];
    return access(c, v, vi);
}

/* Index names prefix0 .. prefix{n-1}. */
static void names(ox_ctx *c, const char *prefix, int n, const char **out)
{
    for (int k = 0; k < n; k++)
        out[k] = S(c, "_%s%d", prefix, k);
}

/* "(_i0: 2, _i1: 3)" for the dims of t (from dimension `from`). */
static const char *index_list(ox_ctx *c, const char *const *nm, const int32_t *dims, int n)
{
    const char *s = "(";
    for (int k = 0; k < n; k++)
        s = S(c, "%s%s%s: %d", s, k ? ", " : "", nm[k], dims[k]);
    return S(c, "%s)", s);
}

static const char *fresh(ox_ctx *c)
{
    return S(c, "_t%d", ++c->fresh);
}

/* ------------------------------------------------------------------ */
/* Known constants                                                     */

static int set_known(ox_ctx *c, ox_value *v)
{
    int64_t n = count_of(&v->type);
    v->kv = arena_calloc(c->a, (size_t)n, sizeof *v->kv);
    if (!v->kv) {
        c->oom = true;
        return -1;
    }
    v->known = true;
    v->form = OXF_NONE;
    return 0;
}

static void unflat(const pat_type *t, int64_t flat, int64_t *idx)
{
    for (int k = t->rank - 1; k >= 0; k--) {
        idx[k] = flat % t->dims[k];
        flat /= t->dims[k];
    }
}

static int64_t flat_of(const pat_type *t, const int64_t *idx)
{
    int64_t f = 0;
    for (int k = 0; k < t->rank; k++)
        f = f * t->dims[k] + idx[k];
    return f;
}

/* Value of known-or-view-of-known v at flat index f of v. */
static double known_at(const ox_value *v, int64_t f)
{
    if (v->form != OXF_VIEW)
        return v->kv[f];
    int64_t idx[PAT_MAX_RANK], bidx[PAT_MAX_RANK];
    unflat(&v->type, f, idx);
    view_base_num(v, idx, bidx);
    return known_at(v->base, flat_of(&v->base->type, bidx));
}

static bool is_known(const ox_value *v)
{
    return v && (v->form == OXF_VIEW ? is_known(v->base) : v->known);
}

/* Make view v a known constant when its base is and it is small. */
static int fold_view(ox_ctx *c, ox_value *v)
{
    if (!is_known(v->base) || count_of(&v->type) > FOLD_MAX)
        return 0;
    int64_t n = count_of(&v->type);
    double *kv = arena_calloc(c->a, (size_t)n, sizeof *kv);
    if (!kv) {
        c->oom = true;
        return -1;
    }
    for (int64_t f = 0; f < n; f++)
        kv[f] = known_at(v, f);
    v->kv = kv;
    v->known = true;
    v->form = OXF_NONE;
    v->base = NULL;
    return 0;
}

/* The ints of a known 1-D (or scalar) input. */
static int known_ints(ox_ctx *c, ox_node *n, ox_value *v, const char *what, int64_t *out, int max)
{
    if (!v)
        return ox_node_error(c, n, "the %s input is missing", what);
    if (v->graph_input >= 0 && ox_input_known(c, v) < 0)
        return -1;
    if (!is_known(v))
        return ox_node_error(c, n, "the %s input '%s' must be a constant (rdumap needs every shape when it reads the "
                             "model; a graph input is read from --data as input_N.pb)", what, v->name);
    int64_t cnt = count_of(&v->type);
    if (v->type.rank > 1 || cnt > max)
        return ox_node_error(c, n, "the %s input '%s' must be a list of at most %d numbers", what, v->name, max);
    for (int64_t k = 0; k < cnt; k++)
        out[k] = (int64_t)known_at(v, k);
    return (int)cnt;
}

/* ------------------------------------------------------------------ */
/* Outputs                                                             */

static ox_value *out0(ox_node *n)
{
    return n->n_out > 0 ? n->out[0] : NULL;
}

/* Give output v its type. */
static void set_type(ox_value *v, pat_elem e, int rank, const int64_t *dims, int dtype)
{
    if (!v)
        return;
    memset(&v->type, 0, sizeof v->type);
    v->type.elem = e;
    v->type.rank = rank;
    for (int k = 0; k < rank; k++)
        v->type.dims[k] = (int32_t)dims[k];
    v->typed = true;
    v->dtype = dtype;
}

static int check_dims(ox_ctx *c, ox_node *n, int rank, const int64_t *dims)
{
    if (rank > PAT_MAX_RANK)
        return ox_node_error(c, n, "the output has rank %d; rdumap's tensors have at most %d dimensions", rank,
                             PAT_MAX_RANK);
    int64_t cnt = 1;
    for (int k = 0; k < rank; k++) {
        if (dims[k] < 1)
            return ox_node_error(c, n, "the output's dimension %d is %" PRId64 ": rdumap's tensors have at least one "
                                 "element in every dimension", k, dims[k]);
        if (dims[k] > INT32_MAX || (cnt *= dims[k]) > ((int64_t)1 << 40))
            return ox_node_error(c, n, "the output is too large");
    }
    return 0;
}

/* Start the definition of v (declared a buffer, or an output): writes
 * "NAME = map (_i0: d0, ...) {" (or "NAME =" for a scalar) and fills idx
 * with the output's index names.  end_def() closes it. */
static void begin_def(ox_ctx *c, ox_node *n, ox_value *v, const char **idx)
{
    declare(c, v, v->is_graph_output ? PAT_OUTPUT : PAT_BUFFER);
    v->form = OXF_DECL;
    c->fresh = 0;
    put_def(c, "# node %d %s%s%s(%s)\n", n ? n->pos : -1, n && n->p->name && *n->p->name ? "'" : "",
            n && n->p->name ? n->p->name : "", n && n->p->name && *n->p->name ? "' " : "", n ? n->op : "output");
    names(c, "i", v->type.rank, idx);
    if (v->type.rank == 0)
        put_def(c, "%s = ", v->pat);
    else
        put_def(c, "%s = map %s { ", v->pat, index_list(c, idx, v->type.dims, v->type.rank));
}

static void end_def(ox_ctx *c, const ox_value *v)
{
    put_def(c, v->type.rank == 0 ? "\n" : " }\n");
}

/* Define v as a copy of src (a graph output that is a view, constant or
 * input). */
static int define_copy(ox_ctx *c, ox_node *n, ox_value *v, ox_value *src)
{
    const char *idx[PAT_MAX_RANK];
    if (src == v) {
        /* v itself is a view or a constant: read it through a twin */
        if (v->graph_input >= 0)
            return diag_error(c->d, diag_at_file(c->path), "graph input '%s' is also a graph output: not supported",
                              v->name);
        ox_value *twin = ox_value_new(c, S(c, "%s_value", v->name));
        if (!twin)
            return c->oom = true, -1;
        const char *tn = twin->name;
        *twin = *v;
        twin->name = tn;
        twin->is_graph_output = false;
        twin->pat = NULL;
        twin->declared = false;
        twin->uses = 1;
        src = twin;
        v->known = false;
        v->kv = NULL;
        v->base = NULL;
        v->expr = NULL;
    }
    begin_def(c, n, v, idx);
    put_def(c, "%s", access(c, src, idx));
    end_def(c, v);
    return 0;
}

static bool reads_elementwise(const ox_node *n, const ox_value *v);
static int run_node(ox_ctx *c, ox_node *n);

/* The expression of inlined value v at index idx: an element-wise node's
 * expression, or the node's template run again in expression mode. */
static const char *reexpr(ox_ctx *c, ox_value *v, const char *const *idx)
{
    if (ew_of_node(v->expr))
        return ew_expr(c, v->expr, idx);
    const char *const *saved_idx = c->expr_idx;
    const char *saved_out = c->expr_out;
    c->expr_idx = idx;
    c->expr_out = NULL;
    run_node(c, v->expr);
    const char *e = c->expr_out;
    c->expr_idx = saved_idx;
    c->expr_out = saved_out;
    return e ? S(c, "(%s)", e) : "0";
}

/* Define inlined expression v as a buffer of its own (its reader turned
 * out to read it more often than once per element). */
static void materialize(ox_ctx *c, ox_value *v)
{
    const char *idx[PAT_MAX_RANK];
    begin_def(c, v->expr, v, idx);
    put_def(c, "%s", reexpr(c, v, idx));
    end_def(c, v);
}

/* Start the template of node n's output y at index idx.  Returns 0 when y
 * is inlined into its reader (nothing to write now), 1 when y is defined
 * (the caller builds the element expression and calls emit_end), 2 in
 * expression mode (reexpr: idx is the reader's index). */
static int emit_begin(ox_ctx *c, ox_node *n, ox_value *y, const char **idx)
{
    if (c->expr_idx) {
        for (int k = 0; k < y->type.rank; k++)
            idx[k] = c->expr_idx[k];
        c->expr_idx = NULL;
        return 2;
    }
    /* an inlined operand read more often than once per element is computed once instead */
    for (int q = 0; q < n->n_in; q++)
        if (n->in[q] && n->in[q]->form == OXF_EXPR && count_of(&n->in[q]->type) != count_of(&y->type))
            materialize(c, n->in[q]);
    if (!y->is_graph_output && y->uses == 1 && y->reader && reads_elementwise(y->reader, y)) {
        y->form = OXF_EXPR;
        y->expr = n;
        return 0;
    }
    begin_def(c, n, y, idx);
    return 1;
}

static void emit_end(ox_ctx *c, int mode, ox_value *y, const char *e)
{
    if (mode == 2) {
        c->expr_out = e;
        return;
    }
    put_def(c, "%s", e);
    end_def(c, y);
}

/* ------------------------------------------------------------------ */
/* Element-wise operators                                              */

typedef enum ew_kind {
    EW_ADD, EW_SUB, EW_MUL, EW_DIV, EW_POW, EW_RELU, EW_SIGMOID, EW_TANH, EW_EXP, EW_LOG, EW_SQRT, EW_ERF,
    EW_NEG, EW_ABS, EW_RECIP, EW_WHERE, EW_CAST, EW_CLIP, EW_LEAKY, EW_MAX, EW_MIN, EW_SUM, EW_MEAN, EW_EQ,
    EW_LT, EW_GT, EW_LE, EW_GE, EW_NOT, EW_AND, EW_OR, EW_XOR, EW_SOFTPLUS, EW_HARDSIG, EW_ELU, EW_SELU,
    EW_SIGN, EW_BATCHNORM, EW_PRELU, EW_SOFTSIGN, EW_THRESHRELU, EW_HARDSWISH, EW_CELU, EW_SHRINK, EW_NONE,
} ew_kind;

static const struct { const char *op; ew_kind k; } ew_ops[] = {
    {"Add", EW_ADD}, {"Sub", EW_SUB}, {"Mul", EW_MUL}, {"Div", EW_DIV}, {"Pow", EW_POW}, {"Relu", EW_RELU},
    {"Sigmoid", EW_SIGMOID}, {"Tanh", EW_TANH}, {"Exp", EW_EXP}, {"Log", EW_LOG}, {"Sqrt", EW_SQRT},
    {"Erf", EW_ERF}, {"Neg", EW_NEG}, {"Abs", EW_ABS}, {"Reciprocal", EW_RECIP}, {"Where", EW_WHERE},
    {"Cast", EW_CAST}, {"Clip", EW_CLIP}, {"LeakyRelu", EW_LEAKY}, {"Max", EW_MAX}, {"Min", EW_MIN},
    {"Sum", EW_SUM}, {"Mean", EW_MEAN}, {"Equal", EW_EQ}, {"Less", EW_LT}, {"Greater", EW_GT},
    {"LessOrEqual", EW_LE}, {"GreaterOrEqual", EW_GE}, {"Not", EW_NOT}, {"And", EW_AND}, {"Or", EW_OR},
    {"Xor", EW_XOR}, {"Softplus", EW_SOFTPLUS}, {"HardSigmoid", EW_HARDSIG}, {"Elu", EW_ELU}, {"Selu", EW_SELU},
    {"Sign", EW_SIGN}, {"BatchNormalization", EW_BATCHNORM}, {"PRelu", EW_PRELU}, {"Softsign", EW_SOFTSIGN},
    {"ThresholdedRelu", EW_THRESHRELU}, {"HardSwish", EW_HARDSWISH}, {"Celu", EW_CELU}, {"Shrink", EW_SHRINK},
};

static ew_kind ew_of(const char *op)
{
    for (size_t k = 0; k < sizeof ew_ops / sizeof *ew_ops; k++)
        if (!strcmp(ew_ops[k].op, op))
            return ew_ops[k].k;
    return EW_NONE;
}

static bool ew_of_node(const ox_node *n)
{
    return ew_of(n->op) != EW_NONE;
}

/* Bind e to a let when it is more than a name or literal, so that a
 * template may use it several times: returns the name to use and extends
 * *lets with the binding. */
static const char *bind(ox_ctx *c, const char **lets, const char *e)
{
    bool simple = true;
    for (const char *p = e; *p && simple; p++)
        simple = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                 *p == '.';
    if (simple)
        return e;
    const char *t = fresh(c);
    *lets = S(c, "%slet %s = %s; ", *lets, t, e);
    return t;
}

/* A block of lets ending in result, or result alone. */
static const char *block(ox_ctx *c, const char *lets, const char *result)
{
    return *lets ? S(c, "{ %s%s }", lets, result) : result;
}

/* The Cast target as an ONNX data type, or -1. */
static int cast_to(ox_ctx *c, ox_node *n)
{
    const Onnx__AttributeProto *at = attr(n, "to");
    if (!at)
        return -1;
    if (at->has_i)
        return (int)at->i;
    const char *s = attr_s(c, n, "to", "");
    static const char *const tn[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
                                     "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64"};
    for (int k = 0; k < (int)(sizeof tn / sizeof *tn); k++)
        if (!strcasecmp(s, tn[k]))
            return k;
    return -1;
}

/* The expression of element-wise node n at its output index idx. */
static const char *ew_expr(ox_ctx *c, ox_node *n, const char *const *idx)
{
    ox_value *y = out0(n);
    int r = y->type.rank;
    ew_kind k = ew_of(n->op);
    const char *a[8] = {0};
    int na = 0;
    for (int q = 0; q < n->n_in && q < 8; q++)
        a[q] = n->in[q] ? access_bcast(c, n->in[q], r, idx) : NULL;
    na = n->n_in;
    bool f = n->in[0] && n->in[0]->type.elem == PAT_F32;
    const char *zero = f ? "0.0" : "0", *one = f ? "1.0" : "1";
    const char *lets = "";
    switch (k) {
    case EW_ADD: return S(c, "(%s + %s)", a[0], a[1]);
    case EW_SUB: return S(c, "(%s - %s)", a[0], a[1]);
    case EW_MUL: return S(c, "(%s * %s)", a[0], a[1]);
    case EW_DIV: return S(c, "(%s / %s)", a[0], a[1]);
    case EW_POW: {
        double e = known_at(n->in[1], 0);
        const char *x = bind(c, &lets, a[0]);
        if (e == 0.5)
            return block(c, lets, S(c, "sqrt(%s)", x));
        if (e == 1)
            return x;
        const char *p = x;
        for (int q = 1; q < (int)fabs(e); q++)
            p = S(c, "%s * %s", p, x);
        if (e == 0)
            p = one;
        if (e < 0)
            p = S(c, "%s / (%s)", one, p);
        return block(c, lets, S(c, "(%s)", p));
    }
    case EW_RELU: return S(c, "max(%s, %s)", a[0], zero);
    case EW_SIGMOID: return S(c, "(1.0 / (1.0 + exp(-%s)))", a[0]);
    case EW_TANH: return S(c, "tanh(%s)", a[0]);
    case EW_EXP: return S(c, "exp(%s)", a[0]);
    case EW_LOG: return S(c, "log(%s)", a[0]);
    case EW_SQRT: return S(c, "sqrt(%s)", a[0]);
    case EW_ABS:
        if (!f) {
            const char *x = bind(c, &lets, a[0]);
            return block(c, lets, S(c, "(%s < 0 ? -%s : %s)", x, x, x));
        }
        return S(c, "abs(%s)", a[0]);
    case EW_NEG: return S(c, "(-%s)", a[0]);
    case EW_RECIP: return S(c, "(1.0 / %s)", a[0]);
    case EW_CELU: {
        const char *x = bind(c, &lets, a[0]), *al = lit(c, attr_f(n, "alpha", 1.0), PAT_F32);
        return block(c, lets, S(c, "(max(0.0, %s) + min(0.0, %s * (exp(%s / %s) - 1.0)))", x, al, x, al));
    }
    case EW_SHRINK: {
        const char *x = bind(c, &lets, a[0]);
        const char *l = lit(c, attr_f(n, "lambd", 0.5), PAT_F32), *b = lit(c, attr_f(n, "bias", 0.0), PAT_F32);
        return block(c, lets, S(c, "(%s < -%s ? %s + %s : (%s > %s ? %s - %s : 0.0))", x, l, x, b, x, l, x, b));
    }
    case EW_SOFTSIGN: {
        const char *x = bind(c, &lets, a[0]);
        return block(c, lets, S(c, "(%s / (1.0 + abs(%s)))", x, x));
    }
    case EW_SOFTPLUS: return S(c, "log(exp(%s) + 1.0)", a[0]);
    case EW_ERF: {
        /* Abramowitz & Stegun 7.1.26: |error| <= 1.5e-7 for every x. */
        const char *x = bind(c, &lets, a[0]);
        const char *ax = fresh(c), *t = fresh(c), *e = fresh(c);
        lets = S(c, "%slet %s = abs(%s); let %s = 1.0 / (1.0 + 0.3275911 * %s); let %s = 1.0 - (((((1.061405429 * %s "
                 "- 1.453152027) * %s + 1.421413741) * %s - 0.284496736) * %s + 0.254829592) * %s) * exp(-(%s * %s)); ",
                 lets, ax, x, t, ax, e, t, t, t, t, t, ax, ax);
        return block(c, lets, S(c, "(%s < 0.0 ? -%s : %s)", x, e, e));
    }
    case EW_WHERE: return S(c, "(%s != 0 ? %s : %s)", a[0], a[1], a[2]);
    case EW_CAST: {
        int to = cast_to(c, n);
        bool src_f = n->in[0]->type.elem == PAT_F32;
        if (to == OX_BOOL)
            return S(c, "(%s != %s)", a[0], src_f ? "0.0" : "0");
        if (n->in[0]->dtype == OX_BOOL || !src_f) {
            if (to == OX_FLOAT)
                return S(c, "f32(%s)", a[0]);
            return a[0];
        }
        return to == OX_FLOAT ? a[0] : S(c, "i32(%s)", a[0]);
    }
    case EW_CLIP: {
        const char *e = a[0];
        bool legacy = n->opset < 11;
        if (legacy) {
            if (attr(n, "min"))
                e = S(c, "max(%s, %s)", e, lit(c, attr_f(n, "min", 0), y->type.elem));
            if (attr(n, "max"))
                e = S(c, "min(%s, %s)", e, lit(c, attr_f(n, "max", 0), y->type.elem));
        } else {
            if (na > 1 && a[1])
                e = S(c, "max(%s, %s)", e, a[1]);
            if (na > 2 && a[2])
                e = S(c, "min(%s, %s)", e, a[2]);
        }
        return e;
    }
    case EW_LEAKY: {
        const char *x = bind(c, &lets, a[0]);
        return block(c, lets, S(c, "(%s < 0.0 ? %s * %s : %s)", x, lit(c, attr_f(n, "alpha", 0.01), PAT_F32), x, x));
    }
    case EW_THRESHRELU: {
        const char *x = bind(c, &lets, a[0]);
        return block(c, lets, S(c, "(%s > %s ? %s : 0.0)", x, lit(c, attr_f(n, "alpha", 1.0), PAT_F32), x));
    }
    case EW_PRELU: {
        const char *x = bind(c, &lets, a[0]);
        return block(c, lets, S(c, "(%s < 0.0 ? %s * %s : %s)", x, a[1], x, x));
    }
    case EW_HARDSIG:
        return S(c, "max(0.0, min(1.0, %s * %s + %s))", lit(c, attr_f(n, "alpha", 0.2), PAT_F32), a[0],
                 lit(c, attr_f(n, "beta", 0.5), PAT_F32));
    case EW_HARDSWISH: {
        const char *x = bind(c, &lets, a[0]);
        return block(c, lets, S(c, "(%s * max(0.0, min(1.0, %s * 0.16666667 + 0.5)))", x, x));
    }
    case EW_ELU: {
        const char *x = bind(c, &lets, a[0]);
        return block(c, lets, S(c, "(%s < 0.0 ? %s * (exp(%s) - 1.0) : %s)", x, lit(c, attr_f(n, "alpha", 1.0), PAT_F32),
                                x, x));
    }
    case EW_SELU: {
        const char *x = bind(c, &lets, a[0]);
        const char *al = lit(c, attr_f(n, "alpha", 1.67326319217681884765625), PAT_F32);
        const char *ga = lit(c, attr_f(n, "gamma", 1.05070102214813232421875), PAT_F32);
        return block(c, lets, S(c, "(%s <= 0.0 ? %s * (%s * exp(%s) - %s) : %s * %s)", x, ga, al, x, al, ga, x));
    }
    case EW_SIGN: {
        const char *x = bind(c, &lets, a[0]);
        return block(c, lets, S(c, "(%s > %s ? %s : (%s < %s ? -%s : %s))", x, zero, one, x, zero, one, zero));
    }
    case EW_MAX: case EW_MIN: case EW_SUM: case EW_MEAN: {
        const char *e = a[0];
        for (int q = 1; q < na; q++)
            e = k == EW_MAX ? S(c, "max(%s, %s)", e, a[q]) : k == EW_MIN ? S(c, "min(%s, %s)", e, a[q])
                                                           : S(c, "%s + %s", e, a[q]);
        if (k == EW_MEAN)
            return S(c, "((%s) / %s)", e, lit(c, na, PAT_F32));
        return k == EW_SUM ? S(c, "(%s)", e) : e;
    }
    case EW_EQ: return S(c, "(%s == %s)", a[0], a[1]);
    case EW_LT: return S(c, "(%s < %s)", a[0], a[1]);
    case EW_GT: return S(c, "(%s > %s)", a[0], a[1]);
    case EW_LE: return S(c, "(%s <= %s)", a[0], a[1]);
    case EW_GE: return S(c, "(%s >= %s)", a[0], a[1]);
    case EW_NOT: return S(c, "(!%s)", a[0]);
    case EW_AND: return S(c, "(%s && %s)", a[0], a[1]);
    case EW_OR: return S(c, "(%s || %s)", a[0], a[1]);
    case EW_XOR: return S(c, "(%s != %s)", a[0], a[1]);
    case EW_BATCHNORM: {
        /* inputs X, scale, B, mean, var: per channel (dimension 1) */
        const char *ci[1] = {r > 1 ? idx[1] : "0"};
        const char *sc = access(c, n->in[1], ci), *b = access(c, n->in[2], ci);
        const char *mu = access(c, n->in[3], ci), *var = access(c, n->in[4], ci);
        double eps = attr_f(n, "epsilon", 1e-5);
        return S(c, "((%s - %s) / sqrt(%s + %s) * %s + %s)", access(c, n->in[0], idx), mu, var,
                 lit(c, eps, PAT_F32), sc, b);
    }
    case EW_NONE: break;
    }
    return "0";
}

/* Numeric evaluation of a few i32 element-wise operators, for shape
 * arithmetic; false when not foldable. */
static bool ew_fold_value(ew_kind k, int to, const double *a, int na, double *out)
{
    (void)na;
    switch (k) {
    case EW_ADD: *out = a[0] + a[1]; return true;
    case EW_SUB: *out = a[0] - a[1]; return true;
    case EW_MUL: *out = a[0] * a[1]; return true;
    case EW_DIV: if (a[1] == 0) return false; *out = trunc(a[0] / a[1]); return true;
    case EW_NEG: *out = -a[0]; return true;
    case EW_EQ: *out = a[0] == a[1]; return true;
    case EW_LT: *out = a[0] < a[1]; return true;
    case EW_GT: *out = a[0] > a[1]; return true;
    case EW_NOT: *out = a[0] == 0; return true;
    case EW_WHERE: *out = a[0] != 0 ? a[1] : a[2]; return true;
    case EW_MAX: *out = fmax(a[0], a[1]); return true;
    case EW_MIN: *out = fmin(a[0], a[1]); return true;
    case EW_CAST:
        if (to == OX_BOOL)
            *out = a[0] != 0;
        else if (to == OX_FLOAT)
            *out = (float)a[0];
        else
            *out = trunc(a[0]);
        return true;
    default: return false;
    }
}

/* Broadcast the shapes of the inputs of n (numpy rules) into dims; rank. */
static int bcast_shape(ox_ctx *c, ox_node *n, int first, int last, int64_t *dims)
{
    int r = 0;
    for (int q = first; q <= last; q++)
        if (n->in[q] && n->in[q]->type.rank > r)
            r = n->in[q]->type.rank;
    for (int k = 0; k < r; k++)
        dims[k] = 1;
    for (int q = first; q <= last; q++) {
        ox_value *v = n->in[q];
        if (!v)
            continue;
        for (int k = 0; k < v->type.rank; k++) {
            int64_t dv = v->type.dims[k], *dk = &dims[r - v->type.rank + k];
            if (dv == *dk || dv == 1)
                continue;
            if (*dk != 1) {
                char a1[96], b1[96];
                ox_value *w = n->in[first];
                return ox_node_error(c, n, "shapes %s and %s do not broadcast", pat_type_str(&w->type, a1, sizeof a1),
                                     pat_type_str(&v->type, b1, sizeof b1));
            }
            *dk = dv;
        }
    }
    return r;
}

/* Legacy (opset < 7) broadcast with an axis: view B with trailing ones so
 * that numpy rules align it at the axis. */
static int legacy_bcast(ox_ctx *c, ox_node *n)
{
    if (n->opset >= 7 || n->n_in < 2 || !n->in[1] || !attr_i(n, "broadcast", 0) || !attr(n, "axis"))
        return 0;
    ox_value *a = n->in[0], *b = n->in[1];
    int64_t axis = attr_i(n, "axis", 0);
    if (axis < 0)
        axis += a->type.rank;
    int pad = a->type.rank - (int)axis - b->type.rank;
    if (axis < 0 || pad < 0)
        return ox_node_error(c, n, "the legacy broadcast axis %" PRId64 " does not fit the operands", axis);
    if (pad == 0)
        return 0;
    ox_value *v = arena_calloc(c->a, 1, sizeof *v);
    if (!v)
        return c->oom = true, -1;
    *v = (ox_value){.name = S(c, "%s_aligned", b->name), .type = b->type, .dtype = b->dtype, .typed = true,
                    .form = OXF_VIEW, .base = b, .view = OXV_RESHAPE, .graph_input = -1};
    v->type.rank += pad;
    for (int k = b->type.rank; k < v->type.rank; k++)
        v->type.dims[k] = 1;
    n->in[1] = v;
    return 0;
}

/* True when node n, which reads v, is element-wise: it reads v at its own
 * output's index (BatchNormalization only so for its first input). */
static bool reads_elementwise(const ox_node *n, const ox_value *v)
{
    ew_kind k = ew_of(n->op);
    if (k == EW_NONE || !n->out[0])
        return false;
    return !(k == EW_BATCHNORM && n->in[0] != v);
}

static int op_elementwise(ox_ctx *c, ox_node *n, ew_kind k)
{
    ox_value *y = out0(n);
    if (legacy_bcast(c, n) != 0)
        return -1;
    for (int q = 1; q < n->n_out; q++)
        if (n->out[q])
            return ox_node_error(c, n, "output %d ('%s') is not supported (training-mode or extra outputs)", q,
                                 n->out[q]->name);
    int first_in = 0, last_in = n->n_in - 1;
    for (int q = 0; q < n->n_in; q++)
        if (!n->in[q] && !(k == EW_CLIP && q > 0))
            return ox_node_error(c, n, "input %d is missing", q);
    if (n->n_in == 0)
        return ox_node_error(c, n, "the node has no inputs");
    pat_elem e = n->in[0]->type.elem;
    int dtype = n->in[0]->dtype;
    int64_t dims[PAT_MAX_RANK + 1];
    int r;
    if (k == EW_BATCHNORM) {
        if (n->n_in != 5)
            return ox_node_error(c, n, "BatchNormalization needs 5 inputs (X, scale, B, mean, var)");
        if (attr_i(n, "training_mode", 0))
            return ox_node_error(c, n, "training_mode = 1 is not supported (inference only)");
        if (n->opset < 7 && !attr_i(n, "spatial", 1))
            return ox_node_error(c, n, "spatial = 0 is not supported");
        ox_value *x = n->in[0];
        int64_t ch = x->type.rank > 1 ? x->type.dims[1] : 1;
        for (int q = 1; q < 5; q++)
            if (n->in[q]->type.rank != 1 || n->in[q]->type.dims[0] != ch)
                return ox_node_error(c, n, "input %d must have shape [%" PRId64 "] (the channels)", q, ch);
        r = x->type.rank;
        for (int q = 0; q < r; q++)
            dims[q] = x->type.dims[q];
        last_in = 0;
    } else {
        if (k == EW_WHERE) {
            e = n->in[1]->type.elem;
            dtype = n->in[1]->dtype;
        }
        if (k == EW_POW) {
            if (!is_known(n->in[1]) || count_of(&n->in[1]->type) != 1)
                return ox_node_error(c, n, "the exponent must be a one-element constant (x^y for a tensor y is not "
                                     "supported)");
            double ex = known_at(n->in[1], 0);
            if (!(ex == 0.5 || (ex == trunc(ex) && fabs(ex) <= 8)))
                return ox_node_error(c, n, "exponent %g is not supported (whole numbers up to 8, and 0.5, are)", ex);
            if (ex < 0 && e != PAT_F32)
                return ox_node_error(c, n, "a negative exponent of an integer is not supported");
            last_in = 0;
        }
        if (k == EW_CLIP)
            last_in = 0;
        if (k == EW_CAST) {
            int to = cast_to(c, n);
            if (to != OX_FLOAT && to != OX_INT32 && to != OX_INT64 && to != OX_BOOL)
                return ox_node_error(c, n, "a cast to %s is not supported (rdumap computes in f32 and i32; float, "
                                     "int32, int64 and bool are read)", ox_dtype_name(to));
            e = to == OX_FLOAT ? PAT_F32 : PAT_I32;
            dtype = to;
        }
        if (k >= EW_EQ && k <= EW_GE) {
            e = PAT_I32;
            dtype = OX_BOOL;
        }
        if (k >= EW_NOT && k <= EW_XOR)
            dtype = OX_BOOL;
        /* operand types must agree (Where's condition aside) */
        for (int q = k == EW_WHERE ? 1 : 0; q <= last_in; q++) {
            ox_value *v = n->in[q];
            if (v && v->type.elem != n->in[k == EW_WHERE ? 1 : 0]->type.elem)
                return ox_node_error(c, n, "operands of different element types (%s and %s)",
                                     ox_dtype_name(n->in[k == EW_WHERE ? 1 : 0]->dtype), ox_dtype_name(v->dtype));
        }
        bool needs_f = k == EW_SIGMOID || k == EW_TANH || k == EW_EXP || k == EW_LOG || k == EW_SQRT ||
                       k == EW_ERF || k == EW_RECIP || k == EW_SOFTPLUS || k == EW_HARDSIG || k == EW_ELU ||
                       k == EW_SELU || k == EW_LEAKY || k == EW_PRELU || k == EW_SOFTSIGN || k == EW_THRESHRELU ||
                       k == EW_HARDSWISH || k == EW_MEAN || k == EW_CELU || k == EW_SHRINK;
        if ((k == EW_WHERE || (k >= EW_NOT && k <= EW_XOR)) && n->in[0]->type.elem != PAT_I32)
            return ox_node_error(c, n, "the condition or operands must be bool or integers, not %s",
                                 ox_dtype_name(n->in[0]->dtype));
        if (needs_f && n->in[0]->type.elem != PAT_F32)
            return ox_node_error(c, n, "the operator takes float here; %s is not supported",
                                 ox_dtype_name(n->in[0]->dtype));
        if (n->opset < 7 && n->n_in == 2 && (k == EW_ADD || k == EW_SUB || k == EW_MUL || k == EW_DIV) &&
            !attr_i(n, "broadcast", 0) && !pat_type_equal(&n->in[0]->type, &n->in[1]->type))
            return ox_node_error(c, n, "operands of different shapes without broadcast = 1 (opset < 7)");
        if (k == EW_PRELU)
            last_in = 1;
        r = bcast_shape(c, n, first_in, last_in, dims);
        if (r < 0)
            return -1;
        if (k == EW_PRELU || k == EW_CLIP) {
            /* the output has X's shape; the others broadcast to it */
            for (int q = 1; q < n->n_in; q++) {
                ox_value *v = n->in[q];
                if (!v)
                    continue;
                bool ok = v->type.rank <= n->in[0]->type.rank;
                for (int t = 0; ok && t < v->type.rank; t++) {
                    int64_t dx = n->in[0]->type.dims[n->in[0]->type.rank - v->type.rank + t];
                    ok = v->type.dims[t] == 1 || v->type.dims[t] == dx;
                }
                if (!ok)
                    return ox_node_error(c, n, "input %d does not broadcast to the first input's shape", q);
            }
        }
    }
    if (check_dims(c, n, r, dims) != 0)
        return -1;
    set_type(y, e, r, dims, dtype);

    /* Fold small integer arithmetic on constants. */
    bool all_known = true;
    for (int q = 0; q < n->n_in; q++)
        all_known = all_known && (!n->in[q] || is_known(n->in[q]));
    if (all_known && k != EW_BATCHNORM && count_of(&y->type) <= FOLD_MAX &&
        (e == PAT_I32 || k == EW_CAST) && n->n_in <= 3) {
        int64_t cnt = count_of(&y->type);
        if (set_known(c, y) != 0)
            return -1;
        int to = k == EW_CAST ? cast_to(c, n) : 0;
        bool ok = true;
        for (int64_t f = 0; f < cnt && ok; f++) {
            int64_t idx[PAT_MAX_RANK];
            unflat(&y->type, f, idx);
            double av[3] = {0};
            for (int q = 0; q < n->n_in; q++) {
                ox_value *v = n->in[q];
                if (!v)
                    continue;
                int64_t vi[PAT_MAX_RANK];
                for (int t = 0; t < v->type.rank; t++)
                    vi[t] = v->type.dims[t] == 1 ? 0 : idx[r - v->type.rank + t];
                av[q] = known_at(v, flat_of(&v->type, vi));
            }
            ok = ew_fold_value(k, to, av, n->n_in, &y->kv[f]);
        }
        if (ok)
            return 0;
        y->known = false;
        y->kv = NULL;
    }

    const char *idx[PAT_MAX_RANK];
    int mode = emit_begin(c, n, y, idx);
    if (mode)
        emit_end(c, mode, y, ew_expr(c, n, idx));
    return 0;
}

/* ------------------------------------------------------------------ */
/* Views                                                               */

static ox_value *make_view(ox_value *y, ox_value *base, ox_view kind)
{
    y->form = OXF_VIEW;
    y->base = base;
    y->view = kind;
    y->dtype = base->dtype;
    y->type.elem = base->type.elem;
    y->typed = true;
    return y;
}

static int finish_view(ox_ctx *c, ox_node *n, ox_value *y)
{
    if (fold_view(c, y) != 0)
        return -1;
    if (y->is_graph_output)
        return define_copy(c, n, y, y);
    return 0;
}

static int op_identity(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *y = out0(n);
    if (!x)
        return ox_node_error(c, n, "the input is missing");
    if (!strcmp(n->op, "Dropout")) {
        if (n->n_in > 2 && n->in[2] && (!is_known(n->in[2]) || known_at(n->in[2], 0) != 0))
            return ox_node_error(c, n, "training_mode must be a constant false (inference only)");
        if (n->opset < 7 && !attr_i(n, "is_test", 0) && attr(n, "is_test"))
            return ox_node_error(c, n, "is_test = 0 is not supported (inference only)");
    }
    if (!strcmp(n->op, "Dropout") && n->n_out > 1 && n->out[1]) {
        /* in inference every element is kept: the mask is all true */
        ox_value *mask = n->out[1];
        mask->type = x->type;
        mask->type.elem = PAT_I32;
        mask->typed = true;
        mask->dtype = OX_BOOL;
        if (count_of(&mask->type) > FOLD_MAX)
            return ox_node_error(c, n, "the mask output is too large (%" PRId64 " elements)", count_of(&mask->type));
        if (set_known(c, mask) != 0)
            return -1;
        for (int64_t f = 0; f < count_of(&mask->type); f++)
            mask->kv[f] = 1;
        if (mask->is_graph_output && define_copy(c, n, mask, mask) != 0)
            return -1;
    }
    make_view(y, x, OXV_PERM);
    y->type = x->type;
    for (int k = 0; k < x->type.rank; k++)
        y->perm[k] = k;
    return finish_view(c, n, y);
}

static int op_transpose(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *y = out0(n);
    int r = x->type.rank;
    int64_t perm[PAT_MAX_RANK + 1];
    int np = attr_ints(n, "perm", perm, PAT_MAX_RANK);
    if (np < 0) {
        np = r;
        for (int k = 0; k < r; k++)
            perm[k] = r - 1 - k;
    }
    bool seen[PAT_MAX_RANK] = {0};
    if (np != r)
        return ox_node_error(c, n, "perm has %d entries for an input of rank %d", np, r);
    for (int k = 0; k < r; k++) {
        if (perm[k] < 0 || perm[k] >= r || seen[perm[k]])
            return ox_node_error(c, n, "perm is not a permutation of 0..%d", r - 1);
        seen[perm[k]] = true;
    }
    make_view(y, x, OXV_PERM);
    y->type.rank = r;
    for (int k = 0; k < r; k++) {
        y->perm[k] = (int)perm[k];
        y->type.dims[k] = x->type.dims[perm[k]];
    }
    return finish_view(c, n, y);
}

/* A reshape of x to dims (any reshape-like operator). */
static int reshape_to(ox_ctx *c, ox_node *n, ox_value *x, int rank, const int64_t *dims)
{
    ox_value *y = out0(n);
    if (check_dims(c, n, rank, dims) != 0)
        return -1;
    int64_t cnt = 1;
    for (int k = 0; k < rank; k++)
        cnt *= dims[k];
    if (cnt != count_of(&x->type)) {
        char b[96];
        return ox_node_error(c, n, "%s (%" PRId64 " elements) does not reshape to %" PRId64 " elements",
                             pat_type_str(&x->type, b, sizeof b), count_of(&x->type), cnt);
    }
    make_view(y, x, OXV_RESHAPE);
    y->type.rank = rank;
    for (int k = 0; k < rank; k++)
        y->type.dims[k] = (int32_t)dims[k];
    return finish_view(c, n, y);
}

static int op_reshape(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0];
    int64_t shape[PAT_MAX_RANK + 1];
    int ns;
    if (n->opset < 5) {
        ns = attr_ints(n, "shape", shape, PAT_MAX_RANK);
        if (ns < 0)
            return ox_node_error(c, n, "the shape attribute is missing");
    } else if ((ns = known_ints(c, n, n->n_in > 1 ? n->in[1] : NULL, "shape", shape, PAT_MAX_RANK + 1)) < 0)
        return -1;
    if (ns > PAT_MAX_RANK)
        return ox_node_error(c, n, "the output has more than %d dimensions", PAT_MAX_RANK);
    bool allowzero = n->opset >= 14 && attr_i(n, "allowzero", 0);
    int infer = -1;
    int64_t known = 1;
    for (int k = 0; k < ns; k++) {
        if (shape[k] == 0 && !allowzero) {
            if (k >= x->type.rank)
                return ox_node_error(c, n, "shape entry %d is 0 (copy) but the input has rank %d", k, x->type.rank);
            shape[k] = x->type.dims[k];
        }
        if (shape[k] == -1) {
            if (infer >= 0)
                return ox_node_error(c, n, "the shape has more than one -1");
            infer = k;
            continue;
        }
        if (shape[k] < 1)
            return ox_node_error(c, n, "shape entry %d is %" PRId64, k, shape[k]);
        known *= shape[k];
    }
    if (infer >= 0) {
        if (count_of(&x->type) % known)
            return ox_node_error(c, n, "the -1 in the shape is not determined by the other entries");
        shape[infer] = count_of(&x->type) / known;
    }
    return reshape_to(c, n, x, ns, shape);
}

static int op_flatten(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0];
    int r = x->type.rank;
    int64_t axis = attr_i(n, "axis", 1);
    if (axis < 0)
        axis += r;
    if (axis < 0 || axis > r)
        return ox_node_error(c, n, "axis %" PRId64 " is out of range for rank %d", attr_i(n, "axis", 1), r);
    int64_t dims[2] = {1, 1};
    for (int k = 0; k < r; k++)
        dims[k < axis ? 0 : 1] *= x->type.dims[k];
    return reshape_to(c, n, x, 2, dims);
}

/* Normalise axes against rank r (sorted, unique); -1 on error. */
static int norm_axes(ox_ctx *c, ox_node *n, int64_t *axes, int na, int r)
{
    for (int k = 0; k < na; k++) {
        if (axes[k] < 0)
            axes[k] += r;
        if (axes[k] < 0 || axes[k] >= r)
            return ox_node_error(c, n, "axis %" PRId64 " is out of range for rank %d", axes[k], r);
    }
    for (int i = 0; i < na; i++)
        for (int j = i + 1; j < na; j++) {
            if (axes[j] < axes[i]) {
                int64_t t = axes[i];
                axes[i] = axes[j];
                axes[j] = t;
            }
        }
    for (int i = 1; i < na; i++)
        if (axes[i] == axes[i - 1])
            return ox_node_error(c, n, "axis %" PRId64 " is given twice", axes[i]);
    return 0;
}

/* The axes of Squeeze, Unsqueeze and the reductions: an attribute before
 * `input_from`, the second input from it on.  Returns their count (-1 when
 * absent is returned as *absent). */
static int get_axes(ox_ctx *c, ox_node *n, int64_t input_from, int64_t *axes, bool *absent)
{
    *absent = false;
    int na;
    if (n->opset < input_from) {
        na = attr_ints(n, "axes", axes, PAT_MAX_RANK + 1);
        if (na < 0) {
            *absent = true;
            return 0;
        }
    } else {
        if (n->n_in < 2 || !n->in[1]) {
            *absent = true;
            return 0;
        }
        na = known_ints(c, n, n->in[1], "axes", axes, PAT_MAX_RANK + 1);
    }
    if (na > PAT_MAX_RANK)
        return ox_node_error(c, n, "too many axes");
    return na;
}

static int op_squeeze(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0];
    int64_t axes[PAT_MAX_RANK + 1];
    bool absent;
    int na = get_axes(c, n, 13, axes, &absent);
    if (na < 0 || norm_axes(c, n, axes, na, x->type.rank) != 0)
        return -1;
    int64_t dims[PAT_MAX_RANK];
    int r = 0;
    for (int k = 0; k < x->type.rank; k++) {
        bool listed = false;
        for (int q = 0; q < na; q++)
            listed = listed || axes[q] == k;
        if (listed && x->type.dims[k] != 1)
            return ox_node_error(c, n, "axis %d has size %d, not 1", k, x->type.dims[k]);
        if (absent ? x->type.dims[k] != 1 : !listed)
            dims[r++] = x->type.dims[k];
    }
    return reshape_to(c, n, x, r, dims);
}

static int op_unsqueeze(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0];
    int64_t axes[PAT_MAX_RANK + 1];
    bool absent;
    int na = get_axes(c, n, 13, axes, &absent);
    if (na < 0)
        return -1;
    if (absent)
        return ox_node_error(c, n, "the axes are missing");
    int r = x->type.rank + na;
    if (r > PAT_MAX_RANK)
        return ox_node_error(c, n, "the output has more than %d dimensions", PAT_MAX_RANK);
    if (norm_axes(c, n, axes, na, r) != 0)
        return -1;
    int64_t dims[PAT_MAX_RANK];
    int src = 0;
    for (int k = 0; k < r; k++) {
        bool listed = false;
        for (int q = 0; q < na; q++)
            listed = listed || axes[q] == k;
        dims[k] = listed ? 1 : x->type.dims[src++];
    }
    return reshape_to(c, n, x, r, dims);
}

static int op_slice(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *y = out0(n);
    int r = x->type.rank;
    int64_t starts[PAT_MAX_RANK + 1], ends[PAT_MAX_RANK + 1], axes[PAT_MAX_RANK + 1], steps[PAT_MAX_RANK + 1];
    int ns, ne, na = -1, nst = -1;
    if (n->opset < 10) {
        ns = attr_ints(n, "starts", starts, PAT_MAX_RANK + 1);
        ne = attr_ints(n, "ends", ends, PAT_MAX_RANK + 1);
        na = attr_ints(n, "axes", axes, PAT_MAX_RANK + 1);
        if (ns < 0 || ne < 0)
            return ox_node_error(c, n, "starts and ends are required");
    } else {
        if ((ns = known_ints(c, n, n->n_in > 1 ? n->in[1] : NULL, "starts", starts, PAT_MAX_RANK + 1)) < 0 ||
            (ne = known_ints(c, n, n->n_in > 2 ? n->in[2] : NULL, "ends", ends, PAT_MAX_RANK + 1)) < 0)
            return -1;
        if (n->n_in > 3 && n->in[3] && (na = known_ints(c, n, n->in[3], "axes", axes, PAT_MAX_RANK + 1)) < 0)
            return -1;
        if (n->n_in > 4 && n->in[4] && (nst = known_ints(c, n, n->in[4], "steps", steps, PAT_MAX_RANK + 1)) < 0)
            return -1;
    }
    if (ns != ne || ns > r || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return ox_node_error(c, n, "starts, ends, axes and steps must have one entry per sliced axis");
    if (na < 0)
        for (int k = 0; k < ns; k++)
            axes[k] = k;
    if (nst < 0)
        for (int k = 0; k < ns; k++)
            steps[k] = 1;
    make_view(y, x, OXV_SLICE);
    y->type.rank = r;
    for (int k = 0; k < r; k++) {
        y->start[k] = 0;
        y->step[k] = 1;
        y->type.dims[k] = x->type.dims[k];
    }
    bool seen[PAT_MAX_RANK] = {0};
    for (int q = 0; q < ns; q++) {
        int64_t ax = axes[q] < 0 ? axes[q] + r : axes[q];
        if (ax < 0 || ax >= r || seen[ax])
            return ox_node_error(c, n, "axis %" PRId64 " is out of range or repeated", axes[q]);
        seen[ax] = true;
        int64_t dim = x->type.dims[ax], st = steps[q], s = starts[q], e = ends[q];
        if (st == 0)
            return ox_node_error(c, n, "a step of 0");
        /* clamp as ONNX does */
        if (s < 0)
            s += dim;
        if (e < 0 && e > INT64_MIN / 2)
            e += dim;
        if (st > 0) {
            s = s < 0 ? 0 : s > dim ? dim : s;
            e = e < 0 ? 0 : e > dim ? dim : e;
        } else {
            s = s < 0 ? -1 : s > dim - 1 ? dim - 1 : s;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
        }
        int64_t len = st > 0 ? (e - s + st - 1) / st : (s - e + (-st) - 1) / (-st);
        if (len < 1)
            return ox_node_error(c, n, "the slice of axis %" PRId64 " is empty: rdumap's tensors have at least one "
                                 "element", ax);
        y->start[ax] = s;
        y->step[ax] = st;
        y->type.dims[ax] = (int32_t)len;
    }
    return finish_view(c, n, y);
}

/* ------------------------------------------------------------------ */
/* Constants and shapes                                                */

static int op_constant(ox_ctx *c, ox_node *n)
{
    ox_value *y = out0(n);
    const Onnx__AttributeProto *at;
    if ((at = attr(n, "value")) && at->t) {
        const char *nm = y->name;
        if (ox_tensor_known(c, at->t, y, "constant") != 0)
            return ox_node_error(c, n, "its value is not supported");
        y->name = nm;
    } else if ((at = attr(n, "value_float")) || (at = attr(n, "value_int"))) {
        int64_t none[1] = {0};
        set_type(y, at->has_f ? PAT_F32 : PAT_I32, 0, none, at->has_f ? OX_FLOAT : OX_INT64);
        if (set_known(c, y) != 0)
            return -1;
        y->kv[0] = at->has_f ? (double)at->f : (double)at->i;
    } else if ((at = attr(n, "value_floats")) || (at = attr(n, "value_ints"))) {
        bool fl = !strcmp(at->name, "value_floats");
        int64_t len = fl ? (int64_t)at->n_floats : (int64_t)at->n_ints;
        if (len < 1)
            return ox_node_error(c, n, "an empty constant");
        set_type(y, fl ? PAT_F32 : PAT_I32, 1, &len, fl ? OX_FLOAT : OX_INT64);
        if (set_known(c, y) != 0)
            return -1;
        for (int64_t k = 0; k < len; k++)
            y->kv[k] = fl ? (double)at->floats[k] : (double)at->ints[k];
    } else
        return ox_node_error(c, n, "only value, value_float(s) and value_int(s) constants are supported");
    if (y->is_graph_output)
        return define_copy(c, n, y, y);
    return 0;
}

static int op_shape(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *y = out0(n);
    int64_t r = x->type.rank, s = 0, e = r;
    if (n->opset >= 15) {
        s = attr_i(n, "start", 0);
        e = attr_i(n, "end", r);
        s = s < 0 ? s + r : s;
        e = e < 0 ? e + r : e;
        s = s < 0 ? 0 : s > r ? r : s;
        e = e < 0 ? 0 : e > r ? r : e;
    }
    int64_t len = e - s;
    if (len < 1)
        return ox_node_error(c, n, "the shape slice is empty");
    set_type(y, PAT_I32, 1, &len, OX_INT64);
    if (set_known(c, y) != 0)
        return -1;
    for (int64_t k = 0; k < len; k++)
        y->kv[k] = x->type.dims[s + k];
    return y->is_graph_output ? define_copy(c, n, y, y) : 0;
}

static int op_size(ox_ctx *c, ox_node *n)
{
    ox_value *y = out0(n);
    int64_t none[1] = {0};
    set_type(y, PAT_I32, 0, none, OX_INT64);
    if (set_known(c, y) != 0)
        return -1;
    y->kv[0] = (double)count_of(&n->in[0]->type);
    return y->is_graph_output ? define_copy(c, n, y, y) : 0;
}

static int op_constant_of_shape(ox_ctx *c, ox_node *n)
{
    ox_value *y = out0(n);
    int64_t shape[PAT_MAX_RANK + 1];
    int ns = known_ints(c, n, n->in[0], "shape", shape, PAT_MAX_RANK + 1);
    if (ns < 0 || check_dims(c, n, ns, shape) != 0)
        return -1;
    double val = 0;
    int dt = OX_FLOAT;
    const Onnx__AttributeProto *at = attr(n, "value");
    if (at && at->t) {
        ox_value tmp = {.name = "value"};
        if (ox_tensor_known(c, at->t, &tmp, "value") != 0)
            return -1;
        val = tmp.kv[0];
        dt = tmp.dtype;
    }
    set_type(y, dt == OX_FLOAT ? PAT_F32 : PAT_I32, ns, shape, dt);
    if (count_of(&y->type) > FOLD_MAX)
        return ox_node_error(c, n, "the constant is too large (%" PRId64 " elements)", count_of(&y->type));
    if (set_known(c, y) != 0)
        return -1;
    for (int64_t k = 0; k < count_of(&y->type); k++)
        y->kv[k] = val;
    return y->is_graph_output ? define_copy(c, n, y, y) : 0;
}

/* ------------------------------------------------------------------ */
/* Concat and Gather                                                   */

static int op_concat(ox_ctx *c, ox_node *n)
{
    ox_value *y = out0(n), *x0 = n->in[0];
    if (!x0)
        return ox_node_error(c, n, "the first input is missing");
    int r = x0->type.rank;
    if (r == 0)
        return ox_node_error(c, n, "a Concat of scalars");
    int64_t axis = attr_i(n, "axis", n->opset < 4 ? 1 : INT64_MIN);
    if (axis == INT64_MIN)
        return ox_node_error(c, n, "the axis attribute is missing");
    if (axis < 0)
        axis += r;
    if (axis < 0 || axis >= r)
        return ox_node_error(c, n, "axis %" PRId64 " is out of range for rank %d", attr_i(n, "axis", 0), r);
    int64_t dims[PAT_MAX_RANK];
    for (int k = 0; k < r; k++)
        dims[k] = x0->type.dims[k];
    dims[axis] = 0;
    bool all_known = true;
    for (int q = 0; q < n->n_in; q++) {
        ox_value *v = n->in[q];
        if (!v)
            return ox_node_error(c, n, "input %d is missing", q);
        if (v->type.rank != r || v->type.elem != x0->type.elem)
            return ox_node_error(c, n, "input %d does not match the first input's rank and type", q);
        for (int k = 0; k < r; k++)
            if (k != axis && v->type.dims[k] != x0->type.dims[k])
                return ox_node_error(c, n, "input %d differs from the first in dimension %d", q, k);
        dims[axis] += v->type.dims[axis];
        all_known = all_known && is_known(v);
    }
    if (check_dims(c, n, r, dims) != 0)
        return -1;
    set_type(y, x0->type.elem, r, dims, x0->dtype);
    if (all_known && count_of(&y->type) <= FOLD_MAX) {
        if (set_known(c, y) != 0)
            return -1;
        for (int64_t f = 0; f < count_of(&y->type); f++) {
            int64_t idx[PAT_MAX_RANK];
            unflat(&y->type, f, idx);
            int q = 0;
            while (idx[axis] >= n->in[q]->type.dims[axis])
                idx[axis] -= n->in[q++]->type.dims[axis];
            y->kv[f] = known_at(n->in[q], flat_of(&n->in[q]->type, idx));
        }
        return y->is_graph_output ? define_copy(c, n, y, y) : 0;
    }
    const char *idx[PAT_MAX_RANK];
    int mode = emit_begin(c, n, y, idx);
    if (!mode)
        return 0;
    /* a chain of selects on the axis index, the last input unconditional */
    const char *e = NULL;
    int64_t off = dims[axis];
    for (int q = n->n_in - 1; q >= 0; q--) {
        ox_value *v = n->in[q];
        off -= v->type.dims[axis];
        const char *vi[PAT_MAX_RANK];
        for (int k = 0; k < r; k++)
            vi[k] = idx[k];
        vi[axis] = off ? S(c, "%s - %" PRId64, idx[axis], off) : idx[axis];
        if (v->type.dims[axis] == 1)
            vi[axis] = "0";
        const char *a = access(c, v, vi);
        e = e ? S(c, "%s < %" PRId64 " ? %s : %s", idx[axis], off + v->type.dims[axis], a, e) : a;
    }
    emit_end(c, mode, y, e);
    return 0;
}

static int op_gather(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *ind = n->in[1], *y = out0(n);
    if (!x || !ind)
        return ox_node_error(c, n, "Gather needs data and indices");
    int r = x->type.rank, q = ind->type.rank;
    if (ind->type.elem != PAT_I32)
        return ox_node_error(c, n, "the indices must be integers");
    int64_t axis = attr_i(n, "axis", 0);
    if (axis < 0)
        axis += r;
    if (axis < 0 || axis >= r)
        return ox_node_error(c, n, "axis %" PRId64 " is out of range for rank %d", attr_i(n, "axis", 0), r);
    int64_t dims[PAT_MAX_RANK * 2];
    int yr = 0;
    for (int k = 0; k < axis; k++)
        dims[yr++] = x->type.dims[k];
    for (int k = 0; k < q; k++)
        dims[yr++] = ind->type.dims[k];
    for (int k = (int)axis + 1; k < r; k++)
        dims[yr++] = x->type.dims[k];
    if (check_dims(c, n, yr, dims) != 0)
        return -1;
    set_type(y, x->type.elem, yr, dims, x->dtype);
    int64_t D = x->type.dims[axis];
    if (is_known(ind)) {
        for (int64_t f = 0; f < count_of(&ind->type); f++) {
            double iv = known_at(ind, f);
            if (iv < -D || iv >= D)
                return ox_node_error(c, n, "index %.0f is out of range for dimension %" PRId64 " of size %" PRId64, iv,
                                     axis, D);
        }
    } else if (ind->graph_input >= 0 && !ind->declared) {
        /* generated indices stay in range */
        ind->has_gen = true;
        ind->gen_lo = 0;
        ind->gen_hi = D;
    }
    if (is_known(x) && is_known(ind) && count_of(&y->type) <= FOLD_MAX) {
        if (set_known(c, y) != 0)
            return -1;
        for (int64_t f = 0; f < count_of(&y->type); f++) {
            int64_t idx[PAT_MAX_RANK * 2], ii[PAT_MAX_RANK], xi[PAT_MAX_RANK];
            unflat(&y->type, f, idx);
            for (int k = 0; k < q; k++)
                ii[k] = idx[axis + k];
            int64_t g = (int64_t)known_at(ind, flat_of(&ind->type, ii));
            if (g < 0)
                g += D;
            for (int k = 0; k < r; k++)
                xi[k] = k < axis ? idx[k] : k == axis ? g : idx[k + q - 1];
            y->kv[f] = known_at(x, flat_of(&x->type, xi));
        }
        return y->is_graph_output ? define_copy(c, n, y, y) : 0;
    }
    const char *idx[PAT_MAX_RANK];
    int mode = emit_begin(c, n, y, idx);
    if (!mode)
        return 0;
    const char *ii[PAT_MAX_RANK], *xi[PAT_MAX_RANK];
    for (int k = 0; k < q; k++)
        ii[k] = idx[axis + k];
    const char *g = access(c, ind, ii), *lets = "";
    bool nonneg = true;
    if (is_known(ind))
        for (int64_t f = 0; f < count_of(&ind->type); f++)
            nonneg = nonneg && known_at(ind, f) >= 0;
    else
        nonneg = false;
    if (!nonneg) {
        g = bind(c, &lets, g);
        g = S(c, "(%s < 0 ? %s + %" PRId64 " : %s)", g, g, D, g);
    }
    for (int k = 0; k < r; k++)
        xi[k] = k < axis ? idx[k] : k == axis ? g : idx[k + q - 1];
    emit_end(c, mode, y, block(c, lets, access(c, x, xi)));
    return 0;
}

/* ------------------------------------------------------------------ */
/* Contractions                                                        */

static int op_matmul(ox_ctx *c, ox_node *n)
{
    ox_value *A = n->in[0], *B = n->in[1], *y = out0(n);
    if (!A || !B)
        return ox_node_error(c, n, "MatMul needs two inputs");
    if (A->type.elem != B->type.elem)
        return ox_node_error(c, n, "operands of different element types");
    int ra = A->type.rank, rb = B->type.rank;
    if (ra < 1 || rb < 1)
        return ox_node_error(c, n, "MatMul of a scalar");
    int64_t K = A->type.dims[ra - 1];
    int64_t kb = rb == 1 ? B->type.dims[0] : B->type.dims[rb - 2];
    if (K != kb)
        return ox_node_error(c, n, "inner dimensions differ (%" PRId64 " and %" PRId64 ")", K, kb);
    /* batch dimensions broadcast */
    int ba = ra > 2 ? ra - 2 : 0, bb = rb > 2 ? rb - 2 : 0, nb = ba > bb ? ba : bb;
    int64_t dims[PAT_MAX_RANK + 2];
    for (int k = 0; k < nb; k++) {
        int64_t da = k - (nb - ba) >= 0 ? A->type.dims[k - (nb - ba)] : 1;
        int64_t db = k - (nb - bb) >= 0 ? B->type.dims[k - (nb - bb)] : 1;
        if (da != db && da != 1 && db != 1)
            return ox_node_error(c, n, "batch dimensions %" PRId64 " and %" PRId64 " do not broadcast", da, db);
        dims[k] = da == 1 ? db : da;
    }
    int yr = nb;
    if (ra > 1)
        dims[yr++] = A->type.dims[ra - 2];
    if (rb > 1)
        dims[yr++] = B->type.dims[rb - 1];
    if (check_dims(c, n, yr, dims) != 0)
        return -1;
    set_type(y, A->type.elem, yr, dims, A->dtype);
    const char *idx[PAT_MAX_RANK];
    int mode = emit_begin(c, n, y, idx);
    if (!mode)
        return 0;
    const char *ai[PAT_MAX_RANK], *bi[PAT_MAX_RANK];
    for (int k = 0; k < ba; k++)
        ai[k] = A->type.dims[k] == 1 ? "0" : idx[nb - ba + k];
    for (int k = 0; k < bb; k++)
        bi[k] = B->type.dims[k] == 1 ? "0" : idx[nb - bb + k];
    if (ra > 1)
        ai[ra - 2] = A->type.dims[ra - 2] == 1 ? "0" : idx[nb];
    ai[ra - 1] = "_k0";
    if (rb > 1) {
        bi[rb - 2] = "_k0";
        bi[rb - 1] = B->type.dims[rb - 1] == 1 ? "0" : idx[yr - 1];
    } else
        bi[0] = "_k0";
    emit_end(c, mode, y, S(c, "reduce (_k0: %" PRId64 ") + { %s * %s }", K, access(c, A, ai), access(c, B, bi)));
    return 0;
}

static int op_gemm(ox_ctx *c, ox_node *n)
{
    ox_value *A = n->in[0], *B = n->in[1], *C = n->n_in > 2 ? n->in[2] : NULL, *y = out0(n);
    if (!A || !B)
        return ox_node_error(c, n, "Gemm needs A and B");
    if (A->type.rank != 2 || B->type.rank != 2)
        return ox_node_error(c, n, "A and B must be matrices");
    if (A->type.elem != PAT_F32 || B->type.elem != PAT_F32 || (C && C->type.elem != PAT_F32))
        return ox_node_error(c, n, "only float Gemm is supported");
    bool ta = attr_i(n, "transA", 0), tb = attr_i(n, "transB", 0);
    double alpha = attr_f(n, "alpha", 1.0), beta = attr_f(n, "beta", 1.0);
    int64_t M = A->type.dims[ta ? 1 : 0], K = A->type.dims[ta ? 0 : 1];
    int64_t K2 = B->type.dims[tb ? 1 : 0], N = B->type.dims[tb ? 0 : 1];
    if (K != K2)
        return ox_node_error(c, n, "inner dimensions differ (%" PRId64 " and %" PRId64 ")", K, K2);
    int64_t dims[2] = {M, N};
    if (C) {
        bool ok = C->type.rank <= 2;
        for (int k = 0; ok && k < C->type.rank; k++)
            ok = C->type.dims[k] == 1 || C->type.dims[k] == dims[2 - C->type.rank + k];
        if (!ok)
            return ox_node_error(c, n, "C does not broadcast to [%" PRId64 "][%" PRId64 "]", M, N);
    }
    if (check_dims(c, n, 2, dims) != 0)
        return -1;
    set_type(y, PAT_F32, 2, dims, OX_FLOAT);
    const char *idx[PAT_MAX_RANK];
    int mode = emit_begin(c, n, y, idx);
    if (!mode)
        return 0;
    const char *ai[2] = {ta ? "_k0" : idx[0], ta ? idx[0] : "_k0"};
    const char *bi[2] = {tb ? idx[1] : "_k0", tb ? "_k0" : idx[1]};
    const char *e = S(c, "reduce (_k0: %" PRId64 ") + { %s * %s }", K, access(c, A, ai), access(c, B, bi));
    if (alpha != 1.0)
        e = S(c, "%s * %s", e, lit(c, alpha, PAT_F32));
    if (C && beta != 0.0) {
        const char *cv = access_bcast(c, C, 2, idx);
        e = beta == 1.0 ? S(c, "%s + %s", e, cv) : S(c, "%s + %s * %s", e, lit(c, beta, PAT_F32), cv);
    }
    emit_end(c, mode, y, e);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Reductions and normalisations                                       */

static int op_reduce(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *y = out0(n);
    int r = x->type.rank;
    const char *op = n->op;
    bool sum = !strcmp(op, "ReduceSum"), mean = !strcmp(op, "ReduceMean"), mx = !strcmp(op, "ReduceMax"),
         mn = !strcmp(op, "ReduceMin"), prod = !strcmp(op, "ReduceProd"), sq = !strcmp(op, "ReduceSumSquare"),
         l1 = !strcmp(op, "ReduceL1"), l2 = !strcmp(op, "ReduceL2"), lse = !strcmp(op, "ReduceLogSumExp"),
         ls = !strcmp(op, "ReduceLogSum");
    int64_t axes[PAT_MAX_RANK + 1];
    bool absent;
    int na = get_axes(c, n, sum ? 13 : 18, axes, &absent);
    if (na < 0)
        return -1;
    bool keep = attr_i(n, "keepdims", 1) != 0;
    if (absent || na == 0) {
        if (sum && n->opset >= 13 && attr_i(n, "noop_with_empty_axes", 0))
            return op_identity(c, n);
        na = r;
        for (int k = 0; k < r; k++)
            axes[k] = k;
    }
    if (norm_axes(c, n, axes, na, r) != 0)
        return -1;
    if ((mean || l2 || ls || lse) && x->type.elem != PAT_F32)
        return ox_node_error(c, n, "only float is supported");
    bool red[PAT_MAX_RANK] = {0};
    for (int k = 0; k < na; k++)
        red[axes[k]] = true;
    int64_t dims[PAT_MAX_RANK];
    int yr = 0;
    int64_t cnt = 1;
    for (int k = 0; k < r; k++) {
        if (red[k])
            cnt *= x->type.dims[k];
        if (!red[k])
            dims[yr++] = x->type.dims[k];
        else if (keep)
            dims[yr++] = 1;
    }
    set_type(y, x->type.elem, yr, dims, x->dtype);
    const char *idx[PAT_MAX_RANK];
    int mode = emit_begin(c, n, y, idx);
    if (!mode)
        return 0;
    const char *xi[PAT_MAX_RANK], *ks = "";
    int ko = 0, yo = 0;
    for (int k = 0; k < r; k++) {
        if (red[k]) {
            xi[k] = S(c, "_k%d", ko);
            ks = S(c, "%s%s_k%d: %d", ks, ko ? ", " : "", ko, x->type.dims[k]);
            ko++;
            if (keep)
                yo++;
        } else
            xi[k] = idx[yo++];
    }
    const char *v = access(c, x, xi), *lets = "";
    if (sq || l2) {
        const char *t = bind(c, &lets, v);
        v = block(c, lets, S(c, "%s * %s", t, t));
    } else if (l1)
        v = S(c, "abs(%s)", v);
    else if (lse)
        v = S(c, "exp(%s)", v);
    const char *rop = mx ? "max" : mn ? "min" : prod ? "*" : "+";
    const char *e = S(c, "reduce (%s) %s { %s }", ks, rop, v);
    if (mean)
        e = S(c, "%s / %s", e, lit(c, (double)cnt, PAT_F32));
    if (l2)
        e = S(c, "sqrt(%s)", e);
    if (ls || lse)
        e = S(c, "log(%s)", e);
    emit_end(c, mode, y, e);
    return 0;
}

/* Softmax, LogSoftmax: over one axis (opset 13 on) or over every axis from
 * `axis` on (before 13, the input coerced to a matrix). */
static int op_softmax(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *y = out0(n);
    int r = x->type.rank;
    bool logsm = !strcmp(n->op, "LogSoftmax");
    if (x->type.elem != PAT_F32)
        return ox_node_error(c, n, "only float is supported");
    bool v13 = n->opset >= 13;
    int64_t axis = attr_i(n, "axis", v13 ? -1 : 1);
    if (axis < 0)
        axis += r;
    if (axis < 0 || axis >= (r ? r : 1))
        return ox_node_error(c, n, "axis %" PRId64 " is out of range for rank %d", attr_i(n, "axis", 0), r);
    if (r == 0)
        return ox_node_error(c, n, "softmax of a scalar");
    y->type = x->type;
    y->typed = true;
    y->dtype = OX_FLOAT;
    int lo = (int)axis, hi = v13 ? (int)axis + 1 : r; /* reduced dims [lo, hi) */
    const char *idx[PAT_MAX_RANK];
    /* map over the dims before lo; lets over the reduction; inner map over [lo, r) */
    declare(c, y, y->is_graph_output ? PAT_OUTPUT : PAT_BUFFER);
    y->form = OXF_DECL;
    c->fresh = 0;
    put_def(c, "# node %d '%s' (%s)\n", n->pos, n->p->name ? n->p->name : "", n->op);
    names(c, "i", lo, idx);
    const char *inner[PAT_MAX_RANK], *ks = "", *xi[PAT_MAX_RANK], *xj[PAT_MAX_RANK];
    for (int k = lo; k < r; k++)
        inner[k - lo] = S(c, "_j%d", k - lo);
    /* reduction indices over [lo, hi); the dims in [hi, r) index the lets' rows */
    const char *rowdims = "";
    for (int k = 0; k < r; k++) {
        if (k < lo)
            xi[k] = xj[k] = idx[k];
        else if (k < hi) {
            xi[k] = S(c, "_k%d", k - lo);
            ks = S(c, "%s%s_k%d: %d", ks, k > lo ? ", " : "", k - lo, x->type.dims[k]);
            xj[k] = inner[k - lo];
        } else {
            xi[k] = S(c, "_r%d", k - hi);
            xj[k] = inner[k - lo];
            rowdims = S(c, "%s%s_r%d: %d", rowdims, k > hi ? ", " : "", k - hi, x->type.dims[k]);
        }
    }
    const char *xk = access(c, x, xi), *xv = access(c, x, xj);
    const char *m = "_tm", *s = "_ts";
    const char *mrow = m, *srow = s;
    if (hi < r) {
        /* rows of the trailing dims: m and s are tensors indexed by them */
        const char *ri = "";
        for (int k = hi; k < r; k++)
            ri = S(c, "%s[%s]", ri, inner[k - lo]);
        mrow = S(c, "%s%s", m, ri);
        srow = S(c, "%s%s", s, ri);
    }
    const char *mk = m;
    if (hi < r) {
        const char *ri = "";
        for (int k = hi; k < r; k++)
            ri = S(c, "%s[_r%d]", ri, k - hi);
        mk = S(c, "%s%s", m, ri);
    }
    const char *body_m = S(c, "reduce (%s) max { %s }", ks, xk);
    const char *body_s = S(c, "reduce (%s) + { exp(%s - %s) }", ks, xk, mk);
    if (hi < r) {
        body_m = S(c, "map (%s) { %s }", rowdims, body_m);
        body_s = S(c, "map (%s) { %s }", rowdims, body_s);
    }
    const char *res = logsm ? S(c, "%s - %s - log(%s)", xv, mrow, srow) : S(c, "exp(%s - %s) / %s", xv, mrow, srow);
    const char *innermap = index_list(c, inner, x->type.dims + lo, r - lo);
    const char *body = S(c, "{ let %s = %s; let %s = %s; map %s { %s } }", m, body_m, s, body_s, innermap, res);
    if (lo == 0)
        put_def(c, "%s = %s\n", y->pat, body);
    else
        put_def(c, "%s = map %s %s\n", y->pat, index_list(c, idx, x->type.dims, lo), body);
    return 0;
}

static int op_layernorm(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *sc = n->in[1], *b = n->n_in > 2 ? n->in[2] : NULL, *y = out0(n);
    if (!x || !sc)
        return ox_node_error(c, n, "LayerNormalization needs X and Scale");
    if (n->n_out > 3)
        return ox_node_error(c, n, "more than three outputs");
    int r = x->type.rank;
    if (x->type.elem != PAT_F32)
        return ox_node_error(c, n, "only float is supported");
    int64_t axis = attr_i(n, "axis", -1);
    if (axis < 0)
        axis += r;
    if (axis < 0 || axis >= r)
        return ox_node_error(c, n, "axis %" PRId64 " is out of range for rank %d", attr_i(n, "axis", -1), r);
    double eps = attr_f(n, "epsilon", 1e-5);
    int lo = (int)axis;
    for (int q = 1; q < 3 && q < n->n_in; q++) {
        ox_value *p = n->in[q];
        bool ok = !p || p->type.rank <= r - lo;
        for (int k = 0; ok && k < p->type.rank; k++) {
            int32_t want = x->type.dims[r - p->type.rank + k];
            ok = p->type.dims[k] == 1 || p->type.dims[k] == want;
        }
        if (!ok)
            return ox_node_error(c, n, "input %d does not broadcast to the normalised dimensions", q);
    }
    int64_t cnt = 1;
    for (int k = lo; k < r; k++)
        cnt *= x->type.dims[k];
    y->type = x->type;
    y->typed = true;
    y->dtype = OX_FLOAT;
    declare(c, y, y->is_graph_output ? PAT_OUTPUT : PAT_BUFFER);
    y->form = OXF_DECL;
    c->fresh = 0;
    put_def(c, "# node %d '%s' (%s)\n", n->pos, n->p->name ? n->p->name : "", n->op);
    const char *idx[PAT_MAX_RANK], *inner[PAT_MAX_RANK], *xi[PAT_MAX_RANK], *xj[PAT_MAX_RANK], *ks = "";
    names(c, "i", lo, idx);
    for (int k = 0; k < r; k++) {
        if (k < lo)
            xi[k] = xj[k] = idx[k];
        else {
            xi[k] = S(c, "_k%d", k - lo);
            inner[k - lo] = xj[k] = S(c, "_j%d", k - lo);
            ks = S(c, "%s%s_k%d: %d", ks, k > lo ? ", " : "", k - lo, x->type.dims[k]);
        }
    }
    const char *xk = access(c, x, xi), *xv = access(c, x, xj);
    const char *nn = lit(c, (double)cnt, PAT_F32);
    /* Scale and B broadcast to the normalised dims */
    const char *sv = access_bcast(c, sc, r - lo, inner);
    const char *bv = b ? access_bcast(c, b, r - lo, inner) : NULL;
    const char *res = S(c, "(%s - _tmean) * _tinv * %s%s%s", xv, sv, bv ? " + " : "", bv ? bv : "");
    const char *body = S(c, "{ let _tmean = reduce (%s) + { %s } / %s; let _tvar = reduce (%s) + { let _tc = %s - _tmean; "
                            "_tc * _tc } / %s; let _tinv = 1.0 / sqrt(_tvar + %s); map %s { %s } }",
                         ks, xk, nn, ks, xk, nn, lit(c, eps, PAT_F32), index_list(c, inner, x->type.dims + lo, r - lo),
                         res);
    if (lo == 0)
        put_def(c, "%s = %s\n", y->pat, body);
    else
        put_def(c, "%s = map %s %s\n", y->pat, index_list(c, idx, x->type.dims, lo), body);
    /* the optional Mean and InvStdDev: X's shape with the normalised dims 1 */
    for (int q = 1; q < n->n_out; q++) {
        ox_value *o = n->out[q];
        if (!o)
            continue;
        o->type = x->type;
        o->typed = true;
        o->dtype = OX_FLOAT;
        for (int k = lo; k < r; k++)
            o->type.dims[k] = 1;
        const char *oi[PAT_MAX_RANK];
        begin_def(c, n, o, oi);
        const char *mean = S(c, "reduce (%s) + { %s } / %s", ks, xk, nn);
        if (q == 1)
            put_def(c, "%s", mean);
        else
            put_def(c, "{ let _tmean = %s; 1.0 / sqrt(reduce (%s) + { let _tc = %s - _tmean; _tc * _tc } / %s + %s) }",
                    mean, ks, xk, nn, lit(c, eps, PAT_F32));
        end_def(c, o);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Convolution and pooling                                             */

typedef struct window {
    int ns;                      /* spatial dims */
    int64_t k[PAT_MAX_RANK], s[PAT_MAX_RANK], dl[PAT_MAX_RANK], pb[PAT_MAX_RANK], pe[PAT_MAX_RANK];
    int64_t in[PAT_MAX_RANK], out[PAT_MAX_RANK];
} window;

/* Kernel, strides, dilations, pads (auto_pad included) and output sizes. */
static int window_of(ox_ctx *c, ox_node *n, const ox_value *x, const int64_t *kernel, window *w, bool ceil_ok)
{
    int ns = x->type.rank - 2;
    if (ns < 1)
        return ox_node_error(c, n, "the input must have batch, channel and at least one spatial dimension");
    w->ns = ns;
    int64_t tmp[2 * PAT_MAX_RANK + 1];
    for (int k = 0; k < ns; k++) {
        w->k[k] = kernel[k];
        w->in[k] = x->type.dims[2 + k];
        w->s[k] = w->dl[k] = 1;
        w->pb[k] = w->pe[k] = 0;
    }
    int cnt;
    if ((cnt = attr_ints(n, "strides", tmp, PAT_MAX_RANK)) >= 0) {
        if (cnt != ns)
            return ox_node_error(c, n, "strides has %d entries for %d spatial dimensions", cnt, ns);
        for (int k = 0; k < ns; k++)
            w->s[k] = tmp[k];
    }
    if ((cnt = attr_ints(n, "dilations", tmp, PAT_MAX_RANK)) >= 0) {
        if (cnt != ns)
            return ox_node_error(c, n, "dilations has %d entries for %d spatial dimensions", cnt, ns);
        for (int k = 0; k < ns; k++)
            w->dl[k] = tmp[k];
    }
    for (int k = 0; k < ns; k++)
        if (w->s[k] < 1 || w->dl[k] < 1 || w->k[k] < 1)
            return ox_node_error(c, n, "kernel, strides and dilations must be positive");
    const char *ap = attr_s(c, n, "auto_pad", "NOTSET");
    bool ceil = ceil_ok && attr_i(n, "ceil_mode", 0);
    if (!strcmp(ap, "NOTSET")) {
        if ((cnt = attr_ints(n, "pads", tmp, 2 * PAT_MAX_RANK)) >= 0) {
            if (cnt != 2 * ns)
                return ox_node_error(c, n, "pads has %d entries for %d spatial dimensions", cnt, ns);
            for (int k = 0; k < ns; k++) {
                w->pb[k] = tmp[k];
                w->pe[k] = tmp[ns + k];
                if (w->pb[k] < 0 || w->pe[k] < 0)
                    return ox_node_error(c, n, "negative pads are not supported");
            }
        }
        for (int k = 0; k < ns; k++) {
            int64_t span = w->in[k] + w->pb[k] + w->pe[k] - ((w->k[k] - 1) * w->dl[k] + 1);
            if (span < 0)
                return ox_node_error(c, n, "the window is larger than the padded input");
            w->out[k] = (ceil ? (span + w->s[k] - 1) / w->s[k] : span / w->s[k]) + 1;
            /* a window must start inside the input or its begin padding */
            if (ceil && (w->out[k] - 1) * w->s[k] >= w->in[k] + w->pb[k])
                w->out[k]--;
        }
    } else if (!strcmp(ap, "VALID")) {
        for (int k = 0; k < ns; k++) {
            int64_t span = w->in[k] - ((w->k[k] - 1) * w->dl[k] + 1);
            if (span < 0)
                return ox_node_error(c, n, "the window is larger than the input");
            w->out[k] = span / w->s[k] + 1;
        }
    } else if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
        for (int k = 0; k < ns; k++) {
            w->out[k] = (w->in[k] + w->s[k] - 1) / w->s[k];
            int64_t total = (w->out[k] - 1) * w->s[k] + (w->k[k] - 1) * w->dl[k] + 1 - w->in[k];
            if (total < 0)
                total = 0;
            w->pb[k] = !strcmp(ap, "SAME_UPPER") ? total / 2 : total - total / 2;
            w->pe[k] = total - w->pb[k];
        }
    } else
        return ox_node_error(c, n, "auto_pad '%s' is not supported", ap);
    return 0;
}

/* Per spatial dim k, the input coordinate of output o and kernel offset q. */
static const char *coord(ox_ctx *c, const window *w, int k, const char *o, const char *q)
{
    const char *a = w->s[k] == 1 ? o : S(c, "%s * %" PRId64, o, w->s[k]);
    const char *b = w->dl[k] == 1 ? q : S(c, "%s * %" PRId64, q, w->dl[k]);
    const char *e = S(c, "%s + %s", a, b);
    if (w->pb[k])
        e = S(c, "%s - %" PRId64, e, w->pb[k]);
    return e;
}

/* Whether any window reaches outside the input in dim k. */
static bool needs_guard(const window *w, int k)
{
    return w->pb[k] > 0 || (w->out[k] - 1) * w->s[k] + (w->k[k] - 1) * w->dl[k] - w->pb[k] >= w->in[k];
}

static int op_conv(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *wt = n->in[1], *b = n->n_in > 2 ? n->in[2] : NULL, *y = out0(n);
    if (!x || !wt)
        return ox_node_error(c, n, "Conv needs X and W");
    if (x->type.elem != PAT_F32 || wt->type.elem != PAT_F32)
        return ox_node_error(c, n, "only float Conv is supported");
    int r = x->type.rank;
    if (wt->type.rank != r)
        return ox_node_error(c, n, "W must have the rank of X");
    int64_t group = attr_i(n, "group", 1);
    int64_t N = x->type.dims[0], C = x->type.dims[1], M = wt->type.dims[0], Cg = wt->type.dims[1];
    if (group < 1 || C % group || M % group || Cg != C / group)
        return ox_node_error(c, n, "group %" PRId64 " does not fit %" PRId64 " input channels, %" PRId64
                             " filters of %" PRId64 " channels", group, C, M, Cg);
    int64_t kernel[PAT_MAX_RANK], ks[PAT_MAX_RANK + 1];
    int nk = attr_ints(n, "kernel_shape", ks, PAT_MAX_RANK);
    for (int k = 0; k < r - 2; k++) {
        kernel[k] = wt->type.dims[2 + k];
        if (nk >= 0 && (nk != r - 2 || ks[k] != kernel[k]))
            return ox_node_error(c, n, "kernel_shape differs from W's shape");
    }
    window w;
    if (window_of(c, n, x, kernel, &w, false) != 0)
        return -1;
    if (b && (b->type.rank != 1 || b->type.dims[0] != M))
        return ox_node_error(c, n, "B must have shape [%" PRId64 "]", M);
    int64_t dims[PAT_MAX_RANK];
    dims[0] = N;
    dims[1] = M;
    for (int k = 0; k < w.ns; k++)
        dims[2 + k] = w.out[k];
    if (check_dims(c, n, r, dims) != 0)
        return -1;
    set_type(y, PAT_F32, r, dims, OX_FLOAT);
    const char *idx[PAT_MAX_RANK];
    int mode = emit_begin(c, n, y, idx);
    if (!mode)
        return 0;
    const char *ksl = S(c, "_k0: %" PRId64, Cg), *lets = "", *guard = "";
    const char *xi[PAT_MAX_RANK], *wi[PAT_MAX_RANK];
    xi[0] = idx[0];
    xi[1] = group == 1 ? "_k0" : S(c, "%s / %" PRId64 " * %" PRId64 " + _k0", idx[1], M / group, Cg);
    if (group == C && Cg == 1)
        xi[1] = group == M ? idx[1] : S(c, "%s / %" PRId64, idx[1], M / group);
    wi[0] = idx[1];
    wi[1] = "_k0";
    for (int k = 0; k < w.ns; k++) {
        const char *q = S(c, "_k%d", k + 1);
        ksl = S(c, "%s, %s: %" PRId64, ksl, q, w.k[k]);
        wi[2 + k] = q;
        const char *e = coord(c, &w, k, idx[2 + k], q);
        if (needs_guard(&w, k)) {
            const char *t = fresh(c);
            lets = S(c, "%slet %s = %s; ", lets, t, e);
            guard = S(c, "%s%s%s >= 0 && %s < %" PRId64, guard, *guard ? " && " : "", t, t, w.in[k]);
            xi[2 + k] = t;
        } else
            xi[2 + k] = e;
    }
    const char *prod = S(c, "%s * %s", access(c, x, xi), access(c, wt, wi));
    if (*guard)
        prod = S(c, "%s ? %s : 0.0", guard, prod);
    const char *e = S(c, "reduce (%s) + { %s%s }", ksl, lets, prod);
    if (b) {
        const char *bi[1] = {idx[1]};
        e = S(c, "%s + %s", e, access(c, b, bi));
    }
    emit_end(c, mode, y, e);
    return 0;
}

static int op_pool(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *y = out0(n);
    bool global = !strncmp(n->op, "Global", 6);
    bool is_max = strstr(n->op, "Max") != NULL;
    if (x->type.elem != PAT_F32)
        return ox_node_error(c, n, "only float pooling is supported");
    if (n->n_out > 1 && n->out[1])
        return ox_node_error(c, n, "the Indices output is not supported");
    int r = x->type.rank;
    if (r < 3)
        return ox_node_error(c, n, "the input must have batch, channel and spatial dimensions");
    int64_t kernel[PAT_MAX_RANK], ks[PAT_MAX_RANK + 1];
    window w;
    if (global) {
        memset(&w, 0, sizeof w);
        w.ns = r - 2;
        for (int k = 0; k < w.ns; k++) {
            w.k[k] = w.in[k] = x->type.dims[2 + k];
            w.s[k] = w.dl[k] = w.out[k] = 1;
        }
    } else {
        int nk = attr_ints(n, "kernel_shape", ks, PAT_MAX_RANK);
        if (nk != r - 2)
            return ox_node_error(c, n, "kernel_shape must have one entry per spatial dimension");
        for (int k = 0; k < nk; k++)
            kernel[k] = ks[k];
        if (!is_max && attr(n, "dilations") && n->opset < 19) {
            int64_t dl[PAT_MAX_RANK + 1];
            int nd = attr_ints(n, "dilations", dl, PAT_MAX_RANK);
            for (int k = 0; k < nd && k < PAT_MAX_RANK; k++)
                if (dl[k] != 1)
                    return ox_node_error(c, n, "AveragePool has no dilations before opset 19");
        }
        if (window_of(c, n, x, kernel, &w, true) != 0)
            return -1;
    }
    int64_t dims[PAT_MAX_RANK];
    dims[0] = x->type.dims[0];
    dims[1] = x->type.dims[1];
    for (int k = 0; k < w.ns; k++)
        dims[2 + k] = w.out[k];
    set_type(y, PAT_F32, r, dims, OX_FLOAT);
    const char *idx[PAT_MAX_RANK];
    int mode = emit_begin(c, n, y, idx);
    if (!mode)
        return 0;
    const char *ksl = "", *guard = "", *xi[PAT_MAX_RANK];
    xi[0] = idx[0];
    xi[1] = idx[1];
    const char *cnt_in = "", *cnt_pad = "";
    int64_t full = 1;
    for (int k = 0; k < w.ns; k++) {
        const char *q = S(c, "_k%d", k);
        ksl = S(c, "%s%s%s: %" PRId64, ksl, k ? ", " : "", q, w.k[k]);
        full *= w.k[k];
        const char *e = global ? q : coord(c, &w, k, idx[2 + k], q);
        xi[2 + k] = e;
        if (!global && needs_guard(&w, k)) {
            guard = S(c, "%s%s%s >= 0 && %s < %" PRId64, guard, *guard ? " && " : "", e, e, w.in[k]);
            /* the window's extent inside the input, and inside the padded input */
            const char *st = w.s[k] == 1 ? idx[2 + k] : S(c, "%s * %" PRId64, idx[2 + k], w.s[k]);
            const char *lo = w.pb[k] ? S(c, "(%s - %" PRId64 ")", st, w.pb[k]) : st;
            const char *one = S(c, "(min(%s + %" PRId64 ", %" PRId64 ") - max(%s, 0))", lo, w.k[k], w.in[k], lo);
            const char *onep = S(c, "(min(%s + %" PRId64 ", %" PRId64 ") - %s)", lo, w.k[k], w.in[k] + w.pe[k], lo);
            cnt_in = S(c, "%s%s%s", cnt_in, *cnt_in ? " * " : "", one);
            cnt_pad = S(c, "%s%s%s", cnt_pad, *cnt_pad ? " * " : "", onep);
        } else {
            const char *one = S(c, "%" PRId64, w.k[k]);
            cnt_in = S(c, "%s%s%s", cnt_in, *cnt_in ? " * " : "", one);
            cnt_pad = S(c, "%s%s%s", cnt_pad, *cnt_pad ? " * " : "", one);
        }
    }
    const char *v = access(c, x, xi), *e;
    if (is_max)
        e = *guard ? S(c, "reduce (%s) max where %s { %s }", ksl, guard, v) : S(c, "reduce (%s) max { %s }", ksl, v);
    else {
        e = *guard ? S(c, "reduce (%s) + where %s { %s }", ksl, guard, v) : S(c, "reduce (%s) + { %s }", ksl, v);
        if (!*guard)
            e = S(c, "%s / %s", e, lit(c, (double)full, PAT_F32));
        else {
            bool incl = attr_i(n, "count_include_pad", 0) != 0;
            e = S(c, "%s / f32(%s)", e, incl ? cnt_pad : cnt_in);
        }
    }
    emit_end(c, mode, y, e);
    return 0;
}

/* ------------------------------------------------------------------ */
/* More views: Expand, Tile, Split, DepthToSpace, SpaceToDepth          */

/* A new anonymous view of base (an intermediate of a composite view). */
static ox_value *new_view(ox_ctx *c, ox_node *n, ox_value *base, ox_view kind, int rank, const int64_t *dims)
{
    ox_value *v = ox_value_new(c, S(c, "%s_view%d", n->out[0]->name, ++c->fresh));
    if (!v) {
        c->oom = true;
        return NULL;
    }
    make_view(v, base, kind);
    v->type.rank = rank;
    for (int k = 0; k < rank; k++)
        v->type.dims[k] = (int32_t)dims[k];
    v->uses = 1;
    return v;
}

static int op_expand(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *y = out0(n);
    int64_t shape[PAT_MAX_RANK + 1], dims[PAT_MAX_RANK];
    int ns = known_ints(c, n, n->n_in > 1 ? n->in[1] : NULL, "shape", shape, PAT_MAX_RANK + 1);
    if (ns < 0)
        return -1;
    if (ns > PAT_MAX_RANK)
        return ox_node_error(c, n, "the output has more than %d dimensions", PAT_MAX_RANK);
    int r = ns > x->type.rank ? ns : x->type.rank;
    for (int k = 0; k < r; k++) {
        int64_t a = k - (r - x->type.rank) >= 0 ? x->type.dims[k - (r - x->type.rank)] : 1;
        int64_t b = k - (r - ns) >= 0 ? shape[k - (r - ns)] : 1;
        if (a != b && a != 1 && b != 1)
            return ox_node_error(c, n, "shape entry %" PRId64 " does not broadcast with dimension %" PRId64, b, a);
        dims[k] = a == 1 ? b : a;
    }
    if (check_dims(c, n, r, dims) != 0)
        return -1;
    make_view(y, x, OXV_BCAST);
    y->type.rank = r;
    for (int k = 0; k < r; k++)
        y->type.dims[k] = (int32_t)dims[k];
    return finish_view(c, n, y);
}

static int op_tile(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *y = out0(n);
    int64_t rep[PAT_MAX_RANK + 1], dims[PAT_MAX_RANK];
    int nr = known_ints(c, n, n->n_in > 1 ? n->in[1] : NULL, "repeats", rep, PAT_MAX_RANK + 1);
    if (nr < 0)
        return -1;
    if (nr != x->type.rank)
        return ox_node_error(c, n, "repeats has %d entries for an input of rank %d", nr, x->type.rank);
    for (int k = 0; k < nr; k++)
        dims[k] = x->type.dims[k] * rep[k];
    if (check_dims(c, n, nr, dims) != 0)
        return -1;
    make_view(y, x, OXV_TILE);
    y->type.rank = nr;
    for (int k = 0; k < nr; k++)
        y->type.dims[k] = (int32_t)dims[k];
    return finish_view(c, n, y);
}

static int op_split(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0];
    int r = x->type.rank;
    int64_t axis = attr_i(n, "axis", 0);
    if (axis < 0)
        axis += r;
    if (axis < 0 || axis >= r)
        return ox_node_error(c, n, "axis %" PRId64 " is out of range for rank %d", attr_i(n, "axis", 0), r);
    int64_t sizes[64];
    int ns;
    if (n->opset < 13)
        ns = attr_ints(n, "split", sizes, 63);
    else
        ns = n->n_in > 1 && n->in[1] ? known_ints(c, n, n->in[1], "split", sizes, 63) : -1;
    if (ns == -1 && n->opset >= 13 && n->n_in > 1 && n->in[1])
        return -1;
    if (ns < 0) {
        int64_t d = x->type.dims[axis];
        if (d % n->n_out)
            return ox_node_error(c, n, "dimension %" PRId64 " of size %" PRId64 " does not split into %d equal parts",
                                 axis, d, n->n_out);
        ns = n->n_out;
        for (int k = 0; k < ns; k++)
            sizes[k] = d / n->n_out;
    }
    if (ns != n->n_out || ns > 63)
        return ox_node_error(c, n, "%d split sizes for %d outputs", ns, n->n_out);
    int64_t total = 0;
    for (int k = 0; k < ns; k++)
        total += sizes[k];
    if (total != x->type.dims[axis])
        return ox_node_error(c, n, "the split sizes add up to %" PRId64 ", not %d", total, x->type.dims[axis]);
    int64_t off = 0;
    for (int q = 0; q < n->n_out; q++) {
        ox_value *y = n->out[q];
        int64_t len = sizes[q];
        if (y) {
            if (len < 1)
                return ox_node_error(c, n, "output %d is empty: rdumap's tensors have at least one element", q);
            make_view(y, x, OXV_SLICE);
            y->type.rank = r;
            for (int k = 0; k < r; k++) {
                y->start[k] = k == axis ? off : 0;
                y->step[k] = 1;
                y->type.dims[k] = k == axis ? (int32_t)len : x->type.dims[k];
            }
            if (finish_view(c, n, y) != 0)
                return -1;
        }
        off += len;
    }
    return 0;
}

/* DepthToSpace and SpaceToDepth: a reshape, a transpose and a reshape, all
 * three views. */
static int op_depth_space(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *y = out0(n);
    if (x->type.rank != 4)
        return ox_node_error(c, n, "the input must have rank 4");
    int64_t b = attr_i(n, "blocksize", 0), N = x->type.dims[0], C = x->type.dims[1], H = x->type.dims[2],
            W = x->type.dims[3];
    if (b < 1)
        return ox_node_error(c, n, "blocksize must be positive");
    bool d2s = !strcmp(n->op, "DepthToSpace");
    bool crd = d2s && !strcmp(attr_s(c, n, "mode", "DCR"), "CRD");
    int64_t d6[6], perm[6], out[4];
    if (d2s) {
        if (C % (b * b))
            return ox_node_error(c, n, "%" PRId64 " channels do not divide by blocksize^2", C);
        int64_t cc = C / (b * b);
        if (crd) {
            int64_t a[6] = {N, cc, b, b, H, W}, p6[6] = {0, 1, 4, 2, 5, 3};
            memcpy(d6, a, sizeof a);
            memcpy(perm, p6, sizeof p6);
        } else {
            int64_t a[6] = {N, b, b, cc, H, W}, p6[6] = {0, 3, 4, 1, 5, 2};
            memcpy(d6, a, sizeof a);
            memcpy(perm, p6, sizeof p6);
        }
        int64_t o4[4] = {N, cc, H * b, W * b};
        memcpy(out, o4, sizeof o4);
    } else {
        if (H % b || W % b)
            return ox_node_error(c, n, "the spatial dimensions do not divide by blocksize");
        int64_t a[6] = {N, C, H / b, b, W / b, b}, p6[6] = {0, 3, 5, 1, 2, 4};
        memcpy(d6, a, sizeof a);
        memcpy(perm, p6, sizeof p6);
        int64_t o4[4] = {N, C * b * b, H / b, W / b};
        memcpy(out, o4, sizeof o4);
    }
    ox_value *v1 = new_view(c, n, x, OXV_RESHAPE, 6, d6);
    if (!v1)
        return -1;
    int64_t pd[6];
    for (int k = 0; k < 6; k++)
        pd[k] = d6[perm[k]];
    ox_value *v2 = new_view(c, n, v1, OXV_PERM, 6, pd);
    if (!v2)
        return -1;
    for (int k = 0; k < 6; k++)
        v2->perm[k] = (int)perm[k];
    make_view(y, v2, OXV_RESHAPE);
    y->type.rank = 4;
    for (int k = 0; k < 4; k++)
        y->type.dims[k] = (int32_t)out[k];
    return finish_view(c, n, y);
}

static int op_range(ox_ctx *c, ox_node *n)
{
    ox_value *y = out0(n);
    for (int q = 0; q < 3; q++)
        if (q >= n->n_in || !n->in[q] || !is_known(n->in[q]) || count_of(&n->in[q]->type) != 1)
            return ox_node_error(c, n, "start, limit and delta must be one-element constants");
    double s = known_at(n->in[0], 0), l = known_at(n->in[1], 0), dl = known_at(n->in[2], 0);
    if (dl == 0)
        return ox_node_error(c, n, "a delta of 0");
    double cnt = ceil((l - s) / dl);
    if (cnt < 1 || cnt > FOLD_MAX)
        return ox_node_error(c, n, "the range has %.0f elements (1 to %d are supported)", cnt, FOLD_MAX);
    int64_t len = (int64_t)cnt;
    set_type(y, n->in[0]->type.elem, 1, &len, n->in[0]->dtype);
    if (set_known(c, y) != 0)
        return -1;
    for (int64_t k = 0; k < len; k++)
        y->kv[k] = y->type.elem == PAT_F32 ? (double)(float)(s + (double)k * dl) : s + (double)k * dl;
    return y->is_graph_output ? define_copy(c, n, y, y) : 0;
}

/* ------------------------------------------------------------------ */
/* More templates: Pad, Trilu, GatherElements, ArgMax, InstanceNorm     */

static int op_pad(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *y = out0(n);
    int r = x->type.rank;
    int64_t pads[2 * PAT_MAX_RANK + 1];
    int np;
    if (n->opset < 11)
        np = attr_ints(n, "pads", pads, 2 * PAT_MAX_RANK);
    else
        np = known_ints(c, n, n->n_in > 1 ? n->in[1] : NULL, "pads", pads, 2 * PAT_MAX_RANK + 1);
    if (np < 0 && n->opset >= 11)
        return -1;
    if (np != 2 * r)
        return ox_node_error(c, n, "pads must have %d entries", 2 * r);
    const char *mode = attr_s(c, n, "mode", "constant");
    bool cons = !strcmp(mode, "constant"), refl = !strcmp(mode, "reflect"), edge = !strcmp(mode, "edge");
    if (!cons && !refl && !edge)
        return ox_node_error(c, n, "mode '%s' is not supported", mode);
    double value = 0;
    const char *vtext = NULL;
    if (n->opset < 11)
        value = attr_f(n, "value", 0);
    else if (n->n_in > 2 && n->in[2]) {
        if (is_known(n->in[2]))
            value = known_at(n->in[2], 0);
        else
            vtext = "";
    }
    if (n->n_in > 3 && n->in[3])
        return ox_node_error(c, n, "the axes input (opset 18) is not supported");
    int64_t dims[PAT_MAX_RANK];
    for (int k = 0; k < r; k++) {
        if (pads[k] < 0 || pads[r + k] < 0)
            return ox_node_error(c, n, "negative pads are not supported");
        if (refl && (pads[k] >= x->type.dims[k] || pads[r + k] >= x->type.dims[k]))
            return ox_node_error(c, n, "reflect padding wider than the dimension");
        dims[k] = x->type.dims[k] + pads[k] + pads[r + k];
    }
    if (check_dims(c, n, r, dims) != 0)
        return -1;
    set_type(y, x->type.elem, r, dims, x->dtype);
    const char *idx[PAT_MAX_RANK];
    int mode_e = emit_begin(c, n, y, idx);
    if (!mode_e)
        return 0;
    const char *xi[PAT_MAX_RANK], *guard = "";
    for (int k = 0; k < r; k++) {
        int64_t pb = pads[k], d = x->type.dims[k];
        const char *i = pb ? S(c, "(%s - %" PRId64 ")", idx[k], pb) : idx[k];
        if (!pads[k] && !pads[r + k])
            xi[k] = idx[k];
        else if (cons) {
            xi[k] = i;
            guard = S(c, "%s%s%s >= 0 && %s < %" PRId64, guard, *guard ? " && " : "", i, i, d);
        } else if (edge)
            xi[k] = S(c, "min(max(%s, 0), %" PRId64 ")", i, d - 1);
        else
            xi[k] = S(c, "(%s < 0 ? -%s : (%s >= %" PRId64 " ? %" PRId64 " - %s : %s))", i, i, i, d, 2 * (d - 1), i, i);
    }
    const char *e = access(c, x, xi);
    if (*guard) {
        const char *zi[PAT_MAX_RANK] = {"0", "0", "0", "0", "0", "0", "0", "0"};
        const char *v = vtext ? access(c, n->in[2], zi) : lit(c, value, x->type.elem);
        e = S(c, "%s ? %s : %s", guard, e, v);
    }
    emit_end(c, mode_e, y, e);
    return 0;
}

static int op_trilu(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *y = out0(n);
    int r = x->type.rank;
    if (r < 2)
        return ox_node_error(c, n, "the input must have rank 2 or more");
    int64_t k = 0;
    if (n->n_in > 1 && n->in[1]) {
        int64_t kv[1];
        if (known_ints(c, n, n->in[1], "k", kv, 1) < 0)
            return -1;
        k = kv[0];
    }
    bool upper = attr_i(n, "upper", 1) != 0;
    y->type = x->type;
    y->typed = true;
    y->dtype = x->dtype;
    const char *idx[PAT_MAX_RANK];
    int mode = emit_begin(c, n, y, idx);
    if (!mode)
        return 0;
    const char *cond = S(c, "%s - %s %s %" PRId64, idx[r - 1], idx[r - 2], upper ? ">=" : "<=", k);
    emit_end(c, mode, y, S(c, "%s ? %s : %s", cond, access(c, x, idx), x->type.elem == PAT_F32 ? "0.0" : "0"));
    return 0;
}

static int op_gather_elements(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *ind = n->n_in > 1 ? n->in[1] : NULL, *y = out0(n);
    if (!ind || ind->type.elem != PAT_I32)
        return ox_node_error(c, n, "integer indices are needed");
    int r = x->type.rank;
    if (ind->type.rank != r)
        return ox_node_error(c, n, "the indices must have the data's rank");
    int64_t axis = attr_i(n, "axis", 0);
    if (axis < 0)
        axis += r;
    if (axis < 0 || axis >= r)
        return ox_node_error(c, n, "axis %" PRId64 " is out of range", attr_i(n, "axis", 0));
    for (int k = 0; k < r; k++)
        if (k != axis && ind->type.dims[k] > x->type.dims[k])
            return ox_node_error(c, n, "the indices are larger than the data in dimension %d", k);
    y->type = ind->type;
    y->type.elem = x->type.elem;
    y->typed = true;
    y->dtype = x->dtype;
    int64_t D = x->type.dims[axis];
    if (ind->graph_input >= 0 && !ind->declared) {
        ind->has_gen = true;
        ind->gen_lo = 0;
        ind->gen_hi = D;
    }
    const char *idx[PAT_MAX_RANK];
    int mode = emit_begin(c, n, y, idx);
    if (!mode)
        return 0;
    const char *lets = "", *g = bind(c, &lets, access(c, ind, idx)), *xi[PAT_MAX_RANK];
    for (int k = 0; k < r; k++)
        xi[k] = k == axis ? S(c, "(%s < 0 ? %s + %" PRId64 " : %s)", g, g, D, g) : idx[k];
    emit_end(c, mode, y, block(c, lets, access(c, x, xi)));
    return 0;
}

/* ArgMax, ArgMin: the first (or with select_last_index, the last) index of
 * the extreme value: a max reduction, then a min (max) reduction over the
 * indices where the value equals it. */
static int op_argmax(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *y = out0(n);
    int r = x->type.rank;
    bool amax = !strcmp(n->op, "ArgMax"), last = attr_i(n, "select_last_index", 0) != 0;
    bool keep = attr_i(n, "keepdims", 1) != 0;
    int64_t axis = attr_i(n, "axis", 0);
    if (axis < 0)
        axis += r;
    if (axis < 0 || axis >= r)
        return ox_node_error(c, n, "axis %" PRId64 " is out of range for rank %d", attr_i(n, "axis", 0), r);
    int64_t dims[PAT_MAX_RANK];
    int yr = 0;
    for (int k = 0; k < r; k++)
        if (k != axis)
            dims[yr++] = x->type.dims[k];
        else if (keep)
            dims[yr++] = 1;
    set_type(y, PAT_I32, yr, dims, OX_INT64);
    const char *idx[PAT_MAX_RANK];
    int mode = emit_begin(c, n, y, idx);
    if (!mode)
        return 0;
    const char *xi[PAT_MAX_RANK];
    for (int k = 0, o = 0; k < r; k++) {
        if (k == axis) {
            xi[k] = "_k0";
            o += keep;
        } else
            xi[k] = idx[o++];
    }
    const char *v = access(c, x, xi), *m = fresh(c);
    emit_end(c, mode, y, S(c, "{ let %s = reduce (_k0: %d) %s { %s }; reduce (_k0: %d) %s where %s == %s { _k0 } }", m,
                           x->type.dims[axis], amax ? "max" : "min", v, x->type.dims[axis], last ? "max" : "min", v,
                           m));
    return 0;
}

static int op_instancenorm(ox_ctx *c, ox_node *n)
{
    ox_value *x = n->in[0], *sc = n->n_in > 1 ? n->in[1] : NULL, *b = n->n_in > 2 ? n->in[2] : NULL,
             *y = out0(n);
    int r = x->type.rank;
    if (!sc || !b || r < 3 || x->type.elem != PAT_F32)
        return ox_node_error(c, n, "needs float X of rank 3 or more, scale and B");
    if (sc->type.rank != 1 || sc->type.dims[0] != x->type.dims[1] || b->type.rank != 1 ||
        b->type.dims[0] != x->type.dims[1])
        return ox_node_error(c, n, "scale and B must have shape [%d] (the channels)", x->type.dims[1]);
    double eps = attr_f(n, "epsilon", 1e-5);
    y->type = x->type;
    y->typed = true;
    y->dtype = OX_FLOAT;
    declare(c, y, y->is_graph_output ? PAT_OUTPUT : PAT_BUFFER);
    y->form = OXF_DECL;
    c->fresh = 0;
    put_def(c, "# node %d '%s' (%s)\n", n->pos, n->p->name ? n->p->name : "", n->op);
    const char *idx[2] = {"_i0", "_i1"}, *xi[PAT_MAX_RANK], *xj[PAT_MAX_RANK], *inner[PAT_MAX_RANK], *ks = "";
    int64_t cnt = 1;
    for (int k = 0; k < r; k++) {
        if (k < 2)
            xi[k] = xj[k] = idx[k];
        else {
            xi[k] = S(c, "_k%d", k - 2);
            inner[k - 2] = xj[k] = S(c, "_j%d", k - 2);
            ks = S(c, "%s%s_k%d: %d", ks, k > 2 ? ", " : "", k - 2, x->type.dims[k]);
            cnt *= x->type.dims[k];
        }
    }
    const char *ci[1] = {"_i1"};
    const char *xk = access(c, x, xi), *xv = access(c, x, xj), *nn = lit(c, (double)cnt, PAT_F32);
    put_def(c, "%s = map %s { let _tmean = reduce (%s) + { %s } / %s; let _tvar = reduce (%s) + { let _tc = %s - "
               "_tmean; _tc * _tc } / %s; let _tinv = 1.0 / sqrt(_tvar + %s); map %s { (%s - _tmean) * _tinv * %s + %s } }\n",
            y->pat, index_list(c, idx, x->type.dims, 2), ks, xk, nn, ks, xk, nn, lit(c, eps, PAT_F32),
            index_list(c, inner, x->type.dims + 2, r - 2), xv, access(c, sc, ci), access(c, b, ci));
    return 0;
}

/* ------------------------------------------------------------------ */
/* The walk                                                            */

typedef struct op_entry {
    const char *op;
    int since;                 /* first opset version implemented */
    int (*fn)(ox_ctx *, ox_node *);
} op_entry;

static const op_entry ops[] = {
    {"MatMul", 1, op_matmul}, {"Gemm", 1, op_gemm}, {"Softmax", 1, op_softmax}, {"LogSoftmax", 1, op_softmax},
    {"LayerNormalization", 17, op_layernorm}, {"ReduceSum", 1, op_reduce}, {"ReduceMean", 1, op_reduce},
    {"ReduceMax", 1, op_reduce}, {"ReduceMin", 1, op_reduce}, {"ReduceProd", 1, op_reduce},
    {"ReduceSumSquare", 1, op_reduce}, {"ReduceL1", 1, op_reduce}, {"ReduceL2", 1, op_reduce},
    {"Transpose", 1, op_transpose}, {"Reshape", 1, op_reshape}, {"Flatten", 1, op_flatten},
    {"Squeeze", 1, op_squeeze}, {"Unsqueeze", 1, op_unsqueeze}, {"Concat", 1, op_concat}, {"Slice", 1, op_slice},
    {"Gather", 1, op_gather}, {"Conv", 1, op_conv}, {"MaxPool", 1, op_pool}, {"AveragePool", 1, op_pool},
    {"GlobalAveragePool", 1, op_pool}, {"GlobalMaxPool", 1, op_pool}, {"Constant", 1, op_constant},
    {"Identity", 1, op_identity}, {"Dropout", 1, op_identity}, {"Shape", 1, op_shape}, {"Size", 1, op_size},
    {"ConstantOfShape", 9, op_constant_of_shape}, {"Expand", 8, op_expand}, {"Tile", 1, op_tile},
    {"Split", 1, op_split}, {"DepthToSpace", 1, op_depth_space}, {"SpaceToDepth", 1, op_depth_space},
    {"Range", 11, op_range}, {"Pad", 1, op_pad}, {"Trilu", 14, op_trilu}, {"GatherElements", 11, op_gather_elements},
    {"ArgMax", 1, op_argmax}, {"ArgMin", 1, op_argmax}, {"InstanceNormalization", 1, op_instancenorm},
    {"ReduceLogSum", 1, op_reduce}, {"ReduceLogSumExp", 1, op_reduce},
};

/* Infer node n's outputs and write its template (or, in expression mode,
 * its element expression). */
static int run_node(ox_ctx *c, ox_node *n)
{
    ew_kind k = ew_of(n->op);
    if (k != EW_NONE) {
        if (k == EW_ERF && n->opset < 9)
            return ox_node_error(c, n, "Erf exists from opset 9");
        if (k == EW_WHERE && n->opset < 9)
            return ox_node_error(c, n, "Where exists from opset 9");
        return op_elementwise(c, n, k);
    }
    for (size_t e = 0; e < sizeof ops / sizeof *ops; e++)
        if (!strcmp(ops[e].op, n->op)) {
            if (n->opset < ops[e].since)
                return ox_node_error(c, n, "%s exists from opset %d", n->op, ops[e].since);
            if (!n->in[0] && strcmp(n->op, "Constant"))
                return ox_node_error(c, n, "the first input is missing");
            return ops[e].fn(c, n);
        }
    return ox_node_error(c, n, "operator %s is not supported (docs/onnx.md lists the supported set)", n->op);
}

int ox_decompose(ox_ctx *c)
{
    for (int i = 0; i < c->n_nodes; i++) {
        ox_node *n = &c->nodes[i];
        bool known_op = ew_of(n->op) != EW_NONE;
        for (size_t e = 0; e < sizeof ops / sizeof *ops && !known_op; e++)
            known_op = !strcmp(ops[e].op, n->op);
        if (!known_op)
            return ox_node_error(c, n, "operator %s is not supported (docs/onnx.md lists the supported set)", n->op);
        if (n->n_out < 1 || !n->out[0])
            return ox_node_error(c, n, "the first output is omitted: not supported");
        for (int q = 0; q < n->n_in; q++)
            if (n->in[q] && !n->in[q]->typed)
                return ox_node_error(c, n, "input '%s' has no known type", n->in[q]->name);
        if (run_node(c, n) != 0 || c->oom)
            return -1;
        for (int q = 1; q < n->n_out; q++)
            if (n->out[q] && !n->out[q]->typed)
                return ox_node_error(c, n, "output %d ('%s') is not supported", q, n->out[q]->name);
    }
    /* graph outputs that no node defined (graph inputs or initializers) */
    for (int i = 0; i < c->n_values; i++) {
        ox_value *v = c->values[i];
        if (v->is_graph_output && !v->declared && define_copy(c, NULL, v, v) != 0)
            return -1;
    }
    return c->oom ? -1 : 0;
}
