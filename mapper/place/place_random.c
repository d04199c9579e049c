/*
 * place_random.c — a uniformly random legal placement: the baseline every
 * other strategy is measured against.
 *
 * For each kind, a Fisher-Yates shuffle of that kind's sites; the units of
 * the kind take the shuffled sites in unit order.  Every injective map of
 * units to compatible sites is equally likely, and equal seeds give equal
 * placements (util/prng.h).
 */
#include "mapper/place/place_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/prng.h"
#include "util/alloc.h"

int place_random_run(const place_ctx *c, const place_opts *o, int *site)
{
    const place_problem *p = c->p;
    prng g;
    prng_seed_stream(&g, o->seed, "place-random");
    for (int k = 0; k < PLACE_N_KINDS; k++) {
        int n = c->n_kind_site[k];
        int *perm = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *perm);
        if (!perm)
            return -1;
        memcpy(perm, c->kind_site[k], (size_t)n * sizeof *perm);
        int next = 0;
        for (int u = 0; u < p->n_units; u++) {
            if ((int)p->kind[u] != k)
                continue;
            /* Draw position `next` from the not yet drawn tail. */
            int j = next + (int)prng_below(&g, (uint64_t)(n - next));
            int t = perm[next];
            perm[next] = perm[j];
            perm[j] = t;
            site[u] = perm[next++];
        }
        free(perm);
    }
    return 0;
}
