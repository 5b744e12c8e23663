/*
 * cursor.c - public cursors over tables and indexes, and column decoding.
 *
 * A table cursor walks the table b-tree. An index cursor walks the index
 * b-tree and, when a column is asked for, finds the row in the table b-tree
 * (by rowid, or by primary key for WITHOUT ROWID tables).
 */
#include "db/write_int.h"

#include <string.h>

static folio_db *cur_db(const folio_cursor *c)
{
    return c->t->txn->db;
}
static ptxn *cur_pt(const folio_cursor *c)
{
    return c->t->txn->pt;
}

/* Room for an n-field key in the cursor's scratch (n > 0). */
static int ks_room(key_scratch *ks, int n)
{
    if (n <= ks->cap)
        return 0;
    int cap = ks->cap ? ks->cap : 8;
    while (cap < n)
        cap *= 2;
    fmt_value *v = os_realloc(ks->v, sizeof *v * (size_t)cap);
    if (v)
        ks->v = v;
    fmt_value *nv = v ? os_realloc(ks->nv, sizeof *nv * (size_t)cap) : NULL;
    if (nv)
        ks->nv = nv;
    uint8_t *d = nv ? os_realloc(ks->desc, (size_t)cap) : NULL;
    if (d)
        ks->desc = d;
    uint8_t *co = d ? os_realloc(ks->coll, (size_t)cap) : NULL;
    if (co)
        ks->coll = co;
    uint8_t **b = co ? os_realloc(ks->buf, sizeof *b * (size_t)cap) : NULL;
    if (b)
        ks->buf = b;
    size_t *bc = b ? os_realloc(ks->bufcap, sizeof *bc * (size_t)cap) : NULL;
    if (bc)
        ks->bufcap = bc;
    if (!bc)
        return FOLIO_NOMEM; /* what grew stays, with the old capacity */
    for (int i = ks->cap; i < cap; i++) {
        ks->buf[i] = NULL;
        ks->bufcap[i] = 0;
    }
    ks->cap = cap;
    return 0;
}

static void ks_free(key_scratch *ks)
{
    for (int i = 0; i < ks->cap; i++)
        os_free(ks->buf[i]);
    os_free(ks->v);
    os_free(ks->nv);
    os_free(ks->desc);
    os_free(ks->coll);
    os_free(ks->buf);
    os_free(ks->bufcap);
    memset(ks, 0, sizeof *ks);
}

static void cursor_link(folio_txn *txn, folio_cursor *c)
{
    c->next_open = txn->cursors;
    c->prev_open = NULL;
    if (txn->cursors)
        txn->cursors->prev_open = c;
    txn->cursors = c;
}

static void cursor_unlink(folio_txn *txn, folio_cursor *c)
{
    if (c->prev_open)
        c->prev_open->next_open = c->next_open;
    else
        txn->cursors = c->next_open;
    if (c->next_open)
        c->next_open->prev_open = c->prev_open;
}

int folio_cursor_open(folio_cursor **out, folio_table *t, const char *index)
{
    if (t)
        TXN_ON_TIME(t->txn);
    if (!t)
        return FOLIO_MISUSE;
    folio_db *db = t->txn->db;
    FOLIO_CHECK_ARG(db, out != NULL);
    *out = NULL;
    db_index *ix = NULL;
    if (index) {
        for (int i = 0; i < t->tab->nidx; i++)
            if (sch_ident_eq(t->tab->idx[i]->name, index))
                ix = t->tab->idx[i];
        if (!ix)
            return db_err(db, FOLIO_NOTFOUND_ERR, "no such index on %s: %s", t->tab->name, index);
        if (ix->has_expr && (!ix->cols || ix->ncols == 0))
            return db_err(db, FOLIO_UNSUPPORTED, "index %s cannot be read: %s", ix->name,
                          ix->unsupported ? ix->unsupported : "unknown definition");
    }
    /* Read committed: the newest commit, when no cursor holds the old one. */
    int rc = t->txn->read_committed ? db_txn_refresh(t->txn) : 0;
    if (rc < 0)
        return rc;
    /* The index must hold every row first (defer.c). */
    rc = ix ? write_flush(t->txn, t->tab) : 0;
    if (rc < 0)
        return rc;
    int ncols = t->tab->def.ncols;
    folio_cursor *c = t->txn->spare_cursor;
    t->txn->spare_cursor = NULL;
    if (c && c->ncolslots < ncols + 1) {
        db_cursor_destroy(c);
        c = NULL;
    }
    void (*init)(bt_cursor *, ptxn *, uint32_t, int) = bt_cursor_reinit;
    if (c) {
        /* The transaction's last closed cursor: its buffers stay. */
        memset(c, 0, CURSOR_KEPT);
        c->rd.valid = c->ird.valid = 0; /* nothing decoded for this cursor yet */
        c->virt_valid = 0;
        os_free(c->virt); /* (sized for its last table) */
        c->virt = NULL;
    } else {
        if (!(c = os_calloc(1, sizeof *c)))
            return db_err(db, FOLIO_NOMEM, "out of memory");
        c->colbuf = os_calloc((size_t)ncols + 1, sizeof *c->colbuf);
        c->colcap = os_calloc((size_t)ncols + 1, sizeof *c->colcap);
        c->ncolslots = ncols + 1;
        if (!c->colbuf || !c->colcap) {
            db_cursor_destroy(c);
            return db_err(db, FOLIO_NOMEM, "out of memory");
        }
        init = bt_cursor_init;
    }
    c->t = t;
    c->index = ix;
    int table_intkey = !t->tab->def.without_rowid;
    if (ix) {
        init(&c->bc, t->txn->pt, ix->root, 0);
        init(&c->tc, t->txn->pt, t->tab->root, table_intkey);
    } else {
        init(&c->bc, t->txn->pt, t->tab->root, table_intkey);
        init(&c->tc, t->txn->pt, t->tab->root, table_intkey);
    }
    cursor_link(t->txn, c);
    *out = c;
    return FOLIO_OK;
}

void db_cursor_destroy(folio_cursor *c)
{
    if (!c)
        return;
    bt_cursor_release(&c->bc);
    bt_cursor_release(&c->tc);
    os_free(c->saved_key);
    row_decoder_free(&c->rd);
    row_decoder_free(&c->ird);
    ks_free(&c->ks);
    ks_free(&c->pks);
    for (int i = 0; c->colbuf && i < c->ncolslots; i++)
        os_free(c->colbuf[i]);
    os_free(c->colbuf);
    os_free(c->colcap);
    ex_ctx_free(c->vcx);
    os_free(c->virt);
    os_free(c);
}

void folio_cursor_close(folio_cursor *c)
{
    if (!c)
        return;
    folio_txn *txn = c->t->txn;
    cursor_unlink(txn, c);
    if (txn->spare_cursor) {
        db_cursor_destroy(c);
        return;
    }
    /* Kept for the next cursor of this transaction object (which the
     * handle keeps too): pages let go, buffers not. */
    bt_cursor_release_keep(&c->bc);
    bt_cursor_release_keep(&c->tc);
    txn->spare_cursor = c;
}

static int index_entry_rowid(folio_cursor *c, int64_t *out);

/* Key fields of the tree the cursor walks: how a saved entry is found again. */
static void tree_order(const folio_cursor *c, int *n, const uint8_t **desc, const uint8_t **coll)
{
    if (c->index) {
        *n = c->index->ncols;
        *desc = c->index->desc;
        *coll = c->index->coll;
    } else {
        *n = c->t->tab->def.npk;
        *desc = c->t->tab->pk_desc;
        *coll = c->t->tab->pk_coll;
    }
}

/* In a write transaction the trees may change under an open cursor: keep
 * the current entry's key so the cursor can find its place again. */
static int save_position(folio_cursor *c)
{
    c->gen = bt_generation(c->t->txn->pt);
    if (!c->index && !c->t->tab->def.without_rowid) {
        c->saved_rowid = bt_rowid(&c->bc);
        return 0;
    }
    const uint8_t *rec;
    uint64_t size;
    int rc = bt_payload(&c->bc, &rec, &size);
    if (rc < 0)
        return rc;
    if (size > c->saved_cap) {
        uint8_t *b = os_realloc(c->saved_key, (size_t)size + 1);
        if (!b)
            return FOLIO_NOMEM;
        c->saved_key = b;
        c->saved_cap = (size_t)size + 1;
    }
    memcpy(c->saved_key, rec, (size_t)size);
    c->saved_n = (size_t)size;
    return 0;
}

/* Map a b-tree result to the API and invalidate per-row caches. */
static int moved(folio_cursor *c, int rc)
{
    c->rd.valid = 0;
    c->ird.valid = 0;
    c->virt_valid = 0;
    c->tc_valid = 0;
    c->positioned = (rc == FOLIO_ROW);
    if (rc == FOLIO_ROW && c->index && !c->t->tab->def.without_rowid) {
        /* The rowid is read now, so that a failure (a damaged entry, no
         * memory) is the move's error and folio_cursor_rowid never guesses. */
        int r = index_entry_rowid(c, &c->index_rowid);
        if (r < 0)
            rc = r;
    }
    if (rc == FOLIO_ROW && c->t->txn->write) {
        int s = save_position(c);
        if (s < 0)
            rc = ptxn_error(c->t->txn->pt, s, "out of memory");
    }
    if (rc < 0) {
        c->positioned = 0;
        return db_err_txn(c->t->txn, rc);
    }
    return rc;
}

/*
 * Where a move ends with a filter: from the entry the b-tree move `rc`
 * landed on, step in direction `dir` (1 next, -1 prev) to the first entry
 * the filter selects; dir 0: the entry itself must be selected, else
 * FOLIO_DONE. Without a filter, as moved(). An evaluation error ends the
 * move with its message and leaves the cursor on no row.
 */
static int settle(folio_cursor *c, int rc, int dir)
{
    rc = moved(c, rc);
    if (!c->filter)
        return rc;
    while (rc == FOLIO_ROW) { /* bounded by the entries of the tree */
        int m = filter_match(c->filter, c);
        if (m > 0)
            return FOLIO_ROW;
        if (m < 0) {
            c->positioned = 0;
            return m;
        }
        if (dir == 0)
            return moved(c, FOLIO_DONE);
        rc = moved(c, dir > 0 ? bt_next(&c->bc) : bt_prev(&c->bc));
    }
    return rc;
}

/* A seek's end: FOLIO_ROW on a (selected) entry, else FOLIO_NOTFOUND. */
static int seek_end(folio_cursor *c, int rc, int dir)
{
    rc = settle(c, rc, dir);
    if (rc == FOLIO_DONE) {
        bt_cursor_reset(&c->bc);
        return FOLIO_NOTFOUND;
    }
    return rc;
}

/* A scan starts: a filter's statement begins. */
static void scan_start(folio_cursor *c)
{
    ptxn_clear_error(cur_pt(c));
    if (c->filter)
        filter_restart(c->filter);
}

/*
 * After a write in this transaction, seek the saved entry again. Sets
 * *exact when it is still there; otherwise the cursor is on the first entry
 * after it (or *past_end).
 */
static int restore_position(folio_cursor *c, int *exact, int *past_end)
{
    int rc;
    *exact = 0;
    *past_end = 0;
    c->rd.valid = c->ird.valid = 0;
    c->tc_valid = 0;
    if (!c->index && !c->t->tab->def.without_rowid) {
        rc = bt_seek_rowid_ge(&c->bc, c->saved_rowid, 1);
        if (rc == FOLIO_ROW)
            *exact = bt_rowid(&c->bc) == c->saved_rowid;
    } else {
        int n;
        const uint8_t *desc, *coll;
        tree_order(c, &n, &desc, &coll);
        row_decoder *rd = &c->ird; /* free: nothing is decoded now */
        if ((rc = row_decode(rd, c->saved_key, c->saved_n, c->saved_n)) < 0) {
            rd->valid = 0;
            return rc == FOLIO_NOMEM ? ptxn_error(c->t->txn->pt, rc, "out of memory")
                                     : bt_corrupt_here(&c->bc, "malformed record");
        }
        /* Compare every field: key fields by their order, the rest binary. */
        int nf = (int)rd->nfields;
        rd->valid = 0;
        key_scratch *ks = &c->ks;
        if (nf > 0 && ks_room(ks, nf) < 0)
            return ptxn_error(c->t->txn->pt, FOLIO_NOMEM, "out of memory");
        for (int i = 0; i < nf; i++) {
            fmt_serial_decode(rd->st[i], c->saved_key + rd->off[i], &ks->v[i]);
            ks->desc[i] = i < n ? desc[i] : 0;
            ks->coll[i] = i < n ? coll[i] : SCH_COLL_BINARY;
        }
        if (!c->index)
            nf = n; /* a WITHOUT ROWID table is keyed by its primary key */
        key_ctx k = {ks->v,         nf,  ks->desc, ks->coll, c->t->txn->cat->text_encoding,
                     c->t->txn->pt, NULL};
        rc = bt_seek_ge(&c->bc, key_compare, &k, 1);
        if (rc == FOLIO_ROW) {
            const uint8_t *rec;
            uint64_t size;
            int cmp = 1;
            if ((rc = bt_payload(&c->bc, &rec, &size)) < 0 ||
                (rc = key_compare(&k, rec, size, &cmp)) < 0)
                return rc == FOLIO_CORRUPT ? bt_corrupt_here(&c->bc, "malformed record") : rc;
            rc = FOLIO_ROW;
            *exact = cmp == 0;
        }
    }
    if (rc == FOLIO_DONE)
        *past_end = 1;
    return rc < 0 ? rc : 0;
}

/* Whether a write since the cursor last moved requires re-seeking. */
static int stale(const folio_cursor *c)
{
    return c->t->txn->write && c->positioned && c->gen != bt_generation(c->t->txn->pt);
}

int folio_cursor_first(folio_cursor *c)
{
    if (c)
        TXN_ON_TIME(c->t->txn);
    if (!c)
        return FOLIO_MISUSE;
    scan_start(c);
    return settle(c, bt_first(&c->bc), 1);
}

int folio_cursor_last(folio_cursor *c)
{
    if (c)
        TXN_ON_TIME(c->t->txn);
    if (!c)
        return FOLIO_MISUSE;
    scan_start(c);
    return settle(c, bt_last(&c->bc), -1);
}

int folio_cursor_next(folio_cursor *c)
{
    if (c)
        TXN_ON_TIME(c->t->txn);
    if (!c)
        return FOLIO_MISUSE;
    ptxn_clear_error(cur_pt(c));
    if (!c->positioned)
        return FOLIO_DONE;
    if (stale(c)) {
        int exact, past_end;
        int rc = restore_position(c, &exact, &past_end);
        if (rc < 0)
            return moved(c, rc);
        if (past_end)
            return moved(c, FOLIO_DONE);
        if (!exact)
            return settle(c, FOLIO_ROW, 1); /* already on the entry after it */
    }
    return settle(c, bt_next(&c->bc), 1);
}

int folio_cursor_prev(folio_cursor *c)
{
    if (c)
        TXN_ON_TIME(c->t->txn);
    if (!c)
        return FOLIO_MISUSE;
    ptxn_clear_error(cur_pt(c));
    if (!c->positioned)
        return FOLIO_DONE;
    if (stale(c)) {
        int exact, past_end;
        int rc = restore_position(c, &exact, &past_end);
        if (rc < 0)
            return moved(c, rc);
        if (past_end)
            return settle(c, bt_last(&c->bc), -1);
    }
    return settle(c, bt_prev(&c->bc), -1);
}

int folio_cursor_seek_rowid(folio_cursor *c, int64_t rowid)
{
    if (c)
        TXN_ON_TIME(c->t->txn);
    if (!c)
        return FOLIO_MISUSE;
    scan_start(c);
    if (c->t->tab->def.without_rowid)
        return db_err(cur_db(c), FOLIO_MISUSE, "table %s is WITHOUT ROWID: seek by key",
                      c->t->tab->name);
    if (c->index) {
        /* Position the index cursor on the entry of that row: find the row,
         * then its index key. Simpler and still exact: scan is avoided by
         * seeking the table and rebuilding the key. */
        return db_err(cur_db(c), FOLIO_MISUSE,
                      "folio_cursor_seek_rowid needs a table cursor (index is NULL)");
    }
    int rc = bt_seek_rowid(&c->bc, rowid);
    return seek_end(c, rc == FOLIO_NOTFOUND ? FOLIO_DONE : rc, 0);
}

/* ---- seeking by key ---- */

static int seek_rowid_op(folio_cursor *c, const folio_value *key, int op)
{
    if (key->type != FOLIO_INTEGER)
        return db_err(cur_db(c), FOLIO_MISUSE, "a table cursor seeks by an INTEGER rowid");
    int64_t r = key->u.i;
    int rc;
    switch (op) {
    case FOLIO_SEEK_EQ:
        rc = bt_seek_rowid(&c->bc, r);
        if (rc == FOLIO_NOTFOUND)
            rc = FOLIO_DONE;
        break;
    case FOLIO_SEEK_GE:
    case FOLIO_SEEK_GT:
        rc = bt_seek_rowid_ge(&c->bc, r, op == FOLIO_SEEK_GE);
        break;
    default: /* LE, LT: the entry before the first one past the key */
        rc = bt_seek_rowid_ge(&c->bc, r, op == FOLIO_SEEK_LT);
        if (rc == FOLIO_ROW)
            rc = bt_prev(&c->bc);
        else if (rc == FOLIO_DONE)
            rc = bt_last(&c->bc);
        break;
    }
    return seek_end(c, rc, op == FOLIO_SEEK_EQ ? 0 : op <= FOLIO_SEEK_GT ? 1 : -1);
}

/* SEEK_EQ by key with a filter: the first entry equal to the key that the
 * filter selects (a key may be a prefix: several entries may equal it). */
static int seek_eq_filtered(folio_cursor *c, key_ctx *k)
{
    int rc = bt_seek_ge(&c->bc, key_compare, k, 1);
    while (rc == FOLIO_ROW) { /* bounded by the entries of the tree */
        const uint8_t *rec;
        uint64_t size;
        int cmp = 1;
        if ((rc = bt_payload(&c->bc, &rec, &size)) < 0)
            break;
        if ((rc = key_compare(k, rec, size, &cmp)) < 0) {
            if (rc == FOLIO_CORRUPT)
                rc = bt_corrupt_here(&c->bc, "malformed record");
            break;
        }
        if (cmp != 0) {
            rc = FOLIO_DONE;
            break;
        }
        /* The filter reads the row through the cursor's own key scratch
         * (c->pks), not k's. */
        if ((rc = moved(c, FOLIO_ROW)) < 0)
            return rc;
        int m = filter_match(c->filter, c);
        if (m > 0)
            return FOLIO_ROW;
        if (m < 0) {
            c->positioned = 0;
            return m;
        }
        rc = bt_next(&c->bc);
    }
    if (rc == FOLIO_DONE) {
        bt_cursor_reset(&c->bc);
        moved(c, FOLIO_DONE);
        return FOLIO_NOTFOUND;
    }
    return moved(c, rc);
}

int folio_cursor_seek(folio_cursor *c, const folio_value *key, int nkey, int op)
{
    if (c)
        TXN_ON_TIME(c->t->txn);
    if (!c)
        return FOLIO_MISUSE;
    scan_start(c);
    folio_db *db = cur_db(c);
    FOLIO_CHECK_ARG(db, key != NULL && nkey > 0);
    FOLIO_CHECK_ARG(db, op >= FOLIO_SEEK_EQ && op <= FOLIO_SEEK_LT);
    db_table *tab = c->t->tab;
    if (!c->index && !tab->def.without_rowid) {
        if (nkey != 1)
            return db_err(db, FOLIO_MISUSE, "a table cursor seeks by one value, the rowid");
        return seek_rowid_op(c, key, op);
    }
    key_scratch *ks = &c->ks;
    if (ks_room(ks, nkey) < 0)
        return db_err(db, FOLIO_NOMEM, "out of memory");
    fmt_value *kv = ks->v;
    for (int i = 0; i < nkey; i++) {
        if (key[i].type < FOLIO_NULL || key[i].type > FOLIO_BLOB)
            return db_err(db, FOLIO_MISUSE, "key value %d has an invalid type", i);
        if ((key[i].type == FOLIO_TEXT || key[i].type == FOLIO_BLOB) && key[i].u.s.n &&
            !key[i].u.s.p)
            return db_err(db, FOLIO_MISUSE, "key value %d has bytes but no pointer", i);
        if ((key[i].type == FOLIO_TEXT || key[i].type == FOLIO_BLOB) &&
            key[i].u.s.n > FMT_MAX_LENGTH)
            return db_err(db, FOLIO_TOOBIG, "key value %d is %zu bytes; the limit is %u", i,
                          key[i].u.s.n, FMT_MAX_LENGTH);
        kv[i].type = (int)key[i].type;
        if (key[i].type == FOLIO_INTEGER)
            kv[i].u.i = key[i].u.i;
        else if (key[i].type == FOLIO_REAL)
            kv[i].u.r = key[i].u.r;
        else if (key[i].type == FOLIO_TEXT || key[i].type == FOLIO_BLOB) {
            kv[i].u.s.p = key[i].u.s.p ? key[i].u.s.p : (const void *)"";
            kv[i].u.s.n = key[i].u.s.n;
        }
    }
    key_ctx k;
    memset(&k, 0, sizeof k);
    k.vals = kv;
    k.n = nkey;
    k.enc = c->t->txn->cat->text_encoding;
    k.pt = cur_pt(c);
    /* UTF-16 files: BINARY compares the stored bytes, so the key's text is
     * converted to the file's encoding once (into the cursor's buffers). */
    if (k.enc > 1) {
        for (int i = 0; i < nkey; i++) {
            ks->nv[i] = kv[i];
            if (kv[i].type == FMT_TEXT) {
                size_t n = 0;
                if (text_utf8_to_utf16(kv[i].u.s.p, (size_t)kv[i].u.s.n, k.enc, &ks->buf[i],
                                       &ks->bufcap[i], &n) < 0)
                    return db_err(db, FOLIO_NOMEM, "out of memory");
                ks->nv[i].u.s.p = ks->buf[i];
                ks->nv[i].u.s.n = n;
            }
        }
        k.nvals = ks->nv;
    }
    if (c->index) {
        if (nkey > c->index->nfields)
            return db_err(db, FOLIO_MISUSE, "index %s has %d key columns, got %d", c->index->name,
                          c->index->ncols, nkey);
        k.desc = c->index->desc;
        k.coll = c->index->coll;
        if (nkey > c->index->ncols)
            k.n = c->index->ncols; /* suffix fields compare by rowid/pk: not supported */
    } else {
        if (nkey > tab->def.npk)
            return db_err(db, FOLIO_MISUSE, "table %s has %d primary key columns, got %d",
                          tab->name, tab->def.npk, nkey);
        k.desc = tab->pk_desc;
        k.coll = tab->pk_coll;
    }
    if (op == FOLIO_SEEK_EQ && c->filter)
        return seek_eq_filtered(c, &k);
    int rc;
    switch (op) {
    case FOLIO_SEEK_EQ:
    case FOLIO_SEEK_GE:
        rc = bt_seek_ge(&c->bc, key_compare, &k, 1);
        if (rc == FOLIO_ROW && op == FOLIO_SEEK_EQ) {
            const uint8_t *rec;
            uint64_t size;
            int cmp = 1;
            if ((rc = bt_payload(&c->bc, &rec, &size)) >= 0 &&
                (rc = key_compare(&k, rec, size, &cmp)) < 0 && rc == FOLIO_CORRUPT)
                rc = bt_corrupt_here(&c->bc, "malformed record");
            if (rc >= 0)
                rc = cmp == 0 ? FOLIO_ROW : FOLIO_DONE;
        }
        break;
    case FOLIO_SEEK_GT:
        rc = bt_seek_ge(&c->bc, key_compare, &k, 0);
        break;
    case FOLIO_SEEK_LE:
    case FOLIO_SEEK_LT:
        rc = bt_seek_ge(&c->bc, key_compare, &k, op == FOLIO_SEEK_LT);
        if (rc == FOLIO_ROW)
            rc = bt_prev(&c->bc);
        else if (rc == FOLIO_DONE)
            rc = bt_last(&c->bc);
        break;
    default:
        rc = FOLIO_MISUSE;
    }
    return seek_end(c, rc, op <= FOLIO_SEEK_GT ? 1 : -1);
}

/* ---- reading the current row ---- */

/* The index record's fields decoded (for rowid / pk lookups). */
static int index_record(folio_cursor *c, const uint8_t **rec, uint64_t *size)
{
    int rc = bt_payload(&c->bc, rec, size);
    if (rc < 0)
        return rc;
    if (!c->ird.valid && (rc = row_decode(&c->ird, *rec, *size, *size)) < 0)
        return rc == FOLIO_NOMEM
                   ? ptxn_error(cur_pt(c), rc, "out of memory")
                   : ptxn_corrupt(cur_pt(c), bt_cursor_pgno(&c->bc), "malformed index record");
    return 0;
}

/* The rowid at the end of the current index entry (rowid tables). */
static int index_entry_rowid(folio_cursor *c, int64_t *out)
{
    const uint8_t *rec;
    uint64_t size;
    int rc = index_record(c, &rec, &size);
    if (rc < 0)
        return rc;
    fmt_value v;
    uint32_t last = c->ird.nfields ? c->ird.nfields - 1 : 0;
    if (c->ird.nfields == 0 || c->ird.off[last] + fmt_serial_size(c->ird.st[last]) > size ||
        fmt_serial_decode(c->ird.st[last], rec + c->ird.off[last], &v) < 0 || v.type != FMT_INTEGER)
        return ptxn_corrupt(cur_pt(c), bt_cursor_pgno(&c->bc), "index entry has no integer rowid");
    *out = v.u.i;
    return 0;
}

int64_t folio_cursor_rowid(const folio_cursor *cc)
{
    const folio_cursor *c = cc;
    if (!c || !c->positioned || c->t->tab->def.without_rowid)
        return 0;
    if (!c->index)
        return bt_rowid(&c->bc);
    return c->index_rowid;
}

/* For index cursors: move the table cursor to the entry's row. */
static int locate_row(folio_cursor *c)
{
    if (c->tc_valid)
        return 0;
    db_table *tab = c->t->tab;
    const uint8_t *rec;
    uint64_t size;
    int rc = index_record(c, &rec, &size);
    if (rc < 0)
        return rc;
    uint32_t pgno = bt_cursor_pgno(&c->bc);
    if (!tab->def.without_rowid) {
        if (c->ird.nfields == 0)
            return ptxn_corrupt(cur_pt(c), pgno, "empty index record");
        fmt_value v;
        uint32_t last = c->ird.nfields - 1;
        if (fmt_serial_decode(c->ird.st[last], rec + c->ird.off[last], &v) < 0 ||
            v.type != FMT_INTEGER)
            return ptxn_corrupt(cur_pt(c), pgno, "index entry has no integer rowid");
        rc = bt_seek_rowid(&c->tc, v.u.i);
        if (rc == FOLIO_NOTFOUND)
            return ptxn_corrupt(cur_pt(c), pgno, "index entry refers to a missing row");
        if (rc < 0)
            return rc;
    } else {
        /* Build the primary key from the index record. */
        int npk = tab->def.npk;
        key_scratch *ks = &c->pks; /* not c->ks: a seek's key lives there */
        if (ks_room(ks, npk) < 0)
            return ptxn_error(cur_pt(c), FOLIO_NOMEM, "out of memory");
        fmt_value *pk = ks->v;
        for (int k = 0; k < npk; k++) {
            int col = tab->def.pk[k].col, field = -1;
            for (int i = 0; i < c->index->ncols; i++)
                if (c->index->cols[i] == col &&
                    c->index->coll[i] == (uint8_t)tab->def.pk[k].collation)
                    field = i;
            for (int s = 0; field < 0 && s < c->index->nsuffix; s++)
                if (c->index->suffix_cols[s] == col)
                    field = c->index->ncols + s;
            if (field < 0 || (uint32_t)field >= c->ird.nfields ||
                fmt_serial_decode(c->ird.st[field], rec + c->ird.off[field], &pk[k]) < 0)
                return ptxn_corrupt(cur_pt(c), pgno, "index entry lacks primary key fields");
        }
        /* The key's text is in the file's encoding. For a UTF-16 file the
         * comparison wants it both ways: raw for BINARY, UTF-8 otherwise. */
        int enc = c->t->txn->cat->text_encoding;
        key_ctx k = {pk, npk, tab->pk_desc, tab->pk_coll, 1, cur_pt(c), NULL};
        if (enc > 1) {
            fmt_value *pk8 = ks->nv;
            for (int i = 0; i < npk; i++) {
                pk8[i] = pk[i];
                if (pk[i].type == FMT_TEXT) {
                    size_t n = 0;
                    if (text_utf16_to_utf8(pk[i].u.s.p, (size_t)pk[i].u.s.n, enc, &ks->buf[i],
                                           &ks->bufcap[i], &n) < 0)
                        return ptxn_error(cur_pt(c), FOLIO_NOMEM, "out of memory");
                    pk8[i].u.s.p = ks->buf[i];
                    pk8[i].u.s.n = n;
                }
            }
            k.vals = pk8;
            k.nvals = pk;
            k.enc = enc;
        }
        rc = bt_seek_ge(&c->tc, key_compare, &k, 1);
        int cmp = 1;
        if (rc == FOLIO_ROW) {
            const uint8_t *trec;
            uint64_t tsize;
            if ((rc = bt_payload(&c->tc, &trec, &tsize)) >= 0 &&
                (rc = key_compare(&k, trec, tsize, &cmp)) == FOLIO_CORRUPT)
                rc = bt_corrupt_here(&c->tc, "malformed record");
        }
        if (rc < 0)
            return rc;
        if (cmp != 0)
            return ptxn_corrupt(cur_pt(c), pgno, "index entry refers to a missing row");
    }
    c->tc_valid = 1;
    c->rd.valid = 0;
    return 0;
}

static int realify(folio_value *out, int affinity)
{
    if (affinity == SCH_AFF_REAL && out->type == FOLIO_INTEGER) {
        out->type = FOLIO_REAL;
        out->u.r = (double)out->u.i;
    }
    return 0;
}

int folio_cursor_column(folio_value *out, folio_cursor *c, int col)
{
    if (c)
        TXN_ON_TIME(c->t->txn);
    if (!c)
        return FOLIO_MISUSE;
    ptxn_clear_error(cur_pt(c));
    folio_db *db = cur_db(c);
    FOLIO_CHECK_ARG(db, out != NULL);
    db_table *tab = c->t->tab;
    if (col < 0 || col >= tab->def.ncols)
        return db_err(db, FOLIO_MISUSE, "column %d out of range (table %s has %d columns)", col,
                      tab->name, tab->def.ncols);
    if (!c->positioned)
        return db_err(db, FOLIO_MISUSE, "cursor is not on a row");
    if (c->t->txn->write && stale(c)) {
        int exact, past_end;
        int rc = restore_position(c, &exact, &past_end);
        if (rc < 0) {
            c->positioned = 0;
            return db_err_txn(c->t->txn, rc);
        }
        if (!exact) {
            c->positioned = 0;
            return db_err(db, FOLIO_MISUSE, "the cursor's row was deleted by a write");
        }
        c->gen = bt_generation(c->t->txn->pt);
    }
    return db_cursor_column(c, col, out);
}

/* Column `col` of the cursor's row for a generated column's expression:
 * stored ones from the record, VIRTUAL ones from those computed before it. */
static int virt_source(void *arg, int col, ex_value *out)
{
    folio_cursor *c = arg;
    folio_value v;
    if (c->t->tab->col_field[col] < 0 && col != c->t->tab->def.ipk) {
        const fmt_value *fv = &c->virt[col];
        out->type = fv->type;
        out->subtype = EX_SUBTYPE_NONE;
        out->u.i = fv->u.i;
        if (fv->type == FMT_REAL)
            out->u.r = fv->u.r;
        else if (fv->type == FMT_TEXT || fv->type == FMT_BLOB)
            out->u.s.p = fv->u.s.p, out->u.s.n = fv->u.s.n;
        return 0;
    }
    int rc = db_cursor_column(c, col, &v);
    if (rc < 0)
        return rc;
    out->type = (int)v.type;
    out->subtype = EX_SUBTYPE_NONE;
    if (v.type == FOLIO_TEXT || v.type == FOLIO_BLOB) {
        out->u.s.p = v.u.s.p;
        out->u.s.n = v.u.s.n;
    } else if (v.type == FOLIO_REAL) {
        out->u.r = v.u.r;
    } else {
        out->u.i = v.u.i;
    }
    return 0;
}

/* The VIRTUAL generated columns of the current row, in dependency order,
 * each with its column's affinity, their bytes in the cursor's buffers. */
static int compute_virtuals(folio_cursor *c)
{
    folio_db *db = cur_db(c);
    db_table *tab = c->t->tab;
    if (!c->vcx && ex_ctx_new(&c->vcx) < 0)
        return db_err(db, FOLIO_NOMEM, "out of memory");
    if (!c->virt && !(c->virt = os_calloc((size_t)tab->def.ncols, sizeof *c->virt)))
        return db_err(db, FOLIO_NOMEM, "out of memory");
    ex_row row = {.column = virt_source,
                  .arg = c,
                  .rowid = tab->def.without_rowid ? 0 : folio_cursor_rowid(c)};
    for (int k = 0; k < tab->ngen; k++) {
        int col = tab->gen_order[k];
        const sch_column *cd = &tab->def.cols[col];
        if (cd->hidden != 2)
            continue;
        ex_value v;
        int rc = ex_eval(tab->gen[col], c->vcx, &row, &v);
        if (rc < 0)
            return db_err(db, rc, "%s", ex_ctx_errmsg(c->vcx));
        fmt_value *fv = &c->virt[col];
        fv->type = v.type;
        fv->u.i = v.u.i;
        if (v.type == EX_REAL)
            fv->u.r = v.u.r;
        else if (v.type == EX_TEXT || v.type == EX_BLOB)
            fv->u.s.p = v.u.s.p, fv->u.s.n = v.u.s.n;
        char num[SCH_NUMBER_TEXT_BYTES];
        if (cd->affinity != SCH_AFF_BLOB)
            sch_apply_affinity(fv, cd->affinity, num, sizeof num);
        if (fv->type == FMT_TEXT || fv->type == FMT_BLOB) {
            /* Kept with the cursor: the scratch is reused by the next one. */
            if (c->colcap[col] < fv->u.s.n + 1) {
                uint8_t *b = os_realloc(c->colbuf[col], (size_t)fv->u.s.n + 1);
                if (!b)
                    return db_err(db, FOLIO_NOMEM, "out of memory");
                c->colbuf[col] = b;
                c->colcap[col] = (size_t)fv->u.s.n + 1;
            }
            if (fv->u.s.n)
                memcpy(c->colbuf[col], fv->u.s.p, (size_t)fv->u.s.n);
            fv->u.s.p = c->colbuf[col];
        }
    }
    c->virt_valid = 1;
    return 0;
}

/* A VIRTUAL generated column, computed from the row. */
static int virtual_column(folio_cursor *c, int col, folio_value *out)
{
    db_table *tab = c->t->tab;
    if (!tab->gen || !tab->gen[col] || tab->unsupported)
        return db_err(cur_db(c), FOLIO_UNSUPPORTED,
                      "column %s is a virtual generated column folio cannot compute%s%s",
                      tab->def.cols[col].name, tab->unsupported ? ": " : "",
                      tab->unsupported ? tab->unsupported : "");
    int rc;
    if (!c->virt_valid && (rc = compute_virtuals(c)) < 0)
        return rc;
    const fmt_value *fv = &c->virt[col];
    memset(out, 0, sizeof *out);
    out->type = (folio_type)fv->type;
    if (fv->type == FMT_REAL)
        out->u.r = fv->u.r;
    else if (fv->type == FMT_TEXT || fv->type == FMT_BLOB) {
        out->u.s.p = fv->u.s.p;
        out->u.s.n = (size_t)fv->u.s.n;
    } else {
        out->u.i = fv->u.i;
    }
    return FOLIO_OK;
}

int db_cursor_column(folio_cursor *c, int col, folio_value *out)
{
    folio_db *db = cur_db(c);
    db_table *tab = c->t->tab;
    int rc;
    const sch_column *cd = &tab->def.cols[col];
    if (col == tab->def.ipk) {
        out->type = FOLIO_INTEGER;
        out->u.i = folio_cursor_rowid(c);
        return FOLIO_OK;
    }
    int field = tab->col_field[col];
    if (field < 0)
        return virtual_column(c, col, out);
    bt_cursor *bc = &c->bc;
    if (c->index) {
        if ((rc = locate_row(c)) < 0)
            return db_err_txn(c->t->txn, rc);
        bc = &c->tc;
    }
    /* Decode from the local payload when the header and the value lie there. */
    const uint8_t *rec;
    uint32_t local;
    uint64_t size;
    bt_payload_local(bc, &rec, &local, &size);
    if (!c->rd.valid) {
        if ((rc = row_decode(&c->rd, rec, local, size)) < 0) {
            const uint8_t *full;
            if (rc == FOLIO_NOMEM)
                return db_err(db, rc, "out of memory");
            if ((rc = bt_payload(bc, &full, &size)) < 0)
                return db_err_txn(c->t->txn, rc);
            if ((rc = row_decode(&c->rd, full, size, size)) < 0)
                return rc == FOLIO_NOMEM ? db_err(db, rc, "out of memory")
                                         : db_err(db, FOLIO_CORRUPT, "page %u: malformed record",
                                                  bt_cursor_pgno(bc));
        }
    }
    if ((uint32_t)field >= c->rd.nfields) {
        /* A row older than ALTER TABLE ADD COLUMN. */
        fmt_value dv;
        char buf[64];
        rc = row_default_value(cd, tab->def.strict, &dv, buf);
        if (rc < 0)
            return db_err(db, rc, "default of column %s is an expression folio cannot evaluate",
                          cd->name);
        out->type = (folio_type)dv.type;
        if (dv.type == FMT_INTEGER)
            out->u.i = dv.u.i;
        else if (dv.type == FMT_REAL)
            out->u.r = dv.u.r;
        else if (dv.type == FMT_TEXT || dv.type == FMT_BLOB) {
            out->u.s.p = dv.u.s.p;
            out->u.s.n = (size_t)dv.u.s.n;
            if (dv.u.s.p == (const uint8_t *)buf) {
                /* Text made from a number: keep it with the cursor. */
                if (c->colcap[col] < dv.u.s.n + 1) {
                    uint8_t *b = os_realloc(c->colbuf[col], (size_t)dv.u.s.n + 1);
                    if (!b)
                        return db_err(db, FOLIO_NOMEM, "out of memory");
                    c->colbuf[col] = b;
                    c->colcap[col] = (size_t)dv.u.s.n + 1;
                }
                memcpy(c->colbuf[col], buf, (size_t)dv.u.s.n);
                out->u.s.p = c->colbuf[col];
            }
        }
        return FOLIO_OK;
    }
    uint64_t st = c->rd.st[field], off = c->rd.off[field];
    /* The common serial types inline; the rest through the codec. */
    static const uint8_t int_len[10] = {0, 1, 2, 3, 4, 6, 8, 8, 0, 0};
    if (st <= 9 && off + int_len[st] <= local) {
        const uint8_t *p = rec + off;
        if (st == 0) {
            out->type = FOLIO_NULL;
            return FOLIO_OK;
        }
        if (st >= 8) {
            out->type = FOLIO_INTEGER;
            out->u.i = (int64_t)st - 8;
            return realify(out, cd->affinity);
        }
        uint64_t u = (p[0] & 0x80) ? ~(uint64_t)0 : 0; /* sign extension */
        for (uint32_t k = 0; k < int_len[st]; k++)
            u = (u << 8) | p[k];
        if (st == 7) {
            double r;
            memcpy(&r, &u, sizeof r);
            out->type = FOLIO_REAL;
            out->u.r = r;
            if (r != r) /* a NaN read as NULL, as SQLite does */
                out->type = FOLIO_NULL;
            return FOLIO_OK;
        }
        out->type = FOLIO_INTEGER;
        out->u.i = (int64_t)u;
        return realify(out, cd->affinity);
    }
    if (st >= 12 && c->t->txn->cat->text_encoding == 1) {
        uint64_t len = (st - 12) / 2;
        if (off + len <= local) {
            out->type = (st & 1) ? FOLIO_TEXT : FOLIO_BLOB;
            out->u.s.p = rec + off;
            out->u.s.n = (size_t)len;
            return FOLIO_OK;
        }
    }
    uint64_t len = fmt_serial_size(st);
    if (off + len > local) {
        if ((rc = bt_payload(bc, &rec, &size)) < 0)
            return db_err_txn(c->t->txn, rc);
    }
    fmt_value v;
    if (fmt_serial_decode(st, rec + off, &v) < 0)
        return db_err(db, FOLIO_CORRUPT, "page %u: bad serial type in record", bt_cursor_pgno(bc));
    out->type = (folio_type)v.type;
    switch (v.type) {
    case FMT_INTEGER:
        out->u.i = v.u.i;
        break;
    case FMT_REAL:
        out->u.r = v.u.r;
        if (v.u.r != v.u.r)
            out->type = FOLIO_NULL;
        break;
    case FMT_TEXT:
    case FMT_BLOB:
        out->u.s.p = v.u.s.p;
        out->u.s.n = (size_t)v.u.s.n;
        if (v.type == FMT_TEXT && c->t->txn->cat->text_encoding > 1) {
            size_t n;
            if (text_utf16_to_utf8(v.u.s.p, (size_t)v.u.s.n, c->t->txn->cat->text_encoding,
                                   &c->colbuf[col], &c->colcap[col], &n) < 0)
                return db_err(db, FOLIO_NOMEM, "out of memory");
            out->u.s.p = c->colbuf[col];
            out->u.s.n = n;
        }
        break;
    default:
        break;
    }
    return realify(out, cd->affinity);
}
