/*
 * diag.h — diagnostics: collected by library code, printed only by main.
 *
 * Every stage reports problems by appending to a diag_list and returning an
 * error value; nothing below cli/ prints or exits.  A diagnostic with a
 * source position is printed as
 *
 *     FILE:LINE:COL: error: MESSAGE
 *         the offending source line
 *              ^
 *
 * as the language contract asks; one without a column drops the caret, one
 * without a line prints "FILE: error: MESSAGE".  Sources are registered with
 * diag_add_source() so the printer can show the line.
 */
#ifndef RDUMAP_UTIL_DIAG_H
#define RDUMAP_UTIL_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

/* A place in a source file. line and col count from 1; 0 means "unknown". */
typedef struct diag_loc {
    const char *file;  /* when added to a list, the list keeps its own copy */
    int line;
    int col;
} diag_loc;

typedef enum diag_severity { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } diag_severity;

typedef struct diag {
    diag_severity sev;
    diag_loc loc;
    char *msg;  /* owned by the list */
} diag;

typedef struct diag_source {
    char *file;  /* owned copy of the name */
    char *text;  /* owned copy of the whole text */
} diag_source;

typedef struct diag_list {
    diag *items;
    int n, cap;
    int n_errors;
    int max_errors;         /* errors kept; later ones only counted (default 20) */
    int dropped;            /* errors past max_errors */
    int n_io_errors;        /* of n_errors, those about a file that cannot be opened,
                               read or written (exit status 4, not 1) */
    diag_source *sources;
    int n_sources;
} diag_list;

/* The language contract reports "up to 20" errors in one run. */
enum { DIAG_MAX_ERRORS = 20 };

void diag_init(diag_list *d);
void diag_free(diag_list *d);

/* Register a copy of a source text so that printed errors can quote it. */
void diag_add_source(diag_list *d, const char *file, const char *text);

/* Append a diagnostic. Both return -1 so that callers can write
 * `return diag_error(...)`. */
int diag_error(diag_list *d, diag_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int diag_warning(diag_list *d, diag_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int diag_note(diag_list *d, diag_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int diag_vadd(diag_list *d, diag_severity sev, diag_loc loc, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* An error about a file that cannot be opened, read or written: counted
 * apart, since the command exits 4 (usage or I/O) for it, not 1. */
int diag_io_error(diag_list *d, diag_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

bool diag_has_errors(const diag_list *d);

/* True once max_errors errors have been recorded: passes may stop early. */
bool diag_full(const diag_list *d);

/* Print every diagnostic, with source line and caret where known. */
void diag_print(FILE *out, const diag_list *d);

/* A location with no position: only the file (or program) name. */
static inline diag_loc diag_at_file(const char *file)
{
    diag_loc l = {file, 0, 0};
    return l;
}

#endif
