/*
 * The append path of folio_insert (insert_append in src/db/write.c): a row
 * with a rowid past the table's largest that gives every column a value is
 * converted by the column affinities and encoded straight into the
 * right-most leaf, with no statement around it. Every other row, and every
 * refusal, takes the general path.
 *
 * - Random rows of every type into columns of every affinity, NOT NULL and
 *   DEFAULT, with rowids ascending, auto, repeated, going back, as text and
 *   as reals (NaN is the next rowid, as libsqlite3 binds it), on page
 *   sizes 512, 4096 and 65536: every call's outcome matches libsqlite3
 *   running the same INSERT on a reference file, and libsqlite3 reads the
 *   same rows (quote and typeof of every value) from both files; the folio
 *   file checks ok.
 * - A cursor open in the writing transaction sees rows appended after it.
 * - Appends rolled back leave the table as it was; appends after a failed
 *   call are kept.
 *
 * Randomized parts print their seed (FOLIO_SEED reproduces).
 */
#include <criterion/criterion.h>
#include <folio.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

/* Affinities INTEGER, TEXT, REAL, BLOB (declared and none), NUMERIC; a NOT
 * NULL column with a DEFAULT last, so that short rows take it. */
#define A_DDL                                                                                      \
    "CREATE TABLE a(id INTEGER PRIMARY KEY, i INTEGER, t TEXT, r REAL, b BLOB, x, "                \
    "n NUMERIC NOT NULL DEFAULT 7)"
#define A_NCOLS 7
#define A_COLS  "id, i, t, r, b, x, n"

static folio_db *open_db(const char *path, unsigned page_size)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.page_size = page_size;
    folio_db *db = NULL;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "folio_open(%s): %s", path,
                 folio_open_errmsg());
    return db;
}

/* Text that affinities may convert ("12", " 3.5", "1e3") or not. */
static const char *const texts[] = {"",   "12",  " 3.5", "1e3",
                                    "-0", "abc", "0x10", "9223372036854775808"};

static uint8_t big[6000];

/* A random value for column c (1..6). */
static void random_value(folio_value *v, uint64_t *rng, int c)
{
    /* Column n (NOT NULL) is NULL once in 20 rows: most rows go in. */
    uint64_t k = c != 6                  ? compat_below(rng, 10)
                 : compat_below(rng, 20) ? 1 + compat_below(rng, 8)
                                         : 0;
    switch (k) {
    case 0:
        v->type = FOLIO_NULL;
        break;
    case 1:
    case 2:
        v->type = FOLIO_INTEGER;
        v->u.i = compat_int_boundaries[compat_below(rng, compat_n_int_boundaries)];
        break;
    case 3:
        v->type = FOLIO_INTEGER;
        v->u.i = (int64_t)compat_below(rng, 2); /* serial types 8 and 9 */
        break;
    case 4:
        v->type = FOLIO_REAL;
        v->u.r = compat_below(rng, 8)
                     ? compat_special_reals[compat_below(rng, compat_n_special_reals)]
                     : NAN;
        break;
    case 5:
    case 6:
        v->type = FOLIO_TEXT;
        v->u.s.p = texts[compat_below(rng, sizeof texts / sizeof texts[0])];
        v->u.s.n = strlen(v->u.s.p);
        if (v->u.s.n == 0 && compat_below(rng, 2))
            v->u.s.p = NULL; /* an empty value may come without a pointer */
        break;
    case 7:
        v->type = FOLIO_TEXT;
        v->u.s.p = big;
        v->u.s.n = (size_t)compat_below(rng, compat_below(rng, 8) ? 40 : sizeof big);
        break;
    case 8:
        v->type = FOLIO_BLOB;
        v->u.s.p = big + 7;
        v->u.s.n = (size_t)compat_below(rng, compat_below(rng, 8) ? 40 : sizeof big - 7);
        break;
    default:
        v->type = FOLIO_NULL;
        break;
    }
}

/* Whether column c's affinity keeps v as it is (no conversion): i INTEGER,
 * t TEXT, r REAL, b and x BLOB, n NUMERIC NOT NULL. */
static int kept_as_is(const folio_value *v, int c)
{
    switch (v->type) {
    case FOLIO_NULL:
        return c != 6;
    case FOLIO_INTEGER:
        return c == 1 || c == 4 || c == 5 || c == 6;
    case FOLIO_REAL:
        return (c == 4 || c == 5) && v->u.r == v->u.r;
    case FOLIO_TEXT:
        return c == 2 || c == 4 || c == 5;
    default:
        return 1;
    }
}

static void bind_value(sqlite3_stmt *st, int param, const folio_value *v)
{
    int rc;
    switch (v->type) {
    case FOLIO_INTEGER:
        rc = sqlite3_bind_int64(st, param, v->u.i);
        break;
    case FOLIO_REAL:
        rc = sqlite3_bind_double(st, param, v->u.r);
        break;
    case FOLIO_TEXT:
        rc =
            sqlite3_bind_text(st, param, v->u.s.p ? v->u.s.p : "", (int)v->u.s.n, SQLITE_TRANSIENT);
        break;
    case FOLIO_BLOB:
        rc =
            sqlite3_bind_blob(st, param, v->u.s.p ? v->u.s.p : "", (int)v->u.s.n, SQLITE_TRANSIENT);
        break;
    default:
        rc = sqlite3_bind_null(st, param);
        break;
    }
    cr_assert_eq(rc, SQLITE_OK);
}

/* Every row of table a as libsqlite3 reads it: rowid, then quote() and
 * typeof() of each column, one line per row. */
static char *dump_rows(const char *path)
{
    sqlite3 *db = compat_sqlite_open_ro(path);
    sqlite3_stmt *st = compat_prepare(
        db, "SELECT id, quote(i), typeof(i), quote(t), typeof(t), quote(r), typeof(r), "
            "quote(b), typeof(b), quote(x), typeof(x), quote(n), typeof(n) FROM a ORDER BY id");
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    cr_assert_not_null(out);
    out[0] = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < 13; c++) {
            const char *s = (const char *)sqlite3_column_text(st, c);
            size_t n = strlen(s ? s : "") + 2;
            while (len + n + 1 > cap) {
                cap *= 2;
                out = realloc(out, cap);
                cr_assert_not_null(out);
            }
            len += (size_t)snprintf(out + len, cap - len, "%s%c", s ? s : "", c == 12 ? '\n' : '|');
        }
    }
    sqlite3_finalize(st);
    compat_sqlite_close(db);
    return out;
}

/* The same calls through folio and through libsqlite3, outcome by outcome. */
static void random_appends(unsigned page_size, uint64_t fallback)
{
    uint64_t seed = compat_seed(fallback);
    printf("append_random page_size=%u: seed=%" PRIu64 "\n", page_size, seed);
    uint64_t rng = seed;
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)('a' + i % 26);
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "folio.db"), *ref = compat_path(dir, "ref.db");
    sqlite3 *sq = compat_sqlite_open(ref);
    compat_execf(sq, "PRAGMA page_size=%u", page_size);
    compat_exec(sq, A_DDL);
    compat_exec(sq, "BEGIN");
    folio_db *db = open_db(path, page_size);
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(txn, A_DDL), FOLIO_OK, "%s", folio_errmsg(db));
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, "a"), FOLIO_OK);
    int64_t next = 1;
    int ok = 0, refused = 0;
    for (int row = 0; row < 6000; row++) {
        folio_value v[A_NCOLS];
        int n = compat_below(&rng, 10) ? A_NCOLS : A_NCOLS - 1; /* short: n's DEFAULT */
        uint64_t how = compat_below(&rng, 40);
        if (how == 0) {
            v[0].type = FOLIO_NULL; /* the next rowid chosen by the table */
        } else if (how == 1) {
            v[0] = (folio_value){FOLIO_INTEGER, {.i = next - 1}}; /* the largest again */
        } else if (how == 2) {
            v[0] = (folio_value){FOLIO_INTEGER, {.i = next - (int64_t)compat_below(&rng, 50)}};
        } else if (how == 3) {
            v[0] = (folio_value){FOLIO_TEXT, {.s = {"77777", 5}}}; /* converted to a rowid */
        } else if (how == 4) {
            /* A real: NaN is NULL (the next rowid), an integral one converts, others are a
             * mismatch. */
            static const double ids[] = {NAN, 88888.0, 88888.5};
            v[0] = (folio_value){FOLIO_REAL, {.r = ids[compat_below(&rng, 3)]}};
        } else {
            next += 1 + (int64_t)(compat_below(&rng, 4) == 0 ? compat_below(&rng, 1000) : 0);
            v[0] = (folio_value){FOLIO_INTEGER, {.i = next}};
        }
        /* Three rows in four hold only values their columns keep as they are;
         * the rest mix in conversions. */
        int clean = compat_below(&rng, 4) != 0;
        for (int c = 1; c < n; c++) {
            random_value(&v[c], &rng, c);
            for (int tries = 0; clean && !kept_as_is(&v[c], c) && tries < 50; tries++)
                random_value(&v[c], &rng, c);
        }
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO a(%.*s) VALUES(?,?,?,?,?,?%s)",
                 n == A_NCOLS ? (int)strlen(A_COLS) : (int)strlen(A_COLS) - 3, A_COLS,
                 n == A_NCOLS ? ",?" : "");
        sqlite3_stmt *st = compat_prepare(sq, sql);
        for (int c = 0; c < n; c++)
            bind_value(st, c + 1, &v[c]);
        int src = sqlite3_step(st);
        sqlite3_finalize(st);
        int64_t got = 0;
        int frc = folio_insert(&got, t, v, n);
        if (src == SQLITE_DONE) {
            cr_assert_eq(frc, FOLIO_OK, "row %d: libsqlite3 inserted it, folio returned %s: %s",
                         row, compat_rc_name(frc), folio_errmsg(db));
            cr_assert_eq(got, sqlite3_last_insert_rowid(sq), "row %d: rowid", row);
            if (got >= next)
                next = got + 1;
            ok++;
        } else {
            cr_assert(src == SQLITE_MISMATCH || (src & 0xff) == SQLITE_CONSTRAINT,
                      "row %d: libsqlite3: %s", row, sqlite3_errmsg(sq));
            cr_assert_eq(frc, src == SQLITE_MISMATCH ? FOLIO_MISMATCH : FOLIO_CONSTRAINT,
                         "row %d: libsqlite3 refused it (%s), folio returned %s", row,
                         sqlite3_errmsg(sq), compat_rc_name(frc));
            refused++;
        }
    }
    printf("append_random page_size=%u: %d rows inserted, %d refused by both\n", page_size, ok,
           refused);
    cr_assert_gt(refused, 0);
    cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_exec(sq, "COMMIT");
    compat_sqlite_close(sq);
    char *chk = compat_integrity(path);
    cr_assert_str_eq(chk, "ok", "integrity_check of folio's file: %s", chk);
    free(chk);
    char *a = dump_rows(path), *b = dump_rows(ref);
    cr_assert(strcmp(a, b) == 0, "libsqlite3 reads different rows from folio's file and the "
                                 "reference");
    free(a);
    free(b);
    compare_table(path, "a");
    compat_rmtree(dir);
    free(path);
    free(ref);
    free(dir);
}

Test(append, random_rows_match_libsqlite3_page_512, .timeout = 120)
{
    random_appends(512, 0xa99e4d01u);
}

Test(append, random_rows_match_libsqlite3_page_4096, .timeout = 120)
{
    random_appends(4096, 0xa99e4d02u);
}

Test(append, random_rows_match_libsqlite3_page_65536, .timeout = 120)
{
    random_appends(65536, 0xa99e4d03u);
}

static void insert_int_row(folio_table *t, int64_t id)
{
    folio_value v[3] = {{FOLIO_INTEGER, {.i = id}},
                        {FOLIO_TEXT, {.s = {"row", 3}}},
                        {FOLIO_INTEGER, {.i = id * 3}}};
    cr_assert_eq(folio_insert(NULL, t, v, 3), FOLIO_OK);
}

/* A new database at `path` with table c made by `ddl`, and rows 1..n in an
 * open write transaction. */
static folio_db *table_c(const char *path, const char *ddl, int64_t n, folio_txn **txn,
                         folio_table **t)
{
    folio_db *db = open_db(path, 0);
    cr_assert_eq(folio_begin(txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(*txn, ddl), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_table_open(t, *txn, "c"), FOLIO_OK);
    for (int64_t id = 1; id <= n; id++)
        insert_int_row(*t, id);
    return db;
}

/* libsqlite3 finds exactly rows 1..n of table c (k = 3 * id) and the file
 * checks ok; then the directory goes. */
static void rows_1_to_n_then_remove(char *dir, char *path, int64_t n)
{
    sqlite3 *sq = compat_sqlite_open_ro(path);
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM c"), n);
    cr_assert_eq(compat_query_int(sq, "SELECT max(id) FROM c"), n);
    cr_assert_eq(compat_query_int(sq, "SELECT sum(k) FROM c"), 3 * n * (n + 1) / 2);
    compat_sqlite_close(sq);
    compare_check(path);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

Test(append, cursor_open_while_appending_sees_new_rows)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "c.db");
    folio_txn *txn;
    folio_table *t;
    folio_db *db =
        table_c(path, "CREATE TABLE c(id INTEGER PRIMARY KEY, s TEXT, k INTEGER)", 100, &txn, &t);
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
    cr_assert_eq(folio_cursor_last(c), FOLIO_ROW);
    cr_assert_eq(folio_cursor_rowid(c), 100);
    /* Appended into the leaf the cursor is on, then past it. */
    for (int64_t id = 101; id <= 1000; id++)
        insert_int_row(t, id);
    for (int64_t want = 101; want <= 1000; want++) {
        cr_assert_eq(folio_cursor_next(c), FOLIO_ROW, "row %" PRId64, want);
        cr_assert_eq(folio_cursor_rowid(c), want);
        folio_value v;
        cr_assert_eq(folio_cursor_column(&v, c, 2), FOLIO_OK);
        cr_assert_eq(v.u.i, want * 3);
    }
    cr_assert_eq(folio_cursor_next(c), FOLIO_DONE);
    folio_cursor_close(c);
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    rows_1_to_n_then_remove(dir, path, 1000);
}

Test(append, rolled_back_appends_leave_the_table_and_failed_calls_keep_earlier_rows)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "r.db");
    folio_txn *txn;
    folio_table *t;
    folio_db *db = table_c(
        path, "CREATE TABLE c(id INTEGER PRIMARY KEY, s TEXT NOT NULL, k INTEGER)", 500, &txn, &t);
    cr_assert_eq(folio_commit(txn), FOLIO_OK);

    /* Appends, then a rollback. */
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "c"), FOLIO_OK);
    for (int64_t id = 501; id <= 3000; id++)
        insert_int_row(t, id);
    cr_assert_eq(folio_rollback(txn), FOLIO_OK);

    /* Appends, a refused row (NOT NULL), more appends: all but it kept. */
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "c"), FOLIO_OK);
    for (int64_t id = 501; id <= 700; id++)
        insert_int_row(t, id);
    folio_value bad[3] = {
        {FOLIO_INTEGER, {.i = 701}}, {FOLIO_NULL, {.i = 0}}, {FOLIO_INTEGER, {.i = 1}}};
    cr_assert_eq(folio_insert(NULL, t, bad, 3), FOLIO_CONSTRAINT);
    cr_assert(strstr(folio_errmsg(db), "NOT NULL constraint failed: c.s") != NULL, "%s",
              folio_errmsg(db));
    folio_value dup[3] = {
        {FOLIO_INTEGER, {.i = 700}}, {FOLIO_TEXT, {.s = {"d", 1}}}, {FOLIO_INTEGER, {.i = 1}}};
    cr_assert_eq(folio_insert(NULL, t, dup, 3), FOLIO_CONSTRAINT);
    for (int64_t id = 701; id <= 900; id++)
        insert_int_row(t, id);
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    rows_1_to_n_then_remove(dir, path, 900);
}
