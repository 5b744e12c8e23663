/*
 * Reading through a map of the database file (folio_options.mmap_bytes):
 * read transactions take pages that have no WAL version in place from the
 * map, the rest from the cache.
 *
 * - Files built by libsqlite3 at page sizes 512, 4096 and 65536, and one
 *   larger than its map: every value, seek and index walk matches libsqlite3
 *   (compare_db with the map on).
 * - Snapshots across a map: a reader holding the map keeps its snapshot while
 *   a writer changes pages (to the WAL) and grows the file; a reader that
 *   starts then sees the changes (WAL pages and pages past the map from the
 *   cache); after a checkpoint a new reader maps the grown file and reads
 *   everything in place; libsqlite3 agrees with the final file.
 * - folio_options of version 1 (before mmap_bytes) still open.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <folio.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS 300

static void populated(const char *path, unsigned page_size, uint64_t seed)
{
    sqlite3 *db = compat_sqlite_open(path);
    compat_execf(db, "PRAGMA page_size=%u; PRAGMA journal_mode=DELETE", page_size);
    compat_populate(db, seed, ROWS);
    compat_sqlite_close(db);
}

static void compare_mapped(unsigned page_size, size_t map_bytes)
{
    uint64_t seed = compat_seed(0x3a9e0000u + page_size);
    printf("mmap page_size=%u map=%zu: seed=%" PRIu64 "\n", page_size, map_bytes, seed);
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "m.db");
    populated(path, page_size, seed);
    compat_folio_mmap_bytes = map_bytes;
    compare_db(path);
    compat_folio_mmap_bytes = 0;
    compat_rmtree(dir);
    free(path);
    free(dir);
}

Test(mmap, values_match_libsqlite3_page_512, .timeout = 300)
{
    compare_mapped(512, (size_t)1 << 30);
}

Test(mmap, values_match_libsqlite3_page_4096, .timeout = 300)
{
    compare_mapped(4096, (size_t)1 << 30);
}

Test(mmap, values_match_libsqlite3_page_65536, .timeout = 300)
{
    compare_mapped(65536, (size_t)1 << 30);
}

Test(mmap, values_match_libsqlite3_file_larger_than_its_map, .timeout = 300)
{
    compare_mapped(1024, 16 * 1024);
}

/* ---- snapshots across the map ---- */

#define BASE 2000
#define MORE 6000

static void value_of(char *buf, size_t cap, int64_t id, int gen)
{
    snprintf(buf, cap, "gen %d of row %" PRId64 ", a text long enough to fill pages quickly", gen,
             id);
}

static folio_db *open_mapped(const char *path)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.mmap_bytes = (size_t)1 << 30;
    folio_db *db = NULL;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    return db;
}

/* Every row of t in txn: ids 1..n, row i of generation gen_of(i). */
static void expect_rows(folio_db *db, folio_txn *txn, int64_t n, int gen_low, int gen_high,
                        int64_t split, const char *who)
{
    folio_table *t;
    folio_cursor *c;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK, "%s", folio_errmsg(db));
    int64_t seen = 0;
    char want[128];
    for (int rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
        int64_t id = folio_cursor_rowid(c);
        cr_assert_eq(id, seen + 1, "%s: rowid %" PRId64 " after %" PRId64, who, id, seen);
        seen = id;
        folio_value v;
        cr_assert_eq(folio_cursor_column(&v, c, 1), FOLIO_OK, "%s", folio_errmsg(db));
        value_of(want, sizeof want, id, id <= split ? gen_low : gen_high);
        cr_assert(v.type == FOLIO_TEXT && v.u.s.n == strlen(want) &&
                      memcmp(v.u.s.p, want, v.u.s.n) == 0,
                  "%s: row %" PRId64 " reads '%.*s', expected '%s'", who, id, (int)v.u.s.n,
                  v.type == FOLIO_TEXT ? (const char *)v.u.s.p : "", want);
    }
    cr_assert_eq(seen, n, "%s: %" PRId64 " rows, expected %" PRId64, who, seen, n);
    /* And by seeks, from the end (other pages first). */
    for (int64_t id = n; id >= 1; id -= 7) {
        cr_assert_eq(folio_cursor_seek_rowid(c, id), FOLIO_ROW, "%s: seek %" PRId64, who, id);
        folio_value v;
        cr_assert_eq(folio_cursor_column(&v, c, 1), FOLIO_OK);
        value_of(want, sizeof want, id, id <= split ? gen_low : gen_high);
        cr_assert(v.u.s.n == strlen(want) && memcmp(v.u.s.p, want, v.u.s.n) == 0,
                  "%s: seek %" PRId64 " reads another value", who, id);
    }
    folio_cursor_close(c);
}

/* A file made by libsqlite3 (after `pragmas`) with table t: rows 1..n of
 * generation 0. Returns the connection, still open. */
static sqlite3 *table_t(const char *path, const char *pragmas, int64_t n)
{
    char buf[128];
    sqlite3 *sq = compat_sqlite_open(path);
    compat_execf(sq, "%s CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)", pragmas);
    sqlite3_stmt *st = compat_prepare(sq, "INSERT INTO t VALUES(?1, ?2)");
    compat_exec(sq, "BEGIN");
    for (int64_t id = 1; id <= n; id++) {
        value_of(buf, sizeof buf, id, 0);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, buf, -1, SQLITE_TRANSIENT);
        cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    compat_exec(sq, "COMMIT");
    sqlite3_finalize(st);
    return sq;
}

Test(mmap, snapshots_hold_across_writes_growth_and_checkpoint, .timeout = 300)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "s.db");
    char buf[128];
    compat_sqlite_close(table_t(path, "", BASE));

    folio_db *db = open_mapped(path);
    folio_txn *r1 = compat_folio_read(db);
    expect_rows(db, r1, BASE, 0, 0, BASE, "reader 1 before the write");

    /* Every old row changes (its pages go to the WAL) and the file grows. */
    folio_txn *w;
    folio_table *t;
    cr_assert_eq(folio_begin(&w, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_table_open(&t, w, "t"), FOLIO_OK);
    for (int64_t id = 1; id <= BASE + MORE; id++) {
        value_of(buf, sizeof buf, id, 1);
        folio_value v[2] = {{FOLIO_INTEGER, {.i = id}}, {FOLIO_TEXT, {.s = {buf, strlen(buf)}}}};
        int rc = id <= BASE ? folio_update(t, id, v, 2) : folio_insert(NULL, t, v, 2);
        cr_assert_eq(rc, FOLIO_OK, "row %" PRId64 ": %s", id, folio_errmsg(db));
    }
    cr_assert_eq(folio_commit(w), FOLIO_OK, "%s", folio_errmsg(db));

    expect_rows(db, r1, BASE, 0, 0, BASE, "reader 1 after the write");
    folio_txn *r2 = compat_folio_read(db);
    expect_rows(db, r2, BASE + MORE, 1, 1, BASE, "reader 2 (old map, new snapshot)");
    cr_assert_eq(folio_commit(r1), FOLIO_OK);
    cr_assert_eq(folio_commit(r2), FOLIO_OK);

    int log = -1, done = -1;
    cr_assert_eq(folio_checkpoint(db, FOLIO_CHECKPOINT_TRUNCATE, &log, &done), FOLIO_OK, "%s",
                 folio_errmsg(db));
    folio_txn *r3 = compat_folio_read(db);
    expect_rows(db, r3, BASE + MORE, 1, 1, BASE, "reader 3 (the grown file mapped)");
    cr_assert_eq(folio_commit(r3), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);

    compat_folio_mmap_bytes = (size_t)1 << 30;
    compare_db(path);
    compat_folio_mmap_bytes = 0;
    compat_rmtree(dir);
    free(path);
    free(dir);
}

Test(mmap, options_of_versions_1_and_2_still_open)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "v.db");
    populated(path, 4096, 7);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.version = 1; /* a caller built before mmap_bytes existed */
    folio_db *db = NULL;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    cr_assert_eq(folio_close(db), FOLIO_OK);
    o.version = 2; /* before txn_timeout_ms */
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    cr_assert_eq(folio_close(db), FOLIO_OK);
    o.version = FOLIO_OPTIONS_VERSION + 1; /* from a later header */
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_MISUSE);
    cr_assert(strstr(folio_open_errmsg(), "version") != NULL, "%s", folio_open_errmsg());
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* The file shrinks under an idle handle's map (libsqlite3 deletes most rows,
 * vacuums and truncates its WAL between folio's transactions): the next
 * reader sees the small file, reading nothing past its end. */
Test(mmap, file_shrunk_by_libsqlite3_between_transactions, .timeout = 120)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "shrink.db");
    sqlite3 *sq = table_t(path, "PRAGMA journal_mode=WAL;", 3000);
    compat_exec(sq, "PRAGMA wal_checkpoint(TRUNCATE)");
    int64_t before = compat_file_size(path);

    folio_db *db = open_mapped(path);
    folio_txn *r = compat_folio_read(db);
    expect_rows(db, r, 3000, 0, 0, 3000, "reader before the shrink");
    cr_assert_eq(folio_commit(r), FOLIO_OK);

    compat_exec(sq, "DELETE FROM t WHERE id > 100; VACUUM; PRAGMA wal_checkpoint(TRUNCATE)");
    compat_sqlite_close(sq);
    int64_t after = compat_file_size(path);
    cr_assert_lt(after * 4, before, "the file did not shrink (%" PRId64 " -> %" PRId64 " bytes)",
                 before, after);

    r = compat_folio_read(db);
    expect_rows(db, r, 100, 0, 0, 100, "reader after the shrink");
    cr_assert_eq(folio_commit(r), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_rmtree(dir);
    free(path);
    free(dir);
}
