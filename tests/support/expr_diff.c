/*
 * expr_diff.c - the differential fixture of tests/expr/ (see expr_diff.h).
 */
#include "expr_diff.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <folio.h>

const char *const xd_col_names[XD_NCOLS] = {"id", "i", "r", "n", "x", "b", "a", "c", "d", "v"};

static const char create_sql[] =
    "CREATE TABLE t(id INTEGER PRIMARY KEY, i INTEGER, r REAL, n NUMERIC, x TEXT, b BLOB, a, "
    "c TEXT COLLATE NOCASE, d TEXT COLLATE RTRIM, v NUMERIC COLLATE NOCASE)";

uint64_t xd_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

int xd_pick(uint64_t *s, int n)
{
    return (int)(xd_rand(s) % (uint64_t)n);
}

uint64_t xd_seed(uint64_t fallback)
{
    const char *e = getenv("FOLIO_SEED");
    uint64_t seed = fallback;
    if (e && strcmp(e, "random") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed =
            (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
    } else if (e && *e) {
        seed = strtoull(e, NULL, 0);
    }
    if (seed == 0)
        seed = 1;
    fprintf(stderr, "seed=%" PRIu64 "\n", seed);
    return seed;
}

int xd_soak(void)
{
    const char *e = getenv("FOLIO_SOAK");
    return e && *e && strcmp(e, "0") != 0;
}

/* ---- Values -------------------------------------------------------------------- */

static const int64_t int_pool[] = {0,
                                   1,
                                   -1,
                                   2,
                                   3,
                                   10,
                                   -7,
                                   255,
                                   64,
                                   63,
                                   -64,
                                   1000000,
                                   INT64_MAX,
                                   INT64_MIN,
                                   INT64_MAX - 1,
                                   INT64_MIN + 1,
                                   9007199254740992LL,
                                   9007199254740993LL,
                                   4503599627370496LL,
                                   -4503599627370497LL,
                                   2147483647,
                                   2147483648LL,
                                   -2147483649LL,
                                   4294967297LL};

static const double real_pool[] = {0.0,
                                   -0.0,
                                   1.5,
                                   -2.5,
                                   0.1,
                                   0.5,
                                   2.0,
                                   -3.0,
                                   1e308,
                                   -1e308,
                                   1e-308,
                                   4.9406564584124654e-324,
                                   9.2233720368547758e18,
                                   -9.2233720368547758e18,
                                   1e15,
                                   1e16,
                                   123456789.125,
                                   3.141592653589793,
                                   1e100,
                                   -1.0000000000000002,
                                   4503599627370496.5,
                                   0.3333333333333333,
                                   2.5e-5,
                                   1e-5};

static const char *const text_pool[] = {"",
                                        " ",
                                        "abc",
                                        "ABC",
                                        "Abc  ",
                                        " 12 ",
                                        "12abc",
                                        "1e5",
                                        "0x10",
                                        "-0",
                                        "1.5",
                                        "  -3.25e2 ",
                                        "9223372036854775808",
                                        "-9223372036854775809",
                                        "9223372036854775807",
                                        "\xc3\xa9",
                                        "\xc3\x89\x43OLE",
                                        "a%b_c",
                                        "%",
                                        "_",
                                        "[abc]",
                                        "true",
                                        "NULL",
                                        "it's",
                                        "1.0",
                                        "12",
                                        "-12",
                                        "0",
                                        "1e400",
                                        ".5",
                                        "5.",
                                        "+7",
                                        "1e",
                                        "abc ",
                                        "ABC ",
                                        "\xe2\x82\xac",
                                        "x",
                                        "X",
                                        "\xf0\x9f\x98\x80z"};

static const char *const blob_pool[] = {"", "\x00", "12", "\xff\x00\xff", "abc", "1e5", "\x80"};
static const size_t blob_len[] = {0, 1, 2, 3, 3, 3, 1};

/* Bind one random value to parameter k. */
static void bind_random(sqlite3_stmt *st, int k, uint64_t *rng)
{
    int kind = xd_pick(rng, 12);
    switch (kind) {
    case 0:
        sqlite3_bind_null(st, k);
        break;
    case 1:
    case 2:
        sqlite3_bind_int64(st, k,
                           int_pool[xd_pick(rng, (int)(sizeof int_pool / sizeof int_pool[0]))]);
        break;
    case 3:
        sqlite3_bind_int64(st, k, (int64_t)(xd_rand(rng) % 2001) - 1000);
        break;
    case 4:
    case 5:
        sqlite3_bind_double(st, k,
                            real_pool[xd_pick(rng, (int)(sizeof real_pool / sizeof real_pool[0]))]);
        break;
    case 6: {
        double r = (double)(int64_t)(xd_rand(rng) % 2000001 - 1000000) / 64.0;
        sqlite3_bind_double(st, k, r);
        break;
    }
    case 7:
    case 8:
    case 9: {
        const char *s = text_pool[xd_pick(rng, (int)(sizeof text_pool / sizeof text_pool[0]))];
        sqlite3_bind_text(st, k, s, (int)strlen(s), SQLITE_TRANSIENT);
        break;
    }
    case 10: {
        /* Text with odd bytes: invalid UTF-8, an embedded NUL. */
        static const char odd[][4] = {"a\0b", "\x80\xff", "\xc3", "a\0\0"};
        int j = xd_pick(rng, 4);
        sqlite3_bind_text(st, k, odd[j], 3, SQLITE_TRANSIENT);
        break;
    }
    default: {
        int j = xd_pick(rng, (int)(sizeof blob_len / sizeof blob_len[0]));
        sqlite3_bind_blob(st, k, blob_pool[j], (int)blob_len[j], SQLITE_TRANSIENT);
        break;
    }
    }
}

static void must(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
        abort();
    }
}

/* Read every stored row back: the values folio's row callback serves. */
static void load_rows(xd_fixture *f)
{
    sqlite3_stmt *st;
    must(f->db, sqlite3_prepare_v2(f->db, "SELECT * FROM t ORDER BY rowid", -1, &st, NULL),
         "select");
    f->nrows = 0;
    while (sqlite3_step(st) == SQLITE_ROW && f->nrows < XD_MAX_ROWS) {
        xd_row *r = &f->rows[f->nrows++];
        r->rowid = sqlite3_column_int64(st, 0);
        for (int c = 0; c < XD_NCOLS; c++) {
            ex_value *v = &r->v[c];
            memset(v, 0, sizeof *v);
            r->bytes[c] = NULL;
            switch (sqlite3_column_type(st, c)) {
            case SQLITE_INTEGER:
                v->type = EX_INTEGER;
                v->u.i = sqlite3_column_int64(st, c);
                break;
            case SQLITE_FLOAT:
                v->type = EX_REAL;
                v->u.r = sqlite3_column_double(st, c);
                break;
            case SQLITE_TEXT:
            case SQLITE_BLOB: {
                int is_text = sqlite3_column_type(st, c) == SQLITE_TEXT;
                const void *p =
                    is_text ? (const void *)sqlite3_column_text(st, c) : sqlite3_column_blob(st, c);
                int n = sqlite3_column_bytes(st, c);
                r->bytes[c] = malloc((size_t)n + 1);
                if (n)
                    memcpy(r->bytes[c], p, (size_t)n);
                r->bytes[c][n] = 0;
                v->type = is_text ? EX_TEXT : EX_BLOB;
                v->u.s.p = r->bytes[c];
                v->u.s.n = (uint64_t)n;
                break;
            }
            default:
                v->type = EX_NULL;
                break;
            }
        }
    }
    sqlite3_finalize(st);
}

void xd_open(xd_fixture *f, uint64_t seed, int nrows)
{
    memset(f, 0, sizeof *f);
    f->rng = seed ? seed : 1;
    must(NULL, sqlite3_open(":memory:", &f->db), "open");
    must(f->db, sqlite3_exec(f->db, create_sql, NULL, NULL, NULL), "create");
    sqlite3_stmt *ins;
    must(f->db,
         sqlite3_prepare_v2(f->db, "INSERT INTO t VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)", -1, &ins,
                            NULL),
         "insert");
    static const int64_t ids[] = {1, 2, -5, INT64_MAX, INT64_MIN, 0, 77};
    if (nrows > XD_MAX_ROWS)
        nrows = XD_MAX_ROWS;
    for (int k = 0; k < nrows; k++) {
        int64_t id = k < 7 ? ids[k] : 1000 + k;
        sqlite3_bind_int64(ins, 1, id);
        for (int c = 2; c <= XD_NCOLS; c++)
            bind_random(ins, c, &f->rng);
        must(f->db, sqlite3_step(ins), "insert row");
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    load_rows(f);
    /* folio's view of the same table. */
    static const int aff[XD_NCOLS] = {
        SCH_AFF_INTEGER, SCH_AFF_INTEGER, SCH_AFF_REAL, SCH_AFF_NUMERIC, SCH_AFF_TEXT,
        SCH_AFF_BLOB,    SCH_AFF_BLOB,    SCH_AFF_TEXT, SCH_AFF_TEXT,    SCH_AFF_NUMERIC};
    static const int coll[XD_NCOLS] = {
        SCH_COLL_BINARY, SCH_COLL_BINARY, SCH_COLL_BINARY, SCH_COLL_BINARY, SCH_COLL_BINARY,
        SCH_COLL_BINARY, SCH_COLL_BINARY, SCH_COLL_NOCASE, SCH_COLL_RTRIM,  SCH_COLL_NOCASE};
    for (int c = 0; c < XD_NCOLS; c++) {
        f->cols[c].name = xd_col_names[c];
        f->cols[c].affinity = aff[c];
        f->cols[c].collation = coll[c];
        f->cols[c].generated = 0;
    }
    f->scope.table = "t";
    f->scope.cols = f->cols;
    f->scope.ncols = XD_NCOLS;
    f->scope.rowid_alias = 0;
    f->scope.without_rowid = 0;
    f->scope.column = NULL;
    if (ex_ctx_new(&f->cx) != 0)
        abort();
}

void xd_close(xd_fixture *f)
{
    for (int k = 0; k < f->nrows; k++)
        for (int c = 0; c < XD_NCOLS; c++)
            free(f->rows[k].bytes[c]);
    ex_ctx_free(f->cx);
    sqlite3_close(f->db);
}

/* ---- Comparing -------------------------------------------------------------------- */

typedef struct row_arg {
    const xd_row *row;
} row_arg;

static int row_column(void *arg, int col, ex_value *out)
{
    const row_arg *ra = arg;
    *out = ra->row->v[col];
    return 0;
}

/* A value for messages. */
static void describe(const ex_value *v, char *buf, size_t cap)
{
    switch (v->type) {
    case EX_NULL:
        snprintf(buf, cap, "NULL");
        break;
    case EX_INTEGER:
        snprintf(buf, cap, "INTEGER %" PRId64, v->u.i);
        break;
    case EX_REAL:
        snprintf(buf, cap, "REAL %.17g", v->u.r);
        break;
    default: {
        size_t o = (size_t)snprintf(buf, cap, "%s[%" PRIu64 "] ",
                                    v->type == EX_TEXT ? "TEXT" : "BLOB", v->u.s.n);
        for (uint64_t k = 0; k < v->u.s.n && o + 5 < cap && k < 60; k++) {
            uint8_t c = v->u.s.p[k];
            if (c >= 0x20 && c < 0x7f && c != '\\')
                buf[o++] = (char)c;
            else
                o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        }
        buf[o < cap ? o : cap - 1] = 0;
        break;
    }
    }
}

/* The value of column 0 of a stepped statement. */
static void sqlite_value(sqlite3_stmt *st, ex_value *v)
{
    memset(v, 0, sizeof *v);
    switch (sqlite3_column_type(st, 0)) {
    case SQLITE_INTEGER:
        v->type = EX_INTEGER;
        v->u.i = sqlite3_column_int64(st, 0);
        break;
    case SQLITE_FLOAT:
        v->type = EX_REAL;
        v->u.r = sqlite3_column_double(st, 0);
        break;
    case SQLITE_TEXT:
        v->type = EX_TEXT;
        v->u.s.p = sqlite3_column_text(st, 0);
        v->u.s.n = (uint64_t)sqlite3_column_bytes(st, 0);
        break;
    case SQLITE_BLOB:
        v->type = EX_BLOB;
        v->u.s.p = sqlite3_column_blob(st, 0);
        v->u.s.n = (uint64_t)sqlite3_column_bytes(st, 0);
        break;
    default:
        v->type = EX_NULL;
        break;
    }
}

static int same_value(const ex_value *a, const ex_value *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case EX_NULL:
        return 1;
    case EX_INTEGER:
        return a->u.i == b->u.i;
    case EX_REAL:
        return memcmp(&a->u.r, &b->u.r, sizeof a->u.r) == 0;
    default:
        return a->u.s.n == b->u.s.n &&
               (a->u.s.n == 0 || memcmp(a->u.s.p, b->u.s.p, (size_t)a->u.s.n) == 0);
    }
}

/* What is compared: the value, or the decision of a condition. */
enum { AS_VALUE, AS_CHECK, AS_WHERE };

static int compare_impl(xd_fixture *f, const char *expr, unsigned flags, int as, char *why,
                        size_t whylen)
{
    char sql[65536];
    /* Parentheses, so that SQLite takes no alias; a newline, so that a
     * trailing "--" comment ends before them. A condition is decided by a
     * CASE WHEN, which SQLite compiles as jumps like a WHERE; a CHECK passes
     * unless the condition is false. */
    if (as == AS_VALUE)
        snprintf(sql, sizeof sql, "SELECT (%s\n) FROM t ORDER BY rowid", expr);
    else
        snprintf(sql, sizeof sql,
                 "SELECT CASE WHEN (%s\n)%s THEN 1 ELSE 0 END FROM t ORDER BY rowid", expr,
                 as == AS_CHECK ? " IS NOT FALSE" : "");
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(f->db, sql, -1, &st, NULL);
    char serr[512] = "";
    if (src != SQLITE_OK)
        snprintf(serr, sizeof serr, "%s", sqlite3_errmsg(f->db));
    ex_prog *prog = NULL;
    char ferr[512] = "";
    /* A value is compared: "+( )" keeps a condition's AND and OR from being
     * evaluated as a condition (EX_FILTER), which may skip an operand. */
    char *wrapped = malloc(strlen(expr) + 8);
    if (as == AS_VALUE)
        sprintf(wrapped, "+(%s\n)", expr);
    else
        sprintf(wrapped, "%s", expr);
    int frc = ex_compile(&prog, wrapped, strlen(wrapped), &f->scope, flags, ferr, sizeof ferr);
    free(wrapped);
    if (src != SQLITE_OK) {
        sqlite3_finalize(st);
        ex_prog_free(prog);
        if (strstr(serr, "parser stack overflow") || strstr(serr, "too large")) {
            f->skipped++;
            return XD_SKIP;
        }
        if (frc == 0) {
            snprintf(why, whylen, "sqlite3 refuses (%s), folio compiles", serr);
            return XD_DIFFERENT;
        }
        f->both_error++;
        return XD_SAME;
    }
    if (frc != 0) {
        sqlite3_finalize(st);
        snprintf(why, whylen, "folio refuses (%s, rc %d), sqlite3 compiles", ferr, frc);
        return XD_DIFFERENT;
    }
    int result = XD_SAME;
    for (int k = 0; k < f->nrows; k++) {
        int step = sqlite3_step(st);
        row_arg ra = {&f->rows[k]};
        ex_row row = {row_column, &ra, f->rows[k].rowid, NULL};
        ex_value fv;
        int erc = ex_eval(prog, f->cx, &row, &fv);
        if (step != SQLITE_ROW) {
            /* An error in SQLite: folio must fail on this row too. */
            snprintf(serr, sizeof serr, "%s", sqlite3_errmsg(f->db));
            if (erc == 0) {
                char fb[256];
                describe(&fv, fb, sizeof fb);
                snprintf(why, whylen,
                         "row %d (rowid %" PRId64 "): sqlite3 fails (%s), folio gives %s", k,
                         f->rows[k].rowid, serr, fb);
                result = XD_DIFFERENT;
            } else {
                f->both_error++;
            }
            break;
        }
        if (erc != 0) {
            ex_value sv;
            sqlite_value(st, &sv);
            char sb[256];
            describe(&sv, sb, sizeof sb);
            snprintf(why, whylen, "row %d (rowid %" PRId64 "): folio fails (%s), sqlite3 gives %s",
                     k, f->rows[k].rowid, ex_ctx_errmsg(f->cx), sb);
            result = XD_DIFFERENT;
            break;
        }
        ex_value sv;
        sqlite_value(st, &sv);
        f->compared++;
        if (as != AS_VALUE) {
            /* The decision the db layer takes from the value (ex_truth). */
            int t = ex_truth(&fv);
            fv.type = EX_INTEGER;
            fv.u.i = as == AS_CHECK ? t != 0 : t == 1;
        }
        if (!same_value(&sv, &fv)) {
            char sb[256], fb[256];
            describe(&sv, sb, sizeof sb);
            describe(&fv, fb, sizeof fb);
            snprintf(why, whylen, "row %d (rowid %" PRId64 "): sqlite3 %s, folio %s", k,
                     f->rows[k].rowid, sb, fb);
            result = XD_DIFFERENT;
            break;
        }
    }
    sqlite3_finalize(st);
    ex_prog_free(prog);
    return result;
}

int xd_compare(xd_fixture *f, const char *expr, unsigned flags, char *why, size_t whylen)
{
    return compare_impl(f, expr, flags, AS_VALUE, why, whylen);
}

int xd_compare_cond(xd_fixture *f, const char *expr, unsigned flags, char *why, size_t whylen)
{
    return compare_impl(f, expr, flags, (flags & EX_CHECK) ? AS_CHECK : AS_WHERE, why, whylen);
}

int xd_compare_error(xd_fixture *f, const char *expr, unsigned flags, char *why, size_t whylen)
{
    char sql[65536];
    snprintf(sql, sizeof sql, "SELECT (%s\n) FROM t", expr);
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(f->db, sql, -1, &st, NULL);
    char serr[512] = "";
    if (src != SQLITE_OK)
        snprintf(serr, sizeof serr, "%s", sqlite3_errmsg(f->db));
    sqlite3_finalize(st);
    ex_prog *prog = NULL;
    char ferr[512] = "";
    int frc = ex_compile(&prog, expr, strlen(expr), &f->scope, flags, ferr, sizeof ferr);
    ex_prog_free(prog);
    /* folio's message is SQLite's followed by " (at offset N)". */
    char *at = strstr(ferr, " (at offset ");
    if (at)
        *at = 0;
    if ((src == SQLITE_OK) != (frc == 0) || strcmp(serr, ferr) != 0) {
        snprintf(why, whylen, "sqlite3: \"%s\"; folio: \"%s\" (rc %d)", serr, ferr, frc);
        return XD_DIFFERENT;
    }
    if (frc)
        f->both_error++;
    else
        f->compared++;
    return XD_SAME;
}
