/*
 * arena.h — one pool of memory per job.
 *
 * The IR, the dataflow graph and every table built from them come from an
 * arena and are released together by arena_destroy(), as in QBE: no pass has
 * to track the lifetime of the nodes it creates.  Allocation failure is
 * reported by a NULL return, never by exiting.
 */
#ifndef RDUMAP_UTIL_ARENA_H
#define RDUMAP_UTIL_ARENA_H

#include <stddef.h>

typedef struct arena_chunk arena_chunk;

typedef struct arena {
    arena_chunk *head;   /* newest chunk; older ones are linked behind it */
    size_t chunk_size;   /* default size of a new chunk, in bytes */
    size_t total;        /* bytes handed out so far, for statistics */
} arena;

/* Prepare an empty arena; it allocates nothing until first used. */
void arena_init(arena *a);

/* Release every block the arena ever handed out. The arena can be reused. */
void arena_destroy(arena *a);

/* Return n zeroed bytes aligned for any object, or NULL when out of memory. */
void *arena_alloc(arena *a, size_t n);

/* Return a zeroed array of count elements of size bytes, or NULL on overflow
 * or when out of memory. */
void *arena_calloc(arena *a, size_t count, size_t size);

/* Copy the string s (or its first n bytes) into the arena; NULL when out of memory. */
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);

/* printf into the arena. */
char *arena_printf(arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
