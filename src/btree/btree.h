/*
 * btree.h - cursors over SQLite table and index b-trees, and their mutation.
 *
 * A table b-tree (intkey) is keyed by a 64-bit rowid; its interior cells only
 * separate (key = largest rowid of the left subtree) and every row lives in a
 * leaf. An index b-tree is keyed by whole records; its interior cells are
 * entries too, visited between their left subtree and the next one.
 *
 * The btree layer does not know about collations: key comparisons are done
 * by a callback from the layer above.
 */
#ifndef FOLIO_BTREE_H
#define FOLIO_BTREE_H

#include <stdint.h>

#include "pager/pager.h"

#define BT_MAX_DEPTH 20

/**
 * Compare the record `rec` (size bytes, complete) with the caller's key.
 * Sets *out to <0, 0, >0 as rec is less than, equal to or greater than the
 * key. Returns 0 or an error (FOLIO_CORRUPT for a malformed record).
 */
typedef int (*bt_cmp_fn)(void *ctx, const uint8_t *rec, uint64_t size, int *out);

/**
 * Compare two complete records of an index tree by its ordering: *out is
 * <0, 0, >0 as a sorts before, equal to, or after b.
 */
typedef int (*bt_reccmp_fn)(void *cfg, const uint8_t *a, uint64_t na, const uint8_t *b, uint64_t nb,
                            int *out);

struct bt_pin;

typedef struct bt_cursor {
    ptxn *t;
    uint32_t root;
    int intkey;    /* table b-tree */
    uint8_t track; /* its moves record what they read (ptxn_tracks_reads) */
    int depth;     /* levels on the stack; 0 = not positioned */
    int eof;       /* ran off an end */
    uint32_t usable;
    pg *page[BT_MAX_DEPTH];
    fmt_page hdr[BT_MAX_DEPTH];
    uint32_t idx[BT_MAX_DEPTH]; /* child descended into (interior) or cell (bottom) */
    /* The current cell, parsed. */
    fmt_cell cell;
    int cell_valid;
    /* Whole payload when it spills to overflow pages. */
    uint8_t *buf;
    uint64_t bufcap;
    int buf_valid;
    uint64_t gen; /* tree generation this position belongs to (writes bump it) */
    /* Index trees that are written: the ordering of records (set by the
     * layer above; needed to find entries again after a rebalance). */
    bt_reccmp_fn reccmp;
    void *reccfg;
    /* Table trees: after an append in place, the rowid of the last cell of
     * the right-most leaf the cursor still holds (the next append needs no
     * search when its rowid is larger). */
    int64_t append_last;
    int append_valid;
    /* Read transactions: interior pages stay pinned in a small table by page
     * number, so that the next descent through them needs no page lookup.
     * Bit i of `borrowed` says page[i] is such a pin's (not a reference of
     * the stack's own). */
    struct bt_pin *pins;
    uint32_t borrowed;
    /* Serializable concurrent transactions: where the tracked cursor
     * stands (btree_track.c): nothing, before the first entry, past the
     * last, or at a key (tk_rowid; index trees: the record in tk_buf). */
    uint8_t tk;
    int64_t tk_rowid;
    uint8_t *tk_buf;
    uint64_t tk_n, tk_cap;
} bt_cursor;

/** Prepare a cursor over the tree rooted at `root`. No I/O. */
void bt_cursor_init(bt_cursor *c, ptxn *t, uint32_t root, int intkey);
/** Release pages and buffers. */
void bt_cursor_release(bt_cursor *c);
/** Let go of every page like bt_cursor_release, but keep the pin table and
 * the buffer for bt_cursor_reinit (a cursor object being kept for reuse). */
void bt_cursor_release_keep(bt_cursor *c);
/** bt_cursor_init for a cursor left by bt_cursor_release_keep. */
void bt_cursor_reinit(bt_cursor *c, ptxn *t, uint32_t root, int intkey);
/** Release pages but keep buffers (the cursor becomes unpositioned). */
void bt_cursor_reset(bt_cursor *c);

/* The moves below, without read tracking (btree_cursor.c), and with it
 * (btree_track.c, for serializable concurrent transactions): the public
 * ones choose by the cursor's `track`, so that an untracked move costs
 * nothing more. The b-tree's own writes call the untracked ones. */
int bt_first_raw(bt_cursor *c);
int bt_last_raw(bt_cursor *c);
int bt_next_raw(bt_cursor *c);
int bt_prev_raw(bt_cursor *c);
int bt_seek_rowid_raw(bt_cursor *c, int64_t rowid);
int bt_seek_ge_raw(bt_cursor *c, bt_cmp_fn cmp, void *ctx, int ge);
int bt_seek_rowid_ge_raw(bt_cursor *c, int64_t rowid, int ge);
int bt_first_tracked(bt_cursor *c);
int bt_last_tracked(bt_cursor *c);
int bt_next_tracked(bt_cursor *c);
int bt_prev_tracked(bt_cursor *c);
int bt_seek_rowid_tracked(bt_cursor *c, int64_t rowid);
int bt_seek_ge_tracked(bt_cursor *c, bt_cmp_fn cmp, void *ctx, int ge);
int bt_seek_rowid_ge_tracked(bt_cursor *c, int64_t rowid, int ge);

/* FOLIO_ROW, FOLIO_DONE or an error */
static inline int bt_first(bt_cursor *c)
{
    return c->track ? bt_first_tracked(c) : bt_first_raw(c);
}
static inline int bt_last(bt_cursor *c)
{
    return c->track ? bt_last_tracked(c) : bt_last_raw(c);
}
static inline int bt_next(bt_cursor *c)
{
    return c->track ? bt_next_tracked(c) : bt_next_raw(c);
}
static inline int bt_prev(bt_cursor *c)
{
    return c->track ? bt_prev_tracked(c) : bt_prev_raw(c);
}
/** Table trees: position on rowid: FOLIO_ROW, or FOLIO_NOTFOUND leaving the
 * cursor on the leaf where it would go (bt_valid false). */
static inline int bt_seek_rowid(bt_cursor *c, int64_t rowid)
{
    return c->track ? bt_seek_rowid_tracked(c, rowid) : bt_seek_rowid_raw(c, rowid);
}
/**
 * Index trees (or table trees via a rowid comparison is not supported here):
 * position on the first entry >= key (ge=1) or > key (ge=0) by `cmp`.
 * Returns FOLIO_ROW, FOLIO_DONE when no such entry exists, or an error.
 */
static inline int bt_seek_ge(bt_cursor *c, bt_cmp_fn cmp, void *ctx, int ge)
{
    return c->track ? bt_seek_ge_tracked(c, cmp, ctx, ge) : bt_seek_ge_raw(c, cmp, ctx, ge);
}
/** Table trees: first row with rowid >= (ge) or > (!ge) the given one:
 * FOLIO_ROW or FOLIO_DONE. */
static inline int bt_seek_rowid_ge(bt_cursor *c, int64_t rowid, int ge)
{
    return c->track ? bt_seek_rowid_ge_tracked(c, rowid, ge) : bt_seek_rowid_ge_raw(c, rowid, ge);
}
/** Whether the cursor is on an entry. */
int bt_valid(const bt_cursor *c);

int64_t bt_rowid(const bt_cursor *c);
/** The page the cursor is on (its root if unpositioned), for messages. */
uint32_t bt_cursor_pgno(const bt_cursor *c);
/** Report corruption at the cursor's current page (its root if unpositioned). */
int bt_corrupt_here(bt_cursor *c, const char *why);
/** The current entry's payload: *out points into the page when it lies there,
 * else into the cursor's buffer. Valid until the cursor moves. */
int bt_payload(bt_cursor *c, const uint8_t **out, uint64_t *out_size);
/** Local payload only (for reading a record header without overflow). */
void bt_payload_local(const bt_cursor *c, const uint8_t **out, uint32_t *out_local,
                      uint64_t *out_size);

/** Read `n` bytes of payload starting at `off`, following the overflow chain
 * of `cell` (which lies on page `pgno`). */
int bt_read_payload(ptxn *t, uint32_t usable, const fmt_cell *cell, uint64_t off, uint64_t n,
                    uint8_t *dst);

/** Load and validate a b-tree page (header parsed into *hdr). */
int bt_load_page(ptxn *t, uint32_t pgno, pg **out, fmt_page *hdr);

/* ---- mutation (btree_insert.c, btree_delete.c, btree_balance.c) ---- */

/** Create an empty tree; returns its root page. */
int bt_create(ptxn *t, int intkey, uint32_t *out_root);
/** Free every page of the tree, root included. */
int bt_drop(ptxn *t, uint32_t root);
/** Delete every entry, keeping the root page. */
int bt_clear(ptxn *t, uint32_t root, int intkey);

/** Table trees: insert or replace the row `rowid` with payload `rec`. */
int bt_insert_row(bt_cursor *c, int64_t rowid, const uint8_t *rec, uint64_t size);
/**
 * Table trees, the append path of a load: when the cursor sits at the end of
 * the right-most leaf (left there by the previous append), `rowid` is past
 * that leaf's last key and a cell of a `size`-byte record fits in the leaf
 * without overflow, add the cell and set *out to where its record's `size`
 * bytes go (the caller writes them at once). Returns 1 then, 0 when the row
 * must take bt_insert_row instead (nothing changed), or an error.
 */
int bt_append_reserve(bt_cursor *c, int64_t rowid, uint64_t size, uint8_t **out);
/**
 * The same for a record already built, logged (for the commit log or a
 * concurrent transaction) like bt_insert_row: 1 when the row went in, 0 when
 * it must take bt_insert_row (nothing changed, nothing logged), or an error
 * (nothing changed).
 */
int bt_append_row(bt_cursor *c, int64_t rowid, const uint8_t *rec, uint64_t size);
/** Index trees: insert the record `rec` (the caller made sure it is absent). */
int bt_insert_key(bt_cursor *c, const uint8_t *rec, uint64_t size, bt_cmp_fn cmp, void *ctx);
/** Delete the entry the cursor is on; the cursor becomes unpositioned. */
int bt_delete(bt_cursor *c);
/** Bottom-up construction of an empty tree from entries in key order
 * (btree_build.c): every page but the last of each level full, each written
 * once. The root keeps its page number. */
typedef struct bt_builder bt_builder;
int bt_builder_open(bt_builder **out, ptxn *t, uint32_t root, int intkey);
int bt_builder_add_row(bt_builder *b, int64_t rowid, const uint8_t *rec, uint64_t size);
int bt_builder_add_key(bt_builder *b, const uint8_t *rec, uint64_t size);
int bt_builder_finish(bt_builder *b);
void bt_builder_free(bt_builder *b);

/**
 * The change log of a concurrent transaction (ptxn_is_concurrent): every
 * entry a tree gains or loses is recorded, in order, so that the layer
 * above can make the same changes again on the newest trees at commit
 * (bt_log_apply) after checking that nothing they depend on changed.
 *
 * Each entry is a bt_log_entry followed by `size` bytes: the new record
 * (BT_LOG_INS_ROW, BT_LOG_INS_KEY) or the removed index record
 * (BT_LOG_DEL_KEY). A row's insert or delete carries a hash of the row it
 * replaced or removed (`had`: whether there was one), which apply finds
 * again or reports a conflict.
 *
 * A plain write transaction logs the same entries for the commit log
 * (ptxn_set_log_changes), with the rows themselves instead of hashes: a
 * BT_LOG_INS_ROW that replaced a row is followed by the old row's size (8
 * bytes) and the old row, a BT_LOG_DEL_ROW carries the row removed; the
 * bottom-up builder logs what it adds.
 */
enum { BT_LOG_INS_ROW = 1, BT_LOG_DEL_ROW, BT_LOG_INS_KEY, BT_LOG_DEL_KEY };
/* What a serializable transaction read (btree_track.c): the row `rowid`
 * was there with this hash, or absent (BT_LOG_RD_ROW); the first entry
 * after a bound (BT_LOG_RD_NEXT) or before it (BT_LOG_RD_PREV) was a given
 * one, or there was none. Their bytes: the bound's size (8 bytes), the
 * bound (a rowid as 8 bytes, or an index record), then the entry found.
 * Flags in `had`: BT_RD_NOBOUND (the bound is the tree's end), BT_RD_NONE
 * (no entry was found), BT_RD_INTKEY (a table tree). */
enum { BT_LOG_RD_ROW = 8, BT_LOG_RD_NEXT, BT_LOG_RD_PREV };
enum { BT_RD_NOBOUND = 1, BT_RD_NONE = 2, BT_RD_INTKEY = 4 };
/* Entries the layer above adds to the same log (not b-tree changes). */
enum { BT_LOG_FK_KEY = 16 };
typedef struct bt_log_entry {
    uint8_t op;
    uint8_t had;
    uint16_t pad;
    uint32_t root;
    int64_t rowid;
    uint64_t hash;
    uint64_t size;
} bt_log_entry;
/** A 64-bit hash of a payload (for the log's pre-images). */
uint64_t bt_log_hash(const uint8_t *p, uint64_t n);

/** Largest rowid in a table tree (0 and *out_empty=1 if empty). */
int bt_max_rowid(bt_cursor *c, int64_t *out, int *out_empty);

/** What the b-trees of a handle did since it was opened: rebalances (and
 * appends) that added pages, rebalances that freed pages. */
typedef struct bt_counters {
    uint64_t splits;
    uint64_t merges;
} bt_counters;
void bt_counters_get(pager *p, bt_counters *out);

/** Generation counter of a transaction's trees; every mutation bumps it so
 * that other cursors know to re-seek. (Only the transaction's own writes
 * move its trees, and a transaction is used by one thread at a time.) */
uint64_t bt_generation(ptxn *t);

#endif
