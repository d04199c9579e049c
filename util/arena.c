/*
 * arena.c — a chunked bump allocator.
 *
 * Each chunk is a malloc'd header followed by its payload; requests larger
 * than the default chunk get a chunk of their own so that nothing is wasted
 * on huge tensors' metadata.
 */
#include "util/arena.h"
#include "util/alloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
    arena_chunk *next;
    size_t size;  /* payload bytes */
    size_t used;  /* payload bytes handed out */
    max_align_t payload[];
};

enum { ARENA_DEFAULT_CHUNK = 64 * 1024 };

void arena_init(arena *a)
{
    a->head = NULL;
    a->chunk_size = ARENA_DEFAULT_CHUNK;
    a->total = 0;
}

void arena_destroy(arena *a)
{
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}

void *arena_alloc(arena *a, size_t n)
{
    const size_t align = _Alignof(max_align_t);
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX - align)
        return NULL;
    n = (n + align - 1) & ~(align - 1);
    arena_chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > a->chunk_size ? n : a->chunk_size;
        if (size > SIZE_MAX - sizeof(arena_chunk))
            return NULL;
        arena_chunk *fresh = xmalloc(sizeof(arena_chunk) + size);
        if (!fresh)
            return NULL;
        fresh->size = size;
        fresh->used = 0;
        if (c && size > a->chunk_size) {
            /* A big one-off block: keep the current chunk at the head so
             * that its free space is still used by later small requests. */
            fresh->next = c->next;
            c->next = fresh;
        } else {
            fresh->next = c;
            a->head = fresh;
        }
        c = fresh;
    }
    void *p = (char *)c->payload + c->used;
    c->used += n;
    a->total += n;
    memset(p, 0, n);
    return p;
}

void *arena_calloc(arena *a, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    return arena_alloc(a, count * size);
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *arena_strdup(arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *d = arena_alloc(a, (size_t)n + 1);
    if (!d)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}
