/*
 * pager.c - transactions over the database file and its WAL: the locks
 * (SQLite's, shared with every connection of every process), snapshots,
 * reading pages; opening and closing.
 *
 * Pages come from the newest committed WAL frame visible to the snapshot, or
 * from the database file. Clean pages live in one cache shared by every
 * transaction, keyed by (page number, frame); a frame number names one
 * immutable page image for the life of a WAL generation, so snapshots never
 * see each other's pages. A write transaction keeps private dirty copies;
 * commit appends them as frames and hands them to the cache.
 *
 * Locks, as SQLite takes them in WAL mode: the handle holds a SHARED lock on
 * the database file from open to close (so that no other connection's close
 * removes the WAL and the -shm under it); a read transaction holds a read
 * lock of the WAL index, a write transaction the WAL's WRITE lock (see
 * wal.h); EXCLUSIVE on the file is taken only at close, to learn whether
 * this is the last connection (which then checkpoints and removes the WAL).
 * A read-only handle on a database in rollback-journal mode with no WAL
 * (the "legacy" case) takes SHARED per transaction and reads the file alone,
 * as SQLite's readers of such a file do.
 *
 * Invariants ((4) is checked by cache_check in debug builds):
 *   (1) A cached page (pgno, frame) with frame > 0 holds exactly the image of
 *       that WAL frame of the current generation, and frame <= the WAL's
 *       last written frame.
 *   (2) A cached page (pgno, 0) holds the database file's image of pgno. A
 *       checkpoint of this handle drops it before it overwrites the page; one
 *       of another connection is seen (nBackfill moved) before any
 *       transaction that could read the new image begins.
 *   (3) Checkpoint never copies a frame newer than a held read mark, and
 *       syncs the WAL before writing the database file.
 *   (4) Every cached (hashed) page, pinned or not, is on the eviction ring,
 *       and nothing else is; dirty pages are private to the writer, in
 *       neither. Eviction takes the first page from the ring's head that is
 *       unpinned and not used since it last passed (a clock).
 *   (5) At most one write transaction of the handle exists; it alone holds
 *       `writer`, and it holds the WAL's WRITE lock.
 *   (6) A snapshot with mx == 0 reads the database file only; it is handed
 *       out only with READ0 held (every committed frame is in the file).
 */
#include "base/status.h"
#include "pager/pager_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

uint64_t pager_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void pager_cond_wait_us(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t us)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(us / 1000000u);
    ts.tv_nsec += (long)(us % 1000000u) * 1000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(cv, mu, &ts);
}

void pager_wake_writers(pager *p)
{
    if (p->wq_head)
        pthread_cond_signal(&p->wq_head->cv);
}

void pager_cond_wait_ms(pager *p, unsigned ms)
{
    pager_cond_wait_us(&p->cond, &p->mu, (uint64_t)ms * 1000u);
}

/* Who holds the database file's lock bytes in a way that conflicts with
 * `level` ("" when the system does not say). */
static void db_lock_holder(pager *p, int level, char *buf, size_t n)
{
    int64_t pid = -1;
    uint64_t off = level == OS_LOCK_SHARED ? OS_LOCK_PENDING_BYTE : OS_LOCK_SHARED_FIRST;
    uint64_t len = level == OS_LOCK_SHARED ? 1 + 1 + OS_LOCK_SHARED_SIZE : OS_LOCK_SHARED_SIZE;
    int rc = p->vfs->lock_owner
                 ? p->vfs->lock_owner(p->db, off, len,
                                      level == OS_LOCK_SHARED ? OS_RDLOCK : OS_WRLOCK, &pid)
                 : 0;
    if (rc == 1 && pid > 0)
        snprintf(buf, n, " (held by process %lld)", (long long)pid);
    else
        buf[0] = 0;
}

/* Move the database file's lock to `level`, retrying up to the busy
 * timeout when another connection is in the way (mu held, let go while
 * waiting). */
static int db_lock_wait(pager *p, int level, char *err, size_t errlen)
{
    uint64_t deadline = p->vfs->now_ms(p->vfs) + p->busy_timeout_ms;
    unsigned nap = 1;
    for (;;) {
        int rc = p->vfs->lock(p->db, level);
        if (rc == 0) {
            p->lock_level = level;
            return 0;
        }
        if (rc != FOLIO_BUSY || p->vfs->now_ms(p->vfs) >= deadline) {
            if (rc == FOLIO_BUSY) {
                char who[64];
                db_lock_holder(p, level, who, sizeof who);
                snprintf(err, errlen,
                         level == OS_LOCK_SHARED
                             ? "database is locked: another connection holds it exclusively "
                               "(a sqlite3 in locking_mode=EXCLUSIVE, or one closing)%s"
                             : "database is locked: other connections have it open%s",
                         who);
            } else {
                snprintf(err, errlen, "cannot lock %s", p->path);
            }
            return rc;
        }
        if (nap == 1)
            PAGER_COUNT(p, busy_waits, 1);
        pthread_mutex_unlock(&p->mu);
        p->vfs->sleep_ms(p->vfs, nap);
        pthread_mutex_lock(&p->mu);
        if (nap < 20)
            nap *= 2;
    }
}

/* ---- header and snapshot ---- */

static int read_db_header(pager *p, uint8_t *raw, size_t *out_got)
{
    return p->vfs->read(p->db, raw, FMT_DBHEADER_SIZE, 0, out_got);
}

int pager_db_refresh(pager *p)
{
    uint64_t size;
    int rc = p->vfs->size(p->db, &size);
    if (rc < 0)
        return rc;
    if (size >= FMT_DBHEADER_SIZE && (rc = read_db_header(p, p->db_hdr_raw, NULL)) < 0)
        return rc;
    p->db_bytes = size;
    p->db_stale = 0;
    return 0;
}

/*
 * A legacy handle's view of the file, at the start of a transaction: its
 * size, header and modification stamp tell whether another process changed
 * it since; if so the whole cache goes.
 */
static int legacy_refresh(pager *p)
{
    int rc, changed = 0;
    uint64_t size, st[2];
    int have_stamp = 0;
    if (p->vfs->file_stamp && p->vfs->file_stamp(p->db, st) == 0) {
        size = st[0];
        have_stamp = 1;
    } else if ((rc = p->vfs->size(p->db, &size)) < 0) {
        return rc;
    }
    uint8_t raw[FMT_DBHEADER_SIZE];
    size_t got = 0;
    if (size >= FMT_DBHEADER_SIZE && (rc = read_db_header(p, raw, &got)) < 0)
        return rc;
    if (size != p->db_bytes ||
        (size >= FMT_DBHEADER_SIZE && memcmp(raw + FMT_DBHDR_CHANGE_COUNTER,
                                             p->db_hdr_raw + FMT_DBHDR_CHANGE_COUNTER, 4) != 0) ||
        (have_stamp && p->db_stamp_valid && st[1] != p->db_stamp))
        changed = 1;
    p->db_stamp = have_stamp ? st[1] : 0;
    p->db_stamp_valid = have_stamp;
    p->db_bytes = size;
    if (size >= FMT_DBHEADER_SIZE)
        memcpy(p->db_hdr_raw, raw, FMT_DBHEADER_SIZE);
    if (changed)
        pager_cache_drop_all(p);
    return 0;
}

/* The header says WAL mode (write and read versions 2). */
static int hdr_says_wal(const uint8_t *raw)
{
    return raw[18] == FMT_DBHDR_WAL_VERSION && raw[19] == FMT_DBHDR_WAL_VERSION;
}

/* Pages in the database for snapshot mx: the commit's size; with no frame in
 * the snapshot, the last commit's size the WAL index records (all of it in
 * the file), else what the file itself says. */
static uint32_t snapshot_npages(pager *p, uint32_t mx)
{
    if (mx || (p->wal && wal_db_pages(p->wal)))
        return wal_db_pages(p->wal);
    if (p->db_bytes < FMT_DBHEADER_SIZE)
        return 0;
    uint32_t by_size = (uint32_t)((p->db_bytes + p->page_size - 1) / p->page_size);
    uint32_t hdr_count = fmt_get_u32(p->db_hdr_raw + FMT_DBHDR_PAGE_COUNT);
    uint32_t change = fmt_get_u32(p->db_hdr_raw + FMT_DBHDR_CHANGE_COUNTER);
    uint32_t valid_for = fmt_get_u32(p->db_hdr_raw + FMT_DBHDR_VALID_FOR);
    /* As SQLite: the header's count is trusted only when it was written by a
     * version that maintains it (valid-for equals the change counter). */
    if (hdr_count && valid_for == change)
        return hdr_count;
    return by_size ? by_size : 1;
}

/* ---- following the other connections (called by the WAL, mu held) ---- */

static void obs_file_page_changed(void *arg, uint32_t pgno)
{
    pager *p = arg;
    pager_cache_forget(p, pgno, 0);
    p->db_stale = 1;
}

static void obs_all_changed(void *arg)
{
    pager *p = arg;
    pager_cache_drop_all(p);
    p->db_stale = 1;
}

/* ---- open / close ---- */

/*
 * A database in rollback-journal mode becomes a WAL database as SQLite's
 * journal_mode=WAL makes it one: under EXCLUSIVE, the file format versions
 * at bytes 18 and 19 become 2, and the change counter moves so that
 * connections of the other mode reread the file.
 */
static int switch_to_wal(pager *p, char *err, size_t errlen)
{
    int rc = db_lock_wait(p, OS_LOCK_EXCLUSIVE, err, errlen);
    if (rc < 0) {
        if (rc == FOLIO_BUSY)
            snprintf(err + strlen(err), errlen - strlen(err),
                     "; it is in rollback-journal mode, and switching it to WAL needs it alone");
        return rc;
    }
    if ((rc = read_db_header(p, p->db_hdr_raw, NULL)) == 0 && !hdr_says_wal(p->db_hdr_raw)) {
        uint8_t h[FMT_DBHEADER_SIZE];
        memcpy(h, p->db_hdr_raw, sizeof h);
        uint32_t change = fmt_get_u32(h + FMT_DBHDR_CHANGE_COUNTER) + 1;
        fmt_put_u32(h + FMT_DBHDR_CHANGE_COUNTER, change);
        fmt_put_u32(h + FMT_DBHDR_VALID_FOR, change);
        h[18] = h[19] = FMT_DBHDR_WAL_VERSION;
        rc = p->vfs->write(p->db, h, sizeof h, 0);
        if (rc == 0 && p->sync != FOLIO_SYNC_OFF)
            rc = p->vfs->sync(p->db);
        if (rc == 0)
            memcpy(p->db_hdr_raw, h, sizeof h);
    }
    int drc = p->vfs->lock(p->db, OS_LOCK_SHARED);
    if (drc == 0)
        p->lock_level = OS_LOCK_SHARED;
    if (rc < 0)
        snprintf(err, errlen, "cannot switch %s to WAL mode", p->path);
    return rc < 0 ? rc : drc;
}

/* Join the WAL of a handle that holds SHARED. */
static int attach_wal(pager *p, uint32_t *page_size, char *err, size_t errlen)
{
    wal_observer obs = {p, obs_file_page_changed, obs_all_changed};
    int rc = wal_open(&p->wal, p->vfs, p->path, page_size, p->readonly, p->busy_timeout_ms, &obs,
                      err, errlen);
    if (rc < 0)
        return rc;
    wal_set_sync_header(p->wal, p->sync != FOLIO_SYNC_OFF);
    p->legacy = 0;
    return 0;
}

/* A read-only handle may read a database that has no WAL without the
 * -shm (read-only media): does this one have none? */
static int wal_absent(pager *p)
{
    size_t n = strlen(p->path);
    char *wp = os_malloc(n + 5);
    if (!wp)
        return 0;
    memcpy(wp, p->path, n);
    memcpy(wp + n, "-wal", 5);
    uint64_t id[3];
    int rc = p->vfs->path_id(p->vfs, wp, id);
    os_free(wp);
    return rc == FOLIO_CANTOPEN || (rc == 0 && id[2] == 0);
}

/* The database file's checks at open: header, versions, hot journal. */
static int open_checks(pager *p, uint32_t *out_page_size, char *err, size_t errlen)
{
    os_vfs *vfs = p->vfs;
    const char *path = p->path;
    size_t n = strlen(path);
    int rc;
    uint32_t page_size = 0;
    if ((rc = vfs->size(p->db, &p->db_bytes)) < 0) {
        snprintf(err, errlen, "cannot read %s", path);
        return rc;
    }
    if (p->db_bytes > 0) {
        if (p->db_bytes < FMT_DBHEADER_SIZE) {
            snprintf(err, errlen, "%s: file is not a database (only %llu bytes)", path,
                     (unsigned long long)p->db_bytes);
            rc = FOLIO_NOTADB;
            return rc;
        }
        if ((rc = read_db_header(p, p->db_hdr_raw, NULL)) < 0) {
            snprintf(err, errlen, "cannot read %s", path);
            return rc;
        }
        fmt_dbheader h;
        const char *why = NULL;
        if (!fmt_dbheader_magic_ok(p->db_hdr_raw)) {
            snprintf(err, errlen, "%s: file is not a database", path);
            rc = FOLIO_NOTADB;
            return rc;
        }
        if (fmt_dbheader_decode(p->db_hdr_raw, &h, &why) < 0) {
            snprintf(err, errlen, "%s: page 1: bad database header: %s", path,
                     why ? why : "invalid");
            rc = FOLIO_CORRUPT;
            return rc;
        }
        page_size = h.page_size;
        if (h.text_encoding > 3) {
            snprintf(err, errlen, "%s: unknown text encoding %u", path, h.text_encoding);
            rc = FOLIO_NOTADB;
            return rc;
        }
        if (h.schema_format > 4) {
            snprintf(err, errlen, "%s: schema format %u is not supported (at most 4)", path,
                     h.schema_format);
            rc = FOLIO_UNSUPPORTED;
            return rc;
        }
        if (h.read_version > 2) {
            snprintf(err, errlen, "%s: file format read version %u is not supported", path,
                     h.read_version);
            rc = FOLIO_NOTADB;
            return rc;
        }
        if (h.write_version > 2 && !p->readonly) {
            snprintf(err, errlen,
                     "%s: file format write version %u: open it with FOLIO_OPEN_READONLY", path,
                     h.write_version);
            rc = FOLIO_READONLY;
            return rc;
        }
    }
    /* A rollback journal left by a crash holds pages that must be put back
     * before the file is consistent; folio does not replay it yet. */
    {
        char *jpath = os_malloc(n + 9);
        if (!jpath)
            return FOLIO_NOMEM;
        memcpy(jpath, path, n);
        memcpy(jpath + n, "-journal", 9);
        os_file *jf = NULL;
        int hot = 0;
        if (vfs->open(vfs, jpath, OS_OPEN_READONLY, &jf) == 0) {
            uint64_t jsize = 0;
            uint8_t jh[8];
            size_t got = 0;
            static const uint8_t magic[8] = {0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7};
            if (vfs->size(jf, &jsize) == 0 && jsize >= 8 && vfs->read(jf, jh, 8, 0, &got) == 0 &&
                got == 8 && memcmp(jh, magic, 8) == 0)
                hot = 1;
            vfs->close(jf);
        }
        os_free(jpath);
        if (hot) {
            snprintf(err, errlen,
                     "%s: a hot rollback journal (%s-journal) is present; open the database "
                     "once with sqlite3 to roll it back",
                     path, path);
            rc = FOLIO_UNSUPPORTED;
            return rc;
        }
    }
    *out_page_size = page_size;
    return 0;
}

int pager_open(pager **out, os_vfs *vfs, const char *path, const pager_config *cfg, char *err,
               size_t errlen)
{
    int rc;
    *out = NULL;
    pager *p = os_calloc(1, sizeof *p);
    if (!p)
        return FOLIO_NOMEM;
    p->vfs = vfs;
    p->readonly = cfg->readonly;
    p->sync = cfg->sync;
    p->autockpt = cfg->autocheckpoint;
    p->busy_timeout_ms = cfg->busy_timeout_ms;
    p->inline_ckpt = cfg->inline_checkpoint;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    pthread_cond_init(&p->sync_cv, NULL);
    pthread_cond_init(&p->syncer_cv, NULL);
    pthread_cond_init(&p->bg_cond, NULL);
    pthread_mutex_init(&p->pg_mu, NULL);
    size_t n = strlen(path);
    p->path = os_malloc(n + 1);
    p->nslot = 256;
    p->slot = os_calloc(p->nslot, sizeof *p->slot);
    if (!p->path || !p->slot) {
        rc = FOLIO_NOMEM;
        goto fail;
    }
    memcpy(p->path, path, n + 1);

    int flags = p->readonly ? OS_OPEN_READONLY : (cfg->create ? OS_OPEN_CREATE : 0);
    rc = vfs->open(vfs, path, flags, &p->db);
    if (rc == FOLIO_READONLY || (rc == FOLIO_CANTOPEN && !p->readonly && !cfg->create)) {
        snprintf(err, errlen, "cannot open %s", path);
        rc = FOLIO_CANTOPEN;
        goto fail;
    }
    if (rc < 0) {
        snprintf(err, errlen, rc == FOLIO_NOMEM ? "out of memory opening %s" : "cannot open %s",
                 path);
        if (rc != FOLIO_NOMEM)
            rc = FOLIO_CANTOPEN;
        goto fail;
    }
    /* SHARED before anything is read, and for as long as the handle lives. */
    pthread_mutex_lock(&p->mu);
    rc = db_lock_wait(p, OS_LOCK_SHARED, err, errlen);
    pthread_mutex_unlock(&p->mu);
    if (rc < 0)
        goto fail;
    uint32_t page_size = 0;
    if ((rc = open_checks(p, &page_size, err, errlen)) < 0)
        goto fail;
    int rollback_mode = p->db_bytes >= FMT_DBHEADER_SIZE && !hdr_says_wal(p->db_hdr_raw);
    if (rollback_mode && !p->readonly) {
        pthread_mutex_lock(&p->mu);
        rc = switch_to_wal(p, err, errlen);
        pthread_mutex_unlock(&p->mu);
        if (rc < 0)
            goto fail;
        rollback_mode = 0;
    }
    if (rollback_mode && wal_absent(p)) {
        /* Read-only, no WAL: read the file alone, SHARED per transaction. */
        p->legacy = 1;
        vfs->lock(p->db, OS_LOCK_NONE);
        p->lock_level = OS_LOCK_NONE;
    } else {
        char werr[512];
        rc = attach_wal(p, &page_size, werr, sizeof werr);
        if (rc == FOLIO_CANTOPEN && p->readonly && wal_absent(p)) {
            /* A read-only place (the -shm cannot be made) with no WAL: no
             * other connection can be writing this file in WAL mode. */
            p->legacy = 1;
            p->legacy_wal = 1;
            vfs->lock(p->db, OS_LOCK_NONE);
            p->lock_level = OS_LOCK_NONE;
            rc = 0;
        } else if (rc < 0) {
            snprintf(err, errlen, "%s", werr);
            goto fail;
        }
    }
    if (page_size == 0)
        page_size = cfg->new_page_size ? cfg->new_page_size : 4096;
    p->page_size = page_size;
    if (p->wal)
        wal_set_page_size(p->wal, page_size);
    p->usable = page_size; /* refined from the header at the first transaction */
    size_t budget = cfg->cache_bytes ? cfg->cache_bytes : (size_t)64 << 20;
    p->max_pages = budget / page_size;
    p->map_limit = vfs->map_file && vfs->unmap_file ? cfg->mmap_bytes : 0;
    if (p->max_pages < 16)
        p->max_pages = 16;
    *out = p;
    return 0;
fail:
    if (p->wal)
        wal_close(p->wal, 0);
    if (p->db) {
        vfs->lock(p->db, OS_LOCK_NONE);
        vfs->close(p->db);
    }
    os_free(p->path);
    os_free(p->slot);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cond);
    pthread_cond_destroy(&p->sync_cv);
    pthread_cond_destroy(&p->syncer_cv);
    pthread_cond_destroy(&p->bg_cond);
    pthread_mutex_destroy(&p->pg_mu);
    os_free(p);
    return rc;
}

static int snapshot_header(ptxn *t, char *err, size_t errlen)
{
    pager *p = t->p;
    if (t->npages == 0) {
        memset(&t->hdr, 0, sizeof t->hdr);
        t->hdr.page_size = p->page_size;
        pager_version_snapshot(t, NULL);
        return 0;
    }
    pg *one;
    int rc = pager_get(&one, t, 1);
    if (rc < 0) {
        set_err(err, errlen, t->err);
        return rc;
    }
    const char *why = NULL;
    rc = fmt_dbheader_decode(one->data, &t->hdr, &why);
    pager_version_snapshot(t, one->data);
    pager_unref(one);
    if (rc < 0) {
        snprintf(err, errlen, "page 1: bad database header: %s", why ? why : "invalid");
        return FOLIO_CORRUPT;
    }
    if (t->hdr.page_size != p->page_size) {
        snprintf(err, errlen, "page 1: page size changed from %u to %u", p->page_size,
                 t->hdr.page_size);
        return FOLIO_CORRUPT;
    }
    return 0;
}

static void ptxn_free(ptxn *t)
{
    if (!t)
        return;
    for (pg *b = t->mblocks, *next; b; b = next) {
        next = b->hnext;
        os_free(b);
    }
    for (uint32_t i = 0; i < t->nbufs; i++)
        os_free((char *)t->bufs[i] - 16);
    os_free(t->stmt_log);
    os_free(t->stmt_arena);
    os_free(t->clog);
    os_free(t->dirty);
    os_free(t->dslot);
    os_free(t);
}

int pager_close(pager *p, int checkpoint)
{
    int rc = 0;
    if (!p)
        return 0;
    pager_bg_stop(p);
    int delete_files = 0;
    if (checkpoint && !p->readonly && p->db && p->wal) {
        /* Only the last connection may fold the WAL away: EXCLUSIVE on the
         * file, without waiting, says so; if another connection has it open,
         * the WAL stays for it. */
        int lrc = p->vfs->lock(p->db, OS_LOCK_EXCLUSIVE);
        if (lrc < 0 && lrc != FOLIO_BUSY)
            rc = lrc; /* not another connection: the final checkpoint could not run */
        if (lrc == 0) {
            p->lock_level = OS_LOCK_EXCLUSIVE;
            char err[256];
            int n_log = 0, n_done = 0;
            rc = pager_checkpoint(p, FOLIO_CHECKPOINT_PASSIVE, &n_log, &n_done, err, sizeof err);
            if (rc == 0 && n_done == n_log)
                delete_files = 1;
        }
    }
    if (p->wal)
        wal_close(p->wal, delete_files);
    p->wal = NULL;
    if (p->db) {
        p->vfs->lock(p->db, OS_LOCK_NONE);
        p->vfs->close(p->db);
    }
    ptxn_free(p->wspare);
    ptxn_free(p->rspare);
    pager_version_free(p);
    p->wspare = p->rspare = NULL;
    uint32_t lost = pager_pg_slabs_free(p, pager_cache_count(p));
    /* Debug builds (the test suite) treat a lost page object as the leak it
     * is: LeakSanitizer cannot see inside the slabs. */
    assert(lost == 0);
    (void)lost;
    if (p->map)
        p->vfs->unmap_file(p->map, p->map_bytes);
    os_free(p->slot);
    os_free(p->readers);
    os_free(p->path);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cond);
    pthread_cond_destroy(&p->sync_cv);
    pthread_cond_destroy(&p->syncer_cv);
    pthread_cond_destroy(&p->bg_cond);
    pthread_mutex_destroy(&p->pg_mu);
    os_free(p);
    return rc;
}

uint32_t pager_page_size(const pager *p)
{
    return p->page_size;
}
uint32_t pager_usable_size(const pager *p)
{
    return p->usable;
}
const char *pager_path(const pager *p)
{
    return p->path;
}
int pager_readonly(const pager *p)
{
    return p->readonly;
}
/* A work buffer carries its capacity in the 16 bytes before it. */
void *ptxn_buf_get(ptxn *t, size_t n)
{
    int best = -1;
    size_t best_cap = 0;
    for (uint32_t i = 0; i < t->nbufs; i++) {
        size_t cap = *(size_t *)(void *)((char *)t->bufs[i] - 16);
        if (cap >= n && (best < 0 || cap < best_cap)) {
            best = (int)i;
            best_cap = cap;
        }
    }
    if (best >= 0) {
        void *b = t->bufs[best];
        t->bufs[best] = t->bufs[--t->nbufs];
        return b;
    }
    /* New buffers are made large enough for a rebalance's biggest need (six
     * pages of cells and their list): the handle keeps them (pager->wspare),
     * so that after its first splits no later one calls the allocator. */
    size_t cap = (size_t)32 * t->p->page_size + 256;
    while (cap < n) {
        if (cap > SIZE_MAX / 4)
            return NULL;
        cap *= 2;
    }
    char *raw = os_malloc(cap + 16);
    if (!raw)
        return NULL;
    *(size_t *)(void *)raw = cap;
    return raw + 16;
}

void ptxn_buf_put(ptxn *t, void *buf)
{
    if (!buf)
        return;
    if (t->nbufs < sizeof t->bufs / sizeof t->bufs[0]) {
        t->bufs[t->nbufs++] = buf;
        return;
    }
    /* Full: the smallest of them all goes. */
    size_t cap = *(size_t *)(void *)((char *)buf - 16);
    for (uint32_t i = 0; i < t->nbufs; i++) {
        size_t c = *(size_t *)(void *)((char *)t->bufs[i] - 16);
        if (c < cap) {
            void *x = t->bufs[i];
            t->bufs[i] = buf;
            buf = x;
            cap = c;
        }
    }
    os_free((char *)buf - 16);
}

const fmt_dbheader *ptxn_header(const ptxn *t)
{
    return &t->hdr;
}
uint32_t ptxn_npages(const ptxn *t)
{
    return t->npages;
}
int ptxn_is_write(const ptxn *t)
{
    return t->write;
}
int ptxn_over_budget(const ptxn *t)
{
    return (size_t)t->ndirty * 2 >= t->p->max_pages;
}
int ptxn_is_concurrent(const ptxn *t)
{
    return t->conc;
}
void ptxn_set_track_reads(ptxn *t, int on)
{
    t->track_reads = on && t->conc;
}
int ptxn_tracks_reads(const ptxn *t)
{
    return t->track_reads;
}
uint32_t ptxn_snapshot_mx(const ptxn *t)
{
    return t->mx;
}
uint64_t ptxn_snapshot_id(const ptxn *t)
{
    return ((uint64_t)t->snap_seq << 32) | t->mx;
}
int ptxn_logs_changes(const ptxn *t)
{
    return t->conc | t->log_changes;
}
void ptxn_set_log_changes(ptxn *t, int on)
{
    t->log_changes = on && t->write && !t->conc;
}
int ptxn_log_append(ptxn *t, const void *data, size_t n)
{
    if (t->clog_cap - t->clog_n < n) {
        size_t cap = t->clog_cap ? t->clog_cap : 4096;
        while (cap - t->clog_n < n)
            cap *= 2;
        uint8_t *v = os_realloc(t->clog, cap);
        if (!v)
            return ptxn_error(t, FOLIO_NOMEM, "out of memory");
        t->clog = v;
        t->clog_cap = cap;
    }
    memcpy(t->clog + t->clog_n, data, n);
    t->clog_n += n;
    return 0;
}
int ptxn_log_append2(ptxn *t, const void *a, size_t an, const void *b, size_t bn)
{
    size_t n0 = t->clog_n;
    int rc = ptxn_log_append(t, a, an);
    if (rc == 0 && bn && (rc = ptxn_log_append(t, b, bn)) < 0)
        t->clog_n = n0;
    return rc;
}
const uint8_t *ptxn_log(const ptxn *t, size_t *n)
{
    *n = t->clog_n;
    return t->clog;
}
uint64_t *ptxn_gen(ptxn *t)
{
    return &t->gen;
}
pager *ptxn_pager(const ptxn *t)
{
    return t->p;
}

/* ---- readers registry ---- */

static int readers_add(pager *p, ptxn *t)
{
    if (p->nreaders == p->readers_cap) {
        uint32_t n = p->readers_cap ? p->readers_cap * 2 : 8;
        ptxn **v = os_realloc(p->readers, n * sizeof *v);
        if (!v)
            return FOLIO_NOMEM;
        p->readers = v;
        p->readers_cap = n;
    }
    p->readers[p->nreaders++] = t;
    return 0;
}

static void readers_remove(pager *p, ptxn *t)
{
    for (uint32_t i = 0; i < p->nreaders; i++) {
        if (p->readers[i] == t) {
            p->readers[i] = p->readers[--p->nreaders];
            return;
        }
    }
}

/* The oldest frame any live snapshot needs; UINT32_MAX when none. */
uint32_t pager_readers_min_mx(const pager *p)
{
    uint32_t m = UINT32_MAX;
    for (uint32_t i = 0; i < p->nreaders; i++)
        if ((!p->readers[i]->write || p->readers[i]->conc) && p->readers[i]->mx < m)
            m = p->readers[i]->mx;
    return m;
}

int pager_readers_use_wal(const pager *p)
{
    for (uint32_t i = 0; i < p->nreaders; i++)
        if ((!p->readers[i]->write || p->readers[i]->conc) && p->readers[i]->mx > 0)
            return 1;
    return 0;
}

/* Under mu: the last transaction's object of this kind, emptied but for
 * what it grew (its dirty set and index, cleared; statement log and arena;
 * work buffers), or a new one (allocated with mu let go meanwhile). */
static ptxn *spare_take_locked(pager *p, int write)
{
    ptxn **slot = write ? &p->wspare : &p->rspare;
    ptxn *t = *slot;
    *slot = NULL;
    if (t) {
        memset(t, 0, PTXN_KEPT);
        return t;
    }
    pthread_mutex_unlock(&p->mu);
    t = os_calloc(1, sizeof *t);
    pthread_mutex_lock(&p->mu);
    return t;
}

/*
 * The map of the database file that read transactions read pages from in
 * place (pager_config.mmap_bytes). It covers the file as it is now, up to the
 * limit, and grows with the file when no transaction holds it. Safe to read
 * because a transaction only reads pages of its snapshot that have no WAL
 * version: those lie in the file, which nothing truncates below a live
 * snapshot's pages (a checkpoint shrinks the file only when every snapshot
 * is the newest). Call with mu held.
 */
static void map_update(pager *p)
{
    uint64_t want = p->db_bytes < p->map_limit ? p->db_bytes : p->map_limit;
    want -= want % p->page_size;
    if (want <= p->map_bytes || p->map_users)
        return;
    void *m = NULL;
    if (p->vfs->map_file(p->db, want, &m) < 0) {
        p->map_limit = 0; /* reads go through the cache from now on */
        return;
    }
    if (p->map)
        p->vfs->unmap_file(p->map, p->map_bytes);
    p->map = m;
    p->map_bytes = want;
}

/* A page object for page `pgno` read in place from the map. */
static pg *map_page(ptxn *t, uint32_t pgno)
{
    if (!t->mfree) {
        enum { PER_BLOCK = 32 };
        pg *b = os_malloc(sizeof *b * (PER_BLOCK + 1));
        if (!b)
            return NULL;
        b[0].hnext = t->mblocks;
        t->mblocks = b;
        for (int i = 1; i <= PER_BLOCK; i++) {
            b[i].hnext = t->mfree;
            t->mfree = &b[i];
        }
    }
    pg *e = t->mfree;
    t->mfree = e->hnext;
    memset(e, 0, sizeof *e);
    e->data = (uint8_t *)t->map + (size_t)(pgno - 1) * t->p->page_size;
    e->pgno = pgno;
    e->ref = 1;
    e->mapped = 1;
    e->owner = t->p;
    e->mtxn = t;
    return e;
}

/* pager_get for a page with no WAL version in the snapshot, from the map. */
static int map_get(pg **out, ptxn *t, uint32_t pgno)
{
    pg *e = map_page(t, pgno);
    if (!e) {
        snprintf(t->err, sizeof t->err, "out of memory reading page %u", pgno);
        return FOLIO_NOMEM;
    }
    t->n_mapped++;
    *out = e;
    return 0;
}

/* ---- transactions ---- */

/* Wait until this handle's writer and exclusive checkpoint are done, in
 * arrival order among the handle's writers, up to `deadline` (mu held). */
static int wait_writer_turn(pager *p, uint64_t deadline)
{
    struct pager_waiter me = {.next = NULL};
    pthread_cond_init(&me.cv, NULL);
    if (p->wq_tail)
        p->wq_tail->next = &me;
    else
        p->wq_head = &me;
    p->wq_tail = &me;
    int rc = 0, waited = 0;
    while (p->wq_head != &me || p->writer || (p->ckpt_running && p->ckpt_excl)) {
        if (!waited++)
            PAGER_COUNT(p, busy_waits, 1);
        uint64_t now = p->vfs->now_ms(p->vfs);
        if (now >= deadline) {
            rc = FOLIO_BUSY;
            break;
        }
        uint64_t ms = deadline - now;
        pager_cond_wait_us(&me.cv, &p->mu, (ms > 1000 ? 1000 : ms) * 1000u);
    }
    /* Out of the queue (at its head when it is our turn). */
    struct pager_waiter **pp = &p->wq_head, *prev = NULL;
    while (*pp != &me) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    *pp = me.next;
    if (p->wq_tail == &me)
        p->wq_tail = prev;
    pthread_cond_destroy(&me.cv);
    if (rc < 0)
        pager_wake_writers(p); /* the next one may be at the head now */
    return rc;
}

/* The WAL's WRITE lock, retrying while another connection holds it, up to
 * `deadline` (mu held, let go while waiting). */
void pager_writer_release(pager *p)
{
    p->writer = NULL;
    if (!wal_staged(p->wal))
        wal_end_write(p->wal);
    pthread_cond_broadcast(&p->cond);
    pager_wake_writers(p);
    if (p->syncer_waits)
        pthread_cond_signal(&p->syncer_cv);
}

static int take_write_lock(pager *p, uint64_t deadline, char *err, size_t errlen)
{
    unsigned nap = 1;
    if (wal_write_held(p->wal)) {
        /* Kept since commits of this handle's earlier writers, still
         * staged: this writer builds on them. */
        int recovering;
        return wal_try_refresh(p->wal, &recovering);
    }
    for (;;) {
        int rc = wal_begin_write(p->wal);
        if (rc == 0)
            return 0;
        if (rc != FOLIO_BUSY) {
            snprintf(err, errlen, "cannot begin writing %s: %s", p->path,
                     rc == FOLIO_CORRUPT ? "the WAL index is damaged" : "I/O error");
            return rc;
        }
        if (p->vfs->now_ms(p->vfs) >= deadline) {
            char who[48];
            wal_lock_holder(p->wal, WIDX_WRITE, 1, who, sizeof who);
            snprintf(err, errlen, "database is locked: another connection is writing%s%s%s",
                     who[0] ? " (" : "", who, who[0] ? " holds the WAL's WRITE lock)" : "");
            return FOLIO_BUSY;
        }
        if (nap == 1)
            PAGER_COUNT(p, busy_waits, 1);
        pthread_mutex_unlock(&p->mu);
        p->vfs->sleep_ms(p->vfs, nap);
        pthread_mutex_lock(&p->mu);
        if (nap < 20)
            nap *= 2;
    }
}

/* A read snapshot of the WAL, retrying transient conflicts up to the busy
 * timeout (mu held, let go while waiting). */
static int take_read_snapshot(pager *p, ptxn *t, char *err, size_t errlen)
{
    uint64_t deadline = p->vfs->now_ms(p->vfs) + p->busy_timeout_ms;
    for (int cnt = 1;; cnt++) {
        int recovering = 0;
        uint32_t mx;
        int slot;
        int rc = wal_try_begin_read(p->wal, &mx, &slot, &recovering);
        if (rc == 0) {
            t->mx = mx;
            t->rslot = slot;
            return 0;
        }
        if (rc != FOLIO_BUSY) {
            snprintf(err, errlen, "cannot read the WAL of %s: %s", p->path,
                     rc == FOLIO_CORRUPT ? "its index is damaged" : status_text(rc));
            return rc;
        }
        if (p->vfs->now_ms(p->vfs) >= deadline || cnt > 100) {
            wal_busy_message(p->wal, recovering, err, errlen);
            return FOLIO_BUSY;
        }
        unsigned ms = wal_retry_delay_ms(cnt);
        if (ms) {
            if (cnt == 1)
                PAGER_COUNT(p, busy_waits, 1);
            pthread_mutex_unlock(&p->mu);
            p->vfs->sleep_ms(p->vfs, ms);
            pthread_mutex_lock(&p->mu);
        }
    }
}

/* A legacy handle's transaction: SHARED for its span (mu held). */
static int legacy_begin(pager *p, ptxn *t, char *err, size_t errlen)
{
    if (p->lock_level < OS_LOCK_SHARED) {
        int rc = db_lock_wait(p, OS_LOCK_SHARED, err, errlen);
        if (rc < 0)
            return rc;
        if ((rc = legacy_refresh(p)) < 0) {
            p->vfs->lock(p->db, OS_LOCK_NONE);
            p->lock_level = OS_LOCK_NONE;
            set_err(err, errlen, "cannot read the database file");
            return rc;
        }
        if (p->db_bytes >= FMT_DBHEADER_SIZE && hdr_says_wal(p->db_hdr_raw) &&
            (!p->legacy_wal || !wal_absent(p))) {
            /* Another connection switched the file to WAL mode meanwhile, or
             * wrote a WAL beside a WAL-mode file read alone: join the WAL,
             * keeping SHARED from now on. */
            uint32_t ps = p->page_size;
            char werr[512];
            if ((rc = attach_wal(p, &ps, werr, sizeof werr)) < 0) {
                p->vfs->lock(p->db, OS_LOCK_NONE);
                p->lock_level = OS_LOCK_NONE;
                snprintf(err, errlen, "the database is in WAL mode now, and %s", werr);
                return rc;
            }
            return 1; /* take a WAL snapshot instead */
        }
    }
    t->legacy_lock = 1;
    t->mx = 0;
    return 0;
}

static void legacy_end(pager *p, ptxn *t)
{
    t->legacy_lock = 0;
    for (uint32_t i = 0; i < p->nreaders; i++)
        if (p->readers[i]->legacy_lock)
            return;
    if (p->legacy && p->lock_level != OS_LOCK_NONE && p->vfs->lock(p->db, OS_LOCK_NONE) == 0)
        p->lock_level = OS_LOCK_NONE;
}

int pager_begin(ptxn **out, pager *p, int write, unsigned busy_timeout_ms, char *err, size_t errlen)
{
    int rc;
    *out = NULL;
    int conc = write == PAGER_CONCURRENT;
    write = write != 0;
    if (write && p->readonly) {
        set_err(err, errlen, "the database is open read-only");
        return FOLIO_READONLY;
    }
    pthread_mutex_lock(&p->mu);
    ptxn *t = spare_take_locked(p, write);
    if (!t) {
        pthread_mutex_unlock(&p->mu);
        return FOLIO_NOMEM;
    }
    t->p = p;
    t->write = write;
    t->conc = conc;
    t->log_changes = 0;
    t->committed = 0;
    t->n_mapped = 0;
    t->rslot = -1;
    if (p->busy_timeout_ms != busy_timeout_ms && p->wal)
        wal_set_busy_timeout(p->wal, busy_timeout_ms);
    p->busy_timeout_ms = busy_timeout_ms;
    uint64_t deadline = p->vfs->now_ms(p->vfs) + busy_timeout_ms;
    if (write && !conc) {
        if ((rc = wait_writer_turn(p, deadline)) < 0) {
            set_err(err, errlen, "database is locked by another write transaction of this handle");
            goto fail;
        }
        p->writer = t;
        t->failed_seq = p->failed_seq;
        if ((rc = take_write_lock(p, deadline, err, errlen)) < 0) {
            pager_writer_release(p);
            goto fail;
        }
        /* (Not while this handle's own snapshots read the WAL - concurrent
         * transactions among them: it could not start over after all, and
         * every writer would wait for the one before it to be synced.) */
        if (wal_staged(p->wal) && p->autockpt && !p->inline_ckpt &&
            wal_mx(p->wal) >= pager_wal_bound(p) && !pager_readers_use_wal(p)) {
            /* Group commit keeps commits staged while writers follow each
             * other: at the bound, let them be published and copied, so that
             * the WAL can start over (below) instead of growing for as long
             * as the writers keep coming. */
            while (wal_staged(p->wal) || p->ckpt_running)
                pthread_cond_wait(&p->cond, &p->mu);
            if ((rc = wal_try_refresh(p->wal, &(int){0})) < 0) {
                set_err(err, errlen, "cannot read the WAL index");
                goto fail_writer;
            }
            uint32_t short_mx = __atomic_load_n(&p->ckpt_short_mx, __ATOMIC_RELAXED);
            uint32_t now = wal_mx(p->wal);
            /* (not again while readers hold back what the last one could
             * not copy: see ckpt_short_mx) */
            if (wal_backfilled(p->wal) < now &&
                (!short_mx || now < short_mx || now - short_mx >= p->autockpt) &&
                pager_bg_request(p) == 0) {
                while (p->ckpt_running)
                    pthread_cond_wait(&p->cond, &p->mu);
                if ((rc = wal_try_refresh(p->wal, &(int){0})) < 0) {
                    set_err(err, errlen, "cannot read the WAL index");
                    goto fail_writer;
                }
            }
        } else if (p->ckpt_running && p->autockpt && wal_mx(p->wal) >= pager_wal_bound(p)) {
            /* The background checkpoint lets writers go on, but the WAL
             * starts over only when it is all copied: past the bound, wait
             * for it. */
            while (p->ckpt_running)
                pthread_cond_wait(&p->cond, &p->mu);
            if ((rc = wal_try_refresh(p->wal, &(int){0})) < 0) {
                set_err(err, errlen, "cannot read the WAL index");
                goto fail_writer;
            }
        }
        t->mx = wal_mx(p->wal);
        t->mx0 = t->mx;
        /* All of the WAL in the file and nobody reading it: start it over
         * (not beside this handle's checkpoint, which may be copying). */
        if (!p->ckpt_running && wal_restart_lock(p->wal) == 1) {
            pager_cache_rekey_to_file(p);
            if ((rc = wal_restart_finish(p->wal)) < 0) {
                set_err(err, errlen, "cannot restart the WAL");
                goto fail_writer;
            }
            t->mx = t->mx0 = 0;
        }
    } else if (p->legacy && (rc = legacy_begin(p, t, err, errlen)) < 0) {
        goto fail;
    }
    if ((!write || conc) && !p->legacy && (rc = take_read_snapshot(p, t, err, errlen)) < 0)
        goto fail;
    if ((rc = readers_add(p, t)) < 0) {
        if ((!write || conc) && t->rslot >= 0)
            wal_end_read(p->wal, t->rslot);
        goto fail_writer;
    }
    if (p->db_stale && (rc = pager_db_refresh(p)) < 0) {
        set_err(err, errlen, "cannot read the database file");
        readers_remove(p, t);
        if ((!write || conc) && t->rslot >= 0)
            wal_end_read(p->wal, t->rslot);
        goto fail_writer;
    }
    p->nconc += (uint32_t)conc; /* (pager_end counts it out) */
    t->npages = snapshot_npages(p, p->wal ? (write && !conc ? wal_mx(p->wal) : t->mx) : 0);
    t->npages0 = t->npages;
    t->snap_seq = p->wal ? wal_ckpt_seq(p->wal) : 0;
    if (p->wal)
        wal_gen_salts(p->wal, t->snap_gen);
    /* Pages past the committed end may go straight to the file, but not
     * over an older frame of that page number still in the WAL (the
     * database was once larger: a checkpoint would copy the frame over the
     * new page), nor over a page the file still holds (an older snapshot
     * may read it there). */
    t->base_npages = t->npages;
    if (write && !conc) {
        uint32_t file_pages = (uint32_t)(p->db_bytes / p->page_size);
        if (wal_max_pgno(p->wal) > t->base_npages)
            t->base_npages = wal_max_pgno(p->wal);
        if (file_pages > t->base_npages)
            t->base_npages = file_pages;
    }
    t->direct_ok = write && !conc && p->db_bytes >= 512 && fmt_dbheader_magic_ok(p->db_hdr_raw);
    t->map = NULL;
    t->map_pages = 0;
    if (!write && p->map_limit) {
        map_update(p);
        if (p->map) {
            /* Never past the file as last seen: a map longer than the file
             * (it shrank since) must not be read there. */
            uint64_t n = p->map_bytes < p->db_bytes ? p->map_bytes : p->db_bytes;
            t->map = p->map;
            t->map_pages = (uint32_t)(n / p->page_size);
            p->map_users++;
        }
    }
    pthread_mutex_unlock(&p->mu);
    if ((rc = snapshot_header(t, err, errlen)) < 0) {
        pager_end(t);
        return rc;
    }
    *out = t;
    return 0;
fail_writer:
    if (write && !conc)
        pager_writer_release(p);
    else if (t->legacy_lock) {
        legacy_end(p, t);
    }
fail:
    pthread_mutex_unlock(&p->mu);
    ptxn_free(t);
    return rc;
}

static void dirty_drop_all(ptxn *t)
{
    ptxn_dirty_index_clear(t);
    for (uint32_t i = 0; i < t->ndirty; i++)
        pager_pg_release(t->p, t->dirty[i]);
    t->ndirty = 0;
}

void pager_end(ptxn *t)
{
    if (!t)
        return;
    pager *p = t->p;
    if (t->write)
        ptxn_wb_wait(t); /* a rollback's pages: written or not, they go */
    if (t->n_mapped)
        PAGER_COUNT(p, pages_mapped, t->n_mapped);
    t->n_mapped = 0;
    if (t->write && !t->committed && !t->conc)
        PAGER_COUNT(p, rollbacks, 1);
    pthread_mutex_lock(&p->mu);
    if (t->conc) {
        p->npages_mem -= t->ndirty;
        dirty_drop_all(t);
        p->nconc--;
        if (p->syncer_waits)
            pthread_cond_signal(&p->syncer_cv);
    } else if (t->write) {
        p->npages_mem -= t->ndirty;
        dirty_drop_all(t);
        if (t->spilled) {
            /* Frames written past the last commit are garbage now; cached
             * images of them must not be found by a later writer. */
            wal_discard_uncommitted(p->wal);
            pager_cache_drop_frames_above(p, wal_mx(p->wal));
        }
        if (t->ckpt_held)
            wal_unlock(p->wal, WIDX_CKPT, 1, 1);
        t->ckpt_held = 0;
        pager_writer_release(p);
    }
    readers_remove(p, t);
    if (t->rslot >= 0)
        wal_end_read(p->wal, t->rslot);
    t->rslot = -1;
    if (t->legacy_lock)
        legacy_end(p, t);
    if (t->map) {
        p->map_users--;
        t->map = NULL;
    }
    if (!t->write || t->conc)
        pthread_cond_broadcast(&p->cond); /* a checkpoint may wait for readers */
    pager_cache_trim(p);
    pager_cache_check_sometimes(p);
    ptxn **spare = t->write ? &p->wspare : &p->rspare;
    if (!*spare) {
        *spare = t; /* kept, buffers and all, for the next transaction of its kind */
        t = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    ptxn_free(t);
}

/* ---- page access ---- */

int pager_get(pg **out, ptxn *t, uint32_t pgno)
{
    pager *p = t->p;
    *out = NULL;
    if (pgno == 0 || pgno > t->npages) {
        snprintf(t->err, sizeof t->err, "page %u: out of range (database has %u pages)", pgno,
                 t->npages);
        return FOLIO_CORRUPT;
    }
    if (t->write) {
        pg *d = ptxn_dirty_find(t, pgno);
        if (d) {
            d->ref++;
            *out = d;
            return 0;
        }
        if (ptxn_is_direct(t, pgno))
            return pager_load_new_page(out, t, pgno);
    } else if (pgno <= t->map_pages && !t->mx) {
        return map_get(out, t, pgno); /* no WAL in this snapshot: no lock either */
    }
    pthread_mutex_lock(&p->mu);
    uint32_t frame = t->mx ? wal_find(p->wal, pgno, t->mx) : 0;
    if (frame == 0 && pgno <= t->map_pages) { /* read transactions only */
        pthread_mutex_unlock(&p->mu);
        return map_get(out, t, pgno);
    }
    pg *e = pager_cache_find(p, pgno, frame);
    if (e) {
        e->ref++;
        e->used = 1;
        PAGER_COUNT(p, cache_hits, 1);
        pthread_mutex_unlock(&p->mu);
        *out = e;
        return 0;
    }
    e = pager_page_new(p);
    if (!e) {
        pthread_mutex_unlock(&p->mu);
        snprintf(t->err, sizeof t->err, "out of memory reading page %u", pgno);
        return FOLIO_NOMEM;
    }
    int rc;
    PAGER_COUNT(p, cache_misses, 1);
    if (frame) {
        rc = wal_read_frame(p->wal, frame, e->data);
    } else {
        PAGER_COUNT(p, pages_read_db, 1);
        rc = p->vfs->read(p->db, e->data, p->page_size, (uint64_t)(pgno - 1) * p->page_size, NULL);
    }
    if (rc < 0) {
        pager_page_free(p, e);
        pthread_mutex_unlock(&p->mu);
        snprintf(t->err, sizeof t->err, "I/O error reading page %u", pgno);
        return rc;
    }
    e->pgno = pgno;
    e->frame = frame;
    e->ref = 1;
    pager_cache_link(p, e);
    pager_cache_trim(p);
    pthread_mutex_unlock(&p->mu);
    *out = e;
    return 0;
}

/* For copying a snapshot in large runs (backup.c): the pages no frame of
 * the snapshot holds are read straight from the database file, which no
 * checkpoint changes under the snapshot's read mark (as for pager_get). */
void ptxn_page_frames(ptxn *t, uint32_t first, uint32_t n, uint32_t *out)
{
    pager *p = t->p;
    assert(!t->write || t->conc);
    if (!t->mx) {
        memset(out, 0, (size_t)n * sizeof *out);
        return;
    }
    pthread_mutex_lock(&p->mu);
    for (uint32_t i = 0; i < n; i++)
        out[i] = wal_find(p->wal, first + i, t->mx);
    pthread_mutex_unlock(&p->mu);
}

int ptxn_read_file_pages(ptxn *t, uint32_t first, uint32_t n, uint8_t *buf)
{
    pager *p = t->p;
    if (first == 0 || n == 0 || n > t->npages || first > t->npages - n + 1) {
        snprintf(t->err, sizeof t->err, "pages %u..%u: out of range (database has %u pages)", first,
                 first + n - 1, t->npages);
        return FOLIO_CORRUPT;
    }
    PAGER_COUNT(p, pages_read_db, n);
    int rc = p->vfs->read(p->db, buf, (size_t)n * p->page_size,
                          (uint64_t)(first - 1) * p->page_size, NULL);
    if (rc < 0)
        snprintf(t->err, sizeof t->err, "I/O error reading pages %u..%u", first, first + n - 1);
    return rc;
}

const uint8_t *ptxn_file_map(const ptxn *t, uint32_t *out_npages)
{
    *out_npages = t->map ? t->map_pages : 0;
    return t->map;
}

void pager_unref(pg *e)
{
    if (!e)
        return;
    if (e->dirty) { /* private to the writing thread */
        assert(e->ref > 0);
        e->ref--;
        return;
    }
    if (e->mapped) { /* private to its read transaction */
        assert(e->ref > 0);
        if (--e->ref == 0) {
            ptxn *t = e->mtxn;
            e->hnext = t->mfree;
            t->mfree = e;
        }
        return;
    }
    pager *p = e->owner;
    pthread_mutex_lock(&p->mu);
    assert(e->ref > 0);
    if (--e->ref == 0 && !e->in_hash)
        pager_page_free(p, e);
    pthread_mutex_unlock(&p->mu);
}

/* ---- counters ---- */

static uint64_t counter(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

void pager_counters_get(pager *p, pager_counters *out)
{
    struct pager_atomic_counters *c = &p->counters;
    memset(out, 0, sizeof *out);
    out->cache_hits = counter(&c->cache_hits);
    out->cache_misses = counter(&c->cache_misses);
    out->cache_evictions = counter(&c->cache_evictions);
    out->pages_mapped = counter(&c->pages_mapped);
    out->pages_read_db = counter(&c->pages_read_db);
    out->pages_written_db = counter(&c->pages_written_db);
    out->db_syncs = counter(&c->db_syncs);
    out->checkpoints = counter(&c->checkpoints);
    out->checkpoint_pages = counter(&c->checkpoint_pages);
    out->checkpoint_us = counter(&c->checkpoint_us);
    out->checkpoints_short = counter(&c->checkpoints_short);
    out->commits = counter(&c->commits);
    out->rollbacks = counter(&c->rollbacks);
    out->busy_waits = counter(&c->busy_waits);
    out->pages_spilled = counter(&c->pages_spilled);
    out->checkpoint_last_unix_us = counter(&c->checkpoint_last_unix_us);
    /* The gauges, under mu: the cache's figures and the pins of cached
     * pages change under it (dirty pages are not on the ring). */
    pthread_mutex_lock(&p->mu);
    uint64_t unpinned = 0;
    for (const pg *e = p->ring_head; e; e = e->lnext)
        unpinned += e->ref == 0;
    out->cache_bytes = (uint64_t)p->npages_mem * p->page_size;
    uint64_t used = p->npages_mem > unpinned ? p->npages_mem - unpinned : 0;
    out->cache_bytes_used = used * p->page_size;
    if (p->wal) {
        wal_counters w;
        wal_counters_get(p->wal, &w);
        out->pages_read_wal = w.frames_read;
        out->wal_frames = w.frames_written;
        out->wal_syncs = w.syncs;
    }
    pthread_mutex_unlock(&p->mu);
}

void ptxn_count_above(ptxn *t, unsigned slot, uint64_t n)
{
    assert(slot < PAGER_ABOVE_SLOTS);
    PAGER_COUNT(t->p, above[slot], n);
}

uint64_t pager_counter_above(pager *p, unsigned slot)
{
    assert(slot < PAGER_ABOVE_SLOTS);
    return counter(&p->counters.above[slot]);
}
