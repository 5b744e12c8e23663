/*
 * test_commitlog.c - the commit log: restore to every version of a random
 * history equals the database at that version as a sqlite3 process read it
 * then; by time likewise. The history mixes inserts, updates, deletes and
 * DDL on a rowid and a WITHOUT ROWID table, transactions large enough to
 * spill and to write new pages straight to the file, checkpoints of every
 * mode, WAL restarts, reopenings, and commits of a sqlite3 process (which
 * the log cannot see: a gap, then a base) and disabling and enabling the
 * log. Versions in a gap are refused. A flipped byte in the log is refused
 * and nothing is created.
 *
 * Environment: FOLIO_SEED (printed as seed=N).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <criterion/criterion.h>
#include <dirent.h>
#include <folio.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "share_util.h"

TestSuite(share_commitlog, .fini = share_fini, .timeout = 900);

static char g_dir[256], g_path[320];

static void setup_dir(void)
{
    const char *base = getenv("FOLIO_TMP");
    snprintf(g_dir, sizeof g_dir, "%s/clog-XXXXXX", base && *base ? base : "/tmp");
    cr_assert(mkdtemp(g_dir));
    snprintf(g_path, sizeof g_path, "%s/c.db", g_dir);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the state as libsqlite3 reads it ----------------------------------------------- */

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static void buf_add(buf *b, const char *s, size_t n)
{
    if (b->cap - b->n < n + 1) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap - b->n < n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        cr_assert(b->p);
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static const char *TABLES_SQL = "SELECT name FROM sqlite_schema WHERE type = 'table' AND name "
                                "NOT LIKE 'sqlite_%' ORDER BY name";

/* Every user table's rows, in key order, '|' between values, as the SQL
 * child prints them: through the child (the live file, read by a sqlite3
 * process), or in this process (a restored file). */
static char *dump_child(share_sql *s)
{
    static char out[32 << 20];
    int rc = share_sql_run(s, out, sizeof out, "%s", TABLES_SQL);
    cr_assert_eq(rc, SQLITE_OK, "%s", out);
    char names[4096];
    snprintf(names, sizeof names, "%s", out);
    buf b = {0};
    buf_add(&b, "", 0);
    for (char *save, *name = strtok_r(names, "\n", &save); name;
         name = strtok_r(NULL, "\n", &save)) {
        buf_add(&b, "#", 1);
        buf_add(&b, name, strlen(name));
        buf_add(&b, "\n", 1);
        rc = share_sql_run(s, out, sizeof out, "SELECT * FROM \"%s\" ORDER BY 1", name);
        cr_assert_eq(rc, SQLITE_OK, "%s", out);
        buf_add(&b, out, strlen(out));
    }
    return b.p;
}

static char *dump_file(const char *path)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok", "%s", path);
    sqlite3_finalize(st);
    char names[64][128];
    int nn = 0;
    cr_assert_eq(sqlite3_prepare_v2(db, TABLES_SQL, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW && nn < 64)
        snprintf(names[nn++], 128, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    buf b = {0};
    buf_add(&b, "", 0);
    for (int i = 0; i < nn; i++) {
        buf_add(&b, "#", 1);
        buf_add(&b, names[i], strlen(names[i]));
        buf_add(&b, "\n", 1);
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY 1", names[i]);
        cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s",
                     sqlite3_errmsg(db));
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                if (c)
                    buf_add(&b, "|", 1);
                const char *t = (const char *)sqlite3_column_text(st, c);
                buf_add(&b, t ? t : "NULL", strlen(t ? t : "NULL"));
            }
            buf_add(&b, "\n", 1);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return b.p;
}

/* ---- the history --------------------------------------------------------------------- */

typedef struct state {
    uint64_t version;
    int64_t after_us; /* a time after its commit, before the next */
    int reachable;    /* 1: restore rebuilds it; 2: rebuilt if the WAL held it, else refused */
    char *dump;
} state;

static folio_db *open_db(uint64_t *rng)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.busy_timeout_ms = 10000;
    o.wal_autocheckpoint = (unsigned)compat_below(rng, 3) * 20;
    o.cache_bytes = compat_below(rng, 2) ? 256 << 10 : 0; /* small: big transactions spill */
    o.sync = compat_below(rng, 2) ? FOLIO_SYNC_FULL : FOLIO_SYNC_NORMAL;
    folio_db *db;
    cr_assert_eq(folio_open(&db, g_path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    return db;
}

static void exec1(folio_db *db, const char *sql)
{
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_exec(t, sql), FOLIO_OK, "%s: %s", sql, folio_errmsg(db));
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
}

static folio_value I(int64_t i)
{
    folio_value v = {.type = FOLIO_INTEGER, .u.i = i};
    return v;
}

static folio_value T(const char *s, size_t n)
{
    folio_value v = {.type = FOLIO_TEXT, .u.s = {s, n}};
    return v;
}

/* One random folio write transaction. */
static void folio_write(folio_db *db, uint64_t *rng, int *have_extra)
{
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
    folio_table *tb, *wr;
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&wr, t, "w"), FOLIO_OK);
    static char pad[3000];
    memset(pad, 'a' + (int)compat_below(rng, 26), sizeof pad);
    int kind = (int)compat_below(rng, 10);
    int n = kind == 0 ? 400 + (int)compat_below(rng, 600) : 1 + (int)compat_below(rng, 5);
    for (int i = 0; i < n; i++) {
        int64_t id = 1 + (int64_t)compat_below(rng, kind == 0 ? 100000 : 300);
        int op = (int)compat_below(rng, 4);
        size_t plen =
            compat_below(rng, 8) == 0 ? 1000 + compat_below(rng, 2000) : compat_below(rng, 40);
        folio_value v[3] = {I(id), I((int64_t)compat_below(rng, 1000)), T(pad, plen)};
        if (op <= 1) {
            int rc = folio_upsert(NULL, tb, id, v, 3);
            cr_assert_eq(rc, FOLIO_OK, "%s", folio_errmsg(db));
        } else if (op == 2) {
            int rc = folio_delete(tb, id);
            cr_assert(rc == FOLIO_OK || rc == FOLIO_NOTFOUND || rc == FOLIO_NOTFOUND_ERR, "%d %s",
                      rc, folio_errmsg(db));
        } else {
            char k[32];
            int kl = snprintf(k, sizeof k, "k%03d", (int)compat_below(rng, 50));
            folio_value kv[2] = {T(k, (size_t)kl), I((int64_t)compat_below(rng, 100))};
            int rc = folio_upsert(NULL, wr, 0, kv, 2);
            cr_assert_eq(rc, FOLIO_OK, "%s", folio_errmsg(db));
        }
    }
    (void)have_extra;
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
}

Test(share_commitlog, restore_every_version_of_a_random_history)
{
    setup_dir();
    uint64_t seed = compat_seed(7);
    uint64_t rng = seed;
    folio_db *db = open_db(&rng);
    exec1(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)");
    exec1(db, "CREATE TABLE w(k TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID");
    cr_assert_eq(folio_log_enable(db, compat_below(&rng, 2) ? FOLIO_LOG_LZ4 : FOLIO_LOG_ZSTD),
                 FOLIO_OK, "%s", folio_errmsg(db));
    share_sql s;
    share_sql_start(&s, g_path, 10000);
    /* (a sqlite3 checkpoint that starts the WAL over would lose the count
     * of commits: see test_versions.c) */
    share_sql_int(&s, "PRAGMA wal_autocheckpoint=0");
    enum { MAXV = 400 };
    static state st[MAXV];
    int ns = 0, log_on = 1, extra = 0, gap_pending = 0;
    int steps = 160;
    for (int step = 0; step < steps && ns < MAXV - 2; step++) {
        int r = (int)compat_below(&rng, 40);
        /* (with the log off, commits have no record; the commit that turns
         * it on again takes them from the WAL if it still holds them) */
        int wrote = 1, reachable = log_on ? 1 : 2;
        if (r == 0) {
            cr_assert_eq(folio_close(db), FOLIO_OK);
            db = open_db(&rng);
            wrote = 0;
        } else if (r == 1) {
            int rc = folio_checkpoint(db, (int)compat_below(&rng, 4), NULL, NULL);
            cr_assert(rc == FOLIO_OK || rc == FOLIO_BUSY, "%s", folio_errmsg(db));
            wrote = 0;
        } else if (r == 2) {
            /* sqlite3 commits: no record; a gap. */
            share_sql_int(&s, "INSERT INTO t(v, pad) VALUES(%d, 'from sqlite3')", step);
            /* With the log on, the next folio commit takes it from the WAL
             * as a record of pages if the WAL still holds it; else a gap. */
            reachable = 2;
            gap_pending = 1;
        } else if (r == 3) {
            const char *ddl[] = {"CREATE INDEX IF NOT EXISTS tv ON t(v)", "DROP INDEX IF EXISTS tv",
                                 extra ? "DROP TABLE x" : "CREATE TABLE x(a, b)",
                                 "ALTER TABLE w ADD COLUMN c%d"};
            int k = (int)compat_below(&rng, 4);
            char sql[128];
            snprintf(sql, sizeof sql, ddl[k], step);
            if (k == 2)
                extra = !extra;
            exec1(db, sql);
        } else if (r == 4 && log_on) {
            cr_assert_eq(folio_log_disable(db), FOLIO_OK, "%s", folio_errmsg(db));
            log_on = 0;
            reachable = 1; /* the disabling commit has its record */
        } else if (r >= 5 && r <= 9 && !log_on) {
            cr_assert_eq(folio_log_enable(db, FOLIO_LOG_ZSTD), FOLIO_OK, "%s", folio_errmsg(db));
            log_on = 1;
            /* the versions while it was off are a gap; a base follows this commit */
            reachable = 1;
            gap_pending = 0;
        } else {
            folio_write(db, &rng, &extra);
            if (gap_pending && log_on) {
                gap_pending = 0; /* the base after this commit makes it reachable */
            }
        }
        if (!wrote)
            continue;
        uint64_t v;
        cr_assert_eq(folio_version(db, &v), FOLIO_OK);
        if (ns && v == st[ns - 1].version) {
            /* A transaction that changed nothing (deletes of missing rows,
             * IF EXISTS ...) is no commit: the state is the last one. */
            char *d = dump_child(&s);
            cr_assert_str_eq(d, st[ns - 1].dump, "seed=%" PRIu64 ": no new version, new state",
                             seed);
            free(d);
            continue;
        }
        cr_assert(ns == 0 || v == st[ns - 1].version + 1,
                  "seed=%" PRIu64 ": version %" PRIu64 " after %" PRIu64, seed, v,
                  ns ? st[ns - 1].version : 0);
        st[ns].version = v;
        st[ns].reachable = reachable;
        st[ns].dump = dump_child(&s);
        st[ns].after_us = now_us();
        ns++;
        share_sleep_us(50);
    }
    share_sql_stop(&s);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    /* Every version: rebuilt exactly, or (a gap) refused. */
    int rebuilt = 0, refused = 0, captured = 0, foreign = 0;
    for (int i = 0; i < ns; i++)
        foreign += st[i].reachable == 2;
    for (int i = 0; i < ns; i++) {
        char dest[400];
        snprintf(dest, sizeof dest, "%s/r%" PRIu64 ".db", g_dir, st[i].version);
        uint64_t got = 0;
        int rc = folio_restore(g_path, dest, st[i].version, -1, &got);
        if (st[i].reachable == 2 && rc == FOLIO_OK) {
            char *d = dump_file(dest);
            cr_assert_str_eq(d, st[i].dump,
                             "seed=%" PRIu64 ": sqlite3's version %" PRIu64 " differs", seed,
                             st[i].version);
            free(d);
            unlink(dest);
            captured++;
            continue;
        }
        if (st[i].reachable != 1) {
            cr_assert_neq(rc, FOLIO_OK,
                          "seed=%" PRIu64 ": version %" PRIu64 " lies in a gap but was restored",
                          seed, st[i].version);
            cr_assert_eq(access(dest, F_OK), -1, "a refused restore left %s", dest);
            refused++;
            continue;
        }
        cr_assert_eq(rc, FOLIO_OK, "seed=%" PRIu64 ": restore %" PRIu64 ": %s", seed, st[i].version,
                     folio_open_errmsg());
        cr_assert_eq(got, st[i].version);
        char *d = dump_file(dest);
        cr_assert_str_eq(d, st[i].dump, "seed=%" PRIu64 ": version %" PRIu64 " differs", seed,
                         st[i].version);
        free(d);
        unlink(dest);
        rebuilt++;
    }
    cr_assert_gt(rebuilt, 50, "rebuilt %d, refused %d", rebuilt, refused);
    cr_assert(foreign == 0 || captured > 0,
              "seed=%" PRIu64 ": none of %d sqlite3 commits was "
              "taken from the WAL",
              seed, foreign);
    /* By time: a moment after a commit and before the next names it. */
    for (int k = 0; k < 10; k++) {
        int i = (int)compat_below(&rng, (uint64_t)ns);
        if (st[i].reachable != 1)
            continue;
        char dest[400];
        snprintf(dest, sizeof dest, "%s/time%d.db", g_dir, k);
        uint64_t got = 0;
        int rc = folio_restore(g_path, dest, 0, st[i].after_us, &got);
        cr_assert_eq(rc, FOLIO_OK, "seed=%" PRIu64 ": restore at a time: %s", seed,
                     folio_open_errmsg());
        cr_assert_eq(got, st[i].version,
                     "seed=%" PRIu64 ": the time after version %" PRIu64 " restored %" PRIu64, seed,
                     st[i].version, got);
        char *d = dump_file(dest);
        cr_assert_str_eq(d, st[i].dump);
        free(d);
        unlink(dest);
    }
    for (int i = 0; i < ns; i++)
        free(st[i].dump);
    compat_rmtree(g_dir);
}

/* ---- damage ---------------------------------------------------------------------------- */

static void flip_byte(const char *path, long off)
{
    FILE *f = fopen(path, "r+b");
    cr_assert(f, "%s", path);
    cr_assert_eq(fseek(f, off, SEEK_SET), 0);
    int c = fgetc(f);
    cr_assert_neq(c, EOF);
    cr_assert_eq(fseek(f, off, SEEK_SET), 0);
    fputc(c ^ 0x40, f);
    fclose(f);
}

static void first_segment(char *out, size_t n)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s-log", g_path);
    DIR *d = opendir(dir);
    cr_assert(d);
    struct dirent *e;
    out[0] = 0;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".seg") && (!out[0] || strcmp(e->d_name, strrchr(out, '/') + 1) < 0))
            snprintf(out, n, "%s/%s", dir, e->d_name);
    closedir(d);
    cr_assert(out[0]);
}

Test(share_commitlog, damage_is_refused_and_nothing_is_created)
{
    setup_dir();
    uint64_t rng = compat_seed(5);
    folio_db *db = open_db(&rng);
    exec1(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)");
    exec1(db, "CREATE TABLE w(k TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID");
    cr_assert_eq(folio_log_enable(db, FOLIO_LOG_ZSTD), FOLIO_OK, "%s", folio_errmsg(db));
    for (int i = 0; i < 30; i++)
        folio_write(db, &rng, NULL);
    uint64_t v;
    cr_assert_eq(folio_version(db, &v), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    char dest[400], seg[600];
    snprintf(dest, sizeof dest, "%s/out.db", g_dir);
    cr_assert_eq(folio_restore(g_path, dest, v, -1, NULL), FOLIO_OK, "%s", folio_open_errmsg());
    unlink(dest);
    first_segment(seg, sizeof seg);
    struct stat sb;
    cr_assert_eq(stat(seg, &sb), 0);
    /* A byte in the middle of the segment (some record's payload). */
    flip_byte(seg, (long)sb.st_size / 2);
    int rc = folio_restore(g_path, dest, v, -1, NULL);
    cr_assert_eq(rc, FOLIO_CORRUPT, "a damaged record was restored over: %d %s", rc,
                 folio_open_errmsg());
    cr_assert(strstr(folio_open_errmsg(), ".seg at offset "),
              "the message names the file and "
              "offset: %s",
              folio_open_errmsg());
    cr_assert_eq(access(dest, F_OK), -1);
    flip_byte(seg, (long)sb.st_size / 2); /* back */
    cr_assert_eq(folio_restore(g_path, dest, v, -1, NULL), FOLIO_OK, "%s", folio_open_errmsg());
    unlink(dest);
    /* The segment header. */
    flip_byte(seg, 20);
    cr_assert_eq(folio_restore(g_path, dest, v, -1, NULL), FOLIO_CORRUPT);
    cr_assert(strstr(folio_open_errmsg(), "at offset 0"), "%s", folio_open_errmsg());
    cr_assert_eq(access(dest, F_OK), -1);
    flip_byte(seg, 20);
    /* A writer cuts the log at the damage (as it cuts a tail a power loss
     * tore), says so with a gap and takes a new base: versions before the
     * damage restore, the ones cut are refused, new ones restore. */
    flip_byte(seg, (long)sb.st_size / 2);
    db = open_db(&rng);
    exec1(db, "CREATE TABLE after_damage(a)");
    uint64_t v2;
    cr_assert_eq(folio_version(db, &v2), FOLIO_OK);
    cr_assert_eq(v2, v + 1);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    cr_assert_eq(folio_restore(g_path, dest, v2, -1, NULL), FOLIO_OK, "%s", folio_open_errmsg());
    unlink(dest);
    rc = folio_restore(g_path, dest, v, -1, NULL);
    cr_assert_eq(rc, FOLIO_NOTFOUND_ERR, "a version cut at the damage was restored: %d %s", rc,
                 folio_open_errmsg());
    cr_assert(strstr(folio_open_errmsg(), "without a record"), "%s", folio_open_errmsg());
    cr_assert_eq(access(dest, F_OK), -1);
    cr_assert_eq(folio_restore(g_path, dest, 3, -1, NULL), FOLIO_OK, "%s", folio_open_errmsg());
    unlink(dest);
    /* A log of another database. */
    char other[400], cmd[1400];
    snprintf(other, sizeof other, "%s/o.db", g_dir);
    folio_db *o;
    cr_assert_eq(folio_open(&o, other, NULL), FOLIO_OK);
    exec1(o, "CREATE TABLE q(a)");
    cr_assert_eq(folio_log_enable(o, FOLIO_LOG_ZSTD), FOLIO_OK, "%s", folio_errmsg(o));
    exec1(o, "CREATE TABLE q2(a)");
    cr_assert_eq(folio_close(o), FOLIO_OK);
    snprintf(cmd, sizeof cmd, "cp %s-log/*.seg %s-log/", other, g_path);
    cr_assert_eq(system(cmd), 0);
    rc = folio_restore(g_path, dest, v, -1, NULL);
    cr_assert_eq(rc, FOLIO_CORRUPT, "%d %s", rc, folio_open_errmsg());
    cr_assert(strstr(folio_open_errmsg(), "another log"), "%s", folio_open_errmsg());
    cr_assert_eq(access(dest, F_OK), -1);
    compat_rmtree(g_dir);
}

/* ---- two processes, one log ---------------------------------------------------------- */

typedef struct proc_job {
    const char *path;
    int id, commits;
} proc_job;

static int writer_proc(void *arg)
{
    const proc_job *j = arg;
    folio_options o = FOLIO_OPTIONS_INIT;
    o.busy_timeout_ms = 20000;
    o.wal_autocheckpoint = 40;
    o.sync = j->id ? FOLIO_SYNC_FULL : FOLIO_SYNC_NORMAL;
    folio_db *db;
    if (folio_open(&db, j->path, &o) != FOLIO_OK)
        return 2;
    char pad[900];
    memset(pad, 'p' + j->id, sizeof pad);
    for (int i = 0; i < j->commits; i++) {
        folio_txn *t;
        folio_table *tb;
        folio_value v[3] = {{FOLIO_NULL, {0}},
                            {FOLIO_INTEGER, {.i = j->id * 100000 + i}},
                            {FOLIO_TEXT, {.s = {pad, (size_t)(i * 37) % sizeof pad}}}};
        if (folio_begin(&t, db, FOLIO_TXN_WRITE) != FOLIO_OK)
            return 3;
        if (folio_table_open(&tb, t, "t") != FOLIO_OK || folio_insert(NULL, tb, v, 3) != FOLIO_OK) {
            fprintf(stderr, "writer %d: %s\n", j->id, folio_errmsg(db));
            return 4;
        }
        if (folio_commit(t) != FOLIO_OK) {
            fprintf(stderr, "writer %d: commit: %s\n", j->id, folio_errmsg(db));
            return 5;
        }
    }
    return folio_close(db) == FOLIO_OK ? 0 : 6;
}

/* Two processes append to one log (each catching up with the other's
 * records, segments closing and opening under both): every version
 * restores, each with one row more than the one before. */
Test(share_commitlog, two_processes_share_the_log_across_segments)
{
    setup_dir();
    setenv("FOLIO_LOG_SEGMENT_BYTES", "4096", 1);
    folio_db *db;
    cr_assert_eq(folio_open(&db, g_path, NULL), FOLIO_OK);
    exec1(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)");
    cr_assert_eq(folio_log_enable(db, FOLIO_LOG_ZSTD), FOLIO_OK, "%s", folio_errmsg(db));
    uint64_t v0;
    cr_assert_eq(folio_version(db, &v0), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    proc_job a = {g_path, 0, 60}, b = {g_path, 1, 60};
    pid_t pa = share_spawn(writer_proc, &a, NULL, 0), pb = share_spawn(writer_proc, &b, NULL, 0);
    int st;
    cr_assert_eq(share_wait(pa, 120000, &st), 1);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer 0: %s", share_status_str(st));
    cr_assert_eq(share_wait(pb, 120000, &st), 1);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer 1: %s", share_status_str(st));
    cr_assert_eq(folio_open(&db, g_path, NULL), FOLIO_OK);
    uint64_t last;
    cr_assert_eq(folio_version(db, &last), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    cr_assert_eq(last, v0 + 120);
    int segs = 0;
    char dir[400];
    snprintf(dir, sizeof dir, "%s-log", g_path);
    DIR *d = opendir(dir);
    cr_assert(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        segs += strstr(e->d_name, ".seg") != NULL;
    closedir(d);
    cr_assert_gt(segs, 3, "only %d segments", segs);
    for (uint64_t v = v0; v <= last; v++) {
        char dest[400];
        snprintf(dest, sizeof dest, "%s/p%" PRIu64 ".db", g_dir, v);
        int rc = folio_restore(g_path, dest, v, -1, NULL);
        cr_assert_eq(rc, FOLIO_OK, "restore %" PRIu64 ": %s", v, folio_open_errmsg());
        sqlite3 *s;
        cr_assert_eq(sqlite3_open_v2(dest, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        sqlite3_stmt *q;
        cr_assert_eq(sqlite3_prepare_v2(s, "SELECT count(*) FROM t", -1, &q, NULL), SQLITE_OK);
        cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
        cr_assert_eq((uint64_t)sqlite3_column_int64(q, 0), v - v0, "version %" PRIu64, v);
        sqlite3_finalize(q);
        sqlite3_close(s);
        unlink(dest);
    }
    unsetenv("FOLIO_LOG_SEGMENT_BYTES");
    compat_rmtree(g_dir);
}

static int insert_one(folio_db *db, int64_t v)
{
    folio_txn *t;
    folio_table *tb;
    char pad[300];
    memset(pad, 'q', sizeof pad);
    folio_value row[3] = {
        {FOLIO_NULL, {0}}, {FOLIO_INTEGER, {.i = v}}, {FOLIO_TEXT, {.s = {pad, sizeof pad}}}};
    if (folio_begin(&t, db, FOLIO_TXN_WRITE) != FOLIO_OK)
        return -1;
    if (folio_table_open(&tb, t, "t") != FOLIO_OK || folio_insert(NULL, tb, row, 3) != FOLIO_OK) {
        folio_rollback(t);
        return -1;
    }
    return folio_commit(t) == FOLIO_OK ? 0 : -1;
}

/* Regression: a process that stayed idle while another closed two
 * segments or more must follow through all of them. It used to stop at
 * the second closed one (its size matched what was read of it) and append
 * after that segment's CLOSED record, then close it and begin a segment of
 * its own: a fork that restore refuses. */
Test(share_commitlog, an_idle_writer_follows_through_several_closed_segments)
{
    setup_dir();
    setenv("FOLIO_LOG_SEGMENT_BYTES", "4096", 1);
    folio_db *a;
    cr_assert_eq(folio_open(&a, g_path, NULL), FOLIO_OK);
    exec1(a, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)");
    cr_assert_eq(folio_log_enable(a, FOLIO_LOG_ZSTD), FOLIO_OK, "%s", folio_errmsg(a));
    uint64_t v0;
    cr_assert_eq(folio_version(a, &v0), FOLIO_OK);
    int ready[2], go[2];
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(pipe(go), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* b: one commit (its writer opens on the first segment), idle while
         * a fills several, then one more */
        folio_db *b;
        char c = 0;
        int bad = folio_open(&b, g_path, NULL) != FOLIO_OK || insert_one(b, 0) < 0 ||
                  write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1;
        for (int i = 61; i < 61 + 25 && !bad; i++)
            bad = insert_one(b, i) < 0;
        if (!bad)
            bad = folio_close(b) != FOLIO_OK;
        _exit(bad ? 1 : 0);
    }
    char c;
    cr_assert_eq(read(ready[0], &c, 1), 1, "b did not commit");
    for (int i = 1; i <= 60; i++)
        cr_assert_eq(insert_one(a, i), 0, "%s", folio_errmsg(a));
    cr_assert_eq(write(go[1], "g", 1), 1);
    int st;
    cr_assert_eq(share_wait(pid, 60000, &st), 1);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "b: %s", share_status_str(st));
    cr_assert_eq(insert_one(a, 86), 0, "%s", folio_errmsg(a));
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
    uint64_t last;
    cr_assert_eq(folio_version(a, &last), FOLIO_OK);
    cr_assert_eq(last, v0 + 87);
    cr_assert_eq(folio_close(a), FOLIO_OK);
    int segs = 0;
    char dir[400];
    snprintf(dir, sizeof dir, "%s-log", g_path);
    DIR *d = opendir(dir);
    cr_assert(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        segs += strstr(e->d_name, ".seg") != NULL;
    closedir(d);
    cr_assert_geq(segs, 3, "only %d segments: the test needs several closed ones", segs);
    /* every version restores (no gap, no base but the first) */
    for (uint64_t v = v0; v <= last; v += (v + 3 < last ? 5 : 1)) {
        char dest[400];
        snprintf(dest, sizeof dest, "%s/i%" PRIu64 ".db", g_dir, v);
        int rc = folio_restore(g_path, dest, v, -1, NULL);
        cr_assert_eq(rc, FOLIO_OK, "restore %" PRIu64 ": %s", v, folio_open_errmsg());
        sqlite3 *s;
        cr_assert_eq(sqlite3_open_v2(dest, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        sqlite3_stmt *q;
        cr_assert_eq(sqlite3_prepare_v2(s, "SELECT count(*) FROM t", -1, &q, NULL), SQLITE_OK);
        cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
        cr_assert_eq((uint64_t)sqlite3_column_int64(q, 0), v - v0, "version %" PRIu64, v);
        sqlite3_finalize(q);
        sqlite3_close(s);
        unlink(dest);
    }
    unsetenv("FOLIO_LOG_SEGMENT_BYTES");
    compat_rmtree(g_dir);
}
