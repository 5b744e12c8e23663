/*
 * compat_seed.c - the seeds and random numbers of compat.h, in a file of
 * their own so that tests built without the library (tests/expr/test_date.c)
 * can use them too.
 */
#include "compat.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- Seeds ----------------------------------------------------------------- */

#define COMPAT_DEFAULT_SEED 0xc0a7c0a7ull

static uint64_t g_seed = COMPAT_DEFAULT_SEED;
static int g_seeded;

uint64_t compat_seed(uint64_t fallback)
{
    const char *e = getenv("FOLIO_SEED");
    uint64_t seed = fallback;
    if (e && strcmp(e, "random") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed =
            (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
    } else if (e && *e) {
        seed = strtoull(e, NULL, 0);
    }
    fprintf(stderr, "seed=%" PRIu64 "\n", seed);
    g_seed = seed;
    g_seeded = 1;
    return seed;
}

uint64_t compat_current_seed(void)
{
    if (!g_seeded)
        compat_seed(COMPAT_DEFAULT_SEED);
    return g_seed;
}

uint64_t compat_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t compat_below(uint64_t *state, uint64_t n)
{
    return n ? compat_rand(state) % n : 0;
}
