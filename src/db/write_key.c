/*
 * write_key.c - row operations on WITHOUT ROWID tables, which are keyed by
 * their primary key: insert, upsert, update and delete by key.
 *
 * The key values of a row live in the table state (ts->pk for the new row,
 * ts->opk for the old one), sized from the table's definition: a primary key
 * may have as many columns as the table.
 */
#include "db/write_int.h"

#include <stdio.h>
#include <string.h>

/* The primary key values of a row (col values) into out (npk entries). */
static void pk_values(const db_table *tab, const fmt_value *row, fmt_value *out)
{
    for (int k = 0; k < tab->def.npk; k++)
        out[k] = row[tab->def.pk[k].col];
}

/* Position ts->c at the row whose key is `pk`: *found says whether it is
 * there (else the cursor is where it would go). Sets the message on error. */
static int find_key(folio_txn *txn, table_state *ts, const fmt_value *pk, int *found)
{
    db_table *tab = ts->tab;
    key_ctx k = {pk,      tab->def.npk, tab->pk_desc, tab->pk_coll, txn->cat->text_encoding,
                 txn->pt, NULL};
    int rc = bt_seek_ge(&ts->c, key_compare, &k, 1);
    *found = 0;
    if (rc < 0)
        return db_err_txn(txn, rc);
    if (rc == FOLIO_ROW) {
        const uint8_t *rec;
        uint64_t n;
        int cmp;
        if ((rc = bt_payload(&ts->c, &rec, &n)) < 0)
            return db_err_txn(txn, rc);
        if ((rc = key_compare(&k, rec, n, &cmp)) < 0)
            return db_err_txn(txn, rc == FOLIO_CORRUPT ? bt_corrupt_here(&ts->c, "malformed record")
                                                       : rc);
        *found = cmp == 0;
    }
    return 0;
}

/* bt_insert_key's comparison for the new row, whose key is in ts->pk. */
static int new_key_cmp(void *ctx, const uint8_t *rec, uint64_t size, int *out)
{
    table_state *ts = ctx;
    key_ctx k = {ts->pk, ts->tab->def.npk, ts->tab->pk_desc, ts->tab->pk_coll, 1, NULL, NULL};
    return key_compare(&k, rec, size, out);
}

static int key_taken(folio_txn *txn, db_table *tab, int mode)
{
    char cols[256];
    size_t off = 0;
    cols[0] = 0;
    for (int k = 0; k < tab->def.npk && off + 1 < sizeof cols; k++)
        off += (size_t)snprintf(cols + off, sizeof cols - off, "%s%s.%s", k ? ", " : "", tab->name,
                                tab->def.cols[tab->def.pk[k].col].name);
    ROW_CONFLICT(txn, mode);
    return db_err(txn->db, FOLIO_CONSTRAINT, "UNIQUE constraint failed: %s", cols);
}

/* Put ts->newrow into the table tree and every index (its key in ts->pk). */
static int store_new_row(folio_txn *txn, table_state *ts, int defer_ok)
{
    int rc;
    uint64_t size;
    if ((rc = pin_check(txn, ts->tab)) < 0 || (rc = table_record(txn, ts, ts->newrow.v, &size)) < 0)
        return rc;
    if ((rc = bt_insert_key(&ts->c, ts->rec, size, new_key_cmp, ts)) < 0)
        return db_err_txn(txn, rc);
    uint64_t deferred = 0;
    for (int i = 0; i < ts->nidx; i++) {
        if (defer_ok && i < WRITE_DEFER_MAX && index_defer_wanted(txn, ts, &ts->idx[i]))
            deferred |= (uint64_t)1 << i;
        else if ((rc = index_insert_row(ts, &ts->idx[i], ts->newrow.v, 0)) < 0)
            return db_err_txn(txn, rc);
    }
    /* Last, once nothing else can fail. */
    if (deferred && (rc = index_defer_add_row(txn, ts, deferred, ts->newrow.v, 0)) < 0)
        return rc;
    return 0;
}

/* The new row's key must be free (insert; update to another key: arg not
 * NULL). */
static int key_free(folio_txn *txn, table_state *ts, void *arg)
{
    int found, rc;
    pk_values(ts->tab, ts->newrow.v, ts->pk);
    rc = find_key(txn, ts, ts->pk, &found);
    bt_cursor_reset(&ts->c);
    if (rc < 0)
        return rc;
    if (found && (rc = upsert_take(txn, ts, NULL, 0, ts->pk, 0)) != 0)
        return rc; /* an UPSERT's clause takes it */
    int mode = conflict_mode(txn, ts->tab->def.pk_onconflict);
    if (found && mode == SCH_OC_REPLACE) { /* REPLACE: the row with that key goes */
        if ((rc = replace_delete(txn, ts, 0, ts->pk, arg != NULL)) < 0)
            return rc;
        pk_values(ts->tab, ts->newrow.v, ts->pk);
        /* Gone, unless a DELETE trigger kept it (RAISE(IGNORE)) or made it
         * again: then the write fails, as SQLite checks again. */
        rc = find_key(txn, ts, ts->pk, &found);
        bt_cursor_reset(&ts->c);
        if (rc < 0)
            return rc;
        mode = SCH_OC_ABORT; /* (the check again is OR ABORT, as SQLite's) */
    }
    return found ? key_taken(txn, ts->tab, mode) : 0;
}

/* An update's new key: free unless it is the row's own. */
static int new_key_free(folio_txn *txn, table_state *ts, void *arg)
{
    (void)arg;
    pk_values(ts->tab, ts->oldrow.v, ts->opk);
    pk_values(ts->tab, ts->newrow.v, ts->pk);
    int same = 1;
    for (int k = 0; k < ts->tab->def.npk && same; k++)
        same = sch_compare(&ts->opk[k], &ts->pk[k], ts->tab->pk_coll[k]) == 0;
    return same ? 0 : key_free(txn, ts, ts); /* (an update's) */
}

int insert_key_row(folio_txn *txn, table_state *ts)
{
    int rc;
    /* As SQLite: CHECK, then the indexes and the primary key, the one made
     * last first. */
    if ((rc = check_row(txn, ts, 0)) < 0 ||
        (rc = index_checks_pk(txn, ts, 0, NULL, 0, key_free, NULL)) != 0)
        return rc;
    if ((rc = fk_new_row(txn, ts, ts->newrow.v, 0, NULL, 0)) < 0)
        return rc;
    return store_new_row(txn, ts, 1);
}

/*
 * Replace the row whose values are in ts->oldrow by ts->newrow: the sequence
 * folio_upsert and folio_update_key share. The caller checked the indexes
 * (index_checks) and that a new key that differs from the old one is free.
 */
static int replace_key_row(folio_txn *txn, table_state *ts, const fk_change *chg,
                           const fmt_value *orow)
{
    int rc, found;
    if (!orow)
        orow = ts->oldrow.v; /* OLD: as found before any BEFORE trigger */
    if ((rc = fk_old_row(txn, ts, orow, 0, chg, 1)) < 0 || (rc = pin_check(txn, ts->tab)) < 0)
        return rc;
    pk_values(ts->tab, ts->oldrow.v, ts->opk);
    pk_values(ts->tab, ts->newrow.v, ts->pk);
    for (int i = 0; i < ts->nidx; i++)
        if ((rc = index_delete_row(ts, &ts->idx[i], ts->oldrow.v, 0)) < 0)
            return db_err_txn(txn, rc);
    if ((rc = find_key(txn, ts, ts->opk, &found)) < 0)
        return rc;
    if (!found)
        return db_err_txn(txn, ptxn_corrupt(txn->pt, ts->tab->root, "row vanished during update"));
    if ((rc = bt_delete(&ts->c)) < 0)
        return db_err_txn(txn, rc);
    if ((rc = fk_new_row(txn, ts, ts->newrow.v, 0, chg, 1)) < 0)
        return rc;
    pk_values(ts->tab, ts->newrow.v, ts->pk);
    /* The unique checks passed with the old row present: the new one is
     * stored without repeating them. */
    if ((rc = store_new_row(txn, ts, 0)) < 0)
        return rc;
    if (!ts->tab->has_triggers)
        return fk_actions(txn, ts, orow, 0, ts->newrow.v, 0, chg);
    /* Kept: the actions may write this table; the AFTER triggers read it. */
    trig_rows keep;
    memset(&keep, 0, sizeof keep);
    if ((rc = trig_rows_save(txn, &keep, ts->newrow.v, 0, orow, 0, ts->tab->def.ncols)) < 0)
        return rc;
    rc = fk_actions(txn, ts, keep.ov, 0, keep.nv, 0, chg);
    if (rc == 0)
        rc = trig_fire(txn, ts, SCH_TRIG_AFTER, SCH_TRIG_UPDATE, chg, &keep);
    trig_rows_free(&keep);
    return rc;
}

/* BEFORE UPDATE of a WITHOUT ROWID row (its values in ts->oldrow, the new
 * ones prepared): NEW and OLD saved in tb; then the row is found again
 * (TRIG_IGNORED when a trigger deleted it) and the columns the call does not
 * set are read again from it, as SQLite does. */
static int update_key_before(folio_txn *txn, table_state *ts, const fk_change *chg, trig_rows *tb)
{
    db_table *tab = ts->tab;
    int ncols = tab->def.ncols, rc, found;
    if (tab->ngen && (rc = generated_compute(txn, ts, ts->newrow.v, 0, 0)) < 0)
        return rc;
    if ((rc = trig_rows_save(txn, tb, ts->newrow.v, 0, ts->oldrow.v, 0, ncols)) < 0 ||
        (rc = trig_fire(txn, ts, SCH_TRIG_BEFORE, SCH_TRIG_UPDATE, chg, tb)) != 0)
        return rc;
    pk_values(tab, tb->ov, ts->opk);
    if ((rc = find_key(txn, ts, ts->opk, &found)) < 0)
        return rc;
    if (!found) {
        bt_cursor_reset(&ts->c);
        return TRIG_IGNORED;
    }
    if ((rc = load_old_row(txn, ts)) < 0)
        return db_err_txn(txn, rc);
    for (int c = 0; c < ncols; c++) {
        int set = !chg || !chg->cols;
        for (int k = 0; chg && chg->cols && k < chg->n && !set; k++)
            set = chg->cols[k] == c;
        ts->newrow.v[c] = set ? tb->nv[c] : ts->oldrow.v[c];
    }
    return 0;
}

/* folio_upsert on a WITHOUT ROWID table: the key comes from the values. */
int upsert_key_row(folio_txn *txn, table_state *ts, const folio_value *vals, int n)
{
    int rc, found;
    if ((rc = prepare_row(txn, ts, vals, n)) < 0)
        return rc;
    if (ts->tab->has_triggers) {
        /* An UPSERT fires BEFORE INSERT first, with the row it would insert. */
        trig_rows tr;
        memset(&tr, 0, sizeof tr);
        rc = trig_any(txn, ts, SCH_TRIG_BEFORE, SCH_TRIG_INSERT, NULL);
        if (rc > 0 && ts->tab->ngen)
            rc = generated_compute(txn, ts, ts->newrow.v, 0, 0);
        if (rc > 0 &&
            (rc = trig_rows_save(txn, &tr, ts->newrow.v, 0, NULL, 0, ts->tab->def.ncols)) == 0)
            rc = trig_fire(txn, ts, SCH_TRIG_BEFORE, SCH_TRIG_INSERT, NULL, &tr);
        trig_rows_free(&tr);
        /* The row it would insert meets NOT NULL and CHECK first, as in SQLite. */
        if (rc != 0 || (rc = prepare_row(txn, ts, vals, n)) < 0 || (rc = check_row(txn, ts, 0)) < 0)
            return rc;
    }
    pk_values(ts->tab, ts->newrow.v, ts->pk);
    if ((rc = find_key(txn, ts, ts->pk, &found)) < 0)
        return rc;
    if (!found) {
        bt_cursor_reset(&ts->c);
        if ((rc = insert_key_row(txn, ts)) != 0 || !ts->tab->has_triggers)
            return rc;
        trig_rows ta;
        memset(&ta, 0, sizeof ta);
        if ((rc = trig_rows_save(txn, &ta, ts->newrow.v, 0, NULL, 0, ts->tab->def.ncols)) == 0)
            rc = trig_fire(txn, ts, SCH_TRIG_AFTER, SCH_TRIG_INSERT, NULL, &ta);
        trig_rows_free(&ta);
        return rc;
    }
    if ((rc = load_old_row(txn, ts)) < 0)
        return db_err_txn(txn, rc);
    /* Again: loading the old row may have reused the buffers the new row's
     * converted values were in (ts_textbuf). The insert's conflict clause
     * is in force until the row is the excluded one. */
    if ((rc = prepare_row(txn, ts, vals, n)) < 0 || (rc = upsert_excluded_defaults(txn, ts)) < 0)
        return rc;
    upsert_update_policy(txn);
    trig_rows tb;
    memset(&tb, 0, sizeof tb);
    if (ts->tab->has_triggers &&
        (rc = trig_any(txn, ts, SCH_TRIG_BEFORE, SCH_TRIG_UPDATE, NULL)) != 0 &&
        (rc < 0 || (rc = update_key_before(txn, ts, NULL, &tb)) != 0)) {
        trig_rows_free(&tb);
        return rc;
    }
    if ((rc = check_row(txn, ts, 0)) == 0) {
        pk_values(ts->tab, ts->oldrow.v, ts->opk);
        if ((rc = index_checks(txn, ts, 0, ts->opk, 1)) == 0)
            rc = replace_key_row(txn, ts, NULL, tb.mem ? tb.ov : NULL);
    }
    trig_rows_free(&tb);
    return rc;
}

/* Key values given through the API, with their columns' affinity (as the
 * keys are stored), into ts->opk. */
static int key_from_api(folio_txn *txn, table_state *ts, const folio_value *key, int nkey)
{
    db_table *tab = ts->tab;
    if (nkey != tab->def.npk)
        return db_err(txn->db, FOLIO_MISUSE, "table %s has %d primary key columns, got %d",
                      tab->name, tab->def.npk, nkey);
    for (int k = 0; k < nkey; k++) {
        fmt_value *v = &ts->opk[k];
        memset(v, 0, sizeof *v);
        v->type = (int)key[k].type;
        if (key[k].type == FOLIO_INTEGER) {
            v->u.i = key[k].u.i;
        } else if (key[k].type == FOLIO_REAL) {
            v->u.r = key[k].u.r;
        } else if (key[k].type == FOLIO_TEXT || key[k].type == FOLIO_BLOB) {
            if (key[k].u.s.n && !key[k].u.s.p)
                return db_err(txn->db, FOLIO_MISUSE, "key value %d has bytes but no pointer", k);
            if (key[k].u.s.n > FMT_MAX_LENGTH)
                return db_err(txn->db, FOLIO_TOOBIG, "key value %d is %zu bytes; the limit is %u",
                              k, key[k].u.s.n, FMT_MAX_LENGTH);
            v->u.s.p = key[k].u.s.p ? key[k].u.s.p : (const void *)"";
            v->u.s.n = key[k].u.s.n;
        } else if (key[k].type != FOLIO_NULL) {
            return db_err(txn->db, FOLIO_MISUSE, "key value %d has an invalid type", k);
        }
        int col = tab->def.pk[k].col;
        sch_apply_affinity(v, tab->def.cols[col].affinity, ts_textbuf(ts, col),
                           SCH_NUMBER_TEXT_BYTES);
    }
    return 0;
}

/* Begin a by-key operation: checks, the statement, and the row loaded into
 * ts->oldrow. Returns 0, FOLIO_NOTFOUND or an error (the statement begun
 * unless the error came before it: *begun). */
static int key_op_begin(folio_table *t, const folio_value *key, int nkey, const char *rowid_fn,
                        table_state **out, int *begun, int op, const fk_change *chg)
{
    folio_txn *txn = t->txn;
    *begun = 0;
    if (!t->tab->def.without_rowid)
        return db_err(txn->db, FOLIO_MISUSE, "table %s has rowids: use %s", t->tab->name, rowid_fn);
    FOLIO_CHECK_ARG(txn->db, key != NULL && nkey > 0);
    int rc = write_flush(txn, t->tab);
    if (rc < 0 || (rc = write_begin(txn, t->tab)) < 0)
        return rc;
    *begun = 1;
    table_state *ts;
    int found;
    if ((rc = table_for(t, &ts)) < 0 || (rc = fk_prepare(txn, ts, op, chg)) < 0 ||
        (rc = trig_prepare(txn, ts, op == 'd' ? SCH_TRIG_DELETE : SCH_TRIG_UPDATE, chg)) < 0 ||
        (rc = key_from_api(txn, ts, key, nkey)) < 0 ||
        (rc = find_key(txn, ts, ts->opk, &found)) < 0)
        return rc;
    if (!found) {
        bt_cursor_reset(&ts->c);
        return db_err(txn->db, FOLIO_NOTFOUND, "no row with that key in %s", t->tab->name);
    }
    if ((rc = load_old_row(txn, ts)) < 0)
        return db_err_txn(txn, rc);
    *out = ts;
    return 0;
}

/* A delete that fires triggers (see delete_with_triggers in write.c). */
static int delete_key_with_triggers(folio_txn *txn, table_state *ts)
{
    trig_rows tr;
    memset(&tr, 0, sizeof tr);
    int found, rc = trig_rows_save(txn, &tr, NULL, 0, ts->oldrow.v, 0, ts->tab->def.ncols);
    if (rc < 0)
        return rc;
    if ((rc = trig_fire(txn, ts, SCH_TRIG_BEFORE, SCH_TRIG_DELETE, NULL, &tr)) != 0)
        goto out;
    pk_values(ts->tab, tr.ov, ts->opk);
    if ((rc = find_key(txn, ts, ts->opk, &found)) < 0)
        goto out;
    if (!found) { /* deleted by a BEFORE trigger: nothing done */
        bt_cursor_reset(&ts->c);
        rc = TRIG_IGNORED;
        goto out;
    }
    if ((rc = load_old_row(txn, ts)) < 0) {
        rc = db_err_txn(txn, rc);
        goto out;
    }
    if ((rc = fk_old_row(txn, ts, tr.ov, 0, NULL, 0)) < 0 || (rc = pin_check(txn, ts->tab)) < 0)
        goto out;
    for (int i = 0; i < ts->nidx && rc == 0; i++)
        if ((rc = index_delete_row(ts, &ts->idx[i], ts->oldrow.v, 0)) < 0)
            rc = db_err_txn(txn, rc);
    pk_values(ts->tab, ts->oldrow.v, ts->opk);
    if (rc < 0 || (rc = find_key(txn, ts, ts->opk, &found)) < 0)
        goto out;
    if (!found) {
        rc = db_err_txn(txn, ptxn_corrupt(txn->pt, ts->tab->root, "row vanished during delete"));
        goto out;
    }
    if ((rc = bt_delete(&ts->c)) < 0) {
        rc = db_err_txn(txn, rc);
        goto out;
    }
    if ((rc = fk_actions(txn, ts, tr.ov, 0, NULL, 0, NULL)) == 0)
        rc = trig_fire(txn, ts, SCH_TRIG_AFTER, SCH_TRIG_DELETE, NULL, &tr);
out:
    trig_rows_free(&tr);
    return rc;
}

int folio_delete_key(folio_table *t, const folio_value *key, int nkey)
{
    if (!t)
        return FOLIO_MISUSE;
    folio_txn *txn = t->txn;
    table_state *ts = NULL;
    int begun, found;
    int oc = take_onconf(txn);
    int rc = key_op_begin(t, key, nkey, "folio_delete", &ts, &begun, 'd', NULL);
    if (rc != 0)
        return begun ? write_end(txn, apply_onconf(txn, oc, rc)) : rc;
    if (t->tab->has_triggers)
        return write_end(txn, apply_onconf(txn, oc, delete_key_with_triggers(txn, ts)));
    if ((rc = fk_old_row(txn, ts, ts->oldrow.v, 0, NULL, 0)) < 0 ||
        (rc = pin_check(txn, ts->tab)) < 0)
        return write_end(txn, rc);
    for (int i = 0; i < ts->nidx; i++)
        if ((rc = index_delete_row(ts, &ts->idx[i], ts->oldrow.v, 0)) < 0)
            return write_end(txn, db_err_txn(txn, rc));
    /* Found again by the old row's own key values (owned by ts->oldrow). */
    pk_values(ts->tab, ts->oldrow.v, ts->opk);
    if ((rc = find_key(txn, ts, ts->opk, &found)) < 0)
        return write_end(txn, rc);
    if (!found)
        return write_end(txn, db_err_txn(txn, ptxn_corrupt(txn->pt, ts->tab->root,
                                                           "row vanished during delete")));
    if ((rc = bt_delete(&ts->c)) < 0)
        return write_end(txn, db_err_txn(txn, rc));
    return write_end(txn, fk_actions(txn, ts, ts->oldrow.v, 0, NULL, 0, NULL));
}

static int update_key_checked(folio_table *t, table_state *ts, const fk_change *chg,
                              const fmt_value *orow);

/* folio_update_key and db_patch_key: the new values are ready (vals, n
 * values of a row value array); chg names the columns set. */
static int update_key(folio_table *t, const folio_value *key, int nkey, const folio_value *vals,
                      int n, const fk_change *chg, table_state *ts)
{
    folio_txn *txn = t->txn;
    int rc;
    (void)key;
    (void)nkey;
    if ((rc = prepare_row(txn, ts, vals, n)) < 0)
        return rc;
    trig_rows tb;
    memset(&tb, 0, sizeof tb);
    if (t->tab->has_triggers &&
        (rc = trig_any(txn, ts, SCH_TRIG_BEFORE, SCH_TRIG_UPDATE, chg)) != 0 &&
        (rc < 0 || (rc = update_key_before(txn, ts, chg, &tb)) != 0)) {
        trig_rows_free(&tb);
        return rc;
    }
    rc = update_key_checked(t, ts, chg, tb.mem ? tb.ov : NULL);
    trig_rows_free(&tb);
    return rc;
}

static int update_key_checked(folio_table *t, table_state *ts, const fk_change *chg,
                              const fmt_value *orow)
{
    folio_txn *txn = t->txn;
    int rc;
    if ((rc = check_row(txn, ts, 0)) < 0)
        return rc;
    pk_values(t->tab, ts->oldrow.v, ts->opk);
    if ((rc = index_checks_pk(txn, ts, 0, ts->opk, 1, new_key_free, NULL)) < 0)
        return rc;
    return replace_key_row(txn, ts, chg, orow);
}

int folio_update_key(folio_table *t, const folio_value *key, int nkey, const folio_value *vals,
                     int n)
{
    if (!t)
        return FOLIO_MISUSE;
    CHECK_VALUES(t, vals, n);
    folio_txn *txn = t->txn;
    table_state *ts = NULL;
    int begun;
    int oc = take_onconf(txn);
    int rc = key_op_begin(t, key, nkey, "folio_update", &ts, &begun, 'u', NULL);
    if (rc != 0)
        return begun ? write_end(txn, apply_onconf(txn, oc, rc)) : rc;
    return write_end(txn, apply_onconf(txn, oc, update_key(t, key, nkey, vals, n, NULL, ts)));
}

int db_patch_key(folio_table *t, const folio_value *key, int nkey, const int *cols,
                 const folio_value *vals, int n)
{
    folio_txn *txn = t->txn;
    table_state *ts = NULL;
    int begun;
    fk_change chg = {cols, n};
    int oc = take_onconf(txn);
    int rc = key_op_begin(t, key, nkey, "folio_patch", &ts, &begun, 'u', &chg);
    if (rc != 0)
        return begun ? write_end(txn, apply_onconf(txn, oc, rc)) : rc;
    /* The old row with the columns set replaced, as a row value array. */
    const db_table *tab = t->tab;
    int ncols = tab->def.ncols;
    folio_value stackv[64];
    folio_value *fv = ncols <= 64 ? stackv : os_malloc(sizeof *fv * (size_t)ncols);
    if (!fv)
        return write_end(txn, db_err(txn->db, FOLIO_NOMEM, "out of memory"));
    for (int c = 0; c < ncols; c++) {
        const fmt_value *o = &ts->oldrow.v[c];
        if (tab->val_index[c] < 0)
            continue;
        folio_value *f = &fv[tab->val_index[c]];
        memset(f, 0, sizeof *f);
        f->type = (folio_type)o->type;
        if (o->type == FMT_INTEGER)
            f->u.i = o->u.i;
        else if (o->type == FMT_REAL)
            f->u.r = o->u.r;
        else if (o->type == FMT_TEXT || o->type == FMT_BLOB) {
            f->u.s.p = o->u.s.p;
            f->u.s.n = (size_t)o->u.s.n;
        }
    }
    rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (cols[i] < 0 || cols[i] >= ncols)
            rc = db_err(txn->db, FOLIO_MISUSE, "column %d out of range (table %s has %d)", cols[i],
                        tab->name, ncols);
        else if (tab->val_index[cols[i]] < 0) /* as SQLite words it */
            rc = db_err(txn->db, FOLIO_ERROR, "cannot UPDATE generated column \"%s\"",
                        tab->def.cols[cols[i]].name);
        else
            fv[tab->val_index[cols[i]]] = vals[i];
    }
    if (rc == 0)
        rc = update_key(t, key, nkey, fv, tab->nvals, &chg, ts);
    if (fv != stackv)
        os_free(fv);
    return write_end(txn, apply_onconf(txn, oc, rc));
}
