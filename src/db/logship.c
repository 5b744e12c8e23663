/*
 * logship.c - folio_log_ship: copying a commit log into another directory
 * (an archive, a mounted remote disk) so that folio_restore reads it there.
 *
 * The manifest goes first, then the bases and segments in version order.
 * Each file is compared with the copy already there: the same bytes are
 * skipped; a copy that is a prefix of its source (a segment that grew) is
 * completed; anything else is copied again whole. Every file written goes
 * to a temporary name, is synced, and is renamed over the old copy (C's
 * rename replaces in one step), so a crash leaves each file of the copy
 * either as it was or complete as read; the directory is synced at the
 * end. A copy of the last segment taken while a writer appends ends with
 * what was there when read - at worst a record cut short, which a reader
 * takes for the end of the log, as after a crash.
 */
#include "db/commitlog.h"
#include "db/db_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/status.h"

#define SHIP_CHUNK ((size_t)1 << 20)

typedef struct ship_ctx {
    const char *dest;
    folio_log_ship_data st;
    uint8_t *a, *b; /* SHIP_CHUNK each */
    char err[1200];
} ship_ctx;

static int ship_err(ship_ctx *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int ship_err(ship_ctx *c, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return rc;
}

/* Whether the first `n` bytes of `src` and `dst` are the same: 1, 0, or an
 * error. */
static int same_prefix(ship_ctx *c, os_file *src, const char *src_path, os_file *dst,
                       const char *dst_path, uint64_t n)
{
    os_vfs *vfs = os_vfs_current();
    for (uint64_t off = 0; off < n;) {
        size_t k = n - off < SHIP_CHUNK ? (size_t)(n - off) : SHIP_CHUNK;
        size_t ga = 0, gb = 0;
        int rc = vfs->read(src, c->a, k, off, &ga);
        if (rc < 0)
            return ship_err(c, rc, "%s: cannot read it: %s", src_path, status_text(rc));
        if ((rc = vfs->read(dst, c->b, k, off, &gb)) < 0)
            return ship_err(c, rc, "%s: cannot read it: %s", dst_path, status_text(rc));
        if (ga != k || gb != k || memcmp(c->a, c->b, k) != 0)
            return 0;
        off += k;
    }
    return 1;
}

/* Append bytes [from, to) of `in` to `out` at `at`; stops early when `in`
 * turns out shorter (a writer cut its last record back meanwhile). Returns
 * the bytes copied, or an error. */
static int64_t copy_range(ship_ctx *c, os_file *in, const char *in_path, os_file *out,
                          const char *out_path, uint64_t from, uint64_t to, uint64_t at)
{
    os_vfs *vfs = os_vfs_current();
    uint64_t done = 0;
    while (from + done < to) {
        size_t k = to - from - done < SHIP_CHUNK ? (size_t)(to - from - done) : SHIP_CHUNK;
        size_t got = 0;
        int rc = vfs->read(in, c->a, k, from + done, &got);
        if (rc < 0)
            return ship_err(c, rc, "%s: cannot read it: %s", in_path, status_text(rc));
        if (got && (rc = vfs->write(out, c->a, got, at + done)) < 0)
            return ship_err(c, rc, "%s: cannot write it: %s", out_path, status_text(rc));
        done += got;
        if (got < k)
            break;
    }
    return (int64_t)done;
}

/* Ship the file `name` of `dir`. */
static int ship_file(ship_ctx *c, const char *dir, const char *name)
{
    os_vfs *vfs = os_vfs_current();
    char src_path[4200], dst_path[4200], tmp[4300];
    snprintf(src_path, sizeof src_path, "%s/%s", dir, name);
    snprintf(dst_path, sizeof dst_path, "%s/%s", c->dest, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.ship-tmp", c->dest, name);
    os_file *src = NULL, *dst = NULL, *out = NULL;
    uint64_t src_n = 0, dst_n = 0;
    int rc = vfs->open(vfs, src_path, OS_OPEN_READONLY, &src);
    if (rc == FOLIO_CANTOPEN && vfs->exists(vfs, src_path) == 0)
        return 0; /* removed since it was listed (a prune) */
    if (rc < 0 || (rc = vfs->size(src, &src_n)) < 0) {
        rc = ship_err(c, rc, "%s: cannot read it: %s", src_path, status_text(rc));
        goto done;
    }
    int have = vfs->exists(vfs, dst_path) == 1;
    if (have && ((rc = vfs->open(vfs, dst_path, OS_OPEN_READONLY, &dst)) < 0 ||
                 (rc = vfs->size(dst, &dst_n)) < 0)) {
        rc = ship_err(c, rc, "%s: cannot read it: %s", dst_path, status_text(rc));
        goto done;
    }
    int prefix = 0;
    if (have && dst_n <= src_n) {
        if ((rc = same_prefix(c, src, src_path, dst, dst_path, dst_n)) < 0)
            goto done;
        prefix = rc;
        rc = 0;
    }
    if (prefix && dst_n == src_n) {
        c->st.files_skipped++;
        goto done;
    }
    if ((rc = vfs->open(vfs, tmp, OS_OPEN_CREATE, &out)) < 0 || (rc = vfs->truncate(out, 0)) < 0) {
        rc = ship_err(c, rc, "%s: cannot create it: %s", tmp, status_text(rc));
        goto done;
    }
    uint64_t kept = prefix ? dst_n : 0;
    int64_t n = 0;
    if (kept)
        n = copy_range(c, dst, dst_path, out, tmp, 0, kept, 0);
    if (n >= 0 && (uint64_t)n == kept) {
        int64_t m = copy_range(c, src, src_path, out, tmp, kept, src_n, kept);
        if (m >= 0)
            c->st.bytes_copied += (uint64_t)m;
        n = m < 0 ? m : n + m;
    } else if (n >= 0) {
        n = ship_err(c, FOLIO_IOERR, "%s: it shrank while it was read", dst_path);
    }
    if (n < 0) {
        rc = (int)n;
        goto done;
    }
    if ((rc = vfs->sync(out)) < 0) {
        rc = ship_err(c, rc, "%s: cannot sync it: %s", tmp, status_text(rc));
        goto done;
    }
    vfs->close(out);
    out = NULL;
    if (rename(tmp, dst_path) != 0) {
        rc = ship_err(c, FOLIO_IOERR, "%s: cannot put it in place: %s", dst_path, strerror(errno));
        goto done;
    }
    if (kept)
        c->st.files_resumed++;
    else
        c->st.files_copied++;
done:
    if (out) {
        vfs->close(out);
        vfs->remove(vfs, tmp);
    }
    if (dst)
        vfs->close(dst);
    if (src)
        vfs->close(src);
    return rc;
}

/* The copy's manifest must name the same log, if there is one. */
static int check_dest(ship_ctx *c, const clog_manifest *m)
{
    clog_manifest dm;
    char err[1200] = "";
    int rc = clog_manifest_read(c->dest, &dm, err, sizeof err);
    if (rc == FOLIO_NOTFOUND_ERR)
        return 0;
    if (rc < 0)
        return ship_err(c, rc, "%s", err);
    if (dm.dbid != m->dbid || dm.logid != m->logid)
        return ship_err(c, FOLIO_ERROR,
                        "%s holds the log of another database (database %u, log %016llx; the "
                        "source: database %u, log %016llx)",
                        c->dest, (unsigned)dm.dbid, (unsigned long long)dm.logid, (unsigned)m->dbid,
                        (unsigned long long)m->logid);
    return 0;
}

int folio_log_ship(const char *source, const char *dest, folio_log_ship_data *out)
{
    if (!source || !dest) {
        db_set_open_err("bad argument: a source and a destination are needed");
        return FOLIO_MISUSE;
    }
    ship_ctx *c = os_calloc(1, sizeof *c);
    if (c) {
        c->a = os_malloc(SHIP_CHUNK);
        c->b = os_malloc(SHIP_CHUNK);
    }
    char dir[4096];
    int rc = c && c->a && c->b ? clog_source_dir(source, dir, sizeof dir) : FOLIO_NOMEM;
    clog_manifest m;
    clog_file *files = NULL;
    int n = 0;
    if (rc < 0) {
        db_set_open_err("out of memory");
        goto out;
    }
    c->dest = dest;
    if ((rc = clog_manifest_read(dir, &m, c->err, sizeof c->err)) < 0 ||
        (rc = clog_check_owner(source, dir, &m, c->err, sizeof c->err)) < 0)
        goto fail;
    if (mkdir(dest, 0777) < 0 && errno != EEXIST) {
        rc = ship_err(c, FOLIO_CANTOPEN, "%s: cannot create the directory: %s", dest,
                      strerror(errno));
        goto fail;
    }
    if ((rc = check_dest(c, &m)) < 0)
        goto fail;
    if ((rc = clog_list(dir, &files, &n, c->err, sizeof c->err)) < 0)
        goto fail;
    rc = ship_file(c, dir, "folio-log");
    for (int i = 0; i < n && rc == 0; i++) {
        const char *name = strrchr(files[i].path, '/');
        rc = ship_file(c, dir, name ? name + 1 : files[i].path);
    }
    if (rc == 0 && (rc = clog_sync_dir(dest)) < 0)
        ship_err(c, rc, "%s: cannot sync the directory: %s", dest, status_text(rc));
    if (rc < 0)
        goto fail;
    if (out)
        *out = c->st;
    db_set_open_err("");
    goto out;
fail:
    db_set_open_err(c->err[0] ? c->err : status_text(rc));
out:
    clog_list_free(files, n);
    if (c) {
        os_free(c->a);
        os_free(c->b);
        os_free(c);
    }
    return rc;
}
