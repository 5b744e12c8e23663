/*
 * test_limits.c - folio writing at SQLite's limits, every file read back by
 * libsqlite3: PRAGMA integrity_check must say "ok" (it also checks that every
 * index holds exactly the entries of its table's rows) and every value must
 * come back as folio was given it.
 *
 * The limits are SQLite's defaults: 2000 columns in a table, an index or a
 * primary key (SQLITE_MAX_COLUMN); values and rows of at most 1,000,000,000
 * bytes (SQLITE_MAX_LENGTH); rowids over all of int64, with a random unused
 * rowid past INT64_MAX and SQLITE_FULL for AUTOINCREMENT there; page sizes
 * 512 to 65536; as many tables and indexes as the file holds.
 *
 * A value at the length limit is too much memory for a test run, so 50 MB
 * values go end to end, and values and rows past the limit are handed over
 * as pointers into a PROT_NONE mapping: folio must refuse them by their
 * lengths alone, since reading any byte of them is a SIGSEGV.
 *
 * Columns are declared without a type (no affinity), so that every value
 * reads back exactly as written. Randomized data: each test prints seed=N;
 * FOLIO_SEED=N replays it.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define SQLITE_COLUMNS_MAX 2000
#define SQLITE_LENGTH_MAX  1000000000u

static char *g_dir, *g_path;
static uint64_t g_rng;
static int64_t g_next_id; /* unique integers for key columns */

static void start(uint64_t fallback_seed)
{
    g_rng = compat_seed(fallback_seed);
    g_dir = compat_tmpdir();
    g_path = compat_path(g_dir, "db.sqlite");
    g_next_id = 1;
}

static void finish(void)
{
    compat_rmtree(g_dir);
    free(g_path);
    free(g_dir);
}

static uint64_t below(uint64_t n)
{
    return compat_below(&g_rng, n);
}

/* ---- SQL text --------------------------------------------------------------- */

typedef struct strbuf {
    char *p;
    size_t n, cap;
} strbuf;

static void sb_add(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(strbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = b->cap ? vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap) : -2;
        va_end(ap);
        if (n >= 0 && b->n + (size_t)n < b->cap) {
            b->n += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (n > 0 ? (size_t)n : 0) + 256;
        b->p = realloc(b->p, b->cap);
        cr_assert(b->p != NULL, "out of memory");
    }
}

/* Sort order and collation of column i of a wide key or index: a mix of
 * ASC, DESC, NOCASE, RTRIM and BINARY (column 0 stays plain ascending). */
static const char *key_decor(int i)
{
    static const char *const d[] = {"",
                                    " DESC",
                                    " COLLATE NOCASE",
                                    "",
                                    " COLLATE RTRIM DESC",
                                    " COLLATE BINARY",
                                    " COLLATE NOCASE DESC"};
    return i == 0 ? "" : d[i % 7];
}

/* "CREATE TABLE name(p0, p1, ..., p{n-1}" without the closing parenthesis. */
static void sb_table(strbuf *b, const char *name, const char *prefix, int n)
{
    sb_add(b, "CREATE TABLE %s(", name);
    for (int c = 0; c < n; c++)
        sb_add(b, "%s%s%d", c ? ", " : "", prefix, c);
}

/* ---- folio ------------------------------------------------------------------ */

#define OK(db, call)                                                                               \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        cr_assert(rc_ == FOLIO_OK, "%s = %s: %s", #call, compat_rc_name(rc_), folio_errmsg(db));   \
    } while (0)

#define EXPECT_RC(db, want, call)                                                                  \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        cr_assert(rc_ == (want), "%s = %s, expected %s: %s", #call, compat_rc_name(rc_),           \
                  compat_rc_name(want), folio_errmsg(db));                                         \
    } while (0)

static folio_db *open_db(unsigned page_size)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.sync = FOLIO_SYNC_OFF;
    o.page_size = page_size;
    o.mmap_bytes = compat_mmap_option();
    folio_db *db = NULL;
    int rc = folio_open(&db, g_path, &o);
    cr_assert(rc == FOLIO_OK, "folio_open(%s) = %s: %s", g_path, compat_rc_name(rc),
              folio_open_errmsg());
    return db;
}

static void close_db(folio_db *db)
{
    int rc = folio_close(db);
    cr_assert(rc == FOLIO_OK, "folio_close = %s", compat_rc_name(rc));
}

static folio_txn *begin_write(folio_db *db)
{
    folio_txn *txn = NULL;
    int rc = folio_begin(&txn, db, FOLIO_TXN_WRITE);
    cr_assert(rc == FOLIO_OK, "folio_begin(WRITE) = %s: %s", compat_rc_name(rc), folio_errmsg(db));
    return txn;
}

static void exec(folio_db *db, folio_txn *txn, const char *sql)
{
    int rc = folio_exec(txn, sql);
    cr_assert(rc == FOLIO_OK, "folio_exec(%.120s%s) = %s: %s", sql, strlen(sql) > 120 ? "..." : "",
              compat_rc_name(rc), folio_errmsg(db));
}

static void commit(folio_db *db, folio_txn *txn)
{
    int rc = folio_commit(txn);
    cr_assert(rc == FOLIO_OK, "folio_commit = %s: %s", compat_rc_name(rc), folio_errmsg(db));
}

static folio_table *table_open(folio_db *db, folio_txn *txn, const char *name)
{
    folio_table *t = NULL;
    int rc = folio_table_open(&t, txn, name);
    cr_assert(rc == FOLIO_OK, "folio_table_open(%s) = %s: %s", name, compat_rc_name(rc),
              folio_errmsg(db));
    return t;
}

/* ---- values ----------------------------------------------------------------- */

static folio_value v_null(void)
{
    folio_value v;
    memset(&v, 0, sizeof v);
    v.type = FOLIO_NULL;
    return v;
}

static folio_value v_int(int64_t i)
{
    folio_value v = v_null();
    v.type = FOLIO_INTEGER;
    v.u.i = i;
    return v;
}

/* A TEXT or BLOB value of n bytes that owns its (uninitialised) buffer. */
static folio_value v_bytes(folio_type type, size_t n)
{
    folio_value v = v_null();
    v.type = type;
    v.u.s.p = malloc(n ? n : 1);
    cr_assert(v.u.s.p != NULL, "out of memory for %zu bytes", n);
    v.u.s.n = n;
    return v;
}

static folio_value v_text(const char *s)
{
    folio_value v = v_bytes(FOLIO_TEXT, strlen(s));
    memcpy((void *)v.u.s.p, s, strlen(s));
    return v;
}

static void value_free(folio_value *v)
{
    if (v->type == FOLIO_TEXT || v->type == FOLIO_BLOB)
        free((void *)v->u.s.p);
    *v = v_null();
}

/* Replace the value in `slot`, freeing the old one. */
static void value_set(folio_value *slot, folio_value v)
{
    value_free(slot);
    *slot = v;
}

static folio_value value_dup(const folio_value *v)
{
    if (v->type != FOLIO_TEXT && v->type != FOLIO_BLOB)
        return *v;
    folio_value d = v_bytes(v->type, v->u.s.n);
    if (v->u.s.n)
        memcpy((void *)d.u.s.p, v->u.s.p, v->u.s.n);
    return d;
}

static void values_free(folio_value *v, int n)
{
    for (int i = 0; v && i < n; i++)
        value_free(&v[i]);
    free(v);
}

static folio_value *values_new(int n)
{
    folio_value *v = malloc(sizeof *v * (size_t)n);
    cr_assert(v != NULL, "out of memory");
    return v;
}

static folio_value *values_dup(const folio_value *v, int n)
{
    folio_value *d = values_new(n);
    for (int i = 0; i < n; i++)
        d[i] = value_dup(&v[i]);
    return d;
}

/* Lengths favour short values, sometimes up to maxlen. */
static size_t rand_len(size_t maxlen)
{
    if (below(4) == 0)
        return (size_t)below(maxlen + 1);
    return (size_t)below((maxlen < 8 ? maxlen : 8) + 1);
}

/* ASCII text with mixed case, digits and spaces (some trailing). */
static folio_value rand_text(size_t n)
{
    static const char alphabet[] = "abcxyzABCXYZ0189 _-";
    folio_value v = v_bytes(FOLIO_TEXT, n);
    char *p = (char *)v.u.s.p;
    for (size_t i = 0; i < n; i++)
        p[i] = alphabet[below(sizeof alphabet - 1)];
    return v;
}

static folio_value rand_blob(size_t n)
{
    folio_value v = v_bytes(FOLIO_BLOB, n);
    uint8_t *p = (uint8_t *)v.u.s.p;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)compat_rand(&g_rng);
    return v;
}

/* A random value of any type; TEXT and BLOB up to maxlen bytes. */
static folio_value rand_value(size_t maxlen)
{
    folio_value v = v_null();
    switch (below(10)) {
    case 0:
        return v;
    case 1:
        return v_int(compat_int_boundaries[below(compat_n_int_boundaries)]);
    case 2:
        return v_int((int64_t)compat_rand(&g_rng));
    case 3:
        return v_int((int64_t)below(10)); /* duplicates, for index ties */
    case 4:
        v.type = FOLIO_REAL;
        v.u.r = compat_special_reals[below(compat_n_special_reals)];
        return v;
    case 5:
        v.type = FOLIO_REAL;
        v.u.r = (double)(int64_t)compat_rand(&g_rng) / 1024.0;
        return v;
    case 6:
    case 7:
    case 8:
        return rand_text(rand_len(maxlen));
    default:
        return rand_blob(rand_len(maxlen));
    }
}

/* A value that may be part of a primary key (WITHOUT ROWID keys are NOT NULL). */
static folio_value rand_key_value(size_t maxlen)
{
    folio_value v = rand_value(maxlen);
    return v.type == FOLIO_NULL ? v_int((int64_t)below(1000)) : v;
}

static folio_value *rand_row(int ncols, size_t maxlen)
{
    folio_value *v = values_new(ncols);
    for (int c = 0; c < ncols; c++)
        v[c] = rand_value(maxlen);
    return v;
}

static folio_value *pair(int64_t a, const char *b)
{
    folio_value *v = values_new(2);
    v[0] = v_int(a);
    v[1] = v_text(b);
    return v;
}

static folio_value *triple(int64_t a, const char *b, folio_value c)
{
    folio_value *v = values_new(3);
    v[0] = v_int(a);
    v[1] = v_text(b);
    v[2] = c;
    return v;
}

/* ---- the model: what each table must hold --------------------------------- */

typedef struct mrow {
    int64_t rowid; /* rowid tables; WITHOUT ROWID tables are ordered by column 0 */
    int live;
    folio_value *v; /* the table's columns, owning their bytes */
} mrow;

typedef struct model {
    int ncols;
    int n, cap;
    mrow *rows;
} model;

static void model_init(model *m, int ncols)
{
    memset(m, 0, sizeof *m);
    m->ncols = ncols;
}

/* Takes ownership of v. Returns the row's index. */
static int model_add(model *m, int64_t rowid, folio_value *v)
{
    if (m->n == m->cap) {
        m->cap = m->cap * 2 + 16;
        m->rows = realloc(m->rows, sizeof *m->rows * (size_t)m->cap);
        cr_assert(m->rows != NULL);
    }
    m->rows[m->n].rowid = rowid;
    m->rows[m->n].live = 1;
    m->rows[m->n].v = v;
    return m->n++;
}

static void model_replace(model *m, int i, folio_value *v)
{
    values_free(m->rows[i].v, m->ncols);
    m->rows[i].v = v;
}

static void model_kill(model *m, int i)
{
    values_free(m->rows[i].v, m->ncols);
    m->rows[i].v = NULL;
    m->rows[i].live = 0;
}

/* A random live row, or -1. */
static int model_pick(const model *m)
{
    int live = 0;
    for (int i = 0; i < m->n; i++)
        live += m->rows[i].live;
    if (!live)
        return -1;
    int k = (int)below((uint64_t)live);
    for (int i = 0; i < m->n; i++)
        if (m->rows[i].live && k-- == 0)
            return i;
    return -1;
}

static int model_live(const model *m)
{
    int live = 0;
    for (int i = 0; i < m->n; i++)
        live += m->rows[i].live;
    return live;
}

static int model_find_rowid(const model *m, int64_t rowid)
{
    for (int i = 0; i < m->n; i++)
        if (m->rows[i].live && m->rows[i].rowid == rowid)
            return i;
    return -1;
}

static void model_free(model *m)
{
    for (int i = 0; i < m->n; i++)
        if (m->rows[i].live)
            values_free(m->rows[i].v, m->ncols);
    free(m->rows);
    memset(m, 0, sizeof *m);
}

/* ---- libsqlite3 reads the file ---------------------------------------------- */

static void expect_integrity(void)
{
    char *ic = compat_integrity(g_path);
    cr_assert_str_eq(ic, "ok", "libsqlite3 PRAGMA integrity_check of %s: %s", g_path, ic);
    free(ic);
}

static const char *type_name(int sqlite_type)
{
    switch (sqlite_type) {
    case SQLITE_INTEGER:
        return "INTEGER";
    case SQLITE_FLOAT:
        return "REAL";
    case SQLITE_TEXT:
        return "TEXT";
    case SQLITE_BLOB:
        return "BLOB";
    default:
        return "NULL";
    }
}

static void expect_value(sqlite3_stmt *st, int col, const folio_value *want, const char *table,
                         long long row)
{
    static const int types[] = {SQLITE_NULL, SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT,
                                SQLITE_BLOB};
    int type = sqlite3_column_type(st, col);
    cr_assert(type == types[want->type],
              "%s row %lld column %d: libsqlite3 reads %s, folio was given %s", table, row, col,
              type_name(type), type_name(types[want->type]));
    switch (want->type) {
    case FOLIO_INTEGER:
        cr_assert(sqlite3_column_int64(st, col) == want->u.i,
                  "%s row %lld column %d: libsqlite3 reads %lld, folio was given %lld", table, row,
                  col, (long long)sqlite3_column_int64(st, col), (long long)want->u.i);
        break;
    case FOLIO_REAL: {
        double d = sqlite3_column_double(st, col);
        cr_assert(memcmp(&d, &want->u.r, sizeof d) == 0,
                  "%s row %lld column %d: libsqlite3 reads %.17g, folio was given %.17g", table,
                  row, col, d, want->u.r);
        break;
    }
    case FOLIO_TEXT:
    case FOLIO_BLOB: {
        const void *p = want->type == FOLIO_TEXT ? (const void *)sqlite3_column_text(st, col)
                                                 : sqlite3_column_blob(st, col);
        size_t n = (size_t)sqlite3_column_bytes(st, col);
        cr_assert(n == want->u.s.n,
                  "%s row %lld column %d: libsqlite3 reads %zu bytes, folio "
                  "was given %zu",
                  table, row, col, n, want->u.s.n);
        cr_assert(n == 0 || memcmp(p, want->u.s.p, n) == 0,
                  "%s row %lld column %d: the %zu bytes differ", table, row, col, n);
        break;
    }
    default:
        break;
    }
}

static int cmp_by_rowid(const void *a, const void *b)
{
    const mrow *x = *(const mrow *const *)a, *y = *(const mrow *const *)b;
    return x->rowid < y->rowid ? -1 : x->rowid > y->rowid;
}

static int cmp_by_col0(const void *a, const void *b)
{
    const mrow *x = *(const mrow *const *)a, *y = *(const mrow *const *)b;
    return x->v[0].u.i < y->v[0].u.i ? -1 : x->v[0].u.i > y->v[0].u.i;
}

/*
 * libsqlite3 reads table `name` and finds exactly the live rows of `m`,
 * value for value: rowid tables in rowid order with their rowids,
 * WITHOUT ROWID tables (by_col0) in the order of column 0, an integer that
 * is unique in the table. The rowid is read by a statement of its own: a
 * result row of rowid and 2000 columns is past SQLite's column limit.
 */
static void expect_table(const char *name, const model *m, int by_col0)
{
    int live = model_live(m);
    mrow **rows = malloc(sizeof *rows * (size_t)(live ? live : 1));
    cr_assert(rows != NULL);
    int k = 0;
    for (int i = 0; i < m->n; i++)
        if (m->rows[i].live)
            rows[k++] = &m->rows[i];
    qsort(rows, (size_t)live, sizeof *rows, by_col0 ? cmp_by_col0 : cmp_by_rowid);

    sqlite3 *s = compat_sqlite_open_ro(g_path);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY %s", name, by_col0 ? "1" : "rowid");
    sqlite3_stmt *vals = compat_prepare(s, sql);
    cr_assert_eq(sqlite3_column_count(vals), m->ncols, "libsqlite3 sees %d columns in %s, not %d",
                 sqlite3_column_count(vals), name, m->ncols);
    sqlite3_stmt *ids = NULL;
    if (!by_col0) {
        snprintf(sql, sizeof sql, "SELECT rowid FROM \"%s\" ORDER BY rowid", name);
        ids = compat_prepare(s, sql);
    }
    for (int r = 0; r < live; r++) {
        int rc = sqlite3_step(vals);
        cr_assert(rc == SQLITE_ROW, "%s: libsqlite3 finds %d rows, folio wrote %d (%s)", name, r,
                  live, rc == SQLITE_DONE ? "done" : sqlite3_errmsg(s));
        long long id = by_col0 ? (long long)rows[r]->v[0].u.i : (long long)rows[r]->rowid;
        if (ids) {
            cr_assert(sqlite3_step(ids) == SQLITE_ROW, "%s: rowid statement ended early", name);
            cr_assert(sqlite3_column_int64(ids, 0) == rows[r]->rowid,
                      "%s row %d: libsqlite3 reads rowid %lld, folio wrote %lld", name, r,
                      (long long)sqlite3_column_int64(ids, 0), id);
        }
        for (int c = 0; c < m->ncols; c++)
            expect_value(vals, c, &rows[r]->v[c], name, id);
    }
    int rc = sqlite3_step(vals);
    cr_assert(rc == SQLITE_DONE, "%s: libsqlite3 finds more than the %d rows folio wrote (%s)",
              name, live, rc == SQLITE_ROW ? "row" : sqlite3_errmsg(s));
    sqlite3_finalize(vals);
    sqlite3_finalize(ids);
    compat_sqlite_close(s);
    free(rows);
}

/* Every index of `table` has an entry per row (integrity_check verifies
 * the entries; this says which index is short if one is). */
static void expect_index_counts(const char *table, int rows)
{
    sqlite3 *s = compat_sqlite_open_ro(g_path);
    sqlite3_stmt *st = compat_prepare(s, "SELECT name FROM sqlite_schema WHERE type = 'index'"
                                         " AND tbl_name = ?1 AND sql IS NOT NULL");
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *ix = (const char *)sqlite3_column_text(st, 0);
        int64_t n = compat_query_int(s, "SELECT count(*) FROM \"%s\" INDEXED BY \"%s\"", table, ix);
        cr_assert(n == rows, "index %s holds %lld entries, table %s %d rows", ix, (long long)n,
                  table, rows);
    }
    sqlite3_finalize(st);
    compat_sqlite_close(s);
}

/* ---- row operations that keep the model --------------------------------- */

static void insert_row(folio_db *db, folio_table *t, model *m, folio_value *v, int n)
{
    int64_t rowid = -1;
    int rc = folio_insert(&rowid, t, v, n);
    cr_assert(rc == FOLIO_OK, "folio_insert of %d values = %s: %s", n, compat_rc_name(rc),
              folio_errmsg(db));
    model_add(m, rowid, v);
}

static void update_row(folio_db *db, folio_table *t, model *m, int i, folio_value *v)
{
    int rc = folio_update(t, m->rows[i].rowid, v, m->ncols);
    cr_assert(rc == FOLIO_OK, "folio_update(rowid %lld) = %s: %s", (long long)m->rows[i].rowid,
              compat_rc_name(rc), folio_errmsg(db));
    model_replace(m, i, v);
}

/* Patch `n` distinct columns, always including the first and the last one
 * at or after `first` (so that columns far into a wide record change). */
static void patch_row(folio_db *db, folio_table *t, model *m, int i, int first, int n,
                      size_t maxlen)
{
    int cols[16];
    folio_value vals[16];
    cr_assert(n <= 16 && n <= m->ncols - first);
    int k = 0;
    cols[k++] = first;
    if (n > 1)
        cols[k++] = m->ncols - 1;
    while (k < n) {
        int c = first + (int)below((uint64_t)(m->ncols - first));
        int dup = 0;
        for (int j = 0; j < k; j++)
            dup |= cols[j] == c;
        if (!dup)
            cols[k++] = c;
    }
    for (int j = 0; j < n; j++)
        vals[j] = rand_value(maxlen);
    int rc = folio_patch(t, m->rows[i].rowid, cols, vals, n);
    cr_assert(rc == FOLIO_OK, "folio_patch(rowid %lld, %d columns) = %s: %s",
              (long long)m->rows[i].rowid, n, compat_rc_name(rc), folio_errmsg(db));
    for (int j = 0; j < n; j++) {
        value_set(&m->rows[i].v[cols[j]], vals[j]);
    }
}

static void delete_row(folio_db *db, folio_table *t, model *m, int i)
{
    int rc = folio_delete(t, m->rows[i].rowid);
    cr_assert(rc == FOLIO_OK, "folio_delete(rowid %lld) = %s: %s", (long long)m->rows[i].rowid,
              compat_rc_name(rc), folio_errmsg(db));
    model_kill(m, i);
}

/* ---- widest table ------------------------------------------------------------- */

Test(compat_limits, table_of_2000_columns_insert_update_patch_delete)
{
    start(0x11a1);
    const int ncols = SQLITE_COLUMNS_MAX;
    folio_db *db = open_db(4096);
    folio_txn *tx = begin_write(db);
    strbuf sql = {0};
    sb_table(&sql, "t", "c", ncols);
    sb_add(&sql, ")");
    exec(db, tx, sql.p);
    exec(db, tx, "CREATE INDEX t_ends ON t(c1999, c0 DESC, c1000 COLLATE NOCASE)");
    folio_table *t = table_open(db, tx, "t");
    cr_assert_eq(folio_table_ncols(t), ncols);
    cr_assert_str_eq(folio_table_colname(t, ncols - 1), "c1999");
    model m;
    model_init(&m, ncols);
    for (int r = 0; r < 40; r++) {
        folio_value *v = rand_row(ncols, 12);
        /* Every eighth row is short: the missing columns take their
         * DEFAULT, NULL. */
        int n = r % 8 == 7 ? ncols / 2 + r : ncols;
        for (int c = n; c < ncols; c++)
            value_free(&v[c]);
        insert_row(db, t, &m, v, n);
    }
    commit(db, tx);

    tx = begin_write(db);
    t = table_open(db, tx, "t");
    for (int k = 0; k < 10; k++)
        update_row(db, t, &m, model_pick(&m), rand_row(ncols, 12));
    for (int k = 0; k < 10; k++)
        patch_row(db, t, &m, model_pick(&m), 0, 6, 12);
    for (int k = 0; k < 8; k++)
        delete_row(db, t, &m, model_pick(&m));
    EXPECT_RC(db, FOLIO_NOTFOUND, folio_delete(t, (int64_t)1 << 40));
    /* Upsert: once a new rowid (the insert branch), once an existing one. */
    folio_value *v = rand_row(ncols, 12);
    int64_t out = 0;
    OK(db, folio_upsert(&out, t, 1000000, v, ncols));
    cr_assert_eq(out, 1000000);
    model_add(&m, 1000000, v);
    int i = model_pick(&m);
    v = rand_row(ncols, 12);
    OK(db, folio_upsert(&out, t, m.rows[i].rowid, v, ncols));
    cr_assert_eq(out, m.rows[i].rowid);
    model_replace(&m, i, v);
    commit(db, tx);

    /* A rolled-back transaction leaves nothing behind. */
    tx = begin_write(db);
    t = table_open(db, tx, "t");
    for (int k = 0; k < 3; k++) {
        v = rand_row(ncols, 12);
        OK(db, folio_insert(NULL, t, v, ncols));
        values_free(v, ncols);
    }
    v = rand_row(ncols, 12);
    OK(db, folio_update(t, m.rows[model_pick(&m)].rowid, v, ncols));
    values_free(v, ncols);
    OK(db, folio_rollback(tx));
    close_db(db);

    expect_integrity();
    expect_table("t", &m, 0);
    expect_index_counts("t", model_live(&m));
    model_free(&m);
    free(sql.p);
    finish();
}

/* ---- widest indexes --------------------------------------------------------- */

/* The columns of an index: "p{first}{decor}, ..." for `n` columns counting
 * up (step 1) or down (step -1). */
static void sb_index_cols(strbuf *b, const char *prefix, int first, int n, int step)
{
    for (int i = 0; i < n; i++)
        sb_add(b, "%s%s%d%s", i ? ", " : "", prefix, first + i * step, key_decor(i));
}

/* Inserts, updates, patches and deletes on table t of `ncols` columns whose
 * column 10 is unique (a UNIQUE index starts with it); also a row that
 * differs from another only outside the unique index must be refused. */
static void index_workload(folio_db *db, model *m, int ncols, int nrows, size_t maxlen)
{
    folio_txn *tx = begin_write(db);
    folio_table *t = table_open(db, tx, "t");
    for (int r = 0; r < nrows; r++) {
        folio_value *v = rand_row(ncols, maxlen);
        value_set(&v[10], v_int(g_next_id++));
        insert_row(db, t, m, v, ncols);
    }
    /* A row without NULLs (NULLs are distinct in a UNIQUE index), then its
     * copy with only column 0 changed: a UNIQUE violation. */
    folio_value *full = values_new(ncols);
    for (int c = 0; c < ncols; c++)
        full[c] = rand_key_value(maxlen);
    value_set(&full[10], v_int(g_next_id++));
    folio_value *dup = values_dup(full, ncols);
    insert_row(db, t, m, full, ncols);
    value_set(&dup[0], v_text("not the same"));
    EXPECT_RC(db, FOLIO_CONSTRAINT, folio_insert(NULL, t, dup, ncols));
    values_free(dup, ncols);
    commit(db, tx);

    tx = begin_write(db);
    t = table_open(db, tx, "t");
    for (int k = 0; k < nrows / 3; k++) {
        folio_value *v = rand_row(ncols, maxlen);
        value_set(&v[10], v_int(g_next_id++));
        update_row(db, t, m, model_pick(m), v);
    }
    for (int k = 0; k < nrows / 6; k++) {
        int i = model_pick(m);
        patch_row(db, t, m, i, 11, 5, maxlen);
    }
    for (int k = 0; k < nrows / 4; k++)
        delete_row(db, t, m, model_pick(m));
    commit(db, tx);
}

Test(compat_limits, index_of_140_columns_insert_update_delete)
{
    start(0x11a2);
    const int ncols = 150;
    folio_db *db = open_db(4096);
    folio_txn *tx = begin_write(db);
    strbuf sql = {0};
    sb_table(&sql, "t", "c", ncols);
    sb_add(&sql, ")");
    exec(db, tx, sql.p);
    sql.n = 0;
    sb_add(&sql, "CREATE INDEX t_i140 ON t(");
    sb_index_cols(&sql, "c", 0, 140, 1);
    sb_add(&sql, ")");
    exec(db, tx, sql.p);
    sql.n = 0;
    sb_add(&sql, "CREATE UNIQUE INDEX t_u140 ON t(c10, ");
    sb_index_cols(&sql, "c", ncols - 1, 139, -1); /* c149 down to c11 */
    sb_add(&sql, ")");
    exec(db, tx, sql.p);
    commit(db, tx);

    model m;
    model_init(&m, ncols);
    index_workload(db, &m, ncols, 60, 10);
    close_db(db);

    expect_integrity();
    expect_table("t", &m, 0);
    expect_index_counts("t", model_live(&m));
    model_free(&m);
    free(sql.p);
    finish();
}

Test(compat_limits, index_of_2000_columns_insert_update_delete)
{
    start(0x11a3);
    const int ncols = SQLITE_COLUMNS_MAX;
    folio_db *db = open_db(4096);
    folio_txn *tx = begin_write(db);
    strbuf sql = {0};
    sb_table(&sql, "t", "c", ncols);
    sb_add(&sql, ")");
    exec(db, tx, sql.p);
    sql.n = 0;
    sb_add(&sql, "CREATE INDEX t_all ON t(");
    sb_index_cols(&sql, "c", 0, ncols, 1);
    sb_add(&sql, ")");
    exec(db, tx, sql.p);
    sql.n = 0;
    /* Every column but c0, which a row must be able to differ in and still
     * be a duplicate. */
    sb_add(&sql, "CREATE UNIQUE INDEX t_uall ON t(c10, ");
    sb_index_cols(&sql, "c", ncols - 1, ncols - 11, -1);
    sb_add(&sql, ", ");
    sb_index_cols(&sql, "c", 1, 9, 1);
    sb_add(&sql, ")");
    exec(db, tx, sql.p);
    commit(db, tx);

    model m;
    model_init(&m, ncols);
    index_workload(db, &m, ncols, 24, 6);
    close_db(db);

    expect_integrity();
    expect_table("t", &m, 0);
    expect_index_counts("t", model_live(&m));
    model_free(&m);
    free(sql.p);
    finish();
}

/* ---- WITHOUT ROWID tables with wide primary keys --------------------------- */

/* Table `name`: columns k0..k{nkey-1} (the primary key, with mixed orders
 * and collations; k2 is NOCASE) and v0..v{nval-1}, and an index on v0 (or
 * on the last key column) whose entries end with the rest of the key. */
static void create_wide_key_table(folio_db *db, folio_txn *tx, const char *name, int nkey, int nval)
{
    strbuf sql = {0};
    sb_table(&sql, name, "k", nkey);
    for (int c = 0; c < nval; c++)
        sb_add(&sql, ", v%d", c);
    sb_add(&sql, ", PRIMARY KEY(");
    sb_index_cols(&sql, "k", 0, nkey, 1);
    sb_add(&sql, ")) WITHOUT ROWID");
    exec(db, tx, sql.p);
    sql.n = 0;
    if (nval > 0)
        sb_add(&sql, "CREATE INDEX %s_v ON %s(v0)", name, name);
    else
        sb_add(&sql, "CREATE INDEX %s_v ON %s(k%d)", name, name, nkey - 1);
    exec(db, tx, sql.p);
    free(sql.p);
}

/* A new row: k0 a fresh unique integer, k2 lowercase text (so that an
 * uppercase copy is the same key under NOCASE), the other key columns any
 * non-NULL value. */
static folio_value *wide_key_row(int nkey, int ncols)
{
    folio_value *v = rand_row(ncols, 8);
    for (int c = 0; c < nkey; c++) {
        value_set(&v[c], rand_key_value(8));
    }
    value_set(&v[0], v_int(g_next_id++));
    if (nkey > 2) {
        char s[24];
        snprintf(s, sizeof s, "key%05u", (unsigned)below(100000));
        value_set(&v[2], v_text(s));
    }
    return v;
}

/* New values for row i that keep its key. */
static folio_value *same_key_row(const model *m, int i, int nkey)
{
    folio_value *v = rand_row(m->ncols, 8);
    for (int c = 0; c < nkey; c++) {
        value_set(&v[c], value_dup(&m->rows[i].v[c]));
    }
    return v;
}

static void wr_insert(folio_db *db, folio_table *t, model *m, folio_value *v)
{
    int64_t rowid = -1;
    int rc = folio_insert(&rowid, t, v, m->ncols);
    cr_assert(rc == FOLIO_OK, "folio_insert(k0 = %lld) = %s: %s", (long long)v[0].u.i,
              compat_rc_name(rc), folio_errmsg(db));
    cr_assert_eq(rowid, 0, "a WITHOUT ROWID insert reports rowid %lld", (long long)rowid);
    model_add(m, 0, v);
}

static void wr_upsert(folio_db *db, folio_table *t, model *m, int i, folio_value *v)
{
    int64_t rowid = -1;
    int rc = folio_upsert(&rowid, t, 0, v, m->ncols);
    cr_assert(rc == FOLIO_OK, "folio_upsert(k0 = %lld, %s) = %s: %s", (long long)v[0].u.i,
              i < 0 ? "new key" : "existing key", compat_rc_name(rc), folio_errmsg(db));
    if (i < 0)
        model_add(m, 0, v);
    else
        model_replace(m, i, v);
}

static void wr_update_key(folio_db *db, folio_table *t, model *m, int i, int nkey, folio_value *v)
{
    int rc = folio_update_key(t, m->rows[i].v, nkey, v, m->ncols);
    cr_assert(rc == FOLIO_OK, "folio_update_key(%d key values, k0 = %lld) = %s: %s", nkey,
              (long long)m->rows[i].v[0].u.i, compat_rc_name(rc), folio_errmsg(db));
    model_replace(m, i, v);
}

static void wr_delete_key(folio_db *db, folio_table *t, model *m, int i, int nkey)
{
    int rc = folio_delete_key(t, m->rows[i].v, nkey);
    cr_assert(rc == FOLIO_OK, "folio_delete_key(%d key values, k0 = %lld) = %s: %s", nkey,
              (long long)m->rows[i].v[0].u.i, compat_rc_name(rc), folio_errmsg(db));
    model_kill(m, i);
}

/* Insert, refuse a duplicate key, update_key keeping and changing the key,
 * delete_key, and NOTFOUND for a key that is not there. */
static void wide_key_workload(folio_db *db, const char *name, model *m, int nkey, int nrows)
{
    folio_txn *tx = begin_write(db);
    folio_table *t = table_open(db, tx, name);
    cr_assert(folio_table_without_rowid(t));
    for (int r = 0; r < nrows; r++)
        wr_insert(db, t, m, wide_key_row(nkey, m->ncols));
    int i = model_pick(m);
    folio_value *dup = same_key_row(m, i, nkey);
    EXPECT_RC(db, FOLIO_CONSTRAINT, folio_insert(NULL, t, dup, m->ncols));
    values_free(dup, m->ncols);
    commit(db, tx);

    tx = begin_write(db);
    t = table_open(db, tx, name);
    for (int k = 0; k < nrows / 3; k++) {
        i = model_pick(m);
        wr_update_key(db, t, m, i, nkey, same_key_row(m, i, nkey));
    }
    for (int k = 0; k < nrows / 8 + 1; k++) /* the key changes: the row moves */
        wr_update_key(db, t, m, model_pick(m), nkey, wide_key_row(nkey, m->ncols));
    for (int k = 0; k < nrows / 5; k++)
        wr_delete_key(db, t, m, model_pick(m), nkey);
    folio_value *missing = wide_key_row(nkey, m->ncols);
    value_set(&missing[0], v_int(-1));
    EXPECT_RC(db, FOLIO_NOTFOUND, folio_delete_key(t, missing, nkey));
    EXPECT_RC(db, FOLIO_NOTFOUND, folio_update_key(t, missing, nkey, missing, m->ncols));
    values_free(missing, m->ncols);
    commit(db, tx);
}

/* Upsert new keys (the insert branch), then existing keys (the replace
 * branch), some of them given with k2 in uppercase: the same key under
 * NOCASE, so the row is replaced and keeps the new spelling. */
static void wide_key_upserts(folio_db *db, const char *name, model *m, int nkey, int nrows)
{
    folio_txn *tx = begin_write(db);
    folio_table *t = table_open(db, tx, name);
    for (int r = 0; r < nrows; r++)
        wr_upsert(db, t, m, -1, wide_key_row(nkey, m->ncols));
    commit(db, tx);
    tx = begin_write(db);
    t = table_open(db, tx, name);
    for (int k = 0; k < nrows / 2; k++) {
        int i = model_pick(m);
        folio_value *v = same_key_row(m, i, nkey);
        if (k % 2 && nkey > 2) {
            char *p = (char *)v[2].u.s.p;
            for (size_t j = 0; j < v[2].u.s.n; j++)
                if (p[j] >= 'a' && p[j] <= 'z')
                    p[j] = (char)(p[j] - 'a' + 'A');
        }
        wr_upsert(db, t, m, i, v);
    }
    commit(db, tx);
}

Test(compat_limits, without_rowid_key_of_70_columns_insert_update_delete_key)
{
    start(0x11a4);
    folio_db *db = open_db(4096);
    folio_txn *tx = begin_write(db);
    create_wide_key_table(db, tx, "w", 70, 4);
    commit(db, tx);
    model m;
    model_init(&m, 74);
    wide_key_workload(db, "w", &m, 70, 48);
    close_db(db);
    expect_integrity();
    expect_table("w", &m, 1);
    expect_index_counts("w", model_live(&m));
    model_free(&m);
    finish();
}

Test(compat_limits, without_rowid_key_of_70_columns_upsert)
{
    start(0x11a5);
    folio_db *db = open_db(4096);
    folio_txn *tx = begin_write(db);
    create_wide_key_table(db, tx, "w", 70, 4);
    commit(db, tx);
    model m;
    model_init(&m, 74);
    wide_key_upserts(db, "w", &m, 70, 40);
    close_db(db);
    expect_integrity();
    expect_table("w", &m, 1);
    expect_index_counts("w", model_live(&m));
    model_free(&m);
    finish();
}

Test(compat_limits, without_rowid_key_of_2000_columns)
{
    /* A key of all 2000 columns, the most SQLite allows: every update
     * moves the row, and an upsert that replaces a row changes the spelling
     * of its NOCASE key column. */
    start(0x11a6);
    const int ncols = SQLITE_COLUMNS_MAX;
    folio_db *db = open_db(4096);
    folio_txn *tx = begin_write(db);
    create_wide_key_table(db, tx, "w", ncols, 0);
    commit(db, tx);
    model m;
    model_init(&m, ncols);
    wide_key_workload(db, "w", &m, ncols, 16);
    wide_key_upserts(db, "w", &m, ncols, 6);
    close_db(db);
    expect_integrity();
    expect_table("w", &m, 1);
    expect_index_counts("w", model_live(&m));
    model_free(&m);
    finish();
}

Test(compat_limits, cursor_seek_on_wide_keys_written_by_sqlite)
{
    /* The read side of the same limits: libsqlite3 writes a WITHOUT ROWID
     * table with a 70-column key (and an index on it) and a table with a
     * 140-column index; folio seeks each row by its whole key. */
    start(0x11a7);
    sqlite3 *s = compat_sqlite_open(g_path);
    strbuf sql = {0};
    sb_table(&sql, "w", "k", 70);
    sb_add(&sql, ", v, PRIMARY KEY(");
    sb_index_cols(&sql, "k", 0, 70, 1);
    sb_add(&sql, ")) WITHOUT ROWID; CREATE INDEX w_v ON w(v);");
    sb_table(&sql, "t", "c", 150);
    sb_add(&sql, "); CREATE INDEX t_i140 ON t(");
    sb_index_cols(&sql, "c", 0, 140, 1);
    sb_add(&sql, ");");
    compat_exec(s, sql.p);
    /* Row r: k0 = r, k_i = 'x<(r*i) % 5>' (text), v = r * 10; c_i likewise. */
    for (int tab = 0; tab < 2; tab++) {
        int n = tab == 0 ? 70 : 150;
        sql.n = 0;
        sb_add(&sql, "%s INSERT INTO %s SELECT value", COMPAT_SERIES(1, 40), tab == 0 ? "w" : "t");
        for (int i = 1; i < n; i++)
            sb_add(&sql, ", 'x' || ((value * %d) %% 5)", i);
        sb_add(&sql, "%s FROM series", tab == 0 ? ", value * 10" : "");
        compat_exec(s, sql.p);
    }
    compat_sqlite_close(s);

    folio_db *db = open_db(0);
    folio_txn *tx = compat_folio_read(db);
    folio_table *w = table_open(db, tx, "w");
    folio_table *t = table_open(db, tx, "t");
    folio_value key[150];
    char text[150][8];
    for (int r = 1; r <= 40; r++) {
        key[0] = v_int(r);
        for (int i = 1; i < 150; i++) {
            snprintf(text[i], sizeof text[i], "x%d", (r * i) % 5);
            key[i].type = FOLIO_TEXT;
            key[i].u.s.p = text[i];
            key[i].u.s.n = strlen(text[i]);
        }
        folio_cursor *c = NULL;
        OK(db, folio_cursor_open(&c, w, NULL));
        EXPECT_RC(db, FOLIO_ROW, folio_cursor_seek(c, key, 70, FOLIO_SEEK_EQ));
        folio_value v;
        OK(db, folio_cursor_column(&v, c, 70));
        cr_assert(v.type == FOLIO_INTEGER && v.u.i == r * 10, "w row %d: v is wrong", r);
        folio_cursor_close(c);

        OK(db, folio_cursor_open(&c, t, "t_i140"));
        EXPECT_RC(db, FOLIO_ROW, folio_cursor_seek(c, key, 140, FOLIO_SEEK_EQ));
        cr_assert_eq(folio_cursor_rowid(c), r, "t_i140 seek for row %d lands on rowid %lld", r,
                     (long long)folio_cursor_rowid(c));
        folio_cursor_close(c);
    }
    /* The index of w leads back to rows by their 70-column key. */
    folio_cursor *c = NULL;
    OK(db, folio_cursor_open(&c, w, "w_v"));
    int n = 0;
    for (int rc = folio_cursor_first(c); rc != FOLIO_DONE; rc = folio_cursor_next(c)) {
        cr_assert(rc == FOLIO_ROW, "walking w_v: %s: %s", compat_rc_name(rc), folio_errmsg(db));
        folio_value k0;
        OK(db, folio_cursor_column(&k0, c, 0));
        n++;
        cr_assert(k0.type == FOLIO_INTEGER && k0.u.i == n, "w_v entry %d leads to k0 %lld", n,
                  (long long)k0.u.i);
    }
    cr_assert_eq(n, 40);
    folio_cursor_close(c);
    OK(db, folio_commit(tx));
    close_db(db);
    free(sql.p);
    finish();
}

/* ---- the length limit -------------------------------------------------------- */

/* `n` bytes of address space behind which there is no memory and that
 * must never be read: a PROT_NONE mapping. */
static void *unreadable(size_t n)
{
    void *p = mmap(NULL, n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    cr_assert(p != MAP_FAILED, "mmap of %zu bytes: %s", n, strerror(errno));
    return p;
}

static folio_value v_unreadable(folio_type type, const void *p, size_t n)
{
    folio_value v = v_null();
    v.type = type;
    v.u.s.p = p;
    v.u.s.n = n;
    return v;
}

/* A refusal for size: FOLIO_TOOBIG with a message. */
#define EXPECT_TOOBIG(db, call)                                                                    \
    do {                                                                                           \
        EXPECT_RC(db, FOLIO_TOOBIG, call);                                                         \
        cr_assert(strlen(folio_errmsg(db)) > 0, "%s: FOLIO_TOOBIG without a message", #call);      \
    } while (0)

/*
 * Fill n bytes cheaply (byte loops are slow under AddressSanitizer): a
 * random first 64 KiB, copied over the rest, with the offset written into
 * every 512 bytes so that no two 512-byte pieces are alike and a page put
 * in the wrong place shows. Letters only when `letters`.
 */
static void fill_pattern(uint8_t *p, size_t n, int letters)
{
    const size_t block = 65536, stamp = 512;
    size_t head = n < block ? n : block;
    for (size_t i = 0; i < head; i++) {
        uint8_t r = (uint8_t)compat_rand(&g_rng);
        p[i] = letters ? (uint8_t)('a' + r % 26) : r;
    }
    for (size_t off = head; off < n; off += block)
        memcpy(p + off, p, n - off < block ? n - off : block);
    for (size_t off = 0; off + 8 <= n; off += stamp) {
        uint8_t tag[8];
        uint64_t k = off / stamp;
        for (int j = 0; j < 8; j++, k /= 26)
            tag[j] = letters ? (uint8_t)('A' + k % 26) : (uint8_t)(off >> (8 * j));
        memcpy(p + off, tag, 8);
    }
}

Test(compat_limits, values_of_50_mb_text_and_blob, .timeout = 120)
{
    /* SQLite takes values up to 1,000,000,000 bytes; 50 MB is enough to
     * cross every size class of the overflow chain code and fits a CI box. */
    const size_t big = 50u * 1000 * 1000;
    start(0x11a8);
    folio_db *db = open_db(4096);
    folio_txn *tx = begin_write(db);
    exec(db, tx, "CREATE TABLE big(id INTEGER PRIMARY KEY, t TEXT, b BLOB, n)");
    folio_table *t = table_open(db, tx, "big");
    model m;
    model_init(&m, 4);
    folio_value *v = values_new(4);
    v[0] = v_int(1);
    v[1] = v_bytes(FOLIO_TEXT, big);
    fill_pattern((uint8_t *)v[1].u.s.p, big, 1);
    v[2] = v_bytes(FOLIO_BLOB, big);
    fill_pattern((uint8_t *)v[2].u.s.p, big, 0);
    v[3] = v_int(7);
    insert_row(db, t, &m, v, 4);
    v = values_new(4);
    cr_assert(v != NULL);
    v[0] = v_int(2);
    v[1] = v_text("small");
    v[2] = rand_blob(100);
    v[3] = v_null();
    insert_row(db, t, &m, v, 4);
    commit(db, tx);
    close_db(db);
    expect_integrity();
    expect_table("big", &m, 0);

    /* Replace the blob by another 50 MB and the text by a short one; the
     * freed overflow pages go to the freelist and are reused. */
    db = open_db(0);
    tx = begin_write(db);
    t = table_open(db, tx, "big");
    int cols[2] = {1, 2};
    folio_value nv[2] = {v_text("short now"), v_bytes(FOLIO_BLOB, big)};
    fill_pattern((uint8_t *)nv[1].u.s.p, big, 0);
    OK(db, folio_patch(t, 1, cols, nv, 2));
    int i = model_find_rowid(&m, 1);
    for (int k = 0; k < 2; k++) {
        value_set(&m.rows[i].v[cols[k]], nv[k]);
    }
    commit(db, tx);
    close_db(db);
    expect_integrity();
    expect_table("big", &m, 0);
    model_free(&m);
    finish();
}

Test(compat_limits, value_over_1000000000_bytes_is_refused_unread)
{
    start(0x11a9);
    const size_t over = (size_t)SQLITE_LENGTH_MAX + 1;
    const void *huge = unreadable(over);
    folio_db *db = open_db(4096);
    folio_txn *tx = begin_write(db);
    exec(db, tx, "CREATE TABLE t(a, b)");
    exec(db, tx, "CREATE TABLE s(id INTEGER PRIMARY KEY, x TEXT)");
    exec(db, tx, "CREATE TABLE w(k PRIMARY KEY, v) WITHOUT ROWID");
    folio_table *t = table_open(db, tx, "t");
    folio_table *s = table_open(db, tx, "s");
    folio_table *w = table_open(db, tx, "w");
    model mt, ms, mw;
    model_init(&mt, 2);
    model_init(&ms, 2);
    model_init(&mw, 2);
    insert_row(db, t, &mt, pair(1, "one"), 2);
    insert_row(db, s, &ms, pair(1, "one"), 2);
    wr_insert(db, w, &mw, pair(1, "one"));

    for (int type = FOLIO_TEXT; type <= FOLIO_BLOB; type++) {
        folio_value bad[2] = {v_int(2), v_unreadable((folio_type)type, huge, over)};
        folio_value key[1] = {v_int(1)};
        int col = 1;
        EXPECT_TOOBIG(db, folio_insert(NULL, t, bad, 2));
        EXPECT_TOOBIG(db, folio_update(t, 1, bad, 2));
        EXPECT_TOOBIG(db, folio_upsert(NULL, t, 1, bad, 2));
        EXPECT_TOOBIG(db, folio_upsert(NULL, t, 5, bad, 2));
        EXPECT_TOOBIG(db, folio_patch(t, 1, &col, &bad[1], 1));
        /* A TEXT column: the append path takes text as it comes. */
        EXPECT_TOOBIG(db, folio_insert(NULL, s, bad, 2));
        EXPECT_TOOBIG(db, folio_patch(s, 1, &col, &bad[1], 1));
        EXPECT_TOOBIG(db, folio_insert(NULL, w, bad, 2));
        EXPECT_TOOBIG(db, folio_upsert(NULL, w, 0, bad, 2));
        EXPECT_TOOBIG(db, folio_update_key(w, key, 1, bad, 2));
        folio_value badkey[2] = {v_unreadable((folio_type)type, huge, over), v_int(3)};
        EXPECT_TOOBIG(db, folio_insert(NULL, w, badkey, 2));
    }
    /* The transaction goes on as if the calls had not been made. */
    insert_row(db, t, &mt, pair(2, "two"), 2);
    commit(db, tx);
    close_db(db);
    munmap((void *)huge, over);
    expect_integrity();
    expect_table("t", &mt, 0);
    expect_table("s", &ms, 0);
    expect_table("w", &mw, 1);
    model_free(&mt);
    model_free(&ms);
    model_free(&mw);
    finish();
}

Test(compat_limits, key_over_1000000000_bytes_is_refused_unread)
{
    /* A key longer than any value can be matches no row; folio must say so
     * (or refuse it) without reading it. */
    start(0x11aa);
    const size_t over = (size_t)SQLITE_LENGTH_MAX + 1;
    const void *huge = unreadable(over);
    folio_db *db = open_db(4096);
    folio_txn *tx = begin_write(db);
    exec(db, tx, "CREATE TABLE w(k PRIMARY KEY, v) WITHOUT ROWID");
    folio_table *w = table_open(db, tx, "w");
    model mw;
    model_init(&mw, 2);
    for (int r = 0; r < 20; r++) {
        folio_value *v = values_new(2);
        v[0] = r % 2 ? rand_text(10) : rand_blob(10);
        v[1] = v_int(r);
        wr_insert(db, w, &mw, v);
    }
    for (int type = FOLIO_TEXT; type <= FOLIO_BLOB; type++) {
        folio_value key[1] = {v_unreadable((folio_type)type, huge, over)};
        folio_value vals[2] = {v_int(1), v_int(2)};
        int rc = folio_delete_key(w, key, 1);
        cr_assert(rc == FOLIO_TOOBIG || rc == FOLIO_NOTFOUND,
                  "folio_delete_key(key of %zu bytes) = %s, expected FOLIO_TOOBIG or "
                  "FOLIO_NOTFOUND: %s",
                  over, compat_rc_name(rc), folio_errmsg(db));
        rc = folio_update_key(w, key, 1, vals, 2);
        cr_assert(rc == FOLIO_TOOBIG || rc == FOLIO_NOTFOUND,
                  "folio_update_key(key of %zu bytes) = %s, expected FOLIO_TOOBIG or "
                  "FOLIO_NOTFOUND: %s",
                  over, compat_rc_name(rc), folio_errmsg(db));
    }
    commit(db, tx);
    close_db(db);
    munmap((void *)huge, over);
    expect_integrity();
    sqlite3 *s = compat_sqlite_open_ro(g_path);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM w"), 20);
    compat_sqlite_close(s);
    model_free(&mw);
    finish();
}

Test(compat_limits, row_over_1000000000_bytes_is_refused_unread)
{
    /* Each value is under the limit, the record of the row is over it: SQLite
     * refuses such a row ("string or blob too big"), and so must folio, by
     * adding up lengths, before it copies a byte. */
    start(0x11ab);
    const size_t half = SQLITE_LENGTH_MAX / 2, third = SQLITE_LENGTH_MAX / 3 + 1;
    const void *huge = unreadable(half);
    folio_db *db = open_db(4096);
    folio_txn *tx = begin_write(db);
    exec(db, tx, "CREATE TABLE t(a, b, c)");
    exec(db, tx, "CREATE TABLE w(k PRIMARY KEY, a, b) WITHOUT ROWID");
    folio_table *t = table_open(db, tx, "t");
    folio_table *w = table_open(db, tx, "w");
    model mt, mw;
    model_init(&mt, 3);
    model_init(&mw, 3);
    insert_row(db, t, &mt, triple(1, "one", v_null()), 3);
    wr_insert(db, w, &mw, triple(1, "one", v_null()));

    /* Two halves and a byte of header; three thirds. */
    folio_value halves[3] = {v_unreadable(FOLIO_BLOB, huge, half),
                             v_unreadable(FOLIO_TEXT, huge, half), v_int(5)};
    folio_value thirds[3] = {v_unreadable(FOLIO_BLOB, huge, third),
                             v_unreadable(FOLIO_BLOB, huge, third),
                             v_unreadable(FOLIO_TEXT, huge, third)};
    int cols[2] = {0, 1};
    EXPECT_TOOBIG(db, folio_insert(NULL, t, halves, 3));
    EXPECT_TOOBIG(db, folio_insert(NULL, t, thirds, 3));
    EXPECT_TOOBIG(db, folio_update(t, 1, thirds, 3));
    EXPECT_TOOBIG(db, folio_upsert(NULL, t, 1, halves, 3));
    EXPECT_TOOBIG(db, folio_upsert(NULL, t, 9, thirds, 3));
    EXPECT_TOOBIG(db, folio_patch(t, 1, cols, halves, 2));
    folio_value wrow[3] = {v_int(2), v_unreadable(FOLIO_BLOB, huge, half),
                           v_unreadable(FOLIO_BLOB, huge, half)};
    folio_value key[1] = {v_int(1)};
    EXPECT_TOOBIG(db, folio_insert(NULL, w, wrow, 3));
    EXPECT_TOOBIG(db, folio_upsert(NULL, w, 0, wrow, 3));
    wrow[0] = v_int(1);
    EXPECT_TOOBIG(db, folio_upsert(NULL, w, 0, wrow, 3));
    EXPECT_TOOBIG(db, folio_update_key(w, key, 1, wrow, 3));

    insert_row(db, t, &mt, triple(2, "two", v_int(2)), 3);
    commit(db, tx);
    close_db(db);
    munmap((void *)huge, half);
    expect_integrity();
    expect_table("t", &mt, 0);
    expect_table("w", &mw, 1);
    model_free(&mt);
    model_free(&mw);
    finish();
}

/* ---- rowids --------------------------------------------------------------- */

Test(compat_limits, rowids_at_plus_and_minus_2_to_the_63)
{
    start(0x11ac);
    static const int64_t ids[] = {INT64_MIN, INT64_MAX, -1, 0, 1, INT64_MIN + 1, INT64_MAX - 1};
    const int nids = (int)(sizeof ids / sizeof ids[0]);
    folio_db *db = open_db(4096);
    folio_txn *tx = begin_write(db);
    exec(db, tx, "CREATE TABLE t(a, b)");
    exec(db, tx, "CREATE TABLE p(id INTEGER PRIMARY KEY, b)");
    exec(db, tx, "CREATE INDEX p_b ON p(b)");
    exec(db, tx, "CREATE TABLE lo(a, b)");
    exec(db, tx, "CREATE TABLE neg(a, b)");
    folio_table *t = table_open(db, tx, "t");
    folio_table *p = table_open(db, tx, "p");
    model mt, mp, mlo, mneg;
    model_init(&mt, 2);
    model_init(&mp, 2);
    model_init(&mlo, 2);
    model_init(&mneg, 2);
    for (int k = 0; k < nids; k++) {
        int64_t out = 42;
        folio_value *v = pair(k, "upserted");
        OK(db, folio_upsert(&out, t, ids[k], v, 2));
        cr_assert(out == ids[k], "upsert at rowid %lld reports %lld", (long long)ids[k],
                  (long long)out);
        model_add(&mt, ids[k], v);
        v = pair(ids[k], "inserted");
        OK(db, folio_insert(&out, p, v, 2));
        cr_assert(out == ids[k], "insert with id %lld reports rowid %lld", (long long)ids[k],
                  (long long)out);
        model_add(&mp, ids[k], v);
    }
    folio_value *dup = pair(INT64_MAX, "again");
    EXPECT_RC(db, FOLIO_CONSTRAINT, folio_insert(NULL, p, dup, 2));
    value_set(&dup[0], v_int(INT64_MIN));
    EXPECT_RC(db, FOLIO_CONSTRAINT, folio_insert(NULL, p, dup, 2));
    values_free(dup, 2);
    commit(db, tx);

    tx = begin_write(db);
    t = table_open(db, tx, "t");
    p = table_open(db, tx, "p");
    for (int k = 0; k < nids; k++) {
        int i = model_find_rowid(&mt, ids[k]);
        update_row(db, t, &mt, i, pair(-k, "updated"));
        i = model_find_rowid(&mp, ids[k]);
        int col = 1;
        folio_value nv = v_text("patched");
        OK(db, folio_patch(p, ids[k], &col, &nv, 1));
        value_set(&mp.rows[i].v[1], nv);
    }
    delete_row(db, t, &mt, model_find_rowid(&mt, 0));
    delete_row(db, t, &mt, model_find_rowid(&mt, INT64_MIN));
    delete_row(db, p, &mp, model_find_rowid(&mp, INT64_MAX));
    /* Move the row at INT64_MIN to INT64_MAX by its INTEGER PRIMARY KEY. */
    folio_value *v = pair(INT64_MAX, "moved");
    OK(db, folio_update(p, INT64_MIN, v, 2));
    model_kill(&mp, model_find_rowid(&mp, INT64_MIN));
    model_add(&mp, INT64_MAX, v);
    /* The next automatic rowid is one past the largest, even when that is
     * INT64_MIN or -1. */
    folio_table *lo = table_open(db, tx, "lo"), *neg = table_open(db, tx, "neg");
    v = pair(1, "min");
    OK(db, folio_upsert(NULL, lo, INT64_MIN, v, 2));
    model_add(&mlo, INT64_MIN, v);
    insert_row(db, lo, &mlo, pair(2, "auto"), 2);
    cr_assert_eq(mlo.rows[1].rowid, INT64_MIN + 1);
    v = pair(1, "minus one");
    OK(db, folio_upsert(NULL, neg, -1, v, 2));
    model_add(&mneg, -1, v);
    insert_row(db, neg, &mneg, pair(2, "auto"), 2);
    cr_assert_eq(mneg.rows[1].rowid, 0);
    commit(db, tx);
    close_db(db);

    expect_integrity();
    expect_table("t", &mt, 0);
    expect_table("p", &mp, 0);
    expect_table("lo", &mlo, 0);
    expect_table("neg", &mneg, 0);
    model_free(&mt);
    model_free(&mp);
    model_free(&mlo);
    model_free(&mneg);
    finish();
}

Test(compat_limits, automatic_rowid_after_int64_max_is_a_random_unused_one)
{
    start(0x11ad);
    folio_db *db = open_db(4096);
    folio_txn *tx = begin_write(db);
    exec(db, tx, "CREATE TABLE t(a, b)");
    exec(db, tx, "CREATE TABLE p(id INTEGER PRIMARY KEY, b)");
    folio_table *t = table_open(db, tx, "t");
    folio_table *p = table_open(db, tx, "p");
    model mt, mp;
    model_init(&mt, 2);
    model_init(&mp, 2);
    folio_value *v = pair(0, "max");
    OK(db, folio_upsert(NULL, t, INT64_MAX, v, 2));
    model_add(&mt, INT64_MAX, v);
    insert_row(db, p, &mp, pair(INT64_MAX, "max"), 2);
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < 60; k++) {
            insert_row(db, t, &mt, pair(k, "auto"), 2);
            v = pair(0, "auto");
            value_free(&v[0]); /* NULL: chosen automatically */
            insert_row(db, p, &mp, v, 2);
            mp.rows[mp.n - 1].v[0] = v_int(mp.rows[mp.n - 1].rowid);
        }
        commit(db, tx);
        if (pass == 0) { /* and again after reopening */
            close_db(db);
            db = open_db(0);
        }
        tx = begin_write(db);
        t = table_open(db, tx, "t");
        p = table_open(db, tx, "p");
    }
    OK(db, folio_rollback(tx));
    close_db(db);
    const model *ms[2] = {&mt, &mp};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < ms[k]->n; i++) {
            int64_t r = ms[k]->rows[i].rowid;
            cr_assert(r > 0, "automatic rowid %lld is not positive", (long long)r);
            for (int j = 0; j < i; j++)
                cr_assert(ms[k]->rows[j].rowid != r, "rowid %lld given twice", (long long)r);
        }
    expect_integrity();
    expect_table("t", &mt, 0);
    expect_table("p", &mp, 0);
    model_free(&mt);
    model_free(&mp);
    finish();
}

Test(compat_limits, autoincrement_at_int64_max_is_full)
{
    start(0x11ae);
    folio_db *db = open_db(4096);
    folio_txn *tx = begin_write(db);
    exec(db, tx, "CREATE TABLE a(id INTEGER PRIMARY KEY AUTOINCREMENT, v)");
    folio_table *t = table_open(db, tx, "a");
    folio_value *v = pair(INT64_MAX, "max");
    OK(db, folio_insert(NULL, t, v, 2));
    values_free(v, 2);
    commit(db, tx);

    tx = begin_write(db);
    t = table_open(db, tx, "a");
    folio_value row[2] = {v_null(), v_int(1)};
    EXPECT_RC(db, FOLIO_FULL, folio_insert(NULL, t, row, 2));
    cr_assert(strlen(folio_errmsg(db)) > 0, "FOLIO_FULL without a message");
    /* sqlite_sequence remembers INT64_MAX after the row is gone. */
    OK(db, folio_delete(t, INT64_MAX));
    EXPECT_RC(db, FOLIO_FULL, folio_insert(NULL, t, row, 2));
    v = pair(5, "five");
    OK(db, folio_insert(NULL, t, v, 2));
    values_free(v, 2);
    commit(db, tx);
    close_db(db);

    expect_integrity();
    sqlite3 *s = compat_sqlite_open(g_path);
    cr_assert_eq(compat_query_int(s, "SELECT seq FROM sqlite_sequence WHERE name = 'a'"),
                 INT64_MAX);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM a"), 1);
    cr_assert_eq(compat_query_int(s, "SELECT id FROM a"), 5);
    /* libsqlite3 reaches the same verdict on folio's file. */
    int rc = sqlite3_exec(s, "INSERT INTO a(v) VALUES(1)", NULL, NULL, NULL);
    cr_assert_eq(rc, SQLITE_FULL, "libsqlite3 inserts with rc %d", rc);
    compat_sqlite_close(s);
    finish();
}

/* ---- page sizes ------------------------------------------------------------- */

/* A 300-column table with a 40-column index and an index on a column of
 * values several pages long, and a WITHOUT ROWID table whose keys span
 * several pages (overflow from interior cells too), written and changed. */
static void page_size_case(unsigned page_size, uint64_t seed)
{
    start(seed);
    const int ncols = 300;
    size_t longest = 4 * (size_t)page_size < 100000 ? 4 * (size_t)page_size : 100000;
    folio_db *db = open_db(page_size);
    folio_txn *tx = begin_write(db);
    strbuf sql = {0};
    sb_add(&sql, "CREATE TABLE t(c0 INTEGER PRIMARY KEY");
    for (int c = 1; c < ncols; c++)
        sb_add(&sql, ", c%d", c);
    sb_add(&sql, ")");
    exec(db, tx, sql.p);
    sql.n = 0;
    sb_add(&sql, "CREATE INDEX t_w ON t(");
    sb_index_cols(&sql, "c", 1, 40, 1);
    sb_add(&sql, ")");
    exec(db, tx, sql.p);
    exec(db, tx, "CREATE INDEX t_big ON t(c299 DESC, c150)");
    exec(db, tx, "CREATE TABLE w(n INTEGER, k TEXT, v, PRIMARY KEY(n, k DESC)) WITHOUT ROWID");
    exec(db, tx, "CREATE INDEX w_v ON w(v)");
    folio_table *t = table_open(db, tx, "t");
    folio_table *w = table_open(db, tx, "w");
    model mt, mw;
    model_init(&mt, ncols);
    model_init(&mw, 3);
    for (int r = 0; r < 80; r++) {
        folio_value *v = rand_row(ncols, 8);
        value_free(&v[0]); /* the rowid, chosen automatically */
        if (r % 2) {
            value_set(&v[150], rand_text((size_t)below(2 * (size_t)page_size)));
            value_set(&v[299], rand_blob((size_t)below(longest)));
        }
        insert_row(db, t, &mt, v, ncols);
        mt.rows[mt.n - 1].v[0] = v_int(mt.rows[mt.n - 1].rowid);
    }
    for (int r = 0; r < 120; r++) {
        folio_value *v = values_new(3);
        v[0] = v_int(g_next_id++);
        v[1] = rand_text((size_t)below(3 * (size_t)page_size));
        v[2] = r % 3 ? rand_blob((size_t)below(longest)) : rand_value(20);
        wr_insert(db, w, &mw, v);
    }
    commit(db, tx);

    tx = begin_write(db);
    t = table_open(db, tx, "t");
    w = table_open(db, tx, "w");
    for (int k = 0; k < 25; k++) {
        int i = model_pick(&mt);
        folio_value *v = rand_row(ncols, 8);
        value_set(&v[0], v_int(mt.rows[i].rowid));
        value_set(&v[299], rand_blob((size_t)below(longest)));
        update_row(db, t, &mt, i, v);
    }
    for (int k = 0; k < 20; k++)
        patch_row(db, t, &mt, model_pick(&mt), 1, 4, 3 * (size_t)page_size);
    for (int k = 0; k < 20; k++)
        delete_row(db, t, &mt, model_pick(&mt));
    for (int k = 0; k < 30; k++) {
        int i = model_pick(&mw);
        folio_value *v = values_new(3);
        v[0] = value_dup(&mw.rows[i].v[0]);
        v[1] = value_dup(&mw.rows[i].v[1]);
        v[2] = rand_blob((size_t)below(longest));
        wr_update_key(db, w, &mw, i, 2, v);
    }
    for (int k = 0; k < 30; k++)
        wr_delete_key(db, w, &mw, model_pick(&mw), 2);
    commit(db, tx);
    close_db(db);

    expect_integrity();
    sqlite3 *s = compat_sqlite_open_ro(g_path);
    cr_assert_eq(compat_query_int(s, "PRAGMA page_size"), page_size);
    compat_sqlite_close(s);
    expect_table("t", &mt, 0);
    expect_table("w", &mw, 1);
    expect_index_counts("t", model_live(&mt));
    expect_index_counts("w", model_live(&mw));
    model_free(&mt);
    model_free(&mw);
    free(sql.p);
    finish();
}

Test(compat_limits, page_size_512_wide_rows_overflow_and_indexes)
{
    page_size_case(512, 0x11af);
}

Test(compat_limits, page_size_65536_wide_rows_overflow_and_indexes)
{
    page_size_case(65536, 0x11b0);
}

/* ---- many tables, many indexes ----------------------------------------------- */

#define NTABLES 2000

/* Table i, an index on every third one, and two rows. */
static void make_table(folio_db *db, folio_txn *tx, int i)
{
    char sql[160], name[16], text[32];
    snprintf(name, sizeof name, "t%d", i);
    snprintf(sql, sizeof sql, "CREATE TABLE %s(a INTEGER PRIMARY KEY, b TEXT, c)", name);
    exec(db, tx, sql);
    if (i % 3 == 0) {
        snprintf(sql, sizeof sql, "CREATE INDEX %s_b ON %s(b, c DESC)", name, name);
        exec(db, tx, sql);
    }
    folio_table *t = table_open(db, tx, name);
    for (int r = 1; r <= 2; r++) {
        snprintf(text, sizeof text, "row %d of %s", r, name);
        folio_value v[3] = {v_int(r), v_null(), v_int(r == 1 ? i : -i)};
        v[1].type = FOLIO_TEXT;
        v[1].u.s.p = text;
        v[1].u.s.n = strlen(text);
        OK(db, folio_insert(NULL, t, v, 3));
    }
}

static void expect_tables(void)
{
    expect_integrity();
    sqlite3 *s = compat_sqlite_open_ro(g_path);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"),
                 NTABLES);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM sqlite_schema WHERE type = 'index'"),
                 (NTABLES + 2) / 3);
    for (int i = 0; i < NTABLES; i++) {
        char sql[80], text[32];
        snprintf(sql, sizeof sql, "SELECT a, b, c FROM t%d ORDER BY a", i);
        sqlite3_stmt *st = compat_prepare(s, sql);
        for (int r = 1; r <= 2; r++) {
            cr_assert(sqlite3_step(st) == SQLITE_ROW, "t%d: row %d is missing", i, r);
            snprintf(text, sizeof text, "row %d of t%d", r, i);
            cr_assert_eq(sqlite3_column_int64(st, 0), r);
            cr_assert_str_eq((const char *)sqlite3_column_text(st, 1), text);
            cr_assert_eq(sqlite3_column_int64(st, 2), r == 1 ? i : -i);
        }
        cr_assert(sqlite3_step(st) == SQLITE_DONE, "t%d has more than 2 rows", i);
        sqlite3_finalize(st);
        if (i % 3 == 0)
            cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t%d INDEXED BY t%d_b", i, i), 2);
    }
    compat_sqlite_close(s);
}

Test(compat_limits, thousands_of_tables_in_one_transaction, .timeout = 120)
{
    start(0x11b1);
    folio_db *db = open_db(4096);
    folio_txn *tx = begin_write(db);
    for (int i = 0; i < NTABLES; i++) {
        make_table(db, tx, i);
    }
    cr_assert_eq(folio_schema_count(tx), NTABLES + (NTABLES + 2) / 3);
    commit(db, tx);
    close_db(db);
    expect_tables();
    finish();
}

Test(compat_limits, thousands_of_tables_in_many_transactions, .timeout = 120)
{
    /* One table per transaction, the handle reopened half way: each
     * transaction starts from a schema of thousands of entries. */
    start(0x11b2);
    folio_db *db = open_db(4096);
    for (int i = 0; i < NTABLES; i++) {
        if (i == NTABLES / 2) {
            close_db(db);
            db = open_db(0);
        }
        folio_txn *tx = begin_write(db);
        make_table(db, tx, i);
        commit(db, tx);
    }
    close_db(db);
    expect_tables();
    finish();
}

Test(compat_limits, table_with_100_indexes)
{
    /* Past the first 64 indexes of a table (the ones whose entries folio
     * may defer and sort), every index still takes every row. */
    start(0x11b3);
    const int ncols = 20, nidx = 100;
    folio_db *db = open_db(4096);
    folio_txn *tx = begin_write(db);
    strbuf sql = {0};
    sb_table(&sql, "t", "c", ncols);
    sb_add(&sql, ")");
    exec(db, tx, sql.p);
    for (int j = 0; j < nidx; j++) {
        int unique = j % 10 == 0;
        int n = 1 + (int)below(4), used[20] = {0};
        sql.n = 0;
        sb_add(&sql, "CREATE %sINDEX t_i%d ON t(", unique ? "UNIQUE " : "", j);
        for (int k = 0; k < n;) {
            int c = 1 + (int)below((uint64_t)ncols - 1);
            if (used[c])
                continue;
            used[c] = 1;
            sb_add(&sql, "%sc%d%s", k++ ? ", " : "", c, key_decor((int)below(7) + 1));
        }
        /* Column 0 is unique: a UNIQUE index that includes it never conflicts. */
        sb_add(&sql, "%s)", unique ? ", c0" : "");
        exec(db, tx, sql.p);
    }
    commit(db, tx);
    model m;
    model_init(&m, ncols);
    for (int pass = 0; pass < 2; pass++) {
        tx = begin_write(db);
        folio_table *t = table_open(db, tx, "t");
        for (int r = 0; r < 120; r++) {
            folio_value *v = rand_row(ncols, 10);
            value_set(&v[0], v_int(g_next_id++));
            insert_row(db, t, &m, v, ncols);
        }
        for (int k = 0; k < 30; k++) {
            int i = model_pick(&m);
            folio_value *v = rand_row(ncols, 10);
            value_set(&v[0], v_int(g_next_id++));
            update_row(db, t, &m, i, v);
        }
        for (int k = 0; k < 20; k++)
            patch_row(db, t, &m, model_pick(&m), 1, 3, 10);
        for (int k = 0; k < 25; k++)
            delete_row(db, t, &m, model_pick(&m));
        commit(db, tx);
    }
    close_db(db);
    expect_integrity();
    expect_table("t", &m, 0);
    expect_index_counts("t", model_live(&m));
    model_free(&m);
    free(sql.p);
    finish();
}
