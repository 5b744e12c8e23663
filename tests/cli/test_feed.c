/*
 * test_feed.c - the change feed: `folio feed SRC | folio apply REPLICA`
 * makes a replica equal to the source, and a replica fed again after any
 * stop applies nothing twice.
 *
 * The source is written through the C API with its commit log on: a random
 * history of inserts, updates and deletes (rowid tables, WITHOUT ROWID
 * tables, an AUTOINCREMENT table), DDL (CREATE TABLE, ALTER TABLE ADD
 * COLUMN, DROP COLUMN, RENAME TO, CREATE INDEX, DROP TABLE), triggers that
 * write audit rows, foreign keys with ON DELETE CASCADE (enforced in some
 * sessions), transactions rolled back, checkpoints and reopenings. The feed
 * runs through the folio binary ($FOLIO_CLI); source and replica are read
 * with libsqlite3: every table, row (with its rowid), index, trigger and
 * sqlite_sequence row the same, integrity_check ok on both.
 *
 * Environment: FOLIO_SEED (printed as seed=N).
 */
#include <criterion/criterion.h>
#include <folio.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"

TestSuite(cli_feed, .timeout = 600);

/* ---- running the tool ---- */

static const char *cli(void)
{
    const char *c = getenv("FOLIO_CLI");
    cr_assert(c && *c, "FOLIO_CLI must name the folio binary (CTest sets it)");
    return c;
}

/* Run a shell command line; its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    fflush(NULL);
    int st = system(cmd);
    cr_assert(st != -1, "system(%s) failed", cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *slurp(const char *path, size_t *n)
{
    char *p = (char *)compat_read_file(path, n);
    cr_assert(p, "cannot read %s", path);
    return p;
}

/* ---- comparing two databases through libsqlite3 ---- */

typedef struct strv {
    char **v;
    size_t n, cap;
} strv;

static void strv_add(strv *s, char *p)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        cr_assert(s->v);
    }
    s->v[s->n++] = p;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strv_free(strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* One value as text that tells types and bytes apart. */
static void put_value(char **buf, size_t *len, size_t *cap, sqlite3_stmt *st, int i)
{
    char tmp[64];
    const char *add = tmp;
    size_t n = 0;
    char *hex = NULL;
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        n = (size_t)snprintf(tmp, sizeof tmp, "i%lld|", (long long)sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT:
        n = (size_t)snprintf(tmp, sizeof tmp, "r%.17g|", sqlite3_column_double(st, i));
        break;
    case SQLITE_NULL:
        n = (size_t)snprintf(tmp, sizeof tmp, "n|");
        break;
    default: {
        int text = sqlite3_column_type(st, i) == SQLITE_TEXT;
        const unsigned char *p =
            text ? sqlite3_column_text(st, i) : (const unsigned char *)sqlite3_column_blob(st, i);
        int k = sqlite3_column_bytes(st, i);
        hex = malloc(2 * (size_t)k + 4);
        cr_assert(hex);
        hex[0] = text ? 't' : 'b';
        for (int j = 0; j < k; j++)
            sprintf(hex + 1 + 2 * j, "%02x", p[j]);
        strcpy(hex + 1 + 2 * k, "|");
        add = hex;
        n = strlen(hex);
    }
    }
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = realloc(*buf, *cap);
        cr_assert(*buf);
    }
    memcpy(*buf + *len, add, n + 1);
    *len += n;
    free(hex);
}

/* Every row of a query, as sorted text. */
static void query_rows(sqlite3 *db, const char *sql, strv *out)
{
    sqlite3_stmt *st = compat_prepare(db, sql);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char *buf = NULL;
        size_t len = 0, cap = 0;
        for (int i = 0; i < sqlite3_column_count(st); i++)
            put_value(&buf, &len, &cap, st, i);
        strv_add(out, buf ? buf : strdup(""));
    }
    cr_assert_eq(rc, SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_str);
}

static void assert_same_rows(sqlite3 *a, sqlite3 *b, const char *sql, const char *what)
{
    strv ra = {0}, rb = {0};
    query_rows(a, sql, &ra);
    query_rows(b, sql, &rb);
    size_t i = 0;
    while (i < ra.n && i < rb.n && strcmp(ra.v[i], rb.v[i]) == 0)
        i++;
    cr_assert(i == ra.n && i == rb.n,
              "seed=%" PRIu64 ": %s differ: source has %zu rows, replica %zu; first difference: "
              "source [%s], replica [%s]",
              compat_current_seed(), what, ra.n, rb.n, i < ra.n ? ra.v[i] : "(none)",
              i < rb.n ? rb.v[i] : "(none)");
    strv_free(&ra);
    strv_free(&rb);
}

/* Source and replica hold the same schema (but the replica's own table),
 * the same rows in every table and the same sqlite_sequence; both pass
 * integrity_check. */
static void assert_same(const char *src, const char *rep)
{
    char *ia = compat_integrity(src), *ib = compat_integrity(rep);
    cr_assert_str_eq(ia, "ok", "seed=%" PRIu64 ": source: %s", compat_current_seed(), ia);
    cr_assert_str_eq(ib, "ok", "seed=%" PRIu64 ": replica: %s", compat_current_seed(), ib);
    free(ia);
    free(ib);
    sqlite3 *a = compat_sqlite_open_ro(src), *b = compat_sqlite_open_ro(rep);
    assert_same_rows(a, b,
                     "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE "
                     "'%_folio_replica%' AND sql IS NOT NULL",
                     "schemas");
    strv tabs = {0};
    query_rows(a,
               "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
               "AND name <> '_folio_replica'",
               &tabs);
    for (size_t i = 0; i < tabs.n; i++) {
        /* the name back from its hex ("t" and hex digits, then "|") */
        char name[256];
        size_t k = 0;
        for (const char *p = tabs.v[i] + 1; p[0] && p[0] != '|' && k + 1 < sizeof name; p += 2) {
            unsigned x;
            sscanf(p, "%2x", &x);
            name[k++] = (char)x;
        }
        name[k] = 0;
        char sql[512], what[300];
        int wr = compat_query_int(a,
                                  "SELECT count(*) FROM sqlite_schema WHERE name = '%s' AND sql "
                                  "LIKE '%%WITHOUT ROWID%%'",
                                  name) > 0;
        snprintf(sql, sizeof sql, "SELECT %s* FROM \"%s\"", wr ? "" : "rowid, ", name);
        snprintf(what, sizeof what, "the rows of %s", name);
        assert_same_rows(a, b, sql, what);
    }
    strv_free(&tabs);
    if (compat_query_int(a, "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_sequence'"))
        assert_same_rows(a, b, "SELECT rowid, name, seq FROM sqlite_sequence", "sqlite_sequence");
    compat_sqlite_close(a);
    compat_sqlite_close(b);
}

/* The version the replica recorded for its source. */
static int64_t replica_version(const char *rep)
{
    sqlite3 *b = compat_sqlite_open_ro(rep);
    int64_t v = compat_query_int(b, "SELECT max(version) FROM _folio_replica");
    compat_sqlite_close(b);
    return v;
}

static uint64_t folio_version_of(const char *path)
{
    folio_db *db = compat_folio_open(path, COMPAT_RO);
    uint64_t v;
    cr_assert_eq(folio_version(db, &v), FOLIO_OK);
    folio_close(db);
    return v;
}

/* ---- a random history ---- */

typedef struct hist {
    const char *path;
    folio_db *db;
    uint64_t rng;
    int fk;
    int ntab, nseq;
    char tabs[48][32]; /* the tables rows go to */
    int added[48];     /* an added column "e<k>" exists (to drop) */
} hist;

static void h_open(hist *h)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.foreign_keys = h->fk;
    o.wal_autocheckpoint = (unsigned)compat_below(&h->rng, 3) * 40;
    int rc = folio_open(&h->db, h->path, &o);
    cr_assert_eq(rc, FOLIO_OK, "open %s: %s", h->path, folio_open_errmsg());
}

static void h_exec(hist *h, const char *sql)
{
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, h->db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(h->db));
    cr_assert_eq(folio_exec(t, sql), FOLIO_OK, "%s: %s", sql, folio_errmsg(h->db));
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(h->db));
}

static void h_add_table(hist *h, const char *name)
{
    cr_assert(h->ntab < 48);
    snprintf(h->tabs[h->ntab], sizeof h->tabs[0], "%s", name);
    h->added[h->ntab] = 0;
    h->ntab++;
}

static folio_value rand_value(hist *h, char *buf)
{
    folio_value v;
    memset(&v, 0, sizeof v);
    switch (compat_below(&h->rng, 7)) {
    case 0:
        v.type = FOLIO_NULL;
        break;
    case 1:
    case 2:
        v.type = FOLIO_INTEGER;
        v.u.i = (int64_t)compat_below(&h->rng, 2000) - 500;
        break;
    case 3:
        v.type = FOLIO_REAL;
        v.u.r = (double)compat_below(&h->rng, 100000) / 64.0 - 300.25;
        break;
    case 4:
    case 5: {
        size_t n = compat_below(&h->rng, 40);
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)('a' + compat_below(&h->rng, 26));
        if (n && compat_below(&h->rng, 8) == 0)
            buf[0] = (char)0xc3, buf[n > 1 ? 1 : 0] = (char)0xa9; /* é (or a stray byte) */
        v.type = FOLIO_TEXT;
        v.u.s.p = buf;
        v.u.s.n = n;
        break;
    }
    default: {
        size_t n = compat_below(&h->rng, compat_below(&h->rng, 10) ? 20 : 3000);
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)compat_below(&h->rng, 256);
        v.type = FOLIO_BLOB;
        v.u.s.p = buf;
        v.u.s.n = n;
    }
    }
    return v;
}

/* Random values for every column of t (rowid alias NULL or a small key;
 * WITHOUT ROWID keys from a small domain, so that they meet again). */
static int rand_row(hist *h, folio_table *t, folio_value *v, char (*bufs)[4096])
{
    int n = folio_table_ncols(t);
    int wr = folio_table_without_rowid(t);
    for (int i = 0; i < n; i++) {
        const char *cn = folio_table_colname(t, i);
        v[i] = rand_value(h, bufs[i]);
        if (strcmp(cn, "id") == 0 && !wr) {
            if (compat_below(&h->rng, 2)) {
                v[i].type = FOLIO_NULL;
            } else {
                v[i].type = FOLIO_INTEGER;
                v[i].u.i = 1 + (int64_t)compat_below(&h->rng, 300);
            }
        } else if (strcmp(cn, "pid") == 0 || strcmp(cn, "k") == 0 || strcmp(cn, "n") == 0) {
            memset(&v[i], 0, sizeof v[i]);
            v[i].type = FOLIO_INTEGER;
            v[i].u.i = 1 + (int64_t)compat_below(&h->rng, 40);
        }
    }
    return n;
}

/* A row of t near a random place: FOLIO_ROW with its values copied, or
 * FOLIO_DONE when t is empty. */
static int pick_row(hist *h, folio_table *t, folio_value *v, char (*bufs)[4096], int64_t *rowid)
{
    folio_cursor *c;
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK, "%s", folio_errmsg(h->db));
    int rc = folio_cursor_first(c);
    int skip = (int)compat_below(&h->rng, 30);
    for (int i = 0; i < skip && rc == FOLIO_ROW; i++) {
        rc = folio_cursor_next(c);
        if (rc == FOLIO_DONE)
            rc = folio_cursor_first(c);
    }
    if (rc == FOLIO_ROW) {
        *rowid = folio_table_without_rowid(t) ? 0 : folio_cursor_rowid(c);
        for (int i = 0; i < folio_table_ncols(t); i++) {
            cr_assert_eq(folio_cursor_column(&v[i], c, i), FOLIO_OK);
            if (v[i].type == FOLIO_TEXT || v[i].type == FOLIO_BLOB) {
                memcpy(bufs[i], v[i].u.s.p, v[i].u.s.n < 4096 ? v[i].u.s.n : 4096);
                v[i].u.s.p = bufs[i];
            }
        }
    }
    folio_cursor_close(c);
    return rc;
}

static int is_write_error(int rc)
{
    return rc == FOLIO_CONSTRAINT || rc == FOLIO_MISMATCH || rc == FOLIO_NOTFOUND ||
           rc == FOLIO_TOOBIG || rc == FOLIO_ERROR;
}

/* One row operation on a random table. */
static void row_op(hist *h, folio_txn *txn)
{
    static char bufs[40][4096];
    folio_value v[40], key[8];
    const char *name = h->tabs[compat_below(&h->rng, (uint64_t)h->ntab)];
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, name), FOLIO_OK, "%s: %s", name, folio_errmsg(h->db));
    int wr = folio_table_without_rowid(t), rc;
    int kind = (int)compat_below(&h->rng, 10);
    if (kind < 5) {
        int n = rand_row(h, t, v, bufs);
        rc = folio_insert(NULL, t, v, n);
    } else {
        int64_t rowid;
        if (pick_row(h, t, v, bufs, &rowid) != FOLIO_ROW)
            return;
        int n = folio_table_ncols(t);
        /* the key of a WITHOUT ROWID row: its columns k, n */
        int nk = 0;
        for (int i = 0; i < n && wr; i++) {
            const char *cn = folio_table_colname(t, i);
            if (strcmp(cn, "k") == 0)
                key[0] = v[i], nk = nk > 1 ? nk : 1;
            if (strcmp(cn, "n") == 0)
                key[1] = v[i], nk = 2;
        }
        if (kind < 8) {
            static char nbufs[40][4096];
            folio_value nv[40];
            rand_row(h, t, nv, nbufs);
            for (int i = 0; i < n; i++) {
                const char *cn = folio_table_colname(t, i);
                int keycol = strcmp(cn, "id") == 0 || strcmp(cn, "k") == 0 || strcmp(cn, "n") == 0;
                /* keys change now and then; other columns often */
                if (compat_below(&h->rng, keycol ? 6 : 2) == 0) {
                    v[i] = nv[i];
                    if (strcmp(cn, "id") == 0 && v[i].type == FOLIO_NULL)
                        v[i].type = FOLIO_INTEGER,
                        v[i].u.i = 1 + (int64_t)compat_below(&h->rng, 300);
                }
            }
            rc = wr ? folio_update_key(t, key, nk, v, n) : folio_update(t, rowid, v, n);
        } else {
            rc = wr ? folio_delete_key(t, key, nk) : folio_delete(t, rowid);
        }
    }
    cr_assert(rc >= 0 || is_write_error(rc), "seed=%" PRIu64 ": %s: %d %s", compat_current_seed(),
              name, rc, folio_errmsg(h->db));
}

/* One DDL statement; may fail (a name taken, a column missing). */
static void ddl_op(hist *h, folio_txn *txn)
{
    char sql[512];
    int kind = (int)compat_below(&h->rng, 12), i = (int)compat_below(&h->rng, (uint64_t)h->ntab);
    const char *name = h->tabs[i];
    int user = strncmp(name, "t", 1) == 0 || strncmp(name, "w", 1) == 0;
    switch (kind) {
    case 0:
    case 1:
        if (h->ntab >= 40)
            return;
        h->nseq++;
        if (kind == 0)
            snprintf(sql, sizeof sql,
                     "CREATE TABLE t%d(id INTEGER PRIMARY KEY, a INT, b TEXT, c REAL, d BLOB)",
                     h->nseq);
        else
            snprintf(sql, sizeof sql,
                     "CREATE TABLE w%d(k INT, n INT, v TEXT, x NUMERIC, PRIMARY KEY(k, n)) "
                     "WITHOUT ROWID",
                     h->nseq);
        if (folio_exec(txn, sql) == FOLIO_OK)
            h_add_table(h, sql + 13 /* the name */);
        for (char *p = h->tabs[h->ntab - 1]; *p; p++)
            if (*p == '(')
                *p = 0;
        return;
    case 2:
    case 3:
        h->nseq++;
        snprintf(sql, sizeof sql, "ALTER TABLE \"%s\" ADD COLUMN e%d INT DEFAULT %d", name, h->nseq,
                 (int)compat_below(&h->rng, 9));
        if (folio_exec(txn, sql) == FOLIO_OK)
            h->added[i] = h->nseq;
        return;
    case 4:
        h->nseq++;
        snprintf(sql, sizeof sql, "CREATE INDEX ix%d ON \"%s\"(%s)", h->nseq, name,
                 strncmp(name, "w", 1) == 0   ? "v"
                 : strcmp(name, "audit") == 0 ? "what"
                                              : "id");
        folio_exec(txn, sql);
        return;
    case 5:
        if (!user || h->ntab <= 5 || strcmp(name, "t0") == 0 || strcmp(name, "w0") == 0)
            return;
        snprintf(sql, sizeof sql, "DROP TABLE \"%s\"", name);
        if (folio_exec(txn, sql) == FOLIO_OK) {
            memmove(&h->tabs[i], &h->tabs[i + 1], sizeof h->tabs[0] * (size_t)(h->ntab - i - 1));
            memmove(&h->added[i], &h->added[i + 1], sizeof h->added[0] * (size_t)(h->ntab - i - 1));
            h->ntab--;
        }
        return;
    case 6:
        if (!h->added[i])
            return;
        snprintf(sql, sizeof sql, "ALTER TABLE \"%s\" DROP COLUMN e%d", name, h->added[i]);
        if (folio_exec(txn, sql) == FOLIO_OK)
            h->added[i] = 0;
        return;
    case 7:
        if (!user || strcmp(name, "t0") == 0 || strcmp(name, "w0") == 0)
            return;
        h->nseq++;
        char to[32];
        snprintf(to, sizeof to, "%c%d", name[0], h->nseq);
        snprintf(sql, sizeof sql, "ALTER TABLE \"%s\" RENAME TO %s", name, to);
        if (folio_exec(txn, sql) == FOLIO_OK)
            snprintf(h->tabs[i], sizeof h->tabs[0], "%s", to);
        return;
    default:
        return;
    }
}

static void h_setup(hist *h)
{
    h_exec(h, "CREATE TABLE audit(id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT, rid INT)");
    h_exec(h, "CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT)");
    h_exec(h, "CREATE TABLE c(id INTEGER PRIMARY KEY, pid INT REFERENCES p(id) ON DELETE "
              "CASCADE, v TEXT)");
    h_exec(h, "CREATE TABLE t0(id INTEGER PRIMARY KEY, a INT, b TEXT, c REAL, d BLOB)");
    h_exec(h, "CREATE TABLE w0(k INT, n INT, v TEXT, x NUMERIC, PRIMARY KEY(k, n)) WITHOUT ROWID");
    h_exec(h, "CREATE TRIGGER t0_upd AFTER UPDATE ON t0 BEGIN INSERT INTO audit(what, rid) "
              "VALUES('u', NEW.id); END");
    h_exec(h, "CREATE TRIGGER c_del AFTER DELETE ON c BEGIN INSERT INTO audit(what, rid) "
              "VALUES('c', OLD.id); END");
    const char *names[] = {"audit", "p", "c", "t0", "w0"};
    for (int i = 0; i < 5; i++)
        h_add_table(h, names[i]);
}

/* `ntx` random transactions. */
static void h_run(hist *h, int ntx)
{
    for (int k = 0; k < ntx; k++) {
        int r = (int)compat_below(&h->rng, 40);
        if (r == 0) {
            cr_assert_eq(folio_close(h->db), FOLIO_OK);
            h->fk = (int)compat_below(&h->rng, 2);
            h_open(h);
            continue;
        }
        if (r == 1) {
            folio_checkpoint(h->db, (int)compat_below(&h->rng, 4), NULL, NULL);
            continue;
        }
        folio_txn *txn;
        cr_assert_eq(folio_begin(&txn, h->db, FOLIO_TXN_WRITE), FOLIO_OK, "%s",
                     folio_errmsg(h->db));
        int nops = 1 + (int)compat_below(&h->rng, compat_below(&h->rng, 6) ? 6 : 60);
        for (int i = 0; i < nops; i++) {
            if (compat_below(&h->rng, 12) == 0)
                ddl_op(h, txn);
            else
                row_op(h, txn);
        }
        if (compat_below(&h->rng, 15) == 0) {
            folio_rollback(txn);
            /* the table list may name what the rollback undid: read it again */
            h->ntab = 0;
            folio_txn *rt;
            cr_assert_eq(folio_begin(&rt, h->db, FOLIO_TXN_READ), FOLIO_OK);
            int n = folio_schema_count(rt);
            for (int i = 0; i < n; i++) {
                folio_schema_entry e;
                cr_assert_eq(folio_schema_get(&e, rt, i), FOLIO_OK);
                if (strcmp(e.type, "table") == 0 && strncmp(e.name, "sqlite_", 7) != 0)
                    h_add_table(h, e.name);
            }
            folio_rollback(rt);
            continue;
        }
        int rc = folio_commit(txn);
        cr_assert(rc == FOLIO_OK || rc == FOLIO_CONSTRAINT, "seed=%" PRIu64 ": commit: %s",
                  compat_current_seed(), folio_errmsg(h->db));
    }
}

/* ---- the tests ---- */

/* The lines of `text`: offsets of their starts and the version each has
 * (0 for the source line). */
typedef struct feed_lines {
    size_t *at;
    uint64_t *ver;
    int *commit;
    size_t n;
} feed_lines;

static int has(const char *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, needle, k) == 0)
            return 1;
    return 0;
}

static void split_lines(const char *text, size_t len, feed_lines *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = 1024;
    out->at = malloc(cap * sizeof *out->at);
    out->ver = malloc(cap * sizeof *out->ver);
    out->commit = malloc(cap * sizeof *out->commit);
    for (size_t o = 0; o < len;) {
        if (out->n == cap) {
            cap *= 2;
            out->at = realloc(out->at, cap * sizeof *out->at);
            out->ver = realloc(out->ver, cap * sizeof *out->ver);
            out->commit = realloc(out->commit, cap * sizeof *out->commit);
        }
        out->at[out->n] = o;
        const char *v = strstr(text + o, "{\"version\":");
        const char *nl = memchr(text + o, '\n', len - o);
        cr_assert(nl, "the feed's last line has no newline");
        out->ver[out->n] = v == text + o ? strtoull(v + 11, NULL, 10) : 0;
        out->commit[out->n] = has(text + o, (size_t)(nl - (text + o)), "\"op\":\"commit\"");
        out->n++;
        o = (size_t)(nl - text) + 1;
    }
}

static void feed_lines_free(feed_lines *l)
{
    free(l->at);
    free(l->ver);
    free(l->commit);
}

/* Versions are fed in ascending order, each ended by its commit line. */
static void assert_feed_shape(const char *text, const feed_lines *l)
{
    cr_assert(l->n >= 1 && strncmp(text, "{\"op\":\"source\",\"source\":", 24) == 0,
              "the feed begins with its source line");
    uint64_t last = 0, cur = 0;
    for (size_t i = 1; i < l->n; i++) {
        cr_assert(l->ver[i] > 0, "line %zu has no version", i + 1);
        if (!cur) {
            cr_assert(l->ver[i] > last, "line %zu: version %" PRIu64 " after %" PRIu64, i + 1,
                      l->ver[i], last);
            cur = l->ver[i];
        }
        cr_assert_eq(l->ver[i], cur, "line %zu: version %" PRIu64 " inside %" PRIu64, i + 1,
                     l->ver[i], cur);
        if (l->commit[i]) {
            last = cur;
            cur = 0;
        }
    }
    cr_assert_eq(cur, 0, "the feed ends inside a version");
}

Test(cli_feed, feed_into_an_empty_replica_converges_and_resumes_without_applying_twice)
{
    uint64_t seed = compat_seed(1);
    char *dir = compat_tmpdir();
    char *src = compat_path(dir, "src.db"), *rep = compat_path(dir, "rep.db");
    char *feed = compat_path(dir, "feed.jsonl"), *part = compat_path(dir, "part.jsonl");
    hist h;
    memset(&h, 0, sizeof h);
    h.path = src;
    h.rng = seed;
    h.fk = 1;
    h_open(&h);
    cr_assert_eq(folio_log_enable(h.db, compat_below(&h.rng, 2) ? FOLIO_LOG_LZ4 : FOLIO_LOG_ZSTD),
                 FOLIO_OK, "%s", folio_errmsg(h.db));
    h_setup(&h);
    h_run(&h, 60);
    cr_assert_eq(folio_close(h.db), FOLIO_OK);

    /* The feed piped into an empty file. */
    cr_assert_eq(sh("'%s' feed '%s' | '%s' apply '%s' -", cli(), src, cli(), rep), 0,
                 "seed=%" PRIu64 ": feed | apply failed", seed);
    assert_same(src, rep);
    uint64_t src_v = folio_version_of(src);
    cr_assert_eq((uint64_t)replica_version(rep) <= src_v, 1);

    /* More commits, then the whole feed again: only the new versions apply. */
    h_open(&h);
    h_run(&h, 40);
    cr_assert_eq(folio_close(h.db), FOLIO_OK);
    cr_assert_eq(sh("'%s' feed '%s' > '%s'", cli(), src, feed), 0);
    size_t len;
    char *text = slurp(feed, &len);
    feed_lines l;
    split_lines(text, len, &l);
    assert_feed_shape(text, &l);
    {
        static const char *const ops[] = {"insert", "update", "delete", "exec", "commit"};
        fprintf(stderr, "feed: %zu lines:", l.n);
        for (int k = 0; k < 5; k++) {
            char needle[40];
            int count = 0;
            snprintf(needle, sizeof needle, "\"op\":\"%s\"", ops[k]);
            for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
                count++;
            fprintf(stderr, " %d %s", count, ops[k]);
        }
        fprintf(stderr, "\n");
    }
    int64_t before = replica_version(rep);
    int new_versions = 0;
    for (size_t i = 1; i < l.n; i++)
        new_versions += l.commit[i] && (int64_t)l.ver[i] > before;
    uint64_t rv0 = folio_version_of(rep);
    cr_assert_eq(sh("'%s' apply '%s' '%s'", cli(), rep, feed), 0, "seed=%" PRIu64, seed);
    assert_same(src, rep);
    /* one replica commit per new version, nothing for those applied before */
    cr_assert_eq(folio_version_of(rep) - rv0, (uint64_t)new_versions,
                 "seed=%" PRIu64 ": %d new versions made %" PRIu64 " commits", seed, new_versions,
                 folio_version_of(rep) - rv0);
    uint64_t rv1 = folio_version_of(rep);
    cr_assert_eq(sh("'%s' apply '%s' '%s'", cli(), rep, feed), 0);
    cr_assert_eq(folio_version_of(rep), rv1, "a feed applied twice changed the replica");

    /* Stopped in the middle: a prefix cut at a version's end, then one cut
     * inside a version (refused, that version left out), then the rest. */
    uint64_t prng = seed ^ 0x5eed;
    for (int round = 0; round < 4; round++) {
        char *rep2 = compat_path(dir, "rep2.db");
        sh("rm -f '%s' '%s-wal' '%s-shm'", rep2, rep2, rep2);
        size_t cut = 1 + compat_below(&prng, l.n - 1);
        int boundary = round % 2 == 0;
        if (boundary)
            while (cut < l.n && !l.commit[cut - 1])
                cut++;
        else
            while (cut < l.n && (l.commit[cut - 1] || cut == 1))
                cut++;
        size_t bytes = cut < l.n ? l.at[cut] : len;
        compat_write_file(part, text, bytes);
        int st = sh("'%s' apply '%s' '%s' 2>/dev/null", cli(), rep2, part);
        int inside = cut < l.n && !l.commit[cut - 1] && cut > 1;
        cr_assert_eq(st, inside ? 1 : 0, "seed=%" PRIu64 ": a prefix of %zu lines: exit %d", seed,
                     cut, st);
        cr_assert_eq(sh("'%s' apply '%s' '%s'", cli(), rep2, feed), 0, "seed=%" PRIu64, seed);
        assert_same(src, rep2);
        free(rep2);
    }
    feed_lines_free(&l);
    free(text);
    if (!getenv("FOLIO_KEEP"))
        compat_rmtree(dir);
    free(src);
    free(rep);
    free(feed);
    free(part);
    free(dir);
}

Test(cli_feed, log_enabled_after_the_tables_were_filled_starts_with_a_snapshot)
{
    uint64_t seed = compat_seed(2);
    char *dir = compat_tmpdir();
    char *src = compat_path(dir, "src.db"), *rep = compat_path(dir, "rep.db");
    hist h;
    memset(&h, 0, sizeof h);
    h.path = src;
    h.rng = seed;
    h_open(&h);
    h_setup(&h);
    h_run(&h, 30);
    cr_assert_eq(folio_log_enable(h.db, FOLIO_LOG_ZSTD), FOLIO_OK, "%s", folio_errmsg(h.db));
    h_run(&h, 20);
    cr_assert_eq(folio_close(h.db), FOLIO_OK);
    char *out = compat_path(dir, "feed.jsonl");
    cr_assert_eq(sh("'%s' feed '%s' --from 0 > '%s'", cli(), src, out), 0);
    size_t len;
    char *text = slurp(out, &len);
    cr_assert(strstr(text, "\"op\":\"snapshot\""), "no snapshot in the feed");
    cr_assert_eq(sh("'%s' apply '%s' '%s'", cli(), rep, out), 0, "seed=%" PRIu64, seed);
    assert_same(src, rep);

    /* The log off for a while, then on again: a gap, and the feed goes
     * on from the base after it (a resync the replica rebuilds itself
     * from). */
    h_open(&h);
    cr_assert_eq(folio_log_disable(h.db), FOLIO_OK);
    h_run(&h, 10);
    cr_assert_eq(folio_log_enable(h.db, FOLIO_LOG_ZSTD), FOLIO_OK, "%s", folio_errmsg(h.db));
    h_run(&h, 10);
    cr_assert_eq(folio_close(h.db), FOLIO_OK);
    cr_assert_eq(sh("'%s' feed '%s' | '%s' apply '%s' -", cli(), src, cli(), rep), 0,
                 "seed=%" PRIu64, seed);
    assert_same(src, rep);
    free(text);
    if (!getenv("FOLIO_KEEP"))
        compat_rmtree(dir);
    free(src);
    free(rep);
    free(out);
    free(dir);
}

Test(cli_feed, table_filter_and_follow)
{
    uint64_t seed = compat_seed(3);
    char *dir = compat_tmpdir();
    char *src = compat_path(dir, "src.db"), *rep = compat_path(dir, "rep.db");
    char *rep2 = compat_path(dir, "rep2.db"), *out = compat_path(dir, "t0.jsonl");
    char *fol = compat_path(dir, "follow.jsonl");
    hist h;
    memset(&h, 0, sizeof h);
    h.path = src;
    h.rng = seed;
    h_open(&h);
    cr_assert_eq(folio_log_enable(h.db, FOLIO_LOG_LZ4), FOLIO_OK, "%s", folio_errmsg(h.db));
    h_setup(&h);
    h_run(&h, 30);

    /* --follow in the background while the source commits. */
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        FILE *o = freopen(fol, "w", stdout);
        if (!o)
            _exit(126);
        execl(cli(), "folio", "feed", src, "--follow", (char *)NULL);
        _exit(127);
    }
    h_run(&h, 30);
    uint64_t last;
    cr_assert_eq(folio_version(h.db, &last), FOLIO_OK);
    cr_assert_eq(folio_close(h.db), FOLIO_OK);
    /* (the last commit with changes: every version of h_run has some, but
     * for an empty transaction now and then) */
    char want[64];
    int seen = 0;
    for (int i = 0; i < 600 && !seen; i++) {
        size_t n;
        char *t = (char *)compat_read_file(fol, &n);
        for (uint64_t v = last; v + 3 > last && v > 0 && !seen; v--) {
            snprintf(want, sizeof want, "{\"version\":%" PRIu64 ",\"op\":\"commit\"", v);
            seen = t && has(t, n, want);
        }
        free(t);
        if (!seen)
            usleep(50 * 1000);
    }
    cr_assert(seen, "seed=%" PRIu64 ": --follow did not feed version %" PRIu64, seed, last);
    kill(pid, SIGTERM);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "folio feed --follow ended with %d", st);
    size_t len;
    char *text = slurp(fol, &len);
    feed_lines l;
    split_lines(text, len, &l);
    assert_feed_shape(text, &l);
    cr_assert_eq(sh("'%s' apply '%s' '%s'", cli(), rep, fol), 0, "seed=%" PRIu64, seed);
    assert_same(src, rep);
    feed_lines_free(&l);
    free(text);

    /* --table: t0's rows and the DDL that names t0, nothing else. */
    cr_assert_eq(sh("'%s' feed '%s' --table t0 > '%s'", cli(), src, out), 0);
    text = slurp(out, &len);
    split_lines(text, len, &l);
    assert_feed_shape(text, &l);
    int rows = 0;
    for (size_t i = 1; i < l.n; i++) {
        const char *p = text + l.at[i];
        size_t n = (i + 1 < l.n ? l.at[i + 1] : len) - l.at[i];
        if (has(p, n, "\"op\":\"commit\"") || has(p, n, "\"op\":\"snapshot\""))
            continue;
        if (has(p, n, "\"op\":\"exec\"")) {
            cr_assert(has(p, n, "t0"), "line %zu: %.*s", i + 1, (int)n, p);
            continue;
        }
        rows++;
        cr_assert(has(p, n, "\"table\":\"t0\""), "line %zu: %.*s", i + 1, (int)n, p);
    }
    cr_assert(rows > 0, "no row of t0 in the feed");
    cr_assert_eq(sh("'%s' apply '%s' '%s'", cli(), rep2, out), 0);
    sqlite3 *a = compat_sqlite_open_ro(src), *b = compat_sqlite_open_ro(rep2);
    assert_same_rows(a, b, "SELECT rowid, * FROM t0", "the rows of t0");
    cr_assert_eq(compat_query_int(b, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' "
                                     "AND name NOT IN ('t0', '_folio_replica', 'sqlite_sequence')"),
                 0, "tables other than t0 in the replica");
    compat_sqlite_close(a);
    compat_sqlite_close(b);
    feed_lines_free(&l);
    free(text);
    if (!getenv("FOLIO_KEEP"))
        compat_rmtree(dir);
    free(src);
    free(rep);
    free(rep2);
    free(out);
    free(fol);
    free(dir);
}

/* CREATE VIEW (and DROP VIEW) in a feed, and views in a snapshot's schema:
 * a replica made from the feed holds the same views, byte for byte. */
Test(cli_feed, views_in_the_feed_and_in_a_snapshot)
{
    char *dir = compat_tmpdir();
    char *src = compat_path(dir, "src.db"), *rep = compat_path(dir, "rep.db");
    char *rep2 = compat_path(dir, "rep2.db");
    hist h;
    memset(&h, 0, sizeof h);
    h.path = src;
    h.rng = 7;
    h_open(&h);
    h_exec(&h, "CREATE TABLE t(a INTEGER PRIMARY KEY, b)");
    h_exec(&h, "CREATE VIEW before_log(x) AS SELECT b FROM t WHERE a > 1");
    cr_assert_eq(folio_log_enable(h.db, FOLIO_LOG_ZSTD), FOLIO_OK, "%s", folio_errmsg(h.db));
    h_exec(&h, "CREATE VIEW v AS SELECT t.a, count(*) OVER (ORDER BY a) AS n FROM t  -- kept");
    h_exec(&h, "CREATE VIEW gone AS SELECT 1");
    h_exec(&h, "CREATE TRIGGER v_ins INSTEAD OF INSERT ON v BEGIN INSERT INTO t(b) VALUES "
               "(new.a); END");
    h_exec(&h, "DROP VIEW gone");
    h_exec(&h, "CREATE VIEW IF NOT EXISTS v AS SELECT 2");
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, h.db, FOLIO_TXN_WRITE), FOLIO_OK);
    folio_table *tab;
    cr_assert_eq(folio_table_open(&tab, t, "t"), FOLIO_OK);
    for (int i = 0; i < 5; i++) {
        folio_value row[2] = {{.type = FOLIO_NULL}, {.type = FOLIO_INTEGER, .u.i = i}};
        cr_assert_eq(folio_insert(NULL, tab, row, 2), FOLIO_OK, "%s", folio_errmsg(h.db));
    }
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    cr_assert_eq(folio_close(h.db), FOLIO_OK);

    cr_assert_eq(sh("'%s' feed '%s' | '%s' apply '%s' -", cli(), src, cli(), rep), 0,
                 "feed | apply failed");
    assert_same(src, rep);
    cr_assert_eq(sh("'%s' feed '%s' --from 0 | '%s' apply '%s' -", cli(), src, cli(), rep2), 0,
                 "feed --from 0 | apply failed");
    assert_same(src, rep2);
    sqlite3 *b = compat_sqlite_open_ro(rep);
    cr_assert_eq(compat_query_int(b, "SELECT count(*) FROM sqlite_schema WHERE type = 'view'"), 2);
    cr_assert_eq(compat_query_int(b, "SELECT sum(n) FROM v"), 15);
    cr_assert_eq(compat_query_int(b, "SELECT count(*) FROM before_log"), 4);
    compat_sqlite_close(b);
    if (!getenv("FOLIO_KEEP"))
        compat_rmtree(dir);
    free(src);
    free(rep);
    free(rep2);
    free(dir);
}
