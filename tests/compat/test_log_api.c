/*
 * The commit log's housekeeping through the C API: folio_log_list,
 * folio_log_stats, folio_log_prune, folio_log_ship and the log's figures in
 * folio_metrics. (tests/cli/test_cli_log.c runs the same through the tool,
 * end to end; tests/crash/test_log_prune_crash.c crashes prune.)
 *
 * - list_stops: a callback's non-zero value stops the listing and is
 *   returned; entries come in version order.
 * - stats_and_metrics: folio_log_stats agrees with the listing and the
 *   files; the metrics count this handle's records and say when its last
 *   checkpoint ended; the Prometheus text has the log's figures.
 * - prune_busy_and_misuse: a second prune while one runs is FOLIO_BUSY;
 *   bad limits are FOLIO_MISUSE; both limits keep the older.
 * - prune_refuses_a_damaged_log: nothing is removed.
 * - ship_completes_a_prefix: a copy cut short is completed from where it
 *   ends; a copy that is no prefix is copied again whole; the copies are
 *   byte for byte the log; restores from them equal libsqlite3's reads.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* F_OFD_SETLK */
#endif

#include "compat.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <folio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct fixture {
    char *dir, *path, *log;
    folio_db *db;
    sqlite3 *sq; /* libsqlite3 reading the same file */
    uint64_t rng;
    uint64_t versions[128];
    char *images[128]; /* what libsqlite3 read at each version */
    int n;
} fixture;

static char *image_of(sqlite3 *sq)
{
    char *s = compat_query_text(sq, "SELECT group_concat(id || ':' || hex(v), ',') FROM (SELECT "
                                    "* FROM t ORDER BY id)");
    return s ? s : strdup("");
}

static char *image_file(const char *path)
{
    sqlite3 *sq = compat_sqlite_open(path);
    char *s = image_of(sq);
    sqlite3_close(sq);
    return s;
}

/* One commit of 1..3 random rows; what libsqlite3 reads then is recorded. */
static void commit_rows(fixture *f)
{
    folio_txn *tx;
    folio_table *t;
    cr_assert_eq(folio_begin(&tx, f->db, FOLIO_TXN_WRITE), 0);
    cr_assert_eq(folio_table_open(&t, tx, "t"), 0);
    int rows = 1 + (int)compat_below(&f->rng, 3);
    for (int i = 0; i < rows; i++) {
        uint8_t blob[300];
        for (size_t k = 0; k < sizeof blob; k++)
            blob[k] = (uint8_t)compat_rand(&f->rng);
        folio_value v[2] = {{.type = FOLIO_NULL}, {.type = FOLIO_BLOB, .u.s = {blob, sizeof blob}}};
        int64_t rowid;
        cr_assert_eq(folio_insert(&rowid, t, v, 2), 0, "%s", folio_errmsg(f->db));
    }
    cr_assert_eq(folio_commit(tx), 0, "%s", folio_errmsg(f->db));
    cr_assert_lt(f->n, 128);
    cr_assert_eq(folio_version(f->db, &f->versions[f->n]), 0);
    f->images[f->n] = image_of(f->sq);
    f->n++;
}

static void fixture_open(fixture *f, int commits, uint64_t seed)
{
    memset(f, 0, sizeof *f);
    setenv("FOLIO_LOG_SEGMENT_BYTES", "4096", 1);
    f->rng = compat_seed(seed) | 1;
    f->dir = compat_tmpdir();
    f->path = compat_path(f->dir, "a.db");
    f->log = compat_suffix(f->path, "-log");
    cr_assert_eq(folio_open(&f->db, f->path, NULL), 0);
    folio_txn *tx;
    cr_assert_eq(folio_begin(&tx, f->db, FOLIO_TXN_WRITE), 0);
    cr_assert_eq(folio_exec(tx, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)"), 0);
    cr_assert_eq(folio_commit(tx), 0);
    cr_assert_eq(folio_log_enable(f->db, FOLIO_LOG_ZSTD), 0, "%s", folio_errmsg(f->db));
    f->sq = compat_sqlite_open(f->path);
    for (int i = 0; i < commits; i++)
        commit_rows(f);
}

static void fixture_close(fixture *f)
{
    sqlite3_close(f->sq);
    if (f->db)
        cr_assert_eq(folio_close(f->db), 0);
    compat_rmtree(f->dir);
    for (int i = 0; i < f->n; i++)
        free(f->images[i]);
    free(f->dir);
    free(f->path);
    free(f->log);
}

/* The bytes of the files of `dir` and how many there are (prune's lock
 * file, which holds nothing, aside). */
static uint64_t dir_bytes(const char *dir, int *out_n)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s: %s", dir, strerror(errno));
    uint64_t total = 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "prune-lock") == 0)
            continue;
        char *p = compat_path(dir, e->d_name);
        total += (uint64_t)compat_file_size(p);
        free(p);
        n++;
    }
    closedir(d);
    if (out_n)
        *out_n = n;
    return total;
}

typedef struct collect {
    folio_log_entry e[512];
    char files[512][64];
    int n, stop_at, stop_rc;
} collect;

static int collect_cb(void *arg, const folio_log_entry *e)
{
    collect *c = arg;
    cr_assert_lt(c->n, 512);
    c->e[c->n] = *e;
    const char *b = strrchr(e->file, '/');
    snprintf(c->files[c->n], sizeof c->files[0], "%s", b ? b + 1 : e->file);
    c->e[c->n].file = NULL; /* valid only during the call */
    c->n++;
    return c->stop_at && c->n == c->stop_at ? c->stop_rc : 0;
}

/* Restore `source` to version `v` and compare with what libsqlite3 read. */
static void restore_equals(fixture *f, const char *source, int i)
{
    char name[64];
    snprintf(name, sizeof name, "r-%d-%llu.db", rand(), (unsigned long long)f->versions[i]);
    char *dest = compat_path(f->dir, name);
    uint64_t got = 0;
    int rc = folio_restore(source, dest, f->versions[i], -1, &got);
    cr_assert_eq(rc, 0, "restore of version %llu: %s", (unsigned long long)f->versions[i],
                 folio_open_errmsg());
    cr_assert_eq(got, f->versions[i]);
    char *ok = compat_integrity(dest);
    cr_assert_str_eq(ok, "ok");
    char *img = image_file(dest);
    cr_assert_str_eq(img, f->images[i], "version %llu (%d of %d)",
                     (unsigned long long)f->versions[i], i, f->n);
    free(ok);
    free(img);
    unlink(dest);
    free(dest);
}

Test(log_api, list_stops)
{
    fixture f;
    fixture_open(&f, 6, 0x11);
    collect c = {.n = 0};
    cr_assert_eq(folio_log_list(f.path, collect_cb, &c), 0, "%s", folio_open_errmsg());
    cr_assert_geq(c.n, 7);
    cr_assert_eq(c.e[0].kind, FOLIO_LOG_BASE);
    for (int i = 1; i < c.n; i++)
        cr_assert_geq(c.e[i].version, c.e[i - 1].version);
    cr_assert_eq(c.e[c.n - 1].version, f.versions[f.n - 1]);
    /* The log directory itself is a source too. */
    collect d = {.n = 0};
    cr_assert_eq(folio_log_list(f.log, collect_cb, &d), 0);
    cr_assert_eq(d.n, c.n);
    collect s = {.n = 0, .stop_at = 3, .stop_rc = 7};
    cr_assert_eq(folio_log_list(f.path, collect_cb, &s), 7);
    cr_assert_eq(s.n, 3);
    cr_assert_eq(folio_log_list(NULL, collect_cb, &s), FOLIO_MISUSE);
    fixture_close(&f);
}

Test(log_api, stats_and_metrics)
{
    fixture f;
    fixture_open(&f, 0, 0x22);
    folio_metrics_data m0 = FOLIO_METRICS_INIT;
    cr_assert_eq(folio_metrics(f.db, &m0), 0);
    for (int i = 0; i < 12; i++)
        commit_rows(&f);
    folio_metrics_data m = FOLIO_METRICS_INIT;
    cr_assert_eq(folio_metrics(f.db, &m), 0);
    cr_assert_eq(m.log_records - m0.log_records, 12, "records counted: %llu",
                 (unsigned long long)(m.log_records - m0.log_records));
    cr_assert_gt(m.log_raw_bytes, m.log_stored_bytes);
    cr_assert_gt(m.log_stored_bytes, 0);
    int nfiles;
    cr_assert_eq(m.log_bytes, dir_bytes(f.log, &nfiles));

    folio_log_stats_data st;
    cr_assert_eq(folio_log_stats(f.db, &st), 0);
    cr_assert(st.enabled && st.present);
    cr_assert_eq(st.compression, FOLIO_LOG_ZSTD);
    cr_assert_eq(st.disk_bytes, m.log_bytes);
    cr_assert_eq(st.segments + st.bases + 1, (uint32_t)nfiles, "files: manifest, segments, bases");
    cr_assert_gt(st.segments, 3, "small segments: many of them");
    cr_assert_eq(st.newest_version, f.versions[f.n - 1]);
    cr_assert_eq(st.oldest_base, m.log_oldest_version);
    collect c = {.n = 0};
    cr_assert_eq(folio_log_list(f.path, collect_cb, &c), 0);
    uint64_t commits = 0, raw = 0, stored = 0;
    for (int i = 0; i < c.n; i++)
        if (c.e[i].kind == FOLIO_LOG_COMMIT) {
            commits++;
            raw += c.e[i].raw_bytes;
            stored += c.e[i].stored_bytes;
        }
    cr_assert_eq(st.commits, commits);
    cr_assert_eq(st.raw_bytes, raw);
    cr_assert_eq(st.stored_bytes, stored);
    cr_assert_eq(st.oldest_version, c.e[1].version);

    /* The last checkpoint's time. */
    cr_assert_eq(m.checkpoint_last_unix_us, m0.checkpoint_last_unix_us);
    struct timespec a, b;
    clock_gettime(CLOCK_REALTIME, &a);
    int log_frames, done;
    cr_assert_eq(folio_checkpoint(f.db, FOLIO_CHECKPOINT_PASSIVE, &log_frames, &done), 0);
    clock_gettime(CLOCK_REALTIME, &b);
    cr_assert_eq(folio_metrics(f.db, &m), 0);
    uint64_t lo = (uint64_t)a.tv_sec * 1000000 + (uint64_t)a.tv_nsec / 1000;
    uint64_t hi = (uint64_t)b.tv_sec * 1000000 + (uint64_t)b.tv_nsec / 1000;
    cr_assert(m.checkpoint_last_unix_us >= lo && m.checkpoint_last_unix_us <= hi,
              "checkpoint time %llu not in [%llu, %llu]",
              (unsigned long long)m.checkpoint_last_unix_us, (unsigned long long)lo,
              (unsigned long long)hi);
    char buf[16384];
    int n = folio_metrics_prometheus(f.db, buf, sizeof buf);
    cr_assert(n > 0 && n < (int)sizeof buf);
    char want[128];
    snprintf(want, sizeof want, "\nfolio_log_bytes %llu\n", (unsigned long long)m.log_bytes);
    cr_assert_not_null(strstr(buf, want), "%s", buf);
    cr_assert_not_null(strstr(buf, "\nfolio_log_records_total "));
    cr_assert_not_null(strstr(buf, "\nfolio_checkpoint_last_time_microseconds "));

    /* Off: the files stay, the figures say so. */
    cr_assert_eq(folio_log_disable(f.db), 0);
    cr_assert_eq(folio_log_stats(f.db, &st), 0);
    cr_assert(!st.enabled && st.present);
    fixture_close(&f);

    /* A database without a log. */
    char *dir = compat_tmpdir(), *p = compat_path(dir, "b.db");
    folio_db *db;
    cr_assert_eq(folio_open(&db, p, NULL), 0);
    cr_assert_eq(folio_log_stats(db, &st), 0);
    cr_assert(!st.enabled && !st.present && st.disk_bytes == 0);
    cr_assert_eq(folio_metrics(db, &m), 0);
    cr_assert_eq(m.log_bytes, 0);
    cr_assert_eq(m.log_records, 0);
    cr_assert_eq(folio_log_prune(db, 3, 0), FOLIO_NOTFOUND_ERR);
    cr_assert_eq(folio_close(db), 0);
    compat_rmtree(dir);
    free(dir);
    free(p);
}

Test(log_api, prune_busy_and_misuse)
{
    fixture f;
    fixture_open(&f, 20, 0x33);
    cr_assert_eq(folio_log_prune(f.db, 0, 0), FOLIO_MISUSE);
    cr_assert_eq(folio_log_prune(f.db, 3, -1), FOLIO_MISUSE);
    /* Another prune holds the lock. */
    char *lock = compat_path(f.log, "prune-lock");
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    cr_assert(fd >= 0);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    cr_assert_eq(fcntl(fd, F_OFD_SETLK, &fl), 0, "%s", strerror(errno));
    int before_n;
    uint64_t before = dir_bytes(f.log, &before_n);
    cr_assert_eq(folio_log_prune(f.db, 3, 0), FOLIO_BUSY);
    cr_assert_not_null(strstr(folio_errmsg(f.db), "another prune"), "%s", folio_errmsg(f.db));
    cr_assert_eq(dir_bytes(f.log, NULL), before);
    close(fd);
    /* Both limits: the older holds. Every commit is younger than an hour,
     * so nothing goes. */
    cr_assert_eq(folio_log_prune(f.db, 3, 3600), 0, "%s", folio_errmsg(f.db));
    int after_n;
    cr_assert_eq(dir_bytes(f.log, &after_n), before);
    cr_assert_eq(after_n, before_n);
    /* Limits that keep everything remove nothing either. */
    cr_assert_eq(folio_log_prune(f.db, 1000, 0), 0);
    cr_assert_eq(dir_bytes(f.log, NULL), before);
    /* Versions alone: the last 3 stay restorable. */
    cr_assert_eq(folio_log_prune(f.db, 3, 0), 0, "%s", folio_errmsg(f.db));
    cr_assert_lt(dir_bytes(f.log, NULL), before);
    for (int i = f.n - 3; i < f.n; i++)
        restore_equals(&f, f.path, i);
    free(lock);
    fixture_close(&f);
}

Test(log_api, prune_refuses_a_damaged_log)
{
    fixture f;
    fixture_open(&f, 20, 0x44);
    collect c = {.n = 0};
    cr_assert_eq(folio_log_list(f.path, collect_cb, &c), 0);
    /* A commit in the fourth entry's segment: well before the end. */
    int k = 4;
    while (c.e[k].kind != FOLIO_LOG_COMMIT)
        k++;
    char *seg = compat_path(f.log, c.files[k]);
    size_t len;
    uint8_t *p = compat_read_file(seg, &len);
    p[c.e[k].offset + 48 + 5] ^= 0x40;
    compat_write_file(seg, p, len);
    free(p);
    int before_n;
    uint64_t before = dir_bytes(f.log, &before_n);
    cr_assert_eq(folio_log_prune(f.db, 2, 0), FOLIO_CORRUPT);
    const char *msg = folio_errmsg(f.db);
    cr_assert_not_null(strstr(msg, "nothing was pruned"), "%s", msg);
    cr_assert_not_null(strstr(msg, c.files[k]), "%s", msg);
    int after_n;
    cr_assert_eq(dir_bytes(f.log, &after_n), before);
    cr_assert_eq(after_n, before_n);
    free(seg);
    fixture_close(&f);
}

static void assert_same_file(const char *a, const char *b)
{
    size_t na, nb;
    uint8_t *pa = compat_read_file(a, &na), *pb = compat_read_file(b, &nb);
    cr_assert(na == nb && memcmp(pa, pb, na) == 0, "%s and %s differ", a, b);
    free(pa);
    free(pb);
}

Test(log_api, ship_completes_a_prefix)
{
    fixture f;
    fixture_open(&f, 8, 0x55);
    char *arch = compat_path(f.dir, "arch");
    folio_log_ship_data st;
    cr_assert_eq(folio_log_ship(f.path, arch, &st), 0, "%s", folio_open_errmsg());
    int n;
    dir_bytes(f.log, &n);
    cr_assert_eq(st.files_copied, (uint32_t)n);
    cr_assert_eq(st.bytes_copied, dir_bytes(f.log, NULL));
    /* The last segment's copy cut short (an interrupted ship): completed
     * from where it ends. */
    collect c = {.n = 0};
    cr_assert_eq(folio_log_list(f.path, collect_cb, &c), 0);
    const char *last = c.files[c.n - 1];
    char *src = compat_path(f.log, last), *dst = compat_path(arch, last);
    int64_t size = compat_file_size(dst);
    cr_assert_eq(truncate(dst, size - 100), 0);
    cr_assert_eq(folio_log_ship(f.path, arch, &st), 0, "%s", folio_open_errmsg());
    cr_assert_eq(st.files_resumed, 1);
    cr_assert_eq(st.files_copied, 0);
    cr_assert_eq(st.bytes_copied, 100);
    assert_same_file(src, dst);
    /* A copy that is no prefix of its source (a byte changed): whole. */
    size_t len;
    uint8_t *p = compat_read_file(dst, &len);
    p[len / 2] ^= 1;
    compat_write_file(dst, p, len);
    free(p);
    cr_assert_eq(folio_log_ship(f.path, arch, &st), 0);
    cr_assert_eq(st.files_copied, 1);
    cr_assert_eq(st.files_resumed, 0);
    assert_same_file(src, dst);
    /* Restores from the copy equal libsqlite3's reads. */
    for (int i = 0; i < f.n; i += 3)
        restore_equals(&f, arch, i);
    /* No temporary left in the copy. */
    DIR *d = opendir(arch);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        cr_assert(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
                      e->d_name[0] != '.',
                  "left behind: %s", e->d_name);
    closedir(d);
    free(src);
    free(dst);
    free(arch);
    fixture_close(&f);
}

/* The codec of every COMMIT record in the segments of `log`, counted by
 * codec byte (0 raw, 1 zstd, 2 lz4), read from the files as they are. */
static void count_codecs(const char *log, int counts[3])
{
    counts[0] = counts[1] = counts[2] = 0;
    DIR *d = opendir(log);
    cr_assert(d != NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".seg") != 0)
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", log, e->d_name);
        FILE *fp = fopen(path, "rb");
        cr_assert(fp != NULL);
        fseek(fp, 0, SEEK_END);
        long size = ftell(fp);
        uint8_t *b = malloc((size_t)size + 1);
        cr_assert(b != NULL);
        fseek(fp, 0, SEEK_SET);
        cr_assert_eq(fread(b, 1, (size_t)size, fp), (size_t)size);
        fclose(fp);
        for (long o = 64; o + 48 <= size;) {
            uint32_t stored = (uint32_t)b[o] | (uint32_t)b[o + 1] << 8 | (uint32_t)b[o + 2] << 16 |
                              (uint32_t)b[o + 3] << 24;
            if (b[o + 4] == 1) { /* COMMIT */
                cr_assert_lt(b[o + 5], 3);
                counts[b[o + 5]]++;
            }
            o += 48 + (long)stored;
        }
        free(b);
    }
    closedir(d);
}

/* folio_options.log_compression: a handle's records use its compression
 * whatever the log was enabled with; FOLIO_LOG_AS_ENABLED (the default)
 * follows the log; records of both kinds restore. */
Test(log_api, a_handle_chooses_the_compression_of_its_records)
{
    fixture f;
    fixture_open(&f, 2, 0x10c0);
    int c0[3];
    count_codecs(f.log, c0);
    cr_assert_eq(c0[2], 0, "lz4 records before any handle asked for them");
    cr_assert_gt(c0[1], 0, "no zstd record from the default handle");
    cr_assert_eq(folio_close(f.db), 0);
    folio_options o = FOLIO_OPTIONS_INIT;
    cr_assert_eq(o.log_compression, FOLIO_LOG_AS_ENABLED);
    o.log_compression = 7;
    cr_assert_eq(folio_open(&f.db, f.path, &o), FOLIO_MISUSE);
    o.log_compression = FOLIO_LOG_LZ4;
    cr_assert_eq(folio_open(&f.db, f.path, &o), 0);
    for (int i = 0; i < 4; i++)
        commit_rows(&f);
    int c1[3];
    count_codecs(f.log, c1);
    cr_assert_eq(c1[2], 4, "%d lz4 records where 4 commits asked for lz4", c1[2]);
    cr_assert_eq(c1[1], c0[1]);
    cr_assert_eq(folio_close(f.db), 0);
    /* The environment says it too. */
    o = (folio_options)FOLIO_OPTIONS_INIT;
    setenv("FOLIO_LOG_COMPRESSION", "lz4", 1);
    cr_assert_eq(folio_options_from_env(&o), 0);
    cr_assert_eq(o.log_compression, FOLIO_LOG_LZ4);
    setenv("FOLIO_LOG_COMPRESSION", "gzip", 1);
    cr_assert_eq(folio_options_from_env(&o), FOLIO_MISUSE);
    unsetenv("FOLIO_LOG_COMPRESSION");
    /* Back to the log's own (zstd). */
    cr_assert_eq(folio_open(&f.db, f.path, NULL), 0);
    commit_rows(&f);
    int c2[3];
    count_codecs(f.log, c2);
    cr_assert_eq(c2[1], c1[1] + 1);
    cr_assert_eq(c2[2], c1[2]);
    for (int i = 0; i < f.n; i++)
        restore_equals(&f, f.path, i);
    fixture_close(&f);
}
