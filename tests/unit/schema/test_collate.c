/*
 * Value comparison (src/schema/collate.c) against libsqlite3: the sign of
 * every pair of a random value set under BINARY, NOCASE and RTRIM must equal
 * what SQLite's comparison operators say, and ORDER BY must give the same
 * sequence. Random sets print seed=N; FOLIO_SEED=N replays one.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema/collate.h"

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t seed_rng(const char *test)
{
    const char *s = getenv("FOLIO_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)clock();
    fprintf(stderr, "%s: seed=%llu\n", test, (unsigned long long)seed);
    rng_state = seed;
    return seed;
}

static sqlite3 *open_db(void)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    return db;
}

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, msg ? msg : "");
    sqlite3_free(msg);
}

/* ---- Random values ---- */

typedef struct tval {
    int id;
    fmt_value v;
    uint8_t buf[16];
} tval;

static const char text_alphabet[] = "aAbBzZ_[`@ ~\t0\x7f\x80\xc3\xa9";

static void random_bytes(tval *t, int allow_nul)
{
    size_t n = rng_next() % 8;
    for (size_t k = 0; k < n; k++) {
        uint64_t r = rng_next() % 40;
        if (r < 2 && allow_nul)
            t->buf[k] = 0;
        else if (r < 8)
            t->buf[k] = ' ';
        else
            t->buf[k] = (uint8_t)text_alphabet[rng_next() % (sizeof text_alphabet - 1)];
    }
    t->v.u.s.p = t->buf;
    t->v.u.s.n = n;
}

static int64_t random_int(void)
{
    switch (rng_next() % 6) {
    case 0:
        return (int64_t)(rng_next() % 21) - 10;
    case 1:
        return (int64_t)rng_next();
    case 2:
        return ((int64_t)1 << 53) + (int64_t)(rng_next() % 5) - 2;
    case 3:
        return INT64_MAX - (int64_t)(rng_next() % 3);
    case 4:
        return INT64_MIN + (int64_t)(rng_next() % 3);
    default:
        return -((int64_t)1 << 53) + (int64_t)(rng_next() % 5) - 2;
    }
}

static double random_real(void)
{
    switch (rng_next() % 6) {
    case 0:
        return (double)((int64_t)(rng_next() % 21) - 10) / 2.0;
    case 1:
        return (double)random_int();
    case 2:
        return ldexp(1.0, 63) * (rng_next() % 2 ? 1 : -1);
    case 3:
        return ((double)(int64_t)rng_next()) * 1e-3;
    case 4:
        return (rng_next() % 2 ? 1 : -1) * (ldexp(1.0, 53) + (double)(rng_next() % 5) * 2 - 4);
    default:
        return rng_next() % 2 ? INFINITY : -INFINITY;
    }
}

static void random_value(tval *t, int id)
{
    memset(t, 0, sizeof *t);
    t->id = id;
    switch (rng_next() % 10) {
    case 0:
        t->v.type = FMT_NULL;
        break;
    case 1:
    case 2:
        t->v.type = FMT_INTEGER;
        t->v.u.i = random_int();
        break;
    case 3:
    case 4:
        t->v.type = FMT_REAL;
        t->v.u.r = random_real();
        break;
    case 5:
        t->v.type = FMT_BLOB;
        random_bytes(t, 1);
        break;
    default:
        t->v.type = FMT_TEXT;
        random_bytes(t, 1);
        break;
    }
}

static void bind_value(sqlite3_stmt *st, int i, const fmt_value *v)
{
    switch (v->type) {
    case FMT_NULL:
        sqlite3_bind_null(st, i);
        break;
    case FMT_INTEGER:
        sqlite3_bind_int64(st, i, v->u.i);
        break;
    case FMT_REAL:
        sqlite3_bind_double(st, i, v->u.r);
        break;
    case FMT_TEXT:
        sqlite3_bind_text(st, i, (const char *)v->u.s.p, (int)v->u.s.n, SQLITE_TRANSIENT);
        break;
    default:
        sqlite3_bind_blob(st, i, v->u.s.p, (int)v->u.s.n, SQLITE_TRANSIENT);
        break;
    }
}

static void load_values(sqlite3 *db, const tval *vals, int n)
{
    sqlite3_stmt *st;
    exec(db, "CREATE TABLE v(id INTEGER PRIMARY KEY, x)");
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO v VALUES(?1, ?2)", -1, &st, NULL), SQLITE_OK);
    for (int k = 0; k < n; k++) {
        sqlite3_bind_int(st, 1, vals[k].id);
        bind_value(st, 2, &vals[k].v);
        cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
}

static int sort_collation;

static int cmp_tval(const void *a, const void *b)
{
    const tval *x = a, *y = b;
    int r = sch_compare(&x->v, &y->v, sort_collation);
    return r ? r : (x->id > y->id) - (x->id < y->id);
}

static const char *coll_name(int coll)
{
    return coll == SCH_COLL_NOCASE ? "NOCASE" : coll == SCH_COLL_RTRIM ? "RTRIM" : "BINARY";
}

static int sign(int r)
{
    return (r > 0) - (r < 0);
}

/* Every pair's sign and the ORDER BY sequence under one collation. */
static void check_against_sqlite(int coll, const char *test)
{
    enum { N = 240 };
    static tval vals[N];
    char sql[256];
    uint64_t seed = seed_rng(test);
    sqlite3 *db = open_db();
    sqlite3_stmt *st;
    for (int k = 0; k < N; k++)
        random_value(&vals[k], k);
    load_values(db, vals, N);

    snprintf(sql, sizeof sql,
             "SELECT a.id, b.id, (a.x < b.x COLLATE %s) - (a.x > b.x COLLATE %s) FROM v a, v b "
             "WHERE a.x IS NOT NULL AND b.x IS NOT NULL",
             coll_name(coll), coll_name(coll));
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int pairs = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int i = sqlite3_column_int(st, 0), j = sqlite3_column_int(st, 1);
        int want = -sqlite3_column_int(st, 2);
        int got = sign(sch_compare(&vals[i].v, &vals[j].v, coll));
        cr_assert_eq(got, want, "seed=%llu %s: values %d and %d: folio %d, sqlite %d",
                     (unsigned long long)seed, coll_name(coll), i, j, got, want);
        pairs++;
    }
    sqlite3_finalize(st);
    cr_assert_gt(pairs, 0);

    snprintf(sql, sizeof sql, "SELECT id FROM v ORDER BY x COLLATE %s, id", coll_name(coll));
    sort_collation = coll;
    qsort(vals, N, sizeof *vals, cmp_tval);
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    for (int k = 0; k < N; k++) {
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        cr_assert_eq(sqlite3_column_int(st, 0), vals[k].id, "seed=%llu %s: position %d",
                     (unsigned long long)seed, coll_name(coll), k);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

Test(schema_collate, binary_order_matches_sqlite)
{
    check_against_sqlite(SCH_COLL_BINARY, "binary");
}

Test(schema_collate, nocase_order_matches_sqlite)
{
    check_against_sqlite(SCH_COLL_NOCASE, "nocase");
}

Test(schema_collate, rtrim_order_matches_sqlite)
{
    check_against_sqlite(SCH_COLL_RTRIM, "rtrim");
}

static int text_cmp(const char *a, const char *b, int coll)
{
    return sign(
        sch_compare_text((const uint8_t *)a, strlen(a), (const uint8_t *)b, strlen(b), coll));
}

Test(schema_collate, text_rules)
{
    cr_assert_eq(text_cmp("abc", "abd", SCH_COLL_BINARY), -1);
    cr_assert_eq(text_cmp("ab", "abc", SCH_COLL_BINARY), -1);
    cr_assert_eq(text_cmp("", "", SCH_COLL_BINARY), 0);
    cr_assert_eq(text_cmp("B", "a", SCH_COLL_BINARY), -1);
    cr_assert_eq(text_cmp("B", "a", SCH_COLL_NOCASE), 1);
    cr_assert_eq(text_cmp("HeLLo", "hello", SCH_COLL_NOCASE), 0);
    /* NOCASE folds to lower case, so '_' (0x5f) sorts before 'a' and 'A'. */
    cr_assert_eq(text_cmp("_", "A", SCH_COLL_NOCASE), -1);
    cr_assert_eq(text_cmp("_", "A", SCH_COLL_BINARY), 1);
    /* Only ASCII letters fold. */
    cr_assert_neq(text_cmp("\xc3\xa9", "\xc3\x89", SCH_COLL_NOCASE), 0);
    cr_assert_eq(text_cmp("a  ", "a", SCH_COLL_RTRIM), 0);
    cr_assert_eq(text_cmp("a\t", "a", SCH_COLL_RTRIM), 1);
    cr_assert_eq(text_cmp("  ", "", SCH_COLL_RTRIM), 0);
    cr_assert_eq(text_cmp("a ", "a", SCH_COLL_BINARY), 1);
    cr_assert_eq(text_cmp("A ", "a", SCH_COLL_RTRIM), -1);
    cr_assert_eq(text_cmp("abc", "abd", SCH_COLL_UNKNOWN), -1);
    cr_assert_eq(sch_compare_text(NULL, 0, NULL, 0, SCH_COLL_BINARY), 0);
}

Test(schema_collate, nocase_stops_at_shared_nul_like_sqlite)
{
    /* "a\0b" and "A\0c" are equal under SQLite's NOCASE (checked in the random
     * test too); BINARY and RTRIM see every byte. */
    const uint8_t x[] = {'a', 0, 'b'}, y[] = {'A', 0, 'c'}, z[] = {'a', 0};
    cr_assert_eq(sch_compare_text(x, 3, y, 3, SCH_COLL_NOCASE), 0);
    cr_assert_gt(sch_compare_text(x, 3, y, 3, SCH_COLL_RTRIM), 0);
    cr_assert_eq(sch_compare_text(y, 3, x, 3, SCH_COLL_NOCASE), 0);
    cr_assert_gt(sch_compare_text(x, 3, z, 2, SCH_COLL_NOCASE), 0);
    sqlite3 *db = open_db();
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT ?1 = ?2 COLLATE NOCASE", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, (const char *)x, 3, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, (const char *)y, 3, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

Test(schema_collate, type_order)
{
    uint8_t bytes[] = {0};
    fmt_value vnull = {.type = FMT_NULL};
    fmt_value vint = {.type = FMT_INTEGER, .u.i = INT64_MAX};
    fmt_value vreal = {.type = FMT_REAL, .u.r = INFINITY};
    fmt_value vtext = {.type = FMT_TEXT, .u.s = {bytes, 0}};
    fmt_value vblob = {.type = FMT_BLOB, .u.s = {bytes, 0}};
    const fmt_value *order[] = {&vnull, &vint, &vreal, &vtext, &vblob};
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++)
            cr_assert_eq(sign(sch_compare(order[i], order[j], SCH_COLL_BINARY)), (i > j) - (i < j),
                         "%d vs %d", i, j);
    fmt_value three = {.type = FMT_INTEGER, .u.i = 3}, three_r = {.type = FMT_REAL, .u.r = 3.0};
    cr_assert_eq(sch_compare(&three, &three_r, SCH_COLL_BINARY), 0);
    cr_assert_eq(sch_compare(&three_r, &three, SCH_COLL_BINARY), 0);
    cr_assert_eq(sch_compare(&vnull, &vnull, SCH_COLL_BINARY), 0);
}

Test(schema_collate, int_real_exact)
{
    const int64_t two53 = (int64_t)1 << 53;
    cr_assert_eq(sch_compare_int_real(two53 + 1, (double)two53), 1);
    cr_assert_eq(sch_compare_int_real(two53, (double)two53), 0);
    cr_assert_eq(sch_compare_int_real(INT64_MAX, ldexp(1.0, 63)), -1);
    cr_assert_eq(sch_compare_int_real(INT64_MIN, -ldexp(1.0, 63)), 0);
    cr_assert_eq(sch_compare_int_real(INT64_MIN, -ldexp(1.0, 63) * 1.0000001), 1);
    cr_assert_eq(sch_compare_int_real(INT64_MAX - 1023, 9223372036854774784.0), 0);
    cr_assert_eq(sch_compare_int_real(INT64_MAX - 1022, 9223372036854774784.0), 1);
    cr_assert_eq(sch_compare_int_real(2, 2.5), -1);
    cr_assert_eq(sch_compare_int_real(-2, -2.5), 1);
    cr_assert_eq(sch_compare_int_real(-3, -2.5), -1);
    cr_assert_eq(sch_compare_int_real(0, -0.0), 0);
    cr_assert_eq(sch_compare_int_real(0, 1e-300), -1);
    cr_assert_eq(sch_compare_int_real(0, INFINITY), -1);
    cr_assert_eq(sch_compare_int_real(INT64_MIN, -INFINITY), 1);
    cr_assert_eq(sch_compare_int_real(0, NAN), 1);
}

Test(schema_collate, int_real_matches_sqlite)
{
    uint64_t seed = seed_rng("int_real");
    sqlite3 *db = open_db();
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT (?1 > ?2) - (?1 < ?2)", -1, &st, NULL), SQLITE_OK);
    for (int k = 0; k < 20000; k++) {
        int64_t i = random_int();
        double r = k % 2 ? random_real() : (double)i;
        if (k % 4 == 1)
            r = nextafter((double)i, rng_next() % 2 ? INFINITY : -INFINITY);
        sqlite3_bind_int64(st, 1, i);
        sqlite3_bind_double(st, 2, r);
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        int want = sqlite3_column_int(st, 0);
        cr_assert_eq(sign(sch_compare_int_real(i, r)), want, "seed=%llu: %lld vs %.17g",
                     (unsigned long long)seed, (long long)i, r);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}
