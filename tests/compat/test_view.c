/*
 * test_view.c - CREATE VIEW through folio_exec, against libsqlite3 running
 * the same statement on a copy of the file.
 *
 * For every statement (the SELECT grammar in its forms, and malformed
 * ones): both engines succeed or both fail with the same message; the
 * sqlite_schema rows are the same, byte for byte; folio's file passes
 * integrity_check in libsqlite3, and every view of it gives there what the
 * same view gives in libsqlite3's file (its rows, or the same error).
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        cr_assert_not_null(b->p);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* The rows of a query as text, or its error. */
static void dump_query(sbuf *b, sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        sb_str(b, "error: ");
        sb_str(b, sqlite3_errmsg(db));
        sb_str(b, "\n");
        return;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const unsigned char *t = sqlite3_column_text(st, i);
            sb_str(b, sqlite3_column_type(st, i) == SQLITE_NULL ? "NULL" : (const char *)t);
            sb_str(b, "|");
        }
        sb_str(b, "\n");
    }
    if (rc != SQLITE_DONE) {
        sb_str(b, "error: ");
        sb_str(b, sqlite3_errmsg(db));
        sb_str(b, "\n");
    }
    sqlite3_finalize(st);
}

/* sqlite_schema, then what every view gives. */
static char *dump_file(const char *path)
{
    sbuf b = {0};
    sqlite3 *db = compat_sqlite_open_ro(path);
    dump_query(&b, db,
               "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema ORDER BY rowid");
    sqlite3_stmt *st = compat_prepare(db, "SELECT name FROM sqlite_schema WHERE type = 'view' "
                                          "ORDER BY rowid");
    while (sqlite3_step(st) == SQLITE_ROW) {
        char *q = compat_quote((const char *)sqlite3_column_text(st, 0));
        char sql[600];
        snprintf(sql, sizeof sql, "SELECT * FROM %s", q);
        sb_str(&b, "-- ");
        sb_str(&b, q);
        sb_str(&b, "\n");
        dump_query(&b, db, sql);
        free(q);
    }
    sqlite3_finalize(st);
    compat_sqlite_close(db);
    if (!b.p)
        sb_str(&b, "");
    return b.p;
}

static const char setup[] = "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c);"
                            "CREATE TABLE u(x, y, \"z z\");"
                            "CREATE INDEX ti ON t(b);"
                            "CREATE VIEW v0 AS SELECT a FROM t;"
                            "CREATE TRIGGER v0_ins INSTEAD OF INSERT ON v0 BEGIN SELECT 1; END;"
                            "INSERT INTO t VALUES (1, 'x', 3), (2, 'y', NULL), (3, 'x', 4.5);"
                            "INSERT INTO u VALUES (1, 2, 3), (2, 3, 4), (3, 'x', NULL);";

/* Run sql through folio in one write transaction: folio_exec's code, its
 * message in msg. */
static int folio_run(const char *path, const char *sql, char *msg, size_t cap)
{
    folio_db *db = compat_folio_open(path, COMPAT_RW);
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), 0, "%s", folio_errmsg(db));
    int rc = folio_exec(txn, sql);
    snprintf(msg, cap, "%s", rc < 0 ? folio_errmsg(db) : "");
    cr_assert_eq(folio_commit(txn), 0, "commit after %s: %s", sql, folio_errmsg(db));
    cr_assert_eq(folio_close(db), 0);
    return rc;
}

static int sqlite_run(const char *path, const char *sql, char *msg, size_t cap)
{
    sqlite3 *db = compat_sqlite_open(path);
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    snprintf(msg, cap, "%s", err ? err : "");
    sqlite3_free(err);
    compat_sqlite_close(db);
    return rc;
}

/* The statement does the same in both engines. */
static void same(const char *sql)
{
    char *dir = compat_tmpdir();
    char *a = compat_path(dir, "folio.db"), *b = compat_path(dir, "sqlite.db");
    sqlite3 *db = compat_sqlite_open(a);
    compat_exec(db, setup);
    compat_sqlite_close(db);
    compat_copy_db(a, b, 0);
    char fm[512], sm[512];
    int src = sqlite_run(b, sql, sm, sizeof sm);
    int frc = folio_run(a, sql, fm, sizeof fm);
    /* Expectations, not assertions: every statement of a list is tried. */
    if (src == SQLITE_OK)
        cr_expect_eq(frc, 0, "%s: folio refused (%s)", sql, fm);
    else
        cr_expect(frc < 0, "%s: folio accepted, libsqlite3 said %s", sql, sm);
    cr_expect_str_eq(fm, sm, "%s: messages differ: folio \"%s\", libsqlite3 \"%s\"", sql, fm, sm);
    char *ok = compat_integrity(a);
    cr_expect_str_eq(ok, "ok", "%s: integrity_check: %s", sql, ok);
    free(ok);
    char *da = dump_file(a), *dbs = dump_file(b);
    cr_expect_str_eq(da, dbs, "%s: folio's file differs from libsqlite3's", sql);
    free(da);
    free(dbs);
    compat_rmtree(dir);
    free(a);
    free(b);
    free(dir);
}

static void same_all(const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        same(v[i]);
}

#define SAME_ALL(v) same_all(v, sizeof v / sizeof *v)

Test(compat_view, create_forms)
{
    static const char *const stmts[] = {
        "CREATE VIEW v AS SELECT 1",
        "create view v as select * from t",
        "CREATE VIEW  v  AS SELECT 1 -- trailing comment",
        "CREATE VIEW v AS SELECT 1 /* c */ ;  ",
        "CREATE VIEW v AS SELECT 1;;",
        "CREATE VIEW IF NOT EXISTS v AS SELECT b FROM t",
        "CREATE VIEW IF NOT EXISTS v0 AS SELECT b FROM t",
        "CREATE VIEW main.v AS SELECT 1",
        "CREATE VIEW \"main\".\"v w\" AS SELECT 1",
        "CREATE VIEW [v x](p, q) AS SELECT a, b FROM t",
        "CREATE VIEW v(p) AS SELECT a, b FROM t",
        "CREATE VIEW 'str' AS SELECT 1",
        "CREATE VIEW `bq` AS SELECT 1",
        "CREATE VIEW v AS SELECT * FROM nosuch",
        "CREATE VIEW v AS SELECT nosuch FROM t",
        "CREATE VIEW v AS SELECT * FROM main.t",
        "CREATE VIEW v AS SELECT * FROM temp.t",
        "CREATE VIEW v AS SELECT * FROM nosuch.t",
        "CREATE VIEW v AS SELECT * FROM t WHERE a IN temp.u",
        "CREATE VIEW v AS SELECT (SELECT 1 FROM aux.t)",
        "CREATE VIEW v AS SELECT * FROM t UNION SELECT * FROM [x].u",
        "CREATE VIEW v AS WITH c AS (SELECT * FROM temp.t) SELECT * FROM c",
        "CREATE VIEW t AS SELECT 1",
        "CREATE VIEW \"T\" AS SELECT 1",
        "CREATE VIEW v0 AS SELECT 1",
        "CREATE VIEW [V0] AS SELECT 1",
        "CREATE VIEW ti AS SELECT 1",
        "CREATE VIEW IF NOT EXISTS ti AS SELECT 1",
        "CREATE VIEW IF NOT EXISTS t AS SELECT 1",
        "CREATE VIEW v0_ins AS SELECT 1",
        "CREATE VIEW sqlite_v AS SELECT 1",
        "CREATE VIEW SQLite_v AS SELECT 1",
        "CREATE VIEW main.sqlite_master AS SELECT 1",
        "CREATE VIEW nosuch.v AS SELECT 1",
        "CREATE VIEW v AS SELECT ?",
        "CREATE VIEW v AS SELECT :a + @b",
        "CREATE VIEW v AS SELECT ?0",
        "CREATE VIEW v(a COLLATE nocase) AS SELECT 1",
        "CREATE VIEW v(a DESC) AS SELECT 1",
        "CREATE VIEW v() AS SELECT 1",
        "CREATE VIEW v AS",
        "CREATE VIEW v",
        "CREATE VIEW AS SELECT 1",
        "CREATE VIEW v AS SELECT",
        "CREATE VIEW v AS SELECT 1 garbage garbage",
        "CREATE VIEW v AS SELECT 'x' || 'y",
        "CREATE VIEW AS SELECT 'y",
        "CREATE VIEW v AS SELECT 1abc",
        "CREATE VIEW v AS SELECT \"unterminated",
        "CREATE VIEW v AS SELECT sum(a) OVER (ROWS 1 FOLLOWING) 'x",
        "CREATE VIEW if AS SELECT 1",
        "CREATE VIEW v AS SELECT 'unterminated",
        "CREATE VIEW v AS SELECT 1 #",
        "CREATE VIEW v AS SELECT (1",
        "CREATE VIEW v AS SELECT 1)",
        "CREATE VIEW v AS DELETE FROM t",
    };
    SAME_ALL(stmts);
}

Test(compat_view, select_grammar)
{
    static const char *const stmts[] = {
        "CREATE VIEW v AS SELECT DISTINCT b FROM t",
        "CREATE VIEW v AS SELECT ALL b FROM t",
        "CREATE VIEW v AS SELECT t.*, u.* FROM t, u",
        "CREATE VIEW v AS SELECT *, a AS aa, b bb, c 'cc', a AS \"q q\" FROM t",
        "CREATE VIEW v AS SELECT a asc, b offset, c desc FROM t",
        "CREATE VIEW v AS SELECT a left FROM t",
        "CREATE VIEW v AS SELECT a indexed FROM t",
        "CREATE VIEW v AS SELECT left, right FROM (SELECT 1 AS left, 2 AS right)",
        "CREATE VIEW v AS SELECT main.t.a, t.b FROM t",
        "CREATE VIEW v AS SELECT 'x'.a FROM t AS 'x'",
        "CREATE VIEW v AS SELECT * FROM t WHERE a > 1 AND b LIKE 'x%' ESCAPE '\\'",
        "CREATE VIEW v AS SELECT * FROM t WHERE a BETWEEN 1 AND 2 OR b NOT BETWEEN 'a' AND 'b'",
        "CREATE VIEW v AS SELECT a BETWEEN 1 = 1 AND 3 FROM t",
        "CREATE VIEW v AS SELECT a IS NOT NULL, a ISNULL, a NOTNULL, a NOT NULL, a IS 1 FROM t",
        "CREATE VIEW v AS SELECT a IS DISTINCT FROM b, a IS NOT DISTINCT FROM b FROM t",
        "CREATE VIEW v AS SELECT a IN (1, 2), a NOT IN (), a IN (SELECT x FROM u), a IN u, "
        "a IN main.u, a NOT IN json_each('[1]') FROM t",
        "CREATE VIEW v AS SELECT EXISTS (SELECT 1 FROM u WHERE x = a), NOT EXISTS (VALUES (1)) "
        "FROM t",
        "CREATE VIEW v AS SELECT (SELECT max(x) FROM u) + 1, (a, b) = (1, 'x') FROM t",
        "CREATE VIEW v AS SELECT CASE a WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END, "
        "CASE WHEN a > 1 THEN 1 END FROM t",
        "CREATE VIEW v AS SELECT CAST(a AS TEXT), CAST(b AS VARCHAR(10)), CAST(c AS "
        "DECIMAL(10, -2)), CAST(a AS) FROM t",
        "CREATE VIEW v AS SELECT -a, +a, ~a, NOT a, - - a, a || b, a -> '$', a ->> '$' FROM t",
        "CREATE VIEW v AS SELECT a * 2 / 3 % 4 + 5 - 6 << 1 >> 2 & 3 | 4 < 5 <= 6 > 7 >= 8 = 9 "
        "== 1 != 2 <> 3 FROM t",
        "CREATE VIEW v AS SELECT b COLLATE nocase, b COLLATE \"rtrim\", b COLLATE 'binary' FROM t",
        "CREATE VIEW v AS SELECT x'00ff', 1.5e3, .5, 0x1f, NULL, TRUE, FALSE, CURRENT_TIME, "
        "current_date, CURRENT_TIMESTAMP",
        "CREATE VIEW v AS SELECT count(*), count(DISTINCT b), count(ALL b), max(a, 2), "
        "group_concat(b, ',') FROM t",
        "CREATE VIEW v AS SELECT count(DISTINCT) FROM t",
        "CREATE VIEW v AS SELECT like('a', 'b'), glob('a', 'b'), replace(b, 'x', 'y') FROM t",
        "CREATE VIEW v AS SELECT b FROM t GROUP BY b HAVING count(*) > 1",
        "CREATE VIEW v AS SELECT b FROM t ORDER BY b COLLATE nocase DESC NULLS LAST, a ASC NULLS "
        "FIRST, 1",
        "CREATE VIEW v AS SELECT a FROM t LIMIT 1",
        "CREATE VIEW v AS SELECT a FROM t LIMIT 1 OFFSET 1",
        "CREATE VIEW v AS SELECT a FROM t LIMIT 1, 2",
        "CREATE VIEW v AS SELECT a FROM t INDEXED BY ti WHERE b = 'x'",
        "CREATE VIEW v AS SELECT a FROM t NOT INDEXED",
        "CREATE VIEW v AS SELECT a FROM t AS tt INDEXED BY ti",
        "CREATE VIEW v AS VALUES (1, 2), (3, 4)",
        "CREATE VIEW v AS VALUES (1, 2), (3)",
        "CREATE VIEW v AS VALUES (1) UNION SELECT 2 UNION ALL VALUES (3), (4)",
        "CREATE VIEW v AS SELECT a FROM t UNION SELECT x FROM u",
        "CREATE VIEW v AS SELECT a FROM t UNION ALL SELECT x FROM u INTERSECT SELECT 1 EXCEPT "
        "SELECT 2 ORDER BY 1 LIMIT 3",
        "CREATE VIEW v AS SELECT a FROM t ORDER BY a UNION SELECT x FROM u",
        "CREATE VIEW v AS SELECT a FROM t LIMIT 1 UNION ALL SELECT x FROM u",
        "CREATE VIEW v AS SELECT 1 UNION SELECT 2 ORDER BY 1 EXCEPT SELECT 3",
        "CREATE VIEW v AS SELECT 1 UNION SELECT 1, 2",
        "CREATE VIEW v AS WITH c(n) AS (SELECT 1) SELECT n FROM c",
        "CREATE VIEW v AS WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n "
        "< 5) SELECT n FROM c",
        "CREATE VIEW v AS WITH c AS MATERIALIZED (SELECT 1), d AS NOT MATERIALIZED (SELECT 2) "
        "SELECT * FROM c, d",
        "CREATE VIEW v AS WITH c AS (SELECT 1), C AS (SELECT 2) SELECT * FROM c",
        "CREATE VIEW v AS WITH c(n COLLATE nocase) AS (SELECT 1) SELECT * FROM c",
        "CREATE VIEW v AS WITH c(n) AS (SELECT 1) SELECT * FROM c UNION SELECT 2",
        "CREATE VIEW v AS SELECT * FROM (SELECT a FROM t) AS s, (VALUES (1)) w",
        "CREATE VIEW v AS SELECT * FROM (t)",
        "CREATE VIEW v AS SELECT * FROM (t JOIN u ON a = x) AS j",
        "CREATE VIEW v AS SELECT * FROM ((t))",
        "CREATE VIEW v AS SELECT * FROM json_each('[1,2]') AS j, t",
        "CREATE VIEW v AS SELECT * FROM main.json_each('[1]')",
        "CREATE VIEW v AS SELECT sum(a) OVER (), sum(a) OVER (PARTITION BY b ORDER BY a ROWS "
        "BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM t",
        "CREATE VIEW v AS SELECT sum(a) OVER w, row_number() OVER (w ORDER BY a) FROM t WINDOW w "
        "AS (PARTITION BY b)",
        "CREATE VIEW v AS SELECT sum(a) OVER (ORDER BY a RANGE BETWEEN 1 PRECEDING AND 1 "
        "FOLLOWING EXCLUDE CURRENT ROW) FROM t",
        "CREATE VIEW v AS SELECT sum(a) OVER (ORDER BY a GROUPS 2 PRECEDING EXCLUDE NO OTHERS), "
        "sum(a) OVER (ROWS UNBOUNDED PRECEDING EXCLUDE TIES), sum(a) OVER (ROWS CURRENT ROW "
        "EXCLUDE GROUP) FROM t",
        "CREATE VIEW v AS SELECT sum(a) OVER (ROWS BETWEEN CURRENT ROW AND 1 PRECEDING) FROM t",
        "CREATE VIEW v AS SELECT sum(a) OVER (ROWS 1 FOLLOWING) FROM t",
        "CREATE VIEW v AS SELECT sum(a) OVER (ROWS BETWEEN 1 FOLLOWING AND CURRENT ROW) FROM t",
        "CREATE VIEW v AS SELECT sum(a) OVER (ROWS BETWEEN UNBOUNDED FOLLOWING AND CURRENT ROW) "
        "FROM t",
        "CREATE VIEW v AS SELECT count(*) FILTER (WHERE a > 1), sum(a) FILTER (WHERE a > 1) OVER "
        "() FROM t",
        "CREATE VIEW v AS SELECT count(DISTINCT a) OVER () FROM t",
        "CREATE VIEW v AS SELECT count(DISTINCT a) FILTER (WHERE a > 1) FROM t",
        "CREATE VIEW v AS SELECT 1 FROM t WINDOW w AS (), x AS (nosuch)",
        "CREATE VIEW v AS SELECT 1 FROM t WINDOW w AS (nosuch)",
        "CREATE VIEW v AS SELECT 1 FROM t WINDOW w AS (ORDER BY a), x AS (w ORDER BY b)",
        "CREATE VIEW v AS SELECT 1 FROM t WINDOW w AS (ROWS 1 PRECEDING), x AS (w)",
        "CREATE VIEW v AS SELECT 1 FROM t WINDOW w AS (), x AS (w PARTITION BY a)",
        "CREATE VIEW v AS SELECT sum(a) OVER win FROM t WINDOW win AS (ORDER BY a), w2 AS (WIN)",
        "CREATE VIEW v AS SELECT a window FROM t",
        "CREATE VIEW v AS SELECT a over FROM t",
        "CREATE VIEW v AS SELECT a filter FROM t",
        "CREATE VIEW v AS SELECT (a) over w FROM t",
        "CREATE VIEW v AS SELECT raise(ignore), raise(abort, 'msg')",
        "CREATE VIEW v AS SELECT raise FROM t",
        "CREATE VIEW v AS SELECT a FROM t WHERE a = +1 AND b GLOB '*' AND b REGEXP 'x' AND b "
        "MATCH 'y'",
        "CREATE VIEW v AS SELECT \"a\", \"no such\", [b], `c` FROM t",
        "CREATE VIEW v AS SELECT \"z z\" FROM u",
        "CREATE VIEW v AS SELECT replace, key, first, last, rowid, temp, view, if, row FROM "
        "(SELECT 1 AS replace, 2 AS key, 3 AS first, 4 AS last, 5 AS temp, 6 AS view, 7 AS "
        "[if], 8 AS row)",
        "CREATE VIEW v AS SELECT a FROM t AS current WHERE current.a > 0",
        "CREATE VIEW v AS SELECT 1 AS x; -- comment after",
        "CREATE VIEW v AS SELECT 1\n\n",
        "CREATE VIEW v AS SELECT 1 /* c */ /* d */",
        "CREATE VIEW v AS WITH x AS (SELECT 1) SELECT * FROM x WINDOW w AS ()",
        "CREATE VIEW v AS SELECT a FROM t GROUP BY a WINDOW w AS (PARTITION BY a) ORDER BY a",
        "CREATE VIEW v AS SELECT a FROM t WHERE a IN ()",
        "CREATE VIEW v AS SELECT a FROM t WHERE a NOT IN t",
        "CREATE VIEW v AS SELECT CASE WHEN a THEN 1 END FROM t WHERE NOT a IS NOT NULL",
        "CREATE VIEW v AS SELECT 1 AS \"a\"\"b\", 'it''s', [x y] FROM (SELECT 1 AS [x y])",
    };
    SAME_ALL(stmts);
}

Test(compat_view, joins)
{
    static const char *const stmts[] = {
        "CREATE VIEW v AS SELECT * FROM t, u",
        "CREATE VIEW v AS SELECT * FROM t JOIN u ON a = x",
        "CREATE VIEW v AS SELECT * FROM t INNER JOIN u ON a = x",
        "CREATE VIEW v AS SELECT * FROM t LEFT JOIN u ON a = x",
        "CREATE VIEW v AS SELECT * FROM t LEFT OUTER JOIN u ON a = x",
        "CREATE VIEW v AS SELECT * FROM t RIGHT JOIN u ON a = x",
        "CREATE VIEW v AS SELECT * FROM t FULL OUTER JOIN u ON a = x",
        "CREATE VIEW v AS SELECT * FROM t CROSS JOIN u",
        "CREATE VIEW v AS SELECT * FROM t NATURAL JOIN u",
        "CREATE VIEW v AS SELECT * FROM t NATURAL LEFT JOIN u",
        "CREATE VIEW v AS SELECT * FROM t AS t1 JOIN t AS t2 USING (a, b)",
        "CREATE VIEW v AS SELECT * FROM t OUTER JOIN u",
        "CREATE VIEW v AS SELECT * FROM t LEFT INNER JOIN u",
        "CREATE VIEW v AS SELECT * FROM t LEFT BOGUS JOIN u",
        "CREATE VIEW v AS SELECT * FROM t LEFT \"x\" 'y' JOIN u",
        "CREATE VIEW v AS SELECT * FROM t x BOGUS JOIN u",
        "CREATE VIEW v AS SELECT * FROM t NATURAL JOIN u ON 1",
        "CREATE VIEW v AS SELECT * FROM t ON a = 1",
        "CREATE VIEW v AS SELECT * FROM t USING (a)",
        "CREATE VIEW v AS SELECT * FROM t JOIN u ON",
        "CREATE VIEW v AS SELECT * FROM t JOIN u USING ()",
        "CREATE VIEW v AS SELECT * FROM t, (u JOIN t ON x = a)",
        "CREATE VIEW v AS SELECT * FROM t offset",
        "CREATE VIEW v AS SELECT * FROM t AS left",
        "CREATE VIEW v AS SELECT * FROM left",
        "CREATE VIEW v AS SELECT * FROM t left",
        "CREATE VIEW v AS SELECT * FROM t AS",
        "CREATE VIEW v AS SELECT * FROM t WHERE",
        "CREATE VIEW v AS SELECT * FROM",
        "CREATE VIEW v AS SELECT * FROM t GROUP a",
        "CREATE VIEW v AS SELECT * FROM t ORDER BY a NULLS",
        "CREATE VIEW v AS SELECT a + FROM t",
        "CREATE VIEW v AS SELECT a NOT b FROM t",
        "CREATE VIEW v AS SELECT a IS NOT DISTINCT b FROM t",
        "CREATE VIEW v AS SELECT left(1)",
        "CREATE VIEW v AS SELECT t.* AS x FROM t",
        "CREATE VIEW v AS SELECT main.t.* FROM t",
        "CREATE VIEW v AS SELECT * FROM t WHERE a IN (SELECT x FROM u",
        "CREATE VIEW v AS SELECT CASE END",
        "CREATE VIEW v AS SELECT CAST(a) FROM t",
        "CREATE VIEW v AS SELECT f(*, 1)",
        "CREATE VIEW v AS SELECT count(DISTINCT *) FROM t",
        "CREATE VIEW v AS SELECT sum(a) OVER (ROWS) FROM t",
        "CREATE VIEW v AS SELECT sum(a) OVER (PARTITION a) FROM t",
        "CREATE VIEW v AS SELECT 1 FROM t WINDOW w",
        "CREATE VIEW v AS SELECT 1 FROM t WINDOW w AS",
        "CREATE VIEW v AS WITH SELECT 1",
        "CREATE VIEW v AS WITH c AS SELECT 1",
        "CREATE VIEW v AS VALUES",
        "CREATE VIEW v AS VALUES ()",
        "CREATE VIEW v AS SELECT 1 UNION",
        "CREATE VIEW v AS SELECT 1 UNION ALL ALL SELECT 2",
        "CREATE VIEW v AS SELECT x FROM u WHERE y ESCAPE 1",
    };
    SAME_ALL(stmts);
}

/* Views go with DROP VIEW, their INSTEAD OF triggers with them. */
Test(compat_view, drop_view)
{
    static const char *const stmts[] = {
        "DROP VIEW v0", "DROP VIEW IF EXISTS v0", "DROP VIEW nosuch", "DROP VIEW IF EXISTS nosuch",
        "DROP VIEW t",
    };
    SAME_ALL(stmts);
}
