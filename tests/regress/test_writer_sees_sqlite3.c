/*
 * A write transaction that begins while a read transaction of the same
 * handle is open must still see what a sqlite3 process committed meanwhile.
 * The sqlite3 connection writes in WAL mode beside folio's reader (both hold
 * shared locks), then closes; its close cannot checkpoint (folio's reader
 * holds the file), so its commit lives in the WAL. folio's writer used to
 * skip the look for other processes' changes when another transaction of its
 * own was open, appended its frames over sqlite3's, and lost that commit.
 * libsqlite3 checks the file at the end.
 */
#include <criterion/criterion.h>
#include <folio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"

static void folio_insert_one(folio_db *db, int64_t k)
{
    folio_txn *t;
    folio_table *tb;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    folio_value v[2] = {{FOLIO_INTEGER, {.i = k}}, {FOLIO_TEXT, {.s = {"folio", 5}}}};
    cr_assert_eq(folio_insert(NULL, tb, v, 2), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
}

Test(writer_sees_sqlite3, commit_made_during_a_read_transaction_is_kept)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "w.db");
    folio_options o = FOLIO_OPTIONS_INIT;
    o.wal_autocheckpoint = 0;
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(t, "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)"), FOLIO_OK);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    folio_insert_one(db, 1);

    /* A reader of folio's stays open throughout. */
    folio_txn *r;
    cr_assert_eq(folio_begin(&r, db, FOLIO_TXN_READ), FOLIO_OK);
    folio_table *rt;
    cr_assert_eq(folio_table_open(&rt, r, "t"), FOLIO_OK);

    /* sqlite3 writes beside it and closes. */
    sqlite3 *s = compat_sqlite_open(path);
    compat_exec(s, "INSERT INTO t VALUES(2, 'sqlite3')");
    sqlite3_close(s);

    /* folio's writer, while the reader is still open. */
    int rc = folio_begin(&t, db, FOLIO_TXN_WRITE);
    if (rc == FOLIO_OK) {
        folio_table *tb;
        cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
        folio_value v[2] = {{FOLIO_INTEGER, {.i = 3}}, {FOLIO_TEXT, {.s = {"folio", 5}}}};
        cr_assert_eq(folio_insert(NULL, tb, v, 2), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    } else {
        /* Refusing is acceptable too, with a clear error; nothing is lost. */
        cr_assert_eq(rc, FOLIO_BUSY, "begin: %d %s", rc, folio_errmsg(db));
    }
    cr_assert_eq(folio_rollback(r), FOLIO_OK);
    int64_t expect = rc == FOLIO_OK ? 3 : 2;
    cr_assert_eq(folio_close(db), FOLIO_OK);

    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok");
    free(why);
    s = compat_sqlite_open(path);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t"), expect);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t WHERE a=2 AND b='sqlite3'"), 1,
                 "sqlite3's commit was lost");
    compat_sqlite_close(s);
    compat_rmtree(dir);
    free(path);
    free(dir);
}
