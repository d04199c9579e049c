/*
 * onnx_internal.h — shared between the reader (onnx_read.c) and the
 * decomposition (onnx_ops.c).  Private to patterns/onnx/.
 *
 * Every ONNX value (a graph input, an initializer, a node output) is an
 * ox_value.  It has a static type and takes one of these forms:
 *  - a declaration of the program (input, buffer or output): indexed by name;
 *  - a view of another value (Transpose, Reshape, Squeeze, Slice, ...):
 *    reading it is index arithmetic on its base, no copy;
 *  - an inlined element-wise expression, when its one reader is element-wise:
 *    reading it evaluates the expression at that index (fusion in the text);
 *  - a known constant: its values are known when the model is read (shape
 *    computations, small constants), and a one-element constant reads as a
 *    literal.
 */
#ifndef RDUMAP_PATTERNS_ONNX_INTERNAL_H
#define RDUMAP_PATTERNS_ONNX_INTERNAL_H

#include "patterns/onnx/onnx.h"
#include "patterns/onnx/onnx.pb-c.h"

/* ONNX element types we read (TensorProto.DataType). */
enum {
    OX_FLOAT = 1, OX_UINT8 = 2, OX_INT8 = 3, OX_UINT16 = 4, OX_INT16 = 5, OX_INT32 = 6, OX_INT64 = 7,
    OX_STRING = 8, OX_BOOL = 9, OX_FLOAT16 = 10, OX_DOUBLE = 11,
};

typedef enum ox_form { OXF_NONE, OXF_DECL, OXF_VIEW, OXF_EXPR } ox_form;
/* PERM: base index [perm[k]] = index [k]; RESHAPE: the same elements in
 * row-major order; SLICE: start + step * index; BCAST: numpy broadcast of the
 * base (Expand); TILE: index modulo the base's size (Tile). */
typedef enum ox_view { OXV_PERM, OXV_RESHAPE, OXV_SLICE, OXV_BCAST, OXV_TILE } ox_view;

typedef struct ox_node ox_node;

typedef struct ox_value {
    const char *name;          /* ONNX name */
    const char *pat;           /* pat identifier, once declared */
    pat_type type;
    int dtype;                 /* ONNX element type (bool and int64 read as i32) */
    bool typed;                /* type known */
    ox_form form;
    bool declared;             /* a declaration was written */
    bool is_graph_output, is_init;
    int graph_input;           /* N of input_N.pb, or -1 */
    int uses;                  /* node inputs that read it */
    ox_node *reader;           /* the last reader */
    /* known values (compile-time constants): count elements */
    bool known;
    double *kv;
    /* view */
    struct ox_value *base;
    ox_view view;
    int perm[PAT_MAX_RANK];            /* OXV_PERM: base dim of each dim */
    int64_t start[PAT_MAX_RANK];       /* OXV_SLICE */
    int64_t step[PAT_MAX_RANK];
    /* inlined expression: the node that computes it */
    ox_node *expr;
    /* generator range for an i32 graph input used as indices */
    bool has_gen;
    int64_t gen_lo, gen_hi;
} ox_value;

struct ox_node {
    const Onnx__NodeProto *p;
    int pos;                   /* position in the graph */
    const char *op;
    int n_in, n_out;
    ox_value **in;             /* NULL for an omitted optional input */
    ox_value **out;
    int64_t opset;
};

/* The decomposition job. */
typedef struct ox_ctx {
    arena *a;
    diag_list *d;
    const char *path;
    const char *data_dir;      /* --data: graph inputs used as shapes are read from it */
    int64_t opset;
    int n_values, cap_values;
    ox_value **values;
    int n_nodes;
    ox_node *nodes;
    /* text being written */
    char *decls, *defs;
    size_t n_decls_text, cap_decls_text, n_defs_text, cap_defs_text;
    int fresh;                 /* counter of names within a definition */
    const char *const *expr_idx; /* expression mode: the index to generate at */
    const char *expr_out;        /* expression mode: the expression made */
    bool oom;
} ox_ctx;

/* onnx_read.c */
ox_value *ox_value_find(ox_ctx *c, const char *name);
/* A new value called name (in the arena, listed in c->values); NULL when out of memory. */
ox_value *ox_value_new(ox_ctx *c, const char *name);
/* A pat identifier for an ONNX name, unique among the values named so far. */
const char *ox_pat_name(ox_ctx *c, const char *name);
int ox_tensor_known(ox_ctx *c, const Onnx__TensorProto *t, ox_value *v, const char *what);
const char *ox_dtype_name(int dtype);
/* Make graph input v known from DATA_DIR/input_N.pb when it is there:
 * 0 done, 1 not available, -1 error. */
int ox_input_known(ox_ctx *c, ox_value *v);

/* onnx_ops.c: decompose every node in order and write the text. */
int ox_decompose(ox_ctx *c);
int ox_node_error(ox_ctx *c, const ox_node *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
