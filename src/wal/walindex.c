/*
 * walindex.c - SQLite's WAL-index (the -shm file) and its locks.
 *
 * The file is shared memory: a sequence of 32 KiB regions, mapped shared by
 * every connection, never synced. Integers are in the host's byte order,
 * but for the salts, which are the WAL header's bytes.
 *
 * Region 0:
 *     0   48  header, copy 0
 *    48   48  header, copy 1 (written first; a reader compares the two)
 *    96   40  checkpoint information:
 *               96  nBackfill: frames 1..nBackfill are in the database file
 *              100  aReadMark[0..4]: read marks (aReadMark[0] unused, 0)
 *              120  aLock[8]: bytes that are only locked, never written
 *              128  nBackfillAttempted: the last checkpoint's target
 *              132  unused
 *   136 16248  page numbers of frames 1..4062 (u32 each)
 * 16384 16384  hash table: 8192 u16 slots
 * Region k >= 1: page numbers of 4096 frames, then 8192 hash slots.
 *
 * Header copy (48 bytes): iVersion 3007000, unused, iChange (moves at every
 * commit), isInit (1), bigEndCksum, szPage (u16; 65536 stored as 1),
 * mxFrame (last frame of the last commit), nPage (database size after it),
 * aFrameCksum[2] (the frame checksum chain after mxFrame), aSalt (the WAL
 * header's salts, 8 bytes as in the file), aCksum[2]: the WAL checksum of
 * bytes 0..39 in native word order, from (0, 0).
 *
 * Hash tables: frame F lies in region k = (F + 33) / 4096; its number in that
 * region is F - zero(k), zero(0) = 0, zero(k) = 4062 + (k-1) * 4096. The
 * page number is at index F - zero(k) - 1 of the region's array, and the
 * slot (pgno * 383) mod 8192, or the next free one after it, holds
 * F - zero(k). A region holds at most 4096 entries in 8192 slots, so every
 * probe ends at a free slot. Entries of frames past mxFrame (a writer's
 * spilled or abandoned frames) may be present: readers ignore them.
 *
 * Locks (SQLite's unix VFS): POSIX byte-range locks on the -shm at byte
 * 120 + slot for WRITE (0), CKPT (1), RECOVER (2), READ0..READ4 (3..7),
 * never waiting; shared = read lock, exclusive = write lock. Byte 128 is the
 * dead-man switch: every attached connection holds a read lock on it; one
 * that finds it free is the first and starts the file over. folio takes
 * open-file-description locks: they conflict with SQLite's record locks
 * and with other folio handles, even in the same process, and closing
 * another descriptor of the file does not drop them.
 *
 * Invariants (checked by walidx_check in debug builds, on the handle's view):
 *   (1) A slot holds a handle's lock in at most one mode: shared counts and
 *       the exclusive flag are never both set.
 *   (2) Every hash slot of a region that is in use names an entry of that
 *       region: 1 <= value <= the region's capacity.
 */
#include "wal/walindex.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "folio.h"
#include "format/format.h"

#define HDR_COPY      48
#define CKPT_OFF      96
#define HEADER_BYTES  136
#define NPAGE         4096u
#define NPAGE_ONE     (NPAGE - HEADER_BYTES / 4) /* 4062 */
#define NSLOT         8192u
#define HASH_MUL      383u
#define LOCK_BASE     120
#define DMS_BYTE      128
#define OFF_BACKFILL  (CKPT_OFF + 0)
#define OFF_READMARK  (CKPT_OFF + 4)
#define OFF_ATTEMPTED (CKPT_OFF + 32)

static_assert(NPAGE_ONE == 4062, "region 0 indexes 4062 frames");
static_assert(LOCK_BASE + WIDX_NSLOTS == DMS_BYTE, "the dead-man switch follows the lock bytes");
static_assert(OFF_ATTEMPTED == 128, "nBackfillAttempted is at byte 128");

struct walidx {
    os_file *file;
    char *path;
    uint8_t **region; /* mapped regions (NULL: not yet) */
    uint32_t nregion;
    uint16_t shared[WIDX_NSLOTS]; /* this handle's shared holds of each slot */
    uint8_t excl[WIDX_NSLOTS];    /* and exclusive ones */
};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define NATIVE_BIG 1
#else
#define NATIVE_BIG 0
#endif

static os_vfs *fvfs(const walidx *x)
{
    return x->file->vfs;
}

/* ---- regions ---- */

/* Region k mapped (grown when `grow`); NULL with 0 when the file is too
 * short and may not grow. */
static int region_get(walidx *x, uint32_t k, int grow, uint8_t **out)
{
    *out = NULL;
    if (k < x->nregion && x->region[k]) {
        *out = x->region[k];
        return 0;
    }
    if (k >= x->nregion) {
        uint32_t n = x->nregion ? x->nregion : 4;
        while (n <= k)
            n *= 2;
        uint8_t **v = os_realloc(x->region, sizeof *v * n);
        if (!v)
            return FOLIO_NOMEM;
        memset(v + x->nregion, 0, sizeof *v * (n - x->nregion));
        x->region = v;
        x->nregion = n;
    }
    void *p = NULL;
    int rc =
        fvfs(x)->shm_map(x->file, (uint64_t)k * WIDX_REGION_BYTES, WIDX_REGION_BYTES, grow, &p);
    if (rc < 0)
        return rc;
    x->region[k] = p;
    *out = p;
    return 0;
}

static void regions_unmap(walidx *x)
{
    for (uint32_t k = 0; k < x->nregion; k++)
        if (x->region[k])
            fvfs(x)->shm_unmap(x->region[k], WIDX_REGION_BYTES);
    os_free(x->region);
    x->region = NULL;
    x->nregion = 0;
}

static _Atomic uint32_t *u32_at(uint8_t *base, uint32_t off)
{
    return (_Atomic uint32_t *)(void *)(base + off);
}

/* ---- locks ---- */

static int os_lock(walidx *x, int slot, int n, int type)
{
    return fvfs(x)->lock_range(x->file, LOCK_BASE + (uint64_t)slot, (uint64_t)n, type);
}

#ifndef NDEBUG
/* Invariant (1). */
static int walidx_check(const walidx *x)
{
    for (int s = 0; s < WIDX_NSLOTS; s++)
        if (x->shared[s] && x->excl[s])
            return 0;
    return 1;
}
#endif

int walidx_held(const walidx *x, int slot, int n)
{
    for (int s = slot; s < slot + n; s++)
        if (x->shared[s] || x->excl[s])
            return 1;
    return 0;
}

int walidx_lock(walidx *x, int slot, int n, int exclusive)
{
    assert(slot >= 0 && n >= 1 && slot + n <= WIDX_NSLOTS);
    if (!exclusive) {
        assert(n == 1);
        if (x->excl[slot])
            return FOLIO_BUSY;
        if (x->shared[slot]) {
            x->shared[slot]++;
            return 0;
        }
        int rc = os_lock(x, slot, 1, OS_RDLOCK);
        if (rc == 0)
            x->shared[slot] = 1;
        assert(walidx_check(x));
        return rc;
    }
    /* A lock of this handle's own would be converted, not refused, by the
     * system: refuse it here, as another process would be refused. */
    if (walidx_held(x, slot, n))
        return FOLIO_BUSY;
    int rc = os_lock(x, slot, n, OS_WRLOCK);
    if (rc == 0)
        for (int s = slot; s < slot + n; s++)
            x->excl[s] = 1;
    assert(walidx_check(x));
    return rc;
}

void walidx_unlock(walidx *x, int slot, int n, int exclusive)
{
    if (!exclusive) {
        assert(n == 1 && x->shared[slot] > 0);
        if (--x->shared[slot] == 0)
            os_lock(x, slot, 1, OS_UNLOCK);
        return;
    }
    for (int s = slot; s < slot + n; s++) {
        assert(x->excl[s]);
        x->excl[s] = 0;
    }
    os_lock(x, slot, n, OS_UNLOCK);
}

void walidx_holder(walidx *x, int slot, int exclusive, char *buf, size_t n)
{
    int64_t pid = -1;
    int rc = fvfs(x)->lock_owner(x->file, LOCK_BASE + (uint64_t)slot, 1,
                                 exclusive ? OS_WRLOCK : OS_RDLOCK, &pid);
    if (rc <= 0)
        snprintf(buf, n, "%s", "");
    else if (pid > 0)
        snprintf(buf, n, "process %lld", (long long)pid);
    else
        snprintf(buf, n, "another connection");
}

const char *walidx_slot_name(int slot)
{
    static const char *names[WIDX_NSLOTS] = {"WRITE", "CKPT",  "RECOVER", "READ0",
                                             "READ1", "READ2", "READ3",   "READ4"};
    return slot >= 0 && slot < WIDX_NSLOTS ? names[slot] : "?";
}

/* ---- open and close ---- */

/*
 * Join the -shm: a read lock on the dead-man switch. If nobody holds it, we
 * are the first connection: what the file holds was left by connections that
 * are gone, so it is cut short (to 3 bytes, as SQLite does) under a write
 * lock before that becomes a read lock; the header then reads as invalid and
 * the first reader rebuilds the index from the WAL.
 */
static int dms_join(walidx *x)
{
    int64_t pid;
    int rc = fvfs(x)->lock_owner(x->file, DMS_BYTE, 1, OS_WRLOCK, &pid);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        rc = fvfs(x)->lock_range(x->file, DMS_BYTE, 1, OS_WRLOCK);
        if (rc == FOLIO_BUSY)
            return FOLIO_BUSY; /* someone came in between: try again */
        if (rc < 0)
            return rc;
        if ((rc = fvfs(x)->truncate(x->file, 3)) < 0) {
            fvfs(x)->lock_range(x->file, DMS_BYTE, 1, OS_UNLOCK);
            return rc;
        }
    }
    /* From the write lock, or beside other readers. BUSY: a first connection
     * elsewhere is in the middle of the above. */
    rc = fvfs(x)->lock_range(x->file, DMS_BYTE, 1, OS_RDLOCK);
    return rc;
}

int walidx_open(walidx **out, os_vfs *vfs, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    walidx *x = os_calloc(1, sizeof *x);
    size_t n = strlen(path);
    if (!x || !(x->path = os_malloc(n + 1))) {
        os_free(x);
        return FOLIO_NOMEM;
    }
    memcpy(x->path, path, n + 1);
    int rc = vfs->shm_open(vfs, path, OS_OPEN_CREATE, &x->file);
    if (rc < 0) {
        snprintf(err, errlen,
                 "cannot open %s for reading and writing: a WAL database needs its -shm "
                 "(shared memory) file writable",
                 path);
        os_free(x->path);
        os_free(x);
        return rc == FOLIO_NOMEM ? rc : FOLIO_CANTOPEN;
    }
    rc = dms_join(x);
    if (rc < 0) {
        if (rc == FOLIO_BUSY)
            snprintf(err, errlen, "%s: another connection is setting the file up", path);
        else
            snprintf(err, errlen, "cannot lock %s", path);
        vfs->close(x->file);
        os_free(x->path);
        os_free(x);
        return rc;
    }
    *out = x;
    return 0;
}

void walidx_close(walidx *x, int unlink_it)
{
    if (!x)
        return;
    os_vfs *vfs = fvfs(x);
    if (unlink_it)
        vfs->remove(vfs, x->path);
    regions_unmap(x);
    /* Closing the descriptor lets go of every lock, the dead-man switch too. */
    vfs->close(x->file);
    os_free(x->path);
    os_free(x);
}

/* ---- header ---- */

static void hdr_checksum(const uint8_t *copy, uint32_t out[2])
{
    out[0] = out[1] = 0;
    fmt_wal_checksum(NATIVE_BIG, copy, 40, out);
}

static uint32_t get_native(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void put_native(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

int walidx_read_hdr(walidx *x, widx_hdr *out, int grow)
{
    uint8_t *r0;
    int rc = region_get(x, 0, grow, &r0);
    if (rc < 0)
        return rc;
    if (!r0)
        return 1; /* a file cut short by the first connection: no header yet */
    uint8_t a[HDR_COPY], b[HDR_COPY];
    /* Copy 0, then copy 1: a writer writes them the other way round, so a
     * read across a write sees them differ. */
    memcpy(a, r0, HDR_COPY);
    atomic_thread_fence(memory_order_seq_cst);
    memcpy(b, r0 + HDR_COPY, HDR_COPY);
    if (memcmp(a, b, HDR_COPY) != 0 || a[12] == 0)
        return 1;
    uint32_t ck[2];
    hdr_checksum(a, ck);
    if (ck[0] != get_native(a + 40) || ck[1] != get_native(a + 44))
        return 1;
    if (get_native(a) != WIDX_VERSION)
        return FOLIO_CANTOPEN;
    memset(out, 0, sizeof *out);
    memcpy(out->raw, a, HDR_COPY);
    out->change = get_native(a + 8);
    out->big_endian = a[13];
    uint16_t sz;
    memcpy(&sz, a + 14, 2);
    out->page_size = (uint32_t)(sz & 0xfe00) + ((uint32_t)(sz & 1) << 16);
    out->mx_frame = get_native(a + 16);
    out->npages = get_native(a + 20);
    out->cksum[0] = get_native(a + 24);
    out->cksum[1] = get_native(a + 28);
    memcpy(out->salt, a + 32, 8);
    return 0;
}

int walidx_hdr_same(walidx *x, const widx_hdr *h)
{
    uint8_t *r0;
    if (region_get(x, 0, 0, &r0) < 0 || !r0)
        return 0;
    uint8_t a[HDR_COPY];
    atomic_thread_fence(memory_order_seq_cst);
    memcpy(a, r0, HDR_COPY);
    return memcmp(a, h->raw, HDR_COPY) == 0;
}

int walidx_write_hdr(walidx *x, widx_hdr *h)
{
    uint8_t *r0;
    int rc = region_get(x, 0, 1, &r0);
    if (rc < 0)
        return rc;
    if (!r0)
        return FOLIO_IOERR;
    uint8_t a[HDR_COPY];
    memset(a, 0, sizeof a);
    put_native(a, WIDX_VERSION);
    put_native(a + 8, h->change);
    a[12] = 1;
    a[13] = h->big_endian;
    uint16_t sz = (uint16_t)((h->page_size & 0xff00) | (h->page_size >> 16));
    memcpy(a + 14, &sz, 2);
    put_native(a + 16, h->mx_frame);
    put_native(a + 20, h->npages);
    put_native(a + 24, h->cksum[0]);
    put_native(a + 28, h->cksum[1]);
    memcpy(a + 32, h->salt, 8);
    uint32_t ck[2];
    hdr_checksum(a, ck);
    put_native(a + 40, ck[0]);
    put_native(a + 44, ck[1]);
    memcpy(h->raw, a, HDR_COPY);
    memcpy(r0 + HDR_COPY, a, HDR_COPY);
    atomic_thread_fence(memory_order_seq_cst);
    memcpy(r0, a, HDR_COPY);
    atomic_thread_fence(memory_order_seq_cst);
    return 0;
}

/* ---- checkpoint information (region 0 is mapped once a header was read) ---- */

static uint8_t *r0_of(walidx *x)
{
    assert(x->nregion > 0 && x->region[0]);
    return x->region[0];
}

uint32_t walidx_backfilled(walidx *x)
{
    return atomic_load_explicit(u32_at(r0_of(x), OFF_BACKFILL), memory_order_acquire);
}

void walidx_set_backfilled(walidx *x, uint32_t n)
{
    atomic_store_explicit(u32_at(r0_of(x), OFF_BACKFILL), n, memory_order_release);
}

void walidx_set_backfill_attempted(walidx *x, uint32_t n)
{
    atomic_store_explicit(u32_at(r0_of(x), OFF_ATTEMPTED), n, memory_order_release);
}

uint32_t walidx_read_mark(walidx *x, int i)
{
    return atomic_load_explicit(u32_at(r0_of(x), OFF_READMARK + 4 * (uint32_t)i),
                                memory_order_acquire);
}

void walidx_set_read_mark(walidx *x, int i, uint32_t v)
{
    atomic_store_explicit(u32_at(r0_of(x), OFF_READMARK + 4 * (uint32_t)i), v,
                          memory_order_release);
}

/* ---- hash tables ---- */

typedef struct block {
    uint32_t *pgno; /* pgno[i - 1] for the region's entry i */
    _Atomic uint16_t *slot;
    uint32_t zero;   /* frame number before the region's first */
    uint32_t npages; /* entries the region can hold */
} block;

static uint32_t block_of(uint32_t frame)
{
    return (frame + NPAGE - NPAGE_ONE - 1) / NPAGE;
}

static int block_get(walidx *x, uint32_t k, int grow, block *out)
{
    uint8_t *r;
    int rc = region_get(x, k, grow, &r);
    if (rc < 0)
        return rc;
    if (!r)
        return FOLIO_IOERR;
    out->slot = (_Atomic uint16_t *)(void *)(r + NPAGE * 4);
    if (k == 0) {
        out->pgno = (uint32_t *)(void *)(r + HEADER_BYTES);
        out->zero = 0;
        out->npages = NPAGE_ONE;
    } else {
        out->pgno = (uint32_t *)(void *)r;
        out->zero = NPAGE_ONE + (k - 1) * NPAGE;
        out->npages = NPAGE;
    }
    return 0;
}

static uint32_t hash_of(uint32_t pgno)
{
    return (pgno * HASH_MUL) & (NSLOT - 1);
}

void walidx_truncate(walidx *x, uint32_t mx)
{
    if (mx == 0)
        return; /* the next append (frame 1) clears region 0 */
    block b;
    if (block_get(x, block_of(mx), 0, &b) < 0)
        return;
    uint32_t limit = mx - b.zero;
    for (uint32_t i = 0; i < NSLOT; i++)
        if (atomic_load_explicit(&b.slot[i], memory_order_relaxed) > limit)
            atomic_store_explicit(&b.slot[i], 0, memory_order_relaxed);
    memset(b.pgno + limit, 0, (b.npages - limit) * sizeof *b.pgno);
}

int walidx_append(walidx *x, uint32_t frame, uint32_t pgno)
{
    assert(frame >= 1 && pgno >= 1);
    block b;
    int rc = block_get(x, block_of(frame), 1, &b);
    if (rc < 0)
        return rc;
    uint32_t idx = frame - b.zero;
    assert(idx >= 1 && idx <= b.npages);
    if (idx == 1) {
        /* The region's first entry: whatever it held is of an older
         * generation of the WAL. */
        memset(b.pgno, 0, b.npages * sizeof *b.pgno);
        memset((void *)b.slot, 0, NSLOT * sizeof *b.slot);
    }
    if (b.pgno[idx - 1]) {
        /* Left by a writer that went away (or rolled back) past here. */
        walidx_truncate(x, frame - 1);
    }
    uint32_t key = hash_of(pgno);
    for (uint32_t collide = idx; atomic_load_explicit(&b.slot[key], memory_order_relaxed);
         key = (key + 1) & (NSLOT - 1)) {
        if (collide-- == 0)
            return FOLIO_CORRUPT;
    }
    b.pgno[idx - 1] = pgno;
    atomic_store_explicit(&b.slot[key], (uint16_t)idx, memory_order_release);
    return 0;
}

uint32_t walidx_frame_pgno(walidx *x, uint32_t frame)
{
    block b;
    if (frame == 0 || block_get(x, block_of(frame), 0, &b) < 0)
        return 0;
    return b.pgno[frame - b.zero - 1];
}
