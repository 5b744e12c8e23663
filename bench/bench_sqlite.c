/*
 * bench_sqlite.c - the workloads on libsqlite3 at its best-known settings,
 * and the checks of folio's files.
 *
 * Bulk: journal_mode=OFF, synchronous=OFF, locking_mode=EXCLUSIVE,
 * cache_size=-1000000 (about 1 GB), temp_store=MEMORY; one transaction; one
 * prepared INSERT reused with sqlite3_bind_* and sqlite3_reset.
 * Transactional: journal_mode=WAL, synchronous=NORMAL (FULL for the FULL
 * variant), cache_size=-65536 (64 MiB, folio's default budget).
 * Reads: read-only connection, cache_size=-65536, mmap_size as configured,
 * one read transaction, prepared SELECTs.
 * Import: the sqlite3 shell (not this library) runs a script holding the bulk
 * pragmas and `.import`; this file only writes that script and the empty table.
 */
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#define BULK_PRAGMAS                                                                               \
    "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE;"              \
    "PRAGMA cache_size=-1000000; PRAGMA temp_store=MEMORY;"
#define WAL_PRAGMAS "PRAGMA journal_mode=WAL; PRAGMA cache_size=-65536;"

#define SQL_INSERT "INSERT INTO user(id, area, age, active) VALUES (?1, ?2, ?3, ?4)"
#define SQL_SELECT "SELECT id, area, age, active FROM user"

static int sq_report(sqlite3 *db, const char *where, const char *what, int rc)
{
    bench_fail("sqlite %s: %s failed: %d %s: %s", where, what, rc, sqlite3_errstr(rc),
               db ? sqlite3_errmsg(db) : "(no handle)");
    return -1;
}

static int sq_open(sqlite3 **out, const char *path, int readonly)
{
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, out, flags, NULL);
    if (rc != SQLITE_OK) {
        sq_report(*out, "open", path, rc);
        sqlite3_close(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static int sq_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        bench_fail("sqlite: %s failed: %s", sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int sq_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, out, NULL);
    return rc == SQLITE_OK ? 0 : sq_report(db, "prepare", sql, rc);
}

static int sq_sync_pragma(sqlite3 *db, int sync)
{
    return sq_exec(db, sync >= 2 ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;");
}

static void sq_bind_row(sqlite3_stmt *st, const bench_row *r)
{
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_text(st, 2, r->area, AREA_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, r->age);
    sqlite3_bind_int64(st, 4, r->active);
}

/* Run the bound INSERT once. */
static int sq_insert_step(sqlite3 *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sq_report(db, "insert", "sqlite3_step", rc);
}

static void sq_close(sqlite3 *db, sqlite3_stmt *a, sqlite3_stmt *b)
{
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    sqlite3_close(db);
}

int sq_bulk(const char *path, int64_t n, int64_t step, int with_index, int wal_after,
            bulk_result *out)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bench_row r;
    memset(out, 0, sizeof *out);
    double t0 = now_s();
    if (sq_open(&db, path, 0) < 0)
        return -1;
    if (sq_exec(db, BULK_PRAGMAS) < 0 || sq_exec(db, USER_DDL) < 0 || sq_exec(db, "BEGIN") < 0 ||
        sq_prepare(db, SQL_INSERT, &st) < 0)
        goto fail;
    for (int64_t i = 1; i <= n; i++) {
        gen_row(&r, i * step);
        sq_bind_row(st, &r);
        if (sq_insert_step(db, st) < 0)
            goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sq_exec(db, "COMMIT") < 0)
        goto fail;
    double t1 = now_s();
    out->load_s = t1 - t0;
    if (with_index) {
        if (sq_exec(db, USER_INDEX_DDL) < 0)
            goto fail;
        out->index_s = now_s() - t1;
    }
    if (wal_after && sq_exec(db, "PRAGMA journal_mode=WAL") < 0)
        goto fail;
    int rc = sqlite3_close(db);
    db = NULL;
    if (rc != SQLITE_OK) {
        sq_report(NULL, "bulk", "sqlite3_close", rc);
        return -1;
    }
    out->total_s = now_s() - t0;
    out->file_bytes = file_bytes(path);
    return 0;
fail:
    sq_close(db, st, NULL);
    return -1;
}

int sq_random_insert(const char *path, const int64_t *ids, int ntxn, int per_txn, double *secs)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bench_row r;
    if (sq_open(&db, path, 0) < 0)
        return -1;
    if (sq_exec(db, WAL_PRAGMAS) < 0 || sq_sync_pragma(db, 1) < 0 ||
        sq_prepare(db, SQL_INSERT, &st) < 0)
        goto fail;
    double t0 = now_s();
    for (int k = 0; k < ntxn; k++) {
        if (sq_exec(db, "BEGIN") < 0)
            goto fail;
        for (int j = 0; j < per_txn; j++) {
            gen_row(&r, ids[(size_t)k * (size_t)per_txn + (size_t)j]);
            sq_bind_row(st, &r);
            if (sq_insert_step(db, st) < 0)
                goto fail;
        }
        if (sq_exec(db, "COMMIT") < 0)
            goto fail;
    }
    *secs = now_s() - t0;
    sq_close(db, st, NULL);
    return 0;
fail:
    sq_close(db, st, NULL);
    return -1;
}

/* Rows 1..n into a new table in WAL mode: per_txn rows between BEGIN and
 * COMMIT, or (per_txn 0) each INSERT its own autocommit transaction. */
static int sq_insert_txns_fk(const char *path, int64_t n, int per_txn, int sync,
                             const char *const *ddl, int fk, double *secs)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bench_row r;
    static const char *const user_only[] = {USER_DDL, NULL};
    if (sq_open(&db, path, 0) < 0)
        return -1;
    if (sq_exec(db, WAL_PRAGMAS) < 0 || sq_sync_pragma(db, sync) < 0)
        goto fail;
    if (fk && sq_exec(db, "PRAGMA foreign_keys=ON") < 0)
        goto fail;
    for (const char *const *d = ddl ? ddl : user_only; *d; d++)
        if (sq_exec(db, *d) < 0)
            goto fail;
    if (fk && sq_exec(db, "WITH RECURSIVE a(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM a "
                          "WHERE x < 99) INSERT INTO ages SELECT x, NULL FROM a") < 0)
        goto fail;
    if (sq_prepare(db, SQL_INSERT, &st) < 0)
        goto fail;
    int step = per_txn > 0 ? per_txn : 1;
    double t0 = now_s();
    for (int64_t first = 1; first <= n; first += step) {
        int64_t last = n - first < step ? n : first + step - 1;
        if (per_txn > 0 && sq_exec(db, "BEGIN") < 0)
            goto fail;
        for (int64_t id = first; id <= last; id++) {
            gen_row(&r, id);
            sq_bind_row(st, &r);
            if (sq_insert_step(db, st) < 0)
                goto fail;
        }
        if (per_txn > 0 && sq_exec(db, "COMMIT") < 0)
            goto fail;
    }
    *secs = now_s() - t0;
    sq_close(db, st, NULL);
    return 0;
fail:
    sq_close(db, st, NULL);
    return -1;
}

static int sq_insert_txns(const char *path, int64_t n, int per_txn, int sync,
                          const char *const *ddl, double *secs)
{
    return sq_insert_txns_fk(path, n, per_txn, sync, ddl, 0, secs);
}

int sq_fk_insert(const char *path, int64_t n, const char *const *ddl, double *secs)
{
    return sq_insert_txns_fk(path, n, BATCH_ROWS_SCHEMA, 1, ddl, 1, secs);
}

/* ---- trigger workload ---- */

#define TRIGGER_STR_(x) #x
#define TRIGGER_STR(x)  TRIGGER_STR_(x)

int sq_trigger_schema(const char *path)
{
    sqlite3 *db = NULL;
    if (sq_open(&db, path, 0) < 0)
        return -1;
    int rc =
        sq_exec(db, "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INT);"
                    "CREATE TABLE audit(id INTEGER PRIMARY KEY, item INT, action TEXT, at INT);"
                    "CREATE TRIGGER items_audit AFTER INSERT ON items BEGIN"
                    " INSERT INTO audit(item, action, at)"
                    " VALUES(NEW.id, 'insert', " TRIGGER_STR(TRIGGER_AT) "); END;");
    sqlite3_close(db);
    return rc;
}

int sq_trigger_insert(const char *path, int64_t n, double *secs)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bench_row r;
    if (sq_open(&db, path, 0) < 0)
        return -1;
    if (sq_exec(db, WAL_PRAGMAS) < 0 || sq_sync_pragma(db, 1) < 0 ||
        sq_prepare(db, "INSERT INTO items(id, name, qty) VALUES (?1, ?2, ?3)", &st) < 0)
        goto fail;
    double t0 = now_s();
    for (int64_t first = 1; first <= n; first += TRIGGER_ROWS_PER_TXN) {
        int64_t last = n - first < TRIGGER_ROWS_PER_TXN ? n : first + TRIGGER_ROWS_PER_TXN - 1;
        if (sq_exec(db, "BEGIN") < 0)
            goto fail;
        for (int64_t id = first; id <= last; id++) {
            gen_row(&r, id);
            sqlite3_bind_int64(st, 1, r.id);
            sqlite3_bind_text(st, 2, r.area, AREA_LEN, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, r.age);
            if (sq_insert_step(db, st) < 0)
                goto fail;
        }
        if (sq_exec(db, "COMMIT") < 0)
            goto fail;
    }
    *secs = now_s() - t0;
    sq_close(db, st, NULL);
    return 0;
fail:
    sq_close(db, st, NULL);
    return -1;
}

int sq_trigger_verify(const char *path, int64_t n, int64_t sum_qty)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sq_open(&db, path, 1) < 0)
        return -1;
    /* One row of figures; each must be as expected. */
    static const char *const sql =
        "SELECT (SELECT group_concat(integrity_check, '; ') FROM pragma_integrity_check),"
        " (SELECT count(*) FROM items), (SELECT sum(qty) FROM items),"
        " (SELECT count(*) FROM audit), (SELECT count(DISTINCT item) FROM audit),"
        " (SELECT sum(item) FROM audit),"
        " (SELECT count(*) FROM audit WHERE action = 'insert' AND at = " TRIGGER_STR(
            TRIGGER_AT) "),"
                        " (SELECT count(*) FROM audit a JOIN items i ON i.id = a.item)";
    if (sq_prepare(db, sql, &st) < 0)
        goto fail;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sq_report(db, "verify", "the trigger workload's figures", rc);
        goto fail;
    }
    const char *ic = (const char *)sqlite3_column_text(st, 0);
    int64_t items = sqlite3_column_int64(st, 1), qty = sqlite3_column_int64(st, 2),
            audit = sqlite3_column_int64(st, 3), distinct = sqlite3_column_int64(st, 4),
            sum_item = sqlite3_column_int64(st, 5), right = sqlite3_column_int64(st, 6),
            joined = sqlite3_column_int64(st, 7);
    if (!ic || strcmp(ic, "ok") != 0) {
        bench_fail("VERIFY FAILED: %s: PRAGMA integrity_check: %.300s", path, ic ? ic : "(null)");
        goto fail;
    }
    if (items != n || qty != sum_qty || audit != n || distinct != n ||
        sum_item != n * (n + 1) / 2 || right != n || joined != n) {
        bench_fail("VERIFY FAILED: %s: %lld items (sum(qty) %lld), %lld audit rows (%lld items, "
                   "sum %lld, %lld with the trigger's values, %lld matching an item); expected "
                   "%lld of each (sum(qty) %lld)",
                   path, (long long)items, (long long)qty, (long long)audit, (long long)distinct,
                   (long long)sum_item, (long long)right, (long long)joined, (long long)n,
                   (long long)sum_qty);
        goto fail;
    }
    sq_close(db, st, NULL);
    return 0;
fail:
    sq_close(db, st, NULL);
    return -1;
}

int sq_batch_insert(const char *path, int64_t n, int per_txn, double *secs)
{
    return sq_insert_txns(path, n, per_txn, 1, NULL, secs);
}

int sq_autocommit(const char *path, int ntxn, int sync, double *secs)
{
    return sq_insert_txns(path, ntxn, 0, sync, NULL, secs);
}

int sq_log_update(const char *path, int64_t nrows, int ntxn, int sync, double *secs)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL, *upd = NULL;
    bench_row r;
    if (sq_open(&db, path, 0) < 0)
        return -1;
    if (sq_exec(db, WAL_PRAGMAS) < 0 || sq_sync_pragma(db, sync) < 0 || sq_exec(db, USER_DDL) < 0 ||
        sq_prepare(db, SQL_INSERT, &ins) < 0 ||
        sq_prepare(db, "UPDATE user SET age = ?2, active = ?3 WHERE id = ?1", &upd) < 0)
        goto fail;
    if (sq_exec(db, "BEGIN") < 0)
        goto fail;
    for (int64_t id = 1; id <= nrows; id++) {
        gen_row(&r, id);
        sq_bind_row(ins, &r);
        if (sq_insert_step(db, ins) < 0)
            goto fail;
    }
    if (sq_exec(db, "COMMIT") < 0)
        goto fail;
    double t0 = now_s();
    for (int64_t i = 0; i < ntxn; i++) {
        int64_t id, age, active;
        log_update(i, nrows, &id, &age, &active);
        sqlite3_bind_int64(upd, 1, id);
        sqlite3_bind_int64(upd, 2, age);
        sqlite3_bind_int64(upd, 3, active);
        int rc = sqlite3_step(upd);
        sqlite3_reset(upd);
        if (rc != SQLITE_DONE || sqlite3_changes(db) != 1) {
            sq_report(db, "log update", "UPDATE of an existing row", rc);
            goto fail;
        }
    }
    *secs = now_s() - t0;
    sq_close(db, ins, upd);
    return 0;
fail:
    sq_close(db, ins, upd);
    return -1;
}

int sq_schema_insert(const char *path, int64_t n, const char *const *ddl, double *secs)
{
    return sq_insert_txns(path, n, BATCH_ROWS_SCHEMA, 1, ddl, secs);
}

int sq_vacuum_source(const char *path, int64_t n)
{
    bulk_result br;
    if (sq_bulk(path, n, 1, 1, 1, &br) < 0)
        return -1;
    sqlite3 *db = NULL;
    char sql[96];
    snprintf(sql, sizeof sql, "DELETE FROM user WHERE (id - 1) / %d %% 3 = 2", VACUUM_RUN);
    if (sq_open(&db, path, 0) < 0)
        return -1;
    if (sq_exec(db, WAL_PRAGMAS) < 0 || sq_exec(db, sql) < 0) {
        sq_close(db, NULL, NULL);
        return -1;
    }
    int rc = sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : sq_report(NULL, "vacuum source", "sqlite3_close", rc);
}

int sq_freelist_count(const char *path, int64_t *out)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sq_open(&db, path, 1) < 0)
        return -1;
    if (sq_prepare(db, "PRAGMA freelist_count", &st) < 0)
        goto fail;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sq_report(db, "freelist", "PRAGMA freelist_count", rc);
        goto fail;
    }
    *out = sqlite3_column_int64(st, 0);
    sq_close(db, st, NULL);
    return 0;
fail:
    sq_close(db, st, NULL);
    return -1;
}

int sq_vacuum(const char *path, const char *dest, double *secs)
{
    sqlite3 *db = NULL;
    char *sql = NULL;
    if (sq_open(&db, path, 0) < 0)
        return -1;
    /* The pragmas read the schema, so the clock starts on an open handle. */
    if (sq_exec(db, WAL_PRAGMAS) < 0 || sq_sync_pragma(db, 1) < 0)
        goto fail;
    sql = dest ? sqlite3_mprintf("VACUUM INTO %Q", dest) : sqlite3_mprintf("VACUUM");
    if (!sql) {
        bench_fail("sqlite vacuum: out of memory");
        goto fail;
    }
    double t0 = now_s();
    if (sq_exec(db, sql) < 0)
        goto fail;
    int rc = sqlite3_close(db);
    db = NULL;
    if (rc != SQLITE_OK) {
        sq_report(NULL, "vacuum", "sqlite3_close", rc);
        goto fail;
    }
    *secs = now_s() - t0;
    sqlite3_free(sql);
    return 0;
fail:
    sqlite3_free(sql);
    sq_close(db, NULL, NULL);
    return -1;
}

/* One of sq_threads' writers, on a connection of its own: ids k+1,
 * k+1+nthreads, ... each in BEGIN IMMEDIATE .. COMMIT. */
typedef struct sq_thread_arg {
    const char *path;
    int k, nthreads, ntxn, sync;
    int failed;
} sq_thread_arg;

static void *sq_thread_main(void *arg)
{
    sq_thread_arg *a = arg;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bench_row r;
    a->failed = 1;
    if (sq_open(&db, a->path, 0) < 0)
        return NULL;
    sqlite3_busy_timeout(db, 600000);
    if (sq_sync_pragma(db, a->sync) < 0 || sq_prepare(db, SQL_INSERT, &st) < 0)
        goto done;
    for (int64_t id = a->k + 1; id <= a->ntxn; id += a->nthreads) {
        if (sq_exec(db, "BEGIN IMMEDIATE") < 0)
            goto done;
        gen_row(&r, id);
        sq_bind_row(st, &r);
        if (sq_insert_step(db, st) < 0 || sq_exec(db, "COMMIT") < 0)
            goto done;
    }
    a->failed = 0;
done:
    sq_close(db, st, NULL);
    return NULL;
}

int sq_threads(const char *path, int nthreads, int ntxn, int sync, double *secs)
{
    sqlite3 *db = NULL;
    if (sq_open(&db, path, 0) < 0)
        return -1;
    if (sq_exec(db, WAL_PRAGMAS) < 0 || sq_sync_pragma(db, sync) < 0 || sq_exec(db, USER_DDL) < 0) {
        sq_close(db, NULL, NULL);
        return -1;
    }
    pthread_t th[BENCH_MAX_THREADS];
    sq_thread_arg args[BENCH_MAX_THREADS];
    int started = 0, failed = 0;
    double t0 = now_s();
    for (int k = 0; k < nthreads; k++) {
        args[k] = (sq_thread_arg){path, k, nthreads, ntxn, sync, 0};
        if (pthread_create(&th[k], NULL, sq_thread_main, &args[k]) != 0) {
            bench_fail("sqlite threads: pthread_create failed");
            failed = 1;
            break;
        }
        started++;
    }
    for (int k = 0; k < started; k++) {
        pthread_join(th[k], NULL);
        failed |= args[k].failed;
    }
    *secs = now_s() - t0;
    sq_close(db, NULL, NULL);
    return failed ? -1 : 0;
}

/* One rmw transaction on counter `id` through the prepared statements:
 * 0, SQLITE_BUSY (rolled back; run it again), or -1 after describing the
 * failure. */
typedef struct sq_rmw_stmts {
    sqlite3_stmt *begin, *select, *update, *insert, *commit, *rollback;
} sq_rmw_stmts;

static int sq_rmw_step(sqlite3 *db, sqlite3_stmt *st, int want, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == want)
        return 0;
    if (rc == SQLITE_BUSY)
        return SQLITE_BUSY;
    return sq_report(db, "rmw", what, rc);
}

static int sq_rmw_once(sqlite3 *db, const sq_rmw_stmts *s, int64_t id)
{
    int rc = sq_rmw_step(db, s->begin, SQLITE_DONE, "BEGIN IMMEDIATE");
    if (rc != 0)
        return rc; /* no transaction began */
    sqlite3_bind_int64(s->select, 1, id);
    rc = sqlite3_step(s->select);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s->select);
        if (rc != SQLITE_BUSY) {
            bench_fail("sqlite rmw: counter %lld: SELECT returned %d %s where the row exists",
                       (long long)id, rc, sqlite3_errmsg(db));
            rc = -1;
        }
        goto undo;
    }
    int64_t n = sqlite3_column_int64(s->select, 0) + 1;
    sqlite3_reset(s->select);
    sqlite3_bind_int64(s->update, 1, n);
    sqlite3_bind_int64(s->update, 2, id);
    if ((rc = sq_rmw_step(db, s->update, SQLITE_DONE, "UPDATE counter")) != 0)
        goto undo;
    sqlite3_bind_int64(s->insert, 1, id);
    sqlite3_bind_int64(s->insert, 2, n);
    if ((rc = sq_rmw_step(db, s->insert, SQLITE_DONE, "INSERT INTO event")) != 0)
        goto undo;
    if ((rc = sq_rmw_step(db, s->commit, SQLITE_DONE, "COMMIT")) != 0)
        goto undo;
    return 0;
undo:
    if (!sqlite3_get_autocommit(db)) {
        int rb = sqlite3_step(s->rollback);
        sqlite3_reset(s->rollback);
        if (rb != SQLITE_DONE)
            return sq_report(db, "rmw", "ROLLBACK", rb);
    }
    return rc;
}

typedef struct sq_rmw_arg {
    const char *path;
    int k, nthreads, ntxn;
    conc_stats st; /* this thread's retries */
    int failed;
} sq_rmw_arg;

static void *sq_rmw_main(void *arg)
{
    sq_rmw_arg *a = arg;
    sqlite3 *db = NULL;
    sq_rmw_stmts s;
    memset(&s, 0, sizeof s);
    a->failed = 1;
    if (sq_open(&db, a->path, 0) < 0)
        return NULL;
    sqlite3_busy_timeout(db, 600000);
    if (sq_exec(db, "PRAGMA cache_size=-65536;") < 0 || sq_sync_pragma(db, 1) < 0 ||
        sq_prepare(db, "BEGIN IMMEDIATE", &s.begin) < 0 ||
        sq_prepare(db, "SELECT n FROM counter WHERE id = ?1", &s.select) < 0 ||
        sq_prepare(db, "UPDATE counter SET n = ?1 WHERE id = ?2", &s.update) < 0 ||
        sq_prepare(db, "INSERT INTO event(counter, n) VALUES (?1, ?2)", &s.insert) < 0 ||
        sq_prepare(db, "COMMIT", &s.commit) < 0 || sq_prepare(db, "ROLLBACK", &s.rollback) < 0)
        goto done;
    for (int64_t i = a->k; i < a->ntxn; i += a->nthreads) {
        int rc, attempts = 1;
        while ((rc = sq_rmw_once(db, &s, rmw_counter(i))) == SQLITE_BUSY)
            attempts++;
        if (rc < 0)
            goto done;
        a->st.retries += (uint64_t)(attempts - 1);
        a->st.retried += attempts > 1;
        if (attempts > a->st.max_attempts)
            a->st.max_attempts = attempts;
    }
    a->failed = 0;
done:
    sq_close(NULL, s.begin, s.select);
    sq_close(NULL, s.update, s.insert);
    sq_close(db, s.commit, s.rollback);
    return NULL;
}

int sq_rmw(const char *path, int nthreads, int ntxn, conc_stats *st, double *secs)
{
    sqlite3 *db = NULL;
    memset(st, 0, sizeof *st);
    if (sq_open(&db, path, 0) < 0)
        return -1;
    /* The counters, in one transaction (untimed). */
    char fill[160];
    snprintf(fill, sizeof fill,
             "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %d) "
             "INSERT INTO counter SELECT i, %d FROM k",
             RMW_ROWS, RMW_INITIAL);
    if (sq_exec(db, WAL_PRAGMAS) < 0 || sq_sync_pragma(db, 1) < 0 || sq_exec(db, "BEGIN") < 0 ||
        sq_exec(db, RMW_DDL_COUNTER) < 0 || sq_exec(db, RMW_DDL_EVENT) < 0 ||
        sq_exec(db, fill) < 0 || sq_exec(db, "COMMIT") < 0) {
        sq_close(db, NULL, NULL);
        return -1;
    }
    pthread_t th[BENCH_MAX_THREADS];
    sq_rmw_arg args[BENCH_MAX_THREADS];
    int started = 0, failed = 0;
    double t0 = now_s();
    for (int k = 0; k < nthreads; k++) {
        memset(&args[k], 0, sizeof args[k]);
        args[k] = (sq_rmw_arg){.path = path, .k = k, .nthreads = nthreads, .ntxn = ntxn};
        if (pthread_create(&th[k], NULL, sq_rmw_main, &args[k]) != 0) {
            bench_fail("sqlite rmw: pthread_create failed");
            failed = 1;
            break;
        }
        started++;
    }
    for (int k = 0; k < started; k++) {
        pthread_join(th[k], NULL);
        failed |= args[k].failed;
        st->retries += args[k].st.retries;
        st->retried += args[k].st.retried;
        if (args[k].st.max_attempts > st->max_attempts)
            st->max_attempts = args[k].st.max_attempts;
    }
    *secs = now_s() - t0;
    sq_close(db, NULL, NULL);
    return failed ? -1 : 0;
}

#define RMW_STR_(x) #x
#define RMW_STR(x)  RMW_STR_(x)

int sq_rmw_verify(const char *path, int64_t commits)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sq_open(&db, path, 1) < 0)
        return -1;
    /* One row of figures. The last: counters whose events are not exactly
     * the values RMW_INITIAL + 1 .. n, each once. */
    static const char *const sql =
        "SELECT (SELECT group_concat(integrity_check, '; ') FROM pragma_integrity_check),"
        " (SELECT count(*) FROM counter), (SELECT sum(n) FROM counter),"
        " (SELECT count(*) FROM event),"
        " (SELECT count(*) FROM counter c LEFT JOIN"
        "   (SELECT counter, count(*) AS k, count(DISTINCT n) AS d, min(n) AS lo, max(n) AS hi"
        "    FROM event GROUP BY counter) e ON e.counter = c.id"
        "  WHERE c.n - " RMW_STR(
            RMW_INITIAL) " != coalesce(e.k, 0)"
                         "   OR (e.k IS NOT NULL AND (e.d != e.k OR e.lo != " RMW_STR(
                             RMW_INITIAL) " + 1 OR e.hi != c.n)))";
    if (sq_prepare(db, sql, &st) < 0)
        goto fail;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sq_report(db, "verify", "the rmw workload's figures", rc);
        goto fail;
    }
    const char *ic = (const char *)sqlite3_column_text(st, 0);
    int64_t counters = sqlite3_column_int64(st, 1), sum = sqlite3_column_int64(st, 2),
            events = sqlite3_column_int64(st, 3), wrong = sqlite3_column_int64(st, 4);
    if (!ic || strcmp(ic, "ok") != 0) {
        bench_fail("VERIFY FAILED: %s: PRAGMA integrity_check: %.300s", path, ic ? ic : "(null)");
        goto fail;
    }
    int64_t gained = sum - (int64_t)RMW_ROWS * RMW_INITIAL;
    if (counters != RMW_ROWS || gained != commits || events != commits || wrong != 0) {
        bench_fail("VERIFY FAILED: %s: WRITES LOST OR DOUBLED: %lld counters, sum(n) - %d*%d = "
                   "%lld, %lld events, %lld counters whose events do not match their n; "
                   "expected %d counters and %lld committed transactions",
                   path, (long long)counters, RMW_ROWS, RMW_INITIAL, (long long)gained,
                   (long long)events, (long long)wrong, RMW_ROWS, (long long)commits);
        goto fail;
    }
    sq_close(db, st, NULL);
    return 0;
fail:
    sq_close(db, st, NULL);
    return -1;
}

/* Read the row the statement is on into the digest. */
static void sq_read_row(sqlite3_stmt *st, uint64_t *sum)
{
    const unsigned char *area = sqlite3_column_text(st, 1);
    size_t n = (size_t)sqlite3_column_bytes(st, 1);
    *sum += row_digest(sqlite3_column_int64(st, 0), area, n, sqlite3_column_int64(st, 2),
                       sqlite3_column_int64(st, 3));
}

static int sq_read_loop(sqlite3 *db, sqlite3_stmt *st, read_kind k, const read_plan *p,
                        read_result *out)
{
    int rc;
    switch (k) {
    case READ_LOOKUP:
        for (size_t i = 0; i < p->nids; i++) {
            sqlite3_bind_int64(st, 1, p->ids[i]);
            if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
                bench_fail("sqlite: lookup of id %lld: step returned %d: %s", (long long)p->ids[i],
                           rc, sqlite3_errmsg(db));
                return -1;
            }
            sq_read_row(st, &out->sum);
            out->rows++;
            sqlite3_reset(st);
        }
        break;
    case READ_SEEK:
    case READ_RANGE:
        for (size_t i = 0; i < p->nareas; i++) {
            sqlite3_bind_text(st, 1, p->areas + i * AREA_LEN, AREA_LEN, SQLITE_STATIC);
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                sq_read_row(st, &out->sum);
                out->rows++;
            }
            sqlite3_reset(st);
            if (rc != SQLITE_DONE)
                return sq_report(db, "seek", "sqlite3_step", rc);
        }
        break;
    case READ_SCAN:
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            sq_read_row(st, &out->sum);
            out->rows++;
        }
        if (rc != SQLITE_DONE)
            return sq_report(db, "scan", "sqlite3_step", rc);
        sqlite3_reset(st);
        break;
    }
    return 0;
}

int sq_read(const char *path, read_kind k, const read_plan *p, long mmap_mb, read_result *out)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char sql[160];
    memset(out, 0, sizeof *out);
    if (sq_open(&db, path, 1) < 0)
        return -1;
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-65536; PRAGMA mmap_size=%lld;",
             (long long)mmap_mb << 20);
    if (sq_exec(db, sql) < 0)
        goto fail;
    switch (k) {
    case READ_LOOKUP:
        snprintf(sql, sizeof sql, "%s WHERE id = ?1", SQL_SELECT);
        break;
    case READ_SEEK:
        snprintf(sql, sizeof sql, "%s WHERE area = ?1 LIMIT 1", SQL_SELECT);
        break;
    case READ_RANGE:
        snprintf(sql, sizeof sql, "%s WHERE area >= ?1 ORDER BY area LIMIT %d", SQL_SELECT,
                 p->range_len);
        break;
    case READ_SCAN:
        if (p->where)
            snprintf(sql, sizeof sql, "%s WHERE %s", SQL_SELECT, p->where);
        else
            snprintf(sql, sizeof sql, "%s", SQL_SELECT);
        break;
    }
    if (sq_prepare(db, sql, &st) < 0 || sq_exec(db, "BEGIN") < 0)
        goto fail;
    double t0 = now_s();
    if (sq_read_loop(db, st, k, p, out) < 0)
        goto fail;
    out->secs = now_s() - t0;
    if (sq_exec(db, "COMMIT") < 0)
        goto fail;
    sq_close(db, st, NULL);
    return 0;
fail:
    sq_close(db, st, NULL);
    return -1;
}

int sq_mixed(const char *path, const mixed_op *ops, int ntxn, int per_txn, mixed_result *out)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL, *sel = NULL, *upd = NULL;
    bench_row r;
    int rc;
    memset(out, 0, sizeof *out);
    if (sq_open(&db, path, 0) < 0)
        return -1;
    if (sq_exec(db, WAL_PRAGMAS) < 0 || sq_sync_pragma(db, 1) < 0 ||
        sq_prepare(db, SQL_INSERT, &ins) < 0 ||
        sq_prepare(db, SQL_SELECT " WHERE id = ?1", &sel) < 0 ||
        sq_prepare(db, "UPDATE user SET age = ?2, active = ?3 WHERE id = ?1", &upd) < 0)
        goto fail;
    double t0 = now_s();
    for (int k = 0; k < ntxn; k++) {
        if (sq_exec(db, "BEGIN") < 0)
            goto fail;
        for (int j = 0; j < per_txn; j++) {
            const mixed_op *op = &ops[(size_t)k * (size_t)per_txn + (size_t)j];
            switch (op->kind) {
            case MIXED_READ:
                sqlite3_bind_int64(sel, 1, op->id);
                if ((rc = sqlite3_step(sel)) != SQLITE_ROW) {
                    sq_report(db, "mixed", "SELECT of an existing id", rc);
                    goto fail;
                }
                sq_read_row(sel, &out->sum);
                sqlite3_reset(sel);
                break;
            case MIXED_UPDATE:
                sqlite3_bind_int64(upd, 1, op->id);
                sqlite3_bind_int64(upd, 2, op->age);
                sqlite3_bind_int64(upd, 3, op->active);
                rc = sqlite3_step(upd);
                sqlite3_reset(upd);
                if (rc != SQLITE_DONE) {
                    sq_report(db, "mixed", "UPDATE", rc);
                    goto fail;
                }
                break;
            default:
                gen_row(&r, op->id);
                sq_bind_row(ins, &r);
                if (sq_insert_step(db, ins) < 0)
                    goto fail;
                break;
            }
        }
        if (sq_exec(db, "COMMIT") < 0)
            goto fail;
    }
    out->secs = now_s() - t0;
    sqlite3_finalize(upd);
    sq_close(db, ins, sel);
    return 0;
fail:
    sqlite3_finalize(upd);
    sq_close(db, ins, sel);
    return -1;
}

/* ---- memory children ---- */

static sqlite3_mem_methods sq_orig_mem;
static uint64_t sq_calls;

static void *count_malloc(int n)
{
    sq_calls++;
    return sq_orig_mem.xMalloc(n);
}

static void *count_realloc(void *p, int n)
{
    sq_calls++;
    return sq_orig_mem.xRealloc(p, n);
}

int sq_count_allocs(void)
{
    sqlite3_mem_methods m;
    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sq_orig_mem) != SQLITE_OK)
        return -1;
    m = sq_orig_mem;
    m.xMalloc = count_malloc;
    m.xRealloc = count_realloc;
    return sqlite3_config(SQLITE_CONFIG_MALLOC, &m) == SQLITE_OK ? 0 : -1;
}

uint64_t sq_alloc_calls(void)
{
    return sq_calls;
}

int sq_mem_insert(const char *path, int64_t rows, int64_t warm, int64_t window, mem_result *out)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bench_row r;
    uint64_t before = 0;
    memset(out, 0, sizeof *out);
    if (sq_open(&db, path, 0) < 0)
        return -1;
    /* The bulk settings, with folio's cache budget (64 MiB) so that the
     * peak RSS of the two engines compares like with like. */
    if (sq_exec(db, BULK_PRAGMAS "PRAGMA cache_size=-65536;") < 0 || sq_exec(db, USER_DDL) < 0 ||
        sq_exec(db, "BEGIN") < 0 || sq_prepare(db, SQL_INSERT, &st) < 0)
        goto fail;
    for (int64_t id = 1; id <= rows; id++) {
        if (id == warm + 1)
            before = sq_alloc_calls() + heap_calls();
        gen_row(&r, id);
        sq_bind_row(st, &r);
        if (sq_insert_step(db, st) < 0)
            goto fail;
        if (id == warm + window)
            out->allocs = sq_alloc_calls() + heap_calls() - before;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sq_exec(db, "COMMIT") < 0)
        goto fail;
    sq_close(db, NULL, NULL);
    out->window_rows = (uint64_t)window;
    out->allocs_per_row = (double)out->allocs / (double)window;
    out->rss_kb = peak_rss_kb();
    return 0;
fail:
    sq_close(db, st, NULL);
    return -1;
}

int sq_mem_read(const char *path, int64_t rows, int scan, int64_t warm, int64_t window,
                mem_result *out)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    uint64_t sum = 0, before = 0;
    bench_rng rng = {7};
    int rc = SQLITE_ROW;
    memset(out, 0, sizeof *out);
    if (sq_open(&db, path, 1) < 0)
        return -1;
    if (sq_exec(db, "PRAGMA cache_size=-65536;") < 0 ||
        sq_prepare(db, scan ? SQL_SELECT : SQL_SELECT " WHERE id = ?1", &st) < 0 ||
        sq_exec(db, "BEGIN") < 0)
        goto fail;
    for (int64_t i = 1; i <= warm + window; i++) {
        if (i == warm + 1)
            before = sq_alloc_calls() + heap_calls();
        if (!scan)
            sqlite3_bind_int64(st, 1, 1 + (int64_t)rng_below(&rng, (uint64_t)rows));
        if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
            sq_report(db, "memory read", "sqlite3_step", rc);
            goto fail;
        }
        sq_read_row(st, &sum);
        if (!scan)
            sqlite3_reset(st);
    }
    out->allocs = sq_alloc_calls() + heap_calls() - before;
    sqlite3_reset(st);
    if (sq_exec(db, "COMMIT") < 0)
        goto fail;
    sq_close(db, st, NULL);
    out->window_rows = (uint64_t)window;
    out->allocs_per_row = (double)out->allocs / (double)window;
    out->rss_kb = peak_rss_kb();
    return 0;
fail:
    sq_close(db, st, NULL);
    return -1;
}

/* ---- import: the stock sqlite3 shell ---- */

int sq_create_user(const char *path)
{
    sqlite3 *db = NULL;
    if (sq_open(&db, path, 0) < 0)
        return -1;
    if (sq_exec(db, USER_DDL) < 0) {
        sqlite3_close(db);
        return -1;
    }
    int rc = sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : sq_report(NULL, "create", "sqlite3_close", rc);
}

int sq_import_script(const char *script_path, const char *csv_path)
{
    FILE *f = fopen(script_path, "w");
    if (!f) {
        bench_fail("create %s: %s", script_path, strerror(errno));
        return -1;
    }
    /* The bulk pragmas, one per line, then the import; the file name is a
     * double-quoted argument of the dot-command (backslash escapes). */
    fprintf(f, "%s\n", BULK_PRAGMAS);
    fprintf(f, ".import --csv --skip 1 \"");
    for (const char *p = csv_path; *p; p++) {
        if (*p == '"' || *p == '\\')
            fputc('\\', f);
        fputc(*p, f);
    }
    fprintf(f, "\" user\n");
    if (fclose(f) != 0) {
        bench_fail("write %s: %s", script_path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- checking folio's files ---- */

int sq_verify(const char *path, int64_t rows, int want_sums, int64_t sum_age, int64_t sum_active,
              int want_index)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc, nmsg = 0;
    if (sq_open(&db, path, 1) < 0)
        return -1;
    if (sq_prepare(db, "PRAGMA integrity_check", &st) < 0)
        goto fail;
    char first[256] = "";
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0);
        if (nmsg++ == 0)
            snprintf(first, sizeof first, "%.200s", m ? m : "(null)");
        if (nmsg <= 5 && strcmp(first, "ok") != 0)
            fprintf(stderr, "    integrity_check: %s\n", m ? m : "(null)");
    }
    if (rc != SQLITE_DONE) {
        sq_report(db, "verify", "PRAGMA integrity_check", rc);
        goto fail;
    }
    if (nmsg != 1 || strcmp(first, "ok") != 0) {
        bench_fail("VERIFY FAILED: %s: PRAGMA integrity_check gave %d message(s), first: %s", path,
                   nmsg, first);
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sq_prepare(db, "SELECT count(*), sum(age), sum(active) FROM user", &st) < 0)
        goto fail;
    if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
        sq_report(db, "verify", "SELECT count(*)", rc);
        goto fail;
    }
    int64_t n = sqlite3_column_int64(st, 0), age = sqlite3_column_int64(st, 1),
            active = sqlite3_column_int64(st, 2);
    if (n != rows || (want_sums && (age != sum_age || active != sum_active))) {
        bench_fail("VERIFY FAILED: %s: count %lld sum(age) %lld sum(active) %lld, expected %lld "
                   "rows%s (sums %lld, %lld)",
                   path, (long long)n, (long long)age, (long long)active, (long long)rows,
                   want_sums ? "" : " (sums not checked)", (long long)sum_age,
                   (long long)sum_active);
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (want_index) {
        if (sq_prepare(db,
                       "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = "
                       "'user_area'",
                       &st) < 0)
            goto fail;
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 1) {
            bench_fail("VERIFY FAILED: %s: index user_area missing from sqlite_schema", path);
            goto fail;
        }
    }
    sq_close(db, st, NULL);
    return 0;
fail:
    sq_close(db, st, NULL);
    return -1;
}
