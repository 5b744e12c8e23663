/*
 * Rowid seeks guess where a rowid lies on a page from the keys around it
 * (exact for dense rowids), then bisect, and read cursors keep interior
 * pages pinned between seeks. Whatever the spacing of the rowids, a seek
 * must find every rowid libsqlite3 wrote, report the ones it did not as
 * FOLIO_NOTFOUND, and leave the cursor where next and prev step to the
 * neighbours in rowid order. Distributions: dense, strided, clustered at
 * both ends of the int64 range, geometric, uniformly random; small pages
 * make deep trees. The seek order is random (the seed is printed).
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* n distinct rowids of distribution `kind`, sorted. */
static int64_t *make_rowids(int kind, int n, uint64_t *rng)
{
    int64_t *v = malloc(sizeof *v * (size_t)n);
    cr_assert(v);
    for (int i = 0; i < n; i++) {
        switch (kind) {
        case 0: /* dense */
            v[i] = i + 1;
            break;
        case 1: /* strided, with an offset */
            v[i] = 1000 + 7 * (int64_t)i;
            break;
        case 2: /* half at the bottom of the range, half at the top */
            v[i] = i < n / 2 ? INT64_MIN + i : INT64_MAX - (n - 1 - i);
            break;
        case 3: /* geometric spacing, negative and positive */
            v[i] = (i % 2 ? 1 : -1) * (int64_t)(((uint64_t)1 << (i / 2 % 62)) + (uint64_t)i);
            break;
        default: /* uniform over int64 */
            v[i] = (int64_t)compat_rand(rng);
            break;
        }
    }
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || v[i] != v[m - 1])
            v[m++] = v[i];
    cr_assert_gt(m, n / 2);
    for (int i = m; i < n; i++) /* keep n: top up past the largest */
        v[i] = v[i - 1] + 1 + (int64_t)(compat_rand(rng) % 3);
    if (v[n - 1] < v[0]) /* wrapped past INT64_MAX: keep the distinct prefix */
        cr_assert(0, "rowid generator overflow");
    return v;
}

static void check_kind(int kind, int n, unsigned page_size, uint64_t *rng)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "seek.db");
    int64_t *v = make_rowids(kind, n, rng);
    sqlite3 *s = compat_sqlite_open(path);
    compat_execf(s, "PRAGMA page_size=%u; CREATE TABLE t(x); BEGIN", page_size);
    sqlite3_stmt *ins = compat_prepare(s, "INSERT INTO t(rowid, x) VALUES(?1, ?2)");
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int64(ins, 1, v[i]);
        sqlite3_bind_int64(ins, 2, i);
        cr_assert_eq(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    compat_exec(s, "COMMIT");
    compat_sqlite_close(s);

    for (unsigned mode = COMPAT_RO; mode <= COMPAT_RW; mode++) {
        folio_db *db = compat_folio_open(path, mode);
        folio_txn *t;
        /* Read-write transactions take the path without pinned pages. */
        cr_assert_eq(folio_begin(&t, db, mode == COMPAT_RO ? FOLIO_TXN_READ : FOLIO_TXN_WRITE),
                     FOLIO_OK);
        folio_table *tb;
        folio_cursor *c;
        cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
        cr_assert_eq(folio_cursor_open(&c, tb, NULL), FOLIO_OK);
        for (int probe = 0; probe < 3 * n; probe++) {
            int i = (int)compat_below(rng, (uint64_t)n);
            int64_t want = v[i];
            int kind_of_probe = probe % 3;
            if (kind_of_probe == 2) {
                /* Between two rowids, or past either end: not there. */
                int64_t miss;
                if (i + 1 < n) {
                    if ((uint64_t)v[i + 1] - (uint64_t)v[i] < 2)
                        continue;
                    miss = v[i] + 1;
                } else if (v[i] < INT64_MAX) {
                    miss = v[i] + 1;
                } else if (v[0] > INT64_MIN) {
                    miss = v[0] - 1;
                } else {
                    continue;
                }
                int rc = folio_cursor_seek_rowid(c, miss);
                cr_assert_eq(rc, FOLIO_NOTFOUND,
                             "kind %d page %u: rowid %" PRId64 " is not there, got %s", kind,
                             page_size, miss, compat_rc_name(rc));
                continue;
            }
            int rc = folio_cursor_seek_rowid(c, want);
            cr_assert_eq(rc, FOLIO_ROW, "kind %d page %u: seek %" PRId64 ": %s", kind, page_size,
                         want, compat_rc_name(rc));
            cr_assert_eq(folio_cursor_rowid(c), want);
            folio_value x;
            cr_assert_eq(folio_cursor_column(&x, c, 0), FOLIO_OK);
            cr_assert_eq(x.u.i, i, "kind %d: row %" PRId64 " holds the wrong value", kind, want);
            /* The position is consistent: step to a neighbour. */
            if (kind_of_probe == 0) {
                rc = folio_cursor_next(c);
                if (i + 1 < n) {
                    cr_assert_eq(rc, FOLIO_ROW);
                    cr_assert_eq(folio_cursor_rowid(c), v[i + 1],
                                 "kind %d page %u: after %" PRId64 " came %" PRId64
                                 ", not %" PRId64,
                                 kind, page_size, want, folio_cursor_rowid(c), v[i + 1]);
                } else {
                    cr_assert_eq(rc, FOLIO_DONE);
                }
            } else {
                rc = folio_cursor_prev(c);
                if (i > 0) {
                    cr_assert_eq(rc, FOLIO_ROW);
                    cr_assert_eq(folio_cursor_rowid(c), v[i - 1],
                                 "kind %d page %u: before %" PRId64 " came %" PRId64
                                 ", not %" PRId64,
                                 kind, page_size, want, folio_cursor_rowid(c), v[i - 1]);
                } else {
                    cr_assert_eq(rc, FOLIO_DONE);
                }
            }
        }
        folio_cursor_close(c);
        folio_rollback(t);
        cr_assert_eq(folio_close(db), FOLIO_OK);
    }
    char *why = compat_integrity(path);
    cr_assert_str_eq(why, "ok");
    free(why);
    free(v);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

Test(rowid_seek, every_distribution_finds_every_rowid)
{
    uint64_t rng = compat_seed(0x5eec);
    static const unsigned pages[] = {512, 4096};
    for (int kind = 0; kind < 5; kind++)
        for (int p = 0; p < 2; p++)
            check_kind(kind, pages[p] == 512 ? 20000 : 60000, pages[p], &rng);
}
