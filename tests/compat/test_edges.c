/*
 * test_edges.c - graph edges (folio_relate, folio_unrelate, the folio_edges
 * walker) over _concepts and _relations, checked against libsqlite3.
 *
 * Every file folio writes here is read back by libsqlite3: PRAGMA
 * integrity_check, the schema as SQLite sees it (a WITHOUT ROWID table, the
 * target index and SQLite's plan using it), and the edges themselves. A
 * walk is compared as an "image": one line per edge with its direction,
 * keys, kind, weight (%a, exact) and data (type and hex bytes), made once
 * from folio_edges and once from SQL on the same file (`WHERE source_key =
 * ? ORDER BY target_key, kind` for the outgoing edges, `WHERE target_key =
 * ? ORDER BY kind, source_key` for the incoming ones). The random graph
 * test also keeps a model of the edges it made and compares the whole
 * table with it. seed=N is printed; FOLIO_SEED replays a run.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *g_dir, *g_path;

static void start(void)
{
    g_dir = compat_tmpdir();
    g_path = compat_path(g_dir, "edges.db");
}

static void finish(void)
{
    compat_rmtree(g_dir);
    free(g_path);
    free(g_dir);
}

static folio_db *open_rw(const char *path)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_CREATE;
    o.sync = FOLIO_SYNC_OFF;
    o.mmap_bytes = compat_mmap_option();
    folio_db *db = NULL;
    int rc = folio_open(&db, path, &o);
    cr_assert_eq(rc, FOLIO_OK, "folio_open %s: %s", path, compat_rc_name(rc));
    return db;
}

static folio_txn *begin(folio_db *db, unsigned flags)
{
    folio_txn *tx = NULL;
    int rc = folio_begin(&tx, db, flags);
    cr_assert_eq(rc, FOLIO_OK, "folio_begin: %s: %s", compat_rc_name(rc), folio_errmsg(db));
    return tx;
}

static void commit(folio_db *db, folio_txn *tx)
{
    int rc = folio_commit(tx);
    cr_assert_eq(rc, FOLIO_OK, "folio_commit: %s: %s", compat_rc_name(rc), folio_errmsg(db));
}

static folio_value text(const char *s)
{
    folio_value v = {.type = FOLIO_TEXT};
    v.u.s.p = s;
    v.u.s.n = strlen(s);
    return v;
}

static void relate(folio_db *db, folio_txn *tx, const char *s, const char *t, const char *kind,
                   double w, const folio_value *data)
{
    int rc = folio_relate(tx, s, t, kind, w, data);
    cr_assert_eq(rc, FOLIO_OK, "folio_relate(%s, %s, %s): %s: %s", s, t, kind ? kind : "NULL",
                 compat_rc_name(rc), folio_errmsg(db));
}

/* ---- images ---- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = 2 * (b->n + n + 1) + 256;
        b->p = realloc(b->p, b->cap);
        cr_assert_not_null(b->p);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < sizeof tmp);
    sb_put(b, tmp, (size_t)n);
}

static void sb_hex(sbuf *b, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sb_printf(b, "%02x", ((const unsigned char *)p)[i]);
}

static char *sb_take(sbuf *b)
{
    if (!b->p)
        sb_put(b, "", 0);
    return b->p;
}

/* One value: type letter and exact contents. */
static void img_value(sbuf *b, int type, int64_t i, double r, const void *p, size_t n)
{
    switch (type) {
    case FOLIO_INTEGER:
        sb_printf(b, "i:%lld", (long long)i);
        break;
    case FOLIO_REAL:
        sb_printf(b, "r:%a", r);
        break;
    case FOLIO_TEXT:
    case FOLIO_BLOB:
        sb_put(b, type == FOLIO_TEXT ? "t:" : "b:", 2);
        sb_hex(b, p, n);
        break;
    default:
        sb_put(b, "null", 4);
    }
}

static void img_edge(sbuf *b, const char *dir, const char *s, const char *t, const char *k,
                     double w)
{
    sb_printf(b, "%s ", dir);
    sb_hex(b, s, strlen(s));
    sb_put(b, " ", 1);
    sb_hex(b, t, strlen(t));
    sb_put(b, " ", 1);
    sb_hex(b, k, strlen(k));
    if (isnan(w))
        sb_printf(b, " nan ");
    else
        sb_printf(b, " %a ", w);
}

/* The walk of `key` through folio_edges. */
static char *walk_image(folio_db *db, folio_txn *tx, const char *key, int dir, const char *kind)
{
    folio_edges *e = NULL;
    int rc = folio_edges_open(&e, tx, key, dir);
    cr_assert_eq(rc, FOLIO_OK, "folio_edges_open: %s: %s", compat_rc_name(rc), folio_errmsg(db));
    if (kind)
        cr_assert_eq(folio_edges_kind(e, kind), FOLIO_OK);
    sbuf b = {0};
    while ((rc = folio_edges_next(e)) == FOLIO_ROW) {
        folio_edge ed;
        cr_assert_eq(folio_edges_get(&ed, e), FOLIO_OK);
        img_edge(&b,
                 ed.dir == FOLIO_EDGES_OUT  ? "out"
                 : ed.dir == FOLIO_EDGES_IN ? "in"
                                            : "?",
                 ed.source_key, ed.target_key, ed.kind, ed.weight);
        const folio_value *d = &ed.data;
        img_value(&b, d->type, d->u.i, d->u.r, d->u.s.p, d->u.s.n);
        sb_put(&b, "\n", 1);
    }
    cr_assert_eq(rc, FOLIO_DONE, "folio_edges_next: %s: %s", compat_rc_name(rc), folio_errmsg(db));
    cr_assert_eq(folio_edges_next(e), FOLIO_DONE, "a finished walk stays finished");
    folio_edge ed;
    cr_assert_eq(folio_edges_get(&ed, e), FOLIO_MISUSE, "no current edge after the walk");
    folio_edges_close(e);
    return sb_take(&b);
}

static void sql_rows(sbuf *b, sqlite3 *sq, const char *dir, const char *sql, const char *key,
                     const char *kind)
{
    sqlite3_stmt *st = compat_prepare(sq, sql);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (kind)
        sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int wt = sqlite3_column_type(st, 3); /* folio: NaN unless a number */
        double w = wt == SQLITE_INTEGER || wt == SQLITE_FLOAT ? sqlite3_column_double(st, 3) : NAN;
        img_edge(b, dir, (const char *)sqlite3_column_text(st, 0),
                 (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
                 w);
        int t = sqlite3_column_type(st, 4);
        int ft = t == SQLITE_INTEGER ? FOLIO_INTEGER
                 : t == SQLITE_FLOAT ? FOLIO_REAL
                 : t == SQLITE_TEXT  ? FOLIO_TEXT
                 : t == SQLITE_BLOB  ? FOLIO_BLOB
                                     : FOLIO_NULL;
        const void *p = t == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, 4)
                                         : sqlite3_column_blob(st, 4);
        img_value(b, ft, sqlite3_column_int64(st, 4), sqlite3_column_double(st, 4), p,
                  (size_t)sqlite3_column_bytes(st, 4));
        sb_put(b, "\n", 1);
    }
    cr_assert_eq(rc, SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(sq));
    sqlite3_finalize(st);
}

/* Whether the file has the target index (without it folio scans for the
 * incoming edges, which then come in key order: by source). */
static int g_no_index;

/* The same walk by SQL on the file. */
static char *sql_image(sqlite3 *sq, const char *key, int dir, const char *kind)
{
    sbuf b = {0};
    char sql[512];
    const char *cols = "SELECT source_key, target_key, kind, weight, data FROM _relations";
    if (dir & FOLIO_EDGES_OUT) {
        snprintf(sql, sizeof sql, "%s WHERE source_key = ?1%s ORDER BY target_key, kind", cols,
                 kind ? " AND kind = ?2" : "");
        sql_rows(&b, sq, "out", sql, key, kind);
    }
    if (dir & FOLIO_EDGES_IN) {
        snprintf(sql, sizeof sql, "%s WHERE target_key = ?1%s%s ORDER BY %s", cols,
                 kind ? " AND kind = ?2" : "", dir & FOLIO_EDGES_OUT ? " AND source_key <> ?1" : "",
                 g_no_index ? "source_key, kind" : "kind, source_key");
        sql_rows(&b, sq, "in", sql, key, kind);
    }
    return sb_take(&b);
}

/* folio's walk equals SQL's, in every direction (and with `kind`). */
static void compare_walks(folio_db *db, folio_txn *tx, sqlite3 *sq, const char *key,
                          const char *kind)
{
    static const int dirs[] = {FOLIO_EDGES_OUT, FOLIO_EDGES_IN, FOLIO_EDGES_OUT | FOLIO_EDGES_IN};
    for (int i = 0; i < 3; i++) {
        char *got = walk_image(db, tx, key, dirs[i], kind);
        char *want = sql_image(sq, key, dirs[i], kind);
        cr_assert_str_eq(got, want, "key %s dir %d kind %s:\nfolio:\n%s\nsqlite:\n%s", key, dirs[i],
                         kind ? kind : "(any)", got, want);
        free(got);
        free(want);
    }
}

static void assert_ok_file(const char *path)
{
    char *ic = compat_integrity(path);
    cr_assert_str_eq(ic, "ok", "integrity_check of %s: %s", path, ic);
    free(ic);
}

/* The schema as libsqlite3 sees it. */
static void assert_edge_schema(const char *path)
{
    sqlite3 *sq = compat_sqlite_open_ro(path);
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' "
                                      "AND name = '_relations' AND sql LIKE '%%WITHOUT ROWID'"),
                 1);
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' "
                                      "AND name = '_concepts'"),
                 1);
    char *cols = compat_query_text(sq, "SELECT group_concat(name, ',') FROM "
                                       "(SELECT name FROM pragma_index_info('_relations_target') "
                                       "ORDER BY seqno)");
    cr_assert_str_eq(cols, "target_key,kind,source_key");
    free(cols);
    cols = compat_query_text(sq, "SELECT group_concat(name, ',') FROM "
                                 "(SELECT name FROM pragma_table_info('_relations') WHERE pk > 0 "
                                 "ORDER BY pk)");
    cr_assert_str_eq(cols, "source_key,target_key,kind");
    free(cols);
    sqlite3_stmt *st =
        compat_prepare(sq, "EXPLAIN QUERY PLAN SELECT * FROM _relations WHERE target_key = 'x'");
    int uses = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        uses |= strstr((const char *)sqlite3_column_text(st, 3), "_relations_target") != NULL;
    sqlite3_finalize(st);
    cr_assert(uses, "SQLite does not use _relations_target for WHERE target_key = ?");
    compat_sqlite_close(sq);
}

/* ---- tests ---- */

Test(compat_edges, relate_and_walk)
{
    start();
    folio_db *db = open_rw(g_path);
    folio_txn *tx = begin(db, FOLIO_TXN_WRITE);
    folio_value d1 = text("first"), d2 = {.type = FOLIO_INTEGER, .u.i = -7};
    folio_value d3 = {.type = FOLIO_BLOB, .u.s = {"\x00\xff", 2}};
    relate(db, tx, "ada", "bob", "knows", 1.5, &d1);
    relate(db, tx, "ada", "cy", "likes", -0.25, &d2);
    relate(db, tx, "cy", "ada", "knows", 2.0, &d3);
    relate(db, tx, "ada", "ada", NULL, 0.0, NULL);
    relate(db, tx, "bob", "ada", "knows", 1e300, NULL);
    /* The writer walks its own edges. */
    char *img = walk_image(db, tx, "ada", FOLIO_EDGES_OUT | FOLIO_EDGES_IN, NULL);
    cr_assert_str_eq(img,
                     "out 616461 616461  0x0p+0 null\n"
                     "out 616461 626f62 6b6e6f7773 0x1.8p+0 t:6669727374\n"
                     "out 616461 6379 6c696b6573 -0x1p-2 i:-7\n"
                     "in 626f62 616461 6b6e6f7773 0x1.7e43c8800759cp+996 null\n"
                     "in 6379 616461 6b6e6f7773 0x1p+1 b:00ff\n",
                     "walk:\n%s", img);
    free(img);
    commit(db, tx);
    cr_assert_eq(folio_close(db), FOLIO_OK);

    assert_ok_file(g_path);
    assert_edge_schema(g_path);
    sqlite3 *sq = compat_sqlite_open_ro(g_path);
    char *c = compat_query_text(sq, "SELECT group_concat(key || ':' || ifnull(data, 'null'), ',') "
                                    "FROM (SELECT * FROM _concepts ORDER BY key)");
    cr_assert_str_eq(c, "ada:null,bob:null,cy:null");
    free(c);
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM _relations"), 5);
    cr_assert_eq(compat_query_int(sq, "SELECT typeof(weight) = 'real' AND typeof(kind) = 'text' "
                                      "FROM _relations WHERE source_key = 'ada' AND "
                                      "target_key = 'ada'"),
                 1);
    /* A reader sees the same through folio as SQLite does. */
    db = compat_folio_open(g_path, COMPAT_RO);
    tx = compat_folio_read(db);
    for (const char *k = "ada\0bob\0cy\0nobody\0"; *k; k += strlen(k) + 1) {
        compare_walks(db, tx, sq, k, NULL);
        compare_walks(db, tx, sq, k, "knows");
        compare_walks(db, tx, sq, k, "");
    }
    cr_assert_eq(folio_relate(tx, "a", "b", NULL, 1, NULL), FOLIO_READONLY);
    cr_assert_eq(folio_commit(tx), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_sqlite_close(sq);
    finish();
}

Test(compat_edges, duplicates_update_in_place)
{
    start();
    folio_db *db = open_rw(g_path);
    folio_txn *tx = begin(db, FOLIO_TXN_WRITE);
    folio_value d = text("one");
    relate(db, tx, "a", "b", "k", 1.0, &d);
    d = text("two");
    relate(db, tx, "a", "b", "k", 2.0, &d); /* same transaction */
    relate(db, tx, "a", "b", "other", 3.0, NULL);
    commit(db, tx);
    tx = begin(db, FOLIO_TXN_WRITE);
    folio_value big = {.type = FOLIO_BLOB};
    size_t n = 20000; /* an overflowing value, replaced by a small one below */
    unsigned char *bytes = malloc(n);
    for (size_t i = 0; i < n; i++)
        bytes[i] = (unsigned char)(i * 31);
    big.u.s.p = bytes;
    big.u.s.n = n;
    relate(db, tx, "a", "b", "k", 4.5, &big);
    commit(db, tx);
    assert_ok_file(g_path);
    tx = begin(db, FOLIO_TXN_WRITE);
    relate(db, tx, "a", "b", "k", -1.0, NULL);
    commit(db, tx);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    free(bytes);

    assert_ok_file(g_path);
    sqlite3 *sq = compat_sqlite_open_ro(g_path);
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM _relations"), 2);
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM _concepts"), 2);
    char *r = compat_query_text(sq, "SELECT group_concat(kind || '=' || weight || '/' || "
                                    "ifnull(data, 'null'), ',') FROM (SELECT * FROM _relations "
                                    "ORDER BY kind)");
    cr_assert_str_eq(r, "k=-1.0/null,other=3.0/null");
    free(r);
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM _relations INDEXED BY "
                                      "_relations_target WHERE target_key = 'b'"),
                 2);
    cr_assert_eq(compat_query_int(sq, "PRAGMA freelist_count") >= 0, 1);
    compat_sqlite_close(sq);
    finish();
}

Test(compat_edges, existing_concepts_keep_their_data)
{
    start();
    sqlite3 *sq = compat_sqlite_open(g_path);
    compat_exec(sq, "CREATE TABLE _concepts(key TEXT PRIMARY KEY, data);"
                    "INSERT INTO _concepts VALUES('a', 'kept'), ('z', 42)");
    compat_sqlite_close(sq);
    folio_db *db = open_rw(g_path);
    folio_txn *tx = begin(db, FOLIO_TXN_WRITE);
    relate(db, tx, "a", "b", "k", 1.0, NULL);
    relate(db, tx, "b", "a", "k", 1.0, NULL);
    relate(db, tx, "b", "b", "k", 1.0, NULL);
    commit(db, tx);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    assert_ok_file(g_path);
    sq = compat_sqlite_open_ro(g_path);
    char *c = compat_query_text(sq, "SELECT group_concat(key || ':' || ifnull(data, 'null'), ',') "
                                    "FROM (SELECT * FROM _concepts ORDER BY key)");
    cr_assert_str_eq(c, "a:kept,b:null,z:42");
    free(c);
    compat_sqlite_close(sq);
    assert_edge_schema(g_path);
    finish();
}

Test(compat_edges, kinds_directions_and_unrelate)
{
    start();
    folio_db *db = open_rw(g_path);
    folio_txn *tx = begin(db, FOLIO_TXN_WRITE);
    const char *kinds[] = {"", "b", "a", "c"};
    for (int i = 0; i < 4; i++) {
        relate(db, tx, "hub", "x", kinds[i], i, NULL);
        relate(db, tx, "y", "hub", kinds[i], -i, NULL);
        relate(db, tx, "hub", "hub", kinds[i], 10 + i, NULL);
    }
    commit(db, tx);
    tx = compat_folio_read(db);
    sqlite3 *sq = compat_sqlite_open_ro(g_path);
    for (int i = 0; i < 4; i++)
        compare_walks(db, tx, sq, "hub", kinds[i]);
    compare_walks(db, tx, sq, "hub", NULL);
    compare_walks(db, tx, sq, "hub", "missing");
    compat_sqlite_close(sq);
    /* The kind is set before the first step only. */
    folio_edges *e;
    cr_assert_eq(folio_edges_open(&e, tx, "hub", FOLIO_EDGES_IN), FOLIO_OK);
    cr_assert_eq(folio_edges_next(e), FOLIO_ROW);
    cr_assert_eq(folio_edges_kind(e, "a"), FOLIO_MISUSE);
    folio_edges_close(e);
    cr_assert_eq(folio_commit(tx), FOLIO_OK);

    tx = begin(db, FOLIO_TXN_WRITE);
    cr_assert_eq(folio_unrelate(tx, "hub", "x", "b"), FOLIO_OK);
    cr_assert_eq(folio_unrelate(tx, "hub", "x", "b"), FOLIO_NOTFOUND);
    cr_assert_eq(folio_unrelate(tx, "hub", "hub", NULL), FOLIO_OK); /* every kind */
    cr_assert_eq(folio_unrelate(tx, "hub", "hub", NULL), FOLIO_NOTFOUND);
    cr_assert_eq(folio_unrelate(tx, "nobody", "x", NULL), FOLIO_NOTFOUND);
    commit(db, tx);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    assert_ok_file(g_path);
    sq = compat_sqlite_open_ro(g_path);
    char *r = compat_query_text(sq, "SELECT group_concat(source_key || '>' || target_key || ':' || "
                                    "kind, ',') FROM (SELECT * FROM _relations ORDER BY 1, 2, 3)");
    cr_assert_str_eq(r, "hub>x:,hub>x:a,hub>x:c,y>hub:,y>hub:a,y>hub:b,y>hub:c");
    free(r);
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM _concepts"), 3, "concepts stay");
    compat_sqlite_close(sq);
    finish();
}

Test(compat_edges, bad_arguments)
{
    start();
    folio_db *db = open_rw(g_path);
    folio_txn *tx = begin(db, FOLIO_TXN_WRITE);
    cr_assert_eq(folio_relate(NULL, "a", "b", NULL, 1, NULL), FOLIO_MISUSE);
    cr_assert_eq(folio_relate(tx, NULL, "b", NULL, 1, NULL), FOLIO_MISUSE);
    cr_assert_not_null(strstr(folio_errmsg(db), "source_key is NULL"), "%s", folio_errmsg(db));
    cr_assert_eq(folio_relate(tx, "a", "", NULL, 1, NULL), FOLIO_MISUSE);
    cr_assert_not_null(strstr(folio_errmsg(db), "target_key is empty"), "%s", folio_errmsg(db));
    cr_assert_eq(folio_relate(tx, "a", "b", NULL, NAN, NULL), FOLIO_MISUSE);
    folio_value bad = {.type = (folio_type)9};
    cr_assert_eq(folio_relate(tx, "a", "b", NULL, 1, &bad), FOLIO_MISUSE);
    cr_assert_eq(folio_unrelate(tx, "a", NULL, NULL), FOLIO_MISUSE);
    folio_edges *e = (folio_edges *)1;
    cr_assert_eq(folio_edges_open(&e, tx, "", FOLIO_EDGES_OUT), FOLIO_MISUSE);
    cr_assert_null(e);
    cr_assert_eq(folio_edges_open(&e, tx, "a", 0), FOLIO_MISUSE);
    cr_assert_eq(folio_edges_open(&e, tx, "a", 4), FOLIO_MISUSE);
    cr_assert_eq(folio_edges_open(NULL, tx, "a", 1), FOLIO_MISUSE);
    cr_assert_eq(folio_edges_next(NULL), FOLIO_MISUSE);
    folio_edges_close(NULL);
    /* Nothing was created by the refused calls; a walk of a database
     * without the tables has no edges. */
    cr_assert_eq(folio_schema_count(tx), 0);
    cr_assert_eq(folio_edges_open(&e, tx, "a", FOLIO_EDGES_OUT | FOLIO_EDGES_IN), FOLIO_OK);
    cr_assert_eq(folio_edges_next(e), FOLIO_DONE);
    folio_edges_close(e);
    cr_assert_eq(folio_unrelate(tx, "a", "b", NULL), FOLIO_NOTFOUND);
    relate(db, tx, "a", "b", NULL, INFINITY, NULL);
    commit(db, tx);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    assert_ok_file(g_path);
    sqlite3 *sq = compat_sqlite_open_ro(g_path);
    cr_assert_eq(compat_query_int(sq, "SELECT weight > 1e308 FROM _relations"), 1);
    compat_sqlite_close(sq);
    finish();
}

/* A relate that fails at its last step leaves nothing: not the concepts
 * it inserted, nor the tables and index it created. */
Test(compat_edges, failed_relate_leaves_nothing)
{
    start();
    sqlite3 *sq = compat_sqlite_open(g_path);
    compat_exec(sq, "CREATE TABLE _relations(source_key TEXT, target_key TEXT, kind TEXT,"
                    " weight REAL CHECK(weight >= 0), data,"
                    " PRIMARY KEY(source_key, target_key, kind)) WITHOUT ROWID;"
                    "CREATE TABLE u(a); CREATE INDEX u_a ON u(a)");
    compat_sqlite_close(sq);
    folio_db *db = open_rw(g_path);
    folio_txn *tx = begin(db, FOLIO_TXN_WRITE);
    /* Deferred index entries of another table are pending meanwhile. */
    folio_table *u;
    cr_assert_eq(folio_table_open(&u, tx, "u"), FOLIO_OK);
    for (int i = 0; i < 3000; i++) {
        folio_value v = {.type = FOLIO_INTEGER, .u.i = (i * 7919) % 3001};
        cr_assert_eq(folio_insert(NULL, u, &v, 1), FOLIO_OK);
    }
    int rc = folio_relate(tx, "x", "y", "k", -1.0, NULL);
    cr_assert_eq(rc, FOLIO_CONSTRAINT, "%s: %s", compat_rc_name(rc), folio_errmsg(db));
    cr_assert_not_null(strstr(folio_errmsg(db), "CHECK constraint failed"), "%s", folio_errmsg(db));
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, tx, "_concepts"), FOLIO_NOTFOUND_ERR);
    for (int i = 0; i < folio_schema_count(tx); i++) {
        folio_schema_entry se;
        cr_assert_eq(folio_schema_get(&se, tx, i), FOLIO_OK);
        cr_assert(strcmp(se.name, "_relations_target") != 0 && strcmp(se.name, "_concepts") != 0,
                  "%s survived the failed call", se.name);
    }
    /* Once the tables exist, a failure keeps the concepts out too. */
    relate(db, tx, "p", "q", "k", 1.0, NULL);
    rc = folio_relate(tx, "x", "y", "k", -1.0, NULL);
    cr_assert_eq(rc, FOLIO_CONSTRAINT);
    relate(db, tx, "x", "q", "k", 2.0, NULL);
    for (int i = 3000; i < 4000; i++) {
        folio_value v = {.type = FOLIO_INTEGER, .u.i = i};
        cr_assert_eq(folio_insert(NULL, u, &v, 1), FOLIO_OK);
    }
    commit(db, tx);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    assert_ok_file(g_path);
    sq = compat_sqlite_open_ro(g_path);
    char *c = compat_query_text(sq, "SELECT group_concat(key, ',') FROM "
                                    "(SELECT key FROM _concepts ORDER BY key)");
    cr_assert_str_eq(c, "p,q,x");
    free(c);
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM _relations"), 2);
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM u INDEXED BY u_a WHERE a >= 0"), 4000);
    compat_sqlite_close(sq);
    finish();
}

Test(compat_edges, tables_of_another_shape_are_refused)
{
    static const char *const shapes[] = {
        "CREATE TABLE _relations(source_key, target_key, kind, weight, data)",
        "CREATE TABLE _relations(a, b, c, weight, data, PRIMARY KEY(a, b, c)) WITHOUT ROWID",
        "CREATE TABLE _relations(source_key, target_key, kind, weight, data,"
        " PRIMARY KEY(target_key, source_key, kind)) WITHOUT ROWID",
        "CREATE TABLE _relations(source_key COLLATE NOCASE, target_key, kind, weight, data,"
        " PRIMARY KEY(source_key, target_key, kind)) WITHOUT ROWID",
        "CREATE TABLE _concepts(key, data, extra)",
        "CREATE TABLE _concepts(key INTEGER PRIMARY KEY, data)",
        "CREATE TABLE _relations(source_key, target_key, kind, weight, data,"
        " PRIMARY KEY(source_key, target_key, kind)) WITHOUT ROWID;"
        "CREATE INDEX _relations_target ON _relations(target_key)",
        "CREATE TABLE other(x); CREATE INDEX _relations_target ON other(x)",
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        start();
        compat_run(g_path, shapes[i]);
        folio_db *db = open_rw(g_path);
        folio_txn *tx = begin(db, FOLIO_TXN_WRITE);
        int rc = folio_relate(tx, "a", "b", "k", 1.0, NULL);
        cr_assert_eq(rc, FOLIO_ERROR, "%s: %s", shapes[i], compat_rc_name(rc));
        cr_assert_not_null(strstr(folio_errmsg(db), "expected CREATE"), "%s", folio_errmsg(db));
        int walk_fails = strstr(shapes[i], "_concepts(") == NULL;
        folio_edges *e;
        cr_assert_eq(folio_edges_open(&e, tx, "a", FOLIO_EDGES_IN), FOLIO_OK);
        rc = folio_edges_next(e);
        cr_assert_eq(rc, walk_fails ? FOLIO_ERROR : FOLIO_DONE, "%s: %s", shapes[i],
                     compat_rc_name(rc));
        folio_edges_close(e);
        cr_assert_eq(folio_rollback(tx), FOLIO_OK);
        cr_assert_eq(folio_close(db), FOLIO_OK);
        assert_ok_file(g_path);
        finish();
    }
}

/* Tables made by SQLite without the index (IN walks scan), and a UTF-16
 * file (read-only to folio): the walks are SQLite's. */
Test(compat_edges, files_made_by_sqlite)
{
    static const char *const encodings[] = {"UTF-8", "UTF-16le"};
    for (int enc = 0; enc < 2; enc++) {
        start();
        sqlite3 *sq = compat_sqlite_open(g_path);
        compat_execf(sq, "PRAGMA encoding = '%s'", encodings[enc]);
        compat_exec(
            sq,
            "CREATE TABLE _concepts(key TEXT PRIMARY KEY, data) WITHOUT ROWID;"
            "CREATE TABLE _relations(source_key TEXT, target_key TEXT, kind TEXT,"
            " weight REAL, data, PRIMARY KEY(source_key, target_key, kind)) WITHOUT ROWID;"
            "INSERT INTO _relations VALUES('a','b','k',1,'x'), ('b','a','k',2,NULL),"
            " ('a','a','',3,x'01'), ('c','a','j','heavy',4), ('a','c','j',NULL,5.5),"
            " ('ä','a','k',1,'ü');" COMPAT_SERIES(
                1,
                300) "INSERT INTO _relations SELECT 'n' || value, 'a', 'k' || (value % 3), value,"
                     " NULL FROM series");
        compat_sqlite_close(sq);
        folio_db *db = compat_folio_open(g_path, COMPAT_RO);
        folio_txn *tx = compat_folio_read(db);
        sq = compat_sqlite_open_ro(g_path);
        g_no_index = 1;
        for (const char *k = "a\0b\0c\0ä\0n7\0"; *k; k += strlen(k) + 1) {
            compare_walks(db, tx, sq, k, NULL);
            compare_walks(db, tx, sq, k, "k1");
        }
        g_no_index = 0;
        compat_sqlite_close(sq);
        cr_assert_eq(folio_commit(tx), FOLIO_OK);
        cr_assert_eq(folio_close(db), FOLIO_OK);
        if (enc == 0) {
            /* folio adds the index to such a file at its first relate. */
            db = open_rw(g_path);
            tx = begin(db, FOLIO_TXN_WRITE);
            relate(db, tx, "a", "d", "k", 1.0, NULL);
            commit(db, tx);
            cr_assert_eq(folio_close(db), FOLIO_OK);
            assert_ok_file(g_path);
            assert_edge_schema(g_path);
            db = compat_folio_open(g_path, COMPAT_RO);
            tx = compat_folio_read(db);
            sq = compat_sqlite_open_ro(g_path);
            compare_walks(db, tx, sq, "a", NULL);
            compare_walks(db, tx, sq, "d", NULL);
            compat_sqlite_close(sq);
            cr_assert_eq(folio_commit(tx), FOLIO_OK);
            cr_assert_eq(folio_close(db), FOLIO_OK);
        }
        finish();
    }
}

/* ---- a random graph ---- */

#define NKEYS  150
#define NKINDS 3

typedef struct model_edge {
    int s, t, k;
    double w;
    int dtype; /* FOLIO_NULL, FOLIO_INTEGER, FOLIO_TEXT */
    int64_t di;
    int live;
} model_edge;

static void key_name(char out[24], int i)
{
    /* Keys that share prefixes and sort differently as text than as numbers. */
    snprintf(out, 24, "c%d%s", i % 50, i >= 50 ? (i >= 100 ? "/z" : "/") : "");
}

Test(compat_edges, random_graph_matches_sqlite)
{
    uint64_t rng = compat_seed(0xed9e5);
    start();
    static const char *const kinds[NKINDS] = {"", "knows", "cites"};
    static model_edge m[NKEYS * NKEYS * NKINDS];
    memset(m, 0, sizeof m);
    folio_db *db = open_rw(g_path);
    int nrelates = 0;
    for (int round = 0; round < 4; round++) {
        folio_txn *tx = begin(db, FOLIO_TXN_WRITE);
        for (int i = 0; i < 1000; i++) {
            /* A few hubs get most of the edges. */
            int s = (int)(compat_below(&rng, 4) == 0 ? compat_below(&rng, 5)
                                                     : compat_below(&rng, NKEYS));
            int t = (int)(compat_below(&rng, 4) == 0 ? compat_below(&rng, 5)
                                                     : compat_below(&rng, NKEYS));
            int k = (int)compat_below(&rng, NKINDS);
            char sk[24], tk[24];
            key_name(sk, s);
            key_name(tk, t);
            model_edge *e = &m[(s * NKEYS + t) * NKINDS + k];
            if (compat_below(&rng, 20) == 0) {
                int rc = folio_unrelate(tx, sk, tk, kinds[k]);
                cr_assert_eq(rc, e->live ? FOLIO_OK : FOLIO_NOTFOUND, "unrelate: %s",
                             compat_rc_name(rc));
                e->live = 0;
                continue;
            }
            e->s = s;
            e->t = t;
            e->k = k;
            e->w = (double)(int64_t)compat_rand(&rng) / 1e9;
            e->dtype = (int)compat_below(&rng, 3) == 0 ? FOLIO_NULL
                       : compat_below(&rng, 2) == 0    ? FOLIO_INTEGER
                                                       : FOLIO_TEXT;
            e->di = (int64_t)compat_rand(&rng);
            e->live = 1;
            char dtext[32];
            snprintf(dtext, sizeof dtext, "d%lld", (long long)e->di);
            folio_value d = {.type = FOLIO_NULL};
            if (e->dtype == FOLIO_INTEGER) {
                d.type = FOLIO_INTEGER;
                d.u.i = e->di;
            } else if (e->dtype == FOLIO_TEXT) {
                d = text(dtext);
            }
            relate(db, tx, sk, tk, kinds[k], e->w, &d);
            nrelates++;
        }
        if (round == 2) {
            cr_assert_eq(folio_rollback(tx), FOLIO_OK); /* the model forgets it too */
            cr_assert_eq(folio_close(db), FOLIO_OK);
            db = open_rw(g_path);
            sqlite3 *sq = compat_sqlite_open_ro(g_path);
            /* Rebuild the model from the file's committed rows. */
            memset(m, 0, sizeof m);
            sqlite3_stmt *st = compat_prepare(sq, "SELECT source_key, target_key, kind, weight,"
                                                  " data FROM _relations");
            while (sqlite3_step(st) == SQLITE_ROW) {
                int s = -1, t = -1, k = -1;
                for (int j = 0; j < NKEYS; j++) {
                    char name[24];
                    key_name(name, j);
                    if (!strcmp(name, (const char *)sqlite3_column_text(st, 0)))
                        s = j;
                    if (!strcmp(name, (const char *)sqlite3_column_text(st, 1)))
                        t = j;
                }
                for (int j = 0; j < NKINDS; j++)
                    if (!strcmp(kinds[j], (const char *)sqlite3_column_text(st, 2)))
                        k = j;
                cr_assert(s >= 0 && t >= 0 && k >= 0);
                model_edge *e = &m[(s * NKEYS + t) * NKINDS + k];
                e->s = s;
                e->t = t;
                e->k = k;
                e->w = sqlite3_column_double(st, 3);
                e->live = 1;
                int dt = sqlite3_column_type(st, 4);
                e->dtype = dt == SQLITE_NULL      ? FOLIO_NULL
                           : dt == SQLITE_INTEGER ? FOLIO_INTEGER
                                                  : FOLIO_TEXT;
                e->di = dt == SQLITE_INTEGER ? sqlite3_column_int64(st, 4)
                        : dt == SQLITE_TEXT
                            ? strtoll((const char *)sqlite3_column_text(st, 4) + 1, NULL, 10)
                            : 0;
            }
            sqlite3_finalize(st);
            compat_sqlite_close(sq);
            continue;
        }
        commit(db, tx);
    }
    cr_assert_eq(folio_close(db), FOLIO_OK);
    cr_assert_gt(nrelates, 3000);
    assert_ok_file(g_path);
    assert_edge_schema(g_path);

    /* The table is the model. */
    sqlite3 *sq = compat_sqlite_open_ro(g_path);
    int64_t live = 0;
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        if (!m[i].live)
            continue;
        live++;
        char sk[24], tk[24];
        key_name(sk, m[i].s);
        key_name(tk, m[i].t);
        sqlite3_stmt *st = compat_prepare(sq, "SELECT weight, typeof(data), data FROM _relations"
                                              " WHERE source_key = ?1 AND target_key = ?2"
                                              " AND kind = ?3");
        sqlite3_bind_text(st, 1, sk, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, tk, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, kinds[m[i].k], -1, SQLITE_STATIC);
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "edge %s>%s:%s missing", sk, tk, kinds[m[i].k]);
        cr_assert(sqlite3_column_double(st, 0) == m[i].w, "weight of %s>%s", sk, tk);
        const char *ty = (const char *)sqlite3_column_text(st, 1);
        if (m[i].dtype == FOLIO_NULL)
            cr_assert_str_eq(ty, "null");
        else if (m[i].dtype == FOLIO_INTEGER)
            cr_assert(!strcmp(ty, "integer") && sqlite3_column_int64(st, 2) == m[i].di);
        else
            cr_assert(!strcmp(ty, "text") &&
                      strtoll((const char *)sqlite3_column_text(st, 2) + 1, NULL, 10) == m[i].di);
        sqlite3_finalize(st);
    }
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM _relations"), live);
    /* Each key that is an end of an edge is a concept, once. */
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) FROM (SELECT source_key FROM _relations"
                                      " UNION SELECT target_key FROM _relations)"
                                      " WHERE source_key NOT IN (SELECT key FROM _concepts)"),
                 0);
    cr_assert_eq(compat_query_int(sq, "SELECT count(*) - count(DISTINCT key) FROM _concepts"), 0);

    /* Every walk is SQLite's. */
    db = compat_folio_open(g_path, COMPAT_RO);
    folio_txn *tx = compat_folio_read(db);
    for (int i = 0; i < NKEYS; i++) {
        char k[24];
        key_name(k, i);
        compare_walks(db, tx, sq, k, NULL);
        if (i % 10 == 0)
            compare_walks(db, tx, sq, k, kinds[i % NKINDS]);
    }
    compare_walks(db, tx, sq, "c1/zz", NULL);
    cr_assert_eq(folio_commit(tx), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_sqlite_close(sq);
    finish();
}
