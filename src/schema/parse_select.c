/*
 * parse_select.c - SQLite's SELECT grammar (parse.y of 3.40), by recursive
 * descent, into the tree of select.h; and CREATE VIEW around it.
 *
 * Keywords follow SQLite's tokenizer and parser:
 *   - reserved words (SELECT, FROM, AND, ...) are never names;
 *   - join words (LEFT, NATURAL, ...) are names ("nm") but not "id" or "ids";
 *   - every other keyword has SQLite's ID fallback: it is the keyword where
 *     the grammar can take that keyword at that point, else an identifier
 *     (an alias "asc" after a result column, a column named "offset"). The
 *     parser tests the keyword meanings of a point first, then the name;
 *   - WINDOW, OVER and FILTER are keywords only where SQLite's tokenizer
 *     makes them so (WINDOW before "name AS", OVER after ")" and before "("
 *     or a name, FILTER after ")" and before "("); else plain identifiers.
 * A syntax error names the first token no valid statement can continue
 * with ("incomplete input" at the end), as SQLite's LALR parser does.
 *
 * Expressions are parsed by precedence climbing over SQLite's table
 * (lowest first): OR; AND; NOT (prefix); IS MATCH LIKE GLOB REGEXP BETWEEN
 * IN ISNULL NOTNULL != = (and their NOT forms); < <= > >=; ESCAPE; & | <<
 * >>; + -; * / %; || -> ->>; COLLATE; unary - + ~. The operand between
 * BETWEEN and AND takes any operator above AND.
 *
 * Recursion is bounded (SQ_MAX_DEPTH, about where SQLite's parser stack of
 * 100 entries overflows on nested parentheses); every loop consumes a token.
 */
#include "schema/select.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQ_MAX_DEPTH     100
#define SQ_MAX_FUNC_ARGS 127    /* SQLITE_MAX_FUNCTION_ARG */
#define SQ_MAX_COMPOUND  500    /* SQLITE_MAX_COMPOUND_SELECT */
#define SQ_MAX_VARIABLE  250000 /* SQLITE_MAX_VARIABLE_NUMBER of Debian's libsqlite3 */

/* ---- Arena ---------------------------------------------------------------------- */

struct sq_arena {
    sq_arena *next;
    size_t used, cap;
    max_align_t data[];
};

static void *arena_alloc(sq_arena **a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!*a || (*a)->cap - (*a)->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        sq_arena *b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = *a;
        b->used = 0;
        b->cap = cap;
        *a = b;
    }
    void *p = (char *)(*a)->data + (*a)->used;
    (*a)->used += n;
    memset(p, 0, n);
    return p;
}

/* ---- Parser state ------------------------------------------------------------------ */

enum { KW_NONE, KW_WINDOW, KW_OVER, KW_FILTER };

typedef struct P {
    const char *sql;
    lx_token *t;
    size_t nt;
    uint8_t *special; /* KW_* for WINDOW, OVER and FILTER tokens that are keywords */
    size_t i;
    int depth;
    int nvars;
    sq_arena *arena;
    char *err;
    size_t errlen;
    int failed;
} P;

static int fail(P *p, const char *fmt, ...)
{
    if (p->failed)
        return -1;
    p->failed = 1;
    const lx_token *t = &p->t[p->i];
    if (t->type == LX_ILLEGAL) {
        /* SQLite stops at an unrecognized token before its parser sees it. */
        if (p->err && p->errlen)
            snprintf(p->err, p->errlen, "unrecognized token: \"%.*s\"", (int)t->n, t->z);
        return -1;
    }
    if (p->err && p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const lx_token *tok(const P *p)
{
    return &p->t[p->i];
}

static const lx_token *ahead(const P *p, size_t k)
{
    size_t j = p->i + k;
    return &p->t[j < p->nt ? j : p->nt - 1];
}

static void advance(P *p)
{
    if (p->i + 1 < p->nt)
        p->i++;
}

static int syntax_error(P *p)
{
    const lx_token *t = tok(p);
    if (t->type == LX_EOF)
        return fail(p, "incomplete input");
    return fail(p, "near \"%.*s\": syntax error", (int)t->n, t->z);
}

static int nomem(P *p)
{
    return fail(p, "out of memory");
}

static void *alloc(P *p, size_t n)
{
    void *r = arena_alloc(&p->arena, n);
    if (!r)
        nomem(p);
    return r;
}

/* Make room for element n of an array in the arena whose capacity is
 * implied by n (4, then doubling); the old copy stays in the arena. */
static void *grow(P *p, void *v, int n, size_t size)
{
    if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
        return v;
    size_t cap = n ? (size_t)n * 2 : 4;
    void *nv = alloc(p, cap * size);
    if (nv && n)
        memcpy(nv, v, (size_t)n * size);
    return nv;
}

/* ---- Keywords ------------------------------------------------------------------------ */

static int strcasecmp_ascii(const char *a, const char *b)
{
    for (;; a++, b++) {
        int c = (unsigned char)*a, d = (unsigned char)*b;
        if (c >= 'A' && c <= 'Z')
            c += 32;
        if (d >= 'A' && d <= 'Z')
            d += 32;
        if (c != d || c == 0)
            return c - d;
    }
}

static int ieq(const char *a, size_t n, const char *w)
{
    size_t k = 0;
    for (; k < n && w[k]; k++) {
        char c = a[k];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c != w[k])
            return 0;
    }
    return k == n && w[k] == 0;
}

static int word(const lx_token *t, const char *w)
{
    return t->type == LX_ID && ieq(t->z, t->n, w);
}

static int in_words(const lx_token *t, const char *const *list)
{
    if (t->type != LX_ID)
        return 0;
    for (size_t k = 0; list[k]; k++)
        if (ieq(t->z, t->n, list[k]))
            return 1;
    return 0;
}

static const char *const reserved[] = {
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

static const char *const join_words[] = {"CROSS",   "FULL",  "INNER", "LEFT",
                                         "NATURAL", "OUTER", "RIGHT", NULL};

static int is_joinkw(const lx_token *t)
{
    return in_words(t, join_words);
}

/* The keyword w at the current token (WINDOW, OVER and FILTER only where
 * the tokenizer makes them keywords). */
static int at_kw(const P *p, const char *w)
{
    const lx_token *t = tok(p);
    if (!word(t, w))
        return 0;
    if (word(t, "WINDOW"))
        return p->special[p->i] == KW_WINDOW;
    if (word(t, "OVER"))
        return p->special[p->i] == KW_OVER;
    if (word(t, "FILTER"))
        return p->special[p->i] == KW_FILTER;
    return 1;
}

static int accept_kw(P *p, const char *w)
{
    if (!at_kw(p, w))
        return 0;
    advance(p);
    return 1;
}

static int expect_kw(P *p, const char *w)
{
    return accept_kw(p, w) ? 0 : syntax_error(p);
}

static int accept(P *p, int type)
{
    if (tok(p)->type != type)
        return 0;
    advance(p);
    return 1;
}

static int expect(P *p, int type)
{
    return accept(p, type) ? 0 : syntax_error(p);
}

static int is_op(const lx_token *t, const char *op)
{
    size_t n = strlen(op);
    return (t->type == LX_OP || t->type == LX_PLUS || t->type == LX_MINUS) && t->n == n &&
           memcmp(t->z, op, n) == 0;
}

/* "id" with the fallback: an identifier, a quoted name, or a keyword that
 * is not reserved (the caller has ruled out its keyword meanings here).
 * INDEXED is an id. */
static int tok_is_id(const P *p, size_t i)
{
    const lx_token *t = &p->t[i];
    if (t->type == LX_QID)
        return 1;
    if (t->type != LX_ID || in_words(t, reserved) || is_joinkw(t))
        return 0;
    return p->special[i] == KW_NONE;
}

static int is_id(const P *p)
{
    return tok_is_id(p, p->i);
}

/* "nm": id, a string or a join keyword. */
static int is_nm(const P *p)
{
    const lx_token *t = tok(p);
    return is_id(p) || t->type == LX_STRING || is_joinkw(t);
}

/* "ids": id (not INDEXED) or a string. */
static int is_ids(const P *p)
{
    const lx_token *t = tok(p);
    return (is_id(p) && !word(t, "INDEXED")) || t->type == LX_STRING;
}

static int parse_nm(P *p, int *out)
{
    if (!is_nm(p))
        return syntax_error(p);
    *out = (int)p->i;
    advance(p);
    return 0;
}

/* SQLite's tokenizer: WINDOW, OVER and FILTER are keywords only before (and
 * after) certain tokens. A "name" here is what getToken() calls TK_ID: an
 * identifier, a string, a join keyword, WINDOW, OVER, or a keyword with
 * the ID fallback. */
static int lookahead_is_name(const P *p, size_t i)
{
    const lx_token *t = &p->t[i];
    if (t->type == LX_QID || t->type == LX_STRING)
        return 1;
    if (t->type != LX_ID)
        return 0;
    if (is_joinkw(t) || word(t, "WINDOW") || word(t, "OVER"))
        return 1;
    return !in_words(t, reserved) && !word(t, "FILTER") && !word(t, "INDEXED");
}

static void mark_special(P *p)
{
    for (size_t i = 0; i + 1 < p->nt; i++) {
        const lx_token *t = &p->t[i];
        int prev_rp = i > 0 && p->t[i - 1].type == LX_RP;
        if (word(t, "WINDOW")) {
            if (lookahead_is_name(p, i + 1) && i + 2 < p->nt && word(&p->t[i + 2], "AS"))
                p->special[i] = KW_WINDOW;
        } else if (word(t, "OVER")) {
            if (prev_rp && (p->t[i + 1].type == LX_LP || lookahead_is_name(p, i + 1)))
                p->special[i] = KW_OVER;
        } else if (word(t, "FILTER")) {
            if (prev_rp && p->t[i + 1].type == LX_LP)
                p->special[i] = KW_FILTER;
        }
    }
}

/* The dequoted text of a name token into buf (cut at cap - 1 bytes). */
static size_t dequote_tok(const lx_token *t, char *buf, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return 0;
    if (t->n == 0 || !(t->z[0] == '"' || t->z[0] == '\'' || t->z[0] == '`' || t->z[0] == '[')) {
        o = t->n < cap - 1 ? t->n : cap - 1;
        memcpy(buf, t->z, o);
        buf[o] = 0;
        return o;
    }
    char q = t->z[0] == '[' ? ']' : t->z[0];
    for (size_t k = 1; k + 1 < t->n && o + 1 < cap; k++) {
        buf[o++] = t->z[k];
        if (t->z[k] == q && q != ']' && k + 2 < t->n && t->z[k + 1] == q)
            k++;
    }
    buf[o] = 0;
    return o;
}

/* Whether two name tokens name the same thing (dequoted, ASCII case folded). */
static int tok_is_name_eq(const P *p, int a, int b)
{
    char x[512], y[512];
    size_t nx = dequote_tok(&p->t[a], x, sizeof x), ny = dequote_tok(&p->t[b], y, sizeof y);
    return nx == ny && strcasecmp_ascii(x, y) == 0;
}

/* ---- Trees ------------------------------------------------------------------------- */

static sq_expr *new_expr(P *p, int kind, size_t first)
{
    sq_expr *e = alloc(p, sizeof *e);
    if (e) {
        e->kind = kind;
        e->first = (int)first;
        e->last = (int)first;
        e->tok[0] = e->tok[1] = e->tok[2] = -1;
        e->over_name = -1;
    }
    return e;
}

static int add_kid(P *p, sq_expr *e, sq_expr *k)
{
    if (!k)
        return -1;
    sq_expr **v = grow(p, e->kids, e->nkids, sizeof *v);
    if (!v)
        return -1;
    e->kids = v;
    e->kids[e->nkids++] = k;
    return 0;
}

static void finish(P *p, sq_expr *e)
{
    if (e && p->i > 0)
        e->last = (int)p->i - 1;
}

static int push_expr(P *p, sq_expr ***v, int *n, sq_expr *e)
{
    if (!e)
        return -1;
    sq_expr **nv = grow(p, *v, *n, sizeof **v);
    if (!nv)
        return -1;
    *v = nv;
    (*v)[(*n)++] = e;
    return 0;
}

static int push_tok(P *p, int **v, int *n, int t)
{
    int *nv = grow(p, *v, *n, sizeof **v);
    if (!nv)
        return -1;
    *v = nv;
    (*v)[(*n)++] = t;
    return 0;
}

/* ---- Expressions --------------------------------------------------------------------- */

enum {
    BP_OR = 1,
    BP_AND = 2,
    BP_NOT = 3,
    BP_EQ = 4,
    BP_CMP = 5,
    BP_ESCAPE = 6,
    BP_BIT = 7,
    BP_ADD = 8,
    BP_MUL = 9,
    BP_CONCAT = 10,
    BP_COLLATE = 11,
    BP_UNARY = 12
};

static sq_expr *expr(P *p, int minbp);
static sq_select *select_stmt(P *p);
static int sortlist(P *p, sq_order **out, int *n);

static int enter(P *p)
{
    if (++p->depth > SQ_MAX_DEPTH) {
        p->depth--;
        return fail(p, "parser stack overflow");
    }
    return 0;
}

static int starts_select(const P *p)
{
    return at_kw(p, "SELECT") || at_kw(p, "VALUES") || at_kw(p, "WITH");
}

/* nexprlist: expr, expr, ... (at least one) */
static int nexprlist(P *p, sq_expr ***v, int *n)
{
    do {
        if (push_expr(p, v, n, expr(p, BP_OR)) < 0)
            return -1;
    } while (accept(p, LX_COMMA));
    return 0;
}

/* ( select ) at "(": the subquery. */
static sq_select *paren_select(P *p)
{
    if (expect(p, LX_LP) < 0)
        return NULL;
    sq_select *s = select_stmt(p);
    if (!s || expect(p, LX_RP) < 0)
        return NULL;
    return s;
}

/* typetoken of CAST: [ids ...] [( signed [, signed] )] */
static int typetoken(P *p)
{
    if (!is_ids(p))
        return 0;
    while (is_ids(p))
        advance(p);
    if (!accept(p, LX_LP))
        return 0;
    for (int k = 0; k < 2; k++) {
        if (tok(p)->type == LX_PLUS || tok(p)->type == LX_MINUS)
            advance(p);
        if (tok(p)->type != LX_INTEGER && tok(p)->type != LX_FLOAT)
            return syntax_error(p);
        advance(p);
        if (k == 0 && !accept(p, LX_COMMA))
            break;
    }
    return expect(p, LX_RP);
}

/* frame_opt of a window. */
static int frame_bound(P *p, sq_expr **out, int start, int *kind)
{
    if (accept_kw(p, "UNBOUNDED")) {
        *kind = start ? 1 : 5;
        return expect_kw(p, start ? "PRECEDING" : "FOLLOWING");
    }
    if (accept_kw(p, "CURRENT")) {
        *kind = 3;
        return expect_kw(p, "ROW");
    }
    if (!(*out = expr(p, BP_OR)))
        return -1;
    if (accept_kw(p, "PRECEDING")) {
        *kind = 2;
        return 0;
    }
    if (accept_kw(p, "FOLLOWING")) {
        *kind = 4;
        return 0;
    }
    return syntax_error(p);
}

static int frame_opt(P *p, sq_window *w)
{
    if (!(at_kw(p, "RANGE") || at_kw(p, "ROWS") || at_kw(p, "GROUPS")))
        return 0;
    w->frame = (int)p->i;
    advance(p);
    int ks = 0, ke = 3;
    if (accept_kw(p, "BETWEEN")) {
        if (frame_bound(p, &w->lo, 1, &ks) < 0 || expect_kw(p, "AND") < 0)
            return -1;
        if (frame_bound(p, &w->hi, 0, &ke) < 0)
            return -1;
    } else if (frame_bound(p, &w->lo, 1, &ks) < 0) {
        return -1;
    }
    if (accept_kw(p, "EXCLUDE")) {
        if (accept_kw(p, "NO")) {
            if (expect_kw(p, "OTHERS") < 0)
                return -1;
        } else if (accept_kw(p, "CURRENT")) {
            if (expect_kw(p, "ROW") < 0)
                return -1;
        } else if (!accept_kw(p, "GROUP") && !accept_kw(p, "TIES")) {
            return syntax_error(p);
        }
    }
    /* sqlite3WindowAlloc: the start may not come after the end in
     * UNBOUNDED PRECEDING, PRECEDING, CURRENT ROW, FOLLOWING, UNBOUNDED FOLLOWING. */
    if ((ks == 3 && ke == 2) || (ks == 4 && (ke == 2 || ke == 3)))
        return fail(p, "unsupported frame specification");
    return 0;
}

/* window: the inside of OVER ( ) or of a WINDOW definition. */
static sq_window *window_spec(P *p)
{
    sq_window *w = alloc(p, sizeof *w);
    if (!w)
        return NULL;
    w->name = w->base = -1;
    if (!at_kw(p, "PARTITION") && !at_kw(p, "ORDER") && !at_kw(p, "RANGE") && !at_kw(p, "ROWS") &&
        !at_kw(p, "GROUPS") && is_nm(p)) {
        w->base = (int)p->i;
        advance(p);
    }
    if (accept_kw(p, "PARTITION")) {
        if (expect_kw(p, "BY") < 0 || nexprlist(p, &w->parts, &w->nparts) < 0)
            return NULL;
    }
    if (accept_kw(p, "ORDER")) {
        if (expect_kw(p, "BY") < 0 || sortlist(p, &w->order, &w->norder) < 0)
            return NULL;
    }
    if (frame_opt(p, w) < 0)
        return NULL;
    return w;
}

/* After a function's ")": [FILTER (WHERE expr)] [OVER (window) | OVER name]. */
static int filter_over(P *p, sq_expr *e)
{
    if (accept_kw(p, "FILTER")) {
        if (expect(p, LX_LP) < 0 || expect_kw(p, "WHERE") < 0 || !(e->filter = expr(p, BP_OR)) ||
            expect(p, LX_RP) < 0)
            return -1;
    }
    if (accept_kw(p, "OVER")) {
        if (accept(p, LX_LP)) {
            if (!(e->over = window_spec(p)) || expect(p, LX_RP) < 0)
                return -1;
        } else if (parse_nm(p, &e->over_name) < 0) {
            return -1;
        }
        if (e->distinct && (e->over || e->over_name >= 0))
            return fail(p, "DISTINCT is not supported for window functions");
    }
    return 0;
}

/* id ( [DISTINCT|ALL] args ) | id ( * ), then FILTER / OVER. */
static sq_expr *function_call(P *p)
{
    sq_expr *e = new_expr(p, SQ_FUNC, p->i);
    if (!e)
        return NULL;
    e->tok[0] = (int)p->i;
    e->ntok = 1;
    const lx_token *name = tok(p);
    advance(p);
    advance(p); /* ( */
    if (is_op(tok(p), "*")) {
        e->star = 1;
        advance(p);
    } else {
        if (accept_kw(p, "DISTINCT"))
            e->distinct = 1;
        else
            accept_kw(p, "ALL");
        if (tok(p)->type != LX_RP)
            for (;;) {
                if (add_kid(p, e, expr(p, BP_OR)) < 0)
                    return NULL;
                if (!accept(p, LX_COMMA))
                    break;
            }
    }
    if (expect(p, LX_RP) < 0)
        return NULL;
    if (e->nkids > SQ_MAX_FUNC_ARGS) {
        fail(p, "too many arguments on function %.*s", (int)name->n, name->z);
        return NULL;
    }
    if (filter_over(p, e) < 0)
        return NULL;
    finish(p, e);
    return e;
}

/* nm [. nm [. nm]] as a column reference, the current token a name. */
static sq_expr *column_ref(P *p)
{
    sq_expr *e = new_expr(p, SQ_NAME, p->i);
    if (!e)
        return NULL;
    e->tok[0] = (int)p->i;
    e->ntok = 1;
    advance(p);
    while (e->ntok < 3 && tok(p)->type == LX_DOT) {
        advance(p);
        if (parse_nm(p, &e->tok[e->ntok]) < 0)
            return NULL;
        e->ntok++;
    }
    finish(p, e);
    return e;
}

static sq_expr *case_expr(P *p)
{
    sq_expr *e = new_expr(p, SQ_OP, p->i);
    if (!e)
        return NULL;
    advance(p); /* CASE */
    if (!at_kw(p, "WHEN") && add_kid(p, e, expr(p, BP_OR)) < 0)
        return NULL;
    if (!at_kw(p, "WHEN")) {
        syntax_error(p);
        return NULL;
    }
    while (accept_kw(p, "WHEN")) {
        if (add_kid(p, e, expr(p, BP_OR)) < 0 || expect_kw(p, "THEN") < 0 ||
            add_kid(p, e, expr(p, BP_OR)) < 0)
            return NULL;
    }
    if (accept_kw(p, "ELSE") && add_kid(p, e, expr(p, BP_OR)) < 0)
        return NULL;
    if (expect_kw(p, "END") < 0)
        return NULL;
    finish(p, e);
    return e;
}

static sq_expr *raise_expr(P *p)
{
    sq_expr *e = new_expr(p, SQ_RAISE, p->i);
    if (!e)
        return NULL;
    advance(p);
    if (expect(p, LX_LP) < 0)
        return NULL;
    if (!accept_kw(p, "IGNORE")) {
        if (!accept_kw(p, "ROLLBACK") && !accept_kw(p, "ABORT") && !accept_kw(p, "FAIL")) {
            syntax_error(p);
            return NULL;
        }
        int nm;
        if (expect(p, LX_COMMA) < 0 || parse_nm(p, &nm) < 0)
            return NULL;
    }
    if (expect(p, LX_RP) < 0)
        return NULL;
    finish(p, e);
    return e;
}

static int is_ctime(const lx_token *t)
{
    return word(t, "CURRENT_TIME") || word(t, "CURRENT_DATE") || word(t, "CURRENT_TIMESTAMP");
}

/* A variable: SQLite checks the number of ?NNN while it parses. */
static sq_expr *variable(P *p)
{
    const lx_token *t = tok(p);
    if (t->z[0] == '?' && t->n > 1) {
        long long v = 0;
        for (size_t k = 1; k < t->n && v <= SQ_MAX_VARIABLE; k++)
            v = v * 10 + (t->z[k] - '0');
        if (v < 1 || v > SQ_MAX_VARIABLE) {
            fail(p, "variable number must be between ?1 and ?%d", SQ_MAX_VARIABLE);
            return NULL;
        }
    }
    p->nvars++;
    sq_expr *e = new_expr(p, SQ_VAR, p->i);
    advance(p);
    return e;
}

static sq_expr *primary(P *p)
{
    const lx_token *t = tok(p);
    size_t at = p->i;
    switch (t->type) {
    case LX_INTEGER:
    case LX_FLOAT:
    case LX_BLOB: {
        sq_expr *e = new_expr(p, SQ_LITERAL, at);
        advance(p);
        return e;
    }
    case LX_STRING:
        if (ahead(p, 1)->type == LX_DOT)
            return column_ref(p);
        advance(p);
        return new_expr(p, SQ_LITERAL, at);
    case LX_VARIABLE:
        return variable(p);
    case LX_LP: {
        advance(p);
        if (starts_select(p)) {
            sq_expr *e = new_expr(p, SQ_SUBQ, at);
            if (!e || !(e->sel = select_stmt(p)) || expect(p, LX_RP) < 0)
                return NULL;
            finish(p, e);
            return e;
        }
        sq_expr *e = new_expr(p, SQ_OP, at);
        if (!e || add_kid(p, e, expr(p, BP_OR)) < 0)
            return NULL;
        while (accept(p, LX_COMMA))
            if (add_kid(p, e, expr(p, BP_OR)) < 0)
                return NULL;
        if (expect(p, LX_RP) < 0)
            return NULL;
        finish(p, e);
        return e;
    }
    case LX_QID:
        if (ahead(p, 1)->type == LX_LP)
            return function_call(p);
        return column_ref(p);
    case LX_ID:
        break;
    default:
        syntax_error(p);
        return NULL;
    }
    if (at_kw(p, "NULL") || is_ctime(t)) {
        advance(p);
        return new_expr(p, SQ_LITERAL, at);
    }
    if (at_kw(p, "CAST")) {
        sq_expr *e = new_expr(p, SQ_CAST, at);
        advance(p);
        if (!e || expect(p, LX_LP) < 0 || add_kid(p, e, expr(p, BP_OR)) < 0 ||
            expect_kw(p, "AS") < 0 || typetoken(p) < 0 || expect(p, LX_RP) < 0)
            return NULL;
        finish(p, e);
        return e;
    }
    if (at_kw(p, "EXISTS")) {
        sq_expr *e = new_expr(p, SQ_EXISTS, at);
        advance(p);
        if (!e || !(e->sel = paren_select(p)))
            return NULL;
        finish(p, e);
        return e;
    }
    if (at_kw(p, "CASE"))
        return case_expr(p);
    if (at_kw(p, "RAISE"))
        return raise_expr(p);
    if (is_joinkw(t)) {
        if (ahead(p, 1)->type == LX_DOT)
            return column_ref(p);
        advance(p);
        sq_expr *e = new_expr(p, SQ_NAME, at);
        if (e) {
            e->tok[0] = (int)at;
            e->ntok = 1;
        }
        return e;
    }
    if (!is_id(p)) {
        syntax_error(p);
        return NULL;
    }
    if (ahead(p, 1)->type == LX_LP)
        return function_call(p);
    return column_ref(p);
}

static sq_expr *binary(P *p, sq_expr *l, int kind_first)
{
    sq_expr *e = new_expr(p, SQ_OP, (size_t)kind_first);
    if (!e || add_kid(p, e, l) < 0)
        return NULL;
    return e;
}

/* The right side of IN after IN (or NOT IN). */
static sq_expr *in_rhs(P *p, sq_expr *l)
{
    if (accept(p, LX_LP)) {
        if (starts_select(p)) {
            sq_expr *e = new_expr(p, SQ_IN_SEL, (size_t)l->first);
            if (!e || add_kid(p, e, l) < 0 || !(e->sel = select_stmt(p)) || expect(p, LX_RP) < 0)
                return NULL;
            finish(p, e);
            return e;
        }
        sq_expr *e = binary(p, l, l->first);
        if (!e)
            return NULL;
        if (tok(p)->type != LX_RP)
            do {
                if (add_kid(p, e, expr(p, BP_OR)) < 0)
                    return NULL;
            } while (accept(p, LX_COMMA));
        if (expect(p, LX_RP) < 0)
            return NULL;
        finish(p, e);
        return e;
    }
    /* nm dbnm paren_exprlist: a table or a table-valued function. */
    sq_expr *e = new_expr(p, SQ_IN_TAB, (size_t)l->first);
    if (!e || add_kid(p, e, l) < 0 || parse_nm(p, &e->tok[0]) < 0)
        return NULL;
    e->ntok = 1;
    if (accept(p, LX_DOT)) {
        if (parse_nm(p, &e->tok[1]) < 0)
            return NULL;
        e->ntok = 2;
    }
    if (accept(p, LX_LP)) {
        if (tok(p)->type != LX_RP)
            do {
                if (add_kid(p, e, expr(p, BP_OR)) < 0)
                    return NULL;
            } while (accept(p, LX_COMMA));
        if (expect(p, LX_RP) < 0)
            return NULL;
    }
    finish(p, e);
    return e;
}

static int is_likeop(const P *p)
{
    return at_kw(p, "LIKE") || at_kw(p, "GLOB") || at_kw(p, "REGEXP") || at_kw(p, "MATCH");
}

/* Binding power of the binary operator at the current token, or 0. */
static int infix_bp(const P *p)
{
    const lx_token *t = tok(p);
    if (at_kw(p, "OR"))
        return BP_OR;
    if (at_kw(p, "AND"))
        return BP_AND;
    if (at_kw(p, "IS") || at_kw(p, "ISNULL") || at_kw(p, "NOTNULL") || at_kw(p, "BETWEEN") ||
        at_kw(p, "IN") || at_kw(p, "NOT") || is_likeop(p))
        return BP_EQ;
    if (is_op(t, "=") || is_op(t, "==") || is_op(t, "!=") || is_op(t, "<>"))
        return BP_EQ;
    if (is_op(t, "<") || is_op(t, "<=") || is_op(t, ">") || is_op(t, ">="))
        return BP_CMP;
    if (is_op(t, "&") || is_op(t, "|") || is_op(t, "<<") || is_op(t, ">>"))
        return BP_BIT;
    if (t->type == LX_PLUS || t->type == LX_MINUS)
        return BP_ADD;
    if (is_op(t, "*") || is_op(t, "/") || is_op(t, "%"))
        return BP_MUL;
    if (is_op(t, "||") || is_op(t, "->") || is_op(t, "->>"))
        return BP_CONCAT;
    if (at_kw(p, "COLLATE"))
        return BP_COLLATE;
    return 0;
}

static sq_expr *expr_tail(P *p, sq_expr *l, int minbp)
{
    for (;;) {
        int bp = infix_bp(p);
        if (!l || bp == 0 || bp < minbp)
            return l;
        if (at_kw(p, "COLLATE")) {
            advance(p);
            sq_expr *e = new_expr(p, SQ_COLLATE, (size_t)l->first);
            if (!e || add_kid(p, e, l) < 0)
                return NULL;
            if (!is_ids(p)) {
                syntax_error(p);
                return NULL;
            }
            e->tok[0] = (int)p->i;
            e->ntok = 1;
            advance(p);
            finish(p, e);
            l = e;
            continue;
        }
        if (bp != BP_EQ) {
            advance(p);
            sq_expr *e = binary(p, l, l->first);
            if (!e || add_kid(p, e, expr(p, bp + 1)) < 0)
                return NULL;
            finish(p, e);
            l = e;
            continue;
        }
        /* The operators of SQLite's EQ level, with their NOT forms. */
        sq_expr *e = binary(p, l, l->first);
        if (!e)
            return NULL;
        int not = accept_kw(p, "NOT");
        if (!not &&(accept_kw(p, "ISNULL") || accept_kw(p, "NOTNULL"))) {
            /* postfix */
        } else if (not &&accept_kw(p, "NULL")) {
            /* expr NOT NULL */
        } else if (!not &&accept_kw(p, "IS")) {
            accept_kw(p, "NOT");
            if (accept_kw(p, "DISTINCT") && expect_kw(p, "FROM") < 0)
                return NULL;
            if (add_kid(p, e, expr(p, BP_EQ + 1)) < 0)
                return NULL;
        } else if (accept_kw(p, "BETWEEN")) {
            if (add_kid(p, e, expr(p, BP_NOT)) < 0 || expect_kw(p, "AND") < 0 ||
                add_kid(p, e, expr(p, BP_EQ + 1)) < 0)
                return NULL;
        } else if (accept_kw(p, "IN")) {
            e = in_rhs(p, l);
            if (!e)
                return NULL;
        } else if (is_likeop(p)) {
            advance(p);
            e->like = 1;
            if (add_kid(p, e, expr(p, BP_EQ + 1)) < 0)
                return NULL;
            if (accept_kw(p, "ESCAPE") && add_kid(p, e, expr(p, BP_EQ + 1)) < 0)
                return NULL;
        } else if (!not &&(is_op(tok(p), "=") || is_op(tok(p), "==") || is_op(tok(p), "!=") ||
                           is_op(tok(p), "<>"))) {
            advance(p);
            if (add_kid(p, e, expr(p, BP_EQ + 1)) < 0)
                return NULL;
        } else {
            syntax_error(p);
            return NULL;
        }
        finish(p, e);
        l = e;
    }
}

static sq_expr *expr(P *p, int minbp)
{
    if (enter(p) < 0)
        return NULL;
    sq_expr *l;
    size_t at = p->i;
    const lx_token *t = tok(p);
    if (at_kw(p, "NOT") || t->type == LX_PLUS || t->type == LX_MINUS || is_op(t, "~")) {
        int bp = at_kw(p, "NOT") ? BP_NOT : BP_UNARY;
        advance(p);
        l = new_expr(p, SQ_OP, at);
        if (l && add_kid(p, l, expr(p, bp)) < 0)
            l = NULL;
        finish(p, l);
    } else {
        l = primary(p);
    }
    l = expr_tail(p, l, minbp);
    p->depth--;
    return p->failed ? NULL : l;
}

/* ---- SELECT --------------------------------------------------------------------------- */

/* sortlist: expr [ASC|DESC] [NULLS FIRST|LAST], ... */
static int sortlist(P *p, sq_order **out, int *n)
{
    do {
        sq_order *v = grow(p, *out, *n, sizeof *v);
        if (!v)
            return -1;
        *out = v;
        sq_order *o = &v[(*n)++];
        if (!(o->e = expr(p, BP_OR)))
            return -1;
        if (accept_kw(p, "DESC"))
            o->desc = 1;
        else
            accept_kw(p, "ASC");
        if (accept_kw(p, "NULLS")) {
            if (accept_kw(p, "FIRST"))
                o->nulls = 1;
            else if (accept_kw(p, "LAST"))
                o->nulls = 2;
            else
                return syntax_error(p);
        }
    } while (accept(p, LX_COMMA));
    return 0;
}

/* "as": AS nm | ids | nothing. */
static int as_opt(P *p, int *alias)
{
    *alias = -1;
    if (accept_kw(p, "AS"))
        return parse_nm(p, alias);
    if (is_ids(p)) {
        *alias = (int)p->i;
        advance(p);
    }
    return 0;
}

static int seltablist(P *p, sq_from *f);

/* sqlite3JoinType: the words of a join operator (up to three). */
static int join_type(P *p, size_t *w, int nw)
{
    static const struct {
        const char *kw;
        int code;
    } kws[] = {{"NATURAL", SQ_JT_NATURAL},
               {"LEFT", SQ_JT_LEFT | SQ_JT_OUTER},
               {"OUTER", SQ_JT_OUTER},
               {"RIGHT", SQ_JT_RIGHT | SQ_JT_OUTER},
               {"FULL", SQ_JT_LEFT | SQ_JT_RIGHT | SQ_JT_OUTER},
               {"INNER", SQ_JT_INNER},
               {"CROSS", SQ_JT_INNER | SQ_JT_CROSS}};
    int jt = 0, bad = 0;
    for (int k = 0; k < nw && !bad; k++) {
        const lx_token *t = &p->t[w[k]];
        size_t j = 0;
        for (; j < sizeof kws / sizeof *kws; j++)
            if (t->type == LX_ID && ieq(t->z, t->n, kws[j].kw))
                break;
        if (j == sizeof kws / sizeof *kws)
            bad = 1;
        else
            jt |= kws[j].code;
    }
    if (bad || (jt & (SQ_JT_INNER | SQ_JT_OUTER)) == (SQ_JT_INNER | SQ_JT_OUTER) ||
        (jt & (SQ_JT_OUTER | SQ_JT_LEFT | SQ_JT_RIGHT)) == SQ_JT_OUTER) {
        const lx_token *a = &p->t[w[0]], *b = nw > 1 ? &p->t[w[1]] : NULL,
                       *c = nw > 2 ? &p->t[w[2]] : NULL;
        return fail(p, "unknown join type: %.*s%s%.*s%s%.*s", (int)a->n, a->z, b ? " " : "",
                    b ? (int)b->n : 0, b ? b->z : "", c ? " " : "", c ? (int)c->n : 0,
                    c ? c->z : "");
    }
    return jt ? jt : SQ_JT_INNER;
}

/* One term of a FROM list, after its join operator. */
static int from_term(P *p, sq_src *s, int first)
{
    s->schema = s->table = s->alias = s->indexed = -1;
    if (accept(p, LX_LP)) {
        if (starts_select(p)) {
            if (!(s->sub = select_stmt(p)))
                return -1;
        } else {
            if (!(s->nest = alloc(p, sizeof *s->nest)) || seltablist(p, s->nest) < 0)
                return -1;
        }
        if (expect(p, LX_RP) < 0 || as_opt(p, &s->alias) < 0)
            return -1;
    } else {
        if (parse_nm(p, &s->table) < 0)
            return -1;
        if (accept(p, LX_DOT)) {
            s->schema = s->table;
            if (parse_nm(p, &s->table) < 0)
                return -1;
        }
        if (accept(p, LX_LP)) {
            s->is_tvf = 1;
            if (tok(p)->type != LX_RP && nexprlist(p, &s->args, &s->nargs) < 0)
                return -1;
            if (expect(p, LX_RP) < 0 || as_opt(p, &s->alias) < 0)
                return -1;
        } else {
            if (as_opt(p, &s->alias) < 0)
                return -1;
            if (accept_kw(p, "INDEXED")) {
                if (expect_kw(p, "BY") < 0 || parse_nm(p, &s->indexed) < 0)
                    return -1;
            } else if (accept_kw(p, "NOT")) {
                if (expect_kw(p, "INDEXED") < 0)
                    return -1;
                s->not_indexed = 1;
            }
        }
    }
    if (at_kw(p, "ON") || at_kw(p, "USING")) {
        if (first)
            return fail(p, "a JOIN clause is required before %s", at_kw(p, "ON") ? "ON" : "USING");
        if (accept_kw(p, "ON")) {
            if (!(s->on = expr(p, BP_OR)))
                return -1;
        } else {
            advance(p);
            if (expect(p, LX_LP) < 0)
                return -1;
            do {
                int nm;
                if (parse_nm(p, &nm) < 0 || push_tok(p, &s->usings, &s->nusing, nm) < 0)
                    return -1;
            } while (accept(p, LX_COMMA));
            if (expect(p, LX_RP) < 0)
                return -1;
        }
    }
    return 0;
}

/* seltablist: term { joinop term } */
static int seltablist(P *p, sq_from *f)
{
    if (enter(p) < 0)
        return -1;
    int jt = 0;
    for (;;) {
        sq_src *v = grow(p, f->v, f->n, sizeof *v);
        if (!v)
            return -1;
        f->v = v;
        sq_src *s = &v[f->n++];
        if (from_term(p, s, f->n == 1) < 0)
            return -1;
        s->join = jt;
        /* joinop: , | JOIN | JOIN_KW [nm [nm]] JOIN */
        if (accept(p, LX_COMMA)) {
            jt = 0;
        } else if (accept_kw(p, "JOIN")) {
            jt = SQ_JT_INNER;
        } else if (is_joinkw(tok(p))) {
            size_t w[3];
            int nw = 0;
            w[nw++] = p->i;
            advance(p);
            while (nw < 3 && !at_kw(p, "JOIN") && is_nm(p)) {
                w[nw++] = p->i;
                advance(p);
            }
            if (expect_kw(p, "JOIN") < 0)
                return -1;
            if ((jt = join_type(p, w, nw)) < 0)
                return -1;
        } else {
            break;
        }
    }
    p->depth--;
    return 0;
}

/* WINDOW name AS ( window ), ...: later windows that extend an earlier one
 * are checked as sqlite3WindowChain checks them. */
static int tok_ieq(const P *p, int a, int b)
{
    const lx_token *x = &p->t[a], *y = &p->t[b];
    if (x->n != y->n)
        return 0;
    for (size_t k = 0; k < x->n; k++) {
        char c = x->z[k], d = y->z[k];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (d >= 'A' && d <= 'Z')
            d = (char)(d + 32);
        if (c != d)
            return 0;
    }
    return 1;
}

static int window_clause(P *p, sq_core *c)
{
    do {
        int nm;
        if (parse_nm(p, &nm) < 0 || expect_kw(p, "AS") < 0 || expect(p, LX_LP) < 0)
            return -1;
        sq_window *w = window_spec(p);
        if (!w || expect(p, LX_RP) < 0)
            return -1;
        w->name = nm;
        if (c->nwin > 0 && w->base >= 0) {
            sq_window *ex = NULL;
            for (int k = c->nwin - 1; k >= 0 && !ex; k--)
                if (tok_ieq(p, c->win[k]->name, w->base))
                    ex = c->win[k];
            const lx_token *b = &p->t[w->base];
            if (!ex)
                return fail(p, "no such window: %.*s", (int)b->n, b->z);
            const char *what = w->nparts                 ? "PARTITION clause"
                               : ex->norder && w->norder ? "ORDER BY clause"
                               : ex->frame               ? "frame specification"
                                                         : NULL;
            if (what)
                return fail(p, "cannot override %s of window: %.*s", what, (int)b->n, b->z);
        }
        sq_window **v = grow(p, c->win, c->nwin, sizeof *v);
        if (!v)
            return -1;
        c->win = v;
        c->win[c->nwin++] = w;
    } while (accept(p, LX_COMMA));
    return 0;
}

/* One SELECT (not VALUES). */
static int one_select(P *p, sq_core *c)
{
    c->first = (int)p->i;
    advance(p); /* SELECT */
    if (accept_kw(p, "DISTINCT"))
        c->distinct = 1;
    else
        accept_kw(p, "ALL");
    do {
        sq_rescol *v = grow(p, c->res, c->nres, sizeof *v);
        if (!v)
            return -1;
        c->res = v;
        sq_rescol *r = &v[c->nres++];
        r->qual = r->alias = -1;
        if (is_op(tok(p), "*")) {
            advance(p);
            continue;
        }
        if (is_nm(p) && ahead(p, 1)->type == LX_DOT && is_op(ahead(p, 2), "*")) {
            r->qual = (int)p->i;
            advance(p);
            advance(p);
            advance(p);
            continue;
        }
        if (!(r->e = expr(p, BP_OR)) || as_opt(p, &r->alias) < 0)
            return -1;
    } while (accept(p, LX_COMMA));
    if (accept_kw(p, "FROM") && seltablist(p, &c->from) < 0)
        return -1;
    if (accept_kw(p, "WHERE") && !(c->where = expr(p, BP_OR)))
        return -1;
    if (accept_kw(p, "GROUP")) {
        if (expect_kw(p, "BY") < 0 || nexprlist(p, &c->group, &c->ngroup) < 0)
            return -1;
    }
    if (accept_kw(p, "HAVING") && !(c->having = expr(p, BP_OR)))
        return -1;
    if (accept_kw(p, "WINDOW") && window_clause(p, c) < 0)
        return -1;
    return 0;
}

static int order_limit(P *p, sq_core *c)
{
    if (accept_kw(p, "ORDER")) {
        if (expect_kw(p, "BY") < 0 || sortlist(p, &c->order, &c->norder) < 0)
            return -1;
    }
    if (accept_kw(p, "LIMIT")) {
        if (!(c->limit = expr(p, BP_OR)))
            return -1;
        if (accept_kw(p, "OFFSET") || accept(p, LX_COMMA)) {
            if (!(c->offset = expr(p, BP_OR)))
                return -1;
        }
    }
    return 0;
}

static int add_core(P *p, sq_select *s, sq_core **out)
{
    sq_core *v = grow(p, s->core, s->ncore, sizeof *v);
    if (!v)
        return -1;
    s->core = v;
    *out = &v[s->ncore++];
    return 0;
}

/* selectnowith: oneselect { compound-op oneselect }; then SQLite's checks
 * of parserDoubleLinkSelect, from the last term back. */
static int select_body(P *p, sq_select *s)
{
    int op = SQ_CO_NONE, multivalue_only = 1;
    for (;;) {
        sq_core *c;
        if (at_kw(p, "VALUES")) {
            advance(p);
            int row = 0;
            do {
                if (add_core(p, s, &c) < 0)
                    return -1;
                c->first = (int)p->i;
                c->values = 1;
                c->op = row ? SQ_CO_UNION_ALL : op;
                if (expect(p, LX_LP) < 0)
                    return -1;
                do {
                    sq_rescol *v = grow(p, c->res, c->nres, sizeof *v);
                    if (!v)
                        return -1;
                    c->res = v;
                    sq_rescol *r = &v[c->nres++];
                    r->qual = r->alias = -1;
                    if (!(r->e = expr(p, BP_OR)))
                        return -1;
                } while (accept(p, LX_COMMA));
                if (expect(p, LX_RP) < 0)
                    return -1;
                row++;
            } while (accept(p, LX_COMMA));
            if (op != SQ_CO_NONE)
                multivalue_only = 0;
        } else if (at_kw(p, "SELECT")) {
            if (add_core(p, s, &c) < 0)
                return -1;
            c->op = op;
            if (one_select(p, c) < 0 || order_limit(p, c) < 0)
                return -1;
            multivalue_only = 0;
        } else {
            return syntax_error(p);
        }
        if (accept_kw(p, "UNION"))
            op = accept_kw(p, "ALL") ? SQ_CO_UNION_ALL : SQ_CO_UNION;
        else if (accept_kw(p, "INTERSECT"))
            op = SQ_CO_INTERSECT;
        else if (accept_kw(p, "EXCEPT"))
            op = SQ_CO_EXCEPT;
        else
            break;
    }
    for (int k = s->ncore - 2; k >= 0; k--) {
        const sq_core *c = &s->core[k];
        if (c->norder || c->limit)
            return fail(p, "%s clause should come after %s not before",
                        c->norder ? "ORDER BY" : "LIMIT", sq_compound_name(s->core[k + 1].op));
    }
    /* VALUES rows after the first are not counted (SF_MultiValue) when the
     * whole select is one VALUES. */
    if (!multivalue_only && s->ncore > SQ_MAX_COMPOUND)
        return fail(p, "too many terms in compound SELECT");
    return 0;
}

/* select: [WITH [RECURSIVE] cte, ...] selectnowith */
static sq_select *select_stmt(P *p)
{
    if (enter(p) < 0)
        return NULL;
    sq_select *s = alloc(p, sizeof *s);
    if (!s)
        return NULL;
    if (accept_kw(p, "WITH")) {
        if (accept_kw(p, "RECURSIVE"))
            s->recursive = 1;
        do {
            sq_cte *v = grow(p, s->cte, s->ncte, sizeof *v);
            if (!v)
                return NULL;
            s->cte = v;
            sq_cte *c = &v[s->ncte++];
            if (parse_nm(p, &c->name) < 0)
                return NULL;
            if (accept(p, LX_LP)) {
                do {
                    int nm;
                    if (parse_nm(p, &nm) < 0 || push_tok(p, &c->cols, &c->ncols, nm) < 0)
                        return NULL;
                    int bad = 0;
                    if (accept_kw(p, "COLLATE")) {
                        if (!is_ids(p)) {
                            syntax_error(p);
                            return NULL;
                        }
                        advance(p);
                        bad = 1;
                    }
                    if (accept_kw(p, "ASC") || accept_kw(p, "DESC"))
                        bad = 1;
                    if (bad) {
                        fail(p, "syntax error after column name \"%.*s\"", (int)p->t[nm].n,
                             p->t[nm].z);
                        return NULL;
                    }
                } while (accept(p, LX_COMMA));
                if (expect(p, LX_RP) < 0)
                    return NULL;
            }
            if (expect_kw(p, "AS") < 0)
                return NULL;
            if (accept_kw(p, "NOT")) {
                if (expect_kw(p, "MATERIALIZED") < 0)
                    return NULL;
            } else {
                accept_kw(p, "MATERIALIZED");
            }
            if (!(c->sel = paren_select(p)))
                return NULL;
            for (int k = 0; k < s->ncte - 1; k++) {
                if (tok_is_name_eq(p, s->cte[k].name, c->name)) {
                    char buf[256];
                    dequote_tok(&p->t[c->name], buf, sizeof buf);
                    fail(p, "duplicate WITH table name: %s", buf);
                    return NULL;
                }
            }
        } while (accept(p, LX_COMMA));
    }
    if (select_body(p, s) < 0)
        return NULL;
    p->depth--;
    return s;
}

/* ---- CREATE VIEW ----------------------------------------------------------------------- */

const char *sq_compound_name(int op)
{
    switch (op) {
    case SQ_CO_UNION_ALL:
        return "UNION ALL";
    case SQ_CO_INTERSECT:
        return "INTERSECT";
    case SQ_CO_EXCEPT:
        return "EXCEPT";
    default:
        return "UNION";
    }
}

static char *dup_tok(P *p, int i)
{
    const lx_token *t = &p->t[i];
    char *s = malloc(t->n + 1);
    if (!s) {
        nomem(p);
        return NULL;
    }
    dequote_tok(t, s, t->n + 1);
    return s;
}

static int view_body(P *p, sq_view *v)
{
    if (expect_kw(p, "CREATE") < 0)
        return -1;
    if (accept_kw(p, "TEMP") || accept_kw(p, "TEMPORARY"))
        v->temp = 1;
    if (expect_kw(p, "VIEW") < 0)
        return -1;
    if (accept_kw(p, "IF")) {
        if (expect_kw(p, "NOT") < 0 || expect_kw(p, "EXISTS") < 0)
            return -1;
        v->if_not_exists = 1;
    }
    v->schema_tok = -1;
    if (parse_nm(p, &v->name_tok) < 0)
        return -1;
    if (accept(p, LX_DOT)) {
        v->schema_tok = v->name_tok;
        if (parse_nm(p, &v->name_tok) < 0)
            return -1;
    }
    if (accept(p, LX_LP)) {
        do {
            int nm;
            if (parse_nm(p, &nm) < 0)
                return -1;
            int bad = 0;
            if (accept_kw(p, "COLLATE")) {
                if (!is_ids(p))
                    return syntax_error(p);
                advance(p);
                bad = 1;
            }
            if (accept_kw(p, "ASC") || accept_kw(p, "DESC"))
                bad = 1;
            if (bad)
                return fail(p, "syntax error after column name \"%.*s\"", (int)p->t[nm].n,
                            p->t[nm].z);
            int *cols = v->cols;
            if (push_tok(p, &cols, &v->ncols, nm) < 0)
                return -1;
            v->cols = cols;
        } while (accept(p, LX_COMMA));
        if (expect(p, LX_RP) < 0)
            return -1;
    }
    if (expect_kw(p, "AS") < 0)
        return -1;
    if (!(v->sel = select_stmt(p)))
        return -1;
    /* The text SQLite keeps ends at the ';' that ends the statement, or at
     * the end of the input (comments after the last token included), white
     * space trimmed. */
    const lx_token *end = tok(p);
    size_t e = (size_t)(end->z - p->sql);
    if (end->type != LX_SEMI && end->type != LX_EOF)
        return syntax_error(p);
    if (end->type == LX_EOF)
        e = strlen(p->sql);
    while (accept(p, LX_SEMI))
        ;
    if (tok(p)->type != LX_EOF)
        return syntax_error(p);
    while (e > 0 && lx_is_space((unsigned char)p->sql[e - 1]))
        e--;
    v->text_end = e;
    if (!(v->name = dup_tok(p, v->name_tok)))
        return -1;
    if (v->schema_tok >= 0 && !(v->schema_name = dup_tok(p, v->schema_tok)))
        return -1;
    return 0;
}

int sq_parse_view(sq_view *out, const char *sql, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    P p;
    memset(&p, 0, sizeof p);
    p.sql = sql;
    p.err = err;
    p.errlen = errlen;
    if (err && errlen)
        err[0] = 0;
    if (lx_tokenize_illegal(sql, strlen(sql), &p.t, &p.nt, err, errlen) < 0)
        return -1;
    p.special = calloc(p.nt, 1);
    if (!p.special) {
        fail(&p, "out of memory");
        free(p.t);
        return -1;
    }
    mark_special(&p);
    out->sql = sql;
    out->t = p.t;
    out->nt = p.nt;
    int rc = view_body(&p, out);
    free(p.special);
    out->arena = p.arena;
    out->nvars = p.nvars;
    if (rc < 0 || p.failed) {
        sq_view_free(out);
        return -1;
    }
    return 0;
}

void sq_view_free(sq_view *v)
{
    while (v->arena) {
        sq_arena *next = v->arena->next;
        free(v->arena);
        v->arena = next;
    }
    free(v->t);
    free(v->name);
    free(v->schema_name);
    memset(v, 0, sizeof *v);
}

/* ---- Schema qualifiers (sqlite3FixSelect) ------------------------------------------- */

typedef struct fixer {
    const sq_view *v;
    char *buf;
    size_t cap;
    int found;
} fixer;

static void fix_select(fixer *f, const sq_select *s);

/* A FROM term or IN's table qualified with a schema other than main. */
static void fix_name(fixer *f, int schema)
{
    if (f->found || schema < 0)
        return;
    char b[512];
    dequote_tok(&f->v->t[schema], b, sizeof b);
    if (strcasecmp_ascii(b, "main") != 0) {
        snprintf(f->buf, f->cap, "%s", b);
        f->found = 1;
    }
}

static void fix_expr(fixer *f, const sq_expr *e);

static void fix_window(fixer *f, const sq_window *w)
{
    if (!w)
        return;
    for (int k = 0; k < w->nparts; k++)
        fix_expr(f, w->parts[k]);
    for (int k = 0; k < w->norder; k++)
        fix_expr(f, w->order[k].e);
    fix_expr(f, w->lo);
    fix_expr(f, w->hi);
}

static void fix_expr(fixer *f, const sq_expr *e)
{
    if (!e || f->found)
        return;
    if (e->kind == SQ_IN_TAB) {
        fix_expr(f, e->kids[0]);
        fix_name(f, e->ntok == 2 ? e->tok[0] : -1);
        for (int k = 1; k < e->nkids; k++)
            fix_expr(f, e->kids[k]);
        return;
    }
    for (int k = 0; k < e->nkids; k++)
        fix_expr(f, e->kids[k]);
    if (e->sel)
        fix_select(f, e->sel);
    fix_expr(f, e->filter);
    fix_window(f, e->over);
}

static void fix_from_names(fixer *f, const sq_from *from)
{
    for (int k = 0; k < from->n; k++) {
        const sq_src *s = &from->v[k];
        if (s->nest && s->nest->n == 1)
            fix_from_names(f, s->nest);
        fix_name(f, s->schema);
        fix_expr(f, s->on);
    }
}

static void fix_from_subs(fixer *f, const sq_from *from)
{
    for (int k = 0; k < from->n; k++) {
        const sq_src *s = &from->v[k];
        if (s->sub)
            fix_select(f, s->sub);
        if (s->nest) {
            if (s->nest->n > 1)
                fix_from_names(f, s->nest);
            fix_from_subs(f, s->nest);
        }
        for (int a = 0; a < s->nargs; a++)
            fix_expr(f, s->args[a]);
    }
}

/* SQLite walks a compound from its last SELECT back, each SELECT's FROM
 * terms (and the WITH, held by the last) before its expressions. */
static void fix_select(fixer *f, const sq_select *s)
{
    for (int k = s->ncore - 1; k >= 0 && !f->found; k--) {
        const sq_core *c = &s->core[k];
        fix_from_names(f, &c->from);
        if (k == s->ncore - 1)
            for (int j = 0; j < s->ncte; j++)
                fix_select(f, s->cte[j].sel);
        for (int j = 0; j < c->nres; j++)
            fix_expr(f, c->res[j].e);
        fix_expr(f, c->where);
        for (int j = 0; j < c->ngroup; j++)
            fix_expr(f, c->group[j]);
        fix_expr(f, c->having);
        for (int j = 0; j < c->norder; j++)
            fix_expr(f, c->order[j].e);
        fix_expr(f, c->limit);
        fix_expr(f, c->offset);
        for (int j = 0; j < c->nwin; j++)
            fix_window(f, c->win[j]);
        fix_from_subs(f, &c->from);
    }
}

int sq_view_foreign_schema(const sq_view *v, char *buf, size_t cap)
{
    fixer f = {v, buf, cap, 0};
    if (v->sel)
        fix_select(&f, v->sel);
    return f.found;
}
