/*
 * pat_data.h — getting tensors in and out: the deterministic generator and
 * NumPy `.npy` files (format versions 1.0 to 3.0, little-endian <f4 / <i4,
 * C order).
 *
 * Nothing is half-written: outputs are written to temporary files in the
 * target directory and renamed into place only when every one of them has
 * been written.
 */
#ifndef RDUMAP_PATTERNS_PAT_DATA_H
#define RDUMAP_PATTERNS_PAT_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "patterns/pat.h"
#include "util/diag.h"
#include "util/outputs.h"

/* Fill `out` (allocated here) for input `decl` from the built-in generator:
 * uniform in [gen_lo, gen_hi), or sorted from gen_lo to gen_hi, or the
 * defaults of the contract.  Deterministic in (seed, decl->name). */
int pat_generate(const pat_decl *decl, uint64_t seed, pat_tensor *out, diag_list *d);

/* Read `path` into `out` (allocated here), checking that dtype, order and
 * shape match `decl`'s type.  Errors name the file and what was expected. */
int pat_npy_read(const char *path, const pat_decl *decl, pat_tensor *out, diag_list *d);

/* Write `t` to `path` as .npy version 1.0 (header padded to 64 bytes, as
 * numpy writes it), through a temporary in the same directory renamed into
 * place: an existing file is replaced whole or not at all. */
int pat_npy_write(const char *path, const pat_tensor *t, diag_list *d);

/* Fill every input of `p` in `vals`: from DIR/NAME.npy when data_dir is
 * given (a missing file is an error unless gen_missing), else generated. */
int pat_load_inputs(const pat_program *p, const char *data_dir, bool gen_missing,
                    uint64_t seed, pat_values *vals, diag_list *d);

/* Add every output of `p` to the set `o` as DIR/NAME.npy (see
 * util/outputs.h: nothing is in place before outputs_commit).  DIR is
 * created when its parent exists.  0, or -1 with a diagnostic. */
int pat_add_outputs(outputs *o, const pat_program *p, const char *dir, const pat_values *vals,
                    diag_list *d);

/* The same as a set of its own, committed at once: all or nothing. */
int pat_write_outputs(const pat_program *p, const char *dir, const pat_values *vals,
                      diag_list *d);

#endif
