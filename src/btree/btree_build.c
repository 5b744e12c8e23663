/*
 * btree_build.c - building a b-tree bottom-up from entries in key order.
 *
 * Each level of the tree under construction has one page being filled, kept
 * in memory. An entry goes into the leaf; when it does not fit, the leaf is
 * finished and written, and one cell goes up to the level above as the
 * divider: for a table tree a new interior cell (the leaf, its largest
 * rowid); for an index tree the entry that did not fit, which so lies
 * between the full leaf and the next one. A cell that does not fit in an
 * interior page goes up the same way, its child becoming the page's
 * right-most child. The cell that did not fit is held (the page stays in
 * memory) until the next one arrives: if none does, the page gives up its
 * own last cell as the divider instead, and the held cell starts the last
 * page of its level, so that no page is left empty. So every page but the
 * last of each level is as full as it can be, each is written once, and
 * pages are allocated in order. At the end the pages still being filled are
 * chained through their right-most children and the top one is written
 * into the tree's root page, which keeps its number.
 */
#include "btree/btree_int.h"

#include <string.h>

typedef struct build_level {
    uint8_t *buf; /* page image being filled (hdr_off 0) */
    uint32_t ncells;
    uint32_t content;  /* start of the cell content area */
    uint32_t last_off; /* offset of the last cell (for promotion) */
    uint32_t last_n;
    uint8_t *held; /* a cell that did not fit in the page (held_n bytes), or none */
    uint32_t held_n;
    int has_held;
} build_level;

struct bt_builder {
    ptxn *t;
    uint32_t root;
    int intkey;
    uint32_t usable;
    int nlevels;
    build_level lv[BT_MAX_DEPTH];
    uint8_t *cellbuf;
    uint64_t count;
    int64_t last_rowid;
};

static uint8_t level_type(const bt_builder *b, int L)
{
    if (L == 0)
        return b->intkey ? FMT_PAGE_TABLE_LEAF : FMT_PAGE_INDEX_LEAF;
    return b->intkey ? FMT_PAGE_TABLE_INTERIOR : FMT_PAGE_INDEX_INTERIOR;
}

static uint32_t level_hdr(int L)
{
    return L == 0 ? 8u : 12u;
}

static int level_init(bt_builder *b, int L)
{
    if (L >= BT_MAX_DEPTH)
        return ptxn_corrupt(b->t, b->root, "b-tree would be too deep");
    build_level *l = &b->lv[L];
    if (!l->buf) {
        l->buf = os_malloc(b->usable);
        if (!l->buf)
            return ptxn_error(b->t, FOLIO_NOMEM, "out of memory building a b-tree");
    }
    memset(l->buf, 0, b->usable);
    l->has_held = 0;
    l->ncells = 0;
    l->content = b->usable;
    l->last_off = 0;
    l->last_n = 0;
    if (L + 1 > b->nlevels)
        b->nlevels = L + 1;
    return 0;
}

static int fits(const bt_builder *b, int L, uint32_t n)
{
    const build_level *l = &b->lv[L];
    uint32_t ptr_end = level_hdr(L) + 2 * (l->ncells + 1);
    return ptr_end + n <= l->content;
}

static void put_cell(bt_builder *b, int L, const uint8_t *cell, uint32_t n)
{
    build_level *l = &b->lv[L];
    l->content -= n;
    memcpy(l->buf + l->content, cell, n);
    fmt_put_u16(l->buf + level_hdr(L) + 2 * l->ncells, l->content);
    l->ncells++;
    l->last_off = l->content;
    l->last_n = n;
}

/* Write level L's page (with right child `right` for interior pages) into
 * page pgno (0: a newly allocated one). Returns the page number used. */
static int write_level(bt_builder *b, int L, uint32_t right, uint32_t pgno, uint32_t *out)
{
    build_level *l = &b->lv[L];
    uint8_t *h = l->buf;
    h[0] = level_type(b, L);
    fmt_put_u16(h + 1, 0);
    fmt_put_u16(h + 3, l->ncells);
    fmt_put_u16(h + 5, l->content == 65536 ? 0 : l->content);
    h[7] = 0;
    if (L > 0)
        fmt_put_u32(h + 8, right);
    pg *p;
    int rc;
    if (pgno) {
        if ((rc = pager_get(&p, b->t, pgno)) < 0)
            return rc;
        if ((rc = pager_write(b->t, &p)) < 0) {
            pager_unref(p);
            return rc;
        }
    } else if ((rc = pager_alloc(&p, b->t)) < 0) {
        return rc;
    }
    if (p->pgno == 1) {
        pager_unref(p);
        return ptxn_corrupt(b->t, 1, "page 1 cannot be built bottom-up");
    }
    memcpy(p->data, l->buf, b->usable);
    *out = p->pgno;
    pager_unref(p);
    return 0;
}

static int add_cell(bt_builder *b, int L, const uint8_t *cell, uint32_t n);

/*
 * Level L is full: its last cell goes up as the divider, the rest is
 * written as a finished page, and the level starts over.
 */
static int finish_and_promote(bt_builder *b, int L)
{
    build_level *l = &b->lv[L];
    uint8_t up[65536 + 64];
    uint32_t upn;
    uint32_t right = 0;
    if (b->intkey && L == 0) {
        /* Table leaf: nothing leaves the page; the divider is a new cell. */
        uint32_t pgno = 0;
        int rc = write_level(b, 0, 0, 0, &pgno);
        if (rc < 0)
            return rc;
        fmt_put_u32(up, pgno);
        upn = 4 + (uint32_t)fmt_varint_put(up + 4, (uint64_t)b->last_rowid);
        if ((rc = level_init(b, 0)) < 0)
            return rc;
        return add_cell(b, 1, up, upn);
    }
    if (l->ncells < 2)
        return ptxn_corrupt(b->t, b->root, "a cell too large for a page while building");
    /* Take the last cell off the page. */
    const uint8_t *last = l->buf + l->last_off;
    if (L == 0) {
        /* An index leaf entry becomes an interior cell: child pointer first,
         * and without the padding a short leaf cell may carry. */
        uint64_t size;
        int k = fmt_varint_get(last, last + l->last_n, &size);
        uint32_t local = fmt_payload_local(b->usable, 0, size);
        uint32_t len = (uint32_t)k + local + (local < size ? 4u : 0u);
        memcpy(up + 4, last, len);
        upn = len + 4;
    } else {
        memcpy(up, last, l->last_n);
        upn = l->last_n;
        right = fmt_get_u32(last);
    }
    l->ncells--;
    l->content += l->last_n;
    fmt_put_u16(l->buf + level_hdr(L) + 2 * l->ncells, 0);
    uint32_t pgno = 0;
    int rc = write_level(b, L, right, 0, &pgno);
    if (rc < 0)
        return rc;
    fmt_put_u32(up, pgno);
    if ((rc = level_init(b, L)) < 0)
        return rc;
    return add_cell(b, L + 1, up, upn);
}

/*
 * Level L's page is full and a cell is held: the page is written (an
 * interior page with the held cell's child as its right-most child), and
 * the held cell goes up as the divider, now pointing to the page.
 */
static int release_held(bt_builder *b, int L)
{
    build_level *l = &b->lv[L];
    uint8_t up[65536 + 64];
    uint32_t upn;
    uint32_t right = L > 0 ? fmt_get_u32(l->held) : 0;
    if (L == 0) {
        /* An index leaf entry becomes an interior cell: child pointer first,
         * and without the padding a short leaf cell may carry. */
        uint64_t size;
        int k = fmt_varint_get(l->held, l->held + l->held_n, &size);
        uint32_t local = fmt_payload_local(b->usable, 0, size);
        uint32_t len = (uint32_t)k + local + (local < size ? 4u : 0u);
        memcpy(up + 4, l->held, len);
        upn = len + 4;
    } else {
        memcpy(up, l->held, l->held_n);
        upn = l->held_n;
    }
    uint32_t pgno = 0;
    int rc = write_level(b, L, right, 0, &pgno);
    if (rc < 0)
        return rc;
    fmt_put_u32(up, pgno);
    if ((rc = level_init(b, L)) < 0)
        return rc;
    return add_cell(b, L + 1, up, upn);
}

static int add_cell(bt_builder *b, int L, const uint8_t *cell, uint32_t n)
{
    int rc;
    if (L >= b->nlevels && (rc = level_init(b, L)) < 0)
        return rc;
    build_level *l = &b->lv[L];
    if (l->has_held && (rc = release_held(b, L)) < 0)
        return rc;
    if (!fits(b, L, n)) {
        /* Held until the next cell comes (or the end): see the top. */
        if (l->ncells == 0)
            return ptxn_corrupt(b->t, b->root, "a cell too large for a page while building");
        if (!l->held && !(l->held = os_malloc(65536 + 64)))
            return ptxn_error(b->t, FOLIO_NOMEM, "out of memory building a b-tree");
        memcpy(l->held, cell, n);
        l->held_n = n;
        l->has_held = 1;
        return 0;
    }
    put_cell(b, L, cell, n);
    return 0;
}

int bt_builder_open(bt_builder **out, ptxn *t, uint32_t root, int intkey)
{
    *out = NULL;
    if (ptxn_is_concurrent(t))
        return ptxn_error(t, FOLIO_MISUSE, "trees are built only in a plain write transaction");
    bt_builder *b = os_calloc(1, sizeof *b);
    if (!b)
        return ptxn_error(t, FOLIO_NOMEM, "out of memory");
    b->t = t;
    b->root = root;
    b->intkey = intkey;
    const fmt_dbheader *h = ptxn_header(t);
    b->usable = h->page_size - h->reserved;
    b->cellbuf = os_malloc(65536 + 64);
    int rc = b->cellbuf ? level_init(b, 0) : FOLIO_NOMEM;
    if (rc < 0) {
        bt_builder_free(b);
        return rc == FOLIO_NOMEM ? ptxn_error(t, rc, "out of memory") : rc;
    }
    *out = b;
    return 0;
}

void bt_builder_free(bt_builder *b)
{
    if (!b)
        return;
    for (int i = 0; i < BT_MAX_DEPTH; i++) {
        os_free(b->lv[i].buf);
        os_free(b->lv[i].held);
    }
    os_free(b->cellbuf);
    os_free(b);
}

int bt_builder_add_row(bt_builder *b, int64_t rowid, const uint8_t *rec, uint64_t size)
{
    if (!b->intkey)
        return ptxn_error(b->t, FOLIO_MISUSE, "rows go into table trees");
    if (b->count && rowid <= b->last_rowid)
        return ptxn_error(b->t, FOLIO_MISUSE, "rows must come in ascending rowid order");
    uint32_t n;
    int rc;
    if (ptxn_logs_changes(b->t)) {
        bt_log_entry e = {BT_LOG_INS_ROW, 0, 0, b->root, rowid, 0, size};
        if ((rc = ptxn_log_append(b->t, &e, sizeof e)) < 0 ||
            (size && (rc = ptxn_log_append(b->t, rec, (size_t)size)) < 0))
            return rc;
    }
    rc = bt_build_cell(b->t, b->usable, 1, rowid, rec, size, b->cellbuf, &n);
    if (rc < 0)
        return rc;
    if (!fits(b, 0, n)) {
        if ((rc = finish_and_promote(b, 0)) < 0)
            return rc;
    }
    put_cell(b, 0, b->cellbuf, n);
    b->last_rowid = rowid;
    b->count++;
    return 0;
}

int bt_builder_add_key(bt_builder *b, const uint8_t *rec, uint64_t size)
{
    if (b->intkey)
        return ptxn_error(b->t, FOLIO_MISUSE, "keys go into index trees");
    uint32_t n;
    int rc;
    if (ptxn_logs_changes(b->t)) {
        bt_log_entry e = {BT_LOG_INS_KEY, 0, 0, b->root, 0, 0, size};
        if ((rc = ptxn_log_append(b->t, &e, sizeof e)) < 0 ||
            (size && (rc = ptxn_log_append(b->t, rec, (size_t)size)) < 0))
            return rc;
    }
    rc = bt_build_cell(b->t, b->usable, 0, 0, rec, size, b->cellbuf, &n);
    if (rc < 0)
        return rc;
    if ((rc = add_cell(b, 0, b->cellbuf, n)) < 0)
        return rc;
    b->count++;
    return 0;
}

int bt_builder_finish(bt_builder *b)
{
    int rc;
    /* Chain the open pages: each becomes the right-most child of the one
     * above; the top one goes into the root page. */
    uint32_t child = 0;
    for (int L = 0; L < b->nlevels; L++) {
        build_level *l = &b->lv[L];
        if (l->has_held) {
            /* No cell came after the held one: the page's last cell goes up
             * instead (the page stays nearly full) and the held one starts
             * the level's last page. (Levels above grow first.) */
            l->has_held = 0;
            if ((rc = finish_and_promote(b, L)) < 0)
                return rc;
            put_cell(b, L, l->held, l->held_n);
        }
        int top = L == b->nlevels - 1;
        uint32_t pgno = 0;
        if ((rc = write_level(b, L, child, top ? b->root : 0, &pgno)) < 0)
            return rc;
        child = pgno;
    }
    return 0;
}
