/*
 * alter.c - folio_exec's ALTER TABLE: ADD COLUMN, RENAME TO, RENAME COLUMN
 * and DROP COLUMN, by SQLite 3.40's rules, with its messages and the same
 * stored SQL text, byte for byte.
 *
 * SQLite edits the CREATE statements kept in sqlite_schema rather than
 * writing them anew, and so does folio:
 *   - ADD COLUMN inserts ", <column definition as written>" where the column
 *     list ends (before the first table constraint, else before the closing
 *     parenthesis); no row changes (older rows read the DEFAULT);
 *   - RENAME TO replaces, with the new name in double quotes, the table's
 *     name in its CREATE TABLE, the table qualifiers of its CHECK
 *     constraints, every REFERENCES to it (in any table), the ON of its
 *     indexes and triggers and the qualifiers of its partial indexes' WHERE;
 *     sqlite_schema's name and tbl_name columns, the names of its automatic
 *     indexes and its sqlite_sequence row follow;
 *   - RENAME COLUMN replaces the column's name where it is defined and
 *     wherever it is used: CHECK and generated-column expressions, PRIMARY
 *     KEY and UNIQUE column lists, FOREIGN KEY columns and the REFERENCES of
 *     any table to it, the keys and WHERE of its indexes. The new name is
 *     written as given when it was not quoted in the ALTER statement and the
 *     replaced word was not quoted either, else in double quotes;
 *   - DROP COLUMN cuts the column's definition out of the CREATE TABLE and
 *     rewrites every row without the column's field.
 * RENAME COLUMN and DROP COLUMN first turn the double-quoted strings of the
 * schema's expressions ("abc" where no column of that name exists) into
 * single-quoted ones, as SQLite does.
 *
 * Where a word stands in the text is found from the tokens: folio's schema
 * expressions (CHECK, generated columns, index keys and WHERE) hold no
 * subqueries, so a name that is not a function, a COLLATE name or a CAST
 * type is a column, qualified or not. Triggers and views are rewritten too,
 * their names resolved as SQLite resolves them (alter_trig.c, alter_view.c);
 * every view must resolve before the statement and after it, as SQLite
 * checks. A statement that needs the rewrite of a part of a view or trigger
 * folio cannot resolve as SQLite does (one that names the table or column,
 * or holds a double-quoted word that may be a string) is refused with
 * FOLIO_UNSUPPORTED naming the part.
 *
 * Every statement checks the schema it leaves: the altered CREATE TABLE
 * parses and its expressions compile, its indexes name only columns that
 * remain; else the error is SQLite's ("error in index i after drop column:
 * no such column: c"). The whole statement runs inside folio_exec's
 * statement: a failure leaves nothing changed.
 */
#include "db/alter_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the statement ---- */

/* A parse that failed for want of memory is FOLIO_NOMEM, not a bad statement. */
static int parse_rc(const char *err)
{
    return strcmp(err, "out of memory") == 0 ? FOLIO_NOMEM : FOLIO_ERROR;
}

static void op_free(alter_op *op)
{
    os_free(op->oldname);
    os_free(op->newname);
    os_free(op->table_sql);
    if (op->newdef_valid)
        sch_table_free(&op->newdef);
    memset(op, 0, sizeof *op);
}

static const char *op_when(const alter_op *op)
{
    return op->kind == OP_DROP  ? "after drop column"
           : op->kind == OP_ADD ? "after add column"
                                : "after rename";
}

char *alter_column_text(const alter_op *op, const lx_token *t)
{
    if (!op->bquote && lx_is_idchar((unsigned char)t->z[0])) {
        size_t n = strlen(op->newname);
        char *r = os_malloc(n + 1);
        if (r)
            memcpy(r, op->newname, n + 1);
        return r;
    }
    return asql_quoted_name(op->newname, t->z[t->n] == '"');
}

/* Whether the word at k names the altered column of the altered table
 * (`own`: the statement is the table's or one of its indexes). */
static int names_column(const alter_op *op, const stmt *s, size_t k, int own)
{
    const char *cname = op->tab->def.cols[op->col].name;
    if (!asql_tok_eq(&s->t[k], cname))
        return 0;
    switch (s->role[k]) {
    case R_COLNAME:
        return 0; /* handled by position */
    case R_CHECK:
    case R_GEN:
    case R_TKEYS:
    case R_IKEYS:
    case R_WHERE:
        return own && s->cls[k] == C_COL &&
               (s->aux[k] == NO_TOKEN || asql_tok_eq(&s->t[s->aux[k]], op->oldname));
    case R_FK_FROM:
        return own && s->role[k] == R_FK_FROM;
    case R_FK_TO:
        return s->aux[k] != NO_TOKEN && asql_tok_eq(&s->t[s->aux[k]], op->oldname);
    default:
        return 0;
    }
}

/* The edits of a CREATE TABLE for the statement. `own`: it is the altered
 * table's. */
static int table_edits(const alter_op *op, stmt *s, const tscan *ts, int own, edits *e)
{
    int rc = 0;
    if (op->kind == OP_RENAME_TABLE) {
        for (size_t k = 0; k < s->n && rc == 0; k++) {
            int hit = 0;
            if (own && k == ts->name)
                hit = 1;
            else if (s->role[k] == R_FK_TABLE && asql_tok_eq(&s->t[k], op->oldname))
                hit = 1;
            else if (own && s->role[k] == R_CHECK && s->cls[k] == C_QUAL &&
                     asql_tok_eq(&s->t[k], op->oldname))
                hit = 1;
            if (hit)
                rc = asql_edits_add(e, asql_tok_off(s, k), s->t[k].n,
                                    asql_quoted_name(op->newname, s->t[k].z[s->t[k].n] == '"'));
        }
        return rc;
    }
    if (op->kind == OP_RENAME_COLUMN || op->kind == OP_DROP)
        rc = asql_quotefix_edits(s, e);
    if (rc == 0 && op->kind == OP_RENAME_COLUMN) {
        for (size_t k = 0; k < s->n && rc == 0; k++) {
            int hit = own && s->role[k] == R_COLNAME && k == ts->coltok[op->col];
            if (hit || names_column(op, s, k, own))
                rc = asql_edits_add(e, asql_tok_off(s, k), s->t[k].n,
                                    alter_column_text(op, &s->t[k]));
        }
    }
    if (rc == 0 && op->kind == OP_DROP && own) {
        /* Cut from the column's name to the next one's; the last column from
         * the comma after the one before it to the end of the columns. */
        size_t from, to;
        if (op->col < ts->ncols - 1) {
            from = asql_tok_off(s, ts->coltok[op->col]);
            to = asql_tok_off(s, ts->coltok[op->col + 1]);
        } else {
            from = asql_tok_off(s, ts->colend[op->col - 1]);
            to = ts->add_off;
        }
        char *empty = os_calloc(1, 1);
        rc = asql_edits_add(e, from, to - from, empty);
    }
    return rc;
}

/* The edits of a CREATE INDEX of the altered table. */
static int index_edits(const alter_op *op, stmt *s, edits *e)
{
    int rc = 0;
    if (op->kind == OP_RENAME_TABLE) {
        for (size_t k = 0; k < s->n && rc == 0; k++)
            if (s->role[k] == R_IDX_ON || (s->role[k] == R_WHERE && s->cls[k] == C_QUAL &&
                                           asql_tok_eq(&s->t[k], op->oldname)))
                rc = asql_edits_add(e, asql_tok_off(s, k), s->t[k].n,
                                    asql_quoted_name(op->newname, s->t[k].z[s->t[k].n] == '"'));
        return rc;
    }
    if (op->kind == OP_RENAME_COLUMN || op->kind == OP_DROP)
        rc = asql_quotefix_edits(s, e);
    if (rc == 0 && op->kind == OP_RENAME_COLUMN)
        for (size_t k = 0; k < s->n && rc == 0; k++)
            if (names_column(op, s, k, 1))
                rc = asql_edits_add(e, asql_tok_off(s, k), s->t[k].n,
                                    alter_column_text(op, &s->t[k]));
    return rc;
}

/* Whether `name` is the name of a schema object or of a column of a table:
 * a double-quoted word in a view or trigger that is one is taken for an
 * identifier. */
static int known_name(db_catalog *cat, const lx_token *t)
{
    for (int i = 0; i < cat->nentries; i++)
        if (asql_tok_eq(t, cat->entries[i].name))
            return 1;
    for (int i = 0; i < cat->ntables; i++)
        if (cat->tables[i]->parsed && asql_has_column_tok(&cat->tables[i]->def, t))
            return 1;
    return 0;
}

int alter_refuse_named(folio_txn *txn, const alter_op *op, const char *type, const char *name,
                       const stmt *s, size_t lo, size_t hi, size_t on)
{
    const char *what = op->kind == OP_RENAME_TABLE ? op->oldname : op->tab->def.cols[op->col].name;
    const char *why = strcmp(type, "view") == 0
                          ? "folio does not rewrite the SQL of views"
                          : "folio cannot resolve the names of that part of the trigger";
    for (size_t k = 0; k < s->n; k++) {
        const lx_token *t = &s->t[k];
        size_t off = asql_tok_off(s, k);
        if (off < lo || off >= hi || k == on)
            continue;
        if (t->type != LX_ID && t->type != LX_QID && t->type != LX_STRING)
            continue;
        if (asql_tok_eq(t, what))
            return db_err(txn->db, FOLIO_UNSUPPORTED, "%s %s names %s: %s", type, name, what, why);
        if (op->kind != OP_RENAME_TABLE && t->type == LX_QID && t->z[0] == '"' &&
            !(k > 0 && asql_word(&s->t[k - 1], "AS")) && !known_name(txn->cat, t))
            return db_err(txn->db, FOLIO_UNSUPPORTED,
                          "%s %s has the double-quoted word %.*s, which SQLite may rewrite as a "
                          "string: %s",
                          type, name, (int)t->n, t->z, why);
    }
    return 0;
}

/* An index of the altered table after DROP COLUMN must not use the column. */
static int index_uses_dropped(const alter_op *op, const stmt *s)
{
    for (size_t k = 0; k < s->n; k++)
        if ((s->role[k] == R_IKEYS || s->role[k] == R_WHERE) && s->cls[k] == C_COL &&
            asql_tok_eq(&s->t[k], op->tab->def.cols[op->col].name) &&
            (s->aux[k] == NO_TOKEN || asql_tok_eq(&s->t[s->aux[k]], op->oldname)))
            return 1;
    return 0;
}

/*
 * The new text of one sqlite_schema row's SQL for the statement, in *out
 * (NULL: unchanged). `own`: the row is the altered table's or one of its
 * indexes or triggers.
 */
static int entry_sql(folio_txn *txn, alter_op *op, const char *type, const char *name,
                     const char *tbl, const char *sql, char **out)
{
    *out = NULL;
    folio_db *db = txn->db;
    if (!sql || asql_name_is_internal(name))
        return 0;
    if (op->kind == OP_ADD)
        return 0;
    int own = sch_ident_eq(tbl, op->oldname);
    int is_table = strcmp(type, "table") == 0, is_index = strcmp(type, "index") == 0;
    if (is_index && !own)
        return 0;
    stmt s;
    int rc = asql_stmt_open(&s, sql);
    if (rc < 0)
        return rc == FOLIO_NOMEM
                   ? db_err(db, rc, "out of memory")
                   : db_err(db, FOLIO_CORRUPT, "malformed schema SQL of %s %s", type, name);
    edits e = {0};
    if (is_table) {
        tscan ts;
        if ((rc = asql_scan_table(&s, &ts)) < 0) {
            asql_stmt_close(&s);
            return rc == FOLIO_NOMEM
                       ? db_err(db, rc, "out of memory")
                       : db_err(db, FOLIO_CORRUPT, "malformed CREATE TABLE of %s", name);
        }
        if (ts.is_virtual) {
            asql_stmt_close(&s);
            return 0;
        }
        db_table *t = catalog_find_table(txn->cat, name);
        if (t && t->parsed)
            asql_mark_dqs(&s, &t->def);
        rc = table_edits(op, &s, &ts, own, &e);
        asql_tscan_free(&ts);
    } else if (is_index) {
        if ((rc = asql_scan_index(&s)) < 0) {
            asql_stmt_close(&s);
            return rc == FOLIO_NOMEM
                       ? db_err(db, rc, "out of memory")
                       : db_err(db, FOLIO_CORRUPT, "malformed CREATE INDEX of %s", name);
        }
        asql_mark_dqs(&s, &op->tab->def);
        if (op->kind == OP_DROP && index_uses_dropped(op, &s)) {
            rc = db_err(db, FOLIO_ERROR, "error in index %s %s: no such column: %s", name,
                        op_when(op), op->tab->def.cols[op->col].name);
            asql_stmt_close(&s);
            return rc;
        }
        rc = index_edits(op, &s, &e);
    } else if (strcmp(type, "view") == 0 || strcmp(type, "trigger") == 0) {
        if (type[0] == 'v') {
            char why[256];
            rc = alter_view_edits(txn, op, name, sql, &e, why, sizeof why);
            if (rc == 1) {
                /* What folio cannot resolve: the view stays as it is when
                 * no word of it names what changes, else the statement is
                 * refused. */
                asql_edits_free(&e);
                memset(&e, 0, sizeof e);
                rc = alter_refuse_named(txn, op, type, name, &s, 0, strlen(sql), NO_TOKEN);
                if (rc < 0 && rc != FOLIO_NOMEM)
                    rc = db_err(txn->db, FOLIO_UNSUPPORTED,
                                "view %s names %s, and folio cannot resolve %s in it as SQLite "
                                "does",
                                name,
                                op->kind == OP_RENAME_TABLE ? op->oldname
                                                            : op->tab->def.cols[op->col].name,
                                why);
            }
        } else
            rc = alter_trigger_edits(txn, op, name, &s, &e);
        if (rc < 0) {
            asql_edits_free(&e);
            asql_stmt_close(&s);
            return rc;
        }
    }
    if (rc == 0 && e.n > 0 && !(*out = asql_edits_apply(sql, &e)))
        rc = FOLIO_NOMEM;
    asql_edits_free(&e);
    asql_stmt_close(&s);
    if (rc == FOLIO_NOMEM)
        return db_err(db, rc, "out of memory");
    return rc;
}

/* ---- writing sqlite_schema ---- */

typedef struct schema_change {
    int64_t rowid;
    uint8_t *rec;
    uint64_t size;
} schema_change;

static int text_value(fmt_value *v, const char *s)
{
    if (!s) {
        v->type = FMT_NULL;
        return 0;
    }
    v->type = FMT_TEXT;
    v->u.s.p = (const uint8_t *)s;
    v->u.s.n = strlen(s);
    return 0;
}

/* The new name and tbl_name of a row for RENAME TO (NULL: unchanged). */
static int entry_names(const alter_op *op, const char *type, const char *name, const char *tbl,
                       char **out_name, char **out_tbl)
{
    *out_name = *out_tbl = NULL;
    if (op->kind != OP_RENAME_TABLE || !sch_ident_eq(tbl, op->oldname))
        return 0;
    int is_table = strcmp(type, "table") == 0, is_index = strcmp(type, "index") == 0;
    if (!is_table && !is_index && strcmp(type, "trigger") != 0)
        return 0;
    size_t nn = strlen(op->newname);
    if (!(*out_tbl = os_malloc(nn + 1)))
        return FOLIO_NOMEM;
    memcpy(*out_tbl, op->newname, nn + 1);
    static const char auto_prefix[] = "sqlite_autoindex_";
    size_t np = sizeof auto_prefix - 1, no = strlen(op->oldname);
    if (is_table) {
        if (!(*out_name = os_malloc(nn + 1)))
            return FOLIO_NOMEM;
        memcpy(*out_name, op->newname, nn + 1);
    } else if (is_index && strlen(name) >= np + no && asql_has_prefix(name, auto_prefix)) {
        const char *rest = name + np + no;
        size_t nr = strlen(rest);
        if (!(*out_name = os_malloc(np + nn + nr + 1)))
            return FOLIO_NOMEM;
        memcpy(*out_name, auto_prefix, np);
        memcpy(*out_name + np, op->newname, nn);
        memcpy(*out_name + np + nn, rest, nr + 1);
    }
    return 0;
}

/* Decode a TEXT field as a NUL-terminated copy (NULL for NULL). */
static int field_text(const row_decoder *rd, const uint8_t *rec, int f, char **out)
{
    *out = NULL;
    fmt_value v;
    if ((uint32_t)f >= rd->nfields || fmt_serial_decode(rd->st[f], rec + rd->off[f], &v) < 0)
        return FOLIO_CORRUPT;
    if (v.type == FMT_NULL)
        return 0;
    if (v.type != FMT_TEXT)
        return FOLIO_CORRUPT;
    if (!(*out = os_malloc((size_t)v.u.s.n + 1)))
        return FOLIO_NOMEM;
    memcpy(*out, v.u.s.p, (size_t)v.u.s.n);
    (*out)[v.u.s.n] = 0;
    return 0;
}

/*
 * Walk sqlite_schema: every row the statement changes is collected first
 * (with the check of what it leaves), then written.
 */
static int rewrite_schema(folio_txn *txn, alter_op *op)
{
    folio_db *db = txn->db;
    bt_cursor c;
    bt_cursor_init(&c, txn->pt, 1, 1);
    row_decoder rd = {0};
    schema_change *ch = NULL;
    size_t nch = 0, cap = 0;
    int rc;
    for (rc = bt_first(&c); rc == FOLIO_ROW; rc = bt_next(&c)) {
        const uint8_t *rec;
        uint64_t size;
        char *f[5] = {NULL, NULL, NULL, NULL, NULL}; /* type, name, tbl_name, -, sql */
        char *nsql = NULL, *nname = NULL, *ntbl = NULL;
        fmt_value root;
        if ((rc = bt_payload(&c, &rec, &size)) < 0)
            break;
        if ((rc = row_decode(&rd, rec, size, size)) < 0 || rd.nfields < 5 ||
            fmt_serial_decode(rd.st[3], rec + rd.off[3], &root) < 0) {
            rc = rc == FOLIO_NOMEM ? db_err(db, rc, "out of memory")
                                   : bt_corrupt_here(&c, "malformed sqlite_schema row");
            break;
        }
        for (int k = 0; k < 5 && rc == 0; k++)
            if (k != 3)
                rc = field_text(&rd, rec, k, &f[k]);
        if (rc < 0 || !f[0] || !f[1] || !f[2]) {
            for (int k = 0; k < 5; k++)
                os_free(f[k]);
            rc = rc == FOLIO_NOMEM ? db_err(db, rc, "out of memory")
                                   : bt_corrupt_here(&c, "malformed sqlite_schema row");
            break;
        }
        int target = strcmp(f[0], "table") == 0 && sch_ident_eq(f[1], op->oldname);
        if (target && op->table_sql) {
            size_t n = strlen(op->table_sql);
            if ((nsql = os_malloc(n + 1)))
                memcpy(nsql, op->table_sql, n + 1);
            else
                rc = db_err(db, FOLIO_NOMEM, "out of memory");
        } else if (!target) {
            rc = entry_sql(txn, op, f[0], f[1], f[2], f[4], &nsql);
        }
        if (rc == 0 && entry_names(op, f[0], f[1], f[2], &nname, &ntbl) < 0)
            rc = db_err(db, FOLIO_NOMEM, "out of memory");
        if (rc == 0 && (nsql || nname || ntbl)) {
            fmt_value v[5];
            text_value(&v[0], f[0]);
            text_value(&v[1], nname ? nname : f[1]);
            text_value(&v[2], ntbl ? ntbl : f[2]);
            v[3] = root;
            text_value(&v[4], nsql ? nsql : f[4]);
            if (nch == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                schema_change *nv = os_realloc(ch, sizeof *nv * ncap);
                if (!nv)
                    rc = db_err(db, FOLIO_NOMEM, "out of memory");
                else {
                    ch = nv;
                    cap = ncap;
                }
            }
            if (rc == 0) {
                uint64_t sz = fmt_record_size(v, 5, 4);
                uint8_t *buf = os_malloc((size_t)sz);
                if (!buf) {
                    rc = db_err(db, FOLIO_NOMEM, "out of memory");
                } else {
                    fmt_record_encode(buf, v, 5, 4);
                    ch[nch++] = (schema_change){bt_rowid(&c), buf, sz};
                }
            }
        }
        for (int k = 0; k < 5; k++)
            os_free(f[k]);
        os_free(nsql);
        os_free(nname);
        os_free(ntbl);
        if (rc < 0)
            break;
    }
    row_decoder_free(&rd);
    if (rc == FOLIO_DONE)
        rc = 0;
    for (size_t i = 0; rc == 0 && i < nch; i++) {
        bt_cursor_reset(&c);
        rc = bt_insert_row(&c, ch[i].rowid, ch[i].rec, ch[i].size);
        if (rc < 0)
            rc = db_err_txn(txn, rc);
    }
    for (size_t i = 0; i < nch; i++)
        os_free(ch[i].rec);
    os_free(ch);
    bt_cursor_release(&c);
    return rc < 0 ? rc : 0;
}

/* RENAME TO: the table's sqlite_sequence row takes the new name. */
static int rename_sequence(folio_txn *txn, const alter_op *op)
{
    db_table *seq = catalog_find_table(txn->cat, "sqlite_sequence");
    if (!seq)
        return 0;
    bt_cursor c;
    bt_cursor_init(&c, txn->pt, seq->root, 1);
    row_decoder rd = {0};
    int rc;
    int64_t rowid = 0;
    fmt_value v[2];
    int found = 0;
    size_t no = strlen(op->oldname);
    for (rc = bt_first(&c); rc == FOLIO_ROW; rc = bt_next(&c)) {
        const uint8_t *rec;
        uint64_t size;
        if ((rc = bt_payload(&c, &rec, &size)) < 0)
            break;
        if (row_decode(&rd, rec, size, size) < 0 || rd.nfields < 2 ||
            fmt_serial_decode(rd.st[0], rec + rd.off[0], &v[0]) < 0 ||
            fmt_serial_decode(rd.st[1], rec + rd.off[1], &v[1]) < 0)
            continue;
        if (v[0].type == FMT_TEXT && v[0].u.s.n == no && memcmp(v[0].u.s.p, op->oldname, no) == 0) {
            rowid = bt_rowid(&c);
            found = 1;
            break;
        }
    }
    row_decoder_free(&rd);
    if (rc == FOLIO_DONE)
        rc = 0;
    if (rc >= 0 && found) {
        text_value(&v[0], op->newname);
        uint64_t sz = fmt_record_size(v, 2, 4);
        uint8_t *buf = os_malloc((size_t)sz);
        if (!buf) {
            bt_cursor_release(&c);
            return db_err(txn->db, FOLIO_NOMEM, "out of memory");
        }
        fmt_record_encode(buf, v, 2, 4); /* v[1] still points into the page: encode first */
        bt_cursor_reset(&c);
        rc = bt_insert_row(&c, rowid, buf, sz);
        os_free(buf);
    }
    bt_cursor_release(&c);
    return rc < 0 ? db_err_txn(txn, rc) : 0;
}

/* The schema cookie changes; ADD COLUMN makes the file format at least 3
 * (but never raises a lower one to 4, which would change how older DESC
 * indexes read), as SQLite does. */
static int alter_bump_cookie(folio_txn *txn, int add_column)
{
    fmt_dbheader h = *ptxn_header(txn->pt);
    h.schema_cookie++;
    if (add_column && h.schema_format < 3)
        h.schema_format = 3;
    txn->schema_changed = 1;
    int rc = ptxn_header_update(txn->pt, &h);
    return rc < 0 ? db_err_txn(txn, rc) : 0;
}

/* ---- DROP COLUMN: the rows ---- */

/* The record without field `f` into *buf (grown). A record that has no such
 * field (written before the column was added) stays as it is. */
static int record_without(row_decoder *rd, const uint8_t *rec, uint64_t size, int f, uint8_t **buf,
                          size_t *cap, uint64_t *out_size)
{
    int rc = row_decode(rd, rec, size, size);
    if (rc < 0)
        return rc;
    uint64_t need = size + 2;
    if (need > *cap) {
        uint8_t *b = os_realloc(*buf, (size_t)need);
        if (!b)
            return FOLIO_NOMEM;
        *buf = b;
        *cap = (size_t)need;
    }
    if ((uint32_t)f >= rd->nfields) {
        memcpy(*buf, rec, (size_t)size);
        *out_size = size;
        return 0;
    }
    uint64_t hdr = 0;
    for (uint32_t i = 0; i < rd->nfields; i++)
        if (i != (uint32_t)f)
            hdr += (uint64_t)fmt_varint_len(rd->st[i]);
    int empty = rd->nfields == 1; /* SQLite writes one NULL rather than no field */
    if (empty)
        hdr = 1;
    int hl = 1;
    while (fmt_varint_len(hdr + (uint64_t)hl) != hl)
        hl++;
    uint8_t *o = *buf;
    o += fmt_varint_put(o, hdr + (uint64_t)hl);
    if (empty)
        *o++ = 0;
    for (uint32_t i = 0; i < rd->nfields; i++)
        if (i != (uint32_t)f)
            o += fmt_varint_put(o, rd->st[i]);
    uint64_t fsz = fmt_serial_size(rd->st[f]);
    uint64_t end = rd->off[rd->nfields - 1] + fmt_serial_size(rd->st[rd->nfields - 1]);
    if (end > size || rd->off[f] + fsz > size)
        return FOLIO_CORRUPT;
    memcpy(o, rec + rd->off[0], (size_t)(rd->off[f] - rd->off[0]));
    o += rd->off[f] - rd->off[0];
    memcpy(o, rec + rd->off[f] + fsz, (size_t)(end - rd->off[f] - fsz));
    o += end - rd->off[f] - fsz;
    *out_size = (uint64_t)(o - *buf);
    return 0;
}

/* Copy the tree `from` into the empty tree `to` in key order, each record
 * without field `f` (f < 0: as it is). */
static int copy_tree(folio_txn *txn, uint32_t from, uint32_t to, int intkey, int f)
{
    bt_cursor c;
    bt_cursor_init(&c, txn->pt, from, intkey);
    bt_builder *b = NULL;
    row_decoder rd = {0};
    uint8_t *buf = NULL;
    size_t cap = 0;
    int rc = bt_builder_open(&b, txn->pt, to, intkey);
    if (rc == 0) {
        for (rc = bt_first(&c); rc == FOLIO_ROW; rc = bt_next(&c)) {
            const uint8_t *rec;
            uint64_t size, nsize;
            if ((rc = bt_payload(&c, &rec, &size)) < 0)
                break;
            if (f >= 0) {
                if ((rc = record_without(&rd, rec, size, f, &buf, &cap, &nsize)) < 0) {
                    if (rc != FOLIO_NOMEM)
                        rc = bt_corrupt_here(&c, "malformed record");
                    break;
                }
            } else {
                if (size > cap) {
                    uint8_t *nb = os_realloc(buf, (size_t)size);
                    if (!nb) {
                        rc = FOLIO_NOMEM;
                        break;
                    }
                    buf = nb;
                    cap = (size_t)size;
                }
                memcpy(buf, rec, (size_t)size);
                nsize = size;
            }
            rc = intkey ? bt_builder_add_row(b, bt_rowid(&c), buf, nsize)
                        : bt_builder_add_key(b, buf, nsize);
            if (rc < 0)
                break;
        }
        if (rc == FOLIO_DONE)
            rc = bt_builder_finish(b);
    }
    bt_builder_free(b);
    bt_cursor_release(&c);
    row_decoder_free(&rd);
    os_free(buf);
    if (rc == FOLIO_NOMEM)
        return ptxn_error(txn->pt, rc, "out of memory rewriting the rows");
    return rc < 0 ? rc : 0;
}

/* Every row of the table without the column's field: into a new tree, then
 * back into the table's own root, which keeps its page number. */
static int drop_column_rows(folio_txn *txn, db_table *tab, int field)
{
    int intkey = !tab->def.without_rowid;
    uint32_t tmp;
    int rc = bt_create(txn->pt, intkey, &tmp);
    if (rc == 0)
        rc = copy_tree(txn, tab->root, tmp, intkey, field);
    if (rc == 0)
        rc = bt_clear(txn->pt, tab->root, intkey);
    if (rc == 0)
        rc = copy_tree(txn, tmp, tab->root, intkey, -1);
    if (rc == 0)
        rc = bt_drop(txn->pt, tmp);
    return rc < 0 ? db_err_txn(txn, rc) : 0;
}

/* ---- ADD COLUMN ---- */

/* Whether a DEFAULT is one SQLite can take as a value without running it: a
 * literal, with signs, parentheses, CAST and COLLATE around it. Tokens
 * [*k, end) from *k; moves *k past the value. */
static int constant_value(const stmt *s, size_t *k, size_t end)
{
    const lx_token *t = &s->t[*k];
    if (*k >= end)
        return 0;
    if (t->type == LX_PLUS || t->type == LX_MINUS) {
        (*k)++;
        return constant_value(s, k, end);
    }
    if (t->type == LX_LP) {
        size_t m = s->match[*k];
        (*k)++;
        if (!constant_value(s, k, m) || *k != m)
            return 0;
        *k = m + 1;
    } else if (asql_word(t, "CAST") && s->t[*k + 1].type == LX_LP) {
        size_t m = s->match[*k + 1];
        *k += 2;
        if (!constant_value(s, k, m) || !asql_word(&s->t[*k], "AS"))
            return 0;
        *k = m + 1;
    } else if (t->type == LX_INTEGER || t->type == LX_FLOAT || t->type == LX_STRING ||
               t->type == LX_BLOB || asql_word(t, "NULL") || asql_word(t, "TRUE") ||
               asql_word(t, "FALSE")) {
        (*k)++;
    } else {
        return 0;
    }
    while (*k + 1 < end && asql_word(&s->t[*k], "COLLATE"))
        *k += 2;
    return 1;
}

static int default_is_constant(const sch_default *d)
{
    if (d->kind == SCH_DFLT_CURRENT_TIME || d->kind == SCH_DFLT_CURRENT_DATE ||
        d->kind == SCH_DFLT_CURRENT_TIMESTAMP)
        return 0;
    if (d->kind != SCH_DFLT_EXPR)
        return 1;
    stmt s;
    if (!d->p || asql_stmt_open(&s, d->p) < 0)
        return 0;
    size_t k = 0, end = s.n - 1;
    int ok = constant_value(&s, &k, end) && k == end;
    asql_stmt_close(&s);
    return ok;
}

static int table_is_empty(folio_txn *txn, const db_table *tab, int *out)
{
    bt_cursor c;
    bt_cursor_init(&c, txn->pt, tab->root, !tab->def.without_rowid);
    int rc = bt_first(&c);
    bt_cursor_release(&c);
    if (rc < 0)
        return db_err_txn(txn, rc);
    *out = rc == FOLIO_DONE;
    return 0;
}

/* After ADD COLUMN with a CHECK or a NOT NULL generated column: every row
 * still meets the table's CHECK and NOT NULL constraints (SQLite runs its
 * quick_check and names no constraint). */
static int check_rows(folio_txn *txn, const char *name)
{
    db_table *tab = catalog_find_table(txn->cat, name);
    table_state *ts;
    if (!tab)
        return db_err(txn->db, FOLIO_ERROR, "table %s vanished after ALTER TABLE", name);
    int rc = table_state_get(&ts, txn, tab);
    if (rc < 0)
        return db_err(txn->db, rc, "out of memory");
    for (rc = bt_first(&ts->c); rc == FOLIO_ROW; rc = bt_next(&ts->c)) {
        if ((rc = load_old_row(txn, ts)) < 0)
            return db_err_txn(txn, rc);
        int64_t rowid = tab->def.without_rowid ? 0 : bt_rowid(&ts->c);
        row_vals keep = ts->newrow;
        ts->newrow = ts->oldrow;
        ts->oldrow = keep;
        rc = check_row(txn, ts, rowid);
        keep = ts->newrow;
        ts->newrow = ts->oldrow;
        ts->oldrow = keep;
        if (rc == FOLIO_CONSTRAINT) {
            const char *m = folio_errmsg(txn->db);
            return db_err(txn->db, FOLIO_CONSTRAINT, "%s",
                          strncmp(m, "NOT NULL", 8) == 0 ? "NOT NULL constraint failed"
                                                         : "CHECK constraint failed");
        }
        if (rc < 0)
            return rc;
    }
    table_state_drop(txn, tab);
    return rc < 0 ? db_err_txn(txn, rc) : 0;
}

static int add_column(folio_txn *txn, alter_op *op, const char *coldef, size_t ncoldef)
{
    folio_db *db = txn->db;
    db_table *tab = op->tab;
    stmt s;
    tscan ts;
    int rc = asql_stmt_open(&s, tab->sql);
    if (rc == 0 && (rc = asql_scan_table(&s, &ts)) < 0)
        asql_stmt_close(&s);
    if (rc < 0)
        return db_err(db, rc == FOLIO_NOMEM ? rc : FOLIO_UNSUPPORTED,
                      rc == FOLIO_NOMEM ? "out of memory" : "table %s cannot be altered: %s",
                      tab->name, "its CREATE TABLE cannot be read");
    size_t len = strlen(tab->sql), at = ts.add_off;
    asql_tscan_free(&ts);
    asql_stmt_close(&s);
    char *sql = os_malloc(len + ncoldef + 3);
    if (!sql)
        return db_err(db, FOLIO_NOMEM, "out of memory");
    memcpy(sql, tab->sql, at);
    memcpy(sql + at, ", ", 2);
    memcpy(sql + at + 2, coldef, ncoldef);
    memcpy(sql + at + 2 + ncoldef, tab->sql + at, len - at + 1);
    op->table_sql = sql;

    /* The column alone first: its own refusals come before what the
     * altered table says (a second PRIMARY KEY). */
    char err[256];
    char *alone = os_malloc(ncoldef + 32);
    if (!alone)
        return db_err(db, FOLIO_NOMEM, "out of memory");
    snprintf(alone, ncoldef + 32, "CREATE TABLE x(%.*s)", (int)ncoldef, coldef);
    sch_table one;
    rc = sch_parse_table(&one, alone, err, sizeof err);
    os_free(alone);
    if (rc == 0) {
        const sch_column *c1 = &one.cols[0];
        if (c1->primary_key)
            rc = db_err(db, FOLIO_ERROR, "Cannot add a PRIMARY KEY column");
        else if (c1->unique)
            rc = db_err(db, FOLIO_ERROR, "Cannot add a UNIQUE column");
        else if (c1->collation == SCH_COLL_UNKNOWN)
            rc =
                db_err(db, FOLIO_UNSUPPORTED, "no such collation sequence: %s", c1->collation_name);
        sch_table_free(&one);
        if (rc < 0)
            return rc;
    }
    rc = 0;
    if (sch_parse_table(&op->newdef, sql, err, sizeof err) < 0)
        return db_err(db, parse_rc(err), "error in table %s after add column: %s", tab->name, err);
    op->newdef_valid = 1;
    const sch_column *nc = &op->newdef.cols[op->newdef.ncols - 1];
    if (op->newdef.ncols != tab->def.ncols + 1)
        return db_err(db, FOLIO_ERROR, "error in table %s after add column", tab->name);
    if (nc->primary_key)
        return db_err(db, FOLIO_ERROR, "Cannot add a PRIMARY KEY column");
    if (nc->unique || op->newdef.nauto != tab->def.nauto)
        return db_err(db, FOLIO_ERROR, "Cannot add a UNIQUE column");
    if (nc->collation == SCH_COLL_UNKNOWN)
        return db_err(db, FOLIO_UNSUPPORTED, "no such collation sequence: %s", nc->collation_name);
    int empty = 1;
    if ((rc = table_is_empty(txn, tab, &empty)) < 0)
        return rc;
    if (!empty) {
        int has_default = nc->dflt.kind != SCH_DFLT_NONE && nc->dflt.kind != SCH_DFLT_NULL;
        if (!nc->generated && nc->notnull && !has_default)
            return db_err(db, FOLIO_ERROR, "Cannot add a NOT NULL column with default value NULL");
        if (!nc->generated && has_default && !default_is_constant(&nc->dflt))
            return db_err(db, FOLIO_ERROR, "Cannot add a column with non-constant default");
        if (nc->generated && nc->hidden == 3)
            return db_err(db, FOLIO_ERROR, "cannot add a STORED column");
    }
    if ((rc = ddl_table_exprs_compile(db, &op->newdef)) < 0)
        return rc;
    if ((rc = rewrite_schema(txn, op)) < 0 || (rc = alter_bump_cookie(txn, 1)) < 0)
        return rc;
    if ((rc = reload_catalog(txn)) < 0)
        return db_err_txn(txn, rc);
    if (!empty && (nc->has_check || (nc->notnull && nc->generated)))
        return check_rows(txn, op->oldname);
    return 0;
}

/* ---- the other forms ---- */

/* Whether another table, view or index has the name (SQLite's check of RENAME
 * TO; a trigger of that name does not count). */
static int rename_target_taken(db_catalog *cat, const char *name)
{
    for (int i = 0; i < cat->nentries; i++)
        if (strcmp(cat->entries[i].type, "trigger") != 0 &&
            sch_ident_eq(cat->entries[i].name, name))
            return 1;
    return catalog_find_table(cat, name) != NULL;
}

/* The altered table's new CREATE TABLE and its check (RENAME, DROP). */
static int new_table_sql(folio_txn *txn, alter_op *op)
{
    folio_db *db = txn->db;
    char *nsql = NULL;
    /* entry_sql skips the altered table's own row: make it here. */
    stmt s;
    int rc = asql_stmt_open(&s, op->tab->sql);
    tscan ts;
    if (rc == 0 && (rc = asql_scan_table(&s, &ts)) < 0)
        asql_stmt_close(&s);
    if (rc < 0)
        return db_err(db, rc == FOLIO_NOMEM ? rc : FOLIO_UNSUPPORTED,
                      rc == FOLIO_NOMEM ? "out of memory" : "table %s cannot be altered: %s",
                      op->tab->name, "its CREATE TABLE cannot be read");
    asql_mark_dqs(&s, &op->tab->def);
    if (op->kind == OP_DROP && ts.ncols != op->tab->def.ncols) {
        asql_tscan_free(&ts);
        asql_stmt_close(&s);
        return db_err(db, FOLIO_UNSUPPORTED, "table %s cannot be altered: %s", op->tab->name,
                      "its CREATE TABLE cannot be read");
    }
    edits e = {0};
    rc = table_edits(op, &s, &ts, 1, &e);
    if (rc == 0 && !(nsql = asql_edits_apply(op->tab->sql, &e)))
        rc = FOLIO_NOMEM;
    asql_edits_free(&e);
    asql_tscan_free(&ts);
    asql_stmt_close(&s);
    if (rc < 0)
        return db_err(db, FOLIO_NOMEM, "out of memory");
    op->table_sql = nsql;
    char err[256];
    if (sch_parse_table(&op->newdef, nsql, err, sizeof err) < 0)
        return db_err(db, parse_rc(err), "error in table %s %s: %s",
                      op->kind == OP_RENAME_TABLE ? op->newname : op->tab->name, op_when(op), err);
    op->newdef_valid = 1;
    rc = ddl_table_exprs_compile(db, &op->newdef);
    if (rc < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", folio_errmsg(db));
        return db_err(db, rc == FOLIO_NOMEM ? rc : FOLIO_ERROR, "error in table %s %s: %s",
                      op->kind == OP_RENAME_TABLE ? op->newname : op->tab->name, op_when(op), msg);
    }
    return 0;
}

static int run_op(folio_txn *txn, alter_op *op)
{
    int rc;
    /* SQLite checks first that the schema's views and triggers resolve
     * (RENAME COLUMN, DROP COLUMN; RENAME TO as it edits each one). */
    if (op->kind != OP_RENAME_TABLE && (rc = alter_schema_check(txn, "")) < 0)
        return rc;
    if ((rc = new_table_sql(txn, op)) < 0)
        return rc;
    if ((rc = rewrite_schema(txn, op)) < 0)
        return rc;
    if (op->kind == OP_RENAME_TABLE && (rc = rename_sequence(txn, op)) < 0)
        return rc;
    if (op->kind == OP_DROP && op->tab->col_field[op->col] >= 0 &&
        (rc = drop_column_rows(txn, op->tab, op->tab->col_field[op->col])) < 0)
        return rc;
    if ((rc = alter_bump_cookie(txn, 0)) < 0)
        return rc;
    if ((rc = reload_catalog(txn)) < 0)
        return db_err_txn(txn, rc);
    return alter_schema_check(txn, op_when(op));
}

/* The type of a schema object that is not a table, or NULL. */
static const char *other_object(db_catalog *cat, const char *name)
{
    for (int i = 0; i < cat->nentries; i++)
        if (strcmp(cat->entries[i].type, "view") == 0 && sch_ident_eq(cat->entries[i].name, name))
            return "view";
    return NULL;
}

static int syntax_error(folio_db *db, const lx_token *t)
{
    if (t->type == LX_EOF)
        return db_err(db, FOLIO_MISUSE, "incomplete input");
    return db_err(db, FOLIO_MISUSE, "near \"%.*s\": syntax error", (int)t->n, t->z);
}

static int at_end(const lx_token *tk, size_t i)
{
    while (tk[i].type == LX_SEMI)
        i++;
    return tk[i].type == LX_EOF;
}

static int find_column(const db_table *tab, const char *name)
{
    for (int c = 0; c < tab->def.ncols; c++)
        if (sch_ident_eq(tab->def.cols[c].name, name))
            return c;
    return -1;
}

int alter_exec(folio_txn *txn, const char *sql, const lx_token *tk, size_t nt)
{
    folio_db *db = txn->db;
    size_t i = 1;
    (void)nt;
    if (!asql_word(&tk[i], "TABLE"))
        return syntax_error(db, &tk[i]);
    i++;
    if (!lx_is_name(&tk[i]))
        return syntax_error(db, &tk[i]);
    const lx_token *schema = NULL;
    if (tk[i + 1].type == LX_DOT) {
        schema = &tk[i];
        i += 2;
        if (!lx_is_name(&tk[i]))
            return syntax_error(db, &tk[i]);
    }
    const lx_token *tname = &tk[i++];
    alter_op op;
    memset(&op, 0, sizeof op);
    const lx_token *colname = NULL, *newtok = NULL;
    if (asql_word(&tk[i], "RENAME")) {
        i++;
        if (asql_word(&tk[i], "TO") && lx_is_name(&tk[i + 1]) && at_end(tk, i + 2)) {
            op.kind = OP_RENAME_TABLE;
            newtok = &tk[i + 1];
        } else {
            if (asql_word(&tk[i], "COLUMN"))
                i++;
            if (!lx_is_name(&tk[i]))
                return syntax_error(db, &tk[i]);
            colname = &tk[i++];
            if (!asql_word(&tk[i], "TO"))
                return syntax_error(db, &tk[i]);
            i++;
            if (!lx_is_name(&tk[i]))
                return syntax_error(db, &tk[i]);
            newtok = &tk[i++];
            if (!at_end(tk, i))
                return syntax_error(db, &tk[i]);
            op.kind = OP_RENAME_COLUMN;
        }
    } else if (asql_word(&tk[i], "ADD")) {
        i++;
        if (asql_word(&tk[i], "COLUMN"))
            i++;
        if (!lx_is_name(&tk[i]))
            return syntax_error(db, &tk[i]);
        colname = &tk[i];
        op.kind = OP_ADD;
    } else if (asql_word(&tk[i], "DROP")) {
        i++;
        if (asql_word(&tk[i], "COLUMN"))
            i++;
        if (!lx_is_name(&tk[i]))
            return syntax_error(db, &tk[i]);
        colname = &tk[i++];
        if (!at_end(tk, i))
            return syntax_error(db, &tk[i]);
        op.kind = OP_DROP;
    } else {
        return syntax_error(db, &tk[i]);
    }

    /* The table. */
    char *name = asql_tok_text(tname);
    if (!name)
        return db_err(db, FOLIO_NOMEM, "out of memory");
    int rc = 0;
    if (schema && !asql_tok_eq(schema, "main")) {
        rc = db_err(db, FOLIO_ERROR, "no such table: %.*s.%s", (int)schema->n, schema->z, name);
        goto out;
    }
    if (txn->cat->text_encoding != 1) {
        rc = db_err(db, FOLIO_UNSUPPORTED, "ALTER TABLE in a UTF-16 database is not supported");
        goto out;
    }
    op.tab = catalog_find_table(txn->cat, name);
    const char *other = op.tab ? NULL : other_object(txn->cat, name);
    if (!op.tab && !other) {
        rc = db_err(db, FOLIO_ERROR, "no such table: %s", name);
        goto out;
    }
    const char *realname = op.tab ? op.tab->name : name;
    if (op.kind == OP_RENAME_TABLE) {
        if (!(op.newname = asql_tok_text(newtok))) {
            rc = db_err(db, FOLIO_NOMEM, "out of memory");
            goto out;
        }
        if (rename_target_taken(txn->cat, op.newname)) {
            rc = db_err(db, FOLIO_ERROR,
                        "there is already another table or index with this name: %s", op.newname);
            goto out;
        }
    }
    if (asql_name_is_internal(realname) || (op.tab && op.tab->root == 1)) {
        rc = db_err(db, FOLIO_ERROR, "table %s may not be altered",
                    op.tab && op.tab->root == 1 ? "sqlite_master" : realname);
        goto out;
    }
    if (op.kind == OP_RENAME_TABLE && asql_name_is_internal(op.newname)) {
        rc = db_err(db, FOLIO_ERROR, "object name reserved for internal use: %s", op.newname);
        goto out;
    }
    int is_virtual =
        op.tab && !op.tab->parsed && op.tab->sql && strncmp(op.tab->sql, "CREATE VIRTUAL", 14) == 0;
    if (other || is_virtual) {
        const char *what = other ? other : "virtual table";
        if (op.kind == OP_ADD)
            rc = other ? db_err(db, FOLIO_ERROR, "Cannot add a column to a view")
                       : db_err(db, FOLIO_ERROR, "virtual tables may not be altered");
        else if (op.kind == OP_RENAME_TABLE)
            rc = other ? db_err(db, FOLIO_ERROR, "view %s may not be altered", realname)
                       : db_err(db, FOLIO_UNSUPPORTED,
                                "virtual table %s cannot be renamed by folio", realname);
        else
            rc = db_err(db, FOLIO_ERROR, "cannot %s %s \"%s\"",
                        op.kind == OP_DROP ? "drop column from" : "rename columns of", what,
                        realname);
        goto out;
    }
    if (!op.tab->parsed || !op.tab->sql) {
        rc = db_err(db, FOLIO_UNSUPPORTED, "table %s cannot be altered: %s", op.tab->name,
                    op.tab->parse_error ? op.tab->parse_error : "unknown definition");
        goto out;
    }
    size_t nn = strlen(op.tab->name);
    if (!(op.oldname = os_malloc(nn + 1))) {
        rc = db_err(db, FOLIO_NOMEM, "out of memory");
        goto out;
    }
    memcpy(op.oldname, op.tab->name, nn + 1);

    if (op.kind == OP_ADD) {
        /* The definition as written, to the end of the statement. */
        size_t end = strlen(sql);
        for (size_t k = 0; tk[k].type != LX_EOF; k++)
            if (tk[k].type == LX_SEMI) {
                end = (size_t)(tk[k].z - sql) + 1;
                break;
            }
        size_t start = (size_t)(colname->z - sql);
        while (end > start && (sql[end - 1] == ';' || lx_is_space((unsigned char)sql[end - 1])))
            end--;
        char *cname = asql_tok_text(colname);
        if (!cname) {
            rc = db_err(db, FOLIO_NOMEM, "out of memory");
            goto out;
        }
        if (find_column(op.tab, cname) >= 0)
            rc = db_err(db, FOLIO_ERROR, "duplicate column name: %s", cname);
        os_free(cname);
        if (rc == 0)
            rc = add_column(txn, &op, sql + start, end - start);
        goto out;
    }
    if (op.kind == OP_RENAME_COLUMN || op.kind == OP_DROP) {
        char *cname = asql_tok_text(colname);
        if (!cname) {
            rc = db_err(db, FOLIO_NOMEM, "out of memory");
            goto out;
        }
        op.col = find_column(op.tab, cname);
        if (op.col < 0) {
            rc = db_err(db, FOLIO_ERROR, "no such column: \"%.*s\"", (int)colname->n, colname->z);
            os_free(cname);
            goto out;
        }
        os_free(cname);
        if (op.kind == OP_RENAME_COLUMN) {
            op.bquote = asql_is_quote(newtok->z[0]);
            if (!(op.newname = asql_tok_text(newtok))) {
                rc = db_err(db, FOLIO_NOMEM, "out of memory");
                goto out;
            }
        } else {
            const sch_column *cd = &op.tab->def.cols[op.col];
            stmt s;
            tscan ts;
            int unique = 0;
            if (asql_stmt_open(&s, op.tab->sql) == 0) {
                if (asql_scan_table(&s, &ts) == 0) {
                    unique = op.col < ts.ncols && ts.colunique[op.col];
                    asql_tscan_free(&ts);
                }
                asql_stmt_close(&s);
            }
            if (cd->primary_key || unique) {
                rc = db_err(db, FOLIO_ERROR, "cannot drop %s column: \"%s\"",
                            cd->primary_key ? "PRIMARY KEY" : "UNIQUE", cd->name);
                goto out;
            }
            if (op.tab->def.ncols <= 1) {
                rc = db_err(db, FOLIO_ERROR, "cannot drop column \"%s\": no other columns exist",
                            cd->name);
                goto out;
            }
        }
    }
    rc = run_op(txn, &op);
out:
    os_free(name);
    op_free(&op);
    return rc;
}
