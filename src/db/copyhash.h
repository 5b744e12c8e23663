/*
 * copyhash.h - the 64-bit hash that backup.c and restore.c keep of every
 * byte they write to a new database file, and compare with the file read
 * back before they give it its name.
 *
 * Four 64-bit lanes, each taking every fourth 8-byte word: a multiply and
 * a rotation a word, so that hashing keeps up with copying. It guards
 * against bytes lost or changed between the copy and its file, not against
 * an adversary. Input comes in multiples of 32 bytes (pages are).
 */
#ifndef FOLIO_DB_COPYHASH_H
#define FOLIO_DB_COPYHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct bk_hash {
    uint64_t lane[4];
    uint64_t bytes;
} bk_hash;

#define HASH_K1 0x9e3779b97f4a7c15ull
#define HASH_K2 0xd6e8feb86659fd93ull

static inline uint64_t rotl64(uint64_t x, int r)
{
    return x << r | x >> (64 - r);
}

static inline void hash_init(bk_hash *h)
{
    for (int i = 0; i < 4; i++)
        h->lane[i] = HASH_K1 * (uint64_t)(2 * i + 1);
    h->bytes = 0;
}

static inline void hash_update(bk_hash *h, const uint8_t *p, size_t n)
{
    uint64_t a = h->lane[0], b = h->lane[1], c = h->lane[2], d = h->lane[3];
    for (size_t i = 0; i + 32 <= n; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, sizeof w);
        a = rotl64(a + w[0] * HASH_K2, 29) * HASH_K1;
        b = rotl64(b + w[1] * HASH_K2, 29) * HASH_K1;
        c = rotl64(c + w[2] * HASH_K2, 29) * HASH_K1;
        d = rotl64(d + w[3] * HASH_K2, 29) * HASH_K1;
    }
    h->lane[0] = a;
    h->lane[1] = b;
    h->lane[2] = c;
    h->lane[3] = d;
    h->bytes += n;
}

static inline uint64_t hash_final(const bk_hash *h)
{
    uint64_t x = h->bytes * HASH_K2;
    for (int i = 0; i < 4; i++)
        x = rotl64(x ^ h->lane[i], 23) * HASH_K1 + (uint64_t)i;
    x ^= x >> 31;
    x *= HASH_K2;
    return x ^ (x >> 29);
}

#endif
