/*
 * A database in WAL mode needs its -shm: a handle that cannot make or write
 * one must not read a WAL another connection may be writing. With a WAL
 * beside the file, the open is refused with a message that says so; with
 * none (read-only media), a read-only handle reads the file alone.
 */
#include <criterion/criterion.h>
#include <folio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat.h"

static void make_db(const char *path, int leave_wal)
{
    sqlite3 *s = compat_sqlite_open(path);
    compat_exec(s, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
                   "CREATE TABLE t(a); INSERT INTO t VALUES(1),(2),(3)");
    if (leave_wal)
        compat_sqlite_close_keep_wal(s);
    else
        compat_sqlite_close(s);
}

Test(regress_shm, unwritable_shm_with_a_wal_is_refused_clearly)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "w.db");
    make_db(path, 1);
    char *shm = compat_suffix(path, "-shm");
    unlink(shm);
    cr_assert_eq(mkdir(shm, 0755), 0); /* a -shm that cannot be opened as a file */
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    folio_db *db = NULL;
    int rc = folio_open(&db, path, &o);
    cr_assert_eq(rc, FOLIO_CANTOPEN, "%d %s", rc, folio_open_errmsg());
    cr_assert(strstr(folio_open_errmsg(), "-shm") != NULL, "%s", folio_open_errmsg());
    o.flags = 0;
    rc = folio_open(&db, path, &o);
    cr_assert_eq(rc, FOLIO_CANTOPEN, "%d %s", rc, folio_open_errmsg());
    rmdir(shm);
    compat_rmtree(dir);
    free(shm);
    free(path);
    free(dir);
}

Test(regress_shm, no_wal_and_no_shm_reads_the_file_alone)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "n.db");
    make_db(path, 0); /* closed cleanly: no -wal, no -shm */
    char *shm = compat_suffix(path, "-shm");
    cr_assert_eq(mkdir(shm, 0755), 0);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    folio_db *db = NULL;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *tx;
    folio_table *t;
    folio_cursor *c;
    cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_READ), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_table_open(&t, tx, "t"), FOLIO_OK);
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
    int64_t sum = 0;
    int rc;
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
        folio_value v;
        cr_assert_eq(folio_cursor_column(&v, c, 0), FOLIO_OK);
        sum += v.u.i;
    }
    cr_assert_eq(rc, FOLIO_DONE);
    cr_assert_eq(sum, 6);
    folio_cursor_close(c);
    cr_assert_eq(folio_commit(tx), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    rmdir(shm);
    compat_rmtree(dir);
    free(shm);
    free(path);
    free(dir);
}
