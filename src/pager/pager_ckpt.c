/*
 * pager_ckpt.c - checkpoints: copying the WAL's frames back into the database
 * file under SQLite's locks, so that checkpoints of every connection respect
 * every reader; and the background thread that runs the automatic ones.
 */
#include "base/status.h"
#include "pager/pager_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The pages a checkpoint copies: (page, frame) pairs in page order, taken
 * from the WAL index under the mutex so that the copying can go without. */
typedef struct ckpt_plan {
    uint32_t n, cap;
    uint32_t *v; /* v[2i] page, v[2i+1] frame */
} ckpt_plan;

static int plan_add(void *arg, uint32_t pgno, uint32_t frame)
{
    ckpt_plan *pl = arg;
    if (pl->n == pl->cap) {
        uint32_t ncap = pl->cap ? pl->cap * 2 : 256;
        uint32_t *nv = os_realloc(pl->v, (size_t)ncap * 2 * sizeof *nv);
        if (!nv)
            return FOLIO_NOMEM;
        pl->v = nv;
        pl->cap = ncap;
    }
    pl->v[2 * pl->n] = pgno;
    pl->v[2 * pl->n + 1] = frame;
    pl->n++;
    return 0;
}

/*
 * Copy the planned frames into the database file, without the mutex: a
 * writer may append frames meanwhile (past the ones copied), and readers go
 * on. Nobody reads the file's image of a planned page while this runs:
 * every snapshot that could see the page has a frame for it (the plan stops
 * at the oldest reader's snapshot), and new pages never go straight to the
 * file under a page number the WAL holds. *out_end receives the end of the
 * furthest page written, *got1 whether page 1 was (its header then in hdr1).
 */
static int ckpt_copy_pages(pager *p, const ckpt_plan *pl, uint64_t *out_end, int *got1,
                           uint8_t *hdr1)
{
    uint32_t ps = p->page_size;
    enum { RUN_MAX = 64 };
    uint8_t *buf = os_malloc((size_t)ps * RUN_MAX);
    if (!buf)
        return FOLIO_NOMEM;
    int rc = 0;
    for (uint32_t i = 0; i < pl->n && rc == 0;) {
        /* Consecutive pages go out in one write. */
        uint32_t j = i + 1;
        while (j < pl->n && j - i < RUN_MAX && pl->v[2 * j] == pl->v[2 * (j - 1)] + 1)
            j++;
        for (uint32_t k = i; k < j && rc == 0; k++)
            rc = wal_read_committed_frame(p->wal, pl->v[2 * k + 1], buf + (size_t)(k - i) * ps);
        if (rc < 0)
            break;
        uint32_t first = pl->v[2 * i];
        if ((rc = p->vfs->write(p->db, buf, (size_t)(j - i) * ps, (uint64_t)(first - 1) * ps)) < 0)
            break;
        PAGER_COUNT(p, pages_written_db, j - i);
        if (first == 1) {
            memcpy(hdr1, buf, FMT_DBHEADER_SIZE);
            *got1 = 1;
        }
        uint64_t end = (uint64_t)pl->v[2 * (j - 1)] * ps;
        if (end > *out_end)
            *out_end = end;
        i = j;
    }
    os_free(buf);
    return rc;
}

/* A checkpoint of a mode other than PASSIVE waits for the locks it needs, up
 * to the busy timeout: waking when this handle's readers end, or after a
 * little while for other connections'. Returns 1 to try again. (mu held) */
typedef struct ckpt_wait {
    pager *p;
    uint64_t deadline;
    int waited; /* counted in busy_waits once per checkpoint */
} ckpt_wait;

static int ckpt_busy(void *arg)
{
    ckpt_wait *cw = arg;
    if (cw->p->vfs->now_ms(cw->p->vfs) >= cw->deadline)
        return 0;
    if (!cw->waited++)
        PAGER_COUNT(cw->p, busy_waits, 1);
    pager_cond_wait_ms(cw->p, 10);
    return 1;
}

/* Take a WAL lock, retrying with `busy` (NULL: once). */
static int ckpt_lock(pager *p, int slot, int n, int (*busy)(void *), ckpt_wait *cw)
{
    int rc;
    while ((rc = wal_lock(p->wal, slot, n, 1)) == FOLIO_BUSY && busy && busy(cw)) {
    }
    return rc;
}

/*
 * Copy frames up to `safe` into the database file (READ0 taken here keeps
 * readers of the file alone out, and the WAL from starting over); `h` is
 * the header the plan was made under. Returns 0 (*copied says whether it
 * ran), or an error. mu held, let go while copying.
 */
static int ckpt_backfill(pager *p, const widx_hdr *h, uint32_t before, uint32_t safe,
                         int (*busy)(void *), ckpt_wait *cw, int *copied)
{
    *copied = 0;
    ckpt_plan pl = {0, 0, NULL};
    int rc = wal_checkpoint_pages(p->wal, before, safe, plan_add, &pl);
    if (rc < 0) {
        os_free(pl.v);
        return rc;
    }
    if ((rc = ckpt_lock(p, WIDX_READ0, 1, busy, cw)) < 0) {
        os_free(pl.v);
        return rc == FOLIO_BUSY ? 0 : rc; /* a reader of the file alone: nothing now */
    }
    if (!wal_header_is(p->wal, h)) {
        /* The WAL started over (or moved) between the plan and the lock:
         * the plan's frames may be others now. */
        wal_unlock(p->wal, WIDX_READ0, 1, 1);
        os_free(pl.v);
        return 0;
    }
    wal_set_backfill_attempted(p->wal, safe);
    uint32_t db_pages = wal_db_pages(p->wal);
    pthread_mutex_unlock(&p->mu);

    /* The frames must be durable before the file changes (and the commit
     * log's records of them before the frames). */
    if (p->sync != FOLIO_SYNC_OFF && p->sync_hook)
        rc = p->sync_hook(p->sync_hook_arg);
    if (rc == 0 && p->sync != FOLIO_SYNC_OFF)
        rc = wal_sync(p->wal);
    uint64_t end = 0;
    int got1 = 0;
    uint8_t hdr1[FMT_DBHEADER_SIZE];
    if (rc == 0)
        rc = ckpt_copy_pages(p, &pl, &end, &got1, hdr1);
    /* Copied to the end: the file's page 1 takes the version of its whole
     * state, which the WAL starting over would otherwise lose. */
    int stamped = 0;
    /* (Past the published header too: with FOLIO_SYNC_FULL commits staged
     * for the group's sync are in the WAL, synced above, and copied.) */
    if (rc == 0 && safe >= h->mx_frame && safe) {
        if (!got1)
            rc = p->vfs->read(p->db, hdr1, FMT_DBHEADER_SIZE, 0, NULL);
        if (rc == 0 && fmt_dbheader_magic_ok(hdr1) &&
            (rc = pager_version_end_stamp(p, h, safe, hdr1)) == 0)
            stamped = 1;
    }

    pthread_mutex_lock(&p->mu);
    for (uint32_t i = 0; i < pl.n; i++)
        pager_cache_forget(p, pl.v[2 * i], 0); /* invariant (2): the file's image changed */
    os_free(pl.v);
    if (got1 || stamped)
        memcpy(p->db_hdr_raw, hdr1, FMT_DBHEADER_SIZE);
    if (stamped)
        pager_cache_forget(p, 1, 0);
    if (end > p->db_bytes)
        p->db_bytes = end;
    /* Everything copied: the file takes the database's size (no writer of
     * this handle has pages past it: one that might holds CKPT). */
    uint64_t want = (uint64_t)db_pages * p->page_size;
    if (rc == 0 && safe == h->mx_frame && wal_header_is(p->wal, h) && p->db_bytes > want) {
        if ((rc = p->vfs->truncate(p->db, want)) == 0) {
            p->db_bytes = want;
            /* The file's images of pages past its end are gone: a page
             * that is written there later (the database growing again) must
             * not find an image of before in the cache. */
            pager_cache_drop_pages_above(p, db_pages);
        }
    }
    if (rc == 0) {
        pthread_mutex_unlock(&p->mu);
        if (p->sync != FOLIO_SYNC_OFF) {
            PAGER_COUNT(p, db_syncs, 1);
            rc = p->vfs->sync(p->db);
        }
        pthread_mutex_lock(&p->mu);
    }
    if (rc == 0) {
        wal_set_backfilled(p->wal, safe);
        *copied = 1;
        PAGER_COUNT(p, checkpoint_pages, pl.n);
        /* Our own writes: not a change another process made. */
        uint64_t st[2];
        if (p->vfs->file_stamp && p->vfs->file_stamp(p->db, st) == 0) {
            p->db_stamp = st[1];
            p->db_stamp_valid = 1;
        }
    }
    wal_unlock(p->wal, WIDX_READ0, 1, 1);
    return rc;
}

/*
 * A checkpoint, as SQLite runs one: CKPT; for FULL, RESTART and TRUNCATE
 * also WRITE (waiting up to the busy timeout, else it goes on as PASSIVE
 * and reports busy); read marks below the end moved up where no reader
 * holds them, the first held one bounding what may be copied; the copy
 * under READ0; RESTART and TRUNCATE then wait for every reader of the WAL
 * to finish (READ1..4), and TRUNCATE starts the WAL over and cuts it to
 * zero bytes. `bg` is the background thread's: a commit claimed it
 * (ckpt_running) and it lets this handle's writers run beside it; every
 * other one waits for the handle's writer and keeps new ones out until it
 * is done (ckpt_excl).
 */
static int checkpoint_run(pager *p, int mode, int bg, int *out_log, int *out_done, char *err,
                          size_t errlen)
{
    int rc = 0;
    uint64_t start_us = pager_now_us();
    pthread_mutex_lock(&p->mu);
    if (!p->wal) {
        pthread_mutex_unlock(&p->mu);
        return 0; /* no WAL: nothing to copy */
    }
    int waited = 0;
    if (!bg) {
        while (p->writer || p->ckpt_running || wal_staged(p->wal)) {
            if (!waited++)
                PAGER_COUNT(p, busy_waits, 1);
            if (mode == FOLIO_CHECKPOINT_PASSIVE && p->writer) {
                pthread_mutex_unlock(&p->mu);
                snprintf(err, errlen, "checkpoint skipped: a write transaction is active");
                return FOLIO_BUSY;
            }
            pthread_cond_wait(&p->cond, &p->mu);
        }
        p->ckpt_running = 1;
        p->ckpt_excl = 1;
    }
    ckpt_wait cw = {p, p->vfs->now_ms(p->vfs) + p->busy_timeout_ms, 0};
    int (*busy)(void *) = mode == FOLIO_CHECKPOINT_PASSIVE ? NULL : ckpt_busy;
    int held_ckpt = 0, held_write = 0, report_busy = 0;
    char who[48];
    if ((rc = wal_lock(p->wal, WIDX_CKPT, 1, 1)) < 0) {
        if (rc == FOLIO_BUSY) {
            wal_lock_holder(p->wal, WIDX_CKPT, 1, who, sizeof who);
            snprintf(err, errlen, "checkpoint: another connection is checkpointing%s%s%s",
                     who[0] ? " (" : "", who, who[0] ? " holds CKPT)" : "");
        }
        goto done;
    }
    held_ckpt = 1;
    if (busy) {
        rc = ckpt_lock(p, WIDX_WRITE, 1, busy, &cw);
        if (rc == 0) {
            held_write = 1;
        } else if (rc == FOLIO_BUSY) {
            /* Go on as PASSIVE, and say busy in the end. */
            wal_lock_holder(p->wal, WIDX_WRITE, 1, who, sizeof who);
            snprintf(p->ckpt_note, sizeof p->ckpt_note,
                     "checkpoint: a writer kept the WAL's WRITE lock%s%s", who[0] ? " - " : "",
                     who);
            report_busy = 1;
            busy = NULL;
            rc = 0;
        } else {
            goto done;
        }
    }
    int recovering = 0;
    for (;;) {
        rc = wal_try_refresh(p->wal, &recovering);
        if (rc != FOLIO_BUSY || !ckpt_busy(&cw))
            break;
    }
    if (rc < 0) {
        if (rc == FOLIO_BUSY)
            wal_busy_message(p->wal, recovering, err, errlen);
        goto done;
    }
    if (p->db_stale && (rc = pager_db_refresh(p)) < 0)
        goto done;
    widx_hdr h;
    wal_header_get(p->wal, &h);
    uint32_t mx = h.mx_frame;
    uint32_t before = wal_backfilled(p->wal);
    uint32_t safe = mx;
    if (before < mx) {
        safe = wal_safe_frame(p->wal, busy, &cw);
#ifndef NDEBUG
        /* Invariant (3), for this handle's readers: their marks bound it. */
        for (uint32_t i = 0; i < p->nreaders; i++)
            assert((p->readers[i]->write && !p->readers[i]->conc) || p->readers[i]->mx == 0 ||
                   safe <= p->readers[i]->mx);
#endif
        int copied = 0;
        if (before < safe && (rc = ckpt_backfill(p, &h, before, safe, busy, &cw, &copied)) < 0)
            goto done;
        if (!copied)
            safe = before;
    }
    if (safe < mx)
        PAGER_COUNT(p, checkpoints_short, 1);
    __atomic_store_n(&p->ckpt_short_mx, safe < mx ? mx : 0, __ATOMIC_RELAXED);
    if (safe < mx)
        snprintf(p->ckpt_note, sizeof p->ckpt_note,
                 "checkpoint incomplete: %u of %u frames held back by a reader's snapshot",
                 mx - safe, mx);
    else if (!report_busy)
        p->ckpt_note[0] = 0;
    if (out_log)
        *out_log = (int)mx;
    if (out_done)
        *out_done = (int)wal_backfilled(p->wal);
    if (held_write && wal_backfilled(p->wal) == mx &&
        (mode == FOLIO_CHECKPOINT_RESTART || mode == FOLIO_CHECKPOINT_TRUNCATE)) {
        /* Every reader of the WAL must be done: READ1..4, all of them. */
        rc = ckpt_lock(p, WIDX_READ(1), WIDX_NREADERS - 1, busy, &cw);
        if (rc == 0) {
            if (mode == FOLIO_CHECKPOINT_TRUNCATE) {
                pager_cache_rekey_to_file(p);
                rc = wal_truncate_file(p->wal);
            }
            wal_unlock(p->wal, WIDX_READ(1), WIDX_NREADERS - 1, 1);
        } else if (rc == FOLIO_BUSY) {
            snprintf(p->ckpt_note, sizeof p->ckpt_note,
                     "checkpoint: the WAL could not start over: a reader still uses it");
            report_busy = 1;
            rc = 0;
        }
        if (rc < 0)
            goto done;
    }
    if (!bg && (safe < mx || report_busy)) {
        snprintf(err, errlen, "%s", p->ckpt_note);
        if (mode != FOLIO_CHECKPOINT_PASSIVE)
            rc = FOLIO_BUSY;
    }
done:
    if (rc < 0 && rc != FOLIO_BUSY)
        snprintf(err, errlen, "checkpoint failed: %s", status_text(rc));
    if (held_write)
        wal_unlock(p->wal, WIDX_WRITE, 1, 1);
    if (held_ckpt)
        wal_unlock(p->wal, WIDX_CKPT, 1, 1);
    p->ckpt_running = 0;
    p->ckpt_excl = 0;
    pthread_cond_broadcast(&p->cond);
    pager_wake_writers(p);
    pthread_mutex_unlock(&p->mu);
    PAGER_COUNT(p, checkpoints, 1);
    PAGER_COUNT(p, checkpoint_us, pager_now_us() - start_us);
    {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        atomic_store_explicit(&p->counters.checkpoint_last_unix_us,
                              (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u,
                              memory_order_relaxed);
    }
    return rc;
}

int pager_checkpoint(pager *p, int mode, int *out_log, int *out_done, char *err, size_t errlen)
{
    if (out_log)
        *out_log = 0;
    if (out_done)
        *out_done = 0;
    if (p->readonly) {
        snprintf(err, errlen, "the database is open read-only");
        return FOLIO_READONLY;
    }
    return checkpoint_run(p, mode, 0, out_log, out_done, err, errlen);
}

/* ---- the background checkpoint thread ---- */

static void *bg_main(void *arg)
{
    pager *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->bg_go && !p->bg_exit)
            pthread_cond_wait(&p->bg_cond, &p->mu);
        if (!p->bg_go)
            break;
        p->bg_go = 0;
        pthread_mutex_unlock(&p->mu);
        /* The commits stand whatever happens here; a failed checkpoint is
         * tried again after a later commit. */
        char err[256];
        checkpoint_run(p, FOLIO_CHECKPOINT_PASSIVE, 1, NULL, NULL, err, sizeof err);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int pager_bg_request(pager *p)
{
    if (p->inline_ckpt)
        return -1;
    if (!p->bg_started) {
        if (pthread_create(&p->bg_thread, NULL, bg_main, p) != 0) {
            p->inline_ckpt = 1; /* no thread: checkpoint inline from now on */
            return -1;
        }
        p->bg_started = 1;
    }
    p->ckpt_running = 1;
    p->ckpt_excl = 0;
    p->bg_go = 1;
    pthread_cond_signal(&p->bg_cond);
    return 0;
}

void pager_bg_stop(pager *p)
{
    pthread_mutex_lock(&p->mu);
    int started = p->bg_started;
    p->bg_exit = 1;
    pthread_cond_signal(&p->bg_cond);
    pthread_mutex_unlock(&p->mu);
    if (started)
        pthread_join(p->bg_thread, NULL);
    p->bg_started = 0;
}

uint64_t pager_wal_bytes(pager *p)
{
    pthread_mutex_lock(&p->mu);
    uint64_t v = p->wal ? wal_file_bytes(p->wal) : 0;
    pthread_mutex_unlock(&p->mu);
    return v;
}

uint32_t pager_wal_frames(pager *p)
{
    pthread_mutex_lock(&p->mu);
    uint32_t v = p->wal ? wal_mx(p->wal) : 0;
    pthread_mutex_unlock(&p->mu);
    return v;
}

uint32_t pager_wal_ckpt_seq(pager *p)
{
    pthread_mutex_lock(&p->mu);
    uint32_t v = p->wal ? wal_ckpt_seq(p->wal) : 0;
    pthread_mutex_unlock(&p->mu);
    return v;
}

uint32_t pager_wal_backfilled(pager *p)
{
    pthread_mutex_lock(&p->mu);
    uint32_t v = p->wal ? wal_backfilled(p->wal) : 0;
    pthread_mutex_unlock(&p->mu);
    return v;
}

int pager_writer_active(pager *p)
{
    pthread_mutex_lock(&p->mu);
    int live = p->writer != NULL;
    pthread_mutex_unlock(&p->mu);
    return live;
}

void pager_ckpt_note(pager *p, char *buf, size_t n)
{
    pthread_mutex_lock(&p->mu);
    snprintf(buf, n, "%s", p->ckpt_note);
    pthread_mutex_unlock(&p->mu);
}

uint64_t pager_file_bytes(pager *p)
{
    pthread_mutex_lock(&p->mu);
    uint64_t v = p->db_bytes;
    pthread_mutex_unlock(&p->mu);
    return v;
}

void pager_wal_state(pager *p, wal_state *out)
{
    pthread_mutex_lock(&p->mu);
    if (p->wal)
        wal_state_get(p->wal, out);
    else
        memset(out, 0, sizeof *out);
    pthread_mutex_unlock(&p->mu);
}
