/*
 * expr.h - SQLite expressions for the db layer: compile once, evaluate per
 * row (src/expr).
 *
 * An expression is compiled against the columns of one table (ex_scope) and
 * for one context (EX_CHECK, EX_INDEX_EXPR, ...), which decides what SQLite
 * allows in it: column references, the rowid, non-deterministic functions.
 * Column names resolve at compile time to column numbers; the evaluator
 * asks the caller for a column's value only when the expression reaches it
 * (ex_row.column), so columns an expression does not use are never decoded.
 *
 * Semantics are SQLite 3.40's: storage classes, affinity applied to
 * comparison operands, collating sequences, NULL logic, arithmetic on text,
 * integer overflow to REAL, and the core, date/time and JSON functions
 * (expr_fn.h). tests/expr/ compares every rule with libsqlite3.
 *
 * Memory: ex_compile allocates the program (ex_prog_free releases it); an
 * ex_ctx holds the scratch memory of evaluations and grows it to the largest
 * need, after which ex_eval allocates nothing. A program is read-only once
 * compiled and may be shared by threads, each with its own ex_ctx.
 */
#ifndef FOLIO_EXPR_H
#define FOLIO_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "expr/expr_fn.h"
#include "schema/parse.h"

/** The context an expression is compiled for: exactly one of these. */
enum {
    EX_CHECK = 1u << 0,         /* a CHECK constraint (NULL passes) */
    EX_INDEX_EXPR = 1u << 1,    /* a key of an index on an expression */
    EX_PARTIAL_WHERE = 1u << 2, /* the WHERE clause of a partial index (NULL fails) */
    EX_GENERATED = 1u << 3,     /* the expression of a generated column */
    EX_DEFAULT = 1u << 4,       /* a DEFAULT expression: no column may appear */
    EX_FILTER = 1u << 5         /* a filter over rows (NULL fails); anything SQLite's
                                   WHERE allows in a scalar expression */
};

/** "No affinity", as ex_prog_affinity answers (SQLite's SQLITE_AFF_NONE). */
#define EX_AFF_NONE (-1)

/** SQLite's limits that expressions meet. */
#define EX_MAX_DEPTH         1000       /* SQLITE_MAX_EXPR_DEPTH */
#define EX_MAX_LENGTH        1000000000 /* SQLITE_MAX_LENGTH: longest TEXT or BLOB */
#define EX_MAX_FUNCTION_ARGS 127        /* SQLITE_MAX_FUNCTION_ARG */

/** One column of the table an expression belongs to. */
typedef struct ex_column {
    const char *name; /* as declared, unquoted */
    int affinity;     /* SCH_AFF_* */
    int collation;    /* SCH_COLL_*; SCH_COLL_UNKNOWN is refused where it is used */
    int generated;    /* 1 for a generated column (its value comes from ex_row too) */
} ex_column;

/** The names an expression may use. */
typedef struct ex_scope {
    const char *table;     /* the table's name, for "table.column"; NULL: none */
    const ex_column *cols; /* ncols columns (may be NULL when ncols is 0) */
    int ncols;
    int rowid_alias;    /* index of the INTEGER PRIMARY KEY column, or -1 */
    int without_rowid;  /* 1: rowid, oid and _rowid_ name no column */
    const char *column; /* EX_DEFAULT / EX_GENERATED: the column being defined, named
                           in messages; may be NULL */
} ex_scope;

/**
 * Fill a scope from a parsed table: `cols` must have room for t->ncols
 * entries, and it and `t` must outlive the scope (names are borrowed).
 */
void ex_scope_from_table(ex_scope *out, ex_column *cols, const sch_table *t);

/**
 * A row being evaluated. column() gives column `col`'s value (0 <= col <
 * ncols; never asked for the INTEGER PRIMARY KEY column, whose value is
 * `rowid`); its bytes must stay valid until ex_eval returns. It returns 0 or
 * a FOLIO_* error code, which ex_eval returns. May be NULL for an expression
 * with no column references (see ex_prog_columns).
 */
typedef struct ex_row {
    int (*column)(void *arg, int col, ex_value *out);
    void *arg;
    int64_t rowid;
} ex_row;

/** A compiled expression: read-only, shareable between threads. */
typedef struct ex_prog ex_prog;

/**
 * Compile `text[0..len)` (one expression, as SQLite keeps it in the schema:
 * the text of a CHECK constraint, an index key, a DEFAULT in parentheses).
 * `flags` is one EX_CHECK .. EX_FILTER. Returns 0 and *out, or an error with
 * SQLite's message in err (`no such column: x`, `near "+": syntax error`,
 * `non-deterministic functions prohibited in CHECK constraints`, ...),
 * followed by the byte offset where it was found: FOLIO_ERROR for what
 * SQLite refuses too, FOLIO_UNSUPPORTED for what SQLite accepts but folio
 * does not evaluate (subqueries, bind parameters, window functions, REGEXP,
 * MATCH, RAISE, functions of the connection), FOLIO_NOMEM.
 */
int ex_compile(ex_prog **out, const char *text, size_t len, const ex_scope *scope, unsigned flags,
               char *err, size_t errlen);

/** Release a program (NULL is harmless). */
void ex_prog_free(ex_prog *p);

/**
 * The columns the expression reads, in increasing order, without the rowid
 * alias (whose value is the rowid): *cols stays valid as long as the program.
 * Returns how many; *uses_rowid is set to 1 when the value of the rowid (or of
 * its alias column) is used. For generated columns' order and for deciding
 * whether an update touches a partial index or an expression key.
 */
int ex_prog_columns(const ex_prog *p, const int **cols, int *uses_rowid);

/** 1 if the expression reads no column and no rowid (SQLite's "constant"
 * also admits functions; a DEFAULT's value may still change per row when it
 * calls random() or uses 'now'). */
int ex_prog_is_constant(const ex_prog *p);

/** 1 if some function in it is non-deterministic or may use 'now'. */
int ex_prog_is_volatile(const ex_prog *p);

/**
 * The affinity of the expression by SQLite's rules (a column reference has
 * its column's affinity, CAST(x AS type) the type's, COLLATE looks through,
 * anything else none): SCH_AFF_* or EX_AFF_NONE. Used for comparisons with
 * the expression and for the keys of an index on it.
 */
int ex_prog_affinity(const ex_prog *p);

/** The collating sequence SQLite attaches to the expression: SCH_COLL_*
 * (SCH_COLL_UNKNOWN for a name folio does not know, which SQLite refuses
 * only where a comparison uses it), or -1 when none (comparisons then use
 * BINARY). */
int ex_prog_collation(const ex_prog *p);

/** Evaluation state: scratch memory, the statement's clock, the error. Not
 * thread-safe; use one per thread. */
int ex_ctx_new(ex_ctx **out);
void ex_ctx_free(ex_ctx *cx);

/**
 * The statement's time for 'now' and CURRENT_TIMESTAMP, in milliseconds since
 * the Unix epoch: set once per statement (SQLite's rule: every use in one
 * statement sees one instant). Until it is set, the first use reads the
 * clock and keeps that value.
 */
void ex_ctx_set_now(ex_ctx *cx, int64_t unix_ms);

/** The longest TEXT or BLOB an evaluation on cx may make (SQLite's
 * SQLITE_LIMIT_LENGTH): past it, "string or blob too big". EX_MAX_LENGTH
 * unless lowered (never above it). */
void ex_ctx_set_max_length(ex_ctx *cx, uint64_t n);

/** The message of the last failed ex_eval on this ctx ("" if none). Valid
 * until the next ex_eval. */
const char *ex_ctx_errmsg(const ex_ctx *cx);

/**
 * Evaluate `p` over `row`. The result's bytes stay valid until the next
 * ex_eval on this ctx (or ex_ctx_free). Returns 0, or FOLIO_ERROR (a
 * function failed, as SQLite's would: "integer overflow", "string or blob
 * too big", ...), FOLIO_NOMEM, or the code row->column returned; the message
 * is in ex_ctx_errmsg(cx).
 *
 * For EX_CHECK, EX_PARTIAL_WHERE and EX_FILTER, an expression whose top is
 * AND, OR, NOT, BETWEEN or IS [NOT] TRUE/FALSE is a condition: it is
 * evaluated as SQLite's jumps (operands that cannot change the outcome are
 * not evaluated, so they cannot fail) and *out is the decision, INTEGER 1 or
 * 0 (a CHECK passes, a WHERE selects). Any other expression gives its value;
 * ex_truth() turns either into the decision.
 */
int ex_eval(const ex_prog *p, ex_ctx *cx, const ex_row *row, ex_value *out);

/**
 * A value as SQLite's boolean: 1 true, 0 false, -1 for NULL. Numbers are
 * true when not zero; TEXT and BLOB by the number their text begins with
 * ('1abc' is true, 'abc' false). A CHECK constraint passes unless this is 0;
 * a WHERE clause (partial index, filter) selects a row only when it is 1.
 */
int ex_truth(const ex_value *v);

#endif
