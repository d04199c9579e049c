/*
 * trace.c — Chrome trace-event JSON (the format Perfetto and
 * chrome://tracing open) of a simulation: one track per unit with its
 * busy spans, a counter of DRAM bandwidth, and counters of FIFO
 * occupancy.
 *
 * Time is in cycles, written as microseconds of the trace (1 cycle = 1 us
 * on the trace's axis; the fabric's clock is in the metadata).  To keep a
 * trace of millions of cycles small, a unit's busy cycles separated by
 * fewer than 16 idle cycles are drawn as one span, DRAM bytes are summed
 * per window (the window of emu_result.dram_window_bytes), and a FIFO's
 * occupancy is sampled at most once per window.  At most 2,000,000 spans
 * are recorded; the metadata says when the limit cut the trace.
 */
#include "emu/emu_internal.h"
#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>

enum { TRACE_GAP = 16, TRACE_MAX_SPANS = 2000000 };

typedef struct trace_span_rec {
    int unit;
    int64_t t0, t1;
} trace_span_rec;

typedef struct trace_sample {
    int fifo;
    int64_t t;
    int occ;
} trace_sample;

struct emu_trace {
    int64_t *open0, *open1;   /* per context: the span being extended */
    trace_span_rec *span;
    int64_t n_span, cap_span;
    bool cut;
    int64_t *fifo_last;       /* per FIFO: time of its last sample */
    trace_sample *sample;
    int64_t n_sample, cap_sample;
};

int trace_begin(emu_sim *S)
{
    emu_trace *T = xcalloc(1, sizeof *T);
    if (!T)
        return -1;
    S->trace = T;
    T->open0 = xmalloc(((size_t)S->n_ctx + 1) * sizeof *T->open0);
    T->open1 = xmalloc(((size_t)S->n_ctx + 1) * sizeof *T->open1);
    T->fifo_last = xmalloc(((size_t)S->n_fifo + 1) * sizeof *T->fifo_last);
    if (!T->open0 || !T->open1 || !T->fifo_last)
        return -1;
    for (int c = 0; c < S->n_ctx; c++)
        T->open0[c] = T->open1[c] = -1;
    for (int q = 0; q < S->n_fifo; q++)
        T->fifo_last[q] = -1;
    return 0;
}

static void close_span(emu_sim *S, int c)
{
    emu_trace *T = S->trace;
    if (T->open0[c] < 0)
        return;
    if (T->n_span >= TRACE_MAX_SPANS) {
        T->cut = true;
    } else {
        if (T->n_span == T->cap_span) {
            int64_t cap = T->cap_span ? 2 * T->cap_span : 1024;
            trace_span_rec *grown = xrealloc(T->span, (size_t)cap * sizeof *grown);
            if (!grown) {
                T->cut = true;
                T->open0[c] = -1;
                return;
            }
            T->span = grown;
            T->cap_span = cap;
        }
        T->span[T->n_span++] = (trace_span_rec){S->ctx[c].unit, T->open0[c], T->open1[c]};
    }
    T->open0[c] = -1;
}

void trace_span(emu_sim *S, int c, int64_t t0, int64_t t1)
{
    emu_trace *T = S->trace;
    if (S->ctx[c].unit < 0)
        return;
    if (T->open0[c] >= 0 && t0 <= T->open1[c] + TRACE_GAP) {
        if (t1 > T->open1[c])
            T->open1[c] = t1;
        return;
    }
    close_span(S, c);
    T->open0[c] = t0;
    T->open1[c] = t1;
}

void trace_dram(emu_sim *S, int64_t t, int64_t bytes)
{
    (void)S;
    (void)t;
    (void)bytes;  /* summed per window in emu_result; written at the end */
}

void trace_fifo(emu_sim *S, int q)
{
    emu_trace *T = S->trace;
    int64_t w = S->res->dram_window;
    if (T->fifo_last[q] >= 0 && S->now - T->fifo_last[q] < w)
        return;
    T->fifo_last[q] = S->now;
    if (T->n_sample == T->cap_sample) {
        int64_t cap = T->cap_sample ? 2 * T->cap_sample : 1024;
        trace_sample *grown = xrealloc(T->sample, (size_t)cap * sizeof *grown);
        if (!grown)
            return;
        T->sample = grown;
        T->cap_sample = cap;
    }
    const emu_fifo *f = &S->fifo[q];
    T->sample[T->n_sample++] = (trace_sample){q, S->now, (int)(f->tail - f->head)};
}

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

int trace_end(emu_sim *S)
{
    emu_trace *T = S->trace;
    FILE *out = S->o.trace;
    const dfg *g = S->g;
    for (int c = 0; c < S->n_ctx; c++)
        close_span(S, c);
    fprintf(out, "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"fabric\":");
    json_str(out, S->f->name);
    fprintf(out, ",\"clock_mhz\":%d,\"time_unit\":\"1 us of the trace = 1 cycle\",\"cut\":%s},\n\"traceEvents\":[\n",
            S->f->clock_mhz, T->cut ? "true" : "false");
    fprintf(out, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"rdumap\"}}");
    for (int u = 0; u < g->n_units; u++) {
        char site[64] = "";
        if (S->o.site_row)
            snprintf(site, sizeof site, " @(%d,%d)", S->o.site_row[u], S->o.site_col[u]);
        fprintf(out, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"args\":{\"name\":", u);
        char name[512];
        snprintf(name, sizeof name, "%s %s%s", dfg_unit_kind_name(g->units[u].kind), g->units[u].name, site);
        json_str(out, name);
        fprintf(out, "}}");
    }
    for (int64_t k = 0; k < T->n_span; k++) {
        const trace_span_rec *sp = &T->span[k];
        fprintf(out, ",\n{\"name\":\"busy\",\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%lld,\"dur\":%lld}", sp->unit,
                (long long)sp->t0, (long long)(sp->t1 - sp->t0));
    }
    for (int w = 0; w < S->res->n_dram_windows; w++)
        fprintf(out, ",\n{\"name\":\"DRAM bytes/cycle\",\"ph\":\"C\",\"pid\":1,\"ts\":%lld,\"args\":{\"bw\":%.3f}}",
                (long long)((int64_t)w * S->res->dram_window),
                (double)S->res->dram_window_bytes[w] / (double)S->res->dram_window);
    for (int64_t k = 0; k < T->n_sample; k++) {
        const trace_sample *sa = &T->sample[k];
        const emu_fifo *f = &S->fifo[sa->fifo];
        int unit = f->cons >= 0 ? S->ctx[f->cons].unit : -1;
        fprintf(out, ",\n{\"name\":\"FIFO stream %d\",\"ph\":\"C\",\"pid\":1,\"tid\":%d,\"ts\":%lld,\"args\":{\"entries\":%d}}",
                f->stream, unit < 0 ? 0 : unit, (long long)sa->t, sa->occ);
    }
    fprintf(out, "\n]}\n");
    return ferror(out) ? -1 : 0;
}

void trace_free(emu_sim *S)
{
    emu_trace *T = S->trace;
    if (!T)
        return;
    free(T->open0);
    free(T->open1);
    free(T->span);
    free(T->fifo_last);
    free(T->sample);
    free(T);
    S->trace = NULL;
}
