/*
 * codec.c - the struct codec: rows moved between a table and a C struct
 * described by a table of fields (folio_codec_bind, folio_insert_struct,
 * folio_update_struct, folio_cursor_struct).
 *
 * Everything that can be checked once is checked at bind: that every column
 * exists and is named once, that every member lies inside the struct, is
 * aligned for its type, has its type's size and overlaps no other, and that
 * the column's affinity (or STRICT type) takes the member's type. What is
 * left for each row is the conversion of each value, which is checked as it
 * is made: a value that does not fit its member is an error, never a
 * truncation.
 *
 * No allocation per row: the codec keeps a row value array for the writes
 * (handed to folio_insert / folio_update / folio_update_key, with the
 * transaction's vals_given mask when some columns are not named) and, for
 * the reads, one folio_value and one converted value per field, and the
 * memory FOLIO_F_CSTR members point into (grown to the widest row read).
 * Reads are two passes: every value is fetched and converted first, then the
 * struct is written, so a failed read leaves the struct as it was.
 */
#include "db/db_int.h"

#include <float.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* What each field type is in C: its size (0: given by the field, CHARS)
 * and alignment, and its name in messages. */
typedef struct ftype_info {
    const char *name;
    size_t size, align;
} ftype_info;

static const ftype_info ftypes[] = {
    [FOLIO_F_I8] = {"I8", sizeof(int8_t), _Alignof(int8_t)},
    [FOLIO_F_I16] = {"I16", sizeof(int16_t), _Alignof(int16_t)},
    [FOLIO_F_I32] = {"I32", sizeof(int32_t), _Alignof(int32_t)},
    [FOLIO_F_I64] = {"I64", sizeof(int64_t), _Alignof(int64_t)},
    [FOLIO_F_U8] = {"U8", sizeof(uint8_t), _Alignof(uint8_t)},
    [FOLIO_F_U16] = {"U16", sizeof(uint16_t), _Alignof(uint16_t)},
    [FOLIO_F_U32] = {"U32", sizeof(uint32_t), _Alignof(uint32_t)},
    [FOLIO_F_U64] = {"U64", sizeof(uint64_t), _Alignof(uint64_t)},
    [FOLIO_F_FLOAT] = {"FLOAT", sizeof(float), _Alignof(float)},
    [FOLIO_F_DOUBLE] = {"DOUBLE", sizeof(double), _Alignof(double)},
    [FOLIO_F_BOOL] = {"BOOL", sizeof(bool), _Alignof(bool)},
    [FOLIO_F_CHARS] = {"CHARS", 0, 1},
    [FOLIO_F_CSTR] = {"CSTR", sizeof(const char *), _Alignof(const char *)},
    [FOLIO_F_TEXT] = {"TEXT", sizeof(const char *), _Alignof(const char *)},
    [FOLIO_F_BLOB] = {"BLOB", sizeof(const void *), _Alignof(const void *)},
    [FOLIO_F_NULLS] = {"NULLS", sizeof(uint64_t), _Alignof(uint64_t)},
};
#define FTYPE_MAX FOLIO_F_NULLS

/* Field types by what they hold, for the checks against columns. */
enum { K_INT, K_BOOL, K_REAL, K_TEXT, K_BLOB };

/* "a" or "an" before a type's name in a message (an I32, an INTEGER). */
static const char *an(const char *name)
{
    return name[0] == 'I' ? "an" : "a";
}

static const char *value_type(const folio_value *v)
{
    static const char *names[] = {"NULL", "INTEGER", "REAL", "TEXT", "BLOB"};
    return v->type >= FOLIO_NULL && v->type <= FOLIO_BLOB ? names[v->type] : "?";
}

static int ftype_kind(int type)
{
    if (type <= FOLIO_F_U64)
        return K_INT;
    if (type == FOLIO_F_BOOL)
        return K_BOOL;
    if (type == FOLIO_F_FLOAT || type == FOLIO_F_DOUBLE)
        return K_REAL;
    if (type == FOLIO_F_BLOB)
        return K_BLOB;
    return K_TEXT; /* CHARS, CSTR, TEXT */
}

/* A field as the codec keeps it. */
typedef struct cfield {
    int type;
    int col; /* table column */
    size_t off, size, len_off;
} cfield;

/* A value converted for its member (read pass one). */
typedef union conv {
    int64_t i;
    uint64_t u;
    double d;
    float f;
    struct {
        const void *p;
        size_t n;
    } s;
} conv;

struct folio_codec {
    folio_table *t;
    struct folio_codec *next, *prev; /* the transaction's codecs */
    int n;
    cfield *f;
    size_t align; /* the struct's: the largest of its members' */
    int nulls;    /* the FOLIO_F_NULLS field, or -1 */
    /* Writes: the row value array (nvals, the columns not generated), which
     * of its values the codec gives, and how many to hand over. */
    int nvals;
    folio_value *vals;
    uint8_t *given;
    int ins_n;        /* values for folio_insert: up to the last one given */
    int ins_all;      /* every one of those is given (no mask needed) */
    int upd_all;      /* every value is given */
    int npk;          /* WITHOUT ROWID: key columns */
    int *pk_vi;       /* per key column: its place in vals, -1 if not named */
    folio_value *key; /* the key of folio_update_key */
    folio_value *rv;  /* reads: per field, the column's value */
    conv *cv;         /* per field, that value converted */
    char *cbuf;       /* CSTR copies */
    size_t ccap;
};

/* ---- binding ---- */

static const char *column_class(const sch_table *d, int col)
{
    static const char *aff[] = {"BLOB affinity", "TEXT affinity", "NUMERIC affinity",
                                "INTEGER affinity", "REAL affinity"};
    static const char *strict[] = {"?",           "STRICT INTEGER", "STRICT REAL",
                                   "STRICT TEXT", "STRICT BLOB",    "STRICT ANY"};
    const sch_column *cd = &d->cols[col];
    if (col == d->ipk)
        return "INTEGER PRIMARY KEY";
    if (d->strict && cd->strict_type > SCH_STRICT_NONE && cd->strict_type <= SCH_STRICT_ANY)
        return strict[cd->strict_type];
    return cd->affinity >= 0 && cd->affinity <= SCH_AFF_REAL ? aff[cd->affinity] : "?";
}

/* Whether column `col` takes a member of field type `type` (see folio.h). */
static int column_takes(const sch_table *d, int col, int type)
{
    int k = ftype_kind(type);
    const sch_column *cd = &d->cols[col];
    if (col == d->ipk)
        return k == K_INT;
    if (d->strict) {
        switch (cd->strict_type) {
        case SCH_STRICT_INTEGER:
            return k == K_INT || k == K_BOOL;
        case SCH_STRICT_REAL:
            return k == K_REAL;
        case SCH_STRICT_TEXT:
            return k == K_TEXT;
        case SCH_STRICT_BLOB:
            return k == K_BLOB;
        default:
            return 1; /* ANY */
        }
    }
    switch (cd->affinity) {
    case SCH_AFF_INTEGER:
    case SCH_AFF_NUMERIC:
        return k == K_INT || k == K_BOOL || k == K_REAL;
    case SCH_AFF_REAL:
        return k == K_REAL;
    case SCH_AFF_TEXT:
        return k == K_TEXT;
    default:
        return 1; /* BLOB: values are kept as given */
    }
}

static const char *field_column(const folio_field *fl)
{
    return fl->column ? fl->column : "(none)";
}

/* The bytes [off, off + size) lie in a struct of `ssize` bytes. */
static int inside(size_t off, size_t size, size_t ssize)
{
    return off <= ssize && size <= ssize - off;
}

/* Member layout of field i: type, size, place and alignment. */
static int check_layout(folio_db *db, const folio_field *fl, int i, size_t ssize, cfield *out)
{
    const char *col = field_column(fl);
    if (fl->type < 1 || fl->type > FTYPE_MAX)
        return db_err(db, FOLIO_MISUSE, "field %d (column %s): unknown type %d", i, col, fl->type);
    const ftype_info *ti = &ftypes[fl->type];
    if (fl->type == FOLIO_F_NULLS && fl->column)
        return db_err(db, FOLIO_MISUSE, "field %d: a NULLS field names no column (it names %s)", i,
                      fl->column);
    if (fl->type != FOLIO_F_NULLS && !fl->column)
        return db_err(db, FOLIO_MISUSE, "field %d (%s): no column name", i, ti->name);
    size_t size = fl->size ? fl->size : ti->size;
    if (fl->type == FOLIO_F_CHARS && size == 0)
        return db_err(db, FOLIO_MISUSE, "field %d (column %s): a CHARS field needs its size N", i,
                      col);
    if (fl->type != FOLIO_F_CHARS && size != ti->size)
        return db_err(db, FOLIO_MISUSE,
                      "field %d (column %s): size %zu is not the size of %s %s member (%zu)", i,
                      col, size, an(ti->name), ti->name, ti->size);
    if (!inside(fl->offset, size, ssize))
        return db_err(db, FOLIO_MISUSE,
                      "field %d (column %s): bytes %zu..%zu lie outside the struct (%zu bytes)", i,
                      col, fl->offset, fl->offset + size - 1, ssize);
    if (fl->offset % ti->align)
        return db_err(db, FOLIO_MISUSE,
                      "field %d (column %s): offset %zu is not aligned for %s (alignment %zu)", i,
                      col, fl->offset, ti->name, ti->align);
    if (fl->type == FOLIO_F_TEXT || fl->type == FOLIO_F_BLOB) {
        if (!inside(fl->len_offset, sizeof(size_t), ssize))
            return db_err(db, FOLIO_MISUSE,
                          "field %d (column %s): its length at %zu lies outside the struct "
                          "(%zu bytes)",
                          i, col, fl->len_offset, ssize);
        if (fl->len_offset % _Alignof(size_t))
            return db_err(db, FOLIO_MISUSE,
                          "field %d (column %s): its length's offset %zu is not aligned for "
                          "size_t (alignment %zu)",
                          i, col, fl->len_offset, (size_t) _Alignof(size_t));
    }
    out->type = fl->type;
    out->col = -1;
    out->off = fl->offset;
    out->size = size;
    out->len_off = fl->len_offset;
    return 0;
}

static int has_len(const cfield *f)
{
    return f->type == FOLIO_F_TEXT || f->type == FOLIO_F_BLOB;
}

static int ranges_meet(size_t a, size_t an, size_t b, size_t bn)
{
    return a < b + bn && b < a + an;
}

/* No member (or length) shares a byte with another. Quadratic, at bind. */
static int check_overlaps(folio_db *db, const folio_field *fields, const cfield *f, int n)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j <= i; j++) {
            /* Range 0 is the member, range 1 its length. */
            for (int ri = 0; ri < 1 + has_len(&f[i]); ri++) {
                for (int rj = 0; rj < 1 + has_len(&f[j]); rj++) {
                    if (i == j && ri <= rj)
                        continue;
                    size_t a = ri ? f[i].len_off : f[i].off, an = ri ? sizeof(size_t) : f[i].size;
                    size_t b = rj ? f[j].len_off : f[j].off, bn = rj ? sizeof(size_t) : f[j].size;
                    if (ranges_meet(a, an, b, bn))
                        return db_err(db, FOLIO_MISUSE,
                                      "field %d (column %s): %s overlaps %s of field %d "
                                      "(column %s)",
                                      i, field_column(&fields[i]), ri ? "its length" : "its member",
                                      rj ? "the length" : "the member", j,
                                      field_column(&fields[j]));
                }
            }
        }
    }
    return 0;
}

static void codec_destroy(folio_codec *c)
{
    if (!c)
        return;
    os_free(c->f);
    os_free(c->vals);
    os_free(c->given);
    os_free(c->pk_vi);
    os_free(c->key);
    os_free(c->rv);
    os_free(c->cv);
    os_free(c->cbuf);
    os_free(c);
}

static int codec_alloc(folio_codec *c, int n, int nvals, int npk)
{
    c->f = os_calloc((size_t)n, sizeof *c->f);
    c->rv = os_calloc((size_t)n, sizeof *c->rv);
    c->cv = os_calloc((size_t)n, sizeof *c->cv);
    c->vals = os_calloc((size_t)nvals + 1, sizeof *c->vals);
    c->given = os_calloc((size_t)nvals + 1, 1);
    c->pk_vi = os_calloc((size_t)npk + 1, sizeof *c->pk_vi);
    c->key = os_calloc((size_t)npk + 1, sizeof *c->key);
    return c->f && c->rv && c->cv && c->vals && c->given && c->pk_vi && c->key ? 0 : FOLIO_NOMEM;
}

/* Columns of field i: the name resolved, named once, of a type it takes. */
static int bind_column(folio_codec *c, const db_table *tab, const folio_field *fields, int i,
                       int *field_of_col)
{
    folio_db *db = c->t->txn->db;
    const sch_table *d = &tab->def;
    cfield *f = &c->f[i];
    for (int col = 0; col < d->ncols && f->col < 0; col++)
        if (sch_ident_eq(d->cols[col].name, fields[i].column))
            f->col = col;
    if (f->col < 0) /* as SQLite words it */
        return db_err(db, FOLIO_NOTFOUND_ERR, "no such column: %s (field %d; table %s)",
                      fields[i].column, i, tab->name);
    if (field_of_col[f->col] >= 0)
        return db_err(db, FOLIO_MISUSE, "field %d: column %s is named twice (fields %d and %d)", i,
                      d->cols[f->col].name, field_of_col[f->col], i);
    field_of_col[f->col] = i;
    if (!column_takes(d, f->col, f->type))
        return db_err(db, FOLIO_MISMATCH, "field %d: column %s (%s) does not take %s %s field", i,
                      d->cols[f->col].name, column_class(d, f->col), an(ftypes[f->type].name),
                      ftypes[f->type].name);
    return 0;
}

/* What the writes hand over: which values are given, how many. */
static void plan_writes(folio_codec *c, const db_table *tab)
{
    const sch_table *d = &tab->def;
    for (int i = 0; i < c->nvals; i++)
        c->vals[i].type = FOLIO_NULL;
    int last = -1;
    for (int i = 0; i < c->n; i++) {
        if (c->f[i].type == FOLIO_F_NULLS)
            continue;
        int vi = tab->val_index[c->f[i].col];
        if (vi < 0)
            continue; /* generated: computed on write */
        c->given[vi] = 1;
        if (vi > last)
            last = vi;
    }
    c->ins_n = last + 1;
    c->ins_all = 1;
    for (int vi = 0; vi < c->ins_n; vi++)
        c->ins_all &= c->given[vi];
    c->upd_all = c->ins_all && c->ins_n == c->nvals;
    c->npk = d->without_rowid ? d->npk : 0;
    for (int k = 0; k < c->npk; k++) {
        int vi = tab->val_index[d->pk[k].col];
        c->pk_vi[k] = vi >= 0 && c->given[vi] ? vi : -1;
    }
}

int folio_codec_bind(folio_codec **out, folio_table *t, const folio_field *fields, int n,
                     size_t struct_size)
{
    if (!t)
        return FOLIO_MISUSE;
    folio_txn *txn = t->txn;
    folio_db *db = txn->db;
    FOLIO_CHECK_ARG(db, out != NULL);
    *out = NULL;
    TXN_ON_TIME(txn);
    FOLIO_CHECK_ARG(db, fields != NULL);
    FOLIO_CHECK_ARG(db, n > 0);
    FOLIO_CHECK_ARG(db, struct_size > 0);
    if (t->dead)
        return db_err(db, FOLIO_MISUSE, "table %s was dropped", t->tab->name);
    const db_table *tab = t->tab;
    folio_codec *c = os_calloc(1, sizeof *c);
    if (!c)
        return db_err(db, FOLIO_NOMEM, "out of memory");
    c->t = t;
    c->n = n;
    c->nulls = -1;
    c->align = 1;
    c->nvals = tab->nvals;
    int *field_of_col = os_malloc(sizeof *field_of_col * (size_t)tab->def.ncols);
    int rc = codec_alloc(c, n, c->nvals, tab->def.npk);
    if (rc == 0 && !field_of_col)
        rc = FOLIO_NOMEM;
    if (rc < 0) {
        rc = db_err(db, rc, "out of memory");
        goto done;
    }
    for (int col = 0; col < tab->def.ncols; col++)
        field_of_col[col] = -1;
    int ncolumns = 0;
    for (int i = 0; i < n; i++) {
        if ((rc = check_layout(db, &fields[i], i, struct_size, &c->f[i])) < 0)
            goto done;
        if (ftypes[c->f[i].type].align > c->align)
            c->align = ftypes[c->f[i].type].align;
        if (has_len(&c->f[i]) && _Alignof(size_t) > c->align)
            c->align = _Alignof(size_t);
        if (c->f[i].type == FOLIO_F_NULLS) {
            if (c->nulls >= 0) {
                rc = db_err(db, FOLIO_MISUSE, "field %d: a second NULLS field (the first is %d)", i,
                            c->nulls);
                goto done;
            }
            c->nulls = i;
            continue;
        }
        ncolumns++;
        if ((rc = bind_column(c, tab, fields, i, field_of_col)) < 0)
            goto done;
    }
    if (ncolumns == 0) {
        rc = db_err(db, FOLIO_MISUSE, "the fields name no column");
        goto done;
    }
    if ((rc = check_overlaps(db, fields, c->f, n)) < 0)
        goto done;
    for (int i = 0; i < n && !c->cbuf; i++) {
        /* Room for the usual CSTR values now, rather than at the first row. */
        if (c->f[i].type == FOLIO_F_CSTR && !(c->cbuf = os_malloc(c->ccap = 256))) {
            rc = db_err(db, FOLIO_NOMEM, "out of memory");
            goto done;
        }
    }
    plan_writes(c, tab);
    c->next = txn->codecs;
    if (txn->codecs)
        txn->codecs->prev = c;
    txn->codecs = c;
    *out = c;
    c = NULL;
    rc = FOLIO_OK;
done:
    os_free(field_of_col);
    codec_destroy(c);
    return rc;
}

void folio_codec_free(folio_codec *c)
{
    if (!c)
        return;
    folio_txn *txn = c->t->txn;
    if (c->prev)
        c->prev->next = c->next;
    else
        txn->codecs = c->next;
    if (c->next)
        c->next->prev = c->prev;
    codec_destroy(c);
}

void db_codecs_free(folio_txn *txn)
{
    while (txn->codecs) {
        folio_codec *c = txn->codecs;
        txn->codecs = c->next;
        codec_destroy(c);
    }
}

/* ---- writing ---- */

static int64_t load_signed(const unsigned char *p, int type)
{
    switch (type) {
    case FOLIO_F_I8: {
        int8_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case FOLIO_F_I16: {
        int16_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case FOLIO_F_I32: {
        int32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case FOLIO_F_U8: {
        uint8_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case FOLIO_F_U16: {
        uint16_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case FOLIO_F_U32: {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    default: {
        int64_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    }
}

static int check_struct(folio_codec *c, const void *s)
{
    folio_db *db = c->t->txn->db;
    FOLIO_CHECK_ARG(db, s != NULL);
    if (c->t->dead)
        return db_err(db, FOLIO_MISUSE, "table %s was dropped", c->t->tab->name);
    if ((uintptr_t)s % c->align)
        return db_err(db, FOLIO_MISUSE, "the struct at %p is not aligned for its members (%zu)", s,
                      c->align);
    return 0;
}

/* Field i of struct `b` as a value (its NULL bit is clear). */
static int member_value(folio_codec *c, int i, const unsigned char *b, folio_value *v)
{
    const cfield *f = &c->f[i];
    const unsigned char *p = b + f->off;
    const char *col = c->t->tab->def.cols[f->col].name;
    folio_db *db = c->t->txn->db;
    memset(v, 0, sizeof *v);
    switch (f->type) {
    case FOLIO_F_U64: {
        uint64_t u;
        memcpy(&u, p, sizeof u);
        if (u > (uint64_t)INT64_MAX)
            return db_err(db, FOLIO_MISMATCH,
                          "field %d (column %s): %llu does not fit an INTEGER (at most %lld)", i,
                          col, (unsigned long long)u, (long long)INT64_MAX);
        v->type = FOLIO_INTEGER;
        v->u.i = (int64_t)u;
        return 0;
    }
    case FOLIO_F_BOOL: {
        bool x;
        unsigned char raw[sizeof x];
        memcpy(raw, p, sizeof raw); /* any non-zero byte is true (no trap value read) */
        v->type = FOLIO_INTEGER;
        for (size_t k = 0; k < sizeof raw; k++)
            v->u.i |= raw[k] != 0;
        return 0;
    }
    case FOLIO_F_FLOAT: {
        float x;
        memcpy(&x, p, sizeof x);
        v->type = FOLIO_REAL; /* a NaN becomes NULL, as SQLite binds it */
        v->u.r = x;
        return 0;
    }
    case FOLIO_F_DOUBLE:
        v->type = FOLIO_REAL;
        memcpy(&v->u.r, p, sizeof v->u.r);
        return 0;
    case FOLIO_F_CHARS: {
        const unsigned char *z = memchr(p, 0, f->size);
        if (!z)
            return db_err(db, FOLIO_MISUSE,
                          "field %d (column %s): its char[%zu] holds no NUL terminator", i, col,
                          f->size);
        v->type = FOLIO_TEXT;
        v->u.s.p = p;
        v->u.s.n = (size_t)(z - p);
        return 0;
    }
    case FOLIO_F_CSTR: {
        const char *z;
        memcpy(&z, p, sizeof z);
        if (z) {
            v->type = FOLIO_TEXT;
            v->u.s.p = z;
            v->u.s.n = strlen(z);
        }
        return 0;
    }
    case FOLIO_F_TEXT:
    case FOLIO_F_BLOB: {
        const void *z;
        size_t len;
        memcpy(&z, p, sizeof z);
        memcpy(&len, b + f->len_off, sizeof len);
        if (!z && len)
            return db_err(db, FOLIO_MISUSE,
                          "field %d (column %s): a length of %zu with a NULL pointer", i, col, len);
        if (z) {
            v->type = f->type == FOLIO_F_TEXT ? FOLIO_TEXT : FOLIO_BLOB;
            v->u.s.p = z;
            v->u.s.n = len;
        }
        return 0;
    }
    default:
        v->type = FOLIO_INTEGER;
        v->u.i = load_signed(p, f->type);
        return 0;
    }
}

/* The struct's values into the codec's row value array. */
static int struct_values(folio_codec *c, const void *s)
{
    const db_table *tab = c->t->tab;
    const unsigned char *b = s;
    uint64_t nulls = 0;
    if (c->nulls >= 0)
        memcpy(&nulls, b + c->f[c->nulls].off, sizeof nulls);
    for (int i = 0; i < c->n; i++) {
        if (c->f[i].type == FOLIO_F_NULLS)
            continue;
        int vi = tab->val_index[c->f[i].col];
        if (vi < 0)
            continue; /* generated */
        folio_value *v = &c->vals[vi];
        if (i < 64 && (nulls >> i) & 1) {
            memset(v, 0, sizeof *v);
            v->type = FOLIO_NULL;
            continue;
        }
        int rc = member_value(c, i, b, v);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int folio_insert_struct(int64_t *out_rowid, folio_codec *c, const void *s)
{
    if (!c)
        return FOLIO_MISUSE;
    folio_txn *txn = c->t->txn;
    int rc;
    if ((rc = check_struct(c, s)) < 0 || (rc = struct_values(c, s)) < 0)
        return rc;
    /* Values past the last one given take their DEFAULT by being left out;
     * those before it through the mask. */
    txn->vals_given = c->ins_all ? NULL : c->given;
    txn->vals_keep_old = 0;
    rc = folio_insert(out_rowid, c->t, c->vals, c->ins_n);
    txn->vals_given = NULL;
    return rc;
}

int folio_update_struct(folio_codec *c, int64_t rowid, const void *s)
{
    if (!c)
        return FOLIO_MISUSE;
    folio_txn *txn = c->t->txn;
    const db_table *tab = c->t->tab;
    int rc;
    if (tab->def.without_rowid) {
        if (rowid != 0)
            return db_err(txn->db, FOLIO_MISUSE,
                          "table %s is WITHOUT ROWID: its row is named by the struct's key "
                          "(pass rowid 0)",
                          tab->name);
        for (int k = 0; k < c->npk; k++)
            if (c->pk_vi[k] < 0)
                return db_err(txn->db, FOLIO_MISUSE,
                              "table %s is WITHOUT ROWID and the codec has no field for its key "
                              "column %s",
                              tab->name, tab->def.cols[tab->def.pk[k].col].name);
    }
    if ((rc = check_struct(c, s)) < 0 || (rc = struct_values(c, s)) < 0)
        return rc;
    txn->vals_given = c->upd_all ? NULL : c->given;
    txn->vals_keep_old = 1;
    if (tab->def.without_rowid) {
        for (int k = 0; k < c->npk; k++)
            c->key[k] = c->vals[c->pk_vi[k]];
        rc = folio_update_key(c->t, c->key, c->npk, c->vals, c->nvals);
    } else {
        rc = folio_update(c->t, rowid, c->vals, c->nvals);
    }
    txn->vals_given = NULL;
    txn->vals_keep_old = 0;
    return rc;
}

/* ---- reading ---- */

/* FOLIO_MISMATCH: field i's member cannot hold a value of its type. */
static int not_readable(folio_codec *c, int i)
{
    const cfield *f = &c->f[i];
    const char *vt = value_type(&c->rv[i]);
    return db_err(c->t->txn->db, FOLIO_MISMATCH,
                  "column %s: %s %s value cannot be read into %s field %d",
                  c->t->tab->def.cols[f->col].name, an(vt), vt, ftypes[f->type].name, i);
}

/* A value as an integer for an integer member (REAL only when integral). */
static int value_integer(folio_codec *c, int i, const folio_value *v, int64_t *out)
{
    const cfield *f = &c->f[i];
    const char *col = c->t->tab->def.cols[f->col].name;
    folio_db *db = c->t->txn->db;
    if (v->type == FOLIO_INTEGER) {
        *out = v->u.i;
        return 0;
    }
    if (v->type == FOLIO_REAL) {
        double r = v->u.r;
        if (r >= -9223372036854775808.0 && r < 9223372036854775808.0 && (double)(int64_t)r == r) {
            *out = (int64_t)r;
            return 0;
        }
        return db_err(db, FOLIO_MISMATCH,
                      "column %s: the REAL value %.17g is not an integer %s member can hold "
                      "(field %d)",
                      col, r, ftypes[f->type].name, i);
    }
    return not_readable(c, i);
}

static int value_fits(folio_codec *c, int i, int64_t x)
{
    static const struct {
        int64_t lo, hi;
    } range[] = {
        [FOLIO_F_I8] = {INT8_MIN, INT8_MAX},     [FOLIO_F_I16] = {INT16_MIN, INT16_MAX},
        [FOLIO_F_I32] = {INT32_MIN, INT32_MAX},  [FOLIO_F_I64] = {INT64_MIN, INT64_MAX},
        [FOLIO_F_U8] = {0, UINT8_MAX},           [FOLIO_F_U16] = {0, UINT16_MAX},
        [FOLIO_F_U32] = {0, UINT32_MAX},         [FOLIO_F_U64] = {0, INT64_MAX},
        [FOLIO_F_BOOL] = {INT64_MIN, INT64_MAX},
    };
    int type = c->f[i].type;
    if (x >= range[type].lo && x <= range[type].hi)
        return 0;
    return db_err(c->t->txn->db, FOLIO_MISMATCH,
                  "column %s: the value %lld does not fit %s field %d",
                  c->t->tab->def.cols[c->f[i].col].name, (long long)x, ftypes[type].name, i);
}

/* Pass one for field i: its value converted into c->cv[i]; *cstr_bytes
 * grows by what a CSTR copy needs. */
static int convert(folio_codec *c, int i, size_t *cstr_bytes)
{
    const cfield *f = &c->f[i];
    const folio_value *v = &c->rv[i];
    conv *cv = &c->cv[i];
    const char *col = c->t->tab->def.cols[f->col].name;
    folio_db *db = c->t->txn->db;
    int k = ftype_kind(f->type), rc;
    memset(cv, 0, sizeof *cv);
    if (v->type == FOLIO_NULL)
        return 0;
    switch (k) {
    case K_INT:
    case K_BOOL:
        if (f->type == FOLIO_F_U64 && v->type == FOLIO_REAL && v->u.r >= 9223372036854775808.0 &&
            v->u.r < 18446744073709551616.0) {
            cv->u = (uint64_t)v->u.r; /* integral: a double this large has no fraction */
            return 0;
        }
        if ((rc = value_integer(c, i, v, &cv->i)) < 0 || (rc = value_fits(c, i, cv->i)) < 0)
            return rc;
        if (k == K_BOOL)
            cv->i = cv->i != 0;
        return 0;
    case K_REAL:
        if (v->type == FOLIO_INTEGER)
            cv->d = (double)v->u.i;
        else if (v->type == FOLIO_REAL)
            cv->d = v->u.r;
        else
            return not_readable(c, i);
        if (f->type == FOLIO_F_FLOAT) {
            if (cv->d > FLT_MAX || cv->d < -FLT_MAX) {
                if (cv->d - cv->d == 0) /* finite */
                    return db_err(db, FOLIO_MISMATCH,
                                  "column %s: the value %.17g is beyond a FLOAT (field %d)", col,
                                  cv->d, i);
            }
            cv->f = (float)cv->d;
        }
        return 0;
    default: /* text and blob members */
        if (v->type != FOLIO_TEXT && v->type != FOLIO_BLOB)
            return not_readable(c, i);
        cv->s.p = v->u.s.p ? v->u.s.p : (const void *)"";
        cv->s.n = v->u.s.n;
        if (f->type == FOLIO_F_CHARS && cv->s.n >= f->size)
            return db_err(db, FOLIO_TOOBIG,
                          "column %s: a value of %zu bytes does not fit CHARS field %d (char[%zu]: "
                          "at most %zu bytes and the NUL)",
                          col, cv->s.n, i, f->size, f->size - 1);
        if (f->type == FOLIO_F_CSTR)
            *cstr_bytes += cv->s.n + 1;
        return 0;
    }
}

/* CSTR values copied into the codec's memory, NUL-terminated. */
static int copy_cstrs(folio_codec *c, size_t need)
{
    if (need > c->ccap) {
        size_t cap = c->ccap ? c->ccap : 256;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        char *b = os_realloc(c->cbuf, cap);
        if (!b)
            return db_err(c->t->txn->db, FOLIO_NOMEM, "out of memory");
        c->cbuf = b;
        c->ccap = cap;
    }
    size_t used = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->f[i].type != FOLIO_F_CSTR || c->rv[i].type == FOLIO_NULL)
            continue;
        conv *cv = &c->cv[i];
        char *dst = c->cbuf + used;
        if (cv->s.n)
            memcpy(dst, cv->s.p, cv->s.n);
        dst[cv->s.n] = 0;
        cv->s.p = dst;
        used += cv->s.n + 1;
    }
    return 0;
}

/* Pass two: field i's converted value into its member. */
static void store(const folio_codec *c, int i, unsigned char *b)
{
    const cfield *f = &c->f[i];
    const conv *cv = &c->cv[i];
    unsigned char *p = b + f->off;
    int null = c->rv[i].type == FOLIO_NULL;
    switch (f->type) {
    case FOLIO_F_I8: {
        int8_t x = (int8_t)cv->i;
        memcpy(p, &x, sizeof x);
        break;
    }
    case FOLIO_F_I16: {
        int16_t x = (int16_t)cv->i;
        memcpy(p, &x, sizeof x);
        break;
    }
    case FOLIO_F_I32: {
        int32_t x = (int32_t)cv->i;
        memcpy(p, &x, sizeof x);
        break;
    }
    case FOLIO_F_I64:
    case FOLIO_F_U64: /* (cv->u and cv->i share their bytes) */
        memcpy(p, &cv->i, sizeof cv->i);
        break;
    case FOLIO_F_U8: {
        uint8_t x = (uint8_t)cv->i;
        memcpy(p, &x, sizeof x);
        break;
    }
    case FOLIO_F_U16: {
        uint16_t x = (uint16_t)cv->i;
        memcpy(p, &x, sizeof x);
        break;
    }
    case FOLIO_F_U32: {
        uint32_t x = (uint32_t)cv->i;
        memcpy(p, &x, sizeof x);
        break;
    }
    case FOLIO_F_BOOL: {
        bool x = cv->i != 0;
        memcpy(p, &x, sizeof x);
        break;
    }
    case FOLIO_F_FLOAT:
        memcpy(p, &cv->f, sizeof cv->f);
        break;
    case FOLIO_F_DOUBLE:
        memcpy(p, &cv->d, sizeof cv->d);
        break;
    case FOLIO_F_CHARS:
        if (cv->s.n)
            memcpy(p, cv->s.p, cv->s.n);
        memset(p + cv->s.n, 0, f->size - cv->s.n);
        break;
    default: { /* CSTR, TEXT, BLOB: a pointer (NULL for NULL), and a length */
        const void *z = null ? NULL : cv->s.p;
        memcpy(p, &z, sizeof z);
        if (has_len(f))
            memcpy(b + f->len_off, &cv->s.n, sizeof cv->s.n);
        break;
    }
    }
}

int folio_cursor_struct(folio_cursor *cur, folio_codec *c, void *s)
{
    if (!cur || !c)
        return FOLIO_MISUSE;
    folio_db *db = c->t->txn->db;
    if (cur->t->txn != c->t->txn || cur->t->tab != c->t->tab)
        return db_err(db, FOLIO_MISUSE,
                      "the cursor is not on table %s in the codec's transaction (it is on %s)",
                      c->t->tab->name, cur->t->tab->name);
    int rc = check_struct(c, s);
    if (rc < 0)
        return rc;
    /* The first column through the public call (its checks, and the
     * cursor's re-seek after writes); the others straight from the row. */
    int first = 1;
    size_t cstr_bytes = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->f[i].type == FOLIO_F_NULLS)
            continue;
        rc = first ? folio_cursor_column(&c->rv[i], cur, c->f[i].col)
                   : db_cursor_column(cur, c->f[i].col, &c->rv[i]);
        first = 0;
        if (rc < 0 || (rc = convert(c, i, &cstr_bytes)) < 0)
            return rc;
    }
    if (cstr_bytes && (rc = copy_cstrs(c, cstr_bytes)) < 0)
        return rc;
    unsigned char *b = s;
    uint64_t nulls = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->f[i].type == FOLIO_F_NULLS)
            continue;
        store(c, i, b);
        if (i < 64 && c->rv[i].type == FOLIO_NULL)
            nulls |= (uint64_t)1 << i;
    }
    if (c->nulls >= 0)
        memcpy(b + c->f[c->nulls].off, &nulls, sizeof nulls);
    return FOLIO_OK;
}
