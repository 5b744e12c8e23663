/*
 * walfmt.c - the write-ahead log file: header, frame headers, checksums.
 *
 * A WAL file is a 32-byte header followed by zero or more frames, each a
 * 24-byte frame header and then one page image of the header's page size.
 *
 * WAL header (32 bytes, every field a big-endian u32)
 * ----------------------------------------------------
 *    0  magic: 0x377f0682 or 0x377f0683; the low bit selects the byte order in
 *       which checksums read the data: 1 big-endian, 0 little-endian (SQLite
 *       writes the writer's native order)
 *    4  file format version, 3007000
 *    8  database page size: a power of two in 512..65536, stored as is
 *   12  checkpoint sequence number
 *   16  salt-1, incremented at every WAL restart
 *   20  salt-2, a fresh random value at every WAL restart
 *   24  checksum-1 \  the checksum of bytes 0..23 of this header, starting
 *   28  checksum-2 /  from (0, 0)
 *
 * Frame header (24 bytes, every field a big-endian u32)
 * -----------------------------------------------------
 *    0  page number (never 0)
 *    4  for a commit frame, the database size in pages after the commit;
 *       0 for every other frame
 *    8  salt-1 \  copied from the WAL header; a frame whose salts differ is
 *   12  salt-2 /  left over from before a restart and is not part of the log
 *   16  checksum-1 \  the cumulative checksum: continuing from the previous
 *   20  checksum-2 /  frame's checksum (the header's for the first frame),
 *                     over bytes 0..7 of this frame header and then the page
 *
 * Checksum
 * --------
 * The data is read as 32-bit words x[0..] in the header's byte order and
 * consumed two at a time, all arithmetic modulo 2^32:
 *   s0 += x[i] + s1;  s1 += x[i+1] + s0;
 * The data length is therefore a multiple of 8 bytes.
 *
 * Validity rules
 * --------------
 * - Header: known magic, version 3007000, page size a power of two in
 *   512..65536, and a checksum that matches (fmt_walheader_decode).
 * - Frame: page number not 0, both salts equal to the header's, and a
 *   checksum that continues the chain correctly (fmt_walframe_verify). The
 *   log ends at the first frame that fails; a reader keeps frames up to the
 *   last valid commit frame before that point (the WAL layer's job).
 */
#include "format/format.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static_assert(FMT_WAL_HEADER_SIZE == 32, "the WAL header is 32 bytes");
static_assert(FMT_WAL_FRAME_HEADER_SIZE == 24, "a WAL frame header is 24 bytes");

static uint32_t get_u32_le(const uint8_t *p)
{
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

/*
 * The checksum is linear modulo 2^32. One step with the word pair (a, b) is
 * s' = M s + (a, a + b) with M = [[1, 1], [1, 2]], so over k pairs
 *     s_k = M^k s_0 + sum_i M^(k-1-i) (a_i, a_i + b_i),
 * that is a fixed 2x2 matrix applied to the starting sums plus, for each of
 * the two sums, a dot product of the data words with fixed coefficients.
 * The dot products have no chain of dependencies from one word to the next
 * (the step-by-step form has), so a page goes several times faster. The
 * coefficients depend only on the length: they are built once for each
 * page size met (a few kilobytes each) and kept.
 */
typedef struct lin_table {
    size_t n;       /* bytes covered */
    uint32_t m[4];  /* M^(n/8), row by row */
    uint32_t *c[2]; /* per data word: coefficient into s0, into s1 */
} lin_table;

#define LIN_SLOTS 8
static _Atomic(lin_table *) lin_tables[LIN_SLOTS];

static lin_table *lin_build(size_t n)
{
    size_t nw = n / 4, np = n / 8;
    lin_table *t = malloc(sizeof *t);
    uint32_t *c = malloc(sizeof *c * 2 * nw);
    if (!t || !c) {
        free(t);
        free(c);
        return NULL;
    }
    t->n = n;
    t->c[0] = c;
    t->c[1] = c + nw;
    /* P = M^(np-1-i) for pair i, from the last pair back to the first. */
    uint32_t p00 = 1, p01 = 0, p10 = 0, p11 = 1;
    for (size_t i = np; i-- > 0;) {
        t->c[0][2 * i] = p00 + p01;
        t->c[0][2 * i + 1] = p01;
        t->c[1][2 * i] = p10 + p11;
        t->c[1][2 * i + 1] = p11;
        uint32_t q00 = p00 + p01, q01 = p00 + 2 * p01, q10 = p10 + p11, q11 = p10 + 2 * p11;
        p00 = q00;
        p01 = q01;
        p10 = q10;
        p11 = q11;
    }
    t->m[0] = p00;
    t->m[1] = p01;
    t->m[2] = p10;
    t->m[3] = p11;
    return t;
}

/* The table for length n, built on first use (NULL if memory ran out). */
static const lin_table *lin_get(size_t n)
{
    for (int i = 0; i < LIN_SLOTS; i++) {
        lin_table *t = atomic_load_explicit(&lin_tables[i], memory_order_acquire);
        if (t && t->n == n)
            return t;
        if (t)
            continue;
        lin_table *mine = lin_build(n);
        if (!mine)
            return NULL;
        lin_table *expect = NULL;
        if (atomic_compare_exchange_strong_explicit(&lin_tables[i], &expect, mine,
                                                    memory_order_acq_rel, memory_order_acquire))
            return mine;
        free(mine->c[0]);
        free(mine);
        if (expect->n == n)
            return expect;
    }
    return NULL; /* more lengths than slots: the step-by-step form */
}

/* Vectorised dot products: 32-bit multiplies want SSE4.1 at least, so on
 * x86-64 an AVX2 version is chosen at load time where the CPU has it. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define LIN_VECTORIZE                                                                              \
    __attribute__((target_clones("avx2", "default"),                                               \
                   optimize("tree-vectorize", "vect-cost-model=dynamic")))
#else
#define LIN_VECTORIZE
#endif

LIN_VECTORIZE static void lin_dot(const uint32_t *c0, const uint32_t *c1, const uint8_t *p,
                                  size_t nw, int swap, uint32_t *out_a, uint32_t *out_b)
{
    uint32_t a = 0, b = 0;
    if (swap) {
        for (size_t k = 0; k < nw; k++) {
            uint32_t w;
            memcpy(&w, p + 4 * k, 4);
            w = __builtin_bswap32(w);
            a += c0[k] * w;
            b += c1[k] * w;
        }
    } else {
        for (size_t k = 0; k < nw; k++) {
            uint32_t w;
            memcpy(&w, p + 4 * k, 4);
            a += c0[k] * w;
            b += c1[k] * w;
        }
    }
    *out_a = a;
    *out_b = b;
}

static void lin_checksum(const lin_table *t, int big_endian, const uint8_t *p, uint32_t s[2])
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    int swap = !big_endian;
#else
    int swap = big_endian;
#endif
    uint32_t a, b;
    lin_dot(t->c[0], t->c[1], p, t->n / 4, swap, &a, &b);
    uint32_t s0 = s[0], s1 = s[1];
    s[0] = t->m[0] * s0 + t->m[1] * s1 + a;
    s[1] = t->m[2] * s0 + t->m[3] * s1 + b;
}

void fmt_wal_checksum(int big_endian, const uint8_t *p, size_t n, uint32_t s[2])
{
    if (n >= 512 && n % 8 == 0) {
        const lin_table *t = lin_get(n);
        if (t) {
            lin_checksum(t, big_endian, p, s);
            return;
        }
    }
    uint32_t s0 = s[0], s1 = s[1];
    assert(n % 8 == 0);
    /* A trailing partial pair is ignored rather than read past `n`. */
    for (size_t i = 0; i + 8 <= n; i += 8) {
        if (big_endian) {
            s0 += fmt_get_u32(p + i) + s1;
            s1 += fmt_get_u32(p + i + 4) + s0;
        } else {
            s0 += get_u32_le(p + i) + s1;
            s1 += get_u32_le(p + i + 4) + s0;
        }
    }
    s[0] = s0;
    s[1] = s1;
}

static int page_size_ok(uint32_t sz)
{
    return sz >= 512 && sz <= 65536 && (sz & (sz - 1)) == 0;
}

int fmt_walheader_decode(const uint8_t *p, fmt_walheader *out)
{
    uint32_t s[2] = {0, 0};
    out->magic = fmt_get_u32(p);
    out->version = fmt_get_u32(p + 4);
    out->page_size = fmt_get_u32(p + 8);
    out->ckpt_seq = fmt_get_u32(p + 12);
    out->salt1 = fmt_get_u32(p + 16);
    out->salt2 = fmt_get_u32(p + 20);
    out->cksum1 = fmt_get_u32(p + 24);
    out->cksum2 = fmt_get_u32(p + 28);
    if (out->magic != FMT_WAL_MAGIC_LE && out->magic != FMT_WAL_MAGIC_BE)
        return FMT_EBAD;
    if (out->version != FMT_WAL_VERSION || !page_size_ok(out->page_size))
        return FMT_EBAD;
    fmt_wal_checksum((int)(out->magic & 1), p, 24, s);
    if (s[0] != out->cksum1 || s[1] != out->cksum2)
        return FMT_EBAD;
    return 0;
}

void fmt_walheader_encode(uint8_t *p, fmt_walheader *h)
{
    uint32_t s[2] = {0, 0};
    fmt_put_u32(p, h->magic);
    fmt_put_u32(p + 4, h->version);
    fmt_put_u32(p + 8, h->page_size);
    fmt_put_u32(p + 12, h->ckpt_seq);
    fmt_put_u32(p + 16, h->salt1);
    fmt_put_u32(p + 20, h->salt2);
    fmt_wal_checksum((int)(h->magic & 1), p, 24, s);
    h->cksum1 = s[0];
    h->cksum2 = s[1];
    fmt_put_u32(p + 24, s[0]);
    fmt_put_u32(p + 28, s[1]);
}

void fmt_walframe_decode(const uint8_t *p, fmt_walframe *out)
{
    out->pgno = fmt_get_u32(p);
    out->db_size = fmt_get_u32(p + 4);
    out->salt1 = fmt_get_u32(p + 8);
    out->salt2 = fmt_get_u32(p + 12);
    out->cksum1 = fmt_get_u32(p + 16);
    out->cksum2 = fmt_get_u32(p + 20);
}

void fmt_walframe_encode(uint8_t *hdr, uint32_t pgno, uint32_t db_size, uint32_t salt1,
                         uint32_t salt2, int big_endian, const uint8_t *page, uint32_t page_size,
                         uint32_t s[2])
{
    fmt_put_u32(hdr, pgno);
    fmt_put_u32(hdr + 4, db_size);
    fmt_put_u32(hdr + 8, salt1);
    fmt_put_u32(hdr + 12, salt2);
    fmt_wal_checksum(big_endian, hdr, 8, s);
    fmt_wal_checksum(big_endian, page, page_size, s);
    fmt_put_u32(hdr + 16, s[0]);
    fmt_put_u32(hdr + 20, s[1]);
}

int fmt_walframe_verify(const uint8_t *hdr, const uint8_t *page, uint32_t page_size,
                        const fmt_walheader *wh, uint32_t s[2])
{
    uint32_t t[2] = {s[0], s[1]};
    int big_endian = (int)(wh->magic & 1);
    if (fmt_get_u32(hdr) == 0)
        return 0;
    if (fmt_get_u32(hdr + 8) != wh->salt1 || fmt_get_u32(hdr + 12) != wh->salt2)
        return 0;
    fmt_wal_checksum(big_endian, hdr, 8, t);
    fmt_wal_checksum(big_endian, page, page_size, t);
    if (t[0] != fmt_get_u32(hdr + 16) || t[1] != fmt_get_u32(hdr + 20))
        return 0;
    s[0] = t[0];
    s[1] = t[1];
    return 1;
}
