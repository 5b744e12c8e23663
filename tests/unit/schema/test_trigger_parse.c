/*
 * CREATE TRIGGER as the schema layer reads it (src/schema/parse_trigger.c):
 * the parts of each statement, the spans of its expressions, what folio
 * marks as not run, and - against libsqlite3 - that every statement SQLite
 * accepts parses, and statements SQLite's parser refuses are refused.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>

#include <stdio.h>
#include <string.h>

#include "schema/parse.h"

static char *span(const char *sql, sch_span s)
{
    static char buf[4][256];
    static int k;
    char *b = buf[k++ & 3];
    snprintf(b, 256, "%.*s", (int)s.len, sql + s.off);
    return b;
}

Test(trigger_parse, parts)
{
    const char *sql = "CREATE TRIGGER IF NOT EXISTS main.\"tr 1\" AFTER UPDATE OF a, \"b\" ON t "
                      "FOR EACH ROW WHEN new.a > old.a AND (SELECT 1) BEGIN "
                      "INSERT OR IGNORE INTO log(x, y) VALUES (new.a, 'a,b'), (CASE WHEN 1 THEN 2 "
                      "END, (1)); "
                      "UPDATE t2 SET n = n + 1, m = coalesce(m, 0) WHERE id = new.id; "
                      "DELETE FROM t3 WHERE k IN (SELECT k FROM t4); "
                      "SELECT RAISE(ABORT, 'no') WHERE new.a < 0; "
                      "INSERT INTO log SELECT a, b AS bb FROM t5 AS q WHERE q.a = 1; END;";
    sch_trigger t;
    char err[256];
    cr_assert_eq(sch_parse_trigger(&t, sql, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(t.name, "tr 1");
    cr_assert_str_eq(t.table, "t");
    cr_assert_eq(t.if_not_exists, 1);
    cr_assert_eq(t.timing, SCH_TRIG_AFTER);
    cr_assert_eq(t.event, SCH_TRIG_UPDATE);
    cr_assert_eq(t.nof, 2);
    cr_assert_str_eq(t.of[1], "b");
    cr_assert(t.has_when);
    cr_assert_str_eq(span(sql, t.when), "new.a > old.a AND (SELECT 1)");
    cr_assert_eq(t.nstmts, 5);
    const sch_trig_stmt *s = &t.stmts[0];
    cr_assert_eq(s->kind, SCH_TS_INSERT);
    cr_assert_eq(s->onconf, SCH_OC_IGNORE);
    cr_assert_str_eq(s->table, "log");
    cr_assert_eq(s->ncols, 2);
    cr_assert_eq(s->nrows, 2);
    cr_assert_eq(s->nvals, 2);
    cr_assert_str_eq(span(sql, s->vals[1]), "'a,b'");
    cr_assert_str_eq(span(sql, s->vals[2]), "CASE WHEN 1 THEN 2 END");
    cr_assert_str_eq(span(sql, s->vals[3]), "(1)");
    s = &t.stmts[1];
    cr_assert_eq(s->kind, SCH_TS_UPDATE);
    cr_assert_eq(s->nset, 2);
    cr_assert_str_eq(s->set_cols[1], "m");
    cr_assert_str_eq(span(sql, s->set_vals[0]), "n + 1");
    cr_assert_str_eq(span(sql, s->set_vals[1]), "coalesce(m, 0)");
    cr_assert_str_eq(span(sql, s->where), "id = new.id");
    s = &t.stmts[2];
    cr_assert_eq(s->kind, SCH_TS_DELETE);
    cr_assert_str_eq(span(sql, s->where), "k IN (SELECT k FROM t4)");
    s = &t.stmts[3];
    cr_assert_eq(s->kind, SCH_TS_SELECT);
    cr_assert_eq(s->nres, 1);
    cr_assert_str_eq(span(sql, s->res[0]), "RAISE(ABORT, 'no')");
    cr_assert_null(s->from);
    cr_assert_str_eq(span(sql, s->where), "new.a < 0");
    s = &t.stmts[4];
    cr_assert_eq(s->kind, SCH_TS_INSERT);
    cr_assert(s->select_source);
    cr_assert_eq(s->nres, 2);
    cr_assert_str_eq(span(sql, s->res[1]), "b");
    cr_assert_str_eq(s->from, "t5");
    cr_assert_str_eq(s->alias, "q");
    cr_assert_str_eq(span(sql, s->where), "q.a = 1");
    for (int i = 0; i < t.nstmts; i++)
        cr_assert_null(t.stmts[i].unsupported, "statement %d: %s", i, t.stmts[i].unsupported);
    sch_trigger_free(&t);
}

/* Where the names are, quotes included (ALTER TABLE edits them there). */
Test(trigger_parse, name_tokens)
{
    const char *sql = "CREATE TRIGGER tr BEFORE UPDATE OF [a], `b` ON main.\"t\" BEGIN "
                      "INSERT INTO 'log'(x, \"y\") SELECT a FROM main.[t5] q; "
                      "UPDATE t2 SET `n` = 1, m = 2; "
                      "DELETE FROM t3; "
                      "SELECT 1 FROM t4 AS \"al\"; "
                      "INSERT INTO log VALUES (1); END;";
    sch_trigger t;
    char err[256];
    cr_assert_eq(sch_parse_trigger(&t, sql, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(span(sql, t.table_tok), "\"t\"");
    cr_assert_eq(t.nof, 2);
    cr_assert_str_eq(span(sql, t.of_toks[0]), "[a]");
    cr_assert_str_eq(span(sql, t.of_toks[1]), "`b`");
    const sch_trig_stmt *s = &t.stmts[0];
    cr_assert_str_eq(span(sql, s->table_tok), "'log'");
    cr_assert_str_eq(span(sql, s->col_toks[0]), "x");
    cr_assert_str_eq(span(sql, s->col_toks[1]), "\"y\"");
    cr_assert_str_eq(span(sql, s->source), "SELECT a FROM main.[t5] q");
    cr_assert_str_eq(span(sql, s->from_tok), "[t5]");
    cr_assert_str_eq(span(sql, s->as_tok), "q");
    s = &t.stmts[1];
    cr_assert_str_eq(span(sql, s->table_tok), "t2");
    cr_assert_str_eq(span(sql, s->set_toks[0]), "`n`");
    cr_assert_str_eq(span(sql, s->set_toks[1]), "m");
    cr_assert_str_eq(span(sql, t.stmts[2].table_tok), "t3");
    cr_assert_str_eq(span(sql, t.stmts[3].from_tok), "t4");
    cr_assert_str_eq(span(sql, t.stmts[3].as_tok), "\"al\"");
    cr_assert_str_eq(span(sql, t.stmts[4].source), "VALUES (1)");
    sch_trigger_free(&t);
}

Test(trigger_parse, defaults_and_unsupported)
{
    const char *sql = "create trigger x delete on t begin "
                      "select a from t1, t2; "
                      "insert into t1 values(1) on conflict(a + 1) do nothing; "
                      "replace into t1 values(1); "
                      "update t1 set (a, b) = (select 1, 2); "
                      "select count(*) from t1 group by a; "
                      "delete from t1; end";
    sch_trigger t;
    char err[256];
    cr_assert_eq(sch_parse_trigger(&t, sql, err, sizeof err), 0, "%s", err);
    cr_assert_eq(t.timing, SCH_TRIG_BEFORE); /* SQLite's default */
    cr_assert_eq(t.event, SCH_TRIG_DELETE);
    cr_assert_eq(t.nstmts, 6);
    cr_assert_str_eq(t.stmts[0].unsupported, "a join");
    cr_assert_null(t.stmts[1].unsupported); /* an expression target: run */
    cr_assert_eq(t.stmts[1].upsert[0].ntarget, 1);
    cr_assert_str_eq(span(sql, t.stmts[1].upsert[0].target[0]), "a + 1");
    cr_assert_null(t.stmts[2].unsupported);
    cr_assert_eq(t.stmts[2].onconf, SCH_OC_REPLACE);
    cr_assert_eq(t.stmts[2].nrows, 1);
    cr_assert_str_eq(t.stmts[3].unsupported, "a row value in SET from a subquery");
    cr_assert_str_eq(t.stmts[4].unsupported, "GROUP BY");
    cr_assert_null(t.stmts[5].unsupported);
    cr_assert_eq(t.stmts[5].has_where, 0);
    sch_trigger_free(&t);
}

/* Row values in SET: each column its value, in order. */
Test(trigger_parse, row_values_in_set)
{
    const char *sql = "create trigger x delete on t begin "
                      "update t1 set (a, \"b\") = (old.x + 1, (2)), c = 3 where a; end";
    sch_trigger t;
    char err[256];
    cr_assert_eq(sch_parse_trigger(&t, sql, err, sizeof err), 0, "%s", err);
    cr_assert_null(t.stmts[0].unsupported);
    cr_assert_eq(t.stmts[0].nset, 3);
    cr_assert_str_eq(t.stmts[0].set_cols[0], "a");
    cr_assert_str_eq(t.stmts[0].set_cols[1], "b");
    cr_assert_str_eq(t.stmts[0].set_cols[2], "c");
    cr_assert_str_eq(span(sql, t.stmts[0].set_vals[0]), "old.x + 1");
    cr_assert_str_eq(span(sql, t.stmts[0].set_vals[1]), "(2)");
    cr_assert_str_eq(span(sql, t.stmts[0].set_vals[2]), "3");
    sch_trigger_free(&t);
}

/* An UPSERT's clauses, taken apart. */
Test(trigger_parse, upsert_clauses)
{
    const char *sql = "create trigger x after insert on t begin "
                      "insert or ignore into u(a, b) values(new.x, 1) "
                      "on conflict(a collate nocase desc, \"b\", lower(c) asc, desc) where a > 0 "
                      "do nothing "
                      "on conflict (c) do update set b = excluded.b + 1, c = 2 where b < 9 "
                      "on conflict do update set b = 0; end";
    sch_trigger t;
    char err[256];
    cr_assert_eq(sch_parse_trigger(&t, sql, err, sizeof err), 0, "%s", err);
    const sch_trig_stmt *s = &t.stmts[0];
    cr_assert_null(s->unsupported);
    cr_assert_eq(s->onconf, SCH_OC_IGNORE);
    cr_assert_eq(s->nupsert, 3);
    const sch_upsert *u = s->upsert;
    cr_assert_eq(u[0].ntarget, 4);
    cr_assert_str_eq(span(sql, u[0].target[0]), "a collate nocase"); /* (DESC dropped) */
    cr_assert_str_eq(span(sql, u[0].target[1]), "\"b\"");
    cr_assert_str_eq(span(sql, u[0].target[2]), "lower(c)");
    cr_assert_str_eq(span(sql, u[0].target[3]), "desc"); /* a column named desc */
    cr_assert_eq(u[0].has_target_where, 1);
    cr_assert_eq(u[0].do_update, 0);
    cr_assert_eq(u[1].ntarget, 1);
    cr_assert_eq(u[1].do_update, 1);
    cr_assert_eq(u[1].nset, 2);
    cr_assert_str_eq(u[1].set_cols[1], "c");
    cr_assert_eq(strncmp(sql + u[1].set_vals[0].off, "excluded.b + 1", u[1].set_vals[0].len), 0);
    cr_assert_eq(u[1].has_where, 1);
    cr_assert_eq(strncmp(sql + u[1].where.off, "b < 9", u[1].where.len), 0);
    cr_assert_eq(u[2].ntarget, 0);
    cr_assert_eq(u[2].do_update, 1);
    cr_assert_eq(u[2].has_where, 0);
    sch_trigger_free(&t);
}

/* Accepted and refused as libsqlite3 accepts and refuses them. */
Test(trigger_parse, against_sqlite)
{
    static const char *const cases[] = {
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u VALUES(new.x); END",
        "CREATE TRIGGER a BEFORE DELETE ON t BEGIN DELETE FROM u WHERE y = old.x; END",
        "CREATE TRIGGER a INSERT ON t WHEN new.x BEGIN SELECT RAISE(IGNORE); END",
        "CREATE TRIGGER a AFTER UPDATE OF x ON t BEGIN UPDATE u SET y = y + 1; END",
        "CREATE TRIGGER a AFTER UPDATE ON t FOR EACH ROW BEGIN SELECT 1; SELECT 2; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u SELECT x FROM t; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1), (1, 2); END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1) ON CONFLICT DO NOTHING;"
        " END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1) ON CONFLICT(y) DO"
        " UPDATE SET y = excluded.y + 1 WHERE y > 0 ON CONFLICT DO NOTHING; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u SELECT x FROM t WHERE 1"
        " ON CONFLICT(y COLLATE nocase DESC) WHERE y > 1 DO NOTHING; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u SELECT 1 ON CONFLICT DO UPDATE"
        " SET y = 2; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1) ON CONFLICT(lower(y)"
        " COLLATE nocase ASC, y + 1, (y), desc) WHERE y > 1 DO NOTHING; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1) ON CONFLICT(y COLLATE"
        " desc) DO NOTHING; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN UPDATE u SET (y) = (1), y = 2; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN UPDATE u SET y = 0, (y, y) = (new.x, (2))"
        " WHERE y; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1) ON CONFLICT DO UPDATE"
        " SET (y) = (excluded.y); END",
        /* refused */
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN UPDATE u SET (y, y) = (1); END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN UPDATE u SET (y) = (1, 2); END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN UPDATE u SET (y) = 1; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN UPDATE u SET (y, ) = (1, 2); END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN UPDATE u SET () = (); END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1) ON CONFLICT(y NULLS"
        " FIRST) DO NOTHING; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1) ON CONFLICT(y, lower(y)"
        " DESC NULLS last) DO NOTHING; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1) ON CONFLICT(y ASC DESC)"
        " DO NOTHING; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1) ON CONFLICT() DO"
        " NOTHING; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1) ON CONFLICT(y,) DO"
        " NOTHING; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u SELECT x FROM t ON CONFLICT(y)"
        " DO NOTHING; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1) ON CONFLICT DO NOTHING"
        " ON CONFLICT(y) DO NOTHING; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1) ON CONFLICT(y)"
        " DO UPDATE y = 1; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1) ON CONFLICT(y); END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1) ON CONFLICT(y) DO"
        " NOTHING RETURNING y; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO u(y) DEFAULT VALUES; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN VALUES(1); END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN SELECT CASE new.x WHEN 1 THEN 'a' END; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN SELECT 1 END",
        "CREATE TRIGGER a AFTER INSERT ON t SELECT 1; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN INSERT INTO main.u VALUES(1); END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN UPDATE u SET WHERE 1; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN DELETE u; END",
        "CREATE TRIGGER a AFTER FOO ON t BEGIN SELECT 1; END",
        "CREATE TRIGGER a AFTER INSERT ON t BEGIN SELECT 1; END extra",
    };
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "CREATE TABLE t(x); CREATE TABLE u(y)", 0, 0, 0), SQLITE_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int ok_sqlite = sqlite3_exec(db, cases[i], 0, 0, 0) == SQLITE_OK;
        sqlite3_exec(db, "DROP TRIGGER IF EXISTS a", 0, 0, 0);
        sch_trigger t;
        char err[256] = "";
        int ok_folio = sch_parse_trigger(&t, cases[i], err, sizeof err) == 0;
        cr_expect_eq(ok_folio, ok_sqlite, "%s: folio %d (%s), sqlite %d (%s)", cases[i], ok_folio,
                     err, ok_sqlite, sqlite3_errmsg(db));
        if (!ok_sqlite && !ok_folio &&
            (strstr(sqlite3_errmsg(db), "qualified") || strstr(sqlite3_errmsg(db), "syntax") ||
             strstr(sqlite3_errmsg(db), "RETURNING") || strstr(sqlite3_errmsg(db), "NULLS") ||
             strstr(sqlite3_errmsg(db), "assigned")))
            cr_expect_str_eq(err, sqlite3_errmsg(db));
        sch_trigger_free(&t);
    }
    sqlite3_close(db);
}
