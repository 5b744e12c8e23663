/*
 * test_crash_points.c - power loss at every write and sync of a workload.
 *
 * The workload (crash_workload.h) runs once through the fault vfs to learn
 * its number N of write, sync and truncate operations and the canonical
 * hash of the database after each commit. Then for crash points k in 1..N
 * (every one with FOLIO_SOAK=1, else the first and last operations of every
 * unit plus an even sample) it runs again with a power loss at operation k,
 * stops at the first failed call, puts the files into a post-crash state
 * (synced data survives; unsynced writes survive at random, reordered, torn
 * at 512-byte sectors), and checks through the POSIX vfs (with fsync turned
 * into a no-op: the fault vfs has already decided what is durable):
 *
 *   - folio_check is clean and libsqlite3's integrity_check says "ok";
 *   - folio and libsqlite3 read the same content;
 *   - that content is the state after a commit that returned OK:
 *     with FOLIO_SYNC_FULL the last one (or the one whose commit call failed,
 *     which may have reached the disk), with FOLIO_SYNC_NORMAL any commit
 *     from the last one made durable by a checkpoint or close up to the last
 *     one - a prefix of the commits, never a mix;
 *   - the recovered file can be written to, checkpointed and closed.
 *
 * Small workloads below pin down the bugs the big one found, each swept over
 * all its crash points and several seeds.
 *
 * Knobs: FOLIO_SOAK=1 (every point, 3 seeds each), FOLIO_CRASH_BUDGET (points
 * sampled per sync level, default 70), FOLIO_SEED (base of the crash seeds),
 * FOLIO_CRASH_POINT=k (only that point), FOLIO_CRASH_TEAR=0 and
 * FOLIO_CRASH_REORDER=0 (milder crashes), FOLIO_CRASH_TRACE=1 (print the
 * operations of the dry run).
 */
#include "crash_support.h"
#include "crash_workload.h"
#include "os/os_fault.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sweep_result {
    int points;  /* crash points tried */
    int runs;    /* runs (points x seeds) */
    long nops;   /* N */
    int reached; /* runs in which the crash point was reached */
} sweep_result;

static const char *sync_name(int sync)
{
    return sync == FOLIO_SYNC_FULL ? "full" : sync == FOLIO_SYNC_NORMAL ? "normal" : "off";
}

/* The crash points to try: unit boundaries and an even sample (budget <= 0:
 * every point). */
static long *choose_points(const wl *dry, int nunits, long n, int budget, long offset, long from,
                           int *out_count)
{
    char *mark = calloc((size_t)n + 2, 1);
    cr_assert_not_null(mark);
    if (budget <= 0 || budget >= n) {
        for (long k = from; k <= n; k++)
            mark[k] = 1;
    } else {
        for (int i = 0; i < nunits; i++) {
            long a = dry->unit_ops[i] + 1, b = dry->unit_ops[i + 1];
            long pick[4] = {a, a + 1, b - 1, b};
            for (int j = 0; j < 4; j++)
                if (pick[j] >= 1 && pick[j] <= n && pick[j] >= a && pick[j] <= b)
                    mark[pick[j]] = 1;
        }
        long stride = n / budget;
        if (stride < 1)
            stride = 1;
        for (long k = 1 + offset % stride; k <= n; k += stride)
            mark[k] = 1;
    }
    for (long k = 1; k < from && k <= n; k++)
        mark[k] = 0;
    int count = 0;
    for (long k = 1; k <= n; k++)
        count += mark[k];
    long *v = malloc(sizeof *v * (size_t)(count ? count : 1));
    cr_assert_not_null(v);
    int j = 0;
    for (long k = 1; k <= n; k++)
        if (mark[k])
            v[j++] = k;
    free(mark);
    *out_count = count;
    return v;
}

/* Which unit the operation k belongs to. */
static const char *unit_of(const wl *dry, long k)
{
    int nunits;
    const wl_unit *u = wl_units_of(dry, &nunits);
    for (int i = 0; i < nunits; i++)
        if (k <= dry->unit_ops[i + 1])
            return u[i].name;
    return "?";
}

static void wl_setup(wl *w, const wl_unit *units, int nunits, const char *path, int sync,
                     os_fault *f)
{
    memset(w, 0, sizeof *w);
    w->units = units;
    w->nunits = nunits;
    w->path = path;
    w->opts = wl_options(sync);
    w->fault = f;
}

/* The dry run: the states after every commit and the operation counts. */
static void dry_run(wl *dry, const wl_unit *units, int nunits, const char *path, int sync)
{
    /* FOLIO_CRASH_TRACE=1 prints the operations of the dry run. */
    os_vfs *base = crash_env_long("FOLIO_CRASH_TRACE", 0) ? crash_vfs_trace(crash_vfs_fast())
                                                          : crash_vfs_fast();
    os_fault *f = os_fault_new(base);
    cr_assert_not_null(f);
    crash_remove_db(path);
    wl_setup(dry, units, nunits, path, sync, f);
    dry->record = 1;
    os_vfs_install(os_fault_vfs(f));
    int rc = wl_run_until_error(dry);
    os_vfs_install(crash_vfs_fast());
    wl_abandon(dry);
    cr_assert_eq(rc, 0, "dry run (sync=%s) failed at %s: %s: %s", sync_name(sync), dry->fail_what,
                 crash_rc_name(rc), dry->fail_msg);
    os_fault_free(f);
    dry->fault = NULL;

    char err[1024];
    uint64_t h;
    cr_assert_eq(crash_verify(path, &h, err, sizeof err), 0, "after the dry run: %s", err);
    cr_assert_eq(h, dry->states[dry->nstates - 1],
                 "after the dry run the file does not hold the last commit");

    /* The same workload without the hashing does the same operations. */
    f = os_fault_new(crash_vfs_fast());
    wl w;
    wl_setup(&w, units, nunits, path, sync, f);
    crash_remove_db(path);
    os_vfs_install(os_fault_vfs(f));
    rc = wl_run_until_error(&w);
    os_vfs_install(crash_vfs_fast());
    wl_abandon(&w);
    wl_units_of(dry, &nunits);
    long again = wl_ops(&w), n = dry->unit_ops[nunits];
    os_fault_free(f);
    cr_assert_eq(rc, 0, "second run failed at %s: %s", w.fail_what, w.fail_msg);
    cr_assert_eq(again, n, "the workload is not deterministic: %ld then %ld operations", n, again);
}

/* One crash run at point k with crash seed `seed`; failures go to fl. */
static void crash_run(const wl *dry, const char *path, int sync, long k, uint64_t seed,
                      crash_failures *fl, sweep_result *res)
{
    crash_remove_db(path);
    os_fault *f = os_fault_new(crash_vfs_fast());
    cr_assert_not_null(f);
    wl w;
    wl_setup(&w, dry->units, dry->nunits, path, sync, f);
    os_fault_crash_at(f, k);
    os_vfs_install(os_fault_vfs(f));
    int rc = wl_run_until_error(&w);
    wl_abandon(&w);
    os_vfs_install(crash_vfs_fast());
    int reached = os_fault_crashed(f);
    int tear = (int)crash_env_long("FOLIO_CRASH_TEAR", 1);
    int reorder = (int)crash_env_long("FOLIO_CRASH_REORDER", 1);
    long dropped = os_fault_crash(f, seed, tear, reorder);
    os_fault_free(f);
    res->runs++;
    res->reached += reached;

    char where[1400];
    snprintf(where, sizeof where,
             "sync=%s crash point %ld (in \"%s\") seed %" PRIu64
             ": stopped at %s (%s: %s), %d commits OK, %ld unsynced writes dropped",
             sync_name(sync), k, unit_of(dry, k), seed, rc < 0 ? w.fail_what : "the end",
             crash_rc_name(rc), rc < 0 ? w.fail_msg : "", w.ncommits, dropped);
    if (dropped < 0) {
        crash_fail(fl, "%s: os_fault_crash failed", where);
        return;
    }
    /* An I/O error while opening is reported as FOLIO_CANTOPEN. */
    int open_failed = strcmp(w.fail_what, "folio_open") == 0;
    if (rc < 0 && rc != FOLIO_IOERR && !(rc == FOLIO_CANTOPEN && open_failed))
        crash_fail(fl, "%s: the failing call returned %s, not FOLIO_IOERR", where,
                   crash_rc_name(rc));
    if (rc < 0 && !reached)
        crash_fail(fl, "%s: a call failed before the crash point", where);

    char err[1024];
    uint64_t h;
    if (crash_verify(path, &h, err, sizeof err) < 0) {
        crash_fail(fl, "%s: %s", where, err);
        return;
    }
    int lo = w.durable, hi = w.ncommits + (w.inflight ? 1 : 0);
    int match = -1;
    for (int j = 0; j < dry->nstates; j++)
        if (dry->states[j] == h && (match < lo || match > hi))
            match = j;
    if (match < lo || match > hi) {
        if (match >= 0)
            crash_fail(fl, "%s: recovered the state after commit %d; expected a commit in %d..%d",
                       where, match, lo, hi);
        else
            crash_fail(fl, "%s: recovered a state that no commit produced (expected %d..%d)", where,
                       lo, hi);
        return;
    }
    if (crash_write_after(path, h, err, sizeof err) < 0)
        crash_fail(fl, "%s: %s", where, err);
}

/*
 * Dry run, then crash at the chosen points with `nseeds` seeds each.
 * budget <= 0: every point. Only points in units first_unit.. are tried.
 */
static sweep_result sweep(const char *tag, const wl_unit *units, int nunits, int first_unit,
                          int sync, int budget, int nseeds, uint64_t seed_base, crash_failures *fl)
{
    sweep_result res = {0, 0, 0, 0};
    char *dir = crash_tmpdir(tag);
    char *path = crash_path(dir, "crash.db");
    static wl dry; /* large: keep it off the stack */
    dry_run(&dry, units, nunits, path, sync);
    int n_units;
    wl_units_of(&dry, &n_units);
    long n = dry.unit_ops[n_units];
    res.nops = n;

    long only = crash_env_long("FOLIO_CRASH_POINT", 0);
    int count = 0;
    long *points;
    if (only > 0) {
        points = malloc(sizeof *points);
        cr_assert_not_null(points);
        points[0] = only;
        count = 1;
    } else {
        points = choose_points(&dry, n_units, n, budget, (long)sync * 7,
                               dry.unit_ops[first_unit] + 1, &count);
    }
    int before = fl->n;
    for (int i = 0; i < count; i++)
        for (int s = 0; s < nseeds; s++)
            crash_run(&dry, path, sync, points[i],
                      seed_base + (uint64_t)points[i] * 131 + (uint64_t)s, fl, &res);
    res.points = count;
    free(points);
    if (fl->n == before)
        crash_rmtree(dir);
    else
        fprintf(stderr, "files of the last failing run kept in %s\n", dir);
    free(path);
    free(dir);
    return res;
}

Test(crash_points, every_crash_point_recovers_a_committed_prefix, .timeout = 1800)
{
    crash_failures fl;
    memset(&fl, 0, sizeof fl);
    int budget = crash_soak() ? 0 : (int)crash_env_long("FOLIO_CRASH_BUDGET", 70);
    int nseeds = crash_soak() ? 3 : 1;
    uint64_t base = crash_seed(1000, "crash points: base of the crash seeds");
    int n;
    const wl_unit *units = wl_units(&n);
    sweep_result full = sweep("points", units, n, 0, FOLIO_SYNC_FULL, budget, nseeds, base, &fl);
    sweep_result normal =
        sweep("points", units, n, 0, FOLIO_SYNC_NORMAL, budget, nseeds, base + 1, &fl);
    printf("crash points tried: %d (sync=full), %d (sync=normal) of %ld and %ld operations; "
           "%d runs, %d failures\n",
           full.points, normal.points, full.nops, normal.nops, full.runs + normal.runs, fl.n);
    fflush(stdout);
    os_vfs_install(NULL);
    cr_assert_eq(fl.n, 0, "%d crash runs failed; first: %s", fl.n, fl.first);
}

/* ---- Regressions: small workloads swept over every point and many seeds ---- */

static int mini_create(wl *w, folio_txn *txn)
{
    int rc = folio_exec(txn, "CREATE TABLE t(x INTEGER PRIMARY KEY, y BLOB)");
    if (rc < 0) {
        w->fail_rc = rc;
        snprintf(w->fail_what, sizeof w->fail_what, "folio_exec(CREATE TABLE)");
        snprintf(w->fail_msg, sizeof w->fail_msg, "%s", folio_errmsg(w->db));
        return rc;
    }
    return 0;
}

/* Insert row w->arg with a blob of w->arg bytes. */
static int mini_insert(wl *w, folio_txn *txn)
{
    folio_table *t;
    int rc = folio_table_open(&t, txn, "t");
    if (rc < 0) {
        snprintf(w->fail_what, sizeof w->fail_what, "folio_table_open");
        return w->fail_rc = rc;
    }
    size_t n = (size_t)w->arg;
    uint8_t *b = malloc(n ? n : 1);
    cr_assert_not_null(b);
    crash_fill(b, n, n);
    folio_value v[2];
    v[0].type = FOLIO_NULL;
    v[1].type = FOLIO_BLOB;
    v[1].u.s.p = b;
    v[1].u.s.n = n;
    rc = folio_insert(NULL, t, v, 2);
    free(b);
    if (rc < 0) {
        w->fail_rc = rc;
        snprintf(w->fail_what, sizeof w->fail_what, "folio_insert");
        snprintf(w->fail_msg, sizeof w->fail_msg, "%s", folio_errmsg(w->db));
    }
    return rc < 0 ? rc : 0;
}

static void mini_sweep(const char *tag, const wl_unit *units, int nunits, int first_unit,
                       int nseeds)
{
    crash_failures fl;
    memset(&fl, 0, sizeof fl);
    if (crash_soak())
        nseeds *= 4;
    sweep_result a = sweep(tag, units, nunits, first_unit, FOLIO_SYNC_FULL, 0, nseeds, 1, &fl);
    sweep_result b = sweep(tag, units, nunits, first_unit, FOLIO_SYNC_NORMAL, 0, nseeds, 2, &fl);
    printf("%s: crash points tried: %d (sync=full), %d (sync=normal) x %d seeds; %d failures\n",
           tag, a.points, b.points, nseeds, fl.n);
    fflush(stdout);
    os_vfs_install(NULL);
    cr_assert_eq(fl.n, 0, "%d of %d crash runs failed; first: %s", fl.n, a.runs + b.runs, fl.first);
}

/*
 * Bug: creating a database writes page 1 straight into the file and syncs
 * it. A power loss during that first write can leave a file of one page
 * whose first 512-byte sector is zeros (the write torn): neither folio nor
 * libsqlite3 will open it again ("file is not a database"), although no
 * commit ever returned OK. Seen at crash point 2 (the sync) with seeds whose
 * tearing drops sector 0.
 */
Test(crash_create, crash_while_creating_leaves_an_openable_database, .timeout = 600)
{
    static const wl_unit units[] = {
        {WL_TXN, "create table", mini_create, 0},
        {WL_TXN, "insert", mini_insert, 100},
        {WL_CLOSE, "close", NULL, 0},
    };
    mini_sweep("create", units, 3, 0, 24);
}

/*
 * Bug: after a checkpoint has copied every frame back, the next write
 * transaction starts a new WAL generation by writing a new header (new
 * salts) over the old one and then frames from offset 32 on - without
 * syncing the header first. A power loss then can keep the OLD header while
 * the new frames have replaced some old frames but not the first one: the
 * old generation's valid prefix (shorter than what the database file already
 * holds) is replayed over the newer database file. The result mixes pages
 * of two commits ("page 2: refers to page 10 as a child page, out of range
 * 1..5"). The same happens with FOLIO_SYNC_NORMAL when a checkpoint syncs
 * the WAL of the new generation. SQLite syncs the WAL header of a restarted
 * WAL before writing frames (syncHeader in sqlite3WalFrames).
 */
Test(crash_restart, old_wal_generation_never_resurfaces, .timeout = 600)
{
    static const wl_unit units[] = {
        {WL_TXN, "create table", mini_create, 0},
        {WL_TXN, "insert small", mini_insert, 10},
        {WL_TXN, "insert 20 KB", mini_insert, 20000},
        {WL_CHECKPOINT, "checkpoint PASSIVE", NULL, FOLIO_CHECKPOINT_PASSIVE},
        {WL_TXN, "insert small", mini_insert, 20},
        {WL_TXN, "insert small", mini_insert, 30},
        {WL_CLOSE, "close", NULL, 0},
    };
    mini_sweep("restart", units, 7, 3, 24);
}

/* The same after a TRUNCATE checkpoint: the WAL is cut to zero bytes and a
 * new generation begins, neither synced before frames follow. */
Test(crash_restart, old_wal_generation_never_resurfaces_after_truncate, .timeout = 600)
{
    static const wl_unit units[] = {
        {WL_TXN, "create table", mini_create, 0},
        {WL_TXN, "insert small", mini_insert, 10},
        {WL_TXN, "insert 20 KB", mini_insert, 20000},
        {WL_TXN, "insert small", mini_insert, 40},
        {WL_CHECKPOINT, "checkpoint TRUNCATE", NULL, FOLIO_CHECKPOINT_TRUNCATE},
        {WL_TXN, "insert small", mini_insert, 20},
        {WL_TXN, "insert small", mini_insert, 30},
        {WL_CLOSE, "close", NULL, 0},
    };
    mini_sweep("truncate", units, 8, 4, 24);
}

/* One ALTER TABLE statement, its failure recorded. */
static int mini_exec(wl *w, folio_txn *txn, const char *sql)
{
    int rc = folio_exec(txn, sql);
    if (rc < 0) {
        w->fail_rc = rc;
        snprintf(w->fail_what, sizeof w->fail_what, "folio_exec(%s)", sql);
        snprintf(w->fail_msg, sizeof w->fail_msg, "%s", folio_errmsg(w->db));
    }
    return rc < 0 ? rc : 0;
}

static int mini_alter_add(wl *w, folio_txn *txn)
{
    return mini_exec(w, txn, "ALTER TABLE t ADD COLUMN z TEXT DEFAULT 'z'");
}

static int mini_alter_rename(wl *w, folio_txn *txn)
{
    int rc = mini_exec(w, txn, "ALTER TABLE t RENAME COLUMN y TO yy");
    return rc < 0 ? rc : mini_exec(w, txn, "ALTER TABLE t RENAME TO t2");
}

static int mini_alter_drop(wl *w, folio_txn *txn)
{
    return mini_exec(w, txn, "ALTER TABLE t2 DROP COLUMN yy");
}

/* ALTER TABLE at every crash point: ADD COLUMN and the renames change
 * sqlite_schema and the header; DROP COLUMN rewrites every row (overflow
 * chains freed) through a second tree. A power loss leaves the schema and
 * rows of one commit or the next, never a mix. */
Test(crash_alter, alter_table_at_every_crash_point, .timeout = 900)
{
    static const wl_unit units[] = {
        {WL_TXN, "create table", mini_create, 0},
        {WL_TXN, "insert 20 KB", mini_insert, 20000},
        {WL_TXN, "insert small", mini_insert, 30},
        {WL_TXN, "add column", mini_alter_add, 0},
        {WL_TXN, "rename column", mini_alter_rename, 0},
        {WL_TXN, "drop column", mini_alter_drop, 0},
        {WL_CLOSE, "close", NULL, 0},
    };
    mini_sweep("alter", units, 7, 3, 12);
}

/*
 * Bug: folio_close treats every failure to take the exclusive lock for its
 * final checkpoint as "another process holds the file": it skips the
 * checkpoint and returns FOLIO_OK - also when the lock failed with an I/O
 * error. With FOLIO_SYNC_NORMAL the last commits are then neither synced
 * nor checkpointed, and a power loss after a close that returned OK loses
 * them. Found by the big workload at crash point 443 (sync=normal): the
 * power loss hit the automatic checkpoint of the last commit, the final
 * close returned FOLIO_OK, the recovered file held commit 19 of 20.
 */
Test(crash_close, close_that_returns_ok_has_made_the_commits_durable)
{
    crash_failures fl;
    memset(&fl, 0, sizeof fl);
    char *dir = crash_tmpdir("close");
    char *path = crash_path(dir, "c.db");
    int ok_closes = 0;
    for (uint64_t seed = 1; seed <= 16; seed++) {
        crash_remove_db(path);
        os_fault *f = os_fault_new(crash_vfs_fast());
        os_vfs_install(os_fault_vfs(f));
        folio_options o = wl_options(FOLIO_SYNC_NORMAL);
        o.wal_autocheckpoint = 0;
        folio_db *db;
        cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK);
        folio_txn *txn;
        cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
        cr_assert_eq(folio_exec(txn, "CREATE TABLE t(x INTEGER PRIMARY KEY, y BLOB)"), FOLIO_OK);
        cr_assert_eq(folio_commit(txn), FOLIO_OK);
        /* Make it durable, then one more commit that only the close can. */
        cr_assert_eq(folio_checkpoint(db, FOLIO_CHECKPOINT_FULL, NULL, NULL), FOLIO_OK);
        wl w;
        memset(&w, 0, sizeof w);
        w.db = db;
        cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
        w.arg = 5000;
        cr_assert_eq(mini_insert(&w, txn), 0);
        cr_assert_eq(folio_commit(txn), FOLIO_OK);
        uint64_t want;
        char err[1024];
        cr_assert_eq(crash_hash_db(db, &want, err, sizeof err), 0, "%s", err);
        /* The lock for the final checkpoint fails with an I/O error. */
        os_fault_fail(f, OSF_LOCK, 1, FOLIO_IOERR, 1, 0);
        int rc = folio_close(db);
        os_vfs_install(crash_vfs_fast());
        os_fault_crash(f, seed, 1, 1);
        os_fault_free(f);
        if (rc != FOLIO_OK)
            continue; /* the caller was told */
        ok_closes++;
        uint64_t got;
        if (crash_verify(path, &got, err, sizeof err) < 0)
            crash_fail(&fl, "seed %" PRIu64 ": %s", seed, err);
        else if (got != want)
            crash_fail(&fl,
                       "seed %" PRIu64 ": folio_close returned FOLIO_OK but the last commit "
                       "was lost in the power loss that followed",
                       seed);
    }
    os_vfs_install(NULL);
    printf("close: %d of 16 closes returned FOLIO_OK after a failed lock; %d lost a commit\n",
           ok_closes, fl.n);
    fflush(stdout);
    if (fl.n == 0)
        crash_rmtree(dir);
    free(path);
    free(dir);
    cr_assert_eq(fl.n, 0, "%s", fl.first);
}
