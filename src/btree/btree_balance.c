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

/* Scratch for the cells of `pages` pages' worth of content (see the sizes
 * in the header comment). */
static int scratch_init(ptxn *t, level_scratch *s, uint32_t usable, uint32_t pages)
{
    s->t = t;
    s->a.cap = (size_t)usable * pages;
    s->a.used = 0;
    s->a.p = ptxn_buf_get(t, s->a.cap);
    s->ncap = usable / BT_MIN_CELL_COST * pages + 16;
    s->cells = ptxn_buf_get(t, sizeof *s->cells * s->ncap);
    if (!s->a.p || !s->cells) {
        scratch_free(s);
        return ptxn_error(t, FOLIO_NOMEM, "out of memory while rebalancing");
    }
    return 0;
}

/* Append a copy of cell bytes [p, p+n) (NULL: n zero bytes) to the list. */
static uint8_t *scratch_push(level_scratch *s, const void *p, uint32_t n)
{
    /* The sizes in the header comment make these hold for valid pages. */
    if (s->ncap == 0)
        return NULL;
    assert(s->a.used + n <= s->a.cap);
    uint8_t *d = arena_put(&s->a, p, n);
    if (!d)
        return NULL;
    if (!p)
        memset(d, 0, n);
    return d;
}

static int scratch_exhausted(ptxn *t)
{
    return ptxn_error(t, FOLIO_NOMEM, "rebalance scratch space exhausted");
}

static int balance_root(bt_cursor *c, bt_vcell *cells, uint32_t n, uint32_t rchild, int append);

/*
 * One rebalance of level L of the cursor's path under its parent P, in three
 * phases: gather the siblings' cells with the parent's dividers between them
 * into one list (balance_gather), deal the list out over as many pages as it
 * needs (balance_deal), and give the parent its new dividers, which may
 * rebalance the parent in turn (balance_parent).
 */
typedef struct balance_job {
    bt_cursor *c;
    ptxn *t;
    int P; /* the parent's level */
    uint32_t usable;
    uint8_t type;         /* of the pages at level L */
    int leaf, table;      /* page kind */
    int dividers_up;      /* a cell between two new pages goes up as their divider */
    int append;           /* the right-most leaf of a load: no evening out */
    uint8_t *pdata;       /* the parent page, writable */
    fmt_page ph;          /* its header */
    uint32_t first, nsib; /* the siblings: the parent's children first..first+nsib-1 */
    uint32_t sib_pgno[BT_BALANCE_SIBS];
    uint32_t final_right; /* interior pages: right child of the last sibling */
    level_scratch s;      /* the combined cell list, m cells */
    uint32_t m;
    uint32_t k; /* new pages */
    uint32_t bounds[BT_BALANCE_PAGES];
    uint32_t new_pgno[BT_BALANCE_PAGES];
} balance_job;

/* Phase 1: choose the siblings around the page and gather their cells, the
 * new list `cells` standing for the page itself. */
static int balance_gather(balance_job *j, pg *page, uint32_t pi, const bt_vcell *cells, uint32_t n,
                          uint32_t rchild)
{
    ptxn *t = j->t;
    uint32_t parent_pgno = j->c->page[j->P]->pgno;
    uint32_t np = j->ph.ncells;
    if (j->append || np == 0) {
        j->first = pi;
        j->nsib = 1;
    } else {
        j->nsib = np + 1 < BT_BALANCE_SIBS ? np + 1 : BT_BALANCE_SIBS;
        j->first = pi == 0 ? 0 : pi - 1;
        if (j->first + j->nsib - 1 > np)
            j->first = np + 1 - j->nsib;
    }
    int rc = scratch_init(t, &j->s, j->usable, j->nsib + 3);
    if (rc < 0)
        return rc;
    level_scratch *s = &j->s;
    j->m = 0;
    for (uint32_t k = 0; k < j->nsib; k++) {
        uint32_t ci = j->first + k;
        uint32_t child = parent_child(j->pdata, &j->ph, ci);
        j->sib_pgno[k] = child;
        uint32_t sib_right = 0;
        if (ci == pi) {
            if (child != page->pgno)
                return ptxn_corrupt(t, parent_pgno, "cursor path does not match the parent");
            if (j->m + n > s->ncap)
                return scratch_exhausted(t);
            for (uint32_t i = 0; i < n; i++) {
                if (!(s->cells[j->m].p = scratch_push(s, cells[i].p, cells[i].n)))
                    return scratch_exhausted(t);
                s->cells[j->m++].n = cells[i].n;
            }
            sib_right = rchild;
        } else {
            if (child < 2 || child > ptxn_npages(t))
                return ptxn_corrupt(t, parent_pgno, "child page number out of range");
            pg *sp;
            fmt_page sh;
            if ((rc = bt_load_page(t, child, &sp, &sh)) < 0)
                return rc;
            if (sh.type != j->type) {
                pager_unref(sp);
                return ptxn_corrupt(t, child, "sibling pages of different kinds");
            }
            if (j->m + sh.ncells > s->ncap) {
                pager_unref(sp);
                return scratch_exhausted(t);
            }
            rc = gather_page(t, sp->data, child, &sh, j->usable, &s->a, s->cells, &j->m);
            sib_right = sh.right_child;
            pager_unref(sp);
            if (rc < 0)
                return rc;
        }
        if (k + 1 == j->nsib) {
            j->final_right = sib_right;
            continue;
        }
        /* The parent's divider between sibling k and k+1 comes down, but for
         * table leaves, whose dividers are only keys. */
        fmt_cell dc;
        uint32_t off = fmt_page_cell_off(j->pdata, &j->ph, ci);
        if (fmt_cell_parse(j->pdata, &j->ph, off, &dc) < 0)
            return ptxn_corrupt(t, parent_pgno, "malformed cell");
        if (j->table && j->leaf)
            continue;
        uint8_t *d;
        uint32_t dn;
        if (j->leaf) {
            /* index leaf: the divider minus its child pointer (at least the
             * 4 bytes of a cell) */
            dn = dc.cell_size - 4 < 4 ? 4 : dc.cell_size - 4;
            if ((d = scratch_push(s, NULL, dn)) != NULL)
                memcpy(d, j->pdata + off + 4, dc.cell_size - 4);
        } else {
            dn = dc.cell_size;
            if ((d = scratch_push(s, j->pdata + off, dn)) != NULL)
                fmt_put_u32(d, sib_right);
        }
        if (!d || j->m >= s->ncap)
            return scratch_exhausted(t);
        s->cells[j->m].p = d;
        s->cells[j->m++].n = dn;
    }
    return 0;
}

/* Phase 2: deal the list out over pages (the siblings first, then new
 * pages), write them, and free the siblings left over. */
static int balance_deal(balance_job *j)
{
    ptxn *t = j->t;
    int rc;
    uint32_t pcap = bt_page_capacity(j->usable, 2, j->leaf); /* siblings are never page 1 */
    j->k =
        distribute(j->s.cells, j->m, pcap, j->dividers_up, !j->append, j->bounds, BT_BALANCE_PAGES);
    /* At most the siblings' content and one page's worth of new cells. */
    assert(j->k >= 1 && j->k <= j->nsib + 2);
    for (uint32_t p = 0; p < j->k; p++) {
        if (p < j->nsib) {
            j->new_pgno[p] = j->sib_pgno[p];
            continue;
        }
        pg *fresh;
        if ((rc = pager_alloc(&fresh, t)) < 0)
            return rc;
        j->new_pgno[p] = fresh->pgno;
        pager_unref(fresh);
    }
    for (uint32_t p = 0; p < j->k; p++) {
        uint32_t start = p == 0 ? 0 : j->bounds[p - 1] + (j->dividers_up ? 1 : 0);
        uint32_t end = j->bounds[p];
        uint32_t right = 0;
        if (!j->leaf)
            right = p + 1 < j->k ? fmt_get_u32(j->s.cells[end].p) : j->final_right;
        pg *wp;
        if ((rc = pager_get(&wp, t, j->new_pgno[p])) < 0)
            return rc;
        if ((rc = pager_write(t, &wp)) < 0) {
            pager_unref(wp);
            return rc;
        }
        bt_page_write(wp->data, wp->pgno, j->usable, j->type, j->s.cells + start, end - start,
                      right);
        pager_unref(wp);
    }
    for (uint32_t p = j->k; p < j->nsib; p++)
        if ((rc = pager_free(t, j->sib_pgno[p])) < 0)
            return rc;
    if (j->k != j->nsib)
        ptxn_count_above(t, j->k > j->nsib ? BT_COUNT_SPLITS : BT_COUNT_MERGES, 1);
    return 0;
}

/* The divider that goes up between new pages p and p+1. */
static uint8_t *parent_divider(balance_job *j, level_scratch *ps, uint32_t p, uint32_t *out_n)
{
    uint8_t buf[4 + FMT_VARINT_MAX];
    uint8_t *d;
    if (j->table && j->leaf) {
        /* a table leaf's largest rowid */
        const bt_vcell *last = &j->s.cells[j->bounds[p] - 1];
        fmt_put_u32(buf, j->new_pgno[p]);
        *out_n = 4 + (uint32_t)fmt_varint_put(buf + 4, (uint64_t)leaf_cell_rowid(last->p, last->n));
        return scratch_push(ps, buf, *out_n);
    }
    const bt_vcell *dv = &j->s.cells[j->bounds[p]];
    if (j->leaf) {
        /* an index leaf cell, without its padding, after a child pointer */
        uint32_t len = index_cell_len(dv->p, dv->n, j->usable);
        *out_n = len + 4;
        if ((d = scratch_push(ps, NULL, *out_n)) != NULL) {
            fmt_put_u32(d, j->new_pgno[p]);
            memcpy(d + 4, dv->p, len);
        }
        return d;
    }
    *out_n = dv->n;
    if ((d = scratch_push(ps, dv->p, dv->n)) != NULL)
        fmt_put_u32(d, j->new_pgno[p]);
    return d;
}

/* Phase 3: the parent's new cell list: its cells before the siblings, the
 * k-1 new dividers, then its cells after them; then the parent itself is
 * balanced (for underflow only when pages were freed). */
static int balance_parent(balance_job *j)
{
    ptxn *t = j->t;
    uint32_t parent_pgno = j->c->page[j->P]->pgno;
    const fmt_page *ph = &j->ph;
    level_scratch ps;
    int rc = scratch_init(t, &ps, j->usable, 3);
    if (rc < 0)
        return rc;
    uint32_t pm = 0;
    uint32_t ptr_end = ph->hdr_off + ph->hdr_size + 2 * ph->ncells;
    uint32_t last_sib = j->first + j->nsib - 1;
    for (uint32_t i = 0; i < ph->ncells && rc == 0; i++) {
        if (i == j->first) {
            for (uint32_t p = 0; p + 1 < j->k && rc == 0; p++) {
                uint32_t dn;
                uint8_t *d = parent_divider(j, &ps, p, &dn);
                if (!d || pm >= ps.ncap) {
                    rc = scratch_exhausted(t);
                    break;
                }
                ps.cells[pm].p = d;
                ps.cells[pm++].n = dn;
            }
        }
        if (i >= j->first && i < last_sib)
            continue; /* dividers between the siblings: replaced */
        fmt_cell pc;
        uint32_t off = fmt_page_cell_off(j->pdata, ph, i);
        if (off < ptr_end || off >= j->usable || fmt_cell_parse(j->pdata, ph, off, &pc) < 0) {
            rc = ptxn_corrupt(t, parent_pgno, "malformed cell");
            break;
        }
        uint8_t *d = pm < ps.ncap ? scratch_push(&ps, j->pdata + off, pc.cell_size) : NULL;
        if (!d) {
            rc = scratch_exhausted(t);
            break;
        }
        if (i == last_sib)
            fmt_put_u32(d, j->new_pgno[j->k - 1]); /* the last new page hangs here */
        ps.cells[pm].p = d;
        ps.cells[pm++].n = pc.cell_size;
    }
    if (rc == 0 && j->first == ph->ncells) {
        /* The siblings end at the parent's right child: the dividers go last. */
        for (uint32_t p = 0; p + 1 < j->k && rc == 0; p++) {
            uint32_t dn;
            uint8_t *d = parent_divider(j, &ps, p, &dn);
            if (!d || pm >= ps.ncap) {
                rc = scratch_exhausted(t);
                break;
            }
            ps.cells[pm].p = d;
            ps.cells[pm++].n = dn;
        }
    }
    uint32_t prc = last_sib == ph->ncells ? j->new_pgno[j->k - 1] : ph->right_child;
    if (rc == 0) {
        j->c->hdr[j->P] = *ph;
        rc = bt_balance(j->c, j->P, ps.cells, pm, prc, j->k < j->nsib, j->append);
    }
    scratch_free(&ps);
    return rc;
}

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
        /* It fits, and is full enough: rewrite the page alone. */
        if ((rc = pager_write(t, &c->page[L])) < 0)
            return rc;
        /* cells may point into this page: stage them first */
        level_scratch s;
        if ((rc = scratch_init(t, &s, usable, 1)) < 0)
            return rc;
        assert(n <= s.ncap);
        for (uint32_t i = 0; i < n; i++) {
            s.cells[i].p = scratch_push(&s, cells[i].p, cells[i].n);
            s.cells[i].n = cells[i].n;
        }
        bt_page_write(c->page[L]->data, c->page[L]->pgno, usable, type, s.cells, n, rchild);
        scratch_free(&s);
        return 0;
    }

    balance_job j;
    memset(&j, 0, sizeof j);
    j.c = c;
    j.t = t;
    j.P = L - 1;
    j.usable = usable;
    j.type = type;
    j.leaf = leaf;
    j.table = type == FMT_PAGE_TABLE_LEAF || type == FMT_PAGE_TABLE_INTERIOR;
    j.dividers_up = !(j.table && leaf);
    j.append = append;
    if ((rc = pager_write(t, &c->page[j.P])) < 0)
        return rc;
    j.pdata = c->page[j.P]->data;
    if (fmt_page_decode(j.pdata, c->page[j.P]->pgno, usable, &j.ph) < 0)
        return ptxn_corrupt(t, c->page[j.P]->pgno, "invalid b-tree page header");
    uint32_t pi = c->idx[j.P];
    if (pi > j.ph.ncells)
        return ptxn_corrupt(t, c->page[j.P]->pgno, "cursor child index out of range");
    if ((rc = balance_gather(&j, page, pi, cells, n, rchild)) == 0 && (rc = balance_deal(&j)) == 0)
        rc = balance_parent(&j);
    scratch_free(&j.s);
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
                if (rc == 0)
                    ptxn_count_above(t, BT_COUNT_MERGES, 1);
                scratch_free(&s);
                return rc;
            }
            pager_unref(ch);
        }
        if ((rc = scratch_init(t, &s, usable, 1)) < 0)
            return rc;
        assert(n <= s.ncap);
        for (uint32_t i = 0; i < n; i++) {
            s.cells[i].p = scratch_push(&s, cells[i].p, cells[i].n);
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
    ptxn_count_above(t, BT_COUNT_SPLITS, 1);
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

void bt_counters_get(pager *p, bt_counters *out)
{
    out->splits = pager_counter_above(p, BT_COUNT_SPLITS);
    out->merges = pager_counter_above(p, BT_COUNT_MERGES);
}
