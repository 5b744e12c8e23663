/*
 * crash_support.h - helpers for the crash and fault suite (tests/crash/):
 * temporary directories and file surgery, seeds, and the three views of a
 * database file that every crash test compares:
 *
 *   - folio's view: folio_check() and a canonical hash of the content read
 *     through folio (opened read-only, so the check itself writes nothing);
 *   - libsqlite3's view: PRAGMA integrity_check and the same hash computed
 *     from what libsqlite3 reads (through a read-only handle that never
 *     checkpoints, so a -wal beside the file stays as it is);
 *   - the expected state: a hash recorded after a commit.
 *
 * The canonical hash covers every schema entry (type, name, tbl_name, sql;
 * not the root page, which is a physical detail) and every row of every
 * table (the rowid, 0 for WITHOUT ROWID tables, then each column's type and
 * value). Rows and schema entries are combined as a multiset, so the hash
 * does not depend on the order in which they are visited. Tables whose name
 * starts with "zz_" are left out: the tests use them as markers written
 * after recovery.
 *
 * None of these helpers asserts: they return 0 on success or -1 with a
 * message in `err`, so a test can collect every failure of a long run and
 * report them together.
 */
#ifndef FOLIO_TESTS_CRASH_SUPPORT_H
#define FOLIO_TESTS_CRASH_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include <folio.h>

/* ---- Files ---------------------------------------------------------------- */

/** A fresh directory under $FOLIO_TMP (else /tmp) named after `tag`;
 * malloc'd. Aborts the process if none can be made. */
char *crash_tmpdir(const char *tag);
/** Remove `dir` and everything in it. */
void crash_rmtree(const char *dir);
/** "dir/name" or "path suffix", malloc'd. */
char *crash_path(const char *dir, const char *name);
char *crash_suffix(const char *path, const char *suffix);
/** Size of a file, -1 if it does not exist. */
int64_t crash_file_size(const char *path);
/** The whole file, malloc'd (NULL if it cannot be read); *out_len its size. */
uint8_t *crash_read_file(const char *path, size_t *out_len);
/** Replace the file's content. 0 or -1. */
int crash_write_file(const char *path, const void *data, size_t len);
/** Copy a file; when `from` is missing, `to` is removed. 0 or -1. */
int crash_copy_file(const char *from, const char *to);
/** Copy a database and its -wal (a missing -wal removes the target's);
 * the target's -shm is removed. 0 or -1. */
int crash_copy_db(const char *from, const char *to);
/** Remove a database and its -wal, -shm and -journal. */
void crash_remove_db(const char *path);

/* ---- A fast vfs ------------------------------------------------------------- */

#include "os/os.h"

/**
 * The POSIX vfs with sync and sync_dir turned into no-ops. The fault vfs
 * decides what survives a simulated power loss by itself, so real fsyncs
 * only cost time there; use this as its base and for checking files.
 */
os_vfs *crash_vfs_fast(void);

/**
 * A vfs over `base` that prints every write, sync and truncate (numbered
 * from 1, as the fault vfs counts them when it sits on top) to stderr. For
 * finding out what a crash point hits; not thread-safe.
 */
os_vfs *crash_vfs_trace(os_vfs *base);

/* ---- Knobs and random numbers ----------------------------------------------- */

/** Whether FOLIO_SOAK is set to something other than "" or "0". */
int crash_soak(void);
/** FOLIO_SEED if set, else `fallback`; prints "seed=N (what)". */
uint64_t crash_seed(uint64_t fallback, const char *what);
/** An integer from the environment, or `dflt`. */
long crash_env_long(const char *name, long dflt);
/** splitmix64 step; uniform below n (n > 0). */
uint64_t crash_rand(uint64_t *state);
uint64_t crash_below(uint64_t *state, uint64_t n);
/** Fill `buf` with bytes determined by `seed`. */
void crash_fill(uint8_t *buf, size_t n, uint64_t seed);

/* ---- Views of a database -------------------------------------------------- */

/** The canonical hash of what a new read transaction of `db` sees. */
int crash_hash_db(folio_db *db, uint64_t *out, char *err, size_t errlen);
/** Open `path` read-only with folio (through the current vfs) and hash it. */
int crash_hash_folio(const char *path, uint64_t *out, char *err, size_t errlen);
/** The canonical hash of what libsqlite3 reads from `path`. */
int crash_hash_sqlite(const char *path, uint64_t *out, char *err, size_t errlen);
/** folio_check through a read-only folio handle: 0 when clean. */
int crash_check_folio(const char *path, char *err, size_t errlen);
/** PRAGMA integrity_check through a read-only libsqlite3 handle: 0 for "ok". */
int crash_check_sqlite(const char *path, char *err, size_t errlen);
/**
 * All of the above: folio_check clean, integrity_check "ok", and the folio
 * and libsqlite3 hashes equal. *out_hash (may be NULL) receives the hash.
 */
int crash_verify(const char *path, uint64_t *out_hash, char *err, size_t errlen);
/**
 * Open `path` read-write with folio (plain options, `sync` level), write a
 * marker row into table zz_marker (created if needed), commit and close;
 * then crash_verify() again and compare the hash with `want`. Shows that the
 * recovered file can be written and checkpointed.
 */
int crash_write_after(const char *path, uint64_t want, char *err, size_t errlen);

/** Name of a folio return code ("FOLIO_IOERR"), or "rc=N". */
const char *crash_rc_name(int rc);
/** Whether folio_errmsg(db) holds a real message (not "" nor "not an error"). */
int crash_has_msg(const folio_db *db);

/* ---- Failure collection ----------------------------------------------------- */

/** A list of failure descriptions kept for the end of a long run. */
typedef struct crash_failures {
    int n;
    char first[1024];
    char last[1024];
} crash_failures;

/** Record a failure (printed to stderr at once; the first and last kept). */
void crash_fail(crash_failures *fl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* FOLIO_TESTS_CRASH_SUPPORT_H */
