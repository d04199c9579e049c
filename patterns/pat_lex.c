/*
 * pat_lex.c — the lexer of `.pat` programs (spec §1).
 *
 * The whole source is turned into an array of tokens up front: programs
 * are small, and the parser then gets free lookahead (it needs two tokens
 * to tell a definition `y = ...` from an expression).  Every token carries
 * its line and column (from 1) so that diagnostics can point at it.
 *
 * Numbers: digits, then optionally `.` followed by a digit, then optionally
 * an exponent.  A `.` not followed by a digit never belongs to a number, so
 * `0..N` is `0` `..` `N`.  A float is converted with strtof, which rounds
 * to nearest binary32 as the language asks.  Integer literals are kept as
 * 64-bit values; whether they fit in 32 bits is the checker's business
 * (it must accept `-2147483648`).
 *
 * A lexical error is reported here and leaves a T_ERROR token behind; the
 * parser treats it as "already reported" and recovers without a second
 * message.
 */
#include "patterns/pat_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ORDER TOK */
static const char *const tok_names[T_COUNT_] = {
    "end of file", "an invalid token", "a name", "an integer", "a number",
    "'const'", "'input'", "'output'", "'buffer'", "'map'", "'reduce'", "'groupby'",
    "'where'", "'key'", "'into'", "'let'", "'in'", "'sorted'", "'f32'", "'i32'",
    "'exp'", "'log'", "'sqrt'", "'tanh'", "'abs'", "'max'", "'min'",
    "'+'", "'-'", "'*'", "'/'", "'%'",
    "'<'", "'<='", "'>'", "'>='", "'=='", "'!='", "'&&'", "'||'", "'!'",
    "'?'", "':'", "'='", "','", "';'", "'..'",
    "'('", "')'", "'['", "']'", "'{'", "'}'",
};

static const struct { const char *word; tok_kind kind; } reserved[] = {
    {"const", T_CONST}, {"input", T_INPUT}, {"output", T_OUTPUT}, {"buffer", T_BUFFER},
    {"map", T_MAP}, {"reduce", T_REDUCE}, {"groupby", T_GROUPBY}, {"where", T_WHERE},
    {"key", T_KEY}, {"into", T_INTO}, {"let", T_LET}, {"in", T_IN}, {"sorted", T_SORTED},
    {"f32", T_F32}, {"i32", T_I32},
    {"exp", T_EXP}, {"log", T_LOG}, {"sqrt", T_SQRT}, {"tanh", T_TANH}, {"abs", T_ABS},
    {"max", T_MAX}, {"min", T_MIN},
};

const char *pat_tok_name(tok_kind k)
{
    return (k >= 0 && k < T_COUNT_) ? tok_names[k] : "a token";
}

bool pat_tok_is_keyword(tok_kind k)
{
    return k >= T_CONST && k <= T_I32;
}

bool pat_tok_is_builtin(tok_kind k)
{
    return k >= T_EXP && k <= T_MIN;
}

typedef struct lexer {
    const char *file;
    const char *src, *p;
    int line;
    const char *line_begin;
    arena *a;
    diag_list *d;
    token *toks;
    int n, cap;
    bool oom;
    int last_line;         /* line of the previous token, for line_start */
} lexer;

static diag_loc loc_at(const lexer *lx, const char *at)
{
    diag_loc l = {lx->file, lx->line, (int)(at - lx->line_begin) + 1};
    return l;
}

static token *push(lexer *lx, tok_kind kind, const char *start, int len)
{
    if (lx->n == lx->cap) {
        int cap = lx->cap ? 2 * lx->cap : 256;
        token *grown = arena_calloc(lx->a, (size_t)cap, sizeof *grown);
        if (!grown) {
            lx->oom = true;
            return NULL;
        }
        if (lx->n)
            memcpy(grown, lx->toks, (size_t)lx->n * sizeof *grown);
        lx->toks = grown;
        lx->cap = cap;
    }
    token *t = &lx->toks[lx->n++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->loc = loc_at(lx, start);
    t->text = start;
    t->len = len;
    t->line_start = lx->line != lx->last_line;
    lx->last_line = lx->line;
    return t;
}

/* Lex a number starting at lx->p (a digit, or '.' followed by a digit). */
static void lex_number(lexer *lx)
{
    const char *s = lx->p, *q = s;
    bool is_float = false;
    while (isdigit((unsigned char)*q))
        q++;
    if (q[0] == '.' && isdigit((unsigned char)q[1])) {
        is_float = true;
        q++;
        while (isdigit((unsigned char)*q))
            q++;
    } else if (q[0] == '.' && q[1] != '.' && q > s) {
        diag_error(lx->d, loc_at(lx, q),
                   "'%.*s.' is not a number: a '.' in a number must be followed by a digit (write %.*s.0)",
                   (int)(q - s), s, (int)(q - s), s);
        push(lx, T_ERROR, s, (int)(q + 1 - s));
        lx->p = q + 1;
        return;
    }
    if (*q == 'e' || *q == 'E') {
        const char *e = q + 1;
        if (*e == '+' || *e == '-')
            e++;
        if (!isdigit((unsigned char)*e)) {
            diag_error(lx->d, loc_at(lx, s), "the exponent of '%.*s' has no digits",
                       (int)(e - s), s);
            push(lx, T_ERROR, s, (int)(e - s));
            lx->p = e;
            return;
        }
        while (isdigit((unsigned char)*e))
            e++;
        q = e;
        is_float = true;
    }
    int len = (int)(q - s);
    if (isalpha((unsigned char)*q) || *q == '_') {
        const char *r = q;
        while (isalnum((unsigned char)*r) || *r == '_')
            r++;
        diag_error(lx->d, loc_at(lx, s), "'%.*s' is not a number or a name", (int)(r - s), s);
        push(lx, T_ERROR, s, (int)(r - s));
        lx->p = r;
        return;
    }
    token *t = push(lx, is_float ? T_FLOAT : T_INT, s, len);
    lx->p = q;
    if (!t)
        return;
    char buf[128];
    if (len >= (int)sizeof buf) {
        diag_error(lx->d, t->loc, "number '%.20s...' is too long", s);
        t->kind = T_ERROR;
        return;
    }
    memcpy(buf, s, (size_t)len);
    buf[len] = 0;
    if (is_float) {
        errno = 0;
        float v = strtof(buf, NULL);
        if (isinf(v)) {
            diag_error(lx->d, t->loc, "float literal %s is out of range for f32", buf);
            t->kind = T_ERROR;
            return;
        }
        t->fval = v;
    } else {
        /* Saturate: anything above 2^31 is an error later anyway. */
        int64_t v = 0;
        for (int i = 0; i < len; i++) {
            v = v * 10 + (buf[i] - '0');
            if (v > ((int64_t)1 << 40))
                v = (int64_t)1 << 40;
        }
        t->ival = v;
    }
}

static void lex_word(lexer *lx)
{
    const char *s = lx->p, *q = s;
    while (isalnum((unsigned char)*q) || *q == '_')
        q++;
    int len = (int)(q - s);
    tok_kind kind = T_IDENT;
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if ((int)strlen(reserved[i].word) == len && memcmp(reserved[i].word, s, (size_t)len) == 0)
            kind = reserved[i].kind;
    push(lx, kind, s, len);
    lx->p = q;
}

static void lex_punct(lexer *lx)
{
    const char *s = lx->p;
    char c = s[0], n = s[1];
    tok_kind kind;
    int len = 1;
    switch (c) {
    case '+': kind = T_PLUS; break;
    case '-': kind = T_MINUS; break;
    case '*': kind = T_STAR; break;
    case '/': kind = T_SLASH; break;
    case '%': kind = T_PERCENT; break;
    case '<': if (n == '=') { kind = T_LE; len = 2; } else kind = T_LT; break;
    case '>': if (n == '=') { kind = T_GE; len = 2; } else kind = T_GT; break;
    case '=': if (n == '=') { kind = T_EQEQ; len = 2; } else kind = T_ASSIGN; break;
    case '!': if (n == '=') { kind = T_NE; len = 2; } else kind = T_BANG; break;
    case '?': kind = T_QUESTION; break;
    case ':': kind = T_COLON; break;
    case ',': kind = T_COMMA; break;
    case ';': kind = T_SEMI; break;
    case '(': kind = T_LPAREN; break;
    case ')': kind = T_RPAREN; break;
    case '[': kind = T_LBRACK; break;
    case ']': kind = T_RBRACK; break;
    case '{': kind = T_LBRACE; break;
    case '}': kind = T_RBRACE; break;
    case '&':
        if (n == '&') { kind = T_ANDAND; len = 2; break; }
        diag_error(lx->d, loc_at(lx, s), "unexpected character '&'; the logical and is '&&'");
        kind = T_ERROR;
        break;
    case '|':
        if (n == '|') { kind = T_OROR; len = 2; break; }
        diag_error(lx->d, loc_at(lx, s), "unexpected character '|'; the logical or is '||'");
        kind = T_ERROR;
        break;
    case '.':
        if (n == '.') { kind = T_DOTDOT; len = 2; break; }
        diag_error(lx->d, loc_at(lx, s), "unexpected character '.'; ranges are written 'lo .. hi'");
        kind = T_ERROR;
        break;
    default:
        if ((unsigned char)c >= 0x80) {
            /* One message for a whole UTF-8 sequence. */
            while (((unsigned char)s[len] & 0xc0) == 0x80)
                len++;
            diag_error(lx->d, loc_at(lx, s), "unexpected non-ASCII character '%.*s'; outside "
                       "comments a program is plain ASCII", len, s);
        } else if (isprint((unsigned char)c))
            diag_error(lx->d, loc_at(lx, s), "unexpected character '%c'", c);
        else
            diag_error(lx->d, loc_at(lx, s), "unexpected character (byte 0x%02x)", (unsigned char)c);
        kind = T_ERROR;
        break;
    }
    push(lx, kind, s, len);
    lx->p = s + len;
}

int pat_lex(const char *file, const char *src, arena *a, diag_list *d, token **out, int *n_out)
{
    lexer lx = {.file = file, .src = src, .p = src, .line = 1, .line_begin = src,
                .a = a, .d = d, .last_line = 0};
    while (!lx.oom) {
        char c = *lx.p;
        if (c == 0)
            break;
        if (c == '\n') {
            lx.p++;
            lx.line++;
            lx.line_begin = lx.p;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            lx.p++;
            continue;
        }
        if (c == '#') {
            while (*lx.p && *lx.p != '\n')
                lx.p++;
            continue;
        }
        if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)lx.p[1])))
            lex_number(&lx);
        else if (isalpha((unsigned char)c) || c == '_')
            lex_word(&lx);
        else
            lex_punct(&lx);
    }
    if (!lx.oom) {
        token *eof = push(&lx, T_EOF, lx.p, 0);
        /* "found end of file" points just past the last token, on a line
         * that has something to show, not at an empty last line. */
        if (eof && lx.n > 1) {
            const token *last = &lx.toks[lx.n - 2];
            eof->loc = last->loc;
            eof->loc.col += last->len;
        }
    }
    if (lx.oom)
        return -1;
    *out = lx.toks;
    *n_out = lx.n;
    return 0;
}

int pat_vec_push(ptr_vec *v, arena *a, void *item)
{
    if (v->n == v->cap) {
        int cap = v->cap ? 2 * v->cap : 8;
        void **grown = arena_calloc(a, (size_t)cap, sizeof *grown);
        if (!grown)
            return -1;
        if (v->n)
            memcpy(grown, v->items, (size_t)v->n * sizeof *grown);
        v->items = grown;
        v->cap = cap;
    }
    v->items[v->n++] = item;
    return 0;
}
