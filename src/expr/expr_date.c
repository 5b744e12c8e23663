/*
 * expr_date.c - SQLite 3.40's date and time functions: date(), time(),
 * datetime(), julianday(), unixepoch() and strftime(), listed in
 * ex_date_functions (see expr_fn.h).
 *
 * A time value is held as SQLite holds it: a Julian day number in
 * milliseconds (jd_ms) and beside it the calendar date, the time of day and
 * a zone offset, each with a flag saying whether it is known; one is derived
 * from the other when a step needs it. Results depend on the order of those
 * derivations, on their rounding and on the state an overflow leaves behind
 * (a modifier after it sees a cleared value, and 'localtime' or 'utc' clear
 * the error again), so the steps below follow SQLite's one for one.
 *
 *   Time values  YYYY-MM-DD (a '-' before the year allowed), then any spaces
 *                and 'T's and an optional time; or a time alone (on
 *                2000-01-01). A time is HH:MM[:SS[.F...]] (HH up to 24) with
 *                an optional zone [+-]HH:MM or Z after optional spaces, and
 *                spaces at the end. 'now' in any case. A number (as text,
 *                spaces around allowed, or an INTEGER or REAL): a Julian day
 *                when in [0, 5373484.5), else kept raw for 'unixepoch' and
 *                'auto'. A BLOB is read as text; text ends at a NUL byte.
 *   Modifiers    NNN day|hour|minute|second|month|year, 's' optional, any
 *                case, NNN a decimal number with sign, fraction and exponent
 *                within per-unit limits; [+-]HH:MM[:SS[.F...]] (the time of
 *                day it names is added or subtracted); start of day|month|
 *                year; weekday N; unixepoch, auto and julianday (as the first
 *                modifier only); localtime; utc. A modifier that is not one of
 *                these, or a number or NULL, makes the result NULL. 3.40 has
 *                no 'subsec', '+YYYY-MM-DD', 'ceiling' or 'floor'.
 *   Month and year arithmetic keep the day of the month, which may then run
 *   into the next month (2000-01-31 +1 month is 2000-03-02), as in SQLite.
 *   Results lie within Julian day 0 (-4713-11-24 12:00:00) and 9999-12-31
 *   23:59:59.999, else they are NULL. julianday() is a REAL, unixepoch() an
 *   INTEGER, the others TEXT; strftime() knows %d %f %H %j %J %m %M %s %S %w
 *   %W %Y %% and gives NULL for any other '%' conversion; its reals are
 *   written as SQLite's own printf writes them (%06.3f, %.16g), not libc's.
 *
 * 'now' (also the absence of any argument), localtime and utc are
 * non-deterministic: ex_now_ms() decides whether they are allowed where the
 * expression is evaluated and its code is returned when they are not.
 * localtime and utc ask the C library (localtime_r) about the process's time
 * zone, as SQLite does, after mapping a year outside 1970..2038 to one near
 * 2000 with the same position in the leap-year cycle.
 *
 * Text numbers are read with SQLite's rounding (sch_text_to_number). Sums of
 * Julian milliseconds that SQLite lets overflow wrap around here as they do
 * in its compiled code, instead of being undefined behaviour. No heap
 * allocation: results are written to ex_scratch().
 */
#include "expr/expr_fn.h"
#include "format/format.h"
#include "schema/affinity.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MS_PER_MINUTE 60000
#define MS_PER_HOUR   3600000
#define MS_PER_DAY    INT64_C(86400000)
#define HALF_DAY_MS   INT64_C(43200000)
/* Julian day numbers start at noon: this shifts them to start at midnight
 * and to count weekdays from Sunday (JD 0 was a Monday). */
#define WEEKDAY_SHIFT_MS INT64_C(129600000)
/* 1970-01-01 00:00:00 in Julian milliseconds, and in Julian seconds. */
#define UNIX_EPOCH_JD_MS INT64_C(210866760000000)
#define UNIX_EPOCH_JD_S  INT64_C(210866760000)
/* 9999-12-31 23:59:59.999, the last instant a result may have. */
#define MAX_JD_MS INT64_C(464269060799999)
/* Numbers below this (10000-01-01 00:00:00) are taken as Julian days. */
#define RAW_JD_LIMIT 5373484.5
/* Unix times 'auto' accepts: -4713-11-24 12:00:00 .. 9999-12-31 23:59:59. */
#define AUTO_MIN_UNIX_S -210866760000.0
#define AUTO_MAX_UNIX_S 253402300799.0
/* 'unixepoch' accepts Julian milliseconds below 10000-01-01. */
#define UNIXEPOCH_LIMIT_MS 464269060800000.0
/* localtime_r is asked directly about 1970-01-01 .. 2038-01-18 only. */
#define LOCAL_MIN_JD_MS INT64_C(210866760000000)
#define LOCAL_MAX_JD_MS INT64_C(213014145600000)
/* Years the calendar arithmetic accepts. */
#define MIN_YEAR (-4713)
#define MAX_YEAR 9999
/* SQLite's default SQLITE_LIMIT_LENGTH, which strftime's result obeys. */
#define MAX_TEXT_BYTES 1000000000u
/* strftime %f shows at most this many seconds. */
#define MAX_SHOWN_SECONDS 59.999
/* Room for any one strftime conversion (the longest, %J, takes 21). */
#define CONVERSION_BYTES 32

/* A step that worked returns 0, one whose result is NULL returns DT_NULL;
 * errors from the ex_ctx functions (negative, as every folio error) pass
 * through unchanged. */
#define DT_NULL 1

/* A time value in the making (SQLite's DateTime). */
typedef struct dt_value {
    int64_t jd_ms; /* Julian day number times 86400000 */
    int year, month, day;
    int hour, minute;
    int tz_minutes; /* zone offset from the text */
    double sec;     /* seconds; for a raw number, the number */
    char valid_jd;
    char raw; /* sec holds a number read as the value */
    char valid_ymd;
    char valid_hms;
    char valid_tz;
    char tz_set;   /* a zone was given: 'utc' does nothing */
    char is_error; /* a step overflowed */
} dt_value;

/* ---- Text ------------------------------------------------------------------ */

/* Text as SQLite's date code sees it: C strings, so it ends at a NUL. */
typedef struct span {
    const char *p;
    size_t n;
} span;

static span span_of(const uint8_t *p, uint64_t n)
{
    const void *nul = n ? memchr(p, 0, (size_t)n) : NULL;
    span s = {(const char *)p, nul ? (size_t)((const uint8_t *)nul - p) : (size_t)n};
    return s;
}

/* The byte at i, or 0 past the end (the C string's terminator). */
static int at(span s, size_t i)
{
    return i < s.n ? (unsigned char)s.p[i] : 0;
}

static span skip(span s, size_t i)
{
    span r = {s.p + (i < s.n ? i : s.n), i < s.n ? s.n - i : 0};
    return r;
}

static int is_space(int c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int to_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* The first k bytes of s equal lit's, ASCII case folded. */
static int starts_nocase(span s, const char *lit, size_t k)
{
    for (size_t i = 0; i < k; i++)
        if (to_lower(at(s, i)) != to_lower((unsigned char)lit[i]))
            return 0;
    return 1;
}

static int equals_nocase(span s, const char *lit)
{
    size_t k = strlen(lit);
    return s.n == k && starts_nocase(s, lit, k);
}

/* `count` digits at s[i] forming a value in [lo, hi] (SQLite's getDigits). */
static int read_digits(span s, size_t i, int count, int lo, int hi, int *out)
{
    int v = 0;
    for (int k = 0; k < count; k++) {
        int c = at(s, i + (size_t)k);
        if (!is_digit(c))
            return 0;
        v = v * 10 + (c - '0');
    }
    if (v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

/* ---- Numbers in text --------------------------------------------------------- */

/* Longest literal handed to sch_text_to_number as it is. */
#define SHORT_NUMBER_BYTES 400
/* Significant digits kept when a longer literal is shortened: more than the
 * 19 that SQLite's conversion gathers before it only counts the rest. */
#define KEPT_DIGITS 25
/* Exponents beyond this give 0 or infinity whatever the digits. */
#define EXPONENT_CAP 99999

/*
 * A literal longer than sch_text_to_number takes: the same number written
 * with its first significant digits and an exponent. SQLite's conversion
 * (which affinity.c follows) gathers digits into a 64-bit significand until
 * it is nearly full and from then on only counts the digits' places, so
 * digits past the kept ones cannot change its result, nor can leading zeros.
 * The digits are z[int_start..int_end) and z[frac_start..frac_end).
 */
static double long_number(const char *z, int neg, size_t int_start, size_t int_end,
                          size_t frac_start, size_t frac_end, int64_t exponent)
{
    char buf[KEPT_DIGITS + 16];
    size_t o = 0, kept = 0;
    int64_t dropped = 0;
    if (neg)
        buf[o++] = '-';
    for (size_t k = int_start; k < frac_end; k++) {
        if (k == int_end)
            k = frac_start;
        if (k >= frac_end)
            break;
        if (kept == 0 && z[k] == '0')
            continue;
        if (kept < KEPT_DIGITS)
            buf[o + kept++] = z[k];
        else
            dropped++;
    }
    if (kept == 0)
        return neg ? -0.0 : 0.0;
    o += kept;
    int64_t e = exponent - (int64_t)(frac_end - frac_start) + dropped;
    if (e > EXPONENT_CAP)
        e = EXPONENT_CAP;
    if (e < -EXPONENT_CAP)
        e = -EXPONENT_CAP;
    o += (size_t)snprintf(buf + o, sizeof buf - o, "e%" PRId64, e);
    fmt_value v;
    if (!sch_text_to_number((const uint8_t *)buf, o, &v))
        return 0.0; /* not reached: buf is a well-formed literal */
    return v.type == FMT_INTEGER ? (double)v.u.i : v.u.r;
}

/*
 * z[0..n) as a number the way SQLite's sqlite3AtoF reads it when it says
 * the whole text is one: spaces around, [+-] digits [. digits] [e [+-]
 * digits], at least one digit before the exponent. Returns 0 if it is not.
 */
static int text_to_real(const char *z, size_t n, double *out)
{
    size_t i = 0, end = n;
    while (i < end && is_space((unsigned char)z[i]))
        i++;
    while (end > i && is_space((unsigned char)z[end - 1]))
        end--;
    size_t k = i;
    int neg = 0;
    if (k < end && (z[k] == '+' || z[k] == '-'))
        neg = z[k++] == '-';
    size_t int_start = k;
    while (k < end && is_digit((unsigned char)z[k]))
        k++;
    size_t int_end = k, frac_start = k, frac_end = k;
    if (k < end && z[k] == '.') {
        frac_start = ++k;
        while (k < end && is_digit((unsigned char)z[k]))
            k++;
        frac_end = k;
    }
    if (int_end == int_start && frac_end == frac_start)
        return 0;
    int64_t exponent = 0;
    if (k < end && (z[k] == 'e' || z[k] == 'E')) {
        int esign = 1;
        k++;
        if (k < end && (z[k] == '+' || z[k] == '-'))
            esign = z[k++] == '-' ? -1 : 1;
        size_t first = k;
        for (; k < end && is_digit((unsigned char)z[k]); k++)
            exponent = exponent < 10000 ? exponent * 10 + (z[k] - '0') : 10000;
        if (k == first)
            return 0;
        exponent *= esign;
    }
    if (k != end)
        return 0;
    if (end - i > SHORT_NUMBER_BYTES) {
        *out = long_number(z, neg, int_start, int_end, frac_start, frac_end, exponent);
        return 1;
    }
    fmt_value v;
    if (!sch_text_to_number((const uint8_t *)z + i, end - i, &v))
        return 0; /* not reached: the literal was checked above */
    *out = v.type == FMT_INTEGER ? (double)v.u.i : v.u.r;
    if (neg && *out == 0.0)
        *out = -0.0;
    return 1;
}

/* ---- Julian milliseconds and the calendar ----------------------------------- */

/* Two's complement sums: SQLite adds modifiers without overflow checks. */
static int64_t add_wrap(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

static int64_t sub_wrap(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a - (uint64_t)b);
}

static int valid_julian_day(int64_t jd_ms)
{
    return jd_ms >= 0 && jd_ms <= MAX_JD_MS;
}

static void set_error(dt_value *p)
{
    memset(p, 0, sizeof *p);
    p->is_error = 1;
}

static void clear_ymd_hms_tz(dt_value *p)
{
    p->valid_ymd = 0;
    p->valid_hms = 0;
    p->valid_tz = 0;
}

/* The calendar date and time to Julian milliseconds (Meeus, Astronomical
 * Algorithms, p. 61), with SQLite's mix of integer and double arithmetic. */
static void compute_jd(dt_value *p)
{
    if (p->valid_jd)
        return;
    int y = 2000, m = 1, d = 1;
    if (p->valid_ymd) {
        y = p->year;
        m = p->month;
        d = p->day;
    }
    if (y < MIN_YEAR || y > MAX_YEAR || p->raw) {
        set_error(p);
        return;
    }
    if (m <= 2) {
        y--;
        m += 12;
    }
    int a = y / 100;
    int b = 2 - a + (a / 4);
    int x1 = 36525 * (y + 4716) / 100;
    int x2 = 306001 * (m + 1) / 10000;
    p->jd_ms = (int64_t)((x1 + x2 + d + b - 1524.5) * 86400000);
    p->valid_jd = 1;
    if (p->valid_hms) {
        p->jd_ms +=
            p->hour * MS_PER_HOUR + p->minute * MS_PER_MINUTE + (int64_t)(p->sec * 1000 + 0.5);
        if (p->valid_tz) {
            p->jd_ms -= p->tz_minutes * MS_PER_MINUTE;
            clear_ymd_hms_tz(p);
        }
    }
}

/* Julian milliseconds to the calendar date (Meeus again). */
static void compute_ymd(dt_value *p)
{
    if (p->valid_ymd)
        return;
    if (!p->valid_jd) {
        p->year = 2000;
        p->month = 1;
        p->day = 1;
    } else if (!valid_julian_day(p->jd_ms)) {
        set_error(p);
        return;
    } else {
        int z = (int)((p->jd_ms + HALF_DAY_MS) / MS_PER_DAY);
        int a = (int)((z - 1867216.25) / 36524.25);
        a = z + 1 + a - (a / 4);
        int b = a + 1524;
        int c = (int)((b - 122.1) / 365.25);
        int d = (36525 * (c & 32767)) / 100;
        int e = (int)((b - d) / 30.6001);
        int x1 = (int)(30.6001 * e);
        p->day = b - d - x1;
        p->month = e < 14 ? e - 1 : e - 13;
        p->year = p->month > 2 ? c - 4716 : c - 4715;
    }
    p->valid_ymd = 1;
}

/* The time of day from Julian milliseconds: whole seconds split into
 * hours and minutes, the fraction kept apart and added back (SQLite 3.40's
 * order of operations, which fixes the last bit of `sec`). The sum wraps
 * for a clock out of range, as it does in SQLite. */
static void compute_hms(dt_value *p)
{
    if (p->valid_hms)
        return;
    compute_jd(p);
    int day_ms = (int)(add_wrap(p->jd_ms, HALF_DAY_MS) % MS_PER_DAY);
    p->sec = day_ms / 1000.0;
    int s = (int)p->sec;
    p->sec -= s;
    p->hour = s / 3600;
    s -= p->hour * 3600;
    p->minute = s / 60;
    p->sec += s - p->minute * 60;
    p->raw = 0;
    p->valid_hms = 1;
}

static void compute_ymd_hms(dt_value *p)
{
    compute_ymd(p);
    compute_hms(p);
}

/* ---- Parsing time values ------------------------------------------------------ */

/* [spaces] then [+-]HH:MM or Z, then spaces to the end; or nothing at all.
 * Returns nonzero when something else follows. */
static int parse_zone(span s, dt_value *p)
{
    size_t i = 0;
    while (is_space(at(s, i)))
        i++;
    p->tz_minutes = 0;
    int c = at(s, i), sign;
    if (c == '-' || c == '+') {
        sign = c == '-' ? -1 : 1;
        int hours, minutes;
        i++;
        if (!read_digits(s, i, 2, 0, 14, &hours) || at(s, i + 2) != ':' ||
            !read_digits(s, i + 3, 2, 0, 59, &minutes))
            return 1;
        i += 5;
        p->tz_minutes = sign * (minutes + hours * 60);
    } else if (c == 'Z' || c == 'z') {
        i++;
    } else {
        return c != 0;
    }
    while (is_space(at(s, i)))
        i++;
    p->tz_set = 1;
    return at(s, i) != 0;
}

/* HH:MM[:SS[.F...]] and an optional zone. Returns nonzero on failure (which
 * may leave the time set, as in SQLite). */
static int parse_hms(span s, dt_value *p)
{
    int h, m, sec = 0;
    double frac = 0.0;
    if (!read_digits(s, 0, 2, 0, 24, &h) || at(s, 2) != ':' || !read_digits(s, 3, 2, 0, 59, &m))
        return 1;
    size_t i = 5;
    if (at(s, i) == ':') {
        if (!read_digits(s, i + 1, 2, 0, 59, &sec))
            return 1;
        i += 3;
        if (at(s, i) == '.' && is_digit(at(s, i + 1))) {
            double scale = 1.0;
            for (i++; is_digit(at(s, i)); i++) {
                frac = frac * 10.0 + (at(s, i) - '0');
                scale *= 10.0;
            }
            frac /= scale;
        }
    }
    p->valid_jd = 0;
    p->raw = 0;
    p->valid_hms = 1;
    p->hour = h;
    p->minute = m;
    p->sec = sec + frac;
    if (parse_zone(skip(s, i), p))
        return 1;
    p->valid_tz = p->tz_minutes != 0;
    return 0;
}

/* [-]YYYY-MM-DD, then spaces and 'T's, then an optional time. */
static int parse_ymd(span s, dt_value *p)
{
    size_t i = 0;
    int neg = at(s, 0) == '-';
    int y, m, d;
    if (neg)
        i++;
    if (!read_digits(s, i, 4, 0, 9999, &y) || at(s, i + 4) != '-' ||
        !read_digits(s, i + 5, 2, 1, 12, &m) || at(s, i + 7) != '-' ||
        !read_digits(s, i + 8, 2, 1, 31, &d))
        return 1;
    i += 10;
    while (is_space(at(s, i)) || at(s, i) == 'T')
        i++;
    if (parse_hms(skip(s, i), p) == 0) {
        /* the date has a time */
    } else if (at(s, i) == 0) {
        p->valid_hms = 0;
    } else {
        return 1;
    }
    p->valid_jd = 0;
    p->valid_ymd = 1;
    p->year = neg ? -y : y;
    p->month = m;
    p->day = d;
    if (p->valid_tz)
        compute_jd(p);
    return 0;
}

static int set_now(ex_ctx *cx, dt_value *p)
{
    int64_t ms;
    int rc = ex_now_ms(cx, &ms);
    if (rc != 0)
        return rc;
    p->jd_ms = add_wrap(ms, UNIX_EPOCH_JD_MS);
    if (p->jd_ms <= 0)
        return DT_NULL;
    p->valid_jd = 1;
    return 0;
}

/* A number given as the time value: a Julian day if it can be one, and in
 * any case kept raw for 'unixepoch' and 'auto'. */
static void set_raw(dt_value *p, double r)
{
    p->sec = r;
    p->raw = 1;
    if (r >= 0.0 && r < RAW_JD_LIMIT) {
        p->jd_ms = (int64_t)(r * 86400000.0 + 0.5);
        p->valid_jd = 1;
    }
}

static int parse_time_value(ex_ctx *cx, span s, dt_value *p)
{
    double r;
    if (parse_ymd(s, p) == 0 || parse_hms(s, p) == 0)
        return 0;
    if (equals_nocase(s, "now"))
        return set_now(cx, p);
    if (text_to_real(s.p, s.n, &r)) {
        set_raw(p, r);
        return 0;
    }
    return DT_NULL;
}

/* ---- Modifiers ------------------------------------------------------------------- */

/*
 * Shift a time value, taken as UTC, to the process's local time. Years the
 * C library may not know are moved into 2000..2003 first (same place in the
 * leap-year cycle) and moved back after.
 */
static int to_localtime(ex_ctx *cx, dt_value *p)
{
    int64_t t;
    int year_shift;
    compute_jd(p);
    if (p->jd_ms < LOCAL_MIN_JD_MS || p->jd_ms > LOCAL_MAX_JD_MS) {
        dt_value x = *p;
        compute_ymd_hms(&x);
        year_shift = (2000 + x.year % 4) - x.year;
        x.year += year_shift;
        x.valid_jd = 0;
        compute_jd(&x);
        t = x.jd_ms / 1000 - UNIX_EPOCH_JD_S;
    } else {
        year_shift = 0;
        t = p->jd_ms / 1000 - UNIX_EPOCH_JD_S;
    }
    time_t tt = (time_t)t;
    struct tm local;
    memset(&local, 0, sizeof local);
    if (localtime_r(&tt, &local) == NULL)
        return ex_error(cx, "local time unavailable");
    p->year = local.tm_year + 1900 - year_shift;
    p->month = local.tm_mon + 1;
    p->day = local.tm_mday;
    p->hour = local.tm_hour;
    p->minute = local.tm_min;
    p->sec = local.tm_sec + (p->jd_ms % 1000) * 0.001;
    p->valid_ymd = 1;
    p->valid_hms = 1;
    p->valid_jd = 0;
    p->raw = 0;
    p->valid_tz = 0;
    p->is_error = 0;
    return 0;
}

/*
 * Local time back to UTC: the UTC instant whose local time it is, found by
 * at most four corrections (none fits inside a gap of daylight saving).
 * SQLite 3.40 keeps each correction in a 32-bit int, so that corrections
 * beyond 24.8 days (from years localtime cannot map) wrap around; the same
 * wrap is made here on purpose.
 */
enum { UTC_MAX_CORRECTIONS = 3 };

static int64_t wrap_to_int32(int64_t v)
{
    uint32_t u = (uint32_t)(uint64_t)v;
    return u <= INT32_MAX ? (int64_t)u : (int64_t)u - ((int64_t)UINT32_MAX + 1);
}

static int to_utc(ex_ctx *cx, dt_value *p)
{
    if (p->tz_set)
        return 0;
    compute_jd(p);
    int64_t orig = p->jd_ms, guess = orig, err = 0;
    int count = 0;
    do {
        dt_value local;
        memset(&local, 0, sizeof local);
        guess = sub_wrap(guess, err);
        local.jd_ms = guess;
        local.valid_jd = 1;
        int rc = to_localtime(cx, &local);
        if (rc != 0)
            return rc;
        compute_jd(&local);
        err = wrap_to_int32(sub_wrap(local.jd_ms, orig));
    } while (err != 0 && count++ < UTC_MAX_CORRECTIONS);
    memset(p, 0, sizeof *p);
    p->jd_ms = guess;
    p->valid_jd = 1;
    p->tz_set = 1;
    return 0;
}

/* 'auto': a raw number that is not a Julian day is read as a Unix time if
 * it can be one; if it cannot, the modifier fails. */
static int auto_adjust(dt_value *p)
{
    if (!p->raw || p->valid_jd) {
        p->raw = 0;
        return 0;
    }
    if (!(p->sec >= AUTO_MIN_UNIX_S && p->sec <= AUTO_MAX_UNIX_S))
        return DT_NULL;
    double r = p->sec * 1000.0 + 210866760000000.0;
    clear_ymd_hms_tz(p);
    p->jd_ms = (int64_t)(r + 0.5);
    p->valid_jd = 1;
    p->raw = 0;
    return 0;
}

/* 'unixepoch': the raw number is seconds since 1970. */
static int from_unixepoch(dt_value *p)
{
    double r = p->sec * 1000.0 + 210866760000000.0;
    if (!(r >= 0.0 && r < UNIXEPOCH_LIMIT_MS))
        return DT_NULL;
    clear_ymd_hms_tz(p);
    p->jd_ms = (int64_t)(r + 0.5);
    p->valid_jd = 1;
    p->raw = 0;
    return 0;
}

/* 'weekday N': forward to the next day that is weekday N (0 is Sunday). */
static int to_weekday(span s, dt_value *p)
{
    double r;
    if (!starts_nocase(s, "weekday ", 8) || !text_to_real(s.p + 8, s.n - 8, &r) ||
        !(r >= 0.0 && r < 7.0) || (double)(int)r != r)
        return DT_NULL;
    int n = (int)r;
    compute_ymd_hms(p);
    p->valid_tz = 0;
    p->valid_jd = 0;
    compute_jd(p);
    int64_t z = ((p->jd_ms + WEEKDAY_SHIFT_MS) / MS_PER_DAY) % 7;
    if (z > n)
        z -= 7;
    p->jd_ms += (n - z) * MS_PER_DAY;
    clear_ymd_hms_tz(p);
    return 0;
}

/* 'start of day|month|year'. An unknown unit still resets the time of day
 * before failing, as in SQLite. */
static int to_start_of(span s, dt_value *p)
{
    if (!starts_nocase(s, "start of ", 9))
        return DT_NULL;
    if (!p->valid_jd && !p->valid_ymd && !p->valid_hms)
        return DT_NULL;
    span unit = skip(s, 9);
    compute_ymd(p);
    p->valid_hms = 1;
    p->hour = p->minute = 0;
    p->sec = 0.0;
    p->raw = 0;
    p->valid_tz = 0;
    p->valid_jd = 0;
    if (equals_nocase(unit, "month")) {
        p->day = 1;
        return 0;
    }
    if (equals_nocase(unit, "year")) {
        p->month = 1;
        p->day = 1;
        return 0;
    }
    return equals_nocase(unit, "day") ? 0 : DT_NULL;
}

/* '[+-]HH:MM[:SS[.F...]]': add (or subtract) the time of day it names,
 * less whole days; a zone after it shifts that time of day. */
static int add_time_of_day(span s, dt_value *p)
{
    int subtract = at(s, 0) == '-';
    span t = is_digit(at(s, 0)) ? s : skip(s, 1);
    dt_value tx;
    memset(&tx, 0, sizeof tx);
    if (parse_hms(t, &tx))
        return DT_NULL;
    compute_jd(&tx);
    tx.jd_ms -= HALF_DAY_MS;
    int64_t days = tx.jd_ms / MS_PER_DAY;
    tx.jd_ms -= days * MS_PER_DAY;
    if (subtract)
        tx.jd_ms = -tx.jd_ms;
    compute_jd(p);
    clear_ymd_hms_tz(p);
    p->jd_ms = add_wrap(p->jd_ms, tx.jd_ms);
    return 0;
}

/* The units of 'NNN units': the largest magnitude of NNN each takes (float
 * constants, as SQLite has them) and its length in seconds. */
enum { UNIT_MONTH = 4, UNIT_YEAR = 5 };
static const struct {
    size_t name_len;
    const char *name;
    float limit;
    float seconds;
} units[] = {
    {6, "second", 4.6427e+14f, 1.0f},    {6, "minute", 7.7379e+12f, 60.0f},
    {4, "hour", 1.2897e+11f, 3600.0f},   {3, "day", 5373485.0f, 86400.0f},
    {5, "month", 176546.0f, 2592000.0f}, {4, "year", 14713.0f, 31536000.0f},
};

/* Whole months move the month (and the year with it) keeping the day; the
 * fraction left counts 30-day months. */
static void add_months(dt_value *p, double *r)
{
    compute_ymd_hms(p);
    p->month += (int)*r;
    int carry = p->month > 0 ? (p->month - 1) / 12 : (p->month - 12) / 12;
    p->year += carry;
    p->month -= carry * 12;
    p->valid_jd = 0;
    *r -= (int)*r;
}

static void add_years(dt_value *p, double *r)
{
    compute_ymd_hms(p);
    p->year += (int)*r;
    p->valid_jd = 0;
    *r -= (int)*r;
}

/* 'NNN units' with the number already read as r; rest is what follows it. */
static int add_units(span rest, double r, dt_value *p)
{
    size_t i = 0;
    while (is_space(at(rest, i)))
        i++;
    span unit = skip(rest, i);
    size_t n = unit.n;
    if (n > 10 || n < 3)
        return DT_NULL;
    if (to_lower(at(unit, n - 1)) == 's')
        n--;
    compute_jd(p);
    int rc = DT_NULL;
    double rounder = r < 0 ? -0.5 : 0.5;
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
        if (units[k].name_len != n || !starts_nocase(unit, units[k].name, n) ||
            !(r > -units[k].limit && r < units[k].limit))
            continue;
        if (k == UNIT_MONTH)
            add_months(p, &r);
        else if (k == UNIT_YEAR)
            add_years(p, &r);
        compute_jd(p);
        p->jd_ms = add_wrap(p->jd_ms, (int64_t)(r * 1000.0 * units[k].seconds + rounder));
        rc = 0;
        break;
    }
    clear_ymd_hms_tz(p);
    return rc;
}

/* A modifier that starts with a sign or a digit: 'NNN units' or a time. */
static int apply_number(span s, dt_value *p)
{
    size_t n = 1;
    double r;
    while (at(s, n) != 0 && at(s, n) != ':' && !is_space(at(s, n)))
        n++;
    if (!text_to_real(s.p, n, &r))
        return DT_NULL;
    if (at(s, n) == ':')
        return add_time_of_day(s, p);
    return add_units(skip(s, n), r, p);
}

/* Modifier number idx (1 for the first) applied to p. */
static int apply_modifier(ex_ctx *cx, span s, dt_value *p, int idx)
{
    int64_t unused;
    int rc;
    switch (to_lower(at(s, 0))) {
    case 'a':
        if (!equals_nocase(s, "auto"))
            return DT_NULL;
        return idx > 1 ? DT_NULL : auto_adjust(p);
    case 'j':
        if (!equals_nocase(s, "julianday") || idx > 1 || !(p->valid_jd && p->raw))
            return DT_NULL;
        p->raw = 0;
        return 0;
    case 'l':
        if (!equals_nocase(s, "localtime"))
            return DT_NULL;
        if ((rc = ex_now_ms(cx, &unused)) != 0)
            return rc; /* refused where SQLite refuses it */
        return to_localtime(cx, p);
    case 'u':
        if (equals_nocase(s, "unixepoch") && p->raw)
            return idx > 1 ? DT_NULL : from_unixepoch(p);
        if (!equals_nocase(s, "utc"))
            return DT_NULL;
        if ((rc = ex_now_ms(cx, &unused)) != 0)
            return rc;
        return to_utc(cx, p);
    case 'w':
        return to_weekday(s, p);
    case 's':
        return to_start_of(s, p);
    case '+':
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        return apply_number(s, p);
    default:
        return DT_NULL;
    }
}

/* ---- Arguments to a time value ------------------------------------------------- */

static int is_text(const ex_value *v)
{
    return v->type == EX_TEXT || v->type == EX_BLOB;
}

/*
 * The time value of a date function's arguments: argv[0] and the modifiers
 * after it, or 'now' without arguments. DT_NULL when the result is NULL.
 * As in SQLite, 'now' without arguments is not checked against the range of
 * Julian days (a clock far out of range shows odd results, not NULL).
 */
static int eval_time(ex_ctx *cx, int argc, const ex_value *argv, dt_value *p)
{
    int rc;
    memset(p, 0, sizeof *p);
    if (argc == 0)
        return set_now(cx, p);
    const ex_value *v = &argv[0];
    if (v->type == EX_INTEGER) {
        set_raw(p, (double)v->u.i);
    } else if (v->type == EX_REAL) {
        if (v->u.r != v->u.r)
            return DT_NULL; /* a NaN is NULL in SQLite */
        set_raw(p, v->u.r);
    } else if (is_text(v)) {
        if ((rc = parse_time_value(cx, span_of(v->u.s.p, v->u.s.n), p)) != 0)
            return rc;
    } else {
        return DT_NULL;
    }
    for (int i = 1; i < argc; i++) {
        /* A number as text never names a modifier; NULL fails too. */
        if (!is_text(&argv[i]))
            return DT_NULL;
        rc = apply_modifier(cx, span_of(argv[i].u.s.p, argv[i].u.s.n), p, i);
        if (rc != 0)
            return rc;
    }
    compute_jd(p);
    if (p->is_error || !valid_julian_day(p->jd_ms))
        return DT_NULL;
    return 0;
}

/* ---- Results ------------------------------------------------------------------------ */

static void set_null(ex_value *out)
{
    memset(out, 0, sizeof *out);
    out->type = EX_NULL;
}

/* Text of n bytes from buf, copied to scratch memory. */
static int set_text(ex_ctx *cx, ex_value *out, const char *buf, size_t n)
{
    uint8_t *mem = ex_scratch(cx, n ? n : 1);
    if (mem == NULL)
        return ex_nomem(cx);
    memcpy(mem, buf, n);
    memset(out, 0, sizeof *out);
    out->type = EX_TEXT;
    out->u.s.p = mem;
    out->u.s.n = n;
    return 0;
}

/* The time value of the arguments, or the call's result when it is NULL or
 * an error: returns 1 when *p holds a value to show. */
static int time_value_or_result(ex_ctx *cx, int argc, const ex_value *argv, dt_value *p,
                                ex_value *out, int *rc)
{
    *rc = eval_time(cx, argc, argv, p);
    if (*rc == DT_NULL) {
        set_null(out);
        *rc = 0;
        return 0;
    }
    return *rc == 0;
}

/* YYYY-MM-DD (with a '-' before a negative year) at buf; returns the length. */
static size_t write_date(char *buf, const dt_value *x)
{
    int y = x->year < 0 ? -x->year : x->year;
    size_t o = 0;
    if (x->year < 0)
        buf[o++] = '-';
    buf[o++] = (char)('0' + (y / 1000) % 10);
    buf[o++] = (char)('0' + (y / 100) % 10);
    buf[o++] = (char)('0' + (y / 10) % 10);
    buf[o++] = (char)('0' + y % 10);
    buf[o++] = '-';
    buf[o++] = (char)('0' + (x->month / 10) % 10);
    buf[o++] = (char)('0' + x->month % 10);
    buf[o++] = '-';
    buf[o++] = (char)('0' + (x->day / 10) % 10);
    buf[o++] = (char)('0' + x->day % 10);
    return o;
}

/* HH:MM:SS (whole seconds, truncated) at buf; returns the length. */
static size_t write_time(char *buf, const dt_value *x)
{
    int s = (int)x->sec;
    buf[0] = (char)('0' + (x->hour / 10) % 10);
    buf[1] = (char)('0' + x->hour % 10);
    buf[2] = ':';
    buf[3] = (char)('0' + (x->minute / 10) % 10);
    buf[4] = (char)('0' + x->minute % 10);
    buf[5] = ':';
    buf[6] = (char)('0' + (s / 10) % 10);
    buf[7] = (char)('0' + s % 10);
    return 8;
}

static int fn_date(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    dt_value x;
    int rc;
    if (!time_value_or_result(cx, argc, argv, &x, out, &rc))
        return rc;
    char buf[16];
    compute_ymd(&x);
    return set_text(cx, out, buf, write_date(buf, &x));
}

static int fn_time(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    dt_value x;
    int rc;
    if (!time_value_or_result(cx, argc, argv, &x, out, &rc))
        return rc;
    char buf[16];
    compute_hms(&x);
    return set_text(cx, out, buf, write_time(buf, &x));
}

static int fn_datetime(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    dt_value x;
    int rc;
    if (!time_value_or_result(cx, argc, argv, &x, out, &rc))
        return rc;
    char buf[32];
    compute_ymd_hms(&x);
    size_t n = write_date(buf, &x);
    buf[n++] = ' ';
    n += write_time(buf + n, &x);
    return set_text(cx, out, buf, n);
}

static int fn_julianday(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    dt_value x;
    int rc;
    if (!time_value_or_result(cx, argc, argv, &x, out, &rc))
        return rc;
    compute_jd(&x);
    memset(out, 0, sizeof *out);
    out->type = EX_REAL;
    out->u.r = x.jd_ms / 86400000.0;
    return 0;
}

static int fn_unixepoch(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    dt_value x;
    int rc;
    if (!time_value_or_result(cx, argc, argv, &x, out, &rc))
        return rc;
    compute_jd(&x);
    memset(out, 0, sizeof *out);
    out->type = EX_INTEGER;
    out->u.i = x.jd_ms / 1000 - UNIX_EPOCH_JD_S;
    return 0;
}

/* ---- strftime ------------------------------------------------------------------------- */

/* One digit off the front of v (in [0, 10)), v scaled for the next; zeros
 * once the significant digits SQLite's printf shows (16) are spent. */
static char next_digit(long double *v, int *budget)
{
    if (*budget <= 0)
        return '0';
    (*budget)--;
    int d = (int)*v;
    *v = (*v - (long double)d) * 10.0;
    return (char)('0' + d);
}

/* Half a unit in the last place SQLite's printf shows, by precision mod 10. */
static const double half_units[] = {5.0e-01, 5.0e-02, 5.0e-03, 5.0e-04, 5.0e-05,
                                    5.0e-06, 5.0e-07, 5.0e-08, 5.0e-09, 5.0e-10};
enum { PRINTF_DIGITS = 16, EXPONENT_BIAS = 1023 };

/*
 * `value` as SQLite 3.40's printf writes "%0<width>.<precision>f" (generic 0)
 * or "%.<precision>g" (generic 1), for finite values: digits read off in long
 * double after adding a rounder (widened for "%f" by three units of 1e-16 of
 * the value), so that a value just below a half may still round up, unlike
 * libc's exact rounding. Returns the length written to buf (>= 40 bytes).
 */
static size_t printf_real(char *buf, double value, int width, int precision, int generic)
{
    long double v = value;
    char prefix = 0;
    if (v < 0) {
        v = -v;
        prefix = '-';
    }
    if (generic && precision > 0)
        precision--;
    double rounder = half_units[precision % 10];
    for (int idx = precision; idx >= 10; idx -= 10)
        rounder *= 1.0e-10;
    if (!generic) {
        double rx = (double)v;
        uint64_t u;
        memcpy(&u, &rx, sizeof u);
        int ex = -EXPONENT_BIAS + (int)((u >> 52) & 0x7ff);
        if (precision + (ex / 3) < 15)
            rounder = (double)(rounder + v * 3e-16);
        v += rounder;
    }
    int exp = 0;
    if (v > 0) {
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
    int exp_form = 0;
    if (generic) {
        v += rounder;
        if (v >= 10.0) {
            v *= 0.1;
            exp++;
        }
        if (exp < -4 || exp > precision)
            exp_form = 1;
        else
            precision -= exp;
    }
    int e2 = exp_form ? 0 : exp;
    int budget = PRINTF_DIGITS;
    int point = precision > 0;
    size_t o = 0;
    if (prefix)
        buf[o++] = prefix;
    if (e2 < 0) {
        buf[o++] = '0';
    } else {
        for (; e2 >= 0; e2--)
            buf[o++] = next_digit(&v, &budget);
    }
    if (point)
        buf[o++] = '.';
    for (e2++; e2 < 0; precision--, e2++)
        buf[o++] = '0';
    while (precision-- > 0)
        buf[o++] = next_digit(&v, &budget);
    if (generic && point) {
        /* %g drops trailing zeros, and the point when nothing follows. */
        while (buf[o - 1] == '0')
            o--;
        if (buf[o - 1] == '.')
            o--;
    }
    if (exp_form) {
        buf[o++] = 'e';
        buf[o++] = exp < 0 ? '-' : '+';
        if (exp < 0)
            exp = -exp;
        if (exp >= 100) {
            buf[o++] = (char)('0' + exp / 100);
            exp %= 100;
        }
        buf[o++] = (char)('0' + exp / 10);
        buf[o++] = (char)('0' + exp % 10);
    }
    if (!generic && (int)o < width) {
        /* Zero padding goes between the sign and the digits. */
        size_t pad = (size_t)width - o, start = prefix != 0;
        memmove(buf + start + pad, buf + start, o - start);
        memset(buf + start, '0', pad);
        o = (size_t)width;
    }
    return o;
}

/* Days from January 1st of x's year to x. */
static int day_of_year(const dt_value *x)
{
    dt_value y = *x;
    y.valid_jd = 0;
    y.month = 1;
    y.day = 1;
    compute_jd(&y);
    return (int)((x->jd_ms - y.jd_ms + HALF_DAY_MS) / MS_PER_DAY);
}

/* Conversion c of x at buf (CONVERSION_BYTES of room); returns the length,
 * or -1 for a conversion strftime does not know. */
static int write_conversion(char *buf, int c, const dt_value *x)
{
    switch (c) {
    case 'd':
        return snprintf(buf, CONVERSION_BYTES, "%02d", x->day);
    case 'f': {
        double s = x->sec > MAX_SHOWN_SECONDS ? MAX_SHOWN_SECONDS : x->sec;
        return (int)printf_real(buf, s, 6, 3, 0);
    }
    case 'H':
        return snprintf(buf, CONVERSION_BYTES, "%02d", x->hour);
    case 'j':
        return snprintf(buf, CONVERSION_BYTES, "%03d", day_of_year(x) + 1);
    case 'W': {
        int monday_based = (int)(((x->jd_ms + HALF_DAY_MS) / MS_PER_DAY) % 7);
        return snprintf(buf, CONVERSION_BYTES, "%02d", (day_of_year(x) + 7 - monday_based) / 7);
    }
    case 'J':
        return (int)printf_real(buf, x->jd_ms / 86400000.0, 0, 16, 1);
    case 'm':
        return snprintf(buf, CONVERSION_BYTES, "%02d", x->month);
    case 'M':
        return snprintf(buf, CONVERSION_BYTES, "%02d", x->minute);
    case 's':
        return snprintf(buf, CONVERSION_BYTES, "%" PRId64, x->jd_ms / 1000 - UNIX_EPOCH_JD_S);
    case 'S':
        return snprintf(buf, CONVERSION_BYTES, "%02d", (int)x->sec);
    case 'w':
        buf[0] = (char)('0' + ((x->jd_ms + WEEKDAY_SHIFT_MS) / MS_PER_DAY) % 7);
        return 1;
    case 'Y':
        return snprintf(buf, CONVERSION_BYTES, "%04d", x->year);
    case '%':
        buf[0] = '%';
        return 1;
    default:
        return -1;
    }
}

/* The format as text: a number is written as SQLite writes it. */
static span format_text(const ex_value *v, char *numbuf, size_t cap)
{
    span s = {numbuf, 0};
    if (v->type == EX_INTEGER)
        s.n = (size_t)snprintf(numbuf, cap, "%" PRId64, v->u.i);
    else if (v->type == EX_REAL)
        s.n = sch_real_to_text(v->u.r, numbuf, cap);
    else
        s = span_of(v->u.s.p, v->u.s.n);
    return s;
}

/* The conversions strftime knows (SQLite 3.40 has no others). */
static int known_conversion(int c)
{
    return c != 0 && strchr("dfHjWJmMsSwY%", c) != NULL;
}

/* An upper bound of strftime's result length for the format f, or 0 when
 * the format has a conversion strftime does not know (its result is NULL). */
static size_t strftime_bound(span f)
{
    size_t n = 1;
    for (size_t i = 0; i < f.n; i++) {
        if (f.p[i] != '%') {
            n++;
            continue;
        }
        if (!known_conversion(at(f, ++i)))
            return 0;
        n += CONVERSION_BYTES;
    }
    return n;
}

static int fn_strftime(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    if (argc == 0 || argv[0].type == EX_NULL ||
        (argv[0].type == EX_REAL && argv[0].u.r != argv[0].u.r)) {
        set_null(out);
        return 0;
    }
    char numbuf[SCH_NUMBER_TEXT_BYTES];
    span f = format_text(&argv[0], numbuf, sizeof numbuf);
    dt_value x;
    int rc;
    if (!time_value_or_result(cx, argc - 1, argv + 1, &x, out, &rc))
        return rc;
    compute_jd(&x);
    compute_ymd_hms(&x);
    size_t cap = strftime_bound(f);
    if (cap == 0) {
        set_null(out);
        return 0;
    }
    uint8_t *mem = ex_scratch(cx, cap);
    if (mem == NULL)
        return ex_nomem(cx);
    char *dst = (char *)mem;
    size_t o = 0;
    for (size_t i = 0; i < f.n; i++) {
        /* Each conversion has CONVERSION_BYTES of room (strftime_bound). */
        if (f.p[i] == '%')
            o += (size_t)write_conversion(dst + o, at(f, ++i), &x);
        else
            dst[o++] = f.p[i];
    }
    if (o > MAX_TEXT_BYTES)
        return ex_error(cx, "string or blob too big");
    memset(out, 0, sizeof *out);
    out->type = EX_TEXT;
    out->u.s.p = mem;
    out->u.s.n = o;
    return 0;
}

const ex_fn_def ex_date_functions[] = {
    {"date", 0, -1, EX_FN_MAY_USE_NOW, fn_date},
    {"time", 0, -1, EX_FN_MAY_USE_NOW, fn_time},
    {"datetime", 0, -1, EX_FN_MAY_USE_NOW, fn_datetime},
    {"julianday", 0, -1, EX_FN_MAY_USE_NOW, fn_julianday},
    {"unixepoch", 0, -1, EX_FN_MAY_USE_NOW, fn_unixepoch},
    {"strftime", 0, -1, EX_FN_MAY_USE_NOW, fn_strftime},
    {NULL, 0, 0, 0, NULL},
};
