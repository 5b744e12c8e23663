/*
 * alter_view.c - what ALTER TABLE does to views, as SQLite 3.40 does it.
 *
 * SQLite prepares every view's SELECT when it renames a table or a column
 * or drops a column (sqlite3SelectPrep: FROM terms looked up, joins and `*`
 * expanded, then every name resolved), and fails the statement with "error
 * in view v: ..." when one does not; after the change each view must
 * prepare again ("error in view v after rename: ..."). In the views it
 * edits the words that resolved to what changes:
 *   - RENAME TO: every FROM term that is the table, and every qualifier of
 *     a column of it that names the table itself ("t.x", "main.t.x"; not an
 *     alias): the new name in double quotes;
 *   - RENAME COLUMN: every name that resolved to the column (bare,
 *     qualified, in subqueries, CTEs, ON, ORDER BY, window definitions; a
 *     name that resolved to the rowid counts as the INTEGER PRIMARY KEY
 *     column); not a USING list, not an alias, not a CTE's column list;
 *   - RENAME COLUMN and DROP COLUMN first turn every double-quoted word that
 *     resolved to nothing (SQLite's string) into a single-quoted string.
 *
 * The resolver here follows SQLite's lookupName: a name is looked for in
 * the FROM terms of its SELECT, then in those of the SELECTs around it; a
 * column found in two terms is ambiguous unless the later one joins on it
 * with USING or NATURAL; a bare name that matches no column may be a
 * result column's alias (in WHERE, GROUP BY, HAVING, ORDER BY), then the
 * rowid of the one table that has one, then TRUE / FALSE or, double-quoted,
 * a string. Errors come in SQLite's order as far as it matters: those of
 * looking up FROM terms (and `t.*`, USING) before those of names.
 *
 * What folio does not resolve as SQLite would (a table-valued function, a
 * RIGHT or FULL join whose USING decides a name, the rowid of a subquery, a
 * compound ORDER BY term that is an expression) makes the view "blind": a
 * view that names what changes is then refused with FOLIO_UNSUPPORTED
 * naming it and the construct, never edited wrong; one that does not is
 * left as it is, unchecked. SQLite does not look functions up while it
 * renames, and neither does folio.
 */
#include "db/alter_int.h"
#include "schema/select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIEW_MAX_DEPTH 64

/* A column a FROM term offers. */
typedef struct vcol {
    char *name;
    const db_table *tab; /* a base table's column (col: its index, -1 the rowid) */
    int col;
} vcol;

/* A FROM term as the resolver sees it. */
typedef struct vsrc {
    char *name; /* alias, else the table's name: what qualifiers match */
    int aliased;
    const db_table *tab; /* a base table */
    int opaque;          /* a table-valued function: its columns are unknown */
    int rowid_vis;       /* has a rowid a name can reach (not a WITH table) */
    int in_main;         /* a table or view of the schema (not a WITH table, subquery) */
    int ncols;
    vcol *cols;
    int name_tok; /* the table's name in the FROM (RENAME TO edits it), or -1 */
    int join;     /* SQ_JT_* of the join before it */
    int nusing;   /* USING / NATURAL: the columns it joins on */
    char **usings;
} vsrc;

typedef struct vscope {
    struct vscope *outer;
    vsrc *src;
    int nsrc;
    const sq_core *core; /* its result aliases */
    int aliases;         /* a bare name may be an alias of the result */
} vscope;

/* A WITH name in force. */
typedef struct vcte {
    struct vcte *outer;
    const sq_cte *cte;
    const sq_view *v;
    int state;         /* 0 not resolved, 1 resolving, 2 done */
    struct vcte *list; /* the whole WITH (SQLite lets a WITH table read any of them) */
    int ncols;
    vcol *cols;
} vcte;

typedef struct vres {
    folio_txn *txn;
    const alter_op *op; /* NULL: a check only */
    const sq_view *v;   /* the view whose words are edited */
    edits *e;
    int collect; /* add edits (off while a SELECT is resolved only for its columns) */
    int no_dqs;  /* a double-quoted word that resolves to nothing is an error */
    int depth;
    const char *stack[VIEW_MAX_DEPTH]; /* views being expanded */
    int nstack;
    int rc_expand, rc_resolve; /* first error of each phase (FOLIO_ERROR) */
    int nerr;                  /* errors of names so far */
    int expand_sure;           /* the expand error is the first SQLite meets */
    int expand_only;           /* a first pass: only the errors of looking FROM terms up */
    int aborted;               /* the walk of the current expression stopped */
    char err_expand[512], err_resolve[512];
    int blind;
    char why[256];
    int nomem;
    const char *last_colname; /* the column the last name resolved to: its name */
    int noagg;                /* 2 in GROUP BY: no aggregates */
    int group_agg;            /* a GROUP BY term holds an aggregate */
    int rc_late;              /* an error SQLite finds after the names */
    char err_late[512];
    /* strings and arrays to free */
    void **pool;
    int npool, poolcap;
} vres;

/* ---- memory ---- */

static void *keep(vres *r, void *p)
{
    if (!p) {
        r->nomem = 1;
        return NULL;
    }
    if (r->npool == r->poolcap) {
        int cap = r->poolcap ? r->poolcap * 2 : 64;
        void **v = os_realloc(r->pool, sizeof *v * (size_t)cap);
        if (!v) {
            os_free(p);
            r->nomem = 1;
            return NULL;
        }
        r->pool = v;
        r->poolcap = cap;
    }
    r->pool[r->npool++] = p;
    return p;
}

static void *vcalloc(vres *r, size_t n, size_t size)
{
    return keep(r, os_calloc(n ? n : 1, size));
}

static char *vstrdup(vres *r, const char *s, size_t n)
{
    char *d = os_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return keep(r, d);
}

static char *tok_name(vres *r, const sq_view *v, int t)
{
    return keep(r, asql_tok_text(&v->t[t]));
}

/* Only a failed allocation stops the walk: past a part folio cannot
 * resolve (blind) the rest is still resolved, for SQLite's errors. */
static int failed(const vres *r)
{
    return r->nomem;
}

/* ---- errors ---- */

static void set_blind(vres *r, const char *fmt, const char *arg)
{
    if (r->blind)
        return;
    r->blind = 1;
    snprintf(r->why, sizeof r->why, fmt, arg);
}

static void error_expand(vres *r, const char *msg)
{
    if (!r->rc_expand) {
        r->rc_expand = FOLIO_ERROR;
        r->expand_sure = !r->blind; /* nothing folio cannot follow came before it */
        snprintf(r->err_expand, sizeof r->err_expand, "%.500s", msg);
    }
}

/* SQLite's walk of an expression stops at the first name that does not
 * resolve, but a function's arguments are a walk of their own: the walk
 * around them goes on, and a later error replaces the message. A SELECT
 * stops at its first expression with an error (or subquery with one). */
static void error_resolve(vres *r, const char *msg)
{
    if (r->expand_only)
        return;
    r->rc_resolve = FOLIO_ERROR;
    r->nerr++;
    r->aborted = 1;
    snprintf(r->err_resolve, sizeof r->err_resolve, "%.500s", msg);
}

/* ---- edits ---- */

static void edit_tok(vres *r, int t, char *text)
{
    if (!r->collect || !r->e) {
        os_free(text);
        return;
    }
    const lx_token *k = &r->v->t[t];
    if (asql_edits_add(r->e, (size_t)(k->z - r->v->sql), k->n, text) < 0)
        r->nomem = 1;
}

/* The altered column, as SQLite numbers it (-1 for the INTEGER PRIMARY KEY
 * and the rowid alike). */
static int same_column(const alter_op *op, const db_table *tab, int c)
{
    if (tab != op->tab)
        return 0;
    int ipk = tab->def.ipk;
    if (op->col == ipk)
        return c == ipk || c == -1;
    return c == op->col;
}

/* A name resolved to column c of tab: `coltok` the column's word,
 * `qualtok` the qualifier naming the table itself (-1: none or an alias). */
static void resolved_column(vres *r, const db_table *tab, int c, int coltok, int qualtok)
{
    if (!r->op || !r->collect || !tab)
        return;
    if (r->op->kind == OP_RENAME_TABLE && tab == r->op->tab && qualtok >= 0) {
        const lx_token *k = &r->v->t[qualtok];
        edit_tok(r, qualtok, asql_quoted_name(r->op->newname, k->z[k->n] == '"'));
    } else if (r->op->kind == OP_RENAME_COLUMN && same_column(r->op, tab, c)) {
        edit_tok(r, coltok, alter_column_text(r->op, &r->v->t[coltok]));
    }
}

/* ---- FROM terms ---- */

static int name_eq(const char *a, const char *b)
{
    return sch_ident_eq(a, b);
}

static int find_col(const vsrc *s, const char *name)
{
    for (int j = 0; j < s->ncols; j++)
        if (name_eq(s->cols[j].name, name))
            return j;
    return -1;
}

static int source_of_table(vres *r, vsrc *s, const db_table *tab)
{
    s->tab = tab;
    s->ncols = tab->def.ncols;
    if (!(s->cols = vcalloc(r, (size_t)s->ncols, sizeof *s->cols)))
        return -1;
    for (int j = 0; j < s->ncols; j++)
        s->cols[j] = (vcol){tab->def.cols[j].name, tab, j == tab->def.ipk ? -1 : j};
    return 0;
}

static int resolve_select(vres *r, const sq_view *v, const sq_select *sel, vscope *outer,
                          vcte *ctes, vcol **cols, int *ncols);

static const folio_schema_entry *view_entry(vres *r, const char *name)
{
    db_catalog *cat = r->txn->cat;
    for (int i = 0; i < cat->nentries; i++)
        if (cat->entries[i].type && strcmp(cat->entries[i].type, "view") == 0 &&
            name_eq(cat->entries[i].name, name))
            return &cat->entries[i];
    return NULL;
}

/* The columns of another view used in a FROM (sqlite3ViewGetColumnNames). */
static int view_columns(vres *r, const folio_schema_entry *ve, vsrc *s)
{
    for (int k = 0; k < r->nstack; k++)
        if (name_eq(r->stack[k], ve->name)) {
            char msg[300];
            snprintf(msg, sizeof msg, "view %s is circularly defined", ve->name);
            error_expand(r, msg);
            return 0;
        }
    if (r->nstack >= VIEW_MAX_DEPTH) {
        set_blind(r, "views nested deeper than folio follows%s", "");
        return 0;
    }
    sq_view *pv = vcalloc(r, 1, sizeof *pv);
    if (!pv)
        return -1;
    char err[256];
    if (!ve->sql || sq_parse_view(pv, ve->sql, err, sizeof err) < 0) {
        if (ve->sql && strcmp(err, "out of memory") == 0)
            return r->nomem = 1, -1;
        set_blind(r, "the view %s that it reads cannot be parsed", ve->name);
        return 0;
    }
    int save_collect = r->collect, save_expand = r->expand_only, save_rc = r->rc_resolve;
    int save_nerr = r->nerr, save_aborted = r->aborted;
    char save_err[512];
    memcpy(save_err, r->err_resolve, sizeof save_err);
    r->collect = 0;
    r->expand_only = 0; /* SQLite prepares the whole view it reads */
    r->rc_resolve = 0;
    r->stack[r->nstack++] = ve->name;
    vcol *cols = NULL;
    int n = 0;
    int rc = resolve_select(r, pv, pv->sel, NULL, NULL, &cols, &n);
    r->nstack--;
    r->collect = save_collect;
    /* Its errors are the reader's, found while its FROM is looked up. */
    if (r->rc_resolve && !r->rc_expand)
        error_expand(r, r->err_resolve);
    r->rc_resolve = save_rc, r->nerr = save_nerr, r->aborted = save_aborted;
    r->expand_only = save_expand;
    memcpy(r->err_resolve, save_err, sizeof save_err);
    if (rc == 0 && !failed(r)) {
        s->ncols = pv->ncols ? pv->ncols : n;
        if (!(s->cols = vcalloc(r, (size_t)s->ncols, sizeof *s->cols)))
            rc = -1;
        for (int j = 0; rc == 0 && j < s->ncols; j++)
            s->cols[j].name = pv->ncols ? tok_name(r, pv, pv->cols[j]) : cols[j].name;
    }
    /* pv's tokens back the names: kept until the resolver ends. */
    keep(r, pv->t);
    pv->t = NULL;
    sq_view_free(pv);
    return rc;
}

static int cte_columns(vres *r, vcte *c, vscope *outer);

/* The WITH table of that name in force, or NULL (r->nomem when memory ran
 * out: not an answer). */
static vcte *find_cte(vres *r, vcte *ctes, const char *name)
{
    for (vcte *c = ctes; c; c = c->outer)
        if (asql_tok_eq(&c->v->t[c->cte->name], name))
            return c;
    (void)r;
    return NULL;
}

static int from_list(vres *r, const sq_view *v, const sq_from *f, vscope *sc, vcte *ctes);

/* Add the FROM term s to the scope. */
static int add_term(vres *r, const sq_view *v, const sq_src *t, vscope *sc, vcte *ctes)
{
    if (t->nest && t->nest->n == 1 && t->alias < 0) {
        /* "(t)": SQLite takes the inner term as it is. */
        int at = sc->nsrc;
        if (add_term(r, v, &t->nest->v[0], sc, ctes) < 0)
            return -1;
        if (sc->nsrc > at)
            sc->src[at].join = t->join;
        return 0;
    }
    vsrc *arr = os_realloc(sc->src, sizeof *arr * (size_t)(sc->nsrc + 1));
    if (!arr)
        return r->nomem = 1, -1;
    sc->src = arr;
    vsrc *s = &sc->src[sc->nsrc++];
    memset(s, 0, sizeof *s);
    s->name_tok = -1;
    s->join = t->join;
    if (t->alias >= 0) {
        s->name = tok_name(r, v, t->alias);
        s->aliased = 1;
    }
    if (t->sub || t->nest) {
        vcol *cols = NULL;
        int n = 0;
        if (t->sub) {
            if (resolve_select(r, v, t->sub, NULL, ctes, &cols, &n) < 0)
                return -1;
        } else {
            /* "(a JOIN b) AS j": a subquery of SELECT * over the join. */
            vscope in = {0};
            if (from_list(r, v, t->nest, &in, ctes) < 0) {
                os_free(in.src);
                return -1;
            }
            for (int k = 0; k < in.nsrc; k++)
                n += in.src[k].ncols;
            cols = vcalloc(r, (size_t)n, sizeof *cols);
            n = 0;
            for (int k = 0; cols && k < in.nsrc; k++)
                for (int j = 0; j < in.src[k].ncols; j++)
                    cols[n++] = (vcol){in.src[k].cols[j].name, NULL, 0};
            os_free(in.src);
            set_blind(r, "a parenthesised join of several tables%s", "");
        }
        s = &sc->src[sc->nsrc - 1];
        s->ncols = n;
        s->cols = cols;
        s->rowid_vis = 1;
        for (int j = 0; j < n; j++)
            s->cols[j].tab = NULL;
        if (!s->name)
            s->name = vstrdup(r, "", 0);
        return 0;
    }
    char *name = tok_name(r, v, t->table);
    if (!name)
        return -1;
    if (!s->name)
        s->name = name;
    if (t->is_tvf) {
        s->opaque = 1;
        return 0;
    }
    vcte *c = t->schema < 0 ? find_cte(r, ctes, name) : NULL;
    if (c) {
        if (cte_columns(r, c, NULL) < 0)
            return -1;
        s = &sc->src[sc->nsrc - 1];
        s->ncols = c->ncols;
        s->cols = c->cols;
        return 0;
    }
    db_table *tab = catalog_find_table(r->txn->cat, name);
    if (tab) {
        if (!tab->parsed) {
            set_blind(r, "table %s cannot be read", name);
            return 0;
        }
        s->name_tok = t->table;
        s->rowid_vis = !tab->def.without_rowid;
        s->in_main = 1;
        if (r->op && r->op->kind == OP_RENAME_TABLE && tab == r->op->tab && r->collect) {
            const lx_token *k = &v->t[t->table];
            edit_tok(r, t->table, asql_quoted_name(r->op->newname, k->z[k->n] == '"'));
        }
        return source_of_table(r, s, tab);
    }
    const folio_schema_entry *ve = view_entry(r, name);
    if (ve) {
        sc->src[sc->nsrc - 1].rowid_vis = 1;
        sc->src[sc->nsrc - 1].in_main = 1;
        return view_columns(r, ve, &sc->src[sc->nsrc - 1]);
    }
    char msg[600];
    snprintf(msg, sizeof msg, "no such table: main.%s", name);
    error_expand(r, msg);
    return 0; /* a term without columns: SQLite stops at the error anyway */
}

/* The columns both sides of a join hold (NATURAL) or USING's, checked as
 * sqlite3ProcessJoin checks them. */
static int join_columns(vres *r, const sq_view *v, const sq_src *t, vscope *sc, int idx)
{
    int first = 0;
    vsrc *s = &sc->src[idx];
    if (s->opaque)
        return 0;
    if (t->join & SQ_JT_NATURAL) {
        if (t->on || t->nusing) {
            error_expand(r, "a NATURAL join may not have an ON or USING clause");
            return 0;
        }
        s->usings = vcalloc(r, (size_t)s->ncols, sizeof *s->usings);
        if (!s->usings)
            return -1;
        for (int j = 0; j < s->ncols; j++)
            for (int k = first; k < idx; k++)
                if (!sc->src[k].opaque && find_col(&sc->src[k], s->cols[j].name) >= 0) {
                    s->usings[s->nusing++] = s->cols[j].name;
                    break;
                }
    } else if (t->nusing) {
        s->usings = vcalloc(r, (size_t)t->nusing, sizeof *s->usings);
        if (!s->usings)
            return -1;
        for (int u = 0; u < t->nusing; u++) {
            char *name = tok_name(r, v, t->usings[u]);
            if (!name)
                return -1;
            int left = 0;
            for (int k = first; k < idx && !left; k++)
                left = sc->src[k].opaque || find_col(&sc->src[k], name) >= 0;
            if (!left || find_col(s, name) < 0) {
                char msg[600];
                snprintf(msg, sizeof msg,
                         "cannot join using column %s - column not present in both tables", name);
                error_expand(r, msg);
            }
            s->usings[s->nusing++] = name;
        }
    }
    if ((t->join & SQ_JT_RIGHT) && s->nusing)
        set_blind(r, "a RIGHT or FULL join with USING or NATURAL%s", "");
    return 0;
}

static int from_list(vres *r, const sq_view *v, const sq_from *f, vscope *sc, vcte *ctes)
{
    /* SQLite looks every term up, then processes the joins. */
    int at = sc->nsrc;
    for (int i = 0; i < f->n && !failed(r); i++)
        if (add_term(r, v, &f->v[i], sc, ctes) < 0)
            return -1;
    for (int i = 1; i < f->n && !failed(r) && at + i < sc->nsrc; i++)
        if (join_columns(r, v, &f->v[i], sc, at + i) < 0)
            return -1;
    return r->nomem ? -1 : 0;
}

/* ---- names ---- */

static int is_rowid_name(const char *n)
{
    return name_eq(n, "rowid") || name_eq(n, "oid") || name_eq(n, "_rowid_");
}

static int uses_column(const vsrc *s, const char *name)
{
    for (int u = 0; u < s->nusing; u++)
        if (name_eq(s->usings[u], name))
            return 1;
    return 0;
}

/* SQLite's aggregate functions (min and max with one argument). */
static int is_aggregate(const sq_view *v, const sq_expr *e)
{
    static const char *const aggs[] = {"count",        "sum", "total", "avg",
                                       "group_concat", "min", "max"};
    if (e->kind != SQ_FUNC || e->over || e->over_name >= 0)
        return 0;
    for (size_t k = 0; k < sizeof aggs / sizeof *aggs; k++)
        if (asql_tok_eq(&v->t[e->tok[0]], aggs[k]))
            return k < 5 || e->nkids == 1;
    return 0;
}

static int has_aggregate(const sq_view *v, const sq_expr *e)
{
    if (!e)
        return 0;
    if (is_aggregate(v, e))
        return 1;
    for (int k = 0; k < e->nkids; k++)
        if (has_aggregate(v, e->kids[k]))
            return 1;
    return 0;
}

/* A column reference, as lookupName resolves it. */
static int resolve_name(vres *r, const sq_view *v, const sq_expr *e, vscope *sc)
{
    if (r->expand_only)
        return 0;
    char *db = NULL, *tbl = NULL, *col;
    int coltok = e->tok[e->ntok - 1], tbltok = e->ntok >= 2 ? e->tok[e->ntok - 2] : -1;
    if (e->ntok == 3 && !(db = tok_name(r, v, e->tok[0])))
        return -1;
    if (tbltok >= 0 && !(tbl = tok_name(r, v, tbltok)))
        return -1;
    if (!(col = tok_name(r, v, coltok)))
        return -1;
    int cnt_tab = 0; /* SQLite counts the tables with a rowid across levels */
    for (vscope *s = sc; s; s = s->outer) {
        int cnt = 0;
        vsrc *match = NULL;
        int mcol = 0;
        for (int k = 0; k < s->nsrc; k++) {
            vsrc *src = &s->src[k];
            if (tbl) {
                if (db && (!src->tab || !name_eq(db, "main")))
                    continue;
                if (!name_eq(src->name, tbl))
                    continue;
            }
            if (src->opaque) {
                set_blind(r, "a table-valued function or unknown FROM term (%s)", src->name);
                return 0;
            }
            int j = find_col(src, col);
            if (j >= 0) {
                if (cnt > 0 && uses_column(src, col)) {
                    if (src->join & SQ_JT_RIGHT) {
                        set_blind(r, "a RIGHT or FULL join on %s", col);
                        return 0;
                    }
                    continue;
                }
                cnt++;
                match = src;
                mcol = j;
            } else if (src->rowid_vis) {
                cnt_tab++;
                if (cnt == 0)
                    match = src, mcol = -2;
            }
        }
        if (cnt == 0 && cnt_tab == 1 && match && mcol == -2 && is_rowid_name(col)) {
            if (!match->tab) {
                r->last_colname = "rowid"; /* a view's or subquery's: nothing to edit */
                return 0;
            }
            int ipk = match->tab->def.ipk;
            r->last_colname = ipk >= 0 ? match->tab->def.cols[ipk].name : "rowid";
            resolved_column(r, match->tab, -1, coltok, match->aliased || tbltok < 0 ? -1 : tbltok);
            return 0;
        }
        if (cnt == 0 && !tbl && s->aliases && s->core) {
            for (int j = 0; j < s->core->nres; j++) {
                int a = s->core->res[j].alias;
                if (a >= 0 && asql_tok_eq(&v->t[a], col)) {
                    if (r->noagg == 2 && has_aggregate(v, s->core->res[j].e))
                        r->group_agg = 1;
                    return 0; /* an alias of the result */
                }
            }
        }
        if (cnt == 1) {
            const vcol *c = &match->cols[mcol];
            r->last_colname = c->name;
            resolved_column(r, c->tab, c->col, coltok,
                            match->aliased || tbltok < 0 || !c->tab ? -1 : tbltok);
            return 0;
        }
        if (cnt > 1) {
            char msg[600];
            if (db)
                snprintf(msg, sizeof msg, "ambiguous column name: %s.%s.%s", db, tbl, col);
            else if (tbl)
                snprintf(msg, sizeof msg, "ambiguous column name: %s.%s", tbl, col);
            else
                snprintf(msg, sizeof msg, "ambiguous column name: %s", col);
            error_resolve(r, msg);
            return 0;
        }
    }
    const lx_token *ct = &v->t[coltok];
    if (!tbl && ct->type == LX_QID && ct->z[0] == '"' && !r->no_dqs) {
        /* SQLite's double-quoted string */
        if (r->op && r->op->kind != OP_RENAME_TABLE)
            edit_tok(r, coltok, asql_single_quoted(ct));
        return 0;
    }
    if (!tbl && ct->type != LX_QID && (name_eq(col, "true") || name_eq(col, "false")))
        return 0;
    char msg[600];
    if (db)
        snprintf(msg, sizeof msg, "no such column: %s.%s.%s", db, tbl, col);
    else if (tbl)
        snprintf(msg, sizeof msg, "no such column: %s.%s", tbl, col);
    else
        snprintf(msg, sizeof msg, "no such column: %s", col);
    error_resolve(r, msg);
    return 0;
}

static int resolve_expr(vres *r, const sq_view *v, const sq_expr *e, vscope *sc, vcte *ctes);

static int resolve_window(vres *r, const sq_view *v, const sq_window *w, vscope *sc, vcte *ctes)
{
    if (!w)
        return 0;
    int rc = 0;
    for (int k = 0; k < w->nparts && rc == 0; k++)
        rc = resolve_expr(r, v, w->parts[k], sc, ctes);
    for (int k = 0; k < w->norder && rc == 0; k++)
        rc = resolve_expr(r, v, w->order[k].e, sc, ctes);
    /* SQLite resolves no name of a frame's bounds (they must be constant,
     * which it checks when it runs the view) */
    return rc;
}

static int resolve_expr(vres *r, const sq_view *v, const sq_expr *e, vscope *sc, vcte *ctes)
{
    if (!e || failed(r) || r->aborted)
        return r->nomem ? -1 : 0;
    if (!r->expand_only && r->nerr > 0 && e->kind != SQ_NAME && e->kind != SQ_FUNC && !e->like) {
        /* After an error, SQLite's resolver stops at the next node that is
         * not a name or a function call. */
        r->aborted = 1;
        return 0;
    }
    if (++r->depth > 200) {
        r->depth--;
        set_blind(r, "expressions nested deeper than folio follows%s", "");
        return 0;
    }
    int rc = 0;
    switch (e->kind) {
    case SQ_NAME:
        rc = resolve_name(r, v, e, sc);
        break;
    case SQ_FUNC: {
        /* SQLite does not look functions up while it renames, nor check
         * where aggregates are (but in GROUP BY). */

        for (int k = 0; k < e->nkids && rc == 0; k++) {
            r->aborted = 0; /* each argument is walked on its own */
            rc = resolve_expr(r, v, e->kids[k], sc, ctes);
        }
        r->aborted = 0;
        if (rc == 0)
            rc = resolve_expr(r, v, e->filter, sc, ctes);
        if (rc == 0)
            rc = resolve_window(r, v, e->over, sc, ctes);
        r->aborted = 0;
        if (rc == 0 && e->over && e->over->base >= 0)
            set_blind(r, "a window that extends a named window%s", "");
        break;
    }
    case SQ_SUBQ:
    case SQ_EXISTS:
    case SQ_IN_SEL: {
        /* the subquery first, then IN's left side */
        if (!r->expand_only && r->nerr > 0) {
            /* after an error SQLite resolves no further subquery */
            r->aborted = 1;
            break;
        }
        vcol *cols;
        int n, noagg = r->noagg;
        r->noagg = 0;
        int before = r->nerr;
        if (rc == 0)
            rc = resolve_select(r, v, e->sel, sc, ctes, &cols, &n);
        r->aborted = r->nerr > before; /* a subquery's error ends the walk */
        r->noagg = noagg;
        for (int k = 0; k < e->nkids && rc == 0; k++)
            rc = resolve_expr(r, v, e->kids[k], sc, ctes);
        if (rc == 0 && e->kind != SQ_EXISTS && n != 1)
            set_blind(r, "a subquery of %s columns where one is expected", n ? "several" : "no");
        break;
    }
    case SQ_IN_TAB:
        set_blind(r, "IN with a table or table-valued function%s", "");
        break;
    case SQ_RAISE:
        break;
    default:
        if (e->like && e->nkids >= 2) {
            /* like(pattern, left[, escape]): arguments, each a walk */
            static const int order[3] = {1, 0, 2};
            for (int k = 0; k < e->nkids && k < 3 && rc == 0; k++) {
                r->aborted = 0;
                rc = resolve_expr(r, v, e->kids[order[k]], sc, ctes);
            }
            r->aborted = 0;
            break;
        }
        for (int k = 0; k < e->nkids && rc == 0; k++)
            rc = resolve_expr(r, v, e->kids[k], sc, ctes);
    }
    r->depth--;
    return rc;
}

/* ---- SELECT ---- */

static const char *ordinal(int n, char *buf, size_t cap)
{
    static const char *const sfx[] = {"th", "st", "nd", "rd"};
    int k = n % 10;
    if (k > 3 || (n % 100) / 10 == 1)
        k = 0;
    snprintf(buf, cap, "%d%s", n, sfx[k]);
    return buf;
}

/* An integer literal term: its value, else 0. */
static int term_number(const sq_view *v, const sq_expr *e, long *out)
{
    while (e->kind == SQ_COLLATE)
        e = e->kids[0];
    if (e->kind != SQ_LITERAL || v->t[e->first].type != LX_INTEGER)
        return 0;
    const lx_token *t = &v->t[e->first];
    long n = 0;
    for (size_t k = 0; k < t->n; k++) {
        if (t->z[k] < '0' || t->z[k] > '9')
            return 0;
        if (n < 100000000)
            n = n * 10 + (t->z[k] - '0');
    }
    *out = n;
    return 1;
}

/* The name of a result column as sqlite3ColumnsFromExprList makes it:
 * its AS name, the name of the column it is (as its table has it; the
 * INTEGER PRIMARY KEY's for the rowid), else its text as written. */
static char *result_name(vres *r, const sq_view *v, const sq_rescol *rc, const char *colname)
{
    if (rc->alias >= 0)
        return tok_name(r, v, rc->alias);
    const sq_expr *e = rc->e;
    while (e->kind == SQ_COLLATE)
        e = e->kids[0];
    if (e->kind == SQ_NAME && colname)
        return vstrdup(r, colname, strlen(colname));
    const char *a = v->t[rc->e->first].z, *z = v->t[rc->e->last + 1].z;
    while (z > a && lx_is_space((unsigned char)z[-1]))
        z--;
    return vstrdup(r, a, (size_t)(z - a));
}

/* Names made unique as SQLite makes them: a name taken gets ":1", ":2"... */
static int unique_names(vres *r, vcol *cols, int n)
{
    for (int i = 1; i < n; i++) {
        unsigned cnt = 0;
        for (;;) {
            int clash = 0;
            for (int j = 0; j < i && !clash; j++)
                clash = name_eq(cols[i].name, cols[j].name);
            if (!clash)
                break;
            if (++cnt > 3) {
                set_blind(r, "result columns of the same name (%s)", cols[i].name);
                return 0;
            }
            size_t nn = strlen(cols[i].name);
            size_t k = nn;
            while (k > 0 && cols[i].name[k - 1] >= '0' && cols[i].name[k - 1] <= '9')
                k--;
            if (k > 0 && k < nn && cols[i].name[k - 1] == ':')
                nn = k - 1;
            char *nm = keep(r, os_malloc(nn + 16));
            if (!nm)
                return -1;
            snprintf(nm, nn + 16, "%.*s:%u", (int)nn, cols[i].name, cnt);
            cols[i].name = nm;
        }
    }
    return 0;
}

/* Whether FROM terms j and k have one name. */
static int dup_name(const vscope *sc, int j, int k)
{
    const char *a = sc->src[j].name, *b = sc->src[k].name;
    return a && b && a[0] && name_eq(a, b);
}

/* `*` over two FROM terms of one name: SQLite expands it into names
 * qualified with the schema ("main", "*" for a WITH table or subquery) and
 * the term's name, and the first of those that two terms match is
 * ambiguous. The message, or NULL. */
static char *star_ambiguity(vres *r, const vscope *sc)
{
    for (int k = 0; k < sc->nsrc; k++) {
        int dup = 0;
        for (int j = 0; j < sc->nsrc && !dup; j++)
            dup = j != k && dup_name(sc, j, k);
        const vsrc *s = &sc->src[k];
        for (int j = 0; j < s->ncols; j++) {
            if (k > 0 && uses_column(s, s->cols[j].name))
                continue; /* a USING column of the right side is left out */
            int left_using = 0;
            for (int q = k + 1; q < sc->nsrc && !left_using; q++)
                left_using =
                    uses_column(&sc->src[q], s->cols[j].name) && !(sc->src[q].join & SQ_JT_RIGHT);
            if (left_using)
                continue; /* expanded without a qualifier */
            if (!dup)
                break;
            size_t n = strlen(s->name) + strlen(s->cols[j].name) + 64;
            char *msg = keep(r, os_malloc(n));
            if (msg)
                snprintf(msg, n, "ambiguous column name: %s.%s.%s", s->in_main ? "main" : "*",
                         s->name, s->cols[j].name);
            return msg;
        }
    }
    return NULL;
}

/* The result columns of one SELECT (its `*` and `t.*` expanded). */
static int core_columns(vres *r, const sq_view *v, const sq_core *c, vscope *sc,
                        const char **rnames, vcol **out, int *nout)
{
    int n = 0, cap = 8;
    vcol *cols = vcalloc(r, (size_t)cap, sizeof *cols);
    if (!cols)
        return -1;
    for (int i = 0; i < c->nres; i++) {
        const sq_rescol *rc = &c->res[i];
        int from = 0, to = sc->nsrc;
        if (!rc->e) {
            /* t.* over two FROM terms named t: not followed */
            for (int k = 0; rc->qual >= 0 && k < sc->nsrc; k++)
                for (int j = 0; j < k; j++)
                    if (dup_name(sc, j, k))
                        set_blind(r, "t.* over two FROM terms of the same name (%s)",
                                  sc->src[k].name);
            if (rc->qual >= 0) {
                char *q = tok_name(r, v, rc->qual);
                if (!q)
                    return -1;
                from = -1;
                for (int k = 0; k < sc->nsrc && from < 0; k++)
                    if (name_eq(sc->src[k].name, q))
                        from = k;
                if (from < 0) {
                    char msg[600];
                    snprintf(msg, sizeof msg, "no such table: %s", q);
                    error_expand(r, msg);
                    continue;
                }
                to = from + 1;
                const vsrc *q0 = &sc->src[from];
                if (r->op && r->op->kind == OP_RENAME_TABLE && q0->tab == r->op->tab &&
                    !q0->aliased && q0->ncols > 0) {
                    const lx_token *k = &v->t[rc->qual];
                    edit_tok(r, rc->qual, asql_quoted_name(r->op->newname, k->z[k->n] == '"'));
                }
            } else if (sc->nsrc == 0) {
                error_expand(r, "no tables specified");
                continue;
            }
            for (int k = from; k < to; k++) {
                const vsrc *s = &sc->src[k];
                if (s->opaque) {
                    set_blind(r, "`*` over a table-valued function or unknown table (%s)", s->name);
                    return 0;
                }
                for (int j = 0; j < s->ncols; j++) {
                    if (rc->qual < 0 && k > 0 && uses_column(s, s->cols[j].name))
                        continue;
                    if (n == cap) {
                        vcol *nc = vcalloc(r, (size_t)cap * 2, sizeof *nc);
                        if (!nc)
                            return -1;
                        memcpy(nc, cols, sizeof *nc * (size_t)n);
                        cols = nc;
                        cap *= 2;
                    }
                    cols[n++] = (vcol){s->cols[j].name, NULL, 0};
                }
            }
            continue;
        }
        if (n == cap) {
            vcol *nc = vcalloc(r, (size_t)cap * 2, sizeof *nc);
            if (!nc)
                return -1;
            memcpy(nc, cols, sizeof *nc * (size_t)n);
            cols = nc;
            cap *= 2;
        }
        cols[n].name = c->values ? NULL : result_name(r, v, rc, rnames ? rnames[i] : NULL);
        if (c->values) {
            char buf[32];
            snprintf(buf, sizeof buf, "column%d", n + 1);
            cols[n].name = vstrdup(r, buf, strlen(buf));
        }
        if (!cols[n].name)
            return -1;
        n++;
    }
    if (unique_names(r, cols, n) < 0)
        return -1;
    *out = cols;
    *nout = n;
    return 0;
}

/* ORDER BY / GROUP BY of one SELECT (resolveOrderGroupBy). */
static int order_group(vres *r, const sq_view *v, const sq_core *c, vscope *sc, vcte *ctes,
                       sq_expr *const *terms, const sq_order *order, int n, int is_order)
{
    for (int i = 0; i < n && !failed(r); i++) {
        const sq_expr *e = order ? order[i].e : terms[i];
        const sq_expr *bare = e;
        while (bare->kind == SQ_COLLATE)
            bare = bare->kids[0];
        if (is_order && bare->kind == SQ_NAME && bare->ntok == 1) {
            /* resolveAsName: an AS name of the result comes first */
            char *b = tok_name(r, v, bare->tok[0]);
            int alias = 0;
            for (int j = 0; b && j < c->nres && !alias; j++)
                alias = c->res[j].alias >= 0 && asql_tok_eq(&v->t[c->res[j].alias], b);
            if (alias)
                continue;
        }
        long num;
        if (term_number(v, e, &num)) {
            if (num < 1 || num > 0xffff) {
                char msg[200], ob[16];
                snprintf(msg, sizeof msg, "%s %s BY term out of range - should be between 1 and %d",
                         ordinal(i + 1, ob, sizeof ob), is_order ? "ORDER" : "GROUP", c->nres);
                error_resolve(r, msg);
                return 1;
            }
            continue;
        }
        int before = r->nerr;
        r->aborted = 0;
        if (resolve_expr(r, v, e, sc, ctes) < 0)
            return -1;
        if (r->nerr > before)
            return 1;
    }
    return r->nomem ? -1 : 0;
}

/* One walk of SQLite's resolveSelectStep over an expression: 0, 1 when it
 * had an error (the SELECT stops there), -1. */
static int unit(vres *r, const sq_view *v, const sq_expr *e, vscope *sc, vcte *ctes)
{
    int before = r->nerr;
    r->aborted = 0;
    if (resolve_expr(r, v, e, sc, ctes) < 0)
        return -1;
    r->aborted = 0;
    return r->nerr > before;
}

/* One SELECT of a compound: its FROM, then its names in SQLite's order
 * (LIMIT and OFFSET, which see no names; the result; HAVING; WHERE and the
 * ON terms, which SQLite ANDs to it; windows; ORDER BY; GROUP BY). Returns
 * 0, 1 when a name did not resolve (SQLite stops there), -1. */
static int resolve_core(vres *r, const sq_view *v, const sq_core *c, vscope *outer, vcte *ctes,
                        int last, vcol **cols, int *ncols)
{
    vscope sc = {outer, NULL, 0, c, 0};
    vscope none = {0};
    if (r->expand_only) {
        /* selectExpander: the FROM terms, the joins, `*`; then the
         * subqueries of the expressions, in sqlite3WalkSelectExpr's order */
        int rc = from_list(r, v, &c->from, &sc, ctes);
        if (rc == 0)
            rc = core_columns(r, v, c, &sc, NULL, cols, ncols);
        for (int i = 0; rc == 0 && i < c->nres; i++)
            rc = resolve_expr(r, v, c->res[i].e, &sc, ctes);
        if (rc == 0)
            rc = resolve_expr(r, v, c->where, &sc, ctes);
        for (int i = 0; rc == 0 && i < c->from.n; i++)
            rc = resolve_expr(r, v, c->from.v[i].on, &sc, ctes);
        for (int i = 0; rc == 0 && i < c->ngroup; i++)
            rc = resolve_expr(r, v, c->group[i], &sc, ctes);
        if (rc == 0)
            rc = resolve_expr(r, v, c->having, &sc, ctes);
        for (int i = 0; rc == 0 && i < c->norder; i++)
            rc = resolve_expr(r, v, c->order[i].e, &sc, ctes);
        if (rc == 0)
            rc = resolve_expr(r, v, c->limit, &sc, ctes);
        if (rc == 0)
            rc = resolve_expr(r, v, c->offset, &sc, ctes);
        for (int i = 0; rc == 0 && i < c->nwin; i++)
            rc = resolve_window(r, v, c->win[i], &sc, ctes);
        os_free(sc.src);
        return rc;
    }
    int before = r->nerr;
    int rc = from_list(r, v, &c->from, &sc, ctes);
    const char **rnames = vcalloc(r, (size_t)c->nres, sizeof *rnames);
    if (!rnames)
        rc = -1;
    if (rc == 0 && r->nerr > before)
        rc = 1; /* a subquery in FROM did not resolve */
    if (rc == 0)
        rc = unit(r, v, c->limit, &none, ctes);
    if (rc == 0)
        rc = unit(r, v, c->offset, &none, ctes);
    for (int i = 0; rc == 0 && i < c->nres && !failed(r); i++) {
        r->last_colname = NULL;
        char *amb = !c->res[i].e && c->res[i].qual < 0 ? star_ambiguity(r, &sc) : NULL;
        if (amb) {
            error_resolve(r, amb);
            rc = 1;
            break;
        }
        rc = unit(r, v, c->res[i].e, &sc, ctes);
        rnames[i] = r->last_colname;
    }
    if (rc >= 0 && !failed(r) && core_columns(r, v, c, &sc, rnames, cols, ncols) < 0)
        rc = -1;
    sc.aliases = 1;
    if (rc == 0)
        rc = unit(r, v, c->having, &sc, ctes);
    if (rc == 0) {
        /* WHERE and the ON terms (ANDed to it) are one walk */
        int b0 = r->nerr;
        r->aborted = 0;
        rc = resolve_expr(r, v, c->where, &sc, ctes);
        for (int i = 0; rc == 0 && i < c->from.n; i++)
            rc = resolve_expr(r, v, c->from.v[i].on, &sc, ctes);
        r->aborted = 0;
        if (rc == 0 && r->nerr > b0)
            rc = 1;
    }
    for (int i = 0; rc == 0 && i < c->nwin; i++) {
        int b0 = r->nerr;
        r->aborted = 0;
        rc = resolve_window(r, v, c->win[i], &sc, ctes);
        r->aborted = 0;
        if (rc == 0 && r->nerr > b0)
            rc = 1;
    }
    vscope inner = sc;
    inner.outer = NULL;
    if (rc == 0 && last && c->norder && c->op == SQ_CO_NONE)
        rc = order_group(r, v, c, &inner, ctes, NULL, c->order, c->norder, 1);
    r->noagg = 2;
    r->group_agg = 0;
    if (rc == 0 && c->ngroup)
        rc = order_group(r, v, c, &inner, ctes, c->group, NULL, c->ngroup, 0);
    for (int i = 0; rc == 0 && i < c->ngroup; i++)
        r->group_agg |= has_aggregate(v, c->group[i]);
    if (rc == 0 && r->group_agg) {
        error_resolve(r, "aggregate functions are not allowed in the GROUP BY clause");
        rc = 1;
    }
    r->noagg = 0;
    r->aborted = 0;
    for (int i = 0; i < c->from.n; i++)
        if (c->from.v[i].nargs)
            set_blind(r, "a table-valued function%s", "");
    os_free(sc.src);
    return rc;
}

static int cte_columns(vres *r, vcte *c, vscope *outer)
{
    (void)outer;
    if (c->state == 2)
        return 0;
    if (c->state == 1) {
        /* a recursive reference: the columns its list names, or those of
         * the SELECT before the recursive one */
        if (c->cte->ncols) {
            c->ncols = c->cte->ncols;
            if (!(c->cols = vcalloc(r, (size_t)c->ncols, sizeof *c->cols)))
                return -1;
            for (int j = 0; j < c->ncols; j++)
                c->cols[j].name = tok_name(r, c->v, c->cte->cols[j]);
            return 0;
        }
        set_blind(r, "a recursive WITH table without a column list%s", "");
        return 0;
    }
    c->state = 1;
    vcol *cols = NULL;
    int n = 0;
    if (resolve_select(r, c->v, c->cte->sel, NULL, c->list, &cols, &n) < 0)
        return -1;
    c->state = 2;
    if (c->cte->ncols) {
        if (c->cte->ncols != n && !failed(r)) {
            char msg[600], *nm = tok_name(r, c->v, c->cte->name);
            snprintf(msg, sizeof msg, "table %s has %d values for %d columns", nm ? nm : "?", n,
                     c->cte->ncols);
            error_expand(r, msg);
        }
        c->ncols = c->cte->ncols;
        if (!(c->cols = vcalloc(r, (size_t)c->ncols, sizeof *c->cols)))
            return -1;
        for (int j = 0; j < c->ncols; j++)
            c->cols[j].name = tok_name(r, c->v, c->cte->cols[j]);
    } else {
        c->ncols = n;
        c->cols = cols;
        for (int j = 0; j < n; j++)
            c->cols[j].tab = NULL;
    }
    return 0;
}

/* The FROM term and column a name resolves to in one scope (no outer
 * one), without edits or errors: 1, else 0. */
static int lookup_quiet(vres *r, const sq_view *v, const sq_expr *e, vscope *sc, vsrc **src,
                        int *col)
{
    char *tbl = e->ntok >= 2 ? tok_name(r, v, e->tok[e->ntok - 2]) : NULL;
    char *name = tok_name(r, v, e->tok[e->ntok - 1]);
    int cnt = 0;
    if (!name || e->ntok == 3)
        return 0;
    for (int k = 0; k < sc->nsrc; k++) {
        vsrc *x = &sc->src[k];
        if ((tbl && !name_eq(x->name, tbl)) || x->opaque)
            continue;
        int j = find_col(x, name);
        if (j < 0 || (cnt > 0 && uses_column(x, name)))
            continue;
        cnt++;
        *src = x;
        *col = j;
    }
    return cnt == 1;
}

/* The ORDER BY of a compound SELECT (resolveCompoundOrderBy): from the
 * first SELECT on, a term is a column number, an AS name of that SELECT's
 * result, or a name that resolves in that SELECT to what one of its result
 * columns is (then it is edited as that name). Other terms folio does not
 * follow. */
static int compound_order(vres *r, const sq_view *v, const sq_select *sel, vcte *ctes)
{
    const sq_core *lastc = &sel->core[sel->ncore - 1];
    int n = lastc->norder;
    char *done = vcalloc(r, (size_t)n, 1);
    if (!done)
        return -1;
    for (int i = 0; i < n; i++) {
        long num;
        if (term_number(v, lastc->order[i].e, &num))
            done[i] = 1;
    }
    for (int k = 0; k < sel->ncore && !failed(r); k++) {
        const sq_core *c = &sel->core[k];
        vscope sc = {NULL, NULL, 0, c, 0};
        int save = r->collect;
        r->collect = 0;
        int rc = from_list(r, v, &c->from, &sc, ctes);
        r->collect = save;
        for (int i = 0; rc == 0 && i < n; i++) {
            if (done[i])
                continue;
            const sq_expr *e = lastc->order[i].e;
            while (e->kind == SQ_COLLATE)
                e = e->kids[0];
            if (e->kind != SQ_NAME) {
                set_blind(r, "an ORDER BY term of a compound SELECT that is an expression%s", "");
                done[i] = 1;
                continue;
            }
            char *nm = tok_name(r, v, e->tok[e->ntok - 1]);
            for (int j = 0; nm && e->ntok == 1 && j < c->nres && !done[i]; j++)
                if (c->res[j].alias >= 0 && asql_tok_eq(&v->t[c->res[j].alias], nm))
                    done[i] = 1;
            vsrc *ts;
            int tc;
            if (done[i] || !lookup_quiet(r, v, e, &sc, &ts, &tc))
                continue;
            for (int j = 0; j < c->nres && !done[i]; j++) {
                const sq_expr *re = c->res[j].e;
                while (re && re->kind == SQ_COLLATE)
                    re = re->kids[0];
                vsrc *rs;
                int rcol;
                if (re && re->kind == SQ_NAME && lookup_quiet(r, v, re, &sc, &rs, &rcol) &&
                    rs == ts && rcol == tc) {
                    done[i] = 1;
                    if (resolve_name(r, v, e, &sc) < 0)
                        rc = -1;
                }
            }
        }
        os_free(sc.src);
        if (rc < 0)
            return -1;
    }
    for (int i = 0; i < n; i++)
        if (!done[i]) {
            char msg[200], ob[16];
            snprintf(msg, sizeof msg,
                     "%s ORDER BY term does not match any column in the result set",
                     ordinal(i + 1, ob, sizeof ob));
            if (!r->rc_late) {
                r->rc_late = FOLIO_ERROR;
                snprintf(r->err_late, sizeof r->err_late, "%s", msg);
            }
            break;
        }
    return r->nomem ? -1 : 0;
}

/* A whole SELECT: its WITH, each SELECT of a compound (the last first, as
 * SQLite resolves them), the compound's ORDER BY. *cols: the result
 * columns of the first SELECT. */
static int resolve_select(vres *r, const sq_view *v, const sq_select *sel, vscope *outer,
                          vcte *ctes, vcol **cols, int *ncols)
{
    *cols = NULL;
    *ncols = 0;
    if (++r->depth > 200) {
        r->depth--;
        set_blind(r, "SELECTs nested deeper than folio follows%s", "");
        return 0;
    }
    int rc = 0;
    vcte *mine = NULL;
    if (sel->ncte) {
        mine = vcalloc(r, (size_t)sel->ncte, sizeof *mine);
        if (!mine)
            return -1;
        for (int i = 0; i < sel->ncte; i++) {
            mine[i].outer = i ? &mine[i - 1] : ctes;
            mine[i].cte = &sel->cte[i];
            mine[i].v = v;
        }
        for (int i = 0; i < sel->ncte; i++)
            mine[i].list = &mine[sel->ncte - 1];
        ctes = &mine[sel->ncte - 1];
    }
    vcol *first = NULL;
    int nfirst = 0;
    int *counts = vcalloc(r, (size_t)sel->ncore, sizeof *counts);
    if (!counts)
        return -1;
    for (int k = sel->ncore - 1; k >= 0 && rc == 0 && !failed(r); k--) {
        vcol *cc = NULL;
        int nc = 0;
        rc = resolve_core(r, v, &sel->core[k], outer, ctes, k == sel->ncore - 1, &cc, &nc);
        counts[k] = nc;
        if (k == 0)
            first = cc, nfirst = nc;
    }
    if (rc == 1) {
        /* SQLite stopped at a name: the first SELECT's columns are what
         * the readers get, as far as they were found */
        rc = 0;
    }
    /* Each SELECT of a compound has as many columns as the one before it. */
    for (int k = sel->ncore - 1; k > 0 && rc == 0 && !failed(r); k--)
        if (counts[k] != counts[k - 1]) {
            char msg[200];
            if (sel->core[k].values)
                snprintf(msg, sizeof msg, "all VALUES must have the same number of terms");
            else
                snprintf(msg, sizeof msg,
                         "SELECTs to the left and right of %s do not have the same number of "
                         "result columns",
                         sq_compound_name(sel->core[k].op));
            if (!r->rc_late) {
                r->rc_late = FOLIO_ERROR;
                snprintf(r->err_late, sizeof r->err_late, "%s", msg);
            }
            break;
        }
    if (rc == 0 && sel->ncore > 1 && sel->core[sel->ncore - 1].norder && !r->expand_only)
        rc = compound_order(r, v, sel, ctes);
    /* WITH tables no SELECT used: SQLite does not check them, but edits
     * them. */
    for (int i = 0; rc == 0 && r->e && i < sel->ncte && !failed(r); i++)
        if (mine[i].state == 0) {
            /* its errors are not SQLite's: put the first ones back */
            int se = r->rc_expand, sr = r->rc_resolve, sl = r->rc_late;
            char ee[512], er[512], el[512];
            memcpy(ee, r->err_expand, sizeof ee);
            memcpy(er, r->err_resolve, sizeof er);
            memcpy(el, r->err_late, sizeof el);
            r->rc_expand = r->rc_resolve = r->rc_late = 0;
            rc = cte_columns(r, &mine[i], NULL);
            if (r->rc_expand || r->rc_resolve || r->rc_late)
                set_blind(r, "a WITH table that is not used and does not resolve%s", "");
            r->rc_expand = se, r->rc_resolve = sr, r->rc_late = sl;
            memcpy(r->err_expand, ee, sizeof ee);
            memcpy(r->err_resolve, er, sizeof er);
            memcpy(r->err_late, el, sizeof el);
        }
    *cols = first;
    *ncols = nfirst;
    r->depth--;
    return r->nomem ? -1 : rc;
}

/* ---- entry points ---- */

static void vres_free(vres *r)
{
    for (int i = 0; i < r->npool; i++)
        os_free(r->pool[i]);
    os_free(r->pool);
}

/* Resolve view `name` (its SQL `sql`): 0; SQLite's error or FOLIO_NOMEM,
 * set on the handle; or 1 when folio cannot resolve it (the construct in
 * why). With op and e, the edits of its text. */
static int view_resolve(folio_txn *txn, const alter_op *op, const char *name, const char *sql,
                        const char *when, int no_dqs, edits *e, char *why, size_t whylen)
{
    folio_db *db = txn->db;
    sq_view v;
    char err[256];
    if (sq_parse_view(&v, sql, err, sizeof err) < 0) {
        if (strcmp(err, "out of memory") == 0)
            return db_err(db, FOLIO_NOMEM, "out of memory");
        return db_err(db, FOLIO_ERROR, "error in view %s%s%s: %s", name, when[0] ? " " : "", when,
                      err);
    }
    vres r;
    memset(&r, 0, sizeof r);
    r.txn = txn;
    r.op = op;
    r.v = &v;
    r.e = e;
    r.collect = e != NULL;
    r.no_dqs = no_dqs;
    r.stack[r.nstack++] = name;
    vcol *cols;
    int ncols;
    /* SQLite expands the whole SELECT (FROM terms, joins, `*`) before it
     * resolves a name: a first pass finds those errors. */
    r.expand_only = 1;
    r.collect = 0;
    int rc = resolve_select(&r, &v, v.sel, NULL, NULL, &cols, &ncols);
    if (rc == 0 && !r.rc_expand && !r.nomem) {
        r.expand_only = 0;
        r.collect = e != NULL;
        r.blind = 0;
        rc = resolve_select(&r, &v, v.sel, NULL, NULL, &cols, &ncols);
    }
    if (rc < 0 || r.nomem)
        rc = db_err(db, FOLIO_NOMEM, "out of memory");
    else if (r.rc_expand && r.expand_sure)
        rc = db_err(db, FOLIO_ERROR, "error in view %s%s%s: %s", name, when[0] ? " " : "", when,
                    r.err_expand);
    else if (r.blind && (r.rc_expand || r.rc_resolve || r.rc_late))
        rc = db_err(db, FOLIO_UNSUPPORTED,
                    "view %s does not resolve (%s), but folio cannot tell SQLite's error: it "
                    "cannot resolve %s as SQLite does",
                    name,
                    r.rc_expand    ? r.err_expand
                    : r.rc_resolve ? r.err_resolve
                                   : r.err_late,
                    r.why);
    else if (r.rc_expand || r.rc_resolve || r.rc_late)
        rc = db_err(db, FOLIO_ERROR, "error in view %s%s%s: %s", name, when[0] ? " " : "", when,
                    r.rc_expand    ? r.err_expand
                    : r.rc_resolve ? r.err_resolve
                                   : r.err_late);
    else if (r.blind) {
        /* the caller decides: 1 and the reason in *why */
        if (why)
            snprintf(why, whylen, "%s", r.why);
        rc = 1;
    }
    vres_free(&r);
    sq_view_free(&v);
    return rc;
}

int alter_view_edits(folio_txn *txn, const alter_op *op, const char *name, const char *sql,
                     edits *e, char *why, size_t whylen)
{
    return view_resolve(txn, op, name, sql, "", 0, e, why, whylen);
}

int alter_schema_check(folio_txn *txn, const char *when)
{
    db_catalog *cat = txn->cat;
    for (int i = 0; i < cat->nentries; i++) {
        const folio_schema_entry *en = &cat->entries[i];
        if (!en->type || !en->sql || asql_name_is_internal(en->name))
            continue;
        int rc = 0;
        if (strcmp(en->type, "view") == 0)
            rc = view_resolve(txn, NULL, en->name, en->sql, when, 0, NULL, NULL, 0);
        else if (strcmp(en->type, "trigger") == 0)
            rc = alter_trigger_check(txn, en, when);
        if (rc < 0)
            return rc; /* a view folio cannot resolve (1) is not checked */
    }
    return 0;
}
