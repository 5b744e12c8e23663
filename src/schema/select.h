/*
 * select.h - SQLite's SELECT grammar as a syntax tree, and CREATE VIEW.
 *
 * The parser (parse_select.c) reads the whole SELECT language of SQLite
 * 3.40: WITH [RECURSIVE] common table expressions, compound SELECTs, VALUES,
 * every join form, table-valued functions, subqueries, window functions and
 * WINDOW clauses, ORDER BY, LIMIT and OFFSET. It checks the syntax and the
 * few rules SQLite's parser itself enforces (unknown join types, ORDER BY
 * or LIMIT before UNION, duplicate WITH names, unsupported frames, window
 * names of a WINDOW clause), with SQLite's messages. It resolves no names:
 * views are stored, not run. Every name in the tree is a token index into
 * the statement's tokens, so that ALTER TABLE can edit the text in place.
 *
 * All nodes live in one arena owned by the sq_view; sq_view_free releases
 * them at once. Token indexes are ints; -1 means none.
 */
#ifndef FOLIO_SCHEMA_SELECT_H
#define FOLIO_SCHEMA_SELECT_H

#include <stddef.h>

#include "schema/lex.h"

typedef struct sq_expr sq_expr;
typedef struct sq_select sq_select;
typedef struct sq_from sq_from;

/* Expression kinds. */
enum {
    SQ_LITERAL, /* number, string, blob, NULL, CURRENT_TIME... */
    SQ_VAR,     /* ?, ?N, :name, @name, $name */
    SQ_NAME,    /* a column reference: tok[0..ntok) are schema, table, column (the last ntok) */
    SQ_FUNC,    /* tok[0] the function's name; kids its arguments */
    SQ_SUBQ,    /* ( select ) */
    SQ_EXISTS,  /* EXISTS ( select ) */
    SQ_IN_SEL,  /* kids[0] IN ( select ) */
    SQ_IN_TAB,  /* kids[0] IN [schema.]table [(args)]: tok[0..ntok) the table's name, kids[1..]
                   the arguments */
    SQ_CAST,    /* CAST ( kids[0] AS type ) */
    SQ_COLLATE, /* kids[0] COLLATE tok[0] */
    SQ_RAISE,   /* RAISE ( ... ) */
    SQ_OP       /* any operator, CASE, a row value: the operands in kids */
};

/* Sort terms: ORDER BY, a window's ORDER BY. */
typedef struct sq_order {
    sq_expr *e;
    int desc;  /* 0 ASC or none, 1 DESC */
    int nulls; /* 0 none, 1 NULLS FIRST, 2 NULLS LAST */
} sq_order;

typedef struct sq_window {
    int name;   /* in a WINDOW clause: its name token */
    int base;   /* the window it extends (its name token), or -1 */
    int nparts; /* PARTITION BY */
    sq_expr **parts;
    int norder;
    sq_order *order;
    int frame;        /* 0: no frame written, else the RANGE / ROWS / GROUPS token */
    sq_expr *lo, *hi; /* the bounds' expressions (<expr> PRECEDING / FOLLOWING) */
} sq_window;

struct sq_expr {
    int kind;
    int first, last; /* the expression's tokens [first, last] */
    int ntok;
    int tok[3];
    int nkids;
    sq_expr **kids;
    sq_select *sel;  /* SQ_SUBQ, SQ_EXISTS, SQ_IN_SEL */
    int distinct;    /* SQ_FUNC: f(DISTINCT ...) */
    int star;        /* SQ_FUNC: f(*) */
    sq_expr *filter; /* SQ_FUNC: FILTER (WHERE filter) */
    sq_window *over; /* SQ_FUNC: OVER ( ... ) */
    int over_name;   /* SQ_FUNC: OVER name, its token */
    int like;        /* SQ_OP: [NOT] LIKE / GLOB / REGEXP / MATCH (kids: left, pattern[,
                        escape]), which SQLite makes a function of (pattern, left[, escape]) */
};

/* A FROM term. */
enum {
    SQ_JT_INNER = 1,
    SQ_JT_CROSS = 2,
    SQ_JT_NATURAL = 4,
    SQ_JT_LEFT = 8,
    SQ_JT_RIGHT = 16,
    SQ_JT_OUTER = 32
};

typedef struct sq_src {
    int join;   /* the join before it (SQ_JT_* bits); 0 for the first term and a comma */
    int schema; /* [schema.]table: tokens */
    int table;
    int alias;      /* AS alias or alias: its token */
    sq_select *sub; /* ( select ) */
    sq_from *nest;  /* ( term JOIN term ... ) */
    int is_tvf;     /* table ( args ): a table-valued function */
    int nargs;
    sq_expr **args;
    int indexed;     /* INDEXED BY name: its token */
    int not_indexed; /* NOT INDEXED */
    sq_expr *on;
    int nusing; /* USING ( names ) */
    int *usings;
} sq_src;

struct sq_from {
    int n;
    sq_src *v;
};

/* A result column: `*`, `t.*` (qual set) or an expression with an alias. */
typedef struct sq_rescol {
    sq_expr *e; /* NULL for * and t.* */
    int qual;   /* t.*: the token of t */
    int alias;  /* AS alias: its token */
} sq_rescol;

/* Compound operators. */
enum { SQ_CO_NONE, SQ_CO_UNION, SQ_CO_UNION_ALL, SQ_CO_INTERSECT, SQ_CO_EXCEPT };

/* One SELECT or one row of VALUES. */
typedef struct sq_core {
    int op;     /* how it joins the core before it (SQ_CO_*; VALUES rows: UNION ALL) */
    int values; /* a VALUES row: res are its values */
    int distinct;
    int nres;
    sq_rescol *res;
    sq_from from;
    sq_expr *where;
    int ngroup;
    sq_expr **group;
    sq_expr *having;
    int nwin;
    sq_window **win;
    int norder;
    sq_order *order;
    sq_expr *limit, *offset;
    int first; /* its first token */
} sq_core;

typedef struct sq_cte {
    int name; /* token */
    int ncols;
    int *cols; /* tokens */
    sq_select *sel;
} sq_cte;

struct sq_select {
    int recursive;
    int ncte;
    sq_cte *cte;
    int ncore;
    sq_core *core; /* in text order; the compound's ORDER BY and LIMIT are the last core's */
};

typedef struct sq_arena sq_arena;

typedef struct sq_view {
    const char *sql;
    lx_token *t; /* the statement's tokens, the last LX_EOF */
    size_t nt;
    char *name;        /* dequoted */
    char *schema_name; /* if written, dequoted; else NULL */
    int temp, if_not_exists;
    int name_tok;   /* token index of the view's name */
    int schema_tok; /* of its schema, or -1 */
    int ncols;      /* ( columns ) */
    int *cols;
    sq_select *sel;
    size_t text_end; /* where the text SQLite stores ends (a ';' or the end, spaces trimmed) */
    int nvars;       /* parameters in the SELECT */
    sq_arena *arena;
} sq_view;

/**
 * Parse "CREATE [TEMP] VIEW [IF NOT EXISTS] [schema.]name [(columns)] AS
 * select" followed by optional semicolons. Returns 0, or -1 with SQLite's
 * message in err ("near \"x\": syntax error", "incomplete input", ...);
 * out is then empty (sq_view_free on it is harmless). A SELECT that holds
 * parameters parses (nvars counts them): CREATE VIEW refuses them itself.
 */
int sq_parse_view(sq_view *out, const char *sql, char *err, size_t errlen);
void sq_view_free(sq_view *v);

/** Whether a FROM term (or the table of "x IN t") is qualified with a
 * schema other than main, which a view in main may not name (SQLite's "view
 * v cannot reference objects in database x"): 1 and the first such schema,
 * dequoted, in buf, in the order SQLite finds them; else 0. */
int sq_view_foreign_schema(const sq_view *v, char *buf, size_t cap);

/** The text of SQLite's sqlite3SelectOpName for a compound operator. */
const char *sq_compound_name(int op);

#endif
