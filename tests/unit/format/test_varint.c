/*
 * test_varint.c - SQLite varints: lengths at every byte-count boundary, exact
 * byte images, round trips, truncated spans, and the bytes SQLite itself
 * writes for rowids.
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

/* The largest value of each encoded length 1..9. */
static uint64_t max_of_len(int n)
{
    return n == 9 ? UINT64_MAX : ((uint64_t)1 << (7 * n)) - 1;
}

/* An independent reference encoder: the value's 7-bit groups, most significant
 * first, or the 9-byte form when the value needs more than 56 bits. */
static int ref_encode(uint8_t *out, uint64_t v)
{
    uint8_t tmp[9];
    int n = 0;
    if (v >> 56) {
        out[8] = (uint8_t)(v & 0xff);
        v >>= 8;
        for (int i = 7; i >= 0; i--, v >>= 7)
            out[i] = (uint8_t)(0x80 | (v & 0x7f));
        return 9;
    }
    do {
        tmp[n++] = (uint8_t)(v & 0x7f);
        v >>= 7;
    } while (v);
    for (int i = 0; i < n; i++)
        out[i] = (uint8_t)(tmp[n - 1 - i] | (i < n - 1 ? 0x80 : 0));
    return n;
}

static uint64_t test_seed(void)
{
    const char *e = getenv("FOLIO_SEED");
    uint64_t seed = e && *e ? strtoull(e, NULL, 0) : 0x5eed0001ull;
    fprintf(stderr, "seed=%" PRIu64 "\n", seed);
    return seed;
}

static void check_round_trip(uint64_t v)
{
    uint8_t buf[FMT_VARINT_MAX + 1], ref[FMT_VARINT_MAX];
    uint64_t back = 0;
    memset(buf, 0xee, sizeof buf);
    int n = fmt_varint_put(buf, v);
    int rn = ref_encode(ref, v);
    cr_assert_eq(n, rn, "length of %" PRIu64 ": %d, expected %d", v, n, rn);
    cr_assert_eq(fmt_varint_len(v), n, "fmt_varint_len(%" PRIu64 ")", v);
    cr_assert_arr_eq(buf, ref, (size_t)n, "bytes of %" PRIu64, v);
    cr_assert_eq(buf[n], 0xee, "put wrote past its length for %" PRIu64, v);
    /* The inline short forms and the out-of-line encoder agree. */
    uint8_t any[FMT_VARINT_MAX];
    cr_assert_eq(fmt_varint_put_any(any, v), n, "fmt_varint_put_any length of %" PRIu64, v);
    cr_assert_arr_eq(any, ref, (size_t)n, "fmt_varint_put_any bytes of %" PRIu64, v);
    cr_assert_eq(fmt_varint_len_any(v), n, "fmt_varint_len_any(%" PRIu64 ")", v);
    cr_assert_eq(fmt_varint_get(buf, buf + n, &back), n);
    cr_assert_eq(back, v, "round trip of %" PRIu64 " gave %" PRIu64, v, back);
}

/* ---- lengths and boundaries --------------------------------------------- */

Test(format_varint, length_boundaries_every_byte_count)
{
    cr_assert_eq(fmt_varint_len(0), 1);
    for (int n = 1; n <= 9; n++) {
        uint64_t hi = max_of_len(n);
        cr_assert_eq(fmt_varint_len(hi), n, "largest %d-byte value", n);
        if (n < 9)
            cr_assert_eq(fmt_varint_len(hi + 1), n + 1, "smallest %d-byte value", n + 1);
    }
    /* The boundaries named in the spec, spelled out. */
    static const struct {
        uint64_t v;
        int len;
    } t[] = {
        {0x7f, 1},
        {0x80, 2},
        {0x3fff, 2},
        {0x4000, 3},
        {0x1fffff, 3},
        {0x200000, 4},
        {0xfffffff, 4},
        {0x10000000, 5},
        {((uint64_t)1 << 35) - 1, 5},
        {(uint64_t)1 << 35, 6},
        {((uint64_t)1 << 42) - 1, 6},
        {(uint64_t)1 << 42, 7},
        {((uint64_t)1 << 49) - 1, 7},
        {(uint64_t)1 << 49, 8},
        {((uint64_t)1 << 56) - 1, 8},
        {(uint64_t)1 << 56, 9},
        {UINT64_MAX, 9},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint8_t buf[9];
        cr_assert_eq(fmt_varint_len(t[i].v), t[i].len, "len(0x%" PRIx64 ")", t[i].v);
        cr_assert_eq(fmt_varint_put(buf, t[i].v), t[i].len, "put(0x%" PRIx64 ")", t[i].v);
    }
}

Test(format_varint, exact_bytes_of_known_values)
{
    static const struct {
        uint64_t v;
        int n;
        uint8_t b[9];
    } t[] = {
        {0, 1, {0x00}},
        {1, 1, {0x01}},
        {0x7f, 1, {0x7f}},
        {0x80, 2, {0x81, 0x00}},
        {0x81, 2, {0x81, 0x01}},
        {300, 2, {0x82, 0x2c}},
        {0x3fff, 2, {0xff, 0x7f}},
        {0x4000, 3, {0x81, 0x80, 0x00}},
        {0x1fffff, 3, {0xff, 0xff, 0x7f}},
        {0x200000, 4, {0x81, 0x80, 0x80, 0x00}},
        {((uint64_t)1 << 56) - 1, 8, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
        /* 2^56: the 56 bits above the low byte are 2^48, whose top group is
         * bits 55..49 (0) and next bits 48..42 (0x40). */
        {(uint64_t)1 << 56, 9, {0x80, 0xc0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}},
        {UINT64_MAX, 9, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
        {0x0102030405060708ull, 9, {0x80, 0xc0, 0xc0, 0xb0, 0xa0, 0x94, 0x8c, 0x87, 0x08}},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint8_t buf[9];
        uint64_t back;
        int n = fmt_varint_put(buf, t[i].v);
        cr_assert_eq(n, t[i].n, "put(0x%" PRIx64 ") length", t[i].v);
        cr_assert_arr_eq(buf, t[i].b, (size_t)n, "put(0x%" PRIx64 ") bytes", t[i].v);
        cr_assert_eq(fmt_varint_get(t[i].b, t[i].b + t[i].n, &back), t[i].n);
        cr_assert_eq(back, t[i].v, "get of the bytes of 0x%" PRIx64, t[i].v);
    }
}

Test(format_varint, round_trip_at_every_boundary)
{
    check_round_trip(0);
    check_round_trip(1);
    for (int n = 1; n <= 9; n++) {
        uint64_t hi = max_of_len(n);
        check_round_trip(hi);
        check_round_trip(hi - 1);
        if (n < 9) {
            check_round_trip(hi + 1);
            check_round_trip(hi + 2);
        }
    }
    for (int bit = 0; bit < 64; bit++) {
        uint64_t b = (uint64_t)1 << bit;
        check_round_trip(b);
        check_round_trip(b - 1);
        check_round_trip(b + 1);
        check_round_trip(~b);
    }
    check_round_trip((uint64_t)INT64_MAX);
    check_round_trip((uint64_t)INT64_MAX + 1);
}

Test(format_varint, round_trip_random_values)
{
    uint64_t s = test_seed();
    for (int i = 0; i < 200000; i++) {
        uint64_t v = fu_splitmix(&s);
        /* Spread the values over every length, not just 9-byte ones. */
        check_round_trip(v >> (fu_splitmix(&s) % 64));
    }
}

Test(format_varint, ninth_byte_carries_eight_bits)
{
    /* With eight continuation bytes the ninth byte is taken whole, high bit
     * included, and nothing after it is read. */
    uint8_t b[10] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0xff, 0xff};
    uint64_t v;
    cr_assert_eq(fmt_varint_get(b, b + 10, &v), 9);
    cr_assert_eq(v, 0xff);
    b[7] = 0x81;
    cr_assert_eq(fmt_varint_get(b, b + 10, &v), 9);
    cr_assert_eq(v, 0x1ff);
    memset(b, 0xff, sizeof b);
    cr_assert_eq(fmt_varint_get(b, b + 10, &v), 9);
    cr_assert_eq(v, UINT64_MAX);
}

Test(format_varint, accepts_non_canonical_forms)
{
    /* Over-long forms are unambiguous; SQLite accepts them and so do we. */
    const uint8_t zero2[] = {0x80, 0x00};
    const uint8_t one3[] = {0x80, 0x80, 0x01};
    uint64_t v = 99;
    cr_assert_eq(fmt_varint_get(zero2, zero2 + 2, &v), 2);
    cr_assert_eq(v, 0);
    cr_assert_eq(fmt_varint_get(one3, one3 + 3, &v), 3);
    cr_assert_eq(v, 1);
}

Test(format_varint, stops_at_first_byte_without_continuation)
{
    const uint8_t b[] = {0x81, 0x00, 0xff, 0xff};
    uint64_t v;
    cr_assert_eq(fmt_varint_get(b, b + sizeof b, &v), 2);
    cr_assert_eq(v, 0x80);
}

Test(format_varint, truncated_span_returns_zero_without_overread)
{
    /* For every length, every shorter span fails; the span is a heap block of
     * exactly that size so AddressSanitizer catches a read past it. */
    for (int n = 1; n <= 9; n++) {
        uint8_t full[9];
        uint64_t v = max_of_len(n);
        int len = fmt_varint_put(full, v);
        cr_assert_eq(len, n);
        for (int have = 0; have < n; have++) {
            uint8_t *heap = malloc(have ? (size_t)have : 1);
            uint64_t out = 12345;
            cr_assert_not_null(heap);
            memcpy(heap, full, (size_t)have);
            cr_assert_eq(fmt_varint_get(heap, heap + have, &out), 0,
                         "%d-byte varint in a %d-byte span", n, have);
            cr_assert_eq(out, 12345, "output written on failure");
            free(heap);
        }
        uint8_t *exact = malloc((size_t)n);
        cr_assert_not_null(exact);
        memcpy(exact, full, (size_t)n);
        cr_assert_eq(fmt_varint_get(exact, exact + n, &v), n);
        cr_assert_eq(v, max_of_len(n));
        free(exact);
    }
}

Test(format_varint, all_continuation_bytes_in_short_span)
{
    uint8_t *heap = malloc(8);
    uint64_t v;
    cr_assert_not_null(heap);
    memset(heap, 0x80, 8);
    cr_assert_eq(fmt_varint_get(heap, heap + 8, &v), 0);
    free(heap);
}

/* ---- cross-check with the rowid varints SQLite writes ------------------- */

Test(format_varint, matches_rowid_bytes_written_by_sqlite)
{
    static const int64_t rowids[] = {0,
                                     1,
                                     0x7f,
                                     0x80,
                                     0x3fff,
                                     0x4000,
                                     0x1fffff,
                                     0x200000,
                                     0xfffffff,
                                     0x10000000,
                                     ((int64_t)1 << 35) - 1,
                                     (int64_t)1 << 35,
                                     ((int64_t)1 << 42) - 1,
                                     (int64_t)1 << 42,
                                     ((int64_t)1 << 49) - 1,
                                     (int64_t)1 << 49,
                                     ((int64_t)1 << 56) - 1,
                                     (int64_t)1 << 56,
                                     INT64_MAX,
                                     -1,
                                     -2,
                                     INT64_MIN,
                                     INT64_MIN + 1,
                                     -((int64_t)1 << 56)};
    const size_t nrow = sizeof rowids / sizeof rowids[0];
    char *dir = fu_make_tmpdir();
    char path[4200];
    sqlite3 *db;
    sqlite3_stmt *st;
    size_t n;
    size_t seen = 0;

    snprintf(path, sizeof path, "%s/rowids.db", dir);
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "PRAGMA page_size=4096; CREATE TABLE t(a);", 0, 0, 0), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO t(rowid, a) VALUES (?, 7)", -1, &st, 0),
                 SQLITE_OK);
    for (size_t i = 0; i < nrow; i++) {
        sqlite3_bind_int64(st, 1, rowids[i]);
        cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);

    uint8_t *file = fu_read_file(path, &n);
    cr_assert_geq(n, 2 * 4096);
    /* Page 2 is t's root, a single table leaf: walk its pointer array by hand
     * so that only the varint codec is under test here. */
    const uint8_t *pg = file + 4096;
    cr_assert_eq(pg[0], 13);
    uint32_t ncells = fmt_get_u16(pg + 3);
    cr_assert_eq(ncells, nrow);
    for (uint32_t i = 0; i < ncells; i++) {
        const uint8_t *cell = pg + fmt_get_u16(pg + 8 + 2 * i);
        uint64_t psize, key;
        uint8_t mine[9];
        int a = fmt_varint_get(cell, pg + 4096, &psize);
        cr_assert_eq(a, 1);
        cr_assert_eq(psize, 3, "record (header 2, type 1, value 7)");
        int b = fmt_varint_get(cell + a, pg + 4096, &key);
        cr_assert_gt(b, 0);
        /* SQLite's bytes must be exactly what we would write. */
        cr_assert_eq(fmt_varint_put(mine, key), b);
        cr_assert_arr_eq(mine, cell + a, (size_t)b, "rowid 0x%" PRIx64, key);
        for (size_t j = 0; j < nrow; j++)
            seen += (uint64_t)rowids[j] == key;
    }
    cr_assert_eq(seen, nrow, "every rowid found once");
    free(file);
    fu_remove_tmpdir(dir);
}
