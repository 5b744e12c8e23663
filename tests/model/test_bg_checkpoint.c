/*
 * Automatic checkpoints run on the handle's background thread beside the
 * writer and the readers:
 * - readers in other threads keep their snapshots while the writer commits
 *   and the thread copies frames into the database file;
 * - with nobody holding an old snapshot, the WAL stays within its bound
 *   (PAGER_WAL_BOUND times wal_autocheckpoint frames, plus a checkpoint's
 *   worth and one transaction), so the checkpoints do run and the WAL starts
 *   over; with FOLIO_OPEN_INLINE_CHECKPOINT, within one checkpoint's worth;
 * - closing right after a commit that handed a checkpoint to the thread
 *   waits for it and still leaves one self-contained file.
 * libsqlite3 checks every file: integrity_check and the rows.
 */
#include <criterion/criterion.h>
#include <folio.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"

/* Under ThreadSanitizer the tests run without Criterion's runner
 * (selfrun.h). */
#include "selfrun.h"

#define AUTOCKPT 16
#define PAGE     1024

static void sleep_us(unsigned us)
{
    struct timespec ts = {0, (long)us * 1000L};
    nanosleep(&ts, NULL);
}

static folio_db *open_db(const char *path, unsigned flags)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.page_size = PAGE;
    o.sync = FOLIO_SYNC_NORMAL;
    o.wal_autocheckpoint = AUTOCKPT;
    o.busy_timeout_ms = 5000;
    o.flags |= flags;
    o.mmap_bytes = compat_mmap_option(); /* FOLIO_TEST_MMAP: readers read through a map */
    folio_db *db = NULL;
    T_ASSERT(folio_open(&db, path, &o) == FOLIO_OK, "open: %s", folio_open_errmsg());
    return db;
}

/* Rows are (k, text of 40..240 bytes derived from k), k distinct. */
static void row_text(int64_t k, char *buf, size_t *len)
{
    size_t n = 40 + (size_t)((k * 2654435761u) % 200);
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)('a' + (k + (int64_t)i) % 26);
    *len = n;
}

static int insert_rows(folio_db *db, uint64_t *rng, int64_t *next, int n)
{
    folio_txn *t;
    folio_table *tb;
    int rc = folio_begin(&t, db, FOLIO_TXN_WRITE);
    if (rc != FOLIO_OK)
        return rc;
    if ((rc = folio_table_open(&tb, t, "t")) != FOLIO_OK) {
        folio_rollback(t);
        return rc;
    }
    char buf[256];
    for (int i = 0; i < n; i++) {
        /* Distinct keys in random order: a multiplicative permutation. */
        int64_t k = (int64_t)(((uint64_t)(*next)++ * 1000003u) % 2147483647u) + 1;
        size_t len;
        row_text(k, buf, &len);
        folio_value v[3] = {{FOLIO_INTEGER, {.i = k}},
                            {FOLIO_TEXT, {.s = {buf, len}}},
                            {FOLIO_INTEGER, {.i = (int64_t)compat_below(rng, 1000)}}};
        if ((rc = folio_insert(NULL, tb, v, 3)) != FOLIO_OK) {
            folio_rollback(t);
            return rc;
        }
    }
    return folio_commit(t);
}

typedef struct reader {
    folio_db *db;
    atomic_int *stop;
    int verified;
    char fail[256];
} reader;

/* Count and sum of k, read twice in one snapshot with a pause between. */
static int read_sums(folio_txn *t, int64_t *count, int64_t *sum)
{
    folio_table *tb;
    folio_cursor *c;
    int rc = folio_table_open(&tb, t, "t");
    if (rc == FOLIO_OK)
        rc = folio_cursor_open(&c, tb, NULL);
    if (rc != FOLIO_OK)
        return rc;
    *count = *sum = 0;
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
        folio_value v;
        if ((rc = folio_cursor_column(&v, c, 0)) < 0)
            break;
        (*count)++;
        *sum += v.u.i;
    }
    folio_cursor_close(c);
    return rc == FOLIO_DONE ? FOLIO_OK : rc;
}

static void *reader_main(void *arg)
{
    reader *r = arg;
    while (!atomic_load(r->stop) && !r->fail[0]) {
        folio_txn *t;
        int rc = folio_begin(&t, r->db, FOLIO_TXN_READ);
        if (rc != FOLIO_OK) {
            snprintf(r->fail, sizeof r->fail, "begin: %s", folio_errmsg(r->db));
            break;
        }
        int64_t c1, s1, c2, s2;
        rc = read_sums(t, &c1, &s1);
        if (rc == FOLIO_OK) {
            sleep_us(2000);
            rc = read_sums(t, &c2, &s2);
        }
        if (rc != FOLIO_OK)
            snprintf(r->fail, sizeof r->fail, "read: %d %s", rc, folio_errmsg(r->db));
        else if (c1 != c2 || s1 != s2)
            snprintf(r->fail, sizeof r->fail,
                     "snapshot changed: %" PRId64 " rows then %" PRId64 " (sums %" PRId64
                     ", %" PRId64 ")",
                     c1, c2, s1, s2);
        else if (c1 % 5 != 0)
            snprintf(r->fail, sizeof r->fail, "a snapshot saw part of a transaction: %" PRId64, c1);
        folio_rollback(t);
        r->verified++;
    }
    return NULL;
}

static void check_file(const char *path, int64_t rows)
{
    char *why = compat_integrity(path);
    T_ASSERT(strcmp(why, "ok") == 0, "integrity_check: %s", why);
    free(why);
    sqlite3 *s = compat_sqlite_open(path);
    int64_t n = compat_query_int(s, "SELECT count(*) FROM t");
    T_ASSERT(n == rows, "sqlite3 counts %" PRId64 " rows, %" PRId64 " inserted", n, rows);
    /* Every row's text is the one its key implies. */
    sqlite3_stmt *st = compat_prepare(s, "SELECT a, b FROM t");
    int64_t seen = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char buf[256];
        size_t len;
        row_text(sqlite3_column_int64(st, 0), buf, &len);
        T_ASSERT((size_t)sqlite3_column_bytes(st, 1) == len, "row %" PRId64 ": text length",
                 (int64_t)sqlite3_column_int64(st, 0));
        T_ASSERT(memcmp(sqlite3_column_text(st, 1), buf, len) == 0, "row %" PRId64 ": text",
                 (int64_t)sqlite3_column_int64(st, 0));
        seen++;
    }
    sqlite3_finalize(st);
    T_ASSERT(seen == rows, "read %" PRId64 " rows", seen);
    compat_sqlite_close(s);
}

static void create_table(folio_db *db)
{
    folio_txn *t;
    T_ASSERT(folio_begin(&t, db, FOLIO_TXN_WRITE) == FOLIO_OK, "begin: %s", folio_errmsg(db));
    T_ASSERT(
        folio_exec(t, "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c INTEGER)") == FOLIO_OK &&
            folio_exec(t, "CREATE INDEX t_c ON t(c)") == FOLIO_OK && folio_commit(t) == FOLIO_OK,
        "create: %s", folio_errmsg(db));
}

static uint32_t wal_frames(folio_db *db)
{
    folio_txn *t;
    folio_info info;
    T_ASSERT(folio_begin(&t, db, FOLIO_TXN_READ) == FOLIO_OK, "begin: %s", folio_errmsg(db));
    T_ASSERT(folio_info_get(&info, t) == FOLIO_OK, "info: %s", folio_errmsg(db));
    folio_rollback(t);
    return info.wal_frames;
}

/* Commit `ntxn` transactions of 5 rows; returns the most committed frames
 * the WAL held after any of them but the first `skip`. */
static int64_t write_phase(folio_db *db, uint64_t *rng, int64_t *next, int ntxn, int skip,
                           int64_t *max_txn_frames)
{
    int64_t most = 0, last = wal_frames(db);
    for (int i = 0; i < ntxn; i++) {
        T_ASSERT(insert_rows(db, rng, next, 5) == FOLIO_OK, "insert: %s", folio_errmsg(db));
        int64_t frames = wal_frames(db);
        if (i >= skip && frames > most)
            most = frames;
        if (frames > last && frames - last > *max_txn_frames)
            *max_txn_frames = frames - last;
        last = frames;
    }
    return most;
}

static void test_readers_and_bound(void)
{
    uint64_t rng = compat_seed(0xb9c0);
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "bg.db");
    char *wal = compat_suffix(path, "-wal");
    folio_db *db = open_db(path, 0);
    create_table(db);
    int64_t next = 1, max_txn = 0;

    /* Readers beside the writer and its checkpoints. */
    atomic_int stop = 0;
    enum { NR = 2 };
    reader r[NR];
    pthread_t th[NR];
    for (int i = 0; i < NR; i++) {
        r[i] = (reader){db, &stop, 0, ""};
        T_ASSERT(pthread_create(&th[i], NULL, reader_main, &r[i]) == 0, "pthread_create");
    }
    write_phase(db, &rng, &next, 400, 0, &max_txn);
    atomic_store(&stop, 1);
    for (int i = 0; i < NR; i++) {
        pthread_join(th[i], NULL);
        T_ASSERT(r[i].fail[0] == 0, "reader %d: %s", i, r[i].fail);
        T_ASSERT(r[i].verified > 0, "reader %d verified no snapshot", i);
    }

    /* The writer alone: the background checkpoints keep the WAL bounded.
     * Readers overlapping all the time kept it from starting over (as they
     * would keep SQLite's); it does within two transactions once they are
     * gone. */
    int64_t most = write_phase(db, &rng, &next, 600, 2, &max_txn);
    int64_t bound = 4 * AUTOCKPT + AUTOCKPT + 2 * max_txn;
    fprintf(stderr,
            "bg_checkpoint: WAL at most %" PRId64 " frames (bound %" PRId64
            ", largest transaction %" PRId64 " frames)\n",
            most, bound, max_txn);
    T_ASSERT(most <= bound, "the WAL grew to %" PRId64 " frames", most);
    T_ASSERT(folio_close(db) == FOLIO_OK, "close: %s", folio_open_errmsg());
    T_ASSERT(compat_file_size(wal) == -1, "a clean close removes the WAL");
    check_file(path, next - 1);

    /* The same writes with checkpoints in the committing thread. */
    db = open_db(path, FOLIO_OPEN_INLINE_CHECKPOINT);
    max_txn = 0;
    most = write_phase(db, &rng, &next, 300, 0, &max_txn);
    fprintf(stderr, "bg_checkpoint: inline, WAL at most %" PRId64 " frames\n", most);
    T_ASSERT(most <= AUTOCKPT + 2 * max_txn, "the WAL grew to %" PRId64 " frames", most);
    T_ASSERT(folio_close(db) == FOLIO_OK, "close: %s", folio_open_errmsg());
    check_file(path, next - 1);
    compat_rmtree(dir);
    free(wal);
    free(path);
    free(dir);
}

static void test_close_waits(void)
{
    uint64_t rng = compat_seed(0xb9c1);
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "close.db");
    char *wal = compat_suffix(path, "-wal");
    folio_db *db = open_db(path, 0);
    create_table(db);
    T_ASSERT(folio_close(db) == FOLIO_OK, "close: %s", folio_open_errmsg());
    int64_t next = 1;
    for (int round = 0; round < 30; round++) {
        db = open_db(path, 0);
        /* Enough frames to hand a checkpoint to the thread, then close at once. */
        for (int i = 0; i < 4; i++)
            T_ASSERT(insert_rows(db, &rng, &next, 5) == FOLIO_OK, "insert: %s", folio_errmsg(db));
        T_ASSERT(folio_close(db) == FOLIO_OK, "close: %s", folio_open_errmsg());
        T_ASSERT(compat_file_size(wal) == -1, "round %d: the WAL is left", round);
    }
    check_file(path, next - 1);
    compat_rmtree(dir);
    free(wal);
    free(path);
    free(dir);
}

#ifndef SELF_RUN
Test(bg_checkpoint, readers_keep_snapshots_and_the_wal_stays_bounded, .timeout = 600)
{
    test_readers_and_bound();
}
Test(bg_checkpoint, close_waits_for_the_checkpoint_it_was_handed, .timeout = 300)
{
    test_close_waits();
}
#else
int main(int argc, char **argv)
{
    static const selfrun_test tests[] = {
        {"bg_checkpoint::readers_keep_snapshots_and_the_wal_stays_bounded", test_readers_and_bound},
        {"bg_checkpoint::close_waits_for_the_checkpoint_it_was_handed", test_close_waits},
    };
    return selfrun_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
#endif
