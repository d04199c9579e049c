/*
 * oom.c — out of memory and unreachable files, as the command reports them.
 *
 * Every allocation of rdumap's own code goes through util/alloc.h; so do
 * jansson's and libxml2's, pointed there at start-up, so that the fault
 * injection reaches them too (igraph, GLPK and cgraph have no allocator
 * hook).  At the end of a run, any failed allocation, injected or real,
 * makes the run end with exit status 4 and a message saying that memory ran
 * out, whatever stage noticed it and however it recovered: a result that
 * depends on memory pressure is no result.  A file that cannot be opened,
 * read or written is status 4 as well.
 */
#include "cli/cli.h"

#include <jansson.h>
#include <libxml/xmlmemory.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

static void *json_alloc(size_t n)
{
    return xmalloc(n);
}

int cli_alloc_init(void)
{
    json_set_alloc_funcs(json_alloc, free);
    xmlMemSetup(free, xmalloc, xrealloc, xstrdup);
    return alloc_fault_from_env();
}

/* True when some diagnostic already says that memory ran out. */
static bool says_oom(const diag_list *d)
{
    for (int k = 0; k < d->n; k++)
        if (strstr(d->items[k].msg, "out of memory"))
            return true;
    return false;
}

int cli_final_status(int status, diag_list *d)
{
    if (getenv("RDUMAP_ALLOC_STATS"))
        fprintf(stderr, "rdumap: note: %ld allocations, %ld failed\n", alloc_calls(), alloc_failures());
    if (alloc_failures() > 0) {
        if (!says_oom(d))
            diag_error(d, diag_at_file(NULL), "out of memory (an allocation of the run failed)");
        /* With no memory left even the diagnostic may be lost: say it
         * without allocating. */
        if (!says_oom(d))
            fputs("rdumap: error: out of memory\n", stderr);
        return EXIT_USAGE;
    }
    if (status != EXIT_OK && d->n_io_errors > 0)
        return EXIT_USAGE;
    return status;
}
