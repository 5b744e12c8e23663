/*
 * CREATE VIEW and the SELECT grammar as the schema layer reads them
 * (src/schema/parse_select.c), against libsqlite3's parser: every prefix
 * of a list of statements (cut at each token, and at each byte of some)
 * and every statement with one token dropped either parses in both or
 * fails in both with the same message; deep nesting and random bytes end
 * in a result or an error (the sanitizers watch the rest).
 */
#include <criterion/criterion.h>
#include <sqlite3.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "schema/lex.h"
#include "schema/select.h"

static sqlite3 *mem_db(void)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    cr_assert_eq(
        sqlite3_exec(db, "CREATE TABLE t(a, b, c); CREATE TABLE u(a, y, z);", NULL, NULL, NULL),
        SQLITE_OK);
    return db;
}

/* Messages SQLite gives after its parser accepted the statement. */
static int after_parse(const char *msg)
{
    return strstr(msg, "already exists") || strstr(msg, "parameters are not allowed") ||
           strstr(msg, "cannot reference objects") || strstr(msg, "reserved for internal use") ||
           strstr(msg, "unknown database");
}

/* One statement both ways; 1 when libsqlite3 accepted it. */
static int same_parse(sqlite3 *db, const char *sql)
{
    sq_view v;
    char err[256];
    int frc = sq_parse_view(&v, sql, err, sizeof err);
    if (frc == 0)
        sq_view_free(&v);
    char *serr = NULL;
    cr_assert_eq(sqlite3_exec(db, "SAVEPOINT s", NULL, NULL, NULL), SQLITE_OK);
    int src = sqlite3_exec(db, sql, NULL, NULL, &serr);
    sqlite3_exec(db, "ROLLBACK TO s; RELEASE s", NULL, NULL, NULL);
    if (src == SQLITE_OK || after_parse(serr ? serr : "")) {
        cr_expect_eq(frc, 0, "[%s]: libsqlite3 parsed it, folio: %s", sql, err);
    } else {
        cr_expect_neq(frc, 0, "[%s]: folio parsed it, libsqlite3: %s", sql, serr);
        if (frc != 0)
            cr_expect_str_eq(err, serr, "[%s]: messages differ: folio \"%s\", libsqlite3 \"%s\"",
                             sql, err, serr);
    }
    sqlite3_free(serr);
    return src == SQLITE_OK;
}

static const char *const stmts[] = {
    "CREATE VIEW v AS SELECT DISTINCT a, b AS bb, t.* FROM t WHERE a > 1 GROUP BY b HAVING "
    "count(*) > 1 ORDER BY 1 DESC NULLS LAST LIMIT 2 OFFSET 1",
    "CREATE VIEW IF NOT EXISTS main.v(x, y) AS WITH RECURSIVE c(n) AS MATERIALIZED (SELECT 1 "
    "UNION ALL SELECT n + 1 FROM c WHERE n < 3) SELECT n, n FROM c",
    "CREATE VIEW v AS SELECT * FROM t NATURAL LEFT OUTER JOIN u, t AS x CROSS JOIN u AS y ON "
    "x.a = y.a JOIN (SELECT 1 AS a) s USING (a)",
    "CREATE VIEW v AS SELECT sum(a) FILTER (WHERE a > 0) OVER (PARTITION BY b ORDER BY c ROWS "
    "BETWEEN 1 PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE TIES), row_number() OVER w FROM t "
    "WINDOW w AS (ORDER BY a), w2 AS (w RANGE CURRENT ROW)",
    "CREATE VIEW v AS SELECT CASE a WHEN 1 THEN 'x' ELSE NULL END, CAST(b AS VARCHAR(3, 4)), a "
    "NOT BETWEEN 1 AND 2, b NOT LIKE 'x' ESCAPE 'y', c IS NOT DISTINCT FROM a, a NOT IN (SELECT "
    "a FROM u), EXISTS (VALUES (1)), (a, b) = (1, 2), -a COLLATE nocase, x'ab', 1 FROM t",
    "CREATE VIEW v AS VALUES (1, 2), (3, 4) UNION SELECT a, b FROM t INDEXED BY i EXCEPT "
    "SELECT a, b FROM t NOT INDEXED INTERSECT SELECT * FROM json_each('[1]')",
    "CREATE VIEW v AS SELECT a FROM t WHERE a IN u AND b IN main.u AND c IN json_each('[]') "
    "AND a ISNULL AND b NOTNULL AND c NOT NULL AND a IS NOT NULL",
    "CREATE VIEW v AS SELECT a asc, b desc, c offset, a -> '$' ->> '$', ~a << 2 >> 1 & 3 | 4 % "
    "5 / 6 * 7 || 'x' FROM t",
};

Test(select_parse, prefixes_at_each_token)
{
    sqlite3 *db = mem_db();
    for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++) {
        cr_assert(same_parse(db, stmts[i]), "%s", stmts[i]);
        lx_token *t;
        size_t nt;
        char err[128];
        cr_assert_eq(lx_tokenize(stmts[i], strlen(stmts[i]), &t, &nt, err, sizeof err), 0);
        char *buf = malloc(strlen(stmts[i]) + 1);
        for (size_t k = 1; k + 1 < nt; k++) {
            size_t cut = (size_t)(t[k].z - stmts[i]);
            memcpy(buf, stmts[i], cut);
            buf[cut] = 0;
            same_parse(db, buf);
            /* the statement without token k */
            size_t end = (size_t)(t[k].z + t[k].n - stmts[i]);
            snprintf(buf + cut, strlen(stmts[i]) + 1 - cut, "%s", stmts[i] + end);
            same_parse(db, buf);
        }
        free(buf);
        free(t);
    }
    sqlite3_close(db);
}

Test(select_parse, prefixes_at_each_byte)
{
    sqlite3 *db = mem_db();
    const char *sql = stmts[3];
    size_t n = strlen(sql);
    char *buf = malloc(n + 1);
    for (size_t cut = 1; cut <= n; cut++) {
        memcpy(buf, sql, cut);
        buf[cut] = 0;
        same_parse(db, buf);
    }
    free(buf);
    sqlite3_close(db);
}

/* Nesting past the parser's bound is an error, not a crash. */
Test(select_parse, deep_nesting)
{
    for (int depth = 10; depth <= 5000; depth *= 5) {
        size_t cap = (size_t)depth * 20 + 64;
        char *sql = malloc(cap);
        size_t o = (size_t)snprintf(sql, cap, "CREATE VIEW v AS SELECT ");
        for (int k = 0; k < depth; k++)
            o += (size_t)snprintf(sql + o, cap - o, "(");
        o += (size_t)snprintf(sql + o, cap - o, "1");
        for (int k = 0; k < depth; k++)
            o += (size_t)snprintf(sql + o, cap - o, ")");
        sq_view v;
        char err[256];
        int rc = sq_parse_view(&v, sql, err, sizeof err);
        if (rc == 0)
            sq_view_free(&v);
        else
            cr_assert(strstr(err, "overflow"), "depth %d: %s", depth, err);
        cr_assert(depth < 100 ? rc == 0 : rc < 0, "depth %d: rc %d", depth, rc);
        o = (size_t)snprintf(sql, cap, "CREATE VIEW v AS ");
        for (int k = 0; k < depth; k++)
            o += (size_t)snprintf(sql + o, cap - o, "SELECT * FROM (");
        o += (size_t)snprintf(sql + o, cap - o, "SELECT 1");
        for (int k = 0; k < depth; k++)
            o += (size_t)snprintf(sql + o, cap - o, ")");
        rc = sq_parse_view(&v, sql, err, sizeof err);
        if (rc == 0)
            sq_view_free(&v);
        free(sql);
    }
}

/* Random bytes and random words after "CREATE VIEW v AS ": a result or an
 * error, and libsqlite3 agrees on which. */
Test(select_parse, random_words)
{
    static const char *const words[] = {
        "SELECT",  "FROM",      "WHERE",    "(",         ")",       ",",      "a",       "t",
        ".",       "*",         "+",        "AS",        "JOIN",    "ON",     "USING",   "UNION",
        "ALL",     "VALUES",    "WITH",     "c",         "ORDER",   "BY",     "GROUP",   "LIMIT",
        "1",       "'s'",       "\"q\"",    "OVER",      "FILTER",  "WINDOW", "w",       "NOT",
        "IN",      "IS",        "NULL",     "CASE",      "WHEN",    "THEN",   "END",     "LEFT",
        "NATURAL", "EXISTS",    "DISTINCT", "=",         "COLLATE", "x",      "BETWEEN", "AND",
        "OR",      "RECURSIVE", "ROWS",     "PRECEDING", "CURRENT", "ROW"};
    uint64_t seed = compat_seed(5);
    uint64_t rng = seed;
    sqlite3 *db = mem_db();
    char sql[1024];
    for (int round = 0; round < 3000; round++) {
        size_t o = (size_t)snprintf(sql, sizeof sql, "CREATE VIEW v AS SELECT ");
        int n = 1 + (int)compat_below(&rng, 14);
        for (int k = 0; k < n && o + 40 < sizeof sql; k++)
            o += (size_t)snprintf(sql + o, sizeof sql - o, " %s",
                                  words[compat_below(&rng, sizeof words / sizeof *words)]);
        same_parse(db, sql);
    }
    for (int round = 0; round < 500; round++) {
        size_t o = (size_t)snprintf(sql, sizeof sql, "CREATE VIEW v AS SELECT ");
        int n = (int)compat_below(&rng, 30);
        for (int k = 0; k < n; k++)
            sql[o++] = (char)(1 + compat_below(&rng, 255));
        sql[o] = 0;
        sq_view v;
        char err[256];
        if (sq_parse_view(&v, sql, err, sizeof err) == 0)
            sq_view_free(&v);
    }
    sqlite3_close(db);
}
