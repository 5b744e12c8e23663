/*
 * test_pagesize.c - every page size SQLite allows (512..65536), in rollback
 * and in WAL journal mode (with committed transactions still in the -wal),
 * read by folio exactly as libsqlite3 reads it.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* Rows per table: enough for interior pages at small page sizes, few enough
 * to stay quick at 64 KiB pages. */
#define ROWS 250

static void check_rollback(int page_size)
{
    uint64_t seed = compat_seed(0x9a6e0000u + (unsigned)page_size);
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "db.sqlite");
    sqlite3 *db = compat_sqlite_open(path);
    compat_execf(db, "PRAGMA page_size=%d; PRAGMA journal_mode=DELETE", page_size);
    compat_populate(db, seed, ROWS);
    cr_assert_eq(compat_query_int(db, "PRAGMA page_size"), page_size);
    compat_sqlite_close(db);

    compare_db(path);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* Checksum of a file's bytes, to see that a read-only open changed nothing. */
static uint64_t file_hash(const char *path)
{
    size_t n;
    uint8_t *p = compat_read_file(path, &n);
    uint64_t h = 0xcbf29ce484222325ull ^ n;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    free(p);
    return h;
}

static void check_wal(int page_size)
{
    uint64_t seed = compat_seed(0x3a1e0000u + (unsigned)page_size);
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "db.sqlite");
    char *wal = compat_suffix(path, "-wal");
    sqlite3 *db = compat_sqlite_open(path);
    compat_execf(db, "PRAGMA page_size=%d", page_size);
    compat_wal_mode(db);
    compat_populate(db, seed, ROWS);
    /* Half of the history goes into the database file... */
    compat_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    /* ...and the rest stays in the WAL: several transactions that rewrite
     * pages already in the file, add rows and drop an index. */
    compat_exec(db, "UPDATE mixed SET a = a + 1 WHERE typeof(a) = 'integer' AND a < 1000");
    compat_exec(db, "DELETE FROM wr WHERE n % 3 = 0");
    compat_exec(db, "INSERT INTO ipk(name, v) SELECT name || '+', v FROM ipk WHERE id % 2 = 0");
    compat_exec(db, "CREATE TABLE late(x PRIMARY KEY, y) WITHOUT ROWID;"
                    "INSERT INTO late SELECT id, name FROM ipk;"
                    "DROP INDEX mixed_e");
    cr_assert_eq(compat_query_int(db, "PRAGMA page_size"), page_size);
    compat_sqlite_close_keep_wal(db);
    cr_assert(compat_file_size(wal) > 0, "the -wal should hold transactions");

    /* A read-only folio must see the WAL and write nothing. */
    uint64_t h_db = file_hash(path), h_wal = file_hash(wal);
    compare_db_modes(path, COMPAT_RO, 40);
    cr_assert(file_hash(path) == h_db, "a read-only folio changed the database file");
    cr_assert(file_hash(wal) == h_wal, "a read-only folio changed the -wal");

    compare_db_modes(path, COMPAT_RW, 20);
    compat_rmtree(dir);
    free(wal);
    free(path);
    free(dir);
}

#define PAGE_SIZE_TESTS(n)                                                                         \
    Test(compat_pagesize, rollback_##n)                                                            \
    {                                                                                              \
        check_rollback(n);                                                                         \
    }                                                                                              \
    Test(compat_pagesize, wal_##n)                                                                 \
    {                                                                                              \
        check_wal(n);                                                                              \
    }

PAGE_SIZE_TESTS(512)
PAGE_SIZE_TESTS(1024)
PAGE_SIZE_TESTS(2048)
PAGE_SIZE_TESTS(4096)
PAGE_SIZE_TESTS(8192)
PAGE_SIZE_TESTS(16384)
PAGE_SIZE_TESTS(32768)
PAGE_SIZE_TESTS(65536)
