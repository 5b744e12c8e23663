/*
 * pager_cache.c - the page cache: page objects (slabs), the shared cache of
 * clean page images keyed by (page number, WAL frame), its clock eviction,
 * and how it follows the database file and the WAL (pages checkpointed,
 * the WAL starting over).
 *
 * Invariants (see pager.c for the whole list): (1) and (2) say what a cached
 * image holds; (4) is checked here by cache_check in debug builds.
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
uint32_t pager_pg_slabs_free(pager *p, uint32_t cached)
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
    return (pager_pgno_hash(pgno) ^ (frame * 40503u)) & (p->nslot - 1);
}

pg *pager_cache_find(pager *p, uint32_t pgno, uint32_t frame)
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
            uint32_t j = (pager_pgno_hash(e->pgno) ^ (e->frame * 40503u)) & (n - 1);
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

void pager_page_free(pager *p, pg *e)
{
    p->npages_mem--;
    pager_pg_release(p, e);
}

void pager_cache_drop_unhashed(pager *p, pg *e)
{
    ring_unlink(p, e);
    if (e->ref == 0)
        pager_page_free(p, e);
}

void pager_cache_forget(pager *p, uint32_t pgno, uint32_t frame)
{
    pg *e = pager_cache_find(p, pgno, frame);
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
        if (e->ref == 0 && !e->used) {
            PAGER_COUNT(p, cache_evictions, 1);
            return e;
        }
        e->used = 0;
        if (e != p->ring_tail) {
            ring_unlink(p, e);
            ring_push(p, e);
        }
    }
    return NULL;
}

pg *pager_page_new(pager *p)
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
    /* Invariant (1): a cached frame is one the WAL has written. */
    uint32_t written = p->wal ? wal_nframes(p->wal) : 0;
    for (const pg *e = p->ring_head; e; e = e->lnext)
        assert(e->frame <= written);
    (void)written;
    /* (5) and (6): one writer, the handle's; a snapshot that reads the file
     * alone holds READ0 (or is a legacy handle's). */
    int writers = 0;
    for (uint32_t i = 0; i < p->nreaders; i++) {
        const ptxn *t = p->readers[i];
        int w = t->write && !t->conc;
        writers += w;
        assert(!w || t == p->writer);
        assert(w || t->mx != 0 || t->rslot == 0 || t->legacy_lock);
        assert(!w || t->rslot < 0);
    }
    assert(writers <= 1);
    (void)writers;
}

/* After a transaction, now and then: often enough for the tests to cover
 * every path, rarely enough that a large cache does not slow them down. */
void pager_cache_check_sometimes(pager *p)
{
    if (p->check_skip > 0) {
        p->check_skip--;
        return;
    }
    cache_check(p);
    p->check_skip = (p->ncached + p->nslot) / 1024;
}
#else
void pager_cache_check_sometimes(pager *p)
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
        pager_page_free(p, e);
    }
}

/* Drop every unpinned cached page matching `pred`. */
/* Unhash the images `pred` picks: unpinned ones go at once, pinned ones
 * when let go (a later lookup must not find them: their frame numbers are
 * written again). */
static void cache_drop_if(pager *p, int (*pred)(pager *, pg *, void *), void *arg)
{
    for (uint32_t i = 0; i < p->nslot; i++) {
        pg **pp = &p->slot[i];
        while (*pp) {
            pg *e = *pp;
            if (pred(p, e, arg)) {
                *pp = e->hnext;
                e->in_hash = 0;
                p->ncached--;
                pager_cache_drop_unhashed(p, e);
            } else {
                pp = &e->hnext;
            }
        }
    }
}

static int pred_frame_above(pager *p, pg *e, void *arg)
{
    (void)p;
    return e->frame > *(uint32_t *)arg;
}

void pager_cache_drop_frames_above(pager *p, uint32_t mx)
{
    cache_drop_if(p, pred_frame_above, &mx);
}

static int pred_page_above(pager *p, pg *e, void *arg)
{
    (void)p;
    return e->pgno > *(uint32_t *)arg;
}

void pager_cache_drop_pages_above(pager *p, uint32_t npages)
{
    cache_drop_if(p, pred_page_above, &npages);
}

void pager_cache_drop_all(pager *p)
{
    /* Pinned images go too: they leave the hash now and are freed when let
     * go, so that no later lookup can find a version that means something
     * else now. */
    for (uint32_t i = 0; i < p->nslot; i++) {
        while (p->slot[i]) {
            pg *e = p->slot[i];
            p->slot[i] = e->hnext;
            e->hnext = NULL;
            e->in_hash = 0;
            p->ncached--;
            pager_cache_drop_unhashed(p, e);
        }
    }
}

uint32_t pager_cache_count(const pager *p)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->nslot; i++)
        for (pg *e = p->slot[i]; e; e = e->hnext)
            n++;
    return n;
}

/* After a complete checkpoint the WAL starts over: cached WAL images that are
 * the newest version of their page are now the file's image. */
void pager_cache_rekey_to_file(pager *p)
{
    uint32_t mx = wal_mx(p->wal);
    pg *moved = NULL;
    for (uint32_t i = 0; i < p->nslot; i++) {
        pg **pp = &p->slot[i];
        while (*pp) {
            pg *e = *pp;
            if (e->frame == 0) {
                pp = &e->hnext;
                continue;
            }
            *pp = e->hnext;
            p->ncached--;
            e->in_hash = 0;
            /* (Page 1 excepted: the checkpoint that copied it to the end
             * stamped the file's image with the version of the whole
             * state, so that it differs from the frame's.) */
            if (e->pgno != 1 && wal_find(p->wal, e->pgno, mx) == e->frame) {
                e->hnext = moved;
                moved = e;
            } else {
                pager_cache_drop_unhashed(p, e);
            }
        }
    }
    while (moved) {
        pg *e = moved;
        moved = e->hnext;
        e->frame = 0;
        uint32_t s = cache_slot(p, e->pgno, 0);
        /* An older image of the file's page may be cached: it is stale now. */
        for (pg **pp = &p->slot[s]; *pp;) {
            pg *x = *pp;
            if (x->pgno == e->pgno && x->frame == 0) {
                *pp = x->hnext;
                x->in_hash = 0;
                p->ncached--;
                pager_cache_drop_unhashed(p, x);
                continue;
            }
            pp = &x->hnext;
        }
        e->hnext = p->slot[s];
        p->slot[s] = e;
        e->in_hash = 1;
        p->ncached++;
    }
}
