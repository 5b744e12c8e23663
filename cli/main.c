/*
 * main.c: the folio command-line tool: global options, the command table,
 * usage texts and dispatch.
 *
 *   folio [GLOBAL OPTIONS] COMMAND ARGS [GLOBAL OPTIONS]
 *
 * Global options may appear anywhere before "--": they are taken out of argv
 * here, and the command sees only its own arguments. Exit status: 0 success,
 * 1 the operation failed (one "folio: ..." line on stderr), 2 usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef FOLIO_CLI_VERSION
#define FOLIO_CLI_VERSION "0.1.0"
#endif

/* The commands, in the order the usage lists them. To add one, declare its
 * function in cli.h and add a line here. */
static const cli_command commands[] = {
    {"info", cmd_info, "DB", "header fields, page size, page counts, WAL state",
     "Prints every header field and file figure as one \"name: value\" line."},
    {"schema", cmd_schema, "DB", "the CREATE statements",
     "Prints each CREATE statement of sqlite_schema followed by ';', in schema\n"
     "order, like sqlite3's .schema (automatic indexes have none)."},
    {"tables", cmd_tables, "DB [--json]", "tables and indexes with row and page counts",
     "  --json    one JSON array of {name, type, table, rows, pages} objects\n"
     "Rows of a table are counted by walking it; pages include overflow pages."},
    {"dump", cmd_dump, "DB TABLE [--format jsonl|csv] [--rowid] [--where EXPR]",
     "the rows of a table",
     "  --format jsonl   (default) one JSON array of the column values per line:\n"
     "                   integers exact; reals with '.' or exponent, exact;\n"
     "                   {\"real\":\"Infinity\"}, {\"real\":\"-Infinity\"}; text as a string\n"
     "                   or {\"text_hex\":\"..\"} if not UTF-8; {\"blob\":\"<hex>\"}; null\n"
     "  --format csv     RFC 4180 with a header line, \"\\n\" line ends; NULL is an\n"
     "                   empty field, empty text is \"\"; blobs in hex\n"
     "  --rowid          put the rowid first\n"
     "  --where EXPR     only the rows for which the SQL expression EXPR is true,\n"
     "                   as in SQLite's WHERE (e.g. \"age > 50 AND area LIKE '12%'\")\n"
     "Rows come in rowid order (WITHOUT ROWID tables: primary key order)."},
    {"check", cmd_check, "DB [--max-errors N] [--quick] [--foreign-keys]", "full integrity check",
     "Prints \"ok\" and exits 0 when the file is sound; else prints one problem\n"
     "per line (at most N, default 100) and exits 1.\n"
     "  --quick         the structure only, as PRAGMA quick_check: pages, b-tree\n"
     "                  pages and cells, overflow chains, freelist, rowid order,\n"
     "                  record formats, index entry counts; records are not\n"
     "                  compared with each other (several times faster)\n"
     "  --foreign-keys  check foreign keys instead, as PRAGMA foreign_key_check:\n"
     "                  one line per row with no parent row (table, rowid or -,\n"
     "                  parent table, constraint id); exits 1 when there are any"},
    {"stats", cmd_stats, "DB [--json | --prometheus]",
     "storage figures per table and index, freelist, WAL",
     "  --json        one JSON object instead of the text report\n"
     "  --prometheus  the same figures in the Prometheus text format, as gauges\n"
     "                named folio_* (folio_table_rows{table=\"t\"}, folio_pages, ...)\n"
     "Per b-tree: pages (interior, leaf, overflow), entries, payload, unused and\n"
     "fragmented bytes, and fill = 1 - unused / (pages * page_size)."},
    {"exec", cmd_exec, "DB SQL",
     "run one DDL statement (CREATE/DROP TABLE, INDEX, VIEW or TRIGGER, ALTER TABLE)",
     "Runs SQL in a write transaction and commits it: CREATE TABLE, CREATE INDEX,\n"
     "CREATE VIEW, CREATE TRIGGER, DROP TABLE, DROP INDEX, DROP VIEW, DROP\n"
     "TRIGGER, or ALTER TABLE (ADD COLUMN, RENAME TO, RENAME COLUMN, DROP COLUMN;\n"
     "views and triggers are rewritten as SQLite does). The database is created\n"
     "if it does not exist (--page-size sets its page size)."},
    {"delete", cmd_delete, "DB TABLE --where EXPR", "delete the rows an expression selects",
     "  --where EXPR     (required) the SQL expression, as in SQLite's\n"
     "                   DELETE FROM TABLE WHERE EXPR; --where 1 deletes every row\n"
     "Deletes every matching row in one transaction (all or nothing) and prints\n"
     "\"deleted: N\"."},
    {"import", cmd_import,
     "DB TABLE FILE|- [--format csv|jsonl] [--header] [--create] [--null-empty]",
     "rows from a CSV or JSONL file into a table",
     "  --format csv     (default; jsonl for *.jsonl and *.ndjson files) RFC 4180:\n"
     "                   quoted fields may hold commas, quotes (\"\") and line\n"
     "                   breaks; LF or CRLF line ends. Every field is TEXT and the\n"
     "                   column's affinity applies, as in sqlite3's .import\n"
     "  --format jsonl   one row per line: an array of the column values in the\n"
     "                   encoding of dump, or an object {\"column\": value, ...}\n"
     "                   (columns it leaves out are NULL; those after the last\n"
     "                   one it names take their defaults)\n"
     "  --header         the first CSV line names the columns: skip it\n"
     "  --create         create the table if it is missing, with the columns of\n"
     "                   the header (or c1..cN) as TEXT; JSONL: named by the keys\n"
     "                   of the first object (or c1..cN), no declared type\n"
     "  --null-empty     an empty unquoted CSV field is NULL (\"\" stays '')\n"
     "All rows go in one transaction: a record with the wrong number of fields, a\n"
     "malformed line or a failed insert stops the import with the line number, and\n"
     "the table is left as it was."},
    {"apply", cmd_apply, "DB FILE|- [--autocommit]", "JSONL operations (insert, update, ...)",
     "One JSON object per line (values encoded as in dump):\n"
     "  {\"op\":\"insert\",\"table\":T,\"values\":[...]}        optional \"rowid\":R\n"
     "  {\"op\":\"update\",\"table\":T,\"rowid\":R,\"values\":[...]}\n"
     "  {\"op\":\"upsert\",\"table\":T,\"rowid\":R,\"values\":[...]}\n"
     "  {\"op\":\"patch\",\"table\":T,\"rowid\":R,\"set\":{\"col\":v,...}}\n"
     "  {\"op\":\"delete\",\"table\":T,\"rowid\":R}\n"
     "  {\"op\":\"exec\",\"sql\":\"CREATE ...\"}\n"
     "WITHOUT ROWID tables: update, patch and delete take \"key\":[...] (the primary\n"
     "key values) instead of \"rowid\"; upsert takes the key from its values.\n"
     "An insert with an existing rowid, and an update, patch or delete of a\n"
     "missing row, are errors. Blank lines are skipped.\n"
     "  --autocommit     commit every line on its own (default: the whole input\n"
     "                   is one transaction)\n"
     "On an error the message names the line and nothing of the failed\n"
     "transaction remains.\n"
     "A change feed (`folio feed`; its lines carry \"version\") makes DB a replica:\n"
     "each version is one transaction (no triggers, foreign keys or AUTOINCREMENT\n"
     "bookkeeping: the feed carries their effects), recorded in the table\n"
     "_folio_replica(source, version); versions already applied are passed over,\n"
     "so a replica can be fed again after any stop. A \"snapshot\" drops the\n"
     "replica's tables first. Input that ends inside a version leaves it out."},
    {"feed", cmd_feed, "DB [--from V] [--follow] [--table T]",
     "the commit log as JSONL operations that apply replays",
     "Prints the changes of every version from V on (default: from the start),\n"
     "one JSON object per line, each with \"version\", which `folio apply REPLICA`\n"
     "replays: first {\"op\":\"source\",\"source\":S} (the log's identity), then per\n"
     "version its insert, update, delete (with \"old\", the row before) and exec\n"
     "lines, then {\"version\":V,\"op\":\"commit\",\"time_us\":T}. A feed from before\n"
     "the oldest base of the log begins with that base as a snapshot\n"
     "({\"op\":\"snapshot\"}, its CREATE statements and its rows as inserts).\n"
     "  --from V     the first version wanted (0: from the start, with the snapshot)\n"
     "  --follow     at the end of the log wait for new versions and go on, until\n"
     "               SIGINT or SIGTERM ends the feed between versions\n"
     "  --table T    only T's row operations and the DDL that names T (triggers\n"
     "               left out)\n"
     "The database needs its commit log (folio_log_enable)."},
    {"relate", cmd_relate, "DB SOURCE TARGET [--kind K] [--weight W] [--data VALUE]",
     "add or update a graph edge",
     "Relates SOURCE to TARGET in the tables _concepts and _relations (created\n"
     "with the database when missing): inserts the edge (SOURCE, TARGET, K), or\n"
     "sets the weight and data of that edge when it exists; inserts the concepts\n"
     "that are missing. Prints nothing.\n"
     "  --kind K         the edge's kind (default: the empty kind)\n"
     "  --weight W       a number (default 1.0)\n"
     "  --data VALUE     the edge's data, one JSON value in the encoding of dump\n"
     "                   (42, 1.5, \"text\", {\"blob\":\"00ff\"}, null; default null)"},
    {"edges", cmd_edges, "DB KEY [--out|--in] [--kind K] [--json]", "the graph edges of a key",
     "Prints the edges whose source is KEY (--out), whose target is KEY (--in),\n"
     "or both (the default: outgoing first; an edge from KEY to itself once), one\n"
     "per line: out|in, source, target, kind, weight and data, separated by tabs\n"
     "(in source, target and kind, \\, tab, line feed and carriage return are\n"
     "written \\\\, \\t, \\n and \\r; weight and data in the encoding of dump).\n"
     "  --kind K         only the edges of kind K\n"
     "  --json           one JSON object per line: {\"dir\":\"out\",\"source\":..,\n"
     "                   \"target\":..,\"kind\":..,\"weight\":..,\"data\":..}\n"
     "Outgoing edges come in (target, kind) order, incoming ones in (kind, source)\n"
     "order. A database without edge tables has no edges."},
    {"checkpoint", cmd_checkpoint, "DB [--mode passive|full|restart|truncate]",
     "copy WAL frames into the database file",
     "  --mode passive   (default) copy what no reader needs\n"
     "  --mode full      wait for readers, then copy every frame\n"
     "  --mode restart   as full, then start the WAL over\n"
     "  --mode truncate  as restart, and truncate the -wal file to 0 bytes\n"
     "Prints \"wal frames: N, checkpointed: M\". A checkpoint held back by a reader\n"
     "or a lock of another process fails (exit 1) with the reason."},
    {"log", cmd_log,
     "DB [--json] | enable DB [--compression zstd|lz4] | disable DB | prune DB "
     "--keep-versions N|--keep-days D | ship DB DIR",
     "the commit log: list, turn on or off, prune, ship",
     "  folio log DB [--json]\n"
     "      one line per record of the log DB-log/ (or of DB, a log directory), in\n"
     "      version order: version, UTC time (ISO 8601), commit, changes, pages,\n"
     "      raw and stored bytes; \"V1-V2 ... gap\" for versions the log has no\n"
     "      record of; \"V ... base\" for a base (every page at version V)\n"
     "      --json: one object per line {\"kind\":\"commit\"|\"gap\"|\"base\",\n"
     "      \"version\",\"time\",\"time_us\",\"changes\",\"pages\",\"raw_bytes\",\n"
     "      \"stored_bytes\",\"file\",\"offset\"} (a gap: \"last_version\" too).\n"
     "      Every record is verified as it is read: a damaged log fails (exit 1)\n"
     "      naming the file and the offset\n"
     "  folio log enable DB [--compression zstd|lz4]\n"
     "      turn the log on (persistent: every folio writer of DB appends to it)\n"
     "      with a base of DB now; zstd by default\n"
     "  folio log disable DB\n"
     "      turn it off; the files stay (enabling it again records the versions\n"
     "      in between as a gap followed by a new base)\n"
     "  folio log prune DB --keep-versions N | --keep-days D\n"
     "      keep the last N versions (or those of the last D days, fractions\n"
     "      allowed, and the one in force D days ago) restorable; remove older\n"
     "      bases and whole segments, after making a base at the oldest version\n"
     "      kept when that frees segments\n"
     "  folio log ship DB DIR\n"
     "      copy the log into DIR (created if missing): new and grown files only,\n"
     "      each synced under a temporary name and renamed; DIR is a log that\n"
     "      folio restore reads. Run it again to bring DIR up to date"},
    {"restore", cmd_restore, "SRC DEST --version V | --time ISO8601 [--check quick|full]",
     "rebuild the database of a past version from its commit log",
     "SRC is a database (its log DB-log/ is read) or a log directory (one that\n"
     "folio log ship wrote). DEST must not exist; it appears only once it is\n"
     "complete, synced, read back against a checksum and checked (as\n"
     "`folio check --quick` does; --check full: as `folio check`). Prints\n"
     "\"version N\".\n"
     "  --version V       the database as version V left it\n"
     "  --time T          as of time T: the last version committed at or before\n"
     "                    T; ISO 8601 with a zone, e.g. 2026-12-07T18:30:00Z or\n"
     "                    2026-12-07T18:30:00.125+01:00\n"
     "A damaged log, the log of another database, a version the log cannot\n"
     "rebuild (pruned, past its end, in a gap) or a time before its first base\n"
     "fail (exit 1) and DEST is not created."},
    {"vacuum", cmd_vacuum, "DB [--into DEST]", "rebuild the database packed, without free pages",
     "Rewrites every table and index in key order with full pages and no freelist,\n"
     "as SQLite's VACUUM, keeping every rowid, in one transaction: a crash leaves\n"
     "the old database or the new one. Readers of other connections keep their\n"
     "snapshots meanwhile; the file shrinks once no reader needs the old pages.\n"
     "  --into DEST      write the rebuilt database to the new file DEST instead\n"
     "                   (an error if DEST exists); DB is only read. DEST appears\n"
     "                   whole or not at all\n"
     "Prints \"pages before: N (F free)\" and \"pages after: M (0 free)\"."},
    {"backup", cmd_backup, "DB DEST [--check quick|full]",
     "copy one version of the database to a new file, online",
     "Copies a snapshot of DB (the newest commit when it starts) to the new file\n"
     "DEST (an error if DEST exists) while other connections go on writing: the\n"
     "copy never restarts and keeps no writer waiting. It is written beside DEST\n"
     "as DEST-backup, synced, read back against a checksum of what was read from\n"
     "the snapshot and checked as `folio check --quick` does, and only then\n"
     "renamed to DEST: DEST appears whole and verified, or not at all. DEST is a\n"
     "database on its own (no -wal file).\n"
     "  --check full     check the copy as `folio check` does (every record and\n"
     "                   index entry too; several times slower); quick: the default\n"
     "Prints \"version N\": the version of the database DEST holds."},
};

const cli_command *cli_commands(size_t *out_count)
{
    *out_count = sizeof commands / sizeof commands[0];
    return commands;
}

static const char global_options_text[] =
    "global options (before or after the command):\n"
    "  --sync off|normal|full   when to fsync (default normal)\n"
    "  --cache-mb N             page cache budget in MiB (default 64)\n"
    "  --mmap-mb N              read the file in place through a map of up to N MiB\n"
    "                           (default 16384; 0: no map; see mmap_bytes in folio.h)\n"
    "  --page-size N            page size of new files, 512..65536 (default 4096)\n"
    "  --busy-timeout MS        wait up to MS milliseconds for other connections' locks\n"
    "                           (default 5000; 0: fail at once)\n"
    "  --foreign-keys on|off    enforce foreign keys as PRAGMA foreign_keys (default off)\n"
    "  --recursive-triggers on|off\n"
    "                           let triggers fire themselves, as PRAGMA recursive_triggers\n"
    "                           (default off)\n"
    "  --log-compression zstd|lz4\n"
    "                           compress the commit log records this run writes so\n"
    "                           (default: as `folio log enable` chose)\n"
    "  -h, --help               show help (of a command: folio COMMAND --help)\n"
    "  --version                print the version\n"
    "environment (below the flags): FOLIO_SYNC, FOLIO_CACHE_MB, FOLIO_MMAP_MB,\n"
    "  FOLIO_WAL_AUTOCHECKPOINT, FOLIO_BUSY_TIMEOUT_MS, FOLIO_TXN_TIMEOUT_MS,\n"
    "  FOLIO_FOREIGN_KEYS, FOLIO_RECURSIVE_TRIGGERS, FOLIO_MAX_WRITE_TXNS,\n"
    "  FOLIO_LOG_COMPRESSION\n"
    "  (see folio_options_from_env)\n";

void cli_print_usage(FILE *f, const cli_command *cmd, int full)
{
    if (cmd) {
        fprintf(f, "usage: folio %s %s\n", cmd->name, cmd->args);
        if (full) {
            fprintf(f, "%s.\n", cmd->summary);
            if (cmd->help)
                fprintf(f, "%s\n", cmd->help);
            fprintf(f, "\n%s", global_options_text);
        } else {
            fprintf(f, "Try 'folio %s --help'.\n", cmd->name);
        }
        return;
    }
    fprintf(f, "usage: folio [OPTIONS] COMMAND ARGS\n");
    if (full)
        fprintf(f, "\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const cli_command *c = &commands[i];
        if (full && strlen(c->args) <= 40)
            fprintf(f, "  %-10s %-40s %s\n", c->name, c->args, c->summary);
        else if (full) /* a long synopsis gets a line of its own */
            fprintf(f, "  %-10s %s\n  %-10s %-40s %s\n", c->name, c->args, "", "", c->summary);
        else
            fprintf(f, "  folio %s %s\n", c->name, c->args);
    }
    if (full)
        fprintf(f, "\n%s\nexit status: 0 success, 1 failure, 2 usage error\n", global_options_text);
    else
        fprintf(f, "Try 'folio --help'.\n");
}

static const cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* ---- Global options ----------------------------------------------------------- */

typedef struct global_args {
    int help;
    int version;
} global_args;

static int set_global(const char *name, const char *value)
{
    uint64_t n;
    if (strcmp(name, "--sync") == 0) {
        if (strcmp(value, "off") == 0)
            cli_global_opts.sync = FOLIO_SYNC_OFF;
        else if (strcmp(value, "normal") == 0)
            cli_global_opts.sync = FOLIO_SYNC_NORMAL;
        else if (strcmp(value, "full") == 0)
            cli_global_opts.sync = FOLIO_SYNC_FULL;
        else
            return cli_usage_error(NULL, "--sync: expected off, normal or full, not '%s'", value);
    } else if (strcmp(name, "--mmap-mb") == 0) {
        if (cli_parse_u64(value, &n) != 0 || n > SIZE_MAX / (1024 * 1024))
            return cli_usage_error(NULL, "--mmap-mb: expected a number of MiB, not '%s'", value);
        cli_global_opts.mmap_bytes = (size_t)n * 1024 * 1024;
        cli_global_opts.mmap_given = 1;
    } else if (strcmp(name, "--foreign-keys") == 0) {
        if (strcmp(value, "on") == 0)
            cli_global_opts.foreign_keys = 1;
        else if (strcmp(value, "off") == 0)
            cli_global_opts.foreign_keys = 0;
        else
            return cli_usage_error(NULL, "--foreign-keys: expected on or off, not '%s'", value);
    } else if (strcmp(name, "--recursive-triggers") == 0) {
        if (strcmp(value, "on") == 0)
            cli_global_opts.recursive_triggers = 1;
        else if (strcmp(value, "off") == 0)
            cli_global_opts.recursive_triggers = 0;
        else
            return cli_usage_error(NULL, "--recursive-triggers: expected on or off, not '%s'",
                                   value);
    } else if (strcmp(name, "--log-compression") == 0) {
        if (strcmp(value, "zstd") == 0)
            cli_global_opts.log_compression = FOLIO_LOG_ZSTD;
        else if (strcmp(value, "lz4") == 0)
            cli_global_opts.log_compression = FOLIO_LOG_LZ4;
        else
            return cli_usage_error(NULL, "--log-compression: expected zstd or lz4, not '%s'",
                                   value);
    } else if (strcmp(name, "--busy-timeout") == 0) {
        if (cli_parse_u64(value, &n) != 0 || n > 86400000)
            return cli_usage_error(
                NULL, "--busy-timeout: expected a number of milliseconds (at most a day), not '%s'",
                value);
        cli_global_opts.busy_timeout_ms = (unsigned)n;
        cli_global_opts.busy_given = 1;
    } else if (strcmp(name, "--cache-mb") == 0) {
        if (cli_parse_u64(value, &n) != 0 || n == 0 || n > SIZE_MAX / (1024 * 1024))
            return cli_usage_error(NULL, "--cache-mb: expected a positive number of MiB, not '%s'",
                                   value);
        cli_global_opts.cache_bytes = (size_t)n * 1024 * 1024;
    } else {
        if (cli_parse_u64(value, &n) != 0 || n < 512 || n > 65536 || (n & (n - 1)) != 0)
            return cli_usage_error(
                NULL, "--page-size: expected a power of two from 512 to 65536, not '%s'", value);
        cli_global_opts.page_size = (unsigned)n;
    }
    return CLI_EXIT_OK;
}

/* Move the global options out of argv[1..] into cli_global_opts and `g`; the
 * remaining arguments go to `rest`. Returns CLI_EXIT_OK or CLI_EXIT_USAGE. */
static int take_globals(int argc, char **argv, char **rest, int *out_nrest, global_args *g)
{
    static const char *const valued[] = {"--sync",
                                         "--cache-mb",
                                         "--mmap-mb",
                                         "--page-size",
                                         "--busy-timeout",
                                         "--foreign-keys",
                                         "--recursive-triggers",
                                         "--log-compression"};
    int nrest = 0;
    int i = 1;
    for (; i < argc; i++) {
        char *arg = argv[i];
        if (strcmp(arg, "--") == 0)
            break;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            g->help = 1;
            continue;
        }
        /* "restore ... --version V" names a version of the database. */
        if (strcmp(arg, "--version") == 0 &&
            !(nrest > 0 && strcmp(rest[0], "restore") == 0 && i + 1 < argc)) {
            g->version = 1;
            continue;
        }
        int taken = 0;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) {
            size_t len = strlen(valued[k]);
            if (strncmp(arg, valued[k], len) != 0 || (arg[len] != '\0' && arg[len] != '='))
                continue;
            const char *value;
            /* "--foreign-keys" without on/off after it is check's own flag. */
            if (strcmp(valued[k], "--foreign-keys") == 0 && arg[len] == '\0' &&
                (i + 1 >= argc ||
                 (strcmp(argv[i + 1], "on") != 0 && strcmp(argv[i + 1], "off") != 0)))
                break;
            if (arg[len] == '=') {
                value = arg + len + 1;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                return cli_usage_error(NULL, "option %s needs a value", valued[k]);
            }
            int rc = set_global(valued[k], value);
            if (rc != CLI_EXIT_OK)
                return rc;
            taken = 1;
            break;
        }
        if (!taken)
            rest[nrest++] = arg;
    }
    /* Everything from "--" on belongs to the command, "--" included, so that
     * the command's own parser also stops taking options there. */
    for (; i < argc; i++)
        rest[nrest++] = argv[i];
    *out_nrest = nrest;
    return CLI_EXIT_OK;
}

/* ---- Dispatch ------------------------------------------------------------------------ */

static int run(int argc, char **argv, char **rest)
{
    global_args g = {0, 0};
    int nrest = 0;
    int rc = take_globals(argc, argv, rest, &nrest, &g);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (g.version) {
        cli_out_puts("folio " FOLIO_CLI_VERSION "\n");
        return CLI_EXIT_OK;
    }
    if (nrest == 0) {
        if (g.help) {
            cli_print_usage(stdout, NULL, 1);
            return CLI_EXIT_OK;
        }
        return cli_usage_error(NULL, "missing command");
    }
    const char *name = rest[0];
    if (strcmp(name, "help") == 0) {
        const cli_command *cmd = nrest > 1 ? find_command(rest[1]) : NULL;
        if (nrest > 1 && !cmd)
            return cli_usage_error(NULL, "unknown command: %s", rest[1]);
        cli_print_usage(stdout, cmd, 1);
        return CLI_EXIT_OK;
    }
    const cli_command *cmd = find_command(name);
    if (!cmd && name[0] == '-')
        return cli_usage_error(NULL, "unknown option before the command: %s", name);
    if (!cmd)
        return cli_usage_error(NULL, "unknown command: %s", name);
    if (g.help) {
        cli_print_usage(stdout, cmd, 1);
        return CLI_EXIT_OK;
    }
    return cmd->run(cmd, nrest - 1, rest + 1);
}

int main(int argc, char **argv)
{
    cli_out_init();
    char **rest = malloc(((size_t)argc + 1) * sizeof *rest);
    if (!rest) {
        cli_fail("out of memory");
        return CLI_EXIT_FAIL;
    }
    int rc = run(argc, argv, rest);
    free(rest);
    return cli_out_finish(rc);
}
