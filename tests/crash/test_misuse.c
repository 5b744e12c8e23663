/*
 * test_misuse.c - bad use of the API gets a clear error, never a crash.
 *
 * NULL handles and pointers to every function, wrong value counts, unknown
 * tables, indexes and columns, values of an invalid type, TEXT and BLOB
 * claiming 2e9 bytes over a small buffer (refused before a byte is read:
 * AddressSanitizer would catch a read), writes in read transactions and on
 * read-only handles, a second writer (another thread, another handle) that
 * waits for the busy timeout and gets FOLIO_BUSY, DDL with syntax errors,
 * and files that are not databases: garbage, an empty file, a directory, a
 * truncated database, a missing file.
 *
 * Each call must return the documented code (or one of the few reasonable
 * ones) and, where a handle exists, leave a real message in folio_errmsg;
 * the handle must go on working afterwards.
 */
#include "crash_support.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---- */

static folio_value v_int(int64_t i)
{
    folio_value v;
    v.type = FOLIO_INTEGER;
    v.u.i = i;
    return v;
}

static folio_value v_text(const char *s)
{
    folio_value v;
    v.type = FOLIO_TEXT;
    v.u.s.p = s;
    v.u.s.n = strlen(s);
    return v;
}

static folio_value v_huge(folio_type type, const void *small)
{
    folio_value v;
    v.type = type;
    v.u.s.p = small;
    v.u.s.n = 2000000000u; /* far more than the buffer holds */
    return v;
}

/* rc must be one of the wanted codes (0 ends the list); with a handle, a
 * real message must be there. */
static void check_rc(folio_db *db, const char *what, int rc, const int *want)
{
    int ok = 0;
    char list[200] = "";
    for (int i = 0; want[i] != 999; i++) {
        if (rc == want[i])
            ok = 1;
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", i ? " or " : "", crash_rc_name(want[i]));
    }
    cr_expect(ok, "%s returned %s, expected %s (%s)", what, crash_rc_name(rc), list,
              db ? folio_errmsg(db) : "-");
    if (ok && db && rc < 0)
        cr_expect(crash_has_msg(db), "%s returned %s without a message", what, crash_rc_name(rc));
}

#define EXPECT(db, call, ...)                                                                      \
    do {                                                                                           \
        static const int want_[] = {__VA_ARGS__, 999};                                             \
        check_rc((db), #call, (call), want_);                                                      \
    } while (0)

typedef struct fixture {
    char *dir;
    char *path;
    folio_db *db;
} fixture;

/* A database with a rowid table t(a INTEGER PRIMARY KEY, b TEXT, c BLOB)
 * holding row 1, an index t_b, and a WITHOUT ROWID table w(k TEXT PRIMARY
 * KEY, v). */
static void fixture_open(fixture *f, unsigned busy_ms)
{
    f->dir = crash_tmpdir("misuse");
    f->path = crash_path(f->dir, "m.db");
    folio_options o = FOLIO_OPTIONS_INIT;
    o.busy_timeout_ms = busy_ms;
    cr_assert_eq(folio_open(&f->db, f->path, &o), FOLIO_OK);
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, f->db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(txn, "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB)"),
                 FOLIO_OK);
    cr_assert_eq(folio_exec(txn, "CREATE INDEX t_b ON t(b)"), FOLIO_OK);
    cr_assert_eq(folio_exec(txn, "CREATE TABLE w(k TEXT PRIMARY KEY, v) WITHOUT ROWID"), FOLIO_OK);
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    folio_value r[3] = {v_int(1), v_text("one"), v_text("x")};
    cr_assert_eq(folio_insert(NULL, t, r, 3), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "w"), FOLIO_OK);
    folio_value k[2] = {v_text("k"), v_int(1)};
    cr_assert_eq(folio_insert(NULL, t, k, 2), FOLIO_OK);
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
}

static void fixture_close(fixture *f)
{
    if (f->db)
        cr_assert_eq(folio_close(f->db), FOLIO_OK);
    char err[1024];
    cr_assert_eq(crash_verify(f->path, NULL, err, sizeof err), 0, "%s", err);
    crash_rmtree(f->dir);
    free(f->dir);
    free(f->path);
}

/* The fixture's content is still intact and writable. */
static void still_works(fixture *f)
{
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, f->db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(f->db));
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
    cr_assert_eq(folio_cursor_seek_rowid(c, 1), FOLIO_ROW);
    folio_value v;
    cr_assert_eq(folio_cursor_column(&v, c, 1), FOLIO_OK);
    cr_assert_eq(v.type, FOLIO_TEXT);
    cr_assert_eq(v.u.s.n, 3);
    cr_assert_eq(memcmp(v.u.s.p, "one", 3), 0);
    folio_cursor_close(c);
    folio_value r[3] = {v_int(0), v_text("still"), v_text("ok")};
    r[0].type = FOLIO_NULL;
    cr_assert_eq(folio_insert(NULL, t, r, 3), FOLIO_OK, "%s", folio_errmsg(f->db));
    cr_assert_eq(folio_rollback(txn), FOLIO_OK);
}

static int stats_cb(void *arg, const folio_btree_stats *s)
{
    (void)arg, (void)s;
    return 0;
}

static int check_cb(void *arg, const char *msg)
{
    (void)arg, (void)msg;
    return 0;
}

/* ---- NULL handles and pointers ---- */

Test(crash_misuse, null_handles_and_pointers)
{
    fixture f;
    fixture_open(&f, 0);
    folio_db *db = f.db;
    static const folio_value one = {FOLIO_INTEGER, {.i = 1}};
    int cols[1] = {1};

    /* Open. */
    folio_db *out = (folio_db *)&f; /* must be set to NULL */
    EXPECT(NULL, folio_open(NULL, f.path, NULL), FOLIO_MISUSE);
    EXPECT(NULL, folio_open(&out, NULL, NULL), FOLIO_MISUSE);
    cr_expect_null(out, "folio_open left *out set after failing");
    EXPECT(NULL, folio_open(&out, "", NULL), FOLIO_MISUSE);
    cr_expect_str_neq(folio_open_errmsg(), "");
    cr_expect_str_neq(folio_open_errmsg(), "not an error");
    folio_options bad = FOLIO_OPTIONS_INIT;
    bad.version = 99;
    EXPECT(NULL, folio_open(&out, f.path, &bad), FOLIO_MISUSE);
    bad = (folio_options)FOLIO_OPTIONS_INIT;
    bad.sync = 7;
    EXPECT(NULL, folio_open(&out, f.path, &bad), FOLIO_MISUSE);
    bad = (folio_options)FOLIO_OPTIONS_INIT;
    bad.page_size = 1000;
    EXPECT(NULL, folio_open(&out, f.path, &bad), FOLIO_MISUSE);
    bad.page_size = 131072;
    EXPECT(NULL, folio_open(&out, f.path, &bad), FOLIO_MISUSE);
    EXPECT(NULL, folio_close(NULL), FOLIO_OK, FOLIO_MISUSE);
    cr_expect_not_null(folio_errmsg(NULL));
    cr_expect_not_null(folio_strerror(-12345));
    cr_expect_not_null(folio_strerror(12345));

    /* Transactions. */
    folio_txn *txn;
    EXPECT(NULL, folio_begin(&txn, NULL, FOLIO_TXN_READ), FOLIO_MISUSE);
    EXPECT(db, folio_begin(NULL, db, FOLIO_TXN_READ), FOLIO_MISUSE);
    EXPECT(db, folio_begin(&txn, db, 0), FOLIO_MISUSE);
    EXPECT(db, folio_begin(&txn, db, 0x40), FOLIO_MISUSE);
    EXPECT(NULL, folio_commit(NULL), FOLIO_MISUSE);
    EXPECT(NULL, folio_rollback(NULL), FOLIO_MISUSE);
    EXPECT(db, folio_checkpoint(NULL, FOLIO_CHECKPOINT_PASSIVE, NULL, NULL), FOLIO_MISUSE);
    EXPECT(db, folio_checkpoint(db, -1, NULL, NULL), FOLIO_MISUSE);
    EXPECT(db, folio_checkpoint(db, 4, NULL, NULL), FOLIO_MISUSE);

    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    folio_table *t, *w;
    EXPECT(NULL, folio_exec(NULL, "CREATE TABLE z(a)"), FOLIO_MISUSE);
    EXPECT(db, folio_exec(txn, NULL), FOLIO_MISUSE);
    EXPECT(NULL, folio_table_open(&t, NULL, "t"), FOLIO_MISUSE);
    EXPECT(db, folio_table_open(NULL, txn, "t"), FOLIO_MISUSE);
    EXPECT(db, folio_table_open(&t, txn, NULL), FOLIO_MISUSE);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&w, txn, "w"), FOLIO_OK);
    cr_expect_lt(folio_table_ncols(NULL), 0);
    cr_expect_null(folio_table_colname(NULL, 0));
    cr_expect_null(folio_table_colname(t, -1));
    cr_expect_null(folio_table_colname(t, 3));
    cr_expect_lt(folio_table_without_rowid(NULL), 0);

    /* Rows. */
    EXPECT(NULL, folio_insert(NULL, NULL, &one, 1), FOLIO_MISUSE);
    EXPECT(db, folio_insert(NULL, t, NULL, 2), FOLIO_MISUSE);
    EXPECT(NULL, folio_update(NULL, 1, &one, 1), FOLIO_MISUSE);
    EXPECT(db, folio_update(t, 1, NULL, 2), FOLIO_MISUSE);
    EXPECT(NULL, folio_upsert(NULL, NULL, 1, &one, 1), FOLIO_MISUSE);
    EXPECT(db, folio_upsert(NULL, t, 1, NULL, 2), FOLIO_MISUSE);
    EXPECT(NULL, folio_patch(NULL, 1, cols, &one, 1), FOLIO_MISUSE);
    EXPECT(db, folio_patch(t, 1, NULL, &one, 1), FOLIO_MISUSE);
    EXPECT(db, folio_patch(t, 1, cols, NULL, 1), FOLIO_MISUSE);
    EXPECT(NULL, folio_delete(NULL, 1), FOLIO_MISUSE);
    EXPECT(NULL, folio_delete_key(NULL, &one, 1), FOLIO_MISUSE);
    EXPECT(db, folio_delete_key(w, NULL, 1), FOLIO_MISUSE);
    EXPECT(NULL, folio_update_key(NULL, &one, 1, &one, 1), FOLIO_MISUSE);
    EXPECT(db, folio_update_key(w, NULL, 1, &one, 1), FOLIO_MISUSE);
    EXPECT(db, folio_update_key(w, &one, 1, NULL, 2), FOLIO_MISUSE);

    /* Cursors. */
    folio_cursor *c;
    EXPECT(NULL, folio_cursor_open(&c, NULL, NULL), FOLIO_MISUSE);
    EXPECT(db, folio_cursor_open(NULL, t, NULL), FOLIO_MISUSE);
    EXPECT(NULL, folio_cursor_first(NULL), FOLIO_MISUSE);
    EXPECT(NULL, folio_cursor_last(NULL), FOLIO_MISUSE);
    EXPECT(NULL, folio_cursor_next(NULL), FOLIO_MISUSE);
    EXPECT(NULL, folio_cursor_prev(NULL), FOLIO_MISUSE);
    EXPECT(NULL, folio_cursor_seek_rowid(NULL, 1), FOLIO_MISUSE);
    EXPECT(NULL, folio_cursor_seek(NULL, &one, 1, FOLIO_SEEK_GE), FOLIO_MISUSE);
    folio_value v;
    EXPECT(NULL, folio_cursor_column(&v, NULL, 0), FOLIO_MISUSE);
    (void)folio_cursor_rowid(NULL);
    folio_cursor_close(NULL);
    cr_assert_eq(folio_cursor_open(&c, t, "t_b"), FOLIO_OK);
    EXPECT(db, folio_cursor_seek(c, NULL, 1, FOLIO_SEEK_GE), FOLIO_MISUSE);
    EXPECT(db, folio_cursor_column(NULL, c, 0), FOLIO_MISUSE);
    folio_cursor_close(c);

    /* Inspection. */
    folio_schema_entry e;
    folio_info info;
    EXPECT(NULL, folio_schema_count(NULL), FOLIO_MISUSE);
    EXPECT(NULL, folio_schema_get(&e, NULL, 0), FOLIO_MISUSE);
    EXPECT(db, folio_schema_get(NULL, txn, 0), FOLIO_MISUSE);
    EXPECT(NULL, folio_info_get(&info, NULL), FOLIO_MISUSE);
    EXPECT(db, folio_info_get(NULL, txn), FOLIO_MISUSE);
    EXPECT(NULL, folio_stats(NULL, stats_cb, NULL), FOLIO_MISUSE);
    EXPECT(db, folio_stats(txn, NULL, NULL), FOLIO_MISUSE);
    EXPECT(NULL, folio_check(NULL, check_cb, NULL, 0), FOLIO_MISUSE);
    EXPECT(db, folio_check(txn, NULL, NULL, 0), FOLIO_MISUSE);

    cr_assert_eq(folio_rollback(txn), FOLIO_OK);
    still_works(&f);
    fixture_close(&f);
}

/* ---- wrong values ---- */

Test(crash_misuse, wrong_counts_types_and_names)
{
    fixture f;
    fixture_open(&f, 0);
    folio_db *db = f.db;
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    folio_table *t, *w;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&w, txn, "w"), FOLIO_OK);
    folio_value four[4] = {v_int(5), v_text("five"), v_text("5"), v_int(5)};

    /* Counts. */
    EXPECT(db, folio_insert(NULL, t, four, 4), FOLIO_MISUSE);
    EXPECT(db, folio_insert(NULL, t, four, -1), FOLIO_MISUSE);
    EXPECT(db, folio_insert(NULL, t, four, -2000000000), FOLIO_MISUSE);
    EXPECT(db, folio_update(t, 1, four, 4), FOLIO_MISUSE);
    EXPECT(db, folio_update(t, 1, four, -1), FOLIO_MISUSE);
    EXPECT(db, folio_upsert(NULL, t, 9, four, 4), FOLIO_MISUSE);
    int cols[3] = {1, 2, 1};
    EXPECT(db, folio_patch(t, 1, cols, four, -1), FOLIO_MISUSE);
    int badcol[1] = {3};
    EXPECT(db, folio_patch(t, 1, badcol, four, 1), FOLIO_MISUSE, FOLIO_NOTFOUND_ERR);
    badcol[0] = -1;
    EXPECT(db, folio_patch(t, 1, badcol, four, 1), FOLIO_MISUSE, FOLIO_NOTFOUND_ERR);
    folio_value key = v_text("k");
    EXPECT(db, folio_delete_key(w, &key, 0), FOLIO_MISUSE);
    EXPECT(db, folio_delete_key(w, &key, -1), FOLIO_MISUSE);
    EXPECT(db, folio_delete_key(w, four, 2), FOLIO_MISUSE);
    EXPECT(db, folio_update_key(w, &key, 1, four, 3), FOLIO_MISUSE);
    EXPECT(db, folio_update_key(w, &key, 1, four, -1), FOLIO_MISUSE);

    /* The wrong kind of table. */
    EXPECT(db, folio_update(w, 1, four, 2), FOLIO_MISUSE);
    EXPECT(db, folio_delete(w, 1), FOLIO_MISUSE);
    EXPECT(db, folio_delete_key(t, &key, 1), FOLIO_MISUSE);
    EXPECT(db, folio_update_key(t, &key, 1, four, 3), FOLIO_MISUSE);

    /* Rows that are not there. */
    EXPECT(db, folio_update(t, 424242, four, 3), FOLIO_NOTFOUND, FOLIO_NOTFOUND_ERR);
    EXPECT(db, folio_delete(t, 424242), FOLIO_NOTFOUND, FOLIO_NOTFOUND_ERR, FOLIO_OK);
    folio_value nokey = v_text("no such key");
    EXPECT(db, folio_delete_key(w, &nokey, 1), FOLIO_NOTFOUND, FOLIO_NOTFOUND_ERR, FOLIO_OK);

    /* Invalid value types. */
    folio_value bad[3] = {v_int(6), v_text("six"), v_text("6")};
    bad[1].type = (folio_type)7;
    EXPECT(db, folio_insert(NULL, t, bad, 3), FOLIO_MISUSE);
    bad[1].type = (folio_type)-1;
    EXPECT(db, folio_insert(NULL, t, bad, 3), FOLIO_MISUSE);
    EXPECT(db, folio_update(t, 1, bad, 3), FOLIO_MISUSE);
    folio_value badkey = key;
    badkey.type = (folio_type)42;
    EXPECT(db, folio_delete_key(w, &badkey, 1), FOLIO_MISUSE);
    folio_value nullp = v_text("x");
    nullp.u.s.p = NULL;
    nullp.u.s.n = 10;
    folio_value withnull[3] = {v_int(7), nullp, v_text("7")};
    EXPECT(db, folio_insert(NULL, t, withnull, 3), FOLIO_MISUSE);

    /* Unknown names. */
    folio_table *x;
    folio_cursor *c;
    EXPECT(db, folio_table_open(&x, txn, "no_such_table"), FOLIO_NOTFOUND_ERR);
    EXPECT(db, folio_table_open(&x, txn, ""), FOLIO_NOTFOUND_ERR);
    EXPECT(db, folio_cursor_open(&c, t, "no_such_index"), FOLIO_NOTFOUND_ERR);
    EXPECT(db, folio_exec(txn, "DROP TABLE no_such_table"), FOLIO_NOTFOUND_ERR, FOLIO_ERROR);
    EXPECT(db, folio_exec(txn, "DROP INDEX no_such_index"), FOLIO_NOTFOUND_ERR, FOLIO_ERROR);
    EXPECT(db, folio_exec(txn, "CREATE INDEX bad ON t(no_such_column)"), FOLIO_NOTFOUND_ERR,
           FOLIO_ERROR, FOLIO_MISUSE);
    EXPECT(db, folio_exec(txn, "CREATE INDEX bad ON no_such_table(a)"), FOLIO_NOTFOUND_ERR,
           FOLIO_ERROR, FOLIO_MISUSE);

    /* Cursor positions and columns. */
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
    folio_value v;
    EXPECT(db, folio_cursor_column(&v, c, 0), FOLIO_MISUSE); /* not positioned */
    EXPECT(db, folio_cursor_next(c), FOLIO_MISUSE, FOLIO_DONE);
    cr_assert_eq(folio_cursor_first(c), FOLIO_ROW);
    EXPECT(db, folio_cursor_column(&v, c, -1), FOLIO_MISUSE, FOLIO_NOTFOUND_ERR);
    EXPECT(db, folio_cursor_column(&v, c, 3), FOLIO_MISUSE, FOLIO_NOTFOUND_ERR);
    EXPECT(db, folio_cursor_column(&v, c, 1 << 30), FOLIO_MISUSE, FOLIO_NOTFOUND_ERR);
    EXPECT(db, folio_cursor_seek(c, &key, 1, FOLIO_SEEK_GE), FOLIO_MISUSE, FOLIO_ROW,
           FOLIO_NOTFOUND); /* a table-order cursor of a rowid table has no key */
    folio_cursor_close(c);
    cr_assert_eq(folio_cursor_open(&c, t, "t_b"), FOLIO_OK);
    EXPECT(db, folio_cursor_seek(c, &key, 0, FOLIO_SEEK_GE), FOLIO_MISUSE);
    EXPECT(db, folio_cursor_seek(c, &key, -3, FOLIO_SEEK_GE), FOLIO_MISUSE);
    EXPECT(db, folio_cursor_seek(c, &key, 1, 99), FOLIO_MISUSE);
    EXPECT(db, folio_cursor_seek(c, &key, 1, -1), FOLIO_MISUSE);
    EXPECT(db, folio_cursor_seek(c, &badkey, 1, FOLIO_SEEK_GE), FOLIO_MISUSE);
    EXPECT(db, folio_cursor_seek(c, four, 3, FOLIO_SEEK_GE), FOLIO_MISUSE, FOLIO_ROW,
           FOLIO_NOTFOUND); /* more key values than the index has columns + rowid */
    folio_cursor_close(c);

    /* Schema entries out of range. */
    folio_schema_entry e;
    int n = folio_schema_count(txn);
    cr_expect_eq(n, 3);
    EXPECT(db, folio_schema_get(&e, txn, -1), FOLIO_MISUSE);
    EXPECT(db, folio_schema_get(&e, txn, n), FOLIO_MISUSE);

    /* After all that the transaction commits what it had (nothing). */
    cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s", folio_errmsg(db));
    still_works(&f);
    fixture_close(&f);
}

/* ---- sizes over the limit: refused before reading ---- */

Test(crash_misuse, values_claiming_two_gigabytes_are_refused_unread)
{
    fixture f;
    fixture_open(&f, 0);
    folio_db *db = f.db;
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    folio_table *t, *w;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&w, txn, "w"), FOLIO_OK);
    static const char small[8] = "tiny";
    folio_value huge_text = v_huge(FOLIO_TEXT, small);
    folio_value huge_blob = v_huge(FOLIO_BLOB, small);

    folio_value r1[3] = {v_int(10), huge_text, v_text("c")};
    EXPECT(db, folio_insert(NULL, t, r1, 3), FOLIO_TOOBIG, FOLIO_MISUSE);
    folio_value r2[3] = {v_int(11), v_text("b"), huge_blob};
    EXPECT(db, folio_insert(NULL, t, r2, 3), FOLIO_TOOBIG, FOLIO_MISUSE);
    folio_value r3[3] = {v_int(1), v_text("b"), huge_blob};
    EXPECT(db, folio_update(t, 1, r3, 3), FOLIO_TOOBIG, FOLIO_MISUSE);
    EXPECT(db, folio_upsert(NULL, t, 12, r3, 3), FOLIO_TOOBIG, FOLIO_MISUSE);
    int cols[1] = {2};
    EXPECT(db, folio_patch(t, 1, cols, &huge_blob, 1), FOLIO_TOOBIG, FOLIO_MISUSE);
    folio_value wr[2] = {huge_text, v_int(1)};
    EXPECT(db, folio_insert(NULL, w, wr, 2), FOLIO_TOOBIG, FOLIO_MISUSE);
    EXPECT(db, folio_delete_key(w, &huge_text, 1), FOLIO_TOOBIG, FOLIO_MISUSE, FOLIO_NOTFOUND);
    folio_value wr2[2] = {v_text("k"), huge_blob};
    folio_value k = v_text("k");
    EXPECT(db, folio_update_key(w, &k, 1, wr2, 2), FOLIO_TOOBIG, FOLIO_MISUSE);
    EXPECT(db, folio_update_key(w, &huge_text, 1, wr2, 2), FOLIO_TOOBIG, FOLIO_MISUSE,
           FOLIO_NOTFOUND);
    /* Just past the documented 1e9 limit, still over a small buffer. */
    folio_value over = huge_blob;
    over.u.s.n = 1000000001u;
    folio_value r4[3] = {v_int(13), v_text("b"), over};
    EXPECT(db, folio_insert(NULL, t, r4, 3), FOLIO_TOOBIG, FOLIO_MISUSE);
    over.u.s.n = (size_t)-1;
    r4[2] = over;
    EXPECT(db, folio_insert(NULL, t, r4, 3), FOLIO_TOOBIG, FOLIO_MISUSE);

    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, t, "t_b"), FOLIO_OK);
    EXPECT(db, folio_cursor_seek(c, &huge_text, 1, FOLIO_SEEK_GE), FOLIO_TOOBIG, FOLIO_MISUSE,
           FOLIO_ROW, FOLIO_NOTFOUND);
    folio_cursor_close(c);
    cr_assert_eq(folio_cursor_open(&c, w, NULL), FOLIO_OK);
    EXPECT(db, folio_cursor_seek(c, &huge_text, 1, FOLIO_SEEK_EQ), FOLIO_TOOBIG, FOLIO_MISUSE,
           FOLIO_NOTFOUND);
    folio_cursor_close(c);

    cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s", folio_errmsg(db));
    still_works(&f);
    fixture_close(&f);
}

/* ---- read-only use ---- */

Test(crash_misuse, writes_in_a_read_transaction_are_refused)
{
    fixture f;
    fixture_open(&f, 0);
    folio_db *db = f.db;
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_READ), FOLIO_OK);
    folio_table *t, *w;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&w, txn, "w"), FOLIO_OK);
    folio_value r[3] = {v_int(20), v_text("b"), v_text("c")};
    int cols[1] = {1};
    folio_value k = v_text("k");
    folio_value wr[2] = {v_text("k"), v_int(2)};
    EXPECT(db, folio_insert(NULL, t, r, 3), FOLIO_READONLY);
    EXPECT(db, folio_update(t, 1, r, 3), FOLIO_READONLY);
    EXPECT(db, folio_upsert(NULL, t, 1, r, 3), FOLIO_READONLY);
    EXPECT(db, folio_patch(t, 1, cols, &r[1], 1), FOLIO_READONLY);
    EXPECT(db, folio_delete(t, 1), FOLIO_READONLY);
    EXPECT(db, folio_delete_key(w, &k, 1), FOLIO_READONLY);
    EXPECT(db, folio_update_key(w, &k, 1, wr, 2), FOLIO_READONLY);
    EXPECT(db, folio_exec(txn, "CREATE TABLE z(a)"), FOLIO_READONLY);
    EXPECT(db, folio_exec(txn, "DROP TABLE t"), FOLIO_READONLY);
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
    still_works(&f);
    fixture_close(&f);
}

Test(crash_misuse, read_only_handle_refuses_writes)
{
    fixture f;
    fixture_open(&f, 0);
    cr_assert_eq(folio_close(f.db), FOLIO_OK);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    folio_db *db;
    cr_assert_eq(folio_open(&db, f.path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *txn;
    EXPECT(db, folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_READONLY);
    EXPECT(db, folio_begin(&txn, db, FOLIO_TXN_READ | FOLIO_TXN_WRITE), FOLIO_READONLY);
    EXPECT(db, folio_checkpoint(db, FOLIO_CHECKPOINT_TRUNCATE, NULL, NULL), FOLIO_READONLY);
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_READ), FOLIO_OK);
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    folio_value r[3] = {v_int(20), v_text("b"), v_text("c")};
    EXPECT(db, folio_insert(NULL, t, r, 3), FOLIO_READONLY);
    cr_assert_eq(folio_rollback(txn), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    /* A read-only open of a missing file creates nothing. */
    char *missing = crash_path(f.dir, "missing.db");
    folio_db *none = NULL;
    EXPECT(NULL, folio_open(&none, missing, &o), FOLIO_CANTOPEN);
    cr_expect_null(none);
    cr_expect_lt(crash_file_size(missing), 0, "a read-only open created the file");
    free(missing);
    f.db = NULL;
    fixture_close(&f);
}

/* ---- a second writer ---- */

typedef struct writer_arg {
    folio_db *db;
    int rc;
    char msg[512];
    int read_rc;
} writer_arg;

static void *second_writer(void *p)
{
    writer_arg *a = p;
    folio_txn *txn = NULL;
    a->rc = folio_begin(&txn, a->db, FOLIO_TXN_WRITE);
    snprintf(a->msg, sizeof a->msg, "%s", folio_errmsg(a->db));
    if (a->rc == FOLIO_OK)
        folio_rollback(txn);
    /* Readers are never blocked by the writer. */
    a->read_rc = folio_begin(&txn, a->db, FOLIO_TXN_READ);
    if (a->read_rc == FOLIO_OK)
        folio_rollback(txn);
    return NULL;
}

static void second_writer_case(unsigned busy_ms)
{
    fixture f;
    fixture_open(&f, busy_ms);
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, f.db, FOLIO_TXN_WRITE), FOLIO_OK);
    writer_arg a;
    memset(&a, 0, sizeof a);
    a.db = f.db;
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, second_writer, &a), 0);
    pthread_join(th, NULL);
    cr_expect_eq(a.rc, FOLIO_BUSY, "second writer (busy_timeout_ms %u): %s: %s", busy_ms,
                 crash_rc_name(a.rc), a.msg);
    cr_expect(a.msg[0] && strcmp(a.msg, "not an error") != 0, "FOLIO_BUSY without a message");
    cr_expect_eq(a.read_rc, FOLIO_OK, "a reader was blocked by the writer: %s",
                 crash_rc_name(a.read_rc));
    /* This thread's message is untouched by the other thread's error. */
    cr_assert_eq(folio_rollback(txn), FOLIO_OK);
    /* Now the second writer gets in. */
    memset(&a, 0, sizeof a);
    a.db = f.db;
    cr_assert_eq(pthread_create(&th, NULL, second_writer, &a), 0);
    pthread_join(th, NULL);
    cr_expect_eq(a.rc, FOLIO_OK, "after the first writer finished: %s: %s", crash_rc_name(a.rc),
                 a.msg);
    still_works(&f);
    fixture_close(&f);
}

Test(crash_misuse, second_writer_thread_gets_busy)
{
    second_writer_case(0);
    second_writer_case(60);
}

Test(crash_misuse, nested_write_transaction_in_one_thread_gets_busy_not_a_hang, .timeout = 30)
{
    fixture f;
    fixture_open(&f, 50);
    folio_txn *a, *b = NULL;
    cr_assert_eq(folio_begin(&a, f.db, FOLIO_TXN_WRITE), FOLIO_OK);
    EXPECT(f.db, folio_begin(&b, f.db, FOLIO_TXN_WRITE), FOLIO_BUSY);
    cr_expect_null(b);
    EXPECT(f.db, folio_checkpoint(f.db, FOLIO_CHECKPOINT_PASSIVE, NULL, NULL), FOLIO_BUSY,
           FOLIO_OK);
    cr_assert_eq(folio_rollback(a), FOLIO_OK);
    still_works(&f);
    fixture_close(&f);
}

Test(crash_misuse, second_handle_on_the_same_file_gets_busy)
{
    fixture f;
    fixture_open(&f, 0);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.busy_timeout_ms = 40;
    folio_db *db2;
    cr_assert_eq(folio_open(&db2, f.path, &o), FOLIO_OK);
    folio_txn *a, *b = NULL;
    cr_assert_eq(folio_begin(&a, f.db, FOLIO_TXN_WRITE), FOLIO_OK);
    EXPECT(db2, folio_begin(&b, db2, FOLIO_TXN_WRITE), FOLIO_BUSY);
    cr_assert_eq(folio_rollback(a), FOLIO_OK);
    cr_assert_eq(folio_begin(&b, db2, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db2));
    cr_assert_eq(folio_rollback(b), FOLIO_OK);
    cr_assert_eq(folio_close(db2), FOLIO_OK);
    still_works(&f);
    fixture_close(&f);
}

/* ---- DDL errors ---- */

Test(crash_misuse, ddl_syntax_errors)
{
    fixture f;
    fixture_open(&f, 0);
    folio_db *db = f.db;
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    static const char *const bad[] = {
        "",
        " ",
        ";",
        "CREATE",
        "CREATE TABLE",
        "CREATE TABLE x",
        "CREATE TABLE x(",
        "CREATE TABLE x()",
        "CREATE TABLE x(a,",
        "CREATE TABLE x(a b c d e f",
        "CREATE TABLEx y(a)",
        "CREATE TABLE (a)",
        "CREATE TABLE x(a) WITHOUT",
        "CREATE TABLE x(a) WITHOUT ROWID", /* no PRIMARY KEY */
        "CREATE TABLE x(a PRIMARY KEY, b PRIMARY KEY)",
        "CREATE TABLE x(a, a)",
        "CREATE TABLE t(a)", /* exists */
        "CREATE TABLE x(a); CREATE TABLE y(b)",
        "CREATE TABLE x(a CHECK(",
        "CREATE TABLE x(a DEFAULT)",
        "CREATE TABLE x(a 'unterminated)",
        "CREATE TABLE \"x(a)",
        "CREATE INDEX",
        "CREATE INDEX i ON",
        "CREATE INDEX i ON t",
        "CREATE INDEX i ON t()",
        "CREATE INDEX t_b ON t(b)", /* exists */
        "DROP",
        "DROP TABLE",
        "DROP INDEX",
        "DROP VIEW t",
        "SELECT * FROM t",
        "INSERT INTO t VALUES(1)",
        "PRAGMA journal_mode=DELETE",
        "ALTER TABLE",
        "ALTER TABLE t",
        "ALTER TABLE t RENAME",
        "ALTER TABLE t RENAME TO",
        "ALTER TABLE t ADD",
        "ALTER TABLE t DROP COLUMN",
        "ALTER TABLE t DROP COLUMN nosuch",
        "ALTER TABLE nosuch RENAME TO u",
        "ALTER TABLE t RENAME TO u garbage",
        "\xff\xfe\x00garbage",
        "CREATE TABLE x(a) garbage after",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = folio_exec(txn, bad[i]);
        cr_expect_lt(rc, 0, "folio_exec(\"%s\") returned %s", bad[i], crash_rc_name(rc));
        cr_expect(rc == FOLIO_MISUSE || rc == FOLIO_ERROR || rc == FOLIO_UNSUPPORTED ||
                      rc == FOLIO_NOTFOUND_ERR,
                  "folio_exec(\"%s\") returned %s", bad[i], crash_rc_name(rc));
        cr_expect(crash_has_msg(db), "folio_exec(\"%s\") gave no message", bad[i]);
    }
    /* A very long statement and a deeply nested one. */
    size_t n = 1 << 20;
    char *big = malloc(n + 1);
    cr_assert_not_null(big);
    memset(big, '(', n);
    big[n] = 0;
    memcpy(big, "CREATE TABLE deep", 17);
    int rc = folio_exec(txn, big);
    cr_expect_lt(rc, 0, "a megabyte of parentheses: %s", crash_rc_name(rc));
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    memcpy(big, "CREATE TABLE ", 13);
    rc = folio_exec(txn, big);
    cr_expect_lt(rc, 0, "a megabyte identifier: %s", crash_rc_name(rc));
    free(big);
    /* The transaction is intact and a valid statement still works. */
    cr_assert_eq(folio_exec(txn, "CREATE TABLE good(a)"), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_READ), FOLIO_OK);
    cr_expect_eq(folio_schema_count(txn), 4, "failed DDL left entries in the schema");
    folio_rollback(txn);
    still_works(&f);
    fixture_close(&f);
}

/* ---- files that are not databases ---- */

static void open_fails(const char *path, unsigned flags, const int *want, const char *what)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = flags;
    folio_db *db = (folio_db *)&o;
    int rc = folio_open(&db, path, &o);
    if (rc == FOLIO_OK) {
        /* Some damage shows only when pages are read: then reading fails
         * cleanly. */
        folio_txn *txn;
        int brc = folio_begin(&txn, db, FOLIO_TXN_READ);
        if (brc == FOLIO_OK) {
            int crc = 0;
            folio_table *t;
            if (folio_table_open(&t, txn, "t") == FOLIO_OK) {
                folio_cursor *c;
                if (folio_cursor_open(&c, t, NULL) == FOLIO_OK) {
                    for (crc = folio_cursor_first(c); crc == FOLIO_ROW; crc = folio_cursor_next(c))
                        ;
                    folio_cursor_close(c);
                }
            }
            folio_rollback(txn);
            cr_expect(crc == FOLIO_CORRUPT || crc == FOLIO_DONE || crc == 0,
                      "%s: reading returned %s", what, crash_rc_name(crc));
            if (crc < 0)
                cr_expect(crash_has_msg(db), "%s: no message", what);
        } else {
            cr_expect(brc == FOLIO_CORRUPT || brc == FOLIO_NOTADB, "%s: begin returned %s: %s",
                      what, crash_rc_name(brc), folio_errmsg(db));
            cr_expect(crash_has_msg(db), "%s: no message", what);
        }
        folio_close(db);
        int ok = 0;
        for (int i = 0; want[i] != 999; i++)
            ok |= want[i] == FOLIO_OK;
        cr_expect(ok, "%s: folio_open accepted it", what);
        return;
    }
    cr_expect_null(db, "%s: *out not cleared", what);
    int ok = 0;
    for (int i = 0; want[i] != 999; i++)
        ok |= rc == want[i];
    cr_expect(ok, "%s: folio_open returned %s: %s", what, crash_rc_name(rc), folio_open_errmsg());
    cr_expect(strcmp(folio_open_errmsg(), "not an error") != 0 && folio_open_errmsg()[0],
              "%s: no message", what);
}

Test(crash_misuse, files_that_are_not_databases)
{
    char *dir = crash_tmpdir("notadb");
    uint8_t junk[8192];
    crash_fill(junk, sizeof junk, 5);

    char *garbage = crash_path(dir, "garbage.db");
    cr_assert_eq(crash_write_file(garbage, junk, sizeof junk), 0);
    static const int notadb[] = {FOLIO_NOTADB, 999};
    open_fails(garbage, FOLIO_OPEN_CREATE, notadb, "8 KB of random bytes");
    open_fails(garbage, FOLIO_OPEN_READONLY, notadb, "8 KB of random bytes, read-only");

    char *text = crash_path(dir, "text.db");
    cr_assert_eq(crash_write_file(text, "hello, world\n", 13), 0);
    open_fails(text, FOLIO_OPEN_CREATE, notadb, "a 13-byte text file");

    char *sub = crash_path(dir, "a-directory");
    cr_assert_eq(mkdir(sub, 0755), 0);
    static const int cantopen[] = {FOLIO_CANTOPEN, 999};
    open_fails(sub, FOLIO_OPEN_CREATE, cantopen, "a directory");
    open_fails(sub, FOLIO_OPEN_READONLY, cantopen, "a directory, read-only");

    char *missing = crash_path(dir, "no/such/dir/x.db");
    open_fails(missing, FOLIO_OPEN_CREATE, cantopen, "a path in a missing directory");
    char *absent = crash_path(dir, "absent.db");
    open_fails(absent, 0, cantopen, "a missing file without FOLIO_OPEN_CREATE");
    cr_expect_lt(crash_file_size(absent), 0);

    /* A header that claims a bad page size. */
    char *badps = crash_path(dir, "badps.db");
    uint8_t hdr[4096];
    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, "SQLite format 3", 16);
    hdr[16] = 0x03; /* 0x0300 = 768: not a power of two */
    hdr[17] = 0x00;
    hdr[18] = hdr[19] = 2;
    cr_assert_eq(crash_write_file(badps, hdr, sizeof hdr), 0);
    static const int corrupt[] = {FOLIO_CORRUPT, FOLIO_NOTADB, 999};
    open_fails(badps, FOLIO_OPEN_CREATE, corrupt, "a header with page size 768");

    crash_rmtree(dir);
    free(garbage);
    free(text);
    free(sub);
    free(missing);
    free(absent);
    free(badps);
    free(dir);
}

Test(crash_misuse, empty_file_is_a_new_database)
{
    char *dir = crash_tmpdir("empty");
    char *path = crash_path(dir, "empty.db");
    cr_assert_eq(crash_write_file(path, "", 0), 0);
    folio_options ro = FOLIO_OPTIONS_INIT;
    ro.flags = FOLIO_OPEN_READONLY;
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, &ro), FOLIO_OK, "read-only open of an empty file: %s",
                 folio_open_errmsg());
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_READ), FOLIO_OK, "%s", folio_errmsg(db));
    cr_expect_eq(folio_schema_count(txn), 0);
    folio_rollback(txn);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    cr_expect_eq(crash_file_size(path), 0, "a read-only open wrote to the file");

    cr_assert_eq(folio_open(&db, path, NULL), FOLIO_OK, "%s", folio_open_errmsg());
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_exec(txn, "CREATE TABLE t(a)"), FOLIO_OK, "%s", folio_errmsg(db));
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    folio_value v = v_int(1);
    cr_assert_eq(folio_insert(NULL, t, &v, 1), FOLIO_OK);
    cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    char err[1024];
    cr_assert_eq(crash_verify(path, NULL, err, sizeof err), 0, "%s", err);
    crash_rmtree(dir);
    free(path);
    free(dir);
}

Test(crash_misuse, truncated_database_gives_clear_errors)
{
    fixture f;
    fixture_open(&f, 0);
    /* Enough rows for several pages, then a clean close (no WAL). */
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, f.db, FOLIO_TXN_WRITE), FOLIO_OK);
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    static uint8_t blob[3000];
    for (int i = 2; i < 60; i++) {
        folio_value r[3] = {v_int(i), v_text("row"), v_text("c")};
        r[2].type = FOLIO_BLOB;
        r[2].u.s.p = blob;
        r[2].u.s.n = sizeof blob;
        cr_assert_eq(folio_insert(NULL, t, r, 3), FOLIO_OK);
    }
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
    cr_assert_eq(folio_close(f.db), FOLIO_OK);
    f.db = NULL;
    size_t n;
    uint8_t *full = crash_read_file(f.path, &n);
    cr_assert_not_null(full);
    cr_assert_gt(n, 8 * 4096);
    char *cut = crash_path(f.dir, "cut.db");
    static const int any[] = {FOLIO_OK, FOLIO_CORRUPT, FOLIO_NOTADB, 999};
    size_t lens[] = {50, 99, 100, 101, 512, 4095, 4096, 4097, 6000, 8192, n / 2, n - 4096, n - 1};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        crash_remove_db(cut);
        cr_assert_eq(crash_write_file(cut, full, lens[i]), 0);
        char what[64];
        snprintf(what, sizeof what, "the database cut to %zu of %zu bytes", lens[i], n);
        open_fails(cut, FOLIO_OPEN_READONLY, any, what);
        /* folio_check reports it (or the file is refused at open). */
        char err[1024];
        if (lens[i] >= 100 && lens[i] < n - 4095)
            cr_expect_lt(crash_check_folio(cut, err, sizeof err), 0, "%s: folio_check is clean",
                         what);
    }
    free(full);
    free(cut);
    fixture_close(&f);
}

Test(crash_misuse, hot_rollback_journal_is_refused_clearly)
{
    fixture f;
    fixture_open(&f, 0);
    cr_assert_eq(folio_close(f.db), FOLIO_OK);
    f.db = NULL;
    char *j = crash_suffix(f.path, "-journal");
    uint8_t jh[512];
    memset(jh, 0, sizeof jh);
    static const uint8_t magic[8] = {0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7};
    memcpy(jh, magic, 8);
    cr_assert_eq(crash_write_file(j, jh, sizeof jh), 0);
    static const int want[] = {FOLIO_UNSUPPORTED, FOLIO_OK, 999};
    open_fails(f.path, FOLIO_OPEN_CREATE, want, "a database with a hot rollback journal");
    unlink(j);
    free(j);
    fixture_close(&f);
}

/* ---- edges of the value space ---- */

Test(crash_misuse, rowid_limits_and_reserved_names)
{
    fixture f;
    fixture_open(&f, 0);
    folio_db *db = f.db;
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    /* The largest rowid, then one chosen by folio: SQLite picks an unused
     * one at random; an error is acceptable, an overflow is not. */
    folio_value r[3] = {v_int(INT64_MAX), v_text("max"), v_text("c")};
    cr_assert_eq(folio_insert(NULL, t, r, 3), FOLIO_OK, "%s", folio_errmsg(db));
    r[0].type = FOLIO_NULL;
    int64_t rowid = 0;
    int rc = folio_insert(&rowid, t, r, 3);
    cr_expect(rc == FOLIO_OK || rc == FOLIO_FULL || rc == FOLIO_CONSTRAINT,
              "insert after rowid INT64_MAX: %s: %s", crash_rc_name(rc), folio_errmsg(db));
    if (rc == FOLIO_OK)
        cr_expect(rowid > 0 && rowid != INT64_MAX, "new rowid %lld", (long long)rowid);
    folio_value lo[3] = {v_int(INT64_MIN), v_text("min"), v_text("c")};
    cr_expect_eq(folio_insert(NULL, t, lo, 3), FOLIO_OK, "%s", folio_errmsg(db));
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
    cr_expect_eq(folio_cursor_seek_rowid(c, INT64_MIN), FOLIO_ROW);
    cr_expect_eq(folio_cursor_seek_rowid(c, INT64_MAX), FOLIO_ROW);
    cr_expect_eq(folio_cursor_seek_rowid(c, INT64_MAX - 1), FOLIO_NOTFOUND);
    folio_cursor_close(c);
    /* An INTEGER PRIMARY KEY given as text that is not an integer. */
    folio_value s[3] = {v_text("twelve"), v_text("b"), v_text("c")};
    EXPECT(db, folio_insert(NULL, t, s, 3), FOLIO_MISMATCH, FOLIO_CONSTRAINT);
    cr_assert_eq(folio_rollback(txn), FOLIO_OK);

    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    /* sqlite_schema is written through folio_exec only; sqlite_ names are reserved. */
    folio_table *schema;
    rc = folio_table_open(&schema, txn, "sqlite_schema");
    if (rc == FOLIO_OK) {
        folio_value e[5] = {v_text("table"), v_text("evil"), v_text("evil"), v_int(99),
                            v_text("CREATE TABLE evil(a)")};
        EXPECT(db, folio_insert(NULL, schema, e, 5), FOLIO_MISUSE, FOLIO_READONLY,
               FOLIO_UNSUPPORTED);
    }
    EXPECT(db, folio_exec(txn, "CREATE TABLE sqlite_evil(a)"), FOLIO_MISUSE, FOLIO_ERROR);
    EXPECT(db, folio_exec(txn, "DROP TABLE sqlite_schema"), FOLIO_MISUSE, FOLIO_ERROR,
           FOLIO_NOTFOUND_ERR);
    cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s", folio_errmsg(db));
    still_works(&f);
    fixture_close(&f);
}

Test(crash_misuse, checkpoint_with_own_old_reader_does_not_hang, .timeout = 60)
{
    fixture f;
    fixture_open(&f, 0);
    folio_txn *reader, *txn;
    cr_assert_eq(folio_begin(&reader, f.db, FOLIO_TXN_READ), FOLIO_OK);
    cr_assert_eq(folio_begin(&txn, f.db, FOLIO_TXN_WRITE), FOLIO_OK);
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    folio_value r[3] = {v_int(50), v_text("b"), v_text("c")};
    cr_assert_eq(folio_insert(NULL, t, r, 3), FOLIO_OK);
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
    /* The reader's snapshot holds frames back: the checkpoint cannot finish
     * and says so instead of waiting for this very thread. */
    int log = -1, done = -1;
    int rc = folio_checkpoint(f.db, FOLIO_CHECKPOINT_RESTART, &log, &done);
    cr_expect(rc == FOLIO_BUSY || (rc == FOLIO_OK && done < log),
              "checkpoint RESTART under an old reader: %s (%d of %d frames)", crash_rc_name(rc),
              done, log);
    if (rc < 0)
        cr_expect(crash_has_msg(f.db));
    cr_assert_eq(folio_rollback(reader), FOLIO_OK);
    cr_assert_eq(folio_checkpoint(f.db, FOLIO_CHECKPOINT_RESTART, &log, &done), FOLIO_OK, "%s",
                 folio_errmsg(f.db));
    cr_expect_eq(log, done);
    still_works(&f);
    fixture_close(&f);
}
