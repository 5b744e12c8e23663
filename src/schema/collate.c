/*
 * collate.c - value comparison with SQLite's rules (see collate.h).
 *
 * These functions decide the order of keys in every index folio writes, so
 * they must agree with SQLite bit for bit, or `PRAGMA integrity_check` would
 * find the index out of order; the unit tests compare them with ORDER BY in
 * libsqlite3 over random values.
 */
#include "schema/collate.h"

#include <math.h>
#include <string.h>

static int sign_of_size(size_t na, size_t nb)
{
    return na < nb ? -1 : na > nb;
}

static int compare_binary(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    size_t n = na < nb ? na : nb;
    if (n > 0) {
        int r = memcmp(a, b, n);
        if (r != 0)
            return r < 0 ? -1 : 1;
    }
    return sign_of_size(na, nb);
}

static unsigned fold(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? c + 32u : c;
}

static int compare_nocase(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    size_t n = na < nb ? na : nb;
    for (size_t k = 0; k < n; k++) {
        unsigned ca = fold(a[k]), cb = fold(b[k]);
        if (ca != cb)
            return ca < cb ? -1 : 1;
        if (a[k] == 0) /* SQLite's sqlite3StrNICmp stops at a NUL */
            break;
    }
    return sign_of_size(na, nb);
}

int sch_compare_text(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, int collation)
{
    switch (collation) {
    case SCH_COLL_NOCASE:
        return compare_nocase(a, na, b, nb);
    case SCH_COLL_RTRIM:
        while (na > 0 && a[na - 1] == ' ')
            na--;
        while (nb > 0 && b[nb - 1] == ' ')
            nb--;
        return compare_binary(a, na, b, nb);
    default:
        return compare_binary(a, na, b, nb);
    }
}

int sch_compare_int_real(int64_t i, double r)
{
    if (isnan(r))
        return 1;
    /* -2^63 and 2^63 are exact doubles; outside [-2^63, 2^63) no int64 reaches r. */
    if (r < -9223372036854775808.0)
        return 1;
    if (r >= 9223372036854775808.0)
        return -1;
    /* r is in range, so truncating it is exact in int64. When |r| >= 2^52, r is
     * integral and equals the truncation; otherwise i (== truncation) is small
     * enough to convert to double exactly. Either way the last step is exact. */
    int64_t t = (int64_t)r;
    if (i != t)
        return i < t ? -1 : 1;
    double d = (double)i;
    return d < r ? -1 : d > r;
}

static int compare_real(double x, double y)
{
    return x < y ? -1 : x > y;
}

/* Rank of a storage class in the sort order. */
static int class_rank(int type)
{
    switch (type) {
    case FMT_NULL:
        return 0;
    case FMT_INTEGER:
    case FMT_REAL:
        return 1;
    case FMT_TEXT:
        return 2;
    default:
        return 3;
    }
}

int sch_compare(const fmt_value *a, const fmt_value *b, int collation)
{
    int ra = class_rank(a->type), rb = class_rank(b->type);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (ra) {
    case 0:
        return 0;
    case 1:
        if (a->type == FMT_INTEGER && b->type == FMT_INTEGER)
            return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
        if (a->type == FMT_INTEGER)
            return sch_compare_int_real(a->u.i, b->u.r);
        if (b->type == FMT_INTEGER)
            return -sch_compare_int_real(b->u.i, a->u.r);
        return compare_real(a->u.r, b->u.r);
    case 2:
        return sch_compare_text(a->u.s.p, (size_t)a->u.s.n, b->u.s.p, (size_t)b->u.s.n, collation);
    default:
        return compare_binary(a->u.s.p, (size_t)a->u.s.n, b->u.s.p, (size_t)b->u.s.n);
    }
}
