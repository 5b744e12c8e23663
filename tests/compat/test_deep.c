/*
 * test_deep.c - deep b-trees: 512-byte pages, 200,000 rows and long index
 * keys give a table and an index at least four levels deep (interior pages
 * over interior pages), walked end to end and searched with folio.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test(compat_deep, two_hundred_thousand_rows_512_byte_pages, .timeout = 300)
{
    compat_seed(0xdee9);
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "db.sqlite");
    sqlite3 *db = compat_sqlite_open(path);
    compat_exec(db, "PRAGMA page_size=512; PRAGMA cache_size=-65536;"
                    "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, n INTEGER);"
                    "CREATE INDEX t_k ON t(k)");
    /* Keys of about 70 bytes with a long common prefix, inserted out of order. */
    compat_exec(db,
                "BEGIN;" COMPAT_SERIES(
                    1, 200000) "INSERT INTO t SELECT value, printf('%.40c-%08d-%s', 'k',"
                               " (value * 7919) % 200003, substr('abcdefghijklmnopqrstuvwxyz', 1,"
                               " value % 26)), value % 1000 - 500 FROM series;"
                               "COMMIT");
    int64_t index_depth =
        compat_query_int(db, "SELECT max(length(path) - length(replace(path, '/', ''))) FROM dbstat"
                             " WHERE name = 't_k' AND pagetype <> 'overflow'");
    int64_t table_depth =
        compat_query_int(db, "SELECT max(length(path) - length(replace(path, '/', ''))) FROM dbstat"
                             " WHERE name = 't' AND pagetype <> 'overflow'");
    cr_assert(index_depth >= 4, "index depth %lld < 4", (long long)index_depth);
    cr_assert(table_depth >= 4, "table depth %lld < 4", (long long)table_depth);
    compat_sqlite_close(db);

    compare_table_modes(path, "t", COMPAT_RO, 300);
    compare_index_modes(path, "t", "t_k", COMPAT_RW, 300);
    compare_stats(path); /* depth and page counts per b-tree */
    compare_check(path);
    compat_rmtree(dir);
    free(path);
    free(dir);
}
