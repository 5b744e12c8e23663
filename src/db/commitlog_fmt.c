/*
 * commitlog_fmt.c - the commit log's files: manifest, segments, records,
 * bases, compression and the verified reader (layout in commitlog.h).
 * Files go through the VFS (os.h), so that I/O faults reach them as they
 * reach the database.
 */
#include "db/commitlog.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <lz4.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "base/status.h"
#include "btree/btree.h"
#include "format/format.h"
#include "folio.h"
#include "os/os.h"

/* ---- little-endian fields ---- */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

uint64_t clog_hash(uint64_t seed, const void *data, size_t n)
{
    const uint8_t *p = data;
    uint64_t h = seed ^ 0x27d4eb2f165667c5ull ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h ^= w * 0xc2b2ae3d27d4eb4full;
        h = (h << 31 | h >> 33) * 0x9e3779b97f4a7c15ull;
    }
    uint64_t w = 0;
    for (size_t k = 0; i + k < n; k++)
        w |= (uint64_t)p[i + k] << (8 * k);
    h ^= w * 0x165667b19e3779f9ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 29;
    return h;
}

int64_t clog_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int clog_sync_dir(const char *dir)
{
    os_vfs *vfs = os_vfs_current();
    /* sync_dir syncs the directory holding its path: name a child. */
    size_t n = strlen(dir);
    char *p = os_malloc(n + 3);
    if (!p)
        return FOLIO_NOMEM;
    snprintf(p, n + 3, "%s/x", dir);
    int rc = vfs->sync_dir(vfs, p);
    os_free(p);
    return rc;
}

char *clog_dir_of(const char *db_path)
{
    size_t n = strlen(db_path);
    char *p = os_malloc(n + 5);
    if (p)
        snprintf(p, n + 5, "%s-log", db_path);
    return p;
}

/* ---- whole small files ---- */

static int read_small(const char *path, char *buf, size_t cap, size_t *out_n)
{
    os_vfs *vfs = os_vfs_current();
    os_file *f;
    int rc = vfs->open(vfs, path, OS_OPEN_READONLY, &f);
    if (rc < 0)
        return rc;
    size_t got = 0;
    rc = vfs->read(f, buf, cap - 1, 0, &got);
    vfs->close(f);
    buf[got] = 0;
    *out_n = got;
    return rc;
}

static int write_synced(const char *path, const void *data, size_t n)
{
    os_vfs *vfs = os_vfs_current();
    os_file *f;
    int rc = vfs->open(vfs, path, OS_OPEN_CREATE, &f);
    if (rc < 0)
        return rc;
    if ((rc = vfs->truncate(f, 0)) == 0 && (rc = vfs->write(f, data, n, 0)) == 0)
        rc = vfs->sync(f);
    vfs->close(f);
    return rc;
}

int clog_manifest_read(const char *dir, clog_manifest *out, char *err, size_t errlen)
{
    char path[4096], buf[512];
    snprintf(path, sizeof path, "%s/folio-log", dir);
    os_vfs *vfs = os_vfs_current();
    int ex = vfs->exists(vfs, path);
    if (ex == 0) {
        snprintf(err, errlen, "%s: no commit log here", dir);
        return FOLIO_NOTFOUND_ERR;
    }
    size_t n;
    int rc = ex < 0 ? ex : read_small(path, buf, sizeof buf, &n);
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot read it: %s", path, status_text(rc));
        return rc;
    }
    unsigned fmt = 0;
    unsigned long long dbid = 0, logid = 0;
    char codec[16] = "";
    if (sscanf(buf, "folio-log %u dbid %llu logid %llx compression %15s", &fmt, &dbid, &logid,
               codec) != 4 ||
        dbid > 0xffffffffull) {
        snprintf(err, errlen, "%s: not a folio commit log manifest", path);
        return FOLIO_CORRUPT;
    }
    if (fmt != CLOG_FORMAT) {
        snprintf(err, errlen, "%s: log format %u (this folio reads format %d)", path, fmt,
                 CLOG_FORMAT);
        return FOLIO_UNSUPPORTED;
    }
    out->dbid = (uint32_t)dbid;
    out->logid = logid;
    if (strcmp(codec, "zstd") == 0)
        out->codec = CLOG_ZSTD;
    else if (strcmp(codec, "lz4") == 0)
        out->codec = CLOG_LZ4;
    else {
        snprintf(err, errlen, "%s: unknown compression \"%s\"", path, codec);
        return FOLIO_CORRUPT;
    }
    return 0;
}

int clog_manifest_write(const char *dir, const clog_manifest *m, char *err, size_t errlen)
{
    char path[4096], tmp[4200], buf[256];
    snprintf(path, sizeof path, "%s/folio-log", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int n = snprintf(buf, sizeof buf, "folio-log %d\ndbid %u\nlogid %016llx\ncompression %s\n",
                     CLOG_FORMAT, (unsigned)m->dbid, (unsigned long long)m->logid,
                     m->codec == CLOG_LZ4 ? "lz4" : "zstd");
    os_vfs *vfs = os_vfs_current();
    int rc = write_synced(tmp, buf, (size_t)n);
    if (rc == 0)
        rc = vfs->rename(vfs, tmp, path);
    /* The VFS's rename never replaces: a manifest that changes (another
     * compression) is replaced by C's rename, in one step as well. */
    if (rc == 1)
        rc = rename(tmp, path) == 0 ? 0 : FOLIO_IOERR;
    if (rc == 0)
        rc = clog_sync_dir(dir);
    if (rc < 0) {
        vfs->remove(vfs, tmp);
        snprintf(err, errlen, "%s: cannot write it: %s", path, status_text(rc));
    }
    return rc;
}

/* ---- compression ---- */

/* The zstd level of records and bases. */
#define CLOG_ZSTD_LEVEL 1

/* The room compressing `n` bytes with `codec` may need (at least n, for
 * the raw fallback). */
static size_t compress_bound(int codec, size_t n)
{
    size_t cap = codec == CLOG_ZSTD                     ? ZSTD_compressBound(n)
                 : codec == CLOG_LZ4 && n < 0x7e000000u ? (size_t)LZ4_compressBound((int)n)
                                                        : n;
    return cap < n ? n : cap;
}

/* Compress into `b` (cap from compress_bound), with the zstd context `zc`
 * when there is one: the stored bytes, or the raw bytes when the codec
 * does not make them smaller. A reused context gives the same bytes as a
 * fresh one, without making and clearing one for every call. */
static void compress_to(ZSTD_CCtx *zc, int codec, const uint8_t *in, size_t n, uint8_t *b,
                        size_t cap, size_t *out_n, int *out_codec)
{
    size_t got = n;
    if (n < CLOG_RAW_BELOW) {
        /* (compressing a few hundred bytes costs more than it saves) */
    } else if (codec == CLOG_ZSTD) {
        size_t r = zc ? ZSTD_compressCCtx(zc, b, cap, in, n, CLOG_ZSTD_LEVEL)
                      : ZSTD_compress(b, cap, in, n, CLOG_ZSTD_LEVEL);
        got = ZSTD_isError(r) ? n : r;
    } else if (codec == CLOG_LZ4 && n < 0x7e000000u) {
        int r = LZ4_compress_default((const char *)in, (char *)b, (int)n, (int)cap);
        got = r <= 0 ? n : (size_t)r;
    }
    if (got >= n) {
        memcpy(b, in, n);
        *out_codec = CLOG_RAW;
        *out_n = n;
    } else {
        *out_codec = codec;
        *out_n = got;
    }
}

int clog_compress(int codec, const uint8_t *in, size_t n, uint8_t **out, size_t *out_n,
                  int *out_codec)
{
    size_t cap = compress_bound(codec, n);
    uint8_t *b = os_malloc(cap ? cap : 1);
    if (!b)
        return FOLIO_NOMEM;
    compress_to(NULL, codec, in, n, b, cap, out_n, out_codec);
    *out = b;
    return 0;
}

int clog_pack(clog_packer *pk, int codec, const uint8_t *in, size_t n, uint8_t **out, size_t *out_n,
              int *out_codec)
{
    size_t need = CLOG_REC_HDR + compress_bound(codec, n);
    if (pk->cap < need) {
        uint8_t *b = os_realloc(pk->buf, need);
        if (!b)
            return FOLIO_NOMEM;
        pk->buf = b;
        pk->cap = need;
    }
    if (codec == CLOG_ZSTD && !pk->zstd && !(pk->zstd = ZSTD_createCCtx()))
        return FOLIO_NOMEM;
    compress_to(pk->zstd, codec, in, n, pk->buf + CLOG_REC_HDR, pk->cap - CLOG_REC_HDR, out_n,
                out_codec);
    *out = pk->buf + CLOG_REC_HDR;
    return 0;
}

void clog_packer_trim(clog_packer *pk, size_t keep)
{
    if (pk->cap > keep) {
        os_free(pk->buf);
        pk->buf = NULL;
        pk->cap = 0;
    }
}

void clog_packer_free(clog_packer *pk)
{
    ZSTD_freeCCtx(pk->zstd);
    os_free(pk->buf);
    memset(pk, 0, sizeof *pk);
}

int clog_expand(int codec, const uint8_t *in, size_t n, uint8_t *out, size_t raw_n)
{
    if (codec == CLOG_RAW) {
        if (n != raw_n)
            return FOLIO_CORRUPT;
        memcpy(out, in, n);
        return 0;
    }
    if (codec == CLOG_ZSTD) {
        size_t r = ZSTD_decompress(out, raw_n, in, n);
        return ZSTD_isError(r) || r != raw_n ? FOLIO_CORRUPT : 0;
    }
    if (codec == CLOG_LZ4) {
        if (raw_n > 0x7e000000u || n > 0x7e000000u)
            return FOLIO_CORRUPT;
        int r = LZ4_decompress_safe((const char *)in, (char *)out, (int)n, (int)raw_n);
        return r < 0 || (size_t)r != raw_n ? FOLIO_CORRUPT : 0;
    }
    return FOLIO_CORRUPT;
}

/* ---- records and segment headers ---- */

void clog_rec_encode(uint8_t *h, const clog_rec *r)
{
    memset(h, 0, CLOG_REC_HDR);
    put32(h, r->stored);
    h[4] = r->type;
    h[5] = r->codec;
    h[6] = (uint8_t)r->flags;
    h[7] = (uint8_t)(r->flags >> 8);
    put32(h + 8, r->raw);
    put32(h + 12, r->nchanges);
    put32(h + 16, r->npages);
    put64(h + 24, r->version);
    put64(h + 32, (uint64_t)r->time_us);
    put64(h + 40, r->chain);
}

void clog_rec_decode(const uint8_t *h, clog_rec *r)
{
    r->stored = get32(h);
    r->type = h[4];
    r->codec = h[5];
    r->flags = (uint16_t)(h[6] | h[7] << 8);
    r->raw = get32(h + 8);
    r->nchanges = get32(h + 12);
    r->npages = get32(h + 16);
    r->version = get64(h + 24);
    r->time_us = (int64_t)get64(h + 32);
    r->chain = get64(h + 40);
}

uint64_t clog_rec_chain(uint64_t prev, const uint8_t *hdr, const uint8_t *payload, size_t n)
{
    uint64_t h = clog_hash(prev, hdr, 40);
    return clog_hash(h, payload, n);
}

void clog_seg_hdr_encode(uint8_t *p, const clog_seg_hdr *h)
{
    memset(p, 0, CLOG_SEG_HDR);
    memcpy(p, "FOLIOSEG", 8);
    put32(p + 8, CLOG_FORMAT);
    put32(p + 12, h->dbid);
    put64(p + 16, h->logid);
    put64(p + 24, h->first);
    put64(p + 32, h->prev_chain);
    put32(p + 40, h->page_size);
    put64(p + 56, clog_hash(0, p, 56));
}

int clog_seg_hdr_decode(const uint8_t *p, clog_seg_hdr *h)
{
    if (memcmp(p, "FOLIOSEG", 8) != 0 || get32(p + 8) != CLOG_FORMAT ||
        get64(p + 56) != clog_hash(0, p, 56))
        return -1;
    h->dbid = get32(p + 12);
    h->logid = get64(p + 16);
    h->first = get64(p + 24);
    h->prev_chain = get64(p + 32);
    h->page_size = get32(p + 40);
    return 0;
}

/* ---- listing ---- */

static int file_cmp(const void *a, const void *b)
{
    const clog_file *x = a, *y = b;
    if (x->version != y->version)
        return x->version < y->version ? -1 : 1;
    return y->is_base - x->is_base; /* a base before the segment of its version */
}

int clog_list(const char *dir, clog_file **out, int *out_n, char *err, size_t errlen)
{
    *out = NULL;
    *out_n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: cannot list it: %s", dir, strerror(errno));
        return errno == ENOENT ? FOLIO_NOTFOUND_ERR : FOLIO_IOERR;
    }
    clog_file *v = NULL;
    int n = 0, cap = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *s = e->d_name;
        size_t len = strlen(s);
        int is_base;
        if (len == 24 && strcmp(s + 20, ".seg") == 0)
            is_base = 0;
        else if (len == 25 && strcmp(s + 20, ".base") == 0)
            is_base = 1;
        else
            continue;
        uint64_t ver = 0;
        int ok = 1;
        for (int i = 0; i < 20; i++) {
            if (s[i] < '0' || s[i] > '9') {
                ok = 0;
                break;
            }
            ver = ver * 10 + (uint64_t)(s[i] - '0');
        }
        if (!ok)
            continue;
        if (n == cap) {
            int nc = cap ? cap * 2 : 16;
            clog_file *nv = os_realloc(v, (size_t)nc * sizeof *nv);
            if (!nv) {
                rc = FOLIO_NOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        size_t pl = strlen(dir) + len + 2;
        v[n].path = os_malloc(pl);
        if (!v[n].path) {
            rc = FOLIO_NOMEM;
            break;
        }
        snprintf(v[n].path, pl, "%s/%s", dir, s);
        v[n].version = ver;
        v[n].is_base = is_base;
        n++;
    }
    closedir(d);
    if (rc < 0) {
        clog_list_free(v, n);
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    if (n)
        qsort(v, (size_t)n, sizeof *v, file_cmp);
    *out = v;
    *out_n = n;
    return 0;
}

void clog_list_free(clog_file *v, int n)
{
    for (int i = 0; i < n; i++)
        os_free(v[i].path);
    os_free(v);
}

/* ---- the reader ---- */

struct clog_reader {
    char dir[4096];
    clog_manifest m;
    clog_file *files;
    int nfiles;
    int seg; /* index into files of the open segment (-1: none yet) */
    os_file *f;
    uint64_t fsize; /* its size */
    uint64_t off;   /* where the next record begins */
    uint64_t rec_off;
    uint64_t chain;    /* the chain after the last record */
    uint64_t next_ver; /* the version the next record must have (0: any) */
    int closed;        /* the open segment ended with CLOSED */
    int follow;        /* a closed segment with none after it yet ends the log for now */
    /* Where the last record returned began (clog_reader_unread). */
    uint64_t undo_off, undo_chain, undo_next;
    int undo_ok;
    uint8_t *stored;
    size_t stored_cap;
    uint8_t *raw;
    size_t raw_cap;
    char err[1024];
};

int clog_reader_open(clog_reader **out, const char *dir, char *err, size_t errlen)
{
    *out = NULL;
    clog_reader *r = os_calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return FOLIO_NOMEM;
    }
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    int rc = clog_manifest_read(dir, &r->m, err, errlen);
    if (rc == 0)
        rc = clog_list(dir, &r->files, &r->nfiles, err, errlen);
    if (rc < 0) {
        os_free(r);
        return rc;
    }
    r->seg = -1;
    *out = r;
    return 0;
}

const char *clog_reader_errmsg(const clog_reader *r)
{
    return r->err;
}
const clog_manifest *clog_reader_manifest(const clog_reader *r)
{
    return &r->m;
}
const char *clog_reader_file(const clog_reader *r)
{
    return r->seg >= 0 ? r->files[r->seg].path : r->dir;
}
uint64_t clog_reader_offset(const clog_reader *r)
{
    return r->rec_off;
}

static int rerr(clog_reader *r, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int rerr(clog_reader *r, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    return rc;
}

static int grow(uint8_t **p, size_t *cap, size_t n)
{
    if (*cap >= n)
        return 0;
    uint8_t *v = os_realloc(*p, n ? n : 1);
    if (!v)
        return FOLIO_NOMEM;
    *p = v;
    *cap = n;
    return 0;
}

/* Open the next segment after the current one. 1: opened, 0: none left. */
static int next_segment(clog_reader *r)
{
    os_vfs *vfs = os_vfs_current();
    if (r->f) {
        if (!r->closed)
            return 0; /* the last segment is the open one */
        vfs->close(r->f);
        r->f = NULL;
    }
    int i = r->seg + 1;
    while (i < r->nfiles && r->files[i].is_base)
        i++;
    if (i >= r->nfiles) {
        if (r->closed && !r->follow)
            return rerr(r, FOLIO_CORRUPT, "%s: the segment after version %" PRIu64 " is missing",
                        r->dir, r->next_ver ? r->next_ver - 1 : 0);
        return 0;
    }
    r->seg = i;
    r->closed = 0;
    const char *path = r->files[i].path;
    int rc = vfs->open(vfs, path, OS_OPEN_READONLY, &r->f);
    if (rc < 0)
        return rerr(r, rc, "%s: cannot open it: %s", path, status_text(rc));
    if ((rc = vfs->size(r->f, &r->fsize)) < 0)
        return rerr(r, rc, "%s: cannot read it: %s", path, status_text(rc));
    uint8_t h[CLOG_SEG_HDR];
    clog_seg_hdr sh;
    r->rec_off = 0;
    if (r->fsize < CLOG_SEG_HDR || (rc = vfs->read(r->f, h, sizeof h, 0, NULL)) < 0 ||
        clog_seg_hdr_decode(h, &sh) < 0)
        return rerr(r, rc < 0 ? rc : FOLIO_CORRUPT, "%s at offset 0: not a valid log segment",
                    path);
    if (sh.dbid != r->m.dbid || sh.logid != r->m.logid)
        return rerr(r, FOLIO_CORRUPT,
                    "%s at offset 0: the segment belongs to another log (database %u, log "
                    "%016llx; this log: database %u, log %016llx)",
                    path, (unsigned)sh.dbid, (unsigned long long)sh.logid, (unsigned)r->m.dbid,
                    (unsigned long long)r->m.logid);
    if (sh.first != r->files[i].version)
        return rerr(r, FOLIO_CORRUPT,
                    "%s at offset 0: the segment begins at version %" PRIu64
                    ", not the one its name says",
                    path, sh.first);
    if (r->next_ver) {
        if (sh.first != r->next_ver || sh.prev_chain != r->chain)
            return rerr(r, FOLIO_CORRUPT,
                        "%s at offset 0: the segment does not continue the one before it "
                        "(expected version %" PRIu64 ")",
                        path, r->next_ver);
    }
    r->chain = sh.prev_chain;
    r->next_ver = sh.first;
    r->off = CLOG_SEG_HDR;
    return 1;
}

int clog_reader_next(clog_reader *r, clog_rec *rec, const uint8_t **payload, int want_payload)
{
    os_vfs *vfs = os_vfs_current();
    for (;;) {
        if (!r->f || r->closed || r->off >= r->fsize) {
            if (r->f && !r->closed && r->off >= r->fsize)
                return 0; /* the end of the last segment */
            int rc = next_segment(r);
            if (rc <= 0)
                return rc;
            continue;
        }
        const char *path = r->files[r->seg].path;
        r->rec_off = r->off;
        r->undo_off = r->off;
        r->undo_chain = r->chain;
        r->undo_next = r->next_ver;
        r->undo_ok = 0;
        uint8_t h[CLOG_REC_HDR];
        int rc;
        int last_seg = 1;
        for (int i = r->seg + 1; i < r->nfiles; i++)
            if (!r->files[i].is_base)
                last_seg = 0;
        if (r->fsize - r->off < CLOG_REC_HDR) {
            if (last_seg)
                return 0; /* cut short by a crash while it was written */
            return rerr(r, FOLIO_CORRUPT, "%s at offset %" PRIu64 ": a record is cut short", path,
                        r->off);
        }
        if ((rc = vfs->read(r->f, h, sizeof h, r->off, NULL)) < 0)
            return rerr(r, rc, "%s at offset %" PRIu64 ": cannot read it: %s", path, r->off,
                        status_text(rc));
        clog_rec_decode(h, rec);
        if (rec->stored > r->fsize - r->off - CLOG_REC_HDR) {
            if (last_seg && rec->stored < (1u << 31))
                return 0; /* cut short */
            return rerr(r, FOLIO_CORRUPT, "%s at offset %" PRIu64 ": a record is cut short", path,
                        r->off);
        }
        if ((rc = grow(&r->stored, &r->stored_cap, rec->stored)) < 0)
            return rerr(r, rc, "out of memory");
        if ((rc = vfs->read(r->f, r->stored, rec->stored, r->off + CLOG_REC_HDR, NULL)) < 0)
            return rerr(r, rc, "%s at offset %" PRIu64 ": cannot read it: %s", path, r->off,
                        status_text(rc));
        uint64_t chain = clog_rec_chain(r->chain, h, r->stored, rec->stored);
        if (chain != rec->chain)
            return rerr(r, FOLIO_CORRUPT,
                        "%s at offset %" PRIu64
                        ": the record's checksum does not match (damaged, or not in its place)",
                        path, r->off);
        if (rec->type != CLOG_CLOSED && rec->version != r->next_ver)
            return rerr(r, FOLIO_CORRUPT,
                        "%s at offset %" PRIu64 ": version %" PRIu64 " where %" PRIu64
                        " was expected",
                        path, r->off, rec->version, r->next_ver);
        r->chain = chain;
        r->off += CLOG_REC_HDR + rec->stored;
        if (rec->type == CLOG_CLOSED) {
            r->closed = 1;
            continue;
        }
        if (rec->type == CLOG_GAP) {
            if (rec->stored != 8 || rec->codec != CLOG_RAW)
                return rerr(r, FOLIO_CORRUPT, "%s at offset %" PRIu64 ": a bad gap record", path,
                            r->rec_off);
            uint64_t last = 0;
            for (int i = 7; i >= 0; i--)
                last = last << 8 | r->stored[i];
            if (last < rec->version)
                return rerr(r, FOLIO_CORRUPT, "%s at offset %" PRIu64 ": a bad gap record", path,
                            r->rec_off);
            r->next_ver = last + 1;
            *payload = r->stored;
            r->undo_ok = 1;
            return 1;
        }
        if (rec->type != CLOG_COMMIT)
            return rerr(r, FOLIO_CORRUPT, "%s at offset %" PRIu64 ": unknown record type %u", path,
                        r->rec_off, (unsigned)rec->type);
        r->next_ver = rec->version + 1;
        *payload = NULL;
        if (want_payload) {
            if ((rc = grow(&r->raw, &r->raw_cap, rec->raw)) < 0)
                return rerr(r, rc, "out of memory");
            if ((rc = clog_expand(rec->codec, r->stored, rec->stored, r->raw, rec->raw)) < 0)
                return rerr(r, rc, "%s at offset %" PRIu64 ": the record does not expand", path,
                            r->rec_off);
            *payload = r->raw;
        }
        r->undo_ok = 1;
        return 1;
    }
}

void clog_reader_unread(clog_reader *r)
{
    if (!r->undo_ok)
        return;
    r->off = r->undo_off;
    r->chain = r->undo_chain;
    r->next_ver = r->undo_next;
    r->undo_ok = 0;
}

void clog_reader_set_follow(clog_reader *r, int on)
{
    r->follow = on;
}

int clog_reader_refresh(clog_reader *r)
{
    clog_file *files;
    int n;
    int rc = clog_list(r->dir, &files, &n, r->err, sizeof r->err);
    if (rc < 0)
        return rc;
    int seg = -1;
    if (r->seg >= 0) {
        for (int i = 0; i < n && seg < 0; i++)
            if (!files[i].is_base && files[i].version == r->files[r->seg].version)
                seg = i;
        if (seg < 0) {
            clog_list_free(files, n);
            return rerr(r, FOLIO_NOTFOUND_ERR, "%s: removed while it was read",
                        r->files[r->seg].path);
        }
    }
    clog_list_free(r->files, r->nfiles);
    r->files = files;
    r->nfiles = n;
    r->seg = seg;
    if (r->f && (rc = os_vfs_current()->size(r->f, &r->fsize)) < 0)
        return rerr(r, rc, "%s: cannot read it: %s", files[seg].path, status_text(rc));
    return 0;
}

void clog_reader_close(clog_reader *r)
{
    if (!r)
        return;
    if (r->f)
        os_vfs_current()->close(r->f);
    clog_list_free(r->files, r->nfiles);
    os_free(r->stored);
    os_free(r->raw);
    os_free(r);
}

/* ---- COMMIT payloads ---- */

static size_t put_uv(uint8_t *p, uint64_t v)
{
    size_t k = 0;
    while (v >= 0x80) {
        p[k++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[k++] = (uint8_t)v;
    return k;
}

/* A varint at p[*o..n) into *v; -1 when cut or longer than 10 bytes. */
static int get_uv(const uint8_t *p, size_t n, size_t *o, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned sh = 0; sh < 70; sh += 7) {
        if (*o >= n)
            return -1;
        uint8_t b = p[(*o)++];
        x |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

size_t clog_entry_compact(const void *entry, int64_t *prev_rowid, uint8_t *out)
{
    bt_log_entry e;
    memcpy(&e, entry, sizeof e);
    uint64_t d = (uint64_t)e.rowid - (uint64_t)*prev_rowid;
    uint64_t zz = (d << 1) ^ (uint64_t) - (int64_t)(d >> 63);
    *prev_rowid = e.rowid;
    size_t k = 0;
    out[k++] = e.op;
    out[k++] = e.had;
    k += put_uv(out + k, e.pad);
    k += put_uv(out + k, e.root);
    k += put_uv(out + k, zz);
    out[k++] = e.hash != 0;
    if (e.hash) {
        put64(out + k, e.hash);
        k += 8;
    }
    k += put_uv(out + k, e.size);
    return k;
}

/* The bytes after an entry's header: its size, and for a row insert that
 * replaced a row, the old row's size (8 bytes) and the old row. */
static int entry_rest(const bt_log_entry *e, const uint8_t *p, size_t n, size_t *rest)
{
    if (e->size > n)
        return -1;
    size_t k = (size_t)e->size;
    if (e->op == BT_LOG_INS_ROW && e->had) {
        if (n - k < 8)
            return -1;
        uint64_t old;
        memcpy(&old, p + k, 8); /* (as the b-tree wrote it) */
        if (old > n - k - 8)
            return -1;
        k += 8 + (size_t)old;
    }
    *rest = k;
    return 0;
}

/* Compact change entries (p, n) back in full form, into a new buffer. */
static int expand_changes(const uint8_t *p, size_t n, uint8_t **out, size_t *out_n)
{
    size_t total = 0;
    uint8_t *buf = NULL;
    for (int pass = 0; pass < 2; pass++) {
        size_t o = 0, w = 0;
        int64_t prev = 0;
        while (o < n) {
            bt_log_entry e;
            memset(&e, 0, sizeof e);
            uint64_t pad, root, zz, size;
            if (n - o < 2)
                goto bad;
            e.op = p[o];
            e.had = p[o + 1];
            o += 2;
            if (get_uv(p, n, &o, &pad) < 0 || pad > 0xffff || get_uv(p, n, &o, &root) < 0 ||
                root > 0xffffffffu || get_uv(p, n, &o, &zz) < 0 || o >= n || p[o] > 1)
                goto bad;
            e.pad = (uint16_t)pad;
            e.root = (uint32_t)root;
            uint64_t d = (zz >> 1) ^ (uint64_t) - (int64_t)(zz & 1);
            e.rowid = (int64_t)((uint64_t)prev + d);
            prev = e.rowid;
            if (p[o++]) {
                if (n - o < 8)
                    goto bad;
                e.hash = get64(p + o);
                o += 8;
            }
            if (get_uv(p, n, &o, &size) < 0)
                goto bad;
            e.size = size;
            size_t rest;
            if (entry_rest(&e, p + o, n - o, &rest) < 0)
                goto bad;
            if (pass == 1) {
                memcpy(buf + w, &e, sizeof e);
                memcpy(buf + w + sizeof e, p + o, rest);
            }
            o += rest;
            w += sizeof e + rest;
        }
        if (pass == 0) {
            total = w;
            if (!(buf = os_malloc(total ? total : 1)))
                return FOLIO_NOMEM;
        }
    }
    *out = buf;
    *out_n = total;
    return 0;
bad:
    os_free(buf);
    return FOLIO_CORRUPT;
}

/* The row insert entry at `at` of c's changes (full form) as a table leaf
 * cell: its entry (when e is not NULL) and the cell's length; -1 when no
 * such entry is there. */
static int cell_of(const clog_commit *c, size_t at, bt_log_entry *out_e, size_t *len)
{
    bt_log_entry e;
    if (at > c->changes_n || c->changes_n - at < sizeof e)
        return -1;
    memcpy(&e, c->changes + at, sizeof e);
    if (e.op != BT_LOG_INS_ROW || e.size > c->changes_n - at - sizeof e || e.size > 65536)
        return -1;
    *len =
        (size_t)fmt_varint_len(e.size) + (size_t)fmt_varint_len((uint64_t)e.rowid) + (size_t)e.size;
    if (out_e)
        *out_e = e;
    return 0;
}

int clog_commit_parse(const uint8_t *p, size_t n, uint16_t rec_flags, clog_commit *out)
{
    memset(out, 0, sizeof *out);
    size_t o = 0;
#define NEED(k)                                                                                    \
    do {                                                                                           \
        if (n - o < (size_t)(k))                                                                   \
            goto bad;                                                                              \
    } while (0)
    NEED(12);
    out->page_size = get32(p);
    out->db_pages = get32(p + 4);
    out->nnames = get32(p + 8);
    o = 12;
    if (out->nnames > n / 7)
        goto bad;
    out->names = os_calloc(out->nnames ? out->nnames : 1, sizeof *out->names);
    if (!out->names)
        return FOLIO_NOMEM;
    for (uint32_t i = 0; i < out->nnames; i++) {
        NEED(7);
        out->names[i].root = get32(p + o);
        out->names[i].kind = p[o + 4];
        out->names[i].len = (uint16_t)(p[o + 5] | p[o + 6] << 8);
        o += 7;
        NEED(out->names[i].len);
        out->names[i].name = (const char *)p + o;
        o += out->names[i].len;
    }
    NEED(4);
    out->changes_n = get32(p + o);
    o += 4;
    NEED(out->changes_n);
    out->changes = p + o;
    o += out->changes_n;
    if (rec_flags & CLOG_REC_COMPACT) {
        int erc = expand_changes(out->changes, out->changes_n, &out->changes_own, &out->changes_n);
        if (erc < 0) {
            os_free(out->names);
            out->names = NULL;
            return erc;
        }
        out->changes = out->changes_own;
    }
    NEED(4);
    out->npages = get32(p + o);
    o += 4;
    if (out->page_size < 512 || out->page_size > 65536)
        goto bad;
    out->pages = p + o;
    out->pages_n = n - o;
    if (!(rec_flags & CLOG_REC_DELTA)) {
        if ((n - o) / ((size_t)out->page_size + 4) != out->npages ||
            (n - o) % ((size_t)out->page_size + 4) != 0)
            goto bad;
        return 0;
    }
    out->delta = 1;
    for (uint32_t i = 0; i < out->npages; i++) {
        NEED(5);
        int kind = p[o + 4];
        o += 5;
        if (kind == CLOG_PAGE_FULL) {
            NEED(out->page_size);
            o += out->page_size;
            continue;
        }
        if (kind == CLOG_PAGE_CELLS) {
            NEED(2);
            unsigned nref = (unsigned)p[o] | (unsigned)p[o + 1] << 8;
            o += 2;
            NEED((size_t)nref * 6);
            for (unsigned k = 0; k < nref; k++, o += 6) {
                size_t off = (size_t)p[o] | (size_t)p[o + 1] << 8;
                size_t at = get32(p + o + 2), len;
                if (cell_of(out, at, NULL, &len) < 0 || off + len > out->page_size)
                    goto bad;
            }
        } else if (kind != CLOG_PAGE_DELTA) {
            goto bad;
        }
        NEED(2);
        unsigned nr = (unsigned)p[o] | (unsigned)p[o + 1] << 8;
        o += 2;
        for (unsigned k = 0; k < nr; k++) {
            NEED(4);
            size_t off = (size_t)p[o] | (size_t)p[o + 1] << 8,
                   len = (size_t)p[o + 2] | (size_t)p[o + 3] << 8;
            o += 4;
            if (len == 0 || off + len > out->page_size)
                goto bad;
            NEED(len);
            o += len;
        }
    }
    if (o != n)
        goto bad;
    return 0;
#undef NEED
bad:
    os_free(out->names);
    out->names = NULL;
    os_free(out->changes_own);
    out->changes_own = NULL;
    return FOLIO_CORRUPT;
}

void clog_commit_page(const clog_commit *c, size_t *pos, uint32_t *pgno, const uint8_t **full,
                      const uint8_t **ranges, const uint8_t **cells)
{
    const uint8_t *q = c->pages + *pos;
    *pgno = get32(q);
    *full = *ranges = *cells = NULL;
    if (!c->delta) {
        *full = q + 4;
        *pos += 4 + (size_t)c->page_size;
        return;
    }
    if (q[4] == CLOG_PAGE_FULL) {
        *full = q + 5;
        *pos += 5 + (size_t)c->page_size;
        return;
    }
    size_t o = 5;
    if (q[4] == CLOG_PAGE_CELLS) {
        *cells = q + 5;
        o += 2 + 6 * (size_t)((unsigned)q[5] | (unsigned)q[6] << 8);
    } else {
        *ranges = q + 5;
    }
    unsigned nr = (unsigned)q[o] | (unsigned)q[o + 1] << 8;
    o += 2;
    for (unsigned k = 0; k < nr; k++)
        o += 4 + ((size_t)q[o + 2] | (size_t)q[o + 3] << 8);
    *pos += o;
}

void clog_delta_apply(uint8_t *page, const uint8_t *ranges)
{
    unsigned nr = (unsigned)ranges[0] | (unsigned)ranges[1] << 8;
    const uint8_t *q = ranges + 2;
    for (unsigned k = 0; k < nr; k++) {
        size_t off = (size_t)q[0] | (size_t)q[1] << 8, len = (size_t)q[2] | (size_t)q[3] << 8;
        memcpy(page + off, q + 4, len);
        q += 4 + len;
    }
}

void clog_cells_build(const clog_commit *c, const uint8_t *cells, uint8_t *page)
{
    memset(page, 0, c->page_size);
    unsigned nref = (unsigned)cells[0] | (unsigned)cells[1] << 8;
    const uint8_t *q = cells + 2;
    for (unsigned k = 0; k < nref; k++, q += 6) {
        size_t off = (size_t)q[0] | (size_t)q[1] << 8, len;
        bt_log_entry e;
        if (cell_of(c, get32(q + 2), &e, &len) < 0 || off + len > c->page_size)
            continue; /* (clog_commit_parse refused such a record) */
        uint8_t *d = page + off;
        d += fmt_varint_put(d, e.size);
        d += fmt_varint_put(d, (uint64_t)e.rowid);
        memcpy(d, c->changes + get32(q + 2) + sizeof e, (size_t)e.size);
    }
    clog_delta_apply(page, q);
}

void clog_ins_reset(clog_ins_index *x)
{
    x->n = 0;
    x->built = 0;
}

void clog_ins_free(clog_ins_index *x)
{
    os_free(x->v);
    os_free(x->slot);
    memset(x, 0, sizeof *x);
}

int clog_ins_add(clog_ins_index *x, int64_t rowid, uint32_t full_off, const uint8_t *payload,
                 uint64_t size)
{
    if (size > 65536)
        return 0; /* (never a cell whole on a page) */
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 1024;
        clog_ins *v = os_realloc(x->v, cap * sizeof *v);
        if (!v)
            return FOLIO_NOMEM;
        x->v = v;
        x->cap = cap;
    }
    x->v[x->n++] = (clog_ins){rowid, full_off, (uint32_t)size, payload};
    x->built = 0;
    return 0;
}

static size_t ins_hash(int64_t rowid, size_t nslot)
{
    uint64_t h = (uint64_t)rowid * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 32) & (nslot - 1);
}

static int ins_build(clog_ins_index *x)
{
    size_t want = 16;
    while (want < 2 * x->n)
        want *= 2;
    if (x->nslot < want) {
        uint32_t *s = os_realloc(x->slot, want * sizeof *s);
        if (!s)
            return FOLIO_NOMEM;
        x->slot = s;
        x->nslot = want;
    }
    memset(x->slot, 0, x->nslot * sizeof *x->slot);
    for (size_t i = 0; i < x->n; i++) {
        size_t h = ins_hash(x->v[i].rowid, x->nslot);
        while (x->slot[h])
            h = (h + 1) & (x->nslot - 1);
        x->slot[h] = (uint32_t)i + 1;
    }
    x->built = 1;
    return 0;
}

int clog_cells_make(clog_ins_index *x, const uint8_t *page, uint32_t pgno, uint32_t ps,
                    uint32_t usable, uint8_t *synth, uint8_t *out, size_t cap, size_t *out_n)
{
    *out_n = 0;
    size_t hdr = pgno == 1 ? 100 : 0;
    if (!x->n || ps > 65536 || usable > ps || page[hdr] != FMT_PAGE_TABLE_LEAF)
        return 0;
    if (!x->built) {
        int rc = ins_build(x);
        if (rc < 0)
            return rc;
    }
    unsigned ncells = fmt_get_u16(page + hdr + 3);
    size_t ptrs = hdr + 8;
    if (ptrs + 2 * (size_t)ncells > usable || cap < 2)
        return 0;
    uint32_t max_local = fmt_payload_max_local(usable, 1);
    memset(synth, 0, ps);
    size_t o = 2;
    unsigned nref = 0;
    for (unsigned i = 0; i < ncells; i++) {
        size_t off = fmt_get_u16(page + ptrs + 2 * i);
        if (off < ptrs + 2 * (size_t)ncells || off >= usable)
            continue;
        uint64_t size, rowid;
        int a = fmt_varint_get(page + off, page + usable, &size);
        int b = a ? fmt_varint_get(page + off + a, page + usable, &rowid) : 0;
        if (!b || size > max_local || size > usable - off - (size_t)(a + b) ||
            a != fmt_varint_len(size) || b != fmt_varint_len(rowid))
            continue;
        const uint8_t *pl = page + off + a + b;
        for (size_t h = ins_hash((int64_t)rowid, x->nslot); x->slot[h];
             h = (h + 1) & (x->nslot - 1)) {
            const clog_ins *in = &x->v[x->slot[h] - 1];
            if (in->rowid != (int64_t)rowid || in->size != size ||
                memcmp(in->payload, pl, (size_t)size) != 0)
                continue;
            if (cap - o < 6 || nref == 65535)
                return 0;
            out[o] = (uint8_t)off;
            out[o + 1] = (uint8_t)(off >> 8);
            put32(out + o + 2, in->full_off);
            o += 6;
            nref++;
            /* (as clog_cells_build will write it) */
            uint8_t *d = synth + off;
            d += fmt_varint_put(d, size);
            d += fmt_varint_put(d, rowid);
            memcpy(d, in->payload, (size_t)size);
            break;
        }
    }
    if (!nref)
        return 0;
    out[0] = (uint8_t)nref;
    out[1] = (uint8_t)(nref >> 8);
    size_t d = clog_delta_make(synth, page, ps, out + o, cap - o);
    if (!d || o + d >= ps)
        return 0;
    *out_n = o + d;
    return 0;
}

size_t clog_delta_make(const uint8_t *before, const uint8_t *after, uint32_t ps, uint8_t *out,
                       size_t cap)
{
    /* Ranges of differing bytes; two closer than 8 equal bytes are one. */
    if (cap < 2 || ps > 65535)
        return 0;
    size_t o = 2, i = 0;
    unsigned nr = 0;
    while (i < ps) {
        while (i + 64 <= ps && memcmp(before + i, after + i, 64) == 0)
            i += 64;
        while (i + 8 <= ps && memcmp(before + i, after + i, 8) == 0)
            i += 8;
        while (i < ps && before[i] == after[i])
            i++;
        if (i >= ps)
            break;
        size_t start = i, last = i;
        for (size_t j = i + 1; j < ps && j - last <= 8; j++)
            if (before[j] != after[j])
                last = j;
        size_t len = last + 1 - start;
        if (nr == 65535 || cap - o < 4 + len || o + 4 + len >= ps)
            return 0;
        out[o] = (uint8_t)start;
        out[o + 1] = (uint8_t)(start >> 8);
        out[o + 2] = (uint8_t)len;
        out[o + 3] = (uint8_t)(len >> 8);
        memcpy(out + o + 4, after + start, len);
        o += 4 + len;
        nr++;
        i = last + 1;
    }
    out[0] = (uint8_t)nr;
    out[1] = (uint8_t)(nr >> 8);
    return o;
}

void clog_commit_free(clog_commit *c)
{
    os_free(c->names);
    c->names = NULL;
    os_free(c->changes_own);
    c->changes_own = NULL;
}

/* ---- bases ---- */

static void base_hdr_encode(uint8_t *p, const clog_base_hdr *h)
{
    memset(p, 0, CLOG_BASE_HDR);
    memcpy(p, "FOLIOBAS", 8);
    put32(p + 8, CLOG_FORMAT);
    put32(p + 12, h->dbid);
    put64(p + 16, h->logid);
    put64(p + 24, h->version);
    put32(p + 32, h->page_size);
    put32(p + 36, h->npages);
    put64(p + 40, (uint64_t)h->time_us);
    put64(p + 56, clog_hash(0, p, 56));
}

struct clog_base_writer {
    os_file *f;
    char path[4200], tmp[4300], dir[4096];
    clog_base_hdr h;
    int codec;
    uint64_t off;
    uint8_t *buf; /* CLOG_BASE_CHUNK pages */
    uint32_t first, count, next;
    uint64_t all; /* hash of the chunk hashes */
    int rc;
};

int clog_base_create(clog_base_writer **out, const char *dir, const clog_manifest *m,
                     const clog_base_hdr *hdr, char *err, size_t errlen)
{
    *out = NULL;
    clog_base_writer *w = os_calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return FOLIO_NOMEM;
    }
    w->h = *hdr;
    w->codec = m->codec;
    w->next = 1;
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    snprintf(w->path, sizeof w->path, "%s/%020" PRIu64 ".base", dir, hdr->version);
    snprintf(w->tmp, sizeof w->tmp, "%s-tmp", w->path);
    w->buf = os_malloc((size_t)CLOG_BASE_CHUNK * hdr->page_size);
    os_vfs *vfs = os_vfs_current();
    int rc = w->buf ? vfs->open(vfs, w->tmp, OS_OPEN_CREATE, &w->f) : FOLIO_NOMEM;
    if (rc == 0)
        rc = vfs->truncate(w->f, 0);
    uint8_t h[CLOG_BASE_HDR];
    base_hdr_encode(h, hdr);
    if (rc == 0)
        rc = vfs->write(w->f, h, sizeof h, 0);
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot write it: %s", w->tmp, status_text(rc));
        clog_base_abort(w);
        return rc;
    }
    w->off = CLOG_BASE_HDR;
    *out = w;
    return 0;
}

static int base_flush(clog_base_writer *w)
{
    uint8_t ch[CLOG_CHUNK_HDR];
    memset(ch, 0, sizeof ch);
    size_t raw = (size_t)w->count * w->h.page_size;
    uint64_t hh = clog_hash(w->first, w->buf, raw);
    uint8_t *st = NULL;
    size_t sn = 0;
    int codec = CLOG_RAW, rc = 0;
    if (w->count && (rc = clog_compress(w->codec, w->buf, raw, &st, &sn, &codec)) < 0)
        return rc;
    put32(ch, (uint32_t)sn);
    ch[4] = (uint8_t)codec;
    put32(ch + 8, w->first);
    put32(ch + 12, w->count);
    put64(ch + 16, w->count ? hh : w->all);
    w->all = clog_hash(w->all, ch + 16, 8);
    os_vfs *vfs = os_vfs_current();
    rc = vfs->write(w->f, ch, sizeof ch, w->off);
    if (rc == 0 && sn)
        rc = vfs->write(w->f, st, sn, w->off + CLOG_CHUNK_HDR);
    os_free(st);
    w->off += CLOG_CHUNK_HDR + sn;
    w->first += w->count;
    w->count = 0;
    return rc;
}

int clog_base_add(clog_base_writer *w, uint32_t pgno, const uint8_t *page)
{
    if (w->rc < 0)
        return w->rc;
    if (pgno != w->next)
        return w->rc = FOLIO_MISUSE;
    if (w->count == 0)
        w->first = pgno;
    memcpy(w->buf + (size_t)w->count * w->h.page_size, page, w->h.page_size);
    w->count++;
    w->next++;
    if (w->count == CLOG_BASE_CHUNK)
        w->rc = base_flush(w);
    return w->rc;
}

int clog_base_finish(clog_base_writer *w, char *err, size_t errlen)
{
    int rc = w->rc;
    if (rc == 0 && w->next != w->h.npages + 1)
        rc = FOLIO_MISUSE;
    if (rc == 0 && w->count)
        rc = base_flush(w);
    if (rc == 0)
        rc = base_flush(w); /* the last chunk: 0 pages, every chunk's hash */
    os_vfs *vfs = os_vfs_current();
    if (rc == 0)
        rc = vfs->sync(w->f);
    if (rc == 0) {
        vfs->close(w->f);
        w->f = NULL;
        rc = vfs->rename(vfs, w->tmp, w->path);
    }
    if (rc == 0)
        rc = clog_sync_dir(w->dir);
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot write it: %s", w->tmp, status_text(rc));
        clog_base_abort(w);
        return rc;
    }
    os_free(w->buf);
    os_free(w);
    return 0;
}

void clog_base_abort(clog_base_writer *w)
{
    if (!w)
        return;
    os_vfs *vfs = os_vfs_current();
    if (w->f)
        vfs->close(w->f);
    vfs->remove(vfs, w->tmp);
    os_free(w->buf);
    os_free(w);
}

struct clog_base_reader {
    os_file *f;
    char path[4200];
    clog_base_hdr h;
    uint64_t off, size;
    uint32_t next;
    uint64_t all;
    uint8_t *stored, *raw;
    size_t stored_cap;
};

int clog_base_open(clog_base_reader **out, const char *path, const clog_manifest *m,
                   clog_base_hdr *hdr, char *err, size_t errlen)
{
    *out = NULL;
    clog_base_reader *b = os_calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return FOLIO_NOMEM;
    }
    snprintf(b->path, sizeof b->path, "%s", path);
    os_vfs *vfs = os_vfs_current();
    int rc = vfs->open(vfs, path, OS_OPEN_READONLY, &b->f);
    if (rc == 0)
        rc = vfs->size(b->f, &b->size);
    uint8_t h[CLOG_BASE_HDR];
    if (rc == 0 && b->size < CLOG_BASE_HDR)
        rc = FOLIO_CORRUPT;
    if (rc == 0)
        rc = vfs->read(b->f, h, sizeof h, 0, NULL);
    if (rc == 0 && (memcmp(h, "FOLIOBAS", 8) != 0 || get32(h + 8) != CLOG_FORMAT ||
                    get64(h + 56) != clog_hash(0, h, 56)))
        rc = FOLIO_CORRUPT;
    if (rc < 0) {
        snprintf(err, errlen, "%s at offset 0: %s", path,
                 rc == FOLIO_CORRUPT ? "not a valid base" : status_text(rc));
        clog_base_close(b);
        return rc;
    }
    b->h.dbid = get32(h + 12);
    b->h.logid = get64(h + 16);
    b->h.version = get64(h + 24);
    b->h.page_size = get32(h + 32);
    b->h.npages = get32(h + 36);
    b->h.time_us = (int64_t)get64(h + 40);
    if (m && (b->h.dbid != m->dbid || b->h.logid != m->logid)) {
        snprintf(err, errlen, "%s at offset 0: the base belongs to another log", path);
        clog_base_close(b);
        return FOLIO_CORRUPT;
    }
    if (b->h.page_size < 512 || b->h.page_size > 65536 || (b->h.page_size & (b->h.page_size - 1))) {
        snprintf(err, errlen, "%s at offset 0: not a valid base", path);
        clog_base_close(b);
        return FOLIO_CORRUPT;
    }
    b->raw = os_malloc((size_t)CLOG_BASE_CHUNK * b->h.page_size);
    if (!b->raw) {
        snprintf(err, errlen, "out of memory");
        clog_base_close(b);
        return FOLIO_NOMEM;
    }
    b->off = CLOG_BASE_HDR;
    b->next = 1;
    *hdr = b->h;
    *out = b;
    return 0;
}

int clog_base_next(clog_base_reader *b, uint32_t *first, uint32_t *count, const uint8_t **pages,
                   char *err, size_t errlen)
{
    os_vfs *vfs = os_vfs_current();
    uint8_t ch[CLOG_CHUNK_HDR];
    uint64_t at = b->off;
    int rc = b->size - b->off < CLOG_CHUNK_HDR ? FOLIO_CORRUPT
                                               : vfs->read(b->f, ch, sizeof ch, b->off, NULL);
    if (rc < 0)
        goto fail;
    uint32_t sn = get32(ch), f = get32(ch + 8), n = get32(ch + 12);
    uint64_t hh = get64(ch + 16);
    int codec = ch[4];
    if (n == 0) {
        if (hh != b->all || b->next != b->h.npages + 1 || sn != 0) {
            rc = FOLIO_CORRUPT;
            goto fail;
        }
        return 0;
    }
    if (f != b->next || n > CLOG_BASE_CHUNK || f - 1 + (uint64_t)n > b->h.npages ||
        sn > b->size - b->off - CLOG_CHUNK_HDR) {
        rc = FOLIO_CORRUPT;
        goto fail;
    }
    b->all = clog_hash(b->all, ch + 16, 8);
    if ((rc = grow(&b->stored, &b->stored_cap, sn)) < 0)
        goto fail;
    if ((rc = vfs->read(b->f, b->stored, sn, b->off + CLOG_CHUNK_HDR, NULL)) < 0)
        goto fail;
    size_t raw = (size_t)n * b->h.page_size;
    if ((rc = clog_expand(codec, b->stored, sn, b->raw, raw)) < 0 ||
        clog_hash(f, b->raw, raw) != hh) {
        rc = FOLIO_CORRUPT;
        goto fail;
    }
    b->off += CLOG_CHUNK_HDR + sn;
    b->next += n;
    *first = f;
    *count = n;
    *pages = b->raw;
    return 1;
fail:
    if (rc == FOLIO_NOMEM)
        snprintf(err, errlen, "out of memory");
    else
        snprintf(err, errlen, "%s at offset %" PRIu64 ": %s", b->path, at,
                 rc == FOLIO_CORRUPT ? "the base is damaged or cut short" : status_text(rc));
    return rc;
}

void clog_base_close(clog_base_reader *b)
{
    if (!b)
        return;
    if (b->f)
        os_vfs_current()->close(b->f);
    os_free(b->stored);
    os_free(b->raw);
    os_free(b);
}
