/*
 * record_order.c - comparing whole records of one b-tree (see
 * record_order.h).
 */
#include "schema/record_order.h"

#include <string.h>

#include "folio.h"
#include "os/os.h"
#include "schema/collate.h"

static const uint8_t small_len[10] = {0, 1, 2, 3, 4, 6, 8, 8, 0, 0};

static int64_t small_int(uint8_t st, const uint8_t *p)
{
    if (st >= 8)
        return st - 8;
    uint64_t u = (p[0] & 0x80) ? ~(uint64_t)0 : 0;
    for (uint32_t k = 0; k < small_len[st]; k++)
        u = (u << 8) | p[k];
    return (int64_t)u;
}

/*
 * The common case of index records, fast: one-byte header varints, and
 * fields that are integers or BINARY text. Returns 1 when it decided (and
 * sets *out), 0 to let the general comparison decide.
 */
static int rec_compare_fast(const sch_order *o, const uint8_t *a, uint64_t na, const uint8_t *b,
                            uint64_t nb, int *out)
{
    if (na == 0 || nb == 0 || a[0] >= 0x80 || b[0] >= 0x80)
        return 0;
    uint32_t ha = a[0], hb = b[0], pa = 1, pb = 1;
    uint64_t da = ha, db = hb;
    for (int i = 0; i < o->n; i++) {
        if (pa >= ha || pb >= hb)
            return 0;
        uint8_t sa = a[pa++], sb = b[pb++];
        if (sa >= 0x80 || sb >= 0x80)
            return 0;
        int c;
        int ia = sa != 0 && sa < 10 && sa != 7, ib = sb != 0 && sb < 10 && sb != 7;
        if (ia && ib) {
            if (da + small_len[sa] > na || db + small_len[sb] > nb)
                return 0;
            int64_t x = small_int(sa, a + da), y = small_int(sb, b + db);
            c = x < y ? -1 : x > y;
        } else if (sa >= 13 && (sa & 1) && sb >= 13 && (sb & 1) && o->coll[i] == SCH_COLL_BINARY) {
            uint64_t la = (uint64_t)(sa - 13) / 2, lb = (uint64_t)(sb - 13) / 2;
            if (da + la > na || db + lb > nb)
                return 0;
            uint64_t m = la < lb ? la : lb;
            c = m ? memcmp(a + da, b + db, (size_t)m) : 0;
            if (c == 0)
                c = la < lb ? -1 : la > lb;
            else
                c = c < 0 ? -1 : 1;
        } else {
            return 0;
        }
        if (c) {
            *out = o->desc[i] ? -c : c;
            return 1;
        }
        da += sa < 12 ? small_len[sa < 10 ? sa : 0] : (uint64_t)(sa - 12) / 2;
        db += sb < 12 ? small_len[sb < 10 ? sb : 0] : (uint64_t)(sb - 12) / 2;
    }
    *out = 0;
    return 1;
}

int sch_record_compare(void *cfg, const uint8_t *a, uint64_t na, const uint8_t *b, uint64_t nb,
                       int *out)
{
    sch_order *o = cfg;
    fmt_record ra, rb;
    *out = 0;
    if (o->enc <= 1 && rec_compare_fast(o, a, na, b, nb, out))
        return 0;
    if (fmt_record_open(&ra, a, na, na) < 0 || fmt_record_open(&rb, b, nb, nb) < 0)
        return FOLIO_CORRUPT;
    for (int i = 0; i < o->n; i++) {
        uint64_t sa, oa, sb, ob;
        int ka = fmt_record_next(&ra, &sa, &oa);
        int kb = fmt_record_next(&rb, &sb, &ob);
        if (ka < 0 || kb < 0)
            return FOLIO_CORRUPT;
        if (ka == 0 || kb == 0) {
            *out = ka - kb;
            return 0;
        }
        fmt_value va, vb;
        if (fmt_serial_decode(sa, a + oa, &va) < 0 || fmt_serial_decode(sb, b + ob, &vb) < 0)
            return FOLIO_CORRUPT;
        int c = sch_compare(&va, &vb, o->coll[i]);
        if (c) {
            *out = o->desc[i] ? -c : c;
            return 0;
        }
    }
    return 0;
}

int sch_order_init(sch_order *o, int n, const uint8_t *desc, const uint8_t *coll, int enc)
{
    o->n = n;
    o->enc = enc;
    o->desc = os_calloc((size_t)n + 1, 1);
    o->coll = os_calloc((size_t)n + 1, 1);
    if (!o->desc || !o->coll)
        return FOLIO_NOMEM;
    for (int i = 0; i < n; i++) {
        o->desc[i] = desc ? desc[i] : 0;
        o->coll[i] = coll ? coll[i] : SCH_COLL_BINARY;
    }
    return 0;
}

void sch_order_free(sch_order *o)
{
    os_free(o->desc);
    os_free(o->coll);
    o->desc = o->coll = NULL;
}
