/*
 * expr_int.h - what the files of src/expr share: the compiled form of an
 * expression, the evaluation context, and SQLite's value conversions.
 *
 * A program is a flat array of nodes. A node names its operands by index
 * (a, b, c, or a list chained through `next`); the root is the last node
 * built. Constants' bytes live in the program's byte pool. Evaluation walks
 * the tree recursively (the tree is at most EX_MAX_DEPTH deep, so the C stack
 * is bounded) and takes temporary memory only from the context's scratch.
 */
#ifndef FOLIO_EXPR_INT_H
#define FOLIO_EXPR_INT_H

#include <stddef.h>
#include <stdint.h>

#include "expr/expr.h"
#include "expr/expr_fn.h"

/* Node operators. */
enum {
    EXO_NULL,    /* NULL literal */
    EXO_INT,     /* u.i */
    EXO_REAL,    /* u.r */
    EXO_TEXT,    /* u.s in the byte pool; sub: its subtype (a folded JSON result) */
    EXO_BLOB,    /* u.s in the byte pool */
    EXO_COLUMN,  /* u.col; slot in `sub` is not used: slot = u.col */
    EXO_ROWID,   /* the rowid (or its alias column) */
    EXO_NEG,     /* 0 - a (SQLite's unary minus of anything but a literal) */
    EXO_UPLUS,   /* a, as it is (drops affinity, keeps collation) */
    EXO_BITNOT,  /* ~a */
    EXO_NOT,     /* NOT a */
    EXO_COLLATE, /* a, with collation `coll` */
    EXO_ADD,     /* a + b ... */
    EXO_SUB,
    EXO_MUL,
    EXO_DIV,
    EXO_REM,
    EXO_CONCAT,
    EXO_BITAND,
    EXO_BITOR,
    EXO_LSHIFT,
    EXO_RSHIFT,
    EXO_AND,
    EXO_OR,
    EXO_CMP,      /* a <sub> b with affinity `aff` and collation `coll` */
    EXO_ISNULL,   /* a IS NULL */
    EXO_NOTNULL,  /* a IS NOT NULL */
    EXO_TRUTH,    /* a IS [NOT] TRUE/FALSE: sub = EXT_* */
    EXO_BETWEEN,  /* a BETWEEN b AND c: aff/coll for (a,b), aff2/coll2 for (a,c) */
    EXO_IN,       /* a IN (list): aff, coll; sub = 1 when the list is evaluated first */
    EXO_CAST,     /* CAST(a AS type): aff = SCH_AFF_* */
    EXO_CASE,     /* CASE [a] WHEN/THEN pairs in list [ELSE b] */
    EXO_FUNC,     /* u.fn(list); coll = collation for min/max/nullif */
    EXO_COALESCE, /* first non-NULL of list (coalesce, ifnull): evaluated lazily */
    EXO_IIF,      /* iif(x, y, z): list of three */
    EXO_SUBQ,     /* a subquery: sub = EXQ_*, u.i = its index in prog->subqs; a = the
                     left operand of IN, b = the result, c = WHERE, list = its EXO_PART
                     nodes (more results, ORDER BY terms, LIMIT, OFFSET) */
    EXO_PART,     /* a part of a subquery: sub = EXP_PART_*, a = its expression; an
                     ORDER BY term's flags (EXOB_*) in aff, and aff2 = 1 for a term
                     that is never evaluated (SQLite's scan order satisfies it) */
    EXO_AGG,      /* an aggregate call: sub = EXAG_*, list = arguments, x = the subquery
                     that owns it, y = its accumulator in that subquery's run, u.s = its
                     name as written */
    EXO_RAISE,    /* RAISE(): sub = EX_RAISE_*, u.s = the message */
    EXO_ALIAS     /* a result column named by its alias in WHERE or ORDER BY: a (shared
                     with the result), with its affinity and collation */
};

/* Subquery kinds (EXO_SUBQ's sub). */
enum { EXQ_SCALAR, EXQ_EXISTS, EXQ_IN };

/* Parts of a subquery (EXO_PART's sub). */
enum {
    EXP_PART_LIMIT,
    EXP_PART_OFFSET,
    EXP_PART_RESULT,
    EXP_PART_WHERE,
    EXP_PART_ORDER,
    EXP_PART_ORDER_CHECK, /* no expression: the errors of ORDER BY terms out of range,
                             which SQLite finds after all terms are resolved */
    EXP_PART_LEFT         /* the left operand of IN */
};

/* ORDER BY term flags (EXO_PART's aff). */
enum { EXOB_DESC = 1, EXOB_NULLS_FIRST = 2, EXOB_NULLS_LAST = 4 };

/* Aggregates (EXO_AGG's sub). */
enum {
    EXAG_COUNT_STAR,
    EXAG_COUNT,
    EXAG_SUM,
    EXAG_TOTAL,
    EXAG_AVG,
    EXAG_MIN,
    EXAG_MAX,
    EXAG_GROUP_CONCAT
};

/* A column's level (ex_node.x of EXO_COLUMN and EXO_ROWID): 0 the scope's
 * table, k >= 1 the table of a subquery nested k deep, or one of these. */
enum { EXL_LEVEL_TRIGGER = -1 /* a qualified_only source */, EXL_LEVEL_OUTER = -2 };

/* Comparison operators of EXO_CMP (sub). */
enum { EXC_EQ, EXC_NE, EXC_LT, EXC_LE, EXC_GT, EXC_GE, EXC_IS, EXC_ISNOT };

/* EXO_TRUTH (sub): bit 0 set for IS NOT, bit 1 set when the constant is TRUE. */
enum { EXT_NOT = 1, EXT_TRUE = 2 };

/* Affinities inside the evaluator: SCH_AFF_* or EXA_NONE. */
#define EXA_NONE 255
/* "no collation" */
#define EXL_NONE 255

typedef struct ex_node {
    uint8_t op;               /* EXO_* */
    uint8_t sub;              /* EXC_*, EXT_*, flags of the operator */
    uint8_t aff;              /* comparison affinity (EXO_CMP/IN/BETWEEN), CAST's target */
    uint8_t coll;             /* comparison collation (SCH_COLL_*) or EXL_NONE */
    uint8_t aff2, coll2;      /* EXO_BETWEEN's second comparison */
    uint8_t eaff;             /* the node's own affinity as an operand (EXA_NONE or SCH_AFF_*) */
    uint8_t ecoll;            /* sqlite3ExprCollSeq of the node (EXL_NONE or SCH_COLL_*) */
    uint8_t has_collate;      /* SQLite's EP_Collate: an explicit COLLATE below */
    uint8_t constant;         /* no column, rowid or non-deterministic function below */
    uint8_t is_truefalse;     /* the literal TRUE or FALSE (the value is u.i) */
    uint8_t is_int_literal;   /* an integer literal as written (SQLite's EP_IsFalse/IsTrue) */
    uint8_t is_float_literal; /* a real literal as written (likelihood's argument) */
    uint8_t is_neg_literal;   /* an integer literal after a minus (SQLite's TK_UMINUS of one) */
    uint8_t right_first;      /* x IS y with y a bare name: SQLite resolves y first */
    uint8_t pconst;           /* constant to SQLite's parser: no name, no function */
    int32_t a, b, c;          /* operands, -1 when absent */
    int32_t list;             /* first list item (function arguments, IN items, CASE pairs) */
    int32_t next;             /* next item in the list this node is in, -1 at the end */
    int32_t nlist;            /* number of list items */
    uint32_t pos;             /* byte offset of the node's first token in the text */
    int32_t height;           /* SQLite's expression height */
    int32_t x;                /* EXO_COLUMN/EXO_ROWID: the level (EXL_LEVEL_*, depth);
                                 EXO_AGG: the owning subquery */
    int32_t y;                /* EXO_AGG: its accumulator */
    union {
        int64_t i;
        double r;
        struct {
            uint32_t off, n;
        } s;
        const ex_fn_def *fn;
        int col;
    } u;
} ex_node;

/* A subquery of a program (EXO_SUBQ). */
typedef struct ex_subq {
    int node;       /* its EXO_SUBQ node */
    uint8_t kind;   /* EXQ_* */
    uint8_t is_agg; /* an aggregate query: one row, whatever the table holds */
    uint8_t correlated;
    int minmax_last;           /* bare columns come from the row the last min()/max() (this
                                  accumulator) chose, as SQLite's; -1: from the first row */
    int depth;                 /* 1 for a subquery of the expression, 2 for one inside it ... */
    int base, ncols;           /* its table's slots; base -1: no FROM */
    uint32_t name_off, name_n; /* the FROM table as written, in bytes */
    int result;                /* the result node (-1: none evaluated, as for EXISTS) */
    int left;                  /* IN's left operand */
    int where;                 /* -1: none */
    int limit, offset;         /* expression nodes or -1 */
    int ord_first, nord;       /* in idx: its ORDER BY terms (EXO_PART nodes) */
    int agg_first, nagg;       /* in idx: the EXO_AGG nodes it owns, in SQLite's order */
    int nstate;                /* their accumulators (an aggregate written twice has one) */
    int bare_first, nbare;     /* in idx: its slots read after the scan (bare columns) */
} ex_subq;

struct ex_prog {
    ex_node *nodes;
    int nnodes;
    int root;
    uint8_t *bytes; /* constants' text and blob bytes */
    size_t nbytes;
    unsigned flags; /* EX_CHECK .. EX_FILTER */
    int *cols;      /* distinct columns read, increasing */
    int ncols;
    int ncols_table; /* the scope's column count (the column cache's size) */
    int uses_rowid;
    int is_volatile;
    int max_args;   /* largest argument list of a function call */
    int top_coll;   /* SCH_COLL_* of a COLLATE at the top of the expression as
                       parsed (before folding), else -1 */
    int nslots;     /* flat slots: the column cache's size */
    ex_subq *subqs; /* subqueries, in the order of their slot blocks */
    int nsubq;
    ex_subquery *pub; /* what ex_prog_subqueries shows of them */
    int *idx;         /* the index lists of subqs */
    /* A shape ex_eval answers without walking the tree, for the values it
     * takes (others go the general way): EXF_CMP, a column (or the rowid,
     * fast_col -1) compared with an integer literal under numeric affinity,
     * answered for INTEGER values; EXF_LIKE_PREFIX, a column LIKE a
     * pattern of ASCII characters and one trailing '%', answered for TEXT. */
    int fast;
    int fast_col;
    int fast_cmp; /* EXC_*, as seen from the column's side */
    int64_t fast_i;
    const uint8_t *fast_prefix; /* in bytes */
    uint32_t fast_n;
};

enum { EXF_NONE, EXF_CMP, EXF_LIKE_PREFIX };

/* Scratch memory: chunks kept across evaluations, merged into one when an
 * evaluation needed more than the first, so that a warm context allocates
 * nothing. */
typedef struct ex_chunk {
    struct ex_chunk *next;
    size_t size, used;
    /* data follows, aligned to max_align_t */
} ex_chunk;

struct ex_ctx {
    ex_chunk *chunks; /* first chunk; later ones after it */
    ex_chunk *cur;
    size_t total; /* sum of the chunk sizes */
    int nchunks;
    const ex_prog *prog;
    const ex_row *row;
    /* Column cache of one evaluation: values and the generation that filled them. */
    ex_value *colval;
    uint32_t *colgen;
    int colcap;
    uint32_t gen;
    int64_t now_ms;
    int now_set;
    uint64_t prng;        /* random(): xorshift state */
    const char *fn_name;  /* the function being called, for messages */
    unsigned fn_flags;    /* and its EX_FN_* flags */
    int fn_coll;          /* its collation (min, max, nullif) */
    uint64_t max_length;  /* SQLite's SQLITE_LIMIT_LENGTH (ex_ctx_set_max_length) */
    int limit_hit;        /* a value would have passed max_length (printf gives NULL then) */
    int raised;           /* EX_RAISE_* of the last evaluation */
    struct ex_run **runs; /* each subquery's run under way (in scratch), or NULL */
    /* Values kept across the rows of a subquery's scan (min(), max(),
     * group_concat(), ORDER BY's best rows, bare columns): records on a stack
     * that each run pushes and pops; a record keeps its memory when popped,
     * so a warm context allocates nothing. */
    struct ex_keep *keeps;
    int nkeeps, keeptop;
    /* Values of subqueries that are not correlated, kept for the statement
     * (ex_ctx_statement; epoch 0: none is kept). */
    struct ex_once *once;
    int nonce, oncecap;
    uint32_t epoch;
    char errmsg[1024];
};

/* A kept record: nv values whose bytes are copies in buf. */
typedef struct ex_keep {
    ex_value *v;
    int nv, vcap;
    uint8_t *buf;
    size_t cap, used;
} ex_keep;

/* A subquery's value kept for the statement: a scalar's or EXISTS's value,
 * or the values of IN's set (whose result depends on the left operand). */
typedef struct ex_once {
    const ex_prog *prog;
    int subq;
    uint32_t epoch;
    ex_keep rec;
} ex_once;

/* A position of the scratch memory, to give back what came after it. */
typedef struct ex_mark {
    ex_chunk *c;
    size_t used;
} ex_mark;

/* The longest TEXT or BLOB an evaluation on cx may make. */
static inline uint64_t ex_max_length(const ex_ctx *cx)
{
    return cx->max_length;
}

/* ---- Values (expr_value.c): SQLite's conversions ---------------------------- */

/** SQLite's sqlite3AtoF over p[0..n): the prefix value in *out and 1 (an
 * integer), 2+ (a real), 0 (not a number) or -1 (a real with text after). */
int exv_atof(const uint8_t *p, size_t n, double *out);
/** SQLite's sqlite3Atoi64: 0 exact, 1 text after the digits, 2 overflow,
 * 3 exactly 9223372036854775808, -1 no digits; *out saturated. */
int exv_atoi64(const uint8_t *p, size_t n, int64_t *out);
/** Text or blob to a number as arithmetic does (SQLite's numericType):
 * sets *v to INTEGER or REAL. */
void exv_numeric(ex_value *v);
/** Numbers of text for comparisons (applyNumericAffinity): well-formed
 * numeric text becomes INTEGER or REAL, else *v is unchanged. */
void exv_apply_numeric(ex_value *v);
/** Apply affinity `aff` (SCH_AFF_*) as sqlite3VdbeMemCast does for CAST. */
int exv_cast(ex_ctx *cx, ex_value *v, int aff);
/** sqlite3VdbeRealValue, sqlite3VdbeIntValue. */
double exv_real(const ex_value *v);
int64_t exv_int(const ex_value *v);
/** A double to int64 with saturation (SQLite's doubleToInt64). */
int64_t exv_real_to_int(double r);
/** Make v TEXT (numbers rendered as SQLite does: "%lld", "%!.15g"); blobs
 * become text of the same bytes. NULL stays NULL. */
int exv_to_text(ex_ctx *cx, ex_value *v);
/** Render a number as SQLite does into buf (>= 32 bytes); returns length. */
size_t exv_number_text(const ex_value *v, char *buf, size_t cap);
/** sqlite3MemCompare: storage-class order, numbers exactly, text by `coll`
 * (SCH_COLL_* or EXL_NONE for BINARY), blobs by memcmp. */
int exv_compare(const ex_value *a, const ex_value *b, int coll);
/** Boolean value (sqlite3VdbeBooleanValue) of a non-NULL value. */
int exv_bool(const ex_value *v);
/** Set *v to a REAL, or NULL when r is NaN (sqlite3_result_double). */
void exv_set_real(ex_value *v, double r);
/** Set *v to TEXT or BLOB bytes. */
void exv_set_text(ex_value *v, const void *p, size_t n);
void exv_set_blob(ex_value *v, const void *p, size_t n);
void exv_set_int(ex_value *v, int64_t i);
void exv_set_null(ex_value *v);

/** Read one UTF-8 character as SQLite's sqlite3Utf8Read does (over p[0..n),
 * stopping at n); advances *i. */
uint32_t exv_utf8_read(const uint8_t *p, size_t n, size_t *i);

/** The error "string or blob too big". */
int exv_toobig(ex_ctx *cx);

/* ---- Evaluation (expr_eval.c) --------------------------------------------- */

/** The collating sequence of the function call under way (min, max, nullif). */
int ex_fn_collation(const ex_ctx *cx);
/** Start an evaluation: empty scratch, no message (expr_ctx.c). */
int ex_ctx_begin(ex_ctx *cx);
/** 64 random bits from the context's generator (random(), randomblob()). */
uint64_t ex_random64(ex_ctx *cx);
/** Evaluate node k of p, which reads no column (constant folding). */
int ex_eval_node(const ex_prog *p, ex_ctx *cx, int k, ex_value *out);
/** Node k's value, within an evaluation under way (expr_subq.c). */
int ex_eval_at(const ex_prog *p, ex_ctx *cx, int k, ex_value *out);
/** Node k as a condition: *jump as SQLite's sqlite3ExprIfTrue/IfFalse. */
int ex_jumps(const ex_prog *p, ex_ctx *cx, int k, int if_true, int if_null, int *jump);
/** Compare two non-NULL values as a comparison with affinity aff (EXA_NONE
 * or SCH_AFF_*) and collation coll does; *res as exv_compare. */
int ex_compare_values(ex_ctx *cx, ex_value a, ex_value b, uint8_t aff, uint8_t coll, int *res);
/** A column slot's value, through the evaluation's cache. */
int ex_column_value(ex_ctx *cx, int col, ex_value *out);

/* ---- Scratch and kept values (expr_ctx.c) ---------------------------------- */

/** Where the scratch memory is now; ex_scratch_release gives back what was
 * taken after it (a row of a scan marks and releases, so that a long scan
 * needs no more scratch than its largest row). */
ex_mark ex_scratch_mark(const ex_ctx *cx);
void ex_scratch_release(ex_ctx *cx, ex_mark m);
/** n records on top of the kept stack (first index in *first), emptied. */
int ex_keep_push(ex_ctx *cx, int n, int *first);
/** Pop back to `first`. */
void ex_keep_pop(ex_ctx *cx, int first);
/** Record k holds copies of vals[0..n). */
int ex_keep_set(ex_ctx *cx, int k, const ex_value *vals, int n);
/** Append bytes to record k's buffer (its values are not kept then). */
int ex_keep_append(ex_ctx *cx, int k, const void *p, size_t n);
/** Append a copy of *v to record k's values (bytes and all). */
int ex_keep_add(ex_ctx *cx, ex_keep *k, const ex_value *v);
/** A record outside the stack holds copies of vals[0..n). */
int ex_keep_fill(ex_ctx *cx, ex_keep *k, const ex_value *vals, int n);
/** The statement's kept value of subquery `subq` of p: *out (0: none yet);
 * with create, a new empty one when there is none. */
int ex_once_find(ex_ctx *cx, const ex_prog *p, int subq, int create, ex_once **out);

/* ---- Subqueries (expr_subq.c) ----------------------------------------------- */

/** The value of an EXO_SUBQ node. */
int exs_eval(const ex_prog *p, ex_ctx *cx, const ex_node *n, ex_value *out);
/** The value of an EXO_AGG node (its owner's scan is done). */
int exs_agg_value(const ex_prog *p, ex_ctx *cx, const ex_node *n, ex_value *out);
/** Start the subqueries of an evaluation (their run table, in scratch). */
int exs_begin(const ex_prog *p, ex_ctx *cx);

/* ---- printf (expr_printf.c) ------------------------------------------------ */

/** SQLite's printf() over argv (argv[0] the format). */
int ex_printf(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out);
/** SQLite's "%!.15g" rendering of r (what sch_real_to_text does). */
size_t ex_real_text(double r, char *buf, size_t cap);

#endif
