/*
 * table_state.c - what a write transaction keeps per table: cursors over the
 * table and its indexes, row buffers sized from the table's definition, and
 * the states a handle keeps from one transaction to the next (so that small
 * transactions allocate nothing).
 */
#include "db/write_int.h"

#include <assert.h>
#include <string.h>
#include <time.h>

/* ---- row value storage ---- */

static int rowvals_init(row_vals *r, int n)
{
    r->n = n;
    r->v = os_calloc((size_t)n + 1, sizeof *r->v);
    return r->v ? 0 : FOLIO_NOMEM;
}

static void rowvals_free(row_vals *r)
{
    os_free(r->v);
    os_free(r->bytes);
    memset(r, 0, sizeof *r);
}

/* Copy TEXT/BLOB bytes of every value into the row's own storage. */
int row_vals_own(row_vals *r)
{
    size_t need = 0;
    for (int i = 0; i < r->n; i++)
        if (r->v[i].type == FMT_TEXT || r->v[i].type == FMT_BLOB)
            need += (size_t)r->v[i].u.s.n;
    if (need > r->cap) {
        uint8_t *b = os_malloc(need);
        if (!b)
            return FOLIO_NOMEM;
        /* Values may point into the old buffer: copy through the new one. */
        size_t off = 0;
        for (int i = 0; i < r->n; i++) {
            if (r->v[i].type == FMT_TEXT || r->v[i].type == FMT_BLOB) {
                size_t n = (size_t)r->v[i].u.s.n;
                if (n)
                    memcpy(b + off, r->v[i].u.s.p, n);
                r->v[i].u.s.p = b + off;
                off += n;
            }
        }
        os_free(r->bytes);
        r->bytes = b;
        r->cap = need;
        return 0;
    }
    /* Fits: values never point into our own buffer here (callers own-copy
     * fresh values), so copy in place. */
    static const uint8_t empty[1] = {0};
    if (need == 0) {
        for (int i = 0; i < r->n; i++)
            if (r->v[i].type == FMT_TEXT || r->v[i].type == FMT_BLOB)
                r->v[i].u.s.p = empty;
        return 0;
    }
    size_t off = 0;
    for (int i = 0; i < r->n; i++) {
        if (r->v[i].type == FMT_TEXT || r->v[i].type == FMT_BLOB) {
            size_t n = (size_t)r->v[i].u.s.n;
            if (n && r->v[i].u.s.p != r->bytes + off)
                memmove(r->bytes + off, r->v[i].u.s.p, n);
            r->v[i].u.s.p = r->bytes + off;
            off += n;
        }
    }
    return 0;
}

/* ---- per-table write state ---- */

static void table_state_free(table_state *ts)
{
    bt_cursor_release(&ts->c);
    for (int i = 0; i < ts->nidx; i++) {
        index_defer_free(&ts->idx[i]);
        bt_cursor_release(&ts->idx[i].c);
        sch_order_free(&ts->idx[i].order);
        os_free(ts->idx[i].kv);
        os_free(ts->idx[i].xbuf);
        os_free(ts->idx[i].xoff);
    }
    os_free(ts->idx);
    sch_order_free(&ts->pk_order);
    rowvals_free(&ts->newrow);
    rowvals_free(&ts->oldrow);
    row_decoder_free(&ts->rd);
    os_free(ts->textbuf);
    os_free(ts->fields);
    os_free(ts->st);
    os_free(ts->pk);
    os_free(ts->opk);
    os_free(ts->rec);
    os_free(ts->irec);
    ex_ctx_free(ts->cx);
    for (int c = 0; ts->dbuf && c < ts->tab->def.ncols; c++)
        os_free(ts->dbuf[c]);
    os_free(ts->dbuf);
    os_free(ts->dcap);
    os_free(ts);
}

void table_states_free(folio_txn *txn)
{
    txn->states_gen++;
    for (int i = 0; i < txn->nstates; i++)
        table_state_free(txn->states[i]);
    txn->nstates = 0; /* the array stays, for the handle's next transaction */
}

void table_state_drop(folio_txn *txn, const db_table *tab)
{
    int keep = 0;
    for (int i = 0; i < txn->nstates; i++) {
        if (txn->states[i]->tab == tab)
            table_state_free(txn->states[i]);
        else
            txn->states[keep++] = txn->states[i];
    }
    txn->nstates = keep;
}

/* Caller holds db->mu. */
static void spare_free_locked(folio_db *db)
{
    for (int i = 0; i < db->nspare; i++)
        table_state_free(db->spare[i]);
    db->nspare = 0;
    if (db->spare_cat)
        catalog_unref(db->spare_cat);
    db->spare_cat = NULL;
}

void db_spare_states_free(folio_db *db)
{
    pthread_mutex_lock(&db->mu);
    spare_free_locked(db);
    pthread_mutex_unlock(&db->mu);
}

void table_states_stash(folio_txn *txn)
{
    folio_db *db = txn->db;
    if (!txn->write || txn->schema_changed || txn->poisoned || !txn->cat) {
        table_states_free(txn);
        return;
    }
    txn->states_gen++;
    pthread_mutex_lock(&db->mu);
    if (db->spare_cat != txn->cat) {
        spare_free_locked(db);
        db->spare_cat = txn->cat;
        __atomic_add_fetch(&txn->cat->refs, 1, __ATOMIC_ACQ_REL);
    }
    for (int i = 0; i < txn->nstates; i++) {
        table_state *ts = txn->states[i];
        if (db->nspare == DB_SPARE_STATES) {
            table_state_free(ts);
            continue;
        }
        /* Nothing of this transaction stays: positions, queued entries,
         * the cached largest rowid (another process may write meanwhile). */
        bt_cursor_reset(&ts->c);
        for (int j = 0; j < ts->nidx; j++) {
            index_defer_free(&ts->idx[j]);
            bt_cursor_reset(&ts->idx[j].c);
        }
        ts->max_valid = 0;
        db->spare[db->nspare++] = ts;
    }
    pthread_mutex_unlock(&db->mu);
    txn->nstates = 0;
}

/* Room for one more table state in txn->states. */
static int states_room(folio_txn *txn)
{
    if (txn->nstates < txn->states_cap)
        return 0;
    int n = txn->states_cap ? txn->states_cap * 2 : 4;
    table_state **v = os_realloc(txn->states, sizeof *v * (size_t)n);
    if (!v)
        return FOLIO_NOMEM;
    txn->states = v;
    txn->states_cap = n;
    return 0;
}

/* A kept state of `tab` for this transaction's catalog, or NULL. */
static table_state *spare_take(folio_txn *txn, db_table *tab)
{
    folio_db *db = txn->db;
    table_state *ts = NULL;
    pthread_mutex_lock(&db->mu);
    if (db->spare_cat == txn->cat) {
        for (int i = 0; i < db->nspare; i++) {
            if (db->spare[i]->tab == tab) {
                ts = db->spare[i];
                db->spare[i] = db->spare[--db->nspare];
                break;
            }
        }
    }
    pthread_mutex_unlock(&db->mu);
    if (ts) {
        ts->c.t = txn->pt;
        for (int j = 0; j < ts->nidx; j++)
            ts->idx[j].c.t = txn->pt;
    }
    return ts;
}

void table_states_reset(folio_txn *txn)
{
    for (int i = 0; i < txn->nstates; i++) {
        table_state *ts = txn->states[i];
        bt_cursor_reset(&ts->c);
        for (int j = 0; j < ts->nidx; j++)
            bt_cursor_reset(&ts->idx[j].c);
        ts->max_valid = 0;
    }
}

static int index_state_init(index_state *is, db_index *ix, db_table *tab, folio_txn *txn)
{
    (void)tab;
    is->ix = ix;
    int nf = ix->nfields;
    const uint8_t *desc = ix->fdesc, *coll = ix->fcoll;
    int rc = sch_order_init(&is->order, nf, desc, coll, txn->cat->text_encoding);
    if (rc < 0)
        return rc;
    is->kv = os_calloc((size_t)nf + 1, sizeof *is->kv);
    if (!is->kv)
        return FOLIO_NOMEM;
    bt_cursor_init(&is->c, txn->pt, ix->root, 0);
    is->c.reccmp = sch_record_compare;
    is->c.reccfg = &is->order;
    return 0;
}

int table_state_get(table_state **out, folio_txn *txn, db_table *tab)
{
    for (int i = 0; i < txn->nstates; i++) {
        if (txn->states[i]->tab == tab) {
            *out = txn->states[i];
            return 0;
        }
    }
    table_state *ts = txn->write ? spare_take(txn, tab) : NULL;
    if (ts) {
        if (states_room(txn) < 0) {
            table_state_free(ts);
            return FOLIO_NOMEM;
        }
        txn->states[txn->nstates++] = ts;
        *out = ts;
        return 0;
    }
    ts = os_calloc(1, sizeof *ts);
    if (!ts)
        return FOLIO_NOMEM;
    ts->tab = tab;
    int ncols = tab->def.ncols;
    int rc = 0;
    /* Serial types: enough for the table's record and every index's. */
    int st_cap = tab->nstored;
    for (int i = 0; i < tab->nidx; i++)
        if (tab->idx[i]->nfields > st_cap)
            st_cap = tab->idx[i]->nfields;
    int npk = tab->def.without_rowid ? tab->def.npk : 0;
    assert(ncols <= SCH_MAX_COLUMNS && npk <= ncols);
    if (rowvals_init(&ts->newrow, ncols) < 0 || rowvals_init(&ts->oldrow, ncols) < 0 ||
        !(ts->textbuf = os_malloc((size_t)SCH_NUMBER_TEXT_BYTES * (size_t)(ncols + 1))) ||
        !(ts->fields = os_calloc((size_t)tab->nstored + 1, sizeof *ts->fields)) ||
        !(ts->st = os_calloc((size_t)st_cap + 1, sizeof *ts->st)) ||
        !(ts->pk = os_calloc((size_t)npk + 1, sizeof *ts->pk)) ||
        !(ts->opk = os_calloc((size_t)npk + 1, sizeof *ts->opk))) {
        rc = FOLIO_NOMEM;
        goto fail;
    }
    ts->st_cap = st_cap;
    /* Random rowids (past INT64_MAX) start from the state's address and the
     * time: nothing shared between threads. */
    ts->rand_state = ((uint64_t)(uintptr_t)ts * 0x9e3779b97f4a7c15ull) ^
                     ((uint64_t)time(NULL) << 20) ^ 0x2545f4914f6cdd1dull;
    bt_cursor_init(&ts->c, txn->pt, tab->root, !tab->def.without_rowid);
    ts->fields_identity = tab->nstored == ncols && ncols <= WRITE_IDENTITY_MAX;
    for (int f = 0; f < tab->nstored && ts->fields_identity; f++)
        ts->fields_identity = tab->field_col[f] == f;
    /* Nothing but the row's own cell to write, and no constraint beyond
     * NOT NULL and the rowid's uniqueness (write_begin's refusals included). */
    ts->append_fast = ts->fields_identity && !tab->def.without_rowid && !tab->def.strict &&
                      !tab->def.autoincrement && !tab->def.has_check && !tab->def.has_generated &&
                      !tab->dflt && tab->nidx == 0 && tab->parsed && !tab->unsupported &&
                      !tab->has_triggers && tab->root != 1;
    if (tab->def.without_rowid) {
        if ((rc = sch_order_init(&ts->pk_order, tab->def.npk, tab->pk_desc, tab->pk_coll,
                                 txn->cat->text_encoding)) < 0)
            goto fail;
        ts->c.reccmp = sch_record_compare;
        ts->c.reccfg = &ts->pk_order;
    }
    ts->idx = os_calloc((size_t)tab->nidx + 1, sizeof *ts->idx);
    if (!ts->idx) {
        rc = FOLIO_NOMEM;
        goto fail;
    }
    for (int i = 0; i < tab->nidx; i++) {
        if ((rc = index_state_init(&ts->idx[i], tab->idx[i], tab, txn)) < 0) {
            ts->nidx = i + 1;
            goto fail;
        }
        ts->nidx = i + 1;
    }
    if ((rc = states_room(txn)) < 0)
        goto fail;
    txn->states[txn->nstates++] = ts;
    *out = ts;
    return 0;
fail:
    table_state_free(ts);
    return rc;
}
