/*
 * prng.h — the project's one pseudo-random generator.
 *
 * xoshiro256** seeded through splitmix64: fast, well studied, and identical
 * on every platform, so that `--seed` fixes data, placements and reports.
 * Never use rand(): its sequence differs between C libraries.
 */
#ifndef RDUMAP_UTIL_PRNG_H
#define RDUMAP_UTIL_PRNG_H

#include <stdint.h>

typedef struct prng {
    uint64_t s[4];
} prng;

/* Seed the generator; equal seeds give equal sequences. */
void prng_seed(prng *p, uint64_t seed);

/* Derive an independent stream for a named purpose (e.g. one input tensor),
 * so that adding an input does not change the data of the others. */
void prng_seed_stream(prng *p, uint64_t seed, const char *purpose);

uint64_t prng_next(prng *p);

/* Uniform double in [0, 1), 53 bits. */
double prng_unit(prng *p);

/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint64_t prng_below(prng *p, uint64_t n);

#endif
