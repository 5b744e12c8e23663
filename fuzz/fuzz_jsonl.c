/* fuzz_jsonl.c - JSONL operations (cli/apply.c, the parser and executor of
 * `folio apply`) over arbitrary text, against a small database made once per
 * process. Every line is applied in one write transaction that is rolled back
 * at the end of the input, so each input starts from the same database; a
 * failing line rolls back and the next line starts a new transaction, so one
 * bad line does not hide the rest. */
#include <folio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "apply.h"
#include "fuzz_util.h"
#include "input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* util.c's usage errors print the usage that main.c owns; main.c is not
 * linked here (libFuzzer has the main()). */
void cli_print_usage(FILE *f, const cli_command *cmd, int full)
{
    (void)f;
    (void)cmd;
    (void)full;
}

static const char *const schema[] = {
    "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT UNIQUE, b REAL, c BLOB)",
    "CREATE INDEX t_b ON t(b DESC)",
    "CREATE TABLE w(k TEXT, n INTEGER, v, PRIMARY KEY(k, n)) WITHOUT ROWID",
    "CREATE INDEX w_v ON w(v)",
    "CREATE TABLE p(x NOT NULL DEFAULT 5, y NUMERIC)",
};

static const char seed_rows[] =
    "{\"op\":\"insert\",\"table\":\"t\",\"values\":[1,\"one\",1.5,null]}\n"
    "{\"op\":\"insert\",\"table\":\"t\",\"values\":[2,\"two\",-2.0,"
    "{\"blob\":\"00ff\"}]}\n"
    "{\"op\":\"insert\",\"table\":\"w\",\"values\":[\"k\",1,\"v\"]}\n"
    "{\"op\":\"insert\",\"table\":\"w\",\"values\":[\"k\",2,3]}\n"
    "{\"op\":\"insert\",\"table\":\"p\",\"values\":[1,\"2\"]}\n";

static void die(const char *what, folio_db *db)
{
    fprintf(stderr, "fuzz_jsonl setup: %s: %s\n", what, db ? folio_errmsg(db) : "");
    abort();
}

static folio_db *the_db;
static char db_path[600], wal_path[610], shm_path[610];

/* libFuzzer ends with exit(): close the database and remove its files. */
static void cleanup(void)
{
    if (the_db)
        folio_close(the_db);
    the_db = NULL;
    unlink(db_path);
    unlink(wal_path);
    unlink(shm_path);
}

static folio_db *setup_db(void)
{
    snprintf(db_path, sizeof db_path, "%s", fuzz_path("-jsonl.db"));
    snprintf(wal_path, sizeof wal_path, "%s-wal", db_path);
    snprintf(shm_path, sizeof shm_path, "%s-shm", db_path);
    const char *path = db_path;
    unlink(db_path);
    unlink(wal_path);
    unlink(shm_path);
    atexit(cleanup);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.sync = FOLIO_SYNC_OFF;
    o.cache_bytes = 1 << 20;
    folio_db *db = NULL;
    if (folio_open(&db, path, &o) != FOLIO_OK)
        die("open", NULL);
    folio_txn *tx;
    if (folio_begin(&tx, db, FOLIO_TXN_WRITE) != FOLIO_OK)
        die("begin", db);
    for (size_t i = 0; i < sizeof schema / sizeof schema[0]; i++)
        if (folio_exec(tx, schema[i]) != FOLIO_OK)
            die(schema[i], db);
    if (folio_commit(tx) != FOLIO_OK)
        die("commit", db);
    cli_apply a;
    apply_init(&a, db, 0);
    cli_input in;
    input_open_mem(&in, seed_rows, sizeof seed_rows - 1);
    if (apply_input(&a, &in, NULL) != 0)
        die(a.err, db);
    apply_free(&a);
    return db;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!the_db)
        the_db = setup_db();
    folio_db *db = the_db;
    cli_apply a;
    apply_init(&a, db, 0);
    cli_input in;
    input_open_mem(&in, data, size);
    const char *line;
    size_t n;
    while (input_line(&in, &line, &n) > 0)
        (void)apply_line(&a, in.line, line, n); /* errors are fine; crashes are not */
    apply_free(&a);                             /* rolls back */
    input_close(&in);
    return 0;
}
