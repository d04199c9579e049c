/*
 * suggest.h — "did you mean ...?": the nearest known word to a misspelled one.
 *
 * The distance is the optimal-string-alignment edit distance (insertions,
 * deletions, substitutions and swaps of two neighbours each count 1).  A
 * candidate is close enough when the distance is at most a third of the
 * longer word's length (at least 1) and less than the shorter one's, so
 * 'reduse' suggests 'reduce' and 'Nmu' 'Num', but 'q' suggests no 't'.  Ties go to the earliest candidate, so suggestions are
 * deterministic.
 */
#ifndef RDUMAP_UTIL_SUGGEST_H
#define RDUMAP_UTIL_SUGGEST_H

#include <stddef.h>

typedef struct suggest {
    const char *word;   /* the misspelled word */
    size_t len;
    const char *best;   /* nearest candidate so far, or NULL */
    int best_dist;
} suggest;

/* Start looking for the nearest to the first len bytes of word. */
void suggest_init(suggest *s, const char *word, size_t len);
/* Consider one candidate (the word itself is never suggested). */
void suggest_offer(suggest *s, const char *candidate);
/* The nearest close-enough candidate, or NULL. */
const char *suggest_best(const suggest *s);

/* Edit distance of a and b (lengths na, nb), or a value > limit when it
 * exceeds limit (the computation stops early). */
int suggest_distance(const char *a, size_t na, const char *b, size_t nb, int limit);

#endif
