/*
 * fuzz_npy.c — libFuzzer target for the .npy reader (pat_npy_read), built
 * only with -Dfuzz=true and clang.  The reader takes a path, so each input
 * is written to a per-process file first; the declaration alternates
 * between a 2 × 3 f32 matrix and an i32 scalar so that both the shape and
 * the dtype checks are reached.  Any crash, sanitizer report or leak is a
 * bug; a rejected file must leave exactly one error and no tensor.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patterns/pat_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/rdumap-fuzz-npy.%ld.npy", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    pat_decl decl;
    memset(&decl, 0, sizeof decl);
    decl.kind = PAT_INPUT;
    decl.name = "x";
    bool matrix = size % 2 == 0;
    decl.type.elem = matrix ? PAT_F32 : PAT_I32;
    decl.type.rank = matrix ? 2 : 0;
    decl.type.dims[0] = 2;
    decl.type.dims[1] = 3;
    diag_list d;
    diag_init(&d);
    pat_tensor t;
    int rc = pat_npy_read(path, &decl, &t, &d);
    if ((rc == 0) != (d.n_errors == 0) || (rc != 0 && (t.data.p || d.n_errors != 1)))
        abort();
    pat_tensor_free(&t);
    diag_free(&d);
    return 0;
}
