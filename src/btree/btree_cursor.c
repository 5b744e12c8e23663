/*
 * btree_cursor.c - walking and seeking table and index b-trees.
 *
 * The cursor keeps the path from the root as a stack of pinned pages. At an
 * interior level idx is the child descended into (ncells = the right-most
 * child). At the bottom level idx is the current cell; for index trees the
 * bottom may be an interior page, since interior cells of an index are
 * entries, visited in order between the subtrees on either side.
 *
 * Every descent is bounded by BT_MAX_DEPTH and refuses a child that is one of
 * its own ancestors, so a damaged tree gives FOLIO_CORRUPT, never a loop.
 */
#include "btree/btree.h"

#include <assert.h>
#include <string.h>

int bt_load_page(ptxn *t, uint32_t pgno, pg **out, fmt_page *hdr)
{
    int rc = pager_get(out, t, pgno);
    if (rc < 0)
        return rc;
    const fmt_dbheader *h = ptxn_header(t);
    uint32_t usable = h->page_size - h->reserved;
    if (fmt_page_decode((*out)->data, pgno, usable, hdr) < 0) {
        pager_unref(*out);
        *out = NULL;
        return ptxn_corrupt(t, pgno, "invalid b-tree page header");
    }
    return 0;
}

void bt_cursor_init(bt_cursor *c, ptxn *t, uint32_t root, int intkey)
{
    memset(c, 0, sizeof *c);
    c->t = t;
    c->root = root;
    c->intkey = intkey;
    const fmt_dbheader *h = ptxn_header(t);
    c->usable = h->page_size - h->reserved;
    c->track = (uint8_t)ptxn_tracks_reads(t);
}

/* Pinned interior pages of a read cursor (see push). */
#define BT_NPIN 128
struct bt_pin {
    uint32_t pgno;
    pg *p;
    fmt_page h;
};

void bt_cursor_reset(bt_cursor *c)
{
    for (int i = 0; i < c->depth; i++)
        if (!(c->borrowed & (1u << i)))
            pager_unref(c->page[i]);
    c->borrowed = 0;
    c->depth = 0;
    c->eof = 0;
    c->cell_valid = 0;
    c->buf_valid = 0;
    c->append_valid = 0;
}

void bt_cursor_release_keep(bt_cursor *c)
{
    bt_cursor_reset(c);
    if (c->pins) {
        for (int i = 0; i < BT_NPIN; i++)
            if (c->pins[i].p)
                pager_unref(c->pins[i].p);
        memset(c->pins, 0, BT_NPIN * sizeof *c->pins);
    }
}

void bt_cursor_release(bt_cursor *c)
{
    bt_cursor_release_keep(c);
    os_free(c->pins);
    c->pins = NULL;
    os_free(c->buf);
    c->buf = NULL;
    c->bufcap = 0;
    os_free(c->tk_buf);
    c->tk_buf = NULL;
    c->tk_cap = 0;
}

void bt_cursor_reinit(bt_cursor *c, ptxn *t, uint32_t root, int intkey)
{
    struct bt_pin *pins = c->pins;
    uint8_t *buf = c->buf, *tk_buf = c->tk_buf;
    uint64_t bufcap = c->bufcap, tk_cap = c->tk_cap;
    bt_cursor_init(c, t, root, intkey);
    c->pins = pins;
    c->buf = buf;
    c->bufcap = bufcap;
    c->tk_buf = tk_buf;
    c->tk_cap = tk_cap;
}

int bt_valid(const bt_cursor *c)
{
    return c->depth > 0 && c->cell_valid;
}

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* push, and a byte of the page worth asking the memory for early (0: none):
 * its miss then overlaps the header's. */
static int push_hint(bt_cursor *c, uint32_t pgno, uint32_t hint);

static int push(bt_cursor *c, uint32_t pgno)
{
    return push_hint(c, pgno, 0);
}

static int push_hint(bt_cursor *c, uint32_t pgno, uint32_t hint)
{
    if (c->depth >= BT_MAX_DEPTH)
        return ptxn_corrupt(c->t, pgno, "b-tree is too deep (a cycle?)");
    for (int i = 0; i < c->depth; i++)
        if (c->page[i]->pgno == pgno)
            return ptxn_corrupt(c->t, pgno, "b-tree child points to an ancestor");
    struct bt_pin *pin = c->pins ? &c->pins[pgno & (BT_NPIN - 1)] : NULL;
    if (pin && pin->p && pin->pgno == pgno) {
        c->page[c->depth] = pin->p;
        c->hdr[c->depth] = pin->h;
        c->idx[c->depth] = 0;
        c->borrowed |= 1u << c->depth;
        c->depth++;
        return 0;
    }
    pg *p;
    fmt_page h;
    int rc = pager_get(&p, c->t, pgno);
    if (rc < 0)
        return rc;
    if (hint && hint < c->usable)
        PREFETCH(p->data + hint);
    if (fmt_page_decode(p->data, pgno, c->usable, &h) < 0) {
        pager_unref(p);
        return ptxn_corrupt(c->t, pgno, "invalid b-tree page header");
    }
    if ((h.is_table != 0) != (c->intkey != 0)) {
        pager_unref(p);
        return ptxn_corrupt(c->t, pgno,
                            c->intkey ? "index page in a table b-tree"
                                      : "table page in an index b-tree");
    }
    c->page[c->depth] = p;
    c->hdr[c->depth] = h;
    c->idx[c->depth] = 0;
    /* In a read transaction pages never change: an interior page stays
     * pinned for the next descents (at most BT_NPIN per cursor, until it
     * is released). Its reference moves to the pin. */
    if (!h.is_leaf && !ptxn_is_write(c->t)) {
        if (!c->pins)
            c->pins = os_calloc(BT_NPIN, sizeof *c->pins);
        pin = c->pins ? &c->pins[pgno & (BT_NPIN - 1)] : NULL;
        /* A pin the stack is using stays until the stack lets go of it. */
        for (int i = 0; pin && pin->p && i < c->depth; i++)
            if (c->page[i] == pin->p)
                pin = NULL;
        if (pin) {
            if (pin->p)
                pager_unref(pin->p);
            pin->pgno = pgno;
            pin->p = p;
            pin->h = h;
            c->borrowed |= 1u << c->depth;
        }
    }
    c->depth++;
    return 0;
}

static void pop(bt_cursor *c)
{
    assert(c->depth > 0);
    c->depth--;
    if (c->borrowed & (1u << c->depth))
        c->borrowed &= ~(1u << c->depth);
    else
        pager_unref(c->page[c->depth]);
    c->page[c->depth] = NULL;
}

/* Parse cell i of level lvl. */
static int parse_cell(bt_cursor *c, int lvl, uint32_t i, fmt_cell *out)
{
    const fmt_page *h = &c->hdr[lvl];
    const uint8_t *data = c->page[lvl]->data;
    uint32_t ptr_end = h->hdr_off + h->hdr_size + 2 * h->ncells;
    uint32_t off = fmt_page_cell_off(data, h, i);
    if (off < ptr_end || off >= c->usable)
        return ptxn_corrupt(c->t, c->page[lvl]->pgno, "cell pointer out of range");
    if (fmt_cell_parse(data, h, off, out) < 0)
        return ptxn_corrupt(c->t, c->page[lvl]->pgno, "malformed cell");
    return 0;
}

static int child_of(bt_cursor *c, int lvl, uint32_t i, uint32_t *out)
{
    const fmt_page *h = &c->hdr[lvl];
    if (i >= h->ncells) {
        *out = h->right_child;
    } else {
        fmt_cell cell;
        int rc = parse_cell(c, lvl, i, &cell);
        if (rc < 0)
            return rc;
        *out = cell.left_child;
    }
    if (*out < 2 || *out > ptxn_npages(c->t))
        return ptxn_corrupt(c->t, c->page[lvl]->pgno, "child page number out of range");
    return 0;
}

/* Make the bottom entry current. */
static int settle(bt_cursor *c)
{
    int top = c->depth - 1;
    c->buf_valid = 0;
    const fmt_page *h = &c->hdr[top];
    if (h->type == FMT_PAGE_TABLE_LEAF) {
        /* Fast path: small payload and rowid varints, payload wholly local. */
        const uint8_t *data = c->page[top]->data;
        uint32_t off = fmt_page_cell_off(data, h, c->idx[top]);
        uint32_t ptr_end = h->hdr_off + h->hdr_size + 2 * h->ncells;
        if (off >= ptr_end && off + 11 <= c->usable && data[off] < 0x80) {
            uint32_t size = data[off];
            uint64_t rowid;
            int k = fmt_varint_get(data + off + 1, data + c->usable, &rowid);
            uint32_t hl = 1 + (uint32_t)(k > 0 ? k : 0);
            if (k > 0 && size <= c->usable - 35 && off + hl + size <= c->usable) {
                c->cell.left_child = 0;
                c->cell.rowid = (int64_t)rowid;
                c->cell.payload_size = size;
                c->cell.payload = data + off + hl;
                c->cell.local = size;
                c->cell.overflow = 0;
                c->cell.cell_size = hl + size < 4 ? 4 : hl + size;
                c->cell_valid = 1;
                return FOLIO_ROW;
            }
        }
    }
    int rc = parse_cell(c, top, c->idx[top], &c->cell);
    if (rc < 0) {
        c->cell_valid = 0;
        return rc;
    }
    c->cell_valid = 1;
    return FOLIO_ROW;
}

/* From the page on top, descend along the first children to a leaf. */
static int down_left(bt_cursor *c)
{
    int rc;
    for (;;) {
        int top = c->depth - 1;
        c->idx[top] = 0;
        if (c->hdr[top].is_leaf)
            return 0;
        uint32_t child;
        if ((rc = child_of(c, top, 0, &child)) < 0)
            return rc;
        if ((rc = push(c, child)) < 0)
            return rc;
    }
}

/* From the page on top, descend along the last children; bottom idx is the
 * last cell (ncells - 1, which wraps for an empty leaf: callers check). */
static int down_right(bt_cursor *c)
{
    int rc;
    for (;;) {
        int top = c->depth - 1;
        const fmt_page *h = &c->hdr[top];
        if (h->is_leaf) {
            c->idx[top] = h->ncells ? h->ncells - 1 : 0;
            return 0;
        }
        c->idx[top] = h->ncells;
        if ((rc = push(c, h->right_child < 2 ? 0 : h->right_child)) < 0) {
            if (h->right_child < 2 || h->right_child > ptxn_npages(c->t))
                return ptxn_corrupt(c->t, c->page[top]->pgno, "right child out of range");
            return rc;
        }
    }
}

/* Pop the bottom level and continue the in-order walk upwards. */
static int ascend_next(bt_cursor *c)
{
    int rc;
    pop(c);
    while (c->depth > 0) {
        int top = c->depth - 1;
        const fmt_page *h = &c->hdr[top];
        uint32_t i = c->idx[top];
        if (i < h->ncells) {
            if (!c->intkey)
                return settle(c); /* the interior cell itself is next */
            c->idx[top] = i + 1;
            uint32_t child;
            if ((rc = child_of(c, top, i + 1, &child)) < 0)
                return rc;
            if ((rc = push(c, child)) < 0)
                return rc;
            if ((rc = down_left(c)) < 0)
                return rc;
            int b = c->depth - 1;
            if (c->hdr[b].ncells > 0)
                return settle(c);
            pop(c); /* an empty leaf: keep going */
            continue;
        }
        pop(c);
    }
    c->eof = 1;
    c->cell_valid = 0;
    return FOLIO_DONE;
}

static int ascend_prev(bt_cursor *c)
{
    int rc;
    pop(c);
    while (c->depth > 0) {
        int top = c->depth - 1;
        uint32_t i = c->idx[top];
        if (i > 0) {
            c->idx[top] = i - 1;
            if (!c->intkey)
                return settle(c);
            uint32_t child;
            if ((rc = child_of(c, top, i - 1, &child)) < 0)
                return rc;
            if ((rc = push(c, child)) < 0)
                return rc;
            if ((rc = down_right(c)) < 0)
                return rc;
            int b = c->depth - 1;
            if (c->hdr[b].ncells > 0)
                return settle(c);
            pop(c);
            continue;
        }
        pop(c);
    }
    c->eof = 1;
    c->cell_valid = 0;
    return FOLIO_DONE;
}

int bt_first_raw(bt_cursor *c)
{
    int rc;
    bt_cursor_reset(c);
    if ((rc = push(c, c->root)) < 0)
        return rc;
    if ((rc = down_left(c)) < 0)
        return rc;
    if (c->hdr[c->depth - 1].ncells == 0) {
        if (c->depth == 1) {
            c->eof = 1;
            return FOLIO_DONE;
        }
        return ascend_next(c);
    }
    return settle(c);
}

int bt_last_raw(bt_cursor *c)
{
    int rc;
    bt_cursor_reset(c);
    if ((rc = push(c, c->root)) < 0)
        return rc;
    if ((rc = down_right(c)) < 0)
        return rc;
    if (c->hdr[c->depth - 1].ncells == 0) {
        if (c->depth == 1) {
            c->eof = 1;
            return FOLIO_DONE;
        }
        return ascend_prev(c);
    }
    return settle(c);
}

int bt_next_raw(bt_cursor *c)
{
    int rc;
    if (c->depth == 0)
        return FOLIO_DONE;
    int top = c->depth - 1;
    const fmt_page *h = &c->hdr[top];
    if (!h->is_leaf) {
        /* On an index interior cell: next is the leftmost entry of the
         * subtree to its right. */
        uint32_t child;
        c->idx[top]++;
        if ((rc = child_of(c, top, c->idx[top], &child)) < 0)
            return rc;
        if ((rc = push(c, child)) < 0)
            return rc;
        if ((rc = down_left(c)) < 0)
            return rc;
        if (c->hdr[c->depth - 1].ncells == 0)
            return ascend_next(c);
        return settle(c);
    }
    if (c->idx[top] + 1 < h->ncells) {
        c->idx[top]++;
        return settle(c);
    }
    return ascend_next(c);
}

int bt_prev_raw(bt_cursor *c)
{
    int rc;
    if (c->depth == 0)
        return FOLIO_DONE;
    int top = c->depth - 1;
    const fmt_page *h = &c->hdr[top];
    if (!h->is_leaf) {
        uint32_t child;
        if ((rc = child_of(c, top, c->idx[top], &child)) < 0)
            return rc;
        if ((rc = push(c, child)) < 0)
            return rc;
        if ((rc = down_right(c)) < 0)
            return rc;
        if (c->hdr[c->depth - 1].ncells == 0)
            return ascend_prev(c);
        return settle(c);
    }
    if (c->idx[top] > 0 && c->cell_valid) {
        c->idx[top]--;
        return settle(c);
    }
    if (!c->cell_valid && c->idx[top] > 0 && c->idx[top] <= h->ncells) {
        /* Positioned between entries (after a failed seek): step back. */
        c->idx[top]--;
        return settle(c);
    }
    return ascend_prev(c);
}

/* Rowid of cell i on a table page (interior or leaf). */
/* The integer key of cell i on a table page: after the child pointer on an
 * interior page, after the payload size on a leaf. Only the key is read. */
static int cell_rowid(bt_cursor *c, int lvl, uint32_t i, int64_t *out)
{
    const fmt_page *h = &c->hdr[lvl];
    const uint8_t *data = c->page[lvl]->data;
    uint32_t off = fmt_page_cell_off(data, h, i);
    uint32_t ptr_end = h->hdr_off + h->hdr_size + 2 * h->ncells;
    if (off < ptr_end || off + 4 > c->usable)
        return ptxn_corrupt(c->t, c->page[lvl]->pgno, "cell pointer out of range");
    const uint8_t *p = data + off, *end = data + c->usable;
    uint64_t v = 0;
    if (h->is_leaf) {
        if (*p < 0x80)
            p++;
        else {
            int k = fmt_varint_get(p, end, &v);
            if (k <= 0)
                return ptxn_corrupt(c->t, c->page[lvl]->pgno, "malformed cell");
            p += k;
        }
    } else {
        p += 4;
    }
    int k = fmt_varint_get(p, end, &v);
    if (k <= 0)
        return ptxn_corrupt(c->t, c->page[lvl]->pgno, "malformed cell");
    *out = (int64_t)v;
    return 0;
}

/*
 * Start a seek from the root. In a read transaction nothing changes, so a
 * cursor that still holds the root keeps it (and its decoded header) and
 * only lets go of the levels below: one page fetch less per seek.
 */
static int seek_start(bt_cursor *c)
{
    if (c->depth > 0 && c->page[0]->pgno == c->root && !ptxn_is_write(c->t)) {
        while (c->depth > 1)
            pop(c);
        c->eof = 0;
        c->cell_valid = 0;
        c->buf_valid = 0;
        c->append_valid = 0;
        return 0;
    }
    bt_cursor_reset(c);
    return push(c, c->root);
}

/*
 * Where in cells [lo, hi) of a table page the first key >= rowid is likely
 * to be, when the keys around the range are known: `a` below it (the key of
 * cell lo-1, or a bound from the parent) and `b` above it (the largest key
 * the range can hold). Rowids are often dense (automatic rowids ascend by
 * one), and then this is the exact cell.
 */
static uint32_t rowid_guess(uint32_t lo, uint32_t hi, int64_t a, int64_t b, int64_t rowid)
{
    if (rowid <= a + 1 || b <= a)
        return lo;
    if (rowid > b)
        return hi - 1;
    /* Differences as unsigned: a < rowid <= b, so they do not wrap. */
    double f = (double)((uint64_t)rowid - (uint64_t)a - 1) / (double)((uint64_t)b - (uint64_t)a);
    uint32_t mid = lo + (uint32_t)(f * (double)(hi - lo));
    return mid < hi ? mid : hi - 1;
}

int bt_seek_rowid_raw(bt_cursor *c, int64_t rowid)
{
    int rc;
    if ((rc = seek_start(c)) < 0)
        return rc;
    /* The keys of the page being searched are > klo and <= khi, as far as
     * its parent tells (nothing is known about the root's). */
    int have_klo = 0, have_khi = 0;
    int64_t klo = 0, khi = 0;
    for (;;) {
        int top = c->depth - 1;
        const fmt_page *h = &c->hdr[top];
        uint32_t lo = 0, hi = h->ncells;
        /* First cell whose key is >= rowid. Cells below lo have smaller
         * keys, the largest of them a (if known); cells from hi on have
         * keys >= rowid, the smallest of them b (if known). A few probes
         * go where the keys say the rowid is, then the search bisects. */
        int have_a = have_klo, have_b = have_khi;
        int64_t a = klo, b = khi;
        int b_inclusive = 1; /* b is a key the range may hold (the page's bound) */
        int guesses = 0;
        const uint8_t *pdata = c->page[top]->data;
        while (lo < hi) {
            uint32_t mid;
            if (have_a && have_b && guesses < 3 && hi - lo > 2) {
                guesses++;
                mid = rowid_guess(lo, hi, a, b_inclusive ? b : b - 1, rowid);
                /* A page filled in key order holds its cells from the end
                 * down, in order, of nearly equal sizes: ask for where the
                 * guessed cell should lie together with its pointer, so that
                 * the two misses overlap (a wrong guess costs a prefetch). */
                if (guesses == 1 && h->is_leaf && h->ncells && h->content_start < c->usable) {
                    uint32_t span = c->usable - h->content_start;
                    PREFETCH(pdata + h->content_start +
                             (uint32_t)((uint64_t)span * (h->ncells - 1 - mid) / h->ncells));
                }
            } else {
                mid = lo + (hi - lo) / 2;
                /* The cells this probe may lead to next: ask for them now,
                 * so that their cache misses overlap with this one's. */
                if (hi - lo > 4) {
                    PREFETCH(pdata + fmt_page_cell_off(pdata, h, lo + (mid - lo) / 2));
                    PREFETCH(pdata + fmt_page_cell_off(pdata, h, mid + 1 + (hi - mid - 1) / 2));
                }
            }
            int64_t k = 0;
            if ((rc = cell_rowid(c, top, mid, &k)) < 0)
                return rc;
            if (k < rowid) {
                lo = mid + 1;
                a = k;
                have_a = 1;
            } else {
                hi = mid;
                b = k;
                have_b = 1;
                b_inclusive = 0;
                if (k == rowid) {
                    lo = mid; /* the first key >= rowid: keys are unique */
                    break;
                }
            }
        }
        c->idx[top] = lo;
        if (h->is_leaf) {
            if (lo < h->ncells) {
                int64_t k = 0;
                if ((rc = cell_rowid(c, top, lo, &k)) < 0)
                    return rc;
                if (k == rowid)
                    return settle(c);
            }
            c->cell_valid = 0;
            return FOLIO_NOTFOUND;
        }
        /* The child holds keys above the cell before it and up to its own
         * divider (the page's bound for the rightmost child). */
        have_klo = have_a;
        klo = a;
        have_khi = have_b;
        khi = b;
        uint32_t child;
        if ((rc = child_of(c, top, lo, &child)) < 0)
            return rc;
        /* If the child is a leaf of dense rowids, the key's cell pointer is
         * at this offset: ask for it together with the page header. */
        uint32_t hint = 0;
        if (have_klo && rowid > klo && (uint64_t)rowid - (uint64_t)klo - 1 < c->usable / 2)
            hint = 8 + 2 * (uint32_t)((uint64_t)rowid - (uint64_t)klo - 1);
        if ((rc = push_hint(c, child, hint)) < 0)
            return rc;
    }
}

/* Whole payload of cell i at level lvl (loads overflow into c->buf). */
static int cell_payload(bt_cursor *c, int lvl, uint32_t i, const uint8_t **out, uint64_t *size)
{
    /* Index cells whose payload lies whole on the page (nearly all): the
     * size varint and the bytes after it, without a full cell parse. */
    const fmt_page *h = &c->hdr[lvl];
    if (h->type == FMT_PAGE_INDEX_LEAF || h->type == FMT_PAGE_INDEX_INTERIOR) {
        const uint8_t *data = c->page[lvl]->data;
        uint32_t off = fmt_page_cell_off(data, h, i);
        uint32_t p = off + (h->type == FMT_PAGE_INDEX_INTERIOR ? 4u : 0u);
        if (off >= h->hdr_off + h->hdr_size + 2 * h->ncells && p + 2 < c->usable) {
            uint32_t sz = data[p], k = 1;
            if (sz >= 0x80) {
                sz = data[p + 1] < 0x80 ? ((sz & 0x7f) << 7) | data[p + 1] : UINT32_MAX;
                k = 2;
            }
            if (sz <= fmt_payload_max_local(c->usable, 0) && p + k + sz <= c->usable) {
                *out = data + p + k;
                *size = sz;
                return 0;
            }
        }
    }
    fmt_cell cell;
    int rc = parse_cell(c, lvl, i, &cell);
    if (rc < 0)
        return rc;
    *size = cell.payload_size;
    if (cell.local == cell.payload_size) {
        *out = cell.payload;
        return 0;
    }
    if (cell.payload_size > c->bufcap) {
        uint64_t n = cell.payload_size + 64;
        if (n > (uint64_t)SIZE_MAX / 2)
            return ptxn_corrupt(c->t, c->page[lvl]->pgno, "payload size too large");
        uint8_t *b = os_realloc(c->buf, (size_t)n);
        if (!b)
            return ptxn_error(c->t, FOLIO_NOMEM, "out of memory reading a %llu-byte payload",
                              (unsigned long long)cell.payload_size);
        c->buf = b;
        c->bufcap = n;
    }
    c->buf_valid = 0;
    if ((rc = bt_read_payload(c->t, c->usable, &cell, 0, cell.payload_size, c->buf)) < 0)
        return rc;
    *out = c->buf;
    return 0;
}

int bt_seek_ge_raw(bt_cursor *c, bt_cmp_fn cmp, void *ctx, int ge)
{
    int rc;
    if ((rc = seek_start(c)) < 0)
        return rc;
    for (;;) {
        int top = c->depth - 1;
        const fmt_page *h = &c->hdr[top];
        uint32_t lo = 0, hi = h->ncells;
        const uint8_t *pdata = c->page[top]->data;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (hi - lo > 4) {
                PREFETCH(pdata + fmt_page_cell_off(pdata, h, lo + (mid - lo) / 2));
                PREFETCH(pdata + fmt_page_cell_off(pdata, h, mid + 1 + (hi - mid - 1) / 2));
            }
            const uint8_t *rec = NULL;
            uint64_t size = 0;
            int r;
            if ((rc = cell_payload(c, top, mid, &rec, &size)) < 0)
                return rc;
            if ((rc = cmp(ctx, rec, size, &r)) < 0)
                return rc == FOLIO_CORRUPT
                           ? ptxn_corrupt(c->t, c->page[top]->pgno, "malformed record in a key")
                           : rc;
            if (ge ? (r >= 0) : (r > 0))
                hi = mid;
            else
                lo = mid + 1;
        }
        c->idx[top] = lo;
        if (h->is_leaf) {
            if (lo < h->ncells)
                return settle(c);
            if (c->depth == 1 && h->ncells == 0) {
                c->eof = 1;
                return FOLIO_DONE;
            }
            return ascend_next(c);
        }
        uint32_t child;
        if ((rc = child_of(c, top, lo, &child)) < 0)
            return rc;
        if ((rc = push(c, child)) < 0)
            return rc;
    }
}

int64_t bt_rowid(const bt_cursor *c)
{
    return c->cell.rowid;
}

uint32_t bt_cursor_pgno(const bt_cursor *c)
{
    return c->depth > 0 ? c->page[c->depth - 1]->pgno : c->root;
}

int bt_corrupt_here(bt_cursor *c, const char *why)
{
    return ptxn_corrupt(c->t, bt_cursor_pgno(c), why);
}

void bt_payload_local(const bt_cursor *c, const uint8_t **out, uint32_t *out_local,
                      uint64_t *out_size)
{
    *out = c->cell.payload;
    *out_local = c->cell.local;
    *out_size = c->cell.payload_size;
}

int bt_payload(bt_cursor *c, const uint8_t **out, uint64_t *out_size)
{
    if (!c->cell_valid)
        return ptxn_error(c->t, FOLIO_MISUSE, "cursor is not on a row");
    *out_size = c->cell.payload_size;
    if (c->cell.local == c->cell.payload_size) {
        *out = c->cell.payload;
        return 0;
    }
    if (!c->buf_valid) {
        if (c->cell.payload_size > c->bufcap) {
            uint64_t n = c->cell.payload_size + 64;
            if (n > (uint64_t)SIZE_MAX / 2)
                return ptxn_corrupt(c->t, c->page[c->depth - 1]->pgno, "payload size too large");
            uint8_t *b = os_realloc(c->buf, (size_t)n);
            if (!b)
                return ptxn_error(c->t, FOLIO_NOMEM, "out of memory reading a %llu-byte payload",
                                  (unsigned long long)c->cell.payload_size);
            c->buf = b;
            c->bufcap = n;
        }
        int rc = bt_read_payload(c->t, c->usable, &c->cell, 0, c->cell.payload_size, c->buf);
        if (rc < 0)
            return rc;
        c->buf_valid = 1;
    }
    *out = c->buf;
    return 0;
}

int bt_read_payload(ptxn *t, uint32_t usable, const fmt_cell *cell, uint64_t off, uint64_t n,
                    uint8_t *dst)
{
    int rc;
    if (off + n > cell->payload_size)
        return ptxn_error(t, FOLIO_MISUSE, "payload read past its end");
    uint64_t end = off + n;
    if (off < cell->local) {
        uint64_t k = end < cell->local ? end : cell->local;
        memcpy(dst, cell->payload + off, (size_t)(k - off));
        dst += k - off;
        off = k;
    }
    if (off >= end)
        return 0;
    /* Walk the chain: page j holds payload bytes [local + j*(usable-4), ...). */
    uint32_t per = usable - 4;
    uint64_t need = (cell->payload_size - cell->local + per - 1) / per;
    uint32_t pgno = cell->overflow;
    uint64_t pos = cell->local;
    /* The walk is bounded: a chain has no more pages than the file. */
    if (need > ptxn_npages(t))
        return ptxn_corrupt(t, pgno, "overflow chain longer than the database");
    for (uint64_t j = 0; j < need && off < end; j++) {
        if (pgno < 2 || pgno > ptxn_npages(t))
            return ptxn_corrupt(t, pgno ? pgno : 0,
                                pgno ? "overflow page out of range" : "overflow chain ends early");
        pg *p;
        if ((rc = pager_get(&p, t, pgno)) < 0)
            return rc;
        uint64_t chunk_end = pos + per;
        if (chunk_end > cell->payload_size)
            chunk_end = cell->payload_size;
        if (off < chunk_end) {
            uint64_t from = off - pos;
            uint64_t to = (end < chunk_end ? end : chunk_end) - pos;
            memcpy(dst, p->data + 4 + from, (size_t)(to - from));
            dst += to - from;
            off = pos + to;
        }
        uint32_t next = fmt_get_u32(p->data);
        pager_unref(p);
        pos = chunk_end;
        pgno = next;
    }
    if (off < end)
        return ptxn_corrupt(t, cell->overflow, "overflow chain too short");
    return 0;
}

int bt_seek_rowid_ge_raw(bt_cursor *c, int64_t rowid, int ge)
{
    int rc;
    bt_cursor_reset(c);
    if ((rc = push(c, c->root)) < 0)
        return rc;
    for (;;) {
        int top = c->depth - 1;
        const fmt_page *h = &c->hdr[top];
        uint32_t lo = 0, hi = h->ncells;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            int64_t k = 0;
            if ((rc = cell_rowid(c, top, mid, &k)) < 0)
                return rc;
            if (ge ? (k >= rowid) : (k > rowid))
                hi = mid;
            else
                lo = mid + 1;
        }
        c->idx[top] = lo;
        if (h->is_leaf) {
            if (lo < h->ncells)
                return settle(c);
            if (c->depth == 1 && h->ncells == 0) {
                c->eof = 1;
                return FOLIO_DONE;
            }
            return ascend_next(c);
        }
        uint32_t child;
        if ((rc = child_of(c, top, lo, &child)) < 0)
            return rc;
        if ((rc = push(c, child)) < 0)
            return rc;
    }
}
