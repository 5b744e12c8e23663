/*
 * test_generated.c - generated columns written by folio as libsqlite3 writes
 * them: STORED ones computed and stored, VIRTUAL ones left out of the record
 * but computed for the indexes, NOT NULL and CHECK constraints on them, the
 * rowid alias read by them, one generated column reading another.
 *
 * The same random inserts, updates and patches go to folio and to
 * libsqlite3 (a row value array leaves generated columns out, as INSERT
 * INTO t(<the other columns>) VALUES does); every call must have the same
 * outcome, then libsqlite3's integrity_check (which checks the index on a
 * VIRTUAL column entry by entry) passes on folio's file and both files hold
 * the same rows, generated columns included. seed=N is printed.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns: k INTEGER PRIMARY KEY, a, g1 (virtual), b, g2 (stored), g3 (virtual, reads g2). */
static const char *const tables[] = {
    "CREATE TABLE t(k INTEGER PRIMARY KEY, a INTEGER, g1 AS (a * 2 + k), b TEXT, "
    "g2 TEXT AS (upper(b) || a) STORED, g3 AS (length(g2)) VIRTUAL)",
    "CREATE TABLE t(k INTEGER PRIMARY KEY, a INTEGER, g1 INTEGER AS (a + 1) NOT NULL, b TEXT, "
    "g2 AS (substr(b, 1, 2)) STORED CHECK (g2 != 'zz'), g3 REAL AS (g1 / 2))",
    "CREATE TABLE t(k INTEGER PRIMARY KEY, a INTEGER, g1 TEXT AS (a), b TEXT, "
    "g2 AS (json_object('b', b, 'a', a)) STORED, g3 AS (g2 ->> '$.b'), CHECK (g1 != '13'))",
};
static const char *const indexes[] = {
    "CREATE INDEX ig1 ON t(g1)",
    "CREATE INDEX ig3 ON t(g3, g2)",
    "CREATE UNIQUE INDEX ug2 ON t(g2) WHERE a > 5",
};

static void random_value(uint64_t *rng, folio_value *v, char *buf, size_t cap)
{
    static const char *texts[] = {"ab", "zz", "x", "", "hello", "zzz", "12", "Ab"};
    memset(v, 0, sizeof *v);
    switch (compat_below(rng, 4)) {
    case 0:
        v->type = FOLIO_NULL;
        break;
    case 1:
    case 2:
        v->type = FOLIO_INTEGER;
        v->u.i = (int64_t)compat_below(rng, 20);
        break;
    default:
        snprintf(buf, cap, "%s", texts[compat_below(rng, 8)]);
        v->type = FOLIO_TEXT;
        v->u.s.p = buf;
        v->u.s.n = strlen(buf);
        break;
    }
}

static void bind_value(sqlite3_stmt *st, int param, const folio_value *v)
{
    if (v->type == FOLIO_NULL)
        sqlite3_bind_null(st, param);
    else if (v->type == FOLIO_INTEGER)
        sqlite3_bind_int64(st, param, v->u.i);
    else
        sqlite3_bind_text(st, param, (const char *)v->u.s.p, (int)v->u.s.n, SQLITE_TRANSIENT);
}

static char *dump(sqlite3 *db)
{
    sqlite3_stmt *st = compat_prepare(
        db, "SELECT group_concat(quote(k)||','||quote(a)||','||quote(g1)||','||quote(b)||','||"
            "quote(g2)||','||quote(g3), char(10)) FROM (SELECT * FROM t ORDER BY k)");
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    const char *s = (const char *)sqlite3_column_text(st, 0);
    char *out = strdup(s ? s : "");
    sqlite3_finalize(st);
    return out;
}

Test(compat_generated, random_writes_match_sqlite)
{
    uint64_t rng = compat_seed(20261207);
    char *dir = compat_tmpdir();
    for (int round = 0; round < 9; round++) {
        const char *ddl = tables[round % 3];
        char fname[32], sname[32];
        snprintf(fname, sizeof fname, "f%d.db", round);
        snprintf(sname, sizeof sname, "s%d.db", round);
        char *fpath = compat_path(dir, fname), *spath = compat_path(dir, sname);
        sqlite3 *f0 = compat_sqlite_open(fpath);
        sqlite3 *s = compat_sqlite_open(spath);
        compat_exec(f0, ddl);
        compat_exec(s, ddl);
        int with_index = round / 3;
        for (int i = 0; i < with_index && i < 3; i++) {
            compat_exec(f0, indexes[(round + i) % 3]);
            compat_exec(s, indexes[(round + i) % 3]);
        }
        compat_sqlite_close(f0);
        folio_db *db;
        folio_options o = FOLIO_OPTIONS_INIT;
        cr_assert_eq(folio_open(&db, fpath, &o), FOLIO_OK);
        folio_txn *txn;
        folio_table *t;
        cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
        cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
        sqlite3_stmt *ins = compat_prepare(s, "INSERT INTO t(k, a, b) VALUES(?1, ?2, ?3)");
        sqlite3_stmt *upd = compat_prepare(s, "UPDATE t SET k = ?1, a = ?2, b = ?3 WHERE k = ?4");
        sqlite3_stmt *pat = compat_prepare(s, "UPDATE t SET a = ?1 WHERE k = ?2");
        compat_exec(s, "BEGIN");
        int64_t keys[400];
        int nkeys = 0, refused = 0;
        for (int op = 0; op < 300; op++) {
            folio_value v[3];
            char bufs[3][16];
            memset(&v[0], 0, sizeof v[0]);
            if (compat_below(&rng, 4) == 0) {
                v[0].type = FOLIO_NULL;
            } else {
                v[0].type = FOLIO_INTEGER;
                v[0].u.i = 1 + (int64_t)compat_below(&rng, 500);
            }
            random_value(&rng, &v[1], bufs[1], sizeof bufs[1]);
            random_value(&rng, &v[2], bufs[2], sizeof bufs[2]);
            uint64_t kind = nkeys ? compat_below(&rng, 3) : 0;
            int64_t old = nkeys ? keys[compat_below(&rng, (uint64_t)nkeys)] : 0;
            int frc, src;
            int64_t newid = 0;
            if (kind == 0) {
                for (int c = 0; c < 3; c++)
                    bind_value(ins, c + 1, &v[c]);
                src = sqlite3_step(ins) & 0xff;
                sqlite3_reset(ins);
                frc = folio_insert(&newid, t, v, 3);
            } else if (kind == 1) {
                if (v[0].type == FOLIO_NULL) { /* (SET k = NULL is a mismatch) */
                    v[0].type = FOLIO_INTEGER;
                    v[0].u.i = old;
                }
                for (int c = 0; c < 3; c++)
                    bind_value(upd, c + 1, &v[c]);
                sqlite3_bind_int64(upd, 4, old);
                src = sqlite3_step(upd) & 0xff;
                sqlite3_reset(upd);
                frc = folio_update(t, old, v, 3);
                newid = v[0].u.i;
            } else {
                int col = 1; /* a */
                bind_value(pat, 1, &v[1]);
                sqlite3_bind_int64(pat, 2, old);
                src = sqlite3_step(pat) & 0xff;
                sqlite3_reset(pat);
                frc = folio_patch(t, old, &col, &v[1], 1);
            }
            const char *smsg = sqlite3_errmsg(s);
            cr_assert_eq(frc == FOLIO_OK, src == SQLITE_DONE, "%s: op %d: folio %d (%s), sqlite %s",
                         ddl, (int)kind, frc, folio_errmsg(db), smsg);
            if (src != SQLITE_DONE) {
                cr_assert_str_eq(folio_errmsg(db), smsg, "%s", ddl);
                refused++;
                continue;
            }
            if (kind == 0 && nkeys < 400)
                keys[nkeys++] = newid;
            else if (kind == 1)
                for (int i = 0; i < nkeys; i++)
                    if (keys[i] == old)
                        keys[i] = newid;
        }
        compat_exec(s, "COMMIT");
        /* A generated column cannot be patched; the row array is short. */
        int g = 2;
        folio_value one = {.type = FOLIO_INTEGER, .u.i = 1};
        if (nkeys) {
            cr_assert_eq(folio_patch(t, keys[0], &g, &one, 1), FOLIO_ERROR);
            cr_assert_str_eq(folio_errmsg(db), "cannot UPDATE generated column \"g1\"");
        }
        folio_value six[6] = {{.type = FOLIO_NULL}};
        cr_assert_eq(folio_insert(NULL, t, six, 6), FOLIO_MISUSE);
        cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s", folio_errmsg(db));
        sqlite3_finalize(ins);
        sqlite3_finalize(upd);
        sqlite3_finalize(pat);
        cr_assert_eq(folio_close(db), FOLIO_OK);
        char *integ = compat_integrity(fpath);
        cr_assert_str_eq(integ, "ok", "%s", ddl);
        free(integ);
        sqlite3 *f = compat_sqlite_open_ro(fpath);
        char *a = dump(f), *b = dump(s);
        cr_assert_str_eq(a, b, "%s: folio's rows differ", ddl);
        free(a);
        free(b);
        compat_sqlite_close(f);
        compat_sqlite_close(s);
        cr_log_info("%s: %d rows, %d refused", ddl, nkeys, refused);
        free(fpath);
        free(spath);
    }
    compat_rmtree(dir);
    free(dir);
}

/* folio's CREATE TABLE takes generated columns; SQLite's errors are its. */
Test(compat_generated, create_table)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "c.db");
    folio_db *db;
    folio_options o = FOLIO_OPTIONS_INIT;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK);
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    sqlite3 *mem;
    cr_assert_eq(sqlite3_open(":memory:", &mem), SQLITE_OK);
    static const char *const bad[] = {"CREATE TABLE r1(a, b AS (nosuch + 1))",
                                      "CREATE TABLE r2(a, b AS (random()))"};
    for (int i = 0; i < 2; i++) {
        cr_assert_neq(sqlite3_exec(mem, bad[i], NULL, NULL, NULL), SQLITE_OK);
        cr_assert_eq(folio_exec(txn, bad[i]), FOLIO_ERROR, "%s", bad[i]);
        cr_assert_str_eq(folio_errmsg(db), sqlite3_errmsg(mem), "%s", bad[i]);
    }
    sqlite3_close(mem);
    cr_assert_eq(folio_exec(txn, "CREATE TABLE t(a INTEGER, b AS (a * 10) STORED, c AS (b + a))"),
                 FOLIO_OK, "%s", folio_errmsg(db));
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    folio_value v = {.type = FOLIO_TEXT, .u.s = {"4", 1}};
    cr_assert_eq(folio_insert(NULL, t, &v, 1), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    sqlite3 *s = compat_sqlite_open_ro(path);
    char *row = compat_query_text(s, "SELECT quote(a)||quote(b)||quote(c) FROM t");
    cr_assert_str_eq(row, "44044");
    free(row);
    compat_sqlite_close(s);
    char *integ = compat_integrity(path);
    cr_assert_str_eq(integ, "ok");
    free(integ);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* Every column read back through folio's cursors - VIRTUAL ones computed
 * from the row - equals what libsqlite3 reads, value and type; a filter on
 * a VIRTUAL column selects the rows SQLite's WHERE selects. */
Test(compat_generated, reads_match_sqlite)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "r.db");
    uint64_t rng = compat_seed(20261207);
    for (int ti = 0; ti < 3; ti++) {
        remove(path);
        sqlite3 *s = compat_sqlite_open(path);
        compat_exec(s, tables[ti]);
        compat_exec(s, "CREATE INDEX ig3 ON t(g3)");
        sqlite3_stmt *ins = compat_prepare(s, "INSERT INTO t(a, b) VALUES(?1, ?2)");
        for (int i = 0; i < 200; i++) {
            folio_value v[2];
            char bufs[2][16];
            random_value(&rng, &v[0], bufs[0], sizeof bufs[0]);
            random_value(&rng, &v[1], bufs[1], sizeof bufs[1]);
            bind_value(ins, 1, &v[0]);
            bind_value(ins, 2, &v[1]);
            sqlite3_step(ins); /* (some are refused by the constraints) */
            sqlite3_reset(ins);
        }
        sqlite3_finalize(ins);
        folio_db *db;
        folio_options o = FOLIO_OPTIONS_INIT;
        cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK);
        folio_txn *txn;
        folio_table *t;
        cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_READ), FOLIO_OK);
        cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
        for (int pass = 0; pass < 2; pass++) {
            folio_cursor *c;
            cr_assert_eq(folio_cursor_open(&c, t, pass ? "ig3" : NULL), FOLIO_OK, "%s",
                         folio_errmsg(db));
            sqlite3_stmt *st = compat_prepare(
                s, pass ? "SELECT k, a, g1, b, g2, g3, typeof(g1), typeof(g3) FROM t INDEXED BY "
                          "ig3 ORDER BY g3, k"
                        : "SELECT k, a, g1, b, g2, g3, typeof(g1), typeof(g3) FROM t ORDER BY k");
            int n = 0, rc;
            for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c), n++) {
                cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
                for (int col = 0; col < 6; col++) {
                    folio_value v;
                    cr_assert_eq(folio_cursor_column(&v, c, col), FOLIO_OK, "%s", folio_errmsg(db));
                    cr_assert_eq((int)v.type, sqlite3_column_type(st, col) % 5, "%s: column %d",
                                 tables[ti], col);
                    if (v.type == FOLIO_INTEGER)
                        cr_assert_eq(v.u.i, sqlite3_column_int64(st, col));
                    else if (v.type == FOLIO_REAL)
                        cr_assert_eq(v.u.r, sqlite3_column_double(st, col));
                    else if (v.type == FOLIO_TEXT)
                        cr_assert(v.u.s.n == (size_t)sqlite3_column_bytes(st, col) &&
                                      memcmp(v.u.s.p, sqlite3_column_text(st, col), v.u.s.n) == 0,
                                  "%s: column %d", tables[ti], col);
                }
            }
            cr_assert_eq(rc, FOLIO_DONE, "%s", folio_errmsg(db));
            cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "folio read %d rows, SQLite more", n);
            sqlite3_finalize(st);
            folio_cursor_close(c);
        }
        folio_filter *f;
        cr_assert_eq(folio_filter_compile(&f, t, "g3 > 2 AND g1 IS NOT NULL"), FOLIO_OK, "%s",
                     folio_errmsg(db));
        folio_cursor *c;
        cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
        cr_assert_eq(folio_cursor_filter(c, f), FOLIO_OK, "%s", folio_errmsg(db));
        sqlite3_stmt *st =
            compat_prepare(s, "SELECT k FROM t WHERE g3 > 2 AND g1 IS NOT NULL ORDER BY k");
        int rc;
        for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
            cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
            cr_assert_eq(folio_cursor_rowid(c), sqlite3_column_int64(st, 0));
        }
        cr_assert_eq(rc, FOLIO_DONE, "%s", folio_errmsg(db));
        cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
        folio_cursor_close(c);
        folio_filter_free(f);
        folio_rollback(txn);
        cr_assert_eq(folio_close(db), FOLIO_OK);
        compat_sqlite_close(s);
    }
    compat_rmtree(dir);
    free(path);
    free(dir);
}
