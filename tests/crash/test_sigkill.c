/*
 * test_sigkill.c - a writer process killed with SIGKILL at random moments.
 *
 * A child process opens the database (FOLIO_SYNC_FULL) and commits
 * transactions one at a time: transaction i inserts row i (a blob whose
 * size and bytes follow from i, sometimes large enough to overflow), deletes
 * row i - 3 when i is a multiple of 5, and sets the counter row to i. After
 * folio_commit returns it writes i to a pipe. Now and then it checkpoints
 * (every mode in turn) or closes and reopens the database.
 *
 * The parent kills it after a random delay, then checks the files with
 * libsqlite3 and folio: integrity_check "ok", folio_check clean, both read
 * the same content, and the content is exactly the state after the last
 * acknowledged commit, or after the one that was in flight. The next child
 * carries on from there.
 *
 * Odd rounds run the child with sync calls that do nothing (a kill keeps the
 * page cache), so that more commits, checkpoints and reopens fall between
 * kills; even rounds use the real POSIX vfs.
 *
 * Kills: 20 by default, 200 with FOLIO_SOAK=1 (FOLIO_KILLS overrides);
 * FOLIO_SEED sets the seed (printed as seed=N).
 */
#include "crash_support.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Size of the blob of row i: mostly small, every 7th overflows. */
static size_t row_size(int64_t i)
{
    return i % 7 == 0 ? 9000 + (size_t)(i % 5) * 1000 : (size_t)(i * 37 % 600);
}

/* Whether row j exists after commit m. */
static int row_alive(int64_t j, int64_t m)
{
    if (j < 1 || j > m)
        return 0;
    int64_t killer = j + 3; /* transaction j + 3 deletes row j if it is a multiple of 5 */
    return !(killer <= m && killer % 5 == 0);
}

/* ---- the child --------------------------------------------------------------- */

static int child_txn(folio_db *db, int64_t i, uint8_t *buf)
{
    folio_txn *txn;
    int rc = folio_begin(&txn, db, FOLIO_TXN_WRITE);
    if (rc < 0)
        return rc;
    folio_table *t, *ctr;
    if ((rc = folio_table_open(&t, txn, "t")) < 0 || (rc = folio_table_open(&ctr, txn, "ctr")) < 0)
        goto fail;
    size_t n = row_size(i);
    crash_fill(buf, n, (uint64_t)i);
    folio_value row[2];
    row[0].type = FOLIO_INTEGER;
    row[0].u.i = i;
    row[1].type = FOLIO_BLOB;
    row[1].u.s.p = buf;
    row[1].u.s.n = n;
    if ((rc = folio_insert(NULL, t, row, 2)) < 0)
        goto fail;
    if (i % 5 == 0 && (rc = folio_delete(t, i - 3)) < 0)
        goto fail;
    folio_value c[2];
    c[0].type = FOLIO_INTEGER;
    c[0].u.i = 1;
    c[1].type = FOLIO_INTEGER;
    c[1].u.i = i;
    if ((rc = folio_update(ctr, 1, c, 2)) < 0)
        goto fail;
    return folio_commit(txn);
fail:
    folio_rollback(txn);
    return rc;
}

static void child_report(int fd, const char *what, int rc, folio_db *db)
{
    char msg[600];
    int n = snprintf(msg, sizeof msg, "child: %s: %s: %s\n", what, crash_rc_name(rc),
                     db ? folio_errmsg(db) : folio_open_errmsg());
    if (n > 0 && write(fd, msg, (size_t)n) < 0)
        _exit(5);
}

/* Runs until killed. Exits 2.. when something goes wrong (told on stderr). */
static void child_main(const char *path, int ack_fd, int64_t start, int fast)
{
    /* Odd rounds skip the real fsyncs (a kill does not lose the page cache),
     * so more commits, checkpoints and reopens happen between kills. */
    os_vfs_install(fast ? crash_vfs_fast() : NULL);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.sync = FOLIO_SYNC_FULL;
    o.wal_autocheckpoint = 40;
    o.cache_bytes = 256 * 1024;
    folio_db *db;
    int rc = folio_open(&db, path, &o);
    if (rc < 0) {
        child_report(2, "folio_open", rc, NULL);
        _exit(2);
    }
    static uint8_t buf[20000];
    for (int64_t i = start + 1;; i++) {
        if ((rc = child_txn(db, i, buf)) < 0) {
            child_report(2, "transaction", rc, db);
            _exit(3);
        }
        if (write(ack_fd, &i, sizeof i) != (ssize_t)sizeof i)
            _exit(4);
        if (i % 11 == 0)
            folio_checkpoint(db, (int)(i / 11 % 4), NULL, NULL);
        if (i % 29 == 0) {
            folio_close(db);
            if ((rc = folio_open(&db, path, &o)) < 0) {
                child_report(2, "folio_open (again)", rc, NULL);
                _exit(2);
            }
        }
    }
}

/* ---- the parent ---------------------------------------------------------------- */

static void create_db(const char *path)
{
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, NULL), FOLIO_OK);
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(txn, "CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)"), FOLIO_OK);
    cr_assert_eq(folio_exec(txn, "CREATE TABLE ctr(k INTEGER PRIMARY KEY, n INTEGER)"), FOLIO_OK);
    folio_table *ctr;
    cr_assert_eq(folio_table_open(&ctr, txn, "ctr"), FOLIO_OK);
    folio_value c[2];
    c[0].type = FOLIO_INTEGER;
    c[0].u.i = 1;
    c[1].type = FOLIO_INTEGER;
    c[1].u.i = 0;
    cr_assert_eq(folio_insert(NULL, ctr, c, 2), FOLIO_OK);
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
}

/* Check the content against commit m with libsqlite3; returns the counter
 * (or -1 with a message in err). */
static int64_t check_content(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite3_open_v2: %s", sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
    sqlite3_stmt *st = NULL;
    int64_t m = -1;
    if (sqlite3_prepare_v2(db, "SELECT n FROM ctr WHERE k = 1", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        m = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (m < 0) {
        snprintf(err, errlen, "cannot read the counter: %s", sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    static uint8_t want[20000];
    int64_t expect_next = 1, rows = 0;
    int ok = 1;
    sqlite3_prepare_v2(db, "SELECT id, b FROM t ORDER BY id", -1, &st, NULL);
    while (ok && sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        while (expect_next < id && !row_alive(expect_next, m))
            expect_next++;
        if (id != expect_next || !row_alive(id, m)) {
            snprintf(err, errlen,
                     "counter %" PRId64 ": found row %" PRId64 ", expected row %" PRId64, m, id,
                     expect_next);
            ok = 0;
            break;
        }
        size_t n = row_size(id);
        crash_fill(want, n, (uint64_t)id);
        if ((size_t)sqlite3_column_bytes(st, 1) != n ||
            (n && memcmp(sqlite3_column_blob(st, 1), want, n) != 0)) {
            snprintf(err, errlen, "counter %" PRId64 ": row %" PRId64 " has the wrong blob", m, id);
            ok = 0;
        }
        expect_next++;
        rows++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    while (ok && expect_next <= m && !row_alive(expect_next, m))
        expect_next++;
    if (ok && expect_next <= m) {
        snprintf(err, errlen, "counter %" PRId64 ": row %" PRId64 " is missing", m, expect_next);
        ok = 0;
    }
    return ok ? m : -1;
}

Test(crash_sigkill, killed_writer_loses_nothing_acknowledged, .timeout = 1200)
{
    uint64_t seed = crash_seed((uint64_t)time(NULL), "sigkill");
    uint64_t rng = seed;
    long kills = crash_env_long("FOLIO_KILLS", crash_soak() ? 200 : 20);
    char *dir = crash_tmpdir("sigkill");
    char *path = crash_path(dir, "kill.db");
    os_vfs_install(NULL);
    create_db(path);

    int64_t m = 0; /* the state the files hold */
    long survived = 0, inflight_seen = 0, acks_total = 0;
    crash_failures fl;
    memset(&fl, 0, sizeof fl);
    for (long round = 0; round < kills && fl.n == 0; round++) {
        int fds[2];
        cr_assert_eq(pipe(fds), 0);
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        cr_assert(pid >= 0, "fork: %s", strerror(errno));
        if (pid == 0) {
            close(fds[0]);
            child_main(path, fds[1], m, (int)(round % 2));
            _exit(9);
        }
        close(fds[1]);
        /* Mostly short delays (the open, the first commits), some longer. */
        uint64_t r = crash_below(&rng, 100);
        useconds_t delay = (useconds_t)(r < 15   ? crash_below(&rng, 5000)
                                        : r < 70 ? 5000 + crash_below(&rng, 100000)
                                                 : 100000 + crash_below(&rng, 300000));
        usleep(delay);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        int64_t acked = m, v;
        long nack = 0;
        while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v) {
            if (v != acked + 1)
                crash_fail(&fl, "round %ld: acknowledgement %" PRId64 " after %" PRId64, round, v,
                           acked);
            acked = v;
            nack++;
        }
        close(fds[0]);
        acks_total += nack;
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
            crash_fail(&fl, "round %ld: the child was not killed but ended with status %d", round,
                       status);
            break;
        }
        char err[1024];
        uint64_t h;
        if (crash_verify(path, &h, err, sizeof err) < 0) {
            crash_fail(&fl, "round %ld (killed after %u us, %" PRId64 " acknowledged): %s", round,
                       (unsigned)delay, acked, err);
            break;
        }
        int64_t n = check_content(path, err, sizeof err);
        if (n < 0) {
            crash_fail(&fl, "round %ld: %s", round, err);
            break;
        }
        if (n != acked && n != acked + 1) {
            crash_fail(&fl,
                       "round %ld (killed after %u us): the files hold commit %" PRId64
                       " but %" PRId64 " was acknowledged",
                       round, (unsigned)delay, n, acked);
            break;
        }
        inflight_seen += (n == acked + 1);
        m = n;
        survived++;
    }
    printf("kills survived: %ld of %ld (seed=%" PRIu64 "), %ld commits acknowledged, %ld in-flight "
           "commits found durable, final counter %" PRId64 "\n",
           survived, kills, seed, acks_total, inflight_seen, m);
    fflush(stdout);
    if (fl.n == 0)
        crash_rmtree(dir);
    else
        fprintf(stderr, "files kept in %s\n", dir);
    free(path);
    free(dir);
    cr_assert_eq(fl.n, 0, "%s", fl.first);
    cr_assert_gt(acks_total, 0, "no commit was acknowledged in %ld rounds", kills);
}
