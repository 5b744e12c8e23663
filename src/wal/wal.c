/*
 * wal.c - SQLite-format write-ahead log: recovery, frame index, append,
 * checkpoint support.
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
 * Recovery keeps frames 1..mx where mx is the last commit frame such that
 * every frame up to it has matching salts and a valid checksum chain.
 *
 * Invariants (checked by wal_check_state in debug builds):
 *   (1) backfilled <= mx <= nframes <= cap.
 *   (2) For every frame f <= nframes: prev[f] < f and pgno[prev[f]] == pgno[f]
 *       when prev[f] != 0.
 *   (3) The hash maps each page to its newest frame <= nframes.
 *   (4) s_commit is the checksum state after frame mx; s_last after nframes.
 *   (5) Frames are only ever appended after nframes; a frame <= mx is never
 *       rewritten until the WAL restarts.
 */
#include "wal/wal.h"
#include "folio.h"
#include "format/format.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wal {
    os_vfs *vfs;
    os_file *file; /* NULL while no -wal exists (read-only open) */
    char *path;
    int readonly;
    uint32_t page_size;
    fmt_walheader hdr;
    int have_hdr; /* hdr is valid (a generation has started) */
    uint8_t hdr_raw[FMT_WAL_HEADER_SIZE];
    uint64_t file_bytes;
    uint64_t file_id[2];

    uint32_t nframes;  /* frames written in this generation, incl. uncommitted */
    uint32_t mx;       /* last commit frame */
    uint32_t db_pages; /* database size recorded by frame mx */
    uint32_t max_pgno; /* largest page number of any frame in this generation */
    uint32_t backfilled;
    uint32_t s_commit[2], s_last[2];

    uint32_t cap;   /* capacity of pgno[] / prev[] */
    uint32_t *pgno; /* pgno[f] for frame f (index 0 unused) */
    uint32_t *prev; /* previous frame of the same page, 0 if none */

    int sync_header; /* sync a new generation's header before any frame */
    uint8_t *stage;  /* wal_append's staging buffer, kept between commits */
    size_t stage_cap;
    int broken; /* frames of a failed commit could not be erased */

    uint32_t hcap; /* hash slots, a power of two */
    uint32_t hcount;
    uint32_t *hkey; /* page number, 0 = empty slot */
    uint32_t *hval; /* newest frame of that page, 0 = none (after discard) */
};

static uint32_t frame_bytes(const wal *w)
{
    return FMT_WAL_FRAME_HEADER_SIZE + w->page_size;
}
static uint64_t frame_offset(const wal *w, uint32_t f)
{
    return FMT_WAL_HEADER_SIZE + (uint64_t)(f - 1) * frame_bytes(w);
}

/* ---- frame index ---- */

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

static void hash_reset(wal *w)
{
    if (w->hcap) {
        memset(w->hkey, 0, w->hcap * sizeof *w->hkey);
        memset(w->hval, 0, w->hcap * sizeof *w->hval);
    }
    w->hcount = 0;
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

static void index_reset(wal *w)
{
    hash_reset(w);
    w->nframes = w->mx = w->db_pages = w->backfilled = w->max_pgno = 0;
}

#ifndef NDEBUG
static int wal_check_state(const wal *w)
{
    if (!(w->backfilled <= w->mx && w->mx <= w->nframes))
        return 0;
    if (w->nframes && w->nframes >= w->cap)
        return 0;
    /* Spot-check the chains of the last few frames. */
    for (uint32_t f = w->nframes; f > 0 && f + 64 > w->nframes; f--) {
        if (w->prev[f] >= f)
            return 0;
        if (w->prev[f] && w->pgno[w->prev[f]] != w->pgno[f])
            return 0;
    }
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

/* ---- recovery ---- */

/*
 * Scan frames from nframes+1 onwards while they are valid, continuing the
 * checksum from s_commit; frames past the last valid commit frame are dropped.
 */
static int scan_frames(wal *w)
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
        uint32_t i;
        for (i = 0; i < n; i++) {
            const uint8_t *fh = buf + (size_t)i * fb;
            fmt_walframe fr;
            fmt_walframe_decode(fh, &fr);
            if (fr.pgno == 0)
                goto done;
            if (!fmt_walframe_verify(fh, fh + FMT_WAL_FRAME_HEADER_SIZE, w->page_size, &w->hdr, s))
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
    /* Drop the uncommitted tail from the index. */
    wal_discard_uncommitted(w);
    return rc;
}

/* Read and validate the header; on success the index is rebuilt from zero. */
static int recover(wal *w)
{
    int rc;
    index_reset(w);
    w->have_hdr = 0;
    if (!w->file)
        return 0;
    if ((rc = w->vfs->size(w->file, &w->file_bytes)) < 0)
        return rc;
    if (w->file_bytes < FMT_WAL_HEADER_SIZE)
        return 0;
    if ((rc = w->vfs->read(w->file, w->hdr_raw, FMT_WAL_HEADER_SIZE, 0, NULL)) < 0)
        return rc;
    fmt_walheader h;
    if (fmt_walheader_decode(w->hdr_raw, &h) < 0)
        return 0; /* not a valid header: the WAL is empty */
    if (w->page_size == 0)
        w->page_size = h.page_size;
    if (h.page_size != w->page_size)
        return 0; /* belongs to another database: never applied */
    w->hdr = h;
    w->have_hdr = 1;
    w->s_commit[0] = h.cksum1;
    w->s_commit[1] = h.cksum2;
    if ((rc = scan_frames(w)) < 0)
        return rc;
    w->s_last[0] = w->s_commit[0];
    w->s_last[1] = w->s_commit[1];
    return 0;
}

int wal_open(wal **out, os_vfs *vfs, const char *db_path, uint32_t *page_size, int readonly,
             char *err, size_t errlen)
{
    int rc;
    *out = NULL;
    wal *w = os_calloc(1, sizeof *w);
    if (!w)
        return FOLIO_NOMEM;
    size_t n = strlen(db_path);
    w->path = os_malloc(n + 5);
    if (!w->path) {
        os_free(w);
        return FOLIO_NOMEM;
    }
    memcpy(w->path, db_path, n);
    memcpy(w->path + n, "-wal", 5);
    w->vfs = vfs;
    w->readonly = readonly;
    w->page_size = *page_size;
    rc = vfs->open(vfs, w->path, readonly ? OS_OPEN_READONLY : OS_OPEN_CREATE, &w->file);
    if (rc == FOLIO_CANTOPEN && readonly) {
        w->file = NULL; /* no WAL: nothing to recover */
        rc = 0;
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot open %s", w->path);
        goto fail;
    }
    if (w->file && (rc = vfs->file_id(w->file, w->file_id)) < 0)
        goto fail;
    if ((rc = recover(w)) < 0) {
        snprintf(err, errlen, "cannot read %s", w->path);
        goto fail;
    }
    *page_size = w->page_size;
    assert(wal_check_state(w));
    *out = w;
    return 0;
fail:
    wal_close(w);
    return rc;
}

void wal_set_sync_header(wal *w, int on)
{
    w->sync_header = on;
}

void wal_set_page_size(wal *w, uint32_t page_size)
{
    if (!w->have_hdr)
        w->page_size = page_size;
}

void wal_close(wal *w)
{
    if (!w)
        return;
    if (w->file)
        w->vfs->close(w->file);
    os_free(w->path);
    os_free(w->stage);
    os_free(w->pgno);
    os_free(w->prev);
    os_free(w->hkey);
    os_free(w->hval);
    os_free(w);
}

int wal_delete_file(wal *w)
{
    if (w->readonly)
        return 0;
    int rc = w->vfs->remove(w->vfs, w->path);
    if (rc == 0)
        index_reset(w), w->have_hdr = 0, w->file_bytes = 0;
    return rc;
}

uint32_t wal_mx(const wal *w)
{
    return w->mx;
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
    return w->have_hdr ? w->hdr.ckpt_seq : 0;
}

int wal_read_frame(wal *w, uint32_t frame, uint8_t *buf)
{
    assert(frame >= 1 && frame <= w->nframes);
    return w->vfs->read(w->file, buf, w->page_size,
                        frame_offset(w, frame) + FMT_WAL_FRAME_HEADER_SIZE, NULL);
}

int wal_read_committed_frame(const wal *w, uint32_t frame, uint8_t *buf)
{
    return w->vfs->read(w->file, buf, w->page_size,
                        frame_offset(w, frame) + FMT_WAL_FRAME_HEADER_SIZE, NULL);
}

int wal_has_header(const wal *w)
{
    return w->have_hdr;
}

int wal_refresh(wal *w, int *out_changed)
{
    int rc;
    *out_changed = 0;
    uint64_t id[3], st[2];
    if (w->file && w->vfs->file_state && w->vfs->file_state(w->file, st) == 0 && st[0] > 0) {
        /* Still linked: the path names the file we hold (folio and SQLite
         * remove a WAL, they never rename one into place). */
        id[0] = w->file_id[0];
        id[1] = w->file_id[1];
        id[2] = st[1];
        rc = 0;
    } else {
        rc = w->vfs->path_id(w->vfs, w->path, id);
    }
    if (rc == FOLIO_CANTOPEN) {
        /* The WAL was removed (another process checkpointed and closed).
         * Even an empty one: the remover may have written and checkpointed
         * frames in WAL mode, which leaves the change counter alone. */
        if (w->mx || w->have_hdr || w->file)
            *out_changed = 1;
        if (w->file)
            w->vfs->close(w->file);
        w->file = NULL;
        index_reset(w);
        w->have_hdr = 0;
        w->file_bytes = 0;
        if (!w->readonly) {
            if ((rc = w->vfs->open(w->vfs, w->path, OS_OPEN_CREATE, &w->file)) < 0)
                return rc;
            if ((rc = w->vfs->file_id(w->file, w->file_id)) < 0)
                return rc;
        }
        return 0;
    }
    if (rc < 0)
        return rc;
    if (!w->file || id[0] != w->file_id[0] || id[1] != w->file_id[1]) {
        if (w->file)
            w->vfs->close(w->file);
        w->file = NULL;
        rc = w->vfs->open(w->vfs, w->path, w->readonly ? OS_OPEN_READONLY : 0, &w->file);
        if (rc < 0)
            return rc;
        if ((rc = w->vfs->file_id(w->file, w->file_id)) < 0)
            return rc;
        *out_changed = 1;
        return recover(w);
    }
    uint64_t size = id[2];
    uint8_t raw[FMT_WAL_HEADER_SIZE];
    if (size >= FMT_WAL_HEADER_SIZE) {
        if ((rc = w->vfs->read(w->file, raw, sizeof raw, 0, NULL)) < 0)
            return rc;
    } else {
        memset(raw, 0, sizeof raw);
    }
    int hdr_same = (size >= FMT_WAL_HEADER_SIZE) == (w->have_hdr != 0) &&
                   (!w->have_hdr || memcmp(raw, w->hdr_raw, sizeof raw) == 0);
    if (!hdr_same || size < w->file_bytes) {
        uint32_t old_mx = w->mx;
        int had = w->have_hdr;
        if ((rc = recover(w)) < 0)
            return rc;
        *out_changed = (old_mx != 0 || w->mx != 0 || had != w->have_hdr);
        if (!had && !w->have_hdr)
            *out_changed = 0;
        return 0;
    }
    w->file_bytes = size;
    if (!w->have_hdr)
        return 0;
    /* Same generation: pick up frames committed after ours, if any. */
    uint32_t old_mx = w->mx;
    if (frame_offset(w, w->mx + 1) + frame_bytes(w) <= size) {
        /* Usually what lies there is a stale frame of an earlier
         * generation: its salts tell at once, without reading pages. */
        uint8_t fh[FMT_WAL_FRAME_HEADER_SIZE];
        if ((rc = w->vfs->read(w->file, fh, sizeof fh, frame_offset(w, w->mx + 1), NULL)) < 0)
            return rc;
        if (fmt_get_u32(fh + 8) != w->hdr.salt1 || fmt_get_u32(fh + 12) != w->hdr.salt2) {
            w->file_bytes = size;
            return 0;
        }
        wal_discard_uncommitted(w);
        if ((rc = scan_frames(w)) < 0)
            return rc;
        w->s_last[0] = w->s_commit[0];
        w->s_last[1] = w->s_commit[1];
    }
    *out_changed = w->mx != old_mx;
    return 0;
}

/* ---- write side ---- */

static uint32_t random_u32(wal *w)
{
    /* Salts only need to differ between generations; mix time and address. */
    /* Never the C library's rand(): the application's sequence is its own. */
    static uint64_t counter;
    uint64_t x = w->vfs->now_ms(w->vfs) ^ ((uint64_t)(uintptr_t)w << 13) ^
                 ((uint64_t)w->hdr.salt2 * 0x9e3779b97f4a7c15ull) ^
                 (__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * 0xbf58476d1ce4e5b9ull);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (uint32_t)x;
}

/* Begin a new generation: a fresh header with new salts. */
static int start_generation(wal *w)
{
    fmt_walheader h;
    memset(&h, 0, sizeof h);
    h.magic = FMT_WAL_MAGIC_LE;
    h.version = FMT_WAL_VERSION;
    h.page_size = w->page_size;
    h.ckpt_seq = w->have_hdr ? w->hdr.ckpt_seq + 1 : 0;
    h.salt1 = w->have_hdr ? w->hdr.salt1 + 1 : random_u32(w);
    h.salt2 = random_u32(w);
    uint8_t raw[FMT_WAL_HEADER_SIZE];
    fmt_walheader_encode(raw, &h);
    int rc = w->vfs->write(w->file, raw, sizeof raw, 0);
    /* The new salts must be durable before any frame of the new generation
     * is: else a power loss could keep the old header and an old frame 1
     * while later frames were overwritten, and recovery would replay part
     * of a generation already in the database file. */
    if (rc == 0 && w->sync_header)
        rc = w->vfs->sync(w->file);
    if (rc < 0)
        return rc;
    index_reset(w);
    memcpy(w->hdr_raw, raw, sizeof raw);
    w->hdr = h;
    w->have_hdr = 1;
    w->s_commit[0] = w->s_last[0] = h.cksum1;
    w->s_commit[1] = w->s_last[1] = h.cksum2;
    if (w->file_bytes < FMT_WAL_HEADER_SIZE)
        w->file_bytes = FMT_WAL_HEADER_SIZE;
    return 0;
}

int wal_restart_due(const wal *w, int no_readers)
{
    return !w->readonly && w->have_hdr && w->mx != 0 && w->backfilled == w->mx && no_readers;
}

int wal_maybe_restart(wal *w, int no_readers)
{
    if (!wal_restart_due(w, no_readers))
        return 0;
    return start_generation(w);
}

/*
 * A commit whose frames reached the file but that failed afterwards must not
 * be found later (by this process's next refresh, or by any recovery): its
 * commit frame is overwritten with zeros, which ends every frame chain there.
 * If even that fails, the WAL is marked broken: the handle must be reopened.
 */
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

int wal_append(wal *w, uint32_t n, const uint32_t *pgnos, uint8_t *const *pages,
               uint32_t commit_pages, int sync, uint32_t *out_first)
{
    int rc;
    assert(!w->readonly && w->file);
    if (w->broken)
        return FOLIO_IOERR;
    if (!w->have_hdr && (rc = start_generation(w)) < 0)
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
    uint32_t done = 0;
    rc = 0;
    while (done < n) {
        uint32_t k = n - done < batch ? n - done : batch;
        for (uint32_t i = 0; i < k; i++) {
            uint32_t j = done + i;
            uint8_t *fh = buf + (size_t)i * fb;
            uint32_t dbsz = (commit_pages && j == n - 1) ? commit_pages : 0;
            memcpy(fh + FMT_WAL_FRAME_HEADER_SIZE, pages[j], w->page_size);
            fmt_walframe_encode(fh, pgnos[j], dbsz, w->hdr.salt1, w->hdr.salt2,
                                (w->hdr.magic & 1) != 0, fh + FMT_WAL_FRAME_HEADER_SIZE,
                                w->page_size, s);
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
    for (uint32_t j = 0; j < n; j++) {
        if ((rc = index_add(w, first + j, pgnos[j])) < 0) {
            /* Roll the index back to before this call. */
            for (uint32_t f = first + j; f > first; f--) {
                uint32_t old;
                hash_set(w, w->pgno[f - 1], w->prev[f - 1], &old);
            }
            return erase_failed(w, first, n, commit_pages, rc);
        }
    }
    w->nframes = first + n - 1;
    w->s_last[0] = s[0];
    w->s_last[1] = s[1];
    uint64_t end = frame_offset(w, w->nframes + 1);
    if (end > w->file_bytes)
        w->file_bytes = end;
    if (sync && (rc = w->vfs->sync(w->file)) < 0) {
        /* Not known to be durable: treat the commit as failed. */
        wal_discard_uncommitted(w);
        return erase_failed(w, first, n, commit_pages, rc);
    }
    if (commit_pages) {
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

void wal_discard_uncommitted(wal *w)
{
    for (uint32_t f = w->nframes; f > w->mx; f--) {
        uint32_t old;
        /* Restoring a value for an existing key never grows the table. */
        hash_set(w, w->pgno[f], w->prev[f], &old);
    }
    w->nframes = w->mx;
    w->s_last[0] = w->s_commit[0];
    w->s_last[1] = w->s_commit[1];
}

int wal_sync(wal *w)
{
    if (!w->file || w->readonly)
        return 0;
    return w->vfs->sync(w->file);
}

typedef struct ckpt_ent {
    uint32_t pgno, frame;
} ckpt_ent;

static int ckpt_cmp(const void *a, const void *b)
{
    const ckpt_ent *x = a, *y = b;
    return x->pgno < y->pgno ? -1 : x->pgno > y->pgno;
}

int wal_checkpoint_pages(wal *w, uint32_t upto, int (*fn)(void *arg, uint32_t pgno, uint32_t frame),
                         void *arg)
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
    for (uint32_t f = w->backfilled + 1; f <= upto; f++) {
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

void wal_set_backfilled(wal *w, uint32_t upto)
{
    if (upto > w->mx)
        upto = w->mx;
    if (upto > w->backfilled)
        w->backfilled = upto;
}

int wal_truncate_file(wal *w)
{
    if (w->readonly || !w->file)
        return 0;
    int rc = w->vfs->truncate(w->file, 0);
    if (rc < 0)
        return rc;
    index_reset(w);
    w->have_hdr = 0;
    w->file_bytes = 0;
    return 0;
}
