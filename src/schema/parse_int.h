/*
 * parse_int.h - parser internals shared by parse.c (tokens, names, shared
 * clauses, CREATE INDEX) and parse_table.c (CREATE TABLE, DEFAULT values).
 * Private to src/schema.
 *
 * Conventions: functions returning int give 0 (or a non-negative value) on
 * success and -1 after recording the first error message with sp_fail();
 * functions returning a pointer give NULL after recording "out of memory".
 * The token cursor never moves past the final LX_EOF token.
 */
#ifndef FOLIO_SCHEMA_PARSE_INT_H
#define FOLIO_SCHEMA_PARSE_INT_H

#include "schema/lex.h"
#include "schema/parse.h"

typedef struct parser {
    const char *sql;
    lx_token *t;
    size_t nt;     /* tokens, the last one LX_EOF */
    size_t *match; /* match[i]: index of the parenthesis matching token i */
    size_t i;      /* current token */
    char *err;
    size_t errlen;
    int failed;
} parser;

/* ---- Set-up and errors ---- */
/** Tokenize sql and match its parentheses (an unbalanced one is an error). */
int sp_parser_init(parser *p, const char *sql, char *err, size_t errlen);
void sp_parser_done(parser *p);
/** Record the first error message (printf format); returns -1. */
int sp_fail(parser *p, const char *fmt, ...);
/** 'near "tok": syntax error' at the current token, or "incomplete input". */
int sp_syntax_error(parser *p);
int sp_nomem(parser *p);

/* ---- Strings ---- */
int sp_ascii_lower(int c);
/** ASCII case-insensitive equality of n bytes. */
int sp_mem_ieq(const char *a, const char *b, size_t n);
/** malloc'd copy of z[0..n) with a NUL after it. */
char *sp_dup_mem(parser *p, const char *z, size_t n);
/** SQLite's dequoting: when z starts with a quote, the text up to the closing
 * quote with doubled quotes collapsed; otherwise z[0..n) as is. */
char *sp_dequote(parser *p, const char *z, size_t n);
/** The dequoted text of a token. */
char *sp_tok_text(parser *p, const lx_token *t);
/** Raw source text of tokens [a, b) (b > a), its length in *n if non-NULL. */
char *sp_span_text(parser *p, size_t a, size_t b, size_t *n);

/* ---- Keywords and token classes ---- */
/** The token is the bare word w (ASCII case-insensitive). */
int sp_word_eq(const lx_token *t, const char *w);
/** "nm": a name of a table, column, index or constraint (any identifier or
 * string that is not a reserved keyword; join keywords and INDEXED included). */
int sp_is_nm(const lx_token *t);
/** "id": an identifier that is not a reserved or join keyword. */
int sp_is_id(const lx_token *t);
/** "ids": a word of a type name or a collation name (id or string, not INDEXED). */
int sp_is_ids(const lx_token *t);

/* ---- Token cursor ---- */
const lx_token *sp_tok(parser *p);
const lx_token *sp_ahead(parser *p, size_t k);
void sp_advance(parser *p);
int sp_accept_kw(parser *p, const char *w);
int sp_expect_kw(parser *p, const char *w);
int sp_accept(parser *p, int type);
int sp_expect(parser *p, int type);
/** Optional semicolons, then the end of the input. */
int sp_expect_end(parser *p);
/** A name; its dequoted text in *out when out is non-NULL. */
int sp_parse_nm(parser *p, char **out);
/** At "(": skip a parenthesised expression, which must not be empty; with
 * `text` non-NULL, *text gets a copy of the source between the parentheses,
 * comments included, white space trimmed (as SQLite names an unnamed CHECK
 * by it). */
int sp_skip_paren_expr(parser *p);
int sp_paren_expr_text(parser *p, char **text);

/* ---- Clauses ---- */
/** [ON CONFLICT resolution]: SCH_OC_*, or -1. */
int sp_parse_onconf(parser *p);
/** [INITIALLY DEFERRED|IMMEDIATE] after [NOT] DEFERRABLE: 1 for
 * INITIALLY DEFERRED, else 0; or -1. */
int sp_parse_initially(parser *p);
/** ( name [COLLATE ids] [ASC|DESC], ... ); with cols, every name must be one
 * of cols[0..ncols). */
int sp_parse_eidlist(parser *p, const sch_column *cols, int ncols);
/** After REFERENCES: table [(columns)] {MATCH name | ON DELETE|UPDATE|INSERT
 * action}. With fk, its parent, parent columns and actions are filled in
 * (the caller frees them with sp_fkey_free even on failure). */
int sp_parse_fk_target(parser *p, sch_fkey *fk);
void sp_fkey_free(sch_fkey *fk);

/** One key of a PRIMARY KEY, UNIQUE or CREATE INDEX list, as written. */
typedef struct sp_key {
    size_t a, b;   /* the key without ASC/DESC */
    size_t ea, eb; /* the bare expression: without COLLATE and enclosing parentheses */
    int desc;
    const lx_token *coll; /* outermost COLLATE name, or NULL */
    const lx_token *name; /* set when the bare expression is a single name */
} sp_key;

/** Scan one key up to "," or ")" (or AUTOINCREMENT when stop_autoinc) and
 * take its ASC/DESC and COLLATE apart. */
int sp_parse_key(parser *p, sp_key *k, int stop_autoinc);

/* ---- Key columns ---- */
/** Index of the column named name (ASCII case-insensitive), or -1. */
int sp_find_column(const sch_column *cols, int ncols, const char *name);
void sp_keycols_free(sch_keycol *kc, int n);
/** Set a key's collation from its COLLATE token, else copy dflt (NULL: leave none). */
int sp_key_collation(parser *p, sch_keycol *kc, const lx_token *coll, const char *dflt);
/** Append a zeroed key column (at most SCH_MAX_COLUMNS). */
int sp_keycol_append(parser *p, sch_keycol **kc, int *n, int *cap);

#endif
