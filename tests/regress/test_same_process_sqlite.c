/*
 * folio and libsqlite3 on one file in one process. A libsqlite3 connection
 * stays open, idle, while folio handles open, commit and close. Closing a
 * descriptor drops every record lock the process holds on the file, and
 * libsqlite3 locks with record locks: folio's close of its -shm used to take
 * away the connection's dead-man lock, so the next folio handle took the
 * -shm for unused. The second close then deleted the -wal and -shm under
 * the connection, and from then on folio's commits went to new files that
 * the connection (and any new connection of the process, which shares the
 * old -shm) never saw: libsqlite3 read 12 rows where folio had committed 14.
 * Each commit is now read back by the idle connection and by a new one.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <folio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat.h"

static void commit_two(folio_db *db, int64_t *next)
{
    folio_txn *t;
    folio_table *tb;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK, "%s", folio_errmsg(db));
    cr_assert_eq(folio_table_open(&tb, t, "t"), FOLIO_OK);
    for (int i = 0; i < 2; i++) {
        folio_value v[2] = {{FOLIO_INTEGER, {.i = (*next)++}}, {FOLIO_TEXT, {.s = {"folio", 5}}}};
        cr_assert_eq(folio_insert(NULL, tb, v, 2), FOLIO_OK, "%s", folio_errmsg(db));
    }
    cr_assert_eq(folio_commit(t), FOLIO_OK, "%s", folio_errmsg(db));
}

static int64_t count_rows(sqlite3 *s)
{
    return compat_query_int(s, "SELECT count(*) FROM t");
}

Test(same_process_sqlite, an_idle_connection_keeps_seeing_folio_across_closes)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "s.db");
    char *shm = compat_suffix(path, "-shm");
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, NULL), FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(t, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"), FOLIO_OK);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    sqlite3 *idle = compat_sqlite_open(path);
    cr_assert_eq(count_rows(idle), 0);
    int64_t next = 1;
    for (int round = 0; round < 4; round++) {
        for (int k = 0; k < 2; k++) {
            commit_two(db, &next);
            cr_assert_eq(count_rows(idle), next - 1, "round %d: the idle connection", round);
            sqlite3 *fresh = compat_sqlite_open(path);
            cr_assert_eq(count_rows(fresh), next - 1, "round %d: a new connection", round);
            compat_sqlite_close(fresh);
        }
        cr_assert_eq(folio_close(db), FOLIO_OK);
        struct stat st;
        cr_assert_eq(stat(shm, &st), 0,
                     "round %d: folio's close removed the -shm of an open "
                     "connection",
                     round);
        cr_assert_eq(folio_open(&db, path, NULL), FOLIO_OK, "%s", folio_open_errmsg());
    }
    cr_assert_eq(folio_close(db), FOLIO_OK);
    cr_assert_eq(count_rows(idle), next - 1);
    compat_sqlite_close(idle);
    char *ok = compat_integrity(path);
    cr_assert_str_eq(ok, "ok");
    free(ok);
    sqlite3 *s = compat_sqlite_open(path);
    cr_assert_eq(count_rows(s), next - 1);
    compat_sqlite_close(s);
    compat_rmtree(dir);
    free(shm);
    free(path);
    free(dir);
}

static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* The descriptors kept for the connection's locks are taken again by the
 * next folio handle of the file: hundreds of opens and closes beside an
 * idle connection do not pile descriptors up. */
Test(same_process_sqlite, kept_descriptors_are_reused)
{
    char *dir = compat_tmpdir();
    char *path = compat_path(dir, "r.db");
    folio_db *db;
    cr_assert_eq(folio_open(&db, path, NULL), FOLIO_OK, "%s", folio_open_errmsg());
    folio_txn *t;
    cr_assert_eq(folio_begin(&t, db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(t, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"), FOLIO_OK);
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    cr_assert_eq(folio_close(db), FOLIO_OK);
    sqlite3 *idle = compat_sqlite_open(path);
    cr_assert_eq(count_rows(idle), 0);
    int64_t next = 1;
    int before = -1;
    for (int i = 0; i < 300; i++) {
        cr_assert_eq(folio_open(&db, path, NULL), FOLIO_OK, "%s", folio_open_errmsg());
        commit_two(db, &next);
        cr_assert_eq(folio_close(db), FOLIO_OK);
        if (i == 10)
            before = open_fds();
    }
    int after = open_fds();
    cr_assert(before > 0);
    cr_assert_leq(after, before + 2, "descriptors went from %d to %d", before, after);
    cr_assert_eq(count_rows(idle), next - 1);
    compat_sqlite_close(idle);
    char *ok = compat_integrity(path);
    cr_assert_str_eq(ok, "ok");
    free(ok);
    compat_rmtree(dir);
    free(path);
    free(dir);
}
