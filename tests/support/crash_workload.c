/*
 * crash_workload.c - the deterministic workload of the crash and fault
 * suite (see crash_workload.h).
 */
#include "crash_workload.h"
#include "crash_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- values ------------------------------------------------------------------- */

static folio_value v_int(int64_t i)
{
    folio_value v;
    v.type = FOLIO_INTEGER;
    v.u.i = i;
    return v;
}

static folio_value v_real(double r)
{
    folio_value v;
    v.type = FOLIO_REAL;
    v.u.r = r;
    return v;
}

static folio_value v_text(const char *s)
{
    folio_value v;
    v.type = FOLIO_TEXT;
    v.u.s.p = s;
    v.u.s.n = strlen(s);
    return v;
}

static folio_value v_blob(const void *p, size_t n)
{
    folio_value v;
    v.type = FOLIO_BLOB;
    v.u.s.p = p;
    v.u.s.n = n;
    return v;
}

/* A deterministic blob: the caller frees it. */
static uint8_t *blob(size_t n, uint64_t seed)
{
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        abort();
    crash_fill(p, n, seed);
    return p;
}

/* Record the failing call and return its code. */
static int failed(wl *w, int rc, const char *what)
{
    w->fail_rc = rc;
    snprintf(w->fail_what, sizeof w->fail_what, "%s", what);
    snprintf(w->fail_msg, sizeof w->fail_msg, "%s",
             w->db                             ? folio_errmsg(w->db)
             : strcmp(what, "folio_open") == 0 ? folio_open_errmsg()
                                               : "(handle closed)");
    return rc;
}

#define CK(call)                                                                                   \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ < 0)                                                                               \
            return failed(w, rc_, #call);                                                          \
    } while (0)

/* ---- t1: rowid table, INTEGER PRIMARY KEY, an index on a text column ---------- */

static int put_t1(wl *w, folio_table *t, int64_t id, const char *prefix, size_t blob_n,
                  uint64_t version, int update)
{
    char a[48];
    snprintf(a, sizeof a, "%s-%05lld", prefix, (long long)id);
    uint8_t *b = blob(blob_n, (uint64_t)id * 1000003u + version);
    folio_value vals[4] = {v_int(id), v_text(a), v_blob(b, blob_n),
                           v_real((double)id * 1.5 + (double)version)};
    int rc = update ? folio_update(t, id, vals, 4) : folio_insert(NULL, t, vals, 4);
    free(b);
    if (rc < 0)
        return failed(w, rc, update ? "folio_update(t1)" : "folio_insert(t1)");
    return 0;
}

/* ---- kv: WITHOUT ROWID, text key, unique index on v ---------------------------- */

static int put_kv(wl *w, folio_table *t, int k, int64_t v, size_t blob_n, int update)
{
    char key[32];
    snprintf(key, sizeof key, "key-%03d", k);
    uint8_t *b = blob(blob_n, (uint64_t)k * 7919u + (uint64_t)v);
    folio_value vals[3] = {v_text(key), v_int(v), v_blob(b, blob_n)};
    int rc;
    if (update) {
        folio_value kval = v_text(key);
        rc = folio_update_key(t, &kval, 1, vals, 3);
    } else {
        rc = folio_insert(NULL, t, vals, 3);
    }
    free(b);
    if (rc < 0)
        return failed(w, rc, update ? "folio_update_key(kv)" : "folio_insert(kv)");
    return 0;
}

/* ---- the units ------------------------------------------------------------------ */

static int u_schema(wl *w, folio_txn *txn)
{
    CK(folio_exec(txn, "CREATE TABLE t1(id INTEGER PRIMARY KEY, a TEXT, b BLOB, c REAL)"));
    CK(folio_exec(txn, "CREATE INDEX t1_a ON t1(a)"));
    CK(folio_exec(txn, "CREATE TABLE kv(k TEXT PRIMARY KEY, v INTEGER NOT NULL, w BLOB) "
                       "WITHOUT ROWID"));
    CK(folio_exec(txn, "CREATE UNIQUE INDEX kv_v ON kv(v)"));
    return 0;
}

static int u_fill_t1(wl *w, folio_txn *txn)
{
    folio_table *t;
    CK(folio_table_open(&t, txn, "t1"));
    for (int i = 1; i <= 40; i++) {
        int rc = put_t1(w, t, i, "name", i % 3 == 0 ? 10000 : 100 + 7 * (size_t)i, 0, 0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int u_fill_kv(wl *w, folio_txn *txn)
{
    folio_table *t;
    CK(folio_table_open(&t, txn, "kv"));
    for (int k = 0; k < 60; k++) {
        int rc = put_kv(w, t, k, k, 300, 0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int u_update_t1(wl *w, folio_txn *txn)
{
    folio_table *t;
    CK(folio_table_open(&t, txn, "t1"));
    for (int i = 1; i <= 20; i++) {
        /* Big rows become small and small ones big. */
        int rc = put_t1(w, t, i, "upd", i % 3 == 0 ? 50 : 10000, 1, 1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int u_delete_t1(wl *w, folio_txn *txn)
{
    folio_table *t;
    CK(folio_table_open(&t, txn, "t1"));
    for (int i = 5; i < 30; i++)
        CK(folio_delete(t, i));
    return 0;
}

static int u_index(wl *w, folio_txn *txn)
{
    CK(folio_exec(txn, "CREATE INDEX t1_ca ON t1(c, a)"));
    CK(folio_exec(txn, "CREATE INDEX kv_w ON kv(w)"));
    return 0;
}

static int u_tmp(wl *w, folio_txn *txn)
{
    CK(folio_exec(txn, "CREATE TABLE tmp(x INTEGER, y BLOB)"));
    folio_table *t;
    CK(folio_table_open(&t, txn, "tmp"));
    for (int i = 0; i < 30; i++) {
        uint8_t *b = blob(3000, 500 + (uint64_t)i);
        folio_value vals[2] = {v_int(i), v_blob(b, 3000)};
        int rc = folio_insert(NULL, t, vals, 2);
        free(b);
        if (rc < 0)
            return failed(w, rc, "folio_insert(tmp)");
    }
    return 0;
}

static int u_drop_tmp(wl *w, folio_txn *txn)
{
    CK(folio_exec(txn, "DROP TABLE tmp"));
    return 0;
}

/* ---- al: a table that ALTER TABLE changes ----------------------------------------- */

static int u_alter_fill(wl *w, folio_txn *txn)
{
    CK(folio_exec(txn, "CREATE TABLE al(x INTEGER PRIMARY KEY, y TEXT, z BLOB, u INTEGER)"));
    CK(folio_exec(txn, "CREATE INDEX al_y ON al(y)"));
    folio_table *t;
    CK(folio_table_open(&t, txn, "al"));
    for (int i = 0; i < 30; i++) {
        char y[16];
        snprintf(y, sizeof y, "y%03d", i);
        uint8_t *b = blob(i % 4 == 0 ? 6000 : 200, 900 + (uint64_t)i);
        folio_value vals[4] = {v_int(i), v_text(y), v_blob(b, i % 4 == 0 ? 6000 : 200), v_int(i)};
        int rc = folio_insert(NULL, t, vals, 4);
        free(b);
        if (rc < 0)
            return failed(w, rc, "folio_insert(al)");
    }
    return 0;
}

/* ADD COLUMN and the renames: sqlite_schema rows only. */
static int u_alter_schema(wl *w, folio_txn *txn)
{
    CK(folio_exec(txn, "ALTER TABLE al ADD COLUMN v TEXT DEFAULT 'dflt'"));
    CK(folio_exec(txn, "ALTER TABLE al RENAME COLUMN y TO yy"));
    CK(folio_exec(txn, "ALTER TABLE al RENAME TO al2"));
    return 0;
}

/* DROP COLUMN: every row rewritten, overflow chains freed. */
static int u_alter_drop(wl *w, folio_txn *txn)
{
    CK(folio_exec(txn, "ALTER TABLE al2 DROP COLUMN z"));
    folio_table *t;
    CK(folio_table_open(&t, txn, "al2"));
    folio_value vals[4] = {v_int(100), v_text("after drop"), v_int(7), v_text("v")};
    CK(folio_insert(NULL, t, vals, 4));
    return 0;
}

static int u_big(wl *w, folio_txn *txn)
{
    folio_table *t, *kv;
    CK(folio_table_open(&t, txn, "t1"));
    CK(folio_table_open(&kv, txn, "kv"));
    for (int i = 1000; i < 1150; i++) {
        int rc = put_t1(w, t, i, "big", 2000, 2, 0);
        if (rc < 0)
            return rc;
    }
    for (int k = 0; k < 40; k++) {
        int rc = put_kv(w, kv, k, 1000 + k, 600, 1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int u_big_abort(wl *w, folio_txn *txn)
{
    folio_table *t;
    CK(folio_table_open(&t, txn, "t1"));
    for (int i = 2000; i < 2100; i++) {
        int rc = put_t1(w, t, i, "gone", 2000, 3, 0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int u_small(wl *w, folio_txn *txn)
{
    int i = w->arg;
    folio_table *t, *kv;
    CK(folio_table_open(&t, txn, "t1"));
    CK(folio_table_open(&kv, txn, "kv"));
    int rc = put_t1(w, t, 3000 + i, "small", 5000, 4, 0);
    if (rc < 0)
        return rc;
    if ((rc = put_kv(w, kv, i, 5000 + i, 100, 1)) < 0)
        return rc;
    /* A duplicate key: refused, and the transaction goes on as before. */
    folio_value dup[3] = {v_text("key-050"), v_int(777777), v_blob("x", 1)};
    rc = folio_insert(NULL, kv, dup, 3);
    if (rc != FOLIO_CONSTRAINT) {
        if (rc >= 0)
            return failed(w, FOLIO_ERROR, "duplicate folio_insert(kv) was accepted");
        return failed(w, rc, "duplicate folio_insert(kv)");
    }
    return 0;
}

static int u_delete_kv(wl *w, folio_txn *txn)
{
    folio_table *t;
    CK(folio_table_open(&t, txn, "kv"));
    for (int k = 20; k < 60; k++) {
        char key[32];
        snprintf(key, sizeof key, "key-%03d", k);
        folio_value kval = v_text(key);
        CK(folio_delete_key(t, &kval, 1));
    }
    return 0;
}

static int u_delete_many(wl *w, folio_txn *txn)
{
    folio_table *t;
    CK(folio_table_open(&t, txn, "t1"));
    for (int i = 1000; i < 1140; i++)
        CK(folio_delete(t, i));
    return 0;
}

static int u_after_reopen(wl *w, folio_txn *txn)
{
    folio_table *t;
    CK(folio_table_open(&t, txn, "t1"));
    for (int i = 4000; i < 4010; i++) {
        int rc = put_t1(w, t, i, "again", i % 2 ? 10000 : 10, 5, 0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Foreign keys (enforced: wl_options): parents, children with pages of
 * payload, grandchildren; then parents deleted, their descendants
 * cascading, and a key change that cascades. */
static int u_fk_fill(wl *w, folio_txn *txn)
{
    CK(folio_exec(txn, "CREATE TABLE fp(id INTEGER PRIMARY KEY, name TEXT UNIQUE)"));
    CK(folio_exec(txn, "CREATE TABLE fc(id INTEGER PRIMARY KEY, pid REFERENCES fp ON DELETE "
                       "CASCADE ON UPDATE CASCADE, pad BLOB)"));
    CK(folio_exec(txn, "CREATE INDEX fc_pid ON fc(pid)"));
    CK(folio_exec(txn, "CREATE TABLE fg(cid REFERENCES fc ON DELETE CASCADE, w)"));
    folio_table *fp, *fc, *fg;
    CK(folio_table_open(&fp, txn, "fp"));
    CK(folio_table_open(&fc, txn, "fc"));
    CK(folio_table_open(&fg, txn, "fg"));
    for (int i = 1; i <= 20; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%02d", i);
        folio_value p[2] = {v_int(i), v_text(name)};
        CK(folio_insert(NULL, fp, p, 2));
        for (int j = 0; j < 5; j++) {
            int64_t cid = i * 100 + j;
            uint8_t *b = blob(2000, (uint64_t)cid);
            folio_value c[3] = {v_int(cid), v_int(i), v_blob(b, 2000)};
            int rc = folio_insert(NULL, fc, c, 3);
            free(b);
            CK(rc);
            folio_value g[2] = {v_int(cid), v_int(j)};
            CK(folio_insert(NULL, fg, g, 2));
        }
    }
    return 0;
}

static int u_fk_cascade(wl *w, folio_txn *txn)
{
    folio_table *fp;
    CK(folio_table_open(&fp, txn, "fp"));
    for (int i = 1; i <= 10; i++)
        CK(folio_delete(fp, i));
    int col = 0;
    folio_value v = v_int(99);
    CK(folio_patch(fp, 15, &col, &v, 1));
    return 0;
}

/* Triggers: audit rows and a counter on insert, a cascade of triggers on
 * update, clean-up with a subquery on delete; all inside each call. */
static int u_trig_fill(wl *w, folio_txn *txn)
{
    CK(folio_exec(txn, "CREATE TABLE tg(id INTEGER PRIMARY KEY, name TEXT, pad BLOB)"));
    CK(folio_exec(txn, "CREATE TABLE tga(id INTEGER PRIMARY KEY, item INT, what TEXT, pad BLOB)"));
    CK(folio_exec(txn, "CREATE TABLE tgc(k TEXT PRIMARY KEY, n INT) WITHOUT ROWID"));
    CK(folio_exec(txn, "CREATE TRIGGER tg_ai AFTER INSERT ON tg BEGIN INSERT INTO tga(item, "
                       "what, pad) VALUES (new.id, 'ins', new.pad); INSERT OR IGNORE INTO tgc "
                       "VALUES ('tg', 0); UPDATE tgc SET n = n + 1 WHERE k = 'tg'; END"));
    CK(folio_exec(txn, "CREATE TRIGGER tg_au AFTER UPDATE ON tg BEGIN INSERT INTO tga(item, "
                       "what) VALUES (new.id, old.name || '->' || new.name); END"));
    CK(folio_exec(txn, "CREATE TRIGGER tga_ai AFTER INSERT ON tga WHEN new.what LIKE '%->%' "
                       "BEGIN UPDATE tgc SET n = n + 1000 WHERE k = 'tg'; END"));
    CK(folio_exec(txn, "CREATE TRIGGER tg_ad AFTER DELETE ON tg BEGIN DELETE FROM tga WHERE "
                       "item = old.id; UPDATE tgc SET n = (SELECT count(*) FROM tg) WHERE k = "
                       "'tg'; END"));
    folio_table *tg;
    CK(folio_table_open(&tg, txn, "tg"));
    for (int i = 1; i <= 16; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%02d", i);
        uint8_t *b = blob(1500, (uint64_t)i * 7);
        folio_value r[3] = {v_int(i), v_text(name), v_blob(b, 1500)};
        int rc = folio_insert(NULL, tg, r, 3);
        free(b);
        CK(rc);
    }
    return 0;
}

static int u_trig_change(wl *w, folio_txn *txn)
{
    folio_table *tg;
    CK(folio_table_open(&tg, txn, "tg"));
    int col = 1;
    for (int i = 1; i <= 5; i++) {
        folio_value v = v_text("renamed");
        CK(folio_patch(tg, i, &col, &v, 1));
    }
    int64_t n;
    CK(folio_delete_where(&n, tg, "id > 12"));
    return 0;
}

/* A concurrent transaction (explicit keys only: automatic rowids come from
 * the handle's counter, which a failed attempt moves on): rows of t1 with
 * overflow, WITHOUT ROWID rows of kv with a UNIQUE index, a delete; its
 * commit replays them on the newest database. */
static int u_conc(wl *w, folio_txn *txn)
{
    folio_table *t, *kv;
    CK(folio_table_open(&t, txn, "t1"));
    CK(folio_table_open(&kv, txn, "kv"));
    for (int i = 0; i < 3; i++) {
        int rc = put_t1(w, t, 6000 + i, "conc", 9000, 2, 0);
        if (rc < 0)
            return rc;
        if ((rc = put_kv(w, kv, 200 + i, 7000 + i, 400, 0)) < 0)
            return rc;
    }
    CK(folio_delete(t, 3001));
    return 0;
}

#define SMALL(n)                                                                                   \
    {                                                                                              \
        WL_TXN, "small " #n, u_small, n                                                            \
    }

static const wl_unit units[] = {
    {WL_TXN, "create tables", u_schema, 0},
    {WL_TXN, "fill t1 (10 KB blobs)", u_fill_t1, 0},
    {WL_TXN, "fill kv (WITHOUT ROWID)", u_fill_kv, 0},
    {WL_TXN, "update t1 (grow and shrink)", u_update_t1, 0},
    {WL_CHECKPOINT, "checkpoint PASSIVE", NULL, FOLIO_CHECKPOINT_PASSIVE},
    {WL_TXN, "delete from t1", u_delete_t1, 0},
    {WL_TXN, "create index over rows", u_index, 0},
    {WL_CHECKPOINT, "checkpoint FULL", NULL, FOLIO_CHECKPOINT_FULL},
    {WL_TXN, "create and fill tmp", u_tmp, 0},
    {WL_TXN, "drop tmp", u_drop_tmp, 0},
    {WL_TXN, "create and fill al", u_alter_fill, 0},
    {WL_TXN, "alter al: add column, renames", u_alter_schema, 0},
    {WL_TXN, "alter al: drop column", u_alter_drop, 0},
    {WL_CHECKPOINT, "checkpoint RESTART", NULL, FOLIO_CHECKPOINT_RESTART},
    {WL_TXN, "big transaction (spills)", u_big, 0},
    {WL_TXN_ABORT, "big transaction rolled back", u_big_abort, 0},
    SMALL(0),
    SMALL(1),
    SMALL(2),
    SMALL(3),
    SMALL(4),
    SMALL(5),
    SMALL(6),
    SMALL(7),
    {WL_CHECKPOINT, "checkpoint TRUNCATE", NULL, FOLIO_CHECKPOINT_TRUNCATE},
    {WL_TXN, "delete from kv", u_delete_kv, 0},
    {WL_TXN, "delete most big rows", u_delete_many, 0},
    {WL_TXN, "foreign keys: fill", u_fk_fill, 0},
    {WL_TXN, "foreign keys: deletes and a key change that cascade", u_fk_cascade, 0},
    {WL_TXN, "triggers: create and fill", u_trig_fill, 0},
    {WL_TXN, "triggers: updates and deletes that fire them", u_trig_change, 0},
    {WL_TXN_CONC, "concurrent: overflow rows, WITHOUT ROWID rows, a delete (replayed)", u_conc, 0},
    {WL_REOPEN, "close and reopen", NULL, 0},
    {WL_TXN, "insert after reopen", u_after_reopen, 0},
    {WL_CLOSE, "close", NULL, 0},
};

const wl_unit *wl_units(int *out_n)
{
    *out_n = (int)(sizeof units / sizeof units[0]);
    return units;
}

const wl_unit *wl_units_of(const wl *w, int *out_n)
{
    if (w->units) {
        *out_n = w->nunits;
        return w->units;
    }
    return wl_units(out_n);
}

folio_options wl_options(int sync)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.sync = sync;
    o.cache_bytes = 64 * 1024;
    o.wal_autocheckpoint = 20;
    /* Crash points are counted I/O operations: every run must make the same
     * ones in the same order, which a background checkpoint would not.
     * test_sigkill kills at random moments with the background thread on. */
    o.flags |= FOLIO_OPEN_INLINE_CHECKPOINT;
    o.foreign_keys = 1; /* (the fk units cascade; other tables have none) */
    return o;
}

void wl_reset(wl *w)
{
    w->db = NULL;
    w->ncommits = w->durable = w->inflight = w->units_done = w->closed = 0;
    w->fail_rc = 0;
    w->fail_what[0] = w->fail_msg[0] = 0;
    w->nstates = 0;
}

long wl_ops(const wl *w)
{
    if (!w->fault)
        return 0;
    return os_fault_count(w->fault, OSF_WRITE) + os_fault_count(w->fault, OSF_SYNC) +
           os_fault_count(w->fault, OSF_TRUNCATE);
}

int wl_open(wl *w)
{
    int rc = folio_open(&w->db, w->path, &w->opts);
    if (rc < 0) {
        w->db = NULL;
        return failed(w, rc, "folio_open");
    }
    return 0;
}

static int record_state(wl *w)
{
    if (!w->record)
        return 0;
    char err[600];
    uint64_t h;
    if (crash_hash_db(w->db, &h, err, sizeof err) < 0) {
        w->fail_rc = FOLIO_ERROR;
        snprintf(w->fail_what, sizeof w->fail_what, "hashing after commit %d", w->ncommits);
        snprintf(w->fail_msg, sizeof w->fail_msg, "%s", err);
        return FOLIO_ERROR;
    }
    w->states[w->ncommits] = h;
    w->nstates = w->ncommits + 1;
    return 0;
}

int wl_unit_run(wl *w, int i)
{
    int n;
    const wl_unit *u = &wl_units_of(w, &n)[i];
    int rc;
    w->inflight = 0;
    switch (u->kind) {
    case WL_TXN:
    case WL_TXN_CONC:
    case WL_TXN_ABORT: {
        folio_txn *txn;
        unsigned fl = u->kind == WL_TXN_CONC ? FOLIO_TXN_CONCURRENT : FOLIO_TXN_WRITE;
        if ((rc = folio_begin(&txn, w->db, fl)) < 0)
            return failed(w, rc, "folio_begin");
        w->arg = u->arg;
        if ((rc = u->body(w, txn)) < 0) {
            folio_rollback(txn);
            return rc;
        }
        if (u->kind == WL_TXN_ABORT) {
            if ((rc = folio_rollback(txn)) < 0)
                return failed(w, rc, "folio_rollback");
            return 0;
        }
        if ((rc = folio_commit(txn)) < 0) {
            failed(w, rc, "folio_commit");
            w->inflight = 1;
            return rc;
        }
        w->ncommits++;
        if (w->opts.sync == FOLIO_SYNC_FULL)
            w->durable = w->ncommits;
        return record_state(w);
    }
    case WL_CHECKPOINT: {
        int log = -1, done = -1;
        if ((rc = folio_checkpoint(w->db, u->arg, &log, &done)) < 0)
            return failed(w, rc, u->name);
        if (log == done)
            w->durable = w->ncommits;
        return 0;
    }
    case WL_REOPEN:
    case WL_CLOSE: {
        folio_db *db = w->db;
        w->db = NULL;
        rc = folio_close(db);
        if (rc < 0)
            return failed(w, rc, "folio_close");
        w->durable = w->ncommits;
        if (u->kind == WL_CLOSE) {
            w->closed = 1;
            return 0;
        }
        return wl_open(w);
    }
    }
    return 0;
}

int wl_run_until_error(wl *w)
{
    int n, rc;
    wl_units_of(w, &n);
    if ((rc = wl_open(w)) < 0)
        return rc;
    if ((rc = record_state(w)) < 0)
        return rc;
    if (w->record)
        w->unit_ops[0] = wl_ops(w);
    for (int i = 0; i < n; i++) {
        if ((rc = wl_unit_run(w, i)) < 0)
            return rc;
        w->units_done = i + 1;
        if (w->record)
            w->unit_ops[i + 1] = wl_ops(w);
    }
    return 0;
}

void wl_abandon(wl *w)
{
    if (w->db)
        folio_close(w->db);
    w->db = NULL;
}
