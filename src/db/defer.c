/*
 * defer.c - deferred entries of non-unique indexes during loads.
 *
 * Inserting each row's entry into an index as the row arrives costs a seek
 * from the root to a random leaf per row and per index, and leaves the index
 * pages half full. Instead, while a write transaction inserts rows, the
 * entries of its non-unique indexes collect in a sorter (sorter.c: an
 * external merge sort within a memory budget). Before anything reads or
 * changes such an index they are put in: in one bottom-up build when the
 * index was empty (full pages, each written once), else inserted in key
 * order, so that neighbouring entries land on pages already in the cache.
 *
 * What forces the entries in (write_flush): commit, DDL, an update, upsert,
 * patch or delete on the table, opening a cursor on one of its indexes, the
 * integrity check and stats. While an index cursor is open on the table, its
 * entries are not deferred, so the cursor sees every row; nor are the
 * entries of rows written inside a statement of several calls (filter.c,
 * edges.c), which must be undone with it if a later call fails.
 *
 * Unique indexes are not deferred: each insert checks them at once, so that
 * a violation fails that call and leaves the transaction as it was.
 *
 * An index that already has entries takes the first DEFER_AFTER inserts of a
 * transaction directly: small transactions pay nothing for the sorter.
 */
#include "db/sorter.h"

#include <stdio.h>
#include <string.h>

#define DEFER_AFTER 1024

static int index_cursor_open(const folio_txn *txn, const db_table *tab)
{
    for (const folio_cursor *c = txn->cursors; c; c = c->next_open)
        if (c->index && c->t->tab == tab)
            return 1;
    return 0;
}

int index_defer_wanted(folio_txn *txn, table_state *ts, index_state *is)
{
    /* A row call inside a statement of several (txn->stmt_nested) is not
     * the statement's last step: if a later step fails, undoing the
     * statement must undo this row's entries too, which it can only do to
     * entries in the tree, not to entries waiting in a sorter. */
    if (is->ix->unique || txn->poisoned || txn->stmt_nested || txn->conc ||
        index_cursor_open(txn, ts->tab))
        return 0;
    /* Foreign key checks read the tables they link: entries go in at once. */
    if (db_fk_on(txn) && fk_involved(txn, ts) != 0)
        return 0;
    if (is->dmode == 0) {
        is->c.t = txn->pt;
        int rc = bt_first(&is->c);
        bt_cursor_reset(&is->c);
        if (rc < 0)
            return 0; /* the direct insert reports the problem */
        is->dmode = rc == FOLIO_DONE ? 2 : 1;
        is->ndirect = 0;
    }
    if (is->dmode == 1) {
        if (is->ndirect < DEFER_AFTER) {
            is->ndirect++;
            return 0;
        }
        is->dmode = 2;
    }
    return 1;
}

/* Each table's deferring indexes share a quarter of the cache budget. */
static size_t sorter_budget(const folio_txn *txn, const table_state *ts)
{
    size_t total = txn->db->opts.cache_bytes ? txn->db->opts.cache_bytes / 4 : (size_t)16 << 20;
    int n = 0;
    for (int i = 0; i < ts->nidx; i++)
        n += !ts->idx[i].ix->unique;
    return total / (size_t)(n > 0 ? n : 1);
}

static int defer_one(folio_txn *txn, table_state *ts, index_state *is, const fmt_value *row,
                     int64_t rowid)
{
    uint64_t size;
    int rc = index_record_build(ts, is, row, rowid, &size);
    if (rc == INDEX_ROW_EXCLUDED)
        return rc; /* a partial index without this row */
    if (rc < 0)    /* (an expression of the index failed: its own message) */
        return db_err_txn(txn, rc);
    if (!is->pending)
        rc = sorter_open(&is->pending, txn, &is->order, sorter_budget(txn, ts));
    if (rc == 0)
        rc = sorter_add(is->pending, ts->irec, size);
    if (rc < 0)
        return db_err(txn->db, rc, "index %s: could not queue an entry: %s", is->ix->name,
                      folio_strerror(rc));
    is->npending++;
    txn->npending++;
    return 0;
}

int index_defer_add_row(folio_txn *txn, table_state *ts, uint64_t mask, const fmt_value *row,
                        int64_t rowid)
{
    uint64_t queued = 0;
    for (int i = 0; i < ts->nidx && i < 64; i++) {
        if (!(mask >> i & 1))
            continue;
        int rc = defer_one(txn, ts, &ts->idx[i], row, rowid);
        if (rc == INDEX_ROW_EXCLUDED)
            continue;
        if (rc == 0)
            queued |= (uint64_t)1 << i;
        if (rc < 0) {
            /* All or nothing: take back this row's entries queued so far. */
            for (int j = 0; j < i; j++) {
                if (queued >> j & 1) {
                    sorter_unadd(ts->idx[j].pending);
                    ts->idx[j].npending--;
                    txn->npending--;
                }
            }
            return rc;
        }
    }
    return 0;
}

void index_defer_free(index_state *is)
{
    sorter_free(is->pending);
    is->pending = NULL;
    is->npending = 0;
    is->dmode = 0;
}

typedef struct sorted_key {
    sch_order *order;
    const uint8_t *rec;
    uint64_t n;
} sorted_key;

static int sorted_key_cmp(void *ctx, const uint8_t *rec, uint64_t size, int *out)
{
    const sorted_key *k = ctx;
    return sch_record_compare(k->order, rec, size, k->rec, k->n, out);
}

static int flush_index(folio_txn *txn, index_state *is)
{
    sorter *s = is->pending;
    is->pending = NULL;
    txn->npending -= is->npending;
    is->npending = 0;
    is->dmode = 0;
    is->c.t = txn->pt;
    int rc = sorter_finish(s);
    int empty = 0;
    if (rc == 0) {
        rc = bt_first(&is->c);
        bt_cursor_reset(&is->c);
        empty = rc == FOLIO_DONE;
        rc = rc < 0 ? rc : 0;
    }
    const uint8_t *rec;
    uint64_t n;
    int k = 0;
    if (rc == 0 && empty) {
        bt_builder *b = NULL;
        if ((rc = bt_builder_open(&b, txn->pt, is->ix->root, 0)) == 0) {
            while ((k = sorter_next(s, &rec, &n)) == 1)
                if ((rc = bt_builder_add_key(b, rec, n)) < 0)
                    break;
            if (rc == 0 && k < 0)
                rc = k;
            if (rc == 0)
                rc = bt_builder_finish(b);
        }
        bt_builder_free(b);
    } else if (rc == 0) {
        sorted_key key = {&is->order, NULL, 0};
        while ((k = sorter_next(s, &rec, &n)) == 1) {
            key.rec = rec;
            key.n = n;
            if ((rc = bt_insert_key(&is->c, rec, n, sorted_key_cmp, &key)) < 0)
                break;
        }
        if (rc == 0 && k < 0)
            rc = k;
        bt_cursor_reset(&is->c);
    }
    sorter_free(s);
    return rc;
}

int write_flush(folio_txn *txn, const db_table *tab)
{
    if (!txn->npending)
        return 0;
    ptxn_clear_error(txn->pt);
    for (int i = 0; i < txn->nstates; i++) {
        table_state *ts = txn->states[i];
        if (tab && ts->tab != tab)
            continue;
        for (int j = 0; j < ts->nidx; j++) {
            index_state *is = &ts->idx[j];
            if (!is->pending)
                continue;
            int rc = flush_index(txn, is);
            if (rc < 0) {
                txn->poisoned = 1;
                char msg[400];
                db_err_txn(txn, rc);
                snprintf(msg, sizeof msg, "%s", folio_errmsg(txn->db));
                return db_err(txn->db, rc,
                              "index %s: could not add the deferred entries (%s): roll the "
                              "transaction back",
                              is->ix->name, msg);
            }
        }
    }
    return 0;
}
