/*
 * catalog.c - sqlite_schema read and parsed into tables and their indexes.
 *
 * sqlite_schema is the table b-tree rooted at page 1 with the columns
 * (type, name, tbl_name, rootpage, sql). A catalog is immutable once built
 * and shared by every transaction that sees the same schema cookie.
 */
#include "db/db_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char schema_sql[] =
    "CREATE TABLE sqlite_schema(type text,name text,tbl_name text,rootpage int,sql text)";

static char *dupn(const void *p, size_t n)
{
    char *s = os_malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

static char *dups(const char *s)
{
    return dupn(s, strlen(s));
}

static void index_free(db_index *ix)
{
    if (!ix)
        return;
    os_free(ix->name);
    os_free(ix->sql);
    os_free(ix->cols);
    os_free(ix->desc);
    os_free(ix->coll);
    os_free(ix->fdesc);
    os_free(ix->fcoll);
    os_free(ix->suffix_cols);
    os_free(ix->unsupported);
    os_free(ix);
}

static void table_free(db_table *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->nidx; i++)
        index_free(t->idx[i]);
    os_free(t->idx);
    os_free(t->name);
    os_free(t->sql);
    os_free(t->parse_error);
    os_free(t->col_field);
    os_free(t->field_col);
    os_free(t->pk_desc);
    os_free(t->pk_coll);
    os_free(t->unsupported);
    sch_table_free(&t->def);
    os_free(t);
}

void catalog_unref(db_catalog *cat)
{
    if (!cat || __atomic_sub_fetch(&cat->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    for (int i = 0; i < cat->nentries; i++) {
        os_free((char *)cat->entries[i].type);
        os_free((char *)cat->entries[i].name);
        os_free((char *)cat->entries[i].tbl_name);
        os_free((char *)cat->entries[i].sql);
    }
    os_free(cat->entries);
    for (int i = 0; i < cat->ntables; i++)
        table_free(cat->tables[i]);
    os_free(cat->tables);
    os_free(cat);
}

db_table *catalog_find_table(db_catalog *cat, const char *name)
{
    for (int i = 0; i < cat->ntables; i++)
        if (sch_ident_eq(cat->tables[i]->name, name))
            return cat->tables[i];
    if (sch_ident_eq(name, "sqlite_master") || sch_ident_eq(name, "sqlite_schema"))
        return cat->tables[0];
    return NULL;
}

db_index *catalog_find_index(db_catalog *cat, const char *name)
{
    for (int i = 0; i < cat->ntables; i++)
        for (int j = 0; j < cat->tables[i]->nidx; j++)
            if (sch_ident_eq(cat->tables[i]->idx[j]->name, name))
                return cat->tables[i]->idx[j];
    return NULL;
}

static void set_unsupported(char **slot, const char *why)
{
    if (!*slot)
        *slot = dups(why);
}

/* Work out where each column lives in the record. */
static int table_layout(db_table *t)
{
    sch_table *d = &t->def;
    t->col_field = os_malloc(sizeof(int) * (size_t)(d->ncols ? d->ncols : 1));
    t->field_col = os_malloc(sizeof(int) * (size_t)(d->ncols ? d->ncols : 1));
    if (!t->col_field || !t->field_col)
        return FOLIO_NOMEM;
    int nf = 0;
    if (d->without_rowid) {
        t->pk_desc = os_calloc((size_t)d->npk + 1, 1);
        t->pk_coll = os_calloc((size_t)d->npk + 1, 1);
        if (!t->pk_desc || !t->pk_coll)
            return FOLIO_NOMEM;
        for (int c = 0; c < d->ncols; c++)
            t->col_field[c] = -1;
        for (int k = 0; k < d->npk; k++) {
            int c = d->pk[k].col;
            if (c < 0 || c >= d->ncols)
                return FOLIO_CORRUPT;
            t->pk_desc[k] = (uint8_t)d->pk[k].desc;
            t->pk_coll[k] = (uint8_t)d->pk[k].collation;
            if (t->col_field[c] < 0) {
                t->col_field[c] = nf;
                t->field_col[nf++] = c;
            }
        }
        for (int c = 0; c < d->ncols; c++) {
            if (t->col_field[c] >= 0 || d->cols[c].hidden == 2)
                continue;
            t->col_field[c] = nf;
            t->field_col[nf++] = c;
        }
    } else {
        for (int c = 0; c < d->ncols; c++) {
            if (d->cols[c].hidden == 2) {
                t->col_field[c] = -1;
                continue;
            }
            t->col_field[c] = nf;
            t->field_col[nf++] = c;
        }
    }
    t->nstored = nf;
    for (int c = 0; c < d->ncols; c++) {
        if (d->cols[c].collation == SCH_COLL_UNKNOWN)
            set_unsupported(&t->unsupported, "a column uses an unknown collation");
    }
    if (d->has_generated)
        set_unsupported(&t->unsupported, "the table has generated columns");
    return 0;
}

static int index_from_keys(db_index *ix, db_table *t, const sch_keycol *keys, int n,
                           int schema_format)
{
    sch_table *d = &t->def;
    ix->ncols = n;
    ix->cols = os_malloc(sizeof(int) * (size_t)(n ? n : 1));
    ix->desc = os_calloc((size_t)n + 1, 1);
    ix->coll = os_calloc((size_t)n + 1, 1);
    if (!ix->cols || !ix->desc || !ix->coll)
        return FOLIO_NOMEM;
    for (int i = 0; i < n; i++) {
        ix->cols[i] = keys[i].col;
        /* Files in the legacy format (schema format below 4) have no
         * descending indexes: SQLite ignores DESC there. */
        ix->desc[i] = (uint8_t)(schema_format >= 4 ? keys[i].desc : 0);
        ix->coll[i] = (uint8_t)keys[i].collation;
        if (keys[i].collation == SCH_COLL_UNKNOWN)
            set_unsupported(&ix->unsupported, "the index uses an unknown collation");
        if (keys[i].col < 0)
            ix->has_expr = 1;
    }
    if (d->without_rowid) {
        ix->suffix_cols = os_malloc(sizeof(int) * (size_t)(d->npk ? d->npk : 1));
        if (!ix->suffix_cols)
            return FOLIO_NOMEM;
        for (int k = 0; k < d->npk; k++) {
            int dup = 0;
            for (int i = 0; i < n; i++)
                if (keys[i].col == d->pk[k].col && keys[i].collation == d->pk[k].collation)
                    dup = 1;
            if (!dup)
                ix->suffix_cols[ix->nsuffix++] = d->pk[k].col;
        }
        ix->nfields = n + ix->nsuffix;
    } else {
        ix->nfields = n + 1;
    }
    /* Ordering of every field of an index record. The primary key columns
     * that follow the keys of a WITHOUT ROWID table's index keep the key's
     * collation; they sort in the key's direction in an index made by
     * CREATE INDEX but ascending in the automatic index of a UNIQUE
     * constraint (as SQLite builds them). The rowid sorts ascending. */
    ix->fdesc = os_calloc((size_t)ix->nfields + 1, 1);
    ix->fcoll = os_calloc((size_t)ix->nfields + 1, 1);
    if (!ix->fdesc || !ix->fcoll)
        return FOLIO_NOMEM;
    for (int i = 0; i < n; i++) {
        ix->fdesc[i] = ix->desc[i];
        ix->fcoll[i] = ix->coll[i];
    }
    for (int s2 = 0; s2 < ix->nsuffix; s2++) {
        for (int k = 0; k < d->npk; k++) {
            if (d->pk[k].col == ix->suffix_cols[s2]) {
                ix->fdesc[n + s2] = ix->is_auto ? 0 : (uint8_t)d->pk[k].desc;
                ix->fcoll[n + s2] = (uint8_t)d->pk[k].collation;
            }
        }
    }
    if (ix->has_expr)
        set_unsupported(&ix->unsupported, "expression indexes are not maintained by folio");
    if (ix->partial)
        set_unsupported(&ix->unsupported, "partial indexes are not maintained by folio");
    return 0;
}

static int add_index(db_table *t, db_index *ix)
{
    db_index **v = os_realloc(t->idx, sizeof *v * (size_t)(t->nidx + 1));
    if (!v)
        return FOLIO_NOMEM;
    t->idx = v;
    t->idx[t->nidx++] = ix;
    ix->table = t;
    return 0;
}

static int add_table(db_catalog *cat, db_table *t)
{
    db_table **v = os_realloc(cat->tables, sizeof *v * (size_t)(cat->ntables + 1));
    if (!v)
        return FOLIO_NOMEM;
    cat->tables = v;
    cat->tables[cat->ntables++] = t;
    return 0;
}

static int table_new(db_table **out, const char *name, const char *sql, uint32_t root)
{
    db_table *t = os_calloc(1, sizeof *t);
    if (!t)
        return FOLIO_NOMEM;
    t->name = dups(name);
    t->sql = sql ? dups(sql) : NULL;
    t->root = root;
    if (!t->name || (sql && !t->sql)) {
        table_free(t);
        return FOLIO_NOMEM;
    }
    char err[256];
    if (!sql) {
        t->parse_error = dups("table has no SQL definition");
    } else if (sch_parse_table(&t->def, sql, err, sizeof err) < 0) {
        t->parse_error = dups(err);
    } else {
        t->parsed = 1;
        int rc = table_layout(t);
        if (rc < 0) {
            if (rc == FOLIO_CORRUPT) {
                t->parsed = 0;
                t->parse_error = dups("bad primary key definition");
            } else {
                table_free(t);
                return rc;
            }
        }
    }
    *out = t;
    return 0;
}

/* Read one text column of a schema row into a new UTF-8 string (NULL for SQL NULL). */
static int schema_text(const fmt_value *v, int enc, char **out)
{
    *out = NULL;
    if (v->type == FMT_NULL)
        return 0;
    if (v->type == FMT_INTEGER) {
        char b[32];
        snprintf(b, sizeof b, "%lld", (long long)v->u.i);
        *out = dups(b);
        return *out ? 0 : FOLIO_NOMEM;
    }
    if (v->type != FMT_TEXT && v->type != FMT_BLOB)
        return FOLIO_CORRUPT;
    if (enc > 1 && v->type == FMT_TEXT) {
        uint8_t *buf = NULL;
        size_t cap = 0, n = 0;
        if (text_utf16_to_utf8(v->u.s.p, (size_t)v->u.s.n, enc, &buf, &cap, &n) < 0)
            return FOLIO_NOMEM;
        *out = dupn(buf, n);
        os_free(buf);
    } else {
        *out = dupn(v->u.s.p, (size_t)v->u.s.n);
    }
    return *out ? 0 : FOLIO_NOMEM;
}

static int add_entry(db_catalog *cat, folio_schema_entry *e)
{
    folio_schema_entry *v = os_realloc(cat->entries, sizeof *v * (size_t)(cat->nentries + 1));
    if (!v)
        return FOLIO_NOMEM;
    cat->entries = v;
    cat->entries[cat->nentries++] = *e;
    return 0;
}

/* Resolve the indexes once all tables are known. */
static int attach_index(db_catalog *cat, const folio_schema_entry *e)
{
    db_table *t = NULL;
    for (int i = 0; i < cat->ntables; i++)
        if (sch_ident_eq(cat->tables[i]->name, e->tbl_name))
            t = cat->tables[i];
    if (!t)
        return 0; /* an index of an unknown table: folio check reports it */
    db_index *ix = os_calloc(1, sizeof *ix);
    if (!ix)
        return FOLIO_NOMEM;
    ix->name = dups(e->name);
    ix->sql = e->sql ? dups(e->sql) : NULL;
    ix->root = e->rootpage;
    if (!ix->name || (e->sql && !ix->sql)) {
        index_free(ix);
        return FOLIO_NOMEM;
    }
    int rc = 0;
    if (!t->parsed) {
        set_unsupported(&ix->unsupported, "its table's definition cannot be used");
        ix->has_expr = 1;
    } else if (!e->sql) {
        /* sqlite_autoindex_<table>_<N> */
        ix->is_auto = 1;
        ix->unique = 1;
        const char *us = strrchr(e->name, '_');
        int num = us ? atoi(us + 1) : 0;
        const sch_autoindex *a = NULL;
        for (int i = 0; i < t->def.nauto; i++)
            if (t->def.autoidx[i].num == num)
                a = &t->def.autoidx[i];
        if (!a) {
            set_unsupported(&ix->unsupported, "automatic index does not match its table");
            ix->has_expr = 1;
        } else {
            ix->is_pk = a->is_pk;
            rc = index_from_keys(ix, t, a->cols, a->ncols, cat->schema_format);
        }
    } else {
        sch_index def;
        char err[256];
        if (sch_parse_index(&def, e->sql, &t->def, err, sizeof err) < 0) {
            set_unsupported(&ix->unsupported, err);
            ix->has_expr = 1;
        } else {
            ix->unique = def.unique;
            ix->partial = def.partial;
            rc = index_from_keys(ix, t, def.cols, def.ncols, cat->schema_format);
            sch_index_free(&def);
        }
    }
    if (rc < 0 || (rc = add_index(t, ix)) < 0) {
        index_free(ix);
        return rc;
    }
    return 0;
}

int catalog_load(db_catalog **out, folio_txn *txn)
{
    int rc;
    *out = NULL;
    db_catalog *cat = os_calloc(1, sizeof *cat);
    if (!cat)
        return FOLIO_NOMEM;
    cat->refs = 1;
    const fmt_dbheader *h = ptxn_header(txn->pt);
    cat->cookie = h->schema_cookie;
    cat->change_key = h->change_counter;
    cat->text_encoding = h->text_encoding ? (int)h->text_encoding : 1;
    cat->schema_format = h->schema_format ? (int)h->schema_format : 4;
    cat->empty = ptxn_npages(txn->pt) == 0;
    db_table *master;
    if ((rc = table_new(&master, "sqlite_schema", schema_sql, 1)) < 0)
        goto fail;
    if ((rc = add_table(cat, master)) < 0) {
        table_free(master);
        goto fail;
    }
    if (ptxn_npages(txn->pt) == 0) {
        *out = cat;
        return 0;
    }
    bt_cursor c;
    bt_cursor_init(&c, txn->pt, 1, 1);
    row_decoder rd = {0};
    /* Bound the walk: a schema cannot have more rows than the file has cells. */
    for (rc = bt_first(&c); rc == FOLIO_ROW; rc = bt_next(&c)) {
        const uint8_t *rec;
        uint64_t size;
        if ((rc = bt_payload(&c, &rec, &size)) < 0)
            break;
        if ((rc = row_decode(&rd, rec, size, size)) < 0) {
            rc = rc == FOLIO_NOMEM
                     ? ptxn_error(txn->pt, rc, "out of memory reading the schema")
                     : ptxn_corrupt(txn->pt, bt_cursor_pgno(&c), "malformed sqlite_schema row");
            break;
        }
        fmt_value v[5];
        memset(v, 0, sizeof v);
        for (uint32_t i = 0; i < 5 && i < rd.nfields; i++) {
            if (fmt_serial_decode(rd.st[i], rec + rd.off[i], &v[i]) < 0) {
                rc = ptxn_corrupt(txn->pt, bt_cursor_pgno(&c), "malformed sqlite_schema row");
                break;
            }
        }
        if (rc < 0)
            break;
        folio_schema_entry e;
        memset(&e, 0, sizeof e);
        char *type = NULL, *name = NULL, *tbl = NULL, *sql = NULL;
        if ((rc = schema_text(&v[0], cat->text_encoding, &type)) < 0 ||
            (rc = schema_text(&v[1], cat->text_encoding, &name)) < 0 ||
            (rc = schema_text(&v[2], cat->text_encoding, &tbl)) < 0 ||
            (rc = schema_text(&v[4], cat->text_encoding, &sql)) < 0) {
            os_free(type);
            os_free(name);
            os_free(tbl);
            os_free(sql);
            if (rc == FOLIO_CORRUPT)
                rc = ptxn_corrupt(txn->pt, bt_cursor_pgno(&c),
                                  "sqlite_schema row has a value of the wrong type");
            else
                rc = ptxn_error(txn->pt, rc, "out of memory reading the schema");
            break;
        }
        if (!type)
            type = dups("");
        if (!name)
            name = dups("");
        if (!tbl)
            tbl = dups("");
        e.type = type;
        e.name = name;
        e.tbl_name = tbl;
        e.sql = sql;
        e.rootpage = (v[3].type == FMT_INTEGER && v[3].u.i > 0 && v[3].u.i <= 0x7fffffff)
                         ? (uint32_t)v[3].u.i
                         : 0;
        if (!type || !name || !tbl || (rc = add_entry(cat, &e)) < 0) {
            os_free(type);
            os_free(name);
            os_free(tbl);
            os_free(sql);
            rc = ptxn_error(txn->pt, FOLIO_NOMEM, "out of memory reading the schema");
            break;
        }
    }
    bt_cursor_release(&c);
    row_decoder_free(&rd);
    if (rc < 0)
        goto fail;
    /* Tables first, then indexes and triggers that refer to them. */
    for (int i = 0; i < cat->nentries; i++) {
        const folio_schema_entry *e = &cat->entries[i];
        if (strcmp(e->type, "table") != 0)
            continue;
        db_table *t;
        if ((rc = table_new(&t, e->name, e->sql, e->rootpage)) < 0)
            goto fail;
        if (e->sql && strncmp(e->sql, "CREATE VIRTUAL", 14) == 0) {
            t->parsed = 0;
            set_unsupported(&t->unsupported, "virtual tables are not supported");
        }
        if ((rc = add_table(cat, t)) < 0) {
            table_free(t);
            goto fail;
        }
    }
    for (int i = 0; i < cat->nentries; i++) {
        const folio_schema_entry *e = &cat->entries[i];
        if (strcmp(e->type, "index") == 0) {
            if ((rc = attach_index(cat, e)) < 0)
                goto fail;
        } else if (strcmp(e->type, "trigger") == 0) {
            for (int k = 0; k < cat->ntables; k++)
                if (sch_ident_eq(cat->tables[k]->name, e->tbl_name))
                    cat->tables[k]->has_triggers = 1;
        }
    }
    for (int k = 0; k < cat->ntables; k++)
        if (cat->tables[k]->has_triggers)
            set_unsupported(&cat->tables[k]->unsupported, "the table has triggers");
    *out = cat;
    return 0;
fail:
    catalog_unref(cat);
    return rc;
}

int db_txn_catalog(folio_txn *txn)
{
    folio_db *db = txn->db;
    const fmt_dbheader *h = ptxn_header(txn->pt);
    pthread_mutex_lock(&db->mu);
    int empty = ptxn_npages(txn->pt) == 0;
    if (db->cat && db->cat->cookie == h->schema_cookie && db->cat->empty == empty) {
        __atomic_add_fetch(&db->cat->refs, 1, __ATOMIC_ACQ_REL);
        txn->cat = db->cat;
        pthread_mutex_unlock(&db->mu);
        return 0;
    }
    pthread_mutex_unlock(&db->mu);
    db_catalog *cat;
    int rc = catalog_load(&cat, txn);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&db->mu);
    if (!db->cat || db->cat->change_key < cat->change_key || db->cat->cookie != cat->cookie) {
        catalog_unref(db->cat);
        db->cat = cat;
        __atomic_add_fetch(&cat->refs, 1, __ATOMIC_ACQ_REL);
    }
    pthread_mutex_unlock(&db->mu);
    txn->cat = cat;
    return 0;
}
