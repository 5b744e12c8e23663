/*
 * txn_timeout_ms (folio_options version 3): past it every call on the
 * transaction, its tables and cursors returns FOLIO_TIMEOUT, the append
 * path included; folio_commit rolls it back (libsqlite3 finds nothing of
 * it) and the handle goes on; options of version 2 have no timeout.
 */
#include "folio.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char g_dir[512], g_path[600];

static folio_db *open_db(unsigned version, unsigned timeout_ms)
{
    const char *base = getenv("FOLIO_TMP");
    snprintf(g_dir, sizeof g_dir, "%s/txntime-XXXXXX", base && *base ? base : "/tmp");
    cr_assert(mkdtemp(g_dir));
    snprintf(g_path, sizeof g_path, "%s/t.db", g_dir);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.version = version;
    o.txn_timeout_ms = timeout_ms;
    folio_db *db;
    cr_assert_eq(folio_open(&db, g_path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(t, "CREATE TABLE t(a INTEGER PRIMARY KEY, b)"), FOLIO_OK);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    return db;
}

static void cleanup(void)
{
    char p[700];
    snprintf(p, sizeof p, "%s-wal", g_path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", g_path);
    unlink(p);
    unlink(g_path);
    rmdir(g_dir);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int insert(folio_table *t, int64_t a)
{
    folio_value v[2] = {{.type = FOLIO_INTEGER, .u.i = a}, {.type = FOLIO_INTEGER, .u.i = a * 2}};
    return folio_insert(NULL, t, v, 2);
}

static int64_t rows_in_file(void)
{
    sqlite3 *s;
    cr_assert_eq(sqlite3_open_v2(g_path, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(s, "SELECT count(*) FROM t", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(s);
    return n;
}

Test(txn_timeout, every_call_then_commit_rolls_back)
{
    folio_db *db = open_db(FOLIO_OPTIONS_VERSION, 300);
    folio_txn *txn;
    folio_table *t;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    for (int64_t a = 1; a <= 100; a++) /* (rows past the largest: the append path) */
        cr_assert_eq(insert(t, a), FOLIO_OK, "%s", folio_errmsg(db));
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
    cr_assert_eq(folio_cursor_first(c), FOLIO_ROW);
    sleep_ms(400);
    cr_assert_eq(insert(t, 101), FOLIO_TIMEOUT, "the append path went on past the timeout");
    cr_assert(strstr(folio_errmsg(db), "txn_timeout_ms (300 ms)"), "%s", folio_errmsg(db));
    cr_assert_eq(insert(t, 5), FOLIO_TIMEOUT);
    cr_assert_eq(folio_delete(t, 1), FOLIO_TIMEOUT);
    cr_assert_eq(folio_cursor_next(c), FOLIO_TIMEOUT);
    folio_value v;
    cr_assert_eq(folio_cursor_column(&v, c, 1), FOLIO_TIMEOUT);
    folio_table *t2;
    cr_assert_eq(folio_table_open(&t2, txn, "t"), FOLIO_TIMEOUT);
    cr_assert_eq(folio_exec(txn, "CREATE TABLE u(x)"), FOLIO_TIMEOUT);
    cr_assert_eq(folio_schema_count(txn), FOLIO_TIMEOUT);
    folio_filter *f;
    cr_assert_eq(folio_filter_compile(&f, t, "a > 1"), FOLIO_TIMEOUT);
    folio_cursor_close(c);
    cr_assert_eq(folio_commit(txn), FOLIO_TIMEOUT);
    cr_assert(strstr(folio_errmsg(db), "rolled back"), "%s", folio_errmsg(db));
    /* The handle goes on; a transaction within its time commits. */
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    cr_assert_eq(insert(t, 7), FOLIO_OK);
    cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s", folio_errmsg(db));
    /* A read transaction past its time: its calls fail; rollback frees it. */
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_READ), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
    sleep_ms(400);
    cr_assert_eq(folio_cursor_first(c), FOLIO_TIMEOUT);
    folio_cursor_close(c);
    cr_assert_eq(folio_rollback(txn), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    cr_assert_eq(rows_in_file(), 1, "the timed-out transaction's rows reached the file");
    cleanup();
}

Test(txn_timeout, version_2_options_have_none)
{
    folio_db *db = open_db(2, 50); /* (the field is past a version-2 struct: ignored) */
    folio_txn *txn;
    folio_table *t;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    sleep_ms(150);
    cr_assert_eq(insert(t, 1), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    cr_assert_eq(rows_in_file(), 1);
    cleanup();
}

Test(txn_timeout, from_the_environment)
{
    setenv("FOLIO_TXN_TIMEOUT_MS", "250", 1);
    folio_options o = FOLIO_OPTIONS_INIT;
    cr_assert_eq(folio_options_from_env(&o), FOLIO_OK);
    cr_assert_eq(o.txn_timeout_ms, 250);
    setenv("FOLIO_TXN_TIMEOUT_MS", "soon", 1);
    cr_assert_eq(folio_options_from_env(&o), FOLIO_MISUSE);
    cr_assert_str_eq(
        folio_open_errmsg(),
        "FOLIO_TXN_TIMEOUT_MS: expected a number of milliseconds (0: none), not 'soon'");
    unsetenv("FOLIO_TXN_TIMEOUT_MS");
    cr_assert_str_eq(folio_strerror(FOLIO_TIMEOUT), "transaction timed out");
}
