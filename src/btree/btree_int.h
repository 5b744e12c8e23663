/*
 * btree_int.h - private helpers shared by the b-tree mutation files.
 */
#ifndef FOLIO_BTREE_INT_H
#define FOLIO_BTREE_INT_H

#include "btree/btree.h"

/* A cell as bytes, in the layout of the page kind it will be written to. */
typedef struct bt_vcell {
    const uint8_t *p;
    uint32_t n;
} bt_vcell;

static inline uint32_t bt_hdr_off(uint32_t pgno)
{
    return pgno == 1 ? 100u : 0u;
}

/* Space a page offers to cells and their pointers. */
static inline uint32_t bt_page_capacity(uint32_t usable, uint32_t pgno, int leaf)
{
    return usable - bt_hdr_off(pgno) - (leaf ? 8u : 12u);
}

/* Write a whole page from a list of cells (which must not point into it). */
void bt_page_write(uint8_t *data, uint32_t pgno, uint32_t usable, uint8_t type,
                   const bt_vcell *cells, uint32_t n, uint32_t right_child);

/* Rewrite a page compactly (no freeblocks, no fragments). */
int bt_page_defrag(ptxn *t, uint8_t *data, uint32_t pgno, uint32_t usable);

/* Bytes used by cells and pointers on a decoded page. */
uint32_t bt_page_used(const uint8_t *data, const fmt_page *h, uint32_t usable);

/*
 * Sizes bt_balance relies on (btree_balance.c checks them with asserts in
 * debug builds):
 *   - it gathers at most BT_BALANCE_SIBS siblings under one parent;
 *   - their cells and dividers, with the cell list that replaces one of them
 *     (at most a page's worth plus one cell), fill at most
 *     BT_BALANCE_SIBS + 2 pages when dealt out, since every page but the
 *     last is filled past its capacity less one cell (a cell is at most a
 *     quarter of a page); BT_BALANCE_PAGES leaves room beyond that;
 *   - a cell and its pointer take at least BT_MIN_CELL_COST bytes, so a
 *     scratch list for the content of N pages needs usable/BT_MIN_CELL_COST
 *     entries per page, and an arena of N pages: the gather phase sizes its
 *     scratch for the siblings + 3 pages, the parent's for 3 pages (a page
 *     and the k-1 new dividers).
 */
#define BT_BALANCE_SIBS  3
#define BT_BALANCE_PAGES 8
#define BT_MIN_CELL_COST 3

/*
 * Rebalance: the page at level L of the cursor's path must receive `cells`
 * (and right child `rchild` if interior), which may overflow it or leave it
 * under a quarter full (checked when `fix_underflow`). `append` marks an
 * insert past the last key of the right-most leaf: the split then leaves the
 * old page full and starts a new one. The cursor is left unpositioned.
 */
int bt_balance(bt_cursor *c, int level, bt_vcell *cells, uint32_t n, uint32_t rchild,
               int fix_underflow, int append);

/* Build a cell for a payload (table-leaf layout with the rowid when
 * leaf_table, else the index leaf layout) in out (usable + 32 bytes), writing
 * an overflow chain to new pages when it does not fit. */
int bt_build_cell(ptxn *t, uint32_t usable, int leaf_table, int64_t rowid, const uint8_t *rec,
                  uint64_t size, uint8_t *out, uint32_t *out_n);

/* Free an overflow chain of the cell (bounded by the pages it must have). */
int bt_free_overflow(ptxn *t, uint32_t usable, const fmt_cell *cell);

/* The b-tree's counters in the pager's slots for the layers above it. */
enum { BT_COUNT_SPLITS = 0, BT_COUNT_MERGES = 1 };

#endif
