/*
 * test_apply_procs.c - several `folio apply` processes and a `sqlite3`
 * process writing one database at once.
 *
 * Each folio process applies its own file of one-row inserts
 * ({"writer": w, "seq": 0..L-1}), one transaction per line (--autocommit)
 * or all of them as one transaction; a sqlite3 shell (a forked libsqlite3
 * child when there is no `sqlite3` in PATH) inserts its rows one statement
 * at a time meanwhile. A unique index on (writer, seq) and text of mixed
 * lengths (some rows overflow) make every commit touch several b-trees.
 *
 * Everyone must finish with exit 0 (the busy timeouts are generous: waiting
 * for the others is expected, failing is not), and afterwards every writer's
 * rows are all there, exactly once; libsqlite3's integrity_check and
 * folio_check are clean.
 *
 * Sizes: 4 x 2000 folio lines and 2000 sqlite3 rows; FOLIO_SOAK=1 five
 * times as many.
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
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "share_util.h"

#define SQLITE_WRITER 100
#define RUN_LIMIT_MS  (share_soak() ? 1200000u : 240000u)

TestSuite(share_apply_procs, .fini = share_fini, .timeout = 1500);

/* Text of row (w, i): deterministic, mostly short, every 97th overflowing. */
static int pad_len(int w, int i)
{
    return (i % 97 == 0) ? 5000 + w * 10 : (i * 7 + w * 13) % 300;
}

static void make_db(const char *path)
{
    folio_db *db = share_folio_open(path, 5000, 1000);
    share_folio_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, "
                         "seq INTEGER NOT NULL, pad TEXT)");
    share_folio_exec(db, "CREATE UNIQUE INDEX t_ws ON t(writer, seq)");
    share_folio_exec(db, "CREATE INDEX t_pad ON t(pad)");
    cr_assert_eq(folio_close(db), FOLIO_OK);
}

static void write_jsonl(const char *file, int w, int lines)
{
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < lines; i++) {
        fprintf(f, "{\"op\":\"insert\",\"table\":\"t\",\"values\":[null,%d,%d,\"", w, i);
        for (int k = pad_len(w, i); k > 0; k--)
            fputc('a' + (k + i) % 26, f);
        fputs("\"]}\n", f);
    }
    cr_assert_eq(fclose(f), 0);
}

static void write_sql(const char *file, int rows)
{
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fputs(".timeout 120000\nPRAGMA synchronous=NORMAL;\n", f);
    for (int i = 0; i < rows; i++) {
        fprintf(f, "INSERT INTO t(writer, seq, pad) VALUES(%d, %d, '", SQLITE_WRITER, i);
        for (int k = pad_len(SQLITE_WRITER, i); k > 0; k--)
            fputc('a' + (k + i) % 26, f);
        fputs("');\n", f);
        if (i % 500 == 499)
            fputs("PRAGMA wal_checkpoint(PASSIVE);\n", f);
    }
    cr_assert_eq(fclose(f), 0);
}

/* Whether `name` is an executable in PATH. */
static int in_path(const char *name)
{
    const char *p = getenv("PATH");
    if (!p)
        return 0;
    char *copy = strdup(p);
    int found = 0;
    for (char *save = NULL, *d = strtok_r(copy, ":", &save); d && !found;
         d = strtok_r(NULL, ":", &save)) {
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", d, name);
        found = access(full, X_OK) == 0;
    }
    free(copy);
    return found;
}

/* The stand-in for the sqlite3 shell: the same statements through
 * libsqlite3, opened after the fork. */
typedef struct sql_job {
    const char *path;
    int rows;
} sql_job;

static int sqlite_inserter(void *arg)
{
    sql_job *j = arg;
    sqlite3 *db;
    if (sqlite3_open_v2(j->path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return 2;
    sqlite3_busy_timeout(db, 120000);
    sqlite3_exec(db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT INTO t(writer, seq, pad) VALUES(?1, ?2, ?3)", -1, &st,
                           NULL) != SQLITE_OK)
        return 3;
    char *pad = malloc(6000);
    for (int i = 0; i < j->rows; i++) {
        int n = pad_len(SQLITE_WRITER, i);
        for (int k = n; k > 0; k--)
            pad[n - k] = (char)('a' + (k + i) % 26);
        sqlite3_bind_int(st, 1, SQLITE_WRITER);
        sqlite3_bind_int(st, 2, i);
        sqlite3_bind_text(st, 3, pad, n, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "sqlite3 inserter: row %d: %s\n", i, sqlite3_errmsg(db));
            return 4;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    free(pad);
    return sqlite3_close(db) == SQLITE_OK ? 0 : 5;
}

typedef struct proc {
    pid_t pid;
    char name[32];
    char *out;
    int status;
    int done;
} proc;

static void print_output(const proc *p)
{
    size_t n = 0;
    if (compat_file_size(p->out) <= 0)
        return;
    uint8_t *text = compat_read_file(p->out, &n);
    cr_log_error("%s (%s) said:\n%.*s", p->name, share_status_str(p->status),
                 (int)(n > 4000 ? 4000 : n), (const char *)text);
    free(text);
}

/* Wait for every process up to the limit; kill the rest on timeout. */
static void wait_all(proc *ps, int n, unsigned limit_ms)
{
    uint64_t deadline = share_now_ms() + limit_ms;
    for (int i = 0; i < n; i++) {
        uint64_t now = share_now_ms();
        unsigned left = now < deadline ? (unsigned)(deadline - now) : 0;
        ps[i].done = share_wait(ps[i].pid, left, &ps[i].status);
    }
    int bad = 0;
    for (int i = 0; i < n; i++) {
        if (!ps[i].done) {
            cr_log_error("%s (pid %d) still running after %u ms", ps[i].name, (int)ps[i].pid,
                         limit_ms);
            bad = 1;
        } else if (!WIFEXITED(ps[i].status) || WEXITSTATUS(ps[i].status) != 0) {
            print_output(&ps[i]);
            bad = 1;
        }
    }
    if (bad) {
        share_kill_all();
        for (int i = 0; i < n; i++)
            cr_log_error("%s: %s", ps[i].name,
                         ps[i].done ? share_status_str(ps[i].status) : "killed");
        cr_assert_fail("not every writer finished with exit 0");
    }
}

/* Every writer's rows are there exactly once. */
static void check_rows(const char *path, int nfolio, int lines, int sqlite_rows)
{
    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok");
    free(why);
    sqlite3 *s = compat_sqlite_open_ro(path);
    for (int w = 0; w < nfolio; w++) {
        int64_t n = compat_query_int(s, "SELECT count(*) FROM t WHERE writer = %d", w);
        int64_t d = compat_query_int(
            s, "SELECT count(DISTINCT seq) FROM t WHERE writer = %d AND seq BETWEEN 0 AND %d", w,
            lines - 1);
        cr_assert_eq(n, lines, "folio writer %d: %lld rows of %d", w, (long long)n, lines);
        cr_assert_eq(d, lines, "folio writer %d: %lld distinct seqs", w, (long long)d);
        int64_t bad = compat_query_int(
            s,
            "SELECT count(*) FROM t WHERE writer = %d AND length(pad) != "
            "CASE WHEN seq %% 97 = 0 THEN 5000 + %d * 10 ELSE (seq * 7 + %d * 13) %% 300 END",
            w, w, w);
        cr_assert_eq(bad, 0, "folio writer %d: %lld rows with the wrong text", w, (long long)bad);
    }
    int64_t n = compat_query_int(s, "SELECT count(*) FROM t WHERE writer = %d", SQLITE_WRITER);
    int64_t d =
        compat_query_int(s, "SELECT count(DISTINCT seq) FROM t WHERE writer = %d", SQLITE_WRITER);
    cr_assert_eq(n, sqlite_rows, "sqlite3: %lld rows of %d", (long long)n, sqlite_rows);
    cr_assert_eq(d, sqlite_rows);
    int64_t total = compat_query_int(s, "SELECT count(*) FROM t");
    cr_assert_eq(total, (int64_t)nfolio * lines + sqlite_rows, "stray rows: %lld",
                 (long long)total);
    compat_sqlite_close(s);

    folio_db *db = share_folio_open(path, 5000, 1000);
    char *msg = share_folio_check(db);
    cr_assert_str_eq(msg, "ok", "folio_check: %s", msg);
    free(msg);
    cr_assert_eq(folio_close(db), FOLIO_OK);
}

static void run(int nfolio, int lines, int autocommit, int sqlite_rows)
{
    const char *cli = getenv("FOLIO_CLI");
    cr_assert(cli && *cli, "FOLIO_CLI must name the folio binary (CTest sets it)");
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "a.db");
    make_db(path);

    proc ps[16];
    memset(ps, 0, sizeof ps);
    char *inputs[16];
    for (int w = 0; w < nfolio; w++) {
        char name[32];
        snprintf(name, sizeof name, "in-%d.jsonl", w);
        inputs[w] = compat_path(dir, name);
        write_jsonl(inputs[w], w, lines);
    }
    char *script = compat_path(dir, "in.sql");
    write_sql(script, sqlite_rows);

    uint64_t t0 = share_now_ms();
    int n = 0;
    for (int w = 0; w < nfolio; w++) {
        char name[32];
        snprintf(name, sizeof name, "out-%d.txt", w);
        ps[n].out = compat_path(dir, name);
        snprintf(ps[n].name, sizeof ps[n].name, "folio apply %d", w);
        char *argv[] = {(char *)cli,
                        "--busy-timeout",
                        "120000",
                        "apply",
                        path,
                        inputs[w],
                        autocommit ? "--autocommit" : NULL,
                        NULL};
        ps[n].pid = share_spawn_exec(argv, NULL, ps[n].out);
        n++;
    }
    ps[n].out = compat_path(dir, "out-sqlite.txt");
    sql_job job = {path, sqlite_rows};
    if (in_path("sqlite3")) {
        snprintf(ps[n].name, sizeof ps[n].name, "sqlite3 shell");
        char *argv[] = {"sqlite3", "-bail", path, NULL};
        ps[n].pid = share_spawn_exec(argv, script, ps[n].out);
    } else {
        snprintf(ps[n].name, sizeof ps[n].name, "libsqlite3 child");
        ps[n].pid = share_spawn(sqlite_inserter, &job, NULL, 0);
    }
    n++;
    wait_all(ps, n, RUN_LIMIT_MS);
    cr_log_info("%d folio x %d lines%s and %d sqlite3 rows: %.1f s", nfolio, lines,
                autocommit ? " (autocommit)" : "", sqlite_rows,
                (double)(share_now_ms() - t0) / 1000.0);

    check_rows(path, nfolio, lines, sqlite_rows);
    for (int i = 0; i < n; i++)
        free(ps[i].out);
    for (int w = 0; w < nfolio; w++)
        free(inputs[w]);
    free(script);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

Test(share_apply_procs, autocommit_lines_and_sqlite3_at_once)
{
    int k = share_soak() ? 5 : 1;
    run(4, 2000 * k, 1, 2000 * k);
}

Test(share_apply_procs, whole_inputs_and_sqlite3_at_once)
{
    int k = share_soak() ? 5 : 1;
    run(3, 4000 * k, 0, 1000 * k);
}
