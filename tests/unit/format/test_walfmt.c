/*
 * test_walfmt.c - WAL header, frame headers and the cumulative checksum: a
 * reference checksum written here from the spec, both byte orders, every
 * rejection, WAL files written by SQLite decoded and re-encoded byte for
 * byte, and WAL files we write (in either byte order) recovered by SQLite.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "format/format.h"

#include <criterion/criterion.h>

#include "format_util.h"
#include <dirent.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static uint64_t test_seed(void)
{
    const char *e = getenv("FOLIO_SEED");
    uint64_t seed = e && *e ? strtoull(e, NULL, 0) : 0x5eed0004ull;
    fprintf(stderr, "seed=%" PRIu64 "\n", seed);
    return seed;
}

/* The checksum as the spec states it, one 32-bit word at a time, with the
 * byte order spelled out per byte rather than through any codec helper. */
static void ref_checksum(int big_endian, const uint8_t *p, size_t n, uint32_t s[2])
{
    uint32_t s0 = s[0], s1 = s[1];
    for (size_t i = 0; i < n; i += 8) {
        uint32_t x[2];
        for (int k = 0; k < 2; k++) {
            const uint8_t *b = p + i + 4 * k;
            if (big_endian)
                x[k] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
            else
                x[k] = (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
        }
        s0 = s0 + x[0] + s1;
        s1 = s1 + x[1] + s0;
    }
    s[0] = s0;
    s[1] = s1;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static fmt_walheader sample_walheader(uint32_t magic, uint32_t page_size)
{
    fmt_walheader h;
    memset(&h, 0, sizeof h);
    h.magic = magic;
    h.version = FMT_WAL_VERSION;
    h.page_size = page_size;
    h.ckpt_seq = 0x01020304;
    h.salt1 = 0xa5a5a5a5;
    h.salt2 = 0x12345678;
    return h;
}

/* ---- checksum ----------------------------------------------------------- */

Test(format_walfmt, checksum_known_small_vectors)
{
    const uint8_t be[16] = {0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4};
    const uint8_t le[16] = {1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0};
    uint32_t s[2] = {0, 0};
    /* s0 = 0 + 1 + 0 = 1, s1 = 0 + 2 + 1 = 3; then s0 = 1 + 3 + 3 = 7,
     * s1 = 3 + 4 + 7 = 14. */
    fmt_wal_checksum(1, be, 8, s);
    cr_assert(s[0] == 1 && s[1] == 3);
    fmt_wal_checksum(1, be + 8, 8, s);
    cr_assert(s[0] == 7 && s[1] == 14);
    s[0] = s[1] = 0;
    fmt_wal_checksum(0, le, 16, s);
    cr_assert(s[0] == 7 && s[1] == 14, "little-endian words: %u %u", s[0], s[1]);
    /* The same bytes read in the other order are other words. */
    s[0] = s[1] = 0;
    fmt_wal_checksum(0, be, 16, s);
    cr_assert(s[0] == 7u << 24 && s[1] == 14u << 24, "%08x %08x", s[0], s[1]);
    /* Arithmetic wraps modulo 2^32. */
    const uint8_t ones[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    s[0] = s[1] = 1;
    fmt_wal_checksum(1, ones, 8, s);
    cr_assert(s[0] == 1 && s[1] == 1, "%08x %08x", s[0], s[1]);
    /* No data: no change. */
    s[0] = 5;
    s[1] = 6;
    fmt_wal_checksum(1, ones, 0, s);
    cr_assert(s[0] == 5 && s[1] == 6);
}

Test(format_walfmt, checksum_matches_reference_both_orders)
{
    uint64_t seed = test_seed();
    uint8_t *buf = malloc(65536);
    cr_assert_not_null(buf);
    for (int iter = 0; iter < 400; iter++) {
        size_t n = 8 * (size_t)(fu_splitmix(&seed) % (65536 / 8 + 1));
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)fu_splitmix(&seed);
        for (int be = 0; be <= 1; be++) {
            uint32_t a[2] = {(uint32_t)fu_splitmix(&seed), (uint32_t)fu_splitmix(&seed)};
            uint32_t b[2] = {a[0], a[1]};
            fmt_wal_checksum(be, buf, n, a);
            ref_checksum(be, buf, n, b);
            cr_assert(a[0] == b[0] && a[1] == b[1], "n=%zu order=%d", n, be);
        }
    }
    free(buf);
}

Test(format_walfmt, checksum_is_cumulative)
{
    uint8_t buf[4096];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 37 + 11);
    for (int be = 0; be <= 1; be++) {
        for (size_t cut = 0; cut <= sizeof buf; cut += 8) {
            uint32_t whole[2] = {0, 0}, parts[2] = {0, 0};
            fmt_wal_checksum(be, buf, sizeof buf, whole);
            fmt_wal_checksum(be, buf, cut, parts);
            fmt_wal_checksum(be, buf + cut, sizeof buf - cut, parts);
            cr_assert(whole[0] == parts[0] && whole[1] == parts[1], "cut at %zu", cut);
        }
    }
}

/* ---- WAL header --------------------------------------------------------- */

Test(format_walfmt, header_round_trip_both_orders)
{
    static const uint32_t magics[2] = {FMT_WAL_MAGIC_LE, FMT_WAL_MAGIC_BE};
    uint32_t cks[2][2];
    for (int k = 0; k < 2; k++) {
        for (uint32_t ps = 512; ps <= 65536; ps *= 2) {
            fmt_walheader h = sample_walheader(magics[k], ps), back;
            uint8_t p[33];
            p[32] = 0xee;
            fmt_walheader_encode(p, &h);
            cr_assert_eq(p[32], 0xee, "writes 32 bytes only");
            cr_assert_eq(be32(p), magics[k]);
            cr_assert_eq(be32(p + 4), 3007000);
            cr_assert_eq(be32(p + 8), ps, "page size stored as is, 65536 included");
            cr_assert_eq(be32(p + 12), h.ckpt_seq);
            cr_assert_eq(be32(p + 16), h.salt1);
            cr_assert_eq(be32(p + 20), h.salt2);
            uint32_t s[2] = {0, 0};
            ref_checksum(k, p, 24, s);
            cr_assert(h.cksum1 == s[0] && h.cksum2 == s[1], "encode fills the checksum");
            cr_assert(be32(p + 24) == s[0] && be32(p + 28) == s[1]);
            cr_assert_eq(fmt_walheader_decode(p, &back), 0);
            cr_assert_eq(back.magic, h.magic);
            cr_assert_eq(back.version, h.version);
            cr_assert_eq(back.page_size, h.page_size);
            cr_assert_eq(back.ckpt_seq, h.ckpt_seq);
            cr_assert_eq(back.salt1, h.salt1);
            cr_assert_eq(back.salt2, h.salt2);
            cr_assert_eq(back.cksum1, h.cksum1);
            cr_assert_eq(back.cksum2, h.cksum2);
            if (ps == 4096) {
                cks[k][0] = s[0];
                cks[k][1] = s[1];
            }
        }
    }
    cr_assert(cks[0][0] != cks[1][0] || cks[0][1] != cks[1][1],
              "the byte order changes the checksum");
}

Test(format_walfmt, header_rejections)
{
    fmt_walheader h, back;
    uint8_t p[32];
    /* Magic numbers other than the two. */
    static const uint32_t bad_magic[] = {0, 0x377f0681, 0x377f0684, 0x377f0782, 0x82067f37};
    for (size_t i = 0; i < sizeof bad_magic / sizeof bad_magic[0]; i++) {
        h = sample_walheader(bad_magic[i], 4096);
        fmt_walheader_encode(p, &h); /* checksum valid for the bytes */
        cr_assert_eq(fmt_walheader_decode(p, &back), FMT_EBAD, "magic %08x", bad_magic[i]);
    }
    /* Versions other than 3007000. */
    static const uint32_t bad_version[] = {0, 3007001, 3006999, 3040001};
    for (size_t i = 0; i < sizeof bad_version / sizeof bad_version[0]; i++) {
        h = sample_walheader(FMT_WAL_MAGIC_LE, 4096);
        h.version = bad_version[i];
        fmt_walheader_encode(p, &h);
        cr_assert_eq(fmt_walheader_decode(p, &back), FMT_EBAD, "version %u", bad_version[i]);
    }
    /* Page sizes: powers of two in 512..65536 only. */
    static const struct {
        uint32_t ps;
        int ok;
    } t[] = {{512, 1}, {1024, 1}, {65536, 1}, {0, 0},          {1, 0},
             {256, 0}, {1000, 0}, {4097, 0},  {131072, 0},     {0x80000000u, 0},
             {513, 0}, {6144, 0}, {65535, 0}, {0xffffffffu, 0}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        h = sample_walheader(FMT_WAL_MAGIC_BE, t[i].ps);
        fmt_walheader_encode(p, &h);
        cr_assert_eq(fmt_walheader_decode(p, &back) == 0, t[i].ok, "page size %u", t[i].ps);
    }
    /* Any flipped bit breaks the header (magic, version, page size, or the
     * checksum over them). */
    h = sample_walheader(FMT_WAL_MAGIC_LE, 4096);
    fmt_walheader_encode(p, &h);
    for (int byte = 0; byte < 32; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            p[byte] ^= (uint8_t)(1u << bit);
            cr_assert_eq(fmt_walheader_decode(p, &back), FMT_EBAD, "byte %d bit %d", byte, bit);
            p[byte] ^= (uint8_t)(1u << bit);
        }
    }
    cr_assert_eq(fmt_walheader_decode(p, &back), 0);
    /* A checksum computed in the wrong byte order is a bad checksum. */
    uint32_t s[2] = {0, 0};
    ref_checksum(1, p, 24, s);
    fmt_put_u32(p + 24, s[0]);
    fmt_put_u32(p + 28, s[1]);
    cr_assert_eq(fmt_walheader_decode(p, &back), FMT_EBAD);
}

/* ---- frames ------------------------------------------------------------- */

static void fill_page(uint8_t *page, uint32_t n, uint32_t tag)
{
    for (uint32_t i = 0; i < n; i++)
        page[i] = (uint8_t)(i * 13 + tag * 101 + (i >> 9));
}

Test(format_walfmt, frame_encode_matches_reference)
{
    static const uint32_t magics[2] = {FMT_WAL_MAGIC_LE, FMT_WAL_MAGIC_BE};
    for (int k = 0; k < 2; k++) {
        for (uint32_t ps = 512; ps <= 65536; ps *= 4) {
            fmt_walheader wh = sample_walheader(magics[k], ps);
            uint8_t whb[32], hdr[25];
            uint8_t *page = malloc(ps);
            cr_assert_not_null(page);
            fill_page(page, ps, 1);
            fmt_walheader_encode(whb, &wh);
            uint32_t s[2] = {wh.cksum1, wh.cksum2};
            uint32_t r[2] = {wh.cksum1, wh.cksum2};
            hdr[24] = 0xee;
            fmt_walframe_encode(hdr, 7, 0, wh.salt1, wh.salt2, k, page, ps, s);
            cr_assert_eq(hdr[24], 0xee, "writes 24 bytes only");
            /* Reference: continue from the header's checksum over the first
             * 8 bytes of the frame header, then the page. */
            ref_checksum(k, hdr, 8, r);
            ref_checksum(k, page, ps, r);
            cr_assert(s[0] == r[0] && s[1] == r[1], "running checksum updated");
            fmt_walframe f;
            fmt_walframe_decode(hdr, &f);
            cr_assert_eq(f.pgno, 7);
            cr_assert_eq(f.db_size, 0);
            cr_assert_eq(f.salt1, wh.salt1);
            cr_assert_eq(f.salt2, wh.salt2);
            cr_assert_eq(f.cksum1, r[0]);
            cr_assert_eq(f.cksum2, r[1]);
            cr_assert_eq(be32(hdr), 7);
            cr_assert_eq(be32(hdr + 16), r[0]);
            cr_assert_eq(be32(hdr + 20), r[1]);
            free(page);
        }
    }
}

Test(format_walfmt, frame_chain_verifies_in_order)
{
    enum { PS = 1024, N = 6 };
    static const uint32_t magics[2] = {FMT_WAL_MAGIC_LE, FMT_WAL_MAGIC_BE};
    for (int k = 0; k < 2; k++) {
        fmt_walheader wh = sample_walheader(magics[k], PS);
        uint8_t whb[32], hdr[N][24], page[N][PS];
        uint32_t after[N][2];
        fmt_walheader_encode(whb, &wh);
        uint32_t s[2] = {wh.cksum1, wh.cksum2};
        for (int i = 0; i < N; i++) {
            fill_page(page[i], PS, (uint32_t)i + 10);
            /* Frames 2 and 5 commit. */
            uint32_t db_size = (i == 2 || i == N - 1) ? 40u + (uint32_t)i : 0u;
            fmt_walframe_encode(hdr[i], (uint32_t)i + 2, db_size, wh.salt1, wh.salt2, k, page[i],
                                PS, s);
            after[i][0] = s[0];
            after[i][1] = s[1];
        }
        uint32_t v[2] = {wh.cksum1, wh.cksum2};
        for (int i = 0; i < N; i++) {
            fmt_walframe f;
            cr_assert_eq(fmt_walframe_verify(hdr[i], page[i], PS, &wh, v), 1, "frame %d", i);
            cr_assert(v[0] == after[i][0] && v[1] == after[i][1]);
            fmt_walframe_decode(hdr[i], &f);
            cr_assert_eq(f.db_size != 0, i == 2 || i == N - 1, "commit frames");
        }
        /* Out of order, a frame does not continue the chain. */
        uint32_t w[2] = {wh.cksum1, wh.cksum2};
        cr_assert_eq(fmt_walframe_verify(hdr[1], page[1], PS, &wh, w), 0);
        cr_assert(w[0] == wh.cksum1 && w[1] == wh.cksum2, "unchanged on failure");
    }
}

Test(format_walfmt, frame_salt_mismatch_rejected)
{
    enum { PS = 512 };
    fmt_walheader wh = sample_walheader(FMT_WAL_MAGIC_LE, PS);
    uint8_t whb[32], hdr[24], page[PS];
    fill_page(page, PS, 3);
    fmt_walheader_encode(whb, &wh);
    for (int which = 0; which < 2; which++) {
        uint32_t s[2] = {wh.cksum1, wh.cksum2};
        uint32_t salt1 = wh.salt1 + (which == 0), salt2 = wh.salt2 + (which == 1);
        /* The checksum is right for these bytes; only the salt is stale. */
        fmt_walframe_encode(hdr, 2, 1, salt1, salt2, 0, page, PS, s);
        uint32_t v[2] = {wh.cksum1, wh.cksum2};
        cr_assert_eq(fmt_walframe_verify(hdr, page, PS, &wh, v), 0, "salt-%d differs", which + 1);
        cr_assert(v[0] == wh.cksum1 && v[1] == wh.cksum2, "unchanged on failure");
    }
}

Test(format_walfmt, frame_checksum_mismatch_rejected)
{
    enum { PS = 512 };
    static const uint32_t magics[2] = {FMT_WAL_MAGIC_LE, FMT_WAL_MAGIC_BE};
    for (int k = 0; k < 2; k++) {
        fmt_walheader wh = sample_walheader(magics[k], PS);
        uint8_t whb[32], hdr[24], page[PS];
        fill_page(page, PS, 4);
        fmt_walheader_encode(whb, &wh);
        uint32_t s[2] = {wh.cksum1, wh.cksum2};
        fmt_walframe_encode(hdr, 9, 12, wh.salt1, wh.salt2, k, page, PS, s);
        /* Any bit of the page, of the checksummed header bytes (0..7) or of
         * the stored checksum (16..23). */
        for (uint32_t bit = 0; bit < 8 * PS; bit += 7) {
            uint32_t v[2] = {wh.cksum1, wh.cksum2};
            page[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            cr_assert_eq(fmt_walframe_verify(hdr, page, PS, &wh, v), 0, "page bit %u", bit);
            cr_assert(v[0] == wh.cksum1 && v[1] == wh.cksum2);
            page[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        for (int byte = 0; byte < 24; byte++) {
            if (byte >= 8 && byte < 16)
                continue; /* the salts: covered by the salt test */
            for (int bit = 0; bit < 8; bit++) {
                uint32_t v[2] = {wh.cksum1, wh.cksum2};
                hdr[byte] ^= (uint8_t)(1u << bit);
                cr_assert_eq(fmt_walframe_verify(hdr, page, PS, &wh, v), 0, "header byte %d bit %d",
                             byte, bit);
                hdr[byte] ^= (uint8_t)(1u << bit);
            }
        }
        /* The running checksum must be the previous frame's. */
        uint32_t wrong[2] = {wh.cksum1 ^ 1, wh.cksum2};
        cr_assert_eq(fmt_walframe_verify(hdr, page, PS, &wh, wrong), 0);
        /* Verifying with the other byte order fails. */
        fmt_walheader other = wh;
        other.magic ^= 1;
        uint32_t v[2] = {wh.cksum1, wh.cksum2};
        cr_assert_eq(fmt_walframe_verify(hdr, page, PS, &other, v), 0);
        /* And the untouched frame still verifies. */
        cr_assert_eq(fmt_walframe_verify(hdr, page, PS, &wh, v), 1);
    }
}

Test(format_walfmt, frame_page_zero_rejected)
{
    enum { PS = 512 };
    fmt_walheader wh = sample_walheader(FMT_WAL_MAGIC_BE, PS);
    uint8_t whb[32], hdr[24], page[PS];
    fill_page(page, PS, 5);
    fmt_walheader_encode(whb, &wh);
    uint32_t s[2] = {wh.cksum1, wh.cksum2};
    fmt_walframe_encode(hdr, 0, 1, wh.salt1, wh.salt2, 1, page, PS, s);
    uint32_t v[2] = {wh.cksum1, wh.cksum2};
    cr_assert_eq(fmt_walframe_verify(hdr, page, PS, &wh, v), 0);
}

/* ---- against SQLite ----------------------------------------------------- */

static int host_is_big_endian(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 0;
}

static void check_sqlite_wal(const char *dir, uint32_t ps)
{
    char path[4200], wal[4300], sql[128];
    sqlite3 *db;
    size_t n;
    snprintf(path, sizeof path, "%s/w%u.db", dir, ps);
    snprintf(wal, sizeof wal, "%s-wal", path);
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(sql, sizeof sql, "PRAGMA page_size=%u", ps);
    fu_exec(db, sql);
    fu_exec(db, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;");
    /* Several transactions, each ending in a commit frame. */
    const int ntxn = 6;
    fu_exec(db, "CREATE TABLE t(a INTEGER PRIMARY KEY, b)");
    fu_exec(db, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 40) "
                "INSERT INTO t SELECT i, randomblob(700) FROM c");
    fu_exec(db, "UPDATE t SET b = randomblob(10) WHERE a % 2 = 0");
    fu_exec(db, "CREATE INDEX tb ON t(b)");
    fu_exec(db, "DELETE FROM t WHERE a > 30");
    fu_exec(db, "INSERT INTO t VALUES (1000, 'last')");
    int64_t db_pages;
    {
        sqlite3_stmt *st;
        cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &st, 0), SQLITE_OK);
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        db_pages = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    /* Read the WAL while the connection holds it open (a clean close would
     * checkpoint and delete it). */
    uint8_t *w = fu_read_file(wal, &n);
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);

    fmt_walheader wh;
    cr_assert_geq(n, 32);
    cr_assert_eq(fmt_walheader_decode(w, &wh), 0);
    cr_assert_eq(wh.magic, host_is_big_endian() ? FMT_WAL_MAGIC_BE : FMT_WAL_MAGIC_LE,
                 "SQLite checksums in native order");
    cr_assert_eq(wh.page_size, ps);
    uint8_t again[32];
    fmt_walheader copy = wh;
    fmt_walheader_encode(again, &copy);
    cr_assert_arr_eq(again, w, 32, "header re-encodes byte for byte");

    size_t fsz = 24 + (size_t)ps;
    cr_assert_eq((n - 32) % fsz, 0, "whole frames");
    size_t nframes = (n - 32) / fsz;
    cr_assert_gt(nframes, (size_t)ntxn);
    uint32_t s[2] = {wh.cksum1, wh.cksum2}, e[2] = {wh.cksum1, wh.cksum2};
    int commits = 0;
    uint32_t last_size = 0;
    for (size_t i = 0; i < nframes; i++) {
        const uint8_t *hdr = w + 32 + i * fsz, *page = hdr + 24;
        fmt_walframe f;
        cr_assert_eq(fmt_walframe_verify(hdr, page, ps, &wh, s), 1, "frame %zu", i);
        fmt_walframe_decode(hdr, &f);
        cr_assert(f.pgno >= 1 && f.pgno <= (uint32_t)db_pages + 10);
        if (f.db_size) {
            commits++;
            last_size = f.db_size;
        }
        uint8_t mine[24];
        fmt_walframe_encode(mine, f.pgno, f.db_size, f.salt1, f.salt2, (int)(wh.magic & 1), page,
                            ps, e);
        cr_assert_arr_eq(mine, hdr, 24, "frame %zu re-encodes byte for byte", i);
        /* The frame images are b-tree pages (or page 1 with its header). */
        if (f.pgno == 1) {
            fmt_dbheader dh;
            cr_assert_eq(fmt_dbheader_decode(page, &dh, NULL), 0);
            cr_assert_eq(dh.page_size, ps);
            cr_assert_eq(dh.write_version, 2);
        }
    }
    cr_assert_eq(commits, ntxn, "one commit frame per transaction");
    cr_assert_eq((int64_t)last_size, db_pages, "the last commit records the database size");
    const uint8_t *last = w + 32 + (nframes - 1) * fsz;
    cr_assert_neq(fmt_get_u32(last + 4), 0, "the log ends with a commit frame");
    free(w);
}

Test(format_walfmt, decodes_wal_written_by_sqlite)
{
    char *dir = fu_make_tmpdir();
    check_sqlite_wal(dir, 1024);
    check_sqlite_wal(dir, 4096);
    check_sqlite_wal(dir, 65536);
    fu_remove_tmpdir(dir);
}

/* Build a WAL by hand that turns database `before` into `after`, and check
 * that SQLite recovers it on open. */
static void check_sqlite_recovers_our_wal(const char *dir, uint32_t ps, int big_endian)
{
    char p0[4200], p1[4200], pw[4300], sql[128];
    sqlite3 *db;
    sqlite3_stmt *st;
    size_t n0, n1;

    snprintf(p0, sizeof p0, "%s/before%u_%d.db", dir, ps, big_endian);
    snprintf(p1, sizeof p1, "%s/after%u_%d.db", dir, ps, big_endian);
    snprintf(pw, sizeof pw, "%s-wal", p0);
    cr_assert_eq(sqlite3_open(p0, &db), SQLITE_OK);
    snprintf(sql, sizeof sql, "PRAGMA page_size=%u", ps);
    fu_exec(db, sql);
    fu_exec(db, "PRAGMA journal_mode=WAL;"
                "CREATE TABLE t(a INTEGER PRIMARY KEY, b);"
                "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 50) "
                "INSERT INTO t SELECT i, 'v1-' || i FROM c;");
    cr_assert_eq(sqlite3_close(db), SQLITE_OK); /* checkpoints; no WAL left */
    uint8_t *before = fu_read_file(p0, &n0);
    fu_write_file(p1, before, n0);

    /* The same change made by SQLite on a copy gives the target pages. */
    cr_assert_eq(sqlite3_open(p1, &db), SQLITE_OK);
    fu_exec(db, "UPDATE t SET b = 'v2-' || a WHERE a % 5 = 0;"
                "WITH RECURSIVE c(i) AS (SELECT 51 UNION ALL SELECT i + 1 FROM c WHERE i < 80) "
                "INSERT INTO t SELECT i, randomblob(3000) FROM c;");
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);
    uint8_t *after = fu_read_file(p1, &n1);
    cr_assert_geq(n1, n0);

    /* Our WAL: a header, one frame per changed page, the last one a commit. */
    uint32_t npages = (uint32_t)(n1 / ps);
    uint8_t *wal = malloc(32 + (size_t)npages * (24 + ps));
    cr_assert_not_null(wal);
    fmt_walheader wh = sample_walheader(big_endian ? FMT_WAL_MAGIC_BE : FMT_WAL_MAGIC_LE, ps);
    wh.salt1 = 0x1badb002;
    wh.salt2 = 0xcafef00d;
    wh.ckpt_seq = 0;
    fmt_walheader_encode(wal, &wh);
    uint32_t s[2] = {wh.cksum1, wh.cksum2};
    uint32_t *changed = calloc(npages, sizeof *changed);
    uint32_t nchanged = 0;
    cr_assert_not_null(changed);
    for (uint32_t pg = 1; pg <= npages; pg++) {
        size_t off = (size_t)(pg - 1) * ps;
        if (off + ps > n0 || memcmp(before + off, after + off, ps) != 0)
            changed[nchanged++] = pg;
    }
    cr_assert_gt(nchanged, 1);
    size_t at = 32;
    for (uint32_t i = 0; i < nchanged; i++) {
        uint32_t pg = changed[i];
        const uint8_t *image = after + (size_t)(pg - 1) * ps;
        uint32_t commit = i == nchanged - 1 ? npages : 0;
        memcpy(wal + at + 24, image, ps);
        fmt_walframe_encode(wal + at, pg, commit, wh.salt1, wh.salt2, big_endian, wal + at + 24, ps,
                            s);
        at += 24 + ps;
    }
    fu_write_file(pw, wal, at);

    /* SQLite opens `before` with our WAL and must see the change. */
    cr_assert_eq(sqlite3_open(p0, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, 0), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*), sum(b LIKE 'v2-%') FROM t", -1, &st, 0),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), 80, "rows from our WAL (order %d)", big_endian);
    cr_assert_eq(sqlite3_column_int(st, 1), 10);
    sqlite3_finalize(st);
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);

    /* Corrupt the last frame's checksum: SQLite must ignore the whole
     * uncommitted tail and see the old state. */
    fu_write_file(p0, before, n0);
    wal[at - ps - 24 + 16] ^= 0x01;
    fu_write_file(pw, wal, at);
    cr_assert_eq(sqlite3_open(p0, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, 0), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), 50, "a bad commit frame is not replayed");
    sqlite3_finalize(st);
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);

    free(changed);
    free(wal);
    free(before);
    free(after);
}

Test(format_walfmt, sqlite_recovers_wal_we_write_both_orders)
{
    char *dir = fu_make_tmpdir();
    for (int be = 0; be <= 1; be++) {
        check_sqlite_recovers_our_wal(dir, 1024, be);
        check_sqlite_recovers_our_wal(dir, 4096, be);
        check_sqlite_recovers_our_wal(dir, 65536, be);
    }
    fu_remove_tmpdir(dir);
}
