/*
 * test_backup_faults.c - folio_backup under power loss, I/O errors and
 * silently damaged bytes.
 *
 * The source (written by libsqlite3: rowid and WITHOUT ROWID tables,
 * indexes, overflow chains, a freelist, and commits left in its WAL) is
 * opened read-only through the fault vfs (os_fault.h) and backed up to
 * DEST.
 *
 *   - Power loss at write or sync k (every k with FOLIO_SOAK=1, else the
 *     first and last ones and an even sample of FOLIO_CRASH_BUDGET, default
 *     50); after the crash (unsynced writes kept at random, reordered,
 *     torn) DEST is absent or whole (folio_check, integrity_check, the rows
 *     of the source), and present if the backup returned OK. A backup run
 *     again then succeeds, removing what the crash left.
 *   - I/O errors (EIO at write, sync, read k; ENOSPC from write k on): a
 *     backup that fails returns the injected code with a message and leaves
 *     neither DEST nor DEST-backup (nor its -wal, -shm); one that returns OK
 *     leaves DEST whole. The source never changes.
 *   - A vfs that changes a byte of what is written to DEST-backup: the read
 *     back finds the checksum wrong (FOLIO_IOERR). One that changes a byte
 *     of a run read from the source: the copy is what was read, so only the
 *     integrity check can tell (FOLIO_CORRUPT). Neither leaves a file.
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

static void sql_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, msg ? msg : "");
}

/* The source, with commits in its WAL (`wal`) or all in the file. */
static void make_source(const char *path, int wal)
{
    sqlite3 *db;
    crash_remove_db(path);
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    sql_exec(db, "PRAGMA page_size=1024; PRAGMA journal_mode=WAL;"
                 "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB);"
                 "CREATE INDEX t_b ON t(b);"
                 "CREATE TABLE w(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
                 "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 2000)"
                 " INSERT INTO t SELECT i, printf('name %05d', i * 7919 % 2000),"
                 " zeroblob(i * 13 % 2500) FROM s;"
                 "INSERT INTO w SELECT printf('%08d', a * 31 % 9973), b FROM t WHERE a % 2 = 0;"
                 "DELETE FROM t WHERE a % 3 = 0;");
    if (wal) {
        /* A copy of the file with the WAL as it is now: libsqlite3's close
         * would checkpoint it away. */
        sql_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA wal_autocheckpoint=0;"
                     "UPDATE t SET b = b || ' changed' WHERE a % 5 = 0;"
                     "CREATE TABLE later(x); INSERT INTO later SELECT b FROM t;");
        char *tmp = crash_suffix(path, ".live");
        char *tmpwal = crash_suffix(tmp, "-wal"), *wal_path = crash_suffix(path, "-wal");
        crash_remove_db(tmp);
        cr_assert_eq(crash_copy_file(path, tmp), 0);
        cr_assert_eq(crash_copy_file(wal_path, tmpwal), 0);
        cr_assert_eq(sqlite3_close(db), SQLITE_OK);
        crash_remove_db(path);
        cr_assert_eq(crash_copy_db(tmp, path), 0);
        crash_remove_db(tmp);
        cr_assert_gt(crash_file_size(wal_path), 0);
        free(tmp);
        free(tmpwal);
        free(wal_path);
    } else {
        cr_assert_eq(sqlite3_close(db), SQLITE_OK);
    }
}

static void remove_all(const char *dest)
{
    crash_remove_db(dest);
    char *tmp = crash_suffix(dest, "-backup");
    crash_remove_db(tmp);
    free(tmp);
}

/* Whether anything of the backup's temporary file is left. */
static int tmp_left(const char *dest)
{
    static const char *const suffixes[] = {"-backup", "-backup-wal", "-backup-shm"};
    for (int i = 0; i < 3; i++) {
        char *p = crash_suffix(dest, suffixes[i]);
        int there = crash_file_size(p) >= 0;
        free(p);
        if (there)
            return 1;
    }
    return 0;
}

/* The check level of backup_run (0: folio_backup's default, the quick one). */
static int backup_level;

/* One run: open the source read-only, back up, close, through the
 * installed vfs. Returns folio_backup's code (or folio_open's). */
static int backup_run(const char *path, const char *dest, char *msg, size_t n)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    folio_db *db;
    int rc = folio_open(&db, path, &o);
    if (rc < 0) {
        snprintf(msg, n, "folio_open: %s", folio_open_errmsg());
        return rc;
    }
    uint64_t v;
    rc = folio_backup_ex(db, dest, backup_level, &v, NULL, NULL);
    snprintf(msg, n, "%s", rc < 0 ? folio_errmsg(db) : "");
    folio_close(db);
    return rc;
}

static long crash_ops(const os_fault *f)
{
    return os_fault_count(f, OSF_WRITE) + os_fault_count(f, OSF_SYNC) +
           os_fault_count(f, OSF_TRUNCATE);
}

static int pick(long k, long n, long budget)
{
    if (crash_soak() || n <= budget || k <= 3 || k > n - 3)
        return 1;
    long stride = n / budget;
    return k % stride == 0;
}

/* The source and its -wal, as they were. */
typedef struct source_image {
    uint8_t *db, *wal;
    size_t db_n, wal_n;
} source_image;

static source_image image_of(const char *path)
{
    source_image im;
    char *wal = crash_suffix(path, "-wal");
    im.db = crash_read_file(path, &im.db_n);
    im.wal = crash_read_file(wal, &im.wal_n);
    cr_assert(im.db && im.wal);
    free(wal);
    return im;
}

static int same_image(const char *path, const source_image *im)
{
    source_image now = image_of(path);
    int same = now.db_n == im->db_n && now.wal_n == im->wal_n &&
               memcmp(now.db, im->db, im->db_n) == 0 && memcmp(now.wal, im->wal, im->wal_n) == 0;
    free(now.db);
    free(now.wal);
    return same;
}

Test(crash_backup, power_loss)
{
    char *dir = crash_tmpdir("backup_crash");
    char *src = crash_path(dir, "src.db");
    char *dest = crash_path(dir, "dest.db");
    os_vfs_install(crash_vfs_fast());
    make_source(src, 1);
    char err[1024], msg[512];
    uint64_t want;
    cr_assert_eq(crash_verify(src, &want, err, sizeof err), 0, "%s", err);
    source_image before = image_of(src);

    /* The dry run: how many writes and syncs. */
    remove_all(dest);
    os_fault *f = os_fault_new(crash_vfs_fast());
    os_vfs_install(os_fault_vfs(f));
    int rc = backup_run(src, dest, msg, sizeof msg);
    os_vfs_install(crash_vfs_fast());
    long n = crash_ops(f);
    os_fault_free(f);
    cr_assert_eq(rc, FOLIO_OK, "dry run: %s", msg);
    cr_assert_gt(n, 2);

    uint64_t base = crash_seed(5000, "backup power loss");
    long budget = crash_env_long("FOLIO_CRASH_BUDGET", 50);
    crash_failures fl = {0};
    int tried = 0, got_dest = 0, got_none = 0;
    for (long k = 1; k <= n; k++) {
        if (!pick(k, n, budget))
            continue;
        tried++;
        remove_all(dest);
        f = os_fault_new(crash_vfs_fast());
        os_fault_crash_at(f, k);
        os_vfs_install(os_fault_vfs(f));
        rc = backup_run(src, dest, msg, sizeof msg);
        int reached = os_fault_crashed(f);
        long dropped = os_fault_crash(f, base + (uint64_t)k * 131, 1, 1);
        os_vfs_install(crash_vfs_fast());
        os_fault_free(f);
        cr_assert_geq(dropped, 0);
        char where[700];
        snprintf(where, sizeof where, "crash at %ld of %ld (backup %s%s%s)", k, n,
                 crash_rc_name(rc), msg[0] ? ": " : "", msg);
        if (!reached)
            crash_fail(&fl, "%s: the crash point was not reached", where);
        if (!same_image(src, &before))
            crash_fail(&fl, "%s: the source changed", where);
        uint64_t h;
        if (crash_file_size(dest) >= 0) {
            got_dest++;
            if (crash_verify(dest, &h, err, sizeof err) < 0)
                crash_fail(&fl, "%s: DEST is there but not whole: %s", where, err);
            else if (h != want)
                crash_fail(&fl, "%s: DEST holds other rows", where);
        } else {
            got_none++;
            if (rc == FOLIO_OK)
                crash_fail(&fl, "%s: the backup returned OK but DEST is missing", where);
            /* What the crash left is no obstacle to the next backup. */
            rc = backup_run(src, dest, msg, sizeof msg);
            if (rc < 0)
                crash_fail(&fl, "%s: the backup after it failed: %s", where, msg);
            else if (tmp_left(dest))
                crash_fail(&fl, "%s: the backup after it left its temporary file", where);
            else if (crash_verify(dest, &h, err, sizeof err) < 0 || h != want)
                crash_fail(&fl, "%s: the backup after it is not whole: %s", where, err);
        }
    }
    printf("backup crash points: %d of %ld tried; DEST there %d, absent %d\n", tried, n, got_dest,
           got_none);
    cr_assert_eq(fl.n, 0, "%d failures; first: %s", fl.n, fl.first);
    cr_assert_gt(got_dest, 0, "no crash left DEST");
    cr_assert_gt(got_none, 0, "every crash left DEST");
    free(before.db);
    free(before.wal);
    crash_rmtree(dir);
    free(src);
    free(dest);
    free(dir);
}

/* ---- I/O errors ---- */

typedef struct io_kind {
    const char *name;
    int kind;
    int rc;
    int sticky;
} io_kind;

Test(crash_backup, io_errors)
{
    static const io_kind kinds[] = {{"EIO at write", OSF_WRITE, FOLIO_IOERR, 0},
                                    {"ENOSPC from write", OSF_WRITE, FOLIO_FULL, 1},
                                    {"EIO at sync", OSF_SYNC, FOLIO_IOERR, 0},
                                    {"EIO at read", OSF_READ, FOLIO_IOERR, 0}};
    char *dir = crash_tmpdir("backup_io");
    char *src = crash_path(dir, "src.db");
    char *dest = crash_path(dir, "dest.db");
    os_vfs_install(crash_vfs_fast());
    make_source(src, 1);
    char err[1024], msg[512];
    uint64_t want;
    cr_assert_eq(crash_verify(src, &want, err, sizeof err), 0, "%s", err);
    source_image before = image_of(src);
    long budget = crash_env_long("FOLIO_IO_BUDGET", 25);
    crash_failures fl = {0};
    int runs = 0, failed = 0;
    for (size_t ki = 0; ki < sizeof kinds / sizeof kinds[0]; ki++) {
        const io_kind *kd = &kinds[ki];
        remove_all(dest);
        os_fault *f = os_fault_new(crash_vfs_fast());
        os_vfs_install(os_fault_vfs(f));
        int rc = backup_run(src, dest, msg, sizeof msg);
        os_vfs_install(crash_vfs_fast());
        long n = os_fault_count(f, kd->kind);
        os_fault_free(f);
        cr_assert_eq(rc, FOLIO_OK, "dry run: %s", msg);
        for (long k = 1; k <= n; k++) {
            if (!pick(k, n, budget))
                continue;
            runs++;
            remove_all(dest);
            f = os_fault_new(crash_vfs_fast());
            os_fault_fail(f, kd->kind, k, kd->rc, kd->sticky, 0);
            os_vfs_install(os_fault_vfs(f));
            rc = backup_run(src, dest, msg, sizeof msg);
            os_vfs_install(crash_vfs_fast());
            os_fault_free(f);
            char where[700];
            snprintf(where, sizeof where, "%s at %ld of %ld: backup %s%s%s", kd->name, k, n,
                     crash_rc_name(rc), msg[0] ? ": " : "", msg);
            int there = crash_file_size(dest) >= 0;
            if (rc < 0) {
                failed++;
                /* (a read that fails in folio_open - the source's or the
                 * check's - says it cannot open the file) */
                if (rc != kd->rc && !(rc == FOLIO_CANTOPEN && kd->kind == OSF_READ))
                    crash_fail(&fl, "%s: expected %s", where, crash_rc_name(kd->rc));
                if (!msg[0] || strcmp(msg, "not an error") == 0)
                    crash_fail(&fl, "%s: no message", where);
                if (there)
                    crash_fail(&fl, "%s: failed, but DEST exists", where);
            } else if (!there) {
                crash_fail(&fl, "%s: returned OK, but no DEST", where);
            }
            if (tmp_left(dest))
                crash_fail(&fl, "%s: the temporary file is left", where);
            uint64_t h;
            if (there && (crash_verify(dest, &h, err, sizeof err) < 0 || h != want))
                crash_fail(&fl, "%s: DEST is not whole", where);
            if (!same_image(src, &before))
                crash_fail(&fl, "%s: the source changed", where);
        }
    }
    printf("backup I/O faults: %d runs, %d failed with the fault\n", runs, failed);
    cr_assert_eq(fl.n, 0, "%d failures; first: %s", fl.n, fl.first);
    cr_assert_gt(failed, 0, "no fault made the backup fail");
    free(before.db);
    free(before.wal);
    crash_rmtree(dir);
    free(src);
    free(dest);
    free(dir);
}

/* ---- bytes changed without an error ---- */

/* The POSIX vfs but for reads and writes: a write to a file whose name
 * ends in "-backup" (when flip_write), or a read of more than one page
 * from the file named `flip_read_path`, has one byte changed. Files are
 * the base vfs's own; open remembers which are which. */
static os_vfs flip_vfs;
static os_vfs *flip_base;
static int flip_write;
static const char *flip_read_path;
static uint32_t flip_page_size;
static os_file *flip_files[16];
static int flip_kind[16]; /* 1: the copy, 2: the source */
static int flips;

static int flip_open(os_vfs *vfs, const char *path, int flags, os_file **out)
{
    (void)vfs;
    int rc = flip_base->open(flip_base, path, flags, out);
    if (rc < 0)
        return rc;
    size_t n = strlen(path);
    int kind = (n > 7 && strcmp(path + n - 7, "-backup") == 0) ||
                       (n > 8 && strcmp(path + n - 8, "-restore") == 0)
                   ? 1
               : flip_read_path && strcmp(path, flip_read_path) == 0 ? 2
                                                                     : 0;
    for (int i = 0; i < 16 && kind; i++)
        if (!flip_files[i]) {
            flip_files[i] = *out;
            flip_kind[i] = kind;
            break;
        }
    return rc;
}

static int flip_kind_of(os_file *f)
{
    for (int i = 0; i < 16; i++)
        if (flip_files[i] == f)
            return flip_kind[i];
    return 0;
}

static int flip_close(os_file *f)
{
    for (int i = 0; i < 16; i++)
        if (flip_files[i] == f)
            flip_files[i] = NULL;
    return flip_base->close(f);
}

static int flip_write_fn(os_file *f, const void *buf, size_t n, uint64_t off)
{
    if (flip_write && flip_kind_of(f) == 1 && n > 600) {
        uint8_t *copy = malloc(n);
        cr_assert_not_null(copy);
        memcpy(copy, buf, n);
        copy[n / 2] ^= 0x40;
        flips++;
        int rc = flip_base->write(f, copy, n, off);
        free(copy);
        return rc;
    }
    return flip_base->write(f, buf, n, off);
}

static int flip_read_fn(os_file *f, void *buf, size_t n, uint64_t off, size_t *got)
{
    int rc = flip_base->read(f, buf, n, off, got);
    if (rc >= 0 && flip_kind_of(f) == 2 && off == 0 && n > flip_page_size) {
        /* page 2's type byte: no b-tree page has type 0x7d */
        ((uint8_t *)buf)[flip_page_size] = 0x7d;
        flips++;
    }
    return rc;
}

static void flip_install(int on_write, const char *read_path, uint32_t page_size)
{
    flip_base = crash_vfs_fast();
    flip_vfs = *flip_base;
    flip_vfs.name = "flip";
    flip_vfs.open = flip_open;
    flip_vfs.close = flip_close;
    flip_vfs.read = flip_read_fn;
    flip_vfs.write = flip_write_fn;
    flip_vfs.map_file = NULL; /* reads go through flip_read_fn */
    flip_vfs.unmap_file = NULL;
    flip_write = on_write;
    flip_read_path = read_path;
    flip_page_size = page_size;
    memset(flip_files, 0, sizeof flip_files);
    flips = 0;
    os_vfs_install(&flip_vfs);
}

Test(crash_backup, damaged_bytes_are_caught)
{
    char *dir = crash_tmpdir("backup_flip");
    char *src = crash_path(dir, "src.db");
    char *dest = crash_path(dir, "dest.db");
    os_vfs_install(crash_vfs_fast());
    /* (all in the file: the first run read from it starts at page 1) */
    make_source(src, 0);
    char err[1024], msg[512];
    uint64_t want;
    cr_assert_eq(crash_verify(src, &want, err, sizeof err), 0, "%s", err);

    /* A byte changed on its way to the copy's file. */
    flip_install(1, NULL, 1024);
    int rc = backup_run(src, dest, msg, sizeof msg);
    os_vfs_install(crash_vfs_fast());
    cr_assert_gt(flips, 0);
    cr_assert_eq(rc, FOLIO_IOERR, "%s: %s", crash_rc_name(rc), msg);
    cr_assert_neq(strstr(msg, "checksum"), NULL, "%s", msg);
    cr_assert_eq(crash_file_size(dest), -1, "DEST was made");
    cr_assert(!tmp_left(dest));

    /* A byte changed as the source was read: the checksum agrees with the
     * copy, the integrity check does not (the quick one, the default, and
     * the full one). */
    for (int level = 0; level <= FOLIO_CHECK_FULL; level += FOLIO_CHECK_FULL) {
        backup_level = level;
        flip_install(0, src, 1024);
        rc = backup_run(src, dest, msg, sizeof msg);
        os_vfs_install(crash_vfs_fast());
        cr_assert_gt(flips, 0);
        cr_assert_eq(rc, FOLIO_CORRUPT, "level %d: %s: %s", level, crash_rc_name(rc), msg);
        cr_assert_neq(strstr(msg, "backup verification failed"), NULL, "%s", msg);
        cr_assert_neq(strstr(msg, "page 2"), NULL, "%s", msg);
        cr_assert_eq(crash_file_size(dest), -1, "DEST was made");
        cr_assert(!tmp_left(dest));
    }
    backup_level = 0;

    /* Undisturbed, the same backup is whole. */
    rc = backup_run(src, dest, msg, sizeof msg);
    cr_assert_eq(rc, FOLIO_OK, "%s", msg);
    uint64_t h;
    cr_assert_eq(crash_verify(dest, &h, err, sizeof err), 0, "%s", err);
    cr_assert_eq(h, want);
    crash_rmtree(dir);
    free(src);
    free(dest);
    free(dir);
}

/* The restore's file: a byte changed on its way to "<dest>-restore" is
 * found by the read back (FOLIO_IOERR, "checksum"); nothing is left. */
Test(crash_backup, restore_damaged_bytes_are_caught)
{
    char *dir = crash_tmpdir("restore_flip");
    char *src = crash_path(dir, "src.db");
    char *dest = crash_path(dir, "dest.db");
    char *left = crash_suffix(dest, "-restore");
    os_vfs_install(crash_vfs_fast());
    folio_options o = FOLIO_OPTIONS_INIT;
    o.page_size = 1024;
    folio_db *db;
    cr_assert_eq(folio_open(&db, src, &o), FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *t;
    folio_table *tab;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(t, "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)"), FOLIO_OK);
    cr_assert_eq(folio_exec(t, "CREATE INDEX t_b ON t(b)"), FOLIO_OK);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    cr_assert_eq(folio_log_enable(db, FOLIO_LOG_ZSTD), FOLIO_OK, "%s", folio_errmsg(db));
    char text[64];
    for (int i = 1; i <= 300; i++) {
        cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
        cr_assert_eq(folio_table_open(&tab, t, "t"), FOLIO_OK);
        snprintf(text, sizeof text, "row %d of the restore test", i * 7919 % 300);
        folio_value v[2] = {{FOLIO_NULL, {0}}, {FOLIO_TEXT, {0}}};
        v[1].u.s.p = text;
        v[1].u.s.n = strlen(text);
        cr_assert_eq(folio_insert(NULL, tab, v, 2), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(folio_commit(t), FOLIO_OK);
    }
    uint64_t last;
    cr_assert_eq(folio_version(db, &last), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);

    flip_install(1, NULL, 1024);
    uint64_t got = 0;
    int rc = folio_restore(src, dest, last, -1, &got);
    os_vfs_install(crash_vfs_fast());
    cr_assert_gt(flips, 0);
    cr_assert_eq(rc, FOLIO_IOERR, "%s: %s", crash_rc_name(rc), folio_open_errmsg());
    cr_assert_neq(strstr(folio_open_errmsg(), "checksum"), NULL, "%s", folio_open_errmsg());
    cr_assert_eq(crash_file_size(dest), -1, "DEST was made");
    cr_assert_eq(crash_file_size(left), -1, "DEST-restore was left");

    /* Undisturbed, at either level, the restore is whole. */
    for (int level = FOLIO_CHECK_QUICK; level <= FOLIO_CHECK_FULL; level++) {
        rc = folio_restore_ex(src, dest, last, -1, level, &got);
        cr_assert_eq(rc, FOLIO_OK, "%s", folio_open_errmsg());
        cr_assert_eq(got, last);
        char err[1024];
        uint64_t h;
        cr_assert_eq(crash_verify(dest, &h, err, sizeof err), 0, "%s", err);
        crash_remove_db(dest);
    }
    cr_assert_eq(folio_restore_ex(src, dest, last, -1, 7, &got), FOLIO_MISUSE);
    crash_rmtree(dir);
    free(left);
    free(src);
    free(dest);
    free(dir);
}
