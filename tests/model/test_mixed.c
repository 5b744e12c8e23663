/*
 * test_mixed.c - one database file written in turns by libsqlite3 and by
 * folio, compared after every turn with a reference file that receives every
 * write as SQL (the expected model).
 *
 * libsqlite3 creates the tables, indexes and first rows, in WAL mode or in
 * rollback-journal mode; folio opens the file and writes more, into
 * libsqlite3's tables and indexes; libsqlite3 writes again (ending its turn
 * in different ways: a clean close that checkpoints and deletes the WAL, a
 * close that leaves the WAL behind, a truncating checkpoint followed by more
 * writes, a switch back to the rollback journal); then folio again. One test
 * keeps folio's handle open the whole time, idle between its transactions,
 * so that folio's next transaction must see what libsqlite3 wrote meanwhile:
 * there, as with any other WAL connection attached, libsqlite3's close is not
 * the last one (the WAL stays) and the file cannot leave WAL mode.
 *
 * After each turn both libraries read everything: every table in rowid or
 * primary-key order, every index walked by folio, PRAGMA integrity_check,
 * folio_check.
 *
 * Environment: FOLIO_SEED, FOLIO_SOAK=1 (more turns), FOLIO_MODEL_STRICT=1
 * (see model_util.h).
 */
#include "compat.h"
#include "model_util.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * LeakSanitizer reads its default suppressions from this hook. While
 * model_repro/append_new_leaf_page_leaks stands, pages leaked through that
 * path are not reported (unless FOLIO_MODEL_STRICT=1), so that the leak
 * checks after every folio_close still catch any other leak.
 */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return "print_suppressions=0";
}
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return mdl_strict() ? "" : "leak:append_new_leaf\n";
}

/* ---- Schema ---------------------------------------------------------------------- */

static const char *const g_schema[] = {
    "CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE UNIQUE, v REAL, b BLOB)",
    "CREATE INDEX p_v ON p(v DESC)",
    "CREATE TABLE q(a, b TEXT, c INTEGER)",
    "CREATE UNIQUE INDEX q_a ON q(a)",
    "CREATE INDEX q_bc ON q(b, c DESC)",
    "CREATE TABLE w(k1 TEXT, k2 INTEGER, v, PRIMARY KEY(k1 DESC, k2)) WITHOUT ROWID",
    "CREATE INDEX w_v ON w(v)",
    NULL,
};

enum { TP, TQ, TW, NTAB };

static const struct {
    const char *name;
    int without_rowid;
    const char *order;
    int ncols;
    const char *cols[4];
    char aff[4];
    int ipk;
} g_tab[NTAB] = {
    {"p", 0, "rowid", 4, {"id", "name", "v", "b"}, {'I', 'T', 'R', 'B'}, 0},
    {"q", 0, "rowid", 3, {"a", "b", "c"}, {'B', 'T', 'I'}, -1},
    {"w", 1, "k1 DESC, k2", 3, {"k1", "k2", "v"}, {'T', 'I', 'B'}, -1},
};

static const struct {
    int table;
    const char *index;
    const char *order;
} g_idx[] = {
    {TP, "sqlite_autoindex_p_1", "name COLLATE NOCASE, rowid"},
    {TP, "p_v", "v DESC, rowid"},
    {TQ, "q_a", "a, rowid"},
    {TQ, "q_bc", "b, c DESC, rowid"},
    {TW, "w_v", "v, k1 DESC, k2"},
};

/* ---- State ------------------------------------------------------------------------ */

#define LOG_N 12

typedef struct mixed {
    const char *test;
    uint64_t seed, rng;
    char *dir, *path, *rpath, *walpath;
    sqlite3 *ref;
    folio_db *fdb; /* open during folio's turns, or all the time */
    folio_txn *ftx;
    int turn;
    char log[LOG_N][400];
    uint64_t nlog;
    uint64_t nops;
} mixed;

static void fail_mixed(mixed *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail_mixed(mixed *x, const char *fmt, ...)
{
    static char msg[12000];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t off = len < 0 ? 0 : ((size_t)len < sizeof msg ? (size_t)len : sizeof msg - 1);
    off += (size_t)snprintf(msg + off, sizeof msg - off,
                            "\n  %s: seed=%" PRIu64 " turn=%d op=%" PRIu64
                            " (reproduce: FOLIO_SEED=%" PRIu64 ")\n  last steps:",
                            x->test, x->seed, x->turn, x->nops, x->seed);
    uint64_t first = x->nlog > LOG_N ? x->nlog - LOG_N : 0;
    for (uint64_t i = first; i < x->nlog && off < sizeof msg; i++)
        off += (size_t)snprintf(msg + off, sizeof msg - off, "\n    %s", x->log[i % LOG_N]);
    fprintf(stderr, "%s: failed; files kept in %s\n", x->test, x->dir);
    cr_assert_fail("%s", msg);
}

static void log_step(mixed *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_step(mixed *x, const char *fmt, ...)
{
    char *slot = x->log[x->nlog++ % LOG_N];
    int n = snprintf(slot, sizeof x->log[0], "turn %d: ", x->turn);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof x->log[0])
        vsnprintf(slot + n, sizeof x->log[0] - (size_t)n, fmt, ap);
    va_end(ap);
}

static void sql_exec(mixed *x, sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        char copy[400];
        snprintf(copy, sizeof copy, "%s", err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        fail_mixed(x, "sqlite: %s\n  in: %s", copy, sql);
    }
}

static sqlite3_stmt *sql_prepare(mixed *x, sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_mixed(x, "sqlite prepare: %s\n  in: %s", sqlite3_errmsg(db), sql);
    return st;
}

static uint64_t rnd(mixed *x, uint64_t n)
{
    return mdl_below(&x->rng, n);
}
static int pct(mixed *x, unsigned p)
{
    return mdl_pct(&x->rng, p);
}

static int64_t ref_count(mixed *x, int t)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", g_tab[t].name);
    sqlite3_stmt *st = sql_prepare(x, x->ref, sql);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return n;
}

/* ---- Operations ----------------------------------------------------------------------- */

enum { OP_INSERT, OP_UPDATE, OP_PATCH, OP_DELETE, OP_UPSERT };

/* One operation with its values: `key` is the rowid (rowid tables) or
 * k1, k2 (w); `vals` the table's columns (p: id, name, v, b). */
typedef struct op {
    int table, kind;
    int64_t rowid;
    mdl_val key[2];
    mdl_val vals[4];
    int nvals;
    int patch_col;
} op;

static void op_free(op *o)
{
    for (int i = 0; i < 2; i++)
        mdl_val_clear(&o->key[i]);
    for (int i = 0; i < 4; i++)
        mdl_val_clear(&o->vals[i]);
}

static void gen_value(mixed *x, int t, int col, mdl_val *v)
{
    char aff = g_tab[t].aff[col];
    if (t == TP && col == 1) {
        mdl_gen_word(v, &x->rng, 40);
        char buf[48];
        snprintf(buf, sizeof buf, "%.*s%u", (int)v->n, (const char *)v->p, (unsigned)rnd(x, 500));
        mdl_val_text(v, buf, strlen(buf));
        if (pct(x, 5))
            mdl_val_clear(v);
    } else if (t == TQ && col == 0) {
        if (pct(x, 20))
            mdl_val_clear(v);
        else
            mdl_val_int(v, (int64_t)rnd(x, 100000));
    } else if (t == TW && col == 0) {
        mdl_gen_word(v, &x->rng, 12);
    } else if (t == TW && col == 1) {
        mdl_val_int(v, (int64_t)rnd(x, 40));
    } else {
        mdl_gen_any(v, &x->rng, 30);
    }
    mdl_avoid_known_bugs(aff, v);
}

/* An existing rowid (or key of w) most of the time, from the reference. */
static void pick_target(mixed *x, op *o, int existing_pct)
{
    int64_t n = ref_count(x, o->table);
    if (n > 0 && pct(x, (unsigned)existing_pct)) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT %s FROM %s LIMIT 1 OFFSET %" PRId64,
                 o->table == TW ? "k1, k2" : "rowid", g_tab[o->table].name,
                 (int64_t)rnd(x, (uint64_t)n));
        sqlite3_stmt *st = sql_prepare(x, x->ref, sql);
        if (sqlite3_step(st) == SQLITE_ROW) {
            if (o->table == TW) {
                mdl_val_from_sqlite(&o->key[0], st, 0);
                mdl_val_from_sqlite(&o->key[1], st, 1);
            } else {
                o->rowid = sqlite3_column_int64(st, 0);
            }
        }
        sqlite3_finalize(st);
        return;
    }
    if (o->table == TW) {
        gen_value(x, TW, 0, &o->key[0]);
        gen_value(x, TW, 1, &o->key[1]);
    } else {
        o->rowid = 1 + (int64_t)rnd(x, (uint64_t)n * 2 + 50);
    }
}

static void gen_op(mixed *x, op *o)
{
    memset(o, 0, sizeof *o);
    o->table = (int)rnd(x, NTAB);
    int n = (int)ref_count(x, o->table);
    int r = (int)rnd(x, 100);
    int ins = n < 150 ? 55 : 30;
    if (r < ins)
        o->kind = OP_INSERT;
    else if (r < ins + 20)
        o->kind = OP_UPDATE;
    else if (r < ins + 30)
        o->kind = o->table == TW ? OP_UPDATE : OP_PATCH;
    else if (r < ins + 38)
        o->kind = OP_UPSERT;
    else
        o->kind = OP_DELETE;
    o->nvals = g_tab[o->table].ncols;
    for (int c = 0; c < o->nvals; c++)
        gen_value(x, o->table, c, &o->vals[c]);
    if (o->table == TP) {
        mdl_val_clear(&o->vals[0]); /* automatic rowid, or the row's own */
        if (o->kind == OP_INSERT && pct(x, 20))
            mdl_val_int(&o->vals[0], 1 + (int64_t)rnd(x, 5000));
    }
    if (o->kind != OP_INSERT)
        pick_target(x, o, 85);
    if (o->kind == OP_UPSERT && o->table == TW) {
        mdl_val_copy(&o->vals[0], &o->key[0]);
        mdl_val_copy(&o->vals[1], &o->key[1]);
    }
    if (o->kind == OP_UPDATE && o->table == TW && pct(x, 60)) {
        mdl_val_copy(&o->vals[0], &o->key[0]);
        mdl_val_copy(&o->vals[1], &o->key[1]);
    }
    o->patch_col = 1 + (int)rnd(x, (uint64_t)o->nvals - 1);
}

static void describe_op(const op *o, char *buf, size_t cap)
{
    static const char *const kinds[] = {"insert", "update", "patch", "delete", "upsert"};
    int off = snprintf(buf, cap, "%s %s", g_tab[o->table].name, kinds[o->kind]);
    if (o->kind != OP_INSERT && o->table != TW)
        off += snprintf(buf + off, cap - (size_t)off, " rowid=%" PRId64, o->rowid);
    for (int i = 0; i < o->nvals && (size_t)off + 1 < cap; i++) {
        char d[64];
        mdl_val_describe(d, sizeof d, &o->vals[i]);
        if (strlen(d) > 40)
            strcpy(d + 37, "...");
        off += snprintf(buf + off, cap - (size_t)off, "%s%s", i ? ", " : " [", d);
    }
    if ((size_t)off + 2 < cap)
        snprintf(buf + off, cap - (size_t)off, "]");
}

static const char *col_name(int t, int c)
{
    return g_tab[t].cols[c];
}

/* Whether the reference has the target row (for upserts). */
static int ref_has_target(mixed *x, const op *o)
{
    sqlite3_stmt *st;
    if (o->table == TW) {
        st = sql_prepare(x, x->ref, "SELECT count(*) FROM w WHERE k1=?1 AND k2=?2");
        mdl_val_bind(st, 1, &o->key[0]);
        mdl_val_bind(st, 2, &o->key[1]);
    } else {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE rowid=?1", g_tab[o->table].name);
        st = sql_prepare(x, x->ref, sql);
        sqlite3_bind_int64(st, 1, o->rowid);
    }
    int has = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
    sqlite3_finalize(st);
    return has;
}

/*
 * The operation as SQL on `db`: returns its class; *out_rowid gets the rowid
 * of an inserted row. Upserts become an UPDATE or an INSERT by whether the
 * reference has the row (decided once by the caller: `exists`).
 */
static int op_sql(mixed *x, sqlite3 *db, const op *o, int exists, int64_t *out_rowid)
{
    char sql[512];
    const char *t = g_tab[o->table].name;
    int kind = o->kind == OP_UPSERT ? (exists ? OP_UPDATE : OP_INSERT) : o->kind;
    int off = 0;
    int ipk_skip = o->table == TP && o->vals[0].type == FOLIO_NULL;
    /* An upsert that inserts: q takes the rowid, p its INTEGER PRIMARY KEY. */
    int with_rowid = o->kind == OP_UPSERT && o->table == TQ && !exists;
    int id_is_rowid = o->kind == OP_UPSERT && o->table == TP && !exists;
    switch (kind) {
    case OP_INSERT:
        off = snprintf(sql, sizeof sql, "INSERT INTO %s(%s", t, with_rowid ? "rowid" : "");
        for (int c = 0; c < o->nvals; c++)
            off += snprintf(sql + off, sizeof sql - (size_t)off, "%s%s",
                            (c || with_rowid) ? ", " : "", col_name(o->table, c));
        off +=
            snprintf(sql + off, sizeof sql - (size_t)off, ") VALUES(%s", with_rowid ? "?10" : "");
        for (int c = 0; c < o->nvals; c++)
            off += snprintf(sql + off, sizeof sql - (size_t)off, "%s?%d",
                            (c || with_rowid) ? ", " : "", c + 1);
        snprintf(sql + off, sizeof sql - (size_t)off, ")");
        break;
    case OP_UPDATE:
        off = snprintf(sql, sizeof sql, "UPDATE %s SET ", t);
        for (int c = 0, first = 1; c < o->nvals; c++) {
            if (c == 0 && ipk_skip)
                continue;
            off += snprintf(sql + off, sizeof sql - (size_t)off, "%s%s=?%d", first ? "" : ", ",
                            col_name(o->table, c), c + 1);
            first = 0;
        }
        snprintf(sql + off, sizeof sql - (size_t)off, "%s",
                 o->table == TW ? " WHERE k1=?11 AND k2=?12" : " WHERE rowid=?10");
        break;
    case OP_PATCH:
        snprintf(sql, sizeof sql, "UPDATE %s SET %s=?%d WHERE rowid=?10", t,
                 col_name(o->table, o->patch_col), o->patch_col + 1);
        break;
    default:
        snprintf(sql, sizeof sql, "DELETE FROM %s %s", t,
                 o->table == TW ? "WHERE k1=?11 AND k2=?12" : "WHERE rowid=?10");
        break;
    }
    sqlite3_stmt *st = sql_prepare(x, db, sql);
    int np = sqlite3_bind_parameter_count(st);
    for (int c = 0; c < o->nvals; c++)
        if (c + 1 <= np && sqlite3_bind_parameter_name(st, c + 1))
            mdl_val_bind(st, c + 1, &o->vals[c]);
    if (id_is_rowid)
        sqlite3_bind_int64(st, 1, o->rowid);
    if (np >= 10 && sqlite3_bind_parameter_name(st, 10)) {
        int64_t id = o->rowid;
        sqlite3_bind_int64(st, 10, id);
    }
    if (np >= 12) {
        mdl_val_bind(st, 11, &o->key[0]);
        mdl_val_bind(st, 12, &o->key[1]);
    }
    int cls = mdl_sqlite_write(db, st, kind != OP_INSERT);
    sqlite3_finalize(st);
    if (out_rowid)
        *out_rowid = sqlite3_last_insert_rowid(db);
    return cls;
}

/* The operation through folio in x->ftx: returns the folio return code. */
static int op_folio(mixed *x, const op *o, int64_t *out_rowid)
{
    folio_table *t = NULL;
    int rc = folio_table_open(&t, x->ftx, g_tab[o->table].name);
    if (rc != FOLIO_OK)
        fail_mixed(x, "folio_table_open(%s): %s", g_tab[o->table].name, folio_errmsg(x->fdb));
    folio_value fv[4], fk[2];
    for (int i = 0; i < o->nvals; i++)
        fv[i] = mdl_val_folio(&o->vals[i]);
    for (int i = 0; i < 2; i++)
        fk[i] = mdl_val_folio(&o->key[i]);
    *out_rowid = 0;
    switch (o->kind) {
    case OP_INSERT:
        return folio_insert(out_rowid, t, fv, o->nvals);
    case OP_UPSERT:
        return folio_upsert(out_rowid, t, o->rowid, fv, o->nvals);
    case OP_UPDATE:
        return o->table == TW ? folio_update_key(t, fk, 2, fv, o->nvals)
                              : folio_update(t, o->rowid, fv, o->nvals);
    case OP_PATCH:
        return folio_patch(t, o->rowid, &o->patch_col, &fv[o->patch_col], 1);
    default:
        return o->table == TW ? folio_delete_key(t, fk, 2) : folio_delete(t, o->rowid);
    }
}

/* An insert into q that cannot fail (a is NULL): a turn always changes the
 * file. */
static void gen_sure_insert(mixed *x, op *o)
{
    memset(o, 0, sizeof *o);
    o->table = TQ;
    o->kind = OP_INSERT;
    o->nvals = 3;
    mdl_val_text(&o->vals[1], "sure", 4);
    mdl_val_int(&o->vals[2], x->turn);
}

/* One random operation by folio (mirrored on the reference). */
static void folio_op(mixed *x, int sure)
{
    op o;
    if (sure)
        gen_sure_insert(x, &o);
    else
        gen_op(x, &o);
    int exists = o.kind == OP_UPSERT ? ref_has_target(x, &o) : 0;
    int64_t frowid = 0, srowid = 0;
    int frc = op_folio(x, &o, &frowid);
    int scls = op_sql(x, x->ref, &o, exists, &srowid);
    char desc[300];
    describe_op(&o, desc, sizeof desc);
    log_step(x, "folio %s -> %d, sqlite %s", desc, frc, mdl_class_name(scls));
    x->nops++;
    if (mdl_folio_class(frc) != scls || mdl_folio_class(frc) == MDL_OTHER)
        fail_mixed(x, "folio and the reference disagree on %s: folio %d (%s), sqlite %s", desc, frc,
                   frc ? folio_errmsg(x->fdb) : "ok", mdl_class_name(scls));
    if (frc == FOLIO_OK && o.kind == OP_INSERT && o.table != TW && frowid != srowid)
        fail_mixed(x, "%s: folio chose rowid %" PRId64 ", sqlite %" PRId64, desc, frowid, srowid);
    op_free(&o);
}

/* One random operation by libsqlite3 on the shared file (and the reference). */
static void sqlite_op(mixed *x, sqlite3 *db, int sure)
{
    op o;
    if (sure)
        gen_sure_insert(x, &o);
    else
        gen_op(x, &o);
    int exists = o.kind == OP_UPSERT ? ref_has_target(x, &o) : 0;
    int64_t r1 = 0, r2 = 0;
    int c1 = op_sql(x, db, &o, exists, &r1);
    int c2 = op_sql(x, x->ref, &o, exists, &r2);
    char desc[300];
    describe_op(&o, desc, sizeof desc);
    log_step(x, "sqlite %s -> %s / reference %s", desc, mdl_class_name(c1), mdl_class_name(c2));
    x->nops++;
    if (c1 != c2 || c1 == MDL_OTHER)
        fail_mixed(x,
                   "libsqlite3 on the shared file and on the reference disagree on %s: %s (%s) "
                   "vs %s",
                   desc, mdl_class_name(c1), sqlite3_errmsg(db), mdl_class_name(c2));
    if (c1 == MDL_OK && o.table != TW &&
        (o.kind == OP_INSERT || (o.kind == OP_UPSERT && !exists)) && r1 != r2)
        fail_mixed(x, "%s: rowid %" PRId64 " on the shared file, %" PRId64 " on the reference",
                   desc, r1, r2);
    op_free(&o);
}

/* ---- Verification ----------------------------------------------------------------------- */

static void verify_folio_handle(mixed *x, folio_db *db, const char *how)
{
    char why[MDL_WHY] = "";
    folio_txn *rt = NULL;
    int rc = folio_begin(&rt, db, FOLIO_TXN_READ);
    if (rc != FOLIO_OK)
        fail_mixed(x, "%s: folio_begin(READ): %d %s", how, rc, folio_errmsg(db));
    for (int t = 0; t < NTAB; t++) {
        if (mdl_cmp_folio_table(x->ref, db, rt, g_tab[t].name, g_tab[t].without_rowid,
                                g_tab[t].order, NULL, why, sizeof why) < 0) {
            folio_rollback(rt);
            fail_mixed(x, "%s: folio reads the shared file differently from the model:\n  %s", how,
                       why);
        }
    }
    for (size_t i = 0; i < sizeof g_idx / sizeof g_idx[0]; i++) {
        if (mdl_cmp_folio_index(x->ref, db, rt, g_tab[g_idx[i].table].name, g_idx[i].index,
                                g_tab[g_idx[i].table].without_rowid, g_idx[i].order, why,
                                sizeof why) < 0) {
            folio_rollback(rt);
            fail_mixed(x, "%s: an index walked by folio differs from the model:\n  %s", how, why);
        }
    }
    if (mdl_folio_check(db, rt, why, sizeof why) < 0) {
        folio_rollback(rt);
        fail_mixed(x, "%s: folio_check:%s", how, why);
    }
    folio_commit(rt);
}

/* Both libraries read everything; `x->fdb` (if open) is idle. */
static void verify(mixed *x, const char *how)
{
    char why[MDL_WHY] = "";
    if (x->fdb) {
        verify_folio_handle(x, x->fdb, how);
    } else {
        folio_options o = FOLIO_OPTIONS_INIT;
        o.flags = FOLIO_OPEN_READONLY;
        o.mmap_bytes = compat_mmap_option();
        folio_db *db = NULL;
        int rc = folio_open(&db, x->path, &o);
        if (rc != FOLIO_OK)
            fail_mixed(x, "%s: folio_open(read-only): %d %s", how, rc, folio_open_errmsg());
        verify_folio_handle(x, db, how);
        folio_close(db);
    }
    sqlite3 *db = mdl_sqlite_open_ro(x->path, why, sizeof why);
    if (!db)
        fail_mixed(x, "%s: %s", how, why);
    for (int t = 0; t < NTAB; t++) {
        if (mdl_cmp_sqlite_table(x->ref, db, g_tab[t].name, g_tab[t].without_rowid, g_tab[t].order,
                                 why, sizeof why) < 0) {
            sqlite3_close(db);
            fail_mixed(x, "%s: libsqlite3 reads the shared file differently from the model:\n  %s",
                       how, why);
        }
    }
    if (mdl_cmp_query(x->ref, db,
                      "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name", why,
                      sizeof why) < 0) {
        sqlite3_close(db);
        fail_mixed(x, "%s: the schema differs:\n  %s", how, why);
    }
    sqlite3_close(db);
    if (mdl_sqlite_integrity(x->path, why, sizeof why) < 0)
        fail_mixed(x, "%s: PRAGMA integrity_check on the shared file:%s", how, why);
    log_step(x, "verified (%s)", how);
}

/* ---- Turns ------------------------------------------------------------------------------ */

/* How libsqlite3 ends its turn. */
enum {
    END_CLOSE,         /* close: checkpoint and delete the WAL */
    END_KEEP_WAL,      /* close without checkpoint: the WAL stays */
    END_TRUNCATE_KEEP, /* wal_checkpoint(TRUNCATE), more writes, close keeping the WAL */
    END_ROLLBACK_MODE, /* switch to journal_mode=DELETE, more writes, close */
    N_ENDS
};

static const char *const g_end_names[] = {"close", "keep-wal", "truncate+keep-wal",
                                          "rollback-journal"};

static void sqlite_txn(mixed *x, sqlite3 *db, int nops, int commit)
{
    sql_exec(x, db, "BEGIN");
    sql_exec(x, x->ref, "BEGIN");
    for (int i = 0; i < nops; i++)
        sqlite_op(x, db, commit && i == nops - 1);
    sql_exec(x, db, commit ? "COMMIT" : "ROLLBACK");
    sql_exec(x, x->ref, commit ? "COMMIT" : "ROLLBACK");
    log_step(x, "sqlite %s", commit ? "COMMIT" : "ROLLBACK");
}

static void set_journal(mixed *x, sqlite3 *db, int wal)
{
    sqlite3_stmt *st =
        sql_prepare(x, db, wal ? "PRAGMA journal_mode=WAL" : "PRAGMA journal_mode=DELETE");
    const char *want = wal ? "wal" : "delete";
    if (sqlite3_step(st) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(st, 0), want) != 0)
        fail_mixed(x, "libsqlite3 could not switch the shared file to journal_mode=%s (%s)", want,
                   sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (wal)
        sql_exec(x, db, "PRAGMA wal_autocheckpoint=0");
}

/* libsqlite3's turn on the shared file: a few transactions, then `end`. */
static void sqlite_turn(mixed *x, int wal, int end)
{
    sqlite3 *db = compat_sqlite_open(x->path);
    /* folio's handle may be open with its background checkpoint running. */
    sqlite3_busy_timeout(db, 20000);
    set_journal(x, db, wal);
    int ntx = 1 + (int)rnd(x, 3);
    for (int i = 0; i < ntx; i++)
        sqlite_txn(x, db, 1 + (int)rnd(x, 40), i == ntx - 1 || pct(x, 75));
    if (end == END_TRUNCATE_KEEP && wal) {
        sql_exec(x, db, "PRAGMA wal_checkpoint(TRUNCATE)");
        sqlite_txn(x, db, 1 + (int)rnd(x, 20), 1);
    }
    if (end == END_ROLLBACK_MODE) {
        set_journal(x, db, 0);
        sqlite_txn(x, db, 1 + (int)rnd(x, 20), 1);
    }
    if (end == END_KEEP_WAL || end == END_TRUNCATE_KEEP)
        compat_sqlite_close_keep_wal(db);
    else
        compat_sqlite_close(db);
    log_step(x, "sqlite turn ends: %s (%s mode)", g_end_names[end], wal ? "WAL" : "rollback");
}

static void folio_txn_run(mixed *x, int nops, int commit)
{
    int rc = folio_begin(&x->ftx, x->fdb, FOLIO_TXN_WRITE);
    if (rc != FOLIO_OK)
        fail_mixed(x, "folio_begin(WRITE): %d %s", rc, folio_errmsg(x->fdb));
    sql_exec(x, x->ref, "BEGIN");
    for (int i = 0; i < nops; i++)
        folio_op(x, commit && i == nops - 1);
    rc = commit ? folio_commit(x->ftx) : folio_rollback(x->ftx);
    x->ftx = NULL;
    if (rc != FOLIO_OK)
        fail_mixed(x, "folio_%s: %d %s", commit ? "commit" : "rollback", rc, folio_errmsg(x->fdb));
    sql_exec(x, x->ref, commit ? "COMMIT" : "ROLLBACK");
    log_step(x, "folio %s", commit ? "COMMIT" : "ROLLBACK");
}

static void folio_open_shared(mixed *x)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = 0; /* the file exists: never create */
    o.sync = FOLIO_SYNC_OFF;
    /* Automatic checkpoints run on the background thread. */
    o.wal_autocheckpoint = 50;
    o.mmap_bytes = compat_mmap_option(); /* FOLIO_TEST_MMAP: readers read through a map */
    int rc = folio_open(&x->fdb, x->path, &o);
    if (rc != FOLIO_OK)
        fail_mixed(x, "folio_open(%s): %d %s", x->path, rc, folio_open_errmsg());
    log_step(x, "folio_open");
}

static void folio_close_shared(mixed *x)
{
    int rc = folio_close(x->fdb);
    x->fdb = NULL;
    log_step(x, "folio_close -> %d", rc);
    if (rc != FOLIO_OK)
        fail_mixed(x, "folio_close: %d", rc);
    if (compat_file_size(x->walpath) >= 0)
        fail_mixed(x, "folio_close left the WAL behind (%" PRId64 " bytes)",
                   compat_file_size(x->walpath));
    if (mdl_leak_check())
        fail_mixed(x, "memory leaked (LeakSanitizer report above) by folio_close or before");
}

/* folio's turn: a few transactions, the last one committed, others perhaps
 * rolled back. */
static void folio_turn(mixed *x)
{
    int ntx = 1 + (int)rnd(x, 3);
    for (int i = 0; i < ntx; i++)
        folio_txn_run(x, 1 + (int)rnd(x, 40), i == ntx - 1 || pct(x, 75));
}

/* The header's file format bytes: 1 legacy (rollback journal), 2 WAL. */
static void expect_format(mixed *x, int want, const char *when)
{
    size_t n = 0;
    uint8_t *h = compat_read_file(x->path, &n);
    if (n < 100 || h[18] != want || h[19] != want) {
        int a = n >= 100 ? h[18] : -1, b = n >= 100 ? h[19] : -1;
        free(h);
        fail_mixed(x, "%s: header bytes 18/19 are %d/%d, expected %d/%d (%s)", when, a, b, want,
                   want, want == 2 ? "WAL" : "rollback journal");
    }
    free(h);
}

static void mixed_start(mixed *x, const char *test, uint64_t seed, int page_size, int wal)
{
    memset(x, 0, sizeof *x);
    x->test = test;
    x->seed = compat_seed(seed);
    x->rng = x->seed;
    x->dir = compat_tmpdir();
    x->path = compat_path(x->dir, "shared.db");
    x->rpath = compat_path(x->dir, "ref.db");
    x->walpath = compat_suffix(x->path, "-wal");
    x->ref = compat_sqlite_open(x->rpath);
    sql_exec(x, x->ref, "PRAGMA synchronous=OFF");
    sqlite3 *db = compat_sqlite_open(x->path);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA page_size=%d", page_size);
    sql_exec(x, db, sql);
    set_journal(x, db, wal);
    for (int i = 0; g_schema[i]; i++) {
        sql_exec(x, db, g_schema[i]);
        sql_exec(x, x->ref, g_schema[i]);
    }
    sqlite_txn(x, db, 150, 1);
    compat_sqlite_close(db);
    log_step(x, "libsqlite3 created the file (page size %d, %s)", page_size,
             wal ? "WAL" : "rollback journal");
    verify(x, "after libsqlite3 created the file");
}

static void mixed_finish(mixed *x)
{
    if (x->fdb)
        folio_close_shared(x);
    verify(x, "at the end");
    compat_sqlite_close(x->ref);
    compat_rmtree(x->dir);
    free(x->dir);
    free(x->path);
    free(x->rpath);
    free(x->walpath);
}

static int turns(int n)
{
    return mdl_soak() ? 10 * n : n;
}

/* ---- Tests ------------------------------------------------------------------------------------
 */

/* libsqlite3 in WAL mode, folio opening and closing the file for each turn. */
Test(model_mixed, alternate_wal, .timeout = 600)
{
    mixed x;
    mixed_start(&x, "model_mixed/alternate_wal", 0x3a11, 1024, 1);
    int n = turns(8);
    for (x.turn = 1; x.turn <= n; x.turn++) {
        folio_open_shared(&x);
        folio_turn(&x);
        folio_close_shared(&x);
        expect_format(&x, 2, "after folio's turn");
        verify(&x, "after folio's turn");
        /* Every way of ending libsqlite3's turn that leaves WAL mode on. */
        int end = (int)rnd(&x, 3);
        sqlite_turn(&x, 1, end);
        verify(&x, "after libsqlite3's turn");
    }
    mixed_finish(&x);
}

/* libsqlite3 in rollback-journal mode; folio switches the file to WAL. */
Test(model_mixed, alternate_rollback_journal, .timeout = 600)
{
    mixed x;
    mixed_start(&x, "model_mixed/alternate_rollback_journal", 0x3a12, 4096, 0);
    expect_format(&x, 1, "after libsqlite3 created the file");
    int n = turns(6);
    for (x.turn = 1; x.turn <= n; x.turn++) {
        folio_open_shared(&x);
        folio_turn(&x);
        folio_close_shared(&x);
        expect_format(&x, 2, "after folio wrote a rollback-journal file");
        verify(&x, "after folio's turn");
        sqlite_turn(&x, 0, END_CLOSE);
        expect_format(&x, 1, "after libsqlite3's turn in rollback-journal mode");
        verify(&x, "after libsqlite3's turn");
    }
    mixed_finish(&x);
}

/*
 * folio's handle stays open, idle between its transactions, while libsqlite3
 * writes the file in every way; folio's next transaction must see it all,
 * read and write on top of it.
 */
Test(model_mixed, folio_handle_kept_open, .timeout = 600)
{
    mixed x;
    mixed_start(&x, "model_mixed/folio_handle_kept_open", 0x3a13, 512, 1);
    folio_open_shared(&x);
    int n = turns(12);
    for (x.turn = 1; x.turn <= n; x.turn++) {
        folio_turn(&x);
        verify(&x, "after folio's transactions (handle open)");
        /* Every end but the switch to the rollback journal, which needs the
         * file alone (SQLite refuses it beside any WAL connection). */
        int end = (int)rnd(&x, END_ROLLBACK_MODE);
        sqlite_turn(&x, 1, end);
        /* A read transaction first, then writes over what libsqlite3 wrote. */
        verify(&x, "folio's next transaction after libsqlite3's turn");
        folio_turn(&x);
        verify(&x, "after folio wrote over libsqlite3's changes");
    }
    mixed_finish(&x);
}

/* libsqlite3 leaves a WAL with committed frames; a fresh folio handle must
 * read through it, write on top of it and fold it in on close. */
Test(model_mixed, leftover_wal, .timeout = 600)
{
    mixed x;
    mixed_start(&x, "model_mixed/leftover_wal", 0x3a14, 2048, 1);
    int n = turns(5);
    for (x.turn = 1; x.turn <= n; x.turn++) {
        sqlite_turn(&x, 1, x.turn % 2 ? END_KEEP_WAL : END_TRUNCATE_KEEP);
        if (compat_file_size(x.walpath) <= 0)
            fail_mixed(&x, "libsqlite3 was to leave a WAL with frames behind");
        verify(&x, "with libsqlite3's WAL left behind");
        folio_open_shared(&x);
        folio_turn(&x);
        folio_close_shared(&x);
        verify(&x, "after folio's turn over the left-over WAL");
    }
    mixed_finish(&x);
}

/* ---- Minimal reproductions ---------------------------------------------------------------- */

/*
 * folio's handle stays open while libsqlite3 rewrites every row of a table
 * that folio filled with sequential inserts, and checkpoints with TRUNCATE
 * (the WAL starts over: folio's cached frame numbers mean nothing now).
 * folio's next read transaction must see libsqlite3's values. Pages that folio keeps pinned after
 * the insert transaction (model_repro/append_new_leaf_page_leaks: a new right-most leaf made when
 * the parent split) survive the cache invalidation, and folio serves their old images: rows with
 * the old value, or in the model, "page N: invalid b-tree page header" / FOLIO_CORRUPT in the
 * middle of an index walk.
 */
Test(model_repro, pinned_page_survives_external_write)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "db");
    folio_options o = FOLIO_OPTIONS_INIT;
    o.page_size = 1024;
    o.wal_autocheckpoint = 0;
    folio_db *db = NULL;
    cr_assert(folio_open(&db, path, &o) == FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *t = NULL;
    folio_table *tb = NULL;
    cr_assert(folio_begin(&t, db, FOLIO_TXN_WRITE) == FOLIO_OK);
    cr_assert(folio_exec(t, "CREATE TABLE t(x)") == FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert(folio_table_open(&tb, t, "t") == FOLIO_OK);
    static char text[100];
    memset(text, 'o', sizeof text);
    for (int i = 0; i < 3000; i++) {
        folio_value v = {FOLIO_TEXT, {.s = {text, sizeof text}}};
        cr_assert(folio_insert(NULL, tb, &v, 1) == FOLIO_OK, "%s", folio_errmsg(db));
    }
    cr_assert(folio_commit(t) == FOLIO_OK, "%s", folio_errmsg(db));

    /* libsqlite3 rewrites every row, copies it all into the file and starts
     * the WAL over. */
    sqlite3 *s = compat_sqlite_open(path);
    compat_exec(s, "UPDATE t SET x = 'new'; PRAGMA wal_checkpoint(TRUNCATE)");
    compat_sqlite_close(s);

    cr_assert(folio_begin(&t, db, FOLIO_TXN_READ) == FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert(folio_table_open(&tb, t, "t") == FOLIO_OK);
    folio_cursor *c = NULL;
    cr_assert(folio_cursor_open(&c, tb, NULL) == FOLIO_OK);
    int n = 0, stale = 0, rc;
    int64_t first_stale = 0;
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
        folio_value v;
        cr_assert(folio_cursor_column(&v, c, 0) == FOLIO_OK, "%s", folio_errmsg(db));
        n++;
        if (!(v.type == FOLIO_TEXT && v.u.s.n == 3 && memcmp(v.u.s.p, "new", 3) == 0)) {
            if (!stale++)
                first_stale = folio_cursor_rowid(c);
        }
    }
    folio_cursor_close(c);
    folio_commit(t);
    cr_expect(rc == FOLIO_DONE, "scan ended with %d: %s", rc, folio_errmsg(db));
    cr_expect(n == 3000 && stale == 0,
              "folio reads %d rows, %d of them with the value from before libsqlite3's update "
              "(first: rowid %" PRId64 ")",
              n, stale, first_stale);
    cr_assert(folio_close(db) == FOLIO_OK);
    compat_rmtree(dir);
    free(path);
    free(dir);
}
