/*
 * test_restart.c - readers of one engine while a writer of the other starts
 * the WAL over again and again (notes/shm_protocol.md §8.2, §9 TRUNCATE).
 *
 * The table t holds ROWS rows that always share one value v: every write
 * transaction sets v = v + 1 on all of them (about 70 pages, so 70 frames a
 * commit), and after most commits the writer asks for a TRUNCATE or RESTART
 * checkpoint, so that the WAL is reset and its index rewritten from frame 1
 * while readers come and go. A reader begins a snapshot (now and then
 * after a pause, so that it has many frames to catch up on), checks that
 * the rows it reads (all of them, or a few) have the same v and that v
 * never goes back, and ends it.
 *
 *   - folio reads in the test process, a sqlite3 process writes;
 *   - sqlite3 reads in a process, folio writes in the test process.
 *
 * A reader must never fail: a snapshot that moved under it is retried, not
 * reported as damage.
 *
 * Environment: FOLIO_SEED (printed as seed=N), FOLIO_SOAK=1 (20 s and
 * 40 s instead of 2 s and 4 s).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <criterion/criterion.h>
#include <folio.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "share_util.h"

#define ROWS 2000

TestSuite(share_restart, .fini = share_fini, .timeout = 600);

/* Traffic time of a test, in ms (the folio reader's race with restarts
 * gets twice as long: it is the one that needs luck to be hit). */
static unsigned run_ms(int longer)
{
    return (share_soak() ? 20000u : 2000u) * (longer ? 2u : 1u);
}

static void make_db(const char *path)
{
    folio_db *db = share_folio_open(path, 5000, 0);
    share_folio_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)");
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    folio_table *tb;
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    char pad[100];
    memset(pad, 'r', sizeof pad);
    for (int i = 1; i <= ROWS; i++) {
        folio_value v[3] = {{FOLIO_INTEGER, {.i = i}},
                            {FOLIO_INTEGER, {.i = 0}},
                            {FOLIO_TEXT, {.s = {pad, sizeof pad}}}};
        cr_assert_eq(folio_insert(NULL, tb, v, 3), FOLIO_OK);
    }
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
}

typedef struct job {
    const char *path;
    uint64_t seed;
    uint64_t deadline_ms;
} job;

/* ---- folio reads, sqlite3 writes ------------------------------------------------- */

static int sqlite_restarter(void *arg)
{
    const job *j = arg;
    uint64_t rng = j->seed;
    sqlite3 *db;
    if (sqlite3_open_v2(j->path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return 2;
    sqlite3_busy_timeout(db, 10000);
    sqlite3_exec(db, "PRAGMA synchronous=OFF; PRAGMA wal_autocheckpoint=0", NULL, NULL, NULL);
    int commits = 0, truncated = 0;
    while (share_now_ms() < j->deadline_ms) {
        if (sqlite3_exec(db, "UPDATE t SET v = v + 1", NULL, NULL, NULL) != SQLITE_OK) {
            fprintf(stderr, "sqlite3 writer: update: %s\n", sqlite3_errmsg(db));
            return 3;
        }
        commits++;
        if (compat_below(&rng, 8) != 0) {
            sqlite3_busy_timeout(db, (int)compat_below(&rng, 20));
            int log = -1, done = -1;
            int rc = sqlite3_wal_checkpoint_v2(db, NULL,
                                               compat_below(&rng, 2) ? SQLITE_CHECKPOINT_TRUNCATE
                                                                     : SQLITE_CHECKPOINT_RESTART,
                                               &log, &done);
            truncated += rc == SQLITE_OK;
            sqlite3_busy_timeout(db, 10000);
        }
    }
    fprintf(stderr, "sqlite3 writer: %d commits, %d restart/truncate checkpoints done\n", commits,
            truncated);
    return sqlite3_close(db) == SQLITE_OK ? 0 : 4;
}

/* The v of a fresh snapshot: every row's (`full`) or a few rows' (else),
 * all equal, never less than `at_least`. *out_rc: folio_begin's code. */
static int64_t folio_snapshot_value(folio_db *db, int64_t at_least, int full, uint64_t *rng,
                                    int *out_rc)
{
    folio_txn *t;
    int rc = folio_begin(&t, db, FOLIO_TXN_READ);
    *out_rc = rc;
    if (rc != FOLIO_OK)
        return -1;
    folio_table *tb;
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, tb, NULL), FOLIO_OK);
    int64_t first = -1, n = 0;
    if (full) {
        for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
            folio_value v;
            cr_assert_eq(folio_cursor_column(&v, c, 1), FOLIO_OK);
            if (first < 0)
                first = v.u.i;
            cr_assert_eq(v.u.i, first, "row %lld has v %lld, the first row %lld in one snapshot",
                         (long long)folio_cursor_rowid(c), (long long)v.u.i, (long long)first);
            n++;
        }
        cr_assert_eq(rc, FOLIO_DONE, "scan: %d %s", rc, folio_errmsg(db));
        cr_assert_eq(n, ROWS);
    } else {
        for (int k = 0; k < 3; k++) {
            int64_t id = 1 + (int64_t)compat_below(rng, ROWS);
            cr_assert_eq(folio_cursor_seek_rowid(c, id), FOLIO_ROW);
            folio_value v;
            cr_assert_eq(folio_cursor_column(&v, c, 1), FOLIO_OK);
            if (first < 0)
                first = v.u.i;
            cr_assert_eq(v.u.i, first, "row %lld has v %lld, another row %lld in one snapshot",
                         (long long)id, (long long)v.u.i, (long long)first);
        }
    }
    cr_assert_geq(first, at_least, "v went back from %lld to %lld", (long long)at_least,
                  (long long)first);
    folio_cursor_close(c);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    return first;
}

Test(share_restart, folio_reader_across_sqlite3_restarts)
{
    uint64_t seed = compat_seed(3);
    uint64_t rng = seed;
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "r.db");
    make_db(path);
    job j = {path, compat_rand(&rng), share_now_ms() + run_ms(1)};
    pid_t pid = share_spawn(sqlite_restarter, &j, NULL, 0);
    folio_db *db = share_folio_open(path, 10000, 0);
    int64_t last = 0;
    int snaps = 0;
    while (share_now_ms() < j.deadline_ms) {
        if (compat_below(&rng, 16) == 0)
            share_sleep_us((unsigned)compat_below(&rng, 3000));
        int rc;
        int64_t v = folio_snapshot_value(db, last, compat_below(&rng, 8) == 0, &rng, &rc);
        cr_assert_eq(rc, FOLIO_OK,
                     "folio_begin(READ) beside a sqlite3 writer restarting the WAL: %d %s "
                     "(after %d snapshots, seed=%llu)",
                     rc, folio_errmsg(db), snaps, (unsigned long long)seed);
        last = v;
        snaps++;
    }
    int st;
    cr_assert(share_wait(pid, 120000, &st), "the sqlite3 writer did not end");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "sqlite3 writer: %s", share_status_str(st));
    cr_log_info("%d folio snapshots, last v %lld", snaps, (long long)last);
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

/* ---- sqlite3 reads, folio writes ---------------------------------------------------- */

static int sqlite_checker(void *arg)
{
    const job *j = arg;
    uint64_t rng = j->seed;
    sqlite3 *db;
    if (sqlite3_open_v2(j->path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return 2;
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT count(*), min(v), max(v) FROM t", -1, &st, NULL) !=
        SQLITE_OK)
        return 3;
    int64_t last = 0;
    int snaps = 0, rc = 0;
    while (share_now_ms() < j->deadline_ms && rc == 0) {
        if (compat_below(&rng, 2))
            share_sleep_us((unsigned)compat_below(&rng, 3000));
        if (sqlite3_step(st) != SQLITE_ROW) {
            fprintf(stderr, "sqlite3 reader: %d %s (after %d snapshots)\n",
                    sqlite3_extended_errcode(db), sqlite3_errmsg(db), snaps);
            rc = 4;
            break;
        }
        int64_t n = sqlite3_column_int64(st, 0), lo = sqlite3_column_int64(st, 1),
                hi = sqlite3_column_int64(st, 2);
        if (n != ROWS || lo != hi || lo < last) {
            fprintf(stderr, "sqlite3 reader: %lld rows, v from %lld to %lld (last %lld)\n",
                    (long long)n, (long long)lo, (long long)hi, (long long)last);
            rc = 5;
        }
        last = lo;
        sqlite3_reset(st);
        snaps++;
    }
    fprintf(stderr, "sqlite3 reader: %d snapshots, last v %lld\n", snaps, (long long)last);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

Test(share_restart, sqlite3_reader_across_folio_restarts)
{
    uint64_t seed = compat_seed(4);
    uint64_t rng = seed;
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "s.db");
    make_db(path);
    job j = {path, compat_rand(&rng), share_now_ms() + run_ms(0)};
    pid_t pid = share_spawn(sqlite_checker, &j, NULL, 0);
    /* A short busy timeout: TRUNCATE and RESTART wait for the reader that long. */
    folio_db *db = share_folio_open(path, 300, 0);
    int commits = 0, restarts = 0;
    while (share_now_ms() < j.deadline_ms) {
        folio_txn *t;
        int rc = folio_begin(&t, db, FOLIO_TXN_WRITE);
        cr_assert_eq(rc, FOLIO_OK, "%d %s", rc, folio_errmsg(db));
        folio_table *tb;
        cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
        folio_cursor *c;
        cr_assert_eq(folio_cursor_open(&c, tb, NULL), FOLIO_OK);
        folio_value v;
        cr_assert_eq(folio_cursor_first(c), FOLIO_ROW);
        cr_assert_eq(folio_cursor_column(&v, c, 1), FOLIO_OK);
        folio_cursor_close(c);
        for (int64_t id = 1; id <= ROWS; id++) {
            int col = 1;
            folio_value nv = {FOLIO_INTEGER, {.i = v.u.i + 1}};
            cr_assert_eq(folio_patch(tb, id, &col, &nv, 1), FOLIO_OK, "%s", folio_errmsg(db));
        }
        cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
        commits++;
        if (compat_below(&rng, 4) != 0) {
            int n_log, n_done;
            rc = folio_checkpoint(
                db, compat_below(&rng, 2) ? FOLIO_CHECKPOINT_TRUNCATE : FOLIO_CHECKPOINT_RESTART,
                &n_log, &n_done);
            cr_assert(rc == FOLIO_OK || rc == FOLIO_BUSY, "checkpoint: %d %s", rc,
                      folio_errmsg(db));
            restarts += rc == FOLIO_OK;
        }
    }
    int st;
    cr_assert(share_wait(pid, 120000, &st), "the sqlite3 reader did not end");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "sqlite3 reader: %s (seed=%llu)",
              share_status_str(st), (unsigned long long)seed);
    cr_log_info("folio: %d commits, %d restart/truncate checkpoints done", commits, restarts);
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
