/*
 * alter_trig.c - what ALTER TABLE does to the text of triggers, as SQLite
 * 3.40 does it.
 *
 * SQLite parses each trigger in the schema, resolves its names as it would
 * to run it (the WHEN clause and every statement of the body, with NEW and
 * OLD, the targets of INSERT, UPDATE and DELETE, the FROM tables of SELECTs
 * and subqueries) and edits the words that name what changes:
 *   - RENAME TO: the table after ON and every INSERT / UPDATE / DELETE
 *     target of that name; every FROM that is the table (aliased or not);
 *     every qualifier that names the table itself ("t.x", "t.*"; not an
 *     alias, not NEW or OLD). Each becomes the new name in double quotes.
 *   - RENAME COLUMN: the columns of INSERT's list and of UPDATE's SET when
 *     the statement's target is the table, the UPDATE OF columns of a
 *     trigger on the table, and every name that resolves to the column:
 *     NEW.c and OLD.c of a trigger on the table, bare and qualified
 *     references in any statement or subquery. As SQLite, a name that
 *     resolves to the rowid counts as the INTEGER PRIMARY KEY column (and
 *     the other way round).
 *   - RENAME COLUMN and DROP COLUMN first turn every double-quoted word
 *     that resolves to nothing (SQLite's string) into a single-quoted
 *     string.
 * A trigger that does not resolve fails the statement with SQLite's "error
 * in trigger tr: no such column: x", before anything changes; after the
 * change every trigger must still resolve ("error in trigger tr after drop
 * column: no such column: new.c").
 *
 * folio resolves names with the expression layer, compiling every
 * expression of the trigger as its trigger runner does (trigger.c), and is
 * told by it (ex_scope.name_seen) where each name is and what it named. What
 * folio cannot resolve (a statement it does not run, a trigger on a view,
 * an expression it cannot compile) is left as it is when no word of it
 * names what changes; else the statement is refused with FOLIO_UNSUPPORTED.
 */
#include "db/alter_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a word of the trigger's text is. */
enum {
    TN_ON,      /* the table after ON */
    TN_TARGET,  /* the table of INSERT INTO, UPDATE, DELETE FROM */
    TN_FROM,    /* a FROM table: a SELECT statement's, a subquery's */
    TN_QUAL,    /* a qualifier that names its table itself: "t.x", "t.*" */
    TN_COLUMN,  /* a reference to a column or the rowid */
    TN_LISTCOL, /* a column of INSERT's list, UPDATE's SET or UPDATE OF */
    TN_STRING   /* a double-quoted string */
};

typedef struct tname {
    int kind;
    size_t off, len;     /* the word in the trigger's text */
    const db_table *tab; /* the table it names or belongs to (NULL: not a table) */
    const char *name;    /* TN_ON, TN_TARGET, TN_LISTCOL: the name, dequoted */
    int col;             /* TN_COLUMN: the column, -1 the rowid */
} tname;

typedef struct twalk {
    db_catalog *cat;
    const char *sql;
    sch_trigger def;
    int parsed;
    db_table *on;     /* the trigger's table */
    ex_source src[2]; /* NEW and/or OLD */
    int nsrc;
    tname *v;
    int n, cap;
    /* The expression being compiled: where it is, its table (level 0). */
    size_t base;
    const db_table *scope_tab;
    int scope_aliased;
    int nomem;
    /* The first error SQLite would report (rc FOLIO_ERROR), and the parts
     * folio cannot resolve. */
    int rc;
    char err[512];
    sch_span *blind;
    int nblind, blindcap;
} twalk;

static int add_name(twalk *w, int kind, size_t off, size_t len, const db_table *tab,
                    const char *name, int col)
{
    if (w->n == w->cap) {
        int cap = w->cap ? w->cap * 2 : 16;
        tname *v = os_realloc(w->v, sizeof *v * (size_t)cap);
        if (!v) {
            w->nomem = 1;
            return FOLIO_NOMEM;
        }
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n++] = (tname){kind, off, len, tab, name, col};
    return 0;
}

static int add_blind(twalk *w, sch_span sp)
{
    if (w->nblind == w->blindcap) {
        int cap = w->blindcap ? w->blindcap * 2 : 4;
        sch_span *v = os_realloc(w->blind, sizeof *v * (size_t)cap);
        if (!v) {
            w->nomem = 1;
            return FOLIO_NOMEM;
        }
        w->blind = v;
        w->blindcap = cap;
    }
    w->blind[w->nblind++] = sp;
    return 0;
}

/* The first error SQLite reports; later ones are not looked for. */
static int fail(twalk *w, const char *msg)
{
    if (w->rc == 0) {
        w->rc = FOLIO_ERROR;
        snprintf(w->err, sizeof w->err, "%s", msg);
        char *at = strstr(w->err, " (at offset "); /* (the expression layer's) */
        if (at)
            *at = 0;
    }
    return FOLIO_ERROR;
}

static void name_seen(void *arg, const ex_name *nm)
{
    twalk *w = arg;
    size_t off = w->base + nm->off;
    const db_table *tab = NULL;
    int aliased = 0, trig = 0;
    if (nm->kind == EX_NAME_STRING) {
        add_name(w, TN_STRING, off, nm->len, NULL, NULL, 0);
        return;
    }
    if (nm->level == 0) {
        tab = w->scope_tab;
        aliased = w->scope_aliased;
    } else if (nm->level > 0) {
        tab = nm->table ? catalog_find_table(w->cat, nm->table) : NULL;
        aliased = nm->aliased;
    } else {
        tab = w->on; /* NEW, OLD */
        trig = 1;
    }
    switch (nm->kind) {
    case EX_NAME_FROM:
        add_name(w, TN_FROM, off, nm->len, tab, NULL, 0);
        break;
    case EX_NAME_STAR:
        if (!aliased)
            add_name(w, TN_QUAL, off, nm->len, tab, NULL, 0);
        break;
    case EX_NAME_COLUMN:
        add_name(w, TN_COLUMN, off, nm->len, tab, NULL, nm->column);
        if (nm->qlen && !aliased && !trig)
            add_name(w, TN_QUAL, w->base + nm->qoff, nm->qlen, tab, NULL, 0);
        break;
    default:
        break;
    }
}

/* Subqueries' tables. */
static int lookup_table(void *arg, const char *name, ex_source *out, char *err, size_t errlen)
{
    twalk *w = arg;
    db_table *t = catalog_find_table(w->cat, name);
    if (!t) {
        for (int i = 0; i < w->cat->nentries; i++)
            if (sch_ident_eq(w->cat->entries[i].name, name)) {
                snprintf(err, errlen, "%s is a %s", name, w->cat->entries[i].type);
                return FOLIO_UNSUPPORTED;
            }
        snprintf(err, errlen, "no such table: main.%s", name);
        return FOLIO_ERROR;
    }
    if (!t->parsed) {
        snprintf(err, errlen, "table %s cannot be read", name);
        return FOLIO_UNSUPPORTED;
    }
    memset(out, 0, sizeof *out);
    out->name = t->name;
    out->cols = t->ex_cols;
    out->ncols = t->def.ncols;
    out->rowid_alias = t->def.ipk;
    out->without_rowid = t->def.without_rowid;
    return 0;
}

/* Resolve the names of text[0..len), which is at `base` in the trigger's
 * text, against table `tab` (NULL: none; `alias`: its alias, or NULL) as
 * the trigger runner compiles it, and note them. `whole`: the part of the
 * trigger to leave alone when folio cannot resolve it. Returns 0,
 * FOLIO_ERROR (SQLite's error, kept) or FOLIO_NOMEM. */
static int walk_text(twalk *w, const char *text, size_t len, size_t base, const db_table *tab,
                     const char *alias, unsigned flags, sch_span whole)
{
    ex_scope sc = {.rowid_alias = -1};
    if (tab) {
        sc = tab->scope;
        if (alias)
            sc.table = alias;
    }
    sc.sources = w->src;
    sc.nsources = w->nsrc;
    sc.table_lookup = lookup_table;
    sc.lookup_arg = w;
    sc.name_seen = name_seen;
    sc.name_arg = w;
    w->base = base;
    w->scope_tab = tab;
    w->scope_aliased = alias != NULL;
    int before = w->n;
    ex_prog *prog = NULL;
    char err[256];
    int rc = ex_compile(&prog, text, len, &sc, flags | EX_NAMES, err, sizeof err);
    ex_prog_free(prog);
    if (rc == FOLIO_NOMEM || w->nomem)
        return FOLIO_NOMEM;
    if (rc == 0)
        return 0;
    w->n = before; /* (what it told may be part of what failed) */
    /* A name that resolves to nothing is SQLite's error; a syntax error
     * here is folio's reading of a statement it does not run. */
    if (rc == FOLIO_ERROR &&
        (strncmp(err, "no such column", 14) == 0 || strncmp(err, "no such table", 13) == 0))
        return fail(w, err);
    return add_blind(w, whole);
}

static int walk_expr(twalk *w, sch_span sp, const db_table *tab, const char *alias, unsigned flags,
                     sch_span whole)
{
    return walk_text(w, w->sql + sp.off, sp.len, sp.off, tab, alias, flags, whole);
}

/* A SELECT (a statement, INSERT's source): resolved as the scalar subquery
 * "(SELECT ...)", whose names resolve as the statement's do. */
static int walk_select(twalk *w, sch_span sp, sch_span whole)
{
    char *q = os_malloc((size_t)sp.len + 3);
    if (!q)
        return FOLIO_NOMEM;
    q[0] = '(';
    memcpy(q + 1, w->sql + sp.off, sp.len);
    q[sp.len + 1] = ')';
    q[sp.len + 2] = 0;
    int rc = walk_text(w, q, (size_t)sp.len + 2, (size_t)sp.off - 1, NULL, NULL, EX_TRIGGER, whole);
    os_free(q);
    return rc;
}

/* A table named in a statement: *out, or NULL and the statement left
 * alone (a view, a table folio cannot read), or SQLite's error. */
static int statement_table(twalk *w, const char *name, const sch_trig_stmt *st, db_table **out)
{
    *out = catalog_find_table(w->cat, name);
    if (*out && (*out)->parsed)
        return 0;
    if (*out) {
        *out = NULL;
        return add_blind(w, st->text);
    }
    for (int i = 0; i < w->cat->nentries; i++)
        if (sch_ident_eq(w->cat->entries[i].name, name))
            return add_blind(w, st->text);
    char msg[300];
    snprintf(msg, sizeof msg, "no such table: main.%s", name);
    return fail(w, msg);
}

static int walk_list(twalk *w, const sch_span *sp, int n, const db_table *tab,
                     const sch_trig_stmt *st)
{
    for (int i = 0; i < n; i++) {
        int rc = walk_expr(w, sp[i], tab, NULL, EX_TRIGGER, st->text);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* One statement of the body, in SQLite's order of resolution. */
static int walk_stmt(twalk *w, const sch_trig_stmt *st)
{
    db_table *tab = NULL;
    int rc;
    if (st->error)
        return fail(w, st->error);
    if (st->kind == SCH_TS_SELECT)
        return st->nrows && !st->unsupported
                   ? walk_list(w, st->vals, st->nrows * st->nvals, NULL, st)
                   : walk_select(w, st->text, st->text);
    if (st->unsupported && !(st->kind == SCH_TS_INSERT && st->select_source && st->source.len))
        return add_blind(w, st->text);
    if (st->kind == SCH_TS_INSERT) {
        rc = st->select_source ? walk_select(w, st->source, st->text)
                               : walk_list(w, st->vals, st->nrows * st->nvals, NULL, st);
        if (rc < 0)
            return rc;
    }
    if ((rc = statement_table(w, st->table, st, &tab)) < 0 || !tab)
        return rc;
    if ((rc = add_name(w, TN_TARGET, st->table_tok.off, st->table_tok.len, tab, st->table, 0)) < 0)
        return rc;
    for (int i = 0; i < st->ncols && st->kind == SCH_TS_INSERT; i++)
        if ((rc = add_name(w, TN_LISTCOL, st->col_toks[i].off, st->col_toks[i].len, tab,
                           st->cols[i], 0)) < 0)
            return rc;
    if (st->kind == SCH_TS_UPDATE) {
        for (int i = 0; i < st->nset; i++)
            if ((rc = add_name(w, TN_LISTCOL, st->set_toks[i].off, st->set_toks[i].len, tab,
                               st->set_cols[i], 0)) < 0)
                return rc;
        if ((rc = walk_list(w, st->set_vals, st->nset, tab, st)) < 0)
            return rc;
    }
    if (st->kind != SCH_TS_INSERT && st->has_where)
        return walk_expr(w, st->where, tab, NULL, EX_TRIGGER | EX_CONDITION, st->text);
    return 0;
}

static void walk_free(twalk *w)
{
    if (w->parsed)
        sch_trigger_free(&w->def);
    os_free(w->v);
    os_free(w->blind);
    memset(w, 0, sizeof *w);
}

/* Resolve the trigger `sql` against the catalog. Returns 0 (w->rc
 * FOLIO_ERROR when SQLite would fail, with its message in w->err) or
 * FOLIO_NOMEM. A trigger folio cannot read or resolve at all (on a view)
 * is one blind part. */
static int walk(twalk *w, db_catalog *cat, const char *sql)
{
    memset(w, 0, sizeof *w);
    w->cat = cat;
    w->sql = sql;
    char err[256];
    sch_span whole = {0, (uint32_t)strlen(sql)};
    if (sch_parse_trigger(&w->def, sql, err, sizeof err) < 0)
        return add_blind(w, whole);
    w->parsed = 1;
    const sch_trigger *t = &w->def;
    w->on = catalog_find_table(cat, t->table);
    if (!w->on || !w->on->parsed || t->timing == SCH_TRIG_INSTEAD_OF ||
        (t->table_schema && !sch_ident_eq(t->table_schema, "main"))) {
        w->on = NULL;
        return add_blind(w, whole);
    }
    int rc = add_name(w, TN_ON, t->table_tok.off, t->table_tok.len, w->on, t->table, 0);
    for (int i = 0; i < t->nof && rc == 0; i++)
        rc = add_name(w, TN_LISTCOL, t->of_toks[i].off, t->of_toks[i].len, w->on, t->of[i], 0);
    if (rc < 0)
        return rc;
    static const char *const names[2] = {"new", "old"};
    for (int k = 0; k < 2; k++) {
        if ((k == 0 && t->event == SCH_TRIG_DELETE) || (k == 1 && t->event == SCH_TRIG_INSERT))
            continue;
        ex_source *s = &w->src[w->nsrc++];
        s->name = names[k];
        s->cols = w->on->ex_cols;
        s->ncols = w->on->def.ncols;
        s->rowid_alias = w->on->def.ipk;
        s->without_rowid = w->on->def.without_rowid;
        s->qualified_only = 1;
    }
    if (t->has_when &&
        (rc = walk_expr(w, t->when, NULL, NULL, EX_TRIGGER | EX_CONDITION, whole)) < 0)
        return rc == FOLIO_NOMEM ? rc : 0;
    for (int i = 0; i < t->nstmts; i++)
        if ((rc = walk_stmt(w, &t->stmts[i])) < 0)
            return rc == FOLIO_NOMEM ? rc : 0;
    return 0;
}

/* ---- the edits ---- */

static int token_at(const stmt *s, size_t off, lx_token *out)
{
    for (size_t k = 0; k < s->n; k++)
        if (asql_tok_off(s, k) == off) {
            *out = s->t[k];
            return 1;
        }
    return 0;
}

/* Whether a reference to column c of the table is one to the altered
 * column: SQLite numbers the INTEGER PRIMARY KEY column and the rowid alike
 * (-1). */
static int same_column(const alter_op *op, int c)
{
    int ipk = op->tab->def.ipk;
    if (op->col == ipk)
        return c == ipk || c == -1;
    return c == op->col;
}

/* The text that replaces word x for the statement, or NULL (left as it
 * is); *nomem on failure. */
static char *replacement(const alter_op *op, const tname *x, const lx_token *t, int *nomem)
{
    char *r = NULL;
    int quoted_new = 0, column = 0;
    switch (op->kind) {
    case OP_RENAME_TABLE:
        if (x->kind == TN_ON || x->kind == TN_TARGET)
            quoted_new = sch_ident_eq(x->name, op->oldname);
        else if (x->kind == TN_FROM || x->kind == TN_QUAL)
            quoted_new = x->tab == op->tab;
        break;
    case OP_RENAME_COLUMN:
        if (x->kind == TN_LISTCOL)
            column = x->tab == op->tab && sch_ident_eq(x->name, op->tab->def.cols[op->col].name);
        else if (x->kind == TN_COLUMN)
            column = x->tab == op->tab && same_column(op, x->col);
        break;
    default:
        break;
    }
    if (quoted_new)
        r = asql_quoted_name(op->newname, t->z[t->n] == '"');
    else if (column)
        r = alter_column_text(op, t);
    else if (x->kind == TN_STRING && op->kind != OP_RENAME_TABLE)
        r = asql_single_quoted(t);
    else
        return NULL;
    if (!r)
        *nomem = 1;
    return r;
}

int alter_trigger_edits(folio_txn *txn, const alter_op *op, const char *name, const stmt *s,
                        edits *e)
{
    twalk w;
    int rc = walk(&w, txn->cat, s->sql);
    if (rc == 0 && w.rc)
        rc = db_err(txn->db, FOLIO_ERROR, "error in trigger %s: %s", name, w.err);
    /* The parts folio cannot resolve: left alone unless they name what
     * changes (the ON table aside, which is one of the names). */
    size_t on = NO_TOKEN;
    if (w.parsed)
        for (size_t k = 0; k < s->n && on == NO_TOKEN; k++)
            if (asql_tok_off(s, k) == w.def.table_tok.off)
                on = k;
    for (int i = 0; i < w.nblind && rc == 0; i++)
        rc = alter_refuse_named(txn, op, "trigger", name, s, w.blind[i].off,
                                (size_t)w.blind[i].off + w.blind[i].len,
                                op->kind == OP_RENAME_TABLE ? on : NO_TOKEN);
    int nomem = rc == FOLIO_NOMEM;
    for (int i = 0; i < w.n && rc == 0; i++) {
        lx_token t;
        if (!token_at(s, w.v[i].off, &t))
            continue;
        char *r = replacement(op, &w.v[i], &t, &nomem);
        if (r)
            rc = asql_edits_add(e, w.v[i].off, t.n, r);
        else if (nomem)
            rc = FOLIO_NOMEM;
    }
    /* The ON table of a trigger folio cannot read is still the table's. */
    if (rc == 0 && op->kind == OP_RENAME_TABLE && !w.on && on != NO_TOKEN &&
        asql_tok_eq(&s->t[on], op->oldname))
        rc = asql_edits_add(e, asql_tok_off(s, on), s->t[on].n,
                            asql_quoted_name(op->newname, s->t[on].z[s->t[on].n] == '"'));
    walk_free(&w);
    if (rc == FOLIO_NOMEM)
        return db_err(txn->db, rc, "out of memory");
    return rc;
}

int alter_trigger_check(folio_txn *txn, const folio_schema_entry *en, const char *when)
{
    twalk w;
    int rc = walk(&w, txn->cat, en->sql);
    if (rc == 0 && w.rc)
        rc = db_err(txn->db, FOLIO_ERROR, "error in trigger %s%s%s: %s", en->name,
                    when[0] ? " " : "", when, w.err);
    walk_free(&w);
    if (rc == FOLIO_NOMEM)
        return db_err(txn->db, rc, "out of memory");
    return rc < 0 ? rc : 0;
}
