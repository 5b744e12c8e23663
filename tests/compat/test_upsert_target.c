/*
 * test_upsert_target.c - an UPSERT's conflict target in a trigger body that
 * names an index on expressions or a partial index, matched and run by
 * folio as libsqlite3 matches and runs it.
 *
 * The harness is test_trigger.c's (tests/support/trig_pair.h): one file
 * built by libsqlite3, copied twice, the same calls through folio and as
 * SQL, the same outcome and message for every call, the same rows after
 * every transaction, integrity_check at the end. The cases here are
 * written; the last test draws pairs of an index and a conflict target
 * from pools of expressions written in many ways (the same expression
 * spelt differently, close ones that differ) and requires folio to accept
 * or refuse each pair as SQLite does. seed=N is printed; FOLIO_SEED=N
 * replays it.
 */
#include "compat.h"
#include "trig_pair.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OK_(call)                                                                                  \
    cr_assert_eq((call), TP_OK, "%s: %s: sqlite '%s', folio '%s'", p.ctx, #call, p.smsg, p.fmsg)
#define EXPECT(cls, call)                                                                          \
    cr_assert_eq((call), (cls), "%s: %s: expected %s: sqlite '%s', folio '%s'", p.ctx, #call,      \
                 tp_class_name(cls), p.smsg, p.fmsg)
#define REF_EQ(want, ...)                                                                          \
    do {                                                                                           \
        int64_t got_ = tp_ref_int(&p, __VA_ARGS__);                                                \
        cr_assert_eq(got_, (want), "%s: in SQLite's file: %s is %" PRId64 ", not %" PRId64, p.ctx, \
                     #__VA_ARGS__, got_, (int64_t)(want));                                         \
    } while (0)
#define NO_MATCH "ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint"

static char *g_dir;

static void case_open(tp_pair *p, const char *name, const char *setup)
{
    g_dir = compat_tmpdir();
    tp_open(p, g_dir, name, setup, 0, 0);
}

static void case_close(tp_pair *p)
{
    tp_close(p);
    compat_rmtree(g_dir);
    free(g_dir);
    g_dir = NULL;
}

/* One expression key: lower(name), the DO UPDATE and DO NOTHING paths, the
 * target spelt in other ways that are the same expression to SQLite. */
Test(upsert_target, expression_key)
{
    tp_pair p;
    case_open(&p, "exprkey",
              "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, n INT, note TEXT);"
              "CREATE UNIQUE INDEX users_lname ON users(lower(name));"
              "CREATE TABLE s1(id INTEGER PRIMARY KEY, name TEXT, n INT);"
              "CREATE TABLE s2(id INTEGER PRIMARY KEY, name TEXT, n INT);"
              "CREATE TABLE s3(id INTEGER PRIMARY KEY, name TEXT, n INT);"
              "CREATE TRIGGER s1_ai AFTER INSERT ON s1 BEGIN"
              " INSERT INTO users(name, n) VALUES(new.name, new.n)"
              "  ON CONFLICT(lower(name)) DO UPDATE SET n = n + excluded.n,"
              "   note = excluded.name WHERE excluded.n > 0; END;"
              "CREATE TRIGGER s2_ai AFTER INSERT ON s2 BEGIN"
              " INSERT INTO users(name, n) VALUES(new.name, new.n)"
              "  ON CONFLICT(LOWER( \"name\" ) ASC) DO NOTHING; END;"
              "CREATE TRIGGER s3_ai AFTER INSERT ON s3 BEGIN"
              " INSERT INTO users(name, n) VALUES(new.name, new.n)"
              "  ON CONFLICT(lower(users.name) COLLATE BINARY DESC) DO UPDATE SET n = -n; END;");
    tp_begin(&p);
    OK_(tp_insert_s(&p, "s1", "1, 'Ann', 1"));
    OK_(tp_insert_s(&p, "s1", "2, 'ANN', 5"));  /* DO UPDATE: n 6 */
    OK_(tp_insert_s(&p, "s1", "3, 'aNN', -1")); /* WHERE false: nothing */
    OK_(tp_insert_s(&p, "s1", "4, 'bob', 2"));
    OK_(tp_insert_s(&p, "s2", "1, 'BOB', 9")); /* DO NOTHING */
    OK_(tp_insert_s(&p, "s2", "2, 'cy', 3"));
    OK_(tp_insert_s(&p, "s3", "1, 'Cy', 0")); /* DO UPDATE: n -3 */
    OK_(tp_insert_s(&p, "s3", "2, NULL, 4")); /* NULL keys never conflict */
    OK_(tp_insert_s(&p, "s3", "3, NULL, 4"));
    tp_end(&p, 1);
    REF_EQ(6, "SELECT n FROM users WHERE name = 'Ann'");
    REF_EQ(2, "SELECT n FROM users WHERE name = 'bob'");
    REF_EQ(-3, "SELECT n FROM users WHERE name = 'cy'");
    REF_EQ(5, "SELECT count(*) FROM users");
    case_close(&p);
}

/* Several key columns, expressions and columns mixed, the target's terms in
 * another order; COLLATE on a term (the key's own, or none), on the key;
 * a WITHOUT ROWID table, whose DO UPDATE finds the row by its key. */
Test(upsert_target, mixed_keys_and_collate)
{
    tp_pair p;
    case_open(&p, "mixed",
              "CREATE TABLE m(id INTEGER PRIMARY KEY, a INT, b TEXT, c TEXT COLLATE NOCASE, v INT);"
              "CREATE UNIQUE INDEX m_ab ON m(a, substr(b, 1, 2));"
              "CREATE UNIQUE INDEX m_c ON m(c, abs(a) COLLATE nocase);"
              "CREATE TABLE w(k TEXT, j INT, v INT, PRIMARY KEY(k, j)) WITHOUT ROWID;"
              "CREATE UNIQUE INDEX w_e ON w(j * 2, upper(k));"
              "CREATE TABLE s(id INTEGER PRIMARY KEY, a INT, b TEXT, c TEXT, v INT);"
              "CREATE TABLE s2(id INTEGER PRIMARY KEY, a INT, b TEXT, c TEXT, v INT);"
              "CREATE TRIGGER s_ai AFTER INSERT ON s BEGIN"
              " INSERT INTO m(a, b, c, v) VALUES(new.a, new.b, new.c, new.v)"
              "  ON CONFLICT(substr(b, 1, 2), a) DO UPDATE SET v = v + 100"
              "  ON CONFLICT(abs(a) COLLATE NOCASE, c COLLATE nocase) DO UPDATE SET v = v + 1000;"
              " INSERT INTO w VALUES(new.b, new.a, new.v)"
              "  ON CONFLICT(upper(k), j*2) DO UPDATE SET v = excluded.v; END;"
              "CREATE TRIGGER s2_ai AFTER INSERT ON s2 BEGIN"
              " INSERT INTO m(a, b, c, v) VALUES(new.a, new.b, new.c, new.v)"
              "  ON CONFLICT(c, abs(a)) DO NOTHING ON CONFLICT DO UPDATE SET v = -v; END;");
    tp_begin(&p);
    OK_(tp_insert_s(&p, "s", "1, 1, 'abc', 'x', 1"));
    OK_(tp_insert_s(&p, "s", "2, 1, 'abz', 'y', 2")); /* (a, substr): v 101 */
    OK_(tp_insert_s(&p, "s", "3, -1, 'q', 'X', 3"));  /* (c nocase, abs): v 1001 */
    OK_(tp_insert_s(&p, "s", "4, 2, 'Abc', 'z', 4")); /* new in m; w: upper(k) taken */
    OK_(tp_insert_s(&p, "s2", "1, 1, 'zz', 'X', 5")); /* (c, abs(a)): DO NOTHING */
    OK_(tp_insert_s(&p, "s2", "2, 2, 'Ab', 'q', 6")); /* (a, substr): the last clause */
    OK_(tp_insert_s(&p, "s2", "3, 7, 'n', 'n', 7"));  /* no conflict */
    OK_(tp_insert_s(&p, "s", "5, 1, 'ab', 'Y', 8"));  /* (a, substr): v 1201 */
    OK_(tp_insert_s(&p, "s", "6, 1, 'ABC', 'w', 9")); /* w: (j * 2, upper(k)) */
    tp_end(&p, 1);
    REF_EQ(1201, "SELECT v FROM m WHERE id = 1");
    REF_EQ(-4, "SELECT v FROM m WHERE a = 2");
    REF_EQ(9, "SELECT v FROM w WHERE k = 'abc'");
    REF_EQ(5, "SELECT count(*) FROM w");
    case_close(&p);
}

/* A partial index as the target: a row the index covers takes the clause,
 * one it leaves out cannot conflict there (it is inserted, or meets the
 * next constraint); DO NOTHING and DO UPDATE; several clauses, the last
 * without a target; the targets checked first, in clause order. */
Test(upsert_target, partial_index)
{
    tp_pair p;
    case_open(&p, "partial",
              "CREATE TABLE t(id INTEGER PRIMARY KEY, a INT, b INT, c TEXT UNIQUE, v INT);"
              "CREATE UNIQUE INDEX t_a ON t(a) WHERE b > 0;"
              "CREATE UNIQUE INDEX t_lc ON t(lower(c), a) WHERE c IS NOT NULL AND a <> 0;"
              "CREATE TABLE s1(id INTEGER PRIMARY KEY, a INT, b INT, c TEXT);"
              "CREATE TABLE s2(id INTEGER PRIMARY KEY, a INT, b INT, c TEXT);"
              "CREATE TABLE s3(id INTEGER PRIMARY KEY, a INT, b INT, c TEXT);"
              "CREATE TABLE ev(n INTEGER PRIMARY KEY, what TEXT);"
              "CREATE TRIGGER t_au AFTER UPDATE ON t BEGIN"
              " INSERT INTO ev(what) VALUES('au ' || new.id || ' ' || new.v); END;"
              "CREATE TRIGGER s1_ai AFTER INSERT ON s1 BEGIN"
              " INSERT INTO t(a, b, c, v) VALUES(new.a, new.b, new.c, 1)"
              "  ON CONFLICT(a) WHERE b > 0 DO UPDATE SET v = v + 1; END;"
              "CREATE TRIGGER s2_ai AFTER INSERT ON s2 BEGIN"
              " INSERT INTO t(a, b, c, v) VALUES(new.a, new.b, new.c, 10)"
              "  ON CONFLICT(a) WHERE (b>0) DO NOTHING"
              "  ON CONFLICT(a, lower(c)) WHERE c NOT NULL AND a != 0 DO UPDATE SET v = v + 10"
              "  ON CONFLICT DO UPDATE SET v = v + 1000; END;"
              "CREATE TRIGGER s3_ai AFTER INSERT ON s3 BEGIN"
              " INSERT INTO t(a, b, c, v) VALUES(new.a, new.b, new.c, 5)"
              "  ON CONFLICT(c) DO UPDATE SET v = v + 5"
              "  ON CONFLICT(a) WHERE b > 0 DO UPDATE SET v = v + 50; END;");
    tp_begin(&p);
    OK_(tp_insert_s(&p, "s1", "1, 1, 1, 'p'"));
    OK_(tp_insert_s(&p, "s1", "2, 1, 2, 'q'"));  /* in the index: DO UPDATE of row 1 */
    OK_(tp_insert_s(&p, "s1", "3, 1, 0, 'r'"));  /* outside: inserted */
    OK_(tp_insert_s(&p, "s1", "4, 1, -5, 's'")); /* outside: inserted */
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "s1", "5, 1, 0, 'p'")); /* t_lc: no clause */
    OK_(tp_insert_s(&p, "s2", "1, 1, 3, 'x'"));                   /* a: DO NOTHING */
    OK_(tp_insert_s(&p, "s2", "2, 1, 0, 'R'"));   /* (lower(c), a): v + 10 on row 3 */
    OK_(tp_insert_s(&p, "s2", "3, 0, 0, 's'"));   /* c: the last clause, v + 1000 */
    OK_(tp_insert_s(&p, "s2", "4, 0, 0, 'S'"));   /* a = 0: outside t_lc, a new row */
    OK_(tp_insert_s(&p, "s3", "1, 1, 1, 'p'"));   /* both taken: c's clause first */
    OK_(tp_insert_s(&p, "s3", "2, 1, 1, 'new'")); /* only a: v + 50 on row 1 */
    OK_(tp_insert_s(&p, "s3", "3, 9, -1, 'q'"));  /* no conflict */
    tp_end(&p, 1);
    REF_EQ(57, "SELECT v FROM t WHERE id = 1");
    REF_EQ(11, "SELECT v FROM t WHERE id = 2");
    REF_EQ(1001, "SELECT v FROM t WHERE id = 3");
    REF_EQ(5, "SELECT count(*) FROM t");
    REF_EQ(5, "SELECT count(*) FROM ev"); /* the DO UPDATEs fired t_au */
    case_close(&p);
}

/* Targets that name no constraint: SQLite's message (with the clause's
 * ordinal when there are several) when the trigger fires, a target WHERE
 * that is not the index's (other words, an implied condition, none), a
 * COLLATE that is not the key's, an expression that is not the key's, a
 * term naming NEW, the rowid under a COLLATE, a key that includes the
 * INTEGER PRIMARY KEY; and the errors found before matching. */
Test(upsert_target, targets_that_match_nothing)
{
    static const char *const targets[] = {
        "(a) WHERE 0 < b",           /* the same condition, other words */
        "(a) WHERE b > 0 AND 1",     /* implied, not the same */
        "(a)",                       /* no WHERE for a partial index */
        "(a) WHERE b > 1",           /* another constant */
        "(a) WHERE b > 0.0",         /* 0.0 is not 0 */
        "(lower(e) COLLATE nocase)", /* the key is BINARY */
        "(lower(e || ''))",
        "(+id)",
        "(id COLLATE binary)",
        "(id, b)", /* the key holds the column; a term names the rowid */
        "(lower(e)) DO NOTHING ON CONFLICT(b)",
        "(e)",
        "(E COLLATE rtrim)",
        "(trim(e), b)",
        "(b, b)",
    };
    char setup[8192];
    size_t off = (size_t)snprintf(
        setup, sizeof setup,
        "CREATE TABLE t(id INTEGER PRIMARY KEY, a INT, b INT, e TEXT, f TEXT COLLATE nocase);"
        "CREATE UNIQUE INDEX t_a ON t(a) WHERE b > 0;"
        "CREATE UNIQUE INDEX t_le ON t(lower(e));"
        "CREATE UNIQUE INDEX t_ib ON t(id, b);"
        "CREATE UNIQUE INDEX t_tb ON t(trim(f), b);"
        "CREATE UNIQUE INDEX t_bb ON t(b, f);");
    int n = (int)(sizeof targets / sizeof targets[0]);
    for (int i = 0; i < n; i++)
        off += (size_t)snprintf(setup + off, sizeof setup - off,
                                "CREATE TABLE s%d(x INT);"
                                "CREATE TRIGGER s%d_ai AFTER INSERT ON s%d BEGIN"
                                " INSERT INTO t(a, b, e) VALUES(new.x, 1, 'e')"
                                " ON CONFLICT%s DO NOTHING; END;",
                                i, i, i, targets[i]);
    cr_assert_lt(off, sizeof setup);
    tp_pair p;
    case_open(&p, "nomatch", setup);
    tp_begin(&p);
    for (int i = 0; i < n; i++) {
        char s[16];
        snprintf(s, sizeof s, "s%d", i);
        EXPECT(TP_ERROR, tp_insert_s(&p, s, "1"));
        if (strstr(targets[i], "ON CONFLICT"))
            cr_assert_str_eq(p.smsg, "2nd " NO_MATCH, "%s", targets[i]);
        else
            cr_assert_str_eq(p.smsg, NO_MATCH, "%s", targets[i]);
    }
    tp_end(&p, 1);
    case_close(&p);
}

/* The errors SQLite finds in a target before it matches it, clause by
 * clause: names resolved against the table alone (NEW is not there), a
 * function, an aggregate; a clause that does not match stops the analysis
 * before the next clause is resolved. NULLS FIRST / LAST is refused by
 * CREATE TRIGGER itself. */
Test(upsert_target, errors_before_matching)
{
    static const struct {
        const char *target, *msg;
    } cases[] = {
        {"(new.a)", "no such column: new.a"},
        {"(a) WHERE nosuch > 0", "no such column: nosuch"},
        {"(a) WHERE b > 0 DO NOTHING ON CONFLICT(count(a))",
         "misuse of aggregate function count()"},
        {"(nosuchfn(a))", "no such function: nosuchfn"},
        {"(lower(a, 1))", "wrong number of arguments to function lower()"},
        {"(lower(a) COLLATE nocase) DO NOTHING ON CONFLICT(nosuchfn(a))", "1st " NO_MATCH},
        {"(excluded.a)", "no such column: excluded.a"},
        {"(x.a)", "no such column: x.a"},
    };
    char setup[4096];
    size_t off = (size_t)snprintf(setup, sizeof setup,
                                  "CREATE TABLE t(id INTEGER PRIMARY KEY, a INT, b INT);"
                                  "CREATE UNIQUE INDEX t_a ON t(a) WHERE b > 0;"
                                  "CREATE UNIQUE INDEX t_la ON t(lower(a));");
    int n = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < n; i++)
        off += (size_t)snprintf(setup + off, sizeof setup - off,
                                "CREATE TABLE s%d(x INT);"
                                "CREATE TRIGGER s%d_ai AFTER INSERT ON s%d BEGIN"
                                " INSERT INTO t(a, b) VALUES(new.x, 1)"
                                " ON CONFLICT%s DO NOTHING; END;",
                                i, i, i, cases[i].target);
    cr_assert_lt(off, sizeof setup);
    tp_pair p;
    case_open(&p, "targeterr", setup);
    tp_begin(&p);
    for (int i = 0; i < n; i++) {
        char s[16];
        snprintf(s, sizeof s, "s%d", i);
        EXPECT(TP_ERROR, tp_insert_s(&p, s, "1"));
        cr_assert_str_eq(p.smsg, cases[i].msg, "%s", cases[i].target);
    }
    /* NULLS FIRST / LAST: CREATE TRIGGER fails, with the word as written. */
    EXPECT(TP_ERROR, tp_exec(&p, "CREATE TRIGGER n1 AFTER INSERT ON s0 BEGIN INSERT INTO t(a)"
                                 " VALUES(1) ON CONFLICT(lower(a) DESC NULLS first) DO NOTHING;"
                                 " END"));
    cr_assert_str_eq(p.smsg, "unsupported use of NULLS FIRST");
    EXPECT(TP_ERROR, tp_exec(&p, "CREATE TRIGGER n2 AFTER INSERT ON s0 BEGIN INSERT INTO t(a)"
                                 " VALUES(1) ON CONFLICT(a NULLS LAST) WHERE b > 0 DO NOTHING;"
                                 " END"));
    cr_assert_str_eq(p.smsg, "unsupported use of NULLS LAST");
    /* Made by folio_exec and run. */
    OK_(tp_exec(&p, "CREATE TRIGGER ok1 AFTER INSERT ON s1 BEGIN INSERT INTO t(a, b)"
                    " VALUES(new.x + 10, 2) ON CONFLICT(a) WHERE b>0 DO UPDATE SET b = b + 1;"
                    " END"));
    tp_end(&p, 1);
    case_close(&p);
}

/* ---- Random pairs of an index and a target ------------------------------------------- */

/* Index keys and target terms, in groups of the same expression spelt in
 * other ways and of close expressions that differ (SQLite's answer decides
 * which are which). */
static const char *const key_pool[] = {
    "lower(b)",
    "LOWER(b)",
    "lower( \"b\" )",
    "lower(t.b)",
    "lower(b) COLLATE nocase",
    "lower(b) COLLATE NOCASE",
    "lower(b) COLLATE binary",
    "upper(b)",
    "b",
    "b COLLATE nocase",
    "b COLLATE rtrim",
    "c",
    "c COLLATE binary",
    "(c)",
    "a + 1",
    "(a+1)",
    "a + 01",
    "a + 0x1",
    "a + 1.0",
    "1 + a",
    "a + 1 + 1",
    "a + (1 + 1)",
    "a + 2",
    "-a",
    "- a",
    "-1 * a",
    "- 1 * a",
    "(-1) * a",
    "a * -1",
    "a * - (1)",
    "a * 4294967296",
    "a * 4294967296.0",
    "a * 0x100000000",
    "abs(a)",
    "abs(+a)",
    "+a",
    "a || b",
    "a||b",
    "b || a",
    "CAST(a AS TEXT)",
    "CAST(a AS text)",
    "CAST(a AS INT)",
    "substr(b, 1, 2)",
    "substring(b, 1, 2)",
    "substr(b, 1)",
    "coalesce(a, 0)",
    "ifnull(a, 0)",
    "coalesce(a, '0')",
    "iif(a > 0, a, 0)",
    "CASE WHEN a > 0 THEN a ELSE 0 END",
    "CASE a WHEN 1 THEN 'x' END",
    "CASE a WHEN 1 THEN 'x' ELSE NULL END",
    "a > 0",
    "0 < a",
    "a = 0",
    "a == 0",
    "a != 0",
    "a <> 0",
    "a IS NULL",
    "a ISNULL",
    "a IS NOT NULL",
    "a NOTNULL",
    "a NOT NULL",
    "a IS TRUE",
    "a IS true",
    "a IS NOT TRUE",
    "a BETWEEN 1 AND 5",
    "a NOT BETWEEN 1 AND 5",
    "a IN (1, 2)",
    "a IN (2, 1)",
    "a IN (1)",
    "a = +1",
    "a == +1",
    "b LIKE 'x%'",
    "like('x%', b)",
    "b GLOB 'x*'",
    "b NOT LIKE 'x%'",
    "x'AB' || b",
    "x'ab' || b",
    "X'AB' || b",
    "'a' || b",
    "\"zz\" || b",
    "'zz' || b",
    "json_extract(b, '$.k')",
    "b ->> '$.k'",
    "b -> '$.k'",
    "length(b) + 0",
    "length(b)",
    "NOT a",
    "~a",
    "a & 3",
    "a % 3",
    "a << 1",
};

/* A WHERE of a partial index and of a target, likewise. */
static const char *const where_pool[] = {
    "a > 0",
    "a>0",
    "(a > 0)",
    "0 < a",
    "a > 00",
    "a > 0.0",
    "a > 0 AND 1",
    "a IS NOT NULL",
    "a NOTNULL",
    "b IS NOT NULL",
    "a > 0 AND b IS NOT NULL",
    "(a > 0) AND (b IS NOT NULL)",
    "a > 0 AND (b IS NOT NULL)",
    "b IS NOT NULL AND a > 0",
    "a > 0 OR b IS NULL",
    "t.a > 0",
    "\"a\" > 0",
    "a > -1",
    "a > - 1",
    "a > (-1)",
};

static uint64_t g_rng;

static uint32_t rnd(uint32_t n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng % n);
}

#define NKEY   (sizeof key_pool / sizeof key_pool[0])
#define NWHERE (sizeof where_pool / sizeof where_pool[0])

/* Case i: table t<i>, its index, a source s<i> whose trigger upserts into
 * t<i>. The target's terms are the keys in another order half the time,
 * each term drawn near its key (the same group of the pool, mostly). */
static size_t random_case(char *out, size_t cap, int i)
{
    int nk = rnd(3) ? 1 : 2 + (int)rnd(2);
    int keys[3], terms[3];
    for (int k = 0; k < nk; k++) {
        do /* (an index key may not name its table: SQLite refuses "t.b") */
            keys[k] = (int)rnd(NKEY);
        while (strstr(key_pool[keys[k]], "t."));
        /* a term near the key: the key itself (as often as not), a
         * neighbour in the pool (another spelling, or a close expression) */
        uint32_t how = rnd(8);
        int d = how < 4 ? 0 : how < 7 ? (int)rnd(5) - 2 : (int)rnd(NKEY) - keys[k];
        terms[k] = keys[k] + d;
        if (terms[k] < 0)
            terms[k] = 0;
        if (terms[k] >= (int)NKEY)
            terms[k] = NKEY - 1;
    }
    if (rnd(2) && nk > 1) {
        int tmp = terms[0];
        terms[0] = terms[nk - 1];
        terms[nk - 1] = tmp;
    }
    int partial = rnd(3) == 0, where;
    do
        where = (int)rnd(NWHERE);
    while (strstr(where_pool[where], "t."));
    int twhere = rnd(2) ? where : where + (int)rnd(5) - 2;
    if (twhere < 0)
        twhere = 0;
    if (twhere >= (int)NWHERE)
        twhere = NWHERE - 1;
    int give_where = partial ? rnd(8) != 0 : rnd(8) == 0;
    size_t off = (size_t)snprintf(out, cap,
                                  "CREATE TABLE t%d(id INTEGER PRIMARY KEY, a INT, b TEXT,"
                                  " c TEXT COLLATE nocase, v INT);"
                                  "CREATE UNIQUE INDEX t%d_k ON t%d(",
                                  i, i, i);
    for (int k = 0; k < nk; k++)
        off += (size_t)snprintf(out + off, cap - off, "%s%s", k ? ", " : "", key_pool[keys[k]]);
    off += (size_t)snprintf(out + off, cap - off, ")%s%s;", partial ? " WHERE " : "",
                            partial ? where_pool[where] : "");
    off += (size_t)snprintf(out + off, cap - off,
                            "CREATE TABLE s%d(id INTEGER PRIMARY KEY, a INT, b TEXT, c TEXT);"
                            "CREATE TRIGGER s%d_ai AFTER INSERT ON s%d BEGIN"
                            " INSERT INTO t%d(a, b, c, v) VALUES(new.a, new.b, new.c, 1)"
                            " ON CONFLICT(",
                            i, i, i, i);
    for (int k = 0; k < nk; k++)
        off += (size_t)snprintf(out + off, cap - off, "%s%s", k ? ", " : "", key_pool[terms[k]]);
    off += (size_t)snprintf(out + off, cap - off, ")%s%s DO UPDATE SET v = v + 1; END;",
                            give_where ? " WHERE " : "", give_where ? where_pool[twhere] : "");
    return off;
}

/* The cases in pairs of files of CASES_PER_PAIR cases each (the harness
 * follows a few tables): each source table's trigger touches only its own
 * target table. */
Test(upsert_target, random_index_and_target_pairs)
{
    uint64_t seed = compat_seed(20261208);
    g_rng = seed * 2654435761u + 1;
    enum { NCASES = 126, CASES_PER_PAIR = 7 };
    static const char *const rows[] = {"1, 1, 'x1', 'X'", "2, 1, 'x1', 'x'", "3, -1, 'x1', 'x '",
                                       "4, 2, 'y', NULL"};
    int matched = 0, refused = 0;
    for (int base = 0; base < NCASES; base += CASES_PER_PAIR) {
        char setup[CASES_PER_PAIR * 1024];
        size_t off = 0;
        for (int i = base; i < base + CASES_PER_PAIR; i++) {
            off += random_case(setup + off, sizeof setup - off, i);
            cr_assert_lt(off, sizeof setup);
        }
        tp_pair p;
        case_open(&p, "randpairs", setup);
        for (int i = base; i < base + CASES_PER_PAIR; i++) {
            char s[16];
            snprintf(s, sizeof s, "s%d", i);
            snprintf(p.ctx, sizeof p.ctx, "seed=%" PRIu64 " case %d", seed, i);
            tp_begin(&p);
            int first = 0;
            for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
                int c = tp_insert_s(&p, s, rows[r]);
                if (r == 0)
                    first = c;
                cr_assert(c == TP_OK || c == TP_ERROR || c == TP_CONSTRAINT, "%s: %s", p.ctx,
                          tp_class_name(c));
                if (c == TP_ERROR)
                    break;
            }
            if (first == TP_ERROR)
                refused++;
            else
                matched++;
            tp_end(&p, 1);
        }
        case_close(&p);
    }
    cr_log_info("seed=%" PRIu64 ": %d targets matched, %d refused", seed, matched, refused);
    /* Both outcomes must be common, or the pools test little. */
    cr_assert_gt(matched, NCASES / 10, "seed=%" PRIu64 ": %d matched", seed, matched);
    cr_assert_gt(refused, NCASES / 10, "seed=%" PRIu64 ": %d refused", seed, refused);
}

/* ---- folio_upsert and NOT NULL ON CONFLICT REPLACE ------------------------------------ */

/* folio_upsert is INSERT ... ON CONFLICT(key) DO UPDATE SET every column =
 * excluded.column. A NULL for a NOT NULL ON CONFLICT REPLACE column with a
 * DEFAULT is the DEFAULT in the row the insert checks, and so in excluded:
 * the DO UPDATE's row and its UPDATE triggers see the DEFAULT (the BEFORE
 * INSERT triggers, which run before the checks, see the NULL). Rowid and
 * WITHOUT ROWID tables; a DEFAULT that is an expression; a column without a
 * DEFAULT (NOT NULL fails in the insert, before any conflict). */
Test(upsert_target, folio_upsert_carries_the_replace_default)
{
    tp_pair p;
    case_open(&p, "updflt",
              "CREATE TABLE t(id INTEGER PRIMARY KEY, c TEXT NOT NULL ON CONFLICT REPLACE"
              " DEFAULT 'dflt', d INT NOT NULL ON CONFLICT REPLACE DEFAULT (6 * 7), n INT);"
              "CREATE TABLE w(k TEXT PRIMARY KEY, c TEXT NOT NULL ON CONFLICT REPLACE"
              " DEFAULT 'wd', n INT NOT NULL ON CONFLICT REPLACE) WITHOUT ROWID;"
              "CREATE TABLE log(i INTEGER PRIMARY KEY, what TEXT);"
              "CREATE TABLE u(id INTEGER PRIMARY KEY, c TEXT NOT NULL ON CONFLICT REPLACE"
              " DEFAULT 'ud');"
              "CREATE TABLE wu(k INT PRIMARY KEY, c TEXT NOT NULL ON CONFLICT REPLACE"
              " DEFAULT 'wud') WITHOUT ROWID;"
              "INSERT INTO t VALUES(1, 'one', 1, 1); INSERT INTO w VALUES('a', 'x', 1);"
              "INSERT INTO u VALUES(1, 'x'); INSERT INTO wu VALUES(1, 'x');"
              "CREATE TABLE src(id INTEGER PRIMARY KEY, c TEXT);"
              "CREATE TRIGGER src_ai AFTER INSERT ON src BEGIN INSERT INTO u VALUES(new.id, new.c)"
              " ON CONFLICT(id) DO UPDATE SET c = excluded.c || '!'; END;"
              "CREATE TRIGGER t_bi BEFORE INSERT ON t BEGIN"
              " INSERT INTO log(what) VALUES('bi ' || quote(new.c) || ' ' || quote(new.d)); END;"
              "CREATE TRIGGER t_bu BEFORE UPDATE ON t BEGIN"
              " INSERT INTO log(what) VALUES('bu ' || quote(old.c) || '>' || quote(new.c) || ' '"
              " || quote(new.d)); END;"
              "CREATE TRIGGER t_au AFTER UPDATE OF c ON t BEGIN"
              " INSERT INTO log(what) VALUES('au ' || quote(new.c) || ' ' || quote(new.d)); END;"
              "CREATE TRIGGER w_bu BEFORE UPDATE ON w BEGIN"
              " INSERT INTO log(what) VALUES('wbu ' || quote(new.c) || ' ' || quote(new.n)); END;"
              "CREATE TRIGGER w_au AFTER UPDATE ON w BEGIN"
              " INSERT INTO log(what) VALUES('wau ' || quote(new.c)); END;");
    tp_begin(&p);
    OK_(tp_upsert_s(&p, "t", 1, "1, NULL, NULL, 2")); /* the DO UPDATE path */
    OK_(tp_upsert_s(&p, "t", 2, "2, NULL, 5, 3"));    /* the INSERT path */
    OK_(tp_upsert_s(&p, "t", 2, "2, 'two', NULL, 4"));
    OK_(tp_upsert_s(&p, "w", 0, "'a', NULL, 2"));
    EXPECT(TP_CONSTRAINT, tp_upsert_s(&p, "w", 0, "'a', 'y', NULL")); /* no DEFAULT */
    OK_(tp_upsert_s(&p, "u", 1, "1, NULL"));                          /* (no triggers) */
    OK_(tp_upsert_s(&p, "wu", 0, "1, NULL"));
    tp_end(&p, 1);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "w", "'b', 'q', 1"));
    tp_end(&p, 1);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "src", "1, NULL")); /* a body's UPSERT: excluded.c is the DEFAULT */
    OK_(tp_insert_s(&p, "src", "2, NULL"));
    tp_end(&p, 1);
    REF_EQ(1, "SELECT count(*) FROM u WHERE c = 'ud!'");
    REF_EQ(1, "SELECT count(*) FROM u WHERE c = 'ud'");
    REF_EQ(1, "SELECT count(*) FROM wu WHERE c = 'wud'");
    REF_EQ(1, "SELECT count(*) FROM log WHERE what = 'bu ''one''>''dflt'' 42'");
    REF_EQ(1, "SELECT count(*) FROM log WHERE what = 'au ''dflt'' 42'");
    REF_EQ(1, "SELECT count(*) FROM t WHERE id = 2 AND c = 'two' AND d = 42");
    REF_EQ(1, "SELECT count(*) FROM log WHERE what = 'wbu ''wd'' 2'");
    case_close(&p);
}
