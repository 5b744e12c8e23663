/*
 * test_snapshot.c - a snapshot of one engine is protected from the other's
 * writers and checkpoints (notes/shm_protocol.md §7, §8.2, §9).
 *
 *   (a) folio reads; a sqlite3 process rewrites every row the snapshot
 *       reads and asks for checkpoints: PASSIVE copies nothing past folio's
 *       read mark, TRUNCATE reports busy (first column 1) while the reader
 *       lives, and folio goes on reading the old values, also from pages it
 *       had not read before. Once it ends, TRUNCATE succeeds.
 *   (b) sqlite3 reads (BEGIN; SELECT) in its process; folio rewrites every
 *       row and checkpoints: PASSIVE copies nothing past the reader's mark,
 *       FULL, RESTART and TRUNCATE return FOLIO_BUSY; with automatic
 *       checkpoints on, many commits later, the reader still reads the old
 *       values. After its COMMIT, folio's TRUNCATE succeeds.
 *
 * Each case runs with the reader's snapshot on an empty WAL (the reader
 * holds READ0 and reads the database file alone: nothing may be written
 * into the file) and on a WAL with frames (a read mark at its mxFrame).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <criterion/criterion.h>
#include <folio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "share_util.h"

#define NROWS 600
#define BUMP  1000000

TestSuite(share_snapshot, .fini = share_fini, .timeout = 120);

/* t(id, v, pad): NROWS rows, v = id, pads of 300 bytes (about 50 pages).
 * With `frames`, the WAL is left holding commits; else it is empty. */
static folio_db *prepare(const char *path, int frames, unsigned autockpt)
{
    folio_db *db = share_folio_open(path, 200, autockpt);
    share_folio_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad BLOB)");
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    folio_table *tb;
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    uint8_t pad[300];
    memset(pad, 0xa5, sizeof pad);
    for (int64_t i = 1; i <= NROWS; i++) {
        folio_value v[3] = {{FOLIO_INTEGER, {.i = i}},
                            {FOLIO_INTEGER, {.i = i}},
                            {FOLIO_BLOB, {.s = {pad, sizeof pad}}}};
        cr_assert_eq(folio_insert(NULL, tb, v, 3), FOLIO_OK, "%s", folio_errmsg(db));
    }
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    int n_log = -1, n_done = -1;
    int rc = folio_checkpoint(db, FOLIO_CHECKPOINT_TRUNCATE, &n_log, &n_done);
    cr_assert_eq(rc, FOLIO_OK, "truncate with nobody else: %d %s", rc, folio_errmsg(db));
    if (frames) {
        /* A commit that rewrites a few pages with the same values. */
        cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
        cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
        for (int64_t i = 1; i <= NROWS; i += 97) {
            int col = 1;
            folio_value v = {FOLIO_INTEGER, {.i = i}};
            cr_assert_eq(folio_patch(tb, i, &col, &v, 1), FOLIO_OK);
        }
        cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    }
    return db;
}

/* Every row of the snapshot has v == id + bump, read through a cursor
 * (every leaf page), and a few seeks. */
static void folio_expect(folio_txn *t, int64_t bump, const char *when)
{
    folio_table *tb;
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, tb, NULL), FOLIO_OK);
    int64_t n = 0;
    for (int rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
        folio_value v;
        cr_assert_eq(folio_cursor_column(&v, c, 1), FOLIO_OK);
        int64_t id = folio_cursor_rowid(c);
        cr_assert_eq(v.u.i, id + bump, "%s: row %lld has v %lld, the snapshot's is %lld", when,
                     (long long)id, (long long)v.u.i, (long long)(id + bump));
        n++;
    }
    cr_assert_eq(n, NROWS, "%s: %lld rows", when, (long long)n);
    for (int64_t id = NROWS; id > 0; id -= 53) {
        cr_assert_eq(folio_cursor_seek_rowid(c, id), FOLIO_ROW);
        folio_value v;
        cr_assert_eq(folio_cursor_column(&v, c, 1), FOLIO_OK);
        cr_assert_eq(v.u.i, id + bump, "%s: seek to %lld", when, (long long)id);
    }
    folio_cursor_close(c);
}

static int64_t want_sum(int64_t bump)
{
    return (int64_t)NROWS * (NROWS + 1) / 2 + bump * NROWS;
}

static void finish(folio_db *db, char *dir, char *path)
{
    char *msg = share_folio_check(db);
    cr_assert_str_eq(msg, "ok");
    free(msg);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok");
    free(why);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- (a) folio reads, sqlite3 writes and checkpoints ------------------------- */

static void folio_reader_case(int frames)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "a.db");
    folio_db *db = prepare(path, frames, 0);
    share_shm h0;
    share_read_shm(path, &h0);
    cr_assert_eq(h0.mx_frame != 0, frames != 0);

    folio_txn *r;
    cr_assert_eq(folio_begin(&r, db, FOLIO_TXN_READ), FOLIO_OK);
    for (int64_t id = 1; id <= 5; id++) /* a few pages only, before the writes */
        cr_assert_eq(share_folio_get_int(r, "t", id, 1), id);

    share_sql s;
    share_sql_start(&s, path, 200);
    char out[256];
    int rc = share_sql_run(&s, out, sizeof out, "UPDATE t SET v = v + %d", BUMP);
    cr_assert_eq(rc, SQLITE_OK, "%s", out);
    cr_assert_eq(share_sql_run(&s, out, sizeof out, "PRAGMA wal_checkpoint(PASSIVE)"), SQLITE_OK,
                 "%s", out);
    int busy = -1, log = -1, done = -1;
    cr_assert_eq(sscanf(out, "%d|%d|%d", &busy, &log, &done), 3, "%s", out);
    cr_assert(done <= (int)h0.mx_frame,
              "sqlite3's PASSIVE checkpoint copied frame %d, past folio's snapshot (mxFrame %u)",
              done, h0.mx_frame);
    share_shm h1;
    share_read_shm(path, &h1);
    cr_assert(h1.backfill <= h0.mx_frame, "nBackfill %u is past folio's snapshot %u", h1.backfill,
              h0.mx_frame);
    cr_assert(h1.mx_frame > h0.mx_frame);

    for (int k = 0; k < 2; k++) {
        cr_assert_eq(share_sql_run(&s, out, sizeof out, "PRAGMA wal_checkpoint(TRUNCATE)"),
                     SQLITE_OK, "%s", out);
        cr_assert_eq(out[0], '1', "TRUNCATE beside folio's reader did not report busy: %s", out);
        share_read_shm(path, &h1);
        cr_assert(h1.backfill <= h0.mx_frame, "TRUNCATE copied past folio's snapshot");
        /* The snapshot is intact, also on pages not read before. */
        folio_expect(r, 0, "folio reader after sqlite3's update and checkpoints");
    }
    cr_assert_eq(folio_commit(r), FOLIO_OK);

    cr_assert_eq(share_sql_run(&s, out, sizeof out, "PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK,
                 "%s", out);
    cr_assert_str_eq(out, "0|0|0\n", "TRUNCATE after folio's reader ended: %s", out);
    char *wal = compat_suffix(path, "-wal");
    cr_assert_eq(compat_file_size(wal), 0);
    free(wal);
    share_sql_stop(&s);

    cr_assert_eq(folio_begin(&r, db, FOLIO_TXN_READ), FOLIO_OK);
    folio_expect(r, BUMP, "a new folio reader");
    cr_assert_eq(folio_commit(r), FOLIO_OK);
    finish(db, dir, path);
}

Test(share_snapshot, folio_reader_on_empty_wal)
{
    folio_reader_case(0);
}

Test(share_snapshot, folio_reader_on_wal_frames)
{
    folio_reader_case(1);
}

/* ---- (b) sqlite3 reads, folio writes and checkpoints ------------------------- */

static void folio_update_all(folio_db *db, int64_t delta)
{
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
    folio_table *tb;
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    for (int64_t id = 1; id <= NROWS; id++) {
        int col = 1;
        folio_value v = {FOLIO_INTEGER, {.i = share_folio_get_int(t, "t", id, 1) + delta}};
        cr_assert_eq(folio_patch(tb, id, &col, &v, 1), FOLIO_OK, "%s", folio_errmsg(db));
    }
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
}

static void sqlite_expect(share_sql *s, int64_t bump, const char *when)
{
    char out[256];
    int rc = share_sql_run(s, out, sizeof out,
                           "SELECT count(*), sum(v), sum(v - id = %d), sum(length(pad)) FROM t",
                           (int)bump);
    cr_assert_eq(rc, SQLITE_OK, "%s: %s", when, out);
    char want[128];
    snprintf(want, sizeof want, "%d|%lld|%d|%d\n", NROWS, (long long)want_sum(bump), NROWS,
             NROWS * 300);
    cr_assert_str_eq(out, want, "%s: sqlite3 reads %s, its snapshot is %s", when, out, want);
}

static void sqlite_reader_case(int frames, unsigned autockpt)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "b.db");
    folio_db *db = prepare(path, frames, autockpt);
    share_shm h0;
    share_read_shm(path, &h0);

    share_sql s;
    share_sql_start(&s, path, 200);
    char out[256];
    cr_assert_eq(share_sql_run(&s, out, sizeof out, "BEGIN"), SQLITE_OK, "%s", out);
    sqlite_expect(&s, 0, "sqlite3 reader at its start");

    int rounds = autockpt ? 30 : 1;
    for (int i = 0; i < rounds; i++)
        folio_update_all(db, i + 1 == rounds ? BUMP - (rounds - 1) : 1);

    int n_log = -1, n_done = -1;
    int rc = folio_checkpoint(db, FOLIO_CHECKPOINT_PASSIVE, &n_log, &n_done);
    cr_assert_eq(rc, FOLIO_OK, "PASSIVE beside a reader: %d %s", rc, folio_errmsg(db));
    cr_assert(n_done <= (int)h0.mx_frame,
              "folio's PASSIVE checkpoint copied frame %d, past sqlite3's snapshot (mxFrame %u)",
              n_done, h0.mx_frame);
    cr_assert_lt(n_done, n_log);
    share_shm h1;
    share_read_shm(path, &h1);
    cr_assert(h1.backfill <= h0.mx_frame, "nBackfill %u past sqlite3's snapshot %u", h1.backfill,
              h0.mx_frame);
    sqlite_expect(&s, 0, "sqlite3 reader after folio's PASSIVE");

    static const int modes[3] = {FOLIO_CHECKPOINT_TRUNCATE, FOLIO_CHECKPOINT_FULL,
                                 FOLIO_CHECKPOINT_RESTART};
    for (int m = 0; m < 3; m++) {
        n_log = n_done = -1;
        rc = folio_checkpoint(db, modes[m], &n_log, &n_done);
        cr_assert_eq(rc, FOLIO_BUSY, "checkpoint mode %d beside sqlite3's reader: %d %s", modes[m],
                     rc, folio_errmsg(db));
        share_read_shm(path, &h1);
        cr_assert(h1.backfill <= h0.mx_frame, "mode %d: nBackfill %u past the snapshot %u",
                  modes[m], h1.backfill, h0.mx_frame);
        sqlite_expect(&s, 0, "sqlite3 reader after folio's busy checkpoint");
    }
    /* folio itself reads the new values meanwhile. */
    folio_txn *r;
    cr_assert_eq(folio_begin(&r, db, FOLIO_TXN_READ), FOLIO_OK);
    folio_expect(r, BUMP, "folio beside the sqlite3 reader");
    cr_assert_eq(folio_commit(r), FOLIO_OK);

    cr_assert_eq(share_sql_run(&s, out, sizeof out, "COMMIT"), SQLITE_OK, "%s", out);
    rc = folio_checkpoint(db, FOLIO_CHECKPOINT_TRUNCATE, &n_log, &n_done);
    cr_assert_eq(rc, FOLIO_OK, "TRUNCATE after the reader ended: %d %s", rc, folio_errmsg(db));
    char *wal = compat_suffix(path, "-wal");
    cr_assert_eq(compat_file_size(wal), 0, "TRUNCATE left the -wal non-empty");
    free(wal);
    share_read_shm(path, &h1);
    cr_assert_eq(h1.mx_frame, 0u);
    cr_assert_eq(h1.backfill, 0u);
    sqlite_expect(&s, BUMP, "a new sqlite3 read");
    share_sql_stop(&s);
    finish(db, dir, path);
}

Test(share_snapshot, sqlite_reader_on_empty_wal)
{
    sqlite_reader_case(0, 0);
}

Test(share_snapshot, sqlite_reader_on_wal_frames)
{
    sqlite_reader_case(1, 0);
}

Test(share_snapshot, sqlite_reader_against_automatic_checkpoints)
{
    sqlite_reader_case(1, 8);
}

Test(share_snapshot, sqlite_reader_on_empty_wal_against_automatic_checkpoints)
{
    sqlite_reader_case(0, 8);
}
