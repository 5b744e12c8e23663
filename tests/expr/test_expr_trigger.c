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

#define MAX_TABLES 10
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

/* Two "misuse of aggregate: f()" that name different functions are the
 * same outcome: when an expression holds several aggregates SQLite cannot
 * code, which one its code generator names last depends on the order it
 * codes subqueries in (outside the order of the text); both refuse the
 * expression at compile time alike. */
static long misuse_pairs;

static int same_outcome(const outcome *a, const outcome *b, char *why, size_t cap)
{
    static const char misuse[] = "misuse of aggregate: ";
    if (a->error || b->error) {
        if (a->error && b->error && strcmp(a->msg, b->msg) == 0)
            return 1;
        if (a->error && b->error && strncmp(a->msg, misuse, sizeof misuse - 1) == 0 &&
            strncmp(b->msg, misuse, sizeof misuse - 1) == 0) {
            misuse_pairs++;
            return 1;
        }
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

/*
 * The random expressions meet one class of difference that is not folio's
 * to remove: an aggregate that cannot be coded where it stands ("misuse of
 * aggregate: f()", a compile error) in a part of a subquery SQLite's
 * planner may decide not to code at all (an ORDER BY it finds satisfied by
 * a rowid lookup, a constant subquery it factors out). There, one side
 * compiles and the other refuses; such pairs are counted, not failed.
 */
static long misuse_planner;

static int stray_aggregate_pair(const outcome *a, int na, const outcome *b, int nb)
{
    static const char misuse[] = "misuse of aggregate: ";
    if ((na < 0) == (nb < 0))
        return 0;
    const outcome *err = na < 0 ? &a[0] : &b[0];
    return strncmp(err->msg, misuse, sizeof misuse - 1) == 0;
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
static int tolerate_planner; /* the random tests: see stray_aggregate_pair */

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
        if (tolerate_planner && stray_aggregate_pair(a, na, b, nb)) {
            misuse_planner++;
            return 0;
        }
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

Test(expr_trigger, exists)
{
    static const char *const e[] = {
        "EXISTS (SELECT 1 FROM s)",
        "EXISTS (SELECT * FROM empty)",
        "NOT EXISTS (SELECT * FROM empty)",
        "EXISTS (SELECT a FROM s WHERE a > 2)",
        "EXISTS (SELECT a FROM s WHERE a > 5)",
        "EXISTS (SELECT abs(n) FROM nums)",
        "EXISTS (SELECT 1 FROM nums WHERE abs(n) > 0)",
        "EXISTS (SELECT count(*) FROM empty)",
        "EXISTS (SELECT count(*) FROM s LIMIT 1 OFFSET 1)",
        "EXISTS (SELECT a FROM s LIMIT 0)",
        "EXISTS (SELECT a FROM s LIMIT '0')",
        "EXISTS (SELECT a FROM s LIMIT 'x')",
        "EXISTS (SELECT a FROM s LIMIT 1 OFFSET 4)",
        "EXISTS (SELECT a FROM s LIMIT 1 OFFSET 5)",
        "EXISTS (SELECT a FROM s ORDER BY a LIMIT 2 OFFSET 3)",
        "EXISTS (SELECT *)",
        "EXISTS (SELECT 1 WHERE NULL)",
        "EXISTS (SELECT a, b, c FROM s WHERE e = 'abd')",
        "EXISTS (SELECT * FROM wr WHERE q = 2)",
        "1 + EXISTS (SELECT 1 FROM u WHERE k = 10) * 2",
        "EXISTS (SELECT sum(n) FROM nums)",
        "EXISTS (SELECT max(abs(-9223372036854775807 - m)) FROM nums)",
        "EXISTS (SELECT max(a) FROM s WHERE abs(-9223372036854775807 - c) > 0)",
        "EXISTS (SELECT count(x.a) FROM s)",
        "EXISTS (SELECT a, count(*) FROM s LIMIT 1 OFFSET 1)",
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        EXPECT_SAME(&F, e[i], NULL);
}

Test(expr_trigger, in_subqueries)
{
    static const char *const e[] = {
        "2 IN (SELECT a FROM s)",
        "5 IN (SELECT a FROM s)",
        "5 NOT IN (SELECT a FROM s)",
        "5 IN (SELECT c FROM s)",
        "NULL IN (SELECT a FROM s)",
        "NULL IN (SELECT a FROM empty)",
        "NULL NOT IN (SELECT a FROM empty)",
        "1 IN (SELECT q FROM empty)",
        "3 IN (SELECT a FROM s)",
        "'3' IN (SELECT a FROM s)",
        "'10' IN (SELECT c FROM s)",
        "10 IN (SELECT b FROM s)",
        "1 IN (SELECT b FROM s)",
        "'1' IN (SELECT b FROM s)",
        "1.0 IN (SELECT b FROM s)",
        "'abc' IN (SELECT e FROM s)",
        "'ABC' IN (SELECT e FROM s WHERE e <> 'abc')",
        "'aBd' IN (SELECT e FROM s)",
        "'aBd' COLLATE BINARY IN (SELECT e FROM s)",
        "'z' IN (SELECT b FROM s)",
        "'z ' IN (SELECT b COLLATE RTRIM FROM s)",
        "'z' IN (SELECT b COLLATE RTRIM FROM s)",
        "2 IN (SELECT v FROM u)",
        "'2' IN (SELECT v FROM u)",
        "2 IN (SELECT k FROM u)",
        "'2' IN (SELECT k FROM u)",
        "1 IN (SELECT abs(n) FROM nums)",
        "1 IN (SELECT a FROM s LIMIT 1)",
        "2 IN (SELECT a FROM s LIMIT 1)",
        "2 IN (SELECT a FROM s LIMIT 1 OFFSET 1)",
        "2 IN (SELECT a FROM s LIMIT 0)",
        "2 IN (SELECT a FROM s LIMIT -1 OFFSET 1)",
        "2 IN (SELECT a FROM s LIMIT 'x')",
        "2 IN (SELECT a FROM s LIMIT 1.0)",
        "2 IN (SELECT a FROM s LIMIT 1.5)",
        "2 IN (SELECT a FROM s LIMIT 2, 1)",
        "3 IN (SELECT a FROM s ORDER BY a DESC LIMIT 1)",
        "'3' IN (SELECT a FROM s ORDER BY a DESC LIMIT 1)",
        "1 IN (SELECT a FROM s ORDER BY c LIMIT 2)",
        "NULL IN (SELECT a FROM s ORDER BY c LIMIT 2 OFFSET 10)",
        "2 IN (SELECT max(a) FROM s)",
        "3 IN (SELECT count(*) FROM s WHERE a > 1)",
        "4 IN (SELECT count(*) FROM s LIMIT 1 OFFSET 1)",
        "1 IN (SELECT 1)",
        "1 IN (SELECT NULL)",
        "(SELECT a FROM s WHERE b = 'y') IN (SELECT k FROM u)",
        "abs(-9223372036854775808) IN (SELECT a FROM s)",
        "abs(-9223372036854775808) IN (SELECT abs(n) FROM nums)",
        "1 IN (SELECT a FROM s) IN (SELECT k FROM u)",
        "1 IN (SELECT a FROM s ORDER BY abs(-9223372036854775807 - c))",
        "1 IN (SELECT k FROM u ORDER BY abs(-9223372036854775807 - k))",
        "1 IN (SELECT rowid FROM s ORDER BY abs(-9223372036854775807 - c))",
        "1 IN (SELECT rowid FROM s WHERE 1 ORDER BY abs(-9223372036854775807 - c))",
        "1 IN (SELECT a FROM s ORDER BY (SELECT sum(s.c)))",
        "1 IN (SELECT k FROM u ORDER BY (SELECT sum(u.v)))",
        "EXISTS (SELECT a FROM s ORDER BY abs(-9223372036854775807 - c))",
        "EXISTS (SELECT a FROM s ORDER BY (SELECT sum(s.c)))",
        "1.0 IN (SELECT k FROM u)",
        "'1' IN (SELECT rowid FROM u)",
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        EXPECT_SAME(&F, e[i], NULL);
}

Test(expr_trigger, aggregates)
{
    static const char *const e[] = {
        "(SELECT count(*) FROM s)",
        "(SELECT count() FROM s)",
        "(SELECT count(a) FROM s)",
        "(SELECT count(*) FROM empty)",
        "(SELECT count(q) FROM empty)",
        "(SELECT sum(q) FROM empty)",
        "(SELECT total(q) FROM empty)",
        "(SELECT avg(q) FROM empty)",
        "(SELECT min(q) FROM empty)",
        "(SELECT max(q) FROM empty)",
        "(SELECT group_concat(q) FROM empty)",
        "(SELECT sum(a) FROM s)",
        "(SELECT typeof(sum(a)) FROM s)",
        "(SELECT sum(d) FROM s)",
        "(SELECT sum(b) FROM s)",
        "(SELECT sum(e) FROM s)",
        "(SELECT total(a) FROM s)",
        "(SELECT avg(a) FROM s)",
        "(SELECT avg(c) FROM s)",
        "(SELECT sum(n) FROM nums)",
        "(SELECT sum(n) FROM nums WHERE m <> 2)",
        "(SELECT total(n) FROM nums)",
        "(SELECT avg(n) FROM nums)",
        "(SELECT sum(m * 1.5) FROM nums)",
        "(SELECT min(a) FROM s)",
        "(SELECT max(a) FROM s)",
        "(SELECT min(b) FROM s)",
        "(SELECT max(b) FROM s)",
        "(SELECT min(e) FROM s)",
        "(SELECT max(e) FROM s)",
        "(SELECT max(e COLLATE BINARY) FROM s)",
        "(SELECT min(d) FROM s)",
        "(SELECT max(v) FROM u)",
        "(SELECT min(v) FROM u)",
        "(SELECT group_concat(a) FROM s)",
        "(SELECT group_concat(b, '') FROM s)",
        "(SELECT group_concat(b, NULL) FROM s)",
        "(SELECT group_concat(b, a) FROM s)",
        "(SELECT group_concat(d, 1.5) FROM s)",
        "(SELECT group_concat(v) FROM u)",
        "(SELECT group_concat('') FROM s)",
        "(SELECT quote(group_concat(NULL)) FROM s)",
        "(SELECT count(*) + sum(c) * 2 FROM s WHERE a IS NOT NULL)",
        "(SELECT count(*))",
        "(SELECT max(1, 2))",
        "(SELECT min(1))",
        "(SELECT sum(a) FROM s LIMIT 1 OFFSET 1)",
        "(SELECT sum(n) FROM nums LIMIT 1 OFFSET 1)",
        "(SELECT sum(n) FROM nums LIMIT 0)",
        "(SELECT count(*) FROM s ORDER BY 1 DESC)",
        "(SELECT count(*) FROM s ORDER BY max(a))",
        "(SELECT max(a) + max(a) FROM s)",
        "(SELECT b FROM s ORDER BY count(*))",
        /* Bare columns: the first row, or the row of the last min()/max(). */
        "(SELECT b || ':' || count(*) FROM s)",
        "(SELECT b || ':' || max(a) FROM s)",
        "(SELECT b || ':' || min(a) FROM s)",
        "(SELECT b || min(a) || max(c) FROM s)",
        "(SELECT b || max(c) || min(a) FROM s)",
        "(SELECT b || max(a) || count(*) FROM s)",
        "(SELECT b || max(a) || min(a) || max(a) FROM s)",
        "(SELECT quote(b) || max(a) FROM s WHERE a IS NULL)",
        "(SELECT quote(b) || count(*) FROM s WHERE a > 10)",
        "(SELECT e || max(e) FROM s)",
        "(SELECT rowid || max(d) FROM s)",
        "(SELECT (SELECT w FROM u WHERE u.k = s.c) || min(a) FROM s)",
        "(SELECT (SELECT count(s.a) FROM u) FROM s)",
        "(SELECT (SELECT count(s.a) + count(u.k) FROM u) FROM s)",
        "(SELECT (SELECT max(k) FROM u WHERE k < s.c) FROM s WHERE c > 0)",
        "(SELECT sum((SELECT count(*) FROM u WHERE k <= s.c)) FROM s)",
        "(SELECT max((SELECT w FROM u WHERE k = s.a)) FROM s)",
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        EXPECT_SAME(&F, e[i], NULL);
}

Test(expr_trigger, order_limit_offset)
{
    static const char *const e[] = {
        "(SELECT a FROM s ORDER BY a)",
        "(SELECT a FROM s ORDER BY a DESC)",
        "(SELECT a FROM s ORDER BY a NULLS LAST)",
        "(SELECT a FROM s ORDER BY a DESC NULLS FIRST)",
        "(SELECT b FROM s ORDER BY c, a DESC)",
        "(SELECT b FROM s ORDER BY c DESC, a)",
        "(SELECT b FROM s ORDER BY b)",
        "(SELECT e FROM s ORDER BY e)",
        "(SELECT e FROM s ORDER BY e DESC)",
        "(SELECT e FROM s ORDER BY e COLLATE BINARY)",
        "(SELECT e FROM s ORDER BY 1 COLLATE BINARY DESC)",
        "(SELECT a FROM s ORDER BY 1)",
        "(SELECT a FROM s ORDER BY +1)",
        "(SELECT a FROM s ORDER BY 4294967296)",
        "(SELECT a AS b FROM s ORDER BY b DESC)",
        "(SELECT a AS z FROM s ORDER BY z DESC)",
        "(SELECT a AS z FROM s ORDER BY (z) DESC)",
        "(SELECT b FROM s ORDER BY a LIMIT 1 OFFSET 2)",
        "(SELECT b FROM s ORDER BY a LIMIT 1 OFFSET 4)",
        "(SELECT b FROM s ORDER BY a LIMIT 1 OFFSET 5)",
        "(SELECT b FROM s ORDER BY a LIMIT 3, 1)",
        "(SELECT b FROM s ORDER BY c LIMIT 1 OFFSET 1)",
        "(SELECT b FROM s ORDER BY c DESC LIMIT 1 OFFSET 1)",
        "(SELECT a FROM s LIMIT 1 OFFSET 1)",
        "(SELECT a FROM s LIMIT 5 OFFSET 2)",
        "(SELECT a FROM s LIMIT -1 OFFSET 4)",
        "(SELECT a FROM s LIMIT 1 OFFSET -3)",
        "(SELECT a FROM s LIMIT 0)",
        "(SELECT a FROM s LIMIT '0')",
        "(SELECT a FROM s LIMIT 0.0)",
        "(SELECT a FROM s LIMIT NULL)",
        "(SELECT a FROM s LIMIT 'x')",
        "(SELECT a FROM s LIMIT x'00')",
        "(SELECT a FROM s LIMIT 1 OFFSET NULL)",
        "(SELECT a FROM s LIMIT 1 OFFSET 'x')",
        "(SELECT a FROM s LIMIT 1 OFFSET '2')",
        "(SELECT a FROM s LIMIT 1 OFFSET 2.0)",
        "(SELECT a FROM s LIMIT 1 OFFSET 2.5)",
        "(SELECT a FROM s LIMIT 1 OFFSET ' 2 ')",
        "(SELECT a FROM s LIMIT 0 OFFSET 'x')",
        "(SELECT a FROM s LIMIT (SELECT 0))",
        "(SELECT a FROM s LIMIT 1 OFFSET (SELECT count(*) FROM u))",
        "(SELECT abs(n) FROM nums LIMIT 1 OFFSET 1)",
        "(SELECT abs(n) FROM nums ORDER BY m DESC LIMIT 1)",
        "(SELECT n FROM nums ORDER BY abs(n) LIMIT 1)",
        "(SELECT v FROM u ORDER BY v)",
        "(SELECT v FROM u ORDER BY v DESC)",
        "(SELECT k FROM u ORDER BY w NULLS LAST, k DESC LIMIT 1 OFFSET 2)",
        "(SELECT d FROM s ORDER BY (SELECT count(*) FROM u WHERE u.k > s.c))",
        "(SELECT a FROM s ORDER BY abs(-9223372036854775807 - 1))",
        "(SELECT a FROM s ORDER BY rowid, abs(-9223372036854775807 - c))",
        "(SELECT a FROM s ORDER BY rowid DESC, abs(-9223372036854775807 - c))",
        "(SELECT a FROM s ORDER BY a, abs(-9223372036854775807 - c))",
        "(SELECT 1 ORDER BY abs(-9223372036854775807 - 1))",
        "(SELECT 1 ORDER BY 1, (SELECT a FROM s ORDER BY count(*)))",
        "(SELECT w FROM u ORDER BY k, abs(-9223372036854775807 - k))",
        "(SELECT w FROM u ORDER BY k DESC, abs(-9223372036854775807 - k))",
        "(SELECT w FROM u ORDER BY abs(-9223372036854775807 - k), k)",
        "(SELECT w FROM u ORDER BY 'x', abs(-9223372036854775807 - k))",
        "(SELECT a FROM s ORDER BY -(-(1)))",
        "(SELECT a FROM s ORDER BY -(-(2)))",
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        EXPECT_SAME(&F, e[i], NULL);
}

/* Over the rows of a table: correlated subqueries, nested. */
Test(expr_trigger, correlated)
{
    static const struct {
        const char *expr, *top;
    } e[] = {
        {"(SELECT w FROM u WHERE k = c)", "s"},
        {"(SELECT w FROM u WHERE u.k = s.a)", "s"},
        {"(SELECT count(*) FROM u WHERE k <= s.c)", "s"},
        {"(SELECT group_concat(k) FROM u WHERE k < c)", "s"},
        {"EXISTS (SELECT 1 FROM u WHERE v = a)", "s"},
        {"a IN (SELECT k FROM u)", "s"},
        {"a IN (SELECT k FROM u WHERE k <> s.a)", "s"},
        {"b IN (SELECT w FROM u WHERE k < s.c)", "s"},
        {"(SELECT max(k) FROM u WHERE k < (SELECT count(*) FROM s AS x WHERE x.a <= s.a))", "s"},
        {"(SELECT (SELECT s.b || u.w) FROM u WHERE u.k = s.a)", "s"},
        {"(SELECT (SELECT x.b FROM s AS x WHERE x.a = u.k) FROM u WHERE u.k = s.a)", "s"},
        {"(SELECT a FROM s WHERE a = k)", "u"},
        {"(SELECT b FROM s AS x WHERE x.a = u.k)", "u"},
        {"(SELECT rowid FROM s WHERE a = u.k)", "u"},
        {"(SELECT u.rowid FROM s WHERE a = u.k)", "u"},
        {"(SELECT count(*) FROM s WHERE a < k) + k", "u"},
        {"(SELECT c FROM s ORDER BY abs(c - u.k) LIMIT 1)", "u"},
        {"(SELECT c FROM s ORDER BY c LIMIT 1 OFFSET k)", "u"},
        {"(SELECT c FROM s LIMIT k)", "u"},
        {"(SELECT min(c) FROM s WHERE c > u.k)", "u"},
        {"(SELECT sum(s.c) FROM s WHERE s.a <= (SELECT count(*) FROM u AS y WHERE y.k <= u.k))",
         "u"},
        {"(SELECT q FROM wr WHERE wr.q = u.k)", "u"},
        {"(SELECT k FROM u AS s WHERE s.k = 2)", "s"},
        {"(SELECT s.k FROM u AS s WHERE s.k = 2)", "s"},
        {"(SELECT a FROM u AS z WHERE z.k = 2)", "s"},
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        EXPECT_SAME(&F, e[i].expr, e[i].top);
}

/* Errors of names and of what SQLite refuses, with its messages. */
Test(expr_trigger, errors_as_sqlite)
{
    static const struct {
        const char *expr, *top;
    } e[] = {
        {"(SELECT x FROM nosuch)", NULL},
        {"(SELECT x FROM nosuch) + nosuch2", NULL},
        {"(SELECT nosuch1) + nosuch2", NULL},
        {"nosuch2 + (SELECT nosuch1)", NULL},
        {"(SELECT a FROM s WHERE nosuch)", NULL},
        {"EXISTS (SELECT nosuch FROM s)", NULL},
        {"(SELECT s.a FROM s AS x)", NULL},
        {"(SELECT y.a FROM s AS x)", NULL},
        {"(SELECT a FROM temp.s)", NULL},
        {"(SELECT * FROM s)", NULL},
        {"(SELECT x.* FROM s AS x)", NULL},
        {"(SELECT y.* FROM s AS x)", NULL},
        {"(SELECT *)", NULL},
        {"(SELECT a, b FROM s)", NULL},
        {"1 IN (SELECT a, b FROM s)", NULL},
        {"(SELECT a FROM s ORDER BY 2)", NULL},
        {"(SELECT a FROM s ORDER BY 0)", NULL},
        {"(SELECT a FROM s ORDER BY -1)", NULL},
        {"(SELECT a FROM s ORDER BY a, 2)", NULL},
        {"(SELECT a FROM s ORDER BY a, b, 3)", NULL},
        {"(SELECT a FROM s ORDER BY 2, nosuch)", NULL},
        {"(SELECT a FROM s ORDER BY 0, nosuch)", NULL},
        {"(SELECT a FROM s ORDER BY max(nosuch1, nosuch2))", NULL},
        {"max(nosuch1, nosuch2)", NULL},
        {"(SELECT abs(nosuch1)) + nosuch2", NULL},
        {"(SELECT a FROM s WHERE abs(nosuch1)) + nosuch2", NULL},
        {"(SELECT 1 FROM s ORDER BY (SELECT sum(s.c) FROM u))", NULL},
        {"(SELECT count(*) FROM s ORDER BY (SELECT sum(s.c) FROM u))", NULL},
        {"EXISTS (SELECT min(s.c)) + (SELECT 1 FROM s WHERE EXISTS (SELECT min(s.c)))", NULL},
        {"(SELECT 1 FROM s WHERE (SELECT min(s.c)))", NULL},
        {"(SELECT a FROM s ORDER BY 2147483647)", NULL},
        {"(SELECT a FROM s ORDER BY (SELECT 1 WHERE nosuch))", NULL},
        {"(SELECT a FROM s LIMIT a)", NULL},
        {"(SELECT a FROM s LIMIT 1 OFFSET nosuch2) + nosuch1", NULL},
        {"(SELECT a FROM s WHERE count(*) > 1)", NULL},
        {"(SELECT count(*) FROM s WHERE count(*) > 1)", NULL},
        {"(SELECT count(*) AS z FROM s WHERE z = 3)", NULL},
        {"(SELECT a FROM s ORDER BY count(*))", NULL},
        {"(SELECT count(count(a)) FROM s)", NULL},
        {"(SELECT sum(*) FROM s)", NULL},
        {"(SELECT count(a, b) FROM s)", NULL},
        {"(SELECT group_concat(a, b, 1) FROM s)", NULL},
        {"(SELECT avg() FROM s)", NULL},
        {"(SELECT min() FROM s)", NULL},
        {"(SELECT a FROM s LIMIT count(*))", NULL},
        {"(SELECT a FROM s ORDER BY a COLLATE nosuch)", NULL},
        {"(SELECT a FROM s) = 1 COLLATE nosuch", NULL},
        {"1 IN (SELECT a COLLATE nosuch FROM s)", NULL},
        {"(SELECT 1 FROM s WHERE (SELECT count(s.a) FROM u) > 0)", NULL},
        {"(SELECT a FROM s WHERE s.nosuch = 1)", NULL},
        {"(SELECT a FROM s WHERE nosuch1 IS nosuch2)", NULL},
        {"(SELECT a FROM s WHERE nosuch1 IS NOT (nosuch2))", NULL},
        {"(SELECT a FROM s WHERE nosuch1 IS s.nosuch2)", NULL},
        {"nosuch1 IS nosuch2", NULL},
        {"(SELECT a FROM s WHERE main.s.a = 1)", NULL},
        {"(SELECT a FROM s WHERE other.s.a = 1)", NULL},
        {"(SELECT a FROM s ORDER BY k)", "u"},
        {"(SELECT a FROM s ORDER BY u.k)", "u"},
        {"(SELECT rowid FROM wr)", NULL},
        {"(SELECT a FROM s WHERE 0 AND nosuch)", NULL},
        {"0 AND (SELECT x FROM nosuch)", NULL},
        {"(SELECT 0 AND count(*) FROM s WHERE count(*))", NULL},
        {"(SELECT a FROM s x y)", NULL},
        {"(SELECT a + FROM s)", NULL},
        {"(SELECT a FROM)", NULL},
        {"(SELECT a FROM s WHERE)", NULL},
        {"(SELECT a FROM s LIMIT)", NULL},
        {"(SELECT a FROM s ORDER a)", NULL},
        {"(SELECT a FROM s", NULL},
        {"EXISTS (1)", NULL},
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        EXPECT_SAME(&F, e[i].expr, e[i].top);
}

/* Subqueries nest as deep as SQLite's parser takes them (its stack of 100
 * entries holds 18 of the simplest). */
Test(expr_trigger, nesting)
{
    for (int n = 17; n <= 20; n++) {
        char e[512] = "1", t[512];
        for (int i = 0; i < n; i++) {
            snprintf(t, sizeof t, "(SELECT %s)", e);
            memcpy(e, t, sizeof e);
        }
        EXPECT_SAME(&F, e, NULL);
    }
}

/* What folio refuses that SQLite accepts: FOLIO_UNSUPPORTED, naming it. */
Test(expr_trigger, unsupported)
{
    static const struct {
        const char *expr, *msg;
    } e[] = {
        {"(SELECT a FROM s, u)", "joins in subqueries are not supported"},
        {"(SELECT a FROM s JOIN u)", "joins in subqueries are not supported"},
        {"(SELECT a FROM s LEFT JOIN u ON 1)", "joins in subqueries are not supported"},
        {"(SELECT a FROM s GROUP BY a)", "GROUP BY in subqueries is not supported"},
        {"(SELECT count(*) FROM s HAVING count(*))", "HAVING in subqueries is not supported"},
        {"(SELECT a FROM s UNION SELECT 1)", "compound SELECTs in subqueries are not supported"},
        {"(SELECT 1 EXCEPT SELECT 1)", "compound SELECTs in subqueries are not supported"},
        {"(WITH x AS (SELECT 1) SELECT * FROM x)", "WITH clauses in subqueries are not supported"},
        {"(VALUES(1))", "VALUES in subqueries is not supported"},
        {"(SELECT DISTINCT a FROM s)", "SELECT DISTINCT in subqueries is not supported"},
        {"(SELECT count(DISTINCT a) FROM s)", "DISTINCT aggregates are not supported"},
        {"(SELECT a FROM (SELECT 1 AS a))", "subqueries in FROM are not supported"},
        {"(SELECT value FROM json_each('[1]'))", "table-valued functions are not supported"},
        {"(SELECT a FROM s INDEXED BY i)", "INDEXED BY in subqueries is not supported"},
        {"(SELECT row_number() OVER () FROM s)", "window functions are not supported"},
        {"(SELECT json_group_array(a) FROM s)",
         "function json_group_array() is not supported in subqueries"},
    };
    ex_scope sc;
    make_scope(&sc, &F, NULL, NULL, 0);
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        ex_prog *p = NULL;
        char err[256];
        int rc = ex_compile(&p, e[i].expr, strlen(e[i].expr), &sc, EX_TRIGGER, err, sizeof err);
        cr_expect_eq(rc, FOLIO_UNSUPPORTED, "%s: rc %d (%s)", e[i].expr, rc, err);
        char *at = strstr(err, " (at offset ");
        if (at)
            *at = 0;
        cr_expect_str_eq(err, e[i].msg, "%s", e[i].expr);
        ex_prog_free(p);
        /* libsqlite3 takes it (but for the table name, which does not exist). */
        char *sql = sqlite3_mprintf("SELECT %s", e[i].expr);
        sqlite3_stmt *st = NULL;
        int src = sqlite3_prepare_v2(F.db, sql, -1, &st, NULL);
        cr_expect(src == SQLITE_OK || strstr(sqlite3_errmsg(F.db), "no such"), "%s: sqlite %s",
                  e[i].expr, sqlite3_errmsg(F.db));
        sqlite3_finalize(st);
        sqlite3_free(sql);
    }
    /* Outside EX_TRIGGER, or without a table_lookup, subqueries are refused as before. */
    ex_scope plain;
    make_scope(&plain, &F, NULL, NULL, 0);
    plain.table_lookup = NULL;
    ex_prog *p = NULL;
    char err[256];
    cr_expect_eq(ex_compile(&p, "(SELECT 1)", 10, &plain, EX_TRIGGER, err, sizeof err),
                 FOLIO_UNSUPPORTED);
    cr_expect_str_eq(err, "subqueries are not supported (at offset 1)");
    cr_expect_eq(ex_compile(&p, "EXISTS (SELECT 1)", 17, &sc, EX_FILTER, err, sizeof err),
                 FOLIO_UNSUPPORTED);
    cr_expect_str_eq(err, "subqueries are not supported (at offset 0)");
    cr_expect_eq(ex_compile(&p, "1 IN (SELECT 1)", 15, &sc, EX_CHECK, err, sizeof err),
                 FOLIO_ERROR);
    cr_expect_str_eq(err, "subqueries prohibited in CHECK constraints (at offset 6)");
    cr_expect_eq(ex_compile(&p, "RAISE(IGNORE)", 13, &sc, EX_CHECK, err, sizeof err), FOLIO_ERROR);
    cr_expect_str_eq(err, "RAISE() may only be used within a trigger-program (at offset 0)");
    cr_expect_eq(ex_compile(&p, "1", 1, &sc, EX_FILTER | EX_CONDITION, err, sizeof err),
                 FOLIO_MISUSE);
    cr_expect(!p);
}

/* ---- NEW, OLD and RAISE, against a trigger in libsqlite3 ------------------------------------ */

static const char trigger_tables[] =
    "CREATE TABLE tt(id INTEGER PRIMARY KEY, x TEXT, y INTEGER, z, c TEXT COLLATE NOCASE);"
    "INSERT INTO tt VALUES(1, '1', 5, 'abc', 'Abc'), (2, 'two', NULL, 2.5, 'x'),"
    " (3, NULL, -7, x'0102', NULL), (7, '10', 9223372036854775807, '', 'ABC');"
    "CREATE TABLE res(seq INTEGER PRIMARY KEY, v);";

/* What a firing did: a value, nothing (RAISE(IGNORE), or a WHEN that did not
 * hold), or an error. */
typedef struct firing {
    int ignored;
    outcome o;
} firing;

static int same_firing(const firing *a, const firing *b, char *why, size_t cap)
{
    if (a->ignored || b->ignored) {
        if (a->ignored && b->ignored)
            return 1;
        snprintf(why, cap, "folio %s, sqlite %s", a->ignored ? "nothing" : "something",
                 b->ignored ? "nothing" : "something");
        return 0;
    }
    return same_outcome(&a->o, &b->o, why, cap);
}

static ex_value *copy_row(const ftable *t, int r)
{
    ex_value *v = calloc((size_t)t->ncols + 1, sizeof *v);
    for (int c = 0; c < t->ncols; c++) {
        v[c] = t->v[r][c];
        if (v[c].type == EX_TEXT || v[c].type == EX_BLOB) {
            uint8_t *b = malloc((size_t)v[c].u.s.n + 1);
            memcpy(b, v[c].u.s.p, (size_t)v[c].u.s.n);
            v[c].u.s.p = b;
        }
    }
    v[t->ncols].type = EX_INTEGER;
    v[t->ncols].u.i = t->rowid[r];
    return v;
}

static void exv_set_int_test(ex_value *v, int64_t i)
{
    memset(v, 0, sizeof *v);
    v->type = EX_INTEGER;
    v->u.i = i;
}

static void free_row(ex_value *v, int n)
{
    for (int c = 0; c < n; c++)
        value_free(&v[c]);
    free(v);
}

/*
 * For each row of tt: libsqlite3 runs "UPDATE tt SET <set> WHERE rowid = R"
 * with an AFTER UPDATE trigger that does "INSERT INTO res(v) VALUES(<expr>)"
 * (or, as a condition, "WHEN <expr> ... VALUES(1)"), and folio evaluates
 * <expr> with NEW and OLD of that row, the tables as the trigger sees them.
 * Returns the number of differences (described on stderr).
 */
static int compare_trigger(fdb *f, const char *set, const char *expr, int cond, int *raised_out)
{
    char *sql = cond ? sqlite3_mprintf("DROP TRIGGER IF EXISTS tr; CREATE TRIGGER tr AFTER UPDATE "
                                       "ON tt WHEN %s BEGIN INSERT INTO res(v) VALUES(1); END",
                                       expr)
                     : sqlite3_mprintf("DROP TRIGGER IF EXISTS tr; CREATE TRIGGER tr AFTER UPDATE "
                                       "ON tt BEGIN INSERT INTO res(v) VALUES(%s); END",
                                       expr);
    char *err = NULL;
    int created = sqlite3_exec(f->db, sql, NULL, NULL, &err) == SQLITE_OK;
    sqlite3_free(sql);
    firing syntax;
    memset(&syntax, 0, sizeof syntax);
    if (!created)
        outcome_error(&syntax.o, err ? err : "?");
    sqlite3_free(err);
    ftable *tt = find_table(f, "tt");
    int differences = 0;
    for (int r = 0; r < tt->nrows; r++) {
        int64_t rowid = tt->rowid[r];
        ex_value *old = copy_row(tt, r);
        /* NEW, and the tables as the trigger sees them: the UPDATE alone. */
        sql = sqlite3_mprintf("SAVEPOINT a; DROP TRIGGER IF EXISTS tr; UPDATE tt SET %s WHERE "
                              "rowid = %lld",
                              set, (long long)rowid);
        must_exec(f->db, sql);
        sqlite3_free(sql);
        load_table(f, "tt");
        tt = find_table(f, "tt");
        int nr = -1;
        for (int j = 0; j < tt->nrows; j++)
            if (tt->rowid[j] == rowid)
                nr = j;
        cr_assert(nr >= 0);
        ex_value *nw = copy_row(tt, nr);
        must_exec(f->db, "ROLLBACK TO a; RELEASE a");
        /* libsqlite3's firing. */
        firing want;
        memset(&want, 0, sizeof want);
        if (!created) {
            want = syntax;
        } else {
            must_exec(f->db, "SAVEPOINT b; DELETE FROM res");
            sql = sqlite3_mprintf("UPDATE tt SET %s WHERE rowid = %lld", set, (long long)rowid);
            err = NULL;
            if (sqlite3_exec(f->db, sql, NULL, NULL, &err) != SQLITE_OK) {
                outcome_error(&want.o, err ? err : "?");
            } else {
                sqlite3_stmt *st;
                cr_assert_eq(sqlite3_prepare_v2(f->db, "SELECT v FROM res", -1, &st, NULL),
                             SQLITE_OK);
                if (sqlite3_step(st) == SQLITE_ROW) {
                    ex_value v;
                    value_from_sqlite(&v, sqlite3_column_value(st, 0));
                    outcome_value(&want.o, &v);
                    value_free(&v);
                } else {
                    want.ignored = 1;
                }
                sqlite3_finalize(st);
            }
            sqlite3_free(err);
            sqlite3_free(sql);
            /* (RAISE(ROLLBACK) has rolled back the savepoint too.) */
            if (sqlite3_get_autocommit(f->db) == 0)
                must_exec(f->db, "ROLLBACK TO b; RELEASE b");
        }
        /* folio's, over the tables as they were after the UPDATE. */
        firing got;
        memset(&got, 0, sizeof got);
        ex_scope sc;
        make_scope(&sc, f, NULL, tt, 2);
        ex_prog *p = NULL;
        char cerr[512];
        unsigned flags = EX_TRIGGER | (cond ? EX_CONDITION : 0);
        if (ex_compile(&p, expr, strlen(expr), &sc, flags, cerr, sizeof cerr) != 0) {
            outcome_error(&got.o, cerr);
        } else {
            frow fr;
            memset(&fr, 0, sizeof fr);
            fr.f = f;
            fr.p = p;
            fr.sc = &sc;
            fr.src_vals[0] = nw;
            fr.src_vals[1] = old;
            ex_row row = {row_column, &fr, 0, row_scan};
            ex_value v;
            int rc = ex_eval(p, shared_cx, &row, &v);
            if (raised_out)
                *raised_out = ex_ctx_raised(shared_cx);
            if (rc == FOLIO_CONSTRAINT && ex_ctx_raised(shared_cx) == EX_RAISE_IGNORE) {
                got.ignored = 1;
            } else if (rc) {
                cr_expect(rc != FOLIO_CONSTRAINT || ex_ctx_raised(shared_cx) != EX_RAISE_NONE);
                outcome_error(&got.o, ex_ctx_errmsg(shared_cx));
            } else if (cond) {
                if (ex_truth(&v) == 1) {
                    exv_set_int_test(&v, 1);
                    outcome_value(&got.o, &v);
                } else {
                    got.ignored = 1;
                }
            } else {
                outcome_value(&got.o, &v);
            }
            ex_prog_free(p);
        }
        char why[2048];
        static const char misuse[] = "misuse of aggregate: ";
        const outcome *one = got.o.error && !want.o.error   ? &got.o
                             : want.o.error && !got.o.error ? &want.o
                                                            : NULL;
        if (tolerate_planner && one && strncmp(one->msg, misuse, sizeof misuse - 1) == 0) {
            misuse_planner++; /* see stray_aggregate_pair */
        } else if (!same_firing(&got, &want, why, sizeof why)) {
            fprintf(stderr, "DIFFERENT: %s%s (row %lld, SET %s): %s\n", cond ? "WHEN " : "", expr,
                    (long long)rowid, set, why);
            differences++;
        }
        compared++;
        free_row(old, tt->ncols + 1);
        free_row(nw, tt->ncols + 1);
        load_table(f, "tt");
        tt = find_table(f, "tt");
    }
    return differences;
}

static void open_trigger_base(void)
{
    open_base();
    setup(&F, trigger_tables, "tt,res");
}

Test(expr_trigger, new_and_old, .init = open_trigger_base, .fini = close_base)
{
    static const char *const e[] = {
        "new.x",
        "old.x",
        "new.y - old.y",
        "new.id",
        "typeof(new.id)",
        "new.rowid + old.oid + new._rowid_",
        "NEW.X || Old.Z",
        "new.x = 1",
        "new.x = '1'",
        "old.y = '5'",
        "new.id = '1'",
        "new.rowid = '1'",
        "new.c = 'abc'",
        "new.c = 'ABC' COLLATE BINARY",
        "new.z = 'ABC'",
        "new.x < new.c",
        "new.x IN (1, 10)",
        "new.x IN ('1', '10')",
        "new.y BETWEEN '0' AND '10'",
        "(SELECT w FROM u WHERE k = new.id)",
        "(SELECT count(*) FROM s WHERE c > new.y)",
        "(SELECT count(new.x) FROM s)",
        "(SELECT max(new.y) FROM s WHERE a > 1)",
        "(SELECT sum(new.y) FROM s)",
        "(SELECT b FROM s WHERE a = new.id)",
        "new.id IN (SELECT a FROM s)",
        "new.x IN (SELECT b FROM s)",
        "new.x IN (SELECT c FROM s)",
        "EXISTS (SELECT 1 FROM u WHERE w = new.c)",
        "(SELECT a FROM s LIMIT 1 OFFSET new.id)",
        "(SELECT a FROM s ORDER BY a LIMIT new.id)",
        "(SELECT new.x)",
        "(SELECT new.c) = 'ABC'",
        "(SELECT new.x) = 1",
        "(SELECT x.a FROM s AS new WHERE new.a = 2)",
        "(SELECT new.id FROM s AS new WHERE new.a = 3)",
        "(SELECT new.rowid FROM s AS new WHERE new.a = 3)",
        "(SELECT tt.x FROM tt WHERE tt.id = new.id)",
        "(SELECT (SELECT new.y + s.c FROM u WHERE k = 1) FROM s WHERE a = 1)",
        /* Errors of names. */
        "new.zz",
        "old.zz",
        "zz",
        "x",
        "tt.x",
        "main.new.x",
        "new.x + nosuch",
        "(SELECT a FROM s WHERE new.zz)",
        "rowid",
        "count(*)",
        "(SELECT count(tt.x) FROM s)",
    };
    int differences = 0;
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        differences += compare_trigger(&F, "y = y + 1, x = x || 'n'", e[i], 0, NULL);
    differences +=
        compare_trigger(&F, "c = NULL, z = 12", "new.c IS NULL AND old.z IS NOT 12", 0, NULL);
    cr_assert_eq(differences, 0, "%d firings differ from libsqlite3", differences);
}

Test(expr_trigger, raise, .init = open_trigger_base, .fini = close_base)
{
    static const struct {
        const char *expr;
        int kind; /* on the first row (id 1, x '1', y 5) */
    } e[] = {
        {"RAISE(IGNORE)", EX_RAISE_IGNORE},
        {"RAISE(ABORT, 'no way')", EX_RAISE_ABORT},
        {"RAISE(FAIL, 'it''s failing')", EX_RAISE_FAIL},
        {"RAISE(ROLLBACK, rolled)", EX_RAISE_ROLLBACK},
        {"RAISE(ABORT, \"quoted\")", EX_RAISE_ABORT},
        {"RAISE(ABORT, [bracketed])", EX_RAISE_ABORT},
        {"RAISE(ABORT, left)", EX_RAISE_ABORT},
        {"CASE WHEN new.y > 5 THEN RAISE(ABORT, 'too big') ELSE new.y END", EX_RAISE_ABORT},
        {"CASE WHEN new.y > 100 THEN RAISE(ABORT, 'too big') ELSE new.y END", EX_RAISE_NONE},
        {"iif(new.x = '1n', RAISE(IGNORE), 1)", EX_RAISE_IGNORE},
        {"new.id = 2 AND RAISE(ABORT, 'both sides')", EX_RAISE_ABORT},
        {"coalesce(new.x, RAISE(FAIL, 'null x'))", EX_RAISE_NONE},
        {"(SELECT RAISE(ABORT, 'from a subquery') FROM s WHERE a = new.id)", EX_RAISE_ABORT},
        {"(SELECT a FROM s WHERE a = 9 OR RAISE(FAIL, 'where'))", EX_RAISE_FAIL},
        {"new.id IN (SELECT RAISE(ABORT, 'in set') FROM s)", EX_RAISE_ABORT},
        {"RAISE(ABORT, 'left') IN (SELECT abs(n) FROM nums)", EX_RAISE_ABORT},
        {"RAISE(ABORT, 'left') IN (SELECT abs(-9223372036854775807 - m) FROM nums)", EX_RAISE_NONE},
        {"RAISE(ABORT, 'left') IN (SELECT a FROM s)", EX_RAISE_ABORT},
        {"abs(RAISE(IGNORE))", EX_RAISE_IGNORE},
        {"RAISE(ABORT, '')", EX_RAISE_ABORT},
        /* Syntax errors, as SQLite's CREATE TRIGGER gives them. */
        {"RAISE(ABORT)", EX_RAISE_NONE},
        {"RAISE(IGNORE, 'x')", EX_RAISE_NONE},
        {"RAISE(STOP, 'x')", EX_RAISE_NONE},
        {"RAISE(ABORT, 'a' || 'b')", EX_RAISE_NONE},
        {"RAISE(ABORT, 12)", EX_RAISE_NONE},
        {"RAISE(ABORT, select)", EX_RAISE_NONE},
    };
    int differences = 0;
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        int raised = -1;
        differences += compare_trigger(&F, "y = y + 1, x = x || 'n'", e[i].expr, 0, NULL);
        /* The kind, on the first row alone. */
        ftable *tt = find_table(&F, "tt");
        ex_scope sc;
        make_scope(&sc, &F, NULL, tt, 2);
        ex_prog *p = NULL;
        char err[256];
        if (ex_compile(&p, e[i].expr, strlen(e[i].expr), &sc, EX_TRIGGER, err, sizeof err) != 0) {
            cr_expect_eq(e[i].kind, EX_RAISE_NONE, "%s: %s", e[i].expr, err);
            continue;
        }
        ex_value *row0 = copy_row(tt, 0);
        row0[1].type = EX_TEXT; /* as NEW after the UPDATE: x '1n', y 6 */
        free((void *)row0[1].u.s.p);
        row0[1].u.s.p = (const uint8_t *)strdup("1n");
        row0[1].u.s.n = 2;
        row0[2].u.i = 6;
        frow fr;
        memset(&fr, 0, sizeof fr);
        fr.f = &F;
        fr.p = p;
        fr.sc = &sc;
        fr.src_vals[0] = row0;
        fr.src_vals[1] = row0;
        ex_row row = {row_column, &fr, 0, row_scan};
        ex_value v;
        int rc = ex_eval(p, shared_cx, &row, &v);
        raised = ex_ctx_raised(shared_cx);
        cr_expect_eq(raised, e[i].kind, "%s: raised %d", e[i].expr, raised);
        cr_expect_eq(rc == FOLIO_CONSTRAINT, raised != EX_RAISE_NONE, "%s: rc %d", e[i].expr, rc);
        if (raised == EX_RAISE_IGNORE)
            cr_expect_str_eq(ex_ctx_errmsg(shared_cx), "", "%s", e[i].expr);
        /* The next evaluation starts with nothing raised. */
        ex_prog *q = NULL;
        cr_assert_eq(ex_compile(&q, "1", 1, &sc, EX_TRIGGER, err, sizeof err), 0);
        cr_assert_eq(ex_eval(q, shared_cx, &row, &v), 0);
        cr_expect_eq(ex_ctx_raised(shared_cx), EX_RAISE_NONE);
        ex_prog_free(q);
        free_row(row0, tt->ncols + 1);
        ex_prog_free(p);
    }
    cr_assert_eq(differences, 0, "%d firings differ from libsqlite3", differences);
}

/* A message longer than 255 bytes is kept (up to 1023 bytes). */
Test(expr_trigger, long_raise_message, .init = open_trigger_base, .fini = close_base)
{
    char expr[1200], msg[700];
    memset(msg, 'm', 600);
    msg[600] = 0;
    snprintf(expr, sizeof expr, "RAISE(ABORT, '%s')", msg);
    cr_assert_eq(compare_trigger(&F, "y = 1", expr, 0, NULL), 0);
    ex_scope sc;
    make_scope(&sc, &F, NULL, find_table(&F, "tt"), 2);
    ex_prog *p = NULL;
    char err[256];
    cr_assert_eq(ex_compile(&p, expr, strlen(expr), &sc, EX_TRIGGER, err, sizeof err), 0);
    ex_value v;
    ex_row row = {NULL, NULL, 0, NULL};
    cr_assert_eq(ex_eval(p, shared_cx, &row, &v), FOLIO_CONSTRAINT);
    cr_expect_str_eq(ex_ctx_errmsg(shared_cx), msg);
    ex_prog_free(p);
}

/* WHEN conditions: EX_TRIGGER | EX_CONDITION evaluates as SQLite's jumps. */
Test(expr_trigger, when_conditions, .init = open_trigger_base, .fini = close_base)
{
    static const char *const e[] = {
        "new.y > old.y",
        "new.x = '1n'",
        "new.y IS NULL",
        "new.y",
        "new.x",
        "NULL",
        "new.id = 1 AND RAISE(ABORT, 'only one')",
        "new.id <> 1 OR RAISE(ABORT, 'only one')",
        "NOT (new.id = 2 AND RAISE(IGNORE))",
        "new.id BETWEEN 2 AND 3 OR RAISE(FAIL, 'not between')",
        "EXISTS (SELECT 1 FROM s WHERE c = new.y - 1)",
        "new.id IN (SELECT a FROM s)",
        "new.id NOT IN (SELECT a FROM s)",
        "(SELECT count(*) FROM u WHERE k < new.id) > 1",
        "new.y - 1 IN (SELECT c FROM s WHERE c IS NOT NULL) AND new.x IS NOT NULL",
    };
    int differences = 0;
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        differences += compare_trigger(&F, "y = y + 1, x = x || 'n'", e[i], 1, NULL);
    cr_assert_eq(differences, 0, "%d firings differ from libsqlite3", differences);
}

/* ---- Randomized: tables and expressions with subqueries ----------------------------------------
 */

typedef struct rgen {
    uint64_t *rng;
    char *buf;
    size_t n, cap;
    /* Tables in scope, innermost last: name, alias, columns. */
    const char *scope_alias[8];
    const ftable *scope_tab[8];
    int nscope;
    int subdepth;
    int trigger; /* NEW and OLD of tt may be named */
    int no_top;  /* in an aggregate's arguments: not the top table (whose aggregate
                    would make libsqlite3's SELECT an aggregate query, and is misuse
                    in a trigger) */
} rgen;

static void rput(rgen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(g->buf + g->n, g->cap - g->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        g->n += (size_t)k < g->cap - g->n ? (size_t)k : g->cap - g->n - 1;
}

static int rpick(rgen *g, int n)
{
    return xd_pick(g->rng, n);
}

#define RONE_OF(g, arr) (arr)[rpick((g), (int)(sizeof(arr) / sizeof((arr)[0])))]

static void rexpr(rgen *g, int depth);

static void rcolumn(rgen *g)
{
    if (g->trigger && rpick(g, 3) == 0) {
        static const char *const cols[] = {"id", "x", "y", "z", "c", "rowid"};
        rput(g, "%s.%s", rpick(g, 2) ? "new" : "old", RONE_OF(g, cols));
        return;
    }
    if (g->nscope == 0) {
        rput(g, "%d", rpick(g, 5) - 2);
        return;
    }
    /* The innermost table most of the time. */
    int s = g->nscope - 1;
    while (s > 0 && rpick(g, 3) == 0)
        s--;
    if (s == 0 && g->no_top) {
        if (g->nscope < 2) {
            rput(g, "%d", rpick(g, 5) - 2);
            return;
        }
        s = 1;
    }
    const ftable *t = g->scope_tab[s];
    int c = rpick(g, t->ncols + 1);
    const char *col = c == t->ncols ? "rowid" : t->colname[c];
    if (c == t->ncols && t->without_rowid)
        col = t->colname[0];
    if (s != g->nscope - 1 || rpick(g, 3) == 0)
        rput(g, "%s.%s", g->scope_alias[s], col);
    else
        rput(g, "%s", col);
}

static void rleaf(rgen *g)
{
    static const char *const lits[] = {"0",   "1",  "2",    "-1",  "1.5",  "'1'",   "'a'",
                                       "'B'", "''", "NULL", "2.0", "'10'", "x'31'", "3"};
    if (rpick(g, 2))
        rcolumn(g);
    else
        rput(g, "%s", RONE_OF(g, lits));
}

static void rlimit(rgen *g)
{
    static const char *const lims[] = {"0", "1", "2", "-1", "'1'", "1.0", "3", "'0'"};
    if (rpick(g, 3))
        return;
    rput(g, " LIMIT %s", RONE_OF(g, lims));
    if (rpick(g, 2)) {
        static const char *const offs[] = {"0", "1", "2", "-1", "'1'", "5"};
        rput(g, " OFFSET %s", RONE_OF(g, offs));
    }
}

static const char *const rtables[] = {"r1", "r2", "r3"};

/* SELECT ... FROM a random table (or none): the part after "(". kind 0
 * scalar, 1 EXISTS, 2 IN. */
static void rselect(rgen *g, int depth, int kind)
{
    int from = rpick(g, 6) != 0;
    const ftable *t = NULL;
    char alias[16] = "";
    if (from) {
        t = find_table(&F, RONE_OF(g, rtables));
        if (rpick(g, 3) == 0)
            snprintf(alias, sizeof alias, "q%d", g->subdepth);
    }
    rput(g, "SELECT ");
    if (t) {
        g->scope_alias[g->nscope] = alias[0] ? alias : t->name;
        g->scope_tab[g->nscope] = t;
        g->nscope++;
    }
    g->subdepth++;
    int agg = rpick(g, 3) == 0;
    if (agg) {
        static const char *const aggs[] = {"count(*)", "count(%s)", "sum(%s)", "total(%s)",
                                           "avg(%s)",  "min(%s)",   "max(%s)", "group_concat(%s)"};
        int n = 1 + rpick(g, 2);
        for (int j = 0; j < n; j++) {
            if (j)
                rput(g, " || ");
            if (rpick(g, 4) == 0) {
                rcolumn(g); /* a bare column */
                rput(g, " || ");
            }
            const char *a = RONE_OF(g, aggs);
            const char *pct = strstr(a, "%s");
            if (!pct) {
                rput(g, "%s", a);
                continue;
            }
            rput(g, "%.*s", (int)(pct - a), a);
            g->no_top++;
            rexpr(g, depth - 1);
            g->no_top--;
            rput(g, "%s", pct + 2);
        }
    } else {
        rexpr(g, depth - 1);
    }
    if (t)
        rput(g, " FROM %s%s%s", t->name, alias[0] ? " AS " : "", alias);
    if (rpick(g, 2)) {
        rput(g, " WHERE ");
        rexpr(g, depth - 1);
    }
    if (kind != 1 && !agg && rpick(g, 3) == 0) {
        rput(g, " ORDER BY ");
        int n = 1 + rpick(g, 2);
        for (int j = 0; j < n; j++) {
            if (j)
                rput(g, ", ");
            if (rpick(g, 4) == 0)
                rput(g, "1");
            else
                rexpr(g, depth - 1);
            static const char *const dirs[] = {"", " DESC", " ASC", " NULLS LAST",
                                               " DESC NULLS FIRST"};
            rput(g, "%s", RONE_OF(g, dirs));
        }
    }
    rlimit(g);
    g->subdepth--;
    if (t)
        g->nscope--;
}

static void rexpr(rgen *g, int depth)
{
    if (depth <= 0 || rpick(g, 6) == 0) {
        rleaf(g);
        return;
    }
    int choice = rpick(g, g->subdepth < 3 ? 16 : 10);
    switch (choice) {
    case 0:
    case 1:
    case 2: {
        static const char *const ops[] = {"+",  "-", "*",  "/",  "%",      "||",  "=",
                                          "<>", "<", ">=", "IS", "IS NOT", "AND", "OR"};
        rput(g, "(");
        rexpr(g, depth - 1);
        rput(g, " %s ", RONE_OF(g, ops));
        rexpr(g, depth - 1);
        rput(g, ")");
        break;
    }
    case 3:
        rput(g, rpick(g, 2) ? "NOT " : "-");
        rput(g, "(");
        rexpr(g, depth - 1);
        rput(g, ")");
        break;
    case 4: {
        static const char *const f1[] = {"abs", "typeof", "length", "upper", "quote", "lower"};
        static const char *const f2[] = {"coalesce", "ifnull", "max", "min", "nullif"};
        if (rpick(g, 2)) {
            rput(g, "%s(", RONE_OF(g, f1));
            rexpr(g, depth - 1);
        } else {
            rput(g, "%s(", RONE_OF(g, f2));
            rexpr(g, depth - 1);
            rput(g, ", ");
            rexpr(g, depth - 1);
        }
        rput(g, ")");
        break;
    }
    case 5:
        rput(g, "CASE WHEN ");
        rexpr(g, depth - 1);
        rput(g, " THEN ");
        rexpr(g, depth - 1);
        rput(g, " ELSE ");
        rexpr(g, depth - 1);
        rput(g, " END");
        break;
    case 6:
        rput(g, "(");
        rexpr(g, depth - 1);
        rput(g, " BETWEEN ");
        rexpr(g, depth - 1);
        rput(g, " AND ");
        rexpr(g, depth - 1);
        rput(g, ")");
        break;
    case 7:
        rput(g, "(");
        rexpr(g, depth - 1);
        rput(g, rpick(g, 2) ? " IN (" : " NOT IN (");
        rexpr(g, depth - 1);
        rput(g, ", ");
        rexpr(g, depth - 1);
        rput(g, "))");
        break;
    case 8:
    case 9:
        rleaf(g);
        break;
    case 10:
    case 11:
    case 12:
        rput(g, "(");
        rselect(g, depth, 0);
        rput(g, ")");
        break;
    case 13:
        rput(g, rpick(g, 3) ? "EXISTS (" : "NOT EXISTS (");
        rselect(g, depth, 1);
        rput(g, ")");
        break;
    default:
        rput(g, "(");
        rexpr(g, depth - 1);
        rput(g, rpick(g, 3) ? " IN (" : " NOT IN (");
        rselect(g, depth, 2);
        rput(g, "))");
        break;
    }
}

/* Random tables r1, r2, r3 of random declared types and values. */
static void random_tables(uint64_t *rng)
{
    static const char *const types[] = {
        "", "INTEGER", "TEXT", "REAL", "NUMERIC", "BLOB", "TEXT COLLATE NOCASE", "COLLATE RTRIM"};
    static const char *const vals[] = {"NULL", "0",    "1",     "2",     "-1",  "3",   "1.5",
                                       "2.0",  "-2.5", "'1'",   "'2'",   "'a'", "'A'", "'b '",
                                       "''",   "'10'", "x'31'", "'1.0'", "'B'", "2"};
    static const char *const cols[3][3] = {{"a", "b", "c"}, {"d", "e", "f"}, {"g", "h", "i"}};
    for (int t = 0; t < 3; t++) {
        char sql[2048];
        size_t o = (size_t)snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s; CREATE TABLE %s(",
                                    rtables[t], rtables[t]);
        for (int c = 0; c < 3; c++) {
            const char *ty = t == 2 && c == 0 ? "INTEGER PRIMARY KEY" : types[xd_pick(rng, 8)];
            o +=
                (size_t)snprintf(sql + o, sizeof sql - o, "%s%s %s", c ? ", " : "", cols[t][c], ty);
        }
        o += (size_t)snprintf(sql + o, sizeof sql - o, ");");
        int nrows = t == 0 ? 1 + xd_pick(rng, 5) : xd_pick(rng, 7);
        for (int r = 0; r < nrows; r++) {
            o += (size_t)snprintf(sql + o, sizeof sql - o, "INSERT INTO %s VALUES(", rtables[t]);
            for (int c = 0; c < 3; c++) {
                const char *v = vals[xd_pick(rng, 20)];
                if (t == 2 && c == 0)
                    v = "NULL"; /* a fresh rowid */
                o += (size_t)snprintf(sql + o, sizeof sql - o, "%s%s", c ? ", " : "", v);
            }
            o += (size_t)snprintf(sql + o, sizeof sql - o, ");");
        }
        setup(&F, sql, rtables[t]);
    }
}

Test(expr_trigger, random_subqueries, .timeout = 600)
{
    uint64_t seed = xd_seed(20261207);
    uint64_t rng = seed;
    tolerate_planner = 1;
    int rounds = xd_soak() ? 200 : 25, per_round = 80, differences = 0;
    char buf[8192];
    for (int round = 0; round < rounds; round++) {
        random_tables(&rng);
        for (int k = 0; k < per_round; k++) {
            rgen g = {&rng, buf, 0, sizeof buf, {NULL}, {NULL}, 0, 0, 0, 0};
            g.scope_alias[0] = "r1";
            g.scope_tab[0] = find_table(&F, "r1");
            g.nscope = 1;
            rexpr(&g, 2 + rpick(&g, 3));
            char why[2048];
            if (compare_select(&F, buf, "r1", why, sizeof why) != 0) {
                if (differences < 20)
                    fprintf(stderr, "DIFFERENT (seed=%" PRIu64 " round %d): %s\n  %s\n", seed,
                            round, buf, why);
                differences++;
            }
        }
    }
    fprintf(stderr,
            "random_subqueries: %ld compared (misuse of aggregate: %ld naming another, %ld "
            "coded by one side only)\n",
            compared, misuse_pairs, misuse_planner);
    cr_assert_eq(differences, 0, "%d expressions differ from libsqlite3 (seed=%" PRIu64 ")",
                 differences, seed);
}

Test(expr_trigger, random_trigger_expressions, .init = open_trigger_base, .fini = close_base,
     .timeout = 600)
{
    uint64_t seed = xd_seed(20261208);
    uint64_t rng = seed;
    tolerate_planner = 1;
    int rounds = xd_soak() ? 40 : 5, per_round = 30, differences = 0;
    char buf[8192];
    for (int round = 0; round < rounds; round++) {
        random_tables(&rng);
        for (int k = 0; k < per_round; k++) {
            rgen g = {&rng, buf, 0, sizeof buf, {NULL}, {NULL}, 0, 0, 1, 0};
            rexpr(&g, 2 + rpick(&g, 3));
            differences +=
                compare_trigger(&F, "y = y + 1, x = x || 'n'", buf, rpick(&g, 3) == 0, NULL);
        }
    }
    cr_assert_eq(differences, 0, "%d firings differ from libsqlite3 (seed=%" PRIu64 ")",
                 differences, seed);
}

/* ---- Memory, errors of the caller, the program's description --------------------------------- */

static const char big_table[] = "CREATE TABLE big(k INTEGER PRIMARY KEY, t TEXT, n);"
                                "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c "
                                "WHERE i < 40) INSERT INTO big SELECT i, printf('%.*c', i, 'x'), "
                                "i % 7 FROM c;";

/* An expression with every kind of kept value: min/max, group_concat,
 * ORDER BY's best rows, bare columns, IN, EXISTS, nesting. */
static const char busy_expr[] =
    "(SELECT group_concat(t, '-') || max(t) || min(n) || t FROM big WHERE n > (SELECT min(n) FROM "
    "big AS b2 WHERE b2.k > big.k)) || (SELECT t FROM big ORDER BY n DESC, t LIMIT 1 OFFSET 5) || "
    "(new.y IN (SELECT n FROM big)) || EXISTS (SELECT 1 FROM big WHERE t = new.x) || "
    "(SELECT count(*) FROM big WHERE upper(t || t || t) > 'X') || (SELECT sum(length(t)) FROM big)";

static long allocations;

#ifdef HAVE_ASAN
static void count_malloc(const volatile void *p, size_t n)
{
    (void)p;
    (void)n;
    allocations++;
}

static void ignore_free(const volatile void *p)
{
    (void)p;
}
#endif

static void open_big(void)
{
    open_trigger_base();
    setup(&F, big_table, "big");
}

static ex_prog *compile_busy(ex_scope *sc)
{
    make_scope(sc, &F, NULL, find_table(&F, "tt"), 2);
    ex_prog *p = NULL;
    char err[256];
    cr_assert_eq(ex_compile(&p, busy_expr, strlen(busy_expr), sc, EX_TRIGGER, err, sizeof err), 0,
                 "%s", err);
    return p;
}

/* Once a context has grown to the largest need, no row of any scan, and no
 * evaluation, allocates. */
Test(expr_trigger, warm_context_allocates_nothing, .init = open_big, .fini = close_base)
{
#ifndef HAVE_ASAN
    cr_skip_test("allocations are counted through AddressSanitizer's hooks");
#else
    ex_scope sc;
    ex_prog *p = compile_busy(&sc);
    ftable *tt = find_table(&F, "tt");
    ex_value *rows[8];
    for (int r = 0; r < tt->nrows; r++)
        rows[r] = copy_row(tt, r);
    frow fr;
    memset(&fr, 0, sizeof fr);
    fr.f = &F;
    fr.p = p;
    fr.sc = &sc;
    ex_row row = {row_column, &fr, 0, row_scan};
    ex_value v;
    /* Warm up: every row once, as statements of their own (the values kept
     * per statement) and as one. */
    for (int r = 0; r < tt->nrows; r++) {
        fr.src_vals[0] = fr.src_vals[1] = rows[r];
        ex_ctx_statement(shared_cx);
        cr_assert_eq(ex_eval(p, shared_cx, &row, &v), 0, "%s", ex_ctx_errmsg(shared_cx));
        cr_assert_eq(ex_eval(p, shared_cx, &row, &v), 0, "%s", ex_ctx_errmsg(shared_cx));
    }
    long visits = fr.visits;
    allocations = 0;
    cr_assert_eq(__sanitizer_install_malloc_and_free_hooks(count_malloc, ignore_free), 1);
    for (int pass = 0; pass < 3; pass++)
        for (int r = 0; r < tt->nrows; r++) {
            fr.src_vals[0] = fr.src_vals[1] = rows[r];
            if (pass == 1)
                ex_ctx_statement(shared_cx);
            cr_assert_eq(ex_eval(p, shared_cx, &row, &v), 0, "%s", ex_ctx_errmsg(shared_cx));
        }
    __sanitizer_install_malloc_and_free_hooks(NULL, NULL);
    cr_assert_gt(fr.visits - visits, 40 * 6, "the scans ran (%ld rows)", fr.visits - visits);
    cr_expect_eq(allocations, 0, "%ld allocations in warm evaluations", allocations);
    for (int r = 0; r < tt->nrows; r++)
        free_row(rows[r], tt->ncols + 1);
    ex_prog_free(p);
#endif
}

/* A scan gives back each row's scratch: a fresh context evaluating a
 * subquery whose rows each make a long text needs about one row's worth. */
Test(expr_trigger, scratch_bounded_over_rows, .init = open_big, .fini = close_base)
{
#ifndef HAVE_ASAN
    cr_skip_test("memory is measured through AddressSanitizer");
#else
    static const char e[] = "(SELECT count(*) FROM big WHERE length(printf('%3000d', k)) > 0 AND "
                            "length(printf('%3000d', n)) > 0)";
    ex_scope sc;
    make_scope(&sc, &F, NULL, NULL, 0);
    ex_prog *p = NULL;
    char err[256];
    cr_assert_eq(ex_compile(&p, e, strlen(e), &sc, EX_TRIGGER, err, sizeof err), 0, "%s", err);
    ex_ctx *cx;
    cr_assert_eq(ex_ctx_new(&cx), 0);
    frow fr;
    memset(&fr, 0, sizeof fr);
    fr.f = &F;
    fr.p = p;
    fr.sc = &sc;
    ex_row row = {row_column, &fr, 0, row_scan};
    size_t before = __sanitizer_get_current_allocated_bytes();
    ex_value v;
    cr_assert_eq(ex_eval(p, cx, &row, &v), 0, "%s", ex_ctx_errmsg(cx));
    cr_assert_eq(v.u.i, 40);
    size_t grown = __sanitizer_get_current_allocated_bytes() - before;
    /* 40 rows of 6000 bytes would be 240000 without the marks. */
    cr_expect_lt(grown, 40000, "the context grew by %zu bytes", grown);
    ex_ctx_free(cx);
    ex_prog_free(p);
#endif
}

/* The caller's errors: scan's own, column's during a scan, no scan at all. */
Test(expr_trigger, caller_errors, .init = open_big, .fini = close_base)
{
    ex_scope sc;
    ex_prog *p = compile_busy(&sc);
    ftable *tt = find_table(&F, "tt");
    ex_value *r0 = copy_row(tt, 0);
    frow fr;
    memset(&fr, 0, sizeof fr);
    fr.f = &F;
    fr.p = p;
    fr.sc = &sc;
    fr.src_vals[0] = fr.src_vals[1] = r0;
    ex_row row = {row_column, &fr, 0, row_scan};
    ex_value v;
    for (long at = 1; at < 200; at += 37) {
        memset(fr.active, 0, sizeof fr.active);
        fr.visits = 0;
        fr.fail_scan_at = at;
        cr_expect_eq(ex_eval(p, shared_cx, &row, &v), FOLIO_IOERR, "failing at visit %ld", at);
        cr_expect(ex_ctx_errmsg(shared_cx)[0], "a message");
        cr_expect_eq(v.type, EX_NULL);
    }
    fr.fail_scan_at = 0;
    memset(fr.active, 0, sizeof fr.active);
    cr_expect_eq(ex_eval(p, shared_cx, &row, &v), 0, "%s", ex_ctx_errmsg(shared_cx));
    /* Without a scan, a subquery over a table cannot run. */
    ex_row noscan = {row_column, &fr, 0, NULL};
    cr_expect_eq(ex_eval(p, shared_cx, &noscan, &v), FOLIO_MISUSE);
    cr_expect(ex_ctx_errmsg(shared_cx)[0]);
    /* A subquery without FROM needs none. */
    ex_prog *q = NULL;
    char err[256];
    static const char fromless[] = "(SELECT max(new.y, 3) WHERE new.x IS NOT NULL)";
    cr_assert_eq(ex_compile(&q, fromless, strlen(fromless), &sc, EX_TRIGGER, err, sizeof err), 0,
                 "%s", err);
    cr_expect_eq(ex_eval(q, shared_cx, &noscan, &v), 0, "%s", ex_ctx_errmsg(shared_cx));
    cr_expect_eq(v.type, EX_INTEGER);
    cr_expect_eq(v.u.i, 5);
    ex_prog_free(q);
    free_row(r0, tt->ncols + 1);
    ex_prog_free(p);
}

/* What a program tells its caller: slots, subqueries, sources. */
Test(expr_trigger, program_description, .init = open_trigger_base, .fini = close_base)
{
    ftable *tt = find_table(&F, "tt"), *u = find_table(&F, "u");
    ex_scope sc;
    make_scope(&sc, &F, u, tt, 2); /* the scope's table u (3 columns), NEW and OLD of tt (5) */
    cr_expect_eq(ex_scope_source_base(&sc, 0), 3);
    cr_expect_eq(ex_scope_source_base(&sc, 1), 3 + 6);
    static const char e[] = "w || new.x || old.rowid || new.id || (SELECT b FROM s AS q WHERE "
                            "q.a = u.k AND EXISTS (SELECT 1 FROM main.u WHERE u.w = q.b)) || "
                            "(SELECT count(*) WHERE new.y) || (SELECT e FROM s WHERE a = new.id)";
    ex_prog *p = NULL;
    char err[256];
    cr_assert_eq(ex_compile(&p, e, strlen(e), &sc, EX_TRIGGER, err, sizeof err), 0, "%s", err);
    const ex_subquery *q;
    int n = ex_prog_subqueries(p, &q);
    cr_assert_eq(n, 4);
    /* In the order they are compiled, an outer one before those inside it;
     * blocks after the scope's and the sources' slots (3 + 6 + 6 = 15). */
    cr_expect_str_eq(q[0].table, "s");
    cr_expect_eq(q[0].base, 15);
    cr_expect_eq(q[0].ncols, 5);
    cr_expect_eq(q[0].correlated, 1); /* u.k */
    cr_expect_str_eq(q[1].table, "u");
    cr_expect_eq(q[1].base, 15 + 6);
    cr_expect_eq(q[1].ncols, 3);
    cr_expect_eq(q[1].correlated, 1); /* q.b */
    cr_expect(q[2].table == NULL);
    cr_expect_eq(q[2].base, -1);
    cr_expect_eq(q[2].correlated, 0); /* NEW does not count */
    cr_expect_str_eq(q[3].table, "s");
    cr_expect_eq(q[3].base, 15 + 6 + 4);
    cr_expect_eq(q[3].correlated, 0);
    /* Columns: w (2), new.x (3 + 1), new.y (3 + 2), new.id: NEW's rowid
     * (3 + 5), old.rowid (9 + 5); then the subqueries' slots they read:
     * s.a, s.b (15, 16), u.w (21 + 2), s.a, s.e (25, 25 + 4). u.k is the
     * rowid of the scope's table. */
    const int *cols;
    int uses_rowid = -1;
    int nc = ex_prog_columns(p, &cols, &uses_rowid);
    char got[256] = "";
    for (int k = 0; k < nc; k++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d", k ? "," : "", cols[k]);
    cr_expect_str_eq(got, "2,4,5,8,14,15,16,23,25,29");
    cr_expect_eq(uses_rowid, 1); /* u.k is u's INTEGER PRIMARY KEY */
    cr_expect_eq(ex_prog_is_constant(p), 0);
    ex_prog_free(p);
    /* A zero-initialised scope numbers as before, and has no subqueries. */
    ex_scope zero;
    memset(&zero, 0, sizeof zero);
    zero.rowid_alias = -1;
    cr_assert_eq(ex_compile(&p, "1 + 2", 5, &zero, EX_TRIGGER, err, sizeof err), 0, "%s", err);
    cr_expect_eq(ex_prog_subqueries(p, &q), 0);
    cr_expect_eq(ex_prog_is_constant(p), 1);
    ex_prog_free(p);
    cr_expect_eq(ex_compile(&p, "(SELECT 1)", 10, &zero, EX_TRIGGER, err, sizeof err),
                 FOLIO_UNSUPPORTED);
    /* The lookup is asked once per FROM, and its error is the message. */
    lookups = 0;
    cr_expect_eq(ex_compile(&p, "(SELECT 1 FROM nosuch) + (SELECT 1 FROM s)", 42, &sc, EX_TRIGGER,
                            err, sizeof err),
                 FOLIO_ERROR);
    cr_expect_str_eq(err, "no such table: nosuch (at offset 15)");
    cr_expect_eq(lookups, 2);
}

/*
 * A statement of a trigger's body over a table of its own: libsqlite3 runs
 * "UPDATE uu SET r = <expr>" in an AFTER UPDATE trigger of tt (for the row
 * with id 1), folio evaluates <expr> over each row of uu in rowid order with
 * uu as the scope's table and NEW and OLD of tt as sources. (The
 * expressions read no uu in subqueries: SQLite's UPDATE would see the rows
 * it has already changed.)
 */
static int compare_update_body(fdb *f, const char *expr)
{
    outcome want[MAX_ROWS + 1], got[MAX_ROWS + 1];
    int nwant = 0, ngot = 0, differences = 0;
    ftable *tt = find_table(f, "tt");
    int r1 = 0; /* tt's row with id 1 */
    ex_value *old = copy_row(tt, r1);
    must_exec(f->db,
              "SAVEPOINT a; DROP TRIGGER IF EXISTS tr; UPDATE tt SET y = y + 1 WHERE id = 1");
    load_table(f, "tt");
    tt = find_table(f, "tt");
    ex_value *nw = copy_row(tt, r1);
    must_exec(f->db, "ROLLBACK TO a; RELEASE a");
    load_table(f, "tt");
    tt = find_table(f, "tt");
    char *sql = sqlite3_mprintf("DROP TRIGGER IF EXISTS tr; CREATE TRIGGER tr AFTER UPDATE ON tt "
                                "BEGIN UPDATE uu SET r = %s; END",
                                expr);
    char *err = NULL;
    if (sqlite3_exec(f->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        outcome_error(&want[nwant++], err ? err : "?");
    } else {
        must_exec(f->db, "SAVEPOINT b");
        sqlite3_free(err);
        err = NULL;
        if (sqlite3_exec(f->db, "UPDATE tt SET y = y + 1 WHERE id = 1", NULL, NULL, &err) !=
            SQLITE_OK) {
            outcome_error(&want[nwant++], err ? err : "?");
        } else {
            sqlite3_stmt *st;
            cr_assert_eq(
                sqlite3_prepare_v2(f->db, "SELECT r FROM uu ORDER BY rowid", -1, &st, NULL),
                SQLITE_OK);
            while (sqlite3_step(st) == SQLITE_ROW && nwant < MAX_ROWS) {
                ex_value v;
                value_from_sqlite(&v, sqlite3_column_value(st, 0));
                outcome_value(&want[nwant++], &v);
                value_free(&v);
            }
            sqlite3_finalize(st);
        }
        must_exec(f->db, "ROLLBACK TO b; RELEASE b");
    }
    sqlite3_free(err);
    sqlite3_free(sql);
    /* folio */
    ftable *uu = find_table(f, "uu");
    ex_scope sc;
    make_scope(&sc, f, uu, tt, 2);
    ex_prog *p = NULL;
    char cerr[512];
    if (ex_compile(&p, expr, strlen(expr), &sc, EX_TRIGGER, cerr, sizeof cerr) != 0) {
        outcome_error(&got[ngot++], cerr);
    } else {
        for (int r = 0; r < uu->nrows; r++) {
            frow fr;
            memset(&fr, 0, sizeof fr);
            fr.f = f;
            fr.p = p;
            fr.sc = &sc;
            fr.top = uu;
            fr.toprow = r;
            fr.src_vals[0] = nw;
            fr.src_vals[1] = old;
            ex_row row = {row_column, &fr, uu->rowid[r], row_scan};
            ex_value v;
            if (ex_eval(p, shared_cx, &row, &v) != 0) {
                ngot = 0; /* the statement fails whole */
                outcome_error(&got[ngot++], ex_ctx_errmsg(shared_cx));
                break;
            }
            outcome_value(&got[ngot++], &v);
        }
        ex_prog_free(p);
    }
    char why[2048];
    if (ngot != nwant) {
        fprintf(stderr, "DIFFERENT: UPDATE uu SET r = %s: folio %d outcomes, sqlite %d\n", expr,
                ngot, nwant);
        differences++;
    } else {
        for (int r = 0; r < ngot; r++)
            if (!same_outcome(&got[r], &want[r], why, sizeof why)) {
                fprintf(stderr, "DIFFERENT: UPDATE uu SET r = %s (row %d): %s\n", expr, r, why);
                differences++;
                break;
            }
    }
    compared++;
    free_row(old, tt->ncols + 1);
    free_row(nw, tt->ncols + 1);
    return differences;
}

static void open_update_body(void)
{
    open_trigger_base();
    setup(&F,
          "CREATE TABLE uu(k INTEGER PRIMARY KEY, v, w TEXT COLLATE NOCASE, r);"
          "INSERT INTO uu VALUES(1, 'one', 'a', NULL), (2, 2, 'B', NULL), (5, NULL, 'abc', NULL);",
          "uu");
}

Test(expr_trigger, update_body, .init = open_update_body, .fini = close_base)
{
    static const char *const e[] = {
        "k + new.y",
        "uu.k || '/' || old.x || '/' || rowid",
        "w = new.c",
        "v = new.id",
        "(SELECT b FROM s WHERE a = k)",
        "(SELECT count(*) FROM s WHERE c > uu.k * new.y)",
        "(SELECT group_concat(a) FROM s WHERE e = w)",
        "k IN (SELECT a FROM s WHERE b <> new.x)",
        "EXISTS (SELECT 1 FROM u WHERE u.w = uu.w)",
        "(SELECT max(k) FROM u WHERE u.k < uu.k)",
        "(SELECT v FROM u WHERE k = uu.k)",
        "(SELECT w FROM s WHERE a = 1)",
        "(SELECT uu.w FROM s WHERE a = 1)",
        "(SELECT count(uu.k) FROM s)",
        "(SELECT count(k) FROM s)",
        "(SELECT count(new.y) FROM s)",
        "count(*)",
        "nosuch",
        "new.nosuch",
        "uu.nosuch",
        "(SELECT abs(n) FROM nums WHERE m > k)",
    };
    int differences = 0;
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        differences += compare_update_body(&F, e[i]);
    cr_assert_eq(differences, 0, "%d statements differ from libsqlite3", differences);
}

/* Sources that are not qualified_only: outer tables, named bare or
 * qualified, with their declared affinity, after the scope's table. */
Test(expr_trigger, outer_sources, .init = open_trigger_base, .fini = close_base)
{
    static const ex_column ocols[] = {{"o1", SCH_AFF_INTEGER, SCH_COLL_BINARY, 0},
                                      {"a", SCH_AFF_TEXT, SCH_COLL_NOCASE, 0}};
    ex_source src[2];
    memset(src, 0, sizeof src);
    src[0].name = "outer1";
    src[0].cols = ocols;
    src[0].ncols = 2;
    src[0].rowid_alias = -1;
    src[1] = trig_sources[0];
    ftable *tt = find_table(&F, "tt"), *u = find_table(&F, "u");
    ex_scope sc;
    make_scope(&sc, &F, u, tt, 1); /* u (3), NEW of tt */
    src[1] = trig_sources[0];
    sc.sources = src;
    sc.nsources = 2;
    /* outer1 (base 3: o1 3, a 4, rowid 5), NEW (base 6). */
    static const struct {
        const char *expr;
        const char *cols;
        int rc;
    } e[] = {
        {"o1 + 1", "3", 0},
        {"outer1.a || w", "2,4", 0},
        {"outer1.rowid", "5", 0},
        {"k + o1", "3", 0}, /* k: u's INTEGER PRIMARY KEY, the rowid */
        {"(SELECT b FROM s WHERE a = o1)", "3,12,13", 0},
        {"(SELECT a FROM s)", "12", 0}, /* s.a first (innermost), not outer1.a */
        {"new.o1", "", FOLIO_ERROR},
        {"o1.new", "", FOLIO_ERROR},
        {"x", "", FOLIO_ERROR}, /* NEW's x only as new.x */
        {"new.x || outer1.o1", "3,7", 0},
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        ex_prog *p = NULL;
        char err[256];
        int rc = ex_compile(&p, e[i].expr, strlen(e[i].expr), &sc, EX_TRIGGER, err, sizeof err);
        cr_expect_eq(rc, e[i].rc, "%s: %d %s", e[i].expr, rc, err);
        if (rc)
            continue;
        const int *cols;
        int n = ex_prog_columns(p, &cols, NULL);
        char got[64] = "";
        for (int k = 0; k < n; k++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d", k ? "," : "", cols[k]);
        cr_expect_str_eq(got, e[i].cols, "%s", e[i].expr);
        ex_prog_free(p);
    }
    /* Affinity: o1 is INTEGER, compared with '5' as a number. */
    ex_prog *p = NULL;
    char err[256];
    cr_assert_eq(ex_compile(&p, "o1 = '5'", 8, &sc, EX_TRIGGER, err, sizeof err), 0, "%s", err);
    cr_expect_eq(ex_prog_affinity(p), EX_AFF_NONE);
    ex_prog_free(p);
    cr_assert_eq(ex_compile(&p, "o1", 2, &sc, EX_TRIGGER, err, sizeof err), 0, "%s", err);
    cr_expect_eq(ex_prog_affinity(p), SCH_AFF_INTEGER);
    ex_prog_free(p);
    cr_assert_eq(ex_compile(&p, "new.y", 5, &sc, EX_TRIGGER, err, sizeof err), 0, "%s", err);
    cr_expect_eq(ex_prog_affinity(p), EX_AFF_NONE); /* SQLite's TK_TRIGGER has none */
    ex_prog_free(p);
}

/*
 * A body statement whose subqueries read the table it changes: libsqlite3's
 * "UPDATE uu SET r = <expr>" evaluates row after row, each seeing the rows
 * before it changed, but computes a subquery that is not correlated once
 * (OP_Once). folio: ex_ctx_statement, then each row in rowid order, its
 * value written into the table before the next.
 */
static int quiet; /* differences expected: not printed */

static int compare_update_self(fdb *f, const char *expr, int statement)
{
    outcome want[MAX_ROWS + 1], got[MAX_ROWS + 1];
    int nwant = 0, ngot = 0, differences = 0;
    char *sql = sqlite3_mprintf("SAVEPOINT c; UPDATE uu SET r = %s", expr);
    char *err = NULL;
    if (sqlite3_exec(f->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        outcome_error(&want[nwant++], err ? err : "?");
    } else {
        sqlite3_stmt *st;
        cr_assert_eq(sqlite3_prepare_v2(f->db, "SELECT r FROM uu ORDER BY rowid", -1, &st, NULL),
                     SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW && nwant < MAX_ROWS) {
            ex_value v;
            value_from_sqlite(&v, sqlite3_column_value(st, 0));
            outcome_value(&want[nwant++], &v);
            value_free(&v);
        }
        sqlite3_finalize(st);
    }
    must_exec(f->db, "ROLLBACK TO c; RELEASE c");
    sqlite3_free(err);
    sqlite3_free(sql);
    ftable *uu = find_table(f, "uu");
    ex_scope sc;
    make_scope(&sc, f, uu, NULL, 0);
    ex_prog *p = NULL;
    char cerr[512];
    if (ex_compile(&p, expr, strlen(expr), &sc, EX_TRIGGER, cerr, sizeof cerr) != 0) {
        outcome_error(&got[ngot++], cerr);
    } else {
        if (statement)
            ex_ctx_statement(shared_cx);
        for (int r = 0; r < uu->nrows; r++) {
            frow fr;
            memset(&fr, 0, sizeof fr);
            fr.f = f;
            fr.p = p;
            fr.sc = &sc;
            fr.top = uu;
            fr.toprow = r;
            ex_row row = {row_column, &fr, uu->rowid[r], row_scan};
            ex_value v;
            if (ex_eval(p, shared_cx, &row, &v) != 0) {
                ngot = 0;
                outcome_error(&got[ngot++], ex_ctx_errmsg(shared_cx));
                break;
            }
            outcome_value(&got[ngot++], &v);
            /* The row as the UPDATE leaves it (r has no affinity). */
            value_free(&uu->v[r][3]);
            ex_value c = got[ngot - 1].v;
            if (c.type == EX_TEXT || c.type == EX_BLOB) {
                uint8_t *b = malloc((size_t)c.u.s.n + 1);
                memcpy(b, c.u.s.p, (size_t)c.u.s.n);
                c.u.s.p = b;
            }
            uu->v[r][3] = c;
        }
        ex_prog_free(p);
    }
    load_table(f, "uu"); /* as it was */
    char why[2048];
    if (ngot != nwant) {
        if (!quiet)
            fprintf(stderr, "DIFFERENT: UPDATE uu SET r = %s: folio %d outcomes, sqlite %d\n", expr,
                    ngot, nwant);
        differences++;
    } else {
        for (int r = 0; r < ngot; r++)
            if (!same_outcome(&got[r], &want[r], why, sizeof why)) {
                if (!quiet)
                    fprintf(stderr, "DIFFERENT: UPDATE uu SET r = %s (row %d): %s\n", expr, r, why);
                differences++;
                break;
            }
    }
    compared++;
    return differences;
}

Test(expr_trigger, once_per_statement, .init = open_update_body, .fini = close_base)
{
    static const char *const e[] = {
        "coalesce((SELECT max(r) FROM uu), 0) + k",
        "coalesce((SELECT max(r) FROM uu AS x WHERE x.k <= uu.k), 0) + k",
        "(SELECT count(*) FROM uu AS x WHERE x.r IS NOT NULL)",
        "(SELECT count(*) FROM uu AS x WHERE x.r IS NOT NULL AND x.k <> uu.k)",
        "k IN (SELECT r FROM uu)",
        "k IN (SELECT x.r + 1 FROM uu AS x WHERE x.k < uu.k)",
        "k IN (SELECT x.r - 1 FROM uu AS x)",
        "EXISTS (SELECT 1 FROM uu WHERE r IS NOT NULL)",
        "EXISTS (SELECT 1 FROM uu AS x WHERE x.r IS NOT NULL AND uu.k > 0)",
        "(SELECT group_concat(coalesce(r, '-')) FROM uu) || k",
        "(SELECT group_concat(coalesce(x.r, '-')) FROM uu AS x WHERE x.k > 0 * uu.k) || k",
        "(SELECT r FROM uu ORDER BY r DESC LIMIT 1)",
        "coalesce((SELECT (SELECT max(r) FROM uu) FROM uu AS x WHERE x.k = uu.k), 0) + k",
        "(SELECT sum(x.k) FROM uu AS x WHERE x.k IN (SELECT k FROM uu WHERE r IS NULL))",
    };
    int differences = 0;
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        differences += compare_update_self(&F, e[i], 1);
    cr_assert_eq(differences, 0, "%d statements differ from libsqlite3", differences);
    /* Without ex_ctx_statement every evaluation runs every subquery (the
     * contexts that never call it keep today's behaviour). */
    ex_ctx *fresh;
    cr_assert_eq(ex_ctx_new(&fresh), 0);
    ex_ctx *saved = shared_cx;
    shared_cx = fresh;
    quiet = 1;
    int d = compare_update_self(&F, "coalesce((SELECT max(r) FROM uu), 0) + k", 0);
    quiet = 0;
    shared_cx = saved;
    ex_ctx_free(fresh);
    cr_expect_eq(d, 1, "re-run per row, the subquery sees the rows already changed");
}
