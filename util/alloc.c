/*
 * alloc.c — malloc wrappers that count calls and fail on demand.
 *
 * The fault model is SQLite's: one counter of calls, one armed call number;
 * a one-shot fault checks that the code recovers and does not carry on as
 * if nothing happened, a persistent one that it stops.  A real NULL from
 * the C library is counted as a failure just as an injected one is, so the
 * command can tell "out of memory" apart from every other error.
 */
#include "util/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static long n_calls;      /* hooked calls so far */
static long n_failures;   /* calls that returned NULL */
static long fail_at;      /* call number that fails; 0: none */
static bool fail_after;   /* every call from fail_at on fails */

/* Count the call; true when it must fail. */
static bool inject(void)
{
    n_calls++;
    if (fail_at > 0 && (n_calls == fail_at || (fail_after && n_calls > fail_at))) {
        n_failures++;
        return true;
    }
    return false;
}

static void *counted(void *p)
{
    if (!p)
        n_failures++;
    return p;
}

void *xmalloc(size_t n)
{
    if (inject())
        return NULL;
    return counted(malloc(n ? n : 1));
}

void *xcalloc(size_t count, size_t size)
{
    if (inject())
        return NULL;
    if (size != 0 && count > SIZE_MAX / size) {
        n_failures++;
        return NULL;
    }
    return counted(calloc(count ? count : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t n)
{
    if (inject())
        return NULL;
    return counted(realloc(p, n ? n : 1));
}

void *xreallocarray(void *p, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size) {
        n_calls++;
        n_failures++;
        return NULL;
    }
    return xrealloc(p, count * size);
}

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = xmalloc(len + 1);
    if (!d)
        return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, SIZE_MAX);
}

void alloc_fault_arm(long nth, bool persistent)
{
    fail_at = nth > 0 ? n_calls + nth : 0;
    fail_after = persistent;
}

int alloc_fault_from_env(void)
{
    const char *v = getenv("RDUMAP_FAULT_ALLOC");
    if (!v || !*v)
        return 0;
    char *end;
    long n = strtol(v, &end, 10);
    bool persistent = *end == '+';
    if (persistent)
        end++;
    if (*end || n <= 0)
        return -1;
    alloc_fault_arm(n, persistent);
    return 0;
}

long alloc_calls(void) { return n_calls; }
long alloc_failures(void) { return n_failures; }

void alloc_reset(void)
{
    n_calls = n_failures = fail_at = 0;
    fail_after = false;
}
