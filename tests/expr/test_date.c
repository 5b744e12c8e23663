/*
 * SQLite 3.40's date and time functions (src/expr/expr_date.c) against
 * libsqlite3 in the same process.
 *
 * Every call is made twice: through ex_date_functions and through
 * libsqlite3 as "SELECT fn(?1, ...)" with the same arguments bound with the
 * same storage classes. The results must have the same type and value:
 * INTEGER equal, REAL bit for bit, TEXT byte for byte, NULL for NULL; an
 * error on one side must be an error on the other. 'now' is one instant for
 * both: libsqlite3 opens its database through a VFS whose clock returns the
 * instant the test chose, and this file's ex_ctx gives folio the same.
 * localtime and utc read the process's time zone through localtime_r on
 * both sides; cases run under several zones (TZ set, then tzset()).
 *
 * Tests: the function table; fixed tables of time values, modifiers and
 * formats crossed with each other; random time values, modifier chains and
 * formats (seed=N printed, FOLIO_SEED=N replays it, FOLIO_SEED=random picks
 * one, FOLIO_SOAK=1 runs ten times as many); 'now', localtime and utc
 * refused exactly where libsqlite3 refuses them in a CHECK constraint; no
 * scratch memory; numbers written with hundreds of digits; and checks that
 * the comparison itself can fail (the oracle's clock and zone do move it).
 *
 * ex_scratch, ex_error, ex_nomem and ex_now_ms belong to the evaluator;
 * this file implements them for its own ex_ctx, with a fixed 'now'.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compat.h"
#include "expr/expr_fn.h"

/* ---- The test's ex_ctx ------------------------------------------------------ */

#define SCRATCH_BYTES (1u << 20)

struct ex_ctx {
    uint8_t mem[SCRATCH_BYTES];
    size_t used;
    int64_t now_ms; /* 'now', milliseconds since 1970 */
    int refuse_now; /* as in a CHECK constraint */
    int no_memory;  /* ex_scratch fails */
    char msg[256];
};

uint8_t *ex_scratch(ex_ctx *cx, size_t n)
{
    if (cx->no_memory || n > SCRATCH_BYTES - cx->used)
        return NULL;
    uint8_t *p = cx->mem + cx->used;
    cx->used += n;
    return p;
}

int ex_error(ex_ctx *cx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cx->msg, sizeof cx->msg, fmt, ap);
    va_end(ap);
    return FOLIO_ERROR;
}

int ex_nomem(ex_ctx *cx)
{
    snprintf(cx->msg, sizeof cx->msg, "out of memory");
    return FOLIO_NOMEM;
}

int ex_now_ms(ex_ctx *cx, int64_t *out)
{
    if (cx->refuse_now)
        return ex_error(cx, "non-deterministic use of a date function in a CHECK constraint");
    *out = cx->now_ms;
    return 0;
}

/* ---- libsqlite3 with a clock the test sets ------------------------------------ */

#define UNIX_EPOCH_JD_MS INT64_C(210866760000000)
#define MAX_ARGS         48
#define N_FUNCS          6
#define MAX_REPORTS      25

static const char *const fn_names[N_FUNCS] = {"date",      "time",      "datetime",
                                              "julianday", "unixepoch", "strftime"};
enum { F_DATE, F_TIME, F_DATETIME, F_JULIANDAY, F_UNIXEPOCH, F_STRFTIME };

static sqlite3_vfs g_clock_vfs;
static sqlite3_int64 g_now_jd_ms; /* what the VFS's clock says */

static int clock_now64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    *out = g_now_jd_ms;
    return SQLITE_OK;
}

static int clock_now(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    *out = g_now_jd_ms / 86400000.0;
    return SQLITE_OK;
}

/* An argument, bound to libsqlite3 and given to folio alike. */
typedef struct arg {
    int type; /* EX_* */
    const char *p;
    size_t n;
    int64_t i;
    double r;
} arg;

typedef struct harness {
    sqlite3 *db;
    sqlite3_stmt *select[N_FUNCS][MAX_ARGS + 1];
    sqlite3_stmt *check[N_FUNCS][MAX_ARGS + 1];
    ex_fn fn[N_FUNCS];
    ex_ctx *cx;
    uint64_t cases, mismatches;
    uint64_t by_type[EX_BLOB + 1]; /* libsqlite3's result types */
    const char *zone;
} harness;

static harness H;

/* 'now' for both sides (wrapping as folio's sum does at the extremes). */
static void set_now_jd(int64_t jd_ms)
{
    g_now_jd_ms = jd_ms;
    H.cx->now_ms = (int64_t)((uint64_t)jd_ms - (uint64_t)UNIX_EPOCH_JD_MS);
}

static void set_now(int64_t unix_ms)
{
    set_now_jd(unix_ms + UNIX_EPOCH_JD_MS);
}

static void set_zone(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
    H.zone = tz;
}

static void setup(void)
{
    memset(&H, 0, sizeof H);
    H.cx = calloc(1, sizeof *H.cx);
    cr_assert(H.cx);
    sqlite3_vfs *base = sqlite3_vfs_find(NULL);
    cr_assert(base && base->iVersion >= 2);
    g_clock_vfs = *base;
    g_clock_vfs.zName = "folio_test_clock";
    g_clock_vfs.xCurrentTime = clock_now;
    g_clock_vfs.xCurrentTimeInt64 = clock_now64;
    cr_assert(sqlite3_vfs_register(&g_clock_vfs, 0) == SQLITE_OK);
    cr_assert(sqlite3_open_v2(":memory:", &H.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                              "folio_test_clock") == SQLITE_OK);
    for (int f = 0; f < N_FUNCS; f++) {
        for (const ex_fn_def *d = ex_date_functions; d->name; d++)
            if (strcmp(d->name, fn_names[f]) == 0)
                H.fn[f] = d->fn;
        cr_assert(H.fn[f], "%s is not in ex_date_functions", fn_names[f]);
    }
    set_zone("UTC0");
    set_now(INT64_C(1686832496789)); /* 2023-06-15 12:34:56.789 */
}

static void teardown(void)
{
    for (int f = 0; f < N_FUNCS; f++)
        for (int a = 0; a <= MAX_ARGS; a++) {
            sqlite3_finalize(H.select[f][a]);
            sqlite3_finalize(H.check[f][a]);
        }
    sqlite3_close(H.db);
    sqlite3_vfs_unregister(&g_clock_vfs);
    free(H.cx);
}

static size_t arg_list(char *buf, size_t cap, const char *prefix, int argc)
{
    size_t o = 0;
    for (int a = 0; a < argc; a++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%s%d", a ? ", " : "", prefix, a + 1);
    return o;
}

static sqlite3_stmt *select_stmt(int f, int argc)
{
    if (!H.select[f][argc]) {
        char sql[1024], args[512] = "";
        arg_list(args, sizeof args, "?", argc);
        snprintf(sql, sizeof sql, "SELECT %s(%s)", fn_names[f], args);
        cr_assert(sqlite3_prepare_v2(H.db, sql, -1, &H.select[f][argc], 0) == SQLITE_OK, "%s",
                  sqlite3_errmsg(H.db));
    }
    return H.select[f][argc];
}

/* An INSERT into a table whose CHECK constraint calls fn with the row. */
static sqlite3_stmt *check_stmt(int f, int argc)
{
    if (!H.check[f][argc]) {
        char sql[2048], cols[512] = "", call[512] = "", params[512] = "";
        arg_list(cols, sizeof cols, "a", argc);
        arg_list(call, sizeof call, "a", argc);
        arg_list(params, sizeof params, "?", argc);
        snprintf(sql, sizeof sql,
                 "CREATE TABLE c_%s_%d(x%s%s, CHECK(coalesce(%s(%s), 1) IS NOT 'never'))",
                 fn_names[f], argc, argc ? ", " : "", cols, fn_names[f], call);
        cr_assert(sqlite3_exec(H.db, sql, 0, 0, 0) == SQLITE_OK, "%s", sqlite3_errmsg(H.db));
        snprintf(sql, sizeof sql, "INSERT INTO c_%s_%d VALUES(0%s%s)", fn_names[f], argc,
                 argc ? ", " : "", params);
        cr_assert(sqlite3_prepare_v2(H.db, sql, -1, &H.check[f][argc], 0) == SQLITE_OK, "%s",
                  sqlite3_errmsg(H.db));
    }
    return H.check[f][argc];
}

static void bind_args(sqlite3_stmt *st, int argc, const arg *args)
{
    for (int a = 0; a < argc; a++) {
        const arg *v = &args[a];
        switch (v->type) {
        case EX_INTEGER:
            sqlite3_bind_int64(st, a + 1, v->i);
            break;
        case EX_REAL:
            sqlite3_bind_double(st, a + 1, v->r);
            break;
        case EX_TEXT:
            sqlite3_bind_text(st, a + 1, v->p, (int)v->n, SQLITE_STATIC);
            break;
        case EX_BLOB:
            sqlite3_bind_blob(st, a + 1, v->n ? v->p : "", (int)v->n, SQLITE_STATIC);
            break;
        default:
            sqlite3_bind_null(st, a + 1);
            break;
        }
    }
}

static void to_ex_values(int argc, const arg *args, ex_value *argv)
{
    for (int a = 0; a < argc; a++) {
        memset(&argv[a], 0, sizeof argv[a]);
        argv[a].type = args[a].type;
        if (args[a].type == EX_INTEGER) {
            argv[a].u.i = args[a].i;
        } else if (args[a].type == EX_REAL) {
            argv[a].u.r = args[a].r;
        } else if (args[a].type == EX_TEXT || args[a].type == EX_BLOB) {
            argv[a].u.s.p = (const uint8_t *)args[a].p;
            argv[a].u.s.n = args[a].n;
        }
    }
}

/* A result as both sides see it. */
typedef struct result {
    int error;
    int type;
    int64_t i;
    double r;
    char text[4096];
    size_t n;
} result;

static void sqlite_call(int f, int argc, const arg *args, result *out)
{
    sqlite3_stmt *st = select_stmt(f, argc);
    bind_args(st, argc, args);
    memset(out, 0, sizeof *out);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        out->error = 1;
        snprintf(out->text, sizeof out->text, "%s", sqlite3_errmsg(H.db));
        out->n = strlen(out->text);
    } else {
        out->type = sqlite3_column_type(st, 0);
        out->type = out->type == SQLITE_INTEGER ? EX_INTEGER
                    : out->type == SQLITE_FLOAT ? EX_REAL
                    : out->type == SQLITE_TEXT  ? EX_TEXT
                    : out->type == SQLITE_BLOB  ? EX_BLOB
                                                : EX_NULL;
        out->i = sqlite3_column_int64(st, 0);
        out->r = sqlite3_column_double(st, 0);
        if (out->type == EX_TEXT) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            out->n = (size_t)sqlite3_column_bytes(st, 0);
            cr_assert(out->n < sizeof out->text);
            memcpy(out->text, t, out->n);
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static int folio_call(int f, int argc, const arg *args, result *out)
{
    ex_value argv[MAX_ARGS], v;
    to_ex_values(argc, args, argv);
    H.cx->used = 0;
    H.cx->msg[0] = 0;
    memset(out, 0, sizeof *out);
    memset(&v, 0, sizeof v);
    int rc = H.fn[f](H.cx, argc, argv, &v);
    if (rc != 0) {
        out->error = 1;
        out->n = (size_t)snprintf(out->text, sizeof out->text, "%s", H.cx->msg);
        return rc;
    }
    out->type = v.type;
    out->i = v.type == EX_INTEGER ? v.u.i : 0;
    out->r = v.type == EX_REAL ? v.u.r : 0.0;
    if (v.type == EX_TEXT) {
        cr_assert(v.u.s.n < sizeof out->text);
        memcpy(out->text, v.u.s.p, (size_t)v.u.s.n);
        out->n = (size_t)v.u.s.n;
    }
    return 0;
}

static int same_result(const result *a, const result *b)
{
    if (a->error || b->error)
        return a->error && b->error;
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case EX_INTEGER:
        return a->i == b->i;
    case EX_REAL:
        return memcmp(&a->r, &b->r, sizeof a->r) == 0;
    case EX_TEXT:
        return a->n == b->n && memcmp(a->text, b->text, a->n) == 0;
    default:
        return 1;
    }
}

/* The call as SQL-like text for a report. */
static void describe_call(char *buf, size_t cap, int f, int argc, const arg *args)
{
    size_t o = (size_t)snprintf(buf, cap, "%s(", fn_names[f]);
    for (int a = 0; a < argc && o < cap; a++) {
        const arg *v = &args[a];
        o += (size_t)snprintf(buf + o, cap - o, "%s", a ? ", " : "");
        if (v->type == EX_INTEGER) {
            o += (size_t)snprintf(buf + o, cap - o, "%" PRId64, v->i);
        } else if (v->type == EX_REAL) {
            o += (size_t)snprintf(buf + o, cap - o, "%.17g /*REAL*/", v->r);
        } else if (v->type == EX_NULL) {
            o += (size_t)snprintf(buf + o, cap - o, "NULL");
        } else {
            o += (size_t)snprintf(buf + o, cap - o, "%s'", v->type == EX_BLOB ? "/*BLOB*/" : "");
            for (size_t k = 0; k < v->n && o + 8 < cap; k++) {
                unsigned char c = (unsigned char)v->p[k];
                if (c == '\'')
                    o += (size_t)snprintf(buf + o, cap - o, "''");
                else if (c < 32 || c > 126)
                    o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
                else
                    buf[o++] = (char)c;
            }
            o += (size_t)snprintf(buf + o, cap - o, "'");
        }
    }
    if (o < cap)
        snprintf(buf + o, cap - o, ")");
}

static void describe_result(char *buf, size_t cap, const result *r)
{
    if (r->error)
        snprintf(buf, cap, "error \"%.*s\"", (int)r->n, r->text);
    else if (r->type == EX_INTEGER)
        snprintf(buf, cap, "INTEGER %" PRId64, r->i);
    else if (r->type == EX_REAL)
        snprintf(buf, cap, "REAL %.17g", r->r);
    else if (r->type == EX_TEXT)
        snprintf(buf, cap, "TEXT '%.*s'", (int)r->n, r->text);
    else
        snprintf(buf, cap, "NULL");
}

static void report(const char *what, int f, int argc, const arg *args, const result *want,
                   const result *got)
{
    H.mismatches++;
    if (H.mismatches > MAX_REPORTS)
        return;
    char call[2048], w[4200], g[4200];
    describe_call(call, sizeof call, f, argc, args);
    describe_result(w, sizeof w, want);
    describe_result(g, sizeof g, got);
    fprintf(stderr,
            "%s: %s\n  libsqlite3: %s\n  folio:      %s\n  TZ=%s now=%" PRId64 " seed=%" PRIu64
            "\n",
            what, call, w, g, H.zone, H.cx->now_ms, compat_current_seed());
}

/* Evaluate fn(args) on both sides and count a difference. */
static void compare(int f, int argc, const arg *args)
{
    result want, got;
    sqlite_call(f, argc, args, &want);
    folio_call(f, argc, args, &got);
    H.cases++;
    if (!want.error)
        H.by_type[want.type]++;
    if (!same_result(&want, &got))
        report("differs", f, argc, args, &want, &got);
}

static void expect_no_mismatch(const char *test)
{
    uint64_t typed =
        H.by_type[EX_NULL] + H.by_type[EX_INTEGER] + H.by_type[EX_REAL] + H.by_type[EX_TEXT];
    fprintf(stderr, "%s: %" PRIu64 " calls compared", test, H.cases);
    if (typed)
        fprintf(stderr,
                " (libsqlite3 gave NULL %" PRIu64 ", INTEGER %" PRIu64 ", REAL %" PRIu64
                ", TEXT %" PRIu64 ")",
                H.by_type[EX_NULL], H.by_type[EX_INTEGER], H.by_type[EX_REAL], H.by_type[EX_TEXT]);
    fprintf(stderr, ", %" PRIu64 " differ\n", H.mismatches);
    cr_assert_eq(H.mismatches, 0, "%s: %" PRIu64 " of %" PRIu64 " calls differ (first ones above)",
                 test, H.mismatches, H.cases);
}

/* ---- Building arguments ---------------------------------------------------------- */

static arg text_arg(const char *s)
{
    arg a = {EX_TEXT, s, strlen(s), 0, 0.0};
    return a;
}

static arg blob_arg(const char *s, size_t n)
{
    arg a = {EX_BLOB, s, n, 0, 0.0};
    return a;
}

static arg int_arg(int64_t i)
{
    arg a = {EX_INTEGER, NULL, 0, i, 0.0};
    return a;
}

static arg real_arg(double r)
{
    arg a = {EX_REAL, NULL, 0, 0, r};
    return a;
}

static arg null_arg(void)
{
    arg a = {EX_NULL, NULL, 0, 0, 0.0};
    return a;
}

/* ---- Fixed tables ------------------------------------------------------------------- */

/* clang-format off */
static const char *const fixed_values[] = {
    "2000-01-01", "2000-01-01 12:34", "2000-01-01 12:34:56", "2000-01-01 12:34:56.789",
    "2000-01-01T12:34:56.789", "2000-01-01T12:34:56.7891234", "2000-01-01 24:00",
    "2000-01-01 24:00:00", "2000-01-01 23:59:59.9999", "2000-01-01 23:59:59.9995",
    "2000-01-01 00:00:00.0005", "2000-01-01 00:00:00.0004999", "2000-01-01 12:00:01.0005",
    "2000-02-29", "2001-02-29", "2000-02-30", "2000-02-31", "1900-02-29", "2000-04-31",
    "2000-13-01", "2000-00-01", "2000-01-00", "2000-01-32", "0000-01-01", "0000-01-01 00:00",
    "0000-03-01", "-0001-01-01", "-0001-12-31 23:59", "-4713-11-24", "-4713-11-24 12:00",
    "-4713-11-24 11:59:59.999", "-4713-11-24 11:59:58.300", "-4713-01-01 12:00", "-4714-11-24 12:00", "9999-12-31",
    "9999-12-31 23:59:59.999", "9999-12-31 23:59:59.9995", "9999-12-31 24:00", "10000-01-01",
    "1970-01-01", "1969-12-31 23:59:59", "1970-01-01 00:00:00.001", "2038-01-18 23:59:59",
    "2038-01-19 03:14:07", "2038-01-19 03:14:08", "1582-10-15", "1582-10-04", "1600-02-29",
    "2100-02-29", "2000-03-26 01:30", "2000-10-29 01:30", "2000-04-02 02:30", "2000-01-01 12:00Z",
    "2000-01-01 12:00z", "2000-01-01 12:00 Z ", "2000-01-01 12:00+05:30",
    "2000-01-01 12:00 -05:30", "2000-01-01 12:00+14:59", "2000-01-01 12:00+15:00",
    "2000-01-01 12:00-00:00", "2000-01-01 12:00+00:00", "2000-01-01 00:30+01:00",
    "2000-01-01 23:30-01:00", "9999-12-31 23:30-01:00", "0000-01-01 00:30+01:00",
    "2000-01-01 12:00+5:30", "2000-01-01 12:00+05:3", "2000-01-01 12:00+0530",
    "2000-01-01 12:00 junk", "2000-01-01 12:00Zjunk", "2000-01-01 ", "2000-01-01  ", " 2000-01-01",
    "2000-01-01T", "2000-01-01TT12:00", "2000-01-01 T 12:00", "2000-01-01t12:00", "2000-01-01 12",
    "2000-01-01 12:", "2000-01-01 12:3", "2000-01-01 12:34:5", "2000-01-01 12:34:56.",
    "2000-01-01 12:34:56.x", "2000-01-01 12:60", "2000-01-01 25:00", "2000-1-01", "20000-01-01",
    "2000/01/01", "2000-01-011", "12:34", "12:34:56", "12:34:56.789", "24:00", "00:00",
    "23:59:59.999", "12:34Z", "12:34+01:00", "12:34:56 -14:00", "00:30+01:00", " 12:34", "12:34 ",
    "1:34", "12-34", "now", "NOW", "Now", " now", "now ", "nowx", "no", "2451545", "2451545.0",
    "2451545.5", " 2451545.25 ", "2451545e0", "24515.45e2", "+2451545", "-1", "0", "0.0", "-0",
    "-0.0", "5373484.4999999", "5373484.5", "5373484.49999999999", "1e-8", "1e-10", "1e10", "1e",
    "1e+", "1.", ".5", ".", "", " ", "x", "0x10", "1e400", "-1e400", "253402300799",
    "253402300800", "-210866760000", "-210866760001", "1686832496", "1686832496.789",
    "\t2451545\n", "2451545 x",
};
/* clang-format on */

/* clang-format off */
static const char *const fixed_modifiers[] = {
    "+1 day", "-1 day", "1 day", "+1 days", "+1 DAY", "+1  days", "+1days", "+1 day ", "+1 dayss",
    " +1 day", "+1.5 days", "-1.5 days", "+0.0000001 days", "+1e1 days", "+1e-1 days", "+.5 days",
    "+5. days", "-0 days", "+0 days", "+1 hour", "+25 hours", "-1.25 hours", "+1 minute",
    "+90 minutes", "+0.1 minutes", "+1 second", "+86400 seconds", "+0.0005 seconds",
    "+0.0004 seconds", "-0.0005 seconds", "+1.23456789 seconds", "+1 month", "-1 month",
    "+12 months", "-12 months", "+13 months", "-13 months", "+1.5 months", "-1.5 months",
    "+0.5 months", "+176545 months", "+176546 months", "-176545 months", "-176546 months",
    "+1 year", "-1 year", "+1.5 years", "-0.25 years", "+14712 years", "+14713 years",
    "-14713 years", "-14712 years", "+5373484 days", "+5373485 days", "-5373484 days",
    "+464269060799 seconds", "+4.6427e14 seconds", "+4.6426e14 seconds", "+7.7378e12 minutes",
    "+7.7379e12 minutes", "+1.2896e11 hours", "+1.2897e11 hours", "+1 fortnight", "+1 yr",
    "+1 mon", "+1 secs", "+1 monthss", "+1 x", "+1", "1", "+", "-", "++1 day", "+-1 day", "+1:00",
    "+01:00", "-01:00", "01:00", "+01:30:15", "+01:30:15.5", "-01:30:15.5", "+24:00",
    "+23:59:59.999", "-23:59:59.9999", "+25:00", "+1:30", "+01:3", "+01:30:", "+01:30 +05:00",
    "+01:30Z", "+00:30 -01:00", "-00:30 +01:00", "+01:30 junk", "+12:00:00.0005", "start of day",
    "start of month", "start of year", "start of week", "START OF MONTH", "start of  month",
    "start of month ", "start of", "start of day x", "weekday 0", "weekday 1", "weekday 6",
    "weekday 7", "weekday -1", "weekday 1.0", "weekday 1.5", "weekday  3", "weekday 3 ",
    "weekday 1e0", "weekday", "weekday ", "WEEKDAY 2", "weekday x", "weekday 0x1", "unixepoch",
    "UNIXEPOCH", "unixepochs", "auto", "AUTO", "julianday", "JulianDay", "localtime", "LOCALTIME",
    "utc", "UTC", "subsec", "subsecond", "+0001-01-01", "-0001-01-01 12:00", "+2000-01-01",
    "ceiling", "floor", "", "  ", "junk", "now", "1e-5 days", "+1e+2 hours",
};
/* clang-format on */

/* clang-format off */
static const char *const fixed_formats[] = {
    "%d", "%f", "%H", "%j", "%J", "%m", "%M", "%s", "%S", "%w", "%W", "%Y", "%%",
    "%Y-%m-%d %H:%M:%f", "", "plain", "%", "a%", "%x", "%e", "%F", "%T", "%u", "%G", "%V", "%U",
    "%k", "%I", "%p", "%a", "%R", "%l", "%P", "a%%b", "%%%d", "100%%", "%J %s %j %W %w",
    "%Y%Y%Y%Y", "%d\x01%m", "%j %W %w %Y",
};
/* clang-format on */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The values of fixed_values as text, then numbers, NULL and blobs. */
static size_t fixed_value_args(arg *out, size_t cap)
{
    static const char nul_text[] = "2000-01-01\0garbage";
    static const char blob[] = "2000-01-01 12:00";
    size_t n = 0;
    for (size_t k = 0; k < COUNT(fixed_values) && n < cap; k++)
        out[n++] = text_arg(fixed_values[k]);
    const int64_t ints[] = {0,         1,          -1,           2451545,       5373484,
                            5373485,   1686832496, 253402300799, -210866760000, -210866760001,
                            INT64_MAX, INT64_MIN};
    for (size_t k = 0; k < COUNT(ints) && n < cap; k++)
        out[n++] = int_arg(ints[k]);
    const double reals[] = {
        0.0,      -0.0,      2451545.5,     5373484.499999, 5373484.5,      nextafter(5373484.5, 0),
        1e-9,     1.157e-8,  1.5e9,         -1.5e9,         1686832496.789, 1e300,
        INFINITY, -INFINITY, 253402300799.9};
    for (size_t k = 0; k < COUNT(reals) && n < cap; k++)
        out[n++] = real_arg(reals[k]);
    out[n++] = null_arg();
    out[n++] = blob_arg(blob, sizeof blob - 1);
    out[n++] = blob_arg("", 0);
    arg t = {EX_TEXT, nul_text, sizeof nul_text - 1, 0, 0.0};
    out[n++] = t;
    return n;
}

static size_t fixed_modifier_args(arg *out, size_t cap)
{
    static const char blob[] = "+1 day";
    size_t n = 0;
    for (size_t k = 0; k < COUNT(fixed_modifiers) && n < cap; k++)
        out[n++] = text_arg(fixed_modifiers[k]);
    out[n++] = int_arg(1);
    out[n++] = real_arg(1.5);
    out[n++] = null_arg();
    out[n++] = blob_arg(blob, sizeof blob - 1);
    return n;
}

/* ---- Random time values, modifiers and formats -------------------------------------- */

static uint64_t g_rng;

static uint64_t below(uint64_t n)
{
    return compat_below(&g_rng, n);
}

static int chance(unsigned percent)
{
    return below(100) < percent;
}

static double unit_real(void)
{
    return (double)(compat_rand(&g_rng) >> 11) * (1.0 / 9007199254740992.0);
}

/* A text under construction in a fixed buffer. */
typedef struct sbuf {
    char b[600];
    size_t n;
} sbuf;

static void put(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(sbuf *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(s->b + s->n, sizeof s->b - s->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        s->n += (size_t)k < sizeof s->b - s->n ? (size_t)k : sizeof s->b - s->n - 1;
}

static void put_digits(sbuf *s, int count)
{
    for (int k = 0; k < count; k++)
        put(s, "%c", (char)('0' + below(10)));
}

/* Case changed at random, as SQLite ignores it in keywords. */
static void put_word(sbuf *s, const char *w)
{
    int mode = (int)below(4);
    for (const char *c = w; *c; c++) {
        int ch = (unsigned char)*c;
        if (mode == 1 || (mode == 2 && chance(50)))
            ch = ch >= 'a' && ch <= 'z' ? ch - 32 : ch;
        put(s, "%c", (char)ch);
    }
}

/* Now and then one byte changed, added or removed: near misses. */
static void perturb(sbuf *s, unsigned percent)
{
    if (s->n == 0 || !chance(percent))
        return;
    static const char pool[] = "0123456789-+:. TZzx\t";
    size_t at = below(s->n);
    switch (below(3)) {
    case 0:
        s->b[at] = pool[below(sizeof pool - 1)];
        break;
    case 1:
        if (s->n + 1 < sizeof s->b) {
            memmove(s->b + at + 1, s->b + at, s->n - at);
            s->b[at] = pool[below(sizeof pool - 1)];
            s->n++;
        }
        break;
    default:
        memmove(s->b + at, s->b + at + 1, s->n - at - 1);
        s->n--;
        break;
    }
    s->b[s->n] = 0;
}

static void put_zone(sbuf *s)
{
    if (chance(30))
        put(s, "%s", &" \t  "[below(4)]);
    if (chance(25)) {
        put(s, "%c", chance(50) ? 'Z' : 'z');
    } else {
        put(s, "%c%02d:%02d", chance(50) ? '+' : '-', (int)below(16), (int)below(60));
    }
    if (chance(10))
        put(s, " ");
}

static void put_time(sbuf *s)
{
    int h = chance(95) ? (int)below(24) : (int)(24 + below(3));
    if (chance(3))
        put(s, "%d", h % 10);
    else
        put(s, "%02d", h);
    put(s, ":%02d", chance(97) ? (int)below(60) : 60);
    if (chance(70)) {
        put(s, ":%02d", chance(97) ? (int)below(60) : 60);
        if (chance(50)) {
            put(s, ".");
            int digits = 1 + (int)below(12);
            if (chance(15)) {
                /* Near a half millisecond, where rounding shows. */
                put_digits(s, 3);
                put(s, "%s", chance(50) ? "5" : "4999999");
            } else if (chance(10)) {
                put(s, "999999999");
            } else {
                put_digits(s, digits);
            }
        }
    }
    if (chance(25))
        put_zone(s);
}

static int random_year(void)
{
    static const int special[] = {0,    1,    4,    100,  400,  1582, 1600, 1899, 1900, 1969,
                                  1970, 1971, 2000, 2024, 2037, 2038, 2039, 2100, 9998, 9999};
    return chance(50) ? special[below(COUNT(special))] : (int)below(10000);
}

static void put_date(sbuf *s)
{
    if (chance(6))
        put(s, "-");
    int y = chance(6) ? (int)below(4714) : random_year();
    if (chance(3))
        put(s, "%d", y);
    else
        put(s, "%04d", y);
    int m = chance(95) ? 1 + (int)below(12) : (int)below(14);
    static const int ends[] = {28, 29, 30, 31};
    int d = chance(50) ? 1 + (int)below(28) : chance(85) ? ends[below(4)] : (int)below(33);
    put(s, "-%02d-%02d", m, d);
    if (chance(70)) {
        static const char *const seps[] = {" ", "T", "  ", "T ", " T", "TT", "\t", "t"};
        put(s, "%s", seps[chance(80) ? below(2) : below(COUNT(seps))]);
        put_time(s);
    }
    if (chance(8))
        put(s, "%s", chance(80) ? " " : "  ");
}

/* A number as SQLite might be given it: a Julian day, a Unix time, big,
 * small, with exponents and spaces; at times malformed. */
static void put_number(sbuf *s)
{
    if (chance(10))
        put(s, " ");
    switch (below(7)) {
    case 0:
        put(s, "%.*f", (int)below(11), unit_real() * 5373485.0);
        break;
    case 1:
        put(s, "%" PRId64, (int64_t)(unit_real() * 4.64e11) - INT64_C(210866760000));
        break;
    case 2:
        put(s, "%.*f", (int)below(4), (unit_real() - 0.3) * 4.64e11);
        break;
    case 3:
        put(s, "%.*e", (int)below(17), unit_real() * 5373485.0);
        break;
    case 4: {
        static const char *const edges[] = {"5373484.5",
                                            "5373484.4999999",
                                            "5373484.49999999999",
                                            "0",
                                            "-0",
                                            "-0.0",
                                            "+0",
                                            "1e-8",
                                            "-1e-8",
                                            "253402300799",
                                            "253402300799.5",
                                            "253402300800",
                                            "-210866760000",
                                            "-210866760000.5",
                                            "1e",
                                            "1e+",
                                            ".",
                                            "+",
                                            "-",
                                            "1.2.3",
                                            "1 2",
                                            "0x1A",
                                            "1e308",
                                            "1e309",
                                            "-1e309",
                                            ".5",
                                            "5.",
                                            "+.5e1",
                                            "00000012"};
        put(s, "%s", edges[below(COUNT(edges))]);
        break;
    }
    case 5:
        put(s, "%.17g", (unit_real() - 0.5) * pow(10.0, (double)below(30)));
        break;
    default:
        put(s, "%d", (int)below(100000));
        break;
    }
    if (chance(10))
        put(s, "%s", chance(80) ? " " : "\t\n");
}

/* One random time value, its text (if any) kept in s. */
static arg random_value(sbuf *s)
{
    s->n = 0;
    s->b[0] = 0;
    uint64_t r = below(100);
    if (r < 38) {
        put_date(s);
        perturb(s, 8);
    } else if (r < 46) {
        put_time(s);
        perturb(s, 8);
    } else if (r < 49) {
        static const char *const nows[] = {"now", "NOW", "Now", "nOw", " now", "now ", "now!"};
        put(s, "%s", nows[chance(70) ? below(4) : below(COUNT(nows))]);
    } else if (r < 62) {
        put_number(s);
    } else if (r < 74) {
        switch (below(4)) {
        case 0:
            return int_arg((int64_t)below(5373486));
        case 1:
            return int_arg((int64_t)(unit_real() * 4.64e11) - INT64_C(210866760000));
        case 2: {
            static const int64_t edges[] = {0,
                                            -1,
                                            5373484,
                                            5373485,
                                            253402300799,
                                            253402300800,
                                            -210866760000,
                                            -210866760001,
                                            INT64_MAX,
                                            INT64_MIN};
            return int_arg(edges[below(COUNT(edges))]);
        }
        default:
            return int_arg((int64_t)compat_rand(&g_rng));
        }
    } else if (r < 86) {
        switch (below(4)) {
        case 0:
            return real_arg(unit_real() * 5373485.0);
        case 1:
            return real_arg((unit_real() - 0.45) * 4.64e11);
        case 2: {
            const double edges[] = {5373484.5,
                                    nextafter(5373484.5, 0),
                                    0.0,
                                    -0.0,
                                    nextafter(0, 1),
                                    1e-8,
                                    -1e-300,
                                    253402300799.0,
                                    nextafter(253402300799.0, 1e300),
                                    -210866760000.0,
                                    nextafter(-210866760000.0, -1e300),
                                    INFINITY,
                                    -INFINITY};
            return real_arg(edges[below(COUNT(edges))]);
        }
        default: {
            uint64_t bits = compat_rand(&g_rng);
            double d;
            memcpy(&d, &bits, sizeof d);
            return real_arg(isfinite(d) ? d : 1.0);
        }
        }
    } else if (r < 89) {
        return null_arg();
    } else if (r < 93) {
        put_date(s);
        return blob_arg(s->b, s->n);
    } else if (r < 96) {
        put_date(s);
        size_t cut = below(s->n + 1);
        if (cut < s->n)
            s->b[cut] = 0; /* a NUL inside the text */
        return (arg){EX_TEXT, s->b, s->n, 0, 0.0};
    } else {
        static const char pool[] = "0123456789-:. TZnowdayx+";
        size_t len = below(14);
        for (size_t k = 0; k < len; k++)
            put(s, "%c", pool[below(sizeof pool - 1)]);
    }
    return (arg){EX_TEXT, s->b, s->n, 0, 0.0};
}

/* The largest magnitudes SQLite takes for each unit, and their names. */
static const struct {
    const char *name;
    double limit;
} rand_units[] = {
    {"second", 4.6427e14}, {"minute", 7.7379e12}, {"hour", 1.2897e11},
    {"day", 5373485.0},    {"month", 176546.0},   {"year", 14713.0},
};

static void put_amount(sbuf *s, double limit)
{
    int sign = (int)below(3);
    if (sign)
        put(s, "%c", sign == 1 ? '+' : '-');
    switch (below(8)) {
    case 0:
        put(s, "%d", (int)below(100));
        break;
    case 1:
        put(s, "%d", (int)below(1000000));
        break;
    case 2:
        put(s, "%.*f", 1 + (int)below(12), unit_real() * 1000.0);
        break;
    case 3:
        /* Near the unit's limit, on either side. */
        put(s, "%.*f", (int)below(6), limit * (0.999 + unit_real() * 0.002));
        break;
    case 4:
        put(s, "%.*e", (int)below(8), unit_real() * limit * (chance(50) ? 1.0 : 1e-6));
        break;
    case 5: {
        static const char *const forms[] = {".5",    "5.",   "0005",   "1e0", "1E1",   "0.0",
                                            "00.25", "1e-3", "2.5e-1", "1e",  "1.2.3", "1_0"};
        put(s, "%s", forms[below(COUNT(forms))]);
        break;
    }
    case 6:
        put(s, "%.17g", unit_real() * 10.0);
        break;
    default:
        put(s, "%.*f", (int)below(4), unit_real() * limit);
        break;
    }
}

static void put_units(sbuf *s)
{
    size_t u = below(COUNT(rand_units));
    put_amount(s, rand_units[u].limit);
    static const char *const gaps[] = {" ", "  ", "", "\t", " \t "};
    put(s, "%s", gaps[chance(85) ? 0 : below(COUNT(gaps))]);
    if (chance(4)) {
        static const char *const junk[] = {"dayz", "sec", "mins",    "hr", "fortnight",
                                           "yrs",  "x",   "monthss", "d"};
        put(s, "%s", junk[below(COUNT(junk))]);
    } else {
        put_word(s, rand_units[u].name);
        if (chance(50))
            put(s, "%c", chance(90) ? 's' : 'S');
    }
    if (chance(3))
        put(s, " ");
}

static void put_offset(sbuf *s)
{
    int sign = (int)below(5);
    if (sign < 4)
        put(s, "%c", sign < 2 ? '+' : '-');
    int h = chance(90) ? (int)below(25) : (int)below(100);
    if (chance(4))
        put(s, "%d", h % 10);
    else
        put(s, "%02d", h);
    put(s, ":%02d", chance(95) ? (int)below(60) : (int)below(100));
    if (chance(50)) {
        put(s, ":%02d", (int)below(60));
        if (chance(50)) {
            put(s, ".");
            put_digits(s, 1 + (int)below(7));
        }
    }
    if (chance(10))
        put_zone(s);
    if (chance(3))
        put(s, " x");
}

static arg random_modifier(sbuf *s)
{
    s->n = 0;
    s->b[0] = 0;
    uint64_t r = below(100);
    if (r < 38) {
        put_units(s);
        perturb(s, 3);
    } else if (r < 50) {
        put_offset(s);
    } else if (r < 58) {
        static const char *const what[] = {"day", "month", "year", "week", "days", ""};
        put_word(s, "start of ");
        put_word(s, what[chance(85) ? below(3) : below(COUNT(what))]);
        perturb(s, 3);
    } else if (r < 66) {
        put_word(s, "weekday ");
        static const char *const n[] = {"-1", "7", "1.0", "1.5", " 3", "3 ", "1e0", "x", "", "0x1"};
        if (chance(80))
            put(s, "%d", (int)below(7));
        else
            put(s, "%s", n[below(COUNT(n))]);
    } else if (r < 86) {
        static const char *const words[] = {"localtime", "utc",        "unixepoch", "auto",
                                            "julianday", "subsec",     "subsecond", "ceiling",
                                            "floor",     "localtime ", "utc "};
        put_word(s, words[chance(90) ? below(5) : below(COUNT(words))]);
    } else if (r < 90) {
        switch (below(3)) {
        case 0:
            return int_arg((int64_t)below(10));
        case 1:
            return real_arg(unit_real());
        default:
            return null_arg();
        }
    } else if (r < 93) {
        put_units(s);
        return blob_arg(s->b, s->n);
    } else {
        static const char pool[] = "0123456789-:. startofdayweekutc+";
        size_t len = below(12);
        for (size_t k = 0; k < len; k++)
            put(s, "%c", pool[below(sizeof pool - 1)]);
    }
    return (arg){EX_TEXT, s->b, s->n, 0, 0.0};
}

static arg random_format(sbuf *s)
{
    s->n = 0;
    s->b[0] = 0;
    uint64_t r = below(100);
    if (r < 3)
        return null_arg();
    if (r < 5)
        return int_arg((int64_t)below(100000));
    if (r < 7)
        return real_arg(unit_real() * 100.0);
    static const char known[] = "dfHjJmMsSwWY%";
    static const char unknown[] = "aeFTuGVUkIpPRlqz";
    int pieces = (int)below(7);
    for (int k = 0; k < pieces; k++) {
        uint64_t p = below(100);
        if (p < 75)
            put(s, "%%%c", known[below(sizeof known - 1)]);
        else if (p < 78)
            put(s, "%%%c", unknown[below(sizeof unknown - 1)]);
        else
            put(s, "%c", " -:T/x"[below(6)]);
    }
    if (chance(2))
        put(s, "%%");
    return r < 9 ? blob_arg(s->b, s->n) : (arg){EX_TEXT, s->b, s->n, 0, 0.0};
}

/* A random call: function f, its arguments in args (texts in bufs). */
static int random_call(int *f, arg *args, sbuf *bufs)
{
    *f = (int)below(N_FUNCS);
    int argc = 0;
    if (*f == F_STRFTIME) {
        if (chance(1))
            return 0; /* strftime() */
        args[argc] = random_format(&bufs[argc]);
        argc++;
    }
    if (chance(2))
        return argc; /* 'now' by default */
    args[argc] = random_value(&bufs[argc]);
    argc++;
    static const int weights[] = {30, 35, 20, 10, 5}; /* 0..4 modifiers */
    enum { RANDOM_MAX_ARGS = 6 };
    int r = (int)below(100), mods = 0;
    for (int acc = 0; mods < 5 && (acc += weights[mods]) <= r; mods++) {
    }
    for (int k = 0; k < mods && argc < RANDOM_MAX_ARGS; k++, argc++)
        args[argc] = random_modifier(&bufs[argc]);
    return argc;
}

/* 'now' anywhere in 1843..2096, at times in the zones' transitions. */
static void random_now(void)
{
    int64_t ms = (int64_t)((unit_real() - 0.5) * 8e12);
    if (chance(20))
        ms -= ms % 1000;
    set_now(ms);
}

static const char *const zones[] = {
    "UTC0",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/St_Johns",
    "EST5EDT,M3.2.0,M11.1.0",
    "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
    "<-0330>3:30",
    "Pacific/Kiritimati",
    "America/Sao_Paulo",
};

static uint64_t scaled(uint64_t n)
{
    const char *soak = getenv("FOLIO_SOAK");
    return soak && *soak && strcmp(soak, "0") != 0 ? n * 10 : n;
}

/* ---- Tests ---------------------------------------------------------------------------- */

Test(expr_date, function_table)
{
    static const char *const want[] = {"date",      "time",      "datetime",
                                       "julianday", "unixepoch", "strftime"};
    size_t n = 0;
    for (const ex_fn_def *d = ex_date_functions; d->name; d++, n++) {
        cr_assert(n < COUNT(want), "more functions than expected: %s", d->name);
        cr_assert_str_eq(d->name, want[n]);
        cr_assert_eq(d->min_args, 0, "%s", d->name);
        cr_assert_eq(d->max_args, -1, "%s", d->name);
        cr_assert_eq(d->flags, EX_FN_MAY_USE_NOW, "%s", d->name);
        cr_assert(d->fn != NULL);
    }
    cr_assert_eq(n, COUNT(want));
}

/* The comparison is not vacuous: libsqlite3's 'now' follows the test's
 * clock (also for a statement run again), its localtime follows TZ, and a
 * call that differs is counted. */
Test(expr_date, the_oracle_moves, .init = setup, .fini = teardown)
{
    /* The oracle is SQLite 3.40 (later versions added modifiers and
     * conversions that folio, like 3.40, refuses). */
    cr_assert_eq(sqlite3_libversion_number() / 1000, 3040, "libsqlite3 %s is not 3.40.x",
                 sqlite3_libversion());
    arg none[1];
    result r;
    set_now(0);
    sqlite_call(F_DATETIME, 0, none, &r);
    cr_assert(r.type == EX_TEXT && r.n == 19 && memcmp(r.text, "1970-01-01 00:00:00", 19) == 0,
              "libsqlite3 does not use the test's clock: %.*s", (int)r.n, r.text);
    set_now(INT64_C(86400000) * 365 + 1500);
    sqlite_call(F_DATETIME, 0, none, &r);
    cr_assert(r.n == 19 && memcmp(r.text, "1971-01-01 00:00:01", 19) == 0,
              "a statement run again kept the old time: %.*s", (int)r.n, r.text);

    arg a[2] = {text_arg("2000-07-01 12:00"), text_arg("localtime")};
    result utc, ny;
    sqlite_call(F_DATETIME, 2, a, &utc);
    set_zone("America/New_York");
    sqlite_call(F_DATETIME, 2, a, &ny);
    cr_assert(!same_result(&utc, &ny), "localtime did not follow TZ");
    cr_assert(ny.n == 19 && memcmp(ny.text, "2000-07-01 08:00:00", 19) == 0, "%.*s", (int)ny.n,
              ny.text);

    /* A deliberately wrong pairing must be reported. */
    result want, got;
    sqlite_call(F_DATETIME, 1, a, &want);
    folio_call(F_DATE, 1, a, &got);
    cr_assert(!same_result(&want, &got));
    sqlite_call(F_JULIANDAY, 1, a, &want);
    got = want;
    got.r = nextafter(got.r, 0);
    cr_assert(!same_result(&want, &got), "REALs one unit apart compare equal");
}

/* Every fixed time value alone and with every fixed modifier, through
 * every function; in a zone with daylight saving. */
Test(expr_date, fixed_values_and_modifiers, .init = setup, .fini = teardown)
{
    arg values[256], mods[256], args[3];
    size_t nv = fixed_value_args(values, COUNT(values));
    size_t nm = fixed_modifier_args(mods, COUNT(mods));
    arg all = text_arg("%d %f %H %j %J %m %M %s %S %w %W %Y %%");
    set_zone("America/New_York");
    for (int f = 0; f < N_FUNCS; f++) {
        int first = f == F_STRFTIME;
        args[0] = all;
        compare(f, first, args); /* no time value: now */
        for (size_t v = 0; v < nv; v++) {
            args[first] = values[v];
            compare(f, first + 1, args);
            for (size_t m = 0; m < nm; m++) {
                args[first + 1] = mods[m];
                compare(f, first + 2, args);
            }
        }
    }
    expect_no_mismatch("fixed_values_and_modifiers");
}

/* Pairs of fixed modifiers after a few values, shown by strftime in full. */
Test(expr_date, fixed_modifier_pairs, .init = setup, .fini = teardown)
{
    static const char *const some[] = {
        "2000-01-31 12:34:56.789", "2000-02-29",      "9999-12-31 23:59:59", "0000-01-01",
        "-4713-11-24 12:00",       "2451545.5",       "1686832496",          "now",
        "2000-03-26 02:30+01:00",  "1960-07-01 12:00"};
    arg mods[256], args[4];
    size_t nm = fixed_modifier_args(mods, COUNT(mods));
    set_zone("Europe/London");
    args[0] = text_arg("%Y-%m-%d %H:%M:%f %J %s %j %W %w");
    for (size_t v = 0; v < COUNT(some); v++) {
        args[1] = text_arg(some[v]);
        for (size_t m1 = 0; m1 < nm; m1++) {
            args[2] = mods[m1];
            for (size_t m2 = 0; m2 < nm; m2++) {
                args[3] = mods[m2];
                compare(F_STRFTIME, 4, args);
            }
        }
    }
    expect_no_mismatch("fixed_modifier_pairs");
}

Test(expr_date, fixed_formats, .init = setup, .fini = teardown)
{
    arg values[256], args[3];
    size_t nv = fixed_value_args(values, COUNT(values));
    for (size_t k = 0; k < COUNT(fixed_formats); k++) {
        args[0] = text_arg(fixed_formats[k]);
        compare(F_STRFTIME, 1, args);
        for (size_t v = 0; v < nv; v++) {
            args[1] = values[v];
            compare(F_STRFTIME, 2, args);
            args[2] = text_arg("+0.5 seconds");
            compare(F_STRFTIME, 3, args);
        }
    }
    /* Formats that are not text, and no arguments at all. */
    const arg odd[] = {int_arg(1234),     int_arg(-5),     real_arg(2.5),
                       real_arg(1e20),    real_arg(-0.0),  null_arg(),
                       blob_arg("%Y", 2), blob_arg("", 0), blob_arg("\0%Y", 3)};
    for (size_t k = 0; k < COUNT(odd); k++) {
        args[0] = odd[k];
        args[1] = text_arg("2000-01-01");
        compare(F_STRFTIME, 2, args);
        compare(F_STRFTIME, 1, args);
    }
    compare(F_STRFTIME, 0, args);
    expect_no_mismatch("fixed_formats");
}

/* Random time values, modifier chains and formats under many zones. */
Test(expr_date, random_calls, .init = setup, .fini = teardown)
{
    g_rng = compat_seed(20261215);
    uint64_t per_zone = scaled(40000);
    arg args[MAX_ARGS];
    static sbuf bufs[MAX_ARGS];
    for (size_t z = 0; z < COUNT(zones); z++) {
        set_zone(zones[z]);
        for (uint64_t k = 0; k < per_zone; k++) {
            int f;
            int argc = random_call(&f, args, bufs);
            if (chance(30))
                random_now();
            compare(f, argc, args);
        }
    }
    expect_no_mismatch("random_calls");
}

/* Where libsqlite3 refuses 'now', localtime or utc (a CHECK constraint),
 * folio's call fails with ex_now_ms's error, and only there. */
Test(expr_date, now_refused_where_sqlite_refuses_it, .init = setup, .fini = teardown)
{
    g_rng = compat_seed(20261216);
    uint64_t n = scaled(30000), refused = 0;
    arg args[MAX_ARGS];
    static sbuf bufs[MAX_ARGS];
    set_zone("America/New_York");
    H.cx->refuse_now = 1;
    for (uint64_t k = 0; k < n; k++) {
        int f;
        int argc = random_call(&f, args, bufs);
        sqlite3_stmt *st = check_stmt(f, argc);
        bind_args(st, argc, args);
        int rc = sqlite3_step(st);
        cr_assert(rc == SQLITE_DONE || rc == SQLITE_ERROR, "rc %d: %s", rc, sqlite3_errmsg(H.db));
        int sqlite_refused = rc == SQLITE_ERROR;
        if (sqlite_refused)
            cr_assert(strstr(sqlite3_errmsg(H.db), "non-deterministic use of") != NULL, "%s",
                      sqlite3_errmsg(H.db));
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        result got;
        int frc = folio_call(f, argc, args, &got);
        H.cases++;
        refused += sqlite_refused;
        if (sqlite_refused != (frc != 0) || (frc != 0 && frc != FOLIO_ERROR)) {
            result want;
            memset(&want, 0, sizeof want);
            want.error = sqlite_refused;
            want.type = EX_NULL;
            report("refusal differs", f, argc, args, &want, &got);
        }
    }
    fprintf(stderr, "now_refused: %" PRIu64 " of %" PRIu64 " calls refused\n", refused, H.cases);
    cr_assert(refused > n / 20, "too few refusals to mean anything: %" PRIu64, refused);
    expect_no_mismatch("now_refused_where_sqlite_refuses_it");
}

/* Without scratch memory a text result fails with ex_nomem's code; the
 * other results are still right. */
Test(expr_date, no_scratch_memory, .init = setup, .fini = teardown)
{
    g_rng = compat_seed(20261217);
    uint64_t n = scaled(20000), texts = 0;
    arg args[MAX_ARGS];
    static sbuf bufs[MAX_ARGS];
    H.cx->no_memory = 1;
    for (uint64_t k = 0; k < n; k++) {
        int f;
        int argc = random_call(&f, args, bufs);
        result want, got;
        sqlite_call(f, argc, args, &want);
        int rc = folio_call(f, argc, args, &got);
        H.cases++;
        if (!want.error)
            H.by_type[want.type]++;
        if (!want.error && want.type == EX_TEXT) {
            texts++;
            if (rc != FOLIO_NOMEM)
                report("no memory, yet", f, argc, args, &want, &got);
        } else if (!same_result(&want, &got)) {
            report("differs without memory", f, argc, args, &want, &got);
        }
    }
    fprintf(stderr, "no_scratch_memory: %" PRIu64 " text results refused\n", texts);
    cr_assert(texts > n / 8, "too few text results to mean anything: %" PRIu64, texts);
    expect_no_mismatch("no_scratch_memory");
}

/* Numbers written with hundreds of digits (past the length at which folio
 * shortens them before converting). */
Test(expr_date, long_numbers, .init = setup, .fini = teardown)
{
    /* The parts below add up to at most 2,304 bytes (with 899 leading,
     * 699 and 599 fraction zeros), past the 2,048 this once was. */
    enum { LONG_TEXT = 2400 };
    static char text[8][LONG_TEXT];
    g_rng = compat_seed(20261218);
    uint64_t n = scaled(300);
    for (uint64_t k = 0; k < n; k++) {
        /* [spaces][sign][zeros]digits[.digits][zeros][e exponent][spaces] */
        char *t = text[k % 8];
        size_t o = 0;
        if (chance(20))
            t[o++] = ' ';
        if (chance(30))
            t[o++] = chance(50) ? '-' : '+';
        size_t zeros = below(900);
        for (size_t z = 0; z < zeros; z++)
            t[o++] = '0';
        int idigits = (int)below(chance(50) ? 8 : 40);
        for (int d = 0; d < idigits; d++)
            t[o++] = (char)('0' + below(10));
        if (chance(80)) {
            t[o++] = '.';
            size_t fz = chance(50) ? below(700) : 0;
            for (size_t z = 0; z < fz; z++)
                t[o++] = '0';
            int fd = (int)below(60);
            for (int d = 0; d < fd; d++)
                t[o++] = (char)('0' + below(10));
            size_t tz = below(600);
            for (size_t z = 0; z < tz; z++)
                t[o++] = '0';
        }
        if (chance(40))
            o += (size_t)snprintf(t + o, LONG_TEXT - o, "e%d", (int)below(1500) - 750);
        if (chance(20))
            t[o++] = ' ';
        t[o] = 0;
        cr_assert(o < LONG_TEXT);
        arg args[3] = {text_arg(t), text_arg("unixepoch"), text_arg("+0 days")};
        for (int f = 0; f < N_FUNCS - 1; f++) {
            compare(f, 1, args);
            compare(f, 2, args);
        }
        /* As the amount of a modifier, and as a weekday. */
        static char mod[LONG_TEXT + 16];
        snprintf(mod, sizeof mod, "%s%s days", t[0] == '-' || t[0] == '+' ? "" : "+", t);
        args[0] = text_arg("2000-01-01 12:00");
        args[1] = text_arg(mod);
        compare(F_JULIANDAY, 2, args);
        snprintf(mod, sizeof mod, "weekday %s", t);
        args[1] = text_arg(mod);
        compare(F_DATE, 2, args);
    }
    expect_no_mismatch("long_numbers");
}

/* 'now' at the ends of the clock: Julian day 0 and just below it (SQLite's
 * 'now' is then no time at all), the last millisecond of 9999 and the first
 * of 10000, the largest clock value. */
Test(expr_date, now_at_the_extremes, .init = setup, .fini = teardown)
{
    const int64_t jds[] = {0,
                           -1,
                           1,
                           INT64_C(464269060799999),
                           INT64_C(464269060800000),
                           INT64_MAX,
                           INT64_MIN,
                           UNIX_EPOCH_JD_MS};
    const char *const mods[] = {"+1 day",    "-1 day", "localtime", "utc",          "start of year",
                                "unixepoch", "auto",   "julianday", "-5373484 days"};
    arg args[3];
    set_zone("America/New_York");
    for (size_t k = 0; k < COUNT(jds); k++) {
        set_now_jd(jds[k]);
        for (int f = 0; f < N_FUNCS; f++) {
            int first = f == F_STRFTIME;
            args[0] = text_arg("%Y-%m-%d %H:%M:%f %s %J");
            compare(f, first, args);
            args[first] = text_arg("now");
            compare(f, first + 1, args);
            for (size_t m = 0; m < COUNT(mods); m++) {
                args[first + 1] = text_arg(mods[m]);
                compare(f, first + 2, args);
            }
        }
    }
    expect_no_mismatch("now_at_the_extremes");
}

/*
 * Long chains of the largest modifiers, whose sum of milliseconds overflows
 * 64 bits in SQLite (which wraps around, unchecked): k amounts of about
 * 2^64/k milliseconds bring the value back near where it started.
 */
Test(expr_date, modifier_sums_that_wrap_around, .init = setup, .fini = teardown)
{
    static char amount[MAX_ARGS][64];
    const int counts[] = {20, 24, 32, 40, 47};
    const char *const tails[] = {NULL, "localtime", "start of day", "utc", "+0 days"};
    arg args[MAX_ARGS];
    set_zone("Europe/London");
    for (size_t c = 0; c < COUNT(counts); c++) {
        int k = counts[c];
        for (int variant = 0; variant < 40; variant++) {
            /* Near 2^64/k ms, give or take a few days, either sign. */
            double ms = 18446744073709551616.0 / k + (variant - 20) * 3.7e8;
            int sign = variant % 2 ? -1 : 1;
            args[0] = text_arg("2000-01-01 12:00");
            for (int a = 1; a <= k; a++) {
                snprintf(amount[a], sizeof amount[a], "%+.3f seconds", sign * ms / 1000.0);
                args[a] = text_arg(amount[a]);
            }
            for (size_t t = 0; t < COUNT(tails); t++) {
                int argc = k + 1;
                if (tails[t] && argc < MAX_ARGS)
                    args[argc++] = text_arg(tails[t]);
                compare(F_JULIANDAY, argc, args);
                compare(F_DATETIME, argc, args);
            }
        }
    }
    cr_assert(H.by_type[EX_REAL] > 0, "no chain came back within range");
    expect_no_mismatch("modifier_sums_that_wrap_around");
}

/* Every fixed time value through localtime and utc (alone, chained, and
 * after a day's shift) in every zone of the random test: offsets of either
 * sign, half and three-quarter hours, daylight saving both ways, and values
 * before Julian day 0 whose milliseconds SQLite carries with their sign. */
Test(expr_date, localtime_and_utc_in_every_zone, .init = setup, .fini = teardown)
{
    arg values[256], args[4];
    size_t nv = fixed_value_args(values, COUNT(values));
    const char *const chains[][2] = {{"localtime", NULL},     {"utc", NULL},
                                     {"localtime", "utc"},    {"utc", "localtime"},
                                     {"-1 day", "localtime"}, {"+12:00", "utc"}};
    for (size_t z = 0; z < COUNT(zones); z++) {
        set_zone(zones[z]);
        for (size_t v = 0; v < nv; v++) {
            for (size_t c = 0; c < COUNT(chains); c++) {
                for (int f = 0; f < N_FUNCS; f++) {
                    int first = f == F_STRFTIME, argc = first + 2;
                    args[0] = text_arg("%Y-%m-%d %H:%M:%f %J %s");
                    args[first] = values[v];
                    args[first + 1] = text_arg(chains[c][0]);
                    if (chains[c][1])
                        args[argc++] = text_arg(chains[c][1]);
                    compare(f, argc, args);
                }
            }
        }
    }
    expect_no_mismatch("localtime_and_utc_in_every_zone");
}

/* A copy of s with a NUL byte at position cut and junk after it, as TEXT
 * or as a BLOB (SQLite's date code reads both as C strings). */
static arg with_nul(sbuf *b, const char *s, size_t cut, const char *junk, int blob)
{
    size_t n = strlen(s), j = strlen(junk);
    cr_assert(n + j + 2 < sizeof b->b);
    memcpy(b->b, s, cut);
    b->b[cut] = 0;
    memcpy(b->b + cut + 1, s + cut, n - cut);
    memcpy(b->b + n + 1, junk, j);
    b->n = n + 1 + j;
    b->b[b->n] = 0;
    return blob ? blob_arg(b->b, b->n) : (arg){EX_TEXT, b->b, b->n, 0, 0.0};
}

/* NUL bytes inside time values, modifiers and formats, at every position,
 * followed by text that would change the result if it were read. */
Test(expr_date, nul_bytes_inside_arguments, .init = setup, .fini = teardown)
{
    static sbuf bufs[3];
    static const char *const junks[] = {"", "junk", " +1 day", "5", ":30", "%Y"};
    arg args[3];
    set_zone("America/New_York");
    for (int blob = 0; blob < 2; blob++) {
        for (size_t j = 0; j < COUNT(junks); j++) {
            for (size_t v = 0; v < COUNT(fixed_values); v++) {
                for (size_t cut = 0; cut <= strlen(fixed_values[v]); cut++) {
                    args[0] = with_nul(&bufs[0], fixed_values[v], cut, junks[j], blob);
                    compare(F_JULIANDAY, 1, args);
                }
            }
            args[0] = text_arg("2000-01-31 12:34:56.789");
            for (size_t m = 0; m < COUNT(fixed_modifiers); m++) {
                for (size_t cut = 0; cut <= strlen(fixed_modifiers[m]); cut++) {
                    args[1] = with_nul(&bufs[1], fixed_modifiers[m], cut, junks[j], blob);
                    compare(F_JULIANDAY, 2, args);
                    compare(F_DATETIME, 2, args);
                }
            }
            args[1] = text_arg("2000-01-31 12:34:56.789");
            for (size_t k = 0; k < COUNT(fixed_formats); k++) {
                for (size_t cut = 0; cut <= strlen(fixed_formats[k]); cut++) {
                    args[0] = with_nul(&bufs[2], fixed_formats[k], cut, junks[j], blob);
                    compare(F_STRFTIME, 2, args);
                }
            }
        }
    }
    expect_no_mismatch("nul_bytes_inside_arguments");
}

/* clang-format off */
/* More spellings at the edges of the grammar, crossed with each other. */
static const char *const edge_values[] = {
    "+2000-01-01", "-0000-01-01", "0000-02-29", "-0004-02-29", "-0001-02-29", "2000-01-01\t12:00",
    "2000-01-01\n", "2000-01-01\v", "2000-01-01 12:00:00.123 +01:00 ", "2000-01-01 12:00:00Z ",
    "2000-01-01 12:00-14:00", "2000-01-01 12:00+99:99", "2000-01-01 12:00 +1:00", "12:00:00.5-01:00",
    "-4713-11-24 12:00:00.000", "2000-01-01 12:34:56.000000000000000000001", "2000-01-01 24:00:00.001",
    "2000-01-01 24:59:59", "9999-12-31 24:00:00", "2000-01-01 12:00:60", "2000-01-01 12:00:59.9999999",
    "2451545.5Z", "2451545 ", "2451545.5e", "1e5 ", "2000-01-01\xc2\xa0", "\xef\xbc\x90",
    "2000-01-01 12:00+00:60", "2000-01-01 12:00-00:01", "2000-01-01 00:00+00:01",
    "-4713-11-24 12:00+00:01", "9999-12-31 23:59-00:01", "2000-01-01 12:00:00+01:00Z",
    "0000-01-01 00:00:00.0005", "2000-01-01 12:00 Z Z", "2000-01-01Z", "12:00T", "T12:00",
    "2000-01-01 12:00:00.5 ", "1582-10-10", "2000-02-29T23:59:59.9999", "3000-02-29",
};
static const char *const edge_modifiers[] = {
    "+1 day\t", "\t+1 day", "+1\tday", "+ 1 day", "+1.5e1 hours", "+1E2 DAYS",
    "+99999999999999999999 days", "-1e400 days", "+nan days", "+inf days", "+1.0 months",
    "+11.999999 months", "-0.5 years", "+0.9999999999 years", "+1:2", "+1:02:3", "+01:02:03.",
    "+01:02:03.4567890", "-00:00:00.0001", "+00:00 ", "+999:00", "+24:00:00.001", "-24:59:59.999",
    "+00:60", "+00:00:60", "start of month\t", "start  of month", "weekday\t3", "weekday 3.0000001",
    "weekday 6.9999999999", "weekday -0", "weekday +3", "weekday 3e0 ", "localtime\t", "unixepoch ",
    "+1 months ", "+1 month\n", "-0.0000000001 seconds", "+0.00049999 seconds", "+1.7976931348623157e308 days",
    "+4.94e-324 days", "+0x10 days", "+1,5 days", "+1_000 days", "+01 day", "+1 Day", "+1 Days",
};
/* clang-format on */

Test(expr_date, edge_spellings, .init = setup, .fini = teardown)
{
    arg args[4];
    arg mods[256];
    size_t nm = fixed_modifier_args(mods, COUNT(mods));
    set_zone("Australia/Lord_Howe");
    for (int f = 0; f < N_FUNCS; f++) {
        int first = f == F_STRFTIME;
        args[0] = text_arg("%Y-%m-%d %H:%M:%f %J %s %j %W %w");
        for (size_t v = 0; v < COUNT(edge_values); v++) {
            args[first] = text_arg(edge_values[v]);
            compare(f, first + 1, args);
            for (size_t m = 0; m < nm; m++) {
                args[first + 1] = mods[m];
                compare(f, first + 2, args);
            }
            for (size_t m = 0; m < COUNT(edge_modifiers); m++) {
                args[first + 1] = text_arg(edge_modifiers[m]);
                compare(f, first + 2, args);
            }
        }
        for (size_t v = 0; v < COUNT(fixed_values); v++) {
            args[first] = text_arg(fixed_values[v]);
            for (size_t m = 0; m < COUNT(edge_modifiers); m++) {
                args[first + 1] = text_arg(edge_modifiers[m]);
                compare(f, first + 2, args);
                args[first + 2] = text_arg(edge_modifiers[(m * 7 + v) % COUNT(edge_modifiers)]);
                compare(f, first + 3, args);
            }
        }
    }
    expect_no_mismatch("edge_spellings");
}
