/*
 * test_without_rowid.c - WITHOUT ROWID tables written by libsqlite3: composite,
 * DESC, NOCASE and RTRIM keys, key columns that are not the first columns,
 * keys of every type, keys long enough to overflow, secondary indexes (whose
 * entries end with the primary key), and enough rows for interior pages.
 * folio walks them in key order, seeks by key and reports rowid 0.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *g_dir, *g_path;

static sqlite3 *start(int page_size, uint64_t fallback_seed, uint64_t *rng)
{
    *rng = compat_seed(fallback_seed);
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

/* Insert `n` random rows (OR IGNORE: duplicate or NULL keys are skipped). */
static void fill(sqlite3 *db, const char *table, int ncols, int n, uint64_t *rng, int maxlen)
{
    char sql[256];
    int len = snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO %s VALUES(", table);
    for (int i = 0; i < ncols; i++)
        len += snprintf(sql + len, sizeof sql - (size_t)len, "%s?", i ? "," : "");
    snprintf(sql + len, sizeof sql - (size_t)len, ")");
    sqlite3_stmt *st = compat_prepare(db, sql);
    compat_exec(db, "BEGIN");
    for (int r = 0; r < n; r++) {
        for (int c = 1; c <= ncols; c++)
            compat_bind_random(st, c, rng, maxlen);
        int rc = sqlite3_step(st);
        cr_assert(rc == SQLITE_DONE, "sqlite: %s", sqlite3_errmsg(db));
        sqlite3_reset(st);
    }
    compat_exec(db, "COMMIT");
    sqlite3_finalize(st);
}

Test(compat_without_rowid, composite_key)
{
    uint64_t rng;
    sqlite3 *db = start(1024, 0x3e01, &rng);
    compat_exec(db, "CREATE TABLE t(a TEXT, b INT, c, PRIMARY KEY(a, b)) WITHOUT ROWID");
    fill(db, "t", 3, 1500, &rng, 40);
    /* Many rows sharing a first key column, so the second one decides. */
    compat_exec(db, COMPAT_SERIES(-300, 300) "INSERT OR IGNORE INTO t SELECT 'same', value,"
                                             " value * 2 FROM series");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_without_rowid, desc_key)
{
    uint64_t rng;
    sqlite3 *db = start(512, 0x3e02, &rng);
    compat_exec(db, "CREATE TABLE t(a, b, c, PRIMARY KEY(a DESC, b ASC, c DESC)) WITHOUT ROWID;"
                    "CREATE TABLE u(k INTEGER PRIMARY KEY DESC, v) WITHOUT ROWID");
    fill(db, "t", 3, 1200, &rng, 30);
    fill(db, "u", 2, 800, &rng, 100);
    compat_exec(db, COMPAT_SERIES(1, 400) "INSERT OR IGNORE INTO t SELECT value % 7, value % 3,"
                                          " value FROM series");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_without_rowid, nocase_and_rtrim_keys)
{
    uint64_t rng;
    sqlite3 *db = start(1024, 0x3e03, &rng);
    compat_exec(db, "CREATE TABLE n(k TEXT COLLATE NOCASE PRIMARY KEY, v) WITHOUT ROWID;"
                    "CREATE TABLE m(a COLLATE NOCASE, b COLLATE RTRIM, v,"
                    " PRIMARY KEY(a DESC, b)) WITHOUT ROWID;"
                    "CREATE TABLE r(k TEXT PRIMARY KEY COLLATE RTRIM, v) WITHOUT ROWID");
    fill(db, "n", 2, 800, &rng, 20);
    fill(db, "m", 3, 800, &rng, 20);
    fill(db, "r", 2, 800, &rng, 20);
    compat_exec(db, "INSERT OR IGNORE INTO n VALUES('Abc', 1), ('abd', 2), ('ABE', 3), ('_', 4),"
                    " ('[', 5), ('a', 6), ('Z', 7), ('z ', 8);"
                    "INSERT OR IGNORE INTO m VALUES('X', 'y  ', 1), ('x', 'y', 2), ('X', 'Y', 3);"
                    "INSERT OR IGNORE INTO r VALUES('pad', 1), ('pad   ', 2), ('pad\t', 3)");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_without_rowid, key_columns_not_first)
{
    /* The record of a WITHOUT ROWID row starts with its key columns; folio
     * must still return the columns in declared order. */
    uint64_t rng;
    sqlite3 *db = start(4096, 0x3e04, &rng);
    compat_exec(db, "CREATE TABLE t(v1, k2 INT, v2 TEXT, k1 TEXT, v3 REAL,"
                    " PRIMARY KEY(k1, k2)) WITHOUT ROWID;"
                    "CREATE INDEX t_v2 ON t(v2);"
                    "CREATE INDEX t_k2v1 ON t(k2 DESC, v1);"
                    "CREATE TABLE d(x, y, z, PRIMARY KEY(z, x, z)) WITHOUT ROWID");
    fill(db, "t", 5, 1500, &rng, 60);
    fill(db, "d", 3, 500, &rng, 20);
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_without_rowid, integer_primary_key_is_not_rowid)
{
    uint64_t rng;
    sqlite3 *db = start(1024, 0x3e05, &rng);
    compat_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v) WITHOUT ROWID;"
                    "CREATE INDEX t_v ON t(v)");
    fill(db, "t", 2, 1000, &rng, 50);
    compat_exec(db, "INSERT OR IGNORE INTO t VALUES(-9223372036854775808, 'min'),"
                    " (9223372036854775807, 'max'), (0, 'zero'), (-1, 'minus one')");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_without_rowid, overflowing_keys_and_values)
{
    uint64_t rng;
    sqlite3 *db = start(1024, 0x3e06, &rng);
    compat_exec(db, "CREATE TABLE t(k PRIMARY KEY, v) WITHOUT ROWID;"
                    "CREATE INDEX t_v ON t(v)");
    /* Keys and values up to several pages: the whole record is the key of an
     * index b-tree, so these spill to overflow pages from interior cells too. */
    fill(db, "t", 2, 600, &rng, 5000);
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_without_rowid, secondary_indexes)
{
    uint64_t rng;
    sqlite3 *db = start(2048, 0x3e07, &rng);
    compat_exec(db, "CREATE TABLE t(a, b, c, d, PRIMARY KEY(b DESC, a COLLATE NOCASE))"
                    " WITHOUT ROWID;"
                    "CREATE INDEX t_c ON t(c);"
                    "CREATE INDEX t_dc ON t(d DESC, c COLLATE RTRIM);"
                    "CREATE INDEX t_a ON t(a);"            /* part of the key already */
                    "CREATE UNIQUE INDEX t_cb ON t(c, b);" /* key column repeated */
                    "CREATE INDEX t_part ON t(d) WHERE c IS NOT NULL");
    fill(db, "t", 4, 1500, &rng, 40);
    compat_exec(db, "DELETE FROM t WHERE typeof(c) = 'real'");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_without_rowid, deep_tree)
{
    uint64_t rng;
    sqlite3 *db = start(512, 0x3e08, &rng);
    compat_exec(db, "CREATE TABLE t(k TEXT PRIMARY KEY, n INT, v) WITHOUT ROWID;"
                    "CREATE INDEX t_n ON t(n)");
    compat_exec(db, COMPAT_SERIES(1, 20000) "INSERT INTO t SELECT printf('%08d-%s',"
                                            " value * 7919 % 20000, substr('abcdefghijklmnop"
                                            "qrstuvwxyz', 1 + value % 20)), value % 97,"
                                            " zeroblob(value % 50) FROM series");
    cr_assert(compat_query_int(db, "SELECT max(length(path) - length(replace(path, '/', '')))"
                                   " FROM dbstat WHERE name = 't'") >= 4,
              "expected a tree at least 4 levels deep");
    compat_sqlite_close(db);
    compare_table_modes(g_path, "t", COMPAT_BOTH, 200);
    compare_index_modes(g_path, "t", "t_n", COMPAT_RO, 100);
    compare_check(g_path);
    compare_stats(g_path);
    finish();
}
