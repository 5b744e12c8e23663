/*
 * test_check.c - the integrity check (folio_check): clean files of many
 * shapes written by libsqlite3 pass with no message; files damaged in one
 * known way give FOLIO_CORRUPT with a message naming the page or index, and
 * libsqlite3's PRAGMA integrity_check agrees that they are damaged; random
 * damage never crashes the check, and whatever SQLite finds, folio finds too.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "folio.h"
#include "format/format.h"
#include "schema/parse.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t test_seed(uint64_t dflt)
{
    const char *e = getenv("FOLIO_SEED");
    uint64_t seed = e && *e ? strtoull(e, NULL, 0) : dflt;
    fprintf(stderr, "seed=%" PRIu64 "\n", seed);
    return seed;
}

static char *make_tmpdir(void)
{
    const char *base = getenv("FOLIO_TMP");
    char *dir = malloc(4096);
    cr_assert_not_null(dir);
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0777); /* may exist already */
    snprintf(dir, 4096, "%s/folio-check-XXXXXX", base);
    if (!mkdtemp(dir)) {
        snprintf(dir, 4096, "/tmp/folio-check-XXXXXX");
        cr_assert_not_null(mkdtemp(dir), "mkdtemp failed");
    }
    return dir;
}

static void remove_tmpdir(char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4600];
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    free(dir);
}

static char *db_path(const char *dir, const char *name)
{
    char *p = malloc(4200);
    cr_assert_not_null(p);
    snprintf(p, 4200, "%s/%s", dir, name);
    return p;
}

static sqlite3 *sql_open(const char *path)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK, "sqlite3_open %s", path);
    return db;
}

static void exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, 0, 0, &err);
    cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, err ? err : "?");
}

static void exec_path(const char *path, const char *sql)
{
    sqlite3 *db = sql_open(path);
    exec(db, sql);
    sqlite3_close(db);
}

static int64_t sql_int(const char *path, const char *sql)
{
    sqlite3 *db = sql_open(path);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, 0), SQLITE_OK, "%s", sql);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Whether libsqlite3 calls the file sound: integrity_check answers one row
 * "ok". An error (malformed schema, not a database) counts as not ok. */
static int sqlite_ok(const char *path, char *out, size_t outlen)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    int ok = 0, rows = 0;
    out[0] = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(out, outlen, "open: %s\n", sqlite3_errmsg(db));
        sqlite3_close(db);
        return 0;
    }
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check(1000)", -1, &st, 0) != SQLITE_OK) {
        snprintf(out, outlen, "prepare: %s\n", sqlite3_errmsg(db));
        sqlite3_close(db);
        return 0;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0);
        size_t len = strlen(out);
        snprintf(out + len, outlen - len, "%s\n", m ? m : "(null)");
        ok = rows == 0 && m && strcmp(m, "ok") == 0;
        rows++;
    }
    if (rc != SQLITE_DONE) {
        size_t len = strlen(out);
        snprintf(out + len, outlen - len, "step: %s\n", sqlite3_errmsg(db));
        ok = 0;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok && rows == 1;
}

typedef struct msgs {
    char text[1 << 16];
    int n;
} msgs;

static int collect(void *arg, const char *msg)
{
    msgs *m = arg;
    size_t len = strlen(m->text);
    snprintf(m->text + len, sizeof m->text - len, "%s\n", msg);
    m->n++;
    return 0;
}

/* Run folio_check on the file. Returns its code, or the code of a failed open
 * or begin (with the error in the messages). */
static int folio_check_file(const char *path, msgs *m, int max_errors)
{
    folio_db *db;
    folio_txn *txn;
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    memset(m, 0, sizeof *m);
    int rc = folio_open(&db, path, &o);
    if (rc != FOLIO_OK) {
        snprintf(m->text, sizeof m->text, "open: %s\n", folio_open_errmsg());
        return rc;
    }
    rc = folio_begin(&txn, db, FOLIO_TXN_READ);
    if (rc != FOLIO_OK) {
        snprintf(m->text, sizeof m->text, "begin: %s\n", folio_errmsg(db));
        folio_close(db);
        return rc;
    }
    rc = folio_check(txn, collect, m, max_errors);
    folio_rollback(txn);
    folio_close(db);
    return rc;
}

static void expect_clean(const char *path)
{
    msgs *m = malloc(sizeof *m);
    char sq[4096];
    cr_assert_not_null(m);
    cr_assert(sqlite_ok(path, sq, sizeof sq), "libsqlite3 finds %s damaged:\n%s", path, sq);
    int rc = folio_check_file(path, m, 0);
    cr_assert_eq(rc, FOLIO_OK, "folio_check on %s returned %d:\n%s", path, rc, m->text);
    cr_assert_eq(m->n, 0, "messages on a clean file:\n%s", m->text);
    free(m);
}

/* The damaged file gives FOLIO_CORRUPT with a message containing each of the
 * NULL-terminated substrings, and libsqlite3 also finds it damaged. */
static void expect_corrupt(const char *path, ...)
{
    msgs *m = malloc(sizeof *m);
    char sq[8192];
    va_list ap;
    cr_assert_not_null(m);
    int rc = folio_check_file(path, m, 0);
    int sqlite_sound = sqlite_ok(path, sq, sizeof sq);
    fprintf(stderr, "folio:\n%slibsqlite3:\n%s", m->text, sq);
    cr_assert_eq(rc, FOLIO_CORRUPT, "folio_check returned %d:\n%s", rc, m->text);
    cr_assert_gt(m->n, 0);
    va_start(ap, path);
    for (const char *want; (want = va_arg(ap, const char *)) != NULL;)
        cr_assert_not_null(strstr(m->text, want), "no message contains \"%s\":\n%s", want, m->text);
    va_end(ap);
    cr_assert(!sqlite_sound, "libsqlite3 finds no problem but folio does:\n%s", m->text);
    free(m);
}

static uint32_t file_page_size(const char *path)
{
    uint8_t h[100];
    int fd = open(path, O_RDONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(pread(fd, h, sizeof h, 0), (ssize_t)sizeof h);
    close(fd);
    uint32_t ps = fmt_get_u16(h + 16);
    return ps == 1 ? 65536 : ps;
}

static uint8_t *read_page(const char *path, uint32_t pgno, uint32_t ps)
{
    uint8_t *p = malloc(ps);
    int fd = open(path, O_RDONLY);
    cr_assert(fd >= 0 && p);
    cr_assert_eq(pread(fd, p, ps, (off_t)(pgno - 1) * ps), (ssize_t)ps, "read page %u", pgno);
    close(fd);
    return p;
}

static void write_bytes(const char *path, uint64_t off, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(pwrite(fd, p, n, (off_t)off), (ssize_t)n);
    cr_assert_eq(close(fd), 0);
}

static void write_page(const char *path, uint32_t pgno, uint32_t ps, const uint8_t *p)
{
    write_bytes(path, (uint64_t)(pgno - 1) * ps, p, ps);
}

static uint32_t root_of(const char *path, const char *name)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT rootpage FROM sqlite_schema WHERE name='%s'", name);
    return (uint32_t)sql_int(path, sql);
}

/* A fresh database file built by libsqlite3 with this page size and script. */
static char *build(const char *dir, const char *name, unsigned page_size, const char *script)
{
    char *path = db_path(dir, name);
    char pragma[64];
    unlink(path);
    sqlite3 *db = sql_open(path);
    snprintf(pragma, sizeof pragma, "PRAGMA page_size=%u;", page_size);
    exec(db, pragma);
    exec(db, script);
    sqlite3_close(db);
    return path;
}

static void text_random(uint64_t *s, char *buf, size_t n)
{
    static const char alpha[] = "abcXYZ xyzABC0123 _-";
    for (size_t i = 0; i < n; i++)
        buf[i] = alpha[splitmix(s) % (sizeof alpha - 1)];
    buf[n] = 0;
}

/* Rows of every storage class into the rich schema of clean_script. */
static void fill_rich(const char *path, uint64_t *seed, int nrows, unsigned page_size)
{
    sqlite3 *db = sql_open(path);
    sqlite3_stmt *t, *w, *u, *s, *b, *o;
    char txt[300];
    size_t big = (size_t)page_size * 3 + 17;
    uint8_t *blob = malloc(big);
    cr_assert_not_null(blob);
    exec(db, "BEGIN");
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO t(a,b,c,d,e) VALUES(?,?,?,?,?)", -1, &t, 0),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO w VALUES(?,?,?)", -1, &w, 0),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO u VALUES(?,?,?)", -1, &u, 0),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO s VALUES(?,?,?,?,?)", -1, &s, 0), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO big(payload) VALUES(?)", -1, &b, 0),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO old(a) VALUES(?)", -1, &o, 0), SQLITE_OK);
    for (int i = 0; i < nrows; i++) {
        size_t n = 1 + splitmix(seed) % 40;
        text_random(seed, txt, n);
        sqlite3_bind_text(t, 1, txt, -1, SQLITE_TRANSIENT);
        if (splitmix(seed) % 3 == 0)
            sqlite3_bind_double(t, 2, (double)(int64_t)(splitmix(seed) % 1000) - 500.0);
        else if (splitmix(seed) % 2)
            sqlite3_bind_double(t, 2, (double)(splitmix(seed) % 100000) / 7.0);
        else
            sqlite3_bind_null(t, 2);
        for (size_t k = 0; k < big; k++)
            blob[k] = (uint8_t)splitmix(seed);
        sqlite3_bind_blob(t, 3, blob, (int)(splitmix(seed) % 4 == 0 ? big : splitmix(seed) % 64),
                          SQLITE_TRANSIENT);
        switch (splitmix(seed) % 4) {
        case 0:
            sqlite3_bind_text(t, 4, "12", -1, SQLITE_STATIC); /* becomes 12 */
            break;
        case 1:
            sqlite3_bind_text(t, 4, "1x", -1, SQLITE_STATIC); /* stays text */
            break;
        case 2:
            sqlite3_bind_double(t, 4, 2.5);
            break;
        default:
            sqlite3_bind_int64(t, 4, (int64_t)(splitmix(seed) % 50) - 25);
        }
        switch (splitmix(seed) % 5) {
        case 0:
            sqlite3_bind_null(t, 5);
            break;
        case 1:
            sqlite3_bind_int64(t, 5, (int64_t)splitmix(seed));
            break;
        case 2:
            sqlite3_bind_double(t, 5, -0.0);
            break;
        case 3:
            sqlite3_bind_text(t, 5, txt, -1, SQLITE_TRANSIENT);
            break;
        default:
            sqlite3_bind_blob(t, 5, txt, (int)n, SQLITE_TRANSIENT);
        }
        cr_assert_eq(sqlite3_step(t), SQLITE_DONE);
        sqlite3_reset(t);

        text_random(seed, txt, 1 + splitmix(seed) % 12);
        sqlite3_bind_text(w, 1, txt, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(w, 2, (int64_t)(splitmix(seed) % 20));
        if (splitmix(seed) % 5 == 0)
            sqlite3_bind_blob(w, 3, blob, (int)(big / 2), SQLITE_TRANSIENT);
        else
            sqlite3_bind_int64(w, 3, (int64_t)(splitmix(seed) % 7));
        cr_assert_eq(sqlite3_step(w), SQLITE_DONE);
        sqlite3_reset(w);

        sqlite3_bind_int64(u, 1, (int64_t)(splitmix(seed) % 1000));
        text_random(seed, txt, 8);
        sqlite3_bind_text(u, 2, txt, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(u, 3, 1.5);
        cr_assert_eq(sqlite3_step(u), SQLITE_DONE);
        sqlite3_reset(u);

        sqlite3_bind_int64(s, 1, i);
        if (i % 3)
            sqlite3_bind_double(s, 2, i / 4.0);
        else
            sqlite3_bind_int64(s, 2, i); /* a REAL column keeps integral values as integers */
        sqlite3_bind_text(s, 3, txt, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(s, 4, txt, 3, SQLITE_TRANSIENT);
        if (i % 2)
            sqlite3_bind_text(s, 5, "any", -1, SQLITE_STATIC);
        else
            sqlite3_bind_double(s, 5, 0.125);
        cr_assert_eq(sqlite3_step(s), SQLITE_DONE);
        sqlite3_reset(s);

        if (i % 10 == 0) {
            sqlite3_bind_blob(b, 1, blob, (int)(splitmix(seed) % big), SQLITE_TRANSIENT);
            cr_assert_eq(sqlite3_step(b), SQLITE_DONE);
            sqlite3_reset(b);
        }
        sqlite3_bind_int64(o, 1, i);
        cr_assert_eq(sqlite3_step(o), SQLITE_DONE);
        sqlite3_reset(o);
    }
    sqlite3_finalize(t);
    sqlite3_finalize(w);
    sqlite3_finalize(u);
    sqlite3_finalize(s);
    sqlite3_finalize(b);
    sqlite3_finalize(o);
    exec(db, "COMMIT");
    free(blob);
    sqlite3_close(db);
}

static const char rich_schema[] =
    "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT NOT NULL, b REAL, c BLOB, d NUMERIC, e);"
    "CREATE INDEX t_a ON t(a);"
    "CREATE INDEX t_b_desc ON t(b DESC, a);"
    "CREATE UNIQUE INDEX t_a_nocase ON t(a COLLATE NOCASE, id);"
    "CREATE INDEX t_e ON t(e COLLATE RTRIM, d);"
    "CREATE INDEX t_id ON t(id DESC);"
    "CREATE INDEX t_c ON t(c);"
    "CREATE INDEX t_expr ON t(lower(a));"
    "CREATE INDEX t_part ON t(d) WHERE d > 0;"
    "CREATE TABLE w(k TEXT, j INTEGER, v, PRIMARY KEY(k COLLATE NOCASE, j DESC)) WITHOUT ROWID;"
    "CREATE INDEX w_v ON w(v);"
    "CREATE UNIQUE INDEX w_jk ON w(j, k);"
    "CREATE INDEX w_k ON w(k COLLATE BINARY DESC);"
    "CREATE TABLE u(x UNIQUE, y PRIMARY KEY, z REAL);"
    "CREATE TABLE s(i INTEGER, r REAL, t TEXT, b BLOB, a ANY) STRICT;"
    "CREATE INDEX s_r ON s(r);"
    "CREATE TABLE big(id INTEGER PRIMARY KEY AUTOINCREMENT, payload);"
    "CREATE TABLE old(a INTEGER);"
    "CREATE TABLE gone(x, y);"
    "CREATE VIEW v AS SELECT a FROM t;"
    "CREATE TRIGGER tr AFTER INSERT ON big BEGIN SELECT 1; END;";

/* The rest of the life of the rich database: deletes, a dropped table, ALTER
 * TABLE ADD COLUMN with rows before and after. */
static const char rich_after[] = "INSERT INTO gone SELECT id, c FROM t;"
                                 "DELETE FROM t WHERE id % 7 = 3;"
                                 "DELETE FROM w WHERE j = 4;"
                                 "UPDATE t SET e = 'changed ' || id WHERE id % 5 = 1;"
                                 "DROP TABLE gone;"
                                 "ALTER TABLE old ADD COLUMN b TEXT DEFAULT 'zz';"
                                 "ALTER TABLE old ADD COLUMN c REAL NOT NULL DEFAULT 7;"
                                 "ALTER TABLE old ADD COLUMN d DEFAULT NULL;"
                                 "CREATE INDEX old_bc ON old(b, c);"
                                 "CREATE INDEX old_d ON old(d, a);"
                                 "INSERT INTO old VALUES(1000, 'new', 8.5, x'00');"
                                 "DELETE FROM big WHERE id % 3 = 0;";

/* ---- clean files -------------------------------------------------------- */

Test(db_check, clean_files_of_many_shapes)
{
    static const unsigned sizes[] = {512, 1024, 4096, 65536};
    uint64_t seed = test_seed(0xc4ec0001);
    char *dir = make_tmpdir();
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "rich%u.db", sizes[i]);
        char *path = build(dir, name, sizes[i], rich_schema);
        fill_rich(path, &seed, sizes[i] == 65536 ? 120 : 300, sizes[i]);
        exec_path(path, rich_after);
        cr_assert_gt(sql_int(path, "PRAGMA freelist_count"), 0, "the file has a freelist");
        expect_clean(path);
        free(path);
    }
    remove_tmpdir(dir);
}

Test(db_check, clean_empty_and_tiny_files)
{
    char *dir = make_tmpdir();
    char *path = build(dir, "empty.db", 4096, "PRAGMA user_version=1;");
    expect_clean(path);
    free(path);
    path = build(dir, "one.db", 512, "CREATE TABLE t(x); INSERT INTO t VALUES(1);");
    expect_clean(path);
    free(path);
    /* A file with no pages at all is clean too. */
    path = db_path(dir, "zero.db");
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    cr_assert(fd >= 0);
    close(fd);
    msgs *m = malloc(sizeof *m);
    cr_assert_eq(folio_check_file(path, m, 0), FOLIO_OK, "%s", m->text);
    cr_assert_eq(m->n, 0);
    free(m);
    free(path);
    remove_tmpdir(dir);
}

Test(db_check, clean_utf16_autovacuum_and_reserved_bytes)
{
    uint64_t seed = test_seed(0xc4ec0002);
    char *dir = make_tmpdir();
    char *path = build(dir, "utf16.db", 1024,
                       "PRAGMA encoding='UTF-16le';"
                       "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT NOT NULL, b INTEGER);"
                       "CREATE INDEX t_a ON t(a COLLATE NOCASE);"
                       "CREATE INDEX t_ab ON t(a, b);"
                       "CREATE TABLE w(k TEXT PRIMARY KEY COLLATE RTRIM, v) WITHOUT ROWID;");
    sqlite3 *db = sql_open(path);
    exec(db, "BEGIN");
    for (int i = 0; i < 400; i++) {
        char sql[256], txt[64];
        text_random(&seed, txt, 1 + splitmix(&seed) % 30);
        snprintf(sql, sizeof sql,
                 "INSERT INTO t(a,b) VALUES('%s\xc3\xa9\xe2\x82\xac%d', %d);"
                 "INSERT OR IGNORE INTO w VALUES('%s', %d);",
                 txt, i % 17, i, txt, i);
        exec(db, sql);
    }
    exec(db, "COMMIT; DELETE FROM t WHERE id % 3 = 0;");
    sqlite3_close(db);
    expect_clean(path);
    free(path);

    path = build(dir, "autovac.db", 1024,
                 "PRAGMA auto_vacuum=FULL;"
                 "CREATE TABLE t(id INTEGER PRIMARY KEY, a, b);"
                 "CREATE INDEX t_a ON t(a);"
                 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 5000)"
                 "  INSERT INTO t(a,b) SELECT printf('%08d', i*7919 % 5000), "
                 "  CASE WHEN i % 25 = 0 THEN randomblob(3000) ELSE i END FROM n;"
                 "CREATE TABLE gone(x); INSERT INTO gone SELECT b FROM t;");
    expect_clean(path);
    exec_path(path, "DROP TABLE gone; DELETE FROM t WHERE id % 4 = 0;");
    cr_assert_gt(sql_int(path, "PRAGMA page_count"), 500, "several pointer-map pages");
    expect_clean(path);
    exec_path(path, "PRAGMA auto_vacuum=INCREMENTAL; VACUUM;"
                    "CREATE TABLE g2(x); INSERT INTO g2 SELECT b FROM t; DROP TABLE g2;");
    cr_assert_gt(sql_int(path, "PRAGMA freelist_count"), 0);
    expect_clean(path);
    free(path);

    /* Reserved bytes at the end of every page shrink the usable size. */
    path = db_path(dir, "reserved.db");
    unlink(path);
    db = sql_open(path);
    int reserve = 32;
    exec(db, "PRAGMA page_size=512");
    cr_assert_eq(sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve), SQLITE_OK);
    exec(db, "CREATE TABLE t(a, b); CREATE INDEX t_b ON t(b);"
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 500)"
             "  INSERT INTO t SELECT i, randomblob(i % 700) FROM n;");
    sqlite3_close(db);
    uint8_t *p1 = read_page(path, 1, 512);
    cr_assert_eq(p1[20], 32, "reserved bytes in the header");
    free(p1);
    expect_clean(path);
    free(path);
    remove_tmpdir(dir);
}

Test(db_check, clean_legacy_format_where_desc_is_ignored)
{
    /* Before schema format 4 SQLite ignores DESC: these keys are ascending. */
    char *dir = make_tmpdir();
    char *path = db_path(dir, "legacy.db");
    sqlite3 *db = sql_open(path);
    cr_assert_eq(sqlite3_db_config(db, SQLITE_DBCONFIG_LEGACY_FILE_FORMAT, 1, NULL), SQLITE_OK);
    exec(db, "CREATE TABLE t(a, b); CREATE INDEX i ON t(a DESC, b);"
             "CREATE TABLE w(k, v, PRIMARY KEY(k DESC)) WITHOUT ROWID;"
             "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x<300)"
             "  INSERT INTO t SELECT x % 17, x FROM n;"
             "INSERT INTO w SELECT b, a FROM t;");
    sqlite3_close(db);
    uint8_t *p1 = read_page(path, 1, file_page_size(path));
    cr_assert_lt(fmt_get_u32(p1 + 44), 4, "a legacy schema format");
    free(p1);
    expect_clean(path);
    free(path);
    remove_tmpdir(dir);
}

/* ---- damage, one kind at a time ----------------------------------------- */

/* The child of cell 0 of interior page pgno. */
static uint32_t leftmost_child(const char *path, uint32_t pgno, uint32_t ps)
{
    uint8_t *p = read_page(path, pgno, ps);
    fmt_page h;
    fmt_cell cell;
    cr_assert_eq(fmt_page_decode(p, pgno, ps, &h), 0);
    cr_assert(!h.is_leaf);
    cr_assert_eq(fmt_cell_parse(p, &h, fmt_page_cell_off(p, &h, 0), &cell), 0);
    free(p);
    return cell.left_child;
}

Test(db_check, swapped_rowids)
{
    char *dir = make_tmpdir();
    char *path = build(dir, "swap.db", 4096,
                       "CREATE TABLE t(x);"
                       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<10)"
                       "  INSERT INTO t SELECT i * 11 FROM n;");
    expect_clean(path);
    uint32_t ps = file_page_size(path), root = root_of(path, "t");
    uint8_t *p = read_page(path, root, ps);
    fmt_page h;
    cr_assert_eq(fmt_page_decode(p, root, ps, &h), 0);
    cr_assert(h.is_leaf && h.ncells == 10);
    /* Cells 2 and 3 hold rowids 3 and 4, one-byte varints after the size. */
    uint32_t o2 = fmt_page_cell_off(p, &h, 2), o3 = fmt_page_cell_off(p, &h, 3);
    cr_assert_eq(p[o2 + 1], 3);
    cr_assert_eq(p[o3 + 1], 4);
    p[o2 + 1] = 4;
    p[o3 + 1] = 3;
    write_page(path, root, ps, p);
    free(p);
    char want[64];
    snprintf(want, sizeof want, "page %u: rowid 3 out of order", root);
    expect_corrupt(path, want, NULL);
    free(path);
    remove_tmpdir(dir);
}

Test(db_check, cell_pointer_into_the_header)
{
    char *dir = make_tmpdir();
    char *path = build(dir, "ptr.db", 1024,
                       "CREATE TABLE t(x);"
                       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<20)"
                       "  INSERT INTO t SELECT 'row ' || i FROM n;");
    uint32_t ps = file_page_size(path), root = root_of(path, "t");
    uint8_t *p = read_page(path, root, ps);
    fmt_put_u16(p + 8 + 2 * 5, 3); /* cell 5 now "starts" inside the page header */
    write_page(path, root, ps, p);
    free(p);
    char want[64];
    snprintf(want, sizeof want, "page %u: cell 5: offset 3 out of range", root);
    expect_corrupt(path, want, NULL);
    free(path);
    remove_tmpdir(dir);
}

Test(db_check, overflow_chain_cut)
{
    char *dir = make_tmpdir();
    char *path = build(dir, "ovfl.db", 1024,
                       "CREATE TABLE t(x); INSERT INTO t VALUES(randomblob(5000));"
                       "INSERT INTO t VALUES('after');");
    uint32_t ps = file_page_size(path), root = root_of(path, "t");
    uint8_t *p = read_page(path, root, ps);
    fmt_page h;
    fmt_cell cell;
    cr_assert_eq(fmt_page_decode(p, root, ps, &h), 0);
    cr_assert_eq(fmt_cell_parse(p, &h, fmt_page_cell_off(p, &h, 0), &cell), 0);
    cr_assert_neq(cell.overflow, 0);
    uint32_t first = cell.overflow;
    free(p);
    uint32_t chain = 0;
    for (uint32_t pg = first; pg; chain++) {
        uint8_t *ov = read_page(path, pg, ps);
        pg = fmt_get_u32(ov);
        free(ov);
    }
    cr_assert_eq(chain, (cell.payload_size - cell.local + ps - 5) / (ps - 4));
    cr_assert_gt(chain, 2);
    /* The first overflow page now claims to be the last one. */
    uint8_t *ov = read_page(path, first, ps);
    uint32_t second = fmt_get_u32(ov);
    fmt_put_u32(ov, 0);
    write_page(path, first, ps, ov);
    free(ov);
    char want[96], unused[64];
    snprintf(want, sizeof want, "page %u: cell 0: overflow list length is 1 but should be %u", root,
             chain);
    snprintf(unused, sizeof unused, "page %u: never used", second);
    expect_corrupt(path, want, unused, NULL);
    free(path);
    remove_tmpdir(dir);
}

Test(db_check, overflow_pointer_zero_in_the_cell)
{
    char *dir = make_tmpdir();
    char *path =
        build(dir, "ovfl0.db", 1024, "CREATE TABLE t(x); INSERT INTO t VALUES(zeroblob(3000));");
    uint32_t ps = file_page_size(path), root = root_of(path, "t");
    uint8_t *p = read_page(path, root, ps);
    fmt_page h;
    fmt_cell cell;
    cr_assert_eq(fmt_page_decode(p, root, ps, &h), 0);
    uint32_t off = fmt_page_cell_off(p, &h, 0);
    cr_assert_eq(fmt_cell_parse(p, &h, off, &cell), 0);
    fmt_put_u32((uint8_t *)cell.payload + cell.local, 0);
    write_page(path, root, ps, p);
    free(p);
    char want[96];
    snprintf(want, sizeof want, "page %u: cell 0 at offset %u: overflow page number is 0", root,
             off);
    expect_corrupt(path, want, "never used", NULL);
    free(path);
    remove_tmpdir(dir);
}

Test(db_check, freelist_count_off_by_one)
{
    char *dir = make_tmpdir();
    char *path = build(dir, "free.db", 512,
                       "CREATE TABLE t(x); CREATE TABLE d(x);"
                       "INSERT INTO d SELECT randomblob(400) FROM"
                       "  (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<20)"
                       "   SELECT i FROM n);"
                       "DROP TABLE d;");
    uint32_t n = (uint32_t)sql_int(path, "PRAGMA freelist_count");
    cr_assert_gt(n, 2);
    expect_clean(path);
    uint8_t cnt[4];
    fmt_put_u32(cnt, n + 1);
    write_bytes(path, 36, cnt, 4);
    char want[96];
    snprintf(want, sizeof want, "freelist count in header is %u but %u pages are on the freelist",
             n + 1, n);
    expect_corrupt(path, want, NULL);
    free(path);
    remove_tmpdir(dir);
}

Test(db_check, index_entry_deleted)
{
    char *dir = make_tmpdir();
    char *path = build(dir, "idx.db", 4096,
                       "CREATE TABLE t(x, y); CREATE INDEX i ON t(y);"
                       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<12)"
                       "  INSERT INTO t SELECT i, 'v' || (i % 5) FROM n;");
    expect_clean(path);
    uint32_t ps = file_page_size(path), root = root_of(path, "i");
    uint8_t *p = read_page(path, root, ps);
    cr_assert_eq(p[0], FMT_PAGE_INDEX_LEAF);
    cr_assert_eq(fmt_get_u16(p + 3), 12);
    fmt_put_u16(p + 3, 11); /* the last entry drops out of the pointer array */
    write_page(path, root, ps, p);
    free(p);
    expect_corrupt(path, "missing from index i", "wrong # of entries in index i", NULL);
    free(path);
    remove_tmpdir(dir);
}

/* The rows and the index entries are compared by sums of hashes; a file
 * whose sums differ is walked again to name the rows. These damages leave
 * every page well formed and in order, with as many entries as rows: only
 * the comparison of the values finds them. */

/* Replace the first `from` on page pgno with `to` (as long). */
static void patch_page(const char *path, uint32_t pgno, const char *from, const char *to)
{
    uint32_t ps = file_page_size(path);
    uint8_t *p = read_page(path, pgno, ps);
    size_t n = strlen(from);
    cr_assert_eq(strlen(to), n);
    uint8_t *at = NULL;
    for (uint32_t i = 0; i + n <= ps && !at; i++)
        if (memcmp(p + i, from, n) == 0)
            at = p + i;
    cr_assert_not_null(at, "page %u holds no '%s'", pgno, from);
    memcpy(at, to, n);
    write_page(path, pgno, ps, p);
    free(p);
}

static char *keyed_db(const char *dir, const char *name)
{
    return build(dir, name, 4096,
                 "CREATE TABLE t(x, y, w TEXT COLLATE NOCASE); CREATE INDEX i ON t(y);"
                 "CREATE INDEX iw ON t(w);"
                 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<12)"
                 "  INSERT INTO t SELECT i, printf('key%05d', i), printf('nc%05d', i) FROM n;");
}

Test(db_check, row_value_changed_under_its_index)
{
    char *dir = make_tmpdir();
    char *path = keyed_db(dir, "rowval.db");
    expect_clean(path);
    patch_page(path, root_of(path, "t"), "key00007", "kez00007");
    expect_corrupt(path, "row 7 missing from index i", NULL);
    free(path);
    remove_tmpdir(dir);
}

Test(db_check, index_entry_names_another_row)
{
    char *dir = make_tmpdir();
    char *path = keyed_db(dir, "rowid.db");
    /* The entry of row 12 (the last) says row 99: still in order. */
    patch_page(path, root_of(path, "i"), "key00012\x0c", "key00012\x63");
    expect_corrupt(path, "row 12 missing from index i", NULL);
    free(path);
    remove_tmpdir(dir);
}

Test(db_check, index_value_differs_in_case_only)
{
    char *dir = make_tmpdir();
    char *path = keyed_db(dir, "nocase.db");
    /* Equal under NOCASE, so the order holds, but not the row's value. */
    patch_page(path, root_of(path, "iw"), "nc00005", "NC00005");
    /* (stricter than SQLite 3.40.1, whose integrity_check finds the entry
     * under NOCASE and looks no further) */
    msgs *m = malloc(sizeof *m);
    cr_assert_not_null(m);
    cr_assert_eq(folio_check_file(path, m, 0), FOLIO_CORRUPT, "%s", m->text);
    cr_assert_not_null(strstr(m->text, "row 5 values differ from index iw"), "%s", m->text);
    free(m);
    free(path);
    remove_tmpdir(dir);
}

/* Numbers that compare equal hash equal: integral reals stored as integers
 * in a REAL column and its index, -0.0, large values, NUMERIC text. */
Test(db_check, numbers_in_indexes_are_clean)
{
    char *dir = make_tmpdir();
    char *path = build(dir, "num.db", 4096,
                       "CREATE TABLE t(a INTEGER PRIMARY KEY, x REAL, y NUMERIC, z, w ANY);"
                       "CREATE INDEX tx ON t(x); CREATE INDEX ty ON t(y); CREATE INDEX tz ON t(z);"
                       "CREATE INDEX tw ON t(w, x DESC);"
                       "INSERT INTO t VALUES (1, 3.0, '4.0', 5.0, 'AbC'),"
                       " (2, 2.5, 7, 9223372036854775807, 1.5), (3, 1e300, '1e3', -0.0, NULL),"
                       " (4, -0.0, 3, 3.0, x'00ff'), (5, 9.2e18, 1, -9223372036854775808, 2),"
                       " (6, -1e-300, '0x10', 9.3e18, 2.0), (7, NULL, '', 1e20, 'abc');");
    expect_clean(path);
    free(path);
    remove_tmpdir(dir);
}

Test(db_check, page_made_unreachable)
{
    char *dir = make_tmpdir();
    char *path = build(dir, "reach.db", 512,
                       "CREATE TABLE t(x);"
                       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<300)"
                       "  INSERT INTO t SELECT printf('%040d', i) FROM n;");
    uint32_t ps = file_page_size(path), root = root_of(path, "t");
    uint8_t *p = read_page(path, root, ps);
    fmt_page h;
    fmt_cell c0, c1;
    cr_assert_eq(fmt_page_decode(p, root, ps, &h), 0);
    cr_assert(!h.is_leaf && h.ncells >= 2, "a two-level tree");
    cr_assert_eq(fmt_cell_parse(p, &h, fmt_page_cell_off(p, &h, 0), &c0), 0);
    cr_assert_eq(fmt_cell_parse(p, &h, fmt_page_cell_off(p, &h, 1), &c1), 0);
    cr_assert_eq(leftmost_child(path, root, ps), c0.left_child);
    /* Cell 0 now points at cell 1's child: c0's page is orphaned. */
    fmt_put_u32(p + fmt_page_cell_off(p, &h, 0), c1.left_child);
    write_page(path, root, ps, p);
    free(p);
    char orphan[64], twice[64];
    snprintf(orphan, sizeof orphan, "page %u: never used", c0.left_child);
    snprintf(twice, sizeof twice, "page %u: used more than once", c1.left_child);
    expect_corrupt(path, orphan, twice, NULL);
    free(path);
    remove_tmpdir(dir);
}

Test(db_check, not_null_column_holding_null)
{
    char *dir = make_tmpdir();
    char *path =
        build(dir, "nn.db", 4096,
              "CREATE TABLE t(a, b); INSERT INTO t VALUES(1, 'x'), (2, NULL), (3, 'z');"
              "PRAGMA writable_schema=ON;"
              "UPDATE sqlite_schema SET sql='CREATE TABLE t(a, b NOT NULL)' WHERE name='t';");
    uint32_t root = root_of(path, "t");
    char want[64];
    snprintf(want, sizeof want, "page %u: row 2: NULL value in t.b", root);
    expect_corrupt(path, want, NULL);
    free(path);
    remove_tmpdir(dir);
}

Test(db_check, duplicate_in_unique_index)
{
    char *dir = make_tmpdir();
    char *path =
        build(dir, "uniq.db", 4096,
              "CREATE TABLE t(a, b); CREATE INDEX i ON t(a);"
              "INSERT INTO t VALUES(1, 'x'), (2, 'y'), (2, 'z'), (NULL, 1), (NULL, 2);"
              "PRAGMA writable_schema=ON;"
              "UPDATE sqlite_schema SET sql='CREATE UNIQUE INDEX i ON t(a)' WHERE name='i';");
    uint32_t root = root_of(path, "i");
    char want[64];
    snprintf(want, sizeof want, "page %u: cell 4: non-unique entry in index i", root);
    msgs *m = malloc(sizeof *m);
    folio_check_file(path, m, 0);
    cr_assert_eq(m->n, 1, "only the duplicate 2, not the NULLs:\n%s", m->text);
    free(m);
    expect_corrupt(path, want, NULL);
    free(path);
    remove_tmpdir(dir);
}

Test(db_check, fragment_count_and_affinity)
{
    char *dir = make_tmpdir();
    char *path =
        build(dir, "frag.db", 4096, "CREATE TABLE t(x); INSERT INTO t VALUES(1), (2), (3);");
    uint32_t ps = file_page_size(path), root = root_of(path, "t");
    uint8_t *p = read_page(path, root, ps);
    p[7] = 2;
    write_page(path, root, ps, p);
    free(p);
    char want[80];
    snprintf(want, sizeof want, "page %u: fragmentation of 0 bytes reported as 2", root);
    expect_corrupt(path, want, NULL);
    free(path);

    /* Values a column's affinity would never have stored. */
    path = build(dir, "aff.db", 4096,
                 "CREATE TABLE t(a TEXT, b INTEGER, c REAL);"
                 "INSERT INTO t VALUES('5', 7, 2.5), ('x', 'y', ' 1e3 ');"
                 "PRAGMA writable_schema=ON;"
                 "UPDATE sqlite_schema SET sql='CREATE TABLE t(a INTEGER, b TEXT, c)' WHERE "
                 "name='t';");
    expect_corrupt(path, "row 1: TEXT value in t.a", "row 1: NUMERIC value in t.b", NULL);
    free(path);
    remove_tmpdir(dir);
}

Test(db_check, schema_entries_sqlite_would_refuse)
{
    char *dir = make_tmpdir();
    char *path = build(dir, "names.db", 4096,
                       "CREATE TABLE t(x); CREATE INDEX i ON t(x); INSERT INTO t VALUES(1);"
                       "PRAGMA writable_schema=ON;"
                       "UPDATE sqlite_schema SET name='j' WHERE name='i';");
    expect_corrupt(path, "index j: its SQL names index i on t and its tbl_name is t", NULL);
    free(path);

    path = build(dir, "auto.db", 4096,
                 "CREATE TABLE t(a UNIQUE, b); INSERT INTO t VALUES(1, 2);"
                 "PRAGMA writable_schema=ON;"
                 "DELETE FROM sqlite_schema WHERE name='sqlite_autoindex_t_1';");
    expect_corrupt(path, "table t: its automatic index sqlite_autoindex_t_1 is missing",
                   "never used", NULL);
    free(path);

    path = build(dir, "orphan.db", 4096,
                 "CREATE TABLE t(x); CREATE INDEX i ON t(x);"
                 "PRAGMA writable_schema=ON;"
                 "UPDATE sqlite_schema SET tbl_name='nope', sql='CREATE INDEX i ON nope(x)' "
                 "WHERE name='i';");
    expect_corrupt(path, "index i: its table nope does not exist", NULL);
    free(path);

    /* A header that counts pages the file does not have. */
    path = build(dir, "count.db", 1024, "CREATE TABLE t(x); INSERT INTO t VALUES(1);");
    uint8_t *p1 = read_page(path, 1, 1024);
    uint32_t n = fmt_get_u32(p1 + 28);
    cr_assert_eq(fmt_get_u32(p1 + 92), fmt_get_u32(p1 + 24), "the page count is in use");
    fmt_put_u32(p1 + 28, n + 3);
    write_page(path, 1, 1024, p1);
    free(p1);
    char want[80];
    snprintf(want, sizeof want, "the header counts %u pages but the file holds only %u", n + 3, n);
    expect_corrupt(path, want, NULL);
    free(path);
    remove_tmpdir(dir);
}

Test(db_check, autovacuum_pointer_map_entry)
{
    char *dir = make_tmpdir();
    char *path = build(dir, "pm.db", 1024,
                       "PRAGMA auto_vacuum=FULL;"
                       "CREATE TABLE t(x); INSERT INTO t VALUES(randomblob(4000));");
    expect_clean(path);
    uint32_t ps = file_page_size(path), root = root_of(path, "t");
    cr_assert_eq(root, 3, "page 2 is the pointer map");
    uint8_t *p = read_page(path, 2, ps);
    /* The entry of page 4 (the first overflow page): type 3, parent = root. */
    cr_assert_eq(p[5], 3);
    cr_assert_eq(fmt_get_u32(p + 6), root);
    fmt_put_u32(p + 6, 1);
    write_page(path, 2, ps, p);
    free(p);
    expect_corrupt(path,
                   "page 4: pointer-map entry is (type 3, parent 1) but should be (type 3, "
                   "parent 3)",
                   NULL);
    free(path);
    remove_tmpdir(dir);
}

Test(db_check, max_errors_stops_the_check)
{
    char *dir = make_tmpdir();
    char *path = build(dir, "many.db", 512,
                       "CREATE TABLE t(x);"
                       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<400)"
                       "  INSERT INTO t SELECT printf('%040d', i) FROM n;");
    uint32_t ps = file_page_size(path), root = root_of(path, "t");
    /* Every child of the root becomes "never used". */
    uint8_t *p = read_page(path, root, ps);
    memset(p, 0, ps);
    p[0] = FMT_PAGE_TABLE_LEAF;
    fmt_put_u16(p + 5, (uint16_t)ps);
    write_page(path, root, ps, p);
    free(p);
    msgs *m = malloc(sizeof *m);
    cr_assert_eq(folio_check_file(path, m, 3), FOLIO_CORRUPT);
    cr_assert_eq(m->n, 3, "%s", m->text);
    cr_assert_eq(folio_check_file(path, m, 0), FOLIO_CORRUPT);
    cr_assert_gt(m->n, 3, "%s", m->text);
    free(m);
    free(path);
    remove_tmpdir(dir);
}

/* ---- random damage ------------------------------------------------------ */

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[65536];
    size_t n;
    cr_assert(a && b);
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        cr_assert_eq(fwrite(buf, 1, n, b), n);
    fclose(a);
    cr_assert_eq(fclose(b), 0);
}

/* Whether some index of the file has an expression key or a WHERE clause. */
static int has_expression_index(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int n = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM sqlite_schema s, pragma_index_xinfo(s.name) x "
                           "WHERE s.type = 'index' AND x.key AND x.cid = -2",
                           -1, &st, 0) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    if (n > 0)
        return 1;
    /* SQLite may refuse an expression folio's schema parser lets through. */
    folio_db *fdb;
    folio_txn *txn;
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    if (folio_open(&fdb, path, &o) != FOLIO_OK)
        return 0;
    if (folio_begin(&txn, fdb, FOLIO_TXN_READ) == FOLIO_OK) {
        for (int i = 0; i < folio_schema_count(txn); i++) {
            folio_schema_entry e;
            sch_index ix;
            char err[256];
            if (folio_schema_get(&e, txn, i) != FOLIO_OK || !e.sql ||
                strcmp(e.type, "index") != 0 || sch_parse_index(&ix, e.sql, NULL, err, sizeof err))
                continue;
            n += ix.has_expr || ix.partial;
            sch_index_free(&ix);
        }
        folio_rollback(txn);
    }
    folio_close(fdb);
    return n > 0;
}

/* One random damage: one to three bytes (most often in page headers, cell
 * pointers and the first bytes of cells), a small page number written over
 * four bytes, a page zeroed, or a page copied over another. */
static void damage_once(const char *path, uint32_t ps, uint32_t npages, uint64_t *seed)
{
    uint32_t kind = (uint32_t)(splitmix(seed) % 10);
    /* Page 1 (header and schema) often: one damaged byte there says much. */
    uint32_t pgno = splitmix(seed) % 6 ? 1 + (uint32_t)(splitmix(seed) % npages) : 1;
    uint64_t base = (uint64_t)(pgno - 1) * ps;
    if (kind < 6) {
        for (int k = 1 + (int)(splitmix(seed) % 3); k > 0; k--) {
            uint32_t off = splitmix(seed) % 2 ? (uint32_t)(splitmix(seed) % 40)
                                              : (uint32_t)(splitmix(seed) % ps);
            if (pgno == 1 && off < 100 && splitmix(seed) % 4)
                off += 100;
            uint8_t b = (uint8_t)splitmix(seed);
            write_bytes(path, base + off, &b, 1);
            pgno = 1 + (uint32_t)(splitmix(seed) % npages);
            base = (uint64_t)(pgno - 1) * ps;
        }
    } else if (kind < 8) {
        uint8_t v[4];
        fmt_put_u32(v, (uint32_t)(splitmix(seed) % (npages + 2)));
        write_bytes(path, base + splitmix(seed) % (ps - 3), v, 4);
    } else {
        uint8_t *page = kind == 8 ? calloc(1, ps)
                                  : read_page(path, 1 + (uint32_t)(splitmix(seed) % npages), ps);
        cr_assert_not_null(page);
        if (pgno == 1)
            pgno = 2; /* keep the header: SQLite would not open the file at all */
        write_page(path, pgno, ps, page);
        free(page);
    }
}

/* Damage copies of orig at random: the check never crashes, and every copy
 * libsqlite3 finds damaged, folio finds damaged too. */
static void damage_randomly(const char *dir, const char *orig, uint64_t *seed)
{
    const char *e = getenv("FOLIO_CHECK_ITERATIONS");
    int iterations = e && *e ? atoi(e) : 300, found_by_both = 0, skipped = 0;
    uint32_t ps = file_page_size(orig);
    uint32_t npages = (uint32_t)sql_int(orig, "PRAGMA page_count");
    char *path = db_path(dir, "damaged.db");
    msgs *m = malloc(sizeof *m);
    char sq[8192];
    cr_assert_not_null(m);
    expect_clean(orig);
    for (int it = 0; it < iterations; it++) {
        copy_file(orig, path);
        damage_once(path, ps, npages, seed);
        int rc = folio_check_file(path, m, 0);
        int sound = sqlite_ok(path, sq, sizeof sq);
        cr_assert(rc == FOLIO_OK || rc == FOLIO_CORRUPT || rc == FOLIO_NOTADB ||
                      rc == FOLIO_UNSUPPORTED,
                  "iteration %d: rc %d\n%s", it, rc, m->text);
        if (rc == FOLIO_OK)
            cr_assert_eq(m->n, 0);
        /* A collation SQLite lacks is no damage: folio checks such an index
         * for structure only, and SQLite cannot check the file at all. Nor
         * does folio evaluate expressions: damage that turns an index column
         * into an expression is left to SQLite. */
        if (!sound && rc == FOLIO_OK &&
            (strstr(sq, "no such collation sequence") || has_expression_index(path))) {
            skipped++;
            continue;
        }
        if (!sound && rc == FOLIO_OK)
            cr_assert_fail("iteration %d: libsqlite3 finds damage that folio does not:\n%s", it,
                           sq);
        if (!sound && rc != FOLIO_OK)
            found_by_both++;
    }
    fprintf(stderr, "%d of %d damaged copies found damaged by both (%d left to SQLite)\n",
            found_by_both, iterations, skipped);
    cr_assert_gt(found_by_both, iterations / 10);
    free(m);
    free(path);
}

Test(db_check, random_damage_is_found_whenever_sqlite_finds_it, .timeout = 600)
{
    uint64_t seed = test_seed(0xc4ec0003);
    char *dir = make_tmpdir();
    char *orig = build(dir, "orig.db", 512,
                       "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT NOT NULL, b REAL, c);"
                       "CREATE INDEX t_a ON t(a COLLATE NOCASE);"
                       "CREATE UNIQUE INDEX t_bc ON t(b DESC, c);"
                       "CREATE TABLE w(k, v, PRIMARY KEY(k)) WITHOUT ROWID;"
                       "CREATE INDEX w_v ON w(v);"
                       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<150)"
                       "  INSERT INTO t(a,b,c) SELECT printf('Name%d', i*37 % 150), i / 4.0,"
                       "  CASE WHEN i % 20 = 0 THEN randomblob(900) ELSE i END FROM n;"
                       "INSERT INTO w SELECT a, c FROM t;"
                       "CREATE TABLE d(x); INSERT INTO d SELECT c FROM t; DROP TABLE d;"
                       "DELETE FROM t WHERE id % 9 = 0;");
    damage_randomly(dir, orig, &seed);
    free(orig);
    remove_tmpdir(dir);
}

Test(db_check, random_damage_of_autovacuum_strict_and_overflowing_keys, .timeout = 600)
{
    uint64_t seed = test_seed(0xc4ec0004);
    char *dir = make_tmpdir();
    char *orig = build(
        dir, "orig2.db", 1024,
        "PRAGMA auto_vacuum=FULL;"
        "CREATE TABLE w(k TEXT COLLATE NOCASE, j INT, v, PRIMARY KEY(k, j DESC)) WITHOUT ROWID;"
        "CREATE UNIQUE INDEX w_vj ON w(v, j);"
        "CREATE TABLE s(i INTEGER, r REAL NOT NULL, t TEXT, b BLOB) STRICT;"
        "CREATE INDEX s_t ON s(t DESC, r);"
        "CREATE TABLE o(a INTEGER PRIMARY KEY, b UNIQUE);"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<120)"
        "  INSERT INTO w SELECT printf('%s%d', CASE WHEN i%2 THEN 'Key' ELSE 'kEY' END, i),"
        "  i % 7, CASE WHEN i % 10 = 0 THEN printf('%.400c', 'v') || i ELSE i END FROM n;"
        "INSERT INTO s SELECT j, k, printf('%.300c%d', 't', v), x'00ff' FROM"
        "  (SELECT j, length(k) AS k, v FROM w);"
        "INSERT INTO o(b) SELECT DISTINCT t FROM s;"
        "ALTER TABLE o ADD COLUMN c TEXT DEFAULT 'dflt';"
        "CREATE INDEX o_c ON o(c, b);"
        "INSERT INTO o(b, c) VALUES('late', 'x');"
        "CREATE TABLE d(x); INSERT INTO d SELECT b FROM o; DROP TABLE d;");
    damage_randomly(dir, orig, &seed);
    free(orig);
    remove_tmpdir(dir);
}
