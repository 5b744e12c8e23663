/*
 * wal.c - SQLite-format write-ahead log, shared through the WAL-index:
 * recovery, the read and write protocol, frame index, append, checkpoint
 * support.
 *
 * File layout (all integers big-endian):
 *   header, 32 bytes: magic 0x377f0682|0x377f0683 (low bit set: checksums
 *     read words big-endian), version 3007000, page size, checkpoint
 *     sequence, salt-1, salt-2, checksum-1, checksum-2 over bytes 0..23.
 *   frame i (1-based) at 32 + (i-1)*(24+page_size): page number, database
 *     size in pages for a commit frame else 0, salt-1, salt-2 (equal to the
 *     header's), checksum-1, checksum-2, then the page image. The checksum is
 *     cumulative: it continues from the previous frame's (the header's for
 *     frame 1) over the frame header's first 8 bytes and the page.
 *
 * Sharing (SQLite's protocol, see walindex.c for the -shm): the committed
 * state is the wal-index header (mxFrame, nPage, salts, checksum chain);
 * a writer holds WRITE, appends frames and indexes them in the -shm, and
 * publishes a new header to commit. A reader reads the header and holds a
 * read lock whose mark is at most its snapshot: checkpoints copy no frame
 * past any held mark, and the WAL starts over only when every mark is free
 * (READ1..4 taken exclusively) and everything was copied. A reader of READ0
 * reads the database file alone, which no checkpoint writes while it holds
 * it. A header that is not valid is rebuilt from the WAL file ("recovery")
 * under WRITE, CKPT and RECOVER.
 *
 * Recovery keeps frames 1..mx where mx is the last commit frame such that
 * every frame up to it has matching salts and a valid checksum chain.
 *
 * Invariants (checked by wal_check_state in debug builds):
 *   (1) mx <= nframes <= cap; backfilled <= mx.
 *   (2) For every frame f <= nframes: prev[f] < f and pgno[prev[f]] == pgno[f]
 *       when prev[f] != 0.
 *   (3) The private hash maps each page to its newest frame <= nframes, and
 *       agrees with the shared index (spot-checked on the newest frames).
 *   (4) s_commit is the checksum state after frame mx; s_last after nframes.
 *   (5) Frames are only ever appended after nframes; a frame <= mx is never
 *       rewritten until the WAL restarts.
 */
#include "wal/wal.h"
#include "folio.h"
#include "format/format.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define NATIVE_MAGIC FMT_WAL_MAGIC_BE
#else
#define NATIVE_MAGIC FMT_WAL_MAGIC_LE
#endif

struct wal {
    os_vfs *vfs;
    os_file *file; /* NULL while no -wal exists (read-only handle) */
    char *path;
    int readonly;
    walidx *idx;
    wal_observer obs;
    unsigned busy_timeout_ms;
    uint32_t page_size;

    widx_hdr hdr;        /* the shared header as last read or written */
    uint32_t backfilled; /* nBackfill as last read */
    uint8_t gen[8];      /* salts of the generation the private index holds */
    int gen_valid;
    uint32_t ckpt_seq; /* checkpoint sequence for the next WAL header */
    uint64_t file_bytes;

    /* The private index: frames 1..nframes of this generation. */
    uint32_t nframes;  /* incl. a writer's uncommitted ones */
    uint32_t mx;       /* last commit frame (hdr.mx_frame) */
    uint32_t db_pages; /* database size recorded by frame mx */
    uint32_t max_pgno; /* largest page number of any frame in this generation */
    uint32_t s_commit[2], s_last[2];
    uint32_t cap;   /* capacity of pgno[] / prev[] */
    uint32_t *pgno; /* pgno[f] for frame f (index 0 unused) */
    uint32_t *prev; /* previous frame of the same page, 0 if none */
    uint32_t hcap;  /* hash slots, a power of two */
    uint32_t hcount;
    uint32_t *hkey; /* page number, 0 = empty slot */
    uint32_t *hval; /* newest frame of that page, 0 = none (after discard) */

    int writer;      /* this handle holds WRITE */
    int restarting;  /* between wal_restart_lock and wal_restart_finish */
    int writer_read; /* the writer holds READ1 since it restarted the WAL */
    int sync_header; /* sync a new generation's header before any frame */
    uint64_t kicked; /* frames before this offset were sent to the device */
    uint8_t *stage;  /* wal_append's staging buffer, kept between commits */
    size_t stage_cap;
    int broken; /* frames of a failed commit could not be erased */

    /* Counters for wal_counters_get: relaxed atomics, since readers, the
     * syncer of a group commit and the checkpoint thread count without the
     * pager's mutex. Monotonic since open. */
    _Atomic uint64_t n_frames_written, n_frames_read, n_syncs;

    /* Staged commits (wal_append with WAL_APPEND_STAGE): written, in the
     * private index and the -shm's hash tables, but their header not yet
     * published, so that no other connection or snapshot sees them; mx,
     * db_pages and s_commit include them, hdr does not. `staged` is the
     * header wal_publish() will write for the newest one. WRITE stays held
     * while any is unpublished. */
    int has_staged;
    widx_hdr staged;
    uint8_t gen_be; /* checksum byte order of the generation being written */
};

static uint32_t frame_bytes(const wal *w)
{
    return FMT_WAL_FRAME_HEADER_SIZE + w->page_size;
}
static uint64_t frame_offset(const wal *w, uint32_t f)
{
    return FMT_WAL_HEADER_SIZE + (uint64_t)(f - 1) * frame_bytes(w);
}

/* ---- the private frame index ---- */

static uint32_t hash_slot(const wal *w, uint32_t pgno)
{
    return (pgno * 2654435761u) & (w->hcap - 1);
}

static uint32_t hash_get(const wal *w, uint32_t pgno)
{
    if (!w->hcap)
        return 0;
    for (uint32_t i = hash_slot(w, pgno), n = 0; n < w->hcap; i = (i + 1) & (w->hcap - 1), n++) {
        if (w->hkey[i] == pgno)
            return w->hval[i];
        if (w->hkey[i] == 0)
            return 0;
    }
    return 0;
}

static int hash_grow(wal *w)
{
    uint32_t ncap = w->hcap ? w->hcap * 2 : 1024;
    uint32_t *nk = os_calloc(ncap, sizeof *nk);
    uint32_t *nv = os_calloc(ncap, sizeof *nv);
    if (!nk || !nv) {
        os_free(nk);
        os_free(nv);
        return FOLIO_NOMEM;
    }
    for (uint32_t i = 0; i < w->hcap; i++) {
        if (!w->hkey[i])
            continue;
        uint32_t j = (w->hkey[i] * 2654435761u) & (ncap - 1);
        while (nk[j])
            j = (j + 1) & (ncap - 1);
        nk[j] = w->hkey[i];
        nv[j] = w->hval[i];
    }
    os_free(w->hkey);
    os_free(w->hval);
    w->hkey = nk;
    w->hval = nv;
    w->hcap = ncap;
    return 0;
}

/* Set the newest frame of pgno; returns the previous newest. */
static int hash_set(wal *w, uint32_t pgno, uint32_t frame, uint32_t *out_old)
{
    int rc;
    if ((w->hcount + 1) * 2 > w->hcap && (rc = hash_grow(w)) < 0)
        return rc;
    uint32_t i = hash_slot(w, pgno);
    while (w->hkey[i] && w->hkey[i] != pgno)
        i = (i + 1) & (w->hcap - 1);
    if (!w->hkey[i]) {
        w->hkey[i] = pgno;
        w->hcount++;
        *out_old = 0;
    } else {
        *out_old = w->hval[i];
    }
    w->hval[i] = frame;
    return 0;
}

static void index_reset(wal *w)
{
    if (w->hcap) {
        memset(w->hkey, 0, w->hcap * sizeof *w->hkey);
        memset(w->hval, 0, w->hcap * sizeof *w->hval);
    }
    w->hcount = 0;
    w->nframes = w->mx = w->db_pages = w->max_pgno = 0;
}

static int index_add(wal *w, uint32_t f, uint32_t pgno)
{
    int rc;
    if (f >= w->cap) {
        uint32_t ncap = w->cap ? w->cap * 2 : 4096;
        while (ncap <= f)
            ncap *= 2;
        uint32_t *np = os_realloc(w->pgno, ncap * sizeof *np);
        if (!np)
            return FOLIO_NOMEM;
        w->pgno = np;
        uint32_t *nv = os_realloc(w->prev, ncap * sizeof *nv);
        if (!nv)
            return FOLIO_NOMEM;
        w->prev = nv;
        w->cap = ncap;
    }
    uint32_t old;
    if ((rc = hash_set(w, pgno, f, &old)) < 0)
        return rc;
    w->pgno[f] = pgno;
    w->prev[f] = old;
    if (pgno > w->max_pgno)
        w->max_pgno = pgno;
    return 0;
}

/* Forget the private index's frames after `upto`. */
static void index_cut(wal *w, uint32_t upto)
{
    for (uint32_t f = w->nframes; f > upto; f--) {
        uint32_t old;
        /* Restoring a value for an existing key never grows the table. */
        hash_set(w, w->pgno[f], w->prev[f], &old);
    }
    if (w->nframes > upto)
        w->nframes = upto;
}

#ifndef NDEBUG
static int wal_check_state(const wal *w)
{
    if (!(w->mx <= w->nframes))
        return 0;
    if (w->nframes && w->nframes >= w->cap)
        return 0;
    /* Spot-check the chains of the last few frames, and (when the shared
     * header still says so: the entries are of this generation) the shared
     * index's agreement with them (invariant 3). */
    int same = walidx_hdr_same(w->idx, &w->hdr);
    for (uint32_t f = w->nframes; f > 0 && f + 64 > w->nframes; f--) {
        if (w->prev[f] >= f)
            return 0;
        if (w->prev[f] && w->pgno[w->prev[f]] != w->pgno[f])
            return 0;
        if (same && f <= w->mx && walidx_frame_pgno(w->idx, f) != w->pgno[f] &&
            walidx_hdr_same(w->idx, &w->hdr))
            return 0;
    }
    if (w->nframes && hash_get(w, w->pgno[w->nframes]) != w->nframes)
        return 0;
    /* (4): with nothing past the commit, the two chain states are one. */
    if (w->nframes == w->mx && (w->s_last[0] != w->s_commit[0] || w->s_last[1] != w->s_commit[1]))
        return 0;
    return 1;
}
#endif

uint32_t wal_find(const wal *w, uint32_t pgno, uint32_t mx)
{
    uint32_t f = hash_get(w, pgno);
    while (f > mx)
        f = w->prev[f];
    return f;
}

/* ---- the WAL file ---- */

static int open_file(wal *w)
{
    if (w->file)
        return 0;
    int rc =
        w->vfs->open(w->vfs, w->path, w->readonly ? OS_OPEN_READONLY : OS_OPEN_CREATE, &w->file);
    if (rc < 0) {
        w->file = NULL;
        return rc;
    }
    return 0;
}

/* Scan frames from nframes+1 onwards while they are valid, continuing the
 * checksum from s_commit under WAL header `h`; frames past the last valid
 * commit frame are dropped. Builds the private index only. */
static int scan_frames(wal *w, const fmt_walheader *h)
{
    enum { CHUNK_FRAMES = 64 };
    uint32_t fb = frame_bytes(w);
    uint8_t *buf = os_malloc((size_t)fb * CHUNK_FRAMES);
    if (!buf)
        return FOLIO_NOMEM;
    uint32_t s[2] = {w->s_commit[0], w->s_commit[1]};
    uint32_t f = w->mx + 1;
    int rc = 0;
    for (;;) {
        uint64_t off = frame_offset(w, f);
        if (off + fb > w->file_bytes)
            break;
        uint32_t avail = (uint32_t)((w->file_bytes - off) / fb);
        uint32_t n = avail < CHUNK_FRAMES ? avail : CHUNK_FRAMES;
        if ((rc = w->vfs->read(w->file, buf, (size_t)n * fb, off, NULL)) < 0)
            break;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *fh = buf + (size_t)i * fb;
            fmt_walframe fr;
            fmt_walframe_decode(fh, &fr);
            if (fr.pgno == 0)
                goto done;
            if (!fmt_walframe_verify(fh, fh + FMT_WAL_FRAME_HEADER_SIZE, w->page_size, h, s))
                goto done;
            if ((rc = index_add(w, f, fr.pgno)) < 0)
                goto done;
            w->nframes = f;
            if (fr.db_size) {
                w->mx = f;
                w->db_pages = fr.db_size;
                w->s_commit[0] = s[0];
                w->s_commit[1] = s[1];
            }
            f++;
        }
    }
done:
    os_free(buf);
    index_cut(w, w->mx); /* the uncommitted tail */
    return rc;
}

/*
 * Recovery: rebuild the wal-index from the WAL file. The caller holds WRITE;
 * CKPT (unless this handle's checkpoint holds it) and RECOVER are taken here.
 * Readers of other connections meanwhile find the header invalid, WRITE
 * taken and RECOVER too, and wait.
 */
static int recover(wal *w)
{
    int first = wal_lock_held(w, WIDX_CKPT, 1) ? WIDX_RECOVER : WIDX_CKPT;
    int rc = walidx_lock(w->idx, first, WIDX_READ0 - first, 1);
    if (rc < 0)
        return rc;
    index_reset(w);
    w->gen_valid = 0;
    memset(&w->hdr, 0, sizeof w->hdr);
    fmt_walheader h;
    memset(&h, 0, sizeof h);
    int have = 0;
    if (w->file && (rc = w->vfs->size(w->file, &w->file_bytes)) == 0 &&
        w->file_bytes >= FMT_WAL_HEADER_SIZE) {
        uint8_t raw[FMT_WAL_HEADER_SIZE];
        if ((rc = w->vfs->read(w->file, raw, sizeof raw, 0, NULL)) == 0 &&
            fmt_walheader_decode(raw, &h) == 0 &&
            (w->page_size == 0 || h.page_size == w->page_size)) {
            /* A header of another page size belongs to another database:
             * never applied. */
            have = 1;
            if (w->page_size == 0)
                w->page_size = h.page_size;
        }
    }
    if (rc == 0 && have) {
        w->ckpt_seq = h.ckpt_seq;
        w->s_commit[0] = h.cksum1;
        w->s_commit[1] = h.cksum2;
        rc = scan_frames(w, &h);
    }
    for (uint32_t f = 1; rc == 0 && f <= w->mx; f++)
        rc = walidx_append(w->idx, f, w->pgno[f]);
    if (rc == 0) {
        widx_hdr nh;
        memset(&nh, 0, sizeof nh);
        nh.change = 0;
        nh.big_endian = have ? (uint8_t)(h.magic & 1) : (uint8_t)(NATIVE_MAGIC & 1);
        nh.page_size = w->mx ? w->page_size : 0;
        nh.mx_frame = w->mx;
        nh.npages = w->db_pages;
        nh.cksum[0] = w->mx ? w->s_commit[0] : 0;
        nh.cksum[1] = w->mx ? w->s_commit[1] : 0;
        if (have) {
            fmt_put_u32(nh.salt, h.salt1);
            fmt_put_u32(nh.salt + 4, h.salt2);
        }
        if ((rc = walidx_write_hdr(w->idx, &nh)) == 0) {
            walidx_set_backfilled(w->idx, 0);
            walidx_set_backfill_attempted(w->idx, w->mx);
            walidx_set_read_mark(w->idx, 0, 0);
            for (int i = 1; i < WIDX_NREADERS; i++) {
                /* A mark some reader holds stays as it is. */
                if (walidx_lock(w->idx, WIDX_READ(i), 1, 1) == 0) {
                    walidx_set_read_mark(w->idx, i, i == 1 && w->mx ? w->mx : WIDX_MARK_UNUSED);
                    walidx_unlock(w->idx, WIDX_READ(i), 1, 1);
                }
            }
            w->hdr = nh;
            w->backfilled = 0;
            memcpy(w->gen, nh.salt, 8);
            w->gen_be = nh.big_endian;
            w->gen_valid = 1;
            w->s_last[0] = w->s_commit[0];
            w->s_last[1] = w->s_commit[1];
        }
    }
    walidx_unlock(w->idx, first, WIDX_READ0 - first, 1);
    if (rc < 0) {
        index_reset(w);
        w->gen_valid = 0;
    }
    return rc;
}

/* ---- catching up with the shared header ---- */

/* Adopt header `h` (valid): the private index follows its generation and
 * frames; changes of the database file go to the observer. */
static void refresh_backfilled(wal *w);

static int adopt(wal *w, const widx_hdr *h)
{
    int rc;
    if (!w->gen_valid || memcmp(w->gen, h->salt, 8) != 0 || h->mx_frame < w->mx ||
        (h->mx_frame == w->mx && memcmp(w->hdr.cksum, h->cksum, sizeof h->cksum) != 0)) {
        /* Another generation (or a WAL rebuilt differently): the frames this
         * handle knew are gone, and the file may hold anything. */
        if (w->gen_valid && w->obs.all_changed)
            w->obs.all_changed(w->obs.arg);
        index_reset(w);
        memcpy(w->gen, h->salt, 8);
        w->gen_be = h->big_endian;
        w->gen_valid = 1;
        w->backfilled = 0;
    }
    /* This handle's writer's spilled frames, if any, keep their chain state. */
    int uncommitted = w->nframes > w->mx;
    uint32_t base = w->nframes;
    int missing = 0;
    for (uint32_t f = w->nframes + 1; f <= h->mx_frame; f++) {
        uint32_t pgno = walidx_frame_pgno(w->idx, f);
        if (pgno == 0) {
            missing = 1;
            break;
        }
        if ((rc = index_add(w, f, pgno)) < 0) {
            index_cut(w, base);
            return rc;
        }
        w->nframes = f;
    }
    /* The entries were read without a lock that keeps the WAL from starting
     * over (as SQLite's readers read them only after taking a read lock):
     * they hold only if the header is still the one they were read for.
     * Else another connection restarted the WAL meanwhile: try again. */
    if (base < w->nframes || missing) {
        if (!walidx_hdr_same(w->idx, h)) {
            /* (The generation, if it changed at the start of this call, stays
             * noted, with the changes it meant already told.) */
            index_cut(w, base);
            return FOLIO_BUSY;
        }
        if (missing) {
            index_cut(w, base);
            return FOLIO_CORRUPT; /* a committed frame the index lacks */
        }
    }
    w->mx = h->mx_frame;
    w->db_pages = h->npages;
    w->s_commit[0] = h->cksum[0];
    w->s_commit[1] = h->cksum[1];
    if (!uncommitted) {
        w->s_last[0] = w->s_commit[0];
        w->s_last[1] = w->s_commit[1];
    }
    if (h->page_size && w->page_size == 0)
        w->page_size = h->page_size;
    w->hdr = *h;
    refresh_backfilled(w);
    if (w->mx && !w->file && (rc = open_file(w)) < 0)
        return rc;
    assert(wal_check_state(w));
    return 0;
}

/* Pages checkpointed since this handle last looked have new images in the
 * database file. */
static void refresh_backfilled(wal *w)
{
    uint32_t nb = walidx_backfilled(w->idx);
    if (nb > w->hdr.mx_frame)
        nb = w->hdr.mx_frame; /* never trusted past the published commits (a peer's bug) */
    if (nb > w->backfilled && w->obs.file_page_changed)
        for (uint32_t f = w->backfilled + 1; f <= nb; f++)
            w->obs.file_page_changed(w->obs.arg, w->pgno[f]);
    w->backfilled = nb;
}

/*
 * Read the header into w->hdr. When it is not valid: with WRITE (held, or
 * taken here for the purpose) read again and recover if still so. Returns
 * 0, FOLIO_BUSY (WRITE is held elsewhere: retry; *recovering when RECOVER
 * is too) or an error.
 */
static int read_header(wal *w, int *recovering)
{
    *recovering = 0;
    if (w->has_staged) {
        /* This handle holds WRITE and wrote the shared header last: only
         * a checkpoint's progress can have changed. */
        refresh_backfilled(w);
        return 0;
    }
    widx_hdr h;
    int rc = walidx_read_hdr(w->idx, &h, w->writer);
    if (rc == 0)
        return adopt(w, &h);
    if (rc < 0)
        return rc;
    int took = 0;
    if (!w->writer) {
        if ((rc = walidx_lock(w->idx, WIDX_WRITE, 1, 1)) < 0) {
            if (rc == FOLIO_BUSY && walidx_lock(w->idx, WIDX_RECOVER, 1, 0) == 0)
                walidx_unlock(w->idx, WIDX_RECOVER, 1, 0);
            else if (rc == FOLIO_BUSY)
                *recovering = 1;
            return rc;
        }
        took = 1;
    }
    rc = walidx_read_hdr(w->idx, &h, 1);
    if (rc == 0) {
        rc = adopt(w, &h);
    } else if (rc > 0) {
        if (w->gen_valid && w->obs.all_changed)
            w->obs.all_changed(w->obs.arg);
        rc = recover(w);
    }
    if (took)
        walidx_unlock(w->idx, WIDX_WRITE, 1, 1);
    return rc;
}

unsigned wal_retry_delay_ms(int cnt)
{
    /* SQLite's schedule of retries for a reader that keeps meeting changes:
     * a few at once, then sleeps that grow quadratically (in microseconds,
     * (cnt - 9)^2 * 39; at least a millisecond here). */
    if (cnt <= 5)
        return 0;
    unsigned us = cnt < 10 ? 1 : (unsigned)(cnt - 9) * (unsigned)(cnt - 9) * 39;
    return us >= 1000 ? us / 1000 : 1;
}

int wal_try_refresh(wal *w, int *recovering)
{
    return read_header(w, recovering);
}

/* One attempt at a read lock for the header just read: 0, or FOLIO_BUSY to
 * retry from the header. */
static int try_read_lock(wal *w, uint32_t *out_mx, int *out_slot)
{
    walidx *x = w->idx;
    uint32_t mx = w->hdr.mx_frame;
    int rc;
    if (w->backfilled == mx) {
        /* Everything is in the database file: read it alone, unless a
         * checkpoint is copying (it holds READ0 exclusively). */
        rc = walidx_lock(x, WIDX_READ0, 1, 0);
        if (rc == 0) {
            if (!walidx_hdr_same(x, &w->hdr)) {
                walidx_unlock(x, WIDX_READ0, 1, 0);
                return FOLIO_BUSY;
            }
            *out_mx = 0;
            *out_slot = 0;
            return 0;
        }
        if (rc != FOLIO_BUSY)
            return rc;
    }
    /* The largest mark at or below the snapshot. */
    uint32_t best = 0;
    int bi = 0;
    for (int i = 1; i < WIDX_NREADERS; i++) {
        uint32_t m = walidx_read_mark(x, i);
        if (best <= m && m <= mx) {
            best = m;
            bi = i;
        }
    }
    if (best < mx || bi == 0) {
        /* Set a free mark to the snapshot, so that checkpoints may go that far. */
        for (int i = 1; i < WIDX_NREADERS; i++) {
            rc = walidx_lock(x, WIDX_READ(i), 1, 1);
            if (rc == 0) {
                walidx_set_read_mark(x, i, mx);
                walidx_unlock(x, WIDX_READ(i), 1, 1);
                best = mx;
                bi = i;
                break;
            }
            if (rc != FOLIO_BUSY)
                return rc;
        }
    }
    if (bi == 0)
        return FOLIO_BUSY;
    if ((rc = walidx_lock(x, WIDX_READ(bi), 1, 0)) < 0)
        return rc; /* BUSY: someone is moving that mark */
    /* The mark and the header must not have moved while we took the lock. */
    if (walidx_read_mark(x, bi) != best || !walidx_hdr_same(x, &w->hdr)) {
        walidx_unlock(x, WIDX_READ(bi), 1, 0);
        return FOLIO_BUSY;
    }
    *out_mx = mx;
    *out_slot = bi;
    return 0;
}

int wal_try_begin_read(wal *w, uint32_t *out_mx, int *out_slot, int *recovering)
{
    int rc = read_header(w, recovering);
    if (rc == 0)
        rc = try_read_lock(w, out_mx, out_slot);
    return rc;
}

void wal_busy_message(wal *w, int recovering, char *buf, size_t n)
{
    char who[48];
    walidx_holder(w->idx, recovering ? WIDX_RECOVER : WIDX_WRITE, 1, who, sizeof who);
    if (recovering)
        snprintf(buf, n, "database is locked: %s is rebuilding the WAL index",
                 who[0] ? who : "another connection");
    else
        snprintf(buf, n,
                 "database is locked: no stable snapshot could be read (the WAL index kept "
                 "changing%s%s)",
                 who[0] ? "; WRITE is held by " : "", who);
}

void wal_end_read(wal *w, int slot)
{
    walidx_unlock(w->idx, WIDX_READ(slot), 1, 0);
}

/* ---- open / close ---- */

int wal_open(wal **out, os_vfs *vfs, const char *db_path, uint32_t *page_size, int readonly,
             unsigned busy_timeout_ms, const wal_observer *obs, char *err, size_t errlen)
{
    int rc;
    *out = NULL;
    wal *w = os_calloc(1, sizeof *w);
    if (!w)
        return FOLIO_NOMEM;
    size_t n = strlen(db_path);
    w->path = os_malloc(n + 5);
    char *shm = os_malloc(n + 5);
    if (!w->path || !shm) {
        os_free(shm);
        os_free(w->path);
        os_free(w);
        return FOLIO_NOMEM;
    }
    memcpy(w->path, db_path, n);
    memcpy(w->path + n, "-wal", 5);
    memcpy(shm, db_path, n);
    memcpy(shm + n, "-shm", 5);
    w->vfs = vfs;
    w->readonly = readonly;
    w->page_size = *page_size;
    w->busy_timeout_ms = busy_timeout_ms;
    if (obs)
        w->obs = *obs;
    rc = open_file(w);
    if (rc == FOLIO_CANTOPEN && readonly)
        rc = 0; /* no WAL yet: nothing to read in it */
    if (rc < 0) {
        snprintf(err, errlen, "cannot open %s", w->path);
        goto fail;
    }
    /* Join the -shm; a first connection elsewhere may be setting it up. */
    uint64_t deadline = vfs->now_ms(vfs) + busy_timeout_ms;
    for (unsigned nap = 1;;) {
        rc = walidx_open(&w->idx, vfs, shm, err, errlen);
        if (rc != FOLIO_BUSY || vfs->now_ms(vfs) >= deadline)
            break;
        vfs->sleep_ms(vfs, nap);
        nap = nap < 20 ? nap * 2 : nap;
    }
    if (rc < 0)
        goto fail;
    int recovering = 0;
    for (int cnt = 1; (rc = read_header(w, &recovering)) == FOLIO_BUSY; cnt++) {
        if (vfs->now_ms(vfs) >= deadline)
            break;
        unsigned ms = wal_retry_delay_ms(cnt);
        if (ms)
            vfs->sleep_ms(vfs, ms);
    }
    if (rc < 0) {
        if (rc == FOLIO_BUSY)
            wal_busy_message(w, recovering, err, errlen);
        else
            snprintf(err, errlen, "cannot read %s%s", w->path,
                     rc == FOLIO_CORRUPT ? ": its index is damaged" : "");
        goto fail;
    }
    *page_size = w->page_size;
    os_free(shm);
    *out = w;
    return 0;
fail:
    os_free(shm);
    wal_close(w, 0);
    return rc;
}

void wal_set_sync_header(wal *w, int on)
{
    w->sync_header = on;
}

void wal_set_page_size(wal *w, uint32_t page_size)
{
    if (w->page_size == 0)
        w->page_size = page_size;
}

void wal_set_busy_timeout(wal *w, unsigned ms)
{
    w->busy_timeout_ms = ms;
}

void wal_close(wal *w, int delete_files)
{
    if (!w)
        return;
    /* As SQLite: the -shm goes first, then the -wal. */
    if (w->idx)
        walidx_close(w->idx, delete_files);
    if (w->file)
        w->vfs->close(w->file);
    if (delete_files && !w->readonly)
        w->vfs->remove(w->vfs, w->path);
    os_free(w->path);
    os_free(w->stage);
    os_free(w->pgno);
    os_free(w->prev);
    os_free(w->hkey);
    os_free(w->hval);
    os_free(w);
}

uint32_t wal_mx(const wal *w)
{
    return w->mx;
}
uint32_t wal_nframes(const wal *w)
{
    return w->nframes;
}
uint32_t wal_db_pages(const wal *w)
{
    return w->db_pages;
}
uint32_t wal_max_pgno(const wal *w)
{
    return w->max_pgno;
}
uint32_t wal_backfilled(const wal *w)
{
    return w->backfilled;
}
uint64_t wal_file_bytes(const wal *w)
{
    return w->file_bytes;
}
uint32_t wal_ckpt_seq(const wal *w)
{
    return w->ckpt_seq;
}
uint32_t wal_page_size(const wal *w)
{
    return w->hdr.page_size;
}

static void count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

int wal_read_frame(wal *w, uint32_t frame, uint8_t *buf)
{
    assert(frame >= 1 && frame <= w->nframes && w->file);
    count(&w->n_frames_read, 1);
    return w->vfs->read(w->file, buf, w->page_size,
                        frame_offset(w, frame) + FMT_WAL_FRAME_HEADER_SIZE, NULL);
}

uint32_t wal_frame_pgno(const wal *w, uint32_t frame)
{
    return frame >= 1 && frame <= w->nframes ? w->pgno[frame] : 0;
}

int wal_frame_commit_size(wal *w, uint32_t frame, uint32_t *out)
{
    uint8_t b[8];
    int rc = w->vfs->read(w->file, b, sizeof b, frame_offset(w, frame), NULL);
    if (rc < 0)
        return rc;
    *out = fmt_get_u32(b + 4);
    return 0;
}

void wal_gen_salts(const wal *w, uint8_t out[8])
{
    memcpy(out, w->gen, 8);
}

int wal_read_committed_frame(wal *w, uint32_t frame, uint8_t *buf)
{
    count(&w->n_frames_read, 1);
    return w->vfs->read(w->file, buf, w->page_size,
                        frame_offset(w, frame) + FMT_WAL_FRAME_HEADER_SIZE, NULL);
}

/* ---- write side ---- */

static uint32_t random_u32(wal *w)
{
    /* Salts only need to differ between generations; mix time and address. */
    /* Never the C library's rand(): the application's sequence is its own. */
    static uint64_t counter;
    uint64_t x = w->vfs->now_ms(w->vfs) ^ ((uint64_t)(uintptr_t)w << 13) ^
                 ((uint64_t)fmt_get_u32(w->hdr.salt + 4) * 0x9e3779b97f4a7c15ull) ^
                 (__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * 0xbf58476d1ce4e5b9ull);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (uint32_t)x;
}

int wal_begin_write(wal *w)
{
    assert(!w->readonly && !w->writer);
    int rc = walidx_lock(w->idx, WIDX_WRITE, 1, 1);
    if (rc < 0)
        return rc;
    w->writer = 1;
    int recovering;
    if ((rc = read_header(w, &recovering)) < 0 || (rc = open_file(w)) < 0) {
        w->writer = 0;
        walidx_unlock(w->idx, WIDX_WRITE, 1, 1);
        return rc;
    }
    return 0;
}

void wal_end_write(wal *w)
{
    if (!w->writer)
        return;
    assert(!w->has_staged); /* their publisher lets go of WRITE */
    wal_discard_uncommitted(w);
    if (w->writer_read)
        walidx_unlock(w->idx, WIDX_READ(1), 1, 0);
    w->writer_read = 0;
    w->writer = 0;
    walidx_unlock(w->idx, WIDX_WRITE, 1, 1);
}

int wal_restart_due(const wal *w)
{
    return w->writer && w->mx != 0 && w->backfilled == w->mx && walidx_backfilled(w->idx) == w->mx;
}

/* A new generation in the shared header: mx 0, salt-1 one more, salt-2
 * random, the checkpoint information reset (caller holds WRITE, and
 * READ1..4 or knows no reader uses the WAL). */
static int restart_header(wal *w)
{
    widx_hdr h = w->hdr;
    uint32_t salt1 = fmt_get_u32(h.salt) + 1;
    fmt_put_u32(h.salt, salt1);
    fmt_put_u32(h.salt + 4, random_u32(w));
    h.mx_frame = 0;
    int rc = walidx_write_hdr(w->idx, &h);
    if (rc < 0)
        return rc;
    walidx_set_backfilled(w->idx, 0);
    walidx_set_backfill_attempted(w->idx, 0);
    walidx_set_read_mark(w->idx, 1, 0);
    for (int i = 2; i < WIDX_NREADERS; i++)
        walidx_set_read_mark(w->idx, i, WIDX_MARK_UNUSED);
    w->ckpt_seq++;
    index_reset(w);
    w->db_pages = h.npages;
    w->hdr = h;
    w->backfilled = 0;
    memcpy(w->gen, h.salt, 8);
    w->gen_be = h.big_endian;
    w->gen_valid = 1;
    return 0;
}

int wal_restart_lock(wal *w)
{
    if (!wal_restart_due(w) || walidx_held(w->idx, WIDX_READ(1), WIDX_NREADERS - 1))
        return 0;
    /* READ0 shared first, as SQLite's writer holds it when it restarts: no
     * checkpoint can be copying then (it holds READ0 exclusively). */
    int rc = walidx_lock(w->idx, WIDX_READ0, 1, 0);
    if (rc < 0)
        return rc == FOLIO_BUSY ? 0 : rc;
    rc = walidx_lock(w->idx, WIDX_READ(1), WIDX_NREADERS - 1, 1);
    if (rc < 0) {
        walidx_unlock(w->idx, WIDX_READ0, 1, 0);
        return rc == FOLIO_BUSY ? 0 : rc; /* a reader uses it: append after its frames */
    }
    w->restarting = 1;
    return 1;
}

int wal_restart_finish(wal *w)
{
    assert(w->restarting);
    int rc = restart_header(w);
    walidx_unlock(w->idx, WIDX_READ(1), WIDX_NREADERS - 1, 1);
    /* Like SQLite's writer, hold READ1 (its mark is 0 now) to the end of the
     * transaction: a checkpoint that read the old header cannot copy then. */
    if (rc == 0 && walidx_lock(w->idx, WIDX_READ(1), 1, 0) == 0)
        w->writer_read = 1;
    walidx_unlock(w->idx, WIDX_READ0, 1, 0);
    w->restarting = 0;
    return rc;
}

/* Frame 1 of a generation: the WAL file's header. New salts unless a
 * restart chose them. */
static int write_file_header(wal *w)
{
    fmt_walheader h;
    memset(&h, 0, sizeof h);
    h.magic = NATIVE_MAGIC;
    h.version = FMT_WAL_VERSION;
    h.page_size = w->page_size;
    h.ckpt_seq = w->ckpt_seq;
    uint32_t s1 = fmt_get_u32(w->hdr.salt), s2 = fmt_get_u32(w->hdr.salt + 4);
    if (w->has_staged) {
        /* (Never: a generation starts only when nothing is staged.) */
        s1 = fmt_get_u32(w->gen);
        s2 = fmt_get_u32(w->gen + 4);
    }
    if (s1 == 0 && s2 == 0) {
        s1 = random_u32(w);
        s2 = random_u32(w);
    }
    h.salt1 = s1;
    h.salt2 = s2;
    uint8_t raw[FMT_WAL_HEADER_SIZE];
    fmt_walheader_encode(raw, &h);
    int rc = w->vfs->write(w->file, raw, sizeof raw, 0);
    /* The new salts must be durable before any frame of the new generation
     * is: else a power loss could keep the old header and an old frame 1
     * while later frames were overwritten, and recovery would replay part
     * of a generation already in the database file. */
    if (rc == 0 && w->sync_header) {
        count(&w->n_syncs, 1);
        rc = w->vfs->sync(w->file);
    }
    if (rc < 0)
        return rc;
    /* The published header takes the salts with the first commit. */
    fmt_put_u32(w->gen, s1);
    fmt_put_u32(w->gen + 4, s2);
    w->gen_valid = 1;
    w->gen_be = (uint8_t)(h.magic & 1);
    w->s_commit[0] = w->s_last[0] = h.cksum1;
    w->s_commit[1] = w->s_last[1] = h.cksum2;
    if (w->file_bytes < FMT_WAL_HEADER_SIZE)
        w->file_bytes = FMT_WAL_HEADER_SIZE;
    return 0;
}

/*
 * A commit whose frames reached the file but that failed afterwards must not
 * be found later (by any recovery): its commit frame is overwritten with
 * zeros, which ends every frame chain there. If even that fails, the WAL is
 * marked broken: the handle must be reopened.
 */
/* With FOLIO_SYNC_NORMAL the frames reach the device when a checkpoint
 * syncs the WAL before copying them; left until then, that sync has a burst
 * of megabytes to write while the device sat idle, and writers wait on the
 * checkpoint. So every WAL_WRITEBACK_BYTES of frames are sent on their way
 * at once, without waiting (single-row commits: 20% faster where the disk
 * is the bound). A new generation writes from the start again. */
#define WAL_WRITEBACK_BYTES ((uint64_t)512 << 10)

static void start_writeback(wal *w, uint64_t start, uint64_t end)
{
    if (!w->vfs->start_writeback)
        return;
    if (start < w->kicked)
        w->kicked = start;
    if (end - w->kicked >= WAL_WRITEBACK_BYTES) {
        w->vfs->start_writeback(w->file, w->kicked, end - w->kicked);
        w->kicked = end;
    }
}

static int erase_failed(wal *w, uint32_t first, uint32_t n, uint32_t commit_pages, int rc)
{
    if (commit_pages && n) {
        uint8_t zero[FMT_WAL_FRAME_HEADER_SIZE];
        memset(zero, 0, sizeof zero);
        if (w->vfs->write(w->file, zero, sizeof zero, frame_offset(w, first + n - 1)) < 0)
            w->broken = 1;
    }
    return rc;
}

uint32_t wal_next_salt1(wal *w)
{
    if (w->nframes != 0 || w->has_staged)
        return fmt_get_u32(w->gen);
    /* write_file_header takes the header's salts, or random ones when
     * there are none: choose those now. */
    if (fmt_get_u32(w->hdr.salt) == 0 && fmt_get_u32(w->hdr.salt + 4) == 0) {
        fmt_put_u32(w->hdr.salt, random_u32(w));
        fmt_put_u32(w->hdr.salt + 4, random_u32(w));
    }
    return fmt_get_u32(w->hdr.salt);
}

int wal_append(wal *w, uint32_t n, const uint32_t *pgnos, uint8_t *const *pages,
               uint32_t commit_pages, int mode, uint32_t *out_first)
{
    int rc;
    assert(!w->readonly && w->file && w->writer);
    if (w->broken)
        return FOLIO_IOERR;
    if (w->nframes == 0 && (rc = write_file_header(w)) < 0)
        return rc;
    uint32_t fb = frame_bytes(w);
    uint32_t first = w->nframes + 1;
    /* Write in batches to bound the staging buffer. */
    enum { BATCH = 128 };
    uint32_t batch = n < BATCH ? n : BATCH;
    size_t need = (size_t)fb * (batch ? batch : 1);
    if (need > w->stage_cap) {
        uint8_t *nb = os_realloc(w->stage, need);
        if (!nb)
            return FOLIO_NOMEM;
        w->stage = nb;
        w->stage_cap = need;
    }
    uint8_t *buf = w->stage;
    uint32_t s[2] = {w->s_last[0], w->s_last[1]};
    uint8_t salt1[4], salt2[4];
    memcpy(salt1, w->gen, 4);
    memcpy(salt2, w->gen + 4, 4);
    uint32_t done = 0;
    rc = 0;
    while (done < n) {
        uint32_t k = n - done < batch ? n - done : batch;
        for (uint32_t i = 0; i < k; i++) {
            uint32_t j = done + i;
            uint8_t *fh = buf + (size_t)i * fb;
            uint32_t dbsz = (commit_pages && j == n - 1) ? commit_pages : 0;
            memcpy(fh + FMT_WAL_FRAME_HEADER_SIZE, pages[j], w->page_size);
            fmt_walframe_encode(fh, pgnos[j], dbsz, fmt_get_u32(salt1), fmt_get_u32(salt2),
                                w->gen_be != 0, fh + FMT_WAL_FRAME_HEADER_SIZE, w->page_size, s);
        }
        rc = w->vfs->write(w->file, buf, (size_t)k * fb, frame_offset(w, first + done));
        if (rc < 0)
            break;
        done += k;
    }
    if (w->stage_cap > ((size_t)256 << 10)) {
        /* Only a small buffer is kept between commits. */
        os_free(w->stage);
        w->stage = NULL;
        w->stage_cap = 0;
    }
    if (rc < 0)
        return erase_failed(w, first, n, commit_pages, rc);
    count(&w->n_frames_written, n);
    /* Index the frames, privately and in the -shm (where other connections
     * ignore them until a header names them). */
    for (uint32_t j = 0; j < n; j++) {
        if ((rc = index_add(w, first + j, pgnos[j])) == 0) {
            w->nframes = first + j;
            rc = walidx_append(w->idx, first + j, pgnos[j]);
        }
        if (rc < 0) {
            index_cut(w, first - 1);
            walidx_truncate(w->idx, first - 1);
            return erase_failed(w, first, n, commit_pages, rc);
        }
    }
    w->s_last[0] = s[0];
    w->s_last[1] = s[1];
    uint64_t end = frame_offset(w, w->nframes + 1);
    if (end > w->file_bytes)
        w->file_bytes = end;
    int sync = mode == WAL_APPEND_SYNC;
    if (sync)
        count(&w->n_syncs, 1);
    if (mode == WAL_APPEND_PUBLISH && w->sync_header)
        start_writeback(w, frame_offset(w, first), end);
    if (sync && (rc = w->vfs->sync(w->file)) < 0) {
        /* Not known to be durable: treat the commit as failed. */
        wal_discard_uncommitted(w);
        return erase_failed(w, first, n, commit_pages, rc);
    }
    if (commit_pages) {
        /* The commit: the header that every connection reads, written now
         * or, staged, by wal_publish(). */
        widx_hdr h = w->has_staged ? w->staged : w->hdr;
        h.change++;
        h.page_size = w->page_size;
        h.mx_frame = w->nframes;
        h.npages = commit_pages;
        h.cksum[0] = s[0];
        h.cksum[1] = s[1];
        memcpy(h.salt, w->gen, 8);
        h.big_endian = w->gen_be;
        if (mode == WAL_APPEND_STAGE) {
            w->staged = h;
            w->has_staged = 1;
        } else {
            assert(!w->has_staged);
            if ((rc = walidx_write_hdr(w->idx, &h)) < 0) {
                wal_discard_uncommitted(w);
                return erase_failed(w, first, n, commit_pages, rc);
            }
            w->hdr = h;
        }
        w->mx = w->nframes;
        w->db_pages = commit_pages;
        w->s_commit[0] = s[0];
        w->s_commit[1] = s[1];
    }
    if (out_first)
        *out_first = first;
    assert(wal_check_state(w));
    return 0;
}

int wal_staged(const wal *w)
{
    return w->has_staged;
}

void wal_staged_header(const wal *w, widx_hdr *out)
{
    *out = w->staged;
}

int wal_publish(wal *w, const widx_hdr *h)
{
    assert(w->writer && w->has_staged && h->mx_frame <= w->mx);
    widx_hdr c = *h;
    int rc = walidx_write_hdr(w->idx, &c);
    if (rc < 0)
        return rc;
    w->hdr = c;
    if (h->mx_frame == w->mx)
        w->has_staged = 0;
    assert(wal_check_state(w));
    return 0;
}

void wal_drop_staged(wal *w)
{
    if (!w->has_staged)
        return;
    /* Their frames may be in the file: the first one's header is erased,
     * so that neither recovery nor another connection's scan goes past
     * the published commits (as erase_failed does for one commit). */
    uint8_t zero[FMT_WAL_FRAME_HEADER_SIZE];
    memset(zero, 0, sizeof zero);
    if (w->vfs->write(w->file, zero, sizeof zero, frame_offset(w, w->hdr.mx_frame + 1)) < 0)
        w->broken = 1;
    w->mx = w->hdr.mx_frame;
    w->db_pages = w->hdr.npages;
    w->s_commit[0] = w->hdr.cksum[0];
    w->s_commit[1] = w->hdr.cksum[1];
    w->has_staged = 0;
    wal_discard_uncommitted(w);
}

int wal_write_held(const wal *w)
{
    return w->writer;
}

void wal_discard_uncommitted(wal *w)
{
    if (w->nframes > w->mx && w->writer)
        walidx_truncate(w->idx, w->mx);
    index_cut(w, w->mx);
    w->s_last[0] = w->s_commit[0];
    w->s_last[1] = w->s_commit[1];
}

int wal_sync(wal *w)
{
    if (!w->file || w->readonly)
        return 0;
    count(&w->n_syncs, 1);
    return w->vfs->sync(w->file);
}

void wal_counters_get(wal *w, wal_counters *out)
{
    out->frames_written = atomic_load_explicit(&w->n_frames_written, memory_order_relaxed);
    out->frames_read = atomic_load_explicit(&w->n_frames_read, memory_order_relaxed);
    out->syncs = atomic_load_explicit(&w->n_syncs, memory_order_relaxed);
}

/* ---- checkpoint support ---- */

int wal_lock(wal *w, int slot, int n, int exclusive)
{
    return walidx_lock(w->idx, slot, n, exclusive);
}

void wal_unlock(wal *w, int slot, int n, int exclusive)
{
    walidx_unlock(w->idx, slot, n, exclusive);
}

int wal_lock_held(const wal *w, int slot, int n)
{
    return walidx_held(w->idx, slot, n);
}

void wal_lock_holder(wal *w, int slot, int exclusive, char *buf, size_t n)
{
    walidx_holder(w->idx, slot, exclusive, buf, n);
}

uint32_t wal_safe_frame(wal *w, int (*busy)(void *arg), void *arg)
{
    uint32_t safe = w->mx;
    for (int i = 1; i < WIDX_NREADERS; i++) {
        uint32_t y = walidx_read_mark(w->idx, i);
        if (safe <= y)
            continue;
        int rc;
        while ((rc = walidx_lock(w->idx, WIDX_READ(i), 1, 1)) == FOLIO_BUSY && busy && busy(arg)) {
        }
        if (rc == 0) {
            /* Nobody reads with this mark: move it up (READ1 to the end,
             * the others out of use, as SQLite does). */
            walidx_set_read_mark(w->idx, i, i == 1 ? safe : WIDX_MARK_UNUSED);
            walidx_unlock(w->idx, WIDX_READ(i), 1, 1);
        } else {
            safe = y;
            busy = NULL; /* as SQLite: wait for the first busy reader only */
        }
    }
    return safe;
}

typedef struct ckpt_ent {
    uint32_t pgno, frame;
} ckpt_ent;

static int ckpt_cmp(const void *a, const void *b)
{
    const ckpt_ent *x = a, *y = b;
    return x->pgno < y->pgno ? -1 : x->pgno > y->pgno;
}

int wal_checkpoint_pages(wal *w, uint32_t from, uint32_t upto,
                         int (*fn)(void *arg, uint32_t pgno, uint32_t frame), void *arg)
{
    if (upto > w->mx)
        upto = w->mx;
    uint32_t n = 0;
    ckpt_ent *v = os_malloc(sizeof *v * (upto ? upto : 1));
    if (!v)
        return FOLIO_NOMEM;
    /* Pages past the size of the last commit are not part of the database
     * (a later commit made it smaller): their frames are stale, and the
     * writer may be using those page numbers in the file for new pages. */
    for (uint32_t f = from + 1; f <= upto; f++) {
        if (w->pgno[f] <= w->db_pages && wal_find(w, w->pgno[f], upto) == f) {
            v[n].pgno = w->pgno[f];
            v[n].frame = f;
            n++;
        }
    }
    qsort(v, n, sizeof *v, ckpt_cmp);
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++)
        rc = fn(arg, v[i].pgno, v[i].frame);
    os_free(v);
    return rc;
}

void wal_header_get(const wal *w, widx_hdr *out)
{
    *out = w->hdr;
}

int wal_header_is(wal *w, const widx_hdr *h)
{
    return walidx_hdr_same(w->idx, h);
}

void wal_set_backfill_attempted(wal *w, uint32_t upto)
{
    walidx_set_backfill_attempted(w->idx, upto);
}

void wal_set_backfilled(wal *w, uint32_t upto)
{
    if (upto > w->mx)
        upto = w->mx;
    walidx_set_backfilled(w->idx, upto);
    /* This handle's own copies: the pager dropped their file images. */
    if (upto > w->backfilled)
        w->backfilled = upto;
}

int wal_truncate_file(wal *w)
{
    if (w->readonly || !w->file)
        return 0;
    int rc = restart_header(w);
    if (rc == 0)
        rc = w->vfs->truncate(w->file, 0);
    if (rc < 0)
        return rc;
    w->file_bytes = 0;
    return 0;
}

void wal_state_get(wal *w, wal_state *out)
{
    memset(out, 0, sizeof *out);
    out->mx = w->mx;
    out->npages = w->db_pages;
    out->backfilled = walidx_backfilled(w->idx);
    for (int i = 0; i < WIDX_NREADERS; i++)
        out->marks[i] = walidx_read_mark(w->idx, i);
    for (int s = 0; s < WIDX_NSLOTS; s++)
        walidx_holder(w->idx, s, 1, out->holders[s], sizeof out->holders[s]);
}
