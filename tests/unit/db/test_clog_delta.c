/*
 * test_clog_delta.c - the commit log's page changes (CLOG_REC_DELTA): the
 * ranges made from two images turn the first into the second, are smaller
 * than a page or not made at all, and a COMMIT payload holding them is
 * accepted when whole and refused when its ranges leave the page or the
 * payload. Random pages and edits, seed printed.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btree/btree.h"
#include "db/commitlog.h"
#include "folio.h"

static uint64_t rng;

static uint32_t next_u32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void seed(void)
{
    const char *s = getenv("FOLIO_TEST_SEED");
    rng = s ? strtoull(s, NULL, 10) : 20261207;
    if (!rng)
        rng = 1;
    fprintf(stderr, "seed=%llu\n", (unsigned long long)rng);
}

/* A payload of one page entry: page size, database size, no names, no
 * changes, one page given as ranges. */
static size_t payload_with(uint8_t *out, uint32_t ps, const uint8_t *ranges, size_t rn)
{
    size_t o = 0;
    uint32_t v[5] = {ps, 10, 0, 0, 1};
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 4; k++)
            out[o++] = (uint8_t)(v[i] >> (8 * k));
    out[o++] = 3; /* page 3 */
    out[o++] = 0;
    out[o++] = 0;
    out[o++] = 0;
    out[o++] = CLOG_PAGE_DELTA;
    memcpy(out + o, ranges, rn);
    return o + rn;
}

Test(clog_delta, ranges_turn_before_into_after)
{
    seed();
    const uint32_t sizes[] = {512, 1024, 4096, 16384, 65536};
    uint8_t *a = malloc(65536), *b = malloc(65536), *d = malloc(65536 + 16), *c = malloc(65536),
            *pl = malloc(65536 + 64);
    cr_assert(a && b && d && c && pl);
    int made = 0, whole = 0;
    for (int round = 0; round < 3000; round++) {
        uint32_t ps = sizes[next_u32() % 5];
        for (uint32_t i = 0; i < ps; i++)
            a[i] = (uint8_t)(next_u32() % 4); /* (equal runs are common) */
        memcpy(b, a, ps);
        int edits = (int)(next_u32() % 12);
        for (int e = 0; e < edits; e++) {
            uint32_t off = next_u32() % ps,
                     len = 1 + next_u32() % (e == 0 && round % 7 == 0 ? ps : 40);
            if (off + len > ps)
                len = ps - off;
            int shift = next_u32() % 3 == 0;
            for (uint32_t i = 0; i < len; i++)
                b[off + i] = shift && off + i + 2 < ps ? a[off + i + 2] : (uint8_t)next_u32();
        }
        if (round % 13 == 0) /* all of the page rewritten */
            for (uint32_t i = 0; i < ps; i++)
                b[i] = (uint8_t)(4 + next_u32() % 200);
        size_t n = clog_delta_make(a, b, ps, d, ps);
        if (ps == 65536) {
            cr_assert_eq(n, 0, "page of 65536 bytes: offsets do not fit, never a delta");
            continue;
        }
        if (n == 0) {
            whole++;
            continue;
        }
        made++;
        cr_assert_lt(n, ps, "round %d: %zu bytes of ranges for a page of %u", round, n, ps);
        memcpy(c, a, ps);
        clog_delta_apply(c, d);
        cr_assert(memcmp(c, b, ps) == 0, "round %d (page %u, %d edits): not the after-image", round,
                  ps, edits);
        /* and a payload holding it parses, its entry read back whole */
        size_t pn = payload_with(pl, ps, d, n);
        clog_commit cm;
        cr_assert_eq(clog_commit_parse(pl, pn, CLOG_REC_DELTA, &cm), 0, "round %d", round);
        size_t pos = 0;
        uint32_t pgno;
        const uint8_t *full, *ranges;
        const uint8_t *cells;
        clog_commit_page(&cm, &pos, &pgno, &full, &ranges, &cells);
        cr_assert_eq(pgno, 3);
        cr_assert_null(full);
        cr_assert_eq(pos, cm.pages_n);
        cr_assert(ranges && memcmp(ranges, d, n) == 0);
        clog_commit_free(&cm);
        /* without the flag the same bytes are not whole pages */
        cr_assert_eq(clog_commit_parse(pl, pn, 0, &cm), FOLIO_CORRUPT);
        /* cut short anywhere inside the entry: refused */
        size_t cut = pn - 1 - next_u32() % n;
        cr_assert_eq(clog_commit_parse(pl, cut, CLOG_REC_DELTA, &cm), FOLIO_CORRUPT,
                     "round %d: cut at %zu of %zu", round, cut, pn);
    }
    cr_assert_gt(made, 1000, "only %d deltas made", made);
    cr_assert_gt(whole, 10, "no page changed enough to be kept whole (%d)", whole);
    /* equal images: no range at all */
    memset(a, 5, 4096);
    size_t n = clog_delta_make(a, a, 4096, d, 4096);
    cr_assert_eq(n, 2);
    cr_assert_eq(d[0] | d[1], 0);
    free(a);
    free(b);
    free(c);
    free(d);
    free(pl);
}

Test(clog_delta, ranges_outside_the_page_are_refused)
{
    uint8_t pl[128];
    clog_commit cm;
    /* one range of 8 bytes at offset 4090 of a 4096-byte page */
    uint8_t bad[] = {1, 0, 0xfa, 0x0f, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    size_t pn = payload_with(pl, 4096, bad, sizeof bad);
    cr_assert_eq(clog_commit_parse(pl, pn, CLOG_REC_DELTA, &cm), FOLIO_CORRUPT);
    /* an empty range */
    uint8_t empty[] = {1, 0, 0, 0, 0, 0};
    pn = payload_with(pl, 4096, empty, sizeof empty);
    cr_assert_eq(clog_commit_parse(pl, pn, CLOG_REC_DELTA, &cm), FOLIO_CORRUPT);
    /* the same range inside the page is fine */
    uint8_t good[] = {1, 0, 0xf0, 0x0f, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    pn = payload_with(pl, 4096, good, sizeof good);
    cr_assert_eq(clog_commit_parse(pl, pn, CLOG_REC_DELTA, &cm), 0);
    clog_commit_free(&cm);
    /* an unknown kind of page entry */
    pn = payload_with(pl, 4096, good, sizeof good);
    pl[24] = 7;
    cr_assert_eq(clog_commit_parse(pl, pn, CLOG_REC_DELTA, &cm), FOLIO_CORRUPT);
}

/* ---- compact change entries (CLOG_REC_COMPACT) ---- */

/* A payload with no names, the changes `ch` (n bytes), no pages. */
static size_t payload_changes(uint8_t *out, const uint8_t *ch, size_t n)
{
    size_t o = 0;
    uint32_t v[4] = {4096, 10, 0, (uint32_t)n};
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 4; k++)
            out[o++] = (uint8_t)(v[i] >> (8 * k));
    memcpy(out + o, ch, n);
    o += n;
    memset(out + o, 0, 4); /* no pages */
    return o + 4;
}

/* Random entries of every kind in full form into `full`, and the same in
 * compact form into `cmp`; their byte counts. */
static void random_entries(uint8_t *full, size_t *fn, uint8_t *cmp, size_t *cn, int count)
{
    size_t f = 0, c = 0;
    int64_t prev = 0;
    for (int i = 0; i < count; i++) {
        bt_log_entry e;
        memset(&e, 0, sizeof e);
        int kind = (int)(next_u32() % 6);
        e.op = kind == 5 ? CLOG_DDL : (uint8_t)(1 + kind % 4);
        e.had = (uint8_t)(next_u32() % 3 == 0);
        e.pad = (uint16_t)(next_u32() % 4 == 0 ? next_u32() : 0);
        e.root = next_u32() % 3 == 0 ? next_u32() : 2 + next_u32() % 5;
        uint32_t r = next_u32() % 4;
        e.rowid = r == 0   ? prev + 1
                  : r == 1 ? (int64_t)((uint64_t)next_u32() << 32 | next_u32())
                  : r == 2 ? -(int64_t)(next_u32() % 1000)
                           : INT64_MIN + (int64_t)(next_u32() % 3);
        e.hash = next_u32() % 2 ? (uint64_t)next_u32() << 32 | next_u32() : 0;
        e.size = next_u32() % 40;
        uint8_t rest[200];
        size_t rn = (size_t)e.size;
        for (size_t k = 0; k < rn; k++)
            rest[k] = (uint8_t)next_u32();
        if (e.op == 1 && e.had) { /* the replaced row after the new one */
            uint64_t old = next_u32() % 30;
            memcpy(rest + rn, &old, 8);
            rn += 8;
            for (uint64_t k = 0; k < old; k++)
                rest[rn++] = (uint8_t)next_u32();
        }
        memcpy(full + f, &e, sizeof e);
        memcpy(full + f + sizeof e, rest, rn);
        f += sizeof e + rn;
        c += clog_entry_compact(&e, &prev, cmp + c);
        memcpy(cmp + c, rest, rn);
        c += rn;
    }
    *fn = f;
    *cn = c;
}

Test(clog_delta, compact_entries_come_back_whole)
{
    seed();
    uint8_t *full = malloc(1 << 20), *cmp = malloc(1 << 20), *pl = malloc((1 << 20) + 64);
    cr_assert(full && cmp && pl);
    for (int round = 0; round < 200; round++) {
        size_t fn, cn;
        random_entries(full, &fn, cmp, &cn, 1 + (int)(next_u32() % 200));
        cr_assert_lt(cn, fn, "round %d: the compact form is not smaller", round);
        size_t pn = payload_changes(pl, cmp, cn);
        clog_commit cm;
        cr_assert_eq(clog_commit_parse(pl, pn, CLOG_REC_DELTA | CLOG_REC_COMPACT, &cm), 0,
                     "round %d", round);
        cr_assert_eq(cm.changes_n, fn, "round %d", round);
        cr_assert(memcmp(cm.changes, full, fn) == 0, "round %d: the entries differ", round);
        clog_commit_free(&cm);
        clog_commit_free(&cm);
    }
    free(full);
    free(cmp);
    free(pl);
}

Test(clog_delta, cut_or_damaged_compact_entries_are_refused)
{
    seed();
    uint8_t *full = malloc(1 << 16), *cmp = malloc(1 << 16), *pl = malloc((1 << 16) + 64),
            *ch = malloc(1 << 16);
    cr_assert(full && cmp && pl && ch);
    size_t fn, cn;
    random_entries(full, &fn, cmp, &cn, 20);
    /* Every cut that ends inside an entry is refused (each entry's end
     * is a valid cut). */
    int refused = 0;
    for (size_t cut = 0; cut < cn; cut++) {
        size_t pn = payload_changes(pl, cmp, cut);
        clog_commit cm;
        int rc = clog_commit_parse(pl, pn, CLOG_REC_DELTA | CLOG_REC_COMPACT, &cm);
        cr_assert(rc == 0 || rc == FOLIO_CORRUPT, "cut %zu: %d", cut, rc);
        if (rc == 0)
            clog_commit_free(&cm);
        else
            refused++;
    }
    cr_assert_gt(refused, (int)cn / 2, "only %d of %zu cuts refused", refused, cn);
    /* Random damage: parsed or refused, never read past the bytes (ASan). */
    for (int round = 0; round < 2000; round++) {
        memcpy(ch, cmp, cn);
        int nflip = 1 + (int)(next_u32() % 4);
        for (int k = 0; k < nflip; k++)
            ch[next_u32() % cn] = (uint8_t)next_u32();
        size_t pn = payload_changes(pl, ch, cn);
        clog_commit cm;
        int rc = clog_commit_parse(pl, pn, CLOG_REC_DELTA | CLOG_REC_COMPACT, &cm);
        cr_assert(rc == 0 || rc == FOLIO_CORRUPT, "round %d: %d", round, rc);
        if (rc == 0)
            clog_commit_free(&cm);
    }
    free(full);
    free(cmp);
    free(pl);
    free(ch);
}

/* ---- table leaves built from the record's inserts (CLOG_PAGE_CELLS) ---- */

static size_t put_sqlite_varint(uint8_t *p, uint64_t v)
{
    /* (only the short forms: sizes and rowids under 2^28 here) */
    uint8_t t[4];
    size_t n = 0;
    do {
        t[n++] = (uint8_t)(v & 0x7f);
        v >>= 7;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(t[n - 1 - i] | (i + 1 < n ? 0x80 : 0));
    return n;
}

/* The leaf's entry in a whole COMMIT payload (compact changes): parsed and
 * built back to `page`; then damaged at random: refused, or parsed and
 * built without reading or writing out of bounds (ASan). */
static void through_a_record(const uint8_t *changes, size_t cn, uint32_t pgno, const uint8_t *body,
                             size_t bn, const uint8_t *page, uint32_t ps, int round)
{
    uint8_t *pl = malloc(cn + bn + 64), *cmp = malloc(cn), *back = malloc(ps);
    cr_assert(pl && cmp && back);
    size_t k = 0;
    int64_t prev = 0;
    for (size_t o = 0; o < cn;) {
        bt_log_entry e;
        memcpy(&e, changes + o, sizeof e);
        k += clog_entry_compact(&e, &prev, cmp + k);
        memcpy(cmp + k, changes + o + sizeof e, (size_t)e.size);
        k += (size_t)e.size;
        o += sizeof e + (size_t)e.size;
    }
    size_t o = 0;
    uint32_t v[4] = {ps, 60, 0, (uint32_t)k};
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++)
            pl[o++] = (uint8_t)(v[i] >> (8 * b));
    memcpy(pl + o, cmp, k);
    o += k;
    uint32_t w[2] = {1, pgno};
    for (int i = 0; i < 2; i++)
        for (int b = 0; b < 4; b++)
            pl[o++] = (uint8_t)(w[i] >> (8 * b));
    pl[o++] = CLOG_PAGE_CELLS;
    memcpy(pl + o, body, bn);
    o += bn;
    clog_commit c;
    cr_assert_eq(clog_commit_parse(pl, o, CLOG_REC_DELTA | CLOG_REC_COMPACT, &c), 0, "round %d",
                 round);
    size_t pos = 0;
    uint32_t got;
    const uint8_t *full, *ranges, *cells;
    clog_commit_page(&c, &pos, &got, &full, &ranges, &cells);
    cr_assert(cells && got == pgno && pos == c.pages_n, "round %d", round);
    clog_cells_build(&c, cells, back);
    cr_assert(memcmp(back, page, ps) == 0, "round %d: the page built from the record differs",
              round);
    clog_commit_free(&c);
    uint8_t *bad = malloc(o);
    cr_assert(bad);
    for (int d = 0; d < 60; d++) {
        memcpy(bad, pl, o);
        size_t at = 16 + next_u32() % (o - 16);
        bad[at] = (uint8_t)next_u32();
        if (clog_commit_parse(bad, o, CLOG_REC_DELTA | CLOG_REC_COMPACT, &c) != 0)
            continue;
        pos = 0;
        for (uint32_t i = 0; i < c.npages; i++) {
            clog_commit_page(&c, &pos, &got, &full, &ranges, &cells);
            if (cells)
                clog_cells_build(&c, cells, back);
        }
        clog_commit_free(&c);
    }
    free(bad);
    free(pl);
    free(cmp);
    free(back);
}

Test(clog_delta, table_leaves_come_back_from_their_rows)
{
    seed();
    const uint32_t ps = 4096;
    uint8_t *page = malloc(ps), *synth = malloc(ps), *out = malloc(ps), *back = malloc(ps),
            *changes = malloc(1 << 20);
    cr_assert(page && synth && out && back && changes);
    int made = 0;
    for (int round = 0; round < 300; round++) {
        /* Rows: their insert entries (full form) and a leaf of some of them,
         * cells packed from the page's end; some cells are rows the record
         * does not hold or holds with other bytes; free space holds junk. */
        clog_ins_index x;
        memset(&x, 0, sizeof x);
        size_t cn = 0;
        uint32_t pgno = next_u32() % 8 == 0 ? 1 : 2 + next_u32() % 50;
        size_t hdr = pgno == 1 ? 100 : 0;
        for (uint32_t i = 0; i < ps; i++)
            page[i] = next_u32() % 3 ? 0 : (uint8_t)next_u32();
        page[hdr] = next_u32() % 10 ? 13 : 5;
        unsigned ncells = 0;
        size_t top = ps, ptrs = hdr + 8;
        int64_t rowid = (int64_t)(next_u32() % 100000);
        for (;;) {
            size_t plen = 1 + next_u32() % 60;
            uint8_t cell[80];
            size_t k = put_sqlite_varint(cell, plen);
            k += put_sqlite_varint(cell + k, (uint64_t)rowid);
            for (size_t i = 0; i < plen; i++)
                cell[k + i] = (uint8_t)next_u32();
            size_t clen = k + plen;
            if (top - clen < ptrs + 2 * (ncells + 1) + 16)
                break;
            top -= clen;
            memcpy(page + top, cell, clen);
            page[ptrs + 2 * ncells] = (uint8_t)(top >> 8);
            page[ptrs + 2 * ncells + 1] = (uint8_t)top;
            ncells++;
            int held = next_u32() % 8; /* 0: not in the record, 1: other bytes */
            if (held) {
                bt_log_entry e;
                memset(&e, 0, sizeof e);
                e.op = 1;
                e.root = 2;
                e.rowid = rowid;
                e.size = plen;
                memcpy(changes + cn, &e, sizeof e);
                memcpy(changes + cn + sizeof e, cell + k, plen);
                if (held == 1)
                    changes[cn + sizeof e + next_u32() % plen] ^= 0x5a;
                cr_assert_eq(clog_ins_add(&x, rowid, (uint32_t)cn, changes + cn + sizeof e, plen),
                             0);
                cn += sizeof e + plen;
            }
            rowid += 1 + (next_u32() % 4 == 0 ? next_u32() % 1000 : 0);
        }
        page[hdr + 3] = (uint8_t)(ncells >> 8);
        page[hdr + 4] = (uint8_t)ncells;
        page[hdr + 5] = (uint8_t)(top >> 8);
        page[hdr + 6] = (uint8_t)top;
        size_t n = 0;
        cr_assert_eq(clog_cells_make(&x, page, pgno, ps, ps, synth, out, ps, &n), 0);
        if (page[hdr] != 13)
            cr_assert_eq(n, 0, "round %d: a page that is no table leaf was encoded", round);
        if (n) {
            made++;
            cr_assert_lt(n, ps);
            clog_commit c;
            memset(&c, 0, sizeof c);
            c.page_size = ps;
            c.changes = changes;
            c.changes_n = cn;
            clog_cells_build(&c, out, back);
            cr_assert(memcmp(back, page, ps) == 0, "round %d: the page built differs", round);
            if (made <= 40)
                through_a_record(changes, cn, pgno, out, n, page, ps, round);
        }
        clog_ins_free(&x);
    }
    cr_assert_gt(made, 150, "only %d of 300 pages were encoded", made);
    free(page);
    free(synth);
    free(out);
    free(back);
    free(changes);
}
