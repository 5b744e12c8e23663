/*
 * lex.h - tokenizer for the schema parser (private to src/schema).
 *
 * Splits SQL text into tokens the way SQLite's tokenizer does for the parts of
 * the language that CREATE TABLE and CREATE INDEX use. Whitespace and comments
 * are skipped; every token points into the input, so the parser can take raw
 * spans (declared types, expression text) from first to last token.
 */
#ifndef FOLIO_SCHEMA_LEX_H
#define FOLIO_SCHEMA_LEX_H

#include <stddef.h>

enum {
    LX_EOF,
    LX_ID,       /* bare word: identifier or keyword */
    LX_QID,      /* "quoted", [bracketed] or `backticked` identifier */
    LX_STRING,   /* 'string' */
    LX_BLOB,     /* x'hex' with an even number of hex digits */
    LX_INTEGER,  /* decimal or 0x hex digits */
    LX_FLOAT,    /* decimal with a point or an exponent */
    LX_VARIABLE, /* ?NNN :name @name $name */
    LX_LP,
    LX_RP,
    LX_COMMA,
    LX_DOT,
    LX_SEMI,
    LX_PLUS,
    LX_MINUS,
    LX_OP,     /* any other operator */
    LX_ILLEGAL /* an unrecognized token (lx_tokenize_illegal only) */
};

typedef struct lx_token {
    int type;      /* LX_* */
    const char *z; /* first byte, inside the input */
    size_t n;      /* length in bytes */
} lx_token;

/** SQLite's white space: space, \t, \n, \v, \f, \r. */
int lx_is_space(int c);

/** Tokenize sql[0..len) into a malloc'd array (*out, *nout tokens, the last
 * one LX_EOF with z at the end of the input). Returns 0, or -1 with a message
 * in err (unterminated string, identifier or comment, unrecognized token, out
 * of memory). */
int lx_tokenize(const char *sql, size_t len, lx_token **out, size_t *nout, char *err,
                size_t errlen);

/** As lx_tokenize, but an unrecognized token (or an unterminated string or
 * quoted name) ends the tokens as one LX_ILLEGAL token spanning what SQLite
 * calls that token, then LX_EOF: a parser reports it when it gets there, so
 * an error before it comes first, as in SQLite. */
int lx_tokenize_illegal(const char *sql, size_t len, lx_token **out, size_t *nout, char *err,
                        size_t errlen);

/** 1 if the token may be a name of a table, column, index or constraint
 * (SQLite's "nm": an identifier, quoted name or string that is not a
 * reserved keyword). */
int lx_is_name(const lx_token *t);

/** 1 if c may continue an identifier (letters, digits, '_', '$', bytes >= 0x80). */
int lx_is_idchar(unsigned char c);

#endif
