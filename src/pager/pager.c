/*
 * pager.c - page cache, snapshots and transactions over the database file
 * and its WAL.
 *
 * Pages come from the newest committed WAL frame visible to the snapshot, or
 * from the database file. Clean pages live in one cache shared by every
 * transaction, keyed by (page number, frame); a frame number names one
 * immutable page image for the life of a WAL generation, so snapshots never
 * see each other's pages. A write transaction keeps private dirty copies;
 * commit appends them as frames and hands them to the cache.
 *
 * Invariants ((4) is checked by cache_check in debug builds):
 *   (1) A cached page (pgno, frame) with frame > 0 holds exactly the image of
 *       that WAL frame, and frame <= wal's last written frame.
 *   (2) A cached page (pgno, 0) holds the database file's image of pgno.
 *       Checkpoint drops it before it overwrites the page in the file.
 *   (3) Checkpoint never copies a frame newer than the oldest live snapshot,
 *       and syncs the WAL before writing the database file.
 *   (4) Every cached (hashed) page, pinned or not, is on the eviction ring,
 *       and nothing else is; dirty pages are private to the writer, in
 *       neither. Eviction takes the first page from the ring's head that is
 *       unpinned and not used since it last passed (a clock).
 *   (5) At most one write transaction exists; it alone holds `writer`.
 *   (6) A snapshot with mx == 0 reads the database file only; it is handed
 *       out only when every committed frame has been checkpointed.
 */
#include "pager/pager_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- page objects ---- */

#if defined(__SANITIZE_ADDRESS__)
#define PG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PG_ASAN 1
#endif
#endif
#ifdef PG_ASAN
#include <sanitizer/asan_interface.h>
/* A released page object is poisoned past its free-list link, so that a use
 * after release is still caught. */
#define PG_POISON(e, n) ASAN_POISON_MEMORY_REGION((char *)(e) + sizeof(pg *), (n) - sizeof(pg *))
#define PG_UNPOISON(e, n)                                                                          \
    ASAN_UNPOISON_MEMORY_REGION((char *)(e) + sizeof(pg *), (n) - sizeof(pg *))
#else
#define PG_POISON(e, n)   ((void)(e), (void)(n))
#define PG_UNPOISON(e, n) ((void)(e), (void)(n))
#endif

/* The free list links through the object's first bytes. */
#define PG_NEXT(e) (*(pg **)(void *)(e))

static size_t pg_bytes(const pager *p)
{
    /* Keep every object 16-byte aligned inside a slab. */
    return (sizeof(pg) + p->page_size + 15) & ~(size_t)15;
}

pg *pager_pg_alloc(pager *p)
{
    size_t sz = pg_bytes(p);
    pthread_mutex_lock(&p->pg_mu);
    pg *e = p->pg_free;
    if (e) {
        PG_UNPOISON(e, sz);
        p->pg_free = PG_NEXT(e);
        p->pg_nfree--;
    } else {
        if (p->slab_left == 0) {
            /* A new slab: 16 pages first, twice as many each time, at most
             * an eighth of the cache budget (and at least 16). Its objects
             * are handed out in order as they are needed, so the memory of
             * the rest is not touched yet. */
            uint32_t n = p->next_slab_pages ? p->next_slab_pages : 16;
            uint32_t cap = (uint32_t)(p->max_pages / 8 > 16 ? p->max_pages / 8 : 16);
            if (n > cap)
                n = cap;
            char *slab = NULL;
            size_t mapped = 0;
            if (p->slabs && !p->slab_reserved && p->max_pages > p->nslabs_pages + n) {
                /* Past its first slab (small databases stay in it), the
                 * cache maps the rest of its budget at once: address space
                 * only, the memory comes as objects are handed out, and
                 * filling the cache never calls the allocator again. */
                uint32_t rest = (uint32_t)(p->max_pages - p->nslabs_pages);
                if ((slab = os_map(16 + sz * rest)) != NULL) {
                    n = rest;
                    mapped = 16 + sz * rest;
                }
                p->slab_reserved = 1;
            }
            if (!slab && !(slab = os_malloc(16 + sz * n))) {
                pthread_mutex_unlock(&p->pg_mu);
                return NULL;
            }
            ((size_t *)(void *)slab)[1] = mapped;
            /* Past its first 4 MiB (a small database never gets there), a
             * large cache asks for huge pages: a random lookup in a cache
             * of hundreds of MiB then costs far fewer TLB misses. */
            const size_t small = (size_t)4 << 20;
            if (sz * n > 2 * small)
                os_advise_huge(slab + small, 16 + sz * n - small);
            *(void **)(void *)slab = p->slabs;
            p->slabs = (void **)(void *)slab;
            p->slab_next = slab + 16;
            p->slab_left = n;
            p->nslabs_pages += n;
            p->next_slab_pages = n * 2;
        }
        e = (pg *)(void *)p->slab_next;
        p->slab_next += sz;
        p->slab_left--;
    }
    pthread_mutex_unlock(&p->pg_mu);
    memset(e, 0, sizeof *e);
    e->data = (uint8_t *)(e + 1);
    e->owner = p;
    return e;
}

void pager_pg_release(pager *p, pg *e)
{
    if (!e)
        return;
    size_t sz = pg_bytes(p);
    pthread_mutex_lock(&p->pg_mu);
    PG_NEXT(e) = p->pg_free;
    PG_POISON(e, sz);
    p->pg_free = e;
    p->pg_nfree++;
    pthread_mutex_unlock(&p->pg_mu);
}

/* At close: every page object must be back (free) or in the cache, else
 * some path lost one; the slabs go. Returns the number lost. */
static uint32_t pg_slabs_free(pager *p, uint32_t cached)
{
    uint32_t lost = p->nslabs_pages - p->slab_left - p->pg_nfree - cached;
    void **s = p->slabs;
    while (s) {
        void **prev = (void **)*s;
        size_t mapped = ((size_t *)(void *)s)[1];
        if (mapped) {
#ifdef PG_ASAN
            /* The shadow of released objects would outlive the mapping. */
            size_t used = s == p->slabs ? (size_t)(p->slab_next - (char *)s) : mapped;
            ASAN_UNPOISON_MEMORY_REGION(s, used);
#endif
            os_unmap(s, mapped);
        } else {
            os_free(s);
        }
        s = prev;
    }
    p->slabs = NULL;
    p->slab_reserved = 0;
    p->pg_free = NULL;
    p->slab_next = NULL;
    p->nslabs_pages = p->pg_nfree = p->slab_left = 0;
    return lost;
}

/* ---- cache ---- */

static uint32_t cache_slot(const pager *p, uint32_t pgno, uint32_t frame)
{
    return ((pgno * 2654435761u) ^ (frame * 40503u)) & (p->nslot - 1);
}

static pg *cache_find(pager *p, uint32_t pgno, uint32_t frame)
{
    for (pg *e = p->slot[cache_slot(p, pgno, frame)]; e; e = e->hnext)
        if (e->pgno == pgno && e->frame == frame)
            return e;
    return NULL;
}

static void ring_unlink(pager *p, pg *e)
{
    if (e->lprev)
        e->lprev->lnext = e->lnext;
    else if (p->ring_head == e)
        p->ring_head = e->lnext;
    if (e->lnext)
        e->lnext->lprev = e->lprev;
    else if (p->ring_tail == e)
        p->ring_tail = e->lprev;
    e->lprev = e->lnext = NULL;
}

static void ring_push(pager *p, pg *e)
{
    e->lprev = p->ring_tail;
    e->lnext = NULL;
    if (p->ring_tail)
        p->ring_tail->lnext = e;
    else
        p->ring_head = e;
    p->ring_tail = e;
}

static void cache_unhash(pager *p, pg *e)
{
    ring_unlink(p, e);
    pg **pp = &p->slot[cache_slot(p, e->pgno, e->frame)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    e->hnext = NULL;
    e->in_hash = 0;
    p->ncached--;
}

static int cache_grow(pager *p)
{
    /* Past its small start the hash is sized at once for a full cache, so
     * that filling the cache does not rehash again and again (only pages
     * pinned past the budget can make it grow further). */
    uint32_t n = p->nslot * 2;
    while (n < p->max_pages && n < (1u << 30))
        n *= 2;
    pg **ns = os_calloc(n, sizeof *ns);
    if (!ns)
        return FOLIO_NOMEM;
    for (uint32_t i = 0; i < p->nslot; i++) {
        pg *e = p->slot[i];
        while (e) {
            pg *next = e->hnext;
            uint32_t j = ((e->pgno * 2654435761u) ^ (e->frame * 40503u)) & (n - 1);
            e->hnext = ns[j];
            ns[j] = e;
            e = next;
        }
    }
    os_free(p->slot);
    p->slot = ns;
    p->nslot = n;
    return 0;
}

void pager_cache_link(pager *p, pg *e)
{
    if (p->ncached + 1 > p->nslot)
        cache_grow(p); /* on failure the chains just get longer */
    uint32_t s = cache_slot(p, e->pgno, e->frame);
    e->hnext = p->slot[s];
    p->slot[s] = e;
    e->in_hash = 1;
    e->used = 0;
    p->ncached++;
    ring_push(p, e);
}

static void page_free(pager *p, pg *e)
{
    p->npages_mem--;
    pager_pg_release(p, e);
}

void pager_cache_drop_unhashed(pager *p, pg *e)
{
    ring_unlink(p, e);
    if (e->ref == 0)
        page_free(p, e);
}

void pager_cache_forget(pager *p, uint32_t pgno, uint32_t frame)
{
    pg *e = cache_find(p, pgno, frame);
    if (e) {
        cache_unhash(p, e);
        pager_cache_drop_unhashed(p, e);
    }
}

/*
 * Eviction is a clock over a ring of every cached page: a cache hit only
 * marks the page used, so a lookup does not touch the pages beside it in the
 * ring (in a cache far larger than the CPU's, those are two more memory
 * misses a lookup). The victim is the first page from the ring's head that
 * is neither pinned nor used since it last came round; the others go to the
 * tail, the used ones losing their mark. NULL when every page is pinned.
 */
static pg *cache_victim(pager *p)
{
    for (uint32_t n = 2 * p->ncached + 1; n-- > 0 && p->ring_head;) {
        pg *e = p->ring_head;
        if (e->ref == 0 && !e->used)
            return e;
        e->used = 0;
        if (e != p->ring_tail) {
            ring_unlink(p, e);
            ring_push(p, e);
        }
    }
    return NULL;
}

static pg *page_new(pager *p)
{
    /* At the budget, a cold unpinned page is reused, so a warm cache reads
     * pages without allocating. */
    pg *e = p->npages_mem >= p->max_pages ? cache_victim(p) : NULL;
    if (e) {
        cache_unhash(p, e);
        uint8_t *data = (uint8_t *)(e + 1);
        memset(e, 0, sizeof *e);
        e->data = data;
        e->owner = p;
        return e;
    }
    e = pager_pg_alloc(p);
    if (!e)
        return NULL;
    p->npages_mem++;
    return e;
}

#ifndef NDEBUG
/* Invariant (4), walked in full (mu held): the ring and the hash hold the
 * same pages, ncached of them, all clean, the ring's links both ways. */
static void cache_check(const pager *p)
{
    uint32_t n = 0;
    const pg *prev = NULL;
    for (const pg *e = p->ring_head; e; prev = e, e = e->lnext) {
        assert(e->in_hash && !e->dirty);
        assert(e->lprev == prev);
        assert(++n <= p->ncached);
    }
    assert(prev == p->ring_tail);
    assert(n == p->ncached);
    uint32_t hashed = 0;
    for (uint32_t i = 0; i < p->nslot; i++)
        for (const pg *e = p->slot[i]; e; e = e->hnext) {
            assert(e->in_hash && !e->dirty);
            assert(cache_slot(p, e->pgno, e->frame) == i);
            hashed++;
        }
    assert(hashed == n);
    (void)n, (void)prev, (void)hashed;
}

/* After a transaction, now and then: often enough for the tests to cover
 * every path, rarely enough that a large cache does not slow them down. */
static void cache_check_sometimes(pager *p)
{
    if (p->check_skip > 0) {
        p->check_skip--;
        return;
    }
    cache_check(p);
    p->check_skip = (p->ncached + p->nslot) / 1024;
}
#else
static void cache_check_sometimes(pager *p)
{
    (void)p;
}
#endif

/* Evict unpinned clean pages while over budget. */
void pager_cache_trim(pager *p)
{
    while (p->npages_mem > p->max_pages) {
        pg *e = cache_victim(p);
        if (!e)
            break;
        cache_unhash(p, e);
        page_free(p, e);
    }
}

/* Drop every unpinned cached page matching `pred`. */
static void cache_drop_if(pager *p, int (*pred)(pager *, pg *, void *), void *arg)
{
    for (uint32_t i = 0; i < p->nslot; i++) {
        pg **pp = &p->slot[i];
        while (*pp) {
            pg *e = *pp;
            if (e->ref == 0 && pred(p, e, arg)) {
                *pp = e->hnext;
                e->in_hash = 0;
                p->ncached--;
                ring_unlink(p, e);
                page_free(p, e);
            } else {
                pp = &e->hnext;
            }
        }
    }
}

static int pred_all(pager *p, pg *e, void *arg)
{
    (void)p, (void)e, (void)arg;
    return 1;
}

static int pred_frame_above(pager *p, pg *e, void *arg)
{
    (void)p;
    return e->frame > *(uint32_t *)arg;
}

/* ---- locking helpers ---- */

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

/* The file lock follows the strongest need of this process's transactions. */
static int file_lock_update(pager *p)
{
    int want = OS_LOCK_NONE;
    if (p->writer || p->ckpt_running)
        want = OS_LOCK_EXCLUSIVE;
    else if (p->nreaders)
        want = OS_LOCK_SHARED;
    if (p->readonly && want > OS_LOCK_SHARED)
        want = OS_LOCK_SHARED;
    if (want == p->lock_level)
        return 0;
    int rc = p->vfs->lock(p->db, want);
    if (rc == 0)
        p->lock_level = want;
    return rc;
}

/*
 * A sqlite3 connection that has the database open in WAL mode holds a read
 * lock on byte 128 of the -shm file (its "dead man switch") for as long as
 * it is open, and keeps its own index of the WAL there. Writing behind its
 * back would leave that index stale, so while folio writes it holds a write
 * lock on that byte: taken only if no sqlite3 connection is open, and it
 * keeps new ones out until folio is done (they get "database is locked").
 * The next sqlite3 connection to open finds itself first and rebuilds its
 * index from the WAL.
 */
#define SHM_DMS_BYTE 128

int pager_shm_guard(pager *p)
{
    if (p->shm_locked)
        return 0;
    if (!p->shm) {
        if (!p->shm_path) {
            size_t n = strlen(p->path);
            p->shm_path = os_malloc(n + 5);
            if (!p->shm_path)
                return FOLIO_NOMEM;
            memcpy(p->shm_path, p->path, n);
            memcpy(p->shm_path + n, "-shm", 5);
        }
        /* Usually there is none: asking is cheaper than a failed open. */
        int rc = p->vfs->exists(p->vfs, p->shm_path);
        if (rc == 0)
            return 0;
        rc = p->vfs->open(p->vfs, p->shm_path, 0, &p->shm);
        if (rc == FOLIO_CANTOPEN) {
            p->shm = NULL;
            return 0; /* no -shm: no sqlite3 connection in WAL mode */
        }
        if (rc < 0)
            return rc;
    }
    int rc = p->vfs->lock_byte(p->shm, SHM_DMS_BYTE, 2);
    if (rc == 0)
        p->shm_locked = 1;
    return rc;
}

void pager_shm_release(pager *p)
{
    if (p->shm) {
        if (p->shm_locked)
            p->vfs->lock_byte(p->shm, SHM_DMS_BYTE, 0);
        p->shm_locked = 0;
        p->vfs->close(p->shm);
        p->shm = NULL;
    }
}

/* ---- header and snapshot ---- */

static int read_db_header(pager *p, uint8_t *raw, size_t *out_got)
{
    return p->vfs->read(p->db, raw, FMT_DBHEADER_SIZE, 0, out_got);
}

/*
 * Re-read what other processes may have changed while no transaction of ours
 * was open: the WAL, and the database file's header and size. Drops the whole
 * cache when anything changed.
 */
int pager_refresh(pager *p)
{
    int rc, changed = 0;
    if ((rc = wal_refresh(p->wal, &changed)) < 0)
        return rc;
    /* While a WAL generation is under way, the database file changes only
     * by checkpoints, which copy pages the WAL holds anyway: an unchanged
     * WAL means nothing visible changed. */
    if (!changed && wal_has_header(p->wal) && p->db_bytes >= FMT_DBHEADER_SIZE)
        return 0;
    /* No WAL generation: the database file itself may have changed, also
     * by a checkpoint of frames another process wrote in WAL mode and then
     * deleted, which leaves the change counter alone: its size, header and
     * modification stamp tell. */
    uint64_t size, st[2];
    int have_stamp = 0;
    if (p->vfs->file_stamp && p->vfs->file_stamp(p->db, st) == 0) {
        size = st[0];
        have_stamp = 1;
    } else if ((rc = p->vfs->size(p->db, &size)) < 0) {
        return rc;
    }
    uint8_t raw[FMT_DBHEADER_SIZE];
    size_t got = 0;
    if (size >= FMT_DBHEADER_SIZE && (rc = read_db_header(p, raw, &got)) < 0)
        return rc;
    if (size != p->db_bytes ||
        (size >= FMT_DBHEADER_SIZE && memcmp(raw + FMT_DBHDR_CHANGE_COUNTER, p->db_hdr_raw + FMT_DBHDR_CHANGE_COUNTER, 4) != 0) ||
        (have_stamp && p->db_stamp_valid && st[1] != p->db_stamp))
        changed = 1;
    p->db_stamp = have_stamp ? st[1] : 0;
    p->db_stamp_valid = have_stamp;
    p->db_bytes = size;
    if (size >= FMT_DBHEADER_SIZE)
        memcpy(p->db_hdr_raw, raw, FMT_DBHEADER_SIZE);
    if (changed)
        cache_drop_if(p, pred_all, NULL);
    return 0;
}

static int snapshot_header(ptxn *t, char *err, size_t errlen)
{
    pager *p = t->p;
    if (t->npages == 0) {
        memset(&t->hdr, 0, sizeof t->hdr);
        t->hdr.page_size = p->page_size;
        return 0;
    }
    pg *one;
    int rc = pager_get(&one, t, 1);
    if (rc < 0) {
        set_err(err, errlen, t->err);
        return rc;
    }
    const char *why = NULL;
    rc = fmt_dbheader_decode(one->data, &t->hdr, &why);
    pager_unref(one);
    if (rc < 0) {
        snprintf(err, errlen, "page 1: bad database header: %s", why ? why : "invalid");
        return FOLIO_CORRUPT;
    }
    if (t->hdr.page_size != p->page_size) {
        snprintf(err, errlen, "page 1: page size changed from %u to %u", p->page_size,
                 t->hdr.page_size);
        return FOLIO_CORRUPT;
    }
    return 0;
}

/* Pages in the database for snapshot mx. */
static uint32_t snapshot_npages(pager *p, uint32_t mx)
{
    if (mx)
        return wal_db_pages(p->wal);
    if (p->db_bytes < FMT_DBHEADER_SIZE)
        return 0;
    uint32_t by_size = (uint32_t)((p->db_bytes + p->page_size - 1) / p->page_size);
    uint32_t hdr_count = fmt_get_u32(p->db_hdr_raw + FMT_DBHDR_PAGE_COUNT);
    uint32_t change = fmt_get_u32(p->db_hdr_raw + FMT_DBHDR_CHANGE_COUNTER);
    uint32_t valid_for = fmt_get_u32(p->db_hdr_raw + FMT_DBHDR_VALID_FOR);
    /* As SQLite: the header's count is trusted only when it was written by a
     * version that maintains it (valid-for equals the change counter). */
    if (hdr_count && valid_for == change)
        return hdr_count;
    return by_size ? by_size : 1;
}

/* ---- open / close ---- */

int pager_open(pager **out, os_vfs *vfs, const char *path, const pager_config *cfg, char *err,
               size_t errlen)
{
    int rc;
    *out = NULL;
    pager *p = os_calloc(1, sizeof *p);
    if (!p)
        return FOLIO_NOMEM;
    p->vfs = vfs;
    p->readonly = cfg->readonly;
    p->sync = cfg->sync;
    p->autockpt = cfg->autocheckpoint;
    p->busy_timeout_ms = cfg->busy_timeout_ms;
    p->inline_ckpt = cfg->inline_checkpoint;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    pthread_cond_init(&p->bg_cond, NULL);
    pthread_mutex_init(&p->pg_mu, NULL);
    size_t n = strlen(path);
    p->path = os_malloc(n + 1);
    p->nslot = 256;
    p->slot = os_calloc(p->nslot, sizeof *p->slot);
    if (!p->path || !p->slot) {
        rc = FOLIO_NOMEM;
        goto fail;
    }
    memcpy(p->path, path, n + 1);

    int flags = p->readonly ? OS_OPEN_READONLY : (cfg->create ? OS_OPEN_CREATE : 0);
    rc = vfs->open(vfs, path, flags, &p->db);
    if (rc == FOLIO_READONLY || (rc == FOLIO_CANTOPEN && !p->readonly && !cfg->create)) {
        snprintf(err, errlen, "cannot open %s", path);
        rc = FOLIO_CANTOPEN;
        goto fail;
    }
    if (rc < 0) {
        snprintf(err, errlen, rc == FOLIO_NOMEM ? "out of memory opening %s" : "cannot open %s",
                 path);
        if (rc != FOLIO_NOMEM)
            rc = FOLIO_CANTOPEN;
        goto fail;
    }
    if ((rc = vfs->size(p->db, &p->db_bytes)) < 0) {
        snprintf(err, errlen, "cannot read %s", path);
        goto fail;
    }
    uint32_t page_size = 0;
    if (p->db_bytes > 0) {
        if (p->db_bytes < FMT_DBHEADER_SIZE) {
            snprintf(err, errlen, "%s: file is not a database (only %llu bytes)", path,
                     (unsigned long long)p->db_bytes);
            rc = FOLIO_NOTADB;
            goto fail;
        }
        if ((rc = read_db_header(p, p->db_hdr_raw, NULL)) < 0) {
            snprintf(err, errlen, "cannot read %s", path);
            goto fail;
        }
        fmt_dbheader h;
        const char *why = NULL;
        if (!fmt_dbheader_magic_ok(p->db_hdr_raw)) {
            snprintf(err, errlen, "%s: file is not a database", path);
            rc = FOLIO_NOTADB;
            goto fail;
        }
        if (fmt_dbheader_decode(p->db_hdr_raw, &h, &why) < 0) {
            snprintf(err, errlen, "%s: page 1: bad database header: %s", path,
                     why ? why : "invalid");
            rc = FOLIO_CORRUPT;
            goto fail;
        }
        page_size = h.page_size;
        if (h.text_encoding > 3) {
            snprintf(err, errlen, "%s: unknown text encoding %u", path, h.text_encoding);
            rc = FOLIO_NOTADB;
            goto fail;
        }
        if (h.schema_format > 4) {
            snprintf(err, errlen, "%s: schema format %u is not supported (at most 4)", path,
                     h.schema_format);
            rc = FOLIO_UNSUPPORTED;
            goto fail;
        }
        if (h.read_version > 2) {
            snprintf(err, errlen, "%s: file format read version %u is not supported", path,
                     h.read_version);
            rc = FOLIO_NOTADB;
            goto fail;
        }
        if (h.write_version > 2 && !p->readonly) {
            snprintf(err, errlen,
                     "%s: file format write version %u: open it with FOLIO_OPEN_READONLY", path,
                     h.write_version);
            rc = FOLIO_READONLY;
            goto fail;
        }
    }
    /* A rollback journal left by a crash holds pages that must be put back
     * before the file is consistent; folio does not replay it yet. */
    {
        char *jpath = os_malloc(n + 9);
        if (!jpath) {
            rc = FOLIO_NOMEM;
            goto fail;
        }
        memcpy(jpath, path, n);
        memcpy(jpath + n, "-journal", 9);
        os_file *jf = NULL;
        int hot = 0;
        if (vfs->open(vfs, jpath, OS_OPEN_READONLY, &jf) == 0) {
            uint64_t jsize = 0;
            uint8_t jh[8];
            size_t got = 0;
            static const uint8_t magic[8] = {0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7};
            if (vfs->size(jf, &jsize) == 0 && jsize >= 8 && vfs->read(jf, jh, 8, 0, &got) == 0 &&
                got == 8 && memcmp(jh, magic, 8) == 0)
                hot = 1;
            vfs->close(jf);
        }
        os_free(jpath);
        if (hot) {
            snprintf(err, errlen,
                     "%s: a hot rollback journal (%s-journal) is present; open the database "
                     "once with sqlite3 to roll it back",
                     path, path);
            rc = FOLIO_UNSUPPORTED;
            goto fail;
        }
    }
    rc = wal_open(&p->wal, vfs, path, &page_size, p->readonly, err, errlen);
    if (rc < 0)
        goto fail;
    if (page_size == 0)
        page_size = cfg->new_page_size ? cfg->new_page_size : 4096;
    p->page_size = page_size;
    wal_set_page_size(p->wal, page_size);
    wal_set_sync_header(p->wal, p->sync != FOLIO_SYNC_OFF);
    p->usable = page_size; /* refined from the header at the first transaction */
    size_t budget = cfg->cache_bytes ? cfg->cache_bytes : (size_t)64 << 20;
    p->max_pages = budget / page_size;
    p->map_limit = vfs->map_file && vfs->unmap_file ? cfg->mmap_bytes : 0;
    if (p->max_pages < 16)
        p->max_pages = 16;
    *out = p;
    return 0;
fail:
    if (p->wal)
        wal_close(p->wal);
    if (p->db)
        vfs->close(p->db);
    os_free(p->shm_path);
    os_free(p->path);
    os_free(p->slot);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cond);
    pthread_cond_destroy(&p->bg_cond);
    pthread_mutex_destroy(&p->pg_mu);
    os_free(p);
    return rc;
}

static void ptxn_free(ptxn *t)
{
    if (!t)
        return;
    for (pg *b = t->mblocks, *next; b; b = next) {
        next = b->hnext;
        os_free(b);
    }
    for (uint32_t i = 0; i < t->nbufs; i++)
        os_free((char *)t->bufs[i] - 16);
    os_free(t->stmt_log);
    os_free(t->stmt_arena);
    os_free(t->dirty);
    os_free(t->dslot);
    os_free(t);
}

int pager_close(pager *p, int checkpoint)
{
    int rc = 0;
    if (!p)
        return 0;
    pager_bg_stop(p);
    if (checkpoint && !p->readonly && p->db) {
        /* Only the last user of the file may fold the WAL away: take the
         * exclusive lock without waiting; if another process holds the file,
         * leave the WAL for it. */
        int lrc = p->vfs->lock(p->db, OS_LOCK_EXCLUSIVE);
        int src = lrc == 0 ? pager_shm_guard(p) : 0;
        if (lrc < 0 && lrc != FOLIO_BUSY)
            rc = lrc; /* not another process: the final checkpoint could not run */
        else if (src < 0 && src != FOLIO_BUSY)
            rc = src;
        if (lrc == 0 && src == 0) {
            p->lock_level = OS_LOCK_EXCLUSIVE;
            char err[256];
            int refreshed = pager_refresh(p);
            if (refreshed == 0 && (wal_mx(p->wal) || wal_file_bytes(p->wal))) {
                rc = pager_checkpoint(p, FOLIO_CHECKPOINT_TRUNCATE, NULL, NULL, err, sizeof err);
                if (rc == 0 && wal_backfilled(p->wal) == wal_mx(p->wal))
                    rc = wal_delete_file(p->wal);
            } else if (refreshed == 0) {
                rc = wal_delete_file(p->wal);
            }
            if (rc == 0) {
                /* A -shm left by sqlite3 is rebuilt by it; remove it so the
                 * database is one self-contained file. */
                size_t n = strlen(p->path);
                char *shm = os_malloc(n + 5);
                if (shm) {
                    memcpy(shm, p->path, n);
                    memcpy(shm + n, "-shm", 5);
                    p->vfs->remove(p->vfs, shm);
                    os_free(shm);
                }
            }
        }
    }
    pager_shm_release(p);
    if (p->db) {
        p->vfs->lock(p->db, OS_LOCK_NONE);
        p->vfs->close(p->db);
    }
    wal_close(p->wal);
    ptxn_free(p->wspare);
    ptxn_free(p->rspare);
    p->wspare = p->rspare = NULL;
    uint32_t cached = 0;
    for (uint32_t i = 0; i < p->nslot; i++)
        for (pg *e = p->slot[i]; e; e = e->hnext)
            cached++;
    uint32_t lost = pg_slabs_free(p, cached);
    /* Debug builds (the test suite) treat a lost page object as the leak it
     * is: LeakSanitizer cannot see inside the slabs. */
    assert(lost == 0);
    (void)lost;
    if (p->map)
        p->vfs->unmap_file(p->map, p->map_bytes);
    os_free(p->slot);
    os_free(p->readers);
    os_free(p->shm_path);
    os_free(p->path);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cond);
    pthread_cond_destroy(&p->bg_cond);
    pthread_mutex_destroy(&p->pg_mu);
    os_free(p);
    return rc;
}

uint32_t pager_page_size(const pager *p)
{
    return p->page_size;
}
uint32_t pager_usable_size(const pager *p)
{
    return p->usable;
}
const char *pager_path(const pager *p)
{
    return p->path;
}
int pager_readonly(const pager *p)
{
    return p->readonly;
}
/* A work buffer carries its capacity in the 16 bytes before it. */
void *ptxn_buf_get(ptxn *t, size_t n)
{
    int best = -1;
    size_t best_cap = 0;
    for (uint32_t i = 0; i < t->nbufs; i++) {
        size_t cap = *(size_t *)(void *)((char *)t->bufs[i] - 16);
        if (cap >= n && (best < 0 || cap < best_cap)) {
            best = (int)i;
            best_cap = cap;
        }
    }
    if (best >= 0) {
        void *b = t->bufs[best];
        t->bufs[best] = t->bufs[--t->nbufs];
        return b;
    }
    /* New buffers are made large enough for a rebalance's biggest need (six
     * pages of cells and their list): the handle keeps them (pager->wspare),
     * so that after its first splits no later one calls the allocator. */
    size_t cap = (size_t)32 * t->p->page_size + 256;
    while (cap < n) {
        if (cap > SIZE_MAX / 4)
            return NULL;
        cap *= 2;
    }
    char *raw = os_malloc(cap + 16);
    if (!raw)
        return NULL;
    *(size_t *)(void *)raw = cap;
    return raw + 16;
}

void ptxn_buf_put(ptxn *t, void *buf)
{
    if (!buf)
        return;
    if (t->nbufs < sizeof t->bufs / sizeof t->bufs[0]) {
        t->bufs[t->nbufs++] = buf;
        return;
    }
    /* Full: the smallest of them all goes. */
    size_t cap = *(size_t *)(void *)((char *)buf - 16);
    for (uint32_t i = 0; i < t->nbufs; i++) {
        size_t c = *(size_t *)(void *)((char *)t->bufs[i] - 16);
        if (c < cap) {
            void *x = t->bufs[i];
            t->bufs[i] = buf;
            buf = x;
            cap = c;
        }
    }
    os_free((char *)buf - 16);
}

const fmt_dbheader *ptxn_header(const ptxn *t)
{
    return &t->hdr;
}
uint32_t ptxn_npages(const ptxn *t)
{
    return t->npages;
}
int ptxn_is_write(const ptxn *t)
{
    return t->write;
}
uint64_t *ptxn_gen(ptxn *t)
{
    return &t->gen;
}
pager *ptxn_pager(const ptxn *t)
{
    return t->p;
}

/* ---- readers registry ---- */

static int readers_add(pager *p, ptxn *t)
{
    if (p->nreaders == p->readers_cap) {
        uint32_t n = p->readers_cap ? p->readers_cap * 2 : 8;
        ptxn **v = os_realloc(p->readers, n * sizeof *v);
        if (!v)
            return FOLIO_NOMEM;
        p->readers = v;
        p->readers_cap = n;
    }
    p->readers[p->nreaders++] = t;
    return 0;
}

static void readers_remove(pager *p, ptxn *t)
{
    for (uint32_t i = 0; i < p->nreaders; i++) {
        if (p->readers[i] == t) {
            p->readers[i] = p->readers[--p->nreaders];
            return;
        }
    }
}

/* The oldest frame any live snapshot needs; UINT32_MAX when none. */
uint32_t pager_readers_min_mx(const pager *p)
{
    uint32_t m = UINT32_MAX;
    for (uint32_t i = 0; i < p->nreaders; i++)
        if (!p->readers[i]->write && p->readers[i]->mx < m)
            m = p->readers[i]->mx;
    return m;
}

int pager_readers_use_wal(const pager *p)
{
    for (uint32_t i = 0; i < p->nreaders; i++)
        if (!p->readers[i]->write && p->readers[i]->mx > 0)
            return 1;
    return 0;
}

/* ---- transactions ---- */

static int wait_writer(pager *p, unsigned busy_timeout_ms)
{
    uint64_t deadline = p->vfs->now_ms(p->vfs) + busy_timeout_ms;
    while (p->writer || (p->ckpt_running && p->ckpt_excl)) {
        uint64_t now = p->vfs->now_ms(p->vfs);
        if (now >= deadline)
            return FOLIO_BUSY;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t wait_ms = deadline - now;
        ts.tv_sec += (time_t)(wait_ms / 1000);
        ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&p->cond, &p->mu, &ts);
    }
    return 0;
}

/* Take the file lock for writing, retrying until the busy timeout. */
static int lock_file_for_write(pager *p, unsigned busy_timeout_ms)
{
    uint64_t deadline = p->vfs->now_ms(p->vfs) + busy_timeout_ms;
    unsigned nap = 1;
    for (;;) {
        int rc = file_lock_update(p);
        if (rc != FOLIO_BUSY)
            return rc;
        if (p->vfs->now_ms(p->vfs) >= deadline)
            return FOLIO_BUSY;
        pthread_mutex_unlock(&p->mu);
        p->vfs->sleep_ms(p->vfs, nap);
        pthread_mutex_lock(&p->mu);
        if (nap < 50)
            nap *= 2;
    }
}

/* Under mu: the last transaction's object of this kind, emptied but for
 * what it grew (its dirty set and index, cleared; statement log and arena;
 * work buffers), or a new one (allocated with mu let go meanwhile). */
static ptxn *spare_take_locked(pager *p, int write)
{
    ptxn **slot = write ? &p->wspare : &p->rspare;
    ptxn *t = *slot;
    *slot = NULL;
    if (t) {
        memset(t, 0, PTXN_KEPT);
        return t;
    }
    pthread_mutex_unlock(&p->mu);
    t = os_calloc(1, sizeof *t);
    pthread_mutex_lock(&p->mu);
    return t;
}

/*
 * The map of the database file that read transactions read pages from in
 * place (pager_config.mmap_bytes). It covers the file as it is now, up to the
 * limit, and grows with the file when no transaction holds it. Safe to read
 * because a transaction only reads pages of its snapshot that have no WAL
 * version: those lie in the file, which nothing truncates below a live
 * snapshot's pages (a checkpoint shrinks the file only when every snapshot
 * is the newest). Call with mu held.
 */
static void map_update(pager *p)
{
    uint64_t want = p->db_bytes < p->map_limit ? p->db_bytes : p->map_limit;
    want -= want % p->page_size;
    if (want <= p->map_bytes || p->map_users)
        return;
    void *m = NULL;
    if (p->vfs->map_file(p->db, want, &m) < 0) {
        p->map_limit = 0; /* reads go through the cache from now on */
        return;
    }
    if (p->map)
        p->vfs->unmap_file(p->map, p->map_bytes);
    p->map = m;
    p->map_bytes = want;
}

/* A page object for page `pgno` read in place from the map. */
static pg *map_page(ptxn *t, uint32_t pgno)
{
    if (!t->mfree) {
        enum { PER_BLOCK = 32 };
        pg *b = os_malloc(sizeof *b * (PER_BLOCK + 1));
        if (!b)
            return NULL;
        b[0].hnext = t->mblocks;
        t->mblocks = b;
        for (int i = 1; i <= PER_BLOCK; i++) {
            b[i].hnext = t->mfree;
            t->mfree = &b[i];
        }
    }
    pg *e = t->mfree;
    t->mfree = e->hnext;
    memset(e, 0, sizeof *e);
    e->data = (uint8_t *)t->map + (size_t)(pgno - 1) * t->p->page_size;
    e->pgno = pgno;
    e->ref = 1;
    e->mapped = 1;
    e->owner = t->p;
    e->mtxn = t;
    return e;
}

/* pager_get for a page with no WAL version in the snapshot, from the map. */
static int map_get(pg **out, ptxn *t, uint32_t pgno)
{
    pg *e = map_page(t, pgno);
    if (!e) {
        snprintf(t->err, sizeof t->err, "out of memory reading page %u", pgno);
        return FOLIO_NOMEM;
    }
    *out = e;
    return 0;
}

int pager_begin(ptxn **out, pager *p, int write, unsigned busy_timeout_ms, char *err, size_t errlen)
{
    int rc;
    *out = NULL;
    if (write && p->readonly) {
        set_err(err, errlen, "the database is open read-only");
        return FOLIO_READONLY;
    }
    pthread_mutex_lock(&p->mu);
    ptxn *t = spare_take_locked(p, write);
    if (!t) {
        pthread_mutex_unlock(&p->mu);
        return FOLIO_NOMEM;
    }
    t->p = p;
    t->write = write;
    int prev_level = OS_LOCK_EXCLUSIVE;
    if (write) {
        if ((rc = wait_writer(p, busy_timeout_ms)) < 0) {
            set_err(err, errlen, "database is locked by another write transaction");
            goto fail;
        }
        p->writer = t;
        prev_level = p->lock_level;
        if ((rc = lock_file_for_write(p, busy_timeout_ms)) < 0) {
            p->writer = NULL;
            set_err(err, errlen,
                    rc == FOLIO_BUSY ? "database is locked by another process"
                                     : "cannot lock the database file");
            file_lock_update(p);
            goto fail;
        }
        if ((rc = pager_shm_guard(p)) < 0) {
            p->writer = NULL;
            pager_shm_release(p);
            set_err(err, errlen,
                    rc == FOLIO_BUSY ? "database is locked: a sqlite3 connection has it open"
                                     : "cannot open the -shm file");
            file_lock_update(p);
            goto fail;
        }
    } else {
        /* Count ourselves first so the file lock covers this transaction. */
    }
    /* The first transaction after the file lock was let go looks for other
     * processes' changes. A running checkpoint holds the lock, and looked
     * when it took it. */
    int first = (p->nreaders == 0 && (!p->writer || p->writer == t) && !p->ckpt_running);
    if ((rc = readers_add(p, t)) < 0)
        goto fail_writer;
    if (!write && (rc = file_lock_update(p)) < 0) {
        set_err(err, errlen,
                rc == FOLIO_BUSY ? "database is locked by another process"
                                 : "cannot lock the database file");
        readers_remove(p, t);
        goto fail;
    }
    /* A writer that had to take the exclusive lock looks too, even beside
     * readers of ours: under their shared lock a sqlite3 process may have
     * committed in WAL mode (and closed), and new frames must go after its. */
    if (write && prev_level < OS_LOCK_EXCLUSIVE)
        first = 1;
    if (first && (rc = pager_refresh(p)) < 0) {
        set_err(err, errlen, "cannot read the database or its WAL");
        readers_remove(p, t);
        goto fail_writer;
    }
    if (write && p->ckpt_running && p->autockpt && wal_mx(p->wal) >= pager_wal_bound(p)) {
        /* The background checkpoint lets writers go on, but the WAL starts
         * over only when it is all copied: past the bound, wait for it. */
        while (p->ckpt_running)
            pthread_cond_wait(&p->cond, &p->mu);
    }
    int restart_ok = !pager_readers_use_wal(p) && !p->ckpt_running;
    if (write && wal_restart_due(p->wal, restart_ok))
        pager_cache_rekey_to_file(p);
    if (write && (rc = wal_maybe_restart(p->wal, restart_ok)) < 0) {
        set_err(err, errlen, "cannot restart the WAL");
        readers_remove(p, t);
        goto fail_writer;
    }
    if (write && wal_mx(p->wal) && wal_backfilled(p->wal) == wal_mx(p->wal) &&
        !pager_readers_use_wal(p)) {
        /* Nothing in the WAL is newer than the database file. */
    }
    t->mx = wal_mx(p->wal);
    if (!write && t->mx && wal_backfilled(p->wal) == t->mx)
        t->mx = 0; /* invariant (6): the file holds everything */
    t->npages = snapshot_npages(p, wal_mx(p->wal));
    /* Pages past the committed end go straight to the file, unless an old
     * frame of that page number is still in the WAL (the database was once
     * larger): a checkpoint would copy that frame over the new page. */
    t->base_npages = t->npages;
    if (write && wal_max_pgno(p->wal) > t->base_npages)
        t->base_npages = wal_max_pgno(p->wal);
    t->direct_ok = write && p->db_bytes >= 512 && fmt_dbheader_magic_ok(p->db_hdr_raw);
    t->map = NULL;
    t->map_pages = 0;
    if (!write && p->map_limit) {
        map_update(p);
        if (p->map) {
            /* Never past the file as last seen: a map longer than the file
             * (it shrank since) must not be read there. */
            uint64_t n = p->map_bytes < p->db_bytes ? p->map_bytes : p->db_bytes;
            t->map = p->map;
            t->map_pages = (uint32_t)(n / p->page_size);
            p->map_users++;
        }
    }
    pthread_mutex_unlock(&p->mu);
    if ((rc = snapshot_header(t, err, errlen)) < 0) {
        pager_end(t);
        return rc;
    }
    *out = t;
    return 0;
fail_writer:
    if (write) {
        p->writer = NULL;
        if (!p->ckpt_running)
            pager_shm_release(p);
        file_lock_update(p);
        pthread_cond_broadcast(&p->cond);
    }
fail:
    pthread_mutex_unlock(&p->mu);
    ptxn_free(t);
    return rc;
}

static void dirty_drop_all(ptxn *t)
{
    ptxn_dirty_index_clear(t);
    for (uint32_t i = 0; i < t->ndirty; i++)
        pager_pg_release(t->p, t->dirty[i]);
    t->ndirty = 0;
}

void pager_end(ptxn *t)
{
    if (!t)
        return;
    pager *p = t->p;
    if (t->write)
        ptxn_wb_wait(t); /* a rollback's pages: written or not, they go */
    pthread_mutex_lock(&p->mu);
    if (t->write) {
        p->npages_mem -= t->ndirty;
        dirty_drop_all(t);
        if (t->spilled) {
            /* Frames written past the last commit are garbage now; cached
             * images of them must not be found by a later writer. */
            wal_discard_uncommitted(p->wal);
            uint32_t mx = wal_mx(p->wal);
            cache_drop_if(p, pred_frame_above, &mx);
        }
        p->writer = NULL;
        if (!p->ckpt_running)
            pager_shm_release(p);
        pthread_cond_broadcast(&p->cond);
    }
    readers_remove(p, t);
    if (t->map) {
        p->map_users--;
        t->map = NULL;
    }
    file_lock_update(p);
    if (!t->write)
        pthread_cond_broadcast(&p->cond); /* a checkpoint may wait for readers */
    pager_cache_trim(p);
    cache_check_sometimes(p);
    ptxn **spare = t->write ? &p->wspare : &p->rspare;
    if (!*spare) {
        *spare = t; /* kept, buffers and all, for the next transaction of its kind */
        t = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    ptxn_free(t);
}

/* ---- page access ---- */

static pg *dirty_find(const ptxn *t, uint32_t pgno)
{
    if (!t->ndslot)
        return NULL;
    uint32_t mask = t->ndslot - 1;
    for (uint32_t i = (pgno * 2654435761u) & mask;; i = (i + 1) & mask) {
        pg *e = t->dslot[i];
        if (!e)
            return NULL;
        if (e->pgno == pgno)
            return e;
    }
}

int pager_get(pg **out, ptxn *t, uint32_t pgno)
{
    pager *p = t->p;
    *out = NULL;
    if (pgno == 0 || pgno > t->npages) {
        snprintf(t->err, sizeof t->err, "page %u: out of range (database has %u pages)", pgno,
                 t->npages);
        return FOLIO_CORRUPT;
    }
    if (t->write) {
        pg *d = dirty_find(t, pgno);
        if (d) {
            d->ref++;
            *out = d;
            return 0;
        }
        if (ptxn_is_direct(t, pgno))
            return pager_load_new_page(out, t, pgno);
    } else if (pgno <= t->map_pages && !t->mx) {
        return map_get(out, t, pgno); /* no WAL in this snapshot: no lock either */
    }
    pthread_mutex_lock(&p->mu);
    uint32_t frame = t->mx ? wal_find(p->wal, pgno, t->mx) : 0;
    if (frame == 0 && pgno <= t->map_pages) { /* read transactions only */
        pthread_mutex_unlock(&p->mu);
        return map_get(out, t, pgno);
    }
    pg *e = cache_find(p, pgno, frame);
    if (e) {
        e->ref++;
        e->used = 1;
        pthread_mutex_unlock(&p->mu);
        *out = e;
        return 0;
    }
    e = page_new(p);
    if (!e) {
        pthread_mutex_unlock(&p->mu);
        snprintf(t->err, sizeof t->err, "out of memory reading page %u", pgno);
        return FOLIO_NOMEM;
    }
    int rc;
    if (frame)
        rc = wal_read_frame(p->wal, frame, e->data);
    else
        rc = p->vfs->read(p->db, e->data, p->page_size, (uint64_t)(pgno - 1) * p->page_size, NULL);
    if (rc < 0) {
        page_free(p, e);
        pthread_mutex_unlock(&p->mu);
        snprintf(t->err, sizeof t->err, "I/O error reading page %u", pgno);
        return rc;
    }
    e->pgno = pgno;
    e->frame = frame;
    e->ref = 1;
    pager_cache_link(p, e);
    pager_cache_trim(p);
    pthread_mutex_unlock(&p->mu);
    *out = e;
    return 0;
}

void pager_unref(pg *e)
{
    if (!e)
        return;
    if (e->dirty) { /* private to the writing thread */
        assert(e->ref > 0);
        e->ref--;
        return;
    }
    if (e->mapped) { /* private to its read transaction */
        assert(e->ref > 0);
        if (--e->ref == 0) {
            ptxn *t = e->mtxn;
            e->hnext = t->mfree;
            t->mfree = e;
        }
        return;
    }
    pager *p = e->owner;
    pthread_mutex_lock(&p->mu);
    assert(e->ref > 0);
    if (--e->ref == 0 && !e->in_hash)
        page_free(p, e);
    pthread_mutex_unlock(&p->mu);
}
