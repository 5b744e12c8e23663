/*
 * crash_support.c - files, seeds and the folio / libsqlite3 views of a
 * database for the crash and fault suite (see crash_support.h).
 */
#include "crash_support.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Files ---------------------------------------------------------------- */

char *crash_tmpdir(const char *tag)
{
    const char *base = getenv("FOLIO_TMP");
    if (!base || !*base)
        base = "/tmp";
    if (mkdir(base, 0777) != 0 && errno != EEXIST)
        base = "/tmp";
    size_t n = strlen(base) + strlen(tag) + 32;
    char *dir = malloc(n);
    if (!dir)
        abort();
    snprintf(dir, n, "%s/crash-%s-XXXXXX", base, tag);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mkdtemp %s: %s\n", dir, strerror(errno));
        abort();
    }
    return dir;
}

char *crash_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p)
        abort();
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *crash_suffix(const char *path, const char *suffix)
{
    size_t n = strlen(path) + strlen(suffix) + 1;
    char *p = malloc(n);
    if (!p)
        abort();
    snprintf(p, n, "%s%s", path, suffix);
    return p;
}

void crash_rmtree(const char *dir)
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
        char *p = crash_path(dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            crash_rmtree(p);
        else
            unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

int64_t crash_file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    return (int64_t)st.st_size;
}

uint8_t *crash_read_file(const char *path, size_t *out_len)
{
    *out_len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long n = ftell(f);
    rewind(f);
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    if (!p || (n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n)) {
        free(p);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *out_len = (size_t)n;
    return p;
}

int crash_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = (len == 0 || fwrite(data, 1, len, f) == len);
    if (fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

int crash_copy_file(const char *from, const char *to)
{
    size_t n;
    uint8_t *p = crash_read_file(from, &n);
    if (!p) {
        unlink(to);
        return crash_file_size(from) < 0 ? 0 : -1;
    }
    int rc = crash_write_file(to, p, n);
    free(p);
    return rc;
}

int crash_copy_db(const char *from, const char *to)
{
    char *fw = crash_suffix(from, "-wal"), *tw = crash_suffix(to, "-wal");
    char *ts = crash_suffix(to, "-shm");
    int rc = crash_copy_file(from, to);
    if (rc == 0)
        rc = crash_copy_file(fw, tw);
    unlink(ts);
    free(fw);
    free(tw);
    free(ts);
    return rc;
}

void crash_remove_db(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char *p = crash_suffix(path, suffixes[i]);
        unlink(p);
        free(p);
    }
}

/* ---- A fast vfs ------------------------------------------------------------- */

static os_vfs fast_vfs;
static pthread_once_t fast_once = PTHREAD_ONCE_INIT;

static int fast_sync(os_file *f)
{
    (void)f;
    return 0;
}

static int fast_sync_dir(os_vfs *vfs, const char *path)
{
    (void)vfs, (void)path;
    return 0;
}

static void fast_init(void)
{
    fast_vfs = *os_vfs_posix();
    fast_vfs.name = "posix-nosync";
    fast_vfs.sync = fast_sync;
    fast_vfs.sync_dir = fast_sync_dir;
}

os_vfs *crash_vfs_fast(void)
{
    pthread_once(&fast_once, fast_init);
    return &fast_vfs;
}

/* ---- A tracing vfs ---------------------------------------------------------- */

typedef struct trace_file {
    os_file base;
    os_file *real;
    char name[64];
} trace_file;

static os_vfs trace_vfs;
static os_vfs *trace_base;
static long trace_n;
static int trace_reads;
static long trace_nreads;

static int tr_open(os_vfs *vfs, const char *path, int flags, os_file **out)
{
    (void)vfs;
    trace_file *t = calloc(1, sizeof *t);
    if (!t)
        return FOLIO_NOMEM;
    int rc = trace_base->open(trace_base, path, flags, &t->real);
    if (rc < 0) {
        free(t);
        *out = NULL;
        return rc;
    }
    const char *slash = strrchr(path, '/');
    snprintf(t->name, sizeof t->name, "%s", slash ? slash + 1 : path);
    t->base.vfs = &trace_vfs;
    *out = &t->base;
    return 0;
}

static int tr_close(os_file *f)
{
    trace_file *t = (trace_file *)f;
    int rc = trace_base->close(t->real);
    free(t);
    return rc;
}

static int tr_read(os_file *f, void *buf, size_t n, uint64_t off, size_t *got)
{
    trace_file *t = (trace_file *)f;
    if (trace_reads)
        fprintf(stderr, "read %ld: %s off %" PRIu64 " len %zu\n", ++trace_nreads, t->name, off, n);
    return trace_base->read(t->real, buf, n, off, got);
}

static int tr_write(os_file *f, const void *buf, size_t n, uint64_t off)
{
    trace_file *t = (trace_file *)f;
    fprintf(stderr, "op %ld: write %s off %" PRIu64 " len %zu\n", ++trace_n, t->name, off, n);
    return trace_base->write(t->real, buf, n, off);
}

static int tr_sync(os_file *f)
{
    trace_file *t = (trace_file *)f;
    fprintf(stderr, "op %ld: sync %s\n", ++trace_n, t->name);
    return trace_base->sync(t->real);
}

static int tr_size(os_file *f, uint64_t *out)
{
    return trace_base->size(((trace_file *)f)->real, out);
}

static int tr_truncate(os_file *f, uint64_t size)
{
    trace_file *t = (trace_file *)f;
    fprintf(stderr, "op %ld: truncate %s to %" PRIu64 "\n", ++trace_n, t->name, size);
    return trace_base->truncate(t->real, size);
}

static int tr_lock(os_file *f, int level)
{
    return trace_base->lock(((trace_file *)f)->real, level);
}

static int tr_lock_range(os_file *f, uint64_t off, uint64_t len, int type)
{
    return trace_base->lock_range(((trace_file *)f)->real, off, len, type);
}

static int tr_lock_owner(os_file *f, uint64_t off, uint64_t len, int type, int64_t *out_pid)
{
    return trace_base->lock_owner(((trace_file *)f)->real, off, len, type, out_pid);
}

/* The -shm is not traced: its file is the base vfs's own. */
static int tr_shm_open(os_vfs *vfs, const char *path, int flags, os_file **out)
{
    (void)vfs;
    return trace_base->shm_open(trace_base, path, flags, out);
}

static int tr_remove(os_vfs *vfs, const char *path)
{
    (void)vfs;
    fprintf(stderr, "op %ld: remove %s\n", ++trace_n, path);
    return trace_base->remove(trace_base, path);
}

static int tr_rename(os_vfs *vfs, const char *from, const char *to)
{
    (void)vfs;
    fprintf(stderr, "op %ld: rename %s %s\n", ++trace_n, from, to);
    return trace_base->rename ? trace_base->rename(trace_base, from, to) : FOLIO_UNSUPPORTED;
}

static int tr_exists(os_vfs *vfs, const char *path)
{
    (void)vfs;
    return trace_base->exists(trace_base, path);
}

static int tr_sync_dir(os_vfs *vfs, const char *path)
{
    (void)vfs;
    fprintf(stderr, "op %ld: sync_dir %s\n", ++trace_n, path);
    return trace_base->sync_dir(trace_base, path);
}

static int tr_file_id(os_file *f, uint64_t out[2])
{
    return trace_base->file_id(((trace_file *)f)->real, out);
}

static int tr_path_id(os_vfs *vfs, const char *path, uint64_t out[2])
{
    (void)vfs;
    return trace_base->path_id(trace_base, path, out);
}

static uint64_t tr_now_ms(os_vfs *vfs)
{
    (void)vfs;
    return trace_base->now_ms(trace_base);
}

static void tr_sleep_ms(os_vfs *vfs, unsigned ms)
{
    (void)vfs;
    trace_base->sleep_ms(trace_base, ms);
}

os_vfs *crash_vfs_trace(os_vfs *base)
{
    os_vfs v = {"trace",       tr_open,       tr_close,
                tr_read,       tr_write,      tr_sync,
                tr_size,       tr_truncate,   tr_lock,
                tr_lock_range, tr_remove,     tr_exists,
                tr_sync_dir,   tr_file_id,    tr_path_id,
                tr_now_ms,     tr_sleep_ms,   NULL,
                NULL,          NULL,          NULL /* map_file: reads go through the trace */,
                NULL,          tr_shm_open,   NULL,
                NULL,          tr_lock_owner, NULL /* start_writeback: only a hint */,
                tr_rename};
    trace_vfs = v;
    trace_base = base ? base : os_vfs_posix();
    trace_n = 0;
    trace_nreads = 0;
    trace_reads = crash_env_long("FOLIO_CRASH_TRACE", 0) >= 2;
    return &trace_vfs;
}

/* ---- Knobs ------------------------------------------------------------------ */

int crash_soak(void)
{
    const char *e = getenv("FOLIO_SOAK");
    return e && *e && strcmp(e, "0") != 0;
}

uint64_t crash_seed(uint64_t fallback, const char *what)
{
    const char *e = getenv("FOLIO_SEED");
    uint64_t seed = (e && *e) ? strtoull(e, NULL, 0) : fallback;
    fprintf(stderr, "seed=%" PRIu64 " (%s)\n", seed, what);
    return seed;
}

long crash_env_long(const char *name, long dflt)
{
    const char *e = getenv(name);
    return (e && *e) ? strtol(e, NULL, 0) : dflt;
}

uint64_t crash_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t crash_below(uint64_t *state, uint64_t n)
{
    return crash_rand(state) % n;
}

void crash_fill(uint8_t *buf, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x2545f4914f6cdd1dull + 1;
    size_t i = 0;
    while (i < n) {
        uint64_t x = crash_rand(&s);
        for (int k = 0; k < 8 && i < n; k++, i++)
            buf[i] = (uint8_t)(x >> (8 * k));
    }
}

/* ---- Hashing ---------------------------------------------------------------- */

static uint64_t fmix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static uint64_t h_bytes(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    h ^= n * 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return fmix(h);
}

static uint64_t h_u64(uint64_t h, uint64_t v)
{
    return fmix(h ^ fmix(v + 0x632be59bd9b4e019ull));
}

static uint64_t h_str(uint64_t h, const char *s)
{
    return s ? h_bytes(h_u64(h, 1), s, strlen(s)) : h_u64(h, 0);
}

/* One value: its type, then its payload. */
static uint64_t h_value(uint64_t h, int type, int64_t i, double r, const void *p, size_t n)
{
    h = h_u64(h, (uint64_t)type + 17);
    switch (type) {
    case FOLIO_INTEGER:
        return h_u64(h, (uint64_t)i);
    case FOLIO_REAL: {
        uint64_t bits;
        memcpy(&bits, &r, sizeof bits);
        return h_u64(h, bits);
    }
    case FOLIO_TEXT:
    case FOLIO_BLOB:
        return h_bytes(h, p ? p : "", n);
    default:
        return h;
    }
}

static int skip_table(const char *name)
{
    return strncmp(name, "zz_", 3) == 0 || strncmp(name, "sqlite_", 7) == 0;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Hash one table through folio into *sum (a multiset sum of row hashes). */
static int hash_folio_table(folio_db *db, folio_txn *txn, const char *name, uint64_t *out,
                            char *err, size_t errlen)
{
    folio_table *t;
    int rc = folio_table_open(&t, txn, name);
    if (rc < 0) {
        set_err(err, errlen, "folio_table_open(%s): %s: %s", name, crash_rc_name(rc),
                folio_errmsg(db));
        return -1;
    }
    int ncols = folio_table_ncols(t);
    int wr = folio_table_without_rowid(t);
    folio_cursor *c;
    if ((rc = folio_cursor_open(&c, t, NULL)) < 0) {
        set_err(err, errlen, "folio_cursor_open(%s): %s: %s", name, crash_rc_name(rc),
                folio_errmsg(db));
        return -1;
    }
    uint64_t sum = 0, nrows = 0;
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
        uint64_t h = h_str(0x5eed, name);
        h = h_u64(h, wr ? 0 : (uint64_t)folio_cursor_rowid(c));
        for (int col = 0; col < ncols; col++) {
            folio_value v;
            int crc = folio_cursor_column(&v, c, col);
            if (crc < 0) {
                set_err(err, errlen, "folio_cursor_column(%s, row %" PRIu64 ", col %d): %s: %s",
                        name, nrows, col, crash_rc_name(crc), folio_errmsg(db));
                folio_cursor_close(c);
                return -1;
            }
            h = h_value(h, (int)v.type, v.u.i, v.u.r, v.u.s.p, v.u.s.n);
        }
        sum += fmix(h);
        nrows++;
    }
    folio_cursor_close(c);
    if (rc != FOLIO_DONE) {
        set_err(err, errlen, "scanning %s with folio after %" PRIu64 " rows: %s: %s", name, nrows,
                crash_rc_name(rc), folio_errmsg(db));
        return -1;
    }
    *out = h_u64(h_u64(h_str(7, name), nrows), sum);
    return 0;
}

int crash_hash_db(folio_db *db, uint64_t *out, char *err, size_t errlen)
{
    folio_txn *txn;
    int rc = folio_begin(&txn, db, FOLIO_TXN_READ);
    if (rc < 0) {
        set_err(err, errlen, "folio_begin(READ): %s: %s", crash_rc_name(rc), folio_errmsg(db));
        return -1;
    }
    uint64_t total = 0;
    int n = folio_schema_count(txn), result = 0;
    for (int i = 0; i < n && result == 0; i++) {
        folio_schema_entry e;
        if ((rc = folio_schema_get(&e, txn, i)) < 0) {
            set_err(err, errlen, "folio_schema_get(%d): %s", i, crash_rc_name(rc));
            result = -1;
            break;
        }
        if (skip_table(e.tbl_name) || skip_table(e.name))
            continue;
        uint64_t h = h_str(h_str(h_str(h_str(3, e.type), e.name), e.tbl_name), e.sql);
        total += fmix(h);
        if (strcmp(e.type, "table") == 0) {
            uint64_t th;
            if (hash_folio_table(db, txn, e.name, &th, err, errlen) < 0)
                result = -1;
            else
                total += th;
        }
    }
    folio_rollback(txn);
    if (result == 0)
        *out = fmix(total);
    return result;
}

int crash_hash_folio(const char *path, uint64_t *out, char *err, size_t errlen)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    folio_db *db;
    int rc = folio_open(&db, path, &o);
    if (rc < 0) {
        set_err(err, errlen, "folio_open(read-only): %s: %s", crash_rc_name(rc),
                folio_open_errmsg());
        return -1;
    }
    int r = crash_hash_db(db, out, err, errlen);
    folio_close(db);
    return r;
}

static sqlite3 *sqlite_open_ro(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        set_err(err, errlen, "sqlite3_open_v2: %s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
    return db;
}

static int hash_sqlite_table(sqlite3 *db, const char *name, uint64_t *out, char *err, size_t errlen)
{
    char sql[600];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof sql, "SELECT rowid, * FROM \"%s\"", name);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        /* WITHOUT ROWID: folio reports rowid 0 for those. */
        sqlite3_finalize(st);
        snprintf(sql, sizeof sql, "SELECT 0, * FROM \"%s\"", name);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
            set_err(err, errlen, "sqlite: %s: %s", sql, sqlite3_errmsg(db));
            sqlite3_finalize(st);
            return -1;
        }
    }
    int ncols = sqlite3_column_count(st);
    uint64_t sum = 0, nrows = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t h = h_str(0x5eed, name);
        h = h_u64(h, (uint64_t)sqlite3_column_int64(st, 0));
        for (int col = 1; col < ncols; col++) {
            switch (sqlite3_column_type(st, col)) {
            case SQLITE_INTEGER:
                h = h_value(h, FOLIO_INTEGER, sqlite3_column_int64(st, col), 0, NULL, 0);
                break;
            case SQLITE_FLOAT:
                h = h_value(h, FOLIO_REAL, 0, sqlite3_column_double(st, col), NULL, 0);
                break;
            case SQLITE_TEXT: {
                const void *p = sqlite3_column_text(st, col);
                h = h_value(h, FOLIO_TEXT, 0, 0, p, (size_t)sqlite3_column_bytes(st, col));
                break;
            }
            case SQLITE_BLOB: {
                const void *p = sqlite3_column_blob(st, col);
                h = h_value(h, FOLIO_BLOB, 0, 0, p, (size_t)sqlite3_column_bytes(st, col));
                break;
            }
            default:
                h = h_value(h, FOLIO_NULL, 0, 0, NULL, 0);
            }
        }
        sum += fmix(h);
        nrows++;
    }
    if (rc != SQLITE_DONE) {
        set_err(err, errlen, "sqlite: scanning %s after %" PRIu64 " rows: %s", name, nrows,
                sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    *out = h_u64(h_u64(h_str(7, name), nrows), sum);
    return 0;
}

int crash_hash_sqlite(const char *path, uint64_t *out, char *err, size_t errlen)
{
    sqlite3 *db = sqlite_open_ro(path, err, errlen);
    if (!db)
        return -1;
    sqlite3_stmt *st = NULL;
    const char *sql = "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        set_err(err, errlen, "sqlite: reading sqlite_schema: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        sqlite3_close(db);
        return -1;
    }
    /* Collect the names first: a second statement runs per table. */
    char **tables = NULL;
    int ntables = 0, rc, result = 0;
    uint64_t total = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *tbl = (const char *)sqlite3_column_text(st, 2);
        const char *s = (const char *)sqlite3_column_text(st, 3);
        if (!type || !name || !tbl || skip_table(tbl) || skip_table(name))
            continue;
        total += fmix(h_str(h_str(h_str(h_str(3, type), name), tbl), s));
        if (strcmp(type, "table") == 0) {
            char **v = realloc(tables, sizeof *v * (size_t)(ntables + 1));
            if (!v)
                abort();
            tables = v;
            tables[ntables++] = strdup(name);
        }
    }
    if (rc != SQLITE_DONE) {
        set_err(err, errlen, "sqlite: reading sqlite_schema: %s", sqlite3_errmsg(db));
        result = -1;
    }
    sqlite3_finalize(st);
    for (int i = 0; i < ntables; i++) {
        uint64_t th;
        if (result == 0 && hash_sqlite_table(db, tables[i], &th, err, errlen) < 0)
            result = -1;
        else if (result == 0)
            total += th;
        free(tables[i]);
    }
    free(tables);
    sqlite3_close(db);
    if (result == 0)
        *out = fmix(total);
    return result;
}

typedef struct check_msgs {
    int n;
    char first[400];
} check_msgs;

static int check_cb(void *arg, const char *msg)
{
    check_msgs *m = arg;
    if (m->n++ == 0)
        snprintf(m->first, sizeof m->first, "%s", msg);
    return 0;
}

int crash_check_folio(const char *path, char *err, size_t errlen)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    folio_db *db;
    int rc = folio_open(&db, path, &o);
    if (rc < 0) {
        set_err(err, errlen, "folio_open(read-only): %s: %s", crash_rc_name(rc),
                folio_open_errmsg());
        return -1;
    }
    folio_txn *txn;
    if ((rc = folio_begin(&txn, db, FOLIO_TXN_READ)) < 0) {
        set_err(err, errlen, "folio_begin(READ): %s: %s", crash_rc_name(rc), folio_errmsg(db));
        folio_close(db);
        return -1;
    }
    check_msgs m = {0, ""};
    rc = folio_check(txn, check_cb, &m, 10);
    int result = 0;
    if (rc != FOLIO_OK || m.n) {
        set_err(err, errlen, "folio_check: %s, %d problem(s), first: %s (%s)", crash_rc_name(rc),
                m.n, m.n ? m.first : "-", folio_errmsg(db));
        result = -1;
    }
    folio_rollback(txn);
    folio_close(db);
    return result;
}

int crash_check_sqlite(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = sqlite_open_ro(path, err, errlen);
    if (!db)
        return -1;
    sqlite3_stmt *st = NULL;
    int result = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
        set_err(err, errlen, "sqlite integrity_check: %s", sqlite3_errmsg(db));
    } else if (sqlite3_step(st) != SQLITE_ROW) {
        set_err(err, errlen, "sqlite integrity_check: %s", sqlite3_errmsg(db));
    } else {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if (r && strcmp(r, "ok") == 0)
            result = 0;
        else
            set_err(err, errlen, "sqlite integrity_check: %s", r ? r : "(null)");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return result;
}

int crash_verify(const char *path, uint64_t *out_hash, char *err, size_t errlen)
{
    uint64_t hf = 0, hs = 0;
    if (crash_check_folio(path, err, errlen) < 0)
        return -1;
    if (crash_hash_folio(path, &hf, err, errlen) < 0)
        return -1;
    if (crash_check_sqlite(path, err, errlen) < 0)
        return -1;
    if (crash_hash_sqlite(path, &hs, err, errlen) < 0)
        return -1;
    if (hf != hs) {
        set_err(err, errlen,
                "folio and libsqlite3 read different content (%016" PRIx64 " vs %016" PRIx64 ")",
                hf, hs);
        return -1;
    }
    if (out_hash)
        *out_hash = hf;
    return 0;
}

int crash_write_after(const char *path, uint64_t want, char *err, size_t errlen)
{
    folio_db *db;
    int rc = folio_open(&db, path, NULL);
    if (rc < 0) {
        set_err(err, errlen, "write-after: folio_open: %s: %s", crash_rc_name(rc),
                folio_open_errmsg());
        return -1;
    }
    folio_txn *txn = NULL;
    folio_table *t;
    const char *what = "folio_begin";
    if ((rc = folio_begin(&txn, db, FOLIO_TXN_WRITE)) < 0)
        goto fail;
    what = "folio_exec";
    if ((rc = folio_exec(txn, "CREATE TABLE IF NOT EXISTS zz_marker(x)")) < 0)
        goto fail;
    what = "folio_table_open";
    if ((rc = folio_table_open(&t, txn, "zz_marker")) < 0)
        goto fail;
    folio_value v = {FOLIO_INTEGER, {.i = 42}};
    what = "folio_insert";
    if ((rc = folio_insert(NULL, t, &v, 1)) < 0)
        goto fail;
    what = "folio_commit";
    rc = folio_commit(txn);
    txn = NULL;
    if (rc < 0)
        goto fail;
    what = "folio_close";
    rc = folio_close(db);
    db = NULL;
    if (rc < 0)
        goto fail;
    uint64_t h;
    char sub[700];
    if (crash_verify(path, &h, sub, sizeof sub) < 0) {
        set_err(err, errlen, "after writing to the recovered file: %s", sub);
        return -1;
    }
    if (h != want) {
        set_err(err, errlen, "writing to the recovered file changed its content");
        return -1;
    }
    return 0;
fail:
    set_err(err, errlen, "write-after: %s: %s: %s", what, crash_rc_name(rc),
            db ? folio_errmsg(db) : "");
    if (txn)
        folio_rollback(txn);
    if (db)
        folio_close(db);
    return -1;
}

const char *crash_rc_name(int rc)
{
    static _Thread_local char buf[32];
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
        snprintf(buf, sizeof buf, "rc=%d", rc);
        return buf;
    }
}

int crash_has_msg(const folio_db *db)
{
    const char *m = folio_errmsg(db);
    return m && m[0] && strcmp(m, "not an error") != 0;
}

void crash_fail(crash_failures *fl, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "FAIL: %s\n", buf);
    if (fl->n++ == 0)
        snprintf(fl->first, sizeof fl->first, "%s", buf);
    snprintf(fl->last, sizeof fl->last, "%s", buf);
}
