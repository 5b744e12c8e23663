/*
 * Differential tests of src/expr against libsqlite3: random expressions over
 * every operator, CAST, COLLATE, CASE, IN, BETWEEN, LIKE/GLOB and the core
 * functions, nested, over rows of values of every storage class stored in
 * columns of every affinity (tests/support/expr_diff.c); each expression is
 * evaluated by "SELECT <expr> FROM t" in libsqlite3 and by ex_eval, and the
 * results must be the same storage class and value (reals bit for bit), or
 * an error in both. The seed is printed (seed=N) and FOLIO_SEED=N replays
 * it; FOLIO_SOAK=1 runs ten times more expressions.
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <folio.h>

#include "expr_diff.h"

/* ---- The generator --------------------------------------------------------------- */

typedef struct gen {
    uint64_t *rng;
    char *buf;
    size_t n, cap;
} gen;

static void put(gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(g->buf + g->n, g->cap - g->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        g->n += (size_t)k < g->cap - g->n ? (size_t)k : g->cap - g->n - 1;
}

static int pick(gen *g, int n)
{
    return xd_pick(g->rng, n);
}

#define ONE_OF(g, arr) (arr)[pick((g), (int)(sizeof(arr) / sizeof((arr)[0])))]

static const char *const int_literals[] = {"0",
                                           "1",
                                           "2",
                                           "3",
                                           "-1",
                                           "10",
                                           "64",
                                           "63",
                                           "255",
                                           "1000",
                                           "007",
                                           "9223372036854775807",
                                           "9223372036854775808",
                                           "-9223372036854775808",
                                           "18446744073709551616",
                                           "0x10",
                                           "0xff",
                                           "0x7fffffffffffffff",
                                           "0xffffffffffffffff",
                                           "0x8000000000000000",
                                           "4503599627370496",
                                           "2147483648",
                                           "99999999999999999999"};

static const char *const real_literals[] = {"1.5",
                                            "0.0",
                                            "-0.0",
                                            "0.5",
                                            "2.0",
                                            "1e308",
                                            "1e309",
                                            "-1e309",
                                            "1e-320",
                                            ".5",
                                            "5.",
                                            "1.0e+20",
                                            "123456789012345678901234567890.0",
                                            "0.1",
                                            "3.25e2",
                                            "1e15",
                                            "1e16",
                                            "9.2233720368547758e18",
                                            "2.5e-5",
                                            "1E2",
                                            "0.30000000000000004"};

static const char *const text_literals[] = {"''",
                                            "' '",
                                            "'abc'",
                                            "'ABC'",
                                            "'Abc  '",
                                            "' 12 '",
                                            "'12abc'",
                                            "'1e5'",
                                            "'0x10'",
                                            "'-0'",
                                            "'1.5'",
                                            "'  -3.25e2 '",
                                            "'9223372036854775808'",
                                            "'9223372036854775807'",
                                            "'é'",
                                            "'ÉCOLE'",
                                            "'a%b_c'",
                                            "'%'",
                                            "'_'",
                                            "'[abc]'",
                                            "'true'",
                                            "'it''s'",
                                            "'1.0'",
                                            "'12'",
                                            "'0'",
                                            "'1e400'",
                                            "'.5'",
                                            "'+7'",
                                            "'abc '",
                                            "'x'",
                                            "'%a%'",
                                            "'a_c'",
                                            "'*b*'",
                                            "'[a-c]*'",
                                            "'[^x]?'",
                                            "'€'",
                                            "'1e'",
                                            "'-'",
                                            "' '"};

static const char *const blob_literals[] = {"x''",       "x'00'", "x'3132'", "X'FF00FF'",
                                            "x'616263'", "x'80'", "x'c3a9'", "x'312e35'"};

static const char *const columns[] = {"id",    "i",   "r",       "n",   "x",    "b",
                                      "a",     "c",   "d",       "v",   "t.i",  "t.x",
                                      "rowid", "oid", "_rowid_", "T.C", "\"x\""};

static void gen_expr(gen *g, int depth);

static void gen_leaf(gen *g)
{
    switch (pick(g, 9)) {
    case 0:
    case 1:
    case 2:
        put(g, "%s", ONE_OF(g, columns));
        break;
    case 3:
        put(g, "%s", ONE_OF(g, int_literals));
        break;
    case 4:
        put(g, "%s", ONE_OF(g, real_literals));
        break;
    case 5:
    case 6:
        put(g, "%s", ONE_OF(g, text_literals));
        break;
    case 7:
        put(g, "%s", ONE_OF(g, blob_literals));
        break;
    default: {
        static const char *const k[] = {"NULL", "TRUE", "FALSE", "null", "true"};
        put(g, "%s", ONE_OF(g, k));
        break;
    }
    }
}

/* An operand: parenthesized most of the time, bare sometimes (so that
 * precedence is exercised too). */
static void gen_operand(gen *g, int depth)
{
    if (pick(g, 4) == 0) {
        gen_expr(g, depth);
    } else {
        put(g, "(");
        gen_expr(g, depth);
        put(g, ")");
    }
}

static void gen_list(gen *g, int depth, int n)
{
    for (int k = 0; k < n; k++) {
        if (k)
            put(g, ", ");
        gen_expr(g, depth);
    }
}

/* printf(): pieces of format, each with the arguments it takes. */
static void gen_printf(gen *g, int depth)
{
    static const char *const pieces[] = {
        "%d",   "%5.2f", "%-8s",   "%q",     "%Q",    "%w",    "%x",     "%#X",  "%o",   "%e",
        "%.3E", "%g",    "%G",     "%!.15g", "%c",    "%,d",   "%+d",    "% d",  "%05d", "%i",
        "%u",   "%r",    "%p",     "%%",     "%.20e", "%!.3s", "%10.4s", "%n",   "%z",   "%s",
        "%#o",  "%-+6d", "%.0f",   "%#g",    "%!g",   "%.40f", "%08.3f", "%lld", "%.3c", "%5c",
        "%!5s", "%.10g", "%!.20g", "%f",     "%+.2e", "%#x",   "%#.3x",  "%-5%", "%",    "%T"};
    int npieces = 1 + pick(g, 3);
    char fmt[256] = "";
    int nargs = 0;
    char argtext[8][8];
    int literal_arg[16] = {0};
    for (int k = 0; k < npieces; k++) {
        if (pick(g, 5) == 0) {
            /* '*' width or precision, from a literal argument. */
            int w = pick(g, 12) - 4;
            snprintf(argtext[nargs % 8], sizeof argtext[0], "%d", w);
            literal_arg[nargs] = 1 + nargs % 8;
            nargs++;
            strcat(fmt, pick(g, 2) ? "%*d" : "%.*f");
            nargs++;
        } else {
            const char *p = ONE_OF(g, pieces);
            strcat(fmt, p);
            if (strcmp(p, "%%") && strcmp(p, "%n") && strcmp(p, "%-5%") && strcmp(p, "%") &&
                strcmp(p, "%T"))
                nargs++;
        }
        if (pick(g, 2))
            strcat(fmt, pick(g, 2) ? " " : "ab|");
    }
    put(g, "%s('%s'", pick(g, 2) ? "printf" : "format", fmt);
    if (pick(g, 8) == 0)
        nargs += pick(g, 3) - 1; /* too few or too many arguments */
    for (int k = 0; k < nargs && k < 16; k++) {
        put(g, ", ");
        if (literal_arg[k])
            put(g, "%s", argtext[literal_arg[k] - 1]);
        else
            gen_expr(g, depth);
    }
    put(g, ")");
}

static void gen_function(gen *g, int depth)
{
    static const struct {
        const char *name;
        int min, max;
    } fns[] = {{"abs", 1, 1},    {"char", 0, 3},    {"coalesce", 2, 4}, {"glob", 2, 2},
               {"hex", 1, 1},    {"ifnull", 2, 2},  {"iif", 3, 3},      {"instr", 2, 2},
               {"length", 1, 1}, {"like", 2, 3},    {"likely", 1, 1},   {"lower", 1, 1},
               {"ltrim", 1, 2},  {"max", 2, 4},     {"min", 2, 4},      {"nullif", 2, 2},
               {"quote", 1, 1},  {"replace", 3, 3}, {"round", 1, 2},    {"rtrim", 1, 2},
               {"sign", 1, 1},   {"soundex", 1, 1}, {"substr", 2, 3},   {"substring", 2, 3},
               {"trim", 1, 2},   {"typeof", 1, 1},  {"unicode", 1, 1},  {"unlikely", 1, 1},
               {"upper", 1, 1},  {"ceil", 1, 1},    {"floor", 1, 1},    {"trunc", 1, 1},
               {"ln", 1, 1},     {"log", 1, 2},     {"log10", 1, 1},    {"log2", 1, 1},
               {"exp", 1, 1},    {"pow", 2, 2},     {"power", 2, 2},    {"mod", 2, 2},
               {"sqrt", 1, 1},   {"sin", 1, 1},     {"cos", 1, 1},      {"tan", 1, 1},
               {"atan2", 2, 2},  {"degrees", 1, 1}, {"radians", 1, 1},  {"pi", 0, 0},
               {"acos", 1, 1},   {"asinh", 1, 1},   {"ceiling", 1, 1},  {"subtype", 1, 1},
               {"ABS", 1, 1},    {"Upper", 1, 1}};
    int k = pick(g, (int)(sizeof fns / sizeof fns[0]));
    int n = fns[k].min + pick(g, fns[k].max - fns[k].min + 1);
    put(g, "%s(", fns[k].name);
    gen_list(g, depth, n);
    put(g, ")");
}

static void gen_expr(gen *g, int depth)
{
    if (depth <= 0 || pick(g, 7) == 0) {
        gen_leaf(g);
        return;
    }
    depth--;
    switch (pick(g, 22)) {
    case 0: {
        static const char *const u[] = {"-", "+", "~", "NOT ", "- ", "-"};
        put(g, "%s", ONE_OF(g, u));
        gen_operand(g, depth);
        break;
    }
    case 1:
    case 2:
    case 3:
    case 4: {
        static const char *const ops[] = {"||",
                                          "*",
                                          "/",
                                          "%",
                                          "+",
                                          "-",
                                          "<<",
                                          ">>",
                                          "&",
                                          "|",
                                          "<",
                                          "<=",
                                          ">",
                                          ">=",
                                          "=",
                                          "==",
                                          "!=",
                                          "<>",
                                          "IS",
                                          "IS NOT",
                                          "AND",
                                          "OR",
                                          "IS DISTINCT FROM",
                                          "IS NOT DISTINCT FROM"};
        gen_operand(g, depth);
        put(g, " %s ", ONE_OF(g, ops));
        gen_operand(g, depth);
        break;
    }
    case 5: {
        static const char *const post[] = {" ISNULL",   " NOTNULL",     " NOT NULL",
                                           " IS NULL",  " IS NOT NULL", " IS TRUE",
                                           " IS FALSE", " IS NOT TRUE", " IS NOT FALSE"};
        gen_operand(g, depth);
        put(g, "%s", ONE_OF(g, post));
        break;
    }
    case 6: {
        static const char *const colls[] = {"nocase", "binary", "rtrim", "NOCASE", "\"RTRIM\""};
        gen_operand(g, depth);
        put(g, " COLLATE %s", ONE_OF(g, colls));
        break;
    }
    case 7: {
        static const char *const types[] = {
            "INTEGER", "INT",     "REAL",         "FLOAT", "TEXT",       "VARCHAR(10)",
            "BLOB",    "NUMERIC", "DECIMAL(5,2)", "foo",   "\"BIGINT\"", "double precision",
            "CHARINT", "none"};
        put(g, "CAST(");
        gen_expr(g, depth);
        put(g, " AS %s)", ONE_OF(g, types));
        break;
    }
    case 8:
        gen_operand(g, depth);
        put(g, pick(g, 3) ? " BETWEEN " : " NOT BETWEEN ");
        gen_operand(g, depth);
        put(g, " AND ");
        gen_operand(g, depth);
        break;
    case 9:
    case 10:
        gen_operand(g, depth);
        put(g, pick(g, 3) ? " IN (" : " NOT IN (");
        gen_list(g, depth, pick(g, 5));
        put(g, ")");
        break;
    case 11: {
        static const char *const likes[] = {" LIKE ", " NOT LIKE ", " GLOB ", " NOT GLOB ",
                                            " like "};
        const char *op = ONE_OF(g, likes);
        gen_operand(g, depth);
        put(g, "%s", op);
        gen_operand(g, depth);
        if (strstr(op, "LIKE") && pick(g, 3) == 0) {
            static const char *const esc[] = {"'\\'", "'%'", "'_'",  "'x'",
                                              "'ab'", "''",  "NULL", "'é'"};
            put(g, " ESCAPE %s", ONE_OF(g, esc));
        }
        break;
    }
    case 12:
    case 13: {
        int base = pick(g, 2), n = 1 + pick(g, 3);
        put(g, "CASE ");
        if (base) {
            gen_expr(g, depth);
            put(g, " ");
        }
        for (int k = 0; k < n; k++) {
            put(g, "WHEN ");
            gen_expr(g, depth);
            put(g, " THEN ");
            gen_expr(g, depth);
            put(g, " ");
        }
        if (pick(g, 2)) {
            put(g, "ELSE ");
            gen_expr(g, depth);
            put(g, " ");
        }
        put(g, "END");
        break;
    }
    case 14:
        gen_printf(g, depth);
        break;
    case 15:
        put(g, "zeroblob(%d)", pick(g, 5) - 1);
        break;
    default:
        gen_function(g, depth);
        break;
    }
}

/* ---- Running ---------------------------------------------------------------------- */

/* What run_random compares: values, or decisions of conditions. */
enum { RUN_VALUES, RUN_CONDITIONS };

/* Evaluate many random expressions; returns the number of differences. */
static int run_random_as(uint64_t seed, int count, int depth, int what)
{
    xd_fixture f;
    xd_open(&f, seed, 24);
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 1;
    char text[16384];
    int differences = 0;
    for (int k = 0; k < count; k++) {
        gen g = {&rng, text, 0, sizeof text};
        gen_expr(&g, 1 + xd_pick(&rng, depth));
        char why[1024];
        /* Conditions alternate between a WHERE and a CHECK. */
        unsigned flags = (what == RUN_CONDITIONS && k % 2) ? EX_CHECK : EX_FILTER;
        int r = what == RUN_VALUES ? xd_compare(&f, text, flags, why, sizeof why)
                                   : xd_compare_cond(&f, text, flags, why, sizeof why);
        if (r == XD_DIFFERENT) {
            if (differences < 25)
                fprintf(stderr, "DIFFERENT #%d: %s\n  %s\n", k, text, why);
            differences++;
        }
    }
    fprintf(stderr,
            "random expressions: %d, values compared: %ld, both failed: %ld, skipped: %ld, "
            "different: %d\n",
            count, f.compared, f.both_error, f.skipped, differences);
    cr_assert(f.compared > count, "too few values compared: %ld", f.compared);
    xd_close(&f);
    return differences;
}

static int run_random(uint64_t seed, int count, int depth)
{
    return run_random_as(seed, count, depth, RUN_VALUES);
}

Test(expr_diff, random_expressions, .timeout = 600)
{
    uint64_t seed = xd_seed(20261207);
    int count = xd_soak() ? 40000 : 4000;
    int diff = run_random(seed, count, 4);
    cr_assert_eq(diff, 0, "%d expressions differ from libsqlite3 (seed=%" PRIu64 ")", diff, seed);
}

Test(expr_diff, random_deep_expressions, .timeout = 600)
{
    uint64_t seed = xd_seed(7) ^ 0x5555;
    int count = xd_soak() ? 5000 : 500;
    int diff = run_random(seed, count, 7);
    cr_assert_eq(diff, 0, "%d expressions differ from libsqlite3 (seed=%" PRIu64 ")", diff, seed);
}

/* Each expression of the list, over the fixture's rows, against libsqlite3. */
static void check_all(const char *const *exprs, size_t n)
{
    xd_fixture f;
    xd_open(&f, 99, 40);
    int differences = 0;
    for (size_t k = 0; k < n; k++) {
        char why[1024];
        if (xd_compare(&f, exprs[k], EX_FILTER, why, sizeof why) == XD_DIFFERENT) {
            fprintf(stderr, "DIFFERENT: %s\n  %s\n", exprs[k], why);
            differences++;
        }
    }
    cr_assert(f.compared > 0);
    xd_close(&f);
    cr_assert_eq(differences, 0, "%d of %zu expressions differ from libsqlite3", differences, n);
}

#define CHECK_ALL(list) check_all(list, sizeof(list) / sizeof(list[0]))

Test(expr_diff, literals)
{
    static const char *const e[] = {"1",
                                    "-1",
                                    "9223372036854775807",
                                    "-9223372036854775808",
                                    "9223372036854775808",
                                    "- 9223372036854775808",
                                    "-(9223372036854775808)",
                                    "-(-9223372036854775808)",
                                    "-((9223372036854775808))",
                                    "- -9223372036854775808",
                                    "0x7fffffffffffffff",
                                    "0xffffffffffffffff",
                                    "0x8000000000000000",
                                    "-0x7fffffffffffffff",
                                    "0xFFFFFFFFFFFFFFFFF",
                                    "-0x8000000000000000",
                                    "99999999999999999999",
                                    "1.5",
                                    "-1.5",
                                    "1e308",
                                    "1e309",
                                    "-1e309",
                                    "1e-400",
                                    "-0.0",
                                    "0.0",
                                    ".5",
                                    "5.",
                                    "1E+2",
                                    "'it''s'",
                                    "x'00ff'",
                                    "X''",
                                    "NULL",
                                    "TRUE",
                                    "FALSE",
                                    "true + 1",
                                    "typeof(TRUE)",
                                    "\"x\"",
                                    "\"nosuch\"",
                                    "'a' 'b'",
                                    "1 2",
                                    "1e",
                                    "0x",
                                    "12abc",
                                    "x'abc'",
                                    "'unterminated",
                                    "123456789012345678901234567890.0",
                                    "0.30000000000000004",
                                    "4.9406564584124654e-324",
                                    "2.2250738585072014e-308",
                                    "1.7976931348623157e308",
                                    "18446744073709551615",
                                    "-18446744073709551616"};
    CHECK_ALL(e);
}

Test(expr_diff, arithmetic)
{
    static const char *const e[] = {"i + 1",
                                    "i - 1",
                                    "i * 2",
                                    "i / 2",
                                    "i % 3",
                                    "r + i",
                                    "x + 0",
                                    "b + 0",
                                    "n * 1.0",
                                    "9223372036854775807 + 1",
                                    "-9223372036854775808 - 1",
                                    "9223372036854775807 * 2",
                                    "-9223372036854775808 / -1",
                                    "-9223372036854775808 % -1",
                                    "5 / 0",
                                    "5 % 0",
                                    "5.0 / 0",
                                    "5 / 0.0",
                                    "5.5 % 2",
                                    "-5.5 % 2.7",
                                    "7 % -1.5",
                                    "'1e3' % 7",
                                    "'5.9' % 2",
                                    "5 % 0.5",
                                    "1e308 * 10",
                                    "1e308 * 10 - 1e308 * 10",
                                    "-i",
                                    "-x",
                                    "-b",
                                    "-'abc'",
                                    "-'1.5'",
                                    "-NULL",
                                    "+x",
                                    "+'abc'",
                                    "'12abc' + 1",
                                    "' 12 ' + 1",
                                    "'0x10' + 0",
                                    "x'3132' + 0",
                                    "'' + 1",
                                    "'1e5' + 0",
                                    "'-' + 1",
                                    "'9223372036854775807' + 1",
                                    "'9223372036854775808' + 0",
                                    "'99999999999999999999' + 0",
                                    "'  1.5e1  ' * 2",
                                    "'1.5e' + 0",
                                    "'1e' + 0",
                                    "'.' + 0",
                                    "'+.5' + 0",
                                    "1 / 3",
                                    "-7 / 2",
                                    "-7 % 3",
                                    "7 % -3",
                                    "1.0 / 3",
                                    "r / 0",
                                    "i / 0",
                                    "0.0 * -1",
                                    "-0.0 + 0",
                                    "-(0.0)",
                                    "-(-0.0)",
                                    "i * i * i * i"};
    CHECK_ALL(e);
}

Test(expr_diff, bits_and_concat)
{
    static const char *const e[] = {"1 << 64",
                                    "1 << 63",
                                    "-1 >> 70",
                                    "-1 >> 63",
                                    "1 << -1",
                                    "8 >> -2",
                                    "8 << -70",
                                    "i << 2",
                                    "x << 1",
                                    "'12abc' & 7",
                                    "~'12abc'",
                                    "~i",
                                    "~NULL",
                                    "i | r",
                                    "1e300 & 1",
                                    "-1e300 | 0",
                                    "i || x",
                                    "r || ''",
                                    "1.0 || ''",
                                    "1e20 || ''",
                                    "1e15 || ''",
                                    "1e14 || ''",
                                    "0.1 || ''",
                                    "-0.0 || ''",
                                    "1e-5 || ''",
                                    "1e-4 || ''",
                                    "123456789012345.0 || ''",
                                    "b || x",
                                    "NULL || 'a'",
                                    "x'41' || x'42'",
                                    "typeof(x'41' || x'42')",
                                    "1e308 * 10 || ''",
                                    "-1e308 * 10 || ''",
                                    "3.141592653589793 || ''",
                                    "(1/3.0) || ''",
                                    "9.2233720368547758e18 || ''",
                                    "2.5e-5 || ''",
                                    "1.0e+100 || ''",
                                    "4.9406564584124654e-324 || ''"};
    CHECK_ALL(e);
}

Test(expr_diff, comparisons_and_affinity)
{
    static const char *const e[] = {"i = '1'",
                                    "x = 1",
                                    "n = '3'",
                                    "r = '2.5'",
                                    "b = 1",
                                    "a = '1'",
                                    "i = x",
                                    "x = n",
                                    "c = 'ABC'",
                                    "c = 'abc'",
                                    "'ABC' = c",
                                    "d = 'abc   '",
                                    "x = c",
                                    "c = x",
                                    "x COLLATE nocase = 'ABC'",
                                    "x = 'ABC' COLLATE nocase",
                                    "(x COLLATE rtrim) = (c COLLATE nocase)",
                                    "+i = '1'",
                                    "(i) = '1'",
                                    "likely(i) = '1'",
                                    "CAST(x AS INTEGER) = '1'",
                                    "CAST(i AS TEXT) = 1",
                                    "1 = '1'",
                                    "'1' = 1",
                                    "1 < 'a'",
                                    "'a' < x'00'",
                                    "NULL = NULL",
                                    "NULL IS NULL",
                                    "1 IS NOT 2",
                                    "i IS x",
                                    "x IS NOT NULL",
                                    "2 IS TRUE",
                                    "NULL IS NOT FALSE",
                                    "'abc' IS FALSE",
                                    "'0.5' IS TRUE",
                                    "i IS TRUE",
                                    "x IS NOT TRUE",
                                    "1 IS DISTINCT FROM NULL",
                                    "NULL IS NOT DISTINCT FROM NULL",
                                    "1 = 1.0",
                                    "9223372036854775807 = 9223372036854775807.0",
                                    "9007199254740993 = 9007199254740992.0",
                                    "9007199254740993 > 9007199254740992.0",
                                    "i < r",
                                    "x > b",
                                    "v = 'ABC'",
                                    "v = '3'",
                                    "v = 3",
                                    "n = x",
                                    "a = b",
                                    "a = x",
                                    "i BETWEEN 1 AND 10",
                                    "x BETWEEN '1' AND '9'",
                                    "c BETWEEN 'a' AND 'b'",
                                    "x COLLATE nocase BETWEEN 1 AND 1",
                                    "i NOT BETWEEN NULL AND 2",
                                    "NULL BETWEEN 1 AND 2",
                                    "2 BETWEEN 1 = 1 AND 3",
                                    "1 BETWEEN 1 IS 1 AND 2",
                                    "5 BETWEEN 1 AND 10 BETWEEN 0 AND 1",
                                    "1 BETWEEN 0 OR 1 AND 2",
                                    "CASE x WHEN 1 THEN 'one' WHEN '1' THEN 'text' ELSE 'no' END",
                                    "CASE c WHEN 'abc' THEN 1 ELSE 0 END",
                                    "CASE WHEN i THEN 'y' ELSE 'n' END",
                                    "CASE WHEN x THEN 'y' END",
                                    "CASE NULL WHEN NULL THEN 1 ELSE 2 END",
                                    "CASE i COLLATE nocase WHEN 1 THEN 'y' ELSE 'n' END",
                                    "CASE 1 WHEN 1 THEN NULL END",
                                    "x > 'a' AND x < 'z'",
                                    "x || '' = c",
                                    "i = (i)",
                                    "'a' < 'B'",
                                    "'a' COLLATE nocase < 'B'",
                                    "x'00' < x'0000'",
                                    "'' < x''",
                                    "-0.0 = 0",
                                    "1e309 = 1e309",
                                    "-1e309 < -9223372036854775808"};
    CHECK_ALL(e);
}

Test(expr_diff, logic_and_in)
{
    static const char *const e[] = {"1 AND NULL",
                                    "0 AND NULL",
                                    "NULL OR 1",
                                    "NULL OR 0",
                                    "NOT NULL",
                                    "NOT 'abc'",
                                    "NOT '1x'",
                                    "'0.0' AND 1",
                                    "x AND i",
                                    "NOT i OR x",
                                    "i AND x OR r",
                                    "NOT NOT x",
                                    "0 AND abs(-9223372036854775808)",
                                    "x IN (1, 2)",
                                    "x IN (1)",
                                    "x IN (1, 2, 3)",
                                    "1 IN (x)",
                                    "1 IN (x, 2)",
                                    "1 IN (x, 2, 3)",
                                    "i IN ()",
                                    "NULL IN ()",
                                    "NULL NOT IN ()",
                                    "NULL IN (1)",
                                    "1 IN (NULL)",
                                    "1 IN (NULL, 1)",
                                    "2 NOT IN (NULL, 1)",
                                    "c IN ('ABC', 'x')",
                                    "x COLLATE nocase IN ('ABC')",
                                    "x IN ('ABC' COLLATE nocase)",
                                    "x IN ('ABC' COLLATE nocase, 'q')",
                                    "i IN ('1', '2', '3')",
                                    "x IN (1.0, 2, 3)",
                                    "r IN (2, 3, 2.5)",
                                    "b IN (x'3132', 1)",
                                    "(i IN (1,2)) = 1",
                                    "i NOT IN (i)",
                                    "x IN (x, NULL)",
                                    "NOT x IN (1, NULL)",
                                    "i IN (1, 2) AND x IN ('a', 'b')",
                                    "v IN ('abc', 3)",
                                    "n IN ('3', 4)",
                                    "+n IN ('3')",
                                    "x IN (+1, 2)",
                                    "i IN (i+0, 'a', 'b')"};
    CHECK_ALL(e);
}

Test(expr_diff, casts)
{
    static const char *const e[] = {"CAST(1.0 AS NUMERIC)",
                                    "CAST('1.0' AS NUMERIC)",
                                    "CAST(x'3132' AS INTEGER)",
                                    "CAST(1e300 AS INTEGER)",
                                    "CAST(-1e300 AS INTEGER)",
                                    "CAST('-0.0' AS NUMERIC)",
                                    "CAST(' 12 ' AS INTEGER)",
                                    "CAST('1e5' AS INTEGER)",
                                    "CAST('1e5' AS REAL)",
                                    "CAST('1e5' AS NUMERIC)",
                                    "CAST('12abc' AS NUMERIC)",
                                    "CAST('abc' AS NUMERIC)",
                                    "CAST('9223372036854775808' AS NUMERIC)",
                                    "CAST('9223372036854775807' AS NUMERIC)",
                                    "CAST('99999999999999999999' AS INTEGER)",
                                    "CAST('-99999999999999999999' AS INTEGER)",
                                    "CAST(x AS TEXT)",
                                    "CAST(i AS BLOB)",
                                    "CAST(r AS TEXT)",
                                    "CAST(b AS TEXT)",
                                    "CAST(x AS BLOB)",
                                    "CAST(NULL AS TEXT)",
                                    "CAST(x AS foo)",
                                    "CAST(x AS VARCHAR(10))",
                                    "CAST(x AS \"INT\")",
                                    "CAST(x AS 'text')",
                                    "CAST(x AS double precision)",
                                    "CAST(i AS REAL)",
                                    "CAST(9223372036854775807 AS REAL)",
                                    "CAST(r AS INTEGER)",
                                    "CAST(2.5 AS INTEGER)",
                                    "CAST(-2.5 AS INTEGER)",
                                    "CAST('1.9' AS INTEGER)",
                                    "CAST('0x10' AS INTEGER)",
                                    "CAST(4.9406564584124654e-324 AS NUMERIC)",
                                    "CAST('4503599627370497' AS NUMERIC)",
                                    "CAST('4503599627370497.0' AS NUMERIC)",
                                    "CAST('2251799813685248.0' AS NUMERIC)",
                                    "CAST('-2251799813685248.0' AS NUMERIC)",
                                    "CAST(x AS DECIMAL(5, 2))",
                                    "CAST(x AS INT(+5))",
                                    "CAST(1 AS CHARINT)",
                                    "CAST(CAST(x AS BLOB) AS TEXT) = x",
                                    "typeof(CAST(x AS BLOB))",
                                    "CAST(1e20 AS TEXT)"};
    CHECK_ALL(e);
}

Test(expr_diff, like_and_glob)
{
    static const char *const e[] = {"'abc' LIKE 'ABC'",
                                    "'abc' LIKE 'a%'",
                                    "'abc' LIKE '_b_'",
                                    "'a%c' LIKE 'a\\%c' ESCAPE '\\'",
                                    "'abc' LIKE 'a\\%c' ESCAPE '\\'",
                                    "'a_c' LIKE 'a#_c' ESCAPE '#'",
                                    "'abc' LIKE 'abc' ESCAPE 'ab'",
                                    "'abc' LIKE 'abc' ESCAPE ''",
                                    "'abc' LIKE 'abc' ESCAPE NULL",
                                    "'é' LIKE 'É'",
                                    "'É' LIKE '_'",
                                    "x LIKE '%'",
                                    "c LIKE 'A%'",
                                    "i LIKE 1",
                                    "1.5 LIKE '1._'",
                                    "x'616263' LIKE 'abc'",
                                    "'abc' NOT LIKE 'a%'",
                                    "'abc' GLOB 'a*'",
                                    "'abc' GLOB 'A*'",
                                    "'abc' GLOB '?b?'",
                                    "'abc' GLOB '[a-c]*'",
                                    "'abc' GLOB '[^a]*'",
                                    "'a]c' GLOB '*[]]*'",
                                    "'abc' GLOB '*[c]'",
                                    "'-' GLOB '[a-]'",
                                    "'b' GLOB '[a-]'",
                                    "'abc' GLOB 'a[b'",
                                    "'x' GLOB '[x-a]'",
                                    "'aXbXc' LIKE '%x%x%'",
                                    "'aaa' LIKE '%a%a%a%a%'",
                                    "'mississippi' LIKE '%iss%ipp%'",
                                    "'mississippi' GLOB '*ss*[p]*i'",
                                    "NULL LIKE 'a'",
                                    "'a' LIKE NULL",
                                    "like('a%', 'abc')",
                                    "like('a%', 'abc', '%')",
                                    "glob('*', x)",
                                    "'a' LIKE 'a' ESCAPE 'a'",
                                    "'%' LIKE '%%' ESCAPE '%'",
                                    "'_' LIKE '__' ESCAPE '_'",
                                    "'ab' LIKE 'a_' ESCAPE '_'",
                                    "x LIKE x",
                                    "c LIKE x",
                                    "'abc' LIKE '%C'",
                                    "'€x' LIKE '_x'",
                                    "'€x' GLOB '?x'",
                                    "'a\\' LIKE 'a\\' ESCAPE '\\'",
                                    "'ABC' LIKE 'a%' = 1",
                                    "'abc' LIKE 'b' ESCAPE 'c' || ''"};
    CHECK_ALL(e);
}

Test(expr_diff, functions)
{
    static const char *const e[] = {"abs(-3)",
                                    "abs('-3')",
                                    "abs(x'2d33')",
                                    "abs(-9223372036854775808)",
                                    "abs(NULL)",
                                    "abs(-0.0)",
                                    "abs(i)",
                                    "char(65, 66)",
                                    "char(65, 0x10ffff + 1, -1)",
                                    "char()",
                                    "char(0xd800)",
                                    "char(NULL, 65)",
                                    "coalesce(NULL, x, 1)",
                                    "ifnull(NULL, NULL)",
                                    "iif(i, 'y', 'n')",
                                    "iif(NULL, 1, 2)",
                                    "hex(12)",
                                    "hex(x)",
                                    "hex(NULL)",
                                    "hex(1.5)",
                                    "instr('abc', 'c')",
                                    "instr('abc', '')",
                                    "instr('', 'a')",
                                    "instr(x'010203', x'03')",
                                    "instr('€bc', 'c')",
                                    "instr(x, i)",
                                    "instr(12345, 34)",
                                    "length(123.0)",
                                    "length(x'00ff')",
                                    "length('é')",
                                    "length(x)",
                                    "length(NULL)",
                                    "length(-0.0)",
                                    "lower('ÀBC')",
                                    "upper('àbc')",
                                    "upper(x)",
                                    "lower(b)",
                                    "ltrim('  a  ')",
                                    "rtrim('  a  ')",
                                    "trim('  a  ')",
                                    "trim('xxaxx', 'x')",
                                    "trim('abcba', 'ab')",
                                    "trim(x, '')",
                                    "trim('ééaé', 'é')",
                                    "ltrim(123, '1')",
                                    "max(1, 2)",
                                    "min(1, 2)",
                                    "max(1, 1.0)",
                                    "min(1, 1.0)",
                                    "max('a', 'B')",
                                    "max('a' COLLATE nocase, 'A')",
                                    "min('a' COLLATE nocase, 'A')",
                                    "max(c, 'ABC')",
                                    "min(c, 'ABC')",
                                    "max(NULL, 1)",
                                    "max(x, i, r)",
                                    "min(b, x)",
                                    "nullif(1, 1)",
                                    "nullif(1, '1')",
                                    "nullif(c, 'ABC')",
                                    "nullif(NULL, NULL)",
                                    "quote(1)",
                                    "quote(1.5)",
                                    "quote(-1.2345678901234567e-100)",
                                    "quote(1e100)",
                                    "quote('it''s')",
                                    "quote(x'00ff')",
                                    "quote(NULL)",
                                    "quote(x)",
                                    "quote(r)",
                                    "quote(0.1)",
                                    "quote(1.0/3)",
                                    "quote(1e300*10)",
                                    "replace('abc', 'b', 'xx')",
                                    "replace('abc', '', 'x')",
                                    "replace(123, '', 'x')",
                                    "replace(x, 'a', '')",
                                    "replace('aaa', 'aa', 'b')",
                                    "replace(NULL, 'a', 'b')",
                                    "replace('a', 'a', NULL)",
                                    "round(2.5)",
                                    "round(-2.5)",
                                    "round(1.005, 2)",
                                    "round(1e20, 2)",
                                    "round('abc')",
                                    "round(2.675, 2)",
                                    "round(r, 1)",
                                    "round(x, i)",
                                    "round(1.5, -1)",
                                    "round(1.23456789, 40)",
                                    "round(0.5)",
                                    "round(-0.5)",
                                    "round(4503599627370495.5)",
                                    "round(123.456, 1)",
                                    "sign(-3)",
                                    "sign('-3x')",
                                    "sign(0.0)",
                                    "sign(x)",
                                    "soundex('Robert')",
                                    "soundex('Tymczak')",
                                    "soundex('')",
                                    "soundex(x)",
                                    "soundex('  pfister')",
                                    "soundex(12)",
                                    "substr('hello', 0, 2)",
                                    "substr('hello', -2)",
                                    "substr(x'010203', 2)",
                                    "substr('hello', 2, -1)",
                                    "substr('hello', -10, 3)",
                                    "substr('héllo', 2, 2)",
                                    "substr('hello', 4294967297)",
                                    "substr(x, i, r)",
                                    "substr(12345, 2, 2)",
                                    "substring('hello', 3)",
                                    "substr('hello', NULL)",
                                    "substr(b, -1)",
                                    "typeof(1)",
                                    "typeof(x)",
                                    "typeof(b)",
                                    "unicode('')",
                                    "unicode('é')",
                                    "unicode(x)",
                                    "unicode(x'80')",
                                    "zeroblob(3)",
                                    "zeroblob(-1)",
                                    "likely(x)",
                                    "unlikely(i)",
                                    "likelihood(x, 0.5)",
                                    "ceil('1.5')",
                                    "ceil(x'31')",
                                    "ceil(i)",
                                    "floor(-1.5)",
                                    "trunc(r)",
                                    "log(8, 2)",
                                    "log(2, 8)",
                                    "log(100)",
                                    "ln(0)",
                                    "ln(-1)",
                                    "log2(8)",
                                    "log10(x)",
                                    "sqrt(-1)",
                                    "sqrt(2)",
                                    "pow(2, 10)",
                                    "power(2, 0.5)",
                                    "mod(7, 3)",
                                    "mod(-7.5, 2)",
                                    "mod(1, 0)",
                                    "exp(1)",
                                    "exp(1000)",
                                    "pi()",
                                    "degrees(pi())",
                                    "radians(180)",
                                    "sin(1)",
                                    "cos(x)",
                                    "tan(r)",
                                    "atan2(1, 2)",
                                    "acos(2)",
                                    "asinh(1)",
                                    "subtype(x)",
                                    "ceiling(-0.5)",
                                    "ABS(-1)",
                                    "Upper('x')",
                                    "max(1, 2) + min(3, 4)",
                                    "typeof(max(1, 'a'))"};
    CHECK_ALL(e);
}

Test(expr_diff, printf_conversions)
{
    static const char *const e[] = {
        "printf('')",
        "printf('%n')",
        "printf('%c', NULL)",
        "printf(NULL)",
        "printf()",
        ("printf('%5.2f|%-8d|%+d|% d|%05d|%,d|%x|%#X|%#o|%e|%G|%g', 3.14159, 42, 5, 5, -42, "
         "1234567, 255, 255, 8, 12345.678, 0.00001234, 1e20)"),
        "printf('%r %r %r %r %r %r', 1, 2, 3, 11, 12, 23)",
        "printf('%q|%Q|%w|%Q', 'it''s', 'a', 'b\"c', NULL)",
        "printf('%.3s|%!.3s|%10s|%-10s|', 'abcdef', 'ééééé', 'x', 'y')",
        "printf('%T rest')",
        "printf('%5')",
        "printf('abc%')",
        "printf('%p', 255)",
        "printf('%.*f', 3, 2.5)",
        "printf('%*d', -5, 3)",
        "printf('%d %d', 1)",
        "printf('%s', 1.5)",
        "printf('%d', '12abc')",
        "printf('%f', 'x')",
        "printf('%.20f', 0.1)",
        "printf('%.40f', 1.0/3)",
        "printf('%e', 0)",
        "printf('%g', 1e-5)",
        "printf('%g', 123456789)",
        "printf('%#g', 1.0)",
        "printf('%!g', 1.0)",
        "printf('%!.15g', 0.1)",
        "printf('%.15g', 0.1)",
        "printf('%!.20e', 1.0/3)",
        "printf('%f', 1e308)",
        "printf('%e', 1e308 * 10)",
        "printf('%f', -1e308 * 10)",
        "printf('%+f', 1e308 * 10)",
        "printf('%10.3e', -1.5)",
        "printf('%-10.3e|', -1.5)",
        "printf('%010.3f', -1.5)",
        "printf('%,d', -1234567890123)",
        "printf('%,d', 123)",
        "printf('%d', -9223372036854775808)",
        "printf('%x', -1)",
        "printf('%o', -1)",
        "printf('%u', -1)",
        "printf('%c', 'é')",
        "printf('%.3c', 'ab')",
        "printf('%5c|', 'x')",
        "printf('%-5c|', 'x')",
        "printf('%.0f', 0.5)",
        "printf('%.0f', 1.5)",
        "printf('%.0f', 2.5)",
        "printf('%.2f', 1.005)",
        "printf('%.2f', 2.675)",
        "printf('%.1f', 0.05)",
        "printf('%.3g', 0.0001234)",
        "printf('%G', 1e-10)",
        "printf('%E', 123.0)",
        "printf('%s and %s', 'a')",
        "printf('%z', 'zz')",
        "printf('%w', 'a\"b')",
        "printf('%q', NULL)",
        "printf('%Q', '')",
        "printf('%10q|', 'it''s')",
        "printf('%!10s|', 'ééé')",
        "printf('%lld %ld %li', 1, 2, 3)",
        "printf('%#x %#o', 0, 0)",
        "printf('%.5d', 42)",
        "printf('%+.3d', 7)",
        "printf('%08.3d|', -7)",
        "printf('% 5d', 3)",
        "printf('%!.3f', 1.0)",
        "printf('%!f', 1.0)",
        "printf('%.30g', 0.1)",
        "printf('%.30e', 0.1)",
        "printf('%!.30e', 0.1)",
        "printf('%5%|')",
        "printf('%-5%|')",
        "printf('%y')",
        "printf('ab%yc', 1)",
        "printf('%S')",
        "printf('%d', 1e30)",
        "printf('%d', -1e30)",
        "format('%s-%s', x, i)",
        "printf('%5.1s|', 'abc')",
        "printf('%.*s', 2, 'abcdef')",
        "printf('%.*s', -2, 'abcdef')",
        "printf('%*.*f', 8, 2, 3.14159)",
        "printf(12)",
        "printf('%s', x'41424344')",
        "printf('%.0e', 12345)",
        "printf('%#.0e', 12345)",
        "printf('%#.0f', 12345)",
        "printf('%g', 100000)",
        "printf('%g', 1000000)",
        "printf('%g', 0.0001)",
        "printf('%.1g', 0.95)",
        "printf('%.2g', 99.5)"};
    CHECK_ALL(e);
}

Test(expr_diff, precedence)
{
    static const char *const e[] = {"1 + 2 * 3",
                                    "(1 + 2) * 3",
                                    "1 - 2 - 3",
                                    "2 * 3 % 4",
                                    "1 || 2 + 3",
                                    "1 + 2 || 3",
                                    "- 1 COLLATE nocase",
                                    "-x COLLATE nocase = 'A'",
                                    "NOT 1 = 2",
                                    "NOT 1 + 1",
                                    "1 = 1 = 1",
                                    "1 < 2 = 1",
                                    "1 = 0 < 1",
                                    "2 = 2 NOT NULL",
                                    "2 = 2 ISNULL",
                                    "NOT 0 NOT NULL",
                                    "1 BETWEEN 0 AND 2 AND 0",
                                    "1 BETWEEN NOT 0 AND 2",
                                    "'a' LIKE 'A' ESCAPE 'x' = 1",
                                    "1 IS NOT NULL = 1",
                                    "1 = 1 IS 1",
                                    "2 BETWEEN 1 AND 3 NOT NULL",
                                    "1 BETWEEN 0 AND 1 = 0",
                                    "NOT 1 BETWEEN 2 AND 3",
                                    "2 BETWEEN 1 NOT NULL AND 3",
                                    "1 BETWEEN 1 LIKE 1 AND 3",
                                    "'a' LIKE 'b' ESCAPE 'c' ESCAPE 'd'",
                                    "1 NOT NULL NOT NULL",
                                    "1 ISNULL ISNULL",
                                    "1 NOTNULL = 1",
                                    "1 COLLATE nocase COLLATE binary",
                                    "1 & 3 | 4",
                                    "1 | 3 & 4",
                                    "1 << 2 + 1",
                                    "~1 + 1",
                                    "- - 1",
                                    "NOT NOT 1",
                                    "- ~ 1",
                                    "1 + - 1",
                                    "1 - -1",
                                    "1 = - -1",
                                    "x = NOT 0",
                                    "1 + NOT 0",
                                    "NOT 0 AND 0",
                                    "0 OR 1 AND 0",
                                    "1 OR 0 = 0",
                                    "1 IS 1 = 1",
                                    "1 < 2 < 3",
                                    "3 > 2 > 1",
                                    "1 IN (1) = 1",
                                    "1 = 1 IN (1)",
                                    "1 NOT IN (2) AND 1",
                                    "'a' || 'b' LIKE 'ab'",
                                    "1 + 1 BETWEEN 1 AND 2",
                                    "1 BETWEEN 0 AND 1 + 1",
                                    "x IS NOT DISTINCT FROM x = 1",
                                    "1 == 1 != 0",
                                    "1 <> 1 == 0",
                                    "1 ISNULL = 0",
                                    "i+1",
                                    "1+-1",
                                    "1--1",
                                    "1 --1",
                                    "((((((1))))))",
                                    "-(1)",
                                    "+(1)",
                                    "(1)(2)",
                                    "CASE 1 WHEN 1 THEN 2 END + 1",
                                    "CAST(1 AS TEXT) || 1",
                                    "1 COLLATE nocase || 2",
                                    "NOT x IS NULL",
                                    "NOT NULL IS NULL"};
    CHECK_ALL(e);
}

/* Random conditions: the decision of a WHERE (EX_FILTER) and of a CHECK
 * (EX_CHECK) with SQLite's jumps, which may leave an operand that would fail
 * unevaluated. */
Test(expr_diff, random_conditions, .timeout = 600)
{
    uint64_t seed = xd_seed(4242) ^ 0xc0ffee;
    int count = xd_soak() ? 20000 : 2000;
    int diff = run_random_as(seed, count, 5, RUN_CONDITIONS);
    cr_assert_eq(diff, 0, "%d conditions differ from libsqlite3 (seed=%" PRIu64 ")", diff, seed);
}

Test(expr_diff, conditions)
{
    static const char *const e[] = {
        "i AND abs(-9223372036854775807 - 1)",
        "NULL AND abs(-9223372036854775807 - 1)",
        "NULL OR abs(-9223372036854775807 - 1)",
        "i OR abs(-9223372036854775807 - 1)",
        "abs(-9223372036854775807 - 1 + i) OR 1",
        "abs(-9223372036854775807 - 1 + i) OR TRUE",
        "1 OR abs(-9223372036854775807 - 1 + i)",
        "(abs(-9223372036854775807 - 1 + i) OR 1) AND i",
        "abs(-9223372036854775807 - 1 + i) OR 10000000000",
        "NOT (i AND abs(-9223372036854775807 - 1))",
        "i BETWEEN 1 AND abs(-9223372036854775807 - 1)",
        "NOT (i BETWEEN 1 AND abs(-9223372036854775807 - 1))",
        "r NOT BETWEEN i AND abs(-9223372036854775807 - 1)",
        "(i > 0 OR abs(-9223372036854775807 - 1)) IS TRUE",
        "(i > 0 OR abs(-9223372036854775807 - 1)) IS NOT TRUE",
        "(i > 0 AND abs(-9223372036854775807 - 1)) IS FALSE",
        "(i > 0 AND abs(-9223372036854775807 - 1)) IS NOT FALSE",
        "i",
        "x",
        "NULL",
        "b AND NOT r",
        "CASE WHEN i THEN NULL END OR r",
        "i IN (1, 2, NULL)",
        "i NOT IN (1, 2, NULL)",
        "x LIKE 'a%' OR x IS NULL",
    };
    xd_fixture f;
    xd_open(&f, 99, 40);
    int differences = 0;
    for (size_t k = 0; k < sizeof e / sizeof e[0]; k++) {
        static const unsigned contexts[] = {EX_FILTER, EX_CHECK, EX_PARTIAL_WHERE};
        for (size_t c = 0; c < 3; c++) {
            char why[1024];
            if (xd_compare_cond(&f, e[k], contexts[c], why, sizeof why) == XD_DIFFERENT) {
                fprintf(stderr, "DIFFERENT (flags %u): %s\n  %s\n", contexts[c], e[k], why);
                differences++;
            }
        }
    }
    cr_assert(f.compared > 0);
    xd_close(&f);
    cr_assert_eq(differences, 0, "%d conditions differ from libsqlite3", differences);
}

/* Compile errors: the same message as libsqlite3's (folio adds the offset),
 * and what remains after SQLite's parser drops a subtree compiles. */
Test(expr_diff, compile_errors)
{
    static const char *const e[] = {
        "nosuch",
        "t.nosuch",
        "u.i",
        "main.t.nosuch",
        "nosuch1 + nosuch2",
        "nosuchf(1) + nosuch2",
        "nosuch2 + nosuchf(1)",
        "nosuchf(1) + abs(1, 2)",
        "abs(1, 2) + nosuchf(1)",
        "nosuchf(nosuchg(1))",
        "abs(zz) + nosuch(1)",
        "abs(1, 2) + zz",
        "substr('a')",
        "substr('a', 1, 2, 3)",
        "likelihood(i, 2)",
        "likelihood(i, 0.5) + likelihood(i, i)",
        "likelihood(nosuch, 2)",
        "row_number()",
        "-0x8000000000000000",
        "-0x8000000000000000 + zz",
        "0x10000000000000000",
        "(1 COLLATE foo) = 1",
        "(1 COLLATE foo = 1) + (1 COLLATE bar = 1)",
        "max('a' COLLATE foo, 'b')",
        "'a' COLLATE foo BETWEEN 1 AND 2",
        "CASE 'a' COLLATE foo WHEN 1 THEN 2 END",
        "(1 COLLATE foo) IN (1)",
        "i )",
        "1 2",
        "CAST(i AS)",
        "CASE WHEN 1 END",
        "i IN (1,)",
        "i IS nosuch",
        "i IS NOT nosuch",
        "nosuch IS NULL",
        "x'0'",
        /* Accepted: the parser drops the subtree, or nothing uses it. */
        "-0x8000000000000000 IN ()",
        "nosuch IN ()",
        "nosuch NOT IN ()",
        "0 AND nosuch",
        "nosuch AND 0",
        "(0) AND nosuchf(1)",
        "0 AND abs(1, 2)",
        "1 COLLATE foo",
        "lower('a' COLLATE foo)",
        "1 IN ('a' COLLATE foo, 2)",
        "0 AND (1 COLLATE foo = 1)",
        "'a' COLLATE foo LIKE 'b'",
    };
    xd_fixture f;
    xd_open(&f, 99, 4);
    int differences = 0;
    for (size_t k = 0; k < sizeof e / sizeof e[0]; k++) {
        char why[1024];
        if (xd_compare_error(&f, e[k], EX_FILTER, why, sizeof why) == XD_DIFFERENT) {
            fprintf(stderr, "DIFFERENT: %s\n  %s\n", e[k], why);
            differences++;
        }
    }
    cr_assert(f.both_error > 20 && f.compared > 5);
    xd_close(&f);
    cr_assert_eq(differences, 0, "%d compile errors differ from libsqlite3", differences);
}

/* Errors of a context, which SQLite gives when it creates the table or the
 * index (checked against the sqlite3 3.40 messages, with the offset). */
static void expect_error(const char *expr, unsigned flags, const ex_scope *scope, int rc,
                         const char *msg)
{
    ex_prog *p = NULL;
    char err[256];
    int got = ex_compile(&p, expr, strlen(expr), scope, flags, err, sizeof err);
    ex_prog_free(p);
    cr_expect_eq(got, rc, "%s: rc %d, expected %d (%s)", expr, got, rc, err);
    cr_expect_str_eq(err, msg, "%s", expr);
}

Test(expr_diff, context_errors)
{
    static const ex_column cols[] = {{"a", SCH_AFF_INTEGER, SCH_COLL_BINARY, 0},
                                     {"b", SCH_AFF_TEXT, SCH_COLL_NOCASE, 0}};
    ex_scope scope = {.table = "t", .cols = cols, .ncols = 2, .rowid_alias = -1, .column = "b"};
    /* A CHECK takes random() (SQLite 3.40 refuses non-deterministic
     * functions in indexes and generated columns only; tests/compat/
     * test_check.c inserts through libsqlite3). */
    expect_error("random() + a", EX_CHECK, &scope, 0, "");
    expect_error("a + randomblob(2)", EX_INDEX_EXPR, &scope, FOLIO_ERROR,
                 "non-deterministic functions prohibited in index expressions (at offset 4)");
    expect_error("random()", EX_PARTIAL_WHERE, &scope, FOLIO_ERROR,
                 "non-deterministic functions prohibited in partial index WHERE clauses (at "
                 "offset 0)");
    expect_error("random()", EX_GENERATED, &scope, FOLIO_ERROR,
                 "non-deterministic functions prohibited in generated columns (at offset 0)");
    expect_error("0 AND random()", EX_CHECK, &scope, 0, "");
    expect_error("a + 1", EX_DEFAULT, &scope, FOLIO_ERROR,
                 "default value of column [b] is not constant (at offset 0)");
    expect_error("0 AND a", EX_DEFAULT, &scope, 0, "");
    expect_error("random()", EX_DEFAULT, &scope, 0, "");
    expect_error("rowid", EX_INDEX_EXPR, &scope, FOLIO_ERROR,
                 "no such column: rowid (at offset 0)");
    expect_error("(SELECT 1)", EX_CHECK, &scope, FOLIO_ERROR,
                 "subqueries prohibited in CHECK constraints (at offset 1)");
    expect_error("a IN (SELECT 1)", EX_FILTER, &scope, FOLIO_UNSUPPORTED,
                 "subqueries are not supported (at offset 6)");
    /* Input that ends too soon (SQLite, reading it inside a statement,
     * says near the next token). */
    expect_error("i +", EX_FILTER, &scope, FOLIO_ERROR, "incomplete input (at offset 3)");
    expect_error("(i", EX_FILTER, &scope, FOLIO_ERROR, "incomplete input (at offset 2)");
    expect_error("i + 'abc", EX_FILTER, &scope, FOLIO_ERROR,
                 "unrecognized token: \"'abc\" (at offset 0)");
    expect_error("?1", EX_FILTER, &scope, FOLIO_UNSUPPORTED,
                 "bind parameters are not supported (at offset 0)");
}
