/*
 * expr_parse.c - SQLite's expression grammar, parsed and resolved into a
 * tree of nodes in one pass (expr_compile.c makes the program of it).
 *
 * Precedence, lowest first, as SQLite's parse.y declares it (all binary
 * operators are left-associative):
 *    1  OR
 *    2  AND
 *    3  NOT (prefix; also the left side of NOT LIKE/BETWEEN/IN/NULL)
 *    4  IS  MATCH LIKE GLOB REGEXP  BETWEEN  IN  ISNULL NOTNULL  !=  <>  =  ==
 *    5  <  <=  >  >=
 *    7  &  |  <<  >>
 *    8  +  -
 *    9  *  /  %
 *   10  ||  ->  ->>
 *   11  COLLATE (postfix)
 *   12  unary -  +  ~
 * The operand between BETWEEN and AND takes any operator above AND, as
 * SQLite's parser does ("x BETWEEN 1 = 1 AND 3"). Rewrites SQLite's parser
 * makes are made here too, because they change results: "x IN ()" is FALSE
 * and "x NOT IN ()" TRUE; "x IN (c)" with one constant c is "x == +c"; a
 * literal 0 on either side of AND makes the AND the literal 0; "x IS NULL"
 * is ISNULL; "x IS TRUE" tests truth; unary minus of an integer literal is a
 * literal (so -9223372036854775808 is an INTEGER).
 *
 * Names resolve as SQLite resolves them (resolve.c): a column of the
 * table (case-insensitive), "table.column", then rowid/oid/_rowid_, then
 * TRUE/FALSE, then a double-quoted name becomes a string literal. In a
 * trigger, the tables of subqueries, NEW, OLD and outer tables come in
 * (expr_select.c, which also parses subqueries, aggregates and RAISE). Affinity
 * and collating sequence of every node are computed as the node is built
 * (sqlite3ExprAffinity, sqlite3ExprCollSeq, sqlite3BinaryCompareCollSeq),
 * so the evaluator only reads them.
 *
 * SQLite resolves names and functions, and codes literals, only after its
 * parser's rewrites, so what they drop ("nosuch IN ()", "0 AND f(1, 2)") is
 * never an error. Such errors are attached to their node here (exp_defer)
 * and expr_compile.c reports those of the nodes that remain, in SQLite's
 * order; "x ISNULL" with x a literal or the rowid is FALSE without x, as
 * SQLite's resolver makes it.
 *
 * Every recursion is bounded by EX_MAX_DEPTH and every loop consumes a
 * token, so any input ends in a program or an error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_int.h"
#include "folio.h"
#include "expr/expr_parse_int.h"

/* Binding powers (see the table above). */
enum {
    BP_OR = 1,
    BP_AND = 2,
    BP_NOT = 3,
    BP_EQ = 4,
    BP_CMP = 5,
    BP_BIT = 7,
    BP_ADD = 8,
    BP_MUL = 9,
    BP_CONCAT = 10,
    BP_COLLATE = 11,
    BP_UNARY = 12
};

static const ex_fn_def *const *function_tables(void)
{
    static const ex_fn_def *const tables[] = {ex_core_functions, ex_date_functions,
                                              ex_json_functions, NULL};
    return tables;
}

/* ---- Errors ------------------------------------------------------------------ */

int exp_fail(parser *ps, int rc, size_t pos, const char *fmt, ...)
{
    if (ps->rc)
        return ps->rc;
    ps->rc = rc;
    if (ps->err && ps->errlen) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(ps->err, ps->errlen, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < ps->errlen)
            snprintf(ps->err + n, ps->errlen - (size_t)n, " (at offset %zu)", pos);
    }
    return rc;
}

static const lx_token *peek(const parser *ps, size_t k)
{
    size_t j = ps->i + k;
    return &ps->tok[j < ps->ntok ? j : ps->ntok - 1];
}

static size_t tok_pos(const parser *ps, const lx_token *t)
{
    return (size_t)(t->z - ps->text);
}

static int syntax_error(parser *ps)
{
    const lx_token *t = peek(ps, 0);
    if (t->type == LX_EOF)
        return exp_fail(ps, FOLIO_ERROR, tok_pos(ps, t), "incomplete input");
    return exp_fail(ps, FOLIO_ERROR, tok_pos(ps, t), "near \"%.*s\": syntax error",
                    (int)(t->n > 100 ? 100 : t->n), t->z);
}

int exp_nomem(parser *ps)
{
    return exp_fail(ps, FOLIO_NOMEM, 0, "out of memory");
}

int exp_defer(parser *ps, int node, int phase, int rc, size_t pos, const char *fmt, ...)
{
    if (node < 0)
        return -1;
    if (ps->ndeferred == ps->defcap) {
        int cap = ps->defcap ? ps->defcap * 2 : 4;
        exp_deferred *d = realloc(ps->deferred, (size_t)cap * sizeof *d);
        if (!d)
            return exp_nomem(ps), -1;
        ps->deferred = d;
        ps->defcap = cap;
    }
    exp_deferred *d = &ps->deferred[ps->ndeferred++];
    d->node = node;
    d->phase = phase;
    d->rc = rc;
    d->pos = pos;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
    return node;
}

/* ---- Tokens and keywords ------------------------------------------------------ */

static int tok_is(const lx_token *t, const char *kw)
{
    if (t->type != LX_ID)
        return 0;
    size_t n = strlen(kw);
    if (t->n != n)
        return 0;
    for (size_t k = 0; k < n; k++) {
        char c = t->z[k];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c != kw[k])
            return 0;
    }
    return 1;
}

static int tok_op(const lx_token *t, const char *op)
{
    size_t n = strlen(op);
    return (t->type == LX_OP || t->type == LX_PLUS || t->type == LX_MINUS) && t->n == n &&
           memcmp(t->z, op, n) == 0;
}

/* Keywords that SQLite never takes as a name (those without its
 * "fallback to ID"), so "x = select" fails as it does in SQLite. */
static int is_reserved(const lx_token *t)
{
    static const char *const words[] = {
        "ADD",     "ALL",        "ALTER",       "AND",     "AS",       "AUTOINCREMENT",
        "BETWEEN", "CASE",       "CHECK",       "COLLATE", "COMMIT",   "CONSTRAINT",
        "CREATE",  "DEFAULT",    "DEFERRABLE",  "DELETE",  "DISTINCT", "DROP",
        "ELSE",    "ESCAPE",     "EXCEPT",      "EXISTS",  "FOREIGN",  "FROM",
        "GROUP",   "HAVING",     "IN",          "INDEX",   "INSERT",   "INTERSECT",
        "INTO",    "IS",         "ISNULL",      "JOIN",    "LIMIT",    "NOT",
        "NOTHING", "NOTNULL",    "NULL",        "ON",      "OR",       "ORDER",
        "PRIMARY", "REFERENCES", "RETURNING",   "SELECT",  "SET",      "TABLE",
        "THEN",    "TO",         "TRANSACTION", "UNION",   "UNIQUE",   "UPDATE",
        "USING",   "VALUES",     "WHEN",        "WHERE",   NULL};
    if (t->type != LX_ID)
        return 0;
    for (int k = 0; words[k]; k++)
        if (tok_is(t, words[k]))
            return 1;
    return 0;
}

static int is_like_kw(const lx_token *t)
{
    return tok_is(t, "LIKE") || tok_is(t, "GLOB") || tok_is(t, "REGEXP") || tok_is(t, "MATCH");
}

/* An identifier's text, unquoted, into buf (NUL-terminated; cut at cap). */
static void ident_text(const lx_token *t, char *buf, size_t cap)
{
    size_t o = 0;
    if (t->type == LX_QID || t->type == LX_STRING) {
        char close = t->z[0] == '[' ? ']' : t->z[0];
        for (size_t k = 1; k + 1 < t->n && o + 1 < cap; k++) {
            buf[o++] = t->z[k];
            if (t->z[k] == close && close != ']' && k + 2 < t->n && t->z[k + 1] == close)
                k++;
        }
    } else {
        for (size_t k = 0; k < t->n && o + 1 < cap; k++)
            buf[o++] = t->z[k];
    }
    buf[o] = 0;
}

/* ---- Nodes ---------------------------------------------------------------------- */

static int new_node(parser *ps, int op, size_t pos)
{
    if (ps->nnodes == ps->cap) {
        int cap = ps->cap ? ps->cap * 2 : 32;
        ex_node *n = realloc(ps->nodes, (size_t)cap * sizeof *n);
        if (!n)
            return exp_nomem(ps), -1;
        ps->nodes = n;
        ps->cap = cap;
    }
    ex_node *n = &ps->nodes[ps->nnodes];
    memset(n, 0, sizeof *n);
    n->op = (uint8_t)op;
    n->aff = n->aff2 = n->eaff = EXA_NONE;
    n->coll = n->coll2 = n->ecoll = EXL_NONE;
    n->a = n->b = n->c = n->list = n->next = -1;
    n->pos = (uint32_t)pos;
    n->height = 1;
    n->constant = 1;
    n->pconst = 1;
    return ps->nnodes++;
}

/* Store bytes in the pool; sets *off. */
int exp_add_bytes(parser *ps, const void *p, size_t n, uint32_t *off)
{
    if (n > UINT32_MAX - ps->nbytes)
        return exp_nomem(ps);
    if (ps->nbytes + n + 1 > ps->bcap) {
        size_t cap = ps->bcap ? ps->bcap : 64;
        while (cap < ps->nbytes + n + 1)
            cap *= 2;
        uint8_t *b = realloc(ps->bytes, cap);
        if (!b)
            return exp_nomem(ps);
        ps->bytes = b;
        ps->bcap = cap;
    }
    if (n)
        memcpy(ps->bytes + ps->nbytes, p, n);
    *off = (uint32_t)ps->nbytes;
    ps->nbytes += n;
    ps->bytes[ps->nbytes] = 0;
    return 0;
}

#define EACH_CHILD EACH_CHILD_OF

/* After a node's children are attached: height, constness, EP_Collate and
 * the collating sequence SQLite would find for it. */
static int finish_node(parser *ps, int k)
{
    ex_node *n = N(ps, k);
    int height = 0, has_collate = 0, constant = 1, pconst = 1, first_coll = -1;
    EACH_CHILD(ps, k, c, {
        ex_node *ch = N(ps, c);
        if (ch->height > height)
            height = ch->height;
        if (ch->has_collate && first_coll < 0) {
            has_collate = 1;
            first_coll = c;
        }
        if (!ch->constant)
            constant = 0;
        if (!ch->pconst)
            pconst = 0;
    });
    n = N(ps, k);
    n->height = height + 1;
    if (n->op == EXO_COLUMN || n->op == EXO_ROWID || n->op == EXO_SUBQ || n->op == EXO_AGG ||
        n->op == EXO_RAISE)
        constant = 0;
    n->constant = (uint8_t)(constant && n->constant);
    /* Constant as SQLite's parser sees it, before names and functions are
     * resolved: literals and operators over them. */
    if (n->op == EXO_COLUMN || n->op == EXO_ROWID || n->op == EXO_FUNC || n->op == EXO_COALESCE ||
        n->op == EXO_IIF || n->op == EXO_SUBQ || n->op == EXO_AGG || n->op == EXO_RAISE)
        pconst = 0;
    n->pconst = (uint8_t)(pconst && n->pconst);
    switch (n->op) {
    case EXO_COLLATE:
        n->has_collate = 1;
        break;
    case EXO_CAST:
    case EXO_UPLUS:
        n->has_collate = (uint8_t)has_collate;
        n->ecoll = N(ps, n->a)->ecoll;
        break;
    case EXO_COLUMN:
    case EXO_ROWID:
        break;
    default:
        n->has_collate = (uint8_t)has_collate;
        n->ecoll = has_collate ? N(ps, first_coll)->ecoll : EXL_NONE;
        break;
    }
    if (n->height > EX_MAX_DEPTH)
        return exp_fail(ps, FOLIO_ERROR, n->pos, "Expression tree is too large (maximum depth %d)",
                        EX_MAX_DEPTH);
    return 0;
}

static int make_unary(parser *ps, int op, int a, size_t pos)
{
    int k = new_node(ps, op, pos);
    if (k < 0)
        return -1;
    N(ps, k)->a = a;
    if (op == EXO_COLLATE)
        N(ps, k)->eaff = N(ps, a)->eaff;
    return finish_node(ps, k) ? -1 : k;
}

static int make_binary(parser *ps, int op, int a, int b, size_t pos)
{
    int k = new_node(ps, op, pos);
    if (k < 0)
        return -1;
    N(ps, k)->a = a;
    N(ps, k)->b = b;
    return finish_node(ps, k) ? -1 : k;
}

static int literal_int(parser *ps, int64_t v, size_t pos)
{
    int k = new_node(ps, EXO_INT, pos);
    if (k >= 0)
        N(ps, k)->u.i = v;
    return k;
}

/* A node standing for what failed to resolve (its error is deferred), over
 * the list `first` (a call's arguments, resolved before it by SQLite). */
static int failed_node(parser *ps, int first, int nargs, size_t pos)
{
    int k = new_node(ps, EXO_NULL, pos);
    if (k < 0)
        return -1;
    N(ps, k)->list = first;
    N(ps, k)->nlist = nargs;
    if (finish_node(ps, k))
        return -1;
    N(ps, k)->constant = 0;
    N(ps, k)->pconst = 0;
    return k;
}

/* SQLite's comparison affinity of two operands (sqlite3CompareAffinity). */
static uint8_t compare_affinity(uint8_t a1, uint8_t a2)
{
    if (a1 != EXA_NONE && a2 != EXA_NONE) {
        if (a1 >= SCH_AFF_NUMERIC || a2 >= SCH_AFF_NUMERIC)
            return SCH_AFF_NUMERIC;
        return SCH_AFF_BLOB;
    }
    return a1 != EXA_NONE ? a1 : a2;
}

/* SQLite's sqlite3BinaryCompareCollSeq for operands l and r. */
static uint8_t compare_collation(parser *ps, int l, int r)
{
    const ex_node *a = N(ps, l), *b = N(ps, r);
    if (a->has_collate)
        return a->ecoll;
    if (b->has_collate)
        return b->ecoll;
    return a->ecoll != EXL_NONE ? a->ecoll : b->ecoll;
}

/* The COLLATE node under k that names an unknown collating sequence, or -1. */
static int unknown_collation(parser *ps, int k)
{
    if (k < 0)
        return -1;
    const ex_node *n = N(ps, k);
    if (n->op == EXO_COLLATE && n->coll == SCH_COLL_UNKNOWN)
        return k;
    int found = -1;
    EACH_CHILD(ps, k, c, {
        if (found < 0)
            found = unknown_collation(ps, c);
    });
    return found;
}

/* Node k compares with `coll`: SQLite fails, when it codes k, on a
 * collating sequence it does not know (operands `l` and `r` name it). */
static int check_collation(parser *ps, int k, int l, int r, uint8_t coll, size_t pos)
{
    if (coll != SCH_COLL_UNKNOWN)
        return 0;
    int c = unknown_collation(ps, l);
    if (c < 0)
        c = unknown_collation(ps, r);
    if (c >= 0)
        return exp_defer(ps, k, EXP_CODEGEN, FOLIO_ERROR, pos, "no such collation sequence: %.*s",
                         (int)N(ps, c)->u.s.n, (const char *)ps->bytes + N(ps, c)->u.s.off) < 0;
    return exp_defer(ps, k, EXP_CODEGEN, FOLIO_UNSUPPORTED, pos,
                     "a collating sequence folio does not know") < 0;
}

static int make_compare(parser *ps, int cmp, int a, int b, size_t pos)
{
    int k = make_binary(ps, EXO_CMP, a, b, pos);
    if (k < 0)
        return -1;
    ex_node *n = N(ps, k);
    n->sub = (uint8_t)cmp;
    n->aff = compare_affinity(N(ps, a)->eaff, N(ps, b)->eaff);
    n->coll = compare_collation(ps, a, b);
    return check_collation(ps, k, a, b, n->coll, pos) ? -1 : k;
}

/* Skip COLLATE and likely()/unlikely()/likelihood() (sqlite3ExprSkipCollateAndLikely). */
static int skip_collate_likely(parser *ps, int k)
{
    for (;;) {
        const ex_node *n = N(ps, k);
        if (n->op == EXO_COLLATE) {
            k = n->a;
        } else if (n->op == EXO_FUNC && (strcmp(n->u.fn->name, "likely") == 0 ||
                                         strcmp(n->u.fn->name, "unlikely") == 0 ||
                                         strcmp(n->u.fn->name, "likelihood") == 0)) {
            k = n->list;
        } else {
            return k;
        }
    }
}

/* ---- Names ----------------------------------------------------------------------- */

static const char *context_name(unsigned flags)
{
    if (flags & EX_INDEX_EXPR)
        return "index expressions";
    if (flags & EX_CHECK)
        return "CHECK constraints";
    if (flags & EX_GENERATED)
        return "generated columns";
    return "partial index WHERE clauses";
}

static int deterministic_context(unsigned flags)
{
    return (flags & (EX_CHECK | EX_INDEX_EXPR | EX_PARTIAL_WHERE | EX_GENERATED)) != 0;
}

/* Subqueries are evaluated in triggers only, where the caller can scan
 * their tables. */
static int subqueries_allowed(const parser *ps)
{
    return (ps->flags & EX_TRIGGER) && ps->scope->table_lookup;
}

static int refuse_subquery(parser *ps, size_t pos)
{
    if (deterministic_context(ps->flags))
        return exp_fail(ps, FOLIO_ERROR, pos, "subqueries prohibited in %s",
                        context_name(ps->flags)),
               -1;
    return exp_fail(ps, FOLIO_UNSUPPORTED, pos, "subqueries are not supported"), -1;
}

/* Where SQLite refuses non-deterministic functions (random(), the CURRENT_*
 * family) when it resolves names: not in a CHECK, which takes them. */
static int nondeterministic_refused(unsigned flags)
{
    return (flags & (EX_INDEX_EXPR | EX_PARTIAL_WHERE | EX_GENERATED)) != 0;
}

/* Tell the scope's name_seen where the name at token t (qualified by the
 * token two before it) was found. */
static void name_seen(parser *ps, const lx_token *t, int qualified)
{
    ex_name seen = {.kind = EX_NAME_COLUMN,
                    .off = tok_pos(ps, t),
                    .len = t->n,
                    .level = ps->hit_level,
                    .source = ps->hit_source,
                    .column = ps->hit_col};
    if (qualified) {
        seen.qoff = tok_pos(ps, t - 2);
        seen.qlen = t[-2].n;
    }
    if (ps->hit_level > 0) {
        seen.table = ps->lv[ps->hit_level].tab.name;
        seen.aliased = ps->lv[ps->hit_level].aliased;
    }
    ps->scope->name_seen(ps->scope->name_arg, &seen);
}

/* A name (tbl may be NULL): a column or rowid of a table it may name
 * (exp_lookup_name), TRUE/FALSE, or a string. */
static int resolve_name(parser *ps, const char *db, const char *tbl, const char *name,
                        const lx_token *t, size_t pos)
{
    const ex_scope *sc = ps->scope;
    int quoted = t->type == LX_QID;
    if (ps->flags & EX_DEFAULT) {
        if (!tbl && !quoted && (sch_ident_eq(name, "true") || sch_ident_eq(name, "false")))
            goto truefalse;
        return exp_defer(ps, failed_node(ps, -1, 0, pos), EXP_EARLY, FOLIO_ERROR, pos,
                         "default value of column [%s] is not constant",
                         sc->column ? sc->column : "?");
    }
    ps->hit_level = -2;
    int found = exp_lookup_name(ps, db, tbl, name, pos);
    if (found >= 0 && ps->hit_level != -2 && sc->name_seen)
        name_seen(ps, t, tbl != NULL);
    if (found != -2)
        return found;
    if (!tbl && !quoted && (sch_ident_eq(name, "true") || sch_ident_eq(name, "false")))
        goto truefalse;
    if (!tbl && quoted && t->z[0] == '"') {
        if (sc->name_seen) {
            ex_name seen = {.kind = EX_NAME_STRING, .off = tok_pos(ps, t), .len = t->n};
            sc->name_seen(sc->name_arg, &seen);
        }
        /* SQLite's double-quoted string literal (on by default, for schemas too). */
        int k = new_node(ps, EXO_TEXT, pos);
        if (k < 0)
            return -1;
        uint32_t off;
        if (exp_add_bytes(ps, name, strlen(name), &off))
            return -1;
        ex_node *n = N(ps, k);
        n->pconst = 0; /* an identifier to SQLite's parser */
        n->u.s.off = off;
        n->u.s.n = (uint32_t)strlen(name);
        return k;
    }
    int f = failed_node(ps, -1, 0, pos);
    if (tbl && db)
        return exp_defer(ps, f, EXP_COLUMN, FOLIO_ERROR, pos, "no such column: %s.%s.%s", db, tbl,
                         name);
    if (tbl)
        return exp_defer(ps, f, EXP_COLUMN, FOLIO_ERROR, pos, "no such column: %s.%s", tbl, name);
    return exp_defer(ps, f, EXP_COLUMN, FOLIO_ERROR, pos, "no such column: %s", name);
truefalse : {
    int k = literal_int(ps, sch_ident_eq(name, "true") ? 1 : 0, pos);
    if (k >= 0)
        N(ps, k)->is_truefalse = 1;
    return k;
}
}

/* ---- Literals -------------------------------------------------------------------- */

/* Digits of a number token without SQLite 3.46's '_' separators. */
static size_t number_text(const lx_token *t, char *buf, size_t cap)
{
    size_t o = 0;
    for (size_t k = 0; k < t->n && o + 1 < cap; k++)
        if (t->z[k] != '_')
            buf[o++] = t->z[k];
    buf[o] = 0;
    return o;
}

/* sqlite3DecOrHexToI64: 0 fits, 1 trailing junk (never here), 2 too big,
 * 3 exactly 9223372036854775808. */
static int dec_or_hex(const char *z, size_t n, int64_t *out)
{
    if (n > 2 && z[0] == '0' && (z[1] == 'x' || z[1] == 'X')) {
        size_t k = 2;
        while (k < n && z[k] == '0')
            k++;
        uint64_t u = 0;
        size_t digits = 0;
        for (; k < n; k++, digits++) {
            char c = z[k];
            int d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
            u = u * 16 + (uint64_t)d;
        }
        memcpy(out, &u, sizeof u);
        return digits <= 16 ? 0 : 2;
    }
    return exv_atoi64((const uint8_t *)z, n, out);
}

/* An integer literal, negated when `neg` (SQLite's codeInteger). */
static int integer_literal(parser *ps, const lx_token *t, int neg, size_t pos)
{
    char buf[512];
    size_t n = number_text(t, buf, sizeof buf);
    int64_t v = 0;
    int c = dec_or_hex(buf, n, &v);
    if ((c == 3 && !neg) || c == 2 || (neg && v == INT64_MIN)) {
        if (n > 1 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X'))
            return exp_defer(ps, failed_node(ps, -1, 0, pos), EXP_CODEGEN, FOLIO_ERROR, pos,
                             "hex literal too big: %s%s", neg ? "-" : "", buf);
        double r;
        exv_atof((const uint8_t *)buf, n, &r);
        int k = new_node(ps, EXO_REAL, pos);
        if (k >= 0)
            N(ps, k)->u.r = neg ? -r : r;
        return k;
    }
    if (neg)
        v = c == 3 ? INT64_MIN : -v;
    int k = literal_int(ps, v, pos);
    if (k >= 0 && !neg)
        N(ps, k)->is_int_literal = 1;
    else if (k >= 0)
        N(ps, k)->is_neg_literal = 1;
    return k;
}

static int real_literal(parser *ps, const lx_token *t, int neg, size_t pos)
{
    char buf[512];
    size_t n = number_text(t, buf, sizeof buf);
    double r;
    exv_atof((const uint8_t *)buf, n, &r);
    int k = new_node(ps, EXO_REAL, pos);
    if (k >= 0) {
        N(ps, k)->u.r = neg ? -r : r;
        N(ps, k)->is_float_literal = (uint8_t)!neg;
    }
    return k;
}

static int string_literal(parser *ps, const lx_token *t, size_t pos)
{
    int k = new_node(ps, EXO_TEXT, pos);
    if (k < 0)
        return -1;
    /* Unquote: '' inside is one quote. */
    size_t start = ps->nbytes;
    uint32_t off = 0;
    if (exp_add_bytes(ps, "", 0, &off))
        return -1;
    size_t n = 0;
    for (size_t j = 1; j + 1 < t->n; j++) {
        uint32_t o2;
        if (exp_add_bytes(ps, t->z + j, 1, &o2))
            return -1;
        n++;
        if (t->z[j] == '\'' && j + 2 < t->n && t->z[j + 1] == '\'')
            j++;
    }
    N(ps, k)->u.s.off = (uint32_t)start;
    N(ps, k)->u.s.n = (uint32_t)n;
    return k;
}

static int hexval(char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static int blob_literal(parser *ps, const lx_token *t, size_t pos)
{
    int k = new_node(ps, EXO_BLOB, pos);
    if (k < 0)
        return -1;
    size_t nhex = t->n - 3;
    size_t start = ps->nbytes;
    uint32_t off = 0;
    if (exp_add_bytes(ps, "", 0, &off))
        return -1;
    for (size_t j = 0; j + 1 < nhex; j += 2) {
        uint8_t byte = (uint8_t)(hexval(t->z[2 + j]) * 16 + hexval(t->z[3 + j]));
        uint32_t o2;
        if (exp_add_bytes(ps, &byte, 1, &o2))
            return -1;
    }
    N(ps, k)->u.s.off = (uint32_t)start;
    N(ps, k)->u.s.n = (uint32_t)(nhex / 2);
    return k;
}

/* ---- Functions ------------------------------------------------------------------- */

static const ex_fn_def *find_function(const char *name, int nargs, int *wrong_args)
{
    const ex_fn_def *const *tables = function_tables();
    *wrong_args = 0;
    for (int t = 0; tables[t]; t++) {
        for (const ex_fn_def *d = tables[t]; d->name; d++) {
            if (!sch_ident_eq(d->name, name))
                continue;
            if (nargs >= d->min_args && (d->max_args < 0 || nargs <= d->max_args))
                return d;
            *wrong_args = 1;
        }
    }
    return NULL;
}

/* SQLite functions folio knows by name but does not evaluate as scalars:
 * the error, deferred on node k (0 when the name is none of them). */
static int unsupported_function(parser *ps, int k, const char *name, int nargs, size_t pos)
{
    static const char *const aggregates[] = {
        "count", "sum", "avg", "total", "group_concat", "json_group_array", "json_group_object",
        NULL};
    static const char *const windows[] = {"row_number",  "rank",       "dense_rank", "percent_rank",
                                          "cume_dist",   "ntile",      "lag",        "lead",
                                          "first_value", "last_value", "nth_value",  NULL};
    static const char *const connection[] = {"changes",
                                             "total_changes",
                                             "last_insert_rowid",
                                             "sqlite_version",
                                             "sqlite_source_id",
                                             "sqlite_compileoption_get",
                                             "sqlite_compileoption_used",
                                             "load_extension",
                                             "sqlite_log",
                                             "sqlite_offset",
                                             NULL};
    int agg = (sch_ident_eq(name, "min") || sch_ident_eq(name, "max")) && nargs == 1;
    for (int j = 0; aggregates[j]; j++)
        agg |= sch_ident_eq(name, aggregates[j]);
    if (agg)
        return exp_defer(ps, k, EXP_FUNCTION, FOLIO_ERROR, pos, "misuse of aggregate function %s()",
                         name) < 0
                   ? -1
                   : 1;
    for (int j = 0; windows[j]; j++)
        if (sch_ident_eq(name, windows[j]))
            return exp_defer(ps, k, EXP_FUNCTION, FOLIO_ERROR, pos,
                             "misuse of window function %s()", name) < 0
                       ? -1
                       : 1;
    for (int j = 0; connection[j]; j++)
        if (sch_ident_eq(name, connection[j]))
            return exp_defer(ps, k, EXP_FUNCTION, FOLIO_UNSUPPORTED, pos,
                             "function %s() is not supported", name) < 0
                       ? -1
                       : 1;
    return 0;
}

static int parse_expr(parser *ps, int min_bp);

/* likelihood()'s second argument: a real literal in [0, 1]. */
static int check_likelihood(parser *ps, int k, const char *name)
{
    int arg = N(ps, N(ps, k)->list)->next;
    const ex_node *p = N(ps, arg);
    if (p->op != EXO_REAL || !p->is_float_literal || p->u.r > 1.0)
        return exp_defer(ps, k, EXP_FUNCTION, FOLIO_ERROR, N(ps, k)->pos,
                         "second argument to %s() must be a constant between 0.0 and 1.0",
                         name) < 0;
    return 0;
}

/* The call of a function whose name token is t; the '(' is next. */
static int parse_call(parser *ps, const lx_token *t)
{
    size_t pos = tok_pos(ps, t);
    char name[128];
    ident_text(t, name, sizeof name);
    ps->i++; /* ( */
    int distinct = 0, nargs = 0, first = -1, last = -1;
    if (tok_is(peek(ps, 0), "DISTINCT")) {
        distinct = 1;
        ps->i++;
    } else if (tok_is(peek(ps, 0), "ALL")) {
        ps->i++;
    }
    if (tok_op(peek(ps, 0), "*") && peek(ps, 1)->type == LX_RP) {
        ps->i++; /* count(*): no arguments */
    } else if (peek(ps, 0)->type != LX_RP) {
        for (;;) {
            int a = parse_expr(ps, 0);
            if (a < 0)
                return -1;
            if (last >= 0)
                N(ps, last)->next = a;
            else
                first = a;
            last = a;
            nargs++;
            if (peek(ps, 0)->type != LX_COMMA)
                break;
            ps->i++;
        }
    }
    if (peek(ps, 0)->type != LX_RP)
        return syntax_error(ps), -1;
    ps->i++;
    if (tok_is(peek(ps, 0), "FILTER") && peek(ps, 1)->type == LX_LP)
        return exp_fail(ps, FOLIO_UNSUPPORTED, pos, "FILTER clauses are not supported"), -1;
    if (tok_is(peek(ps, 0), "OVER"))
        return exp_fail(ps, FOLIO_UNSUPPORTED, pos, "window functions are not supported"), -1;
    if (nargs > EX_MAX_FUNCTION_ARGS)
        return exp_fail(ps, FOLIO_ERROR, pos, "too many arguments on function %s", name), -1;
    /* An aggregate in a subquery's result (expr_select.c). */
    int agg = exp_aggregate_call(ps, name, first, nargs, distinct, pos);
    if (agg != -2)
        return agg;
    /* What SQLite finds when it resolves the call: deferred on a node that
     * stands for the call (see exp_defer). */
    int wrong = 0;
    const ex_fn_def *d = find_function(name, nargs, &wrong);
    if (!d || distinct) {
        int f = failed_node(ps, first, nargs, pos);
        int u = f < 0 ? -1 : unsupported_function(ps, f, name, nargs, pos);
        if (u != 0)
            return u < 0 ? -1 : f;
        if (d)
            return exp_defer(ps, f, EXP_FUNCTION, FOLIO_ERROR, pos,
                             "DISTINCT aggregates must have exactly one argument");
        if (wrong)
            return exp_defer(ps, f, EXP_FUNCTION, FOLIO_ERROR, pos,
                             "wrong number of arguments to function %s()", name);
        return exp_defer(ps, f, EXP_FUNCTION, FOLIO_ERROR, pos, "no such function: %s", name);
    }
    int op = EXO_FUNC;
    if (strcmp(d->name, "coalesce") == 0 || strcmp(d->name, "ifnull") == 0)
        op = EXO_COALESCE;
    else if (strcmp(d->name, "iif") == 0)
        op = EXO_IIF;
    int k = new_node(ps, op, pos);
    if (k < 0)
        return -1;
    ex_node *n = N(ps, k);
    n->u.fn = d;
    n->list = first;
    n->nlist = nargs;
    if (finish_node(ps, k))
        return -1;
    n = N(ps, k);
    /* random() and friends are not constant; the CURRENT_* family and the
     * date functions are, for one statement (SQLite's EP_ConstFunc). */
    if ((d->flags & EX_FN_NONDETERMINISTIC) && !(d->flags & EX_FN_MAY_USE_NOW))
        n->constant = 0;
    if (strcmp(d->name, "min") == 0 || strcmp(d->name, "max") == 0 ||
        strcmp(d->name, "nullif") == 0) {
        /* The first argument with a collating sequence gives it. */
        for (int a = n->list; a >= 0; a = N(ps, a)->next) {
            if (N(ps, a)->ecoll != EXL_NONE) {
                N(ps, k)->coll = N(ps, a)->ecoll;
                break;
            }
        }
        if (check_collation(ps, k, n->list, -1, N(ps, k)->coll, pos))
            return -1;
    }
    if (strcmp(d->name, "likelihood") == 0 && check_likelihood(ps, k, name))
        return -1;
    /* random() and the CURRENT_* family: refused where SQLite wants the same
     * value on every evaluation. */
    if ((d->flags & EX_FN_NONDETERMINISTIC) && nondeterministic_refused(ps->flags))
        return exp_defer(ps, k, EXP_FUNCTION, FOLIO_ERROR, pos,
                         "non-deterministic functions prohibited in %s", context_name(ps->flags));
    return k;
}

/* A function node built by the parser itself (LIKE, GLOB, ->, CURRENT_TIME). */
static int builtin_call(parser *ps, const char *name, int first, int nargs, size_t pos)
{
    int wrong = 0;
    const ex_fn_def *d = find_function(name, nargs, &wrong);
    if (!d)
        return exp_defer(ps, failed_node(ps, first, nargs, pos), EXP_FUNCTION, FOLIO_ERROR, pos,
                         "no such function: %s", name);
    int k = new_node(ps, EXO_FUNC, pos);
    if (k < 0)
        return -1;
    N(ps, k)->u.fn = d;
    N(ps, k)->list = first;
    N(ps, k)->nlist = nargs;
    if (finish_node(ps, k))
        return -1;
    if ((d->flags & EX_FN_NONDETERMINISTIC) && nondeterministic_refused(ps->flags))
        return exp_defer(ps, k, EXP_FUNCTION, FOLIO_ERROR, pos,
                         "non-deterministic functions prohibited in %s", context_name(ps->flags));
    return k;
}

/* ---- Prefix forms ------------------------------------------------------------------ */

static int parse_case(parser *ps, size_t pos)
{
    int base = -1, first = -1, last = -1, npairs = 0, els = -1;
    if (!tok_is(peek(ps, 0), "WHEN")) {
        base = parse_expr(ps, 0);
        if (base < 0)
            return -1;
    }
    while (tok_is(peek(ps, 0), "WHEN")) {
        ps->i++;
        int w = parse_expr(ps, 0);
        if (w < 0)
            return -1;
        if (!tok_is(peek(ps, 0), "THEN"))
            return syntax_error(ps), -1;
        ps->i++;
        int t = parse_expr(ps, 0);
        if (t < 0)
            return -1;
        if (base >= 0) {
            /* The test is base = w, with the affinity and collation of that pair. */
            int eq = new_node(ps, EXO_CMP, N(ps, w)->pos);
            if (eq < 0)
                return -1;
            ex_node *e = N(ps, eq);
            e->sub = EXC_EQ;
            e->a = -1; /* the base, evaluated once by EXO_CASE */
            e->b = w;
            e->aff = compare_affinity(N(ps, base)->eaff, N(ps, w)->eaff);
            e->coll = compare_collation(ps, base, w);
            if (check_collation(ps, eq, base, w, e->coll, N(ps, w)->pos))
                return -1;
            e->height = N(ps, w)->height + 1;
            e->constant = N(ps, w)->constant;
            e->has_collate = N(ps, w)->has_collate;
            e->ecoll = N(ps, w)->ecoll;
            w = eq;
        }
        if (last >= 0)
            N(ps, last)->next = w;
        else
            first = w;
        N(ps, w)->next = t;
        last = t;
        npairs++;
    }
    if (npairs == 0)
        return syntax_error(ps), -1;
    if (tok_is(peek(ps, 0), "ELSE")) {
        ps->i++;
        els = parse_expr(ps, 0);
        if (els < 0)
            return -1;
        N(ps, last)->next = els;
    }
    if (!tok_is(peek(ps, 0), "END"))
        return syntax_error(ps), -1;
    ps->i++;
    int k = new_node(ps, EXO_CASE, pos);
    if (k < 0)
        return -1;
    N(ps, k)->a = base;
    N(ps, k)->list = first;
    N(ps, k)->nlist = 2 * npairs + (els >= 0);
    N(ps, k)->sub = els >= 0;
    return finish_node(ps, k) ? -1 : k;
}

static int parse_cast(parser *ps, size_t pos)
{
    if (peek(ps, 0)->type != LX_LP)
        return syntax_error(ps), -1;
    ps->i++;
    int a = parse_expr(ps, 0);
    if (a < 0)
        return -1;
    if (!tok_is(peek(ps, 0), "AS"))
        return syntax_error(ps), -1;
    ps->i++;
    /* typetoken: names (ID or STRING), then optional (n) or (n, m). */
    const lx_token *t0 = peek(ps, 0);
    if (t0->type == LX_RP) {
        /* An empty typetoken: SQLite's affinity of "", NUMERIC. */
        ps->i++;
        int k = make_unary(ps, EXO_CAST, a, pos);
        if (k >= 0)
            N(ps, k)->aff = N(ps, k)->eaff = SCH_AFF_NUMERIC;
        return k;
    }
    if (t0->type != LX_ID && t0->type != LX_QID && t0->type != LX_STRING)
        return syntax_error(ps), -1;
    while (peek(ps, 0)->type == LX_ID || peek(ps, 0)->type == LX_QID ||
           peek(ps, 0)->type == LX_STRING) {
        if (is_reserved(peek(ps, 0)))
            return syntax_error(ps), -1;
        ps->i++;
    }
    const lx_token *tend = &ps->tok[ps->i - 1];
    if (peek(ps, 0)->type == LX_LP) {
        ps->i++;
        for (int arg = 0; arg < 2; arg++) {
            if (peek(ps, 0)->type == LX_PLUS || peek(ps, 0)->type == LX_MINUS)
                ps->i++;
            int ty = peek(ps, 0)->type;
            if (ty != LX_INTEGER && ty != LX_FLOAT)
                return syntax_error(ps), -1;
            ps->i++;
            if (arg == 0 && peek(ps, 0)->type == LX_COMMA)
                ps->i++;
            else
                break;
        }
        if (peek(ps, 0)->type != LX_RP)
            return syntax_error(ps), -1;
        tend = peek(ps, 0);
        ps->i++;
    }
    if (peek(ps, 0)->type != LX_RP)
        return syntax_error(ps), -1;
    ps->i++;
    size_t tlen = (size_t)(tend->z + tend->n - t0->z);
    char *type = malloc(tlen + 1);
    if (!type)
        return exp_nomem(ps), -1;
    memcpy(type, t0->z, tlen);
    type[tlen] = 0;
    int aff = sch_affinity_of(type);
    free(type);
    int k = make_unary(ps, EXO_CAST, a, pos);
    if (k < 0)
        return -1;
    N(ps, k)->aff = (uint8_t)aff;
    N(ps, k)->eaff = (uint8_t)aff;
    return k;
}

static int parse_unary_minus(parser *ps, size_t pos)
{
    const lx_token *t = peek(ps, 0);
    /* A literal number right after the minus (parentheses do not count:
     * SQLite keeps no node for them) is negated as a literal. */
    size_t save = ps->i;
    while (peek(ps, 0)->type == LX_LP)
        ps->i++;
    t = peek(ps, 0);
    size_t opens = ps->i - save;
    if ((t->type == LX_INTEGER || t->type == LX_FLOAT)) {
        size_t j = 1;
        while (j <= opens && peek(ps, j)->type == LX_RP)
            j++;
        /* Only "-(((5)))" exactly: the literal is the whole operand (no
         * operator binds tighter than unary minus). */
        if (j == opens + 1) {
            ps->i += j;
            return t->type == LX_INTEGER ? integer_literal(ps, t, 1, pos)
                                         : real_literal(ps, t, 1, pos);
        }
    }
    ps->i = save;
    int a = parse_expr(ps, BP_UNARY);
    if (a < 0)
        return -1;
    return make_unary(ps, EXO_NEG, a, pos);
}

static int parse_name(parser *ps, const lx_token *t)
{
    size_t pos = tok_pos(ps, t);
    char a[256], b[256], c[256];
    ident_text(t, a, sizeof a);
    if (peek(ps, 0)->type == LX_DOT) {
        ps->i++;
        const lx_token *t2 = peek(ps, 0);
        if (t2->type != LX_ID && t2->type != LX_QID && t2->type != LX_STRING)
            return syntax_error(ps), -1;
        ps->i++;
        ident_text(t2, b, sizeof b);
        if (peek(ps, 0)->type == LX_DOT) {
            ps->i++;
            const lx_token *t3 = peek(ps, 0);
            if (t3->type != LX_ID && t3->type != LX_QID && t3->type != LX_STRING)
                return syntax_error(ps), -1;
            ps->i++;
            ident_text(t3, c, sizeof c);
            return resolve_name(ps, a, b, c, t3, pos);
        }
        return resolve_name(ps, NULL, a, b, t2, pos);
    }
    int k = resolve_name(ps, NULL, NULL, a, t, pos);
    ps->last_bare_node = k;
    ps->last_bare_tok = (size_t)(t - ps->tok);
    return k;
}

/* "(" ... ")": a parenthesized expression (no node of its own). */
static int parse_paren(parser *ps)
{
    const lx_token *t = peek(ps, 0);
    if (tok_is(t, "SELECT") || tok_is(t, "WITH") || tok_is(t, "VALUES")) {
        if (!subqueries_allowed(ps))
            return refuse_subquery(ps, tok_pos(ps, t));
        int k = exp_parse_select(ps, EXQ_SCALAR, -1, tok_pos(ps, t));
        if (k < 0)
            return -1;
        if (peek(ps, 0)->type != LX_RP)
            return syntax_error(ps), -1;
        ps->i++;
        return k;
    }
    int k = parse_expr(ps, 0);
    if (k < 0)
        return -1;
    if (peek(ps, 0)->type == LX_COMMA)
        return exp_fail(ps, FOLIO_UNSUPPORTED, tok_pos(ps, peek(ps, 0)),
                        "row values are not supported"),
               -1;
    if (peek(ps, 0)->type != LX_RP)
        return syntax_error(ps), -1;
    ps->i++;
    return k;
}

static int parse_prefix(parser *ps)
{
    const lx_token *t = peek(ps, 0);
    size_t pos = tok_pos(ps, t);
    switch (t->type) {
    case LX_INTEGER:
        ps->i++;
        return integer_literal(ps, t, 0, pos);
    case LX_FLOAT:
        ps->i++;
        return real_literal(ps, t, 0, pos);
    case LX_STRING:
        ps->i++;
        if (peek(ps, 0)->type == LX_DOT)
            return parse_name(ps, t);
        return string_literal(ps, t, pos);
    case LX_BLOB:
        ps->i++;
        return blob_literal(ps, t, pos);
    case LX_VARIABLE:
        return exp_fail(ps, FOLIO_UNSUPPORTED, pos, "bind parameters are not supported"), -1;
    case LX_LP:
        ps->i++;
        return parse_paren(ps);
    case LX_MINUS:
        ps->i++;
        return parse_unary_minus(ps, pos);
    case LX_PLUS: {
        ps->i++;
        int a = parse_expr(ps, BP_UNARY);
        return a < 0 ? -1 : make_unary(ps, EXO_UPLUS, a, pos);
    }
    case LX_OP:
        if (tok_op(t, "~")) {
            ps->i++;
            int a = parse_expr(ps, BP_UNARY);
            return a < 0 ? -1 : make_unary(ps, EXO_BITNOT, a, pos);
        }
        return syntax_error(ps), -1;
    case LX_QID:
        ps->i++;
        if (peek(ps, 0)->type == LX_LP)
            return parse_call(ps, t);
        return parse_name(ps, t);
    case LX_ID:
        break;
    default:
        return syntax_error(ps), -1;
    }
    if (tok_is(t, "NULL")) {
        ps->i++;
        return new_node(ps, EXO_NULL, pos);
    }
    if (tok_is(t, "NOT")) {
        ps->i++;
        int a = parse_expr(ps, BP_NOT);
        return a < 0 ? -1 : make_unary(ps, EXO_NOT, a, pos);
    }
    if (tok_is(t, "CASE")) {
        ps->i++;
        return parse_case(ps, pos);
    }
    if (tok_is(t, "CAST")) {
        ps->i++;
        return parse_cast(ps, pos);
    }
    if (tok_is(t, "EXISTS") && peek(ps, 1)->type == LX_LP) {
        if (!subqueries_allowed(ps))
            return refuse_subquery(ps, pos);
        ps->i += 2;
        const lx_token *s = peek(ps, 0);
        if (!tok_is(s, "SELECT") && !tok_is(s, "WITH") && !tok_is(s, "VALUES"))
            return syntax_error(ps), -1;
        int k = exp_parse_select(ps, EXQ_EXISTS, -1, pos);
        if (k < 0)
            return -1;
        if (peek(ps, 0)->type != LX_RP)
            return syntax_error(ps), -1;
        ps->i++;
        return k;
    }
    if (tok_is(t, "RAISE") && peek(ps, 1)->type == LX_LP)
        return exp_parse_raise(ps, pos);
    if (tok_is(t, "CURRENT_TIME") || tok_is(t, "CURRENT_DATE") || tok_is(t, "CURRENT_TIMESTAMP")) {
        ps->i++;
        char name[32];
        ident_text(t, name, sizeof name);
        for (char *p = name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p + 32);
        return builtin_call(ps, name, -1, 0, pos);
    }
    if (is_reserved(t))
        return syntax_error(ps), -1;
    ps->i++;
    if (peek(ps, 0)->type == LX_LP)
        return parse_call(ps, t);
    return parse_name(ps, t);
}

/* SQLite's sqlite3ExprCanBeNull after names are resolved: 0 for a literal
 * (under unary + and -, a hex literal too big included) and the rowid. */
static int can_be_null(parser *ps, int k)
{
    while (N(ps, k)->op == EXO_NEG || N(ps, k)->op == EXO_UPLUS)
        k = N(ps, k)->a;
    const ex_node *n = N(ps, k);
    switch (n->op) {
    case EXO_INT:
        return n->is_truefalse; /* TRUE and FALSE are not literals to it */
    case EXO_REAL:
    case EXO_TEXT:
    case EXO_BLOB:
    case EXO_ROWID:
        return 0;
    case EXO_NULL:
        for (int e = 0; e < ps->ndeferred; e++)
            if (ps->deferred[e].node == k && ps->deferred[e].phase == EXP_CODEGEN)
                return 0;
        return 1;
    default:
        return 1;
    }
}

/* x ISNULL / x NOTNULL: FALSE / TRUE when x cannot be NULL, as SQLite's
 * resolver rewrites it (x is then never evaluated). */
static int make_null_test(parser *ps, int op, int left, size_t pos)
{
    if (can_be_null(ps, left))
        return make_unary(ps, op, left, pos);
    return literal_int(ps, op == EXO_NOTNULL, pos);
}

/* ---- Infix forms --------------------------------------------------------------------- */

/* The operator at the cursor: its binding power, or 0 if none. */
static int infix_bp(parser *ps)
{
    const lx_token *t = peek(ps, 0);
    switch (t->type) {
    case LX_PLUS:
    case LX_MINUS:
        return BP_ADD;
    case LX_OP:
        break;
    case LX_ID:
        if (tok_is(t, "OR"))
            return BP_OR;
        if (tok_is(t, "AND"))
            return BP_AND;
        if (tok_is(t, "NOT")) {
            const lx_token *u = peek(ps, 1);
            if (tok_is(u, "NULL") || is_like_kw(u) || tok_is(u, "BETWEEN") || tok_is(u, "IN"))
                return BP_NOT;
            return 0;
        }
        if (tok_is(t, "IS") || is_like_kw(t) || tok_is(t, "BETWEEN") || tok_is(t, "IN") ||
            tok_is(t, "ISNULL") || tok_is(t, "NOTNULL"))
            return BP_EQ;
        if (tok_is(t, "COLLATE"))
            return BP_COLLATE;
        return 0;
    default:
        return 0;
    }
    if (tok_op(t, "=") || tok_op(t, "==") || tok_op(t, "!=") || tok_op(t, "<>"))
        return BP_EQ;
    if (tok_op(t, "<") || tok_op(t, "<=") || tok_op(t, ">") || tok_op(t, ">="))
        return BP_CMP;
    if (tok_op(t, "&") || tok_op(t, "|") || tok_op(t, "<<") || tok_op(t, ">>"))
        return BP_BIT;
    if (tok_op(t, "*") || tok_op(t, "/") || tok_op(t, "%"))
        return BP_MUL;
    if (tok_op(t, "||") || tok_op(t, "->") || tok_op(t, "->>"))
        return BP_CONCAT;
    return 0;
}

/* 1 for an integer literal 0 as written (SQLite's EP_IsFalse on TK_INTEGER). */
static int is_literal_zero(parser *ps, int k)
{
    const ex_node *n = N(ps, k);
    return n->op == EXO_INT && n->is_int_literal && n->u.i == 0;
}

static int parse_and_or(parser *ps, int left, int is_and, size_t pos)
{
    int right = parse_expr(ps, (is_and ? BP_AND : BP_OR) + 1);
    if (right < 0)
        return -1;
    if (is_and && (is_literal_zero(ps, left) || is_literal_zero(ps, right))) {
        int k = literal_int(ps, 0, pos);
        if (k >= 0)
            N(ps, k)->is_int_literal = 1;
        return k;
    }
    return make_binary(ps, is_and ? EXO_AND : EXO_OR, left, right, pos);
}

static int negate(parser *ps, int k, int neg, size_t pos)
{
    return neg ? make_unary(ps, EXO_NOT, k, pos) : k;
}

static int parse_like(parser *ps, int left, const lx_token *op, int neg, size_t pos)
{
    if (tok_is(op, "REGEXP") || tok_is(op, "MATCH"))
        return exp_fail(ps, FOLIO_UNSUPPORTED, tok_pos(ps, op),
                        "the %.*s operator is not supported", (int)op->n, op->z),
               -1;
    int right = parse_expr(ps, BP_EQ + 1);
    if (right < 0)
        return -1;
    int esc = -1;
    if (tok_is(peek(ps, 0), "ESCAPE")) {
        ps->i++;
        esc = parse_expr(ps, BP_EQ + 1);
        if (esc < 0)
            return -1;
    }
    /* x LIKE y ESCAPE z is like(y, x, z). */
    N(ps, right)->next = left;
    N(ps, left)->next = esc;
    int k = builtin_call(ps, tok_is(op, "GLOB") ? "glob" : "like", right, esc >= 0 ? 3 : 2, pos);
    return k < 0 ? -1 : negate(ps, k, neg, pos);
}

static int parse_between(parser *ps, int left, int neg, size_t pos)
{
    int lo = parse_expr(ps, BP_NOT);
    if (lo < 0)
        return -1;
    if (!tok_is(peek(ps, 0), "AND"))
        return syntax_error(ps), -1;
    ps->i++;
    int hi = parse_expr(ps, BP_EQ + 1);
    if (hi < 0)
        return -1;
    int k = new_node(ps, EXO_BETWEEN, pos);
    if (k < 0)
        return -1;
    ex_node *n = N(ps, k);
    n->a = left;
    n->b = lo;
    n->c = hi;
    n->aff = compare_affinity(N(ps, left)->eaff, N(ps, lo)->eaff);
    n->aff2 = compare_affinity(N(ps, left)->eaff, N(ps, hi)->eaff);
    n->coll = compare_collation(ps, left, lo);
    n->coll2 = compare_collation(ps, left, hi);
    if (check_collation(ps, k, left, lo, n->coll, pos) ||
        check_collation(ps, k, left, hi, n->coll2, pos) || finish_node(ps, k))
        return -1;
    return negate(ps, k, neg, pos);
}

static int parse_in(parser *ps, int left, int neg, size_t pos)
{
    if (peek(ps, 0)->type != LX_LP)
        return exp_fail(ps, FOLIO_UNSUPPORTED, tok_pos(ps, peek(ps, 0)),
                        "IN with a table or a table-valued function is not supported"),
               -1;
    ps->i++;
    const lx_token *t = peek(ps, 0);
    if (tok_is(t, "SELECT") || tok_is(t, "WITH") || tok_is(t, "VALUES")) {
        if (!subqueries_allowed(ps))
            return refuse_subquery(ps, tok_pos(ps, t));
        int k = exp_parse_select(ps, EXQ_IN, left, pos);
        if (k < 0)
            return -1;
        if (peek(ps, 0)->type != LX_RP)
            return syntax_error(ps), -1;
        ps->i++;
        return negate(ps, k, neg, pos);
    }
    int first = -1, last = -1, n = 0;
    if (t->type != LX_RP) {
        for (;;) {
            int e = parse_expr(ps, 0);
            if (e < 0)
                return -1;
            if (last >= 0)
                N(ps, last)->next = e;
            else
                first = e;
            last = e;
            n++;
            if (peek(ps, 0)->type != LX_COMMA)
                break;
            ps->i++;
        }
    }
    if (peek(ps, 0)->type != LX_RP)
        return syntax_error(ps), -1;
    ps->i++;
    if (n == 0) {
        /* SQLite's TRUE/FALSE node, which an AND folds like a literal 0. */
        int k = literal_int(ps, neg ? 1 : 0, pos);
        if (k >= 0) {
            N(ps, k)->is_truefalse = 1;
            N(ps, k)->is_int_literal = 1;
        }
        return k;
    }
    if (n == 1 && N(ps, first)->pconst) {
        /* x IN (c) is x == +c. */
        int plus = make_unary(ps, EXO_UPLUS, first, N(ps, first)->pos);
        if (plus < 0)
            return -1;
        int k = make_compare(ps, EXC_EQ, left, plus, pos);
        return k < 0 ? -1 : negate(ps, k, neg, pos);
    }
    int k = new_node(ps, EXO_IN, pos);
    if (k < 0)
        return -1;
    ex_node *nd = N(ps, k);
    nd->a = left;
    nd->list = first;
    nd->nlist = n;
    nd->aff = N(ps, left)->eaff;
    nd->coll = N(ps, left)->ecoll;
    if (check_collation(ps, k, left, -1, nd->coll, pos) || finish_node(ps, k))
        return -1;
    /* More than two constant items: SQLite builds a lookup table of them
     * first (each evaluated once, before the left operand). */
    int all_const = 1;
    for (int e = first; e >= 0; e = N(ps, e)->next)
        if (!N(ps, e)->constant)
            all_const = 0;
    N(ps, k)->sub = (uint8_t)(all_const && n > 2);
    return negate(ps, k, neg, pos);
}

static int parse_is(parser *ps, int left, size_t pos)
{
    int isnot = 0;
    if (tok_is(peek(ps, 0), "NOT")) {
        isnot = 1;
        ps->i++;
    }
    if (tok_is(peek(ps, 0), "DISTINCT")) {
        ps->i++;
        if (!tok_is(peek(ps, 0), "FROM"))
            return syntax_error(ps), -1;
        ps->i++;
        isnot = !isnot;
    }
    ps->last_bare_node = -1;
    int right = parse_expr(ps, BP_EQ + 1);
    if (right < 0)
        return -1;
    int right_name = skip_collate_likely(ps, right) == ps->last_bare_node;
    /* The NULL literal (not a name that failed to resolve, whose node is
     * also NULL). */
    if (N(ps, right)->op == EXO_NULL && N(ps, right)->pconst)
        return make_null_test(ps, isnot ? EXO_NOTNULL : EXO_ISNULL, left, pos);
    int r = skip_collate_likely(ps, right);
    if (N(ps, r)->is_truefalse && N(ps, r)->op == EXO_INT) {
        int k = make_binary(ps, EXO_TRUTH, left, right, pos);
        if (k < 0)
            return -1;
        N(ps, k)->sub = (uint8_t)((isnot ? EXT_NOT : 0) | (N(ps, r)->u.i ? EXT_TRUE : 0));
        return k;
    }
    int k = make_compare(ps, isnot ? EXC_ISNOT : EXC_IS, left, right, pos);
    if (k >= 0)
        N(ps, k)->right_first = (uint8_t)right_name;
    return k;
}

static int parse_collate(parser *ps, int left, size_t pos)
{
    const lx_token *t = peek(ps, 0);
    if (t->type != LX_ID && t->type != LX_QID && t->type != LX_STRING)
        return syntax_error(ps), -1;
    ps->i++;
    char name[128];
    ident_text(t, name, sizeof name);
    int coll = sch_collation_of(name);
    int k = make_unary(ps, EXO_COLLATE, left, pos);
    if (k < 0)
        return -1;
    if (coll == SCH_COLL_UNKNOWN) {
        /* An error only where a comparison uses it, as in SQLite. */
        uint32_t off;
        if (exp_add_bytes(ps, name, strlen(name), &off))
            return -1;
        N(ps, k)->u.s.off = off;
        N(ps, k)->u.s.n = (uint32_t)strlen(name);
    }
    N(ps, k)->ecoll = (uint8_t)coll;
    N(ps, k)->coll = (uint8_t)coll;
    return k;
}

static int binary_op_of(const lx_token *t, int *cmp)
{
    *cmp = -1;
    if (t->type == LX_PLUS)
        return EXO_ADD;
    if (t->type == LX_MINUS)
        return EXO_SUB;
    static const struct {
        const char *text;
        int op, cmp;
    } ops[] = {{"*", EXO_MUL, -1},      {"/", EXO_DIV, -1},      {"%", EXO_REM, -1},
               {"||", EXO_CONCAT, -1},  {"&", EXO_BITAND, -1},   {"|", EXO_BITOR, -1},
               {"<<", EXO_LSHIFT, -1},  {">>", EXO_RSHIFT, -1},  {"=", EXO_CMP, EXC_EQ},
               {"==", EXO_CMP, EXC_EQ}, {"!=", EXO_CMP, EXC_NE}, {"<>", EXO_CMP, EXC_NE},
               {"<", EXO_CMP, EXC_LT},  {"<=", EXO_CMP, EXC_LE}, {">", EXO_CMP, EXC_GT},
               {">=", EXO_CMP, EXC_GE}};
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        if (tok_op(t, ops[k].text)) {
            *cmp = ops[k].cmp;
            return ops[k].op;
        }
    }
    return -1;
}

/* One infix or postfix operator applied to `left`. */
static int parse_infix(parser *ps, int left)
{
    const lx_token *t = peek(ps, 0);
    size_t pos = tok_pos(ps, t);
    ps->i++;
    if (t->type == LX_ID) {
        if (tok_is(t, "OR") || tok_is(t, "AND"))
            return parse_and_or(ps, left, tok_is(t, "AND"), pos);
        int neg = 0;
        if (tok_is(t, "NOT")) {
            neg = 1;
            t = peek(ps, 0);
            ps->i++;
            if (tok_is(t, "NULL"))
                return make_null_test(ps, EXO_NOTNULL, left, pos);
        }
        if (tok_is(t, "ISNULL"))
            return make_null_test(ps, EXO_ISNULL, left, pos);
        if (tok_is(t, "NOTNULL"))
            return make_null_test(ps, EXO_NOTNULL, left, pos);
        if (tok_is(t, "IS"))
            return parse_is(ps, left, pos);
        if (is_like_kw(t))
            return parse_like(ps, left, t, neg, pos);
        if (tok_is(t, "BETWEEN"))
            return parse_between(ps, left, neg, pos);
        if (tok_is(t, "IN"))
            return parse_in(ps, left, neg, pos);
        if (tok_is(t, "COLLATE"))
            return parse_collate(ps, left, pos);
        return syntax_error(ps), -1;
    }
    if (tok_op(t, "->") || tok_op(t, "->>")) {
        int right = parse_expr(ps, BP_CONCAT + 1);
        if (right < 0)
            return -1;
        N(ps, left)->next = right;
        return builtin_call(ps, t->n == 2 ? "->" : "->>", left, 2, pos);
    }
    int cmp;
    int op = binary_op_of(t, &cmp);
    if (op < 0)
        return syntax_error(ps), -1;
    int bp = op == EXO_CMP                                     ? (cmp <= EXC_NE ? BP_EQ : BP_CMP)
             : op == EXO_ADD || op == EXO_SUB                  ? BP_ADD
             : op == EXO_MUL || op == EXO_DIV || op == EXO_REM ? BP_MUL
             : op == EXO_CONCAT                                ? BP_CONCAT
                                                               : BP_BIT;
    int right = parse_expr(ps, bp + 1);
    if (right < 0)
        return -1;
    if (op == EXO_CMP)
        return make_compare(ps, cmp, left, right, pos);
    return make_binary(ps, op, left, right, pos);
}

static int parse_expr(parser *ps, int min_bp)
{
    if (++ps->depth > EX_MAX_DEPTH) {
        ps->depth--;
        return exp_fail(ps, FOLIO_ERROR, tok_pos(ps, peek(ps, 0)), "parser stack overflow"), -1;
    }
    int left = parse_prefix(ps);
    while (left >= 0) {
        int bp = infix_bp(ps);
        if (bp == 0 || bp < min_bp)
            break;
        left = parse_infix(ps, left);
    }
    ps->depth--;
    return left;
}

int exp_parse(parser *ps)
{
    int root = parse_expr(ps, 0);
    if (root >= 0 && peek(ps, 0)->type != LX_EOF)
        return syntax_error(ps), -1;
    return ps->rc ? -1 : root;
}

/* ---- What expr_select.c uses ------------------------------------------------------- */

const lx_token *exp_peek(const parser *ps, size_t k)
{
    return peek(ps, k);
}

size_t exp_tok_pos(const parser *ps, const lx_token *t)
{
    return tok_pos(ps, t);
}

int exp_tok_is(const lx_token *t, const char *kw)
{
    return tok_is(t, kw);
}

int exp_tok_op(const lx_token *t, const char *op)
{
    return tok_op(t, op);
}

int exp_is_reserved(const lx_token *t)
{
    return is_reserved(t);
}

int exp_syntax_error(parser *ps)
{
    return syntax_error(ps);
}

void exp_ident_text(const lx_token *t, char *buf, size_t cap)
{
    ident_text(t, buf, cap);
}

int exp_new_node(parser *ps, int op, size_t pos)
{
    return new_node(ps, op, pos);
}

int exp_finish_node(parser *ps, int k)
{
    return finish_node(ps, k);
}

int exp_parse_expr(parser *ps, int min_bp)
{
    return parse_expr(ps, min_bp);
}

uint8_t exp_compare_affinity(uint8_t a1, uint8_t a2)
{
    return compare_affinity(a1, a2);
}

uint8_t exp_compare_collation(parser *ps, int l, int r)
{
    return compare_collation(ps, l, r);
}

int exp_check_collation(parser *ps, int k, int l, int r, uint8_t coll, size_t pos)
{
    return check_collation(ps, k, l, r, coll, pos);
}

const char *exp_context_name(unsigned flags)
{
    return context_name(flags);
}

int exp_deterministic_context(unsigned flags)
{
    return deterministic_context(flags);
}

int exp_failed_node(parser *ps, int first, int nargs, size_t pos)
{
    return failed_node(ps, first, nargs, pos);
}
