/*
 * test_drop_objects.c - DROP TRIGGER and DROP VIEW through folio_exec, as
 * libsqlite3 does them: the rows go (a view's INSTEAD OF triggers with it), a
 * trigger goes alone even when a table has its name, a table whose last
 * trigger went no longer fires it, and the errors are SQLite's.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static const char *schema =
    "CREATE TABLE t(a);"
    "CREATE TABLE log(x);"
    "CREATE TABLE same(x);"
    "CREATE TRIGGER same AFTER INSERT ON t BEGIN INSERT INTO log VALUES(new.a); END;"
    "CREATE TRIGGER t_upd AFTER UPDATE ON t BEGIN INSERT INTO log VALUES(old.a); END;"
    "CREATE VIEW v AS SELECT a FROM t;"
    "CREATE TRIGGER vt INSTEAD OF INSERT ON v BEGIN INSERT INTO t VALUES(new.a); END;"
    "INSERT INTO same VALUES(1);";

static int exec1(folio_db *db, const char *sql)
{
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    int rc = folio_exec(txn, sql);
    if (rc == FOLIO_OK)
        cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s", folio_errmsg(db));
    else
        folio_rollback(txn);
    return rc;
}

static int64_t count_rows(folio_txn *txn, const char *table)
{
    folio_table *t;
    folio_cursor *c;
    cr_assert_eq(folio_table_open(&t, txn, table), FOLIO_OK);
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
    int64_t n = 0;
    for (int rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
        n++;
    folio_cursor_close(c);
    return n;
}

/* The same statement in libsqlite3 on a copy: its error message ("" if none). */
static char *sqlite_says(const char *path, const char *sql)
{
    sqlite3 *s = compat_sqlite_open(path);
    char *err = NULL;
    int rc = sqlite3_exec(s, sql, NULL, NULL, &err);
    char *out = strdup(rc == SQLITE_OK ? "" : (err ? err : "?"));
    sqlite3_free(err);
    compat_sqlite_close(s);
    return out;
}

Test(drop_objects, triggers_and_views_as_sqlite)
{
    char *dir = compat_tmpdir(), *path = compat_path(dir, "d.db"), *ref = compat_path(dir, "r.db");
    compat_run(path, schema);
    compat_copy_db(path, ref, 0);
    folio_db *db = compat_folio_open(path, 0);
    /* Refusals, word for word as libsqlite3's. */
    static const char *const bad[] = {"DROP VIEW t", "DROP TABLE v", "DROP TRIGGER nosuch",
                                      "DROP VIEW nosuch"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_lt(exec1(db, bad[i]), 0, "%s", bad[i]);
        char *want = sqlite_says(ref, bad[i]);
        cr_assert_str_eq(folio_errmsg(db), want, "%s", bad[i]);
        free(want);
    }
    cr_assert_eq(exec1(db, "DROP TRIGGER IF EXISTS nosuch"), FOLIO_OK);
    cr_assert_eq(exec1(db, "DROP VIEW IF EXISTS nosuch"), FOLIO_OK);
    /* t's AFTER INSERT trigger logs the row. */
    folio_txn *txn;
    folio_table *t;
    folio_value one = {.type = FOLIO_INTEGER, .u.i = 7};
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    cr_assert_eq(folio_insert(NULL, t, &one, 1), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(count_rows(txn, "log"), 1);
    folio_rollback(txn);
    /* The trigger named like a table goes alone; the view takes its trigger. */
    cr_assert_eq(exec1(db, "DROP TRIGGER same"), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(exec1(db, "DROP VIEW main.v"), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    cr_assert_eq(folio_insert(NULL, t, &one, 1), FOLIO_OK); /* t_upd is left: no log */
    cr_assert_eq(count_rows(txn, "log"), 0);
    folio_rollback(txn);
    cr_assert_eq(exec1(db, "DROP TRIGGER t_upd;"), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    cr_assert_eq(folio_insert(NULL, t, &one, 1), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    /* libsqlite3 on a copy does the same statements: the schemas are equal. */
    char *e = sqlite_says(ref, "DROP TRIGGER same; DROP VIEW main.v; DROP TRIGGER t_upd;"
                               "INSERT INTO t VALUES(7)");
    cr_assert_str_eq(e, "");
    free(e);
    sqlite3 *a = compat_sqlite_open_ro(path), *b = compat_sqlite_open_ro(ref);
    const char *q = "SELECT group_concat(type || ':' || name || ':' || tbl_name, ' ') FROM "
                    "(SELECT * FROM sqlite_schema ORDER BY name, type)";
    char *sa = compat_query_text(a, "%s", q), *sb = compat_query_text(b, "%s", q);
    cr_assert_str_eq(sa, sb);
    cr_assert_str_eq(sa, "table:log:log table:same:same table:t:t");
    free(sa);
    free(sb);
    cr_assert_eq(compat_query_int(a, "SELECT count(*) FROM log"), 0);
    cr_assert_eq(compat_query_int(a, "SELECT a FROM t"), 7);
    cr_assert_eq(compat_query_int(a, "SELECT x FROM same"), 1);
    compat_sqlite_close(a);
    compat_sqlite_close(b);
    char *ic = compat_integrity(path);
    cr_assert_str_eq(ic, "ok");
    free(ic);
    compat_rmtree(dir);
    free(path);
    free(ref);
    free(dir);
}
