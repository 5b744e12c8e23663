/*
 * os_fault.c - the fault-injecting vfs (see os_fault.h).
 *
 * Per path, the vfs keeps a log of unsynced changes: for each write the
 * offset, the new bytes and the bytes it replaced (and the file size before
 * it); for each truncate the size before and the bytes cut off. A sync of
 * the file empties its log. A simulated power loss plays the log backwards
 * to recover the last synced image, then replays a random subset of the
 * logged writes (optionally shuffled and torn at 512-byte sectors).
 */
#include "os/os_fault.h"
#include "folio.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct change {
    int is_truncate;
    uint64_t off; /* write offset, or new size for a truncate */
    uint64_t n;   /* bytes written, or bytes cut off */
    uint8_t *new_bytes;
    uint8_t *old_bytes;   /* replaced bytes (n, or fewer where the file was shorter) */
    uint64_t old_n;       /* how many bytes of the range existed before */
    uint64_t size_before; /* file size before the change */
} change;

typedef struct tracked {
    char *path;
    change *log;
    size_t n, cap;
    struct tracked *next;
} tracked;

typedef struct fault_rule {
    long countdown; /* 0 = off */
    int rc;
    int sticky;
    int short_write;
    int fired;
} fault_rule;

struct os_fault {
    os_vfs vfs;
    os_vfs *base;
    pthread_mutex_t mu;
    long counts[OSF_NKINDS];
    fault_rule rules[OSF_NKINDS];
    long crash_countdown;
    int crashed;
    tracked *files;
};

typedef struct fault_file {
    os_file base;
    os_file *real;
    os_fault *f;
    tracked *tr;
} fault_file;

static tracked *track(os_fault *f, const char *path)
{
    for (tracked *t = f->files; t; t = t->next)
        if (strcmp(t->path, path) == 0)
            return t;
    tracked *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->path = strdup(path);
    if (!t->path) {
        free(t);
        return NULL;
    }
    t->next = f->files;
    f->files = t;
    return t;
}

static void log_clear(tracked *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->log[i].new_bytes);
        free(t->log[i].old_bytes);
    }
    t->n = 0;
}

static int log_push(tracked *t, const change *c)
{
    if (t->n == t->cap) {
        size_t n = t->cap ? t->cap * 2 : 64;
        change *v = realloc(t->log, n * sizeof *v);
        if (!v)
            return FOLIO_NOMEM;
        t->log = v;
        t->cap = n;
    }
    t->log[t->n++] = *c;
    return 0;
}

/* Count an operation and decide whether it fails. Returns 0 or an error;
 * *short_write is set when a failing write should write half first. */
static int gate(os_fault *f, int kind, int *short_write)
{
    int rc = 0;
    pthread_mutex_lock(&f->mu);
    f->counts[kind]++;
    f->counts[OSF_ANY]++;
    if (f->crashed) {
        rc = FOLIO_IOERR;
    } else if ((kind == OSF_WRITE || kind == OSF_SYNC || kind == OSF_TRUNCATE) &&
               f->crash_countdown > 0 && --f->crash_countdown == 0) {
        f->crashed = 1;
        rc = FOLIO_IOERR;
    }
    int kinds[2] = {kind, OSF_ANY};
    for (int k = 0; k < 2 && rc == 0; k++) {
        fault_rule *r = &f->rules[kinds[k]];
        if (r->fired && r->sticky) {
            rc = r->rc;
        } else if (r->countdown > 0 && --r->countdown == 0) {
            r->fired = 1;
            rc = r->rc;
            if (short_write)
                *short_write = r->short_write;
        }
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static int ff_open(os_vfs *vfs, const char *path, int flags, os_file **out)
{
    os_fault *f = vfs->ctx;
    *out = NULL;
    int rc = gate(f, OSF_OPEN, NULL);
    if (rc < 0)
        return rc;
    fault_file *ff = calloc(1, sizeof *ff);
    if (!ff)
        return FOLIO_NOMEM;
    rc = f->base->open(f->base, path, flags, &ff->real);
    if (rc < 0) {
        free(ff);
        return rc;
    }
    ff->base.vfs = vfs;
    ff->f = f;
    pthread_mutex_lock(&f->mu);
    ff->tr = track(f, path);
    pthread_mutex_unlock(&f->mu);
    if (!ff->tr) {
        f->base->close(ff->real);
        free(ff);
        return FOLIO_NOMEM;
    }
    *out = &ff->base;
    return 0;
}

static int ff_close(os_file *file)
{
    fault_file *ff = (fault_file *)file;
    int rc = ff->f->base->close(ff->real);
    free(ff);
    return rc;
}

static int ff_read(os_file *file, void *buf, size_t n, uint64_t off, size_t *got)
{
    fault_file *ff = (fault_file *)file;
    int rc = gate(ff->f, OSF_READ, NULL);
    if (rc < 0)
        return rc;
    return ff->f->base->read(ff->real, buf, n, off, got);
}

static int ff_write(os_file *file, const void *buf, size_t n, uint64_t off)
{
    fault_file *ff = (fault_file *)file;
    os_fault *f = ff->f;
    int short_write = 0;
    int rc = gate(f, OSF_WRITE, &short_write);
    if (rc < 0 && !short_write)
        return rc;
    size_t nwrite = rc < 0 ? n / 2 : n;
    /* Log what the write replaces before doing it. */
    change c;
    memset(&c, 0, sizeof c);
    c.off = off;
    c.n = nwrite;
    int lrc = f->base->size(ff->real, &c.size_before);
    if (lrc == 0) {
        c.new_bytes = malloc(nwrite ? nwrite : 1);
        c.old_bytes = malloc(nwrite ? nwrite : 1);
        if (!c.new_bytes || !c.old_bytes)
            lrc = FOLIO_NOMEM;
    }
    if (lrc == 0) {
        memcpy(c.new_bytes, buf, nwrite);
        size_t got = 0;
        lrc = f->base->read(ff->real, c.old_bytes, nwrite, off, &got);
        c.old_n = got;
    }
    if (lrc < 0) {
        free(c.new_bytes);
        free(c.old_bytes);
        return lrc;
    }
    int wrc = f->base->write(ff->real, buf, nwrite, off);
    pthread_mutex_lock(&f->mu);
    if (wrc == 0 && log_push(ff->tr, &c) < 0)
        wrc = FOLIO_NOMEM;
    pthread_mutex_unlock(&f->mu);
    if (wrc < 0) {
        free(c.new_bytes);
        free(c.old_bytes);
        return wrc;
    }
    return rc;
}

static int ff_sync(os_file *file)
{
    fault_file *ff = (fault_file *)file;
    int rc = gate(ff->f, OSF_SYNC, NULL);
    if (rc < 0)
        return rc;
    rc = ff->f->base->sync(ff->real);
    if (rc == 0) {
        pthread_mutex_lock(&ff->f->mu);
        log_clear(ff->tr);
        pthread_mutex_unlock(&ff->f->mu);
    }
    return rc;
}

static int ff_size(os_file *file, uint64_t *out)
{
    fault_file *ff = (fault_file *)file;
    return ff->f->base->size(ff->real, out);
}

static int ff_truncate(os_file *file, uint64_t size)
{
    fault_file *ff = (fault_file *)file;
    os_fault *f = ff->f;
    int rc = gate(f, OSF_TRUNCATE, NULL);
    if (rc < 0)
        return rc;
    change c;
    memset(&c, 0, sizeof c);
    c.is_truncate = 1;
    c.off = size;
    if ((rc = f->base->size(ff->real, &c.size_before)) < 0)
        return rc;
    if (c.size_before > size) {
        c.n = c.size_before - size;
        c.old_bytes = malloc((size_t)c.n);
        if (!c.old_bytes)
            return FOLIO_NOMEM;
        size_t got = 0;
        if ((rc = f->base->read(ff->real, c.old_bytes, (size_t)c.n, size, &got)) < 0) {
            free(c.old_bytes);
            return rc;
        }
        c.old_n = got;
    }
    rc = f->base->truncate(ff->real, size);
    pthread_mutex_lock(&f->mu);
    if (rc == 0 && log_push(ff->tr, &c) < 0)
        rc = FOLIO_NOMEM;
    pthread_mutex_unlock(&f->mu);
    if (rc < 0)
        free(c.old_bytes);
    return rc;
}

static int ff_lock(os_file *file, int level)
{
    fault_file *ff = (fault_file *)file;
    int rc = gate(ff->f, OSF_LOCK, NULL);
    if (rc < 0 && level != OS_LOCK_NONE)
        return rc;
    return ff->f->base->lock(ff->real, level);
}

static int ff_lock_range(os_file *file, uint64_t off, uint64_t len, int type)
{
    fault_file *ff = (fault_file *)file;
    return ff->f->base->lock_range(ff->real, off, len, type);
}

/* The -shm is shared memory, not data: no faults, no crash log. Its file is
 * the base vfs's own, so every later call on it goes straight there. */
static int ff_shm_open(os_vfs *vfs, const char *path, int flags, os_file **out)
{
    os_fault *f = vfs->ctx;
    return f->base->shm_open(f->base, path, flags, out);
}

static int ff_lock_owner(os_file *file, uint64_t off, uint64_t len, int type, int64_t *out_pid)
{
    fault_file *ff = (fault_file *)file;
    return ff->f->base->lock_owner(ff->real, off, len, type, out_pid);
}

static int ff_remove(os_vfs *vfs, const char *path)
{
    os_fault *f = vfs->ctx;
    int rc = gate(f, OSF_TRUNCATE, NULL);
    if (rc < 0)
        return rc;
    rc = f->base->remove(f->base, path);
    if (rc == 0) {
        pthread_mutex_lock(&f->mu);
        for (tracked *t = f->files; t; t = t->next)
            if (strcmp(t->path, path) == 0)
                log_clear(t);
        pthread_mutex_unlock(&f->mu);
    }
    return rc;
}

/* A rename counts as a sync (a directory operation the crash tests may stop
 * at); the file's unsynced writes go with it to its new name. */
static int ff_rename(os_vfs *vfs, const char *from, const char *to)
{
    os_fault *f = vfs->ctx;
    int rc = gate(f, OSF_SYNC, NULL);
    if (rc < 0)
        return rc;
    if (!f->base->rename)
        return FOLIO_UNSUPPORTED;
    rc = f->base->rename(f->base, from, to);
    if (rc == 0) {
        pthread_mutex_lock(&f->mu);
        for (tracked *t = f->files; t; t = t->next)
            if (strcmp(t->path, to) == 0)
                log_clear(t); /* a file of that name before: gone */
        for (tracked *t = f->files; t; t = t->next) {
            if (strcmp(t->path, from) == 0) {
                char *np = strdup(to);
                if (np) {
                    free(t->path);
                    t->path = np;
                }
                break;
            }
        }
        pthread_mutex_unlock(&f->mu);
    }
    return rc;
}

static int ff_exists(os_vfs *vfs, const char *path)
{
    os_fault *f = vfs->ctx;
    return f->base->exists(f->base, path);
}

static int ff_sync_dir(os_vfs *vfs, const char *path)
{
    os_fault *f = vfs->ctx;
    int rc = gate(f, OSF_SYNC, NULL);
    if (rc < 0)
        return rc;
    return f->base->sync_dir(f->base, path);
}

static int ff_file_id(os_file *file, uint64_t out[2])
{
    fault_file *ff = (fault_file *)file;
    return ff->f->base->file_id(ff->real, out);
}

static int ff_path_id(os_vfs *vfs, const char *path, uint64_t out[3])
{
    os_fault *f = vfs->ctx;
    return f->base->path_id(f->base, path, out);
}

static uint64_t ff_now_ms(os_vfs *vfs)
{
    os_fault *f = vfs->ctx;
    return f->base->now_ms(f->base);
}

static void ff_sleep_ms(os_vfs *vfs, unsigned ms)
{
    os_fault *f = vfs->ctx;
    f->base->sleep_ms(f->base, ms);
}

os_fault *os_fault_new(os_vfs *base)
{
    os_fault *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->base = base ? base : os_vfs_posix();
    pthread_mutex_init(&f->mu, NULL);
    os_vfs v = {"fault",
                ff_open,
                ff_close,
                ff_read,
                ff_write,
                ff_sync,
                ff_size,
                ff_truncate,
                ff_lock,
                ff_lock_range,
                ff_remove,
                ff_exists,
                ff_sync_dir,
                ff_file_id,
                ff_path_id,
                ff_now_ms,
                ff_sleep_ms,
                f,
                NULL /* file_state: path_id does, through the fault gate */,
                NULL,
                NULL /* map_file: every read goes through the fault gate */,
                NULL,
                ff_shm_open,
                NULL /* shm_map: called on the base vfs's file */,
                NULL,
                ff_lock_owner,
                NULL /* start_writeback: only a hint */,
                ff_rename};
    f->vfs = v;
    return f;
}

void os_fault_free(os_fault *f)
{
    if (!f)
        return;
    tracked *t = f->files;
    while (t) {
        tracked *next = t->next;
        log_clear(t);
        free(t->log);
        free(t->path);
        free(t);
        t = next;
    }
    pthread_mutex_destroy(&f->mu);
    free(f);
}

os_vfs *os_fault_vfs(os_fault *f)
{
    return &f->vfs;
}

long os_fault_count(const os_fault *f, int kind)
{
    /* Other threads (a background checkpoint) may be counting meanwhile. */
    os_fault *m = (os_fault *)f;
    pthread_mutex_lock(&m->mu);
    long n = f->counts[kind];
    pthread_mutex_unlock(&m->mu);
    return n;
}

void os_fault_reset(os_fault *f)
{
    pthread_mutex_lock(&f->mu);
    memset(f->counts, 0, sizeof f->counts);
    memset(f->rules, 0, sizeof f->rules);
    f->crash_countdown = 0;
    f->crashed = 0;
    pthread_mutex_unlock(&f->mu);
}

void os_fault_fail(os_fault *f, int kind, long nth, int rc, int sticky, int short_write)
{
    pthread_mutex_lock(&f->mu);
    fault_rule *r = &f->rules[kind];
    r->countdown = nth;
    r->rc = rc;
    r->sticky = sticky;
    r->short_write = short_write;
    r->fired = 0;
    pthread_mutex_unlock(&f->mu);
}

void os_fault_crash_at(os_fault *f, long nth)
{
    pthread_mutex_lock(&f->mu);
    f->crash_countdown = nth;
    f->crashed = 0;
    pthread_mutex_unlock(&f->mu);
}

int os_fault_crashed(const os_fault *f)
{
    return f->crashed;
}

void os_fault_sync_all(os_fault *f)
{
    pthread_mutex_lock(&f->mu);
    for (tracked *t = f->files; t; t = t->next)
        log_clear(t);
    pthread_mutex_unlock(&f->mu);
}

static uint64_t mix(uint64_t *s)
{
    uint64_t x = (*s += 0x9e3779b97f4a7c15ull);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Undo the log of one file, then replay a random subset of its writes. */
static long crash_file(os_fault *f, tracked *t, uint64_t *rng, int tear, int reorder)
{
    if (t->n == 0)
        return 0;
    os_vfs *b = f->base;
    os_file *fh;
    int rc = b->open(b, t->path, 0, &fh);
    if (rc < 0)
        return 0; /* removed since: nothing to do */
    /* Back to the synced image. */
    for (size_t i = t->n; i-- > 0;) {
        change *c = &t->log[i];
        if (c->is_truncate) {
            if (c->old_n)
                b->write(fh, c->old_bytes, (size_t)c->old_n, c->off);
            if (c->size_before > c->off)
                b->truncate(fh, c->size_before);
        } else {
            if (c->old_n)
                b->write(fh, c->old_bytes, (size_t)c->old_n, c->off);
            b->truncate(fh, c->size_before);
        }
    }
    /* Choose the survivors among the writes (truncates are dropped or kept
     * as a whole, in order relative to nothing: keep them only when all
     * writes after them also survived is too strict; a dropped truncate is a
     * valid outcome and a kept one is applied where it falls). */
    size_t *order = malloc(sizeof *order * t->n);
    long dropped = 0;
    if (!order) {
        b->close(fh);
        return FOLIO_NOMEM;
    }
    for (size_t i = 0; i < t->n; i++)
        order[i] = i;
    if (reorder) {
        for (size_t i = t->n; i > 1; i--) {
            size_t j = (size_t)(mix(rng) % i);
            size_t x = order[i - 1];
            order[i - 1] = order[j];
            order[j] = x;
        }
    }
    for (size_t k = 0; k < t->n; k++) {
        change *c = &t->log[order[k]];
        int keep = (mix(rng) % 3) != 0; /* two in three survive */
        if (!keep) {
            dropped++;
            continue;
        }
        if (c->is_truncate) {
            b->truncate(fh, c->off);
            continue;
        }
        if (!tear || c->n <= 512) {
            b->write(fh, c->new_bytes, (size_t)c->n, c->off);
            continue;
        }
        /* Torn: each 512-byte sector of the file the write covers
         * survives or not on its own. */
        uint64_t pos = c->off, end = c->off + c->n;
        while (pos < end) {
            uint64_t next = (pos / 512 + 1) * 512;
            if (next > end)
                next = end;
            if (mix(rng) % 4 != 0)
                b->write(fh, c->new_bytes + (pos - c->off), (size_t)(next - pos), pos);
            pos = next;
        }
    }
    free(order);
    b->close(fh);
    log_clear(t);
    return dropped;
}

long os_fault_crash(os_fault *f, uint64_t seed, int tear, int reorder)
{
    uint64_t rng = seed ? seed : 1;
    long dropped = 0;
    pthread_mutex_lock(&f->mu);
    for (tracked *t = f->files; t; t = t->next) {
        long d = crash_file(f, t, &rng, tear, reorder);
        if (d < 0) {
            pthread_mutex_unlock(&f->mu);
            return d;
        }
        dropped += d;
    }
    f->crashed = 0;
    f->crash_countdown = 0;
    memset(f->rules, 0, sizeof f->rules);
    pthread_mutex_unlock(&f->mu);
    return dropped;
}
