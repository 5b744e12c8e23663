/*
 * Column affinity from the declared type (src/schema/parse.c), against
 * libsqlite3: for fixed and random declared types, the storage class SQLite
 * gives a set of inserted values, and the class of CAST(... AS type), must be
 * what the affinity folio derives implies. Random types print seed=N;
 * FOLIO_SEED=N replays one.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "schema/parse.h"

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t seed_rng(const char *test)
{
    const char *s = getenv("FOLIO_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)clock();
    fprintf(stderr, "%s: seed=%llu\n", test, (unsigned long long)seed);
    rng_state = seed;
    return seed;
}

Test(schema_affinity, rules)
{
    static const struct {
        const char *type;
        int aff;
    } cases[] = {
        {NULL, SCH_AFF_BLOB},
        {"INT", SCH_AFF_INTEGER},
        {"integer", SCH_AFF_INTEGER},
        {"TINYINT", SCH_AFF_INTEGER},
        {"UNSIGNED BIG INT", SCH_AFF_INTEGER},
        {"POINT", SCH_AFF_INTEGER},          /* contains INT */
        {"FLOATING POINT", SCH_AFF_INTEGER}, /* INT wins over FLOA */
        {"CHARINT", SCH_AFF_INTEGER},
        {"VARCHAR(255)", SCH_AFF_TEXT},
        {"NCHAR(55)", SCH_AFF_TEXT},
        {"CLOB", SCH_AFF_TEXT},
        {"text", SCH_AFF_TEXT},
        {"BLOBTEXT", SCH_AFF_TEXT}, /* TEXT wins over BLOB */
        {"BLOB", SCH_AFF_BLOB},
        {"REALBLOB", SCH_AFF_BLOB}, /* BLOB wins over REAL */
        {"", SCH_AFF_NUMERIC},
        {"REAL", SCH_AFF_REAL},
        {"DOUBLE PRECISION", SCH_AFF_REAL},
        {"FLOAT", SCH_AFF_REAL},
        {"NUMERIC", SCH_AFF_NUMERIC},
        {"DECIMAL(10,5)", SCH_AFF_NUMERIC},
        {"BOOLEAN", SCH_AFF_NUMERIC},
        {"DATETIME", SCH_AFF_NUMERIC},
        {"STRING", SCH_AFF_NUMERIC},
        {"ANY", SCH_AFF_NUMERIC},
        {"I N T", SCH_AFF_NUMERIC},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
        cr_assert_eq(sch_affinity_of(cases[k].type), cases[k].aff, "%s",
                     cases[k].type ? cases[k].type : "NULL");
}

/* Storage classes of the test values under each affinity, and of CAST('3.5'). */
static const char *const test_values[] = {"'12'", "' 7 '", "'1e3'", "'x'",   "3.0",
                                          "5",    "'3.5'", "x'00'", "'0x10'"};
enum { NVALUES = sizeof test_values / sizeof *test_values };

static const char *expected_signature(int aff)
{
    switch (aff) {
    case SCH_AFF_TEXT:
        return "text text text text text text text blob text | text";
    case SCH_AFF_NUMERIC:
        return "integer integer integer text integer integer real blob text | real";
    case SCH_AFF_INTEGER:
        return "integer integer integer text integer integer real blob text | integer";
    case SCH_AFF_REAL:
        return "real real real text real real real blob text | real";
    default:
        return "text text text text real integer text blob text | blob";
    }
}

/* SQLite's signature for a column declared with type text `type`: 0, or -1 if
 * SQLite rejects the declaration. */
static int sqlite_signature(sqlite3 *db, const char *type, char *out, size_t outlen)
{
    char sql[512];
    sqlite3_stmt *st;
    out[0] = 0;
    sqlite3_exec(db, "DROP TABLE IF EXISTS t", NULL, NULL, NULL);
    snprintf(sql, sizeof sql, "CREATE TABLE t(c %s)", type);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    for (int k = 0; k < NVALUES; k++) {
        snprintf(sql, sizeof sql, "INSERT INTO t VALUES(%s)", test_values[k]);
        cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sql);
    }
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT typeof(c) FROM t ORDER BY rowid", -1, &st, NULL),
                 SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        strncat(out, (const char *)sqlite3_column_text(st, 0), outlen - strlen(out) - 1);
        strncat(out, " ", outlen - strlen(out) - 1);
    }
    sqlite3_finalize(st);
    out[strlen(out) - 1] = 0;
    /* CAST parses the same type grammar (but keeps a trailing "always" that a
     * column declaration drops, so such types skip it); with no type, BLOB. */
    int has_type = 0;
    for (const char *s = type; *s && !has_type; s++)
        has_type = !isspace((unsigned char)*s);
    size_t tn = strlen(type);
    if (tn >= 6 && strcasecmp(type + tn - 6, "always") == 0) {
        strncat(out, " | ?", outlen - strlen(out) - 1);
        return 0;
    }
    snprintf(sql, sizeof sql, "SELECT typeof(CAST('3.5' AS %s))", type);
    if (has_type && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        strncat(out, " | ", outlen - strlen(out) - 1);
        strncat(out, (const char *)sqlite3_column_text(st, 0), outlen - strlen(out) - 1);
        sqlite3_finalize(st);
    } else {
        if (has_type)
            sqlite3_finalize(st);
        strncat(out, " | blob", outlen - strlen(out) - 1);
    }
    return 0;
}

/* Parse "CREATE TABLE t(c <type>)" with folio and compare with SQLite. */
static void check_type(sqlite3 *db, const char *type, uint64_t seed)
{
    char sql[512], err[256], want[512];
    sch_table t;
    snprintf(sql, sizeof sql, "CREATE TABLE t(c %s)", type);
    int ours = sch_parse_table(&t, sql, err, sizeof err);
    int theirs = sqlite_signature(db, type, want, sizeof want);
    cr_assert_eq(ours, theirs, "seed=%llu type [%s]: folio %s, sqlite %s", (unsigned long long)seed,
                 type, ours ? err : "accepts", theirs ? "rejects" : "accepts");
    if (ours < 0)
        return;
    cr_assert_eq(t.ncols, 1);
    cr_assert_eq(t.cols[0].affinity, sch_affinity_of(t.cols[0].decltype));
    char expect[128];
    snprintf(expect, sizeof expect, "%s", expected_signature(t.cols[0].affinity));
    if (strstr(want, " | ?"))
        strcpy(strstr(expect, " | "), " | ?");
    cr_assert_str_eq(expect, want, "seed=%llu type [%s] (decltype [%s], affinity %d)",
                     (unsigned long long)seed, type,
                     t.cols[0].decltype ? t.cols[0].decltype : "NULL", t.cols[0].affinity);
    sch_table_free(&t);
}

Test(schema_affinity, fixed_types_match_sqlite)
{
    static const char *const types[] = {
        "",
        "INT",
        "INTEGER",
        "TINYINT",
        "UNSIGNED BIG INT",
        "INT8",
        "VARCHAR(255)",
        "NATIVE CHARACTER(70)",
        "NVARCHAR(100)",
        "CLOB",
        "TEXT",
        "BLOB",
        "REAL",
        "DOUBLE",
        "DOUBLE PRECISION",
        "FLOAT",
        "NUMERIC",
        "DECIMAL(10,5)",
        "DECIMAL(+10, -5)",
        "BOOLEAN",
        "DATE",
        "DATETIME",
        "STRING",
        "ANY",
        "POINT",
        "FLOATING POINT",
        "'INTEGER'",
        "\"VARCHAR\"",
        "[REAL]",
        "`BLOB`",
        "'my' 'int'",
        "VARCHAR /* INT */ (10)",
        "generated always",
        "floater generated always",
        "abcdefghij always",
        "text key",
        "desc",
        "current_time",
        "integer(1.5e3)",
        "x(0x10)",
        "BLOBTEXT",
        "REALBLOB",
        "I N T",
        "left",
        "int(a)",
        "int(1,2,3)",
        "int()",
        "int(1) (2)",
    };
    uint64_t seed = 0;
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    for (size_t k = 0; k < sizeof types / sizeof *types; k++)
        check_type(db, types[k], seed);
    sqlite3_close(db);
}

Test(schema_affinity, random_types_match_sqlite)
{
    static const char *const frags[] = {"INT",  "CHAR", "CLOB", "TEXT", "BLOB", "REAL", "FLOA",
                                        "DOUB", "PO",   "VAR",  "NUM",  "BIG",  "x",    "e",
                                        "R",    "IN",   "T",    "LOB",  "DOU",  "B",    "9"};
    uint64_t seed = seed_rng("random_types");
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    for (int round = 0; round < 1500; round++) {
        char type[256] = "";
        int nwords = 1 + (int)(rng_next() % 3);
        for (int w = 0; w < nwords; w++) {
            char word[64] = "";
            int nf = 1 + (int)(rng_next() % 3);
            for (int f = 0; f < nf; f++)
                strcat(word, frags[rng_next() % (sizeof frags / sizeof *frags)]);
            if (word[0] == '9')
                word[0] = '_';
            for (char *s = word; *s; s++)
                if (rng_next() % 2)
                    *s = (char)tolower((unsigned char)*s);
            int quote = (int)(rng_next() % 6);
            if (w)
                strcat(type, rng_next() % 4 ? " " : "  ");
            if (quote == 0)
                snprintf(type + strlen(type), sizeof type - strlen(type), "'%s'", word);
            else if (quote == 1)
                snprintf(type + strlen(type), sizeof type - strlen(type), "\"%s\"", word);
            else
                strcat(type, word);
        }
        if (rng_next() % 4 == 0)
            strcat(type, rng_next() % 2 ? "(10)" : " ( 5 , -2 )");
        check_type(db, type, seed);
    }
    sqlite3_close(db);
}

Test(schema_affinity, strict_types_match_sqlite)
{
    static const char *const types[] = {
        "INT",    "integer",         "Real",    "TEXT",   "blob",    "any",
        "ANY",    "'text'",          "\"INT\"", "[ANY]",  "INT(10)", "VARCHAR",
        "DOUBLE", "INTEGER /* c */", "",        "int key"};
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    for (size_t k = 0; k < sizeof types / sizeof *types; k++) {
        char sql[256], err[256];
        sch_table t;
        sqlite3_exec(db, "DROP TABLE IF EXISTS t", NULL, NULL, NULL);
        snprintf(sql, sizeof sql, "CREATE TABLE t(c %s) STRICT", types[k]);
        int ours = sch_parse_table(&t, sql, err, sizeof err);
        int theirs = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
        cr_assert_eq(ours, theirs, "[%s]: folio %s, sqlite %s", sql, ours ? err : "accepts",
                     sqlite3_errmsg(db));
        if (ours < 0) {
            if (strcmp(sqlite3_errmsg(db), "not an error") != 0)
                cr_assert_str_eq(err, sqlite3_errmsg(db));
            continue;
        }
        cr_assert(t.strict);
        /* '12' into each strict type: INTEGER -> integer, REAL -> real, TEXT and
         * ANY keep text, BLOB refuses it. */
        const char *want = NULL;
        switch (t.cols[0].strict_type) {
        case SCH_STRICT_INTEGER:
            want = "integer";
            cr_assert_eq(t.cols[0].affinity, SCH_AFF_INTEGER);
            break;
        case SCH_STRICT_REAL:
            want = "real";
            cr_assert_eq(t.cols[0].affinity, SCH_AFF_REAL);
            break;
        case SCH_STRICT_TEXT:
            want = "text";
            cr_assert_eq(t.cols[0].affinity, SCH_AFF_TEXT);
            break;
        case SCH_STRICT_ANY:
            want = "text";
            cr_assert_eq(t.cols[0].affinity, SCH_AFF_BLOB);
            break;
        case SCH_STRICT_BLOB:
            want = "error";
            cr_assert_eq(t.cols[0].affinity, SCH_AFF_BLOB);
            break;
        default:
            cr_assert_fail("[%s]: no strict type", sql);
        }
        sqlite3_stmt *st;
        const char *got = "error";
        if (sqlite3_exec(db, "INSERT INTO t VALUES('12')", NULL, NULL, NULL) == SQLITE_OK) {
            cr_assert_eq(sqlite3_prepare_v2(db, "SELECT typeof(c) FROM t", -1, &st, NULL),
                         SQLITE_OK);
            cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
            got = strcmp((const char *)sqlite3_column_text(st, 0), "integer") == 0 ? "integer"
                  : strcmp((const char *)sqlite3_column_text(st, 0), "real") == 0  ? "real"
                                                                                   : "text";
            sqlite3_finalize(st);
        }
        cr_assert_str_eq(got, want, "[%s]", sql);
        sch_table_free(&t);
    }
    sqlite3_close(db);
}

Test(schema_affinity, non_strict_table_has_no_strict_type)
{
    sch_table t;
    char err[128];
    cr_assert_eq(sch_parse_table(&t, "CREATE TABLE t(a ANY, b INT)", err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(t.cols[0].strict_type, SCH_STRICT_NONE);
    cr_assert_eq(t.cols[0].affinity, SCH_AFF_NUMERIC);
    cr_assert_eq(t.cols[1].affinity, SCH_AFF_INTEGER);
    sch_table_free(&t);
}
