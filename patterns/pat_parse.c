/*
 * pat_parse.c — recursive-descent parser of `.pat` programs (spec §2-§5).
 *
 * One function per grammar rule; binary operators by precedence climbing
 * with C's levels.  Patterns and blocks are primary expressions, and any
 * primary may be followed by indexing `[e][e]...` (collected into one
 * A_INDEX node).  A `let`'s expression is parsed as far as it extends; an
 * optional `;` ends it early.
 *
 * Error recovery: the first syntax error of a top-level statement is
 * reported, the statement is abandoned with a longjmp back to the
 * statement loop, and tokens are skipped up to the next declaration keyword
 * or the next line that starts with `NAME =`.  An error at a T_ERROR token
 * is not reported again (the lexer already did).  The diag_list stops
 * keeping errors after its cap (20), and the parser stops when it is full.
 */
#include "patterns/pat_internal.h"
#include "util/suggest.h"

#include <setjmp.h>
#include <string.h>

typedef struct parser {
    const token *toks;
    int n, pos;
    arena *a;
    diag_list *d;
    jmp_buf fail;          /* back to the statement loop */
    bool oom;
    ptr_vec decls, defs;   /* the statements parsed so far */
    ptr_vec broken;        /* names of definitions abandoned on an error */
    const char *defining;  /* target of the definition being parsed */
    int depth;             /* nesting of parse_expr/parse_unary calls */
    int start;             /* token where the current statement began */
} parser;

static const token *peek(const parser *ps)
{
    return &ps->toks[ps->pos];
}

static const token *peek_at(const parser *ps, int k)
{
    int i = ps->pos + k;
    return &ps->toks[i < ps->n ? i : ps->n - 1];
}

static const token *next(parser *ps)
{
    const token *t = &ps->toks[ps->pos];
    if (t->kind != T_EOF)
        ps->pos++;
    return t;
}

static bool accept(parser *ps, tok_kind k)
{
    if (peek(ps)->kind == k) {
        next(ps);
        return true;
    }
    return false;
}

/* Describe the token as found: "'foo'", "'42'", "end of file". */
static void found_str(const token *t, char *buf, size_t size)
{
    if (t->kind == T_EOF)
        snprintf(buf, size, "end of file");
    else
        snprintf(buf, size, "'%.*s'", t->len > 40 ? 40 : t->len, t->text);
}

static _Noreturn void fail_at(parser *ps, const token *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static _Noreturn void fail_at(parser *ps, const token *t, const char *fmt, ...)
{
    if (t->kind != T_ERROR) {
        va_list ap;
        va_start(ap, fmt);
        diag_vadd(ps->d, DIAG_ERROR, t->loc, fmt, ap);
        va_end(ap);
    }
    longjmp(ps->fail, 1);
}

static _Noreturn void fail_oom(parser *ps)
{
    ps->oom = true;
    longjmp(ps->fail, 2);
}

static void expect(parser *ps, tok_kind k, const char *context)
{
    const token *t = peek(ps);
    if (t->kind == k) {
        next(ps);
        return;
    }
    char found[64];
    found_str(t, found, sizeof found);
    fail_at(ps, t, "expected %s %s, found %s", pat_tok_name(k), context, found);
}

/* A name being introduced (declared, bound as index or let). */
static const token *expect_name(parser *ps, const char *what)
{
    const token *t = peek(ps);
    if (t->kind == T_IDENT)
        return next(ps);
    if (pat_tok_is_keyword(t->kind))
        fail_at(ps, t, "'%.*s' is a keyword and cannot be used as a name", t->len, t->text);
    if (pat_tok_is_builtin(t->kind))
        fail_at(ps, t, "'%.*s' is a built-in function and cannot be used as a name", t->len, t->text);
    char found[64];
    found_str(t, found, sizeof found);
    fail_at(ps, t, "expected %s, found %s", what, found);
}

static void *alloc(parser *ps, size_t n)
{
    void *p = arena_alloc(ps->a, n);
    if (!p)
        fail_oom(ps);
    return p;
}

static const char *tok_dup(parser *ps, const token *t)
{
    char *s = arena_strndup(ps->a, t->text, (size_t)t->len);
    if (!s)
        fail_oom(ps);
    return s;
}

static void vpush(parser *ps, ptr_vec *v, void *item)
{
    if (pat_vec_push(v, ps->a, item) < 0)
        fail_oom(ps);
}

static ast *new_ast(parser *ps, ast_kind kind, diag_loc loc)
{
    ast *e = alloc(ps, sizeof *e);
    e->kind = kind;
    e->loc = loc;
    return e;
}

static ast *parse_expr(parser *ps);
static ast *parse_block(parser *ps);

/* ---------------------------------------------------------------- */
/* Patterns                                                          */

static void parse_indices(parser *ps, ast *e, const char *what)
{
    char ctx[64];
    snprintf(ctx, sizeof ctx, "after '%s'", what);
    expect(ps, T_LPAREN, ctx);
    ptr_vec v = {0};
    do {
        const token *name = expect_name(ps, "an index name");
        ast_idx *ix = alloc(ps, sizeof *ix);
        ix->name = tok_dup(ps, name);
        ix->loc = name->loc;
        snprintf(ctx, sizeof ctx, "after index '%.*s'", name->len > 30 ? 30 : name->len, name->text);
        expect(ps, T_COLON, ctx);
        ast *first = parse_expr(ps);
        if (accept(ps, T_DOTDOT)) {
            ix->lo = first;
            ix->hi = parse_expr(ps);
        } else {
            ix->extent = first;
        }
        vpush(ps, &v, ix);
    } while (accept(ps, T_COMMA));
    snprintf(ctx, sizeof ctx, "to close the indices of '%s'", what);
    expect(ps, T_RPAREN, ctx);
    e->u.pat.n_idx = v.n;
    e->u.pat.idx = alloc(ps, (size_t)v.n * sizeof(ast_idx));
    for (int i = 0; i < v.n; i++)
        e->u.pat.idx[i] = *(ast_idx *)v.items[i];
}

static pat_redop parse_redop(parser *ps, const char *what)
{
    const token *t = peek(ps);
    switch (t->kind) {
    case T_PLUS: next(ps); return PAT_RED_ADD;
    case T_STAR: next(ps); return PAT_RED_MUL;
    case T_MAX: next(ps); return PAT_RED_MAX;
    case T_MIN: next(ps); return PAT_RED_MIN;
    default: break;
    }
    char found[64];
    found_str(t, found, sizeof found);
    fail_at(ps, t, "expected the operator of '%s' ('+', '*', 'max' or 'min'), found %s", what, found);
}

static ast *parse_pattern(parser *ps)
{
    const token *kw = next(ps);
    ast_kind kind = kw->kind == T_MAP ? A_MAP : kw->kind == T_REDUCE ? A_REDUCE : A_GROUPBY;
    const char *what = kind == A_MAP ? "map" : kind == A_REDUCE ? "reduce" : "groupby";
    ast *e = new_ast(ps, kind, kw->loc);
    parse_indices(ps, e, what);
    if (kind != A_MAP)
        e->u.pat.op = parse_redop(ps, what);
    if (kind == A_GROUPBY) {
        expect(ps, T_KEY, "after the operator of 'groupby'");
        e->u.pat.key = parse_expr(ps);
        expect(ps, T_INTO, "after the key of 'groupby'");
        e->u.pat.groups_loc = peek(ps)->loc;
        e->u.pat.groups = parse_expr(ps);
    }
    if (kind != A_MAP && accept(ps, T_WHERE))
        e->u.pat.where = parse_expr(ps);
    if (peek(ps)->kind != T_LBRACE) {
        char found[64];
        found_str(peek(ps), found, sizeof found);
        if (kind == A_MAP && peek(ps)->kind == T_WHERE)
            fail_at(ps, peek(ps), "'map' has no 'where' guard; use it on 'reduce' or 'groupby'");
        fail_at(ps, peek(ps), "expected '{' to open the body of '%s', found %s", what, found);
    }
    e->u.pat.body = parse_block(ps);
    return e;
}

/* ---------------------------------------------------------------- */
/* Expressions                                                       */

/* The candidate nearest to t's text (util/suggest.h), or NULL; the list
 * ends with NULL. */
static const char *nearest(const token *t, const char *const *candidates)
{
    suggest sg;
    suggest_init(&sg, t->text, (size_t)t->len);
    for (int k = 0; candidates[k]; k++)
        suggest_offer(&sg, candidates[k]);
    return suggest_best(&sg);
}

static ast *parse_block(parser *ps)
{
    const token *open = next(ps);  /* '{' */
    ast *e = new_ast(ps, A_BLOCK, open->loc);
    ptr_vec names = {0}, values = {0}, locs = {0};
    while (peek(ps)->kind == T_LET) {
        next(ps);
        const token *name = expect_name(ps, "a name after 'let'");
        char ctx[64];
        snprintf(ctx, sizeof ctx, "after 'let %.*s'", name->len > 30 ? 30 : name->len, name->text);
        expect(ps, T_ASSIGN, ctx);
        ast *value = parse_expr(ps);
        accept(ps, T_SEMI);
        diag_loc *l = alloc(ps, sizeof *l);
        *l = name->loc;
        vpush(ps, &names, (void *)tok_dup(ps, name));
        vpush(ps, &values, value);
        vpush(ps, &locs, l);
    }
    if (peek(ps)->kind == T_RBRACE)
        fail_at(ps, peek(ps), "a block must end with an expression giving its value");
    const token *first = peek(ps);
    e->u.block.result = parse_expr(ps);
    accept(ps, T_SEMI);
    if (first->kind == T_IDENT && peek(ps) == first + 1 && peek(ps)->kind == T_IDENT &&
        peek_at(ps, 1)->kind == T_ASSIGN) {
        static const char *const let[] = {"let", NULL};
        const char *near = nearest(first, let);
        if (near)
            fail_at(ps, first, "unknown word '%.*s' before '%.*s ='; did you mean 'let'?", first->len,
                    first->text, peek(ps)->len, peek(ps)->text);
    }
    if (peek(ps)->kind != T_RBRACE) {
        char found[64];
        found_str(peek(ps), found, sizeof found);
        fail_at(ps, peek(ps), "expected '}' to close the block opened at %d:%d, found %s%s",
                open->loc.line, open->loc.col, found,
                peek(ps)->kind == T_ASSIGN ? " (bindings are written 'let NAME = ...')" : "");
    }
    next(ps);
    int n = names.n;
    e->u.block.n = n;
    e->u.block.names = alloc(ps, (size_t)(n ? n : 1) * sizeof(char *));
    e->u.block.values = alloc(ps, (size_t)(n ? n : 1) * sizeof(ast *));
    e->u.block.locs = alloc(ps, (size_t)(n ? n : 1) * sizeof(diag_loc));
    for (int i = 0; i < n; i++) {
        e->u.block.names[i] = names.items[i];
        e->u.block.values[i] = values.items[i];
        e->u.block.locs[i] = *(diag_loc *)locs.items[i];
    }
    return e;
}

static pat_fn builtin_fn(tok_kind k)
{
    switch (k) {
    case T_EXP: return PAT_FN_EXP;
    case T_LOG: return PAT_FN_LOG;
    case T_SQRT: return PAT_FN_SQRT;
    case T_TANH: return PAT_FN_TANH;
    case T_ABS: return PAT_FN_ABS;
    case T_MAX: return PAT_FN_MAX;
    case T_MIN: return PAT_FN_MIN;
    case T_F32: return PAT_FN_F32;
    default: return PAT_FN_I32;
    }
}

static ast *parse_primary(parser *ps)
{
    const token *t = peek(ps);
    switch (t->kind) {
    case T_INT: {
        next(ps);
        ast *e = new_ast(ps, A_INT, t->loc);
        e->u.ival = t->ival;
        return e;
    }
    case T_FLOAT: {
        next(ps);
        ast *e = new_ast(ps, A_FLOAT, t->loc);
        e->u.fl.val = t->fval;
        e->u.fl.text = tok_dup(ps, t);
        return e;
    }
    case T_IDENT: {
        next(ps);
        /* `foo(x)` is a call of an unknown function; `b (c)` after a let's
         * value is the block's result in parentheses. */
        const token *paren = peek(ps);
        /* `reduse (j: N) ...`: a misspelled pattern, said at the word. */
        if (paren->kind == T_LPAREN && peek_at(ps, 1)->kind == T_IDENT && peek_at(ps, 2)->kind == T_COLON) {
            static const char *const patterns[] = {"map", "reduce", "groupby", NULL};
            const char *near = nearest(t, patterns);
            if (near)
                fail_at(ps, t, "unknown word '%.*s' before '(%.*s: ...)'; did you mean '%s'?", t->len, t->text,
                        peek_at(ps, 1)->len, peek_at(ps, 1)->text, near);
            fail_at(ps, t, "unknown word '%.*s' before '(%.*s: ...)'; the patterns are map, reduce and groupby",
                    t->len, t->text, peek_at(ps, 1)->len, peek_at(ps, 1)->text);
        }
        if (paren->kind == T_LPAREN && paren->loc.line == t->loc.line &&
            paren->loc.col == t->loc.col + t->len) {
            static const char *const fns[] = {"exp", "log", "sqrt", "tanh", "abs", "max", "min", "f32", "i32", NULL};
            const char *near = nearest(t, fns);
            if (near)
                fail_at(ps, t, "'%.*s' is not a function; did you mean '%s'?", t->len, t->text, near);
            fail_at(ps, t, "'%.*s' is not a function; the built-in functions are exp, log, sqrt, "
                    "tanh, abs, max, min, f32 and i32", t->len, t->text);
        }
        ast *e = new_ast(ps, A_NAME, t->loc);
        e->u.name = tok_dup(ps, t);
        return e;
    }
    case T_LPAREN: {
        next(ps);
        ast *e = parse_expr(ps);
        expect(ps, T_RPAREN, "to close '('");
        return e;
    }
    case T_LBRACE:
        return parse_block(ps);
    case T_MAP: case T_REDUCE: case T_GROUPBY:
        return parse_pattern(ps);
    case T_EXP: case T_LOG: case T_SQRT: case T_TANH: case T_ABS:
    case T_MAX: case T_MIN: case T_F32: case T_I32: {
        next(ps);
        char ctx[64];
        snprintf(ctx, sizeof ctx, "after the function name '%.*s'", t->len, t->text);
        expect(ps, T_LPAREN, ctx);
        ast *e = new_ast(ps, A_CALL, t->loc);
        e->u.call.fn = builtin_fn(t->kind);
        ptr_vec args = {0};
        if (peek(ps)->kind != T_RPAREN) {
            do
                vpush(ps, &args, parse_expr(ps));
            while (accept(ps, T_COMMA));
        }
        expect(ps, T_RPAREN, "to close the arguments");
        e->u.call.n = args.n;
        e->u.call.args = alloc(ps, (size_t)(args.n ? args.n : 1) * sizeof(ast *));
        for (int i = 0; i < args.n; i++)
            e->u.call.args[i] = args.items[i];
        return e;
    }
    default:
        break;
    }
    char found[64];
    found_str(t, found, sizeof found);
    if (pat_tok_is_keyword(t->kind))
        fail_at(ps, t, "expected an expression, found the keyword %s", found);
    fail_at(ps, t, "expected an expression, found %s", found);
}

static ast *parse_postfix(parser *ps)
{
    ast *e = parse_primary(ps);
    if (peek(ps)->kind != T_LBRACK)
        return e;
    ast *ix = new_ast(ps, A_INDEX, e->loc);
    ix->u.index.base = e;
    ptr_vec v = {0};
    while (accept(ps, T_LBRACK)) {
        vpush(ps, &v, parse_expr(ps));
        expect(ps, T_RBRACK, "to close the index");
    }
    ix->u.index.n = v.n;
    ix->u.index.idx = alloc(ps, (size_t)v.n * sizeof(ast *));
    for (int i = 0; i < v.n; i++)
        ix->u.index.idx[i] = v.items[i];
    return ix;
}

static void enter(parser *ps)
{
    if (++ps->depth > PAT_MAX_DEPTH)
        fail_at(ps, peek(ps), "expression nested too deeply (more than %d levels)", PAT_MAX_DEPTH);
}

static ast *parse_unary(parser *ps)
{
    const token *t = peek(ps);
    if (t->kind == T_MINUS || t->kind == T_BANG) {
        next(ps);
        enter(ps);
        ast *e = new_ast(ps, A_UNARY, t->loc);
        e->u.unary.op = t->kind == T_MINUS ? PAT_NEG : PAT_NOT;
        e->u.unary.arg = parse_unary(ps);
        ps->depth--;
        return e;
    }
    if (t->kind == T_PLUS)
        fail_at(ps, t, "there is no unary '+'; write the operand alone");
    return parse_postfix(ps);
}

/* Binding power of a binary operator token (0: not one), C's levels. */
static int binop_prec(tok_kind k, pat_binop *op)
{
    switch (k) {
    case T_OROR: *op = PAT_OR; return 1;
    case T_ANDAND: *op = PAT_AND; return 2;
    case T_EQEQ: *op = PAT_EQ; return 3;
    case T_NE: *op = PAT_NE; return 3;
    case T_LT: *op = PAT_LT; return 4;
    case T_LE: *op = PAT_LE; return 4;
    case T_GT: *op = PAT_GT; return 4;
    case T_GE: *op = PAT_GE; return 4;
    case T_PLUS: *op = PAT_ADD; return 5;
    case T_MINUS: *op = PAT_SUB; return 5;
    case T_STAR: *op = PAT_MUL; return 6;
    case T_SLASH: *op = PAT_DIV; return 6;
    case T_PERCENT: *op = PAT_MOD; return 6;
    default: return 0;
    }
}

static ast *parse_binary(parser *ps, int min_prec)
{
    ast *lhs = parse_unary(ps);
    for (;;) {
        pat_binop op;
        const token *t = peek(ps);
        int prec = binop_prec(t->kind, &op);
        if (prec == 0 || prec < min_prec)
            return lhs;
        next(ps);
        ast *rhs = parse_binary(ps, prec + 1);
        ast *e = new_ast(ps, A_BINARY, t->loc);
        e->u.binary.op = op;
        e->u.binary.lhs = lhs;
        e->u.binary.rhs = rhs;
        lhs = e;
    }
}

static ast *parse_expr(parser *ps)
{
    enter(ps);
    ast *cond = parse_binary(ps, 1);
    const token *q = peek(ps);
    if (q->kind != T_QUESTION) {
        ps->depth--;
        return cond;
    }
    next(ps);
    ast *e = new_ast(ps, A_SELECT, q->loc);
    e->u.select.cond = cond;
    e->u.select.then = parse_expr(ps);
    expect(ps, T_COLON, "in 'c ? a : b'");
    e->u.select.els = parse_expr(ps);
    ps->depth--;
    return e;
}

/* ---------------------------------------------------------------- */
/* Top level                                                         */

static void parse_type(parser *ps, ast_decl *dl)
{
    const token *t = peek(ps);
    if (t->kind == T_F32 || t->kind == T_I32) {
        next(ps);
        dl->elem = t->kind == T_F32 ? PAT_F32 : PAT_I32;
    } else {
        char found[64];
        found_str(t, found, sizeof found);
        fail_at(ps, t, "expected an element type ('f32' or 'i32') for '%s', found %s", dl->name, found);
    }
    ptr_vec dims = {0};
    while (accept(ps, T_LBRACK)) {
        vpush(ps, &dims, parse_expr(ps));
        expect(ps, T_RBRACK, "to close the dimension");
    }
    dl->n_dims = dims.n;
    dl->dims = alloc(ps, (size_t)(dims.n ? dims.n : 1) * sizeof(ast *));
    for (int i = 0; i < dims.n; i++)
        dl->dims[i] = dims.items[i];
}

static void parse_statement(parser *ps)
{
    const token *t = peek(ps);
    if (t->kind == T_CONST || t->kind == T_INPUT || t->kind == T_OUTPUT || t->kind == T_BUFFER) {
        next(ps);
        ast_decl *dl = alloc(ps, sizeof *dl);
        dl->kind = t->kind == T_CONST ? PAT_CONST : t->kind == T_INPUT ? PAT_INPUT
                 : t->kind == T_OUTPUT ? PAT_OUTPUT : PAT_BUFFER;
        const token *name = expect_name(ps, "a name to declare");
        dl->name = tok_dup(ps, name);
        dl->loc = name->loc;
        if (dl->kind == PAT_CONST) {
            expect(ps, T_ASSIGN, "after the name of a const");
            dl->value = parse_expr(ps);
        } else {
            char ctx[80];
            snprintf(ctx, sizeof ctx, "after '%s' (declarations are 'NAME : TYPE')", dl->name);
            expect(ps, T_COLON, ctx);
            parse_type(ps, dl);
            if (peek(ps)->kind == T_IN) {
                if (dl->kind != PAT_INPUT)
                    fail_at(ps, peek(ps), "only inputs have a generator ('in LO .. HI'); '%s' is %s",
                            dl->name, dl->kind == PAT_OUTPUT ? "an output" : "a buffer");
                dl->gen_loc = next(ps)->loc;
                dl->has_gen = true;
                dl->gen_lo = parse_expr(ps);
                expect(ps, T_DOTDOT, "in the generator 'in LO .. HI'");
                dl->gen_hi = parse_expr(ps);
                if (peek(ps)->kind == T_SORTED) {
                    dl->sorted_loc = next(ps)->loc;
                    dl->sorted = true;
                }
            }
        }
        vpush(ps, &ps->decls, dl);
        return;
    }
    if (t->kind == T_IDENT) {
        next(ps);
        if (peek(ps)->kind == T_IDENT) {
            /* `cosnt N = 4`, `inptu x : f32`: a misspelled declaration. */
            static const char *const decls[] = {"const", "input", "output", "buffer", NULL};
            const char *near = nearest(t, decls);
            if (near)
                fail_at(ps, t, "unknown word '%.*s' before the name '%.*s'; did you mean '%s'?", t->len, t->text,
                        peek(ps)->len, peek(ps)->text, near);
        }
        if (peek(ps)->kind != T_ASSIGN) {
            char found[64];
            found_str(peek(ps), found, sizeof found);
            fail_at(ps, peek(ps), "expected '=' after '%.*s' to define it, found %s", t->len, t->text, found);
        }
        next(ps);
        ast_def *df = alloc(ps, sizeof *df);
        df->name = tok_dup(ps, t);
        ps->defining = df->name;
        df->loc = t->loc;
        df->value = parse_expr(ps);
        vpush(ps, &ps->defs, df);
        return;
    }
    if ((pat_tok_is_keyword(t->kind) || pat_tok_is_builtin(t->kind)) &&
        peek_at(ps, 1)->kind == T_ASSIGN)
        fail_at(ps, t, "'%.*s' is %s and cannot be used as a name", t->len, t->text,
                pat_tok_is_keyword(t->kind) ? "a keyword" : "a built-in function");
    if (t->kind == T_LET)
        fail_at(ps, t, "'let' is only allowed inside a block '{ ... }'; "
                "at the top level declare a buffer and define it");
    char found[64];
    found_str(t, found, sizeof found);
    fail_at(ps, t, "expected a declaration (const, input, output, buffer) or a definition "
            "'NAME = ...', found %s", found);
}

/* Skip to a token that can start a top-level statement, after the one at
 * `start` where the failed statement began (an error found at the first
 * token of the next statement must not swallow that statement). */
static void synchronise(parser *ps, int start)
{
    if (ps->pos == start)
        next(ps);
    for (;;) {
        const token *t = peek(ps);
        if (t->kind == T_EOF)
            return;
        if (t->kind == T_CONST || t->kind == T_INPUT || t->kind == T_OUTPUT || t->kind == T_BUFFER)
            return;
        if (t->kind == T_IDENT && t->line_start && peek_at(ps, 1)->kind == T_ASSIGN)
            return;
        next(ps);
    }
}

ast_program *pat_parse(const token *toks, int n, arena *a, diag_list *d)
{
    /* The parser state lives in the arena, not in this frame: it changes
     * between setjmp and longjmp, and locals that do are indeterminate. */
    parser *ps = arena_alloc(a, sizeof *ps);
    ast_program *prog = arena_alloc(a, sizeof *prog);
    if (!ps || !prog)
        return NULL;
    ps->toks = toks;
    ps->n = n;
    ps->a = a;
    ps->d = d;
    while (peek(ps)->kind != T_EOF) {
        ps->start = ps->pos;
        int r = setjmp(ps->fail);
        if (r == 0) {
            ps->defining = NULL;
            ps->depth = 0;
            parse_statement(ps);
            /* A statement must end where the next one starts. */
            const token *t = peek(ps);
            if (t->kind != T_EOF && t->kind != T_CONST && t->kind != T_INPUT &&
                t->kind != T_OUTPUT && t->kind != T_BUFFER && t->kind != T_IDENT &&
                t->kind != T_SEMI && peek_at(ps, 1)->kind != T_ASSIGN) {
                char found[64];
                found_str(t, found, sizeof found);
                fail_at(ps, t, "unexpected %s after the end of the statement", found);
            }
            accept(ps, T_SEMI);
        } else if (ps->oom) {
            return NULL;
        } else {
            if (ps->defining && pat_vec_push(&ps->broken, a, (void *)ps->defining) < 0)
                return NULL;
            ps->defining = NULL;
            if (diag_full(d))
                break;
            synchronise(ps, ps->start);
        }
    }
    prog->n_decls = ps->decls.n;
    prog->decls = (ast_decl **)ps->decls.items;
    prog->n_defs = ps->defs.n;
    prog->defs = (ast_def **)ps->defs.items;
    prog->n_broken = ps->broken.n;
    prog->broken = (const char **)ps->broken.items;
    return prog;
}
