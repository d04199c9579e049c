/*
 * pat_ir.c — small services on the typed IR: types, names of operators,
 * declaration lookup, tensors and value tables, and the `--dump-ir` text.
 *
 * The dump is one node per line, indented by depth, each with its type, so
 * that a reader can check what the checker decided (shapes, folded consts,
 * variable slots written `name#slot`).  Its format is for people and for
 * golden tests; nothing parses it.
 */
#include "patterns/pat.h"
#include "util/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* Types and names                                                   */

int64_t pat_type_count(const pat_type *t)
{
    int64_t n = 1;
    for (int k = 0; k < t->rank; k++) {
        int64_t d = t->dims[k] > 0 ? t->dims[k] : 0;
        if (d != 0 && n > INT64_MAX / d)
            return INT64_MAX;   /* f32[N][N][N] with N = 2^31 - 1: saturated, never wrapped */
        n *= d;
    }
    return n;
}

bool pat_type_equal(const pat_type *a, const pat_type *b)
{
    if (a->elem != b->elem || a->rank != b->rank)
        return false;
    for (int k = 0; k < a->rank; k++)
        if (a->dims[k] != b->dims[k])
            return false;
    return true;
}

char *pat_type_str(const pat_type *t, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    size_t used = (size_t)snprintf(buf, size, "%s", pat_elem_str(t->elem));
    for (int k = 0; k < t->rank && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "[%d]", (int)t->dims[k]);
    return buf;
}

/* ORDER PAT_BIN */
const char *pat_binop_str(pat_binop op)
{
    static const char *const names[] = {"+", "-", "*", "/", "%", "<", "<=", ">", ">=",
                                        "==", "!=", "&&", "||"};
    return (unsigned)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

const char *pat_fn_str(pat_fn fn)
{
    static const char *const names[] = {"exp", "log", "sqrt", "tanh", "abs", "max", "min",
                                        "f32", "i32"};
    return (unsigned)fn < sizeof names / sizeof names[0] ? names[fn] : "?";
}

const char *pat_redop_str(pat_redop op)
{
    static const char *const names[] = {"+", "*", "max", "min"};
    return (unsigned)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

const char *pat_elem_str(pat_elem e)
{
    return e == PAT_F32 ? "f32" : "i32";
}

pat_decl *pat_find_decl(const pat_program *p, const char *name)
{
    for (int i = 0; i < p->n_decls; i++)
        if (strcmp(p->decls[i]->name, name) == 0)
            return p->decls[i];
    return NULL;
}

/* ---------------------------------------------------------------- */
/* Tensors                                                           */

int pat_tensor_alloc(pat_tensor *t, const pat_type *type)
{
    int64_t n = pat_type_count(type);
    memset(t, 0, sizeof *t);
    if (n < 0 || (uint64_t)n > SIZE_MAX / 4)
        return -1;
    void *p = xcalloc((size_t)(n ? n : 1), 4);
    if (!p)
        return -1;
    t->type = *type;
    t->count = n;
    t->data.p = p;
    return 0;
}

void pat_tensor_free(pat_tensor *t)
{
    free(t->data.p);
    t->data.p = NULL;
    t->count = 0;
}

/* Every entry starts empty (data NULL) with its declared type and count:
 * inputs are filled by pat_load_inputs or the caller, and outputs and
 * buffers are allocated by pat_interpret (or by whoever fills them). */
int pat_values_init(pat_values *v, const pat_program *p)
{
    v->n = p->n_decls;
    v->t = xcalloc((size_t)(p->n_decls ? p->n_decls : 1), sizeof *v->t);
    if (!v->t) {
        v->n = 0;
        return -1;
    }
    for (int i = 0; i < p->n_decls; i++) {
        if (p->decls[i]->kind == PAT_CONST)
            continue;
        v->t[i].type = p->decls[i]->type;
        v->t[i].count = pat_type_count(&p->decls[i]->type);
    }
    return 0;
}

void pat_values_free(pat_values *v)
{
    for (int i = 0; i < v->n; i++)
        pat_tensor_free(&v->t[i]);
    free(v->t);
    v->t = NULL;
    v->n = 0;
}

/* ---------------------------------------------------------------- */
/* Dump                                                              */

static void indent(FILE *out, int depth)
{
    for (int i = 0; i < depth; i++)
        fputs("  ", out);
}

static void dump_expr(FILE *out, const pat_expr *e, int depth, const char *label);

static void dump_var(FILE *out, const pat_var *v)
{
    fprintf(out, "%s#%d", v->name, v->slot);
}

static void dump_pattern(FILE *out, const pat_expr *e, int depth)
{
    const pat_pattern *pt = &e->u.pat;
    static const char *const kinds[] = {"map", "reduce", "groupby"};
    fputs(kinds[e->kind - PAT_E_MAP], out);
    if (e->kind != PAT_E_MAP)
        fprintf(out, " %s", pat_redop_str(pt->op));
    fputs(" (", out);
    for (int k = 0; k < pt->n_idx; k++) {
        if (k)
            fputs(", ", out);
        dump_var(out, pt->idx[k].var);
        if (pt->idx[k].lo)
            fputs(": lo .. hi", out);
        else
            fprintf(out, ": %d", (int)pt->idx[k].extent);
    }
    fputs(")", out);
    if (e->kind == PAT_E_GROUPBY)
        fprintf(out, " into %d", (int)pt->groups);
    char b[96];
    fprintf(out, " : %s\n", pat_type_str(&e->type, b, sizeof b));
    for (int k = 0; k < pt->n_idx; k++) {
        if (!pt->idx[k].lo)
            continue;
        char l[80];
        snprintf(l, sizeof l, "lo of %s: ", pt->idx[k].var->name);
        dump_expr(out, pt->idx[k].lo, depth + 1, l);
        snprintf(l, sizeof l, "hi of %s: ", pt->idx[k].var->name);
        dump_expr(out, pt->idx[k].hi, depth + 1, l);
    }
    if (pt->key)
        dump_expr(out, pt->key, depth + 1, "key: ");
    if (pt->where)
        dump_expr(out, pt->where, depth + 1, "where: ");
    dump_expr(out, pt->body, depth + 1, "body: ");
}

static void dump_expr(FILE *out, const pat_expr *e, int depth, const char *label)
{
    char b[96];
    indent(out, depth);
    fputs(label, out);
    const char *ty = pat_type_str(&e->type, b, sizeof b);
    switch (e->kind) {
    case PAT_E_INT:
        fprintf(out, "int %d : %s\n", (int)e->u.ival, ty);
        return;
    case PAT_E_FLOAT:
        fprintf(out, "float %.9g : %s\n", (double)e->u.fval, ty);
        return;
    case PAT_E_TENSOR:
        fprintf(out, "tensor %s : %s\n", e->u.decl->name, ty);
        return;
    case PAT_E_VAR:
        fprintf(out, "%s ", e->u.var->is_index ? "index" : "let");
        dump_var(out, e->u.var);
        fprintf(out, " : %s\n", ty);
        return;
    case PAT_E_ACCESS:
        fprintf(out, "access : %s\n", ty);
        dump_expr(out, e->u.access.base, depth + 1, "of: ");
        for (int k = 0; k < e->u.access.n; k++) {
            char l[32];
            snprintf(l, sizeof l, "[%d]: ", k);
            dump_expr(out, e->u.access.idx[k], depth + 1, l);
        }
        return;
    case PAT_E_UNARY:
        fprintf(out, "unary %s : %s\n", e->u.unary.op == PAT_NEG ? "-" : "!", ty);
        dump_expr(out, e->u.unary.arg, depth + 1, "");
        return;
    case PAT_E_BINARY:
        fprintf(out, "binary %s : %s\n", pat_binop_str(e->u.binary.op), ty);
        dump_expr(out, e->u.binary.lhs, depth + 1, "");
        dump_expr(out, e->u.binary.rhs, depth + 1, "");
        return;
    case PAT_E_SELECT:
        fprintf(out, "select : %s\n", ty);
        dump_expr(out, e->u.select.cond, depth + 1, "if: ");
        dump_expr(out, e->u.select.then, depth + 1, "then: ");
        dump_expr(out, e->u.select.els, depth + 1, "else: ");
        return;
    case PAT_E_CALL:
        fprintf(out, "call %s : %s\n", pat_fn_str(e->u.call.fn), ty);
        for (int k = 0; k < e->u.call.n; k++)
            dump_expr(out, e->u.call.args[k], depth + 1, "");
        return;
    case PAT_E_BLOCK:
        fprintf(out, "block : %s\n", ty);
        for (int k = 0; k < e->u.block.n; k++) {
            char l[128];
            snprintf(l, sizeof l, "let %s#%d = ", e->u.block.vars[k]->name, e->u.block.vars[k]->slot);
            dump_expr(out, e->u.block.values[k], depth + 1, l);
        }
        dump_expr(out, e->u.block.result, depth + 1, "result: ");
        return;
    case PAT_E_MAP: case PAT_E_REDUCE: case PAT_E_GROUPBY:
        dump_pattern(out, e, depth);
        return;
    }
}

static const char *decl_kind_str(pat_decl_kind k)
{
    switch (k) {
    case PAT_CONST: return "const";
    case PAT_INPUT: return "input";
    case PAT_OUTPUT: return "output";
    case PAT_BUFFER: return "buffer";
    }
    return "?";
}

void pat_dump(FILE *out, const pat_program *p)
{
    char b[96];
    fprintf(out, "# program %s: %d declaration%s, %d definition%s\n", p->file, p->n_decls,
            p->n_decls == 1 ? "" : "s", p->n_defs, p->n_defs == 1 ? "" : "s");
    for (int i = 0; i < p->n_decls; i++) {
        const pat_decl *d = p->decls[i];
        if (d->kind == PAT_CONST) {
            fprintf(out, "const %s = %lld\n", d->name, (long long)d->value);
            continue;
        }
        fprintf(out, "%s %s : %s", decl_kind_str(d->kind), d->name, pat_type_str(&d->type, b, sizeof b));
        if (d->has_gen)
            fprintf(out, " in %lld .. %lld%s", (long long)d->gen_lo, (long long)d->gen_hi,
                    d->gen_sorted ? " sorted" : "");
        fputc('\n', out);
    }
    for (int i = 0; i < p->n_defs; i++) {
        const pat_def *df = p->defs[i];
        fprintf(out, "\ndef %d %s : %s (%d slot%s)\n", df->index, df->target->name,
                pat_type_str(&df->target->type, b, sizeof b), df->n_slots, df->n_slots == 1 ? "" : "s");
        dump_expr(out, df->value, 1, "");
    }
}
