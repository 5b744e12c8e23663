/*
 * fkey.c - foreign keys, enforced as SQLite enforces them with
 * PRAGMA foreign_keys=ON (folio_options.foreign_keys).
 *
 * SQLite counts violations instead of naming them. Each statement (a call
 * of the API) has a counter for immediate constraints; the transaction has
 * one for deferred constraints. A row that comes into a child table with no
 * parent adds one; a child row that goes while it had no parent takes one
 * away; a parent row that goes adds one for each child row still pointing
 * at it; a parent row that comes takes one away for each child row it
 * satisfies. Removals are skipped while the counter is zero, exactly as
 * SQLite's OP_FkIfZero skips them. A statement whose immediate counter is
 * above zero at its end fails with FOLIO_CONSTRAINT and is undone; a commit
 * while the deferred counter is above zero fails the same way.
 *
 * The actions of a parent key (ON DELETE / ON UPDATE CASCADE, SET NULL,
 * SET DEFAULT, RESTRICT) run after the parent row was written, as row
 * operations on the child table made inside the same statement: they check
 * and act in turn, up to SQLite's depth of 1000.
 *
 * Comparisons are SQLite's: a child key is looked up with the parent key
 * columns' affinity and collation; child rows are found by the parent's
 * value compared with the parent column's collation, numeric when either
 * column has a numeric affinity. A child index serves when it gives the
 * same answer; else the child table is scanned.
 */
#include "db/write_int.h"

#include <stdio.h>
#include <string.h>

#define FK_MAX_DEPTH 1000 /* SQLite's SQLITE_MAX_TRIGGER_DEPTH */

enum { P_ROWID, P_INDEX, P_WRPK };         /* how the parent key is found */
enum { C_SCAN, C_ROWID, C_INDEX, C_WRPK }; /* how child rows are found */

typedef struct fk_link {
    db_table *child;
    const sch_fkey *fk;
    int fkid; /* SQLite's number: 0 for the last declared */
    db_table *parent;
    int mismatch; /* the parent has no unique key on those columns */
    int nkey;
    int pkind;
    db_index *pidx;
    int *pcol;        /* per key position (the parent key's order): parent column */
    int *ccol;        /* per key position: child column */
    uint8_t *numeric; /* per key position: compared as numbers */
    uint8_t *coll;    /* per key position: the parent column's collation */
    uint8_t *paff;    /* per key position: the parent column's affinity */
    int ckind;        /* finding the children */
    db_index *cidx;   /* C_INDEX */
    int *cpos;        /* C_INDEX / C_WRPK: key position of each leading index column */
} fk_link;

static int conc_log_key(folio_txn *txn, const fk_link *L, const fmt_value *kv);

typedef struct fk_tab {
    db_table *tab;
    int nout, nin;
    fk_link **out, **in;
} fk_tab;

struct fk_graph {
    uint64_t gen;
    int nlinks;
    fk_link *links;
    int ntabs;
    fk_tab *tabs;
};

static uint64_t g_graph_gen;

/* ---- the graph ---- */

void fk_graph_free(struct fk_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->nlinks; i++) {
        fk_link *L = &g->links[i];
        os_free(L->pcol);
        os_free(L->ccol);
        os_free(L->numeric);
        os_free(L->coll);
        os_free(L->paff);
        os_free(L->cpos);
    }
    for (int i = 0; i < g->ntabs; i++) {
        os_free(g->tabs[i].out);
        os_free(g->tabs[i].in);
    }
    os_free(g->links);
    os_free(g->tabs);
    os_free(g);
}

static int is_numeric_aff(int aff)
{
    return aff == SCH_AFF_NUMERIC || aff == SCH_AFF_INTEGER || aff == SCH_AFF_REAL;
}

static int col_affinity(const sch_table *d, int col)
{
    return col == d->ipk ? SCH_AFF_INTEGER : d->cols[col].affinity;
}

/* Whether the first n key columns of a candidate (kcol, kcoll) can be the
 * parent key: fills pcol/ccol in the candidate's order. */
static int match_parent_key(fk_link *L, const int *kcol, const uint8_t *kcoll, int nk, int is_pk)
{
    const sch_fkey *fk = L->fk;
    const sch_table *P = &L->parent->def;
    if (nk != fk->ncols)
        return 0;
    if (!fk->pcols) {
        if (!is_pk)
            return 0;
        for (int i = 0; i < nk; i++) {
            L->pcol[i] = kcol[i];
            L->ccol[i] = fk->cols[i];
        }
        return 1;
    }
    for (int i = 0; i < nk; i++) {
        int col = kcol[i];
        if (col < 0 || col >= P->ncols || kcoll[i] != P->cols[col].collation)
            return 0;
        int j = 0;
        while (j < nk && !sch_ident_eq(fk->pcols[j], P->cols[col].name))
            j++;
        if (j == nk)
            return 0;
        L->pcol[i] = col;
        L->ccol[i] = fk->cols[j];
    }
    return 1;
}

static void locate_parent_key(fk_link *L)
{
    const sch_fkey *fk = L->fk;
    db_table *pt = L->parent;
    const sch_table *P = &pt->def;
    int n = fk->ncols;
    if (n == 1 && P->ipk >= 0 && (!fk->pcols || sch_ident_eq(P->cols[P->ipk].name, fk->pcols[0]))) {
        L->pkind = P_ROWID;
        L->pcol[0] = P->ipk;
        L->ccol[0] = fk->cols[0];
        return;
    }
    if (P->without_rowid && P->npk == n) {
        int kcol[SCH_MAX_COLUMNS > 64 ? 64 : SCH_MAX_COLUMNS];
        if (n <= 64) {
            for (int i = 0; i < n; i++)
                kcol[i] = P->pk[i].col;
            if (match_parent_key(L, kcol, pt->pk_coll, n, 1)) {
                L->pkind = P_WRPK;
                return;
            }
        }
    }
    for (int x = 0; x < pt->nidx; x++) {
        db_index *ix = pt->idx[x];
        if (!ix->unique || ix->partial || ix->has_expr || ix->ncols != n)
            continue;
        if (match_parent_key(L, ix->cols, ix->coll, n, ix->is_pk)) {
            L->pkind = P_INDEX;
            L->pidx = ix;
            return;
        }
    }
    L->mismatch = 1;
}

/* Whether an index column (its collation) finds the children of key
 * position k exactly. */
static int child_col_ok(const fk_link *L, int k, int icoll)
{
    if (icoll != L->coll[k])
        return 0;
    return !L->numeric[k] || is_numeric_aff(col_affinity(&L->child->def, L->ccol[k]));
}

/* The leading n columns (cols, colls) are the child key, in any order. */
static int child_lead_ok(fk_link *L, const int *cols, const uint8_t *colls, int ncols)
{
    int n = L->nkey;
    if (ncols < n)
        return 0;
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < n && L->ccol[k] != cols[i])
            k++;
        if (k == n || !child_col_ok(L, k, colls[i]))
            return 0;
        for (int j = 0; j < i; j++)
            if (L->cpos[j] == k)
                return 0;
        L->cpos[i] = k;
    }
    return 1;
}

static void locate_children(fk_link *L)
{
    db_table *ct = L->child;
    const sch_table *C = &ct->def;
    int n = L->nkey;
    L->ckind = C_SCAN;
    if (n == 1 && L->ccol[0] == C->ipk && C->ipk >= 0) {
        L->ckind = C_ROWID;
        return;
    }
    if (C->without_rowid && n <= 64) {
        int cols[64];
        int m = C->npk < 64 ? C->npk : 64;
        for (int i = 0; i < m; i++)
            cols[i] = C->pk[i].col;
        if (child_lead_ok(L, cols, ct->pk_coll, m)) {
            L->ckind = C_WRPK;
            return;
        }
    }
    for (int x = 0; x < ct->nidx; x++) {
        db_index *ix = ct->idx[x];
        if (ix->partial || !ix->cols)
            continue;
        int bad = 0;
        for (int i = 0; i < n && i < ix->ncols; i++)
            bad |= ix->cols[i] < 0;
        if (!bad && child_lead_ok(L, ix->cols, ix->coll, ix->ncols)) {
            L->ckind = C_INDEX;
            L->cidx = ix;
            return;
        }
    }
}

static fk_tab *graph_tab(struct fk_graph *g, const db_table *t)
{
    for (int i = 0; i < g->ntabs; i++)
        if (g->tabs[i].tab == t)
            return &g->tabs[i];
    return NULL;
}

static int tab_add(fk_link ***list, int *n, fk_link *L)
{
    fk_link **v = os_realloc(*list, sizeof *v * (size_t)(*n + 1));
    if (!v)
        return -1;
    v[(*n)++] = L;
    *list = v;
    return 0;
}

static int graph_build(db_catalog *cat, struct fk_graph **out)
{
    struct fk_graph *g = os_calloc(1, sizeof *g);
    if (!g)
        return FOLIO_NOMEM;
    int total = 0;
    for (int i = 0; i < cat->ntables; i++)
        if (cat->tables[i]->parsed)
            total += cat->tables[i]->def.nfkeys;
    g->links = os_calloc((size_t)(total ? total : 1), sizeof *g->links);
    g->tabs = os_calloc((size_t)(cat->ntables ? cat->ntables : 1), sizeof *g->tabs);
    if (!g->links || !g->tabs) {
        fk_graph_free(g);
        return FOLIO_NOMEM;
    }
    g->ntabs = cat->ntables;
    for (int i = 0; i < cat->ntables; i++)
        g->tabs[i].tab = cat->tables[i];
    for (int i = 0; i < cat->ntables; i++) {
        db_table *ct = cat->tables[i];
        if (!ct->parsed)
            continue;
        for (int f = 0; f < ct->def.nfkeys; f++) {
            fk_link *L = &g->links[g->nlinks++];
            const sch_fkey *fk = &ct->def.fkeys[f];
            int n = fk->ncols;
            L->child = ct;
            L->fk = fk;
            L->fkid = ct->def.nfkeys - 1 - f;
            L->nkey = n;
            L->pcol = os_calloc((size_t)n, sizeof *L->pcol);
            L->ccol = os_calloc((size_t)n, sizeof *L->ccol);
            L->cpos = os_calloc((size_t)n, sizeof *L->cpos);
            L->numeric = os_calloc((size_t)n, 1);
            L->coll = os_calloc((size_t)n, 1);
            L->paff = os_calloc((size_t)n, 1);
            if (!L->pcol || !L->ccol || !L->cpos || !L->numeric || !L->coll || !L->paff) {
                fk_graph_free(g);
                return FOLIO_NOMEM;
            }
            L->parent = catalog_find_table(cat, fk->parent);
            if (L->parent && !L->parent->parsed)
                L->mismatch = 1;
            else if (L->parent)
                locate_parent_key(L);
            if (tab_add(&g->tabs[i].out, &g->tabs[i].nout, L) < 0) {
                fk_graph_free(g);
                return FOLIO_NOMEM;
            }
            if (!L->parent)
                continue;
            fk_tab *pt = graph_tab(g, L->parent);
            if (pt && tab_add(&pt->in, &pt->nin, L) < 0) {
                fk_graph_free(g);
                return FOLIO_NOMEM;
            }
            if (L->mismatch)
                continue;
            const sch_table *P = &L->parent->def;
            for (int k = 0; k < n; k++) {
                int pa = col_affinity(P, L->pcol[k]);
                int ca = col_affinity(&ct->def, L->ccol[k]);
                L->paff[k] = (uint8_t)pa;
                L->numeric[k] = (uint8_t)(is_numeric_aff(pa) || is_numeric_aff(ca));
                L->coll[k] = (uint8_t)(L->pkind == P_ROWID ? SCH_COLL_BINARY
                                                           : P->cols[L->pcol[k]].collation);
            }
            locate_children(L);
        }
    }
    g->gen = __atomic_add_fetch(&g_graph_gen, 1, __ATOMIC_RELAXED);
    *out = g;
    return 0;
}

static struct fk_graph *graph_get(folio_txn *txn)
{
    folio_db *db = txn->db;
    pthread_mutex_lock(&db->mu);
    struct fk_graph *g = txn->cat->fk;
    if (!g && graph_build(txn->cat, &g) == 0)
        txn->cat->fk = g;
    pthread_mutex_unlock(&db->mu);
    if (!g)
        db_err(db, FOLIO_NOMEM, "out of memory");
    return g;
}

int fk_involved(folio_txn *txn, table_state *ts)
{
    if (!db_fk_on(txn))
        return 0;
    struct fk_graph *g = graph_get(txn);
    if (!g)
        return FOLIO_NOMEM;
    if (ts->fk_gen != g->gen) {
        fk_tab *ft = graph_tab(g, ts->tab);
        ts->fk_nout = ft ? ft->nout : 0;
        ts->fk_nin = ft ? ft->nin : 0;
        ts->fk_out = ft ? ft->out : NULL;
        ts->fk_in = ft ? ft->in : NULL;
        ts->fk_gen = g->gen;
    }
    return ts->fk_nout + ts->fk_nin > 0;
}

/* ---- values ---- */

static void to_folio(folio_value *o, const fmt_value *v)
{
    memset(o, 0, sizeof *o);
    o->type = (folio_type)v->type;
    if (v->type == FMT_INTEGER)
        o->u.i = v->u.i;
    else if (v->type == FMT_REAL)
        o->u.r = v->u.r;
    else if (v->type == FMT_TEXT || v->type == FMT_BLOB) {
        o->u.s.p = v->u.s.p;
        o->u.s.n = (size_t)v->u.s.n;
    }
}

static void to_fmt(fmt_value *o, const folio_value *v)
{
    memset(o, 0, sizeof *o);
    o->type = (int)v->type;
    if (v->type == FOLIO_INTEGER)
        o->u.i = v->u.i;
    else if (v->type == FOLIO_REAL)
        o->u.r = v->u.r;
    else if (v->type == FOLIO_TEXT || v->type == FOLIO_BLOB) {
        o->u.s.p = v->u.s.p;
        o->u.s.n = v->u.s.n;
    }
}

/* A value as an integer rowid, as SQLite's MustBeInt: 1, or 0 when it is
 * not one. */
static int as_rowid(const fmt_value *v, int64_t *out)
{
    fmt_value x = *v;
    char buf[SCH_NUMBER_TEXT_BYTES];
    if (x.type == FMT_TEXT)
        sch_apply_affinity(&x, SCH_AFF_NUMERIC, buf, sizeof buf);
    if (x.type == FMT_INTEGER) {
        *out = x.u.i;
        return 1;
    }
    if (x.type == FMT_REAL && x.u.r >= -9223372036854775808.0 && x.u.r < 9223372036854775808.0 &&
        (double)(int64_t)x.u.r == x.u.r) {
        *out = (int64_t)x.u.r;
        return 1;
    }
    return 0;
}

/* Parent value pv against child value cv for key position k. */
static int key_eq(const fk_link *L, int k, const fmt_value *pv, const fmt_value *cv)
{
    if (pv->type == FMT_NULL || cv->type == FMT_NULL)
        return 0;
    fmt_value a = *pv, b = *cv;
    char ba[SCH_NUMBER_TEXT_BYTES], bb[SCH_NUMBER_TEXT_BYTES];
    if (L->numeric[k]) {
        if (a.type == FMT_TEXT)
            sch_apply_affinity(&a, SCH_AFF_NUMERIC, ba, sizeof ba);
        if (b.type == FMT_TEXT)
            sch_apply_affinity(&b, SCH_AFF_NUMERIC, bb, sizeof bb);
    }
    return sch_compare(&a, &b, L->coll[k]) == 0;
}

/* A table's handle in the transaction. */
static int handle_of(folio_txn *txn, db_table *tab, folio_table **out)
{
    for (int i = 0; i < txn->ntables; i++)
        if (txn->tables[i]->tab == tab && !txn->tables[i]->dead) {
            *out = txn->tables[i];
            return 0;
        }
    return folio_table_open(out, txn, tab->name);
}

/* ---- the parent of a child row ---- */

/* Whether the child key `cv` (per key position) has a parent row; self
 * (for an insert into a table that is its own parent: the new row's values
 * per column, and its rowid) counts as one. */
static int parent_found(folio_txn *txn, const fk_link *L, const fmt_value *cv,
                        const fmt_value *self, int64_t self_rowid, int *found)
/* (self: the row's own parent key values, per key position) */
{
    int n = L->nkey;
    *found = 1;
    for (int k = 0; k < n; k++)
        if (cv[k].type == FMT_NULL)
            return 0;
    folio_table *pt;
    int rc = handle_of(txn, L->parent, &pt);
    if (rc < 0)
        return rc;
    if (L->pkind == P_ROWID) {
        int64_t id;
        if (!as_rowid(&cv[0], &id)) {
            *found = 0;
            return 0;
        }
        if (self && id == self_rowid)
            return 0;
        folio_cursor *c;
        if ((rc = folio_cursor_open(&c, pt, NULL)) < 0)
            return rc;
        rc = folio_cursor_seek_rowid(c, id);
        folio_cursor_close(c);
        if (rc < 0 && rc != FOLIO_NOTFOUND)
            return rc;
        *found = rc == FOLIO_ROW;
        return 0;
    }
    if (self) {
        int same = 1;
        for (int k = 0; k < n && same; k++)
            same = self[k].type != FMT_NULL && sch_compare(&cv[k], &self[k], SCH_COLL_BINARY) == 0;
        if (same)
            return 0;
    }
    folio_value key[64];
    fmt_value conv[64];
    char tb[64][SCH_NUMBER_TEXT_BYTES];
    if (n > 64)
        return db_err(txn->db, FOLIO_UNSUPPORTED, "foreign key of %d columns", n);
    for (int k = 0; k < n; k++) {
        conv[k] = cv[k];
        sch_apply_affinity(&conv[k], L->paff[k], tb[k], sizeof tb[k]);
        to_folio(&key[k], &conv[k]);
    }
    folio_cursor *c;
    if ((rc = folio_cursor_open(&c, pt, L->pkind == P_INDEX ? L->pidx->name : NULL)) < 0)
        return rc;
    rc = folio_cursor_seek(c, key, n, FOLIO_SEEK_EQ);
    folio_cursor_close(c);
    if (rc < 0 && rc != FOLIO_NOTFOUND)
        return rc;
    *found = rc == FOLIO_ROW;
    return 0;
}

/* ---- the children of a parent row ---- */

typedef struct child_row {
    folio_cursor *c;
    const fmt_value *cv; /* per key position */
} child_row;

typedef int (*child_cb)(void *arg, const fk_link *L, child_row *r);

/* Read the child key of the cursor's row into cv (per key position). */
static int read_child_key(const fk_link *L, folio_cursor *c, fmt_value *cv)
{
    for (int k = 0; k < L->nkey; k++) {
        folio_value v;
        int rc = folio_cursor_column(&v, c, L->ccol[k]);
        if (rc < 0)
            return rc;
        to_fmt(&cv[k], &v);
    }
    return 0;
}

/* Call cb for every child row whose key equals the parent key pv (per key
 * position). */
static int scan_children(folio_txn *txn, const fk_link *L, const fmt_value *pv, child_cb cb,
                         void *arg)
{
    int n = L->nkey;
    for (int k = 0; k < n; k++)
        if (pv[k].type == FMT_NULL)
            return 0;
    if (n > 64)
        return db_err(txn->db, FOLIO_UNSUPPORTED, "foreign key of %d columns", n);
    folio_table *ct;
    int rc = handle_of(txn, L->child, &ct);
    if (rc < 0)
        return rc;
    fmt_value cv[64];
    folio_cursor *c;
    if (L->ckind == C_ROWID) {
        int64_t id;
        fmt_value x = pv[0];
        char tb[SCH_NUMBER_TEXT_BYTES];
        if (x.type == FMT_TEXT)
            sch_apply_affinity(&x, SCH_AFF_NUMERIC, tb, sizeof tb);
        if (!as_rowid(&x, &id))
            return 0;
        if ((rc = folio_cursor_open(&c, ct, NULL)) < 0)
            return rc;
        rc = folio_cursor_seek_rowid(c, id);
        if (rc == FOLIO_ROW && (rc = read_child_key(L, c, cv)) == 0 && key_eq(L, 0, &pv[0], &cv[0]))
            rc = cb(arg, L, &(child_row){c, cv});
        folio_cursor_close(c);
        return rc < 0 && rc != FOLIO_NOTFOUND ? rc : 0;
        /* (a callback returns > 0 to stop the walk) */
    }
    if (L->ckind == C_SCAN) {
        if ((rc = folio_cursor_open(&c, ct, NULL)) < 0)
            return rc;
        for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
            if ((rc = read_child_key(L, c, cv)) < 0)
                break;
            int eq = 1;
            for (int k = 0; k < n && eq; k++)
                eq = key_eq(L, k, &pv[k], &cv[k]);
            if (eq && (rc = cb(arg, L, &(child_row){c, cv})) != 0)
                break;
        }
        folio_cursor_close(c);
        return rc < 0 ? rc : 0;
    }
    /* An index (or the WITHOUT ROWID key) led by the child key. */
    folio_value key[64];
    fmt_value conv[64];
    char tb[64][SCH_NUMBER_TEXT_BYTES];
    for (int i = 0; i < n; i++) {
        int k = L->cpos[i];
        conv[i] = pv[k];
        if (L->numeric[k] && conv[i].type == FMT_TEXT)
            sch_apply_affinity(&conv[i], SCH_AFF_NUMERIC, tb[i], sizeof tb[i]);
        to_folio(&key[i], &conv[i]);
    }
    if ((rc = folio_cursor_open(&c, ct, L->ckind == C_INDEX ? L->cidx->name : NULL)) < 0)
        return rc;
    for (rc = folio_cursor_seek(c, key, n, FOLIO_SEEK_GE); rc == FOLIO_ROW;
         rc = folio_cursor_next(c)) {
        if ((rc = read_child_key(L, c, cv)) < 0)
            break;
        int in_range = 1;
        for (int i = 0; i < n && in_range; i++) {
            int k = L->cpos[i];
            in_range = sch_compare(&cv[k], &conv[i], L->coll[k]) == 0;
        }
        if (!in_range)
            break;
        int eq = 1;
        for (int k = 0; k < n && eq; k++)
            eq = key_eq(L, k, &pv[k], &cv[k]);
        if (eq && (rc = cb(arg, L, &(child_row){c, cv})) != 0)
            break;
    }
    folio_cursor_close(c);
    return rc < 0 && rc != FOLIO_NOTFOUND ? rc : 0;
}

/* ---- counting ---- */

static int64_t *counter(folio_txn *txn, const fk_link *L)
{
    return L->fk->deferred ? &txn->fk_deferred : &txn->fk_stmt;
}

/* "name(a, b)": a table and columns of L (child side or parent side). */
static size_t describe_cols(char *buf, size_t cap, const fk_link *L, int parent_side)
{
    const db_table *t = parent_side ? L->parent : L->child;
    size_t at = (size_t)snprintf(buf, cap, "%s(", t ? t->name : L->fk->parent);
    for (int k = 0; k < L->nkey && at < cap; k++) {
        int col = parent_side ? L->pcol[k] : L->ccol[k];
        const char *name = t && col >= 0 && col < t->def.ncols ? t->def.cols[col].name : "?";
        at += (size_t)snprintf(buf + at, cap - at, "%s%s", k ? ", " : "", name);
    }
    if (at < cap)
        at += (size_t)snprintf(buf + at, cap - at, ")");
    return at < cap ? at : cap - 1;
}

/* "(1, 'x')": key values, each cut short. */
static size_t describe_vals(char *buf, size_t cap, const fmt_value *v, int n)
{
    size_t at = (size_t)snprintf(buf, cap, "(");
    for (int k = 0; k < n && at < cap; k++) {
        const char *sep = k ? ", " : "";
        const fmt_value *x = &v[k];
        if (x->type == FMT_INTEGER)
            at += (size_t)snprintf(buf + at, cap - at, "%s%lld", sep, (long long)x->u.i);
        else if (x->type == FMT_REAL)
            at += (size_t)snprintf(buf + at, cap - at, "%s%.17g", sep, x->u.r);
        else if (x->type == FMT_TEXT)
            at += (size_t)snprintf(buf + at, cap - at, "%s'%.*s%s'", sep,
                                   (int)(x->u.s.n > 24 ? 24 : x->u.s.n), (const char *)x->u.s.p,
                                   x->u.s.n > 24 ? "..." : "");
        else if (x->type == FMT_BLOB)
            at += (size_t)snprintf(buf + at, cap - at, "%sx'...' (%llu bytes)", sep,
                                   (unsigned long long)x->u.s.n);
        else
            at += (size_t)snprintf(buf + at, cap - at, "%sNULL", sep);
    }
    if (at < cap)
        at += (size_t)snprintf(buf + at, cap - at, ")");
    return at < cap ? at : cap - 1;
}

/* Count one violation more (or, delta < 0, fewer) for L's counter; a new
 * one is described in its note, a removal makes the note uncertain. */
static void count_violation(folio_txn *txn, const fk_link *L, int64_t delta, const fmt_value *kv,
                            int parent_gone)
{
    *counter(txn, L) += delta;
    int which = L->fk->deferred ? 1 : 0;
    if (delta < 0 || !kv) {
        txn->fk_note_ok[which] = 0;
        return;
    }
    char *b = txn->fk_note[which];
    size_t cap = sizeof txn->fk_note[which];
    size_t at = describe_cols(b, cap, L, 0);
    at += (size_t)snprintf(b + at, cap - at, " = ");
    if (at < cap)
        at += describe_vals(b + at, cap - at, kv, L->nkey);
    if (at < cap)
        snprintf(b + at, cap - at, parent_gone ? ": its row in %s is gone" : ": no such row in %s",
                 L->fk->parent);
    txn->fk_note_ok[which] = 1;
}

typedef struct count_arg {
    folio_txn *txn;
    int64_t incr;
    /* A parent row that goes does not count itself as its own child. */
    int exclude;
    int64_t self_rowid;
    const fmt_value *self_pv;
} count_arg;

static int count_cb(void *arg, const fk_link *L, child_row *r)
{
    count_arg *a = arg;
    if (a->exclude) {
        if (!L->child->def.without_rowid) {
            if (folio_cursor_rowid(r->c) == a->self_rowid)
                return 0;
        } else {
            /* NOT (parent key columns IS the parent's values) */
            int same = 1;
            for (int k = 0; k < L->nkey && same; k++) {
                folio_value v;
                int rc = folio_cursor_column(&v, r->c, L->pcol[k]);
                if (rc < 0)
                    return rc;
                fmt_value x;
                to_fmt(&x, &v);
                const fmt_value *p = &a->self_pv[k];
                same = (x.type == FMT_NULL && p->type == FMT_NULL) ||
                       (x.type != FMT_NULL && p->type != FMT_NULL &&
                        sch_compare(&x, p, L->coll[k]) == 0);
            }
            if (same)
                return 0;
        }
    }
    count_violation(a->txn, L, a->incr, r->cv, 1);
    return 0;
}

/* The key values of `row` (per column; rowid for the INTEGER PRIMARY KEY)
 * at the parent (pcol) or child (ccol) columns of L. */
static void key_of(const fk_link *L, const fmt_value *row, int64_t rowid, const db_table *tab,
                   int parent_side, fmt_value *out)
{
    for (int k = 0; k < L->nkey; k++) {
        int col = parent_side ? L->pcol[k] : L->ccol[k];
        if (col == tab->def.ipk && !tab->def.without_rowid) {
            out[k].type = FMT_INTEGER;
            out[k].u.i = rowid;
        } else {
            out[k] = row[col];
        }
    }
}

static int col_in(const fk_change *chg, int col)
{
    if (!chg || !chg->cols)
        return 1;
    for (int i = 0; i < chg->n; i++)
        if (chg->cols[i] == col)
            return 1;
    return 0;
}

static int child_modified(const fk_link *L, const fk_change *chg)
{
    for (int k = 0; k < L->nkey; k++)
        if (col_in(chg, L->ccol[k]))
            return 1;
    return 0;
}

/* SQLite's fkParentIsModified: the named parent columns, or with none named
 * any PRIMARY KEY column, among those set. */
static int parent_modified(const fk_link *L, const fk_change *chg)
{
    const sch_table *P = &L->parent->def;
    for (int c = 0; c < P->ncols; c++) {
        if (!col_in(chg, c))
            continue;
        if (L->fk->pcols) {
            for (int k = 0; k < L->nkey; k++)
                if (sch_ident_eq(L->fk->pcols[k], P->cols[c].name))
                    return 1;
        } else {
            for (int k = 0; k < P->npk; k++)
                if (P->pk[k].col == c)
                    return 1;
        }
    }
    return 0;
}

static int mismatch_err(folio_txn *txn, const fk_link *L)
{
    return db_err(txn->db, FOLIO_ERROR, "foreign key mismatch - \"%s\" referencing \"%s\"",
                  L->child->name, L->fk->parent);
}

int fk_prepare(folio_txn *txn, table_state *ts, int op, const fk_change *chg)
{
    int rc = fk_involved(txn, ts);
    if (rc <= 0)
        return rc;
    const db_table *tab = ts->tab;
    int required = op != 'u';
    if (op == 'u') {
        for (int i = 0; i < ts->fk_nout && !required; i++)
            required = child_modified(ts->fk_out[i], chg);
        for (int i = 0; i < ts->fk_nin && !required; i++)
            required = parent_modified(ts->fk_in[i], chg);
        if (!required)
            return 0;
    }
    for (int i = 0; i < ts->fk_nout; i++) {
        const fk_link *L = ts->fk_out[i];
        int self = L->parent == tab;
        if (op == 'u' && !self && !child_modified(L, chg))
            continue;
        if (!L->parent && !txn->fk_dropping)
            return db_err(txn->db, FOLIO_ERROR, "no such table: main.%s", L->fk->parent);
        if (L->parent && L->mismatch && !txn->fk_dropping)
            return mismatch_err(txn, L);
    }
    for (int i = 0; i < ts->fk_nin; i++) {
        const fk_link *L = ts->fk_in[i];
        if (!L->mismatch || txn->fk_dropping)
            continue;
        /* An insert of one row cannot break or mend an immediate constraint:
         * SQLite does not look at those (unless inside an action). */
        if (op == 'i' && !L->fk->deferred && txn->fk_depth == 0)
            continue;
        return mismatch_err(txn, L);
    }
    return 0;
}

int fk_old_row(folio_txn *txn, table_state *ts, const fmt_value *row, int64_t rowid,
               const fk_change *chg, int is_update)
{
    int rc = fk_involved(txn, ts);
    if (rc <= 0)
        return rc;
    db_table *tab = ts->tab;
    fmt_value kv[64];
    for (int i = 0; i < ts->fk_nout; i++) {
        const fk_link *L = ts->fk_out[i];
        if (L->nkey > 64)
            return db_err(txn->db, FOLIO_UNSUPPORTED, "foreign key of %d columns", L->nkey);
        if (is_update && L->parent != tab && !child_modified(L, chg))
            continue;
        key_of(L, row, rowid, tab, 0, kv);
        int null = 0;
        for (int k = 0; k < L->nkey; k++)
            null |= kv[k].type == FMT_NULL;
        if (null)
            continue;
        if (!L->parent) {
            /* Only while DROP TABLE deletes: the parent counts as empty. */
            if (txn->fk_dropping)
                count_violation(txn, L, -1, NULL, 0);
            continue;
        }
        if (L->mismatch)
            continue;
        /* A child row that goes mends a violation, if any is counted. */
        if (*counter(txn, L) == 0)
            continue;
        int found;
        if ((rc = parent_found(txn, L, kv, NULL, 0, &found)) < 0)
            return rc;
        if (!found)
            count_violation(txn, L, -1, NULL, 0);
    }
    for (int i = 0; i < ts->fk_nin; i++) {
        const fk_link *L = ts->fk_in[i];
        if (L->mismatch || (is_update && !parent_modified(L, chg)))
            continue;
        key_of(L, row, rowid, tab, 1, kv);
        if (txn->conc && (rc = conc_log_key(txn, L, kv)) < 0)
            return rc;
        count_arg a = {txn, 1, L->child == tab, rowid, kv};
        if ((rc = scan_children(txn, L, kv, count_cb, &a)) < 0)
            return rc;
    }
    return 0;
}

int fk_new_row(folio_txn *txn, table_state *ts, const fmt_value *row, int64_t rowid,
               const fk_change *chg, int is_update)
{
    int rc = fk_involved(txn, ts);
    if (rc <= 0)
        return rc;
    db_table *tab = ts->tab;
    const void *setnull = txn->fk_setnull;
    txn->fk_setnull = NULL;
    fmt_value kv[64];
    for (int i = 0; i < ts->fk_nout; i++) {
        const fk_link *L = ts->fk_out[i];
        if (L->nkey > 64)
            return db_err(txn->db, FOLIO_UNSUPPORTED, "foreign key of %d columns", L->nkey);
        if (is_update && L->parent != tab && !child_modified(L, chg))
            continue;
        if (!L->parent || L->mismatch || (const void *)L == setnull)
            continue;
        key_of(L, row, rowid, tab, 0, kv);
        if (txn->conc && (rc = conc_log_key(txn, L, kv)) < 0)
            return rc;
        fmt_value self[64];
        if (L->parent == tab)
            key_of(L, row, rowid, tab, 1, self);
        int found;
        if ((rc = parent_found(txn, L, kv, L->parent == tab ? self : NULL, rowid, &found)) < 0)
            return rc;
        if (!found)
            count_violation(txn, L, 1, kv, 0);
    }
    for (int i = 0; i < ts->fk_nin; i++) {
        const fk_link *L = ts->fk_in[i];
        if (L->mismatch || (is_update && !parent_modified(L, chg)))
            continue;
        /* A parent row that comes mends violations, if any are counted;
         * not an immediate one when the statement is a top-level INSERT of
         * one row (SQLite: it "cannot cause (or fix)" one, and skips the
         * scan). */
        if (*counter(txn, L) == 0 ||
            (!is_update && !L->fk->deferred && txn->fk_single_insert && txn->fk_depth == 0))
            continue;
        key_of(L, row, rowid, tab, 1, kv);
        count_arg a = {txn, -1, 0, 0, NULL};
        if ((rc = scan_children(txn, L, kv, count_cb, &a)) < 0)
            return rc;
    }
    return 0;
}

/* ---- actions ---- */

/* The child rows an action works on: rowids, or WITHOUT ROWID key values
 * (copied). */
typedef struct victims {
    int64_t n, cap;
    int64_t *rowid;
    folio_value *keys; /* npk per row */
    uint8_t *bytes;
    size_t used, bcap;
    int npk;
    const sch_table *def; /* the table they are rows of */
} victims;

static int victims_add(void *arg, const fk_link *L, child_row *r)
{
    victims *v = arg;
    const sch_table *C = v->def;
    (void)L;
    if (v->n == v->cap) {
        int64_t ncap = v->cap ? 2 * v->cap : 16;
        int64_t *nr = os_realloc(v->rowid, sizeof *nr * (size_t)ncap);
        if (!nr)
            return FOLIO_NOMEM;
        v->rowid = nr;
        if (C->without_rowid) {
            folio_value *nk = os_realloc(v->keys, sizeof *nk * (size_t)(ncap * v->npk));
            if (!nk)
                return FOLIO_NOMEM;
            v->keys = nk;
        }
        v->cap = ncap;
    }
    v->rowid[v->n] = folio_cursor_rowid(r->c);
    if (C->without_rowid) {
        for (int k = 0; k < v->npk; k++) {
            folio_value *o = &v->keys[v->n * v->npk + k];
            int rc = folio_cursor_column(o, r->c, C->pk[k].col);
            if (rc < 0)
                return rc;
            if (o->type == FOLIO_TEXT || o->type == FOLIO_BLOB) {
                /* keep the bytes: as an offset until the end */
                if (v->used + o->u.s.n > v->bcap) {
                    size_t ncap = (v->bcap + o->u.s.n) * 2 + 64;
                    uint8_t *nb = os_realloc(v->bytes, ncap);
                    if (!nb)
                        return FOLIO_NOMEM;
                    v->bytes = nb;
                    v->bcap = ncap;
                }
                if (o->u.s.n)
                    memcpy(v->bytes + v->used, o->u.s.p, o->u.s.n);
                o->u.s.p = (const void *)(uintptr_t)v->used;
                v->used += o->u.s.n;
            }
        }
    }
    v->n++;
    return 0;
}

static void victims_free(victims *v)
{
    os_free(v->rowid);
    os_free(v->keys);
    os_free(v->bytes);
}

/* RESTRICT: the first child row found, described. */
typedef struct restrict_arg {
    int any;
    char what[160];
} restrict_arg;

static int first_any(void *arg, const fk_link *L, child_row *r)
{
    restrict_arg *a = arg;
    a->any = 1;
    size_t at = describe_cols(a->what, sizeof a->what, L, 0);
    at += (size_t)snprintf(a->what + at, sizeof a->what - at, " = ");
    if (at < sizeof a->what)
        describe_vals(a->what + at, sizeof a->what - at, r->cv, L->nkey);
    return 1; /* stop */
}

/* ---- concurrent transactions ---- */

/* A concurrent transaction checks its foreign keys in its snapshot; a
 * commit after it may have deleted a parent it relies on, or added a child
 * of a parent key it took away. Each key it relies on goes into its change
 * log (BT_LOG_FK_KEY: the link, the key values as a record), and at its
 * commit, once its changes are replayed, the key must hold in the newest
 * database: the parent is there, or no child row has the key. */
static int conc_log_key(folio_txn *txn, const fk_link *L, const fmt_value *kv)
{
    if (!L->parent || L->mismatch)
        return 0;
    for (int k = 0; k < L->nkey; k++)
        if (kv[k].type == FMT_NULL)
            return 0;
    uint64_t st[64];
    uint64_t size = fmt_record_plan(kv, L->nkey, 4, st);
    uint8_t stack[512];
    uint8_t *rec = size <= sizeof stack ? stack : os_malloc((size_t)size);
    if (!rec)
        return db_err(txn->db, FOLIO_NOMEM, "out of memory");
    fmt_record_write(rec, kv, L->nkey, st, size);
    bt_log_entry e = {BT_LOG_FK_KEY, 0, 0, 0, 0, (uint64_t)(uintptr_t)L, size};
    int rc = ptxn_log_append(txn->pt, &e, sizeof e);
    if (rc == 0)
        rc = ptxn_log_append(txn->pt, rec, (size_t)size);
    if (rec != stack)
        os_free(rec);
    return rc < 0 ? db_err_txn(txn, rc) : 0;
}

int fk_conc_verify(folio_txn *txn, const bt_log_entry *e, const uint8_t *rec, char *msg, size_t cap)
{
    const fk_link *L = (const fk_link *)(uintptr_t)e->hash;
    fmt_value kv[64];
    fmt_record r;
    uint64_t st, off;
    if (L->nkey > 64 || fmt_record_open(&r, rec, e->size, e->size) < 0)
        return db_err(txn->db, FOLIO_CORRUPT, "a malformed foreign key in the change log");
    for (int k = 0; k < L->nkey; k++)
        if (fmt_record_next(&r, &st, &off) != 1 || fmt_serial_decode(st, rec + off, &kv[k]) < 0)
            return db_err(txn->db, FOLIO_CORRUPT, "a malformed foreign key in the change log");
    int found;
    int rc = parent_found(txn, L, kv, NULL, 0, &found);
    if (rc < 0 || found)
        return rc < 0 ? rc : 0;
    restrict_arg a = {0, ""};
    if ((rc = scan_children(txn, L, kv, first_any, &a)) < 0)
        return rc;
    if (!a.any)
        return 0;
    snprintf(msg, cap,
             "FOREIGN KEY constraint of %s: %s has no row in %s after a commit after this "
             "transaction began",
             L->child->name, a.what, L->parent->name);
    return FOLIO_CONFLICT;
}

/* Owned copies of key values (TEXT/BLOB bytes into buf). */
static int copy_values(const fmt_value *in, int n, fmt_value *out, uint8_t **buf)
{
    size_t need = 0;
    for (int k = 0; k < n; k++)
        if (in[k].type == FMT_TEXT || in[k].type == FMT_BLOB)
            need += in[k].u.s.n;
    *buf = os_malloc(need ? need : 1);
    if (!*buf)
        return FOLIO_NOMEM;
    size_t at = 0;
    for (int k = 0; k < n; k++) {
        out[k] = in[k];
        if (in[k].type == FMT_TEXT || in[k].type == FMT_BLOB) {
            if (in[k].u.s.n)
                memcpy(*buf + at, in[k].u.s.p, in[k].u.s.n);
            out[k].u.s.p = *buf + at;
            at += in[k].u.s.n;
        }
    }
    return 0;
}

/* Run one nested row operation of an action: part of the statement. */
/* An action's arrays, on the heap: actions nest up to FK_MAX_DEPTH deep. */
typedef struct act_scratch {
    int cols[64];
    folio_value vals[64];
    folio_value key[64];
    uint8_t *dbuf[64]; /* SET DEFAULT: each value's own bytes */
} act_scratch;

static int nested(folio_txn *txn, const fk_link *L, int action, folio_table *ct, const victims *v,
                  int64_t i, const folio_value *vals, act_scratch *sc)
{
    const sch_table *C = &L->child->def;
    int *cols = sc->cols;
    for (int k = 0; k < L->nkey; k++)
        cols[k] = L->ccol[k];
    int saved = txn->stmt_nested;
    const uint8_t *given = txn->vals_given; /* (the mask of the call whose action this is) */
    int keep_old = txn->vals_keep_old;
    txn->vals_given = NULL;
    txn->vals_keep_old = 0;
    txn->stmt_nested = 1;
    txn->fk_setnull = action == SCH_FK_SET_NULL ? (const void *)L : NULL;
    /* SQLite codes an action as a trigger program fired OR ABORT: the
     * triggers its UPDATE (SET NULL, SET DEFAULT, CASCADE) fires run their
     * statements OR ABORT too; its DELETE (CASCADE) has no conflict clause
     * and fires its triggers with none. */
    txn->onconf = vals ? SCH_OC_ABORT : SCH_OC_DEFAULT;
    int rc;
    if (!C->without_rowid) {
        rc = vals ? folio_patch(ct, v->rowid[i], cols, vals, L->nkey)
                  : folio_delete(ct, v->rowid[i]);
    } else {
        folio_value *key = sc->key;
        for (int k = 0; k < v->npk; k++) {
            key[k] = v->keys[i * v->npk + k];
            if (key[k].type == FOLIO_TEXT || key[k].type == FOLIO_BLOB)
                key[k].u.s.p = v->bytes + (uintptr_t)key[k].u.s.p;
        }
        rc = vals ? db_patch_key(ct, key, v->npk, cols, vals, L->nkey)
                  : folio_delete_key(ct, key, v->npk);
    }
    txn->fk_setnull = NULL;
    txn->vals_given = given;
    txn->vals_keep_old = keep_old;
    txn->stmt_nested = saved;
    txn->row_skipped = 0;                 /* (it tells of the call whose action this is) */
    return rc == FOLIO_NOTFOUND ? 0 : rc; /* (gone already, as SQLite skips it) */
}

static int one_action(folio_txn *txn, table_state *ts, const fk_link *L, const fmt_value *okey,
                      const fmt_value *nkey_vals, int is_update)
{
    int action = is_update ? L->fk->on_update : L->fk->on_delete;
    if (action == SCH_FK_NO_ACTION)
        return 0;
    if (is_update) {
        /* WHEN NOT (old.key IS new.key, each column) */
        int same = 1;
        for (int k = 0; k < L->nkey && same; k++) {
            const fmt_value *a = &okey[k], *b = &nkey_vals[k];
            same =
                (a->type == FMT_NULL && b->type == FMT_NULL) ||
                (a->type != FMT_NULL && b->type != FMT_NULL && sch_compare(a, b, L->coll[k]) == 0);
        }
        if (same)
            return 0;
    }
    (void)ts;
    if (txn->fk_depth >= FK_MAX_DEPTH)
        return db_err(txn->db, FOLIO_ERROR, "too many levels of trigger recursion");
    int rc;
    if (action == SCH_FK_RESTRICT) {
        restrict_arg ra;
        memset(&ra, 0, sizeof ra);
        rc = scan_children(txn, L, okey, first_any, &ra);
        if (rc < 0)
            return rc;
        if (ra.any)
            return db_err(txn->db, FOLIO_CONSTRAINT,
                          "FOREIGN KEY constraint failed: %s still refers to the row of %s "
                          "(ON %s RESTRICT)",
                          ra.what, L->fk->parent, is_update ? "UPDATE" : "DELETE");
        return 0;
    }
    victims v;
    memset(&v, 0, sizeof v);
    v.def = &L->child->def;
    v.npk = L->child->def.without_rowid ? L->child->def.npk : 0;
    if (v.npk > 64)
        return db_err(txn->db, FOLIO_UNSUPPORTED, "primary key of %d columns", v.npk);
    if ((rc = scan_children(txn, L, okey, victims_add, &v)) < 0) {
        victims_free(&v);
        return rc == FOLIO_NOMEM ? db_err(txn->db, rc, "out of memory") : rc;
    }
    folio_table *ct = NULL;
    if (v.n && (rc = handle_of(txn, L->child, &ct)) < 0) {
        victims_free(&v);
        return rc;
    }
    /* The new values of the child key columns. */
    act_scratch *sc = os_calloc(1, sizeof *sc);
    if (!sc) {
        victims_free(&v);
        return db_err(txn->db, FOLIO_NOMEM, "out of memory");
    }
    folio_value *vals = sc->vals;
    uint8_t **dbuf = sc->dbuf;
    const folio_value *pvals = NULL;
    if (v.n && (action != SCH_FK_CASCADE || is_update)) {
        pvals = vals;
        for (int k = 0; k < L->nkey && rc >= 0; k++) {
            memset(&vals[k], 0, sizeof vals[k]);
            if (action == SCH_FK_CASCADE) {
                to_folio(&vals[k], &nkey_vals[k]);
            } else if (action == SCH_FK_SET_DEFAULT) {
                table_state *cts;
                fmt_value d;
                char buf[SCH_NUMBER_TEXT_BYTES];
                if ((rc = table_for(ct, &cts)) < 0 ||
                    (rc = write_default_value(txn, cts, L->ccol[k], &d, buf)) < 0)
                    break;
                if ((rc = copy_values(&d, 1, &d, &dbuf[k])) < 0) {
                    rc = db_err(txn->db, rc, "out of memory");
                    break;
                }
                to_folio(&vals[k], &d);
            }
        }
    }
    txn->fk_depth++;
    for (int64_t i = 0; rc >= 0 && i < v.n; i++)
        rc = nested(txn, L, action, ct, &v, i, pvals, sc);
    txn->fk_depth--;
    for (int k = 0; k < L->nkey && k < 64; k++)
        os_free(dbuf[k]);
    os_free(sc);
    victims_free(&v);
    return rc < 0 ? rc : 0;
}

int fk_actions(folio_txn *txn, table_state *ts, const fmt_value *orow, int64_t orowid,
               const fmt_value *nrow, int64_t nrowid, const fk_change *chg)
{
    int rc = fk_involved(txn, ts);
    if (rc <= 0 || ts->fk_nin == 0)
        return rc < 0 ? rc : 0;
    db_table *tab = ts->tab;
    int nin = ts->fk_nin;
    /* The actions' keys are copied first: an action on the table itself
     * reuses ts's rows. */
    typedef struct pending {
        const fk_link *L;
        fmt_value ok[64], nk[64];
        uint8_t *ob, *nb;
    } pending;
    pending *pa = os_calloc((size_t)nin, sizeof *pa);
    if (!pa)
        return db_err(txn->db, FOLIO_NOMEM, "out of memory");
    int np = 0;
    rc = 0;
    for (int i = 0; i < nin && rc == 0; i++) {
        const fk_link *L = ts->fk_in[i];
        if (L->mismatch || L->nkey > 64 || (nrow && !parent_modified(L, chg)))
            continue;
        int action = nrow ? L->fk->on_update : L->fk->on_delete;
        if (action == SCH_FK_NO_ACTION)
            continue;
        pending *p = &pa[np++];
        p->L = L;
        fmt_value tmp[64];
        key_of(L, orow, orowid, tab, 1, tmp);
        if ((rc = copy_values(tmp, L->nkey, p->ok, &p->ob)) == 0 && nrow) {
            key_of(L, nrow, nrowid, tab, 1, tmp);
            rc = copy_values(tmp, L->nkey, p->nk, &p->nb);
        }
        if (rc < 0)
            rc = db_err(txn->db, rc, "out of memory");
    }
    /* SQLite runs them the key made last first (its list of the keys that
     * refer to a table takes each new one at its head): the links are in
     * the order of the tables and their keys, so from the end. */
    for (int i = np - 1; i >= 0 && rc == 0; i--)
        rc = one_action(txn, ts, pa[i].L, pa[i].ok, nrow ? pa[i].nk : NULL, nrow != NULL);
    for (int i = 0; i < np; i++) {
        os_free(pa[i].ob);
        os_free(pa[i].nb);
    }
    os_free(pa);
    return rc;
}

/* ---- statements and commit ---- */

void fk_stmt_begin(folio_txn *txn)
{
    txn->fk_stmt = 0;
    txn->fk_note_ok[0] = 0;
    txn->fk_deferred_at_stmt = txn->fk_deferred;
    if ((txn->fk_note_ok_at_stmt = txn->fk_note_ok[1]) != 0)
        memcpy(txn->fk_note_at_stmt, txn->fk_note[1], sizeof txn->fk_note_at_stmt);
}

/* SQLite's message, and what is known of the violation left. */
static int fk_failed(folio_txn *txn, int which, const char *tail)
{
    if (txn->fk_note_ok[which])
        return db_err(txn->db, FOLIO_CONSTRAINT, "FOREIGN KEY constraint failed: %s%s",
                      txn->fk_note[which], tail);
    return db_err(txn->db, FOLIO_CONSTRAINT, "FOREIGN KEY constraint failed%s", tail);
}

int fk_stmt_end(folio_txn *txn)
{
    if (txn->fk_stmt > 0)
        return fk_failed(txn, 0, "");
    return 0;
}

int fk_commit_check(folio_txn *txn)
{
    if (txn->fk_deferred > 0)
        return fk_failed(txn, 1, " (the transaction was rolled back)");
    return 0;
}

void fk_stmt_undo(folio_txn *txn)
{
    txn->fk_stmt = 0;
    txn->fk_deferred = txn->fk_deferred_at_stmt;
    if ((txn->fk_note_ok[1] = txn->fk_note_ok_at_stmt) != 0)
        memcpy(txn->fk_note[1], txn->fk_note_at_stmt, sizeof txn->fk_note[1]);
}

/* ---- DROP TABLE ---- */

int fk_drop_table(folio_txn *txn, db_table *tab)
{
    if (!db_fk_on(txn) || !tab->parsed)
        return 0;
    folio_table *t;
    int rc = handle_of(txn, tab, &t);
    if (rc < 0)
        return rc;
    table_state *ts;
    if ((rc = table_for(t, &ts)) < 0 || (rc = fk_involved(txn, ts)) <= 0)
        return rc;
    if (ts->fk_nin == 0) {
        /* A child only: only when deferred violations are counted. */
        int deferred = 0;
        for (int i = 0; i < ts->fk_nout; i++)
            deferred |= ts->fk_out[i]->fk->deferred;
        if (!deferred || txn->fk_deferred == 0)
            return 0;
    }
    victims v;
    memset(&v, 0, sizeof v);
    v.def = &tab->def;
    v.npk = tab->def.without_rowid ? tab->def.npk : 0;
    if (v.npk > 64)
        return db_err(txn->db, FOLIO_UNSUPPORTED, "primary key of %d columns", v.npk);
    folio_cursor *c;
    if ((rc = folio_cursor_open(&c, t, NULL)) < 0)
        return rc;
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
        if ((rc = victims_add(&v, NULL, &(child_row){c, NULL})) < 0)
            break;
    folio_cursor_close(c);
    if (rc < 0 && rc != FOLIO_DONE) {
        victims_free(&v);
        return rc == FOLIO_NOMEM ? db_err(txn->db, rc, "out of memory") : rc;
    }
    rc = 0;
    txn->fk_dropping++;
    fk_link self = {0};
    self.child = tab;
    self.nkey = 0;
    act_scratch *sc = os_calloc(1, sizeof *sc);
    if (!sc)
        rc = db_err(txn->db, FOLIO_NOMEM, "out of memory");
    for (int64_t i = 0; rc >= 0 && i < v.n; i++)
        rc = nested(txn, &self, SCH_FK_CASCADE, t, &v, i, NULL, sc);
    os_free(sc);
    txn->fk_dropping--;
    victims_free(&v);
    if (rc < 0)
        return rc;
    return fk_stmt_end(txn);
}

/* ---- PRAGMA foreign_key_check ---- */

static int check_table(folio_txn *txn, struct fk_graph *g, db_table *tab,
                       int (*cb)(void *arg, const folio_fk_violation *v), void *arg)
{
    fk_tab *ft = graph_tab(g, tab);
    if (!ft || ft->nout == 0)
        return 0;
    for (int i = 0; i < ft->nout; i++)
        if (ft->out[i]->parent && ft->out[i]->mismatch)
            return mismatch_err(txn, ft->out[i]);
    folio_table *t;
    int rc = handle_of(txn, tab, &t);
    if (rc < 0)
        return rc;
    folio_cursor *c;
    if ((rc = folio_cursor_open(&c, t, NULL)) < 0)
        return rc;
    fmt_value cv[64];
    int stop = 0;
    /* In SQLite's order: each row, its constraints by id. */
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW && !stop; rc = folio_cursor_next(c)) {
        for (int id = 0; id < ft->nout && rc >= 0 && !stop; id++) {
            const fk_link *L = NULL;
            for (int i = 0; i < ft->nout; i++)
                if (ft->out[i]->fkid == id)
                    L = ft->out[i];
            if (!L || L->nkey > 64)
                continue;
            int n = L->nkey, null = 0;
            for (int k = 0; k < n && rc >= 0; k++) {
                folio_value v;
                int col = L->parent ? L->ccol[k] : L->fk->cols[k];
                if ((rc = folio_cursor_column(&v, c, col)) < 0)
                    break;
                to_fmt(&cv[k], &v);
                null |= cv[k].type == FMT_NULL;
            }
            if (rc < 0 || null)
                continue;
            int found = 0;
            if (L->parent && (rc = parent_found(txn, L, cv, NULL, 0, &found)) < 0)
                break;
            if (found)
                continue;
            folio_fk_violation v = {tab->name, folio_cursor_rowid(c), !tab->def.without_rowid,
                                    L->fk->parent, L->fkid};
            if (cb && cb(arg, &v) != 0)
                stop = 1;
        }
        if (rc < 0)
            break;
    }
    folio_cursor_close(c);
    return rc < 0 ? rc : stop;
}

int folio_foreign_key_check(folio_txn *txn, const char *table,
                            int (*cb)(void *arg, const folio_fk_violation *v), void *arg)
{
    if (!txn)
        return FOLIO_MISUSE;
    TXN_ON_TIME(txn);
    if (txn->done)
        return db_err(txn->db, FOLIO_MISUSE, "the transaction has ended");
    struct fk_graph *g = graph_get(txn);
    if (!g)
        return FOLIO_NOMEM;
    if (table) {
        db_table *tab = catalog_find_table(txn->cat, table);
        if (!tab)
            return db_err(txn->db, FOLIO_NOTFOUND_ERR, "no such table: %s", table);
        int rc = check_table(txn, g, tab, cb, arg);
        return rc < 0 ? rc : FOLIO_OK;
    }
    for (int i = 0; i < g->ntabs; i++) {
        int rc = check_table(txn, g, g->tabs[i].tab, cb, arg);
        if (rc < 0)
            return rc;
        if (rc > 0)
            break;
    }
    return FOLIO_OK;
}
