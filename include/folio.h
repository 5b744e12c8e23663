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
#define FOLIO_CONFLICT     (-17) /**< a concurrent transaction lost to another commit */

/* ---- Options ------------------------------------------------------------ */

#define FOLIO_OPEN_READONLY 0x1u /**< never write; works on read-only media */
#define FOLIO_OPEN_CREATE   0x2u /**< create the file if it is missing */
/** Run automatic checkpoints in the committing thread, as SQLite does,
 * instead of on the handle's background checkpoint thread. */
#define FOLIO_OPEN_INLINE_CHECKPOINT 0x4u

#define FOLIO_SYNC_OFF    0 /**< never fsync */
#define FOLIO_SYNC_NORMAL 1 /**< fsync at checkpoint only (the default) */
#define FOLIO_SYNC_FULL   2 /**< fsync the WAL at every commit */

#define FOLIO_OPTIONS_VERSION 7

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
    /** Version 4: enforce foreign keys, as SQLite's PRAGMA foreign_keys=ON
     * (off by default, as in SQLite). Each call is a statement: a call that
     * leaves an immediate constraint violated fails with FOLIO_CONSTRAINT
     * ("FOREIGN KEY constraint failed") and is undone; DEFERRABLE INITIALLY
     * DEFERRED constraints are counted until folio_commit, which then fails
     * the same way and rolls the transaction back. ON DELETE / ON UPDATE
     * actions (CASCADE, SET NULL, SET DEFAULT, RESTRICT) run inside the call.
     * A write whose foreign key names a missing parent table, or a parent
     * key without a unique index, fails with FOLIO_ERROR and SQLite's
     * message. */
    int foreign_keys;
    /** Version 5: let a trigger fire itself again, as SQLite's PRAGMA
     * recursive_triggers=ON (off by default, as in SQLite: a trigger that is
     * already running is not fired again by what it does; a REPLACE fires
     * the DELETE triggers of the rows it removes only when this is on). */
    int recursive_triggers;
    /** Version 6: at most this many write transactions (FOLIO_TXN_WRITE and
     * FOLIO_TXN_CONCURRENT together) live at once on the handle (0: no
     * limit). folio_begin of one more waits, in arrival order, up to
     * busy_timeout_ms for one to end, then returns FOLIO_BUSY. */
    unsigned max_write_txns;
    /** Version 7: the compression of the commit log records this handle
     * writes: FOLIO_LOG_ZSTD or FOLIO_LOG_LZ4, or FOLIO_LOG_AS_ENABLED (the
     * default in FOLIO_OPTIONS_INIT; before version 7 always): the one
     * `folio_log_enable` chose. Each record names its own compression, so
     * handles that differ share a log. */
    int log_compression;
} folio_options;

/** The map of the database file read transactions use unless told
 * otherwise: 16 GiB of address space (0, no map, where size_t has 32 bits).
 * Only the file's own size is ever mapped. */
#define FOLIO_MMAP_DEFAULT ((size_t)16 << 30)

#define FOLIO_OPTIONS_INIT                                                                         \
    {                                                                                              \
        FOLIO_OPTIONS_VERSION, FOLIO_OPEN_CREATE, FOLIO_SYNC_NORMAL, 0, 4096, 1000, 0,             \
            FOLIO_MMAP_DEFAULT, 0, 0, 0, 0, FOLIO_LOG_AS_ENABLED                                   \
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
 *   FOLIO_FOREIGN_KEYS        on or off (1 or 0)               -> foreign_keys
 *   FOLIO_RECURSIVE_TRIGGERS  on or off (1 or 0)               -> recursive_triggers
 *   FOLIO_MAX_WRITE_TXNS      a count, 0 for no limit          -> max_write_txns
 *   FOLIO_LOG_COMPRESSION     zstd or lz4                      -> log_compression
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

#define FOLIO_TXN_READ       0x1u
#define FOLIO_TXN_WRITE      0x2u
#define FOLIO_TXN_CONCURRENT 0x4u
/** With FOLIO_TXN_CONCURRENT (implied): serializable instead of snapshot
 * isolation. Everything the transaction read is checked at its commit too
 * (rows it read, rows it looked for and did not find, and the ranges its
 * cursors walked, so a row inserted into one is found): if any changed
 * after its snapshot, FOLIO_CONFLICT. No write skew, no phantoms. */
#define FOLIO_TXN_SERIALIZABLE 0x8u
/** With FOLIO_TXN_READ (the default) or FOLIO_TXN_CONCURRENT: read
 * committed. A cursor opened, or a write call begun, while the transaction
 * has no cursor open sees the newest commit (a concurrent transaction's own
 * changes are carried over to it, and FOLIO_CONFLICT comes then if they no
 * longer apply); while cursors are open the transaction stays where they
 * are. FOLIO_CONFLICT too when the schema changed. READ UNCOMMITTED is not
 * offered: no transaction ever sees another's uncommitted rows. */
#define FOLIO_TXN_READ_COMMITTED 0x10u
/** With FOLIO_TXN_WRITE: a replica's transaction, which replays row changes
 * another database made (`folio apply` of a change feed, folio_feed_next):
 * its row calls fire no triggers, make no foreign-key checks or actions
 * (whatever folio_options.foreign_keys says) and leave sqlite_sequence
 * alone (AUTOINCREMENT), because the feed carries what those did on the
 * source as changes of their own. DDL runs as in any write transaction
 * (DROP TABLE deletes no rows first). Not with FOLIO_TXN_CONCURRENT. */
#define FOLIO_TXN_REPLICA 0x20u

/** Begin a transaction. A read transaction sees the last commit as of its
 * start for its whole life.
 *
 * FOLIO_TXN_WRITE: a write transaction, one at a time per database (a
 * second one waits up to busy_timeout_ms, in arrival order, then
 * FOLIO_BUSY). It never conflicts.
 *
 * FOLIO_TXN_CONCURRENT (WRITE implied): a write transaction that runs on
 * its snapshot beside any number of others and keeps nobody waiting. It
 * reads its own writes; constraints, indexes, triggers and foreign key
 * actions run as in any write transaction. folio_commit replays its row
 * changes on the newest database in arrival order: if a row it changed or
 * deleted was changed or deleted by a commit after its snapshot (of any
 * transaction, handle or process), or a row or UNIQUE key it inserted was
 * inserted meanwhile, the commit fails with FOLIO_CONFLICT, naming the
 * table and key, and the transaction is rolled back (first committer
 * wins; snapshot isolation). Automatic rowids of concurrent inserts never
 * collide. DDL, or a write call when its changed pages (kept in memory,
 * never spilled) reach half the cache budget, makes it a plain write
 * transaction: it waits for the writer role and replays its changes on the
 * newest database (FOLIO_CONFLICT if they no longer apply; FOLIO_MISUSE
 * while cursors are open). A commit after another transaction changed the
 * schema is FOLIO_CONFLICT. */
int folio_begin(folio_txn **out, folio_db *db, unsigned flags);
/** Commit and free the transaction (also for read transactions). */
int folio_commit(folio_txn *txn);
/** Roll back and free the transaction. */
int folio_rollback(folio_txn *txn);

/* ---- Schema and tables ---------------------------------------------------- */

/**
 * Run one DDL statement: CREATE/DROP TABLE, CREATE/DROP INDEX, CREATE/DROP
 * VIEW (a view's SELECT is checked for SQLite's syntax but, as SQLite does,
 * not resolved until used; a view's INSTEAD OF triggers go with it; TEMP
 * views are refused with FOLIO_UNSUPPORTED), CREATE/DROP TRIGGER (a table
 * whose last trigger goes can be written again), and ALTER TABLE (ADD
 * COLUMN, RENAME TO, RENAME COLUMN, DROP COLUMN) with SQLite 3.40's rules and
 * messages, leaving the same SQL text in sqlite_schema as SQLite would.
 * ALTER TABLE ... ADD COLUMN changes no row; DROP COLUMN rewrites every row
 * of the table. Views and triggers are rewritten as SQLite rewrites them
 * (and must resolve before and after, else SQLite's "error in view v: ...");
 * a statement that would need the rewrite of a part of a view or trigger
 * folio cannot resolve as SQLite does, that names the table or column, is
 * refused with FOLIO_UNSUPPORTED naming it. A failed statement leaves the
 * transaction as it was. Table handles of an altered table follow it while
 * its name stays (RENAME TO leaves them dead: open the new name).
 *
 * @return 0, or an error: FOLIO_ERROR with SQLite's message for what SQLite
 * refuses ("no such table: t", "Cannot add a NOT NULL column with default
 * value NULL", "error in index i after drop column: no such column: c"),
 * FOLIO_CONSTRAINT when rows break a CHECK or NOT NULL constraint that ADD
 * COLUMN brings, FOLIO_MISUSE for a syntax error, FOLIO_UNSUPPORTED.
 */
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

/* ---- Struct codec ------------------------------------------------------------ */

/**
 * A struct codec moves rows between a table and a C struct described by a
 * table of fields, with no folio_value array to fill by hand and no heap
 * allocation per row. Each field maps one struct member to one column:
 *
 * - FOLIO_F_I8 .. I64, U8 .. U64: int8_t .. uint64_t. Written as INTEGER (a
 *   U64 above INT64_MAX is refused); read from an INTEGER, or a REAL (*).
 * - FOLIO_F_BOOL: bool. Written as INTEGER 0 or 1; read as the INTEGER (*) != 0.
 * - FOLIO_F_FLOAT, FOLIO_F_DOUBLE: float, double. Written as REAL (a NaN as
 *   NULL, as SQLite stores it); read from a REAL or an INTEGER.
 * - FOLIO_F_CHARS: char[N], NUL-terminated. Written as TEXT, the bytes before
 *   the NUL (a member with no NUL is refused); read from a TEXT or BLOB of at
 *   most N - 1 bytes, copied and NUL-padded.
 * - FOLIO_F_CSTR: const char *, NUL-terminated. Written as TEXT (a NULL
 *   pointer as NULL); read from a TEXT or BLOB, copied into the codec's
 *   memory with a NUL after it.
 * - FOLIO_F_TEXT, FOLIO_F_BLOB: a pointer and a size_t length (len_offset).
 *   Written as TEXT or BLOB (a NULL pointer as NULL); read from a TEXT or
 *   BLOB, zero copy: the pointer points where folio_cursor_column's does.
 *
 * (*) a REAL only when it is integral and fits the member. Any other value,
 * or an integer that does not fit the member (300 into an int8_t, -1 into a
 * uint32_t), or a REAL beyond a float's range, fails the read with
 * FOLIO_MISMATCH naming the column; a text of N bytes or more for a char[N]
 * fails with FOLIO_TOOBIG (never truncated). On any failure the struct is
 * left unchanged.
 *
 * Which field types a column takes is checked once, by folio_codec_bind,
 * against the column's affinity (or STRICT type):
 *   - INTEGER and NUMERIC affinity: integers, BOOL, FLOAT, DOUBLE;
 *   - REAL: FLOAT, DOUBLE;
 *   - TEXT: CHARS, CSTR, TEXT;
 *   - BLOB (a BLOB type or no type at all): every type;
 *   - STRICT INTEGER/INT: integers and BOOL; REAL: FLOAT, DOUBLE; TEXT: CHARS,
 *     CSTR, TEXT; BLOB: BLOB; ANY: every type;
 *   - the rowid alias (INTEGER PRIMARY KEY): integers only. Its field is the
 *     rowid: on insert the new row's rowid (NULL, see FOLIO_F_NULLS, lets
 *     folio choose it), on read the row's rowid.
 * Writing follows the column's affinity as folio_insert does (a DOUBLE 2.0
 * in an INTEGER column is stored as 2).
 *
 * NULL: a field reads NULL as 0, 0.0, false, "" (CHARS), or a NULL pointer
 * with length 0 (CSTR, TEXT, BLOB); an empty text or blob reads as a
 * non-NULL pointer with length 0. For numbers, NULL can be told apart and
 * written through an optional FOLIO_F_NULLS member, a uint64_t whose bit i
 * (FOLIO_NULL_BIT(i)) stands for fields[i]: set, the field is written as
 * NULL whatever the member holds; on read, bit i is set exactly when
 * fields[i]'s value is NULL. Fields past the 64th have no bit.
 *
 * Columns the codec does not name take their DEFAULT on insert and keep
 * their value on update. A field on a generated column is filled on read
 * and ignored on write (the column is computed).
 */
#define FOLIO_F_I8     1
#define FOLIO_F_I16    2
#define FOLIO_F_I32    3
#define FOLIO_F_I64    4
#define FOLIO_F_U8     5
#define FOLIO_F_U16    6
#define FOLIO_F_U32    7
#define FOLIO_F_U64    8
#define FOLIO_F_FLOAT  9
#define FOLIO_F_DOUBLE 10
#define FOLIO_F_BOOL   11
#define FOLIO_F_CHARS  12 /**< char[size], NUL-terminated */
#define FOLIO_F_CSTR   13 /**< const char *, NUL-terminated; read into the codec's memory */
#define FOLIO_F_TEXT   14 /**< const char * and a size_t length at len_offset; zero copy */
#define FOLIO_F_BLOB   15 /**< const void * and a size_t length at len_offset; zero copy */
#define FOLIO_F_NULLS  16 /**< uint64_t: bit i set = fields[i] is NULL (column is NULL) */

/** The bit of fields[i] in a FOLIO_F_NULLS member. */
#define FOLIO_NULL_BIT(i) ((uint64_t)1 << (i))

/** One struct member and the column it maps to. */
typedef struct folio_field {
    const char *column; /**< column name (case-insensitive); NULL for FOLIO_F_NULLS */
    size_t offset;      /**< offsetof the member */
    int type;           /**< FOLIO_F_* */
    size_t size;        /**< sizeof the member (N of a char[N]); 0: the type's own size */
    size_t len_offset;  /**< FOLIO_F_TEXT, FOLIO_F_BLOB: offsetof the size_t length */
} folio_field;

/** A field for `member` of struct type `stype`, on `column`. */
#define FOLIO_FIELD(stype, member, column, ftype)                                                  \
    {                                                                                              \
        (column), offsetof(stype, member), (ftype), sizeof(((stype *)0)->member), 0                \
    }
/** A FOLIO_F_TEXT or FOLIO_F_BLOB field: a pointer `member` and its length `len_member`. */
#define FOLIO_FIELD_LEN(stype, member, len_member, column, ftype)                                  \
    {                                                                                              \
        (column), offsetof(stype, member), (ftype), sizeof(((stype *)0)->member),                  \
            offsetof(stype, len_member)                                                            \
    }
/** The FOLIO_F_NULLS field: `member` is a uint64_t. */
#define FOLIO_FIELD_NULLS(stype, member)                                                           \
    {                                                                                              \
        NULL, offsetof(stype, member), FOLIO_F_NULLS, sizeof(((stype *)0)->member), 0              \
    }

typedef struct folio_codec folio_codec; /**< fields bound to a table handle */

/**
 * Bind a field table to the table of `t`. Checks, each failure with a
 * message naming the field (its index and column) and the reason:
 * FOLIO_NOTFOUND_ERR "no such column"; FOLIO_MISMATCH for a field type the
 * column does not take (see above); FOLIO_MISUSE for the rest: NULL `out`,
 * `t` or `fields`, `n` < 1, `struct_size` 0, an unknown type, a column named
 * twice, a second FOLIO_F_NULLS, a member (or length) past `struct_size`,
 * not aligned for its type (offset % _Alignof), overlapping another, or
 * whose size is not its type's.
 *
 * `fields` need not outlive the call (names are resolved at bind). The codec
 * lives until folio_codec_free() or the end of the transaction of `t`,
 * whichever comes first, and is used by one thread at a time, as its
 * transaction is.
 * @param[out] out the codec, or NULL on failure
 * @param struct_size sizeof the struct
 * @return FOLIO_OK or an error above; FOLIO_NOMEM
 */
int folio_codec_bind(folio_codec **out, folio_table *t, const folio_field *fields, int n,
                     size_t struct_size);

/** Release a codec before its transaction ends (NULL is harmless). */
void folio_codec_free(folio_codec *c);

/**
 * Insert the row that struct `s` describes, as folio_insert would: columns
 * the codec does not name (or names on generated columns) take their
 * DEFAULT. `s` must be aligned for its members.
 * @param[out] out_rowid the new row's rowid (0 for WITHOUT ROWID); may be NULL
 * @return FOLIO_OK; FOLIO_MISMATCH (with nothing written) for a FOLIO_F_U64
 *         value above INT64_MAX; FOLIO_MISUSE for a char[N] with no NUL, a
 *         length with a NULL pointer, a misaligned `s`; else the errors of
 *         folio_insert
 */
int folio_insert_struct(int64_t *out_rowid, folio_codec *c, const void *s);

/**
 * Replace the values of the codec's columns in one row by those of `s`, as
 * folio_update would; the columns the codec does not name keep theirs. A
 * rowid table's row is the one with `rowid`, and a field on its INTEGER
 * PRIMARY KEY moves the row when it holds another value (as UPDATE t SET
 * id = ... does). A WITHOUT ROWID table's row is the one whose primary key
 * the struct's key fields hold (the codec must name every key column;
 * `rowid` must be 0); a key cannot be changed this way (folio_update_key).
 * @return FOLIO_OK; FOLIO_NOTFOUND when there is no such row; the errors of
 *         folio_insert_struct and folio_update / folio_update_key
 */
int folio_update_struct(folio_codec *c, int64_t rowid, const void *s);

/**
 * Fill `s` from the cursor's current row (a cursor on the codec's table, or
 * one of its indexes, in the codec's transaction), by the rules above. Zero
 * copy: FOLIO_F_TEXT and FOLIO_F_BLOB members point where
 * folio_cursor_column's bytes are (into the page when the value lies on one
 * page), valid until the cursor moves or is closed. FOLIO_F_CSTR members
 * point into the codec's memory, valid until its next folio_cursor_struct.
 * Members the codec does not name are left as they are.
 * @return FOLIO_OK; FOLIO_MISMATCH or FOLIO_TOOBIG for a value the member
 *         cannot hold (`s` unchanged); FOLIO_MISUSE (another table or
 *         transaction, no current row, a misaligned `s`); the errors of
 *         folio_cursor_column
 */
int folio_cursor_struct(folio_cursor *cur, folio_codec *c, void *s);

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

/* ---- Graph edges ------------------------------------------------------------ */

/*
 * Graph edges live in two ordinary tables that any SQLite tool can query,
 * created by the first folio_relate() of a database:
 *
 *   CREATE TABLE _concepts(key TEXT PRIMARY KEY NOT NULL, data)
 *   CREATE TABLE _relations(source_key TEXT, target_key TEXT, kind TEXT,
 *       weight REAL, data, PRIMARY KEY(source_key, target_key, kind))
 *       WITHOUT ROWID
 *   CREATE INDEX _relations_target ON _relations(target_key, kind, source_key)
 *
 * An edge goes from a source concept to a target concept and has a kind; at
 * most one edge exists per (source, target, kind). Keys and kinds are UTF-8
 * text compared byte for byte (BINARY). The index serves the walk of a
 * concept's incoming edges (and SQL's `WHERE target_key = ?`); since the
 * primary key columns end every entry of a WITHOUT ROWID table's index, it
 * costs no more than an index on (target_key, kind) alone.
 *
 * Tables or an index of these names made by someone else must have this
 * shape (column names in this order, the same keys, BINARY and ASC; the
 * declared types may differ, and _concepts may be WITHOUT ROWID): otherwise
 * the edge calls fail with FOLIO_ERROR and a message that names the
 * difference and the expected statement. A file with the tables but without
 * the index is walked by scanning _relations.
 */

/**
 * Relate `source_key` to `target_key`: insert the edge (source, target,
 * kind) with `weight` and `data`, or when that edge exists, set its weight
 * and data (never a second edge). Concepts missing from _concepts are
 * inserted with data NULL; existing ones are left as they are. Creates the
 * tables and the index (above) when missing. One call is all or nothing: a
 * failure leaves the transaction exactly as before it, tables included.
 *
 * @param txn a write transaction
 * @param source_key, target_key non-empty UTF-8 keys (they may be equal)
 * @param kind the edge's kind; NULL is the empty kind ""
 * @param weight any number but NaN, stored as REAL
 * @param data the edge's data (any value), or NULL for SQL NULL
 * @return FOLIO_OK; FOLIO_MISUSE (a NULL or empty key, a NaN weight, a
 *         statement under way); FOLIO_READONLY (a read transaction);
 *         FOLIO_ERROR (tables of another shape); the errors of
 *         folio_exec and folio_insert
 */
int folio_relate(folio_txn *txn, const char *source_key, const char *target_key, const char *kind,
                 double weight, const folio_value *data);

/**
 * Delete the edge (source, target, kind), or with `kind` NULL every edge
 * from source to target, whatever its kind. Concepts stay. All or nothing.
 *
 * @return FOLIO_OK when an edge was deleted; FOLIO_NOTFOUND when there was
 *         none (also when the tables do not exist); FOLIO_MISUSE,
 *         FOLIO_READONLY, FOLIO_ERROR as folio_relate; the errors of
 *         folio_delete_key
 */
int folio_unrelate(folio_txn *txn, const char *source_key, const char *target_key,
                   const char *kind);

#define FOLIO_EDGES_OUT 1 /**< edges whose source is the key */
#define FOLIO_EDGES_IN  2 /**< edges whose target is the key */

/** A walk over the edges of one concept. */
typedef struct folio_edges folio_edges;

/** One edge. Every pointer (keys, kind, TEXT and BLOB bytes of data) points
 * into the walker: valid until the next folio_edges_next or
 * folio_edges_close. */
typedef struct folio_edge {
    const char *source_key; /**< NUL-terminated */
    const char *target_key;
    const char *kind;
    double weight; /**< NaN when the stored weight is not a number (NULL, text) */
    folio_value data;
    int dir; /**< FOLIO_EDGES_OUT or FOLIO_EDGES_IN: the walk that found it */
} folio_edge;

/**
 * Begin a walk over the edges of `key`: with FOLIO_EDGES_OUT the edges
 * whose source is `key`, in (target, kind) order; with FOLIO_EDGES_IN those
 * whose target is `key`, in (kind, source) order (in (source, kind) order
 * in a file without _relations_target, which is then scanned); with both,
 * the outgoing edges first, then the incoming ones (an edge from `key` to
 * itself comes once, as outgoing). Works in read and write transactions; a database
 * without the edge tables has no edges (folio_edges_next returns FOLIO_DONE).
 *
 * The walker holds no page or cursor between calls: each folio_edges_next
 * finds its place again after the edge it returned last, so writes of the
 * same transaction between steps (folio_relate, ...) are seen from there on.
 * Use it while its transaction lasts; folio_edges_close may be called at any
 * time, also after the transaction ended.
 *
 * @param[out] out the walker, to be released with folio_edges_close
 * @param key a non-empty UTF-8 key (copied)
 * @param dir FOLIO_EDGES_OUT, FOLIO_EDGES_IN or both (OR-ed)
 * @return FOLIO_OK, FOLIO_MISUSE, FOLIO_NOMEM
 */
int folio_edges_open(folio_edges **out, folio_txn *txn, const char *key, int dir);

/** Walk only the edges of this kind (copied; NULL: every kind). Call it
 * before the first folio_edges_next (else FOLIO_MISUSE). */
int folio_edges_kind(folio_edges *e, const char *kind);

/** Step to the next edge: FOLIO_ROW, FOLIO_DONE, or an error (FOLIO_ERROR
 * for tables of another shape, I/O and corruption errors). */
int folio_edges_next(folio_edges *e);

/** The current edge (after folio_edges_next returned FOLIO_ROW; else
 * FOLIO_MISUSE). Its pointers live until the walker moves or is closed. */
int folio_edges_get(folio_edge *out, const folio_edges *e);

/** Release a walker (NULL is harmless). */
void folio_edges_close(folio_edges *e);

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

/** Levels of folio_check_ex, folio_backup_ex and folio_restore_ex. */
#define FOLIO_CHECK_QUICK 1 /**< the structure only (see folio_check_ex) */
#define FOLIO_CHECK_FULL  2 /**< everything folio_check checks */

/**
 * folio_check at a level: FOLIO_CHECK_FULL is folio_check. FOLIO_CHECK_QUICK
 * checks the structure only, like SQLite's PRAGMA quick_check: the header,
 * the schema entries, every page used exactly once (b-trees, overflow
 * chains, the freelist and its count, pointer-map entries), b-tree page
 * headers, leaves at one depth, cells and freeblocks inside the page and not
 * overlapping, the fragmented byte count, overflow chains as long as their
 * payloads, rowids ascending and interior keys between their subtrees, each
 * record's format (its header and serial types filling the payload exactly),
 * and as many entries in each index as rows in its table. It does not
 * compare records: not their order in an index (or WITHOUT ROWID table),
 * nor column types, affinity and NOT NULL, nor whether each index entry
 * matches its row. Several times faster than the full check.
 */
int folio_check_ex(folio_txn *txn, int level, int (*cb)(void *arg, const char *msg), void *arg,
                   int max_errors);

/** A row whose foreign key has no parent row, as PRAGMA foreign_key_check
 * reports it. The strings live until the callback returns. */
typedef struct folio_fk_violation {
    const char *table;  /**< the child table */
    int64_t rowid;      /**< the child row (when has_rowid) */
    int has_rowid;      /**< 0 for a WITHOUT ROWID table */
    const char *parent; /**< the parent table, as the constraint names it */
    int fkid;           /**< the constraint: SQLite's id (0 is the last declared) */
} folio_fk_violation;

/**
 * PRAGMA foreign_key_check: every row of `table` (NULL: of every table) whose
 * foreign key (all its columns not NULL) finds no parent row; a missing
 * parent table counts as an empty one. Works whether or not foreign keys
 * are enforced (folio_options.foreign_keys). `cb` returns 0 to go on.
 * Returns FOLIO_OK, FOLIO_NOTFOUND_ERR for an unknown table, or FOLIO_ERROR
 * ("foreign key mismatch - ...") when a parent key has no unique index.
 */
int folio_foreign_key_check(folio_txn *txn, const char *table,
                            int (*cb)(void *arg, const folio_fk_violation *v), void *arg);

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
 * thread); FOLIO_READONLY on a read-only handle. The transaction is subject to
 * txn_timeout_ms like any other: a VACUUM that runs longer is rolled back
 * and returns FOLIO_TIMEOUT (the database unchanged). Memory: about half the
 * cache budget in dirty pages, plus 8 MiB for the image's own cache.
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

/* ---- Versions and backup ------------------------------------------------- */

/**
 * Every commit has a version: a 64-bit number that only grows, the same for
 * every handle and process, durable with the commit (it is derived from the
 * WAL and kept in bytes 72..91 of the database header, which SQLite leaves
 * alone). A commit made by another engine (a `sqlite3` process) counts as a
 * version when folio sees it in the WAL before it is checkpointed away.
 *
 * folio_version: the version of the newest commit (0 for a database no
 * commit has been seen in).
 */
int folio_version(folio_db *db, uint64_t *out);
/** The version of the snapshot `txn` reads (a write transaction: the
 * version its commit builds on). */
int folio_txn_version(folio_txn *txn, uint64_t *out);
/**
 * Wait until a version after `version` is visible (commits of other handles
 * and processes included): FOLIO_OK, or FOLIO_TIMEOUT after `timeout_ms`.
 */
int folio_wait_version(folio_db *db, uint64_t version, unsigned timeout_ms);
/** Called after each commit of this handle, in the committing thread, once
 * the commit is visible (with FOLIO_SYNC_FULL: durable). It must not begin
 * a write transaction on the same handle. */
typedef void (*folio_commit_fn)(void *arg, uint64_t version);
/**
 * Set (or with cb == NULL clear) the commit callback of `db`; one per
 * handle, a new one replaces the old.
 */
int folio_on_commit(folio_db *db, folio_commit_fn cb, void *arg);

/**
 * Online backup: a copy of one version of the database at `dest`, taken from
 * a read snapshot (it never restarts and never blocks writers), synced and
 * verified (a checksum of the copy read back, and an integrity check of the
 * copy: folio_check_ex's quick check; folio_backup_ex can ask for the full
 * one) before it is renamed into
 * place; a crash never leaves a partial `dest`. *out_version (may be NULL)
 * receives the version copied. FOLIO_ERROR "output file already exists" when
 * `dest` exists.
 *
 * The copy is written to "<dest>-backup" (removed on any failure; a stale one,
 * left by a crash, is removed first): every page of the snapshot, the pages in
 * the database file in runs of up to 1 MiB (straight from the handle's map of
 * the file, mmap_bytes, where it reaches), those in the WAL through the cache.
 * The snapshot ends once the last page is written; while it lasts, checkpoints
 * cannot copy frames past it (FULL, RESTART and TRUNCATE wait for it up to
 * busy_timeout_ms, as for any reader). Then the copy is synced (whatever the
 * sync level; by a second thread, meanwhile it is read back and compared with a
 * 64-bit checksum of what was written, and checked by a third), renamed
 * to `dest` (never over a file that appeared meanwhile), and the directory
 * synced. The copy is a database on its own (no -wal or -shm): page 1 holds the
 * snapshot's header with the page count of the copy and a version stamp naming
 * the version copied. The database may be open read-only; a transaction of the
 * handle may be open (the backup is of the newest commit, not of that
 * transaction). A backup that holds its snapshot longer than txn_timeout_ms
 * fails with FOLIO_TIMEOUT.
 *
 * @return FOLIO_OK, or an error with its message (FOLIO_CORRUPT "backup
 *         verification failed: ..." when the copy does not check clean);
 *         on an error no `dest` was made
 */
int folio_backup(folio_db *db, const char *dest, uint64_t *out_version);

/**
 * folio_backup with progress: `progress` (may be NULL) is called from the
 * calling thread with the pages done and the pages expected in all (twice
 * the database's pages: the copy, then the read back), after every 1 MiB
 * copied (while the snapshot is held) and read back, and once at the end
 * with done == total.
 */
int folio_backup_progress(folio_db *db, const char *dest, uint64_t *out_version,
                          void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg);

/**
 * folio_backup with progress and the level of the copy's integrity check:
 * `check` FOLIO_CHECK_QUICK (also 0, the default: the structure) or
 * FOLIO_CHECK_FULL (every record too, as folio_check). Either way the copy
 * is read back and compared with the checksum of the bytes read from the
 * snapshot.
 */
int folio_backup_ex(folio_db *db, const char *dest, int check, uint64_t *out_version,
                    void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg);

/* ---- The commit log --------------------------------------------------------- */

/** Compression of the commit log's records. */
#define FOLIO_LOG_ZSTD 0
#define FOLIO_LOG_LZ4  1
/** folio_options.log_compression: the compression `folio_log_enable` chose. */
#define FOLIO_LOG_AS_ENABLED (-1)

/**
 * Turn the commit log on: the directory "<database>-log/" receives a base
 * (every page of the database now) and from then on a record of every commit
 * of every folio handle, in any process (the setting lives in the database:
 * handles see it at their next transaction). A record holds the commit's
 * version and time, its row changes (table, rowid or key, the row before and
 * after) and DDL statements, and the after-images of its pages, compressed,
 * checksummed and chained. With FOLIO_SYNC_FULL a record is durable when
 * folio_commit returns; after any crash the log never holds a version the
 * database does not have. On already: FOLIO_OK (a new compression applies to
 * new records).
 */
int folio_log_enable(folio_db *db, int compression);
/** Turn it off (the files stay). */
int folio_log_disable(folio_db *db);

/**
 * Point-in-time restore: build at `dest` the database as it was at `version`
 * (or, with version 0, at the last commit at or before `time_us`, UTC
 * microseconds since 1970) from the commit log `source` (a log directory, or
 * a database whose "<database>-log/" it is): the newest base at or before it
 * plus the page images of the commits after, each page written once. The
 * file is synced, read back against a checksum and checked (the quick check
 * of folio_check_ex) before it is renamed to `dest`; a
 * damaged or foreign log is FOLIO_CORRUPT naming the file and offset, a
 * version the log cannot rebuild FOLIO_NOTFOUND_ERR, and `dest` is not made.
 * The copy's version is the one restored; its commit log is off. Errors
 * are described by folio_open_errmsg() (there is no handle).
 */
int folio_restore(const char *source, const char *dest, uint64_t version, int64_t time_us,
                  uint64_t *out_version);
/**
 * folio_restore with the level of the restored file's check: `check`
 * FOLIO_CHECK_QUICK (also 0, the default, which folio_restore uses) or
 * FOLIO_CHECK_FULL. Either way the file is read back against a 64-bit hash
 * of every byte written, while it is synced.
 */
int folio_restore_ex(const char *source, const char *dest, uint64_t version, int64_t time_us,
                     int check, uint64_t *out_version);

/** What an entry of folio_log_list is. */
typedef enum folio_log_kind {
    FOLIO_LOG_COMMIT = 1, /**< the record of one commit */
    FOLIO_LOG_GAP = 2,    /**< versions that happened without a record */
    FOLIO_LOG_BASE = 3    /**< every page of the database at one version */
} folio_log_kind;

/** One entry of the commit log (folio_log_list). */
typedef struct folio_log_entry {
    folio_log_kind kind;
    uint64_t version;      /**< the commit's or base's version; a gap's first */
    uint64_t last_version; /**< a gap's last version; else `version` */
    /** UTC microseconds since 1970: when the commit was made, the base
     * taken, or the gap found */
    int64_t time_us;
    uint32_t changes;      /**< row changes and DDL statements of a commit */
    uint32_t pages;        /**< page images of a commit, pages of a base */
    uint64_t raw_bytes;    /**< a record's payload or a base's pages, uncompressed */
    uint64_t stored_bytes; /**< a record's payload as stored; a base's whole file */
    /** The file it lies in and where; valid until the callback returns. */
    const char *file;
    uint64_t offset;
} folio_log_entry;

/**
 * List the commit log `source` (a log directory, or a database whose
 * "<database>-log/" it is) in version order: every record (commits and
 * gaps) and every base, a base after the commit of its version. Each
 * record is verified as it is read (its checksum and the chain, every
 * segment against the log's manifest): a damaged or foreign log is
 * FOLIO_CORRUPT naming the file and the offset. `cb` returns 0 to go on;
 * anything else stops the listing and is returned. Errors are described by
 * folio_open_errmsg().
 */
int folio_log_list(const char *source, int (*cb)(void *arg, const folio_log_entry *e), void *arg);

/** The commit log of a database (folio_log_stats). */
typedef struct folio_log_stats_data {
    int enabled;             /**< the database has its log on */
    int present;             /**< "<database>-log/" holds a log (the rest is 0 when not) */
    int compression;         /**< of new records: FOLIO_LOG_ZSTD or FOLIO_LOG_LZ4 */
    uint32_t segments;       /**< segment files */
    uint32_t bases;          /**< base files */
    uint64_t disk_bytes;     /**< every file of the log */
    uint64_t commits;        /**< commit records */
    uint64_t gaps;           /**< gap records */
    uint64_t raw_bytes;      /**< the commit records, uncompressed */
    uint64_t stored_bytes;   /**< the same as stored */
    uint64_t oldest_version; /**< of the oldest record (0: none) */
    uint64_t newest_version; /**< of the newest record (0: none) */
    uint64_t oldest_base;    /**< the oldest version a restore can start from (0: no base) */
    uint64_t newest_base;
    int64_t newest_base_time_us; /**< when the newest base was taken */
} folio_log_stats_data;

/**
 * Figures of the commit log of `db`, read from its files' headers (records
 * are not verified: see folio_log_list). A log cut short or damaged is
 * counted as far as it reads.
 */
int folio_log_stats(folio_db *db, folio_log_stats_data *out);

/**
 * Prune the commit log of `db`: keep every version of the last
 * `keep_versions` versions, or (with `keep_versions` 0) every version since
 * `keep_seconds` ago and the one in force then, restorable; delete the
 * bases and whole segments older than that. When the newest base at or
 * before the oldest version kept is older than it, and a new base there
 * frees segments, a base of that version is made first (restored from the
 * log, checked, synced) and the older bases and segments go after it. The
 * last segment (the one writers append to) is never deleted. With both
 * given the older of the two limits holds. A crash at any point leaves a
 * log that restores every version it restored before down to the oldest
 * kept. FOLIO_BUSY when another prune of the log is running; a damaged log
 * is refused (FOLIO_CORRUPT naming the file) before anything is deleted.
 */
int folio_log_prune(folio_db *db, uint64_t keep_versions, int64_t keep_seconds);

/** What folio_log_ship did. */
typedef struct folio_log_ship_data {
    uint32_t files_copied;  /**< files written whole */
    uint32_t files_resumed; /**< files that had grown: only the new bytes read */
    uint32_t files_skipped; /**< already there with the same size and content */
    uint64_t bytes_copied;  /**< bytes read from `source` and written */
} folio_log_ship_data;

/**
 * Copy the commit log `source` (a log directory, or a database whose log it
 * is) into the directory `dest` (created if missing), so that `dest` is a
 * log that folio_restore reads: the manifest first, then the bases and
 * segments in version order. A file already in `dest` with the same size
 * and content is skipped; one that is a prefix of its source (a segment
 * that grew since) is completed from where it ends; each file is written
 * under a temporary name, synced and renamed into place. Files of `dest`
 * that `source` no longer has (pruned) stay. A `dest` that holds the log of
 * another database is refused. Writers may go on meanwhile: the copy of the
 * last segment ends where it ended when read. *out (may be NULL) receives
 * the figures. Errors are described by folio_open_errmsg().
 */
int folio_log_ship(const char *source, const char *dest, folio_log_ship_data *out);

/* ---- The change feed ------------------------------------------------------ */

/** What a change of the feed is (folio_change.op). */
#define FOLIO_CHANGE_INSERT 1 /**< a row went in: values (rowid, or key) */
#define FOLIO_CHANGE_UPDATE 2 /**< a row changed: old and values (rowid, or old key) */
#define FOLIO_CHANGE_DELETE 3 /**< a row went: old (rowid, or key) */
#define FOLIO_CHANGE_EXEC   4 /**< a DDL statement: sql (table: the table it names) */
/** A snapshot begins: the changes up to its FOLIO_CHANGE_COMMIT (the
 * CREATE statements of a base, then its rows as inserts, all with the
 * base's version) build the whole database as of `version` from nothing:
 * a replica drops what it holds first. */
#define FOLIO_CHANGE_SNAPSHOT 5
/** The end of a version: every change of `version` came before it. */
#define FOLIO_CHANGE_COMMIT 6

/**
 * One change of the feed. Its pointers live until the next folio_feed_next
 * or folio_feed_close. Values are a table's columns in declared order, as
 * folio_cursor_column reads them (an INTEGER PRIMARY KEY column holds the
 * rowid; generated columns their value).
 */
typedef struct folio_change {
    uint64_t version; /**< the commit's version (a snapshot's: its base's) */
    int64_t time_us;  /**< when it committed, UTC microseconds since 1970 */
    int op;           /**< FOLIO_CHANGE_* */
    /** Row changes: the table; EXEC: the table the statement creates, alters
     * or drops, or whose index or trigger it makes or drops (a RENAME TO:
     * the old name), NULL for others (views). */
    const char *table;
    int without_rowid;
    int64_t rowid; /**< rowid tables */
    /** WITHOUT ROWID tables: the primary key in primary key order, of the
     * row inserted, or of the row before an update or a delete. */
    int nkey;
    const folio_value *key;
    int ncols;                      /**< columns of the table */
    const folio_value *values;      /**< INSERT, UPDATE: the row after */
    const folio_value *old;         /**< UPDATE, DELETE: the row before */
    const char *const *colnames;    /**< the columns' names */
    const unsigned char *generated; /**< per column: 1 for a generated column
                                       (left out of a row value array) */
    const char *sql;                /**< EXEC: the statement */
} folio_change;

typedef struct folio_feed folio_feed;

/**
 * Read the commit log of `db` as changes: every version from
 * `from_version` on, in order, each version's changes as they happened,
 * then a FOLIO_CHANGE_COMMIT. With `from_version` 0, or one older than
 * every base of the log (a log enabled after the tables were made), the
 * feed begins with the oldest base as a snapshot (FOLIO_CHANGE_SNAPSHOT).
 * The feed keeps the schema as of each change in a temporary directory
 * ($TMPDIR, else /tmp) of its own, which folio_feed_close removes.
 * Versions the log does not hold (a GAP: commits of another engine, a log
 * turned off for a while) are skipped by a snapshot of the first base after
 * them (a resync); with no base after them, folio_feed_next fails with
 * FOLIO_NOTFOUND_ERR naming the versions. FOLIO_NOTFOUND_ERR here when the
 * database has no commit log.
 */
int folio_feed_open(folio_feed **out, folio_db *db, uint64_t from_version);
/**
 * The next change: FOLIO_ROW with *change set, or FOLIO_DONE at the end of
 * the log as it is now (a later call finds the versions committed since:
 * folio_wait_version waits for them). Never a version the database does not
 * have yet. An error (FOLIO_CORRUPT naming the log file and offset,
 * FOLIO_NOMEM, ...) stays: every later call returns it.
 */
int folio_feed_next(folio_feed *f, folio_change *change);
/** The identity of the log the feed reads ("<database id>-<log id>" in
 * hex; lives as long as the feed): what a replica remembers its versions
 * by. */
int folio_feed_source(folio_feed *f, const char **out);
/** Close the feed (NULL is harmless); its temporary files go. */
int folio_feed_close(folio_feed *f);

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
    /* Version 2 (fields added here are filled only for callers whose `size`
     * reaches them). */
    /** Gauge: when this handle's last checkpoint ended, UTC microseconds
     * since 1970 (0: none yet). */
    uint64_t checkpoint_last_unix_us;
    /* The commit log. */
    uint64_t log_records;      /**< commit records this handle appended */
    uint64_t log_raw_bytes;    /**< their payloads, uncompressed */
    uint64_t log_stored_bytes; /**< their payloads as stored (raw / stored: the compression) */
    uint64_t log_bytes;        /**< gauge: bytes of the log's files on disk (0: no log) */
    /** Gauge: the version of the log's oldest base, the oldest version a
     * restore rebuilds (0: no log) */
    uint64_t log_oldest_version;
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
