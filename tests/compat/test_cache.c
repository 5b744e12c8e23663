/*
 * The page cache and the writer's reused state, checked by libsqlite3.
 *
 * - Steady state: once warm, inserting rows in order, rowid lookups and a
 *   scan (through the cache, and in place through a map) call folio's
 *   allocator zero times (os_alloc_count), however long
 *   they run inside the cache budget.
 * - A tiny budget (16 pages) read by three cursors at once, which pin more
 *   pages than the budget: every value still matches libsqlite3's, and a
 *   write transaction that spills under that budget leaves a file libsqlite3
 *   checks as ok with the expected rows.
 * - One handle running many write transactions of mixed sizes (the dirty set
 *   grows to its full size, then serves small transactions), rolled back,
 *   with failed statements: the file matches a reference built by
 *   libsqlite3 from the same operations.
 *
 * Randomized parts print their seed (FOLIO_SEED reproduces).
 */
#include <criterion/criterion.h>
#include <folio.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "os/os.h"

static folio_db *open_db(const char *path, size_t cache_bytes, unsigned flags, int sync)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = flags;
    o.sync = sync;
    o.cache_bytes = cache_bytes;
    folio_db *db = NULL;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "folio_open(%s): %s", path,
                 folio_open_errmsg());
    return db;
}

#define T_DDL "CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT, n INTEGER)"

/* A randomized test's start: its seed printed (FOLIO_SEED replays it) and a
 * fresh directory. */
static uint64_t seeded(const char *test, uint64_t fallback, char **dir)
{
    uint64_t seed = compat_seed(fallback);
    printf("%s: seed=%" PRIu64 "\n", test, seed);
    *dir = compat_tmpdir();
    return seed;
}

static void row_values(folio_value v[3], int64_t id, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "row-%" PRId64 "-%" PRId64, id, (id * 7919) % 100003);
    v[0] = (folio_value){FOLIO_INTEGER, {.i = id}};
    v[1] = (folio_value){FOLIO_TEXT, {.s = {buf, (size_t)n}}};
    v[2] = (folio_value){FOLIO_INTEGER, {.i = id % 97}};
}

static void reads_do_not_allocate(const char *path, int64_t rows, size_t mmap_bytes);

Test(cache, steady_state_inserts_lookups_and_scans_do_not_allocate, .timeout = 300)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "steady.db");
    const int64_t rows = 300000;
    folio_db *db = open_db(path, 0, FOLIO_OPEN_CREATE, FOLIO_SYNC_OFF);
    folio_txn *t;
    folio_table *tb;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(t, T_DDL), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    char buf[64];
    folio_value v[3];
    uint64_t before = 0, during = 0;
    for (int64_t id = 1; id <= rows; id++) {
        if (id == 100001)
            before = os_alloc_count();
        row_values(v, id, buf, sizeof buf);
        cr_assert_eq(folio_insert(NULL, tb, v, 3), FOLIO_OK, "row %" PRId64 ": %s", id,
                     folio_errmsg(db));
        if (id == 200000)
            during = os_alloc_count() - before;
    }
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    cr_expect_eq(during, 0, "%" PRIu64 " allocations while inserting rows 100,001..200,000",
                 during);

    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok");
    free(why);
    sqlite3 *s = compat_sqlite_open_ro(path);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t"), rows);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t WHERE n = id %% 97 AND s = "
                                     "'row-' || id || '-' || ((id * 7919) %% 100003)"),
                 rows);
    compat_sqlite_close(s);

    reads_do_not_allocate(path, rows, 0);
    reads_do_not_allocate(path, rows, (size_t)1 << 30); /* in place, through a map */
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* Lookups and a scan, read-only, after a warm-up: no allocation. */
static void reads_do_not_allocate(const char *path, int64_t rows, size_t mmap_bytes)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    o.mmap_bytes = mmap_bytes;
    folio_db *db = NULL;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *t;
    folio_table *tb;
    uint64_t before = 0, during = 0;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_READ), FOLIO_OK);
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, tb, NULL), FOLIO_OK);
    uint64_t rng = 0x5eedull;
    for (int i = 0; i < 150000; i++) {
        if (i == 50000)
            before = os_alloc_count();
        int64_t id = 1 + (int64_t)compat_below(&rng, (uint64_t)rows);
        cr_assert_eq(folio_cursor_seek_rowid(c, id), FOLIO_ROW, "rowid %" PRId64, id);
        folio_value got;
        cr_assert_eq(folio_cursor_column(&got, c, 2), FOLIO_OK);
        cr_assert_eq(got.u.i, id % 97);
    }
    during = os_alloc_count() - before;
    cr_expect_eq(during, 0, "%" PRIu64 " allocations in 100,000 warm rowid lookups (map %zu)",
                 during, mmap_bytes);
    int rc = folio_cursor_first(c);
    int64_t seen = 0;
    while (rc == FOLIO_ROW) {
        if (++seen == 100001)
            before = os_alloc_count();
        if (seen == 200000)
            during = os_alloc_count() - before;
        folio_value got;
        cr_assert_eq(folio_cursor_column(&got, c, 1), FOLIO_OK);
        cr_assert_eq(got.type, FOLIO_TEXT);
        rc = folio_cursor_next(c);
    }
    cr_assert_eq(rc, FOLIO_DONE);
    cr_assert_eq(seen, rows);
    cr_expect_eq(during, 0, "%" PRIu64 " allocations scanning rows 100,001..200,000 (map %zu)",
                 during, mmap_bytes);
    folio_cursor_close(c);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
}

/* Whole transactions too: once a handle has run a thousand, a single-row
 * write transaction and a read transaction call folio's allocator zero times
 * (what grows, grows early: split buffers for the deepest rebalance so far, a
 * cursor's pin table once the tree has interior pages).
 * Automatic checkpoints are off here: the background checkpoint plans its
 * pages in memory of its own, and the count is process-wide. */
Test(cache, steady_state_transactions_do_not_allocate, .timeout = 120)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "txn.db");
    folio_options o = FOLIO_OPTIONS_INIT;
    o.wal_autocheckpoint = 0;
    folio_db *db = NULL;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *t;
    folio_table *tb;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(t, T_DDL), FOLIO_OK);
    cr_assert_eq(folio_exec(t, "CREATE INDEX t_n ON t(n)"), FOLIO_OK);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    char buf[64];
    folio_value v[3];
    uint64_t before = 0;
    for (int64_t id = 1; id <= 1200; id++) {
        if (id == 1001)
            before = os_alloc_count();
        cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
        row_values(v, id, buf, sizeof buf);
        cr_assert_eq(folio_insert(NULL, tb, v, 3), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
        folio_cursor *c;
        cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_READ), FOLIO_OK);
        cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
        cr_assert_eq(folio_cursor_open(&c, tb, NULL), FOLIO_OK);
        cr_assert_eq(folio_cursor_seek_rowid(c, id), FOLIO_ROW);
        folio_cursor_close(c);
        cr_assert_eq(folio_commit(t), FOLIO_OK);
    }
    uint64_t during = os_alloc_count() - before;
    cr_expect_eq(during, 0, "%" PRIu64 " allocations in 200 warm write and read transactions",
                 during);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok");
    free(why);
    sqlite3 *s = compat_sqlite_open_ro(path);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t WHERE n = id %% 97"), 1200);
    compat_sqlite_close(s);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* The value libsqlite3 reads for column `col` of row `id`, as text. */
static char *sqlite_col(sqlite3 *s, const char *col, int64_t id)
{
    return compat_query_text(s, "SELECT quote(%s) FROM t WHERE id = %" PRId64, col, id);
}

static char *folio_col_quoted(folio_cursor *c, int col)
{
    folio_value v;
    cr_assert_eq(folio_cursor_column(&v, c, col), FOLIO_OK);
    char *out = NULL;
    size_t cap = 0;
    FILE *f = open_memstream(&out, &cap);
    if (v.type == FOLIO_INTEGER) {
        fprintf(f, "%" PRId64, v.u.i);
    } else if (v.type == FOLIO_NULL) {
        fprintf(f, "NULL");
    } else {
        cr_assert_eq(v.type, FOLIO_TEXT);
        fputc('\'', f);
        fwrite(v.u.s.p, 1, v.u.s.n, f);
        fputc('\'', f);
    }
    fclose(f);
    return out;
}

Test(cache, tiny_budget_read_by_pinning_cursors_and_written, .timeout = 300)
{
    char *dir;
    uint64_t seed = seeded("cache/tiny_budget", 0xcace, &dir), rng = seed;
    char *path = compat_path(dir, "tiny.db");
    sqlite3 *s = compat_sqlite_open(path);
    compat_exec(s, "PRAGMA page_size=1024");
    compat_exec(s, T_DDL);
    compat_exec(s, "CREATE INDEX t_n ON t(n)");
    /* Texts from a few bytes to several pages (overflow chains). */
    compat_exec(s,
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) "
                "INSERT INTO t SELECT x * 3, printf('%.*c', CASE WHEN x % 50 = 0 THEN 3000 "
                "ELSE 5 + x % 120 END, 'a') || x, x % 1013 FROM c");
    compat_sqlite_close(s);

    /* cache_bytes below the floor: the budget is 16 pages. */
    folio_db *db = open_db(path, 1, 0, FOLIO_SYNC_NORMAL);
    folio_txn *t;
    folio_table *tb;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_READ), FOLIO_OK);
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    folio_cursor *c[3];
    cr_assert_eq(folio_cursor_open(&c[0], tb, NULL), FOLIO_OK);
    cr_assert_eq(folio_cursor_open(&c[1], tb, "t_n"), FOLIO_OK);
    cr_assert_eq(folio_cursor_open(&c[2], tb, NULL), FOLIO_OK);
    s = compat_sqlite_open_ro(path);
    for (int i = 0; i < 3000; i++) {
        int64_t id = 3 * (1 + (int64_t)compat_below(&rng, 20000));
        if (i % 3 == 1) {
            /* The index cursor: n = x % 1013 with x = id / 3. */
            folio_value key = {FOLIO_INTEGER, {.i = (id / 3) % 1013}};
            cr_assert_eq(folio_cursor_seek(c[1], &key, 1, FOLIO_SEEK_EQ), FOLIO_ROW);
            folio_value got;
            cr_assert_eq(folio_cursor_column(&got, c[1], 2), FOLIO_OK);
            cr_assert_eq(got.u.i, key.u.i, "seed %" PRIu64, seed);
            continue;
        }
        folio_cursor *cur = c[i % 3];
        cr_assert_eq(folio_cursor_seek_rowid(cur, id), FOLIO_ROW, "rowid %" PRId64, id);
        for (int col = 1; col <= 2; col++) {
            char *want = sqlite_col(s, col == 1 ? "s" : "n", id);
            char *got = folio_col_quoted(cur, col);
            cr_assert_str_eq(got, want, "rowid %" PRId64 " column %d (seed %" PRIu64 ")", id, col,
                             seed);
            free(want);
            free(got);
        }
        /* Step on and back: neighbours through pinned and evicted pages. */
        if (folio_cursor_next(cur) == FOLIO_ROW) {
            cr_assert_eq(folio_cursor_prev(cur), FOLIO_ROW);
            folio_value got;
            cr_assert_eq(folio_cursor_column(&got, cur, 0), FOLIO_OK);
            cr_assert_eq(got.u.i, id);
        }
    }
    compat_sqlite_close(s);
    for (int i = 0; i < 3; i++)
        folio_cursor_close(c[i]);
    cr_assert_eq(folio_commit(t), FOLIO_OK);

    /* A write transaction under the same budget: it spills. */
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    char buf[64];
    folio_value v[3];
    int64_t added = 0, removed = 0, sum_added = 0, sum_removed = 0;
    for (int i = 0; i < 6000; i++) {
        int64_t x = 1 + (int64_t)compat_below(&rng, 60000);
        if (i % 4 == 3) {
            int64_t id = 3 * (1 + (int64_t)compat_below(&rng, 20000));
            int rc = folio_delete(tb, id);
            cr_assert(rc == FOLIO_OK || rc == FOLIO_NOTFOUND, "delete: %d %s", rc,
                      folio_errmsg(db));
            if (rc == FOLIO_OK) {
                removed++;
                sum_removed += id;
            }
            continue;
        }
        int64_t id = 3 * x + 1; /* never an existing rowid */
        row_values(v, id, buf, sizeof buf);
        int rc = folio_insert(NULL, tb, v, 3);
        cr_assert(rc == FOLIO_OK || rc == FOLIO_CONSTRAINT, "insert: %d %s", rc, folio_errmsg(db));
        if (rc == FOLIO_OK) {
            added++;
            sum_added += id;
        }
    }
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);

    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok", "seed %" PRIu64, seed);
    free(why);
    s = compat_sqlite_open_ro(path);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t"), 20000 + added - removed);
    cr_assert_eq(compat_query_int(s, "SELECT sum(id) FROM t"),
                 3 * 20000 * 20001 / 2 + sum_added - sum_removed);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t WHERE id %% 3 = 1 AND n = id %% 97"),
                 added);
    compat_sqlite_close(s);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* One handle, many write transactions of mixed sizes, as a reference
 * sqlite3 database receives the same operations. */
Test(cache, writer_state_reused_across_transactions, .timeout = 300)
{
    char *dir;
    uint64_t seed = seeded("cache/writer_reuse", 0x5a4e, &dir), rng = seed;
    char *path = compat_path(dir, "w.db");
    char *ref = compat_path(dir, "ref.db");
    sqlite3 *r = compat_sqlite_open(ref);
    compat_exec(r, T_DDL);
    /* A small budget, so that big transactions spill too. */
    folio_db *db = open_db(path, 256 * 4096, FOLIO_OPEN_CREATE, FOLIO_SYNC_NORMAL);
    folio_txn *t;
    folio_table *tb;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(t, T_DDL), FOLIO_OK);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    char buf[64];
    folio_value v[3];
    for (int round = 0; round < 80; round++) {
        int kind = (int)compat_below(&rng, 4); /* 0 big, 1 small, 2 big rolled back, 3 failing */
        int n = kind == 0 || kind == 2 ? 2000 + (int)compat_below(&rng, 3000)
                                       : 1 + (int)compat_below(&rng, 8);
        int commit = kind != 2;
        cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
        if (commit)
            compat_exec(r, "BEGIN");
        for (int i = 0; i < n; i++) {
            int64_t id = 1 + (int64_t)compat_below(&rng, 200000);
            if (compat_below(&rng, 5) == 0) {
                int rc = folio_delete(tb, id);
                cr_assert(rc == FOLIO_OK || rc == FOLIO_NOTFOUND, "%d %s", rc, folio_errmsg(db));
                if (commit)
                    compat_execf(r, "DELETE FROM t WHERE id = %" PRId64, id);
                continue;
            }
            row_values(v, id, buf, sizeof buf);
            int rc = folio_insert(NULL, tb, v, 3);
            /* A taken rowid fails the statement alone; the rest goes on. */
            cr_assert(rc == FOLIO_OK || rc == FOLIO_CONSTRAINT, "%d %s", rc, folio_errmsg(db));
            if (commit)
                compat_execf(r, "INSERT OR IGNORE INTO t VALUES(%" PRId64 ", '%s', %" PRId64 ")",
                             id, buf, id % 97);
            if (kind == 3 && i == 0) {
                /* A statement that fails on purpose after the first one. */
                cr_assert_eq(folio_insert(NULL, tb, v, 3), FOLIO_CONSTRAINT);
            }
        }
        if (commit) {
            cr_assert_eq(folio_commit(t), FOLIO_OK, "round %d: %s", round, folio_errmsg(db));
            compat_exec(r, "COMMIT");
        } else {
            cr_assert_eq(folio_rollback(t), FOLIO_OK);
        }
        if (round % 20 == 19) {
            /* folio's view after each batch of rounds. */
            cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_READ), FOLIO_OK);
            cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
            folio_cursor *c;
            cr_assert_eq(folio_cursor_open(&c, tb, NULL), FOLIO_OK);
            int64_t count = 0, sum = 0;
            for (int rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
                folio_value id;
                cr_assert_eq(folio_cursor_column(&id, c, 0), FOLIO_OK);
                count++;
                sum += id.u.i;
            }
            folio_cursor_close(c);
            cr_assert_eq(folio_commit(t), FOLIO_OK);
            cr_assert_eq(count, compat_query_int(r, "SELECT count(*) FROM t"),
                         "round %d seed %" PRIu64, round, seed);
            cr_assert_eq(sum, compat_query_int(r, "SELECT total(id) FROM t"), "round %d", round);
        }
    }
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_sqlite_close(r);

    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok", "seed %" PRIu64, seed);
    free(why);
    sqlite3 *s = compat_sqlite_open(path);
    compat_execf(s, "ATTACH '%s' AS ref", ref);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM (SELECT * FROM main.t EXCEPT "
                                     "SELECT * FROM ref.t)"),
                 0, "rows in folio's file that the reference lacks (seed %" PRIu64 ")", seed);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM (SELECT * FROM ref.t EXCEPT "
                                     "SELECT * FROM main.t)"),
                 0, "rows of the reference missing from folio's file (seed %" PRIu64 ")", seed);
    compat_sqlite_close(s);
    compat_rmtree(dir);
    free(path);
    free(ref);
    free(dir);
}
