/*
 * btree_balance.c - page rebuilding and rebalancing.
 *
 * Rebalancing works on a level of the cursor's path whose page must take a
 * list of cells that may not fit (after an insert) or may leave it nearly
 * empty (after a delete). Up to three neighbouring siblings under the same
 * parent are gathered with the parent's dividers between them, and their
 * cells are dealt out again over as many pages as needed, filled by bytes;
 * the parent gets the new dividers and is rebalanced in turn if needed.
 *
 *   table leaf:      siblings' cells concatenated; the divider after a page
 *                    is the largest rowid on it (a new interior cell).
 *   table interior:  each old divider comes down as a cell whose child is the
 *                    left sibling's right-most child; one cell goes up
 *                    between new pages (its child becomes the left page's
 *                    right-most child, its key the divider).
 *   index pages:     dividers are entries: they come down between siblings'
 *                    cells and one entry goes up between new pages.
 *
 * The root keeps its page number: when its cells do not fit, they move to a
 * new child and the root becomes an interior page above it ("deepen"); when
 * an interior root is left without cells, its only child is copied up.
 */
#include "btree/btree_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void bt_page_write(uint8_t *data, uint32_t pgno, uint32_t usable, uint8_t type,
                   const bt_vcell *cells, uint32_t n, uint32_t right_child)
{
    uint32_t ho = bt_hdr_off(pgno);
    int leaf = (type == FMT_PAGE_TABLE_LEAF || type == FMT_PAGE_INDEX_LEAF);
    uint32_t hs = leaf ? 8 : 12;
    uint8_t *h = data + ho;
    h[0] = type;
    fmt_put_u16(h + 1, 0);
    fmt_put_u16(h + 3, n);
    h[7] = 0;
    if (!leaf)
        fmt_put_u32(h + 8, right_child);
    uint32_t ptr = ho + hs;
    uint32_t content = usable;
    for (uint32_t i = 0; i < n; i++) {
        content -= cells[i].n;
        memcpy(data + content, cells[i].p, cells[i].n);
        fmt_put_u16(data + ptr + 2 * i, content);
    }
    assert(content >= ptr + 2 * n);
    memset(data + ptr + 2 * n, 0, content - (ptr + 2 * n));
    fmt_put_u16(h + 5, content == 65536 ? 0 : content);
}

uint32_t bt_page_used(const uint8_t *data, const fmt_page *h, uint32_t usable)
{
    uint32_t free_bytes = h->content_start - (h->hdr_off + h->hdr_size + 2 * h->ncells);
    free_bytes += h->frag_bytes;
    uint32_t fb = h->first_freeblock;
    for (uint32_t guard = 0; fb && fb + 4 <= usable && guard < usable / 4; guard++) {
        free_bytes += fmt_get_u16(data + fb + 2);
        fb = fmt_get_u16(data + fb);
    }
    uint32_t total = usable - h->hdr_off - h->hdr_size;
    return free_bytes > total ? 0 : total - free_bytes;
}

int bt_page_defrag(ptxn *t, uint8_t *data, uint32_t pgno, uint32_t usable)
{
    fmt_page h;
    if (fmt_page_decode(data, pgno, usable, &h) < 0)
        return ptxn_corrupt(t, pgno, "invalid b-tree page header");
    uint8_t *copy = ptxn_buf_get(t, usable);
    bt_vcell *cells = ptxn_buf_get(t, sizeof *cells * (h.ncells ? h.ncells : 1));
    if (!copy || !cells) {
        ptxn_buf_put(t, copy);
        ptxn_buf_put(t, cells);
        return ptxn_error(t, FOLIO_NOMEM, "out of memory");
    }
    memcpy(copy, data, usable);
    uint32_t ptr_end = h.hdr_off + h.hdr_size + 2 * h.ncells;
    for (uint32_t i = 0; i < h.ncells; i++) {
        fmt_cell cell;
        uint32_t off = fmt_page_cell_off(copy, &h, i);
        if (off < ptr_end || off >= usable || fmt_cell_parse(copy, &h, off, &cell) < 0) {
            ptxn_buf_put(t, copy);
            ptxn_buf_put(t, cells);
            return ptxn_corrupt(t, pgno, "malformed cell");
        }
        cells[i].p = copy + off;
        cells[i].n = cell.cell_size;
    }
    bt_page_write(data, pgno, usable, h.type, cells, h.ncells, h.right_child);
    ptxn_buf_put(t, copy);
    ptxn_buf_put(t, cells);
    return 0;
}

/* ---- rebalancing ---- */

typedef struct arena {
    uint8_t *p;
    size_t used, cap;
} arena;

static uint8_t *arena_put(arena *a, const void *src, size_t n)
{
    if (a->used + n > a->cap)
        return NULL;
    uint8_t *d = a->p + a->used;
    if (src)
        memcpy(d, src, n);
    a->used += n;
    return d;
}

static int is_leaf_type(uint8_t type)
{
    return type == FMT_PAGE_TABLE_LEAF || type == FMT_PAGE_INDEX_LEAF;
}

static int64_t leaf_cell_rowid(const uint8_t *p, uint32_t n)
{
    uint64_t sz, rowid = 0;
    int k = fmt_varint_get(p, p + n, &sz);
    if (k > 0)
        fmt_varint_get(p + k, p + n, &rowid);
    return (int64_t)rowid;
}

/* Collect the cells of a page into the arena as vcells. */
static int gather_page(ptxn *t, const uint8_t *data, uint32_t pgno, const fmt_page *h,
                       uint32_t usable, arena *a, bt_vcell *out, uint32_t *n)
{
    uint32_t ptr_end = h->hdr_off + h->hdr_size + 2 * h->ncells;
    for (uint32_t i = 0; i < h->ncells; i++) {
        fmt_cell cell;
        uint32_t off = fmt_page_cell_off(data, h, i);
        if (off < ptr_end || off >= usable || fmt_cell_parse(data, h, off, &cell) < 0)
            return ptxn_corrupt(t, pgno, "malformed cell");
        uint8_t *d = arena_put(a, data + off, cell.cell_size);
        if (!d)
            return ptxn_error(t, FOLIO_NOMEM, "rebalance scratch space exhausted");
        out[*n].p = d;
        out[*n].n = cell.cell_size;
        (*n)++;
    }
    return 0;
}

/* Child pointer at position i of a parent (cell i's left child, or the right child). */
static uint32_t parent_child(const uint8_t *data, const fmt_page *h, uint32_t i)
{
    if (i >= h->ncells)
        return h->right_child;
    return fmt_get_u32(data + fmt_page_cell_off(data, h, i));
}

/*
 * Deal `m` combined cells over pages of capacity `cap`. For table leaves
 * (`dividers_up` false) pages take consecutive runs; otherwise one cell
 * between two pages goes up as their divider. Sets bounds[j] = index of the
 * first cell after page j (for dividers_up, that cell is page j's divider).
 * Returns the page count.
 */
static uint32_t distribute(const bt_vcell *cells, uint32_t m, uint32_t cap, int dividers_up,
                           int even, uint32_t *bounds, uint32_t max_pages)
{
    uint32_t k = 0, used = 0;
    for (uint32_t i = 0; i < m; i++) {
        uint32_t need = cells[i].n + 2;
        if (used + need > cap && used > 0 && k + 1 < max_pages) {
            bounds[k++] = i;
            used = 0;
            if (dividers_up)
                continue; /* cell i goes up */
        }
        used += need;
    }
    bounds[k++] = m;
    /* A divider taken as the very last cell would leave the last page empty:
     * take the one before it instead. */
    if (dividers_up && k >= 2 && bounds[k - 2] + 1 >= m && bounds[k - 2] > 0)
        bounds[k - 2]--;
    if (!even || k < 2)
        return k;
    /* Even out from the right: shift each boundary left while that narrows
     * the difference and the right page still fits. */
    for (uint32_t j = k - 1; j > 0; j--) {
        uint32_t lstart = j >= 2 ? bounds[j - 2] + (dividers_up ? 1 : 0) : 0;
        uint32_t rstart = bounds[j - 1] + (dividers_up ? 1 : 0);
        uint32_t lsize = 0, rsize = 0;
        for (uint32_t i = lstart; i < bounds[j - 1]; i++)
            lsize += cells[i].n + 2;
        for (uint32_t i = rstart; i < bounds[j]; i++)
            rsize += cells[i].n + 2;
        for (;;) {
            uint32_t lend = bounds[j - 1];
            if (lend <= lstart + 1)
                break;
            uint32_t moved_in = dividers_up ? cells[lend].n + 2 : cells[lend - 1].n + 2;
            uint32_t moved_out = cells[lend - 1].n + 2;
            if (rsize + moved_in > cap || lsize - moved_out < rsize + moved_in)
                break;
            lsize -= moved_out;
            rsize += moved_in;
            bounds[j - 1]--;
        }
    }
    return k;
}

/* Length of an index leaf cell without the padding to 4 bytes. */
static uint32_t index_cell_len(const uint8_t *p, uint32_t n, uint32_t usable)
{
    uint64_t size;
    int k = fmt_varint_get(p, p + n, &size);
    if (k <= 0)
        return n;
    uint32_t local = fmt_payload_local(usable, 0, size);
    uint32_t len = (uint32_t)k + local + (local < size ? 4u : 0u);
    return len < n ? len : n;
}

typedef struct level_scratch {
    arena a;
    bt_vcell *cells;
    uint32_t ncap;
    ptxn *t;
} level_scratch;

static void scratch_free(level_scratch *s)
{
    ptxn_buf_put(s->t, s->a.p);
    ptxn_buf_put(s->t, s->cells);
    s->a.p = NULL;
    s->cells = NULL;
}

static int scratch_init(ptxn *t, level_scratch *s, uint32_t usable, uint32_t pages)
{
    s->t = t;
    s->a.cap = (size_t)usable * pages;
    s->a.used = 0;
    s->a.p = ptxn_buf_get(t, s->a.cap);
    s->ncap = usable / 3 * pages + 16;
    s->cells = ptxn_buf_get(t, sizeof *s->cells * s->ncap);
    if (!s->a.p || !s->cells) {
        scratch_free(s);
        return ptxn_error(t, FOLIO_NOMEM, "out of memory while rebalancing");
    }
    return 0;
}

static int balance_root(bt_cursor *c, bt_vcell *cells, uint32_t n, uint32_t rchild, int append);

int bt_balance(bt_cursor *c, int L, bt_vcell *cells, uint32_t n, uint32_t rchild, int fix_underflow,
               int append)
{
    ptxn *t = c->t;
    uint32_t usable = c->usable;
    int rc;
    if (L == 0)
        return balance_root(c, cells, n, rchild, append);
    pg *page = c->page[L];
    uint8_t type = c->hdr[L].type;
    int leaf = is_leaf_type(type);
    uint32_t cap = bt_page_capacity(usable, page->pgno, leaf);
    uint32_t need = 0;
    for (uint32_t i = 0; i < n; i++)
        need += cells[i].n + 2;
    if (need <= cap && (!fix_underflow || need >= cap / 4)) {
        if ((rc = pager_write(t, &c->page[L])) < 0)
            return rc;
        /* cells may point into this page: stage them first */
        level_scratch s;
        if ((rc = scratch_init(t, &s, usable, 1)) < 0)
            return rc;
        for (uint32_t i = 0; i < n; i++) {
            s.cells[i].p = arena_put(&s.a, cells[i].p, cells[i].n);
            s.cells[i].n = cells[i].n;
        }
        bt_page_write(c->page[L]->data, c->page[L]->pgno, usable, type, s.cells, n, rchild);
        scratch_free(&s);
        return 0;
    }

    /* Gather siblings around the page under the same parent. */
    int P = L - 1;
    if ((rc = pager_write(t, &c->page[P])) < 0)
        return rc;
    uint8_t *pdata = c->page[P]->data;
    fmt_page ph;
    if (fmt_page_decode(pdata, c->page[P]->pgno, usable, &ph) < 0)
        return ptxn_corrupt(t, c->page[P]->pgno, "invalid b-tree page header");
    uint32_t pi = c->idx[P];
    uint32_t np = ph.ncells;
    if (pi > np)
        return ptxn_corrupt(t, c->page[P]->pgno, "cursor child index out of range");
    uint32_t first, nsib;
    if (append || np == 0) {
        first = pi;
        nsib = 1;
    } else {
        nsib = np + 1 < 3 ? np + 1 : 3;
        first = pi == 0 ? 0 : pi - 1;
        if (first + nsib - 1 > np)
            first = np + 1 - nsib;
    }
    int table = (type == FMT_PAGE_TABLE_LEAF || type == FMT_PAGE_TABLE_INTERIOR);
    int dividers_up = !(table && leaf);

    level_scratch s;
    if ((rc = scratch_init(t, &s, usable, nsib + 3)) < 0)
        return rc;
    uint32_t m = 0;
    uint32_t sib_pgno[3];
    uint32_t final_right = 0;
    for (uint32_t k = 0; k < nsib; k++) {
        uint32_t ci = first + k;
        uint32_t child = parent_child(pdata, &ph, ci);
        sib_pgno[k] = child;
        uint32_t sib_right = 0;
        if (ci == pi) {
            if (child != page->pgno) {
                rc = ptxn_corrupt(t, c->page[P]->pgno, "cursor path does not match the parent");
                goto out;
            }
            for (uint32_t i = 0; i < n; i++) {
                if (m >= s.ncap) {
                    rc = ptxn_error(t, FOLIO_NOMEM, "rebalance scratch space exhausted");
                    goto out;
                }
                s.cells[m].p = arena_put(&s.a, cells[i].p, cells[i].n);
                if (!s.cells[m].p) {
                    rc = ptxn_error(t, FOLIO_NOMEM, "rebalance scratch space exhausted");
                    goto out;
                }
                s.cells[m++].n = cells[i].n;
            }
            sib_right = rchild;
        } else {
            if (child < 2 || child > ptxn_npages(t)) {
                rc = ptxn_corrupt(t, c->page[P]->pgno, "child page number out of range");
                goto out;
            }
            pg *sp;
            fmt_page sh;
            if ((rc = bt_load_page(t, child, &sp, &sh)) < 0)
                goto out;
            if (sh.type != type) {
                pager_unref(sp);
                rc = ptxn_corrupt(t, child, "sibling pages of different kinds");
                goto out;
            }
            if (m + sh.ncells > s.ncap) {
                pager_unref(sp);
                rc = ptxn_error(t, FOLIO_NOMEM, "rebalance scratch space exhausted");
                goto out;
            }
            rc = gather_page(t, sp->data, child, &sh, usable, &s.a, s.cells, &m);
            sib_right = sh.right_child;
            pager_unref(sp);
            if (rc < 0)
                goto out;
        }
        if (k + 1 < nsib) {
            /* The parent's divider between sibling k and k+1. */
            fmt_cell dc;
            uint32_t off = fmt_page_cell_off(pdata, &ph, ci);
            if (fmt_cell_parse(pdata, &ph, off, &dc) < 0) {
                rc = ptxn_corrupt(t, c->page[P]->pgno, "malformed cell");
                goto out;
            }
            if (!(table && leaf)) {
                uint8_t *d;
                uint32_t dn;
                if (leaf) {
                    /* index leaf: the divider minus its child pointer */
                    dn = dc.cell_size - 4;
                    if (dn < 4)
                        dn = 4;
                    d = arena_put(&s.a, NULL, dn);
                    if (d) {
                        memset(d, 0, dn);
                        memcpy(d, pdata + off + 4, dc.cell_size - 4);
                    }
                } else {
                    dn = dc.cell_size;
                    d = arena_put(&s.a, pdata + off, dn);
                    if (d)
                        fmt_put_u32(d, sib_right);
                }
                if (!d || m >= s.ncap) {
                    rc = ptxn_error(t, FOLIO_NOMEM, "rebalance scratch space exhausted");
                    goto out;
                }
                s.cells[m].p = d;
                s.cells[m++].n = dn;
            }
        } else {
            final_right = sib_right;
        }
    }

    /* Deal the cells out. */
    uint32_t pcap = bt_page_capacity(usable, 2, leaf); /* siblings are never page 1 */
    uint32_t bounds[8];
    uint32_t k = distribute(s.cells, m, pcap, dividers_up, !append, bounds, 8);
    /* Interior cells of an index leaf must fit (they carry 4 more bytes). */
    uint32_t new_pgno[8];
    for (uint32_t j = 0; j < k; j++) {
        if (j < nsib) {
            new_pgno[j] = sib_pgno[j];
        } else {
            pg *np_;
            if ((rc = pager_alloc(&np_, t)) < 0)
                goto out;
            new_pgno[j] = np_->pgno;
            pager_unref(np_);
        }
    }
    /* Write the pages. */
    for (uint32_t j = 0; j < k; j++) {
        uint32_t start = j == 0 ? 0 : bounds[j - 1] + (dividers_up ? 1 : 0);
        uint32_t end = bounds[j];
        uint32_t right = 0;
        if (!leaf)
            right = (j + 1 < k) ? fmt_get_u32(s.cells[end].p) : final_right;
        pg *wp;
        if ((rc = pager_get(&wp, t, new_pgno[j])) < 0)
            goto out;
        if ((rc = pager_write(t, &wp)) < 0) {
            pager_unref(wp);
            goto out;
        }
        bt_page_write(wp->data, wp->pgno, usable, type, s.cells + start, end - start, right);
        pager_unref(wp);
    }
    for (uint32_t j = k; j < nsib; j++)
        if ((rc = pager_free(t, sib_pgno[j])) < 0)
            goto out;

    /* The parent's new cell list: its cells before `first`, the k-1 new
     * dividers, then its cells from first+nsib-1 on. */
    {
        level_scratch ps;
        if ((rc = scratch_init(t, &ps, usable, 3)) < 0)
            goto out;
        uint32_t pm = 0;
        uint32_t ptr_end = ph.hdr_off + ph.hdr_size + 2 * ph.ncells;
        for (uint32_t i = 0; i < first && rc == 0; i++) {
            fmt_cell pc;
            uint32_t off = fmt_page_cell_off(pdata, &ph, i);
            if (off < ptr_end || off >= usable || fmt_cell_parse(pdata, &ph, off, &pc) < 0)
                rc = ptxn_corrupt(t, c->page[P]->pgno, "malformed cell");
            else {
                ps.cells[pm].p = arena_put(&ps.a, pdata + off, pc.cell_size);
                ps.cells[pm++].n = pc.cell_size;
            }
        }
        for (uint32_t j = 0; j + 1 < k && rc == 0; j++) {
            uint8_t buf[4 + FMT_VARINT_MAX];
            uint8_t *d;
            uint32_t dn;
            if (table && leaf) {
                const bt_vcell *last = &s.cells[bounds[j] - 1];
                fmt_put_u32(buf, new_pgno[j]);
                dn = 4 +
                     (uint32_t)fmt_varint_put(buf + 4, (uint64_t)leaf_cell_rowid(last->p, last->n));
                d = arena_put(&ps.a, buf, dn);
            } else if (leaf) {
                const bt_vcell *dv = &s.cells[bounds[j]];
                uint32_t len = index_cell_len(dv->p, dv->n, usable);
                dn = len + 4;
                d = arena_put(&ps.a, NULL, dn);
                if (d) {
                    fmt_put_u32(d, new_pgno[j]);
                    memcpy(d + 4, dv->p, len);
                }
            } else {
                const bt_vcell *dv = &s.cells[bounds[j]];
                dn = dv->n;
                d = arena_put(&ps.a, dv->p, dn);
                if (d)
                    fmt_put_u32(d, new_pgno[j]);
            }
            if (!d) {
                rc = ptxn_error(t, FOLIO_NOMEM, "rebalance scratch space exhausted");
                break;
            }
            ps.cells[pm].p = d;
            ps.cells[pm++].n = dn;
        }
        uint32_t prc = ph.right_child;
        for (uint32_t i = first + nsib - 1; i < np && rc == 0; i++) {
            fmt_cell pc;
            uint32_t off = fmt_page_cell_off(pdata, &ph, i);
            if (off < ptr_end || off >= usable || fmt_cell_parse(pdata, &ph, off, &pc) < 0) {
                rc = ptxn_corrupt(t, c->page[P]->pgno, "malformed cell");
                break;
            }
            uint8_t *d = arena_put(&ps.a, pdata + off, pc.cell_size);
            if (!d) {
                rc = ptxn_error(t, FOLIO_NOMEM, "rebalance scratch space exhausted");
                break;
            }
            if (i == first + nsib - 1)
                fmt_put_u32(d, new_pgno[k - 1]);
            ps.cells[pm].p = d;
            ps.cells[pm++].n = pc.cell_size;
        }
        if (first + nsib - 1 == np)
            prc = new_pgno[k - 1];
        if (rc == 0) {
            c->hdr[P] = ph;
            /* Underflow at the parent matters only when pages were freed. */
            rc = bt_balance(c, P, ps.cells, pm, prc, k < nsib, append);
        }
        scratch_free(&ps);
    }
out:
    scratch_free(&s);
    return rc;
}

/* The root: write in place, deepen when too full, collapse when empty. */
static int balance_root(bt_cursor *c, bt_vcell *cells, uint32_t n, uint32_t rchild, int append)
{
    ptxn *t = c->t;
    uint32_t usable = c->usable;
    int rc;
    if ((rc = pager_write(t, &c->page[0])) < 0)
        return rc;
    pg *root = c->page[0];
    uint8_t type = c->hdr[0].type;
    int leaf = is_leaf_type(type);
    uint32_t cap = bt_page_capacity(usable, root->pgno, leaf);
    uint32_t need = 0;
    for (uint32_t i = 0; i < n; i++)
        need += cells[i].n + 2;
    level_scratch s;
    if (need <= cap) {
        if (!leaf && n == 0) {
            /* Collapse: copy the only child up if it fits. */
            pg *ch;
            fmt_page chh;
            if (rchild < 2 || rchild > ptxn_npages(t))
                return ptxn_corrupt(t, root->pgno, "right child out of range");
            if ((rc = bt_load_page(t, rchild, &ch, &chh)) < 0)
                return rc;
            uint32_t used = bt_page_used(ch->data, &chh, usable);
            uint32_t rcap = bt_page_capacity(usable, root->pgno, chh.is_leaf);
            if (used <= rcap) {
                if ((rc = scratch_init(t, &s, usable, 1)) < 0) {
                    pager_unref(ch);
                    return rc;
                }
                uint32_t m = 0;
                rc = gather_page(t, ch->data, rchild, &chh, usable, &s.a, s.cells, &m);
                uint32_t cright = chh.right_child;
                uint8_t ctype = chh.type;
                pager_unref(ch);
                if (rc == 0) {
                    bt_page_write(root->data, root->pgno, usable, ctype, s.cells, m, cright);
                    rc = pager_free(t, rchild);
                }
                scratch_free(&s);
                return rc;
            }
            pager_unref(ch);
        }
        if ((rc = scratch_init(t, &s, usable, 1)) < 0)
            return rc;
        for (uint32_t i = 0; i < n; i++) {
            s.cells[i].p = arena_put(&s.a, cells[i].p, cells[i].n);
            s.cells[i].n = cells[i].n;
        }
        bt_page_write(root->data, root->pgno, usable, type, s.cells, n, rchild);
        scratch_free(&s);
        return 0;
    }
    /* Deepen: the cells go to a new child under an empty interior root. */
    if (c->depth >= BT_MAX_DEPTH)
        return ptxn_corrupt(t, root->pgno, "b-tree would be too deep");
    pg *child;
    if ((rc = pager_alloc(&child, t)) < 0)
        return rc;
    /* Stage the cells (they may point into the root) before rewriting it. */
    if ((rc = scratch_init(t, &s, usable, 2)) < 0) {
        pager_unref(child);
        return rc;
    }
    if (n > s.ncap) {
        scratch_free(&s);
        pager_unref(child);
        return ptxn_error(t, FOLIO_NOMEM, "rebalance scratch space exhausted");
    }
    for (uint32_t i = 0; i < n; i++) {
        s.cells[i].p = arena_put(&s.a, cells[i].p, cells[i].n);
        s.cells[i].n = cells[i].n;
        if (!s.cells[i].p) {
            scratch_free(&s);
            pager_unref(child);
            return ptxn_error(t, FOLIO_NOMEM, "rebalance scratch space exhausted");
        }
    }
    uint8_t itype = (type == FMT_PAGE_TABLE_LEAF || type == FMT_PAGE_TABLE_INTERIOR)
                        ? FMT_PAGE_TABLE_INTERIOR
                        : FMT_PAGE_INDEX_INTERIOR;
    bt_page_write(root->data, root->pgno, usable, itype, NULL, 0, child->pgno);
    /* The child starts as an empty page of the old kind; the virtual cells
     * are balanced into it and its new siblings. */
    bt_page_write(child->data, child->pgno, usable, type, NULL, 0, rchild);
    for (int i = c->depth - 1; i >= 1; i--) {
        /* Levels below are stale after this; drop them. */
        pager_unref(c->page[i]);
        c->page[i] = NULL;
    }
    c->depth = 2;
    c->page[1] = child;
    fmt_page_decode(child->data, child->pgno, usable, &c->hdr[1]);
    fmt_page_decode(root->data, root->pgno, usable, &c->hdr[0]);
    c->idx[0] = 0;
    rc = bt_balance(c, 1, s.cells, n, rchild, 0, append);
    scratch_free(&s);
    return rc;
}
