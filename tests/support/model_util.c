/*
 * model_util.c - values, random generation and streaming comparisons for the
 * randomized model tests (model_util.h).
 *
 * The comparisons walk the reference query and the other side in lock step
 * and stop at the first difference, so no table is ever held in memory; a
 * value read through folio is compared before its cursor moves, while its
 * bytes are still valid.
 */
#include "model_util.h"

#include "compat.h"
#include "schema/affinity.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Small utilities ----------------------------------------------------------- */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "model_util: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

/* Append to a bounded message buffer; never overflows, always terminated. */
static void why_add(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void why_add(char *why, size_t cap, const char *fmt, ...)
{
    if (!why || !cap)
        return;
    size_t len = strlen(why);
    if (len + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why + len, cap - len, fmt, ap);
    va_end(ap);
}

/* ---- Run length ----------------------------------------------------------------- */

int mdl_soak(void)
{
    const char *e = getenv("FOLIO_SOAK");
    return e && *e && strcmp(e, "0") != 0;
}

uint64_t mdl_ops(uint64_t dflt)
{
    const char *e = getenv("FOLIO_MODEL_OPS");
    uint64_t n = dflt;
    if (e && *e)
        n = strtoull(e, NULL, 0);
    if (mdl_soak())
        n *= 10;
    return n;
}

/* ---- Owned values ------------------------------------------------------------------ */

void mdl_val_clear(mdl_val *v)
{
    free(v->p);
    memset(v, 0, sizeof *v);
    v->type = FOLIO_NULL;
}

void mdl_val_int(mdl_val *v, int64_t i)
{
    mdl_val_clear(v);
    v->type = FOLIO_INTEGER;
    v->i = i;
}

void mdl_val_real(mdl_val *v, double r)
{
    mdl_val_clear(v);
    v->type = FOLIO_REAL;
    v->r = r;
}

static void val_bytes(mdl_val *v, folio_type type, const void *p, size_t n)
{
    unsigned char *b = xmalloc(n + 1);
    if (n)
        memcpy(b, p, n);
    b[n] = 0;
    mdl_val_clear(v);
    v->type = type;
    v->p = b;
    v->n = n;
}

void mdl_val_text(mdl_val *v, const void *p, size_t n)
{
    val_bytes(v, FOLIO_TEXT, p, n);
}
void mdl_val_blob(mdl_val *v, const void *p, size_t n)
{
    val_bytes(v, FOLIO_BLOB, p, n);
}

void mdl_val_copy(mdl_val *dst, const mdl_val *src)
{
    if (dst == src)
        return;
    switch (src->type) {
    case FOLIO_INTEGER:
        mdl_val_int(dst, src->i);
        break;
    case FOLIO_REAL:
        mdl_val_real(dst, src->r);
        break;
    case FOLIO_TEXT:
    case FOLIO_BLOB:
        val_bytes(dst, src->type, src->p, src->n);
        break;
    default:
        mdl_val_clear(dst);
        break;
    }
}

void mdl_val_from_sqlite(mdl_val *v, sqlite3_stmt *st, int col)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER:
        mdl_val_int(v, sqlite3_column_int64(st, col));
        break;
    case SQLITE_FLOAT:
        mdl_val_real(v, sqlite3_column_double(st, col));
        break;
    case SQLITE_TEXT: {
        const unsigned char *p = sqlite3_column_text(st, col);
        val_bytes(v, FOLIO_TEXT, p, (size_t)sqlite3_column_bytes(st, col));
        break;
    }
    case SQLITE_BLOB: {
        const void *p = sqlite3_column_blob(st, col);
        val_bytes(v, FOLIO_BLOB, p, (size_t)sqlite3_column_bytes(st, col));
        break;
    }
    default:
        mdl_val_clear(v);
        break;
    }
}

static void val_from_folio(mdl_val *v, const folio_value *f)
{
    switch (f->type) {
    case FOLIO_INTEGER:
        mdl_val_int(v, f->u.i);
        break;
    case FOLIO_REAL:
        mdl_val_real(v, f->u.r);
        break;
    case FOLIO_TEXT:
    case FOLIO_BLOB:
        val_bytes(v, f->type, f->u.s.p, f->u.s.n);
        break;
    case FOLIO_NULL:
        mdl_val_clear(v);
        break;
    default:
        /* An invalid type: keep it visible in descriptions. */
        mdl_val_clear(v);
        v->type = f->type;
        break;
    }
}

folio_value mdl_val_folio(const mdl_val *v)
{
    folio_value f;
    memset(&f, 0, sizeof f);
    f.type = v->type;
    if (v->type == FOLIO_INTEGER)
        f.u.i = v->i;
    else if (v->type == FOLIO_REAL)
        f.u.r = v->r;
    else if (v->type == FOLIO_TEXT || v->type == FOLIO_BLOB) {
        f.u.s.p = v->p;
        f.u.s.n = v->n;
    }
    return f;
}

void mdl_val_bind(sqlite3_stmt *st, int param, const mdl_val *v)
{
    switch (v->type) {
    case FOLIO_INTEGER:
        sqlite3_bind_int64(st, param, v->i);
        break;
    case FOLIO_REAL:
        sqlite3_bind_double(st, param, v->r);
        break;
    case FOLIO_TEXT:
        sqlite3_bind_text(st, param, (const char *)v->p, (int)v->n, SQLITE_TRANSIENT);
        break;
    case FOLIO_BLOB:
        /* A non-NULL pointer: a zero-length blob, not NULL. */
        sqlite3_bind_blob(st, param, v->p ? (const void *)v->p : (const void *)"", (int)v->n,
                          SQLITE_TRANSIENT);
        break;
    default:
        sqlite3_bind_null(st, param);
        break;
    }
}

void mdl_val_describe(char *buf, size_t cap, const mdl_val *v)
{
    if (!cap)
        return;
    buf[0] = 0;
    switch (v->type) {
    case FOLIO_NULL:
        why_add(buf, cap, "NULL");
        return;
    case FOLIO_INTEGER:
        why_add(buf, cap, "INTEGER %" PRId64, v->i);
        return;
    case FOLIO_REAL: {
        uint64_t bits;
        memcpy(&bits, &v->r, sizeof bits);
        why_add(buf, cap, "REAL %.17g (0x%016" PRIx64 ")", v->r, bits);
        return;
    }
    case FOLIO_TEXT: {
        why_add(buf, cap, "TEXT(%zu) '", v->n);
        size_t shown = v->n < 48 ? v->n : 48;
        for (size_t i = 0; i < shown; i++) {
            unsigned char ch = v->p[i];
            if (ch >= 32 && ch < 127 && ch != '\'' && ch != '\\')
                why_add(buf, cap, "%c", ch);
            else
                why_add(buf, cap, "\\x%02x", ch);
        }
        why_add(buf, cap, "'%s", shown < v->n ? "..." : "");
        return;
    }
    case FOLIO_BLOB: {
        why_add(buf, cap, "BLOB(%zu) x'", v->n);
        size_t shown = v->n < 24 ? v->n : 24;
        for (size_t i = 0; i < shown; i++)
            why_add(buf, cap, "%02x", v->p[i]);
        why_add(buf, cap, "'%s", shown < v->n ? "..." : "");
        return;
    }
    default:
        why_add(buf, cap, "invalid type %d", (int)v->type);
        return;
    }
}

int mdl_val_equal(const mdl_val *a, const mdl_val *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case FOLIO_INTEGER:
        return a->i == b->i;
    case FOLIO_REAL:
        return memcmp(&a->r, &b->r, sizeof a->r) == 0;
    case FOLIO_TEXT:
    case FOLIO_BLOB:
        return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
    default:
        return 1;
    }
}

/* ---- Random values ---------------------------------------------------------------- */

uint64_t mdl_rand(uint64_t *rng)
{
    return compat_rand(rng);
}
uint64_t mdl_below(uint64_t *rng, uint64_t n)
{
    return n ? compat_rand(rng) % n : 0;
}
int mdl_pct(uint64_t *rng, unsigned pct)
{
    return mdl_below(rng, 100) < pct;
}
int mdl_permille(uint64_t *rng, unsigned pm)
{
    return mdl_below(rng, 1000) < pm;
}

double mdl_nan(void)
{
    return nan("");
}

void mdl_gen_int(mdl_val *v, uint64_t *rng)
{
    switch (mdl_below(rng, 10)) {
    case 0:
    case 1:
    case 2:
        mdl_val_int(v, (int64_t)mdl_below(rng, 21) - 10);
        return;
    case 3:
    case 4:
    case 5:
        mdl_val_int(v, compat_int_boundaries[mdl_below(rng, compat_n_int_boundaries)]);
        return;
    case 6:
    case 7:
    case 8: {
        uint64_t u = mdl_rand(rng) >> mdl_below(rng, 64);
        mdl_val_int(v, mdl_below(rng, 2) ? (int64_t)u : -(int64_t)(u >> 1));
        return;
    }
    default:
        mdl_val_int(v, (int64_t)mdl_below(rng, 2001) - 1000);
        return;
    }
}

void mdl_gen_real(mdl_val *v, uint64_t *rng)
{
    switch (mdl_below(rng, 20)) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
        mdl_val_real(v, compat_special_reals[mdl_below(rng, compat_n_special_reals)]);
        return;
    case 7:
    case 8:
    case 9: {
        double d;
        do {
            uint64_t u = mdl_rand(rng);
            memcpy(&d, &u, sizeof d);
        } while (isnan(d));
        mdl_val_real(v, d);
        return;
    }
    case 10:
    case 11:
    case 12:
    case 13:
        mdl_val_real(v, (double)((int64_t)mdl_below(rng, 2001) - 1000) / 8.0);
        return;
    case 14:
    case 15:
    case 16:
        /* Integral: REAL columns store these as integers on disk. */
        mdl_val_real(v, (double)((int64_t)mdl_below(rng, 200001) - 100000));
        return;
    case 17:
        mdl_val_real(v, 0.1 * (double)((int64_t)mdl_below(rng, 2001) - 1000));
        return;
    case 18:
        mdl_val_real(v, ldexp((double)(mdl_rand(rng) >> 11), (int)mdl_below(rng, 140) - 70));
        return;
    default:
        mdl_val_real(v, -(double)mdl_below(rng, 1u << 20) / 1024.0);
        return;
    }
}

/* One random character of valid UTF-8 into p (room >= 4); its length. */
static size_t random_char(uint64_t *rng, unsigned char *p)
{
    static const char *const multi[] = {"\xc3\xa9",     "\xc3\x89",     "\xce\xa9",
                                        "\xe4\xb8\xad", "\xef\xbf\xbd", "\xf0\x9f\x98\x80",
                                        "\xc4\x80"};
    if (mdl_below(rng, 20) < 17) {
        static const char ascii[] = "aAbBcCdDeExXyYzZ  0123456789_-.~";
        p[0] = (unsigned char)ascii[mdl_below(rng, sizeof ascii - 1)];
        return 1;
    }
    const char *m = multi[mdl_below(rng, sizeof multi / sizeof multi[0])];
    size_t n = strlen(m);
    memcpy(p, m, n);
    return n;
}

void mdl_gen_text_len(mdl_val *v, uint64_t *rng, size_t len)
{
    unsigned char *b = xmalloc(len + 8);
    size_t n = 0;
    if (len > 64 && mdl_below(rng, 2)) {
        /* Long and compressible-looking, as real payloads often are. */
        while (n < len) {
            size_t k = random_char(rng, b + n);
            size_t rep = 1 + (size_t)mdl_below(rng, 64);
            n += k;
            for (size_t r = 1; r < rep && n + k <= len; r++, n += k)
                memcpy(b + n, b + n - k, k);
        }
    } else {
        while (n < len)
            n += random_char(rng, b + n);
    }
    mdl_val_text(v, b, n);
    free(b);
}

void mdl_gen_blob_len(mdl_val *v, uint64_t *rng, size_t len)
{
    unsigned char *b = xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
        b[i] = (unsigned char)mdl_rand(rng);
    mdl_val_blob(v, b, len);
    free(b);
}

void mdl_gen_probe_text(mdl_val *v, uint64_t *rng)
{
    /* Each is given with its length so embedded NULs are possible. */
    static const struct {
        const char *s;
        size_t n;
    } probes[] = {
#define P(lit) {lit, sizeof lit - 1}
        P("12"),
        P(" 7 "),
        P("3.0e2"),
        P("x"),
        P(""),
        P("-0"),
        P("0x1A"),
        P("1e400"),
        P("-1e400"),
        P("9223372036854775807"),
        P("9223372036854775808"),
        P("-9223372036854775808"),
        P("-9223372036854775809"),
        P("1.5"),
        P(".5"),
        P("5."),
        P("+3"),
        P(" 12abc"),
        P("1e5"),
        P("00012"),
        P("3.0"),
        P("inf"),
        P("NaN"),
        P("1.0000000000000002"),
        P("123456789012345678901234567890"),
        P("4.4e-310"),
        P("  -12  "),
        P("1e-5"),
        P("12.0"),
        P("0.1"),
        P("1e15"),
        P("1e16"),
        P("12\t"),
        P("\n5"),
        P("1_000"),
        P("0.0"),
        P("-0.0"),
        P("2.5e+300"),
        P("Infinity"),
        P("9.2233720368547758e18"),
        P("1."),
        P("0e0"),
        P("3e"),
        P("-"),
        P("."),
        P("1 2"),
        P("\xef\xbc\x91\xef\xbc\x92"),
        P("7\0"),
        P("18446744073709551616"),
        P("-9223372036854775808.0"),
        P("9223372036854775807.0"),
        P("1e308"),
        P("0.30000000000000004"),
        P("100000000000000000000"),
        P("4.9e-324"),
        P("-12345678901234567"),
        P("1234567890123456789"),
        P("2e3"),
        P("  "),
        P("abc"),
        P("ABC"),
#undef P
    };
    size_t k = (size_t)mdl_below(rng, sizeof probes / sizeof probes[0]);
    mdl_val_text(v, probes[k].s, probes[k].n);
}

void mdl_gen_word(mdl_val *v, uint64_t *rng, unsigned nwords)
{
    static const char *const words[] = {
        "alpha",  "bravo",  "charlie", "delta",   "echo",    "foxtrot",  "golf",    "hotel",
        "india",  "juliet", "kilo",    "lima",    "mike",    "november", "oscar",   "papa",
        "quebec", "romeo",  "sierra",  "tango",   "uniform", "victor",   "whiskey", "xray",
        "yankee", "zulu",   "apple",   "banana",  "cherry",  "damson",   "elder",   "fig",
        "grape",  "hazel",  "iris",    "jasmine", "kale",    "lemon",    "mango",   "nutmeg",
    };
    unsigned n = sizeof words / sizeof words[0];
    if (nwords == 0 || nwords > n)
        nwords = n;
    const char *w = words[mdl_below(rng, nwords)];
    char buf[32];
    size_t len = strlen(w);
    int mode = (int)mdl_below(rng, 4);
    for (size_t i = 0; i < len; i++) {
        char ch = w[i];
        if (mode == 1 || (mode == 3 && mdl_below(rng, 2)))
            ch = (char)(ch - 'a' + 'A');
        buf[i] = ch;
    }
    mdl_val_text(v, buf, len);
}

size_t mdl_gen_len(uint64_t *rng, unsigned big_permille)
{
    if (mdl_permille(rng, big_permille))
        return 3000 + (size_t)mdl_below(rng, 17001);
    switch (mdl_below(rng, 20)) {
    case 0:
        return 0;
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
    case 8:
    case 9:
    case 10:
    case 11:
    case 12:
        return (size_t)mdl_below(rng, 25);
    case 19:
        return 300 + (size_t)mdl_below(rng, 1200);
    default:
        return (size_t)mdl_below(rng, 301);
    }
}

void mdl_gen_any(mdl_val *v, uint64_t *rng, unsigned big_permille)
{
    switch (mdl_below(rng, 20)) {
    case 0:
    case 1:
        mdl_val_clear(v);
        return;
    case 2:
    case 3:
    case 4:
    case 5:
        mdl_gen_int(v, rng);
        return;
    case 6:
    case 7:
    case 8:
    case 9:
        mdl_gen_real(v, rng);
        return;
    case 10:
    case 11:
    case 12:
        mdl_gen_probe_text(v, rng);
        return;
    case 13:
    case 14:
    case 15:
    case 16:
        mdl_gen_text_len(v, rng, mdl_gen_len(rng, big_permille));
        return;
    default:
        mdl_gen_blob_len(v, rng, mdl_gen_len(rng, big_permille));
        return;
    }
}

/* ---- Leaks ---------------------------------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define MDL_HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MDL_HAVE_LSAN 1
#endif
#endif

#ifdef MDL_HAVE_LSAN
int __lsan_do_recoverable_leak_check(void);
#endif

int mdl_leak_check(void)
{
#ifdef MDL_HAVE_LSAN
    return __lsan_do_recoverable_leak_check();
#else
    return 0;
#endif
}

/* ---- Known library bugs ------------------------------------------------------------ */

int mdl_strict(void)
{
    const char *e = getenv("FOLIO_MODEL_STRICT");
    return e && *e && strcmp(e, "0") != 0;
}

void mdl_avoid_known_bugs(char aff, mdl_val *v)
{
    if (mdl_strict())
        return;
    int negzero = v->type == FOLIO_REAL && v->r == 0.0 && signbit(v->r);
    /* model_repro/real_into_text_rendering: folio renders some reals as text
     * differently from SQLite's "%!.15g" (-0.0, and halfway cases in the
     * 15th digit); only those values are replaced. */
    if (aff == 'T' && v->type == FOLIO_REAL) {
        char mine[80];
        char *theirs = sqlite3_mprintf("%!.15g", v->r);
        sch_real_to_text(v->r, mine, sizeof mine);
        if (!theirs || strcmp(mine, theirs) != 0)
            mdl_val_real(v, negzero ? 0.0 : 1.5);
        sqlite3_free(theirs);
    }
    /* model_repro/negative_zero_into_real: -0.0 and '-0.0' stay REAL -0.0;
     * SQLite stores 0.0. */
    if (aff == 'R' && negzero)
        mdl_val_real(v, 0.0);
    if (aff == 'R' && v->type == FOLIO_TEXT && v->n == 4 && memcmp(v->p, "-0.0", 4) == 0)
        mdl_val_text(v, "0.0", 3);
}

/* ---- libsqlite3 -------------------------------------------------------------------- */

const char *mdl_class_name(int cls)
{
    switch (cls) {
    case MDL_OK:
        return "OK";
    case MDL_NOTFOUND:
        return "NOTFOUND";
    case MDL_CONSTRAINT:
        return "CONSTRAINT";
    case MDL_MISMATCH:
        return "MISMATCH";
    case MDL_FULL:
        return "FULL";
    default:
        return "OTHER";
    }
}

int mdl_folio_class(int rc)
{
    switch (rc) {
    case FOLIO_OK:
        return MDL_OK;
    case FOLIO_NOTFOUND:
        return MDL_NOTFOUND;
    case FOLIO_CONSTRAINT:
        return MDL_CONSTRAINT;
    case FOLIO_MISMATCH:
        return MDL_MISMATCH;
    case FOLIO_FULL:
        return MDL_FULL;
    default:
        return MDL_OTHER;
    }
}

int mdl_sqlite_class(int rc)
{
    if (rc == SQLITE_DONE || rc == SQLITE_OK)
        return MDL_OK;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return MDL_CONSTRAINT;
    if ((rc & 0xff) == SQLITE_MISMATCH)
        return MDL_MISMATCH;
    if ((rc & 0xff) == SQLITE_FULL)
        return MDL_FULL;
    return MDL_OTHER;
}

int mdl_sqlite_write(sqlite3 *db, sqlite3_stmt *st, int notfound_if_no_change)
{
    int rc = sqlite3_step(st);
    int cls = mdl_sqlite_class(rc);
    if (cls == MDL_OK && notfound_if_no_change && sqlite3_changes(db) == 0)
        cls = MDL_NOTFOUND;
    sqlite3_reset(st);
    return cls;
}

sqlite3 *mdl_sqlite_open_ro(const char *path, char *why, size_t cap)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        why_add(why, cap, "sqlite3_open_v2(%s, READONLY): %s", path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
    /* folio's background checkpoint may still be copying after folio_commit
     * returned, holding the lock that keeps sqlite3 out; like any program
     * sharing the file, wait for it instead of failing at once. */
    sqlite3_busy_timeout(db, 20000);
    return db;
}

/* ---- Comparisons -------------------------------------------------------------------- */

/* The reference row under `st` (column 0 the rowid), abbreviated. */
static void describe_ref_row(char *why, size_t cap, sqlite3_stmt *st)
{
    int n = sqlite3_column_count(st);
    why_add(why, cap, "\n    expected row:");
    for (int c = 0; c < n; c++) {
        mdl_val v = {0};
        char d[160];
        mdl_val_from_sqlite(&v, st, c);
        mdl_val_describe(d, sizeof d, &v);
        why_add(why, cap, " [%s=%s]", sqlite3_column_name(st, c), d);
        mdl_val_clear(&v);
    }
}

/* The folio row under `cur`, abbreviated. */
static void describe_folio_row(char *why, size_t cap, folio_cursor *cur, int ncol,
                               int without_rowid)
{
    why_add(why, cap, "\n    folio row:");
    if (!without_rowid)
        why_add(why, cap, " [rowid=%" PRId64 "]", folio_cursor_rowid(cur));
    for (int c = 0; c < ncol; c++) {
        folio_value f;
        int rc = folio_cursor_column(&f, cur, c);
        if (rc != FOLIO_OK) {
            why_add(why, cap, " [%d: rc %d]", c, rc);
            continue;
        }
        mdl_val v = {0};
        char d[160];
        val_from_folio(&v, &f);
        mdl_val_describe(d, sizeof d, &v);
        why_add(why, cap, " [%d=%s]", c, d);
        mdl_val_clear(&v);
    }
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql, char *why, size_t cap)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        why_add(why, cap, "sqlite prepare: %s\n    in: %s", sqlite3_errmsg(db), sql);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/*
 * Walk `cur` (already positioned by first/last: `frc`) against `st`, moving
 * with next (dir > 0) or prev (dir < 0). `what` names the walk in messages.
 */
static int walk_folio(sqlite3 *ref, folio_db *fdb, sqlite3_stmt *st, folio_cursor *cur, int frc,
                      int dir, int without_rowid, const char *what, char *why, size_t cap)
{
    int ncol = sqlite3_column_count(st) - 1;
    for (uint64_t row = 0;; row++) {
        int src = sqlite3_step(st);
        if (src != SQLITE_ROW && src != SQLITE_DONE) {
            why_add(why, cap, "%s: reference step: %s", what, sqlite3_errmsg(ref));
            return -1;
        }
        if (frc != FOLIO_ROW && frc != FOLIO_DONE) {
            why_add(why, cap, "%s: row %" PRIu64 ": folio cursor %s returned %d (%s): %s", what,
                    row, dir > 0 ? "first/next" : "last/prev", frc, folio_strerror(frc),
                    folio_errmsg(fdb));
            return -1;
        }
        if (src == SQLITE_DONE && frc == FOLIO_DONE)
            return 0;
        if (src == SQLITE_DONE) {
            why_add(why, cap,
                    "%s: folio has an extra row at position %" PRIu64 " (the reference has %" PRIu64
                    " rows)",
                    what, row, row);
            describe_folio_row(why, cap, cur, ncol, without_rowid);
            return -1;
        }
        if (frc == FOLIO_DONE) {
            why_add(why, cap, "%s: folio ends after %" PRIu64 " rows; the reference has more", what,
                    row);
            describe_ref_row(why, cap, st);
            return -1;
        }
        if (!without_rowid) {
            int64_t want = sqlite3_column_int64(st, 0);
            int64_t got = folio_cursor_rowid(cur);
            if (want != got) {
                why_add(why, cap,
                        "%s: row %" PRIu64 ": rowid %" PRId64 " expected, folio has %" PRId64, what,
                        row, want, got);
                describe_ref_row(why, cap, st);
                describe_folio_row(why, cap, cur, ncol, without_rowid);
                return -1;
            }
        }
        for (int c = 0; c < ncol; c++) {
            folio_value f;
            int rc = folio_cursor_column(&f, cur, c);
            mdl_val want = {0}, got = {0};
            mdl_val_from_sqlite(&want, st, c + 1);
            if (rc == FOLIO_OK)
                val_from_folio(&got, &f);
            if (rc != FOLIO_OK || !mdl_val_equal(&want, &got)) {
                char dw[200], dg[200];
                mdl_val_describe(dw, sizeof dw, &want);
                mdl_val_describe(dg, sizeof dg, &got);
                why_add(why, cap,
                        "%s: row %" PRIu64 " (rowid %" PRId64 "), column %d (%s): expected %s, "
                        "folio %s%s",
                        what, row, (int64_t)sqlite3_column_int64(st, 0), c,
                        sqlite3_column_name(st, c + 1), dw, rc == FOLIO_OK ? "" : "error ",
                        rc == FOLIO_OK ? dg : folio_errmsg(fdb));
                describe_ref_row(why, cap, st);
                describe_folio_row(why, cap, cur, ncol, without_rowid);
                mdl_val_clear(&want);
                mdl_val_clear(&got);
                return -1;
            }
            mdl_val_clear(&want);
            mdl_val_clear(&got);
        }
        frc = dir > 0 ? folio_cursor_next(cur) : folio_cursor_prev(cur);
    }
}

static int cmp_folio(sqlite3 *ref, folio_db *fdb, folio_txn *txn, const char *table,
                     const char *index, int without_rowid, const char *order_by, int dir, char *why,
                     size_t cap)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT %s, * FROM \"%s\" ORDER BY %s", without_rowid ? "0" : "rowid",
             table, order_by);
    sqlite3_stmt *st = prepare(ref, sql, why, cap);
    if (!st)
        return -1;
    char what[300];
    snprintf(what, sizeof what, "%s%s%s%s via folio", table, index ? " (index " : "",
             index ? index : "", index ? ")" : (dir < 0 ? " backwards" : ""));
    folio_table *t = NULL;
    int rc = folio_table_open(&t, txn, table);
    if (rc != FOLIO_OK) {
        why_add(why, cap, "%s: folio_table_open: %s", what, folio_errmsg(fdb));
        sqlite3_finalize(st);
        return -1;
    }
    int ncol = sqlite3_column_count(st) - 1;
    if (folio_table_ncols(t) != ncol) {
        why_add(why, cap, "%s: folio sees %d columns, the reference %d", what, folio_table_ncols(t),
                ncol);
        sqlite3_finalize(st);
        return -1;
    }
    folio_cursor *cur = NULL;
    rc = folio_cursor_open(&cur, t, index);
    if (rc != FOLIO_OK) {
        why_add(why, cap, "%s: folio_cursor_open: %s", what, folio_errmsg(fdb));
        sqlite3_finalize(st);
        return -1;
    }
    int frc = dir > 0 ? folio_cursor_first(cur) : folio_cursor_last(cur);
    rc = walk_folio(ref, fdb, st, cur, frc, dir, without_rowid, what, why, cap);
    folio_cursor_close(cur);
    sqlite3_finalize(st);
    return rc;
}

int mdl_cmp_folio_table(sqlite3 *ref, folio_db *fdb, folio_txn *txn, const char *table,
                        int without_rowid, const char *order_by, const char *reverse_order_by,
                        char *why, size_t cap)
{
    if (cmp_folio(ref, fdb, txn, table, NULL, without_rowid, order_by, 1, why, cap) < 0)
        return -1;
    if (reverse_order_by &&
        cmp_folio(ref, fdb, txn, table, NULL, without_rowid, reverse_order_by, -1, why, cap) < 0)
        return -1;
    return 0;
}

int mdl_cmp_folio_index(sqlite3 *ref, folio_db *fdb, folio_txn *txn, const char *table,
                        const char *index, int without_rowid, const char *order_by, char *why,
                        size_t cap)
{
    return cmp_folio(ref, fdb, txn, table, index, without_rowid, order_by, 1, why, cap);
}

int mdl_cmp_query(sqlite3 *ref, sqlite3 *other, const char *sql, char *why, size_t cap)
{
    sqlite3_stmt *a = prepare(ref, sql, why, cap);
    if (!a)
        return -1;
    sqlite3_stmt *b = prepare(other, sql, why, cap);
    if (!b) {
        sqlite3_finalize(a);
        return -1;
    }
    int ncol = sqlite3_column_count(a);
    int result = 0;
    for (uint64_t row = 0;; row++) {
        int ra = sqlite3_step(a);
        int rb = sqlite3_step(b);
        if ((ra != SQLITE_ROW && ra != SQLITE_DONE) || (rb != SQLITE_ROW && rb != SQLITE_DONE)) {
            why_add(why, cap, "%s: step: reference %s / folio's file %s", sql, sqlite3_errmsg(ref),
                    sqlite3_errmsg(other));
            result = -1;
            break;
        }
        if (ra == SQLITE_DONE && rb == SQLITE_DONE)
            break;
        if (ra != rb) {
            why_add(why, cap, "%s: row %" PRIu64 ": %s", sql, row,
                    ra == SQLITE_DONE ? "folio's file has an extra row"
                                      : "folio's file has fewer rows");
            if (ra == SQLITE_ROW)
                describe_ref_row(why, cap, a);
            else {
                why_add(why, cap, " (extra:");
                describe_ref_row(why, cap, b);
                why_add(why, cap, ")");
            }
            result = -1;
            break;
        }
        for (int c = 0; c < ncol && result == 0; c++) {
            mdl_val va = {0}, vb = {0};
            mdl_val_from_sqlite(&va, a, c);
            mdl_val_from_sqlite(&vb, b, c);
            if (!mdl_val_equal(&va, &vb)) {
                char da[200], db[200];
                mdl_val_describe(da, sizeof da, &va);
                mdl_val_describe(db, sizeof db, &vb);
                why_add(why, cap,
                        "%s: row %" PRIu64 ", column %d (%s): expected %s, folio's file has %s",
                        sql, row, c, sqlite3_column_name(a, c), da, db);
                describe_ref_row(why, cap, a);
                why_add(why, cap, "\n    (folio's file)");
                describe_ref_row(why, cap, b);
                result = -1;
            }
            mdl_val_clear(&va);
            mdl_val_clear(&vb);
        }
        if (result)
            break;
    }
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    return result;
}

int mdl_cmp_sqlite_table(sqlite3 *ref, sqlite3 *other, const char *table, int without_rowid,
                         const char *order_by, char *why, size_t cap)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT %s, * FROM \"%s\" ORDER BY %s", without_rowid ? "0" : "rowid",
             table, order_by);
    if (mdl_cmp_query(ref, other, sql, why, cap) < 0) {
        why_add(why, cap, "\n    (table %s read by libsqlite3 on folio's file)", table);
        return -1;
    }
    return 0;
}

typedef struct check_msgs {
    char *why;
    size_t cap;
    int n;
} check_msgs;

static int check_cb(void *arg, const char *msg)
{
    check_msgs *m = arg;
    if (m->n++ < 8)
        why_add(m->why, m->cap, "\n    folio_check: %s", msg);
    return 0;
}

int mdl_folio_check(folio_db *fdb, folio_txn *txn, char *why, size_t cap)
{
    check_msgs m = {why, cap, 0};
    int rc = folio_check(txn, check_cb, &m, 20);
    if (rc != FOLIO_OK || m.n) {
        why_add(why, cap, "\n    folio_check returned %d (%s) with %d message(s): %s", rc,
                folio_strerror(rc), m.n, folio_errmsg(fdb));
        return -1;
    }
    return 0;
}

int mdl_sqlite_integrity(const char *path, char *why, size_t cap)
{
    sqlite3 *db = mdl_sqlite_open_ro(path, why, cap);
    if (!db)
        return -1;
    sqlite3_stmt *st = prepare(db, "PRAGMA integrity_check", why, cap);
    if (!st) {
        sqlite3_close(db);
        return -1;
    }
    int result = 0, nrow = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *msg = (const char *)sqlite3_column_text(st, 0);
        if (nrow++ == 0 && msg && strcmp(msg, "ok") == 0)
            continue;
        result = -1;
        if (nrow <= 10)
            why_add(why, cap, "\n    integrity_check: %s", msg ? msg : "(null)");
    }
    if (rc != SQLITE_DONE) {
        why_add(why, cap, "\n    integrity_check failed: %s", sqlite3_errmsg(db));
        result = -1;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return result;
}
