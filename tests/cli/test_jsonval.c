/*
 * test_jsonval.c: the value encoders of the folio tool (cli/jsonval.c and
 * cli/csv.c), tested directly and exhaustively where the input space allows:
 * the UTF-8 validator against an independent decoder over every string of up
 * to three bytes, real formatting against strtod over random bit patterns,
 * JSON strings against libsqlite3's JSON parser.
 *
 * The CLI sources are compiled into this test (they are not a library).
 */
#include "../../cli/util.c"
#include "../../cli/jsonval.c"
#include "../../cli/csv.c"

#include <criterion/criterion.h>
#include <sqlite3.h>

/* util.c's usage errors print the usage that main.c owns. */
void cli_print_usage(FILE *f, const cli_command *cmd, int full)
{
    (void)f;
    (void)cmd;
    (void)full;
}

/* ---- UTF-8 --------------------------------------------------------------- */

/* An independent strict decoder: find the length from the lead byte, check
 * the continuation bytes, compute the code point, then reject overlong forms,
 * surrogates and values past U+10FFFF. Returns 1 if all `n` bytes are valid. */
static int reference_utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return 0;
        i += len;
    }
    return 1;
}

Test(cli_jsonval, utf8_matches_reference_for_all_short_strings)
{
    unsigned char s[3];
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        cr_assert_eq(jv_utf8_valid(s, 1), reference_utf8_valid(s, 1), "%02x", a);
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (unsigned char)b;
            cr_assert_eq(jv_utf8_valid(s, 2), reference_utf8_valid(s, 2), "%02x %02x", a, b);
            for (unsigned c = 0; c < 256; c++) {
                s[2] = (unsigned char)c;
                if (jv_utf8_valid(s, 3) != reference_utf8_valid(s, 3))
                    cr_assert_fail("%02x %02x %02x", a, b, c);
            }
        }
    }
}

Test(cli_jsonval, utf8_four_byte_sequences)
{
    static const unsigned char tails[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90,
                                          0x9F, 0xA0, 0xBF, 0xC0, 0xF4, 0xFF};
    unsigned char s[4];
    for (unsigned a = 0xE0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++)
            for (size_t i = 0; i < sizeof tails; i++)
                for (size_t j = 0; j < sizeof tails; j++) {
                    s[0] = (unsigned char)a, s[1] = (unsigned char)b;
                    s[2] = tails[i], s[3] = tails[j];
                    if (jv_utf8_valid(s, 4) != reference_utf8_valid(s, 4))
                        cr_assert_fail("%02x %02x %02x %02x", s[0], s[1], s[2], s[3]);
                }
    /* The edges, by name. */
    cr_assert(jv_utf8_valid("\xf0\x90\x80\x80", 4));  /* U+10000 */
    cr_assert(jv_utf8_valid("\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
    cr_assert(!jv_utf8_valid("\xf4\x90\x80\x80", 4)); /* U+110000 */
    cr_assert(!jv_utf8_valid("\xf0\x8f\xbf\xbf", 4)); /* overlong U+FFFF */
    cr_assert(jv_utf8_valid("\xed\x9f\xbf", 3));      /* U+D7FF */
    cr_assert(!jv_utf8_valid("\xed\xa0\x80", 3));     /* U+D800 */
    cr_assert(jv_utf8_valid("\xee\x80\x80", 3));      /* U+E000 */
    cr_assert(!jv_utf8_valid("\xf0\x9f\x98", 3));     /* truncated */
    cr_assert(jv_utf8_valid("", 0));
    cr_assert(jv_utf8_valid("a\0b", 3));
}

Test(cli_jsonval, utf8_random_strings)
{
    unsigned seed = 12345;
    unsigned char s[16];
    for (int iter = 0; iter < 300000; iter++) {
        size_t n = (size_t)(iter % 16) + 1;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = seed >> 16;
            /* Mostly high bytes, so that multi-byte sequences are common. */
            s[i] = (unsigned char)(r & 1 ? 0x80 | (r >> 1 & 0x7F) : r >> 1 & 0xFF);
        }
        cr_assert_eq(jv_utf8_valid(s, n), reference_utf8_valid(s, n), "seed state %u", seed);
    }
}

/* ---- Numbers ------------------------------------------------------------- */

static const char *real_text(double r)
{
    static char out[JV_REAL_MAX];
    size_t len = jv_format_real(out, r);
    cr_assert_eq(len, strlen(out));
    return out;
}

Test(cli_jsonval, reals_known_forms)
{
    cr_assert_str_eq(real_text(1.0), "1.0");
    cr_assert_str_eq(real_text(0.0), "0.0");
    cr_assert_str_eq(real_text(-0.0), "-0.0");
    cr_assert_str_eq(real_text(0.1), "0.1");
    cr_assert_str_eq(real_text(-2.5), "-2.5");
    cr_assert_str_eq(real_text(100.0), "100.0");
    cr_assert_str_eq(real_text(1e15), "1e+15");
    cr_assert_str_eq(real_text(1e308), "1e+308");
    cr_assert_str_eq(real_text(2.5e300), "2.5e+300");
    cr_assert_str_eq(real_text(5e-324), "4.94065645841247e-324");
    cr_assert_str_eq(real_text(0.1 + 0.2), "0.30000000000000004");
    cr_assert_str_eq(real_text(1.0 / 3.0), "0.3333333333333333");
    cr_assert_str_eq(real_text(1.7976931348623157e308), "1.7976931348623157e+308");
    cr_assert_str_eq(real_text(2.2250738585072014e-308), "2.2250738585072014e-308");
    cr_assert_str_eq(real_text(123456789012345.0), "123456789012345.0");
    cr_assert_str_eq(real_text(1.0 / 0.0), "Infinity");
    cr_assert_str_eq(real_text(-1.0 / 0.0), "-Infinity");
}

Test(cli_jsonval, reals_round_trip_random_bits)
{
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int iter = 0; iter < 200000; iter++) {
        /* xorshift64 */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double r;
        memcpy(&r, &x, sizeof r);
        if (!isfinite(r))
            continue;
        const char *t = real_text(r);
        double back = strtod(t, NULL);
        cr_assert(memcmp(&back, &r, sizeof r) == 0, "%s does not read back as %016llx", t,
                  (unsigned long long)x);
        cr_assert_not_null(strpbrk(t, ".e"), "%s has neither '.' nor exponent", t);
        /* Shortest: when %.15g reads back, it is the text (plus ".0"). */
        char g15[40];
        snprintf(g15, sizeof g15, "%.15g", r);
        if (strtod(g15, NULL) == r && !(r == 0 && signbit(r)))
            cr_assert(strncmp(t, g15, strlen(g15)) == 0, "%s is not %s", t, g15);
    }
}

static const char *put(void (*fn)(cli_buf *, const folio_value *), const folio_value *v)
{
    static cli_buf b = CLI_BUF_INIT;
    b.n = 0;
    fn(&b, v);
    cli_buf_putc(&b, '\0');
    cr_assert(!b.oom);
    return b.p;
}

Test(cli_jsonval, integers_exact)
{
    const int64_t cases[] = {0,
                             1,
                             -1,
                             9,
                             10,
                             -10,
                             INT32_MAX,
                             INT32_MIN,
                             INT64_MAX,
                             INT64_MIN,
                             INT64_MIN + 1,
                             1000000000000000000};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        folio_value v = {FOLIO_INTEGER, {.i = cases[i]}};
        char want[32];
        snprintf(want, sizeof want, "%lld", (long long)cases[i]);
        cr_assert_str_eq(put(jv_put_value, &v), want);
        cr_assert_str_eq(put(csv_put_value, &v), want);
    }
}

/* ---- Strings and values -------------------------------------------------- */

/* Parse the JSON string `json` with libsqlite3 and compare with `n` bytes. */
static void assert_json_string_is(const char *json, const char *bytes, size_t n)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(
        sqlite3_prepare_v2(db, "SELECT json_valid(?1), json_extract(?1, '$')", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), 1, "not valid JSON: %s", json);
    const void *got = sqlite3_column_text(st, 1);
    size_t got_n = (size_t)sqlite3_column_bytes(st, 1);
    cr_assert(got_n == n && memcmp(got, bytes, n) == 0, "%s decodes to something else", json);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

Test(cli_jsonval, strings_escape_every_ascii_byte)
{
    for (int c = 1; c < 128; c++) {
        char text[3] = {'x', (char)c, 'y'};
        folio_value v = {FOLIO_TEXT, {.s = {text, 3}}};
        const char *json = put(jv_put_value, &v);
        assert_json_string_is(json, text, 3);
        if (c < 0x20 || c == '"' || c == '\\')
            cr_assert_eq(json[2], '\\', "byte %d not escaped: %s", c, json);
        else
            cr_assert_eq(strlen(json), 5, "byte %d escaped needlessly: %s", c, json);
    }
    folio_value v = {FOLIO_TEXT, {.s = {"\n\r\t\b\f\x01\x1f", 7}}};
    cr_assert_str_eq(put(jv_put_value, &v), "\"\\n\\r\\t\\b\\f\\u0001\\u001f\"");
    folio_value nul = {FOLIO_TEXT, {.s = {"a\0b", 3}}};
    cr_assert_str_eq(put(jv_put_value, &nul), "\"a\\u0000b\"");
    folio_value utf = {FOLIO_TEXT, {.s = {"\xe2\x82\xac\xf0\x9f\x98\x80", 7}}};
    cr_assert_str_eq(put(jv_put_value, &utf), "\"\xe2\x82\xac\xf0\x9f\x98\x80\"");
}

Test(cli_jsonval, every_value_kind)
{
    folio_value null = {FOLIO_NULL, {.i = 0}};
    cr_assert_str_eq(put(jv_put_value, &null), "null");
    cr_assert_str_eq(put(csv_put_value, &null), "");

    folio_value inf = {FOLIO_REAL, {.r = 1.0 / 0.0}};
    cr_assert_str_eq(put(jv_put_value, &inf), "{\"real\":\"Infinity\"}");
    cr_assert_str_eq(put(csv_put_value, &inf), "Infinity");
    folio_value ninf = {FOLIO_REAL, {.r = -1.0 / 0.0}};
    cr_assert_str_eq(put(jv_put_value, &ninf), "{\"real\":\"-Infinity\"}");
    folio_value nan = {FOLIO_REAL, {.r = NAN}};
    cr_assert_str_eq(put(jv_put_value, &nan), "null");
    folio_value one = {FOLIO_REAL, {.r = 1.0}};
    cr_assert_str_eq(put(jv_put_value, &one), "1.0");
    cr_assert_str_eq(put(csv_put_value, &one), "1.0");

    folio_value bad = {FOLIO_TEXT, {.s = {"ok\xff", 3}}};
    cr_assert_str_eq(put(jv_put_value, &bad), "{\"text_hex\":\"6f6bff\"}");
    folio_value empty = {FOLIO_TEXT, {.s = {NULL, 0}}};
    cr_assert_str_eq(put(jv_put_value, &empty), "\"\"");
    cr_assert_str_eq(put(csv_put_value, &empty), "\"\"");

    folio_value blob = {FOLIO_BLOB, {.s = {"\x00\x01\xab\xff", 4}}};
    cr_assert_str_eq(put(jv_put_value, &blob), "{\"blob\":\"0001abff\"}");
    cr_assert_str_eq(put(csv_put_value, &blob), "0001abff");
    folio_value noblob = {FOLIO_BLOB, {.s = {NULL, 0}}};
    cr_assert_str_eq(put(jv_put_value, &noblob), "{\"blob\":\"\"}");
}

Test(cli_jsonval, csv_fields_quoted_when_needed)
{
    struct {
        const char *in, *want;
    } cases[] = {
        {"plain", "plain"},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"\"", "\"\"\"\""},
        {"line\nbreak", "\"line\nbreak\""},
        {"cr\r", "\"cr\r\""},
        {" spaced ", " spaced "},
        {"tab\there", "tab\there"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        folio_value v = {FOLIO_TEXT, {.s = {cases[i].in, strlen(cases[i].in)}}};
        cr_assert_str_eq(put(csv_put_value, &v), cases[i].want, "field %zu", i);
    }
}

Test(cli_jsonval, lossy_strings_replace_bad_bytes)
{
    cli_buf b = CLI_BUF_INIT;
    jv_put_string_lossy(&b, "a\xff\"b\xe2\x82\xac", 7);
    cli_buf_putc(&b, '\0');
    cr_assert_str_eq(b.p, "\"a\xef\xbf\xbd\\\"b\xe2\x82\xac\"");
    cli_buf_free(&b);
}
