/*
 * test_vacuum.c - folio_vacuum, in place and INTO a new file, checked by
 * libsqlite3: files written by libsqlite3 with random tables (rowid tables,
 * an INTEGER PRIMARY KEY table, WITHOUT ROWID, indexes of every kind, values
 * that spill to overflow chains, views and triggers) and many deletes that
 * leave a freelist are vacuumed, then:
 *
 *   - PRAGMA integrity_check is "ok" and folio_check is clean;
 *   - every table holds the same rows as before, rowids included (the
 *     canonical hash of crash_support.h, read by libsqlite3 and by folio),
 *     and compare_db finds folio and libsqlite3 reading the same values;
 *   - the freelist is empty, the file has fewer pages than before and no
 *     more than SQLite's own VACUUM leaves, the header fields VACUUM keeps
 *     are kept and the schema cookie went up by one;
 *   - a reader holding a snapshot across an in-place VACUUM still reads its
 *     old rows; another folio handle and a libsqlite3 connection opened
 *     before see the new file after; writes after a VACUUM work.
 *
 * Randomized: the seed is printed (FOLIO_SEED replays it).
 */
#include "compat.h"
#include "crash_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *g_dir;

static char *fresh_path(const char *name)
{
    if (!g_dir)
        g_dir = compat_tmpdir();
    return compat_path(g_dir, name);
}

static void finish(void)
{
    compat_rmtree(g_dir);
    free(g_dir);
    g_dir = NULL;
}

/* A file with everything VACUUM has to carry, and a freelist. */
static void make_source(const char *path, int page_size, uint64_t seed, int nrows)
{
    sqlite3 *db = compat_sqlite_open(path);
    compat_execf(db, "PRAGMA page_size=%d; PRAGMA user_version=77; PRAGMA application_id=4242",
                 page_size);
    compat_populate(db, seed, nrows);
    compat_exec(db, "CREATE TABLE big(id INTEGER PRIMARY KEY AUTOINCREMENT, payload BLOB, t TEXT);"
                    "CREATE INDEX big_t ON big(t);"
                    "CREATE TABLE plain(x, y);");
    compat_exec(db, COMPAT_SERIES(1, 600) "INSERT INTO big(payload, t) SELECT "
                                          "det_blob(value * 37 % 9000, value), printf('%05d-%s', "
                                          "value % 97, hex(det_blob(value % 300, value))) "
                                          "FROM series");
    compat_exec(db, COMPAT_SERIES(1, 2000) "INSERT INTO plain SELECT value, "
                                           "hex(det_blob(value % 50, value)) FROM series");
    compat_exec(db, "CREATE VIEW v_big AS SELECT id, t FROM big;"
                    "CREATE TRIGGER plain_del AFTER DELETE ON plain BEGIN SELECT 1; END;"
                    "DELETE FROM big WHERE id % 3 <> 0;"
                    "DELETE FROM plain WHERE rowid % 4 = 1;"
                    "CREATE TABLE dropped(a, b);"
                    "INSERT INTO dropped SELECT payload, t FROM big;"
                    "DROP TABLE dropped");
    cr_assert(compat_query_int(db, "PRAGMA freelist_count") > 0, "the source has no freelist");
    compat_sqlite_close(db);
}

typedef struct file_figs {
    int64_t pages, freelist, user_version, application_id, schema_version, page_size;
} file_figs;

static file_figs figures(const char *path)
{
    sqlite3 *db = compat_sqlite_open_ro(path);
    file_figs f;
    f.pages = compat_query_int(db, "PRAGMA page_count");
    f.freelist = compat_query_int(db, "PRAGMA freelist_count");
    f.user_version = compat_query_int(db, "PRAGMA user_version");
    f.application_id = compat_query_int(db, "PRAGMA application_id");
    f.schema_version = compat_query_int(db, "PRAGMA schema_version");
    f.page_size = compat_query_int(db, "PRAGMA page_size");
    compat_sqlite_close(db);
    return f;
}

static uint64_t hash_sqlite(const char *path)
{
    char err[1024];
    uint64_t h;
    cr_assert_eq(crash_hash_sqlite(path, &h, err, sizeof err), 0, "%s: %s", path, err);
    return h;
}

static uint64_t hash_folio(const char *path)
{
    char err[1024];
    uint64_t h;
    cr_assert_eq(crash_hash_folio(path, &h, err, sizeof err), 0, "%s: %s", path, err);
    return h;
}

/* Pages SQLite's VACUUM leaves for the same content (on a copy). */
static int64_t sqlite_vacuum_pages(const char *src)
{
    char *copy = fresh_path("sqlite_vacuumed.db");
    compat_copy_db(src, copy, 1);
    sqlite3 *db = compat_sqlite_open(copy);
    compat_exec(db, "VACUUM");
    int64_t n = compat_query_int(db, "PRAGMA page_count");
    compat_sqlite_close(db);
    free(copy);
    return n;
}

/* The vacuumed file `path`, from a source with figures `before` and hash
 * `h`: everything the header comment lists. */
static void check_vacuumed(const char *path, const file_figs *before, uint64_t h)
{
    char *ic = compat_integrity(path);
    cr_assert_str_eq(ic, "ok", "%s: integrity_check: %s", path, ic);
    free(ic);
    compare_check(path);
    cr_assert_eq(hash_sqlite(path), h, "%s: libsqlite3 reads other rows than before", path);
    cr_assert_eq(hash_folio(path), h, "%s: folio reads other rows than before", path);
    file_figs a = figures(path);
    cr_assert_eq(a.freelist, 0, "%s: %lld freelist pages left", path, (long long)a.freelist);
    cr_assert_lt(a.pages, before->pages, "%s: %lld pages, before %lld", path, (long long)a.pages,
                 (long long)before->pages);
    cr_assert_eq(a.page_size, before->page_size);
    cr_assert_eq(a.user_version, before->user_version);
    cr_assert_eq(a.application_id, before->application_id);
    cr_assert_eq(a.schema_version, before->schema_version + 1, "schema cookie %lld, before %lld",
                 (long long)a.schema_version, (long long)before->schema_version);
    cr_assert_eq(compat_file_size(path), a.pages * a.page_size, "%s: %lld bytes for %lld pages",
                 path, (long long)compat_file_size(path), (long long)a.pages);
}

static void vacuum_in_place(int page_size, int nrows)
{
    uint64_t seed = compat_seed(1717);
    char *path = fresh_path("db.sqlite");
    make_source(path, page_size, seed, nrows);
    file_figs before = figures(path);
    uint64_t h = hash_sqlite(path);
    int64_t sqlite_pages = sqlite_vacuum_pages(path);

    folio_db *db = compat_folio_open(path, COMPAT_RW);
    int rc = folio_vacuum(db, NULL);
    cr_assert_eq(rc, FOLIO_OK, "folio_vacuum: %s: %s", compat_rc_name(rc), folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    cr_assert_eq(compat_file_size(compat_suffix(path, "-vacuum")), -1,
                 "the temporary image is left behind");
    check_vacuumed(path, &before, h);
    file_figs after = figures(path);
    cr_log_info("page size %d: %lld pages before, %lld after folio's VACUUM, %lld after "
                "SQLite's",
                page_size, (long long)before.pages, (long long)after.pages,
                (long long)sqlite_pages);
    cr_assert_leq(after.pages, sqlite_pages, "folio left %lld pages, SQLite's VACUUM %lld",
                  (long long)after.pages, (long long)sqlite_pages);
    compare_db(path);
    free(path);
    finish();
}

Test(compat_vacuum, in_place_4096)
{
    vacuum_in_place(4096, 400);
}

Test(compat_vacuum, in_place_512)
{
    vacuum_in_place(512, 150);
}

Test(compat_vacuum, in_place_65536)
{
    vacuum_in_place(65536, 300);
}

Test(compat_vacuum, into)
{
    uint64_t seed = compat_seed(2323);
    char *path = fresh_path("db.sqlite");
    char *dest = fresh_path("copy.sqlite");
    make_source(path, 1024, seed, 300);
    file_figs before = figures(path);
    uint64_t h = hash_sqlite(path);

    folio_db *db = compat_folio_open(path, COMPAT_RO); /* INTO needs no write */
    int rc = folio_vacuum(db, dest);
    cr_assert_eq(rc, FOLIO_OK, "folio_vacuum INTO: %s: %s", compat_rc_name(rc), folio_errmsg(db));
    /* DEST exists now: refused, as SQLite refuses it, and left alone. */
    int64_t size = compat_file_size(dest);
    rc = folio_vacuum(db, dest);
    cr_assert_eq(rc, FOLIO_ERROR, "%s", compat_rc_name(rc));
    cr_assert_str_eq(folio_errmsg(db), "output file already exists");
    cr_assert_eq(compat_file_size(dest), size);
    cr_assert_eq(folio_close(db), FOLIO_OK);

    char *tmp = compat_suffix(dest, "-vacuum");
    char *wal = compat_suffix(dest, "-wal");
    cr_assert_eq(compat_file_size(tmp), -1, "the temporary file is left behind");
    cr_assert_eq(compat_file_size(wal), -1, "DEST has a -wal");
    check_vacuumed(dest, &before, h);
    /* The source did not change. */
    file_figs same = figures(path);
    cr_assert_eq(same.pages, before.pages);
    cr_assert_eq(same.freelist, before.freelist);
    cr_assert_eq(same.schema_version, before.schema_version);
    cr_assert_eq(hash_sqlite(path), h);
    compare_db(dest);
    free(tmp);
    free(wal);
    free(path);
    free(dest);
    finish();
}

/* Every row of table `t` as "rowid|hash of the columns", in rowid order. */
static uint64_t table_digest(folio_txn *tx, const char *name, int64_t *out_rows)
{
    folio_table *t;
    int rc = folio_table_open(&t, tx, name);
    cr_assert_eq(rc, FOLIO_OK, "%s: %s", name, compat_rc_name(rc));
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
    uint64_t h = 1469598103934665603ull;
    int64_t n = 0;
    int ncols = folio_table_ncols(t);
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
        int64_t id = folio_cursor_rowid(c);
        h = (h ^ (uint64_t)id) * 1099511628211ull;
        for (int i = 0; i < ncols; i++) {
            folio_value v;
            cr_assert_eq(folio_cursor_column(&v, c, i), FOLIO_OK);
            h = (h ^ (uint64_t)v.type) * 1099511628211ull;
            if (v.type == FOLIO_INTEGER)
                h = (h ^ (uint64_t)v.u.i) * 1099511628211ull;
            else if (v.type == FOLIO_TEXT || v.type == FOLIO_BLOB)
                for (size_t k = 0; k < v.u.s.n; k++)
                    h = (h ^ ((const uint8_t *)v.u.s.p)[k]) * 1099511628211ull;
        }
        n++;
    }
    cr_assert_eq(rc, FOLIO_DONE, "%s: %s", name, compat_rc_name(rc));
    folio_cursor_close(c);
    *out_rows = n;
    return h;
}

Test(compat_vacuum, readers_and_other_connections)
{
    uint64_t seed = compat_seed(99);
    char *path = fresh_path("db.sqlite");
    make_source(path, 4096, seed, 300);
    file_figs before = figures(path);
    uint64_t h = hash_sqlite(path);

    folio_db *a = compat_folio_open(path, COMPAT_RW);
    folio_db *b = compat_folio_open(path, COMPAT_RW);
    /* b and a libsqlite3 connection have read the schema before. */
    folio_txn *tb = compat_folio_read(b);
    int64_t rows_big, rows_plain;
    uint64_t d_big = table_digest(tb, "big", &rows_big);
    uint64_t d_plain = table_digest(tb, "plain", &rows_plain);
    cr_assert_eq(folio_commit(tb), FOLIO_OK);
    sqlite3 *s = compat_sqlite_open(path);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM big"), rows_big);

    /* So does a libsqlite3 reader. */
    int64_t sum_before = compat_query_int(s, "SELECT sum(length(payload)) FROM big");
    compat_exec(s, "BEGIN; SELECT count(*) FROM plain");
    /* A reader of the vacuuming handle holds its snapshot across it. */
    folio_txn *r = compat_folio_read(a);
    int64_t n;
    cr_assert_eq(table_digest(r, "big", &n), d_big);
    int rc = folio_vacuum(a, NULL);
    cr_assert_eq(rc, FOLIO_OK, "folio_vacuum: %s: %s", compat_rc_name(rc), folio_errmsg(a));
    /* The old snapshot reads its rows from the old pages. */
    cr_assert_eq(table_digest(r, "big", &n), d_big);
    cr_assert_eq(table_digest(r, "plain", &n), d_plain);
    folio_info in;
    cr_assert_eq(folio_info_get(&in, r), FOLIO_OK);
    cr_assert_eq((int64_t)in.page_count, before.pages);
    cr_assert_eq(in.freelist_pages, (uint32_t)before.freelist);
    /* The file could not be cut under the reader. */
    cr_assert_geq(compat_file_size(path), before.pages * before.page_size);
    cr_assert_eq(folio_commit(r), FOLIO_OK);
    cr_assert_eq(compat_query_int(s, "PRAGMA page_count"), before.pages);
    cr_assert_eq(compat_query_int(s, "SELECT sum(length(payload)) FROM big"), sum_before);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM big"), rows_big);
    compat_exec(s, "COMMIT");

    /* New transactions of both handles, and libsqlite3, see the new file. */
    folio_txn *ta = compat_folio_read(a);
    cr_assert_eq(folio_info_get(&in, ta), FOLIO_OK);
    cr_assert_eq(in.freelist_pages, 0);
    cr_assert_lt((int64_t)in.page_count, before.pages);
    uint32_t new_pages = in.page_count;
    cr_assert_eq(table_digest(ta, "big", &n), d_big);
    cr_assert_eq(folio_commit(ta), FOLIO_OK);
    tb = compat_folio_read(b);
    cr_assert_eq(folio_info_get(&in, tb), FOLIO_OK);
    cr_assert_eq(in.page_count, new_pages);
    cr_assert_eq(table_digest(tb, "big", &n), d_big);
    cr_assert_eq(table_digest(tb, "plain", &n), d_plain);
    cr_assert_eq(folio_commit(tb), FOLIO_OK);
    cr_assert_eq(compat_query_int(s, "PRAGMA page_count"), new_pages);
    cr_assert_eq(compat_query_int(s, "PRAGMA freelist_count"), 0);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM big"), rows_big);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM plain WHERE y IS NOT NULL"), rows_plain);
    char *ic = compat_query_text(s, "PRAGMA integrity_check");
    cr_assert_str_eq(ic, "ok");
    free(ic);
    compat_sqlite_close(s);

    /* No reader holds old pages any more: a checkpoint cuts the file. */
    int log = 0, done = 0;
    cr_assert_eq(folio_checkpoint(a, FOLIO_CHECKPOINT_PASSIVE, &log, &done), FOLIO_OK, "%s",
                 folio_errmsg(a));
    cr_assert_eq(log, done);
    cr_assert_eq(compat_file_size(path), (int64_t)new_pages * before.page_size);
    cr_assert_eq(folio_close(b), FOLIO_OK);
    cr_assert_eq(folio_close(a), FOLIO_OK);
    check_vacuumed(path, &before, h);
    free(path);
    finish();
}

/* Pages read before the VACUUM and pages past the cut file's end used again
 * by writes after it: the rows written must read back, in this handle and
 * in libsqlite3. */
Test(compat_vacuum, writes_after)
{
    uint64_t seed = compat_seed(5);
    char *path = fresh_path("db.sqlite");
    make_source(path, 1024, seed, 300);
    folio_db *db = compat_folio_open(path, COMPAT_RW);
    folio_txn *tx = compat_folio_read(db);
    int64_t n0;
    table_digest(tx, "big", &n0); /* the old pages in the cache */
    int64_t n_plain;
    table_digest(tx, "plain", &n_plain);
    cr_assert_eq(folio_commit(tx), FOLIO_OK);
    cr_assert_eq(folio_vacuum(db, NULL), FOLIO_OK, "%s", folio_errmsg(db));
    for (int round = 0; round < 3; round++) {
        cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_WRITE), FOLIO_OK);
        folio_table *t;
        cr_assert_eq(folio_table_open(&t, tx, "big"), FOLIO_OK);
        static uint8_t blob[3000];
        for (int i = 0; i < 300; i++) {
            memset(blob, 'a' + (i + round) % 26, sizeof blob);
            char text[32];
            int len = snprintf(text, sizeof text, "w%d-%04d", round, i);
            folio_value row[3] = {{.type = FOLIO_NULL},
                                  {.type = FOLIO_BLOB, .u.s = {blob, 200 + (size_t)i * 9}},
                                  {.type = FOLIO_TEXT, .u.s = {text, (size_t)len}}};
            int64_t id;
            cr_assert_eq(folio_insert(&id, t, row, 3), FOLIO_OK, "%s", folio_errmsg(db));
        }
        cr_assert_eq(folio_commit(tx), FOLIO_OK, "%s", folio_errmsg(db));
        int log, done;
        folio_checkpoint(db, FOLIO_CHECKPOINT_PASSIVE, &log, &done);
        tx = compat_folio_read(db);
        int64_t n;
        table_digest(tx, "big", &n);
        cr_assert_eq(n, n0 + 300 * (round + 1));
        cr_assert_eq(folio_commit(tx), FOLIO_OK);
    }
    cr_assert_eq(folio_close(db), FOLIO_OK);
    char *ic = compat_integrity(path);
    cr_assert_str_eq(ic, "ok", "%s", ic);
    free(ic);
    compare_db(path);
    free(path);
    finish();
}

Test(compat_vacuum, refusals)
{
    char *path = fresh_path("db.sqlite");
    make_source(path, 4096, 7, 50);
    folio_db *db = compat_folio_open(path, COMPAT_RW);
    folio_txn *tx;
    cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_WRITE), FOLIO_OK);
    int rc = folio_vacuum(db, NULL);
    cr_assert_eq(rc, FOLIO_BUSY, "%s", compat_rc_name(rc));
    cr_assert(strstr(folio_errmsg(db), "cannot VACUUM from within a transaction"), "%s",
              folio_errmsg(db));
    cr_assert_eq(folio_rollback(tx), FOLIO_OK);
    cr_assert_eq(folio_vacuum(db, ""), FOLIO_MISUSE);
    cr_assert_eq(folio_vacuum(NULL, NULL), FOLIO_MISUSE);
    cr_assert_eq(folio_close(db), FOLIO_OK);

    db = compat_folio_open(path, COMPAT_RO);
    rc = folio_vacuum(db, NULL);
    cr_assert_eq(rc, FOLIO_READONLY, "%s: %s", compat_rc_name(rc), folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);

    /* Auto-vacuum files: pointer maps folio does not write. */
    char *av = fresh_path("av.sqlite");
    sqlite3 *s = compat_sqlite_open(av);
    compat_exec(s, "PRAGMA auto_vacuum=FULL; CREATE TABLE t(a); INSERT INTO t VALUES(1)");
    compat_sqlite_close(s);
    char *dest = fresh_path("av_copy.sqlite");
    db = compat_folio_open(av, COMPAT_RW);
    rc = folio_vacuum(db, NULL);
    cr_assert_eq(rc, FOLIO_UNSUPPORTED, "%s", compat_rc_name(rc));
    cr_assert(strstr(folio_errmsg(db), "auto-vacuum"), "%s", folio_errmsg(db));
    rc = folio_vacuum(db, dest);
    cr_assert_eq(rc, FOLIO_UNSUPPORTED, "%s", compat_rc_name(rc));
    cr_assert(strstr(folio_errmsg(db), "auto-vacuum"), "%s", folio_errmsg(db));
    cr_assert_eq(compat_file_size(dest), -1);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    char *ic = compat_integrity(av);
    cr_assert_str_eq(ic, "ok");
    free(ic);
    free(av);
    free(dest);
    free(path);
    finish();
}

/* A UTF-16 file: folio does not write it in place, but copies it INTO a
 * new file byte for byte. */
Test(compat_vacuum, utf16_into)
{
    char *path = fresh_path("u16.sqlite");
    char *dest = fresh_path("u16_copy.sqlite");
    sqlite3 *s = compat_sqlite_open(path);
    compat_exec(s, "PRAGMA encoding='UTF-16le'; CREATE TABLE t(a TEXT, b);"
                   "CREATE INDEX t_a ON t(a COLLATE NOCASE);" COMPAT_SERIES(
                       1, 3000) "INSERT INTO t SELECT printf('Zeile %d äöü', value), "
                                "det_blob(value % 700, value) FROM series;"
                                "DELETE FROM t WHERE rowid % 2 = 0");
    compat_sqlite_close(s);
    file_figs before = figures(path);
    uint64_t h = hash_sqlite(path);
    folio_db *db = compat_folio_open(path, COMPAT_RW);
    cr_assert_eq(folio_vacuum(db, NULL), FOLIO_UNSUPPORTED);
    int rc = folio_vacuum(db, dest);
    cr_assert_eq(rc, FOLIO_OK, "%s: %s", compat_rc_name(rc), folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    check_vacuumed(dest, &before, h);
    compare_db(dest);
    free(path);
    free(dest);
    finish();
}

static void count_progress(void *arg, uint64_t done, uint64_t total)
{
    uint64_t *st = arg; /* calls, last done, last total, went back */
    if (done < st[1])
        st[3]++;
    st[0]++;
    st[1] = done;
    st[2] = total;
}

Test(compat_vacuum, progress)
{
    char *path = fresh_path("db.sqlite");
    make_source(path, 1024, 11, 400);
    folio_db *db = compat_folio_open(path, COMPAT_RW);
    uint64_t st[4] = {0, 0, 0, 0};
    cr_assert_eq(folio_vacuum_progress(db, NULL, count_progress, st), FOLIO_OK, "%s",
                 folio_errmsg(db));
    cr_assert_gt(st[0], 2, "progress called %llu times", (unsigned long long)st[0]);
    cr_assert_eq(st[1], st[2], "last call: %llu of %llu", (unsigned long long)st[1],
                 (unsigned long long)st[2]);
    cr_assert_eq(st[3], 0, "done went back");
    char *dest = fresh_path("copy.sqlite");
    memset(st, 0, sizeof st);
    cr_assert_eq(folio_vacuum_progress(db, dest, count_progress, st), FOLIO_OK, "%s",
                 folio_errmsg(db));
    cr_assert_gt(st[0], 1);
    cr_assert_eq(st[1], st[2]);
    cr_assert_eq(st[3], 0);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    char *ic = compat_integrity(dest);
    cr_assert_str_eq(ic, "ok");
    free(ic);
    free(dest);
    free(path);
    finish();
}

/* A database vacuumed twice, and one with only empty tables. */
Test(compat_vacuum, twice_and_empty)
{
    char *path = fresh_path("db.sqlite");
    make_source(path, 2048, 3, 100);
    file_figs before = figures(path);
    uint64_t h = hash_sqlite(path);
    folio_db *db = compat_folio_open(path, COMPAT_RW);
    cr_assert_eq(folio_vacuum(db, NULL), FOLIO_OK, "%s", folio_errmsg(db));
    file_figs once = figures(path);
    cr_assert_eq(folio_vacuum(db, NULL), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    file_figs twice = figures(path);
    cr_assert_eq(twice.pages, once.pages, "a second VACUUM changed the size");
    cr_assert_eq(twice.schema_version, before.schema_version + 2);
    cr_assert_eq(hash_sqlite(path), h);
    compare_check(path);

    char *empty = fresh_path("empty.sqlite");
    sqlite3 *s = compat_sqlite_open(empty);
    compat_exec(s, "CREATE TABLE e(a INTEGER PRIMARY KEY, b); CREATE INDEX e_b ON e(b);"
                   "CREATE TABLE w(k PRIMARY KEY) WITHOUT ROWID");
    compat_sqlite_close(s);
    uint64_t he = hash_sqlite(empty);
    db = compat_folio_open(empty, COMPAT_RW);
    cr_assert_eq(folio_vacuum(db, NULL), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compare_check(empty);
    cr_assert_eq(hash_sqlite(empty), he);
    cr_assert_eq(figures(empty).pages, 4);
    free(empty);
    free(path);
    finish();
}
