/*
 * compat.c - the machinery of the read-compatibility suite (compat.h):
 * temporary directories and files, seeds, libsqlite3 wrappers that fail the
 * test on error, generated data, and small folio helpers. The comparisons
 * themselves are in compat_compare.c.
 */
#include "compat.h"
#include "compat_int.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- Small utilities -------------------------------------------------------- */

/* A growing string. */
void *cx_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        cr_assert_fail("out of memory (%zu bytes)", n);
    return p;
}

void *cx_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        cr_assert_fail("out of memory (%zu bytes)", n);
    return q;
}

char *cx_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = cx_malloc(n);
    memcpy(p, s, n);
    return p;
}

void cx_sb_vadd(sbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int need = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (need < 0)
        cr_assert_fail("vsnprintf failed");
    if (b->n + (size_t)need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + (size_t)need + 1)
            cap *= 2;
        b->p = cx_realloc(b->p, cap);
        b->cap = cap;
    }
    vsnprintf(b->p + b->n, (size_t)need + 1, fmt, ap);
    b->n += (size_t)need;
}

void cx_sb_add(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cx_sb_vadd(b, fmt, ap);
    va_end(ap);
}

/* The string built so far (never NULL); the buffer stays owned by `b`. */
const char *cx_sb_str(sbuf *b)
{
    if (!b->p)
        cx_sb_add(b, "%s", "");
    return b->p;
}

void cx_sb_free(sbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

char *cx_vformat(const char *fmt, va_list ap)
{
    sbuf b = {0};
    cx_sb_vadd(&b, fmt, ap);
    return b.p;
}

/* ---- Files and directories ------------------------------------------------ */

char *compat_tmpdir(void)
{
    const char *base = getenv("FOLIO_TMP");
    if (!base || !*base)
        base = "/tmp";
    if (mkdir(base, 0777) != 0 && errno != EEXIST)
        cr_assert_fail("mkdir %s: %s", base, strerror(errno));
    sbuf b = {0};
    cx_sb_add(&b, "%s/compat-XXXXXX", base);
    if (!mkdtemp(b.p))
        cr_assert_fail("mkdtemp %s: %s", b.p, strerror(errno));
    return b.p;
}

void compat_rmtree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        unlink(dir);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = compat_path(dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            compat_rmtree(p);
        else
            unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

char *compat_path(const char *dir, const char *name)
{
    sbuf b = {0};
    cx_sb_add(&b, "%s/%s", dir, name);
    return b.p;
}

char *compat_suffix(const char *path, const char *suffix)
{
    sbuf b = {0};
    cx_sb_add(&b, "%s%s", path, suffix);
    return b.p;
}

int64_t compat_file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    return (int64_t)st.st_size;
}

uint8_t *compat_read_file(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        cr_assert_fail("open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    uint8_t *p = cx_malloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            p = cx_realloc(p, cap);
        }
        size_t got = fread(p + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    if (ferror(f))
        cr_assert_fail("read %s: %s", path, strerror(errno));
    fclose(f);
    *out_len = n;
    return p;
}

void compat_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        cr_assert_fail("create %s: %s", path, strerror(errno));
    if (len && fwrite(data, 1, len, f) != len)
        cr_assert_fail("write %s: %s", path, strerror(errno));
    if (fclose(f) != 0)
        cr_assert_fail("close %s: %s", path, strerror(errno));
}

void compat_append_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "ab");
    if (!f)
        cr_assert_fail("open %s: %s", path, strerror(errno));
    if (len && fwrite(data, 1, len, f) != len)
        cr_assert_fail("append %s: %s", path, strerror(errno));
    if (fclose(f) != 0)
        cr_assert_fail("close %s: %s", path, strerror(errno));
}

static void copy_one(const char *from, const char *to)
{
    size_t n;
    uint8_t *p = compat_read_file(from, &n);
    compat_write_file(to, p, n);
    free(p);
}

void compat_copy_db(const char *from, const char *to, int with_wal)
{
    static const char *const sfx[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        char *t = compat_suffix(to, sfx[i]);
        unlink(t);
        free(t);
    }
    copy_one(from, to);
    if (!with_wal)
        return;
    for (size_t i = 0; i < 2; i++) {
        char *f = compat_suffix(from, sfx[i]);
        char *t = compat_suffix(to, sfx[i]);
        if (compat_file_size(f) >= 0)
            copy_one(f, t);
        free(f);
        free(t);
    }
}

uint64_t cx_hash_str(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* ---- libsqlite3 ------------------------------------------------------------- */

static sqlite3 *sqlite_open_flags(const char *path, int flags)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        cr_assert_fail("sqlite3_open_v2(%s): %s", path, msg);
    }
    sqlite3_extended_result_codes(db, 1);
    return db;
}

/* det_blob(n, k): n bytes that depend only on k (randomblob() would make
 * files differ from run to run, and seeds could not replay them). */
static void det_blob(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    int64_t n = sqlite3_value_int64(argv[0]);
    uint64_t state = (uint64_t)sqlite3_value_int64(argv[1]) * 0x2545f4914f6cdd1dull;
    if (n < 0)
        n = 0;
    if (n > 100000000)
        n = 100000000;
    uint8_t *p = sqlite3_malloc64((sqlite3_uint64)n + 1);
    if (!p) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        p[i] = (uint8_t)(compat_rand(&state) >> 24);
    sqlite3_result_blob64(ctx, p, (sqlite3_uint64)n, sqlite3_free);
}

void compat_sqlite_functions(sqlite3 *db)
{
    sqlite3_create_function(db, "det_blob", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, det_blob,
                            NULL, NULL);
}

sqlite3 *compat_sqlite_open(const char *path)
{
    sqlite3 *db = sqlite_open_flags(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    compat_sqlite_functions(db);
    /* Durability against power loss plays no part here; a process that dies
     * still leaves every write in the file. */
    compat_exec(db, "PRAGMA synchronous=OFF");
    return db;
}

sqlite3 *compat_sqlite_open_ro(const char *path)
{
    sqlite3 *db = sqlite_open_flags(path, SQLITE_OPEN_READONLY);
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
    /* Reference reads scan big tables several times: keep them in memory. */
    compat_exec(db, "PRAGMA cache_size=-262144");
    return db;
}

void compat_sqlite_close(sqlite3 *db)
{
    int rc = sqlite3_close(db);
    if (rc != SQLITE_OK)
        cr_assert_fail("sqlite3_close: %s", sqlite3_errstr(rc));
}

void compat_sqlite_close_keep_wal(sqlite3 *db)
{
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
    compat_sqlite_close(db);
}

void compat_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        char shown[400];
        snprintf(shown, sizeof shown, "%s", sql);
        cr_assert_fail("sqlite: %s\n  in: %s", err ? err : sqlite3_errmsg(db), shown);
    }
}

void compat_execf(sqlite3 *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = cx_vformat(fmt, ap);
    va_end(ap);
    compat_exec(db, sql);
    free(sql);
}

void compat_wal_mode(sqlite3 *db)
{
    char *mode = compat_query_text(db, "PRAGMA journal_mode=WAL");
    cr_assert(mode && strcmp(mode, "wal") == 0, "journal_mode=WAL gave %s", mode ? mode : "NULL");
    free(mode);
    compat_exec(db, "PRAGMA wal_autocheckpoint=0");
}

void compat_run(const char *path, const char *sql)
{
    sqlite3 *db = compat_sqlite_open(path);
    compat_exec(db, sql);
    compat_sqlite_close(db);
}

sqlite3_stmt *compat_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        char shown[600];
        snprintf(shown, sizeof shown, "%s", sql);
        cr_assert_fail("sqlite prepare: %s\n  in: %s", sqlite3_errmsg(db), shown);
    }
    return st;
}

int cx_step_row(sqlite3 *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc != SQLITE_DONE)
        cr_assert_fail("sqlite step: %s\n  in: %s", sqlite3_errmsg(db), sqlite3_sql(st));
    return 0;
}

int64_t compat_query_int(sqlite3 *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = cx_vformat(fmt, ap);
    va_end(ap);
    sqlite3_stmt *st = compat_prepare(db, sql);
    int64_t v = cx_step_row(db, st) ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    free(sql);
    return v;
}

char *compat_query_text(sqlite3 *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = cx_vformat(fmt, ap);
    va_end(ap);
    sqlite3_stmt *st = compat_prepare(db, sql);
    char *v = NULL;
    if (cx_step_row(db, st) && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = cx_strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    free(sql);
    return v;
}

char *compat_integrity(const char *path)
{
    return compat_pragma_check(path, "integrity_check");
}

char *compat_pragma_check(const char *path, const char *pragma)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA %s", pragma);
    sqlite3 *db = NULL;
    sbuf b = {0};
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        cx_sb_add(&b, "sqlite cannot open: %s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return b.p;
    }
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        cx_sb_add(&b, "sqlite cannot check: %s", sqlite3_errmsg(db));
    } else {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
            cx_sb_add(&b, "%s", (const char *)sqlite3_column_text(st, 0));
        else
            cx_sb_add(&b, "sqlite %s failed: %s", pragma, sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return b.p;
}

char *compat_quote(const char *name)
{
    sbuf b = {0};
    cx_sb_add(&b, "\"");
    for (const char *s = name; *s; s++)
        cx_sb_add(&b, *s == '"' ? "\"\"" : "%c", *s);
    cx_sb_add(&b, "\"");
    return b.p;
}

/* ---- Generated data ----------------------------------------------------------- */

#define P2(k) ((int64_t)1 << (k))

const int64_t compat_int_boundaries[] = {
    0,
    1,
    -1,
    2,
    -2,
    127,
    128,
    -127,
    -128,
    -129,
    255,
    256,
    32767,
    32768,
    -32767,
    -32768,
    -32769,
    65535,
    65536,
    P2(23) - 1,
    P2(23),
    -P2(23),
    -P2(23) - 1,
    P2(24) - 1,
    P2(24),
    P2(31) - 1,
    P2(31),
    -P2(31),
    -P2(31) - 1,
    P2(32) - 1,
    P2(32),
    P2(39),
    P2(47) - 1,
    P2(47),
    -P2(47),
    -P2(47) - 1,
    P2(48) - 1,
    P2(48),
    P2(53),
    P2(53) + 1,
    -P2(53) - 1,
    P2(55),
    P2(62),
    INT64_MAX,
    INT64_MAX - 1,
    INT64_MIN,
    INT64_MIN + 1,
};
const size_t compat_n_int_boundaries =
    sizeof compat_int_boundaries / sizeof compat_int_boundaries[0];

const double compat_special_reals[] = {
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -2.5,
    0.1,
    1.0 / 3.0,
    5e-324,
    -5e-324,
    2.2250738585072009e-308,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    HUGE_VAL,
    -HUGE_VAL,
    1e-300,
    1e300,
    4503599627370496.5,
    9007199254740992.0,
    9007199254740994.0,
    -9007199254740994.0,
    9223372036854775807.0,
    9223372036854775808.0,
    -9223372036854775808.0,
    18446744073709551616.0,
    3.0,
    -42.0,
    1e15,
    123456789.125,
};
const size_t compat_n_special_reals = sizeof compat_special_reals / sizeof compat_special_reals[0];

/* Append one random character of valid UTF-8 to `p`; returns its length. */
static size_t random_char(uint64_t *rng, unsigned char *p, size_t room)
{
    static const char *const multi[] = {"\xc3\xa9",     "\xc3\x89",     "\xce\xa9",
                                        "\xe4\xb8\xad", "\xef\xbf\xbd", "\xf0\x9f\x98\x80",
                                        "\xc4\x80"};
    unsigned k = (unsigned)compat_below(rng, 20);
    if (k < 16 || room < 4) {
        static const char ascii[] = "aAbBcCxyzXYZ  09_-~";
        p[0] = (unsigned char)ascii[compat_below(rng, sizeof ascii - 1)];
        return 1;
    }
    const char *m = multi[compat_below(rng, sizeof multi / sizeof multi[0])];
    size_t n = strlen(m);
    memcpy(p, m, n);
    return n;
}

static size_t random_len(uint64_t *rng, int maxlen)
{
    unsigned k = (unsigned)compat_below(rng, 16);
    if (maxlen <= 0)
        return 0;
    if (k == 0)
        return 0;
    if (k < 9)
        return (size_t)compat_below(rng, maxlen < 24 ? (uint64_t)maxlen + 1 : 25);
    if (k < 14)
        return (size_t)compat_below(rng, maxlen < 300 ? (uint64_t)maxlen + 1 : 301);
    if (k == 14)
        return (size_t)maxlen;
    return (size_t)compat_below(rng, (uint64_t)maxlen + 1);
}

void compat_bind_random(sqlite3_stmt *st, int param, uint64_t *rng, int maxlen)
{
    unsigned kind = (unsigned)compat_below(rng, 12);
    switch (kind) {
    case 0:
        sqlite3_bind_null(st, param);
        return;
    case 1:
        sqlite3_bind_int64(st, param, (int64_t)compat_below(rng, 21) - 10);
        return;
    case 2:
        sqlite3_bind_int64(st, param,
                           compat_int_boundaries[compat_below(rng, compat_n_int_boundaries)]);
        return;
    case 3: {
        uint64_t u = compat_rand(rng) >> compat_below(rng, 64);
        sqlite3_bind_int64(st, param, compat_below(rng, 2) ? (int64_t)u : -(int64_t)(u >> 1));
        return;
    }
    case 4:
        sqlite3_bind_double(st, param,
                            compat_special_reals[compat_below(rng, compat_n_special_reals)]);
        return;
    case 5: {
        double d;
        do {
            uint64_t u = compat_rand(rng);
            memcpy(&d, &u, sizeof d);
        } while (isnan(d));
        sqlite3_bind_double(st, param, d);
        return;
    }
    case 6:
        sqlite3_bind_double(st, param, (double)((int64_t)compat_below(rng, 2001) - 1000) / 8.0);
        return;
    case 7:
    case 8:
    case 9: {
        size_t len = random_len(rng, maxlen);
        unsigned char *p = cx_malloc(len + 4);
        size_t n = 0;
        while (n < len)
            n += random_char(rng, p + n, len + 4 - n);
        sqlite3_bind_text(st, param, (const char *)p, (int)n, SQLITE_TRANSIENT);
        free(p);
        return;
    }
    default: {
        size_t len = random_len(rng, maxlen);
        unsigned char *p = cx_malloc(len + 1);
        for (size_t i = 0; i < len; i++)
            p[i] = (unsigned char)compat_rand(rng);
        sqlite3_bind_blob(st, param, p, (int)len, SQLITE_TRANSIENT);
        free(p);
        return;
    }
    }
}

static void step_done(sqlite3 *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        cr_assert_fail("sqlite step: %s\n  in: %s", sqlite3_errmsg(db), sqlite3_sql(st));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

void compat_populate(sqlite3 *db, uint64_t seed, int nrows)
{
    uint64_t rng = seed ^ 0x9090;
    int page = (int)compat_query_int(db, "PRAGMA page_size");
    compat_exec(db, "BEGIN;"
                    "CREATE TABLE mixed(a INTEGER, b TEXT, c BLOB, d REAL, e, f NUMERIC);"
                    "CREATE INDEX mixed_b ON mixed(b);"
                    "CREATE INDEX mixed_ad ON mixed(a DESC, d);"
                    "CREATE INDEX mixed_e ON mixed(e COLLATE RTRIM);"
                    "CREATE INDEX mixed_part ON mixed(f) WHERE a > 0;"
                    "CREATE TABLE ipk(id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE, v);"
                    "CREATE INDEX ipk_name ON ipk(name);"
                    "CREATE UNIQUE INDEX ipk_v ON ipk(v, id);"
                    "CREATE TABLE wr(k TEXT, n INT, v, PRIMARY KEY(k DESC, n)) WITHOUT ROWID;"
                    "CREATE INDEX wr_v ON wr(v);");
    sqlite3_stmt *ins = compat_prepare(db, "INSERT INTO mixed VALUES(?1,?2,?3,?4,?5,?6)");
    for (int i = 0; i < nrows; i++) {
        /* Mostly values that fit a page, sometimes several pages long. */
        int big = compat_below(&rng, 10) == 0 ? page * 3 + 17 : page / 3;
        for (int c = 1; c <= 6; c++)
            compat_bind_random(ins, c, &rng, big);
        step_done(db, ins);
    }
    sqlite3_finalize(ins);
    ins = compat_prepare(db, "INSERT OR IGNORE INTO ipk VALUES(?1,?2,?3)");
    for (int i = 0; i < nrows; i++) {
        if (compat_below(&rng, 4) == 0)
            sqlite3_bind_int64(ins, 1,
                               compat_int_boundaries[compat_below(&rng, compat_n_int_boundaries)]);
        else
            sqlite3_bind_int64(ins, 1, (int64_t)compat_below(&rng, 100000) - 5000);
        compat_bind_random(ins, 2, &rng, 40);
        compat_bind_random(ins, 3, &rng, page);
        step_done(db, ins);
    }
    sqlite3_finalize(ins);
    ins = compat_prepare(db, "INSERT OR IGNORE INTO wr VALUES(?1,?2,?3)");
    for (int i = 0; i < nrows; i++) {
        /* Keys with a NULL or a duplicate are skipped (OR IGNORE). */
        compat_bind_random(ins, 1, &rng, 60);
        compat_bind_random(ins, 2, &rng, 8);
        compat_bind_random(ins, 3, &rng, page * 2);
        step_done(db, ins);
    }
    sqlite3_finalize(ins);
    compat_exec(db, "COMMIT");
    /* Leave freeblocks, fragments and freelist pages behind. */
    compat_exec(db, "DELETE FROM mixed WHERE rowid % 3 = 0;"
                    "DELETE FROM ipk WHERE id % 5 = 1;"
                    "DELETE FROM wr WHERE n % 4 = 2;"
                    "UPDATE mixed SET b = b || 'updated' WHERE rowid % 7 = 1;"
                    "UPDATE ipk SET v = zeroblob(100) WHERE id % 11 = 3;");
}

/* ---- folio ------------------------------------------------------------------- */

const char *cx_mode_name(unsigned mode)
{
    return mode == COMPAT_RO ? "read-only" : "read-write";
}

const char *compat_rc_name(int rc)
{
    switch (rc) {
    case FOLIO_OK:
        return "FOLIO_OK";
    case FOLIO_ROW:
        return "FOLIO_ROW";
    case FOLIO_DONE:
        return "FOLIO_DONE";
    case FOLIO_NOTFOUND:
        return "FOLIO_NOTFOUND";
    case FOLIO_ERROR:
        return "FOLIO_ERROR";
    case FOLIO_MISUSE:
        return "FOLIO_MISUSE";
    case FOLIO_NOMEM:
        return "FOLIO_NOMEM";
    case FOLIO_IOERR:
        return "FOLIO_IOERR";
    case FOLIO_CORRUPT:
        return "FOLIO_CORRUPT";
    case FOLIO_NOTADB:
        return "FOLIO_NOTADB";
    case FOLIO_UNSUPPORTED:
        return "FOLIO_UNSUPPORTED";
    case FOLIO_BUSY:
        return "FOLIO_BUSY";
    case FOLIO_READONLY:
        return "FOLIO_READONLY";
    case FOLIO_CONSTRAINT:
        return "FOLIO_CONSTRAINT";
    case FOLIO_FULL:
        return "FOLIO_FULL";
    case FOLIO_NOTFOUND_ERR:
        return "FOLIO_NOTFOUND_ERR";
    case FOLIO_CANTOPEN:
        return "FOLIO_CANTOPEN";
    case FOLIO_TOOBIG:
        return "FOLIO_TOOBIG";
    case FOLIO_MISMATCH:
        return "FOLIO_MISMATCH";
    default:
        return "(undefined code)";
    }
}

int compat_rc_defined(int rc)
{
    return strcmp(compat_rc_name(rc), "(undefined code)") != 0;
}

int compat_names_page(const char *msg)
{
    for (const char *p = msg; p && (p = strstr(p, "page ")) != NULL; p++)
        if (p[5] >= '0' && p[5] <= '9')
            return 1;
    return 0;
}

size_t compat_folio_mmap_bytes;

size_t compat_mmap_option(void)
{
    const char *env = getenv("FOLIO_TEST_MMAP"); /* the whole compat suite through a map */
    if (!compat_folio_mmap_bytes && env && *env)
        return (size_t)strtoull(env, NULL, 0);
    return compat_folio_mmap_bytes;
}

folio_db *compat_folio_open(const char *path, unsigned mode)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = mode == COMPAT_RO ? FOLIO_OPEN_READONLY : 0;
    o.mmap_bytes = compat_mmap_option();
    folio_db *db = NULL;
    int rc = folio_open(&db, path, &o);
    if (rc != FOLIO_OK)
        cr_assert_fail("folio_open(%s, %s) = %s: %s", path, cx_mode_name(mode), compat_rc_name(rc),
                       folio_open_errmsg());
    cr_assert(db != NULL, "folio_open returned FOLIO_OK and no handle");
    return db;
}

folio_txn *compat_folio_read(folio_db *db)
{
    folio_txn *txn = NULL;
    int rc = folio_begin(&txn, db, FOLIO_TXN_READ);
    if (rc != FOLIO_OK)
        cr_assert_fail("folio_begin(READ) = %s: %s", compat_rc_name(rc), folio_errmsg(db));
    return txn;
}
