/*
 * walindex.h - the WAL-index: SQLite's -shm file, shared by every connection
 * of every process that uses the database (folio and SQLite alike), and the
 * locks they take on it. walindex.c documents the layout.
 *
 * A walidx belongs to one pager, which serialises the calls (its mutex).
 * Locks are counted per handle, so that the handle's threads can share
 * read locks; an exclusive lock is refused (FOLIO_BUSY) while the handle
 * itself holds the slot in any mode, as it would be for another process.
 */
#ifndef FOLIO_WAL_WALINDEX_H
#define FOLIO_WAL_WALINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "os/os.h"

/* Lock slots (SQLite's WAL_WRITE_LOCK, WAL_CKPT_LOCK, WAL_RECOVER_LOCK and
 * WAL_READ_LOCK(i)). */
enum { WIDX_WRITE = 0, WIDX_CKPT = 1, WIDX_RECOVER = 2, WIDX_READ0 = 3, WIDX_NSLOTS = 8 };
#define WIDX_READ(i)      (WIDX_READ0 + (i))
#define WIDX_NREADERS     5           /* READ0..READ4 */
#define WIDX_MARK_UNUSED  0xffffffffu /* aReadMark[i] that no reader may use */
#define WIDX_VERSION      3007000u
#define WIDX_REGION_BYTES 32768u

/* The wal-index header (one of its two copies), decoded. */
typedef struct widx_hdr {
    uint32_t change;    /* iChange: moves at every commit */
    uint8_t big_endian; /* frame checksums use big-endian words */
    uint32_t page_size; /* 0 until a commit records it */
    uint32_t mx_frame;  /* last frame of the last commit; 0: the WAL holds none */
    uint32_t npages;    /* database size in pages after that commit */
    uint32_t cksum[2];  /* the frame checksum chain after mx_frame */
    uint8_t salt[8];    /* the WAL header's salts, as its bytes 16..23 */
    uint8_t raw[48];    /* the copy as read (what "changed" compares) */
} widx_hdr;

typedef struct walidx walidx;

/**
 * Open (creating it) the -shm at `path` and join it: the first connection of
 * all truncates what a crashed or closed one left (SQLite's dead-man switch,
 * a read lock on byte 128 that every attached connection holds). Returns
 * FOLIO_BUSY while another process is in the middle of that (retry),
 * FOLIO_CANTOPEN with a message when the file cannot be opened or mapped
 * read-write.
 */
int walidx_open(walidx **out, os_vfs *vfs, const char *path, char *err, size_t errlen);
/** Let go of the maps and every lock; with `unlink_it` remove the file first
 * (the last connection, after a complete checkpoint). */
void walidx_close(walidx *x, int unlink_it);

/**
 * Read the header: 0 and *out when both copies agree and the checksum holds;
 * 1 when the header is not valid now (being written, damaged, or never
 * written: recovery may be due); FOLIO_CANTOPEN for a wal-index of another
 * version; an error when region 0 cannot be mapped. `grow` (the caller holds
 * WRITE) lets a short file be extended.
 */
int walidx_read_hdr(walidx *x, widx_hdr *out, int grow);
/** Whether the live header still equals `h` (as read). */
int walidx_hdr_same(walidx *x, const widx_hdr *h);
/** Publish a header (both copies, copy 1 first), with a fresh checksum. */
int walidx_write_hdr(walidx *x, widx_hdr *h);

/* The checkpoint information. */
uint32_t walidx_backfilled(walidx *x);
void walidx_set_backfilled(walidx *x, uint32_t n);
void walidx_set_backfill_attempted(walidx *x, uint32_t n);
uint32_t walidx_read_mark(walidx *x, int i);
void walidx_set_read_mark(walidx *x, int i, uint32_t v);

/**
 * Index frame `frame` (1-based) as holding page `pgno`. Frames are appended
 * in order; entries past frame-1 left by a writer that did not finish are
 * cleared first. FOLIO_CORRUPT for a hash table that cannot be right.
 */
int walidx_append(walidx *x, uint32_t frame, uint32_t pgno);
/** Forget the entries of frames after `mx` (a rolled-back writer's). */
void walidx_truncate(walidx *x, uint32_t mx);
/** The page number the index holds for `frame` (0: none), for catching up
 * a private index with what other connections appended. */
uint32_t walidx_frame_pgno(walidx *x, uint32_t frame);

/* ---- locks ---- */

/** Take slots [slot, slot+n) exclusively (n > 1 only for exclusive) or slot
 * shared; never waits: FOLIO_BUSY on conflict. */
int walidx_lock(walidx *x, int slot, int n, int exclusive);
void walidx_unlock(walidx *x, int slot, int n, int exclusive);
/** Whether this handle holds any of [slot, slot+n) in any mode. */
int walidx_held(const walidx *x, int slot, int n);
/** Describe who else holds `slot` in a way that conflicts with `exclusive`
 * ("process 1234", "another connection" or "" when nobody). */
void walidx_holder(walidx *x, int slot, int exclusive, char *buf, size_t n);
/** Name of a lock slot ("WRITE", "CKPT", "RECOVER", "READ0".."READ4"). */
const char *walidx_slot_name(int slot);

#endif
