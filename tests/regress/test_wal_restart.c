/*
 * Regression: a write transaction that began right after an automatic
 * checkpoint restarted the WAL while cached pages kept the old generation's
 * frame numbers; later transactions read stale pages and wrote a corrupt
 * tree ("Rowid out of order"). Found by the benchmark's random_insert.
 */
#include <criterion/criterion.h>
#include <folio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int collect(void *arg, const char *m)
{
    fprintf(stderr, "folio_check: %s\n", m);
    ++*(int *)arg;
    return 0;
}

Test(regress, wal_restart_after_autocheckpoint)
{
    const char *base = getenv("FOLIO_TMP");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/regress-XXXXXX", base && *base ? base : "/tmp");
    cr_assert(mkdtemp(dir) != NULL);
    char path[600];
    snprintf(path, sizeof path, "%s/r.db", dir);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.wal_autocheckpoint = 200; /* restarts happen often */
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK);
    folio_txn *t;
    folio_table *tb;
    folio_value v[4];
    memset(v, 0, sizeof v);
    v[0].type = v[2].type = v[3].type = FOLIO_INTEGER;
    v[1].type = FOLIO_TEXT;
    v[1].u.s.p = "123456";
    v[1].u.s.n = 6;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(t, "CREATE TABLE user(id INTEGER PRIMARY KEY, area CHAR(6), age "
                               "INTEGER, active INTEGER)"),
                 FOLIO_OK);
    cr_assert_eq(folio_table_open(&tb, t, "user"), FOLIO_OK);
    for (long i = 1; i <= 20000; i++) {
        v[0].u.i = 2 * i;
        v[2].u.i = i % 100;
        v[3].u.i = i & 1;
        cr_assert_eq(folio_insert(NULL, tb, v, 4), FOLIO_OK);
    }
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    srand(1);
    long expected = 20000;
    for (int k = 0; k < 20; k++) {
        cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
        cr_assert_eq(folio_table_open(&tb, t, "user"), FOLIO_OK);
        for (int j = 0; j < 500; j++) {
            v[0].u.i = 2 * (rand() % 20000) + 1;
            int rc = folio_insert(NULL, tb, v, 4);
            cr_assert(rc == FOLIO_OK || rc == FOLIO_CONSTRAINT, "insert: %s", folio_errmsg(db));
            expected += rc == FOLIO_OK;
        }
        cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    }
    int problems = 0;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_READ), FOLIO_OK);
    cr_assert_eq(folio_check(t, collect, &problems, 5), FOLIO_OK);
    folio_commit(t);
    cr_assert_eq(folio_close(db), FOLIO_OK);

    sqlite3 *s;
    cr_assert_eq(sqlite3_open(path, &s), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(s, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    cr_assert_eq(sqlite3_prepare_v2(s, "SELECT count(*) FROM user", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int64(st, 0), expected);
    sqlite3_finalize(st);
    sqlite3_close(s);
    unlink(path);
    rmdir(dir);
}
