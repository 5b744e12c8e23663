/*
 * test_trigger.c - SQLite triggers run by folio exactly as libsqlite3 runs
 * them: one case per behaviour.
 *
 * Every row call is one SQL statement (tests/support/trig_pair.h says
 * which); each case starts from one file that libsqlite3 builds - tables,
 * rows, triggers - copied twice, then makes the same calls through folio on
 * one copy and as SQL through libsqlite3 on the other: every call must
 * succeed in both or fail in both with the same class of error and SQLite's
 * message (RAISE's own, constraint failures, "no such column: ..."), and
 * after every transaction both files hold the same rows, value for value and
 * type for type. At the end libsqlite3's integrity_check and folio_check
 * pass on folio's file. Each case also checks, in SQLite's file, that it did
 * what it is for. The random test is test_trigger_random.c. TRIGDEBUG=1
 * prints every call; TRIGREF=1 puts libsqlite3 in folio's place (a check of
 * the test itself).
 */
#include "compat.h"
#include "trig_pair.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Cases ------------------------------------------------------------------ */

#define OK_(call)                                                                                  \
    cr_assert_eq((call), TP_OK, "%s: %s: sqlite '%s', folio '%s'", p.ctx, #call, p.smsg, p.fmsg)
#define EXPECT(cls, call)                                                                          \
    cr_assert_eq((call), (cls), "%s: %s: expected %s: sqlite '%s', folio '%s'", p.ctx, #call,      \
                 tp_class_name(cls), p.smsg, p.fmsg)
/* A fact about the reference after the case: the case did what it is for. */
#define REF_EQ(want, ...)                                                                          \
    do {                                                                                           \
        int64_t got_ = tp_ref_int(&p, __VA_ARGS__);                                                \
        cr_assert_eq(got_, (want), "%s: in SQLite's file: %s is %" PRId64 ", not %" PRId64, p.ctx, \
                     #__VA_ARGS__, got_, (int64_t)(want));                                         \
    } while (0)

static char *g_dir;

static void case_open(tp_pair *p, const char *name, const char *setup, int fk, int rec)
{
    g_dir = compat_tmpdir();
    tp_open(p, g_dir, name, setup, fk, rec);
}

static void case_close(tp_pair *p)
{
    tp_close(p);
    compat_rmtree(g_dir);
    free(g_dir);
    g_dir = NULL;
}

Test(trigger_case, audit_row_after_insert)
{
    tp_pair p;
    case_open(&p, "audit",
              "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT UNIQUE, qty INT);"
              "CREATE TABLE audit(id INTEGER PRIMARY KEY AUTOINCREMENT, item INT, action TEXT,"
              " at INT);"
              "CREATE TRIGGER items_ai AFTER INSERT ON items BEGIN"
              " INSERT INTO audit(item, action, at) VALUES(NEW.id, 'insert', 1700000000);"
              "END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "items", "NULL, 'apple', 3")); /* an automatic rowid */
    OK_(tp_insert_s(&p, "items", "10, 'pear', 1"));
    OK_(tp_insert_s(&p, "items", "NULL, 'plum', 2"));
    /* A failed insert leaves no audit row. */
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "items", "NULL, 'apple', 9"));
    tp_end(&p, 1);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "items", "NULL, 'fig', 4"));
    tp_end(&p, 0);
    REF_EQ(3, "SELECT count(*) FROM audit");
    REF_EQ(11, "SELECT item FROM audit WHERE id = 3");
    REF_EQ(3, "SELECT seq FROM sqlite_sequence WHERE name = 'audit'");
    case_close(&p);
}

Test(trigger_case, last_update_set_after_update)
{
    tp_pair p;
    case_open(&p, "stamp",
              "CREATE TABLE doc(id INTEGER PRIMARY KEY, body TEXT, version INT DEFAULT 0,"
              " last_update INT);"
              "INSERT INTO doc(id, body) VALUES(1, 'a'), (2, 'b'), (3, 'c');"
              "CREATE TRIGGER doc_au AFTER UPDATE ON doc BEGIN"
              " UPDATE doc SET last_update = 1700000000 + NEW.id, version = OLD.version + 1"
              " WHERE id = NEW.id;"
              "END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_patch_s(&p, "doc", 1, "body", "'x'"));
    OK_(tp_update_s(&p, "doc", 2, "2, 'y', 5, NULL"));
    OK_(tp_update_where_s(&p, "doc", "+id >= 2", "body", "'z'"));
    EXPECT(TP_NOTFOUND, tp_patch_s(&p, "doc", 9, "body", "'w'"));
    tp_end(&p, 1);
    REF_EQ(3, "SELECT count(*) FROM doc WHERE last_update = 1700000000 + id");
    REF_EQ(1, "SELECT version FROM doc WHERE id = 1");
    REF_EQ(2, "SELECT version FROM doc WHERE id = 2"); /* 5 set, then 0 + 1, then 1 + 1 */
    REF_EQ(1, "SELECT version FROM doc WHERE id = 3");
    case_close(&p);
}

Test(trigger_case, before_insert_raise_abort)
{
    tp_pair p;
    case_open(&p, "abort",
              "CREATE TABLE acct(id INTEGER PRIMARY KEY, owner TEXT, balance INT);"
              "CREATE TRIGGER acct_bi BEFORE INSERT ON acct WHEN NEW.balance < 0 BEGIN"
              " SELECT RAISE(ABORT, 'balance must not be negative');"
              "END;"
              "CREATE TRIGGER acct_bu BEFORE UPDATE OF balance ON acct"
              " WHEN NEW.balance < 0 BEGIN SELECT RAISE(ABORT, 'overdrawn'); END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "acct", "1, 'ann', 10"));
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "acct", "2, 'bob', -1"));
    cr_assert_str_eq(p.smsg, "balance must not be negative");
    OK_(tp_insert_s(&p, "acct", "3, 'cid', 0"));
    EXPECT(TP_CONSTRAINT, tp_patch_s(&p, "acct", 1, "balance", "-5"));
    cr_assert_str_eq(p.smsg, "overdrawn");
    EXPECT(TP_CONSTRAINT, tp_update_s(&p, "acct", 3, "3, 'cid', -2"));
    OK_(tp_patch_s(&p, "acct", 1, "owner", "'anne'"));
    EXPECT(TP_CONSTRAINT, tp_update_where_s(&p, "acct", "+balance >= 0", "balance", "-1"));
    tp_end(&p, 1);
    REF_EQ(2, "SELECT count(*) FROM acct");
    REF_EQ(10, "SELECT balance FROM acct WHERE owner = 'anne'");
    case_close(&p);
}

Test(trigger_case, raise_ignore_before_and_after)
{
    tp_pair p;
    case_open(&p, "ignore",
              "CREATE TABLE t(id INTEGER PRIMARY KEY, v INT);"
              "CREATE TABLE log(n INTEGER PRIMARY KEY, what TEXT, v INT);"
              "CREATE TRIGGER t_bi BEFORE INSERT ON t WHEN NEW.v = 0 BEGIN"
              " INSERT INTO log(what, v) VALUES('skipped', NEW.v); SELECT RAISE(IGNORE);"
              "END;"
              "CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN"
              " INSERT INTO log(what, v) VALUES('first', NEW.v);"
              " SELECT RAISE(IGNORE) WHERE NEW.v > 5;"
              " INSERT INTO log(what, v) VALUES('second', NEW.v);"
              "END;"
              "CREATE TRIGGER t_bd BEFORE DELETE ON t WHEN OLD.v = 3 BEGIN SELECT RAISE(IGNORE);"
              "END;"
              "CREATE TRIGGER t_bu BEFORE UPDATE ON t WHEN NEW.v = 99 BEGIN SELECT RAISE(IGNORE);"
              "END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "t", "1, 1"));
    OK_(tp_insert_s(&p, "t", "2, 0")); /* skipped: no row, no error */
    OK_(tp_insert_s(&p, "t", "NULL, 0"));
    OK_(tp_insert_s(&p, "t", "3, 7")); /* the AFTER trigger stops after 'first' */
    OK_(tp_insert_s(&p, "t", "4, 3"));
    OK_(tp_delete(&p, "t", 4));             /* ignored: the row stays */
    OK_(tp_patch_s(&p, "t", 1, "v", "99")); /* ignored */
    OK_(tp_delete_where(&p, "t", "+v >= 1"));
    tp_end(&p, 1);
    REF_EQ(1, "SELECT count(*) FROM t");
    REF_EQ(4, "SELECT id FROM t");
    REF_EQ(2, "SELECT count(*) FROM log WHERE what = 'skipped'");
    REF_EQ(3, "SELECT count(*) FROM log WHERE what = 'first'");
    REF_EQ(2, "SELECT count(*) FROM log WHERE what = 'second'");
    case_close(&p);
}

Test(trigger_case, raise_fail_keeps_earlier_rows)
{
    tp_pair p;
    case_open(&p, "fail",
              "CREATE TABLE q(id INTEGER PRIMARY KEY, x INT);"
              "CREATE TABLE gone(id INTEGER PRIMARY KEY, x INT);"
              "INSERT INTO q VALUES(1, 1), (2, 2), (3, 3), (4, 4), (5, 5);"
              "CREATE TRIGGER q_bd BEFORE DELETE ON q WHEN OLD.x = 3 BEGIN"
              " SELECT RAISE(FAIL, 'stop at three'); END;"
              "CREATE TRIGGER q_ad AFTER DELETE ON q BEGIN INSERT INTO gone VALUES(OLD.id, OLD.x);"
              "END;"
              "CREATE TRIGGER q_bu BEFORE UPDATE ON q WHEN OLD.x = 5 BEGIN"
              " SELECT RAISE(ABORT, 'abort at five'); END;"
              "CREATE TRIGGER q_au AFTER UPDATE ON q WHEN NEW.x = 7 BEGIN"
              " SELECT RAISE(FAIL, 'fail at seven'); END;",
              0, 0);
    tp_begin(&p);
    /* FAIL: rows 1 and 2 stay deleted (and their rows in gone). */
    EXPECT(TP_CONSTRAINT, tp_delete_where(&p, "q", "+x >= 1"));
    cr_assert_str_eq(p.smsg, "stop at three");
    /* ABORT: row 4's change is undone with the statement. */
    EXPECT(TP_CONSTRAINT, tp_update_where_s(&p, "q", "+x >= 4", "x", "9"));
    cr_assert_str_eq(p.smsg, "abort at five");
    /* FAIL in an AFTER trigger: the row that fired it keeps its change. */
    EXPECT(TP_CONSTRAINT, tp_update_where_s(&p, "q", "+x IN (3, 4)", "x", "7"));
    cr_assert_str_eq(p.smsg, "fail at seven");
    tp_end(&p, 1);
    REF_EQ(3, "SELECT count(*) FROM q");
    REF_EQ(2, "SELECT count(*) FROM gone");
    REF_EQ(7, "SELECT x FROM q WHERE id = 3");
    REF_EQ(4, "SELECT x FROM q WHERE id = 4");
    case_close(&p);
}

Test(trigger_case, raise_rollback_ends_the_transaction)
{
    tp_pair p;
    case_open(&p, "rollback",
              "CREATE TABLE t(id INTEGER PRIMARY KEY, v INT);"
              "INSERT INTO t VALUES(1, 1);"
              "CREATE TRIGGER t_bi BEFORE INSERT ON t WHEN NEW.v = 13 BEGIN"
              " SELECT RAISE(ROLLBACK, 'unlucky'); END;"
              "CREATE TRIGGER t_ai AFTER INSERT ON t WHEN NEW.v = 20 BEGIN"
              " INSERT OR ROLLBACK INTO t VALUES(1, 0); END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "t", "2, 2"));
    OK_(tp_patch_s(&p, "t", 1, "v", "5"));
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "t", "3, 13"));
    cr_assert_str_eq(p.smsg, "unlucky");
    cr_assert(p.ended_by_rollback && !p.in_txn, "%s: the transaction should be over", p.ctx);
    tp_end(&p, 1); /* nothing left to end */
    REF_EQ(1, "SELECT count(*) FROM t");
    REF_EQ(1, "SELECT v FROM t WHERE id = 1");
    /* An OR ROLLBACK conflict in a body ends it too. */
    tp_begin(&p);
    OK_(tp_insert_s(&p, "t", "4, 4"));
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "t", "5, 20"));
    cr_assert(p.ended_by_rollback && !p.in_txn, "%s: the transaction should be over", p.ctx);
    REF_EQ(1, "SELECT count(*) FROM t");
    /* A new transaction works. */
    tp_begin(&p);
    OK_(tp_insert_s(&p, "t", "6, 6"));
    tp_end(&p, 1);
    REF_EQ(2, "SELECT count(*) FROM t");
    case_close(&p);
}

Test(trigger_case, update_of_fires_only_for_its_columns)
{
    tp_pair p;
    case_open(&p, "updof",
              "CREATE TABLE prod(id INTEGER PRIMARY KEY, name TEXT, price INT, qty INT);"
              "CREATE TABLE price_log(n INTEGER PRIMARY KEY, id INT, old INT, new INT);"
              "INSERT INTO prod VALUES(1, 'a', 10, 5), (2, 'b', 20, 6);"
              "CREATE TRIGGER prod_price AFTER UPDATE OF price ON prod BEGIN"
              " INSERT INTO price_log(id, old, new) VALUES(NEW.id, OLD.price, NEW.price); END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_patch_s(&p, "prod", 1, "qty", "7"));            /* not fired */
    OK_(tp_patch_s(&p, "prod", 1, "price", "11"));         /* fired */
    OK_(tp_patch_s(&p, "prod", 2, "name, qty", "'c', 1")); /* not fired */
    OK_(tp_update_s(&p, "prod", 2, "2, 'c', 20, 1"));      /* every column: fired */
    OK_(tp_update_where_s(&p, "prod", "+qty > 0", "qty", "2"));
    OK_(tp_update_where_s(&p, "prod", "+id = 1", "price", "12"));
    tp_end(&p, 1);
    REF_EQ(3, "SELECT count(*) FROM price_log");
    case_close(&p);
}

Test(trigger_case, when_with_new_and_old)
{
    tp_pair p;
    case_open(&p, "when",
              "CREATE TABLE s(id INTEGER PRIMARY KEY, state TEXT, n INT);"
              "CREATE TABLE ev(k INTEGER PRIMARY KEY, id INT, what TEXT);"
              "CREATE TRIGGER s_au AFTER UPDATE ON s"
              " WHEN NEW.state IS NOT OLD.state AND OLD.state = 'open' BEGIN"
              " INSERT INTO ev(id, what) VALUES(NEW.id, OLD.state || '->' || NEW.state); END;"
              "CREATE TRIGGER s_bd BEFORE DELETE ON s WHEN OLD.n > 10 BEGIN"
              " INSERT INTO ev(id, what) VALUES(OLD.id, 'big delete'); END;"
              "CREATE TRIGGER s_ai AFTER INSERT ON s WHEN NEW.n IS NULL BEGIN"
              " UPDATE s SET n = 0 WHERE id = NEW.id; END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "s", "1, 'open', NULL"));
    OK_(tp_insert_s(&p, "s", "2, 'open', 20"));
    OK_(tp_patch_s(&p, "s", 1, "state", "'closed'"));
    OK_(tp_patch_s(&p, "s", 1, "state", "'open'"));
    OK_(tp_patch_s(&p, "s", 2, "n", "21"));
    OK_(tp_delete(&p, "s", 2));
    OK_(tp_delete(&p, "s", 1));
    tp_end(&p, 1);
    REF_EQ(2, "SELECT count(*) FROM ev");
    REF_EQ(1, "SELECT count(*) FROM ev WHERE what = 'open->closed'");
    case_close(&p);
}

Test(trigger_case, cascade_of_three_tables)
{
    tp_pair p;
    case_open(&p, "cascade",
              "CREATE TABLE t1(id INTEGER PRIMARY KEY, v INT, hits INT DEFAULT 0);"
              "CREATE TABLE t2(id INTEGER PRIMARY KEY, t1 INT, v INT);"
              "CREATE TABLE t3(id INTEGER PRIMARY KEY, t2 INT, v INT);"
              "CREATE TRIGGER t1_ai AFTER INSERT ON t1 BEGIN"
              " INSERT INTO t2(t1, v) VALUES(NEW.id, NEW.v * 10); END;"
              "CREATE TRIGGER t2_ai AFTER INSERT ON t2 BEGIN"
              " INSERT INTO t3(t2, v) VALUES(NEW.id, NEW.v + 1); END;"
              "CREATE TRIGGER t3_ai AFTER INSERT ON t3 BEGIN"
              " UPDATE t1 SET hits = hits + 1 WHERE id = (SELECT t1 FROM t2 WHERE id = NEW.t2);"
              "END;"
              "CREATE TRIGGER t1_ad AFTER DELETE ON t1 BEGIN DELETE FROM t2 WHERE t1 = OLD.id;"
              "END;"
              "CREATE TRIGGER t2_ad AFTER DELETE ON t2 BEGIN DELETE FROM t3 WHERE t2 = OLD.id;"
              "END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "t1", "NULL, 1, 0"));
    OK_(tp_insert_s(&p, "t1", "NULL, 2, 0"));
    OK_(tp_insert_s(&p, "t1", "NULL, 3, 0"));
    OK_(tp_delete(&p, "t1", 2));
    tp_end(&p, 1);
    REF_EQ(2, "SELECT count(*) FROM t3");
    REF_EQ(31, "SELECT v FROM t3 WHERE t2 = 3");
    REF_EQ(2, "SELECT sum(hits) FROM t1");
    case_close(&p);
}

/* A trigger that updates its own table: once with recursive_triggers off,
 * until WHEN stops it with it on. */
static void own_table(int rec)
{
    tp_pair p;
    case_open(&p, rec ? "own-rec" : "own",
              "CREATE TABLE c(id INTEGER PRIMARY KEY, v INT);"
              "INSERT INTO c VALUES(1, 0), (2, 0);"
              "CREATE TRIGGER c_au AFTER UPDATE ON c WHEN NEW.v < 10 BEGIN"
              " UPDATE c SET v = NEW.v + 1 WHERE id = NEW.id; END;",
              0, rec);
    tp_begin(&p);
    OK_(tp_patch_s(&p, "c", 1, "v", "1"));
    OK_(tp_update_where_s(&p, "c", "+id = 2", "v", "5"));
    tp_end(&p, 1);
    REF_EQ(rec ? 10 : 2, "SELECT v FROM c WHERE id = 1");
    REF_EQ(rec ? 10 : 6, "SELECT v FROM c WHERE id = 2");
    case_close(&p);
}

Test(trigger_case, own_table_recursive_triggers_off)
{
    own_table(0);
}

Test(trigger_case, own_table_recursive_triggers_on)
{
    own_table(1);
}

/* OR REPLACE in a body (in the contract; folio refused it when this was
 * written): the rows it removes fire their DELETE triggers only with
 * recursive_triggers on. */
static void replace_in_body(int rec)
{
    tp_pair p;
    case_open(&p, rec ? "replace-rec" : "replace",
              "CREATE TABLE u(id INTEGER PRIMARY KEY, k INT UNIQUE);"
              "CREATE TABLE dl(n INTEGER PRIMARY KEY, id INT);"
              "CREATE TABLE src(id INTEGER PRIMARY KEY, k INT);"
              "CREATE TABLE last(slot INTEGER PRIMARY KEY, src INT);"
              "INSERT INTO u VALUES(1, 1), (2, 2);"
              "CREATE TRIGGER u_ad AFTER DELETE ON u BEGIN INSERT INTO dl(id) VALUES(OLD.id); END;"
              "CREATE TRIGGER src_ai AFTER INSERT ON src BEGIN"
              " INSERT OR REPLACE INTO u VALUES(NEW.id, NEW.k);"
              " INSERT OR REPLACE INTO last VALUES(1, NEW.id); END;"
              "CREATE TRIGGER src_au AFTER UPDATE ON src BEGIN"
              " UPDATE OR REPLACE u SET k = NEW.k WHERE id = NEW.id; END;",
              0, rec);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "src", "5, 1"));     /* replaces u's row 1 (k = 1) */
    OK_(tp_insert_s(&p, "src", "2, 7"));     /* replaces u's row 2 (id = 2) */
    OK_(tp_patch_s(&p, "src", 5, "k", "7")); /* u 5 takes k = 7 from u 2 */
    tp_end(&p, 1);
    REF_EQ(rec ? 3 : 0, "SELECT count(*) FROM dl");
    REF_EQ(5, "SELECT id FROM u WHERE k = 7");
    REF_EQ(2, "SELECT src FROM last");
    case_close(&p);
}

Test(trigger_case, or_replace_in_body_recursive_triggers_off)
{
    replace_in_body(0);
}

Test(trigger_case, or_replace_in_body_recursive_triggers_on)
{
    replace_in_body(1);
}

/* At most 1000 trigger programs nest (SQLite's SQLITE_MAX_TRIGGER_DEPTH):
 * one more and the call fails, changing nothing. In r2, which has no
 * constraint, SQLite 3.40 keeps the rows the failed statement inserted (no
 * statement journal: see trig_pair.h); folio undoes the call there too. */
Test(trigger_case, recursion_depth_limit, .timeout = 300)
{
    tp_pair p;
    case_open(&p, "depth",
              "CREATE TABLE r(x INTEGER NOT NULL);"
              "CREATE TABLE r2(x INTEGER);"
              "CREATE TRIGGER r_ai AFTER INSERT ON r WHEN NEW.x < 2000 BEGIN"
              " INSERT INTO r VALUES(NEW.x + 1); END;"
              "CREATE TRIGGER r2_ai AFTER INSERT ON r2 WHEN NEW.x < 2000 BEGIN"
              " INSERT INTO r2 VALUES(NEW.x + 1); END;",
              0, 1);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "r", "1001")); /* 1000 rows: the deepest SQLite allows */
    EXPECT(TP_ERROR, tp_insert_s(&p, "r", "1000"));
    cr_assert_str_eq(p.smsg, "too many levels of trigger recursion");
    OK_(tp_insert_s(&p, "r2", "1001"));
    EXPECT(TP_ERROR, tp_insert_s(&p, "r2", "1000"));
    OK_(tp_insert_s(&p, "r2", "5000"));
    tp_end(&p, 1);
    REF_EQ(1000, "SELECT count(*) FROM r");
    REF_EQ(1001, "SELECT count(*) FROM r2");
    cr_assert_eq(p.n_too_deep, 2);
    case_close(&p);
}

Test(trigger_case, recursion_off_fires_once)
{
    tp_pair p;
    case_open(&p, "norec",
              "CREATE TABLE r(x INTEGER);"
              "CREATE TRIGGER r_ai AFTER INSERT ON r WHEN NEW.x < 2000 BEGIN"
              " INSERT INTO r VALUES(NEW.x + 1); END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "r", "1"));
    OK_(tp_insert_s(&p, "r", "1000"));
    tp_end(&p, 1);
    REF_EQ(4, "SELECT count(*) FROM r");
    case_close(&p);
}

Test(trigger_case, denormalised_counter)
{
    tp_pair p;
    case_open(&p, "counter",
              "CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT, n INT NOT NULL DEFAULT 0);"
              "CREATE TABLE child(id INTEGER PRIMARY KEY, pid INT, x INT);"
              "INSERT INTO parent(id, name) VALUES(1, 'a'), (2, 'b'), (3, 'c');"
              "CREATE TRIGGER child_ai AFTER INSERT ON child BEGIN"
              " UPDATE parent SET n = n + 1 WHERE id = NEW.pid; END;"
              "CREATE TRIGGER child_ad AFTER DELETE ON child BEGIN"
              " UPDATE parent SET n = n - 1 WHERE id = OLD.pid; END;"
              "CREATE TRIGGER child_au AFTER UPDATE OF pid ON child BEGIN"
              " UPDATE parent SET n = n - 1 WHERE id = OLD.pid;"
              " UPDATE parent SET n = n + 1 WHERE id = NEW.pid; END;",
              0, 0);
    tp_begin(&p);
    static const char *const kids[] = {"NULL, 1, 0", "NULL, 1, 1", "NULL, 2, 2",
                                       "NULL, 3, 3", "NULL, 3, 4", "NULL, 3, NULL"};
    for (int i = 0; i < 6; i++)
        OK_(tp_insert_s(&p, "child", kids[i]));
    OK_(tp_patch_s(&p, "child", 1, "pid", "2"));
    OK_(tp_patch_s(&p, "child", 2, "x", "9")); /* not pid: not fired */
    OK_(tp_delete(&p, "child", 4));
    tp_end(&p, 1);
    tp_begin(&p);
    OK_(tp_delete_where(&p, "child", "+pid = 3 AND +x IS NOT NULL"));
    OK_(tp_update_where_s(&p, "child", "+x IS NULL", "pid", "1"));
    OK_(tp_upsert_s(&p, "child", 2, "2, 3, 9")); /* conflict: the UPDATE OF pid trigger */
    OK_(tp_upsert_s(&p, "child", 20, "20, 3, 1"));
    tp_end(&p, 1);
    REF_EQ(0, "SELECT count(*) FROM parent WHERE n <> (SELECT count(*) FROM child WHERE pid = "
              "parent.id)");
    REF_EQ(5, "SELECT sum(n) FROM parent");
    case_close(&p);
}

Test(trigger_case, subqueries_and_aggregates)
{
    tp_pair p;
    case_open(
        &p, "subq",
        "CREATE TABLE stock(item INTEGER PRIMARY KEY, qty INT);"
        "CREATE TABLE orders(id INTEGER PRIMARY KEY, item INT, qty INT);"
        "CREATE TABLE flagged(id INTEGER PRIMARY KEY, item INT);"
        "CREATE TABLE vip(item INTEGER PRIMARY KEY);"
        "CREATE TABLE summary(n INT, s INT, a REAL, mn INT, mx INT, t REAL, g TEXT);"
        "INSERT INTO stock VALUES(1, 10), (2, 5), (3, 0);"
        "INSERT INTO vip VALUES(2);"
        "CREATE TRIGGER orders_bi BEFORE INSERT ON orders"
        " WHEN (SELECT qty FROM stock WHERE item = NEW.item) < NEW.qty BEGIN"
        " SELECT RAISE(ABORT, 'out of stock'); END;"
        "CREATE TRIGGER orders_ai AFTER INSERT ON orders BEGIN"
        " UPDATE stock SET qty = qty - NEW.qty WHERE item = NEW.item; END;"
        "CREATE TRIGGER orders_flag AFTER INSERT ON orders"
        " WHEN NEW.item IN (SELECT item FROM vip)"
        " OR NOT EXISTS (SELECT 1 FROM stock WHERE item = NEW.item) BEGIN"
        " INSERT INTO flagged(item) VALUES(NEW.item); END;"
        "CREATE TRIGGER orders_ad AFTER DELETE ON orders BEGIN"
        " UPDATE stock SET qty = qty + OLD.qty WHERE item = OLD.item;"
        " INSERT INTO summary VALUES((SELECT count(*) FROM orders), (SELECT sum(qty) FROM orders),"
        " (SELECT avg(qty) FROM orders), (SELECT min(qty) FROM orders),"
        " (SELECT max(item) FROM orders WHERE qty > OLD.qty), (SELECT total(qty) FROM orders),"
        " (SELECT group_concat(item) FROM orders)); END;",
        0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "orders", "NULL, 1, 4"));
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "orders", "NULL, 1, 7"));
    cr_assert_str_eq(p.smsg, "out of stock");
    OK_(tp_insert_s(&p, "orders", "NULL, 2, 5"));
    OK_(tp_insert_s(&p, "orders", "NULL, 9, 1")); /* no stock row: WHEN is NULL */
    OK_(tp_insert_s(&p, "orders", "NULL, 1, 3"));
    OK_(tp_delete(&p, "orders", 1));
    OK_(tp_delete_where(&p, "orders", "+item = 9"));
    tp_end(&p, 1);
    REF_EQ(7, "SELECT qty FROM stock WHERE item = 1"); /* 10 - 4 - 3 + 4 */
    REF_EQ(2, "SELECT count(*) FROM flagged");
    REF_EQ(2, "SELECT count(*) FROM summary");
    case_close(&p);
}

Test(trigger_case, insert_select_and_values)
{
    tp_pair p;
    case_open(&p, "inssel",
              "CREATE TABLE src(id INTEGER PRIMARY KEY, grp INT, v TEXT);"
              "CREATE TABLE batch(id INTEGER PRIMARY KEY, grp INT);"
              "CREATE TABLE copy(id INTEGER PRIMARY KEY, grp INT, v TEXT, batch INT);"
              "CREATE TABLE arch(id INT, v TEXT);"
              "CREATE TABLE tick(id INTEGER PRIMARY KEY, at INT DEFAULT 7, note TEXT DEFAULT 'x');"
              "INSERT INTO src VALUES(1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c'), (4, 3, 'd');"
              "CREATE TRIGGER batch_ai AFTER INSERT ON batch BEGIN"
              " INSERT INTO copy(grp, v, batch) SELECT grp, v, NEW.id FROM src WHERE grp = NEW.grp;"
              " INSERT INTO arch VALUES(NEW.id, 'b1'), (NEW.id, 'b2'); END;"
              "CREATE TRIGGER src_bd BEFORE DELETE ON src BEGIN"
              " INSERT INTO arch SELECT id, v FROM src WHERE id = OLD.id; END;"
              "CREATE TRIGGER src_ai AFTER INSERT ON src BEGIN INSERT INTO tick(note)"
              " SELECT v FROM src WHERE id = NEW.id; END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "batch", "NULL, 1"));
    OK_(tp_insert_s(&p, "batch", "NULL, 2"));
    OK_(tp_insert_s(&p, "batch", "NULL, 9"));
    OK_(tp_delete_where(&p, "src", "+grp = 1"));
    OK_(tp_insert_s(&p, "src", "NULL, 4, 'e'"));
    tp_end(&p, 1);
    REF_EQ(3, "SELECT count(*) FROM copy");
    REF_EQ(8, "SELECT count(*) FROM arch");
    REF_EQ(1, "SELECT count(*) FROM tick WHERE at = 7 AND note = 'e'");
    case_close(&p);
}

Test(trigger_case, conflict_clauses_in_bodies)
{
    tp_pair p;
    case_open(&p, "conflict",
              "CREATE TABLE tag(id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INT DEFAULT 0);"
              "CREATE TABLE post(id INTEGER PRIMARY KEY, tag TEXT);"
              "INSERT INTO tag(name) VALUES('dup');"
              "CREATE TRIGGER post_ai AFTER INSERT ON post BEGIN"
              " INSERT OR IGNORE INTO tag(name) VALUES(NEW.tag);"
              " UPDATE tag SET n = n + 1 WHERE name = NEW.tag; END;"
              "CREATE TRIGGER post_au AFTER UPDATE OF tag ON post BEGIN"
              " UPDATE OR IGNORE tag SET name = NEW.tag WHERE name = OLD.tag; END;"
              "CREATE TRIGGER post_ad AFTER DELETE ON post BEGIN"
              " INSERT OR FAIL INTO tag(id, name) VALUES(OLD.id + 100, OLD.tag || '-gone'); END;"
              "CREATE TRIGGER post_bi BEFORE INSERT ON post WHEN NEW.tag = 'x' BEGIN"
              " INSERT OR ABORT INTO tag(name) VALUES('dup'); END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "post", "NULL, 'a'"));
    OK_(tp_insert_s(&p, "post", "NULL, 'a'"));
    OK_(tp_insert_s(&p, "post", "NULL, 'b'"));
    OK_(tp_patch_s(&p, "post", 1, "tag", "'b'")); /* rename a -> b: ignored */
    OK_(tp_patch_s(&p, "post", 3, "tag", "'c'")); /* rename b -> c */
    OK_(tp_delete(&p, "post", 2));                /* tag 102 'a-gone' */
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "post", "NULL, 'x'"));
    OK_(tp_insert_s(&p, "post", "5, 'q'"));
    OK_(tp_insert_s(&p, "post", "6, 'a'"));
    /* Post 5 goes, post 6's 'a-gone' is taken: FAIL in the body. */
    EXPECT(TP_CONSTRAINT, tp_delete_where(&p, "post", "+id >= 5"));
    tp_end(&p, 1);
    REF_EQ(3, "SELECT n FROM tag WHERE name = 'a'");
    REF_EQ(1, "SELECT count(*) FROM tag WHERE name = 'q-gone'");
    case_close(&p);
}

Test(trigger_case, errors_at_fire_time)
{
    tp_pair p;
    case_open(&p, "fireerr",
              "CREATE TABLE t(id INTEGER PRIMARY KEY, v INT);"
              "CREATE TABLE w(id INTEGER PRIMARY KEY, v INT);"
              "INSERT INTO t VALUES(1, 1), (2, 2);"
              "CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN INSERT INTO w VALUES(NEW.id, new.zz);"
              "END;"
              "CREATE TRIGGER t_ad AFTER DELETE ON t BEGIN INSERT INTO x VALUES(OLD.id); END;",
              0, 0);
    tp_begin(&p);
    EXPECT(TP_ERROR, tp_insert_s(&p, "t", "3, 3"));
    cr_assert_str_eq(p.smsg, "no such column: new.zz");
    EXPECT(TP_ERROR, tp_delete(&p, "t", 1));
    cr_assert_str_eq(p.smsg, "no such table: main.x");
    EXPECT(TP_ERROR, tp_delete_where(&p, "t", "+v > 0"));
    OK_(tp_patch_s(&p, "t", 1, "v", "5")); /* no UPDATE trigger */
    OK_(tp_insert_s(&p, "w", "1, 1"));
    tp_end(&p, 1);
    REF_EQ(5, "SELECT v FROM t WHERE id = 1");
    REF_EQ(1, "SELECT count(*) FROM w");
    case_close(&p);
}

/* What folio does not run is refused, naming the trigger; reading works. */
Test(trigger_case, unsupported_constructs_refused)
{
    char *dir = compat_tmpdir(), *path = compat_path(dir, "unsup.db");
    compat_run(path,
               "CREATE TABLE t(id INTEGER PRIMARY KEY, v INT);"
               "CREATE TABLE w(id INTEGER PRIMARY KEY, v INT);"
               "INSERT INTO t VALUES(1, 10), (2, 20); INSERT INTO w VALUES(1, 1);"
               "CREATE TRIGGER t_join AFTER INSERT ON t BEGIN"
               " INSERT INTO w SELECT a.id + 100, b.v FROM t a JOIN t b ON a.id = b.id"
               " WHERE a.id = NEW.id; END;"
               "CREATE TRIGGER w_window AFTER INSERT ON w BEGIN"
               " UPDATE w SET v = (SELECT max(x) FROM (SELECT row_number() OVER (ORDER BY id) AS x"
               " FROM w)) WHERE id = NEW.id; END;"
               "CREATE VIEW tv AS SELECT * FROM t;"
               "CREATE TRIGGER tv_ins INSTEAD OF INSERT ON tv BEGIN"
               " INSERT INTO w VALUES(NEW.id + 1000, NEW.v); END;");
    if (getenv("TRIGREF")) { /* (folio's own behaviour: nothing to check against SQLite) */
        compat_rmtree(dir);
        free(path);
        free(dir);
        return;
    }
    folio_options o = FOLIO_OPTIONS_INIT;
    o.mmap_bytes = compat_mmap_option();
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    folio_table *t, *w;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&w, txn, "w"), FOLIO_OK);
    folio_value row[2] = {{.type = FOLIO_INTEGER, .u.i = 3}, {.type = FOLIO_INTEGER, .u.i = 30}};
    int rc = folio_insert(NULL, t, row, 2);
    cr_assert_eq(rc, FOLIO_UNSUPPORTED, "insert into t: %s %s", compat_rc_name(rc),
                 folio_errmsg(db));
    cr_assert(strstr(folio_errmsg(db), "t_join"), "the message names the trigger: %s",
              folio_errmsg(db));
    printf("folio: %s\n", folio_errmsg(db));
    rc = folio_insert(NULL, w, row, 2);
    cr_assert_eq(rc, FOLIO_UNSUPPORTED, "insert into w: %s %s", compat_rc_name(rc),
                 folio_errmsg(db));
    cr_assert(strstr(folio_errmsg(db), "w_window"), "the message names the trigger: %s",
              folio_errmsg(db));
    printf("folio: %s\n", folio_errmsg(db));
    cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    /* Nothing changed; reading works. */
    compare_table(path, "t");
    compare_table(path, "w");
    sqlite3 *sq = compat_sqlite_open_ro(path);
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM t"), 2);
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM w"), 1);
    compat_sqlite_close(sq);
    /* Without t_join, t can be written (the view's INSTEAD OF trigger does
     * not fire for the table), as SQLite does. */
    tp_pair p;
    case_open(&p, "unsup-after",
              "CREATE TABLE t(id INTEGER PRIMARY KEY, v INT);"
              "CREATE TABLE w(id INTEGER PRIMARY KEY, v INT);"
              "INSERT INTO t VALUES(1, 10), (2, 20); INSERT INTO w VALUES(1, 1);"
              "CREATE TRIGGER t_join AFTER INSERT ON t BEGIN"
              " INSERT INTO w SELECT a.id + 100, b.v FROM t a JOIN t b ON a.id = b.id"
              " WHERE a.id = NEW.id; END;"
              "CREATE VIEW tv AS SELECT * FROM t;"
              "CREATE TRIGGER tv_ins INSTEAD OF INSERT ON tv BEGIN"
              " INSERT INTO w VALUES(NEW.id + 1000, NEW.v); END;",
              0, 0);
    tp_begin(&p);
    cr_assert_eq(tp_exec(&p, "DROP TRIGGER t_join"), TP_OK);
    OK_(tp_insert_s(&p, "t", "3, 30"));
    OK_(tp_insert_s(&p, "w", "2, 2"));
    tp_end(&p, 1);
    REF_EQ(2, "SELECT count(*) FROM w");
    case_close(&p);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

Test(trigger_case, new_rowid_in_before_insert)
{
    tp_pair p;
    case_open(&p, "newrowid",
              "CREATE TABLE a(id INTEGER PRIMARY KEY, v INT);"
              "CREATE TABLE b(v INT);"
              "CREATE TABLE seen(tbl TEXT, rid INT, nid INT, v INT);"
              "CREATE TRIGGER a_bi BEFORE INSERT ON a BEGIN"
              " INSERT INTO seen VALUES('a', NEW.rowid, NEW.id, NEW.v); END;"
              "CREATE TRIGGER a_ai AFTER INSERT ON a BEGIN"
              " INSERT INTO seen VALUES('a after', NEW.rowid, NEW.id, NEW.v); END;"
              "CREATE TRIGGER b_bi BEFORE INSERT ON b BEGIN"
              " INSERT INTO seen VALUES('b', NEW.rowid, NULL, NEW.v); END;"
              "CREATE TRIGGER b_ai AFTER INSERT ON b BEGIN"
              " INSERT INTO seen VALUES('b after', NEW.rowid, NULL, NEW.v); END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "a", "NULL, 1")); /* NEW.rowid is -1 before */
    OK_(tp_insert_s(&p, "a", "7, 2"));
    OK_(tp_insert_s(&p, "b", "3"));
    OK_(tp_upsert_s(&p, "a", 7, "7, 3"));
    OK_(tp_upsert_s(&p, "a", 9, "9, 4"));
    tp_end(&p, 1);
    REF_EQ(2, "SELECT count(*) FROM seen WHERE rid = -1");
    REF_EQ(9, "SELECT count(*) FROM seen");
    case_close(&p);
}

Test(trigger_case, without_rowid_tables)
{
    tp_pair p;
    case_open(&p, "worowid",
              "CREATE TABLE kv(k TEXT, n INT, v INT, PRIMARY KEY(k, n)) WITHOUT ROWID;"
              "CREATE TABLE hist(id INTEGER PRIMARY KEY, k TEXT, n INT, old INT, new INT,"
              " what TEXT);"
              "CREATE TRIGGER kv_ai AFTER INSERT ON kv BEGIN"
              " INSERT INTO hist(k, n, new, what) VALUES(NEW.k, NEW.n, NEW.v, 'ins'); END;"
              "CREATE TRIGGER kv_bu BEFORE UPDATE ON kv WHEN NEW.v < 0 BEGIN"
              " SELECT RAISE(ABORT, 'negative'); END;"
              "CREATE TRIGGER kv_au AFTER UPDATE OF v ON kv BEGIN"
              " INSERT INTO hist(k, n, old, new, what) VALUES(NEW.k, NEW.n, OLD.v, NEW.v, 'upd');"
              "END;"
              "CREATE TRIGGER kv_ad AFTER DELETE ON kv BEGIN"
              " INSERT INTO hist(k, n, old, what) VALUES(OLD.k, OLD.n, OLD.v, 'del'); END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "kv", "'a', 1, 10"));
    OK_(tp_insert_s(&p, "kv", "'a', 2, 20"));
    OK_(tp_insert_s(&p, "kv", "'b', 1, 5"));
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "kv", "'b', 1, 6"));
    OK_(tp_update_key_s(&p, "kv", "'a', 1", "'a', 1, 11"));
    OK_(tp_update_key_s(&p, "kv", "'a', 2", "'a', 3, 20")); /* a new key */
    EXPECT(TP_CONSTRAINT, tp_update_key_s(&p, "kv", "'b', 1", "'b', 1, -1"));
    EXPECT(TP_NOTFOUND, tp_update_key_s(&p, "kv", "'z', 1", "'z', 1, 1"));
    OK_(tp_delete_key_s(&p, "kv", "'a', 3"));
    EXPECT(TP_NOTFOUND, tp_delete_key_s(&p, "kv", "'a', 3"));
    OK_(tp_upsert_s(&p, "kv", 0, "'b', 1, 6")); /* the UPDATE path */
    OK_(tp_upsert_s(&p, "kv", 0, "'c', 1, 1")); /* the INSERT path */
    OK_(tp_delete_where(&p, "kv", "+v > 10"));
    OK_(tp_update_where_s(&p, "kv", "+k = 'c'", "v", "2"));
    tp_end(&p, 1);
    REF_EQ(2, "SELECT count(*) FROM kv");
    REF_EQ(1, "SELECT count(*) FROM hist WHERE what = 'del' AND k = 'a' AND n = 1");
    REF_EQ(4, "SELECT count(*) FROM hist WHERE what = 'upd'");
    case_close(&p);
}

Test(trigger_case, foreign_key_actions_fire_child_triggers)
{
    tp_pair p;
    case_open(&p, "fk",
              "CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT);"
              "CREATE TABLE c(id INTEGER PRIMARY KEY,"
              " pid INT REFERENCES p(id) ON DELETE CASCADE ON UPDATE SET NULL, x INT);"
              "CREATE TABLE log(n INTEGER PRIMARY KEY, what TEXT, id INT, pid INT);"
              "INSERT INTO p VALUES(1, 'a'), (2, 'b'), (3, 'keep');"
              "INSERT INTO c VALUES(1, 1, 0), (2, 1, 0), (3, 2, 0), (4, 3, 0);"
              "CREATE TRIGGER c_ad AFTER DELETE ON c BEGIN"
              " INSERT INTO log(what, id, pid) VALUES('del', OLD.id, OLD.pid); END;"
              "CREATE TRIGGER c_au AFTER UPDATE ON c BEGIN"
              " INSERT INTO log(what, id, pid) VALUES('upd', NEW.id, NEW.pid); END;"
              "CREATE TRIGGER p_bd BEFORE DELETE ON p WHEN OLD.name = 'keep' BEGIN"
              " SELECT RAISE(ABORT, 'p is kept'); END;"
              "CREATE TRIGGER c_bi BEFORE INSERT ON c WHEN NEW.x = 99 BEGIN"
              " INSERT INTO p VALUES(NEW.pid, 'made'); END;"
              "CREATE TRIGGER c_ai AFTER INSERT ON c WHEN NEW.x = 98 BEGIN"
              " INSERT INTO c VALUES(NULL, 77, 0); END;",
              1, 0);
    tp_begin(&p);
    OK_(tp_delete(&p, "p", 1));                   /* cascade: two 'del' */
    OK_(tp_patch_s(&p, "p", 2, "id", "20"));      /* SET NULL: one 'upd' */
    EXPECT(TP_CONSTRAINT, tp_delete(&p, "p", 3)); /* the trigger's ABORT */
    cr_assert_str_eq(p.smsg, "p is kept");
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "c", "NULL, 7, 1"));
    OK_(tp_insert_s(&p, "c", "NULL, 8, 99")); /* the BEFORE trigger makes the parent */
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "c", "NULL, 8, 98")); /* its own insert has none */
    tp_end(&p, 1);
    REF_EQ(3, "SELECT count(*) FROM log");
    REF_EQ(1, "SELECT count(*) FROM p WHERE name = 'made'");
    case_close(&p);
}

Test(trigger_case, upsert_fires_insert_then_update_triggers)
{
    tp_pair p;
    case_open(&p, "upsert",
              "CREATE TABLE u(id INTEGER PRIMARY KEY, v INT);"
              "CREATE TABLE log(n INTEGER PRIMARY KEY, what TEXT, v INT);"
              "CREATE TRIGGER u_bi BEFORE INSERT ON u BEGIN"
              " INSERT INTO log(what, v) VALUES('bi', NEW.v); END;"
              "CREATE TRIGGER u_ai AFTER INSERT ON u BEGIN"
              " INSERT INTO log(what, v) VALUES('ai', NEW.v); END;"
              "CREATE TRIGGER u_bu BEFORE UPDATE ON u BEGIN"
              " INSERT INTO log(what, v) VALUES('bu', OLD.v); END;"
              "CREATE TRIGGER u_au AFTER UPDATE ON u BEGIN"
              " INSERT INTO log(what, v) VALUES('au', NEW.v); END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_upsert_s(&p, "u", 1, "1, 10"));
    OK_(tp_upsert_s(&p, "u", 1, "1, 11"));
    tp_end(&p, 1);
    REF_EQ(5, "SELECT count(*) FROM log");
    REF_EQ(1, "SELECT count(*) FROM log WHERE what = 'au' AND v = 11");
    case_close(&p);
}

/* A trigger's body runs under the conflict clause of the statement that
 * fired it when that statement has one: OR IGNORE reaches the bodies of the
 * triggers it fires, and a foreign key action (SQLite runs it as a statement
 * with ABORT) overrides OR IGNORE in the triggers it fires. */
Test(trigger_case, conflict_clause_of_the_firing_statement)
{
    tp_pair p;
    case_open(&p, "inherit",
              "CREATE TABLE s(id INTEGER PRIMARY KEY, v INT);"
              "CREATE TABLE t(id INTEGER PRIMARY KEY, v INT);"
              "CREATE TABLE u(id INTEGER PRIMARY KEY, v INT NOT NULL);"
              "CREATE TABLE p(id INTEGER PRIMARY KEY);"
              "CREATE TABLE c(id INTEGER PRIMARY KEY, pid INT REFERENCES p ON DELETE SET NULL);"
              "CREATE TABLE w(v INT NOT NULL);"
              "INSERT INTO p VALUES(1), (2); INSERT INTO c VALUES(1, 1), (2, 2);"
              "CREATE TRIGGER s_ai AFTER INSERT ON s BEGIN"
              " INSERT OR IGNORE INTO t VALUES(NEW.id, NEW.v); END;"
              "CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN"
              " INSERT INTO u VALUES(NEW.id, NULL); INSERT INTO u VALUES(NEW.id + 100, 1); END;"
              "CREATE TRIGGER c_au AFTER UPDATE ON c BEGIN"
              " INSERT OR IGNORE INTO w VALUES(NULL); INSERT INTO w VALUES(7); END;",
              1, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "s", "1, 1"));                   /* u's NOT NULL is ignored */
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "t", "2, 2")); /* here it is not */
    EXPECT(TP_CONSTRAINT, tp_delete(&p, "p", 1));        /* SET NULL's ABORT wins */
    OK_(tp_patch_s(&p, "c", 2, "pid", "NULL"));          /* a plain UPDATE: ignored */
    tp_end(&p, 1);
    REF_EQ(1, "SELECT count(*) FROM u");
    REF_EQ(101, "SELECT id FROM u");
    REF_EQ(1, "SELECT count(*) FROM w");
    case_close(&p);
}

/* RAISE(FAIL) keeps what the statement did, but not when an immediate
 * foreign key is left violated: SQLite checks the statement's count when it
 * ends, and the statement fails with "FOREIGN KEY constraint failed" and is
 * undone. */
Test(trigger_case, raise_fail_with_a_foreign_key_violated)
{
    tp_pair p;
    case_open(&p, "failfk",
              "CREATE TABLE p(id INTEGER PRIMARY KEY);"
              "CREATE TABLE c(id INTEGER PRIMARY KEY, pid INT REFERENCES p);"
              "CREATE TABLE d(id INTEGER PRIMARY KEY, pid INT REFERENCES p);"
              "INSERT INTO p VALUES(1);"
              "CREATE TRIGGER c_ai AFTER INSERT ON c WHEN NEW.id > 1 BEGIN"
              " SELECT RAISE(FAIL, 'fail in c_ai'); END;"
              "CREATE TRIGGER d_ai AFTER INSERT ON d BEGIN"
              " SELECT RAISE(ABORT, 'abort in d_ai'); END;",
              1, 0);
    tp_begin(&p);
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "c", "2, 7"));
    cr_assert_str_eq(p.smsg, "FOREIGN KEY constraint failed");
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "c", "3, 1")); /* no violation: FAIL's own */
    cr_assert_str_eq(p.smsg, "fail in c_ai");
    EXPECT(TP_CONSTRAINT, tp_upsert_s(&p, "c", 4, "4, 7"));
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "d", "1, 7")); /* ABORT's message */
    cr_assert_str_eq(p.smsg, "abort in d_ai");
    tp_end(&p, 1);
    REF_EQ(1, "SELECT count(*) FROM c");
    case_close(&p);
}

/* folio_upsert of a new row whose AFTER INSERT trigger says RAISE(IGNORE). */
Test(trigger_case, upsert_with_raise_ignore)
{
    tp_pair p;
    case_open(&p, "upsign",
              "CREATE TABLE kv(k INT PRIMARY KEY, v INT) WITHOUT ROWID;"
              "CREATE TABLE r(id INTEGER PRIMARY KEY, v INT);"
              "CREATE TABLE log(v INT);"
              "CREATE TRIGGER kv_ai AFTER INSERT ON kv BEGIN INSERT INTO log VALUES(NEW.v);"
              " SELECT RAISE(IGNORE); INSERT INTO log VALUES(-1); END;"
              "CREATE TRIGGER r_bi BEFORE INSERT ON r WHEN NEW.v = 0 BEGIN SELECT RAISE(IGNORE);"
              "END;"
              "CREATE TRIGGER r_ai AFTER INSERT ON r BEGIN SELECT RAISE(IGNORE); END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_upsert_s(&p, "kv", 0, "1, 10"));
    OK_(tp_upsert_s(&p, "kv", 0, "1, 11"));
    OK_(tp_upsert_s(&p, "r", 1, "1, 5"));
    OK_(tp_upsert_s(&p, "r", 2, "2, 0")); /* skipped */
    tp_end(&p, 1);
    REF_EQ(11, "SELECT v FROM kv WHERE k = 1");
    REF_EQ(1, "SELECT count(*) FROM r");
    REF_EQ(1, "SELECT count(*) FROM log");
    case_close(&p);
}

/* folio_upsert is INSERT ... ON CONFLICT DO UPDATE: the new row's NOT NULL
 * and CHECK constraints are checked as an insert's, before the conflict
 * sends it to DO UPDATE (whose BEFORE UPDATE triggers then never run). */
Test(trigger_case, upsert_checks_the_new_row_first)
{
    tp_pair p;
    case_open(&p, "upsfirst",
              "CREATE TABLE t(id INTEGER PRIMARY KEY, b INT NOT NULL, c INT CHECK(c < 5));"
              "INSERT INTO t VALUES(1, 1, 1);"
              "CREATE TRIGGER t_bu BEFORE UPDATE ON t BEGIN SELECT RAISE(ABORT, 'before update');"
              "END;"
              "CREATE TRIGGER t_bi BEFORE INSERT ON t WHEN NEW.c = 3 BEGIN"
              " SELECT RAISE(ABORT, 'before insert'); END;",
              0, 0);
    tp_begin(&p);
    EXPECT(TP_CONSTRAINT, tp_upsert_s(&p, "t", 1, "1, NULL, 1"));
    cr_assert_str_eq(p.smsg, "NOT NULL constraint failed: t.b");
    EXPECT(TP_CONSTRAINT, tp_upsert_s(&p, "t", 1, "1, 2, 9"));
    cr_assert_str_eq(p.smsg, "CHECK constraint failed: c < 5");
    EXPECT(TP_CONSTRAINT, tp_upsert_s(&p, "t", 1, "1, 2, 1"));
    cr_assert_str_eq(p.smsg, "before update");
    EXPECT(TP_CONSTRAINT, tp_upsert_s(&p, "t", 1, "1, NULL, 3"));
    cr_assert_str_eq(p.smsg, "before insert");
    tp_end(&p, 1);
    case_close(&p);
}

/* An upsert's DO UPDATE that a BEFORE UPDATE trigger skips (RAISE(IGNORE))
 * changes nothing, so its new foreign key value is never checked. */
Test(trigger_case, upsert_update_skipped_with_foreign_keys)
{
    tp_pair p;
    case_open(&p, "upsskip",
              "CREATE TABLE p(id INTEGER PRIMARY KEY);"
              "CREATE TABLE c(id INTEGER PRIMARY KEY, pid INT REFERENCES p);"
              "INSERT INTO p VALUES(1); INSERT INTO c VALUES(1, 1);"
              "CREATE TRIGGER c_bu BEFORE UPDATE ON c BEGIN SELECT RAISE(IGNORE); END;",
              1, 0);
    tp_begin(&p);
    OK_(tp_upsert_s(&p, "c", 1, "1, 7"));
    OK_(tp_patch_s(&p, "c", 1, "pid", "7"));
    EXPECT(TP_CONSTRAINT, tp_upsert_s(&p, "c", 2, "2, 7"));
    tp_end(&p, 1);
    REF_EQ(1, "SELECT pid FROM c WHERE id = 1");
    case_close(&p);
}

/* An INSERT whose values read the table it writes computes them all first
 * (SQLite materialises them): the rows it inserts are not seen by its own
 * VALUES rows or SELECT. */
Test(trigger_case, insert_reading_its_own_table)
{
    tp_pair p;
    case_open(&p, "selfins",
              "CREATE TABLE t(id INTEGER PRIMARY KEY, v INT);"
              "CREATE TABLE s(x INT);"
              "INSERT INTO t VALUES(1, 1), (2, 2);"
              "CREATE TRIGGER s_ai AFTER INSERT ON s WHEN NEW.x = 1 BEGIN"
              " INSERT INTO t(v) VALUES(10), ((SELECT count(*) FROM t)), ((SELECT max(v) FROM t));"
              "END;"
              "CREATE TRIGGER s_ai2 AFTER INSERT ON s WHEN NEW.x = 2 BEGIN"
              " INSERT INTO t(v) SELECT v + 100 FROM t WHERE v < 1000; END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "s", "1"));
    OK_(tp_insert_s(&p, "s", "2"));
    tp_end(&p, 1);
    REF_EQ(2, "SELECT v FROM t WHERE id = 4");
    REF_EQ(10, "SELECT count(*) FROM t");
    case_close(&p);
}

/* In a body, UPDATE ... SET id = NULL of an INTEGER PRIMARY KEY is SQL's
 * "datatype mismatch" (folio_update's keeping of the rowid is the row
 * call's, not SQL's). */
Test(trigger_case, body_sets_integer_primary_key_to_null)
{
    tp_pair p;
    case_open(&p, "ipknull",
              "CREATE TABLE t(id INTEGER PRIMARY KEY, v INT);"
              "CREATE TABLE s(x INT);"
              "INSERT INTO t VALUES(1, 1);"
              "CREATE TRIGGER s_ai AFTER INSERT ON s WHEN NEW.x = 1 BEGIN"
              " UPDATE t SET id = NULL; END;"
              "CREATE TRIGGER s_ai2 AFTER INSERT ON s WHEN NEW.x = 2 BEGIN"
              " UPDATE t SET id = 'a' || id; END;"
              "CREATE TRIGGER s_ai3 AFTER INSERT ON s WHEN NEW.x = 3 BEGIN"
              " INSERT INTO t VALUES('x', 3); END;",
              0, 0);
    tp_begin(&p);
    EXPECT(TP_MISMATCH, tp_insert_s(&p, "s", "1"));
    EXPECT(TP_MISMATCH, tp_insert_s(&p, "s", "2"));
    EXPECT(TP_MISMATCH, tp_insert_s(&p, "s", "3"));
    OK_(tp_insert_s(&p, "s", "4"));
    tp_end(&p, 1);
    REF_EQ(1, "SELECT count(*) FROM s");
    case_close(&p);
}

/* An uncorrelated subquery over the table a body's UPDATE writes is
 * evaluated once for the statement (SQLite's plan: OP_Once), not again
 * after each row it changes. (Where SQLite's plan differs - a WHERE of OR
 * terms over such subqueries - the result follows the plan: the random test
 * leaves such subqueries out unless FOLIO_TRIGGER_ON=self_read.) */
Test(trigger_case, subquery_over_the_updated_table)
{
    tp_pair p;
    case_open(&p, "selfupd",
              "CREATE TABLE t(id INTEGER PRIMARY KEY, v INT);"
              "CREATE TABLE u(id INTEGER PRIMARY KEY, v INT);"
              "CREATE TABLE s(x INT);"
              "INSERT INTO t VALUES(1, 1), (2, 2), (3, 3);"
              "INSERT INTO u VALUES(1, 1), (2, 2), (3, 3), (4, 4);"
              "CREATE TRIGGER s_ai AFTER INSERT ON s BEGIN"
              " UPDATE t SET v = (SELECT max(v) FROM t) + 1;"
              " DELETE FROM u WHERE v <= (SELECT min(v) FROM u) + 1; END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "s", "1"));
    tp_end(&p, 1);
    REF_EQ(3, "SELECT count(*) FROM t WHERE v = 4");
    REF_EQ(2, "SELECT count(*) FROM u");
    case_close(&p);
}

/* (Not a trigger's: met by the random test.) A row that conflicts with both
 * the PRIMARY KEY of a WITHOUT ROWID table and a UNIQUE column: SQLite
 * names the primary key. */
Test(trigger_case, without_rowid_key_conflict_named_first)
{
    tp_pair p;
    case_open(&p, "wrorder",
              "CREATE TABLE w(k INT, a INT UNIQUE, c TEXT UNIQUE, PRIMARY KEY(k)) WITHOUT ROWID;"
              "INSERT INTO w VALUES(1, 1, 'x');",
              0, 0);
    tp_begin(&p);
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "w", "1, 1, 'x'"));
    cr_assert_str_eq(p.smsg, "UNIQUE constraint failed: w.k");
    EXPECT(TP_CONSTRAINT, tp_upsert_s(&p, "w", 0, "2, 1, 'x'"));
    tp_end(&p, 1);
    case_close(&p);
}

/* CREATE TRIGGER through folio_exec: the same row in sqlite_schema, word
 * for word, SQLite's errors, and the trigger fires in the transaction that
 * made it. */
Test(trigger_case, create_trigger_through_exec)
{
    tp_pair p;
    case_open(&p, "exec",
              "CREATE TABLE t(id INTEGER PRIMARY KEY, v INT);"
              "CREATE TABLE w(id INTEGER PRIMARY KEY, v INT);",
              0, 0);
    tp_begin(&p);
    cr_assert_eq(tp_exec(&p, "CREATE TRIGGER t_ai after insert ON t\n  FOR EACH ROW"
                             " WHEN new.v > 0\n  BEGIN\n    insert into w values(new.id, new.v);"
                             " -- copy\n  END"),
                 TP_OK);
    OK_(tp_insert_s(&p, "t", "1, 5"));
    OK_(tp_insert_s(&p, "t", "2, 0"));
    EXPECT(TP_ERROR, tp_exec(&p, "CREATE TRIGGER t_ai AFTER DELETE ON t BEGIN"
                                 " DELETE FROM w; END"));
    EXPECT(TP_ERROR, tp_exec(&p, "CREATE TRIGGER x_ai AFTER INSERT ON nope BEGIN"
                                 " DELETE FROM w; END"));
    cr_assert_eq(tp_exec(&p, "CREATE TRIGGER IF NOT EXISTS t_ai AFTER DELETE ON t BEGIN"
                             " DELETE FROM w; END"),
                 TP_OK);
    cr_assert_eq(tp_exec(&p, "CREATE TRIGGER \"T Del\" BEFORE DELETE ON t BEGIN"
                             " UPDATE w SET v = -OLD.v WHERE id = OLD.id; END"),
                 TP_OK);
    tp_end(&p, 1);
    tp_begin(&p);
    OK_(tp_delete(&p, "t", 1));
    cr_assert_eq(tp_exec(&p, "DROP TRIGGER t_ai"), TP_OK);
    OK_(tp_insert_s(&p, "t", "3, 3"));
    tp_end(&p, 1);
    REF_EQ(1, "SELECT count(*) FROM w");
    REF_EQ(-5, "SELECT v FROM w WHERE id = 1");
    REF_EQ(1, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'");
    /* A trigger made and dropped in a transaction that rolls back leaves nothing. */
    tp_begin(&p);
    cr_assert_eq(tp_exec(&p, "CREATE TRIGGER w_ad AFTER DELETE ON w BEGIN"
                             " INSERT INTO t VALUES(NULL, OLD.v); END"),
                 TP_OK);
    OK_(tp_delete(&p, "w", 1));
    tp_end(&p, 0);
    REF_EQ(1, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'");
    case_close(&p);
}

/* Bug (found by the random test, seed 1, under AddressSanitizer): a body's
 * INSERT with a column list marks which values it gives; the row that OR
 * REPLACE deleted had a child whose ON DELETE SET NULL patched it, and that
 * patch read the insert's mask as its own - past the end of it. The mask
 * belongs to the insert alone. */
Test(trigger_case, replace_delete_action_does_not_see_the_insert_mask)
{
    tp_pair p;
    case_open(&p, "mask",
              "CREATE TABLE w(k INT PRIMARY KEY, v INT) WITHOUT ROWID;"
              "CREATE TABLE c(id INTEGER PRIMARY KEY, a INT DEFAULT 7, b TEXT DEFAULT 'd',"
              " e INT DEFAULT 8, wk INT REFERENCES w ON DELETE SET NULL);"
              "CREATE TABLE s(x INT);"
              "INSERT INTO w VALUES(1, 10);"
              "INSERT INTO c VALUES(1, 1, 'one', 11, 1);"
              "CREATE TRIGGER s_ai AFTER INSERT ON s BEGIN"
              " INSERT OR REPLACE INTO w(k, v) VALUES(NEW.x, 20); END;",
              1, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "s", "1"));
    tp_end(&p, 1);
    REF_EQ(20, "SELECT v FROM w WHERE k = 1");
    REF_EQ(1, "SELECT count(*) FROM c WHERE wk IS NULL AND a = 1 AND b = 'one' AND e = 11");
    case_close(&p);
}

/* A chain of UPDATE triggers 1000 deep (recursive_triggers on): SQLite's
 * limit speaks, or - where a thread's stack would not hold 1000 levels of
 * folio's calls (AddressSanitizer builds) - the same error a little sooner,
 * never a crash. Either way the call is undone. */
Test(trigger_case, deep_update_chain_stops_cleanly)
{
    tp_pair p;
    case_open(&p, "deepupd",
              "CREATE TABLE t(id INTEGER PRIMARY KEY, n INT, pad TEXT);"
              "INSERT INTO t VALUES(1, 0, 'x');"
              "CREATE TRIGGER t_au AFTER UPDATE OF n ON t WHEN NEW.n < 5000 BEGIN"
              " UPDATE t SET n = n + 1, pad = pad || 'y' WHERE id = NEW.id; END;",
              0, 1);
    tp_begin(&p);
    EXPECT(TP_ERROR, tp_patch_s(&p, "t", 1, "n", "1"));
    tp_end(&p, 1);
    REF_EQ(0, "SELECT n FROM t WHERE id = 1");
    case_close(&p);
}

/* OR REPLACE of a UNIQUE conflict in a WITHOUT ROWID table (folio refused
 * it when this was written): the row that holds the key - found through the
 * index, its primary key from the entry - goes, with its other index
 * entries, its foreign key actions and (recursive_triggers on) its DELETE
 * triggers; then the new row goes in. */
static void wr_unique_replace(int rec)
{
    tp_pair p;
    case_open(&p, rec ? "wrrepl-rec" : "wrrepl",
              "CREATE TABLE w(k TEXT, n INT, a INT UNIQUE, b TEXT UNIQUE, PRIMARY KEY(n, k))"
              " WITHOUT ROWID;"
              "CREATE TABLE c(id INTEGER PRIMARY KEY, wa INT REFERENCES w(a) ON DELETE CASCADE);"
              "CREATE TABLE dl(id INTEGER PRIMARY KEY, what TEXT);"
              "CREATE TABLE s(id INTEGER PRIMARY KEY, k TEXT, n INT, a INT, b TEXT);"
              "INSERT INTO w VALUES('x', 1, 10, 'p'), ('y', 2, 20, 'q'), ('z', 3, 30, 'r');"
              "INSERT INTO c VALUES(1, 10), (2, 20), (3, 30);"
              "CREATE TRIGGER w_ad AFTER DELETE ON w BEGIN"
              " INSERT INTO dl(what) VALUES('w ' || OLD.k || OLD.n); END;"
              "CREATE TRIGGER c_ad AFTER DELETE ON c BEGIN"
              " INSERT INTO dl(what) VALUES('c ' || OLD.id); END;"
              "CREATE TRIGGER s_ai AFTER INSERT ON s BEGIN"
              " INSERT OR REPLACE INTO w VALUES(NEW.k, NEW.n, NEW.a, NEW.b); END;"
              "CREATE TRIGGER s_au AFTER UPDATE ON s BEGIN"
              " UPDATE OR REPLACE w SET a = NEW.a, b = NEW.b WHERE k = NEW.k AND n = NEW.n; END;",
              1, rec);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "s", "1, 'v', 9, 10, 'new'")); /* a = 10 taken by ('x', 1) */
    OK_(tp_insert_s(&p, "s", "2, 'u', 8, 20, 'r'"));   /* two rows in the way */
    OK_(tp_insert_s(&p, "s", "3, 'v', 9, 40, 'p'"));   /* the key and nothing else */
    OK_(tp_patch_s(&p, "s", 3, "a, b", "40, 'new2'")); /* an update, no conflict */
    OK_(tp_patch_s(&p, "s", 2, "a, b", "40, 'x'"));    /* the update takes a = 40 */
    tp_end(&p, 1);
    REF_EQ(1, "SELECT count(*) FROM w");
    REF_EQ(0, "SELECT count(*) FROM c");
    REF_EQ(rec ? 8 : 3, "SELECT count(*) FROM dl"); /* c 1, 3, 2; w x1, z3, y2, v9 twice */
    case_close(&p);
}

Test(trigger_case, without_rowid_unique_replace_recursive_triggers_off)
{
    wr_unique_replace(0);
}

Test(trigger_case, without_rowid_unique_replace_recursive_triggers_on)
{
    wr_unique_replace(1);
}

/* Bug: OR REPLACE that removes a row in the way of one UNIQUE index lost
 * its policy for the next index (the delete, a nested row call, took the
 * conflict clause slot of the insert): a second row in the way failed the
 * insert. The rows a REPLACE removes fire their DELETE triggers (with
 * recursive_triggers) under OR REPLACE too, as SQLite codes them. */
static void replace_two_rows(int rec)
{
    tp_pair p;
    case_open(&p, rec ? "repl2-rec" : "repl2",
              "CREATE TABLE u(id INTEGER PRIMARY KEY, a INT UNIQUE, b TEXT UNIQUE);"
              "CREATE TABLE dl(id INTEGER PRIMARY KEY, what TEXT UNIQUE);"
              "CREATE TABLE s(id INTEGER PRIMARY KEY, a INT, b TEXT);"
              "INSERT INTO u VALUES(1, 10, 'p'), (2, 20, 'q'), (3, 30, 'r');"
              "INSERT INTO dl(what) VALUES('u 2');"
              "CREATE TRIGGER u_ad AFTER DELETE ON u BEGIN"
              " INSERT INTO dl(what) VALUES('u ' || OLD.id); END;"
              "CREATE TRIGGER s_ai AFTER INSERT ON s BEGIN"
              " INSERT OR REPLACE INTO u VALUES(NEW.id, NEW.a, NEW.b); END;",
              0, rec);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "s", "7, 20, 'r'")); /* rows 2 and 3 in the way */
    OK_(tp_insert_s(&p, "s", "1, 40, 's'")); /* the rowid */
    tp_end(&p, 1);
    REF_EQ(2, "SELECT count(*) FROM u");
    REF_EQ(rec ? 3 : 1, "SELECT count(*) FROM dl");
    case_close(&p);
}

Test(trigger_case, replace_of_two_rows_recursive_triggers_off)
{
    replace_two_rows(0);
}

Test(trigger_case, replace_of_two_rows_recursive_triggers_on)
{
    replace_two_rows(1);
}

/* UPSERT in a trigger body (folio refused it when this was written): DO
 * NOTHING and DO UPDATE SET ... WHERE with excluded.x, the conflict target
 * (the rowid, a UNIQUE column, none), several clauses, the row a BEFORE
 * INSERT trigger saw, the UPDATE triggers DO UPDATE fires (and no AFTER
 * INSERT), and the body's conflict clause for the other constraints. */
Test(trigger_case, upsert_in_a_body)
{
    tp_pair p;
    case_open(&p, "bodyups",
              "CREATE TABLE inv(id INTEGER PRIMARY KEY, sku TEXT UNIQUE, qty INT, price REAL,"
              " note TEXT UNIQUE);"
              "CREATE TABLE ev(n INTEGER PRIMARY KEY, what TEXT);"
              "CREATE TABLE src(id INTEGER PRIMARY KEY, sku TEXT, qty INT, note TEXT);"
              "INSERT INTO inv VALUES(1, 'a', 1, 1.5, 'n1'), (2, 'b', 2, 2.5, 'n2');"
              "CREATE TRIGGER inv_bi BEFORE INSERT ON inv BEGIN"
              " INSERT INTO ev(what) VALUES('bi ' || NEW.sku || ' ' || NEW.qty); END;"
              "CREATE TRIGGER inv_ai AFTER INSERT ON inv BEGIN"
              " INSERT INTO ev(what) VALUES('ai ' || NEW.sku); END;"
              "CREATE TRIGGER inv_au AFTER UPDATE OF qty ON inv BEGIN"
              " INSERT INTO ev(what) VALUES('au ' || OLD.qty || '>' || NEW.qty); END;"
              "CREATE TRIGGER src_ai AFTER INSERT ON src BEGIN"
              " INSERT INTO inv(sku, qty, price, note) VALUES(NEW.sku, NEW.qty, 3, NEW.note)"
              "  ON CONFLICT(sku) DO UPDATE SET qty = qty + excluded.qty,"
              "   price = excluded.price * 2 WHERE excluded.qty > 0"
              "  ON CONFLICT DO NOTHING;"
              " INSERT OR IGNORE INTO inv(id, sku, qty) VALUES(NEW.id + 100, NEW.sku, -1)"
              "  ON CONFLICT(id) DO UPDATE SET note = 'dup ' || excluded.sku; END;"
              "CREATE TRIGGER src_au AFTER UPDATE ON src BEGIN"
              " INSERT INTO inv(id, sku, qty, note) VALUES(NEW.id, NEW.sku, NEW.qty, NEW.note)"
              "  ON CONFLICT(id) DO UPDATE SET sku = excluded.sku, note = excluded.note; END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "src", "1, 'a', 5, 'x'"));   /* DO UPDATE of 'a'; OR IGNORE: no 101 */
    OK_(tp_insert_s(&p, "src", "2, 'c', 1, 'n1'"));  /* note 'n1' taken: DO NOTHING; 102 */
    OK_(tp_insert_s(&p, "src", "3, 'b', 0, 'y'"));   /* sku 'b': WHERE false, nothing */
    OK_(tp_insert_s(&p, "src", "4, 'd', 1, 'z'"));   /* no conflict: inserted */
    OK_(tp_insert_s(&p, "src", "5, 'd', 2, 'w'"));   /* DO UPDATE of 'd' */
    OK_(tp_insert_s(&p, "src", "101, 'e', 1, 'v'")); /* inserted; 201's sku taken: ignored */
    EXPECT(TP_CONSTRAINT, tp_patch_s(&p, "src", 1, "sku", "'b'")); /* the update takes 'b' */
    OK_(tp_patch_s(&p, "src", 2, "sku, note", "'q', 'r'"));        /* ON CONFLICT(id): inv 2 */
    tp_end(&p, 1);
    REF_EQ(6, "SELECT qty FROM inv WHERE sku = 'a'");
    REF_EQ(-1, "SELECT qty FROM inv WHERE sku = 'c'");
    REF_EQ(3, "SELECT qty FROM inv WHERE sku = 'd'");
    REF_EQ(2, "SELECT id FROM inv WHERE note = 'r'");
    REF_EQ(2, "SELECT count(*) FROM ev WHERE what LIKE 'au %%'");
    case_close(&p);
}

/* UPSERT into a WITHOUT ROWID table from a body: its primary key and a
 * UNIQUE column as targets; a target that matches no constraint and a
 * column that does not exist are SQLite's errors when the trigger fires. */
Test(trigger_case, upsert_in_a_body_without_rowid)
{
    tp_pair p;
    case_open(&p, "bodyupswr",
              "CREATE TABLE kv(k TEXT, n INT, v INT, tag TEXT UNIQUE, PRIMARY KEY(n, k))"
              " WITHOUT ROWID;"
              "CREATE TABLE src(id INTEGER PRIMARY KEY, k TEXT, n INT, v INT, tag TEXT);"
              "CREATE TABLE bad(id INTEGER PRIMARY KEY);"
              "INSERT INTO kv VALUES('a', 1, 10, 't1'); INSERT INTO bad VALUES(2);"
              "CREATE TRIGGER src_ai AFTER INSERT ON src BEGIN"
              " INSERT INTO kv VALUES(NEW.k, NEW.n, NEW.v, NEW.tag)"
              "  ON CONFLICT(k, n) DO UPDATE SET v = v + excluded.v"
              "  ON CONFLICT(tag) DO UPDATE SET tag = excluded.tag || '+', v = -excluded.v; END;"
              "CREATE TRIGGER bad_ai AFTER INSERT ON bad BEGIN"
              " INSERT INTO kv VALUES('z', NEW.id, 0, NULL) ON CONFLICT(v) DO NOTHING; END;"
              "CREATE TRIGGER bad_ad AFTER DELETE ON bad BEGIN"
              " INSERT INTO kv VALUES('z', OLD.id, 0, NULL) ON CONFLICT(k, n) DO UPDATE"
              "  SET nope = 1; END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "src", "1, 'a', 1, 5, 'other'"));                /* the key: v 15 */
    OK_(tp_insert_s(&p, "src", "2, 'b', 1, 7, 't1'"));                   /* the tag: 't1+', v -7 */
    OK_(tp_insert_s(&p, "src", "3, 'b', 2, 1, 't1'"));                   /* new row */
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "src", "4, 'x', 9, 1, 't1'")); /* 't1+' taken */
    EXPECT(TP_ERROR, tp_insert_s(&p, "bad", "1"));
    cr_assert_str_eq(p.smsg, "ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE "
                             "constraint");
    EXPECT(TP_ERROR, tp_delete(&p, "bad", 2));
    cr_assert_str_eq(p.smsg, "no such column: nope");
    tp_end(&p, 1);
    REF_EQ(-7, "SELECT v FROM kv WHERE tag = 't1+'");
    REF_EQ(2, "SELECT count(*) FROM kv");
    case_close(&p);
}

/* Bug (found by the random test, seed 3): a body's DELETE passed the
 * conflict clause in force (here the OR IGNORE of the INSERT that fired its
 * trigger) on to the triggers the delete fires. SQLite codes a DELETE's
 * triggers with no clause (a DELETE has none): their statements use their
 * own. */
Test(trigger_case, delete_in_a_body_passes_no_conflict_clause)
{
    tp_pair p;
    case_open(&p, "delpolicy",
              "CREATE TABLE s(id INTEGER PRIMARY KEY);"
              "CREATE TABLE a(id INTEGER PRIMARY KEY);"
              "CREATE TABLE b(id INTEGER PRIMARY KEY);"
              "CREATE TABLE u(k INT UNIQUE);"
              "INSERT INTO b VALUES(1); INSERT INTO u VALUES(1);"
              "CREATE TRIGGER s_ai AFTER INSERT ON s BEGIN INSERT OR IGNORE INTO a VALUES(NEW.id);"
              " END;"
              "CREATE TRIGGER a_ai AFTER INSERT ON a BEGIN DELETE FROM b; END;"
              "CREATE TRIGGER b_ad AFTER DELETE ON b BEGIN INSERT INTO u VALUES(1); END;",
              0, 0);
    tp_begin(&p);
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "s", "1"));
    tp_end(&p, 1);
    REF_EQ(1, "SELECT count(*) FROM b");
    REF_EQ(0, "SELECT count(*) FROM a");
    case_close(&p);
}

/* Bug (found by the random test, seed 577408): ON DELETE CASCADE's delete
 * fired the child's DELETE triggers OR ABORT, overriding their statements'
 * own clauses. SQLite codes the action as a program fired OR ABORT whose
 * DELETE fires its triggers with no clause (SET NULL and the other UPDATE
 * actions do pass OR ABORT on). */
Test(trigger_case, cascade_delete_passes_no_conflict_clause)
{
    tp_pair p;
    case_open(&p, "cascpolicy",
              "CREATE TABLE par(id INTEGER PRIMARY KEY);"
              "CREATE TABLE ch(id INTEGER PRIMARY KEY, pid INT REFERENCES par ON DELETE CASCADE);"
              "CREATE TABLE u(k INT UNIQUE, n INT);"
              "INSERT INTO par VALUES(1), (2); INSERT INTO ch VALUES(1, 1), (2, 2);"
              "INSERT INTO u VALUES(1, 0);"
              "CREATE TRIGGER ch_ad AFTER DELETE ON ch BEGIN"
              " INSERT OR IGNORE INTO u VALUES(1, OLD.id); INSERT INTO u VALUES(OLD.id + 10, 0);"
              "END;",
              1, 0);
    tp_begin(&p);
    OK_(tp_delete(&p, "par", 1));
    tp_end(&p, 1);
    REF_EQ(0, "SELECT count(*) FROM ch WHERE pid = 1");
    REF_EQ(2, "SELECT count(*) FROM u");
    case_close(&p);
}

/* Bug (found by the random test, seed 21): OR REPLACE whose delete a BEFORE
 * DELETE trigger skips (RAISE(IGNORE), recursive_triggers on) leaves the row
 * in the way. SQLite checks again once its replace triggers have run and
 * fails the insert, UNIQUE constraint failed; folio overwrote the rowid's
 * row, and looped for ever on a UNIQUE index. */
Test(trigger_case, replace_whose_delete_is_skipped, .timeout = 60)
{
    tp_pair p;
    case_open(&p, "replskip",
              "CREATE TABLE u(id INTEGER PRIMARY KEY, a INT UNIQUE, b TEXT);"
              "CREATE TABLE w(k INT PRIMARY KEY, a INT UNIQUE) WITHOUT ROWID;"
              "CREATE TABLE s(id INTEGER PRIMARY KEY, a INT);"
              "CREATE TABLE s2(id INTEGER PRIMARY KEY, a INT);"
              "INSERT INTO u VALUES(1, 1, 'x'); INSERT INTO w VALUES(1, 1);"
              "CREATE TRIGGER u_bd BEFORE DELETE ON u BEGIN SELECT RAISE(IGNORE); END;"
              "CREATE TRIGGER w_bd BEFORE DELETE ON w BEGIN SELECT RAISE(IGNORE); END;"
              "CREATE TRIGGER s_ai AFTER INSERT ON s BEGIN"
              " INSERT OR REPLACE INTO u VALUES(NEW.id, NEW.a, 'y'); END;"
              "CREATE TRIGGER s2_ai AFTER INSERT ON s2 BEGIN"
              " INSERT OR REPLACE INTO w VALUES(NEW.id, NEW.a); END;",
              0, 1);
    tp_begin(&p);
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "s", "1, 5")); /* the rowid */
    cr_assert_str_eq(p.smsg, "UNIQUE constraint failed: u.id");
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "s", "2, 1")); /* u.a */
    cr_assert_str_eq(p.smsg, "UNIQUE constraint failed: u.a");
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "s2", "1, 5")); /* the key */
    cr_assert_str_eq(p.smsg, "UNIQUE constraint failed: w.k");
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "s2", "2, 1")); /* w.a */
    cr_assert_str_eq(p.smsg, "UNIQUE constraint failed: w.a");
    OK_(tp_delete(&p, "u", 1)); /* (skipped: RAISE(IGNORE)) */
    tp_end(&p, 1);
    REF_EQ(1, "SELECT count(*) FROM u");
    case_close(&p);
}

/* Bug (found by the random test, seed 23): a parent row's foreign key
 * actions ran in the order the children were declared; SQLite runs them the
 * other way (the key made last first). Here the CASCADE of b, made after a,
 * runs first: b's trigger gives a a row of the deleted parent, which a's
 * RESTRICT then finds - before the parent's AFTER DELETE trigger runs. */
Test(trigger_case, foreign_key_actions_in_sqlite_order)
{
    tp_pair p;
    case_open(&p, "fkorder",
              "CREATE TABLE p(id INTEGER PRIMARY KEY);"
              "CREATE TABLE a(id INTEGER PRIMARY KEY, pid INT REFERENCES p ON DELETE RESTRICT);"
              "CREATE TABLE b(id INTEGER PRIMARY KEY, pid INT REFERENCES p ON DELETE CASCADE);"
              "INSERT INTO p VALUES(1), (2); INSERT INTO b VALUES(1, 1);"
              "CREATE TRIGGER b_ad AFTER DELETE ON b BEGIN INSERT INTO a(pid) VALUES(OLD.pid); END;"
              "CREATE TRIGGER p_ad AFTER DELETE ON p BEGIN SELECT RAISE(ABORT, 'p_ad'); END;",
              1, 0);
    tp_begin(&p);
    EXPECT(TP_CONSTRAINT, tp_delete(&p, "p", 1));
    cr_assert_str_eq(p.smsg, "FOREIGN KEY constraint failed");
    EXPECT(TP_CONSTRAINT, tp_delete(&p, "p", 2));
    cr_assert_str_eq(p.smsg, "p_ad");
    tp_end(&p, 1);
    REF_EQ(1, "SELECT count(*) FROM b");
    case_close(&p);
}

/* Bug (found by the random test, seed 24): UPDATE OR REPLACE of a WITHOUT
 * ROWID row to a key another row holds deleted that row, whose delete left
 * its own key where the update kept the updated row's: the next UNIQUE
 * check took the row's own entry for another row's and deleted the row
 * being updated ("index ... lacks the entry of a row"). */
Test(trigger_case, without_rowid_replace_keeps_the_updated_rows_key)
{
    tp_pair p;
    case_open(&p, "wrkey",
              "CREATE TABLE w(a INT UNIQUE, k INT PRIMARY KEY, b TEXT) WITHOUT ROWID;"
              "CREATE TABLE s(k INT, to_k INT);"
              "INSERT INTO w VALUES(1, 1, 'x'), (2, 2, 'y');"
              "CREATE TRIGGER s_ai AFTER INSERT ON s BEGIN"
              " UPDATE OR REPLACE w SET k = NEW.to_k, b = 'moved' WHERE k = NEW.k; END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "s", "1, 2"));
    tp_end(&p, 1);
    REF_EQ(1, "SELECT count(*) FROM w");
    REF_EQ(1, "SELECT a FROM w WHERE k = 2");
    case_close(&p);
}

/* An aggregate SELECT in a body (no GROUP BY: one row): a result that names
 * no column of its table - NEW.a, a constant - is that value even when no
 * row matches; the results over the table's rows are NULL then (count 0),
 * as in SQLite. folio once computed every result as a subquery over the
 * table's rows, and wrote NULL for NEW.a. */
Test(trigger_case, aggregate_select_results_that_name_no_column)
{
    tp_pair p;
    case_open(&p, "aggnew",
              "CREATE TABLE t(b INT);"
              "CREATE TABLE s(a INT);"
              "CREATE TABLE w(x, y, z, c, d);"
              "INSERT INTO t VALUES(3), (4);"
              "CREATE TRIGGER s_ai AFTER INSERT ON s BEGIN"
              " INSERT INTO w SELECT NEW.a, max(b), NEW.a * 2 + 1, count(*), 'k' || NEW.a"
              " FROM t WHERE b > NEW.a; END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "s", "5")); /* no row of t matches */
    OK_(tp_insert_s(&p, "s", "1")); /* both do */
    tp_end(&p, 1);
    REF_EQ(1, "SELECT count(*) FROM w WHERE x = 5 AND y IS NULL AND z = 11 AND c = 0 AND d = 'k5'");
    REF_EQ(1, "SELECT count(*) FROM w WHERE x = 1 AND y = 4 AND z = 3 AND c = 2 AND d = 'k1'");
    case_close(&p);
}

/* Tables named "New" and "new" in trigger bodies: a statement's target and
 * a FROM table of that name are the table; new.x is the table's column
 * when the table is in the FROM clause (SQLite resolves the FROM table
 * before the trigger's NEW). */
Test(trigger_case, table_named_new)
{
    tp_pair p;
    case_open(&p, "newtab",
              "CREATE TABLE \"New\"(x);"
              "CREATE TABLE t(a);"
              "INSERT INTO \"New\" VALUES(5);"
              "CREATE TRIGGER tr AFTER INSERT ON t BEGIN"
              " INSERT INTO \"New\" VALUES(new.a);"
              " INSERT INTO new SELECT new.a + x FROM new WHERE x < 10;"
              " INSERT INTO new SELECT x + 100 FROM new WHERE new.x = 5;"
              " UPDATE new SET x = x + 1 WHERE x > 100;"
              " DELETE FROM \"NEW\" WHERE x = new.a; END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "t", "1"));
    OK_(tp_insert_s(&p, "t", "2"));
    tp_end(&p, 1);
    REF_EQ(8, "SELECT count(*) FROM \"New\"");
    REF_EQ(1, "SELECT count(*) FROM \"New\" WHERE x = 107"); /* new.x = 5 read the table */
    case_close(&p);
}

/* SQLite pins an UPDATE's cursor on its table while an OR REPLACE (the
 * statement's, a body's, the constraint's own) deletes a row in the way of
 * a UNIQUE index or of a WITHOUT ROWID table's key, when recursive_triggers
 * is on and the table has DELETE triggers: a write to that table by those
 * triggers, or by the foreign key actions of the delete, then fails the
 * statement with SQLITE_CONSTRAINT_PINNED, "constraint failed". Not so for
 * an INSERT's REPLACE, a rowid in the way, writes to other tables, or
 * writes that change nothing. (Found by the random test, seeds 1 and 17:
 * folio ran the triggers and failed later with another message, or recursed
 * until it gave up.) */
static const char g_pinned[] =
    "CREATE TABLE t(id INTEGER PRIMARY KEY, u INT UNIQUE, v INT);"
    "CREATE TABLE w(k INT PRIMARY KEY, u INT UNIQUE, v INT) WITHOUT ROWID;"
    "CREATE TABLE r(id INTEGER PRIMARY KEY, u INT UNIQUE ON CONFLICT REPLACE, v INT);"
    "CREATE TABLE f(id INTEGER PRIMARY KEY, u INT UNIQUE ON CONFLICT REPLACE,"
    " p INT REFERENCES f ON DELETE CASCADE);"
    "CREATE TABLE log(x);"
    "CREATE TABLE s(op INT, a INT, b INT);"
    "INSERT INTO t VALUES(1, 1, 0), (2, 2, 0), (3, 3, 0);"
    "INSERT INTO w VALUES(1, 1, 0), (2, 2, 0), (3, 3, 0);"
    "INSERT INTO r VALUES(1, 1, 0), (2, 2, 0), (3, 3, 0);"
    "INSERT INTO f VALUES(1, 1, NULL), (2, 2, NULL), (3, 3, 2), (4, 4, NULL);"
    "CREATE TRIGGER t_ad AFTER DELETE ON t BEGIN UPDATE t SET v = v + 1 WHERE id = 3; END;"
    "CREATE TRIGGER w_bd BEFORE DELETE ON w BEGIN"
    " INSERT INTO w VALUES(OLD.k + 100, OLD.u + 100, 0); END;"
    "CREATE TRIGGER r_ad AFTER DELETE ON r BEGIN INSERT INTO log VALUES(OLD.id);"
    " UPDATE r SET v = 9 WHERE id = OLD.id + 100; END;"
    "CREATE TRIGGER f_ad AFTER DELETE ON f BEGIN INSERT INTO log VALUES(OLD.id); END;"
    "CREATE TRIGGER s_ai AFTER INSERT ON s BEGIN"
    " UPDATE OR REPLACE t SET u = NEW.b WHERE id = NEW.a AND NEW.op = 1;"
    " UPDATE OR REPLACE w SET k = NEW.b WHERE k = NEW.a AND NEW.op = 2;"
    " UPDATE OR REPLACE w SET u = NEW.b WHERE k = NEW.a AND NEW.op = 3;"
    " INSERT OR REPLACE INTO t SELECT NEW.a, NEW.b, 0 WHERE NEW.op = 4;"
    " UPDATE OR REPLACE t SET id = NEW.b WHERE id = NEW.a AND NEW.op = 5; END;";

static void pinned_calls(tp_pair *pp, int rec)
{
    tp_pair p = *pp;
    tp_begin(&p);
    int fails = rec ? TP_CONSTRAINT : TP_OK;
    EXPECT(fails, tp_insert_s(&p, "s", "1, 1, 2")); /* t_ad writes t */
    if (rec)
        cr_assert_str_eq(p.smsg, "constraint failed");
    EXPECT(fails, tp_insert_s(&p, "s", "2, 2, 3"));  /* w's key; w_bd (BEFORE) writes w */
    EXPECT(fails, tp_insert_s(&p, "s", "3, 1, 3"));  /* w.u */
    EXPECT(fails, tp_patch_s(&p, "f", 1, "u", "2")); /* the cascade deletes f's row 3 */
    if (rec)
        cr_assert_str_eq(p.smsg, "constraint failed");
    tp_end(&p, 1);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "s", "4, 5, 2"));  /* an insert's REPLACE */
    OK_(tp_insert_s(&p, "s", "5, 1, 3"));  /* a rowid in the way */
    OK_(tp_patch_s(&p, "r", 1, "u", "2")); /* r_ad writes log, and nothing in r */
    OK_(tp_patch_s(&p, "f", 4, "u", "1")); /* row 1 (no child) goes: f_ad writes log */
    tp_end(&p, 1);
    *pp = p;
}

Test(trigger_case, replace_in_an_update_pins_its_table)
{
    tp_pair p;
    case_open(&p, "pinned", g_pinned, 1, 1);
    pinned_calls(&p, 1);
    REF_EQ(2, "SELECT count(*) FROM log");
    REF_EQ(0, "SELECT count(*) FROM w WHERE k > 100");
    case_close(&p);
    case_open(&p, "pinned0", g_pinned, 1, 0); /* no DELETE triggers: no pin */
    pinned_calls(&p, 0);
    REF_EQ(2, "SELECT count(*) FROM f"); /* 1 and 4: 2 went, and its child 3 */
    case_close(&p);
}

/* SQLite mends no immediate foreign key violation when a top-level INSERT
 * of one row adds a parent row, unless it codes the statement as one that
 * may write several rows (the table has INSERT triggers, a key of it says ON
 * CONFLICT REPLACE, an UPSERT's DO UPDATE): there a row that is a child
 * without a parent fails even when, as a parent, it is the one an old
 * orphan lacked. (Found by the random test, seed 5: folio counted the
 * orphan of t2 mended and let the row in.) */
static const char g_fk_single[] =
    "CREATE TABLE p(id INTEGER PRIMARY KEY);"
    "CREATE TABLE t(k INTEGER PRIMARY KEY, b INT REFERENCES p, u INT UNIQUE);"
    "CREATE TABLE tt(k INTEGER PRIMARY KEY, b INT REFERENCES p, u INT UNIQUE);"
    "CREATE TABLE tr(k INTEGER PRIMARY KEY, b INT REFERENCES p, u INT UNIQUE ON CONFLICT REPLACE);"
    "CREATE TABLE w(k INT PRIMARY KEY, b INT REFERENCES p, u INT) WITHOUT ROWID;"
    "CREATE TABLE c(x INT REFERENCES t, y INT REFERENCES tt, z INT REFERENCES tr,"
    " v INT REFERENCES w);"
    "CREATE TABLE log(z);"
    "INSERT INTO c VALUES(7, 7, 7, 7);" /* (foreign keys off: four orphans) */
    "CREATE TRIGGER tt_ai AFTER INSERT ON tt WHEN NEW.u > 100 BEGIN"
    " INSERT INTO log VALUES(NEW.k); END;"
    "CREATE TRIGGER s_au AFTER UPDATE ON t BEGIN INSERT INTO log VALUES(NEW.k); END;";

Test(trigger_case, one_row_insert_mends_no_orphan)
{
    tp_pair p;
    case_open(&p, "fksingle", g_fk_single, 1, 0);
    tp_begin(&p);
    /* No parent 8 (t's UPDATE trigger does not count) */
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "t", "7, 8, 1"));
    cr_assert_str_eq(p.smsg, "FOREIGN KEY constraint failed");
    EXPECT(TP_CONSTRAINT, tp_insert_s(&p, "w", "7, 8, 1"));
    OK_(tp_insert_s(&p, "tt", "7, 8, 1"));   /* INSERT triggers: mended */
    OK_(tp_insert_s(&p, "tr", "7, 8, 1"));   /* a REPLACE key: mended */
    OK_(tp_upsert_s(&p, "t", 7, "7, 8, 1")); /* DO UPDATE: mended */
    OK_(tp_insert_s(&p, "t", "9, NULL, 2")); /* no violation at all */
    tp_end(&p, 1);
    REF_EQ(3, "SELECT (SELECT count(*) FROM t WHERE k = 7 AND b = 8)"
              " + (SELECT count(*) FROM tt WHERE k = 7 AND b = 8)"
              " + (SELECT count(*) FROM tr WHERE k = 7 AND b = 8)");
    REF_EQ(0, "SELECT count(*) FROM w");
    case_close(&p);
}

/* SQLite 3.40.1 skips the foreign key check of an INSERT's row when coding
 * the INSERT's BEFORE triggers coded the ON DELETE SET NULL action of that
 * key last (isSetNullAction() looks at the last trigger program coded): a
 * trigger that would delete from the parent, even one whose WHEN never
 * holds, lets a child without a parent in. folio refuses it; the harness
 * rolls both back (trig_pair.c, run_call and tp_end for a deferred key).
 * (Only when that action is the last one coded: with two child tables of
 * p, the other's might be. Found by the random test, seed 26 with
 * index_target, where the delete was two triggers away.) */
static const char g_setnull_skip[] =
    "CREATE TABLE p(id INTEGER PRIMARY KEY);"
    "CREATE TABLE c(b INT REFERENCES p ON DELETE SET NULL);"
    "CREATE TABLE q(id INTEGER PRIMARY KEY);"
    "CREATE TABLE d(b INT REFERENCES q ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED);"
    "INSERT INTO p VALUES(1); INSERT INTO q VALUES(1);"
    "CREATE TRIGGER c_bi BEFORE INSERT ON c WHEN 0 BEGIN DELETE FROM p; END;"
    "CREATE TRIGGER d_bi BEFORE INSERT ON d WHEN 0 BEGIN DELETE FROM q; END;";

Test(trigger_case, sqlite_misses_a_foreign_key_after_set_null_coded)
{
    tp_pair p;
    case_open(&p, "setnull", g_setnull_skip, 1, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "c", "1"));
    cr_assert_eq(tp_insert_s(&p, "c", "5"), TP_SKIPPED, "%s: sqlite '%s', folio '%s'", p.ctx,
                 p.smsg, p.fmsg);
    cr_assert_str_eq(p.fmsg, "FOREIGN KEY constraint failed: c(b) = (5): no such row in p");
    cr_assert_eq(p.n_sqlite_orphans, 1);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "d", "5")); /* deferred: the commit */
    cr_assert_eq(tp_end(&p, 1), TP_SKIPPED);
    cr_assert_eq(p.n_sqlite_orphans, 2);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "d", "1"));
    tp_end(&p, 1);
    REF_EQ(0, "SELECT count(*) FROM pragma_foreign_key_check");
    case_close(&p);
    /* SQLite's own outcome: the rows go in, orphans. */
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "ref.db");
    sqlite3 *db = compat_sqlite_open(path);
    compat_exec(db, g_setnull_skip);
    compat_exec(db, "PRAGMA foreign_keys=ON");
    int rc = sqlite3_exec(db, "INSERT INTO c VALUES(5); INSERT INTO d VALUES(5)", NULL, NULL, NULL);
    int64_t orphans = compat_query_int(db, "SELECT count(*) FROM pragma_foreign_key_check");
    if (rc == SQLITE_OK)
        cr_assert_eq(orphans, 2, "SQLite accepted the rows: they must be orphans");
    else
        cr_log_warn("libsqlite3 %s refuses the orphan now ('%s'): the random test's seed 26"
                    " should agree without the harness's help",
                    sqlite3_libversion(), sqlite3_errmsg(db));
    compat_sqlite_close(db);
    free(path);
    compat_rmtree(dir);
    free(dir);
}

/* Row values in SET: `SET (a, b) = (x, y)` is `SET a = x, b = y`, in a
 * body's UPDATE and in an UPSERT's DO UPDATE; a count that does not match
 * is SQLite's error when the trigger is made. */
Test(trigger_case, row_values_in_set)
{
    tp_pair p;
    case_open(&p, "rowvalues",
              "CREATE TABLE t(id INTEGER PRIMARY KEY, a INT, b TEXT);"
              "CREATE TABLE mirror(id INTEGER PRIMARY KEY, x INT, y TEXT, n INT DEFAULT 0);"
              "CREATE TABLE tally(k TEXT PRIMARY KEY, hits INT, last TEXT);"
              "INSERT INTO mirror(id) VALUES(1), (2), (3);"
              "CREATE TRIGGER t_au AFTER UPDATE ON t BEGIN"
              " UPDATE mirror SET (x, y) = (NEW.a * 2, NEW.b || '!'), n = n + 1"
              "  WHERE id = NEW.id;"
              " UPDATE mirror SET (n) = (n + 100) WHERE id = NEW.id AND NEW.a > 50;"
              "END;"
              "CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN"
              " INSERT INTO tally(k, hits, last) VALUES(NEW.b, 1, NEW.a)"
              "  ON CONFLICT(k) DO UPDATE SET (hits, last) = (hits + 1, excluded.last || '/' ||"
              "  last);"
              "END;",
              0, 0);
    tp_begin(&p);
    OK_(tp_insert_s(&p, "t", "1, 10, 'red'"));
    OK_(tp_insert_s(&p, "t", "2, 20, 'blue'"));
    OK_(tp_insert_s(&p, "t", "3, 30, 'red'"));
    OK_(tp_update_s(&p, "t", 1, "1, 11, 'green'"));
    OK_(tp_update_s(&p, "t", 3, "3, 77, 'red'"));
    OK_(tp_update_s(&p, "t", 1, "1, 12, 'gold'"));
    tp_end(&p, 1);
    REF_EQ(24, "SELECT x FROM mirror WHERE id = 1");
    REF_EQ(2, "SELECT n FROM mirror WHERE id = 1");
    REF_EQ(101, "SELECT n FROM mirror WHERE id = 3");
    REF_EQ(2, "SELECT hits FROM tally WHERE k = 'red'");
    tp_begin(&p);
    /* Counts that differ, either way: SQLite's message at CREATE TRIGGER. */
    EXPECT(TP_ERROR, tp_exec(&p, "CREATE TRIGGER bad1 AFTER DELETE ON t BEGIN"
                                 " UPDATE mirror SET (x, y) = (1) WHERE id = OLD.id; END"));
    EXPECT(TP_ERROR, tp_exec(&p, "CREATE TRIGGER bad2 AFTER DELETE ON t BEGIN"
                                 " UPDATE mirror SET (x) = (1, 2) WHERE id = OLD.id; END"));
    tp_end(&p, 1);
    case_close(&p);
}
