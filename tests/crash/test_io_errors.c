/*
 * test_io_errors.c - I/O errors and a full disk at every operation of the
 * workload (crash_workload.h).
 *
 * A dry run counts the reads, writes and syncs of the workload and records
 * the canonical hash after every commit. Then, for each kind of fault and a
 * sample of operation numbers k (every one with FOLIO_SOAK=1), the workload
 * runs with the fault injected at operation k of that kind:
 *
 *   - EIO at write k, at sync k, at read k; ENOSPC at write k; a short write
 *     (half the bytes, then EIO) at write k; and a disk that is full from
 *     write k on until the test clears it.
 *
 * Every unit (a transaction, a checkpoint, a close) is retried until it
 * completes, and the test checks:
 *
 *   - the call that meets the fault returns the injected code (FOLIO_IOERR,
 *     FOLIO_FULL; FOLIO_CANTOPEN from folio_open) with a real message - or
 *     succeeds when the operation was not on its critical path;
 *   - right after the failure a read transaction on the same handle sees
 *     exactly the last commit that returned OK (nothing committed is lost,
 *     nothing of the failed transaction is visible);
 *   - once the fault is cleared, the same handle commits the retried
 *     transaction, or its calls fail with a clear error and a reopened
 *     handle does;
 *   - at the end, reopened with the plain POSIX vfs: folio_check clean,
 *     integrity_check "ok", and the content is the dry run's final state.
 *
 * Knobs: FOLIO_SOAK=1 (every operation), FOLIO_IO_BUDGET (operations sampled
 * per fault kind, default 20), FOLIO_IO_POINT=k (only that operation),
 * FOLIO_IO_VERBOSE=1 (name the faults no call reported), FOLIO_CRASH_TRACE=1
 * or 2 (print the operations, 2 with the reads, numbered as faults count).
 */
#include "crash_support.h"
#include "crash_workload.h"
#include "os/os_fault.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fault_spec {
    const char *name;
    int kind; /* OSF_WRITE, OSF_SYNC, OSF_READ */
    int rc;   /* FOLIO_IOERR or FOLIO_FULL */
    int short_write;
    int sticky; /* every later operation of the kind fails too, until cleared */
} fault_spec;

typedef struct io_stats {
    int runs;         /* workload runs */
    int injected;     /* runs in which the fault fired */
    int failed_calls; /* calls that returned an error */
    int reopened;     /* runs in which the handle had to be reopened */
    int silent;       /* runs in which the fault fired but no call failed */
} io_stats;

static const char *kind_name(int kind)
{
    return kind == OSF_WRITE ? "write" : kind == OSF_SYNC ? "sync" : "read";
}

/* The dry run: counts per kind and the states after every commit. */
static void dry_run(wl *dry, const char *path, long counts[OSF_NKINDS])
{
    os_fault *f = os_fault_new(crash_vfs_fast());
    cr_assert_not_null(f);
    crash_remove_db(path);
    memset(dry, 0, sizeof *dry);
    dry->path = path;
    dry->opts = wl_options(FOLIO_SYNC_FULL);
    dry->fault = f;
    dry->record = 1;
    os_vfs_install(os_fault_vfs(f));
    int rc = wl_run_until_error(dry);
    os_vfs_install(crash_vfs_fast());
    wl_abandon(dry);
    cr_assert_eq(rc, 0, "dry run failed at %s: %s: %s", dry->fail_what, crash_rc_name(rc),
                 dry->fail_msg);
    os_fault_free(f);
    dry->fault = NULL;
    char err[1024];
    uint64_t h;
    cr_assert_eq(crash_verify(path, &h, err, sizeof err), 0, "after the dry run: %s", err);
    cr_assert_eq(h, dry->states[dry->nstates - 1]);

    /* The operations are counted without the hashing of the dry run. */
    wl w;
    memset(&w, 0, sizeof w);
    w.path = path;
    w.opts = wl_options(FOLIO_SYNC_FULL);
    w.fault = f = os_fault_new(crash_vfs_fast());
    crash_remove_db(path);
    /* FOLIO_CRASH_TRACE=1 (2: with reads) prints the operations of this run,
     * numbered as the faults count them. */
    os_vfs_install(crash_env_long("FOLIO_CRASH_TRACE", 0) ? crash_vfs_trace(os_fault_vfs(f))
                                                          : os_fault_vfs(f));
    rc = wl_run_until_error(&w);
    os_vfs_install(crash_vfs_fast());
    wl_abandon(&w);
    cr_assert_eq(rc, 0, "second run failed at %s: %s", w.fail_what, w.fail_msg);
    for (int k = 0; k < OSF_NKINDS; k++)
        counts[k] = os_fault_count(f, k);
    os_fault_free(f);
}

/* After a failure: a read transaction of the handle sees the last commit. */
static void check_in_process(wl *w, const wl *dry, const char *where, crash_failures *fl)
{
    if (!w->db)
        return;
    char err[1024];
    uint64_t h;
    if (crash_hash_db(w->db, &h, err, sizeof err) < 0) {
        crash_fail(fl, "%s: after the failure the handle cannot read: %s", where, err);
        return;
    }
    if (h == dry->states[w->ncommits])
        return;
    if (w->ncommits + 1 < dry->nstates && h == dry->states[w->ncommits + 1])
        crash_fail(fl, "%s: the failed call reported an error but its commit is visible", where);
    else
        crash_fail(fl,
                   "%s: after the failure the handle sees a state no commit produced "
                   "(%d commits returned OK)",
                   where, w->ncommits);
}

/*
 * One run with `spec` at operation k. A unit that fails is retried on the
 * same handle after the fault is cleared; if that fails too, the handle is
 * closed and reopened and the unit tried a third time.
 */
static void io_run(const wl *dry, const char *path, const fault_spec *spec, long k,
                   crash_failures *fl, io_stats *st)
{
    crash_remove_db(path);
    os_fault *f = os_fault_new(crash_vfs_fast());
    cr_assert_not_null(f);
    wl w;
    memset(&w, 0, sizeof w);
    w.path = path;
    w.opts = wl_options(FOLIO_SYNC_FULL);
    w.fault = f;
    os_fault_fail(f, spec->kind, k, spec->rc, spec->sticky, spec->short_write);
    os_vfs_install(os_fault_vfs(f));
    st->runs++;

    int nunits, failures = 0, reopened = 0;
    const wl_unit *units = wl_units(&nunits);
    char where[1400];
    int i = 0, attempt = 0;
    while (i < nunits) {
        int rc, opening = (w.db == NULL);
        rc = opening ? wl_open(&w) : wl_unit_run(&w, i);
        if (rc == 0) {
            if (!opening) {
                i++;
                attempt = 0;
            }
            continue;
        }
        failures++;
        attempt++;
        snprintf(where, sizeof where, "%s at %s %ld: unit \"%s\" attempt %d: %s: %s: %s",
                 spec->name, kind_name(spec->kind), k, units[i].name, attempt, w.fail_what,
                 crash_rc_name(rc), w.fail_msg);
        if (failures == 1) {
            int ok = rc == spec->rc || (opening && rc == FOLIO_CANTOPEN);
            if (!ok)
                crash_fail(fl, "%s: returned %s, expected %s", where, crash_rc_name(rc),
                           crash_rc_name(spec->rc));
            if (w.fail_msg[0] == 0 || strcmp(w.fail_msg, "not an error") == 0)
                crash_fail(fl, "%s: no error message", where);
            check_in_process(&w, dry, where, fl);
        } else if (w.fail_msg[0] == 0 || strcmp(w.fail_msg, "not an error") == 0) {
            crash_fail(fl, "%s: a later call failed without a message", where);
        }
        /* The fault clears; the first retry uses the same handle. */
        os_fault_reset(f);
        if (attempt == 1)
            continue;
        if (attempt == 2 && w.db) {
            /* The handle did not recover: a clear error is allowed, then reopen. */
            wl_abandon(&w);
            reopened = 1;
            continue;
        }
        crash_fail(fl, "%s: the unit still fails after the fault cleared and a reopen", where);
        break;
    }
    wl_abandon(&w);
    os_vfs_install(crash_vfs_fast());
    /* The counts restart when the fault is cleared after a failure. */
    int fired = failures > 0 || os_fault_count(f, spec->kind) >= k;
    os_fault_free(f);
    st->injected += fired;
    st->failed_calls += failures;
    st->reopened += reopened;
    if (fired && failures == 0) {
        st->silent++;
        if (crash_env_long("FOLIO_IO_VERBOSE", 0))
            fprintf(stderr, "absorbed: %s at %s %ld\n", spec->name, kind_name(spec->kind), k);
    }

    snprintf(where, sizeof where, "%s at %s %ld", spec->name, kind_name(spec->kind), k);
    char err[1024];
    uint64_t h;
    if (crash_verify(path, &h, err, sizeof err) < 0) {
        crash_fail(fl, "%s: at the end: %s", where, err);
        return;
    }
    if (h != dry->states[dry->nstates - 1])
        crash_fail(fl, "%s: at the end the content is not the final state (%d commits OK)", where,
                   w.ncommits);
}

static void run_spec(const fault_spec *spec)
{
    crash_failures fl;
    memset(&fl, 0, sizeof fl);
    char *dir = crash_tmpdir("io");
    char *path = crash_path(dir, "io.db");
    static wl dry;
    long counts[OSF_NKINDS];
    dry_run(&dry, path, counts);
    long n = counts[spec->kind];
    long budget = crash_soak() ? n : crash_env_long("FOLIO_IO_BUDGET", 20);
    long only = crash_env_long("FOLIO_IO_POINT", 0);
    long stride = budget > 0 && n > budget ? n / budget : 1;
    io_stats st;
    memset(&st, 0, sizeof st);
    int tried = 0;
    for (long k = 1; k <= n; k++) {
        /* The first few operations, then an even sample. */
        if (only ? k != only : !(k <= 3 || k % stride == 0))
            continue;
        io_run(&dry, path, spec, k, &fl, &st);
        tried++;
    }
    printf("faults injected: %d of %d runs (%s at %s 1..%ld, %d sampled): %d calls failed, "
           "%d handles reopened, %d faults absorbed; %d failures\n",
           st.injected, st.runs, spec->name, kind_name(spec->kind), n, tried, st.failed_calls,
           st.reopened, st.silent, fl.n);
    fflush(stdout);
    if (fl.n == 0)
        crash_rmtree(dir);
    else
        fprintf(stderr, "files of the last run kept in %s\n", dir);
    free(path);
    free(dir);
    os_vfs_install(NULL);
    cr_assert_eq(fl.n, 0, "%d failures; first: %s", fl.n, fl.first);
}

Test(crash_io_errors, eio_at_write_k, .timeout = 900)
{
    static const fault_spec s = {"EIO", OSF_WRITE, FOLIO_IOERR, 0, 0};
    run_spec(&s);
}

Test(crash_io_errors, short_write_at_write_k, .timeout = 900)
{
    static const fault_spec s = {"short write + EIO", OSF_WRITE, FOLIO_IOERR, 1, 0};
    run_spec(&s);
}

Test(crash_io_errors, enospc_at_write_k, .timeout = 900)
{
    static const fault_spec s = {"ENOSPC", OSF_WRITE, FOLIO_FULL, 0, 0};
    run_spec(&s);
}

Test(crash_io_errors, disk_full_from_write_k_until_cleared, .timeout = 900)
{
    static const fault_spec s = {"ENOSPC (sticky)", OSF_WRITE, FOLIO_FULL, 0, 1};
    run_spec(&s);
}

Test(crash_io_errors, eio_at_sync_k, .timeout = 900)
{
    static const fault_spec s = {"EIO", OSF_SYNC, FOLIO_IOERR, 0, 0};
    run_spec(&s);
}

Test(crash_io_errors, eio_at_read_k, .timeout = 900)
{
    static const fault_spec s = {"EIO", OSF_READ, FOLIO_IOERR, 0, 0};
    run_spec(&s);
}

/* ---- Regressions ---------------------------------------------------------- */

/* Rows of table t seen by a new read transaction, or a negative error. */
static int count_rows(folio_db *db, const char *table)
{
    folio_txn *txn;
    int rc = folio_begin(&txn, db, FOLIO_TXN_READ);
    if (rc < 0)
        return rc;
    folio_table *t;
    folio_cursor *c;
    int n = 0;
    if ((rc = folio_table_open(&t, txn, table)) == 0 &&
        (rc = folio_cursor_open(&c, t, NULL)) == 0) {
        for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
            n++;
        folio_cursor_close(c);
    }
    folio_rollback(txn);
    return rc == FOLIO_DONE ? n : (rc < 0 ? rc : FOLIO_ERROR);
}

static int insert_one(folio_db *db, const char *table, int64_t x)
{
    folio_txn *txn;
    int rc = folio_begin(&txn, db, FOLIO_TXN_WRITE);
    if (rc < 0)
        return rc;
    folio_table *t;
    folio_value v;
    v.type = FOLIO_INTEGER;
    v.u.i = x;
    if ((rc = folio_table_open(&t, txn, table)) < 0 || (rc = folio_insert(NULL, t, &v, 1)) < 0) {
        folio_rollback(txn);
        return rc;
    }
    return folio_commit(txn);
}

/*
 * Bug: with FOLIO_SYNC_FULL, when the fsync of the WAL at commit fails,
 * folio_commit returns FOLIO_IOERR ("cannot write the WAL: I/O error") and
 * forgets the frames in memory - but they are in the file with a valid
 * commit frame, and the next transaction's refresh of the WAL (meant for
 * commits of other processes) scans them and makes the failed commit
 * visible. Retrying the transaction then fails (UNIQUE constraint, "table
 * already exists") or applies it twice.
 */
Test(crash_io_errors, commit_whose_wal_sync_failed_stays_invisible)
{
    char *dir = crash_tmpdir("io-sync");
    char *path = crash_path(dir, "t.db");
    os_fault *f = os_fault_new(crash_vfs_fast());
    os_vfs_install(os_fault_vfs(f));
    folio_options o = FOLIO_OPTIONS_INIT;
    o.sync = FOLIO_SYNC_FULL;
    o.wal_autocheckpoint = 0;
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK);
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(txn, "CREATE TABLE t(x INTEGER PRIMARY KEY)"), FOLIO_OK);
    cr_assert_eq(folio_commit(txn), FOLIO_OK);

    os_fault_fail(f, OSF_SYNC, 1, FOLIO_IOERR, 0, 0);
    int rc = insert_one(db, "t", 7);
    cr_assert_eq(rc, FOLIO_IOERR, "commit with a failing WAL sync returned %s", crash_rc_name(rc));
    cr_assert(crash_has_msg(db));
    rc = count_rows(db, "t");
    cr_expect_eq(rc, 0, "the commit that returned FOLIO_IOERR is visible: %d row(s)", rc);

    rc = insert_one(db, "t", 7);
    cr_expect_eq(rc, FOLIO_OK, "retrying the transaction: %s: %s", crash_rc_name(rc),
                 folio_errmsg(db));
    cr_expect_eq(count_rows(db, "t"), 1);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    os_vfs_install(NULL);
    os_fault_free(f);
    char err[1024];
    cr_assert_eq(crash_verify(path, NULL, err, sizeof err), 0, "%s", err);
    crash_rmtree(dir);
    free(path);
    free(dir);
}
