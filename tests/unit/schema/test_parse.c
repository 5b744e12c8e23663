/*
 * CREATE TABLE / CREATE INDEX parser (src/schema/parse*.c), checked against
 * libsqlite3 wherever SQLite can answer: which statements are accepted, the
 * columns PRAGMA table_xinfo reports, DEFAULT values as SQLite stores them,
 * the rowid alias, the automatic indexes in sqlite_schema with their numbers
 * and PRAGMA index_xinfo keys, and CREATE INDEX keys. Random statements and
 * random mutations print seed=N; FOLIO_SEED=N replays one.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "schema/parse.h"

/* ---- Helpers ---- */

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

static int try_exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void exec(sqlite3 *db, const char *sql)
{
    cr_assert_eq(try_exec(db, sql), 0, "%s: %s", sql, sqlite3_errmsg(db));
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    return st;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

static sch_table parse_ok(const char *sql)
{
    sch_table t;
    char err[256];
    cr_assert_eq(sch_parse_table(&t, sql, err, sizeof err), 0, "%s: %s", sql, err);
    return t;
}

static void parse_fails(const char *sql, const char *want)
{
    sch_table t;
    char err[256];
    cr_assert_eq(sch_parse_table(&t, sql, err, sizeof err), -1, "accepted: %s", sql);
    if (want)
        cr_assert_str_eq(err, want, "%s", sql);
    cr_assert_eq(t.ncols, 0);
    cr_assert_null(t.cols);
    sch_table_free(&t);
}

/* ---- Names, quoting, comments ---- */

Test(schema_parse, names_quoting_and_comments)
{
    sch_table t = parse_ok("CREATE TABLE 'x y'(\"a\"\"b\" INT, [c d] TEXT, `e``f`, 'g''h', "
                           "key, value, data, text, left, indexed, current_time)");
    static const char *const want[] = {"a\"b", "c d",  "e`f",  "g'h",     "key",         "value",
                                       "data", "text", "left", "indexed", "current_time"};
    cr_assert_str_eq(t.name, "x y");
    cr_assert_null(t.schema_name);
    cr_assert_eq(t.ncols, 11);
    for (int k = 0; k < 11; k++)
        cr_assert_str_eq(t.cols[k].name, want[k]);
    cr_assert_eq(t.ipk, -1);
    cr_assert_eq(t.npk, 0);
    cr_assert_eq(t.nauto, 0);
    sch_table_free(&t);

    t = parse_ok("create temp table if not exists main.\"T\" (a) ;");
    cr_assert_str_eq(t.schema_name, "main");
    cr_assert_str_eq(t.name, "T");
    cr_assert(t.temp && t.if_not_exists);
    sch_table_free(&t);

    t = parse_ok("CREATE /* c ( */ TABLE -- x (\n t(a -- y '\n, b /* z\n */ INT)\n-- end");
    cr_assert_eq(t.ncols, 2);
    cr_assert_str_eq(t.cols[1].name, "b");
    cr_assert_str_eq(t.cols[1].decltype, "INT");
    sch_table_free(&t);
}

Test(schema_parse, ident_eq_and_collation_of)
{
    cr_assert(sch_ident_eq("Abc", "aBC"));
    cr_assert(!sch_ident_eq("abc", "abcd"));
    cr_assert(!sch_ident_eq("\xc3\xa9", "\xc3\x89"));
    cr_assert(sch_ident_eq("", ""));
    cr_assert_eq(sch_collation_of("binary"), SCH_COLL_BINARY);
    cr_assert_eq(sch_collation_of(NULL), SCH_COLL_BINARY);
    cr_assert_eq(sch_collation_of("NoCase"), SCH_COLL_NOCASE);
    cr_assert_eq(sch_collation_of("RTRIM"), SCH_COLL_RTRIM);
    cr_assert_eq(sch_collation_of("nocase2"), SCH_COLL_UNKNOWN);
    sch_table t = parse_ok("CREATE TABLE t(a COLLATE 'NoCase', b COLLATE \"rtrim\", c, d "
                           "COLLATE my_coll COLLATE binary, e COLLATE my_coll)");
    cr_assert_eq(t.cols[0].collation, SCH_COLL_NOCASE);
    cr_assert_str_eq(t.cols[0].collation_name, "NoCase");
    cr_assert_eq(t.cols[1].collation, SCH_COLL_RTRIM);
    cr_assert_eq(t.cols[2].collation, SCH_COLL_BINARY);
    cr_assert_str_eq(t.cols[2].collation_name, "BINARY");
    cr_assert_eq(t.cols[3].collation, SCH_COLL_BINARY);
    cr_assert_eq(t.cols[4].collation, SCH_COLL_UNKNOWN);
    cr_assert_str_eq(t.cols[4].collation_name, "my_coll");
    sch_table_free(&t);
}

/* Every SQLite keyword as a table name, column name, type word, DEFAULT
 * identifier and constraint name: accepted exactly when SQLite accepts it. */
Test(schema_parse, keywords_match_sqlite)
{
    static const char *const forms[] = {
        "CREATE TABLE %s(x)",           "CREATE TABLE t(%s INT)",
        "CREATE TABLE t(x %s)",         "CREATE TABLE t(x INT %s)",
        "CREATE TABLE t(x DEFAULT %s)", "CREATE TABLE t(x, y, CONSTRAINT %s UNIQUE(x))",
        "CREATE TABLE t(x COLLATE %s)", "CREATE TABLE t(x) %s",
    };
    sqlite3 *db = open_db();
    int n = sqlite3_keyword_count();
    for (int k = 0; k < n; k++) {
        const char *z;
        int len;
        char kw[64], sql[256], err[256];
        sqlite3_keyword_name(k, &z, &len);
        snprintf(kw, sizeof kw, "%.*s", len, z);
        for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
            snprintf(sql, sizeof sql, forms[f], kw);
            sch_table t;
            int ours = sch_parse_table(&t, sql, err, sizeof err);
            int theirs = try_exec(db, sql);
            /* SQLite checks COLLATE names against registered collations at
             * CREATE time; folio parses any name (it may be an application's). */
            if (f == 6 && theirs < 0 && strstr(sqlite3_errmsg(db), "no such collation"))
                theirs = 0;
            cr_assert_eq(ours, theirs, "[%s]: folio %s, sqlite %s", sql, ours ? err : "accepts",
                         theirs ? sqlite3_errmsg(db) : "accepts");
            if (ours == 0)
                sch_table_free(&t);
            try_exec(db, "DROP TABLE IF EXISTS t");
            snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS \"%s\"", kw);
            try_exec(db, sql);
        }
    }
    sqlite3_close(db);
}

/* ---- Columns against PRAGMA table_xinfo ---- */

static const char *const column_cases[] = {
    "CREATE TABLE t(x VARCHAR ( 10 ), y  UNSIGNED   BIG INT, z 'INTEGER' PRIMARY KEY, w \"my "
    "type\", v text key)",
    "CREATE TABLE t(x VARCHAR /* INT */ (10), y \"my\" \"type\", z 'int' 'eger', w [int], v int "
    "(+1, -2))",
    "CREATE TABLE t(a GENERATED ALWAYS AS (1), b INT GENERATED ALWAYS AS (2) STORED, c AS (3) "
    "VIRTUAL, d, e foo generated always as (d) stored, f x as (1) virtual)",
    "CREATE TABLE t(a generated always, b foo generated always, c abcdefghij always, d generated, "
    "e always)",
    "CREATE TABLE t(a GENERATED AS (1), b, c always as (b) stored, d int(10) generated always as "
    "(1))",
    "CREATE TABLE t(a NOT NULL, b NULL, c NOT NULL ON CONFLICT IGNORE DEFAULT 1 NULL, d "
    "CONSTRAINT x NOT NULL CONSTRAINT y)",
    "CREATE TABLE t(a DEFAULT (1+2), b DEFAULT -'x', c DEFAULT ( 5 ), d DEFAULT (((5))), e "
    "DEFAULT (- (1)), f DEFAULT 0x1ffffffffffffffff, g DEFAULT -0x8000000000000000, h DEFAULT "
    "(abs(-1)))",
    "CREATE TABLE t(a PRIMARY KEY, b UNIQUE, c CHECK(c > ')'), d REFERENCES t(a) ON DELETE "
    "CASCADE ON UPDATE SET NULL MATCH FULL NOT DEFERRABLE INITIALLY DEFERRED, e DEFERRABLE "
    "INITIALLY IMMEDIATE)",
    "CREATE TABLE t(a INT, b TEXT, PRIMARY KEY(b, a), UNIQUE(a) CHECK(a != b) FOREIGN KEY(a, "
    "b) REFERENCES u(x, y) DEFERRABLE, CONSTRAINT z)",
    "CREATE TABLE t(a INTEGER PRIMARY KEY AUTOINCREMENT, b)",
    "CREATE TABLE t(a, b, c, PRIMARY KEY(c, a)) WITHOUT ROWID",
    "CREATE TABLE t(a INTEGER, b ANY, PRIMARY KEY(a DESC)) STRICT, WITHOUT ROWID",
};

Test(schema_parse, columns_match_table_xinfo)
{
    for (size_t k = 0; k < sizeof column_cases / sizeof *column_cases; k++) {
        const char *sql = column_cases[k];
        sqlite3 *db = open_db();
        exec(db, "CREATE TABLE u(x, y, PRIMARY KEY(x, y))");
        exec(db, sql);
        sch_table t = parse_ok(sql);
        sqlite3_stmt *st =
            prepare(db, "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM "
                        "pragma_table_xinfo('t') ORDER BY cid");
        int i = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            cr_assert_lt(i, t.ncols, "%s", sql);
            const sch_column *c = &t.cols[i];
            cr_assert_str_eq(c->name, col_text(st, 0), "%s", sql);
            cr_assert_str_eq(c->decltype ? c->decltype : "", col_text(st, 1), "%s: column %s", sql,
                             c->name);
            cr_assert_eq(c->notnull, sqlite3_column_int(st, 2), "%s: column %s", sql, c->name);
            cr_assert_eq(c->primary_key, sqlite3_column_int(st, 4) > 0, "%s: column %s", sql,
                         c->name);
            cr_assert_eq(c->hidden, sqlite3_column_int(st, 5), "%s: column %s", sql, c->name);
            cr_assert_eq(c->generated, c->hidden >= 2);
            cr_assert_eq(c->dflt.kind == SCH_DFLT_NONE,
                         sqlite3_column_type(st, 3) == SQLITE_NULL || c->generated, "%s: %s", sql,
                         c->name);
            if (c->dflt.kind == SCH_DFLT_EXPR)
                cr_assert_str_eq(c->dflt.p, col_text(st, 3), "%s: column %s", sql, c->name);
            i++;
        }
        cr_assert_eq(i, t.ncols, "%s", sql);
        sqlite3_finalize(st);
        sch_table_free(&t);
        sqlite3_close(db);
    }
}

Test(schema_parse, column_flags)
{
    sch_table t = parse_ok(column_cases[7]);
    cr_assert(t.cols[0].primary_key && !t.cols[0].unique);
    cr_assert(t.cols[1].unique);
    cr_assert(t.cols[2].has_check && t.has_check);
    cr_assert(t.cols[3].has_references && t.has_foreign_key);
    cr_assert(!t.cols[4].has_references && !t.cols[4].has_check);
    cr_assert(!t.has_generated);
    sch_table_free(&t);

    t = parse_ok(column_cases[5]);
    cr_assert_eq(t.cols[2].notnull_onconflict, SCH_OC_IGNORE);
    cr_assert_eq(t.cols[0].notnull_onconflict, SCH_OC_DEFAULT);
    sch_table_free(&t);

    t = parse_ok(column_cases[2]);
    cr_assert(t.has_generated);
    cr_assert_eq(t.cols[0].hidden, 2);
    cr_assert_eq(t.cols[1].hidden, 3);
    cr_assert_str_eq(t.cols[1].decltype, "INT");
    cr_assert_eq(t.cols[3].generated, 0);
    cr_assert_str_eq(t.cols[4].decltype, "foo");
    sch_table_free(&t);

    t = parse_ok(column_cases[8]);
    cr_assert(t.has_check && t.has_foreign_key);
    cr_assert(t.cols[0].unique);
    cr_assert(!t.cols[1].has_references);
    sch_table_free(&t);

    t = parse_ok(column_cases[9]);
    cr_assert_eq(t.ipk, 0);
    cr_assert(t.autoincrement && t.cols[0].autoincrement);
    sch_table_free(&t);

    t = parse_ok(column_cases[11]);
    cr_assert(t.strict && t.without_rowid);
    cr_assert_eq(t.ipk, -1);
    cr_assert_eq(t.npk, 1);
    cr_assert(t.pk[0].desc);
    cr_assert_eq(t.cols[1].strict_type, SCH_STRICT_ANY);
    sch_table_free(&t);
}

/* ---- DEFAULT values as SQLite stores them ---- */

Test(schema_parse, defaults_match_sqlite)
{
    static const char *const clauses[] = {
        "1",
        "-5",
        "+5",
        "- 5",
        "0",
        "-0",
        "0x10",
        "0XfF",
        "-0x10",
        "0xffffffffffffffff",
        "-0xffffffffffffffff",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "1.5",
        ".5",
        "1.",
        "1e10",
        "1E+2",
        "-1.5e-3",
        "1e400",
        "-1e400",
        "1e-400",
        "00012",
        "0.1",
        "3.141592653589793",
        "'abc'",
        "'it''s'",
        "''",
        "x'00ff'",
        "X''",
        "NULL",
        "-NULL",
        "+NULL",
        "TRUE",
        "false",
        "\"TRUE\"",
        "abc",
        "\"q\"",
        "[x y]",
        "`b`",
        "key",
        "indexed",
        "(5)",
        "(-1)",
        "(+'a')",
        "('x')",
        "((5))",
        "(- (1))",
        "(true)",
        "(NULL)",
        "(x'01')",
        "(1.5)",
        "(-0x10)",
        "+'a'",
        "+x'01'",
        "(1+2)",
        "(abs(-3))",
        "-'x'",
        "('a' || 'b')",
        "(-9223372036854775808)",
    };
    for (size_t k = 0; k < sizeof clauses / sizeof *clauses; k++) {
        char sql[256];
        snprintf(sql, sizeof sql, "CREATE TABLE t(k INTEGER PRIMARY KEY, c DEFAULT %s)",
                 clauses[k]);
        sqlite3 *db = open_db();
        exec(db, sql);
        exec(db, "INSERT INTO t(k) VALUES(1)");
        sch_table t = parse_ok(sql);
        const sch_default *d = &t.cols[1].dflt;
        sqlite3_stmt *st = prepare(db, "SELECT c, typeof(c) FROM t");
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        const char *type = col_text(st, 1);
        switch (d->kind) {
        case SCH_DFLT_NULL:
            cr_assert_str_eq(type, "null", "DEFAULT %s", clauses[k]);
            break;
        case SCH_DFLT_INTEGER:
            cr_assert_str_eq(type, "integer", "DEFAULT %s", clauses[k]);
            cr_assert_eq(d->i, sqlite3_column_int64(st, 0), "DEFAULT %s", clauses[k]);
            break;
        case SCH_DFLT_REAL: {
            cr_assert_str_eq(type, "real", "DEFAULT %s", clauses[k]);
            double r = sqlite3_column_double(st, 0);
            cr_assert(memcmp(&r, &d->r, sizeof r) == 0 || (r == 0 && d->r == 0),
                      "DEFAULT %s: %.17g vs %.17g", clauses[k], d->r, r);
            break;
        }
        case SCH_DFLT_TEXT:
            cr_assert_str_eq(type, "text", "DEFAULT %s", clauses[k]);
            cr_assert_eq(d->n, (size_t)sqlite3_column_bytes(st, 0));
            cr_assert(memcmp(d->p, sqlite3_column_text(st, 0), d->n) == 0, "DEFAULT %s",
                      clauses[k]);
            cr_assert_eq(d->p[d->n], 0);
            break;
        case SCH_DFLT_BLOB:
            cr_assert_str_eq(type, "blob", "DEFAULT %s", clauses[k]);
            cr_assert_eq(d->n, (size_t)sqlite3_column_bytes(st, 0));
            cr_assert(d->n == 0 || memcmp(d->p, sqlite3_column_blob(st, 0), d->n) == 0);
            break;
        case SCH_DFLT_EXPR:
            /* Not a literal: folio keeps the text; it must be an expression. */
            cr_assert(strchr(clauses[k], '(') || clauses[k][0] == '-', "DEFAULT %s", clauses[k]);
            break;
        default:
            cr_assert_fail("DEFAULT %s: kind %d", clauses[k], d->kind);
        }
        sqlite3_finalize(st);
        sch_table_free(&t);
        sqlite3_close(db);
    }
}

Test(schema_parse, default_kinds)
{
    sch_table t = parse_ok(
        "CREATE TABLE t(a DEFAULT CURRENT_TIME, b DEFAULT current_date, c DEFAULT "
        "Current_Timestamp, d, e DEFAULT (1+2), f DEFAULT 0x1ffffffffffffffff, g DEFAULT "
        "-0x8000000000000000, h DEFAULT 1_000, i DEFAULT 1 DEFAULT 'two', j DEFAULT (\"x\"), "
        "k DEFAULT -0.0, l DEFAULT +current_time)");
    cr_assert_eq(t.cols[0].dflt.kind, SCH_DFLT_CURRENT_TIME);
    cr_assert_eq(t.cols[1].dflt.kind, SCH_DFLT_CURRENT_DATE);
    cr_assert_eq(t.cols[2].dflt.kind, SCH_DFLT_CURRENT_TIMESTAMP);
    cr_assert_eq(t.cols[3].dflt.kind, SCH_DFLT_NONE);
    cr_assert_eq(t.cols[4].dflt.kind, SCH_DFLT_EXPR);
    cr_assert_str_eq(t.cols[4].dflt.p, "1+2");
    cr_assert_eq(t.cols[4].dflt.n, 3);
    /* SQLite accepts these in the DDL and fails when it evaluates them. */
    cr_assert_eq(t.cols[5].dflt.kind, SCH_DFLT_EXPR);
    cr_assert_str_eq(t.cols[5].dflt.p, "0x1ffffffffffffffff");
    cr_assert_eq(t.cols[6].dflt.kind, SCH_DFLT_EXPR);
    cr_assert_str_eq(t.cols[6].dflt.p, "-0x8000000000000000");
    /* Digit separators (SQLite 3.46). */
    cr_assert_eq(t.cols[7].dflt.kind, SCH_DFLT_INTEGER);
    cr_assert_eq(t.cols[7].dflt.i, 1000);
    cr_assert_eq(t.cols[8].dflt.kind, SCH_DFLT_TEXT);
    cr_assert_str_eq(t.cols[8].dflt.p, "two");
    cr_assert_eq(t.cols[9].dflt.kind, SCH_DFLT_EXPR);
    cr_assert_eq(t.cols[10].dflt.kind, SCH_DFLT_REAL);
    cr_assert(signbit(t.cols[10].dflt.r));
    cr_assert_eq(t.cols[11].dflt.kind, SCH_DFLT_CURRENT_TIME);
    sch_table_free(&t);
}

/* ---- Rowid alias and automatic indexes against sqlite_schema ---- */

typedef struct sq_key {
    int cid, desc;
    char coll[64];
} sq_key;

/* Key columns of an index from PRAGMA index_xinfo. */
static int sqlite_index_keys(sqlite3 *db, const char *index, sq_key *out, int max)
{
    char sql[256];
    int n = 0;
    snprintf(sql, sizeof sql,
             "SELECT cid, desc, coll FROM pragma_index_xinfo('%s') WHERE key ORDER BY seqno",
             index);
    sqlite3_stmt *st = prepare(db, sql);
    while (sqlite3_step(st) == SQLITE_ROW && n < max) {
        out[n].cid = sqlite3_column_int(st, 0);
        out[n].desc = sqlite3_column_int(st, 1);
        snprintf(out[n].coll, sizeof out[n].coll, "%s", col_text(st, 2));
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

static void compare_keys(const char *sql, const char *what, const sch_keycol *kc, int n,
                         const sq_key *sk, int sn)
{
    cr_assert_eq(n, sn, "%s: %s: %d keys, sqlite %d", sql, what, n, sn);
    for (int k = 0; k < n; k++) {
        cr_assert_eq(kc[k].col, sk[k].cid, "%s: %s key %d", sql, what, k);
        cr_assert_eq(kc[k].desc, sk[k].desc, "%s: %s key %d", sql, what, k);
        cr_assert(sch_ident_eq(kc[k].collation_name, sk[k].coll), "%s: %s key %d: %s vs %s", sql,
                  what, k, kc[k].collation_name, sk[k].coll);
        cr_assert_eq(kc[k].collation, sch_collation_of(sk[k].coll));
    }
}

/* Compare everything folio derives about keys with what SQLite built. */
static void check_table_keys(sqlite3 *db, const char *sql, const sch_table *t)
{
    sq_key sk[64];
    char name[128];
    int seen[64] = {0};
    sqlite3_stmt *st;

    /* Automatic indexes with an sqlite_schema row. */
    st = prepare(db, "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 't' "
                     "AND name LIKE 'sqlite_autoindex_%'");
    int nschema = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *iname = col_text(st, 0);
        int num = atoi(iname + strlen("sqlite_autoindex_t_"));
        const sch_autoindex *ai = NULL;
        for (int k = 0; k < t->nauto; k++)
            if (t->autoidx[k].num == num)
                ai = &t->autoidx[k];
        cr_assert_not_null(ai, "%s: folio has no %s", sql, iname);
        cr_assert(ai->unique);
        int sn = sqlite_index_keys(db, iname, sk, 64);
        compare_keys(sql, iname, ai->cols, ai->ncols, sk, sn);
        nschema++;
    }
    sqlite3_finalize(st);
    cr_assert_eq(t->nauto, nschema, "%s: folio %d automatic indexes, sqlite %d", sql, t->nauto,
                 nschema);
    for (int k = 0; k < t->nauto; k++) {
        cr_assert(t->autoidx[k].num > 0 && t->autoidx[k].num < 64);
        cr_assert(!seen[t->autoidx[k].num], "%s: number %d twice", sql, t->autoidx[k].num);
        seen[t->autoidx[k].num] = 1;
        cr_assert(k == 0 || t->autoidx[k].num > t->autoidx[k - 1].num);
    }

    /* The primary key: an index with origin 'pk', or none for the rowid alias. */
    st = prepare(db, "SELECT name FROM pragma_index_list('t') WHERE origin = 'pk'");
    int has_pk_index = sqlite3_step(st) == SQLITE_ROW;
    snprintf(name, sizeof name, "%s", has_pk_index ? col_text(st, 0) : "");
    sqlite3_finalize(st);
    st = prepare(db, "SELECT count(*) FROM pragma_table_info('t') WHERE pk > 0");
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    int npkcols = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    cr_assert_eq(t->npk > 0, npkcols > 0, "%s", sql);
    if (t->ipk >= 0) {
        cr_assert(!has_pk_index, "%s: folio says rowid alias, sqlite has %s", sql, name);
        cr_assert_eq(t->npk, 1);
        cr_assert_eq(t->pk[0].col, t->ipk);
        cr_assert(!t->without_rowid);
    } else if (t->npk > 0) {
        cr_assert(has_pk_index, "%s: sqlite made column %s a rowid alias", sql,
                  t->cols[t->pk[0].col].name);
        int sn = sqlite_index_keys(db, name, sk, 64);
        compare_keys(sql, "primary key", t->pk, t->npk, sk, sn);
        int num = atoi(name + strlen("sqlite_autoindex_t_"));
        for (int k = 0; k < t->nauto; k++)
            cr_assert_eq(t->autoidx[k].is_pk, t->autoidx[k].num == num, "%s", sql);
        if (t->without_rowid)
            cr_assert(!seen[num], "%s: WITHOUT ROWID key listed as automatic index", sql);
    }
    /* A rowid alias really is the rowid. */
    int insertable = t->ipk >= 0;
    for (int k = 0; k < t->ncols; k++)
        insertable &= k == t->ipk || !t->cols[k].notnull;
    if (insertable) {
        char ins[128];
        snprintf(ins, sizeof ins, "INSERT INTO t(\"%s\") VALUES(42)", t->cols[t->ipk].name);
        exec(db, ins);
        st = prepare(db, "SELECT rowid FROM t");
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        cr_assert_eq(sqlite3_column_int(st, 0), 42, "%s", sql);
        sqlite3_finalize(st);
    }
}

static const char *const key_cases[] = {
    "CREATE TABLE t(a UNIQUE, b, PRIMARY KEY(b), UNIQUE(a,b))",
    "CREATE TABLE t(a UNIQUE, b, UNIQUE(a), PRIMARY KEY(a), UNIQUE(b COLLATE nocase), UNIQUE(b))",
    "CREATE TABLE t(a TEXT PRIMARY KEY, b UNIQUE) WITHOUT ROWID",
    "CREATE TABLE t(a INTEGER PRIMARY KEY, b UNIQUE) WITHOUT ROWID",
    "CREATE TABLE t(b UNIQUE, a TEXT PRIMARY KEY) WITHOUT ROWID",
    "CREATE TABLE t(a UNIQUE, b, PRIMARY KEY(a)) WITHOUT ROWID",
    "CREATE TABLE t(id INTEGER PRIMARY KEY UNIQUE, b)",
    "CREATE TABLE t(id INTEGER PRIMARY KEY, b, UNIQUE(id))",
    "CREATE TABLE t(a, b, UNIQUE(a DESC), UNIQUE(a))",
    "CREATE TABLE t(a, b, UNIQUE(a,a), PRIMARY KEY(b,b))",
    "CREATE TABLE t(a, b, c, PRIMARY KEY(a,b,a,c)) WITHOUT ROWID",
    "CREATE TABLE t(a, b, PRIMARY KEY(a, b, a COLLATE nocase, b)) WITHOUT ROWID",
    "CREATE TABLE t(id INTEGER PRIMARY KEY DESC, b)",
    "CREATE TABLE t(id INTEGER, b, PRIMARY KEY(id DESC))",
    "CREATE TABLE t(id INTEGER PRIMARY KEY UNIQUE, b) WITHOUT ROWID",
    "CREATE TABLE t(a TEXT PRIMARY KEY COLLATE nocase, b UNIQUE COLLATE rtrim, UNIQUE(b))",
    "CREATE TABLE t(a PRIMARY KEY, b UNIQUE, UNIQUE(a)) WITHOUT ROWID",
    "CREATE TABLE t(a PRIMARY KEY UNIQUE, b)",
    "CREATE TABLE t(a UNIQUE PRIMARY KEY, b)",
    "CREATE TABLE t(a int, b, c, UNIQUE(b, b, c), PRIMARY KEY(a desc)) WITHOUT ROWID",
    "CREATE TABLE t(a integer, b, PRIMARY KEY(a desc)) WITHOUT ROWID",
    "CREATE TABLE t(x 'INTEGER' PRIMARY KEY, y)",
    "CREATE TABLE t(x [integer] PRIMARY KEY, y)",
    "CREATE TABLE t(x INT PRIMARY KEY, y)",
    "CREATE TABLE t(x integer(10) PRIMARY KEY, y)",
    "CREATE TABLE t(x UNSIGNED INTEGER PRIMARY KEY, y)",
    "CREATE TABLE t(x INTEGER PRIMARY KEY ASC, y)",
    "CREATE TABLE t(x INTEGER, y, PRIMARY KEY(x COLLATE nocase))",
    "CREATE TABLE t(x INTEGER, y, PRIMARY KEY(x AUTOINCREMENT))",
    "CREATE TABLE t(x INTEGER PRIMARY KEY ON CONFLICT REPLACE, y)",
    "CREATE TABLE t(x INTEGER NOT NULL PRIMARY KEY COLLATE nocase, y)",
    "CREATE TABLE t(x INTEGER, y, PRIMARY KEY(x, y))",
    "CREATE TABLE t(x, y UNIQUE ON CONFLICT REPLACE, UNIQUE(y) ON CONFLICT REPLACE)",
    "CREATE TABLE t(x, y UNIQUE, UNIQUE(y) ON CONFLICT IGNORE)",
    "CREATE TABLE t(x, y, UNIQUE(y, x), UNIQUE(x, y), UNIQUE(\"y\", 'x'), UNIQUE((x), (y)))",
    ("CREATE TABLE t(x COLLATE nocase UNIQUE, y, UNIQUE(x COLLATE binary), "
     "UNIQUE(x COLLATE NOCASE))"),
    "CREATE TABLE t(x, y, UNIQUE(x) PRIMARY KEY(y) UNIQUE(y))",
    "CREATE TABLE t(x, y, CONSTRAINT a UNIQUE(x), CONSTRAINT b PRIMARY KEY(x, y))",
};

Test(schema_parse, keys_match_sqlite)
{
    for (size_t k = 0; k < sizeof key_cases / sizeof *key_cases; k++) {
        sqlite3 *db = open_db();
        exec(db, key_cases[k]);
        sch_table t = parse_ok(key_cases[k]);
        check_table_keys(db, key_cases[k], &t);
        sch_table_free(&t);
        sqlite3_close(db);
    }
}

Test(schema_parse, autoindex_fields)
{
    sch_table t = parse_ok(key_cases[1]);
    cr_assert_eq(t.nauto, 3);
    cr_assert(t.autoidx[0].is_pk && !t.autoidx[1].is_pk && !t.autoidx[2].is_pk);
    cr_assert_eq(t.autoidx[1].cols[0].collation, SCH_COLL_NOCASE);
    sch_table_free(&t);
    t = parse_ok(key_cases[2]);
    cr_assert_eq(t.nauto, 1);
    cr_assert_eq(t.autoidx[0].num, 2); /* _1 is the WITHOUT ROWID key */
    sch_table_free(&t);
    t = parse_ok(key_cases[32]);
    cr_assert_eq(t.nauto, 1);
    cr_assert_eq(t.autoidx[0].onconflict, SCH_OC_REPLACE);
    sch_table_free(&t);
    t = parse_ok(key_cases[29]);
    cr_assert_eq(t.pk_onconflict, SCH_OC_REPLACE);
    sch_table_free(&t);
}

/* A stand-in for an application's collation "x" (folio only needs its name). */
static int collate_x(void *arg, int na, const void *a, int nb, const void *b)
{
    (void)arg;
    int r = memcmp(a, b, (size_t)(na < nb ? na : nb));
    return r ? r : na - nb;
}

/* Random tables: SQLite and folio accept the same ones and agree on keys. */
Test(schema_parse, random_tables_match_sqlite)
{
    static const char *const types[] = {"", " INTEGER", " INT", " TEXT", " integer", " 'INTEGER'"};
    static const char *const ccons[] = {" PRIMARY KEY",
                                        " PRIMARY KEY DESC",
                                        " PRIMARY KEY ASC",
                                        " UNIQUE",
                                        " COLLATE NOCASE",
                                        " COLLATE rtrim",
                                        " NOT NULL",
                                        " UNIQUE ON CONFLICT REPLACE",
                                        " UNIQUE ON CONFLICT IGNORE",
                                        " PRIMARY KEY AUTOINCREMENT",
                                        " DEFAULT 1",
                                        " CHECK(c0 > 0)",
                                        " REFERENCES t(c0)",
                                        " PRIMARY KEY ON CONFLICT IGNORE",
                                        " AS (1)",
                                        " COLLATE x"};
    static const char *const kmods[] = {"",
                                        "",
                                        " COLLATE NOCASE",
                                        " DESC",
                                        " ASC",
                                        " COLLATE binary",
                                        " COLLATE RTRIM DESC",
                                        " COLLATE X"};
    uint64_t seed = seed_rng("random_tables");
    int accepted = 0;
    for (int round = 0; round < 3000; round++) {
        char sql[1024];
        int ncols = 1 + (int)(rng_next() % 4);
        snprintf(sql, sizeof sql, "CREATE TABLE t(");
        for (int c = 0; c < ncols; c++) {
            snprintf(sql + strlen(sql), sizeof sql - strlen(sql), "%sc%d%s", c ? ", " : "", c,
                     types[rng_next() % 6]);
            int nc = (int)(rng_next() % 3);
            for (int j = 0; j < nc; j++)
                strcat(sql, ccons[rng_next() % (sizeof ccons / sizeof *ccons)]);
        }
        int ntc = (int)(rng_next() % 4);
        for (int j = 0; j < ntc; j++) {
            strcat(sql, rng_next() % 3 ? ", " : " ");
            strcat(sql, rng_next() % 3 ? "UNIQUE(" : "PRIMARY KEY(");
            int nk = 1 + (int)(rng_next() % 3);
            for (int i = 0; i < nk; i++)
                snprintf(sql + strlen(sql), sizeof sql - strlen(sql), "%sc%d%s", i ? ", " : "",
                         (int)(rng_next() % (uint64_t)ncols),
                         kmods[rng_next() % (sizeof kmods / sizeof *kmods)]);
            strcat(sql, ")");
            if (rng_next() % 4 == 0)
                strcat(sql, rng_next() % 2 ? " ON CONFLICT ABORT" : " ON CONFLICT REPLACE");
        }
        strcat(sql, ")");
        if (rng_next() % 3 == 0)
            strcat(sql, " WITHOUT ROWID");

        sqlite3 *db = open_db();
        sqlite3_create_collation(db, "x", SQLITE_UTF8, NULL, collate_x);
        sch_table t;
        char err[256];
        int theirs = try_exec(db, sql);
        int ours = sch_parse_table(&t, sql, err, sizeof err);
        cr_assert_eq(ours, theirs, "seed=%llu [%s]: folio %s, sqlite %s", (unsigned long long)seed,
                     sql, ours ? err : "accepts", theirs ? sqlite3_errmsg(db) : "accepts");
        if (ours == 0) {
            check_table_keys(db, sql, &t);
            sch_table_free(&t);
            accepted++;
        } else {
            cr_assert_str_eq(err, sqlite3_errmsg(db), "seed=%llu [%s]", (unsigned long long)seed,
                             sql);
        }
        sqlite3_close(db);
    }
    cr_assert_gt(accepted, 300);
}

/* ---- Errors ---- */

Test(schema_parse, errors_match_sqlite)
{
    /* SQLite's own message where folio replicates the check, else NULL. */
    static const struct {
        const char *sql, *msg;
    } cases[] = {
        {"CREATE TABLE t(a INT PRIMARY KEY AUTOINCREMENT)",
         "AUTOINCREMENT is only allowed on an INTEGER PRIMARY KEY"},
        {"CREATE TABLE t(x integer primary key desc autoincrement)",
         "AUTOINCREMENT is only allowed on an INTEGER PRIMARY KEY"},
        {"CREATE TABLE t(x, y, primary key(x autoincrement))",
         "AUTOINCREMENT is only allowed on an INTEGER PRIMARY KEY"},
        {"CREATE TABLE t(x integer primary key autoincrement) without rowid",
         "AUTOINCREMENT not allowed on WITHOUT ROWID tables"},
        {"CREATE TABLE t(a) WITHOUT ROWID", "PRIMARY KEY missing on table t"},
        {"CREATE TABLE t(a, b, A)", "duplicate column name: A"},
        {"CREATE TABLE t(a PRIMARY KEY, b PRIMARY KEY)",
         "table \"t\" has more than one primary key"},
        {"CREATE TABLE t(x integer primary key, y, primary key(y))",
         "table \"t\" has more than one primary key"},
        {"CREATE TABLE t(a) STRICT", "missing datatype for t.a"},
        {"CREATE TABLE t(a VARCHAR) STRICT", "unknown datatype for t.a: \"VARCHAR\""},
        {"CREATE TABLE t(a) WITHOUT x", "unknown table option: x"},
        {"CREATE TABLE t(a) foo", "unknown table option: foo"},
        {"CREATE TABLE t(a) WITHOUT \"rowid\"", "unknown table option: \"rowid\""},
        {"CREATE TABLE t(x, primary key(y))", "no such column: y"},
        {"CREATE TABLE t(x, unique(y))", "no such column: y"},
        {"CREATE TABLE t(x, primary key(x+1))",
         "expressions prohibited in PRIMARY KEY and UNIQUE constraints"},
        {"CREATE TABLE t(x, primary key(x nulls first))", "unsupported use of NULLS FIRST"},
        {"CREATE TABLE t(x as (1), y as (2))", "must have at least one non-generated column"},
        {"CREATE TABLE t(x as (1) primary key, y)",
         "generated columns cannot be part of the PRIMARY KEY"},
        {"CREATE TABLE t(x integer primary key as (1), y)",
         "generated columns cannot be part of the PRIMARY KEY"},
        {"CREATE TABLE t(x as (1), y, primary key(x))",
         "generated columns cannot be part of the PRIMARY KEY"},
        {"CREATE TABLE t(x as (1) default 3, y)", "cannot use DEFAULT on a generated column"},
        {"CREATE TABLE t(x as (1) foo, y)", "error in generated column \"x\""},
        {"CREATE TABLE t(x unique on conflict replace unique on conflict ignore)",
         "conflicting ON CONFLICT clauses specified"},
        {"CREATE TABLE t(x, foreign key(y) references u)",
         "unknown column \"y\" in foreign key definition"},
        {"CREATE TABLE t(x,)", "near \")\": syntax error"},
        {"CREATE TABLE t()", "near \")\": syntax error"},
        {"CREATE TABLE t(x int) strict strict", "near \"strict\": syntax error"},
        {"CREATE TABLE t(x int primary key) without rowid,, strict", "near \",\": syntax error"},
        {"CREATE TABLE t(x left)", "near \"left\": syntax error"},
        {"CREATE TABLE t(x int(a))", "near \"a\": syntax error"},
        {"CREATE TABLE t(x default -y)", "near \"y\": syntax error"},
        {"CREATE TABLE t(x default - -1)", "near \"-\": syntax error"},
        {"CREATE TABLE t(x default 'a' 'b')", "near \"'b'\": syntax error"},
        {"CREATE TABLE t(x default +true)", "near \"true\": syntax error"},
        {"CREATE TABLE t(x as (1) stored stored, y)", "near \"stored\": syntax error"},
        {"CREATE TABLE t(x check())", "near \")\": syntax error"},
        {"CREATE TABLE t(x default ())", "near \")\": syntax error"},
        {"CREATE TABLE if(x)", NULL},
        {"CREATE TABLE t(x default 1_)", NULL},
        {"CREATE TABLE t(x default x'0')", NULL},
        {"CREATE TABLE t(x default 12abc)", NULL},
        {"CREATE TABLE t(x default 0x)", NULL},
        {"CREATE TABLE t(x) ; x", NULL},
        {"CREATE TABLE t(x) )", NULL},
        {"CREATE TABLE t(x check(x;))", NULL},
        {"CREATE TABLE t(x, primary key(x asc desc))", NULL},
        {"CREATE TABLE t(x NOT)", NULL},
        {"CREATE TABLE t(x REFERENCES)", NULL},
        {"CREATE TABLE t(x REFERENCES u ON)", NULL},
        {"CREATE TABLE t(x REFERENCES u ON DELETE SET)", NULL},
        {"CREATE TABLE t(x PRIMARY)", NULL},
        {"CREATE TABLE t(x UNIQUE ON CONFLICT)", NULL},
        {"CREATE TABLE t(x UNIQUE ON CONFLICT maybe)", NULL},
        {"CREATE TABLE t(x COLLATE)", NULL},
        {"CREATE TABLE t(PRIMARY KEY(x))", NULL},
        {"CREATE TABLE t(x, PRIMARY KEY(x) y)", NULL},
        {"CREATE TABLE t(x, CHECK(x) , )", NULL},
        {"CREATE TABLE t(x ?)", NULL},
        {"CREATE TABLE t(x #)", NULL},
        {"CREATE TABLE t(x !)", NULL},
        {"CREATE TABLE t(x DEFAULT :a)", NULL},
        {"CREATE TABLE t", NULL},
        {"CREATE TABLE", NULL},
        {"CREATE", NULL},
        {"CREATE TABLE t(x) WITHOUT", NULL},
        {"CREATE TABLE main.(x)", NULL},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        sqlite3 *db = open_db();
        int theirs = try_exec(db, cases[k].sql);
        cr_assert_eq(theirs, -1, "sqlite accepts [%s]", cases[k].sql);
        if (cases[k].msg)
            cr_assert_str_eq(sqlite3_errmsg(db), cases[k].msg, "%s", cases[k].sql);
        sqlite3_close(db);
        parse_fails(cases[k].sql, cases[k].msg);
    }
}

Test(schema_parse, unsupported_statements)
{
    /* Not CREATE TABLE at all (SQLite runs these fine). */
    parse_fails("", "incomplete input");
    parse_fails("   -- nothing", "incomplete input");
    parse_fails("SELECT 1", "near \"SELECT\": syntax error");
    parse_fails(";", NULL);
    parse_fails("CREATE TABLE t AS SELECT 1", "CREATE TABLE ... AS SELECT is not supported");
    parse_fails("CREATE VIRTUAL TABLE v USING fts5(a, b)",
                "CREATE VIRTUAL TABLE is not supported (module fts5)");
    parse_fails("CREATE VIRTUAL TABLE v", "CREATE VIRTUAL TABLE is not supported");
    parse_fails("CREATE INDEX i ON t(a)", "not a CREATE TABLE statement");
    parse_fails("CREATE VIEW v AS SELECT 1", "not a CREATE TABLE statement");
    sch_index ix;
    char err[128];
    cr_assert_eq(sch_parse_index(&ix, "CREATE TABLE t(a)", NULL, err, sizeof err), -1);
    cr_assert_str_eq(err, "not a CREATE INDEX statement");
    cr_assert_eq(sch_parse_table(NULL, "CREATE TABLE t(a)", err, sizeof err), -1);
    cr_assert_eq(sch_parse_index(NULL, "CREATE INDEX i ON t(a)", NULL, err, sizeof err), -1);
    sch_table t;
    cr_assert_eq(sch_parse_table(&t, NULL, err, sizeof err), -1);
    cr_assert_eq(sch_parse_table(&t, "CREATE TABLE t(", NULL, 0), -1);
    sch_table_free(NULL);
    sch_index_free(NULL);
}

Test(schema_parse, unterminated_input_is_an_error)
{
    static const char *const cases[] = {
        "CREATE TABLE t(a DEFAULT 'abc)",
        "CREATE TABLE \"t(a)",
        "CREATE TABLE [t(a)",
        "CREATE TABLE `t(a)",
        "CREATE TABLE t(a) /* comment",
        "CREATE TABLE t(a CHECK((a))",
        "CREATE TABLE t(a CHECK(a)))",
        "CREATE TABLE t(a DEFAULT x'00)",
        "CREATE TABLE t(a, b",
        "CREATE TABLE t(a CHECK(')'",
        "CREATE INDEX i ON t(a",
        "CREATE INDEX i ON t(a) WHERE (a",
        "CREATE INDEX i ON t(a) WHERE 'a",
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char err[128] = "";
        if (strncmp(cases[k], "CREATE INDEX", 12) == 0) {
            sch_index ix;
            cr_assert_eq(sch_parse_index(&ix, cases[k], NULL, err, sizeof err), -1, "%s", cases[k]);
        } else {
            parse_fails(cases[k], NULL);
            sch_table t;
            sch_parse_table(&t, cases[k], err, sizeof err);
        }
        cr_assert_neq(err[0], 0, "%s", cases[k]);
    }
    parse_fails("CREATE TABLE t(a DEFAULT 'abc)", "unterminated string: 'abc)");
    parse_fails("CREATE TABLE t(a) /* comment", "unterminated comment");
    parse_fails("CREATE TABLE t(a CHECK((a))", "incomplete input: unclosed parenthesis");
    /* A line comment may end the input. */
    sch_table t = parse_ok("CREATE TABLE t(a) -- done");
    sch_table_free(&t);
}

/* ---- CREATE INDEX ---- */

static const char *const index_table =
    "CREATE TABLE t(a, B COLLATE nocase, c INTEGER PRIMARY KEY, \"d e\" TEXT, [left])";

Test(schema_parse, create_index_matches_sqlite)
{
    static const char *const cases[] = {
        "CREATE INDEX i ON t(a)",
        "CREATE INDEX i ON t((a))",
        "CREATE INDEX i ON t((a) collate nocase desc)",
        "CREATE INDEX i ON t(a collate nocase collate rtrim)",
        "CREATE INDEX i ON t((a collate nocase) collate rtrim)",
        "CREATE INDEX i ON t('a')",
        "CREATE INDEX i ON t(\"a\")",
        "CREATE INDEX i ON t(\"zz\")",
        "CREATE INDEX i ON t('zz')",
        "CREATE INDEX i ON t(zz)",
        "CREATE INDEX i ON t([zz])",
        "CREATE INDEX i ON t(rowid)",
        "CREATE INDEX i ON t(oid, _rowid_)",
        "CREATE INDEX i ON t(a, a)",
        "CREATE INDEX i ON t(+a)",
        "CREATE INDEX i ON t(a+0)",
        "CREATE INDEX i ON t(b)",
        "CREATE INDEX i ON t(B collate binary)",
        "CREATE INDEX i ON t(c)",
        "CREATE INDEX i ON t(c desc, \"d e\", [left])",
        "CREATE INDEX i ON t(left)",
        "CREATE INDEX i ON t(a nulls last)",
        "CREATE INDEX i ON t(a asc nulls first)",
        "CREATE INDEX i ON t(a) where b > 0",
        "CREATE INDEX i ON t(a) where a = ')' and (b < 1)",
        "CREATE UNIQUE INDEX IF NOT EXISTS main.i ON t(a)",
        "CREATE INDEX i ON main.t(a)",
        "CREATE INDEX 'i' ON 't'(a)",
        "CREATE INDEX i ON t(1)",
        "CREATE INDEX i ON t(-1)",
        "CREATE INDEX i ON t(NULL)",
        "CREATE INDEX i ON t(x'00')",
        "CREATE INDEX i ON t((a+1) collate nocase)",
        "CREATE INDEX i ON t(a COLLATE nocase ASC, b DESC)",
        "CREATE INDEX i ON t(a asc desc)",
        "CREATE INDEX i ON t(a),",
        "CREATE INDEX i ON t()",
        "CREATE INDEX i ON t(a) where",
        "CREATE INDEX i ON t(t.a)",
        "CREATE INDEX i ON t(a) ;",
        "CREATE INDEX i ON T(A)",
        "CREATE INDEX i ON t(abs(a), lower(\"d e\"))",
        "CREATE INDEX i ON t(\"d e\" || 'x')",
        "CREATE INDEX i ON t(a COLLATE DESC)",
        "CREATE INDEX i ON t(a COLLATE asc DESC)",
    };
    sch_table tbl = parse_ok(index_table);
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        const char *sql = cases[k];
        sqlite3 *db = open_db();
        sqlite3_create_collation(db, "desc", SQLITE_UTF8, NULL, collate_x);
        sqlite3_create_collation(db, "asc", SQLITE_UTF8, NULL, collate_x);
        exec(db, index_table);
        sch_index ix;
        char err[256];
        int theirs = try_exec(db, sql);
        int ours = sch_parse_index(&ix, sql, &tbl, err, sizeof err);
        cr_assert_eq(ours, theirs, "[%s]: folio %s, sqlite %s", sql, ours ? err : "accepts",
                     theirs ? sqlite3_errmsg(db) : "accepts");
        if (ours < 0) {
            if (strstr(sqlite3_errmsg(db), "syntax error") == NULL &&
                strstr(sqlite3_errmsg(db), "incomplete") == NULL)
                cr_assert_str_eq(err, sqlite3_errmsg(db), "%s", sql);
            sqlite3_close(db);
            continue;
        }
        cr_assert_str_eq(ix.name, "i");
        cr_assert(sch_ident_eq(ix.table, "t"));
        sq_key sk[16];
        int sn = sqlite_index_keys(db, "i", sk, 16);
        compare_keys(sql, "index", ix.cols, ix.ncols, sk, sn);
        int has_expr = 0;
        for (int j = 0; j < ix.ncols; j++) {
            cr_assert_not_null(ix.cols[j].text);
            has_expr |= ix.cols[j].col == SCH_KEY_EXPR;
        }
        cr_assert_eq(ix.has_expr, has_expr);
        sqlite3_stmt *st = prepare(db, "SELECT \"unique\", partial FROM pragma_index_list('t') "
                                       "WHERE name = 'i'");
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        cr_assert_eq(ix.unique, sqlite3_column_int(st, 0), "%s", sql);
        cr_assert_eq(ix.partial, sqlite3_column_int(st, 1), "%s", sql);
        sqlite3_finalize(st);
        sch_index_free(&ix);
        sqlite3_close(db);
    }
    sch_table_free(&tbl);
}

Test(schema_parse, create_index_fields)
{
    sch_table tbl = parse_ok(index_table);
    sch_index ix;
    char err[256];
    cr_assert_eq(sch_parse_index(&ix,
                                 "CREATE UNIQUE INDEX IF NOT EXISTS main.\"I x\" ON t(\"d e\" "
                                 "DESC, abs(a) COLLATE nocase, B) WHERE a > 0",
                                 &tbl, err, sizeof err),
                 0, "%s", err);
    cr_assert_str_eq(ix.schema_name, "main");
    cr_assert_str_eq(ix.name, "I x");
    cr_assert_str_eq(ix.table, "t");
    cr_assert(ix.unique && ix.if_not_exists && ix.partial && ix.has_expr);
    cr_assert_eq(ix.ncols, 3);
    cr_assert_eq(ix.cols[0].col, 3);
    cr_assert(ix.cols[0].desc);
    cr_assert_str_eq(ix.cols[0].text, "d e");
    cr_assert_eq(ix.cols[1].col, SCH_KEY_EXPR);
    cr_assert_str_eq(ix.cols[1].text, "abs(a) COLLATE nocase");
    cr_assert_eq(ix.cols[1].collation, SCH_COLL_NOCASE);
    cr_assert_eq(ix.cols[2].col, 1);
    cr_assert_eq(ix.cols[2].collation, SCH_COLL_NOCASE);
    sch_index_free(&ix);

    /* Without a table: names stay unresolved, the table name is known. */
    cr_assert_eq(sch_parse_index(&ix, "CREATE INDEX i ON u(x, y+1, \"z\" COLLATE rtrim)", NULL, err,
                                 sizeof err),
                 0, "%s", err);
    cr_assert_str_eq(ix.table, "u");
    cr_assert_eq(ix.cols[0].col, SCH_KEY_UNRESOLVED);
    cr_assert_str_eq(ix.cols[0].text, "x");
    cr_assert_eq(ix.cols[1].col, SCH_KEY_EXPR);
    cr_assert_eq(ix.cols[2].col, SCH_KEY_UNRESOLVED);
    cr_assert_eq(ix.cols[2].collation, SCH_COLL_RTRIM);
    sch_index_free(&ix);

    cr_assert_eq(sch_parse_index(&ix, "CREATE INDEX i ON u(a)", &tbl, err, sizeof err), -1);
    cr_assert_str_eq(err, "index i is on table u, not t");
    sch_table_free(&tbl);
}

/* ---- Robustness ---- */

static const char *const corpus[] = {
    "CREATE TABLE t(a INTEGER PRIMARY KEY AUTOINCREMENT, b TEXT NOT NULL DEFAULT 'x''y', c "
    "REAL CHECK(c > 0.5) UNIQUE ON CONFLICT REPLACE, d BLOB DEFAULT x'00ff', e COLLATE nocase "
    "REFERENCES u(x) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED)",
    "CREATE TABLE IF NOT EXISTS main.\"q\"\"t\"([a b] VARCHAR(10, -2), `c` DEFAULT (1 + (2)), "
    "'d' AS (a || ')') STORED, PRIMARY KEY([a b] DESC, `c` COLLATE rtrim), UNIQUE(c), CHECK "
    "(a != '(') ON CONFLICT FAIL, FOREIGN KEY(c) REFERENCES u(y) MATCH FULL) WITHOUT ROWID, "
    "STRICT",
    "CREATE TEMP TABLE x(k /* c */ INT -- line\n PRIMARY KEY DESC, v DEFAULT -0x10, w DEFAULT "
    "+1.5e-3, z DEFAULT CURRENT_TIMESTAMP, y GENERATED ALWAYS AS (k * 2) VIRTUAL, CONSTRAINT c "
    "UNIQUE(v, w))",
    ("CREATE UNIQUE INDEX IF NOT EXISTS main.i ON t(a COLLATE nocase DESC, (b), lower(c) ASC) "
     "WHERE a > 0 AND b IN (1, 2, ')')"),
    "CREATE INDEX \"i i\" ON 't'([a], \"zz\", 'b' COLLATE rtrim, a + -1)",
};

static void parse_any(const char *sql, const sch_table *tbl)
{
    char err[64];
    sch_table t;
    sch_index ix;
    memset(err, 'x', sizeof err);
    if (sch_parse_table(&t, sql, err, sizeof err) == 0) {
        cr_assert_gt(t.ncols, 0);
        cr_assert(t.ipk >= -1 && t.ipk < t.ncols);
        for (int k = 0; k < t.ncols; k++)
            cr_assert(t.cols[k].name && t.cols[k].collation_name);
        for (int k = 0; k < t.npk; k++)
            cr_assert(t.pk[k].col >= 0 && t.pk[k].col < t.ncols && t.pk[k].collation_name);
        for (int k = 0; k < t.nauto; k++)
            for (int j = 0; j < t.autoidx[k].ncols; j++)
                cr_assert(t.autoidx[k].cols[j].col >= 0 && t.autoidx[k].cols[j].col < t.ncols);
        sch_table_free(&t);
    } else {
        cr_assert(memchr(err, 0, sizeof err) != NULL, "error message not terminated");
        cr_assert_neq(err[0], 0);
    }
    memset(err, 'x', sizeof err);
    if (sch_parse_index(&ix, sql, tbl, err, sizeof err) == 0) {
        cr_assert_gt(ix.ncols, 0);
        for (int k = 0; k < ix.ncols; k++)
            cr_assert(ix.cols[k].col >= SCH_KEY_UNRESOLVED && ix.cols[k].text &&
                      ix.cols[k].collation_name);
        sch_index_free(&ix);
    } else {
        cr_assert(memchr(err, 0, sizeof err) != NULL, "error message not terminated");
    }
}

/* Run under ASan: truncations and random mutations of valid statements give
 * a result or an error, never a crash, leak or out-of-bounds read. */
Test(schema_parse, random_mutations_do_not_crash)
{
    static const char pieces[] = "()'\"[]`,;.-+*/ \n0x9eE_aZ";
    static const char *const words[] = {"PRIMARY KEY",
                                        "UNIQUE",
                                        "(",
                                        ")",
                                        "'",
                                        "\"",
                                        "--",
                                        "/*",
                                        "*/",
                                        "DEFAULT",
                                        "COLLATE",
                                        "AS",
                                        "WITHOUT ROWID",
                                        ",",
                                        "CHECK(",
                                        "x'",
                                        "0x",
                                        "1e",
                                        "AUTOINCREMENT",
                                        "DESC",
                                        "INTEGER",
                                        "GENERATED ALWAYS",
                                        "REFERENCES",
                                        "ON CONFLICT"};
    uint64_t seed = seed_rng("mutations");
    sch_table tbl = parse_ok("CREATE TABLE t(a, b, c, d, [a b])");
    char buf[1024];
    for (size_t k = 0; k < sizeof corpus / sizeof *corpus; k++) {
        size_t n = strlen(corpus[k]);
        parse_any(corpus[k], &tbl);
        for (size_t cut = 0; cut < n; cut++) {
            /* A heap copy of exactly cut bytes plus NUL, so ASan sees any overread. */
            char *z = malloc(cut + 1);
            memcpy(z, corpus[k], cut);
            z[cut] = 0;
            parse_any(z, &tbl);
            free(z);
        }
    }
    for (int round = 0; round < 30000; round++) {
        const char *src = corpus[rng_next() % (sizeof corpus / sizeof *corpus)];
        size_t n = strlen(src);
        memcpy(buf, src, n + 1);
        int edits = 1 + (int)(rng_next() % 4);
        for (int e = 0; e < edits; e++) {
            size_t pos = n ? rng_next() % n : 0;
            switch (rng_next() % 5) {
            case 0: /* replace a byte */
                if (n)
                    buf[pos] = pieces[rng_next() % (sizeof pieces - 1)];
                break;
            case 1: /* random byte */
                if (n)
                    buf[pos] = (char)(1 + rng_next() % 255);
                break;
            case 2: /* delete a range */
                if (n) {
                    size_t len = 1 + rng_next() % 8;
                    if (pos + len > n)
                        len = n - pos;
                    memmove(buf + pos, buf + pos + len, n - pos - len + 1);
                    n -= len;
                }
                break;
            default: { /* insert a word */
                const char *w = words[rng_next() % (sizeof words / sizeof *words)];
                size_t len = strlen(w);
                if (n + len + 1 < sizeof buf) {
                    memmove(buf + pos + len, buf + pos, n - pos + 1);
                    memcpy(buf + pos, w, len);
                    n += len;
                }
                break;
            }
            }
        }
        char *z = malloc(n + 1);
        memcpy(z, buf, n + 1);
        parse_any(z, &tbl);
        free(z);
    }
    (void)seed;
    sch_table_free(&tbl);
}

/* Deep nesting and huge constraint lists stay linear (no recursion on input). */
Test(schema_parse, deep_nesting_and_many_constraints, .timeout = 120)
{
    enum { DEPTH = 200000, NCONS = 30000 };
    char *sql = malloc(3 * DEPTH + 256);
    strcpy(sql, "CREATE TABLE t(a CHECK(");
    size_t n = strlen(sql);
    memset(sql + n, '(', DEPTH);
    n += DEPTH;
    sql[n++] = 'a';
    memset(sql + n, ')', DEPTH);
    n += DEPTH;
    strcpy(sql + n, ") DEFAULT ");
    n += strlen(sql + n);
    memset(sql + n, '(', DEPTH / 2);
    n += DEPTH / 2;
    sql[n++] = '7';
    memset(sql + n, ')', DEPTH / 2);
    n += DEPTH / 2;
    strcpy(sql + n, ")");
    sch_table t = parse_ok(sql);
    cr_assert(t.cols[0].has_check);
    cr_assert_eq(t.cols[0].dflt.kind, SCH_DFLT_INTEGER);
    cr_assert_eq(t.cols[0].dflt.i, 7);
    sch_table_free(&t);
    free(sql);

    /* Many distinct UNIQUE constraints, and many copies of one. */
    sql = malloc((size_t)NCONS * 40 + 256);
    n = (size_t)sprintf(sql, "CREATE TABLE t(a, b, c");
    for (int k = 0; k < NCONS; k++)
        n += (size_t)sprintf(sql + n, ", UNIQUE(%s COLLATE c%d)", k % 2 ? "a" : "b", k / 2);
    for (int k = 0; k < NCONS; k++)
        n += (size_t)sprintf(sql + n, ", UNIQUE(c)");
    strcpy(sql + n, ")");
    t = parse_ok(sql);
    cr_assert_eq(t.nauto, NCONS + 1);
    cr_assert_eq(t.autoidx[NCONS].num, NCONS + 1);
    sch_table_free(&t);
    free(sql);

    /* One column re-collated again and again: its indexes stay merged. */
    sql = malloc((size_t)NCONS * 40 + 256);
    n = (size_t)sprintf(sql, "CREATE TABLE t(a");
    for (int k = 0; k < NCONS; k++)
        n += (size_t)sprintf(sql + n, " UNIQUE COLLATE c%d", k);
    strcpy(sql + n, ", b UNIQUE)");
    t = parse_ok(sql);
    cr_assert_eq(t.nauto, 2);
    cr_assert_eq(t.autoidx[0].ncols, 1);
    char want[32];
    snprintf(want, sizeof want, "c%d", NCONS - 1);
    cr_assert_str_eq(t.autoidx[0].cols[0].collation_name, want);
    cr_assert_str_eq(t.cols[0].collation_name, want);
    sch_table_free(&t);
    free(sql);

    /* Too many columns, as SQLite's default limit. */
    sql = malloc(2001 * 8 + 64);
    n = (size_t)sprintf(sql, "CREATE TABLE t(c0");
    for (int k = 1; k < 2001; k++)
        n += (size_t)sprintf(sql + n, ", c%d", k);
    strcpy(sql + n, ")");
    parse_fails(sql, "too many columns on t");
    free(sql);
}

/* ---- CHECK constraints: their names and texts ---- */

/* A random spelling of "x <> k" (spaces, comments, a line comment). */
static void check_expr(char *out, size_t n, int k)
{
    static const char *pre[] = {"", " ", "  ", "\t", "/*c*/ ", " /* a */", "\n"};
    static const char *mid[] = {"<>", " <> ", "!=", "  !=\t", " /*m*/ <> "};
    static const char *post[] = {"", " ", "\n", " /*z*/", " -- end\n", "\t "};
    snprintf(out, n, "%sx%s%d%s", pre[rng_next() % 7], mid[rng_next() % 5], k,
             post[rng_next() % 6]);
}

/* A random CONSTRAINT name, quoted in one of SQLite's ways. */
static void cons_name(char *out, size_t n, int i)
{
    switch (rng_next() % 4) {
    case 0:
        snprintf(out, n, "CONSTRAINT n%d ", i);
        break;
    case 1:
        snprintf(out, n, "CONSTRAINT \"n \"\"%d\" ", i);
        break;
    case 2:
        snprintf(out, n, "CONSTRAINT [n%d] ", i);
        break;
    default:
        snprintf(out, n, "constraint `N%d` ", i);
        break;
    }
}

/*
 * Tables whose every CHECK is "x <> k" (k = 1, 2, ...), declared on columns
 * and as table constraints, among CONSTRAINT names, other constraints and
 * optional commas. Inserting x = k into libsqlite3 fails exactly check k:
 * the name in its message must be what the parser kept (the name, else the
 * text).
 */
Test(schema_parse, check_names_match_sqlite)
{
    seed_rng("check_names_match_sqlite");
    for (int round = 0; round < 300; round++) {
        char sql[4096], part[256], ex[128];
        size_t len = 0;
        int k = 0, names = 0;
        len += (size_t)snprintf(sql + len, sizeof sql - len, "CREATE TABLE t(");
        static const char *cols[] = {"x", "y"};
        for (int c = 0; c < 2; c++) {
            len +=
                (size_t)snprintf(sql + len, sizeof sql - len, "%s%s INT", c ? ", " : "", cols[c]);
            int ncons = (int)(rng_next() % 5);
            for (int j = 0; j < ncons; j++) {
                switch (rng_next() % 5) {
                case 0:
                    cons_name(part, sizeof part, ++names);
                    break;
                case 1:
                    snprintf(part, sizeof part, "NOT NULL ");
                    break;
                case 2:
                    snprintf(part, sizeof part, "DEFAULT 7 ");
                    break;
                default:
                    check_expr(ex, sizeof ex, ++k);
                    snprintf(part, sizeof part, "CHECK(%s) ", ex);
                    break;
                }
                len += (size_t)snprintf(sql + len, sizeof sql - len, " %s", part);
            }
        }
        int ntcons = (int)(rng_next() % 6);
        for (int j = 0; j < ntcons; j++) {
            const char *sep = j == 0 || rng_next() % 2 ? ", " : " ";
            switch (rng_next() % 4) {
            case 0:
                cons_name(part, sizeof part, ++names);
                break;
            case 1:
                snprintf(part, sizeof part, "UNIQUE(x, y)");
                break;
            default:
                check_expr(ex, sizeof ex, ++k);
                snprintf(part, sizeof part, "CHECK(%s)", ex);
                break;
            }
            len += (size_t)snprintf(sql + len, sizeof sql - len, "%s%s", sep, part);
        }
        snprintf(sql + len, sizeof sql - len, ")");
        sqlite3 *db = open_db();
        if (try_exec(db, sql) != 0) { /* (a name with nothing after it, say) */
            sch_table t;
            char err[256];
            cr_assert_eq(sch_parse_table(&t, sql, err, sizeof err), -1, "accepted: %s", sql);
            sch_table_free(&t);
            sqlite3_close(db);
            continue;
        }
        sch_table t = parse_ok(sql);
        cr_assert_eq(t.nchecks, k, "%s: %d checks kept, %d written", sql, t.nchecks, k);
        cr_assert_eq(t.has_check, k > 0, "%s", sql);
        for (int i = 0; i < k; i++) {
            char ins[64];
            snprintf(ins, sizeof ins, "INSERT INTO t(x, y) VALUES(%d, 1000)", i + 1);
            cr_assert_neq(try_exec(db, ins), 0, "%s: %s succeeded", sql, ins);
            const char *msg = sqlite3_errmsg(db), *pfx = "CHECK constraint failed: ";
            cr_assert(strncmp(msg, pfx, strlen(pfx)) == 0, "%s: %s", sql, msg);
            const sch_check *ck = &t.checks[i];
            const char *mine = ck->name ? ck->name : ck->text;
            cr_assert_str_eq(mine, msg + strlen(pfx), "%s: check %d", sql, i + 1);
            cr_assert(strstr(ck->text, "<>") || strstr(ck->text, "!="), "%s", ck->text);
        }
        sch_table_free(&t);
        sqlite3_close(db);
    }
}

/* The expressions of generated columns and of a partial index's WHERE. */
Test(schema_parse, generated_and_where_texts)
{
    sch_table t =
        parse_ok("CREATE TABLE g(a, b AS ( a * 2 ) STORED, c GENERATED ALWAYS AS (lower(a)))");
    cr_assert_null(t.cols[0].gen_text);
    cr_assert_str_eq(t.cols[1].gen_text, "a * 2");
    cr_assert_str_eq(t.cols[2].gen_text, "lower(a)");
    sch_index ix;
    char err[256];
    cr_assert_eq(sch_parse_index(&ix, "CREATE INDEX i ON g(a) WHERE b IS NOT NULL AND (a > 1) ;",
                                 &t, err, sizeof err),
                 0, "%s", err);
    cr_assert_str_eq(ix.where_text, "b IS NOT NULL AND (a > 1)");
    sch_index_free(&ix);
    cr_assert_eq(sch_parse_index(&ix, "CREATE INDEX i ON g(a)", &t, err, sizeof err), 0, "%s", err);
    cr_assert_null(ix.where_text);
    sch_index_free(&ix);
    sch_table_free(&t);
}
