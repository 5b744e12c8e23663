/*
 * test_filter.c - filters over rows (folio_filter_compile, folio_cursor_filter,
 * folio_delete_where, folio_update_where) against libsqlite3's WHERE.
 *
 * Random tables - rowid tables with an INTEGER PRIMARY KEY and WITHOUT ROWID
 * tables, columns of every affinity and of the NOCASE and RTRIM collations,
 * sometimes an index, a UNIQUE column or a CHECK - get random rows of every
 * storage class from libsqlite3. Random expressions (comparisons with
 * affinity, LIKE and GLOB, IS [NOT] NULL, BETWEEN, IN, functions, CAST,
 * COLLATE, the rowid, arithmetic, AND/OR/NOT, CASE) then select rows in
 * both engines: the rows a filtered folio cursor visits, forward and
 * backward (and through an index), must be those of
 * `SELECT ... FROM t NOT INDEXED WHERE <expr>`, and an evaluation error must
 * be SQLite's. Some expressions also delete or update through
 * folio_delete_where / folio_update_where on one copy of the file and
 * through DELETE / UPDATE on another: same outcome and count, same rows
 * after, and libsqlite3's integrity_check of folio's file.
 *
 * NOT INDEXED: SQLite's plan then visits every row in table order, as
 * folio's cursor does, so a row that makes the expression fail is reached
 * in both or in neither.
 *
 * seed=N is printed; FOLIO_SEED replays a run.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCOLS    8 /* k, then the value columns */
#define MAX_ROWS 80

static const char *const col_names[NCOLS] = {"k", "a", "b", "c", "d", "e", "f", "g"};
/* Declared types: every affinity, and the two collations besides BINARY. */
static const char *const col_types[NCOLS] = {
    "INTEGER",           "INTEGER", "REAL", "TEXT", "", "NUMERIC", "TEXT COLLATE NOCASE",
    "TEXT COLLATE RTRIM"};

/* ---- random expressions ---- */

typedef struct gen {
    uint64_t *rng;
    char *buf;
    size_t cap, n;
    int without_rowid;
} gen;

static void put(gen *g, const char *s)
{
    size_t len = strlen(s);
    if (g->n + len + 1 < g->cap) {
        memcpy(g->buf + g->n, s, len + 1);
        g->n += len;
    }
}

static int pick(gen *g, int n)
{
    return (int)compat_below(g->rng, (uint64_t)n);
}

static void literal(gen *g)
{
    static const char *const lits[] = {"0",
                                       "1",
                                       "-1",
                                       "5",
                                       "10",
                                       "42",
                                       "100",
                                       "2.5",
                                       "-3.25",
                                       "1e20",
                                       "5.0",
                                       "'abc'",
                                       "'ABC'",
                                       "'a1'",
                                       "' 12'",
                                       "'12'",
                                       "'5'",
                                       "''",
                                       "'x'",
                                       "'abc  '",
                                       "NULL",
                                       "x'01ff'",
                                       "x'78'",
                                       "'3.0'",
                                       "'12abc'",
                                       "9223372036854775807",
                                       "-9223372036854775808",
                                       "TRUE",
                                       "FALSE",
                                       "'zeta'",
                                       "'Abc '"};
    put(g, lits[pick(g, (int)(sizeof lits / sizeof lits[0]))]);
}

static void column(gen *g)
{
    int c = pick(g, NCOLS + (g->without_rowid ? 0 : 1));
    if (c == NCOLS) {
        static const char *const rowid_names[] = {"rowid", "oid", "_rowid_", "t.rowid"};
        put(g, rowid_names[pick(g, 4)]);
        return;
    }
    if (pick(g, 6) == 0)
        put(g, "t.");
    put(g, col_names[c]);
}

static void value(gen *g, int depth);
static void cond(gen *g, int depth);

static void value(gen *g, int depth)
{
    int r = depth <= 0 ? pick(g, 2) : pick(g, 12);
    switch (r) {
    case 0:
        column(g);
        return;
    case 1:
        if (pick(g, 3))
            column(g);
        else
            literal(g);
        return;
    case 2:
    case 3: {
        static const char *const ops[] = {" + ",  " - ", " * ", " / ",  " % ",
                                          " || ", " & ", " | ", " << ", " >> "};
        put(g, "(");
        value(g, depth - 1);
        put(g, ops[pick(g, 10)]);
        value(g, depth - 1);
        put(g, ")");
        return;
    }
    case 4: {
        static const char *const fn1[] = {"abs",   "length", "lower", "upper",   "typeof",
                                          "hex",   "trim",   "round", "unicode", "quote",
                                          "ltrim", "rtrim",  "-",     "+",       "~"};
        const char *f = fn1[pick(g, (int)(sizeof fn1 / sizeof fn1[0]))];
        put(g, f);
        put(g, "(");
        value(g, depth - 1);
        put(g, ")");
        return;
    }
    case 5: {
        static const char *const fn2[] = {"coalesce", "ifnull", "nullif", "instr", "max",
                                          "min",      "round",  "substr", "like",  "glob"};
        put(g, fn2[pick(g, (int)(sizeof fn2 / sizeof fn2[0]))]);
        put(g, "(");
        value(g, depth - 1);
        put(g, ", ");
        value(g, depth - 1);
        put(g, ")");
        return;
    }
    case 6: {
        static const char *const types[] = {"INTEGER", "REAL", "TEXT", "BLOB", "NUMERIC", "INT"};
        put(g, "CAST(");
        value(g, depth - 1);
        put(g, " AS ");
        put(g, types[pick(g, 6)]);
        put(g, ")");
        return;
    }
    case 7: {
        static const char *const colls[] = {" COLLATE NOCASE", " COLLATE RTRIM", " COLLATE BINARY"};
        put(g, "(");
        value(g, depth - 1);
        put(g, colls[pick(g, 3)]);
        put(g, ")");
        return;
    }
    case 8:
        put(g, "CASE WHEN ");
        cond(g, depth - 1);
        put(g, " THEN ");
        value(g, depth - 1);
        put(g, " ELSE ");
        value(g, depth - 1);
        put(g, " END");
        return;
    case 9:
        put(g, "substr(");
        value(g, depth - 1);
        put(g, pick(g, 2) ? ", 1, 2)" : ", 2)");
        return;
    case 10:
        put(g, "iif(");
        cond(g, depth - 1);
        put(g, ", ");
        value(g, depth - 1);
        put(g, ", ");
        value(g, depth - 1);
        put(g, ")");
        return;
    default:
        literal(g);
        return;
    }
}

static void cond(gen *g, int depth)
{
    int r = depth <= 0 ? pick(g, 6) : pick(g, 14);
    switch (r) {
    case 0:
    case 1:
    case 2: {
        static const char *const cmps[] = {" = ", " == ", " != ", " <> ",     " < ", " <= ",
                                           " > ", " >= ", " IS ", " IS NOT ", " > ", " = "};
        value(g, depth);
        put(g, cmps[pick(g, 12)]);
        if (pick(g, 2))
            literal(g);
        else
            value(g, depth);
        return;
    }
    case 3: {
        static const char *const pats[] = {"'a%'", "'%b%'", "'_'",  "'A_C'",
                                           "'1%'", "'%'",   "''",   "'ab%'",
                                           "'%c'", "'%1'",  "'z%'", "'a\\%%' ESCAPE '\\'"};
        value(g, depth - 1);
        put(g, pick(g, 4) ? " LIKE " : " NOT LIKE ");
        put(g, pats[pick(g, (int)(sizeof pats / sizeof pats[0]))]);
        return;
    }
    case 4: {
        static const char *const pats[] = {"'a*'",    "'*b*'", "'?'",  "'[a-c]*'",
                                           "'[^a]*'", "'A*'",  "'1*'", "'*'"};
        value(g, depth - 1);
        put(g, pick(g, 4) ? " GLOB " : " NOT GLOB ");
        put(g, pats[pick(g, (int)(sizeof pats / sizeof pats[0]))]);
        return;
    }
    case 5: {
        static const char *const nulls[] = {" IS NULL", " IS NOT NULL", " ISNULL", " NOTNULL",
                                            " NOT NULL"};
        value(g, depth - 1);
        put(g, nulls[pick(g, 5)]);
        return;
    }
    case 6:
        value(g, depth - 1);
        put(g, pick(g, 3) ? " BETWEEN " : " NOT BETWEEN ");
        value(g, 0);
        put(g, " AND ");
        value(g, 0);
        return;
    case 7: {
        value(g, depth - 1);
        put(g, pick(g, 3) ? " IN (" : " NOT IN (");
        int n = pick(g, 4);
        for (int i = 0; i < n; i++) {
            if (i)
                put(g, ", ");
            if (pick(g, 4))
                literal(g);
            else
                value(g, 0);
        }
        put(g, ")");
        return;
    }
    case 8:
    case 9:
        put(g, "(");
        cond(g, depth - 1);
        put(g, pick(g, 2) ? " AND " : " OR ");
        cond(g, depth - 1);
        put(g, ")");
        return;
    case 10:
        put(g, "NOT (");
        cond(g, depth - 1);
        put(g, ")");
        return;
    case 11:
        value(g, depth - 1); /* a bare value: its truth */
        return;
    case 12: {
        static const char *const truths[] = {" IS TRUE", " IS FALSE", " IS NOT TRUE",
                                             " IS NOT FALSE"};
        put(g, "(");
        cond(g, depth - 1);
        put(g, ")");
        put(g, truths[pick(g, 4)]);
        return;
    }
    default:
        put(g, "(");
        cond(g, depth - 1);
        put(g, ")");
        return;
    }
}

/* The shapes the evaluator answers without walking the tree (a column
 * against an integer, a column LIKE 'prefix%'), over columns of every
 * affinity and values of every type: the fast answer must be SQLite's. */
static void simple_expr(gen *g)
{
    static const char *const ops[] = {"=", "==", "!=", "<>", "<", "<=", ">", ">="};
    static const char *const ints[] = {"0",  "1",  "-1",  "3",
                                       "12", "-7", "100", "9223372036854775807"};
    static const char *const prefixes[] = {"a", "A", "ab", "1", "12", "x ", "", "Ab1"};
    char tmp[160];
    const char *colname =
        pick(g, 6) == 0 ? (g->without_rowid ? "k" : "rowid") : col_names[pick(g, NCOLS)];
    if (pick(g, 3) == 0) {
        snprintf(tmp, sizeof tmp, "%s LIKE '%s%%'", colname, prefixes[pick(g, 8)]);
    } else if (pick(g, 2)) {
        snprintf(tmp, sizeof tmp, "%s %s %s", colname, ops[pick(g, 8)], ints[pick(g, 8)]);
    } else {
        snprintf(tmp, sizeof tmp, "%s %s %s", ints[pick(g, 8)], ops[pick(g, 8)], colname);
    }
    put(g, tmp);
}

static void random_expr(uint64_t *rng, int without_rowid, char *buf, size_t cap)
{
    gen g = {rng, buf, cap, 0, without_rowid};
    buf[0] = 0;
    if (pick(&g, 4) == 0)
        simple_expr(&g);
    else
        cond(&g, 1 + pick(&g, 3));
}

/* ---- random tables and rows ---- */

typedef struct table_shape {
    int without_rowid;
    int index_col;  /* a column with an index, or 0 */
    int unique_col; /* a column with a UNIQUE constraint, or 0 */
    int check;      /* a CHECK constraint */
} table_shape;

static void random_table(uint64_t *rng, table_shape *sh, char *sql, size_t cap)
{
    memset(sh, 0, sizeof *sh);
    sh->without_rowid = compat_below(rng, 3) == 0;
    sh->index_col = compat_below(rng, 2) ? 1 + (int)compat_below(rng, NCOLS - 1) : 0;
    sh->unique_col = compat_below(rng, 3) == 0 ? 1 + (int)compat_below(rng, NCOLS - 1) : 0;
    sh->check = compat_below(rng, 3) == 0;
    size_t n = (size_t)snprintf(sql, cap, "CREATE TABLE t(");
    for (int c = 0; c < NCOLS; c++) {
        n += (size_t)snprintf(
            sql + n, cap - n, "%s%s %s%s%s", c ? ", " : "", col_names[c], col_types[c],
            c == 0 ? (sh->without_rowid ? " NOT NULL PRIMARY KEY" : " PRIMARY KEY") : "",
            c && c == sh->unique_col ? " UNIQUE" : "");
    }
    if (sh->check)
        n += (size_t)snprintf(sql + n, cap - n, ", CHECK (length(c) < 6 OR c IS NULL)");
    n += (size_t)snprintf(sql + n, cap - n, ")%s;", sh->without_rowid ? " WITHOUT ROWID" : "");
    if (sh->index_col)
        snprintf(sql + n, cap - n, " CREATE INDEX ti ON t(%s);", col_names[sh->index_col]);
}

static void random_value(uint64_t *rng, folio_value *v, char *buf, size_t cap)
{
    static const int64_t ints[] = {0,  1,  -1, 2,   3,    5,     7,         10,       12,
                                   13, 42, 99, 100, 1000, -1000, INT64_MAX, INT64_MIN};
    static const double reals[] = {0.5, 100.5, -3.25, 3.0, 2.6, 1e20, -0.0, 5.0, 12.5, 1e-3};
    static const char *texts[] = {"abc",   "ABC",   "a1",   "zeta", "{\"x\":1}", "",    " 12",
                                  "5",     "x",     "ab c", "a%",   "Abc ",      "bbb", "3.0",
                                  "12abc", "abc  ", "12",   "A_C",  "1e3",       "aBc"};
    memset(v, 0, sizeof *v);
    switch (compat_below(rng, 7)) {
    case 0:
        v->type = FOLIO_NULL;
        break;
    case 1:
    case 2:
        v->type = FOLIO_INTEGER;
        v->u.i = ints[compat_below(rng, sizeof ints / sizeof ints[0])];
        break;
    case 3:
        v->type = FOLIO_REAL;
        v->u.r = reals[compat_below(rng, sizeof reals / sizeof reals[0])];
        break;
    case 4:
    case 5: {
        snprintf(buf, cap, "%s", texts[compat_below(rng, sizeof texts / sizeof texts[0])]);
        v->type = FOLIO_TEXT;
        v->u.s.p = buf;
        v->u.s.n = strlen(buf);
        break;
    }
    default:
        snprintf(buf, cap, "%s", compat_below(rng, 2) ? "x" : "\x01\xff");
        v->type = FOLIO_BLOB;
        v->u.s.p = buf;
        v->u.s.n = strlen(buf);
        break;
    }
}

static void bind_value(sqlite3_stmt *st, int param, const folio_value *v)
{
    switch (v->type) {
    case FOLIO_NULL:
        sqlite3_bind_null(st, param);
        break;
    case FOLIO_INTEGER:
        sqlite3_bind_int64(st, param, v->u.i);
        break;
    case FOLIO_REAL:
        sqlite3_bind_double(st, param, v->u.r);
        break;
    case FOLIO_TEXT:
        sqlite3_bind_text(st, param, (const char *)v->u.s.p, (int)v->u.s.n, SQLITE_TRANSIENT);
        break;
    default:
        sqlite3_bind_blob(st, param, v->u.s.p, (int)v->u.s.n, SQLITE_TRANSIENT);
        break;
    }
}

/* Fill t with up to MAX_ROWS random rows (rows a constraint refuses are
 * skipped). */
static void fill(sqlite3 *s, uint64_t *rng, int nrows)
{
    sqlite3_stmt *st = compat_prepare(s, "INSERT OR IGNORE INTO t VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
    compat_exec(s, "BEGIN");
    for (int r = 0; r < nrows; r++) {
        char bufs[NCOLS][32];
        folio_value v[NCOLS];
        for (int c = 1; c < NCOLS; c++)
            random_value(rng, &v[c], bufs[c], sizeof bufs[c]);
        sqlite3_bind_int64(st, 1, (int64_t)compat_below(rng, 200) - 20);
        for (int c = 1; c < NCOLS; c++)
            bind_value(st, c + 1, &v[c]);
        int rc = sqlite3_step(st);
        cr_assert(rc == SQLITE_DONE || rc == SQLITE_CONSTRAINT, "%s", sqlite3_errmsg(s));
        sqlite3_reset(st);
    }
    compat_exec(s, "COMMIT");
    sqlite3_finalize(st);
}

/* ---- comparing selections ---- */

typedef struct selection {
    int64_t keys[MAX_ROWS + 1];
    int n;
    int rc;        /* 0, or the error */
    char msg[256]; /* its message */
} selection;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* SQLite's rows (k, which is the rowid or the primary key) for `expr`. */
static void sqlite_select(sqlite3 *s, const char *expr, selection *out)
{
    char sql[2048];
    /* Every column: no index covers the query, so even a WITHOUT ROWID
     * table (whose covering indexes NOT INDEXED does not rule out) is read
     * in table order. */
    snprintf(sql, sizeof sql, "SELECT * FROM t NOT INDEXED WHERE %s", expr);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s, sql, -1, &st, NULL) != SQLITE_OK) {
        out->rc = -1;
        snprintf(out->msg, sizeof out->msg, "%s", sqlite3_errmsg(s));
        return;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < MAX_ROWS)
        out->keys[out->n++] = sqlite3_column_int64(st, 0);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        out->rc = -1;
        snprintf(out->msg, sizeof out->msg, "%s", sqlite3_errmsg(s));
    }
    sqlite3_finalize(st);
    qsort(out->keys, (size_t)out->n, sizeof out->keys[0], cmp_i64);
}

/* The k of the cursor's row. */
static int64_t cursor_key(folio_cursor *c)
{
    folio_value v;
    cr_assert_eq(folio_cursor_column(&v, c, 0), FOLIO_OK);
    cr_assert_eq(v.type, FOLIO_INTEGER);
    return v.u.i;
}

/* folio's rows for a filter, walking `index` (NULL: the table) forward or
 * backward. Keys come sorted. */
static void folio_select(folio_db *db, folio_table *t, folio_filter *f, const char *index,
                         int backward, selection *out)
{
    memset(out, 0, sizeof *out);
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, t, index), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_cursor_filter(c, f), FOLIO_OK);
    int rc;
    for (rc = backward ? folio_cursor_last(c) : folio_cursor_first(c);
         rc == FOLIO_ROW && out->n < MAX_ROWS;
         rc = backward ? folio_cursor_prev(c) : folio_cursor_next(c))
        out->keys[out->n++] = cursor_key(c);
    if (rc < 0) {
        out->rc = rc;
        snprintf(out->msg, sizeof out->msg, "%s", folio_errmsg(db));
    } else {
        cr_assert_eq(rc, FOLIO_DONE);
    }
    folio_cursor_close(c);
    qsort(out->keys, (size_t)out->n, sizeof out->keys[0], cmp_i64);
}

static void assert_same(const selection *want, const selection *got, const char *sql,
                        const char *expr, const char *how)
{
    cr_assert_eq(got->rc != 0, want->rc != 0, "%s\nWHERE %s (%s): folio %d '%s', sqlite '%s'", sql,
                 expr, how, got->rc, got->msg, want->msg);
    if (want->rc) {
        cr_assert_str_eq(got->msg, want->msg, "%s\nWHERE %s (%s)", sql, expr, how);
        return;
    }
    cr_assert_eq(got->n, want->n, "%s\nWHERE %s (%s): folio %d rows, sqlite %d", sql, expr, how,
                 got->n, want->n);
    for (int i = 0; i < got->n; i++)
        cr_assert_eq(got->keys[i], want->keys[i],
                     "%s\nWHERE %s (%s): row %d: folio %" PRId64 ", sqlite %" PRId64, sql, expr,
                     how, i, got->keys[i], want->keys[i]);
}

/* Seeks with a filter land on the first selected row in their direction. */
static void check_seeks(folio_db *db, folio_table *t, folio_filter *f, const selection *want,
                        uint64_t *rng, int without_rowid, const char *expr)
{
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
    cr_assert_eq(folio_cursor_filter(c, f), FOLIO_OK);
    for (int i = 0; i < 4; i++) {
        int64_t at = (int64_t)compat_below(rng, 220) - 30;
        int op = i % 2 ? FOLIO_SEEK_LE : FOLIO_SEEK_GE;
        folio_value key = {.type = FOLIO_INTEGER, .u.i = at};
        int rc = folio_cursor_seek(c, &key, 1, op);
        int64_t expect = 0;
        int found = 0;
        for (int k = 0; k < want->n; k++) {
            if (op == FOLIO_SEEK_GE && want->keys[k] >= at && !found) {
                expect = want->keys[k];
                found = 1;
            }
            if (op == FOLIO_SEEK_LE && want->keys[k] <= at) {
                expect = want->keys[k];
                found = 1;
            }
        }
        cr_assert_eq(rc, found ? FOLIO_ROW : FOLIO_NOTFOUND, "WHERE %s: seek %d %" PRId64 ": %d %s",
                     expr, op, at, rc, folio_errmsg(db));
        if (found)
            cr_assert_eq(cursor_key(c), expect, "WHERE %s: seek %d %" PRId64, expr, op, at);
        /* seek_rowid / EQ: only a selected row. */
        int member = 0;
        for (int k = 0; k < want->n; k++)
            member |= want->keys[k] == at;
        rc = without_rowid ? folio_cursor_seek(c, &key, 1, FOLIO_SEEK_EQ)
                           : folio_cursor_seek_rowid(c, at);
        cr_assert_eq(rc, member ? FOLIO_ROW : FOLIO_NOTFOUND, "WHERE %s: seek EQ %" PRId64, expr,
                     at);
    }
    folio_cursor_close(c);
}

/* Every row of t as text, by k. */
static char *dump(sqlite3 *db)
{
    sqlite3_stmt *st =
        compat_prepare(db, "SELECT group_concat(r, char(10)) FROM (SELECT quote(k)||','||quote(a)"
                           "||','||quote(b)||','||quote(c)||','||quote(d)||','||quote(e)||','||"
                           "quote(f)||','||quote(g)||typeof(b)||typeof(e) AS r FROM t ORDER BY k)");
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    const char *s = (const char *)sqlite3_column_text(st, 0);
    char *out = strdup(s ? s : "");
    sqlite3_finalize(st);
    return out;
}

static int stats_cases, stats_rows, stats_errors, stats_writes, stats_write_fail;

/* DELETE or UPDATE ... WHERE expr on copies of `base`: folio and libsqlite3
 * must agree. */
static void check_write(const char *dir, const char *base, const char *sql, const char *expr,
                        uint64_t *rng, int update)
{
    char *fpath = compat_path(dir, "fw.db"), *spath = compat_path(dir, "sw.db");
    compat_copy_db(base, fpath, 0);
    compat_copy_db(base, spath, 0);
    int cols[3];
    folio_value vals[3];
    char bufs[3][32];
    int n = update ? 1 + (int)compat_below(rng, 2) : 0;
    char stmt[2048];
    size_t len;
    if (update) {
        len = (size_t)snprintf(stmt, sizeof stmt, "UPDATE t SET ");
        for (int i = 0; i < n; i++) {
            /* k too, sometimes: a new rowid or key */
            cols[i] = compat_below(rng, 8) == 0 ? 0 : 1 + (int)compat_below(rng, NCOLS - 1);
            for (int j = 0; j < i; j++)
                if (cols[j] == cols[i])
                    cols[i] = (cols[i] % (NCOLS - 1)) + 1;
            random_value(rng, &vals[i], bufs[i], sizeof bufs[i]);
            if (cols[i] == 0) { /* an integer key */
                memset(&vals[i], 0, sizeof vals[i]);
                vals[i].type = FOLIO_INTEGER;
                vals[i].u.i = 300 + (int64_t)compat_below(rng, 3);
            }
            len += (size_t)snprintf(stmt + len, sizeof stmt - len, "%s%s = ?%d", i ? ", " : "",
                                    col_names[cols[i]], i + 1);
        }
        snprintf(stmt + len, sizeof stmt - len, " WHERE %s", expr);
    } else {
        snprintf(stmt, sizeof stmt, "DELETE FROM t WHERE %s", expr);
    }
    sqlite3 *s = compat_sqlite_open(spath);
    sqlite3_stmt *st = compat_prepare(s, stmt);
    for (int i = 0; i < n; i++)
        bind_value(st, i + 1, &vals[i]);
    int src = sqlite3_step(st);
    char smsg[256];
    snprintf(smsg, sizeof smsg, "%s", sqlite3_errmsg(s));
    int64_t schanges = src == SQLITE_DONE ? sqlite3_changes64(s) : 0;
    sqlite3_finalize(st);

    folio_db *db = compat_folio_open(fpath, COMPAT_RW);
    folio_txn *txn;
    folio_table *t;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    int64_t count = -1;
    int frc = update ? folio_update_where(&count, t, expr, cols, vals, n)
                     : folio_delete_where(&count, t, expr);
    char fmsg[256];
    snprintf(fmsg, sizeof fmsg, "%s", frc < 0 ? folio_errmsg(db) : "");
    cr_assert_eq(frc < 0, src != SQLITE_DONE, "%s\n%s: folio %d '%s', sqlite '%s'", sql, stmt, frc,
                 fmsg, smsg);
    stats_writes++;
    if (frc < 0) {
        stats_write_fail++;
        cr_assert_str_eq(fmsg, smsg, "%s\n%s", sql, stmt);
        cr_assert_eq(count, 0);
    } else {
        cr_assert_eq(count, schanges, "%s\n%s: folio %" PRId64 " rows, sqlite %" PRId64, sql, stmt,
                     count, schanges);
    }
    /* After a failure the transaction goes on as before the call. */
    cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    char *integ = compat_integrity(fpath);
    cr_assert_str_eq(integ, "ok", "%s\n%s", sql, stmt);
    free(integ);
    sqlite3 *f = compat_sqlite_open_ro(fpath);
    char *a = dump(f), *b = dump(s);
    cr_assert_str_eq(a, b, "%s\n%s: rows differ", sql, stmt);
    if (!update) /* the file's indexes agree with the table too */
        cr_assert_eq(compat_query_int(f, "SELECT count(*) FROM t"),
                     compat_query_int(s, "SELECT count(*) FROM t"));
    free(a);
    free(b);
    compat_sqlite_close(f);
    compat_sqlite_close(s);
    free(fpath);
    free(spath);
}

static void run_table(uint64_t *rng, const char *dir, int round)
{
    char sql[2048];
    table_shape sh;
    random_table(rng, &sh, sql, sizeof sql);
    char name[32];
    snprintf(name, sizeof name, "t%d.db", round);
    char *path = compat_path(dir, name);
    sqlite3 *s = compat_sqlite_open(path);
    compat_exec(s, sql);
    fill(s, rng, 20 + (int)compat_below(rng, MAX_ROWS - 20));
    compat_sqlite_close(s);
    s = compat_sqlite_open_ro(path);

    folio_db *db = compat_folio_open(path, COMPAT_RO);
    folio_txn *txn = compat_folio_read(db);
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    int nexpr = 40;
    for (int e = 0; e < nexpr; e++) {
        char expr[1024];
        random_expr(rng, sh.without_rowid, expr, sizeof expr);
        selection want, got;
        sqlite_select(s, expr, &want);
        folio_filter *f = NULL;
        int rc = folio_filter_compile(&f, t, expr);
        if (rc < 0) { /* only where SQLite refuses it too */
            cr_assert_eq(rc, FOLIO_ERROR, "%s\nWHERE %s: %d %s", sql, expr, rc, folio_errmsg(db));
            cr_assert_neq(want.rc, 0, "%s\nWHERE %s: folio refused: %s", sql, expr,
                          folio_errmsg(db));
            continue;
        }
        stats_cases++;
        folio_select(db, t, f, NULL, 0, &got);
        assert_same(&want, &got, sql, expr, "next");
        folio_select(db, t, f, NULL, 1, &got);
        assert_same(&want, &got, sql, expr, "prev");
        if (sh.index_col) {
            /* Through the index: the same rows, in another order; an error
             * may come at another row (the order differs), so only rows are
             * compared when SQLite had none. */
            folio_select(db, t, f, "ti", 0, &got);
            if (!want.rc && !got.rc)
                assert_same(&want, &got, sql, expr, "index");
        }
        stats_rows += want.n;
        if (want.rc)
            stats_errors++;
        else
            check_seeks(db, t, f, &want, rng, sh.without_rowid, expr);
        folio_filter_free(f);
        if (e % 8 == 0) {
            folio_commit(txn);
            cr_assert_eq(folio_close(db), FOLIO_OK);
            check_write(dir, path, sql, expr, rng, e % 16 == 8);
            db = compat_folio_open(path, COMPAT_RO);
            txn = compat_folio_read(db);
            cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
        }
    }
    folio_commit(txn);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_sqlite_close(s);
    free(path);
}

Test(compat_filter, random_tables_and_expressions)
{
    uint64_t rng = compat_seed(20261208);
    char *dir = compat_tmpdir();
    for (int round = 0; round < 40; round++)
        run_table(&rng, dir, round);
    cr_log_info("%d expressions compared (%d rows selected, %d evaluation errors), %d writes "
                "(%d failed in both)",
                stats_cases, stats_rows, stats_errors, stats_writes, stats_write_fail);
    fprintf(stderr,
            "filter: %d expressions compared (%d rows selected, %d evaluation errors), %d writes "
            "(%d failed in both)\n",
            stats_cases, stats_rows, stats_errors, stats_writes, stats_write_fail);
    compat_rmtree(dir);
    free(dir);
}

/* ---- errors ---- */

#include "os/os.h"

static folio_db *open_small(char **dir, char **path, const char *sql)
{
    *dir = compat_tmpdir();
    *path = compat_path(*dir, "e.db");
    compat_run(*path, sql);
    return compat_folio_open(*path, COMPAT_RW);
}

/* Compile errors: SQLite's message, then where (its offset within the
 * expression); what folio cannot evaluate is FOLIO_UNSUPPORTED. */
Test(compat_filter, compile_errors)
{
    char *dir, *path;
    folio_db *db = open_small(&dir, &path,
                              "CREATE TABLE t(k INTEGER PRIMARY KEY, a INT, b TEXT);"
                              "INSERT INTO t VALUES(1, 1, 'x')");
    sqlite3 *s = compat_sqlite_open_ro(path);
    folio_txn *txn = compat_folio_read(db);
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    static const char *const bad[] = {
        "a +",
        "a = = 1",
        "nosuch > 1",
        "a > 1 AND (b",
        "t2.a = 1",
        "a IN (1,",
        "nosuchfn(a)",
        "substr(a)",
        "count(*) > 1",
        "a LIKE",
        "b COLLATE nosuch = 'x'",
        "'abc",
        "a >> ",
        "max()",
    };
    const char *prefix = "SELECT * FROM t WHERE ";
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "%s%s", prefix, bad[i]);
        sqlite3_stmt *st = NULL;
        int src = sqlite3_prepare_v2(s, sql, -1, &st, NULL);
        if (src == SQLITE_OK) /* a compile-time error SQLite reports when it runs */
            src = sqlite3_step(st);
        cr_assert(src != SQLITE_OK && src != SQLITE_ROW && src != SQLITE_DONE, "%s", sql);
        char want[256];
        snprintf(want, sizeof want, "%s", sqlite3_errmsg(s));
        int off = sqlite3_error_offset(s);
        sqlite3_finalize(st);
        folio_filter *f = NULL;
        int rc = folio_filter_compile(&f, t, bad[i]);
        cr_assert_eq(rc, FOLIO_ERROR, "%s: %d %s", bad[i], rc, folio_errmsg(db));
        cr_assert_null(f);
        const char *got = folio_errmsg(db);
        cr_assert_eq(strncmp(got, want, strlen(want)), 0, "%s: folio '%s', sqlite '%s'", bad[i],
                     got, want);
        if (off >= (int)strlen(prefix)) {
            char where[64];
            snprintf(where, sizeof where, " (at offset %d)", off - (int)strlen(prefix));
            cr_assert_str_eq(got + strlen(want), where, "%s: folio '%s', sqlite '%s' at %d", bad[i],
                             got, want, off);
        }
    }
    static const char *const unsupported[] = {"a IN (SELECT 1)", "a = ?", "a = :x",
                                              "EXISTS (SELECT 1)", "a REGEXP 'x'"};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
        folio_filter *f = NULL;
        int rc = folio_filter_compile(&f, t, unsupported[i]);
        cr_assert_eq(rc, FOLIO_UNSUPPORTED, "%s: %d %s", unsupported[i], rc, folio_errmsg(db));
        cr_assert_null(f);
    }
    cr_assert_eq(folio_filter_compile(NULL, t, "a"), FOLIO_MISUSE);
    folio_filter *f = NULL;
    cr_assert_eq(folio_filter_compile(&f, t, NULL), FOLIO_MISUSE);
    folio_filter_free(NULL);
    folio_commit(txn);
    compat_sqlite_close(s);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* An evaluation error mid-scan ends the step with SQLite's message; a
 * statement that meets it changes nothing. */
Test(compat_filter, evaluation_error_mid_scan)
{
    char *dir, *path;
    folio_db *db = open_small(&dir, &path,
                              "CREATE TABLE t(k INTEGER PRIMARY KEY, a INT);"
                              "CREATE INDEX ta ON t(a);"
                              "INSERT INTO t VALUES(1, 5), (2, -9223372036854775808), (3, 7)");
    sqlite3 *s = compat_sqlite_open_ro(path);
    char smsg[128];
    sqlite3_stmt *st = compat_prepare(s, "SELECT k FROM t NOT INDEXED WHERE abs(a) > 0");
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_step(st), SQLITE_ERROR);
    snprintf(smsg, sizeof smsg, "%s", sqlite3_errmsg(s));
    sqlite3_finalize(st);
    compat_sqlite_close(s);

    folio_txn *txn;
    folio_table *t;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    folio_filter *f;
    cr_assert_eq(folio_filter_compile(&f, t, "abs(a) > 0"), FOLIO_OK, "%s", folio_errmsg(db));
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
    cr_assert_eq(folio_cursor_filter(c, f), FOLIO_OK);
    cr_assert_eq(folio_cursor_first(c), FOLIO_ROW);
    cr_assert_eq(folio_cursor_rowid(c), 1);
    cr_assert_eq(folio_cursor_next(c), FOLIO_ERROR);
    cr_assert_str_eq(folio_errmsg(db), smsg);
    cr_assert_eq(folio_cursor_next(c), FOLIO_DONE); /* on no row after the error */
    /* Backward, the error comes at the same row. */
    cr_assert_eq(folio_cursor_last(c), FOLIO_ROW);
    cr_assert_eq(folio_cursor_rowid(c), 3);
    cr_assert_eq(folio_cursor_prev(c), FOLIO_ERROR);
    /* Without the filter the cursor reads every row again. */
    cr_assert_eq(folio_cursor_filter(c, NULL), FOLIO_OK);
    int n = 0;
    for (int rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
        n++;
    cr_assert_eq(n, 3);
    folio_cursor_close(c);
    int64_t count = -1;
    cr_assert_eq(folio_delete_where(&count, t, "abs(a) > 0"), FOLIO_ERROR);
    cr_assert_str_eq(folio_errmsg(db), smsg);
    cr_assert_eq(count, 0);
    int cols[1] = {1};
    folio_value v = {.type = FOLIO_INTEGER, .u.i = 0};
    cr_assert_eq(folio_update_where(&count, t, "k = 1 OR abs(a) > 0", cols, &v, 1), FOLIO_ERROR);
    cr_assert_str_eq(folio_errmsg(db), smsg);
    cr_assert_eq(count, 0);
    /* The rows the failed calls had changed are back: two rows match. */
    cr_assert_eq(folio_delete_where(&count, t, "a > 0"), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(count, 2);
    /* A filter of another table (or definition) is refused. */
    cr_assert_eq(folio_exec(txn, "CREATE TABLE u(x)"), FOLIO_OK);
    folio_table *u;
    cr_assert_eq(folio_table_open(&u, txn, "u"), FOLIO_OK);
    cr_assert_eq(folio_cursor_open(&c, u, NULL), FOLIO_OK);
    cr_assert_eq(folio_cursor_filter(c, f), FOLIO_MISUSE);
    folio_cursor_close(c);
    folio_filter_free(f);
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    s = compat_sqlite_open_ro(path);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t"), 1);
    cr_assert_eq(compat_query_int(s, "SELECT k FROM t"), 2);
    compat_sqlite_close(s);
    char *integ = compat_integrity(path);
    cr_assert_str_eq(integ, "ok");
    free(integ);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* A statement fails as a whole: the rows changed before the failing one
 * come back. */
Test(compat_filter, statement_all_or_nothing)
{
    char *dir, *path;
    folio_db *db =
        open_small(&dir, &path,
                   "CREATE TABLE t(k INTEGER PRIMARY KEY, a INT UNIQUE, b TEXT NOT NULL);"
                   "INSERT INTO t SELECT value, value, 'x' FROM (" COMPAT_SERIES(
                       1, 2000) "SELECT value FROM series)");
    folio_txn *txn;
    folio_table *t;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    int cols[1] = {1};
    folio_value v = {.type = FOLIO_INTEGER, .u.i = 5000};
    int64_t count = -1;
    /* The first row takes 5000, the second cannot. */
    cr_assert_eq(folio_update_where(&count, t, "k > 1000", cols, &v, 1), FOLIO_CONSTRAINT);
    cr_assert_str_eq(folio_errmsg(db), "UNIQUE constraint failed: t.a");
    cr_assert_eq(count, 0);
    /* A NOT NULL failure at the last row of a delete-free update. */
    int bcol[1] = {2};
    folio_value nul = {.type = FOLIO_NULL};
    cr_assert_eq(folio_update_where(&count, t, "k >= 1", bcol, &nul, 1), FOLIO_CONSTRAINT);
    cr_assert_eq(folio_delete_where(&count, t, "k % 2 = 0"), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(count, 1000);
    cr_assert_eq(folio_update_where(&count, t, "k > 1990", cols, &v, 0), FOLIO_OK);
    cr_assert_eq(count, 5);
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
    /* A read transaction cannot delete. */
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_READ), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    cr_assert_eq(folio_delete_where(&count, t, "1"), FOLIO_READONLY);
    folio_commit(txn);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    sqlite3 *s = compat_sqlite_open_ro(path);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t"), 1000);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t WHERE a = k AND k %% 2 = 1"), 1000);
    compat_sqlite_close(s);
    char *integ = compat_integrity(path);
    cr_assert_str_eq(integ, "ok");
    free(integ);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* A warm filtered scan allocates nothing per row, on a table and through an
 * index, and reads only what the expression uses. */
Test(compat_filter, no_allocation_per_row)
{
    char *dir, *path;
    folio_db *db = open_small(&dir, &path,
                              "CREATE TABLE t(k INTEGER PRIMARY KEY, area TEXT, age INT, pad BLOB);"
                              "CREATE INDEX tage ON t(age);"
                              "INSERT INTO t SELECT value, printf('%06d', value * 7 % 1000000),"
                              " value % 90, det_blob(300, value) FROM (" COMPAT_SERIES(
                                  1, 5000) "SELECT value FROM series)");
    sqlite3 *s = compat_sqlite_open_ro(path);
    int64_t want1 = compat_query_int(s, "SELECT count(*) FROM t WHERE age > 50");
    int64_t want2 = compat_query_int(s, "SELECT count(*) FROM t WHERE area LIKE '12%%'");
    compat_sqlite_close(s);
    folio_txn *txn = compat_folio_read(db);
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    static const char *const exprs[] = {"age > 50", "area LIKE '12%'"};
    const int64_t want[] = {want1, want2};
    for (int i = 0; i < 2; i++) {
        folio_filter *f;
        cr_assert_eq(folio_filter_compile(&f, t, exprs[i]), FOLIO_OK);
        for (int pass = 0; pass < 3; pass++) {
            folio_cursor *c;
            cr_assert_eq(folio_cursor_open(&c, t, pass == 2 ? "tage" : NULL), FOLIO_OK);
            cr_assert_eq(folio_cursor_filter(c, f), FOLIO_OK);
            uint64_t before = os_alloc_count();
            int64_t n = 0;
            int rc;
            for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
                n++;
            uint64_t allocs = os_alloc_count() - before;
            cr_assert_eq(rc, FOLIO_DONE);
            cr_assert_eq(n, want[i], "%s: %" PRId64 " rows, sqlite %" PRId64, exprs[i], n, want[i]);
            if (pass == 1) /* warm */
                cr_assert_eq(allocs, 0, "%s: %" PRIu64 " allocations", exprs[i], allocs);
            folio_cursor_close(c);
        }
        folio_filter_free(f);
    }
    folio_commit(txn);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_rmtree(dir);
    free(path);
    free(dir);
}
