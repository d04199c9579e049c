/*
 * pat_interp.c — the reference interpreter: the meaning of a checked
 * program (spec §5-§6), against which every mapped design is verified, and
 * the reordering bound R of every value it computes (spec §6).
 *
 * A tree-walking evaluator over the typed IR, obviously right first and
 * fast second:
 *  - every variable of a definition has a slot in one frame (scalars in
 *    place; a `let` bound to a tensor gets a buffer of its own, allocated
 *    once per definition);
 *  - tensor-valued expressions are evaluated *into* a destination (a map
 *    writes its rows straight into the output); the only temporaries are
 *    per-node buffers allocated before the definition runs; a node never
 *    runs inside itself, so one buffer per node is enough;
 *  - the innermost level of a reduce or map whose body is a scalar
 *    expression without patterns (gemm's A[i][k] * B[k][j], softmax's
 *    exp(X[i][j] - m) / s, spmv's val[j] * x[col[j]]) runs BLOCK iterations
 *    at a time: each node computes its value for every lane of the block in
 *    a loop (a lane mask for the lanes a `?:`, `&&`, `||` or `where` leaves
 *    out), then the lanes are combined in iteration order.  Every lane runs
 *    the same binary32 operation the one-at-a-time path runs, so values are
 *    bit for bit the same.  A block in which any check fails (an index out
 *    of bounds, a division by zero) is run again one iteration at a time,
 *    which reports the first failure in iteration order with the exact
 *    message of the one-at-a-time path.
 *
 * Exact semantics chosen here (docs/language.md repeats them):
 *  - f32 arithmetic is done in float variables with expf/logf/sqrtf/tanhf/
 *    fabsf, so nothing is widened (x86-64 evaluates float in binary32, and
 *    ISO C mode keeps GCC from contracting a*b+c);
 *  - i32 + - * and unary - wrap (done in uint32_t); `/` truncates, `%` has
 *    the dividend's sign; x / 0 and x % 0 are run-time errors;
 *    INT_MIN / -1 wraps to INT_MIN and INT_MIN % -1 is 0;
 *  - i32(x) truncates toward zero, saturating at the i32 limits, NaN -> 0;
 *  - max/min (function and reduction) on f32 follow fmaxf/fminf: a NaN
 *    operand is ignored unless both are NaN;
 *  - reductions combine in iteration order (row-major over the index
 *    space), starting from the identity; `&&`, `||`, `?:` and `where`
 *    evaluate only what they need;
 *  - a dynamic range with hi <= lo is empty; bounds are evaluated once each
 *    time their index's loop starts.
 *
 * The bound R (docs/reference.md states the rules): every value carries a
 * double R >= 0 such that any order of the reductions it depends on gives a
 * value within R of this one.  Inputs have R = 0.  A `+` reduction of n
 * terms t_i with bounds r_i has R = sum r_i + 2 gamma(n-1) sum (|t_i| + r_i)
 * with gamma(k) = k u / (1 - k u), u = 2^-24 (each order is within
 * gamma(n-1) S of the exact sum); `*` a relative bound; max/min the
 * largest r_i.  Operations carry R through by their derivatives over the
 * interval [v - R, v + R] (in double), plus 2^-22 |result| for the
 * roundings of the operation itself in two orders.  Where no finite bound
 * holds, R = +inf: a guard, select, index, i32 or loop bound that depends
 * on a reordered value, a sum that can overflow in some order.
 *
 * A run-time error longjmps out of the evaluation; every buffer is owned
 * by the interpreter state and freed on the way out.
 */
#include "patterns/pat_internal.h"
#include "util/alloc.h"

#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* Iterations of a blocked inner loop evaluated at once. */
enum { BLOCK = 256 };

typedef union scal {
    int32_t i;
    float f;
} scal;

/* The value of a node over the lanes of a block; a uniform one (an outer
 * index, a constant) holds lane 0 only.  rz: every R is 0. */
typedef struct vreg {
    scal *v;               /* the lanes: buf, or (read only) a tensor's or the lane indices' storage */
    scal *buf;
    double *r;
    bool uni, rz;
    bool aff;              /* i32 lanes are exactly a0 + l * step (no wrap-around) */
    int64_t a0, step;
} vreg;

/* Accumulator of one reduced element: what its bound needs. */
typedef struct racc {
    double s;              /* + : sum of |t| + r over the terms */
    double rs;             /* + : sum of r;  *: sum of r/|t|;  max/min, i32: largest r */
    double lpos, lneg;     /* * : log2 of the largest and smallest partial products */
    int64_t n;             /* terms combined */
    bool unb;              /* no finite bound */
} racc;

/* What a node needs at run time, found through the node table. */
typedef struct node_info {
    scal *buf;             /* reduce/groupby of rows, access of a computed value: a value */
    double *rbuf;          /* its bounds */
    racc *acc;             /* reduce/groupby of rows: one accumulator per element */
    vreg vr;               /* blocked evaluation: the node's lanes */
    unsigned char *m1, *m2; /* ?:, &&, ||: lane masks of the two sides */
    int64_t *off;          /* access: element offsets of the lanes */
    bool vec;              /* pattern: its body (and guard) can run in blocks */
    const pat_expr *seg;   /* map: its body is this reduce over one dynamic range, whose
                            * iterations for a block of rows run in blocks (spmv) */
    int32_t *seg_lo, *seg_hi, *lane_row, *lane_j;  /* seg: bounds of the rows, lanes */
    int *run_row, *run_len;  /* seg: the rows of a block of lanes, in order, and their lanes */
    bool seg_uses_row;     /* seg: the reduce's body or guard reads the map's index */
    scal *seg_val;         /* seg: the rows' accumulators */
    racc *seg_acc;
    int64_t *weight;       /* pattern: per index, work charged per iteration of a dynamic range */
} node_info;

typedef struct node_ent {
    const pat_expr *key;
    node_info *info;
} node_ent;

typedef struct interp {
    const pat_program *p;
    pat_values *vals;
    double **rt;               /* by decl id: bounds of a tensor (NULL: all 0) */
    diag_list *d;
    const pat_def *def;
    scal *slots;               /* by var slot: scalar values */
    double *rslots;            /* by var slot: their bounds */
    scal **letbuf;             /* by var slot: storage of tensor-valued lets */
    double **rletbuf;
    vreg **vlet;               /* by var slot: a scalar let bound in the block being run */
    const pat_var **active;    /* index variables whose loops are running */
    int n_active;
    node_ent *tab;             /* node -> info, open addressing */
    size_t tab_cap, tab_n;
    void **owned;              /* every buffer allocated for this definition */
    int n_owned, cap_owned;
    /* blocked evaluation */
    const pat_var *vvar;       /* the index that varies over the lanes */
    const pat_var *lane_var[2];  /* indices whose lanes are given (segmented blocks) */
    const int32_t *lane_val[2];
    bool lane_aff[2];          /* lane_val[k][l] == lane_val[k][0] + l */
    int n_lane_vars;
    int32_t vbase;             /* its value in lane 0 */
    bool verr;                 /* a check failed in the block: run it again one at a time */
    int64_t work_left;         /* iterations dynamic ranges may still run */
    bool no_blocks;            /* every loop one iteration at a time (tests) */
    jmp_buf fail;
} interp;

/* A position naming only the program, through the same file name as the
 * program's other locations (the diag_list's copy, see pat_load_string). */
static diag_loc program_loc(const pat_program *p)
{
    return diag_at_file(p->n_decls > 0 ? p->decls[0]->loc.file : NULL);
}

static _Noreturn void oom(interp *in)
{
    diag_error(in->d, program_loc(in->p), "out of memory in the interpreter");
    longjmp(in->fail, 1);
}

static void *own(interp *in, size_t count, size_t size)
{
    if (in->n_owned == in->cap_owned) {
        int cap = in->cap_owned ? 2 * in->cap_owned : 16;
        void **grown = xrealloc(in->owned, (size_t)cap * sizeof *grown);
        if (!grown)
            oom(in);
        in->owned = grown;
        in->cap_owned = cap;
    }
    void *p = xcalloc(count ? count : 1, size);
    if (!p)
        oom(in);
    in->owned[in->n_owned++] = p;
    return p;
}

static void free_owned(interp *in)
{
    for (int i = 0; i < in->n_owned; i++)
        free(in->owned[i]);
    in->n_owned = 0;
    in->tab = NULL;
    in->tab_cap = in->tab_n = 0;
}

/* ---------------------------------------------------------------- */
/* The node table                                                    */

static size_t hash_ptr(const void *p, size_t cap)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x & (cap - 1);
}

static void tab_put(interp *in, const pat_expr *e, node_info *ni);

static void tab_grow(interp *in)
{
    node_ent *old = in->tab;
    size_t old_cap = in->tab_cap;
    in->tab_cap = old_cap ? 2 * old_cap : 64;
    in->tab = own(in, in->tab_cap, sizeof *in->tab);
    in->tab_n = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key)
            tab_put(in, old[i].key, old[i].info);
}

static void tab_put(interp *in, const pat_expr *e, node_info *ni)
{
    if (2 * (in->tab_n + 1) > in->tab_cap)
        tab_grow(in);
    size_t h = hash_ptr(e, in->tab_cap);
    while (in->tab[h].key)
        h = (h + 1) & (in->tab_cap - 1);
    in->tab[h].key = e;
    in->tab[h].info = ni;
    in->tab_n++;
}

static node_info *tab_get(const interp *in, const pat_expr *e)
{
    size_t h = hash_ptr(e, in->tab_cap);
    while (in->tab[h].key != e)
        h = (h + 1) & (in->tab_cap - 1);
    return in->tab[h].info;
}

static node_info *info_of(interp *in, const pat_expr *e)
{
    node_info *ni = own(in, 1, sizeof *ni);
    tab_put(in, e, ni);
    return ni;
}

/* ---------------------------------------------------------------- */
/* Preparation: buffers, blocked bodies, work weights                */

/* Can e run over the lanes of a block?  Scalar expressions without
 * patterns, reading tensors (declared, or tensor lets bound outside). */
static bool vec_ok(const pat_expr *e)
{
    if (e->type.rank != 0)
        return false;
    switch (e->kind) {
    case PAT_E_INT: case PAT_E_FLOAT: case PAT_E_TENSOR: case PAT_E_VAR:
        return true;
    case PAT_E_ACCESS:
        if (e->u.access.base->kind != PAT_E_TENSOR && e->u.access.base->kind != PAT_E_VAR)
            return false;
        for (int k = 0; k < e->u.access.n; k++)
            if (!vec_ok(e->u.access.idx[k]))
                return false;
        return true;
    case PAT_E_UNARY:
        return vec_ok(e->u.unary.arg);
    case PAT_E_BINARY:
        return vec_ok(e->u.binary.lhs) && vec_ok(e->u.binary.rhs);
    case PAT_E_SELECT:
        return vec_ok(e->u.select.cond) && vec_ok(e->u.select.then) && vec_ok(e->u.select.els);
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++)
            if (!vec_ok(e->u.call.args[k]))
                return false;
        return true;
    case PAT_E_BLOCK:
        for (int k = 0; k < e->u.block.n; k++)
            if (e->u.block.vars[k]->type.rank != 0 || !vec_ok(e->u.block.values[k]))
                return false;
        return vec_ok(e->u.block.result);
    default:
        return false;
    }
}

/* Does e (an expression vec_ok admits) read variable v? */
static bool reads_var(const pat_expr *e, const pat_var *v)
{
    switch (e->kind) {
    case PAT_E_VAR:
        return e->u.var == v;
    case PAT_E_ACCESS:
        for (int k = 0; k < e->u.access.n; k++)
            if (reads_var(e->u.access.idx[k], v))
                return true;
        return reads_var(e->u.access.base, v);
    case PAT_E_UNARY:
        return reads_var(e->u.unary.arg, v);
    case PAT_E_BINARY:
        return reads_var(e->u.binary.lhs, v) || reads_var(e->u.binary.rhs, v);
    case PAT_E_SELECT:
        return reads_var(e->u.select.cond, v) || reads_var(e->u.select.then, v) || reads_var(e->u.select.els, v);
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++)
            if (reads_var(e->u.call.args[k], v))
                return true;
        return false;
    case PAT_E_BLOCK:
        for (int k = 0; k < e->u.block.n; k++)
            if (reads_var(e->u.block.values[k], v))
                return true;
        return reads_var(e->u.block.result, v);
    default:
        return false;
    }
}

/* Give every node of a blocked body its lanes. */
static void prepare_vec(interp *in, const pat_expr *e)
{
    node_info *ni = info_of(in, e);
    ni->vr.v = ni->vr.buf = own(in, BLOCK, sizeof *ni->vr.v);
    ni->vr.r = own(in, BLOCK, sizeof *ni->vr.r);
    switch (e->kind) {
    case PAT_E_ACCESS:
        ni->off = own(in, BLOCK, sizeof *ni->off);
        for (int k = 0; k < e->u.access.n; k++)
            prepare_vec(in, e->u.access.idx[k]);
        return;
    case PAT_E_UNARY:
        prepare_vec(in, e->u.unary.arg);
        return;
    case PAT_E_BINARY:
        ni->m1 = own(in, BLOCK, 1);
        prepare_vec(in, e->u.binary.lhs);
        prepare_vec(in, e->u.binary.rhs);
        return;
    case PAT_E_SELECT:
        ni->m1 = own(in, BLOCK, 1);
        ni->m2 = own(in, BLOCK, 1);
        prepare_vec(in, e->u.select.cond);
        prepare_vec(in, e->u.select.then);
        prepare_vec(in, e->u.select.els);
        return;
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++)
            prepare_vec(in, e->u.call.args[k]);
        return;
    case PAT_E_BLOCK:
        for (int k = 0; k < e->u.block.n; k++)
            prepare_vec(in, e->u.block.values[k]);
        prepare_vec(in, e->u.block.result);
        return;
    default:
        return;
    }
}

static scal *new_buf(interp *in, const pat_type *t, double **r)
{
    size_t n = (size_t)pat_type_count(t);
    *r = own(in, n, sizeof **r);
    return own(in, n, sizeof(scal));
}

/* Give every node that needs a temporary its buffer, every tensor-valued
 * let its storage, and every blocked body its lanes. */
static void prepare(interp *in, const pat_expr *e)
{
    switch (e->kind) {
    case PAT_E_INT: case PAT_E_FLOAT: case PAT_E_TENSOR: case PAT_E_VAR:
        return;
    case PAT_E_ACCESS:
        if (e->u.access.base->kind != PAT_E_TENSOR && e->u.access.base->kind != PAT_E_VAR) {
            node_info *ni = info_of(in, e);
            ni->buf = new_buf(in, &e->u.access.base->type, &ni->rbuf);
        }
        prepare(in, e->u.access.base);
        for (int k = 0; k < e->u.access.n; k++)
            prepare(in, e->u.access.idx[k]);
        return;
    case PAT_E_UNARY:
        prepare(in, e->u.unary.arg);
        return;
    case PAT_E_BINARY:
        prepare(in, e->u.binary.lhs);
        prepare(in, e->u.binary.rhs);
        return;
    case PAT_E_SELECT:
        prepare(in, e->u.select.cond);
        prepare(in, e->u.select.then);
        prepare(in, e->u.select.els);
        return;
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++)
            prepare(in, e->u.call.args[k]);
        return;
    case PAT_E_BLOCK:
        for (int k = 0; k < e->u.block.n; k++) {
            const pat_var *v = e->u.block.vars[k];
            if (v->type.rank > 0)
                in->letbuf[v->slot] = new_buf(in, &v->type, &in->rletbuf[v->slot]);
            prepare(in, e->u.block.values[k]);
        }
        prepare(in, e->u.block.result);
        return;
    case PAT_E_MAP: case PAT_E_REDUCE: case PAT_E_GROUPBY: {
        const pat_pattern *pt = &e->u.pat;
        node_info *ni = info_of(in, e);
        ni->weight = own(in, (size_t)pt->n_idx, sizeof *ni->weight);
        int64_t w = pat_iter_work(pt);
        for (int k = pt->n_idx - 1; k >= 0; k--) {
            ni->weight[k] = w;
            w = pat_work_mul(w, pt->idx[k].lo ? 0 : pt->idx[k].extent);
        }
        for (int k = 0; k < pt->n_idx; k++)
            if (pt->idx[k].lo) {
                prepare(in, pt->idx[k].lo);
                prepare(in, pt->idx[k].hi);
            }
        if (pt->where)
            prepare(in, pt->where);
        if (pt->key)
            prepare(in, pt->key);
        if (e->kind != PAT_E_MAP && pt->body->type.rank > 0) {
            ni->buf = new_buf(in, &pt->body->type, &ni->rbuf);
            int64_t n = pat_type_count(&e->type);
            ni->acc = own(in, (size_t)n, sizeof *ni->acc);
        } else if (e->kind == PAT_E_GROUPBY) {
            ni->acc = own(in, (size_t)pt->groups, sizeof *ni->acc);
        }
        if (!in->no_blocks && (e->kind == PAT_E_REDUCE || e->kind == PAT_E_MAP) && pt->body->type.rank == 0 &&
            vec_ok(pt->body) && (!pt->where || vec_ok(pt->where))) {
            ni->vec = true;
            prepare_vec(in, pt->body);
            if (pt->where)
                prepare_vec(in, pt->where);
        }
        const pat_expr *red = pt->body;
        while (red->kind == PAT_E_BLOCK && red->u.block.n == 0)
            red = red->u.block.result;
        if (!in->no_blocks && e->kind == PAT_E_MAP && red->kind == PAT_E_REDUCE && red->type.rank == 0 &&
            red->u.pat.n_idx == 1 && red->u.pat.idx[0].lo && vec_ok(red->u.pat.idx[0].lo) &&
            vec_ok(red->u.pat.idx[0].hi) && vec_ok(red->u.pat.body) &&
            (!red->u.pat.where || vec_ok(red->u.pat.where))) {
            ni->seg = red;
            prepare_vec(in, red->u.pat.idx[0].lo);
            prepare_vec(in, red->u.pat.idx[0].hi);
            ni->seg_lo = own(in, BLOCK, sizeof *ni->seg_lo);
            ni->seg_hi = own(in, BLOCK, sizeof *ni->seg_hi);
            ni->lane_row = own(in, BLOCK, sizeof *ni->lane_row);
            ni->lane_j = own(in, BLOCK, sizeof *ni->lane_j);
            ni->run_row = own(in, BLOCK, sizeof *ni->run_row);
            ni->seg_uses_row = reads_var(red->u.pat.body, pt->idx[pt->n_idx - 1].var) ||
                               (red->u.pat.where && reads_var(red->u.pat.where, pt->idx[pt->n_idx - 1].var));
            ni->run_len = own(in, BLOCK, sizeof *ni->run_len);
            ni->seg_val = own(in, BLOCK, sizeof *ni->seg_val);
            ni->seg_acc = own(in, BLOCK, sizeof *ni->seg_acc);
        }
        prepare(in, pt->body);
        return;
    }
    }
}

/* ---------------------------------------------------------------- */
/* Run-time errors                                                   */

static _Noreturn void runtime_error(interp *in, diag_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static _Noreturn void runtime_error(interp *in, diag_loc loc, const char *fmt, ...)
{
    char what[256], where[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    size_t used = 0;
    where[0] = 0;
    for (int i = 0; i < in->n_active && used < sizeof where; i++)
        used += (size_t)snprintf(where + used, sizeof where - used, "%s%s=%d",
                                 i ? ", " : " at ", in->active[i]->name,
                                 (int)in->slots[in->active[i]->slot].i);
    diag_error(in->d, loc, "in definition of '%s': %s%s", in->def->target->name, what, where);
    longjmp(in->fail, 1);
}

/* A dynamic range of `trip` iterations, each worth `weight`, starts. */
static void charge(interp *in, const pat_index *ix, int64_t trip, int64_t weight)
{
    if (trip <= 0)
        return;
    int64_t w = pat_work_mul(trip, weight);
    if (w > in->work_left)
        runtime_error(in, ix->var->loc,
                      "the range of '%s' runs %lld iterations, past what is left of the work limit (%lld): "
                      "stopped; --max-work N raises the limit",
                      ix->var->name, (long long)trip, (long long)in->work_left);
    in->work_left -= w;
}

/* ---------------------------------------------------------------- */
/* Bounds                                                            */

static const double U = 0x1p-24;

/* The bound of a result computed from operands with total bound r: r
 * carried, plus the roundings of the operation in two orders (and a libm
 * function's last-place error); unbounded when the result is not finite. */
static inline double rnd(double r, float v)
{
    if (!(r > 0))
        return isnan(r) ? INFINITY : 0.0;
    if (!isfinite(v))
        return INFINITY;
    r += 0x1p-22 * fabs((double)v);
    /* an operand that can overflow in some order: the result can too, or
     * has no bound (never a huge finite one) */
    if (r > 0x1p1000 && r != PAT_BOUND_OVERFLOW)
        return INFINITY;
    return isnan(r) ? INFINITY : r;
}

static inline double r_mul(double a, double ra, double b, double rb, float v)
{
    if (ra == 0 && rb == 0)
        return 0;
    return rnd(fabs(a) * rb + fabs(b) * ra + ra * rb, v);
}

static inline double r_div(double a, double ra, double b, double rb, float v)
{
    if (ra == 0 && rb == 0)
        return 0;
    if (rb >= fabs(b))
        return INFINITY;
    return rnd((fabs(a) * rb + fabs(b) * ra) / (fabs(b) * (fabs(b) - rb)), v);
}

/* Comparison of f32 values within bounds: certain (0) or not (inf). */
static inline double r_cmp(double a, double ra, double b, double rb)
{
    if (ra == 0 && rb == 0)
        return 0;
    return fabs(a - b) > ra + rb ? 0 : INFINITY;
}

static double r_call(pat_fn fn, double a, double r, float v)
{
    if (r == 0)
        return 0;
    switch (fn) {
    case PAT_FN_EXP: return rnd(exp(a + r) - exp(a), v);
    case PAT_FN_LOG: return a - r <= 0 ? INFINITY : rnd(log(a) - log(a - r), v);
    case PAT_FN_SQRT: return a - r < 0 ? INFINITY : rnd(sqrt(a) - sqrt(a - r), v);
    case PAT_FN_TANH: return rnd(r, v);
    case PAT_FN_ABS: return r;
    default: return r;
    }
}

/* i32(x) of an f32 within r: the same integer for every value, or not. */
static double r_toi32(float x, double r)
{
    if (r == 0)
        return 0;
    if (isnan(x) || !isfinite(r))
        return INFINITY;
    return trunc((double)x - r) == trunc((double)x + r) ? 0 : INFINITY;
}

static void acc_start(racc *a)
{
    memset(a, 0, sizeof *a);
}

/* One term t (bound r) joins a reduction. */
static inline void acc_add(racc *a, pat_redop op, pat_elem el, scal t, double r)
{
    a->n++;
    if (el == PAT_I32 || op == PAT_RED_MAX || op == PAT_RED_MIN) {
        if (r > a->rs)
            a->rs = r;
        return;
    }
    double x = fabs((double)t.f);
    if (op == PAT_RED_ADD) {
        a->s += x + r;
        a->rs += r;
        return;
    }
    if (x == 0 || !isfinite(x)) {
        if (r > 0)
            a->unb = true;
        if (x == 0)
            a->lneg = -INFINITY;
        return;
    }
    a->rs += r / x;
    double hi = log2(x + r), lo = x > r ? log2(x - r) : -INFINITY;
    if (hi > 0)
        a->lpos += hi;
    if (lo < 0)
        a->lneg += lo;
}

static double gamma_n(int64_t k)
{
    double ku = (double)k * U;
    return ku < 0.5 ? ku / (1 - ku) : INFINITY;
}

/* The bound of a finished reduction whose value is v. */
static double acc_bound(const racc *a, pat_redop op, pat_elem el, scal v)
{
    if (a->unb)
        return INFINITY;
    if (el == PAT_I32)
        return a->rs > 0 ? INFINITY : 0;
    if (op == PAT_RED_MAX || op == PAT_RED_MIN)
        return a->rs;
    if (op == PAT_RED_ADD) {
        if (a->n < 2)
            return a->rs;
        /* a sum whose terms reach FLT_MAX may overflow in some order */
        if (!(a->s < FLT_MAX) || !isfinite(v.f))
            return PAT_BOUND_OVERFLOW;
        double r = a->rs + 2 * gamma_n(a->n - 1) * a->s;
        return isnan(r) ? INFINITY : r;
    }
    if (a->n < 2 && a->rs == 0)
        return 0;
    if (a->lpos >= 128 || !isfinite(v.f))
        return PAT_BOUND_OVERFLOW;
    double rel = a->rs + 2 * gamma_n(a->n - 1);
    double r = fabs((double)v.f) * expm1(rel) * 1.01;
    if (a->lneg < -126)  /* underflow in some order: an absolute error, amplified */
        r += (double)a->n * 0x1p-149 * exp2(a->lpos);
    return isnan(r) ? INFINITY : r;
}

/* ---------------------------------------------------------------- */
/* Evaluation one element at a time                                  */

static scal eval(interp *in, const pat_expr *e, double *r);
static void eval_into(interp *in, const pat_expr *e, scal *dst, double *dr);

static scal identity(pat_redop op, pat_elem el)
{
    scal r;
    switch (op) {
    case PAT_RED_ADD:
        if (el == PAT_F32) r.f = 0.0f; else r.i = 0;
        break;
    case PAT_RED_MUL:
        if (el == PAT_F32) r.f = 1.0f; else r.i = 1;
        break;
    case PAT_RED_MAX:
        if (el == PAT_F32) r.f = -INFINITY; else r.i = INT32_MIN;
        break;
    default:
        if (el == PAT_F32) r.f = INFINITY; else r.i = INT32_MAX;
        break;
    }
    return r;
}

static inline int32_t wrap(uint32_t u)
{
    return (int32_t)u;  /* implementation-defined, two's complement on every target we build for */
}

static inline scal combine(pat_redop op, pat_elem el, scal a, scal b)
{
    scal r;
    if (el == PAT_F32) {
        switch (op) {
        case PAT_RED_ADD: r.f = a.f + b.f; break;
        case PAT_RED_MUL: r.f = a.f * b.f; break;
        case PAT_RED_MAX: r.f = fmaxf(a.f, b.f); break;
        default: r.f = fminf(a.f, b.f); break;
        }
    } else {
        switch (op) {
        case PAT_RED_ADD: r.i = wrap((uint32_t)a.i + (uint32_t)b.i); break;
        case PAT_RED_MUL: r.i = wrap((uint32_t)a.i * (uint32_t)b.i); break;
        case PAT_RED_MAX: r.i = a.i > b.i ? a.i : b.i; break;
        default: r.i = a.i < b.i ? a.i : b.i; break;
        }
    }
    return r;
}

static const char *base_name(const pat_expr *b, char *buf, size_t n)
{
    if (b->kind == PAT_E_TENSOR)
        snprintf(buf, n, "'%s'", b->u.decl->name);
    else if (b->kind == PAT_E_VAR)
        snprintf(buf, n, "'%s'", b->u.var->name);
    else
        snprintf(buf, n, "the indexed value");
    return buf;
}

/* Where an expression starts in the source (its leftmost token), so a
 * caret under a bad index points at the whole index expression. */
static diag_loc start_loc(const pat_expr *e)
{
    for (;;) {
        switch (e->kind) {
        case PAT_E_BINARY: e = e->u.binary.lhs; continue;
        case PAT_E_SELECT: e = e->u.select.cond; continue;
        case PAT_E_ACCESS: e = e->u.access.base; continue;
        default: return e->loc;
        }
    }
}

static _Noreturn void index_error(interp *in, const pat_expr *e, int k, int32_t v)
{
    char name[96];
    const pat_expr *b = e->u.access.base;
    runtime_error(in, start_loc(e->u.access.idx[k]), "index %d out of bounds for dimension %d of %s (size %d)",
                  (int)v, k, base_name(b, name, sizeof name), (int)b->type.dims[k]);
}

/* The data and bounds of the value an access indexes. */
static const scal *access_base(interp *in, const pat_expr *e, const double **rdata)
{
    const pat_expr *b = e->u.access.base;
    if (b->kind == PAT_E_TENSOR) {
        *rdata = in->rt[b->u.decl->id];
        return (const scal *)in->vals->t[b->u.decl->id].data.p;
    }
    if (b->kind == PAT_E_VAR) {
        *rdata = in->rletbuf[b->u.var->slot];
        return in->letbuf[b->u.var->slot];
    }
    node_info *ni = tab_get(in, e);
    eval_into(in, b, ni->buf, ni->rbuf);
    *rdata = ni->rbuf;
    return ni->buf;
}

static scal access(interp *in, const pat_expr *e, double *r)
{
    const pat_expr *b = e->u.access.base;
    const double *rdata;
    const scal *data = access_base(in, e, &rdata);
    int64_t off = 0;
    double ri = 0;
    for (int k = 0; k < e->u.access.n; k++) {
        const pat_expr *ix = e->u.access.idx[k];
        double rk = 0;
        int32_t v = eval(in, ix, &rk).i;
        ri += rk;
        int32_t size = b->type.dims[k];
        if (v < 0 || v >= size)
            index_error(in, e, k, v);
        off = off * size + v;
    }
    *r = ri > 0 ? INFINITY : rdata ? rdata[off] : 0.0;
    return data[off];
}

static int32_t f32_to_i32(float f)
{
    if (isnan(f))
        return 0;
    if (f >= 2147483648.0f)
        return INT32_MAX;
    if (f <= -2147483648.0f)
        return INT32_MIN;
    return (int32_t)f;
}

static _Noreturn void div_error(interp *in, const pat_expr *e)
{
    runtime_error(in, e->loc, "i32 division by zero%s", e->u.binary.op == PAT_MOD ? " (in '%')" : "");
}

static inline int32_t i32_div(pat_binop op, int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == -1)
        return op == PAT_DIV ? INT32_MIN : 0;
    return op == PAT_DIV ? a / b : a % b;
}

/* One scalar binary operation (not && ||); b == 0 for / and % on i32 must
 * have been ruled out by the caller. */
static inline scal binop(pat_binop op, bool f32, scal a, scal b)
{
    scal r;
    if (f32) {
        switch (op) {
        case PAT_ADD: r.f = a.f + b.f; return r;
        case PAT_SUB: r.f = a.f - b.f; return r;
        case PAT_MUL: r.f = a.f * b.f; return r;
        case PAT_DIV: r.f = a.f / b.f; return r;
        case PAT_LT: r.i = a.f < b.f; return r;
        case PAT_LE: r.i = a.f <= b.f; return r;
        case PAT_GT: r.i = a.f > b.f; return r;
        case PAT_GE: r.i = a.f >= b.f; return r;
        case PAT_EQ: r.i = a.f == b.f; return r;
        case PAT_NE: r.i = a.f != b.f; return r;
        default: r.f = 0.0f; return r;  /* % on f32 is rejected by the checker */
        }
    }
    switch (op) {
    case PAT_ADD: r.i = wrap((uint32_t)a.i + (uint32_t)b.i); return r;
    case PAT_SUB: r.i = wrap((uint32_t)a.i - (uint32_t)b.i); return r;
    case PAT_MUL: r.i = wrap((uint32_t)a.i * (uint32_t)b.i); return r;
    case PAT_DIV: case PAT_MOD: r.i = i32_div(op, a.i, b.i); return r;
    case PAT_LT: r.i = a.i < b.i; return r;
    case PAT_LE: r.i = a.i <= b.i; return r;
    case PAT_GT: r.i = a.i > b.i; return r;
    case PAT_GE: r.i = a.i >= b.i; return r;
    case PAT_EQ: r.i = a.i == b.i; return r;
    case PAT_NE: r.i = a.i != b.i; return r;
    default: r.i = 0; return r;
    }
}

/* The bound of binop's result r from operands a, b with bounds ra, rb. */
static inline double binop_r(pat_binop op, bool f32, scal a, double ra, scal b, double rb, scal r)
{
    if (ra == 0 && rb == 0)
        return 0;
    if (!f32)
        return INFINITY;
    switch (op) {
    case PAT_ADD: case PAT_SUB: return rnd(ra + rb, r.f);
    case PAT_MUL: return r_mul(a.f, ra, b.f, rb, r.f);
    case PAT_DIV: return r_div(a.f, ra, b.f, rb, r.f);
    default: return r_cmp(a.f, ra, b.f, rb);
    }
}

static scal eval_binary(interp *in, const pat_expr *e, double *r)
{
    scal a, b, res;
    double ra, rb;
    pat_binop op = e->u.binary.op;
    if (op == PAT_AND || op == PAT_OR) {
        a = eval(in, e->u.binary.lhs, &ra);
        bool lhs = a.i != 0;
        if (lhs == (op == PAT_OR)) {  /* decided by the left side */
            res.i = lhs;
            *r = ra > 0 ? INFINITY : 0;
            return res;
        }
        b = eval(in, e->u.binary.rhs, &rb);
        res.i = b.i != 0;
        *r = ra > 0 || rb > 0 ? INFINITY : 0;
        return res;
    }
    a = eval(in, e->u.binary.lhs, &ra);
    b = eval(in, e->u.binary.rhs, &rb);
    bool f32 = e->u.binary.lhs->type.elem == PAT_F32;
    if (!f32 && (op == PAT_DIV || op == PAT_MOD) && b.i == 0)
        div_error(in, e);
    res = binop(op, f32, a, b);
    *r = binop_r(op, f32, a, ra, b, rb, res);
    return res;
}

static inline scal call1(pat_fn fn, pat_elem el, scal a, scal b)
{
    scal r;
    switch (fn) {
    case PAT_FN_EXP: r.f = expf(a.f); return r;
    case PAT_FN_LOG: r.f = logf(a.f); return r;
    case PAT_FN_SQRT: r.f = sqrtf(a.f); return r;
    case PAT_FN_TANH: r.f = tanhf(a.f); return r;
    case PAT_FN_ABS: r.f = fabsf(a.f); return r;
    case PAT_FN_MAX: return combine(PAT_RED_MAX, el, a, b);
    case PAT_FN_MIN: return combine(PAT_RED_MIN, el, a, b);
    case PAT_FN_F32:
        if (el == PAT_I32)
            r.f = (float)a.i;
        else
            r = a;
        return r;
    case PAT_FN_I32:
        if (el == PAT_F32)
            r.i = f32_to_i32(a.f);
        else
            r = a;
        return r;
    }
    r.i = 0;
    return r;
}

static inline double call_r(pat_fn fn, pat_elem el, scal a, double ra, double rb, scal v)
{
    if (ra == 0 && rb == 0)
        return 0;
    switch (fn) {
    case PAT_FN_MAX: case PAT_FN_MIN:
        return el == PAT_I32 ? INFINITY : ra > rb ? ra : rb;
    case PAT_FN_F32:
        return el == PAT_I32 ? INFINITY : ra;
    case PAT_FN_I32:
        return el == PAT_F32 ? r_toi32(a.f, ra) : INFINITY;
    default:
        return r_call(fn, a.f, ra, v.f);
    }
}

static scal eval_call(interp *in, const pat_expr *e, double *r)
{
    double ra, rb = 0;
    scal a = eval(in, e->u.call.args[0], &ra), b = a;
    pat_elem el = e->u.call.args[0]->type.elem;
    if (e->u.call.n > 1)
        b = eval(in, e->u.call.args[1], &rb);
    scal v = call1(e->u.call.fn, el, a, b);
    *r = call_r(e->u.call.fn, el, a, ra, rb, v);
    return v;
}

static void run_lets(interp *in, const pat_expr *e)
{
    for (int k = 0; k < e->u.block.n; k++) {
        const pat_var *v = e->u.block.vars[k];
        if (v->type.rank == 0)
            in->slots[v->slot] = eval(in, e->u.block.values[k], &in->rslots[v->slot]);
        else
            eval_into(in, e->u.block.values[k], in->letbuf[v->slot], in->rletbuf[v->slot]);
    }
}

/* Bounds of index ix of a pattern: [*lo, *hi); a dynamic range is charged
 * to the work limit, and one whose bounds are uncertain unbounds *unb. */
static inline void bounds(interp *in, const pat_expr *e, int k, int32_t *lo, int32_t *hi, bool *unb)
{
    const pat_index *ix = &e->u.pat.idx[k];
    if (ix->lo) {
        double rl, rh;
        *lo = eval(in, ix->lo, &rl).i;
        *hi = eval(in, ix->hi, &rh).i;
        if ((rl > 0 || rh > 0) && unb)
            *unb = true;
        charge(in, ix, (int64_t)*hi - *lo, tab_get(in, e)->weight[k]);
    } else {
        *lo = 0;
        *hi = ix->extent;
    }
}

/* ---------------------------------------------------------------- */
/* Evaluation over the lanes of a block                              */

static vreg *veval(interp *in, const pat_expr *e, int n, const unsigned char *m);

static inline bool any_lane(const unsigned char *m, int n)
{
    for (int l = 0; l < n; l++)
        if (m[l])
            return true;
    return false;
}

/* mask out = (m or all) and (c != 0) == want */
static void lane_mask(unsigned char *out, const unsigned char *m, const vreg *c, bool want, int n)
{
    int sc = c->uni ? 0 : 1;
    for (int l = 0; l < n; l++)
        out[l] = (unsigned char)((!m || m[l]) && ((c->v[l * sc].i != 0) == want));
}

static vreg *vaccess(interp *in, const pat_expr *e, node_info *ni, int n, const unsigned char *m)
{
    const pat_expr *b = e->u.access.base;
    const double *rdata;
    const scal *data = access_base(in, e, &rdata);
    vreg *o = &ni->vr;
    int64_t *off = ni->off;
    bool uni = true, rz = true;
    vreg *idx[PAT_MAX_RANK];  /* a let's lanes are not its VAR node's */
    for (int k = 0; k < e->u.access.n; k++) {
        vreg *ix = idx[k] = veval(in, e->u.access.idx[k], n, m);
        uni = uni && ix->uni;
        rz = rz && ix->rz;
    }
    int lanes = uni ? 1 : n;
    bool aff = !m;
    for (int k = 0; k < e->u.access.n && aff; k++)
        aff = idx[k]->aff;
    if (aff && rz) {
        /* affine indices (the loop's index, plus or times outer values):
         * the lanes' offsets are off0 + l * ostep, and the indices are in
         * bounds in every lane when they are at both ends */
        int64_t off0 = 0, ostep = 0;
        for (int k = 0; k < e->u.access.n; k++) {
            const vreg *ix = idx[k];
            int64_t size = b->type.dims[k], first = ix->a0, last = ix->a0 + (lanes - 1) * ix->step;
            if (first < 0 || first >= size || last < 0 || last >= size)
                in->verr = true;
            off0 = off0 * size + first;
            ostep = ostep * size + ix->step;
        }
        o->uni = uni;
        o->aff = false;
        if (in->verr) {
            o->rz = true;
            return o;
        }
        const scal *src = data + off0;
        if (ostep == 1)
            o->v = (scal *)(uintptr_t)src;  /* the tensor's own elements, read only */
        else
            for (int l = 0; l < lanes; l++)
                o->v[l] = src[l * ostep];
        o->rz = !rdata;
        if (rdata)
            for (int l = 0; l < lanes; l++)
                o->r[l] = rdata[off0 + l * ostep];
        return o;
    }
    o->uni = uni;
    o->aff = false;
    if (e->u.access.n == 1 && !uni) {
        /* a gather from a vector: check and load in one pass */
        const vreg *ix = idx[0];
        uint32_t size = (uint32_t)b->type.dims[0];
        bool bad = false;
        const scal *iv = ix->v;
        scal *ov = o->v;
        if (!m && !rdata && rz) {
            /* no bounds to look up: check and load only */
            for (int l = 0; l < lanes; l++) {
                uint32_t v = (uint32_t)iv[l].i;
                bad |= v >= size;
                ov[l] = data[v < size ? v : 0];
            }
        } else
            for (int l = 0; l < lanes; l++) {
                int32_t v = iv[l].i;
                if ((uint32_t)v >= size) {
                    bad = bad || !m || m[l];  /* only a lane that runs fails */
                    v = 0;
                }
                off[l] = v;
                ov[l] = data[v];
            }
        if (bad)
            in->verr = true;
    } else {
        for (int l = 0; l < lanes; l++)
            off[l] = 0;
        for (int k = 0; k < e->u.access.n; k++) {
            vreg *ix = idx[k];
            int32_t size = b->type.dims[k];
            int sc = ix->uni ? 0 : 1;
            for (int l = 0; l < lanes; l++) {
                int32_t v = ix->v[l * sc].i;
                if ((uint32_t)v >= (uint32_t)size) {
                    /* only a lane that runs fails (a uniform index: if any runs) */
                    if (!m || (uni ? any_lane(m, n) : m[l]))
                        in->verr = true;
                    v = 0;
                }
                off[l] = off[l] * size + v;
            }
        }
        for (int l = 0; l < lanes; l++)
            o->v[l] = data[off[l]];
    }
    if (!rz) {
        /* an index that depends on a reordered value: no bound */
        /* lanes whose indices are all certain keep their element's bound */
        for (int l = 0; l < lanes; l++) {
            o->r[l] = INFINITY;
            bool certain = true;
            for (int k = 0; k < e->u.access.n && certain; k++) {
                vreg *ix = idx[k];
                certain = ix->rz || ix->r[ix->uni ? 0 : l] == 0;
            }
            if (certain)
                o->r[l] = rdata ? rdata[off[l]] : 0.0;
        }
        o->rz = false;
    } else if (rdata) {
        for (int l = 0; l < lanes; l++)
            o->r[l] = rdata[off[l]];
        o->rz = false;
    } else
        o->rz = true;
    return o;
}

static vreg *vbinary(interp *in, const pat_expr *e, node_info *ni, int n, const unsigned char *m)
{
    vreg *o = &ni->vr;
    pat_binop op = e->u.binary.op;
    o->aff = false;
    if (op == PAT_AND || op == PAT_OR) {
        vreg *a = veval(in, e->u.binary.lhs, n, m);
        /* the right side runs on the lanes the left side does not decide */
        lane_mask(ni->m1, m, a, op == PAT_AND, n);
        vreg *b = any_lane(ni->m1, n) ? veval(in, e->u.binary.rhs, n, ni->m1) : NULL;
        int sa = a->uni ? 0 : 1, sb = b && !b->uni ? 1 : 0;
        o->uni = false;
        o->rz = a->rz && (!b || b->rz);
        for (int l = 0; l < n; l++) {
            bool lhs = a->v[l * sa].i != 0;
            double ra = a->rz ? 0 : a->r[l * sa];
            if (ni->m1[l]) {
                o->v[l].i = b->v[l * sb].i != 0;
                if (!o->rz)
                    o->r[l] = ra > 0 || (!b->rz && b->r[l * sb] > 0) ? INFINITY : 0;
            } else {
                o->v[l].i = lhs;
                if (!o->rz)
                    o->r[l] = ra > 0 ? INFINITY : 0;
            }
        }
        return o;
    }
    vreg *a = veval(in, e->u.binary.lhs, n, m);
    vreg *b = veval(in, e->u.binary.rhs, n, m);
    bool f32 = e->u.binary.lhs->type.elem == PAT_F32;
    o->uni = a->uni && b->uni;
    o->rz = a->rz && b->rz;
    int lanes = o->uni ? 1 : n;
    int sa = a->uni ? 0 : 1, sb = b->uni ? 0 : 1;
    scal *ov = o->v;
    const scal *av = a->v, *bv = b->v;
    if (!f32 && (op == PAT_DIV || op == PAT_MOD)) {
        for (int l = 0; l < lanes; l++) {
            int32_t y = bv[l * sb].i;
            if (y == 0) {
                if (o->uni ? (!m || any_lane(m, n)) : (!m || m[l]))
                    in->verr = true;
                ov[l].i = 0;
            } else
                ov[l].i = i32_div(op, av[l * sa].i, y);
        }
    } else if (f32 && op == PAT_MUL) {
        for (int l = 0; l < lanes; l++)
            ov[l].f = av[l * sa].f * bv[l * sb].f;
    } else if (f32 && op == PAT_ADD) {
        for (int l = 0; l < lanes; l++)
            ov[l].f = av[l * sa].f + bv[l * sb].f;
    } else if (f32 && op == PAT_SUB) {
        for (int l = 0; l < lanes; l++)
            ov[l].f = av[l * sa].f - bv[l * sb].f;
    } else if (f32 && op == PAT_DIV) {
        for (int l = 0; l < lanes; l++)
            ov[l].f = av[l * sa].f / bv[l * sb].f;
    } else {
        for (int l = 0; l < lanes; l++)
            ov[l] = binop(op, f32, av[l * sa], bv[l * sb]);
    }
    if (!o->rz)
        for (int l = 0; l < lanes; l++)
            o->r[l] = binop_r(op, f32, av[l * sa], a->rz ? 0 : a->r[l * sa], bv[l * sb],
                              b->rz ? 0 : b->r[l * sb], ov[l]);
    else if (!f32 && a->aff && b->aff && (op == PAT_ADD || op == PAT_SUB || (op == PAT_MUL && (!a->step || !b->step)))) {
        /* still affine when both ends fit in i32 (then no lane wrapped) */
        int64_t a0, step, span, last;
        bool ovf;
        if (op == PAT_MUL) {
            ovf = __builtin_mul_overflow(a->a0, b->a0, &a0) |
                  (a->step ? __builtin_mul_overflow(a->step, b->a0, &step)
                           : __builtin_mul_overflow(b->step, a->a0, &step));
        } else if (op == PAT_ADD) {
            ovf = __builtin_add_overflow(a->a0, b->a0, &a0) | __builtin_add_overflow(a->step, b->step, &step);
        } else {
            ovf = __builtin_sub_overflow(a->a0, b->a0, &a0) | __builtin_sub_overflow(a->step, b->step, &step);
        }
        ovf = ovf || __builtin_mul_overflow((int64_t)(lanes - 1), step, &span) || __builtin_add_overflow(a0, span, &last);
        o->aff = !ovf && a0 >= INT32_MIN && a0 <= INT32_MAX && last >= INT32_MIN && last <= INT32_MAX &&
                 step >= INT32_MIN && step <= INT32_MAX;
        o->a0 = a0;
        o->step = step;
    }
    return o;
}

static vreg *veval(interp *in, const pat_expr *e, int n, const unsigned char *m)
{
    node_info *ni = tab_get(in, e);
    vreg *o = &ni->vr;
    o->aff = false;
    o->v = o->buf;
    switch (e->kind) {
    case PAT_E_INT:
        o->uni = o->rz = o->aff = true;
        o->v[0].i = e->u.ival;
        o->a0 = e->u.ival;
        o->step = 0;
        return o;
    case PAT_E_FLOAT:
        o->uni = o->rz = true;
        o->v[0].f = e->u.fval;
        return o;
    case PAT_E_TENSOR:
        o->uni = true;
        o->v[0] = *(const scal *)in->vals->t[e->u.decl->id].data.p;
        o->r[0] = in->rt[e->u.decl->id] ? in->rt[e->u.decl->id][0] : 0.0;
        o->rz = o->r[0] == 0;
        return o;
    case PAT_E_VAR: {
        const pat_var *v = e->u.var;
        for (int k = 0; k < in->n_lane_vars; k++)
            if (v == in->lane_var[k]) {
                o->uni = false;
                o->rz = true;
                o->v = (scal *)(uintptr_t)in->lane_val[k];  /* read only */
                o->aff = in->lane_aff[k];
                o->a0 = in->lane_val[k][0];
                o->step = 1;
                return o;
            }
        if (v == in->vvar) {
            o->uni = false;
            o->rz = o->aff = true;
            o->a0 = in->vbase;
            o->step = 1;
            for (int l = 0; l < n; l++)
                o->v[l].i = in->vbase + l;
            return o;
        }
        if (in->vlet[v->slot])
            return in->vlet[v->slot];
        o->uni = true;
        o->v[0] = in->slots[v->slot];
        o->r[0] = in->rslots[v->slot];
        o->rz = o->r[0] == 0;
        o->aff = v->type.elem == PAT_I32;
        o->a0 = o->v[0].i;
        o->step = 0;
        return o;
    }
    case PAT_E_ACCESS:
        return vaccess(in, e, ni, n, m);
    case PAT_E_UNARY: {
        vreg *a = veval(in, e->u.unary.arg, n, m);
        int lanes = a->uni ? 1 : n;
        o->uni = a->uni;
        o->rz = a->rz;
        for (int l = 0; l < lanes; l++) {
            scal x = a->v[l];
            if (e->u.unary.op == PAT_NOT)
                x.i = x.i == 0;
            else if (e->type.elem == PAT_F32)
                x.f = -x.f;
            else
                x.i = wrap(0u - (uint32_t)x.i);
            o->v[l] = x;
            if (!o->rz)
                o->r[l] = e->type.elem == PAT_F32 || a->r[l] == 0 ? a->r[l] : INFINITY;
        }
        return o;
    }
    case PAT_E_BINARY:
        return vbinary(in, e, ni, n, m);
    case PAT_E_SELECT: {
        vreg *c = veval(in, e->u.select.cond, n, m);
        lane_mask(ni->m1, m, c, true, n);
        lane_mask(ni->m2, m, c, false, n);
        vreg *t = any_lane(ni->m1, n) ? veval(in, e->u.select.then, n, ni->m1) : NULL;
        vreg *f = any_lane(ni->m2, n) ? veval(in, e->u.select.els, n, ni->m2) : NULL;
        o->uni = false;
        o->rz = c->rz && (!t || t->rz) && (!f || f->rz);
        int sc = c->uni ? 0 : 1;
        for (int l = 0; l < n; l++) {
            vreg *s = c->v[l * sc].i != 0 ? t : f;
            int ss = s && !s->uni ? 1 : 0;
            o->v[l] = s ? s->v[l * ss] : (scal){0};
            if (!o->rz)
                o->r[l] = !c->rz && c->r[l * sc] > 0 ? INFINITY : s && !s->rz ? s->r[l * ss] : 0.0;
        }
        return o;
    }
    case PAT_E_CALL: {
        vreg *a = veval(in, e->u.call.args[0], n, m);
        vreg *b = e->u.call.n > 1 ? veval(in, e->u.call.args[1], n, m) : a;
        pat_elem el = e->u.call.args[0]->type.elem;
        pat_fn fn = e->u.call.fn;
        o->uni = a->uni && b->uni;
        o->rz = a->rz && b->rz;
        int lanes = o->uni ? 1 : n;
        int sa = a->uni ? 0 : 1, sb = b->uni ? 0 : 1;
        if (fn == PAT_FN_EXP)
            for (int l = 0; l < lanes; l++)
                o->v[l].f = expf(a->v[l * sa].f);
        else
            for (int l = 0; l < lanes; l++)
                o->v[l] = call1(fn, el, a->v[l * sa], b->v[l * sb]);
        if (!o->rz)
            for (int l = 0; l < lanes; l++)
                o->r[l] = call_r(fn, el, a->v[l * sa], a->rz ? 0 : a->r[l * sa],
                                 e->u.call.n > 1 && !b->rz ? b->r[l * sb] : 0, o->v[l]);
        return o;
    }
    case PAT_E_BLOCK:
        for (int k = 0; k < e->u.block.n; k++)
            in->vlet[e->u.block.vars[k]->slot] = veval(in, e->u.block.values[k], n, m);
        return veval(in, e->u.block.result, n, m);
    default:
        return o;  /* vec_ok admits no other kind */
    }
}

/* ---------------------------------------------------------------- */
/* Patterns                                                          */

/* The lanes of a sum's body: the body's own lanes, or, for an f32 product
 * of two operands without bounds, the operands' lanes (*fa, *fb), so that
 * the sum multiplies as it adds: the same two binary32 operations (ISO C
 * mode contracts nothing into a fused multiply-add), one pass fewer. */
static vreg *sum_body(interp *in, const pat_expr *body, int n, const unsigned char *m, vreg **fa, vreg **fb)
{
    *fa = *fb = NULL;
    const pat_expr *prod = body;
    while (prod->kind == PAT_E_BLOCK && prod->u.block.n == 0)
        prod = prod->u.block.result;
    if (!m && prod->kind == PAT_E_BINARY && prod->u.binary.op == PAT_MUL && prod->type.elem == PAT_F32) {
        vreg *a = veval(in, prod->u.binary.lhs, n, NULL);
        vreg *b = veval(in, prod->u.binary.rhs, n, NULL);
        if (a->rz && b->rz && (!a->uni || !b->uni)) {
            *fa = a;
            *fb = b;
            return NULL;
        }
        /* bounds to carry: the product node computes them (again, purely) */
    }
    return veval(in, body, n, m);
}

/* Body evaluations of the innermost index k of a scalar reduce, one at a
 * time, for v in [lo, hi). */
static void reduce_lanes(interp *in, const pat_expr *e, scal *slot, int64_t lo, int64_t hi, scal *a, racc *acc)
{
    const pat_pattern *pt = &e->u.pat;
    pat_elem el = e->type.elem;
    const pat_expr *body = pt->body;
    for (int64_t v = lo; v < hi; v++) {
        slot->i = (int32_t)v;
        if (pt->where) {
            double rw;
            int32_t keep = eval(in, pt->where, &rw).i;
            if (rw > 0)
                acc->unb = true;
            if (keep == 0)
                continue;
        }
        double r;
        scal t = eval(in, body, &r);
        *a = combine(pt->op, el, *a, t);
        acc_add(acc, pt->op, el, t, r);
    }
}

/* The innermost level of a scalar reduce, a block of iterations at a time. */
static void reduce_blocks(interp *in, const pat_expr *e, const pat_index *ix, int32_t lo, int32_t hi, scal *a,
                          racc *acc)
{
    const pat_pattern *pt = &e->u.pat;
    pat_elem el = e->type.elem;
    scal *slot = &in->slots[ix->var->slot];
    unsigned char mask[BLOCK];
    const pat_var *saved = in->vvar;
    int32_t saved_base = in->vbase;
    for (int64_t v0 = lo; v0 < hi; v0 += BLOCK) {
        int n = hi - v0 < BLOCK ? (int)(hi - v0) : BLOCK;
        in->vvar = ix->var;
        in->vbase = (int32_t)v0;
        in->verr = false;
        const unsigned char *m = NULL;
        bool unb = false;
        if (pt->where) {
            vreg *g = veval(in, pt->where, n, NULL);
            lane_mask(mask, NULL, g, true, n);
            m = mask;
            if (!g->rz)
                for (int l = 0; l < n; l++)
                    unb = unb || g->r[g->uni ? 0 : l] > 0;
        }
        vreg *fa = NULL, *fb = NULL;
        vreg *b = el == PAT_F32 && pt->op == PAT_RED_ADD ? sum_body(in, pt->body, n, m, &fa, &fb)
                                                         : veval(in, pt->body, n, m);
        in->vvar = saved;
        in->vbase = saved_base;
        if (in->verr) {
            /* a check failed: again, one at a time, for the exact error */
            in->verr = false;
            reduce_lanes(in, e, slot, v0, v0 + n, a, acc);
            continue;
        }
        if (unb)
            acc->unb = true;
        if (fa) {
            /* the hot loop of a dot product: multiply, add, and the absolute sum */
            const scal *av = fa->v, *bv = fb->v;
            int sa = fa->uni ? 0 : 1, sb = fb->uni ? 0 : 1;
            float x = a->f;
            double s = acc->s;
            if (sa && sb)
                for (int l = 0; l < n; l++) {
                    float t = av[l].f * bv[l].f;
                    x += t;
                    s += fabs((double)t);
                }
            else
                for (int l = 0; l < n; l++) {
                    float t = av[l * sa].f * bv[l * sb].f;
                    x += t;
                    s += fabs((double)t);
                }
            a->f = x;
            acc->s = s;
            acc->n += n;
            continue;
        }
        int sb = b->uni ? 0 : 1;
        const scal *bv = b->v;
        if (!m && el == PAT_F32 && pt->op == PAT_RED_ADD && b->rz && !b->uni) {
            /* the hot loop: a sequential binary32 sum and its absolute sum */
            float x = a->f;
            double s = acc->s;
            for (int l = 0; l < n; l++) {
                x += bv[l].f;
                s += fabs((double)bv[l].f);
            }
            a->f = x;
            acc->s = s;
            acc->n += n;
            continue;
        }
        for (int l = 0; l < n; l++) {
            if (m && !m[l])
                continue;
            *a = combine(pt->op, el, *a, bv[l * sb]);
            acc_add(acc, pt->op, el, bv[l * sb], b->rz ? 0 : b->r[l * sb]);
        }
    }
    slot->i = hi > lo ? hi - 1 : lo;
}

/* Reduce over indices k.. of pattern e into the scalar *a. */
static void reduce_scalar(interp *in, const pat_expr *e, int k, scal *a, racc *acc)
{
    const pat_pattern *pt = &e->u.pat;
    const pat_index *ix = &pt->idx[k];
    int32_t lo, hi;
    bounds(in, e, k, &lo, &hi, &acc->unb);
    scal *slot = &in->slots[ix->var->slot];
    in->rslots[ix->var->slot] = 0;
    in->active[in->n_active++] = ix->var;
    if (k + 1 < pt->n_idx) {
        for (int64_t v = lo; v < hi; v++) {
            slot->i = (int32_t)v;
            reduce_scalar(in, e, k + 1, a, acc);
        }
    } else if (tab_get(in, e)->vec && hi > lo) {
        reduce_blocks(in, e, ix, lo, hi, a, acc);
    } else {
        reduce_lanes(in, e, slot, lo, hi, a, acc);
    }
    in->n_active--;
}

/* Reduce a row-valued body element-wise into dst (count elements). */
static void reduce_rows(interp *in, const pat_expr *e, int k, scal *dst, node_info *ni, int64_t count)
{
    const pat_pattern *pt = &e->u.pat;
    const pat_index *ix = &pt->idx[k];
    int32_t lo, hi;
    bool unb = false;
    bounds(in, e, k, &lo, &hi, &unb);
    if (unb)
        for (int64_t c = 0; c < count; c++)
            ni->acc[c].unb = true;
    scal *slot = &in->slots[ix->var->slot];
    in->rslots[ix->var->slot] = 0;
    in->active[in->n_active++] = ix->var;
    pat_elem el = e->type.elem;
    for (int64_t v = lo; v < hi; v++) {
        slot->i = (int32_t)v;
        if (k + 1 < pt->n_idx) {
            reduce_rows(in, e, k + 1, dst, ni, count);
            continue;
        }
        if (pt->where) {
            double rw;
            int32_t keep = eval(in, pt->where, &rw).i;
            if (rw > 0)
                for (int64_t c = 0; c < count; c++)
                    ni->acc[c].unb = true;
            if (keep == 0)
                continue;
        }
        eval_into(in, pt->body, ni->buf, ni->rbuf);
        for (int64_t c = 0; c < count; c++) {
            dst[c] = combine(pt->op, el, dst[c], ni->buf[c]);
            acc_add(&ni->acc[c], pt->op, el, ni->buf[c], ni->rbuf[c]);
        }
    }
    in->n_active--;
}

static void groupby_level(interp *in, const pat_expr *e, int k, scal *dst, node_info *ni, int64_t count)
{
    const pat_pattern *pt = &e->u.pat;
    const pat_index *ix = &pt->idx[k];
    int32_t lo, hi;
    bool unb = false;
    bounds(in, e, k, &lo, &hi, &unb);
    if (unb)
        for (int64_t c = 0; c < pt->groups * count; c++)
            ni->acc[c].unb = true;
    scal *slot = &in->slots[ix->var->slot];
    in->rslots[ix->var->slot] = 0;
    in->active[in->n_active++] = ix->var;
    pat_elem el = e->type.elem;
    for (int64_t v = lo; v < hi; v++) {
        slot->i = (int32_t)v;
        if (k + 1 < pt->n_idx) {
            groupby_level(in, e, k + 1, dst, ni, count);
            continue;
        }
        double rw = 0, rk;
        if (pt->where && eval(in, pt->where, &rw).i == 0) {
            if (rw > 0)  /* a term another order may include: every slot */
                for (int64_t c = 0; c < pt->groups * count; c++)
                    ni->acc[c].unb = true;
            continue;
        }
        int32_t g = eval(in, pt->key, &rk).i;
        if (g < 0 || g >= pt->groups)
            runtime_error(in, pt->key->loc, "groupby key %d out of range [0, %d)", (int)g,
                          (int)pt->groups);
        if (rw > 0 || rk > 0)
            for (int64_t c = 0; c < pt->groups * count; c++)
                ni->acc[c].unb = true;
        scal *row = dst + (int64_t)g * count;
        racc *acc = ni->acc + (int64_t)g * count;
        if (!ni->buf) {
            double r;
            scal t = eval(in, pt->body, &r);
            row[0] = combine(pt->op, el, row[0], t);
            acc_add(&acc[0], pt->op, el, t, r);
        } else {
            eval_into(in, pt->body, ni->buf, ni->rbuf);
            for (int64_t c = 0; c < count; c++) {
                row[c] = combine(pt->op, el, row[c], ni->buf[c]);
                acc_add(&acc[c], pt->op, el, ni->buf[c], ni->rbuf[c]);
            }
        }
    }
    in->n_active--;
}

/* The innermost level of a map with a scalar body, a block at a time. */
static void map_blocks(interp *in, const pat_expr *e, const pat_index *ix, scal *dst, double *dr, int64_t stride)
{
    const pat_pattern *pt = &e->u.pat;
    scal *slot = &in->slots[ix->var->slot];
    const pat_var *saved = in->vvar;
    int32_t saved_base = in->vbase;
    for (int64_t v0 = 0; v0 < ix->extent; v0 += BLOCK) {
        int n = ix->extent - v0 < BLOCK ? (int)(ix->extent - v0) : BLOCK;
        in->vvar = ix->var;
        in->vbase = (int32_t)v0;
        in->verr = false;
        vreg *b = veval(in, pt->body, n, NULL);
        in->vvar = saved;
        in->vbase = saved_base;
        if (in->verr) {
            in->verr = false;
            for (int64_t v = v0; v < v0 + n; v++) {
                slot->i = (int32_t)v;
                dst[v * stride] = eval(in, pt->body, &dr[v * stride]);
            }
            continue;
        }
        int sb = b->uni ? 0 : 1;
        for (int l = 0; l < n; l++) {
            dst[(v0 + l) * stride] = b->v[l * sb];
            dr[(v0 + l) * stride] = b->rz ? 0.0 : b->r[l * sb];
        }
    }
    slot->i = ix->extent - 1;
}

/* Rows [r0, r0 + nr) of a map whose body is the reduce ni->seg over one
 * dynamic range, one at a time (the exact path, and the fallback). */
static void map_rows(interp *in, const pat_expr *e, const pat_index *ix, int64_t r0, int nr, scal *dst,
                     double *dr, int64_t stride)
{
    scal *slot = &in->slots[ix->var->slot];
    for (int64_t v = r0; v < r0 + nr; v++) {
        slot->i = (int32_t)v;
        dst[v * stride] = eval(in, e->u.pat.body, &dr[v * stride]);
    }
}

/* The same rows, their reduce's iterations a block at a time across rows:
 * the bounds of every row of the block first, then lanes of (row, j) in
 * iteration order, combined into each row's accumulator in that order.
 * Any failed check, or work past the limit, runs the rows one at a time
 * instead (which reports the first failure exactly). */
static void map_segments(interp *in, const pat_expr *e, node_info *ni, const pat_index *ix, scal *dst,
                         double *dr, int64_t stride)
{
    const pat_expr *red = ni->seg;
    const pat_pattern *rp = &red->u.pat;
    const pat_index *jx = &rp->idx[0];
    pat_elem el = red->type.elem;
    int64_t weight = tab_get(in, red)->weight[0];
    unsigned char mask[BLOCK];
    for (int64_t r0 = 0; r0 < ix->extent; r0 += BLOCK) {
        int nr = ix->extent - r0 < BLOCK ? (int)(ix->extent - r0) : BLOCK;
        int64_t work_before = in->work_left;
        in->vvar = ix->var;
        in->vbase = (int32_t)r0;
        in->verr = false;
        vreg *lo = veval(in, jx->lo, nr, NULL);
        for (int i = 0; i < nr; i++) {
            ni->seg_lo[i] = lo->v[lo->uni ? 0 : i].i;
            acc_start(&ni->seg_acc[i]);
            ni->seg_acc[i].unb = !lo->rz && lo->r[lo->uni ? 0 : i] > 0;
            ni->seg_val[i] = identity(rp->op, el);
        }
        vreg *hi = veval(in, jx->hi, nr, NULL);
        int64_t total = 0;
        for (int i = 0; i < nr; i++) {
            ni->seg_hi[i] = hi->v[hi->uni ? 0 : i].i;
            ni->seg_acc[i].unb = ni->seg_acc[i].unb || (!hi->rz && hi->r[hi->uni ? 0 : i] > 0);
            if (ni->seg_hi[i] > ni->seg_lo[i])
                total += (int64_t)ni->seg_hi[i] - ni->seg_lo[i];
        }
        in->vvar = NULL;
        int64_t w = pat_work_mul(total, weight);
        bool exact = in->verr || w > in->work_left;
        if (!exact)
            in->work_left -= w;
        /* lanes of (row, j), row-major */
        int row = 0;
        int64_t j = nr ? ni->seg_lo[0] : 0;
        while (!exact) {
            int n = 0, n_runs = 0;
            bool consecutive = true;
            while (n < BLOCK && row < nr) {
                if (j >= ni->seg_hi[row]) {
                    if (++row < nr)
                        j = ni->seg_lo[row];
                    continue;
                }
                consecutive = consecutive && (n == 0 || j == ni->lane_j[n - 1] + 1);
                int32_t rv = (int32_t)(r0 + row);
                int cnt = ni->seg_hi[row] - j < BLOCK - n ? (int)(ni->seg_hi[row] - j) : BLOCK - n;
                int32_t *lr = ni->lane_row + n, *lj = ni->lane_j + n;
                for (int t = 0; t < cnt; t++)
                    lj[t] = (int32_t)j + t;
                if (ni->seg_uses_row)
                    for (int t = 0; t < cnt; t++)
                        lr[t] = rv;
                ni->run_row[n_runs] = row;
                ni->run_len[n_runs++] = cnt;
                n += cnt;
                j += cnt;
            }
            if (n == 0)
                break;
            in->lane_var[0] = ix->var;
            in->lane_val[0] = ni->lane_row;
            in->lane_aff[0] = ni->lane_row[n - 1] - ni->lane_row[0] == n - 1;
            in->lane_var[1] = jx->var;
            in->lane_val[1] = ni->lane_j;
            in->lane_aff[1] = consecutive;
            in->n_lane_vars = 2;
            const unsigned char *m = NULL;
            vreg *g = NULL;
            if (rp->where) {
                g = veval(in, rp->where, n, NULL);
                lane_mask(mask, NULL, g, true, n);
                m = mask;
            }
            vreg *fa = NULL, *fb = NULL;
            vreg *b = el == PAT_F32 && rp->op == PAT_RED_ADD ? sum_body(in, rp->body, n, m, &fa, &fb)
                                                             : veval(in, rp->body, n, m);
            in->n_lane_vars = 0;
            if (in->verr) {
                exact = true;
                break;
            }
            if (fa) {
                /* rows of dot products (spmv): multiply and add per row, in registers */
                const scal *av = fa->v, *bv = fb->v;
                int sa = fa->uni ? 0 : 1, sbb = fb->uni ? 0 : 1;
                for (int q = 0, l = 0; q < n_runs; q++) {
                    int i = ni->run_row[q], end = l + ni->run_len[q];
                    float x = ni->seg_val[i].f;
                    double sum = ni->seg_acc[i].s;
                    if (sa && sbb)
                        for (; l < end; l++) {
                            float t = av[l].f * bv[l].f;
                            x += t;
                            sum += fabs((double)t);
                        }
                    else
                        for (; l < end; l++) {
                            float t = av[l * sa].f * bv[l * sbb].f;
                            x += t;
                            sum += fabs((double)t);
                        }
                    ni->seg_val[i].f = x;
                    ni->seg_acc[i].s = sum;
                    ni->seg_acc[i].n += ni->run_len[q];
                }
                continue;
            }
            int sb = b->uni ? 0 : 1;
            if (!m && el == PAT_F32 && rp->op == PAT_RED_ADD && b->rz && !b->uni) {
                /* the hot loop: each row's sum in registers while its lanes last */
                const scal *bv = b->v;
                for (int q = 0, l = 0; q < n_runs; q++) {
                    int i = ni->run_row[q], end = l + ni->run_len[q];
                    float x = ni->seg_val[i].f;
                    double sum = ni->seg_acc[i].s;
                    for (; l < end; l++) {
                        x += bv[l].f;
                        sum += fabs((double)bv[l].f);
                    }
                    ni->seg_val[i].f = x;
                    ni->seg_acc[i].s = sum;
                    ni->seg_acc[i].n += ni->run_len[q];
                }
                continue;
            }
            for (int q = 0, l = 0; q < n_runs; q++) {
                int i = ni->run_row[q];
                for (int end = l + ni->run_len[q]; l < end; l++) {
                    if (g && !g->rz && g->r[g->uni ? 0 : l] > 0)
                        ni->seg_acc[i].unb = true;
                    if (m && !m[l])
                        continue;
                    ni->seg_val[i] = combine(rp->op, el, ni->seg_val[i], b->v[l * sb]);
                    acc_add(&ni->seg_acc[i], rp->op, el, b->v[l * sb], b->rz ? 0 : b->r[l * sb]);
                }
            }
        }
        if (exact) {
            in->verr = false;
            in->work_left = work_before;
            map_rows(in, e, ix, r0, nr, dst, dr, stride);
            continue;
        }
        for (int i = 0; i < nr; i++) {
            dst[(r0 + i) * stride] = ni->seg_val[i];
            dr[(r0 + i) * stride] = acc_bound(&ni->seg_acc[i], rp->op, el, ni->seg_val[i]);
        }
    }
    in->slots[ix->var->slot].i = ix->extent - 1;
}

static void map_level(interp *in, const pat_expr *e, int k, scal *dst, double *dr)
{
    const pat_pattern *pt = &e->u.pat;
    const pat_index *ix = &pt->idx[k];
    int64_t stride = 1;
    for (int r = k + 1; r < e->type.rank; r++)
        stride *= e->type.dims[r];
    scal *slot = &in->slots[ix->var->slot];
    in->rslots[ix->var->slot] = 0;
    in->active[in->n_active++] = ix->var;
    bool scalar_body = pt->body->type.rank == 0;
    if (k + 1 == pt->n_idx && tab_get(in, e)->seg) {
        map_segments(in, e, tab_get(in, e), ix, dst, dr, stride);
        in->n_active--;
        return;
    }
    if (k + 1 == pt->n_idx && scalar_body && tab_get(in, e)->vec) {
        map_blocks(in, e, ix, dst, dr, stride);
        in->n_active--;
        return;
    }
    for (int32_t v = 0; v < ix->extent; v++) {
        slot->i = v;
        scal *at = dst + v * stride;
        double *rat = dr + v * stride;
        if (k + 1 < pt->n_idx)
            map_level(in, e, k + 1, at, rat);
        else if (scalar_body)
            *at = eval(in, pt->body, rat);
        else
            eval_into(in, pt->body, at, rat);
    }
    in->n_active--;
}

static scal eval(interp *in, const pat_expr *e, double *r)
{
    scal v;
    *r = 0;
    switch (e->kind) {
    case PAT_E_INT:
        v.i = e->u.ival;
        return v;
    case PAT_E_FLOAT:
        v.f = e->u.fval;
        return v;
    case PAT_E_TENSOR:
        if (in->rt[e->u.decl->id])
            *r = in->rt[e->u.decl->id][0];
        return *(const scal *)in->vals->t[e->u.decl->id].data.p;
    case PAT_E_VAR:
        *r = in->rslots[e->u.var->slot];
        return in->slots[e->u.var->slot];
    case PAT_E_ACCESS:
        return access(in, e, r);
    case PAT_E_UNARY:
        v = eval(in, e->u.unary.arg, r);
        if (e->u.unary.op == PAT_NOT)
            v.i = v.i == 0;
        else if (e->type.elem == PAT_F32)
            v.f = -v.f;
        else
            v.i = wrap(0u - (uint32_t)v.i);
        if (*r > 0 && e->type.elem == PAT_I32)
            *r = INFINITY;
        return v;
    case PAT_E_BINARY:
        return eval_binary(in, e, r);
    case PAT_E_SELECT: {
        double rc;
        bool c = eval(in, e->u.select.cond, &rc).i != 0;
        v = eval(in, c ? e->u.select.then : e->u.select.els, r);
        if (rc > 0)
            *r = INFINITY;
        return v;
    }
    case PAT_E_CALL:
        return eval_call(in, e, r);
    case PAT_E_BLOCK:
        if (e->u.block.n)
            run_lets(in, e);
        return eval(in, e->u.block.result, r);
    case PAT_E_REDUCE: {
        racc acc;
        acc_start(&acc);
        v = identity(e->u.pat.op, e->type.elem);
        reduce_scalar(in, e, 0, &v, &acc);
        *r = acc_bound(&acc, e->u.pat.op, e->type.elem, v);
        return v;
    }
    case PAT_E_MAP: case PAT_E_GROUPBY:
        break;  /* never scalar: they have at least one dimension */
    }
    v.i = 0;
    return v;
}

static void eval_into(interp *in, const pat_expr *e, scal *dst, double *dr)
{
    if (e->type.rank == 0) {
        *dst = eval(in, e, dr);
        return;
    }
    int64_t count = pat_type_count(&e->type);
    switch (e->kind) {
    case PAT_E_VAR:
        memcpy(dst, in->letbuf[e->u.var->slot], (size_t)count * sizeof *dst);
        memcpy(dr, in->rletbuf[e->u.var->slot], (size_t)count * sizeof *dr);
        return;
    case PAT_E_TENSOR: {
        const double *rt = in->rt[e->u.decl->id];
        memcpy(dst, in->vals->t[e->u.decl->id].data.p, (size_t)count * sizeof *dst);
        if (rt)
            memcpy(dr, rt, (size_t)count * sizeof *dr);
        else
            memset(dr, 0, (size_t)count * sizeof *dr);
        return;
    }
    case PAT_E_SELECT: {
        double rc;
        bool c = eval(in, e->u.select.cond, &rc).i != 0;
        eval_into(in, c ? e->u.select.then : e->u.select.els, dst, dr);
        if (rc > 0)
            for (int64_t i = 0; i < count; i++)
                dr[i] = INFINITY;
        return;
    }
    case PAT_E_BLOCK:
        run_lets(in, e);
        eval_into(in, e->u.block.result, dst, dr);
        return;
    case PAT_E_MAP:
        map_level(in, e, 0, dst, dr);
        return;
    case PAT_E_REDUCE: {
        node_info *ni = tab_get(in, e);
        scal id = identity(e->u.pat.op, e->type.elem);
        for (int64_t c = 0; c < count; c++) {
            dst[c] = id;
            acc_start(&ni->acc[c]);
        }
        reduce_rows(in, e, 0, dst, ni, count);
        for (int64_t c = 0; c < count; c++)
            dr[c] = acc_bound(&ni->acc[c], e->u.pat.op, e->type.elem, dst[c]);
        return;
    }
    case PAT_E_GROUPBY: {
        node_info *ni = tab_get(in, e);
        scal id = identity(e->u.pat.op, e->type.elem);
        for (int64_t c = 0; c < count; c++) {
            dst[c] = id;
            acc_start(&ni->acc[c]);
        }
        groupby_level(in, e, 0, dst, ni, pat_type_count(&e->u.pat.body->type));
        for (int64_t c = 0; c < count; c++)
            dr[c] = acc_bound(&ni->acc[c], e->u.pat.op, e->type.elem, dst[c]);
        return;
    }
    default:
        return;  /* other kinds are scalars: handled above */
    }
}

/* ---------------------------------------------------------------- */
/* Entry point                                                       */

static int run_def(interp *in, const pat_def *df)
{
    in->def = df;
    int n = df->n_slots ? df->n_slots : 1;
    in->slots = own(in, (size_t)n, sizeof *in->slots);
    in->rslots = own(in, (size_t)n, sizeof *in->rslots);
    in->letbuf = own(in, (size_t)n, sizeof *in->letbuf);
    in->rletbuf = own(in, (size_t)n, sizeof *in->rletbuf);
    in->vlet = own(in, (size_t)n, sizeof *in->vlet);
    in->active = own(in, (size_t)n, sizeof *in->active);
    in->n_active = 0;
    in->vvar = NULL;
    tab_grow(in);
    prepare(in, df->value);
    pat_tensor *t = &in->vals->t[df->target->id];
    eval_into(in, df->value, (scal *)t->data.p, in->rt[df->target->id]);
    return 0;
}

/* One definition; -1 after a run-time error (nothing is live across the
 * setjmp but what `in` points to). */
static int run_one(interp *in, const pat_def *df)
{
    if (setjmp(in->fail) != 0)
        return -1;
    run_def(in, df);
    return 0;
}

/* Every definition in order; -1 after a run-time error. */
static int run_defs(interp *in)
{
    int rc = 0;
    for (int i = 0; i < in->p->n_defs && rc == 0; i++) {
        rc = run_one(in, in->p->defs[i]);
        free_owned(in);
    }
    return rc;
}

void pat_bounds_free(pat_bounds *b)
{
    for (int i = 0; i < b->n && b->r; i++)
        free(b->r[i]);
    free(b->r);
    b->r = NULL;
    b->n = 0;
}

int pat_interpret(const pat_program *p, pat_values *vals, diag_list *d)
{
    return pat_interpret_opts(p, vals, NULL, NULL, d);
}

int pat_interpret_opts(const pat_program *p, pat_values *vals, const pat_interp_opts *o, pat_bounds *out,
                       diag_list *d)
{
    if (vals->n != p->n_decls)
        return diag_error(d, program_loc(p), "value table does not match the program");
    int64_t max_work = o && o->max_work > 0 ? o->max_work : PAT_DEFAULT_MAX_WORK;
    if (pat_check_work(p, max_work, d) != 0)
        return -1;
    for (int i = 0; i < p->n_decls; i++) {
        const pat_decl *dl = p->decls[i];
        pat_tensor *t = &vals->t[i];
        if (dl->kind == PAT_CONST)
            continue;
        if (dl->kind == PAT_INPUT) {
            if (!t->data.p)
                return diag_error(d, dl->loc, "input '%s' has no data", dl->name);
        } else if (!t->data.p) {
            if (pat_tensor_alloc(t, &dl->type) < 0)
                return diag_error(d, dl->loc, "out of memory for '%s'", dl->name);
        }
        if (!pat_type_equal(&t->type, &dl->type)) {
            char b1[96], b2[96];
            return diag_error(d, dl->loc, "the value of '%s' is %s but it is declared %s", dl->name,
                              pat_type_str(&t->type, b1, sizeof b1),
                              pat_type_str(&dl->type, b2, sizeof b2));
        }
    }
    /* The bounds of outputs and buffers (inputs have none). */
    pat_bounds local = {0};
    pat_bounds *const rb = out ? out : &local;
    rb->n = p->n_decls;
    rb->r = calloc((size_t)p->n_decls + 1, sizeof *rb->r);
    if (!rb->r) {
        rb->n = 0;
        return diag_error(d, program_loc(p), "out of memory in the interpreter");
    }
    for (int i = 0; i < p->n_decls; i++) {
        const pat_decl *dl = p->decls[i];
        if (dl->kind != PAT_OUTPUT && dl->kind != PAT_BUFFER)
            continue;
        rb->r[i] = calloc((size_t)vals->t[i].count + 1, sizeof *rb->r[i]);
        if (!rb->r[i]) {
            pat_bounds_free(rb);
            return diag_error(d, dl->loc, "out of memory for the bounds of '%s'", dl->name);
        }
    }
    /* State that changes between setjmp and longjmp lives behind a pointer. */
    interp *in = xcalloc(1, sizeof *in);
    if (!in) {
        pat_bounds_free(rb);
        return diag_error(d, program_loc(p), "out of memory in the interpreter");
    }
    in->p = p;
    in->vals = vals;
    in->rt = rb->r;
    in->d = d;
    in->work_left = max_work - pat_static_work(p);
    in->no_blocks = o && o->one_at_a_time;
    int rc = run_defs(in);
    free(in->owned);
    free(in);
    if (rc != 0 || rb == &local)
        pat_bounds_free(rb);
    return rc;
}
