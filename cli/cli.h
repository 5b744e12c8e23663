/*
 * cli.h: shared declarations of the folio command-line tool.
 *
 * The tool is a client of include/folio.h only. Each command is a function
 * `int cmd_<name>(const cli_command *cmd, int argc, char **argv)` that gets the
 * arguments after the command name (global options already removed) and
 * returns the exit status: CLI_EXIT_OK, CLI_EXIT_FAIL (after printing exactly
 * one "folio: ..." line with cli_fail* or after a write error on stdout) or
 * CLI_EXIT_USAGE (after cli_usage_error).
 *
 * Adding a command: write cmd_<name>() in its own file (cmd_write.c, ...),
 * declare it below and add one line to the table in main.c.
 *
 * Output: everything a command prints on stdout goes through cli_out_*(),
 * which remember the first write error; main() flushes at the end and turns
 * a write error into exit status 1 (silently for EPIPE, a closed pipe).
 */
#ifndef FOLIO_CLI_H
#define FOLIO_CLI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "folio.h"

#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

#if defined(__GNUC__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

/* ---- Commands ------------------------------------------------------------- */

typedef struct cli_command cli_command;
struct cli_command {
    const char *name;
    int (*run)(const cli_command *cmd, int argc, char **argv);
    const char *args;    /**< the argument synopsis, "DB TABLE [--rowid]" */
    const char *summary; /**< one line for the command list */
    const char *help;    /**< more lines for `folio CMD --help`, or NULL */
};

/* cmd_read.c */
int cmd_info(const cli_command *cmd, int argc, char **argv);
int cmd_schema(const cli_command *cmd, int argc, char **argv);
int cmd_tables(const cli_command *cmd, int argc, char **argv);
int cmd_dump(const cli_command *cmd, int argc, char **argv);
int cmd_check(const cli_command *cmd, int argc, char **argv);
int cmd_stats(const cli_command *cmd, int argc, char **argv);

/* cmd_write.c */
int cmd_exec(const cli_command *cmd, int argc, char **argv);
int cmd_apply(const cli_command *cmd, int argc, char **argv);
int cmd_checkpoint(const cli_command *cmd, int argc, char **argv);
int cmd_delete(const cli_command *cmd, int argc, char **argv);
int cmd_vacuum(const cli_command *cmd, int argc, char **argv);
int cmd_backup(const cli_command *cmd, int argc, char **argv);

/* cmd_import.c */
int cmd_import(const cli_command *cmd, int argc, char **argv);

/* cmd_feed.c */
int cmd_feed(const cli_command *cmd, int argc, char **argv);

/* cmd_edges.c */
int cmd_relate(const cli_command *cmd, int argc, char **argv);
int cmd_edges(const cli_command *cmd, int argc, char **argv);

/* cmd_log.c */
int cmd_log(const cli_command *cmd, int argc, char **argv);
int cmd_restore(const cli_command *cmd, int argc, char **argv);
/** `us` (UTC microseconds since 1970) as "2026-12-07T18:30:00.123456Z". */
void cli_time_iso(char *buf, size_t n, int64_t us);
/** Parse an ISO 8601 time, "2026-12-07T18:30:00Z", with fractional seconds
 * (".25") and a zone ("Z", "+01:00") - the zone must be given - into UTC
 * microseconds since 1970. Returns 0 or -1. */
int cli_parse_time(const char *s, int64_t *out_us);

/* main.c: the command table and usage texts. */

/** All commands, in the order `folio --help` lists them. */
const cli_command *cli_commands(size_t *out_count);
/** Print the usage of `cmd` (NULL: of the whole tool) to `f`; `full` adds
 * the help text and option list, otherwise a short reminder is printed. */
void cli_print_usage(FILE *f, const cli_command *cmd, int full);

/* ---- Global options (set by main.c before a command runs) --------------- */

typedef struct cli_globals {
    int sync;                   /**< FOLIO_SYNC_*; -1 when not given */
    size_t cache_bytes;         /**< 0 when not given */
    unsigned page_size;         /**< 0 when not given */
    size_t mmap_bytes;          /**< FOLIO_MMAP_DEFAULT unless given (0: no map) */
    unsigned busy_timeout_ms;   /**< how long to wait for other connections' locks */
    int mmap_given, busy_given; /**< --mmap-mb / --busy-timeout were given */
    int foreign_keys;           /**< --foreign-keys: 1 on, 0 off, -1 not given */
    int recursive_triggers;     /**< --recursive-triggers: 1 on, 0 off, -1 not given */
    int log_compression;        /**< --log-compression: FOLIO_LOG_*, -2 not given */
} cli_globals;

/** The CLI waits this long for other connections (folio's or SQLite's) to
 * let go of a lock before it reports the database locked. */
#define CLI_BUSY_TIMEOUT_MS 5000

extern cli_globals cli_global_opts;

/* ---- Errors (util.c) ------------------------------------------------------- */

/** Print "folio: <message>" (one line) on stderr and return CLI_EXIT_FAIL. */
int cli_fail(const char *fmt, ...) CLI_PRINTF(1, 2);
/** Print "folio: <message>: <folio_errmsg(db)>" and return CLI_EXIT_FAIL.
 * Falls back to folio_strerror(rc) when the library has no message. */
int cli_fail_db(const folio_db *db, int rc, const char *fmt, ...) CLI_PRINTF(3, 4);
/** Print "folio: <message>" and the short usage of `cmd` (NULL: of the tool)
 * on stderr and return CLI_EXIT_USAGE. */
int cli_usage_error(const cli_command *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);
/** Whether cli_fail* or cli_usage_error already printed the error line. */
int cli_error_printed(void);

/* ---- Opening databases (util.c) ------------------------------------------ */

/** Open `path` with the global options and `flags` (FOLIO_OPEN_*). On failure
 * prints the error and returns CLI_EXIT_FAIL with *out == NULL. */
int cli_open_db(folio_db **out, const char *path, unsigned flags);

/** A read-only database with one read transaction, for the read commands. */
typedef struct cli_session {
    const char *path;
    folio_db *db;
    folio_txn *txn;
} cli_session;

/** Open `path` read-only and begin a read transaction. Returns CLI_EXIT_OK
 * or CLI_EXIT_FAIL (error printed, nothing left open). */
int cli_session_open(cli_session *s, const char *path);
/** End the transaction (commit when `rc` is CLI_EXIT_OK, else roll back) and
 * close the database. Returns `rc`, or CLI_EXIT_FAIL if closing failed. */
int cli_session_close(cli_session *s, int rc);

/* ---- Arguments (util.c) ---------------------------------------------------- */

/** One command option. Options take "--name value" and "--name=value". */
typedef struct cli_opt {
    const char *name;   /**< "--format"; NULL ends the list */
    const char **value; /**< non-NULL: the option takes a value, stored here */
    int *flag;          /**< non-NULL: set to 1 when the option is present */
} cli_opt;

/**
 * Split `argv` into options (from `opts`) and positional arguments. "-" is a
 * positional argument; "--" ends the options. Between `min_pos` and `max_pos`
 * positional arguments are stored in `pos`. Returns CLI_EXIT_OK or
 * CLI_EXIT_USAGE (message printed).
 */
int cli_parse_args(const cli_command *cmd, int argc, char **argv, const cli_opt *opts, char **pos,
                   int min_pos, int max_pos, int *out_npos);

/** Parse a decimal unsigned integer (no sign, no junk). Returns 0 or -1. */
int cli_parse_u64(const char *s, uint64_t *out);

/** Parse the value of --check (backup, restore): "quick" or "full" into
 * FOLIO_CHECK_QUICK or FOLIO_CHECK_FULL; NULL (no option) is quick.
 * Returns 0 or -1. */
int cli_parse_check_level(const char *s, int *out);

/* ---- Byte buffers (util.c) ------------------------------------------------- */

/** A growable byte buffer. On allocation failure `oom` is set and further
 * appends are dropped; cli_out_buf() reports it. */
typedef struct cli_buf {
    char *p;
    size_t n;
    size_t cap;
    int oom;
} cli_buf;

#define CLI_BUF_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

/** Make room for `extra` more bytes. Returns 0, or -1 (and sets oom). */
int cli_buf_grow(cli_buf *b, size_t extra);
void cli_buf_free(cli_buf *b);
void cli_buf_put(cli_buf *b, const void *p, size_t n);
void cli_buf_puts(cli_buf *b, const char *s);
void cli_buf_printf(cli_buf *b, const char *fmt, ...) CLI_PRINTF(2, 3);

static inline void cli_buf_putc(cli_buf *b, char c)
{
    if (b->n < b->cap || cli_buf_grow(b, 1) == 0)
        b->p[b->n++] = c;
}

/* ---- Arenas (util.c) -------------------------------------------------------- */

/** Allocations that keep their address until the arena is reset: bytes
 * decoded for the values of one input line, which folio_value points at. */
typedef struct cli_arena_block cli_arena_block;
typedef struct cli_arena {
    cli_arena_block *head; /**< the block being filled; older blocks follow */
    size_t want;           /**< capacity for the next first block (after a reset) */
} cli_arena;

#define CLI_ARENA_INIT                                                                             \
    {                                                                                              \
        NULL, 0                                                                                    \
    }

/** `n` bytes that stay in place until cli_arena_reset(), or NULL when out of
 * memory. `n` may be 0. */
void *cli_arena_alloc(cli_arena *a, size_t n);
/** Forget every allocation. Memory is kept (as one block) for reuse, so a
 * loop that resets per line allocates only while its lines grow. */
void cli_arena_reset(cli_arena *a);
void cli_arena_free(cli_arena *a);

/* ---- Standard output (util.c) -------------------------------------------- */

/** Set a large stdout buffer and ignore SIGPIPE. Call before any output. */
void cli_out_init(void);
/** Write bytes to stdout. Returns 0, or -1 once any write has failed. */
int cli_out_write(const void *p, size_t n);
int cli_out_puts(const char *s);
int cli_out_printf(const char *fmt, ...) CLI_PRINTF(1, 2);
/** Write and empty `b`. Returns 0, or -1 on a write error or when `b` ran out
 * of memory (then "folio: out of memory" is printed). */
int cli_out_buf(cli_buf *b);
/** Whether a write to stdout has failed. */
int cli_out_failed(void);
/**
 * Flush stdout at the end of a command that returned `rc`. A write error
 * turns the status into CLI_EXIT_FAIL: with "folio: write error: ..." on
 * stderr unless it was EPIPE (the reader went away) or an error line was
 * already printed. Returns the final exit status.
 */
int cli_out_finish(int rc);

#endif /* FOLIO_CLI_H */
