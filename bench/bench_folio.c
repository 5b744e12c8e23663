/*
 * bench_folio.c - the workloads on folio, through its public API only.
 *
 * folio runs with default options (64 MiB page cache, 4096-byte pages,
 * autocheckpoint 1000 frames) and FOLIO_SYNC_NORMAL, except the bulk loads,
 * which use FOLIO_SYNC_OFF to match SQLite's synchronous=OFF.
 */
#include "bench.h"

#include <folio.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Describe a failed call precisely (code, name, folio's message, the row)
 * and jump to the function's cleanup label. */
#define FO_TRY(call, at)                                                                           \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ < 0) {                                                                             \
            fo_report(db, __func__, #call, rc_, (at));                                             \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

static void fo_report(folio_db *db, const char *where, const char *call, int rc, long long at)
{
    char row[48] = "";
    if (at >= 0)
        snprintf(row, sizeof row, " (row id %lld)", at);
    bench_fail("folio %s: %s%s returned %d %s: %s", where, call, row, rc, folio_strerror(rc),
               db ? folio_errmsg(db) : folio_open_errmsg());
}

static int fo_open(folio_db **out, const char *path, int sync, int readonly)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.sync = sync;
    if (readonly)
        o.flags = FOLIO_OPEN_READONLY;
    folio_db *db = NULL;
    FO_TRY(folio_open(out, path, &o), -1);
    return 0;
fail:
    return -1;
}

static void fo_abandon(folio_db *db, folio_txn *txn)
{
    if (txn)
        folio_rollback(txn);
    if (db)
        folio_close(db);
}

/* The values of a row, pointing into `r`. */
static void fo_values(folio_value v[4], const bench_row *r)
{
    v[0].type = FOLIO_INTEGER;
    v[0].u.i = r->id;
    v[1].type = FOLIO_TEXT;
    v[1].u.s.p = r->area;
    v[1].u.s.n = AREA_LEN;
    v[2].type = FOLIO_INTEGER;
    v[2].u.i = r->age;
    v[3].type = FOLIO_INTEGER;
    v[3].u.i = r->active;
}

int fo_bulk(const char *path, int64_t n, int64_t step, int with_index, bulk_result *out)
{
    folio_db *db = NULL;
    folio_txn *txn = NULL;
    folio_table *t;
    folio_value v[4];
    bench_row r;
    int64_t id = -1;
    memset(out, 0, sizeof *out);
    double t0 = now_s();
    if (fo_open(&db, path, FOLIO_SYNC_OFF, 0) < 0)
        return -1;
    FO_TRY(folio_begin(&txn, db, FOLIO_TXN_WRITE), -1);
    FO_TRY(folio_exec(txn, USER_DDL), -1);
    FO_TRY(folio_table_open(&t, txn, "user"), -1);
    for (int64_t i = 1; i <= n; i++) {
        id = i * step;
        gen_row(&r, id);
        fo_values(v, &r);
        FO_TRY(folio_insert(NULL, t, v, 4), id);
    }
    id = -1;
    folio_txn *done = txn;
    txn = NULL;
    FO_TRY(folio_commit(done), -1);
    double t1 = now_s();
    out->load_s = t1 - t0;
    if (with_index) {
        FO_TRY(folio_begin(&txn, db, FOLIO_TXN_WRITE), -1);
        FO_TRY(folio_exec(txn, USER_INDEX_DDL), -1);
        done = txn;
        txn = NULL;
        FO_TRY(folio_commit(done), -1);
        out->index_s = now_s() - t1;
    }
    folio_db *closing = db;
    db = NULL;
    FO_TRY(folio_close(closing), -1);
    out->total_s = now_s() - t0;
    out->file_bytes = file_bytes(path);
    return 0;
fail:
    fo_abandon(db, txn);
    return -1;
}

int fo_random_insert(const char *path, const int64_t *ids, int ntxn, int per_txn, double *secs)
{
    folio_db *db = NULL;
    folio_txn *txn = NULL;
    folio_table *t;
    folio_value v[4];
    bench_row r;
    if (fo_open(&db, path, FOLIO_SYNC_NORMAL, 0) < 0)
        return -1;
    double t0 = now_s();
    for (int k = 0; k < ntxn; k++) {
        FO_TRY(folio_begin(&txn, db, FOLIO_TXN_WRITE), -1);
        FO_TRY(folio_table_open(&t, txn, "user"), -1);
        for (int j = 0; j < per_txn; j++) {
            gen_row(&r, ids[(size_t)k * (size_t)per_txn + (size_t)j]);
            fo_values(v, &r);
            FO_TRY(folio_insert(NULL, t, v, 4), r.id);
        }
        folio_txn *done = txn;
        txn = NULL;
        FO_TRY(folio_commit(done), -1);
    }
    *secs = now_s() - t0;
    folio_db *closing = db;
    db = NULL;
    FO_TRY(folio_close(closing), -1);
    return 0;
fail:
    fo_abandon(db, txn);
    return -1;
}

/* How fo_insert_txns writes: foreign keys on (with the parent rows of the
 * fk workload's DDL), or rows through a struct codec. */
enum { FO_ROWS_FK = 1, FO_ROWS_STRUCT = 2 };

/* The struct of the struct workload: narrower members than the value array,
 * as an application would declare them, so the codec converts. */
typedef struct fo_user {
    int64_t id;
    int32_t age;
    bool active;
    char area[AREA_LEN + 1];
} fo_user;

static const folio_field fo_user_fields[] = {
    FOLIO_FIELD(fo_user, id, "id", FOLIO_F_I64),
    FOLIO_FIELD(fo_user, area, "area", FOLIO_F_CHARS),
    FOLIO_FIELD(fo_user, age, "age", FOLIO_F_I32),
    FOLIO_FIELD(fo_user, active, "active", FOLIO_F_BOOL),
};
#define FO_USER_NFIELDS ((int)(sizeof fo_user_fields / sizeof fo_user_fields[0]))

/* Insert gen_row(id) through the codec. */
static int fo_insert_struct_row(folio_codec *codec, fo_user *u, int64_t id)
{
    bench_row r;
    gen_row(&r, id);
    u->id = r.id;
    memcpy(u->area, r.area, AREA_LEN);
    u->area[AREA_LEN] = 0;
    u->age = (int32_t)r.age;
    u->active = r.active != 0;
    return folio_insert_struct(NULL, codec, u);
}

/* The commit log of the log workload: turned on (unless `log` is
 * FO_LOG_OFF) and the WAL's frame count taken, before the clock starts. */
static int fo_log_start(folio_db *db, int log, uint64_t *frames0)
{
    folio_metrics_data m = FOLIO_METRICS_INIT;
    if (log != FO_LOG_OFF)
        FO_TRY(folio_log_enable(db, log), -1);
    FO_TRY(folio_metrics(db, &m), -1);
    *frames0 = m.wal_frames;
    return 0;
fail:
    return -1;
}

/* What the timed part wrote: frames, page size, the last version. */
static int fo_log_end(folio_db *db, uint64_t frames0, log_stats *ls)
{
    folio_metrics_data m = FOLIO_METRICS_INIT;
    folio_info info;
    folio_txn *txn = NULL;
    FO_TRY(folio_metrics(db, &m), -1);
    FO_TRY(folio_version(db, &ls->version), -1);
    FO_TRY(folio_begin(&txn, db, FOLIO_TXN_READ), -1);
    FO_TRY(folio_info_get(&info, txn), -1);
    folio_rollback(txn);
    ls->frames = m.wal_frames - frames0;
    ls->page_size = info.page_size;
    return 0;
fail:
    if (txn)
        folio_rollback(txn);
    return -1;
}

/* Rows 1..n into a new table, per_txn rows a transaction (the last may
 * have fewer): the batch, autocommit, schema, fk, struct and log
 * workloads. The log workload (ls not NULL) turns the commit log on as
 * `log` says and counts what the timed part wrote. */
static int fo_insert_txns_log(const char *path, int64_t n, int per_txn, int sync,
                              const char *const *ddl, int mode, int log, log_stats *ls,
                              double *secs)
{
    folio_db *db = NULL;
    folio_txn *txn = NULL;
    folio_table *t;
    folio_codec *codec = NULL;
    folio_value v[4];
    bench_row r;
    fo_user u;
    static const char *const user_only[] = {USER_DDL, NULL};
    folio_options o = FOLIO_OPTIONS_INIT;
    o.sync = sync;
    o.foreign_keys = (mode & FO_ROWS_FK) != 0;
    FO_TRY(folio_open(&db, path, &o), -1);
    FO_TRY(folio_begin(&txn, db, FOLIO_TXN_WRITE), -1);
    for (const char *const *d = ddl ? ddl : user_only; *d; d++)
        FO_TRY(folio_exec(txn, *d), -1);
    if (mode & FO_ROWS_FK) { /* the parent rows: every age */
        FO_TRY(folio_table_open(&t, txn, "ages"), -1);
        for (int64_t age = 0; age < 100; age++) {
            folio_value p[2] = {{.type = FOLIO_INTEGER, .u.i = age}, {.type = FOLIO_NULL}};
            FO_TRY(folio_insert(NULL, t, p, 2), age);
        }
    }
    folio_txn *done = txn;
    txn = NULL;
    FO_TRY(folio_commit(done), -1);
    uint64_t frames0 = 0;
    if (ls && fo_log_start(db, log, &frames0) < 0)
        goto fail;
    double t0 = now_s();
    for (int64_t first = 1; first <= n; first += per_txn) {
        int64_t last = n - first < per_txn ? n : first + per_txn - 1;
        FO_TRY(folio_begin(&txn, db, FOLIO_TXN_WRITE), first);
        FO_TRY(folio_table_open(&t, txn, "user"), first);
        if (mode & FO_ROWS_STRUCT) {
            /* A codec lives at most as long as its transaction. */
            FO_TRY(folio_codec_bind(&codec, t, fo_user_fields, FO_USER_NFIELDS, sizeof u), first);
            for (int64_t id = first; id <= last; id++)
                FO_TRY(fo_insert_struct_row(codec, &u, id), id);
            folio_codec_free(codec);
            codec = NULL;
        } else {
            for (int64_t id = first; id <= last; id++) {
                gen_row(&r, id);
                fo_values(v, &r);
                FO_TRY(folio_insert(NULL, t, v, 4), id);
            }
        }
        done = txn;
        txn = NULL;
        FO_TRY(folio_commit(done), last);
    }
    *secs = now_s() - t0;
    if (ls && fo_log_end(db, frames0, ls) < 0)
        goto fail;
    folio_db *closing = db;
    db = NULL;
    FO_TRY(folio_close(closing), -1);
    return 0;
fail:
    folio_codec_free(codec);
    fo_abandon(db, txn);
    return -1;
}

static int fo_insert_txns(const char *path, int64_t n, int per_txn, int sync,
                          const char *const *ddl, int mode, double *secs)
{
    return fo_insert_txns_log(path, n, per_txn, sync, ddl, mode, FO_LOG_OFF, NULL, secs);
}

int fo_log_insert(const char *path, int64_t n, int per_txn, int sync, int log, log_stats *ls,
                  double *secs)
{
    return fo_insert_txns_log(path, n, per_txn, sync, NULL, 0, log, ls, secs);
}

int fo_log_update(const char *path, int64_t nrows, int ntxn, int sync, int log, log_stats *ls,
                  double *secs)
{
    static const int patch_cols[2] = {2, 3};
    folio_db *db = NULL;
    folio_txn *txn = NULL;
    folio_table *t;
    folio_value v[4];
    bench_row r;
    int64_t id = -1;
    FO_TRY(fo_open(&db, path, sync, 0), -1);
    FO_TRY(folio_begin(&txn, db, FOLIO_TXN_WRITE), -1);
    FO_TRY(folio_exec(txn, USER_DDL), -1);
    FO_TRY(folio_table_open(&t, txn, "user"), -1);
    for (id = 1; id <= nrows; id++) {
        gen_row(&r, id);
        fo_values(v, &r);
        FO_TRY(folio_insert(NULL, t, v, 4), id);
    }
    folio_txn *done = txn;
    txn = NULL;
    FO_TRY(folio_commit(done), -1);
    uint64_t frames0 = 0;
    if (fo_log_start(db, log, &frames0) < 0)
        goto fail;
    double t0 = now_s();
    for (int64_t i = 0; i < ntxn; i++) {
        int64_t age, active;
        log_update(i, nrows, &id, &age, &active);
        v[0].type = FOLIO_INTEGER;
        v[0].u.i = age;
        v[1].type = FOLIO_INTEGER;
        v[1].u.i = active;
        FO_TRY(folio_begin(&txn, db, FOLIO_TXN_WRITE), id);
        FO_TRY(folio_table_open(&t, txn, "user"), id);
        FO_TRY(folio_patch(t, id, patch_cols, v, 2), id);
        done = txn;
        txn = NULL;
        FO_TRY(folio_commit(done), id);
    }
    *secs = now_s() - t0;
    if (fo_log_end(db, frames0, ls) < 0)
        goto fail;
    folio_db *closing = db;
    db = NULL;
    FO_TRY(folio_close(closing), -1);
    return 0;
fail:
    fo_abandon(db, txn);
    return -1;
}

int fo_log_restore(const char *path, uint64_t version, const char *dest)
{
    folio_db *db = NULL;
    uint64_t got = 0;
    FO_TRY(folio_restore(path, dest, version, -1, &got), -1);
    if (got != version) {
        bench_fail("folio restore: asked for version %llu of %s, restored %llu",
                   (unsigned long long)version, path, (unsigned long long)got);
        return -1;
    }
    return 0;
fail:
    return -1;
}

int fo_restore_source(const char *path, int64_t nrows, int ncommits, uint64_t *out_version)
{
    static const int patch_cols[2] = {2, 3};
    folio_db *db = NULL;
    folio_txn *txn = NULL;
    folio_table *t;
    folio_value v[4];
    bench_row r;
    int64_t id = -1;
    FO_TRY(fo_open(&db, path, FOLIO_SYNC_NORMAL, 0), -1);
    FO_TRY(folio_log_enable(db, FOLIO_LOG_ZSTD), -1);
    for (int i = 0; i < ncommits; i++) {
        FO_TRY(folio_begin(&txn, db, FOLIO_TXN_WRITE), i);
        FO_TRY(folio_table_open(&t, txn, "user"), i);
        if (i % 2 == 0) {
            /* a row of the file changed: spread over the whole table */
            id = 1 + (int64_t)(((uint64_t)i * 2654435761u) % (uint64_t)nrows);
            v[0].type = FOLIO_INTEGER;
            v[0].u.i = i % 97;
            v[1].type = FOLIO_INTEGER;
            v[1].u.i = i % 2;
            FO_TRY(folio_patch(t, id, patch_cols, v, 2), id);
        } else {
            id = nrows + 1 + i / 2;
            gen_row(&r, id);
            fo_values(v, &r);
            FO_TRY(folio_insert(NULL, t, v, 4), id);
        }
        folio_txn *done = txn;
        txn = NULL;
        FO_TRY(folio_commit(done), i);
    }
    FO_TRY(folio_version(db, out_version), -1);
    folio_db *closing = db;
    db = NULL;
    FO_TRY(folio_close(closing), -1);
    return 0;
fail:
    fo_abandon(db, txn);
    return -1;
}

int fo_fk_insert(const char *path, int64_t n, const char *const *ddl, double *secs)
{
    return fo_insert_txns(path, n, BATCH_ROWS_SCHEMA, FOLIO_SYNC_NORMAL, ddl, FO_ROWS_FK, secs);
}

int fo_struct_insert(const char *path, int64_t n, int codec, double *secs)
{
    return fo_insert_txns(path, n, BATCH_ROWS_SCHEMA, FOLIO_SYNC_NORMAL, NULL,
                          codec ? FO_ROWS_STRUCT : 0, secs);
}

int fo_batch_insert(const char *path, int64_t n, int per_txn, double *secs)
{
    return fo_insert_txns(path, n, per_txn, FOLIO_SYNC_NORMAL, NULL, 0, secs);
}

int fo_autocommit(const char *path, int ntxn, int sync, double *secs)
{
    return fo_insert_txns(path, ntxn, 1, sync, NULL, 0, secs);
}

int fo_schema_insert(const char *path, int64_t n, const char *const *ddl, double *secs)
{
    return fo_insert_txns(path, n, BATCH_ROWS_SCHEMA, FOLIO_SYNC_NORMAL, ddl, 0, secs);
}

/* The trigger workload on a file sq_trigger_schema made: the rows through
 * folio_insert, the audit rows by the trigger. */
int fo_trigger_insert(const char *path, int64_t n, double *secs)
{
    folio_db *db = NULL;
    folio_txn *txn = NULL;
    folio_table *t;
    folio_value v[3];
    bench_row r;
    FO_TRY(fo_open(&db, path, FOLIO_SYNC_NORMAL, 0), -1);
    double t0 = now_s();
    for (int64_t first = 1; first <= n; first += TRIGGER_ROWS_PER_TXN) {
        int64_t last = n - first < TRIGGER_ROWS_PER_TXN ? n : first + TRIGGER_ROWS_PER_TXN - 1;
        FO_TRY(folio_begin(&txn, db, FOLIO_TXN_WRITE), first);
        FO_TRY(folio_table_open(&t, txn, "items"), first);
        for (int64_t id = first; id <= last; id++) {
            gen_row(&r, id);
            v[0].type = FOLIO_INTEGER;
            v[0].u.i = r.id;
            v[1].type = FOLIO_TEXT;
            v[1].u.s.p = r.area;
            v[1].u.s.n = AREA_LEN;
            v[2].type = FOLIO_INTEGER;
            v[2].u.i = r.age;
            FO_TRY(folio_insert(NULL, t, v, 3), id);
        }
        folio_txn *done = txn;
        txn = NULL;
        FO_TRY(folio_commit(done), last);
    }
    *secs = now_s() - t0;
    folio_db *closing = db;
    db = NULL;
    FO_TRY(folio_close(closing), -1);
    return 0;
fail:
    fo_abandon(db, txn);
    return -1;
}

/* One of fo_threads' writers: ids k+1, k+1+nthreads, ... one a transaction. */
typedef struct fo_thread_arg {
    folio_db *db;
    int k, nthreads, ntxn;
    unsigned flags;
    conc_stats st; /* this thread's retries */
    int failed;
} fo_thread_arg;

/* One transaction inserting gen_row(id): 0, FOLIO_CONFLICT (the commit lost
 * to another; the transaction is gone), or -1 after describing the failure. */
static int fo_insert_one(folio_db *db, unsigned flags, int64_t id)
{
    folio_txn *txn = NULL;
    folio_table *t;
    folio_value v[4];
    bench_row r;
    FO_TRY(folio_begin(&txn, db, flags), id);
    FO_TRY(folio_table_open(&t, txn, "user"), id);
    gen_row(&r, id);
    fo_values(v, &r);
    FO_TRY(folio_insert(NULL, t, v, 4), id);
    folio_txn *done = txn;
    txn = NULL;
    int rc = folio_commit(done);
    if (rc == FOLIO_CONFLICT && (flags & FOLIO_TXN_CONCURRENT))
        return FOLIO_CONFLICT;
    FO_TRY(rc, id);
    return 0;
fail:
    if (txn)
        folio_rollback(txn);
    return -1;
}

/* Count a transaction that committed after `attempts` runs. */
static void count_attempts(conc_stats *st, int attempts)
{
    st->retries += (uint64_t)(attempts - 1);
    st->retried += attempts > 1;
    if (attempts > st->max_attempts)
        st->max_attempts = attempts;
}

/* Add a thread's counts to the run's. */
static void add_stats(conc_stats *to, const conc_stats *from)
{
    to->retries += from->retries;
    to->retried += from->retried;
    if (from->max_attempts > to->max_attempts)
        to->max_attempts = from->max_attempts;
}

/* The handle's checkpoint counts, before its close (which checkpoints). */
static void fo_checkpoint_stats(folio_db *db, conc_stats *st)
{
    folio_metrics_data m = FOLIO_METRICS_INIT;
    if (folio_metrics(db, &m) == FOLIO_OK) {
        st->checkpoints = m.checkpoints;
        st->checkpoints_short = m.checkpoints_short;
    }
}

static void *fo_thread_main(void *arg)
{
    fo_thread_arg *a = arg;
    for (int64_t id = a->k + 1; id <= a->ntxn; id += a->nthreads) {
        int rc, attempts = 1;
        while ((rc = fo_insert_one(a->db, a->flags, id)) == FOLIO_CONFLICT)
            attempts++;
        if (rc < 0) {
            a->failed = 1;
            break;
        }
        count_attempts(&a->st, attempts);
    }
    return NULL;
}

/* Create the tables of a new file in one FOLIO_TXN_WRITE transaction. */
static int fo_create(folio_db *db, const char *const *ddl)
{
    folio_txn *txn = NULL;
    FO_TRY(folio_begin(&txn, db, FOLIO_TXN_WRITE), -1);
    for (int i = 0; ddl[i]; i++)
        FO_TRY(folio_exec(txn, ddl[i]), -1);
    folio_txn *done = txn;
    txn = NULL;
    FO_TRY(folio_commit(done), -1);
    return 0;
fail:
    if (txn)
        folio_rollback(txn);
    return -1;
}

/* The handle of fo_threads and fo_rmw: the threads share it, and a plain
 * writer waits as long as it takes for the writer role. */
static int fo_open_shared(folio_db **out, const char *path, int sync)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.sync = sync;
    o.busy_timeout_ms = 600000;
    folio_db *db = NULL;
    FO_TRY(folio_open(out, path, &o), -1);
    return 0;
fail:
    return -1;
}

int fo_threads(const char *path, int nthreads, int ntxn, int sync, unsigned txn_flags,
               conc_stats *st, double *secs)
{
    static const char *const ddl[] = {USER_DDL, NULL};
    folio_db *db = NULL;
    memset(st, 0, sizeof *st);
    if (fo_open_shared(&db, path, sync) < 0)
        return -1;
    if (fo_create(db, ddl) < 0)
        goto fail;
    pthread_t th[BENCH_MAX_THREADS];
    fo_thread_arg args[BENCH_MAX_THREADS];
    int started = 0, failed = 0;
    double t0 = now_s();
    for (int k = 0; k < nthreads; k++) {
        memset(&args[k], 0, sizeof args[k]);
        args[k] = (fo_thread_arg){
            .db = db, .k = k, .nthreads = nthreads, .ntxn = ntxn, .flags = txn_flags};
        if (pthread_create(&th[k], NULL, fo_thread_main, &args[k]) != 0) {
            bench_fail("folio threads: pthread_create failed");
            failed = 1;
            break;
        }
        started++;
    }
    for (int k = 0; k < started; k++) {
        pthread_join(th[k], NULL);
        failed |= args[k].failed;
        add_stats(st, &args[k].st);
    }
    *secs = now_s() - t0;
    fo_checkpoint_stats(db, st);
    folio_db *closing = db;
    db = NULL;
    FO_TRY(folio_close(closing), -1);
    return failed ? -1 : 0;
fail:
    fo_abandon(db, NULL);
    return -1;
}

/* One rmw transaction on counter `id`: 0, FOLIO_CONFLICT (the transaction
 * is gone: rolled back here, or by its failed commit), or -1 after
 * describing the failure. */
static int fo_rmw_once(folio_db *db, unsigned flags, int64_t id)
{
    folio_txn *txn = NULL;
    folio_table *counter, *event;
    folio_cursor *c = NULL;
    folio_value v;
    int rc;
    FO_TRY(folio_begin(&txn, db, flags), id);
    FO_TRY(folio_table_open(&counter, txn, "counter"), id);
    FO_TRY(folio_cursor_open(&c, counter, NULL), id);
    rc = folio_cursor_seek_rowid(c, id);
    if (rc != FOLIO_ROW) {
        bench_fail("folio rmw: counter %lld: seek returned %d %s where the row exists",
                   (long long)id, rc, folio_strerror(rc));
        goto fail;
    }
    FO_TRY(folio_cursor_column(&v, c, 1), id);
    if (v.type != FOLIO_INTEGER) {
        bench_fail("folio rmw: counter %lld: n read back with type %d", (long long)id, (int)v.type);
        goto fail;
    }
    folio_cursor_close(c);
    c = NULL;
    int64_t n = v.u.i + 1;
    folio_value row[2] = {{.type = FOLIO_INTEGER, .u.i = id}, {.type = FOLIO_INTEGER, .u.i = n}};
    FO_TRY(folio_update(counter, id, row, 2), id);
    FO_TRY(folio_table_open(&event, txn, "event"), id);
    folio_value ev[3] = {{.type = FOLIO_NULL},
                         {.type = FOLIO_INTEGER, .u.i = id},
                         {.type = FOLIO_INTEGER, .u.i = n}};
    FO_TRY(folio_insert(NULL, event, ev, 3), id);
    folio_txn *done = txn;
    txn = NULL;
    rc = folio_commit(done);
    if (rc == FOLIO_CONFLICT && (flags & FOLIO_TXN_CONCURRENT))
        return FOLIO_CONFLICT;
    FO_TRY(rc, id);
    return 0;
fail:
    if (c)
        folio_cursor_close(c);
    if (txn)
        folio_rollback(txn);
    return -1;
}

typedef struct fo_rmw_arg {
    folio_db *db;
    int k, nthreads, ntxn;
    unsigned flags;
    conc_stats st; /* this thread's retries */
    int failed;
} fo_rmw_arg;

static void *fo_rmw_main(void *arg)
{
    fo_rmw_arg *a = arg;
    for (int64_t i = a->k; i < a->ntxn; i += a->nthreads) {
        int rc, attempts = 1;
        while ((rc = fo_rmw_once(a->db, a->flags, rmw_counter(i))) == FOLIO_CONFLICT)
            attempts++;
        if (rc < 0) {
            a->failed = 1;
            break;
        }
        count_attempts(&a->st, attempts);
    }
    return NULL;
}

/* The counters, written in one FOLIO_TXN_WRITE transaction. */
static int fo_rmw_fill(folio_db *db)
{
    static const char *const ddl[] = {RMW_DDL_COUNTER, RMW_DDL_EVENT, NULL};
    folio_txn *txn = NULL;
    folio_table *t;
    if (fo_create(db, ddl) < 0)
        return -1;
    FO_TRY(folio_begin(&txn, db, FOLIO_TXN_WRITE), -1);
    FO_TRY(folio_table_open(&t, txn, "counter"), -1);
    for (int64_t id = 1; id <= RMW_ROWS; id++) {
        folio_value row[2] = {{.type = FOLIO_INTEGER, .u.i = id},
                              {.type = FOLIO_INTEGER, .u.i = RMW_INITIAL}};
        FO_TRY(folio_insert(NULL, t, row, 2), id);
    }
    folio_txn *done = txn;
    txn = NULL;
    FO_TRY(folio_commit(done), -1);
    return 0;
fail:
    if (txn)
        folio_rollback(txn);
    return -1;
}

int fo_rmw(const char *path, int nthreads, int ntxn, unsigned txn_flags, conc_stats *st,
           double *secs)
{
    folio_db *db = NULL;
    memset(st, 0, sizeof *st);
    if (fo_open_shared(&db, path, FOLIO_SYNC_NORMAL) < 0)
        return -1;
    if (fo_rmw_fill(db) < 0)
        goto fail;
    pthread_t th[BENCH_MAX_THREADS];
    fo_rmw_arg args[BENCH_MAX_THREADS];
    int started = 0, failed = 0;
    double t0 = now_s();
    for (int k = 0; k < nthreads; k++) {
        memset(&args[k], 0, sizeof args[k]);
        args[k] =
            (fo_rmw_arg){.db = db, .k = k, .nthreads = nthreads, .ntxn = ntxn, .flags = txn_flags};
        if (pthread_create(&th[k], NULL, fo_rmw_main, &args[k]) != 0) {
            bench_fail("folio rmw: pthread_create failed");
            failed = 1;
            break;
        }
        started++;
    }
    for (int k = 0; k < started; k++) {
        pthread_join(th[k], NULL);
        failed |= args[k].failed;
        add_stats(st, &args[k].st);
    }
    *secs = now_s() - t0;
    fo_checkpoint_stats(db, st);
    folio_db *closing = db;
    db = NULL;
    FO_TRY(folio_close(closing), -1);
    return failed ? -1 : 0;
fail:
    fo_abandon(db, NULL);
    return -1;
}

int fo_vacuum(const char *path, const char *dest, double *secs)
{
    folio_db *db = NULL;
    if (fo_open(&db, path, FOLIO_SYNC_NORMAL, 0) < 0)
        return -1;
    double t0 = now_s();
    FO_TRY(folio_vacuum(db, dest), -1);
    folio_db *closing = db;
    db = NULL;
    FO_TRY(folio_close(closing), -1);
    *secs = now_s() - t0;
    return 0;
fail:
    fo_abandon(db, NULL);
    return -1;
}

/* Read every column of the cursor's row into the digest. */
static int fo_read_row(folio_db *db, folio_cursor *c, uint64_t *sum)
{
    folio_value v[4];
    for (int col = 0; col < 4; col++)
        FO_TRY(folio_cursor_column(&v[col], c, col), folio_cursor_rowid(c));
    if (v[0].type != FOLIO_INTEGER || v[1].type != FOLIO_TEXT || v[2].type != FOLIO_INTEGER ||
        v[3].type != FOLIO_INTEGER) {
        bench_fail("folio: row %lld read back with types %d,%d,%d,%d (want 1,3,1,1)",
                   (long long)v[0].u.i, (int)v[0].type, (int)v[1].type, (int)v[2].type,
                   (int)v[3].type);
        return -1;
    }
    *sum += row_digest(v[0].u.i, v[1].u.s.p, v[1].u.s.n, v[2].u.i, v[3].u.i);
    return 0;
fail:
    return -1;
}

static int fo_expect_row(int rc, const char *what, long long key)
{
    if (rc == FOLIO_ROW)
        return 0;
    bench_fail("folio: %s %lld returned %d %s where a row exists", what, key, rc,
               folio_strerror(rc));
    return -1;
}

static int fo_read_loop(folio_db *db, folio_cursor *c, read_kind k, const read_plan *p,
                        read_result *out)
{
    folio_value key = {FOLIO_TEXT, {.i = 0}};
    key.u.s.n = AREA_LEN;
    int rc;
    switch (k) {
    case READ_LOOKUP:
        for (size_t i = 0; i < p->nids; i++) {
            FO_TRY(rc = folio_cursor_seek_rowid(c, p->ids[i]), p->ids[i]);
            if (fo_expect_row(rc, "folio_cursor_seek_rowid", p->ids[i]) < 0 ||
                fo_read_row(db, c, &out->sum) < 0)
                return -1;
            out->rows++;
        }
        break;
    case READ_SEEK:
        for (size_t i = 0; i < p->nareas; i++) {
            key.u.s.p = p->areas + i * AREA_LEN;
            FO_TRY(rc = folio_cursor_seek(c, &key, 1, FOLIO_SEEK_EQ), -1);
            if (fo_expect_row(rc, "folio_cursor_seek(EQ) key #", (long long)i) < 0 ||
                fo_read_row(db, c, &out->sum) < 0)
                return -1;
            out->rows++;
        }
        break;
    case READ_RANGE:
        for (size_t i = 0; i < p->nareas; i++) {
            key.u.s.p = p->areas + i * AREA_LEN;
            FO_TRY(rc = folio_cursor_seek(c, &key, 1, FOLIO_SEEK_GE), -1);
            for (int j = 0; rc == FOLIO_ROW && j < p->range_len; j++) {
                if (fo_read_row(db, c, &out->sum) < 0)
                    return -1;
                out->rows++;
                if (j + 1 < p->range_len)
                    FO_TRY(rc = folio_cursor_next(c), -1);
            }
        }
        break;
    case READ_SCAN:
        FO_TRY(rc = folio_cursor_first(c), -1);
        while (rc == FOLIO_ROW) {
            if (fo_read_row(db, c, &out->sum) < 0)
                return -1;
            out->rows++;
            FO_TRY(rc = folio_cursor_next(c), -1);
        }
        break;
    }
    return 0;
fail:
    return -1;
}

int fo_read(const char *path, read_kind k, const read_plan *p, long cache_mb, long mmap_mb,
            read_result *out)
{
    folio_db *db = NULL;
    folio_txn *txn = NULL;
    folio_table *t;
    folio_cursor *c = NULL;
    folio_filter *f = NULL;
    memset(out, 0, sizeof *out);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    o.cache_bytes = (size_t)cache_mb << 20; /* 0: the default budget */
    o.mmap_bytes = mmap_mb < 0 ? FOLIO_MMAP_DEFAULT : (size_t)mmap_mb << 20; /* -1: the default */
    FO_TRY(folio_open(&db, path, &o), -1);
    FO_TRY(folio_begin(&txn, db, FOLIO_TXN_READ), -1);
    FO_TRY(folio_table_open(&t, txn, "user"), -1);
    const char *index = (k == READ_SEEK || k == READ_RANGE) ? "user_area" : NULL;
    FO_TRY(folio_cursor_open(&c, t, index), -1);
    if (k == READ_SCAN && p->where) { /* compiled before the clock starts, as SQLite prepares */
        FO_TRY(folio_filter_compile(&f, t, p->where), -1);
        FO_TRY(folio_cursor_filter(c, f), -1);
    }
    double t0 = now_s();
    if (fo_read_loop(db, c, k, p, out) < 0)
        goto fail;
    out->secs = now_s() - t0;
    folio_cursor_close(c);
    c = NULL;
    folio_filter_free(f);
    f = NULL;
    folio_txn *done = txn;
    txn = NULL;
    FO_TRY(folio_commit(done), -1);
    folio_db *closing = db;
    db = NULL;
    FO_TRY(folio_close(closing), -1);
    return 0;
fail:
    folio_cursor_close(c);
    folio_filter_free(f);
    fo_abandon(db, txn);
    return -1;
}

int fo_mixed(const char *path, const mixed_op *ops, int ntxn, int per_txn, mixed_result *out)
{
    static const int patch_cols[2] = {2, 3};
    folio_db *db = NULL;
    folio_txn *txn = NULL;
    folio_table *t;
    folio_cursor *c = NULL;
    folio_value v[4];
    bench_row r;
    int rc;
    memset(out, 0, sizeof *out);
    if (fo_open(&db, path, FOLIO_SYNC_NORMAL, 0) < 0)
        return -1;
    double t0 = now_s();
    for (int k = 0; k < ntxn; k++) {
        FO_TRY(folio_begin(&txn, db, FOLIO_TXN_WRITE), -1);
        FO_TRY(folio_table_open(&t, txn, "user"), -1);
        FO_TRY(folio_cursor_open(&c, t, NULL), -1);
        for (int j = 0; j < per_txn; j++) {
            const mixed_op *op = &ops[(size_t)k * (size_t)per_txn + (size_t)j];
            switch (op->kind) {
            case MIXED_READ:
                FO_TRY(rc = folio_cursor_seek_rowid(c, op->id), op->id);
                if (rc != FOLIO_ROW) {
                    bench_fail("folio mixed: transaction %d op %d: folio_cursor_seek_rowid(%lld) "
                               "returned %d %s for a row that exists",
                               k + 1, j + 1, (long long)op->id, rc, folio_strerror(rc));
                    goto fail;
                }
                if (fo_read_row(db, c, &out->sum) < 0)
                    goto fail;
                break;
            case MIXED_UPDATE:
                v[0].type = FOLIO_INTEGER;
                v[0].u.i = op->age;
                v[1].type = FOLIO_INTEGER;
                v[1].u.i = op->active;
                FO_TRY(folio_patch(t, op->id, patch_cols, v, 2), op->id);
                break;
            default:
                gen_row(&r, op->id);
                fo_values(v, &r);
                FO_TRY(folio_insert(NULL, t, v, 4), op->id);
                break;
            }
        }
        folio_cursor_close(c);
        c = NULL;
        folio_txn *done = txn;
        txn = NULL;
        FO_TRY(folio_commit(done), -1);
    }
    out->secs = now_s() - t0;
    folio_db *closing = db;
    db = NULL;
    FO_TRY(folio_close(closing), -1);
    return 0;
fail:
    folio_cursor_close(c);
    fo_abandon(db, txn);
    return -1;
}

/* ---- memory children ---- */

int fo_mem_insert(const char *path, int64_t rows, int64_t warm, int64_t window, mem_result *out)
{
    folio_db *db = NULL;
    folio_txn *txn = NULL;
    folio_table *t;
    folio_value v[4];
    bench_row r;
    uint64_t before = 0;
    memset(out, 0, sizeof *out);
    if (fo_open(&db, path, FOLIO_SYNC_OFF, 0) < 0)
        return -1;
    FO_TRY(folio_begin(&txn, db, FOLIO_TXN_WRITE), -1);
    FO_TRY(folio_exec(txn, USER_DDL), -1);
    FO_TRY(folio_table_open(&t, txn, "user"), -1);
    for (int64_t id = 1; id <= rows; id++) {
        if (id == warm + 1)
            before = heap_calls();
        gen_row(&r, id);
        fo_values(v, &r);
        FO_TRY(folio_insert(NULL, t, v, 4), id);
        if (id == warm + window)
            out->allocs = heap_calls() - before;
    }
    folio_txn *done = txn;
    txn = NULL;
    FO_TRY(folio_commit(done), -1);
    folio_db *closing = db;
    db = NULL;
    FO_TRY(folio_close(closing), -1);
    out->window_rows = (uint64_t)window;
    out->allocs_per_row = (double)out->allocs / (double)window;
    out->rss_kb = peak_rss_kb();
    return 0;
fail:
    fo_abandon(db, txn);
    return -1;
}

int fo_mem_read(const char *path, int64_t rows, int scan, int64_t warm, int64_t window,
                mem_result *out)
{
    folio_db *db = NULL;
    folio_txn *txn = NULL;
    folio_table *t;
    folio_cursor *c = NULL;
    uint64_t sum = 0, before = 0;
    int rc = FOLIO_ROW;
    bench_rng rng = {7};
    memset(out, 0, sizeof *out);
    if (fo_open(&db, path, FOLIO_SYNC_NORMAL, 1) < 0)
        return -1;
    FO_TRY(folio_begin(&txn, db, FOLIO_TXN_READ), -1);
    FO_TRY(folio_table_open(&t, txn, "user"), -1);
    FO_TRY(folio_cursor_open(&c, t, NULL), -1);
    if (scan)
        FO_TRY(rc = folio_cursor_first(c), -1);
    for (int64_t i = 1; i <= warm + window; i++) {
        if (i == warm + 1)
            before = heap_calls();
        if (scan) {
            if (fo_expect_row(rc, "scan row", i) < 0)
                goto fail;
        } else {
            int64_t id = 1 + (int64_t)rng_below(&rng, (uint64_t)rows);
            FO_TRY(rc = folio_cursor_seek_rowid(c, id), id);
            if (fo_expect_row(rc, "folio_cursor_seek_rowid", id) < 0)
                goto fail;
        }
        if (fo_read_row(db, c, &sum) < 0)
            goto fail;
        if (scan)
            FO_TRY(rc = folio_cursor_next(c), -1);
    }
    out->allocs = heap_calls() - before;
    folio_cursor_close(c);
    c = NULL;
    folio_txn *done = txn;
    txn = NULL;
    FO_TRY(folio_commit(done), -1);
    folio_db *closing = db;
    db = NULL;
    FO_TRY(folio_close(closing), -1);
    out->window_rows = (uint64_t)window;
    out->allocs_per_row = (double)out->allocs / (double)window;
    out->rss_kb = peak_rss_kb();
    return 0;
fail:
    folio_cursor_close(c);
    fo_abandon(db, txn);
    return -1;
}
