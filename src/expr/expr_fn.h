/*
 * expr_fn.h - the interface between the expression evaluator and the SQL
 * functions it calls (src/expr).
 *
 * Every SQL function folio evaluates is one C function of type ex_fn, listed
 * in a table of ex_fn_def by the file that implements it: the core scalar
 * functions (expr_func.c), the date and time functions (expr_date.c) and the
 * JSON functions (expr_json.c). The evaluator looks a name up in those tables
 * when it compiles an expression, never per row.
 *
 * Values are SQLite's five storage classes. TEXT is UTF-8 (the db layer
 * converts a UTF-16 database's text before and after), not NUL-terminated;
 * its bytes, and a BLOB's, belong to whoever made the value: an argument's
 * stay valid for the call, a result's bytes come from ex_scratch() (or are
 * static, or point into an argument).
 *
 * Semantics are SQLite 3.40's, value for value and type for type: the
 * differential tests evaluate the same calls in libsqlite3.
 */
#ifndef FOLIO_EXPR_FN_H
#define FOLIO_EXPR_FN_H

#include <stddef.h>
#include <stdint.h>

/* Storage classes: the same numbers as FMT_NULL..FMT_BLOB (format.h). */
enum { EX_NULL = 0, EX_INTEGER = 1, EX_REAL = 2, EX_TEXT = 3, EX_BLOB = 4 };

/* Subtypes a value may carry from one function to the next, as SQLite's
 * sqlite3_result_subtype: text made by a JSON function is JSON, so that
 * json_array(json('[1]')) nests the array instead of quoting it. Subtypes
 * never reach a stored row. */
enum { EX_SUBTYPE_NONE = 0, EX_SUBTYPE_JSON = 74 /* 'J', SQLite's value */ };

typedef struct ex_value {
    int type;         /* EX_* */
    unsigned subtype; /* EX_SUBTYPE_* */
    union {
        int64_t i;
        double r;
        struct {
            const uint8_t *p;
            uint64_t n;
        } s;
    } u;
} ex_value;

/** The evaluation under way: scratch memory, the clock, the error. */
typedef struct ex_ctx ex_ctx;

/**
 * `n` bytes of scratch memory that stay valid until the evaluation of the
 * whole expression ends (then they are reused: no heap allocation per row
 * once the scratch has grown to the largest row's need). NULL when out of
 * memory; the function then returns ex_nomem(cx).
 */
uint8_t *ex_scratch(ex_ctx *cx, size_t n);

/** Fail the evaluation with FOLIO_ERROR and a message (printf format), as
 * SQLite's sqlite3_result_error would. Returns the code to return. */
int ex_error(ex_ctx *cx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** Fail with FOLIO_NOMEM. Returns the code to return. */
int ex_nomem(ex_ctx *cx);

/**
 * The current time for 'now', CURRENT_TIMESTAMP and friends: milliseconds
 * since the Unix epoch, the same value for every call within one statement
 * (SQLite's rule). Fails (returns the error code to return, message set)
 * where SQLite refuses a non-deterministic value: in a CHECK constraint, an
 * index expression, a partial index's WHERE or a generated column.
 */
int ex_now_ms(ex_ctx *cx, int64_t *out);

/**
 * A function: argc arguments in argv (never modified), the result in *out.
 * Returns 0, or the code from ex_error / ex_nomem / ex_now_ms.
 */
typedef int (*ex_fn)(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out);

enum {
    EX_FN_NONDETERMINISTIC = 1u, /* e.g. random(): refused where SQLite refuses it */
    EX_FN_MAY_USE_NOW = 2u       /* deterministic unless an argument says 'now' */
};

typedef struct ex_fn_def {
    const char *name; /* lower case; looked up without regard to case */
    int min_args;
    int max_args; /* -1: any number (SQLite's limit, 127, still holds) */
    unsigned flags;
    ex_fn fn;
} ex_fn_def;

/* The tables, each ended by an entry whose name is NULL. */
extern const ex_fn_def ex_core_functions[]; /* expr_func.c */
extern const ex_fn_def ex_date_functions[]; /* expr_date.c */
extern const ex_fn_def ex_json_functions[]; /* expr_json.c */

#endif
