/*
 * Text stored into INTEGER, NUMERIC and REAL columns (src/schema/affinity.c)
 * against libsqlite3: for fixed edge cases and random numeric-looking
 * strings, the storage class and value SQLite stores must be what
 * sch_apply_affinity produces. Random strings print seed=N; FOLIO_SEED=N
 * replays them.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema/affinity.h"
#include "schema/parse.h"

static sqlite3 *g_db;
static int far_off; /* values beyond 1e+-22 one unit off SQLite's */
static sqlite3_stmt *g_ins, *g_sel;

static void setup(void)
{
    cr_assert(sqlite3_open(":memory:", &g_db) == SQLITE_OK);
    cr_assert(sqlite3_exec(g_db, "CREATE TABLE t(i INTEGER, n NUMERIC, r REAL)", 0, 0, 0) ==
              SQLITE_OK);
    cr_assert(sqlite3_prepare_v2(g_db, "INSERT INTO t VALUES(?1, ?1, ?1)", -1, &g_ins, 0) ==
              SQLITE_OK);
    cr_assert(sqlite3_prepare_v2(g_db, "SELECT i, n, r FROM t", -1, &g_sel, 0) == SQLITE_OK);
}

static void teardown(void)
{
    sqlite3_finalize(g_ins);
    sqlite3_finalize(g_sel);
    sqlite3_close(g_db);
}

/* Store `s` as TEXT in the three columns with SQLite and with folio's rules. */
static void check(const char *s)
{
    size_t n = strlen(s);
    sqlite3_exec(g_db, "DELETE FROM t", 0, 0, 0);
    sqlite3_bind_text(g_ins, 1, s, (int)n, SQLITE_STATIC);
    cr_assert(sqlite3_step(g_ins) == SQLITE_DONE);
    sqlite3_reset(g_ins);
    cr_assert(sqlite3_step(g_sel) == SQLITE_ROW);
    static const int aff[3] = {SCH_AFF_INTEGER, SCH_AFF_NUMERIC, SCH_AFF_REAL};
    for (int c = 0; c < 3; c++) {
        fmt_value v;
        memset(&v, 0, sizeof v);
        v.type = FMT_TEXT;
        v.u.s.p = (const uint8_t *)s;
        v.u.s.n = n;
        char buf[64];
        sch_apply_affinity(&v, aff[c], buf, sizeof buf);
        /* A REAL column stores an integral value as an integer (write.c,
         * as SQLite), which reads back as REAL: -0.0 comes back as 0.0. */
        if (aff[c] == SCH_AFF_REAL && v.type == FMT_REAL && v.u.r >= -140737488355328.0 &&
            v.u.r <= 140737488355327.0 && v.u.r == (double)(int64_t)v.u.r)
            v.u.r = (double)(int64_t)v.u.r;
        int t = sqlite3_column_type(g_sel, c);
        switch (t) {
        case SQLITE_INTEGER:
            cr_assert_eq(v.type, FMT_INTEGER, "'%s' col %d: SQLite INTEGER, folio type %d", s, c,
                         v.type);
            cr_assert_eq(v.u.i, sqlite3_column_int64(g_sel, c), "'%s' col %d", s, c);
            break;
        case SQLITE_FLOAT: {
            cr_assert_eq(v.type, FMT_REAL, "'%s' col %d: SQLite REAL, folio type %d", s, c, v.type);
            double want = sqlite3_column_double(g_sel, c);
            if (memcmp(&want, &v.u.r, sizeof want) != 0) {
                /* SQLite 3.40's conversion is matched bit for bit where
                 * the scaling takes one power of ten at most (magnitudes
                 * within 1e+-22); beyond, within one unit in the last place
                 * (affinity.c says why). */
                double mag = want < 0 ? -want : want;
                cr_assert(mag > 1e22 || (mag < 1e-22 && mag > 0), "'%s' col %d: %.17g vs %.17g", s,
                          c, want, v.u.r);
                cr_assert(nextafter(want, v.u.r) == v.u.r, "'%s' col %d: %.17g vs %.17g", s, c,
                          want, v.u.r);
                far_off++;
            }
            break;
        }
        default:
            cr_assert_eq(v.type, FMT_TEXT, "'%s' col %d: SQLite TEXT, folio type %d", s, c, v.type);
            break;
        }
    }
    sqlite3_reset(g_sel);
}

Test(schema_text_number, edge_cases, .init = setup, .fini = teardown)
{
    static const char *cases[] = {
        "0",
        "-0",
        "+0",
        "7",
        "+7",
        "-7",
        "007",
        "-007",
        "",
        "-",
        "+",
        "12a",
        "1 2",
        " 12",
        "12 ",
        "\t-5\n",
        "999999999999999999",
        "-999999999999999999",
        "1000000000000000000",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "-9223372036854775809",
        "+9223372036854775807",
        "00000000000000000000001",
        "1.0",
        "1.5",
        "-1.",
        ".5",
        "1e3",
        "1e",
        "0x10",
        "--1",
        "+-1",
        "123456789012345678",
        "1234567890123456789",
        "-1234567890123456789",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check(cases[i]);
}

Test(schema_text_number, random_strings, .init = setup, .fini = teardown)
{
    const char *env = getenv("FOLIO_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    fprintf(stderr, "schema_text_number: seed=%llu\n", (unsigned long long)seed);
    uint64_t x = seed | 1;
    static const char alphabet[] = "0123456789000999+-. eE";
    for (int k = 0; k < 20000; k++) {
        char s[32];
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int len = (int)(x % 24);
        uint64_t y = x;
        for (int j = 0; j < len; j++) {
            y = y * 6364136223846793005ull + 1442695040888963407ull;
            /* Mostly digits, sometimes a sign, dot, space or exponent. */
            int r = (int)(y >> 59);
            s[j] = r < 24 ? alphabet[(y >> 33) % 10] : alphabet[(y >> 33) % (sizeof alphabet - 1)];
        }
        s[len] = 0;
        check(s);
    }
    /* Shaped literals: digits, maybe a fraction, maybe an exponent in
     * -330..330, the range where the scaling matters. */
    for (int k = 0; k < 20000; k++) {
        char s[64];
        int j = 0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t y = x;
        int nd = 1 + (int)(x % 21);
        for (int q = 0; q < nd; q++) {
            y = y * 6364136223846793005ull + 1;
            s[j++] = (char)('0' + (y >> 33) % 10);
        }
        y = y * 6364136223846793005ull + 1;
        if ((y >> 40) % 3 == 0) {
            s[j++] = '.';
            for (int q = 0; q < (int)((y >> 20) % 8); q++) {
                y = y * 6364136223846793005ull + 1;
                s[j++] = (char)('0' + (y >> 33) % 10);
            }
        }
        y = y * 6364136223846793005ull + 1;
        if ((y >> 40) % 2 == 0)
            j += snprintf(s + j, sizeof s - (size_t)j, "e%s%d", (y >> 30) % 2 ? "-" : "",
                          (int)((y >> 10) % 331));
        s[j] = 0;
        check(s);
    }
    fprintf(stderr, "schema_text_number: %d of 40000 strings one unit off beyond 1e+-22\n",
            far_off);
}
