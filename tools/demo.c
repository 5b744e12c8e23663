/*
 * demo.c - the `make run` demonstration: bulk-load a generated dataset into
 * a SQLite file with folio, do the same with libsqlite3 at its fastest bulk
 * settings, and print both speeds.
 *
 *   folio_demo DIR [ROWS]
 *
 * Writes DIR/demo.db (folio) and DIR/demo-sqlite.db (libsqlite3).
 */
#include <folio.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A small deterministic generator so both engines load the same rows. */
static uint64_t rng_state = 42;
static uint32_t rng(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

static void row_fields(int64_t i, char area[7], int64_t *age, int64_t *active)
{
    (void)i;
    snprintf(area, 7, "%06u", rng() % 1000000u);
    *age = rng() % 100;
    *active = rng() % 2;
}

static int fail(const char *what, const char *msg)
{
    fprintf(stderr, "folio_demo: %s: %s\n", what, msg);
    return 1;
}

static int load_folio(const char *path, int64_t rows, double *secs)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.sync = FOLIO_SYNC_OFF;
    o.cache_bytes = (size_t)256 << 20;
    folio_db *db;
    unlink(path);
    double t0 = now_s();
    if (folio_open(&db, path, &o) < 0)
        return fail("open", folio_open_errmsg());
    folio_txn *tx;
    folio_table *t;
    if (folio_begin(&tx, db, FOLIO_TXN_WRITE) < 0 ||
        folio_exec(tx, "CREATE TABLE user(id INTEGER PRIMARY KEY, area CHAR(6), age INTEGER, "
                       "active INTEGER)") < 0 ||
        folio_table_open(&t, tx, "user") < 0)
        return fail("create", folio_errmsg(db));
    char area[7];
    folio_value v[4];
    rng_state = 42;
    for (int64_t i = 1; i <= rows; i++) {
        int64_t age, active;
        row_fields(i, area, &age, &active);
        v[0].type = FOLIO_INTEGER;
        v[0].u.i = i;
        v[1].type = FOLIO_TEXT;
        v[1].u.s.p = area;
        v[1].u.s.n = 6;
        v[2].type = FOLIO_INTEGER;
        v[2].u.i = age;
        v[3].type = FOLIO_INTEGER;
        v[3].u.i = active;
        if (folio_insert(NULL, t, v, 4) < 0)
            return fail("insert", folio_errmsg(db));
    }
    if (folio_commit(tx) < 0)
        return fail("commit", folio_errmsg(db));
    if (folio_close(db) < 0)
        return fail("close", "checkpoint failed");
    *secs = now_s() - t0;
    return 0;
}

static int load_sqlite(const char *path, int64_t rows, double *secs)
{
    sqlite3 *db;
    unlink(path);
    double t0 = now_s();
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return fail("sqlite3_open", sqlite3_errmsg(db));
    const char *setup = "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
                        "PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-262144; "
                        "CREATE TABLE user(id INTEGER PRIMARY KEY, area CHAR(6), age INTEGER, "
                        "active INTEGER); BEGIN;";
    if (sqlite3_exec(db, setup, NULL, NULL, NULL) != SQLITE_OK)
        return fail("sqlite3 setup", sqlite3_errmsg(db));
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT INTO user VALUES(?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
        return fail("sqlite3 prepare", sqlite3_errmsg(db));
    char area[7];
    rng_state = 42;
    for (int64_t i = 1; i <= rows; i++) {
        int64_t age, active;
        row_fields(i, area, &age, &active);
        sqlite3_bind_int64(st, 1, i);
        sqlite3_bind_text(st, 2, area, 6, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, age);
        sqlite3_bind_int64(st, 4, active);
        if (sqlite3_step(st) != SQLITE_DONE)
            return fail("sqlite3 insert", sqlite3_errmsg(db));
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return fail("sqlite3 commit", sqlite3_errmsg(db));
    sqlite3_close(db);
    *secs = now_s() - t0;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: folio_demo DIR [ROWS]\n");
        return 2;
    }
    int64_t rows = argc > 2 ? atoll(argv[2]) : 2000000;
    char fpath[4096], spath[4096];
    snprintf(fpath, sizeof fpath, "%s/demo.db", argv[1]);
    snprintf(spath, sizeof spath, "%s/demo-sqlite.db", argv[1]);
    double tf = 0, ts = 0;
    printf("Loading %lld rows of user(id INTEGER PRIMARY KEY, area CHAR(6), age INTEGER, "
           "active INTEGER)\n",
           (long long)rows);
    if (load_sqlite(spath, rows, &ts))
        return 1;
    printf("  sqlite3 (journal off, sync off, exclusive, prepared): %7.3f s  %10.0f rows/s\n", ts,
           (double)rows / ts);
    if (load_folio(fpath, rows, &tf))
        return 1;
    printf("  folio   (sync off, one transaction):                 %7.3f s  %10.0f rows/s\n", tf,
           (double)rows / tf);
    printf("  folio is %.2fx the speed of sqlite3 on this load\n", ts / tf);
    return 0;
}
