/*
 * Regression: a large write transaction hands new pages (past the committed
 * end) to a thread that writes them to the database file, and forgets them.
 * When that write failed, the error reached whichever call next waited for
 * the thread (a later insert's spill), as one failed call that the statement
 * journal "undid" - but the pages of the earlier statements were lost. The
 * transaction went on; a later scan read zeros from the file and reported
 * FOLIO_CORRUPT ("invalid b-tree page header"). A lost write-behind must
 * leave the transaction able only to roll back, every call saying so, and
 * never read as corruption. (Found by the graph edges fault test.)
 */
#include <criterion/criterion.h>
#include <folio.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "os/os_fault.h"

Test(regress_writebehind, a_failed_write_behind_poisons_the_transaction, .timeout = 300)
{
    char *dir = compat_tmpdir();
    char *base = compat_path(dir, "base.db"), *work = compat_path(dir, "w.db");
    folio_options o = FOLIO_OPTIONS_INIT;
    o.sync = FOLIO_SYNC_OFF;
    o.cache_bytes = 64 * 1024; /* small: new pages go to the file early */
    o.mmap_bytes = 0;
    o.wal_autocheckpoint = 0;
    folio_db *db;
    cr_assert_eq(folio_open(&db, base, &o), FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *tx;
    cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(tx, "CREATE TABLE t(x TEXT PRIMARY KEY, y)"), FOLIO_OK);
    cr_assert_eq(folio_commit(tx), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    os_fault *f = os_fault_new(NULL);
    int failed_runs = 0;
    for (long point = 1; point < 40; point++) {
        compat_copy_db(base, work, 0);
        os_vfs_install(os_fault_vfs(f));
        cr_assert_eq(folio_open(&db, work, &o), FOLIO_OK, "%s", folio_open_errmsg());
        os_fault_reset(f);
        os_fault_fail(f, OSF_WRITE, point, FOLIO_IOERR, 0, 0);
        cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_WRITE), FOLIO_OK);
        folio_table *t;
        cr_assert_eq(folio_table_open(&t, tx, "t"), FOLIO_OK);
        /* Calls may fail (with the I/O error, or "roll the transaction
         * back"); what succeeded must be there, and nothing reads as
         * corruption. */
        int failed = 0, stopped = 0;
        long ok = 0;
        for (int i = 0; i < 3000 && !stopped; i++) {
            char k[32], y[300];
            snprintf(k, sizeof k, "key%07d", (i * 7919) % 100003);
            memset(y, 'y', sizeof y);
            folio_value v[2] = {{.type = FOLIO_TEXT, .u.s = {k, strlen(k)}},
                                {.type = FOLIO_TEXT, .u.s = {y, sizeof y}}};
            int rc = folio_insert(NULL, t, v, 2);
            if (rc < 0) {
                cr_assert(rc == FOLIO_IOERR || rc == FOLIO_ERROR, "point %ld insert %d: %s: %s",
                          point, i, compat_rc_name(rc), folio_errmsg(db));
                failed = 1;
            } else {
                ok++;
            }
            if (i % 100 == 99) {
                folio_cursor *c;
                if ((rc = folio_cursor_open(&c, t, NULL)) < 0) {
                    stopped = 1;
                    break;
                }
                long n = 0;
                for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
                    n++;
                folio_cursor_close(c);
                if (rc < 0) {
                    cr_assert_neq(rc, FOLIO_CORRUPT, "point %ld row %d: scan: %s", point, i,
                                  folio_errmsg(db));
                    failed = stopped = 1;
                } else {
                    cr_assert_eq(n, ok, "point %ld: scan found %ld rows, %ld were inserted", point,
                                 n, ok);
                }
            }
        }
        failed_runs += failed;
        int crc = folio_commit(tx);
        cr_assert_neq(crc, FOLIO_CORRUPT, "point %ld: commit: %s", point, folio_errmsg(db));
        cr_assert_eq(folio_close(db), FOLIO_OK);
        os_vfs_install(NULL);
        /* Whatever happened, the file is sound, and holds every row of a
         * commit that succeeded (or none). */
        char *ic = compat_integrity(work);
        cr_assert_str_eq(ic, "ok", "point %ld: %s", point, ic);
        free(ic);
        sqlite3 *s = compat_sqlite_open_ro(work);
        int64_t rows = compat_query_int(s, "SELECT count(*) FROM t");
        compat_sqlite_close(s);
        cr_assert(rows == (crc == FOLIO_OK ? ok : 0),
                  "point %ld: %lld rows after commit %s, %ld "
                  "inserted",
                  point, (long long)rows, compat_rc_name(crc), ok);
    }
    cr_assert_gt(failed_runs, 0, "no fault reached a write");
    os_fault_free(f);
    compat_rmtree(dir);
    free(base);
    free(work);
    free(dir);
}
