/*
 * pager_write.c - the write side of the pager: copy-on-write dirty pages,
 * spilling, page allocation and the freelist, commit and checkpoint.
 *
 * Freelist layout (database header offsets 32 and 36): the first trunk page
 * and the total number of freelist pages (trunks and leaves). A trunk page
 * holds the next trunk's number, its leaf count and the leaf page numbers.
 * folio fills a trunk to usable/4 - 8 leaves, as SQLite does for the sake of
 * old readers, though usable/4 - 2 are accepted.
 *
 * The page holding byte 0x40000000 of the file (the lock byte page) is never
 * used; allocation at the end of the file skips it.
 */
#include "base/status.h"
#include "pager/pager_int.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ptxn_errmsg(const ptxn *t)
{
    return t->err;
}

int ptxn_direct_claim(ptxn *t)
{
    if (t->ckpt_held)
        return 1;
    if (!t->direct_ok)
        return 0;
    pager *p = t->p;
    pthread_mutex_lock(&p->mu);
    /* This handle's own checkpoint holds CKPT while it runs. */
    int rc = p->ckpt_running ? FOLIO_BUSY : wal_lock(p->wal, WIDX_CKPT, 1, 1);
    pthread_mutex_unlock(&p->mu);
    if (rc == 0) {
        t->ckpt_held = 1;
        return 1;
    }
    if (rc == FOLIO_BUSY) {
        t->direct_ok = 0; /* before any page went: none will this time */
        return 0;
    }
    return ptxn_error(t, rc, "cannot lock the WAL index");
}

void ptxn_clear_error(ptxn *t)
{
    t->err[0] = 0;
}

int ptxn_corrupt(ptxn *t, uint32_t pgno, const char *why)
{
    snprintf(t->err, sizeof t->err, "page %u: %s", pgno, why);
    return FOLIO_CORRUPT;
}

int ptxn_error(ptxn *t, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof t->err, fmt, ap);
    va_end(ap);
    return rc;
}

static uint32_t lock_byte_page(const pager *p)
{
    return 0x40000000u / p->page_size + 1;
}

/* ---- dirty set ---- */

/*
 * The dirty set starts small (64 pages). Past that it is sized at once for
 * as many pages as a transaction holds before it spills (half the cache
 * budget), and the handle keeps it for later transactions (pager->wspare):
 * inserting rows, even millions in one transaction, does not wait on the
 * allocator for it. Only a transaction whose pages are mostly pinned, so
 * cannot spill, grows it further.
 */
static uint32_t dirty_full_cap(const pager *p)
{
    uint32_t n = p->max_pages / 2 + 64;
    return n < 128 ? 128 : n;
}

static int dirty_index_grow(ptxn *t)
{
    uint32_t n = t->ndslot ? t->ndslot * 2 : 16;
    if (t->ndslot >= 128) /* past the small start: straight to the full size */
        while (n < 2 * dirty_full_cap(t->p) + 2)
            n *= 2;
    pg **ns = os_calloc(n, sizeof *ns);
    if (!ns)
        return FOLIO_NOMEM;
    for (uint32_t i = 0; i < t->ndirty; i++) {
        pg *e = t->dirty[i];
        uint32_t j = pager_pgno_hash(e->pgno) & (n - 1);
        while (ns[j])
            j = (j + 1) & (n - 1);
        ns[j] = e;
    }
    os_free(t->dslot);
    t->dslot = ns;
    t->ndslot = n;
    return 0;
}

static void dirty_index_rebuild(ptxn *t)
{
    memset(t->dslot, 0, t->ndslot * sizeof *t->dslot);
    for (uint32_t i = 0; i < t->ndirty; i++) {
        pg *e = t->dirty[i];
        uint32_t j = pager_pgno_hash(e->pgno) & (t->ndslot - 1);
        while (t->dslot[j])
            j = (j + 1) & (t->ndslot - 1);
        t->dslot[j] = e;
    }
}

void ptxn_dirty_index_clear(ptxn *t)
{
    if (!t->ndslot)
        return;
    uint32_t mask = t->ndslot - 1;
    if ((size_t)t->ndirty * 16 < t->ndslot) {
        /* Few pages in a large index: clear their slots alone. A probe
         * walks on to its page past slots already cleared. */
        uint32_t i;
        for (i = 0; i < t->ndirty; i++) {
            pg *e = t->dirty[i];
            uint32_t j = pager_pgno_hash(e->pgno) & mask, k = 0;
            while (t->dslot[j] != e && k++ < mask)
                j = (j + 1) & mask;
            if (t->dslot[j] != e)
                break; /* not indexed: clear everything below */
            t->dslot[j] = NULL;
        }
        if (i == t->ndirty)
            return;
    }
    memset(t->dslot, 0, t->ndslot * sizeof *t->dslot);
}

pg *ptxn_dirty_find(const ptxn *t, uint32_t pgno)
{
    if (!t->ndslot)
        return NULL;
    uint32_t mask = t->ndslot - 1;
    for (uint32_t i = pager_pgno_hash(pgno) & mask;; i = (i + 1) & mask) {
        if (!t->dslot[i])
            return NULL;
        if (t->dslot[i]->pgno == pgno)
            return t->dslot[i];
    }
}

static int dirty_add(ptxn *t, pg *e)
{
    int rc;
    if ((t->ndirty + 1) * 2 > t->ndslot && (rc = dirty_index_grow(t)) < 0)
        return rc;
    if (t->ndirty == t->dirty_cap) {
        uint32_t n = !t->dirty_cap        ? 64
                     : t->dirty_cap == 64 ? dirty_full_cap(t->p)
                                          : t->dirty_cap * 2;
        pg **v = os_realloc(t->dirty, n * sizeof *v);
        if (!v)
            return FOLIO_NOMEM;
        t->dirty = v;
        t->dirty_cap = n;
    }
    t->dirty[t->ndirty++] = e;
    uint32_t j = pager_pgno_hash(e->pgno) & (t->ndslot - 1);
    while (t->dslot[j])
        j = (j + 1) & (t->ndslot - 1);
    t->dslot[j] = e;
    return 0;
}

/* Make page object `e` (filled) the transaction's dirty copy of `pgno`,
 * pinned. On failure e is released. */
static int dirty_adopt(ptxn *t, pg *e, uint32_t pgno)
{
    pager *p = t->p;
    e->pgno = pgno;
    e->dirty = 1;
    e->ref = 1;
    if (dirty_add(t, e) < 0) {
        pager_pg_release(p, e);
        return FOLIO_NOMEM;
    }
    pthread_mutex_lock(&p->mu);
    p->npages_mem++;
    pthread_mutex_unlock(&p->mu);
    return 0;
}

/* A new dirty page object for pgno, its bytes for the caller to set. */
static pg *dirty_new(ptxn *t, uint32_t pgno)
{
    pg *e = pager_pg_alloc(t->p);
    return e && dirty_adopt(t, e, pgno) == 0 ? e : NULL;
}

/*
 * Pages past the committed end of the database are invisible to every
 * snapshot, so a write transaction may put them straight into the database
 * file, once, instead of into the WAL and later again by a checkpoint. The
 * commit makes them durable (syncing the database file when the sync level
 * is not OFF) before it writes the commit frame that makes them part of the
 * database. `pages` must be sorted by page number; runs of consecutive pages
 * go out in one write.
 */
enum { DIRECT_RUN = 256 }; /* pages gathered into one write */

/* write_direct's work: runs of consecutive pages through `buf` (DIRECT_RUN
 * pages; NULL writes page by page). Any thread: it touches only the pages,
 * the file and, under the mutex, the file size. */
static int write_pages(pager *p, pg **pages, uint32_t n, uint8_t *buf)
{
    uint32_t ps = p->page_size;
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0;) {
        uint32_t j = i + 1;
        while (buf && j < n && j - i < DIRECT_RUN && pages[j]->pgno == pages[j - 1]->pgno + 1)
            j++;
        uint64_t off = (uint64_t)(pages[i]->pgno - 1) * ps;
        if (j - i == 1) {
            rc = p->vfs->write(p->db, pages[i]->data, ps, off);
        } else {
            for (uint32_t k = i; k < j; k++)
                memcpy(buf + (size_t)(k - i) * ps, pages[k]->data, ps);
            rc = p->vfs->write(p->db, buf, (size_t)(j - i) * ps, off);
        }
        if (rc == 0)
            PAGER_COUNT(p, pages_written_db, j - i);
        uint64_t end = (uint64_t)pages[j - 1]->pgno * ps;
        pthread_mutex_lock(&p->mu);
        if (rc == 0 && end > p->db_bytes)
            p->db_bytes = end;
        pthread_mutex_unlock(&p->mu);
        i = j;
    }
    return rc;
}

static int write_direct(ptxn *t, pg **pages, uint32_t n)
{
    uint8_t *buf = n > 1 ? ptxn_buf_get(t, (size_t)t->p->page_size * DIRECT_RUN) : NULL;
    int rc = write_pages(t->p, pages, n, buf);
    ptxn_buf_put(t, buf);
    if (rc == 0 && n)
        t->direct_written = 1;
    return rc;
}

/* ---- write-behind of new pages ---- */

static void *wb_main(void *arg)
{
    ptxn *t = arg;
    t->wb_rc = write_pages(t->p, t->wb_pages, t->wb_n, t->wb_buf);
    return NULL;
}

int ptxn_wb_wait(ptxn *t)
{
    if (t->wb_lost) /* (sticky: every later wait fails the same way) */
        return ptxn_error(t, t->wb_lost,
                          "new pages of this transaction could not be written to the database "
                          "file: roll the transaction back");
    if (!t->wb_pages)
        return 0;
    if (t->wb_running)
        pthread_join(t->wb_thread, NULL);
    t->wb_running = 0;
    pager *p = t->p;
    for (uint32_t i = 0; i < t->wb_n; i++)
        pager_pg_release(p, t->wb_pages[i]);
    pthread_mutex_lock(&p->mu);
    p->npages_mem -= t->wb_n;
    pthread_mutex_unlock(&p->mu);
    ptxn_buf_put(t, t->wb_pages);
    ptxn_buf_put(t, t->wb_buf);
    t->wb_pages = NULL;
    t->wb_buf = NULL;
    t->wb_n = 0;
    int rc = t->wb_rc;
    t->wb_rc = 0;
    if (rc < 0) {
        /* The pages left the dirty set when they were handed over: lost
         * for this transaction, whichever statement made them. */
        t->wb_lost = rc;
        return ptxn_error(t, rc,
                          "cannot write new pages to the database file: roll the transaction back");
    }
    return 0;
}

/* Hand `n` new pages, sorted, out of the dirty set and unpinned, to a thread
 * that writes them to the database file (or write them here when no thread
 * can start). The array `pages` (a work buffer) goes with them. */
static int wb_start(ptxn *t, pg **pages, uint32_t n)
{
    t->wb_pages = pages;
    t->wb_n = n;
    t->wb_buf = ptxn_buf_get(t, (size_t)t->p->page_size * DIRECT_RUN); /* NULL: page by page */
    t->wb_rc = 0;
    t->direct_written = 1;
    if (pthread_create(&t->wb_thread, NULL, wb_main, t) == 0) {
        t->wb_running = 1;
        return 0;
    }
    wb_main(t);
    return ptxn_wb_wait(t);
}

int pager_init_file(ptxn *t, const uint8_t *page1)
{
    pager *p = t->p;
    if (p->db_bytes != 0)
        return 0;
    /* The new database's first page is all zeros past its first 512 bytes
     * (the header and an empty sqlite_schema leaf): write just that sector,
     * which a power loss cannot tear. The file reads as one page. */
    for (uint32_t i = 512; i < p->page_size; i++)
        if (page1[i] != 0)
            return ptxn_error(t, FOLIO_ERROR, "internal: a new first page is not empty");
    int rc = p->vfs->write(p->db, page1, 512, 0);
    PAGER_COUNT(p, pages_written_db, 1);
    if (rc == 0 && p->sync != FOLIO_SYNC_OFF) {
        PAGER_COUNT(p, db_syncs, 1);
        rc = p->vfs->sync(p->db);
    }
    if (rc < 0)
        return ptxn_error(t, rc, "cannot write the first page of the new database");
    pthread_mutex_lock(&p->mu);
    p->db_bytes = 512;
    memcpy(p->db_hdr_raw, page1, FMT_DBHEADER_SIZE);
    pthread_mutex_unlock(&p->mu);
    t->direct_ok = 1;
    return 0;
}

int pager_load_new_page(pg **out, ptxn *t, uint32_t pgno)
{
    pager *p = t->p;
    int rc = ptxn_wb_wait(t); /* it may be among the pages in flight */
    if (rc < 0)
        return rc;
    /* Read first: the copy joins the dirty set only once it holds the
     * page, so a failed read leaves the set as it was. */
    pg *d = pager_pg_alloc(p);
    if (!d)
        return ptxn_error(t, FOLIO_NOMEM, "out of memory reading page %u", pgno);
    PAGER_COUNT(p, pages_read_db, 1);
    rc = p->vfs->read(p->db, d->data, p->page_size, (uint64_t)(pgno - 1) * p->page_size, NULL);
    if (rc < 0) {
        pager_pg_release(p, d);
        return ptxn_error(t, rc, "I/O error reading page %u", pgno);
    }
    if (dirty_adopt(t, d, pgno) < 0)
        return ptxn_error(t, FOLIO_NOMEM, "out of memory reading page %u", pgno);
    *out = d;
    return 0;
}

static int pg_cmp(const void *a, const void *b);

/*
 * Write unpinned dirty pages to the WAL as uncommitted frames when the
 * transaction holds more than half the cache budget, so memory does not grow
 * with the size of a transaction. The spilled images join the clean cache
 * under their frame numbers; the writer's snapshot moves up to include them.
 */
static int maybe_spill(ptxn *t)
{
    pager *p = t->p;
    if ((size_t)t->ndirty * 2 < p->max_pages || t->conc)
        return 0; /* (a concurrent transaction's pages never leave it) */
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->ndirty; i++)
        if (t->dirty[i]->ref == 0 && t->dirty[i]->pgno != 1)
            n++;
    if (n < t->ndirty / 4 || n == 0)
        return 0; /* mostly pinned: spilling would not help */
    /* New pages first: straight to the database file, then forgotten. */
    {
        uint32_t nd = 0;
        pg **direct = ptxn_buf_get(t, sizeof *direct * n);
        if (!direct)
            return FOLIO_NOMEM;
        for (uint32_t i = 0; i < t->ndirty; i++) {
            pg *e = t->dirty[i];
            if (e->ref == 0 && ptxn_is_direct(t, e->pgno))
                direct[nd++] = e;
        }
        int claim = nd ? ptxn_direct_claim(t) : 0;
        if (claim < 0) {
            ptxn_buf_put(t, direct);
            return claim;
        }
        if (claim) {
            /* Written behind: the transaction goes on while a thread writes
             * them (the previous batch is done first: one in flight). */
            int rc = ptxn_wb_wait(t);
            if (rc < 0) {
                ptxn_buf_put(t, direct);
                return rc;
            }
            qsort(direct, nd, sizeof *direct, pg_cmp);
            if (t->stmt_active)
                t->stmt_spilled = 1;
            uint32_t keep = 0;
            for (uint32_t i = 0; i < t->ndirty; i++) {
                pg *e = t->dirty[i];
                if (!(e->ref == 0 && ptxn_is_direct(t, e->pgno)))
                    t->dirty[keep++] = e;
            }
            t->ndirty = keep;
            dirty_index_rebuild(t);
            if ((rc = wb_start(t, direct, nd)) < 0)
                return rc;
            PAGER_COUNT(p, pages_spilled, nd);
            n -= nd;
            if ((size_t)t->ndirty * 2 < p->max_pages || n == 0)
                return 0;
        } else {
            ptxn_buf_put(t, direct);
        }
    }
    uint32_t *pgnos = ptxn_buf_get(t, n * sizeof *pgnos);
    uint8_t **pages = ptxn_buf_get(t, n * sizeof *pages);
    pg **which = ptxn_buf_get(t, n * sizeof *which);
    if (!pgnos || !pages || !which) {
        ptxn_buf_put(t, pgnos);
        ptxn_buf_put(t, pages);
        ptxn_buf_put(t, which);
        return FOLIO_NOMEM;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < t->ndirty && k < n; i++) {
        pg *e = t->dirty[i];
        if (e->ref == 0 && e->pgno != 1) {
            pgnos[k] = e->pgno;
            pages[k] = e->data;
            which[k++] = e;
        }
    }
    pthread_mutex_lock(&p->mu);
    uint32_t first = 0;
    int rc = wal_append(p->wal, n, pgnos, pages, 0, 0, &first);
    if (rc == 0) {
        PAGER_COUNT(p, pages_spilled, n);
        t->spilled = 1;
        if (t->stmt_active)
            t->stmt_spilled = 1;
        t->mx = first + n - 1;
        /* Hand the images to the clean cache. */
        uint32_t keep = 0;
        for (uint32_t i = 0; i < t->ndirty; i++) {
            pg *e = t->dirty[i];
            if (e->ref == 0 && e->pgno != 1)
                continue;
            t->dirty[keep++] = e;
        }
        t->ndirty = keep;
        for (uint32_t i = 0; i < n; i++) {
            pg *e = which[i];
            e->dirty = 0;
            e->frame = first + i;
            e->ref = 0;
            pager_cache_link(p, e);
        }
        pager_cache_trim(p);
    }
    pthread_mutex_unlock(&p->mu);
    if (rc == 0)
        dirty_index_rebuild(t);
    ptxn_buf_put(t, pgnos);
    ptxn_buf_put(t, pages);
    ptxn_buf_put(t, which);
    if (rc < 0)
        return ptxn_error(t, rc, "cannot write to the WAL while spilling a large transaction");
    return 0;
}

/* ---- statements ---- */

static int stmt_log(ptxn *t, uint32_t pgno, const uint8_t *src, uint32_t off, uint32_t len,
                    int was_clean)
{
    if (t->stmt_n == t->stmt_cap) {
        uint32_t n = t->stmt_cap ? t->stmt_cap * 2 : 32;
        struct stmt_entry *v = os_realloc(t->stmt_log, n * sizeof *v);
        if (!v)
            return FOLIO_NOMEM;
        t->stmt_log = v;
        t->stmt_cap = n;
    }
    if (t->stmt_used + len > t->stmt_arena_cap) {
        size_t n = t->stmt_arena_cap ? t->stmt_arena_cap * 2 : 65536;
        while (n < t->stmt_used + len)
            n *= 2;
        uint8_t *a = os_realloc(t->stmt_arena, n);
        if (!a)
            return FOLIO_NOMEM;
        t->stmt_arena = a;
        t->stmt_arena_cap = n;
    }
    struct stmt_entry *e = &t->stmt_log[t->stmt_n++];
    e->pgno = pgno;
    e->off = off;
    e->len = len;
    e->at = t->stmt_used;
    e->was_clean = was_clean;
    if (len)
        memcpy(t->stmt_arena + t->stmt_used, src + off, len);
    t->stmt_used += len;
    return 0;
}

/* Record the pre-image of a dirty page the statement is about to change. */
static int stmt_touch(ptxn *t, pg *d, int was_clean)
{
    if (!t->stmt_active || d->stmt_seq == t->stmt_seq)
        return 0;
    int rc = was_clean ? stmt_log(t, d->pgno, NULL, 0, 0, 1)
                       : stmt_log(t, d->pgno, d->data, 0, t->p->page_size, 0);
    if (rc < 0)
        return ptxn_error(t, rc, "out of memory");
    d->stmt_seq = t->stmt_seq;
    return 0;
}

static void stmt_free_log(ptxn *t)
{
    t->stmt_n = 0;
    t->stmt_used = 0;
}

void pager_stmt_begin(ptxn *t)
{
    t->err[0] = 0;
    if (!t->write)
        return;
    t->stmt_clog_n = t->clog_n;
    stmt_free_log(t);
    t->stmt_active = 1;
    t->stmt_spilled = 0;
    t->stmt_seq++;
    t->stmt_npages = t->npages;
    t->stmt_mx = t->mx;
    t->stmt_hdr = t->hdr;
    t->stmt_hdr_dirty = t->hdr_dirty;
}

void pager_stmt_commit(ptxn *t)
{
    stmt_free_log(t);
    t->stmt_active = 0;
}

/* The image of pgno as of the transaction's snapshot, ignoring dirty pages. */
static int read_clean(ptxn *t, uint32_t pgno, uint8_t *buf)
{
    pager *p = t->p;
    int rc = 0;
    pthread_mutex_lock(&p->mu);
    uint32_t frame = t->mx ? wal_find(p->wal, pgno, t->mx) : 0;
    pg *e = pager_cache_find(p, pgno, frame);
    if (e)
        memcpy(buf, e->data, p->page_size);
    else if (frame)
        rc = wal_read_frame(p->wal, frame, buf);
    else {
        PAGER_COUNT(p, pages_read_db, 1);
        rc = p->vfs->read(p->db, buf, p->page_size, (uint64_t)(pgno - 1) * p->page_size, NULL);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int pager_stmt_rollback(ptxn *t)
{
    int rc = 0;
    if (!t->stmt_active)
        return 0;
    t->stmt_active = 0;
    t->clog_n = t->stmt_clog_n; /* what the statement recorded goes with it */
    if (t->wb_lost) {
        stmt_free_log(t);
        return ptxn_error(t, t->wb_lost,
                          "new pages of this transaction could not be written to the database "
                          "file: roll the transaction back");
    }
    if (t->stmt_spilled) {
        stmt_free_log(t);
        return ptxn_error(t, FOLIO_ERROR,
                          "the failed call spilled pages to the WAL and cannot be undone alone: "
                          "roll the transaction back");
    }
    int removed = 0;
    for (uint32_t i = t->stmt_n; i-- > 0;) {
        struct stmt_entry *e = &t->stmt_log[i];
        pg *d = ptxn_dirty_find(t, e->pgno);
        if (!d)
            continue;
        d->stmt_seq = 0;
        if (!e->was_clean) {
            memcpy(d->data + e->off, t->stmt_arena + e->at, e->len);
        } else if (e->pgno > t->stmt_npages) {
            if (d->ref == 0) {
                d->pgno = 0; /* marked: dropped below */
                removed = 1;
            } else {
                memset(d->data, 0, t->p->page_size);
            }
        } else if (read_clean(t, e->pgno, d->data) < 0) {
            rc = ptxn_error(t, FOLIO_IOERR, "I/O error undoing a failed call");
        }
    }
    if (removed) {
        uint32_t keep = 0;
        for (uint32_t i = 0; i < t->ndirty; i++) {
            if (t->dirty[i]->pgno == 0) {
                pager_pg_release(t->p, t->dirty[i]);
                pthread_mutex_lock(&t->p->mu);
                t->p->npages_mem--;
                pthread_mutex_unlock(&t->p->mu);
            } else {
                t->dirty[keep++] = t->dirty[i];
            }
        }
        t->ndirty = keep;
        dirty_index_rebuild(t);
    }
    t->npages = t->stmt_npages;
    t->hdr = t->stmt_hdr;
    t->hdr_dirty = t->stmt_hdr_dirty;
    stmt_free_log(t);
    return rc;
}

int pager_write_range(ptxn *t, pg **io, uint32_t off, uint32_t len)
{
    pg *src = *io;
    if (src->dirty) {
        if (!t->stmt_active || src->stmt_seq == t->stmt_seq)
            return 0;
        /* Save only the bytes about to change (the page stays unmarked, so
         * a later whole-page change in this statement saves it again). */
        int rc = stmt_log(t, src->pgno, src->data, off, len, 0);
        return rc < 0 ? ptxn_error(t, rc, "out of memory") : 0;
    }
    return pager_write(t, io);
}

int pager_write(ptxn *t, pg **io)
{
    pg *src = *io;
    assert(t->write);
    if (src->dirty)
        return stmt_touch(t, src, 0);
    pg *d = ptxn_dirty_find(t, src->pgno);
    if (d) {
        /* Someone holds the clean image; hand back our copy. */
        int rc = stmt_touch(t, d, 0);
        if (rc < 0)
            return rc;
        d->ref++;
        pager_unref(src);
        *io = d;
        return 0;
    }
    int rc;
    if ((rc = maybe_spill(t)) < 0)
        return rc;
    d = dirty_new(t, src->pgno);
    if (!d)
        return ptxn_error(t, FOLIO_NOMEM, "out of memory writing page %u", src->pgno);
    memcpy(d->data, src->data, t->p->page_size);
    if ((rc = stmt_touch(t, d, 1)) < 0) {
        pager_unref(d);
        return rc;
    }
    pager_unref(src);
    *io = d;
    return 0;
}

/* Get page pgno writable (not necessarily existing content-wise). */
static int get_writable(ptxn *t, uint32_t pgno, pg **out)
{
    int rc = pager_get(out, t, pgno);
    if (rc < 0)
        return rc;
    if ((rc = pager_write(t, out)) < 0) {
        pager_unref(*out);
        *out = NULL;
    }
    return rc;
}

int pager_alloc(pg **out, ptxn *t)
{
    pager *p = t->p;
    int rc;
    *out = NULL;
    assert(t->write);
    uint32_t usable = p->page_size - t->hdr.reserved;
    if (t->hdr.freelist_trunk) {
        uint32_t trunk_no = t->hdr.freelist_trunk;
        if (trunk_no > t->npages)
            return ptxn_corrupt(t, trunk_no, "freelist trunk page out of range");
        pg *trunk;
        if ((rc = get_writable(t, trunk_no, &trunk)) < 0)
            return rc;
        uint32_t nleaf = fmt_get_u32(trunk->data + 4);
        if (nleaf > usable / 4 - 2) {
            pager_unref(trunk);
            return ptxn_corrupt(t, trunk_no, "freelist trunk leaf count too large");
        }
        uint32_t pgno;
        if (nleaf > 0) {
            pgno = fmt_get_u32(trunk->data + 8 + 4 * (nleaf - 1));
            if (pgno < 2 || pgno > t->npages) {
                pager_unref(trunk);
                return ptxn_corrupt(t, trunk_no, "freelist leaf page number out of range");
            }
            fmt_put_u32(trunk->data + 4, nleaf - 1);
            pager_unref(trunk);
        } else {
            pgno = trunk_no;
            t->hdr.freelist_trunk = fmt_get_u32(trunk->data);
            pager_unref(trunk);
        }
        if (t->hdr.freelist_count)
            t->hdr.freelist_count--;
        t->hdr_dirty = 1;
        pg *e = ptxn_dirty_find(t, pgno);
        if (e) {
            if ((rc = stmt_touch(t, e, 0)) < 0)
                return rc;
            e->ref++;
        } else {
            /* A freelist leaf's old content is meaningless: no need to read it. */
            if ((rc = maybe_spill(t)) < 0)
                return rc;
            e = dirty_new(t, pgno);
            if (!e)
                return ptxn_error(t, FOLIO_NOMEM, "out of memory allocating a page");
            if ((rc = stmt_touch(t, e, 1)) < 0) {
                pager_unref(e);
                return rc;
            }
        }
        memset(e->data, 0, p->page_size);
        *out = e;
        return 0;
    }
    uint32_t pgno = t->npages + 1;
    if (pgno == lock_byte_page(p))
        pgno++;
    if (pgno > 0x7ffffffe)
        return ptxn_error(t, FOLIO_FULL, "database is at its maximum page count");
    if ((rc = maybe_spill(t)) < 0)
        return rc;
    pg *e = dirty_new(t, pgno);
    if (!e)
        return ptxn_error(t, FOLIO_NOMEM, "out of memory allocating a page");
    if ((rc = stmt_touch(t, e, 1)) < 0) {
        pager_unref(e);
        return rc;
    }
    memset(e->data, 0, p->page_size);
    t->npages = pgno;
    t->hdr_dirty = 1;
    *out = e;
    return 0;
}

int pager_free(ptxn *t, uint32_t pgno)
{
    pager *p = t->p;
    int rc;
    assert(t->write);
    if (pgno < 2 || pgno > t->npages)
        return ptxn_corrupt(t, pgno, "freeing a page out of range");
    uint32_t usable = p->page_size - t->hdr.reserved;
    uint32_t max_leaves = usable / 4 - 8;
    if (t->hdr.freelist_trunk) {
        pg *trunk;
        if ((rc = get_writable(t, t->hdr.freelist_trunk, &trunk)) < 0)
            return rc;
        uint32_t nleaf = fmt_get_u32(trunk->data + 4);
        if (nleaf < max_leaves) {
            fmt_put_u32(trunk->data + 8 + 4 * nleaf, pgno);
            fmt_put_u32(trunk->data + 4, nleaf + 1);
            pager_unref(trunk);
            t->hdr.freelist_count++;
            t->hdr_dirty = 1;
            return 0;
        }
        pager_unref(trunk);
    }
    /* The freed page becomes the new first trunk. */
    pg *e;
    if ((rc = get_writable(t, pgno, &e)) < 0)
        return rc;
    memset(e->data, 0, p->page_size);
    fmt_put_u32(e->data, t->hdr.freelist_trunk);
    fmt_put_u32(e->data + 4, 0);
    pager_unref(e);
    t->hdr.freelist_trunk = pgno;
    t->hdr.freelist_count++;
    t->hdr_dirty = 1;
    return 0;
}

int pager_put_page(ptxn *t, uint32_t pgno, const uint8_t *data)
{
    pager *p = t->p;
    int rc;
    assert(t->write);
    if (pgno < 1 || pgno > t->npages || pgno == lock_byte_page(p))
        return ptxn_error(t, FOLIO_MISUSE, "internal: page %u cannot be put (database of %u pages)",
                          pgno, t->npages);
    pg *e = ptxn_dirty_find(t, pgno);
    if (e) {
        if ((rc = stmt_touch(t, e, 0)) < 0)
            return rc;
        memcpy(e->data, data, p->page_size);
        return 0;
    }
    /* The old image is replaced whole: no need to read it. */
    if ((rc = maybe_spill(t)) < 0)
        return rc;
    e = dirty_new(t, pgno);
    if (!e)
        return ptxn_error(t, FOLIO_NOMEM, "out of memory writing page %u", pgno);
    if ((rc = stmt_touch(t, e, 1)) < 0) {
        pager_unref(e);
        return rc;
    }
    memcpy(e->data, data, p->page_size);
    pager_unref(e);
    return 0;
}

int ptxn_set_npages(ptxn *t, uint32_t npages)
{
    assert(t->write);
    if (npages < 1 || t->stmt_active || t->wb_pages)
        return ptxn_error(t, FOLIO_MISUSE, "internal: the database size cannot change now");
    for (uint32_t i = 0; i < t->ndirty; i++)
        if (t->dirty[i]->pgno > npages)
            return ptxn_error(t, FOLIO_MISUSE,
                              "internal: page %u is changed past the new database size",
                              t->dirty[i]->pgno);
    t->npages = npages;
    t->hdr_dirty = 1;
    return 0;
}

int ptxn_header_update(ptxn *t, const fmt_dbheader *h)
{
    if (h != &t->hdr)
        t->hdr = *h;
    t->hdr_dirty = 1;
    return 0;
}

/* ---- commit ---- */

static int pg_cmp(const void *a, const void *b)
{
    const pg *x = *(pg *const *)a, *y = *(pg *const *)b;
    return x->pgno < y->pgno ? -1 : x->pgno > y->pgno;
}

/* Settle the waiting commits numbered up to `upto` with `rc` (mu held). */
static void group_settle(pager *p, uint64_t upto, int rc)
{
    struct group_waiter **pp = &p->gw_head;
    while (*pp) {
        struct group_waiter *g = *pp;
        if (g->seq <= upto) {
            g->done = 1;
            g->rc = rc;
            *pp = g->next;
        } else {
            pp = &g->next;
        }
    }
}

/*
 * Wait until the staged commit `me` is durable and published: the first
 * waiter that finds no sync under way syncs the WAL for every commit staged
 * so far, publishes the newest of them, and settles them; commits staged
 * meanwhile go with the next sync. A failed sync fails every commit staged
 * when it ended (those staged during it build on the others); the writers
 * that saw them cannot commit (failed_seq). Returns 0 or the sync's error.
 */
static int group_sync(pager *p, struct group_waiter *me)
{
    pthread_mutex_lock(&p->mu);
    while (!me->done) {
        if (p->syncing) {
            pthread_cond_wait(&p->sync_cv, &p->mu);
            continue;
        }
        p->syncing = 1;
        /* A writer of this handle at work, or queued for the writer role,
         * or a concurrent transaction (which commits as a writer), will
         * stage in a moment: wait for them, for at most about one sync's
         * time, so that one sync serves them too. */
        uint64_t window = p->sync_us < 100 ? 100 : p->sync_us > 5000 ? 5000 : p->sync_us;
        uint64_t t0 = pager_now_us();
        while ((p->writer || p->wq_head || p->nconc) && pager_now_us() - t0 < window) {
            p->syncer_waits = 1;
            pager_cond_wait_us(&p->syncer_cv, &p->mu, window - (pager_now_us() - t0));
            p->syncer_waits = 0;
        }
        uint64_t upto = p->stage_seq;
        widx_hdr h;
        wal_staged_header(p->wal, &h);
        pthread_mutex_unlock(&p->mu);
        uint64_t s0 = pager_now_us();
        int rc = p->sync_hook ? p->sync_hook(p->sync_hook_arg) : 0;
        if (rc == 0)
            rc = wal_sync(p->wal);
        pthread_mutex_lock(&p->mu);
        p->sync_us = pager_now_us() - s0;
        if (rc == 0)
            rc = wal_publish(p->wal, &h);
        if (rc == 0) {
            group_settle(p, upto, 0);
        } else {
            p->failed_seq = p->stage_seq;
            group_settle(p, p->stage_seq, rc);
            wal_drop_staged(p->wal);
            pager_cache_drop_frames_above(p, wal_mx(p->wal));
        }
        p->syncing = 0;
        if (!p->writer && !wal_staged(p->wal))
            wal_end_write(p->wal);
        pthread_cond_broadcast(&p->sync_cv);
        pthread_cond_broadcast(&p->cond); /* a writer may wait for the publish */
    }
    pthread_mutex_unlock(&p->mu);
    return me->rc;
}

int pager_commit(ptxn *t, char *err, size_t errlen)
{
    return pager_commit_v(t, NULL, err, errlen);
}

int pager_commit_v(ptxn *t, uint64_t *out_version, char *err, size_t errlen)
{
    pager *p = t->p;
    int rc = 0;
    if (out_version)
        *out_version = 0;
    if (!t->write) {
        pager_end(t);
        return 0;
    }
    if (t->conc) {
        pager_end(t);
        snprintf(err, errlen, "a concurrent transaction commits through the layer above");
        return FOLIO_MISUSE;
    }
    if (t->ndirty == 0 && !t->spilled && !t->hdr_dirty && !t->wb_pages && !t->wb_lost) {
        t->committed = 1; /* nothing to write: committed all the same */
        PAGER_COUNT(p, commits, 1);
        pager_end(t);
        return 0;
    }
    /* Page 1 carries the header. It is rewritten when the header changed
     * (page count, freelist, schema cookie), when page 1 changes anyway, and
     * at the first commit of a WAL generation, so that the change counter
     * moves whenever the WAL alone could not tell another process that the
     * database changed. Other commits leave it alone, as SQLite does in WAL
     * mode: one frame less per small transaction. */
    /* This commit's version: one past the snapshot's (the newest: this is
     * the writer). */
    uint64_t version;
    if ((rc = ptxn_version(t, &version)) < 0)
        goto fail;
    version = pager_version_newest(p, version) + 1;
    pthread_mutex_lock(&p->mu);
    int gen_first = wal_mx(p->wal) == 0; /* (readers of this handle update the WAL object) */
    pthread_mutex_unlock(&p->mu);
    if (t->hdr_dirty || gen_first || ptxn_dirty_find(t, 1) != NULL) {
        t->hdr.change_counter++;
        t->hdr.page_count = t->npages;
        t->hdr.version_valid_for = t->hdr.change_counter;
        t->hdr.sqlite_version = FMT_DBHDR_SQLITE_VERSION;
        t->hdr.write_version = FMT_DBHDR_WAL_VERSION;
        t->hdr.read_version = FMT_DBHDR_WAL_VERSION;
        pg *one;
        if ((rc = get_writable(t, 1, &one)) < 0)
            goto fail;
        fmt_dbheader_encode(one->data, &t->hdr);
        pager_unref(one);
    }

    /* New pages still being written behind must be in the file before it
     * is synced below. Only here: making page 1 writable may spill. */
    if ((rc = ptxn_wb_wait(t)) < 0)
        goto fail;
    qsort(t->dirty, t->ndirty, sizeof *t->dirty, pg_cmp);
    /* Page 1 takes the version stamp (again under mu below, should the
     * WAL's salts have been chosen meanwhile), then the commit log, if on,
     * takes the record of this commit: before the WAL, so that a crash can
     * leave a record of a commit that did not happen (dropped when the log
     * is opened next), never a commit without its record. */
    pg *page1 = ptxn_dirty_find(t, 1);
    if (page1) {
        pthread_mutex_lock(&p->mu);
        pager_version_stamp(t, page1->data, version);
        pthread_mutex_unlock(&p->mu);
    }
    if (p->commit_hook && ((ptxn_vflags(t) | ptxn_vflags_after(t)) & FMT_VSTAMP_LOG) &&
        (rc = p->commit_hook(p->commit_hook_arg, t, version)) < 0)
        goto fail;
    /* New pages past the committed end go to the database file and must be
     * durable before the commit frame that makes them part of it. Sorted,
     * they are the tail of the dirty array. */
    uint32_t nd = 0;
    while (nd < t->ndirty && ptxn_is_direct(t, t->dirty[t->ndirty - 1 - nd]->pgno))
        nd++;
    /* A few new pages go through the WAL like the others: writing them
     * straight into the file would cost a write and a sync of the database
     * file at this commit. */
    if (nd < 16)
        nd = 0;
    if (nd && (rc = ptxn_direct_claim(t)) <= 0) {
        if (rc < 0)
            goto fail;
        nd = 0; /* a checkpoint is running: they take the WAL */
    }
    rc = 0;
    uint32_t n = t->ndirty - nd;
    if (nd && (rc = write_direct(t, t->dirty + n, nd)) < 0) {
        ptxn_error(t, rc, "cannot write new pages to the database file");
        goto fail;
    }
    if (t->direct_written && p->sync != FOLIO_SYNC_OFF)
        PAGER_COUNT(p, db_syncs, 1);
    if (t->direct_written && p->sync != FOLIO_SYNC_OFF && (rc = p->vfs->sync(p->db)) < 0) {
        ptxn_error(t, rc, "cannot sync the database file");
        goto fail;
    }
    /* Small commits (nearly all) list their pages on the stack. */
    uint32_t pgnos_stack[32];
    uint8_t *pages_stack[32];
    uint32_t *pgnos = n <= 32 ? pgnos_stack : ptxn_buf_get(t, n * sizeof *pgnos);
    uint8_t **pages = n <= 32 ? pages_stack : ptxn_buf_get(t, n * sizeof *pages);
    if (!pgnos || !pages) {
        if (pgnos != pgnos_stack)
            ptxn_buf_put(t, pgnos);
        if (pages != pages_stack)
            ptxn_buf_put(t, pages);
        rc = ptxn_error(t, FOLIO_NOMEM, "out of memory at commit");
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        pgnos[i] = t->dirty[i]->pgno;
        pages[i] = t->dirty[i]->data;
    }
    /* With FOLIO_SYNC_FULL the commit is staged and synced in a group with
     * the commits of this handle's writers that follow it (group_sync). */
    int group = p->sync == FOLIO_SYNC_FULL;
    struct group_waiter gw = {.next = NULL};
    pthread_mutex_lock(&p->mu);
    if (p->failed_seq != t->failed_seq) {
        /* Staged commits this transaction built on failed to sync. */
        pthread_mutex_unlock(&p->mu);
        rc = ptxn_error(t, FOLIO_IOERR,
                        "an earlier commit this transaction saw failed to reach the disk");
        goto fail;
    }
    uint32_t first = 0;
    if (n && pgnos[0] == 1)
        pager_version_stamp(t, pages[0], version);
    rc = wal_append(p->wal, n, pgnos, pages, t->npages,
                    group ? WAL_APPEND_STAGE : WAL_APPEND_PUBLISH, &first);
    if (rc == 0)
        pager_version_note_commit(p, first, n);
    if (pgnos != pgnos_stack)
        ptxn_buf_put(t, pgnos);
    if (pages != pages_stack)
        ptxn_buf_put(t, pages);
    if (rc < 0) {
        pthread_mutex_unlock(&p->mu);
        ptxn_error(t, rc, "cannot write the WAL: %s", status_text(rc));
        goto fail;
    }
    /* Committed: the images join the shared cache, WAL pages under their
     * frames and new pages as the file's own. With no reader left on an
     * older snapshot, the version each page replaces is of no more use:
     * it goes now, and its memory serves the next transaction's copies
     * (while still warm) instead of a growing cache of stale versions. */
    int sole = p->nreaders == 1;
    for (uint32_t i = 0; i < t->ndirty; i++) {
        pg *e = t->dirty[i];
        if (sole && i < n)
            pager_cache_forget(p, e->pgno, t->mx ? wal_find(p->wal, e->pgno, t->mx) : 0);
        e->dirty = 0;
        e->frame = i < n ? first + i : 0;
        pager_cache_link(p, e);
    }
    ptxn_dirty_index_clear(t);
    t->ndirty = 0;
    t->spilled = 0;
    if (group) {
        gw.seq = ++p->stage_seq;
        gw.next = p->gw_head;
        p->gw_head = &gw;
    }
    uint32_t mx = wal_mx(p->wal), uncopied = mx - wal_backfilled(p->wal);
    /* Past its bound the WAL is checkpointed to the end whatever is left, so
     * that the next writer, which waits for that, can start it over. */
    uint32_t short_mx = __atomic_load_n(&p->ckpt_short_mx, __ATOMIC_RELAXED);
    int want_ckpt =
        p->autockpt && !p->ckpt_running &&
        (uncopied >= p->autockpt || (uncopied && !p->inline_ckpt && mx >= pager_wal_bound(p))) &&
        (!short_mx || mx < short_mx || mx - short_mx >= p->autockpt);
    /* Claimed before this transaction ends, so that this handle's next
     * writer knows a checkpoint is on its way. */
    if (want_ckpt && pager_bg_request(p) == 0)
        want_ckpt = 0;
    pthread_mutex_unlock(&p->mu);
    t->committed = 1;
    pager_end(t);
    if (group && (rc = group_sync(p, &gw)) < 0) {
        if (err && errlen)
            snprintf(err, errlen, "cannot sync the WAL: %s (the commit did not happen)",
                     status_text(rc));
        return rc;
    }
    PAGER_COUNT(p, commits, 1);
    pager_version_newest(p, version);
    if (out_version)
        *out_version = version;
    if (want_ckpt) {
        /* The commit stands whatever happens here. */
        char cerr[256];
        pager_checkpoint(p, FOLIO_CHECKPOINT_PASSIVE, NULL, NULL, cerr, sizeof cerr);
    }
    return 0;
fail:
    if (err && errlen)
        snprintf(err, errlen, "%s", t->err);
    pager_end(t);
    return rc;
}
