/*
 * jsonval.c: JSONL value encoding (see jsonval.h for the format).
 *
 * These functions run once per value of a dump, so they append to a reused
 * buffer and avoid printf except for reals, which need the round-trip search.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonval.h"

static const char hex_digits[] = "0123456789abcdef";

/* ---- UTF-8 ---------------------------------------------------------------- */

static int is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

size_t jv_utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2) /* a continuation byte, or C0/C1 which only start overlongs */
        return 0;
    if (c < 0xE0)
        return n >= 2 && is_cont(p[1]) ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || !is_cont(p[1]) || !is_cont(p[2]))
            return 0;
        if (c == 0xE0 && p[1] < 0xA0) /* overlong: below U+0800 */
            return 0;
        if (c == 0xED && p[1] > 0x9F) /* U+D800..U+DFFF, the surrogates */
            return 0;
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || !is_cont(p[1]) || !is_cont(p[2]) || !is_cont(p[3]))
            return 0;
        if (c == 0xF0 && p[1] < 0x90) /* overlong: below U+10000 */
            return 0;
        if (c == 0xF4 && p[1] > 0x8F) /* above U+10FFFF */
            return 0;
        return 4;
    }
    return 0; /* F5..FF never occur in UTF-8 */
}

int jv_utf8_valid(const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = jv_utf8_seq(s + i, n - i);
        if (len == 0)
            return 0;
        i += len;
    }
    return 1;
}

/* ---- Numbers ----------------------------------------------------------------- */

size_t jv_format_real(char out[JV_REAL_MAX], double r)
{
    if (isnan(r)) {
        memcpy(out, "NaN", 4);
        return 3;
    }
    if (isinf(r)) {
        const char *s = r > 0 ? "Infinity" : "-Infinity";
        size_t len = strlen(s);
        memcpy(out, s, len + 1);
        return len;
    }
    static const char *const formats[] = {"%.15g", "%.16g", "%.17g"};
    int len = 0;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        len = snprintf(out, JV_REAL_MAX, formats[i], r);
        double back = strtod(out, NULL);
        /* Compare the bits, not the values: -0.0 == 0.0 but must print "-0.0". */
        if (memcmp(&back, &r, sizeof r) == 0)
            break;
    }
    if (len < 0)
        len = 0;
    if (!strpbrk(out, ".e")) {
        memcpy(out + len, ".0", 3);
        len += 2;
    }
    return (size_t)len;
}

void jv_put_int(cli_buf *b, int64_t v)
{
    char tmp[24];
    char *end = tmp + sizeof tmp;
    char *p = end;
    /* Negate in unsigned arithmetic so that INT64_MIN works. */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    cli_buf_put(b, p, (size_t)(end - p));
}

void jv_put_hex(cli_buf *b, const void *p, size_t n)
{
    if (n == 0 || n > SIZE_MAX / 2 || cli_buf_grow(b, 2 * n) != 0)
        return;
    const unsigned char *s = p;
    char *o = b->p + b->n;
    for (size_t i = 0; i < n; i++) {
        *o++ = hex_digits[s[i] >> 4];
        *o++ = hex_digits[s[i] & 15];
    }
    b->n += 2 * n;
}

/* ---- Strings ------------------------------------------------------------------ */

static int needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

static void put_escape(cli_buf *b, unsigned char c)
{
    char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
    size_t len = 2;
    switch (c) {
    case '"':
        esc[1] = '"';
        break;
    case '\\':
        esc[1] = '\\';
        break;
    case '\n':
        esc[1] = 'n';
        break;
    case '\r':
        esc[1] = 'r';
        break;
    case '\t':
        esc[1] = 't';
        break;
    case '\b':
        esc[1] = 'b';
        break;
    case '\f':
        esc[1] = 'f';
        break;
    default:
        memcpy(esc + 1, "u00", 3);
        esc[4] = hex_digits[c >> 4];
        esc[5] = hex_digits[c & 15];
        len = 6;
        break;
    }
    cli_buf_put(b, esc, len);
}

void jv_put_string(cli_buf *b, const void *p, size_t n)
{
    const unsigned char *s = p;
    if (n == 0) { /* p may be NULL then; NULL + 0 is undefined in C */
        cli_buf_put(b, "\"\"", 2);
        return;
    }
    cli_buf_putc(b, '"');
    size_t run = 0; /* start of the bytes not yet copied */
    for (size_t i = 0; i < n; i++) {
        if (!needs_escape(s[i]))
            continue;
        cli_buf_put(b, s + run, i - run);
        put_escape(b, s[i]);
        run = i + 1;
    }
    cli_buf_put(b, s + run, n - run);
    cli_buf_putc(b, '"');
}

void jv_put_string_lossy(cli_buf *b, const void *p, size_t n)
{
    const unsigned char *s = p;
    cli_buf_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            if (needs_escape(s[i]))
                put_escape(b, s[i]);
            else
                cli_buf_putc(b, (char)s[i]);
            i++;
            continue;
        }
        size_t len = jv_utf8_seq(s + i, n - i);
        if (len == 0) {
            cli_buf_put(b, "\xEF\xBF\xBD", 3); /* U+FFFD */
            i++;
        } else {
            cli_buf_put(b, s + i, len);
            i += len;
        }
    }
    cli_buf_putc(b, '"');
}

/* ---- Values --------------------------------------------------------------------- */

void jv_put_value(cli_buf *b, const folio_value *v)
{
    switch (v->type) {
    case FOLIO_INTEGER:
        jv_put_int(b, v->u.i);
        return;
    case FOLIO_REAL: {
        double r = v->u.r;
        if (isnan(r)) {
            cli_buf_put(b, "null", 4);
        } else if (isinf(r)) {
            cli_buf_puts(b, r > 0 ? "{\"real\":\"Infinity\"}" : "{\"real\":\"-Infinity\"}");
        } else {
            char text[JV_REAL_MAX];
            size_t len = jv_format_real(text, r);
            cli_buf_put(b, text, len);
        }
        return;
    }
    case FOLIO_TEXT:
        if (jv_utf8_valid(v->u.s.p, v->u.s.n)) {
            jv_put_string(b, v->u.s.p, v->u.s.n);
        } else {
            cli_buf_puts(b, "{\"text_hex\":\"");
            jv_put_hex(b, v->u.s.p, v->u.s.n);
            cli_buf_puts(b, "\"}");
        }
        return;
    case FOLIO_BLOB:
        cli_buf_puts(b, "{\"blob\":\"");
        jv_put_hex(b, v->u.s.p, v->u.s.n);
        cli_buf_puts(b, "\"}");
        return;
    case FOLIO_NULL:
    default:
        cli_buf_put(b, "null", 4);
        return;
    }
}

/* ---- Reading values ------------------------------------------------------------- */

/* Every int64 must come through jansson exactly. */
_Static_assert(sizeof(json_int_t) == sizeof(int64_t), "jansson integers must be 64-bit");

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode the hex string `j` into `out` as `type` bytes. */
static int decode_hex(folio_value *out, folio_type type, const json_t *j, cli_arena *arena,
                      const char *what, char *err, size_t errlen)
{
    if (!json_is_string(j)) {
        snprintf(err, errlen, "{\"%s\":...} needs a string of hex digits", what);
        return -1;
    }
    const unsigned char *s = (const unsigned char *)json_string_value(j);
    size_t n = json_string_length(j);
    if (n % 2 != 0) {
        snprintf(err, errlen, "{\"%s\":...}: odd number of hex digits", what);
        return -1;
    }
    unsigned char *bytes = cli_arena_alloc(arena, n / 2);
    if (!bytes) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0) {
            snprintf(err, errlen, "{\"%s\":...}: not a hex digit at offset %zu", what,
                     hi < 0 ? i : i + 1);
            return -1;
        }
        bytes[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    out->type = type;
    out->u.s.p = bytes;
    out->u.s.n = n / 2;
    return 0;
}

/* {"real":"Infinity"}, {"real":"-Infinity"}, {"text_hex":".."}, {"blob":".."}. */
static int decode_object(folio_value *out, const json_t *j, cli_arena *arena, char *err,
                         size_t errlen)
{
    const char *key = NULL;
    const json_t *v = NULL;
    if (json_object_size(j) == 1) {
        void *it = json_object_iter((json_t *)j);
        key = json_object_iter_key(it);
        v = json_object_iter_value(it);
    }
    if (key && strcmp(key, "blob") == 0)
        return decode_hex(out, FOLIO_BLOB, v, arena, "blob", err, errlen);
    if (key && strcmp(key, "text_hex") == 0)
        return decode_hex(out, FOLIO_TEXT, v, arena, "text_hex", err, errlen);
    if (key && strcmp(key, "real") == 0) {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        if (strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0) {
            out->type = FOLIO_REAL;
            out->u.r = s[0] == '-' ? -HUGE_VAL : HUGE_VAL;
            return 0;
        }
        snprintf(err, errlen, "{\"real\":...} must be \"Infinity\" or \"-Infinity\"");
        return -1;
    }
    snprintf(err, errlen,
             "an object value must be {\"blob\":\"..\"}, {\"text_hex\":\"..\"} or "
             "{\"real\":\"Infinity\"}");
    return -1;
}

int jv_decode_value(folio_value *out, const json_t *j, cli_arena *arena, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    switch (json_typeof(j)) {
    case JSON_NULL:
        out->type = FOLIO_NULL;
        return 0;
    case JSON_INTEGER:
        out->type = FOLIO_INTEGER;
        out->u.i = (int64_t)json_integer_value(j);
        return 0;
    case JSON_REAL:
        out->type = FOLIO_REAL;
        out->u.r = json_real_value(j);
        return 0;
    case JSON_STRING:
        out->type = FOLIO_TEXT;
        out->u.s.p = json_string_value(j);
        out->u.s.n = json_string_length(j);
        return 0;
    case JSON_OBJECT:
        return decode_object(out, j, arena, err, errlen);
    case JSON_TRUE:
    case JSON_FALSE:
        snprintf(err, errlen, "true and false are not values (use 1 and 0)");
        return -1;
    case JSON_ARRAY:
    default:
        snprintf(err, errlen, "an array is not a value");
        return -1;
    }
}
