/*
 * test_default.c - DEFAULT expressions evaluated by folio as libsqlite3
 * evaluates them: the same table in two files, rows inserted without the
 * defaulted columns through folio and through libsqlite3, then every value
 * and its type compared (the column's affinity applies to its default);
 * libsqlite3 checks folio's file. Non-deterministic defaults (random(),
 * 'now') are checked by type and shape; a default whose evaluation fails
 * fails the insert with SQLite's message.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const defaults[] = {
    "(1 + 2)",
    "('a' || 'b')",
    "(abs(-5))",
    "(json_array(1, 2, 'x'))",
    "(printf('%05d', 42))",
    "(hex(zeroblob(2)))",
    "(CAST('12' AS INTEGER))",
    "(x'0102')",
    "((1))",
    "(-(3))",
    "(round(2.5))",
    "(upper('abc'))",
    "(length('h\xc3\xa9llo'))",
    "(date('2020-01-31', '+1 month'))",
    "(1.5e3)",
    "('12')",
    "(7 / 2)",
    "(7 % 3 * 1.0)",
    "(NULL)",
    "(coalesce(NULL, 'z'))",
    "(char(65, 66))",
    "(substr('abcdef', -3, 2))",
    "(typeof(1.0))",
    "(quote('it''s'))",
    "(json_object('a', 1) -> '$.a')",
    "(1 < 2)",
    "(9223372036854775807 + 1)",
};
#define NDEF ((int)(sizeof defaults / sizeof defaults[0]))

static const char *const types[] = {"", "INTEGER", "TEXT", "REAL", "NUMERIC", "BLOB"};

static char *dump(sqlite3 *db)
{
    sqlite3_stmt *st = compat_prepare(db, "SELECT * FROM t ORDER BY rowid");
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    cr_assert(out);
    out[0] = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const char *tn[] = {"", "int", "real", "text", "blob", "null"};
            const char *t = tn[sqlite3_column_type(st, c)];
            const char *v = (const char *)sqlite3_column_text(st, c);
            n += (size_t)snprintf(out + n, cap - n, "%s:%s|", t, v ? v : "");
            cr_assert(n < cap - 64);
        }
        n += (size_t)snprintf(out + n, cap - n, "\n");
    }
    sqlite3_finalize(st);
    return out;
}

/* Columns: id, then one per default (every default under a rotating type). */
Test(compat_default, expressions_match_sqlite)
{
    char *dir = compat_tmpdir();
    char *fpath = compat_path(dir, "f.db"), *spath = compat_path(dir, "s.db");
    char sql[8192];
    for (int rot = 0; rot < 3; rot++) {
        size_t n = (size_t)snprintf(sql, sizeof sql, "CREATE TABLE t(id INTEGER PRIMARY KEY");
        for (int i = 0; i < NDEF; i++)
            n += (size_t)snprintf(sql + n, sizeof sql - n, ", c%d %s DEFAULT %s", i,
                                  types[(i + rot) % 6], defaults[i]);
        snprintf(sql + n, sizeof sql - n, ")");
        remove(fpath);
        remove(spath);
        compat_run(fpath, sql);
        sqlite3 *s = compat_sqlite_open(spath);
        compat_exec(s, sql);
        compat_exec(s, "INSERT INTO t(id) VALUES(1); INSERT INTO t(id) VALUES(NULL)");
        folio_db *db;
        folio_options o = FOLIO_OPTIONS_INIT;
        cr_assert_eq(folio_open(&db, fpath, &o), FOLIO_OK);
        folio_txn *txn;
        folio_table *t;
        cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
        cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
        folio_value id = {.type = FOLIO_INTEGER, .u.i = 1};
        cr_assert_eq(folio_insert(NULL, t, &id, 1), FOLIO_OK, "%s", folio_errmsg(db));
        id.type = FOLIO_NULL;
        cr_assert_eq(folio_insert(NULL, t, &id, 1), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(folio_commit(txn), FOLIO_OK);
        cr_assert_eq(folio_close(db), FOLIO_OK);
        char *integ = compat_integrity(fpath);
        cr_assert_str_eq(integ, "ok");
        free(integ);
        sqlite3 *f = compat_sqlite_open_ro(fpath);
        char *a = dump(f), *b = dump(s);
        cr_assert_str_eq(a, b, "%s", sql);
        free(a);
        free(b);
        compat_sqlite_close(f);
        compat_sqlite_close(s);
    }
    compat_rmtree(dir);
    free(fpath);
    free(spath);
    free(dir);
}

/* random(), 'now' and CURRENT_TIMESTAMP: their types and shapes; one
 * instant per call. */
Test(compat_default, non_deterministic)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "n.db");
    compat_run(path,
               "CREATE TABLE t(id INTEGER PRIMARY KEY, r DEFAULT (random()), "
               "d TEXT DEFAULT (datetime('now')), e DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),"
               " f DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')), c DEFAULT CURRENT_TIMESTAMP)");
    folio_db *db;
    folio_options o = FOLIO_OPTIONS_INIT;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK);
    folio_txn *txn;
    folio_table *t;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    folio_value id = {.type = FOLIO_NULL};
    for (int i = 0; i < 20; i++)
        cr_assert_eq(folio_insert(NULL, t, &id, 1), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    sqlite3 *s = compat_sqlite_open_ro(path);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t WHERE typeof(r) = 'integer'"), 20);
    cr_assert_gt(compat_query_int(s, "SELECT count(DISTINCT r) FROM t"), 15);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t WHERE d = datetime(d) AND "
                                     "abs(julianday(d) - julianday('now')) < 0.01"),
                 20);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t WHERE e = f"), 20,
                 "two uses of 'now' in one insert saw two instants");
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t WHERE c = datetime(c)"), 20);
    compat_sqlite_close(s);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* A default whose evaluation fails fails the insert, as in SQLite. */
Test(compat_default, failing_default)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "x.db");
    const char *ddl =
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v DEFAULT (abs(-9223372036854775808)))";
    compat_run(path, ddl);
    sqlite3 *mem;
    cr_assert_eq(sqlite3_open(":memory:", &mem), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(mem, ddl, NULL, NULL, NULL), SQLITE_OK);
    cr_assert_neq(sqlite3_exec(mem, "INSERT INTO t(id) VALUES(1)", NULL, NULL, NULL), SQLITE_OK);
    folio_db *db;
    folio_options o = FOLIO_OPTIONS_INIT;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK);
    folio_txn *txn;
    folio_table *t;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    folio_value id = {.type = FOLIO_INTEGER, .u.i = 1};
    cr_assert_eq(folio_insert(NULL, t, &id, 1), FOLIO_ERROR);
    cr_assert_str_eq(folio_errmsg(db), sqlite3_errmsg(mem));
    folio_value both[2] = {{.type = FOLIO_INTEGER, .u.i = 1}, {.type = FOLIO_INTEGER, .u.i = 5}};
    cr_assert_eq(folio_insert(NULL, t, both, 2), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    sqlite3_close(mem);
    compat_rmtree(dir);
    free(path);
    free(dir);
}
