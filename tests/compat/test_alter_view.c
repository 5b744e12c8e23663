/*
 * test_alter_view.c - ALTER TABLE on schemas with views, through folio_exec,
 * against libsqlite3 running the same statement on a copy of the file.
 *
 * Each case is a schema (tables with rows and one view of some shape) and
 * an ALTER TABLE: both engines succeed and leave the same sqlite_schema,
 * byte for byte, and the same rows from every view; or both fail with the
 * same message and folio's file is unchanged. folio's file passes
 * integrity_check in libsqlite3. A random part builds views from a
 * grammar and alters their tables (seed printed; FOLIO_SEED replays).
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <inttypes.h>
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

/* sqlite_schema, then the rows of every view. */
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

static const char tables[] = "CREATE TABLE t(a INTEGER PRIMARY KEY, b, c);"
                             "CREATE TABLE u(a, y, z);"
                             "CREATE TABLE w(k, \"q q\");"
                             "INSERT INTO t VALUES (1, 'x', 10), (2, 'y', 20), (3, 'x', NULL);"
                             "INSERT INTO u VALUES (1, 'p', 5), (3, 'q', 6), (4, 'r', 7);"
                             "INSERT INTO w VALUES (1, 'one'), (2, 'two');";

/* The outcome of sql on a schema of the tables and `views`: 0 the same,
 * 1 folio refused with FOLIO_UNSUPPORTED (allowed when `allow_unsupported`),
 * else an assertion fails. */
static int compare(const char *views, const char *sql, int allow_unsupported, const char *seed)
{
    char *dir = compat_tmpdir();
    char *a = compat_path(dir, "folio.db"), *b = compat_path(dir, "sqlite.db");
    sqlite3 *db = compat_sqlite_open(a);
    compat_exec(db, tables);
    compat_exec(db, views);
    compat_sqlite_close(db);
    compat_copy_db(a, b, 0);
    char *before = dump_file(a);
    char fm[512], sm[512];
    int src = sqlite_run(b, sql, sm, sizeof sm);
    int frc = folio_run(a, sql, fm, sizeof fm);
    int out = 0;
    if (frc == FOLIO_UNSUPPORTED) {
        cr_expect(allow_unsupported, "%s%s\n%s: folio refused: %s (libsqlite3: %s)", seed, views,
                  sql, fm, src == SQLITE_OK ? "ok" : sm);
        char *after = dump_file(a);
        cr_expect_str_eq(before, after, "%s%s\n%s: a refused statement changed the file", seed,
                         views, sql);
        free(after);
        out = 1;
    } else if (src == SQLITE_OK) {
        cr_expect_eq(frc, 0, "%s%s\n%s: folio failed: %s", seed, views, sql, fm);
        char *da = dump_file(a), *dbs = dump_file(b);
        cr_expect_str_eq(da, dbs, "%s%s\n%s: folio's file differs from libsqlite3's", seed, views,
                         sql);
        free(da);
        free(dbs);
    } else {
        cr_expect(frc < 0, "%s%s\n%s: folio accepted; libsqlite3: %s", seed, views, sql, sm);
        cr_expect_str_eq(fm, sm, "%s%s\n%s: messages differ: folio \"%s\", libsqlite3 \"%s\"", seed,
                         views, sql, fm, sm);
        char *after = dump_file(a);
        cr_expect_str_eq(before, after, "%s%s\n%s: a refused statement changed the file", seed,
                         views, sql);
        free(after);
    }
    char *ok = compat_integrity(a);
    cr_expect_str_eq(ok, "ok", "%s%s\n%s: integrity_check: %s", seed, views, sql, ok);
    free(ok);
    free(before);
    compat_rmtree(dir);
    free(a);
    free(b);
    free(dir);
    return out;
}

static const char *const alters[] = {
    "ALTER TABLE t RENAME TO t2",
    "ALTER TABLE t RENAME TO \"n n\"",
    "ALTER TABLE t RENAME COLUMN a TO aa",
    "ALTER TABLE t RENAME COLUMN b TO \"B b\"",
    "ALTER TABLE t RENAME COLUMN c TO cc",
    "ALTER TABLE t DROP COLUMN c",
    "ALTER TABLE t DROP COLUMN b",
    "ALTER TABLE u RENAME COLUMN a TO ua",
    "ALTER TABLE u RENAME TO u2",
    "ALTER TABLE u DROP COLUMN y",
    "ALTER TABLE w RENAME COLUMN \"q q\" TO q",
};

static void all_alters(const char *views)
{
    for (size_t i = 0; i < sizeof alters / sizeof *alters; i++)
        compare(views, alters[i], 0, "");
}

Test(compat_alter_view, shapes)
{
    static const char *const views[] = {
        "CREATE VIEW v AS SELECT a, b FROM t",
        "CREATE VIEW v AS SELECT * FROM t",
        "CREATE VIEW v AS SELECT t.*, u.z FROM t, u WHERE t.a = u.a",
        "CREATE VIEW v AS SELECT x.a, x.b AS bb, t.c FROM t AS x, t WHERE x.a = t.a",
        "CREATE VIEW v AS SELECT main.t.a, T.b FROM main.t",
        "CREATE VIEW v AS SELECT \"a\", [b], `c`, \"no such\" FROM \"t\"",
        "CREATE VIEW v(p, q) AS SELECT a, c FROM t",
        "CREATE VIEW v AS SELECT a AS q, b FROM t WHERE q > 1 ORDER BY q, b DESC",
        "CREATE VIEW v AS SELECT b AS a FROM t ORDER BY a",
        "CREATE VIEW v AS SELECT b, count(*) AS n FROM t GROUP BY b HAVING n > 0 ORDER BY 1",
        "CREATE VIEW v AS SELECT b FROM t GROUP BY 1",
        "CREATE VIEW v AS SELECT a FROM t ORDER BY 2",
        "CREATE VIEW v AS SELECT * FROM t JOIN u USING (a)",
        "CREATE VIEW v AS SELECT * FROM t NATURAL JOIN u",
        "CREATE VIEW v AS SELECT t.a, u.y FROM t LEFT JOIN u ON t.a = u.a",
        "CREATE VIEW v AS SELECT a FROM t JOIN u USING (a)",
        "CREATE VIEW v AS SELECT b FROM t CROSS JOIN w",
        "CREATE VIEW v AS SELECT a FROM t, u",
        "CREATE VIEW v AS SELECT s.a, s.b FROM (SELECT a, b FROM t WHERE c > 5) AS s",
        "CREATE VIEW v AS SELECT a, (SELECT count(*) FROM u WHERE u.a = t.a) AS n FROM t",
        "CREATE VIEW v AS SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE y = b OR u.a = "
        "t.a)",
        "CREATE VIEW v AS SELECT a FROM t WHERE a IN (SELECT a FROM u) AND b NOT IN ('z')",
        "CREATE VIEW v AS WITH c(k) AS (SELECT a FROM t) SELECT k, (SELECT b FROM t WHERE t.a = "
        "c.k) FROM c",
        "CREATE VIEW v AS WITH c AS (SELECT a, b FROM t) SELECT a, b FROM c",
        "CREATE VIEW v AS WITH c AS (SELECT a FROM t), d AS (SELECT * FROM c) SELECT * FROM d",
        "CREATE VIEW v AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r, t "
        "WHERE n < t.a) SELECT n FROM r",
        "CREATE VIEW v AS WITH unused AS (SELECT b FROM t) SELECT 1",
        "CREATE VIEW v AS SELECT a FROM t UNION SELECT a FROM u",
        "CREATE VIEW v AS SELECT a, b FROM t UNION ALL SELECT y, z FROM u ORDER BY 1",
        "CREATE VIEW v AS SELECT a FROM t INTERSECT SELECT a FROM u EXCEPT SELECT 3",
        "CREATE VIEW v AS VALUES (1, 2) UNION SELECT a, b FROM t",
        "CREATE VIEW v AS SELECT a, sum(c) OVER (PARTITION BY b ORDER BY a) FROM t",
        "CREATE VIEW v AS SELECT a, row_number() OVER w FROM t WINDOW w AS (ORDER BY b)",
        "CREATE VIEW v AS SELECT count(*) FILTER (WHERE c > 10), max(a) FROM t",
        "CREATE VIEW v AS SELECT CASE b WHEN 'x' THEN a ELSE c END, CAST(a AS TEXT), b COLLATE "
        "nocase FROM t",
        "CREATE VIEW v AS SELECT a, rowid, t.oid, _rowid_ FROM t",
        "CREATE VIEW v AS SELECT upper(b), coalesce(c, 0), length(b) + abs(a) FROM t",
        "CREATE VIEW v AS SELECT \"b\" || 'x' AS \"s\", \"k\" FROM t, w WHERE \"q q\" = 'one'",
        "CREATE VIEW v AS SELECT a FROM t WHERE b = \"x\"",
        "CREATE VIEW v AS SELECT k FROM w",
        "CREATE VIEW v AS SELECT 1 AS one",
        "CREATE VIEW v AS SELECT nosuch FROM t",
        "CREATE VIEW v AS SELECT * FROM nosuch",
        "CREATE VIEW v AS SELECT a FROM t, u",
        "CREATE VIEW v AS SELECT t.a FROM t JOIN t AS t2 ON t.a = t2.b",
        "CREATE VIEW v AS SELECT a, b FROM t WHERE a > 0; CREATE VIEW v2 AS SELECT b FROM v",
        "CREATE VIEW v AS SELECT x FROM w2; CREATE TABLE w2(x)",
        "CREATE VIEW v AS SELECT * FROM t AS a JOIN u AS b ON a.a = b.a",
        "CREATE VIEW v AS SELECT [t].[a] FROM [t] WHERE [t].b = 'x'",
        "CREATE VIEW v AS SELECT a FROM t WHERE b LIKE '%x%' ESCAPE '\\' AND c BETWEEN 1 AND 100",
        "CREATE VIEW v AS SELECT true, false, \"true\" FROM t",
        "CREATE VIEW v AS SELECT a FROM t LIMIT 2 OFFSET 1",
        "CREATE VIEW v AS SELECT min(a), max(c), total(c), avg(a), group_concat(b, '-') FROM t",
        "CREATE VIEW v AS WITH t AS (SELECT 5 AS a) SELECT t.a FROM t",
        "CREATE VIEW v AS WITH x AS (SELECT a FROM t) SELECT a FROM x UNION SELECT a FROM t",
        "CREATE VIEW v AS SELECT a, b FROM t; CREATE VIEW v2 AS SELECT v.a, b FROM v JOIN u "
        "USING (a)",
        "CREATE VIEW v AS SELECT rowid AS r, oid, t._rowid_ FROM t WHERE rowid > 1",
        "CREATE VIEW v AS SELECT a FROM t ORDER BY rank() OVER (ORDER BY b), c",
        "CREATE VIEW v AS SELECT b, lag(c) OVER (PARTITION BY b ORDER BY a ROWS BETWEEN c "
        "PRECEDING AND CURRENT ROW) FROM t",
        "CREATE VIEW \"v v\"(\"x y\") AS SELECT \"a\" FROM \"t\" AS \"T T\"",
        "CREATE VIEW v AS SELECT T.A, \"T\".\"B\", [t].[c] FROM T",
        "CREATE VIEW v AS SELECT (SELECT max(b) FROM t AS i WHERE i.a < o.a) FROM t AS o",
        "CREATE VIEW v AS SELECT a FROM t WHERE a IN (SELECT a FROM u WHERE u.y = t.b)",
        "CREATE VIEW v AS SELECT * FROM (SELECT * FROM (SELECT a, b FROM t))",
        "CREATE VIEW v AS SELECT s.* FROM (SELECT a AS p, c FROM t) AS s WHERE s.p > 1",
        "CREATE VIEW v AS SELECT t.a, u.a FROM t, u WHERE t.a = u.a ORDER BY t.a",
        "CREATE VIEW v AS SELECT a, b, c FROM t GROUP BY a, b HAVING max(c) > 1",
        "CREATE VIEW v AS SELECT * FROM t WHERE b = 'b' AND \"b\" = \"nosuch\"",
        "CREATE VIEW v AS SELECT \"a\" AS \"b\", 'x' 'y' FROM t",
        "CREATE VIEW v AS SELECT a FROM (SELECT * FROM t)",
        "CREATE VIEW v AS WITH x AS (SELECT * FROM y), y AS (SELECT a, b FROM t) SELECT a, b "
        "FROM x",
        "CREATE VIEW v AS SELECT x.b FROM (SELECT * FROM t) AS x",
        "CREATE VIEW v AS WITH c AS (SELECT * FROM t) SELECT a, c.b FROM c",
        "CREATE VIEW v AS SELECT * FROM t WHERE rowid IN (SELECT a FROM u)",
        "CREATE VIEW v AS SELECT a, count(*) FROM t GROUP BY a ORDER BY count(*) DESC",
        "CREATE VIEW v AS SELECT a AS x FROM t GROUP BY x",
        "CREATE VIEW v AS SELECT DISTINCT b FROM t ORDER BY b COLLATE nocase",
        "CREATE VIEW v AS SELECT a AS k FROM t UNION SELECT a FROM u ORDER BY k",
        "CREATE VIEW v AS SELECT a, b FROM t UNION SELECT a, y FROM u ORDER BY a, b DESC",
        "CREATE VIEW v AS SELECT t.a FROM t UNION ALL SELECT u.a FROM u ORDER BY t.a",
        "CREATE VIEW v AS SELECT y FROM u UNION SELECT b FROM t ORDER BY b",
        "CREATE VIEW v AS SELECT a FROM t UNION SELECT a FROM u ORDER BY c",
    };
    for (size_t i = 0; i < sizeof views / sizeof *views; i++)
        all_alters(views[i]);
    /* what folio does not resolve, naming what changes: refused */
    cr_assert_eq(compare("CREATE VIEW v AS SELECT * FROM (t AS x JOIN u USING (a))",
                         "ALTER TABLE t RENAME TO t2", 1, ""),
                 1);
    cr_assert_eq(compare("CREATE VIEW v AS SELECT a FROM t EXCEPT SELECT a FROM u ORDER BY a + 1",
                         "ALTER TABLE t RENAME TO t2", 1, ""),
                 1);
    cr_assert_eq(compare("CREATE VIEW v AS SELECT j.value, a FROM t, json_each(t.b) AS j",
                         "ALTER TABLE t RENAME COLUMN a TO aa", 1, ""),
                 1);
    /* and left alone when it does not */
    cr_assert_eq(compare("CREATE VIEW v AS SELECT j.value, k FROM w, json_each(w.k) AS j",
                         "ALTER TABLE t RENAME COLUMN a TO aa", 0, ""),
                 0);
}

/* Views that do not resolve make SQLite refuse every ALTER that checks
 * them, with "error in view v: ...", and so does folio. */
Test(compat_alter_view, views_that_do_not_resolve)
{
    static const char *const views[] = {
        "CREATE VIEW v AS SELECT * FROM gone",
        "CREATE VIEW v AS SELECT a FROM t, u",
        "CREATE VIEW v AS SELECT nosuch FROM t",
        "CREATE VIEW v AS SELECT t.nosuch FROM t",
        "CREATE VIEW v AS SELECT x.a FROM t",
        "CREATE VIEW v AS SELECT a FROM t ORDER BY 5",
        "CREATE VIEW v AS SELECT a FROM t GROUP BY 0",
        "CREATE VIEW v AS SELECT * FROM t JOIN u USING (y)",
        "CREATE VIEW v AS SELECT * FROM t NATURAL JOIN u USING (a)",
        "CREATE VIEW v(x, y) AS SELECT 1; CREATE VIEW v2 AS SELECT * FROM v",
        "CREATE VIEW v AS SELECT 1; CREATE VIEW v2 AS SELECT * FROM v, gone",
        "CREATE VIEW v AS WITH c(x, y) AS (SELECT 1) SELECT * FROM c",
        "CREATE VIEW v AS SELECT x.* FROM t",
        "CREATE VIEW v AS SELECT *",
        "CREATE VIEW v AS SELECT abs(1, 2)",
        "CREATE VIEW v AS SELECT rowid FROM t, u",
    };
    for (size_t i = 0; i < sizeof views / sizeof *views; i++)
        all_alters(views[i]);
}

/* ---- random views, random ALTERs ---- */

typedef struct gen {
    uint64_t rng;
    sbuf b;
    int depth;
    int nsrc;
    char src[4][8]; /* the names the current FROM offers */
} gen;

static uint64_t pick(gen *g, uint64_t n)
{
    return compat_below(&g->rng, n);
}

static void put(gen *g, const char *s)
{
    sb_str(&g->b, s);
}

static const char *const colnames[] = {"a",   "b",     "c",      "y",       "z", "\"b\"",
                                       "[a]", "rowid", "nosuch", "\"str\"", "k"};

static void gen_select(gen *g);
static void gen_from(gen *g);

static void gen_col(gen *g)
{
    if (g->nsrc && pick(g, 3) == 0) {
        put(g, g->src[pick(g, (uint64_t)g->nsrc)]);
        put(g, ".");
    }
    put(g, colnames[pick(g, sizeof colnames / sizeof *colnames)]);
}

static void gen_expr(gen *g, int depth)
{
    switch (depth > 2 ? pick(g, 2) : pick(g, 9)) {
    case 0:
    case 1:
        gen_col(g);
        break;
    case 2:
        put(g, pick(g, 2) ? "1" : "'s'");
        break;
    case 3:
        gen_expr(g, depth + 1);
        put(g, pick(g, 2) ? " + " : " = ");
        gen_expr(g, depth + 1);
        break;
    case 4:
        put(g, "upper(");
        gen_expr(g, depth + 1);
        put(g, ")");
        break;
    case 5:
        if (g->depth < 2) {
            /* a scalar subquery: one column */
            int saved = g->nsrc;
            char keep[4][8];
            memcpy(keep, g->src, sizeof keep);
            g->depth++;
            put(g, "(SELECT ");
            gen_expr(g, depth + 1);
            gen_from(g);
            if (pick(g, 2)) {
                put(g, " WHERE ");
                gen_expr(g, depth + 1);
            }
            put(g, ")");
            g->depth--;
            g->nsrc = saved;
            memcpy(g->src, keep, sizeof keep);
        } else {
            gen_col(g);
        }
        break;
    case 6:
        gen_expr(g, depth + 1);
        put(g, " IN (1, 2)");
        break;
    case 7:
        put(g, "count(*)");
        break;
    default:
        put(g, "CASE WHEN ");
        gen_expr(g, depth + 1);
        put(g, " THEN ");
        gen_col(g);
        put(g, " END");
    }
}

static void add_src(gen *g, const char *name)
{
    if (g->nsrc < 4)
        snprintf(g->src[g->nsrc++], sizeof g->src[0], "%s", name);
}

static void gen_from(gen *g)
{
    static const char *const tabs[] = {"t", "u", "w", "c"};
    static const char *const aliases[] = {"x", "t", "u", "q"};
    int n = 1 + (int)pick(g, 2);
    put(g, " FROM ");
    g->nsrc = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0) {
            static const char *const joins[] = {", ", " JOIN ", " LEFT JOIN ", " NATURAL JOIN ",
                                                " CROSS JOIN "};
            put(g, joins[pick(g, 5)]);
        }
        if (pick(g, 6) == 0 && g->depth < 2) {
            put(g, "(SELECT a, b FROM t)");
            add_src(g, "s");
            put(g, " AS s");
        } else {
            const char *tn = tabs[pick(g, 4)];
            put(g, tn);
            if (pick(g, 3) == 0) {
                const char *al = aliases[pick(g, 4)];
                put(g, " AS ");
                put(g, al);
                add_src(g, al);
            } else {
                add_src(g, tn);
            }
        }
        if (i > 0) {
            uint64_t k = pick(g, 3);
            if (k == 0)
                put(g, " USING (a)");
            else if (k == 1) {
                put(g, " ON ");
                gen_expr(g, 1);
            }
        }
    }
}

static void gen_core(gen *g)
{
    put(g, "SELECT ");
    int n = 1 + (int)pick(g, 3);
    int star = pick(g, 8) == 0;
    if (star)
        put(g, "*");
    for (int i = 0; i < n && !star; i++) {
        if (i)
            put(g, ", ");
        gen_expr(g, 0);
        if (pick(g, 3) == 0) {
            static const char *const al[] = {"a", "q", "\"r r\"", "b"};
            put(g, " AS ");
            put(g, al[pick(g, 4)]);
        }
    }
    gen_from(g);
    if (pick(g, 2)) {
        put(g, " WHERE ");
        gen_expr(g, 0);
    }
    if (pick(g, 5) == 0) {
        put(g, " GROUP BY ");
        gen_col(g);
    }
}

static void gen_select(gen *g)
{
    gen_core(g);
    if (pick(g, 6) == 0) {
        put(g, pick(g, 2) ? " UNION " : " EXCEPT ");
        gen_core(g);
    }
    if (pick(g, 4) == 0) {
        put(g, " ORDER BY ");
        if (pick(g, 2))
            put(g, "1");
        else
            gen_col(g);
    }
}

Test(compat_alter_view, random_views_and_alters)
{
    uint64_t seed = compat_seed(3);
    int rounds = 120, unsupported = 0, total = 0;
    char tag[64];
    snprintf(tag, sizeof tag, "seed=%" PRIu64 ": ", seed);
    fprintf(stderr, "%s\n", tag);
    gen g;
    memset(&g, 0, sizeof g);
    g.rng = seed;
    for (int i = 0; i < rounds; i++) {
        g.b.n = 0;
        put(&g, "CREATE VIEW v AS ");
        if (pick(&g, 5) == 0)
            put(&g, "WITH c AS (SELECT a, b FROM t) ");
        gen_select(&g);
        char *view = strdup(g.b.p);
        for (int k = 0; k < 2; k++) {
            total++;
            unsupported += compare(view, alters[pick(&g, sizeof alters / sizeof *alters)], 1, tag);
        }
        free(view);
    }
    free(g.b.p);
    fprintf(stderr, "%sALTERs: %d, refused by folio as unsupported: %d\n", tag, total, unsupported);
}
