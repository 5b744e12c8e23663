/*
 * Regression: folio's WAL was empty (a fresh open, or after a TRUNCATE
 * checkpoint); while folio was idle a sqlite3 process updated a row in WAL
 * mode, without growing the file, and closed, which checkpointed and deleted
 * the WAL. SQLite leaves the change counter alone in WAL mode, so folio's
 * next transaction saw nothing new and read the old value from its cache.
 *
 * Since folio shares the WAL index (-shm) with SQLite, it holds the database
 * as every WAL connection does: sqlite3's close is no longer the last one,
 * so the WAL stays, and folio learns of the update from the index header.
 * The scenarios stay, with that: the update is seen, nothing is deleted
 * under folio, and the file is whole for libsqlite3 afterwards.
 */
#include <criterion/criterion.h>
#include <folio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_dir[512], g_path[600];

static void make_dir(void)
{
    const char *base = getenv("FOLIO_TMP");
    snprintf(g_dir, sizeof g_dir, "%s/regress-XXXXXX", base && *base ? base : "/tmp");
    cr_assert(mkdtemp(g_dir) != NULL);
    snprintf(g_path, sizeof g_path, "%s/v.db", g_dir);
}

static void remove_dir(void)
{
    char p[700];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", g_path, sfx[i]);
        unlink(p);
    }
    rmdir(g_dir);
}

static int64_t read_age(folio_db *db, int64_t id)
{
    folio_txn *tx;
    folio_table *t;
    folio_cursor *c;
    folio_value v;
    int64_t r = -1;
    cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_READ), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_table_open(&t, tx, "user"), FOLIO_OK);
    cr_assert_eq(folio_cursor_open(&c, t, NULL), FOLIO_OK);
    if (folio_cursor_seek_rowid(c, id) == FOLIO_ROW) {
        cr_assert_eq(folio_cursor_column(&v, c, 2), FOLIO_OK);
        r = v.u.i;
    }
    folio_cursor_close(c);
    folio_commit(tx);
    return r;
}

/* A separate process, as another program would be: update, close. */
static void sqlite3_update_elsewhere(const char *sql)
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        sqlite3 *s;
        int rc = sqlite3_open(g_path, &s);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(s, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            fprintf(stderr, "sqlite3: %s\n", sqlite3_errmsg(s));
        _exit(sqlite3_close(s) == SQLITE_OK && rc == SQLITE_OK ? 0 : 1);
    }
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the sqlite3 child failed");
    char wal[700], shm[700];
    snprintf(wal, sizeof wal, "%s-wal", g_path);
    snprintf(shm, sizeof shm, "%s-shm", g_path);
    cr_assert(access(wal, F_OK) == 0 && access(shm, F_OK) == 0,
              "sqlite3 removed the WAL or the -shm while folio had the database open");
}

static void load(folio_db *db)
{
    folio_txn *tx;
    folio_table *t;
    cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(tx, "CREATE TABLE user(id INTEGER PRIMARY KEY, area TEXT, age "
                                "INTEGER, active INTEGER)"),
                 FOLIO_OK);
    cr_assert_eq(folio_table_open(&t, tx, "user"), FOLIO_OK);
    for (int i = 1; i <= 10; i++) {
        folio_value v[4] = {{FOLIO_INTEGER, {.i = i}},
                            {FOLIO_TEXT, {.s = {"abcdef", 6}}},
                            {FOLIO_INTEGER, {.i = 1}},
                            {FOLIO_INTEGER, {.i = 0}}};
        cr_assert_eq(folio_insert(NULL, t, v, 4), FOLIO_OK);
    }
    cr_assert_eq(folio_commit(tx), FOLIO_OK, "%s", folio_errmsg(db));
}

Test(regress, sqlite3_update_while_attached_after_fresh_open)
{
    make_dir();
    folio_options o = FOLIO_OPTIONS_INIT;
    folio_db *db;
    cr_assert_eq(folio_open(&db, g_path, &o), FOLIO_OK);
    load(db);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    cr_assert_eq(folio_open(&db, g_path, &o), FOLIO_OK); /* its WAL is empty */
    cr_assert_eq(read_age(db, 5), 1);
    sqlite3_update_elsewhere("UPDATE user SET age = 99 WHERE id = 5");
    cr_assert_eq(read_age(db, 5), 99, "folio read a value sqlite3 had replaced");
    cr_assert_eq(folio_close(db), FOLIO_OK);
    remove_dir();
}

Test(regress, sqlite3_update_while_attached_after_truncate_checkpoint)
{
    make_dir();
    folio_options o = FOLIO_OPTIONS_INIT;
    folio_db *db;
    cr_assert_eq(folio_open(&db, g_path, &o), FOLIO_OK);
    load(db);
    cr_assert_eq(folio_checkpoint(db, FOLIO_CHECKPOINT_TRUNCATE, NULL, NULL), FOLIO_OK, "%s",
                 folio_errmsg(db));
    cr_assert_eq(read_age(db, 7), 1);
    sqlite3_update_elsewhere("UPDATE user SET age = 42 WHERE id = 7");
    cr_assert_eq(read_age(db, 7), 42, "folio read a value sqlite3 had replaced");
    cr_assert_eq(folio_close(db), FOLIO_OK);
    remove_dir();
}

Test(regress, sqlite3_update_while_attached_seen_by_a_read_only_handle)
{
    make_dir();
    folio_options o = FOLIO_OPTIONS_INIT;
    folio_db *db;
    cr_assert_eq(folio_open(&db, g_path, &o), FOLIO_OK);
    load(db);
    cr_assert_eq(folio_close(db), FOLIO_OK); /* no -wal left */
    o.flags = FOLIO_OPEN_READONLY;
    cr_assert_eq(folio_open(&db, g_path, &o), FOLIO_OK);
    cr_assert_eq(read_age(db, 3), 1);
    sqlite3_update_elsewhere("UPDATE user SET age = 77 WHERE id = 3");
    cr_assert_eq(read_age(db, 3), 77, "a read-only handle read a value sqlite3 had replaced");
    sqlite3_update_elsewhere("UPDATE user SET age = 78 WHERE id = 3");
    cr_assert_eq(read_age(db, 3), 78, "a read-only handle read a value sqlite3 had replaced");
    cr_assert_eq(folio_close(db), FOLIO_OK);
    remove_dir();
}
