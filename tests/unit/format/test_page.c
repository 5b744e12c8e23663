/*
 * test_page.c - b-tree page headers, the four cell kinds, the local payload
 * formula; every b-tree SQLite writes at every page size walked and checked
 * byte for byte (space accounting, overflow chains, records); and pages with
 * overflow cells that we lay out read back by SQLite with a clean
 * integrity_check.
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
    uint64_t seed = e && *e ? strtoull(e, NULL, 0) : 0x5eed0003ull;
    fprintf(stderr, "seed=%" PRIu64 "\n", seed);
    return seed;
}

static void assert_integrity_ok(sqlite3 *db)
{
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, 0), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
}

/* A page buffer of exactly `usable` bytes on the heap, so that AddressSanitizer
 * reports any read at or past the usable end. */
static uint8_t *page_alloc(uint32_t usable)
{
    uint8_t *p = calloc(1, usable);
    cr_assert_not_null(p);
    return p;
}

static void put_header(uint8_t *data, uint32_t pgno, uint8_t type, uint32_t freeblock,
                       uint32_t ncells, uint32_t content_raw, uint8_t frag, uint32_t right)
{
    uint8_t *h = data + (pgno == 1 ? 100 : 0);
    h[0] = type;
    fmt_put_u16(h + 1, freeblock);
    fmt_put_u16(h + 3, ncells);
    fmt_put_u16(h + 5, content_raw);
    h[7] = frag;
    if (!(type & 8))
        fmt_put_u32(h + 8, right);
}

/* ---- page headers ------------------------------------------------------- */

Test(format_page, decodes_all_four_types)
{
    static const struct {
        uint8_t type, leaf, table, hdr;
    } t[] = {{2, 0, 0, 12}, {5, 0, 1, 12}, {10, 1, 0, 8}, {13, 1, 1, 8}};
    for (size_t i = 0; i < 4; i++) {
        uint8_t *d = page_alloc(4096);
        fmt_page pg;
        put_header(d, 2, t[i].type, 3000, 5, 2000, 9, 0);
        fmt_put_u32(d + 8, 0xdeadbeef); /* right child, or garbage on leaves */
        cr_assert_eq(fmt_page_decode(d, 2, 4096, &pg), 0, "type %d", t[i].type);
        cr_assert_eq(pg.type, t[i].type);
        cr_assert_eq(pg.is_leaf, t[i].leaf);
        cr_assert_eq(pg.is_table, t[i].table);
        cr_assert_eq(pg.hdr_size, t[i].hdr);
        cr_assert_eq(pg.hdr_off, 0);
        cr_assert_eq(pg.first_freeblock, 3000);
        cr_assert_eq(pg.ncells, 5);
        cr_assert_eq(pg.content_start, 2000);
        cr_assert_eq(pg.frag_bytes, 9);
        cr_assert_eq(pg.right_child, t[i].leaf ? 0u : 0xdeadbeefu);
        cr_assert_eq(pg.usable, 4096);
        free(d);
    }
}

Test(format_page, page_1_header_at_offset_100)
{
    for (int type = 2; type <= 13; type++) {
        if (type != 2 && type != 5 && type != 10 && type != 13)
            continue;
        uint8_t *d = page_alloc(1024);
        fmt_page pg;
        memset(d, 0xff, 100); /* the database header is not a page header */
        put_header(d, 1, (uint8_t)type, 0, 3, 900, 0, 42);
        cr_assert_eq(fmt_page_decode(d, 1, 1024, &pg), 0);
        cr_assert_eq(pg.hdr_off, 100);
        cr_assert_eq(pg.type, type);
        cr_assert_eq(pg.ncells, 3);
        cr_assert_eq(pg.content_start, 900);
        if (!pg.is_leaf)
            cr_assert_eq(pg.right_child, 42);
        /* The same bytes read as page 2 see the header at 0, which is 0xff. */
        cr_assert_eq(fmt_page_decode(d, 2, 1024, &pg), FMT_EBAD);
        free(d);
    }
}

Test(format_page, every_other_type_byte_rejected)
{
    uint8_t *d = page_alloc(4096);
    fmt_page pg;
    for (int type = 0; type < 256; type++) {
        put_header(d, 2, (uint8_t)type, 0, 0, 4096, 0, 7);
        fmt_put_u32(d + 8, 7);
        int ok = type == 2 || type == 5 || type == 10 || type == 13;
        cr_assert_eq(fmt_page_decode(d, 2, 4096, &pg) == 0, ok, "type byte %d", type);
    }
    free(d);
}

Test(format_page, ncells_limited_by_pointer_array_space)
{
    static const uint32_t usables[] = {480, 512, 4096, 65536};
    static const uint8_t types[] = {2, 5, 10, 13};
    for (size_t u = 0; u < 4; u++) {
        for (size_t t = 0; t < 4; t++) {
            for (uint32_t pgno = 1; pgno <= 2; pgno++) {
                uint32_t usable = usables[u];
                uint32_t hdr = (pgno == 1 ? 100u : 0u) + ((types[t] & 8) ? 8u : 12u);
                uint32_t max = (usable - hdr) / 2;
                uint32_t raw_top = usable == 65536 ? 0 : usable;
                uint8_t *d = page_alloc(usable);
                fmt_page pg;
                put_header(d, pgno, types[t], 0, max, raw_top, 0, 3);
                cr_assert_eq(fmt_page_decode(d, pgno, usable, &pg), 0, "u=%u type %d pgno %u",
                             usable, types[t], pgno);
                if (max + 1 <= 0xffff) {
                    put_header(d, pgno, types[t], 0, max + 1, raw_top, 0, 3);
                    cr_assert_eq(fmt_page_decode(d, pgno, usable, &pg), FMT_EBAD,
                                 "u=%u type %d pgno %u: %u cells", usable, types[t], pgno, max + 1);
                }
                put_header(d, pgno, types[t], 0, 0xffff, raw_top, 0, 3);
                cr_assert_eq(fmt_page_decode(d, pgno, usable, &pg), FMT_EBAD);
                /* The content start bounds the array too. */
                put_header(d, pgno, types[t], 0, 10, hdr + 20, 0, 3);
                cr_assert_eq(fmt_page_decode(d, pgno, usable, &pg), 0);
                put_header(d, pgno, types[t], 0, 11, hdr + 20, 0, 3);
                cr_assert_eq(fmt_page_decode(d, pgno, usable, &pg), FMT_EBAD);
                free(d);
            }
        }
    }
}

Test(format_page, content_start_zero_means_65536)
{
    uint8_t *d = page_alloc(65536);
    fmt_page pg;
    put_header(d, 2, 13, 0, 0, 0, 0, 0);
    cr_assert_eq(fmt_page_decode(d, 2, 65536, &pg), 0);
    cr_assert_eq(pg.content_start, 65536);
    /* With reserved bytes the usable size is below 65536, so 0 is past it. */
    cr_assert_eq(fmt_page_decode(d, 2, 65535, &pg), FMT_EBAD);
    cr_assert_eq(fmt_page_decode(d, 2, 4096, &pg), FMT_EBAD);
    free(d);
}

Test(format_page, content_start_bounds)
{
    uint8_t *d = page_alloc(4096);
    fmt_page pg;
    put_header(d, 2, 13, 0, 0, 4096, 0, 0);
    cr_assert_eq(fmt_page_decode(d, 2, 4096, &pg), 0);
    put_header(d, 2, 13, 0, 0, 4097, 0, 0);
    cr_assert_eq(fmt_page_decode(d, 2, 4096, &pg), FMT_EBAD, "past the usable end");
    put_header(d, 2, 13, 0, 2, 12, 0, 0);
    cr_assert_eq(fmt_page_decode(d, 2, 4096, &pg), 0, "right after a 2-cell array");
    put_header(d, 2, 13, 0, 2, 11, 0, 0);
    cr_assert_eq(fmt_page_decode(d, 2, 4096, &pg), FMT_EBAD, "inside the pointer array");
    put_header(d, 2, 13, 0, 0, 5, 0, 0);
    cr_assert_eq(fmt_page_decode(d, 2, 4096, &pg), FMT_EBAD, "inside the header");
    free(d);
}

Test(format_page, fragmented_bytes_inside_content_area)
{
    uint8_t *d = page_alloc(4096);
    fmt_page pg;
    put_header(d, 2, 13, 0, 1, 4086, 10, 0);
    cr_assert_eq(fmt_page_decode(d, 2, 4096, &pg), 0);
    put_header(d, 2, 13, 0, 1, 4086, 11, 0);
    cr_assert_eq(fmt_page_decode(d, 2, 4096, &pg), FMT_EBAD);
    free(d);
}

Test(format_page, first_freeblock_inside_content_area)
{
    uint8_t *d = page_alloc(4096);
    fmt_page pg;
    static const struct {
        uint32_t fb;
        int ok;
    } t[] = {{0, 1},    {2000, 1}, {3000, 1}, {4092, 1},  {1999, 0},
             {4093, 0}, {4095, 0}, {8, 0},    {0xffff, 0}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        put_header(d, 2, 13, t[i].fb, 1, 2000, 0, 0);
        cr_assert_eq(fmt_page_decode(d, 2, 4096, &pg) == 0, t[i].ok, "freeblock at %u", t[i].fb);
    }
    free(d);
}

Test(format_page, interior_right_child_not_zero)
{
    uint8_t *d = page_alloc(4096);
    fmt_page pg;
    put_header(d, 2, 5, 0, 0, 4096, 0, 0);
    cr_assert_eq(fmt_page_decode(d, 2, 4096, &pg), FMT_EBAD);
    put_header(d, 2, 2, 0, 0, 4096, 0, 0);
    cr_assert_eq(fmt_page_decode(d, 2, 4096, &pg), FMT_EBAD);
    put_header(d, 2, 2, 0, 0, 4096, 0, 1);
    cr_assert_eq(fmt_page_decode(d, 2, 4096, &pg), 0);
    cr_assert_eq(pg.right_child, 1);
    free(d);
}

Test(format_page, bad_arguments_rejected)
{
    uint8_t *d = page_alloc(65536);
    fmt_page pg;
    put_header(d, 2, 13, 0, 0, 400, 0, 0);
    cr_assert_eq(fmt_page_decode(d, 0, 4096, &pg), FMT_EBAD, "page 0 does not exist");
    cr_assert_eq(fmt_page_decode(d, 2, 479, &pg), FMT_EBAD, "usable below 480");
    cr_assert_eq(fmt_page_decode(d, 2, 65537, &pg), FMT_EBAD, "usable above 65536");
    cr_assert_eq(fmt_page_decode(d, 2, 480, &pg), 0);
    free(d);
}

/* ---- local payload ------------------------------------------------------ */

Test(format_page, max_and_min_local_known_values)
{
    static const struct {
        uint32_t u, table_max, index_max, min;
    } t[] = {{480, 445, 94, 35},         {512, 477, 102, 39},     {1024, 989, 230, 103},
             {4064, 4029, 993, 485},     {4096, 4061, 1002, 489}, {65535, 65500, 16421, 8199},
             {65536, 65501, 16422, 8199}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        cr_assert_eq(fmt_payload_max_local(t[i].u, 1), t[i].table_max, "U=%u", t[i].u);
        cr_assert_eq(fmt_payload_max_local(t[i].u, 0), t[i].index_max, "U=%u", t[i].u);
        cr_assert_eq(fmt_payload_min_local(t[i].u), t[i].min, "U=%u", t[i].u);
    }
}

Test(format_page, local_payload_known_values)
{
    static const struct {
        uint32_t u;
        int table;
        uint64_t p;
        uint32_t local;
    } t[] = {
        /* U=4096: X(table)=4061, X(index)=1002, M=489, U-4=4092. */
        {4096, 1, 0, 0},
        {4096, 1, 4061, 4061},
        {4096, 1, 4062, 489},  /* K = 4062 > X */
        {4096, 1, 4581, 489},  /* K = 489 + 4092 % 4092 = 489 */
        {4096, 1, 4681, 589},  /* K = 589 */
        {4096, 1, 8153, 4061}, /* K = 489 + 7664 % 4092 = 4061 = X */
        {4096, 1, 8154, 489},  /* K = 4062 > X */
        {4096, 0, 1002, 1002},
        {4096, 0, 1003, 489},  /* K = 1003 > X */
        {4096, 0, 5081, 989},  /* K = 489 + 4592 % 4092 = 989 */
        {4096, 0, 5094, 1002}, /* K = 1002 = X */
        {4096, 0, 5095, 489},  /* K = 1003 > X */
        {4096, 0, 1000000,
         489 + (1000000 - 489) % 4092 <= 1002 ? 489 + (1000000 - 489) % 4092 : 489},
        /* U=1024: X(table)=989, X(index)=230, M=103, U-4=1020. */
        {1024, 1, 989, 989},
        {1024, 1, 990, 103},
        {1024, 1, 2000, 980}, /* K = 103 + 1897 % 1020 = 980 */
        {1024, 0, 230, 230},
        {1024, 0, 231, 103},
        {1024, 0, 1223, 203}, /* K = 103 + 1120 % 1020 = 203 */
        {1024, 0, 1250, 230}, /* K = 230 */
        {1024, 0, 1251, 103},
        /* U=480: the smallest usable size. X(table)=445, X(index)=94, M=35. */
        {480, 1, 445, 445},
        {480, 1, 446, 35},
        {480, 1, 35 + 476 + 400, 435},
        {480, 0, 94, 94},
        {480, 0, 95, 35},
        {480, 0, 35 + 476 + 59, 94},
        {480, 0, 35 + 476 + 60, 35},
        /* U=65536: X(table)=65501, X(index)=16422, M=8199, U-4=65532. */
        {65536, 1, 65501, 65501},
        {65536, 1, 65502, 8199},
        {65536, 1, 8199 + 65532 + 1, 8200},
        {65536, 0, 16422, 16422},
        {65536, 0, 16423, 8199},
        {65536, 0, 8199 + 2 * 65532 + 8223, 16422},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        cr_assert_eq(fmt_payload_local(t[i].u, t[i].table, t[i].p), t[i].local,
                     "U=%u %s P=%" PRIu64 ": %u", t[i].u, t[i].table ? "table" : "index", t[i].p,
                     fmt_payload_local(t[i].u, t[i].table, t[i].p));
}

Test(format_page, local_payload_properties_every_usable_size)
{
    /* For every usable size and payloads over several pages: a spilled payload
     * keeps at least M and at most X locally, and either keeps exactly M or
     * fills every overflow page completely. */
    for (uint32_t u = 480; u <= 65536; u += (u < 1200 ? 1 : 97)) {
        for (int table = 0; table <= 1; table++) {
            uint32_t x = fmt_payload_max_local(u, table), m = fmt_payload_min_local(u);
            cr_assert_lt(m, x);
            uint64_t step = u < 1200 ? 1 : 13;
            for (uint64_t p = 0; p < 3ull * u + 50; p += (p < x + 10 ? 1 : step)) {
                uint32_t local = fmt_payload_local(u, table, p);
                if (p <= x) {
                    cr_assert_eq(local, p);
                    continue;
                }
                cr_assert(local >= m && local <= x, "U=%u P=%" PRIu64 " local=%u", u, p, local);
                cr_assert(local == m || (p - local) % (u - 4) == 0, "U=%u P=%" PRIu64, u, p);
            }
        }
    }
}

/* ---- cells -------------------------------------------------------------- */

/* Write a cell at the end of the usable area; return its offset. */
static uint32_t place_cell(uint8_t *d, uint32_t usable, const uint8_t *cell, uint32_t n)
{
    memcpy(d + usable - n, cell, n);
    return usable - n;
}

static uint32_t build_cell(uint8_t *out, uint8_t type, uint32_t left, int64_t rowid, uint64_t p,
                           uint32_t local, uint32_t ovfl, uint8_t fill)
{
    uint32_t n = 0;
    if (!(type & 8)) {
        fmt_put_u32(out, left);
        n = 4;
    }
    if (type == 5) {
        n += (uint32_t)fmt_varint_put(out + n, (uint64_t)rowid);
        return n;
    }
    n += (uint32_t)fmt_varint_put(out + n, p);
    if (type == 13)
        n += (uint32_t)fmt_varint_put(out + n, (uint64_t)rowid);
    memset(out + n, fill, local);
    n += local;
    if (local < p) {
        fmt_put_u32(out + n, ovfl);
        n += 4;
    }
    return n;
}

static void one_cell_page(uint8_t *d, uint8_t type, uint32_t off)
{
    put_header(d, 2, type, 0, 1, off, 0, 99);
    fmt_put_u16(d + ((type & 8) ? 8 : 12), off);
}

Test(format_page, cells_of_every_kind)
{
    const uint32_t U = 1024;
    static const struct {
        uint8_t type;
        int64_t rowid;
        uint64_t p;
        uint32_t local;
        uint32_t size;
    } t[] = {
        {13, -5, 10, 10, 1 + 9 + 10},
        {13, 1, 989, 989, 2 + 1 + 989},
        {13, 300, 990, 103, 2 + 2 + 103 + 4},        /* K > X: keeps M */
        {13, INT64_MAX, 2000, 980, 2 + 9 + 980 + 4}, /* keeps K */
        {13, INT64_MIN, 5000, 103 + 4897 % 1020 <= 989 ? 103 + 4897 % 1020 : 103, 0},
        {5, 1234567, 0, 0, 4 + 3},
        {5, -1, 0, 0, 4 + 9},
        {5, 0, 0, 0, 4 + 1},
        {10, 0, 50, 50, 1 + 50},
        {10, 0, 230, 230, 2 + 230},
        {10, 0, 500, 103, 2 + 103 + 4},
        {10, 0, 1223, 203, 2 + 203 + 4},
        {2, 0, 50, 50, 4 + 1 + 50},
        {2, 0, 231, 103, 4 + 2 + 103 + 4},
        {2, 0, 1250, 230, 4 + 2 + 230 + 4},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint8_t cell[1100];
        uint8_t *d = page_alloc(U);
        fmt_page pg;
        fmt_cell c;
        uint32_t local = fmt_payload_local(U, t[i].type == 13, t[i].p);
        cr_assert_eq(t[i].type == 5 ? 0 : local, t[i].local, "entry %zu local", i);
        uint32_t n = build_cell(cell, t[i].type, 77, t[i].rowid, t[i].p, local, 555, 0xab);
        if (t[i].size)
            cr_assert_eq(n, t[i].size, "entry %zu test cell size", i);
        uint32_t off = place_cell(d, U, cell, n);
        one_cell_page(d, t[i].type, off);
        cr_assert_eq(fmt_page_decode(d, 2, U, &pg), 0);
        cr_assert_eq(fmt_cell_parse(d, &pg, fmt_page_cell_off(d, &pg, 0), &c), 0, "entry %zu", i);
        cr_assert_eq(c.cell_size, n, "entry %zu cell size", i);
        if (t[i].type & 8)
            cr_assert_eq(c.left_child, 0);
        else
            cr_assert_eq(c.left_child, 77);
        if (t[i].type & 1)
            cr_assert_eq(c.rowid, t[i].rowid, "entry %zu rowid", i);
        if (t[i].type == 5) {
            cr_assert_eq(c.payload_size, 0);
            cr_assert_eq(c.local, 0);
            cr_assert_eq(c.overflow, 0);
        } else {
            cr_assert_eq(c.payload_size, t[i].p);
            cr_assert_eq(c.local, local);
            cr_assert_eq(c.overflow, local < t[i].p ? 555u : 0u, "entry %zu overflow", i);
            cr_assert_not_null(c.payload);
            for (uint32_t b = 0; b < c.local; b++)
                cr_assert_eq(c.payload[b], 0xab);
            cr_assert_eq(c.payload + c.local + (c.overflow ? 4 : 0), d + off + n);
        }
        free(d);
    }
}

Test(format_page, small_cells_count_as_four_bytes)
{
    const uint32_t U = 512;
    /* Table leaf, 1-byte payload: 3 bytes of cell, accounted as 4. */
    uint8_t *d = page_alloc(U);
    fmt_page pg;
    fmt_cell c;
    const uint8_t tl[] = {0x01, 0x01, 0x00};
    uint32_t off = U - 4;
    memcpy(d + off, tl, 3);
    one_cell_page(d, 13, off);
    cr_assert_eq(fmt_page_decode(d, 2, U, &pg), 0);
    cr_assert_eq(fmt_cell_parse(d, &pg, off, &c), 0);
    cr_assert_eq(c.cell_size, 4);
    cr_assert_eq(c.local, 1);
    /* Placed in the last 3 bytes, its 4-byte accounting would pass the end. */
    off = U - 3;
    memcpy(d + off, tl, 3);
    one_cell_page(d, 13, off);
    cr_assert_eq(fmt_page_decode(d, 2, U, &pg), 0);
    cr_assert_eq(fmt_cell_parse(d, &pg, off, &c), FMT_EBAD);
    /* Index leaf with an empty payload: 1 byte, accounted as 4. */
    d[U - 4] = 0x00;
    one_cell_page(d, 10, U - 4);
    cr_assert_eq(fmt_page_decode(d, 2, U, &pg), 0);
    cr_assert_eq(fmt_cell_parse(d, &pg, U - 4, &c), 0);
    cr_assert_eq(c.payload_size, 0);
    cr_assert_eq(c.cell_size, 4);
    /* A 4-byte cell exactly at the end is fine. */
    const uint8_t tl2[] = {0x02, 0x05, 0x01, 0x09};
    memcpy(d + U - 4, tl2, 4);
    one_cell_page(d, 13, U - 4);
    cr_assert_eq(fmt_page_decode(d, 2, U, &pg), 0);
    cr_assert_eq(fmt_cell_parse(d, &pg, U - 4, &c), 0);
    cr_assert_eq(c.cell_size, 4);
    cr_assert_eq(c.rowid, 5);
    free(d);
}

Test(format_page, truncated_cells_rejected_without_overread)
{
    const uint32_t U = 512;
    fmt_page pg;
    fmt_cell c;
    for (int type = 2; type <= 13; type++) {
        if (type != 2 && type != 5 && type != 10 && type != 13)
            continue;
        /* Every cell kind, including ones with overflow, cut at every length:
         * only the complete cell (at the very end of the page) parses. */
        static const uint64_t sizes[] = {20, 300, 2000};
        for (size_t s = 0; s < 3; s++) {
            uint8_t cell[600];
            uint32_t local = fmt_payload_local(U, type == 13, sizes[s]);
            uint32_t n = build_cell(cell, (uint8_t)type, 9, -77, sizes[s], local, 12, 0x5a);
            for (uint32_t cut = 1; cut <= n; cut++) {
                uint8_t *d = page_alloc(U);
                uint32_t off = U - cut;
                memcpy(d + off, cell, cut);
                one_cell_page(d, (uint8_t)type, off);
                cr_assert_eq(fmt_page_decode(d, 2, U, &pg), 0);
                int rc = fmt_cell_parse(d, &pg, off, &c);
                int want_ok = cut == n && (n >= 4);
                cr_assert_eq(rc == 0, want_ok, "type %d P=%" PRIu64 " cut %u of %u", type, sizes[s],
                             cut, n);
                free(d);
            }
        }
    }
}

Test(format_page, cell_offsets_outside_content_rejected)
{
    const uint32_t U = 1024;
    uint8_t *d = page_alloc(U);
    fmt_page pg;
    fmt_cell c;
    put_header(d, 2, 13, 0, 3, 100, 0, 0);
    cr_assert_eq(fmt_page_decode(d, 2, U, &pg), 0);
    memset(d + 14, 0x01, U - 14);
    cr_assert_eq(fmt_cell_parse(d, &pg, 0, &c), FMT_EBAD, "in the header");
    cr_assert_eq(fmt_cell_parse(d, &pg, 13, &c), FMT_EBAD, "in the pointer array");
    cr_assert_eq(fmt_cell_parse(d, &pg, 14, &c), 0, "right after the pointer array");
    cr_assert_eq(fmt_cell_parse(d, &pg, U, &c), FMT_EBAD, "at the usable end");
    cr_assert_eq(fmt_cell_parse(d, &pg, 0xffff, &c), FMT_EBAD, "far past the page");
    free(d);

    /* Page 1: the database header is not cell space either. */
    d = page_alloc(U);
    put_header(d, 1, 13, 0, 1, 200, 0, 0);
    cr_assert_eq(fmt_page_decode(d, 1, U, &pg), 0);
    memset(d + 110, 0x01, U - 110);
    cr_assert_eq(fmt_cell_parse(d, &pg, 50, &c), FMT_EBAD);
    cr_assert_eq(fmt_cell_parse(d, &pg, 109, &c), FMT_EBAD);
    cr_assert_eq(fmt_cell_parse(d, &pg, 110, &c), 0);
    free(d);
}

Test(format_page, zero_page_numbers_and_huge_payloads_rejected)
{
    const uint32_t U = 1024;
    uint8_t cell[64];
    fmt_page pg;
    fmt_cell c;
    uint8_t *d = page_alloc(U);
    /* Interior cells with left child 0. */
    uint32_t n = build_cell(cell, 5, 0, 10, 0, 0, 0, 0);
    one_cell_page(d, 5, place_cell(d, U, cell, n));
    cr_assert_eq(fmt_page_decode(d, 2, U, &pg), 0);
    cr_assert_eq(fmt_cell_parse(d, &pg, U - n, &c), FMT_EBAD);
    n = build_cell(cell, 2, 0, 0, 10, 10, 0, 0);
    one_cell_page(d, 2, place_cell(d, U, cell, n));
    cr_assert_eq(fmt_page_decode(d, 2, U, &pg), 0);
    cr_assert_eq(fmt_cell_parse(d, &pg, U - n, &c), FMT_EBAD);
    free(d);
    /* An overflow pointer of 0. */
    uint8_t big[1100];
    d = page_alloc(U);
    n = build_cell(big, 10, 0, 0, 500, fmt_payload_local(U, 0, 500), 0, 0);
    one_cell_page(d, 10, place_cell(d, U, big, n));
    cr_assert_eq(fmt_page_decode(d, 2, U, &pg), 0);
    cr_assert_eq(fmt_cell_parse(d, &pg, U - n, &c), FMT_EBAD);
    free(d);
    /* Payload sizes beyond 2^31 - 1. */
    static const uint64_t huge[] = {0x80000000ull, UINT64_MAX};
    for (int i = 0; i < 2; i++) {
        d = page_alloc(U);
        /* Laid out consistently, so only the size limit can reject it. */
        n = build_cell(big, 13, 0, 1, huge[i], fmt_payload_local(U, 1, huge[i]), 3, 0);
        one_cell_page(d, 13, place_cell(d, U, big, n));
        cr_assert_eq(fmt_page_decode(d, 2, U, &pg), 0);
        cr_assert_eq(fmt_cell_parse(d, &pg, U - n, &c), FMT_EBAD);
        free(d);
    }
    /* 2^31 - 1 itself is allowed. */
    d = page_alloc(U);
    uint32_t local = fmt_payload_local(U, 1, 0x7fffffffull);
    n = build_cell(big, 13, 0, 1, 0x7fffffffull, local, 3, 0);
    one_cell_page(d, 13, place_cell(d, U, big, n));
    cr_assert_eq(fmt_page_decode(d, 2, U, &pg), 0);
    cr_assert_eq(fmt_cell_parse(d, &pg, U - n, &c), 0);
    cr_assert_eq(c.payload_size, 0x7fffffffull);
    free(d);
}

Test(format_page, random_pages_never_overread)
{
    uint64_t s = test_seed();
    int pages_ok = 0, cells_ok = 0, cells_bad = 0;
    for (int iter = 0; iter < 20000; iter++) {
        uint32_t usable = 480 + (uint32_t)(fu_splitmix(&s) % 600);
        uint32_t pgno = 1 + (uint32_t)(fu_splitmix(&s) % 2);
        uint8_t *d = page_alloc(usable);
        for (uint32_t i = 0; i < usable; i++)
            d[i] = (uint8_t)fu_splitmix(&s);
        /* Steer the header towards valid so that cells get parsed. */
        static const uint8_t types[] = {2, 5, 10, 13};
        uint8_t *h = d + (pgno == 1 ? 100 : 0);
        h[0] = types[fu_splitmix(&s) % 4];
        fmt_put_u16(h + 1, 0);
        fmt_put_u16(h + 3, (uint32_t)(fu_splitmix(&s) % 40));
        fmt_put_u16(h + 5, 200 + (uint32_t)(fu_splitmix(&s) % (usable - 200)));
        h[7] = 0;
        fmt_page pg;
        if (fmt_page_decode(d, pgno, usable, &pg) == 0) {
            pages_ok++;
            for (uint32_t i = 0; i < pg.ncells; i++) {
                fmt_cell c;
                uint32_t off = fmt_page_cell_off(d, &pg, i) % (usable + 8);
                if (fmt_cell_parse(d, &pg, off, &c) == 0) {
                    cells_ok++;
                    cr_assert_leq(off + c.cell_size, usable);
                    cr_assert_leq(c.local, c.payload_size);
                } else {
                    cells_bad++;
                }
            }
        }
        free(d);
    }
    cr_assert_gt(pages_ok, 0);
    cr_assert_gt(cells_ok, 0);
    cr_assert_gt(cells_bad, 0);
}

Test(format_page, freelist_trunk_capacity)
{
    /* usable/4 - 2: the next-trunk and count words take two slots. (SQLite's
     * writers stop at usable/4 - 8 for old readers; readers accept this.) */
    cr_assert_eq(fmt_trunk_max_leaves(480), 118);
    cr_assert_eq(fmt_trunk_max_leaves(512), 126);
    cr_assert_eq(fmt_trunk_max_leaves(4096), 1022);
    cr_assert_eq(fmt_trunk_max_leaves(65536), 16382);
}

/* ---- walking the b-trees SQLite writes ---------------------------------- */

/* Row i of the test tables holds a blob of sizes[i-1] bytes with this content. */
static uint8_t blob_byte(int64_t i, uint64_t j)
{
    return (uint8_t)((uint64_t)i * 131u + j * 7u + (j >> 8));
}

enum tree_kind { TREE_SCHEMA, TREE_T, TREE_TI, TREE_W };

struct walk {
    const uint8_t *file;
    uint32_t ps, usable, npages;
    uint8_t *seen;         /* per page: visited */
    const uint64_t *sizes; /* blob size of row i at sizes[i-1] */
    uint32_t nrows;
    enum tree_kind kind;
    int64_t last_rowid;
    uint64_t entries;
    uint32_t roots[4]; /* root pages found in sqlite_schema */
    /* Coverage, so the test proves it met every case it claims to check. */
    uint64_t cells_by_type[14];
    uint64_t spill_k[2], spill_m[2], local_only[2]; /* [is_table_leaf] */
    uint64_t overflow_pages;
    uint32_t page_types_seen;
};

static const uint8_t *walk_page_data(struct walk *w, uint32_t pgno)
{
    cr_assert(pgno >= 1 && pgno <= w->npages, "page %u in 1..%u", pgno, w->npages);
    cr_assert_eq(w->seen[pgno], 0, "page %u used twice", pgno);
    w->seen[pgno] = 1;
    return w->file + (size_t)(pgno - 1) * w->ps;
}

/* The whole payload of a cell: the local part, then the overflow chain. */
static uint8_t *gather_payload(struct walk *w, const fmt_cell *c)
{
    uint8_t *buf = malloc(c->payload_size ? (size_t)c->payload_size : 1);
    uint64_t have = c->local;
    uint32_t next = c->overflow, chain = 0;
    cr_assert_not_null(buf);
    memcpy(buf, c->payload, c->local);
    while (have < c->payload_size) {
        const uint8_t *op = walk_page_data(w, next);
        uint64_t take = c->payload_size - have;
        if (take > w->usable - 4)
            take = w->usable - 4;
        memcpy(buf + have, op + 4, (size_t)take);
        have += take;
        next = fmt_get_u32(op);
        chain++;
        w->overflow_pages++;
    }
    cr_assert_eq(next, 0, "the chain ends where the payload does");
    /* SQLite's own count of overflow pages for this cell. */
    cr_assert_eq(chain, (c->payload_size - c->local + w->usable - 5) / (w->usable - 4));
    return buf;
}

static void check_blob(const uint8_t *rec, uint64_t st, uint64_t off, int64_t row,
                       const uint64_t *sizes)
{
    fmt_value v;
    cr_assert_eq(fmt_serial_decode(st, rec + off, &v), 0);
    cr_assert_eq(v.type, FMT_BLOB);
    cr_assert_eq(v.u.s.n, sizes[row - 1], "row %" PRId64 " blob size", row);
    for (uint64_t j = 0; j < v.u.s.n; j++)
        if (v.u.s.p[j] != blob_byte(row, j))
            cr_assert_fail("row %" PRId64 " blob byte %" PRIu64, row, j);
}

static int64_t column_int(const uint8_t *rec, uint64_t st, uint64_t off)
{
    fmt_value v;
    cr_assert_eq(fmt_serial_decode(st, rec + off, &v), 0);
    cr_assert_eq(v.type, FMT_INTEGER);
    return v.u.i;
}

/* Check one entry (a table row, an index key) against what was inserted. */
static void check_entry(struct walk *w, const fmt_cell *c, const uint8_t *rec)
{
    fmt_record r;
    uint64_t st[8], off[8];
    int n = 0, rc;
    cr_assert_eq(fmt_record_open(&r, rec, c->payload_size, c->payload_size), 0);
    while ((rc = fmt_record_next(&r, &st[n], &off[n])) == 1)
        cr_assert_lt(++n, 8);
    cr_assert_eq(rc, 0, "record of %" PRIu64 " bytes decodes fully", c->payload_size);
    w->entries++;
    switch (w->kind) {
    case TREE_SCHEMA: {
        /* type, name, tbl_name, rootpage, sql */
        fmt_value name;
        cr_assert_eq(n, 5);
        cr_assert_eq(fmt_serial_decode(st[1], rec + off[1], &name), 0);
        cr_assert_eq(name.type, FMT_TEXT);
        int64_t root = column_int(rec, st[3], off[3]);
        static const char *names[] = {"t", "ti", "w"};
        for (int k = 0; k < 3; k++)
            if (name.u.s.n == strlen(names[k]) && memcmp(name.u.s.p, names[k], name.u.s.n) == 0)
                w->roots[k + 1] = (uint32_t)root;
        break;
    }
    case TREE_T: /* (a: NULL for INTEGER PRIMARY KEY, b blob) */
        cr_assert_eq(n, 2);
        cr_assert_eq(st[0], 0);
        check_blob(rec, st[1], off[1], c->rowid, w->sizes);
        break;
    case TREE_TI: { /* (b, rowid) */
        cr_assert_eq(n, 2);
        int64_t row = column_int(rec, st[1], off[1]);
        cr_assert(row >= 1 && row <= (int64_t)w->nrows);
        check_blob(rec, st[0], off[0], row, w->sizes);
        break;
    }
    case TREE_W: { /* (k blob, v = row number) */
        cr_assert_eq(n, 2);
        int64_t row = column_int(rec, st[1], off[1]);
        cr_assert(row >= 1 && row <= (int64_t)w->nrows);
        check_blob(rec, st[0], off[0], row, w->sizes);
        break;
    }
    }
}

/* The sizes of the freeblocks, walked with a bound. */
static uint32_t freeblock_bytes(const uint8_t *d, const fmt_page *pg, uint8_t *used)
{
    uint32_t total = 0, at = pg->first_freeblock, steps = 0;
    while (at != 0) {
        cr_assert_lt(steps++, pg->usable / 4);
        cr_assert_leq(at + 4, pg->usable);
        uint32_t next = fmt_get_u16(d + at), size = fmt_get_u16(d + at + 2);
        cr_assert_geq(size, 4);
        cr_assert_leq(at + size, pg->usable);
        for (uint32_t b = at; b < at + size; b++) {
            cr_assert_eq(used[b], 0, "freeblock overlaps at %u", b);
            used[b] = 1;
        }
        total += size;
        cr_assert(next == 0 || next > at + size);
        at = next;
    }
    return total;
}

static void walk_tree(struct walk *w, uint32_t pgno, int depth)
{
    const uint8_t *d;
    fmt_page pg;
    uint8_t *used;
    uint32_t cells_total = 0;

    cr_assert_lt(depth, 20, "tree depth");
    d = walk_page_data(w, pgno);
    cr_assert_eq(fmt_page_decode(d, pgno, w->usable, &pg), 0, "page %u header", pgno);
    cr_assert_eq(pg.hdr_off, pgno == 1 ? 100u : 0u);
    w->page_types_seen |= 1u << pg.type;
    used = calloc(1, w->usable);
    cr_assert_not_null(used);

    for (uint32_t i = 0; i < pg.ncells; i++) {
        fmt_cell c;
        uint32_t off = fmt_page_cell_off(d, &pg, i);
        cr_assert_eq(fmt_cell_parse(d, &pg, off, &c), 0, "page %u cell %u", pgno, i);
        cr_assert_geq(off, pg.content_start, "cell in the content area");
        for (uint32_t b = off; b < off + c.cell_size; b++) {
            cr_assert_eq(used[b], 0, "page %u: cells overlap at %u", pgno, b);
            used[b] = 1;
        }
        cells_total += c.cell_size;
        w->cells_by_type[pg.type]++;

        if (!pg.is_leaf)
            walk_tree(w, c.left_child, depth + 1);
        if (pg.type == FMT_PAGE_TABLE_INTERIOR) {
            cr_assert_leq(w->last_rowid, c.rowid, "keys of the left subtree <= divider");
            continue;
        }
        if (pg.type == FMT_PAGE_TABLE_LEAF) {
            cr_assert_gt(c.rowid, w->last_rowid, "rowids ascend");
            w->last_rowid = c.rowid;
        }
        /* A payload cell: classify how it was split, then check it. */
        int tl = pg.type == FMT_PAGE_TABLE_LEAF;
        uint32_t x = fmt_payload_max_local(w->usable, tl), m = fmt_payload_min_local(w->usable);
        if (c.payload_size <= x) {
            cr_assert_eq(c.local, c.payload_size);
            cr_assert_eq(c.overflow, 0);
            w->local_only[tl]++;
        } else if (c.local == m) {
            w->spill_m[tl]++;
        } else {
            cr_assert_eq((c.payload_size - c.local) % (w->usable - 4), 0);
            w->spill_k[tl]++;
        }
        uint8_t *payload = gather_payload(w, &c);
        check_entry(w, &c, payload);
        free(payload);
    }
    if (!pg.is_leaf)
        walk_tree(w, pg.right_child, depth + 1);

    /* Space accounting, as SQLite's integrity_check does it: header, pointer
     * array, the gap, cells, freeblocks and fragments fill the page exactly. */
    uint32_t ptr_end = pg.hdr_off + pg.hdr_size + 2 * pg.ncells;
    uint32_t free_bytes = freeblock_bytes(d, &pg, used);
    cr_assert_eq(ptr_end + (pg.content_start - ptr_end) + cells_total + free_bytes + pg.frag_bytes,
                 w->usable, "page %u space accounting", pgno);
    free(used);
}

static void check_sqlite_trees(const char *dir, uint32_t ps, int reserve, int big)
{
    char path[4200], sql[256];
    sqlite3 *db;
    sqlite3_stmt *st;
    size_t fsize;
    uint32_t usable = ps - (uint32_t)reserve;
    uint32_t x_t = fmt_payload_max_local(usable, 1), x_i = fmt_payload_max_local(usable, 0);
    uint32_t m = fmt_payload_min_local(usable), o = usable - 4;
    /* Blob sizes around every threshold of both formulas: the records add a
     * few header bytes, so a window of blob sizes covers each edge. */
    const uint64_t thresholds[] = {
        m, x_i, x_t, m + o, x_i + o, x_t + o, 2ull * o + m + 1, 3ull * o + x_i};
    uint64_t sizes[600];
    uint32_t nrows = 0;
    for (size_t t = 0; t < sizeof thresholds / sizeof thresholds[0]; t++) {
        if (!big && t >= 6)
            break;
        for (int dlt = -12; dlt <= 4; dlt++)
            sizes[nrows++] = thresholds[t] + (uint64_t)(int64_t)dlt;
    }
    for (int i = 0; i < 40; i++) /* many small rows give interior pages */
        sizes[nrows++] = 1 + (uint64_t)i * 3;

    snprintf(path, sizeof path, "%s/tree%u_%d.db", dir, ps, reserve);
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(sql, sizeof sql, "PRAGMA page_size=%u", ps);
    fu_exec(db, sql);
    if (reserve) {
        int n = reserve;
        cr_assert_eq(sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &n), SQLITE_OK);
    }
    fu_exec(db, "CREATE TABLE t(a INTEGER PRIMARY KEY, b BLOB);"
                "CREATE INDEX ti ON t(b);"
                "CREATE TABLE w(k BLOB PRIMARY KEY, v INTEGER) WITHOUT ROWID;"
                "BEGIN");
    sqlite3_stmt *st2;
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?1, ?2)", -1, &st, 0), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO w VALUES (?2, ?1)", -1, &st2, 0), SQLITE_OK);
    uint8_t *blob = malloc(4 * 65536 + 20000);
    cr_assert_not_null(blob);
    for (uint32_t i = 1; i <= nrows; i++) {
        for (uint64_t j = 0; j < sizes[i - 1]; j++)
            blob[j] = blob_byte(i, j);
        sqlite3_stmt *both[2] = {st, st2};
        for (int k = 0; k < 2; k++) {
            sqlite3_bind_int64(both[k], 1, i);
            sqlite3_bind_blob(both[k], 2, blob, (int)sizes[i - 1], SQLITE_STATIC);
            cr_assert_eq(sqlite3_step(both[k]), SQLITE_DONE, "%s", sqlite3_errmsg(db));
            sqlite3_reset(both[k]);
        }
    }
    sqlite3_finalize(st);
    sqlite3_finalize(st2);
    free(blob);
    fu_exec(db, "COMMIT");
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);

    struct walk w;
    memset(&w, 0, sizeof w);
    w.file = fu_read_file(path, &fsize);
    fmt_dbheader h;
    cr_assert_eq(fmt_dbheader_decode(w.file, &h, NULL), 0);
    cr_assert_eq(h.page_size, ps);
    cr_assert_eq(h.reserved, reserve);
    w.ps = ps;
    w.usable = usable;
    w.npages = h.page_count;
    cr_assert_eq((size_t)w.npages * ps, fsize);
    w.seen = calloc(1, (size_t)w.npages + 1);
    cr_assert_not_null(w.seen);
    w.sizes = sizes;
    w.nrows = nrows;

    w.kind = TREE_SCHEMA;
    w.last_rowid = INT64_MIN;
    walk_tree(&w, 1, 0);
    cr_assert_eq(w.entries, 3, "sqlite_schema rows");
    for (int k = 1; k <= 3; k++)
        cr_assert_gt(w.roots[k], 1, "root page of tree %d", k);

    static const enum tree_kind kinds[] = {TREE_T, TREE_TI, TREE_W};
    for (int k = 0; k < 3; k++) {
        w.kind = kinds[k];
        w.entries = 0;
        w.last_rowid = INT64_MIN;
        walk_tree(&w, w.roots[k + 1], 0);
        cr_assert_eq(w.entries, nrows, "entries in tree %d", k + 1);
    }
    /* Every page is in a b-tree or an overflow chain: nothing was freed. */
    cr_assert_eq(h.freelist_count, 0);
    for (uint32_t p = 1; p <= w.npages; p++)
        cr_assert_eq(w.seen[p], 1, "page %u reached", p);

    /* The test must have met every kind of page and every split case. */
    cr_assert_eq(w.page_types_seen, (1u << 2) | (1u << 5) | (1u << 10) | (1u << 13),
                 "page size %u: all four page types", ps);
    for (int tl = 0; tl <= 1; tl++) {
        cr_assert_gt(w.local_only[tl], 0, "page size %u: local-only cells", ps);
        cr_assert_gt(w.spill_m[tl], 0, "page size %u: cells keeping M", ps);
        cr_assert_gt(w.spill_k[tl], 0, "page size %u: cells keeping K", ps);
    }
    free(w.seen);
    free((void *)w.file);
}

Test(format_page, walks_sqlite_btrees_small_pages)
{
    char *dir = fu_make_tmpdir();
    check_sqlite_trees(dir, 512, 0, 1);
    check_sqlite_trees(dir, 512, 32, 1); /* usable 480, the minimum */
    check_sqlite_trees(dir, 1024, 0, 1);
    check_sqlite_trees(dir, 2048, 0, 1);
    check_sqlite_trees(dir, 4096, 0, 1);
    check_sqlite_trees(dir, 4096, 64, 1);
    fu_remove_tmpdir(dir);
}

Test(format_page, walks_sqlite_btrees_large_pages)
{
    char *dir = fu_make_tmpdir();
    check_sqlite_trees(dir, 8192, 0, 1);
    check_sqlite_trees(dir, 16384, 0, 1);
    check_sqlite_trees(dir, 32768, 0, 0);
    check_sqlite_trees(dir, 65536, 0, 0);
    check_sqlite_trees(dir, 65536, 255, 0);
    fu_remove_tmpdir(dir);
}

/* ---- pages we lay out, read by SQLite ----------------------------------- */

struct builder {
    uint8_t *file;
    uint32_t ps, usable, npages, cap;
};

static uint8_t *bpage(struct builder *b, uint32_t pgno)
{
    cr_assert(pgno >= 1 && pgno <= b->npages);
    return b->file + (size_t)(pgno - 1) * b->ps;
}

static uint32_t bnew(struct builder *b)
{
    cr_assert_lt(b->npages, b->cap, "builder capacity");
    return ++b->npages;
}

static void binit(struct builder *b, uint32_t pgno, uint8_t type)
{
    uint8_t *h = bpage(b, pgno) + (pgno == 1 ? 100 : 0);
    h[0] = type;
    fmt_put_u16(h + 5, b->usable == 65536 ? 0 : b->usable);
}

/* Append a cell in key order: the payload goes local first, then into a fresh
 * overflow chain, split with fmt_payload_local. */
static void badd(struct builder *b, uint32_t pgno, uint32_t left, int64_t rowid,
                 const uint8_t *payload, uint64_t p)
{
    uint8_t *d = bpage(b, pgno);
    uint32_t hoff = pgno == 1 ? 100 : 0;
    uint8_t type = d[hoff];
    uint32_t hsz = (type & 8) ? 8 : 12;
    uint8_t *cell = malloc(b->usable);
    uint32_t n = 0;
    cr_assert_not_null(cell);
    if (!(type & 8)) {
        fmt_put_u32(cell, left);
        n = 4;
    }
    if (type != FMT_PAGE_TABLE_INTERIOR)
        n += (uint32_t)fmt_varint_put(cell + n, p);
    if (type & 1)
        n += (uint32_t)fmt_varint_put(cell + n, (uint64_t)rowid);
    if (type != FMT_PAGE_TABLE_INTERIOR) {
        uint32_t local = fmt_payload_local(b->usable, type == FMT_PAGE_TABLE_LEAF, p);
        memcpy(cell + n, payload, local);
        n += local;
        if (local < p) {
            uint32_t first = bnew(b), cur = first;
            uint64_t done = local;
            while (done < p) {
                uint64_t take = p - done > b->usable - 4 ? b->usable - 4 : p - done;
                memcpy(bpage(b, cur) + 4, payload + done, (size_t)take);
                done += take;
                uint32_t next = done < p ? bnew(b) : 0;
                fmt_put_u32(bpage(b, cur), next);
                cur = next;
            }
            fmt_put_u32(cell + n, first);
            n += 4;
        }
    }
    uint32_t ncells = fmt_get_u16(d + hoff + 3);
    uint32_t top = fmt_get_u16(d + hoff + 5);
    uint32_t room = n < 4 ? 4 : n;
    if (top == 0)
        top = 65536;
    cr_assert_geq(top, hoff + hsz + 2 * (ncells + 1) + room, "page %u full", pgno);
    top -= room;
    memcpy(d + top, cell, n);
    fmt_put_u16(d + hoff + hsz + 2 * ncells, top);
    fmt_put_u16(d + hoff + 3, ncells + 1);
    fmt_put_u16(d + hoff + 5, top);
    free(cell);
}

static void bset_right(struct builder *b, uint32_t pgno, uint32_t child)
{
    fmt_put_u32(bpage(b, pgno) + (pgno == 1 ? 100 : 0) + 8, child);
}

/* Record (blob of n bytes [, integer v]) with content derived from `seed`;
 * `first` becomes the first blob byte so that keys sort by it. */
static uint64_t make_record(uint8_t *out, uint64_t n, int with_int, int64_t v, uint8_t first,
                            int64_t seed)
{
    uint8_t *blob = malloc(n ? (size_t)n : 1);
    cr_assert_not_null(blob);
    for (uint64_t j = 0; j < n; j++)
        blob[j] = blob_byte(seed, j);
    if (n)
        blob[0] = first;
    fmt_value vals[2];
    memset(vals, 0, sizeof vals);
    vals[0].type = FMT_BLOB;
    vals[0].u.s.p = blob;
    vals[0].u.s.n = n;
    vals[1].type = FMT_INTEGER;
    vals[1].u.i = v;
    uint64_t size = fmt_record_encode(out, vals, with_int ? 2 : 1, 4);
    free(blob);
    return size;
}

static void check_sqlite_reads_our_tree(const char *dir, uint32_t ps)
{
    struct builder b;
    uint32_t u = ps;
    uint32_t x_t = fmt_payload_max_local(u, 1), x_i = fmt_payload_max_local(u, 0);
    uint32_t m = fmt_payload_min_local(u), o = u - 4;
    /* Blob sizes (the records are a few bytes longer) that land on each side of
     * every edge of the formula; each goes on its own leaf or divider. */
    const uint64_t tsizes[] = {5,     x_t - 3,     x_t - 2,     x_t + 5,
                               m + o, x_t + o - 3, x_t + o + 5, 3ull * o + m + 11};
    const uint64_t isizes[] = {5,           x_i - 4,     x_i - 3,           x_i + 3, m + o - 2,
                               x_i + o - 4, x_i + o + 3, 2ull * o + m + 40, 17};
    const int nt = (int)(sizeof tsizes / sizeof tsizes[0]);
    const int ni = (int)(sizeof isizes / sizeof isizes[0]); /* odd: leaf, div, leaf, ... */
    uint8_t *rec = malloc(4ull * 65536 + 1000);
    uint64_t spill_k[2] = {0, 0}, spill_m[2] = {0, 0};
    cr_assert_not_null(rec);

    memset(&b, 0, sizeof b);
    b.ps = ps;
    b.usable = u;
    b.cap = 200;
    b.file = calloc(b.cap, ps);
    cr_assert_not_null(b.file);

    uint32_t p1 = bnew(&b), troot = bnew(&b), wroot = bnew(&b);
    binit(&b, p1, FMT_PAGE_TABLE_LEAF);
    binit(&b, troot, FMT_PAGE_TABLE_INTERIOR);
    binit(&b, wroot, FMT_PAGE_INDEX_INTERIOR);

    /* Table t: one row per leaf; the root divides them by rowid. */
    uint32_t prev_leaf = 0;
    for (int i = 0; i < nt; i++) {
        uint32_t leaf = bnew(&b);
        binit(&b, leaf, FMT_PAGE_TABLE_LEAF);
        uint64_t p = make_record(rec, tsizes[i], 0, 0, 0, i + 1);
        badd(&b, leaf, 0, i + 1, rec, p);
        uint32_t local = fmt_payload_local(u, 1, p);
        if (local < p)
            (local == m ? spill_m : spill_k)[1]++;
        if (prev_leaf)
            badd(&b, troot, prev_leaf, i, NULL, 0);
        prev_leaf = leaf;
    }
    bset_right(&b, troot, prev_leaf);

    /* WITHOUT ROWID w: entries alternate leaf, divider, leaf, ...; dividers
     * live in the interior root and are entries themselves. */
    prev_leaf = 0;
    for (int i = 0; i < ni; i++) {
        uint64_t p = make_record(rec, isizes[i], 1, i + 1, (uint8_t)(i + 1), 1000 + i);
        uint32_t local = fmt_payload_local(u, 0, p);
        if (local < p)
            (local == m ? spill_m : spill_k)[0]++;
        if (i % 2 == 0) {
            prev_leaf = bnew(&b);
            binit(&b, prev_leaf, FMT_PAGE_INDEX_LEAF);
            badd(&b, prev_leaf, 0, 0, rec, p);
        } else {
            badd(&b, wroot, prev_leaf, 0, rec, p);
        }
    }
    bset_right(&b, wroot, prev_leaf);
    cr_assert(spill_k[0] && spill_m[0] && spill_k[1] && spill_m[1],
              "page size %u: both split cases for both formulas", ps);

    /* sqlite_schema. */
    static const char tsql[] = "CREATE TABLE t(b BLOB)";
    static const char wsql[] = "CREATE TABLE w(k BLOB PRIMARY KEY, v INTEGER) WITHOUT ROWID";
    for (int k = 0; k < 2; k++) {
        fmt_value v[5];
        memset(v, 0, sizeof v);
        const char *name = k ? "w" : "t", *sql = k ? wsql : tsql;
        v[0].type = FMT_TEXT;
        v[0].u.s.p = (const uint8_t *)"table";
        v[0].u.s.n = 5;
        v[1].type = v[2].type = FMT_TEXT;
        v[1].u.s.p = v[2].u.s.p = (const uint8_t *)name;
        v[1].u.s.n = v[2].u.s.n = 1;
        v[3].type = FMT_INTEGER;
        v[3].u.i = k ? wroot : troot;
        v[4].type = FMT_TEXT;
        v[4].u.s.p = (const uint8_t *)sql;
        v[4].u.s.n = strlen(sql);
        badd(&b, p1, 0, k + 1, rec, fmt_record_encode(rec, v, 5, 4));
    }

    fmt_dbheader h;
    memset(&h, 0, sizeof h);
    h.page_size = ps;
    h.write_version = h.read_version = 1;
    h.max_payload_frac = 64;
    h.min_payload_frac = 32;
    h.leaf_payload_frac = 32;
    h.change_counter = h.version_valid_for = 1;
    h.page_count = b.npages;
    h.schema_cookie = 1;
    h.schema_format = 4;
    h.text_encoding = 1;
    h.sqlite_version = SQLITE_VERSION_NUMBER;
    fmt_dbheader_encode(b.file, &h);

    char path[4200];
    snprintf(path, sizeof path, "%s/built%u.db", dir, ps);
    fu_write_file(path, b.file, (size_t)b.npages * ps);

    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    assert_integrity_ok(db);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT rowid, b FROM t ORDER BY rowid", -1, &st, 0),
                 SQLITE_OK);
    for (int i = 0; i < nt; i++) {
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        cr_assert_eq(sqlite3_column_int64(st, 0), i + 1);
        uint64_t n = make_record(rec, tsizes[i], 0, 0, 0, i + 1);
        fmt_record r;
        uint64_t sty, off;
        cr_assert_eq(fmt_record_open(&r, rec, n, n), 0);
        cr_assert_eq(fmt_record_next(&r, &sty, &off), 1);
        cr_assert_eq((uint64_t)sqlite3_column_bytes(st, 1), tsizes[i]);
        cr_assert_eq(memcmp(sqlite3_column_blob(st, 1), rec + off, (size_t)tsizes[i]), 0, "row %d",
                     i + 1);
    }
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT k, v FROM w ORDER BY k", -1, &st, 0), SQLITE_OK);
    for (int i = 0; i < ni; i++) {
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        cr_assert_eq(sqlite3_column_int64(st, 1), i + 1);
        uint64_t n = make_record(rec, isizes[i], 1, i + 1, (uint8_t)(i + 1), 1000 + i);
        fmt_record r;
        uint64_t sty, off;
        cr_assert_eq(fmt_record_open(&r, rec, n, n), 0);
        cr_assert_eq(fmt_record_next(&r, &sty, &off), 1);
        cr_assert_eq((uint64_t)sqlite3_column_bytes(st, 0), isizes[i]);
        cr_assert_eq(memcmp(sqlite3_column_blob(st, 0), rec + off, (size_t)isizes[i]), 0, "key %d",
                     i + 1);
    }
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);
    free(rec);
    free(b.file);
}

Test(format_page, sqlite_reads_overflow_cells_we_lay_out)
{
    char *dir = fu_make_tmpdir();
    for (uint32_t ps = 512; ps <= 65536; ps *= 2)
        check_sqlite_reads_our_tree(dir, ps);
    fu_remove_tmpdir(dir);
}
