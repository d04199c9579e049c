/*
 * fuzz_onnx.c — libFuzzer target for the ONNX reader and decomposition
 * (onnx_load), built only with -Dfuzz=true and clang; seed it with
 * the models of examples/onnx and of the backend suite.  The reader takes a
 * path, so each input is written to a per-process file first.  A model
 * that loads is also interpreted on generated inputs.  Any crash,
 * sanitizer report or leak is a bug; a refused model must leave an error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "patterns/onnx/onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/rdumap-fuzz-onnx.%ld.onnx", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    arena a;
    arena_init(&a);
    diag_list d;
    diag_init(&d);
    onnx_model m;
    int rc = onnx_load(path, NULL, 0, NULL, &a, &m, &d);
    if ((rc == 0) != (d.n_errors == 0))
        abort();
    if (rc == 0) {
        pat_values v = {0};
        /* small models only: the generator fills every input */
        int64_t total = 0;
        for (int k = 0; k < m.prog->n_decls; k++)
            total += m.prog->decls[k]->kind == PAT_CONST ? 0 : pat_type_count(&m.prog->decls[k]->type);
        if (total < (1 << 20) && pat_values_init(&v, m.prog) == 0 && onnx_load_inputs(&m, NULL, false, 1, &v, &d) == 0)
            pat_interpret(m.prog, &v, &d);
        pat_values_free(&v);
    }
    onnx_model_free(&m);
    diag_free(&d);
    arena_destroy(&a);
    return 0;
}
