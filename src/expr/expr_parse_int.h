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

/* An error SQLite reports only when the node survives its parser's rewrites
 * ("x IN ()" and "0 AND x" drop x): names and functions are resolved, and
 * literals coded, after parsing. */
enum {
    EXP_EARLY,    /* before names are resolved (a DEFAULT that is not constant) */
    EXP_COLUMN,   /* a name: stops the resolution of the enclosing call's argument */
    EXP_FUNCTION, /* a call: recorded, and its arguments are still resolved */
    EXP_CODEGEN   /* found while SQLite codes the expression (literals, collations) */
};
typedef struct exp_deferred {
    int node;  /* the node the error belongs to */
    int phase; /* EXP_* */
    int rc;
    size_t pos;
    char msg[200];
} exp_deferred;

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
    exp_deferred *deferred; /* errors of nodes, reported if reachable */
    int ndeferred, defcap;
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
/** Attach an error to `node` (reported at compile's end if the node is
 * still in the tree); returns node, or -1 when out of memory. */
int exp_defer(parser *ps, int node, int phase, int rc, size_t pos, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
/** Record "out of memory"; returns FOLIO_NOMEM. */
int exp_nomem(parser *ps);
/** Append n bytes to the constants' pool; *off is where they start. */
int exp_add_bytes(parser *ps, const void *p, size_t n, uint32_t *off);
/** Parse the whole token list: the root node, or -1 with the error recorded. */
int exp_parse(parser *ps);

#endif
