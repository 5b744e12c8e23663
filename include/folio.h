/**
 * @file folio.h
 * @brief folio: an embedded storage engine over SQLite database files.
 *
 * folio reads and writes SQLite file format 3 through its own pager, WAL and
 * B-tree. Every function returns an int: 0 is FOLIO_OK, a positive value is a
 * status (FOLIO_ROW, FOLIO_DONE, FOLIO_NOTFOUND), a negative value an error.
 * Out-parameters come first and are named `out`. Handles are opaque.
 *
 * Threading: a folio_db may be shared by any number of threads. A folio_txn,
 * and the tables and cursors opened through it, belong to one thread at a time.
 */
#ifndef FOLIO_H
#define FOLIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status and error codes ------------------------------------------- */

#define FOLIO_OK       0
#define FOLIO_ROW      100 /**< a cursor is positioned on a row */
#define FOLIO_DONE     101 /**< a cursor ran off the end */
#define FOLIO_NOTFOUND 102 /**< a seek found no matching row */

#define FOLIO_ERROR        (-1)  /**< generic failure */
#define FOLIO_MISUSE       (-2)  /**< bad argument or call sequence */
#define FOLIO_NOMEM        (-3)  /**< out of memory */
#define FOLIO_IOERR        (-4)  /**< the operating system reported an I/O error */
#define FOLIO_CORRUPT      (-5)  /**< the file is damaged; the message names the page */
#define FOLIO_NOTADB       (-6)  /**< the file is not a SQLite database */
#define FOLIO_UNSUPPORTED  (-7)  /**< a feature folio does not support here */
#define FOLIO_BUSY         (-8)  /**< another writer holds the lock */
#define FOLIO_READONLY     (-9)  /**< write attempted on a read-only handle */
#define FOLIO_CONSTRAINT   (-10) /**< NOT NULL, UNIQUE, PRIMARY KEY or type violated */
#define FOLIO_FULL         (-11) /**< the disk is full */
#define FOLIO_NOTFOUND_ERR (-12) /**< no such table, index or column */
#define FOLIO_CANTOPEN     (-13) /**< the file cannot be opened */
#define FOLIO_TOOBIG       (-14) /**< a value or row exceeds the size limit */
#define FOLIO_MISMATCH     (-15) /**< a value has the wrong type for a STRICT column */
#define FOLIO_TIMEOUT      (-16) /**< the transaction ran past txn_timeout_ms */

/* ---- Options ------------------------------------------------------------ */

#define FOLIO_OPEN_READONLY 0x1u /**< never write; works on read-only media */
#define FOLIO_OPEN_CREATE   0x2u /**< create the file if it is missing */
/** Run automatic checkpoints in the committing thread, as SQLite does,
 * instead of on the handle's background checkpoint thread. */
#define FOLIO_OPEN_INLINE_CHECKPOINT 0x4u

#define FOLIO_SYNC_OFF    0 /**< never fsync */
#define FOLIO_SYNC_NORMAL 1 /**< fsync at checkpoint only (the default) */
#define FOLIO_SYNC_FULL   2 /**< fsync the WAL at every commit */

#define FOLIO_OPTIONS_VERSION 3

/** Options for folio_open(). Initialise with FOLIO_OPTIONS_INIT. */
typedef struct folio_options {
    unsigned version;            /**< FOLIO_OPTIONS_VERSION */
    unsigned flags;              /**< FOLIO_OPEN_READONLY, _CREATE, _INLINE_CHECKPOINT */
    int sync;                    /**< FOLIO_SYNC_OFF / NORMAL / FULL */
    size_t cache_bytes;          /**< page cache budget; 0 = default (64 MiB) */
    unsigned page_size;          /**< page size of new files; 0 = 4096 */
    unsigned wal_autocheckpoint; /**< frames; 0 = never automatic (background thread) */
    unsigned busy_timeout_ms;    /**< how long a writer waits for the lock */
    /** Version 2: read transactions read pages of the database file in place
     * through a read-only map of up to this many bytes of it, instead of
     * copying them into the cache (FOLIO_MMAP_DEFAULT unless set; 0 = off).
     * Safe beside every connection that keeps SQLite's WAL rules (folio's
     * read marks keep checkpoints from changing what a reader reads); as
     * with SQLite's mmap_size, a process that truncates the file against
     * those rules makes a read raise SIGBUS. */
    size_t mmap_bytes;
    /** Version 3: a transaction older than this many milliseconds (0: no
     * limit) is over: every call on it, its tables and cursors returns
     * FOLIO_TIMEOUT, and folio_commit rolls it back and returns
     * FOLIO_TIMEOUT; folio_rollback still frees it. Nothing is locked while
     * a transaction waits on its caller, so a timeout only bounds how long a
     * transaction may hold its snapshot (which keeps checkpoints from
     * copying past it) or the writer role. */
    unsigned txn_timeout_ms;
} folio_options;

/** The map of the database file read transactions use unless told
 * otherwise: 16 GiB of address space (0, no map, where size_t has 32 bits).
 * Only the file's own size is ever mapped. */
#define FOLIO_MMAP_DEFAULT ((size_t)16 << 30)

#define FOLIO_OPTIONS_INIT                                                                         \
    {                                                                                              \
        FOLIO_OPTIONS_VERSION, FOLIO_OPEN_CREATE, FOLIO_SYNC_NORMAL, 0, 4096, 1000, 0,             \
            FOLIO_MMAP_DEFAULT, 0                                                                  \
    }

/**
 * Options from the environment, over `opts` (initialised with
 * FOLIO_OPTIONS_INIT, perhaps changed since): each variable that is set and
 * not empty replaces one field -
 *   FOLIO_SYNC                off, normal or full (or 0, 1, 2) -> sync
 *   FOLIO_CACHE_MB            MiB, at least 1                  -> cache_bytes
 *   FOLIO_MMAP_MB             MiB, 0 for no map                -> mmap_bytes
 *   FOLIO_WAL_AUTOCHECKPOINT  frames, 0 for never automatic    -> wal_autocheckpoint
 *   FOLIO_BUSY_TIMEOUT_MS     milliseconds                     -> busy_timeout_ms
 *   FOLIO_TXN_TIMEOUT_MS      milliseconds, 0 for none         -> txn_timeout_ms
 * Returns FOLIO_OK, or FOLIO_MISUSE with `opts` unchanged when a value does
 * not parse; folio_open_errmsg() then names the variable and its value.
 * The folio CLI applies them below its own flags.
 */
int folio_options_from_env(folio_options *opts);

/* ---- Handles and values --------------------------------------------------- */

typedef struct folio_db folio_db;         /**< a database; thread-safe */
typedef struct folio_txn folio_txn;       /**< a transaction; one thread at a time */
typedef struct folio_table folio_table;   /**< a table opened in a transaction */
typedef struct folio_cursor folio_cursor; /**< an ordered walk over a table or index */

typedef enum { FOLIO_NULL, FOLIO_INTEGER, FOLIO_REAL, FOLIO_TEXT, FOLIO_BLOB } folio_type;

/** A typed value. For TEXT and BLOB, `u.s` points at bytes (TEXT is UTF-8, not
 * NUL-terminated when returned by folio). */
typedef struct folio_value {
    folio_type type;
    union {
        int64_t i;
        double r;
        struct {
            const void *p;
            size_t n;
        } s;
    } u;
} folio_value;

/* ---- Database ------------------------------------------------------------- */

/**
 * Open (or create) the database at `path`.
 * @param[out] out the new handle, or NULL on failure
 * @param opts options, or NULL for read-write, created if missing, defaults
 * @return FOLIO_OK, or an error (FOLIO_CANTOPEN, FOLIO_NOTADB, FOLIO_CORRUPT, ...)
 *
 * On failure the reason is returned by folio_open_errmsg() on the same thread.
 */
int folio_open(folio_db **out, const char *path, const folio_options *opts);

/** Close the database. A clean close of a writable handle checkpoints and
 * removes the -wal file. Open transactions must be finished first. */
int folio_close(folio_db *db);

/** The message of the calling thread's last error on `db`. The string lives
 * until the next call on `db` from the same thread. Never NULL. */
const char *folio_errmsg(const folio_db *db);

/** The message of the calling thread's last failed folio_open(). Lives until
 * the next folio_open() on this thread. Never NULL. */
const char *folio_open_errmsg(void);

/** A static description of a return code. Never NULL. */
const char *folio_strerror(int rc);

/* ---- Transactions --------------------------------------------------------- */

#define FOLIO_TXN_READ  0x1u
#define FOLIO_TXN_WRITE 0x2u

/** Begin a transaction. A read transaction sees the last commit as of its
 * start for its whole life. */
int folio_begin(folio_txn **out, folio_db *db, unsigned flags);
/** Commit and free the transaction (also for read transactions). */
int folio_commit(folio_txn *txn);
/** Roll back and free the transaction. */
int folio_rollback(folio_txn *txn);

/* ---- Schema and tables ---------------------------------------------------- */

/** Run one DDL statement: CREATE/DROP TABLE, CREATE/DROP INDEX. */
int folio_exec(folio_txn *txn, const char *ddl);

/** Open a table by name (case-insensitive). The handle lives until the
 * transaction ends; it need not be closed. */
int folio_table_open(folio_table **out, folio_txn *txn, const char *name);

/** Number of columns of the table. */
int folio_table_ncols(const folio_table *t);
/** Name of column `col`; lives as long as the table handle. NULL if out of range. */
const char *folio_table_colname(const folio_table *t, int col);
/** Whether the table is WITHOUT ROWID. */
int folio_table_without_rowid(const folio_table *t);

/* ---- Rows ----------------------------------------------------------------- */

int folio_insert(int64_t *out_rowid, folio_table *t, const folio_value *vals, int n);
int folio_update(folio_table *t, int64_t rowid, const folio_value *vals, int n);
int folio_upsert(int64_t *out_rowid, folio_table *t, int64_t rowid, const folio_value *vals, int n);
int folio_patch(folio_table *t, int64_t rowid, const int *cols, const folio_value *vals, int n);
int folio_delete(folio_table *t, int64_t rowid);
/** WITHOUT ROWID: delete / update the row whose primary key equals `key`. */
int folio_delete_key(folio_table *t, const folio_value *key, int nkey);
int folio_update_key(folio_table *t, const folio_value *key, int nkey, const folio_value *vals,
                     int n);

/* ---- Cursors -------------------------------------------------------------- */

#define FOLIO_SEEK_EQ 0
#define FOLIO_SEEK_GE 1
#define FOLIO_SEEK_GT 2
#define FOLIO_SEEK_LE 3
#define FOLIO_SEEK_LT 4

/** Open a cursor over the table (index == NULL: rowid or primary key order)
 * or over one of its indexes. Lives until closed or the transaction ends. */
int folio_cursor_open(folio_cursor **out, folio_table *t, const char *index);
int folio_cursor_first(folio_cursor *c); /**< FOLIO_ROW or FOLIO_DONE */
int folio_cursor_last(folio_cursor *c);  /**< FOLIO_ROW or FOLIO_DONE */
int folio_cursor_next(folio_cursor *c);  /**< FOLIO_ROW or FOLIO_DONE */
int folio_cursor_prev(folio_cursor *c);  /**< FOLIO_ROW or FOLIO_DONE */
/** Position on the row with this rowid: FOLIO_ROW or FOLIO_NOTFOUND. */
int folio_cursor_seek_rowid(folio_cursor *c, int64_t rowid);
/**
 * Position by key: the index columns (or the primary key columns of a WITHOUT
 * ROWID table) compared with the index's collations; `nkey` may be a prefix.
 * Returns FOLIO_ROW, or FOLIO_NOTFOUND when no entry satisfies `op`.
 */
int folio_cursor_seek(folio_cursor *c, const folio_value *key, int nkey, int op);
/** Rowid of the current row (0 for WITHOUT ROWID tables). */
int64_t folio_cursor_rowid(const folio_cursor *c);
/**
 * The value of table column `col` of the current row. TEXT and BLOB bytes
 * point into the page cache when the value lies on one page, else into a
 * cursor-owned buffer: valid until the cursor moves or is closed.
 */
int folio_cursor_column(folio_value *out, folio_cursor *c, int col);
void folio_cursor_close(folio_cursor *c);

/* ---- Filters -------------------------------------------------------------- */

/**
 * A compiled filter: one SQL expression over a table's rows, evaluated as
 * SQLite 3.40 evaluates a WHERE clause (storage classes, affinity of
 * comparison operands, collating sequences, NULL logic, the core, date/time
 * and JSON functions). A row is selected only when the expression is TRUE:
 * false and NULL skip it.
 */
typedef struct folio_filter folio_filter;

/**
 * Compile `expr` (e.g. "age > 50 AND area LIKE '12%'") against the table of
 * `t`: its columns by name, `rowid`, `oid` and `_rowid_` (rowid tables), and
 * the table's name as a qualifier (`user.age`).
 *
 * The filter belongs to the transaction of `t` and to the table's definition
 * as `t` sees it: it may be set on any cursor of that table in that
 * transaction until DDL changes the table (folio_cursor_filter refuses it
 * then with FOLIO_MISUSE); after the transaction ends it may only be freed.
 *
 * @param[out] out the filter, to be released with folio_filter_free
 * @return FOLIO_OK; FOLIO_ERROR with SQLite's message and where it was found
 *         ("no such column: x (at offset 4)", "near \"+\": syntax error (at
 *         offset 6)"); FOLIO_UNSUPPORTED, naming it, for what SQLite accepts
 *         but folio does not evaluate (subqueries, bind parameters, window
 *         functions, functions of the application, REGEXP, MATCH, a virtual
 *         generated column); FOLIO_NOMEM.
 */
int folio_filter_compile(folio_filter **out, folio_table *t, const char *expr);

/**
 * Narrow a cursor to the rows `f` selects: from now on folio_cursor_first,
 * _last, _next, _prev, _seek_rowid and _seek land only on such rows (a seek
 * steps on from the entry it found in its direction: forward for EQ, GE and
 * GT, backward for LE and LT; EQ and seek_rowid return FOLIO_NOTFOUND when
 * no selected entry equals the key). On an index cursor the expression
 * reads the table's row of each entry, as folio_cursor_column does. Only the
 * columns the expression reaches are decoded, and a scan allocates nothing
 * per row. An evaluation error (e.g. "integer overflow" from abs()) ends the
 * move with FOLIO_ERROR and SQLite's message; the cursor is then on no row.
 * `f` must outlive its use by the cursor; several cursors may share it.
 *
 * @param f the filter, or NULL to remove the cursor's filter
 * @return FOLIO_OK, or FOLIO_MISUSE if `f` was compiled for another table,
 *         transaction or definition of the table
 */
int folio_cursor_filter(folio_cursor *c, folio_filter *f);

/** Release a filter (NULL is harmless). Remove it from cursors first. */
void folio_filter_free(folio_filter *f);

/**
 * Delete every row of `t` that `expr` selects, as SQL's DELETE FROM t WHERE
 * expr: one call, all or nothing (a failure on any row leaves the
 * transaction exactly as before the call). The rows are selected first, then
 * deleted, with their index entries.
 *
 * @param[out] count the number of rows deleted (may be NULL)
 * @return FOLIO_OK, or the errors of folio_filter_compile, of an evaluation,
 *         and of folio_delete
 */
int folio_delete_where(int64_t *count, folio_table *t, const char *expr);

/**
 * Set columns cols[i] to vals[i] (n of them) in every row of `t` that `expr`
 * selects, as SQL's UPDATE t SET ... WHERE expr with constant values: one
 * call, all or nothing. Each row is changed as folio_patch (rowid tables) or
 * folio_update_key (WITHOUT ROWID) changes it: affinity, NOT NULL, CHECK,
 * UNIQUE and PRIMARY KEY constraints, every index. The rows are selected
 * first, then updated, so a changed row is never seen again by the scan.
 *
 * @param[out] count the number of rows updated (may be NULL)
 * @return FOLIO_OK, or the errors of folio_filter_compile, of an evaluation,
 *         and of folio_patch / folio_update_key (FOLIO_CONSTRAINT, ...)
 */
int folio_update_where(int64_t *count, folio_table *t, const char *expr, const int *cols,
                       const folio_value *vals, int n);

/* ---- Inspection ----------------------------------------------------------- */

/** One entry of the schema, as read from sqlite_schema. Strings live until the
 * transaction ends. */
typedef struct folio_schema_entry {
    const char *type; /**< "table", "index", "view" or "trigger" */
    const char *name;
    const char *tbl_name;
    uint32_t rootpage;
    const char *sql; /**< NULL for automatic indexes */
} folio_schema_entry;

/** Number of schema entries visible to the transaction. */
int folio_schema_count(folio_txn *txn);
/** Schema entry `i` (0-based, in sqlite_schema order). */
int folio_schema_get(folio_schema_entry *out, folio_txn *txn, int i);

/** Database header fields and file figures. */
typedef struct folio_info {
    uint32_t page_size;
    uint32_t page_count; /**< database size in pages (as of the snapshot) */
    uint32_t freelist_pages;
    uint32_t freelist_trunk;
    uint32_t change_counter;
    uint32_t schema_cookie;
    uint32_t schema_format;
    uint32_t text_encoding; /**< 1 UTF-8, 2 UTF-16le, 3 UTF-16be */
    uint32_t user_version;
    uint32_t application_id;
    uint32_t reserved_bytes;
    uint32_t autovacuum; /**< largest root page if auto-vacuum, else 0 */
    uint32_t incremental_vacuum;
    uint32_t write_version; /**< 1 legacy, 2 WAL */
    uint32_t read_version;
    uint32_t sqlite_version; /**< SQLITE_VERSION_NUMBER of the last writer */
    uint64_t file_bytes;     /**< size of the database file */
    uint64_t wal_bytes;      /**< size of the -wal file, 0 if none */
    uint32_t wal_frames;     /**< valid committed frames in the WAL */
    uint32_t wal_checkpoint_seq;
    uint32_t wal_backfilled; /**< frames already copied into the database file */
    /** Why the last checkpoint stopped short ("" if it did not), e.g. held
     * back by a reader's snapshot. Lives until the transaction ends. */
    const char *checkpoint_note;
    /* The WAL index (-shm) that every connection shares (folio's and
     * SQLite's), as it is now: */
    uint32_t read_marks[5]; /**< aReadMark[0..4]; 0xffffffff: unused */
    uint32_t read_locks;    /**< bit i: some other connection holds READ(i) */
    /** Who holds the WAL's WRITE and CKPT locks, other than this handle: ""
     * when nobody; "process N" where the system tells (a SQLite process);
     * else "another connection". Live until the transaction ends. */
    const char *write_holder;
    const char *ckpt_holder;
} folio_info;

int folio_info_get(folio_info *out, folio_txn *txn);

/** Storage figures of one b-tree. */
typedef struct folio_btree_stats {
    const char *name; /**< table or index name; lives until the transaction ends */
    const char *tbl_name;
    int is_index;
    uint32_t rootpage;
    uint32_t depth;
    uint64_t interior_pages, leaf_pages, overflow_pages;
    uint64_t entries;       /**< rows (tables) or keys (indexes) */
    uint64_t payload_bytes; /**< bytes of record payload, local and overflow */
    uint64_t unused_bytes;  /**< bytes of page space not used by cells or headers */
    uint64_t fragmented_bytes;
} folio_btree_stats;

/** Walk every b-tree (sqlite_schema first). `cb` returns 0 to go on. */
int folio_stats(folio_txn *txn, int (*cb)(void *arg, const folio_btree_stats *s), void *arg);

/** Full integrity check. `cb` gets one message per problem ("page N: ...");
 * returns FOLIO_OK when clean, FOLIO_CORRUPT when problems were found. At
 * most `max_errors` (0 = 100) problems are reported. */
int folio_check(folio_txn *txn, int (*cb)(void *arg, const char *msg), void *arg, int max_errors);

/** Checkpoint modes. */
#define FOLIO_CHECKPOINT_PASSIVE  0
#define FOLIO_CHECKPOINT_FULL     1
#define FOLIO_CHECKPOINT_RESTART  2
#define FOLIO_CHECKPOINT_TRUNCATE 3

/** Copy WAL frames into the database file. `out_log` and `out_done` (may be
 * NULL) receive the frames in the WAL and the frames checkpointed. When a
 * reader's snapshot holds frames back, PASSIVE returns FOLIO_OK with fewer
 * frames done and says so in folio_errmsg(); FULL, RESTART and TRUNCATE wait
 * for readers up to busy_timeout_ms (as SQLite's busy handler would; 0: not
 * at all), then return FOLIO_BUSY. */
int folio_checkpoint(folio_db *db, int mode, int *out_log, int *out_done);

/**
 * Rebuild the database packed, as SQLite's VACUUM (dest NULL) or VACUUM
 * INTO (dest a new file's path) does: every b-tree (tables, indexes,
 * WITHOUT ROWID tables, sqlite_schema) is written again in key order with
 * full pages, each tree in one run of pages, overflow chains in order, and
 * no freelist. The header keeps the page size, reserved bytes, text
 * encoding, user_version and application_id; the schema cookie goes up by
 * one, so that every connection, folio's or SQLite's, reads the schema
 * again. Rowids are kept, in every table: unlike SQLite, which may
 * renumber the rows of tables without an INTEGER PRIMARY KEY, folio's
 * VACUUM changes no row.
 *
 * In place (dest NULL): the new image is built from the newest snapshot
 * in a temporary file ("<db>-vacuum", removed when done), then committed as
 * one ordinary write transaction whose pages go through the WAL, so other
 * writers wait meanwhile (busy_timeout_ms), readers on older snapshots, of
 * this handle and of other connections, go on reading them, and a crash at
 * any point leaves the old database or the new one. A passive checkpoint
 * follows: the file is cut to its new size once everything is copied, which
 * a reader holding an older snapshot may put off until a later checkpoint
 * (or folio_close). Needs a write transaction: FOLIO_BUSY with "cannot
 * VACUUM from within a transaction" while the handle has one open (in any
 * thread); FOLIO_READONLY on a read-only handle.
 *
 * Into a file (dest not NULL): the image of a read snapshot is written to
 * "<dest>-vacuum", checkpointed, synced (whatever the sync level), and only
 * then renamed to `dest`: a crash never leaves a partial `dest`. The
 * database itself is not changed, and may be open read-only. FOLIO_ERROR
 * "output file already exists" when `dest` exists (as SQLite).
 *
 * Auto-vacuum databases (pointer maps) are refused with FOLIO_UNSUPPORTED;
 * UTF-16 databases can be vacuumed INTO a file but not in place (folio does
 * not write them).
 *
 * @param dest NULL, or the path of the file to create
 * @return FOLIO_OK, or an error with its message; on an error the database
 *         (and `dest`) are as before the call
 */
int folio_vacuum(folio_db *db, const char *dest);

/**
 * folio_vacuum with progress: `progress` (may be NULL) is called now and
 * then, from the calling thread, with the pages done so far and the pages
 * expected in all (an estimate that may grow; in place, the build of the
 * image and its copy into the WAL each count), and once at the end with
 * done == total.
 */
int folio_vacuum_progress(folio_db *db, const char *dest,
                          void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg);

/* ---- Metrics ---------------------------------------------------------------- */

/**
 * What a handle did since folio_open() (counters: monotonic, never reset) and
 * what its page cache holds now (gauges). Versioned by size: set `size` to
 * sizeof the struct before the call (FOLIO_METRICS_INIT does), so that fields
 * added at the end later leave older callers working; folio fills the fields
 * that fit in `size`. Counting is thread-safe and costs the hot paths a
 * relaxed atomic add at most.
 */
typedef struct folio_metrics_data {
    uint32_t size;     /**< set by the caller: sizeof(folio_metrics_data) */
    uint32_t reserved; /**< 0 */
    /* Page cache. */
    uint64_t cache_hits;      /**< pages found in the shared cache */
    uint64_t cache_misses;    /**< pages read into the cache, from the file or the WAL */
    uint64_t cache_evictions; /**< clean pages dropped to make room */
    uint64_t pages_mapped;    /**< pages read in place through the file's map (no cache) */
    /* I/O, in pages. */
    uint64_t pages_read_db;    /**< pages read from the database file */
    uint64_t pages_read_wal;   /**< frames read from the WAL (checkpoint copies included) */
    uint64_t pages_written_db; /**< pages written to the database file (checkpoints, new pages) */
    uint64_t wal_frames;       /**< frames appended to the WAL */
    uint64_t wal_syncs;        /**< syncs of the -wal file */
    uint64_t db_syncs;         /**< syncs of the database file */
    /* Checkpoints (automatic and folio_checkpoint()). */
    uint64_t checkpoints;
    uint64_t checkpoint_pages;  /**< pages copied into the database file */
    uint64_t checkpoint_us;     /**< total time, microseconds */
    uint64_t checkpoints_short; /**< stopped short: a reader's snapshot held frames back */
    /* Transactions. */
    uint64_t commits;    /**< write transactions committed */
    uint64_t rollbacks;  /**< write transactions ended without a commit */
    uint64_t busy_waits; /**< times a begin or a checkpoint waited for a lock */
    /* B-trees. */
    uint64_t btree_splits;  /**< rebalances (and appends) that added pages */
    uint64_t btree_merges;  /**< rebalances that freed pages */
    uint64_t pages_spilled; /**< dirty pages written out before their commit */
    /* Gauges. */
    uint64_t cache_bytes;      /**< bytes of page images held (cached and dirty) */
    uint64_t cache_bytes_used; /**< of which pinned or dirty */
} folio_metrics_data;

#define FOLIO_METRICS_INIT                                                                         \
    {                                                                                              \
        .size = sizeof(folio_metrics_data)                                                         \
    }

/**
 * The handle's figures.
 * @param[in,out] m its `size` set by the caller (FOLIO_METRICS_INIT)
 * @return FOLIO_OK, or FOLIO_MISUSE (NULL argument, `size` smaller than the
 * first version's or not a multiple of 8)
 */
int folio_metrics(folio_db *db, folio_metrics_data *m);

/**
 * The handle's figures in the Prometheus text exposition format (version
 * 0.0.4): `# HELP` and `# TYPE` lines, then `folio_<name> <value>`; counters
 * end in `_total`. Like snprintf: at most `cap` bytes are written, always
 * NUL-terminated when `cap` > 0 (`buf` may be NULL when `cap` is 0).
 * @return the length of the whole text (without the NUL), which is `cap` or
 * more when it did not fit; or FOLIO_MISUSE
 */
int folio_metrics_prometheus(folio_db *db, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* FOLIO_H */
