/*
 * FOLIO_TXN_CONCURRENT: write transactions on their snapshots, replayed at
 * commit with row-level checks (first committer wins, FOLIO_CONFLICT).
 * Every file is checked by libsqlite3 (integrity_check and the values);
 * a libsqlite3 connection in the same process commits beside folio to show
 * that other engines' commits are seen too. The threaded test prints its
 * seed (FOLIO_SEED replays it).
 */
#include "folio.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char g_dir[512], g_path[600];

static folio_db *open_db(const char *ddl)
{
    const char *base = getenv("FOLIO_TMP");
    snprintf(g_dir, sizeof g_dir, "%s/conc-XXXXXX", base && *base ? base : "/tmp");
    cr_assert(mkdtemp(g_dir));
    snprintf(g_path, sizeof g_path, "%s/t.db", g_dir);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.busy_timeout_ms = 10000;
    folio_db *db;
    cr_assert_eq(folio_open(&db, g_path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    /* ddl: statements separated by ';' */
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", ddl);
    for (char *s = strtok(buf, ";"); s; s = strtok(NULL, ";"))
        cr_assert_eq(folio_exec(t, s), FOLIO_OK, "%s: %s", s, folio_errmsg(db));
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    return db;
}

static void cleanup(void)
{
    char p[700];
    snprintf(p, sizeof p, "%s-wal", g_path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", g_path);
    unlink(p);
    unlink(g_path);
    rmdir(g_dir);
}

static folio_value I(int64_t i)
{
    folio_value v = {.type = FOLIO_INTEGER, .u.i = i};
    return v;
}

static folio_value T(const char *s)
{
    folio_value v = {.type = FOLIO_TEXT, .u.s = {s, strlen(s)}};
    return v;
}

/* libsqlite3's answer to a one-value query (the file as committed). */
static int64_t sq_int(const char *sql)
{
    sqlite3 *s;
    cr_assert_eq(sqlite3_open_v2(g_path, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(s, 5000);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(s, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(s));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s: %s", sql, sqlite3_errmsg(s));
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(s);
    return v;
}

static void sq_integrity(void)
{
    sqlite3 *s;
    cr_assert_eq(sqlite3_open_v2(g_path, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(s, 5000);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(s, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(s);
}

static int64_t get_b(folio_txn *t, int64_t rowid)
{
    folio_table *tab;
    cr_assert_eq(folio_table_open(&tab, t, "t"), FOLIO_OK);
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, tab, NULL), FOLIO_OK);
    cr_assert_eq(folio_cursor_seek_rowid(c, rowid), FOLIO_ROW);
    folio_value v;
    cr_assert_eq(folio_cursor_column(&v, c, 1), FOLIO_OK);
    folio_cursor_close(c);
    return v.u.i;
}

static int set_b(folio_txn *t, int64_t rowid, int64_t b)
{
    folio_table *tab;
    int rc = folio_table_open(&tab, t, "t");
    if (rc < 0)
        return rc;
    folio_value v[2] = {I(rowid), I(b)};
    return folio_update(tab, rowid, v, 2);
}

static int add_row(folio_txn *t, int64_t *rowid, int64_t b)
{
    folio_table *tab;
    int rc = folio_table_open(&tab, t, "t");
    if (rc < 0)
        return rc;
    folio_value v[2] = {{.type = FOLIO_NULL}, I(b)};
    return folio_insert(rowid, tab, v, 2);
}

Test(concurrent, reads_its_writes_and_commits)
{
    folio_db *db = open_db("CREATE TABLE t(a INTEGER PRIMARY KEY, b); CREATE INDEX tb ON t(b)");
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    for (int i = 1; i <= 500; i++) {
        int64_t id;
        cr_assert_eq(add_row(t, &id, i * 10), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(id, i);
    }
    cr_assert_eq(get_b(t, 250), 2500);
    cr_assert_eq(set_b(t, 250, 7), FOLIO_OK);
    cr_assert_eq(get_b(t, 250), 7);
    folio_table *tab;
    cr_assert_eq(folio_table_open(&tab, t, "t"), FOLIO_OK);
    cr_assert_eq(folio_delete(tab, 3), FOLIO_OK);
    /* Nothing is visible to others before the commit. */
    cr_assert_eq(sq_int("SELECT count(*) FROM t"), 0);
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(sq_int("SELECT count(*) FROM t"), 499);
    cr_assert_eq(sq_int("SELECT b FROM t WHERE a = 250"), 7);
    cr_assert_eq(sq_int("SELECT count(*) FROM t WHERE a = 3"), 0);
    cr_assert_eq(sq_int("SELECT count(*) FROM t INDEXED BY tb WHERE b > 0"), 499);
    sq_integrity();
    folio_close(db);
    cleanup();
}

Test(concurrent, disjoint_inserts_never_conflict)
{
    folio_db *db = open_db("CREATE TABLE t(a INTEGER PRIMARY KEY, b)");
    folio_txn *t1, *t2;
    cr_assert_eq(folio_begin(&t1, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(folio_begin(&t2, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    int64_t r1, r2;
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(add_row(t1, &r1, 1), FOLIO_OK);
        cr_assert_eq(add_row(t2, &r2, 2), FOLIO_OK);
        cr_assert_neq(r1, r2);
    }
    cr_assert_eq(folio_commit(t2), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(t1), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(sq_int("SELECT count(*) FROM t"), 200);
    cr_assert_eq(sq_int("SELECT count(DISTINCT a) FROM t"), 200);
    cr_assert_eq(sq_int("SELECT sum(b) FROM t"), 300);
    sq_integrity();
    folio_close(db);
    cleanup();
}

static void seed_rows(folio_db *db, int n)
{
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    for (int i = 0; i < n; i++)
        cr_assert_eq(add_row(t, NULL, 100), FOLIO_OK);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
}

Test(concurrent, lost_update_is_a_conflict)
{
    folio_db *db = open_db("CREATE TABLE t(a INTEGER PRIMARY KEY, b)");
    seed_rows(db, 10);
    folio_txn *t1, *t2;
    cr_assert_eq(folio_begin(&t1, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(folio_begin(&t2, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(set_b(t1, 5, get_b(t1, 5) + 1), FOLIO_OK);
    cr_assert_eq(set_b(t2, 5, get_b(t2, 5) + 1), FOLIO_OK);
    /* Another row of t2 was not touched by t1; the row 5 was. */
    cr_assert_eq(set_b(t2, 6, 0), FOLIO_OK);
    cr_assert_eq(folio_commit(t1), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(t2), FOLIO_CONFLICT);
    cr_assert(strstr(folio_errmsg(db), "table t, rowid 5"), "%s", folio_errmsg(db));
    cr_assert_eq(sq_int("SELECT b FROM t WHERE a = 5"), 101);
    cr_assert_eq(sq_int("SELECT b FROM t WHERE a = 6"), 100); /* nothing of t2 */
    sq_integrity();
    folio_close(db);
    cleanup();
}

Test(concurrent, disjoint_updates_both_commit)
{
    folio_db *db = open_db("CREATE TABLE t(a INTEGER PRIMARY KEY, b); CREATE INDEX tb ON t(b)");
    seed_rows(db, 2000);
    folio_txn *t1, *t2;
    cr_assert_eq(folio_begin(&t1, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(folio_begin(&t2, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    for (int i = 1; i <= 2000; i += 2) {
        cr_assert_eq(set_b(t1, i, i), FOLIO_OK);
        cr_assert_eq(set_b(t2, i + 1, -(i + 1)), FOLIO_OK);
    }
    cr_assert_eq(folio_commit(t1), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(t2), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(sq_int("SELECT sum(b) FROM t"), -1000);
    cr_assert_eq(sq_int("SELECT count(*) FROM t WHERE b = a OR b = -a"), 2000);
    sq_integrity();
    folio_close(db);
    cleanup();
}

Test(concurrent, conflict_with_a_plain_writer)
{
    folio_db *db = open_db("CREATE TABLE t(a INTEGER PRIMARY KEY, b)");
    seed_rows(db, 3);
    folio_txn *c, *w;
    cr_assert_eq(folio_begin(&c, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    folio_table *tab;
    cr_assert_eq(folio_table_open(&tab, c, "t"), FOLIO_OK);
    cr_assert_eq(folio_delete(tab, 2), FOLIO_OK);
    /* A plain write transaction runs meanwhile: the concurrent one keeps
     * nobody waiting. */
    cr_assert_eq(folio_begin(&w, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(set_b(w, 2, 55), FOLIO_OK);
    cr_assert_eq(folio_commit(w), FOLIO_OK);
    cr_assert_eq(folio_commit(c), FOLIO_CONFLICT);
    cr_assert(strstr(folio_errmsg(db), "rowid 2: changed"), "%s", folio_errmsg(db));
    cr_assert_eq(sq_int("SELECT b FROM t WHERE a = 2"), 55);
    folio_close(db);
    cleanup();
}

Test(concurrent, conflict_with_a_sqlite3_commit)
{
    folio_db *db = open_db("CREATE TABLE t(a INTEGER PRIMARY KEY, b)");
    seed_rows(db, 3);
    folio_txn *c;
    cr_assert_eq(folio_begin(&c, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(set_b(c, 1, 1), FOLIO_OK);
    cr_assert_eq(set_b(c, 3, 3), FOLIO_OK);
    sqlite3 *s;
    cr_assert_eq(sqlite3_open(g_path, &s), SQLITE_OK);
    sqlite3_busy_timeout(s, 5000);
    cr_assert_eq(sqlite3_exec(s, "UPDATE t SET b = 77 WHERE a = 3", NULL, NULL, NULL), SQLITE_OK,
                 "%s", sqlite3_errmsg(s));
    sqlite3_close(s);
    cr_assert_eq(folio_commit(c), FOLIO_CONFLICT);
    cr_assert(strstr(folio_errmsg(db), "rowid 3"), "%s", folio_errmsg(db));
    cr_assert_eq(sq_int("SELECT b FROM t WHERE a = 3"), 77);
    cr_assert_eq(sq_int("SELECT b FROM t WHERE a = 1"), 100);
    /* A sqlite3 commit to other rows is no conflict. */
    cr_assert_eq(folio_begin(&c, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(set_b(c, 1, 1), FOLIO_OK);
    cr_assert_eq(sqlite3_open(g_path, &s), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(s, "UPDATE t SET b = 78 WHERE a = 3; INSERT INTO t VALUES(9, 9)",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(s);
    int64_t id;
    cr_assert_eq(add_row(c, &id, 5), FOLIO_OK);
    cr_assert_eq(folio_commit(c), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(sq_int("SELECT b FROM t WHERE a = 1"), 1);
    cr_assert_eq(sq_int("SELECT count(*) FROM t"), 5);
    sq_integrity();
    folio_close(db);
    cleanup();
}

Test(concurrent, unique_key_taken_meanwhile)
{
    folio_db *db = open_db("CREATE TABLE t(a INTEGER PRIMARY KEY, b UNIQUE)");
    folio_txn *t1, *t2;
    cr_assert_eq(folio_begin(&t1, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(folio_begin(&t2, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(add_row(t1, NULL, 42), FOLIO_OK);
    cr_assert_eq(add_row(t2, NULL, 42), FOLIO_OK); /* its snapshot has no 42 */
    /* Within one transaction the constraint holds at once. */
    cr_assert_eq(add_row(t2, NULL, 42), FOLIO_CONSTRAINT);
    cr_assert_eq(add_row(t2, NULL, 43), FOLIO_OK);
    cr_assert_eq(folio_commit(t1), FOLIO_OK);
    cr_assert_eq(folio_commit(t2), FOLIO_CONFLICT);
    cr_assert(strstr(folio_errmsg(db), "UNIQUE index"), "%s", folio_errmsg(db));
    cr_assert_eq(sq_int("SELECT count(*) FROM t"), 1);
    /* NULLs are never the same key. */
    cr_assert_eq(folio_begin(&t1, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(folio_begin(&t2, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    folio_table *a, *b;
    cr_assert_eq(folio_table_open(&a, t1, "t"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&b, t2, "t"), FOLIO_OK);
    folio_value v[2] = {{.type = FOLIO_NULL}, {.type = FOLIO_NULL}};
    cr_assert_eq(folio_insert(NULL, a, v, 2), FOLIO_OK);
    cr_assert_eq(folio_insert(NULL, b, v, 2), FOLIO_OK);
    cr_assert_eq(folio_commit(t1), FOLIO_OK);
    cr_assert_eq(folio_commit(t2), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(sq_int("SELECT count(*) FROM t WHERE b IS NULL"), 2);
    sq_integrity();
    folio_close(db);
    cleanup();
}

Test(concurrent, without_rowid_rows)
{
    folio_db *db = open_db("CREATE TABLE w(k TEXT PRIMARY KEY COLLATE NOCASE, v) WITHOUT ROWID");
    folio_txn *t1, *t2;
    folio_table *a, *b;
    cr_assert_eq(folio_begin(&t1, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(folio_begin(&t2, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(folio_table_open(&a, t1, "w"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&b, t2, "w"), FOLIO_OK);
    folio_value r1[2] = {T("apple"), I(1)}, r2[2] = {T("pear"), I(2)}, r3[2] = {T("APPLE"), I(3)};
    cr_assert_eq(folio_insert(NULL, a, r1, 2), FOLIO_OK);
    cr_assert_eq(folio_insert(NULL, b, r2, 2), FOLIO_OK);
    cr_assert_eq(folio_insert(NULL, b, r3, 2), FOLIO_OK); /* the same key under NOCASE */
    cr_assert_eq(folio_commit(t1), FOLIO_OK);
    cr_assert_eq(folio_commit(t2), FOLIO_CONFLICT);
    cr_assert(strstr(folio_errmsg(db), "PRIMARY KEY ('APPLE')"), "%s", folio_errmsg(db));
    /* Updates of the same row: the second loses; of different rows: both win. */
    cr_assert_eq(folio_begin(&t1, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&a, t1, "w"), FOLIO_OK);
    cr_assert_eq(folio_insert(NULL, a, r2, 2), FOLIO_OK);
    cr_assert_eq(folio_commit(t1), FOLIO_OK);
    cr_assert_eq(folio_begin(&t1, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(folio_begin(&t2, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(folio_table_open(&a, t1, "w"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&b, t2, "w"), FOLIO_OK);
    folio_value k1 = T("apple"), k2 = T("pear");
    folio_value nv1[2] = {T("apple"), I(10)}, nv2[2] = {T("pear"), I(20)};
    cr_assert_eq(folio_update_key(a, &k1, 1, nv1, 2), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_update_key(b, &k2, 1, nv2, 2), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(t1), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(t2), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(sq_int("SELECT sum(v) FROM w"), 30);
    cr_assert_eq(folio_begin(&t1, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(folio_begin(&t2, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(folio_table_open(&a, t1, "w"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&b, t2, "w"), FOLIO_OK);
    folio_value nv3[2] = {T("apple"), I(99)};
    cr_assert_eq(folio_update_key(a, &k1, 1, nv3, 2), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_delete_key(b, &k1, 1), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(t1), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(t2), FOLIO_CONFLICT);
    cr_assert(strstr(folio_errmsg(db), "table w, entry ('apple'): changed or deleted"), "%s",
              folio_errmsg(db));
    cr_assert_eq(sq_int("SELECT v FROM w WHERE k = 'apple'"), 99);
    sq_integrity();
    folio_close(db);
    cleanup();
}

Test(concurrent, autoincrement_inserts_do_not_conflict)
{
    folio_db *db = open_db("CREATE TABLE t(a INTEGER PRIMARY KEY AUTOINCREMENT, b)");
    folio_txn *tx[4];
    for (int k = 0; k < 4; k++)
        cr_assert_eq(folio_begin(&tx[k], db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    for (int i = 0; i < 25; i++)
        for (int k = 0; k < 4; k++)
            cr_assert_eq(add_row(tx[k], NULL, k), FOLIO_OK, "%s", folio_errmsg(db));
    for (int k = 3; k >= 0; k--)
        cr_assert_eq(folio_commit(tx[k]), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(sq_int("SELECT count(DISTINCT a) FROM t"), 100);
    cr_assert_eq(sq_int("SELECT seq FROM sqlite_sequence WHERE name = 't'"),
                 sq_int("SELECT max(a) FROM t"));
    sq_integrity();
    folio_close(db);
    cleanup();
}

Test(concurrent, failed_calls_and_rollback_leave_nothing)
{
    folio_db *db = open_db("CREATE TABLE t(a INTEGER PRIMARY KEY, b NOT NULL)");
    seed_rows(db, 2);
    folio_txn *c;
    cr_assert_eq(folio_begin(&c, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    folio_table *tab;
    cr_assert_eq(folio_table_open(&tab, c, "t"), FOLIO_OK);
    folio_value bad[2] = {{.type = FOLIO_NULL}, {.type = FOLIO_NULL}};
    cr_assert_eq(folio_insert(NULL, tab, bad, 2), FOLIO_CONSTRAINT);
    folio_value dup[2] = {I(1), I(1)};
    cr_assert_eq(folio_insert(NULL, tab, dup, 2), FOLIO_CONSTRAINT);
    cr_assert_eq(set_b(c, 2, 9), FOLIO_OK);
    /* DDL: with a cursor open it cannot become a plain writer; without, it
     * does (its changes replayed) and goes on. */
    folio_cursor *cur;
    cr_assert_eq(folio_cursor_open(&cur, tab, NULL), FOLIO_OK);
    cr_assert_eq(folio_exec(c, "CREATE TABLE x(y)"), FOLIO_MISUSE);
    cr_assert(strstr(folio_errmsg(db), "close them first"), "%s", folio_errmsg(db));
    folio_cursor_close(cur);
    cr_assert_eq(folio_exec(c, "CREATE TABLE x(y)"), FOLIO_OK, "%s", folio_errmsg(db));
    folio_table *x;
    folio_value xv[1] = {I(5)};
    cr_assert_eq(folio_table_open(&x, c, "x"), FOLIO_OK);
    cr_assert_eq(folio_insert(NULL, x, xv, 1), FOLIO_OK);
    cr_assert_eq(get_b(c, 2), 9);
    cr_assert_eq(folio_commit(c), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(sq_int("SELECT y FROM x"), 5);
    cr_assert_eq(sq_int("SELECT count(*) FROM t"), 2);
    cr_assert_eq(sq_int("SELECT b FROM t WHERE a = 2"), 9);
    cr_assert_eq(folio_begin(&c, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(set_b(c, 1, 9), FOLIO_OK);
    cr_assert_eq(folio_rollback(c), FOLIO_OK);
    cr_assert_eq(sq_int("SELECT b FROM t WHERE a = 1"), 100);
    /* A schema change after the snapshot: the commit is a conflict. */
    folio_txn *w;
    cr_assert_eq(folio_begin(&c, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(set_b(c, 1, 8), FOLIO_OK);
    cr_assert_eq(folio_begin(&w, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(w, "CREATE TABLE x2(y)"), FOLIO_OK);
    cr_assert_eq(folio_commit(w), FOLIO_OK);
    cr_assert_eq(folio_commit(c), FOLIO_CONFLICT);
    cr_assert(strstr(folio_errmsg(db), "schema changed"), "%s", folio_errmsg(db));
    /* DDL after a commit changed a row it changed: the conflict, and the
     * transaction is left as it was. */
    cr_assert_eq(folio_begin(&c, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(set_b(c, 1, 7), FOLIO_OK);
    cr_assert_eq(folio_begin(&w, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(set_b(w, 1, 6), FOLIO_OK);
    cr_assert_eq(folio_commit(w), FOLIO_OK);
    cr_assert_eq(folio_exec(c, "CREATE TABLE z(y)"), FOLIO_CONFLICT);
    cr_assert_eq(get_b(c, 1), 7);
    cr_assert_eq(folio_commit(c), FOLIO_CONFLICT);
    cr_assert_eq(sq_int("SELECT b FROM t WHERE a = 1"), 6);
    cr_assert_eq(sq_int("SELECT count(*) FROM sqlite_schema WHERE name = 'z'"), 0);
    sq_integrity();
    folio_close(db);
    cleanup();
}

static folio_db *open_fk(void)
{
    folio_db *db = open_db("CREATE TABLE p(id INTEGER PRIMARY KEY, name); "
                           "CREATE TABLE c(id INTEGER PRIMARY KEY, pid REFERENCES p(id))");
    folio_close(db);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.foreign_keys = 1;
    cr_assert_eq(folio_open(&db, g_path, &o), FOLIO_OK);
    folio_txn *t;
    folio_table *p;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&p, t, "p"), FOLIO_OK);
    for (int i = 1; i <= 3; i++) {
        folio_value v[2] = {I(i), T("x")};
        cr_assert_eq(folio_insert(NULL, p, v, 2), FOLIO_OK);
    }
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    return db;
}

static int add_child(folio_txn *t, int64_t pid)
{
    folio_table *c;
    int rc = folio_table_open(&c, t, "c");
    if (rc < 0)
        return rc;
    folio_value v[2] = {{.type = FOLIO_NULL}, I(pid)};
    return folio_insert(NULL, c, v, 2);
}

static int del_parent(folio_txn *t, int64_t id)
{
    folio_table *p;
    int rc = folio_table_open(&p, t, "p");
    return rc < 0 ? rc : folio_delete(p, id);
}

Test(concurrent, foreign_keys_hold_across_commits)
{
    for (int order = 0; order < 2; order++) {
        folio_db *db = open_fk();
        folio_txn *t1, *t2;
        cr_assert_eq(folio_begin(&t1, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
        cr_assert_eq(folio_begin(&t2, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
        cr_assert_eq(del_parent(t1, 1), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(add_child(t2, 1), FOLIO_OK, "%s", folio_errmsg(db));
        /* In its own snapshot each is right; together they would leave an
         * orphan: the second to commit loses. */
        folio_txn *first = order ? t2 : t1, *second = order ? t1 : t2;
        cr_assert_eq(folio_commit(first), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(folio_commit(second), FOLIO_CONFLICT);
        cr_assert(strstr(folio_errmsg(db), "FOREIGN KEY constraint of c"), "%s", folio_errmsg(db));
        cr_assert_eq(sq_int("SELECT count(*) FROM c WHERE pid NOT IN (SELECT id FROM p)"), 0);
        /* Keys that do not meet: both commit. */
        cr_assert_eq(folio_begin(&t1, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
        cr_assert_eq(folio_begin(&t2, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
        cr_assert_eq(del_parent(t1, 3), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(add_child(t2, 2), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(folio_commit(t1), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(folio_commit(t2), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(sq_int("SELECT count(*) FROM c WHERE pid = 2"), 1);
        sq_integrity();
        folio_close(db);
        cleanup();
    }
}

Test(concurrent, larger_than_the_cache_goes_on_alone)
{
    folio_db *db = open_db("CREATE TABLE t(a INTEGER PRIMARY KEY, b)");
    folio_close(db);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.cache_bytes = (size_t)1 << 20;
    o.busy_timeout_ms = 5000;
    cr_assert_eq(folio_open(&db, g_path, &o), FOLIO_OK);
    seed_rows(db, 10);
    folio_txn *big, *small;
    cr_assert_eq(folio_begin(&small, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(set_b(small, 3, 33), FOLIO_OK);
    cr_assert_eq(folio_begin(&big, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    folio_table *tab;
    cr_assert_eq(folio_table_open(&tab, big, "t"), FOLIO_OK);
    static char blob[3000];
    memset(blob, 'x', sizeof blob);
    for (int i = 0; i < 2000; i++) {
        folio_value v[2] = {{.type = FOLIO_NULL}, {.type = FOLIO_BLOB, .u.s = {blob, sizeof blob}}};
        cr_assert_eq(folio_insert(NULL, tab, v, 2), FOLIO_OK, "row %d: %s", i, folio_errmsg(db));
    }
    cr_assert_eq(set_b(big, 4, 44), FOLIO_OK);
    cr_assert_eq(folio_commit(big), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(small), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(sq_int("SELECT count(*) FROM t"), 2010);
    cr_assert_eq(sq_int("SELECT b FROM t WHERE a = 3"), 33);
    cr_assert_eq(sq_int("SELECT b FROM t WHERE a = 4"), 44);
    sq_integrity();
    folio_close(db);
    cleanup();
}

/* ---- serializable ---- */

/* Doctors on call: each transaction sees two on call and takes one off. */
static int64_t on_call(folio_txn *t)
{
    folio_table *tab;
    folio_cursor *c;
    cr_assert_eq(folio_table_open(&tab, t, "t"), FOLIO_OK);
    cr_assert_eq(folio_cursor_open(&c, tab, NULL), FOLIO_OK);
    int64_t n = 0;
    for (int rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
        folio_value v;
        cr_assert_eq(folio_cursor_column(&v, c, 1), FOLIO_OK);
        n += v.u.i;
    }
    folio_cursor_close(c);
    return n;
}

Test(concurrent, write_skew_allowed_under_snapshot_refused_under_serializable)
{
    for (int ser = 0; ser < 2; ser++) {
        folio_db *db = open_db("CREATE TABLE t(a INTEGER PRIMARY KEY, b INTEGER)");
        folio_txn *w;
        cr_assert_eq(folio_begin(&w, db, FOLIO_TXN_WRITE), FOLIO_OK);
        cr_assert_eq(add_row(w, NULL, 1), FOLIO_OK);
        cr_assert_eq(add_row(w, NULL, 1), FOLIO_OK);
        cr_assert_eq(folio_commit(w), FOLIO_OK);
        unsigned fl = ser ? FOLIO_TXN_SERIALIZABLE : FOLIO_TXN_CONCURRENT;
        folio_txn *t1, *t2;
        cr_assert_eq(folio_begin(&t1, db, fl), FOLIO_OK);
        cr_assert_eq(folio_begin(&t2, db, fl), FOLIO_OK);
        cr_assert_eq(on_call(t1), 2);
        cr_assert_eq(on_call(t2), 2);
        cr_assert_eq(set_b(t1, 1, 0), FOLIO_OK);
        cr_assert_eq(set_b(t2, 2, 0), FOLIO_OK);
        cr_assert_eq(folio_commit(t1), FOLIO_OK, "%s", folio_errmsg(db));
        if (ser) {
            cr_assert_eq(folio_commit(t2), FOLIO_CONFLICT);
            cr_assert(strstr(folio_errmsg(db), "serializable"), "%s", folio_errmsg(db));
            cr_assert_eq(sq_int("SELECT sum(b) FROM t"), 1);
        } else {
            cr_assert_eq(folio_commit(t2), FOLIO_OK, "%s", folio_errmsg(db));
            cr_assert_eq(sq_int("SELECT sum(b) FROM t"), 0); /* the skew */
        }
        sq_integrity();
        folio_close(db);
        cleanup();
    }
}

/* Rows of t with b in [lo, hi], through the index tb. */
static int64_t count_range(folio_txn *t, int64_t lo, int64_t hi)
{
    folio_table *tab;
    folio_cursor *c;
    cr_assert_eq(folio_table_open(&tab, t, "t"), FOLIO_OK);
    cr_assert_eq(folio_cursor_open(&c, tab, "tb"), FOLIO_OK);
    int64_t n = 0;
    folio_value k = I(lo);
    for (int rc = folio_cursor_seek(c, &k, 1, FOLIO_SEEK_GE); rc == FOLIO_ROW;
         rc = folio_cursor_next(c)) {
        folio_value v;
        cr_assert_eq(folio_cursor_column(&v, c, 1), FOLIO_OK);
        if (v.u.i > hi)
            break;
        n++;
    }
    folio_cursor_close(c);
    return n;
}

Test(concurrent, phantoms_and_absent_rows_under_serializable)
{
    folio_db *db = open_db("CREATE TABLE t(a INTEGER PRIMARY KEY, b INTEGER); "
                           "CREATE INDEX tb ON t(b); CREATE TABLE s(n)");
    folio_txn *w;
    cr_assert_eq(folio_begin(&w, db, FOLIO_TXN_WRITE), FOLIO_OK);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(add_row(w, NULL, i * 10), FOLIO_OK);
    cr_assert_eq(folio_commit(w), FOLIO_OK);
    /* A row inserted into the range read: a phantom, refused. */
    folio_txn *t1;
    folio_table *st;
    folio_value sv[1] = {I(0)};
    cr_assert_eq(folio_begin(&t1, db, FOLIO_TXN_SERIALIZABLE), FOLIO_OK);
    cr_assert_eq(count_range(t1, 100, 200), 11);
    cr_assert_eq(folio_table_open(&st, t1, "s"), FOLIO_OK);
    cr_assert_eq(folio_insert(NULL, st, sv, 1), FOLIO_OK);
    cr_assert_eq(folio_begin(&w, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(add_row(w, NULL, 155), FOLIO_OK);
    cr_assert_eq(folio_commit(w), FOLIO_OK);
    cr_assert_eq(folio_commit(t1), FOLIO_CONFLICT);
    cr_assert(strstr(folio_errmsg(db), "index tb: a range read"), "%s", folio_errmsg(db));
    /* A row inserted outside it (and rows changed elsewhere): no conflict. */
    cr_assert_eq(folio_begin(&t1, db, FOLIO_TXN_SERIALIZABLE), FOLIO_OK);
    cr_assert_eq(count_range(t1, 100, 200), 12);
    cr_assert_eq(folio_table_open(&st, t1, "s"), FOLIO_OK);
    cr_assert_eq(folio_insert(NULL, st, sv, 1), FOLIO_OK);
    cr_assert_eq(folio_begin(&w, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(add_row(w, NULL, 905), FOLIO_OK);
    cr_assert_eq(set_b(w, 3, 21), FOLIO_OK);
    cr_assert_eq(folio_commit(w), FOLIO_OK);
    cr_assert_eq(folio_commit(t1), FOLIO_OK, "%s", folio_errmsg(db));
    /* A row looked for and not found, inserted meanwhile: refused. */
    cr_assert_eq(folio_begin(&t1, db, FOLIO_TXN_SERIALIZABLE), FOLIO_OK);
    folio_table *tab;
    folio_cursor *c;
    cr_assert_eq(folio_table_open(&tab, t1, "t"), FOLIO_OK);
    cr_assert_eq(folio_cursor_open(&c, tab, NULL), FOLIO_OK);
    cr_assert_eq(folio_cursor_seek_rowid(c, 5000), FOLIO_NOTFOUND);
    folio_cursor_close(c);
    cr_assert_eq(folio_table_open(&st, t1, "s"), FOLIO_OK);
    cr_assert_eq(folio_insert(NULL, st, sv, 1), FOLIO_OK);
    cr_assert_eq(folio_begin(&w, db, FOLIO_TXN_WRITE), FOLIO_OK);
    folio_table *wt;
    cr_assert_eq(folio_table_open(&wt, w, "t"), FOLIO_OK);
    folio_value r[2] = {I(5000), I(1)};
    cr_assert_eq(folio_insert(NULL, wt, r, 2), FOLIO_OK);
    cr_assert_eq(folio_commit(w), FOLIO_OK);
    cr_assert_eq(folio_commit(t1), FOLIO_CONFLICT);
    cr_assert(strstr(folio_errmsg(db), "rowid 5000: read by this transaction"), "%s",
              folio_errmsg(db));
    /* Disjoint reads and writes of two serializable transactions: both. */
    folio_txn *t2;
    cr_assert_eq(folio_begin(&t1, db, FOLIO_TXN_SERIALIZABLE), FOLIO_OK);
    cr_assert_eq(folio_begin(&t2, db, FOLIO_TXN_SERIALIZABLE), FOLIO_OK);
    cr_assert_eq(set_b(t1, 10, get_b(t1, 10) + 1), FOLIO_OK);
    cr_assert_eq(set_b(t2, 20, get_b(t2, 20) + 1), FOLIO_OK);
    int64_t n1 = count_range(t1, 0, 50);
    cr_assert_eq(n1, 7, "got %lld", (long long)n1); /* (5000 has b = 1) */
    cr_assert_eq(count_range(t2, 600, 650), 6);
    cr_assert_eq(folio_commit(t1), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(t2), FOLIO_OK, "%s", folio_errmsg(db));
    sq_integrity();
    folio_close(db);
    cleanup();
}

/* ---- read committed ---- */

static int64_t count_rows(folio_txn *t)
{
    folio_table *tab;
    folio_cursor *c;
    cr_assert_eq(folio_table_open(&tab, t, "t"), FOLIO_OK);
    cr_assert_eq(folio_cursor_open(&c, tab, NULL), FOLIO_OK);
    int64_t n = 0;
    for (int rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
        n++;
    folio_cursor_close(c);
    return n;
}

static void commit_insert(folio_db *db, int64_t b)
{
    folio_txn *w;
    cr_assert_eq(folio_begin(&w, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(add_row(w, NULL, b), FOLIO_OK);
    cr_assert_eq(folio_commit(w), FOLIO_OK);
}

Test(concurrent, read_committed_readers_see_each_commit)
{
    folio_db *db = open_db("CREATE TABLE t(a INTEGER PRIMARY KEY, b)");
    seed_rows(db, 3);
    folio_txn *rc, *snap;
    cr_assert_eq(folio_begin(&rc, db, FOLIO_TXN_READ | FOLIO_TXN_READ_COMMITTED), FOLIO_OK);
    cr_assert_eq(folio_begin(&snap, db, FOLIO_TXN_READ), FOLIO_OK);
    cr_assert_eq(count_rows(rc), 3);
    cr_assert_eq(count_rows(snap), 3);
    commit_insert(db, 7);
    cr_assert_eq(count_rows(rc), 4);   /* the new commit */
    cr_assert_eq(count_rows(snap), 3); /* its snapshot */
    /* While a cursor is open, the transaction stays where it is. */
    folio_table *tab;
    folio_cursor *held;
    cr_assert_eq(folio_table_open(&tab, rc, "t"), FOLIO_OK);
    cr_assert_eq(folio_cursor_open(&held, tab, NULL), FOLIO_OK);
    commit_insert(db, 8);
    cr_assert_eq(count_rows(rc), 4);
    folio_cursor_close(held);
    cr_assert_eq(count_rows(rc), 5);
    cr_assert_eq(folio_commit(rc), FOLIO_OK);
    cr_assert_eq(folio_commit(snap), FOLIO_OK);
    /* A schema change: the transaction cannot go on. */
    cr_assert_eq(folio_begin(&rc, db, FOLIO_TXN_READ_COMMITTED), FOLIO_OK);
    cr_assert_eq(count_rows(rc), 5);
    folio_txn *w;
    cr_assert_eq(folio_begin(&w, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(w, "CREATE TABLE x(y)"), FOLIO_OK);
    cr_assert_eq(folio_commit(w), FOLIO_OK);
    cr_assert_eq(folio_table_open(&tab, rc, "t"), FOLIO_OK);
    cr_assert_eq(folio_cursor_open(&held, tab, NULL), FOLIO_CONFLICT);
    cr_assert(strstr(folio_errmsg(db), "schema changed"), "%s", folio_errmsg(db));
    cr_assert_eq(folio_rollback(rc), FOLIO_OK);
    cr_assert_eq(folio_begin(&rc, db, FOLIO_TXN_SERIALIZABLE | FOLIO_TXN_READ_COMMITTED),
                 FOLIO_MISUSE);
    folio_close(db);
    cleanup();
}

Test(concurrent, read_committed_concurrent_writers)
{
    folio_db *db = open_db("CREATE TABLE t(a INTEGER PRIMARY KEY, b); CREATE INDEX tb ON t(b)");
    seed_rows(db, 3);
    folio_txn *t, *w;
    unsigned fl = FOLIO_TXN_CONCURRENT | FOLIO_TXN_READ_COMMITTED;
    cr_assert_eq(folio_begin(&t, db, fl), FOLIO_OK);
    cr_assert_eq(set_b(t, 1, 11), FOLIO_OK);
    cr_assert_eq(folio_begin(&w, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(set_b(w, 2, 22), FOLIO_OK);
    cr_assert_eq(add_row(w, NULL, 44), FOLIO_OK);
    cr_assert_eq(folio_commit(w), FOLIO_OK);
    /* Its next reads see that commit, and its own change still. */
    cr_assert_eq(get_b(t, 2), 22);
    cr_assert_eq(get_b(t, 1), 11);
    cr_assert_eq(count_rows(t), 4);
    int64_t id;
    cr_assert_eq(add_row(t, &id, 55), FOLIO_OK);
    cr_assert_eq(id, 5);
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(sq_int("SELECT b FROM t WHERE a = 1"), 11);
    cr_assert_eq(sq_int("SELECT b FROM t WHERE a = 2"), 22);
    cr_assert_eq(sq_int("SELECT count(*) FROM t"), 5);
    /* A row it changed, changed meanwhile: its next call is the conflict. */
    cr_assert_eq(folio_begin(&t, db, fl), FOLIO_OK);
    cr_assert_eq(set_b(t, 3, 33), FOLIO_OK);
    cr_assert_eq(folio_begin(&w, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(set_b(w, 3, 300), FOLIO_OK);
    cr_assert_eq(folio_commit(w), FOLIO_OK);
    cr_assert_eq(add_row(t, NULL, 66), FOLIO_CONFLICT);
    cr_assert(strstr(folio_errmsg(db), "table t, "), "%s", folio_errmsg(db));
    cr_assert(strstr(folio_errmsg(db), "changed or deleted by a commit"), "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(t), FOLIO_CONFLICT);
    cr_assert_eq(sq_int("SELECT b FROM t WHERE a = 3"), 300);
    sq_integrity();
    folio_close(db);
    cleanup();
}

/* ---- max_write_txns ---- */

typedef struct waiter_arg {
    folio_db *db;
    int rc;
    folio_txn *t;
    int order, *next_order;
    pthread_mutex_t *mu;
} waiter_arg;

static void *begin_waiter(void *arg)
{
    waiter_arg *w = arg;
    folio_txn *t;
    int rc = folio_begin(&t, w->db, FOLIO_TXN_CONCURRENT);
    pthread_mutex_lock(w->mu);
    w->rc = rc;
    w->t = t;
    w->order = (*w->next_order)++;
    pthread_mutex_unlock(w->mu);
    return NULL;
}

static int read_next(pthread_mutex_t *mu, int *next)
{
    pthread_mutex_lock(mu);
    int v = *next;
    pthread_mutex_unlock(mu);
    return v;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

Test(concurrent, max_write_txns_waits_in_order_then_busy)
{
    folio_db *db = open_db("CREATE TABLE t(a INTEGER PRIMARY KEY, b)");
    folio_close(db);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.max_write_txns = 2;
    o.busy_timeout_ms = 300;
    cr_assert_eq(folio_open(&db, g_path, &o), FOLIO_OK);
    folio_txn *a, *b, *c, *r;
    cr_assert_eq(folio_begin(&a, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(folio_begin(&b, db, FOLIO_TXN_WRITE), FOLIO_OK);
    /* Readers are not counted. */
    cr_assert_eq(folio_begin(&r, db, FOLIO_TXN_READ), FOLIO_OK);
    cr_assert_eq(folio_commit(r), FOLIO_OK);
    /* A third waits busy_timeout_ms, then FOLIO_BUSY. */
    cr_assert_eq(folio_begin(&c, db, FOLIO_TXN_CONCURRENT), FOLIO_BUSY);
    cr_assert(strstr(folio_errmsg(db), "max_write_txns"), "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(b), FOLIO_OK);
    cr_assert_eq(folio_begin(&c, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    cr_assert_eq(folio_rollback(c), FOLIO_OK);
    cr_assert_eq(folio_rollback(a), FOLIO_OK);
    folio_close(db);
    /* Waiters are let in in arrival order as transactions end. */
    o.busy_timeout_ms = 20000;
    o.max_write_txns = 1;
    cr_assert_eq(folio_open(&db, g_path, &o), FOLIO_OK);
    cr_assert_eq(folio_begin(&a, db, FOLIO_TXN_CONCURRENT), FOLIO_OK);
    enum { NW = 4 };
    pthread_t th[NW];
    waiter_arg w[NW];
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    int next = 0;
    for (int i = 0; i < NW; i++) {
        w[i] = (waiter_arg){db, 1, NULL, -1, &next, &mu};
        pthread_create(&th[i], NULL, begin_waiter, &w[i]);
        sleep_ms(60); /* arrival order: 0, 1, 2, 3 */
    }
    cr_assert_eq(read_next(&mu, &next), 0); /* all wait */
    cr_assert_eq(folio_commit(a), FOLIO_OK);
    for (int i = 0; i < NW; i++) {
        /* Waiter i is in; the others still wait. */
        for (int k = 0; k < 200 && read_next(&mu, &next) <= i; k++)
            sleep_ms(10);
        sleep_ms(30);
        cr_assert_eq(read_next(&mu, &next), i + 1, "after %d ends, the wrong number are in", i);
        pthread_mutex_lock(&mu);
        int order = w[i].order, wrc = w[i].rc;
        pthread_mutex_unlock(&mu);
        cr_assert_eq(order, i, "waiter %d came in %d-th", i, order);
        cr_assert_eq(wrc, FOLIO_OK);
        cr_assert_eq(folio_commit(w[i].t), FOLIO_OK);
    }
    for (int i = 0; i < NW; i++)
        pthread_join(th[i], NULL);
    folio_close(db);
    cleanup();
}
