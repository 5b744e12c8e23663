/*
 * expr_printf.c - SQLite 3.40's printf() / format() SQL function, and its
 * rendering of REALs as text ("%!.15g").
 *
 * Conversions: d i u (decimal), x X o (radix, '#' adds 0x / 0X / 0), p
 * (hex, as a 64-bit pointer), r (ordinal: 1st 2nd ...), c (the first
 * character of the text), s z (text), q Q w (SQL-quoted text: '' doubled,
 * Q adds the quotes or gives NULL, w doubles "), f e E g G (reals), n
 * (nothing), %% (a percent sign). Flags - + space 0 # ! and ',' (thousands
 * separators for d i u), a width and a precision, either of which may be
 * '*' (taken from the next argument). An unknown conversion ends the
 * output there, as SQLite's does.
 *
 * Reals are rendered the way SQLite 3.40 does it, which is not libc's: the
 * value is scaled into [1, 10) in long double, a rounding term of half a
 * unit in the last requested digit is added (and, for %f, a tiny term that
 * makes 1.005 round up the way people expect), and digits are read off one
 * by one, at most 16 significant ones (26 with the '!' flag) and zeros after
 * that. The '!' flag also keeps ".0" on a whole number in %g.
 *
 * Missing arguments count as 0, 0.0 or NULL text. The text is built in the
 * context's scratch memory.
 */
#include <stdio.h>
#include <string.h>

#include "expr/expr_int.h"
#include "folio.h"

/* SQLite's conversion buffer size: small conversions fit in it. */
#define PRINTF_BUF_BYTES 70
/* Most digits after the point of %f %e %g (SQLITE_FP_PRECISION_LIMIT). */
#define PRINTF_FP_PRECISION_LIMIT 100000000

enum {
    PF_INVALID,
    PF_DECIMAL,
    PF_RADIX,
    PF_FLOAT,
    PF_EXP,
    PF_GENERIC,
    PF_SIZE,
    PF_STRING,
    PF_PERCENT,
    PF_CHARX,
    PF_SQLESCAPE,  /* %q */
    PF_SQLESCAPE2, /* %Q */
    PF_SQLESCAPE3, /* %w */
    PF_POINTER,
    PF_ORDINAL,
    PF_INTERNAL /* %T %S: SQLite's internal conversions, which end the output */
};

typedef struct conv_info {
    char letter;
    uint8_t base;
    uint8_t is_signed;
    uint8_t type;
    uint8_t charset; /* offset into digit_chars */
    uint8_t prefix;  /* offset into prefix_chars */
} conv_info;

static const char digit_chars[] = "0123456789ABCDEF0123456789abcdef";
static const char prefix_chars[] = "-x0\000X0";

static const conv_info conversions[] = {
    {'d', 10, 1, PF_DECIMAL, 0, 0},   {'s', 0, 0, PF_STRING, 0, 0},
    {'g', 0, 1, PF_GENERIC, 30, 0},   {'z', 0, 0, PF_STRING, 0, 0},
    {'q', 0, 0, PF_SQLESCAPE, 0, 0},  {'Q', 0, 0, PF_SQLESCAPE2, 0, 0},
    {'w', 0, 0, PF_SQLESCAPE3, 0, 0}, {'c', 0, 0, PF_CHARX, 0, 0},
    {'o', 8, 0, PF_RADIX, 0, 2},      {'u', 10, 0, PF_DECIMAL, 0, 0},
    {'x', 16, 0, PF_RADIX, 16, 1},    {'X', 16, 0, PF_RADIX, 0, 4},
    {'f', 0, 1, PF_FLOAT, 0, 0},      {'e', 0, 1, PF_EXP, 30, 0},
    {'E', 0, 1, PF_EXP, 14, 0},       {'G', 0, 1, PF_GENERIC, 14, 0},
    {'i', 10, 1, PF_DECIMAL, 0, 0},   {'n', 0, 0, PF_SIZE, 0, 0},
    {'%', 0, 0, PF_PERCENT, 0, 0},    {'p', 16, 0, PF_POINTER, 0, 1},
    {'T', 0, 0, PF_INTERNAL, 0, 0},   {'S', 0, 0, PF_INTERNAL, 0, 0},
    {'r', 10, 1, PF_ORDINAL, 0, 0}};

/* Half a unit of the n-th decimal, for n = 0..9. */
static const double round_terms[] = {5.0e-01, 5.0e-02, 5.0e-03, 5.0e-04, 5.0e-05,
                                     5.0e-06, 5.0e-07, 5.0e-08, 5.0e-09, 5.0e-10};

/* ---- The output ------------------------------------------------------------ */

typedef struct out_buf {
    ex_ctx *cx;
    char *p;
    size_t n, cap;
    int rc;
    int touched; /* something was appended, if only "": the result is text, not NULL */
} out_buf;

static int out_reserve(out_buf *o, size_t more)
{
    if (o->rc)
        return o->rc;
    if (more > ex_max_length(o->cx) || o->n + more > ex_max_length(o->cx))
        return o->rc = exv_toobig(o->cx);
    if (o->n + more <= o->cap)
        return 0;
    size_t cap = o->cap ? o->cap * 2 : 128;
    while (cap < o->n + more)
        cap *= 2;
    char *p = (char *)ex_scratch(o->cx, cap + 1);
    if (!p)
        return o->rc = ex_nomem(o->cx);
    if (o->n)
        memcpy(p, o->p, o->n);
    o->p = p;
    o->cap = cap;
    return 0;
}

static void out_append(out_buf *o, const char *s, size_t n)
{
    o->touched = 1;
    if (n && !out_reserve(o, n)) {
        memcpy(o->p + o->n, s, n);
        o->n += n;
    }
}

static void out_repeat(out_buf *o, char c, size_t n)
{
    o->touched = 1;
    if (n && !out_reserve(o, n)) {
        memset(o->p + o->n, c, n);
        o->n += n;
    }
}

/* A temporary buffer of n bytes for one conversion. */
static char *temp_buf(out_buf *o, size_t n)
{
    if (o->rc)
        return NULL;
    if (n > ex_max_length(o->cx)) {
        o->rc = exv_toobig(o->cx);
        return NULL;
    }
    char *p = (char *)ex_scratch(o->cx, n);
    if (!p)
        o->rc = ex_nomem(o->cx);
    return p;
}

/* ---- Arguments ---------------------------------------------------------------- */

typedef struct args {
    ex_ctx *cx;
    const ex_value *v;
    int n, used;
} args;

static int64_t arg_int(args *a)
{
    return a->used < a->n ? exv_int(&a->v[a->used++]) : 0;
}

static double arg_real(args *a)
{
    return a->used < a->n ? exv_real(&a->v[a->used++]) : 0.0;
}

/* The next argument as NUL-terminated text, NULL for NULL or none. */
static const char *arg_text(args *a, out_buf *o)
{
    if (a->used >= a->n)
        return NULL;
    ex_value v = a->v[a->used++];
    if (v.type == EX_NULL)
        return NULL;
    if (v.type == EX_INTEGER || v.type == EX_REAL) {
        char buf[64];
        size_t n = exv_number_text(&v, buf, sizeof buf);
        char *p = temp_buf(o, n + 1);
        if (p)
            memcpy(p, buf, n + 1);
        return p;
    }
    char *p = temp_buf(o, (size_t)v.u.s.n + 1);
    if (!p)
        return NULL;
    if (v.u.s.n)
        memcpy(p, v.u.s.p, (size_t)v.u.s.n);
    p[v.u.s.n] = 0;
    return p;
}

/* ---- Reals -------------------------------------------------------------------------- */

/* One digit off a value in [0, 10), the rest scaled up; '0' once the
 * significant digits are spent. */
static char next_digit(long double *v, int *count)
{
    if (*count <= 0)
        return '0';
    (*count)--;
    int d = (int)*v;
    *v = (*v - (long double)d) * 10.0;
    return (char)('0' + d);
}

typedef struct fmt_spec {
    int width, precision;
    int left, alt, alt2, zeropad;
    char plus; /* '+', ' ' or 0 */
    char thousands;
} fmt_spec;

/* Render a real (%f %e %E %g %G) into o, padded to the width. Returns the
 * text in *text and its length, or -1 on error. */
static int render_real(out_buf *o, const conv_info *info, fmt_spec *sp, double arg, char *buf,
                       const char **text)
{
    int type = info->type, precision = sp->precision, exp = 0, e2;
    long double v = arg;
    char prefix;
    if (precision < 0)
        precision = 6;
    if (precision > PRINTF_FP_PRECISION_LIMIT)
        precision = PRINTF_FP_PRECISION_LIMIT;
    if (v < 0.0) {
        v = -v;
        prefix = '-';
    } else {
        prefix = sp->plus;
    }
    if (type == PF_GENERIC && precision > 0)
        precision--;
    int idx = precision & 0xfff;
    double rounder = round_terms[idx % 10];
    while (idx >= 10) {
        rounder *= 1.0e-10;
        idx -= 10;
    }
    if (type == PF_FLOAT) {
        double rx = (double)v;
        uint64_t u;
        memcpy(&u, &rx, sizeof u);
        int ex = -1023 + (int)((u >> 52) & 0x7ff);
        if (precision + (ex / 3) < 15)
            rounder += (double)(v * 3e-16);
        v += rounder;
    }
    if (v != v) {
        *text = "NaN";
        return 3;
    }
    if (v > 0.0) {
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
        if (exp > 350) {
            buf[0] = prefix;
            memcpy(buf + (prefix != 0), "Inf", 4);
            *text = buf;
            return 3 + (prefix != 0);
        }
    }
    if (type != PF_FLOAT) {
        v += rounder;
        if (v >= 10.0) {
            v *= 0.1;
            exp++;
        }
    }
    int rtz;
    if (type == PF_GENERIC) {
        rtz = !sp->alt;
        if (exp < -4 || exp > precision) {
            type = PF_EXP;
        } else {
            precision = precision - exp;
            type = PF_FLOAT;
        }
    } else {
        rtz = sp->alt2;
    }
    e2 = type == PF_EXP ? 0 : exp;
    int64_t need = (int64_t)(e2 > 0 ? e2 : 0) + precision + sp->width + 15;
    char *out = buf;
    if (need > PRINTF_BUF_BYTES) {
        out = temp_buf(o, (size_t)need);
        if (!out)
            return -1;
    }
    char *p = out;
    int nsd = 16 + sp->alt2 * 10;
    int dp = (precision > 0) | sp->alt | sp->alt2;
    if (prefix)
        *p++ = prefix;
    if (e2 < 0) {
        *p++ = '0';
    } else {
        for (; e2 >= 0; e2--)
            *p++ = next_digit(&v, &nsd);
    }
    if (dp)
        *p++ = '.';
    for (e2++; e2 < 0; precision--, e2++)
        *p++ = '0';
    while (precision-- > 0)
        *p++ = next_digit(&v, &nsd);
    if (rtz && dp) {
        while (p[-1] == '0')
            *--p = 0;
        if (p[-1] == '.') {
            if (sp->alt2)
                *p++ = '0';
            else
                *--p = 0;
        }
    }
    if (type == PF_EXP) {
        *p++ = digit_chars[info->charset]; /* 'e' or 'E' */
        if (exp < 0) {
            *p++ = '-';
            exp = -exp;
        } else {
            *p++ = '+';
        }
        if (exp >= 100) {
            *p++ = (char)(exp / 100 + '0');
            exp %= 100;
        }
        *p++ = (char)(exp / 10 + '0');
        *p++ = (char)(exp % 10 + '0');
    }
    *p = 0;
    int length = (int)(p - out);
    if (sp->zeropad && !sp->left && length < sp->width) {
        int pad = sp->width - length;
        for (int i = sp->width; i >= pad; i--)
            out[i] = out[i - pad];
        int i = prefix != 0;
        while (pad--)
            out[i++] = '0';
        length = sp->width;
    }
    *text = out;
    return length;
}

size_t ex_real_text(double r, char *buf, size_t cap)
{
    /* "%!.15g" with no width: fits in the fixed buffer, no scratch needed. */
    char tmp[PRINTF_BUF_BYTES];
    fmt_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.precision = 15;
    sp.alt2 = 1;
    const char *text = NULL;
    static const conv_info g = {'g', 0, 1, PF_GENERIC, 30, 0};
    int n = render_real(NULL, &g, &sp, r, tmp, &text);
    if (n < 0)
        n = 0;
    return (size_t)snprintf(buf, cap, "%.*s", n, text);
}

/* ---- Integers --------------------------------------------------------------------------- */

static int render_integer(out_buf *o, const conv_info *info, fmt_spec *sp, args *a, char *buf,
                          const char **text)
{
    uint64_t value;
    char prefix = 0;
    char thousands = sp->thousands;
    int precision = sp->precision, alt = sp->alt;
    if (info->type != PF_DECIMAL)
        thousands = 0;
    if (info->is_signed) {
        int64_t v = arg_int(a);
        if (v < 0) {
            value = ~(uint64_t)v + 1;
            prefix = '-';
        } else {
            value = (uint64_t)v;
            prefix = sp->plus;
        }
    } else {
        value = (uint64_t)arg_int(a);
    }
    if (value == 0)
        alt = 0;
    if (sp->zeropad && precision < sp->width - (prefix != 0))
        precision = sp->width - (prefix != 0);
    char *zout = buf;
    int nout = PRINTF_BUF_BYTES;
    if (precision >= PRINTF_BUF_BYTES - 10 - PRINTF_BUF_BYTES / 3) {
        uint64_t n = (uint64_t)precision + 10;
        if (thousands)
            n += (uint64_t)precision / 3;
        zout = temp_buf(o, (size_t)n);
        if (!zout)
            return -1;
        nout = (int)n;
    }
    char *p = &zout[nout - 1];
    if (info->type == PF_ORDINAL) {
        static const char suffixes[] = "thstndrd";
        int x = (int)(value % 10);
        if (x >= 4 || (value / 10) % 10 == 1)
            x = 0;
        *--p = suffixes[x * 2 + 1];
        *--p = suffixes[x * 2];
    }
    const char *cset = &digit_chars[info->charset];
    do {
        *--p = cset[value % info->base];
        value /= info->base;
    } while (value > 0);
    int length = (int)(&zout[nout - 1] - p);
    while (precision > length) {
        *--p = '0';
        length++;
    }
    if (thousands) {
        int nn = (length - 1) / 3;
        int ix = (length - 1) % 3 + 1;
        p -= nn;
        for (int i = 0; nn > 0; i++) {
            p[i] = p[i + nn];
            ix--;
            if (ix == 0) {
                p[++i] = thousands;
                nn--;
                ix = 3;
            }
        }
    }
    if (prefix)
        *--p = prefix;
    if (alt && info->prefix) {
        for (const char *pre = &prefix_chars[info->prefix]; *pre; pre++)
            *--p = *pre;
    }
    *text = p;
    return (int)(&zout[nout - 1] - p);
}

/* ---- Text ------------------------------------------------------------------------------------ */

/* Width counts characters, not bytes, with the '!' flag. */
static int utf8_width(const char *text, int length, int width)
{
    for (int i = length - 1; i >= 0; i--)
        if ((text[i] & 0xc0) == 0x80)
            width++;
    return width;
}

static int render_escaped(out_buf *o, int type, fmt_spec *sp, args *a, char *buf, const char **text)
{
    char q = type == PF_SQLESCAPE3 ? '"' : '\'';
    const char *arg = arg_text(a, o);
    if (o->rc)
        return -1;
    int isnull = arg == NULL;
    if (isnull)
        arg = type == PF_SQLESCAPE2 ? "NULL" : "(NULL)";
    int i, k = sp->precision;
    int64_t n = 0;
    char ch;
    for (i = 0; k != 0 && (ch = arg[i]) != 0; i++, k--) {
        if (ch == q)
            n++;
        if (sp->alt2 && (ch & 0xc0) == 0xc0)
            while ((arg[i + 1] & 0xc0) == 0x80)
                i++;
    }
    int quote = !isnull && type == PF_SQLESCAPE2;
    n += i + 3;
    char *out = buf;
    if (n > PRINTF_BUF_BYTES) {
        out = temp_buf(o, (size_t)n);
        if (!out)
            return -1;
    }
    int j = 0;
    if (quote)
        out[j++] = q;
    for (int m = 0; m < i; m++) {
        out[j++] = ch = arg[m];
        if (ch == q)
            out[j++] = ch;
    }
    if (quote)
        out[j++] = q;
    out[j] = 0;
    *text = out;
    if (sp->alt2 && sp->width > 0)
        sp->width = utf8_width(out, j, sp->width);
    return j;
}

static int render_string(out_buf *o, fmt_spec *sp, args *a, const char **text)
{
    const char *s = arg_text(a, o);
    if (o->rc)
        return -1;
    if (!s)
        s = "";
    int length;
    if (sp->precision >= 0) {
        if (sp->alt2) {
            const unsigned char *z = (const unsigned char *)s;
            int prec = sp->precision;
            while (prec-- > 0 && z[0]) {
                if (*z++ >= 0xc0)
                    while ((*z & 0xc0) == 0x80)
                        z++;
            }
            length = (int)(z - (const unsigned char *)s);
        } else {
            for (length = 0; length < sp->precision && s[length]; length++) {
            }
        }
    } else {
        length = (int)(0x7fffffff & strlen(s));
    }
    *text = s;
    if (sp->alt2 && sp->width > 0)
        sp->width = utf8_width(s, length, sp->width);
    return length;
}

/* %c: the first character of the argument, repeated precision times. */
static int render_char(out_buf *o, fmt_spec *sp, args *a, char *buf, const char **text)
{
    const char *s = arg_text(a, o);
    if (o->rc)
        return -1;
    int length = 1;
    if (s) {
        unsigned char c = (unsigned char)*s++;
        buf[0] = (char)c;
        if ((c & 0xc0) == 0xc0)
            while (length < 4 && (*s & 0xc0) == 0x80)
                buf[length++] = *s++;
    } else {
        buf[0] = 0;
    }
    if (sp->precision > 1) {
        sp->width -= sp->precision - 1;
        if (sp->width > 1 && !sp->left) {
            out_repeat(o, ' ', (size_t)(sp->width - 1));
            sp->width = 0;
        }
        /* (Not past the length limit: "%.2000000000c" would loop for
         * minutes after the output stopped growing.) */
        while (sp->precision-- > 1 && !o->rc)
            out_append(o, buf, (size_t)length);
    }
    *text = buf;
    if (sp->width > 0)
        sp->width = utf8_width(buf, length, sp->width);
    return length;
}

/* ---- The format --------------------------------------------------------------------------------
 */

/* Flags, width and precision after a '%'; *fmt ends on the conversion
 * letter (or the NUL). */
static char parse_spec(const char **fmtp, fmt_spec *sp, args *a)
{
    const char *fmt = *fmtp;
    char c = *fmt;
    int done = 0;
    memset(sp, 0, sizeof *sp);
    sp->precision = -1;
    do {
        switch (c) {
        case '-':
            sp->left = 1;
            break;
        case '+':
            sp->plus = '+';
            break;
        case ' ':
            sp->plus = ' ';
            break;
        case '#':
            sp->alt = 1;
            break;
        case '!':
            sp->alt2 = 1;
            break;
        case '0':
            sp->zeropad = 1;
            break;
        case ',':
            sp->thousands = ',';
            break;
        case 'l':
            c = *++fmt;
            if (c == 'l')
                c = *++fmt;
            done = 1;
            break;
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7':
        case '8':
        case '9': {
            unsigned wx = (unsigned)(c - '0');
            while ((c = *++fmt) >= '0' && c <= '9')
                wx = wx * 10 + (unsigned)(c - '0');
            sp->width = (int)(wx & 0x7fffffff);
            if (c != '.' && c != 'l')
                done = 1;
            else
                fmt--;
            break;
        }
        case '*': {
            int64_t w = arg_int(a);
            int width = (int)w;
            if (width < 0) {
                sp->left = 1;
                width = width >= -2147483647 ? -width : 0;
            }
            sp->width = width;
            if ((c = fmt[1]) != '.' && c != 'l') {
                c = *++fmt;
                done = 1;
            }
            break;
        }
        case '.': {
            c = *++fmt;
            if (c == '*') {
                int prec = (int)arg_int(a);
                if (prec < 0)
                    prec = prec >= -2147483647 ? -prec : -1;
                sp->precision = prec;
                c = *++fmt;
            } else {
                unsigned px = 0;
                while (c >= '0' && c <= '9') {
                    px = px * 10 + (unsigned)(c - '0');
                    c = *++fmt;
                }
                sp->precision = (int)(px & 0x7fffffff);
            }
            if (c == 'l')
                --fmt;
            else
                done = 1;
            break;
        }
        default:
            done = 1;
            break;
        }
    } while (!done && (c = *++fmt) != 0);
    *fmtp = fmt;
    return c;
}

/* One conversion; returns 0 to go on, 1 to end the output (SQLite's
 * "return" for unknown conversions), -1 on error. */
static int convert(out_buf *o, const conv_info *info, fmt_spec *sp, args *a)
{
    char buf[PRINTF_BUF_BYTES];
    const char *text = "";
    int length;
    switch (info->type) {
    case PF_POINTER:
    case PF_ORDINAL:
    case PF_RADIX:
    case PF_DECIMAL:
        length = render_integer(o, info, sp, a, buf, &text);
        break;
    case PF_FLOAT:
    case PF_EXP:
    case PF_GENERIC:
        length = render_real(o, info, sp, arg_real(a), buf, &text);
        break;
    case PF_SIZE:
        sp->width = 0;
        length = 0;
        break;
    case PF_PERCENT:
        text = "%";
        length = 1;
        break;
    case PF_CHARX:
        length = render_char(o, sp, a, buf, &text);
        break;
    case PF_STRING:
        length = render_string(o, sp, a, &text);
        break;
    case PF_SQLESCAPE:
    case PF_SQLESCAPE2:
    case PF_SQLESCAPE3:
        length = render_escaped(o, info->type, sp, a, buf, &text);
        break;
    default:
        return 1;
    }
    if (length < 0 || o->rc)
        return -1;
    int pad = sp->width - length;
    if (pad > 0 && !sp->left)
        out_repeat(o, ' ', (size_t)pad);
    out_append(o, text, (size_t)length);
    if (pad > 0 && sp->left)
        out_repeat(o, ' ', (size_t)pad);
    return o->rc ? -1 : 0;
}

static const conv_info *find_conversion(char c)
{
    for (size_t k = 0; k < sizeof conversions / sizeof conversions[0]; k++)
        if (conversions[k].letter == c)
            return &conversions[k];
    return NULL;
}

int ex_printf(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    exv_set_null(out);
    if (argc < 1 || argv[0].type == EX_NULL)
        return 0;
    out_buf o = {cx, NULL, 0, 0, 0, 0};
    args a = {cx, argv + 1, argc - 1, 0};
    args fa = {cx, argv, 1, 0};
    const char *fmt = arg_text(&fa, &o);
    if (!fmt)
        return o.rc;
    for (; *fmt; ++fmt) {
        if (*fmt != '%') {
            const char *start = fmt;
            while (*fmt && *fmt != '%')
                fmt++;
            out_append(&o, start, (size_t)(fmt - start));
            if (!*fmt)
                break;
        }
        if (*++fmt == 0) {
            out_append(&o, "%", 1);
            break;
        }
        fmt_spec sp;
        char c = parse_spec(&fmt, &sp, &a);
        const conv_info *info = find_conversion(c);
        if (!info || c == 0)
            break;
        int r = convert(&o, info, &sp, &a);
        if (r)
            break;
        if (*fmt == 0)
            break;
    }
    if (o.rc == FOLIO_NOMEM)
        return o.rc;
    if (o.rc) {
        /* SQLite's printf() gives NULL, not an error, when the text would
         * exceed the longest string: its buffer is dropped. */
        cx->errmsg[0] = 0;
        return 0;
    }
    if (!o.touched)
        return 0; /* SQLite's text buffer was never started: NULL */
    if (!o.p) {
        exv_set_text(out, "", 0);
        return 0;
    }
    o.p[o.n] = 0;
    exv_set_text(out, o.p, o.n);
    return 0;
}
