/*
 * test_reserved.c - files with reserved bytes at the end of every page (byte
 * 20 of the header, as encryption and checksum extensions leave them), set
 * with SQLITE_FCNTL_RESERVE_BYTES before the first table: the usable page size
 * shrinks, which changes cell capacity and the overflow thresholds.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static void check_reserved(int page_size, int reserved, int wal)
{
    uint64_t seed = compat_seed(0x7e5e0000u + (unsigned)(page_size + reserved));
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "db.sqlite");
    sqlite3 *db = compat_sqlite_open(path);
    compat_execf(db, "PRAGMA page_size=%d", page_size);
    int n = reserved;
    cr_assert_eq(sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &n), SQLITE_OK);
    if (wal)
        compat_wal_mode(db);
    compat_populate(db, seed, 200);
    if (wal) {
        compat_exec(db, "PRAGMA wal_checkpoint(TRUNCATE);"
                        "DELETE FROM mixed WHERE rowid % 4 = 1;"
                        "INSERT INTO ipk(name, v) SELECT name, v FROM ipk WHERE id % 3 = 0");
        compat_sqlite_close_keep_wal(db);
    } else {
        compat_sqlite_close(db);
    }

    size_t len;
    uint8_t *file = compat_read_file(path, &len);
    cr_assert(len >= 100 && file[20] == reserved, "header byte 20 is %d, wanted %d",
              len >= 100 ? file[20] : -1, reserved);
    free(file);

    compare_db(path);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

Test(compat_reserved, page_512_reserve_32)
{
    check_reserved(512, 32, 0);
}
Test(compat_reserved, page_512_reserve_1)
{
    check_reserved(512, 1, 0);
}
Test(compat_reserved, page_1024_reserve_100)
{
    check_reserved(1024, 100, 0);
}
Test(compat_reserved, page_2048_reserve_40)
{
    check_reserved(2048, 40, 0);
}
Test(compat_reserved, page_4096_reserve_8)
{
    check_reserved(4096, 8, 0);
}
Test(compat_reserved, page_4096_reserve_255)
{
    check_reserved(4096, 255, 0);
}
Test(compat_reserved, page_65536_reserve_255)
{
    check_reserved(65536, 255, 0);
}
Test(compat_reserved, wal_page_4096_reserve_64)
{
    check_reserved(4096, 64, 1);
}
Test(compat_reserved, wal_page_1024_reserve_12)
{
    check_reserved(1024, 12, 1);
}
