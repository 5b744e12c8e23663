/*
 * test_freelist.c - files whose free space libsqlite3 manages: freeblocks and
 * fragments after DELETE, freelist trunk and leaf pages after DROP TABLE (no
 * VACUUM, several trunk pages), stale page images left on the freelist with
 * secure_delete off, freelist pages reused by later inserts, and auto-vacuum
 * files with pointer-map pages (folio reads them; it refuses only writes).
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static char *g_dir, *g_path;

static sqlite3 *start(int page_size, const char *pragmas)
{
    g_dir = compat_tmpdir();
    g_path = compat_path(g_dir, "db.sqlite");
    sqlite3 *db = compat_sqlite_open(g_path);
    compat_execf(db, "PRAGMA page_size=%d; %s", page_size, pragmas ? pragmas : "");
    return db;
}

static void finish(void)
{
    compat_rmtree(g_dir);
    free(g_path);
    free(g_dir);
}

static void make_tables(sqlite3 *db, int rows)
{
    compat_execf(db,
                 "CREATE TABLE keep(a INTEGER PRIMARY KEY, b TEXT, c BLOB);"
                 "CREATE INDEX keep_b ON keep(b);"
                 "CREATE TABLE gone(x, y);"
                 "CREATE INDEX gone_x ON gone(x);"
                 "CREATE TABLE gone_wr(k PRIMARY KEY, v) WITHOUT ROWID;" COMPAT_SERIES(
                     1, % d) "INSERT INTO keep SELECT value, printf('row %%06d %%s', value,"
                             " substr(hex(zeroblob(value %% 200)), 1, value %% 300)),"
                             " zeroblob(value %% 1500) FROM series;"
                             "INSERT INTO gone SELECT b, c FROM keep;"
                             "INSERT INTO gone_wr SELECT b, c FROM keep",
                 rows);
}

Test(compat_freelist, after_delete)
{
    sqlite3 *db = start(1024, NULL);
    make_tables(db, 3000);
    compat_exec(db, "DELETE FROM keep WHERE a % 3 <> 0;"
                    "DELETE FROM gone WHERE rowid % 2 = 0;"
                    "DELETE FROM gone_wr WHERE length(v) > 700");
    cr_assert(compat_query_int(db, "PRAGMA freelist_count") > 0, "expected freelist pages");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_freelist, after_drop_table_many_trunks)
{
    /* 512-byte pages hold 126 leaf numbers per trunk: dropping thousands of
     * pages needs many trunk pages. */
    sqlite3 *db = start(512, NULL);
    make_tables(db, 3000);
    compat_exec(db, "DROP TABLE gone; DROP TABLE gone_wr");
    int64_t free_pages = compat_query_int(db, "PRAGMA freelist_count");
    cr_assert(free_pages > 126 * 4, "expected several freelist trunks, have %lld pages",
              (long long)free_pages);
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_freelist, stale_pages_without_secure_delete)
{
    /* Freed pages keep their old b-tree images: folio must not mistake them
     * for live pages. */
    sqlite3 *db = start(1024, "PRAGMA secure_delete=OFF");
    make_tables(db, 2000);
    compat_exec(db, "DELETE FROM keep WHERE a > 1000; DROP INDEX gone_x;"
                    "DELETE FROM gone_wr");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_freelist, reused_after_drop)
{
    sqlite3 *db = start(2048, NULL);
    make_tables(db, 2000);
    compat_exec(
        db, "DROP TABLE gone;"
            "CREATE TABLE again(p, q);"
            "CREATE INDEX again_q ON again(q DESC);" COMPAT_SERIES(
                1, 700) "INSERT INTO again SELECT value, det_blob(value % 900, value) FROM series;"
                        "DELETE FROM keep WHERE a % 5 = 0");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_freelist, auto_vacuum_full)
{
    sqlite3 *db = start(1024, "PRAGMA auto_vacuum=FULL");
    make_tables(db, 2000);
    compat_exec(db, "DELETE FROM keep WHERE a % 2 = 0; DROP TABLE gone");
    cr_assert_eq(compat_query_int(db, "PRAGMA auto_vacuum"), 1);
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}

Test(compat_freelist, auto_vacuum_incremental)
{
    sqlite3 *db = start(512, "PRAGMA auto_vacuum=INCREMENTAL");
    make_tables(db, 2000);
    compat_exec(db, "DROP TABLE gone; DELETE FROM keep WHERE a % 4 = 1;"
                    "PRAGMA incremental_vacuum(50)");
    cr_assert_eq(compat_query_int(db, "PRAGMA auto_vacuum"), 2);
    cr_assert(compat_query_int(db, "PRAGMA freelist_count") > 0, "expected freelist pages");
    compat_sqlite_close(db);
    compare_db(g_path);
    finish();
}
