/*
 * sorter.c - sorting index records for bottom-up index builds, within a
 * memory budget.
 *
 * Records collect in memory until the budget is reached; then they are
 * sorted and written as a run to a temporary file beside the database
 * ("<db>-fsort-ID-N", removed when done). At the end the runs (and what is left
 * in memory) are merged with a heap. A run file holds records as a varint
 * length followed by the bytes.
 */
#include "db/sorter.h"

#include <stdio.h>
#include <string.h>

typedef struct rec_ref {
    size_t off;
    uint64_t n;
    uint64_t pfx; /* first key field, ordered as unsigned (see key_prefix) */
    uint8_t cls;  /* its class: 1 integer, 2 BINARY text; 0 = compare records */
} rec_ref;

typedef struct run {
    os_file *f;
    char *path;
    uint64_t size, pos; /* file size, read position */
    uint8_t *buf;
    size_t buf_n, buf_pos; /* bytes in buf, consumed */
    uint64_t buf_base;     /* file offset of buf[0] */
    uint8_t *cur;          /* the current record */
    uint64_t cur_n, cur_cap;
    int done;
} run;

struct sorter {
    folio_txn *txn;
    os_vfs *vfs;
    sch_order *order;
    unsigned id; /* several sorters may be open at once: their run files differ */
    size_t budget;
    uint8_t *arena;
    size_t used, cap;
    rec_ref *refs;
    size_t nrefs, refcap;
    run *runs;
    int nruns;
    /* reading */
    int merging;
    size_t next_ref; /* in-memory only */
    int *heap;       /* run indexes, a min-heap by current record */
    int nheap;
};

#define RUN_BUF (256 * 1024)

#define PREFETCH_AHEAD 8
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/*
 * Most comparisons of a sort are settled by the first key field alone. For
 * an integer or a BINARY text first field, an 8-byte prefix ordered as an
 * unsigned number is kept with each record: different prefixes of the same
 * class decide at once, without touching the records.
 */
static void key_prefix(const sorter *s, const uint8_t *rec, uint64_t n, rec_ref *r)
{
    r->cls = 0;
    r->pfx = 0;
    if (s->order->n < 1 || s->order->enc > 1 || n < 2 || rec[0] >= 0x80 || rec[0] < 2 ||
        rec[1] >= 0x80)
        return;
    uint8_t st = rec[1];
    const uint8_t *p = rec + rec[0];
    uint64_t avail = n - rec[0];
    static const uint8_t len[10] = {0, 1, 2, 3, 4, 6, 8, 8, 0, 0};
    if (st >= 1 && st <= 9 && st != 7) {
        if (len[st] > avail)
            return;
        uint64_t u = 0;
        if (st >= 8) {
            u = st - 8;
        } else {
            u = (p[0] & 0x80) ? ~(uint64_t)0 : 0;
            for (uint32_t k = 0; k < len[st]; k++)
                u = (u << 8) | p[k];
        }
        r->pfx = u ^ 0x8000000000000000ull; /* signed order as unsigned */
        r->cls = 1;
    } else if (st >= 13 && (st & 1) && s->order->coll[0] == SCH_COLL_BINARY) {
        uint64_t tl = (uint64_t)(st - 13) / 2;
        if (tl > avail)
            return;
        uint64_t u = 0;
        for (uint32_t k = 0; k < 8; k++)
            u = (u << 8) | (k < tl ? p[k] : 0);
        r->pfx = u;
        r->cls = 2;
    }
}

static int cmp_refs(sorter *s, const rec_ref *a, const rec_ref *b)
{
    if (a->cls && a->cls == b->cls && a->pfx != b->pfx) {
        int c = a->pfx < b->pfx ? -1 : 1;
        return s->order->desc[0] ? -c : c;
    }
    int out = 0;
    sch_record_compare(s->order, s->arena + a->off, a->n, s->arena + b->off, b->n, &out);
    return out;
}

/* A bottom-up merge sort of refs[0..n) with tmp as scratch (stable; no
 * qsort_r in C11). */
static void merge_sort(sorter *s, rec_ref *refs, rec_ref *tmp, size_t n)
{
    if (n < 2)
        return;
    rec_ref *src = refs, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = cmp_refs(s, &src[j], &src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        rec_ref *x = src;
        src = dst;
        dst = x;
    }
    if (src != refs)
        memcpy(refs, src, sizeof *src * n);
}

/* The prefix as an unsigned number in the order of the sort. */
static uint64_t radix_key(const sorter *s, const rec_ref *r)
{
    return s->order->desc[0] ? ~r->pfx : r->pfx;
}

/*
 * Sort the references. When every record has a prefix of the same class
 * (the usual case: the first key column holds integers, or BINARY text),
 * an LSD radix sort on the prefix, 16 bits at a time (skipping digits all
 * records share), orders them stably; only runs of equal prefixes then need
 * whole-record comparisons. Otherwise, a merge sort.
 */
static int sort_refs(sorter *s)
{
    size_t n = s->nrefs;
    if (n < 2)
        return 0;
    rec_ref *tmp = os_malloc(sizeof *tmp * n);
    if (!tmp)
        return FOLIO_NOMEM;
    uint8_t cls = s->refs[0].cls;
    for (size_t i = 1; i < n && cls; i++)
        if (s->refs[i].cls != cls)
            cls = 0;
    if (!cls || n < 64) {
        merge_sort(s, s->refs, tmp, n);
        os_free(tmp);
        return 0;
    }
    size_t *count = os_malloc(sizeof *count * 65536);
    if (!count) {
        os_free(tmp);
        return FOLIO_NOMEM;
    }
    rec_ref *src = s->refs, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 16) {
        memset(count, 0, sizeof *count * 65536);
        for (size_t i = 0; i < n; i++)
            count[(radix_key(s, &src[i]) >> shift) & 0xffff]++;
        if (count[(radix_key(s, &src[0]) >> shift) & 0xffff] == n)
            continue; /* every record has this digit */
        size_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(radix_key(s, &src[i]) >> shift) & 0xffff]++] = src[i];
        rec_ref *x = src;
        src = dst;
        dst = x;
    }
    os_free(count);
    if (src != s->refs)
        memcpy(s->refs, src, sizeof *src * n);
    /* Equal prefixes: the rest of the records decides. */
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo + 1;
        while (hi < n && s->refs[hi].pfx == s->refs[lo].pfx)
            hi++;
        if (hi - lo > 1)
            merge_sort(s, s->refs + lo, tmp, hi - lo);
        lo = hi;
    }
    os_free(tmp);
    return 0;
}

int sorter_open(sorter **out, folio_txn *txn, sch_order *order, size_t budget)
{
    *out = NULL;
    sorter *s = os_calloc(1, sizeof *s);
    if (!s)
        return FOLIO_NOMEM;
    static unsigned next_id;
    s->txn = txn;
    s->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
    s->vfs = os_vfs_current();
    s->order = order;
    s->budget = budget < (1u << 20) ? (1u << 20) : budget;
    *out = s;
    return 0;
}

/* Undo a run that could not be written completely: it never happened. */
static void drop_run(sorter *s, run *r)
{
    if (r->f)
        s->vfs->close(r->f);
    if (r->path)
        s->vfs->remove(s->vfs, r->path);
    os_free(r->path);
    memset(r, 0, sizeof *r);
}

/*
 * Sort what is in memory and write it as a run. All or nothing: on failure
 * the records stay in memory (in sorted order) and no run is added.
 */
static int flush_run(sorter *s)
{
    int rc = sort_refs(s);
    if (rc < 0)
        return rc;
    run *v = os_realloc(s->runs, sizeof *v * (size_t)(s->nruns + 1));
    if (!v)
        return FOLIO_NOMEM;
    s->runs = v;
    run *r = &s->runs[s->nruns];
    memset(r, 0, sizeof *r);
    const char *db = pager_path(ptxn_pager(s->txn->pt));
    size_t n = strlen(db) + 32;
    r->path = os_malloc(n);
    if (!r->path)
        return FOLIO_NOMEM;
    snprintf(r->path, n, "%s-fsort-%u-%d", db, s->id, s->nruns);
    uint8_t *wb = NULL;
    if ((rc = s->vfs->open(s->vfs, r->path, OS_OPEN_CREATE, &r->f)) < 0 ||
        (rc = s->vfs->truncate(r->f, 0)) < 0 || !(wb = os_malloc(RUN_BUF + 16))) {
        drop_run(s, r);
        return rc < 0 ? rc : FOLIO_NOMEM;
    }
    size_t wn = 0;
    uint64_t off = 0;
    for (size_t i = 0; i < s->nrefs && rc == 0; i++) {
        if (i + PREFETCH_AHEAD < s->nrefs)
            PREFETCH(s->arena + s->refs[i + PREFETCH_AHEAD].off);
        uint8_t hdr[FMT_VARINT_MAX];
        int hn = fmt_varint_put(hdr, s->refs[i].n);
        const uint8_t *parts[2] = {hdr, s->arena + s->refs[i].off};
        uint64_t lens[2] = {(uint64_t)hn, s->refs[i].n};
        for (int k = 0; k < 2 && rc == 0; k++) {
            uint64_t done = 0;
            while (done < lens[k] && rc == 0) {
                size_t take = RUN_BUF - wn;
                if (take > lens[k] - done)
                    take = (size_t)(lens[k] - done);
                memcpy(wb + wn, parts[k] + done, take);
                wn += take;
                done += take;
                if (wn == RUN_BUF) {
                    rc = s->vfs->write(r->f, wb, wn, off);
                    off += wn;
                    wn = 0;
                }
            }
        }
    }
    if (rc == 0 && wn)
        rc = s->vfs->write(r->f, wb, wn, off);
    off += wn;
    os_free(wb);
    if (rc < 0) {
        drop_run(s, r);
        return rc;
    }
    r->size = off;
    s->nruns++;
    s->used = 0;
    s->nrefs = 0;
    return 0;
}

void sorter_unadd(sorter *s)
{
    if (s->nrefs == 0)
        return;
    s->nrefs--;
    s->used = s->refs[s->nrefs].off;
}

int sorter_add(sorter *s, const uint8_t *rec, uint64_t n)
{
    int rc;
    if (s->used + n > s->budget && s->nrefs > 0 && (rc = flush_run(s)) < 0)
        return rc;
    if (s->used + n > s->cap) {
        size_t c = s->cap ? s->cap : 65536;
        while (c < s->used + n)
            c *= 2;
        uint8_t *a = os_realloc(s->arena, c);
        if (!a)
            return FOLIO_NOMEM;
        s->arena = a;
        s->cap = c;
    }
    if (s->nrefs == s->refcap) {
        size_t c = s->refcap ? s->refcap * 2 : 4096;
        rec_ref *v = os_realloc(s->refs, sizeof *v * c);
        if (!v)
            return FOLIO_NOMEM;
        s->refs = v;
        s->refcap = c;
    }
    memcpy(s->arena + s->used, rec, (size_t)n);
    s->refs[s->nrefs].off = s->used;
    s->refs[s->nrefs].n = n;
    key_prefix(s, rec, n, &s->refs[s->nrefs]);
    s->nrefs++;
    s->used += (size_t)n;
    return 0;
}

/* Load the next record of a run into r->cur; sets r->done at the end. */
static int run_advance(sorter *s, run *r)
{
    /* Make sure at least a varint is buffered. */
    for (;;) {
        if (r->buf_base + r->buf_pos >= r->size) {
            r->done = 1;
            return 0;
        }
        if (r->buf_n - r->buf_pos >= FMT_VARINT_MAX || r->buf_base + r->buf_n >= r->size)
            break;
        /* Refill, keeping the unread tail. */
        size_t keep = r->buf_n - r->buf_pos;
        memmove(r->buf, r->buf + r->buf_pos, keep);
        r->buf_base += r->buf_pos;
        r->buf_pos = 0;
        uint64_t want = r->size - (r->buf_base + keep);
        if (want > RUN_BUF - keep)
            want = RUN_BUF - keep;
        int rc = s->vfs->read(r->f, r->buf + keep, (size_t)want, r->buf_base + keep, NULL);
        if (rc < 0)
            return rc;
        r->buf_n = keep + (size_t)want;
    }
    uint64_t n;
    int k = fmt_varint_get(r->buf + r->buf_pos, r->buf + r->buf_n, &n);
    if (k <= 0)
        return FOLIO_CORRUPT;
    r->buf_pos += (size_t)k;
    if (n > r->cur_cap) {
        uint8_t *b = os_realloc(r->cur, (size_t)n + 1);
        if (!b)
            return FOLIO_NOMEM;
        r->cur = b;
        r->cur_cap = n + 1;
    }
    uint64_t got = 0;
    while (got < n) {
        if (r->buf_pos == r->buf_n) {
            r->buf_base += r->buf_n;
            r->buf_pos = 0;
            uint64_t want = r->size - r->buf_base;
            if (want > RUN_BUF)
                want = RUN_BUF;
            if (want == 0)
                return FOLIO_CORRUPT;
            int rc = s->vfs->read(r->f, r->buf, (size_t)want, r->buf_base, NULL);
            if (rc < 0)
                return rc;
            r->buf_n = (size_t)want;
        }
        size_t take = r->buf_n - r->buf_pos;
        if (take > n - got)
            take = (size_t)(n - got);
        memcpy(r->cur + got, r->buf + r->buf_pos, take);
        r->buf_pos += take;
        got += take;
    }
    r->cur_n = n;
    return 0;
}

static int heap_less(sorter *s, int a, int b)
{
    int out = 0;
    sch_record_compare(s->order, s->runs[a].cur, s->runs[a].cur_n, s->runs[b].cur, s->runs[b].cur_n,
                       &out);
    return out < 0 || (out == 0 && a < b);
}

static void heap_down(sorter *s, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->nheap && heap_less(s, s->heap[l], s->heap[m]))
            m = l;
        if (r < s->nheap && heap_less(s, s->heap[r], s->heap[m]))
            m = r;
        if (m == i)
            return;
        int x = s->heap[i];
        s->heap[i] = s->heap[m];
        s->heap[m] = x;
        i = m;
    }
}

int sorter_finish(sorter *s)
{
    int rc;
    if (s->nruns == 0)
        return sort_refs(s);
    if (s->nrefs && (rc = flush_run(s)) < 0)
        return rc;
    s->merging = 1;
    s->heap = os_malloc(sizeof *s->heap * (size_t)s->nruns);
    if (!s->heap)
        return FOLIO_NOMEM;
    for (int i = 0; i < s->nruns; i++) {
        run *r = &s->runs[i];
        r->buf = os_malloc(RUN_BUF);
        if (!r->buf)
            return FOLIO_NOMEM;
        if ((rc = run_advance(s, r)) < 0)
            return rc;
        if (!r->done)
            s->heap[s->nheap++] = i;
    }
    for (int i = s->nheap / 2 - 1; i >= 0; i--)
        heap_down(s, i);
    return 0;
}

int sorter_next(sorter *s, const uint8_t **rec, uint64_t *n)
{
    if (!s->merging) {
        if (s->next_ref >= s->nrefs)
            return 0;
        rec_ref *r = &s->refs[s->next_ref++];
        *rec = s->arena + r->off;
        *n = r->n;
        /* In key order the records are scattered over the arena: ask for
         * the ones a few steps ahead now, so that they are in the cache. */
        if (s->next_ref + PREFETCH_AHEAD < s->nrefs)
            PREFETCH(s->arena + s->refs[s->next_ref + PREFETCH_AHEAD].off);
        return 1;
    }
    if (s->nheap == 0)
        return 0;
    /* The heap's top was handed out last time: advance it first. */
    run *top = &s->runs[s->heap[0]];
    if (top->cur_n == UINT64_MAX) {
        int rc = run_advance(s, top);
        if (rc < 0)
            return rc;
        if (top->done) {
            s->heap[0] = s->heap[--s->nheap];
            if (s->nheap == 0)
                return 0;
        }
        heap_down(s, 0);
        top = &s->runs[s->heap[0]];
    }
    *rec = top->cur;
    *n = top->cur_n;
    /* Hand out a copy-free pointer; mark the run to advance next call. */
    s->runs[s->heap[0]].cur_n = UINT64_MAX;
    return 1;
}

void sorter_free(sorter *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nruns; i++) {
        run *r = &s->runs[i];
        if (r->f)
            s->vfs->close(r->f);
        if (r->path)
            s->vfs->remove(s->vfs, r->path);
        os_free(r->path);
        os_free(r->buf);
        os_free(r->cur);
    }
    os_free(s->runs);
    os_free(s->heap);
    os_free(s->arena);
    os_free(s->refs);
    os_free(s);
}
