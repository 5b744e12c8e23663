/*
 * expr_diff.h - comparing folio's expressions with libsqlite3's (tests/expr/).
 *
 * A fixture holds one table in an in-memory SQLite database, with columns of
 * every affinity and collation, and the rows libsqlite3 stored in it (the
 * values after its insert affinity, read back with sqlite3_column_*). An
 * expression is evaluated by libsqlite3 as "SELECT <expr> FROM t ORDER BY
 * rowid" and by folio (ex_compile against the same columns, ex_eval over the
 * same stored values, the rowid included), and the two results are compared
 * row by row: the same storage class, integers equal, reals bit for bit,
 * text and blobs byte for byte, or both an error.
 */
#ifndef FOLIO_TESTS_EXPR_DIFF_H
#define FOLIO_TESTS_EXPR_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "expr/expr.h"

/* Columns of table t: name, declared type, affinity, collation. */
#define XD_NCOLS    10
#define XD_MAX_ROWS 64

typedef struct xd_row {
    int64_t rowid;
    ex_value v[XD_NCOLS];
    uint8_t *bytes[XD_NCOLS]; /* owned copies of text and blob values */
} xd_row;

typedef struct xd_fixture {
    sqlite3 *db;
    ex_ctx *cx;
    ex_column cols[XD_NCOLS];
    ex_scope scope;
    xd_row rows[XD_MAX_ROWS];
    int nrows;
    uint64_t rng;
    /* Counters of the comparisons made. */
    long compared, both_error, skipped;
} xd_fixture;

/** The column names and types of table t (for generators). */
extern const char *const xd_col_names[XD_NCOLS];

/** Open the database, create t, and fill it with `nrows` rows of random
 * values (drawn from `seed`), plus the fixed edge rows first. */
void xd_open(xd_fixture *f, uint64_t seed, int nrows);
void xd_close(xd_fixture *f);

/* Outcome of one comparison. */
enum { XD_SAME = 0, XD_DIFFERENT = 1, XD_SKIP = 2 };

/**
 * Evaluate `expr` both ways over every row and compare. `flags` is the
 * context folio compiles for (EX_FILTER for plain values). On a difference
 * returns XD_DIFFERENT and writes a description into why; XD_SKIP when
 * libsqlite3 refuses the expression for a reason folio need not match
 * (an error in both is XD_SAME).
 */
int xd_compare(xd_fixture *f, const char *expr, unsigned flags, char *why, size_t whylen);

/**
 * As xd_compare, for `expr` as a condition of context `flags`: a CHECK
 * (EX_CHECK) passes unless the condition is false, a WHERE (EX_FILTER,
 * EX_PARTIAL_WHERE) selects a row only when it is true. folio's decision is
 * ex_truth of ex_eval's result, libsqlite3's comes from
 * "CASE WHEN (expr) [IS NOT FALSE] THEN 1 ELSE 0 END", which it compiles
 * into the same jumps as a WHERE clause or a CHECK constraint.
 */
int xd_compare_cond(xd_fixture *f, const char *expr, unsigned flags, char *why, size_t whylen);

/**
 * Compile `expr` both ways and compare the outcome: both accept it, or both
 * refuse it with the same message (folio's without its " (at offset N)").
 */
int xd_compare_error(xd_fixture *f, const char *expr, unsigned flags, char *why, size_t whylen);

/** 64-bit xorshift generator for the tests. */
uint64_t xd_rand(uint64_t *state);
/** A uniform integer in [0, n). */
int xd_pick(uint64_t *state, int n);

/** The seed: FOLIO_SEED if set, else `fallback`; printed as "seed=N". */
uint64_t xd_seed(uint64_t fallback);
/** FOLIO_SOAK=1: longer runs. */
int xd_soak(void);

#endif
