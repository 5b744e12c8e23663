/*
 * cmd_feed.c: `folio feed DB [--from V] [--follow] [--table T]`, the commit
 * log as JSONL operations that `folio apply` replays (apply.h).
 *
 * The first line names the log, {"op":"source","source":S}; then each
 * version's operations, each with "version": insert ("rowid" for rowid
 * tables), update and delete ("rowid", or "key" for WITHOUT ROWID tables,
 * and "old", the row before), exec (DDL), and a snapshot of a base
 * ("snapshot", its CREATE statements and rows); and after them
 * {"version":V,"op":"commit","time_us":T}. Values are row value arrays
 * (generated columns left out) in the encoding of dump. Output is flushed
 * after every version when following.
 *
 * --follow: at the end of the log, wait for new versions (folio_wait_version)
 * and go on, until SIGINT or SIGTERM, which end the feed between versions
 * (exit 0). --table T: only T's row operations, and the DDL that names T
 * (but triggers); versions with none of them are left out.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "jsonval.h"

static volatile sig_atomic_t feed_stop;

static void on_signal(int sig)
{
    (void)sig;
    feed_stop = 1;
}

/* A row value array: the columns that are not generated. */
static void put_row(cli_buf *b, const folio_change *c, const folio_value *v)
{
    cli_buf_putc(b, '[');
    int first = 1;
    for (int i = 0; i < c->ncols; i++) {
        if (c->generated && c->generated[i])
            continue;
        if (!first)
            cli_buf_putc(b, ',');
        first = 0;
        jv_put_value(b, &v[i]);
    }
    cli_buf_putc(b, ']');
}

static void put_head(cli_buf *b, const folio_change *c, const char *op)
{
    cli_buf_puts(b, "{\"version\":");
    jv_put_int(b, (int64_t)c->version);
    cli_buf_puts(b, ",\"op\":\"");
    cli_buf_puts(b, op);
    cli_buf_putc(b, '"');
}

static void put_table(cli_buf *b, const folio_change *c)
{
    cli_buf_puts(b, ",\"table\":");
    jv_put_string_lossy(b, c->table, strlen(c->table));
    if (c->without_rowid) {
        if (c->op != FOLIO_CHANGE_INSERT) {
            cli_buf_puts(b, ",\"key\":[");
            for (int i = 0; i < c->nkey; i++) {
                if (i)
                    cli_buf_putc(b, ',');
                jv_put_value(b, &c->key[i]);
            }
            cli_buf_putc(b, ']');
        }
    } else {
        cli_buf_puts(b, ",\"rowid\":");
        jv_put_int(b, c->rowid);
    }
}

/* One change as a line (nothing for a change --table leaves out). */
static void put_change(cli_buf *b, const folio_change *c)
{
    switch (c->op) {
    case FOLIO_CHANGE_INSERT:
        put_head(b, c, "insert");
        put_table(b, c);
        cli_buf_puts(b, ",\"values\":");
        put_row(b, c, c->values);
        break;
    case FOLIO_CHANGE_UPDATE:
        put_head(b, c, "update");
        put_table(b, c);
        cli_buf_puts(b, ",\"values\":");
        put_row(b, c, c->values);
        cli_buf_puts(b, ",\"old\":");
        put_row(b, c, c->old);
        break;
    case FOLIO_CHANGE_DELETE:
        put_head(b, c, "delete");
        put_table(b, c);
        cli_buf_puts(b, ",\"old\":");
        put_row(b, c, c->old);
        break;
    case FOLIO_CHANGE_EXEC:
        put_head(b, c, "exec");
        cli_buf_puts(b, ",\"sql\":");
        jv_put_string_lossy(b, c->sql, strlen(c->sql));
        break;
    case FOLIO_CHANGE_SNAPSHOT:
    case FOLIO_CHANGE_COMMIT:
        put_head(b, c, c->op == FOLIO_CHANGE_SNAPSHOT ? "snapshot" : "commit");
        cli_buf_puts(b, ",\"time_us\":");
        jv_put_int(b, c->time_us);
        break;
    default:
        return;
    }
    cli_buf_puts(b, "}\n");
}

/* Whether SQL is CREATE TRIGGER or DROP TRIGGER. */
static int is_trigger_ddl(const char *sql)
{
    const char *w[2];
    size_t n[2];
    const char *p = sql;
    for (int i = 0; i < 2; i++) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        w[i] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        n[i] = (size_t)(p - w[i]);
    }
    return ((n[0] == 6 && strncasecmp(w[0], "CREATE", 6) == 0) ||
            (n[0] == 4 && strncasecmp(w[0], "DROP", 4) == 0)) &&
           n[1] == 7 && strncasecmp(w[1], "TRIGGER", 7) == 0;
}

/* Whether --table keeps the change (and a replica's own bookkeeping table
 * is never fed: it is not the source's data). A filtered feed leaves
 * triggers out: what they write to other tables is not in it, and a
 * trigger that names a table the replica lacks would stop its DDL. */
static int wanted(const folio_change *c, const char *table)
{
    if (c->op == FOLIO_CHANGE_SNAPSHOT || c->op == FOLIO_CHANGE_COMMIT)
        return 1;
    if (c->table && strcasecmp(c->table, "_folio_replica") == 0)
        return 0;
    if (!table)
        return 1;
    if (c->op == FOLIO_CHANGE_EXEC && is_trigger_ddl(c->sql))
        return 0;
    return c->table && strcasecmp(c->table, table) == 0;
}

int cmd_feed(const cli_command *cmd, int argc, char **argv)
{
    const char *from = NULL, *table = NULL;
    int follow = 0;
    const cli_opt opts[] = {{"--from", &from, NULL},
                            {"--follow", NULL, &follow},
                            {"--table", &table, NULL},
                            {NULL, NULL, NULL}};
    char *pos[1];
    int npos = 0;
    int rc = cli_parse_args(cmd, argc, argv, opts, pos, 1, 1, &npos);
    if (rc != CLI_EXIT_OK)
        return rc;
    uint64_t from_version = 0;
    if (from && cli_parse_u64(from, &from_version) != 0)
        return cli_usage_error(cmd, "--from: '%s' is not a version", from);
    const char *path = pos[0];
    folio_db *db = NULL;
    if (cli_open_db(&db, path, FOLIO_OPEN_READONLY) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;
    folio_feed *f = NULL;
    int frc = folio_feed_open(&f, db, from_version);
    if (frc < 0) {
        rc = cli_fail_db(db, frc, "%s: cannot feed", path);
        folio_close(db);
        return rc;
    }
    if (follow) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    cli_buf b = CLI_BUF_INIT;
    const char *source = "";
    folio_feed_source(f, &source);
    cli_buf_puts(&b, "{\"op\":\"source\",\"source\":");
    jv_put_string(&b, source, strlen(source));
    cli_buf_puts(&b, "}\n");
    if (cli_out_buf(&b) != 0)
        rc = CLI_EXIT_FAIL;
    /* With --table the lines of a version wait in `b` until its commit,
     * which may leave the whole version out. */
    int kept = 0;
    while (rc == CLI_EXIT_OK) {
        folio_change c;
        frc = folio_feed_next(f, &c);
        if (frc == FOLIO_ROW) {
            if (!wanted(&c, table))
                continue;
            if (c.op == FOLIO_CHANGE_COMMIT) {
                if (kept || !table)
                    put_change(&b, &c);
                else
                    b.n = 0; /* nothing of T in it */
                kept = 0;
                if (cli_out_buf(&b) != 0) {
                    rc = CLI_EXIT_FAIL;
                    break;
                }
                if (follow)
                    fflush(stdout);
                if (feed_stop)
                    break;
                continue;
            }
            if (c.op != FOLIO_CHANGE_SNAPSHOT)
                kept = 1;
            put_change(&b, &c);
            if (b.n > ((size_t)1 << 20) && !table && cli_out_buf(&b) != 0)
                rc = CLI_EXIT_FAIL;
            continue;
        }
        if (frc < 0) {
            rc = cli_fail_db(db, frc, "%s: feed", path);
            break;
        }
        /* The end of the log as it is now. */
        if (!follow || feed_stop)
            break;
        fflush(stdout);
        uint64_t v = 0;
        if ((frc = folio_version(db, &v)) < 0 ||
            ((frc = folio_wait_version(db, v, 250)) < 0 && frc != FOLIO_TIMEOUT)) {
            rc = cli_fail_db(db, frc, "%s: waiting for new versions", path);
            break;
        }
        if (feed_stop)
            break;
    }
    cli_buf_free(&b);
    folio_feed_close(f);
    frc = folio_close(db);
    if (frc < 0 && rc == CLI_EXIT_OK)
        rc = cli_fail("%s: cannot close: %s", path, folio_strerror(frc));
    return rc;
}
