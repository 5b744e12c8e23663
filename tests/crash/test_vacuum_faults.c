/*
 * test_vacuum_faults.c - VACUUM under power loss and I/O errors.
 *
 * A file written by libsqlite3 (rowid, INTEGER PRIMARY KEY and WITHOUT
 * ROWID tables, indexes, overflow chains, a freelist) is vacuumed through
 * the fault vfs (os_fault.h): open, folio_vacuum (in place, or INTO a new
 * file), close.
 *
 * Power loss at write, sync, truncate or rename k (every k with
 * FOLIO_SOAK=1, else the first and last ones and an even sample of
 * FOLIO_CRASH_BUDGET, default 50), for the in-place VACUUM with
 * FOLIO_SYNC_FULL and NORMAL and for VACUUM INTO; after the crash
 * (unsynced writes kept at random, reordered, torn):
 *
 *   - the database passes folio_check and integrity_check, folio and
 *     libsqlite3 read the same rows, and they are the rows of before (VACUUM
 *     changes no row: the canonical hash, which leaves root pages out);
 *   - it is the old file or the new one: (pages, freelist pages) are the
 *     source's or the vacuumed file's, never anything else; with
 *     FOLIO_SYNC_FULL a VACUUM that returned OK is the new one;
 *   - VACUUM INTO: the source is untouched, and DEST is absent or complete
 *     (checked as above, freelist empty); a VACUUM INTO that returned OK left
 *     DEST complete;
 *   - the recovered file can be written to (crash_write_after).
 *
 * I/O errors (EIO at write, sync, read k; ENOSPC from write k on): a VACUUM
 * that fails returns the injected code with a message and leaves the old
 * database (INTO: no DEST); one that returns OK leaves the new one; either
 * way the file checks clean with the same rows once reopened.
 *
 * Knobs: FOLIO_SOAK=1, FOLIO_CRASH_BUDGET=N, FOLIO_IO_BUDGET=N (default 25
 * per fault kind), FOLIO_SEED (base of the crash seeds).
 */
#include "crash_support.h"
#include "os/os_fault.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct figs {
    int64_t pages, freelist;
} figs;

static void sql_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, msg ? msg : "");
}

static int64_t sql_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sql);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

/* (pages, freelist pages) as libsqlite3 reads them (the WAL included). */
static figs figures(const char *path)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    figs f = {sql_int(db, "PRAGMA page_count"), sql_int(db, "PRAGMA freelist_count")};
    sqlite3_close(db);
    return f;
}

static void make_source(const char *path)
{
    sqlite3 *db;
    crash_remove_db(path);
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    sql_exec(db, "PRAGMA page_size=1024; PRAGMA journal_mode=WAL;"
                 "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB);"
                 "CREATE INDEX t_b ON t(b);"
                 "CREATE TABLE r(x, y);"
                 "CREATE TABLE w(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
                 "CREATE INDEX w_v ON w(v);"
                 "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 400)"
                 " INSERT INTO t SELECT i, printf('name %05d', i * 7919 % 400),"
                 " zeroblob(i * 13 % 2500) FROM s;"
                 "INSERT INTO r SELECT b, length(c) FROM t;"
                 "INSERT INTO w SELECT printf('%08d', a * 31 % 997), b FROM t WHERE a % 2 = 0;"
                 "DELETE FROM t WHERE a % 3 <> 1;"
                 "DELETE FROM r WHERE rowid % 2 = 0;"
                 "CREATE TABLE gone(z); INSERT INTO gone SELECT c FROM t; DROP TABLE gone;");
    cr_assert_gt(sql_int(db, "PRAGMA freelist_count"), 0);
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);
}

/* The operations the crash countdown counts. */
static long crash_ops(const os_fault *f)
{
    return os_fault_count(f, OSF_WRITE) + os_fault_count(f, OSF_SYNC) +
           os_fault_count(f, OSF_TRUNCATE);
}

static void remove_all(const char *path)
{
    crash_remove_db(path);
    char *tmp = crash_suffix(path, "-vacuum");
    crash_remove_db(tmp);
    free(tmp);
}

/* One run: open, vacuum, close through the installed vfs. Returns
 * folio_vacuum's code (or folio_open's); *msg its message. */
static int vacuum_run(const char *path, const char *dest, int sync, size_t cache_bytes, char *msg,
                      size_t n)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.sync = sync;
    o.cache_bytes = cache_bytes;
    o.flags = FOLIO_OPEN_INLINE_CHECKPOINT;
    folio_db *db;
    int rc = folio_open(&db, path, &o);
    if (rc < 0) {
        snprintf(msg, n, "folio_open: %s", folio_open_errmsg());
        return rc;
    }
    rc = folio_vacuum(db, dest);
    snprintf(msg, n, "%s", rc < 0 ? folio_errmsg(db) : "");
    folio_close(db);
    return rc;
}

typedef struct scenario {
    const char *name;
    int into;
    int sync;
    size_t cache_bytes; /* 0: the default; small: the VACUUM spills to the WAL */
} scenario;

/* The sample of points 1..n: all of them with FOLIO_SOAK or when few. */
static int pick(long k, long n, long budget)
{
    if (crash_soak() || n <= budget || k <= 3 || k > n - 3)
        return 1;
    long stride = n / budget;
    return k % stride == 0;
}

static void crash_sweep(const scenario *sc)
{
    char *dir = crash_tmpdir("vacuum_crash");
    char *src = crash_path(dir, "src.db");
    char *path = crash_path(dir, "db.sqlite");
    char *dest = crash_path(dir, "dest.sqlite");
    os_vfs_install(crash_vfs_fast());
    make_source(src);
    char err[1024], msg[512];
    uint64_t want;
    cr_assert_eq(crash_verify(src, &want, err, sizeof err), 0, "%s", err);
    figs old = figures(src);

    /* The dry run: the operations and the vacuumed file's figures. */
    remove_all(path);
    remove_all(dest);
    cr_assert_eq(crash_copy_db(src, path), 0);
    os_fault *f = os_fault_new(crash_vfs_fast());
    os_vfs_install(os_fault_vfs(f));
    int rc = vacuum_run(path, sc->into ? dest : NULL, sc->sync, sc->cache_bytes, msg, sizeof msg);
    os_vfs_install(crash_vfs_fast());
    long n = crash_ops(f);
    os_fault_free(f);
    cr_assert_eq(rc, FOLIO_OK, "dry run: %s", msg);
    figs neu = figures(sc->into ? dest : path);
    cr_assert_eq(neu.freelist, 0);
    cr_assert_lt(neu.pages, old.pages);

    uint64_t base = crash_seed(4000, sc->name);
    long budget = crash_env_long("FOLIO_CRASH_BUDGET", 50);
    crash_failures fl = {0};
    int tried = 0, got_new = 0, got_old = 0;
    for (long k = 1; k <= n; k++) {
        if (!pick(k, n, budget))
            continue;
        tried++;
        remove_all(path);
        remove_all(dest);
        cr_assert_eq(crash_copy_db(src, path), 0);
        f = os_fault_new(crash_vfs_fast());
        os_fault_crash_at(f, k);
        os_vfs_install(os_fault_vfs(f));
        rc = vacuum_run(path, sc->into ? dest : NULL, sc->sync, sc->cache_bytes, msg, sizeof msg);
        int reached = os_fault_crashed(f);
        long dropped = os_fault_crash(f, base + (uint64_t)k * 131, 1, 1);
        os_vfs_install(crash_vfs_fast());
        os_fault_free(f);
        cr_assert_geq(dropped, 0);
        char where[256];
        snprintf(where, sizeof where, "%s: crash at %ld of %ld (vacuum %s%s%s)", sc->name, k, n,
                 crash_rc_name(rc), msg[0] ? ": " : "", msg);
        if (!reached)
            crash_fail(&fl, "%s: the crash point was not reached", where);
        uint64_t h;
        if (crash_verify(path, &h, err, sizeof err) < 0) {
            crash_fail(&fl, "%s: database: %s", where, err);
            continue;
        }
        if (h != want)
            crash_fail(&fl, "%s: the database holds other rows than before", where);
        figs a = figures(path);
        int is_old = a.pages == old.pages && a.freelist == old.freelist;
        int is_new = a.pages == neu.pages && a.freelist == 0;
        if (sc->into) {
            if (!is_old)
                crash_fail(&fl, "%s: VACUUM INTO changed the source (%lld pages, %lld free)", where,
                           (long long)a.pages, (long long)a.freelist);
            if (crash_file_size(dest) >= 0) {
                got_new++;
                if (crash_verify(dest, &h, err, sizeof err) < 0)
                    crash_fail(&fl, "%s: DEST is there but not whole: %s", where, err);
                else if (h != want)
                    crash_fail(&fl, "%s: DEST holds other rows", where);
                else if (figures(dest).freelist != 0)
                    crash_fail(&fl, "%s: DEST has a freelist", where);
            } else {
                got_old++;
                if (rc == FOLIO_OK)
                    crash_fail(&fl, "%s: VACUUM INTO returned OK but DEST is missing", where);
            }
        } else {
            got_new += is_new;
            got_old += is_old;
            if (!is_old && !is_new)
                crash_fail(&fl, "%s: neither the old file nor the new one (%lld pages, %lld free)",
                           where, (long long)a.pages, (long long)a.freelist);
            if (rc == FOLIO_OK && sc->sync == FOLIO_SYNC_FULL && !is_new)
                crash_fail(&fl, "%s: VACUUM returned OK but the old file came back", where);
        }
        if (crash_write_after(path, want, err, sizeof err) < 0)
            crash_fail(&fl, "%s: %s", where, err);
    }
    printf("vacuum crash points (%s): %d of %ld tried; old file %d, new file %d\n", sc->name, tried,
           n, got_old, got_new);
    cr_assert_eq(fl.n, 0, "%d failures; first: %s", fl.n, fl.first);
    cr_assert_gt(got_old, 0, "no crash left the old file");
    cr_assert_gt(got_new, 0, "no crash left the new file");
    crash_rmtree(dir);
    free(src);
    free(path);
    free(dest);
    free(dir);
}

Test(crash_vacuum, in_place_full)
{
    scenario sc = {"in place, sync full", 0, FOLIO_SYNC_FULL, 0};
    crash_sweep(&sc);
}

Test(crash_vacuum, in_place_normal)
{
    scenario sc = {"in place, sync normal", 0, FOLIO_SYNC_NORMAL, 0};
    crash_sweep(&sc);
}

/* A cache of 48 pages: the transaction spills frames to the WAL before its
 * commit frame. */
Test(crash_vacuum, in_place_spilling)
{
    scenario sc = {"in place, small cache", 0, FOLIO_SYNC_FULL, 48 * 1024};
    crash_sweep(&sc);
}

Test(crash_vacuum, into)
{
    scenario sc = {"into", 1, FOLIO_SYNC_NORMAL, 0};
    crash_sweep(&sc);
}

/* ---- I/O errors ---- */

typedef struct io_kind {
    const char *name;
    int kind;
    int rc;
    int sticky;
} io_kind;

static void io_sweep(int into)
{
    static const io_kind kinds[] = {{"EIO at write", OSF_WRITE, FOLIO_IOERR, 0},
                                    {"ENOSPC from write", OSF_WRITE, FOLIO_FULL, 1},
                                    {"EIO at sync", OSF_SYNC, FOLIO_IOERR, 0},
                                    {"EIO at read", OSF_READ, FOLIO_IOERR, 0}};
    char *dir = crash_tmpdir("vacuum_io");
    char *src = crash_path(dir, "src.db");
    char *path = crash_path(dir, "db.sqlite");
    char *dest = crash_path(dir, "dest.sqlite");
    os_vfs_install(crash_vfs_fast());
    make_source(src);
    char err[1024], msg[512];
    uint64_t want;
    cr_assert_eq(crash_verify(src, &want, err, sizeof err), 0, "%s", err);
    figs old = figures(src);
    long budget = crash_env_long("FOLIO_IO_BUDGET", 25);
    crash_failures fl = {0};
    int runs = 0, failed = 0;
    for (size_t ki = 0; ki < sizeof kinds / sizeof kinds[0]; ki++) {
        const io_kind *kd = &kinds[ki];
        /* The dry run: how many operations of the kind. */
        remove_all(path);
        remove_all(dest);
        cr_assert_eq(crash_copy_db(src, path), 0);
        os_fault *f = os_fault_new(crash_vfs_fast());
        os_vfs_install(os_fault_vfs(f));
        int rc = vacuum_run(path, into ? dest : NULL, FOLIO_SYNC_FULL, 0, msg, sizeof msg);
        os_vfs_install(crash_vfs_fast());
        long n = os_fault_count(f, kd->kind);
        os_fault_free(f);
        cr_assert_eq(rc, FOLIO_OK, "dry run: %s", msg);
        figs neu = figures(into ? dest : path);
        for (long k = 1; k <= n; k++) {
            if (!pick(k, n, budget))
                continue;
            runs++;
            remove_all(path);
            remove_all(dest);
            cr_assert_eq(crash_copy_db(src, path), 0);
            f = os_fault_new(crash_vfs_fast());
            os_fault_fail(f, kd->kind, k, kd->rc, kd->sticky, 0);
            os_vfs_install(os_fault_vfs(f));
            rc = vacuum_run(path, into ? dest : NULL, FOLIO_SYNC_FULL, 0, msg, sizeof msg);
            os_vfs_install(crash_vfs_fast());
            os_fault_free(f);
            char where[700];
            snprintf(where, sizeof where, "%s%s at %ld of %ld: vacuum %s%s%s", into ? "INTO: " : "",
                     kd->name, k, n, crash_rc_name(rc), msg[0] ? ": " : "", msg);
            if (rc < 0) {
                failed++;
                if (rc != kd->rc && !(rc == FOLIO_CANTOPEN && strstr(msg, "folio_open")))
                    crash_fail(&fl, "%s: expected %s", where, crash_rc_name(kd->rc));
                if (!msg[0] || strcmp(msg, "not an error") == 0)
                    crash_fail(&fl, "%s: no message", where);
            }
            uint64_t h;
            if (crash_verify(path, &h, err, sizeof err) < 0) {
                crash_fail(&fl, "%s: database: %s", where, err);
                continue;
            }
            if (h != want)
                crash_fail(&fl, "%s: other rows than before", where);
            figs a = figures(path);
            int is_old = a.pages == old.pages && a.freelist == old.freelist;
            int is_new = a.pages == neu.pages && a.freelist == 0;
            if (into) {
                if (!is_old)
                    crash_fail(&fl, "%s: the source changed", where);
                int there = crash_file_size(dest) >= 0;
                if (rc < 0 && there)
                    crash_fail(&fl, "%s: failed, but DEST exists", where);
                if (rc == 0 && !there)
                    crash_fail(&fl, "%s: returned OK, but no DEST", where);
                if (there && (crash_verify(dest, &h, err, sizeof err) < 0 || h != want))
                    crash_fail(&fl, "%s: DEST is not whole", where);
            } else if (rc < 0 ? !is_old : !is_new) {
                crash_fail(&fl, "%s: %s expected, found %lld pages, %lld free", where,
                           rc < 0 ? "the old file" : "the new file", (long long)a.pages,
                           (long long)a.freelist);
            }
        }
    }
    printf("vacuum%s I/O faults: %d runs, %d failed with the fault\n", into ? " into" : "", runs,
           failed);
    cr_assert_eq(fl.n, 0, "%d failures; first: %s", fl.n, fl.first);
    cr_assert_gt(failed, 0, "no fault made VACUUM fail");
    crash_rmtree(dir);
    free(src);
    free(path);
    free(dest);
    free(dir);
}

Test(crash_vacuum, io_errors_in_place)
{
    io_sweep(0);
}

Test(crash_vacuum, io_errors_into)
{
    io_sweep(1);
}
