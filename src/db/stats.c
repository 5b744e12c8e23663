/*
 * stats.c - storage figures per b-tree (folio stats).
 *
 * Each tree is walked page by page from its root, depth first; every walk is
 * bounded by the tree depth limit and by the number of pages in the file.
 */
#include "db/db_int.h"

#include <string.h>

typedef struct stat_walk {
    ptxn *pt;
    uint32_t usable;
    uint64_t visited; /* pages seen, bounded by the file's page count */
    folio_btree_stats s;
} stat_walk;

static int walk(stat_walk *w, uint32_t pgno, uint32_t depth)
{
    int rc;
    if (depth > BT_MAX_DEPTH)
        return ptxn_corrupt(w->pt, pgno, "b-tree is too deep");
    if (++w->visited > ptxn_npages(w->pt))
        return ptxn_corrupt(w->pt, pgno, "b-tree has more pages than the file (a cycle?)");
    pg *p;
    fmt_page h;
    if ((rc = bt_load_page(w->pt, pgno, &p, &h)) < 0)
        return rc;
    if (depth > w->s.depth)
        w->s.depth = depth;
    if (h.is_leaf)
        w->s.leaf_pages++;
    else
        w->s.interior_pages++;
    /* Unused space: the gap between the pointer array and the content area,
     * plus freeblocks and fragments. */
    uint32_t ptr_end = h.hdr_off + h.hdr_size + 2 * h.ncells;
    uint64_t unused = h.content_start > ptr_end ? h.content_start - ptr_end : 0;
    unused += h.frag_bytes;
    uint32_t fb = h.first_freeblock;
    for (uint32_t guard = 0; fb && guard < w->usable / 4; guard++) {
        if (fb + 4 > w->usable)
            break;
        unused += fmt_get_u16(p->data + fb + 2);
        fb = fmt_get_u16(p->data + fb);
    }
    w->s.unused_bytes += unused + (pager_page_size(ptxn_pager(w->pt)) - w->usable);
    w->s.fragmented_bytes += h.frag_bytes;
    uint32_t children[1024];
    uint32_t nchild = 0;
    for (uint32_t i = 0; i < h.ncells && rc == 0; i++) {
        fmt_cell cell;
        uint32_t off = fmt_page_cell_off(p->data, &h, i);
        if (off < ptr_end || off >= w->usable || fmt_cell_parse(p->data, &h, off, &cell) < 0) {
            rc = ptxn_corrupt(w->pt, pgno, "malformed cell");
            break;
        }
        if (h.is_leaf || !h.is_table) {
            w->s.entries++;
            w->s.payload_bytes += cell.payload_size;
            if (cell.overflow) {
                uint32_t per = w->usable - 4;
                w->s.overflow_pages += (cell.payload_size - cell.local + per - 1) / per;
            }
        }
        if (!h.is_leaf) {
            if (nchild < sizeof children / sizeof children[0]) {
                children[nchild++] = cell.left_child;
            } else {
                rc = walk(w, cell.left_child, depth + 1);
            }
        }
    }
    uint32_t right = h.is_leaf ? 0 : h.right_child;
    pager_unref(p);
    for (uint32_t i = 0; i < nchild && rc == 0; i++)
        rc = walk(w, children[i], depth + 1);
    if (rc == 0 && right)
        rc = walk(w, right, depth + 1);
    return rc;
}

int db_stats(folio_txn *txn, int (*cb)(void *arg, const folio_btree_stats *s), void *arg)
{
    db_catalog *cat = txn->cat;
    const fmt_dbheader *hd = ptxn_header(txn->pt);
    uint32_t usable = hd->page_size - hd->reserved;
    if (ptxn_npages(txn->pt) == 0)
        return 0;
    for (int i = 0; i < cat->ntables; i++) {
        db_table *t = cat->tables[i];
        for (int j = -1; j < t->nidx; j++) {
            stat_walk w;
            memset(&w, 0, sizeof w);
            w.pt = txn->pt;
            w.usable = usable;
            if (j < 0) {
                w.s.name = t->name;
                w.s.tbl_name = t->name;
                w.s.rootpage = t->root;
            } else {
                w.s.name = t->idx[j]->name;
                w.s.tbl_name = t->name;
                w.s.rootpage = t->idx[j]->root;
                w.s.is_index = 1;
            }
            if (w.s.rootpage == 0)
                continue; /* views and virtual tables */
            int rc = walk(&w, w.s.rootpage, 1);
            if (rc < 0)
                return rc;
            if (cb(arg, &w.s))
                return 0;
        }
    }
    return 0;
}
