/*
 * expr_subq.c - evaluating subqueries and their aggregates, with SQLite
 * 3.40's semantics (select.c, expr.c's sqlite3CodeSubselect and
 * sqlite3ExprCodeIN, func.c's aggregates), restated:
 *
 *   LIMIT, OFFSET  computed before the table is read. A scalar subquery or
 *             EXISTS reads at most one row: LIMIT x becomes (x <> 0)
 *             compared under NUMERIC affinity. A LIMIT or OFFSET that is
 *             not an integer (after NUMERIC affinity; a real with no
 *             fraction is one) is "datatype mismatch"; LIMIT 0 reads
 *             nothing and leaves OFFSET unevaluated; a negative LIMIT has
 *             no limit, a negative OFFSET is 0.
 *   scalar    the first row's value (the first by ORDER BY when there is
 *             one, rows of equal keys in table order), NULL if none.
 *             Without ORDER BY, rows skipped by OFFSET are not evaluated;
 *             with one, every row's value and keys are.
 *   EXISTS    1 when a row remains after OFFSET; the result list is not
 *             evaluated, but an aggregate query's accumulators are (their
 *             errors count).
 *   IN        every row of the subquery is evaluated (SQLite builds the
 *             whole set before it looks), then the left operand, which
 *             is evaluated first here but whose error counts only if the
 *             set had none. Both sides take exprINAffinity (the compare
 *             affinity of the result and the left operand), the collation
 *             is sqlite3BinaryCompareCollSeq(left, result). A match is 1;
 *             else NULL if the left operand is NULL and the set not empty,
 *             or the set has a NULL; else 0.
 *   aggregate one row, whatever the table holds (an OFFSET can skip it);
 *             ORDER BY is ignored. count, sum (integers until one
 *             overflows: "integer overflow", unless a real came first),
 *             total (REAL, 0.0 of nothing), avg (REAL), min and max (by
 *             their argument's collation, NULLs ignored), group_concat
 *             (text of the values, the separator before all but the
 *             first, ',' by default, nothing for a NULL one). Bare columns
 *             of the result read the row SQLite's accumulator load chose:
 *             the one the last min() or max() in SQLite's order picked,
 *             else the first row; NULL when no row was read.
 *
 * The caller's row->scan positions the table on each row and calls
 * visit(): per row, the subquery's slots are dropped from the column
 * cache, the scratch position is marked and given back after the row, and
 * what must outlive the row (a min() so far, the best rows of an ORDER BY,
 * a group_concat, the bare columns) is copied into kept records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_int.h"
#include "folio.h"

/* One aggregate's accumulator. */
typedef struct agg_state {
    int64_t n;    /* count; values summed */
    int64_t isum; /* sum of integers */
    double rsum;  /* sum as a double */
    uint8_t approx, overflow;
    uint8_t have; /* min/max: a value is kept; group_concat: a term is in */
    uint8_t skip; /* min/max: this row did not change the value */
    int keep;     /* its kept record */
    ex_value final;
} agg_state;

/* A subquery's evaluation under way. */
typedef struct ex_run {
    const ex_prog *p;
    ex_ctx *cx;
    const ex_subq *sq;
    int subq;
    int rc;          /* the error a row met */
    int64_t limit;   /* rows still wanted after OFFSET; -1 no limit */
    int64_t offset;  /* rows still to skip */
    int64_t offset0; /* OFFSET as given */
    /* IN */
    ex_value x;
    int x_ok;
    int found, has_null, any;
    /* scalar, EXISTS */
    int have;
    ex_value result;
    /* aggregate */
    agg_state *st;
    int rows;
    int bare_keep, bare_loaded;
    int finalized;
    /* IN's set, collected for the statement (ex_ctx_statement): -1 none */
    int collect;
    /* ORDER BY: the best rows so far, in order, as kept records */
    int sorted;
    int sort_first, nsorted;
    int64_t k;
    int64_t seq;
    ex_value *vals; /* one row's keys, value and sequence (scratch) */
} ex_run;

/* ---- Values ---------------------------------------------------------------------- */

static const uint8_t empty_bytes[1];

/* v's bytes into scratch, so that they outlive the row they came from. */
static int copy_to_scratch(ex_ctx *cx, ex_value *v)
{
    if (v->type != EX_TEXT && v->type != EX_BLOB)
        return 0;
    if (v->u.s.n == 0) {
        v->u.s.p = empty_bytes;
        return 0;
    }
    uint8_t *p = ex_scratch(cx, (size_t)v->u.s.n);
    if (!p)
        return ex_nomem(cx);
    memcpy(p, v->u.s.p, (size_t)v->u.s.n);
    v->u.s.p = p;
    return 0;
}

/* Affinity applied to one value alone (OP_Affinity, and the affinity of
 * the records of IN's set). */
static int apply_affinity(ex_ctx *cx, ex_value *v, uint8_t aff)
{
    if (aff == EXA_NONE || aff == SCH_AFF_BLOB)
        return 0;
    if (aff == SCH_AFF_TEXT)
        return (v->type == EX_INTEGER || v->type == EX_REAL) ? exv_to_text(cx, v) : 0;
    exv_apply_numeric(v);
    return 0;
}

/* OP_MustBeInt: an integer after NUMERIC affinity (a real converts when it
 * holds an integer exactly), else "datatype mismatch". */
static int must_be_int(ex_ctx *cx, ex_value v, int64_t *out)
{
    if (v.type == EX_TEXT)
        exv_apply_numeric(&v);
    if (v.type == EX_REAL) {
        int64_t i = exv_real_to_int(v.u.r);
        if ((double)i == v.u.r && i > INT64_MIN && i < INT64_MAX)
            exv_set_int(&v, i);
    }
    if (v.type != EX_INTEGER) {
        snprintf(cx->errmsg, sizeof cx->errmsg, "datatype mismatch");
        return FOLIO_MISMATCH;
    }
    *out = v.u.i;
    return 0;
}

/* ---- ORDER BY --------------------------------------------------------------------- */

/* One key against another, as the sorter's KeyInfo orders them. */
static int compare_key(const ex_value *a, const ex_value *b, int flags, uint8_t coll)
{
    int an = a->type == EX_NULL, bn = b->type == EX_NULL;
    if (an != bn && (flags & (EXOB_NULLS_FIRST | EXOB_NULLS_LAST)))
        return ((flags & EXOB_NULLS_FIRST) ? -1 : 1) * (an ? 1 : -1);
    int c = exv_compare(a, b, coll);
    return (flags & EXOB_DESC) ? -c : c;
}

static int compare_rows(const ex_run *r, const ex_value *a, const ex_value *b)
{
    const ex_prog *p = r->p;
    for (int j = 0; j < r->sq->nord; j++) {
        const ex_node *o = &p->nodes[p->idx[r->sq->ord_first + j]];
        uint8_t coll = p->nodes[o->a].ecoll;
        int c = compare_key(&a[j], &b[j], o->aff, coll == EXL_NONE ? SCH_COLL_BINARY : coll);
        if (c)
            return c;
    }
    return 0;
}

/* Keep the row in r->vals among the best r->k (ties: the earlier first). */
static int sorted_insert(ex_run *r)
{
    ex_ctx *cx = r->cx;
    int n = r->sq->nord + 2, pos, rc;
    if (r->nsorted == r->k) {
        pos = r->sort_first + r->nsorted - 1;
        if (compare_rows(r, r->vals, cx->keeps[pos].v) >= 0)
            return 0;
    } else {
        int first;
        if ((rc = ex_keep_push(cx, 1, &first)) != 0)
            return rc;
        pos = r->sort_first + r->nsorted++;
    }
    if ((rc = ex_keep_set(cx, pos, r->vals, n)) != 0)
        return rc;
    while (pos > r->sort_first && compare_rows(r, cx->keeps[pos].v, cx->keeps[pos - 1].v) < 0) {
        ex_keep t = cx->keeps[pos];
        cx->keeps[pos] = cx->keeps[pos - 1];
        cx->keeps[pos - 1] = t;
        pos--;
    }
    return 0;
}

/* ---- IN ------------------------------------------------------------------------------ */

/* One value of IN's set. */
static int in_value(ex_run *r, ex_value v)
{
    const ex_node *n = &r->p->nodes[r->sq->node];
    int rc;
    if (r->collect >= 0 && (rc = ex_keep_add(r->cx, &r->cx->keeps[r->collect], &v)) != 0)
        return rc;
    r->any = 1;
    if (v.type == EX_NULL) {
        r->has_null = 1;
        return 0;
    }
    if (!r->x_ok || r->x.type == EX_NULL || r->found)
        return 0;
    if ((rc = apply_affinity(r->cx, &v, n->aff)) != 0)
        return rc;
    if (exv_compare(&r->x, &v, n->coll) == 0)
        r->found = 1;
    return 0;
}

/* ---- Aggregates ----------------------------------------------------------------------- */

static int agg_step(ex_run *r, const ex_node *n)
{
    ex_ctx *cx = r->cx;
    agg_state *st = &r->st[n->y];
    ex_value argv[2];
    int j = 0, rc;
    for (int a = n->list; a >= 0 && j < 2; a = r->p->nodes[a].next, j++)
        if ((rc = ex_eval_at(r->p, cx, a, &argv[j])) != 0)
            return rc;
    switch (n->sub) {
    case EXAG_COUNT_STAR:
        st->n++;
        return 0;
    case EXAG_COUNT:
        st->n += argv[0].type != EX_NULL;
        return 0;
    case EXAG_SUM:
    case EXAG_TOTAL:
    case EXAG_AVG: {
        /* sqlite3_value_numeric_type: text that is a number is one. */
        ex_value t = argv[0];
        if (t.type == EX_TEXT)
            exv_apply_numeric(&t);
        if (t.type == EX_NULL)
            return 0;
        st->n++;
        if (t.type == EX_INTEGER) {
            st->rsum += (double)t.u.i;
            if (!st->approx && !st->overflow && __builtin_add_overflow(st->isum, t.u.i, &st->isum))
                st->approx = st->overflow = 1;
        } else {
            st->rsum += exv_real(&argv[0]);
            st->approx = 1;
        }
        return 0;
    }
    case EXAG_MIN:
    case EXAG_MAX: {
        if (argv[0].type == EX_NULL) {
            st->skip = st->have;
            return 0;
        }
        if (st->have) {
            int c = exv_compare(&cx->keeps[st->keep].v[0], &argv[0],
                                n->coll == EXL_NONE ? SCH_COLL_BINARY : n->coll);
            if ((n->sub == EXAG_MAX && c >= 0) || (n->sub == EXAG_MIN && c <= 0)) {
                st->skip = 1;
                return 0;
            }
        }
        st->have = 1;
        st->skip = 0;
        return ex_keep_set(cx, st->keep, &argv[0], 1);
    }
    default: { /* group_concat */
        if (argv[0].type == EX_NULL)
            return 0;
        if (st->have) {
            if (n->nlist == 1) {
                rc = ex_keep_append(cx, st->keep, ",", 1);
            } else if (argv[1].type != EX_NULL) {
                ex_value sep = argv[1];
                rc = exv_to_text(cx, &sep);
                if (!rc)
                    rc = ex_keep_append(cx, st->keep, sep.u.s.p, (size_t)sep.u.s.n);
            }
            if (rc)
                return rc;
        }
        ex_value v = argv[0];
        if ((rc = exv_to_text(cx, &v)) != 0 ||
            (rc = ex_keep_append(cx, st->keep, v.u.s.p, (size_t)v.u.s.n)) != 0)
            return rc;
        st->have = 1;
        if (cx->keeps[st->keep].used > ex_max_length(cx))
            return exv_toobig(cx);
        return 0;
    }
    }
}

/* One row of an aggregate query: each accumulator, then the bare columns
 * if this row loads them. */
static int agg_row(ex_run *r)
{
    const ex_prog *p = r->p;
    const ex_subq *sq = r->sq;
    ex_ctx *cx = r->cx;
    int rc;
    for (int i = 0; i < sq->nagg; i++)
        if ((rc = agg_step(r, &p->nodes[p->idx[sq->agg_first + i]])) != 0)
            return rc;
    int load = sq->minmax_last >= 0 ? !r->st[sq->minmax_last].skip : r->rows == 0;
    r->rows++;
    if (load && sq->nbare) {
        ex_value *v = (ex_value *)ex_scratch(cx, (size_t)sq->nbare * sizeof *v);
        if (!v)
            return ex_nomem(cx);
        for (int j = 0; j < sq->nbare; j++)
            if ((rc = ex_column_value(cx, p->idx[sq->bare_first + j], &v[j])) != 0)
                return rc;
        if ((rc = ex_keep_set(cx, r->bare_keep, v, sq->nbare)) != 0)
            return rc;
        r->bare_loaded = 1;
    }
    return 0;
}

static int agg_finalize(ex_run *r)
{
    const ex_prog *p = r->p;
    const ex_subq *sq = r->sq;
    ex_ctx *cx = r->cx;
    for (int i = 0; i < sq->nagg; i++) {
        const ex_node *n = &p->nodes[p->idx[sq->agg_first + i]];
        agg_state *st = &r->st[n->y];
        ex_value *v = &st->final;
        exv_set_null(v);
        switch (n->sub) {
        case EXAG_COUNT_STAR:
        case EXAG_COUNT:
            exv_set_int(v, st->n);
            break;
        case EXAG_SUM:
            if (st->n == 0)
                break;
            if (st->overflow)
                return ex_error(cx, "integer overflow");
            if (st->approx)
                exv_set_real(v, st->rsum);
            else
                exv_set_int(v, st->isum);
            break;
        case EXAG_TOTAL:
            exv_set_real(v, st->rsum);
            break;
        case EXAG_AVG:
            if (st->n > 0)
                exv_set_real(v, st->rsum / (double)st->n);
            break;
        case EXAG_MIN:
        case EXAG_MAX:
            if (st->have)
                *v = cx->keeps[st->keep].v[0];
            break;
        default:
            if (st->have)
                exv_set_text(v, cx->keeps[st->keep].used ? cx->keeps[st->keep].buf : empty_bytes,
                             cx->keeps[st->keep].used);
            break;
        }
    }
    r->finalized = 1;
    return 0;
}

/* The bare columns' values, for the result that reads them after the scan. */
static void freeze_bare(ex_run *r)
{
    const ex_subq *sq = r->sq;
    ex_ctx *cx = r->cx;
    for (int j = 0; j < sq->nbare; j++) {
        int slot = r->p->idx[sq->bare_first + j];
        if (slot >= cx->colcap)
            continue;
        if (r->bare_loaded)
            cx->colval[slot] = cx->keeps[r->bare_keep].v[j];
        else
            exv_set_null(&cx->colval[slot]);
        cx->colgen[slot] = cx->gen;
    }
}

int exs_agg_value(const ex_prog *p, ex_ctx *cx, const ex_node *n, ex_value *out)
{
    ex_run *r = cx->runs && n->x >= 0 && n->x < p->nsubq ? cx->runs[n->x] : NULL;
    if (!r || !r->finalized || n->y < 0)
        return ex_error(cx, "misuse of aggregate: %.*s()", (int)n->u.s.n,
                        (const char *)p->bytes + n->u.s.off);
    *out = r->st[n->y].final;
    return 0;
}

/* ---- Rows ------------------------------------------------------------------------------ */

/* One row of the subquery's table (or the one row of a subquery without
 * FROM): 0 to go on, 1 to stop, or an error. *keep_scratch when the row's
 * scratch holds the result. */
static int row(ex_run *r, int *keep_scratch)
{
    const ex_prog *p = r->p;
    const ex_subq *sq = r->sq;
    ex_ctx *cx = r->cx;
    int rc;
    if (sq->where >= 0) {
        int jump;
        if ((rc = ex_jumps(p, cx, sq->where, 0, 1, &jump)) != 0)
            return rc;
        if (jump)
            return 0; /* a WHERE selects a row only when it is true */
    }
    if (sq->is_agg)
        return agg_row(r);
    if (r->sorted) {
        /* The value, then the keys (a key that is the result is its value). */
        int nord = sq->nord;
        if (sq->kind != EXQ_EXISTS && (rc = ex_eval_at(p, cx, sq->result, &r->vals[nord])) != 0)
            return rc;
        for (int j = 0; j < nord; j++) {
            const ex_node *o = &p->nodes[p->idx[sq->ord_first + j]];
            if (o->a == sq->result)
                r->vals[j] = r->vals[nord];
            else if ((rc = ex_eval_at(p, cx, o->a, &r->vals[j])) != 0)
                return rc;
        }
        exv_set_int(&r->vals[nord + 1], r->seq++);
        return sorted_insert(r);
    }
    if (r->offset > 0) {
        r->offset--;
        return 0;
    }
    ex_value v;
    switch (sq->kind) {
    case EXQ_EXISTS:
        r->have = 1;
        return 1;
    case EXQ_SCALAR:
        if ((rc = ex_eval_at(p, cx, sq->result, &v)) != 0 || (rc = copy_to_scratch(cx, &v)) != 0)
            return rc;
        r->result = v;
        r->have = 1;
        *keep_scratch = 1;
        return 1;
    default:
        if ((rc = ex_eval_at(p, cx, sq->result, &v)) != 0)
            return rc;
        /* SQLite sorts IN's rows even when the order changes nothing: the
         * keys are evaluated (their errors count). */
        for (int j = 0; j < sq->nord; j++) {
            const ex_node *o = &p->nodes[p->idx[sq->ord_first + j]];
            ex_value key;
            if (o->a != sq->result && (rc = ex_eval_at(p, cx, o->a, &key)) != 0)
                return rc;
        }
        if ((rc = in_value(r, v)) != 0)
            return rc;
        if (r->limit > 0 && --r->limit == 0)
            return 1;
        return 0;
    }
}

static int visit(void *vctx)
{
    ex_run *r = vctx;
    ex_ctx *cx = r->cx;
    const ex_subq *sq = r->sq;
    if (r->rc || (r->have && sq->kind != EXQ_IN && !sq->is_agg))
        return r->rc ? r->rc : 1;
    /* This row's slots are not the last row's. */
    if (sq->base >= 0)
        for (int s = sq->base; s <= sq->base + sq->ncols && s < cx->colcap; s++)
            cx->colgen[s] = 0;
    ex_mark m = ex_scratch_mark(cx);
    int keep = 0;
    int rc = row(r, &keep);
    if (!keep)
        ex_scratch_release(cx, m);
    if (rc < 0)
        r->rc = rc;
    return rc;
}

/* ---- A subquery ------------------------------------------------------------------------- */

/* LIMIT and OFFSET, before anything is read. */
static int limits(ex_run *r)
{
    const ex_prog *p = r->p;
    const ex_subq *sq = r->sq;
    ex_ctx *cx = r->cx;
    ex_value v;
    int rc;
    r->limit = sq->kind == EXQ_IN ? -1 : 1;
    if (sq->limit >= 0) {
        if ((rc = ex_eval_at(p, cx, sq->limit, &v)) != 0)
            return rc;
        if (sq->kind != EXQ_IN) {
            /* (x <> 0), its 0 of NUMERIC affinity. */
            ex_value zero;
            exv_set_int(&zero, 0);
            if (v.type == EX_NULL) {
                snprintf(cx->errmsg, sizeof cx->errmsg, "datatype mismatch");
                return FOLIO_MISMATCH;
            }
            int res;
            if ((rc = ex_compare_values(cx, v, zero, SCH_AFF_NUMERIC, EXL_NONE, &res)) != 0)
                return rc;
            r->limit = res != 0;
        } else {
            if ((rc = must_be_int(cx, v, &r->limit)) != 0)
                return rc;
            if (r->limit < 0)
                r->limit = -1;
        }
    }
    if (r->limit == 0)
        return 0;
    if (sq->offset >= 0) {
        if ((rc = ex_eval_at(p, cx, sq->offset, &v)) != 0 ||
            (rc = must_be_int(cx, v, &r->offset)) != 0)
            return rc;
        if (r->offset < 0)
            r->offset = 0;
    }
    r->offset0 = r->offset;
    return 0;
}

/* The state of a run: accumulators and kept records. */
static int start(ex_run *r)
{
    const ex_subq *sq = r->sq;
    ex_ctx *cx = r->cx;
    int rc, first;
    if (sq->is_agg) {
        r->st = (agg_state *)ex_scratch(cx, (size_t)(sq->nstate ? sq->nstate : 1) * sizeof *r->st);
        if (!r->st)
            return ex_nomem(cx);
        memset(r->st, 0, (size_t)(sq->nstate ? sq->nstate : 1) * sizeof *r->st);
        if ((rc = ex_keep_push(cx, sq->nstate + 1, &first)) != 0)
            return rc;
        for (int s = 0; s < sq->nstate; s++)
            r->st[s].keep = first + s;
        r->bare_keep = first + sq->nstate;
        return 0;
    }
    if (sq->nord > 0 &&
        (sq->kind == EXQ_SCALAR || (sq->kind == EXQ_IN && (r->limit >= 0 || r->offset > 0)))) {
        r->sorted = 1;
        if (sq->kind == EXQ_SCALAR)
            r->k = r->offset < INT64_MAX ? r->offset + 1 : INT64_MAX;
        else
            r->k =
                r->limit < 0 || r->limit > INT64_MAX - r->offset ? INT64_MAX : r->offset + r->limit;
        r->sort_first = cx->keeptop;
        r->vals = (ex_value *)ex_scratch(cx, (size_t)(sq->nord + 2) * sizeof *r->vals);
        if (!r->vals)
            return ex_nomem(cx);
        memset(r->vals, 0, (size_t)(sq->nord + 2) * sizeof *r->vals);
    }
    return 0;
}

/* After the scan: the value of the subquery into *out (its bytes in
 * scratch), or IN's findings into r. */
static int finish(ex_run *r, ex_value *out)
{
    const ex_prog *p = r->p;
    const ex_subq *sq = r->sq;
    ex_ctx *cx = r->cx;
    int rc;
    exv_set_null(out);
    if (sq->is_agg) {
        if ((rc = agg_finalize(r)) != 0)
            return rc;
        if (r->offset0 > 0) /* the one row is skipped */
            return sq->kind == EXQ_EXISTS ? (exv_set_int(out, 0), 0) : 0;
        freeze_bare(r);
        switch (sq->kind) {
        case EXQ_EXISTS:
            exv_set_int(out, 1);
            return 0;
        case EXQ_SCALAR:
            if ((rc = ex_eval_at(p, cx, sq->result, out)) != 0)
                return rc;
            return copy_to_scratch(cx, out);
        default: {
            ex_value v;
            if ((rc = ex_eval_at(p, cx, sq->result, &v)) != 0)
                return rc;
            return in_value(r, v);
        }
        }
    }
    if (r->sorted) {
        int nord = sq->nord;
        if (sq->kind == EXQ_SCALAR) {
            if (r->nsorted > r->offset0) {
                *out = cx->keeps[r->sort_first + r->offset0].v[nord];
                return copy_to_scratch(cx, out);
            }
            return 0;
        }
        for (int64_t j = r->offset0; j < r->nsorted; j++)
            if ((rc = in_value(r, cx->keeps[r->sort_first + j].v[nord])) != 0)
                return rc;
        return 0;
    }
    if (sq->kind == EXQ_EXISTS)
        exv_set_int(out, r->have);
    else if (sq->kind == EXQ_SCALAR && r->have)
        *out = r->result;
    return 0;
}

static int run(ex_run *r, ex_value *out)
{
    ex_ctx *cx = r->cx;
    const ex_subq *sq = r->sq;
    int rc = limits(r);
    exv_set_null(out);
    if (rc)
        return rc;
    if (r->limit == 0) {
        if (sq->kind == EXQ_EXISTS)
            exv_set_int(out, 0);
        return 0;
    }
    int keep_first = cx->keeptop;
    ex_run *outer = cx->runs[r->subq];
    cx->runs[r->subq] = r;
    if (r->collect == -2 && (rc = ex_keep_push(cx, 1, &r->collect)) != 0)
        goto done;
    if ((rc = start(r)) != 0)
        goto done;
    if (sq->base < 0) {
        /* No FROM: one row, of no table. */
        rc = visit(r);
        rc = rc < 0 ? rc : 0;
    } else if (!cx->row || !cx->row->scan) {
        rc = FOLIO_MISUSE;
        ex_error(cx, "no scan to run subquery %d", r->subq);
    } else {
        rc = cx->row->scan(cx->row->arg, r->subq, visit, r);
        if (r->rc)
            rc = r->rc;
        else if (rc > 0)
            rc = 0;
        if (rc && !cx->errmsg[0])
            ex_error(cx, "cannot scan the table of subquery %d", r->subq);
    }
    if (!rc)
        rc = finish(r, out);
    if (!rc && cx->epoch && !sq->correlated) {
        /* Kept for the statement (ex_ctx_statement). */
        ex_once *o;
        if ((rc = ex_once_find(cx, r->p, r->subq, 1, &o)) == 0) {
            if (sq->kind == EXQ_IN)
                rc = r->collect >= 0 ? ex_keep_fill(cx, &o->rec, cx->keeps[r->collect].v,
                                                    cx->keeps[r->collect].nv)
                                     : ex_keep_fill(cx, &o->rec, NULL, 0);
            else
                rc = ex_keep_fill(cx, &o->rec, out, 1);
            if (!rc)
                o->epoch = cx->epoch;
        }
    }
done:
    cx->runs[r->subq] = outer;
    ex_keep_pop(cx, keep_first);
    return rc;
}

/* A subquery kept for the statement: its value, or IN against its set. */
static int replay(ex_run *r, const ex_once *o, ex_value *out)
{
    if (r->sq->kind != EXQ_IN) {
        *out = o->rec.v[0];
        return copy_to_scratch(r->cx, out);
    }
    for (int j = 0; j < o->rec.nv; j++) {
        int rc = in_value(r, o->rec.v[j]);
        if (rc)
            return rc;
    }
    return 0;
}

int exs_eval(const ex_prog *p, ex_ctx *cx, const ex_node *n, ex_value *out)
{
    ex_run r;
    memset(&r, 0, sizeof r);
    r.p = p;
    r.cx = cx;
    r.subq = (int)n->u.i;
    r.sq = &p->subqs[r.subq];
    r.bare_keep = -1;
    int x_rc = 0, x_raised = EX_RAISE_NONE;
    char *x_msg = NULL;
    if (r.sq->kind == EXQ_IN) {
        /* The left operand first, its error kept for after the set's. */
        x_rc = ex_eval_at(p, cx, r.sq->left, &r.x);
        if (x_rc) {
            size_t len = strlen(cx->errmsg);
            x_msg = (char *)ex_scratch(cx, len + 1);
            if (!x_msg)
                return x_rc == FOLIO_NOMEM ? x_rc : ex_nomem(cx);
            memcpy(x_msg, cx->errmsg, len + 1);
            x_raised = cx->raised;
            cx->raised = EX_RAISE_NONE;
            cx->errmsg[0] = 0;
        } else {
            int rc = apply_affinity(cx, &r.x, n->aff);
            if (rc)
                return rc;
            r.x_ok = 1;
        }
    }
    /* A subquery that is not correlated runs once per statement, when the
     * caller says which (ex_ctx_statement). */
    ex_once *o = NULL;
    int rc = 0;
    r.collect = -1;
    if (cx->epoch && !r.sq->correlated) {
        if ((rc = ex_once_find(cx, p, r.subq, 0, &o)) != 0)
            return rc;
        if (!o && r.sq->kind == EXQ_IN)
            r.collect = -2; /* run() pushes the record */
    }
    rc = o ? replay(&r, o, out) : run(&r, out);
    if (rc)
        return rc;
    if (r.sq->kind != EXQ_IN)
        return 0;
    if (x_rc) {
        memcpy(cx->errmsg, x_msg, strlen(x_msg) + 1);
        cx->raised = x_raised;
        return x_rc;
    }
    if (r.found)
        exv_set_int(out, 1);
    else if ((r.x.type == EX_NULL && r.any) || (r.x.type != EX_NULL && r.has_null))
        exv_set_null(out);
    else
        exv_set_int(out, 0);
    return 0;
}

int exs_begin(const ex_prog *p, ex_ctx *cx)
{
    cx->runs = (ex_run **)ex_scratch(cx, (size_t)p->nsubq * sizeof *cx->runs);
    if (!cx->runs)
        return ex_nomem(cx);
    memset(cx->runs, 0, (size_t)p->nsubq * sizeof *cx->runs);
    return 0;
}
