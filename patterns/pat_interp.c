/*
 * pat_interp.c — the reference interpreter: the meaning of a checked
 * program (spec §5-§6), against which every mapped design is verified.
 *
 * A tree-walking evaluator over the typed IR, built to be obviously right
 * first and fast enough second:
 *  - every variable of a definition has a slot in one frame (scalars in
 *    place; a `let` bound to a tensor gets a buffer of its own, allocated
 *    once per definition);
 *  - tensor-valued expressions are evaluated *into* a destination (a map
 *    writes its rows straight into the output); the only temporaries are
 *    the per-node scratch buffers of reductions over row-valued bodies and
 *    of indexing a computed value, allocated once before the definition
 *    runs — nothing is allocated per element;
 *  - a node never runs inside itself, so one scratch buffer per node is
 *    enough however the loops nest.
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
 * A run-time error longjmps out of the evaluation; every buffer is owned
 * by the interpreter state and freed on the way out.
 */
#include "patterns/pat.h"
#include "util/alloc.h"

#include <math.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef union scal {
    int32_t i;
    float f;
} scal;

typedef struct scratch_ent {
    const pat_expr *key;
    scal *buf;
} scratch_ent;

typedef struct interp {
    const pat_program *p;
    pat_values *vals;
    diag_list *d;
    const pat_def *def;
    scal *slots;               /* by var slot: scalar values */
    scal **letbuf;             /* by var slot: storage of tensor-valued lets */
    const pat_var **active;    /* index variables whose loops are running */
    int n_active;
    scratch_ent *tab;          /* node -> scratch buffer, open addressing */
    size_t tab_cap, tab_n;
    void **owned;              /* every buffer allocated for this definition */
    int n_owned, cap_owned;
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
/* Scratch buffers                                                   */

static size_t hash_ptr(const void *p, size_t cap)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x & (cap - 1);
}

static void tab_put(interp *in, const pat_expr *e, scal *buf);

static void tab_grow(interp *in)
{
    scratch_ent *old = in->tab;
    size_t old_cap = in->tab_cap;
    in->tab_cap = old_cap ? 2 * old_cap : 64;
    in->tab = own(in, in->tab_cap, sizeof *in->tab);
    in->tab_n = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key)
            tab_put(in, old[i].key, old[i].buf);
}

static void tab_put(interp *in, const pat_expr *e, scal *buf)
{
    if (2 * (in->tab_n + 1) > in->tab_cap)
        tab_grow(in);
    size_t h = hash_ptr(e, in->tab_cap);
    while (in->tab[h].key)
        h = (h + 1) & (in->tab_cap - 1);
    in->tab[h].key = e;
    in->tab[h].buf = buf;
    in->tab_n++;
}

static scal *tab_get(const interp *in, const pat_expr *e)
{
    size_t h = hash_ptr(e, in->tab_cap);
    while (in->tab[h].key != e)
        h = (h + 1) & (in->tab_cap - 1);
    return in->tab[h].buf;
}

static scal *new_buf(interp *in, const pat_type *t)
{
    return own(in, (size_t)pat_type_count(t), sizeof(scal));
}

/* Give every node that needs a temporary its buffer, and every
 * tensor-valued let its storage. */
static void prepare(interp *in, const pat_expr *e)
{
    switch (e->kind) {
    case PAT_E_INT: case PAT_E_FLOAT: case PAT_E_TENSOR: case PAT_E_VAR:
        return;
    case PAT_E_ACCESS:
        if (e->u.access.base->kind != PAT_E_TENSOR && e->u.access.base->kind != PAT_E_VAR)
            tab_put(in, e, new_buf(in, &e->u.access.base->type));
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
                in->letbuf[v->slot] = new_buf(in, &v->type);
            prepare(in, e->u.block.values[k]);
        }
        prepare(in, e->u.block.result);
        return;
    case PAT_E_MAP: case PAT_E_REDUCE: case PAT_E_GROUPBY: {
        const pat_pattern *pt = &e->u.pat;
        for (int k = 0; k < pt->n_idx; k++)
            if (pt->idx[k].lo) {
                prepare(in, pt->idx[k].lo);
                prepare(in, pt->idx[k].hi);
            }
        if (pt->where)
            prepare(in, pt->where);
        if (pt->key)
            prepare(in, pt->key);
        if (e->kind != PAT_E_MAP && pt->body->type.rank > 0)
            tab_put(in, e, new_buf(in, &pt->body->type));
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

/* ---------------------------------------------------------------- */
/* Evaluation                                                        */

static scal eval(interp *in, const pat_expr *e);
static void eval_into(interp *in, const pat_expr *e, scal *dst);

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

static const scal *access(interp *in, const pat_expr *e)
{
    const pat_expr *b = e->u.access.base;
    const scal *data;
    if (b->kind == PAT_E_TENSOR)
        data = (const scal *)in->vals->t[b->u.decl->id].data.p;
    else if (b->kind == PAT_E_VAR)
        data = in->letbuf[b->u.var->slot];
    else {
        scal *buf = tab_get(in, e);
        eval_into(in, b, buf);
        data = buf;
    }
    int64_t off = 0;
    for (int k = 0; k < e->u.access.n; k++) {
        const pat_expr *ix = e->u.access.idx[k];
        int32_t v = ix->kind == PAT_E_VAR ? in->slots[ix->u.var->slot].i : eval(in, ix).i;
        int32_t size = b->type.dims[k];
        if (v < 0 || v >= size) {
            char name[96];
            runtime_error(in, start_loc(e->u.access.idx[k]),
                          "index %d out of bounds for dimension %d of %s (size %d)",
                          (int)v, k, base_name(b, name, sizeof name), (int)size);
        }
        off = off * size + v;
    }
    return &data[off];
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

static scal eval_binary(interp *in, const pat_expr *e)
{
    scal r, a, b;
    pat_binop op = e->u.binary.op;
    if (op == PAT_AND) {
        r.i = eval(in, e->u.binary.lhs).i != 0 && eval(in, e->u.binary.rhs).i != 0;
        return r;
    }
    if (op == PAT_OR) {
        r.i = eval(in, e->u.binary.lhs).i != 0 || eval(in, e->u.binary.rhs).i != 0;
        return r;
    }
    a = eval(in, e->u.binary.lhs);
    b = eval(in, e->u.binary.rhs);
    if (e->u.binary.lhs->type.elem == PAT_F32) {
        if (op == PAT_MUL) {
            r.f = a.f * b.f;
            return r;
        }
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
    case PAT_DIV:
    case PAT_MOD:
        if (b.i == 0)
            runtime_error(in, e->loc, "i32 division by zero%s", op == PAT_MOD ? " (in '%')" : "");
        if (a.i == INT32_MIN && b.i == -1)
            r.i = op == PAT_DIV ? INT32_MIN : 0;
        else
            r.i = op == PAT_DIV ? a.i / b.i : a.i % b.i;
        return r;
    case PAT_LT: r.i = a.i < b.i; return r;
    case PAT_LE: r.i = a.i <= b.i; return r;
    case PAT_GT: r.i = a.i > b.i; return r;
    case PAT_GE: r.i = a.i >= b.i; return r;
    case PAT_EQ: r.i = a.i == b.i; return r;
    case PAT_NE: r.i = a.i != b.i; return r;
    default: r.i = 0; return r;
    }
}

static scal eval_call(interp *in, const pat_expr *e)
{
    scal a = eval(in, e->u.call.args[0]), r;
    pat_elem el = e->u.call.args[0]->type.elem;
    switch (e->u.call.fn) {
    case PAT_FN_EXP: r.f = expf(a.f); return r;
    case PAT_FN_LOG: r.f = logf(a.f); return r;
    case PAT_FN_SQRT: r.f = sqrtf(a.f); return r;
    case PAT_FN_TANH: r.f = tanhf(a.f); return r;
    case PAT_FN_ABS: r.f = fabsf(a.f); return r;
    case PAT_FN_MAX: case PAT_FN_MIN: {
        scal b = eval(in, e->u.call.args[1]);
        return combine(e->u.call.fn == PAT_FN_MAX ? PAT_RED_MAX : PAT_RED_MIN, el, a, b);
    }
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

static void run_lets(interp *in, const pat_expr *e)
{
    for (int k = 0; k < e->u.block.n; k++) {
        const pat_var *v = e->u.block.vars[k];
        if (v->type.rank == 0)
            in->slots[v->slot] = eval(in, e->u.block.values[k]);
        else
            eval_into(in, e->u.block.values[k], in->letbuf[v->slot]);
    }
}

/* Bounds of index k of a pattern: [*lo, *hi). */
static inline void bounds(interp *in, const pat_index *ix, int32_t *lo, int32_t *hi)
{
    if (ix->lo) {
        *lo = eval(in, ix->lo).i;
        *hi = eval(in, ix->hi).i;
    } else {
        *lo = 0;
        *hi = ix->extent;
    }
}

/* Reduce over indices k.. of pattern e into the scalar *acc. */
static void reduce_scalar(interp *in, const pat_expr *e, int k, scal *acc)
{
    const pat_pattern *pt = &e->u.pat;
    const pat_index *ix = &pt->idx[k];
    int32_t lo, hi;
    bounds(in, ix, &lo, &hi);
    scal *slot = &in->slots[ix->var->slot];
    in->active[in->n_active++] = ix->var;
    pat_elem el = e->type.elem;
    if (k + 1 < pt->n_idx) {
        for (int64_t v = lo; v < hi; v++) {
            slot->i = (int32_t)v;
            reduce_scalar(in, e, k + 1, acc);
        }
    } else {
        scal a = *acc;
        const pat_expr *body = pt->body;
        while (body->kind == PAT_E_BLOCK && body->u.block.n == 0)
            body = body->u.block.result;
        for (int64_t v = lo; v < hi; v++) {
            slot->i = (int32_t)v;
            if (pt->where && eval(in, pt->where).i == 0)
                continue;
            a = combine(pt->op, el, a, eval(in, body));
        }
        *acc = a;
    }
    in->n_active--;
}

/* Reduce a row-valued body element-wise into dst (count elements). */
static void reduce_rows(interp *in, const pat_expr *e, int k, scal *dst, scal *tmp, int64_t count)
{
    const pat_pattern *pt = &e->u.pat;
    const pat_index *ix = &pt->idx[k];
    int32_t lo, hi;
    bounds(in, ix, &lo, &hi);
    scal *slot = &in->slots[ix->var->slot];
    in->active[in->n_active++] = ix->var;
    pat_elem el = e->type.elem;
    for (int64_t v = lo; v < hi; v++) {
        slot->i = (int32_t)v;
        if (k + 1 < pt->n_idx) {
            reduce_rows(in, e, k + 1, dst, tmp, count);
            continue;
        }
        if (pt->where && eval(in, pt->where).i == 0)
            continue;
        eval_into(in, pt->body, tmp);
        for (int64_t c = 0; c < count; c++)
            dst[c] = combine(pt->op, el, dst[c], tmp[c]);
    }
    in->n_active--;
}

static void groupby_level(interp *in, const pat_expr *e, int k, scal *dst, scal *tmp, int64_t count)
{
    const pat_pattern *pt = &e->u.pat;
    const pat_index *ix = &pt->idx[k];
    int32_t lo, hi;
    bounds(in, ix, &lo, &hi);
    scal *slot = &in->slots[ix->var->slot];
    in->active[in->n_active++] = ix->var;
    pat_elem el = e->type.elem;
    for (int64_t v = lo; v < hi; v++) {
        slot->i = (int32_t)v;
        if (k + 1 < pt->n_idx) {
            groupby_level(in, e, k + 1, dst, tmp, count);
            continue;
        }
        if (pt->where && eval(in, pt->where).i == 0)
            continue;
        int32_t g = eval(in, pt->key).i;
        if (g < 0 || g >= pt->groups)
            runtime_error(in, pt->key->loc, "groupby key %d out of range [0, %d)", (int)g,
                          (int)pt->groups);
        scal *row = dst + (int64_t)g * count;
        if (!tmp) {
            row[0] = combine(pt->op, el, row[0], eval(in, pt->body));
        } else {
            eval_into(in, pt->body, tmp);
            for (int64_t c = 0; c < count; c++)
                row[c] = combine(pt->op, el, row[c], tmp[c]);
        }
    }
    in->n_active--;
}

static void map_level(interp *in, const pat_expr *e, int k, scal *dst)
{
    const pat_pattern *pt = &e->u.pat;
    const pat_index *ix = &pt->idx[k];
    int64_t stride = 1;
    for (int r = k + 1; r < e->type.rank; r++)
        stride *= e->type.dims[r];
    scal *slot = &in->slots[ix->var->slot];
    in->active[in->n_active++] = ix->var;
    bool scalar_body = pt->body->type.rank == 0;
    for (int32_t v = 0; v < ix->extent; v++) {
        slot->i = v;
        scal *at = dst + v * stride;
        if (k + 1 < pt->n_idx)
            map_level(in, e, k + 1, at);
        else if (scalar_body)
            *at = eval(in, pt->body);
        else
            eval_into(in, pt->body, at);
    }
    in->n_active--;
}

static scal eval(interp *in, const pat_expr *e)
{
    scal r;
    switch (e->kind) {
    case PAT_E_INT:
        r.i = e->u.ival;
        return r;
    case PAT_E_FLOAT:
        r.f = e->u.fval;
        return r;
    case PAT_E_TENSOR:
        return *(const scal *)in->vals->t[e->u.decl->id].data.p;
    case PAT_E_VAR:
        return in->slots[e->u.var->slot];
    case PAT_E_ACCESS:
        return *access(in, e);
    case PAT_E_UNARY:
        r = eval(in, e->u.unary.arg);
        if (e->u.unary.op == PAT_NOT)
            r.i = r.i == 0;
        else if (e->type.elem == PAT_F32)
            r.f = -r.f;
        else
            r.i = wrap(0u - (uint32_t)r.i);
        return r;
    case PAT_E_BINARY:
        return eval_binary(in, e);
    case PAT_E_SELECT:
        return eval(in, eval(in, e->u.select.cond).i != 0 ? e->u.select.then : e->u.select.els);
    case PAT_E_CALL:
        return eval_call(in, e);
    case PAT_E_BLOCK:
        if (e->u.block.n)
            run_lets(in, e);
        return eval(in, e->u.block.result);
    case PAT_E_REDUCE:
        r = identity(e->u.pat.op, e->type.elem);
        reduce_scalar(in, e, 0, &r);
        return r;
    case PAT_E_MAP: case PAT_E_GROUPBY:
        break;  /* never scalar: they have at least one dimension */
    }
    r.i = 0;
    return r;
}

static void eval_into(interp *in, const pat_expr *e, scal *dst)
{
    if (e->type.rank == 0) {
        *dst = eval(in, e);
        return;
    }
    int64_t count = pat_type_count(&e->type);
    switch (e->kind) {
    case PAT_E_VAR:
        memcpy(dst, in->letbuf[e->u.var->slot], (size_t)count * sizeof *dst);
        return;
    case PAT_E_TENSOR:
        memcpy(dst, in->vals->t[e->u.decl->id].data.p, (size_t)count * sizeof *dst);
        return;
    case PAT_E_SELECT:
        eval_into(in, eval(in, e->u.select.cond).i != 0 ? e->u.select.then : e->u.select.els, dst);
        return;
    case PAT_E_BLOCK:
        run_lets(in, e);
        eval_into(in, e->u.block.result, dst);
        return;
    case PAT_E_MAP:
        map_level(in, e, 0, dst);
        return;
    case PAT_E_REDUCE: {
        scal id = identity(e->u.pat.op, e->type.elem);
        for (int64_t c = 0; c < count; c++)
            dst[c] = id;
        reduce_rows(in, e, 0, dst, tab_get(in, e), count);
        return;
    }
    case PAT_E_GROUPBY: {
        scal id = identity(e->u.pat.op, e->type.elem);
        for (int64_t c = 0; c < count; c++)
            dst[c] = id;
        const pat_expr *body = e->u.pat.body;
        groupby_level(in, e, 0, dst, body->type.rank > 0 ? tab_get(in, e) : NULL,
                      pat_type_count(&body->type));
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
    in->letbuf = own(in, (size_t)n, sizeof *in->letbuf);
    in->active = own(in, (size_t)n, sizeof *in->active);
    in->n_active = 0;
    tab_grow(in);
    prepare(in, df->value);
    pat_tensor *t = &in->vals->t[df->target->id];
    eval_into(in, df->value, (scal *)t->data.p);
    return 0;
}

int pat_interpret(const pat_program *p, pat_values *vals, diag_list *d)
{
    if (vals->n != p->n_decls)
        return diag_error(d, program_loc(p), "value table does not match the program");
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
    /* State that changes between setjmp and longjmp lives behind a pointer. */
    interp *in = xcalloc(1, sizeof *in);
    if (!in)
        return diag_error(d, program_loc(p), "out of memory in the interpreter");
    in->p = p;
    in->vals = vals;
    in->d = d;
    int rc = 0;
    for (int i = 0; i < p->n_defs && rc == 0; i++) {
        if (setjmp(in->fail) == 0)
            run_def(in, p->defs[i]);
        else
            rc = -1;
        free_owned(in);
    }
    free(in->owned);
    free(in);
    return rc;
}
