/*
 * onnx.h — the face of patterns/onnx/: read an ONNX model and decompose
 * its operators into the typed pattern IR that `.pat` programs produce.
 *
 * onnx_load() reads the protobuf, infers every static shape, writes each
 * node as a parallel-pattern template in `.pat` source (pattern text is the
 * decomposition's one representation: the same text is what --emit-pat
 * writes) and checks it with the `.pat` front end, so the interpreter, the
 * lowering, the mapping and the emulator see an ordinary pat_program.
 *
 * The model's constants (initializers and Constant nodes used as data)
 * become inputs whose values come from the model; the graph's other inputs
 * come from --data (ONNX's input_N.pb, or NAME.npy) or the generator; the
 * graph's outputs are the program's outputs, in graph order.
 *
 * Anything the decomposition does not support (an operator, an opset
 * version, an attribute value, an element type, a symbolic shape) is an
 * error naming the node, its operator and its position in the graph.
 */
#ifndef RDUMAP_PATTERNS_ONNX_H
#define RDUMAP_PATTERNS_ONNX_H

#include <stdbool.h>
#include <stdint.h>

#include "patterns/pat.h"
#include "util/arena.h"
#include "util/diag.h"

/* The opsets of the default domain that the decomposition implements. */
enum { ONNX_OPSET_MIN = 1, ONNX_OPSET_MAX = 17 };

typedef struct onnx_model {
    pat_program *prog;         /* the decomposed program (in the arena) */
    const char *pat_text;      /* its .pat source (in the arena) */
    const char *path;          /* the .onnx file */
    int64_t opset;             /* version of the default domain */
    /* Model constants: inputs of prog whose values come from the model. */
    int n_consts;
    const char **const_decl;   /* pat names */
    pat_tensor *const_val;     /* malloc'd data, freed by onnx_model_free */
    /* The graph's inputs that are not initializers, in graph order (the
     * N of input_N.pb): their pat names, NULL for an input no node reads. */
    int n_inputs;
    const char **input_decl;
    const char **input_onnx;   /* their ONNX names */
    /* The graph's outputs in graph order (the N of output_N.pb). */
    int n_outputs;
    const char **output_decl;
    const char **output_onnx;
} onnx_model;

/* Read and decompose the model in `path`.  `shapes` holds n_shapes
 * arguments of --shape, each NAME=DIMS: NAME a graph input (DIMS its whole
 * shape, as 1,3,8,8 or 1x3x8x8) or a symbolic dimension (DIMS one number).
 * A graph input that the model uses as a shape, axes or bounds (ONNX's
 * tests feed Reshape's shape so) must be known when the model is read:
 * it is read from data_dir/input_N.pb when data_dir is given, and is then
 * no input of the program.  Fills m (its IR and text in `a`); on error
 * returns -1 with diagnostics. */
int onnx_load(const char *path, const char *const *shapes, int n_shapes, const char *data_dir, arena *a,
              onnx_model *m, diag_list *d);
void onnx_model_free(onnx_model *m);

/* True when path names an ONNX model (ends in .onnx). */
bool onnx_is_model_path(const char *path);

/* Fill every input of m->prog in vals: model constants from the model; the
 * N-th graph input from DIR/input_N.pb (a TensorProto, ONNX's test layout)
 * or DIR/NAME.npy, or the generator when no DIR is given (or the file is
 * missing and gen_missing is set). */
int onnx_load_inputs(const onnx_model *m, const char *data_dir, bool gen_missing, uint64_t seed,
                     pat_values *vals, diag_list *d);

/* Read a serialized TensorProto (input_N.pb, output_N.pb) as a tensor of
 * type `want`: the shape must match; int64 and bool become i32 (an int64
 * value outside i32 is an error). */
int onnx_read_tensor_file(const char *path, const pat_type *want, pat_tensor *out, diag_list *d);

/* Write m->pat_text to path (whole or not at all). */
int onnx_write_pat(const onnx_model *m, const char *path, diag_list *d);

/* Write each model constant as DIR/NAME.npy, so that the --emit-pat program
 * can be run with --data DIR --gen-missing (or with the graph inputs added). */
int onnx_write_consts(const onnx_model *m, const char *dir, diag_list *d);

#endif
