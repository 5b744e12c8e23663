/*
 * row.c - record headers, text encodings, default values and key comparison
 * for the API layer.
 */
#include "db/db_int.h"
#include "schema/affinity.h"

#include <string.h>

void row_decoder_free(row_decoder *rd)
{
    os_free(rd->st);
    os_free(rd->off);
    memset(rd, 0, sizeof *rd);
}

static int rd_grow(row_decoder *rd, uint32_t need)
{
    uint32_t n = rd->cap ? rd->cap : 16;
    while (n < need)
        n *= 2;
    uint64_t *st = os_realloc(rd->st, n * sizeof *st);
    if (!st)
        return FOLIO_NOMEM;
    rd->st = st;
    uint64_t *off = os_realloc(rd->off, n * sizeof *off);
    if (!off)
        return FOLIO_NOMEM;
    rd->off = off;
    rd->cap = n;
    return 0;
}

/* Bytes of data for serial types 0..11 (10 and 11 are invalid: 0). */
static const uint8_t small_size[12] = {0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0};

int row_decode(row_decoder *rd, const uint8_t *rec, uint64_t avail, uint64_t size)
{
    /* Fast path: a header of one-byte varints, wholly present (the common
     * case: up to 63 fields of small types or short strings). */
    if (avail > 0 && rec[0] < 0x80 && rec[0] >= 1 && rec[0] <= avail) {
        uint32_t hdr = rec[0];
        if (hdr - 1 > rd->cap) {
            uint32_t need = hdr;
            uint64_t *st = os_realloc(rd->st, need * sizeof *st);
            if (!st)
                return FOLIO_NOMEM;
            rd->st = st;
            uint64_t *off = os_realloc(rd->off, need * sizeof *off);
            if (!off)
                return FOLIO_NOMEM;
            rd->off = off;
            rd->cap = need;
        }
        uint64_t data = hdr;
        uint32_t nf = 0;
        uint32_t i;
        for (i = 1; i < hdr; i++) {
            uint8_t b = rec[i];
            if (b >= 0x80)
                break;
            if (b == 10 || b == 11)
                return FOLIO_CORRUPT;
            rd->st[nf] = b;
            rd->off[nf] = data;
            nf++;
            data += b < 12 ? small_size[b] : (uint64_t)(b - 12) / 2;
        }
        if (i == hdr) {
            if (data > size)
                return FOLIO_CORRUPT;
            rd->nfields = nf;
            rd->valid = 1;
            return 0;
        }
    }
    fmt_record r;
    rd->valid = 0;
    rd->nfields = 0;
    if (fmt_record_open(&r, rec, avail, size) < 0)
        return FOLIO_CORRUPT;
    for (;;) {
        uint64_t st, off;
        int k = fmt_record_next(&r, &st, &off);
        if (k < 0)
            return FOLIO_CORRUPT;
        if (k == 0)
            break;
        if (rd->nfields == rd->cap && rd_grow(rd, rd->nfields + 1) < 0)
            return FOLIO_NOMEM;
        rd->st[rd->nfields] = st;
        rd->off[rd->nfields] = off;
        rd->nfields++;
    }
    rd->valid = 1;
    return 0;
}

static int buf_reserve(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    uint8_t *b = os_realloc(*buf, n);
    if (!b)
        return FOLIO_NOMEM;
    *buf = b;
    *cap = n;
    return 0;
}

int text_utf16_to_utf8(const uint8_t *p, size_t n, int enc, uint8_t **buf, size_t *cap,
                       size_t *out_n)
{
    /* Each UTF-16 unit becomes at most 3 bytes (a pair becomes 4). */
    if (buf_reserve(buf, cap, (n / 2) * 3 + 4) < 0)
        return FOLIO_NOMEM;
    uint8_t *o = *buf;
    size_t i = 0;
    int be = enc == 3;
    while (i + 1 < n) {
        uint32_t u = be ? ((uint32_t)p[i] << 8 | p[i + 1]) : ((uint32_t)p[i + 1] << 8 | p[i]);
        i += 2;
        if (u >= 0xd800 && u < 0xdc00 && i + 1 < n) {
            uint32_t v = be ? ((uint32_t)p[i] << 8 | p[i + 1]) : ((uint32_t)p[i + 1] << 8 | p[i]);
            if (v >= 0xdc00 && v < 0xe000) {
                u = 0x10000 + ((u - 0xd800) << 10) + (v - 0xdc00);
                i += 2;
            }
        }
        if (u < 0x80) {
            *o++ = (uint8_t)u;
        } else if (u < 0x800) {
            *o++ = (uint8_t)(0xc0 | (u >> 6));
            *o++ = (uint8_t)(0x80 | (u & 0x3f));
        } else if (u < 0x10000) {
            *o++ = (uint8_t)(0xe0 | (u >> 12));
            *o++ = (uint8_t)(0x80 | ((u >> 6) & 0x3f));
            *o++ = (uint8_t)(0x80 | (u & 0x3f));
        } else {
            *o++ = (uint8_t)(0xf0 | (u >> 18));
            *o++ = (uint8_t)(0x80 | ((u >> 12) & 0x3f));
            *o++ = (uint8_t)(0x80 | ((u >> 6) & 0x3f));
            *o++ = (uint8_t)(0x80 | (u & 0x3f));
        }
    }
    *out_n = (size_t)(o - *buf);
    return 0;
}

int text_utf8_to_utf16(const uint8_t *p, size_t n, int enc, uint8_t **buf, size_t *cap,
                       size_t *out_n)
{
    if (buf_reserve(buf, cap, n * 2 + 4) < 0)
        return FOLIO_NOMEM;
    uint8_t *o = *buf;
    int be = enc == 3;
    size_t i = 0;
    while (i < n) {
        uint32_t c = p[i];
        size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        if (i + len > n)
            len = n - i;
        if (len == 2)
            c = ((c & 0x1f) << 6) | (p[i + 1] & 0x3f);
        else if (len == 3)
            c = ((c & 0x0f) << 12) | ((uint32_t)(p[i + 1] & 0x3f) << 6) | (p[i + 2] & 0x3f);
        else if (len == 4)
            c = ((c & 0x07) << 18) | ((uint32_t)(p[i + 1] & 0x3f) << 12) |
                ((uint32_t)(p[i + 2] & 0x3f) << 6) | (p[i + 3] & 0x3f);
        i += len;
        uint32_t units[2];
        int nu = 1;
        if (c >= 0x10000) {
            c -= 0x10000;
            units[0] = 0xd800 + (c >> 10);
            units[1] = 0xdc00 + (c & 0x3ff);
            nu = 2;
        } else {
            units[0] = c;
        }
        for (int k = 0; k < nu; k++) {
            if (be) {
                *o++ = (uint8_t)(units[k] >> 8);
                *o++ = (uint8_t)units[k];
            } else {
                *o++ = (uint8_t)units[k];
                *o++ = (uint8_t)(units[k] >> 8);
            }
        }
    }
    *out_n = (size_t)(o - *buf);
    return 0;
}

int row_default(const sch_column *col, folio_value *out)
{
    memset(out, 0, sizeof *out);
    switch (col->dflt.kind) {
    case SCH_DFLT_NONE:
    case SCH_DFLT_NULL:
        out->type = FOLIO_NULL;
        return 0;
    case SCH_DFLT_INTEGER:
        out->type = FOLIO_INTEGER;
        out->u.i = col->dflt.i;
        return 0;
    case SCH_DFLT_REAL:
        out->type = FOLIO_REAL;
        out->u.r = col->dflt.r;
        return 0;
    case SCH_DFLT_TEXT:
        out->type = FOLIO_TEXT;
        out->u.s.p = col->dflt.p;
        out->u.s.n = col->dflt.n;
        return 0;
    case SCH_DFLT_BLOB:
        out->type = FOLIO_BLOB;
        out->u.s.p = col->dflt.p;
        out->u.s.n = col->dflt.n;
        return 0;
    default:
        return FOLIO_UNSUPPORTED;
    }
}

/*
 * The common first step of a key comparison, without decoding the record:
 * a UTF-8 record whose one-byte header starts with a BINARY text or an
 * integer field, against a key of the same type. Returns 1 with *out set
 * when the first field decides, 0 when the full comparison must run.
 */
static int key_compare_first(const key_ctx *k, const uint8_t *rec, uint64_t size, int *out)
{
    if (k->enc > 1 || size < 2 || rec[0] >= 0x80 || rec[0] < 2 || rec[0] > size || rec[1] >= 0x80)
        return 0;
    uint8_t st = rec[1];
    const uint8_t *p = rec + rec[0];
    uint64_t avail = size - rec[0];
    const fmt_value *kv = &k->vals[0];
    int c;
    if (st >= 13 && (st & 1) && kv->type == FMT_TEXT &&
        (!k->coll || k->coll[0] == SCH_COLL_BINARY)) {
        uint64_t n = (uint64_t)(st - 13) / 2;
        if (n > avail)
            return 0;
        size_t m = (size_t)(n < kv->u.s.n ? n : kv->u.s.n);
        c = m ? memcmp(p, kv->u.s.p, m) : 0;
        if (c == 0)
            c = n < kv->u.s.n ? -1 : n > kv->u.s.n;
    } else if (((st >= 1 && st <= 6) || st == 8 || st == 9) && kv->type == FMT_INTEGER) {
        static const uint8_t len[7] = {0, 1, 2, 3, 4, 6, 8};
        int64_t v;
        if (st >= 8) {
            v = st - 8;
        } else {
            if (len[st] > avail)
                return 0;
            uint64_t u = (p[0] & 0x80) ? ~(uint64_t)0 : 0;
            for (uint32_t j = 0; j < len[st]; j++)
                u = (u << 8) | p[j];
            memcpy(&v, &u, sizeof v);
        }
        c = v < kv->u.i ? -1 : v > kv->u.i;
    } else {
        return 0;
    }
    if (c == 0)
        return 0;
    c = c < 0 ? -1 : 1;
    *out = (k->desc && k->desc[0]) ? -c : c;
    return 1;
}

int key_compare(void *ctx, const uint8_t *rec, uint64_t size, int *out)
{
    key_ctx *k = ctx;
    fmt_record r;
    *out = 0;
    if (k->n > 0 && key_compare_first(k, rec, size, out))
        return 0;
    if (fmt_record_open(&r, rec, size, size) < 0)
        return FOLIO_CORRUPT;
    uint8_t tmp[256];
    for (int i = 0; i < k->n; i++) {
        uint64_t st, off;
        int got = fmt_record_next(&r, &st, &off);
        if (got < 0)
            return FOLIO_CORRUPT;
        if (got == 0) {
            /* A shorter record sorts before any longer key with that prefix. */
            *out = -1;
            return 0;
        }
        fmt_value v;
        if (fmt_serial_decode(st, rec + off, &v) < 0)
            return FOLIO_CORRUPT;
        uint8_t *conv = NULL;
        int coll = k->coll ? k->coll[i] : SCH_COLL_BINARY;
        if (v.type == FMT_TEXT && k->enc > 1 && coll == SCH_COLL_BINARY && k->nvals) {
            int c = sch_compare(&v, &k->nvals[i], SCH_COLL_BINARY);
            if (c) {
                *out = (k->desc && k->desc[i]) ? -c : c;
                return 0;
            }
            continue;
        }
        if (v.type == FMT_TEXT && k->enc > 1) {
            size_t cap = sizeof tmp, n;
            uint8_t *b = tmp;
            /* text_utf16_to_utf8 reallocs only heap buffers: copy when large. */
            if ((v.u.s.n / 2) * 3 + 4 > sizeof tmp) {
                b = NULL;
                cap = 0;
            }
            if (text_utf16_to_utf8(v.u.s.p, (size_t)v.u.s.n, k->enc, &b, &cap, &n) < 0)
                return FOLIO_NOMEM;
            if (b != tmp)
                conv = b;
            v.u.s.p = b;
            v.u.s.n = n;
        }
        int c = sch_compare(&v, &k->vals[i], k->coll ? k->coll[i] : SCH_COLL_BINARY);
        os_free(conv);
        if (c) {
            *out = (k->desc && k->desc[i]) ? -c : c;
            return 0;
        }
    }
    return 0;
}

int row_default_value(const sch_column *cd, int strict, fmt_value *out, char *buf64)
{
    folio_value dv;
    memset(out, 0, sizeof *out);
    int rc = row_default(cd, &dv);
    if (rc < 0)
        return rc;
    out->type = (int)dv.type;
    if (dv.type == FOLIO_INTEGER)
        out->u.i = dv.u.i;
    else if (dv.type == FOLIO_REAL)
        out->u.r = dv.u.r;
    else if (dv.type == FOLIO_TEXT || dv.type == FOLIO_BLOB) {
        out->u.s.p = dv.u.s.p;
        out->u.s.n = dv.u.s.n;
    }
    /* The column's affinity applies to its default, as to any value; a
     * column without affinity reads a REAL literal default with NUMERIC
     * affinity (SQLite evaluates such a default that way for old rows). */
    if (cd->affinity == SCH_AFF_TEXT && !strict &&
        (cd->dflt.kind == SCH_DFLT_INTEGER || cd->dflt.kind == SCH_DFLT_REAL) && cd->dflt.p) {
        /* A number for a TEXT column: SQLite keeps the literal as written. */
        out->type = FMT_TEXT;
        out->u.s.p = (const uint8_t *)cd->dflt.p;
        out->u.s.n = cd->dflt.n;
        return 0;
    }
    if (!(strict && cd->strict_type == SCH_STRICT_ANY)) {
        int aff = cd->affinity;
        if (aff == SCH_AFF_BLOB && out->type == FMT_REAL)
            aff = SCH_AFF_NUMERIC;
        sch_apply_affinity(out, aff, buf64, 64);
    }
    return 0;
}
