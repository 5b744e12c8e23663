/*
 * expr_compile.c - compiling an expression: the entry points of expr.h
 * around the parser (expr_parse.c), the deferred errors of the tree that
 * remains after SQLite's rewrites, the folding of constant function calls,
 * and what the db layer asks of a program (the columns it reads, computed
 * from the remaining tree only).
 */
#include <stdlib.h>
#include <string.h>

#include "expr/expr_parse_int.h"
#include "folio.h"

/* ---- Constant function calls ------------------------------------------------------ */

/*
 * SQLite evaluates a call of a deterministic function whose arguments are
 * constant once per statement, when the evaluation first reaches it (an
 * OP_Once around the call), and reuses the value. folio computes such calls
 * once, at compile time, and keeps the value in the program. A call that
 * fails stays in the program: the error must surface only where an
 * evaluation reaches the call, as in SQLite (a CASE branch no row takes
 * never fails). Calls that may read the clock ('now') are left to each
 * evaluation, as are random() and its kind.
 */
static int fold_node(parser *ps, ex_ctx *cx, int k, ex_prog *view);

static int fold_children(parser *ps, ex_ctx *cx, int k, ex_prog *view)
{
    const int kids[3] = {N(ps, k)->a, N(ps, k)->b, N(ps, k)->c};
    for (int j = 0; j < 3; j++)
        if (kids[j] >= 0 && fold_node(ps, cx, kids[j], view))
            return -1;
    for (int c = N(ps, k)->list; c >= 0; c = N(ps, c)->next)
        if (fold_node(ps, cx, c, view))
            return -1;
    return 0;
}

/* Replace node k by the constant v. */
static int become_constant(parser *ps, int k, const ex_value *v)
{
    uint32_t off = 0;
    if (v->type == EX_TEXT || v->type == EX_BLOB) {
        /* v's bytes may point into the pool, which exp_add_bytes moves. */
        uint8_t *copy = malloc((size_t)v->u.s.n + 1);
        if (!copy)
            return exp_nomem(ps);
        if (v->u.s.n)
            memcpy(copy, v->u.s.p, (size_t)v->u.s.n);
        int rc = exp_add_bytes(ps, copy, (size_t)v->u.s.n, &off);
        free(copy);
        if (rc)
            return rc;
    }
    ex_node *nd = N(ps, k);
    nd->list = -1;
    nd->nlist = 0;
    nd->sub = 0;
    switch (v->type) {
    case EX_NULL:
        nd->op = EXO_NULL;
        break;
    case EX_INTEGER:
        nd->op = EXO_INT;
        nd->u.i = v->u.i;
        break;
    case EX_REAL:
        nd->op = EXO_REAL;
        nd->u.r = v->u.r;
        break;
    default:
        nd->op = v->type == EX_TEXT ? EXO_TEXT : EXO_BLOB;
        nd->sub = (uint8_t)(v->type == EX_TEXT ? v->subtype : 0);
        nd->u.s.off = off;
        nd->u.s.n = (uint32_t)v->u.s.n;
        break;
    }
    return 0;
}

static int fold_node(parser *ps, ex_ctx *cx, int k, ex_prog *view)
{
    if (fold_children(ps, cx, k, view))
        return -1;
    const ex_node *n = N(ps, k);
    if (n->op != EXO_FUNC || !n->constant ||
        (n->u.fn->flags & (EX_FN_NONDETERMINISTIC | EX_FN_MAY_USE_NOW)))
        return 0;
    view->nodes = ps->nodes;
    view->bytes = ps->bytes;
    view->nbytes = ps->nbytes;
    ex_value v;
    cx->limit_hit = 0;
    int rc = ex_eval_node(view, cx, k, &v);
    if (rc == FOLIO_NOMEM)
        return exp_nomem(ps);
    if (rc || cx->limit_hit)
        return 0; /* it fails (or is too large to fold) when an evaluation reaches it */
    return become_constant(ps, k, &v) ? -1 : 0;
}

/* The largest value a constant call folds into at compile time. */
#define EX_FOLD_MAX_LENGTH (64u << 10)

/* Fold the constant calls reachable from the root. */
static int fold_constants(parser *ps, int root)
{
    ex_ctx *cx;
    if (ex_ctx_new(&cx))
        return exp_nomem(ps);
    /* A result past this is left for evaluation ("string or blob too big"
     * here only means: not folded), so that compiling never makes a value
     * larger than an evaluation's limit allows. */
    ex_ctx_set_max_length(cx, EX_FOLD_MAX_LENGTH);
    ex_prog view;
    memset(&view, 0, sizeof view);
    view.nnodes = ps->nnodes;
    view.root = root;
    view.flags = ps->flags;
    view.ncols_table = ps->scope->ncols;
    fold_node(ps, cx, root, &view);
    ex_ctx_free(cx);
    return ps->rc;
}

/* ---- The tree that remains ----------------------------------------------------------------- */

/* What the parser's rewrites left: the nodes reachable from the root. */
typedef struct reach {
    parser *ps;
    uint8_t *mark; /* one per node */
    int *head;     /* first deferred error of each node, or -1 */
    int *next;     /* the next error of the same node */
    int msg;       /* the resolution's message so far, or -1 */
} reach;

static void mark_reachable(reach *r, int k)
{
    r->mark[k] = 1;
    const ex_node *n = N(r->ps, k);
    const int kids[3] = {n->a, n->b, n->c};
    for (int j = 0; j < 3; j++)
        if (kids[j] >= 0)
            mark_reachable(r, kids[j]);
    for (int c = n->list; c >= 0; c = N(r->ps, c)->next)
        mark_reachable(r, c);
}

static int is_call(const ex_node *n)
{
    return n->op == EXO_FUNC || n->op == EXO_COALESCE || n->op == EXO_IIF || n->op == EXO_AGG ||
           (n->op == EXO_NULL && n->list >= 0);
}

/*
 * SQLite's name resolution (resolveExprStep), which records each error
 * over the last one. A name that resolves to nothing aborts the walk; a
 * call (or IS NULL) resolves its operands itself, up to one that aborts,
 * and the walk goes on after it. Any other node met once the statement
 * has an error aborts the walk at once, without its operands (resolved
 * names and literals made from names do not). A subquery resolves each
 * clause on its own and aborts after the first one if the statement has
 * an error by then, even from before it. Returns 1 when the walk aborts.
 */
static int resolve_walk(reach *r, int k)
{
    const ex_node *n = N(r->ps, k);
    int own_function = 0;
    for (int e = r->head[k]; e >= 0; e = r->next[e]) {
        const exp_deferred *d = &r->ps->deferred[e];
        if (d->phase == EXP_COLUMN || d->phase == EXP_FUNCTION)
            r->msg = e;
        if (d->phase == EXP_COLUMN)
            return 1;
        own_function |= d->phase == EXP_FUNCTION;
    }
    if (is_call(n) || own_function || n->op == EXO_ISNULL || n->op == EXO_NOTNULL) {
        const int kids[3] = {n->a, n->b, n->c};
        for (int j = 0; j < 3; j++)
            if (kids[j] >= 0 && resolve_walk(r, kids[j]))
                return 0;
        for (int c = n->list; c >= 0; c = N(r->ps, c)->next)
            if (resolve_walk(r, c))
                break;
        return 0;
    }
    switch (n->op) {
    case EXO_SUBQ:
        for (int c = n->list; c >= 0; c = N(r->ps, c)->next)
            if (resolve_walk(r, c) || r->msg >= 0)
                return 1;
        return 0;
    case EXO_PART:
        return n->a >= 0 ? resolve_walk(r, n->a) : 0;
    case EXO_COLUMN:
    case EXO_ROWID:
    case EXO_ALIAS: /* a copy of a result column, resolved there */
        return 0;
    case EXO_CMP:
        if (n->a < 0) /* a WHEN of CASE x: the expression itself to SQLite */
            return resolve_walk(r, n->b);
        if (n->right_first) {
            /* x IS name: the name is resolved first, even after an error. */
            if (resolve_walk(r, n->b) || r->msg >= 0)
                return 1;
            return resolve_walk(r, n->a);
        }
        break;
    case EXO_INT:
    case EXO_TEXT:
        /* TRUE, FALSE and "string", which were names. */
        if ((n->op == EXO_INT && n->is_truefalse) || (n->op == EXO_TEXT && !n->pconst))
            return 0;
        break;
    default:
        break;
    }
    if (r->msg >= 0)
        return 1;
    const int kids[3] = {n->a, n->b, n->c};
    for (int j = 0; j < 3; j++)
        if (kids[j] >= 0 && resolve_walk(r, kids[j]))
            return 1;
    for (int c = n->list; c >= 0; c = N(r->ps, c)->next)
        if (resolve_walk(r, c))
            return 1;
    return 0;
}

/*
 * The error SQLite's code generator leaves (operands before their
 * operator): it stops at most errors, but goes on after "misuse of
 * aggregate" (EXP_CODEGEN_ON), so that a later one replaces its message.
 * Returns 1 when the walk stops; r->msg is the error so far.
 */
static int codegen_walk(reach *r, int k);

static int codegen_own(reach *r, int k)
{
    for (int e = r->head[k]; e >= 0; e = r->next[e]) {
        int phase = r->ps->deferred[e].phase;
        if (phase == EXP_CODEGEN || phase == EXP_CODEGEN_ON) {
            r->msg = e;
            if (phase == EXP_CODEGEN)
                return 1;
        }
    }
    return 0;
}

/* In a part SQLite does not code, the arguments of the aggregates that its
 * query's or an outer query's accumulator codes. */
static int codegen_exists_result(reach *r, int k, int subq)
{
    const ex_node *n = N(r->ps, k);
    /* An aggregate of the EXISTS's query or of one around it: its
     * accumulator codes it (one of a query inside the result is not). */
    if (n->op == EXO_AGG && n->y >= 0 && n->x >= 0 &&
        r->ps->sq[n->x].depth <= r->ps->sq[subq].depth)
        return codegen_walk(r, k);
    const int kids[3] = {n->a, n->b, n->c};
    for (int j = 0; j < 3; j++)
        if (kids[j] >= 0 && codegen_exists_result(r, kids[j], subq))
            return 1;
    for (int c = n->list; c >= 0; c = N(r->ps, c)->next)
        if (codegen_exists_result(r, c, subq))
            return 1;
    return 0;
}

static int codegen_walk(reach *r, int k)
{
    const ex_node *n = N(r->ps, k);
    if (n->op == EXO_SUBQ) {
        /* Parts SQLite does not code: EXISTS's result list, the ORDER BY
         * of EXISTS and of an aggregate query (but for the arguments of
         * aggregates there), ORDER BY terms the scan order satisfies. */
        const ex_subq *q = &r->ps->sq[n->u.i];
        for (int c = n->list; c >= 0; c = N(r->ps, c)->next) {
            const ex_node *pn = N(r->ps, c);
            int aggs_only = (pn->sub == EXP_PART_RESULT && n->sub == EXQ_EXISTS) ||
                            (pn->sub == EXP_PART_ORDER && q->is_agg);
            if (pn->sub == EXP_PART_ORDER && pn->aff2 && !aggs_only)
                continue;
            if (aggs_only ? codegen_exists_result(r, c, (int)n->u.i) : codegen_walk(r, c))
                return 1;
        }
        return codegen_own(r, k);
    }
    const int kids[3] = {n->a, n->b, n->c};
    for (int j = 0; j < 3; j++)
        if (kids[j] >= 0 && codegen_walk(r, kids[j]))
            return 1;
    for (int c = n->list; c >= 0; c = N(r->ps, c)->next)
        if (codegen_walk(r, c))
            return 1;
    return codegen_own(r, k);
}

static int report(parser *ps, int e)
{
    const exp_deferred *d = &ps->deferred[e];
    return exp_fail(ps, d->rc, d->pos, "%s", d->msg);
}

/* Report the deferred errors SQLite would report for the tree that remains,
 * in SQLite's order: a DEFAULT's, then resolution's, then coding's. */
static int check_deferred(reach *r, int root)
{
    parser *ps = r->ps;
    for (int e = 0; e < ps->ndeferred; e++)
        if (ps->deferred[e].phase == EXP_EARLY && r->mark[ps->deferred[e].node])
            return report(ps, e);
    r->msg = -1;
    resolve_walk(r, root);
    if (r->msg >= 0)
        return report(ps, r->msg);
    r->msg = -1;
    codegen_walk(r, root);
    return r->msg >= 0 ? report(ps, r->msg) : 0;
}

/* EX_NAMES: the first name of the remaining tree that resolves to nothing,
 * in SQLite's order; other deferred errors do not count. */
static int check_names(parser *ps, int root)
{
    reach r = {ps, NULL, NULL, NULL, -1};
    r.mark = calloc((size_t)ps->nnodes, 1);
    r.head = malloc((size_t)ps->nnodes * sizeof *r.head);
    r.next = malloc((size_t)(ps->ndeferred ? ps->ndeferred : 1) * sizeof *r.next);
    if (!r.mark || !r.head || !r.next) {
        exp_nomem(ps);
    } else {
        for (int k = 0; k < ps->nnodes; k++)
            r.head[k] = -1;
        for (int e = ps->ndeferred - 1; e >= 0; e--) {
            if (ps->deferred[e].phase != EXP_COLUMN)
                continue;
            r.next[e] = r.head[ps->deferred[e].node];
            r.head[ps->deferred[e].node] = e;
        }
        mark_reachable(&r, root);
        resolve_walk(&r, root);
        if (r.msg >= 0)
            report(ps, r.msg);
    }
    free(r.mark);
    free(r.head);
    free(r.next);
    return ps->rc;
}

/* The remaining tree's errors and what it uses, into *p. */
static int examine(parser *ps, int root, ex_prog *p, uint8_t *colused)
{
    reach r = {ps, NULL, NULL, NULL, -1};
    r.mark = calloc((size_t)ps->nnodes, 1);
    r.head = malloc((size_t)ps->nnodes * sizeof *r.head);
    r.next = malloc((size_t)(ps->ndeferred ? ps->ndeferred : 1) * sizeof *r.next);
    if (!r.mark || !r.head || !r.next) {
        exp_nomem(ps);
        goto done;
    }
    for (int k = 0; k < ps->nnodes; k++)
        r.head[k] = -1;
    for (int e = ps->ndeferred - 1; e >= 0; e--) {
        r.next[e] = r.head[ps->deferred[e].node];
        r.head[ps->deferred[e].node] = e;
    }
    mark_reachable(&r, root);
    if (ps->ndeferred && check_deferred(&r, root))
        goto done;
    for (int k = 0; k < ps->nnodes; k++) {
        const ex_node *n = N(ps, k);
        if (!r.mark[k])
            continue;
        if (n->op == EXO_COLUMN)
            colused[n->u.col] = 1;
        else if (n->op == EXO_ROWID)
            p->uses_rowid = 1;
        else if (n->op == EXO_FUNC &&
                 (n->u.fn->flags & (EX_FN_NONDETERMINISTIC | EX_FN_MAY_USE_NOW)))
            p->is_volatile = 1;
        if (is_call(n) && n->nlist > p->max_args)
            p->max_args = n->nlist;
    }
done:
    free(r.mark);
    free(r.head);
    free(r.next);
    return ps->rc;
}

/* ---- The program ------------------------------------------------------------------------ */

/* The subqueries, from the parser into the program. */
static int take_subqueries(parser *ps, ex_prog *p)
{
    if (ps->nsq == 0)
        return 0;
    p->pub = calloc((size_t)ps->nsq, sizeof *p->pub);
    if (!p->pub)
        return exp_nomem(ps);
    p->subqs = ps->sq;
    p->nsubq = ps->nsq;
    p->idx = ps->idx;
    ps->sq = NULL;
    ps->idx = NULL;
    return 0;
}

static int build_prog(parser *ps, int root, ex_prog **out)
{
    ex_prog *p = calloc(1, sizeof *p);
    int nslots = ps->nslots;
    uint8_t *colused = calloc((size_t)nslots + 1, 1);
    if (!p || !colused || examine(ps, root, p, colused)) {
        free(p);
        free(colused);
        return ps->rc ? ps->rc : exp_nomem(ps);
    }
    int ncols = 0;
    for (int c = 0; c < nslots; c++)
        ncols += colused[c];
    p->cols = malloc((size_t)(ncols ? ncols : 1) * sizeof *p->cols);
    if (!p->cols || take_subqueries(ps, p)) {
        free(p->cols);
        free(p->pub);
        free(p);
        free(colused);
        return exp_nomem(ps);
    }
    for (int c = 0, j = 0; c < nslots; c++)
        if (colused[c])
            p->cols[j++] = c;
    free(colused);
    p->ncols = ncols;
    p->ncols_table = ps->scope->ncols;
    p->nslots = nslots;
    p->root = root;
    p->flags = ps->flags;
    *out = p;
    return 0;
}

/* What ex_prog_subqueries shows, once the byte pool has its last place. */
static void publish_subqueries(ex_prog *p)
{
    for (int s = 0; s < p->nsubq; s++) {
        const ex_subq *q = &p->subqs[s];
        p->pub[s].table = q->base >= 0 ? (const char *)p->bytes + q->name_off : NULL;
        p->pub[s].base = q->base;
        p->pub[s].ncols = q->base >= 0 ? q->ncols : 0;
        p->pub[s].correlated = q->correlated;
    }
}

/* The lexer's message as SQLite words it: what it cannot read is an
 * "unrecognized token" (an unterminated string runs to the end). */
static int lex_error(parser *ps, const char *lexerr)
{
    static const char *const kinds[] = {
        "unrecognized token: ", "unterminated string: ", "unterminated identifier: "};
    if (strcmp(lexerr, "out of memory") == 0)
        return exp_nomem(ps);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (strncmp(lexerr, kinds[k], strlen(kinds[k])) == 0)
            return exp_fail(ps, FOLIO_ERROR, 0, "unrecognized token: \"%s\"",
                            lexerr + strlen(kinds[k]));
    return exp_fail(ps, FOLIO_ERROR, 0, "%s", lexerr);
}

static int valid_flags(unsigned flags)
{
    unsigned context = flags & ~(EX_CONDITION | EX_NAMES);
    if ((flags & (EX_CONDITION | EX_NAMES)) && context != EX_TRIGGER)
        return 0;
    return context && (context & (context - 1)) == 0 && context <= EX_TRIGGER;
}

/* A column reference (fast_col: its number, -1 for the rowid). */
static int column_ref(const ex_node *n, int *col)
{
    if (n->op == EXO_COLUMN)
        *col = n->u.col;
    else if (n->op == EXO_ROWID)
        *col = -1;
    else
        return 0;
    return 1;
}

/* The shapes ex_eval answers directly (ex_prog.fast): they are where filters
 * and CHECKs spend their time, and their answer for the values they take
 * is plain: an INTEGER against an integer under numeric affinity compares
 * as integers; a TEXT value matches 'abc%' when its first bytes are those,
 * ASCII letters folded (a pattern character that is ASCII never matches a
 * character that is not). */
static void find_fast_shape(ex_prog *p)
{
    const ex_node *r = &p->nodes[p->root];
    int col;
    if (r->op == EXO_CMP && r->sub <= EXC_GE &&
        (r->aff == SCH_AFF_INTEGER || r->aff == SCH_AFF_REAL || r->aff == SCH_AFF_NUMERIC)) {
        static const uint8_t mirror[] = {EXC_EQ, EXC_NE, EXC_GT, EXC_GE, EXC_LT, EXC_LE};
        const ex_node *a = &p->nodes[r->a], *b = &p->nodes[r->b];
        if (column_ref(a, &col) && b->op == EXO_INT) {
            p->fast_cmp = r->sub;
            p->fast_i = b->u.i;
        } else if (column_ref(b, &col) && a->op == EXO_INT) {
            p->fast_cmp = mirror[r->sub];
            p->fast_i = a->u.i;
        } else {
            return;
        }
        p->fast = EXF_CMP;
        p->fast_col = col;
        return;
    }
    if (r->op == EXO_FUNC && r->nlist == 2 && strcmp(r->u.fn->name, "like") == 0) {
        const ex_node *pat = &p->nodes[r->list], *val = &p->nodes[pat->next];
        if (pat->op != EXO_TEXT || !column_ref(val, &col) || col < 0 || pat->u.s.n == 0)
            return;
        const uint8_t *z = p->bytes + pat->u.s.off;
        uint32_t n = pat->u.s.n - 1;
        if (z[n] != '%')
            return;
        for (uint32_t i = 0; i < n; i++)
            if (z[i] == '%' || z[i] == '_' || z[i] == 0 || z[i] >= 0x80)
                return;
        p->fast = EXF_LIKE_PREFIX;
        p->fast_col = col;
        p->fast_prefix = z;
        p->fast_n = n;
    }
}

int ex_compile(ex_prog **out, const char *text, size_t len, const ex_scope *scope, unsigned flags,
               char *err, size_t errlen)
{
    static const ex_scope empty_scope = {.rowid_alias = -1};
    parser ps;
    memset(&ps, 0, sizeof ps);
    *out = NULL;
    if (err && errlen)
        err[0] = 0;
    ps.text = text;
    ps.len = len;
    ps.scope = scope ? scope : &empty_scope;
    ps.flags = flags;
    ps.err = err;
    ps.errlen = errlen;
    if (!text || !valid_flags(flags) || ps.scope->ncols < 0 ||
        (ps.scope->ncols > 0 && !ps.scope->cols))
        return exp_fail(&ps, FOLIO_MISUSE, 0, "ex_compile: bad arguments");
    char lexerr[128] = "";
    if (lx_tokenize(text, len, &ps.tok, &ps.ntok, lexerr, sizeof lexerr) != 0)
        return lex_error(&ps, lexerr);
    if (exp_levels_init(&ps)) {
        exp_levels_free(&ps);
        free(ps.tok);
        return ps.rc;
    }
    int root = exp_parse(&ps);
    ex_prog *p = NULL;
    if (!ps.rc && (flags & EX_NAMES)) {
        check_names(&ps, root);
        exp_levels_free(&ps);
        free(ps.tok);
        free(ps.deferred);
        free(ps.nodes);
        free(ps.bytes);
        return ps.rc;
    }
    if (!ps.rc)
        build_prog(&ps, root, &p);
    if (!ps.rc)
        p->top_coll = N(&ps, root)->op == EXO_COLLATE ? N(&ps, root)->coll : -1;
    /* Folding after the checks: a call with a deferred error is never run. */
    if (!ps.rc)
        fold_constants(&ps, root);
    if (!ps.rc) {
        p->nodes = ps.nodes;
        p->bytes = ps.bytes;
        p->nbytes = ps.nbytes;
        p->nnodes = ps.nnodes;
        ps.nodes = NULL;
        ps.bytes = NULL;
        publish_subqueries(p);
        find_fast_shape(p);
        *out = p;
    } else {
        ex_prog_free(p);
    }
    exp_levels_free(&ps);
    free(ps.tok);
    free(ps.deferred);
    free(ps.nodes);
    free(ps.bytes);
    return ps.rc;
}

void ex_prog_free(ex_prog *p)
{
    if (!p)
        return;
    free(p->nodes);
    free(p->bytes);
    free(p->cols);
    free(p->subqs);
    free(p->pub);
    free(p->idx);
    free(p);
}

int ex_prog_columns(const ex_prog *p, const int **cols, int *uses_rowid)
{
    *cols = p->cols;
    if (uses_rowid)
        *uses_rowid = p->uses_rowid;
    return p->ncols;
}

int ex_prog_is_constant(const ex_prog *p)
{
    return p->ncols == 0 && !p->uses_rowid && p->nsubq == 0;
}

int ex_prog_subqueries(const ex_prog *p, const ex_subquery **out)
{
    *out = p->pub;
    return p->nsubq;
}

int ex_prog_is_volatile(const ex_prog *p)
{
    return p->is_volatile;
}

int ex_prog_affinity(const ex_prog *p)
{
    uint8_t a = p->nodes[p->root].eaff;
    return a == EXA_NONE ? EX_AFF_NONE : a;
}

int ex_prog_collation(const ex_prog *p)
{
    uint8_t c = p->nodes[p->root].ecoll;
    return c == EXL_NONE ? -1 : c;
}

int ex_prog_top_collation(const ex_prog *p)
{
    return p->top_coll;
}

void ex_scope_from_table(ex_scope *out, ex_column *cols, const sch_table *t)
{
    for (int c = 0; c < t->ncols; c++) {
        cols[c].name = t->cols[c].name;
        cols[c].affinity = t->cols[c].affinity;
        cols[c].collation = t->cols[c].collation;
        cols[c].generated = t->cols[c].generated;
    }
    out->table = t->name;
    out->cols = cols;
    out->ncols = t->ncols;
    out->rowid_alias = t->ipk;
    out->without_rowid = t->without_rowid;
    out->column = NULL;
    out->sources = NULL;
    out->nsources = 0;
    out->table_lookup = NULL;
    out->lookup_arg = NULL;
    out->name_seen = NULL;
    out->name_arg = NULL;
}
