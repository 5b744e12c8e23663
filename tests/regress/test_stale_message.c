/*
 * Regression: the message of a failed call was the transaction's last
 * message whenever one was set, and some failures returned a bare code, so
 * a call could fail with an earlier, unrelated message (libgit2's rule
 * applies: an error not passed up is cleared). Here a read fails with an I/O
 * error (the transaction keeps its message), then later calls fail for
 * other reasons: out of memory at every allocation of a DDL statement, an
 * insert, an update (the old row is copied) and an insert into an indexed
 * table (its index entries are built) in turn. None of their messages may
 * speak of the I/O error.
 */
#include <criterion/criterion.h>
#include <folio.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "os/os_fault.h"

Test(regress_stale_message, a_failure_never_reports_an_earlier_one)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "m.db");
    os_fault *f = os_fault_new(NULL);
    os_vfs_install(os_fault_vfs(f));
    folio_options o = FOLIO_OPTIONS_INIT;
    o.mmap_bytes = 0;          /* every page read goes through the vfs */
    o.cache_bytes = 16 * 4096; /* and few stay cached */
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *tx;
    cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(tx, "CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT)"), FOLIO_OK);
    cr_assert_eq(folio_exec(tx, "CREATE TABLE w(id INTEGER PRIMARY KEY, s TEXT)"), FOLIO_OK);
    cr_assert_eq(folio_exec(tx, "CREATE INDEX w_s ON w(s, id)"), FOLIO_OK);
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, tx, "t"), FOLIO_OK);
    char text[200];
    memset(text, 'x', sizeof text);
    for (int i = 1; i <= 2000; i++) {
        folio_value v[2] = {{FOLIO_NULL, {0}}, {FOLIO_TEXT, {.s = {text, sizeof text}}}};
        cr_assert_eq(folio_insert(NULL, t, v, 2), FOLIO_OK, "%s", folio_errmsg(db));
    }
    cr_assert_eq(folio_commit(tx), FOLIO_OK, "%s", folio_errmsg(db));
    static const char *const what[] = {"folio_exec", "folio_insert", "folio_update",
                                       "folio_insert (indexed)"};
    int failed[4] = {0, 0, 0, 0};
    for (int kind = 0; kind < 4; kind++) {
        for (long k = 1; k < 400; k++) {
            cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
            cr_assert_eq(folio_table_open(&t, tx, "t"), FOLIO_OK);
            /* A read that fails: the transaction's message is now this one. */
            folio_cursor *c;
            cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
            os_fault_reset(f);
            os_fault_fail(f, OSF_READ, 1, FOLIO_IOERR, 1, 0);
            int rc = folio_cursor_seek_rowid(c, 1500);
            os_fault_reset(f);
            folio_cursor_close(c);
            cr_assert_eq(rc, FOLIO_IOERR, "the read was to fail: %d %s", rc, folio_errmsg(db));
            cr_assert(strstr(folio_errmsg(db), "I/O error"), "%s", folio_errmsg(db));
            /* Then a call that fails at its k-th allocation. */
            os_fail_alloc_after(k, 0);
            folio_value v[2] = {{FOLIO_NULL, {0}}, {FOLIO_TEXT, {.s = {text, sizeof text}}}};
            folio_table *w;
            if (kind == 0) {
                rc = folio_exec(tx, "CREATE TABLE u(a INTEGER PRIMARY KEY, b TEXT UNIQUE)");
            } else if (kind == 1) {
                rc = folio_insert(NULL, t, v, 2);
            } else if (kind == 2) {
                v[1].u.s.n = 100;
                rc = folio_update(t, 700, v, 2);
            } else {
                os_fail_alloc_after(0, 0);
                cr_assert_eq(folio_table_open(&w, tx, "w"), FOLIO_OK);
                os_fail_alloc_after(k, 0);
                rc = folio_insert(NULL, w, v, 2);
            }
            os_fail_alloc_after(0, 0);
            if (rc < 0) {
                failed[kind]++;
                cr_assert(strstr(folio_errmsg(db), "I/O error") == NULL,
                          "%s failing at allocation %ld reports the earlier read error: %s",
                          what[kind], k, folio_errmsg(db));
            }
            folio_rollback(tx);
            if (rc == FOLIO_OK)
                break; /* past the call's last allocation */
        }
    }
    for (int kind = 0; kind < 4; kind++)
        cr_assert_gt(failed[kind], 0, "no allocation of %s failed", what[kind]);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    os_vfs_install(NULL);
    os_fault_free(f);
    char *ok = compat_integrity(path);
    cr_assert_str_eq(ok, "ok");
    free(ok);
    compat_rmtree(dir);
    free(path);
    free(dir);
}
