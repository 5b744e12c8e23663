/*
 * test_log_crash.c - the commit log across power losses and I/O errors.
 *
 * Power loss (os_fault: everything synced survives, of the rest an
 * arbitrary subset, torn and reordered) at a sample of the write and sync
 * operations of a workload of commits with FOLIO_SYNC_FULL and the log on.
 * After each loss the database is reopened and:
 *
 *   - it holds the state of a commit that returned OK, or of the one that
 *     failed at the loss (never less than the last OK one);
 *   - one more commit succeeds (the log is repaired: a record of a commit
 *     that did not happen is cut off) and needs no gap: with FOLIO_SYNC_FULL
 *     every durable commit has its record;
 *   - restore to the recovered version, and to the new one, equals those
 *     states (read by libsqlite3 from the restored file).
 *
 * I/O errors: a write or sync of the log that fails fails the commit (the
 * database does not move), and the next commit, once the fault is gone,
 * succeeds and restores.
 *
 * Environment: FOLIO_SEED (printed), FOLIO_SOAK=1 (every operation).
 */
#include "crash_support.h"
#include "os/os_fault.h"

#include <criterion/criterion.h>
#include <folio.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"

TestSuite(crash_log, .timeout = 900);

#define NCOMMITS 40

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

/* The content of t through folio: (id, v, length(pad)) in id order. */
static int folio_hash(folio_db *db, uint64_t *out)
{
    folio_txn *t;
    int rc = folio_begin(&t, db, FOLIO_TXN_READ);
    if (rc < 0)
        return rc;
    folio_table *tb;
    folio_cursor *c;
    uint64_t h = 1;
    if ((rc = folio_table_open(&tb, t, "t")) == 0 && (rc = folio_cursor_open(&c, tb, NULL)) == 0) {
        for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
            folio_value v, p;
            folio_cursor_column(&v, c, 1);
            h = mix(mix(h, (uint64_t)folio_cursor_rowid(c)), (uint64_t)v.u.i);
            folio_cursor_column(&p, c, 2);
            h = mix(h, p.u.s.n);
        }
        folio_cursor_close(c);
        rc = rc == FOLIO_DONE ? 0 : rc;
    }
    folio_rollback(t);
    *out = h;
    return rc;
}

static uint64_t sqlite_hash(const char *path)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    cr_assert_eq(
        sqlite3_prepare_v2(db, "SELECT id, v, length(pad) FROM t ORDER BY id", -1, &st, NULL),
        SQLITE_OK);
    uint64_t h = 1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        h = mix(mix(h, (uint64_t)sqlite3_column_int64(st, 0)),
                (uint64_t)sqlite3_column_int64(st, 1));
        h = mix(h, (uint64_t)sqlite3_column_int64(st, 2));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return h;
}

static folio_db *open_full(const char *path, int *rc_out)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.sync = FOLIO_SYNC_FULL;
    o.wal_autocheckpoint = 30;
    o.cache_bytes = 200 << 10; /* big transactions spill */
    o.flags |= FOLIO_OPEN_INLINE_CHECKPOINT;
    folio_db *db = NULL;
    *rc_out = folio_open(&db, path, &o);
    return db;
}

/* Commit number i of the workload (deterministic). */
static int commit_i(folio_db *db, int i)
{
    folio_txn *t;
    int rc = folio_begin(&t, db, FOLIO_TXN_WRITE);
    if (rc < 0)
        return rc;
    folio_table *tb;
    if ((rc = folio_table_open(&tb, t, "t")) < 0) {
        folio_rollback(t);
        return rc;
    }
    uint64_t rng = 1000 + (uint64_t)i;
    static char pad[2500];
    memset(pad, 'a' + i % 26, sizeof pad);
    int n = i % 9 == 4 ? 300 : 1 + (int)compat_below(&rng, 4);
    for (int k = 0; k < n && rc == 0; k++) {
        int64_t id = 1 + (int64_t)compat_below(&rng, i % 9 == 4 ? 5000 : 200);
        folio_value v[3] = {{FOLIO_INTEGER, {.i = id}},
                            {FOLIO_INTEGER, {.i = i}},
                            {FOLIO_TEXT, {.s = {pad, (size_t)compat_below(&rng, sizeof pad)}}}};
        if (compat_below(&rng, 5) == 0) {
            rc = folio_delete(tb, id);
            if (rc == FOLIO_NOTFOUND || rc == FOLIO_NOTFOUND_ERR)
                rc = 0;
        } else {
            rc = folio_upsert(NULL, tb, id, v, 3);
        }
    }
    if (rc < 0) {
        folio_rollback(t);
        return rc;
    }
    return folio_commit(t);
}

static void setup(const char *path)
{
    crash_remove_db(path);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s-log'", path);
    cr_assert_eq(system(cmd), 0);
    int rc;
    folio_db *db = open_full(path, &rc);
    cr_assert_eq(rc, FOLIO_OK);
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(t, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)"),
                 FOLIO_OK);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    cr_assert_eq(folio_log_enable(db, FOLIO_LOG_ZSTD), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
}

typedef struct run {
    uint64_t version[NCOMMITS + 1];
    uint64_t hash[NCOMMITS + 1];
    int ok; /* commits that returned OK */
} run;

/* Run the workload on the current vfs; stop at the first failure. */
static int workload(const char *path, run *r)
{
    int rc;
    folio_db *db = open_full(path, &rc);
    if (rc < 0)
        return rc;
    r->ok = 0;
    folio_version(db, &r->version[0]);
    folio_hash(db, &r->hash[0]);
    for (int i = 1; i <= NCOMMITS; i++) {
        if ((rc = commit_i(db, i)) < 0)
            break;
        r->ok = i;
        if ((rc = folio_version(db, &r->version[i])) < 0 || (rc = folio_hash(db, &r->hash[i])) < 0)
            break;
    }
    folio_close(db);
    return rc < 0 ? rc : 0;
}

Test(crash_log, power_loss_at_every_sampled_operation)
{
    char *dir = crash_tmpdir("logcrash");
    char *path = crash_path(dir, "c.db");
    uint64_t seed = compat_seed(3);
    /* The dry run: the states, and how many writes and syncs. */
    setup(path);
    os_fault *f = os_fault_new(crash_vfs_fast());
    os_vfs_install(os_fault_vfs(f));
    run dry;
    int rc = workload(path, &dry);
    long nops = os_fault_count(f, OSF_WRITE) + os_fault_count(f, OSF_SYNC);
    os_vfs_install(crash_vfs_fast());
    os_fault_free(f);
    cr_assert_eq(rc, 0, "dry run: %d", rc);
    cr_assert_eq(dry.ok, NCOMMITS);
    int budget = getenv("FOLIO_SOAK") && atoi(getenv("FOLIO_SOAK")) ? (int)nops : 24;
    int checked = 0;
    for (int s = 0; s < budget; s++) {
        long k = 1 + (budget >= nops ? s : (long)((uint64_t)s * (uint64_t)nops / (uint64_t)budget));
        setup(path);
        f = os_fault_new(crash_vfs_fast());
        os_fault_crash_at(f, k);
        os_vfs_install(os_fault_vfs(f));
        run r;
        workload(path, &r);
        os_vfs_install(crash_vfs_fast());
        long dropped = os_fault_crash(f, seed + (uint64_t)k, 1, 1);
        os_fault_free(f);
        cr_assert_geq(dropped, 0);
        /* Reopened: the state of the last OK commit, or of the one in flight. */
        folio_db *db = open_full(path, &rc);
        cr_assert_eq(rc, FOLIO_OK, "crash point %ld: reopen: %s", k, folio_open_errmsg());
        uint64_t v, h;
        cr_assert_eq(folio_version(db, &v), FOLIO_OK);
        cr_assert_eq(folio_hash(db, &h), 0);
        int at = -1;
        for (int i = r.ok; i <= NCOMMITS && i <= r.ok + 1; i++)
            if (dry.version[i] == v && dry.hash[i] == h)
                at = i;
        cr_assert_geq(at, 0,
                      "seed=%" PRIu64 " crash point %ld: version %" PRIu64
                      " is neither the last OK commit (%d) nor the next",
                      seed, k, v, r.ok);
        /* One more commit: the log repaired, no gap needed. */
        cr_assert_eq(commit_i(db, at + 1), FOLIO_OK, "seed=%" PRIu64 " crash point %ld: %s", seed,
                     k, folio_errmsg(db));
        uint64_t v2, h2;
        cr_assert_eq(folio_version(db, &v2), FOLIO_OK);
        cr_assert_eq(v2, v + 1);
        cr_assert_eq(folio_hash(db, &h2), 0);
        cr_assert_eq(folio_close(db), FOLIO_OK);
        char dest[700];
        snprintf(dest, sizeof dest, "%s/r.db", dir);
        unlink(dest);
        uint64_t got;
        rc = folio_restore(path, dest, v, -1, &got);
        cr_assert_eq(rc, FOLIO_OK, "seed=%" PRIu64 " crash point %ld: restore %" PRIu64 ": %s",
                     seed, k, v, folio_open_errmsg());
        cr_assert_eq(sqlite_hash(dest), h, "crash point %ld: version %" PRIu64 " restored wrong", k,
                     v);
        unlink(dest);
        rc = folio_restore(path, dest, v2, -1, &got);
        cr_assert_eq(rc, FOLIO_OK, "crash point %ld: restore %" PRIu64 ": %s", k, v2,
                     folio_open_errmsg());
        cr_assert_eq(sqlite_hash(dest), h2);
        unlink(dest);
        checked++;
    }
    cr_assert_eq(checked, budget);
    crash_rmtree(dir);
    free(path);
    free(dir);
}

/* A failed write or sync of the log fails the commit; then it goes on. */
Test(crash_log, io_errors_in_the_log_fail_the_commit)
{
    char *dir = crash_tmpdir("logio");
    char *path = crash_path(dir, "c.db");
    int faults = 0;
    for (int kind = 0; kind < 2; kind++) {
        for (long nth = 1; nth <= 3; nth++) {
            setup(path);
            int rc;
            folio_db *db = open_full(path, &rc);
            cr_assert_eq(rc, FOLIO_OK);
            cr_assert_eq(commit_i(db, 1), FOLIO_OK);
            uint64_t v0, h0;
            folio_version(db, &v0);
            folio_hash(db, &h0);
            cr_assert_eq(folio_close(db), FOLIO_OK);
            /* The fault: on the log's files only (the path names them). */
            os_fault *f = os_fault_new(crash_vfs_fast());
            os_vfs_install(os_fault_vfs(f));
            db = open_full(path, &rc);
            cr_assert_eq(rc, FOLIO_OK);
            os_fault_reset(f);
            os_fault_fail(f, kind == 0 ? OSF_WRITE : OSF_SYNC, nth, FOLIO_IOERR, 0, 0);
            rc = commit_i(db, 2);
            uint64_t v1, h1;
            folio_version(db, &v1);
            folio_hash(db, &h1);
            if (rc < 0) {
                faults++;
                cr_assert(rc == FOLIO_IOERR, "%d %s", rc, folio_errmsg(db));
                cr_assert_eq(v1, v0, "a failed commit moved the version");
                cr_assert_eq(h1, h0, "a failed commit changed the database");
                cr_assert_eq(commit_i(db, 2), FOLIO_OK, "%s", folio_errmsg(db));
                folio_version(db, &v1);
                folio_hash(db, &h1);
            }
            cr_assert_eq(v1, v0 + 1);
            cr_assert_eq(folio_close(db), FOLIO_OK);
            os_vfs_install(crash_vfs_fast());
            os_fault_free(f);
            char dest[700];
            snprintf(dest, sizeof dest, "%s/r.db", dir);
            unlink(dest);
            cr_assert_eq(folio_restore(path, dest, v1, -1, NULL), FOLIO_OK, "%s",
                         folio_open_errmsg());
            cr_assert_eq(sqlite_hash(dest), h1);
            unlink(dest);
        }
    }
    cr_assert_gt(faults, 0, "no fault failed a commit");
    crash_rmtree(dir);
    free(path);
    free(dir);
}
