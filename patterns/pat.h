/*
 * pat.h — the face of patterns/: the typed pattern IR of a `.pat` program,
 * its front end (lex, parse, check), its reference interpreter, and the
 * tensors both exchange with the rest of rdumap.
 *
 * The IR is what the checker leaves behind: every name resolved to a
 * declaration or a variable, every `const` folded to an integer, every
 * expression typed with its element type and its full (static) shape.
 * Later stages (the lowering in mapper/, the interpreter here) read it and
 * never change it.  All of it lives in the arena passed to pat_load_*.
 *
 * The language is the contract in shared/spec/pat-language.md; grep
 * "ORDER PAT_BIN" when changing the binary operators.
 */
#ifndef RDUMAP_PATTERNS_PAT_H
#define RDUMAP_PATTERNS_PAT_H

#include <float.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/arena.h"
#include "util/diag.h"

/* Deepest shape a value may have; the checker reports deeper ones. */
enum { PAT_MAX_RANK = 8 };

typedef enum pat_elem { PAT_F32, PAT_I32 } pat_elem;

/* An element type and a static shape; rank 0 is a scalar. */
typedef struct pat_type {
    pat_elem elem;
    int rank;
    int32_t dims[PAT_MAX_RANK];
} pat_type;

/* Number of elements of a value of type t (1 for a scalar); INT64_MAX when
 * the product does not fit in int64 (the checker refuses more than 2^31 - 1). */
int64_t pat_type_count(const pat_type *t);
bool pat_type_equal(const pat_type *a, const pat_type *b);
/* "f32[4][8]" into buf; returns buf. */
char *pat_type_str(const pat_type *t, char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* Declarations                                                        */

typedef enum pat_decl_kind { PAT_CONST, PAT_INPUT, PAT_OUTPUT, PAT_BUFFER } pat_decl_kind;

typedef struct pat_def pat_def;

typedef struct pat_decl {
    pat_decl_kind kind;
    const char *name;
    diag_loc loc;          /* of the name in the declaration */
    pat_type type;         /* const: scalar i32 */
    int64_t value;         /* const: its folded value */
    bool has_gen;          /* input: `in LO .. HI [sorted]` was given */
    int64_t gen_lo, gen_hi;
    bool gen_sorted;
    int id;                /* position in pat_program.decls */
    pat_def *def;          /* output/buffer: its one definition */
} pat_decl;

/* ------------------------------------------------------------------ */
/* Variables: index variables of patterns and `let` bindings.          */

typedef struct pat_var {
    const char *name;
    diag_loc loc;
    pat_type type;         /* index: scalar i32; let: the bound value's type */
    bool is_index;
    int slot;              /* unique within its definition: 0 .. def->n_slots-1 */
} pat_var;

/* ------------------------------------------------------------------ */
/* Expressions                                                         */

typedef enum pat_expr_kind {
    PAT_E_INT,      /* integer literal or folded const: ival */
    PAT_E_FLOAT,    /* float literal: fval */
    PAT_E_TENSOR,   /* a declared input/output/buffer as a whole value: decl */
    PAT_E_VAR,      /* an index variable or a let binding: var */
    PAT_E_ACCESS,   /* access.base indexed by access.idx[0 .. n-1]; n == base rank */
    PAT_E_UNARY,    /* unary.op applied to unary.arg */
    PAT_E_BINARY,   /* binary.op on binary.lhs, binary.rhs (&& || short-circuit) */
    PAT_E_SELECT,   /* select.cond ? select.then : select.els (only one side runs) */
    PAT_E_CALL,     /* call.fn on call.args[0 .. call.n-1] */
    PAT_E_BLOCK,    /* block.lets evaluated in order, then block.result */
    PAT_E_MAP,      /* pattern: map */
    PAT_E_REDUCE,   /* pattern: reduce */
    PAT_E_GROUPBY,  /* pattern: groupby */
} pat_expr_kind;

typedef enum pat_unop { PAT_NEG, PAT_NOT } pat_unop;

/* ORDER PAT_BIN: keep in step with the lexer's token table and pat_binop_str. */
typedef enum pat_binop {
    PAT_ADD, PAT_SUB, PAT_MUL, PAT_DIV, PAT_MOD,
    PAT_LT, PAT_LE, PAT_GT, PAT_GE, PAT_EQ, PAT_NE,
    PAT_AND, PAT_OR,
} pat_binop;

typedef enum pat_fn {
    PAT_FN_EXP, PAT_FN_LOG, PAT_FN_SQRT, PAT_FN_TANH, PAT_FN_ABS,
    PAT_FN_MAX, PAT_FN_MIN, PAT_FN_F32, PAT_FN_I32,
} pat_fn;

typedef enum pat_redop { PAT_RED_ADD, PAT_RED_MUL, PAT_RED_MAX, PAT_RED_MIN } pat_redop;

typedef struct pat_expr pat_expr;

/* One index of a pattern: `i: N` (static, runs 0..extent-1) or
 * `j: lo .. hi` (dynamic: lo inclusive, hi exclusive; reduce and groupby only). */
typedef struct pat_index {
    pat_var *var;
    int32_t extent;        /* static extent; 0 when dynamic */
    pat_expr *lo, *hi;     /* dynamic bounds (i32 scalars); NULL when static */
} pat_index;

typedef struct pat_pattern {
    int n_idx;
    pat_index *idx;
    pat_redop op;          /* reduce, groupby */
    pat_expr *where;       /* reduce, groupby: guard, or NULL */
    pat_expr *key;         /* groupby: slot expression (i32 scalar) */
    int32_t groups;        /* groupby: number of slots G */
    pat_expr *body;        /* the block */
} pat_pattern;

struct pat_expr {
    pat_expr_kind kind;
    pat_type type;         /* element type and full shape of the value */
    diag_loc loc;          /* where the caret goes for this expression */
    union {
        int32_t ival;
        float fval;
        const pat_decl *decl;
        pat_var *var;
        struct { pat_expr *base; int n; pat_expr **idx; } access;
        struct { pat_unop op; pat_expr *arg; } unary;
        struct { pat_binop op; pat_expr *lhs, *rhs; } binary;
        struct { pat_expr *cond, *then, *els; } select;
        struct { pat_fn fn; int n; pat_expr *args[2]; } call;
        struct { int n; pat_var **vars; pat_expr **values; pat_expr *result; } block;
        pat_pattern pat;   /* map, reduce, groupby */
    } u;
};

/* ------------------------------------------------------------------ */
/* Programs                                                            */

struct pat_def {
    pat_decl *target;      /* the output or buffer defined */
    pat_expr *value;
    diag_loc loc;          /* of the target name at the definition */
    int n_slots;           /* variables (indices and lets) in this definition */
    int index;             /* position in pat_program.defs: the order of execution */
};

typedef struct pat_program {
    const char *file;      /* the name used in diagnostics */
    int n_decls;
    pat_decl **decls;      /* in source order; decl->id is the position */
    int n_defs;
    pat_def **defs;        /* in source order: the order in which they run */
} pat_program;

/* Parse and check the program in `path` (or the text `text`, named `name`).
 * The source is registered with `d` so errors quote it.  Returns the checked
 * program, or NULL with every error found (up to d->max_errors) in `d`. */
pat_program *pat_load_file(const char *path, arena *a, diag_list *d);
pat_program *pat_load_string(const char *name, const char *text, arena *a, diag_list *d);

/* The declaration called `name`, or NULL. */
pat_decl *pat_find_decl(const pat_program *p, const char *name);

/* Write the typed IR as readable text (`--dump-ir`). */
void pat_dump(FILE *out, const pat_program *p);

const char *pat_binop_str(pat_binop op);
const char *pat_fn_str(pat_fn fn);
const char *pat_redop_str(pat_redop op);
const char *pat_elem_str(pat_elem e);

/* ------------------------------------------------------------------ */
/* Tensors: the values exchanged between data files, the generator,    */
/* the interpreter and the emulator.                                   */

typedef struct pat_tensor {
    pat_type type;
    int64_t count;         /* elements */
    union { float *f; int32_t *i; void *p; } data;  /* malloc'd, row-major */
} pat_tensor;

/* Allocate a zeroed tensor of type t; -1 when out of memory. */
int pat_tensor_alloc(pat_tensor *t, const pat_type *type);
void pat_tensor_free(pat_tensor *t);

/* A table of tensors, one per declaration (indexed by decl->id); entries
 * of constants stay empty. */
typedef struct pat_values {
    int n;
    pat_tensor *t;
} pat_values;

int pat_values_init(pat_values *v, const pat_program *p);
void pat_values_free(pat_values *v);

/* ------------------------------------------------------------------ */
/* The reference interpreter                                           */

/* Run every definition in order, filling the tensors of outputs and
 * buffers in `vals` (inputs must already be filled).  A run-time error (an
 * index out of bounds, a groupby key out of range, an i32 division by zero)
 * is reported with the definition's name, the source position and the
 * offending values, and -1 is returned; the caller must then write nothing. */
int pat_interpret(const pat_program *p, pat_values *vals, diag_list *d);

/* Iterations the reference may run unless --max-work says otherwise:
 * about ten seconds of interpretation (docs/reference.md). */
#define PAT_DEFAULT_MAX_WORK INT64_C(10000000000)
/* The tensor data a program may hold when it is interpreted or simulated
 * (pat_check_work): 4 GiB, held twice (reference and simulator). */
#define PAT_MAX_DATA_BYTES (INT64_C(4) << 30)

typedef struct pat_interp_opts {
    int64_t max_work;      /* iterations allowed in all; <= 0: PAT_DEFAULT_MAX_WORK */
    bool one_at_a_time;    /* no blocked inner loops (to test that blocks change nothing) */
} pat_interp_opts;

/* The reordering bound R of every element (spec §6): how far any order of
 * the reductions it depends on can move it in binary32.  By decl id; NULL
 * for a tensor whose bounds are all 0 (inputs, and with --reference, an
 * output without a bound file).  R is +inf where no bound holds (a guard,
 * select, index or i32 that depends on a reordered sum, or a sum that can
 * overflow in some order); for an i32 element R is 0 or +inf. */
typedef struct pat_bounds {
    int n;
    double **r;
} pat_bounds;

/* The bound of a reduction that can overflow to inf in some order and not
 * in another (its terms reach FLT_MAX): no finite bound, told apart from
 * +inf so that a report can say "overflow".  Any operation on it gives +inf. */
#define PAT_BOUND_OVERFLOW DBL_MAX

void pat_bounds_free(pat_bounds *b);

/* Static work of p: inputs, outputs and buffers (elements) plus the body
 * evaluations of every pattern whose ranges are static (a dynamic range is
 * counted as it runs).  Saturates at INT64_MAX. */
int64_t pat_static_work(const pat_program *p);

/* Refuse (-1, with the count and the definition that dominates it) a
 * program whose static work exceeds max_work (<= 0: the default). */
int pat_check_work(const pat_program *p, int64_t max_work, diag_list *d);

/* pat_interpret with options, filling *rb (when not NULL) with the bound
 * of every output and buffer element.  A dynamic range that would take
 * the work past max_work stops the run with a run-time error. */
int pat_interpret_opts(const pat_program *p, pat_values *vals, const pat_interp_opts *o,
                       pat_bounds *rb, diag_list *d);

#endif
