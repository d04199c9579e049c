/*
 * prng.c — xoshiro256** (Blackman and Vigna), seeded by splitmix64.
 */
#include "util/prng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void prng_seed(prng *p, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        p->s[i] = splitmix64(&x);
}

void prng_seed_stream(prng *p, uint64_t seed, const char *purpose)
{
    /* FNV-1a of the purpose, mixed into the seed. */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *c = (const unsigned char *)purpose; *c; c++) {
        h ^= *c;
        h *= 0x100000001b3ULL;
    }
    prng_seed(p, seed ^ h);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t prng_next(prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double prng_unit(prng *p)
{
    return (double)(prng_next(p) >> 11) * 0x1.0p-53;
}

uint64_t prng_below(prng *p, uint64_t n)
{
    /* Lemire's rejection method would need 128-bit products; plain
     * rejection sampling on the top bits is portable and unbiased. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do
        r = prng_next(p);
    while (r >= limit);
    return r % n;
}
