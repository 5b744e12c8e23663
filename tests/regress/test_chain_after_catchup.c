/*
 * Regression: a folio writer whose transaction began by catching up frames
 * another connection had committed (the shared header showed more frames
 * than its own index) kept the checksum chain of its previous look, and
 * appended its frames with checksums that continue from the wrong place.
 * Readers do not check frame checksums, so nothing showed until a recovery
 * (a crash, the next first connection): it stopped at folio's first frame
 * and the commit was lost.
 *
 * Here libsqlite3 commits in another process while folio's handle is idle,
 * then folio commits; a copy of the file and its WAL (what a crash leaves)
 * is opened by libsqlite3, which recovers the WAL from scratch: both commits
 * must be there.
 */
#include <criterion/criterion.h>
#include <folio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"

static void sqlite3_insert_elsewhere(const char *path, int id)
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        sqlite3 *s;
        char sql[128];
        snprintf(sql, sizeof sql, "PRAGMA wal_autocheckpoint=0; INSERT INTO t VALUES(%d, 'sqlite')",
                 id);
        int rc = sqlite3_open(path, &s);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(s, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            fprintf(stderr, "sqlite3: %s\n", sqlite3_errmsg(s));
        _exit(sqlite3_close(s) == SQLITE_OK && rc == SQLITE_OK ? 0 : 1);
    }
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the sqlite3 child failed");
}

static void folio_insert_row(folio_db *db, int id)
{
    folio_txn *tx;
    folio_table *t;
    cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_table_open(&t, tx, "t"), FOLIO_OK);
    folio_value v[2] = {{FOLIO_INTEGER, {.i = id}}, {FOLIO_TEXT, {.s = {"folio", 5}}}};
    cr_assert_eq(folio_insert(NULL, t, v, 2), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_commit(tx), FOLIO_OK, "%s", folio_errmsg(db));
}

Test(regress_chain, folio_commit_after_catching_up_survives_recovery)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "c.db");
    char *copy = compat_path(dir, "crash.db");
    folio_options o = FOLIO_OPTIONS_INIT;
    o.wal_autocheckpoint = 0; /* the frames stay in the WAL */
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, &o), FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *tx;
    cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(tx, "CREATE TABLE t(id INTEGER PRIMARY KEY, who TEXT)"), FOLIO_OK);
    cr_assert_eq(folio_commit(tx), FOLIO_OK, "%s", folio_errmsg(db));
    /* A read first, so that folio's index has looked at the WAL since. */
    cr_assert_eq(folio_begin(&tx, db, FOLIO_TXN_READ), FOLIO_OK);
    cr_assert_eq(folio_commit(tx), FOLIO_OK);
    for (int round = 0; round < 3; round++) {
        sqlite3_insert_elsewhere(path, 10 * round + 1); /* folio idle meanwhile */
        folio_insert_row(db, 10 * round + 2);           /* catches up, then appends */
    }
    /* What a crash would leave: the file and its WAL, no -shm. */
    compat_copy_db(path, copy, 1);
    cr_assert_eq(folio_close(db), FOLIO_OK);

    sqlite3 *s = compat_sqlite_open(copy);
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t"), 6,
                 "recovery of the WAL lost commits: the chain of folio's frames is broken");
    cr_assert_eq(compat_query_int(s, "SELECT count(*) FROM t WHERE who = 'folio'"), 3);
    compat_sqlite_close(s);
    char *ok = compat_integrity(copy);
    cr_assert_str_eq(ok, "ok");
    free(ok);
    compat_rmtree(dir);
    free(copy);
    free(path);
    free(dir);
}
