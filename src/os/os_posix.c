/*
 * os_posix.c - the POSIX implementation of os_vfs, and allocation.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_NOATIME, statx */
#endif
#include "os/os.h"
#include "folio.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h> /* renameat2 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef F_OFD_SETLK
#define F_OFD_SETLK 37
#endif

/* SQLite's lock bytes (see os.h). */
#define LOCK_PENDING_BYTE  OS_LOCK_PENDING_BYTE
#define LOCK_RESERVED_BYTE OS_LOCK_RESERVED_BYTE
#define LOCK_SHARED_FIRST  OS_LOCK_SHARED_FIRST
#define LOCK_SHARED_SIZE   OS_LOCK_SHARED_SIZE

typedef struct posix_file {
    os_file base;
    int fd;
    int level;
} posix_file;

static int errno_to_rc(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT:
        return FOLIO_FULL;
    case ENOMEM:
        return FOLIO_NOMEM;
    case EACCES:
    case EPERM:
    case EROFS:
        return FOLIO_READONLY;
    default:
        return FOLIO_IOERR;
    }
}

static int unpark(const char *path, int writable);

static int px_open(os_vfs *vfs, const char *path, int flags, os_file **out)
{
    int oflags = (flags & OS_OPEN_READONLY) ? O_RDONLY : O_RDWR;
    if (flags & OS_OPEN_CREATE)
        oflags |= O_CREAT;
    *out = NULL;
    int fd = unpark(path, !(flags & OS_OPEN_READONLY));
#ifdef O_NOATIME
    /* Reads need not update the access time (which journals the inode);
     * only the file's owner may ask, so others open without it. */
    int noatime = O_NOATIME;
#else
    int noatime = 0;
#endif
    while (fd < 0) {
        fd = open(path, oflags | O_CLOEXEC | noatime, 0644);
        if (fd >= 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno == EPERM && noatime) {
            noatime = 0;
            continue;
        }
        break;
    }
    if (fd < 0)
        return (errno == ENOENT || errno == EACCES || errno == EISDIR || errno == EROFS)
                   ? FOLIO_CANTOPEN
                   : errno_to_rc(errno);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return FOLIO_CANTOPEN;
    }
    posix_file *f = os_calloc(1, sizeof *f);
    if (!f) {
        close(fd);
        return FOLIO_NOMEM;
    }
    f->base.vfs = vfs;
    f->fd = fd;
    *out = &f->base;
    return 0;
}

/*
 * Closing a descriptor drops every record (POSIX) lock its process holds on
 * the file, through any descriptor. folio's own locks are open-file-
 * description locks and go with their descriptor only, but a libsqlite3 in
 * the same process locks with record locks: closing folio's descriptor of
 * the database or its -shm would silently take away that connection's locks
 * (its -shm's dead-man lock among them, so that the next folio handle takes
 * the -shm for unused and resets or deletes it under the connection). So a
 * descriptor is closed only once no record lock of this process is on its
 * file; until then it is parked, and parked ones are closed by a later
 * close that finds their locks gone. (SQLite itself keeps such descriptors
 * the same way, for its own connections.)
 */
static pthread_mutex_t parked_mu = PTHREAD_MUTEX_INITIALIZER;
typedef struct parked_fd {
    int fd, writable;
    dev_t dev;
    ino_t ino;
} parked_fd;
static parked_fd *parked;
static size_t nparked, parked_cap;

/* A parked descriptor of the file at `path`, taken back for a new handle
 * (opening another one and closing it later would take the locks away
 * again); -1 when there is none. */
static int unpark(const char *path, int writable)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    int fd = -1;
    pthread_mutex_lock(&parked_mu);
    for (size_t i = 0; i < nparked; i++) {
        if (parked[i].dev == st.st_dev && parked[i].ino == st.st_ino &&
            parked[i].writable >= writable) {
            fd = parked[i].fd;
            parked[i] = parked[--nparked];
            break;
        }
    }
    pthread_mutex_unlock(&parked_mu);
    return fd;
}

/* Whether this process holds a record lock anywhere on fd's file. */
static int own_record_locks(int fd)
{
    pid_t me = getpid();
    off_t start = 0;
    for (int guard = 0; guard < 4096; guard++) {
        struct flock fl;
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        fl.l_start = start;
        fl.l_len = 0;
        if (fcntl(fd, F_OFD_GETLK, &fl) != 0 || fl.l_type == F_UNLCK)
            return 0;
        if (fl.l_pid == me)
            return 1;
        if (fl.l_len == 0 || fl.l_start + fl.l_len <= start)
            return 0; /* (a lock to the end of the file hides the rest) */
        start = fl.l_start + fl.l_len;
    }
    return 0;
}

static int px_close(os_file *file)
{
    posix_file *f = (posix_file *)file;
    if (!f)
        return 0;
    int rc = 0;
    pthread_mutex_lock(&parked_mu);
    for (size_t i = 0; i < nparked;) {
        if (own_record_locks(parked[i].fd)) {
            i++;
            continue;
        }
        close(parked[i].fd);
        parked[i] = parked[--nparked];
    }
    struct stat st;
    int park = own_record_locks(f->fd) && fstat(f->fd, &st) == 0;
    if (park && nparked == parked_cap) {
        size_t cap = parked_cap ? 2 * parked_cap : 8;
        parked_fd *v = realloc(parked, cap * sizeof *v); /* (process-wide, never freed) */
        if (v) {
            parked = v;
            parked_cap = cap;
        } else {
            park = 0;
        }
    }
    if (park) {
        /* folio's own locks on it go now, as a close would take them. */
        struct flock fl;
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_UNLCK;
        fl.l_whence = SEEK_SET;
        (void)fcntl(f->fd, F_OFD_SETLK, &fl);
        parked[nparked++] =
            (parked_fd){f->fd, (fcntl(f->fd, F_GETFL) & O_ACCMODE) == O_RDWR, st.st_dev, st.st_ino};
    } else {
        rc = close(f->fd) == 0 ? 0 : FOLIO_IOERR;
    }
    pthread_mutex_unlock(&parked_mu);
    os_free(f);
    return rc;
}

static int px_read(os_file *file, void *buf, size_t n, uint64_t off, size_t *out_got)
{
    posix_file *f = (posix_file *)file;
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(f->fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return errno_to_rc(errno);
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    if (got < n)
        memset((char *)buf + got, 0, n - got);
    if (out_got)
        *out_got = got;
    return 0;
}

static int px_write(os_file *file, const void *buf, size_t n, uint64_t off)
{
    posix_file *f = (posix_file *)file;
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(f->fd, (const char *)buf + done, n - done, (off_t)(off + done));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno_to_rc(errno);
        }
        if (w == 0)
            return FOLIO_FULL;
        done += (size_t)w;
    }
    return 0;
}

static int px_sync(os_file *file)
{
    posix_file *f = (posix_file *)file;
    int r;
    do {
        r = fdatasync(f->fd);
    } while (r != 0 && errno == EINTR);
    return r == 0 ? 0 : errno_to_rc(errno);
}

/* The size by lseek (a read of the inode's size), not fstat: fstat of a
 * file just appended to costs several times a small write on ext4, and the
 * commit log asks for its segment's size at every commit. All I/O is
 * pread/pwrite, so the descriptor's offset this moves is never used. */
static int px_size(os_file *file, uint64_t *out)
{
    posix_file *f = (posix_file *)file;
    off_t end = lseek(f->fd, 0, SEEK_END);
    if (end < 0)
        return errno_to_rc(errno);
    *out = (uint64_t)end;
    return 0;
}

static int px_truncate(os_file *file, uint64_t size)
{
    posix_file *f = (posix_file *)file;
    int r;
    do {
        r = ftruncate(f->fd, (off_t)size);
    } while (r != 0 && errno == EINTR);
    return r == 0 ? 0 : errno_to_rc(errno);
}

static int range_lock(int fd, short type, off_t start, off_t len)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
        return 0;
    if (errno == EAGAIN || errno == EACCES)
        return FOLIO_BUSY;
    return FOLIO_IOERR;
}

/*
 * SHARED is a read lock on the shared range; EXCLUSIVE a write lock on the
 * pending byte, the reserved byte and the shared range together, taken in
 * one call (a sqlite3 process then sees the file locked exclusively at every
 * byte it probes). RESERVED adds a write lock on the reserved byte.
 */
static int px_lock(os_file *file, int level)
{
    posix_file *f = (posix_file *)file;
    int rc;
    if (level == f->level)
        return 0;
    switch (level) {
    case OS_LOCK_NONE:
        rc = range_lock(f->fd, F_UNLCK, LOCK_PENDING_BYTE, 2 + LOCK_SHARED_SIZE);
        break;
    case OS_LOCK_SHARED:
        /* As SQLite takes it from nothing: the pending byte read-locked for
         * the moment, so that a process on its way to EXCLUSIVE (which
         * holds that byte) keeps new readers out. */
        if (f->level == OS_LOCK_NONE && (rc = range_lock(f->fd, F_RDLCK, LOCK_PENDING_BYTE, 1)) < 0)
            break;
        rc = range_lock(f->fd, F_RDLCK, LOCK_SHARED_FIRST, LOCK_SHARED_SIZE);
        if (f->level == OS_LOCK_NONE || (rc == 0 && f->level > OS_LOCK_SHARED)) {
            int urc =
                range_lock(f->fd, F_UNLCK, LOCK_PENDING_BYTE, f->level > OS_LOCK_SHARED ? 2 : 1);
            if (rc == 0)
                rc = urc;
        }
        break;
    case OS_LOCK_RESERVED:
        rc = f->level == OS_LOCK_NONE
                 ? range_lock(f->fd, F_RDLCK, LOCK_SHARED_FIRST, LOCK_SHARED_SIZE)
                 : 0;
        if (rc == 0)
            rc = range_lock(f->fd, F_WRLCK, LOCK_RESERVED_BYTE, 1);
        break;
    default:
        rc = range_lock(f->fd, F_WRLCK, LOCK_PENDING_BYTE, 2 + LOCK_SHARED_SIZE);
        break;
    }
    if (rc == 0)
        f->level = level;
    return rc;
}

static short lock_kind(int type)
{
    return type == OS_WRLOCK ? F_WRLCK : type == OS_RDLOCK ? F_RDLCK : F_UNLCK;
}

static int px_lock_range(os_file *file, uint64_t off, uint64_t len, int type)
{
    posix_file *f = (posix_file *)file;
    return range_lock(f->fd, lock_kind(type), (off_t)off, (off_t)len);
}

static void px_start_writeback(os_file *file, uint64_t off, uint64_t len)
{
#if defined(__linux__)
    posix_file *f = (posix_file *)file;
    /* A hint: an error only means the later sync does all of the work. */
    (void)sync_file_range(f->fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
#else
    (void)file;
    (void)off;
    (void)len;
#endif
}

static int px_lock_owner(os_file *file, uint64_t off, uint64_t len, int type, int64_t *out_pid)
{
    posix_file *f = (posix_file *)file;
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = lock_kind(type);
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)off;
    fl.l_len = (off_t)len;
    /* Open-file-description locks of other descriptions and every process's
     * record locks count; a record lock tells its process id. */
    if (fcntl(f->fd, F_OFD_GETLK, &fl) != 0)
        return FOLIO_IOERR;
    *out_pid = -1;
    if (fl.l_type == F_UNLCK)
        return 0;
    if (fl.l_pid > 0)
        *out_pid = fl.l_pid;
    return 1;
}

/* The -shm: a plain file, mapped. */
static int px_shm_open(os_vfs *vfs, const char *path, int flags, os_file **out)
{
    return px_open(vfs, path, flags, out);
}

static int px_shm_map(os_file *file, uint64_t off, size_t n, int grow, void **out)
{
    posix_file *f = (posix_file *)file;
    *out = NULL;
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return errno_to_rc(errno);
    int writable = (fcntl(f->fd, F_GETFL) & O_ACCMODE) == O_RDWR;
    uint64_t end = off + n;
    if ((uint64_t)st.st_size < end) {
        if (!grow || !writable)
            return 0;
        /* Allocate the new blocks by writing a byte at the end of each 4 KiB
         * (as SQLite does): a store through the map into a hole of a full
         * file system would otherwise raise SIGBUS. */
        for (uint64_t at = ((uint64_t)st.st_size / 4096) * 4096 + 4095; at < end; at += 4096) {
            if (at < (uint64_t)st.st_size)
                continue;
            ssize_t w;
            do {
                w = pwrite(f->fd, "", 1, (off_t)at);
            } while (w < 0 && errno == EINTR);
            if (w != 1)
                return w < 0 ? errno_to_rc(errno) : FOLIO_IOERR;
        }
        if (end % 4096 != 0) {
            int r;
            do {
                r = ftruncate(f->fd, (off_t)end);
            } while (r != 0 && errno == EINTR);
            if (r != 0)
                return errno_to_rc(errno);
        }
    }
    void *p =
        mmap(NULL, n, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, f->fd, (off_t)off);
    if (p == MAP_FAILED)
        return errno == ENOMEM ? FOLIO_NOMEM : FOLIO_IOERR;
    *out = p;
    return 0;
}

static void px_shm_unmap(void *p, size_t n)
{
    if (p)
        munmap(p, n);
}

static int px_remove(os_vfs *vfs, const char *path)
{
    (void)vfs;
    if (unlink(path) == 0 || errno == ENOENT)
        return 0;
    return errno_to_rc(errno);
}

static int px_rename(os_vfs *vfs, const char *from, const char *to)
{
    (void)vfs;
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno == EEXIST)
        return 1;
    if (errno != EINVAL && errno != ENOSYS)
        return errno_to_rc(errno);
    /* A file system without RENAME_NOREPLACE: a second link, which fails
     * when `to` exists, then the old name goes. */
    if (link(from, to) != 0)
        return errno == EEXIST ? 1 : errno_to_rc(errno);
    if (unlink(from) != 0)
        return errno_to_rc(errno);
    return 0;
}

static int px_exists(os_vfs *vfs, const char *path)
{
    (void)vfs;
    if (access(path, F_OK) == 0)
        return 1;
    return errno == ENOENT || errno == ENOTDIR ? 0 : FOLIO_IOERR;
}

static int px_sync_dir(os_vfs *vfs, const char *path)
{
    (void)vfs;
    char dir[4096];
    size_t n = strlen(path);
    if (n >= sizeof dir)
        return FOLIO_IOERR;
    memcpy(dir, path, n + 1);
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0; /* a directory we cannot open cannot be synced; not an error */
    fsync(fd);
    close(fd);
    return 0;
}

static int px_file_id(os_file *file, uint64_t out[2])
{
    posix_file *f = (posix_file *)file;
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return errno_to_rc(errno);
    out[0] = (uint64_t)st.st_dev;
    out[1] = (uint64_t)st.st_ino;
    return 0;
}

static int px_path_id(os_vfs *vfs, const char *path, uint64_t out[3])
{
    (void)vfs;
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOENT ? FOLIO_CANTOPEN : FOLIO_IOERR;
    out[0] = (uint64_t)st.st_dev;
    out[1] = (uint64_t)st.st_ino;
    out[2] = (uint64_t)st.st_size;
    return 0;
}

static int px_file_state(os_file *file, uint64_t out[2])
{
    posix_file *f = (posix_file *)file;
#if defined(STATX_SIZE) && defined(AT_EMPTY_PATH)
    struct statx sx;
    if (statx(f->fd, "", AT_EMPTY_PATH, STATX_SIZE | STATX_NLINK, &sx) == 0) {
        out[0] = (uint64_t)sx.stx_nlink;
        out[1] = (uint64_t)sx.stx_size;
        return 0;
    }
    if (errno != ENOSYS && errno != EINVAL)
        return errno_to_rc(errno);
#endif
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return errno_to_rc(errno);
    out[0] = (uint64_t)st.st_nlink;
    out[1] = (uint64_t)st.st_size;
    return 0;
}

static int px_file_stamp(os_file *file, uint64_t out[2])
{
    posix_file *f = (posix_file *)file;
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return errno_to_rc(errno);
    out[0] = (uint64_t)st.st_size;
    out[1] = ((uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec) ^
             (((uint64_t)st.st_ctim.tv_sec * 1000000000u + (uint64_t)st.st_ctim.tv_nsec) << 1);
    return 0;
}

static uint64_t px_now_ms(os_vfs *vfs)
{
    (void)vfs;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void px_sleep_ms(os_vfs *vfs, unsigned ms)
{
    (void)vfs;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int px_map_file(os_file *file, uint64_t size, void **out)
{
    posix_file *f = (posix_file *)file;
    *out = NULL;
    if (size == 0 || size > (uint64_t)SIZE_MAX)
        return FOLIO_MISUSE;
    void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, f->fd, 0);
    if (p == MAP_FAILED)
        return errno == ENOMEM ? FOLIO_NOMEM : FOLIO_IOERR;
    *out = p;
    return 0;
}

static void px_unmap_file(void *p, uint64_t size)
{
    if (p)
        munmap(p, (size_t)size);
}

static os_vfs posix_vfs = {
    "posix",       px_open,       px_close,
    px_read,       px_write,      px_sync,
    px_size,       px_truncate,   px_lock,
    px_lock_range, px_remove,     px_exists,
    px_sync_dir,   px_file_id,    px_path_id,
    px_now_ms,     px_sleep_ms,   NULL,
    px_file_state, px_file_stamp, px_map_file,
    px_unmap_file, px_shm_open,   px_shm_map,
    px_shm_unmap,  px_lock_owner, px_start_writeback,
    px_rename,
};

static _Atomic(os_vfs *) current_vfs = NULL;

os_vfs *os_vfs_posix(void)
{
    return &posix_vfs;
}

os_vfs *os_vfs_current(void)
{
    os_vfs *v = atomic_load(&current_vfs);
    return v ? v : &posix_vfs;
}

void os_vfs_install(os_vfs *vfs)
{
    atomic_store(&current_vfs, vfs);
}

/* ---- Allocation ---- */

static _Atomic long alloc_fail_countdown = 0;
static _Atomic int alloc_fail_sticky = 0;
static _Atomic uint64_t alloc_count = 0;

static int alloc_should_fail(void)
{
    atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed);
    long n = atomic_load_explicit(&alloc_fail_countdown, memory_order_relaxed);
    if (n <= 0)
        return 0;
    if (n == 1) {
        if (!atomic_load(&alloc_fail_sticky))
            atomic_store(&alloc_fail_countdown, 0);
        return 1;
    }
    atomic_fetch_sub(&alloc_fail_countdown, 1);
    return 0;
}

void *os_malloc(size_t n)
{
    return alloc_should_fail() ? NULL : malloc(n ? n : 1);
}

void *os_map(size_t n)
{
    if (alloc_should_fail())
        return NULL;
    void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void os_unmap(void *p, size_t n)
{
    if (p)
        munmap(p, n ? n : 1);
}

void os_advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~(huge - 1);
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

void *os_calloc(size_t n, size_t size)
{
    return alloc_should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *os_realloc(void *p, size_t n)
{
    return alloc_should_fail() ? NULL : realloc(p, n ? n : 1);
}

void os_free(void *p)
{
    free(p);
}

void os_fail_alloc_after(long n, int sticky)
{
    atomic_store(&alloc_fail_sticky, sticky);
    atomic_store(&alloc_fail_countdown, n);
}

uint64_t os_alloc_count(void)
{
    return atomic_load(&alloc_count);
}
