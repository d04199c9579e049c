/*
 * pat_work.c — how much work a program implies, counted before it runs
 * (issue 13, "bounded work"; docs/reference.md).
 *
 * The unit is one evaluation of a pattern's body (an iteration of its
 * innermost index), plus one per element of every declared tensor (inputs
 * are generated or read, outputs and buffers written).  Static ranges are
 * multiplied out here, with saturation, so `reduce (i: 2147483647,
 * j: 2147483647)` is counted (4.6e18) and refused at once, before a byte is
 * allocated.  A dynamic range counts 0 here; the interpreter charges it as
 * it starts (its trip count times the static work of what it encloses) and
 * stops with a run-time error when the total would pass the limit.
 */
#include "patterns/pat_internal.h"

int64_t pat_work_add(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

int64_t pat_work_mul(int64_t a, int64_t b)
{
    if (a == 0 || b == 0)
        return 0;
    return a > INT64_MAX / b ? INT64_MAX : a * b;
}

int64_t pat_iter_work(const pat_pattern *pt)
{
    int64_t w = pat_work_add(1, pat_expr_work(pt->body));
    if (pt->where)
        w = pat_work_add(w, pat_expr_work(pt->where));
    if (pt->key)
        w = pat_work_add(w, pat_expr_work(pt->key));
    for (int k = 0; k < pt->n_idx; k++)
        if (pt->idx[k].lo)
            w = pat_work_add(w, pat_work_add(pat_expr_work(pt->idx[k].lo), pat_expr_work(pt->idx[k].hi)));
    return w;
}

int64_t pat_expr_work(const pat_expr *e)
{
    int64_t w = 0;
    switch (e->kind) {
    case PAT_E_INT: case PAT_E_FLOAT: case PAT_E_TENSOR: case PAT_E_VAR:
        return 0;
    case PAT_E_ACCESS:
        w = pat_expr_work(e->u.access.base);
        for (int k = 0; k < e->u.access.n; k++)
            w = pat_work_add(w, pat_expr_work(e->u.access.idx[k]));
        return w;
    case PAT_E_UNARY:
        return pat_expr_work(e->u.unary.arg);
    case PAT_E_BINARY:
        return pat_work_add(pat_expr_work(e->u.binary.lhs), pat_expr_work(e->u.binary.rhs));
    case PAT_E_SELECT:
        return pat_work_add(pat_expr_work(e->u.select.cond),
                            pat_work_add(pat_expr_work(e->u.select.then), pat_expr_work(e->u.select.els)));
    case PAT_E_CALL:
        for (int k = 0; k < e->u.call.n; k++)
            w = pat_work_add(w, pat_expr_work(e->u.call.args[k]));
        return w;
    case PAT_E_BLOCK:
        for (int k = 0; k < e->u.block.n; k++)
            w = pat_work_add(w, pat_expr_work(e->u.block.values[k]));
        return pat_work_add(w, pat_expr_work(e->u.block.result));
    case PAT_E_MAP: case PAT_E_REDUCE: case PAT_E_GROUPBY: {
        const pat_pattern *pt = &e->u.pat;
        int64_t iters = 1;
        for (int k = 0; k < pt->n_idx; k++)
            iters = pat_work_mul(iters, pt->idx[k].lo ? 0 : pt->idx[k].extent);
        /* a row-valued body is reduced or grouped element by element */
        w = pat_work_mul(iters, pat_iter_work(pt));
        if (e->kind == PAT_E_GROUPBY)
            w = pat_work_add(w, pat_type_count(&e->type));
        return w;
    }
    }
    return 0;
}

static int64_t decl_elems(const pat_program *p)
{
    int64_t w = 0;
    for (int k = 0; k < p->n_decls; k++)
        if (p->decls[k]->kind != PAT_CONST)
            w = pat_work_add(w, pat_type_count(&p->decls[k]->type));
    return w;
}

int64_t pat_static_work(const pat_program *p)
{
    int64_t w = decl_elems(p);
    for (int k = 0; k < p->n_defs; k++)
        w = pat_work_add(w, pat_expr_work(p->defs[k]->value));
    return w;
}

int pat_check_work(const pat_program *p, int64_t max_work, diag_list *d)
{
    if (max_work <= 0)
        max_work = PAT_DEFAULT_MAX_WORK;
    /* Data: every tensor is held in host memory by the reference and again
     * by the simulator (DRAM image or PMUs), so the data a program may
     * have is bounded apart from its iterations. */
    int64_t bytes = 0;
    const pat_decl *largest = NULL;
    for (int k = 0; k < p->n_decls; k++) {
        const pat_decl *dc = p->decls[k];
        if (dc->kind == PAT_CONST)
            continue;
        int64_t b = pat_work_mul(pat_type_count(&dc->type), 4);
        bytes = pat_work_add(bytes, b);
        if (!largest || b > pat_work_mul(pat_type_count(&largest->type), 4))
            largest = dc;
    }
    if (bytes > PAT_MAX_DATA_BYTES && largest) {
        char t[96];
        return diag_error(d, largest->loc,
                          "the program's tensors hold %lld MiB ('%s', %s, alone %lld MiB), past the %lld MiB of "
                          "data rdumap simulates (the reference and the simulator each keep a copy in host "
                          "memory): refused before running; --map-only maps it without data",
                          (long long)((bytes + (1 << 20) - 1) >> 20), largest->name,
                          pat_type_str(&largest->type, t, sizeof t),
                          (long long)((pat_work_mul(pat_type_count(&largest->type), 4) + (1 << 20) - 1) >> 20),
                          (long long)(PAT_MAX_DATA_BYTES >> 20));
    }
    int64_t total = pat_static_work(p);
    if (total <= max_work)
        return 0;
    const pat_def *worst = NULL;
    int64_t worst_w = -1;
    for (int k = 0; k < p->n_defs; k++) {
        int64_t w = pat_expr_work(p->defs[k]->value);
        if (w > worst_w) {
            worst_w = w;
            worst = p->defs[k];
        }
    }
    const char *sat = total == INT64_MAX ? "at least " : "";
    if (worst && worst_w > max_work / 2)
        return diag_error(d, worst->loc,
                          "the program needs %s%lld iterations (the definition of '%s' alone %s%lld), past the "
                          "work limit of %lld: refused before running; --max-work N raises the limit",
                          sat, (long long)total, worst->target->name, worst_w == INT64_MAX ? "at least " : "",
                          (long long)worst_w, (long long)max_work);
    return diag_error(d, diag_at_file(p->n_decls ? p->decls[0]->loc.file : p->file),
                      "the program needs %s%lld iterations (%lld of them tensor elements), past the work limit "
                      "of %lld: refused before running; --max-work N raises the limit",
                      sat, (long long)total, (long long)decl_elems(p), (long long)max_work);
}
