/*
 * suggest.c — nearest-word search for diagnostics (see suggest.h).
 *
 * Words here are identifiers and keys, a few dozen bytes at most; longer
 * ones are never close to anything and are skipped, which keeps the
 * dynamic-programming rows on the stack.
 */
#include "util/suggest.h"

#include <string.h>

enum { SUGGEST_MAX_LEN = 64 };

static int min3(int a, int b, int c)
{
    int m = a < b ? a : b;
    return m < c ? m : c;
}

int suggest_distance(const char *a, size_t na, const char *b, size_t nb, int limit)
{
    if (na > SUGGEST_MAX_LEN || nb > SUGGEST_MAX_LEN)
        return limit + 1;
    int diff = na > nb ? (int)(na - nb) : (int)(nb - na);
    if (diff > limit)
        return limit + 1;
    int prev2[SUGGEST_MAX_LEN + 1], prev[SUGGEST_MAX_LEN + 1], cur[SUGGEST_MAX_LEN + 1];
    for (size_t j = 0; j <= nb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = (int)i;
        int row_min = cur[0];
        for (size_t j = 1; j <= nb; j++) {
            int cost = a[i - 1] != b[j - 1];
            cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < cur[j])
                cur[j] = prev2[j - 2] + 1;
            if (cur[j] < row_min)
                row_min = cur[j];
        }
        if (row_min > limit)
            return limit + 1;
        memcpy(prev2, prev, (nb + 1) * sizeof *prev);
        memcpy(prev, cur, (nb + 1) * sizeof *cur);
    }
    return prev[nb];
}

void suggest_init(suggest *s, const char *word, size_t len)
{
    s->word = word;
    s->len = len;
    s->best = NULL;
    s->best_dist = 0;
}

void suggest_offer(suggest *s, const char *candidate)
{
    if (!candidate)
        return;
    size_t n = strlen(candidate);
    if (n == s->len && memcmp(candidate, s->word, n) == 0)
        return;
    size_t longer = n > s->len ? n : s->len, shorter = n < s->len ? n : s->len;
    int limit = (int)(longer / 3) > 1 ? (int)(longer / 3) : 1;
    /* Fewer edits than the shorter word has letters: 'q' is not a typo
     * of 't', nor 'yy' of 'y'. */
    if (limit >= (int)shorter)
        limit = (int)shorter - 1;
    if (s->best && s->best_dist - 1 < limit)
        limit = s->best_dist - 1;
    if (limit < 1 && s->best)
        return;
    int dist = suggest_distance(s->word, s->len, candidate, n, limit);
    if (dist <= limit) {
        s->best = candidate;
        s->best_dist = dist;
    }
}

const char *suggest_best(const suggest *s)
{
    return s->best;
}
