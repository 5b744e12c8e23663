/*
 * test_alter_exec.c - ALTER TABLE through folio_exec, against libsqlite3
 * doing the same statement on a copy of the file.
 *
 * Each case builds a database with libsqlite3, copies it, runs the ALTER
 * TABLE through folio on one copy and through libsqlite3 on the other, and
 * compares the two files as libsqlite3 reads them: every sqlite_schema row
 * (type, name, tbl_name and the SQL text, byte for byte), every row of every
 * table (types and values), sqlite_sequence; both pass integrity_check. A
 * statement SQLite refuses must be refused by folio with the same message,
 * leaving the file as it was; then the rows written after an ALTER (new
 * columns, index seeks, renamed tables) are read back through libsqlite3.
 */
#include "compat.h"
#include "trig_pair.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a file as libsqlite3 reads it ---- */

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

/* The rows of a query, each value with its type. */
static void dump_query(sbuf *b, sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = compat_prepare(db, sql);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            char num[64];
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_NULL:
                sb_str(b, "N");
                break;
            case SQLITE_INTEGER:
                snprintf(num, sizeof num, "I%lld", (long long)sqlite3_column_int64(st, i));
                sb_str(b, num);
                break;
            case SQLITE_FLOAT:
                snprintf(num, sizeof num, "R%.17g", sqlite3_column_double(st, i));
                sb_str(b, num);
                break;
            case SQLITE_TEXT:
                sb_str(b, "T'");
                sb_add(b, (const char *)sqlite3_column_text(st, i),
                       (size_t)sqlite3_column_bytes(st, i));
                sb_str(b, "'");
                break;
            default: {
                const uint8_t *p = sqlite3_column_blob(st, i);
                int n = sqlite3_column_bytes(st, i);
                snprintf(num, sizeof num, "B%d:", n);
                sb_str(b, num);
                for (int k = 0; k < n; k++) {
                    snprintf(num, sizeof num, "%02x", p[k]);
                    sb_str(b, num);
                }
            }
            }
            sb_str(b, "|");
        }
        sb_str(b, "\n");
    }
    cr_assert_eq(rc, SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
}

/* Schema rows, then every table's rows in rowid (or key) order. */
static char *dump_file(const char *path)
{
    sbuf b = {0};
    sqlite3 *db = compat_sqlite_open_ro(path);
    dump_query(&b, db, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid");
    sqlite3_stmt *st = compat_prepare(db, "SELECT name FROM sqlite_schema WHERE type = 'table' "
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

static void assert_integrity(const char *path, const char *what)
{
    char *ok = compat_integrity(path);
    cr_assert_str_eq(ok, "ok", "%s: integrity_check: %s", what, ok);
    free(ok);
}

/* ---- running a statement both ways ---- */

typedef struct pair {
    char *dir, *a, *b; /* a: folio's copy, b: libsqlite3's */
} pair;

static pair pair_new(const char *setup)
{
    pair p;
    p.dir = compat_tmpdir();
    p.a = compat_path(p.dir, "folio.db");
    p.b = compat_path(p.dir, "sqlite.db");
    sqlite3 *db = compat_sqlite_open(p.a);
    compat_exec(db, "PRAGMA page_size=1024");
    compat_exec(db, setup);
    compat_sqlite_close(db);
    compat_copy_db(p.a, p.b, 0);
    return p;
}

static void pair_free(pair *p)
{
    compat_rmtree(p->dir);
    free(p->a);
    free(p->b);
    free(p->dir);
}

/* Run `sql` through folio in one write transaction; returns folio_exec's
 * code, its message in msg. The transaction commits either way (a failed
 * statement leaves nothing of itself). */
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

/* The statement succeeds both ways and leaves the same file. */
static void same_alter(const char *setup, const char *sql)
{
    pair p = pair_new(setup);
    char fm[512], sm[512];
    int src = sqlite_run(p.b, sql, sm, sizeof sm);
    cr_assert_eq(src, SQLITE_OK, "libsqlite3 refused %s: %s", sql, sm);
    int frc = folio_run(p.a, sql, fm, sizeof fm);
    cr_assert_eq(frc, 0, "folio refused %s: %s", sql, fm);
    assert_integrity(p.a, sql);
    char *da = dump_file(p.a), *db = dump_file(p.b);
    cr_assert_str_eq(da, db, "%s: folio's file differs from libsqlite3's", sql);
    free(da);
    free(db);
    pair_free(&p);
}

/* Both refuse the statement with the same message (folio's code `code`);
 * folio's file is unchanged. */
static void same_refusal(const char *setup, const char *sql, int code)
{
    pair p = pair_new(setup);
    char *before = dump_file(p.a);
    char fm[512], sm[512];
    int src = sqlite_run(p.b, sql, sm, sizeof sm);
    cr_assert_neq(src, SQLITE_OK, "libsqlite3 accepted %s", sql);
    int frc = folio_run(p.a, sql, fm, sizeof fm);
    cr_assert_eq(frc, code, "%s: folio returned %d (%s), expected %d", sql, frc, fm, code);
    cr_assert_str_eq(fm, sm, "%s: messages differ", sql);
    char *after = dump_file(p.a);
    cr_assert_str_eq(before, after, "%s: a refused statement changed the file", sql);
    assert_integrity(p.a, sql);
    free(before);
    free(after);
    pair_free(&p);
}

/* folio refuses what it cannot do as SQLite would (FOLIO_UNSUPPORTED), and
 * the file stays as it was. */
static void folio_refuses(const char *setup, const char *sql, const char *needle)
{
    pair p = pair_new(setup);
    char *before = dump_file(p.a);
    char fm[512];
    int frc = folio_run(p.a, sql, fm, sizeof fm);
    cr_assert_eq(frc, FOLIO_UNSUPPORTED, "%s: folio returned %d (%s)", sql, frc, fm);
    cr_assert(strstr(fm, needle), "%s: message \"%s\" lacks \"%s\"", sql, fm, needle);
    char *after = dump_file(p.a);
    cr_assert_str_eq(before, after, "%s: a refused statement changed the file", sql);
    free(before);
    free(after);
    pair_free(&p);
}

/* A table of every kind of value, overflow rows, indexes, constraints. */
static const char setup_main[] =
    "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c, d REAL, e BLOB, f NUMERIC,"
    " CHECK(t.c IS NULL OR t.c > -1000000), UNIQUE(b));"
    "CREATE INDEX t_d ON t(d) WHERE t.d > 1;"
    "CREATE INDEX t_expr ON t(c + 1, \"b\");"
    "CREATE TABLE u(x REFERENCES t(c), y, z DEFAULT 'z', FOREIGN KEY(y) REFERENCES \"t\"(b));"
    "CREATE TABLE seq(id INTEGER PRIMARY KEY AUTOINCREMENT, v);"
    "INSERT INTO seq(v) VALUES (1), (2);" COMPAT_SERIES(
        1, 300) "INSERT INTO t SELECT value, 'b' || value, value * 3, value / 7.0,"
                " CASE WHEN value % 50 = 0 THEN zeroblob(3000 + value) ELSE x'0102' END,"
                " CASE WHEN value % 3 = 0 THEN 2.0 ELSE '12' END FROM series;"
                "INSERT INTO u VALUES (3, 'b1', 1), (6, 'b2', 2.5);";

Test(compat_alter_exec, add_column)
{
    static const char *const stmts[] = {
        "ALTER TABLE t ADD COLUMN g INT DEFAULT 7",
        "ALTER TABLE t ADD g",
        "ALTER TABLE t ADD COLUMN g TEXT DEFAULT 'it''s' COLLATE nocase",
        "ALTER TABLE t ADD COLUMN g DEFAULT (-5)",
        "ALTER TABLE t ADD COLUMN g DEFAULT (CAST(1 AS TEXT))",
        "ALTER TABLE t ADD COLUMN g DEFAULT x'00ff'",
        "ALTER TABLE t ADD COLUMN g DEFAULT \"dq\"",
        "ALTER TABLE t ADD COLUMN g REAL DEFAULT 3 NOT NULL",
        "ALTER TABLE t ADD COLUMN g CHECK (g IS NULL OR g > 0)",
        "ALTER TABLE t ADD COLUMN g AS (a * 2)",
        "ALTER TABLE t ADD COLUMN g /* comment */ TEXT ;  ",
        "ALTER TABLE main.t ADD COLUMN \"g h\" DEFAULT TRUE",
        "ALTER TABLE u ADD COLUMN w REFERENCES t(a)",
        "ALTER TABLE seq ADD COLUMN w DEFAULT 1.5",
    };
    for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++)
        same_alter(setup_main, stmts[i]);
}

Test(compat_alter_exec, add_column_to_empty_table)
{
    /* What SQLite refuses only when rows exist. */
    static const char setup[] = "CREATE TABLE e(a, b, PRIMARY KEY(a, b)) WITHOUT ROWID;";
    static const char *const stmts[] = {
        "ALTER TABLE e ADD COLUMN x NOT NULL",
        "ALTER TABLE e ADD COLUMN x DEFAULT CURRENT_TIMESTAMP",
        "ALTER TABLE e ADD COLUMN x AS (a || b) STORED",
    };
    for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++)
        same_alter(setup, stmts[i]);
}

Test(compat_alter_exec, rename_table)
{
    static const char setup_trigger[] =
        "CREATE TABLE t(a, b CHECK (t.b <> 0), UNIQUE(a, b));"
        "CREATE TABLE k(x INTEGER PRIMARY KEY AUTOINCREMENT, y REFERENCES t);"
        "CREATE INDEX ti ON t(b) WHERE t.b > 0;"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;"
        "CREATE VIEW other AS SELECT 1 AS one;"
        "INSERT INTO t VALUES (1, 2), (3, 4); INSERT INTO k(y) VALUES (5);";
    static const char *const stmts[] = {
        "ALTER TABLE t RENAME TO t2",       "ALTER TABLE t RENAME TO \"n\"\"ew\"",
        "ALTER TABLE t RENAME TO [sp ace]", "ALTER TABLE main.t RENAME TO 'str'",
        "ALTER TABLE T RENAME TO tt",       "ALTER TABLE t RENAME TO other_name;",
    };
    for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++) {
        same_alter(setup_main, stmts[i]);
        same_alter(setup_trigger, stmts[i]);
    }
    same_alter(setup_main, "ALTER TABLE seq RENAME TO seq2");
    same_alter(setup_trigger, "ALTER TABLE k RENAME TO k2");
}

Test(compat_alter_exec, rename_column)
{
    static const char setup_q[] =
        "CREATE TABLE q(a, b AS (\"a\" || \"zz\") , c CHECK (c <> \"str\"), [d] COLLATE nocase,"
        " `e`, PRIMARY KEY(\"a\", e), UNIQUE(b COLLATE rtrim DESC));"
        "CREATE INDEX qi ON q(a COLLATE nocase, \"q\" || a) WHERE a <> \"x\";"
        "CREATE TABLE other(m CHECK(m != \"s\"));"
        "INSERT INTO q(a, c, d, e) VALUES (1, 2, 3, 4), (2, 3, 4, 5);";
    static const char *const main_stmts[] = {
        "ALTER TABLE t RENAME COLUMN c TO cc",   "ALTER TABLE t RENAME COLUMN \"b\" TO bb",
        "ALTER TABLE t RENAME b TO \"B B\"",     "ALTER TABLE t RENAME COLUMN a TO id",
        "ALTER TABLE t RENAME COLUMN d TO [dd]", "ALTER TABLE u RENAME COLUMN x TO \"xx\"",
        "ALTER TABLE u RENAME COLUMN y TO yy",   "ALTER TABLE t RENAME COLUMN e TO E",
    };
    for (size_t i = 0; i < sizeof main_stmts / sizeof *main_stmts; i++)
        same_alter(setup_main, main_stmts[i]);
    static const char *const q_stmts[] = {
        "ALTER TABLE q RENAME COLUMN a TO aa",
        "ALTER TABLE q RENAME COLUMN d TO \"select\"",
        "ALTER TABLE q RENAME COLUMN e TO [x y]",
        "ALTER TABLE q RENAME COLUMN c TO 'str'",
    };
    for (size_t i = 0; i < sizeof q_stmts / sizeof *q_stmts; i++)
        same_alter(setup_q, q_stmts[i]);
}

Test(compat_alter_exec, drop_column)
{
    static const char setup_kinds[] =
        "CREATE TABLE w(a PRIMARY KEY, b, c) WITHOUT ROWID;"
        "INSERT INTO w VALUES (1, 2, 3), (2, zeroblob(5000), x'0a0b'), ('x', 'y', 'z');"
        "CREATE TABLE g(a INTEGER PRIMARY KEY, b, c AS (b + 1) STORED, d AS (a * 2) VIRTUAL, e);"
        "INSERT INTO g(a, b, e) VALUES (1, 10, 'e'), (2, NULL, zeroblob(2000));"
        "CREATE TABLE h(a, \"b c\" TEXT  , d, UNIQUE(a) );"
        "INSERT INTO h VALUES (1, 2, 3);"
        "ALTER TABLE h ADD COLUMN late DEFAULT 'late';" /* short rows */
        "INSERT INTO h VALUES (4, 5, 6, 7);"
        "CREATE TABLE v1(a INTEGER PRIMARY KEY, b);"
        "INSERT INTO v1 VALUES (1, 2);";
    static const char *const stmts[] = {
        "ALTER TABLE w DROP COLUMN b",  "ALTER TABLE w DROP COLUMN c",
        "ALTER TABLE g DROP COLUMN c",  "ALTER TABLE g DROP COLUMN d",
        "ALTER TABLE g DROP COLUMN e",  "ALTER TABLE h DROP COLUMN d",
        "ALTER TABLE h DROP \"b c\"",   "ALTER TABLE h DROP COLUMN late",
        "ALTER TABLE v1 DROP COLUMN b",
    };
    for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++)
        same_alter(setup_kinds, stmts[i]);
    static const char *const main_stmts[] = {
        "ALTER TABLE t DROP COLUMN e", /* overflow rows rewritten */
        "ALTER TABLE t DROP COLUMN f",
        "ALTER TABLE u DROP COLUMN x",
        "ALTER TABLE u DROP COLUMN z",
    };
    for (size_t i = 0; i < sizeof main_stmts / sizeof *main_stmts; i++)
        same_alter(setup_main, main_stmts[i]);
}

Test(compat_alter_exec, refusals_as_sqlite)
{
    static const char setup[] =
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT UNIQUE, c CHECK(c>0), d, e AS (d*2), f, g,"
        " h, k, m, UNIQUE(f), UNIQUE(g,h), FOREIGN KEY(k) REFERENCES z(q));"
        "CREATE INDEX im ON t(m);"
        "CREATE VIEW v AS SELECT a FROM t;"
        "CREATE TABLE one(x);"
        "INSERT INTO t(a,b,c,d,f,g,h,k,m) VALUES (1,'x',1,2,3,4,5,6,7);";
    static const struct {
        const char *sql;
        int code;
    } cases[] = {
        {"ALTER TABLE t DROP COLUMN zz", FOLIO_ERROR},
        {"ALTER TABLE t DROP COLUMN \"zz\"", FOLIO_ERROR},
        {"ALTER TABLE t DROP COLUMN a", FOLIO_ERROR},
        {"ALTER TABLE t DROP COLUMN b", FOLIO_ERROR},
        {"ALTER TABLE t DROP COLUMN d", FOLIO_ERROR},
        {"ALTER TABLE t DROP COLUMN f", FOLIO_ERROR},
        {"ALTER TABLE t DROP COLUMN g", FOLIO_ERROR},
        {"ALTER TABLE t DROP COLUMN k", FOLIO_ERROR},
        {"ALTER TABLE t DROP COLUMN m", FOLIO_ERROR},
        {"ALTER TABLE one DROP COLUMN x", FOLIO_ERROR},
        {"ALTER TABLE sqlite_schema DROP COLUMN sql", FOLIO_ERROR},
        {"ALTER TABLE sqlite_master RENAME TO x", FOLIO_ERROR},
        {"ALTER TABLE v DROP COLUMN a", FOLIO_ERROR},
        {"ALTER TABLE nope DROP COLUMN a", FOLIO_ERROR},
        {"ALTER TABLE v RENAME TO v2", FOLIO_ERROR},
        {"ALTER TABLE v RENAME COLUMN a TO b", FOLIO_ERROR},
        {"ALTER TABLE v ADD COLUMN z", FOLIO_ERROR},
        {"ALTER TABLE t RENAME TO v", FOLIO_ERROR},
        {"ALTER TABLE t RENAME TO im", FOLIO_ERROR},
        {"ALTER TABLE t RENAME TO sqlite_x", FOLIO_ERROR},
        {"ALTER TABLE t RENAME TO T", FOLIO_ERROR},
        {"ALTER TABLE t RENAME COLUMN b TO c", FOLIO_ERROR},
        {"ALTER TABLE t RENAME COLUMN zz TO c", FOLIO_ERROR},
        {"ALTER TABLE t ADD COLUMN x PRIMARY KEY", FOLIO_ERROR},
        {"ALTER TABLE t ADD COLUMN x UNIQUE", FOLIO_ERROR},
        {"ALTER TABLE t ADD COLUMN x NOT NULL", FOLIO_ERROR},
        {"ALTER TABLE t ADD COLUMN x DEFAULT NULL NOT NULL", FOLIO_ERROR},
        {"ALTER TABLE t ADD COLUMN x DEFAULT CURRENT_TIME", FOLIO_ERROR},
        {"ALTER TABLE t ADD COLUMN x DEFAULT (1+1)", FOLIO_ERROR},
        {"ALTER TABLE t ADD COLUMN x DEFAULT (abs(1))", FOLIO_ERROR},
        {"ALTER TABLE t ADD COLUMN x AS (1) STORED", FOLIO_ERROR},
        {"ALTER TABLE t ADD COLUMN b", FOLIO_ERROR},
        {"ALTER TABLE t ADD COLUMN x CHECK (x > 0) DEFAULT 0", FOLIO_CONSTRAINT},
        {"ALTER TABLE t ADD COLUMN x DEFAULT 5 CHECK (x > 3) CHECK (a > 1)", FOLIO_CONSTRAINT},
        {"ALTER TABLE t ADD COLUMN x NOT NULL AS (NULL)", FOLIO_CONSTRAINT},
        {"ALTER TABLE t ADD COLUMN x COLLATE foo", FOLIO_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        same_refusal(setup, cases[i].sql, cases[i].code);
}

Test(compat_alter_exec, views_rewritten)
{
    static const char setup[] = "CREATE TABLE t(a, b);"
                                "CREATE VIEW v AS SELECT a FROM t;"
                                "CREATE TRIGGER tr AFTER UPDATE OF b ON t BEGIN SELECT 1; END;"
                                "CREATE VIEW s AS SELECT \"maybe a string\" AS x FROM t;";
    same_alter(setup, "ALTER TABLE t RENAME COLUMN a TO aa");
    same_alter(setup, "ALTER TABLE t DROP COLUMN b");
    same_alter(setup, "ALTER TABLE t RENAME TO t2");
    same_alter("CREATE TABLE t(a, b); CREATE TABLE o(x); CREATE VIEW v AS SELECT x FROM o;"
               "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;",
               "ALTER TABLE t RENAME COLUMN a TO aa");
}

/* A view with what folio does not resolve (a table-valued function): left
 * alone when it names neither the table nor the column, else refused. */
Test(compat_alter_exec, views_folio_cannot_resolve)
{
    static const char setup[] = "CREATE TABLE t(a, b); CREATE TABLE o(x);"
                                "CREATE VIEW j AS SELECT x, value FROM o, json_each('[1]');";
    same_alter(setup, "ALTER TABLE t RENAME COLUMN a TO aa");
    same_alter(setup, "ALTER TABLE t RENAME TO t2");
    folio_refuses(setup, "ALTER TABLE o RENAME COLUMN x TO y", "view j names x");
    folio_refuses(setup, "ALTER TABLE o RENAME TO o2", "view j names o");
}

/* ---- triggers ---- */

/* Triggers of every kind of body on t, on another table naming t, and
 * one on a table named like a column. */
static const char setup_trig[] =
    "CREATE TABLE t(a INTEGER PRIMARY KEY, b, c);"
    "CREATE TABLE log(x, y, b);"
    "CREATE TABLE \"T x\"(t, b);"
    "CREATE TRIGGER t_ai AFTER INSERT ON t WHEN new.b > 0 AND new.rowid > 0 BEGIN"
    "  INSERT INTO log VALUES (new.a, (SELECT count(*) FROM t WHERE t.b = new.b), \"b\");"
    "  UPDATE t SET c = t.b + 1 WHERE a = new.a;"
    "  DELETE FROM \"t\" WHERE rowid = -1;"
    "  SELECT q.c, c FROM t AS q WHERE q.b = 1;"
    "  SELECT x FROM log WHERE EXISTS (SELECT 1 FROM main.t tt WHERE tt.a = log.x);"
    "END;"
    "CREATE TRIGGER t_bu BEFORE UPDATE OF b, C ON t BEGIN"
    "  INSERT INTO log(x, b) SELECT new.b, b FROM t WHERE t.c = \"zz\";"
    "  UPDATE log SET b = old.b, y = (SELECT max(t.c) FROM [t]) WHERE x = old.a;"
    "END;"
    "CREATE TRIGGER log_ad AFTER DELETE ON log BEGIN"
    "  INSERT INTO t(b, c) VALUES (old.x, \"str\");"
    "  UPDATE \"T x\" SET t = t + old.b WHERE \"T x\".b = old.y;"
    "  SELECT count(*), max(b) FROM t WHERE c > old.x;"
    "END;"
    "CREATE TRIGGER tx_ai AFTER INSERT ON \"T x\" BEGIN"
    "  UPDATE t SET b = new.t WHERE t.a = new.b;"
    "  SELECT t, \"T x\".t FROM \"T x\";"
    "END;"
    "INSERT INTO t VALUES (1, 2, 3), (2, 0, 5); INSERT INTO log VALUES (1, 2, 3);"
    "INSERT INTO \"T x\" VALUES (1, 2);";

Test(compat_alter_exec, triggers_rename_table)
{
    static const char *const stmts[] = {
        "ALTER TABLE t RENAME TO t2",       "ALTER TABLE t RENAME TO \"n\"\"ew\"",
        "ALTER TABLE T RENAME TO [sp ace]", "ALTER TABLE log RENAME TO journal",
        "ALTER TABLE \"T x\" RENAME TO tx", "ALTER TABLE \"T x\" RENAME TO \"T y\"",
    };
    for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++)
        same_alter(setup_trig, stmts[i]);
}

Test(compat_alter_exec, triggers_rename_column)
{
    static const char *const stmts[] = {
        "ALTER TABLE t RENAME COLUMN b TO bb",    "ALTER TABLE t RENAME COLUMN b TO \"B b\"",
        "ALTER TABLE t RENAME COLUMN a TO id",    "ALTER TABLE t RENAME c TO [see]",
        "ALTER TABLE log RENAME COLUMN b TO bee", "ALTER TABLE log RENAME COLUMN x TO \"x\"",
        "ALTER TABLE \"T x\" RENAME t TO tt",     "ALTER TABLE \"T x\" RENAME COLUMN b TO t2",
    };
    for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++)
        same_alter(setup_trig, stmts[i]);
}

/* DROP COLUMN: the double-quoted strings of every trigger become
 * single-quoted; names that are no expression (INSERT's columns, SET's,
 * UPDATE OF) may still name the dropped column. */
Test(compat_alter_exec, triggers_drop_column)
{
    static const char setup[] =
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b, c, d);"
        "CREATE TABLE o(x, y);"
        "CREATE TRIGGER t_au AFTER UPDATE OF d, b ON t WHEN new.b <> \"b\" BEGIN"
        "  INSERT INTO t(d, b) VALUES (\"x\"\"y\", \"d\");"
        "  UPDATE t SET d = \"it's\" WHERE a = new.a;"
        "  SELECT \"it's\"'al' FROM t;"
        "  SELECT \"str\", b FROM t WHERE \"c\" = \"d\";"
        "END;"
        "CREATE TRIGGER o_ai AFTER INSERT ON o BEGIN"
        "  INSERT INTO o SELECT \"y\", \"z\" FROM o WHERE x = \"x\";"
        "END;"
        "INSERT INTO t VALUES (1, 2, 3, 4);";
    static const char *const stmts[] = {
        "ALTER TABLE t DROP COLUMN d",
        "ALTER TABLE t DROP COLUMN c", /* "c" was a column: now a string */
        "ALTER TABLE o DROP COLUMN y",
        "ALTER TABLE t RENAME COLUMN d TO dd",
        "ALTER TABLE t RENAME TO t2",
    };
    for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++)
        same_alter(setup, stmts[i]);
    /* A trigger that would no longer resolve. */
    static const char *const refused[] = {
        "ALTER TABLE t DROP COLUMN b",
        "ALTER TABLE o DROP COLUMN x",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        same_refusal(setup, refused[i], FOLIO_ERROR);
    static const char *const refused_trig[] = {
        "ALTER TABLE t DROP COLUMN c",       "ALTER TABLE t DROP COLUMN b",
        "ALTER TABLE log DROP COLUMN y",     "ALTER TABLE log DROP COLUMN x",
        "ALTER TABLE \"T x\" DROP COLUMN b",
    };
    for (size_t i = 0; i < sizeof refused_trig / sizeof *refused_trig; i++)
        same_refusal(setup_trig, refused_trig[i], FOLIO_ERROR);
}

/* SQLite's errors: a trigger that does not resolve fails every ALTER that
 * rewrites the schema; one that a change would break fails that change. */
Test(compat_alter_exec, trigger_errors)
{
    static const char setup[] = "CREATE TABLE t(a INTEGER PRIMARY KEY, b, c);"
                                "CREATE TABLE u(x);"
                                "CREATE TRIGGER tr0 AFTER INSERT ON u BEGIN"
                                "  SELECT x FROM nope;"
                                "END;";
    static const char *const stmts[] = {
        "ALTER TABLE t RENAME COLUMN b TO bb",
        "ALTER TABLE t DROP COLUMN b",
        "ALTER TABLE t RENAME TO t2",
        "ALTER TABLE u RENAME TO u2",
    };
    for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++)
        same_refusal(setup, stmts[i], FOLIO_ERROR);
    static const char *const setups[] = {
        "CREATE TABLE t(a, b); CREATE TRIGGER tr AFTER INSERT ON t BEGIN"
        " UPDATE t SET a = 1 WHERE zz = 1; END;",
        "CREATE TABLE t(a, b); CREATE TRIGGER tr AFTER INSERT ON t BEGIN"
        " DELETE FROM t WHERE old.a; END;",
        "CREATE TABLE t(a, b); CREATE TRIGGER tr AFTER INSERT ON t WHEN new.a BEGIN"
        " VALUES (1), (1, 2); END;",
        "CREATE TABLE t(a, b); CREATE TRIGGER tr AFTER INSERT ON t BEGIN"
        " INSERT INTO gone VALUES (new.a); END;",
        "CREATE TABLE t(a, b); CREATE TRIGGER tr AFTER INSERT ON t BEGIN"
        " SELECT (SELECT q FROM t); END;",
    };
    for (size_t i = 0; i < sizeof setups / sizeof *setups; i++) {
        same_refusal(setups[i], "ALTER TABLE t RENAME TO t2", FOLIO_ERROR);
        same_refusal(setups[i], "ALTER TABLE t RENAME COLUMN b TO c", FOLIO_ERROR);
    }
    /* Which error comes first: an index's, then the table's, then a
     * trigger's. */
    static const char *const first[] = {
        "CREATE TABLE t(a, b, c); CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT new.c; END;"
        "CREATE INDEX i ON t(c);",
        "CREATE TABLE t(a, b, c); CREATE INDEX i ON t(c);"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT new.c; END;",
        "CREATE TABLE t(a, b, c, CHECK (c > 0));"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT new.c; END;",
        "CREATE TABLE t(a, b, c CHECK (c > 0));"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT new.c; END;",
    };
    for (size_t i = 0; i < sizeof first / sizeof *first; i++)
        same_refusal(first[i], "ALTER TABLE t DROP COLUMN c", FOLIO_ERROR);
    /* What SQLite does not look at when it renames: functions, aggregates,
     * the numbers of values. */
    static const char *const lenient[] = {
        "SELECT abs(1, 2) FROM o;",      "SELECT 1 FROM o WHERE count(*) > 1;",
        "SELECT nosuchfn(x) FROM o;",    "INSERT INTO o VALUES (1, 2, 3);",
        "INSERT INTO o(zz) VALUES (1);", "UPDATE o SET zz = 1;",
        "SELECT (SELECT 1, 2);",
    };
    for (size_t i = 0; i < sizeof lenient / sizeof *lenient; i++) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "CREATE TABLE t(a, b); CREATE TABLE o(x); CREATE TRIGGER tr AFTER INSERT ON t"
                 " BEGIN %s END;",
                 lenient[i]);
        same_alter(sql, "ALTER TABLE t RENAME TO t2");
        same_alter(sql, "ALTER TABLE t RENAME COLUMN b TO c");
        same_alter(sql, "ALTER TABLE o RENAME TO o2");
    }
}

/* Shapes: quoting, WITHOUT ROWID, a table named like a column, nested and
 * correlated subqueries, SELECT *, t.*, aliases, WHEN with a subquery. */
Test(compat_alter_exec, triggers_more_shapes)
{
    static const char setup[] =
        "CREATE TABLE b(b INTEGER PRIMARY KEY, `c c`, \"d\" COLLATE nocase);"
        "CREATE TABLE w(k, v, PRIMARY KEY(k)) WITHOUT ROWID;"
        "CREATE TRIGGER b_au AFTER UPDATE OF `c c`, [d] ON `b` FOR EACH ROW"
        "  WHEN (SELECT count(*) FROM w WHERE w.k = new.b) = 0 BEGIN"
        "  INSERT INTO w(k, v) VALUES (new.b, new.`c c` || old.\"d\");"
        "  UPDATE w SET v = (SELECT x.d FROM b AS x WHERE x.b = w.k AND EXISTS"
        "    (SELECT 1 FROM b WHERE b.b = x.b AND b.\"c c\" > w.v)) WHERE k > new.b;"
        "  SELECT * FROM b WHERE b = new.b;"
        "  SELECT b.*, 'b' FROM b;"
        "  SELECT (SELECT b.* FROM b), (SELECT q.* FROM b q) FROM w;"
        "  DELETE FROM 'w' WHERE k IN (SELECT b FROM b WHERE d = 'x' COLLATE binary);"
        "END;"
        "CREATE TRIGGER w_bd BEFORE DELETE ON w BEGIN"
        "  SELECT RAISE(ABORT, 'no') WHERE old.k IN (SELECT b FROM main.b);"
        "  UPDATE b SET `c c` = old.v, b = b + 0 WHERE b.b = old.k;"
        "  SELECT v, count(*), max(k) FROM w WHERE k > old.k;"
        "END;"
        "INSERT INTO b VALUES (1, 'x', 'y'); INSERT INTO w VALUES (1, 2), (3, 4);";
    static const char *const stmts[] = {
        "ALTER TABLE b RENAME TO bee",
        "ALTER TABLE b RENAME TO \"B\"\"q\"",
        "ALTER TABLE w RENAME TO b2",
        "ALTER TABLE b RENAME COLUMN b TO id",
        "ALTER TABLE b RENAME COLUMN `c c` TO c",
        "ALTER TABLE b RENAME d TO [dd]",
        "ALTER TABLE w RENAME COLUMN k TO b",
        "ALTER TABLE w RENAME COLUMN v TO \"v v\"",
    };
    for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++)
        same_alter(setup, stmts[i]);
    same_refusal(setup, "ALTER TABLE w DROP COLUMN v", FOLIO_ERROR);
    same_refusal(setup, "ALTER TABLE b DROP COLUMN d", FOLIO_ERROR);
}

/* Parts of triggers folio cannot resolve (a trigger on a view, UPSERT, a
 * join): left alone when they do not name what changes, else refused. */
Test(compat_alter_exec, triggers_folio_cannot_resolve)
{
    static const char setup[] =
        "CREATE TABLE t(a, b); CREATE TABLE u(x, y); CREATE VIEW v AS SELECT 1 AS x;"
        "CREATE TRIGGER v_io INSTEAD OF INSERT ON v BEGIN INSERT INTO u VALUES (new.x, 1); END;"
        "CREATE TRIGGER u_ai AFTER INSERT ON u BEGIN"
        "  INSERT INTO u(x) SELECT p.x FROM u AS p JOIN u AS q ON p.x = q.y;"
        "  INSERT INTO u VALUES (new.x, 2) ON CONFLICT DO NOTHING;"
        "END;";
    static const char *const stmts[] = {
        "ALTER TABLE t RENAME TO t2",
        "ALTER TABLE t RENAME COLUMN a TO aa",
        "ALTER TABLE t DROP COLUMN b",
    };
    for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++)
        same_alter(setup, stmts[i]);
    folio_refuses(setup, "ALTER TABLE u RENAME TO u2", "trigger v_io names u");
    folio_refuses(setup, "ALTER TABLE u RENAME COLUMN y TO z", "trigger u_ai names y");
    folio_refuses("CREATE TABLE t(a, b); CREATE TRIGGER tr AFTER INSERT ON t BEGIN"
                  " INSERT INTO t SELECT a, \"maybe\" FROM t GROUP BY a; END;",
                  "ALTER TABLE t DROP COLUMN b", "trigger tr has the double-quoted word");
}

/* ---- random triggers, random ALTERs ---- */

typedef struct rtab {
    const char *name;
    const char *cols[3];
    int ipk; /* INTEGER PRIMARY KEY column or -1 */
    int without_rowid;
} rtab;

static const rtab rtabs[] = {
    {"t", {"a", "b", "c"}, 0, 0},
    {"u", {"x", "y", "b"}, -1, 0},
    {"w", {"k", "v", "t"}, -1, 1},
};

enum { EV_DELETE, EV_INSERT, EV_UPDATE };

typedef struct gen {
    uint64_t rng;
    char *p;
    size_t n, cap;
    int trig_tab, event; /* the trigger's table and EV_* event */
} gen;

static void g_add(gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void g_add(gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (g->n + (size_t)n + 1 > g->cap) {
        g->cap = (g->n + (size_t)n + 1) * 2;
        g->p = realloc(g->p, g->cap);
        cr_assert_not_null(g->p);
    }
    memcpy(g->p + g->n, buf, (size_t)n + 1);
    g->n += (size_t)n;
}

static int g_below(gen *g, int n)
{
    return (int)compat_below(&g->rng, (uint64_t)n);
}

/* A name as written: bare, or in one of SQLite's quotes, in either case. */
static void g_name(gen *g, const char *name)
{
    char up[32];
    if (g_below(g, 5) == 0) {
        size_t i = 0;
        for (; name[i] && i + 1 < sizeof up; i++)
            up[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
        up[i] = 0;
        name = up;
    }
    switch (g_below(g, 6)) {
    case 0:
        g_add(g, "\"%s\"", name);
        break;
    case 1:
        g_add(g, "[%s]", name);
        break;
    case 2:
        g_add(g, "`%s`", name);
        break;
    default:
        g_add(g, "%s", name);
    }
}

/* An expression over table `tab` (-1: none) written as `qual` (an alias
 * or NULL for the table's name), with NEW / OLD as the event has them. */
static void g_expr(gen *g, int tab, const char *qual, int depth)
{
    int k = g_below(g, depth > 1 ? 6 : 9);
    const rtab *t = tab >= 0 ? &rtabs[tab] : NULL;
    const rtab *trig = &rtabs[g->trig_tab];
    switch (k) {
    case 0:
        g_add(g, "%d", g_below(g, 5));
        return;
    case 1:
    case 2:
        if (t) {
            if (g_below(g, 2)) {
                if (qual)
                    g_add(g, "%s", qual);
                else
                    g_name(g, t->name);
                g_add(g, ".");
            }
            if (!t->without_rowid && g_below(g, 6) == 0)
                g_add(g, "rowid");
            else
                g_name(g, t->cols[g_below(g, 3)]);
            return;
        }
        /* fall through */
    case 3: {
        int has_new = g->event != EV_DELETE, has_old = g->event != EV_INSERT;
        const char *src = has_new && (!has_old || g_below(g, 2)) ? "new" : "old";
        g_add(g, "%s.", g_below(g, 3) ? src : (src[0] == 'n' ? "NEW" : "OLD"));
        if (!trig->without_rowid && g_below(g, 6) == 0)
            g_add(g, "rowid");
        else
            g_name(g, trig->cols[g_below(g, 3)]);
        return;
    }
    case 4: { /* a double-quoted word: a column here, or a string */
        static const char *const words[] = {"b", "zz", "a", "x", "str"};
        g_add(g, "\"%s\"", words[g_below(g, 5)]);
        return;
    }
    case 5:
        g_add(g, "(");
        g_expr(g, tab, qual, depth + 1);
        g_add(g, g_below(g, 2) ? " + " : " = ");
        g_expr(g, tab, qual, depth + 1);
        g_add(g, ")");
        return;
    default: { /* a subquery, correlated or not */
        int s = g_below(g, 3);
        const char *alias = g_below(g, 3) == 0 ? "q" : NULL;
        static const char *const what[] = {"(SELECT ", "EXISTS (SELECT ", "(SELECT max("};
        int w = g_below(g, 3);
        g_add(g, "%s", what[w]);
        g_expr(g, s, alias, depth + 1);
        g_add(g, "%s FROM ", w == 2 ? ")" : "");
        g_name(g, rtabs[s].name);
        if (alias)
            g_add(g, " AS %s", alias);
        g_add(g, " WHERE ");
        g_expr(g, g_below(g, 2) ? s : tab, g_below(g, 2) ? alias : qual, depth + 1);
        g_add(g, ")");
    }
    }
}

static void g_stmt(gen *g)
{
    int tab = g_below(g, 3);
    const rtab *t = &rtabs[tab];
    switch (g_below(g, 5)) {
    case 0: { /* INSERT ... VALUES */
        int c0 = g_below(g, 3), c1 = (c0 + 1 + g_below(g, 2)) % 3;
        g_add(g, " INSERT OR IGNORE INTO ");
        g_name(g, t->name);
        g_add(g, "(");
        g_name(g, t->cols[c0]);
        g_add(g, ", ");
        g_name(g, t->cols[c1]);
        g_add(g, ") VALUES (");
        g_expr(g, -1, NULL, 1);
        g_add(g, ", ");
        g_expr(g, -1, NULL, 1);
        g_add(g, ");");
        return;
    }
    case 1: { /* INSERT ... SELECT */
        int s = g_below(g, 3);
        const char *alias = g_below(g, 2) ? "q" : NULL;
        g_add(g, " INSERT OR IGNORE INTO ");
        g_name(g, t->name);
        g_add(g, "(");
        g_name(g, t->cols[1]);
        g_add(g, ") SELECT ");
        g_expr(g, s, alias, 1);
        g_add(g, " FROM ");
        g_name(g, rtabs[s].name);
        if (alias)
            g_add(g, " %s", alias);
        g_add(g, " WHERE ");
        g_expr(g, s, alias, 1);
        g_add(g, ";");
        return;
    }
    case 2:
        g_add(g, " UPDATE OR IGNORE ");
        g_name(g, t->name);
        g_add(g, " SET ");
        g_name(g, t->cols[1 + g_below(g, 2)]);
        g_add(g, " = ");
        g_expr(g, tab, NULL, 1);
        g_add(g, " WHERE ");
        g_expr(g, tab, NULL, 1);
        g_add(g, ";");
        return;
    case 3:
        g_add(g, " DELETE FROM ");
        g_name(g, t->name);
        g_add(g, " WHERE ");
        g_expr(g, tab, NULL, 1);
        g_add(g, ";");
        return;
    default: {
        const char *alias = g_below(g, 2) ? "q" : NULL;
        g_add(g, " SELECT ");
        if (g_below(g, 4) == 0) {
            g_add(g, "*, ");
        } else if (g_below(g, 4) == 0) {
            if (alias)
                g_add(g, "%s", alias);
            else
                g_name(g, t->name);
            g_add(g, ".*, ");
        }
        g_expr(g, tab, alias, 1);
        g_add(g, ", ");
        g_expr(g, tab, alias, 1);
        g_add(g, " FROM ");
        g_name(g, t->name);
        if (alias)
            g_add(g, " AS %s", alias);
        g_add(g, " WHERE ");
        g_expr(g, tab, alias, 1);
        g_add(g, ";");
    }
    }
}

static void g_trigger(gen *g, int i)
{
    static const char *const events[] = {"DELETE", "INSERT", "UPDATE"};
    g->trig_tab = g_below(g, 3);
    g->event = g_below(g, 3);
    const rtab *t = &rtabs[g->trig_tab];
    g_add(g, "CREATE TRIGGER tr%d %s %s", i, g_below(g, 2) ? "BEFORE" : "AFTER", events[g->event]);
    if (g->event == EV_UPDATE && g_below(g, 2)) {
        g_add(g, " OF ");
        g_name(g, t->cols[g_below(g, 3)]);
    }
    g_add(g, " ON ");
    g_name(g, t->name);
    if (g_below(g, 3) == 0) {
        g_add(g, " WHEN ");
        g_expr(g, -1, NULL, 1);
    }
    g_add(g, " BEGIN");
    for (int n = 1 + g_below(g, 3); n > 0; n--)
        g_stmt(g);
    g_add(g, " END;");
}

static void g_alter(gen *g)
{
    static const char *const tables[] = {"t2", "\"T q\"", "[z z]", "`u2`"};
    static const char *const cols[] = {"nn", "\"n n\"", "[m]", "b", "zz"};
    int tab = g_below(g, 3);
    const rtab *t = &rtabs[tab];
    g_add(g, "ALTER TABLE ");
    g_name(g, t->name);
    switch (g_below(g, 3)) {
    case 0:
        g_add(g, " RENAME TO %s", tables[g_below(g, 4)]);
        break;
    case 1:
        g_add(g, " RENAME COLUMN ");
        g_name(g, t->cols[g_below(g, 3)]);
        g_add(g, " TO %s", cols[g_below(g, 5)]);
        break;
    default:
        g_add(g, " DROP COLUMN ");
        g_name(g, t->cols[1 + g_below(g, 2)]);
    }
}

/* The same outcome both ways: the same file, or the same refusal. */
static void same_outcome(const char *setup, const char *sql, uint64_t seed)
{
    pair p = pair_new(setup);
    char *before = dump_file(p.a);
    char fm[512], sm[512];
    int src = sqlite_run(p.b, sql, sm, sizeof sm);
    int frc = folio_run(p.a, sql, fm, sizeof fm);
    if (src == SQLITE_OK) {
        cr_assert_eq(frc, 0, "seed=%llu: folio refused %s: %s\n%s", (unsigned long long)seed, sql,
                     fm, setup);
        char *da = dump_file(p.a), *db = dump_file(p.b);
        cr_assert_str_eq(da, db, "seed=%llu: %s: the files differ\n%s", (unsigned long long)seed,
                         sql, setup);
        free(da);
        free(db);
    } else {
        cr_assert_lt(frc, 0, "seed=%llu: folio accepted %s; SQLite: %s\n%s",
                     (unsigned long long)seed, sql, sm, setup);
        cr_assert_str_eq(fm, sm, "seed=%llu: %s: messages differ\n%s", (unsigned long long)seed,
                         sql, setup);
        char *after = dump_file(p.a);
        cr_assert_str_eq(before, after, "seed=%llu: a refused statement changed the file",
                         (unsigned long long)seed);
        free(after);
    }
    assert_integrity(p.a, sql);
    free(before);
    pair_free(&p);
}

/* Random triggers (every statement kind, NEW and OLD, quoting, aliases,
 * subqueries, double-quoted words) and a random ALTER: the same file as
 * libsqlite3 leaves, or the same refusal. FOLIO_SEED replays a run. */
Test(compat_alter_exec, random_triggers)
{
    uint64_t seed = compat_seed(20261207);
    int cases = 0, refused = 0;
    for (int round = 0; round < 120; round++) {
        gen g = {.rng = seed + (uint64_t)round * 0x9e3779b97f4a7c15ULL};
        g_add(&g, "CREATE TABLE t(a INTEGER PRIMARY KEY, b, c);"
                  "CREATE TABLE u(x, y, b);"
                  "CREATE TABLE w(k PRIMARY KEY, v, t) WITHOUT ROWID;"
                  "INSERT INTO t VALUES (1, 2, 3); INSERT INTO u VALUES (1, 2, 3);"
                  "INSERT INTO w VALUES (1, 2, 3);");
        for (int i = 0, n = 1 + g_below(&g, 3); i < n; i++)
            g_trigger(&g, i);
        size_t setup_len = g.n;
        g_alter(&g);
        char *sql = strdup(g.p + setup_len);
        g.p[setup_len] = 0;
        /* (a trigger SQLite does not take is not a case) */
        sqlite3 *m;
        cr_assert_eq(sqlite3_open(":memory:", &m), SQLITE_OK);
        int valid = sqlite3_exec(m, g.p, NULL, NULL, NULL) == SQLITE_OK;
        if (valid) {
            refused += sqlite3_exec(m, sql, NULL, NULL, NULL) != SQLITE_OK;
            cases++;
        }
        sqlite3_close(m);
        if (valid)
            same_outcome(g.p, sql, seed);
        free(sql);
        free(g.p);
    }
    cr_assert_gt(cases, 60, "seed=%llu: only %d cases", (unsigned long long)seed, cases);
    cr_log_info("seed=%llu: %d cases, %d refused by SQLite", (unsigned long long)seed, cases,
                refused);
}

/* ---- the triggers fire the same after ALTER ---- */

/* Rows written to every table through folio on one copy and as SQL
 * through libsqlite3 on the other (trig_pair.h): inserts, an update of
 * every column, a patch of one, deletes. Each call must end the same way
 * in both. */
static void write_everywhere(tp_pair *p, int round)
{
    int ntables = p->ntables;
    char names[TP_MAX_TABLES][32];
    for (int i = 0; i < ntables; i++)
        snprintf(names[i], sizeof names[i], "%s", p->tables[i].name);
    for (int i = 0; i < ntables; i++) {
        const tp_table *t = tp_table_named(p, names[i]);
        /* (the harness writes names as they are: those that need quotes
         * are written to by the triggers only) */
        if (strncmp(t->name, "sqlite_", 7) == 0 || strpbrk(t->name, " \"[]"))
            continue;
        char vals[256] = "", upd[256] = "", one[32];
        for (int c = 0; c < t->ncols; c++) {
            snprintf(one, sizeof one, "%s%d", c ? ", " : "", 3 * round + c + 1);
            strcat(upd, c == t->ipk ? (c ? ", 1" : "1") : one);
            strcat(vals, c == t->ipk ? (c ? ", NULL" : "NULL") : one);
        }
        tp_insert_s(p, names[i], vals);
        tp_insert_s(p, names[i], vals);
        if (t->without_rowid) { /* (keyed by its first column) */
            snprintf(one, sizeof one, "%d", 3 * round + 1);
            tp_update_key_s(p, names[i], one, upd);
            tp_delete_key_s(p, names[i], "1");
            continue;
        }
        tp_update_s(p, names[i], 1, upd);
        int last = t->ncols - 1;
        if (last != t->ipk)
            tp_patch_s(p, names[i], 2, t->cols[last], "7");
        tp_delete(p, names[i], 3);
        tp_delete(p, names[i], 1);
    }
}

/* After each statement (in the transaction of the ALTER and in the next),
 * the triggers do the same in both engines. */
static void alter_then_write(const char *setup, const char *sql)
{
    char *dir = compat_tmpdir();
    tp_pair p;
    tp_open(&p, dir, "fire", setup, 0, 0);
    snprintf(p.ctx, sizeof p.ctx, "%s", sql);
    tp_begin(&p);
    cr_assert_eq(tp_exec(&p, sql), TP_OK, "%s: sqlite '%s', folio '%s'", sql, p.smsg, p.fmsg);
    write_everywhere(&p, 1);
    tp_end(&p, 1);
    tp_begin(&p);
    write_everywhere(&p, 2);
    tp_end(&p, 1);
    cr_assert_gt(p.n_trigger_changes, 0, "%s: no trigger changed a row", sql);
    tp_close(&p);
    compat_rmtree(dir);
    free(dir);
}

/* setup_trig with names the harness can write as they are (it does not
 * quote them); the triggers quote them. */
static const char setup_fire[] =
    "CREATE TABLE t(a INTEGER PRIMARY KEY, b, c, z);"
    "CREATE TABLE log(x, y, b);"
    "CREATE TABLE tx(t, b);"
    "CREATE TABLE w(k PRIMARY KEY, v) WITHOUT ROWID;"
    "CREATE TRIGGER t_ai AFTER INSERT ON t WHEN new.b > 0 AND new.rowid > 0 BEGIN"
    "  INSERT INTO log VALUES (new.a, (SELECT count(*) FROM t WHERE t.b = new.b), \"b\");"
    "  UPDATE t SET c = t.b + 1 WHERE a = new.a;"
    "  DELETE FROM \"t\" WHERE rowid = -1;"
    "  SELECT q.c, c FROM t AS q WHERE q.b = 1;"
    "  REPLACE INTO w SELECT new.a, (SELECT max(b) FROM t WHERE b < new.b);"
    "END;"
    "CREATE TRIGGER t_bu BEFORE UPDATE OF b, C ON t BEGIN"
    "  INSERT INTO log(x, b) SELECT new.b, b FROM t WHERE t.c = \"zz\";"
    "  UPDATE log SET b = old.b, y = (SELECT max(t.c) FROM [t]) WHERE x = old.a;"
    "END;"
    "CREATE TRIGGER log_ad AFTER DELETE ON log BEGIN"
    "  INSERT INTO t(b, c) VALUES (old.x, \"str\");"
    "  UPDATE \"tx\" SET t = t + old.b WHERE tx.b = old.y;"
    "  DELETE FROM w WHERE k IN (SELECT a FROM t WHERE t.c = old.b);"
    "END;"
    "CREATE TRIGGER tx_ai AFTER INSERT ON tx WHEN new.t % 2 BEGIN"
    "  UPDATE t SET b = new.t WHERE t.a = new.b;"
    "  UPDATE w SET v = (SELECT count(*) FROM tx WHERE tx.t > new.t) WHERE k = new.b;"
    "END;"
    "CREATE TRIGGER w_au AFTER UPDATE OF v ON w BEGIN"
    "  INSERT INTO log VALUES (old.k, new.v, old.v);"
    "END;"
    "INSERT INTO t VALUES (1, 2, 3, 0), (2, 0, 5, 0), (3, 4, 4, 0); INSERT INTO log VALUES (1, 2, "
    "3);"
    "INSERT INTO tx VALUES (1, 2), (3, 1); REPLACE INTO w VALUES (1, 1), (2, 2);";

Test(compat_alter_exec, triggers_fire_the_same_after_alter)
{
    static const char *const stmts[] = {
        "ALTER TABLE tx ADD COLUMN z",           "ALTER TABLE t RENAME TO t2",
        "ALTER TABLE t RENAME TO \"Nu\"",        "ALTER TABLE log RENAME TO journal",
        "ALTER TABLE tx RENAME TO [tx2]",        "ALTER TABLE w RENAME TO w2",
        "ALTER TABLE t RENAME COLUMN b TO bb",   "ALTER TABLE t RENAME COLUMN a TO id",
        "ALTER TABLE t RENAME c TO [see]",       "ALTER TABLE log RENAME COLUMN b TO bee",
        "ALTER TABLE tx RENAME t TO \"tt\"",     "ALTER TABLE w RENAME COLUMN v TO val",
        "ALTER TABLE w RENAME COLUMN k TO key2", "ALTER TABLE t DROP COLUMN z",
    };
    for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++) {
        cr_log_info("%s", stmts[i]);
        alter_then_write(setup_fire, stmts[i]);
    }
}

/* Writes after ALTER, in the same transaction and the next, read back
 * through libsqlite3; index seeks by the new and renamed columns. */
Test(compat_alter_exec, writes_after_alter)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "w.db");
    sqlite3 *s = compat_sqlite_open(path);
    compat_exec(s, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, junk BLOB);"
                   "CREATE INDEX t_name ON t(name);" COMPAT_SERIES(
                       1, 200) "INSERT INTO t SELECT value, 'n' || value, zeroblob(value * 20) "
                               "FROM series;");
    compat_sqlite_close(s);

    folio_db *db = compat_folio_open(path, COMPAT_RW);
    folio_txn *txn;
    folio_table *old;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), 0);
    cr_assert_eq(folio_table_open(&old, txn, "t"), 0);
    cr_assert_eq(folio_exec(txn, "ALTER TABLE t ADD COLUMN score INTEGER DEFAULT 10"), 0, "%s",
                 folio_errmsg(db));
    /* The handle opened before follows its table: three values, the fourth
     * takes the DEFAULT. */
    folio_value v3[3] = {{.type = FOLIO_INTEGER, .u.i = 201},
                         {.type = FOLIO_TEXT, .u.s = {"n201", 4}},
                         {.type = FOLIO_NULL}};
    cr_assert_eq(folio_insert(NULL, old, v3, 3), 0, "%s", folio_errmsg(db));
    cr_assert_eq(folio_exec(txn, "CREATE INDEX t_score ON t(score)"), 0, "%s", folio_errmsg(db));
    cr_assert_eq(folio_exec(txn, "ALTER TABLE t DROP COLUMN junk"), 0, "%s", folio_errmsg(db));
    cr_assert_eq(folio_exec(txn, "ALTER TABLE t RENAME COLUMN name TO label"), 0, "%s",
                 folio_errmsg(db));
    cr_assert_eq(folio_exec(txn, "ALTER TABLE t RENAME TO items"), 0, "%s", folio_errmsg(db));
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, "items"), 0, "%s", folio_errmsg(db));
    cr_assert_neq(folio_table_open(&old, txn, "t"), 0, "the old name still opens");
    for (int i = 202; i <= 260; i++) {
        char label[16];
        int n = snprintf(label, sizeof label, "n%d", i);
        folio_value v[3] = {{.type = FOLIO_INTEGER, .u.i = i},
                            {.type = FOLIO_TEXT, .u.s = {label, (size_t)n}},
                            {.type = FOLIO_INTEGER, .u.i = i % 7}};
        cr_assert_eq(folio_insert(NULL, t, v, 3), 0, "%s", folio_errmsg(db));
    }
    cr_assert_eq(folio_commit(txn), 0, "%s", folio_errmsg(db));

    /* Seeks through the indexes in a new transaction. */
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_READ), 0);
    cr_assert_eq(folio_table_open(&t, txn, "items"), 0);
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, t, "t_score"), 0, "%s", folio_errmsg(db));
    folio_value key = {.type = FOLIO_INTEGER, .u.i = 10};
    cr_assert_eq(folio_cursor_seek(c, &key, 1, FOLIO_SEEK_EQ), FOLIO_ROW);
    folio_value got;
    cr_assert_eq(folio_cursor_column(&got, c, 1), 0);
    cr_assert_eq(got.type, FOLIO_TEXT);
    cr_assert(got.u.s.n == 2 && memcmp(got.u.s.p, "n1", 2) == 0, "first row with score 10");
    folio_cursor_close(c);
    cr_assert_eq(folio_cursor_open(&c, t, "t_name"), 0, "%s", folio_errmsg(db));
    folio_value lk = {.type = FOLIO_TEXT, .u.s = {"n250", 4}};
    cr_assert_eq(folio_cursor_seek(c, &lk, 1, FOLIO_SEEK_EQ), FOLIO_ROW);
    cr_assert_eq(folio_cursor_rowid(c), 250);
    folio_cursor_close(c);
    cr_assert_eq(folio_rollback(txn), 0);
    cr_assert_eq(folio_close(db), 0);

    assert_integrity(path, "writes after alter");
    s = compat_sqlite_open_ro(path);
    char *sql = compat_query_text(s, "SELECT sql FROM sqlite_schema WHERE name = 'items'");
    cr_assert_str_eq(sql, "CREATE TABLE \"items\"(id INTEGER PRIMARY KEY, label TEXT, score "
                          "INTEGER DEFAULT 10)");
    free(sql);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM items"), 260);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM items WHERE score = 10"), 201);
    cr_assert_eq(compat_query_int(s, "SELECT sum(score) FROM items WHERE id > 201"), 175);
    cr_assert_eq(compat_query_int(s, "SELECT id FROM items INDEXED BY t_name WHERE label = 'n77'"),
                 77);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM items INDEXED BY t_score "
                                     "WHERE score = 3"),
                 8);
    compat_sqlite_close(s);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* A failed ALTER leaves the transaction usable; a rolled-back one leaves
 * nothing. */
Test(compat_alter_exec, failure_and_rollback)
{
    pair p = pair_new("CREATE TABLE t(a, b, c); INSERT INTO t VALUES (1, 2, 3);");
    char *before = dump_file(p.a);
    folio_db *db = compat_folio_open(p.a, COMPAT_RW);
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), 0);
    cr_assert_eq(folio_exec(txn, "ALTER TABLE t ADD COLUMN d NOT NULL"), FOLIO_ERROR);
    cr_assert_str_eq(folio_errmsg(db), "Cannot add a NOT NULL column with default value NULL");
    cr_assert_eq(folio_exec(txn, "ALTER TABLE t ADD COLUMN d CHECK (d > 0) DEFAULT 0"),
                 FOLIO_CONSTRAINT);
    cr_assert_eq(folio_exec(txn, "ALTER TABLE t DROP COLUMN b"), 0, "%s", folio_errmsg(db));
    cr_assert_eq(folio_exec(txn, "ALTER TABLE t RENAME TO u"), 0, "%s", folio_errmsg(db));
    cr_assert_eq(folio_rollback(txn), 0);
    cr_assert_eq(folio_close(db), 0);
    char *after = dump_file(p.a);
    cr_assert_str_eq(before, after, "a rolled-back ALTER changed the file");
    free(before);
    free(after);

    /* The same statements in one committed transaction equal libsqlite3's. */
    char m[512];
    cr_assert_eq(folio_run(p.a, "ALTER TABLE t DROP COLUMN b", m, sizeof m), 0, "%s", m);
    cr_assert_eq(folio_run(p.a, "ALTER TABLE t RENAME TO u", m, sizeof m), 0, "%s", m);
    cr_assert_eq(
        sqlite_run(p.b, "ALTER TABLE t DROP COLUMN b; ALTER TABLE t RENAME TO u", m, sizeof m),
        SQLITE_OK, "%s", m);
    char *da = dump_file(p.a), *dbb = dump_file(p.b);
    cr_assert_str_eq(da, dbb);
    free(da);
    free(dbb);
    assert_integrity(p.a, "after commit");
    pair_free(&p);
}

/* A file with an old format number: ADD COLUMN raises 1 to 3, as SQLite. */
Test(compat_alter_exec, add_column_file_format)
{
    pair p = pair_new("PRAGMA legacy_file_format = 1; CREATE TABLE t(a); INSERT INTO t VALUES(1);");
    /* Force schema format 1 in both copies' headers (offset 44). */
    for (int k = 0; k < 2; k++) {
        const char *path = k ? p.b : p.a;
        size_t len;
        uint8_t *d = compat_read_file(path, &len);
        d[44] = d[45] = d[46] = 0;
        d[47] = 1;
        compat_write_file(path, d, len);
        free(d);
    }
    char m[512];
    cr_assert_eq(folio_run(p.a, "ALTER TABLE t ADD COLUMN b DEFAULT 5", m, sizeof m), 0, "%s", m);
    cr_assert_eq(sqlite_run(p.b, "ALTER TABLE t ADD COLUMN b DEFAULT 5", m, sizeof m), SQLITE_OK);
    for (int k = 0; k < 2; k++) {
        size_t len;
        uint8_t *d = compat_read_file(k ? p.b : p.a, &len);
        cr_assert_eq(d[47], 3, "file format after ADD COLUMN (%s): %d", k ? "sqlite" : "folio",
                     d[47]);
        free(d);
    }
    char *da = dump_file(p.a), *dbb = dump_file(p.b);
    cr_assert_str_eq(da, dbb);
    free(da);
    free(dbb);
    assert_integrity(p.a, "format");
    pair_free(&p);
}

/* folio exec DB "ALTER TABLE ..." */
Test(compat_alter_exec, cli)
{
    const char *cli = getenv("FOLIO_CLI");
    cr_assert_not_null(cli, "FOLIO_CLI is not set");
    pair p = pair_new("CREATE TABLE t(a, b); INSERT INTO t VALUES (1, 2);");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' exec '%s' 'ALTER TABLE t ADD COLUMN c DEFAULT 3' 2>&1", cli,
             p.a);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    snprintf(cmd, sizeof cmd, "'%s' exec '%s' 'ALTER TABLE t DROP COLUMN zz' 2>/dev/null", cli,
             p.a);
    int st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "a refused ALTER exits with 1");
    char m[512];
    cr_assert_eq(sqlite_run(p.b, "ALTER TABLE t ADD COLUMN c DEFAULT 3", m, sizeof m), SQLITE_OK);
    char *da = dump_file(p.a), *dbb = dump_file(p.b);
    cr_assert_str_eq(da, dbb);
    free(da);
    free(dbb);
    pair_free(&p);
}
