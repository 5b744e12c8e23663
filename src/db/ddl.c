/*
 * ddl.c - folio_exec: CREATE TABLE, CREATE INDEX, CREATE VIEW, CREATE
 * TRIGGER and their DROPs (ALTER TABLE is in alter.c).
 *
 * The SQL text kept in sqlite_schema is normalised the way SQLite keeps it:
 * "CREATE TABLE " or "CREATE [UNIQUE] INDEX " followed by the statement as
 * written from the object's name on (IF NOT EXISTS dropped, no trailing
 * semicolon). Each statement bumps the schema cookie once.
 */
#include "db/commitlog.h"
#include "db/ddl_int.h"
#include "db/sorter.h"
#include "schema/lex.h"
#include "schema/select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int kw(const lx_token *t, const char *word)
{
    if (t->type != LX_ID || t->n != strlen(word))
        return 0;
    for (size_t i = 0; i < t->n; i++) {
        char a = t->z[i], b = word[i];
        if (a >= 'a' && a <= 'z')
            a = (char)(a - 32);
        if (a != b)
            return 0;
    }
    return 1;
}

/* An identifier token's name, unquoted, in buf. */
static int ident(const lx_token *t, char *buf, size_t cap)
{
    if (t->type != LX_ID && t->type != LX_QID && t->type != LX_STRING)
        return -1;
    size_t o = 0;
    if (t->type == LX_ID) {
        if (t->n >= cap)
            return -1;
        memcpy(buf, t->z, t->n);
        buf[t->n] = 0;
        return 0;
    }
    char q = t->z[0] == '[' ? ']' : t->z[0];
    for (size_t i = 1; i + 1 < t->n; i++) {
        if (o + 1 >= cap)
            return -1;
        buf[o++] = t->z[i];
        if (t->z[i] == q && q != ']' && i + 2 < t->n && t->z[i + 1] == q)
            i++;
    }
    buf[o] = 0;
    return 0;
}

static int bump_cookie(folio_txn *txn)
{
    if (ptxn_is_concurrent(txn->pt))
        return db_err(txn->db, FOLIO_MISUSE, DB_CONC_NO_DDL);
    fmt_dbheader h = *ptxn_header(txn->pt);
    h.schema_cookie++;
    if (h.schema_format < 4)
        h.schema_format = 4;
    txn->schema_changed = 1;
    return ptxn_header_update(txn->pt, &h);
}

/* Re-read the schema as this transaction now sees it; the old catalog
 * stays alive for the handles that point into it. */
int reload_catalog(folio_txn *txn)
{
    db_catalog *cat;
    table_states_free(txn);
    int rc = catalog_load(&cat, txn, txn->cat);
    if (rc < 0)
        return rc;
    db_catalog **v = os_realloc(txn->oldcats, sizeof *v * (size_t)(txn->noldcats + 1));
    if (!v) {
        catalog_unref(cat);
        return FOLIO_NOMEM;
    }
    txn->oldcats = v;
    txn->oldcats[txn->noldcats++] = txn->cat;
    txn->cat = cat;
    /* Open table handles follow their table into the new catalog. */
    for (int i = 0; i < txn->ntables; i++) {
        db_table *nt = catalog_find_table(cat, txn->tables[i]->tab->name);
        if (nt && nt->root == txn->tables[i]->tab->root)
            txn->tables[i]->tab = nt;
        else
            txn->tables[i]->dead = 1;
    }
    return 0;
}

/*
 * After DDL added rows to sqlite_schema: the transaction's catalog follows
 * in place, on a private copy made at the transaction's first DDL (sharing
 * every table and entry with the catalog it copies), so that a statement
 * costs what it changes, not the size of the schema. A table that gained an
 * index is a new object: the handles on it follow, and its write state goes.
 */
static int catalog_after_add(folio_txn *txn, const folio_schema_entry *e, int n)
{
    int rc;
    if (__atomic_load_n(&txn->cat->refs, __ATOMIC_ACQUIRE) != 1) {
        db_catalog *c;
        if ((rc = catalog_clone(&c, txn->cat)) < 0)
            return ptxn_error(txn->pt, rc, "out of memory");
        db_catalog **v = os_realloc(txn->oldcats, sizeof *v * (size_t)(txn->noldcats + 1));
        if (!v) {
            catalog_unref(c);
            return ptxn_error(txn->pt, FOLIO_NOMEM, "out of memory");
        }
        txn->oldcats = v;
        txn->oldcats[txn->noldcats++] = txn->cat;
        txn->cat = c;
    }
    db_table *old = NULL;
    if ((rc = catalog_add_entries(txn->cat, e, n, &old)) < 0) {
        if (old)
            catalog_table_unref(old);
        return reload_catalog(txn); /* the whole catalog again, from the file */
    }
    for (int k = 0; k < n; k++) {
        if (strcmp(e[k].type, "index") != 0)
            continue;
        /* The table gained an index: its write state is of the old set. */
        db_table *nt = catalog_find_table(txn->cat, e[k].tbl_name);
        table_state_drop(txn, nt);
        if (old)
            table_state_drop(txn, old);
        for (int i = 0; i < txn->ntables; i++) {
            folio_table *t = txn->tables[i];
            if (t->tab == nt || (old && t->tab == old)) {
                t->tab = nt;
                t->ts = NULL;
            }
        }
    }
    if (old)
        catalog_table_unref(old);
    return 0;
}

/* A new, empty database gets page 1: the header and an empty sqlite_schema. */
int ddl_ensure_formatted(folio_txn *txn)
{
    if (ptxn_npages(txn->pt) > 0)
        return 0;
    pg *one;
    int rc = pager_alloc(&one, txn->pt);
    if (rc < 0)
        return rc;
    if (one->pgno != 1) {
        pager_unref(one);
        return ptxn_corrupt(txn->pt, one->pgno, "first page of a new database is not page 1");
    }
    fmt_dbheader h;
    memset(&h, 0, sizeof h);
    h.page_size = pager_page_size(ptxn_pager(txn->pt));
    h.write_version = h.read_version = FMT_DBHDR_WAL_VERSION;
    h.max_payload_frac = 64;
    h.min_payload_frac = 32;
    h.leaf_payload_frac = 32;
    h.page_count = 1;
    h.schema_format = 4;
    h.text_encoding = 1;
    ptxn_header_update(txn->pt, &h);
    fmt_dbheader_encode(one->data, &h);
    /* sqlite_schema: an empty table leaf after the 100-byte header. */
    uint8_t *p = one->data + FMT_DBHEADER_SIZE;
    p[0] = FMT_PAGE_TABLE_LEAF;
    fmt_put_u16(p + 1, 0);
    fmt_put_u16(p + 3, 0);
    fmt_put_u16(p + 5, h.page_size == 65536 ? 0 : h.page_size);
    p[7] = 0;
    /* The file becomes a valid empty database now, so that pages written
     * straight to it later are never behind an invalid first page. */
    rc = pager_init_file(txn->pt, one->data);
    pager_unref(one);
    return rc;
}

/* Text from token `from` to the end of the statement (no trailing ';'). */
static char *tail_sql(const char *prefix, const lx_token *from, const char *sql)
{
    size_t end = strlen(sql);
    while (end > 0 && (sql[end - 1] == ';' || sql[end - 1] == ' ' || sql[end - 1] == '\n' ||
                       sql[end - 1] == '\t' || sql[end - 1] == '\r'))
        end--;
    size_t start = (size_t)(from->z - sql);
    if (start > end)
        start = end;
    size_t np = strlen(prefix);
    char *s = os_malloc(np + (end - start) + 1);
    if (!s)
        return NULL;
    memcpy(s, prefix, np);
    memcpy(s + np, sql + start, end - start);
    s[np + end - start] = 0;
    return s;
}

static int name_taken(folio_txn *txn, const char *name)
{
    return catalog_name_taken(txn->cat, name);
}

/* One expression of a new index or table, compiled only to see that it
 * does: SQLite's message when it refuses it (without the position, as
 * SQLite's DDL errors have none). top_coll (may be NULL): the collation of
 * a COLLATE at its top, or -1. */
static int expr_compiles(folio_db *db, const char *text, const ex_scope *scope, unsigned flags,
                         int *top_coll)
{
    ex_prog *p = NULL;
    char err[256];
    int rc = ex_compile(&p, text, strlen(text), scope, flags, err, sizeof err);
    if (top_coll)
        *top_coll = p ? ex_prog_top_collation(p) : -1;
    ex_prog_free(p);
    char *at = strstr(err, " (at offset ");
    if (at)
        *at = 0;
    return rc < 0 ? db_err(db, rc, "%s", err) : 0;
}

/* The expression keys and WHERE of a new index compile against its table. */
int ddl_index_exprs_compile(folio_db *db, const db_table *tab, const sch_index *def)
{
    int rc = 0;
    for (int k = 0; k < def->ncols && rc == 0; k++) {
        if (def->cols[k].col != SCH_KEY_EXPR || !def->cols[k].text)
            continue;
        /* Only a COLLATE at the top orders the key (catalog.c): one below
         * ("a || b COLLATE x") is no collation of the index. The parser
         * took the name of the one at the top. */
        int coll = -1;
        rc = expr_compiles(db, def->cols[k].text, &tab->scope, EX_INDEX_EXPR, &coll);
        if (rc == 0 && coll == SCH_COLL_UNKNOWN)
            rc =
                db_err(db, FOLIO_UNSUPPORTED, "unknown collation: %s", def->cols[k].collation_name);
    }
    if (rc == 0 && def->where_text)
        rc = expr_compiles(db, def->where_text, &tab->scope, EX_PARTIAL_WHERE, NULL);
    return rc;
}

/* The CHECK constraints of a new table compile: SQLite refuses a table
 * whose CHECK names no column of it, calls no known function, and so on
 * (its message); folio also refuses what it could not evaluate. */
int ddl_table_exprs_compile(folio_db *db, const sch_table *def)
{
    if (def->nchecks == 0 && !def->has_generated)
        return 0;
    ex_column *cols = os_calloc((size_t)def->ncols, sizeof *cols);
    if (!cols)
        return db_err(db, FOLIO_NOMEM, "out of memory");
    ex_scope scope;
    ex_scope_from_table(&scope, cols, def);
    int rc = 0;
    for (int i = 0; i < def->nchecks && rc == 0; i++)
        rc = expr_compiles(db, def->checks[i].text, &scope, EX_CHECK, NULL);
    for (int c = 0; c < def->ncols && rc == 0; c++)
        if (def->cols[c].generated && def->cols[c].gen_text) {
            ex_scope sc = scope;
            sc.column = def->cols[c].name;
            rc = expr_compiles(db, def->cols[c].gen_text, &sc, EX_GENERATED, NULL);
        }
    os_free(cols);
    return rc;
}

static int create_table(folio_txn *txn, const char *sql, const lx_token *name_tok)
{
    folio_db *db = txn->db;
    sch_table def;
    char err[256];
    if (sch_parse_table(&def, sql, err, sizeof err) < 0)
        return db_err(db, strcmp(err, "out of memory") == 0 ? FOLIO_NOMEM : FOLIO_MISUSE, "%s",
                      err);
    int rc = 0;
    if (def.temp) {
        rc = db_err(db, FOLIO_UNSUPPORTED, "TEMP tables are not stored in the file");
        goto out;
    }
    if (def.schema_name && !sch_ident_eq(def.schema_name, "main")) {
        rc = db_err(db, FOLIO_UNSUPPORTED, "unknown database %s", def.schema_name);
        goto out;
    }
    if (name_taken(txn, def.name)) {
        if (def.if_not_exists && catalog_find_table(txn->cat, def.name))
            goto out;
        rc = db_err(db, FOLIO_ERROR, "%s %s already exists",
                    catalog_find_table(txn->cat, def.name) ? "table" : "an index named", def.name);
        goto out;
    }
    if (strncmp(def.name, "sqlite_", 7) == 0 || strncmp(def.name, "SQLITE_", 7) == 0) {
        rc = db_err(db, FOLIO_MISUSE, "object name reserved for internal use: %s", def.name);
        goto out;
    }
    for (int c = 0; c < def.ncols; c++) {
        if (def.cols[c].collation == SCH_COLL_UNKNOWN) {
            rc = db_err(db, FOLIO_UNSUPPORTED, "unknown collation: %s", def.cols[c].collation_name);
            goto out;
        }
    }
    for (int a = 0; a < def.nauto; a++)
        for (int k = 0; k < def.autoidx[a].ncols; k++)
            if (def.autoidx[a].cols[k].collation == SCH_COLL_UNKNOWN) {
                rc = db_err(db, FOLIO_UNSUPPORTED, "unknown collation: %s",
                            def.autoidx[a].cols[k].collation_name);
                goto out;
            }
    if ((rc = ddl_table_exprs_compile(db, &def)) < 0)
        goto out;
    if ((rc = ddl_ensure_formatted(txn)) < 0)
        goto out_txn;
    /* The rows this statement adds, for the catalog: sqlite_sequence, the
     * table, its automatic indexes. */
    folio_schema_entry added[3];
    int nadded = 0, naddmax = 3;
    char *names[2] = {NULL, NULL}; /* autoindex names beyond the first two go by reload */
    int full_reload = def.nauto > 2;
    static const char seq_sql[] = "CREATE TABLE sqlite_sequence(name,seq)";
    if (def.autoincrement && !catalog_find_table(txn->cat, "sqlite_sequence")) {
        uint32_t sroot;
        if ((rc = bt_create(txn->pt, 1, &sroot)) < 0 ||
            (rc = schema_insert_row(txn, "table", "sqlite_sequence", "sqlite_sequence", sroot,
                                    seq_sql)) < 0)
            goto out_txn;
        added[nadded++] =
            (folio_schema_entry){"table", "sqlite_sequence", "sqlite_sequence", sroot, seq_sql};
        full_reload |= def.nauto > 1;
    }
    uint32_t root;
    if ((rc = bt_create(txn->pt, !def.without_rowid, &root)) < 0)
        goto out_txn;
    char *stored = tail_sql("CREATE TABLE ", name_tok, sql);
    if (!stored) {
        rc = db_err(db, FOLIO_NOMEM, "out of memory");
        goto out;
    }
    rc = schema_insert_row(txn, "table", def.name, def.name, root, stored);
    if (rc < 0) {
        os_free(stored);
        goto out_txn;
    }
    added[nadded++] = (folio_schema_entry){"table", def.name, def.name, root, stored};
    for (int a = 0; a < def.nauto; a++) {
        uint32_t iroot;
        /* sqlite_autoindex_<table>_<n>, for a table name of any length. */
        size_t len = strlen(def.name) + 40;
        char *iname = os_malloc(len);
        if (!iname) {
            rc = ptxn_error(txn->pt, FOLIO_NOMEM, "out of memory");
            goto out_added;
        }
        snprintf(iname, len, "sqlite_autoindex_%s_%d", def.name, def.autoidx[a].num);
        if ((rc = bt_create(txn->pt, 0, &iroot)) == 0)
            rc = schema_insert_row(txn, "index", iname, def.name, iroot, NULL);
        if (rc == 0 && nadded < naddmax && a < 2) {
            names[a] = iname;
            added[nadded++] = (folio_schema_entry){"index", iname, def.name, iroot, NULL};
        } else {
            os_free(iname);
        }
        if (rc < 0)
            goto out_added;
    }
    if ((rc = bump_cookie(txn)) == 0)
        rc = full_reload ? reload_catalog(txn) : catalog_after_add(txn, added, nadded);
    (void)naddmax;
out_added:
    os_free(stored);
    os_free(names[0]);
    os_free(names[1]);
    if (rc < 0)
        goto out_txn;
out:
    sch_table_free(&def);
    return rc;
out_txn:
    sch_table_free(&def);
    return db_err_txn(txn, rc);
}

/* Whether one of the first n fields of a record is NULL. */
static int key_has_null(const uint8_t *rec, uint64_t size, int n)
{
    fmt_record r;
    if (fmt_record_open(&r, rec, size, size) < 0)
        return 0;
    for (int i = 0; i < n; i++) {
        uint64_t st, off;
        if (fmt_record_next(&r, &st, &off) <= 0)
            return 0;
        if (st == 0)
            return 1;
    }
    return 0;
}

/* Fill a new index from the table's rows. */
static int build_index(folio_txn *txn, db_table *tab, db_index *ix)
{
    table_state *ts;
    int rc = table_state_get(&ts, txn, tab);
    if (rc < 0)
        return db_err(txn->db, rc, "out of memory");
    index_state *is = NULL;
    for (int i = 0; i < ts->nidx; i++)
        if (ts->idx[i].ix == ix)
            is = &ts->idx[i];
    if (!is)
        return db_err(txn->db, FOLIO_ERROR, "index %s not found after creation", ix->name);
    /* Walk the table with a private cursor; decode each row into values. */
    bt_cursor c;
    bt_cursor_init(&c, txn->pt, tab->root, !tab->def.without_rowid);
    row_decoder rd = {0};
    fmt_value *row = os_calloc((size_t)tab->def.ncols + 1, sizeof *row);
    if (!row)
        return db_err(txn->db, FOLIO_NOMEM, "out of memory");
    /* Copies of each row's record: the table pages stay put while the
     * index is written, but the cursor's overflow buffer is reused. */
    uint8_t *copy = NULL;
    size_t copycap = 0;
    sorter *srt = NULL;
    size_t budget = txn->db->opts.cache_bytes ? txn->db->opts.cache_bytes / 2 : (size_t)32 << 20;
    if ((rc = sorter_open(&srt, txn, &is->order, budget)) < 0) {
        os_free(row);
        return db_err(txn->db, rc, "out of memory");
    }
    for (rc = bt_first(&c); rc == FOLIO_ROW; rc = bt_next(&c)) {
        const uint8_t *rec;
        uint64_t size;
        if ((rc = bt_payload(&c, &rec, &size)) < 0)
            break;
        if (size > copycap) {
            uint8_t *b = os_realloc(copy, (size_t)size + 1);
            if (!b) {
                rc = FOLIO_NOMEM;
                break;
            }
            copy = b;
            copycap = (size_t)size + 1;
        }
        memcpy(copy, rec, (size_t)size);
        if ((rc = row_decode(&rd, copy, size, size)) < 0) {
            rc = rc == FOLIO_NOMEM ? ptxn_error(txn->pt, rc, "out of memory")
                                   : ptxn_corrupt(txn->pt, bt_cursor_pgno(&c), "malformed record");
            break;
        }
        int64_t rowid = tab->def.without_rowid ? 0 : bt_rowid(&c);
        for (int col = 0; col < tab->def.ncols; col++) {
            int f = tab->col_field[col];
            memset(&row[col], 0, sizeof row[col]);
            if (col == tab->def.ipk) {
                row[col].type = FMT_INTEGER;
                row[col].u.i = rowid;
            } else if (f >= 0 && (uint32_t)f < rd.nfields) {
                if (fmt_serial_decode(rd.st[f], copy + rd.off[f], &row[col]) < 0) {
                    rc = ptxn_corrupt(txn->pt, bt_cursor_pgno(&c), "bad serial type");
                    break;
                }
            } else if (row_default_value(&tab->def.cols[col], tab->def.strict, &row[col],
                                         ts->textbuf + 64 * col) < 0) {
                row[col].type = FMT_NULL;
            }
        }
        if (rc < 0)
            break;
        /* VIRTUAL generated columns, for an index on them. */
        if (tab->ngen && (rc = generated_compute(txn, ts, row, rowid, 1)) < 0) {
            rc = ptxn_error(txn->pt, rc, "%s", folio_errmsg(txn->db));
            break;
        }
        uint64_t isz;
        if ((rc = index_record_build(ts, is, row, rowid, &isz)) < 0)
            break;
        if (rc == INDEX_ROW_EXCLUDED) { /* a partial index without this row */
            rc = 0;
            continue;
        }
        if ((rc = sorter_add(srt, ts->irec, isz)) < 0)
            break;
    }
    if (rc == FOLIO_DONE)
        rc = 0;
    /* Sorted, the keys build the index bottom-up; equal neighbours on the
     * key columns break a UNIQUE index (unless a key value is NULL). */
    bt_builder *bld = NULL;
    if (rc == 0 && (rc = sorter_finish(srt)) == 0 &&
        (rc = bt_builder_open(&bld, txn->pt, ix->root, 0)) == 0) {
        sch_order keyord = is->order;
        keyord.n = ix->ncols;
        uint8_t *prev = NULL;
        uint64_t prevn = 0, prevcap = 0;
        const uint8_t *rec;
        uint64_t n;
        int k;
        while ((k = sorter_next(srt, &rec, &n)) == 1) {
            if (ix->unique && prev) {
                int cmp = 1;
                if ((rc = sch_record_compare(&keyord, prev, prevn, rec, n, &cmp)) < 0)
                    break;
                if (cmp == 0 && !key_has_null(rec, n, ix->ncols)) {
                    char cols[256];
                    size_t off = 0;
                    cols[0] = 0;
                    if (ix->has_expr) /* as SQLite names it */
                        snprintf(cols, sizeof cols, "index '%s'", ix->name);
                    for (int q = 0; !ix->has_expr && q < ix->ncols && off + 1 < sizeof cols; q++)
                        off += (size_t)snprintf(
                            cols + off, sizeof cols - off, "%s%s.%s", q ? ", " : "", tab->name,
                            ix->cols[q] >= 0 ? tab->def.cols[ix->cols[q]].name : "?");
                    os_free(prev);
                    bt_builder_free(bld);
                    sorter_free(srt);
                    bt_cursor_release(&c);
                    row_decoder_free(&rd);
                    os_free(row);
                    os_free(copy);
                    return db_err(txn->db, FOLIO_CONSTRAINT, "UNIQUE constraint failed: %s", cols);
                }
            }
            if ((rc = bt_builder_add_key(bld, rec, n)) < 0)
                break;
            if (ix->unique) {
                if (n > prevcap) {
                    uint8_t *p2 = os_realloc(prev, (size_t)n + 1);
                    if (!p2) {
                        rc = FOLIO_NOMEM;
                        break;
                    }
                    prev = p2;
                    prevcap = n + 1;
                }
                memcpy(prev, rec, (size_t)n);
                prevn = n;
            }
        }
        if (rc == 0 && k < 0)
            rc = k;
        if (rc == 0)
            rc = bt_builder_finish(bld);
        os_free(prev);
    }
    bt_builder_free(bld);
    sorter_free(srt);
    bt_cursor_release(&c);
    row_decoder_free(&rd);
    os_free(row);
    os_free(copy);
    if (rc < 0)
        return db_err_txn(txn, rc);
    return 0;
}

static int create_index(folio_txn *txn, const char *sql, const lx_token *name_tok, int unique)
{
    folio_db *db = txn->db;
    sch_index def;
    char err[256];
    if (sch_parse_index(&def, sql, NULL, err, sizeof err) < 0)
        return db_err(db, FOLIO_MISUSE, "%s", err);
    db_table *tab = catalog_find_table(txn->cat, def.table);
    int rc = 0;
    if (!tab || tab->root == 1) {
        rc = db_err(db, FOLIO_NOTFOUND_ERR, "no such table: %s", def.table);
        goto out;
    }
    sch_index_free(&def);
    if (sch_parse_index(&def, sql, &tab->def, err, sizeof err) < 0)
        return db_err(db, FOLIO_MISUSE, "%s", err);
    if (name_taken(txn, def.name)) {
        if (def.if_not_exists && catalog_find_index(txn->cat, def.name))
            goto out;
        rc = db_err(db, FOLIO_ERROR, "index %s already exists", def.name);
        goto out;
    }
    if (strncmp(def.name, "sqlite_", 7) == 0) {
        rc = db_err(db, FOLIO_MISUSE, "object name reserved for internal use: %s", def.name);
        goto out;
    }
    for (int k = 0; k < def.ncols; k++)
        if (def.cols[k].collation == SCH_COLL_UNKNOWN && def.cols[k].col != SCH_KEY_EXPR) {
            rc = db_err(db, FOLIO_UNSUPPORTED, "unknown collation: %s", def.cols[k].collation_name);
            goto out;
        }
    if (!tab->parsed) {
        rc = db_err(db, FOLIO_UNSUPPORTED, "table %s cannot be indexed: %s", tab->name,
                    tab->parse_error ? tab->parse_error : "unknown definition");
        goto out;
    }
    if ((rc = ddl_index_exprs_compile(db, tab, &def)) < 0)
        goto out;
    uint32_t root;
    if ((rc = bt_create(txn->pt, 0, &root)) < 0)
        goto out_txn;
    char *stored = tail_sql(unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ", name_tok, sql);
    if (!stored) {
        rc = db_err(db, FOLIO_NOMEM, "out of memory");
        goto out;
    }
    rc = schema_insert_row(txn, "index", def.name, tab->name, root, stored);
    if (rc == 0 && (rc = bump_cookie(txn)) == 0) {
        folio_schema_entry added = {"index", def.name, tab->name, root, stored};
        rc = catalog_after_add(txn, &added, 1);
    }
    os_free(stored);
    if (rc < 0)
        goto out_txn;
    {
        db_table *nt = catalog_find_table(txn->cat, def.table);
        db_index *nix = catalog_find_index(txn->cat, def.name);
        if (!nt || !nix) {
            rc = db_err(db, FOLIO_ERROR, "index %s vanished after creation", def.name);
            goto out;
        }
        rc = build_index(txn, nt, nix);
    }
out:
    sch_index_free(&def);
    return rc;
out_txn:
    sch_index_free(&def);
    return db_err_txn(txn, rc);
}

/* Delete the sqlite_schema rows for which keep() says no. */
/* Whether the TEXT value v is the identifier `name` (ASCII case folded, as
 * SQLite compares names), whatever its length. */
static int value_is_ident(const fmt_value *v, const char *name)
{
    if (v->type != FMT_TEXT || v->u.s.n != strlen(name))
        return 0;
    const uint8_t *p = v->u.s.p;
    for (size_t i = 0; i < (size_t)v->u.s.n; i++) {
        uint8_t a = p[i], b = (uint8_t)name[i];
        if (a >= 'A' && a <= 'Z')
            a = (uint8_t)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (uint8_t)(b + 32);
        if (a != b)
            return 0;
    }
    return 1;
}

static int schema_delete_rows_of(folio_txn *txn, const char *type, const char *name,
                                 const char *tbl);

static int schema_delete_rows(folio_txn *txn, const char *name, const char *tbl)
{
    return schema_delete_rows_of(txn, NULL, name, tbl);
}

/* Delete the sqlite_schema rows named `name` or of table `tbl`, of type
 * `type` only when it is not NULL (triggers have names of their own). */
static int schema_delete_rows_of(folio_txn *txn, const char *type, const char *name,
                                 const char *tbl)
{
    bt_cursor c;
    bt_cursor_init(&c, txn->pt, 1, 1);
    int rc;
    int64_t *victims = NULL;
    size_t nv = 0, cap = 0;
    row_decoder rd = {0};
    for (rc = bt_first(&c); rc == FOLIO_ROW; rc = bt_next(&c)) {
        const uint8_t *rec;
        uint64_t size;
        if ((rc = bt_payload(&c, &rec, &size)) < 0)
            break;
        if ((rc = row_decode(&rd, rec, size, size)) < 0) {
            rc = rc == FOLIO_NOMEM ? ptxn_error(txn->pt, rc, "out of memory")
                                   : bt_corrupt_here(&c, "malformed sqlite_schema row");
            break;
        }
        fmt_value vty, vn, vt;
        if (rd.nfields < 3 || fmt_serial_decode(rd.st[0], rec + rd.off[0], &vty) < 0 ||
            fmt_serial_decode(rd.st[1], rec + rd.off[1], &vn) < 0 ||
            fmt_serial_decode(rd.st[2], rec + rd.off[2], &vt) < 0)
            continue;
        if (!((name && value_is_ident(&vn, name)) || (tbl && value_is_ident(&vt, tbl))))
            continue;
        if (type && !value_is_ident(&vty, type))
            continue;
        if (nv == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            int64_t *v = os_realloc(victims, ncap * sizeof *v);
            if (!v) {
                rc = ptxn_error(txn->pt, FOLIO_NOMEM, "out of memory");
                break;
            }
            victims = v;
            cap = ncap;
        }
        victims[nv++] = bt_rowid(&c);
    }
    row_decoder_free(&rd);
    for (size_t i = 0; rc >= 0 && i < nv; i++) {
        rc = bt_seek_rowid(&c, victims[i]);
        if (rc == FOLIO_ROW)
            rc = bt_delete(&c);
    }
    os_free(victims);
    bt_cursor_release(&c);
    return rc < 0 ? rc : 0;
}

/* The catalog entry of this type and name, or NULL. */
static const folio_schema_entry *schema_entry_of(folio_txn *txn, const char *type, const char *name)
{
    for (int i = 0; i < txn->cat->nentries; i++) {
        const folio_schema_entry *e = &txn->cat->entries[i];
        if (e->type && e->name && sch_ident_eq(e->type, type) && sch_ident_eq(e->name, name))
            return e;
    }
    return NULL;
}

/* DROP TRIGGER and DROP VIEW: their rows go (a view's INSTEAD OF triggers
 * with it); a table that loses its last trigger can be written again. */
static int drop_trigger_or_view(folio_txn *txn, int is_view, const char *name, int if_exists)
{
    folio_db *db = txn->db;
    const char *type = is_view ? "view" : "trigger";
    const folio_schema_entry *e = schema_entry_of(txn, type, name);
    if (!e) {
        if (is_view && catalog_find_table(txn->cat, name))
            return db_err(db, FOLIO_ERROR, "use DROP TABLE to delete table %s", name);
        if (if_exists)
            return 0;
        return db_err(db, FOLIO_NOTFOUND_ERR, "no such %s: %s", type, name);
    }
    if (strncmp(name, "sqlite_", 7) == 0 && is_view)
        return db_err(db, FOLIO_MISUSE, "view %s may not be dropped", name);
    char exact[512];
    snprintf(exact, sizeof exact, "%s", e->name);
    int rc = is_view ? schema_delete_rows(txn, exact, exact)
                     : schema_delete_rows_of(txn, "trigger", exact, NULL);
    if (rc == 0)
        rc = bump_cookie(txn);
    if (rc == 0)
        rc = reload_catalog(txn);
    return rc < 0 ? db_err_txn(txn, rc) : 0;
}

/* CREATE TRIGGER: checked as SQLite checks it when it is made (the body's
 * names are resolved when a write fires it, as SQLite resolves them when it
 * prepares the write), stored as SQLite stores it: "CREATE TRIGGER " and the
 * text from the trigger's name on. */
static int create_trigger(folio_txn *txn, const char *sql, const lx_token *after_kw)
{
    folio_db *db = txn->db;
    sch_trigger t;
    char err[256];
    if (sch_parse_trigger(&t, sql, err, sizeof err) < 0)
        return db_err(db, FOLIO_ERROR, "%s", err);
    int rc = 0;
    const lx_token *nm = after_kw;
    if (kw(nm, "IF"))
        nm += 3; /* IF NOT EXISTS */
    if (t.temp) {
        rc = db_err(db, FOLIO_UNSUPPORTED, "TEMP objects are not stored in the file");
        goto out;
    }
    if (t.table_schema && !sch_ident_eq(t.table_schema, "main")) {
        rc = db_err(db, FOLIO_UNSUPPORTED, "unknown database %s", t.table_schema);
        goto out;
    }
    if (schema_entry_of(txn, "trigger", t.name)) {
        rc = t.if_not_exists ? 0 : db_err(db, FOLIO_ERROR, "trigger %s already exists", t.name);
        goto out;
    }
    db_table *tab = catalog_find_table(txn->cat, t.table);
    const folio_schema_entry *view = tab ? NULL : schema_entry_of(txn, "view", t.table);
    if (!tab && !view) {
        rc = db_err(db, FOLIO_ERROR, "no such table: main.%s", t.table);
        goto out;
    }
    if (strncmp(tab ? tab->name : view->name, "sqlite_", 7) == 0 ||
        sch_ident_eq(t.table, "sqlite_master") || sch_ident_eq(t.table, "sqlite_schema")) {
        rc = db_err(db, FOLIO_ERROR, "cannot create trigger on system table");
        goto out;
    }
    if (view && t.timing != SCH_TRIG_INSTEAD_OF) {
        rc = db_err(db, FOLIO_ERROR, "cannot create %s trigger on view: main.%s",
                    t.timing == SCH_TRIG_BEFORE ? "BEFORE" : "AFTER", view->name);
        goto out;
    }
    if (tab && t.timing == SCH_TRIG_INSTEAD_OF) {
        rc = db_err(db, FOLIO_ERROR, "cannot create INSTEAD OF trigger on table: %s", tab->name);
        goto out;
    }
    if (tab && tab->sql && strncmp(tab->sql, "CREATE VIRTUAL", 14) == 0) {
        rc = db_err(db, FOLIO_ERROR, "cannot create triggers on virtual tables");
        goto out;
    }
    /* The text SQLite keeps: from the name to END, trailing ';' dropped. */
    size_t from = (size_t)(nm->z - sql), to = strlen(sql);
    while (to > from && (lx_is_space((unsigned char)sql[to - 1]) || sql[to - 1] == ';'))
        to--;
    size_t n = 15 + (to - from);
    char *text = os_malloc(n + 1);
    if (!text) {
        rc = db_err(db, FOLIO_NOMEM, "out of memory");
        goto out;
    }
    memcpy(text, "CREATE TRIGGER ", 15);
    memcpy(text + 15, sql + from, to - from);
    text[n] = 0;
    rc = schema_insert_row(txn, "trigger", t.name, tab ? tab->name : view->name, 0, text);
    os_free(text);
    if (rc >= 0)
        rc = bump_cookie(txn);
    if (rc >= 0)
        rc = reload_catalog(txn);
    if (rc < 0)
        rc = db_err_txn(txn, rc);
out:
    sch_trigger_free(&t);
    return rc < 0 ? rc : 0;
}

/* SQLite's names for internal use start with "sqlite_", in any case. */
static int name_is_reserved(const char *name)
{
    static const char prefix[] = "sqlite_";
    for (size_t k = 0; k < 7; k++) {
        char c = name[k];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != prefix[k])
            return 0;
    }
    return 1;
}

/* CREATE VIEW: the SELECT is parsed (SQLite's syntax errors) but not
 * resolved: SQLite looks up a view's tables and columns only when it is
 * used. Checked as sqlite3CreateView checks it, in its order: parameters,
 * the name (reserved, taken by a table, view or index), then the schemas
 * its FROM terms name. Stored as SQLite stores it: "CREATE VIEW " and the
 * text from the view's name to the end of the statement. */
static int create_view(folio_txn *txn, const char *sql)
{
    folio_db *db = txn->db;
    sq_view v;
    char err[256];
    if (sq_parse_view(&v, sql, err, sizeof err) < 0)
        return db_err(db, strcmp(err, "out of memory") == 0 ? FOLIO_NOMEM : FOLIO_ERROR, "%s", err);
    int rc = 0;
    const lx_token *nt = &v.t[v.name_tok];
    if (v.nvars > 0) {
        rc = db_err(db, FOLIO_ERROR, "parameters are not allowed in views");
        goto out;
    }
    if (v.temp || (v.schema_name && sch_ident_eq(v.schema_name, "temp"))) {
        rc = db_err(db, FOLIO_UNSUPPORTED,
                    "TEMP views are not stored in the file (folio has no temp schema)");
        goto out;
    }
    if (v.schema_name && !sch_ident_eq(v.schema_name, "main")) {
        rc = db_err(db, FOLIO_ERROR, "unknown database %s", v.schema_name);
        goto out;
    }
    if (name_is_reserved(v.name)) {
        rc = db_err(db, FOLIO_ERROR, "object name reserved for internal use: %s", v.name);
        goto out;
    }
    const folio_schema_entry *old = schema_entry_of(txn, "view", v.name);
    if (old || catalog_find_table(txn->cat, v.name)) {
        if (!v.if_not_exists)
            rc = db_err(db, FOLIO_ERROR, "%s %.*s already exists", old ? "view" : "table",
                        (int)nt->n, nt->z);
        goto out;
    }
    if (catalog_find_index(txn->cat, v.name)) {
        rc = db_err(db, FOLIO_ERROR, "there is already an index named %s", v.name);
        goto out;
    }
    char schema[256];
    if (sq_view_foreign_schema(&v, schema, sizeof schema)) {
        rc = db_err(db, FOLIO_ERROR, "view %.*s cannot reference objects in database %s",
                    (int)nt->n, nt->z, schema);
        goto out;
    }
    if ((rc = ddl_ensure_formatted(txn)) < 0)
        goto out_txn;
    size_t from = (size_t)(nt->z - sql), n = 12 + (v.text_end - from);
    char *text = os_malloc(n + 1);
    if (!text) {
        rc = db_err(db, FOLIO_NOMEM, "out of memory");
        goto out;
    }
    memcpy(text, "CREATE VIEW ", 12);
    memcpy(text + 12, sql + from, v.text_end - from);
    text[n] = 0;
    rc = schema_insert_row(txn, "view", v.name, v.name, 0, text);
    os_free(text);
    if (rc >= 0)
        rc = bump_cookie(txn);
    if (rc >= 0)
        rc = reload_catalog(txn);
out_txn:
    if (rc < 0)
        rc = db_err_txn(txn, rc);
out:
    sq_view_free(&v);
    return rc < 0 ? rc : 0;
}

static int drop_table(folio_txn *txn, const char *name, int if_exists)
{
    folio_db *db = txn->db;
    db_table *tab = catalog_find_table(txn->cat, name);
    if (!tab) {
        const folio_schema_entry *v = schema_entry_of(txn, "view", name);
        if (v) /* as SQLite says it */
            return db_err(db, FOLIO_ERROR, "use DROP VIEW to delete view %s", v->name);
        if (if_exists)
            return 0;
        return db_err(db, FOLIO_NOTFOUND_ERR, "no such table: %s", name);
    }
    if (tab->root == 1 || strncmp(tab->name, "sqlite_", 7) == 0)
        return db_err(db, FOLIO_MISUSE, "table %s may not be dropped", tab->name);
    /* With foreign keys on, SQLite deletes the rows first (actions run). */
    int rc = fk_drop_table(txn, tab);
    if (rc < 0)
        return rc;
    for (int i = 0; i < tab->nidx && rc == 0; i++)
        if (tab->idx[i]->root)
            rc = bt_drop(txn->pt, tab->idx[i]->root);
    if (rc == 0 && tab->root)
        rc = bt_drop(txn->pt, tab->root);
    if (rc == 0)
        rc = schema_delete_rows(txn, NULL, tab->name);
    if (rc == 0 && tab->def.autoincrement) {
        db_table *seq = catalog_find_table(txn->cat, "sqlite_sequence");
        if (seq) {
            /* Drop the table's sequence row. */
            bt_cursor c;
            bt_cursor_init(&c, txn->pt, seq->root, 1);
            row_decoder rd = {0};
            int64_t victim = 0;
            int found = 0;
            for (rc = bt_first(&c); rc == FOLIO_ROW; rc = bt_next(&c)) {
                const uint8_t *rec;
                uint64_t size;
                if ((rc = bt_payload(&c, &rec, &size)) < 0)
                    break;
                fmt_value v;
                if (row_decode(&rd, rec, size, size) == 0 && rd.nfields >= 1 &&
                    fmt_serial_decode(rd.st[0], rec + rd.off[0], &v) == 0 && v.type == FMT_TEXT &&
                    v.u.s.n == strlen(tab->name) && memcmp(v.u.s.p, tab->name, v.u.s.n) == 0) {
                    victim = bt_rowid(&c);
                    found = 1;
                    break;
                }
            }
            if (rc >= 0 && found) {
                rc = bt_seek_rowid(&c, victim);
                if (rc == FOLIO_ROW)
                    rc = bt_delete(&c);
            }
            rc = rc < 0 ? rc : 0;
            row_decoder_free(&rd);
            bt_cursor_release(&c);
        }
    }
    if (rc == 0)
        rc = bump_cookie(txn);
    if (rc == 0)
        rc = reload_catalog(txn);
    return rc < 0 ? db_err_txn(txn, rc) : 0;
}

static int drop_index(folio_txn *txn, const char *name, int if_exists)
{
    folio_db *db = txn->db;
    db_index *ix = catalog_find_index(txn->cat, name);
    if (!ix) {
        if (if_exists)
            return 0;
        return db_err(db, FOLIO_NOTFOUND_ERR, "no such index: %s", name);
    }
    if (ix->is_auto)
        return db_err(db, FOLIO_MISUSE,
                      "index associated with UNIQUE or PRIMARY KEY constraint cannot be dropped");
    int rc = bt_drop(txn->pt, ix->root);
    if (rc == 0)
        rc = schema_delete_rows(txn, ix->name, NULL);
    if (rc == 0)
        rc = bump_cookie(txn);
    if (rc == 0)
        rc = reload_catalog(txn);
    return rc < 0 ? db_err_txn(txn, rc) : 0;
}

static int exec_tokens(folio_txn *txn, const char *sql, lx_token *tk, size_t nt)
{
    folio_db *db = txn->db;
    size_t i = 0;
    char name[512];
    if (kw(&tk[i], "CREATE")) {
        i++;
        if ((kw(&tk[i], "TEMP") || kw(&tk[i], "TEMPORARY")) && kw(&tk[i + 1], "VIEW"))
            return create_view(txn, sql);
        if (kw(&tk[i], "TEMP") || kw(&tk[i], "TEMPORARY"))
            return db_err(db, FOLIO_UNSUPPORTED, "TEMP objects are not stored in the file");
        int unique = 0;
        if (kw(&tk[i], "UNIQUE")) {
            unique = 1;
            i++;
        }
        if (kw(&tk[i], "TABLE") || kw(&tk[i], "INDEX")) {
            int is_table = kw(&tk[i], "TABLE");
            if (is_table && unique)
                return db_err(db, FOLIO_MISUSE, "syntax error near UNIQUE TABLE");
            i++;
            if (kw(&tk[i], "IF") && i + 2 < nt && kw(&tk[i + 1], "NOT") && kw(&tk[i + 2], "EXISTS"))
                i += 3;
            if (tk[i].type == LX_EOF)
                return db_err(db, FOLIO_MISUSE, "syntax error: a name is expected");
            return is_table ? create_table(txn, sql, &tk[i])
                            : create_index(txn, sql, &tk[i], unique);
        }
        if (kw(&tk[i], "TRIGGER"))
            return create_trigger(txn, sql, &tk[i + 1]);
        if (kw(&tk[i], "VIEW"))
            return create_view(txn, sql);
        if (kw(&tk[i], "VIRTUAL"))
            return db_err(db, FOLIO_UNSUPPORTED, "CREATE %.*s is not supported by folio",
                          (int)tk[i].n, tk[i].z);
        return db_err(db, FOLIO_MISUSE, "syntax error: CREATE TABLE or CREATE INDEX expected");
    }
    if (kw(&tk[i], "ALTER"))
        return alter_exec(txn, sql, tk, nt);
    if (kw(&tk[i], "DROP")) {
        i++;
        int is_table = kw(&tk[i], "TABLE"), is_index = kw(&tk[i], "INDEX");
        int is_view = kw(&tk[i], "VIEW"), is_trigger = kw(&tk[i], "TRIGGER");
        if (!is_table && !is_index && !is_view && !is_trigger)
            return db_err(db, FOLIO_MISUSE,
                          "syntax error: DROP TABLE, INDEX, VIEW or TRIGGER expected");
        i++;
        int if_exists = 0;
        if (kw(&tk[i], "IF") && i + 1 < nt && kw(&tk[i + 1], "EXISTS")) {
            if_exists = 1;
            i += 2;
        }
        if (ident(&tk[i], name, sizeof name) < 0)
            return db_err(db, FOLIO_MISUSE, "syntax error: a name is expected after DROP");
        i++;
        if (tk[i].type == LX_DOT) {
            /* schema.name: only main */
            if (!sch_ident_eq(name, "main"))
                return db_err(db, FOLIO_UNSUPPORTED, "unknown database %s", name);
            i++;
            if (ident(&tk[i], name, sizeof name) < 0)
                return db_err(db, FOLIO_MISUSE, "syntax error: a name is expected after DROP");
            i++;
        }
        if (tk[i].type == LX_SEMI)
            i++;
        if (tk[i].type != LX_EOF)
            return db_err(db, FOLIO_MISUSE, "syntax error near \"%.*s\"", (int)tk[i].n, tk[i].z);
        if (is_view || is_trigger)
            return drop_trigger_or_view(txn, is_view, name, if_exists);
        return is_table ? drop_table(txn, name, if_exists) : drop_index(txn, name, if_exists);
    }
    return db_err(db, FOLIO_MISUSE,
                  "folio_exec runs CREATE TABLE, CREATE INDEX, ALTER TABLE and DROP TABLE, "
                  "INDEX, VIEW and TRIGGER only");
}

int ddl_reload_catalog(folio_txn *txn)
{
    return reload_catalog(txn);
}

int folio_exec(folio_txn *txn, const char *ddl)
{
    if (!txn)
        return FOLIO_MISUSE;
    TXN_ON_TIME(txn);
    folio_db *db = txn->db;
    FOLIO_CHECK_ARG(db, ddl != NULL);
    if (txn->pt)
        ptxn_clear_error(txn->pt);
    int rc = 0;
    if (txn->conc && (rc = db_txn_upgrade(txn, "DDL")) < 0)
        return rc;
    /* DDL reloads the catalog and the write state: deferred entries first. */
    rc = write_flush(txn, NULL);
    if (rc < 0)
        return rc;
    rc = write_begin(txn, NULL);
    if (rc < 0)
        return rc;
    lx_token *tk = NULL;
    size_t nt = 0;
    char err[256];
    if (lx_tokenize(ddl, strlen(ddl), &tk, &nt, err, sizeof err) < 0) {
        /* CREATE VIEW reports an unrecognized token where SQLite's parser
         * gets to it (an error before it comes first). */
        if (lx_tokenize_illegal(ddl, strlen(ddl), &tk, &nt, NULL, 0) == 0) {
            size_t i = kw(&tk[0], "CREATE") ? 1 : nt;
            if (i < nt && (kw(&tk[i], "TEMP") || kw(&tk[i], "TEMPORARY")))
                i++;
            int is_view = i < nt && kw(&tk[i], "VIEW");
            os_free(tk);
            tk = NULL;
            if (is_view) {
                nt = 0;
                goto run;
            }
        }
        rc = db_err(db, FOLIO_MISUSE, "%s", err);
        return write_end(txn, rc);
    }
run:;
    size_t log_at;
    ptxn_log(txn->pt, &log_at);
    rc = tk ? exec_tokens(txn, ddl, tk, nt) : create_view(txn, ddl);
    os_free(tk);
    if (rc >= 0 && ptxn_logs_changes(txn->pt) && !txn->conc) {
        /* The commit log's record of the statement, after what it did; its
         * rowid field says how many bytes of change entries before it the
         * statement made (the rows DROP COLUMN rewrites, the deletes of
         * DROP TABLE with foreign keys on): a replica's own DDL does the
         * same to the table it names (feed.c). */
        size_t n = strlen(ddl), log_now;
        ptxn_log(txn->pt, &log_now);
        bt_log_entry e = {CLOG_DDL, 0, 0, 0, (int64_t)(log_now - log_at), 0, n};
        if ((rc = ptxn_log_append(txn->pt, &e, sizeof e)) == 0)
            rc = ptxn_log_append(txn->pt, ddl, n);
        if (rc < 0)
            rc = db_err_txn(txn, rc);
    }
    rc = write_end(txn, rc);
    if (rc < 0) {
        /* The catalog may describe undone changes: read it again. */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", folio_errmsg(db));
        if (!txn->poisoned && reload_catalog(txn) < 0)
            txn->poisoned = 1;
        db_err(db, rc, "%s", msg);
    }
    return rc;
}
