/*
 * test_feed.c - the change feed's C API (folio_feed_open/next/close): the
 * changes of every version in order, each version ended by its commit, with
 * the rows before and after as the test wrote them (generated columns
 * computed, defaults of rows older than ADD COLUMN, REAL columns read as
 * reals), WITHOUT ROWID keys, DDL in the middle of a commit (a table renamed
 * between two inserts), a feed from a later version, a feed that finds the
 * versions committed after it reached the end, and a database without a log.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <folio.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"

TestSuite(db_feed, .timeout = 300);

/* ---- values as text ---- */

static void put_v(char *out, size_t cap, const folio_value *v)
{
    size_t n = strlen(out);
    switch (v->type) {
    case FOLIO_NULL:
        snprintf(out + n, cap - n, "n,");
        break;
    case FOLIO_INTEGER:
        snprintf(out + n, cap - n, "i%" PRId64 ",", v->u.i);
        break;
    case FOLIO_REAL:
        snprintf(out + n, cap - n, "r%.17g,", v->u.r);
        break;
    case FOLIO_TEXT:
        snprintf(out + n, cap - n, "t%.*s,", (int)v->u.s.n, (const char *)v->u.s.p);
        break;
    default:
        snprintf(out + n, cap - n, "b%zu,", v->u.s.n);
    }
}

static void put_row(char *out, size_t cap, const char *what, const folio_value *v, int n)
{
    size_t k = strlen(out);
    snprintf(out + k, cap - k, " %s=[", what);
    for (int i = 0; i < n; i++)
        put_v(out, cap, &v[i]);
    k = strlen(out);
    snprintf(out + k, cap - k, "]");
}

static const char *op_name(int op)
{
    static const char *const names[] = {"?",    "INSERT",   "UPDATE", "DELETE",
                                        "EXEC", "SNAPSHOT", "COMMIT"};
    return op >= 1 && op <= 6 ? names[op] : "?";
}

/* A change as one line of text. */
static char *change_text(const folio_change *c)
{
    char *s = malloc(4096);
    cr_assert(s);
    snprintf(s, 4096, "v%" PRIu64 " %s", c->version, op_name(c->op));
    size_t k = strlen(s);
    if (c->op == FOLIO_CHANGE_EXEC)
        snprintf(s + k, 4096 - k, " %s: %s", c->table ? c->table : "-", c->sql);
    if (c->op >= FOLIO_CHANGE_INSERT && c->op <= FOLIO_CHANGE_DELETE) {
        if (c->without_rowid)
            snprintf(s + k, 4096 - k, " %s", c->table), put_row(s, 4096, "key", c->key, c->nkey);
        else
            snprintf(s + k, 4096 - k, " %s rowid=%" PRId64, c->table, c->rowid);
        if (c->values)
            put_row(s, 4096, "new", c->values, c->ncols);
        if (c->old)
            put_row(s, 4096, "old", c->old, c->ncols);
    }
    return s;
}

typedef struct lines {
    char *v[512];
    int n;
} lines;

static void add(lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(lines *l, const char *fmt, ...)
{
    cr_assert(l->n < 512);
    char *s = malloc(4096);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, 4096, fmt, ap);
    va_end(ap);
    l->v[l->n++] = s;
}

static void lines_free(lines *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    l->n = 0;
}

/* Every change the feed gives from `from` until FOLIO_DONE. */
static void feed_all(folio_db *db, uint64_t from, lines *out)
{
    folio_feed *f;
    cr_assert_eq(folio_feed_open(&f, db, from), FOLIO_OK, "%s", folio_errmsg(db));
    folio_change c;
    int rc;
    uint64_t last = 0;
    while ((rc = folio_feed_next(f, &c)) == FOLIO_ROW) {
        cr_assert(c.version >= last, "version %" PRIu64 " after %" PRIu64, c.version, last);
        last = c.version;
        cr_assert(out->n < 512);
        out->v[out->n++] = change_text(&c);
    }
    cr_assert_eq(rc, FOLIO_DONE, "%d: %s", rc, folio_errmsg(db));
    cr_assert_eq(folio_feed_next(f, &c), FOLIO_DONE, "DONE again");
    cr_assert_eq(folio_feed_close(f), FOLIO_OK);
}

static void assert_lines(const lines *got, const lines *want)
{
    for (int i = 0; i < got->n && i < want->n; i++)
        cr_assert_str_eq(got->v[i], want->v[i], "change %d: got [%s], want [%s]", i, got->v[i],
                         want->v[i]);
    cr_assert_eq(got->n, want->n, "%d changes, expected %d (next: %s)", got->n, want->n,
                 got->n > want->n ? got->v[want->n] : want->v[got->n]);
}

/* ---- writing ---- */

static folio_db *create_db(const char *path)
{
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, NULL), FOLIO_OK, "%s", folio_open_errmsg());
    return db;
}

static folio_value I(int64_t i)
{
    folio_value v;
    memset(&v, 0, sizeof v);
    v.type = FOLIO_INTEGER;
    v.u.i = i;
    return v;
}

static folio_value T(const char *s)
{
    folio_value v;
    memset(&v, 0, sizeof v);
    v.type = FOLIO_TEXT;
    v.u.s.p = s;
    v.u.s.n = strlen(s);
    return v;
}

static folio_txn *wbegin(folio_db *db)
{
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
    return t;
}

static folio_table *topen(folio_txn *t, const char *name)
{
    folio_table *tb;
    cr_assert_eq(folio_table_open(&tb, t, name), FOLIO_OK, "%s", name);
    return tb;
}

static uint64_t commit(folio_db *db, folio_txn *t)
{
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
    uint64_t v;
    cr_assert_eq(folio_version(db, &v), FOLIO_OK);
    return v;
}

static void exec_ok(folio_db *db, folio_txn *t, const char *sql)
{
    cr_assert_eq(folio_exec(t, sql), FOLIO_OK, "%s: %s", sql, folio_errmsg(db));
}

Test(db_feed, changes_come_in_version_order_with_the_rows_before_and_after)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "f.db");
    folio_db *db = create_db(path);
    cr_assert_eq(folio_log_enable(db, FOLIO_LOG_ZSTD), FOLIO_OK, "%s", folio_errmsg(db));
    uint64_t base;
    cr_assert_eq(folio_version(db, &base), FOLIO_OK);
    lines want = {{0}, 0};

    /* A: a table with generated columns and a REAL column; rows. */
    folio_txn *t = wbegin(db);
    const char *ddl = "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, r REAL, g INT GENERATED "
                      "ALWAYS AS (id * 2) VIRTUAL, s TEXT GENERATED ALWAYS AS (a || '!') STORED)";
    exec_ok(db, t, ddl);
    folio_table *tb = topen(t, "t");
    for (int i = 1; i <= 3; i++) {
        char a[8];
        snprintf(a, sizeof a, "a%d", i);
        folio_value v[3] = {I(i), T(a), I(10 * i)};
        cr_assert_eq(folio_insert(NULL, tb, v, 3), FOLIO_OK, "%s", folio_errmsg(db));
    }
    uint64_t va = commit(db, t);
    add(&want, "v%" PRIu64 " EXEC t: %s", va, ddl);
    for (int i = 1; i <= 3; i++)
        add(&want, "v%" PRIu64 " INSERT t rowid=%d new=[i%d,ta%d,r%d,i%d,ta%d!,]", va, i, i, i,
            10 * i, 2 * i, i);
    add(&want, "v%" PRIu64 " COMMIT", va);

    /* B: an update, a delete, an insert. */
    t = wbegin(db);
    tb = topen(t, "t");
    folio_value u[3] = {I(2), T("x"), I(7)};
    cr_assert_eq(folio_update(tb, 2, u, 3), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_delete(tb, 3), FOLIO_OK);
    folio_value n[3] = {I(100), T("h"), I(1)};
    cr_assert_eq(folio_insert(NULL, tb, n, 3), FOLIO_OK);
    uint64_t vb = commit(db, t);
    add(&want, "v%" PRIu64 " UPDATE t rowid=2 new=[i2,tx,r7,i4,tx!,] old=[i2,ta2,r20,i4,ta2!,]",
        vb);
    add(&want, "v%" PRIu64 " DELETE t rowid=3 old=[i3,ta3,r30,i6,ta3!,]", vb);
    add(&want, "v%" PRIu64 " INSERT t rowid=100 new=[i100,th,r1,i200,th!,]", vb);
    add(&want, "v%" PRIu64 " COMMIT", vb);

    /* A rolled back transaction leaves nothing. */
    t = wbegin(db);
    tb = topen(t, "t");
    cr_assert_eq(folio_delete(tb, 1), FOLIO_OK);
    cr_assert_eq(folio_rollback(t), FOLIO_OK);

    /* C: WITHOUT ROWID: an update in place, one that moves the key, a delete. */
    t = wbegin(db);
    const char *wddl = "CREATE TABLE w(k TEXT, n INT, v TEXT, PRIMARY KEY(k, n)) WITHOUT ROWID";
    exec_ok(db, t, wddl);
    folio_table *tw = topen(t, "w");
    folio_value w1[3] = {T("k"), I(1), T("one")}, w2[3] = {T("k"), I(2), T("two")};
    cr_assert_eq(folio_insert(NULL, tw, w1, 3), FOLIO_OK);
    cr_assert_eq(folio_insert(NULL, tw, w2, 3), FOLIO_OK);
    folio_value w1b[3] = {T("k"), I(1), T("uno")};
    cr_assert_eq(folio_update_key(tw, w1, 2, w1b, 3), FOLIO_OK, "%s", folio_errmsg(db));
    folio_value w2b[3] = {T("m"), I(2), T("two")};
    cr_assert_eq(folio_update_key(tw, w2, 2, w2b, 3), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_delete_key(tw, w1b, 2), FOLIO_OK);
    uint64_t vc = commit(db, t);
    add(&want, "v%" PRIu64 " EXEC w: %s", vc, wddl);
    add(&want, "v%" PRIu64 " INSERT w key=[tk,i1,] new=[tk,i1,tone,]", vc);
    add(&want, "v%" PRIu64 " INSERT w key=[tk,i2,] new=[tk,i2,ttwo,]", vc);
    add(&want, "v%" PRIu64 " UPDATE w key=[tk,i1,] new=[tk,i1,tuno,] old=[tk,i1,tone,]", vc);
    /* (a new key: the old row goes, the new one comes) */
    add(&want, "v%" PRIu64 " DELETE w key=[tk,i2,] old=[tk,i2,ttwo,]", vc);
    add(&want, "v%" PRIu64 " INSERT w key=[tm,i2,] new=[tm,i2,ttwo,]", vc);
    add(&want, "v%" PRIu64 " DELETE w key=[tk,i1,] old=[tk,i1,tuno,]", vc);
    add(&want, "v%" PRIu64 " COMMIT", vc);

    /* D: ADD COLUMN, then a row written before it changes: its old image
     * has the default. */
    t = wbegin(db);
    exec_ok(db, t, "ALTER TABLE t ADD COLUMN z TEXT DEFAULT 'dz'");
    tb = topen(t, "t");
    folio_value u1[4] = {I(1), T("a1"), I(10), T("zz")};
    cr_assert_eq(folio_update(tb, 1, u1, 4), FOLIO_OK, "%s", folio_errmsg(db));
    uint64_t vd = commit(db, t);
    add(&want, "v%" PRIu64 " EXEC t: ALTER TABLE t ADD COLUMN z TEXT DEFAULT 'dz'", vd);
    add(&want,
        "v%" PRIu64 " UPDATE t rowid=1 new=[i1,ta1,r10,i2,ta1!,tzz,] old=[i1,ta1,r10,i2,ta1!,tdz,]",
        vd);
    add(&want, "v%" PRIu64 " COMMIT", vd);

    /* E: a table renamed between two inserts of one commit. */
    t = wbegin(db);
    exec_ok(db, t, "CREATE TABLE q(id INTEGER PRIMARY KEY, v)");
    cr_assert_eq(folio_insert(NULL, topen(t, "q"), (folio_value[]){I(1), T("before")}, 2),
                 FOLIO_OK);
    exec_ok(db, t, "ALTER TABLE q RENAME TO q2");
    cr_assert_eq(folio_insert(NULL, topen(t, "q2"), (folio_value[]){I(2), T("after")}, 2),
                 FOLIO_OK);
    uint64_t ve = commit(db, t);
    add(&want, "v%" PRIu64 " EXEC q: CREATE TABLE q(id INTEGER PRIMARY KEY, v)", ve);
    add(&want, "v%" PRIu64 " INSERT q rowid=1 new=[i1,tbefore,]", ve);
    add(&want, "v%" PRIu64 " EXEC q: ALTER TABLE q RENAME TO q2", ve);
    add(&want, "v%" PRIu64 " INSERT q2 rowid=2 new=[i2,tafter,]", ve);
    add(&want, "v%" PRIu64 " COMMIT", ve);

    /* From the start: the log's first base (the empty database) as a
     * snapshot, then every version. */
    lines got = {{0}, 0}, all = {{0}, 0};
    feed_all(db, 0, &got);
    cr_assert(got.n > 0 && got.v[0][0] == 'v');
    uint64_t snap = strtoull(got.v[0] + 1, NULL, 10);
    cr_assert(snap <= base,
              "the snapshot's version %" PRIu64 " is after the log began (%" PRIu64 ")", snap,
              base);
    lines_free(&got);
    add(&all, "v%" PRIu64 " SNAPSHOT", snap);
    add(&all, "v%" PRIu64 " COMMIT", snap);
    for (int i = 0; i < want.n; i++)
        add(&all, "%s", want.v[i]);
    feed_all(db, 0, &got);
    assert_lines(&got, &all);
    lines_free(&got);

    /* From version C on: no snapshot, C first. */
    feed_all(db, vc, &got);
    int from_c = 0;
    while (strncmp(want.v[from_c], "v", 1) == 0 && strtoull(want.v[from_c] + 1, NULL, 10) < vc)
        from_c++;
    lines tail = {{0}, 0};
    for (int i = from_c; i < want.n; i++)
        add(&tail, "%s", want.v[i]);
    assert_lines(&got, &tail);
    lines_free(&got);
    lines_free(&tail);

    /* A feed at the end finds what is committed after. */
    folio_feed *f;
    cr_assert_eq(folio_feed_open(&f, db, ve + 1), FOLIO_OK, "%s", folio_errmsg(db));
    folio_change c;
    cr_assert_eq(folio_feed_next(f, &c), FOLIO_DONE);
    t = wbegin(db);
    cr_assert_eq(folio_delete(topen(t, "t"), 100), FOLIO_OK);
    uint64_t vf = commit(db, t);
    cr_assert_eq(folio_feed_next(f, &c), FOLIO_ROW, "%s", folio_errmsg(db));
    char *s = change_text(&c);
    char exp[256];
    snprintf(exp, sizeof exp, "v%" PRIu64 " DELETE t rowid=100 old=[i100,th,r1,i200,th!,tdz,]", vf);
    cr_assert_str_eq(s, exp);
    free(s);
    cr_assert_eq(c.generated[3], 1);
    cr_assert_eq(c.generated[4], 1);
    cr_assert_eq(c.generated[1], 0);
    cr_assert_str_eq(c.colnames[5], "z");
    cr_assert_eq(folio_feed_next(f, &c), FOLIO_ROW);
    cr_assert_eq(c.op, FOLIO_CHANGE_COMMIT);
    cr_assert_eq(folio_feed_next(f, &c), FOLIO_DONE);
    const char *src;
    cr_assert_eq(folio_feed_source(f, &src), FOLIO_OK);
    cr_assert_eq(strlen(src), 25, "source %s", src);
    cr_assert_eq(folio_feed_close(f), FOLIO_OK);

    lines_free(&want);
    lines_free(&all);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

Test(db_feed, a_database_without_a_log_has_no_feed)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "n.db");
    folio_db *db = create_db(path);
    folio_feed *f = (folio_feed *)1;
    cr_assert_eq(folio_feed_open(&f, db, 0), FOLIO_NOTFOUND_ERR);
    cr_assert_null(f);
    cr_assert(strstr(folio_errmsg(db), "no commit log"), "%s", folio_errmsg(db));
    cr_assert_eq(folio_feed_open(NULL, db, 0), FOLIO_MISUSE);
    cr_assert_eq(folio_feed_next(NULL, NULL), FOLIO_MISUSE);
    cr_assert_eq(folio_feed_close(NULL), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

/* The newest base file of the log of `path` (its name, freshly allocated). */
static char *newest_base(const char *path)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s-log", path);
    DIR *d = opendir(dir);
    cr_assert(d, "%s", dir);
    char best[64] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strlen(e->d_name) == 25 && strcmp(e->d_name + 20, ".base") == 0 &&
            strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", e->d_name);
    closedir(d);
    cr_assert(best[0]);
    char *p = malloc(4300);
    snprintf(p, 4300, "%s/%s", dir, best);
    return p;
}

static void insert_one(folio_db *db, int64_t id)
{
    folio_txn *t = wbegin(db);
    cr_assert_eq(folio_insert(NULL, topen(t, "t"), (folio_value[]){I(id), T("x")}, 2), FOLIO_OK,
                 "%s", folio_errmsg(db));
    commit(db, t);
}

Test(db_feed, a_gap_without_a_base_after_it)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "g.db");
    folio_db *db = create_db(path);
    cr_assert_eq(folio_log_enable(db, FOLIO_LOG_ZSTD), FOLIO_OK, "%s", folio_errmsg(db));
    folio_txn *t = wbegin(db);
    exec_ok(db, t, "CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
    commit(db, t);
    insert_one(db, 1);
    /* Off for two commits, on again: a gap, and a base after the commit
     * that follows it. */
    cr_assert_eq(folio_log_disable(db), FOLIO_OK);
    insert_one(db, 2);
    insert_one(db, 3);
    /* (the WAL started over: the log cannot take those two from it) */
    cr_assert_eq(folio_checkpoint(db, FOLIO_CHECKPOINT_TRUNCATE, NULL, NULL), FOLIO_OK);
    cr_assert_eq(folio_log_enable(db, FOLIO_LOG_ZSTD), FOLIO_OK);
    insert_one(db, 4);
    char *base = newest_base(path);
    /* With its base: the feed resyncs there. */
    lines got = {{0}, 0};
    feed_all(db, 0, &got);
    int snaps = 0;
    for (int i = 0; i < got.n; i++)
        snaps += strstr(got.v[i], "SNAPSHOT") != NULL;
    cr_assert_eq(snaps, 2, "%d snapshots", snaps);
    lines_free(&got);
    /* Without it, at the tip of the log: the end for now (the base may be
     * on its way). */
    cr_assert_eq(unlink(base), 0);
    folio_feed *f;
    folio_change c;
    int rc;
    cr_assert_eq(folio_feed_open(&f, db, 0), FOLIO_OK);
    while ((rc = folio_feed_next(f, &c)) == FOLIO_ROW)
        ;
    cr_assert_eq(rc, FOLIO_DONE, "%d: %s", rc, folio_errmsg(db));
    /* Versions later, still none: an error naming the versions. */
    insert_one(db, 5);
    insert_one(db, 6);
    insert_one(db, 7);
    rc = folio_feed_next(f, &c);
    cr_assert_eq(rc, FOLIO_NOTFOUND_ERR, "%d: %s", rc, folio_errmsg(db));
    cr_assert(strstr(folio_errmsg(db), "happened without a record"), "%s", folio_errmsg(db));
    cr_assert_eq(folio_feed_next(f, &c), FOLIO_NOTFOUND_ERR, "the error stays");
    folio_feed_close(f);
    free(base);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    compat_rmtree(dir);
    free(path);
    free(dir);
}
