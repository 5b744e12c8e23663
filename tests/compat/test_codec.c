/*
 * test_codec.c - the struct codec (folio_codec_bind, folio_insert_struct,
 * folio_update_struct, folio_cursor_struct) against libsqlite3.
 *
 * - A struct with a member of every field type, at the limits of each (INT8_MIN
 *   .. UINT64 up to INT64_MAX, FLT_MAX, infinities, NaN, empty and multi-byte
 *   text, a text with a NUL inside, overflowing text and blobs, NULLs through
 *   the null map) goes in through folio_insert_struct; libsqlite3 checks the
 *   file and reads every value back with its type; folio_cursor_struct gives
 *   back the same struct, its TEXT and BLOB members pointing where
 *   folio_cursor_column's bytes are (zero copy).
 * - Partial codecs: columns not named take their DEFAULT on insert and keep
 *   their values on update; generated columns are read, never written; a
 *   field on the INTEGER PRIMARY KEY is the rowid; WITHOUT ROWID tables are
 *   updated by the struct's key.
 * - Every bind error (unknown column, duplicate, misaligned, outside the
 *   struct, wrong size, overlap, type against affinity and STRICT type,
 *   NULL arguments, n <= 0) gives its code and a message naming the field;
 *   every value that does not fit (UINT64 above INT64_MAX on write; 300 into
 *   an int8_t, -1 into a uint32_t, 2.5 into an int32_t, text into a number,
 *   a long text into a char[4], 1e300 into a float on read) fails with its
 *   code and leaves the file, or the struct, unchanged.
 * - Once warm, inserts, updates and reads through a codec call folio's
 *   allocator zero times (os_alloc_count).
 */
#include "compat.h"
#include "os/os.h"

#include <criterion/criterion.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static folio_db *open_db(const char *path)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.sync = FOLIO_SYNC_OFF;
    folio_db *db = NULL;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "folio_open(%s): %s", path,
                 folio_open_errmsg());
    return db;
}

static folio_txn *begin(folio_db *db, unsigned flags)
{
    folio_txn *t = NULL;
    cr_assert_eq(folio_begin(&t, db, flags), FOLIO_OK, "%s", folio_errmsg(db));
    return t;
}

static folio_table *table(folio_db *db, folio_txn *t, const char *name)
{
    folio_table *tb = NULL;
    cr_assert_eq(folio_table_open(&tb, t, name), FOLIO_OK, "%s", folio_errmsg(db));
    return tb;
}

static void exec(folio_db *db, folio_txn *t, const char *ddl)
{
    cr_assert_eq(folio_exec(t, ddl), FOLIO_OK, "%s: %s", ddl, folio_errmsg(db));
}

static void check_ok(const char *path)
{
    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok", "%s: integrity_check: %s", path, why);
    free(why);
}

/* One row of libsqlite3, by rowid (the statement stepped onto it). */
static sqlite3_stmt *sqlite_row(sqlite3 *s, const char *sql, int64_t key)
{
    sqlite3_stmt *st = compat_prepare(s, sql);
    sqlite3_bind_int64(st, 1, key);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s (%" PRId64 "): no row", sql, key);
    return st;
}

static void want_null(sqlite3_stmt *st, int col)
{
    cr_expect_eq(sqlite3_column_type(st, col), SQLITE_NULL, "column %s: type %d, want NULL",
                 sqlite3_column_name(st, col), sqlite3_column_type(st, col));
}

static void want_int(sqlite3_stmt *st, int col, int64_t v)
{
    cr_expect_eq(sqlite3_column_type(st, col), SQLITE_INTEGER, "column %s: type %d, want INTEGER",
                 sqlite3_column_name(st, col), sqlite3_column_type(st, col));
    cr_expect_eq(sqlite3_column_int64(st, col), v, "column %s: %lld, want %lld",
                 sqlite3_column_name(st, col), (long long)sqlite3_column_int64(st, col),
                 (long long)v);
}

static void want_real(sqlite3_stmt *st, int col, double v)
{
    cr_expect_eq(sqlite3_column_type(st, col), SQLITE_FLOAT, "column %s: type %d, want REAL",
                 sqlite3_column_name(st, col), sqlite3_column_type(st, col));
    double got = sqlite3_column_double(st, col);
    cr_expect(memcmp(&got, &v, sizeof v) == 0, "column %s: %.17g, want %.17g",
              sqlite3_column_name(st, col), got, v);
}

static void want_bytes(sqlite3_stmt *st, int col, int type, const void *p, size_t n)
{
    cr_expect_eq(sqlite3_column_type(st, col), type, "column %s: type %d, want %d",
                 sqlite3_column_name(st, col), sqlite3_column_type(st, col), type);
    const void *got = type == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, col)
                                          : sqlite3_column_blob(st, col);
    size_t gn = (size_t)sqlite3_column_bytes(st, col);
    cr_expect(gn == n && (n == 0 || memcmp(got, p, n) == 0),
              "column %s: %zu bytes differ (want %zu)", sqlite3_column_name(st, col), gn, n);
}

/* ---- every type ---- */

#define ALL_DDL                                                                                    \
    "CREATE TABLE t(id INTEGER PRIMARY KEY, i8 INTEGER, i16 INTEGER, i32 INT, i64 INTEGER, "       \
    "u8 INTEGER, u16 INTEGER, u32 INTEGER, u64 INTEGER, f REAL, d DOUBLE, b BOOLEAN, "             \
    "ch CHAR(8), cs TEXT, tx VARCHAR(20), bl BLOB, nd NUMERIC, anyv)"

typedef struct all_row {
    int64_t id;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    float f;
    double d;
    bool b;
    char ch[8];
    const char *cs;
    const char *tx;
    size_t tx_len;
    const void *bl;
    size_t bl_len;
    double nd;
    int32_t anyv;
    uint64_t nulls;
} all_row;

/* Field i is column i of the table (18 columns), then the null map. */
static const folio_field all_fields[] = {
    FOLIO_FIELD(all_row, id, "id", FOLIO_F_I64),
    FOLIO_FIELD(all_row, i8, "i8", FOLIO_F_I8),
    FOLIO_FIELD(all_row, i16, "i16", FOLIO_F_I16),
    FOLIO_FIELD(all_row, i32, "I32", FOLIO_F_I32), /* names are case-insensitive */
    FOLIO_FIELD(all_row, i64, "i64", FOLIO_F_I64),
    FOLIO_FIELD(all_row, u8, "u8", FOLIO_F_U8),
    FOLIO_FIELD(all_row, u16, "u16", FOLIO_F_U16),
    FOLIO_FIELD(all_row, u32, "u32", FOLIO_F_U32),
    FOLIO_FIELD(all_row, u64, "u64", FOLIO_F_U64),
    FOLIO_FIELD(all_row, f, "f", FOLIO_F_FLOAT),
    FOLIO_FIELD(all_row, d, "d", FOLIO_F_DOUBLE),
    FOLIO_FIELD(all_row, b, "b", FOLIO_F_BOOL),
    FOLIO_FIELD(all_row, ch, "ch", FOLIO_F_CHARS),
    FOLIO_FIELD(all_row, cs, "cs", FOLIO_F_CSTR),
    FOLIO_FIELD_LEN(all_row, tx, tx_len, "tx", FOLIO_F_TEXT),
    FOLIO_FIELD_LEN(all_row, bl, bl_len, "bl", FOLIO_F_BLOB),
    FOLIO_FIELD(all_row, nd, "nd", FOLIO_F_DOUBLE),
    FOLIO_FIELD(all_row, anyv, "anyv", FOLIO_F_I32),
    FOLIO_FIELD_NULLS(all_row, nulls),
};
#define ALL_N  ((int)(sizeof all_fields / sizeof all_fields[0]))
#define ALL_NC 18 /* columns */

#define NROWS 7

static char big_text[5000], big_cs[3000];
static uint8_t big_blob[20000];

/* Row k of the test, every member set (so that what it reads back can be
 * compared member by member). */
static all_row make_row(int k)
{
    static const uint8_t three[3] = {0, 1, 2};
    all_row r;
    memset(&r, 0, sizeof r);
    switch (k) {
    case 0: /* minimums, empty text and blob */
        r = (all_row){1,  INT8_MIN, INT16_MIN, INT32_MIN, INT64_MIN, 0,         0,
                      0,  0,        -FLT_MAX,  -DBL_MAX,  false,     "",        "",
                      "", 0,        three,     0,         2.0,       INT32_MIN, 0};
        break;
    case 1: /* maximums, multi-byte text, a NUL inside a text */
        r = (all_row){2,
                      INT8_MAX,
                      INT16_MAX,
                      INT32_MAX,
                      INT64_MAX,
                      UINT8_MAX,
                      UINT16_MAX,
                      UINT32_MAX,
                      (uint64_t)INT64_MAX,
                      FLT_MAX,
                      DBL_MAX,
                      true,
                      "abcdefg",
                      "h\xc3\xa9llo w\xc3\xb6rld",
                      "tx\0mid",
                      6,
                      three,
                      3,
                      2.5,
                      INT32_MAX,
                      0};
        break;
    case 2: /* small values, infinities, subnormals */
        r = (all_row){3,   -1,  -1,  -1, -1,   1, 1,        1,  1, FLT_MIN / 4, -INFINITY, true,
                      "x", "y", "z", 1,  NULL, 0, INFINITY, -1, 0};
        break;
    case 3: /* values that overflow their page */
        memset(big_text, 'T', sizeof big_text);
        memset(big_cs, 'c', sizeof big_cs - 1);
        big_cs[sizeof big_cs - 1] = 0;
        for (size_t i = 0; i < sizeof big_blob; i++)
            big_blob[i] = (uint8_t)(i * 7);
        r = (all_row){100,        5,
                      -5,         500,
                      -500,       200,
                      60000,      4000000000u,
                      1ull << 62, 0.25f,
                      1e-300,     false,
                      "1234567",  big_cs,
                      big_text,   sizeof big_text,
                      big_blob,   sizeof big_blob,
                      -1e300,     7,
                      0};
        break;
    case 4: /* every column NULL, the rowid chosen by folio */
        r.nulls = ~(uint64_t)0;
        r.i8 = 99; /* (ignored: the null map wins) */
        break;
    case 5: /* NaN is stored as NULL; a NULL pointer too */
        r.nulls = FOLIO_NULL_BIT(0);
        r.f = NAN;
        r.d = NAN;
        r.nd = NAN;
        r.ch[0] = 0;
        break;
    default: /* a field on the rowid, past the others */
        r.id = INT64_MAX;
        r.cs = "last";
        break;
    }
    return r;
}

/* What libsqlite3 must read for row r (inserted with rowid `rowid`). */
static void sqlite_matches(sqlite3 *s, const all_row *r, int64_t rowid)
{
    sqlite3_stmt *st = sqlite_row(s, "SELECT * FROM t WHERE rowid = ?", rowid);
    uint64_t nul = r->nulls;
    int64_t ints[] = {rowid, r->i8, r->i16, r->i32, r->i64, r->u8, r->u16, r->u32, (int64_t)r->u64};
    for (int c = 1; c < 9; c++) {
        if (nul & FOLIO_NULL_BIT(c))
            want_null(st, c);
        else
            want_int(st, c, ints[c]);
    }
    want_int(st, 0, rowid);
    double reals[] = {r->f, r->d};
    for (int c = 9; c < 11; c++) {
        if ((nul & FOLIO_NULL_BIT(c)) || isnan(reals[c - 9]))
            want_null(st, c);
        else
            want_real(st, c, reals[c - 9]);
    }
    if (nul & FOLIO_NULL_BIT(11))
        want_null(st, 11);
    else
        want_int(st, 11, r->b);
    if (nul & FOLIO_NULL_BIT(12))
        want_null(st, 12);
    else
        want_bytes(st, 12, SQLITE_TEXT, r->ch, strlen(r->ch));
    if ((nul & FOLIO_NULL_BIT(13)) || !r->cs)
        want_null(st, 13);
    else
        want_bytes(st, 13, SQLITE_TEXT, r->cs, strlen(r->cs));
    if ((nul & FOLIO_NULL_BIT(14)) || !r->tx)
        want_null(st, 14);
    else
        want_bytes(st, 14, SQLITE_TEXT, r->tx, r->tx_len);
    if ((nul & FOLIO_NULL_BIT(15)) || !r->bl)
        want_null(st, 15);
    else
        want_bytes(st, 15, SQLITE_BLOB, r->bl, r->bl_len);
    /* NUMERIC: an integral double is stored as an integer. */
    if ((nul & FOLIO_NULL_BIT(16)) || isnan(r->nd))
        want_null(st, 16);
    else if (r->nd > -1e18 && r->nd < 1e18 && r->nd == (double)(int64_t)r->nd)
        want_int(st, 16, (int64_t)r->nd);
    else
        want_real(st, 16, r->nd);
    if (nul & FOLIO_NULL_BIT(17))
        want_null(st, 17);
    else
        want_int(st, 17, r->anyv);
    sqlite3_finalize(st);
}

/* What folio_cursor_struct must give back for row r. */
static void struct_matches(const all_row *w, const all_row *g, int64_t rowid)
{
    uint64_t want_nulls = 0;
    for (int i = 0; i < ALL_NC; i++)
        if (i > 0 && (w->nulls & FOLIO_NULL_BIT(i)))
            want_nulls |= FOLIO_NULL_BIT(i);
    if (isnan(w->f))
        want_nulls |= FOLIO_NULL_BIT(9);
    if (isnan(w->d))
        want_nulls |= FOLIO_NULL_BIT(10);
    if (isnan(w->nd))
        want_nulls |= FOLIO_NULL_BIT(16);
    if (!w->cs)
        want_nulls |= FOLIO_NULL_BIT(13);
    if (!w->tx)
        want_nulls |= FOLIO_NULL_BIT(14);
    if (!w->bl)
        want_nulls |= FOLIO_NULL_BIT(15);
    cr_expect_eq(g->nulls, want_nulls, "row %" PRId64 ": null map %" PRIx64 ", want %" PRIx64,
                 rowid, g->nulls, want_nulls);
#define N(i) (want_nulls & FOLIO_NULL_BIT(i))
    cr_expect_eq(g->id, rowid);
    cr_expect_eq(g->i8, N(1) ? 0 : w->i8);
    cr_expect_eq(g->i16, N(2) ? 0 : w->i16);
    cr_expect_eq(g->i32, N(3) ? 0 : w->i32);
    cr_expect_eq(g->i64, N(4) ? 0 : w->i64);
    cr_expect_eq(g->u8, N(5) ? 0 : w->u8);
    cr_expect_eq(g->u16, N(6) ? 0 : w->u16);
    cr_expect_eq(g->u32, N(7) ? 0 : w->u32);
    cr_expect_eq(g->u64, N(8) ? 0 : w->u64);
    float wf = N(9) ? 0.0f : w->f;
    double wd = N(10) ? 0.0 : w->d, wnd = N(16) ? 0.0 : w->nd;
    cr_expect(memcmp(&g->f, &wf, sizeof wf) == 0, "row %" PRId64 ": f %g, want %g", rowid, g->f,
              wf);
    cr_expect(memcmp(&g->d, &wd, sizeof wd) == 0, "row %" PRId64 ": d %g, want %g", rowid, g->d,
              wd);
    cr_expect(memcmp(&g->nd, &wnd, sizeof wnd) == 0, "row %" PRId64 ": nd %g, want %g", rowid,
              g->nd, wnd);
    cr_expect_eq(g->b, N(11) ? false : w->b);
    char wch[8] = {0};
    if (!N(12))
        memcpy(wch, w->ch, strlen(w->ch));
    cr_expect(memcmp(g->ch, wch, sizeof wch) == 0, "row %" PRId64 ": ch \"%.8s\"", rowid, g->ch);
    if (N(13)) {
        cr_expect_null(g->cs);
    } else {
        cr_assert_not_null(g->cs);
        cr_expect_str_eq(g->cs, w->cs);
        cr_expect_neq(g->cs, w->cs, "a CSTR is a copy");
    }
    if (N(14)) {
        cr_expect(g->tx == NULL && g->tx_len == 0);
    } else {
        cr_assert_not_null(g->tx, "an empty text is not NULL");
        cr_expect(g->tx_len == w->tx_len && memcmp(g->tx, w->tx, w->tx_len) == 0);
    }
    if (N(15)) {
        cr_expect(g->bl == NULL && g->bl_len == 0);
    } else {
        cr_assert_not_null(g->bl, "an empty blob is not NULL");
        cr_expect(g->bl_len == w->bl_len && memcmp(g->bl, w->bl, w->bl_len) == 0);
    }
    cr_expect_eq(g->anyv, N(17) ? 0 : w->anyv);
#undef N
}

Test(codec, every_type_round_trips)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "all.db");
    folio_db *db = open_db(path);
    folio_txn *t = begin(db, FOLIO_TXN_WRITE);
    exec(db, t, ALL_DDL);
    folio_codec *c = NULL;
    cr_assert_eq(folio_codec_bind(&c, table(db, t, "t"), all_fields, ALL_N, sizeof(all_row)),
                 FOLIO_OK, "%s", folio_errmsg(db));
    int64_t rowids[NROWS];
    for (int k = 0; k < NROWS; k++) {
        all_row r = make_row(k);
        rowids[k] = -1;
        cr_assert_eq(folio_insert_struct(&rowids[k], c, &r), FOLIO_OK, "row %d: %s", k,
                     folio_errmsg(db));
        if (!(r.nulls & FOLIO_NULL_BIT(0)))
            cr_expect_eq(rowids[k], r.id, "row %d: rowid %" PRId64, k, rowids[k]);
    }
    cr_expect_eq(rowids[4], 101, "a NULL rowid field lets folio choose the rowid");
    /* No explicit free: the codec goes with its transaction. */
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);

    check_ok(path);
    sqlite3 *s = compat_sqlite_open_ro(path);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t"), NROWS);
    for (int k = 0; k < NROWS; k++) {
        all_row r = make_row(k);
        sqlite_matches(s, &r, rowids[k]);
    }
    compat_sqlite_close(s);

    /* Read back, in a read transaction. */
    db = open_db(path);
    t = begin(db, FOLIO_TXN_READ);
    folio_table *tb = table(db, t, "t");
    cr_assert_eq(folio_codec_bind(&c, tb, all_fields, ALL_N, sizeof(all_row)), FOLIO_OK, "%s",
                 folio_errmsg(db));
    folio_cursor *cur;
    cr_assert_eq(folio_cursor_open(&cur, tb, NULL), FOLIO_OK);
    int k = 0;
    for (int rc = folio_cursor_first(cur); rc == FOLIO_ROW; rc = folio_cursor_next(cur), k++) {
        cr_assert_lt(k, NROWS);
        all_row g;
        memset(&g, 0xa5, sizeof g);
        cr_assert_eq(folio_cursor_struct(cur, c, &g), FOLIO_OK, "row %d: %s", k, folio_errmsg(db));
        all_row w = make_row(k);
        struct_matches(&w, &g, rowids[k]);
        /* Zero copy: where folio_cursor_column's bytes are. */
        folio_value v;
        cr_assert_eq(folio_cursor_column(&v, cur, 14), FOLIO_OK);
        if (v.type == FOLIO_TEXT)
            cr_expect_eq((const void *)g.tx, v.u.s.p, "row %d: the text is not zero-copy", k);
        cr_assert_eq(folio_cursor_column(&v, cur, 15), FOLIO_OK);
        if (v.type == FOLIO_BLOB)
            cr_expect_eq(g.bl, v.u.s.p, "row %d: the blob is not zero-copy", k);
    }
    cr_expect_eq(k, NROWS);
    /* A codec may be freed early; NULL is harmless. */
    folio_codec_free(c);
    folio_codec_free(NULL);
    folio_cursor_close(cur);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* A value on one page is read in place: the pointer lies inside one page of
 * the cache (or the map), not in the codec or the struct. */
Test(codec, small_text_points_into_the_page)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "zc.db");
    folio_db *db = open_db(path);
    folio_txn *t = begin(db, FOLIO_TXN_WRITE);
    exec(db, t, "CREATE TABLE z(id INTEGER PRIMARY KEY, s TEXT, b BLOB)");
    typedef struct z_row {
        int64_t id;
        const char *s;
        size_t n;
        const void *b;
        size_t bn;
    } z_row;
    const folio_field f[] = {FOLIO_FIELD(z_row, id, "id", FOLIO_F_I64),
                             FOLIO_FIELD_LEN(z_row, s, n, "s", FOLIO_F_TEXT),
                             FOLIO_FIELD_LEN(z_row, b, bn, "b", FOLIO_F_BLOB)};
    folio_codec *c;
    folio_table *tb = table(db, t, "z");
    cr_assert_eq(folio_codec_bind(&c, tb, f, 3, sizeof(z_row)), FOLIO_OK, "%s", folio_errmsg(db));
    z_row r = {7, "hello page", 10, "\x01\x02", 2};
    cr_assert_eq(folio_insert_struct(NULL, c, &r), FOLIO_OK, "%s", folio_errmsg(db));
    folio_cursor *cur;
    cr_assert_eq(folio_cursor_open(&cur, tb, NULL), FOLIO_OK);
    cr_assert_eq(folio_cursor_seek_rowid(cur, 7), FOLIO_ROW);
    z_row g;
    memset(&g, 0, sizeof g);
    cr_assert_eq(folio_cursor_struct(cur, c, &g), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert(g.n == 10 && memcmp(g.s, "hello page", 10) == 0);
    cr_assert(g.bn == 2 && memcmp(g.b, "\x01\x02", 2) == 0);
    /* The two values are 10 bytes apart in the record (the blob's bytes
     * follow the text's): both lie in one buffer, which is the page. */
    cr_expect_eq((const char *)g.b, g.s + 10, "text and blob are not adjacent in the record");
    cr_expect(g.s != r.s && (const char *)g.s != (const char *)&g);
    folio_cursor_close(cur);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    check_ok(path);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- partial codecs, defaults, generated columns, the rowid ---- */

#define P_DDL                                                                                      \
    "CREATE TABLE p(id INTEGER PRIMARY KEY, a INTEGER DEFAULT 42, b TEXT DEFAULT 'dflt', "         \
    "c REAL, g INTEGER AS (a * 2) STORED, v AS (b || '!'), e TEXT DEFAULT (upper('e')))"

typedef struct p_row {
    int64_t id;
    int32_t a;
    char b[16];
    double c;
    int64_t g;
    const char *v;
    size_t vn;
    uint64_t nulls;
} p_row;

Test(codec, partial_codecs_defaults_generated_and_updates)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "p.db");
    folio_db *db = open_db(path);
    folio_txn *t = begin(db, FOLIO_TXN_WRITE);
    exec(db, t, P_DDL);
    folio_table *tb = table(db, t, "p");
    /* id, c and the generated columns: a, b and e take their defaults. */
    const folio_field f1[] = {
        FOLIO_FIELD(p_row, id, "id", FOLIO_F_I64), FOLIO_FIELD(p_row, c, "c", FOLIO_F_DOUBLE),
        FOLIO_FIELD(p_row, g, "g", FOLIO_F_I64),   FOLIO_FIELD_LEN(p_row, v, vn, "v", FOLIO_F_TEXT),
        FOLIO_FIELD_NULLS(p_row, nulls),
    };
    /* a and b only: no rowid field. */
    const folio_field f2[] = {
        FOLIO_FIELD(p_row, a, "a", FOLIO_F_I32),
        FOLIO_FIELD(p_row, b, "b", FOLIO_F_CHARS),
    };
    /* The rowid and c. */
    const folio_field f3[] = {
        FOLIO_FIELD(p_row, c, "C", FOLIO_F_DOUBLE),
        FOLIO_FIELD(p_row, id, "ID", FOLIO_F_I64),
    };
    folio_codec *c1, *c2, *c3;
    cr_assert_eq(folio_codec_bind(&c1, tb, f1, 5, sizeof(p_row)), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_codec_bind(&c2, tb, f2, 2, sizeof(p_row)), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_codec_bind(&c3, tb, f3, 2, sizeof(p_row)), FOLIO_OK, "%s", folio_errmsg(db));
    /* Generated members are ignored on write. */
    p_row r = {1, 0, "", 1.5, 999, "ignored", 7, 0};
    int64_t rowid;
    cr_assert_eq(folio_insert_struct(&rowid, c1, &r), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(rowid, 1);
    r = (p_row){0, 0, "", 0, 0, NULL, 0, FOLIO_NULL_BIT(0) | FOLIO_NULL_BIT(1)};
    cr_assert_eq(folio_insert_struct(&rowid, c1, &r), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(rowid, 2, "a NULL id: the next rowid");
    r = (p_row){0, 5, "five", 0, 0, NULL, 0, 0};
    cr_assert_eq(folio_insert_struct(&rowid, c2, &r), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(rowid, 3);
    /* Updates keep the columns the codec does not name. */
    r = (p_row){0, 7, "x", 0, 0, NULL, 0, 0};
    cr_assert_eq(folio_update_struct(c2, 1, &r), FOLIO_OK, "%s", folio_errmsg(db));
    r = (p_row){3, 0, "", 3.25, 0, NULL, 0, 0};
    cr_assert_eq(folio_update_struct(c3, 3, &r), FOLIO_OK, "%s", folio_errmsg(db));
    /* A different id moves the row, as UPDATE p SET id = 50 WHERE rowid = 2. */
    r = (p_row){50, 0, "", -2.0, 0, NULL, 0, 0};
    cr_assert_eq(folio_update_struct(c3, 2, &r), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_update_struct(c2, 12345, &r), FOLIO_NOTFOUND);
    /* Read back through c1: generated columns computed. */
    folio_cursor *cur;
    cr_assert_eq(folio_cursor_open(&cur, tb, NULL), FOLIO_OK);
    cr_assert_eq(folio_cursor_seek_rowid(cur, 1), FOLIO_ROW);
    p_row g;
    memset(&g, 0, sizeof g);
    cr_assert_eq(folio_cursor_struct(cur, c1, &g), FOLIO_OK, "%s", folio_errmsg(db));
    cr_expect(g.id == 1 && g.c == 1.5 && g.g == 14 && g.nulls == 0);
    cr_expect(g.vn == 2 && memcmp(g.v, "x!", 2) == 0);
    cr_assert_eq(folio_cursor_struct(cur, c2, &g), FOLIO_OK, "%s", folio_errmsg(db));
    cr_expect(g.a == 7 && strcmp(g.b, "x") == 0);
    cr_assert_eq(folio_cursor_seek_rowid(cur, 50), FOLIO_ROW);
    cr_assert_eq(folio_cursor_struct(cur, c1, &g), FOLIO_OK, "%s", folio_errmsg(db));
    cr_expect(g.id == 50 && g.c == -2.0 && g.g == 84 && g.nulls == 0,
              "id %" PRId64 " c %g g %" PRId64 " nulls %" PRIx64, g.id, g.c, g.g, g.nulls);
    folio_cursor_close(cur);
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);

    check_ok(path);
    sqlite3 *s = compat_sqlite_open_ro(path);
    char *all = compat_query_text(
        s, "SELECT group_concat(id||':'||quote(a)||':'||quote(b)||':'||quote(c)||':'||quote(g)||"
           "':'||quote(v)||':'||quote(e), ' ') FROM (SELECT * FROM p ORDER BY id)");
    cr_expect_str_eq(all, "1:7:'x':1.5:14:'x!':'E' 3:5:'five':3.25:10:'five!':'E' "
                          "50:42:'dflt':-2.0:84:'dflt!':'E'");
    free(all);
    compat_sqlite_close(s);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* WITHOUT ROWID: the row of an update is named by the struct's key. */
Test(codec, without_rowid_updates_by_key)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "w.db");
    folio_db *db = open_db(path);
    folio_txn *t = begin(db, FOLIO_TXN_WRITE);
    exec(db, t,
         "CREATE TABLE w(k1 TEXT, k2 INTEGER, val REAL, note TEXT DEFAULT 'n', "
         "PRIMARY KEY(k1, k2 DESC)) WITHOUT ROWID");
    folio_table *tb = table(db, t, "w");
    typedef struct w_row {
        char k1[12];
        int32_t k2;
        double val;
    } w_row;
    const folio_field fk[] = {FOLIO_FIELD(w_row, val, "val", FOLIO_F_DOUBLE),
                              FOLIO_FIELD(w_row, k2, "k2", FOLIO_F_I32),
                              FOLIO_FIELD(w_row, k1, "k1", FOLIO_F_CHARS)};
    folio_codec *c, *half;
    cr_assert_eq(folio_codec_bind(&c, tb, fk, 3, sizeof(w_row)), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_codec_bind(&half, tb, fk, 2, sizeof(w_row)), FOLIO_OK, "%s",
                 folio_errmsg(db));
    for (int i = 0; i < 50; i++) {
        w_row r;
        memset(&r, 0, sizeof r);
        snprintf(r.k1, sizeof r.k1, "key%02d", i % 5);
        r.k2 = i;
        r.val = i * 0.5;
        int64_t rowid = -1;
        cr_assert_eq(folio_insert_struct(&rowid, c, &r), FOLIO_OK, "%s", folio_errmsg(db));
        cr_expect_eq(rowid, 0);
    }
    w_row r = {"key03", 13, 99.5};
    cr_assert_eq(folio_update_struct(c, 0, &r), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_update_struct(c, 5, &r), FOLIO_MISUSE);
    cr_expect(strstr(folio_errmsg(db), "WITHOUT ROWID"), "%s", folio_errmsg(db));
    cr_assert_eq(folio_update_struct(half, 0, &r), FOLIO_MISUSE);
    cr_expect(strstr(folio_errmsg(db), "key column k1"), "%s", folio_errmsg(db));
    w_row missing = {"key03", 14, 1.0};
    cr_assert_eq(folio_update_struct(c, 0, &missing), FOLIO_NOTFOUND);
    cr_assert_eq(folio_insert_struct(NULL, c, &r), FOLIO_CONSTRAINT);
    cr_expect(strstr(folio_errmsg(db), "UNIQUE constraint failed: w.k1, w.k2"), "%s",
              folio_errmsg(db));
    /* Read in key order (k1, then k2 descending). */
    folio_cursor *cur;
    cr_assert_eq(folio_cursor_open(&cur, tb, NULL), FOLIO_OK);
    cr_assert_eq(folio_cursor_first(cur), FOLIO_ROW);
    w_row g;
    cr_assert_eq(folio_cursor_struct(cur, c, &g), FOLIO_OK, "%s", folio_errmsg(db));
    cr_expect(strcmp(g.k1, "key00") == 0 && g.k2 == 45 && g.val == 22.5, "%s %d %g", g.k1, g.k2,
              g.val);
    folio_cursor_close(cur);
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    check_ok(path);
    sqlite3 *s = compat_sqlite_open_ro(path);
    cr_expect_eq(compat_query_int(s, "SELECT count(*) FROM w"), 50);
    cr_expect_eq(compat_query_int(s, "SELECT count(*) FROM w WHERE note = 'n' AND "
                                     "val = CASE WHEN k2 = 13 THEN 99.5 ELSE k2 * 0.5 END AND "
                                     "k1 = 'key0' || (k2 %% 5) AND typeof(k2) = 'integer'"),
                 50);
    compat_sqlite_close(s);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- bind errors ---- */

typedef struct e_row {
    int64_t id;
    int32_t n;
    double r;
    char s[8];
    const void *bl;
    size_t bl_len;
    int64_t x;
    uint64_t nulls;
} e_row;

typedef struct bind_case {
    const char *what;
    folio_field f[3];
    int n;
    size_t size;
    int rc;
    const char *msg; /* a part of the message */
} bind_case;

#define E(member, col, type) FOLIO_FIELD(e_row, member, col, type)
#define ES                   sizeof(e_row)

static const bind_case bind_cases[] = {
    {"n = 0", {E(id, "id", FOLIO_F_I64)}, 0, ES, FOLIO_MISUSE, "n > 0"},
    {"n < 0", {E(id, "id", FOLIO_F_I64)}, -3, ES, FOLIO_MISUSE, "n > 0"},
    {"struct size 0", {E(id, "id", FOLIO_F_I64)}, 1, 0, FOLIO_MISUSE, "struct_size > 0"},
    {"unknown type 0",
     {{"n", offsetof(e_row, n), 0, 4, 0}},
     1,
     ES,
     FOLIO_MISUSE,
     "field 0 (column n): unknown type 0"},
    {"unknown type 99",
     {{"n", offsetof(e_row, n), 99, 4, 0}},
     1,
     ES,
     FOLIO_MISUSE,
     "unknown type 99"},
    {"no column name", {E(n, NULL, FOLIO_F_I32)}, 1, ES, FOLIO_MISUSE, "field 0 (I32): no column"},
    {"unknown column",
     {E(id, "id", FOLIO_F_I64), E(n, "nope", FOLIO_F_I32)},
     2,
     ES,
     FOLIO_NOTFOUND_ERR,
     "no such column: nope (field 1; table e)"},
    {"a column twice",
     {E(id, "n", FOLIO_F_I64), E(n, "N", FOLIO_F_I32)},
     2,
     ES,
     FOLIO_MISUSE,
     "column n is named twice (fields 0 and 1)"},
    {"misaligned",
     {{"n", 1, FOLIO_F_I32, 4, 0}},
     1,
     ES,
     FOLIO_MISUSE,
     "field 0 (column n): offset 1 is not aligned for I32 (alignment 4)"},
    {"misaligned double",
     {{"r", 4, FOLIO_F_DOUBLE, 0, 0}},
     1,
     ES,
     FOLIO_MISUSE,
     "not aligned for DOUBLE"},
    {"outside the struct",
     {E(x, "x", FOLIO_F_I64)},
     1,
     offsetof(e_row, x) + 4,
     FOLIO_MISUSE,
     "field 0 (column x): bytes"},
    {"offset far outside",
     {{"x", (size_t)-8, FOLIO_F_I64, 8, 0}},
     1,
     ES,
     FOLIO_MISUSE,
     "outside the struct"},
    {"wrong size",
     {{"n", offsetof(e_row, id), FOLIO_F_I32, 8, 0}},
     1,
     ES,
     FOLIO_MISUSE,
     "field 0 (column n): size 8 is not the size of an I32 member (4)"},
    {"chars without size",
     {{"s", offsetof(e_row, s), FOLIO_F_CHARS, 0, 0}},
     1,
     ES,
     FOLIO_MISUSE,
     "needs its size"},
    {"blob length outside",
     {{"bl", offsetof(e_row, bl), FOLIO_F_BLOB, 0, ES}},
     1,
     ES,
     FOLIO_MISUSE,
     "its length at"},
    {"blob length misaligned",
     {{"bl", offsetof(e_row, bl), FOLIO_F_BLOB, 0, offsetof(e_row, bl_len) + 1}},
     1,
     ES,
     FOLIO_MISUSE,
     "length's offset"},
    {"blob length on its pointer",
     {{"bl", offsetof(e_row, bl), FOLIO_F_BLOB, 0, offsetof(e_row, bl)}},
     1,
     ES,
     FOLIO_MISUSE,
     "its length overlaps the member of field 0"},
    {"overlap",
     {E(id, "id", FOLIO_F_I64), {"n", offsetof(e_row, id) + 4, FOLIO_F_I32, 4, 0}},
     2,
     ES,
     FOLIO_MISUSE,
     "field 1 (column n): its member overlaps the member of field 0 (column id)"},
    {"overlap with a length",
     {FOLIO_FIELD_LEN(e_row, bl, bl_len, "bl", FOLIO_F_BLOB),
      {"x", offsetof(e_row, bl_len), FOLIO_F_I64, 8, 0}},
     2,
     ES,
     FOLIO_MISUSE,
     "overlaps the length of field 0"},
    {"two null maps",
     {FOLIO_FIELD_NULLS(e_row, nulls), E(n, "n", FOLIO_F_I32), FOLIO_FIELD_NULLS(e_row, x)},
     3,
     ES,
     FOLIO_MISUSE,
     "field 2: a second NULLS field (the first is 0)"},
    {"a null map with a column",
     {{"n", offsetof(e_row, nulls), FOLIO_F_NULLS, 8, 0}},
     1,
     ES,
     FOLIO_MISUSE,
     "names no column"},
    {"a null map alone", {FOLIO_FIELD_NULLS(e_row, nulls)}, 1, ES, FOLIO_MISUSE, "name no column"},
    {"text field on an INTEGER column",
     {E(s, "n", FOLIO_F_CHARS)},
     1,
     ES,
     FOLIO_MISMATCH,
     "field 0: column n (INTEGER affinity) does not take a CHARS field"},
    {"integer field on a REAL column",
     {E(n, "r", FOLIO_F_I32)},
     1,
     ES,
     FOLIO_MISMATCH,
     "column r (REAL affinity) does not take an I32 field"},
    {"integer field on a TEXT column",
     {E(n, "s", FOLIO_F_I32)},
     1,
     ES,
     FOLIO_MISMATCH,
     "(TEXT affinity)"},
    {"blob field on a TEXT column",
     {FOLIO_FIELD_LEN(e_row, bl, bl_len, "s", FOLIO_F_BLOB)},
     1,
     ES,
     FOLIO_MISMATCH,
     "does not take a BLOB field"},
    {"text field on a NUMERIC column",
     {E(s, "nu", FOLIO_F_CHARS)},
     1,
     ES,
     FOLIO_MISMATCH,
     "(NUMERIC affinity)"},
    {"double on the rowid",
     {E(r, "id", FOLIO_F_DOUBLE)},
     1,
     ES,
     FOLIO_MISMATCH,
     "column id (INTEGER PRIMARY KEY) does not take a DOUBLE field"},
    {"bool on the rowid",
     {{"id", offsetof(e_row, s), FOLIO_F_BOOL, 0, 0}},
     1,
     ES,
     FOLIO_MISMATCH,
     "does not take a BOOL field"},
};

static const bind_case strict_cases[] = {
    {"double on STRICT INT",
     {E(r, "i", FOLIO_F_DOUBLE)},
     1,
     ES,
     FOLIO_MISMATCH,
     "column i (STRICT INTEGER) does not take a DOUBLE field"},
    {"integer on STRICT REAL", {E(id, "r", FOLIO_F_I64)}, 1, ES, FOLIO_MISMATCH, "(STRICT REAL)"},
    {"integer on STRICT BLOB", {E(n, "b", FOLIO_F_I32)}, 1, ES, FOLIO_MISMATCH, "(STRICT BLOB)"},
    {"chars on STRICT BLOB", {E(s, "b", FOLIO_F_CHARS)}, 1, ES, FOLIO_MISMATCH, "(STRICT BLOB)"},
    {"blob on STRICT TEXT",
     {FOLIO_FIELD_LEN(e_row, bl, bl_len, "t", FOLIO_F_BLOB)},
     1,
     ES,
     FOLIO_MISMATCH,
     "(STRICT TEXT)"},
};

static void run_cases(folio_db *db, folio_table *tb, const bind_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const bind_case *k = &cases[i];
        folio_codec *c = (folio_codec *)&c; /* (a value the call must clear) */
        int rc = folio_codec_bind(&c, tb, k->f, k->n, k->size);
        cr_expect_eq(rc, k->rc, "%s: %s, want %s (%s)", k->what, compat_rc_name(rc),
                     compat_rc_name(k->rc), folio_errmsg(db));
        cr_expect_null(c, "%s: *out is not NULL after a failure", k->what);
        cr_expect(strstr(folio_errmsg(db), k->msg) != NULL, "%s: message \"%s\" lacks \"%s\"",
                  k->what, folio_errmsg(db), k->msg);
    }
}

Test(codec, bind_errors_are_clear)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "e.db");
    folio_db *db = open_db(path);
    folio_txn *t = begin(db, FOLIO_TXN_WRITE);
    exec(db, t,
         "CREATE TABLE e(id INTEGER PRIMARY KEY, n INTEGER, r REAL, s TEXT, bl BLOB, x, "
         "nu NUMERIC)");
    exec(db, t, "CREATE TABLE st(i INT, r REAL, t TEXT, b BLOB, a ANY) STRICT");
    folio_table *tb = table(db, t, "e"), *stb = table(db, t, "st");
    run_cases(db, tb, bind_cases, sizeof bind_cases / sizeof bind_cases[0]);
    run_cases(db, stb, strict_cases, sizeof strict_cases / sizeof strict_cases[0]);

    /* NULL arguments. */
    const folio_field one[] = {E(id, "id", FOLIO_F_I64)};
    folio_codec *c = NULL;
    cr_expect_eq(folio_codec_bind(NULL, tb, one, 1, ES), FOLIO_MISUSE);
    cr_expect_eq(folio_codec_bind(&c, NULL, one, 1, ES), FOLIO_MISUSE);
    cr_expect_eq(folio_codec_bind(&c, tb, NULL, 1, ES), FOLIO_MISUSE);
    cr_expect(strstr(folio_errmsg(db), "fields != NULL"), "%s", folio_errmsg(db));
    cr_expect_eq(folio_insert_struct(NULL, NULL, &c), FOLIO_MISUSE);
    cr_expect_eq(folio_update_struct(NULL, 1, &c), FOLIO_MISUSE);
    cr_expect_eq(folio_cursor_struct(NULL, NULL, &c), FOLIO_MISUSE);

    /* What each column takes: every type on a column with no type (BLOB
     * affinity) and on STRICT ANY; integers and reals on NUMERIC. */
    const folio_field any[] = {E(n, "x", FOLIO_F_I32), E(r, "nu", FOLIO_F_DOUBLE),
                               FOLIO_FIELD_LEN(e_row, bl, bl_len, "bl", FOLIO_F_BLOB)};
    cr_expect_eq(folio_codec_bind(&c, tb, any, 3, ES), FOLIO_OK, "%s", folio_errmsg(db));
    const folio_field any2[] = {E(s, "x", FOLIO_F_CHARS),
                                {"nu", offsetof(e_row, n), FOLIO_F_BOOL, 0, 0}};
    cr_expect_eq(folio_codec_bind(&c, tb, any2, 2, ES), FOLIO_OK, "%s", folio_errmsg(db));
    const folio_field sany[] = {E(r, "a", FOLIO_F_DOUBLE), E(n, "i", FOLIO_F_I32),
                                E(s, "t", FOLIO_F_CHARS), E(x, "r", FOLIO_F_I64)};
    cr_expect_eq(folio_codec_bind(&c, stb, sany, 3, ES), FOLIO_OK, "%s", folio_errmsg(db));
    cr_expect_eq(folio_codec_bind(&c, stb, sany, 4, ES), FOLIO_MISMATCH);
    cr_assert_eq(folio_rollback(t), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- values that do not fit ---- */

Test(codec, write_errors_leave_nothing)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "we.db");
    folio_db *db = open_db(path);
    folio_txn *t = begin(db, FOLIO_TXN_WRITE);
    exec(db, t,
         "CREATE TABLE e(id INTEGER PRIMARY KEY, u, s TEXT, bl BLOB, NOT_NULL INT NOT NULL)");
    typedef struct we_row {
        int64_t id;
        uint64_t u;
        char s[4];
        const void *bl;
        size_t bl_len;
        double nn;
    } we_row;
    const folio_field f[] = {FOLIO_FIELD(we_row, id, "id", FOLIO_F_I64),
                             FOLIO_FIELD(we_row, u, "u", FOLIO_F_U64),
                             FOLIO_FIELD(we_row, s, "s", FOLIO_F_CHARS),
                             FOLIO_FIELD_LEN(we_row, bl, bl_len, "bl", FOLIO_F_BLOB),
                             FOLIO_FIELD(we_row, nn, "not_null", FOLIO_F_DOUBLE)};
    folio_codec *c;
    cr_assert_eq(folio_codec_bind(&c, table(db, t, "e"), f, 5, sizeof(we_row)), FOLIO_OK, "%s",
                 folio_errmsg(db));
    we_row r = {1, (uint64_t)INT64_MAX + 1, "abc", NULL, 0, 1.0};
    cr_expect_eq(folio_insert_struct(NULL, c, &r), FOLIO_MISMATCH);
    cr_expect(strstr(folio_errmsg(db), "field 1 (column u): 9223372036854775808 does not fit an "
                                       "INTEGER"),
              "%s", folio_errmsg(db));
    r.u = UINT64_MAX;
    cr_expect_eq(folio_insert_struct(NULL, c, &r), FOLIO_MISMATCH);
    r.u = 1;
    memcpy(r.s, "abcd", 4); /* no NUL */
    cr_expect_eq(folio_insert_struct(NULL, c, &r), FOLIO_MISUSE);
    cr_expect(strstr(folio_errmsg(db), "char[4] holds no NUL"), "%s", folio_errmsg(db));
    r.s[3] = 0;
    r.bl_len = 5; /* with a NULL pointer */
    cr_expect_eq(folio_insert_struct(NULL, c, &r), FOLIO_MISUSE);
    cr_expect(strstr(folio_errmsg(db), "a length of 5 with a NULL pointer"), "%s",
              folio_errmsg(db));
    r.bl_len = 0;
    r.nn = NAN; /* NULL, into a NOT NULL column */
    cr_expect_eq(folio_insert_struct(NULL, c, &r), FOLIO_CONSTRAINT);
    cr_expect(strstr(folio_errmsg(db), "NOT NULL constraint failed: e.NOT_NULL"), "%s",
              folio_errmsg(db));
    r.nn = 2.0;
    /* A struct that is not aligned for its members. */
    alignas(16) unsigned char buf[sizeof(we_row) + 16];
    memcpy(buf + 4, &r, sizeof r);
    cr_expect_eq(folio_insert_struct(NULL, c, buf + 4), FOLIO_MISUSE);
    cr_expect(strstr(folio_errmsg(db), "not aligned"), "%s", folio_errmsg(db));
    cr_expect_eq(folio_insert_struct(NULL, c, NULL), FOLIO_MISUSE);
    cr_expect_eq(folio_update_struct(c, 1, NULL), FOLIO_MISUSE);
    /* Then one good row: the failures left nothing behind. */
    int64_t rowid;
    cr_assert_eq(folio_insert_struct(&rowid, c, &r), FOLIO_OK, "%s", folio_errmsg(db));
    r.u = UINT64_MAX;
    cr_expect_eq(folio_update_struct(c, 1, &r), FOLIO_MISMATCH);
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    check_ok(path);
    sqlite3 *s = compat_sqlite_open_ro(path);
    char *all = compat_query_text(
        s, "SELECT group_concat(id||','||quote(u)||','||quote(s)||','||quote(bl)||','||"
           "quote(not_null), ' ') FROM e");
    cr_expect_str_eq(all, "1,1,'abc',NULL,2");
    free(all);
    compat_sqlite_close(s);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

typedef struct rd_row {
    int8_t i8;
    uint32_t u32;
    int32_t i32;
    float f;
    char ch[4];
    uint64_t u64;
    int64_t i64;
    bool b;
    double d;
    const void *bl;
    size_t bl_len;
    const char *cs;
} rd_row;

/* One member read from column a of row `rowid` of table r (written by
 * libsqlite3): the code, and on failure the struct unchanged. */
static int read_one(folio_db *db, folio_txn *t, const folio_field *f, int64_t rowid, rd_row *out,
                    const char *msg)
{
    folio_codec *c;
    folio_table *tb = table(db, t, "r");
    cr_assert_eq(folio_codec_bind(&c, tb, f, 1, sizeof(rd_row)), FOLIO_OK, "%s", folio_errmsg(db));
    folio_cursor *cur;
    cr_assert_eq(folio_cursor_open(&cur, tb, NULL), FOLIO_OK);
    cr_assert_eq(folio_cursor_seek_rowid(cur, rowid), FOLIO_ROW);
    rd_row before;
    memset(&before, 0x5a, sizeof before);
    before.b = false; /* (a bool holds 0 or 1) */
    *out = before;
    int rc = folio_cursor_struct(cur, c, out);
    if (rc != FOLIO_OK)
        cr_expect(memcmp(out, &before, sizeof before) == 0,
                  "row %" PRId64 ": a failed read "
                  "changed the struct",
                  rowid);
    if (msg)
        cr_expect(strstr(folio_errmsg(db), msg), "row %" PRId64 ": \"%s\" lacks \"%s\"", rowid,
                  folio_errmsg(db), msg);
    folio_cursor_close(cur);
    return rc; /* (the codec goes with the transaction: g.cs points into it) */
}

#define R(member, type)                                                                            \
    {                                                                                              \
        FOLIO_FIELD(rd_row, member, "a", type)                                                     \
    }

Test(codec, read_conversions_and_refusals)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "r.db");
    compat_run(path, "CREATE TABLE r(a, other);"
                     "INSERT INTO r(rowid, a) VALUES (1, 300), (2, -1), (3, 2.5), (4, 'text'), "
                     "(5, 'long text'), (6, 1e300), (7, 9.3e18), (8, 3.0), (9, 5), (10, 7), "
                     "(11, x'00ff'), (12, 'abc'), (13, 127), (14, -9.2e18), (15, NULL);"
                     "CREATE TABLE q(x INTEGER)");
    folio_db *db = open_db(path);
    folio_txn *t = begin(db, FOLIO_TXN_READ);
    rd_row g;
    const folio_field i8[] = R(i8, FOLIO_F_I8), u32[] = R(u32, FOLIO_F_U32),
                      i32[] = R(i32, FOLIO_F_I32), fl[] = R(f, FOLIO_F_FLOAT),
                      ch[] = R(ch, FOLIO_F_CHARS), u64[] = R(u64, FOLIO_F_U64),
                      i64[] = R(i64, FOLIO_F_I64), b[] = R(b, FOLIO_F_BOOL),
                      d[] = R(d, FOLIO_F_DOUBLE), cs[] = R(cs, FOLIO_F_CSTR),
                      bl[] = {FOLIO_FIELD_LEN(rd_row, bl, bl_len, "a", FOLIO_F_BLOB)};
    cr_expect_eq(read_one(db, t, i8, 1, &g, "column a: the value 300 does not fit I8 field 0"),
                 FOLIO_MISMATCH);
    cr_expect_eq(read_one(db, t, u32, 2, &g, "the value -1 does not fit U32"), FOLIO_MISMATCH);
    cr_expect_eq(read_one(db, t, u64, 2, &g, "the value -1 does not fit U64"), FOLIO_MISMATCH);
    cr_expect_eq(read_one(db, t, i32, 3, &g, "the REAL value 2.5 is not an integer"),
                 FOLIO_MISMATCH);
    cr_expect_eq(read_one(db, t, i32, 4, &g, "a TEXT value cannot be read into I32 field 0"),
                 FOLIO_MISMATCH);
    cr_expect_eq(read_one(db, t, d, 4, &g, "a TEXT value cannot be read into DOUBLE"),
                 FOLIO_MISMATCH);
    cr_expect_eq(read_one(db, t, ch, 5, &g, "a value of 9 bytes does not fit CHARS field 0"),
                 FOLIO_TOOBIG);
    cr_expect_eq(read_one(db, t, ch, 1, &g, "an INTEGER value cannot be read into CHARS"),
                 FOLIO_MISMATCH);
    cr_expect_eq(read_one(db, t, fl, 6, &g, "is beyond a FLOAT"), FOLIO_MISMATCH);
    cr_expect_eq(read_one(db, t, i64, 7, &g, "not an integer I64 member can hold"), FOLIO_MISMATCH);
    cr_expect_eq(read_one(db, t, i64, 14, &g, NULL), FOLIO_OK);
    cr_expect_eq(g.i64, (int64_t)-9.2e18);
    /* What converts. */
    cr_expect_eq(read_one(db, t, u64, 7, &g, NULL), FOLIO_OK, "%s", folio_errmsg(db));
    cr_expect_eq(g.u64, (uint64_t)9.3e18);
    cr_expect_eq(read_one(db, t, i64, 8, &g, NULL), FOLIO_OK);
    cr_expect_eq(g.i64, 3);
    cr_expect_eq(read_one(db, t, b, 9, &g, NULL), FOLIO_OK);
    cr_expect_eq(g.b, true);
    cr_expect_eq(read_one(db, t, d, 10, &g, NULL), FOLIO_OK);
    cr_expect_eq(g.d, 7.0);
    cr_expect_eq(read_one(db, t, fl, 3, &g, NULL), FOLIO_OK);
    cr_expect_eq(g.f, 2.5f);
    cr_expect_eq(read_one(db, t, bl, 12, &g, NULL), FOLIO_OK);
    cr_expect(g.bl_len == 3 && memcmp(g.bl, "abc", 3) == 0);
    cr_expect_eq(read_one(db, t, cs, 11, &g, NULL), FOLIO_OK);
    cr_expect(g.cs && g.cs[0] == 0 && (unsigned char)g.cs[1] == 0xff && g.cs[2] == 0);
    cr_expect_eq(read_one(db, t, ch, 12, &g, NULL), FOLIO_OK);
    cr_expect(memcmp(g.ch, "abc", 4) == 0);
    cr_expect_eq(read_one(db, t, i8, 13, &g, NULL), FOLIO_OK);
    cr_expect_eq(g.i8, 127);
    cr_expect_eq(read_one(db, t, cs, 15, &g, NULL), FOLIO_OK);
    cr_expect_null(g.cs);
    cr_expect_eq(read_one(db, t, ch, 15, &g, NULL), FOLIO_OK);
    cr_expect(memcmp(g.ch, "\0\0\0\0", 4) == 0);

    /* The cursor must be on the codec's table, in its transaction, on a row. */
    folio_codec *c;
    folio_table *tr = table(db, t, "r"), *tq = table(db, t, "q");
    cr_assert_eq(folio_codec_bind(&c, tr, i64, 1, sizeof(rd_row)), FOLIO_OK);
    folio_cursor *cur;
    cr_assert_eq(folio_cursor_open(&cur, tq, NULL), FOLIO_OK);
    cr_expect_eq(folio_cursor_struct(cur, c, &g), FOLIO_MISUSE);
    cr_expect(strstr(folio_errmsg(db), "not on table r"), "%s", folio_errmsg(db));
    folio_cursor_close(cur);
    cr_assert_eq(folio_cursor_open(&cur, tr, NULL), FOLIO_OK);
    cr_expect_eq(folio_cursor_struct(cur, c, &g), FOLIO_MISUSE); /* on no row yet */
    cr_expect(strstr(folio_errmsg(db), "not on a row"), "%s", folio_errmsg(db));
    cr_expect_eq(folio_cursor_struct(cur, c, NULL), FOLIO_MISUSE);
    folio_cursor_close(cur);
    /* Writes in a read transaction are refused by folio_insert. */
    cr_expect_eq(folio_insert_struct(NULL, c, &g), FOLIO_READONLY);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    check_ok(path);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- no allocation per row ---- */

typedef struct a_row {
    int64_t id;
    const char *name;
    double score;
    int32_t n;
    char tag[8];
} a_row;

typedef struct a_counts {
    uint64_t ins, upd, rd;
} a_counts;

/* One write transaction of `rows` inserts (odd ids through the full codec,
 * even ones through the partial one: the append path and the mask), then
 * updates of its first `rows / 5` rows, then a scan of its rows through
 * folio_cursor_struct: the allocations of each part (updates and reads past
 * their first hundred). */
static a_counts a_round(folio_db *db, int64_t base, int rows)
{
    static const folio_field full[] = {
        FOLIO_FIELD(a_row, id, "id", FOLIO_F_I64), FOLIO_FIELD(a_row, name, "name", FOLIO_F_CSTR),
        FOLIO_FIELD(a_row, score, "score", FOLIO_F_DOUBLE), FOLIO_FIELD(a_row, n, "n", FOLIO_F_I32),
        FOLIO_FIELD(a_row, tag, "tag", FOLIO_F_CHARS)};
    static const folio_field part[] = {FOLIO_FIELD(a_row, n, "n", FOLIO_F_I32),
                                       FOLIO_FIELD(a_row, name, "name", FOLIO_F_CSTR)};
    folio_txn *t = begin(db, FOLIO_TXN_WRITE);
    folio_table *tb = table(db, t, "a");
    folio_codec *cf, *cp;
    cr_assert_eq(folio_codec_bind(&cf, tb, full, 5, sizeof(a_row)), FOLIO_OK, "%s",
                 folio_errmsg(db));
    cr_assert_eq(folio_codec_bind(&cp, tb, part, 2, sizeof(a_row)), FOLIO_OK, "%s",
                 folio_errmsg(db));
    folio_cursor *cur;
    cr_assert_eq(folio_cursor_open(&cur, tb, NULL), FOLIO_OK);
    a_counts n = {0, 0, 0};
    char name[32];
    uint64_t before = os_alloc_count();
    for (int64_t id = base + 1; id <= base + rows; id++) {
        snprintf(name, sizeof name, "name-%" PRId64, id);
        a_row r = {id, name, (double)id * 0.25, (int32_t)(id % 100), "tag"};
        int rc = id % 2 ? folio_insert_struct(NULL, cf, &r) : folio_insert_struct(NULL, cp, &r);
        cr_assert_eq(rc, FOLIO_OK, "row %" PRId64 ": %s", id, folio_errmsg(db));
    }
    n.ins = os_alloc_count() - before;
    for (int64_t id = base + 1; id <= base + rows / 5; id++) {
        if (id == base + 101) /* (the first update of a transaction sizes its buffers) */
            before = os_alloc_count();
        snprintf(name, sizeof name, "upd-%" PRId64, id);
        a_row r = {id, name, 0, (int32_t)-id, ""};
        cr_assert_eq(folio_update_struct(cp, id, &r), FOLIO_OK, "%s", folio_errmsg(db));
    }
    n.upd = os_alloc_count() - before;
    int64_t seen = base;
    for (int rc = folio_cursor_seek_rowid(cur, base + 1); rc == FOLIO_ROW;
         rc = folio_cursor_next(cur)) {
        a_row g;
        cr_assert_eq(folio_cursor_struct(cur, cf, &g), FOLIO_OK, "%s", folio_errmsg(db));
        if (++seen == base + 101)
            before = os_alloc_count();
        cr_assert_eq(g.id, seen);
        cr_assert_eq(g.n, seen <= base + rows / 5 ? -seen : seen % 100);
        cr_assert_eq(strncmp(g.name, seen <= base + rows / 5 ? "upd-" : "name-", 4), 0);
    }
    n.rd = os_alloc_count() - before;
    cr_assert_eq(seen, base + rows);
    folio_cursor_close(cur);
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    return n;
}

/* The second transaction (warm: the writer's dirty set and buffers have
 * grown in the first) calls folio's allocator zero times in its row calls.
 * Automatic checkpoints are off: their thread plans in memory of its own,
 * and the count is process-wide. */
Test(codec, warm_rows_do_not_allocate, .timeout = 120)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "a.db");
    folio_options o = FOLIO_OPTIONS_INIT;
    o.sync = FOLIO_SYNC_OFF;
    o.wal_autocheckpoint = 0;
    folio_db *db = NULL;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *t = begin(db, FOLIO_TXN_WRITE);
    exec(db, t,
         "CREATE TABLE a(id INTEGER PRIMARY KEY, name TEXT, score REAL, n INTEGER, "
         "tag TEXT DEFAULT 'd')");
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    a_round(db, 0, 15000);
    a_counts n = a_round(db, 15000, 10000);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    cr_expect_eq(n.ins, 0, "%" PRIu64 " allocations in 10,000 warm inserts", n.ins);
    cr_expect_eq(n.upd, 0, "%" PRIu64 " allocations in 1,900 warm updates", n.upd);
    cr_expect_eq(n.rd, 0, "%" PRIu64 " allocations reading 9,900 rows", n.rd);

    check_ok(path);
    sqlite3 *s = compat_sqlite_open_ro(path);
    cr_expect_eq(compat_query_int(s, "SELECT count(*) FROM a"), 25000);
    /* Updated: the first fifth of each round. */
    cr_expect_eq(compat_query_int(s, "SELECT count(*) FROM a WHERE (id <= 3000 OR id BETWEEN "
                                     "15001 AND 17000) AND n = -id AND name = 'upd-' || id AND "
                                     "(id %% 2 = 1 AND tag = 'tag' AND score = id * 0.25 OR "
                                     "id %% 2 = 0 AND tag = 'd' AND score IS NULL)"),
                 5000);
    cr_expect_eq(compat_query_int(s, "SELECT count(*) FROM a WHERE NOT (id <= 3000 OR id BETWEEN "
                                     "15001 AND 17000) AND n = id %% 100 AND "
                                     "name = 'name-' || id AND "
                                     "(id %% 2 = 1 AND tag = 'tag' AND score = id * 0.25 OR "
                                     "id %% 2 = 0 AND tag = 'd' AND score IS NULL)"),
                 20000);
    compat_sqlite_close(s);
    compat_rmtree(dir);
    free(path);
    free(dir);
}
