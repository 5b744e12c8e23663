/*
 * pager.h - page cache, snapshots, dirty pages, commit, checkpoint, page
 * allocation and the freelist.
 *
 * A page handle (pg) is pinned while referenced. Clean pages are shared by
 * all transactions and keyed by (page number, WAL frame): frame 0 means the
 * image in the database file. A write transaction modifies private copies
 * (copy-on-write) that become shared clean pages when they are committed as
 * WAL frames. The pager is thread-safe; one write transaction at a time.
 */
#ifndef FOLIO_PAGER_H
#define FOLIO_PAGER_H

#include <stddef.h>
#include <stdint.h>

#include "folio.h"
#include "format/format.h"
#include "os/os.h"
#include "wal/wal.h"

typedef struct pager pager;
typedef struct ptxn ptxn;

typedef struct pg {
    uint8_t *data;
    uint32_t pgno;
    uint32_t frame; /* version: 0 = database file; for dirty pages 0 */
    uint32_t ref;
    uint8_t dirty;     /* a private copy of a write transaction */
    uint8_t in_hash;   /* in the shared cache: hashed and on the eviction ring */
    uint8_t used;      /* found in the cache since it last passed the ring's head */
    uint8_t mapped;    /* data points into the database file's map (see pager_get) */
    uint32_t stmt_seq; /* statement whose journal holds this dirty page's pre-image */
    struct pg *hnext;
    struct pg *lprev, *lnext; /* eviction ring (every cached page, pinned or not) */
    struct pager *owner;
    struct ptxn *mtxn; /* mapped: the read transaction that handed it out */
} pg;

typedef struct pager_config {
    int readonly;
    int create;
    int sync;
    size_t cache_bytes;
    uint32_t new_page_size;
    uint32_t autocheckpoint;
    unsigned busy_timeout_ms; /* how long a FULL/RESTART/TRUNCATE checkpoint waits for readers */
    int inline_checkpoint;    /* automatic checkpoints in the committing thread */
    uint64_t mmap_bytes;      /* read transactions read up to this much of the file through a
                                 map (0: never) */
} pager_config;

/** Open the database file and its WAL. A missing file is created (empty)
 * when config->create; the first write transaction then formats page 1. */
int pager_open(pager **out, os_vfs *vfs, const char *path, const pager_config *config, char *err,
               size_t errlen);
/** Close; with `checkpoint`, a final full checkpoint and removal of the WAL. */
int pager_close(pager *p, int checkpoint);

uint32_t pager_page_size(const pager *p);
uint32_t pager_usable_size(const pager *p);
const char *pager_path(const pager *p);
int pager_readonly(const pager *p);
/** A copy of the parsed database header as of `t`'s snapshot. */
const fmt_dbheader *ptxn_header(const ptxn *t);

/** Work buffers for the transaction's repeated work (page splits and
 * defragmentation): at least `n` bytes, NULL when out of memory. Given
 * back with ptxn_buf_put, a buffer waits for the next request (a few are
 * kept until the transaction ends), so that the work does not allocate
 * every time. */
void *ptxn_buf_get(ptxn *t, size_t n);
void ptxn_buf_put(ptxn *t, void *buf);

/** Begin a transaction: `write` takes the writer lock (waiting up to
 * busy_timeout_ms) and the database file's EXCLUSIVE lock.
 * `write` == PAGER_CONCURRENT begins a concurrent write transaction: it
 * reads its snapshot as a read transaction does (a read mark, no lock that
 * keeps anyone out) and changes private copies of pages that never reach
 * a file; pager_commit refuses it. The layer above records its changes
 * (ptxn_log_append) and applies them in a write transaction of its own. */
#define PAGER_CONCURRENT 2
int pager_begin(ptxn **out, pager *p, int write, unsigned busy_timeout_ms, char *err,
                size_t errlen);
/** End a read transaction, or roll back a write transaction. */
void pager_end(ptxn *t);
/** Commit a write transaction (and end it). On failure the transaction is
 * rolled back. */
int pager_commit(ptxn *t, char *err, size_t errlen);
/** pager_commit that also gives the commit's version (0 when nothing was
 * written: a transaction that changed nothing is no new version). */
int pager_commit_v(ptxn *t, uint64_t *out_version, char *err, size_t errlen);

/** Forget the message of `t`'s last error: every statement and every call
 * of the API above begins so, and a lower layer that fails sets a new one,
 * so that an error never reports an earlier, unrelated message. */
void ptxn_clear_error(ptxn *t);
/** The message of the last error of `t` (page reads, allocation). */
const char *ptxn_errmsg(const ptxn *t);
/** Set the message of `t` ("page N: why") and return FOLIO_CORRUPT. */
int ptxn_corrupt(ptxn *t, uint32_t pgno, const char *why);
/** Set the message of `t` and return rc. */
int ptxn_error(ptxn *t, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/** Whether `t`'s private pages hold half the cache budget or more (a
 * concurrent transaction never spills them). */
int ptxn_over_budget(const ptxn *t);
/** The version of `t`'s snapshot (pager_version.c): the commits the
 * database had seen when it began. */
int ptxn_version(ptxn *t, uint64_t *out);
/** `v`, the version of the newest state, or the highest this handle has
 * seen as the newest if that is higher (a count that lost commits to
 * another engine's checkpoint never goes back). */
uint64_t pager_version_newest(pager *p, uint64_t v);
/** The stamp flags (FMT_VSTAMP_LOG) of `t`'s snapshot. */
unsigned ptxn_vflags(const ptxn *t);
/** This write transaction sets (on) or clears a stamp flag: page 1 is
 * written at commit. */
void ptxn_set_vflag(ptxn *t, unsigned flag, int on);
/** The stamp flags the commit of `t` writes. */
unsigned ptxn_vflags_after(const ptxn *t);
/**
 * The commit hook: called by pager_commit of a write transaction whose
 * commit leaves FMT_VSTAMP_LOG set, with the writer role held, after the
 * transaction's pages are final (page 1 stamped with `version`) and before
 * anything of it reaches the WAL; an error fails the commit.
 */
void pager_set_commit_hook(pager *p, int (*hook)(void *arg, ptxn *t, uint64_t version), void *arg);
/** Called before every sync of the WAL (a group commit's, a checkpoint's),
 * from any thread: what the commit hook wrote must be made durable. */
void pager_set_sync_hook(pager *p, int (*hook)(void *arg), void *arg);
/**
 * Every page `t` changed, with its image as committed, in ascending page
 * order (from the commit hook): the private copies, pages spilled to the
 * WAL, new pages written to the database file. fn's error stops the walk.
 */
int ptxn_page_images(ptxn *t, int (*fn)(void *arg, uint32_t pgno, const uint8_t *data), void *arg);
/**
 * Page `pgno` as writer `t` found it when it began (its snapshot) into
 * `buf`: 1, or 0 when the page was past the database's end then (a new
 * page: nothing to compare with), or an error.
 */
int ptxn_page_before(ptxn *t, uint32_t pgno, uint8_t *buf);
/**
 * The last `n` commits before the snapshot of writer `t`, oldest first, as
 * the WAL holds them: commit(arg, database size in pages), then page(arg,
 * pgno, image) for each page it wrote, in page order. FOLIO_NOTFOUND_ERR
 * when the WAL (its current generation) no longer holds them all.
 */
int ptxn_wal_commits(ptxn *t, uint32_t n, int (*commit)(void *arg, uint32_t db_pages),
                     int (*page)(void *arg, uint32_t pgno, const uint8_t *data), void *arg);
/** The database's identity from its version stamp (0: none yet). */
uint32_t ptxn_dbid(const ptxn *t);
/** Whether `t` is a concurrent transaction. */
int ptxn_is_concurrent(const ptxn *t);
/** A concurrent transaction's change log: append `n` bytes (a statement
 * that is rolled back takes back what it appended). */
int ptxn_log_append(ptxn *t, const void *data, size_t n);
/** Two pieces as one entry: both appended, or (an error) neither. */
int ptxn_log_append2(ptxn *t, const void *a, size_t an, const void *b, size_t bn);
/** Whether `t` logs its changes: a concurrent transaction, or a plain
 * write transaction of a database with the commit log on. */
int ptxn_logs_changes(const ptxn *t);
/** A plain write transaction logs its changes (for the commit log). */
void ptxn_set_log_changes(ptxn *t, int on);
/** The change log so far (*n bytes). */
const uint8_t *ptxn_log(const ptxn *t, size_t *n);
/** Serializable concurrent transactions: b-tree cursors record what they
 * read in the change log (set before any cursor is made). */
void ptxn_set_track_reads(ptxn *t, int on);
int ptxn_tracks_reads(const ptxn *t);
/** Which commit `t`'s snapshot is: equal for two transactions that see the
 * same one (the WAL's generation and last frame). */
uint64_t ptxn_snapshot_id(const ptxn *t);
/** The last frame of `t`'s snapshot (0: the database file alone). */
uint32_t ptxn_snapshot_mx(const ptxn *t);

/** Pages in the database as seen by `t`. */
uint32_t ptxn_npages(const ptxn *t);
int ptxn_is_write(const ptxn *t);
/** The b-tree layer's count of mutations in `t` (see bt_generation). */
uint64_t *ptxn_gen(ptxn *t);
pager *ptxn_pager(const ptxn *t);

/** Get page `pgno` (1..npages) pinned, read-only. */
int pager_get(pg **out, ptxn *t, uint32_t pgno);
/** Where pages first..first+n-1 of read transaction `t`'s snapshot are:
 * out[i] the WAL frame that holds page first+i, or 0 when the database file
 * does (for copying a snapshot: see ptxn_read_file_pages). */
void ptxn_page_frames(ptxn *t, uint32_t first, uint32_t n, uint32_t *out);
/** Read pages first..first+n-1 (within the snapshot) straight from the
 * database file into `buf` (n pages), past the cache: for pages that
 * ptxn_page_frames gives frame 0, whose file image no checkpoint changes
 * while `t` lives. */
int ptxn_read_file_pages(ptxn *t, uint32_t first, uint32_t n, uint8_t *buf);
/** The map of the database file read transaction `t` reads pages in place
 * from (pager_config.mmap_bytes), or NULL: pages 1..*out_npages of the file,
 * readable until `t` ends (for the pages ptxn_page_frames gives frame 0). */
const uint8_t *ptxn_file_map(const ptxn *t, uint32_t *out_npages);
/** Unpin. NULL is ignored. */
void pager_unref(pg *page);
/**
 * Make page `*io` writable in `t` (copy-on-write): on return *io is the
 * transaction's private copy, pinned (the handle passed in is released).
 */
int pager_write(ptxn *t, pg **io);
/** As pager_write, when only bytes [off, off+len) of the page will change:
 * the statement journal then saves just those. */
int pager_write_range(ptxn *t, pg **io, uint32_t off, uint32_t len);
/** Allocate a page (from the freelist, else at the end of the file), zeroed,
 * writable and pinned. */
int pager_alloc(pg **out, ptxn *t);
/** A new database: write its first page (a valid empty database) to the
 * file at once, so that the file is a database from now on whatever happens
 * to the transaction. */
int pager_init_file(ptxn *t, const uint8_t *page1);
/** Return a page to the freelist. The page must not be pinned by the caller. */
int pager_free(ptxn *t, uint32_t pgno);
/** Make page `pgno` (1..ptxn_npages) hold `data` (a whole page) in `t`,
 * without reading its old image: for writing a database image page by page
 * (VACUUM). */
int pager_put_page(ptxn *t, uint32_t pgno, const uint8_t *data);
/** Set the database size of `t` to `npages`, smaller or larger than it is
 * (VACUUM): pages past it are no longer part of the database once `t`
 * commits; pages up to it that did not exist must be written with
 * pager_put_page. No statement may be active, and no page past `npages` may
 * have been changed in `t`. */
int ptxn_set_npages(ptxn *t, uint32_t npages);
/** Update the database header on page 1 within `t` (page 1 made writable). */
int ptxn_header_update(ptxn *t, const fmt_dbheader *h);

/**
 * Statements: every public write call runs as one, so that a failed call
 * leaves the transaction exactly as before it. pager_stmt_begin records the
 * state; pager_stmt_rollback puts back every page the statement changed.
 * If pages had to be spilled to the WAL during the statement the undo is not
 * possible and FOLIO_ERROR is returned: the transaction must be rolled back.
 */
void pager_stmt_begin(ptxn *t);
void pager_stmt_commit(ptxn *t);
int pager_stmt_rollback(ptxn *t);

/** Whether a write transaction of this handle is live now (any thread). */
int pager_writer_active(pager *p);
/** Checkpoint (FOLIO_CHECKPOINT_*). */
int pager_checkpoint(pager *p, int mode, int *out_log, int *out_done, char *err, size_t errlen);
/** Figures for folio info. */
uint64_t pager_wal_bytes(pager *p);
uint32_t pager_wal_frames(pager *p);
uint32_t pager_wal_ckpt_seq(pager *p);
uint64_t pager_file_bytes(pager *p);
uint32_t pager_wal_backfilled(pager *p);
/** The WAL index's state (mx, nBackfill, read marks, lock holders). */
void pager_wal_state(pager *p, wal_state *out);
/** Copy the note of the last checkpoint ("" if it completed). */
void pager_ckpt_note(pager *p, char *buf, size_t n);

/** What a handle's pager did since it was opened (counters, monotonic) and
 * what its cache holds now (gauges, marked). Counting costs a relaxed atomic
 * add (or a plain one under a lock already held); reading them is
 * pager_counters_get, from any thread. */
typedef struct pager_counters {
    uint64_t cache_hits;       /* pages found in the shared cache */
    uint64_t cache_misses;     /* pages read into the cache (file or WAL) */
    uint64_t cache_evictions;  /* clean pages dropped to make room */
    uint64_t pages_mapped;     /* pages read in place through the file's map */
    uint64_t pages_read_db;    /* pages read from the database file */
    uint64_t pages_read_wal;   /* frames read from the WAL (checkpoint copies too) */
    uint64_t pages_written_db; /* pages written to the database file */
    uint64_t wal_frames;       /* frames appended to the WAL */
    uint64_t wal_syncs;
    uint64_t db_syncs;
    uint64_t checkpoints; /* checkpoints run (automatic ones too) */
    uint64_t checkpoint_pages;
    uint64_t checkpoint_us;
    /* When the last checkpoint ended, UTC microseconds (0: none yet). */
    uint64_t checkpoint_last_unix_us;
    uint64_t checkpoints_short; /* stopped short: a reader's snapshot held frames back */
    uint64_t commits;           /* write transactions committed */
    uint64_t rollbacks;         /* write transactions ended without a commit */
    uint64_t busy_waits;        /* waits of a begin or a checkpoint for a lock */
    uint64_t pages_spilled;     /* dirty pages written out before their commit */
    uint64_t cache_bytes;       /* gauge: page images held (cached and dirty) */
    uint64_t cache_bytes_used;  /* gauge: of which pinned or dirty */
} pager_counters;
void pager_counters_get(pager *p, pager_counters *out);

/** Counters of the layers above, kept per handle by the pager as it keeps
 * ptxn_gen (the b-tree's numbers them, see btree.h): add `n` to `slot`. */
#define PAGER_ABOVE_SLOTS 4
void ptxn_count_above(ptxn *t, unsigned slot, uint64_t n);
uint64_t pager_counter_above(pager *p, unsigned slot);

/** Sets the message "page N: why" and returns FOLIO_CORRUPT. */
#define PAGER_CORRUPT(err, errlen, pgno, why)                                                      \
    (snprintf((err), (errlen), "page %u: %s", (unsigned)(pgno), (why)), FOLIO_CORRUPT)

#endif
