/*
 * test_oom.c - out of memory at every allocation of every operation.
 *
 * For each operation (open, begin, DDL, row writes with overflow, commit,
 * a cursor scan, checkpoint, close) and n = 1, 2, 3, ...: a copy of a base
 * database is brought to the state just before the operation with no fault
 * armed, then os_fail_alloc_after(n, 0) makes the operation's n-th
 * allocation fail, and the test checks:
 *
 *   - the call returns FOLIO_NOMEM with a message, or succeeds (folio may
 *     absorb the failure); never another code, never a crash;
 *   - a failed call has no effect: the transaction goes on and commits, and
 *     the database then holds exactly the state before the call (or after
 *     it, when the call succeeded) - read through the same handle, then
 *     through a fresh one and libsqlite3 (folio_check and integrity_check
 *     clean);
 *   - nothing leaks (LeakSanitizer is asked after every operation when the
 *     test runs under AddressSanitizer).
 *
 * The loop over n stops at the first n the operation does not reach.
 * FOLIO_OOM_MAX bounds n (default 2000). In make test, past the 96th
 * allocation only every third is failed (every ninth for ALTER TABLE); FOLIO_SOAK=1 (make soak)
 * fails every one.
 */
#include "crash_support.h"
#include "os/os.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define OOM_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OOM_LSAN 1
#endif
#endif
#ifdef OOM_LSAN
#include <sanitizer/lsan_interface.h>
#endif

typedef struct oom_ctx {
    char *dir;
    char *base; /* the base database (no -wal) */
    char *path; /* the working copy */
    folio_db *db;
    folio_txn *txn; /* a transaction the setup opened, finished after the op */
    folio_table *t;
    uint64_t scan_hash; /* the cursor-scan op's result */
    int fk;             /* open with foreign keys enforced */
    char msg[512];      /* folio's message right after the op */
} oom_ctx;

typedef struct oom_op {
    const char *name;
    int (*setup)(oom_ctx *c); /* no fault armed: reach the state before the op */
    int (*op)(oom_ctx *c);    /* armed */
    int (*noop)(oom_ctx *c);  /* what a failed op must amount to (NULL: nothing) */
    int flags;
} oom_op;

#define OOM_OPEN_FIRST 0x1 /* setup opens the database itself (or not at all) */
#define OOM_NO_MSG     0x2 /* the op frees the handle: no message can be read */
#define OOM_FK         0x4 /* foreign keys enforced (folio_options.foreign_keys) */
#define OOM_SPARSE     0x8 /* make test: past OOM_EVERY, every OOM_SPARSE_STRIDE-th only */

#define OOM_EVERY         96 /* make test: every allocation up to this one, */
#define OOM_STRIDE        4  /* then every fourth (make soak: every one), */
#define OOM_SPARSE_STRIDE 12 /* (ALTER TABLE: hundreds of allocations alike, each run long) */
/* from an offset that changes from run to run (printed; FOLIO_OOM_OFFSET
 * sets it), so that successive runs of make test cover every allocation. */
#define OOM_LEAK_EVERY 8 /* make test: a leak check every 8th iteration and at the last */

/* ---- values ---- */

static folio_value v_int(int64_t i)
{
    folio_value v;
    v.type = FOLIO_INTEGER;
    v.u.i = i;
    return v;
}

static folio_value v_null(void)
{
    folio_value v;
    memset(&v, 0, sizeof v);
    v.type = FOLIO_NULL;
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

static uint8_t big[12000];

static folio_options oom_options(void)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.wal_autocheckpoint = 0;
    return o;
}

/* ---- the base database ---- */

static void make_base(oom_ctx *c)
{
    crash_fill(big, sizeof big, 99);
    folio_options o = oom_options();
    folio_db *db;
    cr_assert_eq(folio_open(&db, c->base, &o), FOLIO_OK);
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(txn, "CREATE TABLE t1(id INTEGER PRIMARY KEY, a TEXT, b BLOB)"),
                 FOLIO_OK);
    cr_assert_eq(folio_exec(txn, "CREATE INDEX t1_a ON t1(a)"), FOLIO_OK);
    cr_assert_eq(folio_exec(txn, "CREATE TABLE kv(k TEXT PRIMARY KEY, v INTEGER, w BLOB) "
                                 "WITHOUT ROWID"),
                 FOLIO_OK);
    cr_assert_eq(folio_exec(txn, "CREATE TABLE doomed(x, y)"), FOLIO_OK);
    /* Empty, with two non-unique indexes: inserts queue their entries. */
    cr_assert_eq(folio_exec(txn, "CREATE TABLE fresh(id INTEGER PRIMARY KEY, a TEXT, b)"),
                 FOLIO_OK);
    cr_assert_eq(folio_exec(txn, "CREATE INDEX fresh_a ON fresh(a)"), FOLIO_OK);
    cr_assert_eq(folio_exec(txn, "CREATE INDEX fresh_b ON fresh(b, a)"), FOLIO_OK);
    /* Foreign keys: a parent, children that cascade and set NULL, and a
     * grandchild whose rows cascade in turn. */
    cr_assert_eq(folio_exec(txn, "CREATE TABLE fp(id INTEGER PRIMARY KEY, name TEXT UNIQUE)"),
                 FOLIO_OK);
    cr_assert_eq(folio_exec(txn, "CREATE TABLE fc(id INTEGER PRIMARY KEY, pid REFERENCES fp "
                                 "ON DELETE CASCADE ON UPDATE CASCADE, pad BLOB)"),
                 FOLIO_OK);
    cr_assert_eq(folio_exec(txn, "CREATE INDEX fc_pid ON fc(pid)"), FOLIO_OK);
    cr_assert_eq(
        folio_exec(txn, "CREATE TABLE fn(pname TEXT REFERENCES fp(name) ON DELETE SET NULL, v)"),
        FOLIO_OK);
    cr_assert_eq(folio_exec(txn, "CREATE TABLE fg(cid REFERENCES fc ON DELETE CASCADE, w)"),
                 FOLIO_OK);
    /* Triggers: an audit row and a counter per insert, a cascade of
     * triggers on update, deletes that clean up with a subquery. */
    static const char *const trig_ddl[] = {
        "CREATE TABLE tg(id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INT)",
        "CREATE TABLE tga(id INTEGER PRIMARY KEY, item INT, what TEXT)",
        "CREATE INDEX tga_item ON tga(item)",
        "CREATE TABLE tgc(k TEXT PRIMARY KEY, n INT) WITHOUT ROWID",
        "CREATE TRIGGER tg_ai AFTER INSERT ON tg BEGIN INSERT INTO tga(item, what) VALUES "
        "(new.id, 'ins ' || new.name); INSERT OR IGNORE INTO tgc VALUES ('tg', 0); UPDATE tgc "
        "SET n = n + 1 WHERE k = 'tg'; END",
        "CREATE TRIGGER tg_bu BEFORE UPDATE OF qty ON tg WHEN new.qty < 0 BEGIN SELECT "
        "RAISE(ABORT, 'negative'); END",
        "CREATE TRIGGER tg_au AFTER UPDATE ON tg BEGIN INSERT INTO tga(item, what) VALUES "
        "(new.id, printf('%d->%d', old.qty, new.qty)); END",
        "CREATE TRIGGER tga_ai AFTER INSERT ON tga WHEN new.what LIKE '%->%' BEGIN UPDATE tgc "
        "SET n = n + 1000 WHERE k = 'tg'; END",
        "CREATE TRIGGER tg_ad AFTER DELETE ON tg BEGIN DELETE FROM tga WHERE item = old.id; "
        "UPDATE tgc SET n = (SELECT count(*) FROM tg) WHERE k = 'tg'; END",
        /* Views that ALTER TABLE rewrites too. */
        "CREATE VIEW tgv AS SELECT g.id, a.what, (SELECT count(*) FROM tga WHERE tga.item = "
        "g.id) AS n FROM tg AS g JOIN tga AS a ON a.item = g.id WHERE g.qty > 0 ORDER BY g.name",
        "CREATE VIEW tgw AS WITH c AS (SELECT item AS k FROM tga) SELECT k, tg.name FROM c, tg "
        "WHERE c.k = tg.id UNION SELECT 1, 'x'",
    };
    for (size_t i = 0; i < sizeof trig_ddl / sizeof trig_ddl[0]; i++)
        cr_assert_eq(folio_exec(txn, trig_ddl[i]), FOLIO_OK, "%s: %s", trig_ddl[i],
                     folio_errmsg(c->db));
    folio_table *tg;
    cr_assert_eq(folio_table_open(&tg, txn, "tg"), FOLIO_OK);
    for (int i = 1; i <= 6; i++) {
        char name[16];
        snprintf(name, sizeof name, "item%d", i);
        folio_value r[3] = {v_int(i), v_text(name), v_int(i * 3)};
        cr_assert_eq(folio_insert(NULL, tg, r, 3), FOLIO_OK, "%s", folio_errmsg(c->db));
    }
    folio_table *t1, *kv, *doomed;
    cr_assert_eq(folio_table_open(&t1, txn, "t1"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&kv, txn, "kv"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&doomed, txn, "doomed"), FOLIO_OK);
    for (int i = 1; i <= 30; i++) {
        char a[32];
        snprintf(a, sizeof a, "row-%03d", i);
        folio_value r[3] = {v_int(i), v_text(a), v_blob(big, i % 4 == 0 ? 9000 : 50)};
        cr_assert_eq(folio_insert(NULL, t1, r, 3), FOLIO_OK);
        snprintf(a, sizeof a, "k%03d", i);
        folio_value k[3] = {v_text(a), v_int(i * 10), v_blob(big + i, 200)};
        cr_assert_eq(folio_insert(NULL, kv, k, 3), FOLIO_OK);
        folio_value d[2] = {v_int(i), v_blob(big, 5000)};
        cr_assert_eq(folio_insert(NULL, doomed, d, 2), FOLIO_OK);
    }
    folio_table *fp, *fc, *fn, *fg;
    cr_assert_eq(folio_table_open(&fp, txn, "fp"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&fc, txn, "fc"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&fn, txn, "fn"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&fg, txn, "fg"), FOLIO_OK);
    for (int i = 1; i <= 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        folio_value p[2] = {v_int(i), v_text(name)};
        cr_assert_eq(folio_insert(NULL, fp, p, 2), FOLIO_OK);
        for (int j = 0; j < 6; j++) {
            int64_t cid = i * 10 + j;
            folio_value ch[3] = {v_int(cid), v_int(i), v_blob(big, j == 0 ? 6000 : 40)};
            cr_assert_eq(folio_insert(NULL, fc, ch, 3), FOLIO_OK);
            folio_value n[2] = {v_text(name), v_int(j)};
            cr_assert_eq(folio_insert(NULL, fn, n, 2), FOLIO_OK);
            folio_value g[2] = {v_int(cid), v_int(j)};
            cr_assert_eq(folio_insert(NULL, fg, g, 2), FOLIO_OK);
        }
    }
    cr_assert_eq(folio_commit(txn), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
}

/* ---- setups ---- */

static int open_db(oom_ctx *c)
{
    folio_options o = oom_options();
    o.foreign_keys = c->fk;
    return folio_open(&c->db, c->path, &o);
}

static int setup_fk(oom_ctx *c)
{
    int rc = folio_begin(&c->txn, c->db, FOLIO_TXN_WRITE);
    if (rc == 0)
        rc = folio_table_open(&c->t, c->txn, "fp");
    return rc;
}

static int setup_none(oom_ctx *c)
{
    (void)c;
    return 0;
}

static int setup_write(oom_ctx *c)
{
    int rc = folio_begin(&c->txn, c->db, FOLIO_TXN_WRITE);
    if (rc == 0)
        rc = folio_table_open(&c->t, c->txn, "t1");
    return rc;
}

static int setup_kv(oom_ctx *c)
{
    int rc = folio_begin(&c->txn, c->db, FOLIO_TXN_WRITE);
    if (rc == 0)
        rc = folio_table_open(&c->t, c->txn, "kv");
    return rc;
}

static int setup_fresh(oom_ctx *c)
{
    int rc = folio_begin(&c->txn, c->db, FOLIO_TXN_WRITE);
    if (rc == 0)
        rc = folio_table_open(&c->t, c->txn, "fresh");
    return rc;
}

/* Rows in the empty indexed table: their index entries wait for the commit. */
static int setup_fresh_rows(oom_ctx *c)
{
    int rc = setup_fresh(c);
    for (int i = 1; rc == 0 && i <= 300; i++) {
        char a[32];
        snprintf(a, sizeof a, "v%05d", (i * 7919) % 1000);
        folio_value r[3] = {v_int(i), v_text(a), v_int(i % 7)};
        rc = folio_insert(NULL, c->t, r, 3);
    }
    return rc;
}

static int setup_read(oom_ctx *c)
{
    int rc = folio_begin(&c->txn, c->db, FOLIO_TXN_READ);
    if (rc == 0)
        rc = folio_table_open(&c->t, c->txn, "t1");
    return rc;
}

/* Changes in a write transaction whose commit is the op. */
static int setup_changes(oom_ctx *c)
{
    int rc = setup_write(c);
    for (int i = 100; rc == 0 && i < 110; i++) {
        folio_value r[3] = {v_int(i), v_text("new"), v_blob(big, 7000)};
        rc = folio_insert(NULL, c->t, r, 3);
    }
    if (rc == 0)
        rc = folio_delete(c->t, 2);
    return rc;
}

/* A committed change left in the WAL (checkpoint and close work on it). */
static int setup_wal(oom_ctx *c)
{
    int rc = setup_changes(c);
    if (rc == 0) {
        rc = folio_commit(c->txn);
        c->txn = NULL;
    }
    return rc;
}

/* A concurrent transaction's changes (an update with overflow, two inserts
 * with automatic rowids, a delete), and meanwhile a plain writer's commit of
 * other rows: its commit replays them on the newer database. */
static int setup_conc(oom_ctx *c)
{
    int rc = folio_begin(&c->txn, c->db, FOLIO_TXN_CONCURRENT);
    if (rc == 0)
        rc = folio_table_open(&c->t, c->txn, "t1");
    folio_value u[3] = {v_int(5), v_text("conc"), v_blob(big + 5, 9000)};
    folio_value n[3] = {{.type = FOLIO_NULL}, v_text("conc-new"), v_blob(big + 9, 6000)};
    if (rc == 0)
        rc = folio_update(c->t, 5, u, 3);
    for (int i = 0; rc == 0 && i < 2; i++)
        rc = folio_insert(NULL, c->t, n, 3);
    if (rc == 0)
        rc = folio_delete(c->t, 7);
    folio_txn *w = NULL;
    folio_table *wt;
    if (rc == 0)
        rc = folio_begin(&w, c->db, FOLIO_TXN_WRITE);
    folio_value p[3] = {v_int(10), v_text("plain"), v_int(10)};
    if (rc == 0 && (rc = folio_table_open(&wt, w, "t1")) == 0)
        rc = folio_update(wt, 10, p, 3);
    if (w)
        rc = rc == 0 ? folio_commit(w) : (folio_rollback(w), rc);
    return rc;
}

/* ---- ops ---- */

static int op_open(oom_ctx *c)
{
    return open_db(c);
}

static int op_begin_write(oom_ctx *c)
{
    int rc = folio_begin(&c->txn, c->db, FOLIO_TXN_WRITE);
    if (rc == 0)
        rc = folio_table_open(&c->t, c->txn, "t1");
    return rc;
}

static int op_begin_read(oom_ctx *c)
{
    return folio_begin(&c->txn, c->db, FOLIO_TXN_READ);
}

static int op_create_table(oom_ctx *c)
{
    return folio_exec(c->txn, "CREATE TABLE extra(a INTEGER PRIMARY KEY, b TEXT UNIQUE, c)");
}

static int op_create_index(oom_ctx *c)
{
    return folio_exec(c->txn, "CREATE INDEX t1_b ON t1(b, a)");
}

static int op_drop_table(oom_ctx *c)
{
    return folio_exec(c->txn, "DROP TABLE doomed");
}

static int op_alter_add(oom_ctx *c)
{
    return folio_exec(c->txn, "ALTER TABLE t1 ADD COLUMN z TEXT DEFAULT 'z' CHECK (z <> '')");
}

static int op_alter_rename_column(oom_ctx *c)
{
    return folio_exec(c->txn, "ALTER TABLE t1 RENAME COLUMN a TO aa");
}

static int op_alter_rename(oom_ctx *c)
{
    return folio_exec(c->txn, "ALTER TABLE t1 RENAME TO t1_renamed");
}

static int op_alter_drop(oom_ctx *c)
{
    return folio_exec(c->txn, "ALTER TABLE t1 DROP COLUMN b");
}

/* ALTER TABLE that rewrites the text of triggers (tg's and tga's). */
static int op_alter_trig_rename(oom_ctx *c)
{
    return folio_exec(c->txn, "ALTER TABLE tg RENAME TO tg_renamed");
}

static int op_alter_trig_column(oom_ctx *c)
{
    return folio_exec(c->txn, "ALTER TABLE tga RENAME COLUMN item TO it");
}

static int op_create_view(oom_ctx *c)
{
    return folio_exec(c->txn, "CREATE VIEW nv(x, y) AS SELECT name, sum(qty) OVER (ORDER BY id) "
                              "FROM tg WHERE id IN (SELECT item FROM tga) LIMIT 5");
}

static int op_insert(oom_ctx *c)
{
    folio_value r[3] = {v_int(500), v_text("inserted"), v_blob(big, 11000)};
    return folio_insert(NULL, c->t, r, 3);
}

static int op_insert_fresh(oom_ctx *c)
{
    folio_value r[3] = {v_int(7), v_text("queued"), v_int(3)};
    return folio_insert(NULL, c->t, r, 3);
}

static int op_update(oom_ctx *c)
{
    folio_value r[3] = {v_int(4), v_text("updated"), v_blob(big + 3, 10500)};
    return folio_update(c->t, 4, r, 3);
}

static int op_delete(oom_ctx *c)
{
    return folio_delete(c->t, 8);
}

static int op_update_key(oom_ctx *c)
{
    folio_value k = v_text("k005");
    folio_value r[3] = {v_text("k005"), v_int(-5), v_blob(big, 3000)};
    return folio_update_key(c->t, &k, 1, r, 3);
}

static int op_delete_key(oom_ctx *c)
{
    folio_value d = v_text("k006");
    return folio_delete_key(c->t, &d, 1);
}

/* A parent row whose children cascade (and theirs), and set NULL. */
static int op_fk_delete_cascade(oom_ctx *c)
{
    return folio_delete(c->t, 2);
}

/* A parent key change that cascades into the children. */
static int op_fk_update_cascade(oom_ctx *c)
{
    int col = 0;
    folio_value v = v_int(30);
    return folio_patch(c->t, 3, &col, &v, 1);
}

/* A statement of many rows, each cascading. */
static int op_fk_delete_where(oom_ctx *c)
{
    int64_t n;
    return folio_delete_where(&n, c->t, "id >= 3");
}

static int setup_tg(oom_ctx *c)
{
    int rc = folio_begin(&c->txn, c->db, FOLIO_TXN_WRITE);
    if (rc == 0)
        rc = folio_table_open(&c->t, c->txn, "tg");
    return rc;
}

/* An insert whose trigger writes an audit row and a counter. */
static int op_trig_insert(oom_ctx *c)
{
    folio_value r[3] = {v_null(), v_text("fresh item"), v_int(5)};
    return folio_insert(NULL, c->t, r, 3);
}

/* An update whose trigger's insert fires another trigger. */
static int op_trig_update(oom_ctx *c)
{
    int col = 2;
    folio_value v = v_int(40);
    return folio_patch(c->t, 3, &col, &v, 1);
}

/* A statement of two rows, each firing a delete and a subquery. */
static int op_trig_delete_where(oom_ctx *c)
{
    int64_t n;
    return folio_delete_where(&n, c->t, "id >= 5");
}

static int op_rollback(oom_ctx *c)
{
    int rc = folio_rollback(c->txn);
    c->txn = NULL;
    return rc;
}

static int op_commit(oom_ctx *c)
{
    int rc = folio_commit(c->txn);
    c->txn = NULL; /* freed either way */
    return rc;
}

static int op_scan(oom_ctx *c)
{
    folio_cursor *cur;
    int rc = folio_cursor_open(&cur, c->t, "t1_a");
    if (rc < 0)
        return rc;
    uint64_t h = 0;
    int ncols = folio_table_ncols(c->t);
    for (rc = folio_cursor_first(cur); rc == FOLIO_ROW; rc = folio_cursor_next(cur)) {
        h = h * 31 + (uint64_t)folio_cursor_rowid(cur);
        for (int col = 0; col < ncols; col++) {
            folio_value v;
            if ((rc = folio_cursor_column(&v, cur, col)) < 0)
                break;
            if (v.type == FOLIO_TEXT || v.type == FOLIO_BLOB)
                h = h * 31 + v.u.s.n + (v.u.s.n ? ((const uint8_t *)v.u.s.p)[v.u.s.n - 1] : 0);
        }
        if (rc < 0)
            break;
    }
    folio_cursor_close(cur);
    c->scan_hash = h;
    return rc == FOLIO_DONE ? 0 : rc;
}

static int op_checkpoint(oom_ctx *c)
{
    return folio_checkpoint(c->db, FOLIO_CHECKPOINT_TRUNCATE, NULL, NULL);
}

/* The struct codec over t1: binding it, and each of its row calls. */
typedef struct t1_row {
    int64_t id;
    const char *a;
    const void *b;
    size_t bn;
} t1_row;

static int t1_codec(oom_ctx *c, folio_codec **out, int nfields)
{
    static const folio_field f[] = {
        FOLIO_FIELD(t1_row, a, "a", FOLIO_F_CSTR),
        FOLIO_FIELD(t1_row, id, "id", FOLIO_F_I64),
        FOLIO_FIELD_LEN(t1_row, b, bn, "b", FOLIO_F_BLOB),
    };
    return folio_codec_bind(out, c->t, f, nfields, sizeof(t1_row));
}

static int op_codec_insert(oom_ctx *c)
{
    folio_codec *cd;
    t1_row r = {500, "inserted", big, 11000};
    int rc = t1_codec(c, &cd, 3);
    return rc < 0 ? rc : folio_insert_struct(NULL, cd, &r);
}

/* Column a only: b keeps its (overflowing) value. */
static int op_codec_update(oom_ctx *c)
{
    folio_codec *cd;
    t1_row r = {0, "updated", NULL, 0};
    int rc = t1_codec(c, &cd, 1);
    return rc < 0 ? rc : folio_update_struct(cd, 4, &r);
}

static int op_codec_scan(oom_ctx *c)
{
    folio_codec *cd;
    folio_cursor *cur;
    int rc = t1_codec(c, &cd, 3);
    if (rc < 0 || (rc = folio_cursor_open(&cur, c->t, "t1_a")) < 0)
        return rc;
    uint64_t h = 0;
    for (rc = folio_cursor_first(cur); rc == FOLIO_ROW; rc = folio_cursor_next(cur)) {
        t1_row r;
        if ((rc = folio_cursor_struct(cur, cd, &r)) < 0)
            break;
        h = h * 31 + (uint64_t)r.id + strlen(r.a) + r.bn;
    }
    folio_cursor_close(cur);
    folio_codec_free(cd);
    c->scan_hash = h;
    return rc == FOLIO_DONE ? 0 : rc;
}

/* In a concurrent transaction: an update with overflow (the setup's plain
 * commit came before it; finish() commits the transaction). */
static int op_conc_work(oom_ctx *c)
{
    folio_value u[3] = {v_int(12), v_text("conc-updated"), v_blob(big + 1, 10000)};
    return folio_update(c->t, 12, u, 3);
}

static int op_close(oom_ctx *c)
{
    int rc = folio_close(c->db);
    c->db = NULL; /* freed either way */
    return rc;
}

/* ---- the commit log ---- */

static void remove_log(oom_ctx *c)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s-log' '%s/restored.db' '%s/restored.db-restore'", c->path,
             c->dir, c->dir);
    cr_assert_eq(system(cmd), 0);
}

/* The log on (a fresh one) and changes waiting for their commit. */
static int setup_log_changes(oom_ctx *c)
{
    remove_log(c);
    int rc = folio_log_enable(c->db, FOLIO_LOG_ZSTD);
    return rc < 0 ? rc : setup_changes(c);
}

/* The log on, with a few commits in it. */
static int setup_log_history(oom_ctx *c)
{
    remove_log(c);
    int rc = folio_log_enable(c->db, FOLIO_LOG_LZ4);
    for (int k = 0; rc == 0 && k < 3; k++) {
        if ((rc = setup_write(c)) == 0) {
            for (int i = 0; rc == 0 && i < 5; i++) {
                folio_value r[3] = {v_int(200 + 10 * k + i), v_text("log"), v_blob(big, 3000)};
                rc = folio_insert(NULL, c->t, r, 3);
            }
            if (rc == 0)
                rc = folio_delete(c->t, 3 + k);
        }
        if (c->txn) {
            int crc = rc == 0 ? folio_commit(c->txn) : folio_rollback(c->txn);
            rc = rc == 0 ? crc : rc;
            c->txn = NULL;
        }
    }
    return rc;
}

/* Restore the newest version: FOLIO_NOMEM (and nothing created) or a copy. */
static int op_restore(oom_ctx *c)
{
    char dest[700];
    snprintf(dest, sizeof dest, "%s/restored.db", c->dir);
    uint64_t v = 0;
    int rc = folio_version(c->db, &v);
    if (rc < 0)
        return rc;
    rc = folio_restore(c->path, dest, v, -1, NULL);
    struct stat sb;
    if (rc < 0 && stat(dest, &sb) == 0)
        return FOLIO_ERROR; /* a failed restore must leave nothing */
    unlink(dest);
    return rc;
}

static const oom_op ops[] = {
    {"open", setup_none, op_open, NULL, OOM_OPEN_FIRST},
    {"begin write + table_open", setup_none, op_begin_write, NULL, 0},
    {"begin read", setup_none, op_begin_read, NULL, 0},
    {"exec CREATE TABLE", setup_write, op_create_table, NULL, 0},
    {"exec CREATE INDEX over rows", setup_write, op_create_index, NULL, 0},
    {"exec DROP TABLE", setup_write, op_drop_table, NULL, 0},
    {"insert with overflow", setup_write, op_insert, NULL, 0},
    {"insert into an empty indexed table (entries queued)", setup_fresh, op_insert_fresh, NULL, 0},
    {"commit of queued index entries", setup_fresh_rows, op_commit, op_rollback, 0},
    {"update with overflow", setup_write, op_update, NULL, 0},
    {"delete", setup_write, op_delete, NULL, 0},
    {"update_key (WITHOUT ROWID)", setup_kv, op_update_key, NULL, 0},
    {"delete_key (WITHOUT ROWID)", setup_kv, op_delete_key, NULL, 0},
    {"commit", setup_changes, op_commit, op_rollback, 0},
    {"cursor scan over an index", setup_read, op_scan, NULL, 0},
    {"checkpoint TRUNCATE", setup_wal, op_checkpoint, NULL, 0},
    {"close with a WAL", setup_wal, op_close, NULL, OOM_NO_MSG},
    {"foreign keys: delete that cascades", setup_fk, op_fk_delete_cascade, NULL, OOM_FK},
    {"foreign keys: key update that cascades", setup_fk, op_fk_update_cascade, NULL, OOM_FK},
    {"foreign keys: delete_where of cascading rows", setup_fk, op_fk_delete_where, NULL, OOM_FK},
    {"codec bind + insert_struct with overflow", setup_write, op_codec_insert, NULL, 0},
    {"codec bind + update_struct (one column)", setup_write, op_codec_update, NULL, 0},
    {"codec bind + cursor_struct scan over an index", setup_read, op_codec_scan, NULL, 0},
    {"exec ALTER TABLE ADD COLUMN (rows checked)", setup_write, op_alter_add, NULL, OOM_SPARSE},
    {"exec ALTER TABLE RENAME COLUMN", setup_write, op_alter_rename_column, NULL, OOM_SPARSE},
    {"exec ALTER TABLE RENAME TO", setup_write, op_alter_rename, NULL, OOM_SPARSE},
    {"exec ALTER TABLE DROP COLUMN (rows rewritten)", setup_write, op_alter_drop, NULL, OOM_SPARSE},
    {"triggers: insert firing an audit row and a counter", setup_tg, op_trig_insert, NULL, 0},
    {"triggers: update firing a cascade of triggers", setup_tg, op_trig_update, NULL, 0},
    {"triggers: delete_where, each row firing a delete and a subquery", setup_tg,
     op_trig_delete_where, NULL, 0},
    {"exec ALTER TABLE RENAME TO (triggers and views rewritten)", setup_tg, op_alter_trig_rename,
     NULL, OOM_SPARSE},
    {"exec ALTER TABLE RENAME COLUMN (triggers and views)", setup_tg, op_alter_trig_column, NULL,
     OOM_SPARSE},
    {"exec CREATE VIEW", setup_tg, op_create_view, NULL, 0},
    {"concurrent: commit replayed after another commit", setup_conc, op_commit, op_rollback, 0},
    {"concurrent: update with overflow, then the commit", setup_conc, op_conc_work, NULL, 0},
    {"commit with the commit log on", setup_log_changes, op_commit, op_rollback, 0},
    {"restore from the commit log", setup_log_history, op_restore, NULL, OOM_NO_MSG},
};

/* ---- the loop ---- */

typedef struct oom_totals {
    long iterations, failed, absorbed;
    int leaked;
    crash_failures fl;
} oom_totals;

/* Finish what the setup left open and return the state the handle sees. */
static int finish(oom_ctx *c, uint64_t *out, char *err, size_t errlen)
{
    int rc = 0;
    if (c->txn) {
        rc = folio_commit(c->txn);
        c->txn = NULL;
        if (rc < 0) {
            snprintf(err, errlen, "committing after the op: %s: %s", crash_rc_name(rc),
                     folio_errmsg(c->db));
            return -1;
        }
    }
    if (!c->db) {
        if ((rc = open_db(c)) < 0) {
            snprintf(err, errlen, "reopening: %s: %s", crash_rc_name(rc), folio_open_errmsg());
            return -1;
        }
    }
    return crash_hash_db(c->db, out, err, errlen);
}

static void cleanup(oom_ctx *c)
{
    if (c->txn)
        folio_rollback(c->txn);
    c->txn = NULL;
    if (c->db)
        folio_close(c->db);
    c->db = NULL;
    c->t = NULL;
}

/* One run: setup, op with the n-th allocation failing (n = 0: none).
 * Returns whether the failure was reached. */
static int run_once(oom_ctx *c, const oom_op *op, int (*fn)(oom_ctx *), long n, int *out_rc,
                    uint64_t *out_state, uint64_t *out_scan, char *err, size_t errlen)
{
    crash_remove_db(c->path);
    cr_assert_eq(crash_copy_db(c->base, c->path), 0);
    c->fk = (op->flags & OOM_FK) != 0;
    int rc = 0;
    if (!(op->flags & OOM_OPEN_FIRST))
        rc = open_db(c);
    if (rc == 0)
        rc = op->setup(c);
    cr_assert_eq(rc, 0, "%s: setup failed: %s: %s", op->name, crash_rc_name(rc),
                 c->db ? folio_errmsg(c->db) : folio_open_errmsg());
    c->scan_hash = 0;
    uint64_t before = os_alloc_count();
    os_fail_alloc_after(n, 0);
    rc = fn ? fn(c) : 0;
    os_fail_alloc_after(0, 0);
    snprintf(c->msg, sizeof c->msg, "%s",
             c->db    ? folio_errmsg(c->db)
             : rc < 0 ? folio_open_errmsg()
                      : "");
    int hit = n > 0 && os_alloc_count() - before >= (uint64_t)n;
    *out_rc = rc;
    *out_scan = c->scan_hash;
    err[0] = 0;
    if (rc < 0 && rc != FOLIO_NOMEM) {
        snprintf(err, errlen, "returned %s: %s", crash_rc_name(rc),
                 c->db ? folio_errmsg(c->db) : folio_open_errmsg());
        cleanup(c);
        return hit;
    }
    if (rc == FOLIO_NOMEM && !(op->flags & OOM_NO_MSG)) {
        int has = c->db ? crash_has_msg(c->db) : strcmp(folio_open_errmsg(), "not an error") != 0;
        if (!has) {
            snprintf(err, errlen, "FOLIO_NOMEM without a message");
            cleanup(c);
            return hit;
        }
    }
    if (finish(c, out_state, err, errlen) < 0) {
        cleanup(c);
        return hit;
    }
    cleanup(c);
    return hit;
}

/* The offset of the sampled allocations past OOM_EVERY (see OOM_STRIDE). */
static long oom_offset(void)
{
    static long off = -1;
    if (off < 0) {
        off = crash_env_long("FOLIO_OOM_OFFSET", (long)(time(NULL) % (OOM_SPARSE_STRIDE * 1000)));
        if (off < 0)
            off = 0;
        fprintf(stderr,
                "FOLIO_OOM_OFFSET=%ld (past allocation %d, every %d-th from there; %d-th "
                "for the long ops)\n",
                off, OOM_EVERY, OOM_STRIDE, OOM_SPARSE_STRIDE);
    }
    return off;
}

static void run_op(oom_ctx *c, const oom_op *op, oom_totals *tot)
{
    /* Reference runs: the states before and after the op. */
    int rc;
    uint64_t after, before, scan_ref, scan;
    char err[1024];
    run_once(c, op, op->op, 0, &rc, &after, &scan_ref, err, sizeof err);
    cr_assert_eq(rc, 0, "%s without a fault: %s", op->name, err);
    cr_assert_eq(err[0], 0, "%s without a fault: %s", op->name, err);
    run_once(c, op, op->noop, 0, &rc, &before, &scan, err, sizeof err);
    cr_assert_eq(err[0], 0, "%s left undone: %s", op->name, err);
    long max = crash_env_long("FOLIO_OOM_MAX", 2000);
    long n, last = 0;
    int fails = 0;
    /* Every allocation under make soak; in make test every one of the first
     * OOM_EVERY, then every OOM_STRIDE-th (the long ops: ALTER TABLE, the
     * cascades), so that the suite keeps to its time. */
    int soak = crash_soak();
    long stride = (op->flags & OOM_SPARSE) ? OOM_SPARSE_STRIDE : OOM_STRIDE;
    long offset = oom_offset() % stride;
#ifdef OOM_LSAN
    int since_check = 0;
#endif
    for (n = 1; n <= max; n += (!soak && n >= OOM_EVERY + offset) ? stride : 1) {
        last = n;
        uint64_t state = 0;
        int hit = run_once(c, op, op->op, n, &rc, &state, &scan, err, sizeof err);
        tot->iterations++;
        char where[1300];
        snprintf(where, sizeof where, "%s, allocation %ld fails", op->name, n);
        if (err[0]) {
            crash_fail(&tot->fl, "%s: %s", where, err);
            fails++;
        } else if (rc == FOLIO_NOMEM) {
            tot->failed++;
        } else {
            tot->absorbed += hit;
            if (state != after)
                crash_fail(&tot->fl, "%s: the op succeeded but the content differs", where);
            if ((op->op == op_scan || op->op == op_codec_scan) && scan != scan_ref)
                crash_fail(&tot->fl, "%s: the scan succeeded but read different rows (%s)", where,
                           c->msg);
        }
        if (!err[0] && rc == FOLIO_NOMEM) {
            if (state == after && before != after)
                crash_fail(&tot->fl, "%s: returned FOLIO_NOMEM (%s) but the op took effect", where,
                           c->msg);
            else if (state != before)
                crash_fail(&tot->fl,
                           "%s: FOLIO_NOMEM (%s), and the content is not the state before "
                           "the op",
                           where, c->msg);
        }
        /* The file, read afresh by folio and libsqlite3. */
        if (!err[0]) {
            uint64_t h;
            if (crash_verify(c->path, &h, err, sizeof err) < 0)
                crash_fail(&tot->fl, "%s: %s", where, err);
            else if (h != state)
                crash_fail(&tot->fl, "%s: the file holds other content than the handle saw", where);
        }
#ifdef OOM_LSAN
        /* LeakSanitizer reports every leak still there at each check: only the
         * first check that finds one tells which op leaked, and at which n
         * since the check before. A check scans the whole heap (most of an
         * iteration's time), so make test checks every OOM_LEAK_EVERY-th
         * iteration and at the op's last; FOLIO_OOM_OFFSET with
         * FOLIO_OOM_MAX narrows a report down, make soak checks every one. */
        int last_iter = !hit || fails > 5;
        if (!tot->leaked && (soak || last_iter || ++since_check >= OOM_LEAK_EVERY)) {
            since_check = 0;
            if (__lsan_do_recoverable_leak_check() != 0) {
                tot->leaked = 1;
                crash_fail(&tot->fl,
                           "%s: memory leaked at this n or one of the %d before it (see the "
                           "LeakSanitizer report above); later leaks in this process are not "
                           "looked for",
                           where, soak ? 0 : OOM_LEAK_EVERY - 1);
            }
        }
#endif
        if (!hit || fails > 5)
            break;
    }
    if (!soak && last > OOM_EVERY)
        printf("oom: %-28s %4ld allocations, failed in turn up to the %dth, then every %ldth\n",
               op->name, last - 1, OOM_EVERY + (int)offset, stride);
    else
        printf("oom: %-28s %4ld allocations failed in turn\n", op->name, last - 1);
    fflush(stdout);
}

static void oom_setup(oom_ctx *c)
{
    memset(c, 0, sizeof *c);
    os_vfs_install(crash_vfs_fast());
    c->dir = crash_tmpdir("oom");
    c->base = crash_path(c->dir, "base.db");
    c->path = crash_path(c->dir, "work.db");
    make_base(c);
}

static void oom_teardown(oom_ctx *c, oom_totals *tot)
{
    os_vfs_install(NULL);
    if (tot->fl.n == 0)
        crash_rmtree(c->dir);
    free(c->dir);
    free(c->base);
    free(c->path);
}

static void run_ops(int from, int to)
{
    oom_ctx c;
    oom_totals tot;
    memset(&tot, 0, sizeof tot);
    oom_setup(&c);
    for (int i = from; i < to; i++)
        run_op(&c, &ops[i], &tot);
    printf("oom: %ld iterations, %ld calls returned FOLIO_NOMEM, %ld failures absorbed; "
           "%d problems\n",
           tot.iterations, tot.failed, tot.absorbed, tot.fl.n);
    fflush(stdout);
    oom_teardown(&c, &tot);
    cr_assert_eq(tot.fl.n, 0, "%d problems; first: %s", tot.fl.n, tot.fl.first);
}

/* Each test runs in its own process, so a leak is pinned to its group. */
Test(crash_oom, open, .timeout = 900)
{
    run_ops(0, 1);
}
Test(crash_oom, begin, .timeout = 900)
{
    run_ops(1, 3);
}
Test(crash_oom, create_table, .timeout = 900)
{
    run_ops(3, 4);
}
Test(crash_oom, create_index, .timeout = 900)
{
    run_ops(4, 5);
}
Test(crash_oom, drop_table, .timeout = 900)
{
    run_ops(5, 6);
}
Test(crash_oom, row_writes, .timeout = 900)
{
    run_ops(6, 11);
}
Test(crash_oom, without_rowid_writes, .timeout = 900)
{
    run_ops(11, 13);
}
Test(crash_oom, commit, .timeout = 900)
{
    run_ops(13, 14);
}
Test(crash_oom, cursor_scan, .timeout = 900)
{
    run_ops(14, 15);
}
Test(crash_oom, checkpoint_and_close, .timeout = 900)
{
    run_ops(15, 17);
}
Test(crash_oom, foreign_key_actions, .timeout = 900)
{
    run_ops(17, 20);
}

/*
 * Bug: on an index cursor folio_cursor_rowid() decodes the index record;
 * when that allocation fails it returns 0 - a silently wrong rowid, since
 * the function has no way to report an error - while first/next returned
 * FOLIO_ROW. Seen with the 5th and 6th allocation of a scan over t1_a.
 */
Test(crash_oom, index_cursor_rowid_is_never_silently_wrong, .timeout = 300)
{
    oom_ctx c;
    oom_totals tot;
    memset(&tot, 0, sizeof tot);
    oom_setup(&c);
    crash_remove_db(c.path);
    cr_assert_eq(crash_copy_db(c.base, c.path), 0);
    cr_assert_eq(open_db(&c), FOLIO_OK);
    int wrong = 0;
    for (long n = 1; n <= 40; n++) {
        cr_assert_eq(setup_read(&c), FOLIO_OK);
        folio_cursor *cur = NULL;
        os_fail_alloc_after(n, 0);
        int rc = folio_cursor_open(&cur, c.t, "t1_a");
        int64_t expect = 1; /* t1_a orders "row-001".."row-030": rowids 1..30 */
        for (rc = rc < 0 ? rc : folio_cursor_first(cur); rc == FOLIO_ROW;
             rc = folio_cursor_next(cur), expect++) {
            int64_t got = folio_cursor_rowid(cur);
            if (got != expect) {
                crash_fail(&tot.fl,
                           "allocation %ld fails: folio_cursor_rowid gave %lld on the row "
                           "with rowid %lld",
                           n, (long long)got, (long long)expect);
                wrong++;
            }
        }
        os_fail_alloc_after(0, 0);
        cr_expect(rc == FOLIO_DONE || rc == FOLIO_NOMEM,
                  "allocation %ld fails: the scan ended "
                  "with %s",
                  n, crash_rc_name(rc));
        folio_cursor_close(cur);
        cr_assert_eq(folio_rollback(c.txn), FOLIO_OK);
        c.txn = NULL;
    }
    cleanup(&c);
    oom_teardown(&c, &tot);
    cr_assert_eq(wrong, 0, "%d wrong rowids; first: %s", wrong, tot.fl.first);
}

Test(crash_oom, struct_codec, .timeout = 900)
{
    run_ops(20, 23);
}

Test(crash_oom, alter_table, .timeout = 900)
{
    run_ops(23, 27);
}

Test(crash_oom, triggers, .timeout = 900)
{
    run_ops(27, 30);
}

Test(crash_oom, alter_table_triggers, .timeout = 900)
{
    run_ops(30, 33);
}

Test(crash_oom, concurrent, .timeout = 900)
{
    run_ops(33, 35);
}

Test(crash_oom, commit_log, .timeout = 900)
{
    /* (The last group: every op belongs to one test.) */
    cr_assert_eq(sizeof ops / sizeof ops[0], 37);
    run_ops(35, 37);
}
