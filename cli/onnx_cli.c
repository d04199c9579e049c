/*
 * onnx_cli.c — the rdumap command's side of ONNX models: a program path
 * ending in .onnx is read and decomposed by patterns/onnx/ into the same
 * pattern IR a .pat program gives, and its inputs come from the model (its
 * constants) and from --data in ONNX's test layout or as NAME.npy.  The
 * rest of the pipeline does not know the difference.
 */
#include <string.h>

#include "cli/cli.h"
#include "patterns/pat_data.h"

const pat_program *cli_load_program(const cli_opts *o, arena *a, onnx_model *m, diag_list *d)
{
    memset(m, 0, sizeof *m);
    if (!onnx_is_model_path(o->program)) {
        if (o->emit_pat || o->emit_data || o->n_shapes) {
            diag_error(d, diag_at_file(o->program), "--emit-pat, --emit-data and --shape are for .onnx models");
            return NULL;
        }
        return pat_load_file(o->program, a, d);
    }
    int rc = onnx_load(o->program, o->shapes, o->n_shapes, o->data_dir, a, m, d);
    /* the text is written even when it does not check: it is what to look at */
    if (o->emit_pat && m->pat_text && onnx_write_pat(m, o->emit_pat, d) != 0)
        return NULL;
    if (rc != 0)
        return NULL;
    if (o->emit_data && onnx_write_consts(m, o->emit_data, d) != 0)
        return NULL;
    return m->prog;
}

int cli_load_inputs(const cli_opts *o, const pat_program *p, const onnx_model *m, pat_values *vals, diag_list *d)
{
    if (m->prog)
        return onnx_load_inputs(m, o->data_dir, o->gen_missing, o->seed, vals, d);
    return pat_load_inputs(p, o->data_dir, o->gen_missing, o->seed, vals, d);
}
