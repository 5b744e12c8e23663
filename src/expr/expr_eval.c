/*
 * expr_eval.c - evaluating a compiled expression over one row, with SQLite
 * 3.40's semantics (its vdbe.c opcodes, restated):
 *
 *   + - * /   both INTEGER: integer arithmetic, overflow goes to REAL; else
 *             text and blobs become numbers (a numeric prefix, 0 if none),
 *             REAL arithmetic; NULL gives NULL; dividing by zero gives NULL,
 *             and so does a NaN result.
 *   %         integers: remainder (by 0: NULL; by -1: 0); with a REAL
 *             operand both sides are truncated to integers and the result
 *             is that remainder as a REAL.
 *   unary -   0 - x (a literal is negated in place by the parser).
 *   & | << >> ~   on integers (text and reals converted, saturating); shifts
 *             by 64 or more give 0 (or -1 for a negative number shifted
 *             right); a negative count shifts the other way.
 *   ||        both sides as text ("%!.15g" for reals); NULL gives NULL.
 *   comparisons  affinity chosen at compile time converts the operands
 *             (numeric: text that looks like a number; text: numbers),
 *             then NULL < numbers < text (by collation) < blobs; NULL
 *             operands give NULL except for IS / IS NOT.
 *   AND OR NOT   three-valued; in a value both sides are evaluated; a
 *             condition (CASE WHEN, iif, the top of a CHECK or WHERE) is
 *             evaluated as SQLite's jumps (sqlite3ExprIfTrue/IfFalse): AND,
 *             OR, NOT, BETWEEN and IS TRUE stop once the jump is decided,
 *             after SQLite's simplification of "x OR 1" and "x AND 0".
 *   IN        the left operand's affinity and collation for every item;
 *             TRUE on a match, else NULL if the left side or an item is NULL.
 *
 * Temporary memory comes from the context's scratch only; the tree is at
 * most EX_MAX_DEPTH deep, which bounds the recursion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_int.h"
#include "folio.h"

static int eval(const ex_prog *p, ex_ctx *cx, int k, ex_value *out);
static int jumps(const ex_prog *p, ex_ctx *cx, int k, int if_true, int if_null, int *jump);

int ex_truth(const ex_value *v)
{
    if (v->type == EX_NULL)
        return -1;
    return exv_bool(v);
}

/* ---- Columns ------------------------------------------------------------------ */

int ex_column_value(ex_ctx *cx, int col, ex_value *out)
{
    if (col < cx->colcap && cx->colgen[col] == cx->gen) {
        *out = cx->colval[col];
        return 0;
    }
    const ex_row *row = cx->row;
    if (!row || !row->column) {
        ex_error(cx, "no row to read column %d from", col);
        return FOLIO_MISUSE;
    }
    memset(out, 0, sizeof *out);
    int rc = row->column(row->arg, col, out);
    if (rc) {
        if (!cx->errmsg[0])
            ex_error(cx, "cannot read column %d", col);
        return rc;
    }
    out->subtype = EX_SUBTYPE_NONE;
    if (col < cx->colcap) {
        cx->colval[col] = *out;
        cx->colgen[col] = cx->gen;
    }
    return 0;
}

/* ---- Arithmetic ------------------------------------------------------------------ */

static int int_math(int op, int64_t l, int64_t r, int64_t *out)
{
    switch (op) {
    case EXO_ADD:
        return __builtin_add_overflow(l, r, out);
    case EXO_SUB:
        return __builtin_sub_overflow(l, r, out);
    case EXO_MUL:
        return __builtin_mul_overflow(l, r, out);
    case EXO_DIV:
        if (r == -1 && l == INT64_MIN)
            return 1;
        *out = l / r;
        return 0;
    default:
        *out = l % (r == -1 ? 1 : r);
        return 0;
    }
}

/* l <op> r for + - * / %, on values that are not NULL. */
static void arith(int op, const ex_value *l, const ex_value *r, ex_value *out)
{
    ex_value nl = *l, nr = *r;
    if (nl.type != EX_INTEGER || nr.type != EX_INTEGER) {
        exv_numeric(&nl);
        exv_numeric(&nr);
    }
    if (nl.type == EX_INTEGER && nr.type == EX_INTEGER) {
        if ((op == EXO_DIV || op == EXO_REM) && nr.u.i == 0) {
            exv_set_null(out);
            return;
        }
        int64_t v;
        if (!int_math(op, nl.u.i, nr.u.i, &v)) {
            exv_set_int(out, v);
            return;
        }
    }
    double a = exv_real(l), b = exv_real(r), v;
    switch (op) {
    case EXO_ADD:
        v = a + b;
        break;
    case EXO_SUB:
        v = a - b;
        break;
    case EXO_MUL:
        v = a * b;
        break;
    case EXO_DIV:
        if (b == 0.0) {
            exv_set_null(out);
            return;
        }
        v = a / b;
        break;
    default: {
        int64_t ia = exv_int(l), ib = exv_int(r);
        if (ib == 0) {
            exv_set_null(out);
            return;
        }
        if (ib == -1)
            ib = 1;
        v = (double)(ia % ib);
        break;
    }
    }
    exv_set_real(out, v);
}

static int64_t shift(int64_t a, int64_t b, int left)
{
    if (b == 0)
        return a;
    if (b < 0) {
        left = !left;
        b = b > -64 ? -b : 64;
    }
    if (b >= 64)
        return (a >= 0 || left) ? 0 : -1;
    uint64_t u;
    memcpy(&u, &a, sizeof u);
    if (left) {
        u <<= b;
    } else {
        u >>= b;
        if (a < 0)
            u |= ~(uint64_t)0 << (64 - b);
    }
    memcpy(&a, &u, sizeof a);
    return a;
}

static int concat(ex_ctx *cx, ex_value *l, ex_value *r, ex_value *out)
{
    int rc = exv_to_text(cx, l);
    if (!rc)
        rc = exv_to_text(cx, r);
    if (rc)
        return rc;
    uint64_t n = l->u.s.n + r->u.s.n;
    if (n > ex_max_length(cx))
        return exv_toobig(cx);
    uint8_t *p = ex_scratch(cx, (size_t)n + 1);
    if (!p)
        return ex_nomem(cx);
    if (l->u.s.n)
        memcpy(p, l->u.s.p, (size_t)l->u.s.n);
    if (r->u.s.n)
        memcpy(p + l->u.s.n, r->u.s.p, (size_t)r->u.s.n);
    p[n] = 0;
    exv_set_text(out, p, (size_t)n);
    return 0;
}

static int binary(const ex_prog *p, ex_ctx *cx, const ex_node *n, ex_value *out)
{
    ex_value l, r;
    int rc = eval(p, cx, n->a, &l);
    if (!rc)
        rc = eval(p, cx, n->b, &r);
    if (rc)
        return rc;
    if (l.type == EX_NULL || r.type == EX_NULL) {
        exv_set_null(out);
        return 0;
    }
    switch (n->op) {
    case EXO_CONCAT:
        return concat(cx, &l, &r, out);
    case EXO_BITAND:
        exv_set_int(out, exv_int(&l) & exv_int(&r));
        return 0;
    case EXO_BITOR:
        exv_set_int(out, exv_int(&l) | exv_int(&r));
        return 0;
    case EXO_LSHIFT:
    case EXO_RSHIFT:
        exv_set_int(out, shift(exv_int(&l), exv_int(&r), n->op == EXO_LSHIFT));
        return 0;
    default:
        arith(n->op, &l, &r, out);
        return 0;
    }
}

/* ---- Comparisons ------------------------------------------------------------------- */

/* The operands as a comparison with affinity `aff` sees them. */
static int apply_compare_affinity(ex_ctx *cx, ex_value *a, ex_value *b, uint8_t aff)
{
    if (aff == EXA_NONE || aff == SCH_AFF_BLOB)
        return 0;
    if (aff >= SCH_AFF_NUMERIC) {
        exv_apply_numeric(a);
        exv_apply_numeric(b);
        return 0;
    }
    if (a->type != EX_TEXT && b->type != EX_TEXT)
        return 0;
    int rc = 0;
    if (a->type == EX_INTEGER || a->type == EX_REAL)
        rc = exv_to_text(cx, a);
    if (!rc && (b->type == EX_INTEGER || b->type == EX_REAL))
        rc = exv_to_text(cx, b);
    return rc;
}

/* Compare two non-NULL values (copies: affinity may change them). */
static int compare(ex_ctx *cx, ex_value a, ex_value b, uint8_t aff, uint8_t coll, int *res)
{
    int rc = apply_compare_affinity(cx, &a, &b, aff);
    if (rc)
        return rc;
    *res = exv_compare(&a, &b, coll);
    return 0;
}

int ex_compare_values(ex_ctx *cx, ex_value a, ex_value b, uint8_t aff, uint8_t coll, int *res)
{
    return compare(cx, a, b, aff, coll, res);
}

/* l <cmp> r: 1, 0 or -1 for NULL. */
static int comparison(ex_ctx *cx, int cmp, const ex_value *l, const ex_value *r, uint8_t aff,
                      uint8_t coll, int *truth)
{
    if (l->type == EX_NULL || r->type == EX_NULL) {
        if (cmp == EXC_IS || cmp == EXC_ISNOT) {
            int same = l->type == EX_NULL && r->type == EX_NULL;
            *truth = cmp == EXC_IS ? same : !same;
        } else {
            *truth = -1;
        }
        return 0;
    }
    int res;
    int rc = compare(cx, *l, *r, aff, coll, &res);
    if (rc)
        return rc;
    switch (cmp) {
    case EXC_EQ:
    case EXC_IS:
        *truth = res == 0;
        break;
    case EXC_NE:
    case EXC_ISNOT:
        *truth = res != 0;
        break;
    case EXC_LT:
        *truth = res < 0;
        break;
    case EXC_LE:
        *truth = res <= 0;
        break;
    case EXC_GT:
        *truth = res > 0;
        break;
    default:
        *truth = res >= 0;
        break;
    }
    return 0;
}

static void set_truth(ex_value *out, int truth)
{
    if (truth < 0)
        exv_set_null(out);
    else
        exv_set_int(out, truth);
}

/* Three-valued AND / OR of two truths. */
static int and3(int a, int b)
{
    if (a == 0 || b == 0)
        return 0;
    return (a < 0 || b < 0) ? -1 : 1;
}

static int or3(int a, int b)
{
    if (a == 1 || b == 1)
        return 1;
    return (a < 0 || b < 0) ? -1 : 0;
}

/* BETWEEN in a value: x >= lo AND x <= hi, x evaluated once, both sides. */
static int between(const ex_prog *p, ex_ctx *cx, const ex_node *n, int *truth)
{
    ex_value x, lo, hi;
    int t1, t2, rc = eval(p, cx, n->a, &x);
    if (!rc)
        rc = eval(p, cx, n->b, &lo);
    if (!rc)
        rc = comparison(cx, EXC_GE, &x, &lo, n->aff, n->coll, &t1);
    if (!rc)
        rc = eval(p, cx, n->c, &hi);
    if (!rc)
        rc = comparison(cx, EXC_LE, &x, &hi, n->aff2, n->coll2, &t2);
    if (rc)
        return rc;
    *truth = and3(t1, t2);
    return 0;
}

static int in_list(const ex_prog *p, ex_ctx *cx, const ex_node *n, int *truth)
{
    ex_value x, item;
    int rc, has_null = 0;
    ex_value *items = NULL;
    if (n->sub) {
        /* A constant list is evaluated whole, before the left operand. */
        items = (ex_value *)ex_scratch(cx, (size_t)n->nlist * sizeof *items);
        if (!items)
            return ex_nomem(cx);
        int j = 0;
        for (int e = n->list; e >= 0; e = p->nodes[e].next, j++)
            if ((rc = eval(p, cx, e, &items[j])) != 0)
                return rc;
    }
    if ((rc = eval(p, cx, n->a, &x)) != 0)
        return rc;
    int j = 0;
    for (int e = n->list; e >= 0; e = p->nodes[e].next, j++) {
        if (items)
            item = items[j];
        else if ((rc = eval(p, cx, e, &item)) != 0)
            return rc;
        if (item.type == EX_NULL) {
            has_null = 1;
            continue;
        }
        if (x.type == EX_NULL)
            continue;
        int res;
        if ((rc = compare(cx, x, item, n->aff, n->coll, &res)) != 0)
            return rc;
        if (res == 0) {
            *truth = 1;
            return 0;
        }
    }
    *truth = (x.type == EX_NULL || has_null) ? -1 : 0;
    return 0;
}

/* ---- CASE and friends -------------------------------------------------------------------- */

static int eval_case(const ex_prog *p, ex_ctx *cx, const ex_node *n, ex_value *out)
{
    ex_value base;
    int rc;
    if (n->a >= 0 && (rc = eval(p, cx, n->a, &base)) != 0)
        return rc;
    int e = n->list;
    int npairs = n->nlist / 2;
    for (int j = 0; j < npairs; j++) {
        const ex_node *w = &p->nodes[e];
        int then = w->next, truth;
        if (n->a >= 0) {
            ex_value v;
            if ((rc = eval(p, cx, w->b, &v)) != 0)
                return rc;
            if ((rc = comparison(cx, EXC_EQ, &base, &v, w->aff, w->coll, &truth)) != 0)
                return rc;
        } else {
            /* SQLite jumps past the branch when the WHEN is false or NULL. */
            int skip;
            if ((rc = jumps(p, cx, e, 0, 1, &skip)) != 0)
                return rc;
            truth = !skip;
        }
        if (truth == 1)
            return eval(p, cx, then, out);
        e = p->nodes[then].next;
    }
    if (n->sub)
        return eval(p, cx, e, out);
    exv_set_null(out);
    return 0;
}

static int eval_call(const ex_prog *p, ex_ctx *cx, const ex_node *n, ex_value *out)
{
    ex_value *argv = (ex_value *)ex_scratch(cx, (size_t)(n->nlist ? n->nlist : 1) * sizeof *argv);
    if (!argv)
        return ex_nomem(cx);
    int j = 0, rc;
    for (int e = n->list; e >= 0; e = p->nodes[e].next, j++)
        if ((rc = eval(p, cx, e, &argv[j])) != 0)
            return rc;
    cx->fn_name = n->u.fn->name;
    cx->fn_flags = n->u.fn->flags;
    cx->fn_coll = n->coll == EXL_NONE ? SCH_COLL_BINARY : n->coll;
    exv_set_null(out);
    rc = n->u.fn->fn(cx, n->nlist, argv, out);
    cx->fn_name = NULL;
    return rc;
}

static int eval_coalesce(const ex_prog *p, ex_ctx *cx, const ex_node *n, ex_value *out)
{
    for (int e = n->list; e >= 0; e = p->nodes[e].next) {
        int rc = eval(p, cx, e, out);
        if (rc || out->type != EX_NULL)
            return rc;
    }
    exv_set_null(out);
    return 0;
}

static int eval_iif(const ex_prog *p, ex_ctx *cx, const ex_node *n, ex_value *out)
{
    int skip, x = n->list, y = p->nodes[x].next, z = p->nodes[y].next;
    int rc = jumps(p, cx, x, 0, 1, &skip); /* iif is a CASE to SQLite */
    if (rc)
        return rc;
    return eval(p, cx, skip ? z : y, out);
}

/* ---- The tree ------------------------------------------------------------------------------ */

static int eval_unary(const ex_prog *p, ex_ctx *cx, const ex_node *n, ex_value *out)
{
    int rc = eval(p, cx, n->a, out);
    if (rc || out->type == EX_NULL)
        return rc;
    switch (n->op) {
    case EXO_NEG: {
        ex_value zero, v = *out;
        exv_set_int(&zero, 0);
        arith(EXO_SUB, &zero, &v, out);
        return 0;
    }
    case EXO_BITNOT:
        exv_set_int(out, ~exv_int(out));
        return 0;
    case EXO_NOT:
        exv_set_int(out, !exv_bool(out));
        return 0;
    case EXO_CAST:
        return exv_cast(cx, out, n->aff);
    default:
        return 0; /* COLLATE, unary + */
    }
}

static int eval(const ex_prog *p, ex_ctx *cx, int k, ex_value *out)
{
    const ex_node *n = &p->nodes[k];
    int rc, truth = -1;
    ex_value a, b;
    switch (n->op) {
    case EXO_NULL:
        exv_set_null(out);
        return 0;
    case EXO_INT:
        exv_set_int(out, n->u.i);
        return 0;
    case EXO_REAL:
        out->type = EX_REAL;
        out->subtype = EX_SUBTYPE_NONE;
        out->u.r = n->u.r;
        return 0;
    case EXO_TEXT:
        exv_set_text(out, p->bytes + n->u.s.off, n->u.s.n);
        out->subtype = n->sub;
        return 0;
    case EXO_BLOB:
        exv_set_blob(out, p->bytes + n->u.s.off, n->u.s.n);
        return 0;
    case EXO_COLUMN:
        return ex_column_value(cx, n->u.col, out);
    case EXO_ROWID:
        if (!cx->row) {
            ex_error(cx, "no row to read the rowid from");
            return FOLIO_MISUSE;
        }
        exv_set_int(out, cx->row->rowid);
        return 0;
    case EXO_NEG:
    case EXO_UPLUS:
    case EXO_BITNOT:
    case EXO_NOT:
    case EXO_COLLATE:
    case EXO_CAST:
        return eval_unary(p, cx, n, out);
    case EXO_ADD:
    case EXO_SUB:
    case EXO_MUL:
    case EXO_DIV:
    case EXO_REM:
    case EXO_CONCAT:
    case EXO_BITAND:
    case EXO_BITOR:
    case EXO_LSHIFT:
    case EXO_RSHIFT:
        return binary(p, cx, n, out);
    case EXO_AND:
    case EXO_OR: {
        int t1, t2;
        if ((rc = eval(p, cx, n->a, &a)) != 0 || (rc = eval(p, cx, n->b, &b)) != 0)
            return rc;
        t1 = ex_truth(&a);
        t2 = ex_truth(&b);
        set_truth(out, n->op == EXO_AND ? and3(t1, t2) : or3(t1, t2));
        return 0;
    }
    case EXO_CMP:
        if ((rc = eval(p, cx, n->a, &a)) != 0 || (rc = eval(p, cx, n->b, &b)) != 0)
            return rc;
        if ((rc = comparison(cx, n->sub, &a, &b, n->aff, n->coll, &truth)) != 0)
            return rc;
        set_truth(out, truth);
        return 0;
    case EXO_ISNULL:
    case EXO_NOTNULL:
        if ((rc = eval(p, cx, n->a, &a)) != 0)
            return rc;
        exv_set_int(out, (a.type == EX_NULL) == (n->op == EXO_ISNULL));
        return 0;
    case EXO_TRUTH: {
        if ((rc = eval(p, cx, n->a, &a)) != 0)
            return rc;
        int is_true = (n->sub & EXT_TRUE) != 0, is_not = (n->sub & EXT_NOT) != 0;
        int v = a.type == EX_NULL ? !is_true : exv_bool(&a);
        exv_set_int(out, v ^ (is_true ^ !is_not));
        return 0;
    }
    case EXO_BETWEEN:
        if ((rc = between(p, cx, n, &truth)) != 0)
            return rc;
        set_truth(out, truth);
        return 0;
    case EXO_IN:
        if ((rc = in_list(p, cx, n, &truth)) != 0)
            return rc;
        set_truth(out, truth);
        return 0;
    case EXO_CASE:
        return eval_case(p, cx, n, out);
    case EXO_FUNC:
        return eval_call(p, cx, n, out);
    case EXO_COALESCE:
        return eval_coalesce(p, cx, n, out);
    case EXO_IIF:
        return eval_iif(p, cx, n, out);
    case EXO_SUBQ:
        return exs_eval(p, cx, n, out);
    case EXO_AGG:
        return exs_agg_value(p, cx, n, out);
    case EXO_ALIAS:
    case EXO_PART:
        return eval(p, cx, n->a, out);
    case EXO_RAISE:
        /* The trigger program stops: the caller acts on the kind. */
        cx->raised = n->sub;
        snprintf(cx->errmsg, sizeof cx->errmsg, "%.*s", (int)n->u.s.n,
                 (const char *)p->bytes + n->u.s.off);
        return FOLIO_CONSTRAINT;
    default:
        return ex_error(cx, "unknown expression node %d", n->op);
    }
}

/*
 * Node k as a condition, the way SQLite compiles one into jumps
 * (sqlite3ExprIfTrue / sqlite3ExprIfFalse): *jump is 1 when k is true
 * (if_true) or false (!if_true), or NULL and if_null is set. AND, OR, NOT,
 * BETWEEN and IS [NOT] TRUE/FALSE stop as soon as the jump is decided, so
 * an operand that would fail may never be evaluated; everything else is
 * evaluated as a value.
 */
static int jump_of(int truth, int if_true, int if_null)
{
    if (truth < 0)
        return if_null;
    return if_true ? truth == 1 : truth == 0;
}

static int jumps_between(const ex_prog *p, ex_ctx *cx, const ex_node *n, int if_true, int if_null,
                         int *jump)
{
    ex_value x, lo, hi;
    int t1, t2, rc = eval(p, cx, n->a, &x);
    if (!rc)
        rc = eval(p, cx, n->b, &lo);
    if (!rc)
        rc = comparison(cx, EXC_GE, &x, &lo, n->aff, n->coll, &t1);
    if (rc)
        return rc;
    /* x >= lo AND x <= hi, as the AND below. */
    if (jump_of(t1, 0, if_true ? !if_null : if_null)) {
        *jump = !if_true;
        return 0;
    }
    rc = eval(p, cx, n->c, &hi);
    if (!rc)
        rc = comparison(cx, EXC_LE, &x, &hi, n->aff2, n->coll2, &t2);
    if (!rc)
        *jump = jump_of(t2, if_true, if_null);
    return rc;
}

/* SQLite's ExprAlwaysTrue / ExprAlwaysFalse: TRUE, FALSE, or an integer
 * literal that fits 32 bits (EP_IsTrue / EP_IsFalse). */
static int always(const ex_node *n, int truth)
{
    if (n->op != EXO_INT || !(n->is_int_literal || n->is_truefalse))
        return 0;
    if (!n->is_truefalse && (n->u.i < 0 || n->u.i > INT32_MAX))
        return 0;
    return (n->u.i != 0) == truth;
}

/* sqlite3ExprSimplifiedAndOr: "x AND TRUE" is x, "x OR TRUE" is TRUE, ...
 * (so that x is never evaluated in a condition). */
static int simplified(const ex_prog *p, int k)
{
    const ex_node *n = &p->nodes[k];
    if (n->op != EXO_AND && n->op != EXO_OR)
        return k;
    int r = simplified(p, n->b), l = simplified(p, n->a);
    int is_and = n->op == EXO_AND;
    if (always(&p->nodes[l], 1) || always(&p->nodes[r], 0))
        return is_and ? r : l;
    if (always(&p->nodes[r], 1) || always(&p->nodes[l], 0))
        return is_and ? l : r;
    return k;
}

static int jumps(const ex_prog *p, ex_ctx *cx, int k, int if_true, int if_null, int *jump)
{
    k = simplified(p, k);
    const ex_node *n = &p->nodes[k];
    int rc, j;
    switch (n->op) {
    case EXO_AND:
        /* The left side false (or NULL, when NULL would not jump) decides. */
        if ((rc = jumps(p, cx, n->a, 0, if_true ? !if_null : if_null, &j)) != 0)
            return rc;
        if (j) {
            *jump = !if_true;
            return 0;
        }
        return jumps(p, cx, n->b, if_true, if_null, jump);
    case EXO_OR:
        if ((rc = jumps(p, cx, n->a, 1, if_true ? if_null : !if_null, &j)) != 0)
            return rc;
        if (j) {
            *jump = if_true;
            return 0;
        }
        return jumps(p, cx, n->b, if_true, if_null, jump);
    case EXO_NOT:
        return jumps(p, cx, n->a, !if_true, if_null, jump);
    case EXO_BETWEEN:
        return jumps_between(p, cx, n, if_true, if_null, jump);
    case EXO_TRUTH: {
        /* x IS [NOT] TRUE/FALSE: a jump on x itself, NULL settled by IS NOT. */
        int is_not = (n->sub & EXT_NOT) != 0, is_true = (n->sub & EXT_TRUE) != 0;
        int null_jumps = if_true ? is_not : !is_not;
        return jumps(p, cx, n->a, (is_true ^ is_not) ? if_true : !if_true, null_jumps, jump);
    }
    default: {
        ex_value v;
        if ((rc = eval(p, cx, k, &v)) != 0)
            return rc;
        *jump = jump_of(ex_truth(&v), if_true, if_null);
        return 0;
    }
    }
}

/* The column cache, sized for the program's slots (the scope's table,
 * the sources, the subqueries' tables). */
static int prepare_columns(ex_ctx *cx, const ex_prog *p)
{
    if (p->ncols == 0 && p->nsubq == 0)
        return 0;
    if (cx->colcap < p->nslots) {
        ex_value *v = realloc(cx->colval, (size_t)p->nslots * sizeof *v);
        if (!v)
            return ex_nomem(cx);
        cx->colval = v;
        uint32_t *g = realloc(cx->colgen, (size_t)p->nslots * sizeof *g);
        if (!g)
            return ex_nomem(cx);
        memset(g + cx->colcap, 0, (size_t)(p->nslots - cx->colcap) * sizeof *g);
        cx->colgen = g;
        cx->colcap = p->nslots;
    }
    if (++cx->gen == 0) {
        memset(cx->colgen, 0, (size_t)cx->colcap * sizeof *cx->colgen);
        cx->gen = 1;
    }
    return 0;
}

int ex_eval_at(const ex_prog *p, ex_ctx *cx, int k, ex_value *out)
{
    return eval(p, cx, k, out);
}

int ex_jumps(const ex_prog *p, ex_ctx *cx, int k, int if_true, int if_null, int *jump)
{
    return jumps(p, cx, k, if_true, if_null, jump);
}

int ex_eval_node(const ex_prog *p, ex_ctx *cx, int k, ex_value *out)
{
    int rc = ex_ctx_begin(cx);
    exv_set_null(out);
    if (rc)
        return rc;
    cx->prog = p;
    cx->row = NULL;
    return eval(p, cx, k, out);
}

/* ex_prog.fast: 1 when answered (or an error), 0 for the general way. */
static int eval_fast(const ex_prog *p, ex_ctx *cx, const ex_row *row, ex_value *out, int *rc)
{
    ex_value v;
    if (p->fast_col < 0) {
        v.type = EX_INTEGER;
        v.u.i = row->rowid;
    } else if ((*rc = row->column(row->arg, p->fast_col, &v)) != 0) {
        snprintf(cx->errmsg, sizeof cx->errmsg, "cannot read a column");
        exv_set_null(out);
        return 1;
    }
    *rc = 0;
    cx->errmsg[0] = 0;
    cx->raised = EX_RAISE_NONE;
    if (v.type == EX_NULL) {
        exv_set_null(out);
        return 1;
    }
    if (p->fast == EXF_CMP) {
        if (v.type != EX_INTEGER)
            return 0;
        int64_t x = v.u.i, k = p->fast_i;
        int r;
        switch (p->fast_cmp) {
        case EXC_EQ:
            r = x == k;
            break;
        case EXC_NE:
            r = x != k;
            break;
        case EXC_LT:
            r = x < k;
            break;
        case EXC_LE:
            r = x <= k;
            break;
        case EXC_GT:
            r = x > k;
            break;
        default:
            r = x >= k;
            break;
        }
        exv_set_int(out, r);
        return 1;
    }
    if (v.type != EX_TEXT)
        return 0;
    int r = v.u.s.n >= p->fast_n;
    for (uint32_t i = 0; r && i < p->fast_n; i++) {
        uint8_t a = v.u.s.p[i], b = p->fast_prefix[i];
        if (a >= 'A' && a <= 'Z')
            a = (uint8_t)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (uint8_t)(b + 32);
        r = a == b;
    }
    exv_set_int(out, r);
    return 1;
}

int ex_eval(const ex_prog *p, ex_ctx *cx, const ex_row *row, ex_value *out)
{
    int rc;
    if (p->fast && row && eval_fast(p, cx, row, out, &rc))
        return rc;
    rc = ex_ctx_begin(cx);
    exv_set_null(out);
    if (rc)
        return rc;
    cx->prog = p;
    cx->row = row;
    cx->fn_name = NULL;
    if ((rc = prepare_columns(cx, p)) != 0)
        return rc;
    if (p->nsubq && (rc = exs_begin(p, cx)) != 0)
        return rc;
    const ex_node *root = &p->nodes[p->root];
    if ((p->flags & (EX_CHECK | EX_PARTIAL_WHERE | EX_FILTER | EX_CONDITION)) &&
        (root->op == EXO_AND || root->op == EXO_OR || root->op == EXO_NOT ||
         root->op == EXO_BETWEEN || root->op == EXO_TRUTH)) {
        /* A condition: the decision, with SQLite's jumps (a CHECK passes
         * unless false; a WHERE selects only when true). */
        int jump;
        if (p->flags & EX_CHECK) {
            rc = jumps(p, cx, p->root, 1, 1, &jump);
            if (!rc)
                exv_set_int(out, jump);
        } else {
            rc = jumps(p, cx, p->root, 0, 1, &jump);
            if (!rc)
                exv_set_int(out, !jump);
        }
    } else {
        rc = eval(p, cx, p->root, out);
    }
    if (rc)
        exv_set_null(out);
    cx->row = NULL;
    return rc;
}
