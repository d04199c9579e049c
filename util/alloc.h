/*
 * alloc.h — the project's allocator, with SQLite-style fault injection.
 *
 * Every allocation in rdumap's own code goes through these wrappers so that
 * a test can make the Nth one fail and check that the run ends cleanly: a
 * message naming what ran out, the documented exit status, no crash, no
 * leak, no half-written file.  Unlike GNU's xmalloc, these never exit:
 * they return NULL, as malloc does, and the caller reports the failure.
 *
 * The fault is armed by alloc_fault_arm() or, for whole runs of the
 * command, by the environment variable RDUMAP_FAULT_ALLOC:
 *
 *     RDUMAP_FAULT_ALLOC=N    the Nth hooked allocation fails, later ones succeed
 *     RDUMAP_FAULT_ALLOC=N+   the Nth and every later one fails
 *
 * Every call counts, armed or not, so a run with the variable unset
 * reports (alloc_calls()) how many sites a test has to try.  The counters
 * are plain globals: rdumap is single-threaded.
 */
#ifndef RDUMAP_UTIL_ALLOC_H
#define RDUMAP_UTIL_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

void *xmalloc(size_t n);
/* count * size zeroed bytes, or NULL on overflow or when out of memory. */
void *xcalloc(size_t count, size_t size);
/* As realloc: on failure the old block is left untouched. */
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* n * size bytes for a growing array (realloc), or NULL on overflow. */
void *xreallocarray(void *p, size_t count, size_t size);

/* Make the nth hooked call from now fail (1 = the next one); when
 * persistent, every call after it fails too.  nth <= 0 disarms. */
void alloc_fault_arm(long nth, bool persistent);
/* Arm from RDUMAP_FAULT_ALLOC; -1 (and nothing armed) when it is set but
 * malformed, 0 otherwise. */
int alloc_fault_from_env(void);
/* Hooked calls so far, and the calls that returned NULL (injected or real). */
long alloc_calls(void);
long alloc_failures(void);
/* Forget the counts and disarm (for tests that run many cases). */
void alloc_reset(void);

#endif
