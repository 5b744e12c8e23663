/*
 * Regression: a large write transaction sends new pages (past the committed
 * end) straight to the database file and forgets them; reading one back
 * (pager_load_new_page) made a dirty copy first and read into it. When that
 * read failed, the copy stayed in the transaction's dirty set with whatever
 * bytes its memory held and no statement-journal entry, so the failed call
 * was "undone" but the next read of that page, and the commit, used those
 * bytes. A failed read must leave the dirty set as it was.
 */
#include <criterion/criterion.h>
#include <folio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "os/os_fault.h"

#define NROWS 20000

static void row_values(folio_value *v, int64_t id, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "row %lld padded to make pages fill up quickly", (long long)id);
    v[0].type = FOLIO_NULL;
    v[1].type = FOLIO_TEXT;
    v[1].u.s.p = buf;
    v[1].u.s.n = (size_t)n;
    v[2].type = FOLIO_INTEGER;
    v[2].u.i = id * 7;
}

Test(regress_load_new_page, failed_read_of_a_spilled_new_page_leaves_nothing_behind)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "n.db");
    os_fault *f = os_fault_new(NULL);
    os_vfs_install(os_fault_vfs(f));
    folio_options o = FOLIO_OPTIONS_INIT;
    o.cache_bytes = 64 * 4096; /* small: the load spills new pages to the file */
    o.wal_autocheckpoint = 0;
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *tx;
    cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(tx, "CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT, n INT)"), 0);
    cr_assert_eq(folio_commit(tx), FOLIO_OK, "%s", folio_errmsg(db));

    cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_WRITE), FOLIO_OK);
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, tx, "t"), FOLIO_OK);
    char buf[128];
    folio_value v[3];
    for (int64_t id = 1; id <= NROWS; id++) {
        row_values(v, id, buf, sizeof buf);
        cr_assert_eq(folio_insert(NULL, t, v, 3), FOLIO_OK, "%s", folio_errmsg(db));
    }
    /* Row 1 lies on a page that went to the file: reading it back fails. */
    os_fault_reset(f);
    os_fault_fail(f, OSF_READ, 1, FOLIO_IOERR, 0, 0);
    v[2].u.i = -1;
    int rc = folio_update(t, 1, v, 3);
    cr_assert_eq(os_fault_count(f, OSF_READ), 1, "the update was expected to read a page");
    cr_assert_eq(rc, FOLIO_IOERR, "update: %d %s", rc, folio_errmsg(db));
    os_fault_reset(f);

    /* The transaction goes on as if the update had never been asked for. */
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
    int64_t expect = 1;
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c), expect++) {
        cr_assert_eq(folio_cursor_rowid(c), expect);
        folio_value n;
        cr_assert_eq(folio_cursor_column(&n, c, 2), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(n.u.i, expect * 7, "row %lld reads %lld", (long long)expect, (long long)n.u.i);
    }
    cr_assert_eq(rc, FOLIO_DONE, "scan: %d %s", rc, folio_errmsg(db));
    cr_assert_eq(expect, NROWS + 1);
    folio_cursor_close(c);
    cr_assert_eq(folio_commit(tx), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    os_vfs_install(NULL);
    os_fault_free(f);

    char *ok = compat_integrity(path);
    cr_assert_str_eq(ok, "ok");
    free(ok);
    sqlite3 *s;
    cr_assert_eq(sqlite3_open(path, &s), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(s, "SELECT count(*), sum(n) FROM t", -1, &st, NULL), 0);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int64(st, 0), NROWS);
    cr_assert_eq(sqlite3_column_int64(st, 1), (int64_t)7 * NROWS * (NROWS + 1) / 2);
    sqlite3_finalize(st);
    sqlite3_close(s);
    compat_rmtree(dir);
    free(path);
    free(dir);
}
