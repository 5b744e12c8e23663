/*
 * test_feed_oom.c - out of memory at every allocation of a change feed.
 *
 * A source with its commit log on (rows written before the log began, so
 * the feed starts with a snapshot; then DDL, overflow rows, updates,
 * deletes, WITHOUT ROWID rows, a generated column) is fed once without a
 * fault for the reference: every change as text. Then for n = 1, 2, ...
 * the n-th allocation from folio_feed_open on fails
 * (os_fail_alloc_after(n, 0)), and the test checks:
 *
 *   - folio_feed_open and folio_feed_next return FOLIO_NOMEM with a
 *     message, or succeed; never another code, never a crash;
 *   - the changes given before the failure are the reference's first
 *     ones; a feed that absorbed the failure gives the whole reference;
 *   - after FOLIO_NOMEM, folio_feed_next keeps returning it;
 *   - folio_feed_close leaves no temporary file (TMPDIR points into the
 *     test's directory) and nothing leaks (LeakSanitizer is asked after
 *     every run when the test runs under AddressSanitizer).
 *
 * The loop stops at the first n the feed does not reach. In make test,
 * past the 96th allocation only every third is failed; FOLIO_SOAK=1 fails
 * every one. FOLIO_OOM_MAX bounds n (default 20000).
 */
#include "crash_support.h"
#include "os/os.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define FEED_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FEED_LSAN 1
#endif
#endif
#ifdef FEED_LSAN
#include <sanitizer/lsan_interface.h>
#endif

TestSuite(crash_feed_oom, .timeout = 900);

static folio_value v_int(int64_t i)
{
    folio_value v;
    memset(&v, 0, sizeof v);
    v.type = FOLIO_INTEGER;
    v.u.i = i;
    return v;
}

static folio_value v_text(const char *s, size_t n)
{
    folio_value v;
    memset(&v, 0, sizeof v);
    v.type = FOLIO_TEXT;
    v.u.s.p = s;
    v.u.s.n = n;
    return v;
}

static void exec_ok(folio_db *db, const char *sql)
{
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(t, sql), FOLIO_OK, "%s: %s", sql, folio_errmsg(db));
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
}

static char big[9000];

static void make_source(const char *path)
{
    memset(big, 'q', sizeof big);
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, NULL), FOLIO_OK, "%s", folio_open_errmsg());
    exec_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b REAL, g TEXT GENERATED ALWAYS "
                "AS (a || 'g') VIRTUAL)");
    exec_ok(db, "CREATE INDEX t_a ON t(a)");
    folio_txn *t;
    folio_table *tb;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    for (int i = 1; i <= 20; i++) {
        folio_value v[3] = {v_int(i), v_text(big, (size_t)(i * 400)), v_int(i)};
        cr_assert_eq(folio_insert(NULL, tb, v, 3), FOLIO_OK, "%s", folio_errmsg(db));
    }
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    cr_assert_eq(folio_log_enable(db, FOLIO_LOG_ZSTD), FOLIO_OK, "%s", folio_errmsg(db));
    exec_ok(db, "CREATE TABLE w(k TEXT PRIMARY KEY, n INT) WITHOUT ROWID");
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    folio_value u[3] = {v_int(3), v_text(big, 5000), v_int(-1)};
    cr_assert_eq(folio_update(tb, 3, u, 3), FOLIO_OK);
    cr_assert_eq(folio_delete(tb, 4), FOLIO_OK);
    folio_table *tw;
    cr_assert_eq(folio_table_open(&tw, t, "w"), FOLIO_OK);
    for (int i = 0; i < 5; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%d", i);
        folio_value v[2] = {v_text(k, strlen(k)), v_int(i)};
        cr_assert_eq(folio_insert(NULL, tw, v, 2), FOLIO_OK);
    }
    cr_assert_eq(folio_exec(t, "ALTER TABLE t ADD COLUMN z INT DEFAULT 9"), FOLIO_OK);
    folio_value u2[4] = {v_int(5), v_text("five", 4), v_int(5), v_int(0)};
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    cr_assert_eq(folio_update(tb, 5, u2, 4), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    exec_ok(db, "ALTER TABLE t DROP COLUMN b");
    cr_assert_eq(folio_close(db), FOLIO_OK);
}

/* A change as text (a hash of long values). */
static void change_text(const folio_change *c, char *out, size_t cap)
{
    int k = snprintf(out, cap, "v%" PRIu64 " op%d %s %" PRId64 " %s:", c->version, c->op,
                     c->table ? c->table : "-", c->rowid, c->sql ? c->sql : "");
    const folio_value *rows[2] = {c->values, c->old};
    for (int r = 0; r < 2; r++) {
        for (int i = 0; rows[r] && i < c->ncols && (size_t)k < cap; i++) {
            const folio_value *v = &rows[r][i];
            uint64_t h = 1469598103934665603ull;
            if (v->type == FOLIO_TEXT || v->type == FOLIO_BLOB)
                for (size_t j = 0; j < v->u.s.n; j++)
                    h = (h ^ ((const uint8_t *)v->u.s.p)[j]) * 1099511628211ull;
            else
                h ^= (uint64_t)v->u.i;
            k += snprintf(out + k, cap - (size_t)k, " %d:%016" PRIx64, (int)v->type, h);
        }
    }
}

typedef struct ref {
    char (*v)[1024];
    int n;
} ref;

static int count_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, "folio-feed-", 11) == 0;
    closedir(d);
    return n;
}

/* One feed with the n-th allocation failing (n = 0: none). Returns whether
 * the fault was reached. */
static int run_feed(folio_db *db, long n, ref *r, const char *tmp, char *err, size_t errlen)
{
    err[0] = 0;
    uint64_t before = os_alloc_count();
    os_fail_alloc_after(n, 0);
    folio_feed *f = NULL;
    int rc = folio_feed_open(&f, db, 0);
    int got = 0;
    char line[1024];
    folio_change c;
    while (rc >= 0 && (rc = folio_feed_next(f, &c)) == FOLIO_ROW) {
        change_text(&c, line, sizeof line);
        if (n == 0) {
            cr_assert(r->n < 4096);
            snprintf(r->v[r->n++], sizeof r->v[0], "%s", line);
        } else if (got >= r->n || strcmp(line, r->v[got]) != 0) {
            snprintf(err, errlen, "change %d is [%s], expected [%s]", got, line,
                     got < r->n ? r->v[got] : "(none)");
            break;
        }
        got++;
    }
    os_fail_alloc_after(0, 0);
    int hit = n > 0 && os_alloc_count() - before >= (uint64_t)n;
    if (!err[0]) {
        if (rc < 0 && rc != FOLIO_NOMEM)
            snprintf(err, errlen, "returned %s: %s", crash_rc_name(rc), folio_errmsg(db));
        else if (rc == FOLIO_NOMEM && !crash_has_msg(db))
            snprintf(err, errlen, "FOLIO_NOMEM without a message");
        else if (rc == FOLIO_NOMEM && f && folio_feed_next(f, &c) != FOLIO_NOMEM)
            snprintf(err, errlen, "the feed went on after FOLIO_NOMEM");
        else if (rc == FOLIO_DONE && n > 0 && got != r->n)
            snprintf(err, errlen, "%d changes, expected %d", got, r->n);
    }
    folio_feed_close(f);
    if (!err[0] && count_tmp(tmp) != 0)
        snprintf(err, errlen, "a temporary directory stayed behind");
    return hit;
}

Test(crash_feed_oom, every_allocation_of_a_feed)
{
    char *dir = crash_tmpdir("feedoom");
    char path[4096];
    snprintf(path, sizeof path, "%s/src.db", dir);
    make_source(path);
    setenv("TMPDIR", dir, 1);
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, NULL), FOLIO_OK, "%s", folio_open_errmsg());
    ref r;
    r.v = malloc(4096 * sizeof *r.v);
    r.n = 0;
    char err[1400];
    run_feed(db, 0, &r, dir, err, sizeof err);
    cr_assert_eq(err[0], 0, "without a fault: %s", err);
    cr_assert(r.n > 30, "only %d changes", r.n);
    long max = crash_env_long("FOLIO_OOM_MAX", 20000), n;
    int soak = crash_soak(), fails = 0, leaked = 0;
    for (n = 1; n <= max; n += (!soak && n >= 96) ? 3 : 1) {
        int hit = run_feed(db, n, &r, dir, err, sizeof err);
        if (err[0]) {
            fails++;
            fprintf(stderr, "feed, allocation %ld: %s\n", n, err);
            if (fails > 10)
                break;
        }
#ifdef FEED_LSAN
        if (!leaked && __lsan_do_recoverable_leak_check() != 0) {
            fprintf(stderr, "feed, allocation %ld: memory leaked (reported above)\n", n);
            leaked = 1;
        }
#endif
        if (!hit)
            break;
    }
    fprintf(stderr, "feed: %d changes; allocations failed up to %ld\n", r.n, n);
    cr_assert(n <= max, "the feed reached allocation %ld (FOLIO_OOM_MAX)", max);
    cr_assert_eq(fails, 0, "%d failures (listed above)", fails);
    cr_assert_eq(leaked, 0, "memory leaked");
    folio_close(db);
    unsetenv("TMPDIR");
    free(r.v);
    crash_rmtree(dir);
    free(dir);
}
