/*
 * os.h - the only door to the operating system.
 *
 * Every file operation of folio goes through an os_vfs: a table of functions
 * that the POSIX implementation (os_posix.c) fills and that tests replace with
 * a fault-injecting one. Functions return 0 or a negative FOLIO_* code
 * (FOLIO_IOERR, FOLIO_FULL, FOLIO_CANTOPEN, FOLIO_BUSY, FOLIO_NOMEM).
 *
 * Locks follow SQLite's protocol on the database file so that a sqlite3
 * process and folio exclude each other: byte-range locks at the "pending
 * byte" 0x40000000, the reserved byte after it and the 510-byte shared range
 * after that. A SHARED lock is a read lock on the shared range; EXCLUSIVE is a
 * write lock on it. Linux open-file-description locks are used, so two handles
 * in one process also exclude each other and closing one handle does not drop
 * the locks of another.
 */
#ifndef FOLIO_OS_H
#define FOLIO_OS_H

#include <stddef.h>
#include <stdint.h>

enum { OS_LOCK_NONE = 0, OS_LOCK_SHARED = 1, OS_LOCK_RESERVED = 2, OS_LOCK_EXCLUSIVE = 4 };

/* SQLite's lock bytes on the database file: PENDING, RESERVED, then the
 * range SHARED locks read-lock and EXCLUSIVE write-locks. */
#define OS_LOCK_PENDING_BYTE  0x40000000u
#define OS_LOCK_RESERVED_BYTE (OS_LOCK_PENDING_BYTE + 1)
#define OS_LOCK_SHARED_FIRST  (OS_LOCK_PENDING_BYTE + 2)
#define OS_LOCK_SHARED_SIZE   510u

#define OS_OPEN_READONLY 0x1
#define OS_OPEN_CREATE   0x2

typedef struct os_file os_file;
typedef struct os_vfs os_vfs;

struct os_vfs {
    const char *name;
    int (*open)(os_vfs *vfs, const char *path, int flags, os_file **out);
    int (*close)(os_file *f);
    /* Reads n bytes at off; bytes past the end of the file read as zero and
     * *out_got (may be NULL) receives how many were really in the file. */
    int (*read)(os_file *f, void *buf, size_t n, uint64_t off, size_t *out_got);
    int (*write)(os_file *f, const void *buf, size_t n, uint64_t off);
    int (*sync)(os_file *f);
    int (*size)(os_file *f, uint64_t *out);
    int (*truncate)(os_file *f, uint64_t size);
    /* Move the lock to `level` (up or down); FOLIO_BUSY if another holder
     * conflicts. Never waits. */
    int (*lock)(os_file *f, int level);
    /* A lock on bytes [off, off+len) (type OS_UNLOCK, OS_RDLOCK,
     * OS_WRLOCK), never waiting: FOLIO_BUSY on conflict. Used on the -shm
     * file, at SQLite's lock bytes. */
    int (*lock_range)(os_file *f, uint64_t off, uint64_t len, int type);
    int (*remove)(os_vfs *vfs, const char *path);
    int (*exists)(os_vfs *vfs, const char *path);   /* 1, 0, or an error */
    int (*sync_dir)(os_vfs *vfs, const char *path); /* sync the directory holding path */
    /* An identity of the underlying file (device and inode) used to detect
     * that a path now names another file. */
    int (*file_id)(os_file *f, uint64_t out[2]);
    /* The identity of the file a path names now (device, inode) and its
     * size in out[2]; FOLIO_CANTOPEN if none. */
    int (*path_id)(os_vfs *vfs, const char *path, uint64_t out[3]);
    uint64_t (*now_ms)(os_vfs *vfs);
    void (*sleep_ms)(os_vfs *vfs, unsigned ms);
    void *ctx; /* private to the implementation */
    /* Optional (NULL: use path_id): the link count (out[0]; 0 once the file
     * was removed) and size (out[1]) of an open file, without asking for
     * its timestamps (on Linux, a query of them makes the next write store
     * a fine-grained time and so cost more). */
    int (*file_state)(os_file *f, uint64_t out[2]);
    /* Optional (NULL: none): the size (out[0]) of an open file and a stamp
     * (out[1]) that changes when its content is written: its modification
     * and change times. Used on the database file only. */
    int (*file_stamp)(os_file *f, uint64_t out[2]);
    /* Optional (NULL: none): map the first `size` bytes of an open file
     * read-only and shared (the kernel's cached pages, no copy), and undo
     * it. Touching the map past the file's end raises SIGBUS: the caller
     * must never read past what the file holds. */
    int (*map_file)(os_file *f, uint64_t size, void **out);
    void (*unmap_file)(void *p, uint64_t size);

    /* ---- The -shm wal-index (required) ----
     * shm_open opens (creating it unless OS_OPEN_READONLY) a file that is
     * shared memory between processes, not data: its content is never
     * synced, and a fault-injecting vfs passes it through untouched. The
     * other calls go through the returned file's own vfs. */
    int (*shm_open)(os_vfs *vfs, const char *path, int flags, os_file **out);
    /* Map bytes [off, off+n) of a -shm read-write (read-only when it was
     * opened so), shared. When the file is shorter: with `grow`, extend it
     * first, allocating its blocks (so that stores through the map never
     * fault); else set *out to NULL and return 0. */
    int (*shm_map)(os_file *f, uint64_t off, size_t n, int grow, void **out);
    void (*shm_unmap)(void *p, size_t n);
    /* Whether a lock of `type` on [off, off+len) would conflict with one
     * held elsewhere: 1 (*out_pid the holder's process id when the system
     * tells, else -1), 0 when free, or an error. */
    int (*lock_owner)(os_file *f, uint64_t off, uint64_t len, int type, int64_t *out_pid);
    /* Optional (may be NULL): start writing [off, off+len) back to the
     * device without waiting, so that a later sync has less left to do.
     * Durability still comes only from sync. */
    void (*start_writeback)(os_file *f, uint64_t off, uint64_t len);
    /* Optional (NULL: not available): give the file `from` the name `to`
     * in one step, unless `to` exists: 0 when renamed, 1 when `to` exists
     * (nothing changed), or an error. A crash leaves the file under one of
     * the two names (or both); the directory must be synced (sync_dir) for
     * the new name to be durable. */
    int (*rename)(os_vfs *vfs, const char *from, const char *to);
};

/* Lock types of lock_range and lock_owner. */
enum { OS_UNLOCK = 0, OS_RDLOCK = 1, OS_WRLOCK = 2 };

/* Every os_file starts with a pointer to its vfs. */
struct os_file {
    os_vfs *vfs;
};

/** The POSIX implementation. */
os_vfs *os_vfs_posix(void);
/** The vfs that folio_open uses: the POSIX one unless a test installed another. */
os_vfs *os_vfs_current(void);
/** Install `vfs` for later folio_open calls (NULL restores POSIX). For tests. */
void os_vfs_install(os_vfs *vfs);

/* Allocation goes through these so tests can inject out-of-memory. */
void *os_malloc(size_t n);
void *os_calloc(size_t n, size_t size);
void *os_realloc(void *p, size_t n);
void os_free(void *p);
/** Zero-filled private memory straight from the kernel (its pages arrive
 * when first touched), for large reservations; NULL when refused. Counts as
 * an allocation for os_fail_alloc_after. Released with os_unmap. */
void *os_map(size_t n);
void os_unmap(void *p, size_t n);
/** Ask the kernel to back the 2 MiB-aligned part of [p, p+n) with huge
 * pages (transparent huge pages); a hint, ignored where unsupported. */
void os_advise_huge(void *p, size_t n);
/** Test hook: the Nth allocation from now (1-based) fails, and with `sticky`
 * every one after it too. n = 0 disables. */
void os_fail_alloc_after(long n, int sticky);
/** Number of allocations made so far (for benchmarks). */
uint64_t os_alloc_count(void);

#endif
