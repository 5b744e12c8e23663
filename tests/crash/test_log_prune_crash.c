/*
 * A power loss at every write and sync of folio_log_prune (the fault VFS
 * of src/os/os_fault.h): prune writes a new base whole (restored from the
 * log, checked, synced, renamed) before it removes anything, so whatever
 * the crash leaves, every version from the oldest kept on restores to
 * what libsqlite3 read at that version, an older version either restores
 * the same way or is refused as not in the log (never wrong rows, never a
 * damaged log), and a prune run again after the crash completes.
 * I/O errors at every write and sync fail the prune with the log intact.
 * The writes are random: FOLIO_SEED replays them (the seed is printed).
 */
#include "compat.h"
#include "crash_support.h"
#include "os/os_fault.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <folio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NVERSIONS 24
#define KEEP      5

typedef struct hist {
    uint64_t version[NVERSIONS];
    char *image[NVERSIONS];
} hist;

static char *image_of(sqlite3 *sq)
{
    char *s = compat_query_text(sq, "SELECT group_concat(id || ':' || hex(v), ',') FROM (SELECT "
                                    "* FROM t ORDER BY id)");
    return s ? s : strdup("");
}

/* A database with its log on and NVERSIONS commits of random rows. */
static folio_db *build(const char *path, hist *h, uint64_t seed)
{
    uint64_t rng = seed | 1;
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, NULL), 0);
    folio_txn *tx;
    cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_WRITE), 0);
    cr_assert_eq(folio_exec(tx, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)"), 0);
    cr_assert_eq(folio_commit(tx), 0);
    cr_assert_eq(folio_log_enable(db, FOLIO_LOG_LZ4), 0, "%s", folio_errmsg(db));
    sqlite3 *sq = compat_sqlite_open(path);
    for (int i = 0; i < NVERSIONS; i++) {
        folio_table *t;
        cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_WRITE), 0);
        cr_assert_eq(folio_table_open(&t, tx, "t"), 0);
        for (int r = 0, n = 1 + (int)compat_below(&rng, 3); r < n; r++) {
            uint8_t blob[400];
            for (size_t k = 0; k < sizeof blob; k++)
                blob[k] = (uint8_t)compat_rand(&rng);
            folio_value v[2] = {{.type = FOLIO_NULL},
                                {.type = FOLIO_BLOB, .u.s = {blob, sizeof blob}}};
            int64_t rowid;
            cr_assert_eq(folio_insert(&rowid, t, v, 2), 0);
        }
        cr_assert_eq(folio_commit(tx), 0);
        cr_assert_eq(folio_version(db, &h->version[i]), 0);
        h->image[i] = image_of(sq);
    }
    sqlite3_close(sq);
    return db;
}

static void copy_dir(const char *from, const char *to)
{
    compat_rmtree(to);
    cr_assert_eq(mkdir(to, 0755), 0);
    DIR *d = opendir(from);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *a = compat_path(from, e->d_name), *b = compat_path(to, e->d_name);
        size_t n;
        uint8_t *p = compat_read_file(a, &n);
        compat_write_file(b, p, n);
        free(p);
        free(a);
        free(b);
    }
    closedir(d);
}

/* Every version from index `kept` on restores exactly; older ones restore
 * exactly or are refused as not in the log. `where` names the run. */
static void check_log(const char *dir, const char *log, const hist *h, int kept, const char *where)
{
    char *dest = compat_path(dir, "check.db");
    for (int i = 0; i < NVERSIONS; i++) {
        unlink(dest);
        uint64_t got = 0;
        int rc = folio_restore(log, dest, h->version[i], -1, &got);
        if (i < kept && rc == FOLIO_NOTFOUND_ERR)
            continue;
        cr_assert_eq(rc, 0, "%s: version %llu: %s", where, (unsigned long long)h->version[i],
                     folio_open_errmsg());
        char *ok = compat_integrity(dest);
        cr_assert_str_eq(ok, "ok", "%s: version %llu", where, (unsigned long long)h->version[i]);
        free(ok);
        sqlite3 *sq = compat_sqlite_open(dest);
        char *img = image_of(sq);
        sqlite3_close(sq);
        cr_assert_str_eq(img, h->image[i], "%s: version %llu restores other rows", where,
                         (unsigned long long)h->version[i]);
        free(img);
    }
    unlink(dest);
    free(dest);
}

typedef struct run {
    char *dir, *path, *log, *pristine;
    folio_db *db;
    hist h;
} run;

static void run_open(run *r, uint64_t seed)
{
    setenv("FOLIO_LOG_SEGMENT_BYTES", "4096", 1);
    r->dir = compat_tmpdir();
    r->path = compat_path(r->dir, "a.db");
    r->log = compat_suffix(r->path, "-log");
    r->pristine = compat_path(r->dir, "pristine");
    r->db = build(r->path, &r->h, seed);
    copy_dir(r->log, r->pristine);
}

static void run_close(run *r)
{
    cr_assert_eq(folio_close(r->db), 0);
    compat_rmtree(r->dir);
    for (int i = 0; i < NVERSIONS; i++)
        free(r->h.image[i]);
    free(r->dir);
    free(r->path);
    free(r->log);
    free(r->pristine);
}

Test(crash_log, prune_power_loss_at_every_write)
{
    uint64_t seed = compat_seed(0x1005e);
    run r;
    run_open(&r, seed);
    int kept = NVERSIONS - KEEP;

    /* The dry run counts prune's writes and syncs. */
    os_fault *f = os_fault_new(crash_vfs_fast());
    os_vfs_install(os_fault_vfs(f));
    int rc = folio_log_prune(r.db, KEEP, 0);
    os_vfs_install(crash_vfs_fast());
    cr_assert_eq(rc, 0, "dry run: %s", folio_errmsg(r.db));
    long ops = os_fault_count(f, OSF_WRITE) + os_fault_count(f, OSF_SYNC);
    os_fault_free(f);
    cr_assert_gt(ops, 4, "prune wrote nothing: no base was made");
    check_log(r.dir, r.log, &r.h, kept, "dry run");

    int reached_any = 0;
    for (long k = 1; k <= ops + 1; k++) {
        copy_dir(r.pristine, r.log);
        f = os_fault_new(crash_vfs_fast());
        os_fault_crash_at(f, k);
        os_vfs_install(os_fault_vfs(f));
        rc = folio_log_prune(r.db, KEEP, 0);
        os_vfs_install(crash_vfs_fast());
        int reached = os_fault_crashed(f);
        long dropped = os_fault_crash(f, seed + (uint64_t)k, 1, 1);
        os_fault_free(f);
        cr_assert_geq(dropped, 0);
        reached_any |= reached;
        char where[64];
        snprintf(where, sizeof where, "crash at write %ld of %ld", k, ops);
        cr_assert(reached ? rc < 0 : rc == 0, "%s: prune returned %d (%s)", where, rc,
                  folio_errmsg(r.db));
        check_log(r.dir, r.log, &r.h, kept, where);
        /* Prune again: it completes and the kept versions stay. */
        rc = folio_log_prune(r.db, KEEP, 0);
        cr_assert_eq(rc, 0, "%s: the next prune: %s", where, folio_errmsg(r.db));
        check_log(r.dir, r.log, &r.h, kept, where);
    }
    cr_assert(reached_any);
    run_close(&r);
}

Test(crash_log, prune_io_error_at_every_write)
{
    uint64_t seed = compat_seed(0x10e22);
    run r;
    run_open(&r, seed);
    os_fault *f = os_fault_new(crash_vfs_fast());
    os_vfs_install(os_fault_vfs(f));
    cr_assert_eq(folio_log_prune(r.db, KEEP, 0), 0);
    os_vfs_install(crash_vfs_fast());
    long writes = os_fault_count(f, OSF_WRITE), syncs = os_fault_count(f, OSF_SYNC);
    os_fault_free(f);
    for (int kind = 0; kind < 2; kind++) {
        long n = kind ? syncs : writes;
        for (long k = 1; k <= n; k++) {
            copy_dir(r.pristine, r.log);
            f = os_fault_new(crash_vfs_fast());
            os_fault_fail(f, kind ? OSF_SYNC : OSF_WRITE, k, k % 2 ? FOLIO_IOERR : FOLIO_FULL, 0,
                          k % 3 == 0);
            os_vfs_install(os_fault_vfs(f));
            int rc = folio_log_prune(r.db, KEEP, 0);
            os_vfs_install(crash_vfs_fast());
            os_fault_free(f);
            char where[64];
            snprintf(where, sizeof where, "%s %ld failed", kind ? "sync" : "write", k);
            /* A prune that failed before it removed anything leaves every
             * version restorable; one whose last sync of the directory
             * failed had removed what it meant to. */
            int removed = rc == 0 || strstr(folio_errmsg(r.db), "cannot sync the directory");
            check_log(r.dir, r.log, &r.h, removed ? NVERSIONS - KEEP : 0, where);
            /* No temporary is left where a later prune would trip. */
            cr_assert_eq(folio_log_prune(r.db, KEEP, 0), 0, "%s: the next prune: %s", where,
                         folio_errmsg(r.db));
            check_log(r.dir, r.log, &r.h, NVERSIONS - KEEP, where);
        }
    }
    run_close(&r);
}
