/*
 * test_index_expr_coll.c - the collating sequence of an index key that is
 * an expression, kept by folio as libsqlite3 keeps it.
 *
 * SQLite orders an index key by the collation of a COLLATE at the top of
 * the key, else by the column's when the key is a column (COLLATE and
 * parentheses looked through), else BINARY: "+c", "lower(c)", "c || ''",
 * "CAST(c AS TEXT)", "+(c COLLATE RTRIM)" or "e || c COLLATE NOCASE" are
 * BINARY keys although c is declared COLLATE NOCASE (PRAGMA index_xinfo
 * says so). Tables (rowid and WITHOUT ROWID) with a NOCASE, an RTRIM and a
 * plain column get, for each key shape, a UNIQUE index (whole or partial),
 * a two-column index with the key DESC and a partial index, made by
 * libsqlite3 before the rows or by folio's CREATE INDEX over rows already
 * there. The same inserts, updates and deletes go to folio and to
 * libsqlite3 (values that differ in case or trailing spaces only): every
 * call has the same outcome (UNIQUE failures with SQLite's message); then
 * libsqlite3's integrity_check passes on folio's file, both files hold the
 * same rows and each index the same entries in the same order, and folio's
 * index cursors walk and seek both files in SQLite's order of the index.
 * seed=N is printed; FOLIO_SEED replays a run.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCOLS 4 /* k, c TEXT COLLATE NOCASE, d TEXT COLLATE RTRIM, e TEXT */

/* Key shapes; the comment says the collation SQLite gives the key. */
static const char *const shapes[] = {
    "+c",                             /* BINARY */
    "(c)",                            /* the column c: NOCASE */
    "((c))",                          /* NOCASE */
    "lower(c)",                       /* BINARY */
    "c || ''",                        /* BINARY */
    "CAST(c AS TEXT)",                /* BINARY */
    "substr(c, 1)",                   /* BINARY */
    "likely(c)",                      /* BINARY (an expression for an index) */
    "coalesce(c, e)",                 /* BINARY */
    "CASE WHEN k > 0 THEN c END",     /* BINARY */
    "+d",                             /* BINARY (d is RTRIM) */
    "d || ''",                        /* BINARY */
    "(c COLLATE RTRIM)",              /* the column c: RTRIM */
    "+c COLLATE RTRIM",               /* RTRIM */
    "+(c COLLATE RTRIM)",             /* BINARY: the COLLATE is not the top */
    "(c COLLATE BINARY) || ''",       /* BINARY */
    "e || c COLLATE NOCASE",          /* BINARY: || binds looser than COLLATE */
    "e COLLATE NOCASE || ''",         /* BINARY */
    "(e || c) COLLATE NOCASE",        /* NOCASE */
    "+e COLLATE NOCASE",              /* NOCASE */
    "c COLLATE RTRIM COLLATE NOCASE", /* the column c: NOCASE */
};
#define NSHAPES ((int)(sizeof shapes / sizeof shapes[0]))

#define NIDX 3
static const char *const index_names[NIDX] = {"iu", "ip", "iq"};
/* How each index is read whole with libsqlite3 (the WHERE a partial index
 * needs to be usable). */
static const char *const index_where[2][NIDX] = {
    {"1", "1", "e IS NOT NULL"},
    {"k % 2 = 0", "1", "e IS NOT NULL"},
};

static void random_value(uint64_t *rng, folio_value *v)
{
    static const char *texts[] = {"a", "A", "a ", "A ", "b", "B", "b ", "ab", "aB", "Ab", "x"};
    memset(v, 0, sizeof *v);
    if (compat_below(rng, 8) == 0) {
        v->type = FOLIO_NULL;
        return;
    }
    const char *s = texts[compat_below(rng, sizeof texts / sizeof texts[0])];
    v->type = FOLIO_TEXT;
    v->u.s.p = s;
    v->u.s.n = strlen(s);
}

static void bind_value(sqlite3_stmt *st, int param, const folio_value *v)
{
    if (v->type == FOLIO_NULL)
        sqlite3_bind_null(st, param);
    else if (v->type == FOLIO_INTEGER)
        sqlite3_bind_int64(st, param, v->u.i);
    else
        sqlite3_bind_text(st, param, (const char *)v->u.s.p, (int)v->u.s.n, SQLITE_STATIC);
}

/* The table's rows, then every index's entries in index order. */
static char *dump(sqlite3 *db, int partial)
{
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    cr_assert(out);
    out[0] = 0;
    char sql[256];
    for (int i = -1; i < NIDX; i++) {
        if (i < 0)
            snprintf(sql, sizeof sql,
                     "SELECT quote(k), quote(c), quote(d), quote(e) FROM t "
                     "ORDER BY k");
        else
            snprintf(sql, sizeof sql, "SELECT k FROM t INDEXED BY %s WHERE %s", index_names[i],
                     index_where[partial][i]);
        sqlite3_stmt *st = compat_prepare(db, sql);
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

/* The collation libsqlite3 gives the first key of index `name` of `path`. */
static char *xinfo_coll(sqlite3 *db, const char *name)
{
    return compat_query_text(db, "SELECT coll FROM pragma_index_xinfo('%s') WHERE seqno = 0", name);
}

static void run(uint64_t *rng, int shape, int variant, const char *dir)
{
    int without_rowid = variant & 1, partial = (variant >> 1) & 1;
    int folio_creates = (shape + variant) % 2; /* folio's CREATE INDEX after the first rows */
    const char *key = shapes[shape];
    char ddl[256];
    snprintf(ddl, sizeof ddl,
             "CREATE TABLE t(k INTEGER %s, c TEXT COLLATE NOCASE, d TEXT COLLATE RTRIM, e TEXT)%s",
             without_rowid ? "NOT NULL PRIMARY KEY" : "PRIMARY KEY",
             without_rowid ? " WITHOUT ROWID" : "");
    char idx[NIDX][256];
    snprintf(idx[0], sizeof idx[0], "CREATE UNIQUE INDEX iu ON t(%s)%s", key,
             partial ? " WHERE k % 2 = 0" : "");
    snprintf(idx[1], sizeof idx[1], "CREATE INDEX ip ON t(%s DESC, e)", key);
    snprintf(idx[2], sizeof idx[2], "CREATE INDEX iq ON t(%s) WHERE e IS NOT NULL", key);
    char what[512];
    snprintf(what, sizeof what, "%s; %s%s", ddl, idx[0], folio_creates ? " (by folio)" : "");

    char fname[32], sname[32];
    snprintf(fname, sizeof fname, "f%d_%d.db", shape, variant);
    snprintf(sname, sizeof sname, "s%d_%d.db", shape, variant);
    char *fpath = compat_path(dir, fname), *spath = compat_path(dir, sname);
    compat_run(fpath, ddl);
    sqlite3 *s = compat_sqlite_open(spath);
    compat_exec(s, ddl);
    if (!folio_creates) {
        sqlite3 *f0 = compat_sqlite_open(fpath);
        for (int i = 0; i < NIDX; i++) {
            compat_exec(f0, idx[i]);
            compat_exec(s, idx[i]);
        }
        compat_sqlite_close(f0);
    }
    folio_db *db;
    folio_options o = FOLIO_OPTIONS_INIT;
    cr_assert_eq(folio_open(&db, fpath, &o), FOLIO_OK, "%s", folio_open_errmsg());
    sqlite3_stmt *ins = compat_prepare(s, "INSERT INTO t VALUES(?1, ?2, ?3, ?4)");
    sqlite3_stmt *upd = compat_prepare(s, "UPDATE t SET c = ?2, d = ?3, e = ?4 WHERE k = ?1");
    sqlite3_stmt *del = compat_prepare(s, "DELETE FROM t WHERE k = ?1");
    int failures = 0;
    for (int batch = 0; batch < 2; batch++) {
        folio_txn *txn;
        folio_table *t;
        cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
        if (batch == 1 && folio_creates)
            for (int i = 0; i < NIDX; i++) {
                /* (a UNIQUE index may fail over the rows there: then in both) */
                int src = sqlite3_exec(s, idx[i], NULL, NULL, NULL);
                int frc = folio_exec(txn, idx[i]);
                cr_assert_eq(frc == FOLIO_OK, src == SQLITE_OK, "%s: %s: folio %d %s, sqlite %s",
                             what, idx[i], frc, folio_errmsg(db), sqlite3_errmsg(s));
                if (src != SQLITE_OK) {
                    cr_assert_str_eq(folio_errmsg(db), sqlite3_errmsg(s), "%s: %s", what, idx[i]);
                    /* The index must exist for what follows: made empty of
                     * the rows that break it. */
                    cr_assert_fail("%s: %s failed in both engines (%s); the rows were to allow it",
                                   what, idx[i], sqlite3_errmsg(s));
                }
            }
        cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
        compat_exec(s, "BEGIN");
        for (int op = 0; op < 30; op++) {
            folio_value v[NCOLS];
            char bufs[NCOLS][16];
            uint64_t kind = batch == 0 ? 0 : compat_below(rng, 4);
            memset(&v[0], 0, sizeof v[0]);
            v[0].type = FOLIO_INTEGER;
            v[0].u.i = 1 + (int64_t)compat_below(rng, 60);
            for (int c = 1; c < NCOLS; c++) {
                random_value(rng, &v[c]);
                /* Before folio makes the indexes, the rows have keys that
                 * differ under every collation (so that a UNIQUE index can
                 * be made), in either case and with or without a trailing
                 * space: their order still depends on the collation. */
                if (batch == 0 && folio_creates) {
                    uint64_t r = compat_below(rng, 4);
                    snprintf(bufs[c], sizeof bufs[c], "%c%lld%s", (r & 1 ? 'A' : 'a') + (c - 1) * 2,
                             (long long)v[0].u.i, r & 2 ? " " : "");
                    v[c].type = FOLIO_TEXT;
                    v[c].u.s.p = bufs[c];
                    v[c].u.s.n = strlen(bufs[c]);
                }
            }
            folio_value kv = v[0];
            int frc, src;
            if (kind <= 1) {
                for (int c = 0; c < NCOLS; c++)
                    bind_value(ins, c + 1, &v[c]);
                src = sqlite3_step(ins) & 0xff;
                sqlite3_reset(ins);
                frc = folio_insert(NULL, t, v, NCOLS);
            } else if (kind == 2) {
                for (int c = 0; c < NCOLS; c++)
                    bind_value(upd, c + 1, &v[c]);
                src = sqlite3_step(upd) & 0xff;
                sqlite3_reset(upd);
                if (sqlite3_changes(s) == 0 && src == SQLITE_DONE)
                    continue; /* (no such row) */
                frc = without_rowid ? folio_update_key(t, &kv, 1, v, NCOLS)
                                    : folio_update(t, v[0].u.i, v, NCOLS);
            } else {
                sqlite3_bind_int64(del, 1, v[0].u.i);
                src = sqlite3_step(del) & 0xff;
                sqlite3_reset(del);
                if (sqlite3_changes(s) == 0)
                    continue;
                frc = without_rowid ? folio_delete_key(t, &kv, 1) : folio_delete(t, v[0].u.i);
            }
            const char *smsg = sqlite3_errmsg(s);
            cr_assert_eq(frc == FOLIO_OK, src == SQLITE_DONE,
                         "%s: op %d on k=%lld c=%.*s: folio %d (%s), sqlite %d (%s)", what,
                         (int)kind, (long long)v[0].u.i,
                         v[1].type == FOLIO_TEXT ? (int)v[1].u.s.n : 4,
                         v[1].type == FOLIO_TEXT ? (const char *)v[1].u.s.p : "NULL", frc,
                         folio_errmsg(db), src, smsg);
            if (src != SQLITE_DONE) {
                cr_assert_eq(frc, src == SQLITE_CONSTRAINT ? FOLIO_CONSTRAINT : FOLIO_ERROR,
                             "%s: folio %d %s, sqlite %d %s", what, frc, folio_errmsg(db), src,
                             smsg);
                cr_assert_str_eq(folio_errmsg(db), smsg, "%s", what);
                failures++;
            }
        }
        compat_exec(s, "COMMIT");
        cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s: %s", what, folio_errmsg(db));
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(upd);
    sqlite3_finalize(del);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_sqlite_close(s);

    char *integ = compat_integrity(fpath);
    cr_assert_str_eq(integ, "ok", "%s", what);
    free(integ);
    sqlite3 *f = compat_sqlite_open_ro(fpath);
    s = compat_sqlite_open_ro(spath);
    for (int i = 0; i < NIDX; i++) {
        char *a = xinfo_coll(f, index_names[i]), *b = xinfo_coll(s, index_names[i]);
        cr_assert_str_eq(a, b, "%s: index %s", what, index_names[i]);
        free(a);
        free(b);
    }
    char *a = dump(f, partial), *b = dump(s, partial);
    cr_assert_str_eq(a, b, "%s: folio's rows or index entries differ", what);
    free(a);
    free(b);
    compat_sqlite_close(f);
    compat_sqlite_close(s);
    /* folio's cursors on each index, on folio's file and on SQLite's. */
    for (int i = 0; i < NIDX; i++) {
        compare_index_modes(fpath, "t", index_names[i], COMPAT_RO, 20);
        compare_index_modes(spath, "t", index_names[i], COMPAT_RO, 20);
    }
    compare_check(fpath);
    compare_check(spath);
    free(fpath);
    free(spath);
    (void)failures;
}

Test(compat_index_expr_coll, keys_of_every_shape, .timeout = 300)
{
    uint64_t rng = compat_seed(20270115);
    char *dir = compat_tmpdir();
    for (int shape = 0; shape < NSHAPES; shape++)
        for (int variant = 0; variant < 4; variant++)
            run(&rng, shape, variant, dir);
    compat_rmtree(dir);
    free(dir);
}

/* The first case of the report: 'A' after 'a' under UNIQUE(+c), c NOCASE. */
Test(compat_index_expr_coll, unique_plus_nocase_column)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "u.db");
    compat_run(path, "CREATE TABLE t(c TEXT COLLATE NOCASE); CREATE UNIQUE INDEX i ON t(+c);");
    sqlite3 *s;
    cr_assert_eq(sqlite3_open(":memory:", &s), SQLITE_OK);
    compat_exec(s, "CREATE TABLE t(c TEXT COLLATE NOCASE); CREATE UNIQUE INDEX i ON t(+c);");
    folio_db *db;
    folio_options o = FOLIO_OPTIONS_INIT;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK);
    folio_txn *txn;
    folio_table *t;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    static const char *const vals[] = {"a", "A", "b", "a", "B"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        folio_value v = {.type = FOLIO_TEXT};
        v.u.s.p = vals[i];
        v.u.s.n = strlen(vals[i]);
        char sql[64];
        snprintf(sql, sizeof sql, "INSERT INTO t VALUES('%s')", vals[i]);
        int src = sqlite3_exec(s, sql, NULL, NULL, NULL);
        int frc = folio_insert(NULL, t, &v, 1);
        cr_assert_eq(frc == FOLIO_OK, src == SQLITE_OK, "%s: folio %d (%s), sqlite %d (%s)", sql,
                     frc, folio_errmsg(db), src, sqlite3_errmsg(s));
        if (src != SQLITE_OK)
            cr_assert_str_eq(folio_errmsg(db), sqlite3_errmsg(s), "%s", sql);
    }
    cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    sqlite3_close(s);
    compare_check(path);
    compare_index(path, "t", "i");
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* A COLLATE naming a collating sequence nobody has, below the top of an
 * expression key ("e || c COLLATE nosuch", whose COLLATE binds to c), does
 * not order the key: SQLite makes such an index (its key BINARY) and keeps
 * it; at the top it refuses it ("no such collation sequence"), and folio
 * refuses it too (FOLIO_UNSUPPORTED, an unknown collation). */
Test(compat_index_expr_coll, unknown_collation_below_the_top)
{
    static const char *const ddl = "CREATE TABLE t(k INTEGER PRIMARY KEY, c TEXT COLLATE NOCASE, "
                                   "e TEXT)";
    static const struct {
        const char *sql;
        int ok;
    } idx[] = {
        {"CREATE UNIQUE INDEX i1 ON t(e || c COLLATE nosuch)", 1},
        {"CREATE INDEX i2 ON t(c COLLATE nosuch || '', k)", 1},
        {"CREATE INDEX i3 ON t((e || c) COLLATE nosuch)", 0},
        {"CREATE INDEX i4 ON t(+c COLLATE nosuch)", 0},
    };
    char *dir = compat_tmpdir();
    char *fpath = compat_path(dir, "f.db"), *spath = compat_path(dir, "s.db");
    char *mpath = compat_path(dir, "m.db");
    compat_run(fpath, ddl);
    compat_run(mpath, ddl);
    sqlite3 *s = compat_sqlite_open(spath);
    compat_exec(s, ddl);
    sqlite3 *m = compat_sqlite_open(mpath);
    folio_db *db;
    folio_options o = FOLIO_OPTIONS_INIT;
    cr_assert_eq(folio_open(&db, fpath, &o), FOLIO_OK);
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
        int src = sqlite3_exec(s, idx[i].sql, NULL, NULL, NULL);
        cr_assert_eq(src == SQLITE_OK, idx[i].ok, "%s: sqlite %s", idx[i].sql, sqlite3_errmsg(s));
        int frc = folio_exec(txn, idx[i].sql);
        if (idx[i].ok) {
            cr_assert_eq(frc, FOLIO_OK, "%s: folio %d %s", idx[i].sql, frc, folio_errmsg(db));
            compat_exec(m, idx[i].sql); /* (the same index made by libsqlite3) */
        } else {
            cr_assert_eq(frc, FOLIO_UNSUPPORTED, "%s: folio %d %s", idx[i].sql, frc,
                         folio_errmsg(db));
            cr_assert(strstr(folio_errmsg(db), "nosuch"), "%s", folio_errmsg(db));
        }
    }
    cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_sqlite_close(m);
    /* The same rows through folio into both files (its own indexes,
     * libsqlite3's) and through libsqlite3 into the reference. */
    static const char *const rows[][2] = {{"a", "x"}, {"A", "x"},  {"a", "x"}, {"b", "X"},
                                          {"B", "x"}, {NULL, "x"}, {"B", "x"}};
    const char *paths[2] = {fpath, mpath};
    for (int p = 0; p < 2; p++) {
        compat_exec(s, "DELETE FROM t");
        cr_assert_eq(folio_open(&db, paths[p], &o), FOLIO_OK);
        folio_table *t;
        cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
        cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            folio_value v[3];
            memset(v, 0, sizeof v);
            v[0].type = FOLIO_INTEGER;
            v[0].u.i = (int64_t)r + 1;
            for (int c = 1; c < 3; c++) {
                const char *x = rows[r][c - 1];
                v[c].type = x ? FOLIO_TEXT : FOLIO_NULL;
                v[c].u.s.p = x;
                v[c].u.s.n = x ? strlen(x) : 0;
            }
            sqlite3_stmt *st = compat_prepare(s, "INSERT INTO t VALUES(?1, ?2, ?3)");
            for (int c = 0; c < 3; c++)
                bind_value(st, c + 1, &v[c]);
            int src = sqlite3_step(st);
            sqlite3_finalize(st);
            int frc = folio_insert(NULL, t, v, 3);
            cr_assert_eq(frc == FOLIO_OK, src == SQLITE_DONE, "row %zu: folio %d (%s), sqlite %s",
                         r, frc, folio_errmsg(db), sqlite3_errmsg(s));
            if (src != SQLITE_DONE)
                cr_assert_str_eq(folio_errmsg(db), sqlite3_errmsg(s), "row %zu", r);
        }
        cr_assert_eq(folio_commit(txn), FOLIO_OK, "%s", folio_errmsg(db));
        cr_assert_eq(folio_close(db), FOLIO_OK);
    }
    compat_sqlite_close(s);
    for (int p = 0; p < 2; p++) {
        compare_check(paths[p]);
        compare_index(paths[p], "t", "i1");
        compare_index(paths[p], "t", "i2");
    }
    compat_rmtree(dir);
    free(fpath);
    free(spath);
    free(mpath);
    free(dir);
}
