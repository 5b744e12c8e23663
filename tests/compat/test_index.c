/*
 * test_index.c - indexes libsqlite3 built, walked and searched with folio
 * index cursors: unique, multi-column, DESC, NOCASE, RTRIM, mixed types and
 * NULLs, many duplicates (ties go by rowid), automatic indexes from UNIQUE
 * and PRIMARY KEY constraints, partial indexes, expression indexes (which
 * folio may refuse with FOLIO_UNSUPPORTED, but whose tables it must read).
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

/* `n` rows of `ncols` random values into `table` (OR IGNORE for unique keys). */
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

Test(compat_index, unique_and_multicolumn)
{
    uint64_t rng = compat_seed(0x1d01);
    sqlite3 *db = start(1024);
    compat_exec(db, "CREATE TABLE t(a, b, c, d);"
                    "CREATE UNIQUE INDEX t_a ON t(a);"
                    "CREATE INDEX t_bc ON t(b, c);"
                    "CREATE INDEX t_dcb ON t(d, c, b);"
                    "CREATE UNIQUE INDEX t_cd ON t(c, d)");
    fill(db, "t", 4, 2000, &rng, 50);
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_index, desc_columns)
{
    uint64_t rng = compat_seed(0x1d02);
    sqlite3 *db = start(512);
    compat_exec(db, "CREATE TABLE t(a, b, c);"
                    "CREATE INDEX t_a ON t(a DESC);"
                    "CREATE INDEX t_ab ON t(a DESC, b ASC);"
                    "CREATE INDEX t_cba ON t(c ASC, b DESC, a DESC)");
    fill(db, "t", 3, 1500, &rng, 30);
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_index, collations)
{
    uint64_t rng = compat_seed(0x1d03);
    sqlite3 *db = start(1024);
    compat_exec(db, "CREATE TABLE t(a TEXT, b TEXT COLLATE NOCASE, c TEXT COLLATE RTRIM, d);"
                    "CREATE INDEX t_a_nocase ON t(a COLLATE NOCASE);"
                    "CREATE INDEX t_a_rtrim ON t(a COLLATE RTRIM DESC);"
                    "CREATE INDEX t_b ON t(b);" /* the column's NOCASE */
                    "CREATE INDEX t_b_binary ON t(b COLLATE BINARY);"
                    "CREATE INDEX t_c ON t(c, a COLLATE NOCASE DESC);"
                    "CREATE UNIQUE INDEX t_d ON t(d COLLATE NOCASE)");
    fill(db, "t", 4, 1200, &rng, 12);
    /* Case and trailing-space twins, which only the collation tells apart. */
    compat_exec(db, "INSERT INTO t(a, b, c) VALUES('abc', 'ABC', 'x'), ('ABC', 'abc', 'x  '),"
                    " ('aBc', 'abc ', 'x\t'), ('abc ', 'Abc', 'X'), ('[', '_', '`'),"
                    " ('@', 'Z', 'z'), ('\xc3\xa9', '\xc3\x89', '\xc3\xa9 ')");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_index, duplicates_tie_break_by_rowid)
{
    sqlite3 *db = start(512);
    compat_exec(db, "CREATE TABLE t(a, b);"
                    "CREATE INDEX t_a ON t(a);"
                    "CREATE INDEX t_ab ON t(a DESC, b COLLATE NOCASE)");
    compat_exec(db, COMPAT_SERIES(1, 3000) "INSERT INTO t(rowid, a, b) SELECT"
                                           " (value * 7919) % 100003 - 50000, value % 5,"
                                           " CASE value % 3 WHEN 0 THEN 'k' WHEN 1 THEN 'K'"
                                           " ELSE NULL END FROM series");
    compat_exec(db, "INSERT INTO t(rowid, a, b) VALUES(-9223372036854775808, 2, 'k'),"
                    " (9223372036854775807, 2, 'k')");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_index, numeric_mixed_types)
{
    /* Integers and reals interleave by value; text after numbers; blobs last. */
    sqlite3 *db = start(1024);
    compat_exec(db, "CREATE TABLE t(v, w NUMERIC);"
                    "CREATE INDEX t_v ON t(v);"
                    "CREATE INDEX t_w ON t(w DESC, v)");
    sqlite3_stmt *st = compat_prepare(db, "INSERT INTO t VALUES(?1, ?1)");
    for (size_t k = 0; k < compat_n_int_boundaries; k++) {
        sqlite3_bind_int64(st, 1, compat_int_boundaries[k]);
        cr_assert(sqlite3_step(st) == SQLITE_DONE);
        sqlite3_reset(st);
    }
    for (size_t k = 0; k < compat_n_special_reals; k++) {
        sqlite3_bind_double(st, 1, compat_special_reals[k]);
        cr_assert(sqlite3_step(st) == SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    compat_exec(db,
                "INSERT INTO t VALUES(NULL, NULL), ('', ''), (x'', x''), ('10', '10'),"
                " ('9', '9'), (x'00', x'00'), (1.5, '1.5'), (9007199254740993, 9007199254740992.0),"
                " (9223372036854775807, 9223372036854775807.0)");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_index, automatic_indexes)
{
    uint64_t rng = compat_seed(0x1d06);
    sqlite3 *db = start(1024);
    compat_exec(db, "CREATE TABLE t(a UNIQUE, b, c, PRIMARY KEY(b DESC, c), UNIQUE(c, a));"
                    "CREATE TABLE u(k TEXT PRIMARY KEY COLLATE NOCASE, v UNIQUE)");
    fill(db, "t", 3, 1000, &rng, 20);
    fill(db, "u", 2, 1000, &rng, 20);
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_index, partial_indexes)
{
    uint64_t rng = compat_seed(0x1d07);
    sqlite3 *db = start(1024);
    compat_exec(db, "CREATE TABLE t(a, b, c);"
                    "CREATE INDEX t_a_notnull ON t(a) WHERE a IS NOT NULL;"
                    "CREATE INDEX t_b_int ON t(b DESC) WHERE typeof(b) = 'integer' AND b > 0;"
                    "CREATE UNIQUE INDEX t_c_text ON t(c COLLATE NOCASE, a)"
                    " WHERE typeof(c) = 'text';"
                    "CREATE INDEX t_none ON t(a) WHERE 0");
    fill(db, "t", 3, 1500, &rng, 40);
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_index, expression_indexes)
{
    uint64_t rng = compat_seed(0x1d08);
    sqlite3 *db = start(1024);
    compat_exec(db, "CREATE TABLE t(a, b TEXT, c);"
                    "CREATE INDEX t_lower ON t(lower(b));"
                    "CREATE INDEX t_len ON t(length(b) DESC, a);"
                    "CREATE INDEX t_sum ON t(c + 1, b COLLATE NOCASE);"
                    "CREATE INDEX t_cat ON t(b || 'x' COLLATE RTRIM DESC) WHERE a IS NOT NULL");
    fill(db, "t", 3, 1000, &rng, 30);
    compat_sqlite_close(db);
    /* Every table is read exactly; every index either works exactly or is
     * refused with FOLIO_UNSUPPORTED (compare_index accepts both for
     * expression indexes). */
    compare_db(g_path);
    finish();
}

Test(compat_index, large_keys_overflow)
{
    /* Index keys larger than a page spill to overflow pages, interior cells
     * included. */
    uint64_t rng = compat_seed(0x1d09);
    sqlite3 *db = start(512);
    compat_exec(db, "CREATE TABLE t(a, b);"
                    "CREATE INDEX t_a ON t(a);"
                    "CREATE INDEX t_ba ON t(b DESC, a)");
    fill(db, "t", 2, 700, &rng, 3000);
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_index, index_on_integer_primary_key)
{
    uint64_t rng = compat_seed(0x1d0a);
    sqlite3 *db = start(1024);
    compat_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
                    "CREATE INDEX t_id ON t(id DESC);"
                    "CREATE INDEX t_v_id ON t(v, id DESC)");
    fill(db, "t(v)", 1, 1000, &rng, 20);
    compat_exec(db, COMPAT_SERIES(1, 500) "INSERT OR IGNORE INTO t SELECT"
                                          " (value * 104729) % 20011 - 10000, value % 13"
                                          " FROM series");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}
