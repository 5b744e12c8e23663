/*
 * folio_backup: a copy of one snapshot, made while writers go on.
 *
 * Every copy is read by libsqlite3 (PRAGMA integrity_check, the canonical
 * content hash of tests/support/crash_support.h) and by folio (folio_check),
 * and compared with the source as libsqlite3 reads it, WAL included. The
 * threaded test checks each copy against the state the writer recorded for
 * the commit the copy holds, and against the version the backup names
 * (once versions exist: with the stub folio_version, every version is 0
 * and that part says so). It prints its seed (FOLIO_SEED replays it).
 */
#include "crash_support.h"
#include "folio.h"
#include "format/format.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *g_dir;
/* Paths made for the test (tpath, spath), freed at its end. */
static char *g_paths[256];
static int g_npaths;

static void setup(void)
{
    g_dir = crash_tmpdir("backup");
}

static void teardown(void)
{
    crash_rmtree(g_dir);
    free(g_dir);
    g_dir = NULL;
    for (int i = 0; i < g_npaths; i++)
        free(g_paths[i]);
    g_npaths = 0;
}

static char *keep(char *p)
{
    cr_assert_lt(g_npaths, 256);
    g_paths[g_npaths++] = p;
    return p;
}

/* A path in the test's directory, and one with a suffix. */
static char *tpath(const char *name)
{
    return keep(crash_path(g_dir, name));
}

static char *spath(const char *path, const char *suffix)
{
    return keep(crash_suffix(path, suffix));
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static void sq_exec(sqlite3 *s, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s, sql, NULL, NULL, &msg);
    cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, msg ? msg : "");
}

static sqlite3 *sq_open(const char *path, int readonly)
{
    sqlite3 *s;
    cr_assert_eq(sqlite3_open_v2(path, &s,
                                 readonly ? SQLITE_OPEN_READONLY
                                          : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                 NULL),
                 SQLITE_OK, "open %s", path);
    sqlite3_busy_timeout(s, 10000);
    return s;
}

static int64_t sq_int(sqlite3 *s, const char *sql)
{
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(s, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(s));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s: %s", sql, sqlite3_errmsg(s));
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int64_t path_int(const char *path, const char *sql)
{
    sqlite3 *s = sq_open(path, 1);
    int64_t v = sq_int(s, sql);
    sqlite3_close(s);
    return v;
}

static uint64_t hash_of(const char *path)
{
    char err[512];
    uint64_t h;
    cr_assert_eq(crash_hash_sqlite(path, &h, err, sizeof err), 0, "%s", err);
    return h;
}

/* Everything a copy must be on its own: both checkers clean, libsqlite3's
 * and folio's reads equal, no -wal or -shm beside it nor the temporary
 * file, and a header that describes it. Returns the content hash. */
static uint64_t assert_standalone_copy(const char *dest, uint64_t version)
{
    char err[1024];
    char *wal = spath(dest, "-wal"), *shm = spath(dest, "-shm"), *tmp = spath(dest, "-backup");
    cr_assert(!exists(wal) && !exists(shm), "%s has a -wal or -shm", dest);
    cr_assert(!exists(tmp), "the temporary file %s is left", tmp);
    size_t n;
    uint8_t *img = crash_read_file(dest, &n);
    cr_assert_not_null(img);
    cr_assert_geq(n, 512);
    fmt_dbheader h;
    cr_assert_eq(fmt_dbheader_decode(img, &h, NULL), 0);
    cr_assert_eq(n % h.page_size, 0);
    cr_assert_eq(h.page_count, n / h.page_size, "header page count %u, file %zu pages",
                 h.page_count, n / h.page_size);
    cr_assert_eq(h.version_valid_for, h.change_counter, "SQLite would not trust the page count");
    fmt_vstamp vs;
    cr_assert_eq(fmt_vstamp_decode(img, &vs), 0, "page 1 has no version stamp");
    cr_assert_eq(vs.version, version);
    cr_assert_eq(vs.flags, FMT_VSTAMP_END);
    cr_assert_eq(vs.salt1, 0);
    cr_assert_eq(vs.frame, 0);
    cr_assert_neq(vs.dbid, 0);
    free(img);
    uint64_t hash;
    cr_assert_eq(crash_verify(dest, &hash, err, sizeof err), 0, "%s: %s", dest, err);
    return hash;
}

/* Every byte of the copy is the source file's (checkpointed since, with
 * nothing committed after the backup) but for the header fields the copy
 * sets: the page count (28..31) and folio's stamp and version-valid-for
 * (72..95). */
static void assert_same_pages(const char *src, const char *dest)
{
    size_t ns, nd;
    uint8_t *a = crash_read_file(src, &ns), *b = crash_read_file(dest, &nd);
    cr_assert(a && b);
    cr_assert_eq(ns, nd, "source %zu bytes, copy %zu", ns, nd);
    for (size_t i = 0; i < ns; i++) {
        if ((i >= 28 && i < 32) || (i >= 72 && i < 96))
            continue;
        cr_assert_eq(a[i], b[i], "byte %zu (page %zu) differs", i, i / 4096 + 1);
    }
    fmt_vstamp sa, sb;
    cr_assert_eq(fmt_vstamp_decode(b, &sb), 0);
    if (fmt_vstamp_decode(a, &sa) == 0)
        cr_assert_eq(sa.dbid, sb.dbid, "the copy names another database");
    free(a);
    free(b);
}

static folio_db *open_folio(const char *path, unsigned autockpt)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.busy_timeout_ms = 10000;
    o.wal_autocheckpoint = autockpt;
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    return db;
}

static folio_value I(int64_t i)
{
    folio_value v = {.type = FOLIO_INTEGER, .u.i = i};
    return v;
}

static folio_value B(const void *p, size_t n)
{
    folio_value v = {.type = FOLIO_BLOB, .u.s = {p, n}};
    return v;
}

static folio_value T(const char *s)
{
    folio_value v = {.type = FOLIO_TEXT, .u.s = {s, strlen(s)}};
    return v;
}

/* A file of several tables and indexes (overflow chains, a WITHOUT ROWID
 * table) with a freelist, written by libsqlite3 and checkpointed. */
static void make_source(const char *path)
{
    sqlite3 *s = sq_open(path, 0);
    sq_exec(s, "PRAGMA journal_mode=WAL;"
               "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB);"
               "CREATE INDEX t_b ON t(b);"
               "CREATE TABLE r(x, y);"
               "CREATE INDEX r_xy ON r(x, y DESC);"
               "CREATE TABLE w(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
               "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 3000)"
               " INSERT INTO t SELECT i, printf('name %05d', i * 7919 % 3000),"
               " randomblob(i * 13 % 5000) FROM s;"
               "INSERT INTO r SELECT b, length(c) FROM t;"
               "INSERT INTO w SELECT printf('%08d', a * 31 % 9973), b FROM t WHERE a % 2 = 0;"
               "CREATE TABLE gone(z); INSERT INTO gone SELECT c FROM t WHERE a < 600;"
               "DELETE FROM t WHERE a % 3 = 0; DROP TABLE gone;");
    cr_assert_gt(sq_int(s, "PRAGMA freelist_count"), 0);
    cr_assert_eq(sqlite3_close(s), SQLITE_OK);
}

Test(backup, copy_of_tables_indexes_wal_and_freelist, .init = setup, .fini = teardown)
{
    char *src = tpath("src.db"), *dest = tpath("copy.db");
    make_source(src);
    /* folio commits that stay in the WAL (no automatic checkpoint): a new
     * table, rows in every table, deletions. */
    folio_db *db = open_folio(src, 0);
    folio_txn *tx;
    cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(tx, "CREATE TABLE n(id INTEGER PRIMARY KEY, s TEXT UNIQUE)"), FOLIO_OK,
                 "%s", folio_errmsg(db));
    folio_table *t, *n, *w;
    cr_assert_eq(folio_table_open(&t, tx, "t"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&n, tx, "n"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&w, tx, "w"), FOLIO_OK);
    uint8_t blob[3000];
    crash_fill(blob, sizeof blob, 7);
    for (int i = 0; i < 400; i++) {
        char name[32];
        snprintf(name, sizeof name, "folio %04d", i);
        folio_value tv[3] = {I(5000 + i), T(name), B(blob, (size_t)(i * 37 % 3000))};
        cr_assert_eq(folio_insert(NULL, t, tv, 3), FOLIO_OK, "%s", folio_errmsg(db));
        folio_value nv[2] = {I(i + 1), T(name)};
        cr_assert_eq(folio_insert(NULL, n, nv, 2), FOLIO_OK, "%s", folio_errmsg(db));
        snprintf(name, sizeof name, "k%06d", i);
        folio_value wv[2] = {T(name), I(i)};
        cr_assert_eq(folio_insert(NULL, w, wv, 2), FOLIO_OK, "%s", folio_errmsg(db));
    }
    for (int64_t a = 1; a < 1000; a += 5)
        if (a % 3)
            cr_assert_eq(folio_delete(t, a), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(tx), FOLIO_OK, "%s", folio_errmsg(db));
    /* And a commit of libsqlite3's, also left in the WAL. */
    sqlite3 *s = sq_open(src, 0);
    sq_exec(s, "PRAGMA wal_autocheckpoint=0; UPDATE r SET y = y + 1 WHERE rowid % 7 = 0;");
    cr_assert_eq(sqlite3_close(s), SQLITE_OK);

    folio_info in;
    cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_READ), FOLIO_OK);
    cr_assert_eq(folio_info_get(&in, tx), FOLIO_OK);
    folio_rollback(tx);
    cr_assert_gt(in.wal_frames, 0, "the WAL holds no page");
    cr_assert_gt(in.freelist_pages, 0);
    cr_assert_lt(in.wal_frames, in.page_count, "every page is in the WAL");

    uint64_t want = hash_of(src);
    int64_t pages = path_int(src, "PRAGMA page_count");
    int64_t freel = path_int(src, "PRAGMA freelist_count");
    uint64_t version = 1234, now;
    cr_assert_eq(folio_backup(db, dest, &version), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_version(db, &now), FOLIO_OK);
    cr_assert_eq(version, now, "no commit since, yet the backup names version %llu of %llu",
                 (unsigned long long)version, (unsigned long long)now);
    cr_assert_eq(assert_standalone_copy(dest, version), want, "the copy holds other rows");
    cr_assert_eq(path_int(dest, "PRAGMA page_count"), pages);
    cr_assert_eq(path_int(dest, "PRAGMA freelist_count"), freel);
    cr_assert_str_eq(folio_errmsg(db), "not an error");

    /* Byte for byte: the source, checkpointed, is the snapshot copied. */
    int log, done;
    cr_assert_eq(folio_checkpoint(db, FOLIO_CHECKPOINT_TRUNCATE, &log, &done), FOLIO_OK, "%s",
                 folio_errmsg(db));
    assert_same_pages(src, dest);
    cr_assert_eq(hash_of(src), want);

    /* A second backup (of the checkpointed file) to another name. */
    char *dest2 = tpath("copy2.db");
    cr_assert_eq(folio_backup(db, dest2, NULL), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(assert_standalone_copy(dest2, version), want);
    assert_same_pages(src, dest2);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    /* Handles whose map of the file covers a part of it, or none: the
     * pages past it are read (the map's are written from it in place). */
    static const size_t maps[] = {300 << 10, 0};
    for (int i = 0; i < 2; i++) {
        folio_options o = FOLIO_OPTIONS_INIT;
        o.mmap_bytes = maps[i];
        folio_db *m;
        cr_assert_eq(folio_open(&m, src, &o), FOLIO_OK, "%s", folio_open_errmsg());
        char name[32];
        snprintf(name, sizeof name, "copy_map%d.db", i);
        char *d = tpath(name);
        cr_assert_eq(folio_backup(m, d, NULL), FOLIO_OK, "%s", folio_errmsg(m));
        cr_assert_eq(folio_close(m), FOLIO_OK);
        cr_assert_eq(assert_standalone_copy(d, version), want);
        assert_same_pages(src, d);
    }
    /* The copy is a database folio writes to as any other. */
    folio_db *c = open_folio(dest, 1000);
    cr_assert_eq(folio_begin(&tx, c, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(tx, "CREATE TABLE after_backup(x)"), FOLIO_OK);
    cr_assert_eq(folio_commit(tx), FOLIO_OK);
    cr_assert_eq(folio_close(c), FOLIO_OK);
    cr_assert_eq(path_int(dest, "SELECT count(*) FROM sqlite_schema WHERE name='after_backup'"), 1);
    char err[512];
    cr_assert_eq(crash_check_sqlite(dest, err, sizeof err), 0, "%s", err);
}

/* An empty database (no page yet) gives an empty file. */
Test(backup, empty_database, .init = setup, .fini = teardown)
{
    char *src = tpath("empty.db"), *dest = tpath("copy.db");
    folio_db *db = open_folio(src, 1000);
    uint64_t v = 99;
    cr_assert_eq(folio_backup(db, dest, &v), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    cr_assert_eq(crash_file_size(dest), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(path_int(dest, "SELECT count(*) FROM sqlite_schema"), 0);
}

/* ---- during continuous writes ---- */

/* The writer's model of table t after each commit n: what libsqlite3 must
 * read in a copy whose meta row says n. */
typedef struct state {
    int64_t count, sum_x, sum_len;
    uint64_t version; /* folio_version right after the commit */
} state;

#define MAX_COMMITS 200000
#define MAX_LIVE    20000

typedef struct writer {
    folio_db *db;
    uint64_t seed;
    pthread_mutex_t mu;
    state *states; /* [0..ncommits] */
    int ncommits;
    int stop;
    int failed;
    char err[512];
    /* the model: live rows */
    int64_t ids[MAX_LIVE], xs[MAX_LIVE], lens[MAX_LIVE];
    int nlive;
    int64_t next_id;
    int64_t checkpoints_seen;
} writer;

static int wfail(writer *w, const char *what)
{
    snprintf(w->err, sizeof w->err, "%s: %s", what, folio_errmsg(w->db));
    w->failed = 1;
    return -1;
}

/* One transaction of a random kind; the model follows once it commits. */
static int write_one(writer *w, uint64_t *rng, int n)
{
    static uint8_t pad[1200];
    folio_txn *tx;
    if (folio_begin(&tx, w->db, FOLIO_TXN_WRITE) < 0)
        return wfail(w, "begin");
    folio_table *t, *m;
    if (folio_table_open(&t, tx, "t") < 0 || folio_table_open(&m, tx, "meta") < 0) {
        folio_rollback(tx);
        return wfail(w, "table_open");
    }
    /* Changes go to a scratch copy of the model, kept only on commit. */
    static int64_t ids[MAX_LIVE], xs[MAX_LIVE], lens[MAX_LIVE];
    int nlive = w->nlive;
    int64_t next_id = w->next_id;
    memcpy(ids, w->ids, sizeof ids[0] * (size_t)nlive);
    memcpy(xs, w->xs, sizeof xs[0] * (size_t)nlive);
    memcpy(lens, w->lens, sizeof lens[0] * (size_t)nlive);
    int kind = (int)crash_below(rng, 10);
    int rows = kind < 3   ? 1
               : kind < 6 ? 20 + (int)crash_below(rng, 200)
                          : 1 + (int)crash_below(rng, 30);
    int rc = 0;
    for (int i = 0; i < rows && rc >= 0; i++) {
        if (kind < 6 || nlive < 50) { /* insert */
            if (nlive == MAX_LIVE)
                break;
            int64_t x = (int64_t)crash_below(rng, 1000000);
            int64_t len = (int64_t)crash_below(rng, sizeof pad);
            folio_value v[3] = {I(next_id), I(x), B(pad, (size_t)len)};
            if ((rc = folio_insert(NULL, t, v, 3)) >= 0) {
                ids[nlive] = next_id++;
                xs[nlive] = x;
                lens[nlive++] = len;
            }
        } else if (kind < 8) { /* update */
            int k = (int)crash_below(rng, (uint64_t)nlive);
            int64_t x = xs[k] + 1 + (int64_t)crash_below(rng, 100);
            folio_value v[3] = {I(ids[k]), I(x), B(pad, (size_t)lens[k])};
            if ((rc = folio_update(t, ids[k], v, 3)) >= 0)
                xs[k] = x;
        } else { /* delete */
            int k = (int)crash_below(rng, (uint64_t)nlive);
            if ((rc = folio_delete(t, ids[k])) >= 0) {
                nlive--;
                ids[k] = ids[nlive];
                xs[k] = xs[nlive];
                lens[k] = lens[nlive];
            }
        }
    }
    folio_value mv[2] = {I(1), I(n)};
    if (rc >= 0)
        rc = folio_update(m, 1, mv, 2);
    if (rc < 0) {
        folio_rollback(tx);
        return wfail(w, "write");
    }
    if (folio_commit(tx) < 0)
        return wfail(w, "commit");
    uint64_t v;
    if (folio_version(w->db, &v) < 0)
        return wfail(w, "folio_version");
    state st = {0, 0, 0, v};
    for (int i = 0; i < nlive; i++) {
        st.count++;
        st.sum_x += xs[i];
        st.sum_len += lens[i];
    }
    w->nlive = nlive;
    w->next_id = next_id;
    memcpy(w->ids, ids, sizeof ids[0] * (size_t)nlive);
    memcpy(w->xs, xs, sizeof xs[0] * (size_t)nlive);
    memcpy(w->lens, lens, sizeof lens[0] * (size_t)nlive);
    pthread_mutex_lock(&w->mu);
    w->states[n] = st;
    w->ncommits = n;
    pthread_mutex_unlock(&w->mu);
    return 0;
}

static void *writer_main(void *arg)
{
    writer *w = arg;
    uint64_t rng = w->seed;
    for (int n = 1; n < MAX_COMMITS; n++) {
        pthread_mutex_lock(&w->mu);
        int stop = w->stop;
        pthread_mutex_unlock(&w->mu);
        if (stop || write_one(w, &rng, n) < 0)
            break;
    }
    return NULL;
}

typedef struct copy_seen {
    uint64_t version;
    int64_t n, count, sum_x, sum_len;
} copy_seen;

/* What libsqlite3 reads in a copy: the commit its meta row names, and t's
 * figures. */
static copy_seen read_copy(const char *path)
{
    copy_seen c;
    sqlite3 *s = sq_open(path, 1);
    c.n = sq_int(s, "SELECT n FROM meta WHERE k = 1");
    c.count = sq_int(s, "SELECT count(*) FROM t");
    c.sum_x = sq_int(s, "SELECT coalesce(sum(x), 0) FROM t");
    c.sum_len = sq_int(s, "SELECT coalesce(sum(length(pad)), 0) FROM t");
    cr_assert_eq(sq_int(s, "SELECT count(*) FROM t INDEXED BY t_x WHERE x >= 0"), c.count);
    sqlite3_close(s);
    return c;
}

Test(backup, during_continuous_writes, .init = setup, .fini = teardown, .timeout = 300)
{
    uint64_t seed = crash_seed((uint64_t)time(NULL), "backup during writes");
    char *src = tpath("busy.db");
    /* Small automatic checkpoints: they run all along, each held back by
     * whichever backup's snapshot is live. */
    folio_db *wdb = open_folio(src, 64);
    folio_txn *tx;
    cr_assert_eq(folio_begin(&tx, wdb, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(tx, "CREATE TABLE t(id INTEGER PRIMARY KEY, x INTEGER, pad BLOB)"),
                 FOLIO_OK);
    cr_assert_eq(folio_exec(tx, "CREATE INDEX t_x ON t(x)"), FOLIO_OK);
    cr_assert_eq(folio_exec(tx, "CREATE TABLE meta(k INTEGER PRIMARY KEY, n INTEGER)"), FOLIO_OK);
    folio_table *m;
    cr_assert_eq(folio_table_open(&m, tx, "meta"), FOLIO_OK);
    folio_value mv[2] = {I(1), I(0)};
    cr_assert_eq(folio_insert(NULL, m, mv, 2), FOLIO_OK);
    cr_assert_eq(folio_commit(tx), FOLIO_OK);

    writer *w = calloc(1, sizeof *w);
    cr_assert_not_null(w);
    w->db = wdb;
    w->seed = seed;
    w->next_id = 1;
    w->states = calloc(MAX_COMMITS, sizeof *w->states);
    cr_assert_not_null(w->states);
    cr_assert_eq(folio_version(wdb, &w->states[0].version), FOLIO_OK);
    pthread_mutex_init(&w->mu, NULL);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, writer_main, w), 0);

    /* Backups from the writer's own handle and from another one, each
     * begun once the writer has moved on. */
    folio_db *other = open_folio(src, 64);
    enum { NBACKUPS = 8 };
    copy_seen seen[NBACKUPS];
    int first_n[NBACKUPS], last_n[NBACKUPS];
    for (int i = 0; i < NBACKUPS; i++) {
        for (int spins = 0;; spins++) {
            pthread_mutex_lock(&w->mu);
            int n = w->ncommits, failed = w->failed;
            pthread_mutex_unlock(&w->mu);
            if (failed || n >= 40 * (i + 1))
                break;
            cr_assert_lt(spins, 60000, "the writer does not get on");
            usleep(500);
        }
        char name[32];
        snprintf(name, sizeof name, "copy%d.db", i);
        char *dest = tpath(name);
        folio_db *h = i % 2 ? other : wdb;
        pthread_mutex_lock(&w->mu);
        first_n[i] = w->ncommits;
        pthread_mutex_unlock(&w->mu);
        uint64_t v;
        int rc = folio_backup(h, dest, &v);
        pthread_mutex_lock(&w->mu);
        last_n[i] = w->ncommits;
        pthread_mutex_unlock(&w->mu);
        cr_assert_eq(rc, FOLIO_OK, "backup %d: %s", i, folio_errmsg(h));
        assert_standalone_copy(dest, v);
        seen[i] = read_copy(dest);
        seen[i].version = v;
        /* The snapshot is the newest commit when the backup began, or one
         * made while it started. */
        cr_assert(seen[i].n >= first_n[i] && seen[i].n <= last_n[i],
                  "backup %d holds commit %lld, not one of %d..%d", i, (long long)seen[i].n,
                  first_n[i], last_n[i]);
    }
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_mutex_unlock(&w->mu);
    pthread_join(th, NULL);
    cr_assert(!w->failed, "writer: %s", w->err);
    printf("backup during writes: %d commits, %d backups (commits %lld..%lld)\n", w->ncommits,
           NBACKUPS, (long long)seen[0].n, (long long)seen[NBACKUPS - 1].n);
    cr_assert_gt(seen[NBACKUPS - 1].n, seen[0].n, "the writer made no progress between backups");

    /* Each copy is the state of the commit it holds. */
    for (int i = 0; i < NBACKUPS; i++) {
        const state *st = &w->states[seen[i].n];
        cr_assert(seen[i].count == st->count && seen[i].sum_x == st->sum_x &&
                      seen[i].sum_len == st->sum_len,
                  "backup %d: commit %lld's rows are %lld/%lld/%lld, the copy holds "
                  "%lld/%lld/%lld",
                  i, (long long)seen[i].n, (long long)st->count, (long long)st->sum_x,
                  (long long)st->sum_len, (long long)seen[i].count, (long long)seen[i].sum_x,
                  (long long)seen[i].sum_len);
    }
    /* ... and the version it names is that commit's. */
    int stub = 1, increasing = 1;
    for (int n = 0; n <= w->ncommits; n++) {
        stub &= w->states[n].version == 0;
        if (n > 0)
            increasing &= w->states[n].version > w->states[n - 1].version;
    }
    if (stub) {
        printf("backup during writes: folio_version is 0 for every commit (the stub): the "
               "versions named are not checked\n");
        for (int i = 0; i < NBACKUPS; i++)
            cr_assert_eq(seen[i].version, 0);
    } else {
        cr_assert(increasing, "the versions of successive commits do not grow");
        for (int i = 0; i < NBACKUPS; i++)
            cr_assert_eq(seen[i].version, w->states[seen[i].n].version,
                         "backup %d names version %llu, but holds commit %lld (version %llu)", i,
                         (unsigned long long)seen[i].version, (long long)seen[i].n,
                         (unsigned long long)w->states[seen[i].n].version);
    }
    cr_assert_eq(folio_close(other), FOLIO_OK);
    cr_assert_eq(folio_close(wdb), FOLIO_OK);
    char err[512];
    cr_assert_eq(crash_check_sqlite(src, err, sizeof err), 0, "%s", err);
    pthread_mutex_destroy(&w->mu);
    free(w->states);
    free(w);
}

/* ---- an older reader, checkpoints and a writer during the backup ---- */

typedef struct during {
    folio_db *src_db;  /* the handle that backs up */
    folio_db *ckpt_db; /* another handle */
    folio_db *wdb;     /* the writer's handle */
    folio_txn *old;    /* the older reader, ended during the backup */
    int64_t old_count;
    int calls, acted;
    int passive_done, passive_log;
    int busy[4];        /* mode: what the checkpoint returned while the old reader lived */
    int busy_after_old; /* FULL, once the old reader had gone */
    int same_handle_full;
    int wrote; /* a commit went through during the backup */
    int failed;
    char why[512];
} during;

/* Rows of `table` in tx's snapshot, or -1 on an error (no assertion: it
 * runs in a progress callback too). */
static int64_t rows_in(folio_txn *tx, const char *table)
{
    folio_table *t;
    folio_cursor *c;
    if (folio_table_open(&t, tx, table) < 0 || folio_cursor_open(&c, t, NULL) < 0)
        return -1;
    int64_t n = 0;
    int rc;
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
        n++;
    folio_cursor_close(c);
    return rc == FOLIO_DONE ? n : -1;
}

static void insert_rows(folio_db *db, int64_t from, int n)
{
    folio_txn *tx;
    cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, tx, "t"), FOLIO_OK);
    uint8_t pad[700];
    crash_fill(pad, sizeof pad, (uint64_t)from);
    for (int i = 0; i < n; i++) {
        folio_value v[3] = {I(from + i), I((from + i) * 3), B(pad, sizeof pad)};
        cr_assert_eq(folio_insert(NULL, t, v, 3), FOLIO_OK, "%s", folio_errmsg(db));
    }
    cr_assert_eq(folio_commit(tx), FOLIO_OK, "%s", folio_errmsg(db));
}

static void during_progress(void *arg, uint64_t done, uint64_t total)
{
    during *d = arg;
    d->calls++;
    /* Once, in the middle of the copy (the snapshot is held). */
    if (d->acted || done == 0 || done * 2 >= total)
        return;
    d->acted = 1;
    int log = -1, ndone = -1;
    d->passive_done = folio_checkpoint(d->ckpt_db, FOLIO_CHECKPOINT_PASSIVE, &log, &ndone);
    d->passive_log = log;
    static const int modes[] = {FOLIO_CHECKPOINT_FULL, FOLIO_CHECKPOINT_RESTART,
                                FOLIO_CHECKPOINT_TRUNCATE};
    for (int i = 0; i < 3; i++)
        d->busy[modes[i]] = folio_checkpoint(d->ckpt_db, modes[i], NULL, NULL);
    /* The older reader still reads its own snapshot. */
    folio_txn *old = d->old;
    int64_t n = rows_in(old, "t");
    if (n != d->old_count) {
        snprintf(d->why, sizeof d->why, "the older reader counts %lld rows, not %lld", (long long)n,
                 (long long)d->old_count);
        d->failed = 1;
    }
    folio_rollback(old);
    d->old = NULL;
    /* A writer is not kept waiting. */
    folio_txn *tx;
    if (folio_begin(&tx, d->wdb, FOLIO_TXN_WRITE) == FOLIO_OK) {
        folio_table *wt;
        uint8_t pad[700] = {0};
        folio_value v[3] = {I(900000), I(1), B(pad, sizeof pad)};
        if (folio_table_open(&wt, tx, "t") == FOLIO_OK &&
            folio_insert(NULL, wt, v, 3) == FOLIO_OK && folio_commit(tx) == FOLIO_OK)
            d->wrote = 1;
        else if (!d->wrote)
            folio_rollback(tx);
    }
    /* Frames past the backup's snapshot now: FULL must wait for it. */
    d->busy_after_old = folio_checkpoint(d->ckpt_db, FOLIO_CHECKPOINT_FULL, NULL, NULL);
    d->same_handle_full = folio_checkpoint(d->src_db, FOLIO_CHECKPOINT_FULL, NULL, NULL);
}

typedef struct waiter {
    folio_db *db;
    int rc;
    int mode;
} waiter;

static void *checkpoint_waits(void *arg)
{
    waiter *wt = arg;
    wt->rc = folio_checkpoint(wt->db, wt->mode, NULL, NULL);
    return NULL;
}

static folio_db *open_busy(const char *path, unsigned busy_ms)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.busy_timeout_ms = busy_ms;
    o.wal_autocheckpoint = 0;
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    return db;
}

Test(backup, older_reader_and_checkpoints_during_the_backup, .init = setup, .fini = teardown)
{
    char *src = tpath("src.db"), *dest = tpath("copy.db");
    folio_db *wdb = open_busy(src, 10000);
    folio_txn *tx;
    cr_assert_eq(folio_begin(&tx, wdb, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(tx, "CREATE TABLE t(id INTEGER PRIMARY KEY, x INTEGER, pad BLOB)"),
                 FOLIO_OK);
    cr_assert_eq(folio_exec(tx, "CREATE INDEX t_x ON t(x)"), FOLIO_OK);
    cr_assert_eq(folio_commit(tx), FOLIO_OK);
    insert_rows(wdb, 1, 3000);
    int log, done;
    cr_assert_eq(folio_checkpoint(wdb, FOLIO_CHECKPOINT_TRUNCATE, &log, &done), FOLIO_OK);
    /* The older reader sees 3,500 rows; the backup will see 6,000. */
    insert_rows(wdb, 3001, 500);
    during d;
    memset(&d, 0, sizeof d);
    cr_assert_eq(folio_begin(&d.old, wdb, FOLIO_TXN_READ), FOLIO_OK);
    d.old_count = rows_in(d.old, "t");
    cr_assert_eq(d.old_count, 3500);
    insert_rows(wdb, 3501, 2500);
    /* What the copy must hold: the state now, as libsqlite3 reads it. */
    uint64_t want = hash_of(src);

    d.src_db = open_busy(src, 0);
    d.ckpt_db = open_busy(src, 0);
    d.wdb = wdb;
    uint64_t v;
    int rc = folio_backup_progress(d.src_db, dest, &v, during_progress, &d);
    cr_assert_eq(rc, FOLIO_OK, "%s", folio_errmsg(d.src_db));
    cr_assert(!d.failed, "%s", d.why);
    cr_assert(d.acted, "the progress callback never ran mid-copy (%d calls)", d.calls);
    cr_assert_eq(d.passive_done, FOLIO_OK, "PASSIVE: %s", folio_errmsg(d.ckpt_db));
    for (int mode = FOLIO_CHECKPOINT_FULL; mode <= FOLIO_CHECKPOINT_TRUNCATE; mode++)
        cr_assert_eq(d.busy[mode], FOLIO_BUSY, "mode %d during the backup: %d", mode, d.busy[mode]);
    cr_assert(d.wrote, "a writer was kept out during the backup");
    cr_assert_eq(d.busy_after_old, FOLIO_BUSY,
                 "FULL past the backup's snapshot did not wait for it (%d)", d.busy_after_old);
    cr_assert_eq(d.same_handle_full, FOLIO_BUSY,
                 "FULL on the backup's own handle did not wait for it (%d)", d.same_handle_full);
    cr_assert_eq(assert_standalone_copy(dest, v), want, "the copy is not the backup's snapshot");
    cr_assert_eq(path_int(dest, "SELECT count(*) FROM t"), 6000);

    /* Nothing holds the WAL now: every mode completes. */
    waiter wt = {d.ckpt_db, -1, FOLIO_CHECKPOINT_TRUNCATE};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, checkpoint_waits, &wt), 0);
    pthread_join(th, NULL);
    cr_assert_eq(wt.rc, FOLIO_OK, "%s", folio_errmsg(d.ckpt_db));
    cr_assert_eq(path_int(src, "SELECT count(*) FROM t"), 6001);
    char err[512];
    cr_assert_eq(crash_check_sqlite(src, err, sizeof err), 0, "%s", err);
    cr_assert_eq(folio_close(d.src_db), FOLIO_OK);
    cr_assert_eq(folio_close(d.ckpt_db), FOLIO_OK);
    cr_assert_eq(folio_close(wdb), FOLIO_OK);
}

/* A checkpoint that waits (busy timeout) for the backup's snapshot ends
 * once the backup has let go of it. */
typedef struct slow {
    folio_db *ckpt_db;
    pthread_t th;
    waiter wt;
    int started;
    volatile int backup_done;
    int finished_before;
} slow;

static void slow_progress(void *arg, uint64_t done, uint64_t total)
{
    slow *s = arg;
    if (s->started || done == 0 || done * 2 >= total)
        return;
    s->started = 1;
    s->wt.db = s->ckpt_db;
    s->wt.rc = -1;
    s->wt.mode = FOLIO_CHECKPOINT_RESTART;
    cr_assert_eq(pthread_create(&s->th, NULL, checkpoint_waits, &s->wt), 0);
    usleep(200 * 1000); /* it waits meanwhile */
}

Test(backup, a_waiting_checkpoint_ends_after_the_backup, .init = setup, .fini = teardown)
{
    char *src = tpath("src.db"), *dest = tpath("copy.db");
    folio_db *wdb = open_busy(src, 10000);
    folio_txn *tx;
    cr_assert_eq(folio_begin(&tx, wdb, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(tx, "CREATE TABLE t(id INTEGER PRIMARY KEY, x INTEGER, pad BLOB)"),
                 FOLIO_OK);
    cr_assert_eq(folio_commit(tx), FOLIO_OK);
    insert_rows(wdb, 1, 4000);
    uint64_t want = hash_of(src);
    slow s;
    memset(&s, 0, sizeof s);
    s.ckpt_db = open_busy(src, 20000);
    uint64_t v;
    cr_assert_eq(folio_backup_progress(wdb, dest, &v, slow_progress, &s), FOLIO_OK, "%s",
                 folio_errmsg(wdb));
    cr_assert(s.started);
    pthread_join(s.th, NULL);
    cr_assert_eq(s.wt.rc, FOLIO_OK, "RESTART after the backup: %s", folio_errmsg(s.ckpt_db));
    cr_assert_eq(assert_standalone_copy(dest, v), want);
    cr_assert_eq(folio_close(s.ckpt_db), FOLIO_OK);
    cr_assert_eq(folio_close(wdb), FOLIO_OK);
}

/* ---- errors ---- */

Test(backup, dest_exists, .init = setup, .fini = teardown)
{
    char *src = tpath("src.db"), *dest = tpath("there.db");
    make_source(src);
    cr_assert_eq(crash_write_file(dest, "keep me", 7), 0);
    folio_db *db = open_folio(src, 1000);
    uint64_t v = 77;
    cr_assert_eq(folio_backup(db, dest, &v), FOLIO_ERROR);
    cr_assert_str_eq(folio_errmsg(db), "output file already exists");
    cr_assert_eq(v, 77, "the version was set on an error");
    size_t n;
    uint8_t *p = crash_read_file(dest, &n);
    cr_assert(n == 7 && memcmp(p, "keep me", 7) == 0, "DEST changed");
    free(p);
    char *tmp = spath(dest, "-backup");
    cr_assert(!exists(tmp));
    /* A stale temporary file (a crash's) is no obstacle to another DEST. */
    char *dest2 = tpath("fresh.db"), *stale = spath(dest2, "-backup");
    cr_assert_eq(crash_write_file(stale, "garbage from a crash", 20), 0);
    cr_assert_eq(folio_backup(db, dest2, &v), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert(!exists(stale));
    assert_standalone_copy(dest2, v);
    /* Misuse. */
    cr_assert_eq(folio_backup(db, NULL, &v), FOLIO_MISUSE);
    cr_assert_eq(folio_backup(db, "", &v), FOLIO_MISUSE);
    cr_assert_eq(folio_backup(NULL, dest2, &v), FOLIO_MISUSE);
    cr_assert_eq(folio_close(db), FOLIO_OK);
}

Test(backup, dest_in_a_missing_directory, .init = setup, .fini = teardown)
{
    char *src = tpath("src.db"), *dest = tpath("no/such/dir/copy.db");
    make_source(src);
    folio_db *db = open_folio(src, 1000);
    uint64_t v;
    int rc = folio_backup(db, dest, &v);
    cr_assert_lt(rc, 0);
    cr_assert_neq(strstr(folio_errmsg(db), "copy.db-backup"), NULL, "%s", folio_errmsg(db));
    char *nodir = tpath("no");
    cr_assert(!exists(nodir), "the backup made a directory");
    /* The handle goes on as before. */
    cr_assert_eq(folio_backup(db, tpath("ok.db"), &v), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    /* Only the source and the good copy (and nothing beside them). */
    cr_assert(exists(tpath("ok.db")) && !exists(tpath("ok.db-backup")));
}

/* A read-only handle backs up too (the file may be on read-only media). */
Test(backup, read_only_handle, .init = setup, .fini = teardown)
{
    char *src = tpath("src.db"), *dest = tpath("copy.db");
    make_source(src);
    uint64_t want = hash_of(src);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    folio_db *db;
    cr_assert_eq(folio_open(&db, src, &o), FOLIO_OK, "%s", folio_open_errmsg());
    uint64_t v;
    cr_assert_eq(folio_backup(db, dest, &v), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    cr_assert_eq(assert_standalone_copy(dest, v), want);
    assert_same_pages(src, dest);
}

/* A handle's transaction does not stand in the way; the copy is of the
 * newest commit, not of what the transaction has changed. */
Test(backup, beside_an_open_write_transaction, .init = setup, .fini = teardown)
{
    char *src = tpath("src.db"), *dest = tpath("copy.db");
    make_source(src);
    uint64_t want = hash_of(src);
    folio_db *db = open_folio(src, 1000);
    folio_txn *tx;
    cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(tx, "CREATE TABLE uncommitted(x)"), FOLIO_OK);
    uint64_t v;
    cr_assert_eq(folio_backup(db, dest, &v), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(tx), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    cr_assert_eq(assert_standalone_copy(dest, v), want);
}

/* txn_timeout_ms bounds how long the backup may hold its snapshot. */
static void sleepy_progress(void *arg, uint64_t done, uint64_t total)
{
    (void)arg;
    (void)total;
    if (done > 0)
        usleep(30 * 1000);
}

Test(backup, txn_timeout, .init = setup, .fini = teardown)
{
    char *src = tpath("src.db"), *dest = tpath("copy.db");
    make_source(src);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.txn_timeout_ms = 20;
    folio_db *db;
    cr_assert_eq(folio_open(&db, src, &o), FOLIO_OK, "%s", folio_open_errmsg());
    int64_t pages = path_int(src, "PRAGMA page_count");
    cr_assert_gt(pages * 4096, 2 << 20, "the copy must take more than one chunk");
    uint64_t v;
    cr_assert_eq(folio_backup_progress(db, dest, &v, sleepy_progress, NULL), FOLIO_TIMEOUT);
    cr_assert_neq(strstr(folio_errmsg(db), "txn_timeout_ms"), NULL, "%s", folio_errmsg(db));
    cr_assert(!exists(dest));
    char *tmp = spath(dest, "-backup");
    cr_assert(!exists(tmp));
    cr_assert_eq(folio_close(db), FOLIO_OK);
}
