/*
 * backup.c - online backup: one snapshot of the database copied into a new
 * file, made durable and verified before it takes its name.
 *
 * The copy is made from a read transaction of the handle, so it is one
 * version of the database, and it never restarts: writers go on
 * committing meanwhile (the snapshot's read mark only keeps checkpoints
 * from copying frames past it into the file).
 *
 *   (1) DEST must not exist. The copy is written to "<DEST>-backup" (a
 *       stale one, left by a crash, is removed first).
 *   (2) Pages are copied in chunks of BACKUP_CHUNK_BYTES, in page order.
 *       The pages the snapshot reads from the database file (ptxn_page_frames
 *       gives them frame 0) cannot change while it lives: runs of them are
 *       written straight from the snapshot's map of the file
 *       (ptxn_file_map), or, past the map or without one, read into a buffer
 *       with one read a run (ptxn_read_file_pages). Pages with a WAL frame
 *       in the snapshot come through the pager (pager_get) into the buffer.
 *       A 64-bit hash of every byte written is kept.
 *   (3) Page 1 of the copy is the snapshot's but for three things: folio's
 *       version stamp (bytes 72..91) names the snapshot's version as the
 *       end of a checkpointed state (FMT_VSTAMP_END, no WAL generation:
 *       the copy has no WAL), with the source's database identity (a new
 *       one if the source has no stamp); the page count at 28 is the
 *       copy's; version-valid-for at 92 equals the change counter, so that
 *       SQLite trusts that count. The copy is a whole database in its
 *       file: it needs no -wal or -shm.
 *       Every BACKUP_WRITEBACK_BYTES written, the disk is told to start
 *       writing them (start_writeback), so that the sync in (4) finds
 *       little left to do.
 *   (4) The snapshot ends as soon as the last page is copied. Then three
 *       threads: one syncs the copy (whatever the handle's sync level); one
 *       opens it read-only and checks it (folio_check_ex: the quick,
 *       structural check by default, the full one on request); the calling
 *       thread reads it back and hashes it again (the two hashes and the
 *       size must agree). Any problem, or a failed sync, fails the backup.
 *       The two together verify the copy: the checksum that its file holds
 *       exactly the bytes read from the snapshot, the check that those
 *       bytes make a sound database. The full check adds what only tells
 *       about the records themselves, which the checksum already proves
 *       are the snapshot's.
 *   (5) Only then is it renamed to DEST (never over a file that appeared
 *       meanwhile) and DEST's directory synced. Any failure removes the
 *       copy: a crash leaves DEST whole or absent (at worst a stale
 *       "<DEST>-backup", which the next backup to DEST removes).
 */
#include "db/copyhash.h"
#include "db/db_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Pages are copied this many bytes at a time (or one page, if larger). */
#define BACKUP_CHUNK_BYTES (1u << 20)
/* Writeback of the copy is started every this many bytes written. */
#define BACKUP_WRITEBACK_BYTES (8u << 20)

/* ---- the backup ---- */

typedef struct backup {
    folio_db *db;
    os_vfs *vfs;
    folio_txn *txn; /* the snapshot copied (NULL once ended) */
    char *tmp;      /* "<dest>-backup" */
    os_file *out;
    uint32_t page_size, npages;
    uint32_t chunk; /* pages a chunk */
    uint8_t *buf;
    uint32_t *frames;
    const uint8_t *map; /* the snapshot's map of the database file, or NULL */
    uint32_t map_pages;
    uint64_t version;
    uint64_t hash;   /* of what was written */
    int check;       /* FOLIO_CHECK_QUICK or FOLIO_CHECK_FULL */
    uint64_t kicked; /* bytes of the copy handed to writeback so far */
    char err[512];
    void (*progress)(void *arg, uint64_t done, uint64_t total);
    void *arg;
} backup;

static int bk_errf(backup *b, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int bk_errf(backup *b, int rc, const char *fmt, ...)
{
    if (!b->err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->err, sizeof b->err, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* The pager transaction's message for a failure of the snapshot's reads. */
static int bk_src_fail(backup *b, int rc)
{
    const char *m = ptxn_errmsg(b->txn->pt);
    return bk_errf(b, rc, "%s", m[0] ? m : folio_strerror(rc));
}

static char *path_plus(const char *path, const char *suffix)
{
    size_t a = strlen(path), n = strlen(suffix);
    char *s = os_malloc(a + n + 1);
    if (s) {
        memcpy(s, path, a);
        memcpy(s + a, suffix, n + 1);
    }
    return s;
}

/* Remove the copy's file, and the -wal and -shm its check may leave. */
static int remove_copy(os_vfs *vfs, const char *tmp)
{
    static const char *const suffixes[] = {"-wal", "-shm", ""};
    int rc = 0;
    for (int i = 0; i < 3; i++) {
        char *p = path_plus(tmp, suffixes[i]);
        if (!p)
            return FOLIO_NOMEM;
        int r = vfs->remove(vfs, p);
        if (r < 0 && rc == 0)
            rc = r;
        os_free(p);
    }
    return rc;
}

static void report(backup *b, uint64_t done)
{
    if (b->progress)
        b->progress(b->arg, done, 2 * (uint64_t)b->npages);
}

/* A database identity for a source that has none: it only has to differ
 * between databases. */
static uint32_t new_dbid(backup *b)
{
    static uint64_t counter;
    uint64_t x = b->vfs->now_ms(b->vfs) ^ ((uint64_t)(uintptr_t)b << 17) ^
                 (__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * HASH_K2);
    for (int i = 0; i < 2; i++) {
        x ^= x >> 32;
        x *= HASH_K1;
    }
    uint32_t id = (uint32_t)(x >> 32);
    return id ? id : 1;
}

/* Page 1 of the copy: see (3) above. */
static void stamp_page1(backup *b, uint8_t *page1)
{
    fmt_vstamp old, st;
    if (fmt_vstamp_decode(page1, &old) < 0)
        old.dbid = new_dbid(b);
    memset(&st, 0, sizeof st);
    st.version = b->version;
    st.flags = FMT_VSTAMP_END;
    st.dbid = old.dbid;
    fmt_vstamp_encode(page1, &st);
    fmt_put_u32(page1 + FMT_DBHDR_PAGE_COUNT, b->npages);
    fmt_put_u32(page1 + FMT_DBHDR_VALID_FOR, fmt_get_u32(page1 + FMT_DBHDR_CHANGE_COUNTER));
}

/* Pages first..first+n-1 of the copy, from `data`: hashed and written. */
static int put_run(backup *b, bk_hash *h, const uint8_t *data, uint32_t first, uint32_t n)
{
    size_t len = (size_t)n * b->page_size;
    uint64_t off = (uint64_t)(first - 1) * b->page_size;
    hash_update(h, data, len);
    int rc = b->vfs->write(b->out, data, len, off);
    if (rc < 0)
        return bk_errf(b, rc, "cannot write %s: %s", b->tmp, folio_strerror(rc));
    /* The disk starts on what is written while the copy goes on, so that
     * the sync at the end has little left to wait for. */
    uint64_t end = off + len;
    if (b->vfs->start_writeback && end - b->kicked >= BACKUP_WRITEBACK_BYTES) {
        b->vfs->start_writeback(b->out, b->kicked, end - b->kicked);
        b->kicked = end;
    }
    return 0;
}

/* Whether page first+i of the chunk is written straight from the map of
 * the database file (page 1 never is: the copy's differs). */
static int in_place(const backup *b, uint32_t first, uint32_t i)
{
    return b->frames[i] == 0 && first + i != 1 && first + i <= b->map_pages;
}

/* Pages first..first+n-1 of the snapshot into the copy, in page order:
 * runs of pages the map holds straight from it, the others gathered in
 * b->buf (runs of file pages read at once, WAL pages through the pager). */
static int copy_chunk(backup *b, bk_hash *h, uint32_t first, uint32_t n)
{
    ptxn *t = b->txn->pt;
    uint32_t ps = b->page_size;
    int rc = 0;
    ptxn_page_frames(t, first, n, b->frames);
    for (uint32_t i = 0; i < n && rc >= 0;) {
        uint32_t j = i + 1;
        if (in_place(b, first, i)) {
            while (j < n && in_place(b, first, j))
                j++;
            rc = put_run(b, h, b->map + (size_t)(first + i - 1) * ps, first + i, j - i);
            i = j;
            continue;
        }
        for (j = i; j < n && !in_place(b, first, j);) {
            uint8_t *dst = b->buf + (size_t)(j - i) * ps;
            if (b->frames[j] == 0) {
                uint32_t k = j + 1;
                while (k < n && b->frames[k] == 0 && !in_place(b, first, k))
                    k++;
                if ((rc = ptxn_read_file_pages(t, first + j, k - j, dst)) < 0)
                    return bk_src_fail(b, rc);
                j = k;
            } else {
                pg *p;
                if ((rc = pager_get(&p, t, first + j)) < 0)
                    return bk_src_fail(b, rc);
                memcpy(dst, p->data, ps);
                pager_unref(p);
                j++;
            }
        }
        if (first + i == 1)
            stamp_page1(b, b->buf);
        rc = put_run(b, h, b->buf, first + i, j - i);
        i = j;
    }
    return rc;
}

/* (2) and (3): every page of the snapshot into the copy's file. */
static int copy_pages(backup *b)
{
    bk_hash h;
    hash_init(&h);
    b->map = ptxn_file_map(b->txn->pt, &b->map_pages);
    for (uint32_t first = 1; first <= b->npages;) {
        uint32_t n = b->npages - first + 1 < b->chunk ? b->npages - first + 1 : b->chunk;
        if (b->txn->deadline_ms && db_txn_expired(b->txn) < 0)
            return bk_errf(b, FOLIO_TIMEOUT,
                           "the backup ran past txn_timeout_ms (%u ms), which bounds how long "
                           "it may hold its snapshot",
                           b->db->opts.txn_timeout_ms);
        int rc = copy_chunk(b, &h, first, n);
        if (rc < 0)
            return rc;
        first += n;
        report(b, first - 1);
    }
    b->map = NULL; /* (the snapshot's: it goes with it) */
    b->hash = hash_final(&h);
    return 0;
}

/* (4): the copy's file holds what was written, byte for byte. */
static int read_back(backup *b)
{
    uint64_t size;
    int rc = b->vfs->size(b->out, &size);
    if (rc < 0)
        return bk_errf(b, rc, "cannot read the size of %s: %s", b->tmp, folio_strerror(rc));
    if (size != (uint64_t)b->npages * b->page_size)
        return bk_errf(
            b, FOLIO_IOERR, "backup verification failed: %s has %llu bytes, not the %llu written",
            b->tmp, (unsigned long long)size, (unsigned long long)b->npages * b->page_size);
    bk_hash h;
    hash_init(&h);
    /* Through a map of the file when the vfs has one (no copy), else by
     * reads. */
    void *m = NULL;
    if (size && b->vfs->map_file && b->vfs->map_file(b->out, size, &m) < 0)
        m = NULL;
    for (uint32_t first = 1; first <= b->npages;) {
        uint32_t n = b->npages - first + 1 < b->chunk ? b->npages - first + 1 : b->chunk;
        size_t len = (size_t)n * b->page_size;
        uint64_t off = (uint64_t)(first - 1) * b->page_size;
        if (m) {
            hash_update(&h, (const uint8_t *)m + off, len);
        } else {
            if ((rc = b->vfs->read(b->out, b->buf, len, off, NULL)) < 0)
                return bk_errf(b, rc, "cannot read %s back: %s", b->tmp, folio_strerror(rc));
            hash_update(&h, b->buf, len);
        }
        first += n;
        report(b, (uint64_t)b->npages + first - 1);
    }
    if (m)
        b->vfs->unmap_file(m, size);
    if (hash_final(&h) != b->hash)
        return bk_errf(b, FOLIO_IOERR,
                       "backup verification failed: %s does not read back as written "
                       "(checksum mismatch)",
                       b->tmp);
    return 0;
}

typedef struct check_note {
    char first[300];
    int n;
} check_note;

static int check_cb(void *arg, const char *msg)
{
    check_note *c = arg;
    if (c->n++ == 0)
        snprintf(c->first, sizeof c->first, "%s", msg);
    return 0;
}

/* (4): the integrity check of the copy (quick or full), opened read-only.
 * It runs in a thread of its own: its message goes to `err`, not b->err. */
static int check_copy(backup *b, char *err, size_t errlen)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    o.cache_bytes = b->db->opts.cache_bytes;
    o.mmap_bytes = b->db->opts.mmap_bytes;
    folio_db *cdb;
    int rc = folio_open(&cdb, b->tmp, &o);
    if (rc < 0) {
        snprintf(err, errlen, "backup verification failed: cannot open %s: %s", b->tmp,
                 folio_open_errmsg());
        return rc;
    }
    folio_txn *t;
    check_note note = {"", 0};
    if ((rc = folio_begin(&t, cdb, FOLIO_TXN_READ)) < 0) {
        snprintf(err, errlen, "backup verification failed: %s: %s", b->tmp, folio_errmsg(cdb));
    } else {
        rc = folio_check_ex(t, b->check, check_cb, &note, 10);
        if (rc < 0 && note.n)
            snprintf(err, errlen, "backup verification failed: %s: %s%s", b->tmp, note.first,
                     note.n > 1 ? " (and more)" : "");
        else if (rc < 0)
            snprintf(err, errlen, "backup verification failed: %s: %s", b->tmp, folio_errmsg(cdb));
        if (rc < 0 && note.n)
            rc = FOLIO_CORRUPT;
        folio_rollback(t);
    }
    int crc = folio_close(cdb);
    if (rc >= 0 && crc < 0) {
        snprintf(err, errlen, "backup verification failed: cannot close %s: %s", b->tmp,
                 folio_strerror(crc));
        rc = crc;
    }
    return rc;
}

typedef struct sync_job {
    os_vfs *vfs;
    os_file *f;
    int rc;
} sync_job;

static void *sync_main(void *arg)
{
    sync_job *j = arg;
    j->rc = j->vfs->sync(j->f);
    return NULL;
}

typedef struct check_job {
    backup *b;
    int rc;
    char err[512];
} check_job;

static void *check_main(void *arg)
{
    check_job *j = arg;
    j->rc = j->b->npages ? check_copy(j->b, j->err, sizeof j->err) : 0;
    return NULL;
}

/* (4): three things at once, each in a thread of its own: the sync, which
 * waits for the disk; the check of the copy; and the read back and its
 * checksum (in the calling thread, which reports progress). They read the
 * copy from the kernel's cache, so the backup takes about the longest of
 * the three, not their sum. */
static int verify_copy(backup *b)
{
    sync_job job = {b->vfs, b->out, 0};
    check_job cj = {b, 0, ""};
    pthread_t sth, cth;
    int synced = pthread_create(&sth, NULL, sync_main, &job) == 0;
    if (!synced)
        sync_main(&job);
    int checked = pthread_create(&cth, NULL, check_main, &cj) == 0;
    int rc = read_back(b);
    if (!checked && rc >= 0)
        check_main(&cj);
    if (checked)
        pthread_join(cth, NULL);
    if (synced)
        pthread_join(sth, NULL);
    /* The first failure's message stays: the read back's, the check's, then
     * the sync's. */
    if (rc >= 0 && cj.rc < 0) {
        bk_errf(b, cj.rc, "%s", cj.err[0] ? cj.err : folio_strerror(cj.rc));
        rc = cj.rc;
    }
    if (job.rc < 0) {
        bk_errf(b, job.rc, "cannot sync %s: %s", b->tmp, folio_strerror(job.rc));
        return rc < 0 ? rc : job.rc;
    }
    return rc;
}

static void end_snapshot(backup *b)
{
    if (b->txn)
        folio_rollback(b->txn);
    b->txn = NULL;
}

static int run_backup(backup *b, const char *dest)
{
    folio_db *db = b->db;
    int rc = b->vfs->exists(b->vfs, dest);
    if (rc != 0)
        return bk_errf(b, rc < 0 ? rc : FOLIO_ERROR, "%s",
                       rc < 0 ? "cannot tell whether the output file exists"
                              : "output file already exists");
    if (!b->vfs->rename)
        return bk_errf(b, FOLIO_UNSUPPORTED, "%s", "backup needs a file system that can rename");
    if (!(b->tmp = path_plus(dest, "-backup")))
        return bk_errf(b, FOLIO_NOMEM, "%s", "out of memory");
    if ((rc = remove_copy(b->vfs, b->tmp)) < 0) /* left by a crash */
        return bk_errf(b, rc, "cannot remove the stale temporary file %s", b->tmp);
    if ((rc = folio_begin(&b->txn, db, FOLIO_TXN_READ)) < 0) {
        b->txn = NULL;
        return bk_errf(b, rc, "%s", folio_errmsg(db));
    }
    ptxn *t = b->txn->pt;
    if ((rc = folio_txn_version(b->txn, &b->version)) < 0)
        return bk_errf(b, rc, "%s", folio_errmsg(db));
    b->npages = ptxn_npages(t);
    b->page_size = b->npages ? ptxn_header(t)->page_size : pager_page_size(db->pager);
    b->chunk = b->page_size >= BACKUP_CHUNK_BYTES ? 1 : BACKUP_CHUNK_BYTES / b->page_size;
    b->buf = os_malloc((size_t)b->chunk * b->page_size);
    b->frames = os_malloc(b->chunk * sizeof *b->frames);
    if (!b->buf || !b->frames)
        return bk_errf(b, FOLIO_NOMEM, "%s", "out of memory");
    if ((rc = b->vfs->open(b->vfs, b->tmp, OS_OPEN_CREATE, &b->out)) < 0) {
        b->out = NULL;
        return bk_errf(b, rc, "cannot create %s: %s", b->tmp, folio_strerror(rc));
    }
    /* (A file left at its name now would be removed by the next backup;
     * it is removed on every failure below.) */
    if ((rc = b->vfs->truncate(b->out, 0)) < 0)
        return bk_errf(b, rc, "cannot truncate %s: %s", b->tmp, folio_strerror(rc));
    report(b, 0);
    if ((rc = copy_pages(b)) < 0)
        return rc;
    end_snapshot(b);
    if ((rc = verify_copy(b)) < 0)
        return rc;
    rc = b->vfs->close(b->out);
    b->out = NULL;
    if (rc < 0)
        return bk_errf(b, rc, "cannot close %s: %s", b->tmp, folio_strerror(rc));
    /* The check's -wal and -shm, if it left any: the copy stands alone. */
    for (int i = 0; i < 2; i++) {
        char *p = path_plus(b->tmp, i ? "-shm" : "-wal");
        if (!p)
            return bk_errf(b, FOLIO_NOMEM, "%s", "out of memory");
        rc = b->vfs->remove(b->vfs, p);
        os_free(p);
        if (rc < 0)
            return bk_errf(b, rc, "cannot remove the check's files beside %s", b->tmp);
    }
    rc = b->vfs->rename(b->vfs, b->tmp, dest);
    if (rc == 1)
        return bk_errf(b, FOLIO_ERROR, "%s", "output file already exists");
    if (rc < 0)
        return bk_errf(b, rc, "cannot rename the new file to %s: %s", dest, folio_strerror(rc));
    if ((rc = b->vfs->sync_dir(b->vfs, dest)) < 0) {
        /* DEST may not last: it goes, so that the error leaves none. */
        b->vfs->remove(b->vfs, dest);
        return bk_errf(b, rc, "cannot sync the directory of %s: %s", dest, folio_strerror(rc));
    }
    report(b, 2 * (uint64_t)b->npages);
    return 0;
}

int folio_backup_ex(folio_db *db, const char *dest, int check, uint64_t *out_version,
                    void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg)
{
    if (!db)
        return FOLIO_MISUSE;
    FOLIO_CHECK_ARG(db, dest != NULL && dest[0] != 0);
    FOLIO_CHECK_ARG(db, check == 0 || check == FOLIO_CHECK_QUICK || check == FOLIO_CHECK_FULL);
    backup b;
    memset(&b, 0, sizeof b);
    b.db = db;
    b.check = check ? check : FOLIO_CHECK_QUICK;
    b.vfs = os_vfs_current();
    b.progress = progress;
    b.arg = arg;
    int rc = run_backup(&b, dest);
    end_snapshot(&b);
    if (b.out)
        b.vfs->close(b.out);
    if (rc < 0 && b.tmp)
        remove_copy(b.vfs, b.tmp);
    os_free(b.tmp);
    os_free(b.buf);
    os_free(b.frames);
    if (rc < 0)
        return db_err(db, rc, "%s", b.err[0] ? b.err : folio_strerror(rc));
    if (out_version)
        *out_version = b.version;
    return FOLIO_OK;
}

int folio_backup_progress(folio_db *db, const char *dest, uint64_t *out_version,
                          void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg)
{
    return folio_backup_ex(db, dest, 0, out_version, progress, arg);
}

int folio_backup(folio_db *db, const char *dest, uint64_t *out_version)
{
    return folio_backup_ex(db, dest, 0, out_version, NULL, NULL);
}
