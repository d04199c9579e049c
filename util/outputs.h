/*
 * outputs.h — every output file of a run, written all together or not at all.
 *
 * A run's files (the .npy outputs, the JSON report, the SVG picture, the
 * DOT dump, the trace) join one set.  outputs_add() hands out a stream on a
 * fresh temporary next to the target; outputs_commit() checks that every
 * stream was written and synced, then renames all of them into place, or,
 * at the first failure, puts back what it had replaced and removes the
 * rest: after a failed run no target has changed.  Every failure names the
 * target file and the reason the system gave (strerror).
 *
 * A target that exists and is not a regular file (a terminal, a pipe,
 * /dev/null, /dev/full) cannot be renamed over: its bytes are kept in
 * memory and written to it at commit time, after every temporary has been
 * written and before any rename, so that a failure there still changes no
 * regular file.  A directory as target is refused.
 */
#ifndef RDUMAP_UTIL_OUTPUTS_H
#define RDUMAP_UTIL_OUTPUTS_H

#include <stdbool.h>
#include <stdio.h>

#include "util/diag.h"

typedef struct outputs_file outputs_file;

typedef struct outputs {
    outputs_file *file;
    int n, cap;
    char **dirs;   /* directories created by outputs_mkdir, removed on abort */
    int n_dirs;
    bool failed;   /* an add failed: commit will refuse */
} outputs;

void outputs_begin(outputs *o);

/* A stream to write the contents of `path` to, or NULL with a diagnostic
 * naming path (the set is then marked failed).  Adding a path already in
 * the set discards what was written for it before.  The stream belongs to
 * the set: do not close it. */
FILE *outputs_add(outputs *o, const char *path, diag_list *d);

/* Make sure directory `dir` exists: create it when its parent does (it is
 * removed again if the set is aborted).  0, or -1 with a diagnostic. */
int outputs_mkdir(outputs *o, const char *dir, diag_list *d);

/* Put every file in place, or none; 0, or -1 with a diagnostic naming the
 * file that failed.  The set is empty afterwards, in both cases. */
int outputs_commit(outputs *o, diag_list *d);

/* Drop every file of the set: temporaries removed, targets untouched. */
void outputs_abort(outputs *o);

#endif
