/*
 * test_errors.c - files folio cannot read, or may only read with care: a
 * missing file or a directory (FOLIO_CANTOPEN), files that are not databases
 * (FOLIO_NOTADB), damaged headers (FOLIO_NOTADB or FOLIO_CORRUPT naming a
 * page), a zero-byte file (an empty database to libsqlite3), a hot rollback
 * journal left by a crash (rolled back, or the open refused with a clear
 * error; never the half-written state), and bad names and arguments.
 */
#include "compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *g_dir;

static char *start(const char *name)
{
    g_dir = compat_tmpdir();
    return compat_path(g_dir, name);
}

static void finish(char *path)
{
    compat_rmtree(g_dir);
    free(g_dir);
    free(path);
}

/* Open must fail with one of the two codes (the second may be 0) and say why. */
static void expect_open_error(const char *path, unsigned mode, int want, int also)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = mode == COMPAT_RO ? FOLIO_OPEN_READONLY : 0;
    folio_db *db = (folio_db *)&o; /* must be reset to NULL on failure */
    int rc = folio_open(&db, path, &o);
    const char *msg = folio_open_errmsg();
    cr_assert(rc == want || (also && rc == also), "folio_open(%s) = %s, expected %s%s%s", path,
              compat_rc_name(rc), compat_rc_name(want), also ? " or " : "",
              also ? compat_rc_name(also) : "");
    cr_assert(db == NULL, "a failed folio_open must set *out to NULL");
    cr_assert(msg && *msg, "folio_open(%s) failed without a message", path);
    if (rc == FOLIO_CORRUPT)
        cr_assert(compat_names_page(msg), "FOLIO_CORRUPT message does not name a page: %s", msg);
}

Test(compat_errors, missing_file)
{
    char *path = start("missing.sqlite");
    expect_open_error(path, COMPAT_RO, FOLIO_CANTOPEN, 0);
    expect_open_error(path, COMPAT_RW, FOLIO_CANTOPEN, 0);
    cr_assert(compat_file_size(path) < 0, "an open without FOLIO_OPEN_CREATE created the file");
    finish(path);
}

Test(compat_errors, directory)
{
    char *path = start("dir.sqlite");
    cr_assert_eq(mkdir(path, 0755), 0);
    expect_open_error(path, COMPAT_RO, FOLIO_CANTOPEN, 0);
    expect_open_error(path, COMPAT_RW, FOLIO_CANTOPEN, 0);
    finish(path);
}

Test(compat_errors, not_a_database)
{
    char *path = start("text.sqlite");
    const char text[] = "This is a plain text file, long enough to hold a database header "
                        "but certainly not a SQLite database. It goes on for a while, too, "
                        "so that every header field is filled with letters.\n";
    compat_write_file(path, text, sizeof text - 1);
    expect_open_error(path, COMPAT_RO, FOLIO_NOTADB, 0);
    expect_open_error(path, COMPAT_RW, FOLIO_NOTADB, 0);
    /* A short file that is not a database either. */
    compat_write_file(path, "0123456789", 10);
    expect_open_error(path, COMPAT_RO, FOLIO_NOTADB, 0);
    finish(path);
}

/* A small valid database, then one header change. */
static void patched(const char *path, size_t off, const uint8_t *bytes, size_t n)
{
    compat_run(path, "PRAGMA page_size=1024; CREATE TABLE t(a); INSERT INTO t VALUES(1)");
    size_t len;
    uint8_t *f = compat_read_file(path, &len);
    memcpy(f + off, bytes, n);
    compat_write_file(path, f, len);
    free(f);
}

/* folio must refuse a file libsqlite3 refuses: a defined error code (not a
 * crash, not data), with a message that names a page for FOLIO_CORRUPT. The
 * open may succeed lazily if reading then fails. */
static void expect_refused(const char *path, const char *what)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.flags = FOLIO_OPEN_READONLY;
    folio_db *db = NULL;
    int rc = folio_open(&db, path, &o);
    const char *msg = folio_open_errmsg();
    if (rc == FOLIO_OK) {
        folio_txn *txn = NULL;
        rc = folio_begin(&txn, db, FOLIO_TXN_READ);
        msg = folio_errmsg(db);
        if (rc == FOLIO_OK) {
            folio_table *t = NULL;
            rc = folio_table_open(&t, txn, "t");
            folio_cursor *c = NULL;
            if (rc == FOLIO_OK)
                rc = folio_cursor_open(&c, t, NULL);
            if (rc == FOLIO_OK) {
                rc = folio_cursor_first(c);
                folio_cursor_close(c);
            }
            msg = folio_errmsg(db);
            folio_rollback(txn);
        }
        cr_assert(rc == FOLIO_NOTADB || rc == FOLIO_CORRUPT || rc == FOLIO_UNSUPPORTED,
                  "damaged %s: libsqlite3 refuses the file, folio read it (%s)", what,
                  compat_rc_name(rc));
        cr_assert(*msg, "damaged %s: %s without a message", what, compat_rc_name(rc));
        if (rc == FOLIO_CORRUPT)
            cr_assert(compat_names_page(msg), "damaged %s: message names no page: %s", what, msg);
        folio_close(db);
        return;
    }
    cr_assert(rc == FOLIO_NOTADB || rc == FOLIO_CORRUPT || rc == FOLIO_UNSUPPORTED,
              "damaged %s: folio_open = %s", what, compat_rc_name(rc));
    cr_assert(*msg, "damaged %s: no message", what);
    if (rc == FOLIO_CORRUPT)
        cr_assert(compat_names_page(msg), "damaged %s: message names no page: %s", what, msg);
}

Test(compat_errors, damaged_headers)
{
    static const struct {
        size_t off;
        uint8_t bytes[4];
        size_t n;
        const char *what;
    } cases[] = {
        {0, {'X'}, 1, "magic"},
        {15, {'!'}, 1, "magic terminator"},
        {16, {0x03, 0xe8}, 2, "page size 1000"},
        {16, {0x00, 0x01}, 2, "page size 1 (65536) in a 1024-byte file"},
        {16, {0x00, 0x80}, 2, "page size 128"},
        {16, {0x08, 0x00}, 2, "page size 2048"},
        {18, {0x03}, 1, "write version 3 (read-only to SQLite)"},
        {19, {0x03}, 1, "read version 3"},
        {21, {0x41}, 1, "max payload fraction"},
        {22, {0x21}, 1, "min payload fraction"},
        {23, {0x21}, 1, "leaf payload fraction"},
        {44, {0x00, 0x00, 0x00, 0x05}, 4, "schema format 5"},
        {56, {0x00, 0x00, 0x00, 0x07}, 4, "text encoding 7"},
    };
    char *dir = compat_tmpdir();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "case%zu.sqlite", i);
        char *path = compat_path(dir, name);
        patched(path, cases[i].off, cases[i].bytes, cases[i].n);
        /* libsqlite3 decides whether the file is readable. */
        char *ic = compat_integrity(path);
        if (strcmp(ic, "ok") == 0)
            compare_table_modes(path, "t", COMPAT_RO, 0);
        else
            expect_refused(path, cases[i].what);
        free(ic);
        free(path);
    }
    compat_rmtree(dir);
    free(dir);
}

Test(compat_errors, zero_byte_file_is_an_empty_database)
{
    /* sqlite3_open and close without a statement leave a zero-byte file,
     * which libsqlite3 reads as an empty database. */
    char *path = start("empty.sqlite");
    compat_sqlite_close(compat_sqlite_open(path));
    cr_assert_eq(compat_file_size(path), 0);
    folio_db *db = compat_folio_open(path, COMPAT_RO);
    folio_txn *txn = compat_folio_read(db);
    cr_assert_eq(folio_schema_count(txn), 0);
    folio_table *t = NULL;
    cr_assert_eq(folio_table_open(&t, txn, "anything"), FOLIO_NOTFOUND_ERR);
    folio_commit(txn);
    folio_close(db);
    finish(path);
}

Test(compat_errors, unknown_names_and_bad_arguments)
{
    char *path = start("db.sqlite");
    compat_run(path, "CREATE TABLE t(a, b); CREATE INDEX t_a ON t(a);"
                     "CREATE TABLE u(x); CREATE INDEX u_x ON u(x);"
                     "INSERT INTO t VALUES(1, 2)");
    folio_db *db = compat_folio_open(path, COMPAT_RO);
    folio_txn *txn = compat_folio_read(db);
    folio_table *t = NULL;
    cr_assert_eq(folio_table_open(&t, txn, "nope"), FOLIO_NOTFOUND_ERR);
    cr_assert(*folio_errmsg(db));
    cr_assert_eq(folio_table_open(&t, txn, "T"), FOLIO_OK, "%s", folio_errmsg(db));
    folio_cursor *c = NULL;
    cr_assert_eq(folio_cursor_open(&c, t, "no_index"), FOLIO_NOTFOUND_ERR);
    cr_assert(*folio_errmsg(db));
    int rc = folio_cursor_open(&c, t, "u_x"); /* an index of another table */
    cr_assert(rc == FOLIO_NOTFOUND_ERR || rc == FOLIO_MISUSE, "got %s", compat_rc_name(rc));
    cr_assert_eq(folio_cursor_open(&c, t, "T_A"), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_cursor_first(c), FOLIO_ROW);
    folio_value v;
    cr_assert_eq(folio_cursor_column(&v, c, -1), FOLIO_MISUSE);
    cr_assert_eq(folio_cursor_column(&v, c, 2), FOLIO_MISUSE);
    cr_assert_eq(folio_cursor_column(&v, c, 1), FOLIO_OK);
    cr_assert(v.type == FOLIO_INTEGER && v.u.i == 2);
    folio_cursor_close(c);
    folio_commit(txn);
    folio_close(db);
    finish(path);
}

/* ---- Hot rollback journal --------------------------------------------------- */

static void body_hot_journal(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        _exit(4);
    compat_sqlite_functions(db);
    const char *setup =
        "PRAGMA page_size=1024; PRAGMA journal_mode=DELETE;"
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
        "CREATE INDEX t_v ON t(v);" COMPAT_SERIES(
            1, 300) "INSERT INTO t SELECT value, printf('committed %d', value) FROM series";
    /* A transaction too big for the cache writes pages into the database
     * file before it commits; then the process dies. */
    const char *crash = "PRAGMA cache_size=10; BEGIN;"
                        "UPDATE t SET v = 'never committed' WHERE id % 2 = 0;" COMPAT_SERIES(
                            1, 3000) "INSERT INTO t(v) SELECT det_blob(400, value) FROM series";
    if (sqlite3_exec(db, setup, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, crash, NULL, NULL, NULL) != SQLITE_OK)
        _exit(3);
    _exit(0);
}

Test(compat_errors, hot_rollback_journal)
{
    char *path = start("db.sqlite");
    char *journal = compat_suffix(path, "-journal");
    char *ref = compat_path(g_dir, "ref.sqlite");
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0)
        body_hot_journal(path);
    int status = 0;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer child failed");
    cr_assert(compat_file_size(journal) > 0, "expected a hot journal");

    /* The committed state, as libsqlite3 recovers it from a copy. */
    compat_copy_db(path, ref, 0);
    char *ref_journal = compat_suffix(ref, "-journal");
    size_t jn;
    uint8_t *j = compat_read_file(journal, &jn);
    compat_write_file(ref_journal, j, jn);
    free(j);
    sqlite3 *sdb = compat_sqlite_open(ref);
    cr_assert_eq(compat_query_int(sdb, "SELECT count(*) FROM t WHERE v = 'never committed'"), 0);
    compat_sqlite_close(sdb);
    cr_assert(compat_file_size(ref_journal) <= 0, "sqlite should have rolled back the copy");

    for (unsigned mode = COMPAT_RO; mode <= COMPAT_RW; mode <<= 1) {
        folio_options o = FOLIO_OPTIONS_INIT;
        o.flags = mode == COMPAT_RO ? FOLIO_OPEN_READONLY : 0;
        folio_db *db = NULL;
        int rc = folio_open(&db, path, &o);
        folio_txn *txn = NULL;
        const char *msg = rc == FOLIO_OK ? "" : folio_open_errmsg();
        if (rc == FOLIO_OK) {
            rc = folio_begin(&txn, db, FOLIO_TXN_READ);
            msg = rc == FOLIO_OK ? "" : folio_errmsg(db);
            if (txn)
                folio_rollback(txn);
            folio_close(db);
        }
        if (rc != FOLIO_OK) {
            /* Refused: allowed, with a clear message, and the journal intact. */
            cr_assert(compat_rc_defined(rc) && rc < 0, "open gave %s", compat_rc_name(rc));
            cr_assert(*msg, "refusing a hot journal needs a message");
            cr_assert(compat_file_size(journal) == (int64_t)jn,
                      "folio refused the open but changed the hot journal");
            fprintf(stderr, "note: folio (%s) refuses a hot journal: %s: %s\n",
                    mode == COMPAT_RO ? "read-only" : "read-write", compat_rc_name(rc), msg);
            continue;
        }
        /* Accepted: it must read the committed state, never the torn one. */
        compare_table_ref(path, ref, "t", mode, 50);
        compare_index_ref(path, ref, "t", "t_v", mode, 50);
    }
    free(ref_journal);
    free(ref);
    free(journal);
    finish(path);
}
