/*
 * diag.c — collecting and printing diagnostics.
 *
 * Messages are formatted once, when added, into heap strings owned by the
 * list.  Out of memory while reporting is reported as a fixed message rather
 * than lost: a diagnostic must never be the thing that crashes.
 */
#include "util/diag.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

/* Longest piece of a source line quoted under a diagnostic. */
enum { DIAG_QUOTE_MAX = 120 };

static char oom_msg[] = "out of memory while reporting a diagnostic";

void diag_init(diag_list *d)
{
    memset(d, 0, sizeof *d);
    d->max_errors = DIAG_MAX_ERRORS;
}

void diag_free(diag_list *d)
{
    for (int i = 0; i < d->n; i++) {
        if (d->items[i].msg != oom_msg)
            free(d->items[i].msg);
        free((char *)d->items[i].loc.file);
    }
    free(d->items);
    for (int i = 0; i < d->n_sources; i++) {
        free(d->sources[i].file);
        free(d->sources[i].text);
    }
    free(d->sources);
    int max = d->max_errors;
    memset(d, 0, sizeof *d);
    d->max_errors = max;
}

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = xmalloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

void diag_add_source(diag_list *d, const char *file, const char *text)
{
    diag_source *grown = xrealloc(d->sources, (size_t)(d->n_sources + 1) * sizeof *grown);
    if (!grown)
        return;
    d->sources = grown;
    diag_source *s = &d->sources[d->n_sources];
    s->file = dup_string(file);
    s->text = dup_string(text);
    if (!s->file || !s->text) {
        free(s->file);
        free(s->text);
        return;
    }
    d->n_sources++;
}

int diag_vadd(diag_list *d, diag_severity sev, diag_loc loc, const char *fmt, va_list ap)
{
    if (sev == DIAG_ERROR) {
        d->n_errors++;
        if (d->n_errors > d->max_errors) {
            d->dropped++;
            return -1;
        }
    }
    if (d->n == d->cap) {
        int cap = d->cap ? 2 * d->cap : 8;
        diag *grown = xrealloc(d->items, (size_t)cap * sizeof *grown);
        if (!grown)
            return -1;
        d->items = grown;
        d->cap = cap;
    }
    va_list copy;
    va_copy(copy, ap);
    int len = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    char *msg = len >= 0 ? xmalloc((size_t)len + 1) : NULL;
    if (msg)
        vsnprintf(msg, (size_t)len + 1, fmt, ap);
    else
        msg = oom_msg;
    d->items[d->n].sev = sev;
    d->items[d->n].loc = loc;
    /* The list keeps its own copy of the file name: a diagnostic must
     * outlive the arena or buffer the name came from. */
    d->items[d->n].loc.file = loc.file ? dup_string(loc.file) : NULL;
    d->items[d->n].msg = msg;
    d->n++;
    return -1;
}

int diag_error(diag_list *d, diag_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, DIAG_ERROR, loc, fmt, ap);
    va_end(ap);
    return -1;
}

int diag_warning(diag_list *d, diag_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, DIAG_WARNING, loc, fmt, ap);
    va_end(ap);
    return -1;
}

int diag_note(diag_list *d, diag_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, DIAG_NOTE, loc, fmt, ap);
    va_end(ap);
    return -1;
}

int diag_io_error(diag_list *d, diag_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, DIAG_ERROR, loc, fmt, ap);
    va_end(ap);
    d->n_io_errors++;
    return -1;
}

bool diag_has_errors(const diag_list *d)
{
    return d->n_errors > 0;
}

bool diag_full(const diag_list *d)
{
    return d->n_errors >= d->max_errors;
}

/* Find line `line` (from 1) of the registered text of `file`; set *len. */
static const char *source_line(const diag_list *d, const char *file, int line, size_t *len)
{
    if (!file || line <= 0)
        return NULL;
    for (int i = d->n_sources - 1; i >= 0; i--) {
        if (strcmp(d->sources[i].file, file) != 0)
            continue;
        const char *p = d->sources[i].text;
        for (int l = 1; l < line; l++) {
            p = strchr(p, '\n');
            if (!p)
                return NULL;
            p++;
        }
        const char *e = p;
        while (*e && *e != '\n' && *e != '\r')
            e++;
        *len = (size_t)(e - p);
        return p;
    }
    return NULL;
}

static const char *sev_name(diag_severity s)
{
    switch (s) {
    case DIAG_ERROR: return "error";
    case DIAG_WARNING: return "warning";
    case DIAG_NOTE: return "note";
    }
    return "error";
}

void diag_print(FILE *out, const diag_list *d)
{
    for (int i = 0; i < d->n; i++) {
        const diag *g = &d->items[i];
        const char *file = g->loc.file ? g->loc.file : "rdumap";
        if (g->loc.line > 0 && g->loc.col > 0)
            fprintf(out, "%s:%d:%d: %s: %s\n", file, g->loc.line, g->loc.col, sev_name(g->sev), g->msg);
        else if (g->loc.line > 0)
            fprintf(out, "%s:%d: %s: %s\n", file, g->loc.line, sev_name(g->sev), g->msg);
        else
            fprintf(out, "%s: %s: %s\n", file, sev_name(g->sev), g->msg);
        size_t len = 0;
        const char *text = source_line(d, g->loc.file, g->loc.line, &len);
        if (!text)
            continue;
        /* A long line is quoted only around the caret, marked "...". */
        size_t col = g->loc.col > 0 ? (size_t)g->loc.col - 1 : 0;
        size_t from = 0, to = len;
        if (len > DIAG_QUOTE_MAX) {
            from = col > DIAG_QUOTE_MAX / 2 ? col - DIAG_QUOTE_MAX / 2 : 0;
            to = from + DIAG_QUOTE_MAX < len ? from + DIAG_QUOTE_MAX : len;
            if (to == len)
                from = len - DIAG_QUOTE_MAX;
        }
        const char *pre = from > 0 ? "..." : "";
        fprintf(out, "    %s%.*s%s\n", pre, (int)(to - from), text + from, to < len ? "..." : "");
        if (g->loc.col <= 0)
            continue;
        fprintf(out, "    %s", from > 0 ? "   " : "");
        /* Keep tabs so the caret lines up with the quoted line. */
        for (size_t c = from; c < col && c < to; c++)
            fputc(text[c] == '\t' ? '\t' : ' ', out);
        fputs("^\n", out);
    }
    if (d->dropped > 0)
        fprintf(out, "rdumap: note: %d more error%s not shown\n", d->dropped, d->dropped == 1 ? "" : "s");
}
