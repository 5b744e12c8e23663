/*
 * test_kill.c - a process of either engine killed with SIGKILL while it
 * holds SQLite's locks on a shared database; the others go on.
 *
 * folio killed: a child loops over long write transactions that hold WRITE
 * a while, bursts of small commits, transactions larger than its cache
 * (they spill frames into the WAL before the commit), rollbacks and
 * checkpoints of every mode, with automatic checkpoints (background or
 * inline); before each commit it records "T first last" and after it
 * returns "A first last" (one write(2) each). sqlite3 writer processes
 * insert meanwhile and record their commits the same way. The parent kills
 * the folio child after a random delay. Afterwards: the sqlite3 writers
 * carried on and ended on their own within a generous bound with every
 * commit of theirs in the file; a new folio handle and libsqlite3 open the
 * file; every commit the folio child acknowledged is there, and of the
 * transaction in flight either all rows or none; integrity_check and
 * folio_check are clean. Several rounds on the same file.
 *
 * sqlite3 killed: a sqlite3 connection in BEGIN IMMEDIATE (holding WRITE,
 * with or without frames spilled into the WAL) is killed; folio's next
 * write transaction succeeds, also one already waiting for the lock when
 * the kill comes; the killed connection's rows are nowhere. A killed
 * sqlite3 reader no longer holds back folio's TRUNCATE checkpoint.
 *
 * Environment: FOLIO_SEED (printed as seed=N), FOLIO_SOAK=1 (40 rounds
 * instead of 5).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <criterion/criterion.h>
#include <fcntl.h>
#include <folio.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "share_util.h"

#define PAD_MAX     2500
#define SQ_WRITERS  2
#define SQ_BOUND_MS 60000u /* a sqlite3 writer must be done this long after its deadline */

TestSuite(share_kill, .fini = share_fini, .timeout = 1800);

typedef struct job {
    int writer;
    uint64_t seed;
    uint64_t deadline_ms;
    const char *path;
    char ack_path[512];
} job;

static void fill_pad(char *buf, size_t n, int64_t k)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)('A' + (k * 31 + (int64_t)i) % 26);
}

/* ---- the folio child that gets killed ----------------------------------------- */

static void say(const job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const job *j, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "writer %d (pid %d, seed=%" PRIu64 "): %s\n", j->writer, (int)getpid(), j->seed,
            msg);
}

/* One transaction of `n` rows; hold WRITE `hold_us` before the commit.
 * Returns 0, 1 when the begin was refused (BUSY), or -1. */
static int folio_txn_rows(const job *j, folio_db *db, int ack, uint64_t *rng, int64_t seq, int n,
                          unsigned hold_us, int rollback)
{
    folio_txn *t;
    int rc = folio_begin(&t, db, FOLIO_TXN_WRITE);
    if (rc == FOLIO_BUSY)
        return 1;
    if (rc != FOLIO_OK) {
        say(j, "begin: %d %s", rc, folio_errmsg(db));
        return -1;
    }
    folio_table *tb;
    if ((rc = folio_table_open(&tb, t, "t")) < 0) {
        say(j, "open t: %d %s", rc, folio_errmsg(db));
        folio_rollback(t);
        return -1;
    }
    char pad[PAD_MAX];
    for (int k = 0; k < n; k++) {
        size_t len = compat_below(rng, 6) == 0 ? PAD_MAX : compat_below(rng, 200);
        fill_pad(pad, len, seq + k);
        folio_value row[4] = {{FOLIO_NULL, {.i = 0}},
                              {FOLIO_INTEGER, {.i = j->writer}},
                              {FOLIO_INTEGER, {.i = seq + k}},
                              {FOLIO_TEXT, {.s = {pad, len}}}};
        if ((rc = folio_insert(NULL, tb, row, 4)) < 0) {
            say(j, "insert: %d %s", rc, folio_errmsg(db));
            folio_rollback(t);
            return -1;
        }
    }
    if (hold_us)
        share_sleep_us(hold_us);
    if (rollback) {
        share_log(ack, "R %" PRId64 " %" PRId64, seq, seq + n - 1);
        return folio_rollback(t) == FOLIO_OK ? 0 : -1;
    }
    share_log(ack, "T %" PRId64 " %" PRId64, seq, seq + n - 1);
    rc = folio_commit(t);
    if (rc != FOLIO_OK) {
        say(j, "commit: %d %s", rc, folio_errmsg(db));
        return -1;
    }
    share_log(ack, "A %" PRId64 " %" PRId64, seq, seq + n - 1);
    return 0;
}

static int folio_victim(void *arg)
{
    const job *j = arg;
    uint64_t rng = j->seed;
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = compat_below(&rng, 2) ? FOLIO_OPEN_INLINE_CHECKPOINT : 0;
    o.busy_timeout_ms = 10000;
    static const unsigned autockpt[] = {0, 20, 200};
    o.wal_autocheckpoint = autockpt[compat_below(&rng, 3)];
    o.sync = (int)compat_below(&rng, 3);
    if (compat_below(&rng, 2))
        o.cache_bytes = 64 * 1024;
    folio_db *db;
    int rc = folio_open(&db, j->path, &o);
    if (rc != FOLIO_OK) {
        say(j, "open: %d %s", rc, folio_open_errmsg());
        return 2;
    }
    int ack = share_log_open(j->ack_path);
    if (ack < 0)
        return 3;
    int64_t seq = 0;
    /* Until killed (the alarm of share_util bounds it otherwise). */
    for (;;) {
        uint64_t what = compat_below(&rng, 10);
        int n = 1, rollback = compat_below(&rng, 12) == 0;
        unsigned hold = 0;
        if (what < 3) { /* long transaction holding WRITE */
            n = 50 + (int)compat_below(&rng, 250);
            hold = (unsigned)compat_below(&rng, 30000);
        } else if (what < 4) { /* larger than a small cache */
            n = 400 + (int)compat_below(&rng, 400);
        } else if (what < 6) {
            int ck = (int)compat_below(&rng, 4), n_log, n_done;
            rc = folio_checkpoint(db, ck, &n_log, &n_done);
            if (rc != FOLIO_OK && rc != FOLIO_BUSY) {
                say(j, "checkpoint %d: %d %s", ck, rc, folio_errmsg(db));
                return 4;
            }
            continue;
        }
        int burst = what >= 6 ? 10 : 1;
        for (int b = 0; b < burst; b++) {
            rc = folio_txn_rows(j, db, ack, &rng, seq, n, hold, rollback);
            if (rc < 0)
                return 5;
            if (rc == 0)
                seq += n;
        }
    }
}

/* ---- sqlite3 writers that must carry on --------------------------------------------- */

static int sqlite_writer(void *arg)
{
    const job *j = arg;
    uint64_t rng = j->seed;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(j->path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return 2;
    sqlite3_busy_timeout(db, 10000);
    sqlite3_exec(db, compat_below(&rng, 2) ? "PRAGMA synchronous=OFF" : "PRAGMA synchronous=NORMAL",
                 NULL, NULL, NULL);
    sqlite3_stmt *ins;
    if (sqlite3_prepare_v2(db, "INSERT INTO t(writer, seq, pad) VALUES(?1, ?2, ?3)", -1, &ins,
                           NULL) != SQLITE_OK)
        return 3;
    int ack = share_log_open(j->ack_path);
    if (ack < 0)
        return 4;
    int64_t seq = 0;
    int commits = 0, busy = 0, rc = 0;
    char pad[PAD_MAX];
    uint64_t last = share_now_ms();
    while (share_now_ms() < j->deadline_ms && rc == 0) {
        if (share_now_ms() - last > 30000) {
            say(j, "no commit for 30 s (%d refused begins)", busy);
            rc = 1;
            break;
        }
        int erc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (erc == SQLITE_BUSY) {
            busy++;
            continue;
        }
        if (erc != SQLITE_OK) {
            say(j, "BEGIN IMMEDIATE: %d %s", sqlite3_extended_errcode(db), sqlite3_errmsg(db));
            rc = 1;
            break;
        }
        int n = 1 + (int)compat_below(&rng, 5);
        for (int k = 0; k < n && rc == 0; k++) {
            size_t len = compat_below(&rng, 8) == 0 ? PAD_MAX : compat_below(&rng, 100);
            fill_pad(pad, len, seq + k);
            sqlite3_bind_int(ins, 1, j->writer);
            sqlite3_bind_int64(ins, 2, seq + k);
            sqlite3_bind_text(ins, 3, pad, (int)len, SQLITE_TRANSIENT);
            if (sqlite3_step(ins) != SQLITE_DONE) {
                say(j, "insert: %d %s", sqlite3_extended_errcode(db), sqlite3_errmsg(db));
                rc = 1;
            }
            sqlite3_reset(ins);
        }
        if (rc)
            break;
        share_log(ack, "T %" PRId64 " %" PRId64, seq, seq + n - 1);
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            say(j, "COMMIT: %d %s", sqlite3_extended_errcode(db), sqlite3_errmsg(db));
            rc = 1;
            break;
        }
        share_log(ack, "A %" PRId64 " %" PRId64, seq, seq + n - 1);
        seq += n;
        commits++;
        last = share_now_ms();
        if (compat_below(&rng, 50) == 0) {
            sqlite3_busy_timeout(db, 200);
            sqlite3_exec(db,
                         compat_below(&rng, 2) ? "PRAGMA wal_checkpoint(PASSIVE)"
                                               : "PRAGMA wal_checkpoint(TRUNCATE)",
                         NULL, NULL, NULL);
            sqlite3_busy_timeout(db, 10000);
        }
        share_sleep_us((unsigned)compat_below(&rng, 2000));
    }
    sqlite3_finalize(ins);
    if (sqlite3_close(db) != SQLITE_OK)
        rc = 1;
    close(ack);
    fprintf(stderr, "sqlite3 writer %d: %d commits, %d refused begins\n", j->writer, commits, busy);
    return rc;
}

/* ---- checking -------------------------------------------------------------------- */

/* A writer's record: per seq 1 acknowledged, 2 in flight (T without A), 3
 * rolled back. */
typedef struct acks {
    uint8_t *st;
    int64_t n;
    int64_t flight_first, flight_last; /* -1: none */
    int commits;
} acks;

static acks read_acks(const char *file)
{
    acks a = {calloc(1024, 1), 0, -1, -1, 0};
    int64_t cap = 1024;
    size_t len = 0;
    if (compat_file_size(file) <= 0)
        return a; /* killed before its first record */
    uint8_t *text = compat_read_file(file, &len);
    char *s = (char *)text, *end = s + len;
    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        cr_assert_not_null(nl, "%s: torn record", file);
        char kind;
        int64_t x, y;
        cr_assert_eq(sscanf(s, "%c %" SCNd64 " %" SCNd64, &kind, &x, &y), 3, "%s: bad record",
                     file);
        while (y + 1 > cap) {
            a.st = realloc(a.st, (size_t)cap * 2);
            memset(a.st + cap, 0, (size_t)cap);
            cap *= 2;
        }
        uint8_t v = kind == 'A' ? 1 : kind == 'T' ? 2 : 3;
        for (int64_t q = x; q <= y; q++)
            a.st[q] = v;
        if (kind == 'T') {
            a.flight_first = x;
            a.flight_last = y;
        } else if (kind == 'A') {
            a.flight_first = a.flight_last = -1;
            a.commits++;
        }
        if (y + 1 > a.n)
            a.n = y + 1;
        s = nl + 1;
    }
    free(text);
    return a;
}

/* The rows of `writer` in the file against its records: every acknowledged
 * seq present, nothing else but (all of) the transaction in flight. With
 * `exact`, nothing may have been in flight. Returns 0 when nothing was in
 * flight, 1 when the transaction in flight is absent, 2 when present. */
static int check_writer(sqlite3 *s, const char *file, int writer, int exact)
{
    acks a = read_acks(file);
    sqlite3_stmt *q = compat_prepare(s, "SELECT seq FROM t WHERE writer = ?1 ORDER BY seq");
    sqlite3_bind_int(q, 1, writer);
    int64_t prev = -1, flight_rows = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(q, 0);
        cr_assert(seq > prev, "writer %d: seq %lld twice", writer, (long long)seq);
        uint8_t v = seq >= 0 && seq < a.n ? a.st[seq] : 0;
        cr_assert(v == 1 || (v == 2 && !exact), "writer %d: seq %lld in the file, but it was %s",
                  writer, (long long)seq,
                  v == 3   ? "rolled back"
                  : v == 2 ? "in flight"
                           : "never written");
        if (v == 2) {
            cr_assert(seq >= a.flight_first && seq <= a.flight_last,
                      "writer %d: seq %lld of a transaction whose commit failed", writer,
                      (long long)seq);
            flight_rows++;
        }
        for (int64_t k = prev + 1; k < seq; k++)
            cr_assert(a.st[k] != 1, "writer %d: acknowledged seq %lld is lost", writer,
                      (long long)k);
        prev = seq;
    }
    sqlite3_finalize(q);
    for (int64_t k = prev + 1; k < a.n; k++)
        cr_assert(a.st[k] != 1, "writer %d: acknowledged seq %lld is lost", writer, (long long)k);
    if (a.flight_first >= 0)
        cr_assert(flight_rows == 0 || flight_rows == a.flight_last - a.flight_first + 1,
                  "writer %d: %lld of the %lld rows of the transaction in flight", writer,
                  (long long)flight_rows, (long long)(a.flight_last - a.flight_first + 1));
    free(a.st);
    return a.flight_first < 0 ? 0 : flight_rows ? 2 : 1;
}

static void make_db(const char *path)
{
    folio_db *db = share_folio_open(path, 5000, 1000);
    share_folio_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, "
                         "seq INTEGER NOT NULL, pad TEXT)");
    share_folio_exec(db, "CREATE UNIQUE INDEX t_ws ON t(writer, seq)");
    cr_assert_eq(folio_close(db), FOLIO_OK);
}

Test(share_kill, folio_killed_while_sqlite3_writes)
{
    uint64_t seed = compat_seed(7);
    uint64_t rng = seed;
    int rounds = share_soak() ? 40 : 5;
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "k.db");
    make_db(path);
    job sq[SQ_WRITERS];
    int nsq = 0;
    for (int r = 0; r < rounds; r++) {
        job victim = {.writer = r, .seed = compat_rand(&rng), .path = path};
        snprintf(victim.ack_path, sizeof victim.ack_path, "%s/ack-folio-%d", dir, r);
        unsigned delay = 50 + (unsigned)compat_below(&rng, 600);
        uint64_t deadline = share_now_ms() + delay + 400;
        /* Mostly with sqlite3 writers carrying on; now and then none, so
         * that the next folio handle is the one to find the mess. */
        nsq = compat_below(&rng, 4) == 0 ? 0 : 1 + (int)compat_below(&rng, SQ_WRITERS);
        pid_t sq_pid[SQ_WRITERS];
        for (int k = 0; k < nsq; k++) {
            sq[k] = (job){.writer = 100 + r * SQ_WRITERS + k,
                          .seed = compat_rand(&rng),
                          .deadline_ms = deadline,
                          .path = path};
            snprintf(sq[k].ack_path, sizeof sq[k].ack_path, "%s/ack-sqlite-%d", dir, sq[k].writer);
            sq_pid[k] = share_spawn(sqlite_writer, &sq[k], NULL, 0);
        }
        pid_t vpid = share_spawn(folio_victim, &victim, NULL, 0);
        share_sleep_ms(delay);
        int st = share_kill(vpid);
        cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
                  "round %d: the folio child ended before the kill: %s (seed=%llu)", r,
                  share_status_str(st), (unsigned long long)seed);
        for (int k = 0; k < nsq; k++) {
            uint64_t now = share_now_ms();
            uint64_t until = deadline + SQ_BOUND_MS;
            int ended = share_wait(sq_pid[k], now < until ? (unsigned)(until - now) : 0, &st);
            cr_assert(ended, "round %d: sqlite3 writer %d hangs after the kill (seed=%llu)", r,
                      sq[k].writer, (unsigned long long)seed);
            cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                      "round %d: sqlite3 writer %d: %s (seed=%llu)", r, sq[k].writer,
                      share_status_str(st), (unsigned long long)seed);
        }

        /* A new folio handle: the file is whole and holds every commit. */
        folio_db *db = share_folio_open(path, 10000, 1000);
        char *msg = share_folio_check(db);
        cr_assert_str_eq(msg, "ok", "round %d: folio_check: %s (seed=%llu)", r, msg,
                         (unsigned long long)seed);
        free(msg);
        sqlite3 *s = compat_sqlite_open_ro(path);
        for (int k = 0; k < nsq; k++)
            check_writer(s, sq[k].ack_path, sq[k].writer, 1);
        for (int v = 0; v <= r; v++) {
            char ack[600];
            snprintf(ack, sizeof ack, "%s/ack-folio-%d", dir, v);
            int flight = check_writer(s, ack, v, 0);
            if (v == r) {
                acks a = read_acks(ack);
                fprintf(stderr, "round %d: folio child killed after %u ms, %d commits, %s\n", r,
                        delay, a.commits,
                        flight == 0   ? "no commit in flight"
                        : flight == 1 ? "the commit in flight is not in the file"
                                      : "the commit in flight is in the file");
                free(a.st);
            }
        }
        compat_sqlite_close(s);
        cr_assert_eq(folio_close(db), FOLIO_OK);
        char *why = compat_integrity(path);
        cr_assert_str_eq(why, "ok", "round %d: integrity_check: %s (seed=%llu)", r, why,
                         (unsigned long long)seed);
        free(why);
    }
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- sqlite3 killed -------------------------------------------------------------------- */

static int64_t folio_rows(folio_db *db, int64_t writer)
{
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_READ), FOLIO_OK, "%s", folio_errmsg(db));
    folio_table *tb;
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, tb, NULL), FOLIO_OK);
    int64_t n = 0;
    for (int rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
        folio_value v;
        cr_assert_eq(folio_cursor_column(&v, c, 1), FOLIO_OK);
        n += v.u.i == writer;
    }
    folio_cursor_close(c);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    return n;
}

static void folio_insert_row(folio_txn *t, int writer, int64_t seq)
{
    folio_table *tb;
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    folio_value row[4] = {{FOLIO_NULL, {.i = 0}},
                          {FOLIO_INTEGER, {.i = writer}},
                          {FOLIO_INTEGER, {.i = seq}},
                          {FOLIO_TEXT, {.s = {"folio", 5}}}};
    cr_assert_eq(folio_insert(NULL, tb, row, 4), FOLIO_OK);
}

typedef struct waiter {
    folio_db *db;
    int rc;
    folio_txn *txn;
} waiter;

static void *begin_write(void *arg)
{
    waiter *w = arg;
    w->rc = folio_begin(&w->txn, w->db, FOLIO_TXN_WRITE);
    return NULL;
}

Test(share_kill, sqlite3_killed_holding_write)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "w.db");
    char *shm = compat_suffix(path, "-shm");
    char *wal = compat_suffix(path, "-wal");
    make_db(path);
    folio_db *db = share_folio_open(path, 10000, 0);
    int64_t folio_seq = 0;
    /* 0: a small insert; 1: spilled frames in the WAL; 2: folio already
     * waiting for WRITE when the kill comes. */
    for (int variant = 0; variant < 3; variant++) {
        share_sql s;
        share_sql_start(&s, path, 1000);
        char out[256];
        int64_t wal_before = compat_file_size(wal);
        int rc = share_sql_run(
            &s, out, sizeof out,
            "PRAGMA cache_size=%d; BEGIN IMMEDIATE;" COMPAT_SERIES(
                1, 3000) "INSERT INTO t(writer, seq, pad) SELECT 999, value, "
                         "printf('%%0*d', %d, value) FROM series WHERE value <= %d",
            variant == 1 ? 5 : 2000, variant == 1 ? 400 : 10, variant == 1 ? 3000 : 3);
        cr_assert_eq(rc, SQLITE_OK, "%s", out);
        share_probe q = {120, 1, F_RDLCK, 0, 0};
        share_probe_locks(shm, &q, 1);
        cr_assert_eq(q.found, F_WRLCK, "the sqlite3 child holds no WRITE");
        cr_assert_eq(q.pid, (int)s.pid);
        if (variant == 1)
            cr_assert_gt(compat_file_size(wal), wal_before + 100000,
                         "the large transaction spilled nothing into the WAL");

        folio_txn *t = NULL;
        if (variant == 2) {
            waiter w = {db, 0, NULL};
            pthread_t th;
            cr_assert_eq(pthread_create(&th, NULL, begin_write, &w), 0);
            share_sleep_ms(300); /* folio is waiting for WRITE now (timeout 10 s) */
            share_sql_kill(&s);
            cr_assert_eq(pthread_join(th, NULL), 0);
            cr_assert_eq(w.rc, FOLIO_OK, "folio's waiting writer after the kill: %d %s", w.rc,
                         folio_errmsg(db));
            t = w.txn;
        } else {
            share_sql_kill(&s);
            cr_assert_eq(share_lock_at(shm, 120, 1), F_UNLCK, "WRITE outlived its process");
            rc = folio_begin(&t, db, FOLIO_TXN_WRITE);
            cr_assert_eq(rc, FOLIO_OK, "folio's writer after the kill: %d %s", rc,
                         folio_errmsg(db));
        }
        folio_insert_row(t, 1, folio_seq++);
        cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(folio_rows(db, 999), 0, "rows of the killed transaction are visible");
        cr_assert_eq(folio_rows(db, 1), folio_seq);

        share_sql_start(&s, path, 1000);
        cr_assert_eq(share_sql_int(&s, "SELECT count(*) FROM t WHERE writer = 999"), 0);
        cr_assert_eq(share_sql_int(&s, "SELECT count(*) FROM t WHERE writer = 1"), folio_seq);
        cr_assert_eq(
            share_sql_run(&s, out, sizeof out, "INSERT INTO t(writer, seq) VALUES(2, %d)", variant),
            SQLITE_OK, "%s", out);
        share_sql_stop(&s);
    }

    /* A killed reader's snapshot holds nothing back. */
    share_sql s;
    share_sql_start(&s, path, 1000);
    char out[256];
    cr_assert_eq(share_sql_run(&s, out, sizeof out, "BEGIN; SELECT count(*) FROM t"), SQLITE_OK,
                 "%s", out);
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    folio_insert_row(t, 1, folio_seq++);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    share_sql_kill(&s);
    int n_log, n_done;
    int rc = folio_checkpoint(db, FOLIO_CHECKPOINT_TRUNCATE, &n_log, &n_done);
    cr_assert_eq(rc, FOLIO_OK, "TRUNCATE after the reader was killed: %d %s", rc, folio_errmsg(db));
    cr_assert_eq(compat_file_size(wal), 0);

    char *msg = share_folio_check(db);
    cr_assert_str_eq(msg, "ok");
    free(msg);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok");
    free(why);
    sqlite3 *sq = compat_sqlite_open_ro(path);
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM t WHERE writer = 999"), 0);
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM t WHERE writer = 1"), folio_seq);
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM t WHERE writer = 2"), 3);
    compat_sqlite_close(sq);
    compat_rmtree(dir);
    free(wal);
    free(shm);
    free(path);
    free(dir);
}
