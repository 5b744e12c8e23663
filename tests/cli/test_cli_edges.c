/*
 * test_cli_edges.c: `folio relate` and `folio edges`, run as a separate
 * process (the binary named by $FOLIO_CLI) on databases in a fresh temporary
 * directory. Every file the tool writes is checked with libsqlite3: PRAGMA
 * integrity_check and the stored edges and concepts, exactly (type and
 * bytes); the output of `edges` is compared byte for byte.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* nftw */
#endif

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[PATH_MAX];
static char dbpath[PATH_MAX + 16];

static void setup(void)
{
    const char *base = getenv("FOLIO_TMP");
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0755);
    snprintf(tmpdir, sizeof tmpdir, "%s/folio-clie-XXXXXX", base);
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp under %s: %s", base, strerror(errno));
    snprintf(dbpath, sizeof dbpath, "%s/g.db", tmpdir);
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
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *p = malloc(cap + 1);
    size_t got;
    while ((got = fread(p + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            p = realloc(p, (cap *= 2) + 1);
    }
    fclose(f);
    p[n] = '\0';
    return p;
}

typedef struct result {
    int status;
    char *out, *err;
} result;

static result run(const char *const *args)
{
    const char *cli = getenv("FOLIO_CLI");
    cr_assert(cli && *cli, "FOLIO_CLI must name the folio binary (CTest sets it)");
    char out_path[PATH_MAX + 16], err_path[PATH_MAX + 16];
    snprintf(out_path, sizeof out_path, "%s/.stdout", tmpdir);
    snprintf(err_path, sizeof err_path, "%s/.stderr", tmpdir);
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)cli;
    for (; args[argc - 1]; argc++) {
        cr_assert(argc < 31);
        argv[argc] = (char *)args[argc - 1];
    }
    argv[argc] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int i = open("/dev/null", O_RDONLY);
        if (o < 0 || e < 0 || i < 0)
            _exit(126);
        dup2(i, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(cli, argv);
        _exit(127);
    }
    int st = 0;
    cr_assert(waitpid(pid, &st, 0) == pid);
    result r = {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), slurp(out_path),
                slurp(err_path)};
    return r;
}

#define RUN(...) run((const char *const[]){__VA_ARGS__, NULL})

static void result_free(result *r)
{
    free(r->out);
    free(r->err);
}

/* Run; it must succeed silently on stderr; returns its stdout. */
static char *run_ok(const char *const *args)
{
    result r = run(args);
    cr_assert_eq(r.status, 0, "%s: exit status %d, stderr: %s", args[0], r.status, r.err);
    cr_assert_str_empty(r.err, "unexpected stderr: %s", r.err);
    free(r.err);
    return r.out;
}

#define OK(...) run_ok((const char *const[]){__VA_ARGS__, NULL})

static void ok_silent(const char *const *args)
{
    char *out = run_ok(args);
    cr_assert_str_empty(out, "unexpected stdout: %s", out);
    free(out);
}

#define RELATE(...) ok_silent((const char *const[]){"relate", dbpath, __VA_ARGS__, NULL})

static void assert_status(result *r, int status, const char *want)
{
    cr_assert_eq(r->status, status, "exit status %d (want %d), stderr: %s", r->status, status,
                 r->err);
    cr_assert(strncmp(r->err, "folio: ", 7) == 0, "stderr: %s", r->err);
    if (want)
        cr_assert_not_null(strstr(r->err, want), "stderr lacks '%s': %s", want, r->err);
    if (status == 2)
        cr_assert_not_null(strstr(r->err, "usage:"), "no usage on stderr: %s", r->err);
    result_free(r);
}

/* Every row of `sql` on the file, exactly: "type:value" fields (reals
 * %a, text and blobs in hex), one row per line. */
static char *image(const char *sql)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    size_t cap = 1 << 16, n = 0;
    char *p = malloc(cap);
    p[0] = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            cr_assert_lt(n, cap - 1024);
            if (i)
                p[n++] = ' ';
            int t = sqlite3_column_type(st, i);
            if (t == SQLITE_INTEGER) {
                n += (size_t)sprintf(p + n, "i:%lld", (long long)sqlite3_column_int64(st, i));
            } else if (t == SQLITE_FLOAT) {
                n += (size_t)sprintf(p + n, "r:%a", sqlite3_column_double(st, i));
            } else if (t == SQLITE_TEXT || t == SQLITE_BLOB) {
                const unsigned char *b =
                    t == SQLITE_TEXT ? sqlite3_column_text(st, i) : sqlite3_column_blob(st, i);
                n += (size_t)sprintf(p + n, t == SQLITE_TEXT ? "t:" : "b:");
                for (int k = 0; k < sqlite3_column_bytes(st, i); k++)
                    n += (size_t)sprintf(p + n, "%02x", b[k]);
            } else {
                n += (size_t)sprintf(p + n, "null");
            }
        }
        p[n++] = '\n';
        p[n] = 0;
    }
    cr_assert_eq(rc, SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return p;
}

static void assert_image(const char *sql, const char *want)
{
    char *got = image(sql);
    cr_assert_str_eq(got, want, "%s:\n%s", sql, got);
    free(got);
}

static void assert_integrity(void)
{
    assert_image("PRAGMA integrity_check", "t:6f6b\n"); /* "ok" */
}

Test(cli_edges, relate_then_edges, .init = setup, .fini = teardown)
{
    RELATE("ada", "bob", "--kind", "knows", "--weight", "2.5", "--data", "\"hi\"");
    RELATE("bob", "ada");
    RELATE("ada", "ada", "--data", "{\"blob\":\"00ff\"}", "--weight", "-0.5");
    RELATE("a\tb", "ada", "--data=42", "--weight=-Infinity", "--kind", "knows");
    RELATE("ada", "bob", "--kind", "knows", "--weight", "3", "--data", "1.25");
    RELATE("--", "-x", "ada"); /* keys that look like options */
    assert_integrity();
    assert_image("SELECT * FROM _relations ORDER BY 1, 2, 3",
                 "t:2d78 t:616461 t: r:0x1p+0 null\n"
                 "t:610962 t:616461 t:6b6e6f7773 r:-inf i:42\n"
                 "t:616461 t:616461 t: r:-0x1p-1 b:00ff\n"
                 "t:616461 t:626f62 t:6b6e6f7773 r:0x1.8p+1 r:0x1.4p+0\n"
                 "t:626f62 t:616461 t: r:0x1p+0 null\n");
    assert_image("SELECT key, data FROM _concepts ORDER BY key",
                 "t:2d78 null\nt:610962 null\nt:616461 null\nt:626f62 null\n");

    char *out = OK("edges", dbpath, "ada");
    cr_assert_str_eq(out, "out\tada\tada\t\t-0.5\t{\"blob\":\"00ff\"}\n"
                          "out\tada\tbob\tknows\t3.0\t1.25\n"
                          "in\t-x\tada\t\t1.0\tnull\n"
                          "in\tbob\tada\t\t1.0\tnull\n"
                          "in\ta\\tb\tada\tknows\t{\"real\":\"-Infinity\"}\t42\n");
    free(out);
    out = OK("edges", dbpath, "ada", "--in", "--kind", "knows", "--json");
    cr_assert_str_eq(out, "{\"dir\":\"in\",\"source\":\"a\\tb\",\"target\":\"ada\",\"kind\":"
                          "\"knows\",\"weight\":{\"real\":\"-Infinity\"},\"data\":42}\n");
    free(out);
    out = OK("edges", dbpath, "ada", "--out", "--json");
    cr_assert_str_eq(out, "{\"dir\":\"out\",\"source\":\"ada\",\"target\":\"ada\",\"kind\":\"\","
                          "\"weight\":-0.5,\"data\":{\"blob\":\"00ff\"}}\n"
                          "{\"dir\":\"out\",\"source\":\"ada\",\"target\":\"bob\",\"kind\":"
                          "\"knows\",\"weight\":3.0,\"data\":1.25}\n");
    free(out);
    /* --out and --in together are both directions, as the default. */
    out = OK("edges", dbpath, "bob", "--out", "--in");
    cr_assert_str_eq(out, "out\tbob\tada\t\t1.0\tnull\n"
                          "in\tada\tbob\tknows\t3.0\t1.25\n");
    free(out);
    out = OK("edges", dbpath, "nobody");
    cr_assert_str_empty(out);
    free(out);
}

Test(cli_edges, relate_into_an_existing_database, .init = setup, .fini = teardown)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "CREATE TABLE t(a INTEGER PRIMARY KEY, b); INSERT INTO t VALUES(1, "
                              "'x'); CREATE TABLE _concepts(key TEXT PRIMARY KEY, data);"
                              "INSERT INTO _concepts VALUES('p', 'kept')",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    for (int i = 0; i < 300; i++) {
        char s[16], t[16], w[16];
        snprintf(s, sizeof s, "n%d", i % 7);
        snprintf(t, sizeof t, "n%d", i % 11);
        snprintf(w, sizeof w, "%d", i);
        if (i % 30 == 0)
            RELATE(s, t, "--weight", w, "--kind", i % 60 ? "a" : "b");
    }
    RELATE("p", "n0");
    assert_integrity();
    assert_image("SELECT key, data FROM _concepts WHERE key = 'p'", "t:70 t:6b657074\n");
    assert_image("SELECT count(*) FROM _relations", "i:11\n");
    assert_image("SELECT * FROM t", "i:1 t:78\n");
    assert_image("SELECT count(*) FROM sqlite_schema WHERE name = '_relations_target'", "i:1\n");
    char *out = OK("edges", dbpath, "n0", "--in");
    cr_assert_str_eq(out, "in\tp\tn0\t\t1.0\tnull\n"
                          "in\tn0\tn0\tb\t0.0\tnull\n");
    free(out);
}

Test(cli_edges, errors, .init = setup, .fini = teardown)
{
    const char *const usage[][8] = {
        {"relate", dbpath, "a", NULL},
        {"relate", dbpath, "a", "b", "c", NULL},
        {"relate", dbpath, "", "b", NULL},
        {"relate", dbpath, "a", "b", "--weight", "heavy", NULL},
        {"relate", dbpath, "a", "b", "--weight", "nan", NULL},
        {"relate", dbpath, "a", "b", "--weight", "1e999", NULL},
        {"relate", dbpath, "a", "b", "--data", "{\"x\":1}", NULL},
        {"relate", dbpath, "a", "b", "--data", "bare", NULL},
        {"relate", dbpath, "a", "b", "--colour", "red", NULL},
        {"edges", dbpath, NULL},
        {"edges", dbpath, "", NULL},
        {"edges", dbpath, "a", "--sideways", NULL},
        {"edges", dbpath, "a", "--kind", NULL},
    };
    for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
        result r = run(usage[i]);
        cr_assert_str_empty(r.out);
        assert_status(&r, 2, NULL);
    }
    cr_assert_neq(access(dbpath, F_OK), 0, "a usage error created the database");

    result r = RUN("edges", dbpath, "a");
    assert_status(&r, 1, "g.db");
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "CREATE TABLE _relations(a, b)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    r = RUN("relate", dbpath, "a", "b");
    assert_status(&r, 1, "does not have the shape of graph edges");
    r = RUN("edges", dbpath, "a");
    assert_status(&r, 1, "expected CREATE TABLE _relations");
    assert_integrity();
    assert_image("SELECT group_concat(name) FROM sqlite_schema", "t:5f72656c6174696f6e73\n");
}

Test(cli_edges, help_lists_the_commands, .init = setup, .fini = teardown)
{
    char *out = OK("--help");
    cr_assert_not_null(strstr(out, "relate"));
    cr_assert_not_null(strstr(out, "edges"));
    free(out);
    out = OK("relate", "--help");
    cr_assert(strncmp(out, "usage: folio relate DB SOURCE TARGET", 36) == 0, "%s", out);
    free(out);
    out = OK("edges", "--help");
    cr_assert(strncmp(out, "usage: folio edges DB KEY", 25) == 0, "%s", out);
    free(out);
}
