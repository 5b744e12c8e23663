/*
 * What the db layer asks of a compiled expression (src/expr/expr.h): the
 * columns it reads (only those of the tree SQLite's parser leaves), whether
 * it is constant or volatile, its affinity and collating sequence as
 * SQLite's sqlite3ExprAffinity / sqlite3ExprCollSeq give them, and the
 * evaluation of a program that reads no row.
 */
#include <criterion/criterion.h>

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include <folio.h>

#include "expr/expr.h"

static const ex_column cols[] = {{"id", SCH_AFF_INTEGER, SCH_COLL_BINARY, 0},
                                 {"a", SCH_AFF_INTEGER, SCH_COLL_BINARY, 0},
                                 {"b", SCH_AFF_TEXT, SCH_COLL_NOCASE, 0},
                                 {"c", SCH_AFF_REAL, SCH_COLL_RTRIM, 1},
                                 {"d", SCH_AFF_BLOB, SCH_COLL_BINARY, 0}};
static const ex_scope scope = {.table = "t", .cols = cols, .ncols = 5, .rowid_alias = 0};

static ex_prog *compile(const char *text, unsigned flags)
{
    ex_prog *p = NULL;
    char err[256];
    int rc = ex_compile(&p, text, strlen(text), &scope, flags, err, sizeof err);
    cr_assert_eq(rc, 0, "%s: %s", text, err);
    return p;
}

/* The columns of `text` as a string like "1,3" and whether the rowid is used. */
static void expect_columns(const char *text, const char *want, int want_rowid)
{
    ex_prog *p = compile(text, EX_FILTER);
    const int *c;
    int rowid = -1;
    int n = ex_prog_columns(p, &c, &rowid);
    char got[64] = "";
    for (int k = 0; k < n; k++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d", k ? "," : "", c[k]);
    cr_expect_str_eq(got, want, "%s", text);
    cr_expect_eq(rowid, want_rowid, "%s: uses_rowid %d", text, rowid);
    cr_expect_eq(ex_prog_is_constant(p), n == 0 && !rowid, "%s", text);
    ex_prog_free(p);
}

Test(expr_api, columns)
{
    expect_columns("a + b", "1,2", 0);
    expect_columns("b || a || b", "1,2", 0);
    expect_columns("id + 1", "", 1); /* the INTEGER PRIMARY KEY is the rowid */
    expect_columns("rowid", "", 1);
    expect_columns("t.c", "3", 0);
    expect_columns("abs(d) + 1", "4", 0);
    expect_columns("1 + 2", "", 0);
    /* Dropped by SQLite's parser or resolver: not read. */
    expect_columns("a IN ()", "", 0);
    expect_columns("0 AND b", "", 0);
    expect_columns("a + (b NOT IN ())", "1", 0);
    expect_columns("rowid ISNULL", "", 0);
    expect_columns("-5 NOTNULL", "", 0);
}

static void expect_kind(const char *text, int affinity, int collation, int is_volatile)
{
    ex_prog *p = compile(text, EX_FILTER);
    cr_expect_eq(ex_prog_affinity(p), affinity, "%s: affinity %d", text, ex_prog_affinity(p));
    cr_expect_eq(ex_prog_collation(p), collation, "%s: collation %d", text, ex_prog_collation(p));
    cr_expect_eq(ex_prog_is_volatile(p), is_volatile, "%s", text);
    ex_prog_free(p);
}

Test(expr_api, affinity_and_collation)
{
    expect_kind("a", SCH_AFF_INTEGER, SCH_COLL_BINARY, 0);
    expect_kind("b", SCH_AFF_TEXT, SCH_COLL_NOCASE, 0);
    expect_kind("c COLLATE BINARY", SCH_AFF_REAL, SCH_COLL_BINARY, 0);
    expect_kind("CAST(a AS TEXT)", SCH_AFF_TEXT, SCH_COLL_BINARY, 0);
    expect_kind("CAST(b AS VARCHAR(3))", SCH_AFF_TEXT, SCH_COLL_NOCASE, 0);
    expect_kind("CAST(b AS)", SCH_AFF_NUMERIC, SCH_COLL_NOCASE, 0);
    expect_kind("+a", EX_AFF_NONE, SCH_COLL_BINARY, 0);
    expect_kind("a + 1", EX_AFF_NONE, -1, 0);
    expect_kind("b || 'x'", EX_AFF_NONE, -1, 0);
    expect_kind("(a + 1) COLLATE NOCASE", EX_AFF_NONE, SCH_COLL_NOCASE, 0);
    expect_kind("'x' COLLATE nosuch", EX_AFF_NONE, SCH_COLL_UNKNOWN, 0);
    expect_kind("random()", EX_AFF_NONE, -1, 1);
    expect_kind("0 AND random()", EX_AFF_NONE, -1, 0);
}

/* ex_prog_top_collation is the collating sequence libsqlite3 gives an index
 * key that is the expression (PRAGMA index_xinfo), BINARY when none. */
Test(expr_api, top_collation_as_index_key)
{
    static const char *const texts[] = {
        "+b",
        "+a COLLATE NOCASE",
        "CAST(b AS TEXT)",
        "lower(b)",
        "b || ''",
        "likely(b)",
        "+(b COLLATE RTRIM)",
        "(b COLLATE RTRIM) || ''",
        "a || b COLLATE RTRIM",
        "(a || b) COLLATE RTRIM",
        "((a || b) COLLATE RTRIM)",
        "-a COLLATE RTRIM",
        "NOT a COLLATE RTRIM",
        "a = b COLLATE RTRIM",
        "a BETWEEN 1 AND b COLLATE RTRIM",
        "b ISNULL COLLATE RTRIM",
        "b IN (1, 2) COLLATE RTRIM",
        "CASE WHEN a THEN b END COLLATE RTRIM",
        "+b COLLATE RTRIM COLLATE NOCASE",
        "1 COLLATE NOCASE",
        "(1 + 2) COLLATE RTRIM",
        "upper(b COLLATE BINARY)",
    };
    static const char *const names[] = {
        [SCH_COLL_BINARY] = "BINARY", [SCH_COLL_NOCASE] = "NOCASE", [SCH_COLL_RTRIM] = "RTRIM"};
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, "
                              "b TEXT COLLATE NOCASE, c REAL COLLATE RTRIM AS (a), d BLOB)",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db));
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "CREATE INDEX i ON t(%s)", texts[i]);
        cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s: %s", sql,
                     sqlite3_errmsg(db));
        sqlite3_stmt *st;
        cr_assert_eq(sqlite3_prepare_v2(db,
                                        "SELECT coll, cid FROM pragma_index_xinfo('i') "
                                        "WHERE seqno = 0",
                                        -1, &st, NULL),
                     SQLITE_OK);
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        char want[32];
        snprintf(want, sizeof want, "%s", (const char *)sqlite3_column_text(st, 0));
        cr_assert_eq(sqlite3_column_int(st, 1), -2, "%s: not an expression key", texts[i]);
        sqlite3_finalize(st);
        cr_assert_eq(sqlite3_exec(db, "DROP INDEX i", NULL, NULL, NULL), SQLITE_OK);
        ex_prog *p = compile(texts[i], EX_INDEX_EXPR);
        int coll = ex_prog_top_collation(p);
        ex_prog_free(p);
        const char *got = coll < 0 ? "BINARY" : coll < 3 ? names[coll] : "?";
        cr_expect_str_eq(got, want, "%s: folio %d", texts[i], coll);
    }
    sqlite3_close(db);
}

Test(expr_api, constant_without_row)
{
    ex_ctx *cx;
    cr_assert_eq(ex_ctx_new(&cx), 0);
    static const struct {
        const char *text;
        int type;
        int64_t i;
    } cases[] = {{"1 + 2 * 3", EX_INTEGER, 7},
                 {"length('héllo')", EX_INTEGER, 5},
                 {"9223372036854775807 + 0", EX_INTEGER, INT64_MAX},
                 {"NULL", EX_NULL, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ex_prog *p = compile(cases[k].text, EX_DEFAULT);
        ex_value v;
        cr_assert_eq(ex_eval(p, cx, NULL, &v), 0, "%s: %s", cases[k].text, ex_ctx_errmsg(cx));
        cr_expect_eq(v.type, cases[k].type, "%s", cases[k].text);
        if (v.type == EX_INTEGER)
            cr_expect_eq(v.u.i, cases[k].i, "%s", cases[k].text);
        ex_prog_free(p);
    }
    /* An error: its message, and the context is usable afterwards. */
    ex_prog *p = compile("abs(-9223372036854775807 - 1)", EX_DEFAULT);
    ex_value v;
    cr_expect_eq(ex_eval(p, cx, NULL, &v), FOLIO_ERROR);
    cr_expect_str_eq(ex_ctx_errmsg(cx), "integer overflow");
    ex_prog_free(p);
    ex_ctx_free(cx);
}

Test(expr_api, truth)
{
    ex_value v;
    memset(&v, 0, sizeof v);
    v.type = EX_NULL;
    cr_expect_eq(ex_truth(&v), -1);
    v.type = EX_INTEGER;
    v.u.i = -3;
    cr_expect_eq(ex_truth(&v), 1);
    v.type = EX_REAL;
    v.u.r = -0.0;
    cr_expect_eq(ex_truth(&v), 0);
    v.type = EX_TEXT;
    v.u.s.p = (const uint8_t *)"0.5abc";
    v.u.s.n = 6;
    cr_expect_eq(ex_truth(&v), 1);
    v.u.s.p = (const uint8_t *)"abc";
    v.u.s.n = 3;
    cr_expect_eq(ex_truth(&v), 0);
}

/*
 * Bug (found by fuzz_expr): printf('%-59223372036854775808s', ...) made an
 * 830 MB string - SQLite makes it too, under its 1e9 limit - and the fuzzer
 * ran out of memory. A context can lower the limit, as SQLite's
 * SQLITE_LIMIT_LENGTH does; past it, "string or blob too big".
 */
Test(expr_api, length_limit)
{
    ex_ctx *cx;
    cr_assert_eq(ex_ctx_new(&cx), 0);
    ex_value v;
    /* (Values past 64 KiB are never folded at compile time: each is made
     * by the evaluation, under its context's limit.) */
    ex_prog *p = compile("printf('%-200000s|', 'x')", EX_FILTER);
    cr_assert_eq(ex_eval(p, cx, NULL, &v), 0, "%s", ex_ctx_errmsg(cx));
    cr_assert_eq(v.type, EX_TEXT);
    cr_assert_eq(v.u.s.n, 200001);
    ex_ctx_set_max_length(cx, 100000);
    /* printf() past the limit is NULL, as SQLite's; the others fail. */
    cr_assert_eq(ex_eval(p, cx, NULL, &v), 0, "%s", ex_ctx_errmsg(cx));
    cr_assert_eq(v.type, EX_NULL, "a 200001-byte printf() under a 100000-byte limit");
    ex_prog_free(p);
    static const char *const over[] = {"zeroblob(100001)", "randomblob(100001)",
                                       "replace(printf('%60000s', ''), ' ', 'ab')",
                                       "printf('%50001s', '') || printf('%50000s', '')"};
    for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
        p = compile(over[i], EX_FILTER);
        cr_assert_lt(ex_eval(p, cx, NULL, &v), 0, "%s", over[i]);
        cr_assert_str_eq(ex_ctx_errmsg(cx), "string or blob too big", "%s", over[i]);
        ex_prog_free(p);
    }
    /* Bug (found by fuzz_expr): %c repeats its character precision times,
     * and went on for minutes after the output had stopped at the limit. */
    p = compile("printf('%.2000000000c', 'x')", EX_FILTER);
    cr_assert_eq(ex_eval(p, cx, NULL, &v), 0, "%s", ex_ctx_errmsg(cx));
    cr_assert_eq(v.type, EX_NULL);
    ex_prog_free(p);
    p = compile("length(zeroblob(100000))", EX_FILTER);
    cr_assert_eq(ex_eval(p, cx, NULL, &v), 0, "%s", ex_ctx_errmsg(cx));
    cr_assert_eq(v.u.i, 100000);
    ex_prog_free(p);
    ex_ctx_free(cx);
}

/* ---- EX_NAMES and name_seen (ALTER TABLE's rewrite of triggers) ---- */

typedef struct seen_list {
    char text[1024];
} seen_list;

/* Each name as "kind:word[@qualifier]:level:column", in the order told. */
static void on_name(void *arg, const ex_name *n)
{
    seen_list *l = arg;
    static const char kinds[] = "CFSX"; /* COLUMN, FROM, STRING, STAR */
    snprintf(l->text + strlen(l->text), sizeof l->text - strlen(l->text), "%s%c:%zu+%zu",
             l->text[0] ? " " : "", kinds[n->kind], n->off, n->len);
    if (n->qlen)
        snprintf(l->text + strlen(l->text), sizeof l->text - strlen(l->text), "@%zu+%zu", n->qoff,
                 n->qlen);
    snprintf(l->text + strlen(l->text), sizeof l->text - strlen(l->text), ":%d:%d%s%s", n->level,
             n->kind == EX_NAME_COLUMN ? n->column : 0, n->table ? ":" : "",
             n->table ? n->table : "");
}

static const ex_column u_cols[] = {{"x", SCH_AFF_INTEGER, SCH_COLL_BINARY, 0},
                                   {"b", SCH_AFF_TEXT, SCH_COLL_BINARY, 0}};

static int u_lookup(void *arg, const char *name, ex_source *out, char *err, size_t errlen)
{
    (void)arg;
    if (strcmp(name, "u") != 0) {
        snprintf(err, errlen, "no such table: main.%s", name);
        return FOLIO_ERROR;
    }
    memset(out, 0, sizeof *out);
    out->name = "u";
    out->cols = u_cols;
    out->ncols = 2;
    out->rowid_alias = -1;
    return 0;
}

static const char *names_of(const char *text, int *rc, char *err, size_t errlen)
{
    static seen_list l;
    static const ex_source news[] = {{"new", cols, 5, 0, 0, 1}};
    memset(&l, 0, sizeof l);
    ex_scope sc = scope;
    sc.sources = news;
    sc.nsources = 1;
    sc.table_lookup = u_lookup;
    sc.name_seen = on_name;
    sc.name_arg = &l;
    ex_prog *p = (ex_prog *)1;
    *rc = ex_compile(&p, text, strlen(text), &sc, EX_TRIGGER | EX_NAMES, err, errlen);
    cr_assert_null(p, "EX_NAMES makes no program");
    return l.text;
}

Test(expr_api, names_seen)
{
    int rc;
    char err[256];
    /* a bare column, a qualified one (qualifier told), NEW's, the rowid. */
    const char *got = names_of("a + t.\"b\" + new.c + rowid", &rc, err, sizeof err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect_str_eq(got, "C:0+1:0:1 C:6+3@4+1:0:2 C:16+1@12+3:-1:3 C:20+5:0:-1");
    /* a subquery: its FROM, its columns (level 1, the table's name), t.*
     * and a double-quoted word that names nothing. */
    got = names_of("EXISTS (SELECT q.*, q.b FROM u AS q WHERE x = \"zz\")", &rc, err, sizeof err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect_str_eq(got, "F:29+1:1:0:u X:15+1:1:0:u C:22+1@20+1:1:1:u C:42+1:1:0:u S:46+4:0:0");
    /* Only names are errors: an unknown function, a wrong count of
     * arguments and an aggregate are not. */
    names_of("nosuch(a) + abs(1, 2) + count(*)", &rc, err, sizeof err);
    cr_expect_eq(rc, 0, "%s", err);
    names_of("abs(zz)", &rc, err, sizeof err);
    cr_expect_eq(rc, FOLIO_ERROR);
    cr_expect(strncmp(err, "no such column: zz", 18) == 0, "%s", err);
    names_of("(SELECT 1 FROM nope)", &rc, err, sizeof err);
    cr_expect(rc == FOLIO_ERROR && strncmp(err, "no such table: main.nope", 24) == 0, "%s", err);
}
