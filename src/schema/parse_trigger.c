/*
 * parse_trigger.c - CREATE TRIGGER, as SQLite's grammar reads it.
 *
 * A trigger is kept in sqlite_schema as the text of its CREATE TRIGGER
 * statement. This file takes that text apart: the trigger's name, table,
 * timing (BEFORE, AFTER, INSTEAD OF), event (DELETE, INSERT, UPDATE [OF
 * columns]), WHEN clause, and its body of statements. Expressions are not
 * parsed here: each is kept as a span of the text, found by scanning to the
 * token that ends it (a comma, a closing parenthesis, a clause keyword or the
 * statement's semicolon, outside parentheses and CASE ... END), and the
 * expression layer compiles it where the trigger runs.
 *
 * The body is split at its top-level semicolons first, so a statement folio
 * does not run (a join, GROUP BY, a compound SELECT) is still
 * read past and kept with a note of what it is: reading the schema never
 * fails on a trigger SQLite accepts.
 */
#include <stdlib.h>
#include <string.h>

#include "schema/parse_int.h"

static void stmt_free(sch_trig_stmt *s)
{
    free(s->table);
    for (int i = 0; i < s->ncols; i++)
        free(s->cols[i]);
    free(s->cols);
    free(s->vals);
    free(s->res);
    free(s->from);
    free(s->alias);
    for (int i = 0; i < s->nset; i++)
        free(s->set_cols[i]);
    free(s->set_cols);
    free(s->set_vals);
    for (int u = 0; u < s->nupsert; u++) {
        sch_upsert *x = &s->upsert[u];
        free(x->target);
        for (int i = 0; i < x->nset; i++)
            free(x->set_cols[i]);
        free(x->set_cols);
        free(x->set_vals);
    }
    free(s->upsert);
    free(s->unsupported);
    free(s->error);
    free(s->col_toks);
    free(s->set_toks);
}

void sch_trigger_free(sch_trigger *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->table);
    free(t->table_schema);
    for (int i = 0; i < t->nof; i++)
        free(t->of[i]);
    free(t->of);
    free(t->of_toks);
    for (int i = 0; i < t->nstmts; i++)
        stmt_free(&t->stmts[i]);
    free(t->stmts);
    memset(t, 0, sizeof *t);
}

/* The statement being read: tokens [p->i, end). */
typedef struct stmt_reader {
    parser *p;
    size_t end; /* index of its ';' */
    sch_trig_stmt *s;
} stmt_reader;

static int at_end(stmt_reader *r)
{
    return r->p->i >= r->end;
}

static int kw(stmt_reader *r, const char *w)
{
    return !at_end(r) && sp_word_eq(sp_tok(r->p), w);
}

static int accept_kw(stmt_reader *r, const char *w)
{
    if (!kw(r, w))
        return 0;
    sp_advance(r->p);
    return 1;
}

static int accept_type(stmt_reader *r, int type)
{
    if (at_end(r) || sp_tok(r->p)->type != type)
        return 0;
    sp_advance(r->p);
    return 1;
}

/* Mark the statement as one folio does not run (the first reason stays). */
static int unsupported(stmt_reader *r, const char *what)
{
    if (!r->s->unsupported && !(r->s->unsupported = sp_dup_mem(r->p, what, strlen(what))))
        return -1;
    return 0;
}

/* The current token, quotes included. */
static sch_span tok_span(parser *p)
{
    const lx_token *t = sp_tok(p);
    sch_span sp = {(uint32_t)(t->z - p->sql), (uint32_t)t->n};
    return sp;
}

static sch_span span_of(parser *p, size_t a, size_t b)
{
    sch_span sp = {0, 0};
    if (b > a) {
        sp.off = (uint32_t)(p->t[a].z - p->sql);
        sp.len = (uint32_t)(p->t[b - 1].z + p->t[b - 1].n - p->t[a].z);
    }
    return sp;
}

/* Words that end an expression at its top level. */
static int ends_expr(const lx_token *t, int in_when)
{
    static const char *const words[] = {
        "FROM", "WHERE", "GROUP", "HAVING",    "ORDER",  "LIMIT",     "OFFSET", "WINDOW", "AS",
        "ON",   "DO",    "UNION", "INTERSECT", "EXCEPT", "RETURNING", "SET",    "VALUES", "SELECT"};
    if (t->type != LX_ID)
        return 0;
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (sp_word_eq(t, words[k]))
            return 1;
    return in_when && sp_word_eq(t, "BEGIN");
}

/* One expression from the current token: its span; the cursor stops at the
 * token that ends it. An empty expression is a syntax error. */
static int read_expr(stmt_reader *r, sch_span *out, int in_when)
{
    parser *p = r->p;
    size_t a = p->i, limit = in_when ? p->nt - 1 : r->end;
    int cases = 0;
    while (p->i < limit) {
        const lx_token *t = sp_tok(p);
        if (t->type == LX_LP) {
            p->i = p->match[p->i] + 1;
            continue;
        }
        if (t->type == LX_COMMA || t->type == LX_RP || t->type == LX_SEMI)
            break;
        if (t->type == LX_ID) {
            if (sp_word_eq(t, "CASE")) {
                cases++;
            } else if (sp_word_eq(t, "END")) {
                if (cases == 0)
                    break;
                cases--;
            } else if (cases == 0 && ends_expr(t, in_when)) {
                break;
            }
        }
        p->i++;
    }
    if (p->i == a)
        return sp_syntax_error(p);
    *out = span_of(p, a, p->i);
    return 0;
}

/* A table name of an INSERT, UPDATE or DELETE in a trigger: no schema. */
static int target_name(stmt_reader *r, char **out)
{
    parser *p = r->p;
    if (at_end(r) || !sp_is_nm(sp_tok(p)))
        return sp_syntax_error(p);
    if (sp_ahead(p, 1)->type == LX_DOT && p->i + 1 < r->end)
        return sp_fail(p, "qualified table names are not allowed on INSERT, UPDATE, and DELETE "
                          "statements within triggers");
    r->s->table_tok = tok_span(p);
    return sp_parse_nm(p, out);
}

static int grow_spans(parser *p, sch_span **a, int n, int *cap)
{
    if (n < *cap)
        return 0;
    int nc = *cap ? *cap * 2 : 8;
    sch_span *na = realloc(*a, (size_t)nc * sizeof *na);
    if (!na)
        return sp_nomem(p);
    *a = na;
    *cap = nc;
    return 0;
}

static int grow_names(parser *p, char ***a, int n, int *cap)
{
    if (n < *cap)
        return 0;
    int nc = *cap ? *cap * 2 : 8;
    char **na = realloc(*a, (size_t)nc * sizeof *na);
    if (!na)
        return sp_nomem(p);
    *a = na;
    *cap = nc;
    return 0;
}

/* Skip to the statement's end, noting what folio does not run. */
static int skip_rest(stmt_reader *r, const char *what)
{
    if (unsupported(r, what) < 0)
        return -1;
    r->p->i = r->end;
    return 0;
}

/* SET col = expr, .. (UPDATE, and an UPSERT's DO UPDATE): *done when the
 * statement was skipped as one folio does not run. */
static int read_setlist(stmt_reader *r, char ***cols, sch_span **vals, sch_span **toks, int *n,
                        int *done)
{
    parser *p = r->p;
    int cap = 0, vcap = 0, tcap = 0;
    for (;;) {
        if (at_end(r))
            return sp_syntax_error(p);
        if (sp_tok(p)->type == LX_LP) {
            /* (a, b, ..) = (x, y, ..): each column its value, as a = x, b = y */
            int first = *n;
            sp_advance(p);
            for (;;) {
                if (at_end(r) || !sp_is_nm(sp_tok(p)))
                    return sp_syntax_error(p);
                if (grow_names(p, cols, *n, &cap) < 0 || grow_spans(p, vals, *n, &vcap) < 0 ||
                    (toks && grow_spans(p, toks, *n, &tcap) < 0))
                    return -1;
                if (toks)
                    (*toks)[*n] = tok_span(p);
                if (sp_parse_nm(p, &(*cols)[*n]) < 0)
                    return -1;
                (*vals)[*n] = (sch_span){0, 0};
                (*n)++;
                if (accept_type(r, LX_COMMA))
                    continue;
                if (at_end(r) || sp_tok(p)->type != LX_RP)
                    return sp_syntax_error(p);
                sp_advance(p);
                break;
            }
            if (at_end(r) ||
                !(sp_tok(p)->type == LX_OP && sp_tok(p)->n == 1 && sp_tok(p)->z[0] == '='))
                return sp_syntax_error(p);
            sp_advance(p);
            if (at_end(r) || sp_tok(p)->type != LX_LP) {
                *done = 1;
                return skip_rest(r, "a row value in SET that is not a list of values");
            }
            const lx_token *q = sp_ahead(p, 1);
            if (q->type == LX_ID &&
                (sp_word_eq(q, "SELECT") || sp_word_eq(q, "WITH") || sp_word_eq(q, "VALUES"))) {
                *done = 1;
                return skip_rest(r, "a row value in SET from a subquery");
            }
            sp_advance(p);
            int k = first;
            for (;;) {
                sch_span v;
                if (read_expr(r, &v, 0) < 0)
                    return -1;
                if (k < *n)
                    (*vals)[k] = v;
                k++;
                if (accept_type(r, LX_COMMA))
                    continue;
                if (at_end(r) || sp_tok(p)->type != LX_RP)
                    return sp_syntax_error(p);
                sp_advance(p);
                break;
            }
            if (k != *n)
                return sp_fail(p, "%d columns assigned %d values", *n - first, k - first);
            if (!accept_type(r, LX_COMMA))
                return 0;
            continue;
        }
        if (!sp_is_nm(sp_tok(p)))
            return sp_syntax_error(p);
        if (grow_names(p, cols, *n, &cap) < 0 || grow_spans(p, vals, *n, &vcap) < 0 ||
            (toks && grow_spans(p, toks, *n, &tcap) < 0))
            return -1;
        if (toks)
            (*toks)[*n] = tok_span(p); /* (where the name is, for ALTER) */
        if (sp_parse_nm(p, &(*cols)[*n]) < 0)
            return -1;
        (*n)++; /* (the name is owned from here on) */
        if (!at_end(r) && sp_tok(p)->type == LX_DOT) {
            *done = 1;
            return skip_rest(r, "a qualified column in SET");
        }
        if (at_end(r) || !(sp_tok(p)->type == LX_OP && sp_tok(p)->n == 1 && sp_tok(p)->z[0] == '='))
            return sp_syntax_error(p);
        sp_advance(p);
        if (read_expr(r, &(*vals)[*n - 1], 0) < 0)
            return -1;
        if (!accept_type(r, LX_COMMA))
            return 0;
    }
}

/* A conflict target's term: an expression (a COLLATE included), then ASC or
 * DESC, which SQLite reads and ignores there; NULLS FIRST / LAST is its
 * error. Read as an index key is (sp_parse_key). */
static int read_target_term(stmt_reader *r, sch_upsert *u)
{
    sp_key k;
    if (sp_parse_key(r->p, &k, 0) < 0)
        return -1;
    u->target[u->ntarget++] = span_of(r->p, k.a, k.b);
    return 0;
}

/* ON CONFLICT clauses, as many as there are (the cursor is on ON). */
static int read_upsert(stmt_reader *r)
{
    parser *p = r->p;
    sch_trig_stmt *s = r->s;
    while (accept_kw(r, "ON")) {
        if (!accept_kw(r, "CONFLICT"))
            return sp_syntax_error(p);
        sch_upsert *nu = realloc(s->upsert, sizeof *nu * (size_t)(s->nupsert + 1));
        if (!nu)
            return sp_nomem(p);
        s->upsert = nu;
        sch_upsert *u = &s->upsert[s->nupsert++];
        memset(u, 0, sizeof *u);
        int done = 0;
        if (accept_type(r, LX_LP)) {
            size_t close = p->match[p->i - 1];
            size_t most = close > p->i ? close - p->i : 1;
            u->target = calloc(most, sizeof *u->target);
            if (!u->target)
                return sp_nomem(p);
            for (;;) {
                if (read_target_term(r, u) < 0)
                    return -1;
                if (!accept_type(r, LX_COMMA))
                    break;
            }
            if (!accept_type(r, LX_RP))
                return sp_syntax_error(p);
            if (accept_kw(r, "WHERE")) {
                if (read_expr(r, &u->target_where, 0) < 0)
                    return -1;
                u->has_target_where = 1;
            }
        }
        if (!accept_kw(r, "DO"))
            return sp_syntax_error(p);
        if (accept_kw(r, "NOTHING")) {
            /* (nothing more) */
        } else if (accept_kw(r, "UPDATE")) {
            if (!accept_kw(r, "SET"))
                return sp_syntax_error(p);
            u->do_update = 1;
            if (read_setlist(r, &u->set_cols, &u->set_vals, NULL, &u->nset, &done) < 0)
                return -1;
            if (done)
                return 0;
            if (accept_kw(r, "WHERE")) {
                if (read_expr(r, &u->where, 0) < 0)
                    return -1;
                u->has_where = 1;
            }
        } else {
            return sp_syntax_error(p);
        }
        /* Only the last clause may go without a target: a clause after
         * one without is a syntax error at its ON. */
        if (!u->ntarget && kw(r, "ON"))
            return sp_syntax_error(p);
    }
    return 0;
}

/* SELECT [DISTINCT|ALL] results [FROM table [[AS] alias]] [WHERE expr] ... */
static int read_select(stmt_reader *r)
{
    parser *p = r->p;
    sch_trig_stmt *s = r->s;
    if (accept_kw(r, "VALUES")) {
        /* VALUES (..), (..): as INSERT's rows (a bare VALUES statement is
         * run for its expressions too). */
        int cap = 0;
        for (;;) {
            if (!accept_type(r, LX_LP))
                return sp_syntax_error(p);
            int n = 0;
            for (;;) {
                if (grow_spans(p, &s->vals, s->nrows * s->nvals + n, &cap) < 0)
                    return -1;
                if (read_expr(r, &s->vals[s->nrows * s->nvals + n], 0) < 0)
                    return -1;
                n++;
                if (!accept_type(r, LX_COMMA))
                    break;
            }
            if (!accept_type(r, LX_RP))
                return sp_syntax_error(p);
            if (s->nrows == 0)
                s->nvals = n;
            else if (n != s->nvals && !s->error &&
                     !(s->error =
                           sp_dup_mem(p, "all VALUES must have the same number of terms", 45)))
                return -1;
            if (n > s->nvals) /* (kept rectangular; the statement fails when used) */
                return skip_rest(r, "VALUES rows of different lengths");
            s->nrows++;
            if (!accept_type(r, LX_COMMA))
                break;
        }
        if (kw(r, "UNION") || kw(r, "EXCEPT") || kw(r, "INTERSECT"))
            return skip_rest(r, "a compound SELECT");
        return 0;
    }
    if (kw(r, "WITH"))
        return skip_rest(r, "a WITH clause");
    if (!accept_kw(r, "SELECT"))
        return sp_syntax_error(p);
    if (accept_kw(r, "DISTINCT"))
        return skip_rest(r, "SELECT DISTINCT");
    accept_kw(r, "ALL");
    int cap = 0;
    for (;;) {
        if (at_end(r))
            return sp_syntax_error(p);
        if (sp_tok(p)->type == LX_OP && sp_tok(p)->n == 1 && sp_tok(p)->z[0] == '*')
            return skip_rest(r, "SELECT *");
        if (grow_spans(p, &s->res, s->nres, &cap) < 0 || read_expr(r, &s->res[s->nres], 0) < 0)
            return -1;
        s->nres++;
        if (accept_kw(r, "AS")) {
            if (at_end(r) || !sp_is_nm(sp_tok(p)))
                return sp_syntax_error(p);
            sp_advance(p);
        }
        if (!accept_type(r, LX_COMMA))
            break;
    }
    if (accept_kw(r, "FROM")) {
        if (at_end(r))
            return sp_syntax_error(p);
        if (sp_tok(p)->type == LX_LP)
            return skip_rest(r, "a subquery in FROM");
        if (!sp_is_nm(sp_tok(p)))
            return sp_syntax_error(p);
        if (p->i + 2 < r->end && sp_ahead(p, 1)->type == LX_DOT) {
            if (!sp_word_eq(sp_tok(p), "main"))
                return skip_rest(r, "a table of another schema");
            p->i += 2;
        }
        s->from_tok = tok_span(p);
        if (sp_parse_nm(p, &s->from) < 0)
            return -1;
        if (!at_end(r) && sp_tok(p)->type == LX_LP)
            return skip_rest(r, "a table-valued function");
        if (accept_kw(r, "AS")) {
            if (!at_end(r))
                s->as_tok = tok_span(p);
            if (at_end(r) || !sp_is_nm(sp_tok(p)) || sp_parse_nm(p, &s->alias) < 0)
                return sp_syntax_error(p);
        } else if (!at_end(r) && sp_is_nm(sp_tok(p)) && !kw(r, "WHERE") && !kw(r, "GROUP") &&
                   !kw(r, "ORDER") && !kw(r, "LIMIT") && !kw(r, "WINDOW") && !kw(r, "ON") &&
                   !kw(r, "NATURAL") && !kw(r, "LEFT") && !kw(r, "JOIN") && !kw(r, "INNER") &&
                   !kw(r, "CROSS") && !kw(r, "INDEXED") && !kw(r, "NOT") && !kw(r, "UNION") &&
                   !kw(r, "EXCEPT") && !kw(r, "INTERSECT") && !kw(r, "RIGHT") && !kw(r, "FULL")) {
            s->as_tok = tok_span(p);
            if (sp_parse_nm(p, &s->alias) < 0)
                return -1;
        }
        if (!at_end(r) &&
            (sp_tok(p)->type == LX_COMMA || kw(r, "JOIN") || kw(r, "NATURAL") || kw(r, "LEFT") ||
             kw(r, "INNER") || kw(r, "CROSS") || kw(r, "RIGHT") || kw(r, "FULL")))
            return skip_rest(r, "a join");
        if (kw(r, "INDEXED") || kw(r, "NOT"))
            return skip_rest(r, "INDEXED BY");
    }
    if (accept_kw(r, "WHERE")) {
        if (read_expr(r, &s->where, 0) < 0)
            return -1;
        s->has_where = 1;
    }
    if (kw(r, "GROUP") || kw(r, "HAVING"))
        return skip_rest(r, "GROUP BY");
    if (kw(r, "WINDOW"))
        return skip_rest(r, "a WINDOW clause");
    if (kw(r, "ORDER"))
        return skip_rest(r, "ORDER BY in a trigger's SELECT");
    if (kw(r, "LIMIT"))
        return skip_rest(r, "LIMIT in a trigger's SELECT");
    if (kw(r, "UNION") || kw(r, "EXCEPT") || kw(r, "INTERSECT"))
        return skip_rest(r, "a compound SELECT");
    return 0;
}

static int read_onconf_or(stmt_reader *r)
{
    static const char *const names[] = {"ROLLBACK", "ABORT", "FAIL", "IGNORE", "REPLACE"};
    if (!accept_kw(r, "OR"))
        return SCH_OC_DEFAULT;
    for (int k = 0; k < 5; k++)
        if (accept_kw(r, names[k]))
            return SCH_OC_ROLLBACK + k;
    return sp_syntax_error(r->p);
}

static int read_insert(stmt_reader *r)
{
    parser *p = r->p;
    sch_trig_stmt *s = r->s;
    s->kind = SCH_TS_INSERT;
    if (accept_kw(r, "REPLACE")) {
        s->onconf = SCH_OC_REPLACE;
    } else {
        if (!accept_kw(r, "INSERT"))
            return sp_syntax_error(p);
        if ((s->onconf = read_onconf_or(r)) < 0)
            return -1;
    }
    if (!accept_kw(r, "INTO"))
        return sp_syntax_error(p);
    if (target_name(r, &s->table) < 0)
        return -1;
    if (kw(r, "AS"))
        return skip_rest(r, "an alias of INSERT's table");
    if (accept_type(r, LX_LP)) {
        int cap = 0, tcap = 0;
        for (;;) {
            if (at_end(r) || !sp_is_nm(sp_tok(p)))
                return sp_syntax_error(p);
            if (grow_names(p, &s->cols, s->ncols, &cap) < 0 ||
                grow_spans(p, &s->col_toks, s->ncols, &tcap) < 0)
                return -1;
            s->col_toks[s->ncols] = tok_span(p);
            if (sp_parse_nm(p, &s->cols[s->ncols]) < 0)
                return -1;
            s->ncols++;
            if (!accept_type(r, LX_COMMA))
                break;
        }
        if (!accept_type(r, LX_RP))
            return sp_syntax_error(p);
    }
    if (kw(r, "DEFAULT")) { /* (not in SQLite's trigger grammar) */
        return sp_syntax_error(p);
    } else {
        if (!kw(r, "SELECT") && !kw(r, "VALUES") && !kw(r, "WITH"))
            return sp_syntax_error(p);
        s->select_source = kw(r, "SELECT") || kw(r, "WITH");
        s->source = span_of(p, p->i, r->end);
        if (read_select(r) < 0)
            return -1;
    }
    if (kw(r, "ON") && s->select_source && s->from && !s->has_where) {
        /* SQLite reads this ON as the FROM table's join constraint (an
         * UPSERT after SELECT ... FROM needs a WHERE): "ON CONFLICT(..)" is
         * an expression there, and DO cannot follow it. */
        while (!at_end(r) && !kw(r, "DO"))
            r->p->i = sp_tok(p)->type == LX_LP ? p->match[p->i] + 1 : p->i + 1;
        return sp_syntax_error(p);
    }
    if (kw(r, "ON") && read_upsert(r) < 0)
        return -1;
    if (kw(r, "RETURNING"))
        return sp_fail(p, "cannot use RETURNING in a trigger");
    return 0;
}

static int read_update(stmt_reader *r)
{
    parser *p = r->p;
    sch_trig_stmt *s = r->s;
    s->kind = SCH_TS_UPDATE;
    sp_advance(p); /* UPDATE */
    if ((s->onconf = read_onconf_or(r)) < 0 || target_name(r, &s->table) < 0)
        return -1;
    if (kw(r, "INDEXED") || kw(r, "NOT"))
        return sp_fail(p, "the INDEXED BY clause is not allowed on UPDATE or DELETE statements "
                          "within triggers");
    if (kw(r, "AS"))
        return skip_rest(r, "an alias of UPDATE's table");
    if (!accept_kw(r, "SET"))
        return sp_syntax_error(p);
    int done = 0;
    if (read_setlist(r, &s->set_cols, &s->set_vals, &s->set_toks, &s->nset, &done) < 0)
        return -1;
    if (done)
        return 0;
    if (kw(r, "FROM"))
        return skip_rest(r, "UPDATE FROM");
    if (accept_kw(r, "WHERE")) {
        if (read_expr(r, &s->where, 0) < 0)
            return -1;
        s->has_where = 1;
    }
    if (kw(r, "RETURNING"))
        return sp_fail(p, "cannot use RETURNING in a trigger");
    if (kw(r, "ORDER") || kw(r, "LIMIT"))
        return skip_rest(r, "ORDER BY or LIMIT in UPDATE");
    return 0;
}

static int read_delete(stmt_reader *r)
{
    parser *p = r->p;
    sch_trig_stmt *s = r->s;
    s->kind = SCH_TS_DELETE;
    sp_advance(p); /* DELETE */
    if (!accept_kw(r, "FROM") || target_name(r, &s->table) < 0)
        return -1;
    if (kw(r, "INDEXED") || kw(r, "NOT"))
        return sp_fail(p, "the INDEXED BY clause is not allowed on UPDATE or DELETE statements "
                          "within triggers");
    if (kw(r, "AS"))
        return skip_rest(r, "an alias of DELETE's table");
    if (accept_kw(r, "WHERE")) {
        if (read_expr(r, &s->where, 0) < 0)
            return -1;
        s->has_where = 1;
    }
    if (kw(r, "RETURNING"))
        return sp_fail(p, "cannot use RETURNING in a trigger");
    if (kw(r, "ORDER") || kw(r, "LIMIT"))
        return skip_rest(r, "ORDER BY or LIMIT in DELETE");
    return 0;
}

static int read_stmt(parser *p, size_t end, sch_trig_stmt *s)
{
    stmt_reader r = {p, end, s};
    size_t a = p->i;
    int rc;
    if (at_end(&r))
        return sp_syntax_error(p);
    if (kw(&r, "INSERT") || kw(&r, "REPLACE")) {
        rc = read_insert(&r);
    } else if (kw(&r, "UPDATE")) {
        rc = read_update(&r);
    } else if (kw(&r, "DELETE")) {
        rc = read_delete(&r);
    } else if (kw(&r, "SELECT") || kw(&r, "VALUES") || kw(&r, "WITH")) {
        s->kind = SCH_TS_SELECT;
        rc = read_select(&r);
    } else {
        return sp_syntax_error(p);
    }
    if (rc < 0)
        return -1;
    if (!at_end(&r))
        return sp_syntax_error(p);
    s->text = span_of(p, a, end);
    return 0;
}

static int parse_create_trigger(parser *p, sch_trigger *t)
{
    if (sp_expect_kw(p, "CREATE") < 0)
        return -1;
    t->temp = sp_accept_kw(p, "TEMP") || sp_accept_kw(p, "TEMPORARY");
    if (sp_expect_kw(p, "TRIGGER") < 0)
        return -1;
    if (sp_word_eq(sp_tok(p), "IF")) {
        sp_advance(p);
        if (sp_expect_kw(p, "NOT") < 0 || sp_expect_kw(p, "EXISTS") < 0)
            return -1;
        t->if_not_exists = 1;
    }
    if (sp_parse_nm(p, &t->name) < 0)
        return -1;
    if (sp_tok(p)->type == LX_DOT) { /* schema.name */
        sp_advance(p);
        free(t->name);
        t->name = NULL;
        if (sp_parse_nm(p, &t->name) < 0)
            return -1;
    }
    t->timing = SCH_TRIG_BEFORE;
    if (sp_accept_kw(p, "BEFORE")) {
        t->timing = SCH_TRIG_BEFORE;
    } else if (sp_accept_kw(p, "AFTER")) {
        t->timing = SCH_TRIG_AFTER;
    } else if (sp_word_eq(sp_tok(p), "INSTEAD")) {
        sp_advance(p);
        if (sp_expect_kw(p, "OF") < 0)
            return -1;
        t->timing = SCH_TRIG_INSTEAD_OF;
    }
    if (sp_accept_kw(p, "DELETE")) {
        t->event = SCH_TRIG_DELETE;
    } else if (sp_accept_kw(p, "INSERT")) {
        t->event = SCH_TRIG_INSERT;
    } else if (sp_accept_kw(p, "UPDATE")) {
        t->event = SCH_TRIG_UPDATE;
        if (sp_accept_kw(p, "OF")) {
            int cap = 0;
            for (;;) {
                if (!sp_is_nm(sp_tok(p)))
                    return sp_syntax_error(p);
                if (t->nof == cap) {
                    cap = cap ? cap * 2 : 4;
                    char **na = realloc(t->of, (size_t)cap * sizeof *na);
                    if (!na)
                        return sp_nomem(p);
                    t->of = na;
                    sch_span *nt = realloc(t->of_toks, (size_t)cap * sizeof *nt);
                    if (!nt)
                        return sp_nomem(p);
                    t->of_toks = nt;
                }
                t->of_toks[t->nof] = tok_span(p);
                if (sp_parse_nm(p, &t->of[t->nof]) < 0)
                    return -1;
                t->nof++;
                if (!sp_accept(p, LX_COMMA))
                    break;
            }
        }
    } else {
        return sp_syntax_error(p);
    }
    if (sp_expect_kw(p, "ON") < 0)
        return -1;
    t->table_tok = tok_span(p);
    if (sp_parse_nm(p, &t->table) < 0)
        return -1;
    if (sp_tok(p)->type == LX_DOT) {
        sp_advance(p);
        t->table_schema = t->table;
        t->table = NULL;
        t->table_tok = tok_span(p);
        if (sp_parse_nm(p, &t->table) < 0)
            return -1;
    }
    if (sp_accept_kw(p, "FOR")) {
        if (sp_expect_kw(p, "EACH") < 0 || sp_expect_kw(p, "ROW") < 0)
            return -1;
    }
    if (sp_accept_kw(p, "WHEN")) {
        stmt_reader r = {p, p->nt - 1, NULL};
        if (read_expr(&r, &t->when, 1) < 0)
            return -1;
        t->has_when = 1;
    }
    if (sp_expect_kw(p, "BEGIN") < 0)
        return -1;
    int cap = 0;
    while (!sp_word_eq(sp_tok(p), "END") || t->nstmts == 0) {
        /* The statement runs to the next ';' outside parentheses. */
        size_t end = p->i;
        while (end < p->nt - 1 && p->t[end].type != LX_SEMI) {
            if (p->t[end].type == LX_LP)
                end = p->match[end];
            end++;
        }
        if (end >= p->nt - 1) {
            p->i = end;
            return sp_syntax_error(p);
        }
        if (t->nstmts == cap) {
            cap = cap ? cap * 2 : 4;
            sch_trig_stmt *na = realloc(t->stmts, (size_t)cap * sizeof *na);
            if (!na)
                return sp_nomem(p);
            t->stmts = na;
        }
        sch_trig_stmt *s = &t->stmts[t->nstmts++];
        memset(s, 0, sizeof *s);
        if (read_stmt(p, end, s) < 0)
            return -1;
        p->i = end + 1;
        while (sp_tok(p)->type == LX_SEMI)
            sp_advance(p);
    }
    sp_advance(p); /* END */
    return sp_expect_end(p);
}

int sch_parse_trigger(sch_trigger *out, const char *sql, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    parser p;
    if (sp_parser_init(&p, sql, err, errlen) < 0) {
        sp_parser_done(&p);
        return -1;
    }
    int rc = parse_create_trigger(&p, out);
    sp_parser_done(&p);
    if (rc < 0 || p.failed) {
        sch_trigger_free(out);
        return -1;
    }
    return 0;
}
