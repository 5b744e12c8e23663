/*
 * test_cli_write.c: the write commands of the folio tool (exec, apply,
 * import, checkpoint, vacuum, backup), run as a separate process (the binary named by
 * $FOLIO_CLI) on databases in a fresh temporary directory. Every file the
 * tool writes is checked with libsqlite3: PRAGMA integrity_check and the
 * exact values (type and bytes). CSV imports are compared with what the
 * sqlite3 shell's .import stores for the same file and schema.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* nftw */
#endif

#include <criterion/criterion.h>
#include <folio.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- Temporary directory ------------------------------------------------- */

static char tmpdir[PATH_MAX];

/* Paths handed out by tpath(), freed at teardown: they stay valid for the
 * whole test, however many are made. */
static char **paths;
static size_t npaths;

static void setup(void)
{
    const char *base = getenv("FOLIO_TMP");
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0755); /* CTest's FOLIO_TMP may not exist yet */
    snprintf(tmpdir, sizeof tmpdir, "%s/folio-cliw-XXXXXX", base);
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp under %s: %s", base, strerror(errno));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void teardown(void)
{
    if (tmpdir[0])
        nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (size_t i = 0; i < npaths; i++)
        free(paths[i]);
    free(paths);
    paths = NULL;
    npaths = 0;
}

/* A path inside the temporary directory. */
static const char *tpath(const char *name)
{
    size_t len = strlen(tmpdir) + strlen(name) + 2;
    char *p = malloc(len);
    cr_assert_not_null(p);
    snprintf(p, len, "%s/%s", tmpdir, name);
    paths = realloc(paths, (npaths + 1) * sizeof *paths);
    cr_assert_not_null(paths);
    paths[npaths++] = p;
    return p;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "create %s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(p, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

/* Write the NUL-terminated text `s` to tmpdir/name; returns the path. */
static const char *put_text(const char *name, const char *s)
{
    const char *path = tpath(name);
    write_file(path, s, strlen(s));
    return path;
}

static char *slurp(const char *path, size_t *out_n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *p = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            p = realloc(p, cap + 1);
        }
        size_t got = fread(p + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    p[n] = '\0';
    *out_n = n;
    return p;
}

static void copy_file(const char *from, const char *to)
{
    size_t n;
    char *p = slurp(from, &n);
    write_file(to, p, n);
    free(p);
}

/* ---- Running programs -------------------------------------------------------- */

typedef struct result {
    int status; /* exit status, or 128 + signal */
    char *out;
    size_t out_n;
    char *err;
    size_t err_n;
} result;

static const char *cli_path(void)
{
    const char *cli = getenv("FOLIO_CLI");
    cr_assert(cli && *cli, "FOLIO_CLI must name the folio binary (CTest sets it)");
    return cli;
}

/* Run `prog` (a path, or a name looked up in PATH) with the NULL-terminated
 * arguments `args`, standard input from `in` (NULL: /dev/null). */
static result run_prog(const char *prog, const char *in, const char *const *args)
{
    char out_path[2 * PATH_MAX], err_path[2 * PATH_MAX], in_path[2 * PATH_MAX];
    snprintf(out_path, sizeof out_path, "%s/.stdout", tmpdir);
    snprintf(err_path, sizeof err_path, "%s/.stderr", tmpdir);
    snprintf(in_path, sizeof in_path, "%s", in ? in : "/dev/null");
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)prog;
    for (; args[argc - 1]; argc++) {
        cr_assert(argc < 63);
        argv[argc] = (char *)args[argc - 1];
    }
    argv[argc] = NULL;

    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int i = open(in_path, O_RDONLY);
        if (o < 0 || e < 0 || i < 0)
            _exit(126);
        dup2(i, 0);
        dup2(o, 1);
        dup2(e, 2);
        execvp(prog, argv);
        _exit(127);
    }
    int st = 0;
    cr_assert(waitpid(pid, &st, 0) == pid);
    result r;
    memset(&r, 0, sizeof r);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = slurp(out_path, &r.out_n);
    r.err = slurp(err_path, &r.err_n);
    unlink(out_path);
    unlink(err_path);
    return r;
}

#define RUN(...)        run_prog(cli_path(), NULL, (const char *const[]){__VA_ARGS__, NULL})
#define RUN_IN(in, ...) run_prog(cli_path(), in, (const char *const[]){__VA_ARGS__, NULL})

static void result_free(result *r)
{
    free(r->out);
    free(r->err);
}

/* The command succeeded with nothing on stderr. */
static void assert_ok(const result *r)
{
    cr_assert_eq(r->status, 0, "exit status %d, stderr: %s", r->status, r->err);
    cr_assert_eq(r->err_n, 0, "unexpected stderr: %s", r->err);
}

/* The command failed with exit status 1 and exactly one "folio: " line that
 * contains `want` (if not NULL). */
static void assert_fail_with(const result *r, const char *want)
{
    cr_assert_eq(r->status, 1, "exit status %d (want 1), stderr: %s", r->status, r->err);
    cr_assert(strncmp(r->err, "folio: ", 7) == 0, "stderr: %s", r->err);
    cr_assert(r->err_n > 8 && r->err[r->err_n - 1] == '\n', "stderr: %s", r->err);
    cr_assert_null(memchr(r->err, '\n', r->err_n - 1), "more than one line on stderr: %s", r->err);
    if (want)
        cr_assert_not_null(strstr(r->err, want), "stderr lacks '%s': %s", want, r->err);
}

/* A usage error: exit status 2, a "folio: " message and a usage reminder. */
static void assert_usage(const result *r)
{
    cr_assert_eq(r->status, 2, "exit status %d (want 2), stderr: %s", r->status, r->err);
    cr_assert(strncmp(r->err, "folio: ", 7) == 0, "stderr: %s", r->err);
    cr_assert_not_null(strstr(r->err, "usage:"), "no usage on stderr: %s", r->err);
    cr_assert_eq(r->out_n, 0, "unexpected stdout: %s", r->out);
}

/* ---- Checking files with libsqlite3 -------------------------------------------- */

static sqlite3 *db_open(const char *path)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    cr_assert_eq(rc, SQLITE_OK, "sqlite3_open %s: %s", path, sqlite3_errmsg(db));
    return db;
}

static void db_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
}

static void db_close(sqlite3 *db)
{
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);
}

static const char *make_db(const char *name, const char *script)
{
    const char *path = tpath(name);
    sqlite3 *db = db_open(path);
    db_exec(db, script);
    db_close(db);
    return path;
}

/* The first column of the first row of `sql` on `path` as text (a new
 * string; "(null)" for NULL, "(none)" without a row). */
static char *q1(const char *path, const char *sql)
{
    sqlite3 *db = db_open(path);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    int rc = sqlite3_step(st);
    cr_assert(rc == SQLITE_ROW || rc == SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
    char *out;
    if (rc == SQLITE_DONE)
        out = strdup("(none)");
    else if (sqlite3_column_type(st, 0) == SQLITE_NULL)
        out = strdup("(null)");
    else
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    db_close(db);
    return out;
}

static void assert_q(const char *path, const char *sql, const char *want)
{
    char *got = q1(path, sql);
    cr_assert_str_eq(got, want, "%s on %s", sql, path);
    free(got);
}

static void assert_integrity(const char *path)
{
    assert_q(path, "PRAGMA integrity_check", "ok");
}

static void put_hex(char **p, size_t *n, size_t *cap, const unsigned char *s, size_t len)
{
    while (*n + 2 * len + 64 > *cap) {
        *cap *= 2;
        *p = realloc(*p, *cap);
    }
    for (size_t i = 0; i < len; i++)
        *n += (size_t)sprintf(*p + *n, "%02x", s[i]);
}

/* Every row of `sql` as "type:value" fields, exactly (reals with %a, text and
 * blobs in hex), one row per line: two tables hold the same values exactly
 * when their images are equal. */
static char *image(const char *path, const char *sql)
{
    sqlite3 *db = db_open(path);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    size_t cap = 4096, n = 0;
    char *p = malloc(cap);
    p[0] = '\0';
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            if (n + 128 > cap) {
                cap *= 2;
                p = realloc(p, cap);
            }
            if (i > 0)
                p[n++] = ' ';
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_INTEGER:
                n += (size_t)sprintf(p + n, "i:%lld", (long long)sqlite3_column_int64(st, i));
                break;
            case SQLITE_FLOAT:
                n += (size_t)sprintf(p + n, "r:%a", sqlite3_column_double(st, i));
                break;
            case SQLITE_TEXT:
            case SQLITE_BLOB: {
                int is_text = sqlite3_column_type(st, i) == SQLITE_TEXT;
                const unsigned char *b =
                    is_text ? sqlite3_column_text(st, i) : sqlite3_column_blob(st, i);
                size_t len = (size_t)sqlite3_column_bytes(st, i);
                n += (size_t)sprintf(p + n, is_text ? "t:" : "b:");
                put_hex(&p, &n, &cap, b, len);
                break;
            }
            default:
                n += (size_t)sprintf(p + n, "null");
                break;
            }
        }
        if (n + 2 > cap) {
            cap *= 2;
            p = realloc(p, cap);
        }
        p[n++] = '\n';
        p[n] = '\0';
    }
    cr_assert_eq(rc, SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    db_close(db);
    return p;
}

static void assert_image(const char *path, const char *sql, const char *want)
{
    char *got = image(path, sql);
    cr_assert_str_eq(got, want, "%s on %s", sql, path);
    free(got);
}

/* ---- exec ---------------------------------------------------------------------- */

Test(cli_write, exec_creates_tables_and_indexes, .init = setup, .fini = teardown)
{
    const char *db = tpath("new.db");
    result r = RUN("--page-size", "8192", "exec", db,
                   "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL)");
    assert_ok(&r);
    cr_assert_eq(r.out_n, 0);
    result_free(&r);
    r = RUN("exec", db, "CREATE UNIQUE INDEX t_name ON t(name)");
    assert_ok(&r);
    result_free(&r);
    r = RUN("exec", db, "CREATE TABLE w(a TEXT, b INT, c, PRIMARY KEY(a, b)) WITHOUT ROWID");
    assert_ok(&r);
    result_free(&r);
    r = RUN("exec", db, "CREATE INDEX w_c ON w(c DESC)");
    assert_ok(&r);
    result_free(&r);

    cr_assert_neq(access(tpath("new.db-wal"), F_OK), 0, "a -wal was left behind");
    assert_integrity(db);
    assert_q(db, "PRAGMA page_size", "8192");
    assert_q(db, "SELECT group_concat(type || ':' || name, ',') FROM sqlite_schema",
             "table:t,index:t_name,table:w,index:w_c");
    assert_q(db, "SELECT sql FROM sqlite_schema WHERE name = 'w_c'",
             "CREATE INDEX w_c ON w(c DESC)");
    /* The tables work in SQLite. */
    sqlite3 *sq = db_open(db);
    db_exec(sq, "INSERT INTO t(name, score) VALUES('a', 1.5); INSERT INTO w VALUES('k', 1, 2);");
    db_close(sq);
    assert_integrity(db);

    r = RUN("exec", db, "DROP INDEX t_name");
    assert_ok(&r);
    result_free(&r);
    r = RUN("exec", db, "DROP TABLE w");
    assert_ok(&r);
    result_free(&r);
    assert_integrity(db);
    assert_q(db, "SELECT group_concat(name, ',') FROM sqlite_schema", "t");
}

Test(cli_write, exec_errors_exit_1, .init = setup, .fini = teardown)
{
    const char *db = make_db("e.db", "CREATE TABLE t(a); INSERT INTO t VALUES(1);");
    result r = RUN("exec", db, "CREATE TABLE t(b)");
    assert_fail_with(&r, "already exists");
    result_free(&r);
    r = RUN("exec", db, "CREATE TABLE (");
    assert_fail_with(&r, NULL);
    result_free(&r);
    r = RUN("exec", db, "CREATE INDEX i ON nosuch(a)");
    assert_fail_with(&r, NULL);
    result_free(&r);
    assert_integrity(db);
    assert_q(db, "SELECT group_concat(name) FROM sqlite_schema", "t");
    assert_q(db, "SELECT a FROM t", "1");
}

/* ---- apply ------------------------------------------------------------------------- */

/* Apply the JSONL text `ops` (written to a file) to `db`. */
static result apply_text(const char *db, const char *ops, const char *flag)
{
    const char *file = put_text("ops.jsonl", ops);
    if (flag)
        return RUN("apply", db, file, flag);
    return RUN("apply", db, file);
}

Test(cli_write, apply_every_op_on_a_rowid_table, .init = setup, .fini = teardown)
{
    const char *db = make_db("a.db", "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT UNIQUE, b);"
                                     "CREATE TABLE p(x, y);");
    result r = apply_text(db,
                          "{\"op\":\"insert\",\"table\":\"t\",\"values\":[null,\"one\",1]}\n"
                          "{\"op\":\"insert\",\"table\":\"T\",\"rowid\":10,"
                          "\"values\":[null,\"ten\",10.5]}\n"
                          "{\"op\":\"insert\",\"table\":\"t\",\"values\":[5,\"five\"]}\n"
                          "\n"
                          "{\"op\":\"update\",\"table\":\"t\",\"rowid\":1,"
                          "\"values\":[1,\"uno\",{\"blob\":\"00FF\"}]}\n"
                          "{\"op\":\"upsert\",\"table\":\"t\",\"rowid\":5,"
                          "\"values\":[null,\"FIVE\",null]}\n"
                          "{\"op\":\"upsert\",\"table\":\"t\",\"rowid\":7,"
                          "\"values\":[null,\"seven\",7]}\n"
                          "{\"op\":\"patch\",\"table\":\"t\",\"rowid\":10,"
                          "\"set\":{\"B\":{\"real\":\"-Infinity\"}}}\n"
                          "{\"op\":\"delete\",\"table\":\"t\",\"rowid\":7}\n"
                          "{\"op\":\"insert\",\"table\":\"p\",\"rowid\":3,\"values\":[1,2]}\n"
                          "{\"op\":\"insert\",\"table\":\"p\",\"values\":[3]}\n"
                          "{\"op\":\"exec\",\"sql\":\"CREATE INDEX p_y ON p(y)\"}\n"
                          "{\"op\":\"patch\",\"table\":\"p\",\"rowid\":4,\"set\":{\"y\":\"q\"}}\n",
                          NULL);
    assert_ok(&r);
    cr_assert_eq(r.out_n, 0, "stdout: %s", r.out);
    result_free(&r);
    assert_integrity(db);
    assert_image(db, "SELECT rowid, * FROM t ORDER BY rowid",
                 "i:1 i:1 t:756e6f b:00ff\n"
                 "i:5 i:5 t:46495645 null\n"
                 "i:10 i:10 t:74656e r:-inf\n");
    assert_image(db, "SELECT rowid, * FROM p ORDER BY rowid", "i:3 i:1 i:2\ni:4 i:3 t:71\n");
    assert_q(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'p_y'", "1");
}

Test(cli_write, apply_without_rowid_key_ops, .init = setup, .fini = teardown)
{
    const char *db =
        make_db("w.db", "CREATE TABLE w(a TEXT, b INTEGER, c, PRIMARY KEY(a, b)) WITHOUT ROWID;"
                        "CREATE INDEX w_c ON w(c);"
                        "INSERT INTO w VALUES('x', 1, 'old'), ('x', 2, 'two'), ('y', 1, 'y1');");
    result r =
        apply_text(db,
                   "{\"op\":\"insert\",\"table\":\"w\",\"values\":[\"z\",9,{\"blob\":\"\"}]}\n"
                   "{\"op\":\"update\",\"table\":\"w\",\"key\":[\"x\",1],"
                   "\"values\":[\"x\",1,\"new\"]}\n"
                   "{\"op\":\"patch\",\"table\":\"w\",\"key\":[\"x\",2],\"set\":{\"c\":2.5}}\n"
                   "{\"op\":\"patch\",\"table\":\"w\",\"key\":[\"y\",1],\"set\":{\"b\":5}}\n"
                   "{\"op\":\"upsert\",\"table\":\"w\",\"values\":[\"z\",9,\"up\"]}\n"
                   "{\"op\":\"upsert\",\"table\":\"w\",\"values\":[\"q\",0,null]}\n"
                   "{\"op\":\"delete\",\"table\":\"w\",\"key\":[\"x\",1]}\n",
                   NULL);
    assert_ok(&r);
    result_free(&r);
    assert_integrity(db);
    assert_image(db, "SELECT * FROM w ORDER BY a, b",
                 "t:71 i:0 null\n"
                 "t:78 i:2 r:0x1.4p+1\n"
                 "t:79 i:5 t:7931\n"
                 "t:7a i:9 t:7570\n");
    /* The index follows the table. */
    assert_q(db, "SELECT group_concat(a || b, ',') FROM w INDEXED BY w_c WHERE c IS NOT NULL",
             "x2,z9,y5");

    /* A missing key is an error for update, patch and delete. */
    const char *missing[] = {
        "{\"op\":\"update\",\"table\":\"w\",\"key\":[\"nope\",1],\"values\":[\"nope\",1,2]}\n",
        "{\"op\":\"patch\",\"table\":\"w\",\"key\":[\"nope\",1],\"set\":{\"c\":1}}\n",
        "{\"op\":\"delete\",\"table\":\"w\",\"key\":[\"nope\",1]}\n",
    };
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        r = apply_text(db, missing[i], NULL);
        assert_fail_with(&r, "line 1: ");
        result_free(&r);
    }
    /* Keys belong to WITHOUT ROWID tables, rowids to the others. */
    r = apply_text(db, "{\"op\":\"delete\",\"table\":\"w\",\"rowid\":1}\n", NULL);
    assert_fail_with(&r, "WITHOUT ROWID");
    result_free(&r);
    r = apply_text(db, "{\"op\":\"insert\",\"table\":\"w\",\"values\":[\"z\",9,1]}\n", NULL);
    assert_fail_with(&r, "line 1: ");
    result_free(&r);
    assert_integrity(db);
    assert_q(db, "SELECT count(*) FROM w", "4");
}

Test(cli_write, apply_insert_with_existing_rowid_fails, .init = setup, .fini = teardown)
{
    const char *db =
        make_db("r.db", "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
                        "CREATE TABLE p(v);"
                        "INSERT INTO t VALUES(3, 'three'); INSERT INTO p VALUES('p1');");
    result r = apply_text(
        db, "{\"op\":\"insert\",\"table\":\"t\",\"rowid\":3,\"values\":[null,1]}\n", NULL);
    assert_fail_with(&r, "folio: line 1: UNIQUE constraint failed");
    result_free(&r);
    r = apply_text(db, "{\"op\":\"insert\",\"table\":\"p\",\"rowid\":1,\"values\":[1]}\n", NULL);
    assert_fail_with(&r, "folio: line 1: UNIQUE constraint failed");
    result_free(&r);
    /* The INTEGER PRIMARY KEY value and the rowid must agree. */
    r = apply_text(db, "{\"op\":\"insert\",\"table\":\"t\",\"rowid\":4,\"values\":[5,1]}\n", NULL);
    assert_fail_with(&r, "line 1: ");
    result_free(&r);
    r = apply_text(db, "{\"op\":\"insert\",\"table\":\"t\",\"rowid\":4,\"values\":[4,\"four\"]}\n",
                   NULL);
    assert_ok(&r);
    result_free(&r);
    assert_integrity(db);
    assert_image(db, "SELECT * FROM t", "i:3 t:7468726565\ni:4 t:666f7572\n");
    assert_image(db, "SELECT rowid, * FROM p", "i:1 t:7031\n");
}

Test(cli_write, apply_missing_rows_are_errors, .init = setup, .fini = teardown)
{
    const char *db = make_db("m.db", "CREATE TABLE t(a); INSERT INTO t VALUES('x');");
    const char *ops[] = {
        "{\"op\":\"update\",\"table\":\"t\",\"rowid\":5,\"values\":[1]}",
        "{\"op\":\"patch\",\"table\":\"t\",\"rowid\":5,\"set\":{\"a\":1}}",
        "{\"op\":\"delete\",\"table\":\"t\",\"rowid\":5}",
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "{\"op\":\"insert\",\"table\":\"t\",\"values\":[\"y\"]}\n%s\n",
                 ops[i]);
        result r = apply_text(db, text, NULL);
        assert_fail_with(&r, "folio: line 2: ");
        result_free(&r);
    }
    assert_integrity(db);
    assert_image(db, "SELECT rowid, a FROM t", "i:1 t:78\n");
}

/* A failing line in the middle: exit 1, the line is named, and nothing of the
 * transaction remains (rows, updates, deletes, a table made by exec). */
Test(cli_write, apply_failure_rolls_back_the_whole_input, .init = setup, .fini = teardown)
{
    const char *db = make_db("f.db", "CREATE TABLE t(a UNIQUE, b);"
                                     "INSERT INTO t VALUES(1, 'one'), (2, 'two');");
    char *before = image(db, "SELECT rowid, * FROM t");
    result r = apply_text(db,
                          "{\"op\":\"insert\",\"table\":\"t\",\"values\":[3,\"three\"]}\n"
                          "{\"op\":\"exec\",\"sql\":\"CREATE TABLE n(x)\"}\n"
                          "{\"op\":\"insert\",\"table\":\"n\",\"values\":[1]}\n"
                          "{\"op\":\"update\",\"table\":\"t\",\"rowid\":1,\"values\":[1,\"ONE\"]}\n"
                          "{\"op\":\"delete\",\"table\":\"t\",\"rowid\":2}\n"
                          "\n"
                          "{\"op\":\"insert\",\"table\":\"t\",\"values\":[1,\"dup\"]}\n"
                          "{\"op\":\"insert\",\"table\":\"t\",\"values\":[4,\"four\"]}\n",
                          NULL);
    assert_fail_with(&r, "folio: line 7: UNIQUE constraint failed: t.a");
    result_free(&r);
    assert_integrity(db);
    assert_image(db, "SELECT rowid, * FROM t", before);
    assert_q(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'n'", "0");
    free(before);
}

Test(cli_write, apply_autocommit_keeps_the_lines_before, .init = setup, .fini = teardown)
{
    const char *db = make_db("ac.db", "CREATE TABLE t(a UNIQUE);");
    result r = apply_text(db,
                          "{\"op\":\"insert\",\"table\":\"t\",\"values\":[\"one\"]}\n"
                          "{\"op\":\"insert\",\"table\":\"t\",\"values\":[\"two\"]}\n"
                          "{\"op\":\"insert\",\"table\":\"t\",\"values\":[\"one\"]}\n"
                          "{\"op\":\"insert\",\"table\":\"t\",\"values\":[\"six\"]}\n",
                          "--autocommit");
    assert_fail_with(&r, "folio: line 3: UNIQUE constraint failed: t.a");
    result_free(&r);
    assert_integrity(db);
    assert_image(db, "SELECT rowid, a FROM t", "i:1 t:6f6e65\ni:2 t:74776f\n");
}

/* A row of one small integer is a 4-byte cell, the smallest there is; the
 * first one on a page lies at its very end. sqlite3 writes such pages, and
 * folio must seek in them (a rowid seek once refused them as "cell pointer
 * out of range", src/btree/btree_cursor.c cell_rowid()). */
Test(cli_write, apply_to_a_page_ending_in_a_minimal_cell, .init = setup, .fini = teardown)
{
    const char *db = make_db("min.db", "CREATE TABLE t(a); INSERT INTO t VALUES(1);");
    result r = apply_text(db,
                          "{\"op\":\"insert\",\"table\":\"t\",\"values\":[2]}\n"
                          "{\"op\":\"update\",\"table\":\"t\",\"rowid\":1,\"values\":[3]}\n",
                          NULL);
    assert_ok(&r);
    result_free(&r);
    assert_integrity(db);
    assert_image(db, "SELECT rowid, a FROM t", "i:1 i:3\ni:2 i:2\n");
}

/* Bad lines: each gets exit 1 and a message naming its line, and the good
 * line before it is rolled back. */
Test(cli_write, apply_malformed_lines, .init = setup, .fini = teardown)
{
    const char *db = make_db("bad.db", "CREATE TABLE t(a, b);"
                                       "CREATE TABLE w(k PRIMARY KEY, v) WITHOUT ROWID;");
    static const struct {
        const char *line;
        const char *want;
    } cases[] = {
        {"{\"op\":\"insert\",\"table\":\"t\",\"values\":[1,2]", "invalid JSON"},
        {"not json", "invalid JSON"},
        {"[1,2]", "expected a JSON object"},
        {"{\"table\":\"t\",\"values\":[1]}", "missing \"op\""},
        {"{\"op\":7}", "\"op\" must be a string"},
        {"{\"op\":\"frob\",\"table\":\"t\"}", "unknown op \"frob\""},
        {"{\"op\":\"insert\",\"values\":[1]}", "missing \"table\""},
        {"{\"op\":\"insert\",\"table\":\"t\"}", "missing \"values\""},
        {"{\"op\":\"insert\",\"table\":5,\"values\":[1]}", "\"table\" must be a string"},
        {"{\"op\":\"insert\",\"table\":\"t\",\"values\":{\"a\":1}}", "\"values\" must be an array"},
        {"{\"op\":\"insert\",\"table\":\"t\",\"values\":[1],\"rowId\":3}",
         "unexpected member \"rowId\""},
        {"{\"op\":\"insert\",\"table\":\"t\",\"values\":[1],\"op\":\"insert\"}", "invalid JSON"},
        {"{\"op\":\"update\",\"table\":\"t\",\"rowid\":\"1\",\"values\":[1]}",
         "\"rowid\" must be an integer"},
        {"{\"op\":\"update\",\"table\":\"t\",\"rowid\":1.0,\"values\":[1]}",
         "\"rowid\" must be an integer"},
        {"{\"op\":\"update\",\"table\":\"t\",\"values\":[1]}", "missing \"rowid\""},
        {"{\"op\":\"delete\",\"table\":\"t\",\"key\":[1]}", "use \"rowid\""},
        {"{\"op\":\"delete\",\"table\":\"w\"}", "missing \"key\""},
        {"{\"op\":\"patch\",\"table\":\"t\",\"rowid\":1,\"set\":{\"zz\":1}}", "no column named zz"},
        {"{\"op\":\"patch\",\"table\":\"t\",\"rowid\":1,\"set\":[1]}", "\"set\" must be an object"},
        {"{\"op\":\"patch\",\"table\":\"t\",\"rowid\":1,\"set\":{\"a\":1,\"A\":2}}", "twice"},
        {"{\"op\":\"insert\",\"table\":\"nosuch\",\"values\":[1]}", "no such table: nosuch"},
        {"{\"op\":\"insert\",\"table\":\"t\",\"values\":[1,2,3]}", "line 2: "},
        {"{\"op\":\"insert\",\"table\":\"t\",\"values\":[true,1]}", "true and false"},
        {"{\"op\":\"insert\",\"table\":\"t\",\"values\":[[1],1]}", "an array is not a value"},
        {"{\"op\":\"insert\",\"table\":\"t\",\"values\":[{\"blob\":\"abc\"},1]}", "odd number"},
        {"{\"op\":\"insert\",\"table\":\"t\",\"values\":[{\"blob\":\"zz\"},1]}", "not a hex digit"},
        {"{\"op\":\"insert\",\"table\":\"t\",\"values\":[{\"real\":\"NaN\"},1]}", "Infinity"},
        {"{\"op\":\"insert\",\"table\":\"t\",\"values\":[{\"date\":\"x\"},1]}", "object value"},
        {"{\"op\":\"insert\",\"table\":\"t\",\"values\":[9223372036854775808,1]}", "invalid JSON"},
        {"{\"op\":\"insert\",\"table\":\"t\\u0000x\",\"values\":[1]}", "NUL"},
        {"{\"op\":\"exec\",\"sql\":\"CREATE TABLE\"}", "line 2: "},
        {"{\"op\":\"exec\",\"sql\":\"DROP TABLE nosuch\"}", "line 2: "},
        {"{\"op\":\"exec\"}", "missing \"sql\""},
        {"{\"op\":\"exec\",\"sql\":\"CREATE TABLE x(a)\",\"table\":\"t\"}", "unexpected member"},
        {"\"just a string\"", "expected a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "{\"op\":\"insert\",\"table\":\"t\",\"values\":[0,0]}\n%s\n",
                 cases[i].line);
        result r = apply_text(db, text, NULL);
        cr_assert_eq(r.status, 1, "%s: exit %d, stderr %s", cases[i].line, r.status, r.err);
        assert_fail_with(&r, "folio: line 2: ");
        cr_assert_not_null(strstr(r.err, cases[i].want), "%s: stderr lacks '%s': %s", cases[i].line,
                           cases[i].want, r.err);
        result_free(&r);
    }
    assert_integrity(db);
    assert_q(db, "SELECT count(*) FROM t", "0");
    assert_q(db, "SELECT count(*) FROM w", "0");
}

/* The value encodings survive dump -> apply -> dump unchanged, and the rows
 * are identical in SQLite's eyes (types and bytes). */
Test(cli_write, apply_round_trips_dump_values, .init = setup, .fini = teardown)
{
    const char *src = tpath("src.db");
    sqlite3 *sq = db_open(src);
    db_exec(sq, "CREATE TABLE v(id INTEGER PRIMARY KEY, x);"
                "CREATE TABLE w(k PRIMARY KEY, x) WITHOUT ROWID;");
    db_exec(sq, "INSERT INTO v(x) VALUES(0), (1), (-1), (9223372036854775807),"
                "(-9223372036854775808), (4294967296), (1.0), (0.1), (-0.0), (0.0), (-2.5),"
                "(1e308), (4.9406564584124654e-324), (2.5e300), (1e15), (0.1 + 0.2),"
                "(1.0 / 3.0), (9007199254740993.0), (1e999), (-1e999), ('plain'), (''),"
                "('say \"hi\" \\ back/slash'), (char(10, 13, 9, 8, 12, 1, 31, 127)),"
                "('a' || char(0) || 'b'), ('h' || char(233) || 'llo ' || char(8364, 128512)),"
                "(CAST(x'ff' AS TEXT)), (CAST(x'c0af' AS TEXT)), (CAST(x'eda080' AS TEXT)),"
                "(x'00ff10ab'), (x''), (NULL), (zeroblob(70000)), (printf('%.*c', 90000, 'z')),"
                "(CAST(x'6f6be282' AS TEXT)), (2), (3.5);");
    db_exec(sq, "INSERT INTO v(id, x) VALUES(1000000, 'far'), (-5, 'negative rowid');");
    db_exec(sq, "INSERT INTO w SELECT x, id FROM v WHERE x IS NOT NULL AND typeof(x) != 'blob'"
                " AND length(CAST(x AS BLOB)) < 1000 AND typeof(x) != 'real' OR id = 3;");
    db_close(sq);

    const char *dst = tpath("dst.db");
    result r = RUN("exec", dst, "CREATE TABLE v(id INTEGER PRIMARY KEY, x)");
    assert_ok(&r);
    result_free(&r);
    r = RUN("exec", dst, "CREATE TABLE w(k PRIMARY KEY, x) WITHOUT ROWID");
    assert_ok(&r);
    result_free(&r);

    const char *tables[] = {"v", "w"};
    char *dumps[2];
    size_t cap = 1 << 20;
    char *ops = malloc(cap);
    size_t n = 0;
    for (int k = 0; k < 2; k++) {
        r = RUN("dump", src, tables[k]);
        assert_ok(&r);
        dumps[k] = r.out;
        free(r.err);
        /* Each dumped row becomes an insert of the same values. */
        for (char *line = dumps[k]; *line;) {
            char *end = strchr(line, '\n');
            cr_assert_not_null(end);
            size_t len = (size_t)(end - line);
            while (n + len + 128 > cap) {
                cap *= 2;
                ops = realloc(ops, cap);
            }
            n += (size_t)sprintf(ops + n, "{\"op\":\"insert\",\"table\":\"%s\",\"values\":%.*s}\n",
                                 tables[k], (int)len, line);
            line = end + 1;
        }
    }
    ops[n] = '\0';
    const char *file = tpath("rt.jsonl");
    write_file(file, ops, n);
    free(ops);
    r = RUN("apply", dst, file);
    assert_ok(&r);
    result_free(&r);

    assert_integrity(dst);
    for (int k = 0; k < 2; k++) {
        r = RUN("dump", dst, tables[k]);
        assert_ok(&r);
        cr_assert_str_eq(r.out, dumps[k], "dump of %s differs after the round trip", tables[k]);
        result_free(&r);
        free(dumps[k]);
    }
    char *a = image(src, "SELECT * FROM v ORDER BY id");
    assert_image(dst, "SELECT * FROM v ORDER BY id", a);
    free(a);
    a = image(src, "SELECT * FROM w");
    assert_image(dst, "SELECT * FROM w", a);
    free(a);
    /* Spot checks of the trickiest values, straight from SQLite. */
    assert_image(dst, "SELECT x FROM v WHERE id = 9", "r:-0x0p+0\n");
    assert_q(dst, "SELECT hex(x) || typeof(x) FROM v WHERE id = 27", "FFtext");
    assert_q(dst, "SELECT length(x) || typeof(x) FROM v WHERE id = 33", "70000blob");
}

Test(cli_write, apply_reads_stdin_and_long_lines, .init = setup, .fini = teardown)
{
    const char *db = make_db("l.db", "CREATE TABLE t(a, b);");
    /* One line of 5 MB: longer than the input block. */
    size_t big = 5u << 20;
    size_t cap = big * 2 + 256;
    char *text = malloc(cap);
    size_t n = (size_t)sprintf(text, "{\"op\":\"insert\",\"table\":\"t\",\"values\":[\"");
    memset(text + n, 'x', big);
    n += big;
    n += (size_t)sprintf(text + n, "\",{\"blob\":\"");
    for (size_t i = 0; i < big / 4; i++) {
        memcpy(text + n, "ab", 2);
        n += 2;
    }
    n += (size_t)sprintf(text + n,
                         "\"}]}\r\n   \n{\"op\":\"insert\",\"table\":\"t\",\"values\":[1,2]}");
    const char *file = tpath("long.jsonl");
    write_file(file, text, n);
    free(text);

    result r = RUN_IN(file, "apply", db, "-");
    assert_ok(&r);
    result_free(&r);
    assert_integrity(db);
    char want[128];
    snprintf(want, sizeof want, "%zu text %zu blob", big, big / 4);
    assert_q(db,
             "SELECT length(a) || ' ' || typeof(a) || ' ' || length(b) || ' ' || typeof(b) "
             "FROM t WHERE rowid = 1",
             want);
    assert_q(db,
             "SELECT replace(a, 'x', '') = '' AND replace(hex(b), 'AB', '') = '' FROM t "
             "WHERE rowid = 1",
             "1");
    assert_image(db, "SELECT * FROM t WHERE rowid = 2", "i:1 i:2\n");
}

Test(cli_write, apply_creates_a_new_database, .init = setup, .fini = teardown)
{
    const char *db = tpath("fresh.db");
    result r = apply_text(db,
                          "{\"op\":\"exec\",\"sql\":\"CREATE TABLE t(a TEXT)\"}\n"
                          "{\"op\":\"insert\",\"table\":\"t\",\"values\":[12]}\n",
                          NULL);
    assert_ok(&r);
    result_free(&r);
    assert_integrity(db);
    assert_image(db, "SELECT * FROM t", "t:3132\n"); /* TEXT affinity made '12' */
}

/* ---- import: CSV ----------------------------------------------------------------------- */

/* Import `csv` into a fresh sqlite3 database made from `schema` with the
 * sqlite3 shell's .import, as the oracle. Returns the database path. */
static const char *sqlite3_import(const char *name, const char *schema, const char *csv_path,
                                  const char *table, int skip_header)
{
    const char *path = make_db(name, schema);
    char cmd[2 * PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, ".import --csv %s%s %s", skip_header ? "--skip 1 " : "", csv_path,
             table);
    result r = run_prog("sqlite3", NULL, (const char *const[]){path, cmd, NULL});
    cr_assert_eq(r.status, 0, "sqlite3 %s: exit %d: %s", cmd, r.status, r.err);
    result_free(&r);
    return path;
}

static const char tricky_csv[] = "plain,\"quoted\",3\n"
                                 "\"with, comma\",\"with \"\"quotes\"\"\",4\r\n"
                                 "\"multi\nline\",\"crlf\r\ninside\",5\r\n"
                                 ",\"\",\n"
                                 "  spaced  ,a\"b,  7 \n"
                                 "\"\xc3\xa9t\xc3\xa9\",x,-0\n"
                                 "last,line,9"; /* no final newline */

Test(cli_write, import_csv_matches_sqlite3, .init = setup, .fini = teardown)
{
    const char *schema = "CREATE TABLE t(a TEXT, b, c INTEGER);";
    const char *csv = put_text("t.csv", tricky_csv);
    const char *db = make_db("t.db", schema);
    result r = RUN("import", db, "t", csv);
    assert_ok(&r);
    cr_assert_eq(r.out_n, 0, "stdout: %s", r.out);
    result_free(&r);
    assert_integrity(db);
    const char *oracle = sqlite3_import("o.db", schema, csv, "t", 0);
    char *want = image(oracle, "SELECT rowid, * FROM t");
    assert_image(db, "SELECT rowid, * FROM t", want);
    free(want);
    assert_image(db, "SELECT b FROM t WHERE rowid IN (2, 3, 4)",
                 "t:77697468202271756f74657322\n" /* with "quotes" */
                 "t:63726c660d0a696e73696465\n"   /* crlf\r\ninside */
                 "t:\n");
    assert_q(db, "SELECT quote(c) FROM t WHERE rowid = 5", "7"); /* '  7 ' -> 7 */
}

Test(cli_write, import_csv_affinity_matches_sqlite3, .init = setup, .fini = teardown)
{
    static const char *const fields[] = {
        "12",
        " 12 ",
        "12.0",
        "1.5",
        "1e3",
        "-0",
        "0x10",
        "+5",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "1e400",
        ".5",
        "5.",
        "12abc",
        "abc",
        "",
        " ",
        "0012",
        "1.0e0",
        "-1.5e-3",
        "inf",
        "NaN",
        "3.000000000000000001",
    };
    const char *schema =
        "CREATE TABLE t(i INTEGER, r REAL, n NUMERIC, x TEXT, b BLOB, a ANY, s VARCHAR(5));";
    char csv[4096];
    size_t n = 0;
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
        n += (size_t)snprintf(csv + n, sizeof csv - n, "%s,%s,%s,%s,%s,%s,%s\n", fields[k],
                              fields[k], fields[k], fields[k], fields[k], fields[k], fields[k]);
    const char *file = tpath("aff.csv");
    write_file(file, csv, n);
    const char *db = make_db("aff.db", schema);
    result r = RUN("import", db, "t", file);
    assert_ok(&r);
    result_free(&r);
    assert_integrity(db);
    const char *oracle = sqlite3_import("oaff.db", schema, file, "t", 0);
    char *want = image(oracle, "SELECT * FROM t");
    char *got = image(db, "SELECT * FROM t");
    /* Line by line, so that a failure names the field. */
    const char *g = got, *w = want;
    for (size_t k = 0; *g || *w; k++) {
        size_t gl = strcspn(g, "\n"), wl = strcspn(w, "\n");
        cr_assert(gl == wl && memcmp(g, w, gl) == 0, "field '%s':\n folio:   %.*s\n sqlite3: %.*s",
                  k < sizeof fields / sizeof fields[0] ? fields[k] : "?", (int)gl, g, (int)wl, w);
        g += gl + (g[gl] ? 1 : 0);
        w += wl + (w[wl] ? 1 : 0);
    }
    free(want);
    free(got);
    assert_q(db, "SELECT typeof(i) || ':' || i FROM t WHERE rowid = 1", "integer:12");
}

Test(cli_write, import_csv_header_and_create, .init = setup, .fini = teardown)
{
    const char *csv =
        put_text("h.csv", "id,\"full name\",score\r\n1,Ann,9.5\r\n2,\"Bob, Jr\",7\r\n");
    const char *db = tpath("h.db");
    result r = RUN("import", db, "people", csv, "--header", "--create");
    assert_ok(&r);
    result_free(&r);
    assert_integrity(db);
    /* Like sqlite3's .import: TEXT columns named by the header. */
    const char *oracle = tpath("oh.db");
    char cmd[2 * PATH_MAX];
    snprintf(cmd, sizeof cmd, ".import --csv %s people", csv);
    result o = run_prog("sqlite3", NULL, (const char *const[]){oracle, cmd, NULL});
    cr_assert_eq(o.status, 0, "sqlite3: %s", o.err);
    result_free(&o);
    char *want = image(oracle, "SELECT rowid, * FROM people");
    assert_image(db, "SELECT rowid, * FROM people", want);
    free(want);
    assert_q(db, "SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info('people')",
             "id TEXT, full name TEXT, score TEXT");

    /* The table exists now: --create is harmless, --header skips the header. */
    r = RUN("import", db, "people", csv, "--header", "--create");
    assert_ok(&r);
    result_free(&r);
    assert_q(db, "SELECT count(*) || ' ' || count(DISTINCT id) FROM people", "4 2");

    /* Without --header, --create names the columns c1..cN. */
    const char *plain = put_text("p.csv", "1,2\n3,4\n");
    r = RUN("import", db, "nums", plain, "--create");
    assert_ok(&r);
    result_free(&r);
    assert_integrity(db);
    assert_q(db, "SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info('nums')",
             "c1 TEXT, c2 TEXT");
    assert_image(db, "SELECT * FROM nums", "t:31 t:32\nt:33 t:34\n");

    /* Header names with quotes and spaces survive quoting. */
    const char *odd = put_text("odd.csv", "\"a\"\"b\",\"\",c d\n1,2,3\n");
    r = RUN("import", db, "odd", odd, "--create", "--header");
    assert_ok(&r);
    result_free(&r);
    assert_q(db, "SELECT group_concat(name, '|') FROM pragma_table_info('odd')", "a\"b|c2|c d");
}

Test(cli_write, import_csv_null_empty, .init = setup, .fini = teardown)
{
    const char *csv = put_text("n.csv", "1,,\"\"\n,x,\n");
    const char *db = make_db("n.db", "CREATE TABLE t(a INTEGER, b TEXT, c);");
    result r = RUN("import", db, "t", csv, "--null-empty");
    assert_ok(&r);
    result_free(&r);
    assert_integrity(db);
    assert_image(db, "SELECT * FROM t", "i:1 null t:\nnull t:78 null\n");
    r = RUN("import", db, "t", csv);
    assert_ok(&r);
    result_free(&r);
    assert_image(db, "SELECT * FROM t WHERE rowid > 2", "i:1 t: t:\nt: t:78 t:\n");
}

/* A malformed record stops the import with its line number and leaves the
 * table exactly as it was. */
Test(cli_write, import_csv_malformed_leaves_the_table_unchanged, .init = setup, .fini = teardown)
{
    const char *db = make_db("mal.db", "CREATE TABLE t(a, b UNIQUE, c);"
                                       "INSERT INTO t VALUES('keep', 'me', 1);");
    char *before = image(db, "SELECT rowid, * FROM t");
    static const struct {
        const char *csv;
        const char *want;
    } cases[] = {
        {"1,2,3\n4,5,6\n7,8\n9,10,11\n", "folio: line 3: expected 3 fields, got 2"},
        {"1,2,3\n4,5,6,7\n", "folio: line 2: expected 3 fields, got 4"},
        {"1,2,3\n\n", "folio: line 2: expected 3 fields, got 1"},
        {"1,2,3\n\"4\n,5,6\n7,8,9\n", "folio: line 2: unterminated quoted field"},
        {"1,2,3\n4,\"5\"x,6\n", "folio: line 2: unexpected character after a closing quote"},
        {"1,2,3\n\"a\nb\nc\",5,3\n4,me,6\n", "folio: line 5: UNIQUE constraint failed: t.b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *csv = put_text("mal.csv", cases[i].csv);
        result r = RUN("import", db, "t", csv);
        assert_fail_with(&r, cases[i].want);
        result_free(&r);
        assert_integrity(db);
        assert_image(db, "SELECT rowid, * FROM t", before);
    }
    free(before);

    /* A table made by --create is gone again after a failure. */
    const char *csv = put_text("c.csv", "a,b\n1,2\n3\n");
    result r = RUN("import", db, "made", csv, "--create", "--header");
    assert_fail_with(&r, "line 3: expected 2 fields, got 1");
    result_free(&r);
    assert_q(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'made'", "0");
}

Test(cli_write, import_errors, .init = setup, .fini = teardown)
{
    const char *db = make_db("ie.db", "CREATE TABLE t(a);");
    const char *csv = put_text("x.csv", "1\n");
    result r = RUN("import", db, "nosuch", csv);
    assert_fail_with(&r, "no such table: nosuch");
    result_free(&r);
    r = RUN("import", db, "t", tpath("missing.csv"));
    assert_fail_with(&r, "missing.csv");
    result_free(&r);
    /* A missing input does not create the database. */
    r = RUN("import", tpath("never.db"), "t", tpath("missing.csv"), "--create");
    assert_fail_with(&r, "missing.csv");
    result_free(&r);
    cr_assert_neq(access(tpath("never.db"), F_OK), 0, "never.db was created");
    /* Without --create a missing database is an error, not a new file. */
    r = RUN("import", tpath("never.db"), "t", csv);
    assert_fail_with(&r, NULL);
    result_free(&r);
    cr_assert_neq(access(tpath("never.db"), F_OK), 0, "never.db was created");
    const char *empty = put_text("empty.csv", "");
    r = RUN("import", db, "newt", empty, "--create");
    assert_fail_with(&r, "empty");
    result_free(&r);
    r = RUN("import", db, "t", empty);
    assert_ok(&r);
    result_free(&r);
    assert_integrity(db);
    assert_q(db, "SELECT count(*) FROM sqlite_schema", "1");
}

Test(cli_write, import_from_stdin_with_bom, .init = setup, .fini = teardown)
{
    const char *csv = put_text("bom.csv", "\xef\xbb\xbf"
                                          "k,v\n1,one\n");
    const char *db = make_db("s.db", "CREATE TABLE t(k INTEGER PRIMARY KEY, v);");
    result r = RUN_IN(csv, "import", db, "t", "-", "--header");
    assert_ok(&r);
    result_free(&r);
    assert_integrity(db);
    assert_image(db, "SELECT * FROM t", "i:1 t:6f6e65\n");
}

/* A million rows: the bulk path end to end. The count and sums come from
 * SQLite. (About 10 s under ASan; the file is ~30 MB.) */
Test(cli_write, import_a_million_rows, .init = setup, .fini = teardown, .timeout = 300)
{
    const int rows = 1000000;
    const char *csv = tpath("big.csv");
    FILE *f = fopen(csv, "w");
    cr_assert_not_null(f);
    fputs("id,name,score\n", f);
    for (int i = 1; i <= rows; i++)
        fprintf(f, "%d,name %d,%d.5\n", i, i, i % 1000);
    cr_assert_eq(fclose(f), 0);
    const char *db = tpath("big.db");
    result r = RUN("exec", db, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL)");
    assert_ok(&r);
    result_free(&r);
    r = RUN("--sync", "off", "import", db, "t", csv, "--header");
    assert_ok(&r);
    result_free(&r);
    assert_integrity(db);
    assert_q(db, "SELECT count(*) || ' ' || sum(id) || ' ' || max(id) FROM t",
             "1000000 500000500000 1000000");
    assert_q(db, "SELECT name || ' ' || typeof(score) || ' ' || score FROM t WHERE id = 123457",
             "name 123457 real 457.5");
}

/* ---- import: JSONL ---------------------------------------------------------------------- */

Test(cli_write, import_jsonl_arrays_and_objects, .init = setup, .fini = teardown)
{
    const char *db = make_db("j.db", "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b, "
                                     "c DEFAULT 'dflt');");
    const char *file =
        put_text("rows.jsonl", "[1,\"one\",{\"blob\":\"00ff\"},1.5]\n"
                               "\n"
                               "[2,{\"text_hex\":\"ff\"},{\"real\":\"Infinity\"},null]\r\n"
                               "{\"A\":\"obj\",\"b\":-0.0}\n"
                               "{\"id\":10,\"c\":9223372036854775807}\n"
                               "[5,12,\"x\\u0000y\",-9223372036854775808]");
    result r = RUN("import", db, "t", file);
    assert_ok(&r);
    result_free(&r);
    assert_integrity(db);
    assert_image(db, "SELECT * FROM t",
                 "i:1 t:6f6e65 b:00ff r:0x1.8p+0\n"
                 "i:2 t:ff r:inf null\n"
                 "i:3 t:6f626a r:-0x0p+0 t:64666c74\n" /* the object: the next rowid */
                 "i:5 t:3132 t:780079 i:-9223372036854775808\n"
                 "i:10 null null i:9223372036854775807\n");

    /* Errors name the line and leave the table alone. */
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {"[6,\"a\",1,2]\n[7,\"b\",1]\n", "line 2: expected 4 values, got 3"},
        {"[6,\"a\",1,2]\n{\"nosuch\":1}\n", "line 2: table t has no column named nosuch"},
        {"[6,\"a\",1,2]\n[7,\"b\",1,2\n", "line 2: invalid JSON"},
        {"[6,\"a\",1,2]\n7\n", "line 2: expected an array"},
        {"[6,\"a\",1,2]\n[1,\"dup\",1,2]\n", "line 2: UNIQUE constraint failed"},
        {"[6,\"a\",1,2]\n[7,{\"blob\":\"x\"},1,2]\n", "line 2: value 2:"},
    };
    char *before = image(db, "SELECT * FROM t");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *bad = put_text("bad.jsonl", cases[i].text);
        r = RUN("import", db, "t", bad);
        assert_fail_with(&r, cases[i].want);
        result_free(&r);
        assert_image(db, "SELECT * FROM t", before);
    }
    free(before);

    /* --create: names from the first object's keys (no declared type, so the
     * values keep their types), or c1..cN from an array. */
    const char *objs =
        put_text("objs.ndjson", "{\"k\":1,\"v\":\"1\"}\n{\"v\":2.5,\"k\":\"two\"}\n");
    r = RUN("import", db, "made", objs, "--create");
    assert_ok(&r);
    result_free(&r);
    assert_q(db, "SELECT group_concat(name || ':' || type, ',') FROM pragma_table_info('made')",
             "k:,v:");
    assert_image(db, "SELECT * FROM made", "i:1 t:31\nt:74776f r:0x1.4p+1\n");
    const char *arrs = put_text("arrs.txt", "[1,\"a\"]\n");
    r = RUN("import", db, "arr", arrs, "--create", "--format", "jsonl");
    assert_ok(&r);
    result_free(&r);
    assert_q(db, "SELECT group_concat(name, ',') FROM pragma_table_info('arr')", "c1,c2");
    assert_integrity(db);
}

/* ---- checkpoint ---------------------------------------------------------------------------- */

/* A database with committed WAL frames that were never checkpointed: a copy
 * of the pair taken while sqlite3 has it open. */
static const char *make_wal_db(const char *name)
{
    const char *live = tpath("live.db");
    unlink(live);
    sqlite3 *sq = db_open(live);
    db_exec(sq, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
                "CREATE TABLE t(a, b); WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL "
                "SELECT i + 1 FROM s WHERE i < 500) INSERT INTO t SELECT i, hex(randomblob(50)) "
                "FROM s; UPDATE t SET a = -a WHERE a % 7 = 0;");
    char wal_name[64];
    snprintf(wal_name, sizeof wal_name, "%s-wal", name);
    copy_file(live, tpath(name));
    copy_file(tpath("live.db-wal"), tpath(wal_name));
    db_close(sq);
    return tpath(name);
}

Test(cli_write, checkpoint_modes, .init = setup, .fini = teardown)
{
    const char *modes[] = {NULL, "passive", "full", "restart", "truncate"};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "ck%zu.db", i);
        const char *db = make_wal_db(name);
        result r = modes[i] ? RUN("checkpoint", db, "--mode", modes[i]) : RUN("checkpoint", db);
        assert_ok(&r);
        int log = -1, done = -1;
        cr_assert_eq(sscanf(r.out, "wal frames: %d, checkpointed: %d\n", &log, &done), 2,
                     "stdout: %s", r.out);
        cr_assert(log > 0 && done == log, "%s: %s", modes[i] ? modes[i] : "default", r.out);
        result_free(&r);
        assert_integrity(db);
        assert_q(db, "SELECT count(*) || ' ' || sum(a) FROM t", "500 89466");
        /* Nothing is left to checkpoint. */
        r = RUN("checkpoint", db);
        assert_ok(&r);
        cr_assert_str_eq(r.out, "wal frames: 0, checkpointed: 0\n");
        result_free(&r);
    }
}

Test(cli_write, checkpoint_blocked_by_a_reader, .init = setup, .fini = teardown)
{
    const char *db = make_wal_db("busy.db");
    /* A reader in this process holds its snapshot: a read mark at the WAL's
     * end. Every frame may be copied (FULL completes, as SQLite's would),
     * but the WAL cannot start over under it (RESTART and TRUNCATE wait for
     * it, up to the busy timeout, then say busy). */
    sqlite3 *reader = db_open(db);
    db_exec(reader, "BEGIN; SELECT count(*) FROM t;");
    const char *modes[] = {"restart", "truncate"};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        result r = RUN("checkpoint", db, "--mode", modes[i], "--busy-timeout", "200");
        assert_fail_with(&r, "busy.db");
        cr_assert_not_null(strstr(r.err, "reader"), "stderr: %s", r.err);
        cr_assert_eq(r.out_n, 0, "stdout: %s", r.out);
        result_free(&r);
    }
    {
        result r = RUN("checkpoint", db, "--mode", "full", "--busy-timeout", "200");
        assert_ok(&r);
        result_free(&r);
    }
    db_exec(reader, "COMMIT;");
    db_close(reader);
    result r = RUN("checkpoint", db, "--mode", "full");
    assert_ok(&r);
    result_free(&r);
    assert_integrity(db);
    assert_q(db, "SELECT count(*) FROM t", "500");
}

Test(cli_write, checkpoint_missing_file_exits_1, .init = setup, .fini = teardown)
{
    result r = RUN("checkpoint", tpath("nope.db"));
    assert_fail_with(&r, "nope.db");
    result_free(&r);
    cr_assert_neq(access(tpath("nope.db"), F_OK), 0, "checkpoint created the file");
}

/* ---- vacuum ------------------------------------------------------------------------------- */

/* A database with a freelist and free space in its pages (sqlite3 wrote it). */
static const char *make_holey_db(const char *name)
{
    const char *path = tpath(name);
    sqlite3 *sq = db_open(path);
    db_exec(sq, "PRAGMA page_size=1024;"
                "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB);"
                "CREATE INDEX t_b ON t(b);"
                "CREATE TABLE n(x, y);"
                "CREATE TABLE w(k PRIMARY KEY, v) WITHOUT ROWID;"
                "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 2000)"
                " INSERT INTO t SELECT i, printf('b%05d', i * 7 % 2000), zeroblob(i % 1500) FROM s;"
                "INSERT INTO n SELECT b, a FROM t; INSERT INTO w SELECT b, c FROM t;"
                "DELETE FROM t WHERE a % 4 <> 0; DELETE FROM n WHERE rowid % 3 = 0;"
                "DELETE FROM w WHERE length(v) > 300;");
    db_close(sq);
    return path;
}

static const char vacuum_image_sql[] =
    "SELECT 't', rowid, * FROM t UNION ALL SELECT 'n', rowid, x, y, NULL FROM n "
    "UNION ALL SELECT 'w', NULL, k, v, NULL FROM w ORDER BY 1, 2, 3";

static void vacuum_figures(const result *r, unsigned *before, unsigned *free_before,
                           unsigned *after, unsigned *free_after)
{
    cr_assert_eq(sscanf(r->out, "pages before: %u (%u free)\npages after: %u (%u free)\n", before,
                        free_before, after, free_after),
                 4, "stdout: %s", r->out);
}

Test(cli_write, vacuum_in_place, .init = setup, .fini = teardown)
{
    const char *db = make_holey_db("v.db");
    char *want = image(db, vacuum_image_sql);
    char *pages = q1(db, "PRAGMA page_count");
    char *freel = q1(db, "PRAGMA freelist_count");
    result r = RUN("vacuum", db);
    assert_ok(&r);
    unsigned before, free_before, after, free_after;
    vacuum_figures(&r, &before, &free_before, &after, &free_after);
    result_free(&r);
    cr_assert_eq(before, (unsigned)atoi(pages));
    cr_assert_eq(free_before, (unsigned)atoi(freel));
    cr_assert_gt(free_before, 0);
    cr_assert_lt(after, before);
    cr_assert_eq(free_after, 0);
    assert_integrity(db);
    assert_image(db, vacuum_image_sql, want);
    char *now = q1(db, "PRAGMA page_count");
    cr_assert_eq((unsigned)atoi(now), after);
    struct stat st;
    cr_assert_eq(stat(db, &st), 0);
    cr_assert_eq(st.st_size, (off_t)after * 1024, "file of %lld bytes", (long long)st.st_size);
    cr_assert_neq(access(tpath("v.db-wal"), F_OK), 0, "a -wal is left");
    cr_assert_neq(access(tpath("v.db-vacuum"), F_OK), 0, "the temporary file is left");
    free(want);
    free(pages);
    free(freel);
    free(now);
}

Test(cli_write, vacuum_into, .init = setup, .fini = teardown)
{
    const char *db = make_holey_db("v.db");
    const char *dest = tpath("copy.db");
    char *want = image(db, vacuum_image_sql);
    char *pages = q1(db, "PRAGMA page_count");
    result r = RUN("vacuum", db, "--into", dest);
    assert_ok(&r);
    unsigned before, free_before, after, free_after;
    vacuum_figures(&r, &before, &free_before, &after, &free_after);
    result_free(&r);
    cr_assert_lt(after, before);
    cr_assert_eq(free_after, 0);
    cr_assert_neq(access(tpath("copy.db-wal"), F_OK), 0, "DEST has a -wal");
    cr_assert_neq(access(tpath("copy.db-shm"), F_OK), 0, "DEST has a -shm");
    cr_assert_neq(access(tpath("copy.db-vacuum"), F_OK), 0, "the temporary file is left");
    assert_integrity(dest);
    assert_image(dest, vacuum_image_sql, want);
    /* The source is as it was. */
    char *still = q1(db, "PRAGMA page_count");
    cr_assert_str_eq(still, pages);
    assert_image(db, vacuum_image_sql, want);
    /* DEST exists now: exit 1, DEST untouched. */
    struct stat st0, st1;
    cr_assert_eq(stat(dest, &st0), 0);
    r = RUN("vacuum", db, "--into", dest);
    assert_fail_with(&r, "output file already exists");
    cr_assert_eq(r.out_n, 0);
    result_free(&r);
    cr_assert_eq(stat(dest, &st1), 0);
    cr_assert_eq(st0.st_size, st1.st_size);
    cr_assert_eq(st0.st_ino, st1.st_ino);
    free(want);
    free(pages);
    free(still);
}

Test(cli_write, vacuum_errors, .init = setup, .fini = teardown)
{
    result r = RUN("vacuum", tpath("nope.db"));
    assert_fail_with(&r, "nope.db");
    result_free(&r);
    cr_assert_neq(access(tpath("nope.db"), F_OK), 0, "vacuum created the file");
    r = RUN("vacuum");
    assert_usage(&r);
    result_free(&r);
    const char *db = make_holey_db("v.db");
    r = RUN("vacuum", db, "--into");
    assert_usage(&r);
    result_free(&r);
    r = RUN("vacuum", db, "extra");
    assert_usage(&r);
    result_free(&r);
    r = RUN("vacuum", db, "--bogus");
    assert_usage(&r);
    result_free(&r);
    assert_integrity(db);
}

/* ---- backup ------------------------------------------------------------------------------- */

/* The version folio reads in `path` now. */
static uint64_t version_of(const char *path)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    uint64_t v = 0;
    cr_assert_eq(folio_version(db, &v), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    return v;
}

Test(cli_write, backup, .init = setup, .fini = teardown)
{
    /* A source whose WAL holds part of its pages. */
    const char *db = make_wal_db("b.db");
    const char *dest = tpath("copy.db");
    const char *sql = "SELECT rowid, * FROM t ORDER BY rowid";
    char *want = image(db, sql);
    result r = RUN("backup", db, dest);
    assert_ok(&r);
    unsigned long long v = 0;
    int used = 0;
    cr_assert_eq(sscanf(r.out, "version %llu\n%n", &v, &used), 1, "stdout: %s", r.out);
    cr_assert_eq((size_t)used, r.out_n, "more on stdout: %s", r.out);
    result_free(&r);
    cr_assert_eq(v, version_of(db), "the backup names version %llu", v);
    cr_assert_neq(access(tpath("copy.db-wal"), F_OK), 0, "DEST has a -wal");
    cr_assert_neq(access(tpath("copy.db-shm"), F_OK), 0, "DEST has a -shm");
    cr_assert_neq(access(tpath("copy.db-backup"), F_OK), 0, "the temporary file is left");
    assert_integrity(dest);
    assert_image(dest, sql, want);
    assert_image(db, sql, want);
    /* DEST exists now: exit 1, DEST untouched. */
    struct stat st0, st1;
    cr_assert_eq(stat(dest, &st0), 0);
    r = RUN("backup", db, dest);
    assert_fail_with(&r, "output file already exists");
    cr_assert_eq(r.out_n, 0);
    result_free(&r);
    cr_assert_eq(stat(dest, &st1), 0);
    cr_assert_eq(st0.st_ino, st1.st_ino);
    cr_assert_eq(st0.st_size, st1.st_size);
    /* The full check of the copy on request: the same copy. */
    const char *full = tpath("full.db");
    r = RUN("backup", db, full, "--check", "full");
    assert_ok(&r);
    result_free(&r);
    assert_integrity(full);
    assert_image(full, sql, want);
    r = RUN("check", "--quick", full);
    assert_ok(&r);
    cr_assert_str_eq(r.out, "ok\n");
    result_free(&r);
    free(want);
}

Test(cli_write, backup_errors, .init = setup, .fini = teardown)
{
    result r = RUN("backup", tpath("nope.db"), tpath("copy.db"));
    assert_fail_with(&r, "nope.db");
    cr_assert_eq(r.out_n, 0);
    result_free(&r);
    cr_assert_neq(access(tpath("nope.db"), F_OK), 0, "backup created the source");
    cr_assert_neq(access(tpath("copy.db"), F_OK), 0, "backup created DEST");
    const char *db = make_holey_db("b.db");
    r = RUN("backup", db, tpath("missing/copy.db"));
    assert_fail_with(&r, "copy.db");
    cr_assert_eq(r.out_n, 0);
    result_free(&r);
    r = RUN("backup");
    assert_usage(&r);
    result_free(&r);
    r = RUN("backup", db);
    assert_usage(&r);
    result_free(&r);
    r = RUN("backup", db, tpath("a.db"), "extra");
    assert_usage(&r);
    result_free(&r);
    r = RUN("backup", db, "");
    assert_usage(&r);
    result_free(&r);
    r = RUN("backup", db, tpath("a.db"), "--bogus");
    assert_usage(&r);
    result_free(&r);
    r = RUN("backup", db, tpath("a.db"), "--check", "fast");
    assert_usage(&r);
    result_free(&r);
    cr_assert_neq(access(tpath("a.db"), F_OK), 0, "a usage error made DEST");
    assert_integrity(db);
}

/* ---- Usage -------------------------------------------------------------------------------------
 */

Test(cli_write, usage_errors_exit_2, .init = setup, .fini = teardown)
{
    const char *db = make_db("u.db", "CREATE TABLE t(a);");
    const char *csv = put_text("u.csv", "1\n");
    const char *const cases[][8] = {
        {"exec", db, NULL},
        {"exec", db, "CREATE TABLE x(a)", "extra", NULL},
        {"exec", db, "CREATE TABLE x(a)", "--bogus", NULL},
        {"import", db, "t", NULL},
        {"import", db, "t", csv, "extra", NULL},
        {"import", db, "t", csv, "--format", "xml", NULL},
        {"import", db, "t", csv, "--format", NULL},
        {"import", db, "t", csv, "--format", "jsonl", "--header", NULL},
        {"import", db, "t", csv, "--format=jsonl", "--null-empty", NULL},
        {"import", db, "t", csv, "--create=yes", NULL},
        {"apply", db, NULL},
        {"apply", db, csv, csv, NULL},
        {"apply", db, csv, "--autocommit=1", NULL},
        {"checkpoint", NULL},
        {"checkpoint", db, "--mode", "sometimes", NULL},
        {"checkpoint", db, "--mode", NULL},
        {"checkpoint", db, db, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        result r = run_prog(cli_path(), NULL, cases[i]);
        assert_usage(&r);
        result_free(&r);
    }
    assert_integrity(db);
    assert_q(db, "SELECT count(*) FROM t", "0");
}

Test(cli_write, help_lists_the_write_commands, .init = setup, .fini = teardown)
{
    result r = RUN("--help");
    assert_ok(&r);
    for (const char *c = "exec\0import\0apply\0checkpoint\0"; *c; c += strlen(c) + 1)
        cr_assert_not_null(strstr(r.out, c), "--help does not list %s", c);
    result_free(&r);
    const char *cmds[][2] = {{"import", "usage: folio import DB TABLE FILE|-"},
                             {"apply", "usage: folio apply DB FILE|-"},
                             {"exec", "usage: folio exec DB SQL"},
                             {"checkpoint", "usage: folio checkpoint DB [--mode"}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        r = RUN(cmds[i][0], "--help");
        assert_ok(&r);
        cr_assert(strncmp(r.out, cmds[i][1], strlen(cmds[i][1])) == 0, "stdout: %s", r.out);
        result_free(&r);
    }
}

/* ---- dump --where, delete --where ---------------------------------------------- */

/* The rowids of dump --rowid output (jsonl or csv), comma-separated. */
static char *dumped_rowids(const result *r, int csv)
{
    char *out = calloc(1, r->out_n + 1);
    cr_assert_not_null(out);
    size_t n = 0;
    const char *p = r->out;
    if (csv) /* the header line */
        p = strchr(p, '\n') + 1;
    while (*p) {
        if (*p == '[')
            p++;
        const char *end = p + strcspn(p, ",]\n");
        if (n)
            out[n++] = ',';
        memcpy(out + n, p, (size_t)(end - p));
        n += (size_t)(end - p);
        p = strchr(p, '\n');
        cr_assert_not_null(p);
        p++;
    }
    return out;
}

Test(cli_write, dump_and_delete_where, .init = setup, .fini = teardown)
{
    const char *db = make_db(
        "w.db", "CREATE TABLE user(id INTEGER PRIMARY KEY, area CHAR(6), age INTEGER, nick TEXT "
                "COLLATE NOCASE);"
                "CREATE INDEX user_age ON user(age);"
                "WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < 300) "
                "INSERT INTO user SELECT v, printf('%06d', v * 7919 % 1000000), v % 97, "
                "CASE v % 4 WHEN 0 THEN 'Ann' WHEN 1 THEN 'ann' WHEN 2 THEN NULL ELSE v END "
                "FROM s");
    static const char *const exprs[] = {"age > 50",
                                        "area LIKE '12%'",
                                        "nick = 'ANN' AND id % 3 = 0",
                                        "nick IS NULL OR age BETWEEN 10 AND 12",
                                        "CAST(area AS INTEGER) < 100000",
                                        "rowid IN (1, 5, 299) OR user.nick GLOB '1*'",
                                        "0"};
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT coalesce(group_concat(id), '') FROM "
                 "(SELECT id FROM user WHERE %s ORDER BY id)",
                 exprs[i]);
        char *want = q1(db, sql);
        for (int csv = 0; csv < 2; csv++) {
            result r =
                csv ? RUN("dump", db, "user", "--rowid", "--where", exprs[i], "--format", "csv")
                    : RUN("dump", db, "user", "--where", exprs[i], "--rowid");
            assert_ok(&r);
            char *got = dumped_rowids(&r, csv);
            cr_assert_str_eq(got, want, "--where %s (%s)", exprs[i], csv ? "csv" : "jsonl");
            free(got);
            result_free(&r);
        }
        free(want);
    }
    /* Errors: SQLite's message with its place; exit 1. */
    result r = RUN("dump", db, "user", "--where", "age >");
    assert_fail_with(&r, "--where: incomplete input");
    result_free(&r);
    r = RUN("dump", db, "user", "--where", "nosuch = 1");
    assert_fail_with(&r, "no such column: nosuch (at offset 0)");
    result_free(&r);
    r = RUN("dump", db, "user", "--where", "age IN (SELECT 1)");
    assert_fail_with(&r, NULL);
    result_free(&r);

    /* delete: --where is required. */
    r = RUN("delete", db, "user");
    assert_usage(&r);
    cr_assert_not_null(strstr(r.err, "--where"), "%s", r.err);
    result_free(&r);
    r = RUN("delete", db, "nosuch", "--where", "1");
    assert_fail_with(&r, "no such table: nosuch");
    result_free(&r);
    /* An evaluation error deletes nothing. */
    r = RUN("delete", db, "user", "--where", "age = 0 AND abs(-9223372036854775807 - age - 1) > 0");
    assert_fail_with(&r, "integer overflow");
    result_free(&r);
    assert_q(db, "SELECT count(*) FROM user", "300");

    const char *ref = tpath("ref.db");
    copy_file(db, ref);
    sqlite3 *s = db_open(ref);
    db_exec(s, "DELETE FROM user WHERE area LIKE '1%' OR nick = 'ann'");
    char want[64];
    snprintf(want, sizeof want, "deleted: %d\n", sqlite3_changes(s));
    db_close(s);
    r = RUN("delete", db, "user", "--where", "area LIKE '1%' OR nick = 'ann'");
    assert_ok(&r);
    cr_assert_str_eq(r.out, want);
    result_free(&r);
    assert_integrity(db);
    const char *all = "SELECT group_concat(id || ':' || area || ':' || age || ':' || "
                      "coalesce(nick, '-'), ',') FROM user";
    char *a = q1(db, all), *b = q1(ref, all);
    cr_assert_str_eq(a, b);
    free(a);
    free(b);
    r = RUN("delete", db, "user", "--where", "1");
    assert_ok(&r);
    result_free(&r);
    assert_q(db, "SELECT count(*) FROM user", "0");
    assert_integrity(db);
}

/* ---- foreign keys ------------------------------------------------------------------- */

Test(cli_write, foreign_keys_flag_and_check, .init = setup, .fini = teardown)
{
    const char *db =
        make_db("fk.db", "CREATE TABLE p(id INTEGER PRIMARY KEY);"
                         "CREATE TABLE c(x REFERENCES p ON DELETE CASCADE, y);"
                         "INSERT INTO p VALUES(1), (2); INSERT INTO c VALUES(1, 'a');");
    const char *orphan = "{\"op\":\"insert\",\"table\":\"c\",\"values\":[9,\"b\"]}\n";
    /* Off by default (as SQLite): the orphan goes in. */
    result r = apply_text(db, orphan, NULL);
    assert_ok(&r);
    result_free(&r);
    /* check --foreign-keys lists it as PRAGMA foreign_key_check does, exit 1. */
    r = RUN("check", db, "--foreign-keys");
    cr_assert_eq(r.status, 1, "status %d, stderr %s", r.status, r.err);
    cr_assert_str_eq(r.out, "c 2 p 0\n");
    result_free(&r);
    /* On: refused, nothing changes; a cascade runs. */
    const char *file = put_text("ops.jsonl", orphan);
    r = RUN("--foreign-keys", "on", "apply", db, file);
    assert_fail_with(&r, "FOREIGN KEY constraint failed");
    result_free(&r);
    file = put_text("ops2.jsonl", "{\"op\":\"delete\",\"table\":\"p\",\"rowid\":1}\n");
    r = RUN("apply", db, file, "--foreign-keys", "on");
    assert_ok(&r);
    result_free(&r);
    assert_q(db, "SELECT group_concat(x || y) FROM c", "9b");
    /* A bad value is a usage error. */
    r = RUN("--foreign-keys", "maybe", "check", db);
    cr_assert_eq(r.status, 2);
    result_free(&r);
    assert_integrity(db);
}
