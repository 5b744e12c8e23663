/*
 * cmd_write.c: the write commands of the folio tool that take no bulk input
 * of rows: exec (one DDL statement), apply (JSONL operations, see apply.h)
 * checkpoint, delete, vacuum and backup. import lives in cmd_import.c.
 *
 * A write command opens the database read-write, does its work in write
 * transactions and closes it, which checkpoints and removes the -wal file.
 * A failure rolls back the transaction: nothing of it reaches the file.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <string.h>

#include "apply.h"
#include "cli.h"
#include "input.h"
#include "progress.h"

/* Close `db` at the end of a command that returned `rc`. */
static int close_db(folio_db *db, const char *path, int rc)
{
    if (!db)
        return rc;
    int frc = folio_close(db);
    if (frc < 0 && rc == CLI_EXIT_OK)
        rc = cli_fail("%s: cannot close: %s", path, folio_strerror(frc));
    return rc;
}

/* ---- exec -------------------------------------------------------------------------- */

int cmd_exec(const cli_command *cmd, int argc, char **argv)
{
    char *pos[2];
    int npos = 0;
    int rc = cli_parse_args(cmd, argc, argv, NULL, pos, 2, 2, &npos);
    if (rc != CLI_EXIT_OK)
        return rc;
    const char *path = pos[0], *sql = pos[1];

    folio_db *db = NULL;
    if (cli_open_db(&db, path, FOLIO_OPEN_CREATE) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;
    folio_txn *txn = NULL;
    int frc = folio_begin(&txn, db, FOLIO_TXN_WRITE);
    if (frc < 0)
        return close_db(db, path,
                        cli_fail_db(db, frc, "%s: cannot begin a write transaction", path));
    frc = folio_exec(txn, sql);
    if (frc < 0) {
        rc = cli_fail_db(db, frc, "%s", path);
        folio_rollback(txn);
        return close_db(db, path, rc);
    }
    frc = folio_commit(txn);
    if (frc < 0)
        rc = cli_fail_db(db, frc, "%s: cannot commit", path);
    return close_db(db, path, rc);
}

/* ---- apply ------------------------------------------------------------------------- */

int cmd_apply(const cli_command *cmd, int argc, char **argv)
{
    int autocommit = 0;
    const cli_opt opts[] = {{"--autocommit", NULL, &autocommit}, {NULL, NULL, NULL}};
    char *pos[2];
    int npos = 0;
    int rc = cli_parse_args(cmd, argc, argv, opts, pos, 2, 2, &npos);
    if (rc != CLI_EXIT_OK)
        return rc;
    const char *path = pos[0];

    /* The input first: a missing input file must not create the database. */
    cli_input in;
    if (input_open(&in, pos[1]) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;
    folio_db *db = NULL;
    if (cli_open_db(&db, path, FOLIO_OPEN_CREATE) != CLI_EXIT_OK) {
        input_close(&in);
        return CLI_EXIT_FAIL;
    }
    cli_apply a;
    apply_init(&a, db, autocommit);
    cli_progress prog;
    progress_start_sized(&prog, "apply", in.size, "lines");
    int failed = apply_input(&a, &in, &prog) != 0;
    progress_finish(&prog); /* erase the line before the error goes there */
    if (failed)
        rc = cli_fail("%s", a.err);
    apply_free(&a);
    input_close(&in);
    return close_db(db, path, rc);
}

/* ---- checkpoint -------------------------------------------------------------------- */

int cmd_checkpoint(const cli_command *cmd, int argc, char **argv)
{
    static const struct {
        const char *name;
        int mode;
    } modes[] = {
        {"passive", FOLIO_CHECKPOINT_PASSIVE},
        {"full", FOLIO_CHECKPOINT_FULL},
        {"restart", FOLIO_CHECKPOINT_RESTART},
        {"truncate", FOLIO_CHECKPOINT_TRUNCATE},
    };
    const char *mode_name = "passive";
    const cli_opt opts[] = {{"--mode", &mode_name, NULL}, {NULL, NULL, NULL}};
    char *pos[1];
    int npos = 0;
    int rc = cli_parse_args(cmd, argc, argv, opts, pos, 1, 1, &npos);
    if (rc != CLI_EXIT_OK)
        return rc;
    int mode = -1;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(modes[i].name, mode_name) == 0)
            mode = modes[i].mode;
    if (mode < 0)
        return cli_usage_error(
            cmd, "checkpoint: unknown mode '%s' (expected passive, full, restart or truncate)",
            mode_name);
    const char *path = pos[0];

    folio_db *db = NULL;
    if (cli_open_db(&db, path, 0) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;
    /* folio_checkpoint() reports no steps: a terminal just sees "working". */
    cli_progress prog;
    progress_start(&prog, "checkpoint", 0, NULL);
    progress_show(&prog);
    int log = 0, done = 0;
    int frc = folio_checkpoint(db, mode, &log, &done);
    progress_finish(&prog);
    /* FOLIO_BUSY: a reader held frames back (full, restart, truncate) or
     * another process holds a lock; the library's message says which. */
    if (frc < 0)
        return close_db(db, path, cli_fail_db(db, frc, "%s", path));
    cli_out_printf("wal frames: %d, checkpointed: %d\n", log, done);
    return close_db(db, path, cli_out_failed() ? CLI_EXIT_FAIL : CLI_EXIT_OK);
}

/* ---- delete ------------------------------------------------------------------------ */

int cmd_delete(const cli_command *cmd, int argc, char **argv)
{
    const char *where = NULL;
    const cli_opt opts[] = {{"--where", &where, NULL}, {NULL, NULL, NULL}};
    char *pos[2];
    int npos = 0;
    int rc = cli_parse_args(cmd, argc, argv, opts, pos, 2, 2, &npos);
    if (rc != CLI_EXIT_OK)
        return rc;
    /* Deleting every row is a choice to spell out (--where 1), not a
     * forgotten option. */
    if (!where)
        return cli_usage_error(cmd,
                               "delete: --where EXPR is required (--where 1 deletes every row)");
    const char *path = pos[0], *table = pos[1];

    folio_db *db = NULL;
    if (cli_open_db(&db, path, 0) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;
    folio_txn *txn = NULL;
    int frc = folio_begin(&txn, db, FOLIO_TXN_WRITE);
    if (frc < 0)
        return close_db(db, path,
                        cli_fail_db(db, frc, "%s: cannot begin a write transaction", path));
    folio_table *t = NULL;
    int64_t count = 0;
    frc = folio_table_open(&t, txn, table);
    if (frc == FOLIO_NOTFOUND_ERR)
        rc = cli_fail("no such table: %s", table);
    else if (frc < 0)
        rc = cli_fail_db(db, frc, "%s: cannot open table %s", path, table);
    else if ((frc = folio_delete_where(&count, t, where)) < 0)
        rc = cli_fail_db(db, frc, "%s: delete from %s", path, table);
    if (rc != CLI_EXIT_OK) {
        folio_rollback(txn);
        return close_db(db, path, rc);
    }
    frc = folio_commit(txn);
    if (frc < 0)
        return close_db(db, path, cli_fail_db(db, frc, "%s: cannot commit", path));
    cli_out_printf("deleted: %lld\n", (long long)count);
    return close_db(db, path, cli_out_failed() ? CLI_EXIT_FAIL : CLI_EXIT_OK);
}

/* ---- vacuum ------------------------------------------------------------------------ */

/* The page count and freelist pages of a snapshot of `db`. */
static int db_pages(folio_db *db, uint32_t *pages, uint32_t *freelist)
{
    folio_txn *txn = NULL;
    int frc = folio_begin(&txn, db, FOLIO_TXN_READ);
    if (frc < 0)
        return frc;
    folio_info in;
    frc = folio_info_get(&in, txn);
    folio_rollback(txn);
    if (frc < 0)
        return frc;
    *pages = in.page_count;
    *freelist = in.freelist_pages;
    return 0;
}

static void vacuum_progress(void *arg, uint64_t done, uint64_t total)
{
    cli_progress *prog = arg;
    prog->total = total;
    progress_update(prog, done);
}

int cmd_vacuum(const cli_command *cmd, int argc, char **argv)
{
    const char *into = NULL;
    const cli_opt opts[] = {{"--into", &into, NULL}, {NULL, NULL, NULL}};
    char *pos[1];
    int npos = 0;
    int rc = cli_parse_args(cmd, argc, argv, opts, pos, 1, 1, &npos);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (into && !into[0])
        return cli_usage_error(cmd, "vacuum: --into needs a file name");
    const char *path = pos[0];

    /* VACUUM INTO only reads the database. */
    folio_db *db = NULL;
    if (cli_open_db(&db, path, into ? FOLIO_OPEN_READONLY : 0) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;
    uint32_t before = 0, free_before = 0, after = 0, free_after = 0;
    int frc = db_pages(db, &before, &free_before);
    if (frc < 0)
        return close_db(db, path, cli_fail_db(db, frc, "%s", path));
    cli_progress prog;
    progress_start(&prog, "vacuum", 0, "pages");
    frc = folio_vacuum_progress(db, into, vacuum_progress, &prog);
    progress_finish(&prog);
    if (frc < 0)
        return close_db(db, path, cli_fail_db(db, frc, "%s", into ? into : path));
    if (!into) {
        frc = db_pages(db, &after, &free_after);
        if (frc < 0)
            return close_db(db, path, cli_fail_db(db, frc, "%s", path));
    } else {
        /* Read-write (never creating): its close leaves no -shm behind. */
        folio_db *out = NULL;
        if (cli_open_db(&out, into, 0) != CLI_EXIT_OK)
            return close_db(db, path, CLI_EXIT_FAIL);
        frc = db_pages(out, &after, &free_after);
        if (frc < 0)
            rc = cli_fail_db(out, frc, "%s", into);
        if (folio_close(out) < 0 && rc == CLI_EXIT_OK)
            rc = cli_fail("%s: cannot close", into);
        if (rc != CLI_EXIT_OK)
            return close_db(db, path, rc);
    }
    cli_out_printf("pages before: %u (%u free)\npages after: %u (%u free)\n", before, free_before,
                   after, free_after);
    /* Closing checkpoints: the file takes its new size. */
    return close_db(db, path, cli_out_failed() ? CLI_EXIT_FAIL : CLI_EXIT_OK);
}

/* ---- backup ------------------------------------------------------------------------ */

int cmd_backup(const cli_command *cmd, int argc, char **argv)
{
    char *pos[2];
    int npos = 0;
    const char *check_s = NULL;
    const cli_opt opts[] = {{"--check", &check_s, NULL}, {NULL, NULL, NULL}};
    int rc = cli_parse_args(cmd, argc, argv, opts, pos, 2, 2, &npos);
    if (rc != CLI_EXIT_OK)
        return rc;
    const char *path = pos[0], *dest = pos[1];
    if (!dest[0])
        return cli_usage_error(cmd, "backup: DEST must name a file");
    int check;
    if (cli_parse_check_level(check_s, &check) != 0)
        return cli_usage_error(cmd, "backup: --check: expected quick or full, not '%s'", check_s);

    /* A backup only reads the database. */
    folio_db *db = NULL;
    if (cli_open_db(&db, path, FOLIO_OPEN_READONLY) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;
    cli_progress prog;
    progress_start(&prog, "backup", 0, "pages");
    uint64_t version = 0;
    int frc = folio_backup_ex(db, dest, check, &version, vacuum_progress, &prog);
    progress_finish(&prog);
    if (frc < 0)
        return close_db(db, path, cli_fail_db(db, frc, "%s", dest));
    cli_out_printf("version %llu\n", (unsigned long long)version);
    return close_db(db, path, cli_out_failed() ? CLI_EXIT_FAIL : CLI_EXIT_OK);
}
