/*
 * bench.c - folio_bench: folio against libsqlite3 (and LMDB for the
 * key-value workloads), side by side in the same run.
 *
 * Each workload runs in its own child process, so a crash of one engine in
 * one workload is reported and the others still run. Within a workload the
 * engines alternate, the order rotating every repetition, and the median of
 * the repetitions is reported with the speed ratio against SQLite. Every
 * file folio writes is checked with libsqlite3 (PRAGMA integrity_check, the
 * row count, and column sums where known); reads are checked by comparing
 * checksums of the rows read across engines.
 *
 * The memory workload runs each engine in a fresh process (fork + exec of
 * this program), so its peak RSS is its own. The import workload times whole
 * command-line programs: `folio import` against the stock `sqlite3` shell's
 * `.import`, each a fork + exec on a CSV file written beforehand.
 */
#include "bench.h"

#include <folio.h>
#include <lmdb.h>
#include <sqlite3.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_REPS    99
#define MAX_RESULTS 128
#define BATCH_TXN   1000 /* batch_insert: rows per transaction */

enum { ENG_FOLIO, ENG_SQLITE, ENG_LMDB, NENG };
static const char *const eng_name[NENG] = {"folio", "sqlite", "lmdb"};

/* ---- configuration ---- */

typedef struct config {
    int64_t rows;     /* bulk loads, base tables of random_insert and mixed, the reads file,
                         batch_insert */
    int reps;         /* repetitions per engine */
    char dir[3072];   /* work directory (created here, removed at the end) */
    const char *only; /* comma-separated workload names, NULL = all */
    int quick, keep, markdown;
    const char *md_path; /* also write the table as Markdown here */
    long sqlite_mmap_mb;
    long folio_cache_mb;            /* reads: folio's cache budget; 0 = its default */
    long folio_mmap_mb;             /* reads: folio's mmap_bytes; -1 = its default, 0 = off */
    int64_t lookups, seeks, ranges; /* reads: (a), (b), (c) */
    int range_len;
    int ri_txns, ri_per_txn; /* random_insert */
    int ac_normal, ac_full;  /* autocommit transactions */
    int threads, th_txns;    /* threads (and rmw): writer threads; threads: transactions */
    int rm_txns;             /* rmw: transactions committed in all */
    int mx_txns, mx_per_txn; /* mixed */
    int64_t mem_rows;        /* memory: rows inserted */
    int64_t mem_warm, mem_window;
    int64_t backup_mb;                /* backup: size of the source file, in MB (10^6 bytes) */
    char folio_bin[BENCH_PATH_LEN];   /* import: the folio CLI, "" = not found */
    char sqlite3_bin[BENCH_PATH_LEN]; /* import: the sqlite3 shell, "" = not found */
    char folio_missing[BENCH_ERR_LEN], sqlite3_missing[BENCH_ERR_LEN]; /* why not found */
} config;

static config cfg;

/* ---- results ---- */

/* One line of the results table, sent from a workload's child to the parent. */
typedef struct result {
    char workload[48];
    char engine[8];
    char unit[16];
    char note[112];
    char error[BENCH_ERR_LEN];
    int failed;
    int skipped; /* not run, not a failure: `error` says why */
    int is_memory;
    int nreps;
    double median_s, min_s, max_s;
    double units;          /* units of work per run (rows, lookups, transactions, ...) */
    double syncs_per_unit; /* folio's fdatasync/fsync calls per unit, where counted */
    char vs[48];           /* the workload whose sqlite row is the base of "x sqlite" ("":
                              this one) */
    int has_stats;         /* threads and rmw: `st` was counted */
    conc_stats st;         /* summed over the repetitions timed */
    mem_result mem;
    int has_log;         /* the log workload's folio rows with the log on: */
    uint64_t log_bytes;  /* its segments (*.seg) after the last repetition */
    uint64_t base_bytes; /* its bases (*.base) */
    uint64_t page_bytes; /* WAL frames x page size of the timed part */
} result;

static result results[MAX_RESULTS];
static int nresults;
static int result_fd = -1; /* in a workload child: where its results go */
static int child_exit;     /* in a workload child: 3 when a check failed */

/* Timings of one engine in one workload. */
typedef struct series {
    double t[MAX_REPS];
    int n;
    int failed;
    char error[BENCH_ERR_LEN];
    char note[112];
    double syncs_per_unit;
    int has_stats; /* threads and rmw: `st` was counted */
    conc_stats st; /* summed over the repetitions timed */
    int has_log;   /* log workload: the sizes below were measured */
    uint64_t log_bytes, base_bytes, page_bytes;
} series;

/* Add one repetition's counts to a series'. */
static void series_add_stats(series *s, const conc_stats *st)
{
    s->has_stats = 1;
    s->st.retries += st->retries;
    s->st.retried += st->retried;
    if (st->max_attempts > s->st.max_attempts)
        s->st.max_attempts = st->max_attempts;
    s->st.checkpoints += st->checkpoints;
    s->st.checkpoints_short += st->checkpoints_short;
}

static void series_fail(series *s)
{
    if (s->failed)
        return;
    s->failed = 1;
    snprintf(s->error, sizeof s->error, "%s", bench_errbuf);
}

/* A check of folio's output failed: the run must end non-zero. */
static void check_failed(series *s)
{
    series_fail(s);
    child_exit = 3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void send_result(const result *r)
{
    const char *p = (const char *)r;
    size_t left = sizeof *r;
    while (left > 0) {
        ssize_t w = write(result_fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            perror("folio_bench: result pipe");
            _exit(1);
        }
        p += w;
        left -= (size_t)w;
    }
}

/* The median of a series' timings (0 when none ran), and optionally their
 * range. */
static double series_median(const series *s, double *min_s, double *max_s)
{
    if (s->n == 0)
        return 0;
    double sorted[MAX_REPS];
    memcpy(sorted, s->t, (size_t)s->n * sizeof sorted[0]);
    qsort(sorted, (size_t)s->n, sizeof sorted[0], cmp_double);
    if (min_s)
        *min_s = sorted[0];
    if (max_s)
        *max_s = sorted[s->n - 1];
    return s->n % 2 ? sorted[s->n / 2] : (sorted[s->n / 2 - 1] + sorted[s->n / 2]) / 2;
}

/* Send a series' result; its "x sqlite" is against the sqlite row of
 * workload `vs` (NULL: of this workload). */
static void emit_named(const char *workload, const char *vs, const char *engine, const char *unit,
                       double units, const series *s)
{
    result r;
    memset(&r, 0, sizeof r);
    snprintf(r.workload, sizeof r.workload, "%s", workload);
    snprintf(r.vs, sizeof r.vs, "%s", vs ? vs : "");
    r.has_stats = s->has_stats;
    r.st = s->st;
    r.has_log = s->has_log;
    r.log_bytes = s->log_bytes;
    r.base_bytes = s->base_bytes;
    r.page_bytes = s->page_bytes;
    snprintf(r.engine, sizeof r.engine, "%s", engine);
    snprintf(r.unit, sizeof r.unit, "%s", unit);
    snprintf(r.note, sizeof r.note, "%s", s->note);
    snprintf(r.error, sizeof r.error, "%s", s->error);
    r.units = units;
    r.syncs_per_unit = s->syncs_per_unit;
    /* A failed series keeps the timings of the repetitions that ran (a
     * check of the written file may fail after the timing was taken). */
    r.failed = s->failed || s->n == 0;
    if (!s->failed && s->n == 0)
        snprintf(r.error, sizeof r.error, "no repetition ran");
    r.nreps = s->n;
    if (s->n > 0)
        r.median_s = series_median(s, &r.min_s, &r.max_s);
    send_result(&r);
}

static void emit_vs(const char *workload, const char *vs, int eng, const char *unit, double units,
                    const series *s)
{
    emit_named(workload, vs, eng_name[eng], unit, units, s);
}

static void emit(const char *workload, int eng, const char *unit, double units, const series *s)
{
    emit_vs(workload, NULL, eng, unit, units, s);
}

/* An engine that cannot run a workload here (a program is missing). */
static void emit_named_skipped(const char *workload, const char *engine, const char *why)
{
    result r;
    memset(&r, 0, sizeof r);
    snprintf(r.workload, sizeof r.workload, "%s", workload);
    snprintf(r.engine, sizeof r.engine, "%s", engine);
    snprintf(r.error, sizeof r.error, "%s", why);
    r.skipped = 1;
    send_result(&r);
}

static void emit_skipped(const char *workload, int eng, const char *why)
{
    emit_named_skipped(workload, eng_name[eng], why);
}

/* ---- helpers ---- */

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", cfg.dir, name);
}

static void progress_of(const char *workload, int rep, const char *who)
{
    fprintf(stderr, "[%s] rep %d/%d %s\n", workload, rep + 1, cfg.reps, who);
    fflush(stderr);
}

static void progress(const char *workload, int rep, int eng)
{
    progress_of(workload, rep, eng_name[eng]);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "folio_bench: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

/* `count` distinct odd ids 2k+1 with k uniform in [0, m), in random order. */
static int64_t *unique_odd_ids(size_t count, int64_t m, uint64_t seed)
{
    uint8_t *seen = xmalloc((size_t)m / 8 + 1);
    memset(seen, 0, (size_t)m / 8 + 1);
    int64_t *ids = xmalloc(count * sizeof *ids);
    bench_rng rng = {seed};
    for (size_t i = 0; i < count;) {
        uint64_t k = rng_below(&rng, (uint64_t)m);
        if (seen[k >> 3] & (1u << (k & 7)))
            continue;
        seen[k >> 3] |= (uint8_t)(1u << (k & 7));
        ids[i++] = (int64_t)(2 * k + 1);
    }
    free(seen);
    return ids;
}

static void fmt_mb(char *out, size_t cap, uint64_t bytes)
{
    snprintf(out, cap, "%.1f MB", (double)bytes / 1e6);
}

/* The base table of random_insert and mixed: ids 2, 4, ..., 2*rows, written
 * by each engine itself (SQLite switched to WAL mode at the end). Built once
 * per run under a temporary name, so a crash never leaves a half base. */
static int ensure_base(int eng, char *path, size_t cap)
{
    static const char *const names[NENG] = {"base_folio.db", "base_sqlite.db", "base_lmdb.mdb"};
    path_of(path, cap, names[eng]);
    if (file_bytes(path) > 0)
        return 0;
    char tmp[BENCH_PATH_LEN + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    remove_db(tmp);
    fprintf(stderr, "[base] building %lld-row base table with %s (untimed)\n", (long long)cfg.rows,
            eng_name[eng]);
    bulk_result br;
    int rc;
    if (eng == ENG_FOLIO) {
        rc = fo_bulk(tmp, cfg.rows, 2, 0, &br);
        if (rc == 0)
            rc = sq_verify(tmp, cfg.rows, 0, 0, 0, 0);
    } else if (eng == ENG_SQLITE) {
        rc = sq_bulk(tmp, cfg.rows, 2, 0, 1, &br);
    } else {
        rc = lm_bulk(tmp, cfg.rows, 2, &br);
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        bench_fail("rename %s: %s", tmp, strerror(errno));
        rc = -1;
    }
    remove_db(tmp);
    return rc;
}

/* A private copy of an engine's base table for one repetition. */
static int work_copy(int eng, const char *tag, char *work, size_t cap)
{
    char base[BENCH_PATH_LEN], name[64];
    if (ensure_base(eng, base, sizeof base) < 0)
        return -1;
    snprintf(name, sizeof name, "%s_%s.%s", tag, eng_name[eng], eng == ENG_LMDB ? "mdb" : "db");
    path_of(work, cap, name);
    remove_db(work);
    return copy_file(base, work);
}

/* sum(age) and sum(active) over the generator's rows 1..n. */
static void generator_sums(int64_t n, int64_t *sum_age, int64_t *sum_active)
{
    bench_row r;
    *sum_age = *sum_active = 0;
    for (int64_t id = 1; id <= n; id++) {
        gen_row(&r, id);
        *sum_age += r.age;
        *sum_active += r.active;
    }
}

/* The rows 1..n less those `deleted` names (NULL: none), as libsqlite3
 * should read them back: their count, sum(age), sum(active) and digest. */
typedef struct expected_rows {
    int64_t rows, sum_age, sum_active;
    uint64_t digest;
} expected_rows;

static void expect_rows(expected_rows *x, int64_t n, int (*deleted)(int64_t id))
{
    bench_row r;
    memset(x, 0, sizeof *x);
    for (int64_t id = 1; id <= n; id++) {
        if (deleted && deleted(id))
            continue;
        gen_row(&r, id);
        x->rows++;
        x->sum_age += r.age;
        x->sum_active += r.active;
        x->digest += row_digest(r.id, r.area, AREA_LEN, r.age, r.active);
    }
}

/* Check a file with libsqlite3: integrity_check, count, sums, the index
 * user_area when want_index, and the digest of every row read back (area
 * must come back as the 6-character text it was, not converted). */
static int check_rows(const char *path, int64_t n, int64_t sum_age, int64_t sum_active,
                      uint64_t digest, int want_index)
{
    if (sq_verify(path, n, 1, sum_age, sum_active, want_index) < 0)
        return -1;
    read_plan p;
    memset(&p, 0, sizeof p);
    read_result rr;
    if (sq_read(path, READ_SCAN, &p, 0, &rr) < 0)
        return -1;
    if (rr.rows != (uint64_t)n || rr.sum != digest) {
        bench_fail("VERIFY FAILED: %s: read back %llu rows with digest %016llx, the generator's "
                   "%lld rows have %016llx",
                   path, (unsigned long long)rr.rows, (unsigned long long)rr.sum, (long long)n,
                   (unsigned long long)digest);
        return -1;
    }
    return 0;
}

/* ---- workloads ---- */

static void wl_bulk(int with_index)
{
    const char *wname = with_index ? "bulk_index" : "bulk";
    int64_t n = cfg.rows, sum_age, sum_active;
    generator_sums(n, &sum_age, &sum_active);
    series total[2], load[2], index[2];
    memset(total, 0, sizeof total);
    memset(load, 0, sizeof load);
    memset(index, 0, sizeof index);
    uint64_t size[2] = {0, 0};
    for (int rep = 0; rep < cfg.reps; rep++) {
        for (int i = 0; i < 2; i++) {
            int e = (rep + i) % 2;
            if (total[e].failed)
                continue;
            char path[BENCH_PATH_LEN];
            path_of(path, sizeof path, e == ENG_FOLIO ? "bulk_folio.db" : "bulk_sqlite.db");
            remove_db(path);
            progress(wname, rep, e);
            bulk_result br;
            int rc = e == ENG_FOLIO ? fo_bulk(path, n, 1, with_index, &br)
                                    : sq_bulk(path, n, 1, with_index, 0, &br);
            if (rc < 0) {
                series_fail(&total[e]);
                series_fail(&load[e]);
                series_fail(&index[e]);
            } else {
                total[e].t[total[e].n++] = br.total_s;
                load[e].t[load[e].n++] = br.load_s;
                index[e].t[index[e].n++] = br.index_s;
                size[e] = br.file_bytes;
                if (e == ENG_FOLIO && sq_verify(path, n, 1, sum_age, sum_active, with_index) < 0) {
                    check_failed(&total[e]);
                    check_failed(&load[e]);
                    check_failed(&index[e]);
                }
            }
            remove_db(path);
        }
    }
    char mb[32];
    for (int e = 0; e < 2; e++) {
        fmt_mb(mb, sizeof mb, size[e]);
        snprintf(total[e].note, sizeof total[e].note, "%s; file %s",
                 e == ENG_FOLIO ? "sync=OFF, verified" : "journal=OFF sync=OFF exclusive cache=1GB",
                 mb);
    }
    if (!with_index) {
        for (int e = 0; e < 2; e++)
            emit("bulk", e, "rows/s", (double)n, &total[e]);
        return;
    }
    for (int e = 0; e < 2; e++)
        emit("bulk_index: total", e, "rows/s", (double)n, &total[e]);
    for (int e = 0; e < 2; e++)
        emit("bulk_index: load", e, "rows/s", (double)n, &load[e]);
    for (int e = 0; e < 2; e++)
        emit("bulk_index: index build", e, "rows/s", (double)n, &index[e]);
}

static void wl_random_insert(void)
{
    int64_t m = cfg.rows;
    int ntxn = cfg.ri_txns, per = cfg.ri_per_txn;
    if ((int64_t)ntxn * per > m / 2)
        ntxn = (int)(m / 2 / per > 0 ? m / 2 / per : 1);
    size_t total = (size_t)ntxn * (size_t)per;
    int64_t *ids = unique_odd_ids(total, m, 11);
    series s[NENG];
    memset(s, 0, sizeof s);
    for (int rep = 0; rep < cfg.reps; rep++) {
        for (int i = 0; i < NENG; i++) {
            int e = (rep + i) % NENG;
            if (s[e].failed)
                continue;
            char work[BENCH_PATH_LEN];
            double secs = 0;
            if (work_copy(e, "ri", work, sizeof work) < 0) {
                series_fail(&s[e]);
                continue;
            }
            progress("random_insert", rep, e);
            int rc = e == ENG_FOLIO    ? fo_random_insert(work, ids, ntxn, per, &secs)
                     : e == ENG_SQLITE ? sq_random_insert(work, ids, ntxn, per, &secs)
                                       : lm_random_insert(work, ids, ntxn, per, &secs);
            if (rc < 0) {
                series_fail(&s[e]);
            } else {
                s[e].t[s[e].n++] = secs;
                if (e == ENG_FOLIO && sq_verify(work, m + (int64_t)total, 0, 0, 0, 0) < 0)
                    check_failed(&s[e]);
            }
            remove_db(work);
        }
    }
    free(ids);
    char name[64];
    snprintf(name, sizeof name, "random_insert (%dx%d)", ntxn, per);
    snprintf(s[ENG_FOLIO].note, sizeof s[0].note, "sync=NORMAL, verified");
    snprintf(s[ENG_SQLITE].note, sizeof s[0].note, "WAL sync=NORMAL cache=64MiB");
    snprintf(s[ENG_LMDB].note, sizeof s[0].note, "MDB_NOSYNC");
    for (int e = 0; e < NENG; e++)
        emit(name, e, "rows/s", (double)total, &s[e]);
}

/* Rows 1..N into a new table in transactions of BATCH_TXN rows, the
 * prepared-statement path of SQLite against folio_insert. */
static void wl_batch_insert(void)
{
    static const char *const names[NENG] = {"batch_folio.db", "batch_sqlite.db", "batch_lmdb.mdb"};
    int64_t n = cfg.rows, sum_age, sum_active;
    generator_sums(n, &sum_age, &sum_active);
    series s[NENG];
    memset(s, 0, sizeof s);
    uint64_t size[NENG] = {0, 0, 0};
    for (int rep = 0; rep < cfg.reps; rep++) {
        for (int i = 0; i < NENG; i++) {
            int e = (rep + i) % NENG;
            if (s[e].failed)
                continue;
            char path[BENCH_PATH_LEN];
            path_of(path, sizeof path, names[e]);
            remove_db(path);
            progress("batch_insert", rep, e);
            double secs = 0;
            int rc = e == ENG_FOLIO    ? fo_batch_insert(path, n, BATCH_TXN, &secs)
                     : e == ENG_SQLITE ? sq_batch_insert(path, n, BATCH_TXN, &secs)
                                       : lm_batch_insert(path, n, BATCH_TXN, &secs);
            if (rc < 0) {
                series_fail(&s[e]);
            } else {
                s[e].t[s[e].n++] = secs;
                size[e] = file_bytes(path);
                if (e == ENG_FOLIO && sq_verify(path, n, 1, sum_age, sum_active, 0) < 0)
                    check_failed(&s[e]);
            }
            remove_db(path);
        }
    }
    char name[64], mb[NENG][32];
    for (int e = 0; e < NENG; e++)
        fmt_mb(mb[e], sizeof mb[e], size[e]);
    snprintf(name, sizeof name, "batch_insert (%d/txn)", BATCH_TXN);
    snprintf(s[ENG_FOLIO].note, sizeof s[0].note, "sync=NORMAL, verified; file %s", mb[ENG_FOLIO]);
    snprintf(s[ENG_SQLITE].note, sizeof s[0].note, "WAL sync=NORMAL cache=64MiB; file %s",
             mb[ENG_SQLITE]);
    snprintf(s[ENG_LMDB].note, sizeof s[0].note, "MDB_NOSYNC, MDB_APPEND; file %s", mb[ENG_LMDB]);
    for (int e = 0; e < NENG; e++)
        emit(name, e, "rows/s", (double)n, &s[e]);
}

static void wl_autocommit(void)
{
    static const int syncs[2] = {FOLIO_SYNC_NORMAL, FOLIO_SYNC_FULL};
    for (int v = 0; v < 2; v++) {
        int ntxn = v == 0 ? cfg.ac_normal : cfg.ac_full;
        const char *wname = v == 0 ? "autocommit NORMAL" : "autocommit FULL";
        series s[2];
        memset(s, 0, sizeof s);
        for (int rep = 0; rep < cfg.reps; rep++) {
            for (int i = 0; i < 2; i++) {
                int e = (rep + i) % 2;
                if (s[e].failed)
                    continue;
                char path[BENCH_PATH_LEN];
                path_of(path, sizeof path, e == ENG_FOLIO ? "ac_folio.db" : "ac_sqlite.db");
                remove_db(path);
                progress(wname, rep, e);
                double secs = 0;
                int rc = e == ENG_FOLIO ? fo_autocommit(path, ntxn, syncs[v], &secs)
                                        : sq_autocommit(path, ntxn, syncs[v], &secs);
                if (rc < 0) {
                    series_fail(&s[e]);
                } else {
                    s[e].t[s[e].n++] = secs;
                    if (e == ENG_FOLIO && sq_verify(path, ntxn, 0, 0, 0, 0) < 0)
                        check_failed(&s[e]);
                }
                remove_db(path);
            }
        }
        snprintf(s[ENG_FOLIO].note, sizeof s[0].note, "sync=%s, verified",
                 v == 0 ? "NORMAL" : "FULL");
        snprintf(s[ENG_SQLITE].note, sizeof s[0].note, "WAL synchronous=%s",
                 v == 0 ? "NORMAL" : "FULL");
        for (int e = 0; e < 2; e++)
            emit(wname, e, "txn/s", (double)ntxn, &s[e]);
    }
}

/* The whole schema enforced: the same rows into a table with two CHECKs, a
 * partial index and an index on an expression, and into the same table
 * with two plain column indexes in their place (what the expressions cost). */
static const char *const schema_constrained[] = {
    "CREATE TABLE user(id INTEGER PRIMARY KEY, area CHAR(6), "
    "age INTEGER CHECK (age >= 0 AND age < 150), active INTEGER CHECK (active IN (0, 1)))",
    "CREATE INDEX user_area_active ON user(area) WHERE active = 1",
    "CREATE INDEX user_area3 ON user(substr(area, 1, 3))", NULL};
static const char *const schema_plain[] = {USER_DDL, "CREATE INDEX user_area ON user(area)",
                                           "CREATE INDEX user_age ON user(age)", NULL};
#define SCHEMA_CONSTRAINED "schema insert: CHECKs + partial + expr index"
#define SCHEMA_PLAIN       "schema insert: plain indexes"

static void wl_schema(void)
{
    int64_t n = cfg.rows / 50 > 10000 ? cfg.rows / 50 : 10000;
    int64_t sum_age, sum_active;
    generator_sums(n, &sum_age, &sum_active);
    for (int v = 0; v < 2; v++) {
        const char *const *ddl = v == 0 ? schema_constrained : schema_plain;
        const char *wname = v == 0 ? SCHEMA_CONSTRAINED : SCHEMA_PLAIN;
        series s[2];
        memset(s, 0, sizeof s);
        for (int rep = 0; rep < cfg.reps; rep++) {
            for (int i = 0; i < 2; i++) {
                int e = (rep + i) % 2;
                if (s[e].failed)
                    continue;
                char path[BENCH_PATH_LEN];
                path_of(path, sizeof path, e == ENG_FOLIO ? "sc_folio.db" : "sc_sqlite.db");
                remove_db(path);
                progress(wname, rep, e);
                double secs = 0;
                int rc = e == ENG_FOLIO ? fo_schema_insert(path, n, ddl, &secs)
                                        : sq_schema_insert(path, n, ddl, &secs);
                if (rc < 0) {
                    series_fail(&s[e]);
                } else {
                    s[e].t[s[e].n++] = secs;
                    if (e == ENG_FOLIO && sq_verify(path, n, 1, sum_age, sum_active, 0) < 0)
                        check_failed(&s[e]);
                }
                remove_db(path);
            }
        }
        snprintf(s[ENG_FOLIO].note, sizeof s[0].note, "%d rows/txn, sync=NORMAL, verified",
                 BATCH_ROWS_SCHEMA);
        snprintf(s[ENG_SQLITE].note, sizeof s[0].note, "%d rows/txn, WAL sync=NORMAL",
                 BATCH_ROWS_SCHEMA);
        for (int e = 0; e < 2; e++)
            emit(wname, e, "rows/s", (double)n, &s[e]);
    }
}

/* Foreign keys enforced: the rows into a child table whose age references
 * a parent keyed by an INTEGER PRIMARY KEY, both engines checking it. */
static const char *const fk_ddl[] = {
    "CREATE TABLE ages(age INTEGER PRIMARY KEY, label TEXT)",
    "CREATE TABLE user(id INTEGER PRIMARY KEY, area CHAR(6), age INTEGER REFERENCES ages, "
    "active INTEGER)",
    NULL};
#define FK_NAME "fk insert: child with one foreign key"

static void wl_fk(void)
{
    int64_t n = cfg.rows / 50 > 10000 ? cfg.rows / 50 : 10000;
    int64_t sum_age, sum_active;
    generator_sums(n, &sum_age, &sum_active);
    series s[2];
    memset(s, 0, sizeof s);
    for (int rep = 0; rep < cfg.reps; rep++) {
        for (int i = 0; i < 2; i++) {
            int e = (rep + i) % 2;
            if (s[e].failed)
                continue;
            char path[BENCH_PATH_LEN];
            path_of(path, sizeof path, e == ENG_FOLIO ? "fk_folio.db" : "fk_sqlite.db");
            remove_db(path);
            progress(FK_NAME, rep, e);
            double secs = 0;
            int rc = e == ENG_FOLIO ? fo_fk_insert(path, n, fk_ddl, &secs)
                                    : sq_fk_insert(path, n, fk_ddl, &secs);
            if (rc < 0) {
                series_fail(&s[e]);
            } else {
                s[e].t[s[e].n++] = secs;
                if (e == ENG_FOLIO && sq_verify(path, n, 1, sum_age, sum_active, 0) < 0)
                    check_failed(&s[e]);
            }
            remove_db(path);
        }
    }
    snprintf(s[ENG_FOLIO].note, sizeof s[0].note, "%d rows/txn, foreign_keys on, verified",
             BATCH_ROWS_SCHEMA);
    snprintf(s[ENG_SQLITE].note, sizeof s[0].note, "%d rows/txn, PRAGMA foreign_keys=ON",
             BATCH_ROWS_SCHEMA);
    for (int e = 0; e < 2; e++)
        emit(FK_NAME, e, "rows/s", (double)n, &s[e]);
}

/* A table with an AFTER INSERT trigger writing an audit row: each engine
 * runs the trigger on its own copy of the schema (made by libsqlite3). */
#define TRIGGER_NAME "trigger insert: AFTER INSERT audit row"

static void wl_trigger(void)
{
    int64_t n = cfg.rows / 50 > 10000 ? cfg.rows / 50 : 10000;
    int64_t sum_age, sum_active;
    generator_sums(n, &sum_age, &sum_active);
    series s[2];
    memset(s, 0, sizeof s);
    for (int rep = 0; rep < cfg.reps; rep++) {
        for (int i = 0; i < 2; i++) {
            int e = (rep + i) % 2;
            if (s[e].failed)
                continue;
            char path[BENCH_PATH_LEN];
            path_of(path, sizeof path, e == ENG_FOLIO ? "tr_folio.db" : "tr_sqlite.db");
            remove_db(path);
            progress(TRIGGER_NAME, rep, e);
            double secs = 0;
            int rc = sq_trigger_schema(path);
            if (rc == 0)
                rc = e == ENG_FOLIO ? fo_trigger_insert(path, n, &secs)
                                    : sq_trigger_insert(path, n, &secs);
            if (rc < 0) {
                series_fail(&s[e]);
            } else {
                s[e].t[s[e].n++] = secs;
                if (sq_trigger_verify(path, n, sum_age) < 0) {
                    if (e == ENG_FOLIO)
                        check_failed(&s[e]);
                    else
                        series_fail(&s[e]);
                }
            }
            remove_db(path);
        }
    }
    snprintf(s[ENG_FOLIO].note, sizeof s[0].note, "%d rows/txn, + audit row each, verified",
             TRIGGER_ROWS_PER_TXN);
    snprintf(s[ENG_SQLITE].note, sizeof s[0].note, "%d rows/txn, + audit row each, verified",
             TRIGGER_ROWS_PER_TXN);
    for (int e = 0; e < 2; e++)
        emit(TRIGGER_NAME, e, "rows/s", (double)n, &s[e]);
}

/* VACUUM of a file with a freelist and half-empty index pages, in place and
 * INTO a new file. Each engine rebuilds its own copy of one source file
 * (written by libsqlite3, untimed), so both start from the same bytes. */
#define VACUUM_NAME      "vacuum (in place)"
#define VACUUM_INTO_NAME "vacuum INTO"

/* A vacuumed file: the kept rows (integrity, count, sums, digest), the
 * index, and no freelist left. */
static int check_vacuumed(const char *path, const expected_rows *x)
{
    int64_t free_pages = -1;
    if (check_rows(path, x->rows, x->sum_age, x->sum_active, x->digest, 1) < 0 ||
        sq_freelist_count(path, &free_pages) < 0)
        return -1;
    if (free_pages != 0) {
        bench_fail("VERIFY FAILED: %s: PRAGMA freelist_count is %lld after VACUUM, not 0", path,
                   (long long)free_pages);
        return -1;
    }
    return 0;
}

/* Build the source file; its freelist must not be empty. */
static int vacuum_source(const char *src, int64_t n, int64_t *free_pages)
{
    fprintf(stderr,
            "[vacuum] building the %lld-row source with sqlite, deleting a third (untimed)\n",
            (long long)n);
    remove_db(src);
    if (sq_vacuum_source(src, n) < 0 || sq_freelist_count(src, free_pages) < 0)
        return -1;
    if (*free_pages <= 0) {
        bench_fail("vacuum: the source file has no freelist (freelist_count %lld)",
                   (long long)*free_pages);
        return -1;
    }
    return 0;
}

static void wl_vacuum(void)
{
    int64_t n = cfg.rows / 50 > 200000 ? cfg.rows / 50 : 200000, free_pages = 0;
    expected_rows x;
    expect_rows(&x, n, vacuum_deleted);
    char src[BENCH_PATH_LEN], src_mb[32];
    path_of(src, sizeof src, "vac_source.db");
    int src_ok = vacuum_source(src, n, &free_pages) == 0;
    fmt_mb(src_mb, sizeof src_mb, file_bytes(src));
    if (src_ok)
        fprintf(stderr, "[vacuum] source %s: %s, %lld free pages, %lld rows\n", src, src_mb,
                (long long)free_pages, (long long)x.rows);
    for (int v = 0; v < 2; v++) {
        const char *wname = v == 0 ? VACUUM_NAME : VACUUM_INTO_NAME;
        series s[2];
        memset(s, 0, sizeof s);
        uint64_t size[2] = {0, 0};
        for (int e = 0; e < 2 && !src_ok; e++)
            series_fail(&s[e]);
        for (int rep = 0; rep < cfg.reps && src_ok; rep++) {
            for (int i = 0; i < 2; i++) {
                int e = (rep + i) % 2;
                if (s[e].failed)
                    continue;
                char work[BENCH_PATH_LEN], into[BENCH_PATH_LEN];
                path_of(work, sizeof work, e == ENG_FOLIO ? "vac_folio.db" : "vac_sqlite.db");
                path_of(into, sizeof into,
                        e == ENG_FOLIO ? "vac_folio_into.db" : "vac_sqlite_into.db");
                const char *dest = v == 0 ? NULL : into;
                remove_db(work);
                remove_db(into);
                if (copy_file(src, work) < 0) {
                    series_fail(&s[e]);
                    continue;
                }
                progress(wname, rep, e);
                double secs = 0;
                int rc =
                    e == ENG_FOLIO ? fo_vacuum(work, dest, &secs) : sq_vacuum(work, dest, &secs);
                if (rc < 0) {
                    series_fail(&s[e]);
                } else {
                    s[e].t[s[e].n++] = secs;
                    size[e] = file_bytes(dest ? dest : work);
                    if (check_vacuumed(dest ? dest : work, &x) < 0) {
                        if (e == ENG_FOLIO)
                            check_failed(&s[e]);
                        else
                            series_fail(&s[e]);
                    }
                }
                remove_db(work);
                remove_db(into);
            }
        }
        char mb[2][32];
        for (int e = 0; e < 2; e++)
            fmt_mb(mb[e], sizeof mb[e], size[e]);
        snprintf(s[ENG_FOLIO].note, sizeof s[0].note,
                 "sync=NORMAL, verified, freelist 0; %.12s (%lld free pages) -> %.12s", src_mb,
                 (long long)free_pages, mb[ENG_FOLIO]);
        snprintf(s[ENG_SQLITE].note, sizeof s[0].note,
                 "WAL sync=NORMAL cache=64MiB, verified; %.12s -> %.12s", src_mb, mb[ENG_SQLITE]);
        for (int e = 0; e < 2; e++)
            emit(wname, e, "rows/s", (double)x.rows, &s[e]);
    }
    remove_db(src);
}

/* The struct codec: the same rows inserted through folio_insert_struct,
 * through folio_insert with a value array, and through SQLite's prepared
 * INSERT, 1,000 rows a transaction. */
#define STRUCT_NAME "struct insert (1000/txn)"

static void wl_struct(void)
{
    static const char *const what[3] = {"folio_insert_struct", "folio_insert", "sqlite"};
    static const char *const files[3] = {"st_codec.db", "st_values.db", "st_sqlite.db"};
    int64_t n = cfg.rows / 10 > 100000 ? cfg.rows / 10 : 100000;
    expected_rows x;
    expect_rows(&x, n, NULL);
    series s[3];
    memset(s, 0, sizeof s);
    for (int rep = 0; rep < cfg.reps; rep++) {
        for (int i = 0; i < 3; i++) {
            int k = (rep + i) % 3;
            if (s[k].failed)
                continue;
            char path[BENCH_PATH_LEN];
            path_of(path, sizeof path, files[k]);
            remove_db(path);
            fprintf(stderr, "[%s] rep %d/%d %s\n", STRUCT_NAME, rep + 1, cfg.reps, what[k]);
            double secs = 0;
            int rc = k == 2 ? sq_batch_insert(path, n, BATCH_ROWS_SCHEMA, &secs)
                            : fo_struct_insert(path, n, k == 0, &secs);
            if (rc < 0) {
                series_fail(&s[k]);
            } else {
                s[k].t[s[k].n++] = secs;
                if (k < 2 && check_rows(path, x.rows, x.sum_age, x.sum_active, x.digest, 0) < 0)
                    check_failed(&s[k]);
            }
            remove_db(path);
        }
    }
    double codec_s = series_median(&s[0], NULL, NULL), values_s = series_median(&s[1], NULL, NULL);
    char vs[48] = "";
    if (codec_s > 0 && values_s > 0)
        snprintf(vs, sizeof vs, "; %.2fx folio_insert", values_s / codec_s);
    snprintf(s[0].note, sizeof s[0].note,
             "folio_insert_struct (I64, CHARS, I32, BOOL), sync=NORMAL, verified%s", vs);
    snprintf(s[1].note, sizeof s[1].note, "folio_insert, 4 folio_values, sync=NORMAL, verified");
    snprintf(s[2].note, sizeof s[2].note, "prepared INSERT, WAL sync=NORMAL cache=64MiB");
    emit(STRUCT_NAME, ENG_FOLIO, "rows/s", (double)n, &s[0]);
    emit(STRUCT_NAME, ENG_FOLIO, "rows/s", (double)n, &s[1]);
    emit(STRUCT_NAME, ENG_SQLITE, "rows/s", (double)n, &s[2]);
}

/* Writer threads committing one row each at sync FULL, then NORMAL: folio's
 * plain write transactions, folio's concurrent ones (run again on
 * FOLIO_CONFLICT) and SQLite, taking turns. */
enum { TH_PLAIN, TH_SQLITE, TH_CONC, TH_RUNNERS };

static void wl_threads(void)
{
    static const int syncs[2] = {FOLIO_SYNC_FULL, FOLIO_SYNC_NORMAL};
    static const char *const who[TH_RUNNERS] = {"folio", "sqlite", "folio concurrent"};
    int64_t sum_age, sum_active;
    generator_sums(cfg.th_txns, &sum_age, &sum_active);
    for (int v = 0; v < 2; v++) {
        const char *level = v == 0 ? "FULL" : "NORMAL";
        char wname[32], cname[48];
        snprintf(wname, sizeof wname, "threads x%d %s", cfg.threads, level);
        snprintf(cname, sizeof cname, "%s concurrent", wname);
        series s[TH_RUNNERS];
        memset(s, 0, sizeof s);
        uint64_t nsyncs[TH_RUNNERS] = {0, 0, 0};
        for (int rep = 0; rep < cfg.reps; rep++) {
            for (int i = 0; i < TH_RUNNERS; i++) {
                int e = (rep + i) % TH_RUNNERS;
                if (s[e].failed)
                    continue;
                char path[BENCH_PATH_LEN];
                path_of(path, sizeof path, e == TH_SQLITE ? "th_sqlite.db" : "th_folio.db");
                remove_db(path);
                progress_of(wname, rep, who[e]);
                double secs = 0;
                uint64_t syncs0 = sync_calls();
                conc_stats st;
                memset(&st, 0, sizeof st);
                unsigned flags = e == TH_CONC ? FOLIO_TXN_CONCURRENT : FOLIO_TXN_WRITE;
                int rc =
                    e == TH_SQLITE
                        ? sq_threads(path, cfg.threads, cfg.th_txns, syncs[v], &secs)
                        : fo_threads(path, cfg.threads, cfg.th_txns, syncs[v], flags, &st, &secs);
                if (rc < 0) {
                    series_fail(&s[e]);
                } else {
                    /* (folio's open, table and close included; libsqlite3's
                     * syncs are not counted) */
                    nsyncs[e] += sync_calls() - syncs0;
                    if (e != TH_SQLITE)
                        series_add_stats(&s[e], &st);
                    s[e].t[s[e].n++] = secs;
                    if (sq_verify(path, cfg.th_txns, 1, sum_age, sum_active, 0) < 0)
                        check_failed(&s[e]);
                }
                remove_db(path);
            }
        }
        for (int e = TH_PLAIN; e < TH_RUNNERS; e++)
            if (e != TH_SQLITE && s[e].n > 0)
                s[e].syncs_per_unit = (double)nsyncs[e] / ((double)s[e].n * (double)cfg.th_txns);
        snprintf(s[TH_PLAIN].note, sizeof s[0].note,
                 "one handle, FOLIO_TXN_WRITE, sync=%s, %.3f fsyncs/commit, verified", level,
                 s[TH_PLAIN].syncs_per_unit);
        snprintf(s[TH_CONC].note, sizeof s[0].note,
                 "one handle, FOLIO_TXN_CONCURRENT, sync=%s, %.3f fsyncs/commit, %llu conflicts, "
                 "verified",
                 level, s[TH_CONC].syncs_per_unit, (unsigned long long)s[TH_CONC].st.retries);
        snprintf(s[TH_SQLITE].note, sizeof s[0].note,
                 "a connection each, BEGIN IMMEDIATE, WAL synchronous=%s, verified", level);
        emit(wname, ENG_FOLIO, "txn/s", (double)cfg.th_txns, &s[TH_PLAIN]);
        emit(wname, ENG_SQLITE, "txn/s", (double)cfg.th_txns, &s[TH_SQLITE]);
        emit_vs(cname, wname, ENG_FOLIO, "txn/s", (double)cfg.th_txns, &s[TH_CONC]);
    }
}

/* Read-modify-write transactions from cfg.threads threads (see bench.h):
 * folio's concurrent transactions, SQLite, and folio's plain write
 * transactions, taking turns. Every file is checked for lost or doubled
 * updates; a runner whose file fails the check reports no speed at all. */
enum { RMW_CONC, RMW_SQLITE, RMW_PLAIN, RMW_RUNNERS };

static void wl_rmw(void)
{
    static const char *const who[RMW_RUNNERS] = {"folio concurrent", "sqlite", "folio plain"};
    int ntxn = cfg.rm_txns;
    char wname[32], pname[48];
    snprintf(wname, sizeof wname, "rmw x%d NORMAL", cfg.threads);
    snprintf(pname, sizeof pname, "%s plain", wname);
    series s[RMW_RUNNERS];
    memset(s, 0, sizeof s);
    for (int rep = 0; rep < cfg.reps; rep++) {
        for (int i = 0; i < RMW_RUNNERS; i++) {
            int e = (rep + i) % RMW_RUNNERS;
            if (s[e].failed)
                continue;
            char path[BENCH_PATH_LEN];
            path_of(path, sizeof path, e == RMW_SQLITE ? "rmw_sqlite.db" : "rmw_folio.db");
            remove_db(path);
            progress_of(wname, rep, who[e]);
            conc_stats st;
            double secs = 0;
            unsigned flags = e == RMW_CONC ? FOLIO_TXN_CONCURRENT : FOLIO_TXN_WRITE;
            int rc = e == RMW_SQLITE ? sq_rmw(path, cfg.threads, ntxn, &st, &secs)
                                     : fo_rmw(path, cfg.threads, ntxn, flags, &st, &secs);
            if (rc < 0 || sq_rmw_verify(path, ntxn) < 0) {
                /* Lost or doubled writes, or an engine failure: no speed. */
                check_failed(&s[e]);
                s[e].n = 0;
            } else {
                s[e].t[s[e].n++] = secs;
                series_add_stats(&s[e], &st);
            }
            remove_db(path);
        }
    }
    for (int e = 0; e < RMW_RUNNERS; e++)
        snprintf(s[RMW_CONC].note, sizeof s[0].note,
                 "one handle, FOLIO_TXN_CONCURRENT, sync=NORMAL, %llu conflicts retried, verified",
                 (unsigned long long)s[RMW_CONC].st.retries);
    snprintf(s[RMW_SQLITE].note, sizeof s[0].note,
             "a connection each, BEGIN IMMEDIATE, WAL sync=NORMAL, %llu BUSY retried, verified",
             (unsigned long long)s[RMW_SQLITE].st.retries);
    snprintf(s[RMW_PLAIN].note, sizeof s[0].note,
             "one handle, FOLIO_TXN_WRITE, sync=NORMAL, %llu retried, verified",
             (unsigned long long)s[RMW_PLAIN].st.retries);
    emit(wname, ENG_FOLIO, "txn/s", (double)ntxn, &s[RMW_CONC]);
    emit(wname, ENG_SQLITE, "txn/s", (double)ntxn, &s[RMW_SQLITE]);
    emit_vs(pname, wname, ENG_FOLIO, "txn/s", (double)ntxn, &s[RMW_PLAIN]);
}

/* The commit log's cost: the same writes with folio's log off, on with
 * zstd and on with lz4, and SQLite beside, taking turns; batches of
 * BATCH_TXN rows, then one-row transactions (inserts, then updates of a
 * LOG_UPDATE_ROWS-row table) at sync NORMAL and FULL. Each folio file is
 * checked with libsqlite3; in the first repetition the log is checked too,
 * by restoring the last version from it and checking that file. Beside
 * the times: the bytes of the log's segments against the bytes of the
 * pages its records describe (the WAL frames of the timed part times the
 * page size). */
#define LOG_UPDATE_ROWS 100000
enum { LG_OFF, LG_ZSTD, LG_LZ4, LG_SQLITE, LG_RUNNERS };
enum { LOG_BATCH, LOG_INSERT, LOG_UPDATE };

typedef struct log_part {
    char name[40];
    int kind, sync;
    int64_t n;   /* batch: rows; one-row parts: transactions */
    int per_txn; /* batch: rows a transaction */
} log_part;

/* The parts of the log workload, in order; returns how many. */
static int log_parts(log_part *p)
{
    int64_t batch_rows = cfg.rows / 10 > 100000 ? cfg.rows / 10 : 100000;
    int k = 0;
    p[k] = (log_part){"", LOG_BATCH, FOLIO_SYNC_NORMAL, batch_rows, BATCH_TXN};
    snprintf(p[k++].name, sizeof p[0].name, "log: batch %d/txn", BATCH_TXN);
    for (int kind = LOG_INSERT; kind <= LOG_UPDATE; kind++)
        for (int v = 0; v < 2; v++) {
            p[k] = (log_part){"", kind, v == 0 ? FOLIO_SYNC_NORMAL : FOLIO_SYNC_FULL,
                              v == 0 ? cfg.ac_normal : cfg.ac_full, 1};
            snprintf(p[k++].name, sizeof p[0].name, "log: %s 1/txn %s",
                     kind == LOG_INSERT ? "insert" : "update", v == 0 ? "NORMAL" : "FULL");
        }
    return k;
}

/* What libsqlite3 must read back after a part: the row count and sums. */
static void log_expect(const log_part *p, int64_t *rows, int64_t *sum_age, int64_t *sum_active)
{
    if (p->kind != LOG_UPDATE) {
        *rows = p->n;
        generator_sums(p->n, sum_age, sum_active);
        return;
    }
    int64_t n = LOG_UPDATE_ROWS;
    uint8_t *age = xmalloc((size_t)n + 1), *active = xmalloc((size_t)n + 1);
    bench_row r;
    for (int64_t id = 1; id <= n; id++) {
        gen_row(&r, id);
        age[id] = (uint8_t)r.age;
        active[id] = (uint8_t)r.active;
    }
    for (int64_t i = 0; i < p->n; i++) {
        int64_t id, a, b;
        log_update(i, n, &id, &a, &b);
        age[id] = (uint8_t)a;
        active[id] = (uint8_t)b;
    }
    *rows = n;
    *sum_age = *sum_active = 0;
    for (int64_t id = 1; id <= n; id++) {
        *sum_age += age[id];
        *sum_active += active[id];
    }
    free(age);
    free(active);
}

/* One run of one part by one runner, checked; fills the series. */
static void log_run(const log_part *p, int who, int rep, series *s, int64_t rows, int64_t sum_age,
                    int64_t sum_active)
{
    static const int codec[LG_RUNNERS] = {FO_LOG_OFF, FOLIO_LOG_ZSTD, FOLIO_LOG_LZ4, 0};
    char path[BENCH_PATH_LEN], restored[BENCH_PATH_LEN];
    path_of(path, sizeof path, who == LG_SQLITE ? "log_sqlite.db" : "log_folio.db");
    path_of(restored, sizeof restored, "log_restored.db");
    remove_db(path);
    remove_log_dir(path);
    double secs = 0;
    log_stats ls;
    memset(&ls, 0, sizeof ls);
    int rc;
    uint64_t syncs0 = sync_calls();
    if (who == LG_SQLITE)
        rc = p->kind == LOG_UPDATE ? sq_log_update(path, LOG_UPDATE_ROWS, (int)p->n, p->sync, &secs)
             : p->kind == LOG_BATCH ? sq_batch_insert(path, p->n, p->per_txn, &secs)
                                    : sq_autocommit(path, (int)p->n, p->sync, &secs);
    else
        rc = p->kind == LOG_UPDATE
                 ? fo_log_update(path, LOG_UPDATE_ROWS, (int)p->n, p->sync, codec[who], &ls, &secs)
                 : fo_log_insert(path, p->n, p->per_txn, p->sync, codec[who], &ls, &secs);
    if (rc < 0) {
        series_fail(s);
    } else {
        s->t[s->n++] = secs;
        if (who != LG_SQLITE) {
            /* (folio's syncs: the log's and the WAL's; the untimed open,
             * table and log_enable included) */
            s->syncs_per_unit = (double)(sync_calls() - syncs0) / (double)p->n;
            if (sq_verify(path, rows, 1, sum_age, sum_active, 0) < 0)
                check_failed(s);
            s->page_bytes = ls.frames * ls.page_size;
        }
        if (who == LG_ZSTD || who == LG_LZ4) {
            s->log_bytes = log_dir_bytes(path, ".seg");
            s->base_bytes = log_dir_bytes(path, ".base");
            if (s->log_bytes == 0) {
                bench_fail("VERIFY FAILED: %s-log/ holds no segment after %s", path, p->name);
                check_failed(s);
            }
            if (rep == 0 && !s->failed) {
                remove_db(restored);
                if (fo_log_restore(path, ls.version, restored) < 0 ||
                    sq_verify(restored, rows, 1, sum_age, sum_active, 0) < 0)
                    check_failed(s);
                remove_db(restored);
            }
        }
    }
    remove_db(path);
    remove_log_dir(path);
}

static void wl_log(void)
{
    static const char *const who[LG_RUNNERS] = {"folio log off", "folio log zstd", "folio log lz4",
                                                "sqlite"};
    log_part parts[8];
    int nparts = log_parts(parts);
    for (int k = 0; k < nparts; k++) {
        const log_part *p = &parts[k];
        int64_t rows, sum_age, sum_active;
        log_expect(p, &rows, &sum_age, &sum_active);
        series s[LG_RUNNERS];
        memset(s, 0, sizeof s);
        for (int rep = 0; rep < cfg.reps; rep++)
            for (int i = 0; i < LG_RUNNERS; i++) {
                int e = (rep + i) % LG_RUNNERS;
                if (s[e].failed)
                    continue;
                progress_of(p->name, rep, who[e]);
                log_run(p, e, rep, &s[e], rows, sum_age, sum_active);
            }
        const char *level = p->sync == FOLIO_SYNC_FULL ? "FULL" : "NORMAL";
        double off = series_median(&s[LG_OFF], NULL, NULL);
        char mb[2][32], onames[LG_RUNNERS][64];
        snprintf(s[LG_OFF].note, sizeof s[0].note, "log off, sync=%s, %.2f fsyncs/commit, verified",
                 level, s[LG_OFF].syncs_per_unit * p->per_txn);
        snprintf(s[LG_SQLITE].note, sizeof s[0].note, "WAL synchronous=%s", level);
        for (int e = LG_ZSTD; e <= LG_LZ4; e++) {
            double on = series_median(&s[e], NULL, NULL);
            s[e].has_log = 1; /* (a goal line, measured or not) */
            fmt_mb(mb[0], sizeof mb[0], s[e].log_bytes);
            fmt_mb(mb[1], sizeof mb[1], s[e].page_bytes);
            snprintf(s[e].note, sizeof s[0].note,
                     "%.2fx log off's time; log %.12s, pages %.12s (%.1fx); %.2f fsyncs/commit; "
                     "restored, verified",
                     off > 0 ? on / off : 0.0, mb[0], mb[1],
                     s[e].log_bytes ? (double)s[e].page_bytes / (double)s[e].log_bytes : 0.0,
                     s[e].syncs_per_unit * p->per_txn);
            snprintf(onames[e], sizeof onames[e], "%.39s %s", p->name,
                     e == LG_ZSTD ? "zstd" : "lz4");
        }
        const char *unit = p->kind == LOG_BATCH ? "rows/s" : "txn/s";
        emit(p->name, ENG_FOLIO, unit, (double)p->n, &s[LG_OFF]);
        emit(p->name, ENG_SQLITE, unit, (double)p->n, &s[LG_SQLITE]);
        emit_vs(onames[LG_ZSTD], p->name, ENG_FOLIO, unit, (double)p->n, &s[LG_ZSTD]);
        emit_vs(onames[LG_LZ4], p->name, ENG_FOLIO, unit, (double)p->n, &s[LG_LZ4]);
    }
}

/* Compare an engine's rows and checksum with SQLite's (the reference). */
static void compare_sums(const char *wname, series *s, int eng, uint64_t rows, uint64_t sum,
                         uint64_t ref_rows, uint64_t ref_sum)
{
    if (rows == ref_rows && sum == ref_sum)
        return;
    bench_fail("CHECKSUM MISMATCH in %s: %s read %llu rows (digest %016llx), sqlite %llu rows "
               "(digest %016llx)",
               wname, eng_name[eng], (unsigned long long)rows, (unsigned long long)sum,
               (unsigned long long)ref_rows, (unsigned long long)ref_sum);
    check_failed(s);
}

/* Full scans with a filter (a comparison, a LIKE) over the reads file,
 * folio's filtered cursor against SQLite's SELECT ... WHERE: the same rows,
 * checked by count and digest. */
static void wl_filter(void)
{
    static const char *const wheres[] = {"age > 50", "area LIKE '12%'"};
    static const char *const names[] = {"filter: age > 50", "filter: area LIKE '12%'"};
    char sqpath[BENCH_PATH_LEN];
    path_of(sqpath, sizeof sqpath, "filter_sqlite.db");
    fprintf(stderr, "[filter] building the %lld-row file with sqlite (untimed)\n",
            (long long)cfg.rows);
    remove_db(sqpath);
    bulk_result br;
    int sq_ok = sq_bulk(sqpath, cfg.rows, 1, 1, 0, &br) == 0;
    for (int k = 0; k < 2; k++) {
        read_plan p;
        memset(&p, 0, sizeof p);
        p.where = wheres[k];
        series s[NENG];
        memset(s, 0, sizeof s);
        uint64_t rows[NENG] = {0}, sums[NENG] = {0};
        if (!sq_ok)
            for (int e = 0; e < 2; e++)
                series_fail(&s[e]);
        for (int rep = 0; rep < cfg.reps; rep++) {
            for (int i = 0; i < 2; i++) {
                int e = (rep + i) % 2;
                if (s[e].failed)
                    continue;
                progress(names[k], rep, e);
                read_result rr;
                int rc = e == ENG_FOLIO ? fo_read(sqpath, READ_SCAN, &p, cfg.folio_cache_mb,
                                                  cfg.folio_mmap_mb, &rr)
                                        : sq_read(sqpath, READ_SCAN, &p, cfg.sqlite_mmap_mb, &rr);
                if (rc < 0) {
                    series_fail(&s[e]);
                    continue;
                }
                s[e].t[s[e].n++] = rr.secs;
                rows[e] = rr.rows;
                sums[e] = rr.sum;
            }
        }
        if (!s[ENG_SQLITE].failed && !s[ENG_FOLIO].failed)
            compare_sums(names[k], &s[ENG_FOLIO], ENG_FOLIO, rows[ENG_FOLIO], sums[ENG_FOLIO],
                         rows[ENG_SQLITE], sums[ENG_SQLITE]);
        snprintf(s[ENG_FOLIO].note, sizeof s[0].note,
                 "read-only, filtered cursor, %llu rows checked",
                 (unsigned long long)rows[ENG_SQLITE]);
        snprintf(s[ENG_SQLITE].note, sizeof s[0].note, "SELECT * WHERE, cache=64MiB mmap=%ldMB",
                 cfg.sqlite_mmap_mb);
        /* The work is the rows scanned: the whole table. */
        for (int e = 0; e < 2; e++)
            emit(names[k], e, "rows/s", (double)cfg.rows, &s[e]);
    }
    if (!cfg.keep)
        remove_db(sqpath);
}

static void wl_reads(void)
{
    int64_t n = cfg.rows;
    char sqpath[BENCH_PATH_LEN], lmpath[BENCH_PATH_LEN];
    path_of(sqpath, sizeof sqpath, "reads_sqlite.db");
    path_of(lmpath, sizeof lmpath, "reads_lmdb.mdb");
    bulk_result br;
    fprintf(stderr, "[reads] building the %lld-row file with sqlite and the LMDB copy (untimed)\n",
            (long long)n);
    remove_db(sqpath);
    remove_db(lmpath);
    int sq_ok = sq_bulk(sqpath, n, 1, 1, 0, &br) == 0;
    char sq_err[BENCH_ERR_LEN];
    snprintf(sq_err, sizeof sq_err, "%s", bench_errbuf);
    int lm_ok = lm_bulk(lmpath, n, 1, &br) == 0;
    char lm_err[BENCH_ERR_LEN];
    snprintf(lm_err, sizeof lm_err, "%s", bench_errbuf);

    bench_rng rng = {23};
    size_t nids = (size_t)cfg.lookups, nseek = (size_t)cfg.seeks, nrange = (size_t)cfg.ranges;
    int64_t *ids = xmalloc(nids * sizeof *ids);
    for (size_t i = 0; i < nids; i++)
        ids[i] = 1 + (int64_t)rng_below(&rng, (uint64_t)n);
    char *seek_areas = xmalloc(nseek * AREA_LEN), *range_areas = xmalloc(nrange * AREA_LEN);
    bench_row r;
    for (size_t i = 0; i < nseek; i++) {
        gen_row(&r, 1 + (int64_t)rng_below(&rng, (uint64_t)n));
        memcpy(seek_areas + i * AREA_LEN, r.area, AREA_LEN);
    }
    for (size_t i = 0; i < nrange; i++)
        format_area(range_areas + i * AREA_LEN, (uint32_t)rng_below(&rng, AREA_VALUES));

    static const char *const names[4] = {"reads: lookup", "reads: index seek EQ",
                                         "reads: range GE+100", "reads: full scan"};
    static const char *const units[4] = {"lookups/s", "seeks/s", "rows/s", "rows/s"};
    for (int k = 0; k < 4; k++) {
        read_plan p = {ids,
                       nids,
                       k == READ_SEEK ? seek_areas : range_areas,
                       k == READ_SEEK ? nseek : nrange,
                       cfg.range_len,
                       NULL};
        int neng = (k == READ_LOOKUP || k == READ_SCAN) ? 3 : 2;
        series s[NENG];
        memset(s, 0, sizeof s);
        uint64_t rows[NENG] = {0}, sums[NENG] = {0};
        if (!sq_ok) {
            for (int e = 0; e < 2; e++) {
                snprintf(bench_errbuf, sizeof bench_errbuf, "building the file: %.480s", sq_err);
                series_fail(&s[e]);
            }
        }
        if (!lm_ok) {
            snprintf(bench_errbuf, sizeof bench_errbuf, "building the LMDB file: %.480s", lm_err);
            series_fail(&s[ENG_LMDB]);
        }
        for (int rep = 0; rep < cfg.reps; rep++) {
            for (int i = 0; i < neng; i++) {
                int e = (rep + i) % neng;
                if (s[e].failed)
                    continue;
                progress(names[k], rep, e);
                read_result rr;
                int rc = e == ENG_FOLIO ? fo_read(sqpath, (read_kind)k, &p, cfg.folio_cache_mb,
                                                  cfg.folio_mmap_mb, &rr)
                         : e == ENG_SQLITE
                             ? sq_read(sqpath, (read_kind)k, &p, cfg.sqlite_mmap_mb, &rr)
                             : lm_read(lmpath, (read_kind)k, &p, &rr);
                if (rc < 0) {
                    series_fail(&s[e]);
                    continue;
                }
                s[e].t[s[e].n++] = rr.secs;
                rows[e] = rr.rows;
                sums[e] = rr.sum;
            }
        }
        if (!s[ENG_SQLITE].failed)
            for (int e = 0; e < neng; e++)
                if (e != ENG_SQLITE && !s[e].failed)
                    compare_sums(names[k], &s[e], e, rows[e], sums[e], rows[ENG_SQLITE],
                                 sums[ENG_SQLITE]);
        char cache_note[32] = "", mmap_note[32] = "";
        if (cfg.folio_cache_mb)
            snprintf(cache_note, sizeof cache_note, ", cache=%ldMiB", cfg.folio_cache_mb);
        if (cfg.folio_mmap_mb >= 0)
            snprintf(mmap_note, sizeof mmap_note, ", mmap=%ldMB", cfg.folio_mmap_mb);
        else
            snprintf(mmap_note, sizeof mmap_note, ", default options");
        snprintf(s[ENG_FOLIO].note, sizeof s[0].note, "read-only%s%s, rows checked", cache_note,
                 mmap_note);
        snprintf(s[ENG_SQLITE].note, sizeof s[0].note, "cache=64MiB mmap=%ldMB",
                 cfg.sqlite_mmap_mb);
        snprintf(s[ENG_LMDB].note, sizeof s[0].note, "MDB_RDONLY");
        double work = (double)rows[ENG_SQLITE];
        if (k == READ_LOOKUP)
            work = (double)nids;
        else if (k == READ_SEEK)
            work = (double)nseek;
        for (int e = 0; e < neng; e++)
            emit(names[k], e, units[k], work, &s[e]);
    }
    free(ids);
    free(seek_areas);
    free(range_areas);
    if (!cfg.keep) {
        remove_db(sqpath);
        remove_db(lmpath);
    }
}

static void wl_mixed(void)
{
    int64_t m = cfg.rows;
    int ntxn = cfg.mx_txns, per = cfg.mx_per_txn;
    int nread = per * 8 / 10, nupd = (per - nread) / 2, nins = per - nread - nupd;
    size_t total = (size_t)ntxn * (size_t)per;
    int64_t *new_ids = unique_odd_ids((size_t)ntxn * (size_t)nins, m, 31);
    mixed_op *ops = xmalloc(total * sizeof *ops);
    bench_rng rng = {37};
    for (int t = 0; t < ntxn; t++) {
        mixed_op *o = ops + (size_t)t * (size_t)per;
        for (int j = 0; j < per; j++) {
            o[j].kind = j < nread ? MIXED_READ : j < nread + nupd ? MIXED_UPDATE : MIXED_INSERT;
            o[j].id = 2 * (1 + (int64_t)rng_below(&rng, (uint64_t)m));
            o[j].age = (int64_t)rng_below(&rng, 100);
            o[j].active = (int64_t)rng_below(&rng, 2);
            if (o[j].kind == MIXED_INSERT)
                o[j].id = new_ids[(size_t)t * (size_t)nins + (size_t)(j - nread - nupd)];
        }
        for (int j = per - 1; j > 0; j--) { /* shuffle within the transaction */
            int x = (int)rng_below(&rng, (uint64_t)j + 1);
            mixed_op tmp = o[j];
            o[j] = o[x];
            o[x] = tmp;
        }
    }
    free(new_ids);
    series s[NENG];
    memset(s, 0, sizeof s);
    uint64_t sums[NENG] = {0};
    for (int rep = 0; rep < cfg.reps; rep++) {
        for (int i = 0; i < NENG; i++) {
            int e = (rep + i) % NENG;
            if (s[e].failed)
                continue;
            char work[BENCH_PATH_LEN];
            if (work_copy(e, "mixed", work, sizeof work) < 0) {
                series_fail(&s[e]);
                continue;
            }
            progress("mixed", rep, e);
            mixed_result mr;
            int rc = e == ENG_FOLIO    ? fo_mixed(work, ops, ntxn, per, &mr)
                     : e == ENG_SQLITE ? sq_mixed(work, ops, ntxn, per, &mr)
                                       : lm_mixed(work, ops, ntxn, per, &mr);
            if (rc < 0) {
                series_fail(&s[e]);
            } else {
                s[e].t[s[e].n++] = mr.secs;
                sums[e] = mr.sum;
                if (e == ENG_FOLIO && sq_verify(work, m + (int64_t)ntxn * nins, 0, 0, 0, 0) < 0)
                    check_failed(&s[e]);
            }
            remove_db(work);
        }
    }
    free(ops);
    uint64_t nreads = (uint64_t)ntxn * (uint64_t)nread;
    if (!s[ENG_SQLITE].failed)
        for (int e = 0; e < NENG; e++)
            if (e != ENG_SQLITE && !s[e].failed)
                compare_sums("mixed", &s[e], e, nreads, sums[e], nreads, sums[ENG_SQLITE]);
    char name[64];
    snprintf(name, sizeof name, "mixed 80/20 (%dx%d)", ntxn, per);
    snprintf(s[ENG_FOLIO].note, sizeof s[0].note, "sync=NORMAL, verified");
    snprintf(s[ENG_SQLITE].note, sizeof s[0].note, "WAL sync=NORMAL cache=64MiB");
    snprintf(s[ENG_LMDB].note, sizeof s[0].note, "MDB_NOSYNC");
    for (int e = 0; e < NENG; e++)
        emit(name, e, "ops/s", (double)total, &s[e]);
}

/* ---- import: the folio CLI against the sqlite3 shell ---- */

#define IMPORT_NAME "import (CSV, CLI)"

/* The version the sqlite3 shell reports ("3.40.1"), or "?". */
static void sqlite3_shell_version(const char *log, char *out, size_t cap)
{
    char *argv[] = {cfg.sqlite3_bin, "-version", NULL};
    double secs;
    snprintf(out, cap, "?");
    if (run_program(argv, NULL, log, &secs) < 0)
        return;
    char line[256];
    file_last_line(log, line, sizeof line);
    size_t n = strcspn(line, " ");
    if (n > 0 && n < cap)
        snprintf(out, cap, "%.*s", (int)n, line);
}

static void show_command(const char *who, char *const argv[], const char *in)
{
    fprintf(stderr, "[import] %s runs:", who);
    for (int i = 0; argv[i]; i++)
        fprintf(stderr, " %s", argv[i]);
    if (in)
        fprintf(stderr, " < %s", in);
    fprintf(stderr, "\n");
}

static void wl_import(void)
{
    int64_t n = cfg.rows, sum_age = 0, sum_active = 0;
    uint64_t digest = 0;
    bench_row r;
    for (int64_t id = 1; id <= n; id++) {
        gen_row(&r, id);
        sum_age += r.age;
        sum_active += r.active;
        digest += row_digest(r.id, r.area, AREA_LEN, r.age, r.active);
    }
    int have[2] = {cfg.folio_bin[0] != 0, cfg.sqlite3_bin[0] != 0};
    const char *missing[2] = {cfg.folio_missing, cfg.sqlite3_missing};
    for (int e = 0; e < 2; e++)
        if (!have[e])
            fprintf(stderr, "[import] %s skipped: %s\n", eng_name[e], missing[e]);
    if (!have[ENG_FOLIO] && !have[ENG_SQLITE]) {
        for (int e = 0; e < 2; e++)
            emit_skipped(IMPORT_NAME, e, missing[e]);
        return;
    }
    char csv[BENCH_PATH_LEN], script[BENCH_PATH_LEN], version[32] = "";
    path_of(csv, sizeof csv, "import.csv");
    path_of(script, sizeof script, "import_sqlite.sql");
    series s[2];
    memset(s, 0, sizeof s);
    fprintf(stderr, "[import] writing the %lld-row CSV file (untimed)\n", (long long)n);
    if (write_user_csv(csv, n) < 0 || sq_import_script(script, csv) < 0) {
        for (int e = 0; e < 2; e++)
            series_fail(&s[e]);
    } else {
        char mb[32];
        fmt_mb(mb, sizeof mb, file_bytes(csv));
        fprintf(stderr, "[import] %s: %s\n", csv, mb);
    }
    if (have[ENG_SQLITE]) {
        char log[BENCH_PATH_LEN];
        path_of(log, sizeof log, "import_sqlite.log");
        sqlite3_shell_version(log, version, sizeof version);
        remove_db(log);
    }
    uint64_t size[2] = {0, 0};
    for (int rep = 0; rep < cfg.reps; rep++) {
        for (int i = 0; i < 2; i++) {
            int e = (rep + i) % 2;
            if (!have[e] || s[e].failed)
                continue;
            char db[BENCH_PATH_LEN], log[BENCH_PATH_LEN];
            path_of(db, sizeof db, e == ENG_FOLIO ? "import_folio.db" : "import_sqlite.db");
            path_of(log, sizeof log, e == ENG_FOLIO ? "import_folio.log" : "import_sqlite.log");
            remove_db(db);
            if (sq_create_user(db) < 0) { /* the same empty table for both, untimed */
                series_fail(&s[e]);
                continue;
            }
            char *fo_argv[] = {cfg.folio_bin, "--sync", "off", "import", "--header", db,
                               "user",        csv,      NULL};
            char *sq_argv[] = {cfg.sqlite3_bin, "-batch", "-bail", "-init", "/dev/null", db, NULL};
            if (rep == 0)
                show_command(eng_name[e], e == ENG_FOLIO ? fo_argv : sq_argv,
                             e == ENG_FOLIO ? NULL : script);
            progress("import", rep, e);
            double secs = 0;
            int rc = e == ENG_FOLIO ? run_program(fo_argv, NULL, log, &secs)
                                    : run_program(sq_argv, script, log, &secs);
            if (rc < 0) {
                series_fail(&s[e]);
            } else {
                s[e].t[s[e].n++] = secs;
                size[e] = file_bytes(db);
                if (check_rows(db, n, sum_age, sum_active, digest, 0) < 0) {
                    if (e == ENG_FOLIO)
                        check_failed(&s[e]);
                    else
                        series_fail(&s[e]);
                }
            }
            remove_db(db);
            remove_db(log);
        }
    }
    char mb[2][32];
    for (int e = 0; e < 2; e++)
        fmt_mb(mb[e], sizeof mb[e], size[e]);
    snprintf(s[ENG_FOLIO].note, sizeof s[0].note,
             "folio --sync off import --header (64 MiB cache), verified; file %.12s",
             mb[ENG_FOLIO]);
    snprintf(s[ENG_SQLITE].note, sizeof s[0].note,
             "sqlite3 %.10s .import --csv --skip 1, journal=OFF sync=OFF exclusive cache=1GB; "
             "file %.12s",
             version, mb[ENG_SQLITE]);
    for (int e = 0; e < 2; e++) {
        if (have[e])
            emit(IMPORT_NAME, e, "rows/s", (double)n, &s[e]);
        else
            emit_skipped(IMPORT_NAME, e, missing[e]);
    }
    if (!cfg.keep) {
        remove_db(csv);
        remove_db(script);
    }
}

/* ---- backup: one file copied by folio backup, cp, sqlite3 .backup, VACUUM INTO ---- */

/* A file of the bench's rows with the area index takes about this many
 * bytes a row (folio's bulk load, 4096-byte pages). */
#define BACKUP_BYTES_PER_ROW 34

enum { BK_FOLIO, BK_CP, BK_CP_SYNC, BK_SQLITE, BK_VACUUM, BK_KINDS };
static const char *const bk_engine[BK_KINDS] = {"folio", "cp", "cp+sync", "sqlite", "vacuum"};
static const char *const bk_what[BK_KINDS] = {"folio backup", "cp", "cp + fsync", "sqlite3 .backup",
                                              "sqlite3 VACUUM INTO"};

static void backup_names(char *name, size_t cap, char *vacuum_name, size_t vcap)
{
    snprintf(name, cap, "backup %lld MB", (long long)cfg.backup_mb);
    snprintf(vacuum_name, vcap, "backup %lld MB: VACUUM INTO", (long long)cfg.backup_mb);
}

/* Whether two files hold the same bytes past the first `skip` (the header
 * a copy may rewrite). */
static int same_bytes_after(const char *a, const char *b, size_t skip)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb && file_bytes(a) == file_bytes(b);
    static char ba[1 << 20], bb[1 << 20];
    for (uint64_t off = 0; same;) {
        size_t na = fread(ba, 1, sizeof ba, fa), nb = fread(bb, 1, sizeof bb, fb);
        if (na != nb) {
            same = 0;
            break;
        }
        if (na == 0)
            break;
        size_t from = off < skip ? (size_t)(skip - off < na ? skip - off : na) : 0;
        same = memcmp(ba + from, bb + from, na - from) == 0;
        off += na;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        bench_fail("fsync %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* The copy holds the source's rows (a scan by libsqlite3); the copies of
 * pages (all but VACUUM INTO) hold its bytes too, the header aside. */
static int check_backup(int kind, const char *src, const char *dest, const expected_rows *x)
{
    read_plan p;
    memset(&p, 0, sizeof p);
    read_result rr;
    if (sq_read(dest, READ_SCAN, &p, 0, &rr) < 0)
        return -1;
    if (rr.rows != (uint64_t)x->rows || rr.sum != x->digest) {
        bench_fail("VERIFY FAILED: %s (%s): read back %llu rows with digest %016llx, not %lld "
                   "with %016llx",
                   dest, bk_what[kind], (unsigned long long)rr.rows, (unsigned long long)rr.sum,
                   (long long)x->rows, (unsigned long long)x->digest);
        return -1;
    }
    if (kind != BK_VACUUM && !same_bytes_after(src, dest, 100)) {
        bench_fail("VERIFY FAILED: %s (%s): not the source's pages", dest, bk_what[kind]);
        return -1;
    }
    return 0;
}

/* One timed copy of `src` to `dest` (absent). */
static int backup_once(int kind, const char *src, const char *dest, const char *log, double *secs)
{
    char cmd[BENCH_PATH_LEN + 32], cp_bin[16] = "/bin/cp";
    if (access(cp_bin, X_OK) != 0)
        snprintf(cp_bin, sizeof cp_bin, "/usr/bin/cp");
    char *fo_argv[] = {cfg.folio_bin, "backup", (char *)src, (char *)dest, NULL};
    char *cp_argv[] = {cp_bin, (char *)src, (char *)dest, NULL};
    char *sq_argv[] = {cfg.sqlite3_bin, "-batch", "-bail", (char *)src, cmd, NULL};
    switch (kind) {
    case BK_FOLIO:
        return run_program(fo_argv, NULL, log, secs);
    case BK_CP:
        return run_program(cp_argv, NULL, log, secs);
    case BK_CP_SYNC: {
        double t0 = now_s(), cp_s;
        if (run_program(cp_argv, NULL, log, &cp_s) < 0 || fsync_path(dest) < 0)
            return -1;
        *secs = now_s() - t0;
        return 0;
    }
    case BK_SQLITE:
        snprintf(cmd, sizeof cmd, ".backup \"%s\"", dest);
        return run_program(sq_argv, NULL, log, secs);
    default:
        snprintf(cmd, sizeof cmd, "VACUUM INTO '%s'", dest);
        return run_program(sq_argv, NULL, log, secs);
    }
}

static void wl_backup(void)
{
    char name[64], vname[64];
    backup_names(name, sizeof name, vname, sizeof vname);
    int have[BK_KINDS];
    const char *missing[BK_KINDS];
    for (int k = 0; k < BK_KINDS; k++) {
        int sq = k == BK_SQLITE || k == BK_VACUUM;
        have[k] = k == BK_FOLIO ? cfg.folio_bin[0] != 0 : sq ? cfg.sqlite3_bin[0] != 0 : 1;
        missing[k] = k == BK_FOLIO ? cfg.folio_missing : cfg.sqlite3_missing;
    }
    int64_t n = cfg.backup_mb * 1000000 / BACKUP_BYTES_PER_ROW;
    expected_rows x;
    expect_rows(&x, n, NULL);
    char src[BENCH_PATH_LEN], dest[BENCH_PATH_LEN], log[BENCH_PATH_LEN], mb[32];
    path_of(src, sizeof src, "bk_source.db");
    path_of(dest, sizeof dest, "bk_copy.db");
    path_of(log, sizeof log, "bk_copy.log");
    series s[BK_KINDS];
    memset(s, 0, sizeof s);
    fprintf(stderr, "[backup] building the %lld-row source with folio, with its index (untimed)\n",
            (long long)n);
    remove_db(src);
    bulk_result br;
    int src_ok = fo_bulk(src, n, 1, 1, &br) == 0 &&
                 check_rows(src, x.rows, x.sum_age, x.sum_active, x.digest, 1) == 0;
    fmt_mb(mb, sizeof mb, file_bytes(src));
    fprintf(stderr, "[backup] source %s: %s\n", src, mb);
    for (int k = 0; k < BK_KINDS && !src_ok; k++)
        series_fail(&s[k]);
    double check_s = -1;
    for (int rep = 0; rep < cfg.reps && src_ok; rep++) {
        for (int i = 0; i < BK_KINDS; i++) {
            int k = (rep + i) % BK_KINDS;
            if (!have[k] || s[k].failed)
                continue;
            remove_db(dest);
            progress_of("backup", rep, bk_what[k]);
            double secs = 0;
            if (backup_once(k, src, dest, log, &secs) < 0) {
                series_fail(&s[k]);
                continue;
            }
            s[k].t[s[k].n++] = secs;
            /* (its dirty pages written now, not during the next copy) */
            if (fsync_path(dest) < 0 || check_backup(k, src, dest, &x) < 0) {
                if (k == BK_FOLIO)
                    check_failed(&s[k]);
                else
                    series_fail(&s[k]);
            }
            if (k == BK_FOLIO && check_s < 0) {
                /* How much of folio's time is its integrity check of the copy. */
                char *ck_argv[] = {cfg.folio_bin, "check", dest, NULL};
                if (run_program(ck_argv, NULL, log, &check_s) < 0)
                    check_s = -1;
            }
            remove_db(dest);
            remove_db(log);
        }
    }
    char ck[64] = "";
    if (check_s >= 0)
        snprintf(ck, sizeof ck, "; the full `folio check` of the copy alone %.2f s", check_s);
    snprintf(s[BK_FOLIO].note, sizeof s[0].note,
             "folio backup CLI: copy, then sync, read back and quick check at once%s", ck);
    snprintf(s[BK_CP].note, sizeof s[0].note, "cp of the %s file (no sync)", mb);
    snprintf(s[BK_CP_SYNC].note, sizeof s[0].note, "cp, then fsync of the copy");
    snprintf(s[BK_SQLITE].note, sizeof s[0].note, "sqlite3 shell .backup (base of x sqlite)");
    snprintf(s[BK_VACUUM].note, sizeof s[0].note, "sqlite3 shell VACUUM INTO (no sync)");
    for (int k = 0; k < BK_KINDS; k++) {
        const char *w = k == BK_VACUUM ? vname : name;
        if (have[k])
            emit_named(w, k == BK_VACUUM ? name : NULL, bk_engine[k], "MB/s",
                       (double)file_bytes(src) / 1e6, &s[k]);
        else
            emit_named_skipped(w, bk_engine[k], missing[k]);
    }
    if (!cfg.keep)
        remove_db(src);
}

/* ---- restore: folio restore to the last of 10,000 commits, against cp ---- */

#define RESTORE_COMMITS 10000

enum { RS_FOLIO, RS_FULL, RS_CP, RS_CP_SYNC, RS_KINDS };
static const char *const rs_engine[RS_KINDS] = {"folio", "full", "cp", "cp+sync"};
static const char *const rs_what[RS_KINDS] = {"folio restore", "folio restore --check full", "cp",
                                              "cp + fsync"};

static void restore_name(char *name, size_t cap)
{
    snprintf(name, cap, "restore %lld MB", (long long)cfg.backup_mb);
}

/* One timed restore (or copy of the source's file) to `dest` (absent). */
static int restore_once(int kind, const char *src, const char *dest, uint64_t version,
                        const char *log, double *secs)
{
    char ver[32], cp_bin[16] = "/bin/cp";
    snprintf(ver, sizeof ver, "%llu", (unsigned long long)version);
    if (access(cp_bin, X_OK) != 0)
        snprintf(cp_bin, sizeof cp_bin, "/usr/bin/cp");
    char *fo_argv[] = {cfg.folio_bin,
                       "restore",
                       (char *)src,
                       (char *)dest,
                       "--version",
                       ver,
                       kind == RS_FULL ? "--check" : NULL,
                       "full",
                       NULL};
    char *cp_argv[] = {cp_bin, (char *)src, (char *)dest, NULL};
    switch (kind) {
    case RS_FOLIO:
    case RS_FULL:
        return run_program(fo_argv, NULL, log, secs);
    case RS_CP:
        return run_program(cp_argv, NULL, log, secs);
    default: {
        double t0 = now_s(), cp_s;
        if (run_program(cp_argv, NULL, log, &cp_s) < 0 || fsync_path(dest) < 0)
            return -1;
        *secs = now_s() - t0;
        return 0;
    }
    }
}

static void wl_restore(void)
{
    char name[64];
    restore_name(name, sizeof name);
    int64_t n = cfg.backup_mb * 1000000 / BACKUP_BYTES_PER_ROW;
    char src[BENCH_PATH_LEN], dest[BENCH_PATH_LEN], log[BENCH_PATH_LEN], mb[32];
    path_of(src, sizeof src, "rs_source.db");
    path_of(dest, sizeof dest, "rs_copy.db");
    path_of(log, sizeof log, "rs_copy.log");
    series s[RS_KINDS];
    memset(s, 0, sizeof s);
    fprintf(stderr,
            "[restore] building the %lld-row source with folio, its log, %d commits (untimed)\n",
            (long long)n, RESTORE_COMMITS);
    remove_db(src);
    remove_log_dir(src);
    bulk_result br;
    uint64_t version = 0;
    read_plan p;
    memset(&p, 0, sizeof p);
    read_result want;
    int src_ok = fo_bulk(src, n, 1, 1, &br) == 0 &&
                 fo_restore_source(src, n, RESTORE_COMMITS, &version) == 0 &&
                 sq_read(src, READ_SCAN, &p, 0, &want) == 0;
    fmt_mb(mb, sizeof mb, file_bytes(src));
    fprintf(stderr, "[restore] source %s: %s, version %llu\n", src, mb,
            (unsigned long long)version);
    for (int k = 0; k < RS_KINDS && !src_ok; k++)
        series_fail(&s[k]);
    for (int rep = 0; rep < cfg.reps && src_ok; rep++) {
        for (int i = 0; i < RS_KINDS; i++) {
            int k = (rep + i) % RS_KINDS;
            if ((k == RS_FOLIO || k == RS_FULL) && !cfg.folio_bin[0])
                continue;
            if (s[k].failed)
                continue;
            remove_db(dest);
            progress_of("restore", rep, rs_what[k]);
            double secs = 0;
            if (restore_once(k, src, dest, version, log, &secs) < 0) {
                series_fail(&s[k]);
                continue;
            }
            s[k].t[s[k].n++] = secs;
            /* The restored file: the source's pages (its header aside) and,
             * read by libsqlite3, its rows. */
            read_result rr;
            int ok = fsync_path(dest) == 0 && sq_read(dest, READ_SCAN, &p, 0, &rr) == 0;
            if (ok && (rr.rows != want.rows || rr.sum != want.sum)) {
                bench_fail("VERIFY FAILED: %s (%s): %llu rows with digest %016llx, the source "
                           "%llu with %016llx",
                           dest, rs_what[k], (unsigned long long)rr.rows,
                           (unsigned long long)rr.sum, (unsigned long long)want.rows,
                           (unsigned long long)want.sum);
                ok = 0;
            }
            if (ok && !same_bytes_after(src, dest, 100)) {
                bench_fail("VERIFY FAILED: %s (%s): not the source's pages", dest, rs_what[k]);
                ok = 0;
            }
            if (!ok) {
                if (k == RS_FOLIO || k == RS_FULL)
                    check_failed(&s[k]);
                else
                    series_fail(&s[k]);
            }
            remove_db(dest);
            remove_db(log);
        }
    }
    snprintf(s[RS_FOLIO].note, sizeof s[0].note,
             "folio restore CLI to version %llu (%d commits past the base): write, sync, read "
             "back, quick check",
             (unsigned long long)version, RESTORE_COMMITS);
    snprintf(s[RS_FULL].note, sizeof s[0].note, "the same with --check full");
    snprintf(s[RS_CP].note, sizeof s[0].note, "cp of the %s database file (no sync)", mb);
    snprintf(s[RS_CP_SYNC].note, sizeof s[0].note, "cp, then fsync of the copy");
    for (int k = 0; k < RS_KINDS; k++) {
        if ((k == RS_FOLIO || k == RS_FULL) && !cfg.folio_bin[0])
            emit_named_skipped(name, rs_engine[k], cfg.folio_missing);
        else
            emit_named(name, NULL, rs_engine[k], "MB/s", (double)file_bytes(src) / 1e6, &s[k]);
    }
    if (!cfg.keep) {
        remove_db(src);
        remove_log_dir(src);
    }
}

/* ---- memory: fresh child processes ---- */

static const char *self_exe;

/* Run this program as `--child MODE ENGINE PATH ROWS WARM WINDOW` and parse
 * the one line it prints. */
static int run_mem_child(const char *mode, int eng, const char *path, mem_result *out)
{
    char rows[32], warm[32], window[32];
    snprintf(rows, sizeof rows, "%lld", (long long)cfg.mem_rows);
    snprintf(warm, sizeof warm, "%lld", (long long)cfg.mem_warm);
    snprintf(window, sizeof window, "%lld", (long long)cfg.mem_window);
    int fds[2];
    if (pipe(fds) != 0) {
        bench_fail("pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        bench_fail("fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[1]);
        execl(self_exe, self_exe, "--child", mode, eng_name[eng], path, rows, warm, window,
              (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", self_exe, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    char buf[1024];
    size_t len = 0;
    for (;;) {
        ssize_t got = read(fds[0], buf + len, sizeof buf - 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        len += (size_t)got;
        if (len == sizeof buf - 1)
            break;
    }
    buf[len] = 0;
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status)) {
        bench_fail("%s %s child crashed with signal %d (%s)", eng_name[eng], mode, WTERMSIG(status),
                   strsignal(WTERMSIG(status)));
        return -1;
    }
    unsigned long long allocs, win;
    memset(out, 0, sizeof *out);
    if (WEXITSTATUS(status) != 0 ||
        sscanf(buf, "rss_kb=%ld allocs=%llu window=%llu", &out->rss_kb, &allocs, &win) != 3) {
        char *nl = strchr(buf, '\n');
        if (nl)
            *nl = 0;
        bench_fail("%s %s child failed (exit %d): %s", eng_name[eng], mode, WEXITSTATUS(status),
                   buf[0] ? buf : "no output");
        return -1;
    }
    out->allocs = allocs;
    out->window_rows = win;
    out->allocs_per_row = win ? (double)allocs / (double)win : 0;
    return 0;
}

static int child_main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: --child MODE ENGINE PATH ROWS WARM WINDOW\n");
        return 2;
    }
    const char *mode = argv[2], *eng = argv[3], *path = argv[4];
    int64_t rows = atoll(argv[5]), warm = atoll(argv[6]), window = atoll(argv[7]);
    int sqlite = strcmp(eng, "sqlite") == 0;
    if (sqlite && sq_count_allocs() < 0) {
        printf("error=sqlite3_config(SQLITE_CONFIG_MALLOC) failed\n");
        return 1;
    }
    mem_result r;
    int rc;
    if (strcmp(mode, "insert") == 0)
        rc = sqlite ? sq_mem_insert(path, rows, warm, window, &r)
                    : fo_mem_insert(path, rows, warm, window, &r);
    else
        rc = sqlite ? sq_mem_read(path, rows, strcmp(mode, "scan") == 0, warm, window, &r)
                    : fo_mem_read(path, rows, strcmp(mode, "scan") == 0, warm, window, &r);
    if (rc < 0) {
        printf("error=%s\n", bench_errbuf);
        return 1;
    }
    printf("rss_kb=%ld allocs=%llu window=%llu\n", r.rss_kb, (unsigned long long)r.allocs,
           (unsigned long long)r.window_rows);
    return 0;
}

static void wl_memory(void)
{
    static const char *const modes[3] = {"insert", "lookup", "scan"};
    for (int e = 0; e < 2; e++) {
        char path[BENCH_PATH_LEN];
        path_of(path, sizeof path, e == ENG_FOLIO ? "mem_folio.db" : "mem_sqlite.db");
        remove_db(path);
        int insert_ok = 1;
        for (int m = 0; m < 3; m++) {
            result r;
            memset(&r, 0, sizeof r);
            r.is_memory = 1;
            snprintf(r.engine, sizeof r.engine, "%s", eng_name[e]);
            snprintf(r.workload, sizeof r.workload, "memory: %s", modes[m]);
            r.units = m == 0 ? (double)cfg.mem_rows : (double)cfg.mem_warm + cfg.mem_window;
            fprintf(stderr, "[memory] %s %s (fresh process)\n", eng_name[e], modes[m]);
            if (!insert_ok) {
                r.failed = 1;
                snprintf(r.error, sizeof r.error, "the insert child failed");
            } else if (run_mem_child(modes[m], e, path, &r.mem) < 0) {
                r.failed = 1;
                snprintf(r.error, sizeof r.error, "%s", bench_errbuf);
            } else if (m == 0 && e == ENG_FOLIO && sq_verify(path, cfg.mem_rows, 0, 0, 0, 0) < 0) {
                r.failed = 1;
                child_exit = 3;
                snprintf(r.error, sizeof r.error, "%s", bench_errbuf);
            }
            if (m == 0 && r.failed)
                insert_ok = 0;
            snprintf(r.note, sizeof r.note, "%s",
                     e == ENG_FOLIO ? "default options" : "bulk pragmas but cache=64MiB");
            send_result(&r);
        }
        remove_db(path);
    }
}

/* ---- the table ---- */

static const char *fmt_count(char *out, size_t cap, double v)
{
    char digits[40];
    snprintf(digits, sizeof digits, "%.0f", v);
    size_t n = strlen(digits), o = 0;
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = 0;
    return out;
}

static const result *find_result(const char *workload_prefix, const char *engine)
{
    size_t n = strlen(workload_prefix);
    for (int i = 0; i < nresults; i++)
        if (strncmp(results[i].workload, workload_prefix, n) == 0 &&
            strcmp(results[i].engine, engine) == 0)
            return &results[i];
    return NULL;
}

static const result *find_exact(const char *workload, const char *engine)
{
    for (int i = 0; i < nresults; i++)
        if (strcmp(results[i].workload, workload) == 0 && strcmp(results[i].engine, engine) == 0)
            return &results[i];
    return NULL;
}

/* Speed of `r` relative to `base` (base time / r's time), or 0. */
static double ratio_vs(const result *r, const result *base)
{
    if (!r || !base || r->nreps == 0 || base->nreps == 0 || r->median_s <= 0)
        return 0;
    return base->median_s / r->median_s;
}

/* Where the table goes, and whether as Markdown. */
static FILE *out_f;
static int out_md;

static void print_header(void)
{
    if (out_md) {
        fprintf(out_f, "| workload | engine | median s | min..max s | rate | x sqlite | note |\n");
        fprintf(out_f, "|---|---|---:|---:|---:|---:|---|\n");
    } else {
        fprintf(out_f, "%-30s %-6s %9s %17s %22s %8s  %s\n", "workload", "engine", "median s",
                "min..max s", "rate", "x sqlite", "note");
        fprintf(out_f, "%.*s\n", 124,
                "----------------------------------------------------------------"
                "--------------------------------------------------------");
    }
}

static void print_result(const result *r)
{
    char a[48], b[48], rate[64], ratio[16] = "", range[40];
    if (r->skipped) {
        fprintf(out_f, out_md ? "| %s | %s | skipped | | | | %s |\n" : "%-30s %-6s SKIPPED: %s\n",
                r->workload, r->engine, r->error);
        return;
    }
    if (r->is_memory) {
        if (r->failed) {
            fprintf(out_f, out_md ? "| %s | %s | FAILED | | | | %s |\n" : "%-30s %-6s FAILED: %s\n",
                    r->workload, r->engine, r->error);
            return;
        }
        fmt_count(a, sizeof a, (double)r->mem.allocs);
        fmt_count(b, sizeof b, (double)r->mem.window_rows);
        fprintf(out_f,
                out_md ? "| %s | %s | peak RSS %.1f MB | | %.4f allocs/row | | %s heap calls "
                         "in %s rows after warm-up; %s |\n"
                       : "%-30s %-6s peak RSS %7.1f MB   allocs/row %.4f  (%s heap calls in "
                         "%s rows after warm-up; %s)\n",
                r->workload, r->engine, (double)r->mem.rss_kb / 1024.0, r->mem.allocs_per_row, a, b,
                r->note);
        return;
    }
    if (r->failed && r->nreps == 0) {
        fprintf(out_f, out_md ? "| %s | %s | FAILED | | | | %s |\n" : "%-30s %-6s FAILED: %s\n",
                r->workload, r->engine, r->error);
        return;
    }
    const result *sq =
        strcmp(r->engine, "sqlite") ? find_exact(r->vs[0] ? r->vs : r->workload, "sqlite") : NULL;
    double x = ratio_vs(r, sq);
    if (x > 0)
        snprintf(ratio, sizeof ratio, "%.2fx", x);
    else if (!strcmp(r->engine, "sqlite"))
        snprintf(ratio, sizeof ratio, "1.00x");
    fmt_count(a, sizeof a, r->units / r->median_s);
    snprintf(rate, sizeof rate, "%s %s", a, r->unit);
    snprintf(range, sizeof range, "%.3f..%.3f", r->min_s, r->max_s);
    fprintf(out_f,
            out_md ? "| %s | %s | %.3f | %s | %s | %s | %s |\n"
                   : "%-30s %-6s %9.3f %17s %22s %8s  %s\n",
            r->workload, r->engine, r->median_s, range, rate, ratio,
            r->failed ? "FAILED, see below" : r->note);
    if (r->failed && out_md)
        fprintf(out_f, "| | | | | | | FAILED after %d timed run(s): %s |\n", r->nreps, r->error);
    else if (r->failed)
        fprintf(out_f, "%-37s ^ FAILED after %d timed run(s): %s\n", "", r->nreps, r->error);
}

static void goal_line(const char *goal, const result *f, const result *other, double want,
                      const char *what)
{
    double measured = ratio_vs(f, other);
    const char *verdict = measured >= want ? "met" : "NOT met";
    if (f && f->failed)
        verdict = "NOT met (folio failed, see above)";
    if (measured <= 0)
        fprintf(out_f, out_md ? "| %s | not measured | %s |\n" : "  %-40s not measured %s\n", goal,
                f && f->failed ? "(folio failed, see above)" : "");
    else
        fprintf(out_f, out_md ? "| %s | %.2fx %s | %s |\n" : "  %-40s %6.2fx %-10s %s\n", goal,
                measured, what, verdict);
}

/* A goal on time: `f` takes at most `most` times what `base` takes. */
static void time_goal(const char *goal, const result *f, const result *base, double most,
                      const char *what)
{
    double x = ratio_vs(f, base);
    if (x <= 0) {
        fprintf(out_f, out_md ? "| %s | not measured | %s |\n" : "  %-40s not measured %s\n", goal,
                f && f->failed ? "(folio failed, see above)" : "");
        return;
    }
    fprintf(out_f, out_md ? "| %s | %.2fx %s's time | %s |\n" : "  %-40s %6.2fx %s's time  %s\n",
            goal, 1 / x, what, 1 / x <= most ? "met" : "NOT met");
}

static void alloc_goal(const char *goal, const char *workload)
{
    const result *r = find_result(workload, "folio");
    if (!r || r->failed)
        fprintf(out_f, out_md ? "| %s | not measured | |\n" : "  %-40s not measured\n", goal);
    else
        fprintf(out_f, out_md ? "| %s | %.4f allocs/row | %s |\n" : "  %-40s %.4f allocs/row  %s\n",
                goal, r->mem.allocs_per_row, r->mem.allocs == 0 ? "met" : "NOT met");
}

static void sync_goal(const char *goal, const char *workload, double most)
{
    const result *r = find_exact(workload, "folio");
    if (!r || r->failed || r->nreps == 0)
        fprintf(out_f, out_md ? "| %s | not measured | |\n" : "  %-40s not measured\n", goal);
    else
        fprintf(out_f,
                out_md ? "| %s | %.3f fsyncs/commit | %s |\n" : "  %-40s %.3f fsyncs/commit  %s\n",
                goal, r->syncs_per_unit, r->syncs_per_unit <= most ? "met" : "NOT met");
}

/* Whether the concurrent one-row inserts of the threads workload had no
 * conflict at either sync level. */
static void conflict_goal(const char *goal, const char *full, const char *normal)
{
    const result *f = find_exact(full, "folio"), *n = find_exact(normal, "folio");
    if (!f || !n || !f->has_stats || !n->has_stats)
        fprintf(out_f, out_md ? "| %s | not measured | |\n" : "  %-40s not measured\n", goal);
    else
        fprintf(out_f,
                out_md ? "| %s | %llu and %llu conflicts | %s |\n"
                       : "  %-40s %llu and %llu conflicts  %s\n",
                goal, (unsigned long long)f->st.retries, (unsigned long long)n->st.retries,
                f->st.retries == 0 && n->st.retries == 0 ? "met" : "NOT met");
}

/* How often the rmw workload's transactions had to run again (no goal). */
static void retry_line(const char *what, const char *workload, const char *engine,
                       const char *cause)
{
    const result *r = find_exact(workload, engine);
    if (!r || !r->has_stats || r->nreps == 0)
        return;
    char figures[160];
    double commits = r->units * r->nreps;
    snprintf(figures, sizeof figures,
             "%llu %s retried (%.3f%% of %.0f commits; %llu txns, at most %d run(s))",
             (unsigned long long)r->st.retries, cause, 100.0 * (double)r->st.retries / commits,
             commits, (unsigned long long)r->st.retried, r->st.max_attempts);
    fprintf(out_f, out_md ? "| %s | %s | |\n" : "  %-40s %s\n", what, figures);
}

/* The log workload's goals (issue 14): with the commit log on, at most
 * 1.30x the time with it off, and the log's segments at least 2x smaller
 * than the pages its records describe. */
static void log_goals(void)
{
    for (int i = 0; i < nresults; i++) {
        const result *r = &results[i];
        if (!r->has_log)
            continue;
        const result *off = find_exact(r->vs, "folio");
        char goal[96];
        snprintf(goal, sizeof goal, "%.40s <= 1.30x off, log >= 2x smaller", r->workload);
        if (r->failed || r->nreps == 0 || !off || off->failed || off->nreps == 0 ||
            r->log_bytes == 0 || off->median_s <= 0) {
            fprintf(out_f, out_md ? "| %s | not measured | %s |\n" : "  %-40s not measured %s\n",
                    goal, r->failed ? "(folio failed, see above)" : "");
            continue;
        }
        double t = r->median_s / off->median_s, x = (double)r->page_bytes / (double)r->log_bytes;
        const char *verdict = t <= 1.30 && x >= 2 ? "met"
                              : t > 1.30 && x < 2 ? "NOT met (time, size)"
                              : t > 1.30          ? "NOT met (time)"
                                                  : "NOT met (size)";
        fprintf(out_f,
                out_md ? "| %s | %.2fx the time, %.2fx smaller | %s |\n"
                       : "  %-40s %.2fx the time, %.2fx smaller  %s\n",
                goal, t, x, verdict);
    }
}

/* folio's checkpoints per commit in the threads and rmw rows (no goal): a
 * checkpoint a snapshot stops short copies only part of the log, so the
 * log stays past its threshold and the next commit starts another. */
static void checkpoint_lines(void)
{
    for (int i = 0; i < nresults; i++) {
        const result *r = &results[i];
        if (!r->has_stats || r->nreps == 0 || strcmp(r->engine, "folio") != 0)
            continue;
        char what[64], figures[128];
        double commits = r->units * r->nreps;
        snprintf(what, sizeof what, "%.47s: checkpoints", r->workload);
        snprintf(figures, sizeof figures, "%.3f a commit, %.3f stopped short (%llu, %llu)",
                 (double)r->st.checkpoints / commits, (double)r->st.checkpoints_short / commits,
                 (unsigned long long)r->st.checkpoints,
                 (unsigned long long)r->st.checkpoints_short);
        fprintf(out_f, out_md ? "| %s | %s | |\n" : "  %-40s %s\n", what, figures);
    }
}

static void print_goals(void)
{
    fprintf(out_f, "\nGoals (folio median against the other engine's median):\n");
    if (out_md)
        fprintf(out_f, "\n| goal | measured | |\n|---|---:|---|\n");
    const result *f = find_exact("bulk", "folio"), *s = find_exact("bulk", "sqlite");
    goal_line("bulk insert >= 5x SQLite", f, s, 5, "SQLite");
    goal_line("bulk + index >= 3x SQLite", find_exact("bulk_index: total", "folio"),
              find_exact("bulk_index: total", "sqlite"), 3, "SQLite");
    goal_line("random inserts >= 1.5x SQLite", find_result("random_insert", "folio"),
              find_result("random_insert", "sqlite"), 1.5, "SQLite");
    goal_line("batch inserts (1000/txn) >= 1.5x SQLite", find_result("batch_insert", "folio"),
              find_result("batch_insert", "sqlite"), 1.5, "SQLite");
    goal_line("autocommit NORMAL >= 1.5x SQLite", find_exact("autocommit NORMAL", "folio"),
              find_exact("autocommit NORMAL", "sqlite"), 1.5, "SQLite");
    f = find_exact("reads: lookup", "folio");
    goal_line("point lookups >= 2x SQLite", f, find_exact("reads: lookup", "sqlite"), 2, "SQLite");
    goal_line("point lookups >= 0.7x LMDB", f, find_exact("reads: lookup", "lmdb"), 0.7, "LMDB");
    goal_line("full scan >= 2x SQLite", find_exact("reads: full scan", "folio"),
              find_exact("reads: full scan", "sqlite"), 2, "SQLite");
    goal_line("filtered scan (age > 50) >= 2x SQLite", find_exact("filter: age > 50", "folio"),
              find_exact("filter: age > 50", "sqlite"), 2, "SQLite");
    goal_line("filtered scan (LIKE '12%') >= 2x SQLite",
              find_exact("filter: area LIKE '12%'", "folio"),
              find_exact("filter: area LIKE '12%'", "sqlite"), 2, "SQLite");
    goal_line("folio import CSV >= 5x sqlite3 .import", find_exact(IMPORT_NAME, "folio"),
              find_exact(IMPORT_NAME, "sqlite"), 5, "sqlite3");
    goal_line("schema insert >= 1.5x SQLite", find_exact(SCHEMA_CONSTRAINED, "folio"),
              find_exact(SCHEMA_CONSTRAINED, "sqlite"), 1.5, "SQLite");
    goal_line("schema insert within 1.3x of plain", find_exact(SCHEMA_CONSTRAINED, "folio"),
              find_exact(SCHEMA_PLAIN, "folio"), 1 / 1.3, "plain");
    goal_line("fk insert >= 1.5x SQLite", find_exact(FK_NAME, "folio"),
              find_exact(FK_NAME, "sqlite"), 1.5, "SQLite");
    goal_line("AFTER INSERT trigger + audit row >= 1.5x SQLite", find_exact(TRIGGER_NAME, "folio"),
              find_exact(TRIGGER_NAME, "sqlite"), 1.5, "SQLite");
    char th_full[64], th_goal[96], th_sync[96];
    snprintf(th_full, sizeof th_full, "threads x%d FULL", cfg.threads);
    snprintf(th_goal, sizeof th_goal, "%d threads, 1-row txns, FULL >= 5x SQLite", cfg.threads);
    snprintf(th_sync, sizeof th_sync, "%d threads FULL: <= 0.25 fsyncs/commit", cfg.threads);
    goal_line(th_goal, find_exact(th_full, "folio"), find_exact(th_full, "sqlite"), 5, "SQLite");
    sync_goal(th_sync, th_full, 0.25);
    char th_cfull[80], th_cnormal[80], th_cgoal[96], th_csync[96], th_conf[96];
    snprintf(th_cfull, sizeof th_cfull, "%s concurrent", th_full);
    snprintf(th_cnormal, sizeof th_cnormal, "threads x%d NORMAL concurrent", cfg.threads);
    snprintf(th_cgoal, sizeof th_cgoal, "%d threads, 1-row txns, FULL concurrent >= 5x SQLite",
             cfg.threads);
    snprintf(th_csync, sizeof th_csync, "%d threads FULL concurrent: <= 0.25 fsyncs/commit",
             cfg.threads);
    snprintf(th_conf, sizeof th_conf, "%d threads concurrent 1-row inserts: no conflict",
             cfg.threads);
    goal_line(th_cgoal, find_exact(th_cfull, "folio"), find_exact(th_full, "sqlite"), 5, "SQLite");
    sync_goal(th_csync, th_cfull, 0.25);
    conflict_goal(th_conf, th_cfull, th_cnormal);
    char rmw[32], rmw_goal[96];
    snprintf(rmw, sizeof rmw, "rmw x%d NORMAL", cfg.threads);
    snprintf(rmw_goal, sizeof rmw_goal, "%s, FOLIO_TXN_CONCURRENT >= 2x SQLite", rmw);
    goal_line(rmw_goal, find_exact(rmw, "folio"), find_exact(rmw, "sqlite"), 2, "SQLite");
    retry_line("rmw: folio concurrent", rmw, "folio", "conflicts");
    retry_line("rmw: sqlite", rmw, "sqlite", "SQLITE_BUSY");
    checkpoint_lines();
    char bk[64], bkv[64];
    backup_names(bk, sizeof bk, bkv, sizeof bkv);
    time_goal("folio backup within 1.5x of cp's time", find_exact(bk, "folio"),
              find_exact(bk, "cp"), 1.5, "cp");
    time_goal("folio backup: time against cp + fsync", find_exact(bk, "folio"),
              find_exact(bk, "cp+sync"), 1.5, "cp + fsync");
    char rs[64];
    restore_name(rs, sizeof rs);
    time_goal("folio restore within 3x of cp's time", find_exact(rs, "folio"), find_exact(rs, "cp"),
              3, "cp");
    time_goal("folio restore: time against cp + fsync", find_exact(rs, "folio"),
              find_exact(rs, "cp+sync"), 3, "cp + fsync");
    log_goals();
    alloc_goal("zero heap allocations per row: insert", "memory: insert");
    alloc_goal("zero heap allocations per row: lookup", "memory: lookup");
    alloc_goal("zero heap allocations per row: scan", "memory: scan");
}

/* ---- running workloads in children ---- */

typedef struct workload {
    const char *name;
    void (*run)(void);
} workload;

static void run_bulk(void)
{
    wl_bulk(0);
}
static void run_bulk_index(void)
{
    wl_bulk(1);
}

static const workload workloads[] = {
    {"bulk", run_bulk},
    {"bulk_index", run_bulk_index},
    {"import", wl_import},
    {"random_insert", wl_random_insert},
    {"batch_insert", wl_batch_insert},
    {"autocommit", wl_autocommit},
    {"threads", wl_threads},
    {"rmw", wl_rmw},
    {"log", wl_log},
    {"schema", wl_schema},
    {"fk", wl_fk},
    {"trigger", wl_trigger},
    {"vacuum", wl_vacuum},
    {"backup", wl_backup},
    {"restore", wl_restore},
    {"struct", wl_struct},
    {"reads", wl_reads},
    {"filter", wl_filter},
    {"mixed", wl_mixed},
    {"memory", wl_memory},
};
#define NWORKLOADS ((int)(sizeof workloads / sizeof workloads[0]))

static int selected(const char *name)
{
    if (!cfg.only)
        return 1;
    size_t n = strlen(name);
    for (const char *p = cfg.only; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p += len + (end ? 1 : 0);
    }
    return 0;
}

/* Run one workload in a child; collect and print its results. Returns 0,
 * or 1 when it failed, crashed or a check failed. */
static int run_workload(const workload *w)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("folio_bench: pipe");
        return 1;
    }
    fflush(NULL);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        perror("folio_bench: fork");
        return 1;
    }
    if (pid == 0) {
        close(fds[0]);
        result_fd = fds[1];
        w->run();
        close(result_fd);
        fflush(NULL);
        _exit(child_exit);
    }
    close(fds[1]);
    int first = nresults, bad = 0;
    result r;
    for (;;) {
        size_t got = 0;
        while (got < sizeof r) {
            ssize_t n = read(fds[0], (char *)&r + got, sizeof r - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        if (got < sizeof r)
            break;
        if (nresults < MAX_RESULTS)
            results[nresults++] = r;
    }
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    for (int i = first; i < nresults; i++) {
        print_result(&results[i]);
        bad |= results[i].failed;
    }
    result fail;
    memset(&fail, 0, sizeof fail);
    fail.failed = 1;
    snprintf(fail.workload, sizeof fail.workload, "%s", w->name);
    snprintf(fail.engine, sizeof fail.engine, "-");
    if (WIFSIGNALED(status))
        snprintf(fail.error, sizeof fail.error,
                 "CRASHED: the workload process died with signal %d (%s); see stderr for the "
                 "last step",
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (WEXITSTATUS(status) != 0)
        snprintf(fail.error, sizeof fail.error,
                 "CHECK FAILED (exit %d): see the messages marked *** on stderr",
                 WEXITSTATUS(status));
    if (fail.error[0]) {
        if (nresults < MAX_RESULTS)
            results[nresults++] = fail;
        print_result(&fail);
        bad = 1;
    }
    fflush(stdout);
    fprintf(stderr, "[%s] done in %.1f s\n", w->name, now_s() - t0);
    return bad;
}

/* ---- command line ---- */

static void usage(FILE *f)
{
    fprintf(f, "usage: folio_bench [options]\n"
               "  --only LIST       workloads to run, comma-separated (default all):\n"
               "                    bulk,bulk_index,import,random_insert,batch_insert,\n"
               "                    autocommit,threads,rmw,log,schema,fk,trigger,vacuum,\n"
               "                    backup,restore,struct,reads,filter,mixed,memory\n"
               "  --rows N          rows of the bulk loads, base tables, reads file, import\n"
               "                    CSV and batch_insert (default 10000000; suffixes k, M\n"
               "                    accepted)\n"
               "  --reps N          repetitions per engine (default 3)\n"
               "  --dir PATH        where to put the files (default /tmp); a fresh\n"
               "                    folio_bench.XXXXXX directory is made there and removed\n"
               "  --quick           small sizes for a smoke run\n"
               "  --threads N       threads and rmw: writer threads (default 8)\n"
               "                    threads: 8,000 one-row insert transactions in all, at\n"
               "                    sync FULL then NORMAL; rows \"threads xN FULL\" and\n"
               "                    \"... NORMAL\": folio FOLIO_TXN_WRITE and SQLite (a\n"
               "                    connection each, BEGIN IMMEDIATE); \"... concurrent\":\n"
               "                    folio FOLIO_TXN_CONCURRENT, run again on FOLIO_CONFLICT\n"
               "                    (conflicts counted), x sqlite against the same SQLite\n"
               "                    row\n"
               "                    rmw: each transaction reads a random row of a 1,000-row\n"
               "                    table, writes n+1 back and inserts a row into a second\n"
               "                    table (sync NORMAL); row \"rmw xN NORMAL\": folio\n"
               "                    FOLIO_TXN_CONCURRENT (run again on FOLIO_CONFLICT) and\n"
               "                    SQLite (BEGIN IMMEDIATE, run again on SQLITE_BUSY);\n"
               "                    \"rmw xN NORMAL plain\": folio FOLIO_TXN_WRITE. Both files\n"
               "                    are checked for lost or doubled updates\n"
               "  --rmw-txns N      rmw: transactions committed in all (default 20000)\n"
               "  --backup-mb N     backup: size of the file copied, in MB (default 256;\n"
               "                    16 with --quick; the issue's figure is 1024). Rows\n"
               "                    \"backup N MB\": folio backup (the CLI), cp, cp + fsync,\n"
               "                    the sqlite3 shell's .backup and VACUUM INTO\n"
               "                    restore: a file of that size with its commit log on\n"
               "                    and 10,000 single-row commits after the base; rows\n"
               "                    \"restore N MB\": folio restore to the last version\n"
               "                    (quick and --check full), cp and cp + fsync of the file\n"
               "                    log: folio's commit log off, on with zstd, on with lz4\n"
               "                    (rows \"... zstd\", \"... lz4\"), and SQLite: --rows/10\n"
               "                    rows (at least 100,000) in transactions of 1,000, then\n"
               "                    the autocommit counts of one-row inserts and of one-row\n"
               "                    updates of a 100,000-row table, sync NORMAL and FULL;\n"
               "                    the log's segments against the pages they describe\n"
               "  --lookups N       reads: rowid lookups (default 1000000)\n"
               "  --mem-rows N      memory: rows inserted (default: --rows)\n"
               "  --mem-warm N      memory: rows before the 100,000-row counting window\n"
               "                    (default 100000)\n"
               "  --sqlite-mmap MB  reads: SQLite mmap_size in MB (default 2048; 0 = off)\n"
               "  --folio-cache MB  reads: folio's cache budget in MiB (default 0: 64 MiB)\n"
               "  --folio-mmap MB   reads: folio's mmap_bytes in MiB (default: folio's own\n"
               "                    default, FOLIO_MMAP_DEFAULT; 0: no map)\n"
               "  --folio-bin PATH  import: the folio CLI (default: ../folio, else\n"
               "                    ../cli/folio, from this program's directory; the\n"
               "                    folio side is skipped if there is none)\n"
               "  --sqlite3-bin PATH\n"
               "                    import: the sqlite3 shell (default: sqlite3 in PATH;\n"
               "                    the sqlite side is skipped if there is none)\n"
               "  --markdown        print the table as Markdown\n"
               "  --md-out FILE     also write the table and goals as Markdown to FILE\n"
               "  --keep            keep the files\n");
}

/* An executable regular file, as an absolute path when it can be resolved. */
static int usable_program(const char *path, char *out, size_t cap)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, X_OK) != 0)
        return 0;
    char *abs = realpath(path, NULL);
    const char *use = abs ? abs : path;
    size_t len = strlen(use);
    if (len < cap)
        memcpy(out, use, len + 1);
    free(abs);
    return len < cap;
}

/* The import workload's programs: the folio CLI (--folio-bin, else the
 * build's `folio` beside this program's directory: build/folio for
 * build/bench/folio_bench, or a cli/ subdirectory) and the sqlite3 shell
 * (--sqlite3-bin, else PATH). A program named on the command line must
 * exist; a missing default only skips that engine. */
static void find_programs(const char *folio_bin, const char *sqlite3_bin)
{
    if (folio_bin) {
        if (!usable_program(folio_bin, cfg.folio_bin, sizeof cfg.folio_bin)) {
            fprintf(stderr, "folio_bench: --folio-bin %s: not an executable file\n", folio_bin);
            exit(2);
        }
    } else {
        char self[BENCH_PATH_LEN] = "", cand[BENCH_PATH_LEN + 16];
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        if (len > 0) {
            self[len] = 0;
            char *slash = strrchr(self, '/');
            if (slash)
                *slash = 0;
        }
        static const char *const rel[] = {"../folio", "../cli/folio"};
        for (size_t i = 0; len > 0 && i < sizeof rel / sizeof rel[0] && !cfg.folio_bin[0]; i++) {
            snprintf(cand, sizeof cand, "%s/%s", self, rel[i]);
            usable_program(cand, cfg.folio_bin, sizeof cfg.folio_bin);
        }
        if (!cfg.folio_bin[0])
            snprintf(cfg.folio_missing, sizeof cfg.folio_missing,
                     "no folio CLI at %.400s/../folio or ../cli/folio (build the `folio` target, "
                     "or pass --folio-bin PATH)",
                     len > 0 ? self : "(this program's directory)");
    }
    char found[BENCH_PATH_LEN];
    if (find_executable(sqlite3_bin ? sqlite3_bin : "sqlite3", found, sizeof found) == 0 &&
        usable_program(found, cfg.sqlite3_bin, sizeof cfg.sqlite3_bin))
        return;
    cfg.sqlite3_bin[0] = 0;
    if (sqlite3_bin) {
        fprintf(stderr, "folio_bench: --sqlite3-bin %s: not an executable file\n", sqlite3_bin);
        exit(2);
    }
    snprintf(cfg.sqlite3_missing, sizeof cfg.sqlite3_missing,
             "no sqlite3 shell in PATH (install the sqlite3 package, or pass --sqlite3-bin PATH)");
}

static int64_t parse_count(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (*end == 'k' || *end == 'K')
        v *= 1e3, end++;
    else if (*end == 'm' || *end == 'M')
        v *= 1e6, end++;
    else if (*end == 'g' || *end == 'G')
        v *= 1e9, end++;
    if (end == s || *end || v < 1 || v > 9e15) {
        fprintf(stderr, "folio_bench: bad number: %s\n", s);
        exit(2);
    }
    return (int64_t)v;
}

static void parse_args(int argc, char **argv)
{
    int64_t rows = 0, lookups = 0, mem_rows = 0, mem_warm = 0, reps = 0, threads = 8;
    int64_t rmw_txns = 0, backup_mb = 0;
    const char *dir = "/tmp", *folio_bin = NULL, *sqlite3_bin = NULL;
    cfg.sqlite_mmap_mb = 2048;
    cfg.folio_mmap_mb = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--quick")) {
            cfg.quick = 1;
        } else if (!strcmp(a, "--keep")) {
            cfg.keep = 1;
        } else if (!strcmp(a, "--markdown")) {
            cfg.markdown = 1;
        } else if (!strcmp(a, "--md-out") && has_val) {
            cfg.md_path = argv[++i];
        } else if (!strcmp(a, "--only") && has_val) {
            cfg.only = argv[++i];
        } else if (!strcmp(a, "--rows") && has_val) {
            rows = parse_count(argv[++i]);
        } else if (!strcmp(a, "--reps") && has_val) {
            reps = parse_count(argv[++i]);
        } else if (!strcmp(a, "--threads") && has_val) {
            threads = parse_count(argv[++i]);
            if (threads < 1 || threads > BENCH_MAX_THREADS) {
                fprintf(stderr, "folio_bench: --threads must be 1..%d\n", BENCH_MAX_THREADS);
                exit(2);
            }
        } else if (!strcmp(a, "--rmw-txns") && has_val) {
            rmw_txns = parse_count(argv[++i]);
            if (rmw_txns > 100000000) {
                fprintf(stderr, "folio_bench: --rmw-txns must be at most 100M\n");
                exit(2);
            }
        } else if (!strcmp(a, "--backup-mb") && has_val) {
            backup_mb = parse_count(argv[++i]);
        } else if (!strcmp(a, "--lookups") && has_val) {
            lookups = parse_count(argv[++i]);
        } else if (!strcmp(a, "--mem-rows") && has_val) {
            mem_rows = parse_count(argv[++i]);
        } else if (!strcmp(a, "--mem-warm") && has_val) {
            mem_warm = parse_count(argv[++i]);
        } else if (!strcmp(a, "--dir") && has_val) {
            dir = argv[++i];
        } else if (!strcmp(a, "--folio-bin") && has_val) {
            folio_bin = argv[++i];
        } else if (!strcmp(a, "--sqlite3-bin") && has_val) {
            sqlite3_bin = argv[++i];
        } else if (!strcmp(a, "--folio-cache") && has_val) {
            const char *v = argv[++i];
            cfg.folio_cache_mb = strcmp(v, "0") == 0 ? 0 : (long)parse_count(v);
        } else if (!strcmp(a, "--folio-mmap") && has_val) {
            const char *v = argv[++i];
            cfg.folio_mmap_mb = strcmp(v, "0") == 0 ? 0 : (long)parse_count(v);
        } else if (!strcmp(a, "--sqlite-mmap") && has_val) {
            const char *v = argv[++i];
            cfg.sqlite_mmap_mb = strcmp(v, "0") == 0 ? 0 : (long)parse_count(v);
        } else {
            fprintf(stderr, "folio_bench: unknown or incomplete option: %s\n", a);
            usage(stderr);
            exit(2);
        }
    }
    if (cfg.only) {
        for (const char *p = cfg.only; *p;) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            int known = 0;
            for (int w = 0; w < NWORKLOADS; w++)
                if (strlen(workloads[w].name) == len && !strncmp(p, workloads[w].name, len))
                    known = 1;
            if (!known) {
                fprintf(stderr, "folio_bench: unknown workload in --only: %.*s\n", (int)len, p);
                exit(2);
            }
            p += len + (end ? 1 : 0);
        }
    }
    /* Defaults, then the quick sizes, then what was asked for. */
    cfg.reps = 3;
    cfg.rows = 10000000;
    cfg.lookups = 1000000;
    cfg.seeks = 200000;
    cfg.ranges = 20000;
    cfg.range_len = 100;
    cfg.ri_txns = 100;
    cfg.ri_per_txn = 1000;
    cfg.ac_normal = 20000;
    cfg.ac_full = 2000;
    cfg.threads = (int)threads;
    cfg.th_txns = 8000;
    cfg.rm_txns = 20000;
    cfg.mx_txns = 1000;
    cfg.mx_per_txn = 100;
    cfg.mem_warm = 100000;
    cfg.mem_window = 100000;
    cfg.backup_mb = 256;
    if (cfg.quick) {
        cfg.backup_mb = 16;
        cfg.rows = 100000;
        cfg.lookups = 100000;
        cfg.seeks = 20000;
        cfg.ranges = 2000;
        cfg.ri_txns = 20;
        cfg.ac_normal = 2000;
        cfg.ac_full = 200;
        cfg.th_txns = 800;
        cfg.rm_txns = 2000;
        cfg.mx_txns = 100;
    }
    if (rows)
        cfg.rows = rows;
    if (lookups)
        cfg.lookups = lookups;
    if (rmw_txns)
        cfg.rm_txns = (int)rmw_txns;
    if (backup_mb)
        cfg.backup_mb = backup_mb;
    if (reps)
        cfg.reps = (int)(reps > MAX_REPS ? MAX_REPS : reps);
    if (mem_warm)
        cfg.mem_warm = mem_warm;
    cfg.mem_rows = mem_rows ? mem_rows : cfg.rows;
    if (cfg.mem_rows < cfg.mem_warm + cfg.mem_window)
        cfg.mem_rows = cfg.mem_warm + cfg.mem_window;
    if (cfg.rows < 1000) {
        fprintf(stderr, "folio_bench: --rows must be at least 1000\n");
        exit(2);
    }
    find_programs(folio_bin, sqlite3_bin);
    snprintf(cfg.dir, sizeof cfg.dir, "%s/folio_bench.XXXXXX", dir);
    if (!mkdtemp(cfg.dir)) {
        fprintf(stderr, "folio_bench: cannot create a directory under %s: %s\n", dir,
                strerror(errno));
        exit(2);
    }
}

static void remove_dir(void)
{
    static const char *const names[] = {
        "base_folio.db",    "base_sqlite.db",   "base_lmdb.mdb",     "reads_sqlite.db",
        "reads_lmdb.mdb",   "bulk_folio.db",    "bulk_sqlite.db",    "ac_folio.db",
        "ac_sqlite.db",     "mem_folio.db",     "mem_sqlite.db",     "ri_folio.db",
        "ri_sqlite.db",     "ri_lmdb.mdb",      "mixed_folio.db",    "mixed_sqlite.db",
        "mixed_lmdb.mdb",   "import.csv",       "import_sqlite.sql", "import_folio.db",
        "import_sqlite.db", "import_folio.log", "import_sqlite.log", "batch_folio.db",
        "batch_sqlite.db",  "batch_lmdb.mdb",   "filter_sqlite.db",  "th_folio.db",
        "th_sqlite.db",     "rmw_folio.db",     "rmw_sqlite.db",     "bk_source.db",
        "bk_copy.db",       "bk_copy.log",      "rs_source.db",      "rs_copy.db",
        "rs_copy.log",      "log_folio.db",     "log_sqlite.db",     "log_restored.db"};
    char path[BENCH_PATH_LEN], tmp[BENCH_PATH_LEN + 8];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        path_of(path, sizeof path, names[i]);
        remove_db(path);
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        remove_db(tmp);
        remove_log_dir(path);
    }
    if (rmdir(cfg.dir) != 0)
        fprintf(stderr, "folio_bench: %s not removed: %s\n", cfg.dir, strerror(errno));
}

static void print_config(void)
{
    char rows[32];
    fmt_count(rows, sizeof rows, (double)cfg.rows);
    printf("folio_bench: folio (static) vs SQLite %s and LMDB %d.%d.%d, %d repetitions per "
           "engine, median reported\n",
           sqlite3_libversion(), MDB_VERSION_MAJOR, MDB_VERSION_MINOR, MDB_VERSION_PATCH, cfg.reps);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    double load[3] = {0, 0, 0};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = -1;
        fclose(f);
    }
    printf("machine: %ld CPUs, load average %.2f at start; files in %s\n", ncpu, load[0], cfg.dir);
    printf("rows: %s (bulk, base tables, reads file, import, batch_insert); lookups %lld, "
           "seeks %lld, ranges %lldx%d; autocommit %d/%d txns; threads %d x %d txns; rmw %d x %d "
           "txns; mixed %dx%d ops; memory %lld rows\n",
           rows, (long long)cfg.lookups, (long long)cfg.seeks, (long long)cfg.ranges, cfg.range_len,
           cfg.ac_normal, cfg.ac_full, cfg.threads, cfg.th_txns, cfg.threads, cfg.rm_txns,
           cfg.mx_txns, cfg.mx_per_txn, (long long)cfg.mem_rows);
    printf("folio: default options (64 MiB cache, 4096-byte pages), FOLIO_SYNC_NORMAL; bulk loads "
           "use FOLIO_SYNC_OFF (SQLite: synchronous=OFF)\n");
    if (selected("import"))
        printf("import: %s rows of CSV; folio CLI %s; sqlite3 shell %s\n", rows,
               cfg.folio_bin[0] ? cfg.folio_bin : "MISSING (skipped)",
               cfg.sqlite3_bin[0] ? cfg.sqlite3_bin : "MISSING (skipped)");
    printf("x sqlite = SQLite median time / this engine's median time (higher is faster)\n\n");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--child") == 0)
        return child_main(argc, argv);
    self_exe = "/proc/self/exe";
    setvbuf(stdout, NULL, _IOLBF, 0);
    parse_args(argc, argv);
    print_config();
    out_f = stdout;
    out_md = cfg.markdown;
    print_header();
    int bad = 0;
    for (int w = 0; w < NWORKLOADS; w++)
        if (selected(workloads[w].name))
            bad |= run_workload(&workloads[w]);
    if (out_md)
        printf("\n");
    print_goals();
    if (cfg.md_path) {
        out_f = fopen(cfg.md_path, "w");
        if (!out_f) {
            fprintf(stderr, "folio_bench: %s: %s\n", cfg.md_path, strerror(errno));
            bad = 1;
        } else {
            out_md = 1;
            print_header();
            for (int i = 0; i < nresults; i++)
                print_result(&results[i]);
            fprintf(out_f, "\n");
            print_goals();
            fclose(out_f);
        }
        out_f = stdout;
    }
    if (!cfg.keep)
        remove_dir();
    else
        printf("\nfiles kept in %s\n", cfg.dir);
    if (bad)
        printf("\nSOME WORKLOADS FAILED: see the FAILED / CRASHED lines above and stderr\n");
    return bad ? 1 : 0;
}
