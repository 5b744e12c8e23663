/*
 * test_alter.c - tables changed by ALTER TABLE: rows written before ADD COLUMN
 * have fewer values in their records and read with the column's DEFAULT
 * (integer, negative number, text, blob, NULL, REAL, and values the column's
 * affinity converts), also through indexes created afterwards; RENAME TABLE,
 * RENAME COLUMN and DROP COLUMN rewrite the schema (and, for DROP, the rows).
 */
#include "compat.h"

#include <criterion/criterion.h>
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

Test(compat_alter, add_column_defaults)
{
    sqlite3 *db = start(1024);
    compat_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, a);" COMPAT_SERIES(
                        1, 400) "INSERT INTO t SELECT value, printf('old %d', value) FROM series");
    static const char *const adds[] = {
        "c_int INTEGER DEFAULT 42",
        "c_neg DEFAULT -7",
        "c_min INTEGER DEFAULT -9223372036854775808",
        "c_max DEFAULT 9223372036854775807",
        "c_text TEXT DEFAULT 'hello'",
        "c_quote DEFAULT 'it''s'",
        "c_empty DEFAULT ''",
        "c_blob BLOB DEFAULT x'00ff10'",
        "c_eblob DEFAULT x''",
        "c_null DEFAULT NULL",
        "c_none",
        "c_real REAL DEFAULT 1.5",
        "c_nreal DEFAULT -0.25",
        "c_inf DEFAULT 1e999",
        "c_ninf DEFAULT -1e999",
        "c_tiny DEFAULT 5e-324",
        "c_real_int REAL DEFAULT 3",      /* REAL affinity: reads 3.0 */
        "c_text_int TEXT DEFAULT 12",     /* TEXT affinity: reads '12' */
        "c_int_text INTEGER DEFAULT '7'", /* INTEGER affinity: reads 7 */
        "c_num_text NUMERIC DEFAULT '2.50'",
        "c_true DEFAULT TRUE",
        "c_false DEFAULT FALSE",
        "c_plus DEFAULT +5",
        "c_negzero DEFAULT -0.0",
        "c_paren DEFAULT (-5)",
        "c_long TEXT DEFAULT 'a fairly long default value that is stored only in the schema'",
    };
    for (size_t i = 0; i < sizeof adds / sizeof adds[0]; i++) {
        compat_execf(db, "ALTER TABLE t ADD COLUMN %s", adds[i]);
        /* Rows written between the ALTERs have different record lengths. */
        compat_execf(db, "INSERT INTO t(id, a) VALUES(%d, 'after %zu')", 1000 + (int)i, i);
    }
    compat_exec(db, "INSERT INTO t(id, a, c_int, c_text, c_blob, c_real, c_real_int, c_none)"
                    " VALUES(5000, 'some given', 1, 'x', x'01', 7, 8, 9);"
                    "UPDATE t SET a = 'updated' WHERE id % 50 = 0");
    compat_sqlite_close(db);
    compare_table(g_path, "t");
    compare_check(g_path);
    finish();
}

Test(compat_alter, add_column_then_index)
{
    sqlite3 *db = start(512);
    compat_exec(
        db, "CREATE TABLE t(a, b);" COMPAT_SERIES(
                1, 1500) "INSERT INTO t SELECT value, value % 7 FROM series;"
                         "ALTER TABLE t ADD COLUMN c TEXT DEFAULT 'dflt' COLLATE NOCASE;"
                         "ALTER TABLE t ADD COLUMN d REAL DEFAULT 2;"
                         "ALTER TABLE t ADD COLUMN e DEFAULT NULL;"
                         "INSERT INTO t VALUES(-1, -1, 'DFLT', 2.0, 'x'), (-2, -2, 'b', 1, NULL);"
                         "CREATE INDEX t_c ON t(c);"
                         "CREATE INDEX t_dc ON t(d DESC, c);"
                         "CREATE INDEX t_e ON t(e, b)");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_alter, add_column_without_rowid)
{
    sqlite3 *db = start(1024);
    compat_exec(db, "CREATE TABLE w(k TEXT PRIMARY KEY, v) WITHOUT ROWID;" COMPAT_SERIES(
                        1, 800) "INSERT INTO w SELECT printf('k%05d', value), value FROM series;"
                                "ALTER TABLE w ADD COLUMN x INTEGER DEFAULT -3;"
                                "ALTER TABLE w ADD COLUMN y BLOB DEFAULT x'abcd';"
                                "INSERT INTO w VALUES('new', 1, 2, x'00');"
                                "CREATE INDEX w_x ON w(x, y)");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_alter, rename_and_drop_column)
{
    sqlite3 *db = start(1024);
    compat_exec(db,
                "CREATE TABLE t(a, b, c, d);" COMPAT_SERIES(
                    1, 600) "INSERT INTO t SELECT value, value * 2, printf('c%d', value), value % 9"
                            " FROM series;"
                            "CREATE INDEX t_d ON t(d);"
                            "ALTER TABLE t RENAME COLUMN b TO bee;"
                            "ALTER TABLE t DROP COLUMN c;"
                            "ALTER TABLE t RENAME TO renamed;"
                            "ALTER TABLE renamed ADD COLUMN e DEFAULT 'e'");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}
