/*
 * check.c - the full integrity check behind folio_check() and `folio check`.
 *
 * Every problem is one message through the caller's callback: "page N: what"
 * when a page is to blame, else a sentence naming the object. The check is at
 * least as strict as SQLite's PRAGMA integrity_check:
 *
 *   (1) Header: read version and schema format SQLite knows; the page count
 *       within the file; the freelist count; auto-vacuum's largest root page.
 *   (2) Schema: every entry a CREATE statement SQLite would load - parsed,
 *       its name and table name agreeing with its SQL, a root page, the table
 *       of an index present, every automatic index present, no name twice.
 *   (3) Pages: every page 1..npages used exactly once - by a b-tree, an
 *       overflow chain, the freelist, or as a pointer-map page - except the
 *       lock-byte page, which must be unused. A bitmap records the uses; a
 *       second use is reported and not followed, which also ends every cycle.
 *   (4) B-tree pages: a valid header of the tree's kind; all leaves at one
 *       depth, at most BT_MAX_DEPTH; cells inside the content area; cells and
 *       freeblocks not overlapping; freeblocks ascending, >= 4 bytes, apart;
 *       the bytes left over equal to the fragmented byte count.
 *   (5) Cells: SQLite's local payload formula; overflow chains exactly as long
 *       as the payload needs; in auto-vacuum files each pointer-map entry.
 *   (6) Key order: rowids strictly ascending, interior keys between their
 *       subtrees; index records (and WITHOUT ROWID rows) strictly ascending by
 *       the collations and DESC flags of the index; UNIQUE indexes without two
 *       entries equal on the key unless a key value is NULL.
 *   (7) Records: header and serial types valid, data filling the payload
 *       exactly; rows with at most the stored columns; NOT NULL; STRICT types;
 *       SQLite's affinity rules (no number in a TEXT column, no numeric text
 *       in a numeric column).
 *   (8) Indexes against rows: every row found in every index whose key folio
 *       can build (not expression or partial indexes), with the exact value in
 *       columns of other collations; as many index entries as rows.
 *
 * (8) without a lookup per row: the walk of an index adds up a 64-bit hash
 * of each entry's exact values (numbers by value, so that 3 and 3.0 agree
 * as they compare equal; text and blobs by their bytes), and the walk of
 * its table the same hash of the entry each row makes. The index holds an
 * entry with the exact values of every row, and no other, when the two sums
 * and counts agree (a difference the sums miss has a chance of about
 * 2^-64). Only when they do not (or a row's key could not be built) is the
 * table walked again, with a lookup of every row in that index, to name the
 * rows: a clean file costs one sequential walk of each tree, not a descent
 * of the index per row.
 *
 * Bounds: the bitmap makes each page read once by the walks (a table whose
 * index does not match its rows is read a second time, by a cursor);
 * recursion is at most BT_MAX_DEPTH deep; memory is the bitmap, a map of
 * one page's bytes, and of each record only the bytes some check compares
 * (an index entry's all of them).
 */
#include "db/db_int.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The page holding this file offset is left unused for the locks. */
#define LOCK_BYTE_OFFSET 0x40000000u

/* Pointer-map entry types of auto-vacuum files. */
enum { PTRMAP_ROOTPAGE = 1, PTRMAP_FREEPAGE, PTRMAP_OVERFLOW1, PTRMAP_OVERFLOW2, PTRMAP_BTREE };

/* Serial type and data offset of each field of a record. */
typedef struct field_pos {
    uint64_t st, off;
} field_pos;

typedef struct fields {
    field_pos *v;
    uint32_t n, cap;
} fields;

/* A payload copied out of its page and overflow chain: the first bytes at
 * once, more only when a value beyond them is needed, so that a large value
 * nobody compares is never held in memory. */
typedef struct rec {
    uint8_t *buf;
    size_t cap;
    uint64_t size, have; /* payload bytes in all, and in buf */
    fmt_cell cell;       /* the cell, readable while its page is pinned */
    fields f;
} rec;

/* Payload bytes copied at once; the record header is nearly always inside. */
#define PAYLOAD_PREFIX 65536u

/* How the records of an index b-tree (or WITHOUT ROWID table) are ordered. */
typedef struct keyspec {
    int ncmp;                /* leading fields that decide the order; 0: not checked */
    int nunique;             /* leading fields that must be unique; 0: none */
    int is_table;            /* a WITHOUT ROWID table: NULL keys are not exempt */
    uint32_t nf_min, nf_max; /* allowed field counts */
    uint8_t *coll, *desc;    /* per compared field */
} keyspec;

/* An index of the table being walked. */
typedef struct idxchk {
    db_index *ix;
    keyspec ks;
    uint64_t entries;
    int lookups; /* check every row against it */
    int hashed;  /* ... by the sums (else by a lookup per row) */
    uint64_t entry_sum, row_sum;
    int unsure; /* a row's key could not be built: the sums cannot agree */
    int cur_init;
    bt_cursor cur;
} idxchk;

/* One b-tree walk. */
typedef struct tree {
    const char *name;
    uint32_t root;
    int intkey; /* 1 table, 0 index, -1 decided by the root page */
    int leaf_depth;
    uint64_t entries;
    int have_prev;
    int64_t prev_rowid;
    rec recs[2];
    rec *cur, *prev;
    const keyspec *ks;   /* record order; NULL: not checked */
    const db_table *tab; /* rows checked against this definition; NULL: not */
    idxchk *ix;
    int nix;
    uint64_t *entry_sum; /* an index: where the hashes of its entries add up */
} tree;

typedef struct chk {
    ptxn *pt;
    db_catalog *cat;
    int (*cb)(void *arg, const char *msg);
    void *arg;
    int max_errors, nerr, stop;
    int nspace; /* of nerr: problems of free space only, which leave every cell readable */
    int fatal;  /* an error of the check itself (out of memory) */
    uint32_t npages, usable, lockpg;
    int autovac, enc;
    int desc_ok;     /* schema format 4: DESC is honoured (SQLite ignores it before) */
    int quick;       /* the structural check only: see "Quick check" above */
    uint8_t *used;   /* one bit per page */
    uint64_t *cover; /* one bit per byte of the page being checked */
    fields lk;       /* index records during lookups */
    fmt_value *vals;
    int nvals;
    uint8_t *u8[2]; /* UTF-8 copies of UTF-16 text */
    size_t u8cap[2];
} chk;

/* ---- reporting ---- */

static void report(chk *c, uint32_t pgno, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void report(chk *c, uint32_t pgno, const char *fmt, ...)
{
    char msg[640];
    int n = 0;
    va_list ap;
    if (c->stop)
        return;
    if (pgno)
        n = snprintf(msg, sizeof msg, "page %u: ", pgno);
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    c->nerr++;
    if (c->cb(c->arg, msg) != 0 || c->nerr >= c->max_errors)
        c->stop = 1;
}

static int nomem(chk *c)
{
    c->fatal = FOLIO_NOMEM;
    c->stop = 1;
    return ptxn_error(c->pt, FOLIO_NOMEM, "out of memory during the integrity check");
}

/* ---- page accounting ---- */

static uint32_t ptrmap_page_of(const chk *c, uint32_t pgno)
{
    uint32_t per = c->usable / 5 + 1;
    uint32_t pm = (pgno - 2) / per * per + 2;
    return pm == c->lockpg ? pm + 1 : pm;
}

static int is_ptrmap_page(const chk *c, uint32_t pgno)
{
    return c->autovac && pgno >= 2 && ptrmap_page_of(c, pgno) == pgno;
}

/* Record a use of page pgno as `role`, referred to from page `from` (0: from
 * the header or the schema). Returns 1 when the page is now the caller's to
 * read, 0 when the use is wrong (reported). */
static int claim(chk *c, uint32_t pgno, uint32_t from, const char *role)
{
    if (pgno == 0 || pgno > c->npages) {
        if (from)
            report(c, from, "refers to page %u as %s, out of range 1..%u", pgno, role, c->npages);
        else
            report(c, 0, "%s is page %u, out of range 1..%u", role, pgno, c->npages);
        return 0;
    }
    if (pgno == c->lockpg) {
        report(c, pgno, "the lock-byte page is used as %s", role);
        return 0;
    }
    if (is_ptrmap_page(c, pgno)) {
        report(c, pgno, "a pointer-map page is used as %s", role);
        return 0;
    }
    uint8_t bit = (uint8_t)(1u << (pgno & 7));
    if (c->used[pgno >> 3] & bit) {
        if (from)
            report(c, pgno, "used more than once (2nd reference, as %s from page %u)", role, from);
        else
            report(c, pgno, "used more than once (2nd reference, as %s)", role);
        return 0;
    }
    c->used[pgno >> 3] |= bit;
    return 1;
}

/* Auto-vacuum files: the pointer-map entry of pgno must be (type, parent). */
static int ptrmap_expect(chk *c, uint32_t pgno, int type, uint32_t parent)
{
    if (!c->autovac || pgno < 3)
        return 0;
    uint32_t pm = ptrmap_page_of(c, pgno);
    if (pm >= pgno)
        return 0; /* pgno is no page a pointer map describes; claim() said so */
    pg *p;
    int rc = pager_get(&p, c->pt, pm);
    if (rc < 0)
        return rc;
    const uint8_t *e = p->data + 5 * (pgno - pm - 1); /* < usable: per page usable/5 */
    int got_type = e[0];
    uint32_t got_parent = fmt_get_u32(e + 1);
    pager_unref(p);
    if (got_type != type || got_parent != parent)
        report(c, pgno,
               "pointer-map entry is (type %d, parent %u) but should be (type %d, parent %u)",
               got_type, got_parent, type, parent);
    return 0;
}

/* ---- records and values ---- */

static int fields_push(fields *f, uint64_t st, uint64_t off)
{
    if (f->n == f->cap) {
        uint32_t n = f->cap ? f->cap * 2 : 32;
        field_pos *v = os_realloc(f->v, sizeof *v * n);
        if (!v)
            return FOLIO_NOMEM;
        f->v = v;
        f->cap = n;
    }
    f->v[f->n].st = st;
    f->v[f->n++].off = off;
    return 0;
}

static void fields_free(fields *f)
{
    os_free(f->v);
    memset(f, 0, sizeof *f);
}

/* Decode the header of the complete record p[0..size). Returns 0, 1 when the
 * record is malformed (why says how), or FOLIO_NOMEM. */
static int record_decode(fields *f, const uint8_t *p, uint64_t size, char *why, size_t whylen)
{
    uint64_t hdr;
    f->n = 0;
    int n = fmt_varint_get(p, p + size, &hdr);
    if (n == 0 || hdr < (uint64_t)n || hdr > size) {
        snprintf(why, whylen, "header size %llu is invalid for a %llu-byte record",
                 (unsigned long long)(n ? hdr : 0), (unsigned long long)size);
        return 1;
    }
    uint64_t pos = (uint64_t)n, data = hdr;
    while (pos < hdr) {
        uint64_t st;
        int k = fmt_varint_get(p + pos, p + hdr, &st);
        if (k == 0) {
            snprintf(why, whylen, "a serial type runs past the end of the header");
            return 1;
        }
        pos += (uint64_t)k;
        if (st == 10 || st == 11) {
            snprintf(why, whylen, "field %u has the invalid serial type %llu", f->n,
                     (unsigned long long)st);
            return 1;
        }
        uint64_t len = fmt_serial_size(st);
        if (len > size - data) {
            snprintf(why, whylen, "field %u runs past the end of the record", f->n);
            return 1;
        }
        if (fields_push(f, st, data) < 0)
            return FOLIO_NOMEM;
        data += len;
    }
    if (data != size) {
        snprintf(why, whylen, "the fields end at byte %llu of %llu", (unsigned long long)data,
                 (unsigned long long)size);
        return 1;
    }
    return 0;
}

/* The quick check's record_decode(), for the common record whose header
 * size and serial types take one byte each: 1 when it is well formed by
 * the same rules, 0 when record_decode() must say (it may be malformed). */
static int record_small_ok(const uint8_t *p, uint64_t size)
{
    static const uint8_t fixed[10] = {0, 1, 2, 3, 4, 6, 8, 8, 0, 0};
    if (size == 0 || p[0] >= 0x80 || p[0] == 0 || p[0] > size)
        return 0;
    uint32_t hdr = p[0], pos = 1;
    uint64_t data = hdr;
    for (; pos < hdr; pos++) {
        uint8_t st = p[pos];
        if (st >= 0x80 || st == 10 || st == 11)
            return 0;
        data += st < 10 ? fixed[st] : (uint32_t)(st - 12) / 2;
    }
    return data == size;
}

/* Field i of a decoded record. A NaN reads as NULL, as in SQLite. */
static void field_value(const uint8_t *base, const fields *f, uint32_t i, fmt_value *v)
{
    if (fmt_serial_decode(f->v[i].st, base + f->v[i].off, v) < 0)
        v->type = FMT_NULL; /* not reached: record_decode refuses types 10 and 11 */
    if (v->type == FMT_REAL && isnan(v->u.r))
        v->type = FMT_NULL;
}

/* Point a TEXT value of a UTF-16 file at a UTF-8 copy (scratch slot 0 or 1). */
static int to_utf8(chk *c, int slot, fmt_value *v)
{
    size_t n;
    if (text_utf16_to_utf8(v->u.s.p, (size_t)v->u.s.n, c->enc, &c->u8[slot], &c->u8cap[slot], &n) <
        0)
        return nomem(c);
    v->u.s.p = c->u8[slot];
    v->u.s.n = n;
    return 0;
}

/* Compare as SQLite does: BINARY compares the stored bytes in any encoding;
 * NOCASE and RTRIM are defined on UTF-8, so UTF-16 text is converted. */
static int value_cmp(chk *c, const fmt_value *a, const fmt_value *b, int coll)
{
    if (c->enc > 1 && coll != SCH_COLL_BINARY && a->type == FMT_TEXT && b->type == FMT_TEXT) {
        fmt_value ua = *a, ub = *b;
        if (to_utf8(c, 0, &ua) < 0 || to_utf8(c, 1, &ub) < 0)
            return 0;
        return sch_compare(&ua, &ub, coll);
    }
    return sch_compare(a, b, coll);
}

static int key_coll(const keyspec *ks, int i)
{
    return i < ks->ncmp ? ks->coll[i] : 0;
}
static int key_desc(const keyspec *ks, int i)
{
    return i < ks->ncmp ? ks->desc[i] : 0;
}

/* Compare the stored record (base, f) with the values v[0..n) - or, when v
 * is NULL, with the record b - in the order of ks; a record that runs out of
 * fields first sorts first. */
static int stored_cmp(chk *c, const uint8_t *base, const fields *f, const fmt_value *v, int n,
                      const rec *b, const keyspec *ks)
{
    for (int i = 0; i < n; i++) {
        uint32_t u = (uint32_t)i, bn = v ? UINT32_MAX : b->f.n;
        if (u >= f->n || u >= bn)
            return (u < f->n) - (u < bn);
        fmt_value s, o;
        field_value(base, f, u, &s);
        if (!v)
            field_value(b->buf, &b->f, u, &o);
        int r = value_cmp(c, &s, v ? &v[i] : &o, key_coll(ks, i));
        if (r)
            return key_desc(ks, i) ? -r : r;
    }
    return 0;
}

static int rec_cmp(chk *c, const rec *a, const rec *b, const keyspec *ks, int n)
{
    return stored_cmp(c, a->buf, &a->f, NULL, n, b, ks);
}

/* Whether SQLite's NUMERIC affinity would turn this text into a number: optional
 * spaces, a sign, digits with at most one '.', an exponent with digits, spaces. */
static int text_is_numeric(const uint8_t *z, size_t n)
{
    size_t i = 0;
    int digits = 0;
#define CHK_SPACE(ch) ((ch) == ' ' || ((ch) >= '\t' && (ch) <= '\r'))
#define CHK_DIGIT(ch) ((ch) >= '0' && (ch) <= '9')
    while (i < n && CHK_SPACE(z[i]))
        i++;
    if (i < n && (z[i] == '+' || z[i] == '-'))
        i++;
    for (; i < n && CHK_DIGIT(z[i]); i++)
        digits++;
    if (i < n && z[i] == '.')
        for (i++; i < n && CHK_DIGIT(z[i]); i++)
            digits++;
    if (i < n && (z[i] == 'e' || z[i] == 'E')) {
        int edigits = 0;
        i++;
        if (i < n && (z[i] == '+' || z[i] == '-'))
            i++;
        for (; i < n && CHK_DIGIT(z[i]); i++)
            edigits++;
        if (!edigits)
            return 0;
    }
    while (i < n && CHK_SPACE(z[i]))
        i++;
#undef CHK_SPACE
#undef CHK_DIGIT
    return i == n && digits > 0;
}

/* ---- order of index records ---- */

static void keyspec_free(keyspec *ks)
{
    os_free(ks->coll);
    os_free(ks->desc);
    memset(ks, 0, sizeof *ks);
}

static int keyspec_alloc(chk *c, keyspec *ks, int n)
{
    ks->coll = os_calloc((size_t)n + 1, 1);
    ks->desc = os_calloc((size_t)n + 1, 1);
    if (!ks->coll || !ks->desc)
        return nomem(c);
    return 0;
}

/* The order of index ix; left empty (structure checks only) when folio cannot
 * know it: expression keys, unknown collations, an unusable table definition. */
static int keyspec_index(chk *c, keyspec *ks, const db_table *tab, const db_index *ix)
{
    const sch_table *d = &tab->def;
    memset(ks, 0, sizeof *ks);
    if (!tab->parsed || !ix->cols || ix->has_expr || ix->nfields < ix->ncols)
        return 0;
    for (int k = 0; k < ix->ncols; k++)
        if (ix->coll[k] == SCH_COLL_UNKNOWN || ix->cols[k] < 0 || ix->cols[k] >= d->ncols)
            return 0;
    if (keyspec_alloc(c, ks, ix->nfields) < 0)
        return FOLIO_NOMEM;
    for (int k = 0; k < ix->ncols; k++) {
        ks->coll[k] = ix->coll[k];
        ks->desc[k] = ix->desc[k] && c->desc_ok;
    }
    /* The rowid sorts as an integer; a WITHOUT ROWID table's key columns
     * appended to the index keep the primary key's collation and order. */
    for (int k = ix->ncols; k < ix->nfields && d->without_rowid; k++) {
        int col = k - ix->ncols < ix->nsuffix ? ix->suffix_cols[k - ix->ncols] : -1, j = 0;
        while (j < d->npk && d->pk[j].col != col)
            j++;
        if (j == d->npk || tab->pk_coll[j] == SCH_COLL_UNKNOWN) {
            keyspec_free(ks);
            return 0;
        }
        /* The catalog knows the direction (an automatic index of a UNIQUE
         * constraint keeps these columns ascending). */
        ks->coll[k] = ix->fcoll ? ix->fcoll[k] : tab->pk_coll[j];
        ks->desc[k] = (ix->fdesc ? ix->fdesc[k] : tab->pk_desc[j]) && c->desc_ok;
    }
    ks->ncmp = ix->nfields;
    ks->nunique = ix->unique ? ix->ncols : 0;
    ks->nf_min = ks->nf_max = (uint32_t)ix->nfields;
    return 0;
}

/* The order of a WITHOUT ROWID table's b-tree: its primary key. */
static int keyspec_table(chk *c, keyspec *ks, const db_table *tab)
{
    const sch_table *d = &tab->def;
    memset(ks, 0, sizeof *ks);
    if (!tab->parsed || !d->without_rowid || d->npk <= 0)
        return 0;
    for (int k = 0; k < d->npk; k++)
        if (tab->pk_coll[k] == SCH_COLL_UNKNOWN)
            return 0;
    if (keyspec_alloc(c, ks, d->npk) < 0)
        return FOLIO_NOMEM;
    memcpy(ks->coll, tab->pk_coll, (size_t)d->npk);
    for (int k = 0; k < d->npk; k++)
        ks->desc[k] = tab->pk_desc[k] && c->desc_ok;
    ks->ncmp = ks->nunique = d->npk;
    ks->is_table = 1;
    ks->nf_min = (uint32_t)d->npk;
    ks->nf_max = UINT32_MAX; /* check_row() reports too many fields */
    return 0;
}

/* ---- b-tree pages ---- */

/* Decode the page header; report what is wrong with it when it is invalid. */
static int page_header_ok(chk *c, const uint8_t *data, uint32_t pgno, fmt_page *h)
{
    if (fmt_page_decode(data, pgno, c->usable, h) == 0)
        return 1;
    const uint8_t *p = data + (pgno == 1 ? FMT_DBHEADER_SIZE : 0);
    uint32_t start = fmt_get_u16(p + 5) ? fmt_get_u16(p + 5) : 65536;
    if (p[0] != FMT_PAGE_INDEX_INTERIOR && p[0] != FMT_PAGE_TABLE_INTERIOR &&
        p[0] != FMT_PAGE_INDEX_LEAF && p[0] != FMT_PAGE_TABLE_LEAF)
        report(c, pgno, "invalid b-tree page type %u", p[0]);
    else
        report(c, pgno,
               "invalid b-tree page header (%u cells, content area at %u of %u, %u fragmented "
               "bytes, first freeblock at %u%s)",
               fmt_get_u16(p + 3), start, c->usable, p[7], fmt_get_u16(p + 1),
               !(p[0] & 8) && !fmt_get_u32(p + 8) ? ", right child 0" : "");
    return 0;
}

/* Parse the cell at off, or say why it cannot be parsed: a zero child or
 * overflow page number, else bytes past the end of the page. */
static int cell_parse_why(chk *c, const uint8_t *data, const fmt_page *h, uint32_t off,
                          fmt_cell *cell, const char **why)
{
    const uint8_t *p = data + off, *end = data + c->usable;
    int leaf_table = h->type == FMT_PAGE_TABLE_LEAF, k;
    uint64_t size, key;
    if (fmt_cell_parse(data, h, off, cell) == 0)
        return 1;
    *why = "extends off the end of the page";
    if (!h->is_leaf) {
        if (end - p < 4)
            return 0;
        if (fmt_get_u32(p) == 0)
            *why = "child page number is 0";
        p += 4;
    }
    if (h->type == FMT_PAGE_TABLE_INTERIOR || (k = fmt_varint_get(p, end, &size)) == 0)
        return 0;
    p += k;
    if (leaf_table && (k = fmt_varint_get(p, end, &key)) == 0)
        return 0;
    p += leaf_table ? k : 0;
    uint32_t local = fmt_payload_local(c->usable, leaf_table, size);
    if (size <= 0x7fffffff && local < size && (uint64_t)(end - p) >= (uint64_t)local + 4 &&
        fmt_get_u32(p + local) == 0)
        *why = "overflow page number is 0";
    return 0;
}

/* Mark [off, off + len) of the content area as used; 1 if part already was.
 * A word of the bitmap at a time: cells are mostly a few bytes long. */
static int cover(chk *c, uint32_t off, uint32_t len, uint32_t *covered)
{
    if (len == 0)
        return 0;
    uint32_t first = off / 64, last = (off + len - 1) / 64;
    if (first == last) {
        uint64_t mask = (~0ull >> (63 - (off + len - 1) % 64)) & (~0ull << off % 64);
        if (c->cover[first] & mask)
            return 1;
        c->cover[first] |= mask;
        *covered += len;
        return 0;
    }
    for (uint32_t w = first; w <= last; w++) {
        uint32_t lo = w == first ? off % 64 : 0, hi = w == last ? (off + len - 1) % 64 : 63;
        uint64_t mask = (~0ull >> (63 - hi)) & (~0ull << lo);
        if (c->cover[w] & mask)
            return 1;
    }
    for (uint32_t w = first; w <= last; w++) {
        uint32_t lo = w == first ? off % 64 : 0, hi = w == last ? (off + len - 1) % 64 : 63;
        c->cover[w] |= (~0ull >> (63 - hi)) & (~0ull << lo);
    }
    *covered += len;
    return 0;
}

static int visit_cell(chk *c, tree *t, uint32_t pgno, const fmt_page *h, uint32_t i,
                      const fmt_cell *cell);

/* Cells and freeblocks lie in the content area without overlapping, and the
 * bytes they leave over are exactly the fragmented byte count. With `visit`
 * (the quick check's leaves) each cell is also visited as it is parsed, so
 * that it is parsed once: 0, or an error of a visit. */
static int check_page_space(chk *c, uint32_t pgno, const uint8_t *data, const fmt_page *h,
                            tree *visit)
{
    uint32_t usable = c->usable, start = h->content_start, covered = 0;
    int before = c->nerr, overlap = 0, visit_errs = 0, rc = 0;
    const char *why;
    memset(c->cover, 0, (usable + 63) / 64 * sizeof *c->cover);
    for (uint32_t i = 0; i < h->ncells && !c->stop; i++) {
        uint32_t off = fmt_page_cell_off(data, h, i);
        fmt_cell cell;
        if (off < start || off > usable - 4) {
            report(c, pgno, "cell %u: offset %u out of range %u..%u", i, off, start, usable - 4);
            continue;
        }
        if (!cell_parse_why(c, data, h, off, &cell, &why)) {
            report(c, pgno, "cell %u at offset %u: %s", i, off, why);
            continue;
        }
        if (!overlap && cover(c, off, cell.cell_size, &covered)) {
            report(c, pgno, "cell %u at offset %u overlaps another cell", i, off);
            c->nspace++;
            overlap = 1;
        }
        if (visit) {
            int e0 = c->nerr;
            if ((rc = visit_cell(c, visit, pgno, h, i, &cell)) < 0)
                return rc;
            visit_errs += c->nerr - e0;
        }
    }
    before += visit_errs;
    /* Each freeblock starts at least 4 bytes past the end of the one before,
     * so the walk ends within usable/4 steps. */
    uint32_t fb = h->first_freeblock, last_end = 0;
    int cells_done = c->nerr;
    while (fb && !overlap && !c->stop) {
        if (fb < start || fb > usable - 4) {
            report(c, pgno, "freeblock offset %u out of range %u..%u", fb, start, usable - 4);
            break;
        }
        if (last_end && fb < last_end + 4) {
            report(c, pgno, "freeblock at offset %u is out of order or adjacent to the one before",
                   fb);
            break;
        }
        uint32_t next = fmt_get_u16(data + fb), size = fmt_get_u16(data + fb + 2);
        if (size < 4 || fb + size > usable) {
            report(c, pgno, "freeblock at offset %u has the bad size %u", fb, size);
            break;
        }
        if (cover(c, fb, size, &covered)) {
            report(c, pgno, "freeblock at offset %u overlaps a cell", fb);
            break;
        }
        last_end = fb + size;
        fb = next;
    }
    if (c->nerr == before && !c->stop && usable - start - covered != h->frag_bytes)
        report(c, pgno, "fragmentation of %u bytes reported as %u", usable - start - covered,
               h->frag_bytes);
    c->nspace += c->nerr - cells_done;
    return 0;
}

/* Cell i for the in-order walk; cells that cannot be parsed were reported. */
static int cell_at(const chk *c, const uint8_t *data, const fmt_page *h, uint32_t i, fmt_cell *cell)
{
    uint32_t off = fmt_page_cell_off(data, h, i);
    uint32_t ptr_end = h->hdr_off + h->hdr_size + 2 * h->ncells;
    if (off < ptr_end || off >= c->usable)
        return 0;
    return fmt_cell_parse(data, h, off, cell) == 0;
}

/* ---- payloads ---- */

static int rec_reserve(chk *c, rec *r, uint64_t n)
{
    if (n <= r->cap)
        return 0;
    uint64_t cap = r->cap ? r->cap : 256;
    while (cap < n)
        cap *= 2;
    if (cap > (uint64_t)SIZE_MAX / 2)
        return nomem(c);
    uint8_t *b = os_realloc(r->buf, (size_t)cap);
    if (!b)
        return nomem(c);
    r->buf = b;
    r->cap = (size_t)cap;
    return 0;
}

/* Copy the start of the payload of cell i on page pgno into r, claiming its
 * overflow chain. Returns 1 when the chain is right, 0 when not (reported). */
static int read_payload(chk *c, uint32_t pgno, uint32_t i, const fmt_cell *cell, rec *r)
{
    uint64_t size = cell->payload_size, k = 0;
    uint64_t want = size < PAYLOAD_PREFIX ? size : PAYLOAD_PREFIX;
    uint32_t per = c->usable - 4, ov = cell->overflow, from = pgno;
    uint64_t need = cell->local < size ? (size - cell->local + per - 1) / per : 0;
    int rc, broken = 0;
    if ((rc = rec_reserve(c, r, want + 1)) < 0) /* + 1: never a NULL buffer */
        return rc;
    memcpy(r->buf, cell->payload, cell->local);
    r->cell = *cell;
    r->size = size;
    r->have = cell->local;
    /* Claims bound the walk: a page is followed at most once. */
    while (ov && !c->stop) {
        if (!claim(c, ov, from, "an overflow page")) {
            broken = 1;
            break;
        }
        if ((rc = ptrmap_expect(c, ov, k ? PTRMAP_OVERFLOW2 : PTRMAP_OVERFLOW1, from)) < 0)
            return rc;
        pg *p;
        if ((rc = pager_get(&p, c->pt, ov)) < 0)
            return rc;
        if (r->have < want) {
            uint64_t n = want - r->have < per ? want - r->have : per;
            memcpy(r->buf + r->have, p->data + 4, (size_t)n);
            r->have += n;
        }
        from = ov;
        ov = fmt_get_u32(p->data);
        pager_unref(p);
        k++;
    }
    if (!broken && !c->stop && k != need) {
        report(c, pgno, "cell %u: overflow list length is %llu but should be %llu", i,
               (unsigned long long)k, (unsigned long long)need);
        broken = 1;
    }
    return broken || c->stop ? 0 : 1;
}

/* Make the first n payload bytes of the current record available (the
 * chain was checked by read_payload(); its page is still pinned). */
static int rec_need(chk *c, rec *r, uint64_t n)
{
    int rc;
    if (n <= r->have)
        return 0;
    if ((rc = rec_reserve(c, r, n)) < 0)
        return rc;
    if ((rc = bt_read_payload(c->pt, c->usable, &r->cell, r->have, n - r->have, r->buf + r->have)) <
        0)
        return rc;
    r->have = n;
    return 0;
}

static uint64_t field_end(const rec *r, uint32_t i)
{
    return r->f.v[i].off + fmt_serial_size(r->f.v[i].st);
}

/* Decode the header of the current record: 0, 1 if malformed, or an error. */
static int rec_decode(chk *c, rec *r, char *why, size_t whylen)
{
    uint64_t hdr;
    int rc;
    if (fmt_varint_get(r->buf, r->buf + r->have, &hdr) && hdr <= r->size &&
        (rc = rec_need(c, r, hdr)) < 0)
        return rc;
    rc = record_decode(&r->f, r->buf, r->size, why, whylen);
    return rc < 0 ? nomem(c) : rc;
}

/* ---- rows ---- */

/* Which row a message is about: "row R", or "cell I" (of a WITHOUT ROWID
 * table's page), made into text only when a message needs it (most rows
 * need none). */
typedef struct rowref {
    int64_t rowid;
    uint32_t celli;
    int by_cell;
    char text[48];
} rowref;

static const char *row_label(rowref *r)
{
    if (!r->text[0]) {
        if (r->by_cell)
            snprintf(r->text, sizeof r->text, "cell %u", r->celli);
        else
            snprintf(r->text, sizeof r->text, "row %lld", (long long)r->rowid);
    }
    return r->text;
}

static int is_pk_col(const sch_table *d, int col)
{
    for (int j = 0; j < d->npk; j++)
        if (d->pk[j].col == col)
            return 1;
    return 0;
}

/* NOT NULL, STRICT types and SQLite's affinity rules for column col of a row. */
static int check_column(chk *c, const db_table *tab, rec *r, int col, uint32_t pgno, rowref *label)
{
    const sch_table *d = &tab->def;
    const sch_column *cd = &d->cols[col];
    int field = tab->col_field[col];
    int rc;
    if ((!d->without_rowid && col == d->ipk) || cd->hidden == 2 || field < 0)
        return 0; /* the rowid itself, or a column computed on reading */
    int notnull = cd->notnull || (d->without_rowid && is_pk_col(d, col));
    if ((uint32_t)field >= r->f.n) {
        /* A row older than ALTER TABLE ADD COLUMN: the default stands in. */
        folio_value dv;
        if (notnull && row_default(cd, &dv) == 0 && dv.type == FOLIO_NULL)
            report(c, pgno, "%s: NULL value in %s.%s", row_label(label), tab->name, cd->name);
        return 0;
    }
    /* The serial type tells the storage class; the bytes are read only for a
     * REAL (a NaN is NULL) and for text that numeric affinity might convert. */
    uint64_t st = r->f.v[field].st;
    int numeric = !d->strict && cd->affinity != SCH_AFF_TEXT && cd->affinity != SCH_AFF_BLOB;
    fmt_value v;
    v.type = st == 0   ? FMT_NULL
             : st == 7 ? FMT_REAL
             : st < 12 ? FMT_INTEGER
             : st & 1  ? FMT_TEXT
                       : FMT_BLOB;
    if (v.type == FMT_REAL || (v.type == FMT_TEXT && numeric)) {
        if ((rc = rec_need(c, r, field_end(r, (uint32_t)field))) < 0)
            return rc;
        field_value(r->buf, &r->f, (uint32_t)field, &v);
    }
    if (v.type == FMT_NULL) {
        if (notnull)
            report(c, pgno, "%s: NULL value in %s.%s", row_label(label), tab->name, cd->name);
        return 0;
    }
    if (d->strict) {
        /* Storage classes (bit FMT_*) each STRICT type accepts; a REAL column
         * keeps integral values as integers. */
        static const uint8_t accepts[] = {0x1f, 0x02, 0x06, 0x08, 0x10, 0x1f};
        static const char *const names[] = {"", "INTEGER", "REAL", "TEXT", "BLOB", "ANY"};
        int k = cd->strict_type >= 0 && cd->strict_type <= SCH_STRICT_ANY ? cd->strict_type : 0;
        if (!((accepts[k] >> v.type) & 1))
            report(c, pgno, "%s: non-%s value in %s.%s", row_label(label), names[k], tab->name,
                   cd->name);
    } else if (cd->affinity == SCH_AFF_TEXT) {
        if (v.type == FMT_INTEGER || v.type == FMT_REAL)
            report(c, pgno, "%s: NUMERIC value in %s.%s", row_label(label), tab->name, cd->name);
    } else if (numeric && v.type == FMT_TEXT) {
        if (c->enc > 1 && to_utf8(c, 0, &v) < 0)
            return c->fatal;
        if (text_is_numeric(v.u.s.p, (size_t)v.u.s.n))
            report(c, pgno, "%s: TEXT value in %s.%s", row_label(label), tab->name, cd->name);
    }
    return 0;
}

/* The value column col has in row r, as an index stores it (its bytes are in
 * r->buf). Returns 0 when folio cannot be sure (a default that SQLite converts
 * by affinity). */
static int column_value(chk *c, const db_table *tab, const rec *r, int64_t rowid, int col,
                        fmt_value *out)
{
    const sch_table *d = &tab->def;
    if (col < 0 || col >= d->ncols)
        return 0;
    if (!d->without_rowid && col == d->ipk) {
        out->type = FMT_INTEGER;
        out->u.i = rowid;
        return 1;
    }
    int field = tab->col_field[col];
    if (field < 0)
        return 0;
    if ((uint32_t)field < r->f.n) {
        field_value(r->buf, &r->f, (uint32_t)field, out);
        return 1;
    }
    folio_value dv;
    int aff = d->cols[col].affinity;
    if (row_default(&d->cols[col], &dv) < 0)
        return 0;
    if (((dv.type == FOLIO_INTEGER || dv.type == FOLIO_REAL) && aff == SCH_AFF_TEXT) ||
        (dv.type == FOLIO_TEXT && (c->enc > 1 || (aff != SCH_AFF_TEXT && aff != SCH_AFF_BLOB))))
        return 0;
    out->type = (int)dv.type; /* FMT_* numbers the storage classes as folio_type does */
    if (dv.type == FOLIO_INTEGER)
        out->u.i = dv.u.i;
    else if (dv.type == FOLIO_REAL)
        out->u.r = dv.u.r;
    else
        out->u.s.p = dv.u.s.p, out->u.s.n = dv.u.s.n;
    return 1;
}

/* ---- the hashes of index entries (see (8) above) ---- */

#define KEY_K1 0x9e3779b97f4a7c15ull
#define KEY_K2 0xc2b2ae3d27d4eb4full

static uint64_t key_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= KEY_K2;
    return x ^ (x >> 29);
}

static uint64_t key_step(uint64_t h, uint64_t w)
{
    h ^= w * KEY_K2;
    h = (h << 31 | h >> 33) * KEY_K1;
    return h;
}

static uint64_t key_bytes(uint64_t h, const uint8_t *p, uint64_t n)
{
    h = key_step(h, n);
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = key_step(h, w);
    }
    uint64_t w = 0;
    for (uint64_t i = 0; i < n; i++)
        w |= (uint64_t)p[i] << (8 * i);
    return key_step(h, w);
}

/* One value into the hash of an entry: equal for values an index lookup
 * finds equal with BINARY (numbers by value, text and blobs by bytes). */
static uint64_t key_value(uint64_t h, const fmt_value *v)
{
    switch (v->type) {
    case FMT_INTEGER:
        return key_step(key_step(h, 1), (uint64_t)v->u.i);
    case FMT_REAL:
        /* An integral value in range hashes as the integer it equals. */
        if (v->u.r >= -9223372036854775808.0 && v->u.r < 9223372036854775808.0 &&
            v->u.r == (double)(int64_t)v->u.r)
            return key_step(key_step(h, 1), (uint64_t)(int64_t)v->u.r);
        {
            uint64_t bits;
            double r = v->u.r;
            memcpy(&bits, &r, 8);
            return key_step(key_step(h, 2), bits);
        }
    case FMT_TEXT:
        return key_bytes(key_step(h, 3), v->u.s.p, v->u.s.n);
    case FMT_BLOB:
        return key_bytes(key_step(h, 4), v->u.s.p, v->u.s.n);
    default:
        return key_step(h, 5);
    }
}

static uint64_t key_hash(const fmt_value *vals, int n)
{
    uint64_t h = KEY_K1 * (uint64_t)(n + 1);
    for (int i = 0; i < n; i++)
        h = key_value(h, &vals[i]);
    return key_mix(h);
}

/* The hash of the index entry in r (all of its fields, in r->buf). */
static uint64_t entry_hash(const rec *r)
{
    uint64_t h = KEY_K1 * (uint64_t)(r->f.n + 1);
    for (uint32_t i = 0; i < r->f.n; i++) {
        fmt_value v;
        field_value(r->buf, &r->f, i, &v);
        h = key_value(h, &v);
    }
    return key_mix(h);
}

typedef struct lookup {
    chk *c;
    const fmt_value *vals;
    int n;
    const keyspec *ks;
} lookup;

static int lookup_cmp(void *ctx, const uint8_t *recp, uint64_t size, int *out)
{
    lookup *lk = ctx;
    char why[96];
    int rc = record_decode(&lk->c->lk, recp, size, why, sizeof why);
    if (rc < 0)
        return nomem(lk->c);
    if (rc > 0)
        return ptxn_error(lk->c->pt, FOLIO_CORRUPT, "malformed index record: %s", why);
    *out = stored_cmp(lk->c, recp, &lk->c->lk, lk->vals, lk->n, NULL, lk->ks);
    return lk->c->fatal;
}

/* The values of the index entry the row in t->cur makes, in c->vals:
 * 1, 0 when folio cannot be sure of one (column_value), or an error. */
static int row_key(chk *c, tree *t, const idxchk *x, int64_t rowid)
{
    const db_index *ix = x->ix;
    const db_table *tab = t->tab;
    int n = ix->nfields, rc;
    if (n > c->nvals) {
        fmt_value *v = os_realloc(c->vals, sizeof *v * (size_t)n);
        if (!v)
            return nomem(c);
        c->vals = v;
        c->nvals = n;
    }
    /* Bring in the bytes of every key column first: that may move r->buf. */
    for (int k = 0; k < ix->ncols + ix->nsuffix; k++) {
        int col = k < ix->ncols ? ix->cols[k] : ix->suffix_cols[k - ix->ncols];
        int field = col >= 0 && col < tab->def.ncols ? tab->col_field[col] : -1;
        if (field >= 0 && (uint32_t)field < t->cur->f.n &&
            (rc = rec_need(c, t->cur, field_end(t->cur, (uint32_t)field))) < 0)
            return rc;
    }
    for (int k = 0; k < ix->ncols + ix->nsuffix; k++) {
        int col = k < ix->ncols ? ix->cols[k] : ix->suffix_cols[k - ix->ncols];
        if (!column_value(c, tab, t->cur, rowid, col, &c->vals[k]))
            return 0;
    }
    if (!tab->def.without_rowid) {
        c->vals[ix->ncols].type = FMT_INTEGER;
        c->vals[ix->ncols].u.i = rowid;
    }
    return 1;
}

/* Add the hash of the entry the row in t->cur makes to x's sum. */
static int hash_row(chk *c, tree *t, idxchk *x, int64_t rowid)
{
    int rc = row_key(c, t, x, rowid);
    if (rc < 0)
        return rc;
    if (rc == 0)
        x->unsure = 1;
    else
        x->row_sum += key_hash(c->vals, x->ix->nfields);
    return 0;
}

/* Find the index entry of the row in t->cur; report it missing or different. */
static int lookup_row(chk *c, tree *t, idxchk *x, uint32_t pgno, rowref *label, int64_t rowid)
{
    const db_index *ix = x->ix;
    int n = ix->nfields;
    int rc = row_key(c, t, x, rowid);
    if (rc <= 0)
        return rc;
    lookup lk = {c, c->vals, n, &x->ks};
    int found = 0;
    rc = bt_seek_ge(&x->cur, lookup_cmp, &lk, 1);
    if (rc == FOLIO_ROW) {
        const uint8_t *p;
        uint64_t size;
        int r;
        if ((rc = bt_payload(&x->cur, &p, &size)) == 0 && (rc = lookup_cmp(&lk, p, size, &r)) == 0)
            found = r == 0;
        if (found) {
            /* Columns of other collations must still hold the row's exact value. */
            for (int k = 0; k < ix->ncols; k++) {
                fmt_value s;
                if (x->ks.coll[k] == SCH_COLL_BINARY)
                    continue;
                field_value(p, &c->lk, (uint32_t)k, &s);
                if (sch_compare(&s, &c->vals[k], SCH_COLL_BINARY) != 0) {
                    report(c, pgno, "%s values differ from index %s", row_label(label), ix->name);
                    break;
                }
            }
        }
    }
    bt_cursor_reset(&x->cur);
    if (c->fatal)
        return c->fatal;
    if (rc < 0 && rc != FOLIO_CORRUPT)
        return rc;
    if (rc == FOLIO_CORRUPT) {
        report(c, 0, "index %s: a lookup failed (%s); its rows are not checked further", ix->name,
               ptxn_errmsg(c->pt));
        x->lookups = 0;
    } else if (!found) {
        report(c, pgno, "%s missing from index %s", row_label(label), ix->name);
    }
    return 0;
}

/* All checks of one table row (the record is in t->cur). */
static int check_row(chk *c, tree *t, uint32_t pgno, uint32_t celli, int64_t rowid)
{
    const db_table *tab = t->tab;
    const sch_table *d = &tab->def;
    rowref ref = {rowid, celli, d->without_rowid, ""}, *label = &ref;
    int rc;
    if (t->cur->f.n > (uint32_t)tab->nstored)
        report(c, pgno, "%s has %u fields, more than the %d stored columns of %s", row_label(label),
               t->cur->f.n, tab->nstored, tab->name);
    for (int col = 0; col < d->ncols && !c->stop; col++)
        if ((rc = check_column(c, tab, t->cur, col, pgno, label)) < 0)
            return rc;
    for (int k = 0; k < t->nix && !c->stop; k++) {
        idxchk *x = &t->ix[k];
        if (x->lookups && (rc = x->hashed ? hash_row(c, t, x, rowid)
                                          : lookup_row(c, t, x, pgno, label, rowid)) < 0)
            return rc;
    }
    return c->fatal;
}

/* ---- the walk ---- */

static int has_null(const rec *r, int n)
{
    for (int i = 0; i < n && (uint32_t)i < r->f.n; i++) {
        fmt_value v;
        field_value(r->buf, &r->f, (uint32_t)i, &v);
        if (v.type == FMT_NULL)
            return 1;
    }
    return 0;
}

/* An entry of an index b-tree (or a WITHOUT ROWID table) in t->cur. */
static int visit_index_entry(chk *c, tree *t, uint32_t pgno, uint32_t i)
{
    const keyspec *ks = t->ks;
    rec *cur = t->cur;
    if (ks && (cur->f.n < ks->nf_min || cur->f.n > ks->nf_max)) {
        /* Not a usable key: report it and keep comparing with the last good one. */
        report(c, pgno, "cell %u: record of %s has %u fields, expected %u", i, t->name, cur->f.n,
               ks->nf_min);
        return t->tab ? check_row(c, t, pgno, i, 0) : 0;
    }
    if (ks && t->have_prev) {
        int dup = 0;
        if (ks->nunique && rec_cmp(c, cur, t->prev, ks, ks->nunique) == 0 &&
            (ks->is_table || !has_null(cur, ks->nunique))) {
            dup = 1;
            if (ks->is_table)
                report(c, pgno, "cell %u: duplicate primary key in %s", i, t->name);
            else
                report(c, pgno, "cell %u: non-unique entry in index %s", i, t->name);
        }
        int r = rec_cmp(c, cur, t->prev, ks, ks->ncmp);
        if (r < 0 || (r == 0 && !dup))
            report(c, pgno, "cell %u: entry out of order in %s", i, t->name);
    }
    int rc = t->tab ? check_row(c, t, pgno, i, 0) : 0;
    if (rc >= 0 && t->entry_sum && cur->f.n) {
        if ((rc = rec_need(c, cur, field_end(cur, cur->f.n - 1))) >= 0)
            *t->entry_sum += entry_hash(cur);
    }
    t->cur = t->prev;
    t->prev = cur;
    t->have_prev = 1;
    return rc < 0 ? rc : c->fatal;
}

static int visit_cell(chk *c, tree *t, uint32_t pgno, const fmt_page *h, uint32_t i,
                      const fmt_cell *cell)
{
    char why[128];
    if (h->type == FMT_PAGE_TABLE_INTERIOR) {
        /* The key divides: >= every rowid to its left, < every rowid after. */
        if (t->have_prev && cell->rowid < t->prev_rowid)
            report(c, pgno, "cell %u: key %lld is less than rowid %lld before it", i,
                   (long long)cell->rowid, (long long)t->prev_rowid);
        t->prev_rowid = cell->rowid;
        t->have_prev = 1;
        return 0;
    }
    t->entries++;
    if (h->is_table) {
        if (t->have_prev && cell->rowid <= t->prev_rowid)
            report(c, pgno, "rowid %lld out of order (after %lld)", (long long)cell->rowid,
                   (long long)t->prev_rowid);
        t->prev_rowid = cell->rowid;
        t->have_prev = 1;
    }
    int rc;
    if (c->quick && cell->local == cell->payload_size) {
        /* The record's format, read where it lies (as SQLite's quick_check
         * does, which reads each record's header too). */
        rc = record_small_ok(cell->payload, cell->payload_size)
                 ? 0
                 : record_decode(&t->cur->f, cell->payload, cell->payload_size, why, sizeof why);
        if (rc < 0)
            return nomem(c);
    } else {
        if ((rc = read_payload(c, pgno, i, cell, t->cur)) <= 0)
            return rc;
        if ((rc = rec_decode(c, t->cur, why, sizeof why)) < 0)
            return rc;
    }
    if (rc > 0) {
        if (h->is_table)
            report(c, pgno, "row %lld: malformed record: %s", (long long)cell->rowid, why);
        else
            report(c, pgno, "cell %u: malformed record: %s", i, why);
        return 0;
    }
    if (c->quick)
        return 0;
    if (!h->is_table) {
        /* The fields that order the entries stay with it as t->prev. */
        uint32_t n =
            t->ks && (uint32_t)t->ks->ncmp < t->cur->f.n ? (uint32_t)t->ks->ncmp : t->cur->f.n;
        if (t->ks && n && (rc = rec_need(c, t->cur, field_end(t->cur, n - 1))) < 0)
            return rc;
        return visit_index_entry(c, t, pgno, i);
    }
    return t->tab ? check_row(c, t, pgno, i, cell->rowid) : 0;
}

static int walk_page(chk *c, tree *t, uint32_t pgno, int depth);

static int descend(chk *c, tree *t, uint32_t child, uint32_t parent, int depth)
{
    if (!claim(c, child, parent, "a child page"))
        return 0;
    int rc = ptrmap_expect(c, child, PTRMAP_BTREE, parent);
    return rc < 0 ? rc : walk_page(c, t, child, depth + 1);
}

/* Check page pgno at `depth` (root = 1) and its subtree, entries in order.
 * Recursion is bounded by BT_MAX_DEPTH; the page stays pinned meanwhile. */
static int walk_page(chk *c, tree *t, uint32_t pgno, int depth)
{
    pg *p;
    fmt_page h;
    int rc = pager_get(&p, c->pt, pgno);
    if (rc < 0)
        return rc;
    if (!page_header_ok(c, p->data, pgno, &h))
        goto done;
    if (h.is_table != (t->intkey != 0)) {
        report(c, pgno, "%s page in the %s b-tree of %s", h.is_table ? "table" : "index",
               t->intkey ? "table" : "index", t->name);
        goto done;
    }
    if (h.is_leaf) {
        if (t->leaf_depth < 0)
            t->leaf_depth = depth;
        else if (t->leaf_depth != depth)
            report(c, pgno, "leaf at depth %d, but other leaves of %s are at depth %d", depth,
                   t->name, t->leaf_depth);
    } else if (depth >= BT_MAX_DEPTH) {
        report(c, pgno, "b-tree %s is deeper than %d levels", t->name, BT_MAX_DEPTH);
        goto done;
    }
    if (c->quick && h.is_leaf) {
        /* (each cell visited as its space is checked) */
        rc = check_page_space(c, pgno, p->data, &h, t);
        goto done;
    }
    check_page_space(c, pgno, p->data, &h, NULL);
    for (uint32_t i = 0; i < h.ncells && !c->stop; i++) {
        fmt_cell cell;
        if (!cell_at(c, p->data, &h, i, &cell))
            continue;
        if (!h.is_leaf && (rc = descend(c, t, cell.left_child, pgno, depth)) < 0)
            goto done;
        if (!c->stop && (rc = visit_cell(c, t, pgno, &h, i, &cell)) < 0)
            goto done;
    }
    if (!h.is_leaf && !c->stop)
        rc = descend(c, t, h.right_child, pgno, depth);
done:
    pager_unref(p);
    return rc;
}

static void tree_init(tree *t, const char *name, uint32_t root, int intkey, const keyspec *ks,
                      const db_table *tab)
{
    memset(t, 0, sizeof *t);
    t->name = name;
    t->root = root;
    t->intkey = intkey;
    t->leaf_depth = -1;
    t->ks = ks && ks->ncmp ? ks : NULL;
    t->tab = tab;
    t->cur = &t->recs[0];
    t->prev = &t->recs[1];
}

static void tree_free(tree *t)
{
    for (int i = 0; i < 2; i++) {
        os_free(t->recs[i].buf);
        fields_free(&t->recs[i].f);
    }
}

static int walk_tree(chk *c, tree *t)
{
    char role[300];
    int rc;
    snprintf(role, sizeof role, "the root page of %s", t->name);
    if (c->stop || !claim(c, t->root, 0, role))
        return 0;
    if ((rc = ptrmap_expect(c, t->root, PTRMAP_ROOTPAGE, 0)) < 0)
        return rc;
    if (t->intkey < 0) {
        /* The definition could not be used: the root page says the kind. */
        pg *p;
        if ((rc = pager_get(&p, c->pt, t->root)) < 0)
            return rc;
        uint8_t type = p->data[t->root == 1 ? FMT_DBHEADER_SIZE : 0];
        t->intkey = type != FMT_PAGE_INDEX_INTERIOR && type != FMT_PAGE_INDEX_LEAF;
        pager_unref(p);
    }
    return walk_page(c, t, t->root, 1);
}

/* ---- objects ---- */

/* The indexes whose sums do not agree with the rows (or that a row could
 * not be hashed for): walk the table again, by a cursor, and look every row
 * up in them, to report which rows are missing or differ. The first walk
 * reported everything else (and claimed the pages); a table it found
 * damaged is not read again. */
static int recheck_rows(chk *c, const db_table *tab, idxchk *xs, uint64_t rows)
{
    int nre = 0;
    for (int j = 0; j < tab->nidx; j++) {
        idxchk *x = &xs[j];
        int again = x->lookups && x->hashed &&
                    (x->unsure || x->entry_sum != x->row_sum || x->entries != rows);
        x->hashed = 0;
        if (!again)
            x->lookups = 0;
        nre += again;
    }
    if (!nre || c->stop)
        return 0;
    int intkey = !tab->def.without_rowid;
    tree t;
    tree_init(&t, tab->name, tab->root, intkey, NULL, tab);
    t.ix = xs;
    t.nix = tab->nidx;
    bt_cursor cur;
    bt_cursor_init(&cur, c->pt, tab->root, intkey);
    int rc;
    for (rc = bt_first(&cur); rc == FOLIO_ROW && !c->stop; rc = bt_next(&cur)) {
        const uint8_t *p;
        uint64_t n;
        char why[128];
        if ((rc = bt_payload(&cur, &p, &n)) < 0)
            break;
        rec *r = t.cur;
        if ((rc = rec_reserve(c, r, n + 1)) < 0)
            break;
        memcpy(r->buf, p, (size_t)n);
        r->size = r->have = n; /* (rec_need never reads more) */
        if ((rc = rec_decode(c, r, why, sizeof why)) < 0)
            break;
        if (rc > 0) {
            rc = FOLIO_ROW;
            continue; /* malformed: the first walk said so */
        }
        uint32_t pgno = bt_cursor_pgno(&cur);
        int64_t rowid = intkey ? bt_rowid(&cur) : 0;
        rowref label = {rowid, cur.idx[cur.depth - 1], !intkey, ""};
        for (int j = 0; j < tab->nidx && !c->stop; j++)
            if (xs[j].lookups && (rc = lookup_row(c, &t, &xs[j], pgno, &label, rowid)) < 0)
                break;
        if (rc < 0)
            break;
        rc = FOLIO_ROW;
    }
    bt_cursor_release(&cur);
    tree_free(&t);
    if (c->fatal)
        return c->fatal;
    /* (a table the first walk found damaged may stop the cursor: reported) */
    return rc < 0 && rc != FOLIO_CORRUPT ? rc : 0;
}

/* A table and its indexes: the indexes first (their entries counted and
 * hashed), then the rows, each hashed as the entry it makes in every index
 * whose key folio can build, then (recheck_rows) looked up in the indexes
 * whose hashes do not agree. */
static int check_table(chk *c, const db_table *tab)
{
    int rc = 0;
    idxchk *xs = NULL;
    keyspec tks;
    memset(&tks, 0, sizeof tks);
    if (!tab->root)
        return 0; /* a virtual table */
    if (tab->nidx && !(xs = os_calloc((size_t)tab->nidx, sizeof *xs)))
        return nomem(c);
    for (int j = 0; j < tab->nidx && !c->stop; j++) {
        idxchk *x = &xs[j];
        db_index *ix = tab->idx[j];
        x->ix = ix;
        if ((rc = keyspec_index(c, &x->ks, tab, ix)) < 0)
            goto done;
        if (!ix->root)
            continue;
        int nerr = c->nerr, nspace = c->nspace;
        tree it;
        tree_init(&it, ix->name, ix->root, 0, &x->ks, NULL);
        it.entry_sum = &x->entry_sum;
        rc = walk_tree(c, &it);
        x->entries = it.entries;
        tree_free(&it);
        if (rc < 0)
            goto done;
        /* Rows are looked up when every cell of the index was readable (its
         * payload size matches its overflow chain, so a lookup never reads or
         * allocates more than the file holds); problems of free space alone,
         * as SQLite would, do not stop the lookups. */
        x->lookups = !c->quick && c->nerr - nerr == c->nspace - nspace &&
                     x->ks.ncmp == ix->nfields && x->ks.ncmp > 0 && !ix->partial && !ix->has_expr;
        if (x->lookups) {
            bt_cursor_init(&x->cur, c->pt, ix->root, 0);
            x->cur_init = 1;
            x->hashed = 1;
        }
    }
    if ((rc = keyspec_table(c, &tks, tab)) < 0)
        goto done;
    tree tt;
    tree_init(&tt, tab->name, tab->root, tab->parsed ? !tab->def.without_rowid : -1, &tks,
              tab->parsed ? tab : NULL);
    tt.ix = xs;
    tt.nix = tab->nidx;
    rc = walk_tree(c, &tt);
    tree_free(&tt);
    if (rc < 0)
        goto done;
    if ((rc = recheck_rows(c, tab, xs, tt.entries)) < 0)
        goto done;
    for (int j = 0; j < tab->nidx && !c->stop; j++) {
        const db_index *ix = xs[j].ix;
        if (tab->parsed && ix->cols && !ix->partial && ix->root && xs[j].entries != tt.entries)
            report(c, 0, "wrong # of entries in index %s: %llu entries for %llu rows of %s",
                   ix->name, (unsigned long long)xs[j].entries, (unsigned long long)tt.entries,
                   tab->name);
    }
done:
    for (int j = 0; xs && j < tab->nidx; j++) {
        if (xs[j].cur_init)
            bt_cursor_release(&xs[j].cur);
        keyspec_free(&xs[j].ks);
    }
    os_free(xs);
    keyspec_free(&tks);
    return rc < 0 ? rc : c->fatal;
}

/* Whether the schema entry e is a table or index of the parsed catalog. */
static int entry_known(const db_catalog *cat, const folio_schema_entry *e)
{
    for (int i = 0; i < cat->ntables; i++) {
        const db_table *t = cat->tables[i];
        if (t->root == e->rootpage && sch_ident_eq(t->name, e->name))
            return 1;
        for (int j = 0; j < t->nidx; j++)
            if (t->idx[j]->root == e->rootpage && sch_ident_eq(t->idx[j]->name, e->name))
                return 1;
    }
    return 0;
}

/* B-trees of schema entries the catalog left out (an index of a table that
 * does not exist): their pages are in use, their structure is checked. In
 * auto-vacuum files the header holds the largest root page. */
static int check_other_entries(chk *c)
{
    uint32_t mx = 1;
    for (int i = 0; i < c->cat->nentries && !c->stop; i++) {
        const folio_schema_entry *e = &c->cat->entries[i];
        if (strcmp(e->type, "table") != 0 && strcmp(e->type, "index") != 0)
            continue;
        mx = e->rootpage > mx ? e->rootpage : mx;
        if (!e->rootpage || entry_known(c->cat, e))
            continue;
        tree t;
        tree_init(&t, e->name, e->rootpage, -1, NULL, NULL);
        int rc = walk_tree(c, &t);
        tree_free(&t);
        if (rc < 0)
            return rc;
    }
    if (c->autovac && !c->stop && mx != ptxn_header(c->pt)->autovacuum_root)
        report(c, 0, "largest root page is %u but the header says %u", mx,
               ptxn_header(c->pt)->autovacuum_root);
    return 0;
}

static int fold(int ch)
{
    return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

/* ASCII case-insensitive order of names, as SQLite compares them. */
static int name_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    for (;; x++, y++) {
        int d = fold((unsigned char)*x) - fold((unsigned char)*y);
        if (d || !*x)
            return d;
    }
}

/* Whether s begins with prefix, ASCII case-insensitively. */
static int begins_with(const char *s, const char *prefix)
{
    if (!s)
        return 0;
    for (; *prefix; s++, prefix++)
        if (!*s || fold((unsigned char)*s) != fold((unsigned char)*prefix))
            return 0;
    return 1;
}

/* Tables, indexes and views share one namespace; SQLite keeps only the last
 * of several objects of one name, so the pages of the others go unused. */
static int check_schema_names(chk *c)
{
    const db_catalog *cat = c->cat;
    int n = 0;
    const char **names = os_malloc(sizeof *names * (size_t)(cat->nentries + 1));
    if (!names)
        return nomem(c);
    for (int i = 0; i < cat->nentries; i++)
        if (strcmp(cat->entries[i].type, "trigger") != 0)
            names[n++] = cat->entries[i].name;
    qsort(names, (size_t)n, sizeof *names, name_cmp);
    for (int k = 1; k < n && !c->stop; k++)
        if (name_cmp(&names[k - 1], &names[k]) == 0 &&
            (k < 2 || name_cmp(&names[k - 2], &names[k]) != 0))
            report(c, 0, "the name %s is used by more than one table, index or view", names[k]);
    os_free(names);
    return 0;
}

/* The name and table name columns of an entry agree with its SQL, as SQLite
 * requires when it loads the schema. */
static int check_entry_names(chk *c, const folio_schema_entry *e)
{
    char err[256];
    if (!e->sql)
        return 0;
    if (strcmp(e->type, "table") == 0 && !begins_with(e->sql, "CREATE VIRTUAL")) {
        for (int i = 1; i < c->cat->ntables; i++) {
            const db_table *t = c->cat->tables[i];
            if (t->root != e->rootpage || !sch_ident_eq(t->name, e->name) || !t->parsed)
                continue;
            if (!sch_ident_eq(t->def.name, e->name) || !sch_ident_eq(e->tbl_name, e->name))
                report(c, 0, "table %s: its SQL names table %s and its tbl_name is %s", e->name,
                       t->def.name, e->tbl_name);
            break;
        }
    } else if (strcmp(e->type, "index") == 0) {
        sch_index d;
        memset(&d, 0, sizeof d);
        if (sch_parse_index(&d, e->sql, NULL, err, sizeof err) == 0 &&
            (!sch_ident_eq(d.name, e->name) || !sch_ident_eq(d.table, e->tbl_name)))
            report(c, 0, "index %s: its SQL names index %s on %s and its tbl_name is %s", e->name,
                   d.name, d.table, e->tbl_name);
        sch_index_free(&d);
    }
    return 0;
}

/* Schema entries SQLite would refuse to load ("malformed database schema"):
 * SQL that is no CREATE statement or cannot be parsed, a missing root page,
 * an index of a table that does not exist. */
static int check_schema(chk *c)
{
    const db_catalog *cat = c->cat;
    int rc;
    for (int i = 1; i < cat->ntables && !c->stop; i++) {
        const db_table *t = cat->tables[i];
        int virt = begins_with(t->sql, "CREATE VIRTUAL");
        if (!t->parsed && !virt)
            report(c, 0, "table %s: the definition cannot be used: %s", t->name,
                   t->parse_error ? t->parse_error : "unknown");
        if (!t->root && !virt)
            report(c, 0, "table %s has no valid root page", t->name);
        for (int k = 0; t->parsed && k < t->def.nauto && !c->stop; k++) {
            char name[300];
            int j = 0;
            snprintf(name, sizeof name, "sqlite_autoindex_%s_%d", t->name, t->def.autoidx[k].num);
            while (j < t->nidx && !sch_ident_eq(t->idx[j]->name, name))
                j++;
            if (j == t->nidx)
                report(c, 0, "table %s: its automatic index %s is missing from the schema", t->name,
                       name);
        }
        for (int j = 0; j < t->nidx && !c->stop; j++) {
            const db_index *ix = t->idx[j];
            if (t->parsed && !ix->cols)
                report(c, 0, "index %s: %s", ix->name,
                       ix->unsupported ? ix->unsupported : "the definition cannot be used");
            if (!ix->root)
                report(c, 0, "index %s has no valid root page", ix->name);
        }
    }
    for (int i = 0; i < cat->nentries && !c->stop; i++) {
        const folio_schema_entry *e = &cat->entries[i];
        if (e->sql && e->sql[0] && !begins_with(e->sql, "create"))
            report(c, 0, "schema entry %s: the SQL is no CREATE statement", e->name);
        if ((rc = check_entry_names(c, e)) < 0)
            return rc;
        if (strcmp(e->type, "index") == 0 && !entry_known(cat, e))
            report(c, 0, "index %s: its table %s does not exist", e->name, e->tbl_name);
    }
    return check_schema_names(c);
}

static int check_freelist(chk *c)
{
    const fmt_dbheader *h = ptxn_header(c->pt);
    uint32_t trunk = h->freelist_trunk, from = 0, max = fmt_trunk_max_leaves(c->usable);
    uint64_t total = 0;
    int before = c->nerr, rc;
    /* Claims bound the chain: each trunk page is followed at most once. */
    while (trunk && !c->stop) {
        if (!claim(c, trunk, from, from ? "the next freelist trunk" : "the first freelist trunk"))
            break;
        total++;
        if ((rc = ptrmap_expect(c, trunk, PTRMAP_FREEPAGE, 0)) < 0)
            return rc;
        pg *p;
        if ((rc = pager_get(&p, c->pt, trunk)) < 0)
            return rc;
        uint32_t n = fmt_get_u32(p->data + 4);
        if (n > max) {
            report(c, trunk, "freelist trunk lists %u leaf pages, more than the %u that fit", n,
                   max);
            n = 0;
        }
        for (uint32_t k = 0; k < n && !c->stop; k++) {
            uint32_t leaf = fmt_get_u32(p->data + 8 + 4 * k);
            total++;
            if (claim(c, leaf, trunk, "a freelist leaf page") &&
                (rc = ptrmap_expect(c, leaf, PTRMAP_FREEPAGE, 0)) < 0) {
                pager_unref(p);
                return rc;
            }
        }
        from = trunk;
        trunk = fmt_get_u32(p->data);
        pager_unref(p);
    }
    if (c->nerr == before && !c->stop && total != h->freelist_count)
        report(c, 0, "freelist count in header is %u but %llu pages are on the freelist",
               h->freelist_count, (unsigned long long)total);
    return 0;
}

/* Header fields that describe the whole file. */
static void check_header(chk *c)
{
    const fmt_dbheader *h = ptxn_header(c->pt);
    pager *pgr = ptxn_pager(c->pt);
    /* Without a WAL the file must hold every page the header counts (SQLite
     * refuses such a file as malformed); the rest checks the pages that are
     * there, which also bounds the bitmap by the size of the file. */
    if (!ptxn_is_write(c->pt) && pager_wal_frames(pgr) == 0) {
        /* A last page shorter than the page size counts, as in SQLite. */
        uint64_t file_pages = (pager_file_bytes(pgr) + h->page_size - 1) / h->page_size;
        if (c->npages > file_pages) {
            report(c, 0, "the header counts %u pages but the file holds only %llu", c->npages,
                   (unsigned long long)file_pages);
            c->npages = file_pages ? (uint32_t)file_pages : 1;
        }
    }
    if (h->read_version > 2)
        report(c, 0, "file format read version %u is unknown (SQLite refuses to read the file)",
               h->read_version);
    if (h->schema_format > 4)
        report(c, 0, "schema format %u is unknown (at most 4)", h->schema_format);
    if (!c->autovac && h->incremental_vacuum)
        report(c, 0, "incremental vacuum is enabled but auto-vacuum is off (largest root page 0)");
}

static void check_unused(chk *c)
{
    for (uint32_t pgno = 1; pgno <= c->npages && !c->stop; pgno++) {
        if ((c->used[pgno >> 3] >> (pgno & 7)) & 1)
            continue;
        if (pgno == c->lockpg || is_ptrmap_page(c, pgno))
            continue;
        report(c, pgno, "never used");
    }
}

int db_check(folio_txn *txn, int quick, int (*cb)(void *arg, const char *msg), void *arg,
             int max_errors)
{
    chk c;
    int rc = 0;
    memset(&c, 0, sizeof c);
    c.pt = txn->pt;
    c.cat = txn->cat;
    c.cb = cb;
    c.arg = arg;
    c.max_errors = max_errors > 0 ? max_errors : 100;
    c.npages = ptxn_npages(txn->pt);
    if (c.npages == 0)
        return FOLIO_OK; /* an empty file */
    const fmt_dbheader *h = ptxn_header(txn->pt);
    c.usable = h->page_size - h->reserved;
    c.lockpg = LOCK_BYTE_OFFSET / h->page_size + 1;
    c.autovac = h->autovacuum_root != 0;
    c.desc_ok = h->schema_format >= 4;
    c.quick = quick;
    c.enc = txn->cat->text_encoding;
    check_header(&c);
    c.used = os_calloc((size_t)c.npages / 8 + 1, 1);
    c.cover = os_malloc((c.usable + 63) / 64 * sizeof *c.cover);
    if (!c.used || !c.cover) {
        rc = nomem(&c);
        goto done;
    }
    if ((rc = check_schema(&c)) < 0)
        goto done;
    if ((rc = check_freelist(&c)) < 0)
        goto done;
    for (int i = 0; i < c.cat->ntables && !c.stop; i++)
        if ((rc = check_table(&c, c.cat->tables[i])) < 0)
            goto done;
    if ((rc = check_other_entries(&c)) < 0)
        goto done;
    check_unused(&c);
done:
    os_free(c.used);
    os_free(c.cover);
    fields_free(&c.lk);
    os_free(c.vals);
    os_free(c.u8[0]);
    os_free(c.u8[1]);
    if (rc < 0)
        return rc;
    if (c.fatal)
        return c.fatal;
    return c.nerr ? FOLIO_CORRUPT : FOLIO_OK;
}
