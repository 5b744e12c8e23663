/*
 * wal.h - the write-ahead log in SQLite's -wal format, shared with other
 * connections (folio's and SQLite's, in any process) through the WAL-index
 * in the -shm file and SQLite's locks on it (walindex.h).
 *
 * The WAL object is not thread-safe: the pager serialises calls with its
 * mutex (frame reads of committed frames excepted, see there). Frames are
 * numbered from 1. "mx" is the number of the last frame of a committed
 * transaction; a snapshot is an mx.
 *
 * Alongside the shared index the handle keeps its own index of the frames of
 * the current WAL generation (page -> newest frame, and each frame's
 * previous one of the same page), caught up from the shared index at every
 * refresh: lookups then cost one hash probe, however often a page was
 * written.
 */
#ifndef FOLIO_WAL_H
#define FOLIO_WAL_H

#include <stdint.h>

#include "os/os.h"
#include "wal/walindex.h"

typedef struct wal wal;

/* What the pager is told when the database file changed under it: a
 * checkpoint (of any connection) wrote page `pgno` into it, or everything
 * may have changed (the WAL started over without this handle seeing the
 * frames it held: frame numbers are reused, and the file holds new images). */
typedef struct wal_observer {
    void *arg;
    void (*file_page_changed)(void *arg, uint32_t pgno);
    void (*all_changed)(void *arg);
} wal_observer;

/**
 * Open the -wal beside `db_path` (created unless `readonly`; a read-only
 * handle without one sees an empty WAL until a writer makes one) and join
 * the -shm. `page_size` is the database's page size (0 if the database file
 * is empty: then the WAL decides, and *page_size is set). Waits up to
 * `busy_timeout_ms` for another connection that is setting the -shm up or
 * rebuilding the index.
 */
int wal_open(wal **out, os_vfs *vfs, const char *db_path, uint32_t *page_size, int readonly,
             unsigned busy_timeout_ms, const wal_observer *obs, char *err, size_t errlen);
/** Close; with `delete_files` (the last connection, everything checkpointed)
 * remove the -wal and the -shm. */
void wal_close(wal *w, int delete_files);
/** Sync the header of each new generation before its frames (sync levels
 * other than OFF). */
void wal_set_sync_header(wal *w, int on);
/** Set the page size of a WAL that has none yet (a new database). */
void wal_set_page_size(wal *w, uint32_t page_size);
/** How long lock retries inside the WAL wait (read snapshots, recovery). */
void wal_set_busy_timeout(wal *w, unsigned ms);

/** Last committed frame, and the database size in pages it records (0, 0
 * when the WAL holds no committed frame), as last read. */
uint32_t wal_mx(const wal *w);
/** Frames written in this generation, a writer's uncommitted ones included. */
uint32_t wal_nframes(const wal *w);
uint32_t wal_db_pages(const wal *w);
/** nBackfill as last read: frames 1..it are in the database file. */
uint32_t wal_backfilled(const wal *w);
/** The largest page number any frame of this generation holds (committed or
 * not); frames of pages past the database's end may be among them. */
uint32_t wal_max_pgno(const wal *w);
uint64_t wal_file_bytes(const wal *w);
uint32_t wal_ckpt_seq(const wal *w);
/** The page size the WAL header records (0: none yet). */
uint32_t wal_page_size(const wal *w);

/** The newest frame for `pgno` that is <= mx, or 0. */
uint32_t wal_find(const wal *w, uint32_t pgno, uint32_t mx);
/** Read the page image of `frame`. */
int wal_read_frame(wal *w, uint32_t frame, uint8_t *buf);
/** The page number frame `frame` holds (from the handle's index). */
uint32_t wal_frame_pgno(const wal *w, uint32_t frame);
/** The database size a frame's header records (non-zero: a commit frame). */
int wal_frame_commit_size(wal *w, uint32_t frame, uint32_t *out);
/** The salts of the generation the handle's index holds (as the header's
 * bytes 16..23). */
void wal_gen_salts(const wal *w, uint8_t out[8]);
/** Salt-1 the frames of the next wal_append will carry (a new generation's
 * salts are chosen now if they were not). Writers only. */
uint32_t wal_next_salt1(wal *w);
/** The same for a checkpoint running beside a writer, without the pager's
 * mutex: `frame` must be committed, and the WAL must not start over
 * meanwhile (the checkpoint holds the locks that keep it so). */
int wal_read_committed_frame(wal *w, uint32_t frame, uint8_t *buf);

/* ---- Read side ---- */

/**
 * One attempt at a read snapshot: read the shared header (rebuilding the
 * index from the WAL when it is not valid, if the locks allow), catch the
 * private index up, report changes of the database file to the observer,
 * and take a read lock that keeps the snapshot's frames from being
 * overwritten. *out_slot is the lock (0: the WAL is wholly in the database
 * file and the snapshot reads the file only, *out_mx 0), *out_mx the
 * snapshot. FOLIO_BUSY: a transient conflict, try again after
 * wal_retry_delay_ms (*recovering: another connection is rebuilding the
 * index).
 */
int wal_try_begin_read(wal *w, uint32_t *out_mx, int *out_slot, int *recovering);
void wal_end_read(wal *w, int slot);
/** The header and the private index caught up, without a read lock
 * (checkpoints, close); FOLIO_BUSY as above. */
int wal_try_refresh(wal *w, int *recovering);
/** How long to wait before attempt cnt + 1 (SQLite's schedule). */
unsigned wal_retry_delay_ms(int cnt);
/** The message of a FOLIO_BUSY that lasted, naming the holder. */
void wal_busy_message(wal *w, int recovering, char *buf, size_t n);

/* ---- Write side ---- */

/** Take the WAL write lock (FOLIO_BUSY if another connection holds it;
 * never waits) and read the newest header: the writer's snapshot is then
 * wal_mx(). */
int wal_begin_write(wal *w);
/** Forget frames written after the last commit and let go of the lock. */
void wal_end_write(wal *w);
/** Whether the WAL may start over now: it has frames, all of them in the
 * database file, and no other connection's reader uses them (this handle's
 * readers, if any, must be checked by the caller). */
int wal_restart_due(const wal *w);
/** The locks to start over when wal_restart_due: READ0 shared (no
 * checkpoint is copying) and READ1..4 exclusive (no reader of any
 * connection uses the WAL). Returns 1 when taken: the caller then lets go
 * of cached frame images and calls wal_restart_finish; 0 when not now.
 * Writer only. */
int wal_restart_lock(wal *w);
/** Start over: new salts, mx 0, the marks reset; the locks let go. */
int wal_restart_finish(wal *w);

/* How wal_append ends a commit. */
enum {
    WAL_APPEND_PUBLISH = 0, /* publish the header at once, no sync */
    WAL_APPEND_SYNC = 1,    /* sync the WAL, then publish */
    WAL_APPEND_STAGE = 2    /* neither: wal_sync() and wal_publish() later */
};

/**
 * Append `n` frames. pgnos[i] and pages[i] give each page. When `commit_pages`
 * is nonzero the last frame is a commit frame recording that database size,
 * and the frames become committed as `mode` says: the header that makes them
 * visible to every connection is published at once, after an fsync, or
 * (WAL_APPEND_STAGE) when wal_publish() is given it. This handle's next
 * writer builds on staged commits; its readers, and every other connection,
 * see only published ones. out_first (may be NULL) receives the first frame
 * number. Writer only.
 */
int wal_append(wal *w, uint32_t n, const uint32_t *pgnos, uint8_t *const *pages,
               uint32_t commit_pages, int mode, uint32_t *out_first);
/** 1 while a staged commit is unpublished (WRITE stays held meanwhile). */
int wal_staged(const wal *w);
/** The header that publishes the newest staged commit. */
void wal_staged_header(const wal *w, widx_hdr *out);
/** Publish `h` (from wal_staged_header, after the frames it names were
 * synced): the commits up to it become visible. */
int wal_publish(wal *w, const widx_hdr *h);
/** The staged commits failed (their sync did): forget them, and erase the
 * first of their frames in the file so that no scan goes past the published
 * commits. A writer that built on them cannot commit. */
void wal_drop_staged(wal *w);
/** 1 while this handle holds the WAL's WRITE lock. */
int wal_write_held(const wal *w);
/** Forget frames written after the last commit (rollback of a spilled txn). */
void wal_discard_uncommitted(wal *w);
int wal_sync(wal *w);

/** What this handle's WAL object did since it was opened (monotonic): frames
 * appended (spills and commits), frames read (pages and checkpoint copies),
 * syncs of the -wal file. Any thread, no lock needed. */
typedef struct wal_counters {
    uint64_t frames_written;
    uint64_t frames_read;
    uint64_t syncs;
} wal_counters;
void wal_counters_get(wal *w, wal_counters *out);

/* ---- Checkpoint ---- */

/** The locks of a checkpoint (walidx slots), held by this handle. */
int wal_lock(wal *w, int slot, int n, int exclusive);
void wal_unlock(wal *w, int slot, int n, int exclusive);
/** Whether this handle holds any of the slots. */
int wal_lock_held(const wal *w, int slot, int n);
/** Describe the holder of a slot (for messages). */
void wal_lock_holder(wal *w, int slot, int exclusive, char *buf, size_t n);

/**
 * The largest frame a checkpoint may copy: every reader's read mark below
 * mx that can be taken exclusively is moved up (to mx, or to unused), and
 * the first that cannot bounds the result. `busy` (may be NULL: give up at
 * once) is asked whether to try a busy lock again.
 */
uint32_t wal_safe_frame(wal *w, int (*busy)(void *arg), void *arg);
/** Visit the newest version <= `upto` of every page within the database size
 * of the last commit whose frame is after `from`, in ascending page order.
 * `fn` returns 0 to go on. */
int wal_checkpoint_pages(wal *w, uint32_t from, uint32_t upto,
                         int (*fn)(void *arg, uint32_t pgno, uint32_t frame), void *arg);
/** The shared header as last read, and whether the live one is still `h`
 * (a checkpoint checks it once it holds READ0: the WAL cannot start over
 * after that, but it may have before). */
void wal_header_get(const wal *w, widx_hdr *out);
int wal_header_is(wal *w, const widx_hdr *h);
void wal_set_backfill_attempted(wal *w, uint32_t upto);
/** Record that frames up to `upto` are now in the database file. */
void wal_set_backfilled(wal *w, uint32_t upto);
/** TRUNCATE checkpoints, with WRITE and READ1..4 held and everything
 * copied: start over and cut the WAL file to zero bytes. */
int wal_truncate_file(wal *w);

/** The wal-index state for folio_info. */
typedef struct wal_state {
    uint32_t mx, backfilled, npages;
    uint32_t marks[WIDX_NREADERS];
    char holders[WIDX_NSLOTS][48];
} wal_state;
void wal_state_get(wal *w, wal_state *out);

#endif
