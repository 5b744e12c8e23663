/*
 * test_exclusive.c - a sqlite3 connection in PRAGMA locking_mode=EXCLUSIVE
 * holds the database file alone (notes/shm_protocol.md §6.1): folio_open
 * waits its busy timeout, then returns FOLIO_BUSY with a message that says
 * why. Once the connection is gone (closed, or killed with its commits in a
 * WAL it indexed on the heap) folio opens the file and sees every commit.
 * The other way round, a folio handle's SHARED lock keeps such a connection
 * out.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <criterion/criterion.h>
#include <fcntl.h>
#include <folio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "share_util.h"

#define PENDING_BYTE 0x40000000

TestSuite(share_exclusive, .fini = share_fini, .timeout = 120);

static char *make_db(const char *dir)
{
    char *path = compat_path(dir, "x.db");
    folio_db *db = share_folio_open(path, 1000, 0);
    share_folio_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    folio_table *tb;
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    for (int i = 1; i <= 20; i++) {
        folio_value v[2] = {{FOLIO_INTEGER, {.i = i}}, {FOLIO_TEXT, {.s = {"folio", 5}}}};
        cr_assert_eq(folio_insert(NULL, tb, v, 2), FOLIO_OK);
    }
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    return path;
}

static int64_t folio_count(folio_db *db)
{
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_READ), FOLIO_OK, "%s", folio_errmsg(db));
    folio_table *tb;
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, tb, NULL), FOLIO_OK);
    int64_t n = 0;
    for (int rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
        n++;
    folio_cursor_close(c);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    return n;
}

/* folio_open (read-write and read-only) against the holder: BUSY after
 * the timeout, and a message that names the cause. */
static void expect_refused(const char *path, pid_t holder)
{
    cr_assert_eq(share_lock_at(path, PENDING_BYTE, 1), F_WRLCK,
                 "the sqlite3 child does not hold the file exclusively");
    for (int ro = 0; ro < 2; ro++) {
        folio_options o = FOLIO_OPTIONS_INIT;
        o.busy_timeout_ms = 300;
        o.flags = ro ? FOLIO_OPEN_READONLY : 0;
        folio_db *db = NULL;
        uint64_t t0 = share_now_ms();
        int rc = folio_open(&db, path, &o);
        uint64_t waited = share_now_ms() - t0;
        if (rc == FOLIO_OK)
            folio_close(db);
        cr_assert_eq(rc, FOLIO_BUSY, "%s open beside locking_mode=EXCLUSIVE: %d %s",
                     ro ? "read-only" : "read-write", rc, rc ? folio_open_errmsg() : "");
        const char *msg = folio_open_errmsg();
        cr_assert(strstr(msg, "exclusive") || strstr(msg, "EXCLUSIVE"),
                  "the message does not say the file is held exclusively: %s", msg);
        char pidtext[32];
        snprintf(pidtext, sizeof pidtext, "%d", (int)holder);
        cr_assert(strstr(msg, pidtext), "the message does not name process %d: %s", (int)holder,
                  msg);
        cr_assert_geq(waited, 250, "gave up after %llu ms with a busy timeout of 300",
                      (unsigned long long)waited);
    }
}

Test(share_exclusive, open_is_busy_until_the_holder_closes)
{
    char *dir = compat_tmpdir();
    char *path = make_db(dir);
    /* Exclusive from the first read (heap wal-index, no -shm), then the
     * same set after the -shm is in use (taken at the next write). */
    static const char *const enter[2] = {
        "PRAGMA locking_mode=EXCLUSIVE; SELECT count(*) FROM t;"
        "INSERT INTO t VALUES(NULL, 'sqlite-excl')",
        "SELECT count(*) FROM t; PRAGMA locking_mode=EXCLUSIVE;"
        "INSERT INTO t VALUES(NULL, 'sqlite-excl')",
    };
    for (int k = 0; k < 2; k++) {
        share_sql s;
        share_sql_start(&s, path, 1000);
        char out[256];
        int rc = share_sql_run(&s, out, sizeof out, "%s", enter[k]);
        cr_assert_eq(rc, SQLITE_OK, "%s", out);
        expect_refused(path, s.pid);
        share_sql_stop(&s);
        folio_db *db = share_folio_open(path, 1000, 0);
        cr_assert_eq(folio_count(db), 21 + k, "case %d: sqlite3's commit is missing", k);
        cr_assert_eq(folio_close(db), FOLIO_OK);
    }
    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok");
    free(why);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

Test(share_exclusive, holder_killed_with_commits_in_its_wal)
{
    char *dir = compat_tmpdir();
    char *path = make_db(dir);
    share_sql s;
    share_sql_start(&s, path, 1000);
    char out[256];
    int rc = share_sql_run(&s, out, sizeof out,
                           "PRAGMA locking_mode=EXCLUSIVE; PRAGMA wal_autocheckpoint=0;"
                           "SELECT count(*) FROM t;" COMPAT_SERIES(
                               1, 300) "INSERT INTO t SELECT NULL, 'e' || value FROM series;"
                                       "DELETE FROM t WHERE id %% 10 = 0");
    cr_assert_eq(rc, SQLITE_OK, "%s", out);
    int64_t want = share_sql_int(&s, "SELECT count(*) FROM t");
    expect_refused(path, s.pid);
    share_sql_kill(&s);
    char *wal = compat_suffix(path, "-wal");
    cr_assert_gt(compat_file_size(wal), 32, "the killed connection left no WAL");
    free(wal);

    folio_db *db = share_folio_open(path, 1000, 0);
    cr_assert_eq(folio_count(db), want, "folio's recovery lost commits of the killed holder");
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

Test(share_exclusive, folio_open_keeps_an_exclusive_connection_out)
{
    char *dir = compat_tmpdir();
    char *path = make_db(dir);
    folio_db *db = share_folio_open(path, 1000, 0);
    share_sql s;
    share_sql_start(&s, path, 200);
    char out[256];
    int rc =
        share_sql_run(&s, out, sizeof out, "PRAGMA locking_mode=EXCLUSIVE; SELECT count(*) FROM t");
    cr_assert_eq(rc & 0xff, SQLITE_BUSY, "sqlite3 took the file from folio: %d %s", rc, out);
    share_sql_stop(&s);
    cr_assert_eq(folio_count(db), 20);
    share_folio_exec(db, "CREATE INDEX t_v ON t(v)");
    cr_assert_eq(folio_close(db), FOLIO_OK);
    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok");
    free(why);
    compat_rmtree(dir);
    free(path);
    free(dir);
}
