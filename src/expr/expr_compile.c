/*
 * expr_compile.c - compiling an expression: the entry points of expr.h
 * around the parser (expr_parse.c), the folding of constant function calls,
 * and what the db layer asks of a program.
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
    int rc = ex_eval_node(view, cx, k, &v);
    if (rc == FOLIO_NOMEM)
        return exp_nomem(ps);
    if (rc)
        return 0; /* it fails when an evaluation reaches it */
    return become_constant(ps, k, &v) ? -1 : 0;
}

/* Fold the constant calls reachable from the root. */
static int fold_constants(parser *ps, int root)
{
    ex_ctx *cx;
    if (ex_ctx_new(&cx))
        return exp_nomem(ps);
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

/* ---- The program ------------------------------------------------------------------------ */

static int build_prog(parser *ps, int root, ex_prog **out)
{
    ex_prog *p = calloc(1, sizeof *p);
    if (!p)
        return exp_nomem(ps);
    int ncols = 0;
    for (int c = 0; c < ps->scope->ncols; c++)
        ncols += ps->colused[c];
    p->cols = malloc((size_t)(ncols ? ncols : 1) * sizeof *p->cols);
    if (!p->cols) {
        free(p);
        return exp_nomem(ps);
    }
    for (int c = 0, j = 0; c < ps->scope->ncols; c++)
        if (ps->colused[c])
            p->cols[j++] = c;
    p->ncols = ncols;
    p->ncols_table = ps->scope->ncols;
    p->nodes = ps->nodes;
    p->nnodes = ps->nnodes;
    p->root = root;
    p->bytes = ps->bytes;
    p->nbytes = ps->nbytes;
    p->flags = ps->flags;
    p->uses_rowid = ps->uses_rowid;
    p->is_volatile = ps->is_volatile;
    p->max_args = ps->max_args;
    ps->nodes = NULL;
    ps->bytes = NULL;
    *out = p;
    return 0;
}

static int valid_flags(unsigned flags)
{
    return flags && (flags & (flags - 1)) == 0 && flags <= EX_FILTER;
}

int ex_compile(ex_prog **out, const char *text, size_t len, const ex_scope *scope, unsigned flags,
               char *err, size_t errlen)
{
    static const ex_scope empty_scope = {NULL, NULL, 0, -1, 0, NULL};
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
        return exp_fail(&ps, strcmp(lexerr, "out of memory") == 0 ? FOLIO_NOMEM : FOLIO_ERROR, 0,
                        "%s", lexerr);
    ps.colused = calloc((size_t)ps.scope->ncols + 1, 1);
    if (!ps.colused) {
        free(ps.tok);
        return exp_fail(&ps, FOLIO_NOMEM, 0, "out of memory");
    }
    int root = exp_parse(&ps);
    if (!ps.rc)
        fold_constants(&ps, root);
    if (!ps.rc)
        build_prog(&ps, root, out);
    free(ps.tok);
    free(ps.colused);
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
    return p->ncols == 0 && !p->uses_rowid;
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
}
