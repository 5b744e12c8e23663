/*
 * A FULL checkpoint held back by a reader waits for it as long as
 * busy_timeout_ms says (it used to wait a fixed 5 s whatever the option):
 * with no timeout it returns FOLIO_BUSY at once; with one, it completes when
 * the reader ends within it. libsqlite3 checks the file at the end.
 */
#include <criterion/criterion.h>
#include <folio.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char g_dir[512], g_path[600];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static folio_db *setup(unsigned busy_ms)
{
    const char *base = getenv("FOLIO_TMP");
    snprintf(g_dir, sizeof g_dir, "%s/ckbusy-XXXXXX", base && *base ? base : "/tmp");
    cr_assert(mkdtemp(g_dir) != NULL);
    snprintf(g_path, sizeof g_path, "%s/c.db", g_dir);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.busy_timeout_ms = busy_ms;
    o.wal_autocheckpoint = 0;
    folio_db *db;
    cr_assert_eq(folio_open(&db, g_path, &o), FOLIO_OK);
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(t, "CREATE TABLE t(a INTEGER PRIMARY KEY, b)"), FOLIO_OK);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    return db;
}

static void insert_one(folio_db *db, int64_t k)
{
    folio_txn *t;
    folio_table *tb;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    folio_value v[2] = {{FOLIO_INTEGER, {.i = k}}, {FOLIO_TEXT, {.s = {"x", 1}}}};
    cr_assert_eq(folio_insert(NULL, tb, v, 2), FOLIO_OK);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
}

static void finish(folio_db *db, int64_t rows)
{
    cr_assert_eq(folio_close(db), FOLIO_OK);
    sqlite3 *s;
    cr_assert_eq(sqlite3_open(g_path, &s), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(s,
                                    "SELECT (SELECT count(*) FROM t), "
                                    "(SELECT integrity_check FROM pragma_integrity_check)",
                                    -1, &st, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int64(st, 0), rows);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 1), "ok");
    sqlite3_finalize(st);
    sqlite3_close(s);
    unlink(g_path);
    rmdir(g_dir);
}

typedef struct reader {
    folio_db *db;
    unsigned hold_ms;
    atomic_int started;
    int rc;
} reader;

static void *reader_main(void *arg)
{
    reader *r = arg;
    folio_txn *t;
    r->rc = folio_begin(&t, r->db, FOLIO_TXN_READ);
    atomic_store(&r->started, 1);
    if (r->rc != FOLIO_OK)
        return NULL;
    usleep(r->hold_ms * 1000u);
    folio_commit(t);
    return NULL;
}

Test(regress, full_checkpoint_without_timeout_is_busy_at_once)
{
    folio_db *db = setup(0);
    insert_one(db, 1);
    reader r = {.db = db, .hold_ms = 3000};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, reader_main, &r), 0);
    while (!atomic_load(&r.started))
        usleep(1000);
    insert_one(db, 2); /* a frame the reader's snapshot does not have */
    int log = 0, done = 0;
    double t0 = now_s();
    int rc = folio_checkpoint(db, FOLIO_CHECKPOINT_FULL, &log, &done);
    double waited = now_s() - t0;
    cr_assert_eq(rc, FOLIO_BUSY, "FULL with a reader and no busy timeout: %d", rc);
    cr_assert(waited < 1.0, "it waited %.2f s with busy_timeout_ms = 0", waited);
    pthread_join(th, NULL);
    cr_assert_eq(r.rc, FOLIO_OK);
    finish(db, 2);
}

Test(regress, full_checkpoint_waits_for_a_reader_within_the_timeout)
{
    folio_db *db = setup(10000);
    insert_one(db, 1);
    reader r = {.db = db, .hold_ms = 300};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, reader_main, &r), 0);
    while (!atomic_load(&r.started))
        usleep(1000);
    insert_one(db, 2);
    int log = 0, done = 0;
    int rc = folio_checkpoint(db, FOLIO_CHECKPOINT_FULL, &log, &done);
    cr_assert_eq(rc, FOLIO_OK, "FULL that could wait for the reader: %d %s", rc, folio_errmsg(db));
    cr_assert(log > 0 && done == log, "log %d done %d", log, done);
    pthread_join(th, NULL);
    finish(db, 2);
}
