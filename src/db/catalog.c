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
#include <assert.h>
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

/* An entry's four strings, in one block after its reference count: the
 * catalogs that list the entry share it. */
struct entry_text {
    int refs;
};

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
    ex_prog_free(ix->where);
    for (int i = 0; ix->kexpr && i < ix->ncols; i++)
        ex_prog_free(ix->kexpr[i]);
    os_free(ix->kexpr);
    os_free(ix->kaff);
    os_free(ix);
}

static void table_free(db_table *t)
{
    if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) > 0)
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
    for (int i = 0; t->checks && i < t->def.nchecks; i++)
        ex_prog_free(t->checks[i]);
    os_free(t->checks);
    for (int c = 0; t->dflt && c < t->def.ncols; c++)
        ex_prog_free(t->dflt[c]);
    os_free(t->dflt);
    for (int c = 0; t->gen && c < t->def.ncols; c++)
        ex_prog_free(t->gen[c]);
    os_free(t->gen);
    os_free(t->gen_order);
    os_free(t->val_index);
    os_free(t->ex_cols);
    sch_table_free(&t->def);
    os_free(t);
}

void catalog_unref(db_catalog *cat)
{
    if (!cat || __atomic_sub_fetch(&cat->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    for (int i = 0; i < cat->nentries; i++)
        if (__atomic_sub_fetch(&cat->etext[i]->refs, 1, __ATOMIC_ACQ_REL) == 0)
            os_free(cat->etext[i]);
    os_free(cat->entries);
    os_free(cat->etext);
    os_free(cat->ehash);
    for (int i = 0; i < cat->ntables; i++)
        table_free(cat->tables[i]);
    os_free(cat->tables);
    os_free(cat->thash);
    fk_graph_free(cat->fk);
    trig_set_free(cat->trig);
    os_free(cat);
}

/* Names compare ASCII case-folded (as SQLite's identifiers): so they hash. */
static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        h = (h ^ c) * 16777619u;
    }
    return h;
}

static void thash_put(db_catalog *cat, int i)
{
    uint32_t mask = cat->thcap - 1;
    uint32_t j = name_hash(cat->tables[i]->name) & mask;
    while (cat->thash[j])
        j = (j + 1) & mask;
    cat->thash[j] = i + 1;
}

static void ehash_put(db_catalog *cat, int i)
{
    uint32_t mask = cat->ehcap - 1;
    uint32_t j = name_hash(cat->entries[i].name) & mask;
    while (cat->ehash[j])
        j = (j + 1) & mask;
    cat->ehash[j] = i + 1;
}

/* Room for one more entry (arrays and name hash). */
static int entry_room(db_catalog *cat)
{
    if (cat->nentries == cat->entries_cap) {
        int n = cat->entries_cap ? cat->entries_cap * 2 : 16;
        folio_schema_entry *v = os_realloc(cat->entries, sizeof *v * (size_t)n);
        if (!v)
            return FOLIO_NOMEM;
        cat->entries = v;
        struct entry_text **t = os_realloc(cat->etext, sizeof *t * (size_t)n);
        if (!t)
            return FOLIO_NOMEM;
        cat->etext = t;
        cat->entries_cap = n;
    }
    if ((uint32_t)(cat->nentries + 1) * 2 > cat->ehcap) {
        uint32_t n = cat->ehcap ? cat->ehcap * 2 : 64;
        int *h = os_calloc(n, sizeof *h);
        if (!h)
            return FOLIO_NOMEM;
        os_free(cat->ehash);
        cat->ehash = h;
        cat->ehcap = n;
        for (int i = 0; i < cat->nentries; i++)
            ehash_put(cat, i);
    }
    return 0;
}

/* Add an entry, copying its strings into a new block (sql may be NULL). */
static int entry_add(db_catalog *cat, const char *type, const char *name, const char *tbl,
                     uint32_t root, const char *sql)
{
    if (entry_room(cat) < 0)
        return FOLIO_NOMEM;
    size_t nt = strlen(type) + 1, nn = strlen(name) + 1, nb = strlen(tbl) + 1;
    size_t ns = sql ? strlen(sql) + 1 : 0;
    struct entry_text *x = os_malloc(sizeof *x + nt + nn + nb + ns);
    if (!x)
        return FOLIO_NOMEM;
    x->refs = 1;
    char *p = (char *)(x + 1);
    folio_schema_entry *e = &cat->entries[cat->nentries];
    memset(e, 0, sizeof *e);
    e->type = memcpy(p, type, nt);
    e->name = memcpy(p + nt, name, nn);
    e->tbl_name = memcpy(p + nt + nn, tbl, nb);
    e->sql = sql ? memcpy(p + nt + nn + nb, sql, ns) : NULL;
    e->rootpage = root;
    cat->etext[cat->nentries] = x;
    cat->nentries++;
    ehash_put(cat, cat->nentries - 1);
    return 0;
}

/* The entry named `name`, or NULL. */
static const folio_schema_entry *entry_find(const db_catalog *cat, const char *name)
{
    if (!cat->ehcap)
        return NULL;
    uint32_t mask = cat->ehcap - 1;
    for (uint32_t j = name_hash(name) & mask; cat->ehash[j]; j = (j + 1) & mask)
        if (sch_ident_eq(cat->entries[cat->ehash[j] - 1].name, name))
            return &cat->entries[cat->ehash[j] - 1];
    return NULL;
}

int catalog_name_taken(const db_catalog *cat, const char *name)
{
    return entry_find(cat, name) != NULL;
}

/* The slot of table `name` in cat->tables, -1 if none. */
static int table_slot(const db_catalog *cat, const char *name)
{
    if (!cat->thcap)
        return -1;
    uint32_t mask = cat->thcap - 1;
    for (uint32_t j = name_hash(name) & mask; cat->thash[j]; j = (j + 1) & mask)
        if (sch_ident_eq(cat->tables[cat->thash[j] - 1]->name, name))
            return cat->thash[j] - 1;
    return -1;
}

db_table *catalog_find_table(db_catalog *cat, const char *name)
{
    if (cat->thcap) {
        uint32_t mask = cat->thcap - 1;
        for (uint32_t j = name_hash(name) & mask; cat->thash[j]; j = (j + 1) & mask) {
            db_table *t = cat->tables[cat->thash[j] - 1];
            if (sch_ident_eq(t->name, name))
                return t;
        }
    }
    if (sch_ident_eq(name, "sqlite_master") || sch_ident_eq(name, "sqlite_schema"))
        return cat->tables[0];
    return NULL;
}

db_index *catalog_find_index(db_catalog *cat, const char *name)
{
    const folio_schema_entry *e = entry_find(cat, name);
    if (e) {
        db_table *t = strcmp(e->type, "index") == 0 ? catalog_find_table(cat, e->tbl_name) : NULL;
        for (int j = 0; t && j < t->nidx; j++)
            if (sch_ident_eq(t->idx[j]->name, name))
                return t->idx[j];
        return NULL;
    }
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

/*
 * Generated columns: compiled, and put in an order where each comes after
 * the generated columns it reads (SQLite refuses a loop: "generated column
 * loop on \"x\""); the place of every other column in a row value array.
 */
static int table_compile_generated(db_table *t)
{
    sch_table *d = &t->def;
    t->val_index = os_malloc(sizeof(int) * (size_t)(d->ncols ? d->ncols : 1));
    if (!t->val_index)
        return FOLIO_NOMEM;
    t->nvals = 0;
    for (int c = 0; c < d->ncols; c++)
        t->val_index[c] = d->cols[c].generated ? -1 : t->nvals++;
    if (!d->has_generated)
        return 0;
    t->gen = os_calloc((size_t)d->ncols, sizeof *t->gen);
    t->gen_order = os_malloc(sizeof(int) * (size_t)d->ncols);
    uint8_t *done = os_calloc((size_t)d->ncols, 1);
    if (!t->gen || !t->gen_order || !done) {
        os_free(done);
        return FOLIO_NOMEM;
    }
    char err[256], why[512];
    for (int c = 0; c < d->ncols; c++) {
        done[c] = !d->cols[c].generated;
        if (!d->cols[c].generated)
            continue;
        ex_scope sc = t->scope;
        sc.column = d->cols[c].name;
        const char *text = d->cols[c].gen_text ? d->cols[c].gen_text : "";
        int rc = ex_compile(&t->gen[c], text, strlen(text), &sc, EX_GENERATED, err, sizeof err);
        if (rc == FOLIO_NOMEM) {
            os_free(done);
            return rc;
        }
        if (rc < 0) {
            snprintf(why, sizeof why, "generated column %s: %s", d->cols[c].name, err);
            set_unsupported(&t->unsupported, why);
        }
    }
    for (int progress = 1; progress;) {
        progress = 0;
        for (int c = 0; c < d->ncols; c++) {
            if (done[c] || !t->gen[c])
                continue;
            const int *used;
            int uses_rowid, nused = ex_prog_columns(t->gen[c], &used, &uses_rowid), ready = 1;
            for (int k = 0; k < nused; k++)
                ready &= done[used[k]];
            if (ready) {
                done[c] = 1;
                t->gen_order[t->ngen++] = c;
                progress = 1;
            }
        }
    }
    for (int c = 0; c < d->ncols; c++)
        if (!done[c] && t->gen[c]) {
            snprintf(why, sizeof why, "generated column loop on \"%s\"", d->cols[c].name);
            set_unsupported(&t->unsupported, why);
            break;
        }
    os_free(done);
    return 0;
}

/*
 * Compile the table's expressions. One that folio cannot evaluate (or that
 * SQLite itself would refuse) makes the table's writes refused, naming it;
 * reading is not affected.
 */
static int table_compile(db_table *t)
{
    sch_table *d = &t->def;
    t->ex_cols = os_calloc((size_t)(d->ncols ? d->ncols : 1), sizeof *t->ex_cols);
    if (!t->ex_cols)
        return FOLIO_NOMEM;
    ex_scope_from_table(&t->scope, t->ex_cols, d);
    int rc = table_compile_generated(t);
    if (rc < 0)
        return rc;
    for (int c = 0; c < d->ncols; c++) {
        if (d->cols[c].dflt.kind != SCH_DFLT_EXPR)
            continue;
        if (!t->dflt && !(t->dflt = os_calloc((size_t)d->ncols, sizeof *t->dflt)))
            return FOLIO_NOMEM;
        /* One that does not compile fails the writes that need it, with
         * the reason (write.c). */
        char err[8];
        if (ex_compile(&t->dflt[c], d->cols[c].dflt.p, d->cols[c].dflt.n, &t->scope, EX_DEFAULT,
                       err, sizeof err) == FOLIO_NOMEM)
            return FOLIO_NOMEM;
    }
    if (d->nchecks == 0)
        return 0;
    t->checks = os_calloc((size_t)d->nchecks, sizeof *t->checks);
    if (!t->checks)
        return FOLIO_NOMEM;
    for (int i = 0; i < d->nchecks; i++) {
        const sch_check *ck = &d->checks[i];
        char err[256], why[512];
        rc = ex_compile(&t->checks[i], ck->text, strlen(ck->text), &t->scope, EX_CHECK, err,
                        sizeof err);
        if (rc == FOLIO_NOMEM)
            return rc;
        if (rc < 0) {
            snprintf(why, sizeof why, "CHECK constraint %s: %s", ck->name ? ck->name : ck->text,
                     err);
            set_unsupported(&t->unsupported, why);
        }
    }
    return 0;
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
    return table_compile(t);
}

/* One expression of an index (a key or the WHERE) compiled, or the index's
 * writes refused with the reason. */
static int index_compile(db_index *ix, db_table *t, const char *text, unsigned flags, ex_prog **out)
{
    char err[256], why[512];
    int rc = ex_compile(out, text, strlen(text), &t->scope, flags, err, sizeof err);
    if (rc == FOLIO_NOMEM)
        return rc;
    if (rc < 0) {
        snprintf(why, sizeof why, "%s %s: %s", flags == EX_PARTIAL_WHERE ? "WHERE" : "key", text,
                 err);
        set_unsupported(&ix->unsupported, why);
    }
    return 0;
}

static int index_from_keys(db_index *ix, db_table *t, const sch_keycol *keys, int n,
                           int schema_format, const char *where)
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
        if (keys[i].col < 0)
            ix->has_expr = 1;
        if (keys[i].col != SCH_KEY_EXPR || !keys[i].text) {
            if (keys[i].collation == SCH_COLL_UNKNOWN)
                set_unsupported(&ix->unsupported, "the index uses an unknown collation");
            continue;
        }
        if (!ix->kexpr) {
            ix->kexpr = os_calloc((size_t)n, sizeof *ix->kexpr);
            ix->kaff = os_calloc((size_t)n, sizeof *ix->kaff);
            if (!ix->kexpr || !ix->kaff)
                return FOLIO_NOMEM;
        }
        int rc = index_compile(ix, t, keys[i].text, EX_INDEX_EXPR, &ix->kexpr[i]);
        if (rc < 0)
            return rc;
        if (ix->kexpr[i]) {
            /* As SQLite: the key takes the expression's affinity; its
             * collating sequence is that of a COLLATE at its top, else
             * BINARY - not the expression's ("+c" or "lower(c)" with c
             * NOCASE, "a || b COLLATE NOCASE" are BINARY keys). */
            ix->kaff[i] = ex_prog_affinity(ix->kexpr[i]);
            int coll = ex_prog_top_collation(ix->kexpr[i]);
            ix->coll[i] = (uint8_t)(coll >= 0 ? coll : SCH_COLL_BINARY);
            if (coll == SCH_COLL_UNKNOWN)
                set_unsupported(&ix->unsupported, "the index uses an unknown collation");
        } else if (keys[i].collation == SCH_COLL_UNKNOWN) {
            set_unsupported(&ix->unsupported, "the index uses an unknown collation");
        }
    }
    if (where) {
        ix->partial = 1;
        int rc = index_compile(ix, t, where, EX_PARTIAL_WHERE, &ix->where);
        if (rc < 0)
            return rc;
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
    if (cat->ntables == cat->tables_cap) {
        int n = cat->tables_cap ? cat->tables_cap * 2 : 16;
        db_table **v = os_realloc(cat->tables, sizeof *v * (size_t)n);
        if (!v)
            return FOLIO_NOMEM;
        cat->tables = v;
        cat->tables_cap = n;
    }
    if ((uint32_t)(cat->ntables + 1) * 2 > cat->thcap) {
        uint32_t n = cat->thcap ? cat->thcap * 2 : 64;
        int *h = os_calloc(n, sizeof *h);
        if (!h)
            return FOLIO_NOMEM;
        os_free(cat->thash);
        cat->thash = h;
        cat->thcap = n;
        for (int i = 0; i < cat->ntables; i++)
            thash_put(cat, i);
    }
    cat->tables[cat->ntables++] = t;
    thash_put(cat, cat->ntables - 1);
    return 0;
}

static int table_new(db_table **out, const char *name, const char *sql, uint32_t root)
{
    db_table *t = os_calloc(1, sizeof *t);
    if (!t)
        return FOLIO_NOMEM;
    t->refs = 1;
    t->name = dups(name);
    t->sql = sql ? dups(sql) : NULL;
    t->root = root;
    if (!t->name || (sql && !t->sql)) {
        table_free(t);
        return FOLIO_NOMEM;
    }
    *out = t;
    return 0;
}

/* Parse the table's definition and work out its record layout. */
static int table_parse(db_table *t)
{
    char err[256];
    if (!t->sql) {
        t->parse_error = dups("table has no SQL definition");
    } else if (sch_parse_table(&t->def, t->sql, err, sizeof err) < 0) {
        t->parse_error = dups(err);
    } else {
        t->parsed = 1;
        int rc = table_layout(t);
        if (rc < 0) {
            if (rc != FOLIO_CORRUPT)
                return rc;
            t->parsed = 0;
            t->parse_error = dups("bad primary key definition");
        }
    }
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

/* Resolve the indexes once all tables are known. */
static int attach_index(db_catalog *cat, const folio_schema_entry *e)
{
    db_table *t = catalog_find_table(cat, e->tbl_name);
    if (!t || t->root == 1)
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
            ix->onconflict = a->onconflict;
            rc = index_from_keys(ix, t, a->cols, a->ncols, cat->schema_format, NULL);
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
            rc = index_from_keys(ix, t, def.cols, def.ncols, cat->schema_format, def.where_text);
            sch_index_free(&def);
        }
    }
    if (rc < 0 || (rc = add_index(t, ix)) < 0) {
        index_free(ix);
        return rc;
    }
    return 0;
}

/* Whether table `t` of an earlier catalog has the same definition, root
 * and indexes (in the same order) as the entries of `cat` say, and so can be
 * shared instead of parsed again. idx[0..nidx) are the table's index entries
 * there, ntrig its triggers. */
static int table_unchanged(const db_table *t, const folio_schema_entry *e,
                           const folio_schema_entry *const *idx, int nidx, int ntrig)
{
    if (t->root != e->rootpage || (t->sql == NULL) != (e->sql == NULL) ||
        (t->sql && strcmp(t->sql, e->sql) != 0) || t->nidx != nidx ||
        t->has_triggers != (ntrig > 0))
        return 0;
    for (int i = 0; i < nidx; i++) {
        const db_index *x = t->idx[i];
        if (x->root != idx[i]->rootpage || strcmp(x->name, idx[i]->name) != 0 ||
            (x->sql == NULL) != (idx[i]->sql == NULL) ||
            (x->sql && strcmp(x->sql, idx[i]->sql) != 0))
            return 0;
    }
    return 1;
}

/*
 * Build the tables of `cat` from its entries: tables first, then the indexes
 * and triggers that refer to them. A table that `prev` (an earlier catalog of
 * the same file, may be NULL) holds unchanged is shared, not parsed again:
 * DDL then costs what it changes, not the size of the schema.
 */
static int catalog_build(db_catalog *cat, const db_catalog *prev)
{
    int rc = 0;
    int n = cat->nentries;
    size_t sz = (size_t)(n ? n : 1);
    int *owner = os_malloc(sizeof *owner * sz); /* entry -> table slot, -1: none */
    int *order = os_malloc(sizeof *order * sz); /* entries grouped by table */
    int *start = NULL;
    const folio_schema_entry **list = os_malloc(sizeof *list * sz);
    if (!owner || !order || !list) {
        rc = FOLIO_NOMEM;
        goto out;
    }
    int share = prev && prev->schema_format == cat->schema_format &&
                prev->text_encoding == cat->text_encoding;
    for (int i = 0; i < n && rc == 0; i++) {
        const folio_schema_entry *e = &cat->entries[i];
        owner[i] = -1;
        if (strcmp(e->type, "table") != 0)
            continue;
        /* The earlier catalog's table, when its own entry is unchanged (its
         * indexes are compared below); else a new one. */
        db_table *t = share ? catalog_find_table((db_catalog *)prev, e->name) : NULL;
        if (t && t->root != 1 && t->root == e->rootpage && t->sql && e->sql &&
            strcmp(t->sql, e->sql) == 0)
            __atomic_add_fetch(&t->refs, 1, __ATOMIC_ACQ_REL);
        else if ((rc = table_new(&t, e->name, e->sql, e->rootpage)) < 0)
            break;
        if ((rc = add_table(cat, t)) < 0)
            table_free(t);
        owner[i] = cat->ntables - 1;
    }
    if (rc < 0)
        goto out;
    /* Index and trigger entries go under their tables; grouped in entry
     * order by one counting pass. */
    if (!(start = os_calloc((size_t)cat->ntables + 2, sizeof *start))) {
        rc = FOLIO_NOMEM;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const folio_schema_entry *e = &cat->entries[i];
        if (owner[i] < 0 && (strcmp(e->type, "index") == 0 || strcmp(e->type, "trigger") == 0)) {
            int k = table_slot(cat, e->tbl_name);
            if (k > 0)
                owner[i] = k;
        }
        if (owner[i] >= 0)
            start[owner[i] + 2]++;
    }
    for (int k = 0; k < cat->ntables; k++)
        start[k + 2] += start[k + 1];
    for (int i = 0; i < n; i++)
        if (owner[i] >= 0)
            order[start[owner[i] + 1]++] = i;
    /* Now start[k]..start[k+1] are table k's entries. */
    for (int k = 1; k < cat->ntables; k++) {
        db_table *t = cat->tables[k];
        const folio_schema_entry *te = NULL;
        int nidx = 0, ntrig = 0;
        for (int j = start[k]; j < start[k + 1]; j++) {
            const folio_schema_entry *e = &cat->entries[order[j]];
            if (strcmp(e->type, "table") == 0)
                te = e;
            else if (strcmp(e->type, "index") == 0)
                list[nidx++] = e;
            else
                ntrig++;
        }
        /* Other threads may be borrowing t too: an atomic read. A table this
         * build made has one reference and no other holder. */
        if (__atomic_load_n(&t->refs, __ATOMIC_ACQUIRE) > 1) {
            /* Borrowed from prev: kept if its indexes and triggers are too. */
            if (te && table_unchanged(t, te, list, nidx, ntrig))
                continue;
            db_table *nt;
            if ((rc = table_new(&nt, t->name, te ? te->sql : NULL, te ? te->rootpage : 0)) < 0)
                goto out;
            table_free(t);
            cat->tables[k] = t = nt;
        }
        if ((rc = table_parse(t)) < 0)
            goto out;
        if (te && te->sql && strncmp(te->sql, "CREATE VIRTUAL", 14) == 0) {
            t->parsed = 0;
            set_unsupported(&t->unsupported, "virtual tables are not supported");
        }
        for (int j = 0; j < nidx; j++)
            if ((rc = attach_index(cat, list[j])) < 0)
                goto out;
        if (ntrig)
            t->has_triggers = 1;
    }
out:
    os_free(owner);
    os_free(order);
    os_free(start);
    os_free(list);
    return rc;
}

int catalog_load(db_catalog **out, folio_txn *txn, const db_catalog *prev)
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
    if ((rc = table_parse(master)) < 0) {
        table_free(master);
        goto fail;
    }
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
        uint32_t root = (v[3].type == FMT_INTEGER && v[3].u.i > 0 && v[3].u.i <= 0x7fffffff)
                            ? (uint32_t)v[3].u.i
                            : 0;
        rc = entry_add(cat, type ? type : "", name ? name : "", tbl ? tbl : "", root, sql);
        os_free(type);
        os_free(name);
        os_free(tbl);
        os_free(sql);
        if (rc < 0) {
            rc = ptxn_error(txn->pt, FOLIO_NOMEM, "out of memory reading the schema");
            break;
        }
    }
    bt_cursor_release(&c);
    row_decoder_free(&rd);
    if (rc < 0)
        goto fail;
    if ((rc = catalog_build(cat, prev)) < 0)
        goto fail;
    *out = cat;
    return 0;
fail:
    catalog_unref(cat);
    return rc;
}

void catalog_table_unref(db_table *t)
{
    table_free(t);
}

int catalog_clone(db_catalog **out, const db_catalog *cat)
{
    *out = NULL;
    db_catalog *c = os_calloc(1, sizeof *c);
    if (!c)
        return FOLIO_NOMEM;
    c->refs = 1;
    c->cookie = cat->cookie;
    c->change_key = cat->change_key;
    c->text_encoding = cat->text_encoding;
    c->schema_format = cat->schema_format;
    c->empty = cat->empty;
    size_t ne = (size_t)cat->entries_cap, nt = (size_t)cat->tables_cap;
    c->entries = os_malloc(sizeof *c->entries * (ne ? ne : 1));
    c->etext = os_malloc(sizeof *c->etext * (ne ? ne : 1));
    c->ehash = cat->ehcap ? os_malloc(sizeof *c->ehash * cat->ehcap) : NULL;
    c->tables = os_malloc(sizeof *c->tables * (nt ? nt : 1));
    c->thash = cat->thcap ? os_malloc(sizeof *c->thash * cat->thcap) : NULL;
    if (!c->entries || !c->etext || !c->tables || (cat->ehcap && !c->ehash) ||
        (cat->thcap && !c->thash)) {
        os_free(c->entries);
        os_free(c->etext);
        os_free(c->ehash);
        os_free(c->tables);
        os_free(c->thash);
        os_free(c);
        return FOLIO_NOMEM;
    }
    if (cat->nentries) {
        memcpy(c->entries, cat->entries, sizeof *c->entries * (size_t)cat->nentries);
        memcpy(c->etext, cat->etext, sizeof *c->etext * (size_t)cat->nentries);
    }
    for (int i = 0; i < cat->nentries; i++)
        __atomic_add_fetch(&c->etext[i]->refs, 1, __ATOMIC_ACQ_REL);
    c->nentries = cat->nentries;
    c->entries_cap = cat->entries_cap;
    if (cat->ehcap)
        memcpy(c->ehash, cat->ehash, sizeof *c->ehash * cat->ehcap);
    c->ehcap = cat->ehcap;
    if (cat->ntables)
        memcpy(c->tables, cat->tables, sizeof *c->tables * (size_t)cat->ntables);
    for (int i = 0; i < cat->ntables; i++)
        __atomic_add_fetch(&c->tables[i]->refs, 1, __ATOMIC_ACQ_REL);
    c->ntables = cat->ntables;
    c->tables_cap = cat->tables_cap;
    if (cat->thcap)
        memcpy(c->thash, cat->thash, sizeof *c->thash * cat->thcap);
    c->thcap = cat->thcap;
    *out = c;
    return 0;
}

/* A table of a private catalog that is about to change: a copy of its own
 * when it is shared with another catalog (parsed again from its entry, its
 * indexes attached again from theirs). */
static int table_own(db_catalog *cat, int k, db_table **out_old)
{
    db_table *t = cat->tables[k];
    *out_old = NULL;
    if (__atomic_load_n(&t->refs, __ATOMIC_ACQUIRE) == 1)
        return 0;
    db_table *nt;
    int rc = table_new(&nt, t->name, t->sql, t->root);
    if (rc < 0)
        return rc;
    if ((rc = table_parse(nt)) < 0) {
        table_free(nt);
        return rc;
    }
    nt->has_triggers = t->has_triggers;
    if (t->unsupported && !(nt->unsupported = dups(t->unsupported))) {
        table_free(nt);
        return FOLIO_NOMEM;
    }
    cat->tables[k] = nt;
    for (int i = 0; i < t->nidx; i++) {
        const folio_schema_entry *ie = entry_find(cat, t->idx[i]->name);
        if (ie && (rc = attach_index(cat, ie)) < 0) {
            cat->tables[k] = t;
            table_free(nt);
            return rc;
        }
    }
    *out_old = t; /* the caller lets go of it */
    return 0;
}

int catalog_add_entries(db_catalog *cat, const folio_schema_entry *e, int n,
                        db_table **out_replaced)
{
    assert(cat->refs == 1);
    int rc = 0;
    if (out_replaced)
        *out_replaced = NULL;
    fk_graph_free(cat->fk); /* (resolved again when next needed) */
    cat->fk = NULL;
    trig_set_free(cat->trig);
    cat->trig = NULL;
    for (int i = 0; i < n && rc == 0; i++)
        rc = entry_add(cat, e[i].type, e[i].name, e[i].tbl_name, e[i].rootpage, e[i].sql);
    for (int i = 0; i < n && rc == 0; i++) {
        if (strcmp(e[i].type, "table") != 0)
            continue;
        db_table *t;
        if ((rc = table_new(&t, e[i].name, e[i].sql, e[i].rootpage)) < 0)
            break;
        if ((rc = table_parse(t)) < 0 || (rc = add_table(cat, t)) < 0)
            table_free(t);
    }
    for (int i = 0; i < n && rc == 0; i++) {
        if (strcmp(e[i].type, "index") != 0)
            continue;
        int k = table_slot(cat, e[i].tbl_name);
        if (k <= 0)
            continue;
        db_table *old = NULL;
        if ((rc = table_own(cat, k, &old)) < 0)
            break;
        if (old) {
            if (out_replaced && !*out_replaced)
                *out_replaced = old;
            else
                table_free(old);
        }
        rc = attach_index(cat, &e[i]);
    }
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
    db_catalog *prev = db->cat;
    if (prev)
        __atomic_add_fetch(&prev->refs, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_unlock(&db->mu);
    db_catalog *cat;
    int rc = catalog_load(&cat, txn, prev);
    catalog_unref(prev);
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
