/*
 * record.c - serial types and the record format.
 *
 * Record layout
 * -------------
 * A record is the payload of a table row or an index entry:
 *
 *   offset 0             varint H: the header size in bytes, counting this
 *                        varint itself
 *   offset len(H) .. H   one varint serial type per column, in column order
 *   offset H ..          the data of each column, in column order, each taking
 *                        exactly fmt_serial_size(serial type) bytes
 *
 * Serial types
 * ------------
 *   type   data bytes   meaning
 *   0      0            NULL
 *   1      1            big-endian two's-complement integer, 8 bits
 *   2      2            ... 16 bits
 *   3      3            ... 24 bits
 *   4      4            ... 32 bits
 *   5      6            ... 48 bits
 *   6      8            ... 64 bits
 *   7      8            IEEE 754 binary64, big-endian (every bit kept: -0.0,
 *                       subnormals, infinities, NaN payloads)
 *   8      0            the integer 0  (schema format 4 and later only)
 *   9      0            the integer 1  (schema format 4 and later only)
 *   10,11  -            reserved; never valid in a database file
 *   N>=12 even          BLOB of (N-12)/2 bytes
 *   N>=13 odd           TEXT of (N-13)/2 bytes (in the database text encoding)
 *
 * Validity rules (checked by fmt_record_open / fmt_record_next)
 * -------------------------------------------------------------
 * - The header-size varint must lie within the record and within the bytes
 *   available locally; H must be at least the length of that varint, at most
 *   the record size, and at most the available bytes (the header is never
 *   split across overflow pages from the reader's point of view).
 * - Every serial-type varint must end at or before offset H. A varint that
 *   straddles the end of the header is malformed.
 * - Serial types 10 and 11 are malformed.
 * - The data of each column must end at or before the record size.
 * - When the header is used up, the data must end exactly at the record size:
 *   SQLite treats both a shortfall and an excess as corruption, and so do we.
 *
 * Encoding
 * --------
 * Integers use the smallest of types 1..6 that holds them, or 8/9 for 0 and 1
 * when the schema format is 4 or more. Reals always use type 7; folio does not
 * store integral reals as integers (callers that want SQLite's REAL-affinity
 * space optimisation decide that themselves). The header-size varint is the
 * shortest that can describe a header including itself.
 */
#include "format/format.h"

#include <string.h>

/* Data bytes of integer serial types 1..6. */
static const uint8_t int_size[7] = {0, 1, 2, 3, 4, 6, 8};

static int64_t u64_to_i64(uint64_t u)
{
    int64_t i;
    memcpy(&i, &u, sizeof i);
    return i;
}

static uint64_t i64_to_u64(int64_t i)
{
    uint64_t u;
    memcpy(&u, &i, sizeof u);
    return u;
}

int fmt_serial_decode(uint64_t st, const uint8_t *p, fmt_value *out)
{
    if (st == 0) {
        out->type = FMT_NULL;
        return 0;
    }
    if (st <= 6) {
        unsigned n = int_size[st];
        uint64_t u = 0;
        for (unsigned i = 0; i < n; i++)
            u = (u << 8) | p[i];
        /* Sign-extend from the top bit of the stored width. */
        if (n < 8 && (p[0] & 0x80))
            u |= ~(uint64_t)0 << (8 * n);
        out->type = FMT_INTEGER;
        out->u.i = u64_to_i64(u);
        return 0;
    }
    if (st == 7) {
        uint64_t u = 0;
        for (unsigned i = 0; i < 8; i++)
            u = (u << 8) | p[i];
        out->type = FMT_REAL;
        memcpy(&out->u.r, &u, sizeof u);
        return 0;
    }
    if (st == 8 || st == 9) {
        out->type = FMT_INTEGER;
        out->u.i = (int64_t)(st - 8);
        return 0;
    }
    if (st < 12)
        return FMT_EBAD;
    out->type = (st & 1) ? FMT_TEXT : FMT_BLOB;
    out->u.s.p = p;
    out->u.s.n = fmt_serial_size(st);
    return 0;
}

uint64_t fmt_serial_type_int(int64_t v)
{
    if (v >= -128 && v <= 127)
        return 1;
    if (v >= -32768 && v <= 32767)
        return 2;
    if (v >= -8388608 && v <= 8388607)
        return 3;
    if (v >= INT32_MIN && v <= INT32_MAX)
        return 4;
    if (v >= -((int64_t)1 << 47) && v <= ((int64_t)1 << 47) - 1)
        return 5;
    return 6;
}

uint64_t fmt_serial_type_of(const fmt_value *v, int file_format)
{
    switch (v->type) {
    case FMT_INTEGER:
        if (file_format >= 4 && (v->u.i == 0 || v->u.i == 1))
            return 8 + (uint64_t)v->u.i;
        return fmt_serial_type_int(v->u.i);
    case FMT_REAL:
        return 7;
    case FMT_TEXT:
        return 13 + 2 * v->u.s.n;
    case FMT_BLOB:
        return 12 + 2 * v->u.s.n;
    default:
        return 0;
    }
}

size_t fmt_serial_encode(uint8_t *p, uint64_t st, const fmt_value *v)
{
    uint64_t u;
    unsigned n;
    if (st >= 12) {
        size_t len = (size_t)fmt_serial_size(st);
        if (len > 0)
            memcpy(p, v->u.s.p, len);
        return len;
    }
    if (st >= 1 && st <= 6) {
        n = int_size[st];
        u = i64_to_u64(v->u.i);
    } else if (st == 7) {
        n = 8;
        memcpy(&u, &v->u.r, sizeof u);
    } else {
        return 0; /* NULL, 8, 9 carry no data; 10, 11 are invalid */
    }
    for (unsigned i = n; i > 0; i--) {
        p[i - 1] = (uint8_t)u;
        u >>= 8;
    }
    return n;
}

int fmt_record_open(fmt_record *r, const uint8_t *p, uint64_t avail, uint64_t size)
{
    uint64_t hdr_size;
    /* Only the bytes that are both in the record and present may be read. */
    uint64_t span = avail < size ? avail : size;
    int n = fmt_varint_get(p, p + span, &hdr_size);
    if (n == 0)
        return FMT_EBAD;
    if (hdr_size < (uint64_t)n || hdr_size > span)
        return FMT_EBAD;
    r->base = p;
    r->size = size;
    r->hdr_size = hdr_size;
    r->hdr_off = (uint64_t)n;
    r->data_off = hdr_size;
    return 0;
}

int fmt_record_next(fmt_record *r, uint64_t *out_st, uint64_t *out_off)
{
    uint64_t st, len;
    int n;
    if (r->hdr_off >= r->hdr_size) {
        /* The header is used up: the data must fill the record exactly. */
        return r->data_off == r->size ? 0 : FMT_EBAD;
    }
    n = fmt_varint_get(r->base + r->hdr_off, r->base + r->hdr_size, &st);
    if (n == 0)
        return FMT_EBAD;
    if (st == 10 || st == 11)
        return FMT_EBAD;
    len = fmt_serial_size(st);
    /* data_off <= size holds throughout, so this cannot wrap. */
    if (len > r->size - r->data_off)
        return FMT_EBAD;
    *out_st = st;
    *out_off = r->data_off;
    r->hdr_off += (uint64_t)n;
    r->data_off += len;
    return 1;
}

/* Header size for a header whose serial types take `types_len` bytes: the
 * smallest H with H == types_len + len(H). */
static uint64_t header_size_for(uint64_t types_len)
{
    for (int k = 1; k < FMT_VARINT_MAX; k++) {
        if (fmt_varint_len(types_len + (uint64_t)k) == k)
            return types_len + (uint64_t)k;
    }
    return types_len + FMT_VARINT_MAX;
}

uint64_t fmt_record_size(const fmt_value *vals, int n, int file_format)
{
    uint64_t types_len = 0, data_len = 0;
    for (int i = 0; i < n; i++) {
        uint64_t st = fmt_serial_type_of(&vals[i], file_format);
        types_len += (uint64_t)fmt_varint_len(st);
        data_len += fmt_serial_size(st);
    }
    return header_size_for(types_len) + data_len;
}

uint64_t fmt_record_encode(uint8_t *out, const fmt_value *vals, int n, int file_format)
{
    uint64_t types_len = 0, hdr, data;
    for (int i = 0; i < n; i++)
        types_len += (uint64_t)fmt_varint_len(fmt_serial_type_of(&vals[i], file_format));
    hdr = header_size_for(types_len);
    data = hdr;
    hdr = (uint64_t)fmt_varint_put(out, hdr);
    for (int i = 0; i < n; i++) {
        uint64_t st = fmt_serial_type_of(&vals[i], file_format);
        hdr += (uint64_t)fmt_varint_put(out + hdr, st);
        data += fmt_serial_encode(out + data, st, &vals[i]);
    }
    return data;
}

uint64_t fmt_record_plan(const fmt_value *vals, int n, int file_format, uint64_t *st)
{
    uint64_t types_len = 0, data_len = 0;
    for (int i = 0; i < n; i++) {
        uint64_t t = fmt_serial_type_of(&vals[i], file_format);
        st[i] = t;
        types_len += t < 0x80 ? 1u : (uint64_t)fmt_varint_len(t);
        data_len += fmt_serial_size(t);
    }
    return (types_len < 0x7f ? types_len + 1 : header_size_for(types_len)) + data_len;
}

void fmt_record_write(uint8_t *out, const fmt_value *vals, int n, const uint64_t *st, uint64_t size)
{
    uint64_t data_len = 0;
    for (int i = 0; i < n; i++)
        data_len += fmt_serial_size(st[i]);
    uint64_t hdr_size = size - data_len;
    uint64_t h = hdr_size < 0x80 ? (out[0] = (uint8_t)hdr_size, 1u)
                                 : (uint64_t)fmt_varint_put(out, hdr_size);
    uint8_t *d = out + hdr_size;
    for (int i = 0; i < n; i++) {
        uint64_t t = st[i];
        if (t < 0x80)
            out[h++] = (uint8_t)t;
        else
            h += (uint64_t)fmt_varint_put(out + h, t);
        if (t >= 12) {
            size_t len = (size_t)((t - 12) / 2);
            if (len)
                memcpy(d, vals[i].u.s.p, len);
            d += len;
            continue;
        }
        unsigned nb;
        uint64_t u;
        if (t >= 1 && t <= 6) {
            nb = int_size[t];
            u = i64_to_u64(vals[i].u.i);
        } else if (t == 7) {
            nb = 8;
            memcpy(&u, &vals[i].u.r, sizeof u);
        } else {
            continue;
        }
        for (unsigned k = nb; k > 0; k--) {
            d[k - 1] = (uint8_t)u;
            u >>= 8;
        }
        d += nb;
    }
}
