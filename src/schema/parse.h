/*
 * parse.h - the CREATE TABLE / CREATE INDEX parser of the schema layer.
 *
 * sqlite_schema keeps the SQL text of every table and index; folio learns a
 * table's columns, types, constraints and automatic indexes by parsing that
 * text the way SQLite does. The parser is pure C11 (malloc, no I/O) and treats
 * its input as untrusted: any text gives either a result or an error message,
 * never a crash, an out-of-bounds read or an endless loop.
 *
 * Rules that follow SQLite exactly (each checked against libsqlite3 by the
 * unit tests in tests/unit/schema/):
 *   - the declared type is the text from the first to the last type token as
 *     written (inner whitespace and comments included), dequoted when it
 *     starts with a quote, with a trailing "GENERATED ALWAYS" removed; the six
 *     STRICT type names come out in upper case ("x [int]" -> "INT"), exactly
 *     as PRAGMA table_info shows them;
 *   - affinity from the declared type: contains INT -> INTEGER; CHAR, CLOB or
 *     TEXT -> TEXT; BLOB or no type -> BLOB; REAL, FLOA or DOUB -> REAL; else
 *     NUMERIC (first rule that matches wins);
 *   - a column is the rowid alias (INTEGER PRIMARY KEY) when the table has a
 *     rowid, the primary key is that single column and its declared type is
 *     exactly "INTEGER"; a column constraint "PRIMARY KEY DESC" is not an
 *     alias but a table constraint "PRIMARY KEY(x DESC)" is;
 *   - automatic indexes are numbered in the order their constraints appear;
 *     a constraint whose columns and collations equal an earlier automatic
 *     index is merged into it (a later PRIMARY KEY turns the earlier UNIQUE
 *     index into the primary key index, with that index's ASC/DESC). The
 *     primary key of a WITHOUT ROWID table takes a number but has no
 *     sqlite_schema row; a rowid alias in a WITHOUT ROWID table gets its key
 *     index after all others. See sch_autoindex.num;
 *   - error messages are SQLite's wherever folio makes the same check.
 */
#ifndef FOLIO_SCHEMA_PARSE_H
#define FOLIO_SCHEMA_PARSE_H

#include <stddef.h>
#include <stdint.h>

enum { SCH_AFF_BLOB, SCH_AFF_TEXT, SCH_AFF_NUMERIC, SCH_AFF_INTEGER, SCH_AFF_REAL };
enum { SCH_COLL_BINARY, SCH_COLL_NOCASE, SCH_COLL_RTRIM, SCH_COLL_UNKNOWN };
enum {
    SCH_DFLT_NONE,
    SCH_DFLT_NULL,
    SCH_DFLT_INTEGER,
    SCH_DFLT_REAL,
    SCH_DFLT_TEXT,
    SCH_DFLT_BLOB,
    SCH_DFLT_CURRENT_TIME,
    SCH_DFLT_CURRENT_DATE,
    SCH_DFLT_CURRENT_TIMESTAMP,
    SCH_DFLT_EXPR
};

/* SQLite's default SQLITE_MAX_COLUMN, the limit on the columns of a table
 * and on the key columns of an index or a primary key. The parser refuses
 * more; every layer above sizes its arrays from the definition it gets. */
#define SCH_MAX_COLUMNS 2000

/** Declared type of a column of a STRICT table (INT and INTEGER are one type). */
enum {
    SCH_STRICT_NONE, /* not a STRICT table */
    SCH_STRICT_INTEGER,
    SCH_STRICT_REAL,
    SCH_STRICT_TEXT,
    SCH_STRICT_BLOB,
    SCH_STRICT_ANY /* values are kept as given; affinity is SCH_AFF_BLOB */
};

/** ON CONFLICT resolution of a constraint; SCH_OC_DEFAULT when none is written. */
enum { SCH_OC_DEFAULT, SCH_OC_ROLLBACK, SCH_OC_ABORT, SCH_OC_FAIL, SCH_OC_IGNORE, SCH_OC_REPLACE };

/** Key column values of sch_keycol.col that are not a table column index. */
#define SCH_KEY_ROWID      (-1) /* the rowid (never produced: SQLite rejects it in keys) */
#define SCH_KEY_EXPR       (-2) /* an expression */
#define SCH_KEY_UNRESOLVED (-3) /* a column name; sch_parse_index() was given no table */

/** A column's DEFAULT value. TEXT and BLOB bytes (and the source text of an
 * expression, the text inside its outer parentheses; and for INTEGER and
 * REAL the literal as written, with its sign) are in p[0..n), with a
 * NUL after them. A literal SQLite accepts in the DDL but fails on when it is
 * used (a hex literal wider than 64 bits) is kept as SCH_DFLT_EXPR. */
typedef struct sch_default {
    int kind; /* SCH_DFLT_* */
    int64_t i;
    double r;
    char *p;
    size_t n;
} sch_default;

typedef struct sch_column {
    char *name;      /* unquoted identifier */
    char *decltype;  /* declared type as SQLite keeps it (see the top of this file); NULL if none */
    int affinity;    /* SCH_AFF_* */
    int strict_type; /* SCH_STRICT_*; SCH_STRICT_NONE unless the table is STRICT */
    int collation;   /* SCH_COLL_* */
    char *collation_name; /* as written, dequoted; "BINARY" when no COLLATE clause */
    int notnull;          /* NOT NULL, or a key column of a WITHOUT ROWID table (as SQLite) */
    int primary_key, autoincrement;
    int unique;    /* a UNIQUE constraint on this column alone */
    int generated; /* GENERATED ALWAYS AS (...) or AS (...) */
    int hidden;    /* as PRAGMA table_xinfo: 0, or 2 for a VIRTUAL generated column (not
                      stored in the record), 3 for a STORED generated column */
    int has_check, has_references;
    int notnull_onconflict; /* SCH_OC_* of the NOT NULL constraint */
    sch_default dflt;
    char *gen_text; /* a generated column's expression (inside AS ( )), else NULL */
} sch_column;

/** A CHECK constraint: its expression's source (between the parentheses,
 * comments included, white space trimmed) and the name SQLite reports it by
 * when it
 * fails: the CONSTRAINT name in force (SQLite forgets the last one at the
 * start of each column definition and at each comma between table
 * constraints only), else NULL (SQLite then reports the text). */
typedef struct sch_check {
    char *name;
    char *text;
    int col; /* the column it was declared on, or -1 for a table constraint */
} sch_check;

/** One key column of an index or of the primary key. */
typedef struct sch_keycol {
    int col; /* table column index, or SCH_KEY_* (an index on the INTEGER PRIMARY KEY
                column names that column; its value is the rowid) */
    int desc;
    int collation;        /* SCH_COLL_* */
    char *collation_name; /* explicit COLLATE name, else the table column's; "BINARY" default */
    char *text;           /* sch_index keys only: the key as written (dequoted column name or the
                             expression's source text); NULL in sch_table */
    int coll_explicit;    /* the collation was written (COLLATE), not the default */
} sch_keycol;

/** An automatic index (sqlite_autoindex_<table>_<num>). cols are its key
 * columns. Its entries end with the rowid, or in a WITHOUT ROWID table with
 * the primary key columns not already among cols (same column and
 * collation); those trailing key columns always sort ASC in an automatic
 * index, even when the primary key is DESC (SQLite keeps this old behaviour
 * for compatibility; an index from CREATE INDEX follows the key's order). */
typedef struct sch_autoindex {
    int unique; /* always 1 */
    int ncols;
    sch_keycol *cols;
    int is_pk;      /* the PRIMARY KEY's index */
    int num;        /* the N of its name; numbers count the WITHOUT ROWID primary key,
                       which has no entry here, so they can skip one */
    int onconflict; /* SCH_OC_* */
} sch_autoindex;

/** ON DELETE / ON UPDATE actions of a foreign key. */
#define SCH_FK_NO_ACTION   0
#define SCH_FK_RESTRICT    1
#define SCH_FK_SET_NULL    2
#define SCH_FK_SET_DEFAULT 3
#define SCH_FK_CASCADE     4

/** A foreign key constraint (column REFERENCES or table FOREIGN KEY). */
typedef struct sch_fkey {
    char *parent;  /* the parent table's name as written (dequoted) */
    int ncols;     /* child key columns */
    int *cols;     /* the child table's column of each */
    char **pcols;  /* the parent columns as written, ncols of them; NULL when
                      none are written (then the parent's primary key) */
    int on_delete; /* SCH_FK_* */
    int on_update;
    int deferred; /* DEFERRABLE INITIALLY DEFERRED: checked at commit */
} sch_fkey;

typedef struct sch_table {
    char *name;
    char *schema_name; /* "main" etc. if written, else NULL */
    int ncols;
    sch_column *cols;
    int without_rowid, strict, if_not_exists, temp;
    int ipk; /* column index of the INTEGER PRIMARY KEY rowid alias, or -1 */
    int autoincrement;
    int npk;
    sch_keycol *pk;    /* PRIMARY KEY columns in key order, npk = 0 if none. WITHOUT ROWID:
                          repeated columns (same column and collation) are dropped, as SQLite
                          does; that is the table b-tree's key */
    int pk_onconflict; /* SCH_OC_* */
    int nauto;
    sch_autoindex *autoidx; /* the automatic indexes that have an sqlite_schema row, in
                               SQLite's numbering order */
    int has_check, has_generated, has_foreign_key;
    int nchecks;
    sch_check *checks; /* in declaration order */
    int nfkeys;
    sch_fkey *fkeys; /* in declaration order (SQLite numbers them from the last: its
                        foreign key id k is fkeys[nfkeys - 1 - k]) */
} sch_table;

typedef struct sch_index {
    char *name;
    char *schema_name; /* NULL if not written */
    char *table;
    int unique, if_not_exists;
    int ncols;
    sch_keycol *cols;
    int partial;      /* has WHERE */
    char *where_text; /* the WHERE expression's source, else NULL */
    int has_expr;     /* some key is an expression */
} sch_index;

/* ---- CREATE TRIGGER (parse_trigger.c) ---- */

enum { SCH_TRIG_BEFORE, SCH_TRIG_AFTER, SCH_TRIG_INSTEAD_OF };
enum { SCH_TRIG_DELETE, SCH_TRIG_INSERT, SCH_TRIG_UPDATE };
enum { SCH_TS_INSERT, SCH_TS_UPDATE, SCH_TS_DELETE, SCH_TS_SELECT };

/** A span of the trigger's SQL text: an expression's source, [off, off+len). */
typedef struct sch_span {
    uint32_t off, len;
} sch_span;

/**
 * One ON CONFLICT clause of a body's INSERT (an UPSERT):
 *   ON CONFLICT [(target, ..) [WHERE expr]] DO NOTHING
 *   ON CONFLICT [(target, ..) [WHERE expr]] DO UPDATE SET col = expr, .. [WHERE expr]
 * Each target term is an expression, a COLLATE included (ASC / DESC are
 * read and dropped, as SQLite ignores them there; NULLS FIRST / LAST is
 * SQLite's error "unsupported use of NULLS FIRST"); only the last clause
 * may have no target.
 */
typedef struct sch_upsert {
    int ntarget;      /* 0: no conflict target */
    sch_span *target; /* each term's expression */
    int has_target_where;
    sch_span target_where;
    int do_update; /* DO UPDATE (else DO NOTHING) */
    int nset;      /* DO UPDATE SET set_cols[i] = set_vals[i] */
    char **set_cols;
    sch_span *set_vals;
    int has_where; /* DO UPDATE ... WHERE */
    sch_span where;
} sch_upsert;

/**
 * One statement of a trigger body. Expressions are kept as spans of the
 * text, for the expression layer to compile; names are dequoted.
 *   INSERT [OR c] INTO table [(cols)] VALUES (..), .. | SELECT ..
 *   UPDATE [OR c] table SET col = expr, .. [WHERE expr]
 *   DELETE FROM table [WHERE expr]
 *   SELECT expr, .. [FROM table [AS alias]] [WHERE expr]
 * An INSERT's SELECT source fills the SELECT fields (res, from, where); an
 * INSERT may end with ON CONFLICT clauses (upsert).
 */
typedef struct sch_trig_stmt {
    int kind;    /* SCH_TS_* */
    int onconf;  /* SCH_OC_*: the OR clause (REPLACE INTO is SCH_OC_REPLACE) */
    char *table; /* INSERT / UPDATE / DELETE: the target table */
    char **cols; /* INSERT: the column list, ncols names (NULL: every column) */
    int ncols;
    int default_values; /* (never set: SQLite's trigger grammar has no DEFAULT VALUES) */
    int nrows, nvals;   /* INSERT ... VALUES: nrows rows of nvals expressions */
    sch_span *vals;     /* row r, value v at [r * nvals + v] */
    int select_source;  /* INSERT ... SELECT */
    int nres;           /* SELECT: the result expressions */
    sch_span *res;
    char *from, *alias; /* SELECT: FROM table [AS alias], or NULL */
    int has_where;      /* SELECT, UPDATE, DELETE */
    sch_span where;
    int nset; /* UPDATE: SET cols[i] = set_vals[i] */
    char **set_cols;
    sch_span *set_vals;
    int nupsert; /* INSERT: its ON CONFLICT clauses, in order */
    sch_upsert *upsert;
    char *unsupported; /* a construct folio does not run in triggers, named, or NULL */
    char *error;       /* SQLite's error when the trigger is used (it parses), or NULL */
    sch_span text;     /* the whole statement */
    /* Where the names are in the text (ALTER TABLE rewrites them): each a
     * name's token, quotes included. */
    sch_span table_tok;        /* INSERT / UPDATE / DELETE: the target */
    sch_span *col_toks;        /* INSERT: ncols, as cols */
    sch_span *set_toks;        /* UPDATE: nset, as set_cols */
    sch_span from_tok, as_tok; /* SELECT: FROM's table and its alias (len 0: none) */
    sch_span source;           /* INSERT: from its VALUES or SELECT to the statement's end
                                  (len 0: the parser did not get that far) */
} sch_trig_stmt;

typedef struct sch_trigger {
    char *name;
    char *table;        /* ON table, dequoted */
    char *table_schema; /* "main" etc. if written, else NULL */
    int temp, if_not_exists;
    int timing; /* SCH_TRIG_BEFORE (also when none is written), _AFTER, _INSTEAD_OF */
    int event;  /* SCH_TRIG_DELETE, _INSERT, _UPDATE */
    char **of;  /* UPDATE OF columns, nof names (NULL: any column) */
    int nof;
    sch_span *of_toks;  /* each UPDATE OF name's token in the text */
    sch_span table_tok; /* the token of the table after ON */
    int has_when;
    sch_span when;
    int nstmts;
    sch_trig_stmt *stmts;
} sch_trigger;

/**
 * Parse a CREATE TRIGGER statement as SQLite's grammar reads it. Returns 0,
 * or -1 with SQLite's message in err (a syntax error, "qualified table
 * names are not allowed on INSERT, UPDATE, and DELETE statements within
 * triggers", ...). Statements SQLite accepts but folio does not run (joins,
 * GROUP BY, ORDER BY, LIMIT, compound SELECTs, row values in SET)
 * parse, with their `unsupported` set.
 */
int sch_parse_trigger(sch_trigger *out, const char *sql, char *err, size_t errlen);
void sch_trigger_free(sch_trigger *t);

/** Parse a CREATE TABLE statement. Returns 0, or -1 with a message in err
 * (out is then empty; sch_table_free() on it is harmless). */
int sch_parse_table(sch_table *out, const char *sql, char *err, size_t errlen);

/** Parse a CREATE INDEX statement, resolving key column names against tbl
 * (case-insensitive); a key column's default collation is the table column's.
 * As in SQLite, a key that is a column name in parentheses is that column; a
 * double-quoted name that is no column is a string (an expression key); any
 * other unknown name, "rowid" included, is the error "no such column: x".
 * tbl may be NULL to learn the index's table first: column keys then get
 * col = SCH_KEY_UNRESOLVED. Returns 0, or -1 with a message in err. */
int sch_parse_index(sch_index *out, const char *sql, const sch_table *tbl, char *err,
                    size_t errlen);

void sch_table_free(sch_table *t);
void sch_index_free(sch_index *ix);

/** Affinity of a declared type by SQLite's rules; NULL -> SCH_AFF_BLOB. */
int sch_affinity_of(const char *decltype);
/** BINARY/NOCASE/RTRIM (ASCII case-insensitive), else SCH_COLL_UNKNOWN. */
int sch_collation_of(const char *name);
/** ASCII case-insensitive equality of two NUL-terminated strings. */
int sch_ident_eq(const char *a, const char *b);

#endif
