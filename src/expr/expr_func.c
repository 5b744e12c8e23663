/*
 * expr_func.c - SQLite 3.40's core scalar functions (the table
 * ex_core_functions), with the math functions the stock Debian build of
 * libsqlite3 3.40 has (SQLITE_ENABLE_MATH_FUNCTIONS), soundex() and sign().
 *
 * Each function follows SQLite's own rules for its arguments, which differ:
 *   - "as text" is sqlite3_value_text: numbers are rendered ("%lld",
 *     "%!.15g"), a blob's bytes are taken as text, and many functions stop at
 *     the first NUL byte because SQLite's C code does (length, substr,
 *     like, unicode, quote, soundex, the trim character set, printf's format);
 *   - "as a number" is sqlite3_value_double / _int64: the numeric prefix of
 *     text or of a blob's bytes, 0 when there is none;
 *   - "numeric type" (the math functions, sign, ceil) converts text only
 *     when all of it is a number, and gives NULL for anything else.
 * coalesce, ifnull and iif are evaluated by expr_eval.c (they must not
 * evaluate unused arguments); their entries here exist for the name lookup.
 * min, max and nullif compare with the collating sequence of their first
 * argument that has one (ex_fn_collation).
 *
 * random() and randomblob() are non-deterministic; current_time,
 * current_date and current_timestamp read the statement's clock (they are
 * the values of CURRENT_TIME, CURRENT_DATE and CURRENT_TIMESTAMP). Both
 * kinds are refused where SQLite refuses them.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "expr/expr_int.h"
#include "folio.h"

/* SQLite's SQLITE_MAX_LIKE_PATTERN_LENGTH. */
#define LIKE_PATTERN_MAX_BYTES 50000
/* Debian's libsqlite3 (the reference folio is tested against) is built with
 * SQLITE_LIKE_DOESNT_MATCH_BLOBS: LIKE and GLOB are false when the pattern or
 * the text is a BLOB. Upstream's default build matches blobs as text. */
#define LIKE_DOESNT_MATCH_BLOBS 1
/* round() stops at 30 decimals. */
#define ROUND_MAX_DIGITS 30
/* Beyond 2^52 a double has no fractional part. */
#define NO_FRACTION_BEYOND 4503599627370496.0

/* ---- Argument helpers ------------------------------------------------------- */

/* The value as SQLite's sqlite3_value_text sees it: *p NULL for NULL. */
static int text_of(ex_ctx *cx, const ex_value *v, const uint8_t **p, size_t *n)
{
    *p = NULL;
    *n = 0;
    switch (v->type) {
    case EX_NULL:
        return 0;
    case EX_INTEGER:
    case EX_REAL: {
        ex_value t = *v;
        int rc = exv_to_text(cx, &t);
        if (rc)
            return rc;
        *p = t.u.s.p;
        *n = (size_t)t.u.s.n;
        return 0;
    }
    default:
        *p = v->u.s.p ? v->u.s.p : (const uint8_t *)"";
        *n = (size_t)v->u.s.n;
        return 0;
    }
}

/* Bytes up to the first NUL: what SQLite's C loops over a text see. */
static size_t cstr_len(const uint8_t *p, size_t n)
{
    const uint8_t *z = p ? memchr(p, 0, n) : NULL;
    return z ? (size_t)(z - p) : n;
}

static uint8_t *scratch_or_fail(ex_ctx *cx, size_t n, int *rc)
{
    if (n > (size_t)ex_max_length(cx) + 1) {
        *rc = exv_toobig(cx);
        return NULL;
    }
    uint8_t *p = ex_scratch(cx, n ? n : 1);
    *rc = p ? 0 : ex_nomem(cx);
    return p;
}

/* sqlite3_value_numeric_type: INTEGER or REAL if the value is or reads
 * wholly as a number. */
static int numeric_type(const ex_value *v, ex_value *num)
{
    *num = *v;
    if (num->type == EX_TEXT)
        exv_apply_numeric(num);
    return num->type;
}

/* ---- Simple value functions ---------------------------------------------------- */

static int fn_typeof(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    static const char *const names[] = {"null", "integer", "real", "text", "blob"};
    (void)cx;
    (void)argc;
    const char *s = names[argv[0].type];
    exv_set_text(out, s, strlen(s));
    return 0;
}

static int fn_subtype(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)cx;
    (void)argc;
    exv_set_int(out, argv[0].subtype);
    return 0;
}

static int fn_first_arg(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)cx;
    (void)argc;
    *out = argv[0];
    return 0;
}

static int fn_abs(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    switch (argv[0].type) {
    case EX_INTEGER:
        if (argv[0].u.i == INT64_MIN)
            return ex_error(cx, "integer overflow");
        exv_set_int(out, argv[0].u.i < 0 ? -argv[0].u.i : argv[0].u.i);
        return 0;
    case EX_NULL:
        return 0;
    default: {
        double r = exv_real(&argv[0]);
        exv_set_real(out, r < 0 ? -r : r);
        return 0;
    }
    }
}

static int fn_sign(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    ex_value num;
    (void)cx;
    (void)argc;
    int t = numeric_type(&argv[0], &num);
    if (t != EX_INTEGER && t != EX_REAL)
        return 0;
    double x = exv_real(&num);
    exv_set_int(out, x < 0.0 ? -1 : x > 0.0 ? 1 : 0);
    return 0;
}

static int fn_length(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    const ex_value *v = &argv[0];
    if (v->type == EX_NULL)
        return 0;
    if (v->type == EX_BLOB) {
        exv_set_int(out, (int64_t)v->u.s.n);
        return 0;
    }
    const uint8_t *p;
    size_t n;
    int rc = text_of(cx, v, &p, &n);
    if (rc)
        return rc;
    if (v->type != EX_TEXT) {
        exv_set_int(out, (int64_t)n);
        return 0;
    }
    /* Characters before the first NUL: every byte but the continuation
     * bytes that follow a lead byte >= 0xc0. */
    n = cstr_len(p, n);
    int64_t chars = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i++];
        chars++;
        if (c >= 0xc0)
            while (i < n && (p[i] & 0xc0) == 0x80)
                i++;
    }
    exv_set_int(out, chars);
    return 0;
}

static int fn_unicode(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    const uint8_t *p;
    size_t n;
    int rc = text_of(cx, &argv[0], &p, &n);
    if (rc || !p)
        return rc;
    n = cstr_len(p, n);
    if (n == 0)
        return 0;
    size_t i = 0;
    exv_set_int(out, exv_utf8_read(p, n, &i));
    return 0;
}

static int fn_char(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    int rc;
    uint8_t *z = scratch_or_fail(cx, (size_t)argc * 4 + 1, &rc), *o = z;
    if (!z)
        return rc;
    for (int i = 0; i < argc; i++) {
        int64_t x = exv_int(&argv[i]);
        if (x < 0 || x > 0x10ffff)
            x = 0xfffd;
        unsigned c = (unsigned)(x & 0x1fffff);
        if (c < 0x80) {
            *o++ = (uint8_t)c;
        } else if (c < 0x800) {
            *o++ = (uint8_t)(0xC0 + ((c >> 6) & 0x1F));
            *o++ = (uint8_t)(0x80 + (c & 0x3F));
        } else if (c < 0x10000) {
            *o++ = (uint8_t)(0xE0 + ((c >> 12) & 0x0F));
            *o++ = (uint8_t)(0x80 + ((c >> 6) & 0x3F));
            *o++ = (uint8_t)(0x80 + (c & 0x3F));
        } else {
            *o++ = (uint8_t)(0xF0 + ((c >> 18) & 0x07));
            *o++ = (uint8_t)(0x80 + ((c >> 12) & 0x3F));
            *o++ = (uint8_t)(0x80 + ((c >> 6) & 0x3F));
            *o++ = (uint8_t)(0x80 + (c & 0x3F));
        }
    }
    *o = 0;
    exv_set_text(out, z, (size_t)(o - z));
    return 0;
}

static const char hex_upper[] = "0123456789ABCDEF";

static int fn_hex(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    const uint8_t *p;
    size_t n;
    int rc = text_of(cx, &argv[0], &p, &n);
    if (rc)
        return rc;
    uint8_t *z = scratch_or_fail(cx, n * 2 + 1, &rc);
    if (!z)
        return rc;
    for (size_t i = 0; i < n; i++) {
        z[2 * i] = (uint8_t)hex_upper[p[i] >> 4];
        z[2 * i + 1] = (uint8_t)hex_upper[p[i] & 15];
    }
    z[2 * n] = 0;
    exv_set_text(out, z, 2 * n);
    return 0;
}

static int fn_quote(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    const ex_value *v = &argv[0];
    int rc;
    switch (v->type) {
    case EX_REAL: {
        /* "%!.15g", or "%!.20e" when that does not read back as the same
         * value. */
        char buf[64];
        size_t n = ex_real_text(v->u.r, buf, sizeof buf);
        double back;
        exv_atof((const uint8_t *)buf, n, &back);
        if (back != v->u.r) {
            ex_value fargs[2];
            exv_set_text(&fargs[0], "%!.20e", 6);
            fargs[1] = *v;
            return ex_printf(cx, 2, fargs, out);
        }
        uint8_t *z = scratch_or_fail(cx, n + 1, &rc);
        if (!z)
            return rc;
        memcpy(z, buf, n + 1);
        exv_set_text(out, z, n);
        return 0;
    }
    case EX_INTEGER: {
        ex_value t = *v;
        rc = exv_to_text(cx, &t);
        if (!rc)
            *out = t;
        return rc;
    }
    case EX_BLOB: {
        size_t n = (size_t)v->u.s.n;
        uint8_t *z = scratch_or_fail(cx, 2 * n + 4, &rc);
        if (!z)
            return rc;
        z[0] = 'X';
        z[1] = '\'';
        for (size_t i = 0; i < n; i++) {
            z[2 + 2 * i] = (uint8_t)hex_upper[v->u.s.p[i] >> 4];
            z[3 + 2 * i] = (uint8_t)hex_upper[v->u.s.p[i] & 15];
        }
        z[2 * n + 2] = '\'';
        z[2 * n + 3] = 0;
        exv_set_text(out, z, 2 * n + 3);
        return 0;
    }
    case EX_TEXT: {
        size_t n = cstr_len(v->u.s.p, (size_t)v->u.s.n), quotes = 0;
        for (size_t i = 0; i < n; i++)
            quotes += v->u.s.p[i] == '\'';
        uint8_t *z = scratch_or_fail(cx, n + quotes + 3, &rc);
        if (!z)
            return rc;
        size_t j = 0;
        z[j++] = '\'';
        for (size_t i = 0; i < n; i++) {
            z[j++] = v->u.s.p[i];
            if (v->u.s.p[i] == '\'')
                z[j++] = '\'';
        }
        z[j++] = '\'';
        z[j] = 0;
        exv_set_text(out, z, j);
        return 0;
    }
    default:
        exv_set_text(out, "NULL", 4);
        return 0;
    }
}

/* ---- Text functions --------------------------------------------------------------- */

static int change_case(ex_ctx *cx, const ex_value *v, ex_value *out, int upper)
{
    const uint8_t *p;
    size_t n;
    int rc = text_of(cx, v, &p, &n);
    if (rc || !p)
        return rc;
    uint8_t *z = scratch_or_fail(cx, n + 1, &rc);
    if (!z)
        return rc;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (upper && c >= 'a' && c <= 'z')
            c = (uint8_t)(c - 32);
        else if (!upper && c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + 32);
        z[i] = c;
    }
    z[n] = 0;
    exv_set_text(out, z, n);
    return 0;
}

static int fn_upper(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    return change_case(cx, &argv[0], out, 1);
}

static int fn_lower(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    return change_case(cx, &argv[0], out, 0);
}

/* Byte length of the UTF-8 character at z (SQLite's SQLITE_SKIP_UTF8 over a
 * NUL-terminated text of n bytes). */
static size_t skip_utf8(const uint8_t *z, size_t n)
{
    size_t i = 1;
    if (z[0] >= 0xc0)
        while (i < n && (z[i] & 0xc0) == 0x80)
            i++;
    return i;
}

/* trim, ltrim, rtrim: `which` is 1 left, 2 right, 3 both. */
static int trim(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out, int which)
{
    if (argv[0].type == EX_NULL)
        return 0;
    const uint8_t *in, *set = (const uint8_t *)" ";
    size_t nin, nset = 1;
    int rc = text_of(cx, &argv[0], &in, &nin);
    if (rc)
        return rc;
    if (argc == 2) {
        rc = text_of(cx, &argv[1], &set, &nset);
        if (rc || !set)
            return rc;
        nset = cstr_len(set, nset);
    }
    if (nset > 0) {
        if (which & 1) {
            while (nin > 0) {
                size_t len = 0, i;
                for (i = 0; i < nset; i += len) {
                    len = skip_utf8(set + i, nset - i);
                    if (len <= nin && memcmp(in, set + i, len) == 0)
                        break;
                }
                if (i >= nset)
                    break;
                in += len;
                nin -= len;
            }
        }
        if (which & 2) {
            while (nin > 0) {
                size_t len = 0, i;
                for (i = 0; i < nset; i += len) {
                    len = skip_utf8(set + i, nset - i);
                    if (len <= nin && memcmp(in + nin - len, set + i, len) == 0)
                        break;
                }
                if (i >= nset)
                    break;
                nin -= len;
            }
        }
    }
    exv_set_text(out, in, nin);
    return 0;
}

static int fn_trim(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    return trim(cx, argc, argv, out, 3);
}

static int fn_ltrim(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    return trim(cx, argc, argv, out, 1);
}

static int fn_rtrim(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    return trim(cx, argc, argv, out, 2);
}

static int fn_instr(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    int th = argv[0].type, tn = argv[1].type, rc;
    if (th == EX_NULL || tn == EX_NULL)
        return 0;
    const uint8_t *h, *nd;
    size_t nh, nn;
    if ((rc = text_of(cx, &argv[0], &h, &nh)) != 0 || (rc = text_of(cx, &argv[1], &nd, &nn)) != 0)
        return rc;
    int64_t pos = 1;
    if (nn > 0) {
        int is_text = !(th == EX_BLOB && tn == EX_BLOB);
        while (nn <= nh && (h[0] != nd[0] || memcmp(h, nd, nn) != 0)) {
            pos++;
            do {
                nh--;
                h++;
            } while (is_text && nh > 0 && (h[0] & 0xc0) == 0x80);
        }
        if (nn > nh)
            pos = 0;
    }
    exv_set_int(out, pos);
    return 0;
}

static int fn_substr(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    if (argv[1].type == EX_NULL || (argc == 3 && argv[2].type == EX_NULL))
        return 0;
    int blob = argv[0].type == EX_BLOB;
    int64_t p1 = (int32_t)(uint32_t)exv_int(&argv[1]), p2, len = 0;
    int neg2 = 0, rc;
    const uint8_t *z;
    size_t n;
    if ((rc = text_of(cx, &argv[0], &z, &n)) != 0 || !z)
        return rc;
    if (blob && n == 0)
        return 0; /* sqlite3_value_blob gives no pointer for an empty blob */
    if (!blob) {
        n = cstr_len(z, n);
        if (p1 < 0)
            for (size_t i = 0; i < n; i += skip_utf8(z + i, n - i))
                len++;
    } else {
        len = (int64_t)n;
    }
    if (argc == 3) {
        p2 = (int32_t)(uint32_t)exv_int(&argv[2]);
        if (p2 < 0) {
            p2 = -p2;
            neg2 = 1;
        }
    } else {
        p2 = EX_MAX_LENGTH;
    }
    if (p1 < 0) {
        p1 += len;
        if (p1 < 0) {
            p2 += p1;
            if (p2 < 0)
                p2 = 0;
            p1 = 0;
        }
    } else if (p1 > 0) {
        p1--;
    } else if (p2 > 0) {
        p2--;
    }
    if (neg2) {
        p1 -= p2;
        if (p1 < 0) {
            p2 += p1;
            p1 = 0;
        }
    }
    if (!blob) {
        size_t i = 0;
        while (i < n && p1) {
            i += skip_utf8(z + i, n - i);
            p1--;
        }
        size_t j = i;
        while (j < n && p2) {
            j += skip_utf8(z + j, n - j);
            p2--;
        }
        exv_set_text(out, z + i, j - i);
        return 0;
    }
    if (p1 + p2 > len) {
        p2 = len - p1;
        if (p2 < 0)
            p2 = 0;
    }
    exv_set_blob(out, p2 ? z + p1 : z, (size_t)p2);
    return 0;
}

static int fn_replace(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    const uint8_t *s, *pat, *rep;
    size_t ns, npat, nrep;
    int rc;
    if ((rc = text_of(cx, &argv[0], &s, &ns)) != 0 || !s)
        return rc;
    if ((rc = text_of(cx, &argv[1], &pat, &npat)) != 0 || !pat)
        return rc;
    if (npat == 0 || pat[0] == 0) {
        /* SQLite returns the first argument as it is, after reading it as
         * text: a blob has become TEXT of the same bytes. */
        *out = argv[0];
        if (out->type == EX_BLOB)
            exv_set_text(out, s, ns);
        return 0;
    }
    if ((rc = text_of(cx, &argv[2], &rep, &nrep)) != 0 || !rep)
        return rc;
    /* Count the matches first, to size the result. */
    uint64_t nout = ns;
    for (size_t i = 0; i + npat <= ns; i++) {
        if (s[i] == pat[0] && memcmp(s + i, pat, npat) == 0) {
            nout = nout - npat + nrep;
            if (nout > ex_max_length(cx))
                return exv_toobig(cx);
            i += npat - 1;
        }
    }
    uint8_t *z = scratch_or_fail(cx, (size_t)nout + 1, &rc);
    if (!z)
        return rc;
    size_t j = 0, i = 0;
    for (; i + npat <= ns; i++) {
        if (s[i] == pat[0] && memcmp(s + i, pat, npat) == 0) {
            memcpy(z + j, rep, nrep);
            j += nrep;
            i += npat - 1;
        } else {
            z[j++] = s[i];
        }
    }
    memcpy(z + j, s + i, ns - i);
    j += ns - i;
    z[j] = 0;
    exv_set_text(out, z, j);
    return 0;
}

static int fn_soundex(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    /* Soundex digit of each ASCII letter (SQLite looks up byte & 0x7f). */
    static const char codes[] = "01230120022455012623010202";
    (void)argc;
    const uint8_t *p;
    size_t n;
    int rc = text_of(cx, &argv[0], &p, &n);
    if (rc)
        return rc;
    n = p ? cstr_len(p, n) : 0;
    size_t i = 0;
    while (i < n && !((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z'))
        i++;
    if (i >= n) {
        exv_set_text(out, "?000", 4);
        return 0;
    }
    uint8_t *z = scratch_or_fail(cx, 5, &rc);
    if (!z)
        return rc;
#define SOUNDEX_CODE(c)                                                                            \
    ((((c)&0x7f) | 0x20) >= 'a' && (((c)&0x7f) | 0x20) <= 'z' && ((c)&0x7f) >= 'A'                 \
         ? codes[(((c)&0x7f) | 0x20) - 'a'] - '0'                                                  \
         : 0)
    int prev = SOUNDEX_CODE(p[i]);
    z[0] = (uint8_t)(p[i] >= 'a' && p[i] <= 'z' ? p[i] - 32 : p[i]);
    int j = 1;
    for (; j < 4 && i < n; i++) {
        int code = SOUNDEX_CODE(p[i]);
        if (code > 0) {
            if (code != prev) {
                prev = code;
                z[j++] = (uint8_t)(code + '0');
            }
        } else {
            prev = 0;
        }
    }
#undef SOUNDEX_CODE
    while (j < 4)
        z[j++] = '0';
    z[4] = 0;
    exv_set_text(out, z, 4);
    return 0;
}

/* ---- LIKE and GLOB ------------------------------------------------------------------ */

typedef struct match_info {
    uint32_t all, one, set; /* '%' '_' 0 for LIKE; '*' '?' '[' for GLOB */
    int nocase;
} match_info;

/* A NUL-terminated view: SQLite's pattern matching stops at the first NUL. */
typedef struct cursor {
    const uint8_t *p;
    size_t n, i;
} cursor;

static uint32_t cur_read(cursor *c)
{
    if (c->i >= c->n)
        return 0;
    if (c->p[c->i] < 0x80)
        return c->p[c->i++];
    return exv_utf8_read(c->p, c->n, &c->i);
}

static uint8_t cur_peek(const cursor *c)
{
    return c->i < c->n ? c->p[c->i] : 0;
}

static uint32_t ascii_lower(uint32_t c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* The next place after str.i where the pattern may go on after a star:
 * the character c (either ASCII case for LIKE) is consumed there. 0 if none. */
static int next_candidate(cursor *str, uint32_t c, int nocase)
{
    if (c < 0x80) {
        uint32_t a = c, b = c;
        if (nocase) {
            a = c >= 'a' && c <= 'z' ? c - 32 : c;
            b = ascii_lower(c);
        }
        while (str->i < str->n && str->p[str->i] != a && str->p[str->i] != b)
            str->i++;
        if (str->i >= str->n)
            return 0;
        str->i++;
        return 1;
    }
    uint32_t c2;
    while ((c2 = cur_read(str)) != 0)
        if (c2 == c)
            return 1;
    return 0;
}

/* "[...]" at pat (after the '['): does the string's next character match? */
static int match_set(cursor *pat, cursor *str)
{
    uint32_t prior = 0, c, c2;
    int seen = 0, invert = 0;
    c = cur_read(str);
    if (c == 0)
        return 0;
    c2 = cur_read(pat);
    if (c2 == '^') {
        invert = 1;
        c2 = cur_read(pat);
    }
    if (c2 == ']') {
        if (c == ']')
            seen = 1;
        c2 = cur_read(pat);
    }
    while (c2 && c2 != ']') {
        if (c2 == '-' && cur_peek(pat) != ']' && cur_peek(pat) != 0 && prior > 0) {
            c2 = cur_read(pat);
            if (c >= prior && c <= c2)
                seen = 1;
            prior = 0;
        } else {
            if (c == c2)
                seen = 1;
            prior = c2;
        }
        c2 = cur_read(pat);
    }
    return c2 != 0 && (seen ^ invert) != 0;
}

/*
 * SQLite's patternCompare (func.c), without its recursion. SQLite recurses
 * at a star for each place the rest of the pattern could start, and gives
 * up entirely as soon as a later star has tried all its places; so only the
 * last star met is ever retried, which is what `star` keeps: where the
 * pattern resumes, what the next place must hold, and where to look.
 */
static int pattern_compare(cursor pat, cursor str, const match_info *mi, uint32_t other)
{
    struct {
        int active;
        cursor pat;  /* the pattern after the star's character */
        size_t from; /* where the next place is searched from */
        uint32_t c;  /* the character a place starts with (literal mode) */
        int any;     /* "[...]" follows the star: every position is a place */
    } star = {0, {NULL, 0, 0}, 0, 0, 0};
    size_t escaped = (size_t)-1;
    uint32_t c, c2;
    for (;;) {
        c = cur_read(&pat);
        if (c == 0) {
            if (str.i >= str.n)
                return 1;
            goto backtrack;
        }
        if (c == mi->all) {
            while ((c = cur_read(&pat)) == mi->all || (c == mi->one && mi->one != 0)) {
                if (c == mi->one && cur_read(&str) == 0)
                    return 0;
            }
            if (c == 0)
                return 1;
            star.active = 1;
            star.any = 0;
            if (c == other) {
                if (mi->set == 0) {
                    c = cur_read(&pat);
                    if (c == 0)
                        return 0;
                } else {
                    /* "[...]" right after the star: every position is a place. */
                    star.any = 1;
                    star.pat = pat;
                    star.pat.i--; /* back onto the '[' (one byte) */
                    if (str.i >= str.n)
                        return 0;
                    star.from = str.i;
                    pat = star.pat;
                    escaped = (size_t)-1;
                    continue;
                }
            }
            star.c = c;
            star.pat = pat;
            if (!next_candidate(&str, c, mi->nocase))
                return 0;
            star.from = str.i;
            escaped = (size_t)-1;
            continue;
        }
        if (c == other) {
            if (mi->set == 0) {
                c = cur_read(&pat);
                if (c == 0)
                    goto backtrack;
                escaped = pat.i;
            } else {
                if (!match_set(&pat, &str))
                    goto backtrack;
                continue;
            }
        }
        c2 = cur_read(&str);
        if (c == c2)
            continue;
        if (mi->nocase && ascii_lower(c) == ascii_lower(c2) && c < 0x80 && c2 < 0x80)
            continue;
        if (c == mi->one && pat.i != escaped && c2 != 0)
            continue;
    backtrack:
        if (!star.active)
            return 0;
        str.i = star.from;
        if (star.any) {
            str.i += skip_utf8(str.p + str.i, str.n - str.i);
            if (str.i >= str.n)
                return 0;
        } else if (!next_candidate(&str, star.c, mi->nocase)) {
            return 0;
        }
        star.from = str.i;
        pat = star.pat;
        escaped = (size_t)-1;
    }
}

static int like_or_glob(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out, int glob)
{
    match_info mi = glob ? (match_info){'*', '?', '[', 0} : (match_info){'%', '_', 0, 1};
    const uint8_t *pat, *str;
    size_t npat, nstr;
    int rc;
    if (LIKE_DOESNT_MATCH_BLOBS && (argv[0].type == EX_BLOB || argv[1].type == EX_BLOB)) {
        exv_set_int(out, 0);
        return 0;
    }
    if ((rc = text_of(cx, &argv[0], &pat, &npat)) != 0)
        return rc;
    if (npat > LIKE_PATTERN_MAX_BYTES)
        return ex_error(cx, "LIKE or GLOB pattern too complex");
    uint32_t escape = mi.set;
    if (argc == 3) {
        const uint8_t *esc;
        size_t nesc;
        if ((rc = text_of(cx, &argv[2], &esc, &nesc)) != 0 || !esc)
            return rc;
        nesc = cstr_len(esc, nesc);
        size_t chars = 0;
        for (size_t i = 0; i < nesc; i += skip_utf8(esc + i, nesc - i))
            chars++;
        if (chars != 1)
            return ex_error(cx, "ESCAPE expression must be a single character");
        size_t i = 0;
        escape = exv_utf8_read(esc, nesc, &i);
        if (escape == mi.all)
            mi.all = 0;
        if (escape == mi.one)
            mi.one = 0;
    }
    if ((rc = text_of(cx, &argv[1], &str, &nstr)) != 0)
        return rc;
    if (!pat || !str)
        return 0;
    cursor cp = {pat, cstr_len(pat, npat), 0}, cs = {str, cstr_len(str, nstr), 0};
    exv_set_int(out, pattern_compare(cp, cs, &mi, escape));
    return 0;
}

static int fn_like(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    return like_or_glob(cx, argc, argv, out, 0);
}

static int fn_glob(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    return like_or_glob(cx, argc, argv, out, 1);
}

/* ---- Comparisons ---------------------------------------------------------------------- */

static int minmax(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out, int is_max)
{
    int coll = ex_fn_collation(cx), best = 0;
    if (argv[0].type == EX_NULL)
        return 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i].type == EX_NULL)
            return 0;
        int cmp = exv_compare(&argv[best], &argv[i], coll);
        if (is_max ? cmp < 0 : cmp >= 0)
            best = i;
    }
    *out = argv[best];
    return 0;
}

static int fn_min(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    return minmax(cx, argc, argv, out, 0);
}

static int fn_max(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    return minmax(cx, argc, argv, out, 1);
}

static int fn_nullif(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    if (exv_compare(&argv[0], &argv[1], ex_fn_collation(cx)) != 0)
        *out = argv[0];
    return 0;
}

/* ---- Numbers ------------------------------------------------------------------------------- */

static int fn_round(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    int64_t n = 0;
    if (argc == 2) {
        if (argv[1].type == EX_NULL)
            return 0;
        n = (int32_t)(uint32_t)exv_int(&argv[1]);
        if (n > ROUND_MAX_DIGITS)
            n = ROUND_MAX_DIGITS;
        if (n < 0)
            n = 0;
    }
    if (argv[0].type == EX_NULL)
        return 0;
    double r = exv_real(&argv[0]);
    if (r < -NO_FRACTION_BEYOND || r > NO_FRACTION_BEYOND) {
        /* nothing to round */
    } else if (n == 0) {
        r = (double)(int64_t)(r + (r < 0 ? -0.5 : 0.5));
    } else {
        ex_value fargs[3], text;
        exv_set_text(&fargs[0], "%.*f", 4);
        exv_set_int(&fargs[1], n);
        fargs[2].type = EX_REAL;
        fargs[2].subtype = 0;
        fargs[2].u.r = r;
        int rc = ex_printf(cx, 3, fargs, &text);
        if (rc)
            return rc;
        exv_atof(text.u.s.p, (size_t)text.u.s.n, &r);
    }
    exv_set_real(out, r);
    return 0;
}

static int fn_random(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    (void)argv;
    int64_t r;
    uint64_t u = ex_random64(cx);
    memcpy(&r, &u, sizeof r);
    if (r < 0)
        r = -(r & INT64_MAX);
    exv_set_int(out, r);
    return 0;
}

static int fn_randomblob(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    int64_t n = exv_int(&argv[0]);
    int rc;
    if (n < 1)
        n = 1;
    if ((uint64_t)n > ex_max_length(cx))
        return exv_toobig(cx);
    uint8_t *z = scratch_or_fail(cx, (size_t)n, &rc);
    if (!z)
        return rc;
    for (int64_t i = 0; i < n; i += 8) {
        uint64_t u = ex_random64(cx);
        size_t k = (size_t)(n - i < 8 ? n - i : 8);
        memcpy(z + i, &u, k);
    }
    exv_set_blob(out, z, (size_t)n);
    return 0;
}

static int fn_zeroblob(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    int64_t n = exv_int(&argv[0]);
    int rc;
    if (n < 0)
        n = 0;
    if ((uint64_t)n > ex_max_length(cx))
        return exv_toobig(cx);
    uint8_t *z = scratch_or_fail(cx, (size_t)n, &rc);
    if (!z)
        return rc;
    memset(z, 0, (size_t)n);
    exv_set_blob(out, z, (size_t)n);
    return 0;
}

static int fn_printf(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    return ex_printf(cx, argc, argv, out);
}

/* ---- Math (SQLITE_ENABLE_MATH_FUNCTIONS) -------------------------------------------------- */

typedef double (*math1)(double);
typedef double (*math2)(double, double);

static double deg_to_rad(double x)
{
    return x * (M_PI / 180.0);
}

static double rad_to_deg(double x)
{
    return x * (180.0 / M_PI);
}

/* A numeric argument (INTEGER or REAL, text only when wholly a number). */
static int numeric_arg(const ex_value *v, double *x)
{
    ex_value num;
    int t = numeric_type(v, &num);
    if (t != EX_INTEGER && t != EX_REAL)
        return 0;
    *x = exv_real(&num);
    return 1;
}

static int apply1(const ex_value *argv, ex_value *out, math1 f)
{
    double x;
    if (numeric_arg(&argv[0], &x))
        exv_set_real(out, f(x));
    return 0;
}

static int apply2(const ex_value *argv, ex_value *out, math2 f)
{
    double x, y;
    if (numeric_arg(&argv[0], &x) && numeric_arg(&argv[1], &y))
        exv_set_real(out, f(x, y));
    return 0;
}

/* ceil, floor, trunc: integers as they are. */
static int rounding(const ex_value *argv, ex_value *out, math1 f)
{
    ex_value num;
    int t = numeric_type(&argv[0], &num);
    if (t == EX_INTEGER)
        exv_set_int(out, num.u.i);
    else if (t == EX_REAL)
        exv_set_real(out, f(num.u.r));
    return 0;
}

#define MATH1(name, f)                                                                             \
    static int fn_##name(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)                \
    {                                                                                              \
        (void)cx;                                                                                  \
        (void)argc;                                                                                \
        return apply1(argv, out, f);                                                               \
    }
#define MATH2(name, f)                                                                             \
    static int fn_##name(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)                \
    {                                                                                              \
        (void)cx;                                                                                  \
        (void)argc;                                                                                \
        return apply2(argv, out, f);                                                               \
    }
#define ROUNDING(name, f)                                                                          \
    static int fn_##name(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)                \
    {                                                                                              \
        (void)cx;                                                                                  \
        (void)argc;                                                                                \
        return rounding(argv, out, f);                                                             \
    }

MATH1(exp, exp)
MATH1(acos, acos)
MATH1(asin, asin)
MATH1(atan, atan)
MATH1(cos, cos)
MATH1(sin, sin)
MATH1(tan, tan)
MATH1(cosh, cosh)
MATH1(sinh, sinh)
MATH1(tanh, tanh)
MATH1(acosh, acosh)
MATH1(asinh, asinh)
MATH1(atanh, atanh)
MATH1(sqrt, sqrt)
MATH1(radians, deg_to_rad)
MATH1(degrees, rad_to_deg)
MATH2(pow, pow)
MATH2(mod, fmod)
MATH2(atan2, atan2)
ROUNDING(ceil, ceil)
ROUNDING(floor, floor)
ROUNDING(trunc, trunc)

/* ln, log10, log2 and log(B, X), as SQLite 3.40's logFunc: log10 and log2
 * are the natural logarithm divided by ln(10) or ln(2) (not libm's log10 and
 * log2, which round differently); log(B, X) checks the type of its first
 * argument twice and reads the second as a plain number. */
static int logarithm(int argc, const ex_value *argv, ex_value *out, int base)
{
    double x, b;
    if (!numeric_arg(&argv[0], &x) || x <= 0.0)
        return 0;
    if (argc == 2) {
        b = log(x);
        if (b <= 0.0)
            return 0;
        x = exv_real(&argv[1]);
        if (x <= 0.0)
            return 0;
        exv_set_real(out, log(x) / b);
        return 0;
    }
    double ans = log(x);
    if (base == 10)
        ans /= M_LN10;
    else if (base == 2)
        ans /= M_LN2;
    exv_set_real(out, ans);
    return 0;
}

static int fn_ln(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)cx;
    return logarithm(argc, argv, out, 0);
}

static int fn_log(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)cx;
    return logarithm(argc, argv, out, 10);
}

static int fn_log2(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)cx;
    return logarithm(argc, argv, out, 2);
}

static int fn_pi(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)cx;
    (void)argc;
    (void)argv;
    exv_set_real(out, M_PI);
    return 0;
}

/* ---- The statement's clock --------------------------------------------------------------------
 */

/* Civil date of a day count from 1970-01-01 (proleptic Gregorian). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* CURRENT_DATE / CURRENT_TIME / CURRENT_TIMESTAMP: what = 1 date, 2 time, 3 both. */
static int clock_text(ex_ctx *cx, ex_value *out, int what)
{
    int64_t ms;
    int rc = ex_now_ms(cx, &ms);
    if (rc)
        return rc;
    int64_t days = ms / 86400000, rem = ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        days--;
    }
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int secs = (int)(rem / 1000);
    char buf[64];
    int n;
    if (what == 1)
        n = snprintf(buf, sizeof buf, "%04lld-%02d-%02d", (long long)y, m, d);
    else if (what == 2)
        n = snprintf(buf, sizeof buf, "%02d:%02d:%02d", secs / 3600, secs / 60 % 60, secs % 60);
    else
        n = snprintf(buf, sizeof buf, "%04lld-%02d-%02d %02d:%02d:%02d", (long long)y, m, d,
                     secs / 3600, secs / 60 % 60, secs % 60);
    uint8_t *z = scratch_or_fail(cx, (size_t)n + 1, &rc);
    if (!z)
        return rc;
    memcpy(z, buf, (size_t)n + 1);
    exv_set_text(out, z, (size_t)n);
    return 0;
}

static int fn_current_date(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    (void)argv;
    return clock_text(cx, out, 1);
}

static int fn_current_time(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    (void)argv;
    return clock_text(cx, out, 2);
}

static int fn_current_timestamp(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    (void)argv;
    return clock_text(cx, out, 3);
}

/* ---- The table ------------------------------------------------------------------------------- */

/* The CURRENT_* functions: the statement's time, the same for its whole run. */
#define EX_FN_CLOCK (EX_FN_NONDETERMINISTIC | EX_FN_MAY_USE_NOW)

const ex_fn_def ex_core_functions[] = {
    {"abs", 1, 1, 0, fn_abs},
    {"char", 0, -1, 0, fn_char},
    {"coalesce", 2, -1, 0, fn_first_arg}, /* evaluated by expr_eval.c */
    {"format", 0, -1, 0, fn_printf},
    {"glob", 2, 2, 0, fn_glob},
    {"hex", 1, 1, 0, fn_hex},
    {"ifnull", 2, 2, 0, fn_first_arg}, /* evaluated by expr_eval.c */
    {"iif", 3, 3, 0, fn_first_arg},    /* evaluated by expr_eval.c */
    {"instr", 2, 2, 0, fn_instr},
    {"length", 1, 1, 0, fn_length},
    {"like", 2, 3, 0, fn_like},
    {"likelihood", 2, 2, 0, fn_first_arg},
    {"likely", 1, 1, 0, fn_first_arg},
    {"lower", 1, 1, 0, fn_lower},
    {"ltrim", 1, 2, 0, fn_ltrim},
    {"max", 2, -1, 0, fn_max},
    {"min", 2, -1, 0, fn_min},
    {"nullif", 2, 2, 0, fn_nullif},
    {"printf", 0, -1, 0, fn_printf},
    {"quote", 1, 1, 0, fn_quote},
    {"random", 0, 0, EX_FN_NONDETERMINISTIC, fn_random},
    {"randomblob", 1, 1, EX_FN_NONDETERMINISTIC, fn_randomblob},
    {"replace", 3, 3, 0, fn_replace},
    {"round", 1, 2, 0, fn_round},
    {"rtrim", 1, 2, 0, fn_rtrim},
    {"sign", 1, 1, 0, fn_sign},
    {"soundex", 1, 1, 0, fn_soundex},
    {"substr", 2, 3, 0, fn_substr},
    {"substring", 2, 3, 0, fn_substr},
    {"subtype", 1, 1, 0, fn_subtype},
    {"trim", 1, 2, 0, fn_trim},
    {"typeof", 1, 1, 0, fn_typeof},
    {"unicode", 1, 1, 0, fn_unicode},
    {"unlikely", 1, 1, 0, fn_first_arg},
    {"upper", 1, 1, 0, fn_upper},
    {"zeroblob", 1, 1, 0, fn_zeroblob},
    {"current_date", 0, 0, EX_FN_CLOCK, fn_current_date},
    {"current_time", 0, 0, EX_FN_CLOCK, fn_current_time},
    {"current_timestamp", 0, 0, EX_FN_CLOCK, fn_current_timestamp},
    {"acos", 1, 1, 0, fn_acos},
    {"acosh", 1, 1, 0, fn_acosh},
    {"asin", 1, 1, 0, fn_asin},
    {"asinh", 1, 1, 0, fn_asinh},
    {"atan", 1, 1, 0, fn_atan},
    {"atan2", 2, 2, 0, fn_atan2},
    {"atanh", 1, 1, 0, fn_atanh},
    {"ceil", 1, 1, 0, fn_ceil},
    {"ceiling", 1, 1, 0, fn_ceil},
    {"cos", 1, 1, 0, fn_cos},
    {"cosh", 1, 1, 0, fn_cosh},
    {"degrees", 1, 1, 0, fn_degrees},
    {"exp", 1, 1, 0, fn_exp},
    {"floor", 1, 1, 0, fn_floor},
    {"ln", 1, 1, 0, fn_ln},
    {"log", 1, 2, 0, fn_log},
    {"log10", 1, 1, 0, fn_log},
    {"log2", 1, 1, 0, fn_log2},
    {"mod", 2, 2, 0, fn_mod},
    {"pi", 0, 0, 0, fn_pi},
    {"pow", 2, 2, 0, fn_pow},
    {"power", 2, 2, 0, fn_pow},
    {"radians", 1, 1, 0, fn_radians},
    {"sin", 1, 1, 0, fn_sin},
    {"sinh", 1, 1, 0, fn_sinh},
    {"sqrt", 1, 1, 0, fn_sqrt},
    {"tan", 1, 1, 0, fn_tan},
    {"tanh", 1, 1, 0, fn_tanh},
    {"trunc", 1, 1, 0, fn_trunc},
    {NULL, 0, 0, 0, NULL}};
