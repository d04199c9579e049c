/*
 * pat_internal.h — private to patterns/: the tokens of the lexer and the
 * untyped syntax tree the parser builds for the checker.
 *
 * The front end is three passes, one per file, as in chibicc:
 *   pat_lex.c    text -> token array (every token with its line and column)
 *   pat_parse.c  tokens -> syntax tree (ast_*), with error recovery
 *   pat_check.c  syntax tree -> the typed IR of pat.h
 * The syntax tree keeps names as strings; only the checker resolves them,
 * because declarations may appear in any order.  Everything lives in the
 * job's arena.  Nothing outside patterns/ includes this header.
 */
#ifndef RDUMAP_PATTERNS_PAT_INTERNAL_H
#define RDUMAP_PATTERNS_PAT_INTERNAL_H

#include "patterns/pat.h"

/* ------------------------------------------------------------------ */
/* Tokens                                                              */

/* grep ORDER TOK if you change these: the name table in pat_lex.c. */
typedef enum tok_kind {
    T_EOF, T_ERROR, T_IDENT, T_INT, T_FLOAT,
    /* keywords */
    T_CONST, T_INPUT, T_OUTPUT, T_BUFFER, T_MAP, T_REDUCE, T_GROUPBY,
    T_WHERE, T_KEY, T_INTO, T_LET, T_IN, T_SORTED, T_F32, T_I32,
    /* built-in function names (also reserved) */
    T_EXP, T_LOG, T_SQRT, T_TANH, T_ABS, T_MAX, T_MIN,
    /* operators and punctuation */
    T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT,
    T_LT, T_LE, T_GT, T_GE, T_EQEQ, T_NE, T_ANDAND, T_OROR, T_BANG,
    T_QUESTION, T_COLON, T_ASSIGN, T_COMMA, T_SEMI, T_DOTDOT,
    T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_LBRACE, T_RBRACE,
    T_COUNT_
} tok_kind;

typedef struct token {
    tok_kind kind;
    diag_loc loc;
    const char *text;      /* points into the source; len bytes */
    int len;
    int64_t ival;          /* T_INT: value (may exceed 32 bits; the checker decides) */
    float fval;            /* T_FLOAT */
    bool line_start;       /* first token on its line (for error recovery) */
} token;

/* Split `src` into tokens, ending with T_EOF.  Lexical errors are reported
 * in `d` and leave a T_ERROR token in their place, so the parser can stay
 * quiet about them.  Returns -1 only when out of memory. */
int pat_lex(const char *file, const char *src, arena *a, diag_list *d,
            token **out, int *n_out);

/* How a token kind is written in messages: "'+'", "'map'", "a name". */
const char *pat_tok_name(tok_kind k);
bool pat_tok_is_keyword(tok_kind k);
bool pat_tok_is_builtin(tok_kind k);

/* Deepest nesting of expressions the front end accepts.  Every pass over
 * the IR recurses on it; the limit keeps them all far from the stack's end
 * (a real program nests a few dozen levels). */
enum { PAT_MAX_DEPTH = 256 };
/* Longest left-associative chain of binary operators (a + b + ... + z),
 * which is not nesting: each further pass recurses along it once, at a few
 * hundred bytes of stack per operator (a few kB under ASan): 4096 stays
 * well inside the 8 MiB default in every build. */
enum { PAT_MAX_CHAIN = 4096 };

/* ------------------------------------------------------------------ */
/* Syntax tree                                                         */

typedef enum ast_kind {
    A_INT, A_FLOAT, A_NAME, A_INDEX, A_UNARY, A_BINARY, A_SELECT, A_CALL,
    A_BLOCK, A_MAP, A_REDUCE, A_GROUPBY,
} ast_kind;

typedef struct ast ast;

typedef struct ast_idx {
    const char *name;
    diag_loc loc;
    ast *extent;           /* `i: N`, or NULL */
    ast *lo, *hi;          /* `i: lo .. hi`, or NULL */
} ast_idx;

struct ast {
    ast_kind kind;
    diag_loc loc;
    union {
        int64_t ival;
        struct { float val; const char *text; } fl;
        const char *name;
        struct { ast *base; int n; ast **idx; } index;
        struct { pat_unop op; ast *arg; } unary;
        struct { pat_binop op; ast *lhs, *rhs; } binary;
        struct { ast *cond, *then, *els; } select;
        struct { pat_fn fn; int n; ast **args; } call;
        struct { int n; const char **names; diag_loc *locs; ast **values; ast *result; } block;
        struct {
            int n_idx;
            ast_idx *idx;
            pat_redop op;
            ast *where, *key, *groups;
            diag_loc groups_loc;
            ast *body;
        } pat;
    } u;
};

typedef struct ast_decl {
    pat_decl_kind kind;
    const char *name;
    diag_loc loc;          /* of the name */
    ast *value;            /* const */
    pat_elem elem;
    int n_dims;
    ast **dims;
    bool has_gen, sorted;
    ast *gen_lo, *gen_hi;
    diag_loc gen_loc;      /* of `in` */
    diag_loc sorted_loc;
} ast_decl;

typedef struct ast_def {
    const char *name;
    diag_loc loc;
    ast *value;
} ast_def;

typedef struct ast_program {
    int n_decls;
    ast_decl **decls;
    int n_defs;
    ast_def **defs;
    int n_broken;
    const char **broken;   /* targets of definitions abandoned on a syntax error */
} ast_program;

/* Parse the tokens into a syntax tree.  Every syntax error is reported in
 * `d` (the parser resynchronises at the next top-level declaration or
 * definition); the statements that parsed are kept so that the checker can
 * still look at them.  Returns NULL only when out of memory. */
ast_program *pat_parse(const token *toks, int n, arena *a, diag_list *d);

/* Check a syntax tree and build the typed IR.  Returns NULL with errors in d. */
pat_program *pat_check(const ast_program *ap, const char *file, arena *a, diag_list *d);

/* A growable array of pointers in the arena (used by parser and checker). */
typedef struct ptr_vec {
    void **items;
    int n, cap;
} ptr_vec;

int pat_vec_push(ptr_vec *v, arena *a, void *item);

/* Saturating int64 arithmetic for work counts (pat_work.c). */
int64_t pat_work_add(int64_t a, int64_t b);
int64_t pat_work_mul(int64_t a, int64_t b);
/* Static body evaluations of the patterns in one evaluation of e (a
 * dynamic range counts as running 0 times: it is charged as it runs). */
int64_t pat_expr_work(const pat_expr *e);
/* Body evaluations of one iteration of a pattern: 1 + the static work of
 * its body, guard and key. */
int64_t pat_iter_work(const pat_pattern *pt);

#endif
