/*
 * net.c — streams between units: credited FIFOs over routed links.
 *
 * The model.  A stream is a static route: it owns a track on every link
 * of its path (PathFinder guarantees it), so it carries one entry — one
 * vector of `lanes` words, or one scalar word — per cycle, and its
 * entries arrive hops x hop_cycles after they leave the producer's
 * pipeline.  The consumer end holds fifo_depth entries; the producer has
 * that many credits, one per entry not yet popped, so a slow consumer
 * stalls its producer once the FIFO is full (back-pressure).  A credit
 * returns the cycle after the pop (assumption: credit return is not
 * delayed by the hops; stated in docs/emulator.md).
 *
 * Each entry carries a tag (the element offset of a DRAM or PMU transfer)
 * and a count of valid words, so a transfer that ends mid-vector is
 * exact.  Every word pushed is counted for the stream and, through the
 * route, for each link it crosses.
 */
#include "emu/emu_internal.h"
#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>

int fifo_init(emu_fifo *q, int stream, int width, int depth, int64_t hop_latency)
{
    memset(q, 0, sizeof *q);
    q->stream = stream;
    q->width = width;
    q->depth = depth;
    q->hop_latency = hop_latency;
    q->prod = q->cons = -1;
    q->buf = xcalloc((size_t)depth * (size_t)width, sizeof *q->buf);
    q->ready = xcalloc((size_t)depth, sizeof *q->ready);
    q->tag = xcalloc((size_t)depth, sizeof *q->tag);
    q->count = xcalloc((size_t)depth, sizeof *q->count);
    return q->buf && q->ready && q->tag && q->count ? 0 : -1;
}

void fifo_free(emu_fifo *q)
{
    free(q->buf);
    free(q->ready);
    free(q->tag);
    free(q->count);
    memset(q, 0, sizeof *q);
}

bool fifo_can_pop(const emu_fifo *q, int64_t now)
{
    return q->tail > q->head && q->ready[q->head % q->depth] <= now;
}

int64_t fifo_head_ready(const emu_fifo *q)
{
    return q->tail > q->head ? q->ready[q->head % q->depth] : -1;
}

bool fifo_can_push(const emu_fifo *q)
{
    return q->tail - q->head < q->depth;
}

const uint32_t *fifo_front(const emu_fifo *q, int64_t *tag, int *count)
{
    int64_t k = q->head % q->depth;
    if (tag)
        *tag = q->tag[k];
    if (count)
        *count = q->count[k];
    return q->buf + (size_t)k * (size_t)q->width;
}

void fifo_pop(emu_sim *S, int qi)
{
    emu_fifo *q = &S->fifo[qi];
    q->head++;
    if (q->prod >= 0)
        sim_wake(S, q->prod, S->now + 1);
}

uint32_t *fifo_push(emu_sim *S, int qi, int64_t ready, int64_t tag, int count)
{
    emu_fifo *q = &S->fifo[qi];
    int64_t k = q->tail % q->depth;
    int64_t at = ready + q->hop_latency;
    /* One entry per cycle on the track: entries stay in order. */
    if (q->tail > q->head) {
        int64_t prev = q->ready[(q->tail - 1) % q->depth];
        if (at <= prev)
            at = prev + 1;
    }
    q->ready[k] = at;
    q->tag[k] = tag;
    q->count[k] = count;
    q->tail++;
    int occ = (int)(q->tail - q->head);
    if (occ > q->max_occ)
        q->max_occ = occ;
    if (q->stream >= 0)
        S->res->stream_words[q->stream] += count;
    if (q->cons >= 0 && at < EMU_PENDING)
        sim_wake(S, q->cons, at > S->now + 1 ? at : S->now + 1);
    if (S->trace)
        trace_fifo(S, qi);
    return q->buf + (size_t)k * (size_t)q->width;
}
