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

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == '\v';
}

int sch_text_to_number(const uint8_t *p, size_t n, fmt_value *out)
{
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
    out->u.r = strtod(buf, NULL);
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

size_t sch_real_to_text(double r, char *buf, size_t cap)
{
    if (isinf(r))
        return (size_t)snprintf(buf, cap, "%s", r < 0 ? "-Inf" : "Inf");
    if (isnan(r))
        return (size_t)snprintf(buf, cap, "NaN");
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.15g", r);
    char *e = strchr(tmp, 'e');
    if (!strchr(tmp, '.')) {
        /* Always show a '.' (before the exponent if there is one). */
        char out[72];
        if (e) {
            size_t m = (size_t)(e - tmp);
            snprintf(out, sizeof out, "%.*s.0%s", (int)m, tmp, e);
        } else {
            snprintf(out, sizeof out, "%s.0", tmp);
        }
        return (size_t)snprintf(buf, cap, "%s", out);
    }
    return (size_t)snprintf(buf, cap, "%s", tmp);
}

int sch_apply_affinity(fmt_value *v, int affinity, char *textbuf, size_t cap)
{
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
