/*
 * A WAL can hold frames of pages past the database's current end: sqlite3
 * wrote them, then a later commit (here a VACUUM) made the database smaller,
 * and no checkpoint ran. When folio then grows the database again, its new
 * pages go straight to the database file; a checkpoint that copied those old
 * frames back (they are the newest frames of their pages) overwrote folio's
 * new pages with stale ones and corrupted the file. A checkpoint must skip
 * pages past the database size of the last commit, as SQLite's does.
 * libsqlite3 writes the starting files and checks the result.
 */
#include <criterion/criterion.h>
#include <folio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[512], g_path[600];

static void sql(sqlite3 *s, const char *q)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s, q, NULL, NULL, &msg);
    cr_assert_eq(rc, SQLITE_OK, "%s: %s", q, msg ? msg : "?");
}

static int64_t sql_int(sqlite3 *s, const char *q)
{
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(s, q, -1, &st, NULL), SQLITE_OK, "%s", q);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", q);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* A database whose WAL ends with a VACUUM that shrank it from about 80
 * pages to 2, never checkpointed. */
static void make_shrunk_wal(void)
{
    const char *base = getenv("FOLIO_TMP");
    snprintf(g_dir, sizeof g_dir, "%s/ckshrunk-XXXXXX", base && *base ? base : "/tmp");
    cr_assert(mkdtemp(g_dir) != NULL);
    snprintf(g_path, sizeof g_path, "%s/s.db", g_dir);
    sqlite3 *s;
    cr_assert_eq(sqlite3_open(g_path, &s), SQLITE_OK);
    sql(s, "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
           "CREATE TABLE t(a INTEGER PRIMARY KEY, b BLOB);"
           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<300) "
           "INSERT INTO t SELECT i, zeroblob(1000) FROM n;");
    cr_assert_gt(sql_int(s, "PRAGMA page_count"), 70);
    sql(s, "DELETE FROM t; VACUUM;");
    cr_assert_lt(sql_int(s, "PRAGMA page_count"), 4);
    int on = 0;
    cr_assert_eq(sqlite3_db_config(s, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, &on), SQLITE_OK);
    cr_assert_eq(on, 1);
    cr_assert_eq(sqlite3_close(s), SQLITE_OK);
    char wal[620];
    snprintf(wal, sizeof wal, "%s-wal", g_path);
    cr_assert_eq(access(wal, F_OK), 0, "the WAL must survive the close");
}

Test(ckpt_shrunk, stale_frames_past_the_end_are_not_copied)
{
    make_shrunk_wal();
    folio_db *db;
    folio_options o = FOLIO_OPTIONS_INIT;
    cr_assert_eq(folio_open(&db, g_path, &o), FOLIO_OK, "%s", folio_errmsg(db));
    folio_txn *t;
    folio_table *tb;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    static uint8_t blob[1500];
    for (int i = 1; i <= 200; i++) {
        memset(blob, i & 0xff, sizeof blob);
        folio_value v[2] = {{FOLIO_INTEGER, {.i = i}}, {FOLIO_BLOB, {.s = {blob, sizeof blob}}}};
        cr_assert_eq(folio_insert(NULL, tb, v, 2), FOLIO_OK, "%s", folio_errmsg(db));
    }
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_checkpoint(db, FOLIO_CHECKPOINT_TRUNCATE, NULL, NULL), FOLIO_OK, "%s",
                 folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);

    sqlite3 *s;
    cr_assert_eq(sqlite3_open(g_path, &s), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(
        sqlite3_prepare_v2(s, "SELECT integrity_check FROM pragma_integrity_check", -1, &st, NULL),
        SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    cr_assert_eq(sql_int(s, "SELECT count(*) FROM t"), 200);
    cr_assert_eq(sql_int(s, "SELECT count(*) FROM t WHERE length(b)=1500 AND "
                            "hex(substr(b,750,1))=printf('%02X', a & 255)"),
                 200);
    sqlite3_close(s);
    char f[640];
    snprintf(f, sizeof f, "%s-wal", g_path);
    unlink(f);
    snprintf(f, sizeof f, "%s-shm", g_path);
    unlink(f);
    unlink(g_path);
    rmdir(g_dir);
}
