/*
 * Concurrent transactions from threads (FOLIO_TXN_CONCURRENT): bank transfers
 * of 8 threads with readers checking the total in their snapshots; the file
 * is checked by libsqlite3 at the end. Its own binary so that make test-tsan
 * runs it under ThreadSanitizer. FOLIO_SEED replays a run.
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

static int add_row(folio_txn *t, int64_t *rowid, int64_t b)
{
    folio_table *tab;
    int rc = folio_table_open(&tab, t, "t");
    if (rc < 0)
        return rc;
    folio_value v[2] = {{.type = FOLIO_NULL}, I(b)};
    return folio_insert(rowid, tab, v, 2);
}

/* ---- threads: bank transfers ---- */

#define ACCOUNTS 64
#define START    1000

typedef struct bank {
    folio_db *db;
    unsigned seed;
    int transfers;
    int conflicts, commits, reads;
    int bad_total;
} bank;

static int transfer(folio_db *db, unsigned *rs)
{
    int64_t from = 1 + rand_r(rs) % ACCOUNTS, to = 1 + rand_r(rs) % ACCOUNTS;
    int64_t amount = rand_r(rs) % 50;
    folio_txn *t;
    int rc = folio_begin(&t, db, FOLIO_TXN_CONCURRENT);
    if (rc < 0)
        return rc;
    folio_table *tab;
    folio_cursor *c;
    if ((rc = folio_table_open(&tab, t, "t")) < 0 || (rc = folio_cursor_open(&c, tab, NULL)) < 0) {
        folio_rollback(t);
        return rc;
    }
    int64_t bal[2];
    int64_t ids[2] = {from, to};
    for (int k = 0; k < 2; k++) {
        folio_value v;
        if (folio_cursor_seek_rowid(c, ids[k]) != FOLIO_ROW || folio_cursor_column(&v, c, 1) < 0) {
            folio_cursor_close(c);
            folio_rollback(t);
            return FOLIO_ERROR;
        }
        bal[k] = v.u.i;
    }
    folio_cursor_close(c);
    if (from != to) {
        folio_value a[2] = {I(from), I(bal[0] - amount)}, b[2] = {I(to), I(bal[1] + amount)};
        if ((rc = folio_update(tab, from, a, 2)) < 0 || (rc = folio_update(tab, to, b, 2)) < 0) {
            folio_rollback(t);
            return rc;
        }
    }
    /* An append to a log table as well: never a conflict. */
    folio_table *lg;
    folio_value l[3] = {{.type = FOLIO_NULL}, I(from), I(amount)};
    if ((rc = folio_table_open(&lg, t, "log")) < 0 || (rc = folio_insert(NULL, lg, l, 3)) < 0) {
        folio_rollback(t);
        return rc;
    }
    return folio_commit(t);
}

static void *bank_thread(void *arg)
{
    bank *b = arg;
    unsigned rs = b->seed;
    for (int i = 0; i < b->transfers; i++) {
        if (i % 10 == 0) {
            /* A reader: the total is the same in every snapshot. */
            folio_txn *r;
            if (folio_begin(&r, b->db, FOLIO_TXN_READ) == FOLIO_OK) {
                folio_table *tab;
                folio_cursor *c;
                int64_t sum = 0;
                if (folio_table_open(&tab, r, "t") == FOLIO_OK &&
                    folio_cursor_open(&c, tab, NULL) == FOLIO_OK) {
                    for (int rc = folio_cursor_first(c); rc == FOLIO_ROW;
                         rc = folio_cursor_next(c)) {
                        folio_value v;
                        folio_cursor_column(&v, c, 1);
                        sum += v.u.i;
                    }
                    folio_cursor_close(c);
                }
                folio_commit(r);
                b->reads++;
                if (sum != (int64_t)ACCOUNTS * START) {
                    fprintf(stderr, "reader: total %lld\n", (long long)sum);
                    b->bad_total++;
                }
            }
        }
        int rc = transfer(b->db, &rs);
        if (rc == FOLIO_CONFLICT)
            b->conflicts++;
        else if (rc == FOLIO_OK)
            b->commits++;
        else {
            fprintf(stderr, "transfer: %d %s\n", rc, folio_errmsg(b->db));
            b->bad_total += 1000; /* any other failure fails the test */
        }
    }
    return NULL;
}

Test(conc_threads, bank, .timeout = 300)
{
    unsigned seed = (unsigned)time(NULL);
    if (getenv("FOLIO_SEED"))
        seed = (unsigned)strtoul(getenv("FOLIO_SEED"), NULL, 10);
    printf("concurrent bank: seed %u (FOLIO_SEED)\n", seed);
    fflush(stdout);
    folio_db *db = open_db("CREATE TABLE t(a INTEGER PRIMARY KEY, b INTEGER NOT NULL); "
                           "CREATE TABLE log(id INTEGER PRIMARY KEY, acct, amount); "
                           "CREATE INDEX log_acct ON log(acct)");
    folio_txn *w;
    cr_assert_eq(folio_begin(&w, db, FOLIO_TXN_WRITE), FOLIO_OK);
    for (int i = 0; i < ACCOUNTS; i++)
        cr_assert_eq(add_row(w, NULL, START), FOLIO_OK);
    cr_assert_eq(folio_commit(w), FOLIO_OK);
    enum { NT = 8 };
    pthread_t th[NT];
    bank b[NT];
    for (int i = 0; i < NT; i++) {
        b[i] = (bank){db, seed * 31u + (unsigned)i, 300, 0, 0, 0, 0};
        pthread_create(&th[i], NULL, bank_thread, &b[i]);
    }
    int commits = 0, conflicts = 0;
    for (int i = 0; i < NT; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(b[i].bad_total, 0, "thread %d saw a wrong total or failed", i);
        commits += b[i].commits;
        conflicts += b[i].conflicts;
    }
    printf("concurrent bank: %d commits, %d conflicts\n", commits, conflicts);
    cr_assert_gt(commits, 0);
    cr_assert_eq(sq_int("SELECT sum(b) FROM t"), (int64_t)ACCOUNTS * START);
    cr_assert_eq(sq_int("SELECT count(*) FROM log"), commits);
    sq_integrity();
    folio_close(db);
    cleanup();
}
