/*
 * expr_parse_int.h - the parser's state, shared by expr_parse.c (the
 * grammar) and expr_compile.c (the program: constants, the public entry
 * points). Private to src/expr.
 */
#ifndef FOLIO_EXPR_PARSE_INT_H
#define FOLIO_EXPR_PARSE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "expr/expr_int.h"
#include "schema/lex.h"

typedef struct parser {
    const char *text;
    size_t len;
    lx_token *tok;
    size_t ntok, i;
    const ex_scope *scope;
    unsigned flags;
    ex_node *nodes;
    int nnodes, cap;
    uint8_t *bytes;
    size_t nbytes, bcap;
    int depth;
    int rc;
    char *err;
    size_t errlen;
    uint8_t *colused; /* one flag per table column */
    int uses_rowid;
    int is_volatile;
    int max_args;
} parser;

static inline ex_node *N(parser *ps, int k)
{
    return &ps->nodes[k];
}

/** Record the first error (SQLite's message, then " (at offset N)"); returns rc. */
int exp_fail(parser *ps, int rc, size_t pos, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/** Record "out of memory"; returns FOLIO_NOMEM. */
int exp_nomem(parser *ps);
/** Append n bytes to the constants' pool; *off is where they start. */
int exp_add_bytes(parser *ps, const void *p, size_t n, uint32_t *off);
/** Parse the whole token list: the root node, or -1 with the error recorded. */
int exp_parse(parser *ps);

#endif
