/*
 * test_index_expr.c - partial indexes and indexes on expressions, kept by
 * folio as libsqlite3 keeps them.
 *
 * Random tables (rowid and WITHOUT ROWID) get random partial, expression
 * and UNIQUE indexes (made by libsqlite3 before the rows, or by folio's
 * CREATE INDEX over rows already there); the same random inserts, updates
 * and deletes go to folio and to libsqlite3, in transactions large enough
 * for folio to defer index entries (sorted, bottom-up) - every call must
 * have the same outcome (UNIQUE failures with SQLite's message). Then
 * libsqlite3's integrity_check, which checks every index entry against
 * its row, passes on folio's file, and both files hold the same rows and
 * index entries. seed=N is printed; FOLIO_SEED replays a run.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCOLS 5 /* k, a INTEGER, b TEXT, c REAL, d (no type) */

static const char *const index_pool[] = {
    "CREATE INDEX i%d ON t(a) WHERE a > 10",
    "CREATE INDEX i%d ON t(b, a) WHERE b IS NOT NULL",
    "CREATE INDEX i%d ON t(c) WHERE c < 0 OR d = 'x'",
    "CREATE INDEX i%d ON t(lower(b))",
    "CREATE INDEX i%d ON t(a + 1, b)",
    "CREATE INDEX i%d ON t(json_extract(d, '$.k'))",
    "CREATE INDEX i%d ON t(abs(c) DESC)",
    "CREATE INDEX i%d ON t(substr(b, 1, 2) COLLATE NOCASE)",
    "CREATE INDEX i%d ON t(a * 2, k) WHERE a IS NOT NULL AND a %% 2 = 0",
    "CREATE UNIQUE INDEX i%d ON t(b) WHERE a > 0",
    "CREATE UNIQUE INDEX i%d ON t(lower(b))",
    "CREATE INDEX i%d ON t(CAST(d AS INTEGER))",
    "CREATE INDEX i%d ON t(b || 'x', length(b))",
    "CREATE INDEX i%d ON t(d) WHERE d LIKE 'a%%'",
    "CREATE INDEX i%d ON t(typeof(d), k)",
};
#define NPOOL ((int)(sizeof index_pool / sizeof index_pool[0]))

static void random_value(uint64_t *rng, int col, folio_value *v, char *buf, size_t cap)
{
    static const char *texts[] = {"abc",       "ABC",           "Abd", "x",  "",   "ab", "aB",
                                  "{\"k\":1}", "{\"k\":\"z\"}", "a%",  "12", "zz", "a1", "b"};
    memset(v, 0, sizeof *v);
    uint64_t r = compat_below(rng, 8);
    if (r == 0) {
        v->type = FOLIO_NULL;
    } else if (r <= 2 || col == 1) {
        v->type = FOLIO_INTEGER;
        v->u.i = (int64_t)compat_below(rng, 40) - 10;
    } else if (r == 3 || col == 3) {
        v->type = FOLIO_REAL;
        v->u.r = ((double)compat_below(rng, 80) - 40) / 4;
    } else {
        snprintf(buf, cap, "%s", texts[compat_below(rng, sizeof texts / sizeof texts[0])]);
        v->type = FOLIO_TEXT;
        v->u.s.p = buf;
        v->u.s.n = strlen(buf);
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
    default:
        sqlite3_bind_text(st, param, (const char *)v->u.s.p, (int)v->u.s.n, SQLITE_TRANSIENT);
        break;
    }
}

/* The table's rows, then every index's entries in index order. */
static char *dump(sqlite3 *db, int nidx)
{
    size_t cap = 1 << 20, n = 0;
    char *out = malloc(cap);
    cr_assert(out);
    out[0] = 0;
    char sql[256];
    for (int i = -1; i < nidx; i++) {
        if (i < 0)
            snprintf(sql, sizeof sql,
                     "SELECT quote(k), quote(a), quote(b), quote(c), quote(d) "
                     "FROM t ORDER BY k");
        else
            snprintf(sql, sizeof sql, "SELECT k FROM t INDEXED BY i%d WHERE 1", i);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            continue; /* (an index whose WHERE the query does not imply) */
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                const char *v = (const char *)sqlite3_column_text(st, c);
                n += (size_t)snprintf(out + n, cap - n, "%s,", v ? v : "NULL");
            }
            n += (size_t)snprintf(out + n, cap - n, "\n");
            cr_assert(n < cap - 256);
        }
        sqlite3_finalize(st);
        n += (size_t)snprintf(out + n, cap - n, "--\n");
    }
    return out;
}

static void run(uint64_t *rng, int round, const char *dir)
{
    int without_rowid = round % 3 == 2;
    int folio_creates = round % 2; /* folio's CREATE INDEX after the first rows */
    char ddl[512];
    snprintf(ddl, sizeof ddl, "CREATE TABLE t(k INTEGER %s, a INTEGER, b TEXT, c REAL, d%s)%s",
             without_rowid ? "NOT NULL" : "PRIMARY KEY", without_rowid ? ", PRIMARY KEY(k)" : "",
             without_rowid ? " WITHOUT ROWID" : "");
    int nidx = 1 + (int)compat_below(rng, 4);
    char idx[4][256];
    for (int i = 0; i < nidx; i++)
        snprintf(idx[i], sizeof idx[i], index_pool[compat_below(rng, NPOOL)], i);
    char fname[32], sname[32];
    snprintf(fname, sizeof fname, "f%d.db", round);
    snprintf(sname, sizeof sname, "s%d.db", round);
    char *fpath = compat_path(dir, fname), *spath = compat_path(dir, sname);
    compat_run(fpath, ddl);
    sqlite3 *s = compat_sqlite_open(spath);
    compat_exec(s, ddl);
    if (!folio_creates) {
        sqlite3 *f0 = compat_sqlite_open(fpath);
        for (int i = 0; i < nidx; i++) {
            compat_exec(f0, idx[i]);
            compat_exec(s, idx[i]);
        }
        compat_sqlite_close(f0);
    }
    folio_db *db;
    folio_options o = FOLIO_OPTIONS_INIT;
    cr_assert_eq(folio_open(&db, fpath, &o), FOLIO_OK, "%s", folio_open_errmsg());
    sqlite3_stmt *ins = compat_prepare(s, "INSERT INTO t VALUES(?1, ?2, ?3, ?4, ?5)");
    sqlite3_stmt *upd =
        compat_prepare(s, "UPDATE t SET k = ?1, a = ?2, b = ?3, c = ?4, d = ?5 WHERE k = ?6");
    sqlite3_stmt *del = compat_prepare(s, "DELETE FROM t WHERE k = ?1");
    int64_t keys[2000];
    int nkeys = 0, failures = 0;
    for (int batch = 0; batch < 3; batch++) {
        folio_txn *txn;
        folio_table *t;
        cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
        if (batch == 1 && folio_creates)
            for (int i = 0; i < nidx; i++) {
                /* (a UNIQUE index may fail over the rows there: then in both) */
                int src = sqlite3_exec(s, idx[i], NULL, NULL, NULL);
                int frc = folio_exec(txn, idx[i]);
                cr_assert_eq(frc == FOLIO_OK, src == SQLITE_OK, "%s: folio %d %s, sqlite %s",
                             idx[i], frc, folio_errmsg(db), sqlite3_errmsg(s));
                if (src != SQLITE_OK) {
                    cr_assert_str_eq(folio_errmsg(db), sqlite3_errmsg(s), "%s", idx[i]);
                    failures++;
                }
            }
        cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
        compat_exec(s, "BEGIN");
        int nops = batch == 0 ? 600 : 150;
        for (int op = 0; op < nops; op++) {
            folio_value v[NCOLS];
            char bufs[NCOLS][32];
            for (int c = 1; c < NCOLS; c++)
                random_value(rng, c, &v[c], bufs[c], sizeof bufs[c]);
            uint64_t kind = batch == 0 || nkeys == 0 ? 0 : compat_below(rng, 3);
            int64_t old = nkeys ? keys[compat_below(rng, (uint64_t)nkeys)] : 0;
            memset(&v[0], 0, sizeof v[0]);
            v[0].type = FOLIO_INTEGER;
            v[0].u.i =
                kind == 1 && compat_below(rng, 2) ? old : 1 + (int64_t)compat_below(rng, 5000);
            folio_value key = {.type = FOLIO_INTEGER, .u.i = old};
            int frc, src;
            if (kind == 0) {
                for (int c = 0; c < NCOLS; c++)
                    bind_value(ins, c + 1, &v[c]);
                src = sqlite3_step(ins) & 0xff;
                sqlite3_reset(ins);
                frc = folio_insert(NULL, t, v, NCOLS);
            } else if (kind == 1) {
                for (int c = 0; c < NCOLS; c++)
                    bind_value(upd, c + 1, &v[c]);
                sqlite3_bind_int64(upd, 6, old);
                src = sqlite3_step(upd) & 0xff;
                sqlite3_reset(upd);
                frc = without_rowid ? folio_update_key(t, &key, 1, v, NCOLS)
                                    : folio_update(t, old, v, NCOLS);
            } else {
                sqlite3_bind_int64(del, 1, old);
                src = sqlite3_step(del) & 0xff;
                sqlite3_reset(del);
                frc = without_rowid ? folio_delete_key(t, &key, 1) : folio_delete(t, old);
            }
            const char *smsg = sqlite3_errmsg(s);
            cr_assert_eq(frc == FOLIO_OK, src == SQLITE_DONE,
                         "%s; %s...: op %d on %lld: folio %d (%s), sqlite %d (%s)", ddl, idx[0],
                         (int)kind, (long long)v[0].u.i, frc, folio_errmsg(db), src, smsg);
            if (src != SQLITE_DONE) {
                cr_assert_eq(frc, src == SQLITE_CONSTRAINT ? FOLIO_CONSTRAINT : FOLIO_ERROR,
                             "folio %d %s, sqlite %d %s", frc, folio_errmsg(db), src, smsg);
                cr_assert_str_eq(folio_errmsg(db), smsg, "%s", ddl);
                failures++;
                continue;
            }
            if (kind == 0 && nkeys < 2000)
                keys[nkeys++] = v[0].u.i;
            for (int i = 0; i < nkeys && kind; i++)
                if (keys[i] == old) {
                    if (kind == 1)
                        keys[i] = v[0].u.i;
                    else
                        keys[i] = keys[--nkeys];
                    break;
                }
        }
        compat_exec(s, "COMMIT");
        cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s", folio_errmsg(db));
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(upd);
    sqlite3_finalize(del);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    char *integ = compat_integrity(fpath);
    cr_assert_str_eq(integ, "ok", "%s; %s; %s", ddl, idx[0], nidx > 1 ? idx[1] : "");
    free(integ);
    sqlite3 *f = compat_sqlite_open_ro(fpath);
    char *a = dump(f, nidx), *b = dump(s, nidx);
    cr_assert_str_eq(a, b, "%s; %s: folio's rows or index entries differ", ddl, idx[0]);
    free(a);
    free(b);
    compat_sqlite_close(f);
    compat_sqlite_close(s);
    cr_log_info("%s: %d indexes, %d rows, %d refused", ddl, nidx, nkeys, failures);
    free(fpath);
    free(spath);
}

Test(compat_index_expr, random_tables_indexes_and_writes, .timeout = 300)
{
    uint64_t rng = compat_seed(20261207);
    char *dir = compat_tmpdir();
    for (int round = 0; round < 24; round++)
        run(&rng, round, dir);
    compat_rmtree(dir);
    free(dir);
}

/* CREATE INDEX through folio refuses what SQLite refuses, with its message. */
Test(compat_index_expr, refused_like_sqlite)
{
    static const char *const bad[] = {
        "CREATE INDEX r ON t(random())",
        "CREATE INDEX r ON t(a) WHERE nosuch > 1",
        "CREATE INDEX r ON t(abs(a, b))",
        "CREATE INDEX r ON t(a) WHERE date('now') > a",
    };
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "r.db");
    compat_run(path, "CREATE TABLE t(a, b)");
    sqlite3 *s;
    cr_assert_eq(sqlite3_open(":memory:", &s), SQLITE_OK);
    compat_exec(s, "CREATE TABLE t(a, b)");
    folio_db *db;
    folio_options o = FOLIO_OPTIONS_INIT;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int src = sqlite3_exec(s, bad[i], NULL, NULL, NULL);
        folio_txn *txn;
        cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
        int frc = folio_exec(txn, bad[i]);
        cr_assert_eq(frc == FOLIO_OK, src == SQLITE_OK, "%s: folio %d %s, sqlite %s", bad[i], frc,
                     folio_errmsg(db), sqlite3_errmsg(s));
        if (src != SQLITE_OK)
            cr_assert_str_eq(folio_errmsg(db), sqlite3_errmsg(s), "%s", bad[i]);
        folio_rollback(txn);
        sqlite3_exec(s, "DROP INDEX IF EXISTS r", NULL, NULL, NULL);
    }
    cr_assert_eq(folio_close(db), FOLIO_OK);
    sqlite3_close(s);
    compat_rmtree(dir);
    free(path);
    free(dir);
}
