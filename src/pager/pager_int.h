/*
 * pager_int.h - the pager's private structures, shared by its files:
 *   pager_cache.c  page objects and the shared cache of clean images
 *   pager.c        open and close, transactions (locks, snapshots), reads
 *   pager_write.c  the dirty set, spilling, statements, allocation, commit
 *   pager_ckpt.c   checkpoints and the background checkpoint thread
 */
#ifndef FOLIO_PAGER_INT_H
#define FOLIO_PAGER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "pager/pager.h"
#include "wal/wal.h"

/* A writer waits for the background checkpoint once the WAL holds this many
 * times wal_autocheckpoint frames, so that the WAL can start over. With
 * FOLIO_SYNC_FULL, once: every commit syncs the WAL, and a sync of a WAL
 * that grew past its largest size so far also commits the file system's
 * journal (the file's size changed); starting over as soon as SQLite does
 * keeps the file at its size. */
#define PAGER_WAL_BOUND 4

/* The pager's counters (pager_counters_get), relaxed atomics: some events
 * happen under mu, others (checkpoint copies, write-behind, syncs) outside
 * it. */
struct pager_atomic_counters {
    _Atomic uint64_t cache_hits, cache_misses, cache_evictions, pages_mapped;
    _Atomic uint64_t pages_read_db, pages_written_db, db_syncs;
    _Atomic uint64_t checkpoints, checkpoint_pages, checkpoint_us, checkpoints_short;
    _Atomic uint64_t commits, rollbacks, busy_waits, pages_spilled;
    _Atomic uint64_t checkpoint_last_unix_us; /* when the last one ended */
    _Atomic uint64_t above[PAGER_ABOVE_SLOTS];
};

#define PAGER_COUNT(p, field, n)                                                                   \
    atomic_fetch_add_explicit(&(p)->counters.field, (uint64_t)(n), memory_order_relaxed)

struct pager {
    os_vfs *vfs;
    os_file *db;
    wal *wal;
    char *path;
    int readonly;
    int sync;
    uint32_t autockpt;
    uint32_t page_size;
    uint32_t usable;
    uint64_t db_bytes;                     /* size of the database file as last seen */
    uint8_t db_hdr_raw[FMT_DBHEADER_SIZE]; /* its first 100 bytes as last seen */
    uint64_t db_stamp;                     /* its modification stamp then (vfs file_stamp) */
    int db_stamp_valid;
    int lock_level;     /* of the database file: SHARED from open to close (WAL mode) */
    int legacy;         /* no WAL: a read-only handle on a rollback-journal database,
                           which takes SHARED per transaction and reads the file alone */
    int legacy_wal;     /* ... or on a WAL database with no WAL and no -shm to be had
                           (read-only media): a WAL appearing ends that */
    int db_stale;       /* a checkpoint changed the file: size and header to re-read */
    uint64_t map_limit; /* pager_config.mmap_bytes (0 once mapping failed) */
    unsigned busy_timeout_ms;

    pthread_mutex_t mu; /* guards everything below and the WAL object */
    pthread_cond_t cond;
    ptxn *writer;
    /* Writers of this handle waiting for the writer lock, in arrival order
     * (the head goes next). */
    struct pager_waiter *wq_head, *wq_tail;
    /* Group commit (FOLIO_SYNC_FULL): a commit stages its frames, hands the
     * writer role on, and waits until a sync covers it; one of the waiting
     * committers syncs for all of them, publishes, and settles each waiting
     * commit's outcome (gw_head lists the unsettled ones). stage_seq numbers
     * the staged commits, failed_seq is the last one whose sync failed.
     * WRITE stays held while any is staged. */
    uint64_t stage_seq, failed_seq;
    /* Versions (pager_version.c): the commit frames of the WAL generation
     * cf_gen known so far, in order, complete up to frame cf_scanned. */
    uint32_t *cf;
    uint32_t cf_n, cf_cap, cf_scanned;
    uint8_t cf_gen[8];
    int cf_valid;
    uint64_t ver_high; /* the highest version this handle committed or saw as the newest */
    /* Called at each commit of a database whose stamp has FMT_VSTAMP_LOG
     * (pager_set_commit_hook). */
    int (*commit_hook)(void *arg, ptxn *t, uint64_t version);
    void *commit_hook_arg;
    /* Called before the WAL is synced (a commit's group sync, a checkpoint):
     * what the commit hook wrote must be durable first. */
    int (*sync_hook)(void *arg);
    void *sync_hook_arg;
    struct group_waiter *gw_head;
    int syncing;
    pthread_cond_t sync_cv;   /* committers waiting for their sync */
    pthread_cond_t syncer_cv; /* the syncer waiting for the writer to stage */
    int syncer_waits;
    uint32_t nconc;   /* live concurrent transactions: each may come to commit soon */
    uint64_t sync_us; /* how long the last sync took */
    int ckpt_running;
    int ckpt_excl; /* the running checkpoint keeps writers out (every one but
                      the background thread's) */
    /* The background checkpoint thread (see pager_write.c). A commit that
     * wants a checkpoint claims it (ckpt_running, without ckpt_excl) before
     * it lets go of the file lock, and wakes the thread with bg_go. */
    int inline_ckpt;
    int bg_started, bg_go, bg_exit;
    pthread_t bg_thread;
    pthread_cond_t bg_cond;
    /* The database file's map (map_update): read transactions that take it
     * count in map_users, and it is replaced only when there are none. */
    uint8_t *map;
    uint64_t map_bytes;
    uint32_t map_users;
    ptxn **readers; /* every live transaction, the writer included */
    uint32_t nreaders, readers_cap;

    /* Page objects (header and image) come from slabs that grow
     * geometrically and are freed at close; released ones wait on a free
     * list. pg_mu guards these alone (callers may or may not hold mu). */
    pthread_mutex_t pg_mu;
    pg *pg_free;
    void **slabs;             /* each slab: the pointer to the previous one, then pages */
    uint32_t nslabs_pages;    /* pages in all slabs */
    uint32_t pg_nfree;        /* on the free list */
    uint32_t next_slab_pages; /* size of the next slab */
    int slab_reserved;        /* the rest of the budget was asked for in one slab */
    char *slab_next;          /* the newest slab's first object not handed out */
    uint32_t slab_left;       /* objects left there */
    ptxn *wspare;             /* a finished write transaction's object, kept (under mu) with
                                 its dirty set, statement log and work buffers for the next */
    ptxn *rspare;             /* and a finished read transaction's */
    pg **slot;                /* cache hash of clean pages by (pgno, frame) */
    uint32_t nslot;
    uint32_t ncached;
    size_t npages_mem; /* page images allocated: cached and dirty */
    size_t max_pages;
    pg *ring_head, *ring_tail; /* eviction ring: every cached page (see pager.c) */
    uint32_t check_skip;       /* debug builds: transactions until the next cache_check */
    char ckpt_note[160];       /* why the last checkpoint stopped short, or "" */
    /* The WAL's last frame when the last checkpoint stopped short of it (a
     * reader's snapshot held it back), 0 when it reached the end (atomic):
     * the next automatic one waits for autockpt more frames, not for the
     * next commit, so that readers that keep snapshots never make every
     * commit pay for a checkpoint that copies nothing. */
    uint32_t ckpt_short_mx;
    struct pager_atomic_counters counters;
};

/* The one page-number hash of the pager: the dirty index's slots, and with
 * the frame mixed in, the cache's. */
static inline uint32_t pager_pgno_hash(uint32_t pgno)
{
    return pgno * 2654435761u;
}

/* The writer role goes (mu held); WRITE too, unless commits are staged
 * (their publisher lets go of it). */
void pager_writer_release(pager *p);

static inline uint32_t pager_wal_bound(const pager *p)
{
    return (p->sync == FOLIO_SYNC_FULL ? 1u : PAGER_WAL_BOUND) * p->autockpt;
}

/* One undo record of the current statement: the page was clean before it
 * (len 0, restore from the snapshot), or bytes [off, off+len) of it were
 * saved at arena offset `at` (the whole page when len == page size). */
struct stmt_entry {
    uint32_t pgno;
    uint32_t off, len;
    size_t at;
    int was_clean;
};

/* A staged commit waiting for its sync (on the committer's stack). */
struct group_waiter {
    struct group_waiter *next;
    uint64_t seq;
    int done; /* settled by a syncer: rc says how */
    int rc;
};

struct pager_waiter {
    struct pager_waiter *next;
    pthread_cond_t cv; /* signalled when it may be this writer's turn */
};

/* Microseconds of a monotonic clock; a wait on `cv` of at most `us`. */
uint64_t pager_now_us(void);
void pager_cond_wait_us(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t us);

/* Wake the writer at the head of the queue (mu held). */
void pager_wake_writers(pager *p);

struct ptxn {
    pager *p;
    int write;
    /* A concurrent transaction (pager_begin with PAGER_CONCURRENT): write is
     * set, but it holds a read mark on its snapshot instead of the writer
     * role; its dirty pages are private and never reach a file (never
     * spilled, never written behind); what it changes is recorded in its
     * change log (ptxn_log) for the layer above to apply at commit. */
    int conc;
    int track_reads;    /* serializable: cursors log their reads */
    int log_changes;    /* a plain writer logs its changes for the commit log */
    uint32_t snap_seq;  /* the WAL's generation (checkpoint sequence) of the snapshot */
    size_t clog_n;      /* bytes of clog in use */
    size_t stmt_clog_n; /* ... when the current statement began */
    int rslot;          /* read transactions: the WAL read lock held (-1: none) */
    int legacy_lock;    /* it counts in the SHARED lock of a legacy handle */
    int ckpt_held;      /* a writer holds CKPT: its new pages may go to the file */
    uint32_t mx;        /* snapshot: the last frame visible (the writer's own spilled frames too) */

    /* Counting (pager_counters_get): pages read through the map, added to
     * the pager's count when the transaction ends; a commit ends it, not a
     * rollback. */
    uint64_t n_mapped;
    int committed;

    uint64_t failed_seq;  /* writers: pager.failed_seq when it began */
    uint32_t npages;      /* database size in pages */
    uint32_t npages0;     /* ... when the transaction began */
    uint32_t base_npages; /* committed size when the write began (or the largest
                             page number in the WAL, if larger): pages past it
                             are new and go straight to the database file */
    int direct_written;   /* new pages were written to the database file */
    int direct_ok;        /* new pages may go to the database file: it holds a valid page 1
                             of its own, and no checkpoint can cut the file (ckpt_held once
                             the first goes) */
    fmt_dbheader hdr;
    /* The snapshot's version stamp (page 1) and WAL generation; its version
     * once computed (ptxn_version). */
    fmt_vstamp stamp;
    int stamp_ok;
    uint8_t snap_gen[8];
    int version_known;
    uint64_t version;
    uint8_t vflags_set, vflags_clear; /* stamp flags this commit sets and clears */
    uint32_t mx0;                     /* writers: the committed end of the WAL at begin */
    /* write transactions */
    uint32_t ndirty; /* pages in dirty[] */
    int spilled;     /* frames of this transaction already in the WAL */
    int hdr_dirty;   /* hdr must be written to page 1 at commit */
    uint64_t gen;    /* b-tree mutations so far (bt_generation) */
    /* Read transactions: pages 1..map_pages with no WAL version are read in
     * place from the file's map (NULL: none). */
    const uint8_t *map;
    uint32_t map_pages;
    /* New pages on their way to the database file (write-behind): a thread
     * writes them while the transaction goes on; they left the dirty set
     * and are let go once written (wb_wait). */
    pg **wb_pages; /* NULL when none are in flight */
    uint32_t wb_n;
    uint8_t *wb_buf; /* where runs of them are gathered for one write */
    int wb_rc;
    int wb_lost;    /* a write-behind failed (its code): its pages are gone,
                       so the transaction can only roll back */
    int wb_running; /* wb_thread was started and not yet joined */
    pthread_t wb_thread;
    /* the current statement (see pager_stmt_begin) */
    int stmt_active;
    int stmt_spilled;
    uint32_t stmt_seq;
    uint32_t stmt_npages;
    uint32_t stmt_mx;
    int stmt_hdr_dirty;
    fmt_dbheader stmt_hdr;
    uint32_t stmt_n;  /* entries in stmt_log */
    size_t stmt_used; /* bytes of stmt_arena */
    char err[256];
    /* Kept when the handle reuses the object for its next transaction
     * (PTXN_KEPT): every field from here on. The arrays are empty then. */
    pg **dirty;    /* private copies, in the order they were made dirty */
    uint8_t *clog; /* concurrent transactions: the change log */
    size_t clog_cap;
    uint32_t dirty_cap;
    pg **dslot; /* open-addressing index of dirty by pgno */
    uint32_t ndslot;
    struct stmt_entry *stmt_log;
    uint32_t stmt_cap;
    uint8_t *stmt_arena; /* saved bytes; kept between statements */
    size_t stmt_arena_cap;
    void *bufs[16]; /* work buffers given back (ptxn_buf_put), for reuse */
    uint32_t nbufs;
    /* Page objects for pages read from the map: a free list, and the blocks
     * they come in (each block's first object links to the next block). */
    pg *mfree;
    pg *mblocks;
};

/* Where the fields a reused transaction object keeps begin. */
#define PTXN_KEPT offsetof(ptxn, dirty)

/** Wait for the new pages being written behind (if any), then let them go.
 * Returns the write's error, if it failed. Never with p->mu held. */
int ptxn_wb_wait(ptxn *t);

/* A page past the committed end that the writer spilled to the database
 * file: read it back as a private dirty page. */
int pager_load_new_page(pg **out, ptxn *t, uint32_t pgno);
/* Whether page pgno of t goes straight to the database file. */
static inline int ptxn_is_direct(const ptxn *t, uint32_t pgno)
{
    return t->direct_ok && pgno > t->base_npages && pgno > 1;
}
/** The transaction's dirty copy of pgno, or NULL (its one page-number
 * index). */
pg *ptxn_dirty_find(const ptxn *t, uint32_t pgno);
/** Before new pages go to the database file: hold CKPT for the rest of
 * the transaction, so that no checkpoint (of any connection) cuts the file
 * short under them. Returns 1 when they may go, 0 when they must take the
 * WAL instead (a checkpoint is running), or an error. */
int ptxn_direct_claim(ptxn *t);

/* ---- the cache (pager_cache.c; call with mu held unless said) ---- */

/* A page object (header then image), from the slabs; NULL when out of
 * memory. Thread-safe. */
pg *pager_pg_alloc(pager *p);
/* Give a page object back. Thread-safe. */
void pager_pg_release(pager *p, pg *e);
/* At close: free the slabs; returns the number of page objects lost (neither
 * free nor among the `cached` ones). */
uint32_t pager_pg_slabs_free(pager *p, uint32_t cached);
/* A page object for a new cached image (a cold unpinned one is reused at
 * the budget), counted in npages_mem; and its release. */
pg *pager_page_new(pager *p);
void pager_page_free(pager *p, pg *e);
/* The cached image (pgno, frame), or NULL. */
pg *pager_cache_find(pager *p, uint32_t pgno, uint32_t frame);
/** Put a clean image into the shared cache (hash and eviction ring), and
 * evict cold unpinned pages while over the budget. */
void pager_cache_link(pager *p, pg *e);
void pager_cache_trim(pager *p);
/* A cached image just taken out of the hash: off the eviction ring and freed,
 * unless in use (then it goes when let go). */
void pager_cache_drop_unhashed(pager *p, pg *e);
/* Drop the cached image (pgno, frame), if any, the same way. */
void pager_cache_forget(pager *p, uint32_t pgno, uint32_t frame);
/* Drop the images of frames after mx (a rolled-back writer's, failed
 * staged commits'), pinned ones too (freed when let go). */
void pager_cache_drop_frames_above(pager *p, uint32_t mx);
/* Drop the images of pages past `npages` (the file was cut there), pinned
 * ones too (freed when let go). */
void pager_cache_drop_pages_above(pager *p, uint32_t npages);
/* Drop every image, pinned ones from the hash (the WAL started over
 * elsewhere: frame numbers mean other pages now). */
void pager_cache_drop_all(pager *p);
uint32_t pager_cache_count(const pager *p);
/* Before the WAL starts over: cached images of frames that are the newest
 * version of their page become the file's images, the rest are dropped
 * (frame numbers are about to be reused). */
void pager_cache_rekey_to_file(pager *p);
/* Debug builds: the cache's invariant, checked now and then. */
void pager_cache_check_sometimes(pager *p);

/* ---- elsewhere ---- */

/* Stop the background checkpoint thread, after the checkpoint it was asked
 * for (call without mu). */
void pager_bg_stop(pager *p);
/* Hand a checkpoint to the background thread, starting it if need be (mu
 * held). Returns 0 if it took the job. */
int pager_bg_request(pager *p);
/** Empty the dirty index (before the dirty list is emptied). */
void ptxn_dirty_index_clear(ptxn *t);
/* The oldest snapshot of a live reader of this handle, UINT32_MAX if none. */
uint32_t pager_readers_min_mx(const pager *p);
/* Whether a live reader of this handle reads from the WAL. */
int pager_readers_use_wal(const pager *p);
/* The database file's size and header as they are now (mu held). */
int pager_db_refresh(pager *p);
/* Wait on p->cond up to `ms` (mu held). */
void pager_cond_wait_ms(pager *p, unsigned ms);

/* pager_version.c */
void pager_version_snapshot(ptxn *t, const uint8_t *page1);
void pager_version_stamp(ptxn *t, uint8_t *page1, uint64_t version);
void pager_version_note_commit(pager *p, uint32_t first, uint32_t n);
int pager_version_end_stamp(pager *p, const widx_hdr *h, uint32_t upto, uint8_t *hdr1);
void pager_version_free(pager *p);

#endif
