/*
 * test_cli.c: the folio command-line tool's read commands, run as a separate
 * process (the binary named by $FOLIO_CLI) against databases that libsqlite3
 * writes at test time in a fresh temporary directory. JSON output is checked
 * with libsqlite3's JSON functions (json_valid, json_extract, json_each), which
 * parse strictly (RFC 8259) and need no extra library in the test link.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* nftw */
#endif

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
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

static void setup(void)
{
    const char *base = getenv("FOLIO_TMP");
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0755); /* CTest's FOLIO_TMP may not exist yet */
    snprintf(tmpdir, sizeof tmpdir, "%s/folio-cli-XXXXXX", base);
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp under %s: %s", base, strerror(errno));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int make_writable(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag == FTW_D)
        chmod(path, 0755);
    else if (S_ISREG(st->st_mode))
        chmod(path, 0644);
    return 0;
}

static void teardown(void)
{
    if (!tmpdir[0])
        return;
    nftw(tmpdir, make_writable, 16, FTW_PHYS);
    nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A path inside the temporary directory, in one of 8 buffers used in turn. */
static const char *tpath(const char *name)
{
    static char bufs[8][2 * PATH_MAX];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
    return b;
}

/* ---- Running the tool ------------------------------------------------------- */

typedef struct result {
    int status; /* exit status, or 128 + signal */
    char *out;
    size_t out_n;
    char *err;
    size_t err_n;
} result;

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

static const char *cli_path(void)
{
    const char *cli = getenv("FOLIO_CLI");
    cr_assert(cli && *cli, "FOLIO_CLI must name the folio binary (CTest sets it)");
    return cli;
}

/* Run `folio` with the NULL-terminated arguments `args`. */
static result run_argv(const char *const *args)
{
    const char *cli = cli_path();
    /* Own buffers: tpath() recycles its buffers, which callers hold. */
    char out_path[2 * PATH_MAX], err_path[2 * PATH_MAX];
    snprintf(out_path, sizeof out_path, "%s/.stdout", tmpdir);
    snprintf(err_path, sizeof err_path, "%s/.stderr", tmpdir);
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)cli;
    for (; args[argc - 1]; argc++) {
        cr_assert(argc < 63);
        argv[argc] = (char *)args[argc - 1];
    }
    argv[argc] = NULL;

    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int in = open("/dev/null", O_RDONLY);
        if (out < 0 || err < 0 || in < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execv(cli, argv);
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

#define RUN(...) run_argv((const char *const[]){__VA_ARGS__, NULL})

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

/* The command failed with exit status 1 and exactly one "folio: " line. */
static void assert_fail_line(const result *r)
{
    cr_assert_eq(r->status, 1, "exit status %d (want 1), stderr: %s", r->status, r->err);
    cr_assert(strncmp(r->err, "folio: ", 7) == 0, "stderr: %s", r->err);
    cr_assert(r->err_n > 8 && r->err[r->err_n - 1] == '\n', "stderr: %s", r->err);
    cr_assert_null(memchr(r->err, '\n', r->err_n - 1), "more than one line on stderr: %s", r->err);
}

/* A usage error: exit status 2, a "folio: " message and a usage reminder. */
static void assert_usage(const result *r)
{
    cr_assert_eq(r->status, 2, "exit status %d (want 2), stderr: %s", r->status, r->err);
    cr_assert(strncmp(r->err, "folio: ", 7) == 0, "stderr: %s", r->err);
    cr_assert_not_null(strstr(r->err, "usage:"), "no usage on stderr: %s", r->err);
    cr_assert_eq(r->out_n, 0, "unexpected stdout: %s", r->out);
}

/* ---- Databases written with libsqlite3 -------------------------------------- */

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

/* Create database `name` in the temporary directory from an SQL script. */
static const char *make_db(const char *name, const char *script)
{
    const char *path = tpath(name);
    sqlite3 *db = db_open(path);
    db_exec(db, script);
    db_close(db);
    return path;
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    return st;
}

static void step_done(sqlite3 *db, sqlite3_stmt *st)
{
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* ---- JSON checks through libsqlite3 ------------------------------------------- */

/* Run `sql` with ?1 = `json` and ?2 = `arg` (may be NULL) on an in-memory
 * connection; the first column of the first row as a new string, or NULL
 * when there is no row or the value is SQL NULL. */
static char *jq(const char *json, size_t json_n, const char *sql, const char *arg)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    sqlite3_stmt *st = prepare(db, sql);
    sqlite3_bind_text(st, 1, json, (int)json_n, SQLITE_STATIC);
    if (arg)
        sqlite3_bind_text(st, 2, arg, -1, SQLITE_STATIC);
    char *out = NULL;
    int rc = sqlite3_step(st);
    cr_assert(rc == SQLITE_ROW || rc == SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/* Assert that `sql` over `json` (see jq) gives `want`. */
static void assert_jq(const char *json, const char *sql, const char *arg, const char *want)
{
    char *got = jq(json, strlen(json), sql, arg);
    cr_assert(got && strcmp(got, want) == 0, "%s [%s]: got %s, want %s\nin: %s", sql,
              arg ? arg : "", got ? got : "(none)", want, json);
    free(got);
}

/* The value at `path` of the element of array `json` whose "name" is `name`. */
static void assert_named(const char *json, const char *name, const char *path, const char *want)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT json_extract(value, '%s') FROM json_each(?1) "
             "WHERE json_extract(value, '$.name') = ?2",
             path);
    assert_jq(json, sql, name, want);
}

/* ---- dump: JSONL values ---------------------------------------------------------- */

/* One row of the value table: how to bind it and the line dump must print. */
typedef struct value_case {
    char kind; /* 'i' int64, 'r' double, 't' text bytes, 'b' blob bytes, 'n' NULL, 's' SQL */
    int64_t i;
    double r;
    const char *bytes; /* text/blob bytes, or the SQL expression for 's' */
    int len;           /* byte count for 't' and 'b' (-1: up to the NUL) */
    const char *want;  /* the expected JSONL line, without the newline */
} value_case;

static const value_case value_cases[] = {
    {'i', 0, 0, NULL, 0, "[0]"},
    {'i', 1, 0, NULL, 0, "[1]"},
    {'i', -1, 0, NULL, 0, "[-1]"},
    {'i', INT64_MAX, 0, NULL, 0, "[9223372036854775807]"},
    {'i', INT64_MIN, 0, NULL, 0, "[-9223372036854775808]"},
    {'i', 4294967296, 0, NULL, 0, "[4294967296]"},
    {'r', 0, 1.0, NULL, 0, "[1.0]"},
    {'r', 0, 0.1, NULL, 0, "[0.1]"},
    {'r', 0, -0.0, NULL, 0, "[-0.0]"},
    {'r', 0, 0.0, NULL, 0, "[0.0]"},
    {'r', 0, -2.5, NULL, 0, "[-2.5]"},
    {'r', 0, 1e308, NULL, 0, "[1e+308]"},
    {'r', 0, 5e-324, NULL, 0, "[4.94065645841247e-324]"},
    {'r', 0, 2.5e300, NULL, 0, "[2.5e+300]"},
    {'r', 0, 1e15, NULL, 0, "[1e+15]"},
    {'r', 0, 123456789.125, NULL, 0, "[123456789.125]"},
    {'r', 0, 0.1 + 0.2, NULL, 0, "[0.30000000000000004]"},
    {'r', 0, 1.0 / 3.0, NULL, 0, "[0.3333333333333333]"},
    {'r', 0, 9007199254740993.0, NULL, 0, "[9007199254740992.0]"},
    {'s', 0, 0, "1e999", 0, "[{\"real\":\"Infinity\"}]"},
    {'s', 0, 0, "-1e999", 0, "[{\"real\":\"-Infinity\"}]"},
    {'t', 0, 0, "plain", 5, "[\"plain\"]"},
    {'t', 0, 0, "", 0, "[\"\"]"},
    {'t', 0, 0, "say \"hi\" \\ back/slash", -1, "[\"say \\\"hi\\\" \\\\ back/slash\"]"},
    {'t', 0, 0, "a\nb\rc\td\be\ff", 11, "[\"a\\nb\\rc\\td\\be\\ff\"]"},
    {'t', 0, 0, "\x01\x1f\x7f!", 4, "[\"\\u0001\\u001f\x7f!\"]"},
    {'t', 0, 0, "a\0b", 3, "[\"a\\u0000b\"]"},
    {'t', 0, 0, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80 \xe6\x97\xa5", -1,
     "[\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80 \xe6\x97\xa5\"]"},
    {'t', 0, 0, "\xf4\x8f\xbf\xbf", 4, "[\"\xf4\x8f\xbf\xbf\"]"}, /* U+10FFFF is valid */
    {'t', 0, 0, "\xef\xbf\xbd", 3, "[\"\xef\xbf\xbd\"]"},         /* U+FFFD is valid */
    {'s', 0, 0, "CAST(x'ff' AS TEXT)", 0, "[{\"text_hex\":\"ff\"}]"},
    {'t', 0, 0, "\xc0\xaf", 2, "[{\"text_hex\":\"c0af\"}]"},             /* overlong '/' */
    {'t', 0, 0, "\xe0\x80\xaf", 3, "[{\"text_hex\":\"e080af\"}]"},       /* overlong, 3 bytes */
    {'t', 0, 0, "\xf0\x80\x80\xaf", 4, "[{\"text_hex\":\"f08080af\"}]"}, /* overlong, 4 bytes */
    {'t', 0, 0, "\xed\xa0\x80", 3, "[{\"text_hex\":\"eda080\"}]"},       /* surrogate D800 */
    {'t', 0, 0, "\xed\xbf\xbf", 3, "[{\"text_hex\":\"edbfbf\"}]"},       /* surrogate DFFF */
    {'t', 0, 0, "\xf4\x90\x80\x80", 4, "[{\"text_hex\":\"f4908080\"}]"}, /* U+110000 */
    {'t', 0, 0, "ok\xe2\x82", 4, "[{\"text_hex\":\"6f6be282\"}]"},       /* truncated */
    {'t', 0, 0, "\x80", 1, "[{\"text_hex\":\"80\"}]"},                   /* stray continuation */
    {'t', 0, 0, "\xf5\x80\x80\x80", 4, "[{\"text_hex\":\"f5808080\"}]"}, /* F5 never valid */
    {'t', 0, 0, "\xc3\x28", 2, "[{\"text_hex\":\"c328\"}]"},             /* bad continuation */
    {'b', 0, 0, "\x00\xff\x10\xab", 4, "[{\"blob\":\"00ff10ab\"}]"},
    {'b', 0, 0, "", 0, "[{\"blob\":\"\"}]"},
    {'n', 0, 0, NULL, 0, "[null]"},
};

#define NCASES (sizeof value_cases / sizeof value_cases[0])

/* A table v(x) with no declared type (so no affinity changes the values),
 * one row per value case, in rowid order. */
static const char *make_value_db(void)
{
    const char *path = tpath("values.db");
    sqlite3 *db = db_open(path);
    db_exec(db, "CREATE TABLE v(x)");
    db_exec(db, "BEGIN");
    sqlite3_stmt *st = prepare(db, "INSERT INTO v(x) VALUES(?)");
    for (size_t i = 0; i < NCASES; i++) {
        const value_case *c = &value_cases[i];
        switch (c->kind) {
        case 'i':
            sqlite3_bind_int64(st, 1, c->i);
            break;
        case 'r':
            sqlite3_bind_double(st, 1, c->r);
            break;
        case 't':
            sqlite3_bind_text(st, 1, c->bytes, c->len, SQLITE_STATIC);
            break;
        case 'b':
            sqlite3_bind_blob(st, 1, c->bytes, c->len, SQLITE_STATIC);
            break;
        case 's': {
            char sql[128];
            snprintf(sql, sizeof sql, "INSERT INTO v(x) VALUES(%s)", c->bytes);
            db_exec(db, sql);
            continue;
        }
        default:
            sqlite3_bind_null(st, 1);
            break;
        }
        step_done(db, st);
    }
    sqlite3_finalize(st);
    db_exec(db, "COMMIT");
    db_close(db);
    return path;
}

static char *expected_value_lines(int with_rowid)
{
    size_t cap = 16384, n = 0;
    char *p = malloc(cap);
    for (size_t i = 0; i < NCASES; i++) {
        const char *want = value_cases[i].want;
        if (with_rowid)
            n += (size_t)snprintf(p + n, cap - n, "[%zu,%s\n", i + 1, want + 1);
        else
            n += (size_t)snprintf(p + n, cap - n, "%s\n", want);
        cr_assert(n < cap);
    }
    return p;
}

/* Compare line by line first, so that a failure names the value. */
static void assert_lines(const char *got, const char *want)
{
    const char *g = got, *w = want;
    for (int line = 1; *g || *w; line++) {
        const char *ge = strchr(g, '\n'), *we = strchr(w, '\n');
        size_t gl = ge ? (size_t)(ge - g) : strlen(g), wl = we ? (size_t)(we - w) : strlen(w);
        cr_assert(gl == wl && memcmp(g, w, gl) == 0, "line %d: got '%.*s', want '%.*s'", line,
                  (int)gl, g, (int)wl, w);
        g += gl + (ge ? 1 : 0);
        w += wl + (we ? 1 : 0);
    }
    cr_assert_str_eq(got, want);
}

Test(cli_dump, jsonl_every_value_kind, .init = setup, .fini = teardown)
{
    const char *db = make_value_db();
    result r = RUN("dump", db, "v");
    assert_ok(&r);
    char *want = expected_value_lines(0);
    assert_lines(r.out, want);
    free(want);
    result_free(&r);
}

Test(cli_dump, jsonl_lines_parse_as_json, .init = setup, .fini = teardown)
{
    const char *db = make_value_db();
    result r = RUN("dump", db, "v", "--format", "jsonl");
    assert_ok(&r);
    char *line = r.out;
    size_t count = 0;
    while (*line) {
        char *end = strchr(line, '\n');
        cr_assert_not_null(end);
        char *ok = jq(line, (size_t)(end - line),
                      "SELECT json_valid(?1) AND json_type(?1) = 'array' "
                      "AND json_array_length(?1) = 1",
                      NULL);
        cr_assert(ok && strcmp(ok, "1") == 0, "line %zu is not a JSON array of one value: %.*s",
                  count + 1, (int)(end - line), line);
        free(ok);
        count++;
        line = end + 1;
    }
    cr_assert_eq(count, NCASES);
    result_free(&r);
}

Test(cli_dump, rowid_comes_first, .init = setup, .fini = teardown)
{
    const char *db = make_value_db();
    result r = RUN("dump", db, "v", "--rowid");
    assert_ok(&r);
    char *want = expected_value_lines(1);
    assert_lines(r.out, want);
    free(want);
    result_free(&r);
}

Test(cli_dump, integer_primary_key_shows_the_rowid, .init = setup, .fini = teardown)
{
    const char *db =
        make_db("ipk.db", "CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT, score REAL);"
                          "INSERT INTO p VALUES(10, 'ten', 1);"
                          "INSERT INTO p VALUES(-5, 'neg', 2.5);"
                          "INSERT INTO p VALUES(3, NULL, NULL);");
    result r = RUN("dump", db, "p");
    assert_ok(&r);
    /* REAL affinity: SQLite stores 1 as an integer on disk, reads it as 1.0. */
    assert_lines(r.out, "[-5,\"neg\",2.5]\n[3,null,null]\n[10,\"ten\",1.0]\n");
    result_free(&r);

    r = RUN("dump", "--rowid", db, "p");
    assert_ok(&r);
    assert_lines(r.out, "[-5,-5,\"neg\",2.5]\n[3,3,null,null]\n[10,10,\"ten\",1.0]\n");
    result_free(&r);
}

Test(cli_dump, table_name_is_case_insensitive, .init = setup, .fini = teardown)
{
    const char *db = make_db("case.db", "CREATE TABLE Things(a); INSERT INTO Things VALUES(1);");
    result r = RUN("dump", db, "tHINGS");
    assert_ok(&r);
    cr_assert_str_eq(r.out, "[1]\n");
    result_free(&r);
}

Test(cli_dump, without_rowid_in_key_order, .init = setup, .fini = teardown)
{
    const char *db = make_db("wr.db", "CREATE TABLE w(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
                                      "INSERT INTO w VALUES('b', 2), ('c', 3), ('a', 1);");
    result r = RUN("dump", db, "w");
    assert_ok(&r);
    assert_lines(r.out, "[\"a\",1]\n[\"b\",2]\n[\"c\",3]\n");
    result_free(&r);

    /* A WITHOUT ROWID table has no rowid to show. */
    r = RUN("dump", db, "w", "--rowid");
    assert_fail_line(&r);
    cr_assert_eq(r.out_n, 0);
    result_free(&r);
}

Test(cli_dump, added_columns_take_their_defaults, .init = setup, .fini = teardown)
{
    const char *db = make_db("alter.db", "CREATE TABLE a(x);"
                                         "INSERT INTO a VALUES(1);"
                                         "ALTER TABLE a ADD COLUMN y DEFAULT 7;"
                                         "ALTER TABLE a ADD COLUMN z TEXT DEFAULT 'hi';"
                                         "ALTER TABLE a ADD COLUMN w;"
                                         "INSERT INTO a VALUES(2, 3, 'x', 4.5);");
    result r = RUN("dump", db, "a");
    assert_ok(&r);
    assert_lines(r.out, "[1,7,\"hi\",null]\n[2,3,\"x\",4.5]\n");
    result_free(&r);
}

Test(cli_dump, overflow_values_exactly, .init = setup, .fini = teardown)
{
    const char *path = tpath("big.db");
    sqlite3 *db = db_open(path);
    db_exec(db, "PRAGMA page_size=1024;"
                "CREATE TABLE b(t, x);"
                "INSERT INTO b VALUES(printf('%.*c', 100000, 'y'), randomblob(50000));"
                "INSERT INTO b VALUES('small', x'01');");
    /* The expected lines, built by SQLite itself. */
    sqlite3_stmt *st = prepare(db, "SELECT '[\"' || t || '\",{\"blob\":\"' || lower(hex(x)) || "
                                   "'\"}]' FROM b ORDER BY rowid");
    size_t cap = 400000, n = 0;
    char *want = malloc(cap);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        cr_assert(n + len + 2 < cap);
        memcpy(want + n, line, len);
        n += len;
        want[n++] = '\n';
    }
    want[n] = '\0';
    sqlite3_finalize(st);
    db_close(db);

    result r = RUN("dump", path, "b");
    assert_ok(&r);
    cr_assert_eq(r.out_n, n, "got %zu bytes, want %zu", r.out_n, n);
    cr_assert(memcmp(r.out, want, n) == 0, "overflow values differ");
    free(want);
    result_free(&r);
}

/* Many rows over many pages: every line, in order. */
Test(cli_dump, many_rows_stream_in_order, .init = setup, .fini = teardown)
{
    const int nrows = 20000;
    const char *db = make_db("many.db", "CREATE TABLE m(a INTEGER PRIMARY KEY, b TEXT, c);"
                                        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                                        "FROM n WHERE i < 20000) "
                                        "INSERT INTO m SELECT i, 'row ' || i, i * 0.5 FROM n;");
    result r = RUN("dump", db, "m");
    assert_ok(&r);
    size_t cap = (size_t)nrows * 48, n = 0;
    char *want = malloc(cap);
    for (int i = 1; i <= nrows; i++) {
        /* i * 0.5 is an exact real; whole ones print with ".0". */
        if (i % 2 == 0)
            n += (size_t)snprintf(want + n, cap - n, "[%d,\"row %d\",%d.0]\n", i, i, i / 2);
        else
            n += (size_t)snprintf(want + n, cap - n, "[%d,\"row %d\",%d.5]\n", i, i, i / 2);
    }
    assert_lines(r.out, want);
    free(want);
    result_free(&r);
}

/* A reader that goes away: exit status 1, nothing on stderr, no signal death. */
Test(cli_dump, closed_pipe_exits_1_quietly, .init = setup, .fini = teardown)
{
    const char *db = make_db("pipe.db", "CREATE TABLE m(a, b);"
                                        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                                        "FROM n WHERE i < 100000) "
                                        "INSERT INTO m SELECT i, printf('%.40c', 'z') FROM n;");
    const char *err_path = tpath(".stderr");
    const char *cli = cli_path();
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fds[1], 1);
        dup2(err, 2);
        close(fds[0]);
        close(fds[1]);
        /* Default SIGPIPE disposition, as from a shell. */
        signal(SIGPIPE, SIG_DFL);
        execl(cli, cli, "dump", db, "m", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[100];
    cr_assert(read(fds[0], buf, sizeof buf) > 0);
    close(fds[0]);
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st), "killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    cr_assert_eq(WEXITSTATUS(st), 1);
    size_t n = 0;
    char *err = slurp(err_path, &n);
    cr_assert_eq(n, 0, "stderr: %s", err);
    free(err);
}

/* ---- dump: CSV ----------------------------------------------------------------------- */

Test(cli_csv, quoting_and_values, .init = setup, .fini = teardown)
{
    const char *db =
        make_db("csv.db", "CREATE TABLE c(\"na,me\", b, \"c\"\"q\");"
                          "INSERT INTO c VALUES('plain', 1, 1.5);"
                          "INSERT INTO c VALUES('with,comma', -2, NULL);"
                          "INSERT INTO c VALUES('say \"hi\"', 0, 0.1);"
                          "INSERT INTO c VALUES('line' || char(10) || 'break', NULL, 1e999);"
                          "INSERT INTO c VALUES('cr' || char(13) || 'here', x'00ff', '');"
                          "INSERT INTO c VALUES(-1e999, 9223372036854775807, 1.0);");
    result r = RUN("dump", db, "c", "--format", "csv");
    assert_ok(&r);
    cr_assert_str_eq(r.out, "\"na,me\",b,\"c\"\"q\"\n"
                            "plain,1,1.5\n"
                            "\"with,comma\",-2,\n"
                            "\"say \"\"hi\"\"\",0,0.1\n"
                            "\"line\nbreak\",,Infinity\n"
                            "\"cr\rhere\",00ff,\"\"\n"
                            "-Infinity,9223372036854775807,1.0\n");
    result_free(&r);

    r = RUN("dump", db, "c", "--format=csv", "--rowid");
    assert_ok(&r);
    const char *head = "rowid,\"na,me\",b,\"c\"\"q\"\n1,plain,1,1.5\n2,\"with,comma\",-2,\n";
    cr_assert(strncmp(r.out, head, strlen(head)) == 0, "got: %s", r.out);
    result_free(&r);
}

Test(cli_csv, empty_table_prints_the_header, .init = setup, .fini = teardown)
{
    const char *db = make_db("empty.db", "CREATE TABLE e(a, b);");
    result r = RUN("dump", db, "e", "--format", "csv");
    assert_ok(&r);
    cr_assert_str_eq(r.out, "a,b\n");
    result_free(&r);

    r = RUN("dump", db, "e");
    assert_ok(&r);
    cr_assert_str_eq(r.out, "");
    result_free(&r);
}

/* ---- Usage and errors ------------------------------------------------------------------- */

Test(cli_usage, usage_errors_exit_2, .init = setup, .fini = teardown)
{
    const char *db = make_db("u.db", "CREATE TABLE t(a);");
    result r;
    r = RUN("frobnicate", db);
    assert_usage(&r);
    result_free(&r);
    r = RUN("dump", db);
    assert_usage(&r);
    result_free(&r);
    r = RUN("dump", db, "t", "extra");
    assert_usage(&r);
    result_free(&r);
    r = RUN("dump", db, "t", "--format", "xml");
    assert_usage(&r);
    result_free(&r);
    r = RUN("dump", db, "t", "--format");
    assert_usage(&r);
    result_free(&r);
    r = RUN("info", db, "--bogus");
    assert_usage(&r);
    result_free(&r);
    r = RUN("info");
    assert_usage(&r);
    result_free(&r);
    r = RUN("--sync", "sometimes", "info", db);
    assert_usage(&r);
    result_free(&r);
    r = RUN("info", db, "--cache-mb", "lots");
    assert_usage(&r);
    result_free(&r);
    r = RUN("info", db, "--mmap-mb", "-1");
    assert_usage(&r);
    result_free(&r);
    r = RUN("info", db, "--page-size", "1000");
    assert_usage(&r);
    result_free(&r);
    r = RUN("info", db, "--sync");
    assert_usage(&r);
    result_free(&r);
    r = RUN("check", db, "--max-errors", "0");
    assert_usage(&r);
    result_free(&r);
    r = RUN("tables", db, "--json=yes");
    assert_usage(&r);
    result_free(&r);
}

Test(cli_usage, no_arguments_exit_2, .init = setup, .fini = teardown)
{
    const char *args[] = {NULL};
    result r = run_argv(args);
    assert_usage(&r);
    result_free(&r);
}

Test(cli_usage, help_and_version_exit_0, .init = setup, .fini = teardown)
{
    result r = RUN("--help");
    assert_ok(&r);
    cr_assert(strncmp(r.out, "usage: folio", 12) == 0, "stdout: %s", r.out);
    for (const char *c = "info\0schema\0tables\0dump\0check\0stats\0"; *c; c += strlen(c) + 1)
        cr_assert_not_null(strstr(r.out, c), "--help does not list %s", c);
    result_free(&r);

    r = RUN("-h");
    assert_ok(&r);
    cr_assert(strncmp(r.out, "usage: folio", 12) == 0);
    result_free(&r);

    r = RUN("dump", "--help");
    assert_ok(&r);
    cr_assert(strncmp(r.out, "usage: folio dump DB TABLE", 26) == 0, "stdout: %s", r.out);
    result_free(&r);

    r = RUN("help", "check");
    assert_ok(&r);
    cr_assert(strncmp(r.out, "usage: folio check DB", 21) == 0, "stdout: %s", r.out);
    result_free(&r);

    r = RUN("--version");
    assert_ok(&r);
    cr_assert(strncmp(r.out, "folio ", 6) == 0 && r.out[r.out_n - 1] == '\n', "stdout: %s", r.out);
    result_free(&r);
}

Test(cli_usage, global_options_before_or_after, .init = setup, .fini = teardown)
{
    const char *db = make_db("g.db", "CREATE TABLE t(a); INSERT INTO t VALUES(42);");
    result r = RUN("--sync", "full", "--cache-mb", "8", "dump", db, "t");
    assert_ok(&r);
    cr_assert_str_eq(r.out, "[42]\n");
    result_free(&r);

    r = RUN("dump", db, "--sync=off", "t", "--cache-mb=1", "--page-size", "8192");
    assert_ok(&r);
    cr_assert_str_eq(r.out, "[42]\n");
    result_free(&r);

    r = RUN("dump", "--", db, "t");
    assert_ok(&r);
    cr_assert_str_eq(r.out, "[42]\n");
    result_free(&r);

    r = RUN("--mmap-mb", "64", "dump", db, "t");
    assert_ok(&r);
    cr_assert_str_eq(r.out, "[42]\n");
    result_free(&r);

    r = RUN("check", db, "--mmap-mb=16");
    assert_ok(&r);
    cr_assert_str_eq(r.out, "ok\n");
    result_free(&r);
}

Test(cli_errors, missing_file_exits_1, .init = setup, .fini = teardown)
{
    const char *missing = tpath("missing.db");
    result r = RUN("info", missing);
    assert_fail_line(&r);
    cr_assert_not_null(strstr(r.err, "missing.db"), "stderr: %s", r.err);
    result_free(&r);
    /* A read-only open must not create the file. */
    cr_assert_neq(access(missing, F_OK), 0, "info created %s", missing);

    r = RUN("dump", missing, "t");
    assert_fail_line(&r);
    result_free(&r);
}

Test(cli_errors, not_a_database_exits_1, .init = setup, .fini = teardown)
{
    const char *path = tpath("text.db");
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    for (int i = 0; i < 200; i++)
        fputs("this is not a database file at all\n", f);
    fclose(f);
    const char *cmds[] = {"info", "schema", "tables", "check", "stats"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        result r = RUN(cmds[i], path);
        assert_fail_line(&r);
        cr_assert_eq(r.out_n, 0, "%s printed: %s", cmds[i], r.out);
        result_free(&r);
    }
}

Test(cli_errors, unknown_table_exits_1, .init = setup, .fini = teardown)
{
    const char *db = make_db("t.db", "CREATE TABLE t(a, b); CREATE INDEX t_b ON t(b);"
                                     "CREATE VIEW v AS SELECT a FROM t;");
    result r = RUN("dump", db, "nosuch");
    cr_assert_eq(r.status, 1);
    cr_assert_str_eq(r.err, "folio: no such table: nosuch\n");
    cr_assert_eq(r.out_n, 0);
    result_free(&r);

    /* An index is not a table. */
    r = RUN("dump", db, "t_b", "--format", "csv");
    cr_assert_eq(r.status, 1);
    assert_fail_line(&r);
    cr_assert_eq(r.out_n, 0);
    result_free(&r);
}

/* ---- schema, info, tables, stats, check -------------------------------------------------- */

Test(cli_schema, prints_the_create_statements, .init = setup, .fini = teardown)
{
    const char *db = make_db("s.db", "CREATE TABLE t(a INTEGER, b TEXT UNIQUE);\n"
                                     "CREATE INDEX t_a ON t(a);\n"
                                     "CREATE VIEW v AS SELECT a FROM t;\n"
                                     "CREATE TABLE w(k PRIMARY KEY, v) WITHOUT ROWID;");
    result r = RUN("schema", db);
    assert_ok(&r);
    /* The automatic index of UNIQUE has no statement and is not printed. */
    cr_assert_str_eq(r.out, "CREATE TABLE t(a INTEGER, b TEXT UNIQUE);\n"
                            "CREATE INDEX t_a ON t(a);\n"
                            "CREATE VIEW v AS SELECT a FROM t;\n"
                            "CREATE TABLE w(k PRIMARY KEY, v) WITHOUT ROWID;\n");
    result_free(&r);
}

Test(cli_info, shows_header_fields, .init = setup, .fini = teardown)
{
    const char *db = make_db("i.db", "PRAGMA page_size=1024; PRAGMA user_version=77;"
                                     "PRAGMA application_id=1234;"
                                     "CREATE TABLE t(a); INSERT INTO t VALUES(1);");
    result r = RUN("info", db);
    assert_ok(&r);
    const char *want[] = {"page_size: 1024\n",        "text_encoding: UTF-8\n",
                          "user_version: 77\n",       "application_id: 1234\n",
                          "journal_mode: rollback\n", "page_count: 2\n",
                          "file_bytes: 2048\n",       "freelist_pages: 0\n"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert_not_null(strstr(r.out, want[i]), "no '%s' in:\n%s", want[i], r.out);
    /* One "name: value" per line. */
    for (char *line = r.out; *line; line = strchr(line, '\n') + 1) {
        char *colon = strstr(line, ": ");
        char *nl = strchr(line, '\n');
        cr_assert(nl && colon && colon < nl, "bad line in:\n%s", r.out);
    }
    result_free(&r);
}

Test(cli_info, wal_database, .init = setup, .fini = teardown)
{
    const char *db = make_db("w.db", "PRAGMA journal_mode=WAL; CREATE TABLE t(a);");
    result r = RUN("info", db);
    assert_ok(&r);
    cr_assert_not_null(strstr(r.out, "journal_mode: WAL\n"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "write_version: 2\n"), "%s", r.out);
    result_free(&r);
}

static const char *tables_script = "PRAGMA page_size=1024;"
                                   "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT);"
                                   "CREATE INDEX t_b ON t(b);"
                                   "CREATE TABLE u(x);"
                                   "CREATE VIEW v AS SELECT * FROM t;"
                                   "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                                   "FROM n WHERE i < 500) "
                                   "INSERT INTO t SELECT i, printf('value %05d', i) FROM n;";

Test(cli_tables, json_row_and_page_counts, .init = setup, .fini = teardown)
{
    const char *db = make_db("tables.db", tables_script);
    result r = RUN("tables", db, "--json");
    assert_ok(&r);
    assert_jq(r.out, "SELECT json_valid(?1)", NULL, "1");
    assert_jq(r.out, "SELECT json_type(?1)", NULL, "array");
    assert_jq(r.out, "SELECT group_concat(json_extract(value, '$.name'), ' ') FROM json_each(?1)",
              NULL, "t t_b u"); /* schema order; the view has no storage */

    assert_named(r.out, "t", "$.type", "table");
    assert_named(r.out, "t", "$.table", "t");
    assert_named(r.out, "t", "$.rows", "500");
    assert_jq(r.out,
              "SELECT json_extract(value, '$.pages') > 1 FROM json_each(?1) "
              "WHERE json_extract(value, '$.name') = ?2",
              "t", "1");

    assert_named(r.out, "t_b", "$.type", "index");
    assert_named(r.out, "t_b", "$.table", "t");
    assert_named(r.out, "t_b", "$.rows", "500");
    assert_jq(r.out,
              "SELECT json_extract(value, '$.pages') > 1 FROM json_each(?1) "
              "WHERE json_extract(value, '$.name') = ?2",
              "t_b", "1");

    assert_named(r.out, "u", "$.rows", "0");
    assert_named(r.out, "u", "$.pages", "1");
    result_free(&r);
}

Test(cli_tables, text_lists_every_btree, .init = setup, .fini = teardown)
{
    const char *db = make_db("tables.db", tables_script);
    result r = RUN("tables", db);
    assert_ok(&r);
    cr_assert(strncmp(r.out, "name ", 5) == 0, "%s", r.out);
    cr_assert_not_null(strstr(r.out, "\nt "), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "\nt_b "), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "\nu "), "%s", r.out);
    cr_assert_not_null(strstr(r.out, " 500 "), "%s", r.out);
    result_free(&r);
}

Test(cli_stats, json_figures, .init = setup, .fini = teardown)
{
    const char *db = make_db("stats.db", tables_script);
    result r = RUN("stats", "--json", db);
    assert_ok(&r);
    const char *j = r.out;
    assert_jq(j, "SELECT json_valid(?1) AND json_type(?1) = 'object'", NULL, "1");
    assert_jq(j, "SELECT json_extract(?1, '$.page_size')", NULL, "1024");
    assert_jq(j,
              "SELECT json_extract(?1, '$.file_bytes') = 1024 * json_extract(?1, '$.page_count')",
              NULL, "1");
    assert_jq(j, "SELECT json_extract(?1, '$.freelist_pages')", NULL, "0");
    /* Every page of a fresh file belongs to a b-tree. */
    assert_jq(j, "SELECT json_extract(?1, '$.btree_pages') = json_extract(?1, '$.page_count')",
              NULL, "1");
    assert_jq(j,
              "SELECT group_concat(json_extract(value, '$.name'), ' ') "
              "FROM json_each(?1, '$.btrees')",
              NULL, "sqlite_schema t t_b u");
    const char *by_name = "SELECT %s FROM json_each(?1, '$.btrees') "
                          "WHERE json_extract(value, '$.name') = ?2";
    char sql[512];
    snprintf(sql, sizeof sql, by_name, "json_extract(value, '$.entries')");
    assert_jq(j, sql, "t", "500");
    assert_jq(j, sql, "t_b", "500");
    snprintf(sql, sizeof sql, by_name, "json_extract(value, '$.type')");
    assert_jq(j, sql, "t", "table");
    assert_jq(j, sql, "t_b", "index");
    snprintf(sql, sizeof sql, by_name,
             "json_extract(value, '$.leaf_pages') > 1 AND "
             "json_extract(value, '$.interior_pages') > 0 AND "
             "json_extract(value, '$.depth') >= 2");
    assert_jq(j, sql, "t", "1");
    snprintf(sql, sizeof sql, by_name,
             "json_extract(value, '$.fill') > 0.3 AND json_extract(value, '$.fill') <= 1");
    assert_jq(j, sql, "t", "1");
    /* The totals add up the b-trees. */
    assert_jq(j,
              "SELECT (SELECT sum(json_extract(value, '$.payload_bytes')) "
              "FROM json_each(?1, '$.btrees')) = json_extract(?1, '$.payload_bytes')",
              NULL, "1");
    result_free(&r);

    r = RUN("stats", db);
    assert_ok(&r);
    cr_assert_not_null(strstr(r.out, "freelist:"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "\nt_b "), "%s", r.out);
    result_free(&r);
}

/* The value of the sample `name` (with its labels, as printed) in the
 * Prometheus text `text`; -1 when it is missing. */
static long long prom_value(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = text; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, name, n) == 0 && line[n] == ' ')
            return strtoll(line + n + 1, NULL, 10);
    return -1;
}

static long long sqlite_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = prepare(db, sql);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

Test(cli_stats, prometheus_matches_sqlite, .init = setup, .fini = teardown)
{
    const char *db = make_db("prom.db", tables_script);
    sqlite3 *s = db_open(db);
    db_exec(s, "DELETE FROM t WHERE a > 300;"); /* a freelist */
    db_exec(s, "CREATE TABLE \"q\"\"uote\"(z);");
    long long rows = sqlite_int(s, "SELECT count(*) FROM t");
    long long pages = sqlite_int(s, "PRAGMA page_count");
    long long freelist = sqlite_int(s, "PRAGMA freelist_count");
    long long page_size = sqlite_int(s, "PRAGMA page_size");
    db_close(s);
    cr_assert_gt(freelist, 0);

    result r = RUN("stats", db, "--prometheus");
    assert_ok(&r);
    cr_assert_eq(prom_value(r.out, "folio_pages"), pages, "%s", r.out);
    cr_assert_eq(prom_value(r.out, "folio_freelist_pages"), freelist, "%s", r.out);
    cr_assert_eq(prom_value(r.out, "folio_page_size_bytes"), page_size, "%s", r.out);
    cr_assert_eq(prom_value(r.out, "folio_file_bytes"), pages * page_size, "%s", r.out);
    cr_assert_eq(prom_value(r.out, "folio_table_rows{table=\"t\"}"), rows, "%s", r.out);
    cr_assert_eq(prom_value(r.out, "folio_table_rows{table=\"u\"}"), 0, "%s", r.out);
    cr_assert_eq(prom_value(r.out, "folio_table_rows{table=\"q\\\"uote\"}"), 0, "%s", r.out);
    cr_assert_eq(prom_value(r.out, "folio_index_entries{index=\"t_b\",table=\"t\"}"), rows, "%s",
                 r.out);
    cr_assert_eq(prom_value(r.out, "folio_btree_depth{name=\"t\",type=\"table\",table=\"t\"}"), 2,
                 "%s", r.out);

    /* Every sample line is `name{labels} value` or `name value`, and its
     * family has a HELP and a TYPE line before it. */
    char *copy = strdup(r.out);
    char families[64][64];
    int nfam = 0, samples = 0;
    for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
        char fam[64], kind[16];
        if (strncmp(line, "# HELP ", 7) == 0)
            continue;
        if (sscanf(line, "# TYPE %63s %15s", fam, kind) == 2) {
            cr_assert(strcmp(kind, "gauge") == 0, "%s", line);
            cr_assert_lt(nfam, 64);
            snprintf(families[nfam++], sizeof families[0], "%s", fam);
            char help[96];
            snprintf(help, sizeof help, "# HELP %s ", fam);
            cr_assert_not_null(strstr(r.out, help), "HELP for %s", fam);
            continue;
        }
        cr_assert_neq(line[0], '#', "%s", line);
        size_t n = strspn(line, "abcdefghijklmnopqrstuvwxyz_0123456789");
        cr_assert(n > 6 && strncmp(line, "folio_", 6) == 0, "%s", line);
        cr_assert(line[n] == ' ' || line[n] == '{', "%s", line);
        cr_assert(nfam > 0 && strlen(families[nfam - 1]) == n &&
                      strncmp(families[nfam - 1], line, n) == 0,
                  "sample outside its family: %s", line);
        const char *v = strrchr(line, ' ');
        char *end;
        strtod(v + 1, &end);
        cr_assert(end != v + 1 && *end == 0, "value: %s", line);
        samples++;
    }
    cr_assert_gt(samples, 20);
    free(copy);
    result_free(&r);

    r = RUN("stats", db, "--prometheus", "--json");
    cr_assert_eq(r.status, 2, "usage error: %d", r.status);
    result_free(&r);
}

Test(cli_check, good_file_prints_ok, .init = setup, .fini = teardown)
{
    const char *db = make_db("good.db", tables_script);
    result r = RUN("check", db);
    assert_ok(&r);
    cr_assert_str_eq(r.out, "ok\n");
    result_free(&r);
}

/* Overwrite `n` bytes at `offset` of `path` with `byte`, and make sure that
 * libsqlite3 sees the damage too, so the test damages something that matters. */
static void damage(const char *path, long offset, int byte, size_t n)
{
    unsigned char junk[4096];
    cr_assert(n <= sizeof junk);
    memset(junk, byte, n);
    int fd = open(path, O_WRONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(pwrite(fd, junk, n, offset), (ssize_t)n);
    close(fd);
    sqlite3 *db = db_open(path);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        cr_assert_str_neq((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

Test(cli_check, damaged_page_is_named, .init = setup, .fini = teardown)
{
    const char *path = make_db("bad.db", tables_script);
    damage(path, 1024, 0x01, 1); /* page 2 (the root of t): an invalid page type */
    result r = RUN("check", path);
    cr_assert_eq(r.status, 1, "status %d, stdout: %s, stderr: %s", r.status, r.out, r.err);
    cr_assert_str_neq(r.out, "ok\n");
    cr_assert_not_null(strstr(r.out, "page 2"), "stdout: %s\nstderr: %s", r.out, r.err);
    result_free(&r);
}

Test(cli_check, max_errors_limits_the_report, .init = setup, .fini = teardown)
{
    const char *path = make_db("bad.db", tables_script);
    damage(path, 4 * 1024 + 8, 0xA5, 1016); /* page 5, a leaf: every cell broken */
    result r = RUN("check", path);
    cr_assert_eq(r.status, 1, "status %d, stderr: %s", r.status, r.err);
    size_t all = count_lines(r.out);
    cr_assert_gt(all, 3, "stdout: %s", r.out);
    result_free(&r);

    r = RUN("check", path, "--max-errors", "3");
    cr_assert_eq(r.status, 1, "status %d, stderr: %s", r.status, r.err);
    size_t some = count_lines(r.out);
    cr_assert(some >= 1 && some <= 3, "%zu lines: %s", some, r.out);
    result_free(&r);
}

/* ---- Read-only files ----------------------------------------------------------------------- */

/* The names and contents of the files in `dir`, as one string. */
static char *dir_snapshot(const char *dir)
{
    char cmd[2 * PATH_MAX + 64];
    /* The -shm is shared memory, not data: a reader of a WAL database joins
     * it (creating it when the directory lets it, as SQLite's readers do). */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && ls -a | grep -v -- '-shm$'; for f in *; do case \"$f\" in *-shm) ;; "
             "*) cat -- \"$f\";; esac; done",
             dir);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 1 << 16, n = 0, got;
    char *text = malloc(cap + 1);
    while ((got = fread(text + n, 1, cap - n, p)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            text = realloc(text, cap + 1);
        }
    }
    text[n] = '\0';
    pclose(p);
    return text;
}

static void copy_file(const char *from, const char *to)
{
    size_t n = 0;
    char *bytes = slurp(from, &n);
    FILE *f = fopen(to, "wb");
    cr_assert_not_null(f, "%s: %s", to, strerror(errno));
    cr_assert_eq(fwrite(bytes, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
    free(bytes);
}

/* Make directory `dir` and its `files` read-only. As root the
 * permissions are not enforced; the callers then check that the read commands
 * neither create nor change any file there, which holds either way. */
static void make_read_only(const char *dir, const char *const *files)
{
    for (; *files; files++)
        cr_assert_eq(chmod(*files, 0444), 0);
    cr_assert_eq(chmod(dir, 0555), 0);
}

/* Run every read command on `db` and check that none of them fails or
 * touches the directory; `dump_want` is the expected dump of table t. */
static void run_read_commands(const char *dir, const char *db, const char *dump_want)
{
    char *before = dir_snapshot(dir);
    result r = RUN("dump", db, "t");
    assert_ok(&r);
    cr_assert_str_eq(r.out, dump_want);
    result_free(&r);
    const char *cmds[] = {"info", "schema", "tables", "stats", "check"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        r = RUN(cmds[i], db);
        assert_ok(&r);
        result_free(&r);
    }
    char *after = dir_snapshot(dir);
    cr_assert_str_eq(after, before, "the read commands changed %s", dir);
    /* A -shm appears only where the directory could be written (as root). */
    char shm[2 * PATH_MAX + 16];
    snprintf(shm, sizeof shm, "%s-shm", db);
    cr_assert(access(shm, F_OK) != 0 || geteuid() == 0, "a read-only directory got a -shm: %s",
              shm);
    free(before);
    free(after);
}

Test(cli_readonly, read_only_file_in_read_only_dir, .init = setup, .fini = teardown)
{
    const char *dir = tpath("ro");
    cr_assert_eq(mkdir(dir, 0755), 0);
    char db[2 * PATH_MAX + 8];
    snprintf(db, sizeof db, "%s/ro.db", dir);
    sqlite3 *sq = db_open(db);
    db_exec(sq, "PRAGMA journal_mode=WAL; CREATE TABLE t(a, b);"
                "INSERT INTO t VALUES(1, 'one'), (2, 'two');");
    db_close(sq);
    cr_assert_neq(access(tpath("ro/ro.db-wal"), F_OK), 0, "sqlite3 left a -wal");
    make_read_only(dir, (const char *const[]){db, NULL});
    run_read_commands(dir, db, "[1,\"one\"]\n[2,\"two\"]\n");
}

/* A -wal with committed frames that were never checkpointed: the read
 * commands see them, and leave both files alone. */
Test(cli_readonly, reads_committed_wal_frames, .init = setup, .fini = teardown)
{
    const char *dir = tpath("wal");
    cr_assert_eq(mkdir(dir, 0755), 0);
    const char *live = tpath("live.db");
    sqlite3 *sq = db_open(live);
    db_exec(sq, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
                "CREATE TABLE t(a, b); INSERT INTO t VALUES(1, 'one');"
                "PRAGMA wal_checkpoint(TRUNCATE);"
                "INSERT INTO t VALUES(2, 'two'); UPDATE t SET b = 'ONE' WHERE a = 1;");
    /* Copy the pair while the connection is open, so the -wal stays. */
    char db[2 * PATH_MAX + 8], wal[2 * PATH_MAX + 16];
    snprintf(db, sizeof db, "%s/w.db", dir);
    snprintf(wal, sizeof wal, "%s/w.db-wal", dir);
    copy_file(live, db);
    copy_file(tpath("live.db-wal"), wal);
    db_close(sq);

    result r = RUN("info", db);
    assert_ok(&r);
    cr_assert_not_null(strstr(r.out, "journal_mode: WAL\n"), "%s", r.out);
    cr_assert_null(strstr(r.out, "wal_frames: 0\n"), "%s", r.out);
    /* A read-only reader never checkpoints: nothing of the WAL is in the file. */
    cr_assert_not_null(strstr(r.out, "wal_backfilled: 0\n"), "%s", r.out);
    cr_assert_null(strstr(r.out, "wal_bytes: 0\n"), "%s", r.out);
    result_free(&r);

    make_read_only(dir, (const char *const[]){db, wal, NULL});
    run_read_commands(dir, db, "[1,\"ONE\"]\n[2,\"two\"]\n");
}
