/*
 * folio_metrics and folio_metrics_prometheus: the counters move as the
 * operations that should move them run.
 *
 * - commits_and_rollbacks: N commits count N, a rollback counts one, frames
 *   reach the WAL, a large transaction splits pages, deleting most of it
 *   merges some.
 * - checkpoint: one checkpoint counts one, with pages copied and written.
 * - checkpoint_held_back: a reader's snapshot stops a checkpoint short.
 * - cold_then_warm_reads: a reopened handle (no map) misses, then hits.
 * - busy_wait: a second handle waiting for the first's writer counts it.
 * - threads: commits of several threads on one handle add up exactly (run
 *   under ThreadSanitizer by `make test-tsan`).
 * - prometheus_text: every line parses, every metric has HELP and TYPE; a
 *   short buffer gets the size needed and a NUL-terminated prefix.
 * - misuse: NULL arguments and a wrong size are FOLIO_MISUSE.
 * Under ThreadSanitizer the tests run without Criterion's runner (selfrun.h).
 */
#include "compat.h"
#include "selfrun.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <folio.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static folio_db *open_db(const char *path, size_t mmap_bytes)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.mmap_bytes = mmap_bytes;
    o.busy_timeout_ms = 5000;
    folio_db *db = NULL;
    int rc = folio_open(&db, path, &o);
    T_ASSERT(rc == FOLIO_OK, "open %s: %d", path, rc);
    return db;
}

static folio_metrics_data metrics(folio_db *db)
{
    folio_metrics_data m = FOLIO_METRICS_INIT;
    int rc = folio_metrics(db, &m);
    T_ASSERT(rc == FOLIO_OK, "folio_metrics: %d", rc);
    return m;
}

static void exec(folio_db *db, const char *ddl)
{
    folio_txn *txn;
    T_ASSERT(folio_begin(&txn, db, FOLIO_TXN_WRITE) == FOLIO_OK, "begin");
    T_ASSERT(folio_exec(txn, ddl) == FOLIO_OK, "exec %s: %s", ddl, folio_errmsg(db));
    T_ASSERT(folio_commit(txn) == FOLIO_OK, "commit");
}

/* Insert rows [from, from+n) into t(k, v) in one transaction. */
static void insert_rows(folio_db *db, int64_t from, int n, int commit)
{
    folio_txn *txn;
    folio_table *t;
    T_ASSERT(folio_begin(&txn, db, FOLIO_TXN_WRITE) == FOLIO_OK, "begin");
    T_ASSERT(folio_table_open(&t, txn, "t") == FOLIO_OK, "table");
    static char pad[200];
    memset(pad, 'x', sizeof pad);
    for (int i = 0; i < n; i++) {
        folio_value v[2] = {{.type = FOLIO_INTEGER, .u.i = from + i},
                            {.type = FOLIO_TEXT, .u.s = {pad, sizeof pad}}};
        int64_t rowid;
        T_ASSERT(folio_insert(&rowid, t, v, 2) == FOLIO_OK, "insert: %s", folio_errmsg(db));
    }
    if (commit)
        T_ASSERT(folio_commit(txn) == FOLIO_OK, "commit: %s", folio_errmsg(db));
    else
        T_ASSERT(folio_rollback(txn) == FOLIO_OK, "rollback");
}

static int64_t scan(folio_db *db)
{
    folio_txn *txn;
    folio_table *t;
    folio_cursor *c;
    T_ASSERT(folio_begin(&txn, db, FOLIO_TXN_READ) == FOLIO_OK, "begin");
    T_ASSERT(folio_table_open(&t, txn, "t") == FOLIO_OK, "table");
    T_ASSERT(folio_cursor_open(&c, t, NULL) == FOLIO_OK, "cursor");
    int64_t n = 0;
    for (int rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
        n++;
    folio_cursor_close(c);
    T_ASSERT(folio_commit(txn) == FOLIO_OK, "end");
    return n;
}

static char *fresh_db(folio_db **out)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "m.db");
    free(dir);
    *out = open_db(path, 0);
    exec(*out, "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)");
    return path;
}

static void test_commits_and_rollbacks(void)
{
    folio_db *db;
    char *path = fresh_db(&db);
    folio_metrics_data a = metrics(db);
    for (int i = 0; i < 20; i++)
        insert_rows(db, 1 + i, 1, 1);
    folio_metrics_data b = metrics(db);
    T_EXPECT(b.commits - a.commits == 20, "20 commits counted %llu",
             (unsigned long long)(b.commits - a.commits));
    T_EXPECT(b.wal_frames >= a.wal_frames + 20, "frames %llu -> %llu",
             (unsigned long long)a.wal_frames, (unsigned long long)b.wal_frames);
    T_EXPECT(b.rollbacks == a.rollbacks, "no rollback yet");
    insert_rows(db, 1000, 3, 0);
    folio_metrics_data c = metrics(db);
    T_EXPECT(c.rollbacks == b.rollbacks + 1, "one rollback counted %llu",
             (unsigned long long)(c.rollbacks - b.rollbacks));
    T_EXPECT(c.commits == b.commits, "a rollback is no commit");
    /* 2000 rows of 200 bytes: a hundred leaves at least. */
    insert_rows(db, 100000, 2000, 1);
    folio_metrics_data d = metrics(db);
    T_EXPECT(d.btree_splits >= 50, "splits %llu", (unsigned long long)d.btree_splits);
    folio_txn *txn;
    int64_t n = 0;
    T_ASSERT(folio_begin(&txn, db, FOLIO_TXN_WRITE) == FOLIO_OK, "begin");
    folio_table *t;
    T_ASSERT(folio_table_open(&t, txn, "t") == FOLIO_OK, "table");
    T_ASSERT(folio_delete_where(&n, t, "k % 10 != 0") == FOLIO_OK, "delete: %s", folio_errmsg(db));
    T_ASSERT(folio_commit(txn) == FOLIO_OK, "commit");
    folio_metrics_data e = metrics(db);
    T_EXPECT(e.btree_merges > d.btree_merges, "merges %llu after deleting %lld rows",
             (unsigned long long)e.btree_merges, (long long)n);
    T_EXPECT(e.cache_bytes > 0 && e.cache_bytes_used <= e.cache_bytes, "cache gauges %llu / %llu",
             (unsigned long long)e.cache_bytes_used, (unsigned long long)e.cache_bytes);
    folio_close(db);
    free(path);
}

static void test_checkpoint(void)
{
    folio_db *db;
    char *path = fresh_db(&db);
    insert_rows(db, 1, 500, 1);
    folio_metrics_data a = metrics(db);
    int log = 0, done = 0;
    T_ASSERT(folio_checkpoint(db, FOLIO_CHECKPOINT_TRUNCATE, &log, &done) == FOLIO_OK,
             "checkpoint: %s", folio_errmsg(db));
    folio_metrics_data b = metrics(db);
    T_EXPECT(b.checkpoints == a.checkpoints + 1, "checkpoints %llu -> %llu",
             (unsigned long long)a.checkpoints, (unsigned long long)b.checkpoints);
    T_EXPECT(b.checkpoint_pages > a.checkpoint_pages, "pages copied");
    T_EXPECT(b.pages_written_db >= a.pages_written_db + (b.checkpoint_pages - a.checkpoint_pages),
             "copied pages are written to the file");
    T_EXPECT(b.db_syncs > a.db_syncs, "the file is synced (FOLIO_SYNC_NORMAL)");
    T_EXPECT(b.pages_read_wal > a.pages_read_wal, "frames read from the WAL");
    T_EXPECT(b.checkpoints_short == a.checkpoints_short, "not short");
    folio_close(db);
    free(path);
}

static void test_checkpoint_held_back(void)
{
    folio_db *db;
    char *path = fresh_db(&db);
    insert_rows(db, 1, 10, 1);
    folio_txn *reader;
    folio_table *t;
    T_ASSERT(folio_begin(&reader, db, FOLIO_TXN_READ) == FOLIO_OK, "begin read");
    T_ASSERT(folio_table_open(&t, reader, "t") == FOLIO_OK, "table");
    insert_rows(db, 100, 10, 1);
    folio_metrics_data a = metrics(db);
    T_ASSERT(folio_checkpoint(db, FOLIO_CHECKPOINT_PASSIVE, NULL, NULL) == FOLIO_OK,
             "checkpoint: %s", folio_errmsg(db));
    folio_metrics_data b = metrics(db);
    T_EXPECT(b.checkpoints_short == a.checkpoints_short + 1, "held back: short %llu -> %llu",
             (unsigned long long)a.checkpoints_short, (unsigned long long)b.checkpoints_short);
    folio_rollback(reader);
    folio_close(db);
    free(path);
}

static void test_cold_then_warm_reads(void)
{
    folio_db *db;
    char *path = fresh_db(&db);
    insert_rows(db, 1, 1000, 1);
    folio_close(db);
    db = open_db(path, 0);
    folio_metrics_data a = metrics(db);
    T_EXPECT(scan(db) == 1000, "rows");
    folio_metrics_data b = metrics(db);
    T_EXPECT(b.cache_misses > a.cache_misses, "a cold read misses");
    T_EXPECT(b.pages_read_db + b.pages_read_wal > a.pages_read_db + a.pages_read_wal,
             "and reads pages");
    T_EXPECT(scan(db) == 1000, "rows");
    folio_metrics_data c = metrics(db);
    T_EXPECT(c.cache_hits > b.cache_hits, "a warm read hits: %llu -> %llu",
             (unsigned long long)b.cache_hits, (unsigned long long)c.cache_hits);
    T_EXPECT(c.cache_misses == b.cache_misses, "and does not miss");
    folio_close(db);
    /* With the file mapped, reads of the file's own pages count as mapped. */
    db = open_db(path, (size_t)1 << 30);
    T_EXPECT(scan(db) == 1000, "rows");
    folio_metrics_data d = metrics(db);
    T_EXPECT(d.pages_mapped > 0, "mapped reads counted");
    folio_close(db);
    free(path);
}

typedef struct waiter_arg {
    folio_db *db;
    int rc;
} waiter_arg;

static void *second_writer(void *arg)
{
    waiter_arg *w = arg;
    folio_txn *txn;
    w->rc = folio_begin(&txn, w->db, FOLIO_TXN_WRITE);
    if (w->rc == FOLIO_OK)
        w->rc = folio_commit(txn);
    return NULL;
}

static void test_busy_wait(void)
{
    folio_db *a;
    char *path = fresh_db(&a);
    folio_db *b = open_db(path, 0);
    folio_metrics_data before = metrics(b);
    folio_txn *txn;
    T_ASSERT(folio_begin(&txn, a, FOLIO_TXN_WRITE) == FOLIO_OK, "begin");
    waiter_arg w = {b, -100};
    pthread_t th;
    T_ASSERT(pthread_create(&th, NULL, second_writer, &w) == 0, "thread");
    struct timespec ts = {0, 100 * 1000000};
    nanosleep(&ts, NULL);
    T_ASSERT(folio_commit(txn) == FOLIO_OK, "commit");
    pthread_join(th, NULL);
    T_EXPECT(w.rc == FOLIO_OK, "the second writer went on: %d", w.rc);
    folio_metrics_data after = metrics(b);
    T_EXPECT(after.busy_waits > before.busy_waits, "the wait is counted");
    folio_close(b);
    folio_close(a);
    free(path);
}

enum { NTHREADS = 4, PER_THREAD = 50 };

typedef struct committer {
    folio_db *db;
    int id;
    int ok;
} committer;

static void *commit_loop(void *arg)
{
    committer *c = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        folio_txn *txn;
        folio_table *t;
        if (folio_begin(&txn, c->db, FOLIO_TXN_WRITE) != FOLIO_OK)
            continue;
        folio_value v[2] = {{.type = FOLIO_INTEGER, .u.i = c->id * 100000 + i + 1},
                            {.type = FOLIO_NULL}};
        int64_t rowid;
        if (folio_table_open(&t, txn, "t") != FOLIO_OK || folio_insert(&rowid, t, v, 2) != 0) {
            folio_rollback(txn);
            continue;
        }
        if (folio_commit(txn) == FOLIO_OK)
            c->ok++;
        /* Readers and metrics beside the writers. */
        folio_metrics_data m = FOLIO_METRICS_INIT;
        folio_metrics(c->db, &m);
    }
    return NULL;
}

static void test_threads(void)
{
    folio_db *db;
    char *path = fresh_db(&db);
    folio_metrics_data a = metrics(db);
    pthread_t th[NTHREADS];
    committer cs[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        cs[i] = (committer){db, i, 0};
        T_ASSERT(pthread_create(&th[i], NULL, commit_loop, &cs[i]) == 0, "thread");
    }
    int ok = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        ok += cs[i].ok;
    }
    folio_metrics_data b = metrics(db);
    T_EXPECT(ok == NTHREADS * PER_THREAD, "every commit succeeded: %d", ok);
    T_EXPECT(b.commits - a.commits == (uint64_t)ok, "commits %llu, threads counted %d",
             (unsigned long long)(b.commits - a.commits), ok);
    T_EXPECT(scan(db) == ok, "rows");
    folio_close(db);
    free(path);
}

/* A metric name: [a-zA-Z_:][a-zA-Z0-9_:]*. */
static int name_ok(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
            return 0;
    return 1;
}

static void test_prometheus_text(void)
{
    folio_db *db;
    char *path = fresh_db(&db);
    insert_rows(db, 1, 10, 1);
    int need = folio_metrics_prometheus(db, NULL, 0);
    T_ASSERT(need > 0, "size: %d", need);
    char *buf = malloc((size_t)need + 1);
    T_ASSERT(folio_metrics_prometheus(db, buf, (size_t)need + 1) == need, "same size");
    T_EXPECT(strlen(buf) == (size_t)need, "NUL-terminated at its length");
    int samples = 0;
    char help[64][80], type[64][80];
    int nhelp = 0, ntype = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "# HELP ", 7) == 0) {
            T_ASSERT(nhelp < 64, "too many");
            sscanf(line + 7, "%79s", help[nhelp++]);
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            char kind[16] = "";
            T_ASSERT(ntype < 64, "too many");
            sscanf(line + 7, "%79s %15s", type[ntype++], kind);
            T_EXPECT(strcmp(kind, "counter") == 0 || strcmp(kind, "gauge") == 0, "type %s", kind);
            continue;
        }
        T_EXPECT(line[0] != '#', "unknown comment: %s", line);
        size_t n = strcspn(line, " {");
        T_EXPECT(name_ok(line, n), "name in: %s", line);
        T_EXPECT(strncmp(line, "folio_", 6) == 0, "prefix: %s", line);
        const char *value = strchr(line, ' ');
        T_ASSERT(value, "no value: %s", line);
        char *end;
        strtod(value + 1, &end);
        T_EXPECT(end != value + 1 && *end == 0, "value: %s", line);
        int described = 0;
        for (int i = 0; i < nhelp; i++)
            described += strlen(help[i]) == n && strncmp(help[i], line, n) == 0;
        for (int i = 0; i < ntype; i++)
            described += strlen(type[i]) == n && strncmp(type[i], line, n) == 0;
        T_EXPECT(described == 2, "HELP and TYPE for %s", line);
        samples++;
    }
    T_EXPECT(samples >= 20, "samples: %d", samples);
    free(buf);
    /* Too small: the size needed, and a NUL-terminated prefix. */
    char small[40];
    memset(small, '#', sizeof small);
    T_EXPECT(folio_metrics_prometheus(db, small, sizeof small) >= need, "needed size");
    T_EXPECT(small[sizeof small - 1] == 0, "NUL at the end");
    T_EXPECT(strncmp(small, "# HELP folio_", 13) == 0, "a prefix: %s", small);
    folio_close(db);
    free(path);
}

static void test_misuse(void)
{
    folio_db *db;
    char *path = fresh_db(&db);
    folio_metrics_data m = FOLIO_METRICS_INIT;
    T_EXPECT(folio_metrics(NULL, &m) == FOLIO_MISUSE, "NULL db");
    T_EXPECT(folio_metrics(db, NULL) == FOLIO_MISUSE, "NULL out");
    m.size = 0;
    T_EXPECT(folio_metrics(db, &m) == FOLIO_MISUSE, "size 0");
    m.size = 12;
    T_EXPECT(folio_metrics(db, &m) == FOLIO_MISUSE, "size 12");
    /* A larger struct (a later folio.h): the tail is left alone. */
    struct {
        folio_metrics_data m;
        uint64_t later;
    } big;
    memset(&big, 0xab, sizeof big);
    big.m.size = sizeof big;
    T_EXPECT(folio_metrics(db, &big.m) == FOLIO_OK, "larger size");
    T_EXPECT(big.m.size == sizeof big && big.later == 0xababababababababull, "tail untouched");
    T_EXPECT(folio_metrics_prometheus(NULL, NULL, 0) == FOLIO_MISUSE, "NULL db");
    T_EXPECT(folio_metrics_prometheus(db, NULL, 10) == FOLIO_MISUSE, "NULL buf");
    folio_close(db);
    free(path);
}

#ifndef SELF_RUN
Test(metrics, commits_and_rollbacks)
{
    test_commits_and_rollbacks();
}
Test(metrics, checkpoint)
{
    test_checkpoint();
}
Test(metrics, checkpoint_held_back)
{
    test_checkpoint_held_back();
}
Test(metrics, cold_then_warm_reads)
{
    test_cold_then_warm_reads();
}
Test(metrics, busy_wait)
{
    test_busy_wait();
}
Test(metrics, threads)
{
    test_threads();
}
Test(metrics, prometheus_text)
{
    test_prometheus_text();
}
Test(metrics, misuse)
{
    test_misuse();
}
#else
int main(int argc, char **argv)
{
    static const selfrun_test tests[] = {
        {"metrics::commits_and_rollbacks", test_commits_and_rollbacks},
        {"metrics::checkpoint", test_checkpoint},
        {"metrics::checkpoint_held_back", test_checkpoint_held_back},
        {"metrics::cold_then_warm_reads", test_cold_then_warm_reads},
        {"metrics::busy_wait", test_busy_wait},
        {"metrics::threads", test_threads},
        {"metrics::prometheus_text", test_prometheus_text},
        {"metrics::misuse", test_misuse},
    };
    return selfrun_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
#endif
