/*
 * pat_check.c — name resolution, constant folding and typing: from the
 * syntax tree to the typed IR of pat.h (spec §2-§6), and the front end's
 * entry points pat_load_file / pat_load_string.
 *
 * Declarations may come in any order, so the checker first creates every
 * declaration, then folds constants and types on demand (a const may use a
 * const declared below it; a cycle is an error).  Definitions are then
 * checked in source order, which is also the order in which they run: a
 * definition may read inputs and the tensors defined above it.
 *
 * Every expression node gets its element type and full static shape.
 * Errors are reported in the user's terms and checking goes on, so one run
 * reports as many as it can (up to the diag_list's cap).  A sub-expression
 * that failed to check is NULL, and its parents stay silent about it, so
 * one mistake gives one message.  A `let` whose value failed is bound to a
 * "poisoned" variable (rank -1) for the same reason.
 *
 * Rules where the contract is silent (docs/language.md repeats them):
 *  - index variables and lets may shadow declarations and variables of
 *    enclosing scopes; two indices of one pattern, or two lets of one
 *    block, may not share a name;
 *  - every extent (map, reduce, groupby), `into` count and dimension is a
 *    compile-time integer >= 1; empty index spaces come only from dynamic
 *    ranges;
 *  - an index's dynamic bounds may use the indices to its left in the same
 *    pattern (they are re-evaluated for each of their values);
 *  - a declared tensor of rank >= 1 is only used indexed in all its
 *    dimensions; a `let` bound to a tensor value may be used whole (as a
 *    block result) or fully indexed;
 *  - operators, functions, conditions, keys and bounds take scalars; the
 *    branches of `?:` may be tensors of equal type;
 *  - `%` is for i32 only; `abs` is f32 -> f32 as the contract says;
 *  - generator bounds must satisfy lo < hi; `sorted` only on 1-D i32 inputs
 *    of at least 2 elements (the first is lo, the last hi);
 *  - a value has at most 2^31 - 1 elements and PAT_MAX_RANK dimensions.
 */
#include "patterns/pat_internal.h"
#include "util/suggest.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct scope {
    const char *name;
    pat_var *var;
    struct scope *up;
} scope;

enum { CONST_NEW, CONST_BUSY, CONST_DONE, CONST_BAD };

typedef struct checker {
    arena *a;
    diag_list *d;
    const ast_program *ap;
    int n;                 /* declarations kept (duplicates dropped) */
    ast_decl **adecl;      /* by decl id */
    pat_decl **decl;
    int *state;            /* CONST_* for consts; CONST_BAD marks a decl whose type failed */
    bool *defined;         /* by decl id: its definition has been checked */
    bool *broken;          /* by decl id: a definition of it failed to parse */
    int *def_line;         /* by decl id: line of its first definition, or 0 */
    int n_slots;           /* slots handed out in the current definition */
    const pat_decl *cur;   /* target of the definition being checked */
    int depth;             /* recursion of chk(): bounds every later pass */
    int chain;             /* left operands of a chain being checked (PAT_MAX_CHAIN) */
    bool too_deep;         /* reported once per definition */
    bool oom;
    int *slot;             /* hash table of decl ids by name (-1: empty), so that */
    unsigned slot_mask;    /* name lookup is O(1) and checking is linear in decls */
} checker;

static void *alloc(checker *ck, size_t n)
{
    void *p = arena_alloc(ck->a, n);
    if (!p)
        ck->oom = true;
    return p;
}

static unsigned name_hash(const char *s)
{
    unsigned h = 2166136261u;  /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The slot of `name` in the table: its decl's, or the empty one where it
 * would go (the table is kept at most half full). */
static int *find_slot(const checker *ck, const char *name)
{
    for (unsigned k = name_hash(name) & ck->slot_mask;; k = (k + 1) & ck->slot_mask)
        if (ck->slot[k] < 0 || strcmp(ck->decl[ck->slot[k]]->name, name) == 0)
            return &ck->slot[k];
}

static pat_decl *find(const checker *ck, const char *name, int *id)
{
    int i = *find_slot(ck, name);
    if (i < 0)
        return NULL;
    if (id)
        *id = i;
    return ck->decl[i];
}

/* "; did you mean 'X'?" for a name that is not declared, naming the
 * nearest variable in scope or declaration (util/suggest.h), or "".  Not
 * searched once the error list is full, so many typos stay linear. */
static const char *did_you_mean(const checker *ck, const scope *sc, const char *name, char *buf, size_t size)
{
    if (diag_full(ck->d))
        return "";
    suggest sg;
    suggest_init(&sg, name, strlen(name));
    for (; sc; sc = sc->up)
        suggest_offer(&sg, sc->name);
    for (int i = 0; i < ck->n; i++)
        suggest_offer(&sg, ck->decl[i]->name);
    const char *best = suggest_best(&sg);
    if (!best)
        return "";
    snprintf(buf, size, "; did you mean '%s'?", best);
    return buf;
}

static pat_var *lookup(const scope *sc, const char *name)
{
    for (; sc; sc = sc->up)
        if (strcmp(sc->name, name) == 0)
            return sc->var;
    return NULL;
}

static const char *kind_name(pat_decl_kind k)
{
    switch (k) {
    case PAT_CONST: return "a const";
    case PAT_INPUT: return "an input";
    case PAT_OUTPUT: return "an output";
    case PAT_BUFFER: return "a buffer";
    }
    return "a declaration";
}

static const char *plural(int64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* ---------------------------------------------------------------- */
/* Compile-time integers                                             */

static bool ensure_const(checker *ck, int id);

#define INT_EXPR_RULE "integer literals, consts, unary '-', + - * / %% and parentheses"

/* Fold `e` to a 32-bit integer.  `what` names the thing being computed,
 * e.g. "dimension 1 of 'A'".  Variables in `sc` are not constants. */
static bool fold(checker *ck, const ast *e, const scope *sc, const char *what, int64_t *out)
{
    switch (e->kind) {
    case A_INT:
        if (e->u.ival > INT32_MAX) {
            diag_error(ck->d, e->loc, "integer literal %lld does not fit in 32 bits",
                       (long long)e->u.ival);
            return false;
        }
        *out = e->u.ival;
        return true;
    case A_NAME: {
        if (lookup(sc, e->u.name)) {
            diag_error(ck->d, e->loc, "%s must be a compile-time integer, but '%s' is a variable",
                       what, e->u.name);
            return false;
        }
        int id;
        pat_decl *dl = find(ck, e->u.name, &id);
        if (!dl) {
            char hint[96];
            diag_error(ck->d, e->loc, "'%s' is not declared%s", e->u.name,
                       did_you_mean(ck, sc, e->u.name, hint, sizeof hint));
            return false;
        }
        if (dl->kind != PAT_CONST) {
            diag_error(ck->d, e->loc, "%s must be a compile-time integer, but '%s' is %s",
                       what, e->u.name, kind_name(dl->kind));
            return false;
        }
        if (!ensure_const(ck, id))
            return false;
        *out = dl->value;
        return true;
    }
    case A_UNARY:
        if (e->u.unary.op == PAT_NEG) {
            int64_t v;
            if (e->u.unary.arg->kind == A_INT && e->u.unary.arg->u.ival == (int64_t)1 << 31) {
                *out = INT32_MIN;
                return true;
            }
            if (!fold(ck, e->u.unary.arg, sc, what, &v))
                return false;
            if (-v > INT32_MAX) {
                diag_error(ck->d, e->loc, "integer overflow in %s: -(%lld) does not fit in 32 bits",
                           what, (long long)v);
                return false;
            }
            *out = -v;
            return true;
        }
        break;
    case A_BINARY: {
        pat_binop op = e->u.binary.op;
        if (op > PAT_MOD)
            break;
        int64_t l, r, v = 0;
        bool okl = fold(ck, e->u.binary.lhs, sc, what, &l);
        bool okr = fold(ck, e->u.binary.rhs, sc, what, &r);
        if (!okl || !okr)
            return false;
        switch (op) {
        case PAT_ADD: v = l + r; break;
        case PAT_SUB: v = l - r; break;
        case PAT_MUL: v = l * r; break;
        case PAT_DIV:
        case PAT_MOD:
            if (r == 0) {
                diag_error(ck->d, e->loc, "division by zero in %s", what);
                return false;
            }
            v = op == PAT_DIV ? l / r : l % r;
            break;
        default: break;
        }
        if (v < INT32_MIN || v > INT32_MAX) {
            diag_error(ck->d, e->loc, "integer overflow in %s: %lld %s %lld = %lld does not fit in 32 bits",
                       what, (long long)l, pat_binop_str(op), (long long)r, (long long)v);
            return false;
        }
        *out = v;
        return true;
    }
    default:
        break;
    }
    diag_error(ck->d, e->loc, "%s must be a compile-time integer expression (" INT_EXPR_RULE ")", what);
    return false;
}

static bool ensure_const(checker *ck, int id)
{
    switch (ck->state[id]) {
    case CONST_DONE: return true;
    case CONST_BAD: return false;
    case CONST_BUSY:
        diag_error(ck->d, ck->adecl[id]->loc, "const '%s' is defined in terms of itself",
                   ck->decl[id]->name);
        ck->state[id] = CONST_BAD;
        return false;
    default: break;
    }
    ck->state[id] = CONST_BUSY;
    char what[160];
    snprintf(what, sizeof what, "the value of const '%s'", ck->decl[id]->name);
    int64_t v;
    bool ok = fold(ck, ck->adecl[id]->value, NULL, what, &v);
    if (ck->state[id] == CONST_BAD)
        return false;
    ck->state[id] = ok ? CONST_DONE : CONST_BAD;
    if (ok)
        ck->decl[id]->value = v;
    return ok;
}

/* Fold an extent-like value that must be >= 1. */
static bool fold_positive(checker *ck, const ast *e, const scope *sc, const char *what,
                          int32_t *out)
{
    int64_t v;
    if (!fold(ck, e, sc, what, &v))
        return false;
    if (v < 1) {
        diag_error(ck->d, e->loc, "%s is %lld; it must be at least 1", what, (long long)v);
        return false;
    }
    *out = (int32_t)v;
    return true;
}

static bool check_count(checker *ck, const pat_type *t, diag_loc loc, const char *what)
{
    int64_t c = pat_type_count(t);
    if (c == INT64_MAX) {
        diag_error(ck->d, loc, "%s has more than %lld elements; at most 2147483647 are supported",
                   what, (long long)INT64_MAX);
        return false;
    }
    if (c > INT32_MAX) {
        diag_error(ck->d, loc, "%s has %lld elements; at most 2147483647 are supported",
                   what, (long long)c);
        return false;
    }
    return true;
}

static void check_decl_type(checker *ck, int id)
{
    ast_decl *ad = ck->adecl[id];
    pat_decl *dl = ck->decl[id];
    dl->type.elem = ad->elem;
    dl->type.rank = ad->n_dims;
    bool ok = true;
    if (ad->n_dims > PAT_MAX_RANK) {
        diag_error(ck->d, ad->loc, "'%s' has %d dimensions; at most %d are supported",
                   dl->name, ad->n_dims, PAT_MAX_RANK);
        ck->state[id] = CONST_BAD;
        return;
    }
    for (int k = 0; k < ad->n_dims; k++) {
        char what[160];
        snprintf(what, sizeof what, "dimension %d of '%s'", k, dl->name);
        if (!fold_positive(ck, ad->dims[k], NULL, what, &dl->type.dims[k]))
            ok = false;
    }
    char quoted[160];
    snprintf(quoted, sizeof quoted, "'%s'", dl->name);
    if (ok && !check_count(ck, &dl->type, ad->loc, quoted))
        ok = false;
    if (ad->has_gen) {
        int64_t lo = 0, hi = 0;
        char what[160];
        snprintf(what, sizeof what, "the generator's lower bound for '%s'", dl->name);
        bool gok = fold(ck, ad->gen_lo, NULL, what, &lo);
        snprintf(what, sizeof what, "the generator's upper bound for '%s'", dl->name);
        gok = fold(ck, ad->gen_hi, NULL, what, &hi) && gok;
        if (gok && lo >= hi)
            diag_error(ck->d, ad->gen_loc, "the generator range %lld .. %lld of '%s' is empty; "
                       "it needs lo < hi", (long long)lo, (long long)hi, dl->name);
        if (ad->sorted && (ad->elem != PAT_I32 || ad->n_dims != 1)) {
            char b[96];
            diag_error(ck->d, ad->sorted_loc, "'sorted' is only for 1-D i32 inputs "
                       "(such as CSR row pointers); '%s' is %s", dl->name,
                       ok ? pat_type_str(&dl->type, b, sizeof b) : pat_elem_str(ad->elem));
        } else if (ad->sorted && ok && dl->type.dims[0] < 2) {
            diag_error(ck->d, ad->sorted_loc, "a sorted input starts at LO and ends at HI, so it "
                       "needs at least 2 elements; '%s' has 1", dl->name);
        }
        dl->has_gen = true;
        dl->gen_lo = lo;
        dl->gen_hi = hi;
        dl->gen_sorted = ad->sorted;
    }
    if (!ok)
        ck->state[id] = CONST_BAD;
}

/* ---------------------------------------------------------------- */
/* Expressions                                                       */

static pat_expr *new_expr(checker *ck, pat_expr_kind kind, diag_loc loc)
{
    pat_expr *e = alloc(ck, sizeof *e);
    if (e) {
        e->kind = kind;
        e->loc = loc;
    }
    return e;
}

static pat_type scalar(pat_elem elem)
{
    pat_type t;
    memset(&t, 0, sizeof t);
    t.elem = elem;
    return t;
}

static pat_var *new_var(checker *ck, const char *name, diag_loc loc, bool is_index)
{
    pat_var *v = alloc(ck, sizeof *v);
    if (v) {
        v->name = name;
        v->loc = loc;
        v->is_index = is_index;
        v->type = scalar(PAT_I32);
        v->slot = ck->n_slots++;
    }
    return v;
}

static scope *push_scope(checker *ck, scope *up, const char *name, pat_var *v)
{
    scope *s = alloc(ck, sizeof *s);
    if (!s)
        return up;
    s->name = name;
    s->var = v;
    s->up = up;
    return s;
}

static pat_expr *chk(checker *ck, const ast *e, scope *sc);

static const char *tstr(const pat_type *t, char *buf, size_t n)
{
    return pat_type_str(t, buf, n);
}

/* Check `e` and require an i32 or f32 scalar; `what` says what it is. */
static pat_expr *chk_scalar(checker *ck, const ast *e, scope *sc, const char *what)
{
    pat_expr *x = chk(ck, e, sc);
    if (x && x->type.rank != 0) {
        char b[64];
        diag_error(ck->d, x->loc, "%s must be a scalar, but it is %s", what, tstr(&x->type, b, sizeof b));
        return NULL;
    }
    return x;
}

static pat_expr *chk_i32(checker *ck, const ast *e, scope *sc, const char *what)
{
    pat_expr *x = chk_scalar(ck, e, sc, what);
    if (x && x->type.elem != PAT_I32) {
        diag_error(ck->d, x->loc, "%s must be i32, but it is f32; use i32(...)", what);
        return NULL;
    }
    return x;
}

/* Resolve a name used as a value or as the base of an indexing. */
static pat_expr *chk_name(checker *ck, const ast *e, scope *sc, bool as_base)
{
    pat_var *v = lookup(sc, e->u.name);
    if (v) {
        if (v->type.rank < 0)
            return NULL;  /* poisoned let: already reported */
        pat_expr *x = new_expr(ck, PAT_E_VAR, e->loc);
        if (x) {
            x->u.var = v;
            x->type = v->type;
        }
        return x;
    }
    int id;
    pat_decl *dl = find(ck, e->u.name, &id);
    if (!dl) {
        char hint[96];
        diag_error(ck->d, e->loc, "'%s' is not declared%s", e->u.name,
                   did_you_mean(ck, sc, e->u.name, hint, sizeof hint));
        return NULL;
    }
    if (dl->kind == PAT_CONST) {
        if (as_base) {
            diag_error(ck->d, e->loc, "'%s' is a const and cannot be indexed", e->u.name);
            return NULL;
        }
        if (!ensure_const(ck, id))
            return NULL;
        pat_expr *x = new_expr(ck, PAT_E_INT, e->loc);
        if (x) {
            x->type = scalar(PAT_I32);
            x->u.ival = (int32_t)dl->value;
        }
        return x;
    }
    if (dl->kind != PAT_INPUT && !ck->defined[id]) {
        if (ck->broken[id])
            return NULL;
        if (dl == ck->cur)
            diag_error(ck->d, e->loc, "'%s' is read in its own definition; a definition may only "
                       "read inputs and tensors defined above it", dl->name);
        else if (ck->def_line[id])
            diag_error(ck->d, e->loc, "'%s' is read before its definition at line %d",
                       dl->name, ck->def_line[id]);
        else
            diag_error(ck->d, e->loc, "'%s' is read before it is defined", dl->name);
        return NULL;
    }
    if (ck->state[id] == CONST_BAD)
        return NULL;
    if (dl->type.rank > 0 && !as_base) {
        char b[64];
        diag_error(ck->d, e->loc, "'%s' is %s: index all %d of its dimensions (there is no slicing)",
                   dl->name, tstr(&dl->type, b, sizeof b), dl->type.rank);
        return NULL;
    }
    pat_expr *x = new_expr(ck, PAT_E_TENSOR, e->loc);
    if (x) {
        x->u.decl = dl;
        x->type = dl->type;
    }
    return x;
}

static pat_expr *chk_index(checker *ck, const ast *e, scope *sc)
{
    const ast *b = e->u.index.base;
    pat_expr *base = b->kind == A_NAME ? chk_name(ck, b, sc, true) : chk(ck, b, sc);
    int n = e->u.index.n;
    pat_expr **idx = alloc(ck, (size_t)n * sizeof *idx);
    bool ok = base != NULL && idx != NULL;
    char who[96];
    if (b->kind == A_NAME)
        snprintf(who, sizeof who, "'%s'", b->u.name);
    else
        snprintf(who, sizeof who, "this value");
    if (base && base->type.rank == 0) {
        diag_error(ck->d, e->loc, "%s is a scalar and cannot be indexed", who);
        ok = false;
    } else if (base && base->type.rank != n) {
        diag_error(ck->d, e->u.index.idx[0]->loc, "%s has %d %s but %d %s given", who,
                   base->type.rank, plural(base->type.rank, "dimension", "dimensions"),
                   n, plural(n, "index was", "indices were"));
        ok = false;
    }
    for (int k = 0; k < n; k++) {
        char what[128];
        snprintf(what, sizeof what, "index %d of %s", k, who);
        pat_expr *x = chk_i32(ck, e->u.index.idx[k], sc, what);
        if (!x)
            ok = false;
        else if (idx)
            idx[k] = x;
    }
    if (!ok)
        return NULL;
    pat_expr *x = new_expr(ck, PAT_E_ACCESS, e->loc);
    if (x) {
        x->type = scalar(base->type.elem);
        x->u.access.base = base;
        x->u.access.n = n;
        x->u.access.idx = idx;
    }
    return x;
}

static const char *binop_verb(pat_binop op)
{
    switch (op) {
    case PAT_ADD: return "add";
    case PAT_SUB: return "subtract";
    case PAT_MUL: return "multiply";
    case PAT_DIV: return "divide";
    case PAT_MOD: return "take the remainder of";
    default: return "compare";
    }
}

static pat_expr *chk_binary(checker *ck, const ast *e, scope *sc)
{
    pat_binop op = e->u.binary.op;
    /* A left-associative chain a + b + c + ... is one level, not one per
     * operand: its left spine counts against PAT_MAX_CHAIN instead. */
    pat_expr *l;
    if (e->u.binary.lhs->kind == A_BINARY) {
        if (++ck->chain > PAT_MAX_CHAIN) {
            if (!ck->too_deep)
                diag_error(ck->d, e->loc, "expression too long (more than %d operators in one chain)",
                           PAT_MAX_CHAIN);
            ck->too_deep = true;
            return NULL;
        }
        int depth = ck->depth;
        ck->depth--;
        l = chk(ck, e->u.binary.lhs, sc);
        ck->depth = depth;
        ck->chain--;
    } else
        l = chk(ck, e->u.binary.lhs, sc);
    pat_expr *r = chk(ck, e->u.binary.rhs, sc);
    if (!l || !r)
        return NULL;
    char bl[64];
    if (l->type.rank != 0 || r->type.rank != 0) {
        pat_expr *t = l->type.rank != 0 ? l : r;
        diag_error(ck->d, e->loc, "'%s' works on scalars, but its %s operand is %s",
                   pat_binop_str(op), t == l ? "left" : "right", tstr(&t->type, bl, sizeof bl));
        return NULL;
    }
    pat_elem el = l->type.elem, er = r->type.elem;
    pat_type result = scalar(el);
    if (op == PAT_AND || op == PAT_OR) {
        if (el != PAT_I32 || er != PAT_I32) {
            diag_error(ck->d, e->loc, "'%s' takes i32 operands, but its %s operand is f32; "
                       "compare it with 0.0 first", pat_binop_str(op), el != PAT_I32 ? "left" : "right");
            return NULL;
        }
    } else {
        if (el != er) {
            diag_error(ck->d, e->loc, "cannot %s %s and %s; use f32(...) or i32(...)",
                       binop_verb(op), pat_elem_str(el), pat_elem_str(er));
            return NULL;
        }
        if (op == PAT_MOD && el == PAT_F32) {
            diag_error(ck->d, e->loc, "'%%' takes i32 operands; there is no f32 remainder");
            return NULL;
        }
        if (op >= PAT_LT)
            result = scalar(PAT_I32);
    }
    pat_expr *x = new_expr(ck, PAT_E_BINARY, e->loc);
    if (x) {
        x->type = result;
        x->u.binary.op = op;
        x->u.binary.lhs = l;
        x->u.binary.rhs = r;
    }
    return x;
}

static pat_expr *chk_call(checker *ck, const ast *e, scope *sc)
{
    pat_fn fn = e->u.call.fn;
    int want = (fn == PAT_FN_MAX || fn == PAT_FN_MIN) ? 2 : 1;
    const char *name = pat_fn_str(fn);
    if (e->u.call.n != want) {
        diag_error(ck->d, e->loc, "'%s' takes %d %s but %d %s given", name, want,
                   plural(want, "argument", "arguments"), e->u.call.n,
                   plural(e->u.call.n, "was", "were"));
        for (int i = 0; i < e->u.call.n; i++)
            chk(ck, e->u.call.args[i], sc);
        return NULL;
    }
    pat_expr *args[2] = {NULL, NULL};
    bool ok = true;
    for (int i = 0; i < want; i++) {
        char what[64];
        snprintf(what, sizeof what, "the argument of '%s'", name);
        args[i] = chk_scalar(ck, e->u.call.args[i], sc, what);
        ok = ok && args[i];
    }
    if (!ok)
        return NULL;
    pat_type t = args[0]->type;
    switch (fn) {
    case PAT_FN_EXP: case PAT_FN_LOG: case PAT_FN_SQRT: case PAT_FN_TANH: case PAT_FN_ABS:
        if (t.elem != PAT_F32) {
            diag_error(ck->d, e->loc, "'%s' takes an f32 argument, but it is i32; use f32(...)", name);
            return NULL;
        }
        break;
    case PAT_FN_MAX: case PAT_FN_MIN:
        if (args[0]->type.elem != args[1]->type.elem) {
            diag_error(ck->d, e->loc, "'%s' takes two arguments of the same type, but they are "
                       "%s and %s; use f32(...) or i32(...)", name,
                       pat_elem_str(args[0]->type.elem), pat_elem_str(args[1]->type.elem));
            return NULL;
        }
        break;
    case PAT_FN_F32: t = scalar(PAT_F32); break;
    case PAT_FN_I32: t = scalar(PAT_I32); break;
    }
    pat_expr *x = new_expr(ck, PAT_E_CALL, e->loc);
    if (x) {
        x->type = t;
        x->u.call.fn = fn;
        x->u.call.n = want;
        x->u.call.args[0] = args[0];
        x->u.call.args[1] = args[1];
    }
    return x;
}

static pat_expr *chk_block(checker *ck, const ast *e, scope *sc)
{
    int n = e->u.block.n;
    pat_var **vars = alloc(ck, (size_t)(n ? n : 1) * sizeof *vars);
    pat_expr **values = alloc(ck, (size_t)(n ? n : 1) * sizeof *values);
    if (!vars || !values)
        return NULL;
    bool ok = true;
    scope *inner = sc;
    for (int i = 0; i < n; i++) {
        const char *name = e->u.block.names[i];
        for (int j = 0; j < i; j++)
            if (strcmp(e->u.block.names[j], name) == 0) {
                diag_error(ck->d, e->u.block.locs[i], "'%s' is already bound in this block "
                           "(at %d:%d); let names are immutable", name,
                           e->u.block.locs[j].line, e->u.block.locs[j].col);
                ok = false;
            }
        pat_expr *v = chk(ck, e->u.block.values[i], inner);
        pat_var *var = new_var(ck, name, e->u.block.locs[i], false);
        if (!var)
            return NULL;
        if (v)
            var->type = v->type;
        else {
            var->type.rank = -1;
            ok = false;
        }
        vars[i] = var;
        values[i] = v;
        inner = push_scope(ck, inner, name, var);
    }
    pat_expr *r = chk(ck, e->u.block.result, inner);
    if (!r || !ok)
        return NULL;
    pat_expr *x = new_expr(ck, PAT_E_BLOCK, e->loc);
    if (x) {
        x->type = r->type;
        x->u.block.n = n;
        x->u.block.vars = vars;
        x->u.block.values = values;
        x->u.block.result = r;
    }
    return x;
}

static pat_expr *chk_pattern(checker *ck, const ast *e, scope *sc)
{
    const char *what = e->kind == A_MAP ? "map" : e->kind == A_REDUCE ? "reduce" : "groupby";
    int n = e->u.pat.n_idx;
    pat_index *idx = alloc(ck, (size_t)n * sizeof *idx);
    if (!idx)
        return NULL;
    bool ok = true;
    scope *inner = sc;
    for (int k = 0; k < n; k++) {
        const ast_idx *ai = &e->u.pat.idx[k];
        for (int j = 0; j < k; j++)
            if (strcmp(e->u.pat.idx[j].name, ai->name) == 0) {
                diag_error(ck->d, ai->loc, "index '%s' appears twice in this %s", ai->name, what);
                ok = false;
            }
        char w[128];
        if (ai->extent) {
            snprintf(w, sizeof w, "the extent of index '%s'", ai->name);
            int64_t v;
            if (ai->extent->kind == A_NAME && lookup(inner, ai->extent->u.name)) {
                diag_error(ck->d, ai->extent->loc, "the extent of index '%s' must be a compile-time "
                           "integer, but '%s' is a variable%s", ai->name, ai->extent->u.name,
                           e->kind == A_MAP ? "" : "; for a run-time bound write '0 .. n'");
                ok = false;
            } else if (!fold(ck, ai->extent, NULL, w, &v)) {
                ok = false;
            } else if (v < 1) {
                diag_error(ck->d, ai->extent->loc, "%s is %lld; it must be at least 1", w, (long long)v);
                ok = false;
            } else {
                idx[k].extent = (int32_t)v;
            }
        } else {
            if (e->kind == A_MAP) {
                diag_error(ck->d, ai->loc, "index '%s' of a map has a dynamic range; ranges "
                           "'lo .. hi' are allowed only in reduce and groupby, a map needs a "
                           "compile-time extent", ai->name);
                ok = false;
            }
            snprintf(w, sizeof w, "the lower bound of index '%s'", ai->name);
            idx[k].lo = chk_i32(ck, ai->lo, inner, w);
            snprintf(w, sizeof w, "the upper bound of index '%s'", ai->name);
            idx[k].hi = chk_i32(ck, ai->hi, inner, w);
            if (!idx[k].lo || !idx[k].hi)
                ok = false;
        }
        idx[k].var = new_var(ck, ai->name, ai->loc, true);
        if (!idx[k].var)
            return NULL;
        inner = push_scope(ck, inner, ai->name, idx[k].var);
    }
    pat_pattern pt;
    memset(&pt, 0, sizeof pt);
    pt.n_idx = n;
    pt.idx = idx;
    pt.op = e->u.pat.op;
    if (e->kind == A_GROUPBY) {
        pt.key = chk_i32(ck, e->u.pat.key, inner, "the key of groupby");
        ok = ok && pt.key;
        if (!fold_positive(ck, e->u.pat.groups, NULL, "the group count after 'into'", &pt.groups))
            ok = false;
    }
    if (e->u.pat.where) {
        pt.where = chk_i32(ck, e->u.pat.where, inner, "the 'where' condition");
        ok = ok && pt.where;
    }
    pt.body = chk(ck, e->u.pat.body, inner);
    if (!pt.body || !ok)
        return NULL;
    pat_type t = pt.body->type;
    int lead = e->kind == A_MAP ? n : e->kind == A_GROUPBY ? 1 : 0;
    if (lead && t.rank + lead > PAT_MAX_RANK) {
        diag_error(ck->d, e->loc, "the value of this %s has %d dimensions; at most %d are supported",
                   what, t.rank + lead, PAT_MAX_RANK);
        return NULL;
    }
    if (lead) {
        memmove(t.dims + lead, t.dims, (size_t)t.rank * sizeof t.dims[0]);
        for (int k = 0; k < lead; k++)
            t.dims[k] = e->kind == A_MAP ? idx[k].extent : pt.groups;
        t.rank += lead;
        char w[64];
        snprintf(w, sizeof w, "the value of this %s", what);
        if (!check_count(ck, &t, e->loc, w))
            return NULL;
    }
    pat_expr *x = new_expr(ck, e->kind == A_MAP ? PAT_E_MAP : e->kind == A_REDUCE ? PAT_E_REDUCE
                                                                                 : PAT_E_GROUPBY, e->loc);
    if (x) {
        x->type = t;
        x->u.pat = pt;
    }
    return x;
}

static pat_expr *chk_node(checker *ck, const ast *e, scope *sc);

/* Check one node, refusing trees deeper than PAT_MAX_DEPTH (long chains
 * such as a + a + ... + a are deep even though the parser never nests). */
static pat_expr *chk(checker *ck, const ast *e, scope *sc)
{
    if (ck->oom)
        return NULL;
    if (ck->depth >= PAT_MAX_DEPTH) {
        if (!ck->too_deep)
            diag_error(ck->d, e->loc, "expression nested too deeply (more than %d levels)",
                       PAT_MAX_DEPTH);
        ck->too_deep = true;
        return NULL;
    }
    ck->depth++;
    pat_expr *x = chk_node(ck, e, sc);
    ck->depth--;
    return x;
}

static pat_expr *chk_node(checker *ck, const ast *e, scope *sc)
{
    switch (e->kind) {
    case A_INT: {
        int64_t v;
        if (!fold(ck, e, NULL, "", &v))
            return NULL;
        pat_expr *x = new_expr(ck, PAT_E_INT, e->loc);
        if (x) {
            x->type = scalar(PAT_I32);
            x->u.ival = (int32_t)v;
        }
        return x;
    }
    case A_FLOAT: {
        pat_expr *x = new_expr(ck, PAT_E_FLOAT, e->loc);
        if (x) {
            x->type = scalar(PAT_F32);
            x->u.fval = e->u.fl.val;
        }
        return x;
    }
    case A_NAME:
        return chk_name(ck, e, sc, false);
    case A_INDEX:
        return chk_index(ck, e, sc);
    case A_UNARY: {
        const ast *a = e->u.unary.arg;
        if (e->u.unary.op == PAT_NEG && a->kind == A_INT) {
            /* A negative literal: folding it here admits -2147483648. */
            int64_t v = a->u.ival == (int64_t)1 << 31 ? INT32_MIN : -a->u.ival;
            if (v < INT32_MIN) {
                diag_error(ck->d, a->loc, "integer literal %lld does not fit in 32 bits",
                           (long long)a->u.ival);
                return NULL;
            }
            pat_expr *x = new_expr(ck, PAT_E_INT, e->loc);
            if (x) {
                x->type = scalar(PAT_I32);
                x->u.ival = (int32_t)v;
            }
            return x;
        }
        if (e->u.unary.op == PAT_NEG && a->kind == A_FLOAT) {
            pat_expr *x = new_expr(ck, PAT_E_FLOAT, e->loc);
            if (x) {
                x->type = scalar(PAT_F32);
                x->u.fval = -a->u.fl.val;
            }
            return x;
        }
        pat_expr *arg = chk(ck, a, sc);
        if (!arg)
            return NULL;
        char b[64];
        const char *opname = e->u.unary.op == PAT_NEG ? "-" : "!";
        if (arg->type.rank != 0) {
            diag_error(ck->d, e->loc, "'%s' works on scalars, but its operand is %s", opname,
                       tstr(&arg->type, b, sizeof b));
            return NULL;
        }
        if (e->u.unary.op == PAT_NOT && arg->type.elem != PAT_I32) {
            diag_error(ck->d, e->loc, "'!' takes an i32 operand, but it is f32; compare it with 0.0 first");
            return NULL;
        }
        pat_expr *x = new_expr(ck, PAT_E_UNARY, e->loc);
        if (x) {
            x->type = arg->type;
            x->u.unary.op = e->u.unary.op;
            x->u.unary.arg = arg;
        }
        return x;
    }
    case A_BINARY:
        return chk_binary(ck, e, sc);
    case A_SELECT: {
        pat_expr *c = chk_i32(ck, e->u.select.cond, sc, "the condition of '?:'");
        pat_expr *t = chk(ck, e->u.select.then, sc);
        pat_expr *f = chk(ck, e->u.select.els, sc);
        if (!c || !t || !f)
            return NULL;
        if (!pat_type_equal(&t->type, &f->type)) {
            char b1[64], b2[64];
            bool elem_only = t->type.elem != f->type.elem && t->type.rank == 0 && f->type.rank == 0;
            diag_error(ck->d, e->loc, "the two sides of '?:' have different types, %s and %s%s",
                       tstr(&t->type, b1, sizeof b1), tstr(&f->type, b2, sizeof b2),
                       elem_only ? "; use f32(...) or i32(...)" : "");
            return NULL;
        }
        pat_expr *x = new_expr(ck, PAT_E_SELECT, e->loc);
        if (x) {
            x->type = t->type;
            x->u.select.cond = c;
            x->u.select.then = t;
            x->u.select.els = f;
        }
        return x;
    }
    case A_CALL:
        return chk_call(ck, e, sc);
    case A_BLOCK:
        return chk_block(ck, e, sc);
    case A_MAP: case A_REDUCE: case A_GROUPBY:
        return chk_pattern(ck, e, sc);
    }
    return NULL;
}

/* ---------------------------------------------------------------- */
/* Program                                                           */

pat_program *pat_check(const ast_program *ap, const char *file, arena *a, diag_list *d)
{
    checker ck = {.a = a, .d = d, .ap = ap};
    int nd = ap->n_decls;
    ck.adecl = arena_calloc(a, (size_t)nd + 1, sizeof *ck.adecl);
    ck.decl = arena_calloc(a, (size_t)nd + 1, sizeof *ck.decl);
    ck.state = arena_calloc(a, (size_t)nd + 1, sizeof *ck.state);
    ck.defined = arena_calloc(a, (size_t)nd + 1, sizeof *ck.defined);
    ck.broken = arena_calloc(a, (size_t)nd + 1, sizeof *ck.broken);
    ck.def_line = arena_calloc(a, (size_t)nd + 1, sizeof *ck.def_line);
    pat_program *p = arena_alloc(a, sizeof *p);
    unsigned cap = 16;
    while (cap < 2u * (unsigned)nd + 2)
        cap *= 2;
    ck.slot = arena_calloc(a, cap, sizeof *ck.slot);
    ck.slot_mask = cap - 1;
    if (!ck.adecl || !ck.decl || !ck.state || !ck.defined || !ck.broken || !ck.def_line || !p || !ck.slot)
        return NULL;
    memset(ck.slot, 0xff, cap * sizeof *ck.slot);
    p->file = file;
    int errors_before = d->n_errors;

    for (int i = 0; i < nd; i++) {
        ast_decl *ad = ap->decls[i];
        pat_decl *prev = find(&ck, ad->name, NULL);
        if (prev) {
            diag_error(d, ad->loc, "'%s' is declared twice (first at %d:%d)", ad->name,
                       prev->loc.line, prev->loc.col);
            continue;
        }
        pat_decl *dl = alloc(&ck, sizeof *dl);
        if (!dl)
            return NULL;
        dl->kind = ad->kind;
        dl->name = ad->name;
        dl->loc = ad->loc;
        dl->type = scalar(PAT_I32);
        dl->id = ck.n;
        ck.adecl[ck.n] = ad;
        ck.decl[ck.n] = dl;
        *find_slot(&ck, dl->name) = ck.n;
        ck.n++;
    }
    for (int i = 0; i < ck.n; i++) {
        if (ck.decl[i]->kind == PAT_CONST)
            ensure_const(&ck, i);
        else
            check_decl_type(&ck, i);
    }
    p->n_decls = ck.n;
    p->decls = ck.decl;
    /* A definition lost to a syntax error was reported already: its target
     * counts as defined and reading it says nothing more. */
    for (int i = 0; i < ap->n_broken; i++) {
        int id;
        if (find(&ck, ap->broken[i], &id))
            ck.broken[id] = true;
    }
    for (int i = ap->n_defs - 1; i >= 0; i--) {
        int id;
        if (find(&ck, ap->defs[i]->name, &id))
            ck.def_line[id] = ap->defs[i]->loc.line;
    }

    ptr_vec defs = {0};
    for (int i = 0; i < ap->n_defs && !ck.oom; i++) {
        ast_def *ad = ap->defs[i];
        int id = -1;
        pat_decl *target = find(&ck, ad->name, &id);
        bool ok = true;
        if (!target) {
            char hint[96];
            const char *near = did_you_mean(&ck, NULL, ad->name, hint, sizeof hint);
            if (*near)
                diag_error(d, ad->loc, "'%s' is not declared%s", ad->name, near);
            else
                diag_error(d, ad->loc, "'%s' is not declared; declare it first as 'output %s : TYPE' "
                           "or 'buffer %s : TYPE'", ad->name, ad->name, ad->name);
            ok = false;
        } else if (target->kind == PAT_INPUT || target->kind == PAT_CONST) {
            diag_error(d, ad->loc, "cannot assign to %s '%s'; only outputs and buffers are defined",
                       target->kind == PAT_INPUT ? "input" : "const", ad->name);
            ok = false;
        } else if (target->def) {
            diag_error(d, ad->loc, "'%s' is defined twice (first at %d:%d)", ad->name,
                       target->def->loc.line, target->def->loc.col);
            ok = false;
        }
        pat_def *df = alloc(&ck, sizeof *df);
        if (!df)
            return NULL;
        df->target = ok ? target : NULL;
        df->loc = ad->loc;
        ck.n_slots = 0;
        ck.too_deep = false;
        ck.cur = ok ? target : NULL;
        if (ok)
            target->def = df;
        df->value = chk(&ck, ad->value, NULL);
        df->n_slots = ck.n_slots;
        if (ok) {
            ck.defined[id] = true;
            if (df->value && ck.state[id] != CONST_BAD &&
                !pat_type_equal(&df->value->type, &target->type)) {
                char b1[64], b2[64];
                diag_error(d, ad->loc, "'%s' is declared %s but its definition has type %s",
                           ad->name, tstr(&target->type, b1, sizeof b1),
                           tstr(&df->value->type, b2, sizeof b2));
            }
            df->index = defs.n;
            if (pat_vec_push(&defs, a, df) < 0)
                return NULL;
        }
    }
    ck.cur = NULL;
    for (int i = 0; i < ck.n; i++) {
        pat_decl *dl = ck.decl[i];
        if ((dl->kind == PAT_OUTPUT || dl->kind == PAT_BUFFER) && !dl->def && !ck.broken[i])
            diag_error(d, dl->loc, "%s '%s' is never defined; add a definition '%s = ...'",
                       dl->kind == PAT_OUTPUT ? "output" : "buffer", dl->name, dl->name);
    }
    if (ck.oom || d->n_errors > errors_before)
        return NULL;
    p->n_defs = defs.n;
    p->defs = (pat_def **)defs.items;
    return p;
}

/* ---------------------------------------------------------------- */
/* Entry points                                                      */

/* Order the diagnostics added since `from` by position, so that a user
 * reads them top to bottom whatever pass found them. */
static void sort_diags(diag_list *d, int from)
{
    for (int i = from + 1; i < d->n; i++) {
        diag cur = d->items[i];
        int j = i - 1;
        while (j >= from && (d->items[j].loc.line > cur.loc.line ||
                             (d->items[j].loc.line == cur.loc.line &&
                              d->items[j].loc.col > cur.loc.col))) {
            d->items[j + 1] = d->items[j];
            j--;
        }
        d->items[j + 1] = cur;
    }
}

pat_program *pat_load_string(const char *name, const char *text, arena *a, diag_list *d)
{
    /* Every location names the file through the diag_list's own copy of
     * the name, which lives exactly as long as the list that prints it,
     * even if the caller releases the arena first.  The program keeps an
     * arena copy for everything else. */
    const char *own = arena_strdup(a, name);
    if (!own) {
        diag_error(d, diag_at_file(name), "out of memory");
        return NULL;
    }
    int n_sources = d->n_sources;
    diag_add_source(d, name, text);
    const char *file = d->n_sources > n_sources ? d->sources[d->n_sources - 1].file : own;
    int from = d->n, errors_before = d->n_errors;
    token *toks;
    int n;
    pat_program *p = NULL;
    if (pat_lex(file, text, a, d, &toks, &n) == 0) {
        ast_program *ap = pat_parse(toks, n, a, d);
        if (ap) {
            p = pat_check(ap, file, a, d);
            if (p)
                p->file = own;
        } else if (!ap) {
            diag_error(d, diag_at_file(file), "out of memory");
        }
    } else {
        diag_error(d, diag_at_file(file), "out of memory");
    }
    sort_diags(d, from);
    if (d->n_errors > errors_before)
        return NULL;
    return p;
}

pat_program *pat_load_file(const char *path, arena *a, diag_list *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        diag_io_error(d, diag_at_file(arena_strdup(a, path)), "cannot open the program: %s",
                   strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = xmalloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
        if (cap - len - 1 == 0) {
            char *grown = xrealloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    bool err = ferror(f);
    fclose(f);
    if (!buf || err) {
        free(buf);
        diag_io_error(d, diag_at_file(arena_strdup(a, path)), "cannot read the program");
        return NULL;
    }
    buf[len] = 0;
    if (memchr(buf, 0, len)) {
        free(buf);
        diag_error(d, diag_at_file(arena_strdup(a, path)),
                   "the program contains a NUL byte; is it a text file?");
        return NULL;
    }
    pat_program *p = pat_load_string(path, buf, a, d);
    free(buf);
    return p;
}
