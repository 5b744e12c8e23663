/*
 * test_versions.c - every commit has a version: one more than the one
 * before, the same for every handle and process, durable across reopening,
 * checkpoints of every mode and WAL restarts; commits of a sqlite3 process
 * count too while folio sees them in the WAL. folio_wait_version wakes on
 * another process's commit and times out otherwise; folio_on_commit calls
 * back with each version. Every file is checked by libsqlite3.
 *
 * Environment: FOLIO_SEED (printed as seed=N).
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

TestSuite(share_versions, .fini = share_fini, .timeout = 600);

static char g_dir[256], g_path[320];

static void setup_dir(void)
{
    const char *base = getenv("FOLIO_TMP");
    snprintf(g_dir, sizeof g_dir, "%s/vers-XXXXXX", base && *base ? base : "/tmp");
    cr_assert(mkdtemp(g_dir));
    snprintf(g_path, sizeof g_path, "%s/v.db", g_dir);
}

static uint64_t version_of(folio_db *db)
{
    uint64_t v;
    cr_assert_eq(folio_version(db, &v), FOLIO_OK, "%s", folio_errmsg(db));
    return v;
}

static uint64_t read_txn_version(folio_db *db)
{
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_READ), FOLIO_OK, "%s", folio_errmsg(db));
    uint64_t v;
    cr_assert_eq(folio_txn_version(t, &v), FOLIO_OK);
    folio_rollback(t);
    return v;
}

static void integrity_ok(void)
{
    sqlite3 *s;
    cr_assert_eq(sqlite3_open_v2(g_path, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(s, 5000);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(s, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(s);
}

typedef struct cb_log {
    uint64_t v[4096];
    int n;
} cb_log;

static void on_commit(void *arg, uint64_t version)
{
    cb_log *l = arg;
    if (l->n < 4096)
        l->v[l->n++] = version;
}

/* One random write transaction on t(id, v, pad); returns whether it
 * changed something (an empty one is no new version). */
static int random_write(folio_db *db, uint64_t *rng, uint64_t expect_before)
{
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
    uint64_t v;
    cr_assert_eq(folio_txn_version(t, &v), FOLIO_OK);
    cr_assert_eq(v, expect_before,
                 "a write transaction reads version %" PRIu64 ", expected %" PRIu64, v,
                 expect_before);
    folio_table *tb;
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    int kind = (int)compat_below(rng, 10), changed = 1;
    char pad[600];
    memset(pad, 'a' + (int)compat_below(rng, 26), sizeof pad);
    if (kind == 0) {
        changed = 0; /* nothing */
    } else if (kind <= 5) {
        int n = 1 + (int)compat_below(rng, kind == 5 ? 200 : 3); /* some grow the file */
        for (int i = 0; i < n; i++) {
            folio_value vals[3] = {{FOLIO_NULL, {0}},
                                   {FOLIO_INTEGER, {.i = (int64_t)compat_below(rng, 1000)}},
                                   {FOLIO_TEXT, {.s = {pad, 1 + compat_below(rng, sizeof pad)}}}};
            cr_assert_eq(folio_insert(NULL, tb, vals, 3), FOLIO_OK, "%s", folio_errmsg(db));
        }
    } else {
        /* update or delete a row that may be missing */
        folio_cursor *c;
        cr_assert_eq(folio_cursor_open(&c, tb, NULL), FOLIO_OK);
        int rc = folio_cursor_first(c);
        int64_t id = rc == FOLIO_ROW ? folio_cursor_rowid(c) : -1;
        folio_cursor_close(c);
        if (id < 0) {
            changed = 0;
        } else if (kind <= 7) {
            folio_value vals[3] = {{FOLIO_INTEGER, {.i = id}},
                                   {FOLIO_INTEGER, {.i = -1}},
                                   {FOLIO_TEXT, {.s = {pad, 10}}}};
            cr_assert_eq(folio_update(tb, id, vals, 3), FOLIO_OK, "%s", folio_errmsg(db));
        } else {
            cr_assert_eq(folio_delete(tb, id), FOLIO_OK, "%s", folio_errmsg(db));
        }
    }
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    return changed;
}

Test(share_versions, every_commit_counts_through_checkpoints_restarts_and_reopening)
{
    setup_dir();
    uint64_t seed = compat_seed(11);
    uint64_t rng = seed;
    folio_db *db = share_folio_open(g_path, 5000, 8);
    cr_assert_eq(version_of(db), 0);
    share_folio_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)");
    uint64_t expect = 1;
    cr_assert_eq(version_of(db), expect);
    static cb_log log;
    log.n = 0;
    cr_assert_eq(folio_on_commit(db, on_commit, &log), FOLIO_OK);
    int from_cb = 0;
    for (int step = 0; step < 400; step++) {
        int r = (int)compat_below(&rng, 20);
        if (r == 0) {
            cr_assert_eq(folio_close(db), FOLIO_OK);
            /* (with FOLIO_SYNC_FULL, commits wait in a group for their
             * sync while a background checkpoint may copy them) */
            folio_options o = FOLIO_OPTIONS_INIT;
            o.busy_timeout_ms = 5000;
            o.wal_autocheckpoint = (unsigned)compat_below(&rng, 3) * 8;
            o.sync = compat_below(&rng, 2) ? FOLIO_SYNC_FULL : FOLIO_SYNC_NORMAL;
            cr_assert_eq(folio_open(&db, g_path, &o), FOLIO_OK, "%s", folio_open_errmsg());
            cr_assert_eq(folio_on_commit(db, on_commit, &log), FOLIO_OK);
        } else if (r == 1) {
            int mode = (int)compat_below(&rng, 4);
            int rc = folio_checkpoint(db, mode, NULL, NULL);
            cr_assert(rc == FOLIO_OK || rc == FOLIO_BUSY, "checkpoint %d: %d %s", mode, rc,
                      folio_errmsg(db));
        } else {
            int before = log.n;
            if (random_write(db, &rng, expect)) {
                expect++;
                cr_assert_eq(log.n, before + 1, "seed=%" PRIu64 " step %d: no callback", seed,
                             step);
                cr_assert_eq(log.v[log.n - 1], expect, "seed=%" PRIu64 " step %d", seed, step);
                from_cb++;
            } else {
                cr_assert_eq(log.n, before, "an empty commit called back");
            }
        }
        cr_assert_eq(version_of(db), expect, "seed=%" PRIu64 " step %d", seed, step);
        cr_assert_eq(read_txn_version(db), expect, "seed=%" PRIu64 " step %d", seed, step);
    }
    cr_assert_gt(from_cb, 100);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    integrity_ok();
    db = share_folio_open(g_path, 5000, 0);
    cr_assert_eq(version_of(db), expect);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_rmtree(g_dir);
}

/* ---- other handles, other processes ---------------------------------------------- */

typedef struct child_job {
    const char *path;
    int commits;
    unsigned delay_ms;
    int fd; /* where it reports the version of each commit */
} child_job;

static int folio_child(void *arg)
{
    const child_job *j = arg;
    share_sleep_ms(j->delay_ms);
    folio_db *db;
    folio_options o = FOLIO_OPTIONS_INIT;
    o.busy_timeout_ms = 10000;
    o.wal_autocheckpoint = 0;
    if (folio_open(&db, j->path, &o) != FOLIO_OK)
        return 2;
    for (int i = 0; i < j->commits; i++) {
        folio_txn *t;
        folio_table *tb;
        folio_value v[3] = {{FOLIO_NULL, {0}}, {FOLIO_INTEGER, {.i = i}}, {FOLIO_NULL, {0}}};
        if (folio_begin(&t, db, FOLIO_TXN_WRITE) != FOLIO_OK ||
            folio_table_open(&tb, t, "t") != FOLIO_OK || folio_insert(NULL, tb, v, 3) != FOLIO_OK ||
            folio_commit(t) != FOLIO_OK)
            return 3;
        uint64_t ver;
        if (folio_version(db, &ver) != FOLIO_OK)
            return 4;
        share_log(j->fd, "%" PRIu64, ver);
    }
    return folio_close(db) == FOLIO_OK ? 0 : 5;
}

Test(share_versions, handles_and_processes_agree_and_wait_wakes)
{
    setup_dir();
    folio_db *a = share_folio_open(g_path, 5000, 0);
    share_folio_exec(a, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)");
    folio_db *b = share_folio_open(g_path, 5000, 0);
    cr_assert_eq(version_of(b), 1);
    share_folio_exec(b, "CREATE INDEX tv ON t(v)");
    cr_assert_eq(version_of(a), 2);

    /* Nothing comes: a timeout. */
    uint64_t t0 = share_now_ms();
    cr_assert_eq(folio_wait_version(a, 2, 100), FOLIO_TIMEOUT);
    cr_assert_geq(share_now_ms() - t0, 100);
    cr_assert_eq(folio_wait_version(a, 1, 0), FOLIO_OK); /* 2 is after 1 */

    /* Another process commits 20 times after a pause: the wait wakes. */
    char logpath[400];
    snprintf(logpath, sizeof logpath, "%s/child.log", g_dir);
    int fd = share_log_open(logpath);
    cr_assert_geq(fd, 0);
    child_job j = {g_path, 20, 200, fd};
    pid_t pid = share_spawn(folio_child, &j, &fd, 1);
    cr_assert_eq(folio_wait_version(a, 2, 20000), FOLIO_OK, "%s", folio_errmsg(a));
    int st;
    cr_assert_eq(share_wait(pid, 30000, &st), 1);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: %s", share_status_str(st));
    close(fd);
    /* The child saw 3..22, and both handles here say 22. */
    FILE *f = fopen(logpath, "r");
    cr_assert(f);
    uint64_t want = 3, got;
    while (fscanf(f, "%" SCNu64, &got) == 1)
        cr_assert_eq(got, want++, "the child's versions go 3, 4, ...");
    fclose(f);
    cr_assert_eq(want, 23);
    cr_assert_eq(version_of(a), 22);
    cr_assert_eq(version_of(b), 22);
    /* A write here goes on from there. */
    share_folio_exec(a, "CREATE TABLE u(x)");
    cr_assert_eq(version_of(b), 23);
    cr_assert_eq(folio_close(b), FOLIO_OK);
    cr_assert_eq(folio_close(a), FOLIO_OK);
    integrity_ok();
    compat_rmtree(g_dir);
}

/* ---- sqlite3 beside folio ------------------------------------------------------------ */

Test(share_versions, sqlite3_commits_count_while_folio_sees_them)
{
    setup_dir();
    folio_db *db = share_folio_open(g_path, 5000, 0);
    share_folio_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)");
    cr_assert_eq(version_of(db), 1);
    share_sql s;
    share_sql_start(&s, g_path, 5000);
    for (int i = 0; i < 5; i++)
        share_sql_int(&s, "INSERT INTO t(v) VALUES(%d)", i);
    cr_assert_eq(version_of(db), 6);
    /* A sqlite3 commit that rewrites page 1 (DDL) carries folio's stamp on. */
    share_sql_int(&s, "CREATE TABLE w(a, b)");
    cr_assert_eq(version_of(db), 7);
    share_folio_exec(db, "CREATE INDEX ti ON t(v)");
    cr_assert_eq(version_of(db), 8);
    share_sql_int(&s, "INSERT INTO w VALUES(1, 2)");
    cr_assert_eq(version_of(db), 9);
    /* folio's checkpoint to the end, then the WAL starts over: the count
     * stays, and goes on. */
    cr_assert_eq(folio_checkpoint(db, FOLIO_CHECKPOINT_TRUNCATE, NULL, NULL), FOLIO_OK, "%s",
                 folio_errmsg(db));
    cr_assert_eq(version_of(db), 9);
    share_sql_int(&s, "INSERT INTO w VALUES(3, 4)");
    share_sql_int(&s, "INSERT INTO w VALUES(5, 6)");
    cr_assert_eq(version_of(db), 11);
    share_folio_exec(db, "CREATE TABLE x(a)");
    cr_assert_eq(version_of(db), 12);
    share_sql_stop(&s);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    integrity_ok();
    /* sqlite3 reads the file as ever; the stamp is in bytes 72..91. */
    db = share_folio_open(g_path, 5000, 0);
    cr_assert_eq(version_of(db), 12);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_rmtree(g_dir);
}

/* A sqlite3 checkpoint that starts the WAL over loses the count of the
 * commits it copied that folio had not stamped; a handle never goes back,
 * and its next commit stamps a version past everything it saw. */
Test(share_versions, never_back_after_a_sqlite3_restart)
{
    setup_dir();
    folio_db *db = share_folio_open(g_path, 5000, 0);
    share_folio_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)");
    share_sql s;
    share_sql_start(&s, g_path, 5000);
    for (int i = 0; i < 4; i++)
        share_sql_int(&s, "INSERT INTO t(v) VALUES(%d)", i);
    cr_assert_eq(version_of(db), 5);
    share_sql_int(&s, "PRAGMA wal_checkpoint(TRUNCATE)");
    share_sql_int(&s, "INSERT INTO t(v) VALUES(99)");
    uint64_t v = version_of(db);
    cr_assert_geq(v, 5);
    share_folio_exec(db, "CREATE TABLE y(a)");
    uint64_t w = version_of(db);
    cr_assert_gt(w, v);
    share_sql_stop(&s);
    /* Every handle counts on from the stamp the commit wrote. */
    folio_db *b = share_folio_open(g_path, 5000, 0);
    cr_assert_eq(version_of(b), w);
    cr_assert_eq(folio_close(b), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    integrity_ok();
    compat_rmtree(g_dir);
}
