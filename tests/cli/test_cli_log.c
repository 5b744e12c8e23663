/*
 * test_cli_log.c: the commit log through the folio tool, end to end: log
 * enable / disable, the listing (folio log DB --json), folio restore by
 * version and by time, the refusals of a damaged or foreign log, log prune
 * and log ship. The tool runs as a separate process (the binary named by
 * $FOLIO_CLI) on databases in a fresh temporary directory. What each
 * version held is read with libsqlite3 right after the version was made,
 * and every restored file is read with libsqlite3 (PRAGMA integrity_check
 * and the rows) and compared with it.
 *
 * Segments are made small (FOLIO_LOG_SEGMENT_BYTES, inherited by the tool)
 * so that a log of a few dozen versions has many of them. The writes are
 * random (FOLIO_SEED replays them; the seed is printed).
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* nftw */
#endif

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"

/* ---- Temporary directory ------------------------------------------------- */

static char tmpdir[PATH_MAX];
static char **paths;
static size_t npaths;

static void setup(void)
{
    const char *base = getenv("FOLIO_TMP");
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0755);
    snprintf(tmpdir, sizeof tmpdir, "%s/folio-clilog-XXXXXX", base);
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp under %s: %s", base, strerror(errno));
    setenv("FOLIO_LOG_SEGMENT_BYTES", "8192", 1);
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

static const char *tpath(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *tpath(const char *fmt, ...)
{
    char name[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    size_t len = strlen(tmpdir) + strlen(name) + 2;
    char *p = malloc(len);
    cr_assert_not_null(p);
    snprintf(p, len, "%s/%s", tmpdir, name);
    paths = realloc(paths, (npaths + 1) * sizeof *paths);
    cr_assert_not_null(paths);
    paths[npaths++] = p;
    return p;
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

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "create %s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(p, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

static void copy_file(const char *from, const char *to)
{
    size_t n;
    char *p = slurp(from, &n);
    write_file(to, p, n);
    free(p);
}

/* The names of the files of directory `dir` (sorted, NULL-terminated). */
static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **dir_names(const char *dir, size_t *out_n)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
    char **v = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        v = realloc(v, (n + 2) * sizeof *v);
        v[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(v, n, sizeof *v, name_cmp);
    else
        v = realloc(v, sizeof *v);
    v[n] = NULL;
    *out_n = n;
    return v;
}

static void names_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* A flat copy of directory `from` into `to` (created). */
static void copy_dir(const char *from, const char *to)
{
    mkdir(to, 0755);
    size_t n;
    char **v = dir_names(from, &n);
    for (size_t i = 0; i < n; i++) {
        char a[PATH_MAX], b[PATH_MAX];
        snprintf(a, sizeof a, "%s/%s", from, v[i]);
        snprintf(b, sizeof b, "%s/%s", to, v[i]);
        copy_file(a, b);
    }
    names_free(v, n);
}

/* The bytes of every file of `dir` together. */
static uint64_t dir_bytes(const char *dir)
{
    size_t n;
    char **v = dir_names(dir, &n);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        char a[PATH_MAX];
        struct stat st;
        snprintf(a, sizeof a, "%s/%s", dir, v[i]);
        if (stat(a, &st) == 0)
            total += (uint64_t)st.st_size;
    }
    names_free(v, n);
    return total;
}

static void flip_byte(const char *path, long off)
{
    int fd = open(path, O_RDWR);
    cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
    unsigned char c;
    cr_assert_eq(pread(fd, &c, 1, off), 1, "read %s at %ld", path, off);
    c ^= 0x5a;
    cr_assert_eq(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ---- Running the tool ---------------------------------------------------------- */

typedef struct result {
    int status;
    char *out;
    size_t out_n;
    char *err;
    size_t err_n;
} result;

static result run_prog(const char *in, const char *const *args)
{
    const char *cli = getenv("FOLIO_CLI");
    cr_assert(cli && *cli, "FOLIO_CLI must name the folio binary (CTest sets it)");
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
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int i = open(in ? in : "/dev/null", O_RDONLY);
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
    result r;
    memset(&r, 0, sizeof r);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = slurp(out_path, &r.out_n);
    r.err = slurp(err_path, &r.err_n);
    unlink(out_path);
    unlink(err_path);
    return r;
}

#define RUN(...)        run_prog(NULL, (const char *const[]){__VA_ARGS__, NULL})
#define RUN_IN(in, ...) run_prog(in, (const char *const[]){__VA_ARGS__, NULL})

static void result_free(result *r)
{
    free(r->out);
    free(r->err);
}

static void assert_ok(const result *r)
{
    cr_assert_eq(r->status, 0, "exit status %d, stderr: %s", r->status, r->err);
    cr_assert_eq(r->err_n, 0, "unexpected stderr: %s", r->err);
}

/* Exit status 1 and one "folio: " line holding each of the (up to three)
 * strings given. */
static void assert_fail_with(const result *r, const char *w1, const char *w2, const char *w3)
{
    cr_assert_eq(r->status, 1, "exit status %d (want 1), stderr: %s", r->status, r->err);
    cr_assert(strncmp(r->err, "folio: ", 7) == 0, "stderr: %s", r->err);
    cr_assert(r->err_n > 8 && r->err[r->err_n - 1] == '\n', "stderr: %s", r->err);
    cr_assert_null(memchr(r->err, '\n', r->err_n - 1), "more than one line: %s", r->err);
    const char *w[3] = {w1, w2, w3};
    for (int i = 0; i < 3; i++)
        if (w[i])
            cr_assert_not_null(strstr(r->err, w[i]), "stderr lacks '%s': %s", w[i], r->err);
}

static void assert_usage(const result *r)
{
    cr_assert_eq(r->status, 2, "exit status %d (want 2), stderr: %s", r->status, r->err);
    cr_assert_not_null(strstr(r->err, "usage:"), "no usage on stderr: %s", r->err);
}

/* ---- libsqlite3 ---------------------------------------------------------------- */

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

/* The first column of the first row of `sql` as text (a new string). */
static char *q1(const char *path, const char *sql)
{
    sqlite3 *db = db_open(path);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    int rc = sqlite3_step(st);
    cr_assert(rc == SQLITE_ROW || rc == SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
    char *out = strdup(rc == SQLITE_DONE ? "(none)"
                       : sqlite3_column_type(st, 0) == SQLITE_NULL
                           ? "(null)"
                           : (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);
    return out;
}

/* Every row of t, exactly (quote() writes integers, text and blobs as they
 * are), and the schema: two databases hold the same exactly when their
 * images are equal. */
static char *image(const char *path)
{
    return q1(path, "SELECT (SELECT group_concat(sql, ';') FROM sqlite_schema) || '#' || "
                    "coalesce((SELECT group_concat(r, ';') FROM (SELECT quote(id) || ',' || "
                    "quote(v) || ',' || quote(b) || ',' || quote(n) AS r FROM t ORDER BY id)), "
                    "'')");
}

static void assert_integrity(const char *path)
{
    char *got = q1(path, "PRAGMA integrity_check");
    cr_assert_str_eq(got, "ok", "integrity_check of %s", path);
    free(got);
}

/* ---- Writing versions --------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* The rows t holds, so that updates and deletes name live ones. */
typedef struct model {
    int64_t ids[4096];
    int n;
    int64_t next_id;
} model;

/* What a version held, as libsqlite3 read it. */
typedef struct version_rec {
    uint64_t version;
    char *image;
    int ops;
    int logged; /* made while the log was on */
} version_rec;

typedef struct history {
    version_rec v[256];
    int n;
} history;

static void history_free(history *h)
{
    for (int i = 0; i < h->n; i++)
        free(h->v[i].image);
    h->n = 0;
}

static uint64_t db_version(const char *db)
{
    result r = RUN("info", db);
    assert_ok(&r);
    const char *p = strstr(r.out, "version: ");
    cr_assert_not_null(p, "no version line in: %s", r.out);
    uint64_t v = strtoull(p + 9, NULL, 10);
    result_free(&r);
    return v;
}

static void put_blob(FILE *f, int n)
{
    fputs("{\"blob\":\"", f);
    for (int i = 0; i < n; i++)
        fprintf(f, "%02x", (unsigned)(rnd() & 0xff));
    fputs("\"}", f);
}

/* One version: `nops` random operations in one folio apply; what it left
 * recorded in `h`. */
static void write_version(const char *db, model *m, history *h, int nops, int blob_bytes,
                          int logged)
{
    const char *in = tpath(".ops.jsonl");
    FILE *f = fopen(in, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < nops; i++) {
        unsigned r = (unsigned)(rnd() % 10);
        if (m->n == 0 || r < 6 || m->n >= 4000) {
            int64_t id = m->next_id++;
            m->ids[m->n++] = id;
            fprintf(f, "{\"op\":\"insert\",\"table\":\"t\",\"values\":[%lld,\"ins-%llu\",",
                    (long long)id, (unsigned long long)(rnd() % 1000000));
            put_blob(f, blob_bytes);
            fprintf(f, ",%lld]}\n", (long long)(rnd() % 1000));
        } else if (r < 8) {
            int64_t id = m->ids[rnd() % (uint64_t)m->n];
            fprintf(
                f,
                "{\"op\":\"update\",\"table\":\"t\",\"rowid\":%lld,\"values\":[%lld,\"upd-%llu\","
                "null,%lld]}\n",
                (long long)id, (long long)id, (unsigned long long)(rnd() % 1000000),
                (long long)(rnd() % 1000));
        } else {
            int k = (int)(rnd() % (uint64_t)m->n);
            fprintf(f, "{\"op\":\"delete\",\"table\":\"t\",\"rowid\":%lld}\n",
                    (long long)m->ids[k]);
            m->ids[k] = m->ids[--m->n];
        }
    }
    fclose(f);
    result r = RUN("apply", db, in);
    assert_ok(&r);
    result_free(&r);
    cr_assert_lt(h->n, 256);
    version_rec *v = &h->v[h->n++];
    v->version = db_version(db);
    v->image = image(db);
    v->ops = nops;
    v->logged = logged;
    cr_assert(h->n < 2 || v->version > h->v[h->n - 2].version, "versions must grow");
}

/* A database with table t (and an index), a few rows, made by libsqlite3. */
static const char *make_db(const char *name)
{
    const char *path = tpath("%s", name);
    sqlite3 *db = db_open(path);
    db_exec(db, "PRAGMA journal_mode=WAL;"
                "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, b BLOB, n INT);"
                "CREATE INDEX t_n ON t(n);"
                "INSERT INTO t VALUES(1000000, 'first', x'00ff', 1);");
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);
    return path;
}

static void log_enable(const char *db, const char *compression)
{
    result r = compression ? RUN("log", "enable", db, "--compression", compression)
                           : RUN("log", "enable", db);
    assert_ok(&r);
    cr_assert_not_null(strstr(r.out, "commit log on"), "%s", r.out);
    result_free(&r);
}

/* A database with its log on and `n` versions written, each recorded. */
static const char *logged_db(const char *name, model *m, history *h, int n, int blob_bytes)
{
    const char *db = make_db(name);
    log_enable(db, NULL);
    for (int i = 0; i < n; i++)
        write_version(db, m, h, 1 + (int)(rnd() % 4), blob_bytes, 1);
    return db;
}

/* ---- The listing ------------------------------------------------------------------ */

typedef struct entry {
    char kind[8];
    uint64_t version, last_version, changes, pages, raw, stored, offset;
    int64_t time_us;
    char time[40];
    char file[PATH_MAX];
} entry;

typedef struct listing {
    entry *e;
    size_t n;
} listing;

static uint64_t jget(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    cr_assert(json_is_integer(v), "no integer \"%s\"", key);
    cr_assert_geq(json_integer_value(v), 0);
    return (uint64_t)json_integer_value(v);
}

/* folio log DB --json, parsed; every line checked for its members. */
static listing list_log(const char *source)
{
    result r = RUN("log", source, "--json");
    assert_ok(&r);
    listing l = {NULL, 0};
    char *save = NULL;
    for (char *line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        cr_assert_not_null(o, "not JSON: %s (%s)", line, je.text);
        l.e = realloc(l.e, (l.n + 1) * sizeof *l.e);
        entry *e = &l.e[l.n++];
        memset(e, 0, sizeof *e);
        const char *kind = json_string_value(json_object_get(o, "kind"));
        cr_assert_not_null(kind, "%s", line);
        snprintf(e->kind, sizeof e->kind, "%s", kind);
        e->version = jget(o, "version");
        e->last_version = strcmp(kind, "gap") == 0 ? jget(o, "last_version") : e->version;
        e->changes = jget(o, "changes");
        e->pages = jget(o, "pages");
        e->raw = jget(o, "raw_bytes");
        e->stored = jget(o, "stored_bytes");
        e->offset = jget(o, "offset");
        e->time_us = (int64_t)jget(o, "time_us");
        const char *t = json_string_value(json_object_get(o, "time"));
        const char *file = json_string_value(json_object_get(o, "file"));
        cr_assert(t && file, "%s", line);
        snprintf(e->time, sizeof e->time, "%s", t);
        snprintf(e->file, sizeof e->file, "%s", file);
        json_decref(o);
    }
    result_free(&r);
    return l;
}

static const entry *find_entry(const listing *l, const char *kind, uint64_t version)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->e[i].kind, kind) == 0 && l->e[i].version == version)
            return &l->e[i];
    return NULL;
}

/* A commit of a segment that has segments before and after it. */
static const entry *middle_commit(const listing *l)
{
    const char *first = NULL, *last = NULL;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->e[i].kind, "commit") == 0) {
            if (!first)
                first = l->e[i].file;
            last = l->e[i].file;
        }
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->e[i].kind, "commit") == 0 && strcmp(l->e[i].file, first) != 0 &&
            strcmp(l->e[i].file, last) != 0)
            return &l->e[i];
    cr_assert_fail("the log has fewer than three segments");
    return NULL;
}

/* ---- Restoring ------------------------------------------------------------------- */

/* Restore `source` to `version` (or, with `time`, to that time) at a new
 * path; check the output, the file's integrity and its rows against
 * `want` (NULL: not checked). Returns the path. */
static const char *restore_ok(const char *source, uint64_t version, const char *time,
                              const char *want)
{
    static int k;
    const char *dest = tpath("restored-%d.db", k++);
    char vs[32], expect[48];
    snprintf(vs, sizeof vs, "%llu", (unsigned long long)version);
    result r = time ? RUN("restore", source, dest, "--time", time)
                    : RUN("restore", source, dest, "--version", vs);
    assert_ok(&r);
    snprintf(expect, sizeof expect, "version %llu\n", (unsigned long long)version);
    cr_assert_str_eq(r.out, expect, "restore %s to %s", source, time ? time : vs);
    result_free(&r);
    assert_integrity(dest);
    if (want) {
        char *got = image(dest);
        cr_assert_str_eq(got, want, "restored version %llu differs from what libsqlite3 read",
                         (unsigned long long)version);
        free(got);
    }
    return dest;
}

/* DEST was not made and nothing of the attempt is left beside it. */
static void assert_nothing_made(const char *dest)
{
    cr_assert_neq(access(dest, F_OK), 0, "%s was created", dest);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", dest);
    *strrchr(dir, '/') = 0;
    size_t n;
    char **v = dir_names(dir, &n);
    const char *b = base_name(dest);
    for (size_t i = 0; i < n; i++)
        cr_assert_neq(strncmp(v[i], b, strlen(b)), 0, "%s left behind", v[i]);
    names_free(v, n);
}

/* A restore of `source` that must fail with a message holding w1 (and w2,
 * w3 when given); nothing made. */
static void restore_refused(const char *source, const char *opt, const char *arg, const char *w1,
                            const char *w2, const char *w3)
{
    static int k;
    const char *dest = tpath("refused-%d.db", k++);
    result r = RUN("restore", source, dest, opt, arg);
    assert_fail_with(&r, w1, w2, w3);
    cr_assert_eq(r.out_n, 0, "stdout: %s", r.out);
    result_free(&r);
    assert_nothing_made(dest);
}

static char *at_offset(uint64_t off)
{
    static char buf[8][48];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 48, "at offset %llu", (unsigned long long)off);
    return p;
}

/* ---- Tests ---------------------------------------------------------------------- */

Test(cli_log, enable_list_disable_reenable_restore, .init = setup, .fini = teardown)
{
    rng_state = compat_seed(0x10c11) | 1;
    model m = {.n = 0, .next_id = 1};
    history h = {.n = 0};
    const char *db = make_db("a.db");
    log_enable(db, "lz4");
    /* The state the log begins with. */
    h.v[0] = (version_rec){db_version(db), image(db), 0, 1};
    h.n = 1;
    for (int i = 0; i < 12; i++)
        write_version(db, &m, &h, 1 + (int)(rnd() % 5), 200, 1);

    /* Every version in order, with sane figures. */
    listing l = list_log(db);
    cr_assert_geq(l.n, 13);
    cr_assert_str_eq(l.e[0].kind, "base", "the log begins with a base");
    cr_assert_leq(l.e[0].version, h.v[0].version);
    uint64_t prev = 0;
    int64_t prev_t = 0;
    for (size_t i = 0; i < l.n; i++) {
        const entry *e = &l.e[i];
        cr_assert(strcmp(e->kind, "commit") == 0 || strcmp(e->kind, "base") == 0,
                  "kind %s before any gap", e->kind);
        cr_assert_eq(strlen(e->time), 27, "time %s", e->time);
        cr_assert_eq(e->time[26], 'Z');
        cr_assert_geq(e->time_us, prev_t, "times go back at version %llu",
                      (unsigned long long)e->version);
        prev_t = e->time_us;
        if (strcmp(e->kind, "commit") == 0) {
            cr_assert(prev == 0 || e->version == prev + 1, "version %llu after %llu",
                      (unsigned long long)e->version, (unsigned long long)prev);
            prev = e->version;
            cr_assert_geq(e->pages, 1);
            /* (pages are held as the bytes that changed: at least a page
             * number and its form each) */
            cr_assert_gt(e->raw, e->pages * 5, "raw bytes hold the pages");
            cr_assert_gt(e->stored, 0);
            cr_assert_leq(e->stored, e->raw);
            cr_assert_geq(e->offset, 64);
        } else {
            cr_assert_eq(e->raw, e->pages * 4096);
            cr_assert_gt(e->stored, 64);
        }
    }
    for (int i = 1; i < h.n; i++) {
        const entry *e = find_entry(&l, "commit", h.v[i].version);
        cr_assert_not_null(e, "version %llu not listed", (unsigned long long)h.v[i].version);
        cr_assert_eq(e->changes, (uint64_t)h.v[i].ops, "changes of version %llu",
                     (unsigned long long)h.v[i].version);
    }
    cr_assert_eq(prev, h.v[h.n - 1].version, "the listing ends at the last version");

    /* The text listing has one line per entry. */
    result r = RUN("log", db);
    assert_ok(&r);
    size_t lines = 0;
    for (size_t i = 0; i < r.out_n; i++)
        lines += r.out[i] == '\n';
    cr_assert_eq(lines, l.n, "%s", r.out);
    cr_assert_not_null(strstr(r.out, "  commit  changes "), "%s", r.out);
    result_free(&r);

    /* stats agree with the listing. */
    r = RUN("stats", db, "--json");
    assert_ok(&r);
    json_t *st = json_loads(r.out, 0, NULL);
    cr_assert_not_null(st);
    json_t *lg = json_object_get(st, "log");
    cr_assert(json_is_true(json_object_get(lg, "enabled")));
    cr_assert_str_eq(json_string_value(json_object_get(lg, "compression")), "lz4");
    cr_assert_eq(jget(lg, "commits"), (uint64_t)(l.n - 1));
    cr_assert_eq(jget(lg, "newest_version"), h.v[h.n - 1].version);
    cr_assert_eq(jget(lg, "oldest_base"), l.e[0].version);
    cr_assert_eq(jget(lg, "disk_bytes"), dir_bytes(tpath("a.db-log")));
    json_decref(st);
    result_free(&r);

    /* Off: versions the log does not see; on again: a gap, a base. */
    r = RUN("log", "disable", db);
    assert_ok(&r);
    result_free(&r);
    int off_from = h.n;
    for (int i = 0; i < 2; i++)
        write_version(db, &m, &h, 2, 100, 0);
    int off_to = h.n;
    log_enable(db, NULL);
    /* On again with zstd: the manifest says so now, and was replaced (no
     * temporary beside it). */
    cr_assert_neq(access(tpath("a.db-log/folio-log.tmp"), F_OK), 0, "folio-log.tmp left behind");
    r = RUN("stats", db, "--json");
    assert_ok(&r);
    cr_assert_not_null(strstr(r.out, "\"compression\": \"zstd\""), "%s", r.out);
    result_free(&r);
    for (int i = 0; i < 3; i++)
        write_version(db, &m, &h, 1 + (int)(rnd() % 3), 100, 1);
    free(l.e);
    l = list_log(db);
    const entry *gap = NULL, *base2 = NULL;
    for (size_t i = 0; i < l.n; i++) {
        if (strcmp(l.e[i].kind, "gap") == 0)
            gap = &l.e[i];
        if (gap && !base2 && strcmp(l.e[i].kind, "base") == 0)
            base2 = &l.e[i];
    }
    cr_assert_not_null(gap, "no gap after the log was off");
    cr_assert_leq(gap->version, h.v[off_from].version);
    cr_assert_geq(gap->last_version, h.v[off_to - 1].version);
    cr_assert_not_null(base2, "no base after the gap");
    cr_assert_gt(base2->version, gap->last_version);

    /* Every version restores to what libsqlite3 read then, by version... */
    for (int i = 0; i < h.n; i++) {
        if (h.v[i].logged) {
            restore_ok(db, h.v[i].version, NULL, h.v[i].image);
        } else {
            char vs[32];
            snprintf(vs, sizeof vs, "%llu", (unsigned long long)h.v[i].version);
            restore_refused(db, "--version", vs, "without a record", "a.db-log", NULL);
        }
    }
    /* ... and by time (the time a commit was made restores it). */
    for (int i = 1; i < h.n; i += 3) {
        if (!h.v[i].logged)
            continue;
        const entry *e = find_entry(&l, "commit", h.v[i].version);
        cr_assert_not_null(e);
        restore_ok(db, h.v[i].version, e->time, h.v[i].image);
    }
    /* A time between two commits restores the first of them. */
    const entry *e1 = find_entry(&l, "commit", h.v[5].version);
    const entry *e2 = find_entry(&l, "commit", h.v[6].version);
    cr_assert_lt(e1->time_us, e2->time_us);
    char mid[64];
    int64_t t = e1->time_us + (e2->time_us - e1->time_us) / 2;
    time_t sec = (time_t)(t / 1000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    snprintf(mid, sizeof mid, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(t % 1000000));
    restore_ok(db, h.v[5].version, mid, h.v[5].image);
    /* The same instant written with a zone offset. */
    snprintf(mid, sizeof mid, "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(t % 1000000));
    restore_ok(db, h.v[5].version, mid, h.v[5].image);
    free(l.e);
    history_free(&h);
}

Test(cli_log, refusals_name_the_file_and_offset, .init = setup, .fini = teardown)
{
    rng_state = compat_seed(0x2ef05) | 1;
    setenv("FOLIO_LOG_SEGMENT_BYTES", "4096", 1);
    model m = {.n = 0, .next_id = 1};
    history h = {.n = 0};
    const char *db = logged_db("a.db", &m, &h, 16, 600);
    uint64_t last = h.v[h.n - 1].version;
    char last_s[32];
    snprintf(last_s, sizeof last_s, "%llu", (unsigned long long)last);
    listing l = list_log(db);
    const entry *mid = middle_commit(&l);
    const char *base = l.e[0].file;
    cr_assert_str_eq(l.e[0].kind, "base");
    int k = 0;

/* A fresh copy of the database and its log, as case `k`. */
#define CASE()                                                                                     \
    const char *cdb = tpath("case%d.db", k);                                                       \
    const char *clog = tpath("case%d.db-log", k);                                                  \
    k++;                                                                                           \
    copy_file(db, cdb);                                                                            \
    copy_dir(tpath("a.db-log"), clog)
#define IN_CASE(file) tpath("case%d.db-log/%s", k - 1, base_name(file))

    { /* a flipped byte in a record's payload */
        CASE();
        flip_byte(IN_CASE(mid->file), (long)(mid->offset + 48 + mid->stored / 2));
        restore_refused(cdb, "--version", last_s, base_name(mid->file), at_offset(mid->offset),
                        "checksum");
        result r = RUN("log", cdb);
        assert_fail_with(&r, base_name(mid->file), at_offset(mid->offset), NULL);
        result_free(&r);
        (void)clog;
    }
    { /* in a record's header */
        CASE();
        flip_byte(IN_CASE(mid->file), (long)(mid->offset + 12));
        restore_refused(cdb, "--version", last_s, base_name(mid->file), at_offset(mid->offset),
                        NULL);
        (void)clog;
    }
    { /* in a segment's header */
        CASE();
        flip_byte(IN_CASE(mid->file), 20);
        restore_refused(cdb, "--version", last_s, base_name(mid->file), "at offset 0",
                        "not a valid log segment");
        (void)clog;
    }
    { /* in a chunk of the base */
        CASE();
        flip_byte(IN_CASE(base), 64 + 24 + 4);
        restore_refused(cdb, "--version", last_s, base_name(base), "at offset 64", "damaged");
        (void)clog;
    }
    { /* a segment cut short that is not the last */
        CASE();
        const char *seg = IN_CASE(mid->file);
        struct stat st;
        cr_assert_eq(stat(seg, &st), 0);
        cr_assert_eq(truncate(seg, st.st_size - 10), 0);
        restore_refused(cdb, "--version", last_s, base_name(mid->file), "at offset", "cut short");
        (void)clog;
    }
    { /* a segment missing from the middle */
        CASE();
        cr_assert_eq(unlink(IN_CASE(mid->file)), 0);
        restore_refused(cdb, "--version", last_s, "at offset 0", "does not continue", NULL);
        result r = RUN("log", cdb);
        assert_fail_with(&r, "does not continue", NULL, NULL);
        result_free(&r);
        (void)clog;
    }
    { /* the first segment missing: the log then begins after its base */
        CASE();
        const char *first = NULL;
        for (size_t i = 0; i < l.n && !first; i++)
            if (strcmp(l.e[i].kind, "commit") == 0)
                first = l.e[i].file;
        cr_assert_eq(unlink(IN_CASE(first)), 0);
        restore_refused(cdb, "--version", last_s, "are not in the log", "cannot be rebuilt", NULL);
        (void)clog;
    }
    { /* a version past the end; a time before the first base */
        char past[32];
        snprintf(past, sizeof past, "%llu", (unsigned long long)(last + 100));
        restore_refused(db, "--version", past, "is not in the log", "a.db-log", NULL);
        restore_refused(db, "--time", "2001-02-03T04:05:06Z", "nothing as old as that time", NULL,
                        NULL);
    }
    { /* the log of another database in its place */
        model m2 = {.n = 0, .next_id = 1};
        history h2 = {.n = 0};
        const char *other = logged_db("b.db", &m2, &h2, 3, 100);
        CASE();
        size_t n;
        char **v = dir_names(clog, &n);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(unlink(tpath("case%d.db-log/%s", k - 1, v[i])), 0);
        names_free(v, n);
        copy_dir(tpath("b.db-log"), clog);
        restore_refused(cdb, "--version", "2", "folio-log at offset 0", "another database", NULL);
        result r = RUN("log", cdb);
        assert_fail_with(&r, "another database", NULL, NULL);
        result_free(&r);
        /* The writers refuse to append to it: the commit fails, the
         * database stays as it was. */
        char *before = image(cdb);
        const char *in = tpath("one.jsonl");
        const char *op = "{\"op\":\"insert\",\"table\":\"t\",\"values\":[99999999,\"x\",null,1]}\n";
        write_file(in, op, strlen(op));
        r = RUN("apply", cdb, in);
        assert_fail_with(&r, "belongs to another database", NULL, NULL);
        result_free(&r);
        char *after = image(cdb);
        cr_assert_str_eq(after, before, "a commit went through without its log record");
        free(before);
        free(after);
        assert_integrity(cdb);
        /* The other database's log itself still restores (to its own). */
        restore_ok(other, h2.v[h2.n - 1].version, NULL, h2.v[h2.n - 1].image);
        history_free(&h2);
    }
    { /* one segment of another database's log among this one's */
        CASE();
        listing lb = list_log(tpath("b.db"));
        const char *bseg = NULL;
        for (size_t i = 0; i < lb.n && !bseg; i++)
            if (strcmp(lb.e[i].kind, "commit") == 0)
                bseg = lb.e[i].file;
        cr_assert_not_null(bseg);
        /* b's segment under the name of one of a's */
        copy_file(bseg, IN_CASE(mid->file));
        restore_refused(cdb, "--version", last_s, base_name(mid->file), "at offset 0",
                        "another log");
        free(lb.e);
        (void)clog;
    }
#undef CASE
#undef IN_CASE
    /* The original log is whole: the last version restores. */
    restore_ok(db, last, NULL, h.v[h.n - 1].image);
    free(l.e);
    history_free(&h);
}

Test(cli_log, prune_keep_versions, .init = setup, .fini = teardown)
{
    rng_state = compat_seed(0x9a7e) | 1;
    setenv("FOLIO_LOG_SEGMENT_BYTES", "4096", 1);
    model m = {.n = 0, .next_id = 1};
    history h = {.n = 0};
    const char *db = logged_db("a.db", &m, &h, 40, 800);
    const char *dir = tpath("a.db-log");
    uint64_t before = dir_bytes(dir);
    listing l0 = list_log(db);
    size_t files_before;
    names_free(dir_names(dir, &files_before), files_before);

    result r = RUN("log", "prune", db, "--keep-versions", "8");
    assert_ok(&r);
    uint64_t last = h.v[h.n - 1].version, oldest = last - 8 + 1;
    char want[64];
    snprintf(want, sizeof want, "oldest restorable version: %llu\n", (unsigned long long)oldest);
    cr_assert_not_null(strstr(r.out, want), "%s", r.out);
    result_free(&r);
    uint64_t after = dir_bytes(dir);
    cr_assert_lt(after, before, "the log went from %llu to %llu bytes", (unsigned long long)before,
                 (unsigned long long)after);
    /* The listing begins within the oldest kept version's segment and
     * holds a base of it; nothing older than the newest base at or
     * before it. */
    listing l = list_log(db);
    cr_assert_not_null(find_entry(&l, "base", oldest), "no base at version %llu",
                       (unsigned long long)oldest);
    cr_assert_leq(l.e[0].version, oldest);
    cr_assert_lt(l.n, l0.n);
    /* Every version of the last 8 restores; older ones are refused. */
    for (int i = 0; i < h.n; i++) {
        if (h.v[i].version >= oldest) {
            restore_ok(db, h.v[i].version, NULL, h.v[i].image);
        } else if (h.v[i].version + 3 < oldest) {
            char vs[32];
            snprintf(vs, sizeof vs, "%llu", (unsigned long long)h.v[i].version);
            restore_refused(db, "--version", vs, "older than every base", "pruned", NULL);
        }
    }
    /* Writers go on appending after a prune, and a second prune with
     * nothing to free leaves the log working. */
    write_version(db, &m, &h, 2, 100, 1);
    r = RUN("log", "prune", db, "--keep-versions", "1000");
    assert_ok(&r);
    result_free(&r);
    restore_ok(db, h.v[h.n - 1].version, NULL, h.v[h.n - 1].image);
    restore_ok(db, oldest, NULL, NULL);
    /* The database is what libsqlite3 reads; the log's last segment stayed. */
    assert_integrity(db);
    free(l.e);
    free(l0.e);
    history_free(&h);
}

Test(cli_log, prune_keep_days, .init = setup, .fini = teardown)
{
    rng_state = compat_seed(0xda75) | 1;
    setenv("FOLIO_LOG_SEGMENT_BYTES", "4096", 1);
    model m = {.n = 0, .next_id = 1};
    history h = {.n = 0};
    const char *db = logged_db("a.db", &m, &h, 24, 800);
    int old_n = h.n;
    sleep(3);
    struct timespec t0, t1;
    clock_gettime(CLOCK_REALTIME, &t0);
    for (int i = 0; i < 3; i++)
        write_version(db, &m, &h, 2, 100, 1);
    clock_gettime(CLOCK_REALTIME, &t1);
    /* A window from a second before the new versions began: the cutoff
     * falls in the pause, so the version in force then is the last old
     * one. */
    double window = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 + 1.0;
    char days[64];
    snprintf(days, sizeof days, "%.9f", window / 86400.0);
    uint64_t before = dir_bytes(tpath("a.db-log"));
    result r = RUN("log", "prune", db, "--keep-days", days);
    assert_ok(&r);
    uint64_t kept = h.v[old_n - 1].version;
    char want[64];
    snprintf(want, sizeof want, "oldest restorable version: %llu\n", (unsigned long long)kept);
    cr_assert_not_null(strstr(r.out, want), "window %.3f s: %s", window, r.out);
    result_free(&r);
    cr_assert_lt(dir_bytes(tpath("a.db-log")), before);
    for (int i = old_n - 1; i < h.n; i++)
        restore_ok(db, h.v[i].version, NULL, h.v[i].image);
    char vs[32];
    snprintf(vs, sizeof vs, "%llu", (unsigned long long)h.v[0].version);
    restore_refused(db, "--version", vs, "older than every base", NULL, NULL);
    /* A time in the pause restores the last old version. */
    time_t sec = t0.tv_sec - 1;
    struct tm tm;
    gmtime_r(&sec, &tm);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    restore_ok(db, kept, when, h.v[old_n - 1].image);
    history_free(&h);
}

Test(cli_log, ship_resumes_and_restores_the_same, .init = setup, .fini = teardown)
{
    rng_state = compat_seed(0x5419) | 1;
    setenv("FOLIO_LOG_SEGMENT_BYTES", "4096", 1);
    model m = {.n = 0, .next_id = 1};
    history h = {.n = 0};
    const char *db = logged_db("a.db", &m, &h, 10, 500);
    const char *arch = tpath("archive");
    result r = RUN("log", "ship", db, arch);
    assert_ok(&r);
    cr_assert_not_null(strstr(r.out, "resumed: 0, unchanged: 0"), "%s", r.out);
    result_free(&r);
    /* Nothing new: nothing copied. */
    r = RUN("log", "ship", db, arch);
    assert_ok(&r);
    cr_assert_not_null(strstr(r.out, "copied: 0 files, resumed: 0"), "%s", r.out);
    result_free(&r);
    /* One small version more: the last segment grew and is completed. */
    write_version(db, &m, &h, 1, 10, 1);
    r = RUN("log", "ship", db, arch);
    assert_ok(&r);
    cr_assert_not_null(strstr(r.out, "resumed: 1"), "%s", r.out);
    result_free(&r);
    for (int i = 0; i < 6; i++)
        write_version(db, &m, &h, 2, 500, 1);
    r = RUN("log", "ship", db, arch);
    assert_ok(&r);
    result_free(&r);
    /* The archive holds the same files, byte for byte, and no temporary. */
    size_t na, nb;
    char **va = dir_names(tpath("a.db-log"), &na), **vb = dir_names(arch, &nb);
    size_t k = 0;
    for (size_t i = 0; i < na; i++) {
        if (strcmp(va[i], "prune-lock") == 0)
            continue;
        cr_assert_lt(k, nb);
        cr_assert_str_eq(va[i], vb[k]);
        size_t n1, n2;
        char *p1 = slurp(tpath("a.db-log/%s", va[i]), &n1),
             *p2 = slurp(tpath("archive/%s", vb[k]), &n2);
        cr_assert(n1 == n2 && memcmp(p1, p2, n1) == 0, "%s differs in the archive", va[i]);
        free(p1);
        free(p2);
        k++;
    }
    cr_assert_eq(k, nb, "the archive holds more files");
    names_free(va, na);
    names_free(vb, nb);
    /* Restores from the archive equal restores from the original and what
     * libsqlite3 read. */
    for (int i = 0; i < h.n; i += 2) {
        const char *a = restore_ok(arch, h.v[i].version, NULL, h.v[i].image);
        const char *b = restore_ok(db, h.v[i].version, NULL, NULL);
        char *ia = image(a), *ib = image(b);
        cr_assert_str_eq(ia, ib);
        free(ia);
        free(ib);
    }
    /* A damaged copy is refused. */
    listing l = list_log(arch);
    const entry *e = middle_commit(&l);
    char last_s[32];
    snprintf(last_s, sizeof last_s, "%llu", (unsigned long long)h.v[h.n - 1].version);
    flip_byte(tpath("archive/%s", base_name(e->file)), (long)(e->offset + 48 + 3));
    restore_refused(arch, "--version", last_s, base_name(e->file), at_offset(e->offset), NULL);
    /* Shipping again repairs it (the damaged file is no prefix of its
     * source: copied whole). */
    r = RUN("log", "ship", db, arch);
    assert_ok(&r);
    cr_assert_not_null(strstr(r.out, "copied: 1 files"), "%s", r.out);
    result_free(&r);
    restore_ok(arch, h.v[h.n - 1].version, NULL, h.v[h.n - 1].image);
    /* An archive of another database's log is not mixed with this one. */
    model m2 = {.n = 0, .next_id = 1};
    history h2 = {.n = 0};
    const char *other = logged_db("b.db", &m2, &h2, 2, 10);
    r = RUN("log", "ship", other, arch);
    assert_fail_with(&r, "another database", "archive", NULL);
    result_free(&r);
    free(l.e);
    history_free(&h);
    history_free(&h2);
}

Test(cli_log, usage_errors_exit_2, .init = setup, .fini = teardown)
{
    const char *db = make_db("a.db");
    const char *dest = tpath("d.db");
    result r = RUN("restore", db, dest);
    assert_usage(&r);
    result_free(&r);
    r = RUN("restore", db, dest, "--version", "1", "--time", "2026-01-01T00:00:00Z");
    assert_usage(&r);
    result_free(&r);
    r = RUN("restore", db, dest, "--version", "x");
    assert_usage(&r);
    result_free(&r);
    const char *bad[] = {"2026-01-01",           "2026-01-01T00:00:00",   "2026-02-30T00:00:00Z",
                         "2026-01-01T24:00:00Z", "2026-01-01T00:00:00.Z", "yesterday"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = RUN("restore", db, dest, "--time", bad[i]);
        assert_usage(&r);
        result_free(&r);
    }
    r = RUN("log", "prune", db);
    assert_usage(&r);
    result_free(&r);
    r = RUN("log", "prune", db, "--keep-versions", "0");
    assert_usage(&r);
    result_free(&r);
    r = RUN("log", "prune", db, "--keep-days", "-1");
    assert_usage(&r);
    result_free(&r);
    r = RUN("log", "enable", db, "--compression", "gzip");
    assert_usage(&r);
    result_free(&r);
    r = RUN("log", "ship", db);
    assert_usage(&r);
    result_free(&r);
    /* Failures of a database without a log: exit 1, nothing made. */
    r = RUN("restore", db, dest, "--version", "1");
    assert_fail_with(&r, "no commit log", NULL, NULL);
    result_free(&r);
    assert_nothing_made(dest);
    r = RUN("log", "prune", db, "--keep-versions", "3");
    assert_fail_with(&r, "no commit log", NULL, NULL);
    result_free(&r);
    r = RUN("log", db);
    assert_fail_with(&r, "no commit log", NULL, NULL);
    result_free(&r);
    /* The global --version still prints the tool's version. */
    r = RUN("--version");
    assert_ok(&r);
    cr_assert(strncmp(r.out, "folio ", 6) == 0, "%s", r.out);
    result_free(&r);
}
