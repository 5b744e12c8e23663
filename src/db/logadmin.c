/*
 * logadmin.c - looking after the commit log: its listing (folio_log_list),
 * its figures (folio_log_stats) and pruning it (folio_log_prune). Files in
 * commitlog.h.
 *
 * Prune keeps one base B - the newest at or before the oldest version kept,
 * or a new one made there - and removes what only the versions before B
 * need: the bases older than B, then the segments whose every record is at
 * or before B. The versions of segment i are [first(i), first(i+1) - 1],
 * since the reader checks that each segment continues the one before it;
 * the last segment is where writers append and never goes. A new base is
 * written whole, synced and renamed before anything is removed; bases go
 * before segments, oldest first, so that a crash between two removals
 * leaves every remaining base with all the records after it.
 */
#include "db/commitlog.h"
#include "db/db_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/status.h"

static int open_err(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int open_err(int rc, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    db_set_open_err(msg);
    return rc;
}

int clog_source_dir(const char *source, char *dir, size_t n)
{
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/folio-log", source);
    os_vfs *vfs = os_vfs_current();
    if (vfs->exists(vfs, probe) == 1) {
        snprintf(dir, n, "%s", source);
        return 0;
    }
    char *d = clog_dir_of(source);
    if (!d)
        return FOLIO_NOMEM;
    snprintf(dir, n, "%s", d);
    os_free(d);
    return 0;
}

int clog_check_owner(const char *source, const char *dir, const clog_manifest *m, char *err,
                     size_t errlen)
{
    if (strcmp(source, dir) == 0)
        return 0; /* a log directory itself: nothing to compare with */
    os_vfs *vfs = os_vfs_current();
    os_file *f;
    if (vfs->open(vfs, source, OS_OPEN_READONLY, &f) < 0)
        return 0; /* no database there (a log kept after its database) */
    uint8_t h[100];
    size_t got = 0;
    int rc = vfs->read(f, h, sizeof h, 0, &got);
    vfs->close(f);
    fmt_vstamp st;
    /* A database whose stamp has not reached its file yet (still in the
     * WAL) cannot tell. */
    if (rc < 0 || got < sizeof h || memcmp(h, "SQLite format 3", 16) != 0 ||
        fmt_vstamp_decode(h, &st) < 0 || st.dbid == 0 || st.dbid == m->dbid)
        return 0;
    snprintf(err, errlen,
             "%s/folio-log at offset 0: the log of another database (database identity %u; %s "
             "is %u)",
             dir, (unsigned)m->dbid, source, (unsigned)st.dbid);
    return FOLIO_CORRUPT;
}

uint64_t clog_gap_last(const uint8_t *payload)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | payload[i];
    return v;
}

/* The size of the file at `path` (0 when it cannot be told). */
static uint64_t file_bytes(const char *path)
{
    os_vfs *vfs = os_vfs_current();
    uint64_t id[3];
    return vfs->path_id(vfs, path, id) == 0 ? id[2] : 0;
}

/* ---- listing ---- */

typedef struct list_ctx {
    int (*cb)(void *arg, const folio_log_entry *e);
    void *arg;
    const clog_manifest *m;
    int stopped; /* the callback's value once it stopped the listing */
} list_ctx;

/* The entry of the base at `path`: 0, the callback's stop, or an error (in
 * the open error). */
static int list_base(list_ctx *c, const char *path)
{
    clog_base_reader *b;
    clog_base_hdr h;
    char err[1200] = "";
    int rc = clog_base_open(&b, path, c->m, &h, err, sizeof err);
    if (rc < 0)
        return open_err(rc, "%s", err);
    clog_base_close(b);
    folio_log_entry e = {FOLIO_LOG_BASE,
                         h.version,
                         h.version,
                         h.time_us,
                         0,
                         h.npages,
                         (uint64_t)h.npages * h.page_size,
                         file_bytes(path),
                         path,
                         0};
    rc = c->cb(c->arg, &e);
    if (rc)
        c->stopped = rc;
    return 0;
}

int folio_log_list(const char *source, int (*cb)(void *arg, const folio_log_entry *e), void *arg)
{
    if (!source || !cb)
        return open_err(FOLIO_MISUSE, "bad argument: a source and a callback are needed");
    char dir[4096], err[1200] = "";
    if (clog_source_dir(source, dir, sizeof dir) < 0)
        return open_err(FOLIO_NOMEM, "out of memory");
    clog_reader *r;
    int rc = clog_reader_open(&r, dir, err, sizeof err);
    if (rc < 0)
        return open_err(rc, "%s", err);
    clog_file *files;
    int nfiles;
    if ((rc = clog_list(dir, &files, &nfiles, err, sizeof err)) < 0) {
        clog_reader_close(r);
        return open_err(rc, "%s", err);
    }
    if ((rc = clog_check_owner(source, dir, clog_reader_manifest(r), err, sizeof err)) < 0) {
        clog_reader_close(r);
        clog_list_free(files, nfiles);
        return open_err(rc, "%s", err);
    }
    list_ctx c = {cb, arg, clog_reader_manifest(r), 0};
    int bi = 0; /* the next base to list */
    while (!c.stopped) {
        clog_rec rec;
        const uint8_t *payload;
        if ((rc = clog_reader_next(r, &rec, &payload, 0)) < 0) {
            open_err(rc, "%s", clog_reader_errmsg(r));
            break;
        }
        if (rc == 0)
            break;
        /* A base comes after the commit of its version. */
        for (; bi < nfiles && !c.stopped && rc >= 0; bi++) {
            if (!files[bi].is_base)
                continue;
            if (files[bi].version >= rec.version)
                break;
            rc = list_base(&c, files[bi].path);
        }
        if (rc < 0 || c.stopped)
            break;
        folio_log_entry e = {rec.type == CLOG_GAP ? FOLIO_LOG_GAP : FOLIO_LOG_COMMIT,
                             rec.version,
                             rec.type == CLOG_GAP ? clog_gap_last(payload) : rec.version,
                             rec.time_us,
                             rec.nchanges,
                             rec.npages,
                             rec.raw,
                             rec.stored,
                             clog_reader_file(r),
                             clog_reader_offset(r)};
        int cr = cb(arg, &e);
        if (cr)
            c.stopped = cr;
    }
    for (; rc >= 0 && bi < nfiles && !c.stopped; bi++)
        if (files[bi].is_base)
            rc = list_base(&c, files[bi].path);
    clog_reader_close(r);
    clog_list_free(files, nfiles);
    if (rc < 0)
        return rc;
    db_set_open_err("");
    return c.stopped;
}

/* ---- figures ---- */

/* The records of one segment, by their headers only. */
static void stat_segment(const char *path, const clog_manifest *m, folio_log_stats_data *out)
{
    os_vfs *vfs = os_vfs_current();
    os_file *f;
    if (vfs->open(vfs, path, OS_OPEN_READONLY, &f) < 0)
        return;
    uint64_t size = 0, off = CLOG_SEG_HDR;
    uint8_t h[CLOG_SEG_HDR];
    clog_seg_hdr sh;
    if (vfs->size(f, &size) < 0 || size < CLOG_SEG_HDR || vfs->read(f, h, sizeof h, 0, NULL) < 0 ||
        clog_seg_hdr_decode(h, &sh) < 0 || sh.dbid != m->dbid || sh.logid != m->logid)
        size = 0;
    /* Each step moves at least a header on: bounded by the file's size. */
    while (size >= off + CLOG_REC_HDR) {
        clog_rec r;
        if (vfs->read(f, h, CLOG_REC_HDR, off, NULL) < 0)
            break;
        clog_rec_decode(h, &r);
        if (r.stored > size - off - CLOG_REC_HDR || r.type == CLOG_CLOSED)
            break;
        uint64_t last = r.version;
        if (r.type == CLOG_GAP) {
            uint8_t p[8];
            if (r.stored != 8 || vfs->read(f, p, 8, off + CLOG_REC_HDR, NULL) < 0)
                break;
            last = clog_gap_last(p);
            out->gaps++;
        } else if (r.type == CLOG_COMMIT) {
            out->commits++;
            out->raw_bytes += r.raw;
            out->stored_bytes += r.stored;
        } else {
            break;
        }
        if (!out->oldest_version)
            out->oldest_version = r.version;
        if (last > out->newest_version)
            out->newest_version = last;
        off += CLOG_REC_HDR + r.stored;
    }
    vfs->close(f);
}

int folio_log_stats(folio_db *db, folio_log_stats_data *out)
{
    if (!db)
        return FOLIO_MISUSE;
    FOLIO_CHECK_ARG(db, out != NULL);
    memset(out, 0, sizeof *out);
    ptxn *t;
    char err[1200] = "";
    int rc = pager_begin(&t, db->pager, 0, db->opts.busy_timeout_ms, err, sizeof err);
    if (rc < 0)
        return db_err(db, rc, "%s", err[0] ? err : folio_strerror(rc));
    out->enabled = (ptxn_vflags(t) & FMT_VSTAMP_LOG) != 0;
    pager_end(t);
    char *dir = clog_dir_of(pager_path(db->pager));
    if (!dir)
        return db_err(db, FOLIO_NOMEM, "out of memory");
    clog_manifest m;
    rc = clog_manifest_read(dir, &m, err, sizeof err);
    if (rc == FOLIO_NOTFOUND_ERR) {
        os_free(dir);
        return FOLIO_OK;
    }
    clog_file *files = NULL;
    int n = 0;
    if (rc == 0)
        rc = clog_list(dir, &files, &n, err, sizeof err);
    if (rc < 0) {
        os_free(dir);
        return db_err(db, rc, "%s", err);
    }
    out->present = 1;
    out->compression = m.codec == CLOG_LZ4 ? FOLIO_LOG_LZ4 : FOLIO_LOG_ZSTD;
    char path[4200];
    snprintf(path, sizeof path, "%s/folio-log", dir);
    out->disk_bytes = file_bytes(path);
    for (int i = 0; i < n; i++) {
        out->disk_bytes += file_bytes(files[i].path);
        if (!files[i].is_base) {
            out->segments++;
            stat_segment(files[i].path, &m, out);
            continue;
        }
        out->bases++;
        if (!out->oldest_base)
            out->oldest_base = files[i].version;
        out->newest_base = files[i].version;
        clog_base_reader *b;
        clog_base_hdr h;
        if (clog_base_open(&b, files[i].path, &m, &h, err, sizeof err) == 0) {
            out->newest_base_time_us = h.time_us;
            clog_base_close(b);
        }
    }
    clog_list_free(files, n);
    os_free(dir);
    return FOLIO_OK;
}

void db_log_disk(folio_db *db, uint64_t *out_bytes, uint64_t *out_oldest_base)
{
    *out_bytes = *out_oldest_base = 0;
    char *dir = clog_dir_of(pager_path(db->pager));
    char path[4200], err[512];
    clog_file *files = NULL;
    int n = 0;
    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/folio-log", dir);
    if (os_vfs_current()->exists(os_vfs_current(), path) == 1 &&
        clog_list(dir, &files, &n, err, sizeof err) == 0) {
        *out_bytes = file_bytes(path);
        for (int i = 0; i < n; i++) {
            *out_bytes += file_bytes(files[i].path);
            if (files[i].is_base && !*out_oldest_base)
                *out_oldest_base = files[i].version;
        }
        clog_list_free(files, n);
    }
    os_free(dir);
}

/* ---- pruning ---- */

/* What prune needs of a record. */
typedef struct prune_rec {
    uint64_t first, last; /* a commit: its version twice; a gap: its versions */
    int64_t time_us;
    int is_gap;
} prune_rec;

typedef struct prune_ctx {
    folio_db *db;
    char dir[4096];
    clog_manifest m;
    clog_file *files;
    int nfiles;
    int last_seg; /* index in files of the last segment (-1: none) */
    prune_rec *recs;
    size_t nrecs, cap;
} prune_ctx;

/* Read the whole log, verified: a damaged log is refused before anything
 * is removed. */
static int prune_scan(prune_ctx *c)
{
    char err[1200] = "";
    clog_reader *r;
    int rc = clog_reader_open(&r, c->dir, err, sizeof err);
    if (rc < 0)
        return db_err(c->db, rc, "%s", err);
    for (;;) {
        clog_rec rec;
        const uint8_t *payload;
        rc = clog_reader_next(r, &rec, &payload, 0);
        if (rc <= 0)
            break;
        if (c->nrecs == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 1024;
            prune_rec *v = os_realloc(c->recs, cap * sizeof *v);
            if (!v) {
                clog_reader_close(r);
                return db_err(c->db, FOLIO_NOMEM, "out of memory");
            }
            c->recs = v;
            c->cap = cap;
        }
        int gap = rec.type == CLOG_GAP;
        c->recs[c->nrecs++] =
            (prune_rec){rec.version, gap ? clog_gap_last(payload) : rec.version, rec.time_us, gap};
    }
    if (rc < 0)
        rc = db_err(c->db, rc, "the commit log is damaged, nothing was pruned: %s",
                    clog_reader_errmsg(r));
    clog_reader_close(r);
    return rc;
}

/* The oldest version to keep restorable (0: keep everything). */
static uint64_t prune_oldest_kept(const prune_ctx *c, uint64_t keep_versions, int64_t keep_seconds)
{
    uint64_t newest = c->nrecs ? c->recs[c->nrecs - 1].last : 0;
    for (int i = 0; i < c->nfiles; i++)
        if (c->files[i].is_base && c->files[i].version > newest)
            newest = c->files[i].version;
    uint64_t k = UINT64_MAX;
    if (keep_versions)
        k = newest >= keep_versions ? newest - keep_versions + 1 : 0;
    if (keep_seconds) {
        /* The version in force at the cutoff: the newest commit made at
         * or before it (a time after it restores to that version). */
        uint64_t kt = 0;
        if (keep_seconds < INT64_MAX / 1000000) {
            int64_t cutoff = clog_now_us() - keep_seconds * 1000000;
            for (size_t i = 0; i < c->nrecs; i++)
                if (!c->recs[i].is_gap && c->recs[i].time_us <= cutoff && c->recs[i].last > kt)
                    kt = c->recs[i].last;
        }
        k = kt < k ? kt : k;
    }
    return k == UINT64_MAX ? 0 : k;
}

/* Whether versions (from, to] all have a commit record (no gap, none
 * missing). */
static int prune_reachable(const prune_ctx *c, uint64_t from, uint64_t to)
{
    uint64_t next = from + 1;
    for (size_t i = 0; i < c->nrecs && next <= to; i++) {
        const prune_rec *r = &c->recs[i];
        if (r->last < next)
            continue;
        if (r->is_gap || r->first != next)
            return 0;
        next = r->last + 1;
    }
    return next > to;
}

/* The last version of segment `i` (not the last segment). */
static uint64_t seg_end(const prune_ctx *c, int i)
{
    for (int k = i + 1; k < c->nfiles; k++)
        if (!c->files[k].is_base)
            return c->files[k].version - 1;
    return UINT64_MAX;
}

/* Make the base of version `v` (committed at `time_us`): the log restored
 * to it in a temporary file beside the segments, its pages written as a
 * base. */
static int prune_make_base(prune_ctx *c, uint64_t v, int64_t time_us)
{
    char tmp[4300], err[1200] = "";
    snprintf(tmp, sizeof tmp, "%s/prune-%020" PRIu64 ".db", c->dir, v);
    os_vfs *vfs = os_vfs_current();
    vfs->remove(vfs, tmp);
    uint64_t got = 0;
    int rc = folio_restore(c->dir, tmp, v, -1, &got);
    if (rc < 0)
        return db_err(c->db, rc, "cannot make a base at version %" PRIu64 ": %s", v,
                      folio_open_errmsg());
    os_file *f = NULL;
    uint64_t size = 0;
    uint8_t *page = NULL;
    uint8_t hdr[100];
    uint32_t ps = 0;
    if ((rc = vfs->open(vfs, tmp, OS_OPEN_READONLY, &f)) == 0 && (rc = vfs->size(f, &size)) == 0 &&
        (rc = vfs->read(f, hdr, sizeof hdr, 0, NULL)) == 0) {
        ps = (uint32_t)hdr[16] << 8 | hdr[17];
        if (ps == 1)
            ps = 65536;
        if (ps < 512 || (ps & (ps - 1)) || size % ps || size / ps > UINT32_MAX)
            rc = FOLIO_CORRUPT;
    }
    clog_base_hdr bh = {c->m.dbid, c->m.logid, v, ps, (uint32_t)(ps ? size / ps : 0), time_us};
    clog_base_writer *bw = NULL;
    if (rc == 0 && !(page = os_malloc(ps)))
        rc = FOLIO_NOMEM;
    if (rc == 0)
        rc = clog_base_create(&bw, c->dir, &c->m, &bh, err, sizeof err);
    for (uint32_t pgno = 1; rc == 0 && pgno <= bh.npages; pgno++) {
        if ((rc = vfs->read(f, page, ps, (uint64_t)(pgno - 1) * ps, NULL)) == 0)
            rc = clog_base_add(bw, pgno, page);
    }
    if (rc == 0)
        rc = clog_base_finish(bw, err, sizeof err);
    else
        clog_base_abort(bw);
    os_free(page);
    if (f)
        vfs->close(f);
    vfs->remove(vfs, tmp);
    if (rc < 0)
        return db_err(c->db, rc, "cannot make a base at version %" PRIu64 ": %s", v,
                      err[0] ? err : status_text(rc));
    return 0;
}

/* Remove the bases older than `b`, then the segments that end at or
 * before it (never the last one). */
static int prune_remove(prune_ctx *c, uint64_t b)
{
    os_vfs *vfs = os_vfs_current();
    int rc = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < c->nfiles && rc == 0; i++) {
            const clog_file *f = &c->files[i];
            if (pass == 0 ? !f->is_base || f->version >= b
                          : f->is_base || i >= c->last_seg || seg_end(c, i) > b)
                continue;
            rc = vfs->remove(vfs, f->path);
            if (rc < 0)
                rc = db_err(c->db, rc, "%s: cannot remove it: %s", f->path, status_text(rc));
        }
    }
    int src = clog_sync_dir(c->dir);
    if (rc == 0 && src < 0)
        rc = db_err(c->db, src, "%s: cannot sync the directory: %s", c->dir, status_text(src));
    return rc;
}

static int prune_run(prune_ctx *c, uint64_t keep_versions, int64_t keep_seconds)
{
    char err[1200] = "";
    int rc = clog_list(c->dir, &c->files, &c->nfiles, err, sizeof err);
    if (rc < 0)
        return db_err(c->db, rc, "%s", err);
    c->last_seg = -1;
    for (int i = 0; i < c->nfiles; i++)
        if (!c->files[i].is_base)
            c->last_seg = i;
    if ((rc = prune_scan(c)) < 0)
        return rc;
    uint64_t k = prune_oldest_kept(c, keep_versions, keep_seconds);
    if (k == 0)
        return 0;
    /* The newest base at or before k: what restores to k and after need. */
    uint64_t b = 0;
    int have_base = 0;
    for (int i = 0; i < c->nfiles; i++)
        if (c->files[i].is_base && c->files[i].version <= k) {
            b = c->files[i].version;
            have_base = 1;
        }
    if (!have_base)
        return 0; /* the log begins after k already */
    if (b < k && prune_reachable(c, b, k)) {
        /* A base at k pays when it frees segments that b keeps. */
        int frees = 0;
        for (int i = 0; i < c->last_seg && !frees; i++)
            if (!c->files[i].is_base) {
                uint64_t end = seg_end(c, i);
                frees = end > b && end <= k;
            }
        if (frees) {
            int64_t t = 0;
            for (size_t i = 0; i < c->nrecs; i++)
                if (c->recs[i].last == k)
                    t = c->recs[i].time_us;
            if ((rc = prune_make_base(c, k, t)) < 0)
                return rc;
            b = k;
        }
    }
    return prune_remove(c, b);
}

int folio_log_prune(folio_db *db, uint64_t keep_versions, int64_t keep_seconds)
{
    if (!db)
        return FOLIO_MISUSE;
    FOLIO_CHECK_ARG(db, keep_seconds >= 0);
    FOLIO_CHECK_ARG(db, keep_versions > 0 || keep_seconds > 0);
    ptxn *t;
    char err[1200] = "";
    int rc = pager_begin(&t, db->pager, 0, db->opts.busy_timeout_ms, err, sizeof err);
    if (rc < 0)
        return db_err(db, rc, "%s", err[0] ? err : folio_strerror(rc));
    uint32_t dbid = ptxn_dbid(t);
    pager_end(t);
    prune_ctx *c = os_calloc(1, sizeof *c);
    char *dir = clog_dir_of(pager_path(db->pager));
    if (!c || !dir) {
        os_free(c);
        os_free(dir);
        return db_err(db, FOLIO_NOMEM, "out of memory");
    }
    c->db = db;
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    os_free(dir);
    rc = clog_manifest_read(c->dir, &c->m, err, sizeof err);
    if (rc < 0) {
        os_free(c);
        return db_err(db, rc, "%s", err);
    }
    if (c->m.dbid != dbid) {
        rc = db_err(db, FOLIO_ERROR,
                    "%s belongs to another database (database identity %u, this one %u)", c->dir,
                    (unsigned)c->m.dbid, (unsigned)dbid);
        os_free(c);
        return rc;
    }
    /* One prune at a time: a lock on a file of its own, released with the
     * process if it dies. */
    os_vfs *vfs = os_vfs_current();
    char lock_path[4200];
    snprintf(lock_path, sizeof lock_path, "%s/prune-lock", c->dir);
    os_file *lock = NULL;
    if ((rc = vfs->open(vfs, lock_path, OS_OPEN_CREATE, &lock)) < 0) {
        rc = db_err(db, rc, "%s: cannot open it: %s", lock_path, status_text(rc));
    } else if ((rc = vfs->lock_range(lock, 0, 1, OS_WRLOCK)) < 0) {
        rc = db_err(db, rc,
                    rc == FOLIO_BUSY ? "%s: another prune of this log is running"
                                     : "%s: cannot lock it",
                    c->dir);
    } else {
        rc = prune_run(c, keep_versions, keep_seconds);
        vfs->lock_range(lock, 0, 1, OS_UNLOCK);
    }
    if (lock)
        vfs->close(lock);
    clog_list_free(c->files, c->nfiles);
    os_free(c->recs);
    os_free(c);
    return rc < 0 ? rc : FOLIO_OK;
}
