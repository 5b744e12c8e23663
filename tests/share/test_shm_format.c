/*
 * test_shm_format.c - the -shm wal-index and the locks as libsqlite3 itself
 * writes and reads them (notes/shm_protocol.md §1, §2, §4, §10).
 *
 * folio runs in the test process; libsqlite3 in a SQL child (share_util.h);
 * the -shm and -wal are read, and the locks probed with F_GETLK, from other
 * short-lived children, never from a process that holds SQLite's locks.
 *
 *   - after folio's commits: both header copies equal, iVersion 3007000,
 *     isInit 1, the checksum of bytes 0..39 valid, salts equal to the WAL
 *     header's, mxFrame and nPage equal to what libsqlite3 reports (its
 *     PASSIVE checkpoint's log size, PRAGMA page_count); libsqlite3 reads
 *     without rebuilding the index (the header stays byte for byte);
 *   - after libsqlite3's commits: folio's view (folio_info) is the header's,
 *     and folio reads without rebuilding;
 *   - folio's recovery of a WAL left by a killed sqlite3 leaves the header
 *     and marks as SQLite's own recovery does;
 *   - a WAL whose index spans three regions (over 8158 frames): folio reads
 *     sqlite3's frames through it and sqlite3 folio's, integrity_check
 *     included, before any checkpoint;
 *   - the locks: SHARED on the database file while open, the dead-man
 *     switch, a read mark during a read transaction, WRITE during a write
 *     transaction; and folio waits for, then reports, sqlite3's WRITE.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <criterion/criterion.h>
#include <fcntl.h>
#include <folio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat.h"
#include "share_util.h"

#define SHARED_FIRST 0x40000002
#define SHARED_SIZE  510

TestSuite(share_shm_format, .fini = share_fini, .timeout = 120);

/* Insert rows first..last of t(id, v, pad) in one transaction, v = id * mul. */
static void folio_fill(folio_db *db, int64_t first, int64_t last, int64_t mul)
{
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
    folio_table *tb;
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    char pad[120];
    memset(pad, 'p', sizeof pad);
    for (int64_t i = first; i <= last; i++) {
        folio_value v[3] = {{FOLIO_INTEGER, {.i = i}},
                            {FOLIO_INTEGER, {.i = i * mul}},
                            {FOLIO_TEXT, {.s = {pad, sizeof pad}}}};
        int rc = folio_upsert(NULL, tb, i, v, 3);
        cr_assert_eq(rc, FOLIO_OK, "upsert %lld: %d %s", (long long)i, rc, folio_errmsg(db));
    }
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
}

/* Rows and sum of v as folio sees them in a new read transaction. */
static void folio_count_sum(folio_db *db, int64_t *out_n, int64_t *out_sum)
{
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_READ), FOLIO_OK, "%s", folio_errmsg(db));
    folio_table *tb;
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, tb, NULL), FOLIO_OK);
    int64_t n = 0, sum = 0;
    for (int rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
        folio_value v;
        cr_assert_eq(folio_cursor_column(&v, c, 1), FOLIO_OK);
        n++;
        sum += v.u.i;
    }
    folio_cursor_close(c);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    *out_n = n;
    *out_sum = sum;
}

/* The checks every quiescent header passes, whoever wrote it. */
static void check_header(const char *path, const share_shm *h)
{
    cr_assert_eq(h->got, 136, "-shm too short: %zu bytes", h->got);
    cr_assert(h->copies_equal, "the two header copies differ");
    cr_assert(h->cksum_ok, "the header checksum does not verify");
    cr_assert_eq(h->version, 3007000u);
    cr_assert_eq(h->is_init, 1);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    cr_assert_eq(h->big_end, 1);
#else
    cr_assert_eq(h->big_end, 0);
#endif
    cr_assert_eq(h->page_size, 4096u);
    cr_assert(h->backfill <= h->mx_frame, "nBackfill %u > mxFrame %u", h->backfill, h->mx_frame);
    cr_assert_eq(h->mark[0], 0u, "aReadMark[0] is %u", h->mark[0]);
    for (int i = 1; i < 5; i++)
        cr_assert(h->mark[i] == 0xffffffffu || h->mark[i] <= h->mx_frame,
                  "aReadMark[%d] %u past mxFrame %u", i, h->mark[i], h->mx_frame);
    for (int b = 120; b < 128; b++)
        cr_assert_eq(h->raw[b], 0, "lock byte %d holds data", b);
    /* The salts are the WAL header's, byte for byte. */
    char *wal = compat_suffix(path, "-wal");
    uint8_t wh[32];
    cr_assert_eq(share_read_bytes(wal, 0, wh, sizeof wh), sizeof wh, "no WAL header");
    uint32_t magic = (uint32_t)wh[0] << 24 | (uint32_t)wh[1] << 16 | (uint32_t)wh[2] << 8 | wh[3];
    cr_assert(magic == 0x377f0682u || magic == 0x377f0683u, "WAL magic %08x", magic);
    cr_assert_eq(magic & 1u, h->big_end, "bigEndCksum disagrees with the WAL magic");
    cr_assert_eq(memcmp(wh + 16, h->salt, 8), 0, "the header's salts are not the WAL's");
    free(wal);
    char *shm = compat_suffix(path, "-shm");
    int64_t size = compat_file_size(shm); /* stat: no descriptor opened */
    cr_assert(size >= 32768 && size % 32768 == 0, "-shm size %lld", (long long)size);
    free(shm);
}

Test(share_shm_format, header_after_folio_commits_is_sqlites)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "f.db");
    folio_db *db = share_folio_open(path, 2000, 0);
    share_folio_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)");
    folio_fill(db, 1, 300, 1);
    folio_fill(db, 100, 150, 2);
    folio_fill(db, 301, 320, 1);

    share_shm h;
    share_read_shm(path, &h);
    check_header(path, &h);
    cr_assert(h.mx_frame > 0, "folio's commits are not in the WAL index");
    cr_assert_neq(h.change, 0u, "iChange did not move at commit");
    int64_t n, sum;
    folio_count_sum(db, &n, &sum);
    cr_assert_eq(n, 320);

    /* libsqlite3, a fresh connection of another process. */
    share_sql s;
    share_sql_start(&s, path, 2000);
    cr_assert_eq(share_sql_int(&s, "PRAGMA page_count"), (int64_t)h.npage,
                 "sqlite3's page_count differs from the header's nPage %u", h.npage);
    cr_assert_eq(share_sql_int(&s, "SELECT count(*) FROM t"), n);
    cr_assert_eq(share_sql_int(&s, "SELECT sum(v) FROM t"), sum);
    share_shm h2;
    share_read_shm(path, &h2);
    cr_assert_eq(memcmp(h.raw, h2.raw, 96), 0,
                 "sqlite3 rewrote the header when reading (it found it invalid and recovered)");

    /* Its checkpoint's log size is the header's mxFrame; with no reader it
     * copies everything. */
    char out[256];
    cr_assert_eq(share_sql_run(&s, out, sizeof out, "PRAGMA wal_checkpoint(PASSIVE)"), SQLITE_OK);
    char want[64];
    snprintf(want, sizeof want, "0|%u|%u\n", h.mx_frame, h.mx_frame);
    cr_assert_str_eq(out, want, "sqlite3's checkpoint says %s, the header mxFrame %u", out,
                     h.mx_frame);
    share_read_shm(path, &h2);
    check_header(path, &h2);
    cr_assert_eq(h2.backfill, h.mx_frame);
    cr_assert_eq(memcmp(h.raw, h2.raw, 48), 0, "a checkpoint changed the header");
    share_sql_stop(&s);

    /* folio sees the checkpoint and still reads the same. */
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_READ), FOLIO_OK);
    folio_info info;
    cr_assert_eq(folio_info_get(&info, t), FOLIO_OK);
    cr_assert_eq(info.wal_frames, h.mx_frame);
    cr_assert_eq(info.wal_backfilled, h.mx_frame);
    cr_assert_eq(info.page_count, h.npage);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    int64_t n2, sum2;
    folio_count_sum(db, &n2, &sum2);
    cr_assert_eq(n2, n);
    cr_assert_eq(sum2, sum);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok");
    free(why);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

Test(share_shm_format, header_after_sqlite_commits_is_folios_view)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "s.db");
    folio_db *db = share_folio_open(path, 2000, 0);
    share_folio_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)");

    share_sql s;
    share_sql_start(&s, path, 2000);
    char out[256];
    int rc = share_sql_run(&s, out, sizeof out,
                           COMPAT_SERIES(1, 400) "INSERT INTO t SELECT value, value * 3, "
                                                 "printf('%%0200d', value) FROM series");
    cr_assert_eq(rc, SQLITE_OK, "%s", out);
    rc = share_sql_run(&s, out, sizeof out, "UPDATE t SET v = v + 1 WHERE id %% 7 = 0");
    cr_assert_eq(rc, SQLITE_OK, "%s", out);
    int64_t want_sum = share_sql_int(&s, "SELECT sum(v) FROM t");
    int64_t pages = share_sql_int(&s, "PRAGMA page_count");

    share_shm h;
    share_read_shm(path, &h);
    check_header(path, &h);
    cr_assert(h.mx_frame > 0);
    cr_assert_eq(h.npage, (uint32_t)pages);

    /* folio's view is the header's, and reading it rebuilds nothing. */
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_READ), FOLIO_OK, "%s", folio_errmsg(db));
    folio_info info;
    cr_assert_eq(folio_info_get(&info, t), FOLIO_OK);
    cr_assert_eq(info.wal_frames, h.mx_frame, "folio sees %u frames, the header says %u",
                 info.wal_frames, h.mx_frame);
    cr_assert_eq(info.page_count, h.npage);
    cr_assert_eq(info.wal_backfilled, h.backfill);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    int64_t n, sum;
    folio_count_sum(db, &n, &sum);
    cr_assert_eq(n, 400);
    cr_assert_eq(sum, want_sum);
    share_shm h2;
    share_read_shm(path, &h2);
    cr_assert_eq(memcmp(h.raw, h2.raw, 96), 0, "folio rewrote the header when reading");

    /* And folio's next commit is sqlite3's to read. */
    folio_fill(db, 401, 401, 3);
    cr_assert_eq(share_sql_int(&s, "SELECT count(*) FROM t"), 401);
    share_read_shm(path, &h2);
    check_header(path, &h2);
    cr_assert(h2.mx_frame > h.mx_frame);
    cr_assert_neq(h2.change, h.change, "folio's commit left iChange as it was");
    share_sql_stop(&s);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok");
    free(why);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

Test(share_shm_format, folio_recovery_of_sqlites_wal_is_sqlites)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "r.db");
    share_sql s;
    share_sql_start(&s, path, 2000);
    char out[256];
    int rc =
        share_sql_run(&s, out, sizeof out,
                      "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
                      "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT);" COMPAT_SERIES(
                          1, 250) "INSERT INTO t SELECT value, value, 'x' FROM series;");
    cr_assert_eq(rc, SQLITE_OK, "%s", out);
    /* Killed: the WAL and a -shm stay, nobody attached. */
    share_sql_kill(&s);

    folio_db *db = share_folio_open(path, 2000, 0);
    int64_t n, sum;
    folio_count_sum(db, &n, &sum);
    cr_assert_eq(n, 250);
    cr_assert_eq(sum, 250 * 251 / 2);
    share_shm h;
    share_read_shm(path, &h);
    check_header(path, &h);
    cr_assert(h.mx_frame > 0);
    /* SQLite's recovery leaves iChange 0, nBackfill 0, nBackfillAttempted
     * mxFrame, marks {0, mxFrame, unused...} (notes §10 step 5); a reader
     * then may only have set a free mark to mxFrame. */
    cr_assert_eq(h.change, 0u);
    cr_assert_eq(h.backfill, 0u);
    cr_assert_eq(h.attempted, h.mx_frame);
    cr_assert_eq(h.mark[1], h.mx_frame);

    share_sql_start(&s, path, 2000);
    cr_assert_eq(share_sql_int(&s, "SELECT count(*) FROM t"), 250);
    share_shm h2;
    share_read_shm(path, &h2);
    cr_assert_eq(memcmp(h.raw, h2.raw, 96), 0, "sqlite3 rebuilt the index folio rebuilt");
    share_sql_stop(&s);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok");
    free(why);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* A read lock on one of the read-mark bytes 123..127. */
static int read_mark_locked(const char *shm)
{
    share_probe q[5];
    for (int i = 0; i < 5; i++)
        q[i] = (share_probe){123 + i, 1, F_WRLCK, 0, 0};
    share_probe_locks(shm, q, 5);
    int n = 0;
    for (int i = 0; i < 5; i++) {
        cr_assert(q[i].found != F_WRLCK, "READ%d is locked exclusively", i);
        n += q[i].found == F_RDLCK;
    }
    return n;
}

Test(share_shm_format, locks_seen_from_another_process)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "l.db");
    char *shm = compat_suffix(path, "-shm");
    folio_db *db = share_folio_open(path, 300, 0);
    share_folio_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)");
    folio_fill(db, 1, 50, 1);

    /* Open and idle: SHARED on the database file, the dead-man switch. */
    cr_assert_eq(share_lock_at(path, SHARED_FIRST, SHARED_SIZE), F_RDLCK,
                 "no SHARED lock on the database file while folio has it open");
    cr_assert_eq(share_lock_at(shm, 128, 1), F_RDLCK, "no read lock on the DMS byte");
    cr_assert_eq(share_lock_at(shm, 120, 1), F_UNLCK, "WRITE held while idle");

    folio_txn *r;
    cr_assert_eq(folio_begin(&r, db, FOLIO_TXN_READ), FOLIO_OK);
    (void)share_folio_get_int(r, "t", 1, 1);
    cr_assert_geq(read_mark_locked(shm), 1, "a read transaction holds no read mark");
    cr_assert_eq(share_lock_at(shm, 128, 1), F_RDLCK);
    cr_assert_eq(share_lock_at(shm, 120, 1), F_UNLCK, "WRITE held by a reader");
    cr_assert_eq(folio_commit(r), FOLIO_OK);

    folio_txn *w;
    cr_assert_eq(folio_begin(&w, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(share_lock_at(shm, 120, 1), F_WRLCK, "a write transaction holds no WRITE");
    cr_assert_eq(share_lock_at(path, SHARED_FIRST, SHARED_SIZE), F_RDLCK);
    cr_assert_eq(folio_rollback(w), FOLIO_OK);
    cr_assert_eq(share_lock_at(shm, 120, 1), F_UNLCK, "WRITE kept after rollback");

    /* sqlite3's WRITE is folio's too: a writer waits, then is refused. */
    share_sql s;
    share_sql_start(&s, path, 2000);
    char out[256];
    cr_assert_eq(
        share_sql_run(&s, out, sizeof out, "BEGIN IMMEDIATE; INSERT INTO t VALUES(999, 1, 'x')"),
        SQLITE_OK, "%s", out);
    share_probe q = {120, 1, F_RDLCK, 0, 0};
    share_probe_locks(shm, &q, 1);
    cr_assert_eq(q.found, F_WRLCK);
    cr_assert_eq(q.pid, (int)s.pid, "WRITE held by %d, not the sqlite3 child %d", q.pid,
                 (int)s.pid);
    uint64_t t0 = share_now_ms();
    int rc = folio_begin(&w, db, FOLIO_TXN_WRITE);
    uint64_t waited = share_now_ms() - t0;
    cr_assert_eq(rc, FOLIO_BUSY, "begin beside sqlite3's writer: %d", rc);
    cr_assert_geq(waited, 250, "folio gave up after %llu ms, busy timeout 300",
                  (unsigned long long)waited);
    char pidtext[32];
    snprintf(pidtext, sizeof pidtext, "process %d", (int)s.pid);
    cr_assert(strstr(folio_errmsg(db), pidtext), "the message does not name the holder: %s",
              folio_errmsg(db));
    cr_assert_eq(share_sql_run(&s, out, sizeof out, "COMMIT"), SQLITE_OK, "%s", out);
    cr_assert_eq(folio_begin(&w, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(share_folio_get_int(w, "t", 999, 1), 1);
    cr_assert_eq(folio_commit(w), FOLIO_OK);
    share_sql_stop(&s);

    cr_assert_eq(folio_close(db), FOLIO_OK);
    cr_assert_eq(share_lock_at(path, SHARED_FIRST, SHARED_SIZE), F_UNLCK,
                 "SHARED kept after close");
    struct stat st;
    if (stat(shm, &st) == 0)
        cr_assert_eq(share_lock_at(shm, 120, 9), F_UNLCK, "-shm locks kept after close");
    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok");
    free(why);
    compat_rmtree(dir);
    free(shm);
    free(path);
    free(dir);
}

/* `n` one-row commits by the sqlite3 child, each its own statement. */
static void sqlite_commits(share_sql *s, int64_t first, int n)
{
    size_t cap = (size_t)n * 64 + 64, len = 0;
    char *sql = malloc(cap);
    cr_assert_not_null(sql);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(sql + len, cap - len, "INSERT INTO t VALUES(%lld, %lld, 's');",
                                (long long)(first + i), (long long)(first + i));
    char out[256];
    int rc = share_sql_run(s, out, sizeof out, "%s", sql);
    cr_assert_eq(rc, SQLITE_OK, "%s", out);
    free(sql);
}

Test(share_shm_format, wal_index_past_the_first_region)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "g.db");
    char *shm = compat_suffix(path, "-shm");
    folio_db *db = share_folio_open(path, 2000, 0);
    share_folio_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)");
    share_sql s;
    share_sql_start(&s, path, 2000);
    char out[256];
    cr_assert_eq(
        share_sql_run(&s, out, sizeof out, "PRAGMA wal_autocheckpoint=0; PRAGMA synchronous=OFF"),
        SQLITE_OK, "%s", out);
    /* A frame a commit or so: past region 0 (4062 frames) and 1 (4096) into 2. */
    sqlite_commits(&s, 1, 9000);
    share_shm h;
    share_read_shm(path, &h);
    check_header(path, &h);
    cr_assert_gt(h.mx_frame, 4062u + 4096u, "only %u frames", h.mx_frame);
    cr_assert_geq(compat_file_size(shm), 3 * 32768);

    int64_t n, sum;
    folio_count_sum(db, &n, &sum);
    cr_assert_eq(n, 9000);
    cr_assert_eq(sum, 9000LL * 9001 / 2);
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_READ), FOLIO_OK);
    folio_info info;
    cr_assert_eq(folio_info_get(&info, t), FOLIO_OK);
    cr_assert_eq(info.wal_frames, h.mx_frame);
    for (int64_t id = 1; id <= 9000; id += 211)
        cr_assert_eq(share_folio_get_int(t, "t", id, 1), id);
    cr_assert_eq(folio_commit(t), FOLIO_OK);

    /* folio's frames go on from there, indexed where sqlite3 finds them. */
    for (int64_t i = 9001; i <= 11500; i++)
        folio_fill(db, i, i, 1);
    share_shm h2;
    share_read_shm(path, &h2);
    check_header(path, &h2);
    cr_assert_gt(h2.mx_frame, h.mx_frame + 2500);
    cr_assert_eq(share_sql_int(&s, "SELECT count(*) FROM t"), 11500);
    cr_assert_eq(share_sql_int(&s, "SELECT sum(v) FROM t"), 11500LL * 11501 / 2);
    cr_assert_eq(share_sql_run(&s, out, sizeof out, "PRAGMA integrity_check"), SQLITE_OK);
    cr_assert_str_eq(out, "ok\n", "integrity_check through the WAL index: %s", out);
    cr_assert_eq(share_sql_run(&s, out, sizeof out, "PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
    cr_assert_str_eq(out, "0|0|0\n", "%s", out);
    share_sql_stop(&s);
    folio_count_sum(db, &n, &sum);
    cr_assert_eq(n, 11500);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok");
    free(why);
    compat_rmtree(dir);
    free(shm);
    free(path);
    free(dir);
}
