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
    EX_FILTER = 1u << 5,        /* a filter over rows (NULL fails); anything SQLite's
                                   WHERE allows in a scalar expression */
    EX_TRIGGER = 1u << 6        /* an expression inside a trigger: its WHEN clause, or any
                                   expression of a statement of its body (VALUES items,
                                   SET values, WHERE, SELECT list). As EX_FILTER, and
                                   RAISE() is allowed, and subqueries are when the scope
                                   has a table_lookup */
};

/**
 * A modifier of EX_TRIGGER (EX_TRIGGER | EX_CONDITION): the expression is a
 * condition, a WHEN clause or the WHERE of a statement of the body. SQLite
 * codes a condition as jumps, so an operand of AND, OR, NOT, BETWEEN or IS
 * TRUE that cannot change the decision is not evaluated (a RAISE() there
 * does not fire; "new.x = 1 AND RAISE(ABORT, 'no')" fires only when new.x
 * is 1), and ex_eval's *out is the decision, INTEGER 1 or 0 (see ex_eval).
 * Without it an EX_TRIGGER expression is a value (VALUES, SET, a SELECT
 * list): every operand of AND and OR is evaluated, as SQLite 3.40 does, and
 * "a AND NULL" is NULL.
 */
#define EX_CONDITION (1u << 7)

/**
 * A modifier of EX_TRIGGER (may be added to EX_CONDITION): resolve the
 * names only, as SQLite does when ALTER TABLE rewrites a trigger. The
 * only errors are a name that resolves to nothing ("no such column: x",
 * "no such table: main.t", FOLIO_ERROR, or what table_lookup answered)
 * and what the parser meets at once (a syntax error, what folio does not
 * compile); functions, aggregates and the rest are not checked. No
 * program is made: *out is NULL. With ex_scope.name_seen, for ALTER TABLE.
 */
#define EX_NAMES (1u << 8)

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

/**
 * A table an expression may name besides the scope's own: NEW and OLD of
 * a trigger (qualified_only), an outer table, or the table of a subquery
 * (what ex_scope.table_lookup gives).
 *
 * The columns of a qualified_only source are SQLite's trigger references
 * (TK_TRIGGER): "new.x" has the column's collating sequence but no
 * affinity (so new.x = 1 compares a TEXT '1' with 1 as unequal, as SQLite
 * does); new.rowid and the INTEGER PRIMARY KEY column have INTEGER
 * affinity. The columns of other sources and of subqueries' tables are
 * ordinary column references, with their declared affinity.
 */
typedef struct ex_source {
    const char *name;      /* "new", "old", or a table name */
    const ex_column *cols; /* ncols columns */
    int ncols;
    int rowid_alias;    /* INTEGER PRIMARY KEY column or -1 */
    int without_rowid;  /* 1: rowid, oid and _rowid_ name no column */
    int qualified_only; /* 1: only as name.column (NEW and OLD); 0: also bare names */
} ex_source;

/** What a name of an expression is (ex_name.kind). */
enum {
    EX_NAME_COLUMN, /* a column or rowid reference, perhaps qualified */
    EX_NAME_FROM,   /* the table of a subquery's FROM */
    EX_NAME_STRING, /* a double-quoted word that names nothing: SQLite's string */
    EX_NAME_STAR    /* "t.*" in a subquery's result: off, len the qualifier t */
};

/**
 * A name of an expression and what it resolved to, as ex_compile tells
 * ex_scope.name_seen while it compiles: what ALTER TABLE needs to edit the
 * names in a trigger's text as SQLite does. Offsets are bytes into the
 * compiled text; a token's quotes are part of it.
 */
typedef struct ex_name {
    int kind;          /* EX_NAME_* */
    size_t off, len;   /* the token: the column's name (the last part of a qualified one),
                          the FROM table's name (without its schema), the string */
    size_t qoff, qlen; /* EX_NAME_COLUMN: the table qualifier's token (qlen 0: none) */
    int level;         /* EX_NAME_COLUMN: 0 the scope's table, k > 0 the FROM table of the
                          subquery nested k deep, -1 a source (ex_scope.sources); the
                          level of EX_NAME_FROM and EX_NAME_STAR */
    int source;        /* level -1: which source */
    const char *table; /* level > 0: the table's name as table_lookup gave it (valid
                          during the call only) */
    int aliased;       /* level > 0: the FROM table has an alias */
    int column;        /* EX_NAME_COLUMN: the column; -1 for a name of the rowid */
} ex_name;

/**
 * The names an expression may use.
 *
 * Flat column numbering (what ex_row.column is asked for, and what
 * ex_prog_columns reports): the scope's own table keeps columns
 * 0..ncols-1, and its rowid is ex_row.rowid. Then each source i, in order,
 * has a block of ncols_i + 1 slots starting at ex_scope_source_base(sc, i):
 * base_i + c for its column c, base_i + ncols_i for its rowid (the rowid
 * alias column also reads that slot, and is INTEGER). Then each subquery
 * that has a FROM table has a block of its table's ncols + 1 slots, in the
 * order subqueries are compiled (an outer one before those nested in it;
 * ex_prog_subqueries gives each block's base).
 *
 * Names resolve as SQLite's resolve.c does (lookupName): an unqualified
 * name against the innermost subquery's table first, then outward (an
 * outer subquery's table, then the scope's table, then the sources that are
 * not qualified_only, in order); "x.col" against the table of each of those
 * named x (its alias, if it has one), and at each of them against a
 * qualified_only source named x (new.col, old.col), innermost first;
 * names compare without regard to ASCII case. As in SQLite, a subquery's
 * LIMIT and OFFSET name nothing but NEW and OLD, and its ORDER BY names no
 * table around the subquery. For EX_TRIGGER, a scope whose table is NULL
 * has no rowid (a WHEN clause, INSERT's VALUES: "no such column: rowid").
 * A zero-initialised scope (no sources, no table_lookup) behaves exactly as
 * before sources existed.
 */
typedef struct ex_scope {
    const char *table;     /* the table's name, for "table.column"; NULL: none */
    const ex_column *cols; /* ncols columns (may be NULL when ncols is 0) */
    int ncols;
    int rowid_alias;          /* index of the INTEGER PRIMARY KEY column, or -1 */
    int without_rowid;        /* 1: rowid, oid and _rowid_ name no column */
    const char *column;       /* EX_DEFAULT / EX_GENERATED: the column being defined, named
                                 in messages; may be NULL */
    const ex_source *sources; /* searched after the scope's own table */
    int nsources;
    /* Tables of subqueries: fill *out (names borrowed, must outlive the
     * program; folio reads them only while compiling) for the table `name`
     * (as written in FROM, unquoted, without its "main." qualifier); return
     * 0, or FOLIO_ERROR with SQLite's message in err ("no such table:
     * main.x"). NULL: subqueries are FOLIO_UNSUPPORTED as today (for
     * EX_FILTER etc.). Only EX_TRIGGER expressions use it; out's name and
     * qualified_only are not used (the FROM's alias or name is). */
    int (*table_lookup)(void *arg, const char *name, ex_source *out, char *err, size_t errlen);
    void *lookup_arg;
    /* Told each name as it resolves (see ex_name); NULL: nobody. Names
     * told before a compilation fails may be part of what failed. */
    void (*name_seen)(void *arg, const ex_name *name);
    void *name_arg;
} ex_scope;

/** The first flat slot of source i of sc (see ex_scope). */
int ex_scope_source_base(const ex_scope *sc, int i);

/**
 * Fill a scope from a parsed table: `cols` must have room for t->ncols
 * entries, and it and `t` must outlive the scope (names are borrowed).
 */
void ex_scope_from_table(ex_scope *out, ex_column *cols, const sch_table *t);

/**
 * A row being evaluated. column() gives the value of flat slot `col` (see
 * ex_scope: 0 <= col < ncols for the scope's table, never asked for its
 * INTEGER PRIMARY KEY column, whose value is `rowid`; a source's or a
 * subquery table's rowid slot is asked like a column and answers an
 * INTEGER); its bytes must stay valid until ex_eval returns, or for a
 * subquery's slots until its table moves to another row. It returns 0 or a
 * FOLIO_* error code, which ex_eval returns. May be NULL for an expression
 * with no column references (see ex_prog_columns). A zero-initialised
 * row's scan is NULL, which only an expression without subqueries allows.
 */
typedef struct ex_row {
    int (*column)(void *arg, int col, ex_value *out);
    void *arg;
    int64_t rowid;
    /* Run subquery `subq` (index into ex_prog_subqueries): position the
     * table at each of its rows in turn (so that column() answers that
     * subquery's slots for the current row) and call visit(vctx) for each;
     * stop early when visit returns 1; return 0 when done, or the error
     * visit returned (negative FOLIO_* code) or the caller's own error.
     * Scans of different subqueries nest (a correlated subquery runs once
     * for each row of the one around it), each with its own position; the
     * same subquery is never scanned twice at once. */
    int (*scan)(void *arg, int subq, int (*visit)(void *vctx), void *vctx);
} ex_row;

/** A compiled expression: read-only, shareable between threads. */
typedef struct ex_prog ex_prog;

/**
 * Compile `text[0..len)` (one expression, as SQLite keeps it in the schema:
 * the text of a CHECK constraint, an index key, a DEFAULT in parentheses).
 * `flags` is one EX_CHECK .. EX_TRIGGER (EX_TRIGGER may add EX_CONDITION).
 * Returns 0 and *out, or an error with
 * SQLite's message in err (`no such column: x`, `near "+": syntax error`,
 * `non-deterministic functions prohibited in CHECK constraints`, ...),
 * followed by the byte offset where it was found: FOLIO_ERROR for what
 * SQLite refuses too (RAISE() outside EX_TRIGGER: "RAISE() may only be
 * used within a trigger-program"), FOLIO_UNSUPPORTED for what SQLite
 * accepts but folio does not evaluate (subqueries outside EX_TRIGGER, and
 * there joins, GROUP BY, compound SELECTs, WITH, DISTINCT; bind
 * parameters, window functions, REGEXP, MATCH, functions of the
 * connection), FOLIO_NOMEM.
 *
 * Subqueries (EX_TRIGGER with scope->table_lookup): over one table or none,
 * "(SELECT e FROM t [AS a] [WHERE c] [ORDER BY k [ASC|DESC] [NULLS
 * FIRST|LAST], ...] [LIMIT n [OFFSET m]])", EXISTS (...), x [NOT] IN
 * (SELECT e ...), correlated and nested, with the aggregates count, sum,
 * total, avg, min, max and group_concat in their result or ORDER BY.
 */
int ex_compile(ex_prog **out, const char *text, size_t len, const ex_scope *scope, unsigned flags,
               char *err, size_t errlen);

/** Release a program (NULL is harmless). */
void ex_prog_free(ex_prog *p);

/**
 * The columns the expression reads, in increasing order, as flat slots (see
 * ex_scope; the same numbers as before for a scope without sources or
 * subqueries), without the scope table's rowid alias (whose value is the
 * rowid): *cols stays valid as long as the program.
 * Returns how many; *uses_rowid is set to 1 when the value of the rowid (or of
 * its alias column) is used. For generated columns' order and for deciding
 * whether an update touches a partial index or an expression key.
 */
int ex_prog_columns(const ex_prog *p, const int **cols, int *uses_rowid);

/** 1 if the expression reads no column, no rowid and no table (SQLite's
 * "constant" also admits functions; a DEFAULT's value may still change per
 * row when it calls random() or uses 'now'). */
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

/** The collating sequence named by a COLLATE at the top of the expression
 * ("x COLLATE NOCASE", "(a || b) COLLATE RTRIM"; the outermost of several),
 * SCH_COLL_* (SCH_COLL_UNKNOWN for a name folio does not know), or -1 when
 * the top is no COLLATE ("+x", "a || b COLLATE NOCASE", whose COLLATE binds
 * to b). SQLite's collating sequence of an index key that is an expression
 * is this one, else BINARY: not ex_prog_collation's, which looks through
 * unary +, CAST and into operands. */
int ex_prog_top_collation(const ex_prog *p);

/**
 * An expression as SQLite's parser leaves it (names resolved, nothing
 * folded), for comparing its form with another's (expr_tree.c): what an
 * UPSERT's conflict target must be to name an index key or its WHERE.
 */
typedef struct ex_tree ex_tree;

/** Parse `text[0..len)` as ex_compile does (same scope and flags), keeping
 * the tree; text must outlive it. Errors as ex_compile's parser reports
 * them; the errors SQLite reports after parsing (names of functions, ...)
 * are ex_compile's to find. */
int ex_tree_parse(ex_tree **out, const char *text, size_t len, const ex_scope *scope,
                  unsigned flags, char *err, size_t errlen);
void ex_tree_free(ex_tree *t);

/** SQLite's sqlite3ExprCompare(a, b): 0 the same expression, 1 the same
 * but for a COLLATE at the top of one, 2 different. */
int ex_tree_compare(const ex_tree *a, const ex_tree *b);

/** a compared with b under the collating sequence coll (SCH_COLL_*), as
 * SQLite compares an UPSERT target term with an index key: b is put under
 * COLLATE coll unless its top is a COLLATE already. Below 2: a names it. */
int ex_tree_compare_collated(const ex_tree *a, const ex_tree *b, int coll);

/** Whether the whole expression is a column of the scope's table: 1 and
 * *col (-1 for the rowid or its INTEGER PRIMARY KEY alias), else 0. */
int ex_tree_column(const ex_tree *t, int *col);

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

/** The message of the last failed ex_eval on this ctx ("" if none; up to
 * 1023 bytes of it). Valid until the next ex_eval. */
const char *ex_ctx_errmsg(const ex_ctx *cx);

/** What RAISE() did: the kind of the RAISE that ended the last ex_eval. */
enum { EX_RAISE_NONE, EX_RAISE_IGNORE, EX_RAISE_ROLLBACK, EX_RAISE_ABORT, EX_RAISE_FAIL };

/** The kind raised by the last ex_eval on cx (it returned FOLIO_CONSTRAINT,
 * with RAISE's message in ex_ctx_errmsg, empty for IGNORE), else
 * EX_RAISE_NONE. */
int ex_ctx_raised(const ex_ctx *cx);

/** One subquery of a program (EX_TRIGGER with a table_lookup). */
typedef struct ex_subquery {
    const char *table; /* the FROM table as written, unquoted (NULL: no FROM) */
    int base;          /* its first slot (flat numbering), ncols+1 slots; -1 without FROM */
    int ncols;
    int correlated; /* 1 if it reads a table around it (the scope's table, an outer
                       subquery's, a source that is not qualified_only): SQLite runs
                       a subquery that is not correlated (NEW and OLD do not count)
                       once per execution of the statement and reuses its value */
} ex_subquery;

/** The subqueries of p, in the order of their slot blocks: *out stays
 * valid as long as the program. Returns how many (0: none). */
int ex_prog_subqueries(const ex_prog *p, const ex_subquery **out);

/**
 * Start a statement on cx (SQLite's OP_Once): from now until the next call,
 * a subquery that is not correlated (ex_subquery.correlated 0) runs at its
 * first evaluation on cx, and every later ex_eval of the same program on cx
 * reuses what it found (a scalar's or EXISTS's value, IN's set), even if
 * its table changed in between, as SQLite computes such a subquery once
 * per execution of the statement ("UPDATE t SET x = (SELECT max(x) FROM
 * t)" gives every row the maximum from before the UPDATE). The programs
 * must outlive the statement. Until the first call, every evaluation runs
 * every subquery.
 */
void ex_ctx_statement(ex_ctx *cx);

/**
 * Evaluate `p` over `row`. The result's bytes stay valid until the next
 * ex_eval on this ctx (or ex_ctx_free). Returns 0, or FOLIO_ERROR (a
 * function failed, as SQLite's would: "integer overflow", "string or blob
 * too big", ...), FOLIO_MISMATCH (a LIMIT or OFFSET that is not an
 * integer: "datatype mismatch"), FOLIO_CONSTRAINT (RAISE(); see
 * ex_ctx_raised), FOLIO_NOMEM, or the code row->column or row->scan
 * returned; the message is in ex_ctx_errmsg(cx). Subqueries run through
 * row->scan, evaluated with this same ctx; once the ctx's memory has grown
 * to the largest need, no row of any scan allocates.
 *
 * For EX_CHECK, EX_PARTIAL_WHERE, EX_FILTER and EX_TRIGGER | EX_CONDITION,
 * an expression whose top is
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
