/*
 * btree_track.c - the cursor moves, recording what they read for
 * serializable concurrent transactions (ptxn_tracks_reads).
 *
 * A serializable transaction must not commit when what it read changed
 * after its snapshot: a row it looked at, a row it looked for and did not
 * find, a row that appeared inside a range it walked (a phantom). Each move
 * of a tracked cursor records a fact in the change log, which the commit
 * checks again in the newest database at the same point of its replay:
 *  - a seek by rowid: that row, with the hash of its payload, or its absence;
 *  - a step forward: the first entry after where the cursor stood (a key,
 *    or the tree's start) was this one (or there was none); a step back the
 *    same towards the start;
 *  - a seek by key: the first entry after the one before where it landed is
 *    where it landed, which covers the gap the seek skipped.
 * Between two facts of one walk lies no entry of which the log does not
 * speak, so an insert into a range walked is found. The public moves
 * (btree.h) test the cursor's `track` byte inline and call these only for
 * tracked cursors.
 */
#include "btree/btree_int.h"

#include <string.h>

enum { TK_NONE, TK_BOF, TK_EOF, TK_KEY };

/* The cursor's current key into its tk state. */
static int tk_here(bt_cursor *c)
{
    if (!bt_valid(c))
        return 0;
    c->tk = TK_KEY;
    if (c->intkey) {
        c->tk_rowid = bt_rowid(c);
        return 0;
    }
    const uint8_t *p;
    uint64_t n;
    int rc = bt_payload(c, &p, &n);
    if (rc < 0)
        return rc;
    if (n > c->tk_cap) {
        uint8_t *b = os_realloc(c->tk_buf, (size_t)n + 64);
        if (!b)
            return ptxn_error(c->t, FOLIO_NOMEM, "out of memory");
        c->tk_buf = b;
        c->tk_cap = n + 64;
    }
    memcpy(c->tk_buf, p, (size_t)n);
    c->tk_n = n;
    return 0;
}

/* Log a fact: `op` with the bound (none when nobound; a rowid `brow` in
 * table trees, else bound/nb) and the cursor's current entry (or none). */
static int rd_log(bt_cursor *c, int op, int nobound, int64_t brow, const uint8_t *bound,
                  uint64_t nb)
{
    bt_log_entry e = {(uint8_t)op, 0, 0, c->root, 0, 0, 0};
    uint8_t rb[8], bb[8];
    const uint8_t *res = NULL;
    uint64_t nres = 0;
    int rc;
    if (c->intkey) {
        e.had |= BT_RD_INTKEY;
        memcpy(bb, &brow, 8);
        bound = bb;
        nb = 8;
    }
    if (nobound) {
        e.had |= BT_RD_NOBOUND;
        nb = 0;
    }
    if (!bt_valid(c)) {
        e.had |= BT_RD_NONE;
    } else {
        const uint8_t *p;
        uint64_t n;
        if ((rc = bt_payload(c, &p, &n)) < 0)
            return rc;
        if (c->intkey) {
            int64_t r = bt_rowid(c);
            memcpy(rb, &r, 8);
            res = rb;
            nres = 8;
            e.hash = bt_log_hash(p, n);
        } else {
            res = p;
            nres = n;
        }
    }
    e.size = 8 + nb + nres;
    uint64_t nb64 = nb;
    if ((rc = ptxn_log_append(c->t, &e, sizeof e)) < 0 ||
        (rc = ptxn_log_append(c->t, &nb64, 8)) < 0 ||
        (nb && (rc = ptxn_log_append(c->t, bound, (size_t)nb)) < 0) ||
        (nres && (rc = ptxn_log_append(c->t, res, (size_t)nres)) < 0))
        return rc;
    return 0;
}

/* A step from where the cursor stands (tk) in direction op. */
static int step(bt_cursor *c, int op, int rc)
{
    if (rc < 0)
        return rc;
    int r2;
    if (c->tk == TK_KEY)
        r2 = rd_log(c, op, 0, c->tk_rowid, c->tk_buf, c->tk_n);
    else if ((c->tk == TK_BOF && op == BT_LOG_RD_NEXT) || (c->tk == TK_EOF && op == BT_LOG_RD_PREV))
        r2 = rd_log(c, op, 1, 0, NULL, 0);
    else
        return rc; /* (moving off an end it already passed: nothing read) */
    if (r2 == 0)
        r2 = tk_here(c);
    if (r2 == 0 && rc == FOLIO_DONE)
        c->tk = op == BT_LOG_RD_NEXT ? TK_EOF : TK_BOF;
    return r2 < 0 ? r2 : rc;
}

int bt_first_tracked(bt_cursor *c)
{
    int rc = bt_first_raw(c);
    if (rc < 0)
        return rc;
    c->tk = TK_BOF;
    return step(c, BT_LOG_RD_NEXT, rc);
}

int bt_last_tracked(bt_cursor *c)
{
    int rc = bt_last_raw(c);
    if (rc < 0)
        return rc;
    c->tk = TK_EOF;
    return step(c, BT_LOG_RD_PREV, rc);
}

int bt_next_tracked(bt_cursor *c)
{
    return step(c, BT_LOG_RD_NEXT, bt_next_raw(c));
}

int bt_prev_tracked(bt_cursor *c)
{
    return step(c, BT_LOG_RD_PREV, bt_prev_raw(c));
}

int bt_seek_rowid_tracked(bt_cursor *c, int64_t rowid)
{
    int rc = bt_seek_rowid_raw(c, rowid);
    if (rc < 0)
        return rc;
    bt_log_entry e = {BT_LOG_RD_ROW, rc == FOLIO_ROW, 0, c->root, rowid, 0, 0};
    if (rc == FOLIO_ROW) {
        const uint8_t *p;
        uint64_t n;
        int r2 = bt_payload(c, &p, &n);
        if (r2 < 0)
            return r2;
        e.hash = bt_log_hash(p, n);
    }
    int r2 = ptxn_log_append(c->t, &e, sizeof e);
    if (r2 < 0)
        return r2;
    /* Where it stands for a walk from here: at that rowid, whether or not
     * it is there. */
    c->tk = TK_KEY;
    c->tk_rowid = rowid;
    return rc;
}

int bt_seek_rowid_ge_tracked(bt_cursor *c, int64_t rowid, int ge)
{
    int rc = bt_seek_rowid_ge_raw(c, rowid, ge);
    if (rc < 0)
        return rc;
    /* The first entry >= rowid is the first one > rowid - 1. */
    if (ge && rowid == INT64_MIN) {
        c->tk = TK_BOF;
    } else {
        c->tk = TK_KEY;
        c->tk_rowid = ge ? rowid - 1 : rowid;
    }
    return step(c, BT_LOG_RD_NEXT, rc);
}

int bt_seek_ge_tracked(bt_cursor *c, bt_cmp_fn cmp, void *ctx, int ge)
{
    int rc = bt_seek_ge_raw(c, cmp, ctx, ge);
    if (rc < 0)
        return rc;
    /* The key of the seek is the caller's: the fact recorded is that the
     * entry before the landing place is followed by it. */
    bt_cursor p;
    bt_cursor_init(&p, c->t, c->root, c->intkey);
    p.track = 0;
    int r2 = bt_seek_ge_raw(&p, cmp, ctx, ge);
    if (r2 >= 0)
        r2 = r2 == FOLIO_ROW ? bt_prev_raw(&p) : bt_last_raw(&p);
    if (r2 >= 0) {
        c->tk = TK_BOF;
        if (r2 == FOLIO_ROW) {
            /* (p's key becomes c's bound) */
            if (c->intkey) {
                c->tk = TK_KEY;
                c->tk_rowid = bt_rowid(&p);
            } else {
                const uint8_t *k;
                uint64_t n;
                if ((r2 = bt_payload(&p, &k, &n)) >= 0) {
                    if (n > c->tk_cap) {
                        uint8_t *b = os_realloc(c->tk_buf, (size_t)n + 64);
                        if (!b)
                            r2 = ptxn_error(c->t, FOLIO_NOMEM, "out of memory");
                        else {
                            c->tk_buf = b;
                            c->tk_cap = n + 64;
                        }
                    }
                    if (r2 >= 0) {
                        memcpy(c->tk_buf, k, (size_t)n);
                        c->tk_n = n;
                        c->tk = TK_KEY;
                    }
                }
            }
        }
    }
    bt_cursor_release(&p);
    if (r2 < 0)
        return r2;
    return step(c, BT_LOG_RD_NEXT, rc);
}
