/*
 * crash_workload.h - the deterministic workload of the crash and fault
 * suite: a sequence of units (write transactions, checkpoints of every mode,
 * a rolled-back spilling transaction, a close and reopen) that touches every
 * write path folio has:
 *
 *   - CREATE TABLE (rowid and WITHOUT ROWID), CREATE INDEX on an empty and on
 *     a filled table, DROP TABLE of a table with overflow pages, ALTER TABLE
 *     (ADD COLUMN, RENAME TO, RENAME COLUMN, and DROP COLUMN, which rewrites
 *     rows with overflow pages);
 *   - inserts with 10 KB blobs (overflow chains), updates that grow and shrink
 *     rows, deletes that empty pages (merges, freelist), a constraint
 *     violation undone inside a transaction;
 *   - a transaction larger than the cache (opened with cache_bytes = 64 KB)
 *     that spills to the WAL, and one that spills and is rolled back;
 *   - folio_checkpoint PASSIVE, FULL, RESTART and TRUNCATE, and automatic
 *     checkpoints (wal_autocheckpoint = 20).
 *
 * The same units run in two ways:
 *   - wl_run_until_error: stop at the first failed call (crash tests);
 *   - by a caller that retries units (fault tests), using wl_unit_run.
 *
 * A dry run records the canonical hash (crash_support.h) after each commit
 * that returned OK, and the count of write+sync+truncate operations of the
 * fault vfs after each unit.
 */
#ifndef FOLIO_TESTS_CRASH_WORKLOAD_H
#define FOLIO_TESTS_CRASH_WORKLOAD_H

#include <stdint.h>

#include <folio.h>

#include "os/os_fault.h"

#define WL_MAX_COMMITS 64
#define WL_MAX_UNITS   64

typedef enum wl_kind {
    WL_TXN,        /* a write transaction that commits */
    WL_TXN_ABORT,  /* a write transaction that spills and is rolled back */
    WL_TXN_CONC,   /* a concurrent transaction (replayed by its commit) */
    WL_CHECKPOINT, /* folio_checkpoint(arg) */
    WL_REOPEN,     /* folio_close then folio_open */
    WL_CLOSE,      /* the final folio_close */
} wl_kind;

typedef struct wl wl;

typedef struct wl_unit {
    wl_kind kind;
    const char *name;
    int (*body)(wl *w, folio_txn *txn); /* WL_TXN, WL_TXN_ABORT */
    int arg;                            /* checkpoint mode */
} wl_unit;

struct wl {
    /* set by the caller */
    const wl_unit *units; /* NULL: the standard workload (wl_units) */
    int nunits;
    const char *path;
    folio_options opts;
    os_fault *fault; /* NULL: no counting */
    int record;      /* dry run: hash after every commit, count ops per unit */

    /* state */
    folio_db *db;
    int arg;        /* the running unit's arg, for its body */
    int ncommits;   /* commits that returned OK */
    int durable;    /* commits known durable (a full checkpoint or close returned OK) */
    int inflight;   /* the failed call was the commit of transaction ncommits + 1 */
    int units_done; /* units that completed */
    int closed;     /* the final close returned */

    /* the failure that stopped the run */
    int fail_rc;
    char fail_what[160];
    char fail_msg[600];

    /* dry run records */
    uint64_t states[WL_MAX_COMMITS + 1]; /* states[0]: the empty database */
    int nstates;
    long unit_ops[WL_MAX_UNITS + 1]; /* cumulative write+sync+truncate ops after unit i */
};

/** The units, in order; *out_n receives their count. */
const wl_unit *wl_units(int *out_n);

/** The options the workload opens with (64 KB cache, autocheckpoint 20). */
folio_options wl_options(int sync);

/** The units `w` runs (its own, or the standard ones); *out_n their count. */
const wl_unit *wl_units_of(const wl *w, int *out_n);

/** Reset the state of `w` (keeps units, path, opts, fault, record). */
void wl_reset(wl *w);

/** Write+sync+truncate operations the fault vfs has seen (0 without one). */
long wl_ops(const wl *w);

/** Open the database (w->db). Returns 0 or a folio error (recorded). */
int wl_open(wl *w);

/**
 * Run unit `i` once. Returns 0 when it completed, else the error of the
 * first call that failed (recorded in fail_*); a transaction that failed is
 * rolled back before returning. Updates ncommits, durable, inflight.
 */
int wl_unit_run(wl *w, int i);

/**
 * Open, then run every unit until one fails. Returns 0 when all completed
 * (the database is then closed), else the failing call's error; w->db is
 * left open (or NULL if the open failed). In a dry run (w->record) states
 * and unit_ops are recorded.
 */
int wl_run_until_error(wl *w);

/** Close w->db if open (ignoring the result). */
void wl_abandon(wl *w);

#endif /* FOLIO_TESTS_CRASH_WORKLOAD_H */
