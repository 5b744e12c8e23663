/*
 * model_util.h - shared machinery of the randomized model tests (tests/model/):
 * owned typed values; random values that provoke SQLite's type affinity
 * (numeric-looking text, integral reals, boundaries, values large enough to
 * overflow); binding them to libsqlite3 and handing them to folio; and
 * streaming comparisons of a table as a reference libsqlite3 database holds
 * it with the same table read through folio's API or through libsqlite3.
 *
 * Comparison rules are those of compat.h: types must be equal, INTEGER
 * values equal, REAL values equal bit for bit, TEXT and BLOB byte for byte.
 *
 * The comparisons do not fail the test themselves: they return 0 when equal,
 * else -1 with the first difference described in `why`, so that the caller
 * can add what it knows (seed, transaction, last operations) and fail.
 */
#ifndef FOLIO_TESTS_MODEL_UTIL_H
#define FOLIO_TESTS_MODEL_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <folio.h>
#include <sqlite3.h>

/** Room for a comparison's description of a difference. */
#define MDL_WHY 4096

/* ---- Run length ----------------------------------------------------------- */

/** FOLIO_SOAK=1 is set. */
int mdl_soak(void);
/** The number of operations to run: FOLIO_MODEL_OPS if set, else `dflt`;
 * times 10 when FOLIO_SOAK=1. */
uint64_t mdl_ops(uint64_t dflt);

/* ---- Owned values ----------------------------------------------------------- */

/** A typed value that owns its bytes (TEXT and BLOB). Zero-initialised it is
 * NULL. */
typedef struct mdl_val {
    folio_type type;
    int64_t i;
    double r;
    unsigned char *p; /**< TEXT/BLOB bytes, never NULL for those types */
    size_t n;
} mdl_val;

void mdl_val_clear(mdl_val *v); /**< free the bytes; the value becomes NULL */
void mdl_val_int(mdl_val *v, int64_t i);
void mdl_val_real(mdl_val *v, double r);
void mdl_val_text(mdl_val *v, const void *p, size_t n);
void mdl_val_blob(mdl_val *v, const void *p, size_t n);
void mdl_val_copy(mdl_val *dst, const mdl_val *src);
/** The value of result column `col` of `st`, as libsqlite3 stores it. */
void mdl_val_from_sqlite(mdl_val *v, sqlite3_stmt *st, int col);
/** A folio view of the value (borrows its bytes). */
folio_value mdl_val_folio(const mdl_val *v);
/** Bind to parameter `param` (1-based) with the value's own type. */
void mdl_val_bind(sqlite3_stmt *st, int param, const mdl_val *v);
/** Type and value, short (long TEXT/BLOB abbreviated), into buf. */
void mdl_val_describe(char *buf, size_t cap, const mdl_val *v);
/** Whether two values are identical (type and bits). */
int mdl_val_equal(const mdl_val *a, const mdl_val *b);

/* ---- Random values ------------------------------------------------------------ */

/** splitmix64 over *rng, and uniform in [0, n). */
uint64_t mdl_rand(uint64_t *rng);
uint64_t mdl_below(uint64_t *rng, uint64_t n);
/** True with probability pct/100 (permille: /1000). */
int mdl_pct(uint64_t *rng, unsigned pct);
int mdl_permille(uint64_t *rng, unsigned pm);

/** An integer: small, boundary, or random of any width. */
void mdl_gen_int(mdl_val *v, uint64_t *rng);
/** A real: special (+-0.0, subnormal, infinities, integral, near 2^63),
 * random bits (never NaN) or a short decimal fraction. */
void mdl_gen_real(mdl_val *v, uint64_t *rng);
/** Text of valid UTF-8: ASCII with mixed case and spaces, multi-byte
 * characters; `len` bytes or a little more (whole characters). */
void mdl_gen_text_len(mdl_val *v, uint64_t *rng, size_t len);
void mdl_gen_blob_len(mdl_val *v, uint64_t *rng, size_t len);
/** Text that SQLite's affinity may turn into a number ('12', ' 7 ',
 * '3.0e2', '0x1A', '9223372036854775808', '1e400', 'x', ...). */
void mdl_gen_probe_text(mdl_val *v, uint64_t *rng);
/** One of `nwords` words, with random letter case (for NOCASE columns). */
void mdl_gen_word(mdl_val *v, uint64_t *rng, unsigned nwords);
/** A length: mostly short, sometimes hundreds of bytes, and with
 * probability big_permille/1000 3..20 KB (overflow pages). */
size_t mdl_gen_len(uint64_t *rng, unsigned big_permille);
/** A value of any type: NULL, integer, real, probe text, text or blob. */
void mdl_gen_any(mdl_val *v, uint64_t *rng, unsigned big_permille);
/** NaN (SQLite and folio store it as NULL). */
double mdl_nan(void);

/* ---- Leaks ---------------------------------------------------------------------- */

/**
 * Under AddressSanitizer, run LeakSanitizer now: returns nonzero (and prints
 * the report) when memory that nothing points to has been found. Criterion
 * runs each test in a worker whose exit report is easy to miss, so the model
 * tests ask explicitly. Always 0 without AddressSanitizer.
 */
int mdl_leak_check(void);

/* ---- Known library bugs ------------------------------------------------------------ */

/**
 * FOLIO_MODEL_STRICT=1 is set: the model tests then stop steering around
 * library bugs that have their own failing reproduction (suite model_repro).
 */
int mdl_strict(void);
/**
 * Unless strict, replace a value that a known bug mishandles when written to
 * a column of affinity `aff` ('I', 'R', 'N', 'T', 'B') by a harmless one of
 * the same kind: a REAL whose text rendering by folio differs from SQLite's,
 * into a TEXT column (model_repro/real_into_text_rendering); REAL -0.0 or the
 * text '-0.0' into a REAL column (model_repro/negative_zero_into_real).
 */
void mdl_avoid_known_bugs(char aff, mdl_val *v);

/* ---- libsqlite3 --------------------------------------------------------------- */

/** Classes of outcome shared by folio and libsqlite3. */
enum { MDL_OK, MDL_NOTFOUND, MDL_CONSTRAINT, MDL_MISMATCH, MDL_FULL, MDL_OTHER };
const char *mdl_class_name(int cls);
/** The class of a folio return code. */
int mdl_folio_class(int rc);
/** The class of a libsqlite3 step result (SQLITE_DONE is MDL_OK). */
int mdl_sqlite_class(int rc);

/** Step a write statement to completion and reset it; returns the class, with
 * MDL_NOTFOUND when `notfound_if_no_change` and no row changed. */
int mdl_sqlite_write(sqlite3 *db, sqlite3_stmt *st, int notfound_if_no_change);

/** sqlite3_open_v2 read-only that never checkpoints; NULL and `why` set on
 * failure. */
sqlite3 *mdl_sqlite_open_ro(const char *path, char *why, size_t cap);

/* ---- Comparisons -------------------------------------------------------------- */

/**
 * Compare table `table` of `ref` with what folio reads in `txn`: rows in the
 * order `order_by` gives on the reference (table order: "rowid" or the
 * primary key with its collations and DESC), rowids (unless WITHOUT ROWID)
 * and every column. When `reverse_order_by` is not NULL the folio cursor is
 * also walked backwards against that order.
 */
int mdl_cmp_folio_table(sqlite3 *ref, folio_db *fdb, folio_txn *txn, const char *table,
                        int without_rowid, const char *order_by, const char *reverse_order_by,
                        char *why, size_t cap);
/** The same through another libsqlite3 connection `other` (on folio's file). */
int mdl_cmp_sqlite_table(sqlite3 *ref, sqlite3 *other, const char *table, int without_rowid,
                         const char *order_by, char *why, size_t cap);
/**
 * Walk index `index` of `table` with a folio index cursor and compare its
 * sequence of rows with the reference ordered by `order_by` (the index's
 * columns with their collations and DESC, then the rowid or primary key).
 */
int mdl_cmp_folio_index(sqlite3 *ref, folio_db *fdb, folio_txn *txn, const char *table,
                        const char *index, int without_rowid, const char *order_by, char *why,
                        size_t cap);
/** Compare the rows of an arbitrary query on two connections. */
int mdl_cmp_query(sqlite3 *ref, sqlite3 *other, const char *sql, char *why, size_t cap);
/** folio_check in `txn`: 0 when FOLIO_OK and no message. (`fdb` is the
 * handle `txn` belongs to, for folio_errmsg in descriptions.) */
int mdl_folio_check(folio_db *fdb, folio_txn *txn, char *why, size_t cap);
/** PRAGMA integrity_check on `path` by libsqlite3 (read-only): 0 when "ok". */
int mdl_sqlite_integrity(const char *path, char *why, size_t cap);

#endif /* FOLIO_TESTS_MODEL_UTIL_H */
