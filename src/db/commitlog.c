/*
 * commitlog.c - writing the commit log: folio_log_enable / folio_log_disable
 * and the record of every commit (files in commitlog.h).
 *
 * The log is on when page 1's stamp has FMT_VSTAMP_LOG: every folio handle
 * reads the stamp at each transaction, so a handle opened before the log was
 * enabled, in this process or another, writes to it from its next commit.
 * The pager calls the commit hook with the writer role held, after the
 * transaction's pages are final and before any of them reaches the WAL: the
 * record goes first, so a crash can leave a record of a commit that did not
 * happen (dropped here the next time: the log never holds a version the
 * database does not have) but never a commit without its record. Records
 * are made durable before the WAL is synced (the sync hook): at the commit
 * with FOLIO_SYNC_FULL, before a checkpoint copies the WAL otherwise.
 *
 * Processes share the log as they share the database: the writer role (the
 * WAL's WRITE lock) orders them; a writer that finds the segment grew since
 * its last record reads what the others appended (and follows a CLOSED
 * record to the next segment) before it appends.
 *
 * Versions the log missed (commits of another engine, or records lost with
 * the power under FOLIO_SYNC_NORMAL) are written as a GAP record, and a new
 * base is taken right after that commit, so that restore can start there.
 */
#include "db/commitlog.h"
#include "db/db_int.h"
#include "db/ddl_int.h"

#include "base/status.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The last records of the open segment (to cut the log back to a version
 * the database has). */
#define TAIL_KEEP 256

typedef struct clog_writer {
    char dir[4096];
    clog_manifest m;
    int open;
    os_file *f; /* the open (last) segment */
    char seg_path[4200];
    uint64_t seg_first;
    uint64_t end;   /* its size as far as we know */
    uint64_t last;  /* the version of the last record (a base's when none) */
    uint64_t chain; /* the chain after it */
    int dirty;      /* appended since the last sync */
    struct {
        uint64_t version, off, chain_before;
    } tail[TAIL_KEEP];
    unsigned ntail, tail_head;
    uint8_t *buf; /* the record being built */
    size_t buf_n, buf_cap;
    uint64_t seg_limit; /* a segment this long is closed */
    /* Commit records appended by this handle, their raw and stored bytes. */
    uint64_t n_records, raw_bytes, stored_bytes;
    clog_packer pk;  /* its compression: context and output kept between records */
    uint8_t *before; /* a page: one as it was before the commit */
    uint32_t before_ps;
    uint8_t *synth;     /* a page: scratch of clog_cells_make */
    clog_ins_index ins; /* the record's row inserts (CLOG_PAGE_CELLS) */
    int codec;          /* of this handle's records (folio_options.log_compression) */
} clog_writer;

static _Thread_local folio_txn *tl_committing;

void db_log_committing(folio_txn *txn)
{
    tl_committing = txn;
}

static int werr(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int werr(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

static void tail_push(clog_writer *w, uint64_t version, uint64_t off, uint64_t chain_before)
{
    unsigned i = (w->tail_head + w->ntail) % TAIL_KEEP;
    if (w->ntail == TAIL_KEEP) {
        w->tail_head = (w->tail_head + 1) % TAIL_KEEP;
        i = (w->tail_head + TAIL_KEEP - 1) % TAIL_KEEP;
    } else {
        w->ntail++;
    }
    w->tail[i].version = version;
    w->tail[i].off = off;
    w->tail[i].chain_before = chain_before;
}

static void writer_close_file(clog_writer *w)
{
    if (w->f)
        os_vfs_current()->close(w->f);
    w->f = NULL;
    w->open = 0;
}

void db_log_free(folio_db *db)
{
    clog_writer *w = db->clog;
    if (!w)
        return;
    writer_close_file(w);
    os_free(w->buf);
    os_free(w->before);
    os_free(w->synth);
    clog_ins_free(&w->ins);
    clog_packer_free(&w->pk);
    os_free(w);
    db->clog = NULL;
}

/*
 * Read the records of the open segment from w->end on, verifying each
 * chain. The first record that is cut short or does not verify ends the
 * log: it and whatever follows are cut off the file. A power loss leaves
 * exactly that (writes not yet synced lost, torn or reordered), and those
 * records are of commits that did not become durable either, or, under
 * FOLIO_SYNC_NORMAL, that the database may have kept: the commit that finds
 * the log behind the database then writes a GAP and a new base, so restore
 * says what it cannot rebuild instead of trusting unverifiable bytes. (The
 * same holds for damage inside the last segment; restore, which only reads,
 * refuses damage wherever it is.) Returns 1 when the segment ended with
 * CLOSED.
 */
static int scan_from_end(clog_writer *w, char *err, size_t errlen)
{
    os_vfs *vfs = os_vfs_current();
    uint64_t size;
    int rc = vfs->size(w->f, &size);
    if (rc < 0)
        return werr(err, errlen, rc, "%s: cannot read it: %s", w->seg_path, status_text(rc));
    uint8_t *p = NULL;
    size_t cap = 0;
    int closed = 0;
    while (w->end < size) {
        uint8_t h[CLOG_REC_HDR];
        clog_rec r;
        if (size - w->end < CLOG_REC_HDR)
            break;
        if ((rc = vfs->read(w->f, h, sizeof h, w->end, NULL)) < 0)
            break;
        clog_rec_decode(h, &r);
        if (r.stored > size - w->end - CLOG_REC_HDR)
            break;
        if (cap < r.stored) {
            uint8_t *np = os_realloc(p, r.stored);
            if (!np) {
                rc = FOLIO_NOMEM;
                break;
            }
            p = np;
            cap = r.stored;
        }
        if ((rc = vfs->read(w->f, p, r.stored, w->end + CLOG_REC_HDR, NULL)) < 0)
            break;
        if (clog_rec_chain(w->chain, h, p, r.stored) != r.chain)
            break; /* the tail from here on goes (see scan_from_end) */
        uint64_t next = r.type == CLOG_GAP ? 0 : r.version;
        if (r.type == CLOG_GAP && r.stored == 8)
            for (int i = 7; i >= 0; i--)
                next = next << 8 | p[i];
        if (r.type != CLOG_CLOSED) {
            tail_push(w, next, w->end, w->chain);
            w->last = next;
        }
        w->chain = r.chain;
        w->end += CLOG_REC_HDR + r.stored;
        if (r.type == CLOG_CLOSED) {
            closed = 1;
            break;
        }
    }
    os_free(p);
    if (rc < 0)
        return werr(err, errlen, rc, "%s: cannot read it: %s", w->seg_path, status_text(rc));
    if (!closed && w->end < size && (rc = vfs->truncate(w->f, w->end)) < 0)
        return werr(err, errlen, rc, "%s: cannot cut off a record cut short: %s", w->seg_path,
                    status_text(rc));
    return closed;
}

/* Open segment `path` (first version `first`) and read it to its end. */
static int open_segment(clog_writer *w, const char *path, uint64_t first, char *err, size_t errlen)
{
    os_vfs *vfs = os_vfs_current();
    writer_close_file(w);
    snprintf(w->seg_path, sizeof w->seg_path, "%s", path);
    int rc = vfs->open(vfs, path, 0, &w->f);
    if (rc < 0)
        return werr(err, errlen, rc, "%s: cannot open it: %s", path, status_text(rc));
    uint8_t h[CLOG_SEG_HDR];
    clog_seg_hdr sh;
    if ((rc = vfs->read(w->f, h, sizeof h, 0, NULL)) < 0 || clog_seg_hdr_decode(h, &sh) < 0 ||
        sh.dbid != w->m.dbid || sh.logid != w->m.logid || sh.first != first) {
        writer_close_file(w);
        return werr(err, errlen, rc < 0 ? rc : FOLIO_CORRUPT,
                    "%s at offset 0: not a segment of this log", path);
    }
    w->seg_first = first;
    w->end = CLOG_SEG_HDR;
    w->chain = sh.prev_chain;
    w->last = first - 1;
    w->ntail = w->tail_head = 0;
    w->open = 1;
    return scan_from_end(w, err, errlen);
}

/* Create the segment that begins at `first`, continuing `chain`. */
static int new_segment(clog_writer *w, uint64_t first, uint64_t chain, uint32_t page_size,
                       char *err, size_t errlen)
{
    os_vfs *vfs = os_vfs_current();
    writer_close_file(w);
    snprintf(w->seg_path, sizeof w->seg_path, "%s/%020" PRIu64 ".seg", w->dir, first);
    int rc = vfs->open(vfs, w->seg_path, OS_OPEN_CREATE, &w->f);
    uint8_t h[CLOG_SEG_HDR];
    clog_seg_hdr sh = {w->m.dbid, w->m.logid, first, chain, page_size};
    clog_seg_hdr_encode(h, &sh);
    if (rc == 0)
        rc = vfs->truncate(w->f, 0);
    if (rc == 0)
        rc = vfs->write(w->f, h, sizeof h, 0);
    if (rc == 0)
        rc = vfs->sync(w->f);
    if (rc == 0)
        rc = clog_sync_dir(w->dir);
    if (rc < 0) {
        writer_close_file(w);
        return werr(err, errlen, rc, "%s: cannot create it: %s", w->seg_path, status_text(rc));
    }
    w->seg_first = first;
    w->end = CLOG_SEG_HDR;
    w->chain = chain;
    w->last = first - 1;
    w->ntail = w->tail_head = 0;
    w->open = 1;
    return 0;
}

/* Find the log's end: the last segment read through, or (none yet) the
 * newest base, after which the first segment will begin. */
static int writer_open(folio_db *db, clog_writer *w, uint32_t dbid, uint32_t page_size, char *err,
                       size_t errlen)
{
    char *dir = clog_dir_of(pager_path(db->pager));
    if (!dir)
        return werr(err, errlen, FOLIO_NOMEM, "out of memory");
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    os_free(dir);
    /* Segments are closed at CLOG_SEG_LIMIT bytes; tests that need many
     * segments set a smaller size in the environment. */
    const char *lim = getenv("FOLIO_LOG_SEGMENT_BYTES");
    char *end = NULL;
    unsigned long long lim_n = lim ? strtoull(lim, &end, 10) : 0;
    w->seg_limit = lim && end != lim && !*end && lim_n >= 4096 ? (uint64_t)lim_n : CLOG_SEG_LIMIT;
    int rc = clog_manifest_read(w->dir, &w->m, err, errlen);
    if (rc < 0)
        return rc == FOLIO_NOTFOUND_ERR
                   ? werr(err, errlen, FOLIO_ERROR,
                          "the commit log is on but %s is missing (folio log disable turns it "
                          "off)",
                          w->dir)
                   : rc;
    if (w->m.dbid != dbid)
        return werr(err, errlen, FOLIO_ERROR,
                    "%s belongs to another database (database identity %u, this one %u)", w->dir,
                    (unsigned)w->m.dbid, (unsigned)dbid);
    clog_file *files;
    int n;
    if ((rc = clog_list(w->dir, &files, &n, err, errlen)) < 0)
        return rc;
    int seg = -1, base = -1;
    for (int i = 0; i < n; i++)
        if (files[i].is_base)
            base = i;
        else
            seg = i;
    if (seg >= 0) {
        uint64_t first = files[seg].version;
        char path[4200];
        snprintf(path, sizeof path, "%s", files[seg].path);
        clog_list_free(files, n);
        rc = open_segment(w, path, first, err, errlen);
        if (rc == 1)
            rc = werr(err, errlen, FOLIO_CORRUPT,
                      "%s: the last segment is closed but no segment follows it", path);
        return rc < 0 ? rc : 0;
    }
    if (base < 0) {
        clog_list_free(files, n);
        return werr(err, errlen, FOLIO_CORRUPT, "%s: the commit log has no base", w->dir);
    }
    uint64_t v = files[base].version;
    clog_list_free(files, n);
    /* The first segment begins after the newest base. */
    return new_segment(w, v + 1, 0, page_size, err, errlen);
}

/* Catch up with what other processes appended since our last record,
 * through every segment they closed meanwhile. */
static int writer_follow(clog_writer *w, char *err, size_t errlen)
{
    uint64_t size;
    int rc = os_vfs_current()->size(w->f, &size);
    if (rc < 0)
        return werr(err, errlen, rc, "%s: cannot read it: %s", w->seg_path, status_text(rc));
    if (size == w->end)
        return 0;
    rc = scan_from_end(w, err, errlen);
    while (rc == 1) {
        /* CLOSED: the next segment goes on (and may be closed too: a
         * closed segment's size says nothing of the ones after it). */
        char path[4200];
        uint64_t first = w->last + 1;
        snprintf(path, sizeof path, "%s/%020" PRIu64 ".seg", w->dir, first);
        uint64_t chain = w->chain;
        if ((rc = open_segment(w, path, first, err, errlen)) < 0)
            return rc;
        if (w->last == first - 1 && w->chain != chain && w->end == CLOG_SEG_HDR)
            return werr(err, errlen, FOLIO_CORRUPT, "%s does not continue the segment before it",
                        path);
    }
    return rc;
}

/* Cut the log back so that its last record is version `v`. */
static int writer_cut(clog_writer *w, uint64_t v, char *err, size_t errlen)
{
    for (unsigned k = w->ntail; k-- > 0;) {
        unsigned i = (w->tail_head + k) % TAIL_KEEP;
        if (w->tail[i].version > v)
            continue;
        /* Records after tail[i] go. */
        unsigned next = (i + 1) % TAIL_KEEP;
        if (k + 1 >= w->ntail)
            return 0;
        uint64_t off = w->tail[next].off, chain = w->tail[next].chain_before;
        int rc = os_vfs_current()->truncate(w->f, off);
        if (rc < 0)
            return werr(err, errlen, rc, "%s: cannot cut it back: %s", w->seg_path,
                        status_text(rc));
        w->end = off;
        w->chain = chain;
        w->last = w->tail[i].version;
        w->ntail = k + 1;
        return 0;
    }
    if (v + 1 == w->seg_first && w->ntail) {
        uint64_t off = w->tail[w->tail_head].off, chain = w->tail[w->tail_head].chain_before;
        int rc = os_vfs_current()->truncate(w->f, off);
        if (rc < 0)
            return werr(err, errlen, rc, "%s: cannot cut it back: %s", w->seg_path,
                        status_text(rc));
        w->end = off;
        w->chain = chain;
        w->last = v;
        w->ntail = 0;
        return 0;
    }
    return werr(err, errlen, FOLIO_CORRUPT,
                "%s: the commit log holds versions up to %" PRIu64
                " but the database is at %" PRIu64 ", too far back to cut the log to",
                w->dir, w->last, v);
}

/* Append one record: `rec` holds CLOG_REC_HDR bytes for the header (built
 * here) and then the r->stored bytes of its payload, so that the record
 * goes out in one write. */
static int writer_append(clog_writer *w, clog_rec *r, uint8_t *rec, char *err, size_t errlen)
{
    const uint8_t *payload = rec + CLOG_REC_HDR;
    r->chain = 0;
    clog_rec_encode(rec, r);
    r->chain = clog_rec_chain(w->chain, rec, payload, r->stored);
    clog_rec_encode(rec, r);
    os_vfs *vfs = os_vfs_current();
    int rc = vfs->write(w->f, rec, CLOG_REC_HDR + (size_t)r->stored, w->end);
    if (rc < 0) {
        /* Nothing of it may stay. */
        vfs->truncate(w->f, w->end);
        return werr(err, errlen, rc, "%s: cannot write the commit log: %s", w->seg_path,
                    status_text(rc));
    }
    if (r->type != CLOG_CLOSED) {
        uint64_t v = r->version;
        if (r->type == CLOG_GAP)
            for (int i = 7; i >= 0; i--)
                v = (i == 7 ? 0 : v << 8) | payload[i];
        tail_push(w, v, w->end, w->chain);
        w->last = v;
    }
    w->end += CLOG_REC_HDR + r->stored;
    w->chain = r->chain;
    w->dirty = 1;
    return 0;
}

/* Room for `n` more bytes in the record being built. */
static int reserve(clog_writer *w, size_t n)
{
    if (w->buf_cap - w->buf_n < n) {
        size_t cap = w->buf_cap ? w->buf_cap : 65536;
        while (cap - w->buf_n < n)
            cap *= 2;
        uint8_t *v = os_realloc(w->buf, cap);
        if (!v)
            return FOLIO_NOMEM;
        w->buf = v;
        w->buf_cap = cap;
    }
    return 0;
}

static int put_bytes(clog_writer *w, const void *p, size_t n)
{
    int rc = reserve(w, n);
    if (rc < 0)
        return rc;
    memcpy(w->buf + w->buf_n, p, n);
    w->buf_n += n;
    return 0;
}

static int put_u32(clog_writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return put_bytes(w, b, 4);
}

typedef struct page_ctx {
    clog_writer *w;
    ptxn *t;
    uint32_t n, ps, usable;
    uint8_t *before; /* a page: its image before the commit */
} page_ctx;

/* A page of the commit (CLOG_REC_DELTA form): the bytes that changed
 * since the commit's snapshot, or the whole page when it is new or most
 * of it changed. */
static int add_page(void *arg, uint32_t pgno, const uint8_t *data)
{
    page_ctx *c = arg;
    clog_writer *w = c->w;
    int have = c->before ? ptxn_page_before(c->t, pgno, c->before) : 0;
    if (have < 0)
        return have;
    int rc = put_u32(w, pgno);
    if (rc == 0)
        rc = reserve(w, 1 + (size_t)c->ps);
    if (rc < 0)
        return rc;
    uint8_t *q = w->buf + w->buf_n;
    size_t d = have == 1 ? clog_delta_make(c->before, data, c->ps, q + 1, c->ps) : 0;
    size_t cells = 0;
    if (!d && (rc = clog_cells_make(&w->ins, data, pgno, c->ps, c->usable, w->synth, q + 1, c->ps,
                                    &cells)) < 0)
        return rc;
    if (d) {
        q[0] = CLOG_PAGE_DELTA;
        w->buf_n += 1 + d;
    } else if (cells) {
        q[0] = CLOG_PAGE_CELLS;
        w->buf_n += 1 + cells;
    } else {
        q[0] = CLOG_PAGE_FULL;
        memcpy(q + 1, data, c->ps);
        w->buf_n += 1 + (size_t)c->ps;
    }
    c->n++;
    return 0;
}

/* The size of change entry at `p` (0 when the bytes do not hold one). */
static size_t entry_size(const uint8_t *p, size_t n)
{
    bt_log_entry e;
    if (n < sizeof e)
        return 0;
    memcpy(&e, p, sizeof e);
    if (e.size > n - sizeof e)
        return 0;
    size_t k = sizeof e + (size_t)e.size;
    if (e.op == BT_LOG_INS_ROW && e.had) {
        uint64_t old;
        if (n - k < 8)
            return 0;
        memcpy(&old, p + k, 8);
        if (old > n - k - 8)
            return 0;
        k += 8 + (size_t)old;
    }
    return k;
}

/* The record of one commit into w->buf: names, changes, pages. */
static int build_commit(clog_writer *w, folio_txn *txn, ptxn *t, uint32_t *out_nchanges,
                        uint32_t *out_npages)
{
    size_t n;
    const uint8_t *log = ptxn_log(t, &n);
    w->buf_n = 0;
    int rc = put_u32(w, pager_page_size(ptxn_pager(t)));
    if (rc == 0)
        rc = put_u32(w, ptxn_npages(t));
    /* The tables the changes touch, by root (from the catalog the
     * transaction ends with). */
    uint32_t roots[64];
    int nroots = 0, overflow = 0;
    /* Where the entries a DDL statement made begin (its rowid field counts
     * their bytes here; in the record it counts the bytes kept of them). */
    size_t *starts = NULL, nstarts = 0, starts_cap = 0;
    for (size_t o = 0; o < n;) {
        size_t k = entry_size(log + o, n - o);
        if (!k) {
            os_free(starts);
            return FOLIO_CORRUPT;
        }
        bt_log_entry e;
        memcpy(&e, log + o, sizeof e);
        if (e.op == CLOG_DDL && e.rowid > 0 && (uint64_t)e.rowid <= o) {
            if (nstarts == starts_cap) {
                size_t cap = starts_cap ? 2 * starts_cap : 16;
                size_t *v = os_realloc(starts, cap * sizeof *v);
                if (!v) {
                    os_free(starts);
                    return FOLIO_NOMEM;
                }
                starts = v;
                starts_cap = cap;
            }
            starts[nstarts++] = o - (size_t)e.rowid;
        }
        o += k;
        if (e.op == CLOG_DDL || e.root <= 1)
            continue;
        int seen = 0;
        for (int i = 0; i < nroots; i++)
            seen |= roots[i] == e.root;
        if (!seen) {
            if (nroots < 64)
                roots[nroots++] = e.root;
            else
                overflow = 1;
        }
    }
    db_catalog *cat = txn ? txn->cat : NULL;
    size_t names_at = w->buf_n;
    uint32_t nnames = 0;
    if (rc == 0)
        rc = put_u32(w, 0);
    for (int i = 0; cat && i < cat->nentries && rc == 0; i++) {
        const folio_schema_entry *se = &cat->entries[i];
        if (!se->type || strcmp(se->type, "table") != 0 || se->rootpage <= 1)
            continue;
        int want = overflow;
        for (int k = 0; k < nroots && !want; k++)
            want = roots[k] == se->rootpage;
        if (!want)
            continue;
        db_table *tb = catalog_find_table(cat, se->name);
        uint8_t kind = tb && tb->parsed && tb->def.without_rowid ? CLOG_TABLE_WR : CLOG_TABLE;
        size_t len = strlen(se->name);
        if (len > 65535)
            continue;
        uint8_t h[7] = {(uint8_t)se->rootpage,
                        (uint8_t)(se->rootpage >> 8),
                        (uint8_t)(se->rootpage >> 16),
                        (uint8_t)(se->rootpage >> 24),
                        kind,
                        (uint8_t)len,
                        (uint8_t)(len >> 8)};
        if ((rc = put_bytes(w, h, 7)) == 0)
            rc = put_bytes(w, se->name, len);
        nnames++;
    }
    if (rc < 0) {
        os_free(starts);
        return rc;
    }
    w->buf[names_at] = (uint8_t)nnames;
    w->buf[names_at + 1] = (uint8_t)(nnames >> 8);
    w->buf[names_at + 2] = (uint8_t)(nnames >> 16);
    w->buf[names_at + 3] = (uint8_t)(nnames >> 24);
    /* The changes of those tables, and the DDL, in order. */
    size_t changes_at = w->buf_n;
    uint32_t nchanges = 0;
    if ((rc = put_u32(w, 0)) < 0) {
        os_free(starts);
        return rc;
    }
    clog_ins_reset(&w->ins);
    size_t kk = 0, span_at = 0;
    /* (the entries go in compact form; `full` counts their bytes in full
     * form, as a DDL entry's rowid counts them) */
    size_t full = 0;
    int64_t prev_rowid = 0;
    int span_open = 0;
    for (size_t o = 0; o < n && rc == 0;) {
        size_t k = entry_size(log + o, n - o);
        bt_log_entry e;
        memcpy(&e, log + o, sizeof e);
        if (kk < nstarts && starts[kk] == o && !span_open) {
            span_at = full;
            span_open = 1;
        }
        int keep = e.op == CLOG_DDL;
        if (keep && e.rowid > 0 && (uint64_t)e.rowid <= o && kk < nstarts) {
            /* The bytes of the statement's own entries as the record keeps them. */
            e.rowid = span_open ? (int64_t)(full - span_at) : 0;
            span_open = 0;
            kk++;
        }
        if (!keep && e.root > 1 && e.op <= BT_LOG_DEL_KEY) {
            for (int i = 0; i < nroots && !keep; i++)
                keep = roots[i] == e.root;
            if (keep) {
                /* only tables: an index's entries follow from its table's rows */
                keep = 0;
                const uint8_t *q = w->buf + names_at + 4;
                for (uint32_t j = 0; j < nnames; j++) {
                    uint32_t r = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
                                 (uint32_t)q[3] << 24;
                    uint16_t len = (uint16_t)(q[5] | q[6] << 8);
                    keep |= r == e.root;
                    q += 7 + len;
                }
            }
        }
        if (keep && e.op == BT_LOG_INS_ROW && full <= UINT32_MAX)
            rc = clog_ins_add(&w->ins, e.rowid, (uint32_t)full, log + o + sizeof e, e.size);
        if (keep && rc == 0 && (rc = reserve(w, CLOG_COMPACT_MAX + (k - sizeof e))) == 0) {
            uint8_t *q = w->buf + w->buf_n;
            size_t h = clog_entry_compact(&e, &prev_rowid, q);
            memcpy(q + h, log + o + sizeof e, k - sizeof e);
            w->buf_n += h + (k - sizeof e);
            full += k;
            nchanges++;
        }
        o += k;
    }
    os_free(starts);
    if (rc < 0)
        return rc;
    uint32_t cn = (uint32_t)(w->buf_n - changes_at - 4);
    w->buf[changes_at] = (uint8_t)cn;
    w->buf[changes_at + 1] = (uint8_t)(cn >> 8);
    w->buf[changes_at + 2] = (uint8_t)(cn >> 16);
    w->buf[changes_at + 3] = (uint8_t)(cn >> 24);
    /* The pages. */
    size_t pages_at = w->buf_n;
    if ((rc = put_u32(w, 0)) < 0)
        return rc;
    uint32_t ps = pager_page_size(ptxn_pager(t));
    page_ctx pc = {w, t, 0, ps, ps - ptxn_header(t)->reserved, NULL};
    if (w->before_ps != pc.ps) {
        os_free(w->before);
        os_free(w->synth);
        w->before_ps = 0;
        w->synth = NULL;
        if (!(w->before = os_malloc(pc.ps)) || !(w->synth = os_malloc(pc.ps)))
            return FOLIO_NOMEM;
        w->before_ps = pc.ps;
    }
    pc.before = w->before;
    if ((rc = ptxn_page_images(t, add_page, &pc)) < 0)
        return rc;
    uint32_t np = pc.n;
    w->buf[pages_at] = (uint8_t)np;
    w->buf[pages_at + 1] = (uint8_t)(np >> 8);
    w->buf[pages_at + 2] = (uint8_t)(np >> 16);
    w->buf[pages_at + 3] = (uint8_t)(np >> 24);
    *out_nchanges = nchanges;
    *out_npages = np;
    return 0;
}

/* ---- commits of other engines ---- */

typedef struct capture {
    clog_writer *w;
    uint32_t ps, npages;
    int open;  /* a record is being built */
    size_t at; /* where its page count goes */
    char *err;
    size_t errlen;
} capture;

static int capture_finish(capture *c)
{
    clog_writer *w = c->w;
    if (!c->open)
        return 0;
    c->open = 0;
    uint32_t np = c->npages;
    w->buf[c->at] = (uint8_t)np;
    w->buf[c->at + 1] = (uint8_t)(np >> 8);
    w->buf[c->at + 2] = (uint8_t)(np >> 16);
    w->buf[c->at + 3] = (uint8_t)(np >> 24);
    uint8_t *st;
    size_t sn;
    int codec;
    int rc = clog_pack(&w->pk, w->codec, w->buf, w->buf_n, &st, &sn, &codec);
    if (rc < 0)
        return rc;
    clog_rec r = {.stored = (uint32_t)sn,
                  .type = CLOG_COMMIT,
                  .codec = (uint8_t)codec,
                  .flags = CLOG_REC_PAGES_ONLY,
                  .raw = (uint32_t)w->buf_n,
                  .npages = np,
                  .version = w->last + 1,
                  .time_us = clog_now_us()};
    return writer_append(w, &r, st - CLOG_REC_HDR, c->err, c->errlen);
}

static int capture_commit(void *arg, uint32_t db_pages)
{
    capture *c = arg;
    int rc = capture_finish(c);
    if (rc < 0)
        return rc;
    clog_writer *w = c->w;
    w->buf_n = 0;
    if ((rc = put_u32(w, c->ps)) < 0 || (rc = put_u32(w, db_pages)) < 0 ||
        (rc = put_u32(w, 0)) < 0 || (rc = put_u32(w, 0)) < 0)
        return rc;
    c->at = w->buf_n;
    c->npages = 0;
    c->open = 1;
    return put_u32(w, 0);
}

static int capture_page(void *arg, uint32_t pgno, const uint8_t *data)
{
    capture *c = arg;
    int rc = put_u32(c->w, pgno);
    if (rc == 0)
        rc = put_bytes(c->w, data, c->ps);
    if (rc == 0)
        c->npages++;
    return rc;
}

/* The last `n` commits before this writer's snapshot, from the WAL: each a
 * record of its pages (no row changes: they were not made by folio). */
static int capture_wal_commits(clog_writer *w, ptxn *t, uint32_t n, char *err, size_t errlen)
{
    capture c = {w, pager_page_size(ptxn_pager(t)), 0, 0, 0, err, errlen};
    int rc = ptxn_wal_commits(t, n, capture_commit, capture_page, &c);
    if (rc == 0)
        rc = capture_finish(&c);
    return rc;
}

/* ---- the hooks ---- */

static int commit_hook(void *arg, ptxn *t, uint64_t version)
{
    folio_db *db = arg;
    char err[1024] = "";
    int rc = 0;
    pthread_mutex_lock(&db->clog_mu);
    clog_writer *w = db->clog;
    if (!w && !(w = db->clog = os_calloc(1, sizeof *w))) {
        pthread_mutex_unlock(&db->clog_mu);
        return ptxn_error(t, FOLIO_NOMEM, "out of memory");
    }
    uint32_t ps = pager_page_size(ptxn_pager(t));
    if (!w->open)
        rc = writer_open(db, w, ptxn_dbid(t), ps, err, sizeof err);
    else
        rc = writer_follow(w, err, sizeof err);
    int want = db->opts.log_compression;
    w->codec = want == FOLIO_LOG_LZ4 ? CLOG_LZ4 : want == FOLIO_LOG_ZSTD ? CLOG_ZSTD : w->m.codec;
    if (rc == 0 && w->last > version - 1)
        rc = writer_cut(w, version - 1, err, sizeof err);
    if (rc == 0 && w->last < version - 1 && version - 1 - w->last <= 1000000) {
        /* Versions the log did not see (another engine's commits): taken
         * from the WAL while it still holds them, as records of pages. */
        uint64_t before = w->last;
        int crc = capture_wal_commits(w, t, (uint32_t)(version - 1 - w->last), err, sizeof err);
        if (crc < 0 && crc != FOLIO_NOTFOUND_ERR)
            rc = crc;
        /* Their row changes are unknown: a base after this commit lets the
         * change feed go on from there. */
        if (w->last != before)
            db->clog_need_base = 1;
    }
    if (rc == 0 && w->last < version - 1) {
        /* Versions the log did not see: say so; a base follows this commit. */
        uint8_t g[CLOG_REC_HDR + 8];
        uint64_t to = version - 1;
        for (int i = 0; i < 8; i++)
            g[CLOG_REC_HDR + i] = (uint8_t)(to >> (8 * i));
        clog_rec r = {.stored = 8,
                      .type = CLOG_GAP,
                      .codec = CLOG_RAW,
                      .raw = 8,
                      .version = w->last + 1,
                      .time_us = clog_now_us()};
        rc = writer_append(w, &r, g, err, sizeof err);
        if (rc == 0)
            db->clog_need_base = 1;
    }
    uint32_t nchanges = 0, npages = 0;
    if (rc == 0 && (rc = build_commit(w, tl_committing, t, &nchanges, &npages)) < 0 && !err[0])
        snprintf(err, sizeof err, "%s",
                 rc == FOLIO_NOMEM ? "out of memory" : "cannot build the commit's log record");
    if (rc == 0) {
        uint8_t *st;
        size_t sn;
        int codec;
        if ((rc = clog_pack(&w->pk, w->codec, w->buf, w->buf_n, &st, &sn, &codec)) < 0) {
            snprintf(err, sizeof err, "out of memory");
        } else {
            clog_rec r = {.stored = (uint32_t)sn,
                          .type = CLOG_COMMIT,
                          .codec = (uint8_t)codec,
                          .flags = CLOG_REC_DELTA | CLOG_REC_COMPACT,
                          .raw = (uint32_t)w->buf_n,
                          .nchanges = nchanges,
                          .npages = npages,
                          .version = version,
                          .time_us = clog_now_us()};
            rc = writer_append(w, &r, st - CLOG_REC_HDR, err, sizeof err);
            if (rc == 0) {
                w->n_records++;
                w->raw_bytes += r.raw;
                w->stored_bytes += r.stored;
            }
        }
    }
    if (w->buf_cap > ((size_t)4 << 20)) {
        os_free(w->buf);
        w->buf = NULL;
        w->buf_cap = 0;
    }
    clog_packer_trim(&w->pk, (size_t)4 << 20);
    if (w->ins.cap > 65536)
        clog_ins_free(&w->ins);
    if (rc == 0 && w->end >= (w->seg_limit ? w->seg_limit : CLOG_SEG_LIMIT)) {
        /* Full: CLOSED, synced, and the next segment. */
        clog_rec r = {
            .type = CLOG_CLOSED, .codec = CLOG_RAW, .version = version, .time_us = clog_now_us()};
        uint8_t c[CLOG_REC_HDR];
        uint64_t chain;
        if ((rc = writer_append(w, &r, c, err, sizeof err)) == 0 &&
            (rc = os_vfs_current()->sync(w->f)) == 0) {
            chain = w->chain;
            rc = new_segment(w, version + 1, chain, ps, err, sizeof err);
        } else if (!err[0]) {
            snprintf(err, sizeof err, "%.900s: cannot sync it: %s", w->seg_path, status_text(rc));
        }
    }
    if (rc < 0)
        writer_close_file(w); /* read again from the files next time */
    pthread_mutex_unlock(&db->clog_mu);
    if (rc < 0)
        return ptxn_error(t, rc, "%s", err[0] ? err : status_text(rc));
    return 0;
}

static int sync_hook(void *arg)
{
    folio_db *db = arg;
    int rc = 0;
    pthread_mutex_lock(&db->clog_mu);
    clog_writer *w = db->clog;
    if (w && w->open && w->dirty) {
        rc = os_vfs_current()->sync(w->f);
        if (rc == 0)
            w->dirty = 0;
    }
    pthread_mutex_unlock(&db->clog_mu);
    return rc;
}

void db_log_counters(folio_db *db, uint64_t out[3])
{
    pthread_mutex_lock(&db->clog_mu);
    clog_writer *w = db->clog;
    out[0] = w ? w->n_records : 0;
    out[1] = w ? w->raw_bytes : 0;
    out[2] = w ? w->stored_bytes : 0;
    pthread_mutex_unlock(&db->clog_mu);
}

void db_log_attach(folio_db *db)
{
    pager_set_commit_hook(db->pager, commit_hook, db);
    pager_set_sync_hook(db->pager, sync_hook, db);
}

/* ---- bases ---- */

/* A base of the snapshot `rt` reads, into `dir`. */
static int write_base(folio_db *db, const char *dir, const clog_manifest *m, ptxn *rt, char *err,
                      size_t errlen)
{
    uint64_t version;
    int rc = ptxn_version(rt, &version);
    if (rc < 0)
        return werr(err, errlen, rc, "%s", ptxn_errmsg(rt));
    clog_base_hdr h = {m->dbid,         m->logid,     version, pager_page_size(db->pager),
                       ptxn_npages(rt), clog_now_us()};
    clog_base_writer *bw;
    if ((rc = clog_base_create(&bw, dir, m, &h, err, errlen)) < 0)
        return rc;
    for (uint32_t pgno = 1; pgno <= h.npages && rc == 0; pgno++) {
        pg *p;
        if ((rc = pager_get(&p, rt, pgno)) < 0) {
            werr(err, errlen, rc, "%s", ptxn_errmsg(rt));
            break;
        }
        rc = clog_base_add(bw, pgno, p->data);
        pager_unref(p);
        if (rc < 0)
            werr(err, errlen, rc, "%s: cannot write the base: %s", dir, status_text(rc));
    }
    if (rc < 0) {
        clog_base_abort(bw);
        return rc;
    }
    return clog_base_finish(bw, err, errlen);
}

int db_log_after_commit(folio_db *db)
{
    pthread_mutex_lock(&db->clog_mu);
    int need = db->clog_need_base;
    db->clog_need_base = 0;
    clog_manifest m = db->clog ? db->clog->m : (clog_manifest){0};
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", db->clog ? db->clog->dir : "");
    pthread_mutex_unlock(&db->clog_mu);
    if (!need || !dir[0])
        return 0;
    ptxn *rt;
    char err[1024] = "";
    int rc = pager_begin(&rt, db->pager, 0, db->opts.busy_timeout_ms, err, sizeof err);
    if (rc == 0) {
        rc = write_base(db, dir, &m, rt, err, sizeof err);
        pager_end(rt);
    }
    if (rc < 0) {
        /* The commit stands; the next commit tries again. */
        pthread_mutex_lock(&db->clog_mu);
        db->clog_need_base = 1;
        pthread_mutex_unlock(&db->clog_mu);
        return db_err(db, rc, "the commit stands, but its log's new base failed: %s", err);
    }
    return 0;
}

/* ---- enable, disable ---- */

static uint64_t random_u64(const void *salt)
{
    uint64_t x = (uint64_t)clog_now_us() * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)salt;
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        uint64_t r;
        if (fread(&r, sizeof r, 1, f) == 1)
            x ^= r;
        fclose(f);
    }
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    return x;
}

int folio_log_enable(folio_db *db, int compression)
{
    if (!db)
        return FOLIO_MISUSE;
    FOLIO_CHECK_ARG(db, compression == FOLIO_LOG_ZSTD || compression == FOLIO_LOG_LZ4);
    folio_txn *txn;
    int rc = folio_begin(&txn, db, FOLIO_TXN_WRITE);
    if (rc < 0)
        return rc;
    if (ptxn_npages(txn->pt) == 0 && (rc = ddl_ensure_formatted(txn)) < 0) {
        /* (a new file: page 1 first, to carry the stamp) */
        rc = db_err_txn(txn, rc);
        folio_rollback(txn);
        return rc;
    }
    if (ptxn_dbid(txn->pt) == 0) {
        /* Page 1 takes a stamp (and the database its identity) first. */
        ptxn_set_vflag(txn->pt, 0, 1);
        if ((rc = folio_commit(txn)) < 0 || (rc = folio_begin(&txn, db, FOLIO_TXN_WRITE)) < 0)
            return rc;
    }
    if (ptxn_vflags(txn->pt) & FMT_VSTAMP_LOG) {
        folio_rollback(txn);
        return FOLIO_OK; /* on already */
    }
    char err[1024] = "";
    char *dir = clog_dir_of(pager_path(db->pager));
    if (!dir) {
        folio_rollback(txn);
        return db_err(db, FOLIO_NOMEM, "out of memory");
    }
    clog_manifest m;
    uint32_t dbid = ptxn_dbid(txn->pt);
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
        rc = db_err(db, FOLIO_CANTOPEN, "%s: cannot create the log directory: %s", dir,
                    strerror(errno));
        goto out;
    }
    rc = clog_manifest_read(dir, &m, err, sizeof err);
    if (rc == 0 && m.dbid != dbid) {
        rc = db_err(db, FOLIO_ERROR,
                    "%s belongs to another database (database identity %u, this one %u)", dir,
                    (unsigned)m.dbid, (unsigned)dbid);
        goto out;
    }
    if (rc == FOLIO_NOTFOUND_ERR) {
        m.dbid = dbid;
        m.logid = random_u64(db);
        m.codec = compression == FOLIO_LOG_LZ4 ? CLOG_LZ4 : CLOG_ZSTD;
        rc = clog_manifest_write(dir, &m, err, sizeof err);
    } else if (rc == 0 && m.codec != (compression == FOLIO_LOG_LZ4 ? CLOG_LZ4 : CLOG_ZSTD)) {
        m.codec = compression == FOLIO_LOG_LZ4 ? CLOG_LZ4 : CLOG_ZSTD;
        rc = clog_manifest_write(dir, &m, err, sizeof err);
    }
    if (rc < 0) {
        rc = db_err(db, rc, "%s", err);
        goto out;
    }
    /* A new log (or one that stopped: the versions since are a gap that a
     * base after this commit covers) begins with a base of this state. */
    clog_file *files;
    int n;
    if ((rc = clog_list(dir, &files, &n, err, sizeof err)) < 0) {
        rc = db_err(db, rc, "%s", err);
        goto out;
    }
    clog_list_free(files, n);
    if (n == 0) {
        ptxn *rt;
        if ((rc = pager_begin(&rt, db->pager, 0, 0, err, sizeof err)) == 0) {
            rc = write_base(db, dir, &m, rt, err, sizeof err);
            pager_end(rt);
        }
        if (rc < 0) {
            rc = db_err(db, rc, "%s", err);
            goto out;
        }
    }
    pthread_mutex_lock(&db->clog_mu);
    if (db->clog)
        writer_close_file(db->clog);
    pthread_mutex_unlock(&db->clog_mu);
    ptxn_set_vflag(txn->pt, FMT_VSTAMP_LOG, 1);
    os_free(dir);
    return folio_commit(txn);
out:
    os_free(dir);
    folio_rollback(txn);
    return rc;
}

int folio_log_disable(folio_db *db)
{
    if (!db)
        return FOLIO_MISUSE;
    folio_txn *txn;
    int rc = folio_begin(&txn, db, FOLIO_TXN_WRITE);
    if (rc < 0)
        return rc;
    if (!(ptxn_vflags(txn->pt) & FMT_VSTAMP_LOG)) {
        folio_rollback(txn);
        return FOLIO_OK; /* off already */
    }
    ptxn_set_vflag(txn->pt, FMT_VSTAMP_LOG, 0);
    rc = folio_commit(txn);
    pthread_mutex_lock(&db->clog_mu);
    if (db->clog)
        writer_close_file(db->clog);
    pthread_mutex_unlock(&db->clog_mu);
    return rc;
}
