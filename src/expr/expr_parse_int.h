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
    EXP_EARLY,     /* before names are resolved (a DEFAULT that is not constant) */
    EXP_COLUMN,    /* a name: stops the resolution of the enclosing call's argument */
    EXP_FUNCTION,  /* a call: recorded, and its arguments are still resolved */
    EXP_CODEGEN,   /* found while SQLite codes the expression (literals, collations) */
    EXP_CODEGEN_ON /* the same, but coding goes on and a later error replaces it
                      ("misuse of aggregate: f()") */
};
typedef struct exp_deferred {
    int node;  /* the node the error belongs to */
    int phase; /* EXP_* */
    int rc;
    size_t pos;
    char msg[200];
} exp_deferred;

/* A result column's alias, which WHERE and ORDER BY may name. */
typedef struct exp_alias {
    char *name; /* malloc'd */
    int node;   /* the result's node */
} exp_alias;

/* A place names resolve against: level 0 is the scope's table, level k the
 * table of the subquery nested k deep (SQLite's NameContext). */
typedef struct exp_level {
    ex_source tab; /* ncols 0: no table */
    char *name;    /* what "name.column" matches: its alias, else its name (malloc'd) */
    int aliased;   /* the name is an alias */
    int has_table;
    int base;    /* its first slot */
    int subq;    /* its subquery, -1 for level 0 */
    int clause;  /* where parsing is in the subquery (expr_select.c's CL_*) */
    int has_agg; /* its result list has an aggregate it owns */
    int aliases; /* its result aliases may be named (WHERE, ORDER BY) */
    exp_alias *al;
    int nal, alcap;
} exp_level;

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
    /* Names: levels (innermost last), the lowest one names may reach
     * (LIMIT sees none, ORDER BY only its own subquery's), and the last
     * bare name resolved (ORDER BY's alias rule). */
    exp_level *lv;
    int nlv, lvcap;
    int floor;
    /* Where exp_lookup_name found the last name: level (-1 a source, -2
     * nothing: an alias of a result), source, column (-1 the rowid). */
    int hit_level, hit_source, hit_col;
    int last_bare_node;
    size_t last_bare_tok;
    /* Subqueries so far, their index lists, and the flat slots used. */
    ex_subq *sq;
    int nsq, sqcap;
    int *idx;
    int nidx, idxcap;
    int nslots;
} parser;

static inline ex_node *N(parser *ps, int k)
{
    return &ps->nodes[k];
}

/* Visit the children of node k in SQLite's order (left, right or list). */
#define EACH_CHILD_OF(ps, k, c, body)                                                              \
    do {                                                                                           \
        const int kids_[3] = {N(ps, k)->a, N(ps, k)->b, N(ps, k)->c};                              \
        for (int j_ = 0; j_ < 3; j_++) {                                                           \
            int c = kids_[j_];                                                                     \
            if (c >= 0) {                                                                          \
                body;                                                                              \
            }                                                                                      \
        }                                                                                          \
        for (int c = N(ps, k)->list; c >= 0; c = N(ps, c)->next) {                                 \
            body;                                                                                  \
        }                                                                                          \
    } while (0)

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

/* ---- What expr_parse.c shares with expr_select.c ----------------------------- */

const lx_token *exp_peek(const parser *ps, size_t k);
size_t exp_tok_pos(const parser *ps, const lx_token *t);
int exp_tok_is(const lx_token *t, const char *kw);
int exp_tok_op(const lx_token *t, const char *op);
int exp_is_reserved(const lx_token *t);
int exp_syntax_error(parser *ps);
void exp_ident_text(const lx_token *t, char *buf, size_t cap);
int exp_new_node(parser *ps, int op, size_t pos);
/** A node standing for what failed to resolve, over the call arguments
 * `first` (its error is deferred on it by the caller). */
int exp_failed_node(parser *ps, int first, int nargs, size_t pos);
int exp_finish_node(parser *ps, int k);
int exp_parse_expr(parser *ps, int min_bp);
uint8_t exp_compare_affinity(uint8_t a1, uint8_t a2);
uint8_t exp_compare_collation(parser *ps, int l, int r);
int exp_check_collation(parser *ps, int k, int l, int r, uint8_t coll, size_t pos);
/** Context words of messages ("CHECK constraints", ...), and whether the
 * context refuses subqueries as SQLite does (FOLIO_ERROR) rather than folio. */
const char *exp_context_name(unsigned flags);
int exp_deterministic_context(unsigned flags);

/* ---- Subqueries, aggregates, RAISE (expr_select.c) ---------------------------- */

/** The subquery whose SELECT (or WITH, VALUES) is at the cursor, after its
 * "(": kind EXQ_*, left the left operand of IN (-1 otherwise). Returns its
 * node (the ")" is left for the caller), or -1 with the error recorded. */
int exp_parse_select(parser *ps, int kind, int left, size_t pos);
/** A call of an aggregate function, if the name is one (count, sum, total,
 * avg, group_concat, min and max of one argument) and parsing is inside a
 * subquery's result or ORDER BY: its node; -2 when the name is not one
 * the subquery evaluates (the caller goes on as for any call). */
int exp_aggregate_call(parser *ps, const char *name, int first, int nargs, int distinct,
                       size_t pos);
/** RAISE(...) with the cursor on RAISE. */
int exp_parse_raise(parser *ps, size_t pos);
/** The name `name` (tbl and db may be NULL) at the levels and sources:
 * its node, -1 on error, -2 when nothing has it. */
int exp_lookup_name(parser *ps, const char *db, const char *tbl, const char *name, size_t pos);
/** Set up level 0 and the slots of the sources; free the levels. */
int exp_levels_init(parser *ps);
void exp_levels_free(parser *ps);

#endif
