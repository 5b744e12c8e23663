/*
 * trig_pair.h - two copies of one database, one written through folio's row
 * calls and one through the SQL statement each call stands for, compared
 * call by call: the harness of tests/compat/test_trigger.c.
 *
 * A pair starts from one file that libsqlite3 builds (tables, triggers,
 * rows), copied twice: folio opens one copy, libsqlite3 (the reference) the
 * other. Each tp_* row call runs the SQL on the reference first, then the
 * folio call, and requires the same outcome:
 *
 *   folio_insert(vals)            INSERT INTO t VALUES(?, ...)
 *   folio_update(rowid, vals)     UPDATE t SET c1 = ?, ... WHERE rowid = ?
 *   folio_patch(rowid, cols, v)   UPDATE t SET cols = ? WHERE rowid = ?
 *   folio_delete(rowid)           DELETE FROM t WHERE rowid = ?
 *   folio_upsert(rowid, vals)     INSERT INTO t VALUES(...) ON CONFLICT(pk) DO
 *                                 UPDATE SET c = excluded.c, ...
 *   folio_delete_where(expr)      DELETE FROM t WHERE expr
 *   folio_update_where(expr, ...) UPDATE t SET cols = ? WHERE expr
 *   folio_update_key / _delete_key  the same by primary key (WITHOUT ROWID)
 *
 * Outcomes are classes (TP_OK, TP_CONSTRAINT, ...). Both engines must give
 * the same class; on a failure folio's message must be SQLite's, or begin
 * with SQLite's words followed by ':' or ' ' (folio may name the row after
 * them); a single-row call on a missing row is TP_NOTFOUND (FOLIO_NOTFOUND;
 * SQL changes nothing); success is FOLIO_OK exactly; an insert's rowid is
 * sqlite3_last_insert_rowid; a *_where count is sqlite3_changes.
 *
 * When the reference's transaction ended inside a call (RAISE(ROLLBACK), an
 * OR ROLLBACK conflict), folio_commit must fail (folio rolls back there);
 * the pair then compares the files. A reference statement that runs past
 * TP_STEP_LIMIT virtual-machine steps (a generated trigger that multiplies
 * rows) is interrupted: both transactions are rolled back and the call
 * counts as TP_SKIPPED.
 *
 * One difference from SQLite is imposed on the reference: SQLite 3.40 runs a
 * statement without a statement journal when nothing in it (its table's and
 * its triggers' constraints, RAISE) can abort, and then keeps what it did
 * before it failed with "too many levels of trigger recursion" (a runtime
 * error the optimisation does not foresee), or with "datatype mismatch" (an
 * INTEGER PRIMARY KEY given text in a body's INSERT whose other conflicts an
 * UPSERT's DO NOTHING or OR IGNORE takes). folio undoes every failed call,
 * so the reference runs each call in a savepoint and rolls back to it after
 * those errors.
 *
 * TRIGDEBUG=1 prints every call and its outcome. TRIGREF=1 puts a second
 * libsqlite3 connection in folio's place (the same SQL on folio's copy): a
 * check of the harness and the generator themselves, which must then pass
 * whatever folio can do.
 */
#ifndef FOLIO_TESTS_TRIG_PAIR_H
#define FOLIO_TESTS_TRIG_PAIR_H

#include <stdint.h>

#include <folio.h>
#include <sqlite3.h>

/* Outcome classes. */
#define TP_OK          0 /* success (also a row a BEFORE trigger skipped) */
#define TP_CONSTRAINT  1 /* FOLIO_CONSTRAINT / SQLITE_CONSTRAINT (RAISE too) */
#define TP_ERROR       2 /* FOLIO_ERROR or FOLIO_NOTFOUND_ERR / any other SQLite error */
#define TP_NOTFOUND    3 /* a single-row call on a missing row */
#define TP_MISMATCH    4 /* FOLIO_MISMATCH / SQLITE_MISMATCH ("datatype mismatch") */
#define TP_UNSUPPORTED 5 /* FOLIO_UNSUPPORTED (never SQLite's) */
#define TP_OTHER       6 /* any other folio code */
#define TP_SKIPPED     7 /* the reference ran past TP_STEP_LIMIT: both rolled back */
#define TP_NCLASSES    8

#define TP_MAX_TABLES 16
#define TP_MAX_COLS   8

/* A table as the reference's schema has it. */
typedef struct tp_table {
    char name[32];
    int ncols;
    char cols[TP_MAX_COLS][32];
    int without_rowid;
    int ipk;             /* column that is the INTEGER PRIMARY KEY, or -1 */
    int npk;             /* primary key columns (WITHOUT ROWID) ... */
    int pk[TP_MAX_COLS]; /* ... in key order */
} tp_table;

typedef struct tp_pair {
    char *dir, *fpath, *spath;
    folio_db *db;   /* folio's copy */
    folio_txn *txn; /* its open transaction, or NULL */
    sqlite3 *sq;    /* the reference */
    sqlite3 *alt;   /* TRIGREF: libsqlite3 on folio's copy in folio's place */
    int in_txn;     /* both have a transaction open */
    int fk, rec;    /* foreign_keys, recursive_triggers */
    char ctx[160];  /* what to print first in every failure ("seed=N round R") */
    int step;       /* calls made */
    tp_table tables[TP_MAX_TABLES];
    int ntables;
    /* The reference's step guard. */
    uint64_t steps_limit, steps;
    int guard; /* a call's statement is running */
    /* The last call. */
    char sql[1024];
    char smsg[512], fmsg[512];
    int last_rc;           /* folio's return code */
    int ended_by_rollback; /* the call ended the transaction (RAISE(ROLLBACK), ...) */
    int trigger_changes;   /* rows the reference's triggers (and actions) changed */
    double ref_secs;       /* how long the reference took */
    /* What the pair has seen, over its life. */
    long n_class[TP_NCLASSES];
    long n_trigger_changes;   /* calls whose triggers changed rows */
    long n_txn_rollbacks;     /* calls that ended the transaction */
    long n_commit_fail;       /* commits that failed (deferred foreign keys) */
    long n_too_deep;          /* calls that failed with "too many levels of trigger recursion" */
    long n_sqlite_orphans;    /* inserts, upserts and commits where SQLite 3.40.1 took an orphan
                                 (see trig_pair.c) */
    int64_t orphans_at_begin; /* foreign keys: the reference's orphans when the transaction began */
} tp_pair;

/** Steps (virtual-machine instructions) a reference statement may take. */
#define TP_STEP_LIMIT 150000

/** Build `name`-base.db in `dir` with libsqlite3 from `setup` (any SQL),
 * copy it to folio's and the reference's files and open both, with
 * foreign_keys `fk` and recursive_triggers `rec`. */
void tp_open(tp_pair *p, const char *dir, const char *name, const char *setup, int fk, int rec);
/** Close both (no transaction may be open); folio's file must pass
 * libsqlite3's integrity_check and folio_check. */
void tp_close(tp_pair *p);
/** Read the tables from the reference's schema again (after DDL). */
void tp_load_tables(tp_pair *p);
/** The table called `name` (fails the test if there is none). */
const tp_table *tp_table_named(tp_pair *p, const char *name);

void tp_begin(tp_pair *p);
/** Commit (or roll back) both and compare the files. Returns the commit's
 * class (TP_CONSTRAINT: a deferred foreign key failed in both). When the
 * last call already ended the transaction, nothing is left to end. */
int tp_end(tp_pair *p, int commit);
/** Every table (values and types) and sqlite_schema of both files. */
void tp_compare(tp_pair *p);

/** DDL (CREATE TRIGGER, ...) through folio_exec and through libsqlite3 in
 * the open transaction; the same class and message. */
int tp_exec(tp_pair *p, const char *ddl);

int tp_insert(tp_pair *p, const char *t, const folio_value *v, int n);
int tp_update(tp_pair *p, const char *t, int64_t rowid, const folio_value *v, int n);
int tp_patch(tp_pair *p, const char *t, int64_t rowid, const int *cols, const folio_value *v,
             int n);
int tp_delete(tp_pair *p, const char *t, int64_t rowid);
int tp_upsert(tp_pair *p, const char *t, int64_t rowid, const folio_value *v, int n);
int tp_delete_where(tp_pair *p, const char *t, const char *expr);
int tp_update_where(tp_pair *p, const char *t, const char *expr, const int *cols,
                    const folio_value *v, int n);
int tp_update_key(tp_pair *p, const char *t, const folio_value *key, int nkey, const folio_value *v,
                  int n);
int tp_delete_key(tp_pair *p, const char *t, const folio_value *key, int nkey);

/* ---- The same with values written as SQL ("1, 'x', NULL, 2.5"), computed
 * by libsqlite3 (SELECT <list>), and columns named ("qty, price"). ---- */

typedef struct tp_vals {
    folio_value v[TP_MAX_COLS];
    int n;
    char text[TP_MAX_COLS][128];
} tp_vals;

void tp_vals_sql(tp_pair *p, tp_vals *out, const char *list);
/** The first row of a query on the reference as values; 0 when it has no
 * row. */
int tp_vals_query(tp_pair *p, tp_vals *out, const char *sql);
int tp_insert_s(tp_pair *p, const char *t, const char *vals);
int tp_update_s(tp_pair *p, const char *t, int64_t rowid, const char *vals);
int tp_patch_s(tp_pair *p, const char *t, int64_t rowid, const char *cols, const char *vals);
int tp_upsert_s(tp_pair *p, const char *t, int64_t rowid, const char *vals);
int tp_update_where_s(tp_pair *p, const char *t, const char *expr, const char *cols,
                      const char *vals);
int tp_update_key_s(tp_pair *p, const char *t, const char *key, const char *vals);
int tp_delete_key_s(tp_pair *p, const char *t, const char *key);

/** A number from the reference ("SELECT ..."). */
int64_t tp_ref_int(tp_pair *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** The class's name ("constraint"). */
const char *tp_class_name(int c);
/** Whether TRIGDEBUG is set. */
int tp_debug(void);

#endif /* FOLIO_TESTS_TRIG_PAIR_H */
