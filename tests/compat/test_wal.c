/*
 * test_wal.c - write-ahead logs as libsqlite3 leaves them: by a process that
 * died without closing (the -wal and -shm stay, folio must see every committed
 * transaction), with garbage or a torn frame appended, with frames of a
 * transaction that never committed (cache spill), after a checkpoint that was
 * not followed by a restart, after a restart that left stale frames of the
 * previous generation behind, with a VACUUM that shrank the database inside
 * the WAL, with hundreds of versions of the same pages, and without its -shm.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *g_dir, *g_path, *g_wal, *g_shm;

static void start(void)
{
    g_dir = compat_tmpdir();
    g_path = compat_path(g_dir, "db.sqlite");
    g_wal = compat_suffix(g_path, "-wal");
    g_shm = compat_suffix(g_path, "-shm");
}

static void finish(void)
{
    compat_rmtree(g_dir);
    free(g_path);
    free(g_wal);
    free(g_shm);
    free(g_dir);
}

static uint64_t file_hash(const char *path)
{
    size_t n;
    uint8_t *p = compat_read_file(path, &n);
    uint64_t h = 0xcbf29ce484222325ull ^ n;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    free(p);
    return h;
}

/* Compare read-only (which must change neither file), then read-write. */
static void compare_both_ways(const char *path)
{
    char *wal = compat_suffix(path, "-wal");
    uint64_t h_db = file_hash(path);
    int64_t wal_size = compat_file_size(wal);
    uint64_t h_wal = wal_size >= 0 ? file_hash(wal) : 0;
    compare_db_modes(path, COMPAT_RO, 40);
    cr_assert(file_hash(path) == h_db, "a read-only folio changed the database file");
    cr_assert(compat_file_size(wal) == wal_size, "a read-only folio changed the -wal size");
    if (wal_size >= 0)
        cr_assert(file_hash(wal) == h_wal, "a read-only folio changed the -wal");
    compare_db_modes(path, COMPAT_RW, 20);
    free(wal);
}

/* ---- A child process that writes with libsqlite3 and dies ----------------- */

/* In the child: run SQL or die with status 3 (never returns on error). */
static void child_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "child: %s\n  in: %.200s\n", err ? err : "?", sql);
        _exit(3);
    }
}

static sqlite3 *child_open(const char *path, int page_size)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        _exit(4);
    compat_sqlite_functions(db);
    char sql[160];
    snprintf(sql, sizeof sql,
             "PRAGMA page_size=%d; PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
             "PRAGMA synchronous=OFF",
             page_size);
    child_exec(db, sql);
    return db;
}

static int64_t size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* Run `body` in a child process, which ends with _exit(0) and never closes
 * its handle: the -wal and -shm stay as a crash leaves them. */
static void run_child(void (*body)(const char *path), const char *path)
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork failed");
    if (pid == 0) {
        body(path);
        _exit(0);
    }
    int status = 0;
    cr_assert(waitpid(pid, &status, 0) == pid, "waitpid failed");
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the writer child failed (status %d)",
              status);
}

static void body_crashed_writer(const char *path)
{
    sqlite3 *db = child_open(path, 1024);
    child_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b BLOB);"
                   "CREATE INDEX t_a ON t(a);"
                   "CREATE TABLE w(k PRIMARY KEY, v) WITHOUT ROWID");
    child_exec(db, COMPAT_SERIES(1, 800) "INSERT INTO t SELECT value, printf('row %05d', value),"
                                         " zeroblob(value % 1300) FROM series");
    child_exec(db, "UPDATE t SET a = a || '!' WHERE id % 3 = 0");
    child_exec(db, "DELETE FROM t WHERE id % 7 = 0");
    child_exec(db, "INSERT INTO w SELECT a, id FROM t");
    child_exec(db, "BEGIN; CREATE INDEX t_b ON t(b, a DESC); UPDATE w SET v = -v; COMMIT");
    child_exec(db, "INSERT INTO t(a, b) VALUES('last committed', x'0102')");
    /* Dies here: no close, no checkpoint. */
}

static void check_crash_leftovers(void)
{
    cr_assert(compat_file_size(g_wal) > 32, "the -wal should hold the transactions");
    cr_assert(compat_file_size(g_shm) > 0, "the -shm should be left behind");
}

Test(compat_wal, left_by_a_crashed_writer)
{
    start();
    run_child(body_crashed_writer, g_path);
    check_crash_leftovers();
    compare_both_ways(g_path);
    finish();
}

Test(compat_wal, left_by_a_crashed_writer_without_shm)
{
    start();
    run_child(body_crashed_writer, g_path);
    check_crash_leftovers();
    cr_assert_eq(unlink(g_shm), 0);
    compare_both_ways(g_path);
    finish();
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Garbage after the last valid frame: libsqlite3 ignores it, so must folio. */
static void append_garbage(const char *wal, int kind, uint64_t *rng)
{
    size_t n;
    uint8_t *w = compat_read_file(wal, &n);
    cr_assert(n >= 32, "no WAL header");
    uint32_t page = get32(w + 8);
    size_t frame = 24 + page;
    size_t nframes = (n - 32) / frame;
    cr_assert(nframes > 0, "no frames in the WAL");
    uint8_t *g = calloc(1, frame * 2 + 4096);
    cr_assert(g != NULL);
    size_t glen = 0;
    switch (kind) {
    case 0: /* random bytes, not a multiple of the frame size */
        glen = 3000 + (size_t)compat_below(rng, 1000);
        for (size_t i = 0; i < glen; i++)
            g[i] = (uint8_t)compat_rand(rng);
        break;
    case 1: /* a commit frame with the right salts and a wrong checksum */
        put32(g, 1);
        put32(g + 4, 1);
        memcpy(g + 8, w + 16, 8);
        for (size_t i = 16; i < frame; i++)
            g[i] = (uint8_t)compat_rand(rng);
        glen = frame;
        break;
    case 2: /* the last frame again: its checksum no longer continues the chain */
        memcpy(g, w + 32 + (nframes - 1) * frame, frame);
        glen = frame;
        break;
    case 3: /* a torn frame: the start of a copy of the first frame */
        memcpy(g, w + 32, frame / 2);
        glen = frame / 2;
        break;
    default: /* a frame with the salts of another WAL generation */
        memcpy(g, w + 32 + (nframes - 1) * frame, frame);
        put32(g + 8, get32(g + 8) + 1);
        put32(g + 4, 2);
        glen = frame;
        break;
    }
    compat_append_file(wal, g, glen);
    free(g);
    free(w);
}

Test(compat_wal, garbage_after_the_last_frame)
{
    uint64_t rng = compat_seed(0x9a5ba9e);
    start();
    run_child(body_crashed_writer, g_path);
    check_crash_leftovers();
    for (int kind = 0; kind < 5; kind++) {
        char name[32];
        snprintf(name, sizeof name, "garbage%d.sqlite", kind);
        char *copy = compat_path(g_dir, name);
        char *wal = compat_suffix(copy, "-wal");
        compat_copy_db(g_path, copy, 1);
        int64_t before = compat_file_size(wal);
        append_garbage(wal, kind, &rng);
        cr_assert(compat_file_size(wal) > before);
        compare_both_ways(copy);
        free(wal);
        free(copy);
    }
    finish();
}

static void body_uncommitted(const char *path)
{
    sqlite3 *db = child_open(path, 1024);
    child_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);"
                   "CREATE INDEX t_v ON t(v);" COMPAT_SERIES(
                       1, 100) "INSERT INTO t SELECT value, det_blob(200, value) FROM series");
    char *wal = sqlite3_mprintf("%s-wal", path);
    int64_t committed = size_of(wal);
    /* A transaction too big for the cache spills frames without a commit
     * mark into the WAL; then the process dies. */
    child_exec(db, "PRAGMA cache_size=10; BEGIN;" COMPAT_SERIES(
                       1, 3000) "INSERT INTO t(v) SELECT det_blob(500, value) FROM series;"
                                "UPDATE t SET v = NULL WHERE id <= 100");
    if (size_of(wal) <= committed)
        _exit(5);
    sqlite3_free(wal);
}

Test(compat_wal, uncommitted_frames_are_ignored)
{
    start();
    run_child(body_uncommitted, g_path);
    sqlite3 *db = compat_sqlite_open_ro(g_path);
    cr_assert_eq(compat_query_int(db, "SELECT count(*) FROM t WHERE v IS NOT NULL"), 100);
    compat_sqlite_close(db);
    compare_both_ways(g_path);
    finish();
}

static void body_checkpointed(const char *path)
{
    sqlite3 *db = child_open(path, 2048);
    child_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);" COMPAT_SERIES(
                       1, 300) "INSERT INTO t SELECT value, printf('first %d', value) FROM series");
    for (int round = 0; round < 20; round++) {
        char sql[128];
        snprintf(sql, sizeof sql, "UPDATE t SET v = 'round %d ' || id WHERE id %% 20 = %d", round,
                 round);
        child_exec(db, sql);
    }
    child_exec(db, "PRAGMA wal_checkpoint(PASSIVE)");
}

Test(compat_wal, checkpointed_but_not_restarted)
{
    start();
    run_child(body_checkpointed, g_path);
    check_crash_leftovers();
    compare_both_ways(g_path);
    finish();
}

static void body_restarted(const char *path)
{
    body_checkpointed(path);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        _exit(4);
    char *wal = sqlite3_mprintf("%s-wal", path);
    int64_t before = size_of(wal);
    /* The WAL was fully checkpointed: this writer restarts it from frame 1
     * with new salts, leaving the older frames after the new ones. Those
     * hold older images of the page it rewrites. */
    child_exec(db, "UPDATE t SET v = 'after restart' WHERE id = 1");
    if (size_of(wal) != before)
        _exit(6); /* the restart should not change the file size */
    sqlite3_free(wal);
}

Test(compat_wal, restarted_with_stale_frames_behind)
{
    start();
    run_child(body_restarted, g_path);
    check_crash_leftovers();
    sqlite3 *db = compat_sqlite_open_ro(g_path);
    char *v = compat_query_text(db, "SELECT v FROM t WHERE id = 1");
    cr_assert_str_eq(v, "after restart");
    free(v);
    compat_sqlite_close(db);
    compare_both_ways(g_path);
    finish();
}

Test(compat_wal, vacuum_shrinks_the_database_inside_the_wal)
{
    start();
    sqlite3 *db = compat_sqlite_open(g_path);
    compat_exec(db, "PRAGMA page_size=1024");
    compat_wal_mode(db);
    compat_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
                    "CREATE INDEX t_v ON t(v);" COMPAT_SERIES(
                        1, 3000) "INSERT INTO t SELECT value, det_blob(300, value) FROM series;"
                                 "PRAGMA wal_checkpoint(TRUNCATE);"
                                 "DELETE FROM t WHERE id > 200;"
                                 "VACUUM");
    int64_t pages = compat_query_int(db, "PRAGMA page_count");
    compat_sqlite_close_keep_wal(db);
    cr_assert(pages * 1024 < compat_file_size(g_path),
              "the file should be longer than the database the WAL describes");
    compare_both_ways(g_path);
    finish();
}

Test(compat_wal, many_versions_of_the_same_pages)
{
    start();
    sqlite3 *db = compat_sqlite_open(g_path);
    compat_exec(db, "PRAGMA page_size=512");
    compat_wal_mode(db);
    compat_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v, w);"
                    "CREATE INDEX t_w ON t(w)");
    for (int i = 0; i < 300; i++)
        compat_execf(db,
                     "INSERT INTO t(v, w) VALUES(%d, 'w%d');"
                     "UPDATE t SET v = v + 1, w = w || '.' WHERE id %% 17 = %d",
                     i, i % 29, i % 17);
    compat_sqlite_close_keep_wal(db);
    cr_assert(compat_file_size(g_wal) > 300 * (512 + 24), "expected hundreds of frames");
    compare_both_ways(g_path);
    finish();
}
