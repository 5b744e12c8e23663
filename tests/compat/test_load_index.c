/*
 * test_load_index.c - loads into tables that have indexes. folio defers the
 * entries of non-unique indexes while rows arrive, sorts them, and builds the
 * index bottom-up (or inserts them in key order into an index that already
 * has entries) before anything reads the index or the transaction commits.
 * libsqlite3 checks every file: integrity_check, the values, and that the
 * index holds the same entries as one SQLite builds.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *g_dir, *g_path;

static void start(void)
{
    g_dir = compat_tmpdir();
    g_path = compat_path(g_dir, "db.sqlite");
}

static void finish(void)
{
    compat_rmtree(g_dir);
    free(g_path);
    free(g_dir);
}

static folio_db *open_db(size_t cache_bytes)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.sync = FOLIO_SYNC_OFF;
    o.cache_bytes = cache_bytes;
    folio_db *db = NULL;
    int rc = folio_open(&db, g_path, &o);
    cr_assert(rc == FOLIO_OK, "folio_open: %s", folio_open_errmsg());
    return db;
}

static folio_txn *begin_write(folio_db *db)
{
    folio_txn *txn = NULL;
    int rc = folio_begin(&txn, db, FOLIO_TXN_WRITE);
    cr_assert(rc == FOLIO_OK, "folio_begin: %s", folio_errmsg(db));
    return txn;
}

static void exec(folio_db *db, folio_txn *txn, const char *sql)
{
    int rc = folio_exec(txn, sql);
    cr_assert(rc == FOLIO_OK, "folio_exec(%s): %s", sql, folio_errmsg(db));
}

static void commit(folio_db *db, folio_txn *txn)
{
    int rc = folio_commit(txn);
    cr_assert(rc == FOLIO_OK, "folio_commit: %s", folio_errmsg(db));
}

/* Row k of the generated data: (id, name, grp, score); `name` repeats and
 * mixes case so that NOCASE and duplicates matter. */
static void row_values(int64_t k, uint64_t salt, folio_value v[4], char *buf, size_t cap)
{
    uint64_t h = (uint64_t)k * 0x9e3779b97f4a7c15ull ^ salt;
    h ^= h >> 31;
    int n = snprintf(buf, cap, "%s-%05u", (h & 1) ? "Name" : "nAME", (unsigned)(h % 20011));
    v[0].type = FOLIO_INTEGER;
    v[0].u.i = k;
    v[1].type = FOLIO_TEXT;
    v[1].u.s.p = buf;
    v[1].u.s.n = (size_t)n;
    v[2].type = FOLIO_INTEGER;
    v[2].u.i = (int64_t)(h >> 20) % 97;
    v[3].type = (h >> 40) % 11 == 0 ? FOLIO_NULL : FOLIO_REAL;
    v[3].u.r = (double)(h >> 44) / 7.0;
}

static void insert_rows(folio_db *db, folio_table *t, int64_t from, int64_t to, uint64_t salt)
{
    char buf[32];
    folio_value v[4];
    for (int64_t k = from; k <= to; k++) {
        row_values(k, salt, v, buf, sizeof buf);
        int rc = folio_insert(NULL, t, v, 4);
        cr_assert(rc == FOLIO_OK, "insert %lld: %s", (long long)k, folio_errmsg(db));
    }
}

static const char *k_schema =
    "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, score REAL)";
static const char *k_indexes[] = {
    "CREATE INDEX t_name ON t(name COLLATE NOCASE)",
    "CREATE INDEX t_grp ON t(grp DESC, score)",
    "CREATE INDEX t_score ON t(score)",
    "CREATE INDEX t_bin ON t(name)", /* BINARY text: the sorter's radix path */
    "CREATE INDEX t_grpa ON t(grp)", /* integers, ascending: radix too */
};

/* Files the sorter left beside the database. */
static int sorter_files(void)
{
    DIR *d = opendir(g_dir);
    cr_assert(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strstr(e->d_name, "-fsort-") != NULL;
    closedir(d);
    return n;
}

/* Pages of b-tree `name` by dbstat. */
static int64_t btree_pages(const char *path, const char *name)
{
    sqlite3 *s = compat_sqlite_open_ro(path);
    int64_t n = compat_query_int(s, "SELECT count(*) FROM dbstat WHERE name='%s'", name);
    compat_sqlite_close(s);
    return n;
}

/* The file is ok for libsqlite3, every index matches its table (that is part
 * of integrity_check) and has as many entries as the table has rows, and
 * folio reads every table and index as libsqlite3 does. */
static void verify(int64_t rows)
{
    char *ic = compat_integrity(g_path);
    cr_assert_str_eq(ic, "ok", "integrity_check: %s", ic);
    free(ic);
    sqlite3 *s = compat_sqlite_open_ro(g_path);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t"), rows);
    sqlite3_stmt *st = compat_prepare(s, "SELECT name FROM sqlite_schema WHERE type='index'");
    int nidx = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *ix = (const char *)sqlite3_column_text(st, 0);
        cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t INDEXED BY %s", ix), rows,
                     "index %s", ix);
        nidx++;
    }
    sqlite3_finalize(st);
    cr_assert(nidx >= 2);
    compat_sqlite_close(s);
    compare_db_modes(g_path, COMPAT_RO, 20);
    cr_assert_eq(sorter_files(), 0, "the sorter left run files behind");
}

/* A new table with indexes, loaded in one transaction: the indexes are built
 * bottom-up, so they are as compact as the ones SQLite's CREATE INDEX builds
 * (inserting entry by entry in random order leaves pages about 2/3 full). */
Test(load_index, new_table_builds_indexes_bottom_up)
{
    start();
    folio_db *db = open_db(0);
    folio_txn *txn = begin_write(db);
    exec(db, txn, k_schema);
    for (size_t i = 0; i < sizeof k_indexes / sizeof *k_indexes; i++)
        exec(db, txn, k_indexes[i]);
    folio_table *t = NULL;
    cr_assert(folio_table_open(&t, txn, "t") == FOLIO_OK);
    insert_rows(db, t, 1, 30000, 1);
    commit(db, txn);
    cr_assert(folio_close(db) == FOLIO_OK);
    verify(30000);

    /* The same indexes built by SQLite over the same rows. */
    char *ref = compat_path(g_dir, "ref.sqlite");
    compat_copy_db(g_path, ref, 0);
    sqlite3 *s = compat_sqlite_open(ref);
    compat_exec(s, "DROP INDEX t_name; DROP INDEX t_grp; DROP INDEX t_score; DROP INDEX t_bin; "
                   "DROP INDEX t_grpa");
    for (size_t i = 0; i < sizeof k_indexes / sizeof *k_indexes; i++)
        compat_exec(s, k_indexes[i]);
    compat_sqlite_close(s);
    const char *names[] = {"t_name", "t_grp", "t_score", "t_bin", "t_grpa"};
    for (int i = 0; i < 5; i++) {
        int64_t ours = btree_pages(g_path, names[i]), theirs = btree_pages(ref, names[i]);
        cr_assert(ours <= theirs + theirs / 20 + 1,
                  "index %s: %lld pages, SQLite's CREATE INDEX: %lld (not built bottom-up?)",
                  names[i], (long long)ours, (long long)theirs);
    }
    free(ref);
    finish();
}

/* Reading an index inside the loading transaction sees every row: opening an
 * index cursor puts the deferred entries in, and while it is open new entries
 * go in directly. Later rows into the now non-empty index are deferred again
 * and inserted in key order. Updates and deletes force the entries in too. */
Test(load_index, reads_inside_the_transaction_see_every_row)
{
    start();
    folio_db *db = open_db(0);
    folio_txn *txn = begin_write(db);
    exec(db, txn, k_schema);
    exec(db, txn, k_indexes[0]);
    exec(db, txn, k_indexes[1]);
    folio_table *t = NULL;
    cr_assert(folio_table_open(&t, txn, "t") == FOLIO_OK);
    insert_rows(db, t, 1, 5000, 2);

    folio_cursor *c = NULL;
    cr_assert(folio_cursor_open(&c, t, "t_grp") == FOLIO_OK, "%s", folio_errmsg(db));
    int64_t n = 0;
    int rc;
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
        n++;
    cr_assert_eq(rc, FOLIO_DONE, "%s", folio_errmsg(db));
    cr_assert_eq(n, 5000);
    insert_rows(db, t, 5001, 5100, 2); /* the cursor is open: direct */
    n = 0;
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
        n++;
    cr_assert_eq(n, 5100);
    folio_cursor_close(c);

    /* Non-empty indexes now: past the first direct inserts, deferred again. */
    insert_rows(db, t, 5101, 12000, 3);
    cr_assert(folio_cursor_open(&c, t, "t_name") == FOLIO_OK, "%s", folio_errmsg(db));
    n = 0;
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
        n++;
    cr_assert_eq(n, 12000);
    folio_cursor_close(c);

    insert_rows(db, t, 12001, 20000, 4);
    /* A delete and an update find every entry they must remove. */
    for (int64_t k = 1; k <= 20000; k += 7)
        cr_assert(folio_delete(t, k) == FOLIO_OK, "delete %lld: %s", (long long)k,
                  folio_errmsg(db));
    insert_rows(db, t, 20001, 24000, 5);
    char buf[32];
    folio_value v[4];
    for (int64_t k = 3; k <= 24000; k += 7) {
        row_values(k, 99, v, buf, sizeof buf);
        cr_assert(folio_update(t, k, v, 4) == FOLIO_OK, "update %lld: %s", (long long)k,
                  folio_errmsg(db));
    }
    insert_rows(db, t, 24001, 30000, 6);
    commit(db, txn);
    cr_assert(folio_close(db) == FOLIO_OK);
    verify(30000 - (20000 + 6) / 7);
    finish();
}

/* More entries than the sorter's memory: runs go to temporary files (two
 * indexes at once, so their run files must not collide) and are removed. */
Test(load_index, entries_beyond_the_budget_spill_and_merge)
{
    start();
    folio_db *db = open_db((size_t)2 << 20);
    folio_txn *txn = begin_write(db);
    exec(db, txn, k_schema);
    exec(db, txn, k_indexes[0]);
    exec(db, txn, k_indexes[1]);
    exec(db, txn, k_indexes[3]);
    exec(db, txn, k_indexes[4]);
    folio_table *t = NULL;
    cr_assert(folio_table_open(&t, txn, "t") == FOLIO_OK);
    insert_rows(db, t, 1, 80000, 7);
    cr_assert_gt(sorter_files(), 1, "the queued entries were expected to spill to run files");
    commit(db, txn);
    cr_assert(folio_close(db) == FOLIO_OK);
    verify(80000);
    finish();
}

/* A second load into indexes that already hold rows, in another transaction. */
Test(load_index, load_into_existing_indexes)
{
    start();
    folio_db *db = open_db(0);
    folio_txn *txn = begin_write(db);
    exec(db, txn, k_schema);
    for (size_t i = 0; i < sizeof k_indexes / sizeof *k_indexes; i++)
        exec(db, txn, k_indexes[i]);
    folio_table *t = NULL;
    cr_assert(folio_table_open(&t, txn, "t") == FOLIO_OK);
    insert_rows(db, t, 1, 20000, 8);
    commit(db, txn);
    txn = begin_write(db);
    cr_assert(folio_table_open(&t, txn, "t") == FOLIO_OK);
    insert_rows(db, t, 20001, 45000, 9);
    commit(db, txn);
    cr_assert(folio_close(db) == FOLIO_OK);
    verify(45000);
    finish();
}

/* Rollback drops the deferred entries with the rows; a failed insert (a
 * UNIQUE violation, checked at once) leaves no entry behind in any index. */
Test(load_index, rollback_and_failed_inserts_leave_nothing)
{
    start();
    folio_db *db = open_db(0);
    folio_txn *txn = begin_write(db);
    exec(db, txn, k_schema);
    exec(db, txn, k_indexes[0]);
    exec(db, txn, "CREATE UNIQUE INDEX t_u ON t(grp, id)");
    folio_table *t = NULL;
    cr_assert(folio_table_open(&t, txn, "t") == FOLIO_OK);
    insert_rows(db, t, 1, 3000, 10);
    commit(db, txn);

    txn = begin_write(db);
    cr_assert(folio_table_open(&t, txn, "t") == FOLIO_OK);
    insert_rows(db, t, 3001, 9000, 11);
    cr_assert(folio_rollback(txn) == FOLIO_OK);
    cr_assert_eq(sorter_files(), 0);

    txn = begin_write(db);
    cr_assert(folio_table_open(&t, txn, "t") == FOLIO_OK);
    insert_rows(db, t, 3001, 9000, 12);
    char buf[32];
    folio_value v[4];
    row_values(5000, 12, v, buf, sizeof buf);
    v[0].u.i = 5000; /* rowid taken */
    cr_assert_eq(folio_insert(NULL, t, v, 4), FOLIO_CONSTRAINT);
    insert_rows(db, t, 9001, 10000, 13);
    commit(db, txn);
    cr_assert(folio_close(db) == FOLIO_OK);
    verify(10000);
    finish();
}

/* CREATE INDEX over rows already there sorts them the same way (radix on
 * the first key's prefix where it can, whole records otherwise). */
Test(load_index, create_index_over_existing_rows)
{
    start();
    folio_db *db = open_db(0);
    folio_txn *txn = begin_write(db);
    exec(db, txn, k_schema);
    folio_table *t = NULL;
    cr_assert(folio_table_open(&t, txn, "t") == FOLIO_OK);
    insert_rows(db, t, 1, 50000, 14);
    commit(db, txn);
    txn = begin_write(db);
    for (size_t i = 0; i < sizeof k_indexes / sizeof *k_indexes; i++)
        exec(db, txn, k_indexes[i]);
    commit(db, txn);
    cr_assert(folio_close(db) == FOLIO_OK);
    verify(50000);
    finish();
}
