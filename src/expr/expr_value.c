/*
 * expr_value.c - SQLite's conversions between storage classes, as the
 * expression evaluator and the functions use them.
 *
 * Rules (SQLite 3.40's util.c and vdbemem.c, restated):
 *   - Text to number reads a prefix: spaces (space, \t \n \v \f \r), a sign,
 *     digits, '.', digits, an exponent 'e' [sign] digits, spaces. The value
 *     is the prefix's; the verdict says whether all of the text was used
 *     and whether it was an integer or a real (exv_atof's return).
 *   - The decimal significand keeps the first digits until it nears
 *     INT64_MAX (the rest only shift the exponent); the exponent is folded in
 *     with powers of ten computed in long double, as SQLite does, so that
 *     the same text gives the same bits.
 *   - Integer text keeps its digits exactly; beyond 64 bits it saturates.
 *   - A REAL to an integer truncates toward zero and saturates at the ends.
 *   - A BLOB converts like text of the same bytes.
 * Comparison (exv_compare) orders NULL < numbers < TEXT < BLOB, numbers by
 * exact value, texts by the collating sequence, blobs with memcmp.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "expr/expr_int.h"
#include "schema/affinity.h"
#include "schema/collate.h"

static int is_space(uint8_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Significand digits stop gathering once the significand reaches this,
 * so that one more digit cannot overflow. */
#define SIG_LIMIT ((INT64_MAX - 9) / 10)
/* Exponent digits saturate here. */
#define EXP_LIMIT 10000

/* sign * sig * 10^(esign * e), computed in long double the way SQLite does. */
static double scale_decimal(int sign, int64_t sig, int e)
{
    int esign = e < 0 ? -1 : 1;
    if (e < 0)
        e = -e;
    if (sig == 0)
        return sign < 0 ? -0.0 : 0.0;
    /* Fold the exponent into the significand while it stays exact. */
    while (e > 0) {
        if (esign > 0) {
            if (sig >= INT64_MAX / 10)
                break;
            sig *= 10;
        } else {
            if (sig % 10 != 0)
                break;
            sig /= 10;
        }
        e--;
    }
    int64_t s = sign < 0 ? -sig : sig;
    if (e == 0)
        return (double)s;
    long double scale = 1.0L;
    double result;
    if (e > 307) {
        if (e < 342) {
            while (e % 308) {
                scale *= 1.0e+1;
                e--;
            }
            if (esign < 0) {
                result = (double)((long double)s / scale);
                result /= 1.0e+308;
            } else {
                result = (double)((long double)s * scale);
                result *= 1.0e+308;
            }
        } else if (esign < 0) {
            result = 0.0 * (double)s;
        } else {
            result = (double)s < 0 ? -HUGE_VAL : HUGE_VAL;
        }
        return result;
    }
    /* 1e22 is the largest power of ten a double holds exactly. */
    while (e % 22) {
        scale *= 1.0e+1;
        e--;
    }
    while (e > 0) {
        scale *= 1.0e+22;
        e -= 22;
    }
    return (double)(esign < 0 ? (long double)s / scale : (long double)s * scale);
}

int exv_atof(const uint8_t *z, size_t n, double *out)
{
    size_t i = 0;
    int sign = 1, esign = 1, e = 0, d = 0;
    int e_valid = 1, etype = 1, ndigit = 0;
    int64_t s = 0;
    *out = 0.0;
    if (n == 0)
        return 0;
    while (i < n && is_space(z[i]))
        i++;
    if (i >= n)
        return 0;
    if (z[i] == '-') {
        sign = -1;
        i++;
    } else if (z[i] == '+') {
        i++;
    }
    while (i < n && is_digit(z[i])) {
        s = s * 10 + (z[i] - '0');
        i++;
        ndigit++;
        if (s >= SIG_LIMIT) {
            while (i < n && is_digit(z[i])) {
                i++;
                d++;
            }
        }
    }
    if (i >= n)
        goto done;
    if (z[i] == '.') {
        i++;
        etype++;
        while (i < n && is_digit(z[i])) {
            if (s < SIG_LIMIT) {
                s = s * 10 + (z[i] - '0');
                d--;
                ndigit++;
            }
            i++;
        }
    }
    if (i >= n)
        goto done;
    if (z[i] == 'e' || z[i] == 'E') {
        i++;
        e_valid = 0;
        etype++;
        if (i >= n)
            goto done;
        if (z[i] == '-') {
            esign = -1;
            i++;
        } else if (z[i] == '+') {
            i++;
        }
        while (i < n && is_digit(z[i])) {
            e = e < EXP_LIMIT ? e * 10 + (z[i] - '0') : EXP_LIMIT;
            i++;
            e_valid = 1;
        }
    }
    while (i < n && is_space(z[i]))
        i++;
done:
    *out = scale_decimal(sign, s, e * esign + d);
    if (i == n && ndigit > 0 && e_valid && etype > 0)
        return etype;
    if (etype >= 2 && (etype == 3 || e_valid) && ndigit > 0)
        return -1;
    return 0;
}

/* Compare a run of 19 digits with 9223372036854775808. */
static int compare_2pow63(const uint8_t *z)
{
    static const char pow63[] = "9223372036854775808";
    int c = memcmp(z, pow63, 19);
    return c < 0 ? -1 : c > 0;
}

int exv_atoi64(const uint8_t *z, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t u = 0;
    while (i < n && is_space(z[i]))
        i++;
    if (i < n) {
        if (z[i] == '-') {
            neg = 1;
            i++;
        } else if (z[i] == '+') {
            i++;
        }
    }
    size_t start = i;
    while (i < n && z[i] == '0')
        i++;
    size_t first = i, k = 0;
    for (; first + k < n && is_digit(z[first + k]); k++)
        u = u * 10 + (uint64_t)(z[first + k] - '0'); /* wraps past 20 digits, as SQLite */
    if (u > (uint64_t)INT64_MAX)
        *out = neg ? INT64_MIN : INT64_MAX;
    else
        *out = neg ? -(int64_t)u : (int64_t)u;
    int rc = 0;
    if (k == 0 && start == first) {
        rc = -1;
    } else {
        for (size_t j = first + k; j < n; j++) {
            if (!is_space(z[j])) {
                rc = 1;
                break;
            }
        }
    }
    if (k < 19)
        return rc;
    int c = k > 19 ? 1 : compare_2pow63(z + first);
    if (c < 0)
        return rc;
    *out = neg ? INT64_MIN : INT64_MAX;
    if (c > 0)
        return 2;
    return neg ? rc : 3;
}

int64_t exv_real_to_int(double r)
{
    if (r <= -9223372036854775808.0)
        return INT64_MIN;
    if (r >= 9223372036854775807.0)
        return INT64_MAX;
    if (r != r)
        return 0;
    return (int64_t)r;
}

/* SQLite's sqlite3RealSameAsInt: r is the integer i, and small enough that
 * the conversion is exact both ways. */
static int real_same_as_int(double r, int64_t i)
{
    double r2 = (double)i;
    return r == 0.0 ||
           (memcmp(&r, &r2, sizeof r) == 0 && i >= -2251799813685248LL && i < 2251799813685248LL);
}

void exv_numeric(ex_value *v)
{
    if (v->type != EX_TEXT && v->type != EX_BLOB)
        return;
    const uint8_t *p = v->u.s.p;
    size_t n = (size_t)v->u.s.n;
    double r;
    int64_t ix;
    int rc = exv_atof(p, n, &r);
    if (rc <= 0) {
        if (rc == 0 && exv_atoi64(p, n, &ix) <= 1) {
            exv_set_int(v, ix);
            return;
        }
    } else if (rc == 1 && exv_atoi64(p, n, &ix) == 0) {
        exv_set_int(v, ix);
        return;
    }
    v->type = EX_REAL;
    v->u.r = r;
}

void exv_apply_numeric(ex_value *v)
{
    if (v->type != EX_TEXT)
        return;
    double r;
    int rc = exv_atof(v->u.s.p, (size_t)v->u.s.n, &r);
    if (rc <= 0)
        return;
    if (rc == 1) {
        int64_t i = exv_real_to_int(r);
        if (real_same_as_int(r, i)) {
            exv_set_int(v, i);
            return;
        }
        if (exv_atoi64(v->u.s.p, (size_t)v->u.s.n, &i) == 0) {
            exv_set_int(v, i);
            return;
        }
    }
    v->type = EX_REAL;
    v->u.r = r;
}

double exv_real(const ex_value *v)
{
    double r;
    switch (v->type) {
    case EX_INTEGER:
        return (double)v->u.i;
    case EX_REAL:
        return v->u.r;
    case EX_TEXT:
    case EX_BLOB:
        exv_atof(v->u.s.p, (size_t)v->u.s.n, &r);
        return r;
    default:
        return 0.0;
    }
}

int64_t exv_int(const ex_value *v)
{
    int64_t i = 0;
    switch (v->type) {
    case EX_INTEGER:
        return v->u.i;
    case EX_REAL:
        return exv_real_to_int(v->u.r);
    case EX_TEXT:
    case EX_BLOB:
        exv_atoi64(v->u.s.p, (size_t)v->u.s.n, &i);
        return i;
    default:
        return 0;
    }
}

size_t exv_number_text(const ex_value *v, char *buf, size_t cap)
{
    if (v->type == EX_INTEGER)
        return (size_t)snprintf(buf, cap, "%lld", (long long)v->u.i);
    return ex_real_text(v->u.r, buf, cap);
}

int exv_to_text(ex_ctx *cx, ex_value *v)
{
    if (v->type == EX_BLOB) {
        v->type = EX_TEXT;
        return 0;
    }
    if (v->type != EX_INTEGER && v->type != EX_REAL)
        return 0;
    char buf[SCH_NUMBER_TEXT_BYTES];
    size_t n = exv_number_text(v, buf, sizeof buf);
    uint8_t *p = ex_scratch(cx, n + 1);
    if (!p)
        return ex_nomem(cx);
    memcpy(p, buf, n + 1);
    exv_set_text(v, p, n);
    return 0;
}

/* NUMERIC affinity as sqlite3VdbeMemNumerify applies it in CAST. */
static void numerify(ex_value *v)
{
    if (v->type != EX_TEXT && v->type != EX_BLOB)
        return;
    const uint8_t *p = v->u.s.p;
    size_t n = (size_t)v->u.s.n;
    double r;
    int64_t ix = 0;
    int rc = exv_atof(p, n, &r);
    if ((rc == 0 || rc == 1) && exv_atoi64(p, n, &ix) <= 1) {
        exv_set_int(v, ix);
        return;
    }
    /* SQLite converts r with a plain cast here, which on x86-64 gives
     * INT64_MIN out of range; that never equals r unless r is zero. */
    ix = (r >= -9223372036854775808.0 && r < 9223372036854775808.0) ? (int64_t)r : INT64_MIN;
    if (real_same_as_int(r, ix)) {
        exv_set_int(v, ix);
        return;
    }
    v->type = EX_REAL;
    v->u.r = r;
}

int exv_cast(ex_ctx *cx, ex_value *v, int aff)
{
    if (v->type == EX_NULL)
        return 0;
    switch (aff) {
    case SCH_AFF_BLOB:
        if (v->type != EX_BLOB) {
            int rc = exv_to_text(cx, v);
            if (rc)
                return rc;
            v->type = EX_BLOB;
        }
        v->subtype = EX_SUBTYPE_NONE;
        return 0;
    case SCH_AFF_NUMERIC:
        numerify(v);
        break;
    case SCH_AFF_INTEGER:
        exv_set_int(v, exv_int(v));
        break;
    case SCH_AFF_REAL:
        exv_set_real(v, exv_real(v));
        break;
    default:
        return exv_to_text(cx, v);
    }
    return 0;
}

int exv_compare(const ex_value *a, const ex_value *b, int coll)
{
    int ta = a->type, tb = b->type;
    if (ta == EX_NULL || tb == EX_NULL)
        return (tb == EX_NULL) - (ta == EX_NULL);
    if (ta == EX_INTEGER || ta == EX_REAL || tb == EX_INTEGER || tb == EX_REAL) {
        if (ta == EX_INTEGER && tb == EX_INTEGER)
            return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
        if (ta == EX_REAL && tb == EX_REAL)
            return a->u.r < b->u.r ? -1 : a->u.r > b->u.r;
        if (ta == EX_INTEGER)
            return tb == EX_REAL ? sch_compare_int_real(a->u.i, b->u.r) : -1;
        if (ta == EX_REAL)
            return tb == EX_INTEGER ? -sch_compare_int_real(b->u.i, a->u.r) : -1;
        return 1;
    }
    if (ta == EX_TEXT || tb == EX_TEXT) {
        if (ta != EX_TEXT)
            return 1;
        if (tb != EX_TEXT)
            return -1;
        return sch_compare_text(a->u.s.p, (size_t)a->u.s.n, b->u.s.p, (size_t)b->u.s.n,
                                coll == EXL_NONE ? SCH_COLL_BINARY : coll);
    }
    return sch_compare_text(a->u.s.p, (size_t)a->u.s.n, b->u.s.p, (size_t)b->u.s.n,
                            SCH_COLL_BINARY);
}

int exv_bool(const ex_value *v)
{
    switch (v->type) {
    case EX_INTEGER:
        return v->u.i != 0;
    case EX_REAL:
        return v->u.r != 0.0;
    default:
        return exv_real(v) != 0.0;
    }
}

void exv_set_real(ex_value *v, double r)
{
    v->subtype = EX_SUBTYPE_NONE;
    if (r != r) {
        v->type = EX_NULL;
        return;
    }
    v->type = EX_REAL;
    v->u.r = r;
}

void exv_set_text(ex_value *v, const void *p, size_t n)
{
    v->type = EX_TEXT;
    v->subtype = EX_SUBTYPE_NONE;
    v->u.s.p = (const uint8_t *)p;
    v->u.s.n = n;
}

void exv_set_blob(ex_value *v, const void *p, size_t n)
{
    v->type = EX_BLOB;
    v->subtype = EX_SUBTYPE_NONE;
    v->u.s.p = (const uint8_t *)p;
    v->u.s.n = n;
}

void exv_set_int(ex_value *v, int64_t i)
{
    v->type = EX_INTEGER;
    v->subtype = EX_SUBTYPE_NONE;
    v->u.i = i;
}

void exv_set_null(ex_value *v)
{
    v->type = EX_NULL;
    v->subtype = EX_SUBTYPE_NONE;
    v->u.i = 0;
}

/* The value bits of a UTF-8 lead byte >= 0xc0 (SQLite's sqlite3Utf8Trans1):
 * 110xxxxx -> 5 bits, 1110xxxx -> 4, 11110xxx -> 3, 111110xx -> 2,
 * 1111110x -> 1, 0xfe and 0xff -> none. */
static uint32_t lead_bits(uint8_t c)
{
    if (c < 0xe0)
        return c & 0x1fu;
    if (c < 0xf0)
        return c & 0x0fu;
    if (c < 0xf8)
        return c & 0x07u;
    if (c < 0xfc)
        return c & 0x03u;
    if (c < 0xfe)
        return c & 0x01u;
    return 0;
}

uint32_t exv_utf8_read(const uint8_t *p, size_t n, size_t *i)
{
    uint32_t c = p[(*i)++];
    if (c >= 0xc0) {
        c = lead_bits((uint8_t)c);
        while (*i < n && (p[*i] & 0xc0) == 0x80)
            c = (c << 6) + (0x3fu & p[(*i)++]);
        if (c < 0x80 || (c & 0xFFFFF800u) == 0xD800 || (c & 0xFFFFFFFEu) == 0xFFFE)
            c = 0xFFFD;
    }
    return c;
}

int exv_toobig(ex_ctx *cx)
{
    cx->limit_hit = 1;
    return ex_error(cx, "string or blob too big");
}
