/*
 * test_interop.c - folio processes and libsqlite3 processes sharing one
 * database through SQLite's WAL protocol, all at once, at random.
 *
 * The database: acct(id, bal) with K accounts whose balances always sum to
 * K * 1000, and log(id, writer, seq, amount, note) with a unique index on
 * (writer, seq). Processes (fork() children; each opens its own handle after
 * the fork and ends with _exit):
 *
 *   - folio writers: FOLIO_TXN_WRITE transactions that read two balances
 *     inside the transaction, move an amount from one to the other and
 *     append log rows (writer, seq...); one in ten is rolled back instead.
 *     Some are large (many rows, overflowing notes), some hold the write
 *     lock a little longer. Handles differ in automatic checkpoint size,
 *     inline or background checkpoints, sync level and cache size (small
 *     caches spill into the WAL before commit).
 *   - sqlite3 writers: the same with BEGIN IMMEDIATE ... COMMIT / ROLLBACK.
 *   - readers of both engines: inside one snapshot, the balances sum to the
 *     total, and a second read of every balance and of the log agrees with
 *     the first; the log never shrinks from one snapshot to the next; the
 *     unique index has as many entries as the table.
 *   - checkpointers of both engines: every mode (folio_checkpoint,
 *     PRAGMA wal_checkpoint(...)) now and then, with a short busy timeout;
 *     FOLIO_BUSY and SQLITE_BUSY are expected answers.
 *
 * Every writer appends to a file of its own, with one write(2) each, the
 * seqs of every transaction it committed ("A first last") and of every one
 * it rolled back ("R first last"). At the end the log table holds exactly
 * the committed seqs of every writer (nothing lost, nothing rolled back
 * kept), the balances sum to the total, libsqlite3's integrity_check and
 * folio_check are clean.
 *
 * A child that finds a broken invariant or an unexpected error prints it
 * (with its name and the seed) and exits non-zero; the parent kills and
 * reaps every child on failure or timeout.
 *
 * Environment: FOLIO_SEED (printed as seed=N), FOLIO_SOAK=1 (30 s of
 * traffic instead of 3), FOLIO_INTEROP_MS (the traffic time in ms).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <folio.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "share_util.h"

#define START_BAL      1000
#define MAX_ACCTS      32
#define NOTE_MAX       3000
#define STUCK_MS       60000u /* a writer that cannot commit for this long is stuck */
#define WRITER_BUSY_MS 10000

TestSuite(share_interop, .fini = share_fini, .timeout = 1800);

enum kind { FOLIO_WRITER, SQLITE_WRITER, FOLIO_READER, SQLITE_READER, FOLIO_CKPT, SQLITE_CKPT };
static const char *const kind_name[] = {"folio writer",       "sqlite3 writer",
                                        "folio reader",       "sqlite3 reader",
                                        "folio checkpointer", "sqlite3 checkpointer"};

/* What a child is told (a copy of the parent's memory at the fork). */
typedef struct job {
    enum kind kind;
    int id; /* writer id in the log table */
    uint64_t seed;
    uint64_t deadline_ms; /* monotonic clock: stop starting transactions */
    const char *path;
    char ack_path[512];
    int naccts;
    int64_t total;
} job;

static void child_fail(const job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void child_fail(const job *j, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s %d (pid %d, seed=%" PRIu64 "): %s\n", kind_name[j->kind], j->id,
            (int)getpid(), j->seed, msg);
}

static void note_text(char *buf, size_t n, uint64_t k)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)('a' + (k + i * 7) % 26);
}

/* "ok/busy" per checkpoint mode, from counts[mode * 2 + busy]; static. */
static const char *ckpt_counts(const int *c)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "passive %d/%d full %d/%d restart %d/%d truncate %d/%d (ok/busy)",
             c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
    return buf;
}

/* ---- folio children ------------------------------------------------------- */

static int folio_open_child(const job *j, folio_db **out, uint64_t *rng, unsigned busy_ms)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = 0;
    o.busy_timeout_ms = busy_ms;
    static const unsigned autockpt[] = {0, 10, 50, 200, 1000};
    o.wal_autocheckpoint = autockpt[compat_below(rng, 5)];
    if (compat_below(rng, 3) == 0)
        o.flags |= FOLIO_OPEN_INLINE_CHECKPOINT;
    o.sync = compat_below(rng, 4) == 0 ? FOLIO_SYNC_NORMAL : FOLIO_SYNC_OFF;
    if (compat_below(rng, 3) == 0)
        o.cache_bytes = 64 * 1024; /* 16 pages: large transactions spill */
    int rc = folio_open(out, j->path, &o);
    if (rc != FOLIO_OK) {
        child_fail(j, "folio_open: %d %s", rc, folio_open_errmsg());
        return -1;
    }
    return 0;
}

static int folio_get_bal(folio_cursor *c, int64_t id, int64_t *out)
{
    int rc = folio_cursor_seek_rowid(c, id);
    if (rc != FOLIO_ROW)
        return rc < 0 ? rc : FOLIO_CORRUPT;
    folio_value v;
    if ((rc = folio_cursor_column(&v, c, 1)) < 0)
        return rc;
    if (v.type != FOLIO_INTEGER)
        return FOLIO_CORRUPT;
    *out = v.u.i;
    return 0;
}

/* One transfer with `nlog` log rows; *out_committed says whether it was
 * committed (1), rolled back (0). Returns 0, FOLIO_BUSY (begin refused), or
 * -1 after reporting a failure. */
static int folio_transfer(const job *j, folio_db *db, uint64_t *rng, int64_t seq, int nlog,
                          int rollback, char *note)
{
    folio_txn *t;
    int rc = folio_begin(&t, db, FOLIO_TXN_WRITE);
    if (rc == FOLIO_BUSY)
        return FOLIO_BUSY;
    if (rc != FOLIO_OK) {
        child_fail(j, "begin: %d %s", rc, folio_errmsg(db));
        return -1;
    }
    folio_table *acct, *log;
    folio_cursor *c = NULL;
    int64_t a = 1 + (int64_t)compat_below(rng, (uint64_t)j->naccts);
    int64_t b = 1 + (int64_t)compat_below(rng, (uint64_t)j->naccts - 1);
    if (b >= a)
        b++;
    int64_t amount = 1 + (int64_t)compat_below(rng, 100), ba, bb;
    const char *what = "open tables";
    if ((rc = folio_table_open(&acct, t, "acct")) < 0 ||
        (rc = folio_table_open(&log, t, "log")) < 0)
        goto fail;
    what = "read balances";
    if ((rc = folio_cursor_open(&c, acct, NULL)) < 0 || (rc = folio_get_bal(c, a, &ba)) < 0 ||
        (rc = folio_get_bal(c, b, &bb)) < 0)
        goto fail;
    folio_cursor_close(c);
    c = NULL;
    what = "update balances";
    int col = 1;
    folio_value v = {FOLIO_INTEGER, {.i = ba - amount}};
    if ((rc = folio_patch(acct, a, &col, &v, 1)) < 0)
        goto fail;
    v.u.i = bb + amount;
    if ((rc = folio_patch(acct, b, &col, &v, 1)) < 0)
        goto fail;
    what = "insert log rows";
    for (int k = 0; k < nlog; k++) {
        size_t nn = compat_below(rng, 8) == 0 ? NOTE_MAX : compat_below(rng, 60);
        note_text(note, nn, (uint64_t)(seq + k));
        folio_value row[5] = {{FOLIO_NULL, {.i = 0}},
                              {FOLIO_INTEGER, {.i = j->id}},
                              {FOLIO_INTEGER, {.i = seq + k}},
                              {FOLIO_INTEGER, {.i = amount}},
                              {FOLIO_TEXT, {.s = {note, nn}}}};
        if ((rc = folio_insert(NULL, log, row, 5)) < 0)
            goto fail;
    }
    if (compat_below(rng, 10) == 0)
        share_sleep_us((unsigned)compat_below(rng, 3000)); /* hold WRITE a while */
    if (rollback) {
        if ((rc = folio_rollback(t)) < 0) {
            child_fail(j, "rollback: %d %s", rc, folio_errmsg(db));
            return -1;
        }
        return 0;
    }
    rc = folio_commit(t);
    if (rc != FOLIO_OK) {
        child_fail(j, "commit of seqs %" PRId64 "..%" PRId64 ": %d %s", seq, seq + nlog - 1, rc,
                   folio_errmsg(db));
        return -1;
    }
    return 0;
fail:
    child_fail(j, "%s: %d %s", what, rc, folio_errmsg(db));
    if (c)
        folio_cursor_close(c);
    folio_rollback(t);
    return -1;
}

static int folio_random_checkpoint(const job *j, folio_db *db, uint64_t *rng, int *counts)
{
    int mode = (int)compat_below(rng, 4);
    int n_log = -1, n_done = -1;
    int rc = folio_checkpoint(db, mode, &n_log, &n_done);
    if (rc == FOLIO_OK && n_done > n_log) {
        child_fail(j, "checkpoint mode %d: %d of %d frames done", mode, n_done, n_log);
        return -1;
    }
    if (rc != FOLIO_OK && rc != FOLIO_BUSY) {
        child_fail(j, "checkpoint mode %d: %d %s", mode, rc, folio_errmsg(db));
        return -1;
    }
    counts[mode * 2 + (rc == FOLIO_OK ? 0 : 1)]++;
    return 0;
}

static int writer_loop(const job *j, uint64_t *rng, int ack,
                       int (*transfer)(const job *, void *, uint64_t *, int64_t, int, int, char *),
                       int (*checkpoint)(const job *, void *, uint64_t *, int *), void *db)
{
    char *note = malloc(NOTE_MAX);
    int64_t seq = 0;
    int commits = 0, rollbacks = 0, busy = 0, ck[8] = {0};
    uint64_t last_progress = share_now_ms(), max_ms = 0;
    int rc = 0;
    /* Past the deadline only until the first commit (every writer commits). */
    while (share_now_ms() < j->deadline_ms || commits == 0) {
        if (share_now_ms() - last_progress > STUCK_MS) {
            child_fail(j, "no commit for %u ms (%d refused begins)", STUCK_MS, busy);
            rc = 1;
            break;
        }
        uint64_t r = compat_below(rng, 100);
        int nlog = r < 5 ? 20 + (int)compat_below(rng, 40) : 1 + (int)compat_below(rng, 3);
        int rollback = compat_below(rng, 10) == 0;
        uint64_t t0 = share_now_ms();
        int trc = transfer(j, db, rng, seq, nlog, rollback, note);
        uint64_t took = share_now_ms() - t0;
        if (took > max_ms)
            max_ms = took;
        if (trc == FOLIO_BUSY || trc == SQLITE_BUSY) {
            busy++;
            continue;
        }
        if (trc != 0) {
            rc = 1;
            break;
        }
        share_log(ack, "%c %" PRId64 " %" PRId64, rollback ? 'R' : 'A', seq, seq + nlog - 1);
        seq += nlog;
        if (rollback) {
            rollbacks++;
        } else {
            commits++;
            last_progress = share_now_ms();
        }
        if (compat_below(rng, 40) == 0 && checkpoint(j, db, rng, ck) != 0) {
            rc = 1;
            break;
        }
        /* Think time: a writer that takes the lock back at once would keep
         * the others out (locks are polled, as SQLite's are). */
        share_sleep_us((unsigned)compat_below(rng, 2000));
    }
    fprintf(stderr,
            "%s %d: %d commits, %d rollbacks, %d refused begins, longest transaction %llu ms; "
            "checkpoints %s\n",
            kind_name[j->kind], j->id, commits, rollbacks, busy, (unsigned long long)max_ms,
            ckpt_counts(ck));
    free(note);
    return rc;
}

static int folio_transfer_cb(const job *j, void *db, uint64_t *rng, int64_t seq, int nlog,
                             int rollback, char *note)
{
    return folio_transfer(j, db, rng, seq, nlog, rollback, note);
}

static int folio_ckpt_cb(const job *j, void *db, uint64_t *rng, int *counts)
{
    return folio_random_checkpoint(j, db, rng, counts);
}

static int folio_writer(const job *j)
{
    uint64_t rng = j->seed;
    folio_db *db;
    if (folio_open_child(j, &db, &rng, WRITER_BUSY_MS) != 0)
        return 2;
    int ack = share_log_open(j->ack_path);
    if (ack < 0)
        return 3;
    int rc = writer_loop(j, &rng, ack, folio_transfer_cb, folio_ckpt_cb, db);
    int crc = folio_close(db);
    if (crc != FOLIO_OK) {
        child_fail(j, "close: %d", crc);
        rc = 1;
    }
    close(ack);
    return rc;
}

/* Read every balance and the log's row and index entry counts. */
static int folio_snapshot_read(const job *j, folio_txn *t, int64_t *bal, int64_t *nlog)
{
    folio_table *acct, *log;
    folio_cursor *c;
    int rc;
    if ((rc = folio_table_open(&acct, t, "acct")) < 0 ||
        (rc = folio_table_open(&log, t, "log")) < 0)
        return rc;
    if ((rc = folio_cursor_open(&c, acct, NULL)) < 0)
        return rc;
    int n = 0;
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
        folio_value v;
        if (n >= j->naccts || (rc = folio_cursor_column(&v, c, 1)) < 0)
            break;
        bal[n++] = v.u.i;
    }
    folio_cursor_close(c);
    if (rc < 0)
        return rc;
    if (n != j->naccts)
        return FOLIO_CORRUPT;
    int64_t rows = 0, keys = 0;
    if ((rc = folio_cursor_open(&c, log, NULL)) < 0)
        return rc;
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
        rows++;
    folio_cursor_close(c);
    if (rc < 0)
        return rc;
    if ((rc = folio_cursor_open(&c, log, "log_ws")) < 0)
        return rc;
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
        keys++;
    folio_cursor_close(c);
    if (rc < 0)
        return rc;
    if (rows != keys)
        return FOLIO_CORRUPT;
    *nlog = rows;
    return 0;
}

static int folio_reader(const job *j)
{
    uint64_t rng = j->seed;
    folio_db *db;
    if (folio_open_child(j, &db, &rng, WRITER_BUSY_MS) != 0)
        return 2;
    int64_t b1[MAX_ACCTS], b2[MAX_ACCTS], n1, n2, last = 0;
    int snaps = 0, busy = 0, rc = 0;
    while (share_now_ms() < j->deadline_ms && rc == 0) {
        folio_txn *t;
        int brc = folio_begin(&t, db, FOLIO_TXN_READ);
        if (brc == FOLIO_BUSY) {
            busy++;
            continue;
        }
        if (brc != FOLIO_OK) {
            child_fail(j, "begin read: %d %s", brc, folio_errmsg(db));
            rc = 1;
            break;
        }
        int r1 = folio_snapshot_read(j, t, b1, &n1);
        share_sleep_us((unsigned)compat_below(&rng, 4000));
        int r2 = r1 == 0 ? folio_snapshot_read(j, t, b2, &n2) : 0;
        if (r1 < 0 || r2 < 0) {
            child_fail(j, "snapshot read: %d %d %s", r1, r2, folio_errmsg(db));
            rc = 1;
        } else {
            int64_t sum = 0;
            for (int i = 0; i < j->naccts; i++) {
                sum += b1[i];
                if (b1[i] != b2[i]) {
                    child_fail(j, "account %d read %" PRId64 " then %" PRId64 " in one snapshot",
                               i + 1, b1[i], b2[i]);
                    rc = 1;
                }
            }
            if (sum != j->total) {
                child_fail(j, "balances sum to %" PRId64 ", not %" PRId64, sum, j->total);
                rc = 1;
            }
            if (n1 != n2) {
                child_fail(j, "log rows %" PRId64 " then %" PRId64 " in one snapshot", n1, n2);
                rc = 1;
            }
            if (n1 < last) {
                child_fail(j, "log shrank from %" PRId64 " to %" PRId64 " rows", last, n1);
                rc = 1;
            }
            last = n1;
        }
        folio_commit(t);
        snaps++;
        /* Now and then a pause, so that checkpoints find no reader. */
        if (compat_below(&rng, 4) == 0)
            share_sleep_ms(1 + (unsigned)compat_below(&rng, 30));
    }
    fprintf(stderr, "folio reader %d: %d snapshots (last saw %" PRId64 " log rows), %d busy\n",
            j->id, snaps, last, busy);
    int crc = folio_close(db);
    if (crc != FOLIO_OK) {
        child_fail(j, "close: %d", crc);
        rc = 1;
    }
    return rc;
}

static int folio_checkpointer(const job *j)
{
    uint64_t rng = j->seed;
    folio_db *db;
    if (folio_open_child(j, &db, &rng, 300) != 0)
        return 2;
    int ck[8] = {0}, rc = 0;
    while (share_now_ms() < j->deadline_ms && rc == 0) {
        share_sleep_ms(10 + (unsigned)compat_below(&rng, 90));
        if (folio_random_checkpoint(j, db, &rng, ck) != 0)
            rc = 1;
    }
    fprintf(stderr, "folio checkpointer: %s\n", ckpt_counts(ck));
    int crc = folio_close(db);
    if (crc != FOLIO_OK) {
        child_fail(j, "close: %d", crc);
        rc = 1;
    }
    return rc;
}

/* ---- libsqlite3 children ----------------------------------------------------- */

static sqlite3 *sqlite_open_child(const job *j, uint64_t *rng, int busy_ms)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(j->path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        child_fail(j, "sqlite3_open: %s", db ? sqlite3_errmsg(db) : "?");
        return NULL;
    }
    sqlite3_busy_timeout(db, busy_ms);
    static const char *const sync[] = {"OFF", "NORMAL", "FULL"};
    static const int autockpt[] = {0, 10, 100, 1000};
    char sql[200];
    snprintf(sql, sizeof sql, "PRAGMA synchronous=%s; PRAGMA wal_autocheckpoint=%d;%s",
             sync[compat_below(rng, 2)], autockpt[compat_below(rng, 4)],
             compat_below(rng, 3) == 0 ? "PRAGMA cache_size=10;" : "");
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        child_fail(j, "%s: %s", sql, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static int sqlite_step_done(const job *j, sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        child_fail(j, "%s: %d %s", what, sqlite3_extended_errcode(db), sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

typedef struct sqlite_writer_ctx {
    sqlite3 *db;
    sqlite3_stmt *get, *set, *ins;
} sqlite_writer_ctx;

static int sqlite_transfer(const job *j, void *arg, uint64_t *rng, int64_t seq, int nlog,
                           int rollback, char *note)
{
    sqlite_writer_ctx *x = arg;
    sqlite3 *db = x->db;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_BUSY)
        return SQLITE_BUSY;
    if (rc != SQLITE_OK) {
        child_fail(j, "BEGIN IMMEDIATE: %d %s", sqlite3_extended_errcode(db), sqlite3_errmsg(db));
        return -1;
    }
    int64_t a = 1 + (int64_t)compat_below(rng, (uint64_t)j->naccts);
    int64_t b = 1 + (int64_t)compat_below(rng, (uint64_t)j->naccts - 1);
    if (b >= a)
        b++;
    int64_t amount = 1 + (int64_t)compat_below(rng, 100), bal[2];
    int64_t ids[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        sqlite3_bind_int64(x->get, 1, ids[k]);
        rc = sqlite3_step(x->get);
        if (rc != SQLITE_ROW) {
            child_fail(j, "read balance %" PRId64 ": %d %s", ids[k], sqlite3_extended_errcode(db),
                       sqlite3_errmsg(db));
            sqlite3_reset(x->get);
            goto fail;
        }
        bal[k] = sqlite3_column_int64(x->get, 0);
        sqlite3_reset(x->get);
    }
    for (int k = 0; k < 2; k++) {
        sqlite3_bind_int64(x->set, 1, bal[k] + (k ? amount : -amount));
        sqlite3_bind_int64(x->set, 2, ids[k]);
        if (sqlite_step_done(j, db, x->set, "update balance") != 0)
            goto fail;
    }
    for (int k = 0; k < nlog; k++) {
        size_t nn = compat_below(rng, 8) == 0 ? NOTE_MAX : compat_below(rng, 60);
        note_text(note, nn, (uint64_t)(seq + k));
        sqlite3_bind_int(x->ins, 1, j->id);
        sqlite3_bind_int64(x->ins, 2, seq + k);
        sqlite3_bind_int64(x->ins, 3, amount);
        sqlite3_bind_text(x->ins, 4, note, (int)nn, SQLITE_TRANSIENT);
        if (sqlite_step_done(j, db, x->ins, "insert log row") != 0)
            goto fail;
    }
    if (compat_below(rng, 10) == 0)
        share_sleep_us((unsigned)compat_below(rng, 3000));
    rc = sqlite3_exec(db, rollback ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        child_fail(j, "%s of seqs %" PRId64 "..%" PRId64 ": %d %s",
                   rollback ? "ROLLBACK" : "COMMIT", seq, seq + nlog - 1,
                   sqlite3_extended_errcode(db), sqlite3_errmsg(db));
        return -1;
    }
    return 0;
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static int sqlite_random_checkpoint(const job *j, sqlite3 *db, uint64_t *rng, int *counts,
                                    int short_busy_ms, int busy_ms)
{
    static const char *const modes[] = {"PASSIVE", "FULL", "RESTART", "TRUNCATE"};
    int m = (int)compat_below(rng, 4);
    const char *mode = modes[m];
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA wal_checkpoint(%s)", mode);
    sqlite3_busy_timeout(db, short_busy_ms);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    int busy = 1;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            busy = sqlite3_column_int(st, 0);
            int log = sqlite3_column_int(st, 1), done = sqlite3_column_int(st, 2);
            if (done > log) {
                child_fail(j, "%s: %d of %d frames done", sql, done, log);
                rc = -1;
            } else {
                rc = SQLITE_OK;
            }
        }
    }
    sqlite3_finalize(st);
    sqlite3_busy_timeout(db, busy_ms);
    if (rc == -1)
        return -1;
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) {
        child_fail(j, "%s: %d %s", sql, sqlite3_extended_errcode(db), sqlite3_errmsg(db));
        return -1;
    }
    counts[m * 2 + (rc == SQLITE_OK && !busy ? 0 : 1)]++;
    return 0;
}

static int sqlite_ckpt_cb(const job *j, void *arg, uint64_t *rng, int *counts)
{
    sqlite_writer_ctx *x = arg;
    return sqlite_random_checkpoint(j, x->db, rng, counts, 200, WRITER_BUSY_MS);
}

static int sqlite_writer(const job *j)
{
    uint64_t rng = j->seed;
    sqlite_writer_ctx x = {0};
    if (!(x.db = sqlite_open_child(j, &rng, WRITER_BUSY_MS)))
        return 2;
    if (sqlite3_prepare_v2(x.db, "SELECT bal FROM acct WHERE id = ?1", -1, &x.get, NULL) ||
        sqlite3_prepare_v2(x.db, "UPDATE acct SET bal = ?1 WHERE id = ?2", -1, &x.set, NULL) ||
        sqlite3_prepare_v2(x.db,
                           "INSERT INTO log(writer, seq, amount, note) VALUES(?1, ?2, ?3, ?4)", -1,
                           &x.ins, NULL)) {
        child_fail(j, "prepare: %s", sqlite3_errmsg(x.db));
        return 2;
    }
    int ack = share_log_open(j->ack_path);
    if (ack < 0)
        return 3;
    int rc = writer_loop(j, &rng, ack, sqlite_transfer, sqlite_ckpt_cb, &x);
    sqlite3_finalize(x.get);
    sqlite3_finalize(x.set);
    sqlite3_finalize(x.ins);
    if (sqlite3_close(x.db) != SQLITE_OK) {
        child_fail(j, "close failed");
        rc = 1;
    }
    close(ack);
    return rc;
}

/* Every balance and the log's counts (table, and through the index). */
static int sqlite_snapshot_read(const job *j, sqlite3 *db, sqlite3_stmt *bals, sqlite3_stmt *cnt,
                                int64_t *bal, int64_t *nlog)
{
    int n = 0, rc;
    while ((rc = sqlite3_step(bals)) == SQLITE_ROW && n < j->naccts)
        bal[n++] = sqlite3_column_int64(bals, 0);
    sqlite3_reset(bals);
    if (rc != SQLITE_DONE && (sqlite3_extended_errcode(db) & 0xff) == SQLITE_BUSY)
        return -1; /* the caller counts it */
    if (rc != SQLITE_DONE || n != j->naccts) {
        child_fail(j, "reading balances: %d rows, %d %s", n, sqlite3_extended_errcode(db),
                   sqlite3_errmsg(db));
        return -1;
    }
    rc = sqlite3_step(cnt);
    if (rc != SQLITE_ROW) {
        child_fail(j, "counting the log: %d %s", sqlite3_extended_errcode(db), sqlite3_errmsg(db));
        sqlite3_reset(cnt);
        return -1;
    }
    int64_t rows = sqlite3_column_int64(cnt, 0), keys = sqlite3_column_int64(cnt, 1);
    sqlite3_reset(cnt);
    if (rows != keys) {
        child_fail(j, "log: %" PRId64 " rows, %" PRId64 " index entries", rows, keys);
        return -1;
    }
    *nlog = rows;
    return 0;
}

static int sqlite_reader(const job *j)
{
    uint64_t rng = j->seed;
    sqlite3 *db = sqlite_open_child(j, &rng, WRITER_BUSY_MS);
    if (!db)
        return 2;
    sqlite3_stmt *bals = NULL, *cnt = NULL;
    if (sqlite3_prepare_v2(db, "SELECT bal FROM acct ORDER BY id", -1, &bals, NULL) ||
        sqlite3_prepare_v2(db,
                           "SELECT (SELECT count(*) FROM log NOT INDEXED),"
                           " (SELECT count(*) FROM log INDEXED BY log_ws WHERE writer > -1)",
                           -1, &cnt, NULL)) {
        child_fail(j, "prepare: %s", sqlite3_errmsg(db));
        return 2;
    }
    int64_t b1[MAX_ACCTS], b2[MAX_ACCTS], n1, n2, last = 0;
    int snaps = 0, busy = 0, rc = 0;
    while (share_now_ms() < j->deadline_ms && rc == 0) {
        if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
            child_fail(j, "BEGIN: %s", sqlite3_errmsg(db));
            rc = 1;
            break;
        }
        int r1 = sqlite_snapshot_read(j, db, bals, cnt, b1, &n1);
        if (r1 != 0 && (sqlite3_extended_errcode(db) & 0xff) == SQLITE_BUSY) {
            busy++; /* no snapshot could be started: tolerated, counted */
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            continue;
        }
        share_sleep_us((unsigned)compat_below(&rng, 4000));
        int r2 = r1 == 0 ? sqlite_snapshot_read(j, db, bals, cnt, b2, &n2) : 0;
        if (r1 != 0 || r2 != 0) {
            rc = 1;
        } else {
            int64_t sum = 0;
            for (int i = 0; i < j->naccts; i++) {
                sum += b1[i];
                if (b1[i] != b2[i]) {
                    child_fail(j, "account %d read %" PRId64 " then %" PRId64 " in one snapshot",
                               i + 1, b1[i], b2[i]);
                    rc = 1;
                }
            }
            if (sum != j->total) {
                child_fail(j, "balances sum to %" PRId64 ", not %" PRId64, sum, j->total);
                rc = 1;
            }
            if (n1 != n2) {
                child_fail(j, "log rows %" PRId64 " then %" PRId64 " in one snapshot", n1, n2);
                rc = 1;
            }
            if (n1 < last) {
                child_fail(j, "log shrank from %" PRId64 " to %" PRId64 " rows", last, n1);
                rc = 1;
            }
            last = n1;
        }
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        snaps++;
        if (compat_below(&rng, 4) == 0)
            share_sleep_ms(1 + (unsigned)compat_below(&rng, 30));
    }
    fprintf(stderr, "sqlite3 reader %d: %d snapshots (last saw %" PRId64 " log rows), %d busy\n",
            j->id, snaps, last, busy);
    sqlite3_finalize(bals);
    sqlite3_finalize(cnt);
    sqlite3_close(db);
    return rc;
}

static int sqlite_checkpointer(const job *j)
{
    uint64_t rng = j->seed;
    sqlite3 *db = sqlite_open_child(j, &rng, 300);
    if (!db)
        return 2;
    int ck[8] = {0}, rc = 0;
    while (share_now_ms() < j->deadline_ms && rc == 0) {
        share_sleep_ms(10 + (unsigned)compat_below(&rng, 90));
        if (sqlite_random_checkpoint(j, db, &rng, ck, 300, 300) != 0)
            rc = 1;
    }
    fprintf(stderr, "sqlite3 checkpointer: %s\n", ckpt_counts(ck));
    sqlite3_close(db);
    return rc;
}

static int run_child(void *arg)
{
    const job *j = arg;
    switch (j->kind) {
    case FOLIO_WRITER:
        return folio_writer(j);
    case SQLITE_WRITER:
        return sqlite_writer(j);
    case FOLIO_READER:
        return folio_reader(j);
    case SQLITE_READER:
        return sqlite_reader(j);
    case FOLIO_CKPT:
        return folio_checkpointer(j);
    case SQLITE_CKPT:
        return sqlite_checkpointer(j);
    }
    return 9;
}

/* ---- the parent ----------------------------------------------------------------- */

static void make_db(const char *path, int naccts)
{
    folio_db *db = share_folio_open(path, 5000, 1000);
    share_folio_exec(db, "CREATE TABLE acct(id INTEGER PRIMARY KEY, bal INTEGER NOT NULL)");
    share_folio_exec(db, "CREATE TABLE log(id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, "
                         "seq INTEGER NOT NULL, amount INTEGER, note TEXT)");
    share_folio_exec(db, "CREATE UNIQUE INDEX log_ws ON log(writer, seq)");
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    folio_table *acct;
    cr_assert_eq(folio_table_open(&acct, t, "acct"), FOLIO_OK);
    for (int i = 1; i <= naccts; i++) {
        folio_value v[2] = {{FOLIO_INTEGER, {.i = i}}, {FOLIO_INTEGER, {.i = START_BAL}}};
        cr_assert_eq(folio_insert(NULL, acct, v, 2), FOLIO_OK);
    }
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
}

/* A writer's acknowledgements: 1 committed, 2 rolled back, per seq. */
static uint8_t *read_acks(const char *file, int64_t *out_n, int *out_commits)
{
    size_t len = 0;
    uint8_t *text = compat_read_file(file, &len);
    int64_t cap = 1024, n = 0;
    uint8_t *st = calloc((size_t)cap, 1);
    int commits = 0;
    char *s = (char *)text;
    char *end = s + len;
    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        cr_assert_not_null(nl, "%s: a torn record", file);
        char kind;
        int64_t a, b;
        cr_assert_eq(sscanf(s, "%c %" SCNd64 " %" SCNd64, &kind, &a, &b), 3, "%s: bad record",
                     file);
        cr_assert(a == n && b >= a, "%s: records out of order at %" PRId64, file, a);
        while (b + 1 > cap) {
            st = realloc(st, (size_t)cap * 2);
            memset(st + cap, 0, (size_t)cap);
            cap *= 2;
        }
        for (int64_t q = a; q <= b; q++)
            st[q] = kind == 'A' ? 1 : 2;
        commits += kind == 'A';
        n = b + 1;
        s = nl + 1;
    }
    free(text);
    *out_n = n;
    *out_commits = commits;
    return st;
}

static void verify(const char *path, job *jobs, int njobs, int naccts, int64_t total)
{
    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok", "integrity_check after the run: %s", why);
    free(why);
    sqlite3 *s = compat_sqlite_open_ro(path);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM acct"), naccts);
    int64_t sum = compat_query_int(s, "SELECT sum(bal) FROM acct");
    cr_assert_eq(sum, total, "the balances sum to %lld, not %lld", (long long)sum,
                 (long long)total);
    int64_t expect_rows = 0;
    for (int i = 0; i < njobs; i++) {
        job *j = &jobs[i];
        if (j->kind != FOLIO_WRITER && j->kind != SQLITE_WRITER)
            continue;
        int64_t n;
        int commits;
        uint8_t *st = read_acks(j->ack_path, &n, &commits);
        cr_assert_gt(commits, 0, "%s %d committed nothing", kind_name[j->kind], j->id);
        sqlite3_stmt *q = compat_prepare(s, "SELECT seq FROM log WHERE writer = ?1 ORDER BY seq");
        sqlite3_bind_int(q, 1, j->id);
        int64_t prev = -1, present = 0;
        while (sqlite3_step(q) == SQLITE_ROW) {
            int64_t seq = sqlite3_column_int64(q, 0);
            cr_assert(seq > prev, "%s %d: seq %lld twice", kind_name[j->kind], j->id,
                      (long long)seq);
            cr_assert(seq >= 0 && seq < n && st[seq] == 1,
                      "%s %d: seq %lld is in the file but was %s", kind_name[j->kind], j->id,
                      (long long)seq,
                      seq >= 0 && seq < n && st[seq] == 2 ? "rolled back" : "never committed");
            for (int64_t q2 = prev + 1; q2 < seq; q2++)
                cr_assert(st[q2] != 1, "%s %d: committed seq %lld is lost", kind_name[j->kind],
                          j->id, (long long)q2);
            prev = seq;
            present++;
        }
        for (int64_t q2 = prev + 1; q2 < n; q2++)
            cr_assert(st[q2] != 1, "%s %d: committed seq %lld is lost", kind_name[j->kind], j->id,
                      (long long)q2);
        sqlite3_finalize(q);
        expect_rows += present;
        free(st);
    }
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM log"), expect_rows,
                 "rows of no writer in the log");
    compat_sqlite_close(s);

    folio_db *db = share_folio_open(path, 5000, 1000);
    char *msg = share_folio_check(db);
    cr_assert_str_eq(msg, "ok", "folio_check after the run: %s", msg);
    free(msg);
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_READ), FOLIO_OK);
    int64_t fsum = 0;
    for (int i = 1; i <= naccts; i++)
        fsum += share_folio_get_int(t, "acct", i, 1);
    cr_assert_eq(fsum, total, "folio reads a sum of %lld", (long long)fsum);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    why = compat_integrity(path);
    cr_assert_str_eq(why, "ok", "integrity_check after folio's close: %s", why);
    free(why);
}

static unsigned traffic_ms(void)
{
    const char *e = getenv("FOLIO_INTEROP_MS");
    if (e && *e)
        return (unsigned)strtoul(e, NULL, 10);
    return share_soak() ? 30000u : 3000u;
}

Test(share_interop, folio_and_sqlite3_processes_at_random)
{
    uint64_t seed = compat_seed(20261206);
    uint64_t rng = seed;
    int naccts = 4 + (int)compat_below(&rng, MAX_ACCTS - 3);
    int nfw = 1 + (int)compat_below(&rng, 3);
    int nsw = 1 + (int)compat_below(&rng, 3);
    int64_t total = (int64_t)naccts * START_BAL;
    unsigned ms = traffic_ms();
    cr_log_info("seed=%llu: %d accounts, %d folio writers, %d sqlite3 writers, %u ms",
                (unsigned long long)seed, naccts, nfw, nsw, ms);
    fprintf(stderr, "seed=%llu: %d accounts, %d folio writers, %d sqlite3 writers, %u ms\n",
            (unsigned long long)seed, naccts, nfw, nsw, ms);

    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "i.db");
    make_db(path, naccts);

    job jobs[16];
    int n = 0;
    uint64_t deadline = share_now_ms() + ms;
    for (int i = 0; i < nfw; i++)
        jobs[n++] = (job){.kind = FOLIO_WRITER, .id = i};
    for (int i = 0; i < nsw; i++)
        jobs[n++] = (job){.kind = SQLITE_WRITER, .id = 100 + i};
    jobs[n++] = (job){.kind = FOLIO_READER, .id = 0};
    jobs[n++] = (job){.kind = SQLITE_READER, .id = 0};
    jobs[n++] = (job){.kind = FOLIO_CKPT, .id = 0};
    jobs[n++] = (job){.kind = SQLITE_CKPT, .id = 0};
    pid_t pids[16];
    for (int i = 0; i < n; i++) {
        jobs[i].seed = compat_rand(&rng);
        jobs[i].deadline_ms = deadline;
        jobs[i].path = path;
        jobs[i].naccts = naccts;
        jobs[i].total = total;
        snprintf(jobs[i].ack_path, sizeof jobs[i].ack_path, "%s/ack-%d-%d", dir, (int)jobs[i].kind,
                 jobs[i].id);
    }
    for (int i = 0; i < n; i++)
        pids[i] = share_spawn(run_child, &jobs[i], NULL, 0);

    /* Generous: the traffic time, then the writers' last transactions. */
    uint64_t limit = share_now_ms() + ms + 180000;
    int failed = 0;
    for (int i = 0; i < n; i++) {
        uint64_t now = share_now_ms();
        int st = 0;
        if (!share_wait(pids[i], now < limit ? (unsigned)(limit - now) : 0, &st)) {
            cr_log_error("%s %d (pid %d) did not finish in time", kind_name[jobs[i].kind],
                         jobs[i].id, (int)pids[i]);
            failed = 1;
            break;
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            cr_log_error("%s %d (pid %d): %s", kind_name[jobs[i].kind], jobs[i].id, (int)pids[i],
                         share_status_str(st));
            failed = 1;
        }
    }
    if (failed) {
        share_kill_all();
        cr_assert_fail("a child failed (seed=%llu; its messages are on stderr)",
                       (unsigned long long)seed);
    }
    verify(path, jobs, n, naccts, total);
    compat_rmtree(dir);
    free(path);
    free(dir);
}
