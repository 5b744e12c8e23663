/*
 * test_record.c - serial types and records: every type and boundary, exact
 * byte images, round trips, malformed headers, and both directions against
 * SQLite (records SQLite wrote decode to what SQLite returns; records we
 * encode read back through SQLite unchanged).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "format/format.h"

#include <criterion/criterion.h>

#include "format_util.h"
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static uint64_t test_seed(void)
{
    const char *e = getenv("FOLIO_SEED");
    uint64_t seed = e && *e ? strtoull(e, NULL, 0) : 0x5eed0002ull;
    fprintf(stderr, "seed=%" PRIu64 "\n", seed);
    return seed;
}

static double bits_to_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static uint64_t double_to_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static fmt_value vnull(void)
{
    fmt_value v;
    memset(&v, 0, sizeof v);
    v.type = FMT_NULL;
    return v;
}

static fmt_value vint(int64_t i)
{
    fmt_value v = vnull();
    v.type = FMT_INTEGER;
    v.u.i = i;
    return v;
}

static fmt_value vreal_bits(uint64_t bits)
{
    fmt_value v = vnull();
    v.type = FMT_REAL;
    memcpy(&v.u.r, &bits, sizeof bits);
    return v;
}

static fmt_value vbytes(int type, const void *p, uint64_t n)
{
    fmt_value v = vnull();
    v.type = type;
    v.u.s.p = p;
    v.u.s.n = n;
    return v;
}

static void assert_same_value(const fmt_value *got, const fmt_value *want, const char *what)
{
    cr_assert_eq(got->type, want->type, "%s: type %d, expected %d", what, got->type, want->type);
    switch (want->type) {
    case FMT_INTEGER:
        cr_assert_eq(got->u.i, want->u.i, "%s: %" PRId64 " != %" PRId64, what, got->u.i, want->u.i);
        break;
    case FMT_REAL:
        cr_assert_eq(double_to_bits(got->u.r), double_to_bits(want->u.r),
                     "%s: real bits %016" PRIx64 " != %016" PRIx64, what, double_to_bits(got->u.r),
                     double_to_bits(want->u.r));
        break;
    case FMT_TEXT:
    case FMT_BLOB:
        cr_assert_eq(got->u.s.n, want->u.s.n, "%s: length", what);
        if (want->u.s.n)
            cr_assert_eq(memcmp(got->u.s.p, want->u.s.p, (size_t)want->u.s.n), 0, "%s: bytes",
                         what);
        break;
    default:
        break;
    }
}

/* Decode a whole record into vals (at most max); returns the column count. */
static int decode_all(const uint8_t *rec, uint64_t size, fmt_value *vals, int max)
{
    fmt_record r;
    uint64_t st, off;
    int n = 0, rc;
    cr_assert_eq(fmt_record_open(&r, rec, size, size), 0, "record header");
    while ((rc = fmt_record_next(&r, &st, &off)) == 1) {
        cr_assert_lt(n, max);
        cr_assert_leq(off + fmt_serial_size(st), size);
        cr_assert_eq(fmt_serial_decode(st, rec + off, &vals[n]), 0);
        n++;
    }
    cr_assert_eq(rc, 0, "record ends cleanly");
    return n;
}

/* Big-endian two's complement of v in n bytes, computed without the codec. */
static void ref_int_bytes(uint8_t *out, int64_t v, int n)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < n; i++)
        out[i] = (uint8_t)(u >> (8 * (n - 1 - i)));
}

/* ---- serial types ------------------------------------------------------- */

Test(format_record, serial_size_of_every_type)
{
    static const uint64_t want[] = {0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2};
    for (uint64_t st = 0; st < sizeof want / sizeof want[0]; st++)
        cr_assert_eq(fmt_serial_size(st), want[st], "serial type %" PRIu64, st);
    cr_assert_eq(fmt_serial_size(12 + 2 * 1000000), 1000000);
    cr_assert_eq(fmt_serial_size(13 + 2 * 1000000), 1000000);
    cr_assert_eq(fmt_serial_size(UINT64_MAX), (UINT64_MAX - 13) / 2);
    cr_assert_eq(fmt_serial_size(UINT64_MAX - 1), (UINT64_MAX - 13) / 2);
}

Test(format_record, integer_serial_type_boundaries)
{
    /* type: bytes of data, and the inclusive range of that type alone. */
    static const struct {
        uint64_t st;
        int nbytes;
        int64_t lo, hi;
    } t[] = {
        {1, 1, -128, 127},
        {2, 2, -32768, 32767},
        {3, 3, -8388608, 8388607},
        {4, 4, INT32_MIN, INT32_MAX},
        {5, 6, -((int64_t)1 << 47), ((int64_t)1 << 47) - 1},
        {6, 8, INT64_MIN, INT64_MAX},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int64_t edges[4] = {t[i].lo, t[i].hi, t[i].lo + 1, t[i].hi - 1};
        for (int e = 0; e < 4; e++) {
            int64_t v = edges[e];
            fmt_value in = vint(v), out;
            uint8_t buf[9], want[8];
            memset(buf, 0xee, sizeof buf);
            cr_assert_eq(fmt_serial_type_int(v), t[i].st, "type of %" PRId64, v);
            cr_assert_eq(fmt_serial_type_of(&in, 1), t[i].st);
            if (v != 0 && v != 1)
                cr_assert_eq(fmt_serial_type_of(&in, 4), t[i].st);
            cr_assert_eq(fmt_serial_size(t[i].st), (uint64_t)t[i].nbytes);
            cr_assert_eq(fmt_serial_encode(buf, t[i].st, &in), (size_t)t[i].nbytes);
            cr_assert_eq(buf[t[i].nbytes], 0xee, "no write past the data");
            ref_int_bytes(want, v, t[i].nbytes);
            cr_assert_arr_eq(buf, want, (size_t)t[i].nbytes, "bytes of %" PRId64, v);
            cr_assert_eq(fmt_serial_decode(t[i].st, buf, &out), 0);
            assert_same_value(&out, &in, "integer round trip");
        }
        /* One step outside the range needs the next type. */
        if (t[i].st < 6) {
            cr_assert_eq(fmt_serial_type_int(t[i].lo - 1), t[i].st + 1, "below type %" PRIu64,
                         t[i].st);
            cr_assert_eq(fmt_serial_type_int(t[i].hi + 1), t[i].st + 1, "above type %" PRIu64,
                         t[i].st);
        }
    }
}

Test(format_record, integer_known_bytes)
{
    static const struct {
        int64_t v;
        uint64_t st;
        uint8_t b[8];
    } t[] = {
        {0, 1, {0x00}},
        {-1, 1, {0xff}},
        {127, 1, {0x7f}},
        {-128, 1, {0x80}},
        {128, 2, {0x00, 0x80}},
        {-129, 2, {0xff, 0x7f}},
        {32768, 3, {0x00, 0x80, 0x00}},
        {-8388609, 4, {0xff, 0x7f, 0xff, 0xff}},
        {2147483648ll, 5, {0x00, 0x00, 0x80, 0x00, 0x00, 0x00}},
        {-((int64_t)1 << 47), 5, {0x80, 0x00, 0x00, 0x00, 0x00, 0x00}},
        {(int64_t)1 << 47, 6, {0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00}},
        {INT64_MIN, 6, {0x80, 0, 0, 0, 0, 0, 0, 0}},
        {INT64_MAX, 6, {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        fmt_value in = vint(t[i].v), out;
        uint8_t buf[8];
        size_t n = (size_t)fmt_serial_size(t[i].st);
        cr_assert_eq(fmt_serial_type_int(t[i].v), t[i].st, "type of %" PRId64, t[i].v);
        cr_assert_eq(fmt_serial_encode(buf, t[i].st, &in), n);
        cr_assert_arr_eq(buf, t[i].b, n, "bytes of %" PRId64, t[i].v);
        cr_assert_eq(fmt_serial_decode(t[i].st, t[i].b, &out), 0);
        assert_same_value(&out, &in, "decode of known bytes");
    }
}

Test(format_record, decode_sign_extends_every_width)
{
    static const struct {
        uint64_t st;
        uint8_t b[8];
        int64_t v;
    } t[] = {
        {1, {0x80}, -128},
        {2, {0x80, 0x00}, -32768},
        {3, {0x80, 0x00, 0x00}, -8388608},
        {3, {0xff, 0xff, 0xfe}, -2},
        {3, {0x7f, 0xff, 0xff}, 8388607},
        {4, {0x80, 0, 0, 0}, INT32_MIN},
        {5, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, -1},
        {5, {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff}, ((int64_t)1 << 47) - 1},
        {6, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, -1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        fmt_value out;
        cr_assert_eq(fmt_serial_decode(t[i].st, t[i].b, &out), 0);
        cr_assert_eq(out.type, FMT_INTEGER);
        cr_assert_eq(out.u.i, t[i].v, "entry %zu: %" PRId64, i, out.u.i);
    }
}

Test(format_record, constants_8_and_9_only_with_format_4)
{
    fmt_value zero = vint(0), one = vint(1), two = vint(2), minus = vint(-1), out;
    uint8_t buf[4] = {0xee, 0xee, 0xee, 0xee};
    for (int ff = 1; ff <= 3; ff++) {
        cr_assert_eq(fmt_serial_type_of(&zero, ff), 1, "format %d", ff);
        cr_assert_eq(fmt_serial_type_of(&one, ff), 1, "format %d", ff);
    }
    cr_assert_eq(fmt_serial_type_of(&zero, 4), 8);
    cr_assert_eq(fmt_serial_type_of(&one, 4), 9);
    cr_assert_eq(fmt_serial_type_of(&two, 4), 1);
    cr_assert_eq(fmt_serial_type_of(&minus, 4), 1);
    /* fmt_serial_type_int has no file format, so it never picks 8 or 9. */
    cr_assert_eq(fmt_serial_type_int(0), 1);
    cr_assert_eq(fmt_serial_type_int(1), 1);
    cr_assert_eq(fmt_serial_size(8), 0);
    cr_assert_eq(fmt_serial_size(9), 0);
    cr_assert_eq(fmt_serial_encode(buf, 8, &zero), 0);
    cr_assert_eq(fmt_serial_encode(buf, 9, &one), 0);
    cr_assert_eq(buf[0], 0xee, "types 8 and 9 write no data");
    cr_assert_eq(fmt_serial_decode(8, buf, &out), 0);
    assert_same_value(&out, &zero, "type 8");
    cr_assert_eq(fmt_serial_decode(9, buf, &out), 0);
    assert_same_value(&out, &one, "type 9");
}

Test(format_record, reals_keep_every_bit)
{
    static const uint64_t bits[] = {
        0x0000000000000000ull, /* +0.0 */
        0x8000000000000000ull, /* -0.0 */
        0x0000000000000001ull, /* smallest subnormal */
        0x8000000000000001ull, /* negative smallest subnormal */
        0x000fffffffffffffull, /* largest subnormal */
        0x0010000000000000ull, /* smallest normal */
        0x7fefffffffffffffull, /* DBL_MAX */
        0xffefffffffffffffull, /* -DBL_MAX */
        0x7ff0000000000000ull, /* +infinity */
        0xfff0000000000000ull, /* -infinity */
        0x7ff8000000000000ull, /* quiet NaN */
        0xfff8000000000000ull, /* negative quiet NaN */
        0x7ff0000000000001ull, /* signalling NaN with payload 1 */
        0x7ff8dead0000beefull, /* quiet NaN with a payload */
        0x7fffffffffffffffull, /* all-ones NaN */
        0x3ff0000000000000ull, /* 1.0: integral, still type 7 */
        0x400921fb54442d18ull, /* pi */
        0xc000000000000000ull, /* -2.0 */
    };
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        fmt_value in = vreal_bits(bits[i]), out;
        uint8_t buf[9], want[8];
        buf[8] = 0xee;
        cr_assert_eq(fmt_serial_type_of(&in, 1), 7);
        cr_assert_eq(fmt_serial_type_of(&in, 4), 7, "reals are never stored as 8/9 or ints");
        cr_assert_eq(fmt_serial_encode(buf, 7, &in), 8);
        cr_assert_eq(buf[8], 0xee);
        for (int b = 0; b < 8; b++)
            want[b] = (uint8_t)(bits[i] >> (56 - 8 * b));
        cr_assert_arr_eq(buf, want, 8, "big-endian bits %016" PRIx64, bits[i]);
        cr_assert_eq(fmt_serial_decode(7, buf, &out), 0);
        cr_assert_eq(out.type, FMT_REAL);
        cr_assert_eq(double_to_bits(out.u.r), bits[i], "bits %016" PRIx64, bits[i]);
    }
    /* Spot-check meaning, not only bits. */
    fmt_value out;
    const uint8_t neg_zero[8] = {0x80, 0, 0, 0, 0, 0, 0, 0};
    const uint8_t inf[8] = {0x7f, 0xf0, 0, 0, 0, 0, 0, 0};
    const uint8_t sub[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    fmt_serial_decode(7, neg_zero, &out);
    cr_assert(out.u.r == 0.0 && signbit(out.u.r), "-0.0 keeps its sign");
    fmt_serial_decode(7, inf, &out);
    cr_assert(isinf(out.u.r) && out.u.r > 0);
    fmt_serial_decode(7, sub, &out);
    cr_assert(fpclassify(out.u.r) == FP_SUBNORMAL && out.u.r > 0);
    cr_assert_eq(out.u.r, bits_to_double(1));
}

Test(format_record, text_and_blob_types_by_length)
{
    static const uint64_t lens[] = {0, 1, 2, 57, 58, 127, 8191, 8192, 1000000};
    uint8_t *src = malloc(1000000), *dst = malloc(1000000 + 1);
    cr_assert(src && dst);
    for (size_t i = 0; i < 1000000; i++)
        src[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        uint64_t n = lens[i];
        fmt_value text = vbytes(FMT_TEXT, n ? src : NULL, n);
        fmt_value blob = vbytes(FMT_BLOB, n ? src : NULL, n);
        fmt_value out;
        cr_assert_eq(fmt_serial_type_of(&text, 4), 13 + 2 * n);
        cr_assert_eq(fmt_serial_type_of(&blob, 4), 12 + 2 * n);
        cr_assert_eq(fmt_serial_type_of(&text, 1), 13 + 2 * n);
        cr_assert_eq(fmt_serial_size(13 + 2 * n), n);
        cr_assert_eq(fmt_serial_size(12 + 2 * n), n);

        dst[n] = 0xee;
        cr_assert_eq(fmt_serial_encode(dst, 13 + 2 * n, &text), (size_t)n);
        cr_assert_eq(dst[n], 0xee);
        if (n)
            cr_assert_eq(memcmp(dst, src, (size_t)n), 0);
        cr_assert_eq(fmt_serial_decode(13 + 2 * n, dst, &out), 0);
        cr_assert_eq(out.type, FMT_TEXT);
        cr_assert_eq(out.u.s.n, n);
        cr_assert_eq(out.u.s.p, dst, "text points into the record");

        cr_assert_eq(fmt_serial_encode(dst, 12 + 2 * n, &blob), (size_t)n);
        cr_assert_eq(fmt_serial_decode(12 + 2 * n, dst, &out), 0);
        cr_assert_eq(out.type, FMT_BLOB);
        cr_assert_eq(out.u.s.n, n);
        cr_assert_eq(out.u.s.p, dst, "blob points into the record");
    }
    /* Serial type 12 and 13: empty blob and empty text, distinct types. */
    fmt_value out;
    cr_assert_eq(fmt_serial_decode(12, dst, &out), 0);
    cr_assert_eq(out.type, FMT_BLOB);
    cr_assert_eq(fmt_serial_decode(13, dst, &out), 0);
    cr_assert_eq(out.type, FMT_TEXT);
    free(src);
    free(dst);
}

Test(format_record, reserved_types_10_and_11_rejected)
{
    uint8_t buf[8] = {0};
    fmt_value v = vint(5), out;
    cr_assert_eq(fmt_serial_decode(10, buf, &out), FMT_EBAD);
    cr_assert_eq(fmt_serial_decode(11, buf, &out), FMT_EBAD);
    cr_assert_eq(fmt_serial_size(10), 0);
    cr_assert_eq(fmt_serial_size(11), 0);
    cr_assert_eq(fmt_serial_encode(buf, 10, &v), 0);
    cr_assert_eq(fmt_serial_encode(buf, 11, &v), 0);
}

Test(format_record, null_has_no_data)
{
    fmt_value n = vnull(), out = vint(3);
    uint8_t buf[1] = {0xee};
    cr_assert_eq(fmt_serial_type_of(&n, 4), 0);
    cr_assert_eq(fmt_serial_size(0), 0);
    cr_assert_eq(fmt_serial_encode(buf, 0, &n), 0);
    cr_assert_eq(buf[0], 0xee);
    cr_assert_eq(fmt_serial_decode(0, buf, &out), 0);
    cr_assert_eq(out.type, FMT_NULL);
}

/* ---- records ------------------------------------------------------------ */

Test(format_record, encode_known_bytes)
{
    fmt_value v1[3] = {vnull(), vint(1), vbytes(FMT_TEXT, "hi", 2)};
    const uint8_t f4[] = {0x04, 0x00, 0x09, 0x11, 'h', 'i'};
    const uint8_t f1[] = {0x04, 0x00, 0x01, 0x11, 0x01, 'h', 'i'};
    uint8_t buf[64];
    cr_assert_eq(fmt_record_size(v1, 3, 4), sizeof f4);
    cr_assert_eq(fmt_record_encode(buf, v1, 3, 4), sizeof f4);
    cr_assert_arr_eq(buf, f4, sizeof f4);
    cr_assert_eq(fmt_record_size(v1, 3, 1), sizeof f1);
    cr_assert_eq(fmt_record_encode(buf, v1, 3, 1), sizeof f1);
    cr_assert_arr_eq(buf, f1, sizeof f1);

    fmt_value v2[3] = {vreal_bits(0x3ff8000000000000ull), vbytes(FMT_BLOB, "\x00\xff", 2),
                       vint(-2)};
    const uint8_t r2[] = {0x04, 0x07, 0x10, 0x01, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x00, 0xff, 0xfe};
    cr_assert_eq(fmt_record_size(v2, 3, 4), sizeof r2);
    cr_assert_eq(fmt_record_encode(buf, v2, 3, 4), sizeof r2);
    cr_assert_arr_eq(buf, r2, sizeof r2);

    /* No columns: a header that holds only its own size. */
    const uint8_t r0[] = {0x01};
    cr_assert_eq(fmt_record_size(NULL, 0, 4), 1);
    cr_assert_eq(fmt_record_encode(buf, NULL, 0, 4), 1);
    cr_assert_arr_eq(buf, r0, 1);
}

static void check_null_record(int ncols, uint64_t want_hdr, int want_varint)
{
    fmt_value *vals = calloc((size_t)ncols, sizeof *vals);
    fmt_value *back = calloc((size_t)ncols + 1, sizeof *back);
    cr_assert(vals && back);
    for (int i = 0; i < ncols; i++)
        vals[i] = vnull();
    uint64_t size = fmt_record_size(vals, ncols, 4);
    cr_assert_eq(size, want_hdr, "%d NULL columns: record of %" PRIu64, ncols, size);
    uint8_t *buf = malloc((size_t)size);
    cr_assert_not_null(buf);
    cr_assert_eq(fmt_record_encode(buf, vals, ncols, 4), size);
    uint64_t hs;
    cr_assert_eq(fmt_varint_get(buf, buf + size, &hs), want_varint);
    cr_assert_eq(hs, want_hdr, "the header size counts its own varint");
    cr_assert_eq(decode_all(buf, size, back, ncols + 1), ncols);
    free(buf);
    free(vals);
    free(back);
}

Test(format_record, header_size_varint_grows_at_boundaries)
{
    /* 126 one-byte types + 1 = 127 fits one byte; 127 types need 128, which
     * takes two bytes, so the header becomes 129. */
    check_null_record(126, 127, 1);
    check_null_record(127, 129, 2);
    check_null_record(16381, 16383, 2);
    check_null_record(16382, 16385, 3);
}

static fmt_value random_value(uint64_t *s, uint8_t *pool, size_t pool_n, int no_nan)
{
    static const int64_t edges[] = {0,
                                    1,
                                    -1,
                                    127,
                                    128,
                                    -128,
                                    -129,
                                    32767,
                                    32768,
                                    -32768,
                                    -32769,
                                    8388607,
                                    8388608,
                                    -8388608,
                                    -8388609,
                                    INT32_MAX,
                                    INT32_MIN,
                                    2147483648,
                                    -2147483649,
                                    140737488355327,
                                    140737488355328,
                                    -140737488355328,
                                    -140737488355329,
                                    INT64_MAX,
                                    INT64_MIN};
    switch (fu_splitmix(s) % 5) {
    case 0:
        return vnull();
    case 1:
        if (fu_splitmix(s) % 2)
            return vint(edges[fu_splitmix(s) % (sizeof edges / sizeof edges[0])]);
        return vint((int64_t)(fu_splitmix(s) >> (fu_splitmix(s) % 64)));
    case 2: {
        uint64_t bits = fu_splitmix(s);
        if (no_nan && ((bits >> 52) & 0x7ff) == 0x7ff && (bits & 0xfffffffffffffull))
            bits &= ~0xfffffffffffffull; /* make it an infinity */
        return vreal_bits(bits);
    }
    default: {
        size_t n = (size_t)(fu_splitmix(s) % 300);
        size_t at = (size_t)(fu_splitmix(s) % (pool_n - n));
        return vbytes(fu_splitmix(s) % 2 ? FMT_TEXT : FMT_BLOB, pool + at, n);
    }
    }
}

Test(format_record, round_trip_random_records)
{
    uint64_t s = test_seed();
    uint8_t pool[4096];
    fmt_value vals[40], back[41];
    for (size_t i = 0; i < sizeof pool; i++)
        pool[i] = (uint8_t)fu_splitmix(&s);
    for (int iter = 0; iter < 3000; iter++) {
        int n = (int)(fu_splitmix(&s) % 40);
        int ff = 1 + (int)(fu_splitmix(&s) % 4);
        for (int i = 0; i < n; i++)
            vals[i] = random_value(&s, pool, sizeof pool, 0);
        uint64_t size = fmt_record_size(vals, n, ff);
        uint8_t *buf = malloc((size_t)size);
        cr_assert_not_null(buf);
        cr_assert_eq(fmt_record_encode(buf, vals, n, ff), size);
        cr_assert_eq(decode_all(buf, size, back, 41), n);
        for (int i = 0; i < n; i++)
            assert_same_value(&back[i], &vals[i], "random record column");
        free(buf);
    }
}

Test(format_record, open_with_header_in_local_part_only)
{
    /* A record of 1000 bytes of which only 10 are local: the header (3 bytes)
     * is readable, so columns are produced with offsets beyond the local part. */
    uint8_t *local = malloc(10);
    fmt_record r;
    uint64_t st, off;
    cr_assert_not_null(local);
    local[0] = 0x04;                         /* header: 4 bytes */
    local[1] = 0x01;                         /* int8 */
    fmt_varint_put(local + 2, 12 + 2 * 996); /* blob of 996: 2-byte varint */
    cr_assert_eq(fmt_record_open(&r, local, 10, 1001), 0);
    cr_assert_eq(fmt_record_next(&r, &st, &off), 1);
    cr_assert_eq(st, 1);
    cr_assert_eq(off, 4);
    cr_assert_eq(fmt_record_next(&r, &st, &off), 1);
    cr_assert_eq(st, 12 + 2 * 996);
    cr_assert_eq(off, 5);
    cr_assert_eq(fmt_record_next(&r, &st, &off), 0);
    /* The same header is unusable if fewer than 4 bytes are local. */
    cr_assert_eq(fmt_record_open(&r, local, 3, 1001), FMT_EBAD);
    free(local);
}

static int run_record(const uint8_t *bytes, size_t n)
{
    /* Copy to an exact-size heap block so any over-read trips ASan. */
    uint8_t *b = malloc(n ? n : 1);
    fmt_record r;
    uint64_t st, off;
    int rc, cols = 0;
    cr_assert_not_null(b);
    memcpy(b, bytes, n);
    rc = fmt_record_open(&r, b, n, n);
    if (rc == 0) {
        while ((rc = fmt_record_next(&r, &st, &off)) == 1) {
            cr_assert_leq(off + fmt_serial_size(st), n);
            cols++;
            cr_assert_lt(cols, 100000, "bounded");
        }
    }
    free(b);
    return rc;
}

Test(format_record, malformed_headers_rejected)
{
    /* Header size past the end of the record. */
    const uint8_t past[] = {0x05, 0x00};
    cr_assert_eq(run_record(past, sizeof past), FMT_EBAD);
    /* Header size smaller than its own varint. */
    const uint8_t zero_hdr[] = {0x00, 0x01};
    cr_assert_eq(run_record(zero_hdr, sizeof zero_hdr), FMT_EBAD);
    const uint8_t short_hdr[] = {0x80, 0x01, 0x00};
    cr_assert_eq(run_record(short_hdr, sizeof short_hdr), FMT_EBAD);
    /* The header-size checks belong to fmt_record_open itself. */
    fmt_record r;
    cr_assert_eq(fmt_record_open(&r, past, sizeof past, sizeof past), FMT_EBAD);
    cr_assert_eq(fmt_record_open(&r, zero_hdr, sizeof zero_hdr, sizeof zero_hdr), FMT_EBAD);
    cr_assert_eq(fmt_record_open(&r, short_hdr, sizeof short_hdr, sizeof short_hdr), FMT_EBAD);
    /* Empty record: no header size at all. */
    cr_assert_eq(run_record(past, 0), FMT_EBAD);
    cr_assert_eq(fmt_record_open(&r, past, 0, 0), FMT_EBAD);
    /* More bytes available than the record holds: only the record counts. */
    const uint8_t two[] = {0x02, 0x00};
    cr_assert_eq(fmt_record_open(&r, two, sizeof two, sizeof two), 0);
    cr_assert_eq(fmt_record_open(&r, two, sizeof two, 1), FMT_EBAD);
    /* Truncated header-size varint. */
    const uint8_t trunc_hs[] = {0x81};
    cr_assert_eq(run_record(trunc_hs, sizeof trunc_hs), FMT_EBAD);
    const uint8_t trunc_hs9[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    cr_assert_eq(run_record(trunc_hs9, sizeof trunc_hs9), FMT_EBAD);
    /* A serial-type varint that runs past the end of the header (the byte
     * after the header would complete it). */
    const uint8_t straddle[] = {0x02, 0x81, 0x01, 0x00};
    cr_assert_eq(run_record(straddle, sizeof straddle), FMT_EBAD);
    /* Serial types 10 and 11. */
    const uint8_t t10[] = {0x02, 0x0a};
    const uint8_t t11[] = {0x03, 0x01, 0x0b, 0x05};
    cr_assert_eq(run_record(t10, sizeof t10), FMT_EBAD);
    cr_assert_eq(run_record(t11, sizeof t11), FMT_EBAD);
    /* Data past the end: an 8-byte integer with 3 bytes of data. */
    const uint8_t short_data[] = {0x02, 0x06, 1, 2, 3};
    cr_assert_eq(run_record(short_data, sizeof short_data), FMT_EBAD);
    /* A blob whose length is near 2^63: must not wrap the offset arithmetic. */
    uint8_t huge[12] = {0x0a};
    cr_assert_eq(fmt_varint_put(huge + 1, UINT64_MAX - 1), 9);
    cr_assert_eq(run_record(huge, 10), FMT_EBAD);
    /* Bytes left over after the last column. */
    const uint8_t extra[] = {0x02, 0x01, 0x05, 0xaa};
    cr_assert_eq(run_record(extra, sizeof extra), FMT_EBAD);
}

Test(format_record, well_formed_edge_records_accepted)
{
    const uint8_t empty[] = {0x01};
    cr_assert_eq(run_record(empty, sizeof empty), 0);
    const uint8_t all_zero_size[] = {0x05, 0x00, 0x08, 0x09, 0x0c};
    cr_assert_eq(run_record(all_zero_size, sizeof all_zero_size), 0);
    /* A non-canonical (two-byte) header size is still a valid header. */
    const uint8_t long_hs[] = {0x80, 0x03, 0x01, 0x07};
    cr_assert_eq(run_record(long_hs, sizeof long_hs), 0);
}

Test(format_record, next_reports_offsets_in_order)
{
    fmt_value v[4] = {vint(300), vbytes(FMT_TEXT, "abc", 3), vnull(),
                      vreal_bits(0x4000000000000000ull)};
    uint8_t buf[64];
    fmt_record r;
    uint64_t st, off;
    uint64_t size = fmt_record_encode(buf, v, 4, 4);
    static const uint64_t want_st[] = {2, 19, 0, 7};
    static const uint64_t want_off[] = {5, 7, 10, 10};
    cr_assert_eq(size, 18);
    cr_assert_eq(fmt_record_open(&r, buf, size, size), 0);
    cr_assert_eq(r.hdr_size, 5);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(fmt_record_next(&r, &st, &off), 1);
        cr_assert_eq(st, want_st[i], "column %d type", i);
        cr_assert_eq(off, want_off[i], "column %d offset", i);
    }
    cr_assert_eq(fmt_record_next(&r, &st, &off), 0);
    cr_assert_eq(fmt_record_next(&r, &st, &off), 0, "stays at the end");
}

Test(format_record, random_bytes_never_overread)
{
    uint64_t s = test_seed();
    uint8_t buf[64];
    int ok = 0, bad = 0;
    for (int iter = 0; iter < 200000; iter++) {
        size_t n = (size_t)(fu_splitmix(&s) % sizeof buf);
        for (size_t i = 0; i < n; i++) {
            /* Bias towards small header values so some records are valid. */
            uint64_t x = fu_splitmix(&s);
            buf[i] = (uint8_t)(x % 4 == 0 ? x >> 8 : (x >> 8) % 16);
        }
        if (n > 0)
            buf[0] = (uint8_t)(buf[0] % (n + 1));
        if (run_record(buf, n) == 0)
            ok++;
        else
            bad++;
    }
    cr_assert_gt(ok, 0, "some random records are valid");
    cr_assert_gt(bad, 0, "some random records are malformed");
}

/* ---- against SQLite ----------------------------------------------------- */

/* The value SQLite returns for column `col` of a stepped statement. */
static fmt_value sqlite_column_value(sqlite3_stmt *st, int col)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER:
        return vint(sqlite3_column_int64(st, col));
    case SQLITE_FLOAT:
        return vreal_bits(double_to_bits(sqlite3_column_double(st, col)));
    case SQLITE_TEXT: {
        const void *p = sqlite3_column_text(st, col);
        return vbytes(FMT_TEXT, p, (uint64_t)sqlite3_column_bytes(st, col));
    }
    case SQLITE_BLOB: {
        const void *p = sqlite3_column_blob(st, col);
        return vbytes(FMT_BLOB, p, (uint64_t)sqlite3_column_bytes(st, col));
    }
    default:
        return vnull();
    }
}

static void bind_value(sqlite3_stmt *st, int i, const fmt_value *v)
{
    switch (v->type) {
    case FMT_INTEGER:
        sqlite3_bind_int64(st, i, v->u.i);
        break;
    case FMT_REAL:
        sqlite3_bind_double(st, i, v->u.r);
        break;
    case FMT_TEXT:
        sqlite3_bind_text(st, i, (const char *)v->u.s.p, (int)v->u.s.n, SQLITE_TRANSIENT);
        break;
    case FMT_BLOB:
        sqlite3_bind_blob(st, i, v->u.s.n ? (const void *)v->u.s.p : "", (int)v->u.s.n,
                          SQLITE_TRANSIENT);
        break;
    default:
        sqlite3_bind_null(st, i);
        break;
    }
}

#define NCOLS 8

/* Rows of boundary values in columns without affinity, so SQLite stores each
 * value exactly as bound. NaN is left out: SQLite turns it into NULL. */
static int boundary_rows(fmt_value rows[][NCOLS], const uint8_t *pool)
{
    static const char text200[] =
        "the quick brown fox jumps over the lazy dog; the quick brown fox jumps over the lazy "
        "dog; the quick brown fox jumps over the lazy dog; the quick brown fox jumps over "
        "the lazy dog; the quick";
    int r = 0;
    fmt_value a[NCOLS] = {vnull(),   vint(0),   vint(1),    vint(-1),
                          vint(127), vint(128), vint(-128), vint(-129)};
    fmt_value b[NCOLS] = {vint(32767),   vint(32768),   vint(-32768),   vint(-32769),
                          vint(8388607), vint(8388608), vint(-8388608), vint(-8388609)};
    fmt_value c[NCOLS] = {vint(INT32_MAX),
                          vint((int64_t)INT32_MAX + 1),
                          vint(INT32_MIN),
                          vint((int64_t)INT32_MIN - 1),
                          vint(((int64_t)1 << 47) - 1),
                          vint((int64_t)1 << 47),
                          vint(-((int64_t)1 << 47)),
                          vint(-((int64_t)1 << 47) - 1)};
    fmt_value d[NCOLS] = {vint(INT64_MAX),
                          vint(INT64_MIN),
                          vreal_bits(0x3ff8000000000000ull),
                          vreal_bits(0x8000000000000000ull),
                          vreal_bits(0x7ff0000000000000ull),
                          vreal_bits(0xfff0000000000000ull),
                          vreal_bits(0x0000000000000001ull),
                          vreal_bits(0x3ff0000000000000ull)};
    fmt_value e[NCOLS] = {
        vbytes(FMT_TEXT, "", 0),           vbytes(FMT_BLOB, "", 0),
        vbytes(FMT_BLOB, pool, 100),       vbytes(FMT_TEXT, text200, sizeof text200 - 1),
        vreal_bits(0x7fefffffffffffffull), vreal_bits(0x000fffffffffffffull),
        vbytes(FMT_TEXT, "x", 1),          vnull()};
    memcpy(rows[r++], a, sizeof a);
    memcpy(rows[r++], b, sizeof b);
    memcpy(rows[r++], c, sizeof c);
    memcpy(rows[r++], d, sizeof d);
    memcpy(rows[r++], e, sizeof e);
    return r;
}

Test(format_record, decodes_records_written_by_sqlite)
{
    uint8_t pool[256];
    fmt_value rows[8][NCOLS];
    int nrows;
    char *dir = fu_make_tmpdir();
    char path[4200];
    sqlite3 *db;
    sqlite3_stmt *st;
    size_t fsize;

    for (int i = 0; i < 256; i++)
        pool[i] = (uint8_t)i;
    nrows = boundary_rows(rows, pool);
    snprintf(path, sizeof path, "%s/records.db", dir);
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(
        sqlite3_exec(db, "PRAGMA page_size=65536; CREATE TABLE t(a,b,c,d,e,f,g,h);", 0, 0, 0),
        SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?,?,?,?,?,?,?,?)", -1, &st, 0),
                 SQLITE_OK);
    for (int r = 0; r < nrows; r++) {
        for (int c = 0; c < NCOLS; c++)
            bind_value(st, c + 1, &rows[r][c]);
        cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);

    uint8_t *file = fu_read_file(path, &fsize);
    cr_assert_geq(fsize, 2 * 65536);
    const uint8_t *page = file + 65536;
    fmt_page pg;
    cr_assert_eq(fmt_page_decode(page, 2, 65536, &pg), 0);
    cr_assert_eq(pg.type, FMT_PAGE_TABLE_LEAF);
    cr_assert_eq(pg.ncells, (uint32_t)nrows);

    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT * FROM t WHERE rowid = ?", -1, &st, 0), SQLITE_OK);
    for (uint32_t i = 0; i < pg.ncells; i++) {
        fmt_cell cell;
        fmt_value got[NCOLS + 1];
        uint8_t mine[1024];
        cr_assert_eq(fmt_cell_parse(page, &pg, fmt_page_cell_off(page, &pg, i), &cell), 0);
        cr_assert_eq(cell.local, cell.payload_size, "small rows are wholly local");
        cr_assert_eq(decode_all(cell.payload, cell.payload_size, got, NCOLS + 1), NCOLS);

        /* What we decoded is what SQLite reads back ... */
        sqlite3_bind_int64(st, 1, cell.rowid);
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        for (int c = 0; c < NCOLS; c++) {
            fmt_value want = sqlite_column_value(st, c);
            assert_same_value(&got[c], &want, "SQLite column");
            assert_same_value(&got[c], &rows[cell.rowid - 1][c], "bound value");
        }
        sqlite3_reset(st);

        /* ... and re-encoding gives SQLite's bytes exactly. */
        cr_assert_eq(fmt_record_size(got, NCOLS, 4), cell.payload_size);
        cr_assert_eq(fmt_record_encode(mine, got, NCOLS, 4), cell.payload_size);
        cr_assert_arr_eq(mine, cell.payload, (size_t)cell.payload_size, "row %" PRId64, cell.rowid);
    }
    sqlite3_finalize(st);
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);
    free(file);
    fu_remove_tmpdir(dir);
}

/* Minimal page builder: append a table-leaf cell holding `rec` wholly. */
static void leaf_add(uint8_t *page, uint32_t hdr_off, int64_t rowid, const uint8_t *rec,
                     uint64_t len)
{
    uint8_t cell[4096];
    int n = fmt_varint_put(cell, len);
    n += fmt_varint_put(cell + n, (uint64_t)rowid);
    memcpy(cell + n, rec, (size_t)len);
    uint32_t size = (uint32_t)n + (uint32_t)len;
    uint32_t top = fmt_get_u16(page + hdr_off + 5);
    uint32_t ncells = fmt_get_u16(page + hdr_off + 3);
    if (top == 0)
        top = 65536;
    cr_assert_geq(top, hdr_off + 8 + 2 * (ncells + 1) + size, "test page is full");
    top -= size;
    memcpy(page + top, cell, size);
    fmt_put_u16(page + hdr_off + 8 + 2 * ncells, top);
    fmt_put_u16(page + hdr_off + 3, ncells + 1);
    fmt_put_u16(page + hdr_off + 5, top);
}

Test(format_record, sqlite_reads_records_we_encode)
{
    enum { PS = 65536, ROWS = 40 };
    uint64_t s = test_seed();
    uint8_t pool[2048];
    uint8_t rec[4096];
    fmt_value rows[ROWS][NCOLS];
    uint8_t *file = calloc(2, PS);
    char *dir = fu_make_tmpdir();
    char path[4200];
    fmt_dbheader h;
    sqlite3 *db;
    sqlite3_stmt *st;

    cr_assert_not_null(file);
    for (size_t i = 0; i < sizeof pool; i++)
        pool[i] = (uint8_t)('a' + fu_splitmix(&s) % 26); /* text stays valid UTF-8 */
    int nb = boundary_rows(rows, pool);
    for (int r = nb; r < ROWS; r++)
        for (int c = 0; c < NCOLS; c++)
            rows[r][c] = random_value(&s, pool, sizeof pool, 1);

    memset(&h, 0, sizeof h);
    h.page_size = PS;
    h.write_version = h.read_version = 1;
    h.max_payload_frac = 64;
    h.min_payload_frac = 32;
    h.leaf_payload_frac = 32;
    h.change_counter = h.version_valid_for = 1;
    h.page_count = 2;
    h.schema_cookie = 1;
    h.schema_format = 4;
    h.text_encoding = 1;
    h.sqlite_version = SQLITE_VERSION_NUMBER;
    fmt_dbheader_encode(file, &h);

    /* Page 1: sqlite_schema with one table whose root is page 2. */
    static const char sql[] = "CREATE TABLE t(a,b,c,d,e,f,g,h)";
    fmt_value schema[5] = {vbytes(FMT_TEXT, "table", 5), vbytes(FMT_TEXT, "t", 1),
                           vbytes(FMT_TEXT, "t", 1), vint(2),
                           vbytes(FMT_TEXT, sql, sizeof sql - 1)};
    file[100] = FMT_PAGE_TABLE_LEAF;
    fmt_put_u16(file + 105, 0); /* content start 65536 */
    leaf_add(file, 100, 1, rec, fmt_record_encode(rec, schema, 5, 4));
    /* Page 2: the rows. */
    uint8_t *p2 = file + PS;
    p2[0] = FMT_PAGE_TABLE_LEAF;
    for (int r = 0; r < ROWS; r++) {
        uint64_t size = fmt_record_size(rows[r], NCOLS, 4);
        cr_assert_lt(size, sizeof rec);
        cr_assert_eq(fmt_record_encode(rec, rows[r], NCOLS, 4), size);
        leaf_add(p2, 0, r + 1, rec, size);
    }
    snprintf(path, sizeof path, "%s/ours.db", dir);
    fu_write_file(path, file, 2 * PS);

    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, 0), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT rowid, * FROM t ORDER BY rowid", -1, &st, 0),
                 SQLITE_OK);
    int seen = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t rowid = sqlite3_column_int64(st, 0);
        cr_assert_eq(rowid, seen + 1);
        for (int c = 0; c < NCOLS; c++) {
            fmt_value got = sqlite_column_value(st, c + 1);
            assert_same_value(&got, &rows[seen][c], "value read by SQLite");
        }
        seen++;
    }
    cr_assert_eq(seen, ROWS);
    sqlite3_finalize(st);
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);
    free(file);
    fu_remove_tmpdir(dir);
}
