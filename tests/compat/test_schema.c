/*
 * test_schema.c - schemas libsqlite3 writes: hundreds of tables (sqlite_schema
 * spanning many pages), CREATE statements longer than a page, views and
 * triggers, AUTOINCREMENT (sqlite_sequence), ANALYZE (sqlite_stat1), FTS5
 * shadow tables, STRICT tables, generated columns, and names that need
 * quoting. folio_schema_count/get must list exactly what sqlite_schema holds.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *g_dir, *g_path;

static sqlite3 *start(int page_size)
{
    g_dir = compat_tmpdir();
    g_path = compat_path(g_dir, "db.sqlite");
    sqlite3 *db = compat_sqlite_open(g_path);
    compat_execf(db, "PRAGMA page_size=%d", page_size);
    return db;
}

static void finish(void)
{
    compat_rmtree(g_dir);
    free(g_path);
    free(g_dir);
}

Test(compat_schema, three_hundred_tables)
{
    sqlite3 *db = start(1024);
    compat_exec(db, "BEGIN");
    for (int i = 0; i < 300; i++) {
        switch (i % 3) {
        case 0:
            compat_execf(db,
                         "CREATE TABLE t%03d(id INTEGER PRIMARY KEY, name TEXT, v REAL);"
                         "CREATE INDEX t%03d_name ON t%03d(name);"
                         "INSERT INTO t%03d VALUES(%d, 'table %d', %d.5)",
                         i, i, i, i, i, i, i);
            break;
        case 1:
            compat_execf(db,
                         "CREATE TABLE t%03d(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
                         "INSERT INTO t%03d VALUES('k%d', %d), ('j%d', NULL)",
                         i, i, i, i, i);
            break;
        default:
            compat_execf(db,
                         "CREATE TABLE t%03d(a UNIQUE, b, c);"
                         "INSERT INTO t%03d VALUES(%d, x'%02x', 'c')",
                         i, i, i, i & 0xff);
            break;
        }
    }
    compat_exec(db, "COMMIT");
    cr_assert(compat_query_int(db, "SELECT count(*) FROM dbstat WHERE name = 'sqlite_schema'") > 10,
              "sqlite_schema should span many pages");
    compat_sqlite_close(db);

    compare_schema(g_path);
    compare_info(g_path);
    compare_check(g_path);
    compare_stats(g_path);
    /* A sample of the tables and indexes in full (every one would be slow). */
    static const char *const tables[] = {"t000", "t001", "t002", "t150", "t299", "T298"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        compare_table_modes(g_path, tables[i], COMPAT_RO, 10);
    compare_index_modes(g_path, "t297", "t297_name", COMPAT_RO, 10);
    compare_index_modes(g_path, "t296", "sqlite_autoindex_t296_1", COMPAT_RW, 10);

    /* Every table opens, with the right number of columns. */
    folio_db *fdb = compat_folio_open(g_path, COMPAT_RO);
    folio_txn *txn = compat_folio_read(fdb);
    cr_assert_eq(folio_schema_count(txn), 300 + 100 + 100);
    for (int i = 0; i < 300; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%03d", i);
        folio_table *t = NULL;
        int rc = folio_table_open(&t, txn, name);
        cr_assert_eq(rc, FOLIO_OK, "folio_table_open(%s) = %s: %s", name, compat_rc_name(rc),
                     folio_errmsg(fdb));
        cr_assert_eq(folio_table_ncols(t), i % 3 == 1 ? 2 : 3);
    }
    folio_table *t = NULL;
    cr_assert_eq(folio_table_open(&t, txn, "no_such_table"), FOLIO_NOTFOUND_ERR);
    cr_assert(strlen(folio_errmsg(fdb)) > 0, "an error needs a message");
    folio_commit(txn);
    folio_close(fdb);
    finish();
}

Test(compat_schema, create_statements_longer_than_a_page)
{
    sqlite3 *db = start(512);
    char *sql = malloc(64 * 1024);
    cr_assert(sql != NULL);
    int n = sprintf(sql, "CREATE TABLE wide(");
    for (int i = 0; i < 400; i++)
        n += sprintf(sql + n, "%scolumn_with_a_long_name_%03d %s DEFAULT %d", i ? ", " : "", i,
                     i % 2 ? "TEXT" : "INTEGER", i);
    sprintf(sql + n, ")");
    compat_exec(db, sql);
    free(sql);
    compat_exec(db, "INSERT INTO wide(column_with_a_long_name_000) VALUES(1), (2);"
                    "INSERT INTO wide(column_with_a_long_name_399, column_with_a_long_name_001)"
                    " VALUES('last', 'second');"
                    "CREATE INDEX wide_i ON wide(column_with_a_long_name_399,"
                    " column_with_a_long_name_200 DESC, column_with_a_long_name_017)");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_schema, views_triggers_sequence_stat1)
{
    sqlite3 *db = start(4096);
    compat_exec(db,
                "CREATE TABLE a(id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);"
                "CREATE TABLE log(at INTEGER, what TEXT);"
                "CREATE INDEX a_v ON a(v);"
                "CREATE VIEW a_view AS SELECT id, upper(v) AS v FROM a WHERE id > 2;"
                "CREATE TRIGGER a_ins AFTER INSERT ON a BEGIN"
                " INSERT INTO log VALUES(new.id, 'insert ' || new.v); END;" COMPAT_SERIES(
                    1, 300) "INSERT INTO a(v) SELECT printf('value %d', value % 37) FROM series;"
                            "DELETE FROM a WHERE id > 290;"
                            "INSERT INTO a(v) VALUES('after delete');"
                            "ANALYZE");
    cr_assert_eq(compat_query_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN"
                                      " ('sqlite_sequence', 'sqlite_stat1')"),
                 2);
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_schema, fts5_shadow_tables)
{
    sqlite3 *db = start(1024);
    compat_exec(
        db, "CREATE VIRTUAL TABLE docs USING fts5(title, body);" COMPAT_SERIES(
                1, 300) "INSERT INTO docs SELECT printf('title %d', value),"
                        " printf('body number %d with words %s', value, hex(zeroblob(value % 40)))"
                        " FROM series;"
                        "CREATE TABLE plain(x); INSERT INTO plain VALUES(1)");
    compat_sqlite_close(db);
    /* compare_db skips the virtual table itself (rootpage 0) and reads its
     * shadow tables, one of them WITHOUT ROWID, like any other. */
    compare_db(g_path);
    finish();
}

Test(compat_schema, strict_tables)
{
    uint64_t rng = compat_seed(0x5c1c7);
    sqlite3 *db = start(1024);
    compat_exec(db, "CREATE TABLE s(i INT, r REAL, t TEXT, b BLOB, a ANY, n INTEGER) STRICT;"
                    "CREATE INDEX s_a ON s(a);"
                    "CREATE TABLE sw(k TEXT PRIMARY KEY, v ANY) STRICT, WITHOUT ROWID");
    sqlite3_stmt *st = compat_prepare(db, "INSERT INTO s VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    sqlite3_stmt *sw = compat_prepare(db, "INSERT OR IGNORE INTO sw VALUES(?1, ?2)");
    for (int r = 0; r < 500; r++) {
        sqlite3_bind_int64(st, 1, (int64_t)compat_rand(&rng) >> (r % 60));
        sqlite3_bind_double(st, 2, (double)r / 3.0);
        sqlite3_bind_text(st, 3, r % 2 ? "odd" : "even", -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, &r, (int)sizeof r, SQLITE_TRANSIENT);
        compat_bind_random(st, 5, &rng, 40);
        if (r % 7)
            sqlite3_bind_int(st, 6, r);
        cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(db));
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        char key[32];
        snprintf(key, sizeof key, "key %d", r * 7 % 500);
        sqlite3_bind_text(sw, 1, key, -1, SQLITE_TRANSIENT);
        compat_bind_random(sw, 2, &rng, 40);
        cr_assert_eq(sqlite3_step(sw), SQLITE_DONE, "%s", sqlite3_errmsg(db));
        sqlite3_reset(sw);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(sw);
    /* A REAL column of a STRICT table stores integral values as integers too. */
    compat_exec(db, "INSERT INTO s(r) VALUES(3), (-0.0), (1e300)");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_schema, stored_generated_columns)
{
    sqlite3 *db = start(1024);
    compat_exec(
        db,
        "CREATE TABLE g(a INTEGER, b TEXT, c AS (a * 2) STORED,"
        " d AS (b || '!') STORED, e);"
        "CREATE INDEX g_c ON g(c);" COMPAT_SERIES(
            1,
            500) "INSERT INTO g(a, b, e) SELECT value, printf('v%d', value), -value FROM series");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_schema, virtual_generated_columns)
{
    /* VIRTUAL columns are not in the record: the columns after them must
     * still read right. A VIRTUAL column itself reads either as libsqlite3
     * computes it or as FOLIO_UNSUPPORTED (folio does not evaluate SQL). */
    sqlite3 *db = start(1024);
    compat_exec(db, "CREATE TABLE g(a INTEGER, v AS (a + 1) VIRTUAL, b TEXT,"
                    " w AS (b || a), c BLOB);" COMPAT_SERIES(
                        1, 300) "INSERT INTO g(a, b, c) SELECT value, printf('t%d', value), x'cafe'"
                                " FROM series");
    compat_sqlite_close(db);

    sqlite3 *s = compat_sqlite_open_ro(g_path);
    sqlite3_stmt *st = compat_prepare(s, "SELECT rowid, a, v, b, w, c FROM g ORDER BY rowid");
    folio_db *fdb = compat_folio_open(g_path, COMPAT_RO);
    folio_txn *txn = compat_folio_read(fdb);
    folio_table *t = NULL;
    cr_assert_eq(folio_table_open(&t, txn, "g"), FOLIO_OK, "%s", folio_errmsg(fdb));
    cr_assert_eq(folio_table_ncols(t), 5);
    folio_cursor *c = NULL;
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK, "%s", folio_errmsg(fdb));
    int rc = folio_cursor_first(c);
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        cr_assert_eq(rc, FOLIO_ROW, "row %d: %s", rows, compat_rc_name(rc));
        cr_assert_eq(folio_cursor_rowid(c), sqlite3_column_int64(st, 0));
        for (int col = 0; col < 5; col++) {
            folio_value v;
            int crc = folio_cursor_column(&v, c, col);
            int is_virtual = col == 1 || col == 3;
            if (is_virtual && crc == FOLIO_UNSUPPORTED)
                continue;
            cr_assert_eq(crc, FOLIO_OK, "row %d column %d: %s: %s", rows, col, compat_rc_name(crc),
                         folio_errmsg(fdb));
            int type = sqlite3_column_type(st, col + 1);
            if (type == SQLITE_INTEGER) {
                cr_assert(v.type == FOLIO_INTEGER && v.u.i == sqlite3_column_int64(st, col + 1),
                          "row %d column %d differs", rows, col);
            } else {
                const void *p = type == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, col + 1)
                                                    : sqlite3_column_blob(st, col + 1);
                size_t n = (size_t)sqlite3_column_bytes(st, col + 1);
                cr_assert(v.type == (type == SQLITE_TEXT ? FOLIO_TEXT : FOLIO_BLOB) &&
                              v.u.s.n == n && memcmp(v.u.s.p, p, n) == 0,
                          "row %d column %d differs", rows, col);
            }
        }
        rc = folio_cursor_next(c);
        rows++;
    }
    cr_assert_eq(rc, FOLIO_DONE);
    cr_assert_eq(rows, 300);
    folio_cursor_close(c);
    folio_commit(txn);
    folio_close(fdb);
    sqlite3_finalize(st);
    compat_sqlite_close(s);
    finish();
}

Test(compat_schema, names_that_need_quoting)
{
    sqlite3 *db = start(1024);
    compat_exec(db,
                "CREATE TABLE \"select\"(\"from\" INTEGER, \"a b\" TEXT, \"q\"\"uote\","
                " [bracket], `tick`, \"\xc3\xa9t\xc3\xa9\");"
                "CREATE INDEX \"index with spaces\" ON \"select\"(\"a b\" DESC, \"q\"\"uote\");"
                "CREATE TABLE \"MiXeD\"(x);" COMPAT_SERIES(
                    1, 200) "INSERT INTO \"select\" SELECT value, 'v' || value, value % 3, NULL,"
                            " x'00', 'e' FROM series;"
                            "INSERT INTO \"MiXeD\" VALUES(1)");
    compat_sqlite_close(db);
    compare_db(g_path);
    /* Table names are case-insensitive. */
    compare_table_modes(g_path, "mixed", COMPAT_RO, 0);
    compare_table_modes(g_path, "SELECT", COMPAT_RO, 0);
    finish();
}
