/*
 * pager_version.c - the version of every commit.
 *
 * A version is the number of commits a database has seen: it only grows,
 * and every handle of every process finds the same one for the same state,
 * because it is derived from what they all share, the database file and the
 * WAL, and never from a handle's memory:
 *
 *   - page 1 carries a stamp (fmt_vstamp, in the header's expansion bytes)
 *     saying "the state after frame F of the WAL generation of salt-1 S has
 *     version V";
 *   - every commit after it in that generation adds one: the version of a
 *     snapshot that ends at frame mx is V plus the commit frames in (F, mx]
 *     (all commit frames of the generation when the stamp names another).
 *
 * A folio commit that writes page 1 (when the header changes, and at the
 * first commit of each WAL generation) stamps it with the frames it follows
 * (its own come after F). A checkpoint that copies a generation to its end
 * stamps the file's page 1 with the version of that whole state (END), so
 * that the count survives the WAL starting over. Commits of other engines
 * count like folio's own as long as they are in the WAL when a folio
 * checkpoint copies it; one a `sqlite3` checkpoint copied and started the
 * WAL over after is not counted (nothing left says it happened).
 *
 * Then the count, taken up after such a loss, may be below a version this
 * handle already saw: a handle never reports a newest version below one it
 * reported, and its next commit stamps page 1 past both
 * (pager_version_newest), from where every handle counts on.
 *
 * Counting reads the header of each frame once per handle (the commit
 * frames of the current generation are kept, cf); the handle's own commits
 * are noted as they are appended, so counting never reads a frame then.
 */
#include "pager/pager_int.h"

#include "base/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Make the commit frame list describe generation `gen` up to frame `upto`
 * (mu held). */
static int cf_reach(pager *p, const uint8_t gen[8], uint32_t upto)
{
    if (!p->cf_valid || memcmp(p->cf_gen, gen, 8) != 0) {
        memcpy(p->cf_gen, gen, 8);
        p->cf_valid = 1;
        p->cf_n = 0;
        p->cf_scanned = 0;
    }
    while (p->cf_scanned < upto) {
        uint32_t f = p->cf_scanned + 1, size;
        int rc = wal_frame_commit_size(p->wal, f, &size);
        if (rc < 0)
            return rc;
        if (size) {
            if (p->cf_n == p->cf_cap) {
                uint32_t cap = p->cf_cap ? p->cf_cap * 2 : 4096;
                uint32_t *v = os_realloc(p->cf, (size_t)cap * sizeof *v);
                if (!v)
                    return FOLIO_NOMEM;
                p->cf = v;
                p->cf_cap = cap;
            }
            p->cf[p->cf_n++] = f;
        }
        p->cf_scanned = f;
    }
    return 0;
}

/* Commit frames at or below `f` (mu held, the list reaching f). */
static uint32_t cf_upto(const pager *p, uint32_t f)
{
    uint32_t lo = 0, hi = p->cf_n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->cf[mid] <= f)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * The version of the state after frame `mx` of generation `gen`, whose
 * page 1 carries `st` (st_ok: a stamp at all).
 */
static int version_at(pager *p, const fmt_vstamp *st, int st_ok, const uint8_t gen[8], uint32_t mx,
                      uint64_t *out)
{
    uint64_t v = st_ok ? st->version : 0;
    if (mx == 0 || !p->wal) {
        *out = v;
        return 0;
    }
    uint32_t from = st_ok && st->salt1 == fmt_get_u32(gen) ? st->frame : 0;
    if (from >= mx) {
        *out = v;
        return 0;
    }
    pthread_mutex_lock(&p->mu);
    int rc = cf_reach(p, gen, mx);
    if (rc == 0)
        v += cf_upto(p, mx) - cf_upto(p, from);
    pthread_mutex_unlock(&p->mu);
    *out = v;
    return rc;
}

void pager_version_snapshot(ptxn *t, const uint8_t *page1)
{
    t->stamp_ok = page1 && fmt_vstamp_decode(page1, &t->stamp) == 0;
    if (!page1)
        memset(&t->stamp, 0, sizeof t->stamp);
    t->version_known = 0;
    /* With the commit log on, a plain writer logs its row changes. */
    t->log_changes = t->write && !t->conc && t->p->commit_hook && t->stamp_ok &&
                     (t->stamp.flags & FMT_VSTAMP_LOG);
}

int ptxn_version(ptxn *t, uint64_t *out)
{
    if (!t->version_known) {
        int rc = version_at(t->p, &t->stamp, t->stamp_ok, t->snap_gen, t->mx, &t->version);
        if (rc < 0)
            return ptxn_error(t, rc, "cannot read the WAL to count its commits: %s",
                              status_text(rc));
        t->version_known = 1;
    }
    *out = t->version;
    return 0;
}

uint32_t ptxn_dbid(const ptxn *t)
{
    return t->stamp_ok ? t->stamp.dbid : 0;
}

static uint32_t new_dbid(const pager *p)
{
    static uint64_t counter;
    uint64_t x = p->vfs->now_ms(p->vfs) * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)p ^
                 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * 0xbf58476d1ce4e5b9ull;
    x ^= x >> 31;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 29;
    uint32_t id = (uint32_t)x;
    return id ? id : 1;
}

unsigned ptxn_vflags(const ptxn *t)
{
    return t->stamp_ok ? t->stamp.flags & ~FMT_VSTAMP_END : 0;
}

void ptxn_set_vflag(ptxn *t, unsigned flag, int on)
{
    if (on) {
        t->vflags_set |= (uint8_t)flag;
        t->vflags_clear &= (uint8_t)~flag;
    } else {
        t->vflags_clear |= (uint8_t)flag;
        t->vflags_set &= (uint8_t)~flag;
    }
    t->hdr_dirty = 1; /* page 1 carries the stamp */
}

unsigned ptxn_vflags_after(const ptxn *t)
{
    return ((ptxn_vflags(t) | t->vflags_set) & ~(unsigned)t->vflags_clear) & 0xffu;
}

void pager_set_commit_hook(pager *p, int (*hook)(void *arg, ptxn *t, uint64_t version), void *arg)
{
    pthread_mutex_lock(&p->mu);
    p->commit_hook = hook;
    p->commit_hook_arg = arg;
    pthread_mutex_unlock(&p->mu);
}

void pager_set_sync_hook(pager *p, int (*hook)(void *arg), void *arg)
{
    pthread_mutex_lock(&p->mu);
    p->sync_hook = hook;
    p->sync_hook_arg = arg;
    pthread_mutex_unlock(&p->mu);
}

void pager_version_stamp(ptxn *t, uint8_t *page1, uint64_t version)
{
    pager *p = t->p;
    fmt_vstamp st = {.version = version - 1,
                     .flags = (uint8_t)ptxn_vflags_after(t),
                     .salt1 = wal_next_salt1(p->wal),
                     .frame = wal_nframes(p->wal),
                     .dbid = t->stamp_ok && t->stamp.dbid ? t->stamp.dbid : new_dbid(p)};
    fmt_vstamp_encode(page1, &st);
}

void pager_version_note_commit(pager *p, uint32_t first, uint32_t n)
{
    if (n == 0)
        return;
    uint8_t gen[8];
    wal_gen_salts(p->wal, gen);
    if (!p->cf_valid || memcmp(p->cf_gen, gen, 8) != 0) {
        memcpy(p->cf_gen, gen, 8);
        p->cf_valid = 1;
        p->cf_n = 0;
        p->cf_scanned = 0;
    }
    if (p->cf_scanned != first - 1)
        return; /* frames of others in between: counted when needed */
    if (p->cf_n == p->cf_cap) {
        uint32_t cap = p->cf_cap ? p->cf_cap * 2 : 4096;
        uint32_t *v = os_realloc(p->cf, (size_t)cap * sizeof *v);
        if (!v)
            return; /* (read from the WAL when needed) */
        p->cf = v;
        p->cf_cap = cap;
    }
    p->cf[p->cf_n++] = first + n - 1;
    p->cf_scanned = first + n - 1;
}

int pager_version_end_stamp(pager *p, const widx_hdr *h, uint32_t upto, uint8_t *hdr1)
{
    fmt_vstamp st;
    int ok = fmt_vstamp_decode(hdr1, &st) == 0;
    uint64_t v;
    int rc = version_at(p, &st, ok, h->salt, upto, &v);
    if (rc < 0)
        return rc;
    fmt_vstamp end = {.version = v,
                      .flags = (uint8_t)(FMT_VSTAMP_END | (ok ? st.flags & ~FMT_VSTAMP_END : 0)),
                      .salt1 = fmt_get_u32(h->salt),
                      .frame = upto,
                      .dbid = ok && st.dbid ? st.dbid : new_dbid(p)};
    fmt_vstamp_encode(hdr1, &end);
    return p->vfs->write(p->db, hdr1 + 72, 20, 72);
}

uint64_t pager_version_newest(pager *p, uint64_t v)
{
    pthread_mutex_lock(&p->mu);
    if (v < p->ver_high)
        v = p->ver_high;
    else
        p->ver_high = v;
    pthread_mutex_unlock(&p->mu);
    return v;
}

/* ---- the pages a commit changed (for the commit log) ---- */

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Page pgno from WAL frame f, or (f 0) from the database file, where a
 * page past its end reads as zeros. */
static int read_frame_or_file(pager *p, uint32_t pgno, uint32_t f, uint8_t *buf)
{
    if (f)
        return wal_read_frame(p->wal, f, buf);
    size_t got = 0;
    int rc = p->vfs->read(p->db, buf, p->page_size, (uint64_t)(pgno - 1) * p->page_size, &got);
    if (rc == 0 && got < p->page_size)
        memset(buf + got, 0, p->page_size - got);
    return rc;
}

int ptxn_page_before(ptxn *t, uint32_t pgno, uint8_t *buf)
{
    pager *p = t->p;
    /* (without a WAL, pages may have gone to the file before the commit:
     * the file no longer shows the snapshot) */
    if (pgno == 0 || pgno > t->npages0 || !p->wal)
        return 0;
    /* Its newest committed frame when the write began, else the file's
     * page (only checkpoints write pages there that the snapshot has, and
     * they copy committed frames). */
    uint32_t f = 0;
    pthread_mutex_lock(&p->mu);
    if (t->mx0)
        f = wal_find(p->wal, pgno, t->mx0);
    /* Usually still in the cache: clean pages are shared, keyed by frame. */
    pg *e = pager_cache_find(p, pgno, f);
    if (e && !e->dirty) {
        memcpy(buf, e->data, p->page_size);
        pthread_mutex_unlock(&p->mu);
        return 1;
    }
    pthread_mutex_unlock(&p->mu);
    int rc = read_frame_or_file(p, pgno, f, buf);
    if (rc < 0)
        return ptxn_error(t, rc, "page %u: cannot read it as it was for the commit log: %s", pgno,
                          status_text(rc));
    return 1;
}

int ptxn_page_images(ptxn *t, int (*fn)(void *arg, uint32_t pgno, const uint8_t *data), void *arg)
{
    pager *p = t->p;
    /* The private copies, the pages of the frames this transaction spilled
     * (frames past the committed end it began on), and new pages past the
     * file's end then, which went to the database file. */
    uint32_t nspill = t->mx > t->mx0 ? t->mx - t->mx0 : 0;
    uint32_t lo_direct = t->base_npages,
             ndirect = t->npages > lo_direct ? t->npages - lo_direct : 0;
    size_t cap = (size_t)t->ndirty + nspill + ndirect;
    uint32_t *v = os_malloc(cap ? cap * sizeof *v : 1);
    uint8_t *buf = os_malloc(p->page_size);
    if (!v || !buf) {
        os_free(v);
        os_free(buf);
        return ptxn_error(t, FOLIO_NOMEM, "out of memory");
    }
    size_t n = 0;
    for (uint32_t i = 0; i < t->ndirty; i++)
        v[n++] = t->dirty[i]->pgno;
    pthread_mutex_lock(&p->mu);
    for (uint32_t f = t->mx0 + 1; f <= t->mx0 + nspill; f++)
        v[n++] = wal_frame_pgno(p->wal, f);
    pthread_mutex_unlock(&p->mu);
    for (uint32_t k = 1; k <= ndirect; k++)
        v[n++] = lo_direct + k;
    qsort(v, n, sizeof *v, u32_cmp);
    int rc = 0;
    uint32_t last = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint32_t pgno = v[i];
        if (pgno == last || pgno == 0 || pgno > t->npages)
            continue;
        last = pgno;
        pg *d = ptxn_dirty_find(t, pgno);
        if (d) {
            rc = fn(arg, pgno, d->data);
            continue;
        }
        pthread_mutex_lock(&p->mu);
        uint32_t f = nspill ? wal_find(p->wal, pgno, t->mx) : 0;
        pthread_mutex_unlock(&p->mu);
        rc = read_frame_or_file(p, pgno, f > t->mx0 ? f : 0, buf);
        if (rc < 0)
            rc = ptxn_error(t, rc, "page %u: cannot read it back for the commit log: %s", pgno,
                            status_text(rc));
        else
            rc = fn(arg, pgno, buf);
    }
    os_free(v);
    os_free(buf);
    return rc;
}

/* ---- commits of other engines, from the WAL ---- */

typedef struct frame_ref {
    uint32_t pgno, frame;
} frame_ref;

static int ref_cmp(const void *a, const void *b)
{
    const frame_ref *x = a, *y = b;
    if (x->pgno != y->pgno)
        return x->pgno < y->pgno ? -1 : 1;
    return x->frame < y->frame ? -1 : x->frame > y->frame;
}

int ptxn_wal_commits(ptxn *t, uint32_t n, int (*commit)(void *arg, uint32_t db_pages),
                     int (*page)(void *arg, uint32_t pgno, const uint8_t *data), void *arg)
{
    pager *p = t->p;
    if (!p->wal || t->mx0 == 0)
        return FOLIO_NOTFOUND_ERR;
    pthread_mutex_lock(&p->mu);
    int rc = cf_reach(p, t->snap_gen, t->mx0);
    uint32_t have = rc == 0 ? cf_upto(p, t->mx0) : 0;
    if (rc == 0 && have < n)
        rc = FOLIO_NOTFOUND_ERR;
    uint32_t idx0 = have - n;
    /* (the frames of those commits cannot change: they are committed, and
     * this writer keeps the WAL from starting over) */
    uint32_t first = rc == 0 ? (idx0 ? p->cf[idx0 - 1] : 0) : 0;
    uint32_t *ends = rc == 0 ? os_malloc((size_t)n * sizeof *ends + 1) : NULL;
    if (rc == 0 && !ends)
        rc = FOLIO_NOMEM;
    for (uint32_t j = 0; rc == 0 && j < n; j++)
        ends[j] = p->cf[idx0 + j];
    pthread_mutex_unlock(&p->mu);
    if (rc < 0)
        return rc;
    uint8_t *buf = os_malloc(p->page_size);
    frame_ref *v = os_malloc((size_t)(ends[n - 1] - first) * sizeof *v + 1);
    if (!buf || !v)
        rc = FOLIO_NOMEM;
    uint32_t start = first;
    for (uint32_t j = 0; rc == 0 && j < n; j++) {
        uint32_t end = ends[j], k = 0, dbsz = 0;
        pthread_mutex_lock(&p->mu);
        for (uint32_t f = start + 1; f <= end; f++)
            v[k++] = (frame_ref){wal_frame_pgno(p->wal, f), f};
        pthread_mutex_unlock(&p->mu);
        qsort(v, k, sizeof *v, ref_cmp);
        /* Every page a commit added must be among its frames: a folio
         * commit may have written new pages straight to the database file
         * (and a later checkpoint over them), which the WAL cannot give. */
        uint32_t before = 0;
        if (start == 0)
            rc = FOLIO_NOTFOUND_ERR; /* (the size before the generation is not in the WAL) */
        else
            rc = wal_frame_commit_size(p->wal, start, &before);
        if (rc == 0)
            rc = wal_frame_commit_size(p->wal, end, &dbsz);
        for (uint32_t pn = before + 1, i = 0; rc == 0 && pn <= dbsz; pn++) {
            while (i < k && v[i].pgno < pn)
                i++;
            if (i >= k || v[i].pgno != pn)
                rc = FOLIO_NOTFOUND_ERR;
        }
        if (rc == 0)
            rc = commit(arg, dbsz);
        for (uint32_t i = 0; rc == 0 && i < k; i++) {
            if (i + 1 < k && v[i + 1].pgno == v[i].pgno)
                continue; /* the commit's last image of the page */
            if (v[i].pgno == 0 || v[i].pgno > dbsz)
                continue;
            if ((rc = wal_read_frame(p->wal, v[i].frame, buf)) == 0)
                rc = page(arg, v[i].pgno, buf);
        }
        start = end;
    }
    os_free(v);
    os_free(buf);
    os_free(ends);
    return rc;
}

void pager_version_free(pager *p)
{
    os_free(p->cf);
    p->cf = NULL;
    p->cf_n = p->cf_cap = p->cf_scanned = 0;
    p->cf_valid = 0;
}
