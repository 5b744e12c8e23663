/*
 * filter.c - filters over rows: a WHERE expression compiled against a table
 * (folio_filter_compile), the cursors it narrows (folio_cursor_filter), and
 * the statements that delete or update the rows it selects
 * (folio_delete_where, folio_update_where).
 *
 * A filter is an EX_FILTER program of src/expr over the table's scope (its
 * columns, the rowid and its aliases, the table's name as a qualifier) with
 * an evaluation context of its own, so a filtered scan allocates nothing per
 * row once the context's scratch has grown. The evaluator asks for a column
 * only when the expression reaches it, and the cursor decodes only that
 * column of the current record (db_cursor_column).
 *
 * A row is selected when the expression is TRUE, as in SQL's WHERE: false
 * and NULL skip it.
 *
 * folio_delete_where and folio_update_where are one statement each: the
 * matching rows are collected first (their rowids, or for WITHOUT ROWID
 * tables their values), so that no change made by the statement can make
 * the scan see a row twice or miss one, then each is deleted or updated by
 * the ordinary row calls, which take part in the statement instead of
 * beginning their own (txn->stmt_nested): a failure on any row undoes every
 * row of the call.
 */
#include "db/write_int.h"

#include <string.h>

struct folio_filter {
    folio_txn *txn;
    db_table *tab; /* the definition it was compiled against */
    ex_prog *prog;
    ex_ctx *cx;
    int volatile_prog; /* it reads the clock or random(): a new ctx per scan */
    int used;          /* the ctx evaluated something since the last restart */
    int col_failed;    /* the last evaluation failed reading a column */
    folio_cursor *cur; /* the cursor being evaluated */
};

static int filter_new(folio_filter **out, folio_table *t, const char *expr)
{
    folio_db *db = t->txn->db;
    db_table *tab = t->tab;
    *out = NULL;
    if (t->dead)
        return db_err(db, FOLIO_MISUSE, "table %s was dropped", tab->name);
    if (!tab->parsed || !tab->ex_cols)
        return db_err(db, FOLIO_UNSUPPORTED, "table %s cannot be filtered: %s", tab->name,
                      tab->parse_error ? tab->parse_error : "unknown definition");
    folio_filter *f = os_calloc(1, sizeof *f);
    if (!f)
        return db_err(db, FOLIO_NOMEM, "out of memory");
    f->txn = t->txn;
    f->tab = tab;
    char err[512];
    int rc = ex_compile(&f->prog, expr, strlen(expr), &tab->scope, EX_FILTER, err, sizeof err);
    if (rc < 0) {
        os_free(f);
        return db_err(db, rc, "%s", err);
    }
    f->volatile_prog = ex_prog_is_volatile(f->prog);
    if (ex_ctx_new(&f->cx) < 0) {
        folio_filter_free(f);
        return db_err(db, FOLIO_NOMEM, "out of memory");
    }
    *out = f;
    return 0;
}

int folio_filter_compile(folio_filter **out, folio_table *t, const char *expr)
{
    if (!t)
        return FOLIO_MISUSE;
    TXN_ON_TIME(t->txn);
    folio_db *db = t->txn->db;
    FOLIO_CHECK_ARG(db, out != NULL);
    *out = NULL;
    FOLIO_CHECK_ARG(db, expr != NULL);
    if (t->txn->done)
        return db_err(db, FOLIO_MISUSE, "the transaction has ended");
    return filter_new(out, t, expr);
}

void folio_filter_free(folio_filter *f)
{
    if (!f)
        return;
    ex_prog_free(f->prog);
    ex_ctx_free(f->cx);
    os_free(f);
}

int folio_cursor_filter(folio_cursor *c, folio_filter *f)
{
    if (!c)
        return FOLIO_MISUSE;
    TXN_ON_TIME(c->t->txn);
    folio_db *db = c->t->txn->db;
    if (f && (f->txn != c->t->txn || f->tab != c->t->tab))
        return db_err(db, FOLIO_MISUSE,
                      "the filter was compiled for another table, transaction or definition of "
                      "table %s",
                      c->t->tab->name);
    c->filter = f;
    return FOLIO_OK;
}

void filter_restart(folio_filter *f)
{
    /* Every scan is a statement of its own: 'now' is read again (the
     * context keeps the instant of its first use). */
    if (f->volatile_prog && f->used) {
        ex_ctx *cx;
        if (ex_ctx_new(&cx) == 0) {
            ex_ctx_free(f->cx);
            f->cx = cx;
            f->used = 0;
        }
    }
}

/* Column `col` of the cursor's row for the evaluator. */
static int row_column(void *arg, int col, ex_value *out)
{
    folio_filter *f = arg;
    folio_value v;
    if (col < 0 || col >= f->tab->def.ncols) /* never, for a program of this table */
        return db_err(f->txn->db, FOLIO_MISUSE, "a filter read column %d of %s", col, f->tab->name);
    int rc = db_cursor_column(f->cur, col, &v);
    if (rc < 0) {
        f->col_failed = 1;
        return rc;
    }
    out->type = (int)v.type;
    out->subtype = EX_SUBTYPE_NONE;
    if (v.type == FOLIO_TEXT || v.type == FOLIO_BLOB) {
        out->u.s.p = v.u.s.p;
        out->u.s.n = v.u.s.n;
    } else if (v.type == FOLIO_REAL) {
        out->u.r = v.u.r;
    } else {
        out->u.i = v.u.i;
    }
    return 0;
}

int filter_match(folio_filter *f, folio_cursor *c)
{
    f->cur = c;
    f->col_failed = 0;
    f->used = 1;
    ex_row row = {.column = row_column, .arg = f, .rowid = folio_cursor_rowid(c)};
    ex_value v;
    int rc = ex_eval(f->prog, f->cx, &row, &v);
    f->cur = NULL;
    if (rc < 0) /* a column's message is set already; else the evaluator's */
        return f->col_failed ? rc : db_err(c->t->txn->db, rc, "%s", ex_ctx_errmsg(f->cx));
    return ex_truth(&v) == 1;
}

/* ---- statements over the selected rows ---- */

/* The rows a statement changes: rowids, or (WITHOUT ROWID) every column's
 * value, copied out of the pages before anything changes them. */
typedef struct rowset {
    int64_t n, cap;
    int64_t *rowid;  /* rowid tables */
    uint64_t *start; /* WITHOUT ROWID: offset of each row in bytes */
    uint8_t *bytes;  /* rows: per column a type byte, an 8-byte number or length, the bytes */
    uint64_t used, bcap;
} rowset;

static void rowset_free(rowset *r)
{
    os_free(r->rowid);
    os_free(r->start);
    os_free(r->bytes);
}

static int rowset_room(rowset *r, uint64_t more_bytes)
{
    if (r->n == r->cap) {
        int64_t cap = r->cap ? r->cap * 2 : 64;
        int64_t *a = os_realloc(r->rowid, sizeof *a * (size_t)cap);
        if (!a)
            return FOLIO_NOMEM;
        r->rowid = a;
        uint64_t *s = os_realloc(r->start, sizeof *s * (size_t)cap);
        if (!s)
            return FOLIO_NOMEM;
        r->start = s;
        r->cap = cap;
    }
    if (r->used + more_bytes > r->bcap) {
        uint64_t cap = r->bcap ? r->bcap : 4096;
        while (cap < r->used + more_bytes)
            cap *= 2;
        uint8_t *b = os_realloc(r->bytes, (size_t)cap);
        if (!b)
            return FOLIO_NOMEM;
        r->bytes = b;
        r->bcap = cap;
    }
    return 0;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, sizeof v);
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Append the cursor's current row to the set. */
static int rowset_add(rowset *r, folio_cursor *c, int keep_values)
{
    folio_db *db = c->t->txn->db;
    if (!keep_values) {
        if (rowset_room(r, 0) < 0)
            return db_err(db, FOLIO_NOMEM, "out of memory");
        r->rowid[r->n++] = folio_cursor_rowid(c);
        return 0;
    }
    int ncols = c->t->tab->def.ncols;
    uint64_t start = r->used;
    for (int col = 0; col < ncols; col++) {
        folio_value v;
        int rc = db_cursor_column(c, col, &v);
        if (rc < 0)
            return rc;
        uint64_t len = v.type == FOLIO_TEXT || v.type == FOLIO_BLOB ? v.u.s.n : 0;
        if (rowset_room(r, 9 + len) < 0)
            return db_err(db, FOLIO_NOMEM, "out of memory");
        uint8_t *p = r->bytes + r->used;
        p[0] = (uint8_t)v.type;
        if (v.type == FOLIO_INTEGER)
            put_u64(p + 1, (uint64_t)v.u.i);
        else if (v.type == FOLIO_REAL)
            memcpy(p + 1, &v.u.r, sizeof v.u.r);
        else
            put_u64(p + 1, len);
        if (len)
            memcpy(p + 9, v.u.s.p, (size_t)len);
        r->used += 9 + len;
    }
    r->start[r->n] = start;
    r->rowid[r->n++] = 0;
    return 0;
}

/* Row i of a WITHOUT ROWID set as values (pointing into the set). */
static void rowset_values(const rowset *r, int64_t i, folio_value *vals, int ncols)
{
    const uint8_t *p = r->bytes + r->start[i];
    for (int col = 0; col < ncols; col++) {
        folio_value *v = &vals[col];
        memset(v, 0, sizeof *v);
        v->type = (folio_type)p[0];
        uint64_t len = 0;
        if (v->type == FOLIO_INTEGER) {
            v->u.i = (int64_t)get_u64(p + 1);
        } else if (v->type == FOLIO_REAL) {
            memcpy(&v->u.r, p + 1, sizeof v->u.r);
        } else if (v->type == FOLIO_TEXT || v->type == FOLIO_BLOB) {
            len = get_u64(p + 1);
            v->u.s.p = p + 9;
            v->u.s.n = (size_t)len;
        }
        p += 9 + len;
    }
}

/* Collect the rows `f` selects (within the statement, before any change). */
static int collect(folio_table *t, folio_filter *f, rowset *r)
{
    folio_cursor *c;
    int rc = folio_cursor_open(&c, t, NULL);
    if (rc < 0)
        return rc;
    c->filter = f;
    int keep_values = t->tab->def.without_rowid;
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
        if ((rc = rowset_add(r, c, keep_values)) < 0)
            break;
    folio_cursor_close(c);
    return rc < 0 ? rc : 0;
}

/* What a statement does to each row. */
typedef struct where_op {
    const int *cols; /* update: the columns set, and their values */
    const folio_value *vals;
    int n;
    int update;
} where_op;

/* Apply `op` to row i of the set. */
static int apply_row(folio_table *t, const rowset *r, int64_t i, const where_op *op,
                     folio_value *row)
{
    const sch_table *d = &t->tab->def;
    if (!d->without_rowid)
        return op->update ? folio_patch(t, r->rowid[i], op->cols, op->vals, op->n)
                          : folio_delete(t, r->rowid[i]);
    rowset_values(r, i, row, d->ncols);
    folio_value *key = row + d->ncols; /* room for npk values after the row */
    for (int k = 0; k < d->npk; k++)
        key[k] = row[d->pk[k].col];
    if (!op->update)
        return folio_delete_key(t, key, d->npk);
    /* (only the columns set count as changed, for foreign keys) */
    return db_patch_key(t, key, d->npk, op->cols, op->vals, op->n);
}

/* One statement: select the rows, then apply `op` to each. */
static int where_statement(int64_t *count, folio_table *t, const char *expr, const where_op *op)
{
    folio_txn *txn = t->txn;
    folio_db *db = txn->db;
    if (count)
        *count = 0;
    TXN_ON_TIME(txn);
    FOLIO_CHECK_ARG(db, expr != NULL);
    if (txn->stmt_nested)
        return db_err(db, FOLIO_MISUSE, "a statement is already under way");
    folio_filter *f = NULL;
    int rc = filter_new(&f, t, expr);
    if (rc < 0)
        return rc;
    /* Deferred index entries reach their indexes before the statement. */
    if ((rc = write_flush(txn, t->tab)) < 0 || (rc = write_begin(txn, t->tab)) < 0) {
        folio_filter_free(f);
        return rc;
    }
    rowset r;
    memset(&r, 0, sizeof r);
    folio_value *row = NULL;
    const sch_table *d = &t->tab->def;
    if (d->without_rowid &&
        !(row = os_malloc(sizeof *row * (size_t)(d->ncols + d->npk)))) /* row, then key */
        rc = db_err(db, FOLIO_NOMEM, "out of memory");
    if (rc == 0)
        rc = collect(t, f, &r);
    txn->stmt_nested = 1;
    int64_t n = 0;
    for (int64_t i = 0; rc == 0 && i < r.n; i++) {
        rc = apply_row(t, &r, i, op, row);
        if (rc == FOLIO_NOTFOUND && (db_fk_on(txn) || trig_catalog_any(txn->cat))) {
            rc = 0; /* deleted by a foreign key action or a trigger of an earlier row: as
                       SQLite, skipped */
            continue;
        }
        if (rc == FOLIO_NOTFOUND) /* the row was there a moment ago */
            rc = db_err(db, FOLIO_CORRUPT, "a selected row of %s vanished", t->tab->name);
        if (rc == 0 && !txn->row_skipped)
            n++;
    }
    txn->stmt_nested = 0;
    os_free(row);
    rowset_free(&r);
    folio_filter_free(f);
    rc = write_end(txn, rc < 0 ? rc : 0);
    if (rc == 0 && count)
        *count = n;
    return rc;
}

int folio_delete_where(int64_t *count, folio_table *t, const char *expr)
{
    if (!t)
        return FOLIO_MISUSE;
    where_op op = {NULL, NULL, 0, 0};
    return where_statement(count, t, expr, &op);
}

int folio_update_where(int64_t *count, folio_table *t, const char *expr, const int *cols,
                       const folio_value *vals, int n)
{
    if (!t)
        return FOLIO_MISUSE;
    folio_db *db = t->txn->db;
    if (n < 0 || (n > 0 && (!cols || !vals)))
        return db_err(db, FOLIO_MISUSE, "bad argument: cols and vals are required");
    int ncols = t->tab->def.ncols;
    for (int i = 0; i < n; i++)
        if (cols[i] < 0 || cols[i] >= ncols)
            return db_err(db, FOLIO_MISUSE, "column %d out of range (table %s has %d)", cols[i],
                          t->tab->name, ncols);
    where_op op = {cols, vals, n, 1};
    return where_statement(count, t, expr, &op);
}
