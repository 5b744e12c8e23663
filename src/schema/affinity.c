/*
 * affinity.c - column affinity applied to values on write, as SQLite applies
 * it on INSERT and UPDATE.
 *
 *   TEXT     numbers become their text rendering (reals as "%!.15g" does:
 *            always with a '.' or an exponent).
 *   NUMERIC  text that is a well-formed number (spaces around allowed)
 *   INTEGER  becomes INTEGER when it is an integer that fits in 64 bits or
 *            a real with no fractional part that does, else REAL; a REAL
 *            with no fractional part becomes INTEGER.
 *   REAL     numeric text becomes REAL; an INTEGER becomes REAL.
 *   BLOB     nothing changes.
 */
#include "schema/affinity.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == '\v';
}

/*
 * A validated decimal literal to a double, rounded the way SQLite 3.40
 * rounds it, which is not always the nearest double that strtod gives:
 * significant digits gather in a 64-bit significand until it nears
 * INT64_MAX (the rest only move the decimal exponent), the exponent is
 * folded into the significand while it fits, and what remains scales it by
 * powers of ten (tens, then 1e22s) accumulated in long double. Checked
 * against libsqlite3 (tests/unit/schema/test_text_number.c): identical for
 * magnitudes within 1e+-22; beyond, about one value in 2,000 comes out one
 * unit in the last place away from SQLite's (strtod: one in 400), as the
 * exact order of SQLite's long double steps is not reproduced.
 */
static double decimal_to_real(const char *z, size_t n)
{
    const uint64_t big = (uint64_t)INT64_MAX;
    size_t i = 0;
    int neg = 0;
    if (i < n && (z[i] == '-' || z[i] == '+'))
        neg = z[i++] == '-';
    uint64_t sig = 0;
    int d = 0; /* decimal exponent adjustment */
    while (i < n && z[i] >= '0' && z[i] <= '9') {
        sig = sig * 10 + (uint64_t)(z[i++] - '0');
        if (sig >= (big - 9) / 10)
            for (; i < n && z[i] >= '0' && z[i] <= '9'; i++)
                d++;
    }
    if (i < n && z[i] == '.') {
        for (i++; i < n && z[i] >= '0' && z[i] <= '9'; i++) {
            if (sig < (big - 9) / 10) {
                sig = sig * 10 + (uint64_t)(z[i] - '0');
                d--;
            }
        }
    }
    int e = 0, esign = 1;
    if (i < n && (z[i] == 'e' || z[i] == 'E')) {
        i++;
        if (i < n && (z[i] == '-' || z[i] == '+'))
            esign = z[i++] == '-' ? -1 : 1;
        for (; i < n && z[i] >= '0' && z[i] <= '9'; i++)
            e = e < 10000 ? e * 10 + (z[i] - '0') : 10000;
    }
    e = e * esign + d;
    esign = e < 0 ? -1 : 1;
    if (e < 0)
        e = -e;
    if (sig == 0)
        return neg ? -0.0 : 0.0;
    while (e > 0) {
        if (esign > 0) {
            if (sig >= big / 10)
                break;
            sig *= 10;
        } else {
            if (sig % 10 != 0)
                break;
            sig /= 10;
        }
        e--;
    }
    double result;
    if (e == 0) {
        result = (double)sig;
    } else if (e > 307 && e < 342) {
        long double scale = 1.0L;
        while (e % 308) {
            scale *= 1.0e+1;
            e--;
        }
        if (esign < 0) {
            result = (double)((long double)sig / scale);
            result /= 1.0e+308;
        } else {
            result = (double)((long double)sig * scale);
            result *= 1.0e+308;
        }
    } else if (e >= 342) {
        result = esign < 0 ? 0.0 : HUGE_VAL;
    } else {
        long double scale = 1.0L;
        while (e % 22) {
            scale *= 1.0e+1;
            e--;
        }
        while (e > 0) {
            scale *= 1.0e+22;
            e -= 22;
        }
        result = (double)(esign < 0 ? (long double)sig / scale : (long double)sig * scale);
    }
    return neg ? -result : result;
}

/* The common case: a plain decimal integer of at most 18 digits (which
 * always fits), optionally signed, with no spaces. */
static inline int plain_integer(const uint8_t *p, size_t n, int64_t *out)
{
    if (n == 0 || n > 19)
        return 0;
    size_t k = p[0] == '-' || p[0] == '+';
    if (k == n || n - k > 18)
        return 0;
    uint64_t u = 0;
    for (size_t j = k; j < n; j++) {
        unsigned dgt = (unsigned)p[j] - '0';
        if (dgt > 9)
            return 0;
        u = u * 10 + dgt;
    }
    *out = p[0] == '-' ? -(int64_t)u : (int64_t)u;
    return 1;
}

int sch_text_to_number(const uint8_t *p, size_t n, fmt_value *out)
{
    int64_t iv;
    if (plain_integer(p, n, &iv)) {
        out->type = FMT_INTEGER;
        out->u.i = iv;
        return 1;
    }
    size_t i = 0, end = n;
    while (i < end && is_space(p[i]))
        i++;
    while (end > i && is_space(p[end - 1]))
        end--;
    if (i == end || end - i > 400)
        return 0;
    char buf[408];
    memcpy(buf, p + i, end - i);
    buf[end - i] = 0;
    /* Validate the literal: [+-] digits [. digits] [e [+-] digits]. */
    size_t k = 0, len = end - i;
    if (buf[k] == '+' || buf[k] == '-')
        k++;
    size_t digits = 0, frac = 0;
    int is_real = 0;
    while (k < len && buf[k] >= '0' && buf[k] <= '9')
        k++, digits++;
    if (k < len && buf[k] == '.') {
        is_real = 1;
        k++;
        while (k < len && buf[k] >= '0' && buf[k] <= '9')
            k++, frac++;
    }
    if (digits + frac == 0)
        return 0;
    if (k < len && (buf[k] == 'e' || buf[k] == 'E')) {
        size_t save = k;
        k++;
        if (k < len && (buf[k] == '+' || buf[k] == '-'))
            k++;
        size_t ed = 0;
        while (k < len && buf[k] >= '0' && buf[k] <= '9')
            k++, ed++;
        if (ed == 0)
            k = save;
        else
            is_real = 1;
    }
    if (k != len)
        return 0;
    if (!is_real) {
        /* An integer literal: exact when it fits. */
        char *e;
        long long v = strtoll(buf, &e, 10);
        int overflow = 0;
        /* strtoll saturates; detect by comparing against the limits. */
        if ((v == LLONG_MAX || v == LLONG_MIN)) {
            char lim[32];
            snprintf(lim, sizeof lim, "%lld", v);
            const char *b = buf[0] == '+' ? buf + 1 : buf;
            while (*b == '0' && b[1])
                b++;
            if (*b == '-') {
                const char *d = b + 1;
                while (*d == '0' && d[1])
                    d++;
                overflow = !(v == LLONG_MIN && strcmp(d, lim + 1) == 0);
            } else {
                overflow = strcmp(b, lim) != 0;
            }
        }
        if (!overflow) {
            out->type = FMT_INTEGER;
            out->u.i = v;
            return 1;
        }
    }
    out->type = FMT_REAL;
    out->u.r = decimal_to_real(buf, len);
    return 1;
}

/* A real with no fractional part that fits becomes an integer. */
static void real_to_int_if_exact(fmt_value *v)
{
    double r = v->u.r;
    if (r >= -9223372036854775808.0 && r < 9223372036854775808.0) {
        int64_t i = (int64_t)r;
        if ((double)i == r && i > INT64_MIN && i < INT64_MAX) {
            v->type = FMT_INTEGER;
            v->u.i = i;
        }
    }
}

/* One digit of a value scaled into [0, 10), and the rest scaled up again. */
static char next_digit(long double *v, int *budget)
{
    if (*budget <= 0)
        return '0';
    (*budget)--;
    int d = (int)*v;
    *v = (*v - (long double)d) * 10.0;
    return (char)('0' + d);
}

/*
 * SQLite renders a REAL as text with its own "%!.15g": 15 significant
 * digits computed in long double by scaling into [1, 10), adding half a unit
 * of the last digit and reading digits off one by one (which does not always
 * round like libc's printf); trailing zeros dropped but a ".0" kept;
 * exponent form (at least two exponent digits) below 1e-4 and from 1e15;
 * and -0.0 as "0.0". This follows that definition so that values written
 * by folio and by SQLite are the same text.
 */
size_t sch_real_to_text(double r, char *buf, size_t cap)
{
    if (isnan(r))
        return (size_t)snprintf(buf, cap, "NaN");
    if (isinf(r))
        return (size_t)snprintf(buf, cap, "%s", r < 0 ? "-Inf" : "Inf");
    char out[64];
    size_t o = 0;
    long double v = r;
    if (v < 0) {
        v = -v;
        out[o++] = '-';
    }
    int prec = 14; /* %.15g: one digit before the point, 14 after */
    /* Half a unit of the 15th digit, as a double: 5e-05 * 1e-10. */
    double rounder = 5.0e-05;
    rounder *= 1.0e-10;
    int exp = 0;
    if (v > 0) {
        /* The scale is long double; the factors are double constants. */
        long double scale = 1.0;
        while (v >= 1e100 * scale && exp <= 350) {
            scale *= 1e100;
            exp += 100;
        }
        while (v >= 1e10 * scale && exp <= 350) {
            scale *= 1e10;
            exp += 10;
        }
        while (v >= 10.0 * scale && exp <= 350) {
            scale *= 10.0;
            exp++;
        }
        v /= scale;
        while (v < 1e-8) {
            v *= 1e8;
            exp -= 8;
        }
        while (v < 1.0) {
            v *= 10.0;
            exp--;
        }
    }
    v += rounder;
    if (v >= 10.0) {
        v *= 0.1;
        exp++;
    }
    int budget = 26;
    int expform = exp < -4 || exp > prec;
    int e2;
    if (expform) {
        e2 = 0;
    } else {
        prec -= exp;
        e2 = exp;
    }
    if (e2 < 0) {
        out[o++] = '0';
    } else {
        for (; e2 >= 0; e2--)
            out[o++] = next_digit(&v, &budget);
    }
    out[o++] = '.';
    for (e2++; e2 < 0 && prec > 0; prec--, e2++)
        out[o++] = '0';
    while (prec-- > 0)
        out[o++] = next_digit(&v, &budget);
    /* Trailing zeros go, but one digit stays after the point. */
    while (out[o - 1] == '0')
        o--;
    if (out[o - 1] == '.')
        out[o++] = '0';
    if (expform) {
        out[o++] = 'e';
        if (exp < 0) {
            out[o++] = '-';
            exp = -exp;
        } else {
            out[o++] = '+';
        }
        if (exp >= 100) {
            out[o++] = (char)('0' + exp / 100);
            exp %= 100;
        }
        out[o++] = (char)('0' + exp / 10);
        out[o++] = (char)('0' + exp % 10);
    }
    out[o] = 0;
    return (size_t)snprintf(buf, cap, "%s", out);
}

int sch_apply_affinity(fmt_value *v, int affinity, char *textbuf, size_t cap)
{
    assert(cap >= SCH_NUMBER_TEXT_BYTES);
    switch (affinity) {
    case SCH_AFF_TEXT:
        if (v->type == FMT_INTEGER) {
            size_t n = (size_t)snprintf(textbuf, cap, "%lld", (long long)v->u.i);
            v->type = FMT_TEXT;
            v->u.s.p = (const uint8_t *)textbuf;
            v->u.s.n = n;
        } else if (v->type == FMT_REAL) {
            size_t n = sch_real_to_text(v->u.r, textbuf, cap);
            v->type = FMT_TEXT;
            v->u.s.p = (const uint8_t *)textbuf;
            v->u.s.n = n;
        }
        return 0;
    case SCH_AFF_NUMERIC:
    case SCH_AFF_INTEGER:
        if (v->type == FMT_TEXT) {
            int64_t iv;
            if (plain_integer(v->u.s.p, (size_t)v->u.s.n, &iv)) {
                v->type = FMT_INTEGER;
                v->u.i = iv;
                return 0;
            }
            fmt_value num;
            if (sch_text_to_number(v->u.s.p, (size_t)v->u.s.n, &num)) {
                *v = num;
                if (v->type == FMT_REAL)
                    real_to_int_if_exact(v);
            }
        } else if (v->type == FMT_REAL) {
            real_to_int_if_exact(v);
        }
        return 0;
    case SCH_AFF_REAL:
        if (v->type == FMT_TEXT) {
            fmt_value num;
            if (sch_text_to_number(v->u.s.p, (size_t)v->u.s.n, &num)) {
                *v = num;
                if (v->type == FMT_INTEGER) {
                    v->type = FMT_REAL;
                    v->u.r = (double)num.u.i;
                }
            }
        } else if (v->type == FMT_INTEGER) {
            v->type = FMT_REAL;
            v->u.r = (double)v->u.i;
        }
        return 0;
    default:
        return 0;
    }
}
