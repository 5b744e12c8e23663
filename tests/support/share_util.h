/*
 * share_util.h - helpers for the sharing suite (tests/share/): folio and
 * libsqlite3 in separate processes on one database file, as SQLite's WAL
 * protocol lets any number of connections share it.
 *
 * Processes. Every helper that forks registers the child; share_fini()
 * (the suites' .fini) kills and reaps whatever is left, so a failing test
 * never leaves processes behind. A child is also bound to its parent
 * (PR_SET_PDEATHSIG: it dies with the test) and to an alarm of
 * share_child_limit_s seconds. A child closes every descriptor it inherited
 * except those it is told to keep, so it never shares an open description
 * of the database with the parent, and it opens its own handles after the
 * fork. Children never use Criterion's assertions: they report through
 * their exit status, stderr and files or pipes, and end with _exit().
 *
 * The POSIX close trap (notes/shm_protocol.md §0.4): closing any descriptor
 * of a file drops every record lock the process holds on it, so the -shm
 * and the database are read, and locks probed, in a short-lived child
 * process, never in a process that holds SQLite's locks.
 *
 * A "SQL child" is a process with one libsqlite3 connection that runs the
 * SQL the parent sends it and answers with the rows: the test drives a
 * sqlite3 connection step by step (BEGIN, a read, hold it, ...) in its own
 * process.
 */
#ifndef FOLIO_TESTS_SHARE_UTIL_H
#define FOLIO_TESTS_SHARE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- Time and knobs ------------------------------------------------------- */

/** Milliseconds of a monotonic clock. */
uint64_t share_now_ms(void);
/** Sleep `ms` milliseconds (restarted after signals). */
void share_sleep_ms(unsigned ms);
/** Sleep `us` microseconds. */
void share_sleep_us(unsigned us);
/** Whether FOLIO_SOAK is set to something other than "" or "0". */
int share_soak(void);

/* ---- Children --------------------------------------------------------------- */

/** Seconds after which a child kills itself (SIGALRM), whatever it does. */
extern unsigned share_child_limit_s;

/**
 * Fork a child that runs fn(arg) and _exit()s with its return value (0 for
 * success). In the child, every descriptor >= 3 is closed except the `nkeep`
 * ones in `keep`. Returns the pid (registered), or fails the test.
 */
pid_t share_spawn(int (*fn)(void *arg), void *arg, const int *keep, int nkeep);
/**
 * Fork and exec `argv` (argv[0] looked up in PATH), stdin from `in_path`
 * (NULL: /dev/null), stdout and stderr to `out_path` (NULL: /dev/null).
 * Returns the pid (registered). An exec failure exits with 127.
 */
pid_t share_spawn_exec(char *const argv[], const char *in_path, const char *out_path);
/**
 * Wait for `pid` up to `timeout_ms`. Returns 1 and the wait status in
 * *out_status when it ended (it is then unregistered), 0 on timeout (the
 * child is left running).
 */
int share_wait(pid_t pid, unsigned timeout_ms, int *out_status);
/** SIGKILL `pid` and reap it (unregistered). Returns its wait status. */
int share_kill(pid_t pid);
/** Kill and reap every registered child. */
void share_kill_all(void);
/** .fini of the suites: share_kill_all(). */
void share_fini(void);
/** "exit 0", "exit 3", "signal 9 (Killed)" for a wait status; static buffer. */
const char *share_status_str(int status);

/* ---- Files the children write --------------------------------------------- */

/** Open `path` for appending records (O_APPEND, created); -1 on failure. */
int share_log_open(const char *path);
/** Append one line "fmt\n" with a single write(2), so that a record is
 * either wholly in the file or not at all when the writer is killed. */
void share_log(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- Looking from another process ------------------------------------------ */

/** One lock probe: F_GETLK of `type` (F_WRLCK finds any lock) on
 * [start, start+len). The answer: `found` is the conflicting lock's type
 * (F_UNLCK when none), `pid` its process (-1 for an open-file-description
 * lock). */
typedef struct share_probe {
    int64_t start, len;
    short type;
    short found;
    int pid;
} share_probe;

/** Run the probes from a fresh child process (F_GETLK, the way SQLite's
 * own lock checks see the file). Fails the test if the child fails. */
void share_probe_locks(const char *path, share_probe *probes, int n);
/** The lock type seen on [start, start+len) by a probe for any lock. */
short share_lock_at(const char *path, int64_t start, int64_t len);

/** Read `n` bytes at `off` of `path` in a child process; returns the count
 * read (0 if the file is shorter or missing). */
size_t share_read_bytes(const char *path, int64_t off, void *buf, size_t n);

/** The wal-index header (region 0, bytes 0..135) decoded. */
typedef struct share_shm {
    size_t got;         /**< bytes read (136 when the header is there) */
    int copies_equal;   /**< the two 48-byte copies are byte-identical */
    int cksum_ok;       /**< copy 0's checksum verifies */
    uint32_t version;   /**< iVersion */
    uint32_t change;    /**< iChange */
    uint8_t is_init;    /**< isInit */
    uint8_t big_end;    /**< bigEndCksum */
    uint32_t page_size; /**< szPage decoded (65536 stored as 1) */
    uint32_t mx_frame;  /**< mxFrame */
    uint32_t npage;     /**< nPage */
    uint8_t salt[8];    /**< aSalt, as in the WAL header */
    uint32_t backfill;  /**< nBackfill */
    uint32_t mark[5];   /**< aReadMark[0..4] */
    uint32_t attempted; /**< nBackfillAttempted */
    uint8_t raw[136];
} share_shm;

/** Read and decode the -shm of database `dbpath` (in a child). */
void share_read_shm(const char *dbpath, share_shm *out);
/** The WAL checksum (notes §12.3) of `n` bytes (a multiple of 8) of native
 * words, from (0, 0). */
void share_cksum_native(const uint8_t *p, size_t n, uint32_t out[2]);

/* ---- A libsqlite3 connection in a child process ------------------------------ */

typedef struct share_sql {
    pid_t pid;
    int to;   /* requests */
    int from; /* replies */
} share_sql;

/**
 * Start a SQL child on `path` (opened read-write, created if missing) with
 * busy_timeout `busy_ms`. The connection is opened in the child, after the
 * fork.
 */
void share_sql_start(share_sql *s, const char *path, int busy_ms);
/**
 * Run SQL (any number of statements) in the child; each row of every
 * statement becomes one line of `out`, columns separated by '|' (NULL as
 * "NULL"). On an error the result is SQLite's code and `out` its message;
 * statements after the failing one do not run. Waits up to 60 s for the
 * answer, then fails the test.
 */
int share_sql_run(share_sql *s, char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/** share_sql_run that must succeed; returns the first column of the first row
 * as an integer (0 if none). */
int64_t share_sql_int(share_sql *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Close the connection and wait for the child to end (exit 0 expected). */
void share_sql_stop(share_sql *s);
/** SIGKILL the child (a connection dying with whatever it holds). */
void share_sql_kill(share_sql *s);

/* ---- folio in the test process (these assert) ------------------------------- */

#include <folio.h>

/** Open read-write, created if missing, with the given busy timeout and
 * automatic checkpoint (0: never). */
folio_db *share_folio_open(const char *path, unsigned busy_ms, unsigned autockpt);
/** One DDL statement in its own write transaction. */
void share_folio_exec(folio_db *db, const char *ddl);
/** Column `col` of row `rowid` of `table` as an integer, read in `txn`
 * (fails the test if the row is missing or the value not an integer). */
int64_t share_folio_get_int(folio_txn *txn, const char *table, int64_t rowid, int col);
/** folio_check of a fresh read transaction: "ok", or the first problem
 * (freshly allocated). */
char *share_folio_check(folio_db *db);

#endif /* FOLIO_TESTS_SHARE_UTIL_H */
