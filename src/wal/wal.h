/*
 * wal.h - the write-ahead log in SQLite's -wal format.
 *
 * The WAL object is not thread-safe: the pager serialises calls with its
 * mutex. Frames are numbered from 1. "mx" is the number of the last frame of
 * a committed transaction; a snapshot is an mx.
 */
#ifndef FOLIO_WAL_H
#define FOLIO_WAL_H

#include <stdint.h>

#include "os/os.h"

typedef struct wal wal;

/**
 * Open the -wal beside `db_path` and recover it: keep the frames up to the
 * last commit frame whose salts and cumulative checksums are valid. With
 * `readonly`, a missing WAL is simply empty and nothing is ever written.
 * `page_size` is the database's page size (0 if the database file is empty:
 * then the WAL header decides, and *page_size is set).
 */
int wal_open(wal **out, os_vfs *vfs, const char *db_path, uint32_t *page_size, int readonly,
             char *err, size_t errlen);
void wal_close(wal *w);
/** Sync the header of each new generation before its frames (sync levels
 * other than OFF). */
void wal_set_sync_header(wal *w, int on);
/** Set the page size of a WAL that has none yet (a new database). */
void wal_set_page_size(wal *w, uint32_t page_size);
/** Remove the -wal file (after a complete checkpoint at close). */
int wal_delete_file(wal *w);

/** Last committed frame, and the database size in pages it records (0, 0
 * when the WAL holds no committed frame). */
uint32_t wal_mx(const wal *w);
uint32_t wal_db_pages(const wal *w);
uint32_t wal_backfilled(const wal *w);
/** The largest page number any frame of this generation holds (committed or
 * not); frames of pages past the database's end may be among them. */
uint32_t wal_max_pgno(const wal *w);
uint64_t wal_file_bytes(const wal *w);
uint32_t wal_ckpt_seq(const wal *w);

/** The newest frame for `pgno` that is <= mx, or 0. */
uint32_t wal_find(const wal *w, uint32_t pgno, uint32_t mx);
/** Read the page image of `frame`. */
int wal_read_frame(wal *w, uint32_t frame, uint8_t *buf);
/** The same for a checkpoint running beside a writer, without the pager's
 * mutex: `frame` must be committed, and the WAL must not start over (or be
 * reopened) meanwhile. Frames up to the last commit never change until then,
 * and the file handle and page size are fixed. */
int wal_read_committed_frame(const wal *w, uint32_t frame, uint8_t *buf);

/**
 * Re-read the WAL if another process changed it since we last looked (its
 * header or size). Sets *out_changed when the committed content changed, in
 * which case every cached page must be dropped.
 */
int wal_refresh(wal *w, int *out_changed);
/** Whether the WAL has a valid header (a generation is under way). */
int wal_has_header(const wal *w);

/* ---- Write side ---- */

/** Start the WAL over (new salts) if it has frames, all are checkpointed and
 * `no_readers` says no snapshot uses them. Called at the start of a write. */
int wal_maybe_restart(wal *w, int no_readers);
/** Whether wal_maybe_restart would start a new generation now. */
int wal_restart_due(const wal *w, int no_readers);

/**
 * Append `n` frames. pgnos[i] and pages[i] give each page. When `commit_pages`
 * is nonzero the last frame is a commit frame recording that database size,
 * and the frames become committed (wal_mx advances). `sync` fsyncs the WAL
 * after writing. out_first (may be NULL) receives the first frame number.
 */
int wal_append(wal *w, uint32_t n, const uint32_t *pgnos, uint8_t *const *pages,
               uint32_t commit_pages, int sync, uint32_t *out_first);
/** Forget frames written after the last commit (rollback of a spilled txn). */
void wal_discard_uncommitted(wal *w);
int wal_sync(wal *w);

/** Visit the newest version <= `upto` of every page within the database size
 * of the last commit, in ascending page order (for checkpoint). `fn` returns
 * 0 to go on. */
int wal_checkpoint_pages(wal *w, uint32_t upto, int (*fn)(void *arg, uint32_t pgno, uint32_t frame),
                         void *arg);
/** Record that frames up to `upto` are now in the database file. */
void wal_set_backfilled(wal *w, uint32_t upto);
/** Truncate the WAL file to zero bytes (only when fully backfilled and no
 * reader uses it); the next write starts a new generation. */
int wal_truncate_file(wal *w);

#endif
