/*
 * test_check.c - CHECK constraints enforced by folio exactly as libsqlite3
 * enforces them.
 *
 * Random tables (rowid with an INTEGER PRIMARY KEY, and WITHOUT ROWID) get
 * random CHECK constraints - column and table constraints, named or not -
 * from a pool that covers affinity, NULL, collation, LIKE/GLOB, functions,
 * the rowid and JSON. The same random inserts and updates go to folio (one
 * file) and to libsqlite3 (another): every call must succeed in both or
 * fail in both, a CHECK failure with SQLite's own message. At the end
 * libsqlite3 checks folio's file (integrity_check) and both files must hold
 * the same rows, value for value and type for type. seed=N is printed;
 * FOLIO_SEED replays a run.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns: k (the key: INTEGER PRIMARY KEY, or the WITHOUT ROWID primary
 * key), a INTEGER, b REAL, c TEXT, d (no type), e NUMERIC. */
#define NCOLS 6

static const char *const check_pool[] = {
    "a > 0",
    "b IS NULL OR b < 100.5",
    "length(c) <= 5",
    "c LIKE 'a%' OR c IS NULL",
    "typeof(d) != 'real'",
    "e BETWEEN -10 AND 10",
    "a + b > 1",
    "k % 7 != 3",
    "c GLOB '[a-z]*'",
    "abs(a) < 1000",
    "coalesce(a, 0) != 42",
    "substr(c, 1, 1) != 'z'",
    "c IS NULL OR NOT json_valid(c) OR json_extract(c, '$.x') != 1",
    "CAST(e AS INTEGER) != 5",
    "a != b",
    "c COLLATE NOCASE != 'abc'",
    "c != 'abc'",
    "d IS NOT 'x'",
    "printf('%d', a) != '13'",
    "a IN (1, 2, 3, 5, 8, 13) OR a > 20 OR a IS NULL",
    "iif(a > 10, b > 0, 1)",
    "CASE WHEN c = '' THEN 0 ELSE 1 END",
    "k > 0",
    "e IS NULL OR e = e",
    "upper(c) = c",
    "trim(c) = c",
    "instr(c, 'b') = 0",
    "d < 50",
    "hex(d) != '78'",
    "round(b) != 3",
};
#define NPOOL ((int)(sizeof check_pool / sizeof check_pool[0]))

/* The values rows are made of. */
static void random_value(uint64_t *rng, folio_value *v, char *buf, size_t cap)
{
    static const int64_t ints[] = {0,  1,  -1, 2,   3,    5,     7,         10,       11,
                                   13, 42, 99, 101, 1000, -1000, INT64_MAX, INT64_MIN};
    static const double reals[] = {0.5, 100.5, -3.25, 3.0, 2.6, 1e20, -0.0, 5.0, 1000.0};
    static const char *texts[] = {"abc",  "ABC", "a1",  "zeta",  "{\"x\":1}", "{\"x\":2}",
                                  "",     " 12", "5",   "x",     "ab c",      "a%",
                                  "Abc ", "bbb", "3.0", "abcdef"};
    memset(v, 0, sizeof *v);
    switch (compat_below(rng, 6)) {
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
    case 4: {
        const char *s = texts[compat_below(rng, sizeof texts / sizeof texts[0])];
        snprintf(buf, cap, "%s", s);
        v->type = FOLIO_TEXT;
        v->u.s.p = buf;
        v->u.s.n = strlen(buf);
        break;
    }
    default:
        snprintf(buf, cap, "%s", compat_below(rng, 2) ? "x" : "\x01\x02");
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

/* A random CREATE TABLE with 1..4 CHECK constraints. */
static void random_table(uint64_t *rng, int without_rowid, char *sql, size_t cap)
{
    static const char *const cols[] = {"k", "a", "b", "c", "d", "e"};
    static const char *const types[] = {"INTEGER", "INTEGER", "REAL", "TEXT", "", "NUMERIC"};
    char coldef[NCOLS][512];
    for (int c = 0; c < NCOLS; c++)
        snprintf(coldef[c], sizeof coldef[c], "%s %s%s", cols[c], types[c],
                 c == 0 && !without_rowid ? " PRIMARY KEY"
                 : c == 0                 ? " NOT NULL"
                                          : "");
    char tcons[2048] = "";
    int nchecks = 1 + (int)compat_below(rng, 4);
    for (int i = 0; i < nchecks; i++) {
        const char *expr = check_pool[compat_below(rng, NPOOL)];
        char name[64] = "";
        if (compat_below(rng, 2))
            snprintf(name, sizeof name, "CONSTRAINT ck%d ", i);
        if (compat_below(rng, 2)) {
            int c = 1 + (int)compat_below(rng, NCOLS - 1);
            size_t n = strlen(coldef[c]);
            snprintf(coldef[c] + n, sizeof coldef[c] - n, " %sCHECK (%s)", name, expr);
        } else {
            size_t n = strlen(tcons);
            snprintf(tcons + n, sizeof tcons - n, ", %sCHECK(%s)", name, expr);
        }
    }
    size_t n = (size_t)snprintf(sql, cap, "CREATE TABLE t(");
    for (int c = 0; c < NCOLS; c++)
        n += (size_t)snprintf(sql + n, cap - n, "%s%s", c ? ", " : "", coldef[c]);
    n += (size_t)snprintf(sql + n, cap - n, "%s%s)%s", without_rowid ? ", PRIMARY KEY(k)" : "",
                          tcons, without_rowid ? " WITHOUT ROWID" : "");
}

/* "CHECK constraint failed: x" or another constraint, as both engines word it. */
static int is_check_failure(const char *msg)
{
    return strncmp(msg, "CHECK constraint failed: ", 25) == 0;
}

/* Every row of t as text (quote() of each column, ordered by k). */
static char *dump(sqlite3 *db)
{
    sqlite3_stmt *st = compat_prepare(
        db, "SELECT group_concat(r, char(10)) FROM (SELECT quote(k)||','||quote(a)||','||"
            "quote(b)||','||quote(c)||','||quote(d)||','||quote(e)||','||typeof(b)||typeof(e) "
            "AS r FROM t ORDER BY k)");
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    const char *s = (const char *)sqlite3_column_text(st, 0);
    char *out = strdup(s ? s : "");
    sqlite3_finalize(st);
    return out;
}

static void run_table(uint64_t *rng, int without_rowid, const char *dir, int round)
{
    char sql[4096];
    random_table(rng, without_rowid, sql, sizeof sql);
    char fname[64], sname[64];
    snprintf(fname, sizeof fname, "f%d.db", round);
    snprintf(sname, sizeof sname, "s%d.db", round);
    char *fpath = compat_path(dir, fname), *spath = compat_path(dir, sname);
    /* The table is made by libsqlite3 in both files (folio's own CREATE
     * TABLE is tested elsewhere); folio then writes one of them. */
    compat_run(fpath, sql);
    sqlite3 *s = compat_sqlite_open(spath);
    compat_exec(s, sql);
    folio_db *db;
    folio_options o = FOLIO_OPTIONS_INIT;
    cr_assert_eq(folio_open(&db, fpath, &o), FOLIO_OK, "%s", folio_open_errmsg());
    sqlite3_stmt *ins = compat_prepare(s, "INSERT INTO t VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    sqlite3_stmt *upd = compat_prepare(
        s, "UPDATE t SET k = ?1, a = ?2, b = ?3, c = ?4, d = ?5, e = ?6 WHERE k = ?7");
    int64_t keys[200];
    int nkeys = 0, checks_failed = 0, ok = 0;
    for (int batch = 0; batch < 4; batch++) {
        folio_txn *txn;
        folio_table *t;
        cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK, "%s: %s", sql, folio_errmsg(db));
        compat_exec(s, "BEGIN");
        for (int op = 0; op < 40; op++) {
            folio_value v[NCOLS];
            char bufs[NCOLS][32];
            for (int c = 1; c < NCOLS; c++)
                random_value(rng, &v[c], bufs[c], sizeof bufs[c]);
            int update = nkeys > 0 && compat_below(rng, 3) == 0;
            int64_t old = update ? keys[compat_below(rng, (uint64_t)nkeys)] : 0;
            memset(&v[0], 0, sizeof v[0]);
            v[0].type = FOLIO_INTEGER;
            v[0].u.i = update && compat_below(rng, 2) ? old : 1 + (int64_t)compat_below(rng, 400);
            int frc;
            sqlite3_stmt *st = update ? upd : ins;
            for (int c = 0; c < NCOLS; c++)
                bind_value(st, c + 1, &v[c]);
            if (update) {
                sqlite3_bind_int64(st, 7, old);
                if (without_rowid) {
                    folio_value key = {.type = FOLIO_INTEGER, .u.i = old};
                    frc = folio_update_key(t, &key, 1, v, NCOLS);
                } else {
                    frc = folio_update(t, old, v, NCOLS);
                }
            } else {
                frc = folio_insert(NULL, t, v, NCOLS);
            }
            int src = sqlite3_step(st) & 0xff; /* (extended codes are on) */
            const char *smsg = sqlite3_errmsg(s);
            char fmsg[512];
            snprintf(fmsg, sizeof fmsg, "%s", frc < 0 ? folio_errmsg(db) : "");
            int want = src == SQLITE_DONE         ? FOLIO_OK
                       : src == SQLITE_CONSTRAINT ? FOLIO_CONSTRAINT
                       : src == SQLITE_MISMATCH   ? FOLIO_MISMATCH
                                                  : FOLIO_ERROR;
            cr_assert_eq(frc, want, "%s\n%s row %lld: folio %d (%s), sqlite %d (%s)", sql,
                         update ? "update" : "insert", (long long)v[0].u.i, frc, fmsg, src, smsg);
            if (want == FOLIO_ERROR) /* a function failed: "integer overflow" */
                cr_assert_str_eq(fmsg, smsg, "%s", sql);
            if (src != SQLITE_DONE) {
                cr_assert_eq(is_check_failure(fmsg), is_check_failure(smsg),
                             "%s\nfolio: %s\nsqlite: %s", sql, fmsg, smsg);
                if (is_check_failure(smsg)) {
                    cr_assert_str_eq(fmsg, smsg, "%s", sql);
                    checks_failed++;
                }
            } else {
                ok++;
                if (!update && nkeys < 200)
                    keys[nkeys++] = v[0].u.i;
                else if (update)
                    for (int i = 0; i < nkeys; i++)
                        if (keys[i] == old)
                            keys[i] = v[0].u.i;
            }
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
        }
        compat_exec(s, "COMMIT");
        cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s", folio_errmsg(db));
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(upd);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    char *integ = compat_integrity(fpath);
    cr_assert_str_eq(integ, "ok", "%s", sql);
    free(integ);
    sqlite3 *f = compat_sqlite_open_ro(fpath);
    char *a = dump(f), *b = dump(s);
    cr_assert_str_eq(a, b, "%s: folio's rows differ from libsqlite3's", sql);
    free(a);
    free(b);
    compat_sqlite_close(f);
    compat_sqlite_close(s);
    cr_log_info("%s: %d writes, %d CHECK failures", sql, ok, checks_failed);
    free(fpath);
    free(spath);
}

Test(compat_check, random_tables_and_rows)
{
    uint64_t rng = compat_seed(20261207);
    char *dir = compat_tmpdir();
    for (int round = 0; round < 60; round++)
        run_table(&rng, round % 3 == 2, dir, round);
    compat_rmtree(dir);
    free(dir);
}

/* Messages and order: NOT NULL before CHECK, CHECK before UNIQUE, names. */
Test(compat_check, order_and_names)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "o.db");
    compat_run(path,
               "CREATE TABLE t(id INTEGER PRIMARY KEY, a NOT NULL CONSTRAINT pos CHECK(a > 0)"
               " CHECK (a < 10), b UNIQUE, CONSTRAINT two CHECK(a + b < 100), CHECK(b != 5))");
    folio_db *db;
    folio_options o = FOLIO_OPTIONS_INIT;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK);
    folio_txn *txn;
    folio_table *t;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    static const struct {
        int64_t id, a, b;
        int a_null;
        int rc;
        const char *msg;
    } cases[] = {
        {1, 0, 1, 1, FOLIO_CONSTRAINT, "NOT NULL constraint failed: t.a"},
        {1, 0, 1, 0, FOLIO_CONSTRAINT, "CHECK constraint failed: pos"},
        {1, 20, 1, 0, FOLIO_CONSTRAINT, "CHECK constraint failed: pos"},
        {1, 9, 95, 0, FOLIO_CONSTRAINT, "CHECK constraint failed: two"},
        {1, 2, 5, 0, FOLIO_CONSTRAINT, "CHECK constraint failed: b != 5"},
        {1, 2, 6, 0, FOLIO_OK, ""},
        {1, 3, 7, 0, FOLIO_CONSTRAINT, "UNIQUE constraint failed: t.id"},
        {2, 3, 5, 0, FOLIO_CONSTRAINT, "CHECK constraint failed: b != 5"},
        {2, 3, 6, 0, FOLIO_CONSTRAINT, "UNIQUE constraint failed: t.b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        folio_value v[3] = {
            {.type = FOLIO_INTEGER, .u.i = cases[i].id},
            {.type = cases[i].a_null ? FOLIO_NULL : FOLIO_INTEGER, .u.i = cases[i].a},
            {.type = FOLIO_INTEGER, .u.i = cases[i].b}};
        int rc = folio_insert(NULL, t, v, 3);
        cr_assert_eq(rc, cases[i].rc, "case %zu: %d %s", i, rc, folio_errmsg(db));
        if (rc < 0)
            cr_assert_str_eq(folio_errmsg(db), cases[i].msg, "case %zu", i);
    }
    /* An update is checked too, and a failed one changes nothing. */
    folio_value v[3] = {{.type = FOLIO_INTEGER, .u.i = 1},
                        {.type = FOLIO_INTEGER, .u.i = 2},
                        {.type = FOLIO_INTEGER, .u.i = 5}};
    cr_assert_eq(folio_update(t, 1, v, 3), FOLIO_CONSTRAINT);
    cr_assert_str_eq(folio_errmsg(db), "CHECK constraint failed: b != 5");
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    sqlite3 *s = compat_sqlite_open_ro(path);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t"), 1);
    cr_assert_eq(compat_query_int(s, "SELECT b FROM t WHERE id = 1"), 6);
    compat_sqlite_close(s);
    char *integ = compat_integrity(path);
    cr_assert_str_eq(integ, "ok");
    free(integ);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

static void myfunc(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    sqlite3_result_value(cx, argv[0]);
}

/* A CHECK folio cannot evaluate (a function of the application's) refuses
 * writes, naming it; reads go on. */
Test(compat_check, unsupported_check_refuses_writes)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "u.db");
    sqlite3 *s = compat_sqlite_open(path);
    cr_assert_eq(sqlite3_create_function(s, "myfunc", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                         myfunc, NULL, NULL),
                 SQLITE_OK);
    compat_exec(s, "CREATE TABLE t(a CHECK(myfunc(a) > 0)); INSERT INTO t VALUES(1)");
    compat_sqlite_close(s);
    folio_db *db;
    folio_options o = FOLIO_OPTIONS_INIT;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK);
    folio_txn *txn;
    folio_table *t;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    folio_value v = {.type = FOLIO_INTEGER, .u.i = 2};
    cr_assert_eq(folio_insert(NULL, t, &v, 1), FOLIO_UNSUPPORTED);
    cr_assert(strstr(folio_errmsg(db), "CHECK constraint myfunc(a) > 0: no such function: myfunc"),
              "%s", folio_errmsg(db));
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
    cr_assert_eq(folio_cursor_first(c), FOLIO_ROW);
    folio_cursor_close(c);
    cr_assert_eq(folio_rollback(txn), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* folio's CREATE TABLE: CHECKs SQLite refuses are refused with its message;
 * the others are enforced and libsqlite3 enforces them too afterwards. */
Test(compat_check, create_table_through_folio)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "c.db");
    folio_db *db;
    folio_options o = FOLIO_OPTIONS_INIT;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK);
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    static const char *const refused[] = {
        "CREATE TABLE r1(a CHECK(nosuch > 0))",
        "CREATE TABLE r2(a CHECK(nosuchfn(a)))",
        "CREATE TABLE r4(a CHECK(substr(a)))",
    };
    sqlite3 *mem;
    cr_assert_eq(sqlite3_open(":memory:", &mem), SQLITE_OK);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        cr_assert_neq(sqlite3_exec(mem, refused[i], NULL, NULL, NULL), SQLITE_OK, "%s", refused[i]);
        int rc = folio_exec(txn, refused[i]);
        cr_assert_eq(rc, FOLIO_ERROR, "%s: %d %s", refused[i], rc, folio_errmsg(db));
        cr_assert_str_eq(folio_errmsg(db), sqlite3_errmsg(mem), "%s: folio %s, sqlite %s",
                         refused[i], folio_errmsg(db), sqlite3_errmsg(mem));
    }
    /* SQLite takes random() and CURRENT_TIMESTAMP in a CHECK, and refuses
     * date('now') there when a row is checked. */
    static const char *const ddl[] = {"CREATE TABLE n1(a CHECK(random() != a))",
                                      "CREATE TABLE n2(a CHECK(a < CURRENT_TIMESTAMP))",
                                      "CREATE TABLE n3(a CHECK(date('now') > a))"};
    static const char *const ins[] = {"INSERT INTO n1 VALUES(1)", "INSERT INTO n2 VALUES(1)",
                                      "INSERT INTO n3 VALUES(1)"};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(sqlite3_exec(mem, ddl[i], NULL, NULL, NULL), SQLITE_OK, "%s", ddl[i]);
        cr_assert_eq(folio_exec(txn, ddl[i]), FOLIO_OK, "%s: %s", ddl[i], folio_errmsg(db));
        int src = sqlite3_exec(mem, ins[i], NULL, NULL, NULL);
        folio_table *n;
        char name[3] = {'n', (char)('1' + i), 0};
        cr_assert_eq(folio_table_open(&n, txn, name), FOLIO_OK);
        folio_value one = {.type = FOLIO_INTEGER, .u.i = 1};
        int frc = folio_insert(NULL, n, &one, 1);
        cr_assert_eq(frc == FOLIO_OK, src == SQLITE_OK, "%s: folio %d %s, sqlite %s", ins[i], frc,
                     folio_errmsg(db), sqlite3_errmsg(mem));
        if (src != SQLITE_OK)
            cr_assert_str_eq(folio_errmsg(db), sqlite3_errmsg(mem), "%s", ins[i]);
    }
    sqlite3_close(mem);
    cr_assert_eq(folio_exec(txn, "CREATE TABLE t(a INTEGER CHECK(a BETWEEN 1 AND 9), b TEXT, "
                                 "CONSTRAINT short CHECK(length(b) < 4))"),
                 FOLIO_OK, "%s", folio_errmsg(db));
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    folio_value v[2] = {{.type = FOLIO_TEXT, .u.s = {"5", 1}},
                        {.type = FOLIO_TEXT, .u.s = {"ab", 2}}};
    cr_assert_eq(folio_insert(NULL, t, v, 2), FOLIO_OK, "%s", folio_errmsg(db));
    v[1].u.s.p = "abcd";
    v[1].u.s.n = 4;
    cr_assert_eq(folio_insert(NULL, t, v, 2), FOLIO_CONSTRAINT);
    cr_assert_str_eq(folio_errmsg(db), "CHECK constraint failed: short");
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    sqlite3 *s = compat_sqlite_open(path);
    cr_assert_eq(compat_query_int(s, "SELECT a FROM t"), 5);
    cr_assert_neq(sqlite3_exec(s, "INSERT INTO t VALUES(10, 'x')", NULL, NULL, NULL), SQLITE_OK);
    cr_assert_str_eq(sqlite3_errmsg(s), "CHECK constraint failed: a BETWEEN 1 AND 9");
    compat_sqlite_close(s);
    char *integ = compat_integrity(path);
    cr_assert_str_eq(integ, "ok");
    free(integ);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

static int count_problems(void *arg, const char *msg)
{
    (void)msg;
    (*(int *)arg)++;
    return 0;
}

/* The two levels of folio_check_ex against libsqlite3's two checks: an
 * index whose entries were made for another column is sound in structure
 * (PRAGMA quick_check "ok", FOLIO_CHECK_QUICK FOLIO_OK) and wrong against
 * its rows (integrity_check not "ok", FOLIO_CHECK_FULL FOLIO_CORRUPT); a
 * cell pointer aimed off the content area is caught by both levels of both. */
Test(compat_check, quick_and_full_levels)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "q.db");
    sqlite3 *s = compat_sqlite_open(path);
    compat_exec(s, "PRAGMA page_size=1024; CREATE TABLE t(a, b); CREATE INDEX i ON t(a);"
                   "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 500)"
                   " INSERT INTO t SELECT x, 1000 - x FROM r;"
                   "PRAGMA writable_schema=ON;"
                   "UPDATE sqlite_schema SET sql='CREATE INDEX i ON t(b)' WHERE name='i';");
    compat_sqlite_close(s);
    for (int round = 0; round < 2; round++) {
        char *quick = compat_pragma_check(path, "quick_check");
        char *full = compat_integrity(path);
        int rc[2], n[2] = {0, 0};
        for (int level = 0; level < 2; level++) {
            folio_db *db;
            folio_options o = FOLIO_OPTIONS_INIT;
            o.flags = FOLIO_OPEN_READONLY;
            cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "%s", folio_open_errmsg());
            folio_txn *txn;
            cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_READ), FOLIO_OK);
            rc[level] = folio_check_ex(txn, level ? FOLIO_CHECK_FULL : FOLIO_CHECK_QUICK,
                                       count_problems, &n[level], 0);
            cr_assert_eq(folio_check_ex(txn, 0, count_problems, &n[level], 0), FOLIO_MISUSE);
            folio_rollback(txn);
            folio_close(db);
        }
        cr_assert_eq(rc[0] == FOLIO_OK, strcmp(quick, "ok") == 0,
                     "round %d: sqlite quick_check %s, folio quick %d", round, quick, rc[0]);
        cr_assert_eq(rc[1] == FOLIO_OK, strcmp(full, "ok") == 0,
                     "round %d: sqlite integrity_check %s, folio full %d", round, full, rc[1]);
        if (round == 0) {
            cr_assert_eq(rc[0], FOLIO_OK, "quick: %d problems", n[0]);
            cr_assert_eq(rc[1], FOLIO_CORRUPT);
            /* Now a structural fault: page 2's first cell pointer aimed
             * at the page header. */
            size_t len;
            uint8_t *b = compat_read_file(path, &len);
            cr_assert(len >= 2048);
            uint8_t *pg2 = b + 1024;
            uint32_t hdr = pg2[0] == 5 || pg2[0] == 2 ? 12 : 8;
            pg2[hdr] = 0;
            pg2[hdr + 1] = 2;
            compat_write_file(path, b, len);
            free(b);
        } else {
            cr_assert_eq(rc[0], FOLIO_CORRUPT);
            cr_assert_eq(rc[1], FOLIO_CORRUPT);
        }
        free(quick);
        free(full);
    }
    compat_rmtree(dir);
    free(path);
    free(dir);
}
