/*
 * test_pat_check.c — parser and checker through the public face
 * (pat_load_string): the shape of the IR for precedence and patterns,
 * types and shapes, slots, folding, and every error class of the contract
 * with its exact message and position.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "patterns/pat.h"

typedef struct loaded {
    arena a;
    diag_list d;
    pat_program *p;
} loaded;

static pat_program *load(loaded *l, const char *src)
{
    arena_init(&l->a);
    diag_init(&l->d);
    l->p = pat_load_string("t.pat", src, &l->a, &l->d);
    return l->p;
}

static void done(loaded *l)
{
    diag_free(&l->d);
    arena_destroy(&l->a);
}

/* The value of the first definition, under its block if `unwrap`. */
static const pat_expr *def_value(const pat_program *p, int i)
{
    return p->defs[i]->value;
}

static const pat_expr *body_result(const pat_expr *pattern)
{
    const pat_expr *b = pattern->u.pat.body;
    assert_int_equal(b->kind, PAT_E_BLOCK);
    return b->u.block.result;
}

static void test_precedence(void **state)
{
    (void)state;
    loaded l;
    assert_non_null(load(&l, "input a : i32\ninput b : i32\ninput c : i32\noutput y : i32\n"
                             "y = a + b * c < c || !a && b == -c ? a - b - c : c ? a : b\n"));
    const pat_expr *e = def_value(l.p, 0);
    /* ((a + (b*c)) < c) || ((!a) && (b == -c))  ?  ((a-b)-c)  :  (c ? a : b) */
    assert_int_equal(e->kind, PAT_E_SELECT);
    const pat_expr *cond = e->u.select.cond;
    assert_int_equal(cond->kind, PAT_E_BINARY);
    assert_int_equal(cond->u.binary.op, PAT_OR);
    const pat_expr *lt = cond->u.binary.lhs;
    assert_int_equal(lt->u.binary.op, PAT_LT);
    assert_int_equal(lt->u.binary.lhs->u.binary.op, PAT_ADD);
    assert_int_equal(lt->u.binary.lhs->u.binary.rhs->u.binary.op, PAT_MUL);
    const pat_expr *and = cond->u.binary.rhs;
    assert_int_equal(and->u.binary.op, PAT_AND);
    assert_int_equal(and->u.binary.lhs->kind, PAT_E_UNARY);
    assert_int_equal(and->u.binary.lhs->u.unary.op, PAT_NOT);
    assert_int_equal(and->u.binary.rhs->u.binary.op, PAT_EQ);
    assert_int_equal(and->u.binary.rhs->u.binary.rhs->kind, PAT_E_UNARY);
    const pat_expr *sub = e->u.select.then;
    assert_int_equal(sub->u.binary.op, PAT_SUB);
    assert_int_equal(sub->u.binary.lhs->u.binary.op, PAT_SUB);  /* left-assoc */
    assert_int_equal(e->u.select.els->kind, PAT_E_SELECT);       /* right-assoc */
    /* The caret of a binary expression is its operator. */
    assert_int_equal(cond->loc.line, 5);
    assert_int_equal(cond->loc.col, 19);
    done(&l);
}

static void test_pattern_is_primary(void **state)
{
    (void)state;
    loaded l;
    assert_non_null(load(&l, "const K = 4\ninput x : f32[K]\noutput y : f32\n"
                             "y = reduce (k: K) + { x[k] } / 2.0\n"));
    const pat_expr *e = def_value(l.p, 0);
    assert_int_equal(e->kind, PAT_E_BINARY);
    assert_int_equal(e->u.binary.op, PAT_DIV);
    assert_int_equal(e->u.binary.lhs->kind, PAT_E_REDUCE);
    assert_int_equal(e->u.binary.rhs->kind, PAT_E_FLOAT);
    done(&l);
}

static void test_let_semicolon(void **state)
{
    (void)state;
    loaded l;
    assert_non_null(load(&l, "input b : f32\ninput c : f32\noutput y : f32\n"
                             "y = { let a = b; -c }\n"));
    const pat_expr *blk = def_value(l.p, 0);
    assert_int_equal(blk->kind, PAT_E_BLOCK);
    assert_int_equal(blk->u.block.n, 1);
    assert_int_equal(blk->u.block.values[0]->kind, PAT_E_TENSOR);
    assert_int_equal(blk->u.block.result->kind, PAT_E_UNARY);
    done(&l);
    /* A parenthesised result after a let whose value ends in a name. */
    assert_non_null(load(&l, "input b : f32\noutput y : f32\ny = { let a = b  (a + 1.0) * 2.0 }\n"));
    assert_int_equal(def_value(l.p, 0)->u.block.result->kind, PAT_E_BINARY);
    done(&l);
    /* Without ';' the let takes `b - c` and the block has no result. */
    assert_null(load(&l, "input b : f32\ninput c : f32\noutput y : f32\ny = { let a = b -c }\n"));
    assert_string_equal(l.d.items[0].msg, "a block must end with an expression giving its value");
    done(&l);
}

static void test_shapes_and_slots(void **state)
{
    (void)state;
    loaded l;
    assert_non_null(load(&l,
        "const R = 3\nconst D = 5\ninput X : f32[R][D]\ninput k : i32[R]\n"
        "output Y : f32[R][D]\noutput G : f32[4][D]\noutput S : f32[D]\n"
        "Y = map (i: R) { let m = reduce (j: D) max { X[i][j] }  map (j: D) { X[i][j] - m } }\n"
        "G = groupby (i: R) + key k[i] into 4 { map (j: D) { X[i][j] } }\n"
        "S = reduce (i: R) + { map (j: D) { X[i][j] } }\n"));
    const pat_expr *y = def_value(l.p, 0);
    assert_int_equal(y->type.rank, 2);
    assert_int_equal(y->type.dims[0], 3);
    assert_int_equal(y->type.dims[1], 5);
    const pat_expr *inner = body_result(y);
    assert_int_equal(inner->kind, PAT_E_MAP);
    assert_int_equal(inner->type.rank, 1);
    /* Slots are unique within a definition: i, j (reduce), m, j (map). */
    assert_int_equal(l.p->defs[0]->n_slots, 4);
    bool seen[4] = {false};
    seen[y->u.pat.idx[0].var->slot] = true;
    const pat_expr *blk = y->u.pat.body;
    seen[blk->u.block.vars[0]->slot] = true;
    seen[blk->u.block.values[0]->u.pat.idx[0].var->slot] = true;
    seen[inner->u.pat.idx[0].var->slot] = true;
    for (int s = 0; s < 4; s++)
        assert_true(seen[s]);
    const pat_expr *g = def_value(l.p, 1);
    assert_int_equal(g->kind, PAT_E_GROUPBY);
    assert_int_equal(g->u.pat.groups, 4);
    assert_int_equal(g->type.rank, 2);
    assert_int_equal(g->type.dims[0], 4);
    assert_int_equal(g->type.dims[1], 5);
    const pat_expr *s = def_value(l.p, 2);
    assert_int_equal(s->type.rank, 1);
    assert_int_equal(s->type.dims[0], 5);
    assert_int_equal(l.p->defs[2]->n_slots, 2);
    assert_int_equal(l.p->defs[2]->index, 2);
    done(&l);
}

static void test_consts_fold_in_any_order(void **state)
{
    (void)state;
    loaded l;
    assert_non_null(load(&l, "input x : f32[N + 1]\nconst N = M * 3 - -2 % 5\nconst M = (7 / 2)\n"
                             "input p : i32[N] in -1 .. N sorted\noutput y : i32\ny = N\n"));
    pat_decl *n = pat_find_decl(l.p, "N");
    assert_non_null(n);
    assert_int_equal(n->kind, PAT_CONST);
    assert_int_equal(n->value, 11);  /* 3*3 - (-2 % 5) = 9 + 2 */
    pat_decl *x = pat_find_decl(l.p, "x");
    assert_int_equal(x->type.dims[0], 12);
    pat_decl *p = pat_find_decl(l.p, "p");
    assert_true(p->has_gen && p->gen_sorted);
    assert_int_equal(p->gen_lo, -1);
    assert_int_equal(p->gen_hi, 11);
    assert_null(pat_find_decl(l.p, "nope"));
    const pat_expr *y = def_value(l.p, 0);
    assert_int_equal(y->kind, PAT_E_INT);
    assert_int_equal(y->u.ival, 11);
    char buf[64];
    assert_string_equal(pat_type_str(&x->type, buf, sizeof buf), "f32[12]");
    assert_int_equal(pat_type_count(&x->type), 12);
    done(&l);
}

static void test_dynamic_ranges_and_lets(void **state)
{
    (void)state;
    loaded l;
    assert_non_null(load(&l, "input ptr : i32[5]\ninput v : f32[9]\noutput y : f32[4]\n"
                             "y = map (r: 4) { let row = map (j: 3) { v[j] }\n"
                             "  reduce (j: ptr[r] .. ptr[r + 1], k: 0 .. j) + where k != 1 { v[j] * row[k % 3] } }\n"));
    const pat_expr *red = body_result(def_value(l.p, 0));
    assert_int_equal(red->kind, PAT_E_REDUCE);
    assert_int_equal(red->u.pat.n_idx, 2);
    assert_non_null(red->u.pat.idx[0].lo);
    assert_int_equal(red->u.pat.idx[0].extent, 0);
    assert_int_equal(red->u.pat.idx[1].hi->kind, PAT_E_VAR);
    assert_non_null(red->u.pat.where);
    done(&l);
}

/* Each case: a program with exactly one error, its position and message. */
typedef struct err_case {
    const char *src;
    int line, col;
    const char *msg;
} err_case;

#define HDR "const N = 4\ninput x : f32[N]\ninput k : i32[N]\ninput A : f32[N][N]\n"

static const err_case err_cases[] = {
    /* names and declarations */
    {HDR "output y : f32[N]\ny = map (i: N) { z[i] }\n", 6, 18, "'z' is not declared"},
    {HDR "input x : f32\n", 5, 7, "'x' is declared twice (first at 2:7)"},
    {"const map = 3\n", 1, 7, "'map' is a keyword and cannot be used as a name"},
    {"input sqrt : f32\n", 1, 7, "'sqrt' is a built-in function and cannot be used as a name"},
    {"const A = B\nconst B = A\n", 1, 7, "const 'A' is defined in terms of itself"},
    {"const A = 46341 * 46341\n", 1, 17,
     "integer overflow in the value of const 'A': 46341 * 46341 = 2147488281 does not fit in 32 bits"},
    {"const A = 1 % 0\n", 1, 13, "division by zero in the value of const 'A'"},
    {"input y : f32[0]\n", 1, 15, "dimension 0 of 'y' is 0; it must be at least 1"},
    {"input y : f32[2.0]\n", 1, 15,
     "dimension 0 of 'y' must be a compile-time integer expression (integer literals, consts, "
     "unary '-', + - * / % and parentheses)"},
    {"input y : i32[4] in 3 .. 2\n", 1, 18, "the generator range 3 .. 2 of 'y' is empty; it needs lo < hi"},
    {"input y : f32[4] in 0 .. 2 sorted\n", 1, 28,
     "'sorted' is only for 1-D i32 inputs (such as CSR row pointers); 'y' is f32[4]"},
    {"input y : i32[1] in 0 .. 2 sorted\n", 1, 28,
     "a sorted input starts at LO and ends at HI, so it needs at least 2 elements; 'y' has 1"},
    {"output y : i32\ny = 2147483648\n", 2, 5, "integer literal 2147483648 does not fit in 32 bits"},
    /* definitions */
    {HDR "output y : f32[N]\n", 5, 8, "output 'y' is never defined; add a definition 'y = ...'"},
    {HDR "buffer t : f32[N]\n", 5, 8, "buffer 't' is never defined; add a definition 't = ...'"},
    {HDR "x = map (i: N) { 1.0 }\n", 5, 1, "cannot assign to input 'x'; only outputs and buffers are defined"},
    {HDR "y = map (i: N) { 1.0 }\n", 5, 1,
     "'y' is not declared; declare it first as 'output y : TYPE' or 'buffer y : TYPE'"},
    {HDR "output y : f32[N]\ny = map (i: N) { 1.0 }\ny = map (i: N) { 2.0 }\n", 7, 1,
     "'y' is defined twice (first at 6:1)"},
    {HDR "output y : f32[N]\nbuffer t : f32[N]\ny = map (i: N) { t[i] }\nt = map (i: N) { x[i] }\n",
     7, 18, "'t' is read before its definition at line 8"},
    {HDR "output y : f32[N]\ny = map (i: N) { y[i] }\n", 6, 18,
     "'y' is read in its own definition; a definition may only read inputs and tensors defined above it"},
    {HDR "output y : f32[N][2]\ny = map (i: N) { x[i] }\n", 6, 1,
     "'y' is declared f32[4][2] but its definition has type f32[4]"},
    /* types */
    {HDR "output y : f32[N]\ny = map (i: N) { x[i] + k[i] }\n", 6, 23,
     "cannot add f32 and i32; use f32(...) or i32(...)"},
    {HDR "output y : f32[N]\ny = map (i: N) { x[i] - 1 }\n", 6, 23,
     "cannot subtract f32 and i32; use f32(...) or i32(...)"},
    {HDR "output y : i32[N]\ny = map (i: N) { x[i] == i }\n", 6, 23,
     "cannot compare f32 and i32; use f32(...) or i32(...)"},
    {HDR "output y : f32[N]\ny = map (i: N) { x[i] % 2.0 }\n", 6, 23,
     "'%' takes i32 operands; there is no f32 remainder"},
    {HDR "output y : i32[N]\ny = map (i: N) { k[i] || x[i] }\n", 6, 23,
     "'||' takes i32 operands, but its right operand is f32; compare it with 0.0 first"},
    {HDR "output y : i32[N]\ny = map (i: N) { !x[i] }\n", 6, 18,
     "'!' takes an i32 operand, but it is f32; compare it with 0.0 first"},
    {HDR "output y : f32[N]\ny = map (i: N) { x[i] > 0.0 ? x[i] : 0 }\n", 6, 29,
     "the two sides of '?:' have different types, f32 and i32; use f32(...) or i32(...)"},
    {HDR "output y : f32[N]\ny = map (i: N) { x[i] ? x[i] : 0.0 }\n", 6, 18,
     "the condition of '?:' must be i32, but it is f32; use i32(...)"},
    /* indexing */
    {HDR "output y : f32[N]\ny = map (i: N) { A[i] }\n", 6, 20, "'A' has 2 dimensions but 1 index was given"},
    {HDR "output y : f32[N]\ny = map (i: N) { x[i][i] }\n", 6, 20, "'x' has 1 dimension but 2 indices were given"},
    {HDR "output y : f32[N]\ny = map (i: N) { x[x[i]] }\n", 6, 20,
     "index 0 of 'x' must be i32, but it is f32; use i32(...)"},
    {HDR "output y : f32[N][N]\ny = map (i: N) { A }\n", 6, 18,
     "'A' is f32[4][4]: index all 2 of its dimensions (there is no slicing)"},
    {HDR "input s : f32\noutput y : f32[N]\ny = map (i: N) { s[i] }\n", 7, 18,
     "'s' is a scalar and cannot be indexed"},
    {HDR "output y : f32[N]\ny = map (i: N) { N[i] }\n", 6, 18, "'N' is a const and cannot be indexed"},
    /* patterns */
    {HDR "output y : f32[N]\ny = map (i: k[0] .. k[1]) { 1.0 }\n", 6, 10,
     "index 'i' of a map has a dynamic range; ranges 'lo .. hi' are allowed only in reduce and "
     "groupby, a map needs a compile-time extent"},
    {HDR "output y : f32\ny = reduce (j: 0 .. x[0]) + { 1.0 }\n", 6, 21,
     "the upper bound of index 'j' must be i32, but it is f32; use i32(...)"},
    {HDR "output y : f32\ny = reduce (j: N) + where x[j] { 1.0 }\n", 6, 27,
     "the 'where' condition must be i32, but it is f32; use i32(...)"},
    {HDR "output y : f32[N]\ny = groupby (j: N) + key x[j] into N { 1.0 }\n", 6, 26,
     "the key of groupby must be i32, but it is f32; use i32(...)"},
    {HDR "output y : f32[N]\ny = map (i: N) { reduce (j: i) + { 1.0 } }\n", 6, 29,
     "the extent of index 'j' must be a compile-time integer, but 'i' is a variable; for a "
     "run-time bound write '0 .. n'"},
    {HDR "output y : f32[N]\ny = map (i: N - 4) { 1.0 }\n", 6, 15, "the extent of index 'i' is 0; it must be at least 1"},
    {HDR "output y : f32[N]\ny = groupby (j: N) + key k[j] into 0 { 1.0 }\n", 6, 36,
     "the group count after 'into' is 0; it must be at least 1"},
    {HDR "output y : f32\ny = reduce (j: N, j: N) + { 1.0 }\n", 6, 19, "index 'j' appears twice in this reduce"},
    {HDR "output y : f32\ny = { let a = 1.0  let a = 2.0  a }\n", 6, 24,
     "'a' is already bound in this block (at 6:11); let names are immutable"},
    /* calls */
    {HDR "output y : f32[N]\ny = map (i: N) { exp(k[i]) }\n", 6, 18,
     "'exp' takes an f32 argument, but it is i32; use f32(...)"},
    {HDR "output y : f32[N]\ny = map (i: N) { min(x[i]) }\n", 6, 18, "'min' takes 2 arguments but 1 was given"},
    {HDR "output y : f32[N]\ny = map (i: N) { i32(x[i], 1) }\n", 6, 18, "'i32' takes 1 argument but 2 were given"},
    {HDR "output y : f32[N]\ny = map (i: N) { max(x[i], k[i]) }\n", 6, 18,
     "'max' takes two arguments of the same type, but they are f32 and i32; use f32(...) or i32(...)"},
    {HDR "output y : f32[N]\ny = map (i: N) { relu(x[i]) }\n", 6, 18,
     "'relu' is not a function; the built-in functions are exp, log, sqrt, tanh, abs, max, min, f32 and i32"},
    /* syntax */
    {HDR "output y : f32[N]\ny = map (i: N { 1.0 }\n", 6, 15, "expected ')' to close the indices of 'map', found '{'"},
    {HDR "output y : f32[N]\ny = map (i: N) 1.0\n", 6, 16, "expected '{' to open the body of 'map', found '1.0'"},
    {HDR "output y : f32\ny = reduce (j: N) { 1.0 }\n", 6, 19,
     "expected the operator of 'reduce' ('+', '*', 'max' or 'min'), found '{'"},
    {HDR "output y : f32\ny = 1.0 +\n", 6, 10, "expected an expression, found end of file"},
    {HDR "output y : f32\ny = (1.0\n", 6, 9, "expected ')' to close '(', found end of file"},
    {HDR "output y : f32[N] in 0 .. 1\n", 5, 19, "only inputs have a generator ('in LO .. HI'); 'y' is an output"},
    {"input x f32\n", 1, 9, "expected ':' after 'x' (declarations are 'NAME : TYPE'), found 'f32'"},
    {"input x : f64\n", 1, 11, "expected an element type ('f32' or 'i32') for 'x', found 'f64'"},
    {"let a = 3\n", 1, 1, "'let' is only allowed inside a block '{ ... }'; at the top level declare a buffer and define it"},
    {"output y : f32\ny = +1.0\n", 2, 5, "there is no unary '+'; write the operand alone"},
    {"output y : f32\ny = 1.0\nmin = 2.0\n", 3, 1, "'min' is a built-in function and cannot be used as a name"},
    {"output y : f32\ny = 1.0\nwhere = 2.0\n", 3, 1, "'where' is a keyword and cannot be used as a name"},
};

static void test_error_classes(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        const err_case *c = &err_cases[i];
        loaded l;
        pat_program *p = load(&l, c->src);
        if (p || l.d.n_errors != 1 || strcmp(l.d.items[0].msg, c->msg) != 0 ||
            l.d.items[0].loc.line != c->line || l.d.items[0].loc.col != c->col) {
            print_error("case %zu: want %d:%d %s\n", i, c->line, c->col, c->msg);
            for (int k = 0; k < l.d.n; k++)
                print_error("  got %d:%d %s\n", l.d.items[k].loc.line, l.d.items[k].loc.col,
                            l.d.items[k].msg);
            bad++;
        }
        if (l.d.n > 0)
            assert_string_equal(l.d.items[0].loc.file, "t.pat");
        done(&l);
    }
    assert_int_equal(bad, 0);
}

static void test_recovery_reports_every_statement(void **state)
{
    (void)state;
    loaded l;
    assert_null(load(&l, "input x : f32[4]\noutput a : f32[4]\noutput b : f32[4]\noutput c : f32[4]\n"
                         "a = map (i: 4 { x[i] }\nb = map (i: 4) { x[i] + 1 }\n"
                         "c = map (i: 4) { x[i] * }\nconst Q = 1 / 0\n"));
    assert_int_equal(l.d.n_errors, 4);
    assert_int_equal(l.d.items[0].loc.line, 5);
    assert_int_equal(l.d.items[1].loc.line, 6);
    assert_int_equal(l.d.items[2].loc.line, 7);
    assert_int_equal(l.d.items[3].loc.line, 8);
    done(&l);
}

static void test_recovery_keeps_next_statement(void **state)
{
    (void)state;
    loaded l;
    /* The error is found at 'input', which must still declare y. */
    assert_null(load(&l, "output z : f32\nz\ninput y : f32\nz = y\n"));
    assert_int_equal(l.d.n_errors, 1);
    assert_string_equal(l.d.items[0].msg, "expected '=' after 'z' to define it, found 'input'");
    assert_int_equal(l.d.items[0].loc.line, 3);
    done(&l);
}

static void test_error_cap(void **state)
{
    (void)state;
    char src[8192] = "input x : f32[4]\n";
    for (int k = 0; k < 30; k++) {
        char line[128];
        snprintf(line, sizeof line, "output o%d : f32[4]\no%d = map (i: 4) { x[i] + i }\n", k, k);
        strcat(src, line);
    }
    loaded l;
    assert_null(load(&l, src));
    assert_int_equal(l.d.n, DIAG_MAX_ERRORS);
    assert_int_equal(l.d.dropped, 10);
    done(&l);
}

/* Deep nesting is refused with one error instead of exhausting the stack;
 * 200 levels are fine. */
static void test_depth_limit(void **state)
{
    (void)state;
    enum { DEEP = 50000 };
    char *src = malloc(8 * DEEP + 64);
    assert_non_null(src);
    const char *shapes[] = {"(", "-", "+"};
    for (int kind = 0; kind < 3; kind++) {
        char *w = src + sprintf(src, "output y : f32\ny = ");
        for (int k = 0; k < DEEP; k++)
            w += sprintf(w, kind == 0 ? "(" : kind == 1 ? "-" : "1.0 + ");
        w += sprintf(w, "1.0");
        if (kind == 0)
            for (int k = 0; k < DEEP; k++)
                *w++ = ')';
        *w++ = '\n';
        *w = 0;
        loaded l;
        assert_null(load(&l, src));
        assert_int_equal(l.d.n_errors, 1);
        const char *want = kind == 2 ? "expression too long (more than 4096 operators in one chain)"
                                     : "expression nested too deeply (more than 256 levels)";
        if (strcmp(l.d.items[0].msg, want) != 0) {
            print_error("%s: %s\n", shapes[kind], l.d.items[0].msg);
            fail();
        }
        done(&l);
    }
    /* A flat sum is a chain, not nesting: 4000 terms load. */
    {
        char *w = src + sprintf(src, "output y : f32\ny = 1.0");
        for (int k = 0; k < 4000; k++)
            w += sprintf(w, " + 1.0");
        sprintf(w, "\n");
        loaded l;
        assert_non_null(load(&l, src));
        done(&l);
    }
    char *w = src + sprintf(src, "output y : f32\ny = ");
    for (int k = 0; k < 200; k++)
        w += sprintf(w, "(1.0 + ");
    w += sprintf(w, "1.0");
    for (int k = 0; k < 200; k++)
        *w++ = ')';
    *w = 0;
    loaded l;
    assert_non_null(load(&l, src));
    done(&l);
    free(src);
}

/* Diagnostics stay printable after the caller releases the arena: their
 * file name is the diag_list's own copy. */
static void test_diagnostics_outlive_arena(void **state)
{
    (void)state;
    loaded l;
    assert_null(load(&l, "output y : f32\ny = 1\n"));
    arena_destroy(&l.a);
    assert_string_equal(l.d.items[0].loc.file, "t.pat");
    FILE *sink = fopen("/dev/null", "w");
    assert_non_null(sink);
    diag_print(sink, &l.d);
    fclose(sink);
    diag_free(&l.d);
}

static void test_load_file(void **state)
{
    (void)state;
    loaded l;
    arena_init(&l.a);
    diag_init(&l.d);
    assert_null(pat_load_file("/nonexistent/prog.pat", &l.a, &l.d));
    assert_int_equal(l.d.n_errors, 1);
    assert_non_null(strstr(l.d.items[0].msg, "cannot open the program"));
    done(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_pattern_is_primary),
        cmocka_unit_test(test_let_semicolon),
        cmocka_unit_test(test_shapes_and_slots),
        cmocka_unit_test(test_consts_fold_in_any_order),
        cmocka_unit_test(test_dynamic_ranges_and_lets),
        cmocka_unit_test(test_error_classes),
        cmocka_unit_test(test_recovery_reports_every_statement),
        cmocka_unit_test(test_recovery_keeps_next_statement),
        cmocka_unit_test(test_error_cap),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_diagnostics_outlive_arena),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
