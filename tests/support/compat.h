/*
 * compat.h - helpers for the read-compatibility suite (tests/compat/): build
 * databases with libsqlite3 in a fresh temporary directory, then read them
 * with folio and compare every value with what libsqlite3 returns.
 *
 * Every helper fails the running Criterion test (cr_assert_fail) on an error
 * it does not expect, with a message that says what, where and why; none of
 * them returns an error code.
 *
 * Comparison rules (DESIGN.md, "Compatibility both ways"):
 *   - types are equal (sqlite3_column_type against folio_value.type);
 *   - INTEGER values are equal, REAL values are equal bit for bit (memcmp, so
 *     -0.0 differs from 0.0), TEXT is compared as the UTF-8 bytes that
 *     sqlite3_column_text returns (libsqlite3 converts UTF-16 databases), BLOB
 *     byte for byte;
 *   - a table is walked in rowid order (WITHOUT ROWID: primary key order with
 *     the key's collations and DESC), an index in its key order with ties
 *     broken by the rowid (WITHOUT ROWID: the primary key);
 *   - folio_cursor_seek on an index compares in index order: FOLIO_SEEK_GE is
 *     the first entry at or after the key in the order the index is walked
 *     (so on a DESC column "after" means smaller), GT the first strictly
 *     after, LE the last entry at or before it, LT the last strictly before,
 *     EQ the first entry equal to it; NULL sorts first, as in the b-tree.
 *
 * Randomized helpers take their seed from compat_seed(): FOLIO_SEED if set
 * (a number, or "random" for a time-based seed), else the caller's default;
 * the seed is printed as "seed=N".
 */
#ifndef FOLIO_TESTS_COMPAT_H
#define FOLIO_TESTS_COMPAT_H

#include <stddef.h>
#include <stdint.h>

#include <folio.h>
#include <sqlite3.h>

/* ---- Files and directories ------------------------------------------------ */

/** A fresh directory under $FOLIO_TMP (created if missing) or /tmp. The
 * caller frees the string; remove the directory with compat_rmtree() when
 * the test passed (a failing test keeps it for inspection). */
char *compat_tmpdir(void);
/** Remove `dir` and everything under it. */
void compat_rmtree(const char *dir);
/** `dir`/`name`, freshly allocated. */
char *compat_path(const char *dir, const char *name);
/** `path` with `suffix` appended ("-wal", "-shm"), freshly allocated. */
char *compat_suffix(const char *path, const char *suffix);
/** Size of a file in bytes, -1 if it does not exist. */
int64_t compat_file_size(const char *path);
/** The whole file, freshly allocated (never NULL; *out_len gets its size). */
uint8_t *compat_read_file(const char *path, size_t *out_len);
/** Replace the file's content with `len` bytes of `data`. */
void compat_write_file(const char *path, const void *data, size_t len);
/** Copy a file (and its -wal and -shm when `with_wal`, removing stale ones). */
void compat_copy_db(const char *from, const char *to, int with_wal);
/** Append `len` bytes to a file. */
void compat_append_file(const char *path, const void *data, size_t len);

/* ---- Seeds and random numbers --------------------------------------------- */

/** The test's seed: FOLIO_SEED if set, else `fallback`. Prints "seed=N". */
uint64_t compat_seed(uint64_t fallback);
/** The seed of the last compat_seed() call in this process; the first call
 * without one runs compat_seed() with the helpers' default (so FOLIO_SEED
 * always applies and the seed is always printed). */
uint64_t compat_current_seed(void);
/** splitmix64 step. */
uint64_t compat_rand(uint64_t *state);
/** Uniform in [0, n) (n > 0). */
uint64_t compat_below(uint64_t *state, uint64_t n);

/* ---- libsqlite3 ----------------------------------------------------------- */

/** Open read-write, creating the file (synchronous=OFF: no fsync). */
sqlite3 *compat_sqlite_open(const char *path);
/** Add det_blob(n, k) to a handle: n bytes that depend only on k (use it
 * instead of randomblob(), so that a seed replays the same files). Handles
 * from compat_sqlite_open() have it already. */
void compat_sqlite_functions(sqlite3 *db);
/** Open read-only; such a handle never checkpoints a WAL on close. */
sqlite3 *compat_sqlite_open_ro(const char *path);
/** Close (a WAL is checkpointed and removed as usual). */
void compat_sqlite_close(sqlite3 *db);
/** Close without checkpointing: a -wal with its frames stays beside the file. */
void compat_sqlite_close_keep_wal(sqlite3 *db);
/** Run SQL (any number of statements); fails the test on error. */
void compat_exec(sqlite3 *db, const char *sql);
void compat_execf(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Switch to journal_mode=WAL with automatic checkpoints off; fails the test
 * if SQLite does not switch. */
void compat_wal_mode(sqlite3 *db);
/** A WITH clause defining table `series(value)` with the integers lo..hi
 * (libsqlite3 has no generate_series): COMPAT_SERIES(1, 100) "INSERT INTO t
 * SELECT value FROM series". */
#define COMPAT_SERIES(lo, hi)                                                                      \
    "WITH RECURSIVE series(value) AS (SELECT " #lo                                                 \
    " UNION ALL SELECT value + 1 FROM series WHERE value < " #hi ") "

/** Open `path`, run SQL, close (normally). */
void compat_run(const char *path, const char *sql);
/** First column of the first row as an integer (0 if no row). */
int64_t compat_query_int(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** First column of the first row as text, freshly allocated (NULL if no row
 * or a NULL value). */
char *compat_query_text(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Prepare; fails the test on error. */
sqlite3_stmt *compat_prepare(sqlite3 *db, const char *sql);
/** "ok" when PRAGMA integrity_check is clean, else its first message. Freshly
 * allocated. */
char *compat_integrity(const char *path);
/** The first row of PRAGMA `pragma` (integrity_check, quick_check) on the
 * file, freshly allocated ("ok" when clean). */
char *compat_pragma_check(const char *path, const char *pragma);
/** `name` quoted as an SQL identifier, freshly allocated. */
char *compat_quote(const char *name);

/* ---- Generated data ------------------------------------------------------- */

/** Integers at every serial-type width boundary (0, 1, -1, +-127/128, ...,
 * +-2^47, INT64_MIN, INT64_MAX). */
extern const int64_t compat_int_boundaries[];
extern const size_t compat_n_int_boundaries;
/** Reals that stress the codec: +-0.0, subnormals, +-Infinity, DBL_MAX,
 * integral values, values near 2^53 and 2^63. No NaN (SQLite stores NULL). */
extern const double compat_special_reals[];
extern const size_t compat_n_special_reals;

/** Bind a random value to parameter `param`: NULL, boundary or random
 * integers, special or random reals, valid UTF-8 text (ASCII with mixed case
 * and trailing spaces, multi-byte characters) or blobs, up to `maxlen` bytes
 * (text and blob lengths favour short values, sometimes exactly `maxlen`). */
void compat_bind_random(sqlite3_stmt *st, int param, uint64_t *rng, int maxlen);

/**
 * Create and fill the standard set of tables through `db` (any page size,
 * encoding or journal mode set before): a rowid table with every type and
 * overflowing values, an INTEGER PRIMARY KEY table with a NOCASE column, a
 * WITHOUT ROWID table with a composite DESC key, their indexes (unique,
 * multi-column, DESC, NOCASE, RTRIM, partial), then deletes and updates that
 * leave freeblocks and freelist pages. `nrows` rows per table.
 */
void compat_populate(sqlite3 *db, uint64_t seed, int nrows);

/* ---- folio ---------------------------------------------------------------- */

#define COMPAT_RO   0x1u /**< open folio with FOLIO_OPEN_READONLY */
#define COMPAT_RW   0x2u /**< open folio read-write (never creating) */
#define COMPAT_BOTH 0x3u /**< once each way, read-only first */

/** folio_options.mmap_bytes of every compat_folio_open (default 0, or the
 * environment's FOLIO_TEST_MMAP). */
extern size_t compat_folio_mmap_bytes;
/** The mmap_bytes those opens use. */
size_t compat_mmap_option(void);
/** Open with folio (mode COMPAT_RO or COMPAT_RW); fails the test on error. */
folio_db *compat_folio_open(const char *path, unsigned mode);
/** Begin a read transaction; fails the test on error. */
folio_txn *compat_folio_read(folio_db *db);
/** Name of a folio return code ("FOLIO_CORRUPT", "FOLIO_ROW", "-99?"). */
const char *compat_rc_name(int rc);
/** Whether `rc` is one of the codes folio.h defines. */
int compat_rc_defined(int rc);
/** Whether `msg` contains "page " followed by a decimal number. */
int compat_names_page(const char *msg);

/* ---- Comparisons (libsqlite3 is the reference) ----------------------------- */

/** Walk `table` with folio (read-only, then read-write) and with libsqlite3 and
 * compare every row and value, forwards and backwards; also rowid seeks
 * (rowid tables) or primary-key seeks (WITHOUT ROWID tables). */
void compare_table(const char *dbpath, const char *table);
void compare_table_modes(const char *dbpath, const char *table, unsigned modes, int nseeks);

/** compare_table_modes with the reference read by libsqlite3 from another
 * file `refpath` (a copy in the state folio must see). */
void compare_table_ref(const char *dbpath, const char *refpath, const char *table, unsigned modes,
                       int nseeks);

/** Walk index `index` of `table` with a folio index cursor and compare the
 * sequence of rows (rowid and every column) with libsqlite3's order of the
 * index (its columns with their collations and DESC, then the rowid or the
 * primary key), forwards and backwards; then `nseeks` random seeks with
 * every FOLIO_SEEK_* op on existing and perturbed keys. A cursor on an
 * expression index may be refused with FOLIO_UNSUPPORTED. */
void compare_index(const char *dbpath, const char *table, const char *index);
void compare_index_modes(const char *dbpath, const char *table, const char *index, unsigned modes,
                         int nseeks);

void compare_index_ref(const char *dbpath, const char *refpath, const char *table,
                       const char *index, unsigned modes, int nseeks);

/** folio_schema_count/get against sqlite_schema (rowid order). */
void compare_schema(const char *dbpath);
/** folio_info_get against the header and PRAGMAs. */
void compare_info(const char *dbpath);
/** libsqlite3's integrity_check is "ok" and so is folio_check (no message). */
void compare_check(const char *dbpath);
/** folio_stats entries, depth and page counts per b-tree against dbstat. */
void compare_stats(const char *dbpath);
/** All of the above, and every table and index of the file. */
void compare_db(const char *dbpath);
void compare_db_modes(const char *dbpath, unsigned modes, int nseeks);

#endif /* FOLIO_TESTS_COMPAT_H */
