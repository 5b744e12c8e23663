/*
 * expr_tree.c - two expressions compared as SQLite compares them
 * (sqlite3ExprCompare), for what matches an expression by its form: an
 * UPSERT's conflict target against the keys and the WHERE of an index.
 *
 * SQLite compares the trees its parser made, after names are resolved and
 * before anything is folded or coded. The tree expr_parse.c builds is that
 * tree, so it is compared here as parsed, without folding: nodes of the same
 * kind, the same operands in the same places, the same column. What the
 * parser does not keep in a node is read from the text's tokens, as SQLite
 * reads its tokens (u.zToken): an integer literal is compared by value when
 * it fits in 31 bits (SQLite's EP_IntValue, so 0x0 is 0) and by its text
 * otherwise, a real literal, a blob, TRUE / FALSE and a CAST's type by
 * their text exactly as written ("1.0" is not "1.00", TRUE is not true,
 * x'AB' is not X'AB'),
 * a function by its name in any case, a string by its value. A negative
 * literal (folded by the parser) is a unary minus over the literal, as in
 * SQLite's tree. Subqueries, aggregates and RAISE never compare equal.
 */
#include <stdlib.h>
#include <string.h>

#include "expr/expr_parse_int.h"
#include "folio.h"

struct ex_tree {
    const char *text; /* the caller's, which must outlive the tree */
    size_t len;
    lx_token *tok;
    size_t ntok;
    ex_node *nodes;
    int nnodes;
    uint8_t *bytes;
    int root;
};

int ex_tree_parse(ex_tree **out, const char *text, size_t len, const ex_scope *scope,
                  unsigned flags, char *err, size_t errlen)
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
    ps.flags = flags & ~(unsigned)EX_NAMES;
    ps.err = err;
    ps.errlen = errlen;
    char lexerr[128] = "";
    if (!text)
        return exp_fail(&ps, FOLIO_MISUSE, 0, "ex_tree_parse: bad arguments");
    if (lx_tokenize(text, len, &ps.tok, &ps.ntok, lexerr, sizeof lexerr) != 0)
        return exp_fail(&ps, strcmp(lexerr, "out of memory") ? FOLIO_ERROR : FOLIO_NOMEM, 0, "%s",
                        lexerr);
    ex_tree *t = NULL;
    if (!exp_levels_init(&ps)) {
        int root = exp_parse(&ps);
        if (!ps.rc && !(t = calloc(1, sizeof *t)))
            exp_nomem(&ps);
        if (!ps.rc) {
            t->text = text;
            t->len = len;
            t->tok = ps.tok;
            t->ntok = ps.ntok;
            t->nodes = ps.nodes;
            t->nnodes = ps.nnodes;
            t->bytes = ps.bytes;
            t->root = root;
            ps.tok = NULL;
            ps.nodes = NULL;
            ps.bytes = NULL;
            *out = t;
        }
    }
    exp_levels_free(&ps);
    free(ps.tok);
    free(ps.deferred);
    free(ps.nodes);
    free(ps.bytes);
    free(ps.sq);
    free(ps.idx);
    return ps.rc;
}

void ex_tree_free(ex_tree *t)
{
    if (!t)
        return;
    free(t->tok);
    free(t->nodes);
    free(t->bytes);
    free(t);
}

int ex_tree_column(const ex_tree *t, int *col)
{
    const ex_node *n = &t->nodes[t->root];
    if ((n->op != EXO_COLUMN && n->op != EXO_ROWID) || n->x != 0)
        return 0;
    *col = n->op == EXO_ROWID ? -1 : n->u.col;
    return 1;
}

/* A node as SQLite's tree has it: a negative literal is a minus (neg set)
 * over the literal (inner set). */
typedef struct tref {
    const ex_tree *t;
    int k;
    int inner;
} tref;

static const ex_node *node(tref r)
{
    return &r.t->nodes[r.k];
}

enum { OP_MINUS_LITERAL = 255 };

static int op_of(tref r)
{
    const ex_node *n = node(r);
    return n->is_neg_literal && !r.inner ? OP_MINUS_LITERAL : n->op;
}

/* The token at byte offset pos (the first at or after it). */
static size_t token_at(const ex_tree *t, size_t pos)
{
    size_t lo = 0, hi = t->ntok;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((size_t)(t->tok[mid].z - t->text) < pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->ntok ? lo : t->ntok - 1;
}

/* A literal's number token (after a minus and parentheses). */
static const lx_token *literal_token(tref r)
{
    size_t i = token_at(r.t, node(r)->pos);
    while (i + 1 < r.t->ntok && (r.t->tok[i].type == LX_MINUS || r.t->tok[i].type == LX_LP))
        i++;
    return &r.t->tok[i];
}

/* SQLite's EP_IntValue: an integer literal (or one the parser made) whose
 * value fits in 31 bits. *v is the value. */
static int int_value(tref r, int64_t *v)
{
    const ex_node *n = node(r);
    if (n->op != EXO_INT || n->is_truefalse || (n->is_neg_literal && !r.inner))
        return 0;
    int64_t x = n->u.i;
    if (n->is_neg_literal) {
        if (x < -INT32_MAX)
            return 0;
        x = -x;
    }
    if (x < 0 || x > INT32_MAX)
        return 0;
    *v = x;
    return 1;
}

static int same_bytes(const lx_token *a, const lx_token *b)
{
    return a->n == b->n && memcmp(a->z, b->z, a->n) == 0;
}

/* A CAST's type as written: the text from the word after its AS to the
 * closing parenthesis. */
static void cast_type(tref r, const char **z, size_t *n)
{
    const ex_tree *t = r.t;
    size_t i = token_at(t, node(r)->pos) + 1; /* its ( */
    int depth = 0;
    size_t as = 0;
    for (; i < t->ntok && t->tok[i].type != LX_EOF; i++) {
        int ty = t->tok[i].type;
        if (ty == LX_LP)
            depth++;
        else if (ty == LX_RP && --depth == 0)
            break;
        else if (depth == 1 && !as && exp_tok_is(&t->tok[i], "AS"))
            as = i;
    }
    if (!as || as + 1 >= i) {
        *z = "";
        *n = 0;
        return;
    }
    *z = t->tok[as + 1].z;
    *n = (size_t)(t->tok[i - 1].z + t->tok[i - 1].n - *z);
}

static int coll_name_eq(tref a, tref b)
{
    const ex_node *x = node(a), *y = node(b);
    if (x->coll != y->coll)
        return 0;
    if (x->coll != SCH_COLL_UNKNOWN)
        return 1;
    char p[256], q[256];
    size_t n = x->u.s.n < sizeof p - 1 ? x->u.s.n : sizeof p - 1;
    memcpy(p, a.t->bytes + x->u.s.off, n);
    p[n] = 0;
    n = y->u.s.n < sizeof q - 1 ? y->u.s.n : sizeof q - 1;
    memcpy(q, b.t->bytes + y->u.s.off, n);
    q[n] = 0;
    return sch_ident_eq(p, q);
}

static int compare(tref a, tref b, int depth);

static int compare_kid(const ex_tree *ta, int ka, const ex_tree *tb, int kb, int depth)
{
    if (ka < 0 || kb < 0)
        return ka == kb ? 0 : 2;
    return compare((tref){ta, ka, 0}, (tref){tb, kb, 0}, depth + 1);
}

/* The tokens of two literals of one kind, compared as written. */
static int same_literal_text(tref a, tref b)
{
    const lx_token *x = literal_token(a), *y = literal_token(b);
    return x->type == y->type && same_bytes(x, y);
}

static int compare(tref a, tref b, int depth)
{
    if (depth > EX_MAX_DEPTH)
        return 2;
    int64_t va = 0, vb = 0;
    int ia = int_value(a, &va), ib = int_value(b, &vb);
    if (ia || ib)
        return ia && ib && va == vb ? 0 : 2;
    int opa = op_of(a), opb = op_of(b);
    const ex_node *x = node(a), *y = node(b);
    if (opa != opb) {
        if (opa == EXO_COLLATE && compare((tref){a.t, x->a, 0}, b, depth + 1) < 2)
            return 1;
        if (opb == EXO_COLLATE && compare(a, (tref){b.t, y->a, 0}, depth + 1) < 2)
            return 1;
        return 2;
    }
    switch (opa) {
    case OP_MINUS_LITERAL:
        return compare((tref){a.t, a.k, 1}, (tref){b.t, b.k, 1}, depth + 1) ? 2 : 0;
    case EXO_NULL:
        /* (a name that did not resolve is a NULL node too: never the same) */
        return x->pconst && y->pconst ? 0 : 2;
    case EXO_INT:
        if (x->is_truefalse != y->is_truefalse)
            return 2;
        if (x->is_truefalse) {
            const lx_token *p = &a.t->tok[token_at(a.t, x->pos)];
            const lx_token *q = &b.t->tok[token_at(b.t, y->pos)];
            return same_bytes(p, q) ? 0 : 2;
        }
        return same_literal_text(a, b) ? 0 : 2;
    case EXO_REAL:
        return same_literal_text(a, b) ? 0 : 2;
    case EXO_TEXT:
    case EXO_BLOB:
        if (x->u.s.n != y->u.s.n ||
            memcmp(a.t->bytes + x->u.s.off, b.t->bytes + y->u.s.off, x->u.s.n) != 0)
            return 2;
        if (opa == EXO_BLOB) { /* (SQLite compares the token as written, X and all) */
            const lx_token *p = &a.t->tok[token_at(a.t, x->pos)];
            const lx_token *q = &b.t->tok[token_at(b.t, y->pos)];
            if (!same_bytes(p, q))
                return 2;
        }
        return 0;
    case EXO_COLUMN:
        return x->u.col == y->u.col && x->x == y->x ? 0 : 2;
    case EXO_ROWID:
        return x->x == y->x ? 0 : 2;
    case EXO_COLLATE:
        if (!coll_name_eq(a, b))
            return 2;
        break;
    case EXO_FUNC:
    case EXO_COALESCE:
    case EXO_IIF:
        if (!sch_ident_eq(x->u.fn->name, y->u.fn->name))
            return 2;
        break;
    case EXO_CAST: {
        const char *p, *q;
        size_t pn, qn;
        cast_type(a, &p, &pn);
        cast_type(b, &q, &qn);
        if (pn != qn || memcmp(p, q, pn) != 0)
            return 2;
        break;
    }
    case EXO_CMP:
    case EXO_NOT:
        if (x->sub != y->sub)
            return 2;
        break;
    case EXO_TRUTH:
        if ((x->sub & EXT_NOT) != (y->sub & EXT_NOT))
            return 2;
        break;
    case EXO_SUBQ:
    case EXO_PART:
    case EXO_AGG:
    case EXO_RAISE:
    case EXO_ALIAS:
        return 2;
    default:
        break;
    }
    if (compare_kid(a.t, x->a, b.t, y->a, depth) || compare_kid(a.t, x->b, b.t, y->b, depth) ||
        compare_kid(a.t, x->c, b.t, y->c, depth) || x->nlist != y->nlist)
        return 2;
    for (int p = x->list, q = y->list; p >= 0 || q >= 0;
         p = a.t->nodes[p].next, q = b.t->nodes[q].next)
        if (p < 0 || q < 0 || compare_kid(a.t, p, b.t, q, depth))
            return 2;
    return 0;
}

int ex_tree_compare(const ex_tree *a, const ex_tree *b)
{
    return compare((tref){a, a->root, 0}, (tref){b, b->root, 0}, 0);
}

int ex_tree_compare_collated(const ex_tree *a, const ex_tree *b, int coll)
{
    tref ra = {a, a->root, 0}, rb = {b, b->root, 0};
    if (op_of(rb) == EXO_COLLATE)
        return compare(ra, rb, 0);
    /* a against COLLATE coll over b: a node of no value, other than a's
     * unless a is a COLLATE too. */
    int64_t v;
    if (int_value(ra, &v))
        return 2;
    if (op_of(ra) == EXO_COLLATE) {
        const ex_node *x = node(ra);
        if (x->coll != coll || coll == SCH_COLL_UNKNOWN)
            return 2;
        return compare((tref){a, x->a, 0}, rb, 1) ? 2 : 0;
    }
    return compare(ra, rb, 1) < 2 ? 1 : 2;
}
