/*
 * compat_compare.c - the comparisons of compat.h: snapshots of what libsqlite3
 * reads, walks and seeks with folio cursors checked against them, and the
 * whole-file comparisons (schema, header figures, integrity check, b-tree
 * statistics).
 *
 * The libsqlite3 side of every comparison is read completely first (into a
 * snapshot in memory) and its handle closed before folio opens the file, so
 * the two libraries never hold the file at the same time and locking plays
 * no part in the result. libsqlite3 always reads through a read-only handle,
 * which never checkpoints: a -wal left beside the file stays as it is.
 */
#include "compat.h"
#include "compat_int.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A folio handle, read transaction, table and cursor opened for one walk. */
typedef struct fsess {
    const char *path;
    unsigned mode;
    folio_db *db;
    folio_txn *txn;
    folio_table *t;
    folio_cursor *c;
} fsess;

static void fs_open(fsess *s, const char *path, unsigned mode)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    s->mode = mode;
    s->db = compat_folio_open(path, mode);
    s->txn = compat_folio_read(s->db);
}

__attribute__((format(printf, 3, 4))) static void fs_fail(fsess *s, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *what = cx_vformat(fmt, ap);
    va_end(ap);
    cr_assert_fail("%s (%s): %s = %s: %s", s->path, cx_mode_name(s->mode), what, compat_rc_name(rc),
                   folio_errmsg(s->db));
}

static void fs_table(fsess *s, const char *table)
{
    int rc = folio_table_open(&s->t, s->txn, table);
    if (rc != FOLIO_OK)
        fs_fail(s, rc, "folio_table_open(%s)", table);
}

static void fs_close(fsess *s)
{
    if (s->c)
        folio_cursor_close(s->c);
    s->c = NULL;
    int rc = folio_commit(s->txn);
    if (rc != FOLIO_OK)
        fs_fail(s, rc, "folio_commit(read transaction)");
    rc = folio_close(s->db);
    if (rc != FOLIO_OK)
        cr_assert_fail("%s (%s): folio_close = %s", s->path, cx_mode_name(s->mode),
                       compat_rc_name(rc));
    memset(s, 0, sizeof *s);
}

/* ---- Snapshots of values ----------------------------------------------------- */

/* One value as libsqlite3 returned it; TEXT and BLOB bytes live in the arena. */
typedef struct cval {
    int type; /* folio_type */
    int64_t i;
    double r;
    size_t off, n;
} cval;

/* Rows of `width` values each. */
typedef struct crows {
    int width;
    size_t nrows, cap;
    cval *v;
    char *arena;
    size_t alen, acap;
} crows;

static void rows_init(crows *r, int width)
{
    memset(r, 0, sizeof *r);
    r->width = width;
}

static void rows_free(crows *r)
{
    free(r->v);
    free(r->arena);
    memset(r, 0, sizeof *r);
}

/* Append a row of NULLs; returns its index. */
static size_t rows_push(crows *r)
{
    if (r->nrows == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->v = cx_realloc(r->v, r->cap * (size_t)r->width * sizeof *r->v);
    }
    memset(r->v + r->nrows * (size_t)r->width, 0, (size_t)r->width * sizeof *r->v);
    return r->nrows++;
}

static cval *rows_at(const crows *r, size_t row, int col)
{
    return r->v + row * (size_t)r->width + col;
}

static const void *cv_bytes(const crows *r, const cval *cv)
{
    return r->arena ? r->arena + cv->off : (const void *)"";
}

static void rows_set_bytes(crows *r, size_t row, int col, int type, const void *p, size_t n)
{
    if (r->alen + n + 1 > r->acap) {
        size_t cap = r->acap ? r->acap : 4096;
        while (cap < r->alen + n + 1)
            cap *= 2;
        r->arena = cx_realloc(r->arena, cap);
        r->acap = cap;
    }
    if (n)
        memcpy(r->arena + r->alen, p, n);
    r->arena[r->alen + n] = 0;
    cval *cv = rows_at(r, row, col);
    cv->type = type;
    cv->off = r->alen;
    cv->n = n;
    r->alen += n + 1;
}

/* Store column `scol` of the current statement row as value `col`. */
static void rows_set_col(crows *r, size_t row, int col, sqlite3_stmt *st, int scol)
{
    cval *cv = rows_at(r, row, col);
    switch (sqlite3_column_type(st, scol)) {
    case SQLITE_INTEGER:
        cv->type = FOLIO_INTEGER;
        cv->i = sqlite3_column_int64(st, scol);
        break;
    case SQLITE_FLOAT:
        cv->type = FOLIO_REAL;
        cv->r = sqlite3_column_double(st, scol);
        break;
    case SQLITE_TEXT: {
        const unsigned char *p = sqlite3_column_text(st, scol);
        size_t n = (size_t)sqlite3_column_bytes(st, scol);
        rows_set_bytes(r, row, col, FOLIO_TEXT, p, n);
        break;
    }
    case SQLITE_BLOB: {
        const void *p = sqlite3_column_blob(st, scol);
        size_t n = (size_t)sqlite3_column_bytes(st, scol);
        rows_set_bytes(r, row, col, FOLIO_BLOB, p, n);
        break;
    }
    default:
        cv->type = FOLIO_NULL;
        break;
    }
}

/* Read every row of `st` (which must have r->width columns). */
static void rows_load(crows *r, sqlite3 *db, sqlite3_stmt *st)
{
    cr_assert(sqlite3_column_count(st) == r->width, "query has %d columns, expected %d: %s",
              sqlite3_column_count(st), r->width, sqlite3_sql(st));
    while (cx_step_row(db, st)) {
        size_t row = rows_push(r);
        for (int i = 0; i < r->width; i++)
            rows_set_col(r, row, i, st, i);
    }
}

static void bind_cval(sqlite3_stmt *st, int param, const crows *r, const cval *cv)
{
    switch (cv->type) {
    case FOLIO_INTEGER:
        sqlite3_bind_int64(st, param, cv->i);
        break;
    case FOLIO_REAL:
        sqlite3_bind_double(st, param, cv->r);
        break;
    case FOLIO_TEXT:
        sqlite3_bind_text(st, param, (const char *)cv_bytes(r, cv), (int)cv->n, SQLITE_STATIC);
        break;
    case FOLIO_BLOB:
        sqlite3_bind_blob(st, param, cv_bytes(r, cv), (int)cv->n, SQLITE_STATIC);
        break;
    default:
        sqlite3_bind_null(st, param);
        break;
    }
}

static folio_value cval_to_folio(const crows *r, const cval *cv)
{
    folio_value v;
    memset(&v, 0, sizeof v);
    v.type = (folio_type)cv->type;
    if (cv->type == FOLIO_INTEGER) {
        v.u.i = cv->i;
    } else if (cv->type == FOLIO_REAL) {
        v.u.r = cv->r;
    } else if (cv->type == FOLIO_TEXT || cv->type == FOLIO_BLOB) {
        v.u.s.p = cv_bytes(r, cv);
        v.u.s.n = cv->n;
    }
    return v;
}

static const char *type_name(int t)
{
    switch (t) {
    case FOLIO_NULL:
        return "NULL";
    case FOLIO_INTEGER:
        return "INTEGER";
    case FOLIO_REAL:
        return "REAL";
    case FOLIO_TEXT:
        return "TEXT";
    case FOLIO_BLOB:
        return "BLOB";
    default:
        return "(bad type)";
    }
}

static void describe_bytes(sbuf *b, const unsigned char *p, size_t n)
{
    size_t shown = n < 48 ? n : 48;
    cx_sb_add(b, "'");
    for (size_t i = 0; i < shown; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\'' && p[i] != '\\')
            cx_sb_add(b, "%c", p[i]);
        else
            cx_sb_add(b, "\\x%02x", p[i]);
    }
    cx_sb_add(b, "'%s (%zu bytes)", shown < n ? "..." : "", n);
}

static void describe_value(sbuf *b, int type, int64_t i, double r, const void *p, size_t n)
{
    cx_sb_add(b, "%s ", type_name(type));
    if (type == FOLIO_INTEGER) {
        cx_sb_add(b, "%" PRId64, i);
    } else if (type == FOLIO_REAL) {
        uint64_t bits;
        memcpy(&bits, &r, sizeof bits);
        cx_sb_add(b, "%.17g (bits %016" PRIx64 ")", r, bits);
    } else if (type == FOLIO_TEXT || type == FOLIO_BLOB) {
        if (!p && n)
            cx_sb_add(b, "(NULL pointer, %zu bytes)", n);
        else
            describe_bytes(b, p, n);
    }
}

static void describe_cval(sbuf *b, const crows *r, const cval *cv)
{
    describe_value(b, cv->type, cv->i, cv->r, cv_bytes(r, cv), cv->n);
}

static void describe_folio(sbuf *b, const folio_value *v)
{
    describe_value(b, (int)v->type, v->u.i, v->u.r, v->u.s.p, v->u.s.n);
}

static int cval_equal(const crows *r, const cval *e, const folio_value *f)
{
    if ((int)f->type != e->type)
        return 0;
    switch (e->type) {
    case FOLIO_NULL:
        return 1;
    case FOLIO_INTEGER:
        return f->u.i == e->i;
    case FOLIO_REAL:
        return memcmp(&f->u.r, &e->r, sizeof e->r) == 0;
    case FOLIO_TEXT:
    case FOLIO_BLOB:
        if (f->u.s.n != e->n)
            return 0;
        if (e->n == 0)
            return 1;
        return f->u.s.p && memcmp(f->u.s.p, cv_bytes(r, e), e->n) == 0;
    default:
        return 0;
    }
}

/* ---- Tables and keys as libsqlite3 describes them --------------------------- */

typedef struct tinfo {
    char *name;
    char *q; /* quoted name */
    int without_rowid;
    int ncols;
    char **colnames;
} tinfo;

static void tinfo_load(sqlite3 *db, const char *table, tinfo *ti)
{
    memset(ti, 0, sizeof *ti);
    ti->name = cx_strdup(table);
    ti->q = compat_quote(table);
    sqlite3_stmt *st = compat_prepare(
        db, "SELECT wr FROM pragma_table_list WHERE schema='main' AND name=?1 COLLATE NOCASE");
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    if (!cx_step_row(db, st))
        cr_assert_fail("sqlite has no table %s", table);
    ti->without_rowid = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);

    sbuf sql = {0};
    cx_sb_add(&sql, "SELECT * FROM %s LIMIT 0", ti->q);
    st = compat_prepare(db, cx_sb_str(&sql));
    ti->ncols = sqlite3_column_count(st);
    ti->colnames = cx_malloc((size_t)ti->ncols * sizeof *ti->colnames);
    for (int i = 0; i < ti->ncols; i++)
        ti->colnames[i] = cx_strdup(sqlite3_column_name(st, i));
    sqlite3_finalize(st);
    cx_sb_free(&sql);
}

static void tinfo_free(tinfo *ti)
{
    for (int i = 0; i < ti->ncols; i++)
        free(ti->colnames[i]);
    free(ti->colnames);
    free(ti->name);
    free(ti->q);
    memset(ti, 0, sizeof *ti);
}

/* One column of an index (or of a WITHOUT ROWID primary key). */
typedef struct keycol {
    char *expr; /* SQL expression of the key value without affinity */
    char *coll;
    int desc;
    int key; /* 1: key column, 0: the rowid or primary key appended */
} keycol;

typedef struct keyinfo {
    char *index; /* the index name (WITHOUT ROWID table: its primary key index) */
    int ncol;    /* columns of the index entries, in order */
    int nkey;    /* leading key columns (what folio_cursor_seek takes) */
    keycol *cols;
    char *where; /* partial index predicate, or NULL */
    int has_expr;
    char *order;  /* ORDER BY terms in index order */
    char *rorder; /* the reverse order */
} keyinfo;

static int is_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (unsigned char)c >= 0x80;
}

static void rtrim_space(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
}

/* If `s` ends with the keyword `word` (as a whole word), remove it. */
static int strip_word(char *s, const char *word)
{
    rtrim_space(s);
    size_t n = strlen(s), w = strlen(word);
    if (n < w || strncasecmp(s + n - w, word, w) != 0)
        return 0;
    if (n > w && is_ident_char(s[n - w - 1]))
        return 0;
    s[n - w] = 0;
    rtrim_space(s);
    return 1;
}

/* Remove a trailing "ASC"/"DESC" and "COLLATE name" from an index term. */
static void strip_term(char *s)
{
    if (!strip_word(s, "DESC"))
        strip_word(s, "ASC");
    rtrim_space(s);
    size_t n = strlen(s), i = n;
    if (i && (s[i - 1] == '"' || s[i - 1] == '\'' || s[i - 1] == '`' || s[i - 1] == ']')) {
        char open = s[i - 1] == ']' ? '[' : s[i - 1];
        i--;
        while (i && s[i - 1] != open)
            i--;
        if (i)
            i--;
    } else {
        while (i && is_ident_char(s[i - 1]))
            i--;
    }
    if (i == n)
        return;
    char *head = cx_strdup(s);
    head[i] = 0;
    if (strip_word(head, "COLLATE"))
        memcpy(s, head, strlen(head) + 1);
    free(head);
}

/* Split CREATE INDEX sql into its column terms and WHERE clause. */
static char **index_sql_terms(const char *sql, int *out_n, char **out_where)
{
    *out_n = 0;
    *out_where = NULL;
    const char *p = strchr(sql, '(');
    if (!p)
        cr_assert_fail("cannot find the column list of: %s", sql);
    char **terms = NULL;
    int n = 0, depth = 0;
    const char *start = p + 1, *q = p + 1;
    for (; *q; q++) {
        char c = *q;
        if (c == '\'' || c == '"' || c == '`' || c == '[') {
            char close = c == '[' ? ']' : c;
            for (q++; *q && *q != close; q++)
                ;
            if (!*q)
                break;
            continue;
        }
        if (c == '(') {
            depth++;
        } else if ((c == ')' && depth == 0) || (c == ',' && depth == 0)) {
            terms = cx_realloc(terms, (size_t)(n + 1) * sizeof *terms);
            size_t len = (size_t)(q - start);
            terms[n] = cx_malloc(len + 1);
            memcpy(terms[n], start, len);
            terms[n][len] = 0;
            n++;
            start = q + 1;
            if (c == ')')
                break;
        } else if (c == ')') {
            depth--;
        }
    }
    if (*q == ')') {
        const char *w = q + 1;
        while (*w == ' ' || *w == '\n' || *w == '\t' || *w == '\r')
            w++;
        if (strncasecmp(w, "WHERE", 5) == 0 && !is_ident_char(w[5]))
            *out_where = cx_strdup(w + 5);
    }
    *out_n = n;
    return terms;
}

static void keyinfo_load(sqlite3 *db, const tinfo *ti, const char *index, keyinfo *ki)
{
    memset(ki, 0, sizeof *ki);
    if (index) {
        ki->index = cx_strdup(index);
    } else {
        sqlite3_stmt *st =
            compat_prepare(db, "SELECT name FROM pragma_index_list(?1) WHERE origin='pk'");
        sqlite3_bind_text(st, 1, ti->name, -1, SQLITE_STATIC);
        if (!cx_step_row(db, st))
            cr_assert_fail("WITHOUT ROWID table %s has no primary key index", ti->name);
        ki->index = cx_strdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }

    char *sql = NULL;
    {
        sqlite3_stmt *st =
            compat_prepare(db, "SELECT sql FROM sqlite_schema WHERE type='index' AND name=?1");
        sqlite3_bind_text(st, 1, ki->index, -1, SQLITE_STATIC);
        if (cx_step_row(db, st) && sqlite3_column_type(st, 0) == SQLITE_TEXT)
            sql = cx_strdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    int nterms = 0;
    char **terms = sql ? index_sql_terms(sql, &nterms, &ki->where) : NULL;

    sqlite3_stmt *st = compat_prepare(
        db, "SELECT seqno, cid, name, desc, coll, key FROM pragma_index_xinfo(?1) ORDER BY seqno");
    sqlite3_bind_text(st, 1, ki->index, -1, SQLITE_STATIC);
    sbuf order = {0}, rorder = {0};
    while (cx_step_row(db, st)) {
        int seq = sqlite3_column_int(st, 0), cid = sqlite3_column_int(st, 1);
        ki->cols = cx_realloc(ki->cols, (size_t)(ki->ncol + 1) * sizeof *ki->cols);
        keycol *kc = &ki->cols[ki->ncol++];
        memset(kc, 0, sizeof *kc);
        kc->desc = sqlite3_column_int(st, 3);
        kc->coll = cx_strdup(sqlite3_column_type(st, 4) == SQLITE_TEXT
                                 ? (const char *)sqlite3_column_text(st, 4)
                                 : "BINARY");
        kc->key = sqlite3_column_int(st, 5);
        sbuf e = {0};
        if (cid >= 0) {
            char *qn = compat_quote((const char *)sqlite3_column_text(st, 2));
            cx_sb_add(&e, "(+%s)", qn);
            free(qn);
        } else if (cid == -1) {
            cx_sb_add(&e, "rowid");
        } else {
            ki->has_expr = 1;
            if (!terms || seq >= nterms)
                cr_assert_fail("index %s: expression column %d not in its SQL", ki->index, seq);
            char *t = cx_strdup(terms[seq]);
            strip_term(t);
            cx_sb_add(&e, "(%s)", t);
            free(t);
        }
        kc->expr = e.p;
        if (kc->key)
            ki->nkey++;
        cx_sb_add(&order, "%s%s COLLATE %s %s", ki->ncol > 1 ? ", " : "", kc->expr, kc->coll,
                  kc->desc ? "DESC" : "ASC");
        cx_sb_add(&rorder, "%s%s COLLATE %s %s", ki->ncol > 1 ? ", " : "", kc->expr, kc->coll,
                  kc->desc ? "ASC" : "DESC");
    }
    sqlite3_finalize(st);
    if (ki->ncol == 0)
        cr_assert_fail("sqlite has no index %s", ki->index);
    ki->order = order.p;
    ki->rorder = rorder.p;
    for (int i = 0; i < nterms; i++)
        free(terms[i]);
    free(terms);
    free(sql);
}

static void keyinfo_free(keyinfo *ki)
{
    for (int i = 0; i < ki->ncol; i++) {
        free(ki->cols[i].expr);
        free(ki->cols[i].coll);
    }
    free(ki->cols);
    free(ki->index);
    free(ki->where);
    free(ki->order);
    free(ki->rorder);
    memset(ki, 0, sizeof *ki);
}

/* "SELECT rowid, *[, key exprs] FROM t [WHERE partial]" (WITHOUT ROWID: 0 for
 * the rowid) ordered by `order`. */
static void select_rows_sql(sbuf *b, const tinfo *ti, const keyinfo *ki, int with_keys,
                            const char *where, const char *order)
{
    cx_sb_add(b, "SELECT %s, *", ti->without_rowid ? "0" : "rowid");
    for (int i = 0; with_keys && i < ki->nkey; i++)
        cx_sb_add(b, ", %s", ki->cols[i].expr);
    cx_sb_add(b, " FROM %s", ti->q);
    if (ki && ki->where && where)
        cx_sb_add(b, " WHERE (%s) AND (%s)", ki->where, where);
    else if (ki && ki->where)
        cx_sb_add(b, " WHERE (%s)", ki->where);
    else if (where)
        cx_sb_add(b, " WHERE (%s)", where);
    cx_sb_add(b, " ORDER BY %s", order);
}

/* ---- Walking with folio and comparing ---------------------------------------- */

/* What is being compared, for failure messages. */
typedef struct cmpctx {
    fsess *s;
    const tinfo *ti;
    const char *index; /* NULL: table order */
    const char *step;  /* "forward walk", "seek GE", ... */
} cmpctx;

static void ctx_describe(sbuf *b, const cmpctx *x)
{
    cx_sb_add(b, "%s (folio %s): table %s", x->s->path, cx_mode_name(x->s->mode), x->ti->name);
    if (x->index)
        cx_sb_add(b, " via index %s", x->index);
    cx_sb_add(b, ", %s", x->step);
}

/* The cursor's current row must equal row `row` of `r` (rowid, then columns). */
static void check_row(const cmpctx *x, const crows *r, size_t row, size_t ordinal)
{
    const tinfo *ti = x->ti;
    const cval *rid = rows_at(r, row, 0);
    int64_t want_rowid = ti->without_rowid ? 0 : rid->i;
    int64_t got_rowid = folio_cursor_rowid(x->s->c);
    if (got_rowid != want_rowid) {
        sbuf b = {0};
        ctx_describe(&b, x);
        cr_assert_fail("%s: entry %zu: folio_cursor_rowid = %" PRId64 ", sqlite has rowid %" PRId64,
                       cx_sb_str(&b), ordinal, got_rowid, want_rowid);
    }
    for (int col = 0; col < ti->ncols; col++) {
        folio_value v;
        memset(&v, 0, sizeof v);
        int rc = folio_cursor_column(&v, x->s->c, col);
        const cval *e = rows_at(r, row, col + 1);
        if (rc != FOLIO_OK || !cval_equal(r, e, &v)) {
            sbuf b = {0};
            ctx_describe(&b, x);
            cx_sb_add(&b, ": entry %zu (rowid %" PRId64 ") column %d \"%s\": sqlite has ", ordinal,
                      want_rowid, col, ti->colnames[col]);
            describe_cval(&b, r, e);
            if (rc != FOLIO_OK) {
                cx_sb_add(&b, ", folio_cursor_column = %s: %s", compat_rc_name(rc),
                          folio_errmsg(x->s->db));
            } else {
                cx_sb_add(&b, ", folio has ");
                describe_folio(&b, &v);
            }
            cr_assert_fail("%s", cx_sb_str(&b));
        }
    }
}

static void expect_rc(const cmpctx *x, int rc, int want, const char *call, size_t ordinal)
{
    if (rc == want)
        return;
    sbuf b = {0};
    ctx_describe(&b, x);
    cx_sb_add(&b, ": entry %zu: %s = %s, expected %s", ordinal, call, compat_rc_name(rc),
              compat_rc_name(want));
    if (rc < 0)
        cx_sb_add(&b, ": %s", folio_errmsg(x->s->db));
    cr_assert_fail("%s", cx_sb_str(&b));
}

/* Walk the cursor forwards and backwards against `r` in its order. */
static void walk_compare(fsess *s, const tinfo *ti, const char *index, const crows *r)
{
    cmpctx x = {s, ti, index, "forward walk"};
    int rc = folio_cursor_first(s->c);
    for (size_t i = 0; i < r->nrows; i++) {
        expect_rc(&x, rc, FOLIO_ROW, i ? "folio_cursor_next" : "folio_cursor_first", i);
        check_row(&x, r, i, i);
        rc = folio_cursor_next(s->c);
    }
    expect_rc(&x, rc, FOLIO_DONE, r->nrows ? "folio_cursor_next" : "folio_cursor_first", r->nrows);

    x.step = "backward walk";
    rc = folio_cursor_last(s->c);
    for (size_t k = 0; k < r->nrows; k++) {
        size_t i = r->nrows - 1 - k;
        expect_rc(&x, rc, FOLIO_ROW, k ? "folio_cursor_prev" : "folio_cursor_last", i);
        check_row(&x, r, i, i);
        rc = folio_cursor_prev(s->c);
    }
    expect_rc(&x, rc, FOLIO_DONE, r->nrows ? "folio_cursor_prev" : "folio_cursor_last", 0);
}

static void check_names(fsess *s, const tinfo *ti)
{
    int n = folio_table_ncols(s->t);
    if (n != ti->ncols)
        cr_assert_fail("%s (%s): table %s: folio_table_ncols = %d, sqlite has %d columns", s->path,
                       cx_mode_name(s->mode), ti->name, n, ti->ncols);
    for (int i = 0; i < n; i++) {
        const char *name = folio_table_colname(s->t, i);
        if (!name || strcmp(name, ti->colnames[i]) != 0)
            cr_assert_fail("%s (%s): table %s: column %d is named %s by folio, %s by sqlite",
                           s->path, cx_mode_name(s->mode), ti->name, i, name ? name : "(NULL)",
                           ti->colnames[i]);
    }
    int wr = folio_table_without_rowid(s->t);
    if (!!wr != !!ti->without_rowid)
        cr_assert_fail("%s (%s): table %s: folio_table_without_rowid = %d, sqlite says %d", s->path,
                       cx_mode_name(s->mode), ti->name, wr, ti->without_rowid);
}

/* ---- Seeks -------------------------------------------------------------------- */

static const char *const op_names[] = {"EQ", "GE", "GT", "LE", "LT"};

/* A planned seek and where libsqlite3's comparison says it must land. */
typedef struct seekcase {
    int op;
    int nkey;
    size_t probe; /* row of the probes table */
    int found;    /* 0: FOLIO_NOTFOUND expected */
    size_t at;    /* the expected entry (row of the walk) */
    int has_next; /* whether an entry follows in the seek's direction */
} seekcase;

/* Change a probe value a little, keeping its type. Text always ends in a
 * character that keeps it from looking numeric, so that applying a column's
 * affinity to the key could not change it. */
static void perturb(crows *p, size_t row, int col, uint64_t *rng)
{
    cval *cv = rows_at(p, row, col);
    switch (cv->type) {
    case FOLIO_INTEGER:
        if (compat_below(rng, 2) && cv->i < INT64_MAX)
            cv->i += 1;
        else if (cv->i > INT64_MIN)
            cv->i -= 1;
        break;
    case FOLIO_REAL:
        if (isfinite(cv->r))
            cv->r = compat_below(rng, 2) ? nextafter(cv->r, HUGE_VAL) : cv->r - 0.5;
        break;
    case FOLIO_TEXT:
    case FOLIO_BLOB: {
        size_t n = cv->n;
        unsigned char *tmp = cx_malloc(n + 2);
        memcpy(tmp, cv_bytes(p, cv), n);
        unsigned choice = (unsigned)compat_below(rng, 4);
        if (choice >= 2 && n > 0 && (cv->type == FOLIO_BLOB || tmp[n - 1] < 0x80))
            n--; /* drop the last byte (ASCII only, to keep UTF-8 valid) */
        if (cv->type == FOLIO_TEXT)
            tmp[n++] = (choice & 1) ? '~' : '!';
        else
            tmp[n++] = (choice & 1) ? 0xff : 0x00;
        rows_set_bytes(p, row, col, cv->type, tmp, n);
        free(tmp);
        break;
    }
    default:
        break;
    }
}

/* libsqlite3 as the comparator of key values: one statement per key column
 * compares two bound values (no affinity) with the column's collation, NULL
 * first, as the b-tree orders them. */
typedef struct keycmp {
    sqlite3 *db;
    const keyinfo *ki;
    sqlite3_stmt **st;
} keycmp;

static void keycmp_init(keycmp *kc, sqlite3 *db, const keyinfo *ki)
{
    kc->db = db;
    kc->ki = ki;
    kc->st = cx_malloc((size_t)ki->nkey * sizeof *kc->st);
    for (int i = 0; i < ki->nkey; i++) {
        sbuf sql = {0};
        const char *coll = ki->cols[i].coll;
        cx_sb_add(&sql,
                  "SELECT CASE WHEN ?1 IS NULL THEN (CASE WHEN ?2 IS NULL THEN 0 ELSE -1 END)"
                  " WHEN ?2 IS NULL THEN 1 WHEN ?1 < ?2 COLLATE %s THEN -1"
                  " WHEN ?1 = ?2 COLLATE %s THEN 0 ELSE 1 END",
                  coll, coll);
        kc->st[i] = compat_prepare(db, cx_sb_str(&sql));
        cx_sb_free(&sql);
    }
}

static void keycmp_free(keycmp *kc)
{
    for (int i = 0; i < kc->ki->nkey; i++)
        sqlite3_finalize(kc->st[i]);
    free(kc->st);
}

/* Compare the first nk key values of two rows in index order (DESC
 * reverses). Key value i of a row is column base_a + i / base_b + i. */
static int keycmp_rows(keycmp *kc, int nk, const crows *a, size_t ra, int base_a, const crows *b,
                       size_t rb, int base_b)
{
    for (int i = 0; i < nk; i++) {
        sqlite3_stmt *st = kc->st[i];
        bind_cval(st, 1, a, rows_at(a, ra, base_a + i));
        bind_cval(st, 2, b, rows_at(b, rb, base_b + i));
        if (!cx_step_row(kc->db, st))
            cr_assert_fail("comparison returned no row");
        int c = sqlite3_column_int(st, 0);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (kc->ki->cols[i].desc)
            c = -c;
        if (c)
            return c;
    }
    return 0;
}

/* The walk must be in key order by libsqlite3's own comparison (which also
 * proves the comparison right for the seeks below). */
static void check_key_order(keycmp *kc, const tinfo *ti, const crows *rows)
{
    int base = 1 + ti->ncols;
    for (size_t i = 1; i < rows->nrows; i++)
        if (keycmp_rows(kc, kc->ki->nkey, rows, i - 1, base, rows, i, base) > 0)
            cr_assert_fail("compat harness: sqlite's ORDER BY %s puts entry %zu after a larger "
                           "key in %s",
                           kc->ki->order, i, kc->ki->index);
}

/* First row whose key compares >= probe (strict: > probe). */
static size_t lower_bound(keycmp *kc, int nk, const crows *rows, int base, const crows *probes,
                          size_t prow, int strict)
{
    size_t lo = 0, hi = rows->nrows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = keycmp_rows(kc, nk, rows, mid, base, probes, prow, 0);
        if (c < 0 || (strict && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Plan `nseeks` key seeks: probes from the key columns of `rows` (which
 * carry the nkey key values after the row), possibly perturbed, with the
 * answer found by binary search under libsqlite3's comparison. */
static seekcase *plan_key_seeks(sqlite3 *db, const tinfo *ti, const keyinfo *ki, const crows *rows,
                                int nseeks, uint64_t *rng, crows *probes)
{
    seekcase *sc = cx_malloc((size_t)(nseeks > 0 ? nseeks : 1) * sizeof *sc);
    int base = 1 + ti->ncols;
    rows_init(probes, ki->nkey);
    keycmp kc;
    keycmp_init(&kc, db, ki);
    check_key_order(&kc, ti, rows);
    for (int k = 0; k < nseeks; k++) {
        seekcase *c = &sc[k];
        memset(c, 0, sizeof *c);
        c->op = (int)compat_below(rng, 5);
        c->nkey = 1 + (int)compat_below(rng, (uint64_t)ki->nkey);
        c->probe = rows_push(probes);
        if (rows->nrows) {
            size_t src = (size_t)compat_below(rng, rows->nrows);
            for (int i = 0; i < ki->nkey; i++) {
                const cval *cv = rows_at(rows, src, base + i);
                if (cv->type == FOLIO_TEXT || cv->type == FOLIO_BLOB)
                    rows_set_bytes(probes, c->probe, i, cv->type, cv_bytes(rows, cv), cv->n);
                else
                    *rows_at(probes, c->probe, i) = *cv;
            }
            if (compat_below(rng, 2))
                perturb(probes, c->probe, c->nkey - 1, rng);
        } else {
            rows_at(probes, c->probe, 0)->type = FOLIO_INTEGER;
            c->nkey = 1;
        }
        size_t ge = lower_bound(&kc, c->nkey, rows, base, probes, c->probe, 0);
        size_t gt = lower_bound(&kc, c->nkey, rows, base, probes, c->probe, 1);
        size_t n = rows->nrows;
        switch (c->op) {
        case FOLIO_SEEK_EQ:
            c->found = ge < gt;
            c->at = ge;
            break;
        case FOLIO_SEEK_GE:
            c->found = ge < n;
            c->at = ge;
            break;
        case FOLIO_SEEK_GT:
            c->found = gt < n;
            c->at = gt;
            break;
        case FOLIO_SEEK_LE:
            c->found = gt > 0;
            c->at = gt - 1;
            break;
        default:
            c->found = ge > 0;
            c->at = ge - 1;
            break;
        }
        if (c->op <= FOLIO_SEEK_GT)
            c->has_next = c->found && c->at + 1 < n;
        else
            c->has_next = c->found && c->at > 0;
    }
    keycmp_free(&kc);
    return sc;
}

static void run_key_seeks(fsess *s, const tinfo *ti, const char *index, const seekcase *sc,
                          int nseeks, const crows *probes, const crows *rows)
{
    folio_value key[64];
    for (int k = 0; k < nseeks; k++) {
        const seekcase *c = &sc[k];
        sbuf step = {0};
        cx_sb_add(&step, "seek %s on %d key column%s (", op_names[c->op], c->nkey,
                  c->nkey > 1 ? "s" : "");
        for (int i = 0; i < c->nkey && i < 64; i++) {
            key[i] = cval_to_folio(probes, rows_at(probes, c->probe, i));
            if (i)
                cx_sb_add(&step, ", ");
            describe_cval(&step, probes, rows_at(probes, c->probe, i));
        }
        cx_sb_add(&step, ") [seek %d, seed=%" PRIu64 "]", k, compat_current_seed());
        cmpctx x = {s, ti, index, cx_sb_str(&step)};
        int rc = folio_cursor_seek(s->c, key, c->nkey, c->op);
        if (!c->found) {
            expect_rc(&x, rc, FOLIO_NOTFOUND, "folio_cursor_seek", 0);
            cx_sb_free(&step);
            continue;
        }
        expect_rc(&x, rc, FOLIO_ROW, "folio_cursor_seek", c->at);
        check_row(&x, rows, c->at, c->at);
        int forward = c->op <= FOLIO_SEEK_GT;
        rc = forward ? folio_cursor_next(s->c) : folio_cursor_prev(s->c);
        const char *call =
            forward ? "folio_cursor_next after the seek" : "folio_cursor_prev after the seek";
        size_t next = forward ? c->at + 1 : c->at - 1;
        if (c->has_next) {
            expect_rc(&x, rc, FOLIO_ROW, call, next);
            check_row(&x, rows, next, next);
        } else {
            expect_rc(&x, rc, FOLIO_DONE, call, next);
        }
        cx_sb_free(&step);
    }
}

/* Rowid seeks on a rowid table: `rows` sorted by rowid. */
static void run_rowid_seeks(fsess *s, const tinfo *ti, const crows *rows, int nseeks, uint64_t *rng)
{
    for (int k = 0; k < nseeks; k++) {
        int64_t rowid;
        unsigned kind = (unsigned)compat_below(rng, 4);
        if (rows->nrows && kind < 2) {
            rowid = rows_at(rows, (size_t)compat_below(rng, rows->nrows), 0)->i;
            int up = compat_below(rng, 2) != 0;
            if (kind == 1 && up && rowid < INT64_MAX)
                rowid++;
            else if (kind == 1 && rowid > INT64_MIN)
                rowid--;
        } else {
            static const int64_t special[] = {INT64_MIN, INT64_MIN + 1, -1,       0, 1,
                                              2,         INT64_MAX - 1, INT64_MAX};
            rowid = special[compat_below(rng, sizeof special / sizeof special[0])];
        }
        /* Binary search for the expected row. */
        size_t lo = 0, hi = rows->nrows;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (rows_at(rows, mid, 0)->i < rowid)
                lo = mid + 1;
            else
                hi = mid;
        }
        int found = lo < rows->nrows && rows_at(rows, lo, 0)->i == rowid;
        char step[160];
        snprintf(step, sizeof step,
                 "folio_cursor_seek_rowid(%" PRId64 ") [seek %d, seed=%" PRIu64 "]", rowid, k,
                 compat_current_seed());
        cmpctx x = {s, ti, NULL, step};
        int rc = folio_cursor_seek_rowid(s->c, rowid);
        if (!found) {
            expect_rc(&x, rc, FOLIO_NOTFOUND, "folio_cursor_seek_rowid", 0);
            continue;
        }
        expect_rc(&x, rc, FOLIO_ROW, "folio_cursor_seek_rowid", lo);
        check_row(&x, rows, lo, lo);
        rc = folio_cursor_next(s->c);
        if (lo + 1 < rows->nrows) {
            expect_rc(&x, rc, FOLIO_ROW, "folio_cursor_next after the seek", lo + 1);
            check_row(&x, rows, lo + 1, lo + 1);
        } else {
            expect_rc(&x, rc, FOLIO_DONE, "folio_cursor_next after the seek", lo + 1);
        }
    }
}

/* ---- compare_table / compare_index -------------------------------------------- */

void compare_table(const char *dbpath, const char *table)
{
    compare_table_modes(dbpath, table, COMPAT_BOTH, 100);
}

void compare_table_modes(const char *dbpath, const char *table, unsigned modes, int nseeks)
{
    compare_table_ref(dbpath, dbpath, table, modes, nseeks);
}

void compare_table_ref(const char *dbpath, const char *refpath, const char *table, unsigned modes,
                       int nseeks)
{
    uint64_t rng = cx_hash_str(compat_current_seed() ^ 0x7ab1e, table);
    sqlite3 *db = compat_sqlite_open_ro(refpath);
    tinfo ti;
    tinfo_load(db, table, &ti);
    keyinfo ki;
    memset(&ki, 0, sizeof ki);
    crows rows, probes;
    seekcase *sc = NULL;
    sbuf sql = {0};
    if (ti.without_rowid) {
        keyinfo_load(db, &ti, NULL, &ki);
        select_rows_sql(&sql, &ti, &ki, 1, NULL, ki.order);
        rows_init(&rows, 1 + ti.ncols + ki.nkey);
    } else {
        cx_sb_add(&sql, "SELECT rowid, * FROM %s ORDER BY rowid", ti.q);
        rows_init(&rows, 1 + ti.ncols);
    }
    sqlite3_stmt *st = compat_prepare(db, cx_sb_str(&sql));
    rows_load(&rows, db, st);
    sqlite3_finalize(st);
    if (ti.without_rowid)
        sc = plan_key_seeks(db, &ti, &ki, &rows, nseeks, &rng, &probes);
    compat_sqlite_close(db);

    int seeks_done = 0;
    for (unsigned mode = COMPAT_RO; mode <= COMPAT_RW; mode <<= 1) {
        if (!(modes & mode))
            continue;
        fsess s;
        fs_open(&s, dbpath, mode);
        fs_table(&s, table);
        check_names(&s, &ti);
        int rc = folio_cursor_open(&s.c, s.t, NULL);
        if (rc != FOLIO_OK)
            fs_fail(&s, rc, "folio_cursor_open(%s, NULL)", table);
        walk_compare(&s, &ti, NULL, &rows);
        if (!seeks_done) {
            if (ti.without_rowid)
                run_key_seeks(&s, &ti, NULL, sc, nseeks, &probes, &rows);
            else
                run_rowid_seeks(&s, &ti, &rows, nseeks, &rng);
            seeks_done = 1;
        }
        fs_close(&s);
    }

    if (ti.without_rowid) {
        rows_free(&probes);
        keyinfo_free(&ki);
    }
    free(sc);
    rows_free(&rows);
    cx_sb_free(&sql);
    tinfo_free(&ti);
}

void compare_index(const char *dbpath, const char *table, const char *index)
{
    compare_index_modes(dbpath, table, index, COMPAT_BOTH, 100);
}

void compare_index_modes(const char *dbpath, const char *table, const char *index, unsigned modes,
                         int nseeks)
{
    compare_index_ref(dbpath, dbpath, table, index, modes, nseeks);
}

void compare_index_ref(const char *dbpath, const char *refpath, const char *table,
                       const char *index, unsigned modes, int nseeks)
{
    uint64_t rng = cx_hash_str(cx_hash_str(compat_current_seed() ^ 0x1de8, table), index);
    sqlite3 *db = compat_sqlite_open_ro(refpath);
    tinfo ti;
    tinfo_load(db, table, &ti);
    keyinfo ki;
    keyinfo_load(db, &ti, index, &ki);
    sbuf sql = {0};
    select_rows_sql(&sql, &ti, &ki, 1, NULL, ki.order);
    crows rows, probes;
    rows_init(&rows, 1 + ti.ncols + ki.nkey);
    sqlite3_stmt *st = compat_prepare(db, cx_sb_str(&sql));
    rows_load(&rows, db, st);
    sqlite3_finalize(st);
    seekcase *sc = plan_key_seeks(db, &ti, &ki, &rows, nseeks, &rng, &probes);
    compat_sqlite_close(db);

    int seeks_done = 0;
    for (unsigned mode = COMPAT_RO; mode <= COMPAT_RW; mode <<= 1) {
        if (!(modes & mode))
            continue;
        fsess s;
        fs_open(&s, dbpath, mode);
        fs_table(&s, table);
        int rc = folio_cursor_open(&s.c, s.t, index);
        if (rc == FOLIO_UNSUPPORTED && ki.has_expr) {
            /* Allowed: folio may refuse cursors on expression indexes. The
             * message must still say what is unsupported. */
            const char *msg = folio_errmsg(s.db);
            cr_assert(msg && *msg, "FOLIO_UNSUPPORTED without a message for index %s", index);
            fprintf(stderr, "note: %s: expression index %s refused: %s\n", dbpath, index, msg);
            s.c = NULL;
            fs_close(&s);
            continue;
        }
        if (rc != FOLIO_OK)
            fs_fail(&s, rc, "folio_cursor_open(%s, %s)", table, index);
        walk_compare(&s, &ti, index, &rows);
        if (!seeks_done) {
            run_key_seeks(&s, &ti, index, sc, nseeks, &probes, &rows);
            seeks_done = 1;
        }
        fs_close(&s);
    }

    free(sc);
    rows_free(&rows);
    rows_free(&probes);
    cx_sb_free(&sql);
    keyinfo_free(&ki);
    tinfo_free(&ti);
}

/* ---- Whole-file comparisons ------------------------------------------------------ */

typedef struct schema_row {
    char *type, *name, *tbl_name, *sql;
    int64_t rootpage;
} schema_row;

static char *col_text_dup(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL
               ? NULL
               : cx_strdup((const char *)sqlite3_column_text(st, i));
}

static schema_row *load_schema(const char *dbpath, int *out_n)
{
    sqlite3 *db = compat_sqlite_open_ro(dbpath);
    sqlite3_stmt *st = compat_prepare(
        db, "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema ORDER BY rowid");
    schema_row *rows = NULL;
    int n = 0;
    while (cx_step_row(db, st)) {
        rows = cx_realloc(rows, (size_t)(n + 1) * sizeof *rows);
        schema_row *r = &rows[n++];
        r->type = col_text_dup(st, 0);
        r->name = col_text_dup(st, 1);
        r->tbl_name = col_text_dup(st, 2);
        r->rootpage = sqlite3_column_int64(st, 3);
        r->sql = col_text_dup(st, 4);
    }
    sqlite3_finalize(st);
    compat_sqlite_close(db);
    *out_n = n;
    return rows;
}

static void free_schema(schema_row *rows, int n)
{
    for (int i = 0; i < n; i++) {
        free(rows[i].type);
        free(rows[i].name);
        free(rows[i].tbl_name);
        free(rows[i].sql);
    }
    free(rows);
}

static int str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

void compare_schema(const char *dbpath)
{
    int n;
    schema_row *rows = load_schema(dbpath, &n);
    folio_db *db = compat_folio_open(dbpath, COMPAT_RO);
    folio_txn *txn = compat_folio_read(db);
    int count = folio_schema_count(txn);
    cr_assert(count == n, "%s: folio_schema_count = %d, sqlite_schema has %d rows", dbpath, count,
              n);
    for (int i = 0; i < n; i++) {
        folio_schema_entry e;
        memset(&e, 0, sizeof e);
        int rc = folio_schema_get(&e, txn, i);
        if (rc != FOLIO_OK)
            cr_assert_fail("%s: folio_schema_get(%d) = %s: %s", dbpath, i, compat_rc_name(rc),
                           folio_errmsg(db));
        const schema_row *r = &rows[i];
        if (!str_eq(e.type, r->type) || !str_eq(e.name, r->name) ||
            !str_eq(e.tbl_name, r->tbl_name) || (int64_t)e.rootpage != r->rootpage ||
            !str_eq(e.sql, r->sql))
            cr_assert_fail("%s: schema entry %d differs:\n  sqlite: %s %s on %s root %" PRId64
                           " sql %s\n  folio:  %s %s on %s root %u sql %s",
                           dbpath, i, r->type, r->name, r->tbl_name, r->rootpage,
                           r->sql ? r->sql : "NULL", e.type ? e.type : "(NULL)",
                           e.name ? e.name : "(NULL)", e.tbl_name ? e.tbl_name : "(NULL)",
                           e.rootpage, e.sql ? e.sql : "NULL");
    }
    folio_commit(txn);
    folio_close(db);
    free_schema(rows, n);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void compare_info(const char *dbpath)
{
    sqlite3 *sdb = compat_sqlite_open_ro(dbpath);
    int64_t page_size = compat_query_int(sdb, "PRAGMA page_size");
    int64_t page_count = compat_query_int(sdb, "PRAGMA page_count");
    int64_t freelist = compat_query_int(sdb, "PRAGMA freelist_count");
    int64_t user_version = compat_query_int(sdb, "PRAGMA user_version");
    int64_t app_id = compat_query_int(sdb, "PRAGMA application_id");
    int64_t cookie = compat_query_int(sdb, "PRAGMA schema_version");
    int64_t autovac = compat_query_int(sdb, "PRAGMA auto_vacuum");
    char *enc = compat_query_text(sdb, "PRAGMA encoding");
    compat_sqlite_close(sdb);
    uint32_t want_enc = strcmp(enc, "UTF-8") == 0      ? 1
                        : strcmp(enc, "UTF-16le") == 0 ? 2
                        : strcmp(enc, "UTF-16be") == 0 ? 3
                                                       : 0;
    free(enc);

    size_t flen;
    uint8_t *file = compat_read_file(dbpath, &flen);
    cr_assert(flen >= 100, "%s: file shorter than a header", dbpath);
    uint32_t reserved = file[20];
    uint32_t schema_format = be32(file + 44);
    free(file);
    char *wal = compat_suffix(dbpath, "-wal");
    int64_t wal_size = compat_file_size(wal);
    free(wal);

    folio_db *db = compat_folio_open(dbpath, COMPAT_RO);
    folio_txn *txn = compat_folio_read(db);
    folio_info in;
    memset(&in, 0, sizeof in);
    int rc = folio_info_get(&in, txn);
    if (rc != FOLIO_OK)
        cr_assert_fail("%s: folio_info_get = %s: %s", dbpath, compat_rc_name(rc), folio_errmsg(db));
#define INFO_EQ(field, want)                                                                       \
    cr_assert((int64_t)in.field == (int64_t)(want),                                                \
              "%s: folio_info." #field " = %" PRId64 ", sqlite says %" PRId64, dbpath,             \
              (int64_t)in.field, (int64_t)(want))
    INFO_EQ(page_size, page_size);
    INFO_EQ(page_count, page_count);
    INFO_EQ(freelist_pages, freelist);
    INFO_EQ(user_version, user_version);
    INFO_EQ(application_id, app_id);
    INFO_EQ(schema_cookie, cookie);
    INFO_EQ(text_encoding, want_enc);
    INFO_EQ(reserved_bytes, reserved);
    if (wal_size <= 0) /* else page 1 in the file may be older than the WAL's */
        INFO_EQ(schema_format, schema_format);
    INFO_EQ(file_bytes, compat_file_size(dbpath));
    INFO_EQ(wal_bytes, wal_size < 0 ? 0 : wal_size);
    INFO_EQ(incremental_vacuum, autovac == 2);
#undef INFO_EQ
    cr_assert((in.autovacuum != 0) == (autovac != 0),
              "%s: folio_info.autovacuum = %u, sqlite auto_vacuum = %" PRId64, dbpath,
              in.autovacuum, autovac);
    folio_commit(txn);
    folio_close(db);
}

typedef struct msgs {
    int n;
    sbuf text;
} msgs;

static int collect_msg(void *arg, const char *msg)
{
    msgs *m = arg;
    if (m->n < 10)
        cx_sb_add(&m->text, "\n  %s", msg ? msg : "(NULL message)");
    m->n++;
    return 0;
}

void compare_check(const char *dbpath)
{
    char *ic = compat_integrity(dbpath);
    cr_assert(strcmp(ic, "ok") == 0, "%s: sqlite integrity_check: %s", dbpath, ic);
    free(ic);
    folio_db *db = compat_folio_open(dbpath, COMPAT_RO);
    folio_txn *txn = compat_folio_read(db);
    msgs m = {0};
    int rc = folio_check(txn, collect_msg, &m, 0);
    if (rc != FOLIO_OK || m.n != 0)
        cr_assert_fail("%s: sqlite integrity_check says ok, folio_check = %s with %d "
                       "message(s): %s%s",
                       dbpath, compat_rc_name(rc), m.n, cx_sb_str(&m.text),
                       rc < 0 && m.n == 0 ? folio_errmsg(db) : "");
    cx_sb_free(&m.text);
    folio_commit(txn);
    folio_close(db);
}

/* Expected figures of one b-tree. */
typedef struct tree_fig {
    int64_t root;
    char *name;
    int64_t interior, leaf, overflow, depth, entries;
    int seen;
} tree_fig;

typedef struct stats_ctx {
    const char *path;
    tree_fig *figs;
    int n;
} stats_ctx;

static int stats_cb(void *arg, const folio_btree_stats *s)
{
    stats_ctx *x = arg;
    tree_fig *f = NULL;
    for (int i = 0; i < x->n; i++)
        if (x->figs[i].root == (int64_t)s->rootpage)
            f = &x->figs[i];
    cr_assert(f != NULL, "%s: folio_stats reports a b-tree %s at root page %u that sqlite lacks",
              x->path, s->name ? s->name : "(NULL)", s->rootpage);
    f->seen++;
    const char *name = s->name ? s->name : "(NULL)";
    if (f->root == 1)
        cr_assert(strcmp(name, "sqlite_schema") == 0 || strcmp(name, "sqlite_master") == 0,
                  "%s: folio_stats names page 1 %s", x->path, name);
    else
        cr_assert(strcmp(name, f->name) == 0, "%s: folio_stats names root %" PRId64 " %s, not %s",
                  x->path, f->root, name, f->name);
#define FIG_EQ(field, want)                                                                        \
    cr_assert((int64_t)s->field == (want),                                                         \
              "%s: folio_stats(%s)." #field " = %" PRId64 ", sqlite (dbstat) says %" PRId64,       \
              x->path, f->name, (int64_t)s->field, (int64_t)(want))
    FIG_EQ(interior_pages, f->interior);
    FIG_EQ(leaf_pages, f->leaf);
    FIG_EQ(overflow_pages, f->overflow);
    FIG_EQ(depth, f->depth);
    FIG_EQ(entries, f->entries);
#undef FIG_EQ
    return 0;
}

void compare_stats(const char *dbpath)
{
    int n;
    schema_row *schema = load_schema(dbpath, &n);
    sqlite3 *db = compat_sqlite_open_ro(dbpath);
    stats_ctx x = {dbpath, NULL, 0};
    x.figs = cx_malloc((size_t)(n + 1) * sizeof *x.figs);
    memset(x.figs, 0, (size_t)(n + 1) * sizeof *x.figs);
    x.figs[x.n].root = 1;
    x.figs[x.n].name = cx_strdup("sqlite_schema");
    x.figs[x.n].entries = compat_query_int(db, "SELECT count(*) FROM sqlite_schema");
    x.n++;
    for (int i = 0; i < n; i++) {
        if (schema[i].rootpage <= 0)
            continue;
        tree_fig *f = &x.figs[x.n++];
        f->root = schema[i].rootpage;
        f->name = cx_strdup(schema[i].name);
        char *qt = compat_quote(schema[i].tbl_name);
        char *where = NULL;
        if (strcmp(schema[i].type, "index") == 0 && schema[i].sql) {
            int nt;
            char **terms = index_sql_terms(schema[i].sql, &nt, &where);
            for (int k = 0; k < nt; k++)
                free(terms[k]);
            free(terms);
        }
        f->entries =
            compat_query_int(db, "SELECT count(*) FROM %s%s%s%s", qt, where ? " WHERE (" : "",
                             where ? where : "", where ? ")" : "");
        free(where);
        free(qt);
    }
    sqlite3_stmt *st =
        compat_prepare(db, "SELECT name, pagetype, path, pageno FROM dbstat WHERE aggregate = 0");
    while (cx_step_row(db, st)) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *type = (const char *)sqlite3_column_text(st, 1);
        const char *path = (const char *)sqlite3_column_text(st, 2);
        int64_t pgno = sqlite3_column_int64(st, 3);
        tree_fig *f = NULL;
        for (int i = 0; i < x.n; i++)
            if (strcmp(x.figs[i].name, name) == 0)
                f = &x.figs[i];
        if (!f)
            continue;
        if (strcmp(path, "/") == 0)
            cr_assert(pgno == f->root, "%s: dbstat root of %s is %" PRId64 ", schema says %" PRId64,
                      dbpath, name, pgno, f->root);
        if (strcmp(type, "overflow") == 0) {
            f->overflow++;
            continue;
        }
        if (strcmp(type, "internal") == 0)
            f->interior++;
        else
            f->leaf++;
        int64_t depth = 0;
        for (const char *p = path; *p; p++)
            depth += *p == '/';
        if (depth > f->depth)
            f->depth = depth;
    }
    sqlite3_finalize(st);
    compat_sqlite_close(db);

    folio_db *fdb = compat_folio_open(dbpath, COMPAT_RO);
    folio_txn *txn = compat_folio_read(fdb);
    int rc = folio_stats(txn, stats_cb, &x);
    if (rc != FOLIO_OK)
        cr_assert_fail("%s: folio_stats = %s: %s", dbpath, compat_rc_name(rc), folio_errmsg(fdb));
    for (int i = 0; i < x.n; i++)
        cr_assert(x.figs[i].seen == 1,
                  "%s: folio_stats reported b-tree %s (root %" PRId64 ") %d times", dbpath,
                  x.figs[i].name, x.figs[i].root, x.figs[i].seen);
    folio_commit(txn);
    folio_close(fdb);
    for (int i = 0; i < x.n; i++)
        free(x.figs[i].name);
    free(x.figs);
    free_schema(schema, n);
}

void compare_db(const char *dbpath)
{
    compare_db_modes(dbpath, COMPAT_BOTH, 40);
}

void compare_db_modes(const char *dbpath, unsigned modes, int nseeks)
{
    compare_schema(dbpath);
    compare_info(dbpath);
    compare_check(dbpath);
    compare_stats(dbpath);
    int n;
    schema_row *schema = load_schema(dbpath, &n);
    for (int i = 0; i < n; i++)
        if (strcmp(schema[i].type, "table") == 0 && schema[i].rootpage > 0)
            compare_table_modes(dbpath, schema[i].name, modes, nseeks);
    for (int i = 0; i < n; i++)
        if (strcmp(schema[i].type, "index") == 0 && schema[i].rootpage > 0)
            compare_index_modes(dbpath, schema[i].tbl_name, schema[i].name, modes, nseeks);
    free_schema(schema, n);
    if (modes & COMPAT_RW) {
        /* A read-write open and clean close must leave a file SQLite accepts. */
        char *ic = compat_integrity(dbpath);
        cr_assert(strcmp(ic, "ok") == 0,
                  "%s: after folio opened and closed it read-write, sqlite integrity_check: %s",
                  dbpath, ic);
        free(ic);
    }
}
