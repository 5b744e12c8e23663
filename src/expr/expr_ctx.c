/*
 * expr_ctx.c - the evaluation context: scratch memory, errors, the clock.
 *
 * Scratch memory comes from chunks that the context keeps between
 * evaluations. An evaluation takes bytes from the chunks in order and
 * never moves what it took (results point into them); when it needed a
 * second chunk, the next evaluation starts by replacing them all with one
 * chunk as large as all of them, so that after a few rows a context serves
 * every evaluation from one chunk and allocates nothing.
 *
 * A subquery's scan marks the scratch position before each row and gives
 * back what the row took (ex_scratch_mark / ex_scratch_release), so a scan
 * of many rows needs no more scratch than its largest row; chunks after
 * the current one are then free, and reused before a new one is made.
 * What a scan keeps from one row to the next (a min() so far, the best row
 * of an ORDER BY) is copied into kept records, heap buffers that the
 * context keeps and reuses (ex_keep_*), never freed before the context.
 *
 * 'now' is the statement's instant (ex_ctx_set_now), or the clock read at
 * its first use. Whether 'now' may be used at all depends on the context
 * the program was compiled for, as SQLite decides: a CHECK constraint, an
 * index expression, a partial index's WHERE or a generated column must give
 * the same value every time.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "expr/expr_int.h"
#include "folio.h"

/* The first chunk's size. */
#define SCRATCH_MIN_BYTES 4096
/* Every allocation is aligned to this. */
#define SCRATCH_ALIGN 16

static size_t chunk_header(void)
{
    return (sizeof(ex_chunk) + SCRATCH_ALIGN - 1) & ~(size_t)(SCRATCH_ALIGN - 1);
}

static uint8_t *chunk_data(ex_chunk *c)
{
    return (uint8_t *)c + chunk_header();
}

static ex_chunk *chunk_new(size_t size)
{
    ex_chunk *c = malloc(chunk_header() + size);
    if (!c)
        return NULL;
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

static void chunks_free(ex_chunk *c)
{
    while (c) {
        ex_chunk *next = c->next;
        free(c);
        c = next;
    }
}

int ex_ctx_new(ex_ctx **out)
{
    ex_ctx *cx = calloc(1, sizeof *cx);
    *out = NULL;
    if (!cx)
        return FOLIO_NOMEM;
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    /* random()'s state: any nonzero seed; each context has its own. */
    cx->prng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)cx;
    if (cx->prng == 0)
        cx->prng = 0x9E3779B97F4A7C15ull;
    cx->max_length = EX_MAX_LENGTH;
    *out = cx;
    return 0;
}

void ex_ctx_free(ex_ctx *cx)
{
    if (!cx)
        return;
    for (int k = 0; k < cx->nonce; k++) {
        free(cx->once[k].rec.v);
        free(cx->once[k].rec.buf);
    }
    free(cx->once);
    for (int k = 0; k < cx->nkeeps; k++) {
        free(cx->keeps[k].v);
        free(cx->keeps[k].buf);
    }
    free(cx->keeps);
    chunks_free(cx->chunks);
    free(cx->colval);
    free(cx->colgen);
    free(cx);
}

void ex_ctx_set_max_length(ex_ctx *cx, uint64_t n)
{
    cx->max_length = n < EX_MAX_LENGTH ? n : EX_MAX_LENGTH;
}

void ex_ctx_set_now(ex_ctx *cx, int64_t unix_ms)
{
    cx->now_ms = unix_ms;
    cx->now_set = 1;
}

const char *ex_ctx_errmsg(const ex_ctx *cx)
{
    return cx->errmsg;
}

int ex_ctx_raised(const ex_ctx *cx)
{
    return cx->raised;
}

void ex_ctx_statement(ex_ctx *cx)
{
    if (++cx->epoch == 0) {
        /* After 2^32 statements: every kept value is stale already. */
        for (int k = 0; k < cx->nonce; k++)
            cx->once[k].epoch = 0;
        cx->epoch = 1;
    }
}

int ex_once_find(ex_ctx *cx, const ex_prog *p, int subq, int create, ex_once **out)
{
    *out = NULL;
    int free_at = -1;
    for (int k = 0; k < cx->nonce; k++) {
        ex_once *o = &cx->once[k];
        if (o->epoch == cx->epoch && o->prog == p && o->subq == subq) {
            *out = o;
            return 0;
        }
        if (o->epoch != cx->epoch && free_at < 0)
            free_at = k;
    }
    if (!create)
        return 0;
    if (free_at < 0) {
        if (cx->nonce == cx->oncecap) {
            int cap = cx->oncecap ? cx->oncecap * 2 : 4;
            ex_once *v = realloc(cx->once, (size_t)cap * sizeof *v);
            if (!v)
                return ex_nomem(cx);
            memset(v + cx->oncecap, 0, (size_t)(cap - cx->oncecap) * sizeof *v);
            cx->once = v;
            cx->oncecap = cap;
        }
        free_at = cx->nonce++;
    }
    ex_once *o = &cx->once[free_at];
    o->prog = p;
    o->subq = subq;
    o->epoch = 0; /* set when its value is complete */
    o->rec.nv = 0;
    o->rec.used = 0;
    *out = o;
    return 0;
}

/* Start an evaluation: the scratch is empty again, in one chunk if the
 * last evaluation needed several. */
int ex_ctx_begin(ex_ctx *cx)
{
    cx->errmsg[0] = 0;
    cx->raised = EX_RAISE_NONE;
    cx->runs = NULL;
    cx->keeptop = 0;
    if (cx->nchunks > 1) {
        size_t total = cx->total;
        chunks_free(cx->chunks);
        cx->chunks = cx->cur = NULL;
        cx->nchunks = 0;
        cx->total = 0;
        ex_chunk *c = chunk_new(total);
        if (!c)
            return ex_nomem(cx);
        cx->chunks = cx->cur = c;
        cx->nchunks = 1;
        cx->total = total;
    }
    if (cx->chunks) {
        cx->chunks->used = 0;
        cx->cur = cx->chunks;
    }
    return 0;
}

uint8_t *ex_scratch(ex_ctx *cx, size_t n)
{
    size_t need = (n + SCRATCH_ALIGN - 1) & ~(size_t)(SCRATCH_ALIGN - 1);
    if (need < n)
        return NULL;
    ex_chunk *c = cx->cur;
    if (c && c->size - c->used >= need) {
        uint8_t *p = chunk_data(c) + c->used;
        c->used += need;
        return p;
    }
    /* Chunks after the current one hold nothing (ex_scratch_release). */
    if (c && c->next && c->next->size >= need) {
        cx->cur = c->next;
        cx->cur->used = need;
        return chunk_data(cx->cur);
    }
    /* A new chunk after the current one, at least twice the total so far. */
    size_t size = cx->total * 2;
    if (size < SCRATCH_MIN_BYTES)
        size = SCRATCH_MIN_BYTES;
    if (size < need)
        size = need;
    ex_chunk *nc = chunk_new(size);
    if (!nc)
        return NULL;
    if (c) {
        nc->next = c->next;
        c->next = nc;
    } else {
        cx->chunks = nc;
    }
    cx->cur = nc;
    cx->nchunks++;
    cx->total += size;
    nc->used = need;
    return chunk_data(nc);
}

ex_mark ex_scratch_mark(const ex_ctx *cx)
{
    ex_mark m = {cx->cur, cx->cur ? cx->cur->used : 0};
    return m;
}

void ex_scratch_release(ex_ctx *cx, ex_mark m)
{
    if (m.c) {
        cx->cur = m.c;
        m.c->used = m.used;
    } else if (cx->chunks) {
        /* Nothing was taken at the mark: all of it is free again. */
        cx->cur = cx->chunks;
        cx->cur->used = 0;
    }
}

/* ---- Kept records ---------------------------------------------------------------- */

int ex_keep_push(ex_ctx *cx, int n, int *first)
{
    if (n > INT32_MAX / 2 - cx->keeptop)
        return ex_nomem(cx);
    int need = cx->keeptop + n;
    if (need > cx->nkeeps) {
        int cap = cx->nkeeps ? cx->nkeeps : 8;
        while (cap < need)
            cap *= 2;
        ex_keep *k = realloc(cx->keeps, (size_t)cap * sizeof *k);
        if (!k)
            return ex_nomem(cx);
        memset(k + cx->nkeeps, 0, (size_t)(cap - cx->nkeeps) * sizeof *k);
        cx->keeps = k;
        cx->nkeeps = cap;
    }
    *first = cx->keeptop;
    for (int j = cx->keeptop; j < need; j++) {
        cx->keeps[j].nv = 0;
        cx->keeps[j].used = 0;
    }
    cx->keeptop = need;
    return 0;
}

void ex_keep_pop(ex_ctx *cx, int first)
{
    cx->keeptop = first;
}

static int keep_reserve(ex_ctx *cx, ex_keep *k, size_t n)
{
    if (n <= k->cap)
        return 0;
    size_t cap = k->cap ? k->cap : 64;
    while (cap < n) {
        if (cap > SIZE_MAX / 2)
            return ex_nomem(cx);
        cap *= 2;
    }
    uint8_t *b = realloc(k->buf, cap);
    if (!b)
        return ex_nomem(cx);
    k->buf = b;
    k->cap = cap;
    return 0;
}

int ex_keep_set(ex_ctx *cx, int idx, const ex_value *vals, int n)
{
    return ex_keep_fill(cx, &cx->keeps[idx], vals, n);
}

int ex_keep_fill(ex_ctx *cx, ex_keep *k, const ex_value *vals, int n)
{
    if (n > k->vcap) {
        ex_value *v = realloc(k->v, (size_t)n * sizeof *v);
        if (!v)
            return ex_nomem(cx);
        k->v = v;
        k->vcap = n;
    }
    size_t bytes = 0;
    for (int j = 0; j < n; j++)
        if (vals[j].type == EX_TEXT || vals[j].type == EX_BLOB)
            bytes += (size_t)vals[j].u.s.n;
    /* Values that point into this record's own buffer are copied into a
     * new one (callers do not do that on a scan's every row). */
    int aliased = 0;
    uintptr_t lo = (uintptr_t)k->buf, hi = lo + k->cap;
    for (int j = 0; j < n; j++)
        if ((vals[j].type == EX_TEXT || vals[j].type == EX_BLOB) && k->buf &&
            (uintptr_t)vals[j].u.s.p >= lo && (uintptr_t)vals[j].u.s.p < hi)
            aliased = 1;
    uint8_t *b = k->buf;
    if (bytes > k->cap || aliased) {
        size_t cap = k->cap * 2 > bytes ? k->cap * 2 : bytes;
        b = malloc(cap ? cap : 1);
        if (!b)
            return ex_nomem(cx);
        k->cap = cap ? cap : 1;
    }
    size_t o = 0;
    for (int j = 0; j < n; j++) {
        ex_value v = vals[j];
        if ((v.type == EX_TEXT || v.type == EX_BLOB) && v.u.s.n) {
            memcpy(b + o, v.u.s.p, (size_t)v.u.s.n);
            v.u.s.p = b + o;
            o += (size_t)v.u.s.n;
        } else if (v.type == EX_TEXT || v.type == EX_BLOB) {
            v.u.s.p = (const uint8_t *)""; /* empty: any address */
        }
        k->v[j] = v;
    }
    if (b != k->buf) {
        free(k->buf);
        k->buf = b;
    }
    k->nv = n;
    k->used = bytes;
    return 0;
}

int ex_keep_add(ex_ctx *cx, ex_keep *k, const ex_value *v)
{
    if (k->nv == k->vcap) {
        int cap = k->vcap ? k->vcap * 2 : 8;
        ex_value *nv = realloc(k->v, (size_t)cap * sizeof *nv);
        if (!nv)
            return ex_nomem(cx);
        k->v = nv;
        k->vcap = cap;
    }
    ex_value c = *v;
    if ((c.type == EX_TEXT || c.type == EX_BLOB) && c.u.s.n) {
        if (c.u.s.n > SIZE_MAX - k->used)
            return ex_nomem(cx);
        /* The values in the buffer are held as offsets while it may move. */
        for (int j = 0; j < k->nv; j++)
            if ((k->v[j].type == EX_TEXT || k->v[j].type == EX_BLOB) && k->v[j].u.s.n)
                k->v[j].u.s.p = (const uint8_t *)(uintptr_t)(k->v[j].u.s.p - k->buf);
        int rc = keep_reserve(cx, k, k->used + (size_t)c.u.s.n);
        for (int j = 0; j < k->nv; j++)
            if ((k->v[j].type == EX_TEXT || k->v[j].type == EX_BLOB) && k->v[j].u.s.n)
                k->v[j].u.s.p = k->buf + (uintptr_t)k->v[j].u.s.p;
        if (rc)
            return rc;
        memcpy(k->buf + k->used, c.u.s.p, (size_t)c.u.s.n);
        c.u.s.p = k->buf + k->used;
        k->used += (size_t)c.u.s.n;
    } else if (c.type == EX_TEXT || c.type == EX_BLOB) {
        c.u.s.p = (const uint8_t *)"";
    }
    k->v[k->nv++] = c;
    return 0;
}

int ex_keep_append(ex_ctx *cx, int idx, const void *p, size_t n)
{
    ex_keep *k = &cx->keeps[idx];
    if (n > SIZE_MAX - k->used)
        return ex_nomem(cx);
    int rc = keep_reserve(cx, k, k->used + n);
    if (rc)
        return rc;
    if (n)
        memcpy(k->buf + k->used, p, n);
    k->used += n;
    return 0;
}

int ex_error(ex_ctx *cx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cx->errmsg, sizeof cx->errmsg, fmt, ap);
    va_end(ap);
    return FOLIO_ERROR;
}

int ex_nomem(ex_ctx *cx)
{
    snprintf(cx->errmsg, sizeof cx->errmsg, "out of memory");
    return FOLIO_NOMEM;
}

/* Where SQLite's message places a non-deterministic use. */
static const char *volatile_place(unsigned flags)
{
    if (flags & EX_CHECK)
        return "a CHECK constraint";
    if (flags & EX_GENERATED)
        return "a generated column";
    return "an index";
}

int ex_now_ms(ex_ctx *cx, int64_t *out)
{
    unsigned flags = cx->prog ? cx->prog->flags : EX_FILTER;
    /* SQLite: a deterministic function (date() and the others) may not use
     * 'now' where the same value is wanted each time; the CURRENT_* family,
     * non-deterministic functions, may in a CHECK (and nowhere else of
     * these: they are refused at compile time). */
    int allowed = (cx->fn_flags & EX_FN_NONDETERMINISTIC) && (flags & EX_CHECK);
    if (!allowed && (flags & (EX_CHECK | EX_INDEX_EXPR | EX_PARTIAL_WHERE | EX_GENERATED)))
        return ex_error(cx, "non-deterministic use of %s() in %s",
                        cx->fn_name ? cx->fn_name : "now", volatile_place(flags));
    if (!cx->now_set) {
        struct timespec ts;
        timespec_get(&ts, TIME_UTC);
        cx->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        cx->now_set = 1;
    }
    *out = cx->now_ms;
    return 0;
}

int ex_fn_collation(const ex_ctx *cx)
{
    return cx->fn_coll;
}

uint64_t ex_random64(ex_ctx *cx)
{
    /* xorshift64*: statistically good enough for random() and randomblob(). */
    uint64_t x = cx->prng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    cx->prng = x;
    return x * 0x2545F4914F6CDD1Dull;
}
