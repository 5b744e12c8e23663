/*
 * test_encoding.c - UTF-16le and UTF-16be databases (PRAGMA encoding). folio
 * returns their TEXT as UTF-8, which is what sqlite3_column_text returns, and
 * walks their indexes in the database's own BINARY order: memcmp of UTF-16
 * bytes, which differs from UTF-8 order for characters above U+D7FF and, in
 * little-endian files, for everything beyond ASCII.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Characters whose order differs between the encodings. */
static const char *const tricky[] = {
    "",
    "a",
    "A",
    "z",
    "~",
    "\x7f",
    "\xc2\x80",
    "\xc3\xa9",
    "\xc3\x89",
    "\xc4\x80",
    "\xc4\x81",
    "\xe4\xb8\xad",
    "\xed\x9f\xbf" /* U+D7FF */,
    "\xee\x80\x80" /* U+E000 */,
    "\xef\xb9\x8f" /* U+FE4F */,
    "\xef\xbf\xbd",
    "\xf0\x9f\x98\x80" /* U+1F600 */,
    "\xf0\x90\x80\x80" /* U+10000 */,
    "\xf4\x8f\xbf\xbf" /* U+10FFFF */,
    "a ",
    "a  ",
    "A\xc3\xa9",
    "\xc3\xa9\x61" /* "\u00e9a" */,
    "ab\xf0\x9f\x98\x80",
    "ab\xee\x80\x80",
};

static void check_encoding(const char *encoding, int page_size)
{
    uint64_t rng = compat_seed(0xe1c0 + (uint64_t)page_size + (uint64_t)strlen(encoding));
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "db.sqlite");
    sqlite3 *db = compat_sqlite_open(path);
    compat_execf(db, "PRAGMA page_size=%d; PRAGMA encoding='%s'", page_size, encoding);
    compat_exec(db, "CREATE TABLE t(a TEXT, b TEXT COLLATE NOCASE, c, d BLOB);"
                    "CREATE INDEX t_a ON t(a);"
                    "CREATE INDEX t_a_desc ON t(a DESC, c);"
                    "CREATE INDEX t_b ON t(b);"
                    "CREATE INDEX t_c ON t(c COLLATE RTRIM);"
                    "CREATE TABLE w(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
                    "CREATE TABLE big(x TEXT)");
    char *got = compat_query_text(db, "PRAGMA encoding");
    cr_assert_str_eq(got, encoding);
    free(got);
    sqlite3_stmt *st = compat_prepare(db, "INSERT INTO t VALUES(?1, ?2, ?3, ?4)");
    sqlite3_stmt *sw = compat_prepare(db, "INSERT OR IGNORE INTO w VALUES(?1, ?2)");
    size_t ntricky = sizeof tricky / sizeof tricky[0];
    for (size_t i = 0; i < ntricky; i++) {
        for (size_t j = 0; j < ntricky; j += 5) {
            char buf[64];
            snprintf(buf, sizeof buf, "%s%s", tricky[i], tricky[j]);
            sqlite3_bind_text(st, 1, buf, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, tricky[j], -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, tricky[i], -1, SQLITE_STATIC);
            sqlite3_bind_blob(st, 4, buf, (int)strlen(buf), SQLITE_TRANSIENT);
            cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(db));
            sqlite3_reset(st);
            sqlite3_bind_text(sw, 1, buf, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(sw, 2, (int)(i * 100 + j));
            cr_assert_eq(sqlite3_step(sw), SQLITE_DONE, "%s", sqlite3_errmsg(db));
            sqlite3_reset(sw);
        }
    }
    for (int r = 0; r < 600; r++) {
        for (int c = 1; c <= 4; c++)
            compat_bind_random(st, c, &rng, 60);
        cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(db));
        sqlite3_reset(st);
        compat_bind_random(sw, 1, &rng, 30);
        compat_bind_random(sw, 2, &rng, 30);
        cr_assert_eq(sqlite3_step(sw), SQLITE_DONE, "%s", sqlite3_errmsg(db));
        sqlite3_reset(sw);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(sw);
    /* Text long enough to overflow, in UTF-16 twice its UTF-8 length. */
    compat_exec(db, COMPAT_SERIES(1, 40) "INSERT INTO big SELECT printf('%.*c', value * 397,"
                                         " 'x') || '\xe4\xb8\xad\xf0\x9f\x98\x80' FROM series");
    compat_sqlite_close(db);
    compare_db(path);
    compat_rmtree(dir);
    free(path);
    free(dir);
}

Test(compat_encoding, utf16le_4096)
{
    check_encoding("UTF-16le", 4096);
}
Test(compat_encoding, utf16be_4096)
{
    check_encoding("UTF-16be", 4096);
}
Test(compat_encoding, utf16le_512)
{
    check_encoding("UTF-16le", 512);
}
Test(compat_encoding, utf16be_1024)
{
    check_encoding("UTF-16be", 1024);
}
Test(compat_encoding, utf8_reference_1024)
{
    check_encoding("UTF-8", 1024);
}
