/*
 * test_pat_lex.c — the lexer's tokens and positions (spec §1), tested
 * white-box through the folder's private header: the tricky floats, the
 * range operator, reserved words, and errors that leave a T_ERROR token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "patterns/pat_internal.h"

typedef struct lexed {
    arena a;
    diag_list d;
    token *t;
    int n;
} lexed;

static void lex(lexed *l, const char *src)
{
    arena_init(&l->a);
    diag_init(&l->d);
    assert_int_equal(pat_lex("t.pat", src, &l->a, &l->d, &l->t, &l->n), 0);
}

static void done(lexed *l)
{
    diag_free(&l->d);
    arena_destroy(&l->a);
}

static void expect_kinds(const char *src, const tok_kind *kinds, int n)
{
    lexed l;
    lex(&l, src);
    assert_int_equal(l.n, n + 1);
    for (int i = 0; i < n; i++)
        assert_int_equal(l.t[i].kind, kinds[i]);
    assert_int_equal(l.t[n].kind, T_EOF);
    assert_int_equal(l.d.n_errors, 0);
    done(&l);
}

static void test_range_is_three_tokens(void **state)
{
    (void)state;
    static const tok_kind k[] = {T_INT, T_DOTDOT, T_IDENT};
    expect_kinds("0..N", k, 3);
    lexed l;
    lex(&l, "0..N");
    assert_int_equal(l.t[0].ival, 0);
    assert_int_equal(l.t[1].loc.col, 2);
    assert_int_equal(l.t[2].loc.col, 4);
    done(&l);
}

static void test_floats(void **state)
{
    (void)state;
    lexed l;
    lex(&l, ".5 3e-4 2.5E3 1.0 7 1e+2 0.1");
    assert_int_equal(l.d.n_errors, 0);
    assert_int_equal(l.n, 8);
    assert_int_equal(l.t[0].kind, T_FLOAT);
    assert_true(l.t[0].fval == 0.5f);
    assert_int_equal(l.t[1].kind, T_FLOAT);
    assert_true(l.t[1].fval == 3e-4f);
    assert_int_equal(l.t[2].kind, T_FLOAT);
    assert_true(l.t[2].fval == 2500.0f);
    assert_int_equal(l.t[3].kind, T_FLOAT);
    assert_int_equal(l.t[4].kind, T_INT);
    assert_int_equal(l.t[4].ival, 7);
    assert_true(l.t[5].fval == 100.0f);
    assert_true(l.t[6].fval == 0.1f);  /* rounded to nearest binary32 */
    done(&l);
}

static void test_float_then_range(void **state)
{
    (void)state;
    static const tok_kind k[] = {T_FLOAT, T_DOTDOT, T_FLOAT};
    expect_kinds("1.5...5", k, 3);
}

static void test_operators(void **state)
{
    (void)state;
    static const tok_kind k[] = {T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT, T_LT, T_LE,
                                 T_GT, T_GE, T_EQEQ, T_NE, T_ANDAND, T_OROR, T_BANG,
                                 T_QUESTION, T_COLON, T_ASSIGN, T_COMMA, T_SEMI, T_DOTDOT,
                                 T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_LBRACE, T_RBRACE};
    expect_kinds("+ - * / % < <= > >= == != && || ! ? : = , ; .. ( ) [ ] { }", k, 26);
    static const tok_kind tight[] = {T_LE, T_ASSIGN, T_NE, T_ASSIGN, T_GE};
    expect_kinds("<==!==>=", tight, 5);
}

static void test_reserved_words(void **state)
{
    (void)state;
    static const tok_kind k[] = {T_CONST, T_INPUT, T_OUTPUT, T_BUFFER, T_MAP, T_REDUCE,
                                 T_GROUPBY, T_WHERE, T_KEY, T_INTO, T_LET, T_IN, T_SORTED,
                                 T_F32, T_I32, T_EXP, T_LOG, T_SQRT, T_TANH, T_ABS, T_MAX,
                                 T_MIN, T_IDENT, T_IDENT, T_IDENT};
    expect_kinds("const input output buffer map reduce groupby where key into let in sorted "
                 "f32 i32 exp log sqrt tanh abs max min maps _in f64", k, 25);
}

static void test_positions_and_comments(void **state)
{
    (void)state;
    lexed l;
    lex(&l, "# a comment\n  x = y # tail\n\tz");
    assert_int_equal(l.n, 5);
    assert_int_equal(l.t[0].loc.line, 2);
    assert_int_equal(l.t[0].loc.col, 3);
    assert_true(l.t[0].line_start);
    assert_int_equal(l.t[1].loc.col, 5);
    assert_false(l.t[1].line_start);
    assert_int_equal(l.t[3].loc.line, 3);
    assert_int_equal(l.t[3].loc.col, 2);
    assert_true(l.t[3].line_start);
    assert_int_equal(l.t[3].len, 1);
    done(&l);
}

static void test_errors_leave_error_tokens(void **state)
{
    (void)state;
    lexed l;
    lex(&l, "a @ 1. 3e $ & |");
    assert_int_equal(l.d.n_errors, 6);
    assert_int_equal(l.t[1].kind, T_ERROR);
    assert_int_equal(l.d.items[0].loc.col, 3);
    assert_string_equal(l.d.items[0].msg, "unexpected character '@'");
    assert_string_equal(l.d.items[1].msg,
                        "'1.' is not a number: a '.' in a number must be followed by a digit (write 1.0)");
    assert_string_equal(l.d.items[2].msg, "the exponent of '3e' has no digits");
    assert_string_equal(l.d.items[4].msg, "unexpected character '&'; the logical and is '&&'");
    done(&l);
}

static void test_non_ascii_once(void **state)
{
    (void)state;
    lexed l;
    lex(&l, "a \xc3\x97 b # \xc2\xb7 in a comment is fine\n");
    assert_int_equal(l.d.n_errors, 1);
    assert_string_equal(l.d.items[0].msg,
                        "unexpected non-ASCII character '\xc3\x97'; outside comments a program is plain ASCII");
    assert_int_equal(l.n, 4);
    assert_int_equal(l.t[1].kind, T_ERROR);
    assert_int_equal(l.t[2].kind, T_IDENT);
    assert_int_equal(l.t[2].loc.col, 6);
    done(&l);
}

static void test_big_numbers(void **state)
{
    (void)state;
    lexed l;
    lex(&l, "2147483648 99999999999999999999 1e39 1e-50");
    assert_int_equal(l.t[0].kind, T_INT);
    assert_int_equal(l.t[0].ival, 2147483648LL);
    assert_true(l.t[1].ival > INT32_MAX);  /* saturated; the checker rejects it */
    assert_int_equal(l.t[2].kind, T_ERROR);
    assert_string_equal(l.d.items[0].msg, "float literal 1e39 is out of range for f32");
    assert_int_equal(l.t[3].kind, T_FLOAT);
    assert_true(l.t[3].fval == 0.0f);
    done(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_is_three_tokens),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_float_then_range),
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_reserved_words),
        cmocka_unit_test(test_positions_and_comments),
        cmocka_unit_test(test_errors_leave_error_tokens),
        cmocka_unit_test(test_non_ascii_once),
        cmocka_unit_test(test_big_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
