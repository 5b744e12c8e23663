/*
 * btree_write.c - inserting and deleting entries, overflow chains, creating
 * and dropping trees.
 *
 * A page written by folio never has freeblocks or fragments: deleting a cell
 * closes the gap it leaves (the content below it moves up), and a page
 * written by SQLite is defragmented the first time a cell must be placed and
 * the space between the pointer array and the content area is too small.
 * Pages that overflow or fall under a quarter full are rebalanced
 * (btree_balance.c).
 */
#include "btree/btree_int.h"

#include <assert.h>
#include <string.h>

static int descend_rightmost(bt_cursor *c, uint32_t child);

uint64_t bt_generation(ptxn *t)
{
    return *ptxn_gen(t);
}

static void bump_generation(ptxn *t)
{
    ++*ptxn_gen(t);
}

/* ---- the change log of concurrent transactions ---- */

uint64_t bt_log_hash(const uint8_t *p, uint64_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    for (uint64_t k = 0; i + k < n; k++)
        w |= (uint64_t)p[i + k] << (8 * k);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
    return h;
}

static int log_put(ptxn *t, const bt_log_entry *e, const uint8_t *rec)
{
    return ptxn_log_append2(t, e, sizeof *e, rec, (size_t)e->size);
}

/* Before a row goes in: what it replaces (the cursor is left on it, or
 * where it goes). */
static int append_here(const bt_cursor *c, int64_t rowid);

static int log_insert_row(bt_cursor *c, int64_t rowid, const uint8_t *rec, uint64_t size)
{
    bt_log_entry e = {BT_LOG_INS_ROW, 0, 0, c->root, rowid, 0, size};
    /* Past the last row of the table (the cursor at the end of the
     * right-most leaf, left there by the previous append): nothing to
     * replace, no search. */
    if (append_here(c, rowid))
        return log_put(c->t, &e, rec);
    c->append_valid = 0;
    int rc = bt_seek_rowid_raw(c, rowid);
    if (rc < 0)
        return rc;
    if (rc == FOLIO_ROW) {
        const uint8_t *old;
        uint64_t n;
        if ((rc = bt_payload(c, &old, &n)) < 0)
            return rc;
        e.had = 1;
        e.hash = bt_log_hash(old, n);
        if (!ptxn_is_concurrent(c->t)) {
            /* The commit log: the row replaced, after the new one. */
            if ((rc = log_put(c->t, &e, rec)) < 0 || (rc = ptxn_log_append(c->t, &n, 8)) < 0)
                return rc;
            return n ? ptxn_log_append(c->t, old, (size_t)n) : 0;
        }
    }
    return log_put(c->t, &e, rec);
}

/* Before the entry under the cursor goes. */
static int log_delete(bt_cursor *c)
{
    const uint8_t *old;
    uint64_t n;
    int rc = bt_payload(c, &old, &n);
    if (rc < 0)
        return rc;
    bt_log_entry e = {c->intkey ? BT_LOG_DEL_ROW : BT_LOG_DEL_KEY, 1, 0, c->root, 0, 0, 0};
    if (c->intkey) {
        e.rowid = bt_rowid(c);
        e.hash = bt_log_hash(old, n);
        if (!ptxn_is_concurrent(c->t)) {
            e.size = n; /* the commit log: the row removed */
            return log_put(c->t, &e, old);
        }
        return log_put(c->t, &e, NULL);
    }
    /* (old may point into the cursor's buffer, which log_put does not touch) */
    e.size = n;
    return log_put(c->t, &e, old);
}

int bt_create(ptxn *t, int intkey, uint32_t *out_root)
{
    if (ptxn_is_concurrent(t))
        return ptxn_error(
            t, FOLIO_MISUSE,
            "trees are created, dropped and cleared only in a plain write transaction");
    pg *p;
    int rc = pager_alloc(&p, t);
    if (rc < 0)
        return rc;
    const fmt_dbheader *h = ptxn_header(t);
    uint32_t usable = h->page_size - h->reserved;
    bt_page_write(p->data, p->pgno, usable, intkey ? FMT_PAGE_TABLE_LEAF : FMT_PAGE_INDEX_LEAF,
                  NULL, 0, 0);
    *out_root = p->pgno;
    pager_unref(p);
    bump_generation(t);
    return 0;
}

int bt_free_overflow(ptxn *t, uint32_t usable, const fmt_cell *cell)
{
    if (!cell->overflow)
        return 0;
    uint32_t per = usable - 4;
    uint64_t n = (cell->payload_size - cell->local + per - 1) / per;
    uint32_t pgno = cell->overflow;
    /* Bounded: a chain has no more pages than the file. */
    if (n > ptxn_npages(t))
        return ptxn_corrupt(t, pgno, "overflow chain longer than the database");
    for (uint64_t i = 0; i < n; i++) {
        if (pgno < 2 || pgno > ptxn_npages(t))
            return ptxn_corrupt(t, pgno, "overflow chain points out of range");
        pg *p;
        int rc = pager_get(&p, t, pgno);
        if (rc < 0)
            return rc;
        uint32_t next = fmt_get_u32(p->data);
        pager_unref(p);
        if ((rc = pager_free(t, pgno)) < 0)
            return rc;
        pgno = next;
    }
    return 0;
}

/* Free every page of the subtree at pgno (depth-bounded). */
static int free_tree(ptxn *t, uint32_t pgno, uint32_t usable, int depth, int keep_root)
{
    if (depth > BT_MAX_DEPTH)
        return ptxn_corrupt(t, pgno, "b-tree is too deep");
    pg *p;
    fmt_page h;
    int rc = bt_load_page(t, pgno, &p, &h);
    if (rc < 0)
        return rc;
    uint32_t ptr_end = h.hdr_off + h.hdr_size + 2 * h.ncells;
    for (uint32_t i = 0; i < h.ncells && rc == 0; i++) {
        fmt_cell cell;
        uint32_t off = fmt_page_cell_off(p->data, &h, i);
        if (off < ptr_end || off >= usable || fmt_cell_parse(p->data, &h, off, &cell) < 0) {
            rc = ptxn_corrupt(t, pgno, "malformed cell");
            break;
        }
        if (!h.is_leaf)
            rc = free_tree(t, cell.left_child, usable, depth + 1, 0);
        if (rc == 0 && (h.is_leaf || !h.is_table))
            rc = bt_free_overflow(t, usable, &cell);
    }
    uint32_t right = h.is_leaf ? 0 : h.right_child;
    uint8_t type = h.type;
    pager_unref(p);
    if (rc == 0 && right)
        rc = free_tree(t, right, usable, depth + 1, 0);
    if (rc < 0)
        return rc;
    if (!keep_root)
        return pager_free(t, pgno);
    /* Keep the root as an empty leaf of the same family. */
    if ((rc = pager_get(&p, t, pgno)) < 0)
        return rc;
    if ((rc = pager_write(t, &p)) < 0) {
        pager_unref(p);
        return rc;
    }
    int table = type == FMT_PAGE_TABLE_LEAF || type == FMT_PAGE_TABLE_INTERIOR;
    bt_page_write(p->data, pgno, usable, table ? FMT_PAGE_TABLE_LEAF : FMT_PAGE_INDEX_LEAF, NULL, 0,
                  0);
    pager_unref(p);
    return 0;
}

int bt_drop(ptxn *t, uint32_t root)
{
    if (ptxn_is_concurrent(t))
        return ptxn_error(
            t, FOLIO_MISUSE,
            "trees are created, dropped and cleared only in a plain write transaction");
    const fmt_dbheader *h = ptxn_header(t);
    bump_generation(t);
    return free_tree(t, root, h->page_size - h->reserved, 1, 0);
}

int bt_clear(ptxn *t, uint32_t root, int intkey)
{
    if (ptxn_is_concurrent(t))
        return ptxn_error(
            t, FOLIO_MISUSE,
            "trees are created, dropped and cleared only in a plain write transaction");
    (void)intkey;
    const fmt_dbheader *h = ptxn_header(t);
    bump_generation(t);
    return free_tree(t, root, h->page_size - h->reserved, 1, 1);
}

/*
 * Build a cell for `rec` in `out` (room for usable + 32 bytes): the local
 * part, and an overflow chain written to newly allocated pages when the
 * payload does not fit. `leaf_table` selects the table-leaf layout (with the
 * rowid); otherwise the index layout (leaf form, no child pointer).
 */
int bt_build_cell(ptxn *t, uint32_t usable, int leaf_table, int64_t rowid, const uint8_t *rec,
                  uint64_t size, uint8_t *out, uint32_t *out_n)
{
    uint8_t *p = out;
    p += fmt_varint_put(p, size);
    if (leaf_table)
        p += fmt_varint_put(p, (uint64_t)rowid);
    uint32_t local = fmt_payload_local(usable, leaf_table, size);
    memcpy(p, rec, local);
    p += local;
    if (local < size) {
        uint32_t per = usable - 4;
        uint64_t off = local;
        pg *prev = NULL;
        uint8_t *link = p; /* where the next page number goes */
        while (off < size) {
            pg *op;
            int rc = pager_alloc(&op, t);
            if (rc < 0) {
                pager_unref(prev);
                return rc;
            }
            fmt_put_u32(link, op->pgno);
            uint64_t k = size - off < per ? size - off : per;
            memcpy(op->data + 4, rec + off, (size_t)k);
            fmt_put_u32(op->data, 0);
            off += k;
            pager_unref(prev);
            prev = op;
            link = op->data;
        }
        pager_unref(prev);
        p += 4;
    }
    uint32_t n = (uint32_t)(p - out);
    while (n < 4)
        out[n++] = 0;
    *out_n = n;
    return 0;
}

/*
 * Place a cell at index idx of the bottom page of the cursor, in place when
 * there is room (defragmenting a page that has room only in freeblocks),
 * else through a rebalance. `append` is passed to the rebalance.
 */
static int place_cell(bt_cursor *c, uint32_t idx, const uint8_t *cell, uint32_t n, int append)
{
    int L = c->depth - 1;
    int rc;
    fmt_page *h = &c->hdr[L];
    uint32_t ptr_end = h->hdr_off + h->hdr_size + 2 * h->ncells;
    uint32_t gap = h->content_start - ptr_end;
    if (gap >= n + 2 && c->page[L]->dirty) {
        /* In place: only the header and the pointers from idx on change;
         * the cell and the new last pointer land in unused space, whose
         * bytes a statement rollback need not restore. */
        uint32_t ps = h->hdr_off + h->hdr_size + 2 * idx;
        if ((rc = pager_write_range(c->t, &c->page[L], h->hdr_off, 8)) < 0 ||
            (ps < ptr_end && (rc = pager_write_range(c->t, &c->page[L], ps, ptr_end - ps)) < 0))
            return rc;
    } else if ((rc = pager_write(c->t, &c->page[L])) < 0) {
        return rc;
    }
    uint8_t *data = c->page[L]->data;
    if (gap < n + 2 && (h->first_freeblock || h->frag_bytes)) {
        uint32_t used = bt_page_used(data, h, c->usable);
        uint32_t cap = bt_page_capacity(c->usable, c->page[L]->pgno, h->is_leaf);
        if (used + n + 2 <= cap) {
            if ((rc = bt_page_defrag(c->t, data, c->page[L]->pgno, c->usable)) < 0)
                return rc;
            fmt_page_decode(data, c->page[L]->pgno, c->usable, h);
            gap = h->content_start - ptr_end;
        }
    }
    if (gap >= n + 2) {
        uint32_t content = h->content_start - n;
        memcpy(data + content, cell, n);
        uint8_t *ptrs = data + h->hdr_off + h->hdr_size;
        memmove(ptrs + 2 * idx + 2, ptrs + 2 * idx, 2 * (h->ncells - idx));
        fmt_put_u16(ptrs + 2 * idx, content);
        h->ncells++;
        h->content_start = content;
        fmt_put_u16(data + h->hdr_off + 3, h->ncells);
        fmt_put_u16(data + h->hdr_off + 5, content == 65536 ? 0 : content);
        return 0;
    }
    /* Full: rebalance with the page's cells plus the new one. */
    uint32_t m = h->ncells + 1;
    bt_vcell stack_cells[128];
    bt_vcell *cells = m <= 128 ? stack_cells : ptxn_buf_get(c->t, sizeof *cells * m);
    if (!cells)
        return ptxn_error(c->t, FOLIO_NOMEM, "out of memory");
    for (uint32_t i = 0, j = 0; i < m; i++) {
        if (i == idx) {
            cells[i].p = cell;
            cells[i].n = n;
            continue;
        }
        fmt_cell pc;
        uint32_t off = fmt_page_cell_off(data, h, j++);
        if (off < ptr_end || off >= c->usable || fmt_cell_parse(data, h, off, &pc) < 0) {
            if (cells != stack_cells)
                ptxn_buf_put(c->t, cells);
            return ptxn_corrupt(c->t, c->page[L]->pgno, "malformed cell");
        }
        cells[i].p = data + off;
        cells[i].n = pc.cell_size;
    }
    rc = bt_balance(c, L, cells, m, h->right_child, 0, append);
    if (cells != stack_cells)
        ptxn_buf_put(c->t, cells);
    bt_cursor_reset(c);
    return rc;
}

/*
 * An append to a full right-most table leaf (not the root): the leaf stays
 * as it is, full, and a new right-most leaf takes the new cell; the parent
 * gets a divider for the old leaf at its end. Sequential loads so fill every
 * leaf completely and touch each page once.
 */
static int append_new_leaf(bt_cursor *c, const uint8_t *cell, uint32_t n, int64_t last_rowid)
{
    int L = c->depth - 1;
    int P = L - 1;
    int rc;
    pg *np;
    if ((rc = pager_alloc(&np, c->t)) < 0)
        return rc;
    ptxn_count_above(c->t, BT_COUNT_SPLITS, 1);
    bt_vcell one = {cell, n};
    bt_page_write(np->data, np->pgno, c->usable, FMT_PAGE_TABLE_LEAF, &one, 1, 0);
    /* The parent's right-most child becomes the new leaf... */
    fmt_page *ph = &c->hdr[P];
    if ((rc = pager_write_range(c->t, &c->page[P], ph->hdr_off, 12)) < 0) {
        pager_unref(np);
        return rc;
    }
    uint32_t old_leaf = c->page[L]->pgno;
    fmt_put_u32(c->page[P]->data + ph->hdr_off + 8, np->pgno);
    ph->right_child = np->pgno;
    /* ...and the old leaf gets a divider at the parent's end. */
    uint8_t div[4 + FMT_VARINT_MAX];
    fmt_put_u32(div, old_leaf);
    uint32_t dn = 4 + (uint32_t)fmt_varint_put(div + 4, (uint64_t)last_rowid);
    /* The old leaf is released; the new one stays with us (not on the
     * cursor's path, which a rebalance of the levels above may rewrite). */
    pager_unref(c->page[L]);
    c->page[L] = NULL;
    /* place_cell works on the bottom level: make the parent the bottom. */
    c->depth = L;
    rc = place_cell(c, ph->ncells, div, dn, 1);
    if (rc == 0 && c->depth == L) {
        /* No rebalance above: stay on the new leaf for the next append. */
        c->page[L] = np;
        fmt_page_decode(np->data, np->pgno, c->usable, &c->hdr[L]);
        c->idx[L] = 0;
        c->idx[P] = c->hdr[P].ncells;
        c->depth = L + 1;
        return 0;
    }
    pager_unref(np);
    bt_cursor_reset(c);
    return rc;
}

/* Remove cell idx of the bottom page in place, closing the gap. */
static int remove_cell(bt_cursor *c, int L, uint32_t idx)
{
    int rc;
    if ((rc = pager_write(c->t, &c->page[L])) < 0)
        return rc;
    uint8_t *data = c->page[L]->data;
    fmt_page *h = &c->hdr[L];
    if (h->first_freeblock || h->frag_bytes) {
        if ((rc = bt_page_defrag(c->t, data, c->page[L]->pgno, c->usable)) < 0)
            return rc;
        fmt_page_decode(data, c->page[L]->pgno, c->usable, h);
    }
    uint32_t ptr_end = h->hdr_off + h->hdr_size + 2 * h->ncells;
    fmt_cell cell;
    uint32_t off = fmt_page_cell_off(data, h, idx);
    if (off < ptr_end || off >= c->usable || fmt_cell_parse(data, h, off, &cell) < 0)
        return ptxn_corrupt(c->t, c->page[L]->pgno, "malformed cell");
    uint32_t sz = cell.cell_size;
    uint32_t start = h->content_start;
    if (off < start || off + sz > c->usable)
        return ptxn_corrupt(c->t, c->page[L]->pgno, "cell outside the content area");
    /* Content below the cell moves up by sz. */
    memmove(data + start + sz, data + start, off - start);
    memset(data + start, 0, sz);
    uint8_t *ptrs = data + h->hdr_off + h->hdr_size;
    memmove(ptrs + 2 * idx, ptrs + 2 * idx + 2, 2 * (h->ncells - idx - 1));
    h->ncells--;
    for (uint32_t i = 0; i < h->ncells; i++) {
        uint32_t o = fmt_get_u16(ptrs + 2 * i);
        if (o < off)
            fmt_put_u16(ptrs + 2 * i, o + sz);
    }
    fmt_put_u16(ptrs + 2 * h->ncells, 0);
    h->content_start = start + sz;
    fmt_put_u16(data + h->hdr_off + 3, h->ncells);
    fmt_put_u16(data + h->hdr_off + 5, h->content_start == 65536 ? 0 : h->content_start);
    return 0;
}

/* After a removal: rebalance a non-root page left under a quarter full, or
 * an interior root left without cells. */
static int fix_after_remove(bt_cursor *c, int L)
{
    fmt_page *h = &c->hdr[L];
    uint8_t *data = c->page[L]->data;
    uint32_t cap = bt_page_capacity(c->usable, c->page[L]->pgno, h->is_leaf);
    uint32_t used = bt_page_used(data, h, c->usable);
    int need = (L > 0 && used < cap / 4) || (L == 0 && !h->is_leaf && h->ncells == 0);
    if (!need)
        return 0;
    uint32_t n = h->ncells;
    bt_vcell stack_cells[128];
    bt_vcell *cells = n <= 128 ? stack_cells : ptxn_buf_get(c->t, sizeof *cells * (n ? n : 1));
    if (!cells)
        return ptxn_error(c->t, FOLIO_NOMEM, "out of memory");
    uint32_t ptr_end = h->hdr_off + h->hdr_size + 2 * h->ncells;
    for (uint32_t i = 0; i < n; i++) {
        fmt_cell pc;
        uint32_t off = fmt_page_cell_off(data, h, i);
        if (off < ptr_end || off >= c->usable || fmt_cell_parse(data, h, off, &pc) < 0) {
            if (cells != stack_cells)
                ptxn_buf_put(c->t, cells);
            return ptxn_corrupt(c->t, c->page[L]->pgno, "malformed cell");
        }
        cells[i].p = data + off;
        cells[i].n = pc.cell_size;
    }
    int rc = bt_balance(c, L, cells, n, h->right_child, 1, 0);
    if (cells != stack_cells)
        ptxn_buf_put(c->t, cells);
    return rc;
}

/* Is the cursor's path the right-most one (every level on its last child)? */
static int on_rightmost_path(const bt_cursor *c)
{
    for (int i = 0; i + 1 < c->depth; i++)
        if (c->idx[i] != c->hdr[i].ncells)
            return 0;
    return 1;
}

/* Is the cursor at the end of the right-most leaf, left there by an append,
 * with `rowid` past that leaf's last key? */
static int append_here(const bt_cursor *c, int64_t rowid)
{
    return c->append_valid && c->depth > 0 && c->page[c->depth - 1]->dirty &&
           c->append_last < rowid;
}

static int append_reserve(bt_cursor *c, int64_t rowid, uint64_t size, uint8_t **out);

int bt_append_reserve(bt_cursor *c, int64_t rowid, uint64_t size, uint8_t **out)
{
    c->tk = 0; /* a write moves the cursor: a tracked walk starts again */
    assert(c->intkey);
    if (ptxn_logs_changes(c->t))
        return 0; /* (bt_insert_row logs the row) */
    return append_reserve(c, rowid, size, out);
}

int bt_append_row(bt_cursor *c, int64_t rowid, const uint8_t *rec, uint64_t size)
{
    c->tk = 0;
    assert(c->intkey);
    if (!append_here(c, rowid) || size > fmt_payload_max_local(c->usable, 1))
        return 0;
    const fmt_page *h = &c->hdr[c->depth - 1];
    uint32_t n = (uint32_t)(fmt_varint_len(size) + fmt_varint_len((uint64_t)rowid) + size);
    if (h->content_start < h->hdr_off + h->hdr_size + 2 * h->ncells + (n < 4 ? 4 : n) + 2)
        return 0;
    int rc;
    if (ptxn_logs_changes(c->t)) {
        bt_log_entry e = {BT_LOG_INS_ROW, 0, 0, c->root, rowid, 0, size};
        if ((rc = log_put(c->t, &e, rec)) < 0)
            return rc;
    }
    uint8_t *dst;
    if ((rc = append_reserve(c, rowid, size, &dst)) <= 0)
        return rc < 0 ? rc : ptxn_corrupt(c->t, c->page[c->depth - 1]->pgno, "append refused");
    memcpy(dst, rec, (size_t)size);
    return 1;
}

/* bt_append_reserve for bt_insert_row, which has logged the row. */
static int append_reserve(bt_cursor *c, int64_t rowid, uint64_t size, uint8_t **out)
{
    if (!append_here(c, rowid) || size > fmt_payload_max_local(c->usable, 1))
        return 0;
    int L = c->depth - 1;
    fmt_page *h = &c->hdr[L];
    uint32_t head = (uint32_t)(fmt_varint_len(size) + fmt_varint_len((uint64_t)rowid));
    uint32_t n = head + (uint32_t)size;
    if (n < 4)
        n = 4;
    uint32_t ptr_end = h->hdr_off + h->hdr_size + 2 * h->ncells;
    if (h->content_start < ptr_end + n + 2)
        return 0;
    int rc = pager_write_range(c->t, &c->page[L], h->hdr_off, 8);
    if (rc < 0)
        return rc;
    bump_generation(c->t);
    uint8_t *data = c->page[L]->data;
    uint32_t content = h->content_start - n;
    uint8_t *q = data + content;
    q += fmt_varint_put(q, size);
    q += fmt_varint_put(q, (uint64_t)rowid);
    if (n > head + size) /* a cell is at least 4 bytes */
        memset(q + size, 0, n - head - (uint32_t)size);
    fmt_put_u16(data + ptr_end, content);
    h->ncells++;
    h->content_start = content;
    fmt_put_u16(data + h->hdr_off + 3, h->ncells);
    fmt_put_u16(data + h->hdr_off + 5, content == 65536 ? 0 : content);
    c->idx[L] = h->ncells - 1;
    c->cell_valid = 0;
    c->append_last = rowid;
    *out = q;
    return 1;
}

int bt_insert_row(bt_cursor *c, int64_t rowid, const uint8_t *rec, uint64_t size)
{
    c->tk = 0; /* a write moves the cursor: a tracked walk starts again */
    int rc;
    assert(c->intkey);
    if (size > 0x7fffffff)
        return ptxn_error(c->t, FOLIO_TOOBIG, "row of %llu bytes exceeds the limit",
                          (unsigned long long)size);
    if (ptxn_logs_changes(c->t) && (rc = log_insert_row(c, rowid, rec, size)) < 0)
        return rc;
    /* Fast path: a cursor left on the right-most leaf by the previous
     * append, a rowid past its last key, and room in the leaf. */
    uint8_t *dst;
    if ((rc = append_reserve(c, rowid, size, &dst)) != 0) {
        if (rc > 0)
            memcpy(dst, rec, (size_t)size);
        return rc < 0 ? rc : 0;
    }
    /* No room: the append starts a new leaf, without a search. */
    int positioned = 0;
    if (append_here(c, rowid)) {
        c->idx[c->depth - 1] = c->hdr[c->depth - 1].ncells;
        positioned = 1;
    }
    if (!positioned) {
        rc = bt_seek_rowid_raw(c, rowid);
        if (rc < 0)
            return rc;
        if (rc == FOLIO_ROW && c->cell.overflow == 0 && c->cell.payload_size == size &&
            c->cell.local == size) {
            /* Replace by a row of the same size: in place, the rest of the
             * page as it was. */
            int L = c->depth - 1;
            size_t at = (size_t)(c->cell.payload - c->page[L]->data);
            if ((rc = pager_write(c->t, &c->page[L])) < 0)
                return rc;
            memcpy(c->page[L]->data + at, rec, (size_t)size);
            bump_generation(c->t);
            c->cell_valid = 0;
            c->append_valid = 0;
            return 0;
        }
        if (rc == FOLIO_ROW) {
            /* Replace: drop the old cell first. */
            fmt_cell old = c->cell;
            if ((rc = bt_free_overflow(c->t, c->usable, &old)) < 0)
                return rc;
            if ((rc = remove_cell(c, c->depth - 1, c->idx[c->depth - 1])) < 0)
                return rc;
        }
    }
    bump_generation(c->t);
    uint8_t cellbuf[65536 + 64];
    uint32_t n;
    if ((rc = bt_build_cell(c->t, c->usable, 1, rowid, rec, size, cellbuf, &n)) < 0)
        return rc;
    int L = c->depth - 1;
    uint32_t idx = c->idx[L];
    int append = idx == c->hdr[L].ncells && on_rightmost_path(c);
    int64_t prev_last = c->append_last;
    int prev_valid = c->append_valid;
    c->append_valid = 0;
    fmt_page *h = &c->hdr[L];
    uint32_t gap = h->content_start - (h->hdr_off + h->hdr_size + 2 * h->ncells);
    if (append && L > 0 && gap < n + 2 && !h->first_freeblock && !h->frag_bytes && h->ncells > 0) {
        int64_t last = prev_last;
        if (!prev_valid) {
            fmt_cell lc;
            uint32_t off = fmt_page_cell_off(c->page[L]->data, h, h->ncells - 1);
            if (off >= c->usable || fmt_cell_parse(c->page[L]->data, h, off, &lc) < 0)
                return ptxn_corrupt(c->t, c->page[L]->pgno, "malformed cell");
            last = lc.rowid;
        }
        rc = append_new_leaf(c, cellbuf, n, last);
        if (rc == 0 && c->depth > 0) {
            c->append_last = rowid;
            c->append_valid = 1;
        }
        return rc;
    }
    rc = place_cell(c, idx, cellbuf, n, append);
    c->cell_valid = 0;
    if (rc == 0 && c->depth > 0) {
        /* Still positioned: keep the page pinned for the next append. */
        c->idx[c->depth - 1] = idx;
        if (append) {
            c->append_last = rowid;
            c->append_valid = 1;
        }
    }
    return rc;
}

int bt_insert_key(bt_cursor *c, const uint8_t *rec, uint64_t size, bt_cmp_fn cmp, void *ctx)
{
    c->tk = 0; /* a write moves the cursor: a tracked walk starts again */
    int rc;
    assert(!c->intkey);
    if (size > 0x7fffffff)
        return ptxn_error(c->t, FOLIO_TOOBIG, "key of %llu bytes exceeds the limit",
                          (unsigned long long)size);
    if (ptxn_logs_changes(c->t)) {
        bt_log_entry e = {BT_LOG_INS_KEY, 0, 0, c->root, 0, 0, size};
        if ((rc = log_put(c->t, &e, rec)) < 0)
            return rc;
    }
    rc = bt_seek_ge_raw(c, cmp, ctx, 1);
    if (rc < 0)
        return rc;
    /* Insert into a leaf: if the entry found is on an interior page, the
     * new key belongs at the end of its left subtree's right-most leaf. */
    if (rc == FOLIO_ROW && !c->hdr[c->depth - 1].is_leaf) {
        int top = c->depth - 1;
        uint32_t child;
        fmt_cell cell;
        uint32_t off = fmt_page_cell_off(c->page[top]->data, &c->hdr[top], c->idx[top]);
        if (fmt_cell_parse(c->page[top]->data, &c->hdr[top], off, &cell) < 0)
            return ptxn_corrupt(c->t, c->page[top]->pgno, "malformed cell");
        child = cell.left_child;
        if ((rc = descend_rightmost(c, child)) < 0)
            return rc;
    } else if (rc == FOLIO_DONE) {
        /* Past every key: the end of the right-most leaf. */
        if ((rc = bt_last_raw(c)) < 0)
            return rc;
        if (rc == FOLIO_ROW)
            c->idx[c->depth - 1]++;
        else if (c->depth == 0) {
            bt_cursor_reset(c);
            pg *p;
            fmt_page h;
            if ((rc = bt_load_page(c->t, c->root, &p, &h)) < 0)
                return rc;
            c->page[0] = p;
            c->hdr[0] = h;
            c->idx[0] = 0;
            c->depth = 1;
        }
    }
    bump_generation(c->t);
    uint8_t cellbuf[65536 + 64];
    uint32_t n;
    if ((rc = bt_build_cell(c->t, c->usable, 0, 0, rec, size, cellbuf, &n)) < 0)
        return rc;
    int L = c->depth - 1;
    uint32_t idx = c->idx[L];
    int append = idx == c->hdr[L].ncells && on_rightmost_path(c);
    rc = place_cell(c, idx, cellbuf, n, append);
    bt_cursor_reset(c);
    return rc;
}

/* Push pages from `child` down the right-most children to a leaf. */
static int descend_rightmost(bt_cursor *c, uint32_t child)
{
    int rc;
    for (;;) {
        pg *p;
        fmt_page h;
        if (c->depth >= BT_MAX_DEPTH)
            return ptxn_corrupt(c->t, child, "b-tree is too deep");
        if (child < 2 || child > ptxn_npages(c->t))
            return ptxn_corrupt(c->t, c->page[c->depth - 1]->pgno, "child out of range");
        if ((rc = bt_load_page(c->t, child, &p, &h)) < 0)
            return rc;
        c->page[c->depth] = p;
        c->hdr[c->depth] = h;
        c->idx[c->depth] = h.ncells;
        c->depth++;
        if (h.is_leaf)
            return 0;
        c->idx[c->depth - 1] = h.ncells;
        child = h.right_child;
    }
}

typedef struct rec_key {
    bt_reccmp_fn cmp;
    void *cfg;
    const uint8_t *rec;
    uint64_t n;
} rec_key;

static int rec_key_cmp(void *ctx, const uint8_t *rec, uint64_t size, int *out)
{
    rec_key *k = ctx;
    return k->cmp(k->cfg, rec, size, k->rec, k->n, out);
}

int bt_delete(bt_cursor *c)
{
    c->tk = 0; /* a write moves the cursor: a tracked walk starts again */
    int rc;
    if (!bt_valid(c))
        return ptxn_error(c->t, FOLIO_MISUSE, "cursor is not on an entry");
    if (ptxn_logs_changes(c->t) && (rc = log_delete(c)) < 0)
        return rc;
    bump_generation(c->t);
    int L = c->depth - 1;
    fmt_cell cell = c->cell;
    if (c->intkey || c->hdr[L].is_leaf) {
        if ((rc = bt_free_overflow(c->t, c->usable, &cell)) < 0)
            return rc;
        if ((rc = remove_cell(c, L, c->idx[L])) < 0)
            return rc;
        rc = fix_after_remove(c, L);
        bt_cursor_reset(c);
        return rc;
    }
    /* An index entry on an interior page: replace it by its predecessor,
     * the last entry of the right-most leaf of its left subtree. */
    if (!c->reccmp)
        return ptxn_error(c->t, FOLIO_MISUSE, "index cursor has no record ordering");
    if ((rc = bt_free_overflow(c->t, c->usable, &cell)) < 0)
        return rc;
    int I = L;
    uint32_t child = cell.left_child;
    if ((rc = descend_rightmost(c, child)) < 0)
        return rc;
    int B = c->depth - 1;
    if (c->hdr[B].ncells == 0)
        return ptxn_corrupt(c->t, c->page[B]->pgno, "empty leaf under an index entry");
    fmt_cell pc;
    uint32_t poff = fmt_page_cell_off(c->page[B]->data, &c->hdr[B], c->hdr[B].ncells - 1);
    if (fmt_cell_parse(c->page[B]->data, &c->hdr[B], poff, &pc) < 0)
        return ptxn_corrupt(c->t, c->page[B]->pgno, "malformed cell");
    /* The predecessor's whole record, to find its leaf again afterwards. */
    uint8_t *prec = os_malloc(pc.payload_size ? (size_t)pc.payload_size : 1);
    if (!prec)
        return ptxn_error(c->t, FOLIO_NOMEM, "out of memory");
    if ((rc = bt_read_payload(c->t, c->usable, &pc, 0, pc.payload_size, prec)) < 0) {
        os_free(prec);
        return rc;
    }
    /* Its cell moves up as an interior cell (child pointer first); its
     * overflow chain moves with it. */
    uint8_t buf[65536 + 64];
    uint32_t plen =
        (uint32_t)(pc.payload - (c->page[B]->data + poff)) + pc.local + (pc.overflow ? 4u : 0u);
    fmt_put_u32(buf, cell.left_child);
    memcpy(buf + 4, c->page[B]->data + poff, plen);
    if ((rc = remove_cell(c, B, c->hdr[B].ncells - 1)) < 0 ||
        (rc = remove_cell(c, I, c->idx[I])) < 0) {
        os_free(prec);
        return rc;
    }
    for (int i = c->depth - 1; i > I; i--) {
        pager_unref(c->page[i]);
        c->page[i] = NULL;
    }
    c->depth = I + 1;
    rc = place_cell(c, c->idx[I], buf, plen + 4, 0);
    /* Find the leaf that gave up the predecessor and mend it if it is now
     * under a quarter full. */
    if (rc == 0) {
        rec_key rk = {c->reccmp, c->reccfg, prec, pc.payload_size};
        rc = bt_seek_ge_raw(c, rec_key_cmp, &rk, 1);
        if (rc == FOLIO_ROW && !c->hdr[c->depth - 1].is_leaf) {
            int top = c->depth - 1;
            fmt_cell ic;
            uint32_t ioff = fmt_page_cell_off(c->page[top]->data, &c->hdr[top], c->idx[top]);
            if (fmt_cell_parse(c->page[top]->data, &c->hdr[top], ioff, &ic) < 0)
                rc = ptxn_corrupt(c->t, c->page[top]->pgno, "malformed cell");
            else if ((rc = descend_rightmost(c, ic.left_child)) == 0)
                rc = fix_after_remove(c, c->depth - 1);
        } else if (rc >= 0) {
            rc = 0;
        }
    }
    os_free(prec);
    bt_cursor_reset(c);
    return rc;
}

int bt_max_rowid(bt_cursor *c, int64_t *out, int *out_empty)
{
    int rc = bt_last_raw(c);
    if (rc < 0)
        return rc;
    if (rc == FOLIO_DONE) {
        *out = 0;
        *out_empty = 1;
        return 0;
    }
    *out = bt_rowid(c);
    *out_empty = 0;
    return 0;
}
