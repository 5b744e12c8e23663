/*
 * test_values.c - every serial type and value edge libsqlite3 can store, read
 * back by folio exactly: integer width boundaries, reals (+-0.0, subnormals,
 * infinities), REAL affinity storing integral values as integers, INTEGER
 * PRIMARY KEY, empty and multi-megabyte text and blobs (overflow chains),
 * payloads around the local-size thresholds, invalid UTF-8, extreme rowids.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    char *dir;
    char *path;
    sqlite3 *db;
} fixture;

static void fx_open(fixture *fx, int page_size)
{
    fx->dir = compat_tmpdir();
    fx->path = compat_path(fx->dir, "db.sqlite");
    fx->db = compat_sqlite_open(fx->path);
    if (page_size)
        compat_execf(fx->db, "PRAGMA page_size=%d", page_size);
}

/* Close the sqlite handle; the file is then compared. */
static void fx_close(fixture *fx)
{
    compat_sqlite_close(fx->db);
    fx->db = NULL;
}

static void fx_done(fixture *fx)
{
    compat_rmtree(fx->dir);
    free(fx->path);
    free(fx->dir);
}

static void step_reset(sqlite3 *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    cr_assert(rc == SQLITE_DONE, "sqlite: %s", sqlite3_errmsg(db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Columns of every affinity, so each value is stored as each affinity makes it. */
#define ALL_AFFINITIES "i INTEGER, n NUMERIC, x, t TEXT, r REAL, b BLOB"

Test(compat_values, integer_boundaries)
{
    fixture fx;
    fx_open(&fx, 0);
    compat_exec(fx.db, "CREATE TABLE t(" ALL_AFFINITIES ");"
                       "CREATE INDEX t_i ON t(i); CREATE INDEX t_x ON t(x DESC);"
                       "CREATE INDEX t_r ON t(r)");
    sqlite3_stmt *st = compat_prepare(fx.db, "INSERT INTO t VALUES(?1,?1,?1,?1,?1,?1)");
    for (size_t k = 0; k < compat_n_int_boundaries; k++) {
        sqlite3_bind_int64(st, 1, compat_int_boundaries[k]);
        step_reset(fx.db, st);
    }
    /* Every power of two and its neighbours, both signs. */
    for (int e = 0; e < 63; e++) {
        int64_t p = (int64_t)1 << e;
        int64_t vals[] = {p - 1, p, p + 1, -p, -p - 1, -p + 1};
        for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
            sqlite3_bind_int64(st, 1, vals[k]);
            step_reset(fx.db, st);
        }
    }
    sqlite3_finalize(st);
    /* Literal 0 and 1 use serial types 8 and 9 in schema format 4. */
    compat_exec(fx.db, "INSERT INTO t VALUES(0, 1, 0, 1, 0, 1)");
    cr_assert_eq(compat_query_int(fx.db, "PRAGMA schema_version") > 0, 1);
    fx_close(&fx);

    compare_table(fx.path, "t");
    compare_index(fx.path, "t", "t_i");
    compare_index(fx.path, "t", "t_x");
    compare_index(fx.path, "t", "t_r");
    compare_check(fx.path);
    fx_done(&fx);
}

Test(compat_values, legacy_file_format_1)
{
    /* Schema format 1: no serial types 8 and 9 (0 and 1 take a byte), and
     * DESC in an index is ignored (the index is ascending). */
    fixture fx;
    fx_open(&fx, 0);
    int on = -1;
    sqlite3_db_config(fx.db, SQLITE_DBCONFIG_LEGACY_FILE_FORMAT, 1, &on);
    cr_assert_eq(on, 1);
    compat_exec(fx.db, "CREATE TABLE t(a, b); CREATE INDEX t_a ON t(a DESC, b);"
                       "INSERT INTO t VALUES(0, 1), (1, 0), (2, -1), (0, 0), (1, 1), (-5, 'x')");
    fx_close(&fx);
    size_t n;
    uint8_t *h = compat_read_file(fx.path, &n);
    cr_assert(n >= 100 && h[47] == 1, "expected schema format 1");
    free(h);
    compare_db(fx.path);
    fx_done(&fx);
}

Test(compat_values, reals)
{
    fixture fx;
    fx_open(&fx, 0);
    compat_exec(fx.db, "CREATE TABLE t(" ALL_AFFINITIES ");"
                       "CREATE INDEX t_x ON t(x); CREATE INDEX t_r ON t(r DESC);"
                       "CREATE INDEX t_n ON t(n, i)");
    sqlite3_stmt *st = compat_prepare(fx.db, "INSERT INTO t VALUES(?1,?1,?1,?1,?1,?1)");
    for (size_t k = 0; k < compat_n_special_reals; k++) {
        sqlite3_bind_double(st, 1, compat_special_reals[k]);
        step_reset(fx.db, st);
    }
    /* Large and small magnitudes, integral and not, both signs. */
    for (int e = -1074; e <= 1023; e += 7) {
        double d = ldexp(1.0, e);
        double vals[] = {d, -d, d * 1.5, nextafter(d, 0.0)};
        for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
            sqlite3_bind_double(st, 1, vals[k]);
            step_reset(fx.db, st);
        }
    }
    sqlite3_finalize(st);
    compat_exec(fx.db, "INSERT INTO t VALUES(1e999, -1e999, 1e999, -1e999, 1e999, -1e999);"
                       "INSERT INTO t VALUES(5e-324, -5e-324, 4.9e-324, 2.5e-324, 5e-324, 0.0);"
                       "INSERT INTO t VALUES(-0.0, -0.0, -0.0, -0.0, -0.0, -0.0);"
                       "INSERT INTO t VALUES(0.1, 1e308, 1.7976931348623157e308, 2.0, 2.0, 3.5);"
                       "INSERT INTO t VALUES('1e5', '  12  ', '0x10', '1.0', '7', '-0');"
                       "INSERT INTO t VALUES(9223372036854775807.0, 9223372036854775808.0,"
                       " -9223372036854775808.0, 1e19, 1e19, 1.5e300)");
    fx_close(&fx);

    compare_table(fx.path, "t");
    compare_index(fx.path, "t", "t_x");
    compare_index(fx.path, "t", "t_r");
    compare_index(fx.path, "t", "t_n");
    compare_check(fx.path);
    fx_done(&fx);
}

Test(compat_values, real_affinity_stores_integers)
{
    /* SQLite stores integral REAL values as integers; both sides report REAL. */
    fixture fx;
    fx_open(&fx, 0);
    compat_exec(fx.db, "CREATE TABLE r(v REAL, w DOUBLE, f FLOAT, k REAL PRIMARY KEY);"
                       "CREATE INDEX r_v ON r(v);"
                       "INSERT INTO r VALUES(0, 0.0, -0.0, 1);"
                       "INSERT INTO r VALUES(1, -1, 2.0, 2.0);"
                       "INSERT INTO r VALUES(127, 128, 32768, 3);"
                       "INSERT INTO r VALUES(9007199254740992, 9007199254740993, -2147483649, 4);"
                       "INSERT INTO r VALUES(9223372036854775807, -9223372036854775808, 1e18, 5);"
                       "INSERT INTO r VALUES(0.5, -0.5, 1e300, 6.5);"
                       "INSERT INTO r VALUES('12', '12.0', ' 3 ', 7);"
                       "INSERT INTO r VALUES('abc', x'00', NULL, 8)");
    cr_assert_eq(compat_query_int(fx.db, "SELECT count(*) FROM r WHERE typeof(v) = 'real'"), 7);
    fx_close(&fx);
    compare_table(fx.path, "r");
    compare_index(fx.path, "r", "r_v");
    compare_index(fx.path, "r", "sqlite_autoindex_r_1");
    fx_done(&fx);
}

Test(compat_values, integer_primary_key)
{
    fixture fx;
    fx_open(&fx, 1024);
    compat_exec(fx.db, "CREATE TABLE p(a TEXT, id INTEGER PRIMARY KEY, b);"
                       "CREATE INDEX p_a ON p(a);"
                       "CREATE INDEX p_id ON p(id DESC);"
                       "CREATE TABLE q(id INTEGER PRIMARY KEY DESC, v);"
                       "CREATE TABLE s(id INTEGER PRIMARY KEY AUTOINCREMENT, v)");
    sqlite3_stmt *st = compat_prepare(fx.db, "INSERT INTO p VALUES(?2, ?1, ?3)");
    for (size_t k = 0; k < compat_n_int_boundaries; k++) {
        sqlite3_bind_int64(st, 1, compat_int_boundaries[k]);
        sqlite3_bind_text(st, 2, "x", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (int64_t)k);
        step_reset(fx.db, st);
    }
    sqlite3_finalize(st);
    compat_exec(fx.db, "INSERT INTO q(v) SELECT b FROM p;"
                       "INSERT INTO s(v) VALUES(1),(2),(3); DELETE FROM s WHERE v = 2;"
                       "INSERT INTO s(v) VALUES(4)");
    fx_close(&fx);
    compare_db(fx.path);
    fx_done(&fx);
}

Test(compat_values, empty_text_and_blob)
{
    fixture fx;
    fx_open(&fx, 512);
    compat_exec(fx.db, "CREATE TABLE t(" ALL_AFFINITIES ");"
                       "CREATE INDEX t_x ON t(x);"
                       "INSERT INTO t VALUES('', '', '', '', '', '');"
                       "INSERT INTO t VALUES(x'', x'', x'', x'', x'', x'');"
                       "INSERT INTO t VALUES(zeroblob(0), '', x'', NULL, x'', '');"
                       "INSERT INTO t VALUES(NULL, NULL, NULL, NULL, NULL, NULL);"
                       "INSERT INTO t VALUES(zeroblob(3), x'000000', CAST(x'610062' AS TEXT),"
                       " CAST(x'00' AS TEXT), ' ', x'00')");
    fx_close(&fx);
    compare_table(fx.path, "t");
    compare_index(fx.path, "t", "t_x");
    fx_done(&fx);
}

static char *pattern(size_t n, unsigned salt, int text)
{
    char *p = malloc(n + 1);
    cr_assert(p != NULL);
    uint64_t s = salt;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = compat_rand(&s);
        p[i] = text ? (char)('a' + r % 26) : (char)r;
    }
    p[n] = 0;
    return p;
}

static void insert_big(sqlite3 *db, int64_t rowid, size_t text_len, size_t blob_len)
{
    sqlite3_stmt *st = compat_prepare(db, "INSERT INTO big VALUES(?1, ?2, ?3, ?4)");
    char *t = pattern(text_len, (unsigned)rowid, 1);
    char *b = pattern(blob_len, (unsigned)rowid + 99, 0);
    sqlite3_bind_int64(st, 1, rowid);
    sqlite3_bind_text(st, 2, t, (int)text_len, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 3, b, (int)blob_len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, rowid * 3);
    step_reset(db, st);
    sqlite3_finalize(st);
    free(t);
    free(b);
}

static void check_large(int page_size)
{
    fixture fx;
    fx_open(&fx, page_size);
    compat_exec(fx.db, "CREATE TABLE big(id INTEGER PRIMARY KEY, t TEXT, b BLOB, after)");
    insert_big(fx.db, 1, 3u << 20, 5u << 20);
    insert_big(fx.db, 2, 0, 7u << 20);
    insert_big(fx.db, 3, 6u << 20, 0);
    insert_big(fx.db, 4, 100, 100);
    /* A gap in the middle of the file: freed overflow pages get reused. */
    compat_exec(fx.db, "DELETE FROM big WHERE id = 2");
    insert_big(fx.db, 5, 1u << 20, 1u << 20);
    fx_close(&fx);
    compare_table_modes(fx.path, "big", COMPAT_BOTH, 10);
    compare_check(fx.path);
    compare_stats(fx.path);
    fx_done(&fx);
}

Test(compat_values, multi_megabyte_overflow_512, .timeout = 120)
{
    check_large(512);
}
Test(compat_values, multi_megabyte_overflow_4096, .timeout = 120)
{
    check_large(4096);
}
Test(compat_values, multi_megabyte_overflow_65536, .timeout = 120)
{
    check_large(65536);
}

/* Payload sizes around the local-size thresholds of table leaves and index
 * pages, at a small and the default page size. */
static void check_thresholds(int page_size)
{
    fixture fx;
    fx_open(&fx, page_size);
    compat_exec(fx.db, "CREATE TABLE t(b BLOB, n);"
                       "CREATE INDEX t_b ON t(b);"
                       "CREATE TABLE w(k BLOB PRIMARY KEY, v) WITHOUT ROWID");
    int usable = page_size;
    int table_max = usable - 35;
    int index_max = (usable - 12) * 64 / 255 - 23;
    int min_local = (usable - 12) * 32 / 255 - 23;
    int centres[] = {min_local, index_max, table_max, usable - 4 + min_local,
                     2 * (usable - 4) + min_local};
    sqlite3_stmt *st = compat_prepare(fx.db, "INSERT INTO t VALUES(?1, ?2)");
    sqlite3_stmt *sw = compat_prepare(fx.db, "INSERT OR IGNORE INTO w VALUES(?1, ?2)");
    int n = 0;
    for (size_t c = 0; c < sizeof centres / sizeof centres[0]; c++) {
        for (int d = -12; d <= 12; d++) {
            int len = centres[c] + d;
            if (len < 0)
                continue;
            char *b = pattern((size_t)len, (unsigned)(len * 7 + (int)c), 0);
            sqlite3_bind_blob(st, 1, b, len, SQLITE_TRANSIENT);
            sqlite3_bind_int(st, 2, n);
            step_reset(fx.db, st);
            sqlite3_bind_blob(sw, 1, b, len, SQLITE_TRANSIENT);
            sqlite3_bind_int(sw, 2, n);
            step_reset(fx.db, sw);
            free(b);
            n++;
        }
    }
    sqlite3_finalize(st);
    sqlite3_finalize(sw);
    fx_close(&fx);
    compare_db(fx.path);
    fx_done(&fx);
}

Test(compat_values, local_size_thresholds_512)
{
    check_thresholds(512);
}
Test(compat_values, local_size_thresholds_1024)
{
    check_thresholds(1024);
}
Test(compat_values, local_size_thresholds_4096)
{
    check_thresholds(4096);
}

Test(compat_values, invalid_utf8_text)
{
    fixture fx;
    fx_open(&fx, 0);
    compat_exec(fx.db, "CREATE TABLE t(v TEXT, w);"
                       "CREATE INDEX t_v ON t(v);"
                       "CREATE INDEX t_w ON t(w COLLATE NOCASE);"
                       "INSERT INTO t VALUES(CAST(x'c328ff' AS TEXT), CAST(x'c328ff' AS TEXT));"
                       "INSERT INTO t VALUES(CAST(x'ff' AS TEXT), CAST(x'80' AS TEXT));"
                       "INSERT INTO t VALUES(CAST(x'c0af' AS TEXT), CAST(x'eda080' AS TEXT));"
                       "INSERT INTO t VALUES(CAST(x'f4908080' AS TEXT), CAST(x'e282' AS TEXT));"
                       "INSERT INTO t VALUES(CAST(x'41004200' AS TEXT), CAST(x'00' AS TEXT));"
                       "INSERT INTO t VALUES(CAST(x'fe' AS TEXT) || 'ABC', 'abc' || x'ff')");
    fx_close(&fx);
    compare_table(fx.path, "t");
    compare_index(fx.path, "t", "t_v");
    compare_index(fx.path, "t", "t_w");
    fx_done(&fx);
}

Test(compat_values, extreme_rowids)
{
    fixture fx;
    fx_open(&fx, 512);
    compat_exec(fx.db, "CREATE TABLE t(v);"
                       "CREATE INDEX t_v ON t(v);"
                       "INSERT INTO t(rowid, v) VALUES(-9223372036854775808, 'min');"
                       "INSERT INTO t(rowid, v) VALUES(9223372036854775807, 'max');"
                       "INSERT INTO t(rowid, v) VALUES(-1, 'minus one');"
                       "INSERT INTO t(rowid, v) VALUES(0, 'zero');"
                       "INSERT INTO t(rowid, v) VALUES(1, 'one')");
    sqlite3_stmt *st = compat_prepare(fx.db, "INSERT INTO t(rowid, v) VALUES(?1, ?2)");
    uint64_t s = compat_seed(0x70a1d5);
    for (int i = 0; i < 600; i++) {
        int64_t r = (int64_t)compat_rand(&s);
        if (r == INT64_MIN || r == INT64_MAX || r == -1 || r == 0 || r == 1)
            continue;
        sqlite3_bind_int64(st, 1, r);
        sqlite3_bind_int(st, 2, i % 17);
        step_reset(fx.db, st);
    }
    for (size_t k = 0; k < compat_n_int_boundaries; k++) {
        sqlite3_bind_int64(st, 1, compat_int_boundaries[k]);
        sqlite3_bind_int(st, 2, (int)k);
        sqlite3_step(st); /* duplicates of the rows above fail; that is fine */
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    fx_close(&fx);
    compare_db(fx.path);
    fx_done(&fx);
}

Test(compat_values, random_values_every_affinity)
{
    uint64_t s = compat_seed(0xa11a5);
    fixture fx;
    fx_open(&fx, 1024);
    compat_exec(fx.db, "CREATE TABLE t(" ALL_AFFINITIES ", s VARCHAR(5), f FLOAT, bo BOOLEAN);"
                       "CREATE INDEX t_ixn ON t(i, x, n);"
                       "CREATE INDEX t_t ON t(t COLLATE NOCASE DESC);"
                       "CREATE INDEX t_sr ON t(s COLLATE RTRIM, r)");
    sqlite3_stmt *st = compat_prepare(fx.db, "INSERT INTO t VALUES(?,?,?,?,?,?,?,?,?)");
    for (int row = 0; row < 800; row++) {
        for (int c = 1; c <= 9; c++)
            compat_bind_random(st, c, &s, row % 50 == 0 ? 3000 : 120);
        step_reset(fx.db, st);
    }
    sqlite3_finalize(st);
    fx_close(&fx);
    compare_db(fx.path);
    fx_done(&fx);
}
