/*
 * alter_int.h - the SQL text of CREATE statements as ALTER TABLE edits it
 * (alter_sql.c), shared with the statement itself (alter.c): the tokens of a
 * statement, what each stands for (a column's name, a word of a CHECK, a
 * REFERENCES), and edits of the text. Private to those two files.
 */
#ifndef FOLIO_DB_ALTER_INT_H
#define FOLIO_DB_ALTER_INT_H

#include "db/ddl_int.h"

typedef struct edit {
    size_t off, n; /* bytes of the text replaced */
    char *text;    /* owned */
} edit;

typedef struct edits {
    edit *v;
    int n, cap;
} edits;

/* Where a token stands. */
enum {
    R_NONE,
    R_TNAME,    /* the table's name after CREATE TABLE */
    R_COLNAME,  /* a column's name where it is defined */
    R_CHECK,    /* inside a CHECK constraint */
    R_GEN,      /* inside a generated column's AS ( ) */
    R_TKEYS,    /* a PRIMARY KEY or UNIQUE table constraint's columns */
    R_FK_FROM,  /* FOREIGN KEY ( these ) */
    R_FK_TABLE, /* REFERENCES this */
    R_FK_TO,    /* REFERENCES t ( these ) */
    R_IDX_ON,   /* CREATE INDEX i ON this */
    R_IKEYS,    /* an index's keys */
    R_WHERE,    /* a partial index's WHERE */
};

/* What a word inside an expression is. */
enum { C_NONE, C_COL, C_QUAL, C_DQS };

#define NO_TOKEN ((size_t)-1)

typedef struct stmt {
    const char *sql;
    lx_token *t;
    size_t n;      /* tokens, the last one LX_EOF */
    size_t *match; /* the other parenthesis of each ( and ) */
    uint8_t *role; /* R_* */
    uint8_t *cls;  /* C_* */
    size_t *aux;   /* C_COL: its qualifier token or NO_TOKEN; R_FK_TO: the R_FK_TABLE token */
} stmt;

/* The layout of a CREATE TABLE statement. */
typedef struct tscan {
    int is_virtual;
    size_t name;    /* token */
    size_t lp, rp;  /* the column list's parentheses */
    size_t add_off; /* byte offset where ADD COLUMN inserts (SQLite's addColOffset) */
    int ncols;
    size_t *coltok;     /* the name token of each column definition */
    size_t *colend;     /* the "," or ")" after it */
    uint8_t *colunique; /* a UNIQUE constraint on the column itself */
} tscan;

/* The token is the bare word w (ASCII case-insensitive). */
int asql_word(const lx_token *t, const char *w);

int asql_is_quote(char c);

/* Whether the dequoted text of a name token is `name` (ASCII case folded,
 * as SQLite compares names). */
int asql_tok_eq(const lx_token *t, const char *name);

/* The dequoted text of a name token, allocated. */
char *asql_tok_text(const lx_token *t);

int asql_name_is_internal(const char *name);

/* Whether `name` starts with the lower-case `prefix` (ASCII case folded). */
int asql_has_prefix(const char *name, const char *prefix);

/* `"name"` with inner double quotes doubled (SQLite's %w), and a space after
 * it when the text it replaces is followed by a double quote. */
char *asql_quoted_name(const char *name, int space);

void asql_edits_free(edits *e);

/* Add an edit; takes `text` (freed on failure). */
int asql_edits_add(edits *e, size_t off, size_t n, char *text);

/* The text with the edits made; an edit that starts inside an earlier one
 * (a word inside a column definition being cut out) is dropped. */
char *asql_edits_apply(const char *sql, edits *e);

void asql_stmt_close(stmt *s);

/* Tokenize; FOLIO_CORRUPT when the text is not a statement at all (its
 * parentheses do not match). */
int asql_stmt_open(stmt *s, const char *sql);

size_t asql_tok_off(const stmt *s, size_t k);

void asql_tscan_free(tscan *ts);

/* Scan a CREATE TABLE. FOLIO_CORRUPT when it is not one folio can read. */
int asql_scan_table(stmt *s, tscan *ts);

/* Scan a CREATE INDEX: the table after ON, the keys, the WHERE. */
int asql_scan_index(stmt *s);

/* Whether `def` has a column named by the token. */
int asql_has_column_tok(const sch_table *def, const lx_token *t);

/* Double-quoted words of the expressions SQLite's quote fix walks (CHECK,
 * generated columns, index keys and WHERE) that name no column of `def`:
 * strings. */
void asql_mark_dqs(stmt *s, const sch_table *def);

/* The double-quoted string token t as a single-quoted one (SQLite's %Q),
 * and a space after it when a single quote follows it in the text. */
char *asql_single_quoted(const lx_token *t);

/* The edits that turn each double-quoted string into a single-quoted one
 * (and a space after it when a quote follows, as SQLite writes it). */
int asql_quotefix_edits(const stmt *s, edits *e);

/* ---- the statement (alter.c), and what it does to triggers (alter_trig.c) ---- */

enum { OP_ADD, OP_RENAME_TABLE, OP_RENAME_COLUMN, OP_DROP };

typedef struct alter_op {
    int kind;
    db_table *tab;   /* the table altered */
    char *oldname;   /* its name (a copy) */
    char *newname;   /* RENAME TO, RENAME COLUMN: the new name, dequoted */
    int bquote;      /* RENAME COLUMN: the new name was quoted */
    int col;         /* RENAME COLUMN, DROP COLUMN: the column */
    char *table_sql; /* the table's new CREATE TABLE */
    sch_table newdef;
    int newdef_valid;
} alter_op;

/* What replaces a word that names the renamed column (RENAME COLUMN): the
 * new name as given when neither it nor the word was quoted, else in double
 * quotes. */
char *alter_column_text(const alter_op *op, const lx_token *t);

/* A view or trigger that names what the statement changes (the table of
 * RENAME TO, the column of RENAME COLUMN and DROP COLUMN) in the tokens
 * whose text starts in [lo, hi), or that holds a double-quoted word there
 * that SQLite may rewrite as a string: FOLIO_UNSUPPORTED, folio cannot
 * rewrite that text. `on`: a trigger's ON table token, which is not
 * counted (NO_TOKEN: none). */
int alter_refuse_named(folio_txn *txn, const alter_op *op, const char *type, const char *name,
                       const stmt *s, size_t lo, size_t hi, size_t on);

/* The edits of a trigger's text for the statement, as SQLite makes them
 * (sqlite_rename_table, sqlite_rename_column, sqlite_rename_quotefix), s
 * its tokens. Returns 0, or the error set on the handle: SQLite's
 * ("error in trigger tr: no such column: x", when the trigger does not
 * resolve before the change), FOLIO_UNSUPPORTED where folio cannot resolve
 * a part of the trigger that names what changes, FOLIO_NOMEM. */
int alter_trigger_edits(folio_txn *txn, const alter_op *op, const char *name, const stmt *s,
                        edits *e);

/* One trigger of the schema as the transaction now sees it resolves
 * (SQLite's sqlite_rename_test): else SQLite's "error in trigger tr
 * <when>: ..." (when "" or "after rename", ...). Parts folio cannot resolve
 * are not checked. */
int alter_trigger_check(folio_txn *txn, const folio_schema_entry *en, const char *when);

/* ---- views (alter_view.c) ---- */

/* Resolve view `name` (its CREATE VIEW in sql) as SQLite's sqlite3SelectPrep
 * does, and add to e the edits the statement makes to its text (RENAME TO,
 * RENAME COLUMN, the double-quoted strings of RENAME COLUMN and DROP
 * COLUMN). Returns 0; or SQLite's "error in view v: ..." (FOLIO_ERROR) or
 * FOLIO_NOMEM, set on the handle; or 1, nothing set, when the view holds
 * what folio cannot resolve (named in why). */
int alter_view_edits(folio_txn *txn, const alter_op *op, const char *name, const char *sql,
                     edits *e, char *why, size_t whylen);

/* Every view and trigger resolves, checked in sqlite_schema's order as
 * SQLite's sqlite_rename_test walks it: the first error is SQLite's. */
int alter_schema_check(folio_txn *txn, const char *when);

#endif
