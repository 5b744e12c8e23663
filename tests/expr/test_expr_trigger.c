/*
 * Expressions in triggers (src/expr/expr.h, EX_TRIGGER): NEW and OLD and
 * outer tables as named sources, RAISE(), subqueries over one table
 * (scalar, EXISTS, IN; correlated and nested; ORDER BY, LIMIT, OFFSET) and
 * the aggregates of their results. Every result is compared with
 * libsqlite3 running the same thing over the same data:
 *
 *   - an expression over the rows of a table t is "SELECT <expr> FROM t
 *     ORDER BY rowid" in libsqlite3, and in folio the scope is t and each
 *     subquery's table is scanned from the same rows (a fake ex_row below:
 *     tables as arrays, read back from libsqlite3 after its insert
 *     affinity);
 *   - NEW and OLD come from a trigger in libsqlite3 that inserts the
 *     expression's value into a result table for each row an UPDATE
 *     changes ("WHEN <expr>" for conditions); folio evaluates the same
 *     expression with NEW and OLD as qualified_only sources;
 *   - errors compare by message (folio's without its " (at offset N)").
 *
 * A randomized part draws tables and expressions from a grammar with
 * subqueries; it prints its seed (FOLIO_SEED=N replays it).
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <folio.h>
#include <sqlite3.h>

#include "expr/expr.h"
#include "expr_diff.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#endif
#ifdef HAVE_ASAN
#include <sanitizer/allocator_interface.h>
#endif

/* ---- A small database, in libsqlite3 and as arrays --------------------------------- */

#define MAX_TABLES 6
#define MAX_COLS   6
#define MAX_ROWS   40

typedef struct ftable {
    char name[32];
    char colname[MAX_COLS][16];
    ex_column cols[MAX_COLS];
    int ncols;
    int rowid_alias;
    int without_rowid;
    int nrows;
    int64_t rowid[MAX_ROWS];
    ex_value v[MAX_ROWS][MAX_COLS];
} ftable;

typedef struct fdb {
    sqlite3 *db;
    ftable t[MAX_TABLES];
    int nt;
} fdb;

static void must_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        cr_log_error("%s: %s", sql, err ? err : "?");
        sqlite3_free(err);
        cr_assert_fail("setup failed");
    }
}

static void value_free(ex_value *v)
{
    if (v->type == EX_TEXT || v->type == EX_BLOB)
        free((void *)v->u.s.p);
    memset(v, 0, sizeof *v);
}

static void value_from_sqlite(ex_value *v, sqlite3_value *sv)
{
    memset(v, 0, sizeof *v);
    switch (sqlite3_value_type(sv)) {
    case SQLITE_INTEGER:
        v->type = EX_INTEGER;
        v->u.i = sqlite3_value_int64(sv);
        break;
    case SQLITE_FLOAT:
        v->type = EX_REAL;
        v->u.r = sqlite3_value_double(sv);
        break;
    case SQLITE_TEXT:
    case SQLITE_BLOB: {
        int text = sqlite3_value_type(sv) == SQLITE_TEXT;
        const void *p = text ? (const void *)sqlite3_value_text(sv) : sqlite3_value_blob(sv);
        int n = sqlite3_value_bytes(sv);
        uint8_t *b = malloc((size_t)n + 1);
        if (n)
            memcpy(b, p, (size_t)n);
        b[n] = 0;
        v->type = text ? EX_TEXT : EX_BLOB;
        v->u.s.p = b;
        v->u.s.n = (uint64_t)n;
        break;
    }
    default:
        v->type = EX_NULL;
        break;
    }
}

static ftable *find_table(fdb *f, const char *name)
{
    for (int i = 0; i < f->nt; i++)
        if (sch_ident_eq(f->t[i].name, name))
            return &f->t[i];
    return NULL;
}

/* Read table `name`'s declaration and rows back from libsqlite3. */
static void load_table(fdb *f, const char *name)
{
    ftable *t = find_table(f, name);
    if (!t) {
        cr_assert_lt(f->nt, MAX_TABLES);
        t = &f->t[f->nt++];
        memset(t, 0, sizeof *t);
    } else {
        for (int r = 0; r < t->nrows; r++)
            for (int c = 0; c < t->ncols; c++)
                value_free(&t->v[r][c]);
    }
    snprintf(t->name, sizeof t->name, "%s", name);
    /* Columns: name, declared type, collation, primary key. */
    char sql[256];
    sqlite3_stmt *st;
    snprintf(sql, sizeof sql,
             "SELECT name, type, pk, (SELECT count(*) FROM pragma_table_info('%s') WHERE pk) "
             "FROM pragma_table_info('%s') ORDER BY cid",
             name, name);
    cr_assert_eq(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK, "%s",
                 sqlite3_errmsg(f->db));
    t->ncols = 0;
    t->rowid_alias = -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int c = t->ncols++;
        cr_assert_lt(c, MAX_COLS);
        snprintf(t->colname[c], sizeof t->colname[c], "%s", sqlite3_column_text(st, 0));
        const char *type = (const char *)sqlite3_column_text(st, 1);
        t->cols[c].name = t->colname[c];
        t->cols[c].affinity = sch_affinity_of(type && type[0] ? type : NULL);
        t->cols[c].collation = SCH_COLL_BINARY;
        t->cols[c].generated = 0;
        if (sqlite3_column_int(st, 2) == 1 && sqlite3_column_int(st, 3) == 1 && type &&
            sch_ident_eq(type, "INTEGER"))
            t->rowid_alias = c;
    }
    sqlite3_finalize(st);
    /* Collations, from the CREATE statement's text: " COLLATE NOCASE" after
     * the column name (the tables below are written that way). */
    snprintf(sql, sizeof sql, "SELECT sql FROM sqlite_schema WHERE name = '%s'", name);
    cr_assert_eq(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    const char *create = (const char *)sqlite3_column_text(st, 0);
    t->without_rowid = strstr(create, "WITHOUT ROWID") != NULL;
    for (int c = 0; c < t->ncols; c++) {
        char pat[64];
        snprintf(pat, sizeof pat, "%s ", t->colname[c]);
        const char *at = strstr(create, pat);
        const char *end = at ? strpbrk(at, ",)") : NULL;
        if (at && end) {
            char decl[128];
            snprintf(decl, sizeof decl, "%.*s", (int)(end - at), at);
            if (strstr(decl, "NOCASE"))
                t->cols[c].collation = SCH_COLL_NOCASE;
            else if (strstr(decl, "RTRIM"))
                t->cols[c].collation = SCH_COLL_RTRIM;
        }
    }
    sqlite3_finalize(st);
    snprintf(sql, sizeof sql, "SELECT %s* FROM %s ORDER BY %s",
             t->without_rowid ? "0, " : "rowid, ", name, t->without_rowid ? "1" : "rowid");
    cr_assert_eq(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK, "%s",
                 sqlite3_errmsg(f->db));
    t->nrows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int r = t->nrows++;
        cr_assert_lt(r, MAX_ROWS);
        t->rowid[r] = sqlite3_column_int64(st, 0);
        for (int c = 0; c < t->ncols; c++)
            value_from_sqlite(&t->v[r][c], sqlite3_column_value(st, c + 1));
    }
    sqlite3_finalize(st);
}

static void fdb_open(fdb *f)
{
    memset(f, 0, sizeof *f);
    cr_assert_eq(sqlite3_open(":memory:", &f->db), SQLITE_OK);
}

static void fdb_close(fdb *f)
{
    for (int i = 0; i < f->nt; i++)
        for (int r = 0; r < f->t[i].nrows; r++)
            for (int c = 0; c < f->t[i].ncols; c++)
                value_free(&f->t[i].v[r][c]);
    sqlite3_close(f->db);
}

/* Run SQL in libsqlite3 and load the tables it names (comma-separated). */
static void setup(fdb *f, const char *sql, const char *tables)
{
    must_exec(f->db, sql);
    char list[256];
    snprintf(list, sizeof list, "%s", tables);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save))
        load_table(f, tok);
}

/* ---- folio's view: scope, sources, row, scan ------------------------------------------- */

static fdb *lookup_db; /* table_lookup's database */
static int lookups;    /* how many times it was asked */

static int table_lookup(void *arg, const char *name, ex_source *out, char *err, size_t errlen)
{
    fdb *f = arg;
    lookups++;
    ftable *t = find_table(f, name);
    if (!t) {
        snprintf(err, errlen, "no such table: %s", name);
        return FOLIO_ERROR;
    }
    out->name = t->name;
    out->cols = t->cols;
    out->ncols = t->ncols;
    out->rowid_alias = t->rowid_alias;
    out->without_rowid = t->without_rowid;
    out->qualified_only = 0;
    return 0;
}

/* One evaluation's positions: the scope's row, NEW and OLD, and the row
 * each subquery's scan is on. */
typedef struct frow {
    fdb *f;
    const ex_prog *p;
    const ex_scope *sc;
    const ftable *top; /* the scope's table, or NULL */
    int toprow;
    const ex_value *src_vals[2]; /* NEW, OLD: ncols values and then the rowid */
    int nsrc;
    const ftable *subtab[32];
    int subpos[32];
    int active[32];
    long visits;
    int fail_scan_at; /* a test of the caller's own error: fail at this visit (0: never) */
} frow;

static int row_column(void *arg, int col, ex_value *out)
{
    frow *fr = arg;
    const ex_scope *sc = fr->sc;
    if (col < sc->ncols) {
        cr_assert(fr->top && col != sc->rowid_alias, "column %d of the scope", col);
        *out = fr->top->v[fr->toprow][col];
        return 0;
    }
    for (int s = 0; s < sc->nsources; s++) {
        int base = ex_scope_source_base(sc, s);
        if (col >= base && col <= base + sc->sources[s].ncols) {
            *out = fr->src_vals[s][col - base];
            return 0;
        }
    }
    const ex_subquery *q;
    int n = ex_prog_subqueries(fr->p, &q);
    for (int s = 0; s < n; s++) {
        if (q[s].base < 0 || col < q[s].base || col > q[s].base + q[s].ncols)
            continue;
        cr_assert(fr->active[s], "slot %d read outside subquery %d's scan", col, s);
        const ftable *t = fr->subtab[s];
        int r = fr->subpos[s];
        if (col == q[s].base + q[s].ncols) {
            memset(out, 0, sizeof *out);
            out->type = EX_INTEGER;
            out->u.i = t->rowid[r];
        } else {
            *out = t->v[r][col - q[s].base];
        }
        return 0;
    }
    cr_assert_fail("slot %d is nobody's", col);
    return FOLIO_ERROR;
}

static int row_scan(void *arg, int subq, int (*visit)(void *), void *vctx)
{
    frow *fr = arg;
    const ex_subquery *q;
    int n = ex_prog_subqueries(fr->p, &q);
    cr_assert(subq >= 0 && subq < n && q[subq].table, "scan of subquery %d", subq);
    cr_assert(!fr->active[subq], "subquery %d scanned twice at once", subq);
    const ftable *t = find_table(fr->f, q[subq].table);
    cr_assert(t, "no table %s", q[subq].table);
    fr->subtab[subq] = t;
    fr->active[subq] = 1;
    int rc = 0;
    for (int r = 0; r < t->nrows; r++) {
        fr->subpos[subq] = r;
        fr->visits++;
        if (fr->fail_scan_at && fr->visits == fr->fail_scan_at) {
            rc = FOLIO_IOERR;
            break;
        }
        rc = visit(vctx);
        if (rc == 1) {
            rc = 0;
            break;
        }
        if (rc < 0)
            break;
    }
    fr->active[subq] = 0;
    return rc;
}

/* The scope over table `top` (NULL: none) with `nsrc` qualified_only
 * sources NEW and OLD of table `trig`. */
static ex_source trig_sources[2];

static void make_scope(ex_scope *sc, fdb *f, const ftable *top, const ftable *trig, int nsrc)
{
    memset(sc, 0, sizeof *sc);
    sc->rowid_alias = -1;
    if (top) {
        sc->table = top->name;
        sc->cols = top->cols;
        sc->ncols = top->ncols;
        sc->rowid_alias = top->rowid_alias;
        sc->without_rowid = top->without_rowid;
    }
    for (int s = 0; s < nsrc; s++) {
        trig_sources[s].name = s == 0 ? "new" : "old";
        trig_sources[s].cols = trig->cols;
        trig_sources[s].ncols = trig->ncols;
        trig_sources[s].rowid_alias = trig->rowid_alias;
        trig_sources[s].without_rowid = trig->without_rowid;
        trig_sources[s].qualified_only = 1;
    }
    sc->sources = nsrc ? trig_sources : NULL;
    sc->nsources = nsrc;
    sc->table_lookup = table_lookup;
    sc->lookup_arg = f;
}

/* ---- Comparing ---------------------------------------------------------------------------- */

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
        size_t o = (size_t)snprintf(buf, cap, "%s '", v->type == EX_TEXT ? "TEXT" : "BLOB");
        for (uint64_t k = 0; k < v->u.s.n && o + 6 < cap && k < 80; k++) {
            uint8_t c = v->u.s.p[k];
            if (c >= 0x20 && c < 0x7f)
                buf[o++] = (char)c;
            else
                o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        }
        snprintf(buf + o, cap - o, "'");
        break;
    }
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

/* An outcome: a value, or an error's message. */
typedef struct outcome {
    int error;
    char msg[512];
    ex_value v;
    uint8_t bytes[512];
} outcome;

static void outcome_value(outcome *o, const ex_value *v)
{
    o->error = 0;
    o->v = *v;
    if (v->type == EX_TEXT || v->type == EX_BLOB) {
        size_t n = v->u.s.n < sizeof o->bytes ? (size_t)v->u.s.n : sizeof o->bytes;
        memcpy(o->bytes, v->u.s.p, n);
        o->v.u.s.p = o->bytes;
        o->v.u.s.n = n;
    }
}

static void outcome_error(outcome *o, const char *msg)
{
    o->error = 1;
    snprintf(o->msg, sizeof o->msg, "%s", msg);
    char *at = strstr(o->msg, " (at offset ");
    if (at)
        *at = 0;
}

static int same_outcome(const outcome *a, const outcome *b, char *why, size_t cap)
{
    if (a->error || b->error) {
        if (a->error && b->error && strcmp(a->msg, b->msg) == 0)
            return 1;
        char va[700], vb[700];
        if (a->error)
            snprintf(va, sizeof va, "error \"%s\"", a->msg);
        else
            describe(&a->v, va, sizeof va);
        if (b->error)
            snprintf(vb, sizeof vb, "error \"%s\"", b->msg);
        else
            describe(&b->v, vb, sizeof vb);
        snprintf(why, cap, "folio %s, sqlite %s", va, vb);
        return 0;
    }
    if (same_value(&a->v, &b->v))
        return 1;
    char va[700], vb[700];
    describe(&a->v, va, sizeof va);
    describe(&b->v, vb, sizeof vb);
    snprintf(why, cap, "folio %s, sqlite %s", va, vb);
    return 0;
}

/* libsqlite3: "SELECT <expr> [FROM top ORDER BY rowid]": one outcome per row
 * (or one error for all). Returns how many. */
static int sqlite_outcomes(fdb *f, const char *expr, const ftable *top, outcome *out, int cap)
{
    char *sql = top ? sqlite3_mprintf("SELECT %s FROM %s ORDER BY %s", expr, top->name,
                                      top->without_rowid ? "1" : "rowid")
                    : sqlite3_mprintf("SELECT %s", expr);
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) != SQLITE_OK) {
        outcome_error(&out[0], sqlite3_errmsg(f->db));
        sqlite3_free(sql);
        return -1;
    }
    sqlite3_free(sql);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < cap) {
        ex_value v;
        value_from_sqlite(&v, sqlite3_column_value(st, 0));
        outcome_value(&out[n++], &v);
        value_free(&v);
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        /* A runtime error stops the statement: it is the next row's outcome. */
        if (n < cap)
            outcome_error(&out[n++], sqlite3_errmsg(f->db));
    }
    sqlite3_finalize(st);
    return n;
}

static ex_ctx *shared_cx;

/* folio: compile `expr` for `flags` over scope `sc` and evaluate it per row
 * of `top` (once if NULL). Returns the outcomes (-1: a compile error in
 * out[0]). */
static int folio_outcomes(fdb *f, const char *expr, const ftable *top, unsigned flags, outcome *out,
                          int cap)
{
    ex_scope sc;
    make_scope(&sc, f, top, NULL, 0);
    ex_prog *p = NULL;
    char err[512];
    int rc = ex_compile(&p, expr, strlen(expr), &sc, flags, err, sizeof err);
    if (rc) {
        cr_assert(!p);
        outcome_error(&out[0], err);
        return -1;
    }
    int nrows = top ? top->nrows : 1, n = 0;
    for (int r = 0; r < nrows && n < cap; r++) {
        frow fr;
        memset(&fr, 0, sizeof fr);
        fr.f = f;
        fr.p = p;
        fr.sc = &sc;
        fr.top = top;
        fr.toprow = r;
        ex_row row = {row_column, &fr, top && !top->without_rowid ? top->rowid[r] : 0, row_scan};
        ex_value v;
        rc = ex_eval(p, shared_cx, &row, &v);
        if (rc) {
            outcome_error(&out[n++], ex_ctx_errmsg(shared_cx));
            break; /* as SQLite's statement stops */
        }
        outcome_value(&out[n++], &v);
    }
    ex_prog_free(p);
    return n;
}

static long compared;

/* Compare "SELECT expr [FROM top]" with folio. Returns 0 when the same. */
static int compare_select(fdb *f, const char *expr, const char *top_name, char *why, size_t cap)
{
    static outcome a[MAX_ROWS + 1], b[MAX_ROWS + 1];
    const ftable *top = top_name ? find_table(f, top_name) : NULL;
    int nb = sqlite_outcomes(f, expr, top, b, MAX_ROWS + 1);
    int na = folio_outcomes(f, expr, top, EX_TRIGGER, a, MAX_ROWS + 1);
    compared++;
    if (na < 0 || nb < 0) {
        if (na < 0 && nb < 0)
            return same_outcome(&a[0], &b[0], why, cap) ? 0 : 1;
        snprintf(why, cap, "folio %s, sqlite %s", na < 0 ? a[0].msg : "compiles",
                 nb < 0 ? b[0].msg : "compiles");
        return 1;
    }
    if (na != nb) {
        snprintf(why, cap, "folio %d outcomes, sqlite %d (last: %s / %s)", na, nb,
                 na ? (a[na - 1].error ? a[na - 1].msg : "value") : "-",
                 nb ? (b[nb - 1].error ? b[nb - 1].msg : "value") : "-");
        return 1;
    }
    for (int r = 0; r < na; r++) {
        char w[1600];
        if (!same_outcome(&a[r], &b[r], w, sizeof w)) {
            snprintf(why, cap, "row %d: %s", r, w);
            return 1;
        }
    }
    return 0;
}

#define EXPECT_SAME(f, expr, top)                                                                  \
    do {                                                                                           \
        char why_[2048];                                                                           \
        cr_expect(compare_select((f), (expr), (top), why_, sizeof why_) == 0, "%s: %s", (expr),    \
                  why_);                                                                           \
    } while (0)

/* ---- Fixtures -------------------------------------------------------------------------------- */

static const char base_tables[] =
    "CREATE TABLE s(a, b TEXT, c INTEGER, d REAL, e TEXT COLLATE NOCASE);"
    "INSERT INTO s VALUES(1, 'x', 10, 1.5, 'abc'), (2, 'y', NULL, 2.5, 'ABC'),"
    " (NULL, '1', 30, NULL, 'b'), (3, 'x', 10, -1.0, NULL), ('3', 'z ', -5, 0.0, 'Abd');"
    "CREATE TABLE u(k INTEGER PRIMARY KEY, v, w TEXT);"
    "INSERT INTO u VALUES(1, 'one', 'a'), (2, 2, 'b'), (3, NULL, 'c'), (10, 2.0, NULL);"
    "CREATE TABLE empty(q, r);"
    "CREATE TABLE nums(n INTEGER, m);"
    "INSERT INTO nums VALUES(9223372036854775807, 1), (1, 2), (-3, 3), (NULL, 4);"
    "CREATE TABLE wr(p TEXT PRIMARY KEY, q INTEGER) WITHOUT ROWID;"
    "INSERT INTO wr VALUES('k1', 1), ('k2', 2);";

static fdb F;

static void open_base(void)
{
    fdb_open(&F);
    setup(&F, base_tables, "s,u,empty,nums,wr");
    lookup_db = &F;
    cr_assert_eq(ex_ctx_new(&shared_cx), 0);
    ex_ctx_set_now(shared_cx, 1700000000000);
}

static void close_base(void)
{
    ex_ctx_free(shared_cx);
    shared_cx = NULL;
    fdb_close(&F);
}

TestSuite(expr_trigger, .init = open_base, .fini = close_base);

/* ---- Subqueries --------------------------------------------------------------------------------
 */

Test(expr_trigger, scalar_subqueries)
{
    static const char *const e[] = {
        "(SELECT 1)",
        "(SELECT 1 + 2 WHERE 0)",
        "(SELECT a FROM s)",
        "(SELECT b FROM s WHERE a = 2)",
        "(SELECT b FROM s WHERE a > 5)",
        "(SELECT a FROM s WHERE c IS NULL)",
        "(SELECT c FROM s) = '10'",
        "(SELECT b FROM s) = 1",
        "(SELECT e FROM s) = 'ABC'",
        "(SELECT e FROM s WHERE e = 'ABC')",
        "(SELECT v FROM u WHERE k = 2) + 1",
        "(SELECT k FROM u WHERE v IS NULL)",
        "(SELECT rowid FROM s WHERE b = 'y')",
        "(SELECT _rowid_ + oid FROM u WHERE w = 'c')",
        "(SELECT q FROM wr WHERE p = 'k2')",
        "(SELECT * FROM empty)",
        "(SELECT x.a FROM s AS x WHERE x.a = 2)",
        "(SELECT x.a FROM s x WHERE x.b = 'z ')",
        "(SELECT s.b FROM main.s WHERE s.a = 3)",
        "(SELECT a + 1 AS z FROM s WHERE z = 3)",
        "(SELECT a AS b FROM s WHERE b = 'y')",
        "(SELECT 'x' || (SELECT w FROM u WHERE k = 3))",
        "(SELECT (SELECT (SELECT max(k) FROM u)))",
        "typeof((SELECT d FROM s WHERE a = 3))",
        "(SELECT d FROM s WHERE d > 0 AND d < 2)",
        "(SELECT a FROM s WHERE a IN (2, 3))",
        "(SELECT abs(n) FROM nums)",
        "(SELECT abs(n) FROM nums WHERE m > 1)",
        "(SELECT 1 FROM nums WHERE abs(n) > 0)",
        "json_array((SELECT json('[1]')))",
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        EXPECT_SAME(&F, e[i], NULL);
}

Test(expr_trigger, debug_tmp)
{
    char why[2048];
    int r = compare_select(&F, "(SELECT b FROM s WHERE a = 2)", NULL, why, sizeof why);
    fprintf(stderr, "r=%d why=%s\n", r, r ? why : "");
    static outcome a[4];
    int n = folio_outcomes(&F, "(SELECT b FROM s WHERE a = 2) || (SELECT count(*) FROM s)", NULL,
                           EX_TRIGGER, a, 4);
    char buf[256];
    describe(&a[0].v, buf, sizeof buf);
    fprintf(stderr, "n=%d err=%d %s %s\n", n, a[0].error, a[0].msg, buf);
    n = folio_outcomes(&F, "(SELECT c FROM s) + (SELECT x FROM nosuch)", NULL, EX_TRIGGER, a, 4);
    fprintf(stderr, "n=%d err=%d %s\n", n, a[0].error, a[0].msg);
}
