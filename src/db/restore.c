/*
 * restore.c - point-in-time restore from the commit log.
 *
 * The database of version V is the newest base at or before V with the
 * page images of every commit after it up to V laid over it. The log is
 * read twice: once for the headers (which version a time names, where the
 * gaps are, so which base to start from), once for the pages of the
 * commits after the base, each page kept only in its newest image. Then
 * the file is written in page order, each page once: from those images, or
 * else from the base, in runs of pages contiguous in memory (a base chunk),
 * with writeback started as it goes. The copy takes a version stamp of its
 * own (version V, the log off). Then three threads: one syncs it, one checks
 * it (folio_check_ex: quick by default, full on request), the calling one
 * reads it back against a 64-bit hash of every byte written; only when all
 * three succeed is it renamed to DEST. Every record and base chunk read is
 * verified (checksums and the chain); a damaged or foreign log is refused
 * and DEST is not made.
 */
#include "db/commitlog.h"
#include "db/copyhash.h"
#include "db/db_int.h"

#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"

static int rs_err(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rs_err(int rc, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    db_set_open_err(msg);
    return rc;
}

/* The newest image of each page: open addressing by page number into an
 * arena of page images. */
typedef struct img_map {
    uint32_t *key;    /* page number (0: empty) */
    uint32_t *slot;   /* its image's index in the arena */
    uint32_t cap, n;  /* slots (a power of two), entries */
    uint8_t **chunks; /* the arena, 1024 pages a chunk */
    uint32_t nchunks;
    uint32_t page_size;
    /* Changes to pages that have no image here yet (their image is the
     * base's): page number and where the ranges lie in `pend_bytes`, in
     * the order they happened. */
    struct img_pend {
        uint32_t pgno, seq;
        size_t at;
    } * pend;
    size_t npend, pend_cap;
    uint8_t *pend_bytes;
    size_t pend_n, pend_bytes_cap;
} img_map;

static uint8_t *img_at(img_map *m, uint32_t i)
{
    return m->chunks[i / 1024] + (size_t)(i % 1024) * m->page_size;
}

static int img_grow(img_map *m)
{
    uint32_t cap = m->cap ? m->cap * 2 : 1024;
    uint32_t *k = os_calloc(cap, sizeof *k), *s = os_calloc(cap, sizeof *s);
    if (!k || !s) {
        os_free(k);
        os_free(s);
        return FOLIO_NOMEM;
    }
    for (uint32_t i = 0; i < m->cap; i++) {
        if (!m->key[i])
            continue;
        uint32_t h = (m->key[i] * 2654435761u) & (cap - 1);
        while (k[h])
            h = (h + 1) & (cap - 1);
        k[h] = m->key[i];
        s[h] = m->slot[i];
    }
    os_free(m->key);
    os_free(m->slot);
    m->key = k;
    m->slot = s;
    m->cap = cap;
    return 0;
}

static int img_put(img_map *m, uint32_t pgno, const uint8_t *data)
{
    if (m->n * 2 >= m->cap) {
        int rc = img_grow(m);
        if (rc < 0)
            return rc;
    }
    uint32_t h = (pgno * 2654435761u) & (m->cap - 1);
    while (m->key[h] && m->key[h] != pgno)
        h = (h + 1) & (m->cap - 1);
    if (!m->key[h]) {
        uint32_t i = m->n;
        if (i / 1024 >= m->nchunks) {
            uint8_t **c = os_realloc(m->chunks, (m->nchunks + 1) * sizeof *c);
            if (!c)
                return FOLIO_NOMEM;
            m->chunks = c;
            if (!(m->chunks[m->nchunks] = os_malloc((size_t)1024 * m->page_size)))
                return FOLIO_NOMEM;
            m->nchunks++;
        }
        m->key[h] = pgno;
        m->slot[h] = i;
        m->n++;
    }
    memcpy(img_at(m, m->slot[h]), data, m->page_size);
    return 0;
}

static uint8_t *img_get(img_map *m, uint32_t pgno);

static size_t ranges_size(const uint8_t *r)
{
    unsigned nr = (unsigned)r[0] | (unsigned)r[1] << 8;
    size_t o = 2;
    for (unsigned k = 0; k < nr; k++)
        o += 4 + ((size_t)r[o + 2] | (size_t)r[o + 3] << 8);
    return o;
}

/* A change of page `pgno` (the ranges of a CLOG_PAGE_DELTA entry): applied
 * to its image, or kept for the base's page. A page past the database's
 * end before the commit has no page to change: the record is damaged. */
static int img_change(img_map *m, uint32_t pgno, const uint8_t *ranges, uint32_t db_pages_before)
{
    uint8_t *img = img_get(m, pgno);
    if (img) {
        clog_delta_apply(img, ranges);
        return 0;
    }
    if (pgno > db_pages_before)
        return FOLIO_CORRUPT;
    size_t n = ranges_size(ranges);
    if (m->npend == m->pend_cap) {
        size_t cap = m->pend_cap ? 2 * m->pend_cap : 256;
        struct img_pend *v = os_realloc(m->pend, cap * sizeof *v);
        if (!v)
            return FOLIO_NOMEM;
        m->pend = v;
        m->pend_cap = cap;
    }
    if (m->pend_bytes_cap - m->pend_n < n) {
        size_t cap = m->pend_bytes_cap ? m->pend_bytes_cap : 65536;
        while (cap - m->pend_n < n)
            cap *= 2;
        uint8_t *v = os_realloc(m->pend_bytes, cap);
        if (!v)
            return FOLIO_NOMEM;
        m->pend_bytes = v;
        m->pend_bytes_cap = cap;
    }
    memcpy(m->pend_bytes + m->pend_n, ranges, n);
    m->pend[m->npend] = (struct img_pend){pgno, (uint32_t)m->npend, m->pend_n};
    m->npend++;
    m->pend_n += n;
    return 0;
}

static int pend_cmp(const void *a, const void *b)
{
    const struct img_pend *x = a, *y = b;
    if (x->pgno != y->pgno)
        return x->pgno < y->pgno ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static uint8_t *img_get(img_map *m, uint32_t pgno)
{
    if (!m->cap)
        return NULL;
    uint32_t h = (pgno * 2654435761u) & (m->cap - 1);
    while (m->key[h]) {
        if (m->key[h] == pgno)
            return img_at(m, m->slot[h]);
        h = (h + 1) & (m->cap - 1);
    }
    return NULL;
}

static void img_free(img_map *m)
{
    for (uint32_t i = 0; i < m->nchunks; i++)
        os_free(m->chunks[i]);
    os_free(m->chunks);
    os_free(m->key);
    os_free(m->slot);
    os_free(m->pend);
    os_free(m->pend_bytes);
}

static int check_cb(void *arg, const char *msg)
{
    char *first = arg;
    if (!first[0])
        snprintf(first, 512, "%s", msg);
    return 0;
}

/* The check (at `level`) of the file at `path`: 0, or FOLIO_CORRUPT with
 * the first problem in `why`. */
static int verify_file(const char *path, int level, char *why, size_t n)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    folio_db *db;
    int rc = folio_open(&db, path, &o);
    if (rc < 0) {
        snprintf(why, n, "%s", folio_open_errmsg());
        return rc;
    }
    folio_txn *t;
    char first[512] = "";
    if ((rc = folio_begin(&t, db, FOLIO_TXN_READ)) == 0) {
        rc = folio_check_ex(t, level, check_cb, first, 1);
        if (rc < 0 && !first[0])
            snprintf(first, sizeof first, "%s", folio_errmsg(db));
        folio_rollback(t);
    } else {
        snprintf(first, sizeof first, "%s", folio_errmsg(db));
    }
    folio_close(db);
    if (rc < 0)
        snprintf(why, n, "%s", first);
    return rc;
}

/* Pages are written in runs of up to this many bytes; writeback of the
 * file is started every RS_WRITEBACK_BYTES. */
#define RS_RUN_BYTES       (1u << 20)
#define RS_WRITEBACK_BYTES (8u << 20)

/* The file being written: runs of pages contiguous in memory are gathered
 * and written at once, and every byte is hashed. */
typedef struct rs_out {
    os_vfs *vfs;
    os_file *f;
    uint32_t ps;
    const uint8_t *run; /* pages run_first.. at run, contiguous */
    uint32_t run_first, run_n;
    uint64_t kicked;
    bk_hash h;
} rs_out;

static int out_flush(rs_out *o)
{
    if (!o->run_n)
        return 0;
    size_t len = (size_t)o->run_n * o->ps;
    uint64_t off = (uint64_t)(o->run_first - 1) * o->ps;
    hash_update(&o->h, o->run, len);
    int rc = o->vfs->write(o->f, o->run, len, off);
    o->run_n = 0;
    if (rc < 0)
        return rc;
    if (o->vfs->start_writeback && off + len - o->kicked >= RS_WRITEBACK_BYTES) {
        o->vfs->start_writeback(o->f, o->kicked, off + len - o->kicked);
        o->kicked = off + len;
    }
    return 0;
}

/* Page pgno (the next in order) from src, which stays valid until the next
 * out_flush (a base chunk or an image). */
static int out_page(rs_out *o, uint32_t pgno, const uint8_t *src)
{
    if (o->run_n && src == o->run + (size_t)o->run_n * o->ps &&
        (size_t)(o->run_n + 1) * o->ps <= RS_RUN_BYTES) {
        o->run_n++;
        return 0;
    }
    int rc = out_flush(o);
    o->run = src;
    o->run_first = pgno;
    o->run_n = 1;
    return rc;
}

/* The file read back: its size, and the hash of its bytes against the one
 * of what was written. */
static int read_back(os_vfs *vfs, os_file *f, uint64_t size, uint64_t want)
{
    uint64_t got;
    int rc = vfs->size(f, &got);
    if (rc < 0)
        return rc;
    if (got != size)
        return FOLIO_IOERR;
    bk_hash h;
    hash_init(&h);
    void *m = NULL;
    if (size && vfs->map_file && vfs->map_file(f, size, &m) < 0)
        m = NULL;
    uint8_t *buf = m ? NULL : os_malloc(RS_RUN_BYTES);
    if (!m && !buf)
        return FOLIO_NOMEM;
    for (uint64_t off = 0; off < size && rc >= 0; off += RS_RUN_BYTES) {
        size_t len = size - off < RS_RUN_BYTES ? (size_t)(size - off) : RS_RUN_BYTES;
        if (m)
            hash_update(&h, (const uint8_t *)m + off, len);
        else if ((rc = vfs->read(f, buf, len, off, NULL)) >= 0)
            hash_update(&h, buf, len);
    }
    if (m)
        vfs->unmap_file(m, size);
    os_free(buf);
    if (rc >= 0 && hash_final(&h) != want)
        rc = FOLIO_IOERR;
    return rc;
}

typedef struct rs_job {
    os_vfs *vfs;
    os_file *f;
    const char *path;
    int level;
    int rc;
    char why[600];
} rs_job;

static void *sync_main(void *arg)
{
    rs_job *j = arg;
    j->rc = j->vfs->sync(j->f);
    return NULL;
}

static void *check_main(void *arg)
{
    rs_job *j = arg;
    j->rc = verify_file(j->path, j->level, j->why, sizeof j->why);
    return NULL;
}

int folio_restore(const char *source, const char *dest, uint64_t version, int64_t time_us,
                  uint64_t *out_version)
{
    return folio_restore_ex(source, dest, version, time_us, 0, out_version);
}

int folio_restore_ex(const char *source, const char *dest, uint64_t version, int64_t time_us,
                     int check, uint64_t *out_version)
{
    if (!source || !dest || (version == 0 && time_us < 0))
        return rs_err(FOLIO_MISUSE, "bad argument: a source, a destination and a version or a "
                                    "time are needed");
    if (check != 0 && check != FOLIO_CHECK_QUICK && check != FOLIO_CHECK_FULL)
        return rs_err(FOLIO_MISUSE, "bad argument: check %d is no check level", check);
    if (!check)
        check = FOLIO_CHECK_QUICK;
    os_vfs *vfs = os_vfs_current();
    if (vfs->exists(vfs, dest) == 1)
        return rs_err(FOLIO_ERROR, "%s: output file already exists", dest);
    /* The source: a log directory, or a database whose log it is. */
    char dir[4096], err[1200] = "";
    {
        char probe[4200];
        snprintf(probe, sizeof probe, "%s/folio-log", source);
        if (vfs->exists(vfs, probe) == 1) {
            snprintf(dir, sizeof dir, "%s", source);
        } else {
            char *d = clog_dir_of(source);
            if (!d)
                return rs_err(FOLIO_NOMEM, "out of memory");
            snprintf(dir, sizeof dir, "%s", d);
            os_free(d);
        }
    }
    clog_reader *r;
    int rc = clog_reader_open(&r, dir, err, sizeof err);
    if (rc < 0)
        return rs_err(rc, "%s", err);
    clog_manifest m = *clog_reader_manifest(r);
    if ((rc = clog_check_owner(source, dir, &m, err, sizeof err)) < 0) {
        clog_reader_close(r);
        return rs_err(rc, "%s", err);
    }
    clog_file *files;
    int nfiles;
    if ((rc = clog_list(dir, &files, &nfiles, err, sizeof err)) < 0) {
        clog_reader_close(r);
        return rs_err(rc, "%s", err);
    }

    /* Pass 1: the target, and the newest base before it with no gap
     * between. */
    uint64_t target = version, last = 0, gap_to = 0;
    int have_target = 0;
    clog_rec rec;
    const uint8_t *payload;
    int64_t best_time = INT64_MIN;
    /* (a time before every record may still name a base) */
    for (int i = 0; i < nfiles; i++) {
        if (!files[i].is_base || time_us < 0)
            continue;
        clog_base_reader *b;
        clog_base_hdr bh;
        if (clog_base_open(&b, files[i].path, &m, &bh, err, sizeof err) == 0) {
            if (bh.time_us <= time_us && bh.time_us >= best_time) {
                best_time = bh.time_us;
                target = bh.version;
                have_target = 1;
            }
            clog_base_close(b);
        }
    }
    while ((rc = clog_reader_next(r, &rec, &payload, 0)) == 1) {
        if (rec.type == CLOG_GAP) {
            uint64_t to = 0;
            for (int k = 7; k >= 0; k--)
                to = to << 8 | payload[k];
            gap_to = to;
            last = to;
            continue;
        }
        last = rec.version;
        if (time_us >= 0 && rec.time_us <= time_us && rec.time_us >= best_time) {
            best_time = rec.time_us;
            target = rec.version;
            have_target = 1;
        }
    }
    if (rc < 0) {
        rs_err(rc, "%s", clog_reader_errmsg(r));
        goto out_list;
    }
    clog_reader_close(r);
    r = NULL;
    (void)gap_to;
    if (time_us >= 0 && !have_target) {
        rc = rs_err(FOLIO_NOTFOUND_ERR, "%s: the log holds nothing as old as that time", dir);
        goto out_list;
    }
    /* The base: the newest at or before the target; a gap between them
     * (checked in pass 2) makes the target unreachable. */
    int base = -1;
    for (int i = 0; i < nfiles; i++)
        if (files[i].is_base && files[i].version <= target)
            base = i;
    uint64_t newest = last;
    for (int i = 0; i < nfiles; i++)
        if (files[i].is_base && files[i].version > newest)
            newest = files[i].version;
    if (target > newest) {
        rc = rs_err(FOLIO_NOTFOUND_ERR,
                    "%s: version %" PRIu64 " is not in the log (it ends at %" PRIu64 ")", dir,
                    target, newest);
        goto out_list;
    }
    if (base < 0) {
        uint64_t oldest = 0;
        for (int i = nfiles - 1; i >= 0; i--)
            if (files[i].is_base)
                oldest = files[i].version;
        if (oldest)
            rc = rs_err(FOLIO_NOTFOUND_ERR,
                        "%s: version %" PRIu64 " is older than every base the log holds (the "
                        "oldest: version %" PRIu64 "; older versions were pruned or never logged)",
                        dir, target, oldest);
        else
            rc = rs_err(FOLIO_NOTFOUND_ERR, "%s: the log holds no base", dir);
        goto out_list;
    }
    clog_base_reader *b = NULL;
    clog_base_hdr bh;
    if ((rc = clog_base_open(&b, files[base].path, &m, &bh, err, sizeof err)) < 0) {
        rs_err(rc, "%s", err);
        goto out_list;
    }

    /* Pass 2: the newest image of every page the commits after the base
     * wrote, up to the target. */
    img_map map;
    memset(&map, 0, sizeof map);
    map.page_size = bh.page_size;
    uint8_t *cell_page = NULL; /* a CLOG_PAGE_CELLS entry's page, built */
    uint32_t db_pages = bh.npages;
    if ((rc = clog_reader_open(&r, dir, err, sizeof err)) < 0) {
        rs_err(rc, "%s", err);
        goto out_base;
    }
    uint64_t reached = bh.version;
    while (reached < target && (rc = clog_reader_next(r, &rec, &payload, 1)) == 1) {
        if (rec.type == CLOG_GAP) {
            uint64_t to = 0;
            for (int k = 7; k >= 0; k--)
                to = to << 8 | payload[k];
            if (rec.version <= target && to > bh.version) {
                rc = rs_err(FOLIO_NOTFOUND_ERR,
                            "%s: versions %" PRIu64 " to %" PRIu64
                            " happened without a record (%s at offset %" PRIu64
                            "), so version %" PRIu64 " cannot be rebuilt",
                            dir, rec.version, to, clog_reader_file(r), clog_reader_offset(r),
                            target);
                goto out_reader;
            }
            continue;
        }
        if (rec.type != CLOG_COMMIT || rec.version <= bh.version)
            continue;
        if (rec.version != reached + 1) {
            /* Only the oldest segment may begin anywhere: it must not
             * begin after the base's next version. */
            rc = rs_err(
                FOLIO_NOTFOUND_ERR,
                "%s: versions %" PRIu64 " to %" PRIu64 " are not in the log (%s begins at %" PRIu64
                "), so version %" PRIu64 " cannot be rebuilt",
                dir, reached + 1, rec.version - 1, clog_reader_file(r), rec.version, target);
            goto out_reader;
        }
        clog_commit c;
        int prc = clog_commit_parse(payload, rec.raw, rec.flags, &c);
        if (prc == FOLIO_NOMEM) {
            rc = rs_err(FOLIO_NOMEM, "out of memory");
            goto out_reader;
        }
        if (prc < 0 || c.page_size != bh.page_size) {
            if (prc == 0)
                clog_commit_free(&c);
            rc = rs_err(FOLIO_CORRUPT, "%s at offset %" PRIu64 ": a damaged commit record",
                        clog_reader_file(r), clog_reader_offset(r));
            goto out_reader;
        }
        size_t pos = 0;
        for (uint32_t i = 0; i < c.npages && rc >= 0; i++) {
            uint32_t pgno;
            const uint8_t *full, *ranges, *cells;
            clog_commit_page(&c, &pos, &pgno, &full, &ranges, &cells);
            if (pgno == 0 || pgno > c.db_pages)
                rc = FOLIO_CORRUPT;
            else if (cells && !cell_page && !(cell_page = os_malloc(c.page_size)))
                rc = FOLIO_NOMEM;
            else if (cells) {
                clog_cells_build(&c, cells, cell_page);
                rc = img_put(&map, pgno, cell_page);
            } else if (full)
                rc = img_put(&map, pgno, full);
            else
                rc = img_change(&map, pgno, ranges, db_pages);
        }
        db_pages = c.db_pages;
        clog_commit_free(&c);
        if (rc < 0) {
            rs_err(rc,
                   rc == FOLIO_NOMEM ? "out of memory"
                                     : "%s at offset %" PRIu64 ": a damaged commit record",
                   clog_reader_file(r), clog_reader_offset(r));
            goto out_reader;
        }
        reached = rec.version;
    }
    if (rc < 0) {
        rs_err(rc, "%s", clog_reader_errmsg(r));
        goto out_reader;
    }
    if (reached != target) {
        rc = rs_err(FOLIO_NOTFOUND_ERR, "%s: version %" PRIu64 " is not in the log", dir, target);
        goto out_reader;
    }

    /* Write the file: each page once, in order, hashed. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s-restore", dest);
    vfs->remove(vfs, tmp);
    os_file *f;
    if ((rc = vfs->open(vfs, tmp, OS_OPEN_CREATE, &f)) < 0) {
        rs_err(rc, "%s: cannot create it: %s", tmp, status_text(rc));
        goto out_reader;
    }
    uint32_t ps = bh.page_size;
    uint8_t *zero = os_calloc(1, ps), *one = os_malloc(ps);
    if (!zero || !one)
        rc = FOLIO_NOMEM;
    rs_out o = {vfs, f, ps, NULL, 0, 0, 0, {{0}, 0}};
    hash_init(&o.h);
    uint32_t next = 1, first = 0, count = 0;
    const uint8_t *pages = NULL;
    uint8_t *changed = rc == 0 && map.npend ? os_malloc(ps) : NULL;
    if (map.npend && !changed)
        rc = FOLIO_NOMEM;
    if (map.npend)
        qsort(map.pend, map.npend, sizeof *map.pend, pend_cmp);
    size_t pi = 0;
    while (rc == 0 && next <= db_pages) {
        const uint8_t *src = img_get(&map, next);
        while (pi < map.npend && map.pend[pi].pgno < next)
            pi++;
        if (!src) {
            /* From the base (read on while it has pages up to here; the
             * run from its chunk goes out before the chunk is replaced). */
            while (rc == 0 && (count == 0 || next >= first + count) && next <= bh.npages) {
                if ((rc = out_flush(&o)) < 0)
                    break;
                int br = clog_base_next(b, &first, &count, &pages, err, sizeof err);
                if (br < 0)
                    rc = br;
                else if (br == 0)
                    break;
            }
            src = rc == 0 && count && next >= first && next < first + count
                      ? pages + (size_t)(next - first) * ps
                      : zero;
            if (rc == 0 && pi < map.npend && map.pend[pi].pgno == next) {
                /* The base's page, changed by the commits after it (in a
                 * buffer the run may hold: written out first). */
                if ((rc = out_flush(&o)) < 0)
                    break;
                memcpy(changed, src, ps);
                for (; pi < map.npend && map.pend[pi].pgno == next; pi++)
                    clog_delta_apply(changed, map.pend_bytes + map.pend[pi].at);
                src = changed;
            }
        }
        if (rc == 0 && next == 1) {
            /* Its own stamp: version `target`, the log off. */
            memcpy(one, src, ps);
            fmt_vstamp st;
            int ok = fmt_vstamp_decode(one, &st) == 0;
            fmt_vstamp ns = {target, FMT_VSTAMP_END, 0, 0, ok && st.dbid ? st.dbid : m.dbid};
            fmt_vstamp_encode(one, &ns);
            src = one;
        }
        if (rc == 0)
            rc = out_page(&o, next, src);
        next++;
    }
    if (rc == 0)
        rc = out_flush(&o);
    /* The base read to its end: its last chunk carries the hash of all. */
    while (rc == 0) {
        int br = clog_base_next(b, &first, &count, &pages, err, sizeof err);
        if (br <= 0) {
            rc = br;
            break;
        }
    }
    uint64_t size = (uint64_t)db_pages * ps;
    if (rc == 0)
        rc = vfs->truncate(f, size);
    os_free(zero);
    os_free(changed);
    os_free(one);
    /* Verified while it is synced: the sync and the check in threads of
     * their own, the read back against the hash in this one. */
    rs_job sj = {vfs, f, tmp, 0, 0, ""}, cj = {vfs, f, tmp, check, 0, ""};
    pthread_t sth, cth;
    int synced = 0, checked = 0, back = 0;
    if (rc == 0) {
        if (!(synced = pthread_create(&sth, NULL, sync_main, &sj) == 0))
            sync_main(&sj);
        if (db_pages)
            checked = pthread_create(&cth, NULL, check_main, &cj) == 0;
        back = read_back(vfs, f, size, hash_final(&o.h));
        if (db_pages && !checked)
            check_main(&cj);
        if (checked)
            pthread_join(cth, NULL);
        if (synced)
            pthread_join(sth, NULL);
        rc = sj.rc;
    }
    vfs->close(f);
    char shm[4300], walp[4300];
    snprintf(shm, sizeof shm, "%s-shm", tmp);
    snprintf(walp, sizeof walp, "%s-wal", tmp);
    if (rc < 0 || back < 0 || cj.rc < 0) {
        vfs->remove(vfs, tmp);
        vfs->remove(vfs, shm);
        vfs->remove(vfs, walp);
    }
    if (rc < 0) {
        rs_err(rc, "%s", err[0] ? err : status_text(rc));
        goto out_reader;
    }
    if (back < 0) {
        rc = back;
        if (back == FOLIO_IOERR)
            rs_err(rc,
                   "%s: the restored file does not read back as written (checksum "
                   "mismatch): nothing written",
                   tmp);
        else
            rs_err(rc, "%s: cannot read it back: %s", tmp, status_text(rc));
        goto out_reader;
    }
    if ((rc = cj.rc) < 0) {
        if (rc != FOLIO_CORRUPT) {
            /* (out of memory, an I/O error: the check did not run through) */
            rs_err(rc, "cannot check the restored file (%s): nothing written", cj.why);
            goto out_reader;
        }
        rs_err(FOLIO_CORRUPT, "the restored file did not pass its check (%s): nothing written",
               cj.why);
        goto out_reader;
    }
    vfs->remove(vfs, shm);
    vfs->remove(vfs, walp);
    if (vfs->exists(vfs, dest) == 1) {
        vfs->remove(vfs, tmp);
        rc = rs_err(FOLIO_ERROR, "%s: output file already exists", dest);
        goto out_reader;
    }
    if ((rc = vfs->rename(vfs, tmp, dest)) < 0 || (rc = vfs->sync_dir(vfs, dest)) < 0) {
        vfs->remove(vfs, tmp);
        rs_err(rc, "%s: cannot put it in place: %s", dest, status_text(rc));
        goto out_reader;
    }
    if (out_version)
        *out_version = target;
    db_set_open_err("");
    rc = 0;
out_reader:
    clog_reader_close(r);
    r = NULL;
    img_free(&map);
    os_free(cell_page);
out_base:
    clog_base_close(b);
out_list:
    clog_reader_close(r);
    clog_list_free(files, nfiles);
    return rc;
}
