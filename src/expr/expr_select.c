/*
 * expr_select.c - what an expression in a trigger may hold beyond scalar
 * SQL: the names of NEW, OLD and outer tables, subqueries over one table
 * (scalar, EXISTS, IN), the aggregates of their results, and RAISE().
 *
 * Names resolve at levels, SQLite's NameContexts: level 0 is the scope's
 * table, level k the FROM table of the subquery nested k deep. A name is
 * looked up from the innermost level outward (resolve.c's lookupName): at
 * each level the table's columns, then NEW and OLD when the name is
 * qualified (SQLite checks them in every NameContext, so "new.x" inside a
 * subquery whose table is aliased "new" but has no x still finds NEW's x),
 * then the rowid, then, in WHERE and ORDER BY, the aliases of the result.
 * After the levels come the sources that are not qualified_only. A
 * subquery's LIMIT sees no level (SQLite resolves it with an empty
 * NameContext) and its ORDER BY only its own and those inside it.
 *
 * A subquery is parsed in SQLite's order of resolution rather than its
 * order of text: its FROM table is looked up first (found by scanning the
 * tokens for the FROM at its own depth), so that the result list can name
 * its columns; the FROM clause is then parsed again in its place, so that
 * syntax errors come in text order. Its parts hang from its EXO_SUBQ node
 * as EXO_PART nodes in the order SQLite resolves them (LIMIT, OFFSET,
 * results, WHERE, ORDER BY, then IN's left operand), so that the deferred
 * errors of expr_compile.c come out in SQLite's order.
 *
 * Aggregates belong to the innermost subquery whose table their arguments
 * read (sqlite3ReferencesSrcList: NEW and OLD do not count; no table at all
 * keeps them where they are written); one that would belong to the
 * expression itself is "misuse of aggregate". When a subquery is complete,
 * its aggregates are listed in SQLite's order (result, then ORDER BY;
 * duplicates share one accumulator), and so are its bare columns, the
 * columns its result reads outside its aggregates, whose values come from
 * one row chosen as SQLite chooses it (expr_subq.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_parse_int.h"
#include "folio.h"

/* Subqueries inside subqueries: SQLite's parser stack (100 entries) runs
 * out at about 19 levels of the simplest form. */
#define EXS_MAX_NESTING 18

/* Where the parser is in a subquery (exp_level.clause). */
enum { CL_NONE, CL_RESULT, CL_WHERE, CL_ORDER };

/* ---- Levels ---------------------------------------------------------------------- */

static char *dup_name(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

int ex_scope_source_base(const ex_scope *sc, int i)
{
    int base = sc->ncols;
    for (int j = 0; j < i && j < sc->nsources; j++)
        base += sc->sources[j].ncols + 1;
    return base;
}

int exp_levels_init(parser *ps)
{
    const ex_scope *sc = ps->scope;
    ps->lv = calloc(4, sizeof *ps->lv);
    if (!ps->lv)
        return exp_nomem(ps);
    ps->lvcap = 4;
    ps->nlv = 1;
    ps->last_bare_node = -1;
    exp_level *l = &ps->lv[0];
    l->tab.name = sc->table;
    l->tab.cols = sc->cols;
    l->tab.ncols = sc->ncols;
    l->tab.rowid_alias = sc->rowid_alias;
    l->tab.without_rowid = sc->without_rowid;
    l->has_table = 1;
    l->subq = -1;
    int n = sc->ncols;
    for (int i = 0; i < sc->nsources; i++) {
        const ex_source *s = &sc->sources[i];
        if (!s->name || s->ncols < 0 || (s->ncols > 0 && !s->cols) || n > INT32_MAX / 2 - s->ncols)
            return exp_fail(ps, FOLIO_MISUSE, 0, "ex_compile: bad arguments");
        n += s->ncols + 1;
    }
    if (sc->nsources < 0 || (sc->nsources > 0 && !sc->sources))
        return exp_fail(ps, FOLIO_MISUSE, 0, "ex_compile: bad arguments");
    ps->nslots = n;
    return 0;
}

static void level_free(exp_level *l)
{
    free(l->name);
    for (int j = 0; j < l->nal; j++)
        free(l->al[j].name);
    free(l->al);
    memset(l, 0, sizeof *l);
}

void exp_levels_free(parser *ps)
{
    for (int L = 0; L < ps->nlv; L++)
        level_free(&ps->lv[L]);
    free(ps->lv);
    ps->lv = NULL;
    ps->nlv = 0;
    free(ps->sq);
    free(ps->idx);
    ps->sq = NULL;
    ps->idx = NULL;
}

static int push_level(parser *ps, const exp_level *l)
{
    if (ps->nlv == ps->lvcap) {
        exp_level *v = realloc(ps->lv, (size_t)ps->lvcap * 2 * sizeof *v);
        if (!v)
            return exp_nomem(ps);
        ps->lv = v;
        ps->lvcap *= 2;
    }
    ps->lv[ps->nlv++] = *l;
    return 0;
}

static int add_idx(parser *ps, int v)
{
    if (ps->nidx == ps->idxcap) {
        int cap = ps->idxcap ? ps->idxcap * 2 : 16;
        int *n = realloc(ps->idx, (size_t)cap * sizeof *n);
        if (!n)
            return exp_nomem(ps);
        ps->idx = n;
        ps->idxcap = cap;
    }
    ps->idx[ps->nidx++] = v;
    return 0;
}

/* ---- Names --------------------------------------------------------------------------- */

static int is_rowid_name(const char *s)
{
    return sch_ident_eq(s, "rowid") || sch_ident_eq(s, "oid") || sch_ident_eq(s, "_rowid_");
}

static int find_col(const ex_column *cols, int ncols, const char *name)
{
    for (int c = 0; c < ncols; c++)
        if (cols[c].name && sch_ident_eq(cols[c].name, name))
            return c;
    return -1;
}

/* A reference to a slot (EXO_COLUMN) or to the scope's rowid (EXO_ROWID). */
static int column_ref(parser *ps, int op, int slot, int aff, int coll, int level, size_t pos)
{
    int k = exp_new_node(ps, op, pos);
    if (k < 0)
        return -1;
    ex_node *n = N(ps, k);
    n->u.col = slot;
    n->eaff = (uint8_t)aff;
    n->ecoll = (uint8_t)coll;
    n->x = level;
    return exp_finish_node(ps, k) ? -1 : k;
}

/* A name found at level L reads a table around the subqueries inside L:
 * they are correlated (SQLite's EP_VarSelect). */
static void mark_correlated(parser *ps, int L)
{
    for (int j = L + 1 > 1 ? L + 1 : 1; j < ps->nlv; j++)
        ps->sq[ps->lv[j].subq].correlated = 1;
}

/* Column c of level L's table, or its rowid (c -1). */
static int level_column(parser *ps, int L, int c, size_t pos)
{
    const exp_level *l = &ps->lv[L];
    mark_correlated(ps, L);
    if (L == 0) {
        /* The scope's table: its rowid alias is the rowid. */
        if (c < 0 || c == l->tab.rowid_alias)
            return column_ref(ps, EXO_ROWID, 0, SCH_AFF_INTEGER,
                              c < 0 ? EXL_NONE : l->tab.cols[c].collation, 0, pos);
        return column_ref(ps, EXO_COLUMN, c, l->tab.cols[c].affinity, l->tab.cols[c].collation, 0,
                          pos);
    }
    if (c < 0 || c == l->tab.rowid_alias)
        return column_ref(ps, EXO_COLUMN, l->base + l->tab.ncols, SCH_AFF_INTEGER,
                          c < 0 ? EXL_NONE : l->tab.cols[c].collation, L, pos);
    return column_ref(ps, EXO_COLUMN, l->base + c, l->tab.cols[c].affinity,
                      l->tab.cols[c].collation, L, pos);
}

/* Column c (-1: the rowid) of source s. NEW and OLD are SQLite's TK_TRIGGER
 * references: no affinity but for the rowid, and the column's collation. */
static int source_column(parser *ps, int s, int c, size_t pos)
{
    const ex_source *src = &ps->scope->sources[s];
    int slot = ex_scope_source_base(ps->scope, s);
    int level = src->qualified_only ? EXL_LEVEL_TRIGGER : EXL_LEVEL_OUTER;
    if (!src->qualified_only)
        mark_correlated(ps, -1);
    if (c < 0 || c == src->rowid_alias)
        return column_ref(ps, EXO_COLUMN, slot + src->ncols, SCH_AFF_INTEGER,
                          c < 0 || src->qualified_only ? EXL_NONE : src->cols[c].collation, level,
                          pos);
    return column_ref(ps, EXO_COLUMN, slot + c,
                      src->qualified_only ? EXA_NONE : src->cols[c].affinity,
                      src->cols[c].collation, level, pos);
}

/* Note where a name was found (node k, when it was made). */
static int found_at(parser *ps, int level, int source, int col, int k)
{
    if (k >= 0) {
        ps->hit_level = level;
        ps->hit_source = source;
        ps->hit_col = col;
    }
    return k;
}

/* "tbl.name" against the qualified_only sources (NEW, OLD). */
static int trigger_source(parser *ps, const char *db, const char *tbl, const char *name, size_t pos)
{
    const ex_scope *sc = ps->scope;
    if (!tbl || db)
        return -2;
    for (int s = 0; s < sc->nsources; s++) {
        const ex_source *src = &sc->sources[s];
        if (!src->qualified_only || !sch_ident_eq(tbl, src->name))
            continue;
        int c = find_col(src->cols, src->ncols, name);
        if (c >= 0)
            return found_at(ps, -1, s, c, source_column(ps, s, c, pos));
        if (is_rowid_name(name) && !src->without_rowid)
            return found_at(ps, -1, s, -1, source_column(ps, s, -1, pos));
    }
    return -2;
}

static int level_named(const parser *ps, int L, const char *db, const char *tbl)
{
    if (!tbl)
        return 1;
    const char *nm = L == 0 ? ps->scope->table : ps->lv[L].name;
    return nm && sch_ident_eq(tbl, nm) && (!db || sch_ident_eq(db, "main"));
}

/* The first aggregate under k (not inside a subquery), or -1. */
static int first_aggregate(parser *ps, int k)
{
    const ex_node *n = N(ps, k);
    if (n->op == EXO_AGG)
        return k;
    if (n->op == EXO_SUBQ)
        return -1;
    int found = -1;
    EACH_CHILD_OF(ps, k, c, {
        if (found < 0)
            found = first_aggregate(ps, c);
    });
    return found;
}

/* A result's alias named in WHERE or ORDER BY. */
static int alias_ref(parser *ps, int L, int j, size_t pos)
{
    exp_level *l = &ps->lv[L];
    int target = l->al[j].node;
    if (l->clause == CL_WHERE) {
        /* SQLite copies the expression into the WHERE, where an aggregate
         * cannot be coded. */
        int a = first_aggregate(ps, target);
        if (a >= 0) {
            int f = exp_failed_node(ps, -1, 0, pos);
            return exp_defer(ps, f, EXP_CODEGEN_ON, FOLIO_ERROR, pos, "misuse of aggregate: %.*s()",
                             (int)N(ps, a)->u.s.n, (const char *)ps->bytes + N(ps, a)->u.s.off);
        }
    }
    int k = exp_new_node(ps, EXO_ALIAS, pos);
    if (k < 0)
        return -1;
    N(ps, k)->a = target;
    if (exp_finish_node(ps, k))
        return -1;
    ex_node *n = N(ps, k);
    const ex_node *t = N(ps, target);
    n->eaff = t->eaff;
    n->ecoll = t->ecoll;
    n->has_collate = t->has_collate;
    return k;
}

int exp_lookup_name(parser *ps, const char *db, const char *tbl, const char *name, size_t pos)
{
    const ex_scope *sc = ps->scope;
    int searched = 0;
    for (int L = ps->nlv - 1; L >= ps->floor; L--) {
        const exp_level *l = &ps->lv[L];
        int named = level_named(ps, L, db, tbl);
        searched = 1;
        if (named) {
            int c = find_col(l->tab.cols, l->tab.ncols, name);
            if (c >= 0)
                return found_at(ps, L, -1, c, level_column(ps, L, c, pos));
        }
        int k = trigger_source(ps, db, tbl, name, pos);
        if (k != -2)
            return k;
        if (named && is_rowid_name(name) && !l->tab.without_rowid) {
            /* Level 0 has a rowid unless it is an index key or generated
             * column's table, or, in a trigger, when there is no table (a
             * WHEN clause, INSERT's VALUES). */
            int ok = L > 0 ? l->has_table
                           : !(ps->flags & (EX_INDEX_EXPR | EX_GENERATED)) &&
                                 (!(ps->flags & EX_TRIGGER) || sc->table);
            if (ok)
                return found_at(ps, L, -1, -1, level_column(ps, L, -1, pos));
        }
        if (!tbl && L > 0 && l->aliases)
            for (int j = 0; j < l->nal; j++)
                if (sch_ident_eq(l->al[j].name, name))
                    return alias_ref(ps, L, j, pos);
    }
    if (!searched) {
        int k = trigger_source(ps, db, tbl, name, pos);
        if (k != -2)
            return k;
    }
    if (ps->floor > 0)
        return -2;
    for (int s = 0; s < sc->nsources; s++) {
        const ex_source *src = &sc->sources[s];
        if (src->qualified_only)
            continue;
        if (tbl && !(sch_ident_eq(tbl, src->name) && (!db || sch_ident_eq(db, "main"))))
            continue;
        int c = find_col(src->cols, src->ncols, name);
        if (c >= 0)
            return found_at(ps, -1, s, c, source_column(ps, s, c, pos));
        if (is_rowid_name(name) && !src->without_rowid)
            return found_at(ps, -1, s, -1, source_column(ps, s, -1, pos));
    }
    return -2;
}

/* ---- Aggregates ------------------------------------------------------------------------ */

static int aggregate_kind(const char *name, int nargs)
{
    static const struct {
        const char *name;
        int kind;
    } kinds[] = {{"count", EXAG_COUNT},
                 {"sum", EXAG_SUM},
                 {"total", EXAG_TOTAL},
                 {"avg", EXAG_AVG},
                 {"group_concat", EXAG_GROUP_CONCAT},
                 {"min", EXAG_MIN},
                 {"max", EXAG_MAX}};
    for (size_t j = 0; j < sizeof kinds / sizeof kinds[0]; j++) {
        if (!sch_ident_eq(name, kinds[j].name))
            continue;
        if (kinds[j].kind == EXAG_MIN || kinds[j].kind == EXAG_MAX)
            return nargs == 1 ? kinds[j].kind : -1; /* more: the scalar function */
        if (kinds[j].kind == EXAG_COUNT && nargs == 0)
            return EXAG_COUNT_STAR;
        return kinds[j].kind;
    }
    return -1;
}

static int aggregate_arity_ok(int kind, int nargs)
{
    switch (kind) {
    case EXAG_COUNT_STAR:
    case EXAG_COUNT:
        return nargs <= 1;
    case EXAG_GROUP_CONCAT:
        return nargs == 1 || nargs == 2;
    default:
        return nargs == 1;
    }
}

/* The levels the arguments under k read (sqlite3ReferencesSrcList): the
 * innermost one below `depth`, whether `depth` itself, whether an outer
 * source. Levels inside k's own subqueries are deeper than depth. */
static void levels_read(parser *ps, int k, int depth, int *below, int *here, int *outer)
{
    const ex_node *n = N(ps, k);
    if (n->op == EXO_COLUMN || n->op == EXO_ROWID) {
        if (n->x == EXL_LEVEL_OUTER)
            *outer = 1;
        else if (n->x == depth)
            *here = 1;
        else if (n->x >= 0 && n->x < depth && n->x > *below)
            *below = n->x;
    }
    EACH_CHILD_OF(ps, k, c, levels_read(ps, c, depth, below, here, outer));
}

/* Aggregates inside the arguments of an aggregate (not in a subquery of
 * them): SQLite resolves those arguments with aggregates refused. */
static int nested_aggregates(parser *ps, int k)
{
    const ex_node *n = N(ps, k);
    if (n->op == EXO_SUBQ)
        return 0;
    if (n->op == EXO_AGG &&
        exp_defer(ps, k, EXP_FUNCTION, FOLIO_ERROR, n->pos, "misuse of aggregate function %.*s()",
                  (int)n->u.s.n, (const char *)ps->bytes + n->u.s.off) < 0)
        return -1;
    int rc = 0;
    EACH_CHILD_OF(ps, k, c, {
        if (!rc)
            rc = nested_aggregates(ps, c);
    });
    return rc;
}

static int aggregate_error(parser *ps, int first, int nargs, size_t pos, int phase, int rc,
                           const char *fmt, const char *name)
{
    int f = exp_failed_node(ps, first, nargs, pos);
    return exp_defer(ps, f, phase, rc, pos, fmt, name);
}

int exp_aggregate_call(parser *ps, const char *name, int first, int nargs, int distinct, size_t pos)
{
    int kind = aggregate_kind(name, nargs);
    int json = sch_ident_eq(name, "json_group_array") || sch_ident_eq(name, "json_group_object");
    if ((kind < 0 && !json) || ps->nlv < 2 || ps->floor >= ps->nlv)
        return -2; /* the expression's own aggregates and LIMIT's: expr_parse.c's errors */
    exp_level *l = &ps->lv[ps->nlv - 1];
    int depth = ps->nlv - 1;
    /* Where SQLite resolves the call with aggregates allowed but cannot
     * code it: the WHERE of an aggregate query, the ORDER BY of one that
     * is not. */
    if ((l->clause == CL_WHERE && l->has_agg) || (l->clause == CL_ORDER && !l->has_agg))
        return aggregate_error(ps, first, nargs, pos, EXP_CODEGEN_ON, FOLIO_ERROR,
                               "misuse of aggregate: %s()", name);
    if (l->clause != CL_RESULT && l->clause != CL_ORDER)
        return -2;
    if (json)
        return aggregate_error(ps, first, nargs, pos, EXP_FUNCTION, FOLIO_UNSUPPORTED,
                               "function %s() is not supported in subqueries", name);
    if (!aggregate_arity_ok(kind, nargs))
        return aggregate_error(ps, first, nargs, pos, EXP_FUNCTION, FOLIO_ERROR,
                               "wrong number of arguments to function %s()", name);
    if (distinct)
        return aggregate_error(ps, first, nargs, pos, EXP_FUNCTION, FOLIO_UNSUPPORTED,
                               "DISTINCT aggregates are not supported%s", "");
    int k = exp_new_node(ps, EXO_AGG, pos);
    if (k < 0)
        return -1;
    uint32_t off;
    if (exp_add_bytes(ps, name, strlen(name), &off))
        return -1;
    ex_node *n = N(ps, k);
    n->sub = (uint8_t)kind;
    n->list = first;
    n->nlist = nargs;
    n->u.s.off = off;
    n->u.s.n = (uint32_t)strlen(name);
    if (exp_finish_node(ps, k))
        return -1;
    N(ps, k)->y = -1;
    for (int a = first; a >= 0; a = N(ps, a)->next)
        if (nested_aggregates(ps, a))
            return -1;
    n = N(ps, k);
    if (kind == EXAG_MIN || kind == EXAG_MAX) {
        /* The argument's collating sequence orders the values. */
        n->coll = N(ps, first)->ecoll;
        if (exp_check_collation(ps, k, first, -1, n->coll, pos))
            return -1;
    }
    /* The owner: the innermost level whose table the arguments read. */
    int below = -1, here = 0, outer = 0;
    for (int a = first; a >= 0; a = N(ps, a)->next)
        levels_read(ps, a, depth, &below, &here, &outer);
    int owner = depth;
    if (!here && (below >= 0 || outer))
        owner = below;
    if (owner < 1)
        return exp_defer(ps, k, EXP_CODEGEN_ON, FOLIO_ERROR, pos, "misuse of aggregate: %s()",
                         name);
    N(ps, k)->x = ps->lv[owner].subq;
    return k;
}

/* ---- RAISE ------------------------------------------------------------------------------ */

int exp_parse_raise(parser *ps, size_t pos)
{
    ps->i += 2; /* RAISE ( */
    const lx_token *t = exp_peek(ps, 0);
    static const struct {
        const char *word;
        int kind;
    } kinds[] = {{"IGNORE", EX_RAISE_IGNORE},
                 {"ROLLBACK", EX_RAISE_ROLLBACK},
                 {"ABORT", EX_RAISE_ABORT},
                 {"FAIL", EX_RAISE_FAIL}};
    int kind = -1;
    for (size_t j = 0; j < sizeof kinds / sizeof kinds[0]; j++)
        if (exp_tok_is(t, kinds[j].word))
            kind = kinds[j].kind;
    if (kind < 0)
        return exp_syntax_error(ps), -1;
    ps->i++;
    char msg[1024] = "";
    if (kind != EX_RAISE_IGNORE) {
        if (exp_peek(ps, 0)->type != LX_COMMA)
            return exp_syntax_error(ps), -1;
        ps->i++;
        /* SQLite's nm: a name (keywords that may be names included) or a
         * string, its text unquoted. */
        const lx_token *m = exp_peek(ps, 0);
        if (!((m->type == LX_ID && !exp_is_reserved(m)) || m->type == LX_QID ||
              m->type == LX_STRING))
            return exp_syntax_error(ps), -1;
        exp_ident_text(m, msg, sizeof msg);
        ps->i++;
    }
    if (exp_peek(ps, 0)->type != LX_RP)
        return exp_syntax_error(ps), -1;
    ps->i++;
    int k = exp_new_node(ps, EXO_RAISE, pos);
    if (k < 0)
        return -1;
    uint32_t off;
    if (exp_add_bytes(ps, msg, strlen(msg), &off))
        return -1;
    ex_node *n = N(ps, k);
    n->sub = (uint8_t)kind;
    n->u.s.off = off;
    n->u.s.n = (uint32_t)strlen(msg);
    if (exp_finish_node(ps, k))
        return -1;
    if (!(ps->flags & EX_TRIGGER))
        return exp_defer(ps, k, EXP_CODEGEN, FOLIO_ERROR, pos,
                         "RAISE() may only be used within a trigger-program");
    return k;
}

/* ---- Subqueries ------------------------------------------------------------------------ */

static int is_join_word(const lx_token *t)
{
    static const char *const words[] = {"JOIN",  "LEFT",    "RIGHT", "FULL", "INNER",
                                        "CROSS", "NATURAL", "OUTER", NULL};
    for (int j = 0; words[j]; j++)
        if (exp_tok_is(t, words[j]))
            return 1;
    return 0;
}

/* A token that may be an alias (SQLite's "as ::= ids"): not a keyword
 * that goes on the SELECT. */
static int is_alias_token(const lx_token *t)
{
    if (t->type == LX_QID || t->type == LX_STRING)
        return 1;
    return t->type == LX_ID && !exp_is_reserved(t) && !is_join_word(t) &&
           !exp_tok_is(t, "INDEXED") && !exp_tok_is(t, "WINDOW");
}

static int is_name_token(const lx_token *t)
{
    return (t->type == LX_ID && !exp_is_reserved(t)) || t->type == LX_QID || t->type == LX_STRING;
}

/* The FROM of the SELECT whose result list starts at the cursor (at the
 * same depth of parentheses, not the one of IS [NOT] DISTINCT FROM), as a
 * token index, or -1. */
static long find_from(const parser *ps)
{
    int depth = 0;
    for (size_t j = ps->i; j < ps->ntok; j++) {
        const lx_token *t = &ps->tok[j];
        if (t->type == LX_EOF)
            break;
        if (t->type == LX_LP) {
            depth++;
        } else if (t->type == LX_RP) {
            if (depth-- == 0)
                break;
        } else if (depth == 0 && exp_tok_is(t, "FROM") &&
                   !(j > 0 && exp_tok_is(&ps->tok[j - 1], "DISTINCT"))) {
            return (long)j;
        }
    }
    return -1;
}

/* The FROM item at token `at` (the FROM itself): [schema.]name [[AS] alias],
 * looked up before the result list is parsed. What is not well formed is
 * left for the pass in text order (from_clause) to report. */
static int lookup_from(parser *ps, size_t at, int k, ex_subq *q, exp_level *l)
{
    size_t j = at + 1;
    if (!is_name_token(&ps->tok[j]))
        return 0;
    char schema[256] = "", name[256], alias[256] = "";
    exp_ident_text(&ps->tok[j], name, sizeof name);
    size_t name_at = j++;
    if (ps->tok[j].type == LX_DOT) {
        if (!is_name_token(&ps->tok[j + 1]))
            return 0;
        memcpy(schema, name, sizeof name);
        exp_ident_text(&ps->tok[j + 1], name, sizeof name);
        name_at = j + 1;
        j += 2;
    }
    if (exp_tok_is(&ps->tok[j], "AS") && is_name_token(&ps->tok[j + 1]))
        exp_ident_text(&ps->tok[j + 1], alias, sizeof alias);
    else if (is_alias_token(&ps->tok[j]))
        exp_ident_text(&ps->tok[j], alias, sizeof alias);
    size_t pos = exp_tok_pos(ps, &ps->tok[name_at]);
    if (schema[0] && !sch_ident_eq(schema, "main"))
        return exp_defer(ps, k, EXP_COLUMN, FOLIO_ERROR, pos, "no such table: %s.%s", schema,
                         name) < 0
                   ? -1
                   : 0;
    ex_source src;
    memset(&src, 0, sizeof src);
    src.rowid_alias = -1;
    char err[256] = "";
    const ex_scope *sc = ps->scope;
    int rc = sc->table_lookup(sc->lookup_arg, name, &src, err, sizeof err);
    if (rc == FOLIO_NOMEM)
        return exp_nomem(ps);
    if (rc < 0)
        return exp_defer(ps, k, EXP_COLUMN, rc, pos, "%s", err[0] ? err : "no such table") < 0 ? -1
                                                                                               : 0;
    if (src.ncols < 0 || (src.ncols > 0 && !src.cols) || src.rowid_alias >= src.ncols ||
        ps->nslots > INT32_MAX / 2 - src.ncols)
        return exp_fail(ps, FOLIO_MISUSE, pos, "table_lookup: bad table");
    l->tab = src;
    l->has_table = 1;
    l->name = dup_name(alias[0] ? alias : name);
    if (!l->name)
        return exp_nomem(ps);
    l->aliased = alias[0] != 0;
    if (sc->name_seen) {
        const lx_token *nt = &ps->tok[name_at];
        ex_name seen = {.kind = EX_NAME_FROM,
                        .off = pos,
                        .len = nt->n,
                        .level = ps->nlv, /* (the level it is about to be) */
                        .table = l->tab.name,
                        .aliased = l->aliased};
        sc->name_seen(sc->name_arg, &seen);
    }
    l->base = ps->nslots;
    ps->nslots += src.ncols + 1;
    q->base = l->base;
    q->ncols = src.ncols;
    /* With its NUL: ex_subquery.table points at it. */
    if (exp_add_bytes(ps, name, strlen(name) + 1, &q->name_off))
        return -1;
    q->name_n = (uint32_t)strlen(name);
    return 0;
}

/* The FROM clause in its place in the text: its syntax, and what folio
 * does not evaluate. */
static int from_clause(parser *ps)
{
    ps->i++; /* FROM */
    const lx_token *t = exp_peek(ps, 0);
    if (t->type == LX_LP)
        return exp_fail(ps, FOLIO_UNSUPPORTED, exp_tok_pos(ps, t),
                        "subqueries in FROM are not supported");
    if (!is_name_token(t))
        return exp_syntax_error(ps);
    ps->i++;
    if (exp_peek(ps, 0)->type == LX_DOT) {
        ps->i++;
        if (!is_name_token(exp_peek(ps, 0)))
            return exp_syntax_error(ps);
        ps->i++;
    }
    t = exp_peek(ps, 0);
    if (t->type == LX_LP)
        return exp_fail(ps, FOLIO_UNSUPPORTED, exp_tok_pos(ps, t),
                        "table-valued functions are not supported");
    if (exp_tok_is(t, "AS")) {
        ps->i++;
        if (!is_name_token(exp_peek(ps, 0)))
            return exp_syntax_error(ps);
        ps->i++;
    } else if (is_alias_token(t)) {
        ps->i++;
    }
    t = exp_peek(ps, 0);
    if (t->type == LX_COMMA || is_join_word(t) || exp_tok_is(t, "ON") || exp_tok_is(t, "USING"))
        return exp_fail(ps, FOLIO_UNSUPPORTED, exp_tok_pos(ps, t),
                        "joins in subqueries are not supported");
    if (exp_tok_is(t, "INDEXED") ||
        (exp_tok_is(t, "NOT") && exp_tok_is(exp_peek(ps, 1), "INDEXED")))
        return exp_fail(ps, FOLIO_UNSUPPORTED, exp_tok_pos(ps, t),
                        "INDEXED BY in subqueries is not supported");
    return 0;
}

/* Parts collected while parsing a subquery, chained at the end. */
typedef struct parts {
    int *v;
    int n, cap;
} parts;

static int part(parser *ps, parts *pp, int sub, int expr, size_t pos)
{
    int k = exp_new_node(ps, EXO_PART, pos);
    if (k < 0)
        return -1;
    N(ps, k)->sub = (uint8_t)sub;
    N(ps, k)->a = expr;
    N(ps, k)->aff2 = 0; /* coded (ORDER BY) */
    if (exp_finish_node(ps, k))
        return -1;
    if (pp->n == pp->cap) {
        int cap = pp->cap ? pp->cap * 2 : 8;
        int *v = realloc(pp->v, (size_t)cap * sizeof *v);
        if (!v)
            return exp_nomem(ps), -1;
        pp->v = v;
        pp->cap = cap;
    }
    pp->v[pp->n++] = k;
    return k;
}

static int add_alias(parser *ps, exp_level *l, const char *name, int node)
{
    if (l->nal == l->alcap) {
        int cap = l->alcap ? l->alcap * 2 : 4;
        exp_alias *a = realloc(l->al, (size_t)cap * sizeof *a);
        if (!a)
            return exp_nomem(ps);
        l->al = a;
        l->alcap = cap;
    }
    char *d = dup_name(name);
    if (!d)
        return exp_nomem(ps);
    l->al[l->nal].name = d;
    l->al[l->nal].node = node;
    l->nal++;
    return 0;
}

/* "*" or "t.*" in a result list: the table's columns. */
static int star_columns(parser *ps, int k, parts *pp, int tstar, size_t pos, int *nres,
                        int *first_res)
{
    int L = ps->nlv - 1;
    const exp_level *l = &ps->lv[L];
    if (tstar) {
        char tn[256];
        exp_ident_text(exp_peek(ps, 0), tn, sizeof tn);
        size_t qlen = exp_peek(ps, 0)->n;
        ps->i += 3;
        if ((!l->name || !sch_ident_eq(tn, l->name)) &&
            exp_defer(ps, k, EXP_COLUMN, FOLIO_ERROR, pos, "no such table: %s", tn) < 0)
            return -1;
        if (l->name && sch_ident_eq(tn, l->name) && ps->scope->name_seen) {
            ex_name seen = {.kind = EX_NAME_STAR,
                            .off = pos,
                            .len = qlen,
                            .level = L,
                            .table = l->tab.name,
                            .aliased = l->aliased};
            ps->scope->name_seen(ps->scope->name_arg, &seen);
        }
    } else {
        ps->i++;
        if (!l->has_table &&
            exp_defer(ps, k, EXP_COLUMN, FOLIO_ERROR, pos, "no tables specified") < 0)
            return -1;
    }
    if (!l->has_table) {
        (*nres)++;
        return 0;
    }
    for (int c = 0; c < ps->lv[L].tab.ncols; c++) {
        int e = level_column(ps, L, c, pos);
        if (e < 0 || part(ps, pp, EXP_PART_RESULT, e, pos) < 0)
            return -1;
        if (*first_res < 0)
            *first_res = e;
        (*nres)++;
    }
    return 0;
}

/* The result list: its nodes as EXO_PART results; *nres columns. */
static int result_list(parser *ps, int k, parts *pp, int *nres, int *first_res)
{
    int L = ps->nlv - 1;
    *nres = 0;
    *first_res = -1;
    for (;;) {
        const lx_token *t = exp_peek(ps, 0);
        size_t pos = exp_tok_pos(ps, t);
        int star = exp_tok_op(t, "*");
        int tstar = !star && is_name_token(t) && exp_peek(ps, 1)->type == LX_DOT &&
                    exp_tok_op(exp_peek(ps, 2), "*");
        if (star || tstar) {
            if (star_columns(ps, k, pp, tstar, pos, nres, first_res))
                return -1;
            if (exp_peek(ps, 0)->type != LX_COMMA)
                return 0;
            ps->i++;
            continue;
        }
        int e = exp_parse_expr(ps, 0);
        if (e < 0)
            return -1;
        t = exp_peek(ps, 0);
        char alias[256] = "";
        if (exp_tok_is(t, "AS")) {
            ps->i++;
            if (!is_name_token(exp_peek(ps, 0)))
                return exp_syntax_error(ps);
            exp_ident_text(exp_peek(ps, 0), alias, sizeof alias);
            ps->i++;
        } else if (is_alias_token(t)) {
            exp_ident_text(t, alias, sizeof alias);
            ps->i++;
        }
        if (alias[0] && add_alias(ps, &ps->lv[L], alias, e))
            return -1;
        if (part(ps, pp, EXP_PART_RESULT, e, pos) < 0)
            return -1;
        if (*first_res < 0)
            *first_res = e;
        (*nres)++;
        if (exp_peek(ps, 0)->type != LX_COMMA)
            return 0;
        ps->i++;
    }
}

/* sqlite3ExprIsInteger: an integer literal (with unary + or -) that fits
 * 32 bits. */
static int small_integer(parser *ps, int k, int64_t *v)
{
    const ex_node *n = N(ps, k);
    if (n->op == EXO_UPLUS)
        return small_integer(ps, n->a, v);
    if (n->op == EXO_NEG) {
        if (!small_integer(ps, n->a, v))
            return 0;
        *v = -*v;
        return 1;
    }
    if (n->op != EXO_INT || n->is_truefalse || !(n->is_int_literal || n->is_neg_literal))
        return 0;
    if (n->u.i > INT32_MAX || n->u.i < -INT32_MAX)
        return 0;
    *v = n->u.i;
    return 1;
}

static const char *ordinal_suffix(int n)
{
    int m = n % 100;
    if (m >= 11 && m <= 13)
        return "th";
    switch (n % 10) {
    case 1:
        return "st";
    case 2:
        return "nd";
    case 3:
        return "rd";
    default:
        return "th";
    }
}

/* The j-th result's node (1-based), or -1 when it has none (a `*` column
 * of an EXISTS that is never evaluated). */
static int result_node(parser *ps, const parts *pp, int j)
{
    int seen = 0;
    for (int i = 0; i < pp->n; i++)
        if (N(ps, pp->v[i])->sub == EXP_PART_RESULT && ++seen == j)
            return N(ps, pp->v[i])->a;
    return -1;
}

/* One ORDER BY term (resolveOrderGroupBy): a bare name that is an alias of
 * the result, else an integer (the result column), else an expression. */
static int order_term(parser *ps, parts *pp, int nres, int term, int *check)
{
    const lx_token *t = exp_peek(ps, 0);
    size_t pos = exp_tok_pos(ps, t);
    exp_level *l = &ps->lv[ps->nlv - 1];
    ps->last_bare_node = -1;
    int e = exp_parse_expr(ps, 0);
    size_t name_tok = ps->last_bare_tok;
    if (e < 0)
        return -1;
    /* Under COLLATE: the term SQLite looks at (sqlite3ExprSkipCollate). */
    int parent = -1, e2 = e;
    while (N(ps, e2)->op == EXO_COLLATE) {
        parent = e2;
        e2 = N(ps, e2)->a;
    }
    int target = -2;
    if (e2 == ps->last_bare_node && ps->tok[name_tok].type != LX_STRING) {
        char nm[256];
        exp_ident_text(&ps->tok[name_tok], nm, sizeof nm);
        for (int j = 0; j < l->nal && target == -2; j++)
            if (sch_ident_eq(l->al[j].name, nm))
                target = l->al[j].node;
    }
    int64_t v;
    int out_of_range = 0;
    if (target == -2 && small_integer(ps, e2, &v)) {
        /* Below 1 at once; past the result list once all terms are resolved. */
        if (v < 1)
            out_of_range = 1;
        else if (v > nres)
            out_of_range = 2;
        else
            target = result_node(ps, pp, (int)v);
        if (target < 0 && !out_of_range)
            target = e2; /* a column of SELECT * in EXISTS: never sorted */
    }
    if (target >= 0) {
        if (parent >= 0)
            N(ps, parent)->a = target;
        else
            e = target;
    }
    int flags = 0;
    if (exp_tok_is(exp_peek(ps, 0), "ASC")) {
        ps->i++;
    } else if (exp_tok_is(exp_peek(ps, 0), "DESC")) {
        ps->i++;
        flags |= EXOB_DESC;
    }
    if (exp_tok_is(exp_peek(ps, 0), "NULLS")) {
        ps->i++;
        if (exp_tok_is(exp_peek(ps, 0), "FIRST"))
            flags |= EXOB_NULLS_FIRST;
        else if (exp_tok_is(exp_peek(ps, 0), "LAST"))
            flags |= EXOB_NULLS_LAST;
        else
            return exp_syntax_error(ps), -1;
        ps->i++;
    }
    int k = part(ps, pp, EXP_PART_ORDER, e, pos);
    if (k < 0)
        return -1;
    N(ps, k)->aff = (uint8_t)flags;
    if (out_of_range == 2 && *check < 0 &&
        (*check = part(ps, pp, EXP_PART_ORDER_CHECK, -1, pos)) < 0)
        return -1;
    if (out_of_range)
        return exp_defer(ps, out_of_range == 1 ? k : *check, EXP_COLUMN, FOLIO_ERROR, pos,
                         "%d%s ORDER BY term out of range - should be between 1 and %d", term,
                         ordinal_suffix(term), nres) < 0
                   ? -1
                   : k;
    return exp_check_collation(ps, k, e, -1, N(ps, e)->ecoll, pos) ? -1 : k;
}

static int unsupported(parser *ps, const char *what)
{
    return exp_fail(ps, FOLIO_UNSUPPORTED, exp_tok_pos(ps, exp_peek(ps, 0)), "%s", what);
}

/* What follows the result list and FROM: WHERE, ORDER BY, LIMIT. */
static int clauses(parser *ps, parts *pp, int nres, int s)
{
    int L = ps->nlv - 1;
    if (exp_tok_is(exp_peek(ps, 0), "WHERE")) {
        size_t pos = exp_tok_pos(ps, exp_peek(ps, 0));
        ps->i++;
        ps->lv[L].clause = CL_WHERE;
        ps->lv[L].aliases = 1;
        int e = exp_parse_expr(ps, 0);
        if (e < 0 || part(ps, pp, EXP_PART_WHERE, e, pos) < 0)
            return -1;
        ps->sq[s].where = e;
    }
    const lx_token *t = exp_peek(ps, 0);
    if (exp_tok_is(t, "GROUP"))
        return unsupported(ps, "GROUP BY in subqueries is not supported");
    if (exp_tok_is(t, "HAVING"))
        return unsupported(ps, "HAVING in subqueries is not supported");
    if (exp_tok_is(t, "WINDOW"))
        return unsupported(ps, "window functions are not supported");
    if (exp_tok_is(t, "ORDER")) {
        ps->i++;
        if (!exp_tok_is(exp_peek(ps, 0), "BY"))
            return exp_syntax_error(ps);
        ps->i++;
        /* ORDER BY may not name the tables around the subquery. */
        int floor = ps->floor;
        ps->floor = L;
        ps->lv[L].clause = CL_ORDER;
        ps->lv[L].aliases = 1;
        /* The terms go to idx once all are parsed (their subqueries use it). */
        parts terms = {NULL, 0, 0};
        int check = -1;
        for (int term = 1;; term++) {
            int o = order_term(ps, pp, nres, term, &check);
            if (o < 0) {
                free(terms.v);
                return -1;
            }
            if (terms.n == terms.cap) {
                int cap = terms.cap ? terms.cap * 2 : 4;
                int *v = realloc(terms.v, (size_t)cap * sizeof *v);
                if (!v) {
                    free(terms.v);
                    return exp_nomem(ps);
                }
                terms.v = v;
                terms.cap = cap;
            }
            terms.v[terms.n++] = o;
            if (exp_peek(ps, 0)->type != LX_COMMA)
                break;
            ps->i++;
        }
        ps->floor = floor;
        /* Terms SQLite never codes: all of them without FROM (one row, in
         * order already), those after the rowid (unique: the table's
         * order, forward or backward, satisfies them). */
        int coded = terms.n;
        const ex_subq *q = &ps->sq[s];
        if (q->base < 0 || q->kind == EXQ_EXISTS) {
            coded = 0; /* (EXISTS ignores ORDER BY) */
        } else {
            int key = N(ps, terms.v[0])->a;
            while (N(ps, key)->op == EXO_COLLATE)
                key = N(ps, key)->a;
            if (N(ps, key)->op == EXO_COLUMN && N(ps, key)->u.col == q->base + q->ncols)
                coded = 1;
        }
        for (int j = coded; j < terms.n; j++)
            N(ps, terms.v[j])->aff2 = 1;
        if (coded < terms.n)
            terms.n = coded;
        ps->sq[s].ord_first = ps->nidx;
        ps->sq[s].nord = terms.n;
        for (int j = 0; j < terms.n; j++)
            if (add_idx(ps, terms.v[j])) {
                free(terms.v);
                return -1;
            }
        free(terms.v);
    }
    ps->lv[L].clause = CL_NONE;
    ps->lv[L].aliases = 0;
    if (exp_tok_is(exp_peek(ps, 0), "LIMIT")) {
        size_t pos = exp_tok_pos(ps, exp_peek(ps, 0));
        ps->i++;
        /* LIMIT and OFFSET name nothing but NEW and OLD (an empty NameContext). */
        int floor = ps->floor;
        ps->floor = ps->nlv;
        int a = exp_parse_expr(ps, 0), b = -1, comma = 0;
        if (a >= 0 && (exp_tok_is(exp_peek(ps, 0), "OFFSET") ||
                       (comma = exp_peek(ps, 0)->type == LX_COMMA))) {
            ps->i++;
            b = exp_parse_expr(ps, 0);
            if (b < 0)
                a = -1;
        }
        ps->floor = floor;
        if (a < 0)
            return -1;
        /* "LIMIT a, b" is LIMIT b OFFSET a. */
        ps->sq[s].limit = comma ? b : a;
        ps->sq[s].offset = comma ? a : b;
        if (part(ps, pp, EXP_PART_LIMIT, comma ? b : a, pos) < 0)
            return -1;
        if ((comma ? a : b) >= 0 && part(ps, pp, EXP_PART_OFFSET, comma ? a : b, pos) < 0)
            return -1;
    }
    t = exp_peek(ps, 0);
    if (exp_tok_is(t, "UNION") || exp_tok_is(t, "INTERSECT") || exp_tok_is(t, "EXCEPT"))
        return unsupported(ps, "compound SELECTs in subqueries are not supported");
    if (t->type != LX_RP)
        return exp_syntax_error(ps);
    return 0;
}

/* Chain the parts under node k in SQLite's order of resolution. */
static void chain_parts(parser *ps, int k, const parts *pp)
{
    static const int order[] = {EXP_PART_LIMIT, EXP_PART_OFFSET, EXP_PART_RESULT,
                                EXP_PART_WHERE, EXP_PART_ORDER,  EXP_PART_ORDER_CHECK,
                                EXP_PART_LEFT};
    int first = -1, last = -1, n = 0;
    for (size_t o = 0; o < sizeof order / sizeof order[0]; o++) {
        for (int i = 0; i < pp->n; i++) {
            int p = pp->v[i];
            if (N(ps, p)->sub != order[o])
                continue;
            N(ps, p)->next = -1;
            if (last >= 0)
                N(ps, last)->next = p;
            else
                first = p;
            last = p;
            n++;
        }
    }
    N(ps, k)->list = first;
    N(ps, k)->nlist = n;
}

/* ---- A complete subquery: its aggregates and bare columns ------------------------------- */

/* Two trees that compute the same (sqlite3ExprCompare, roughly). */
static int same_tree(parser *ps, int a, int b)
{
    if (a == b)
        return 1;
    if (a < 0 || b < 0)
        return 0;
    const ex_node *x = N(ps, a), *y = N(ps, b);
    if (x->op != y->op || x->sub != y->sub || x->aff != y->aff || x->coll != y->coll ||
        x->nlist != y->nlist)
        return 0;
    switch (x->op) {
    case EXO_INT:
    case EXO_SUBQ:
        if (x->u.i != y->u.i)
            return 0;
        break;
    case EXO_REAL:
        if (memcmp(&x->u.r, &y->u.r, sizeof x->u.r) != 0)
            return 0;
        break;
    case EXO_TEXT:
    case EXO_BLOB:
    case EXO_COLLATE:
        if (x->u.s.n != y->u.s.n ||
            memcmp(ps->bytes + x->u.s.off, ps->bytes + y->u.s.off, x->u.s.n) != 0)
            return 0;
        break;
    case EXO_COLUMN:
        if (x->u.col != y->u.col)
            return 0;
        break;
    case EXO_FUNC:
        if (x->u.fn != y->u.fn)
            return 0;
        break;
    case EXO_AGG:
        break;
    default:
        if (x->u.i != y->u.i)
            return 0;
        break;
    }
    if (!same_tree(ps, x->a, y->a) || !same_tree(ps, x->b, y->b) || !same_tree(ps, x->c, y->c))
        return 0;
    for (int i = x->list, j = y->list; i >= 0 || j >= 0; i = N(ps, i)->next, j = N(ps, j)->next)
        if (i < 0 || j < 0 || !same_tree(ps, i, j))
            return 0;
    return 1;
}

/* 1 if an aggregate of subquery s is under k. */
static int owns_aggregate(parser *ps, int k, int s)
{
    const ex_node *n = N(ps, k);
    if (n->op == EXO_AGG && n->x == s)
        return 1;
    int found = 0;
    EACH_CHILD_OF(ps, k, c, found |= owns_aggregate(ps, c, s));
    return found;
}

typedef struct agg_walk {
    parser *ps;
    int s;      /* the subquery */
    int first;  /* its first aggregate in idx */
    int nstate; /* accumulators so far */
    int minmax; /* the last min() or max() accumulator, -1 */
    int rc;
} agg_walk;

/* The aggregates of subquery w->s under k, in SQLite's order (the walker
 * stops at an aggregate: its arguments are evaluated, not searched). */
static void collect_aggregates(agg_walk *w, int k)
{
    parser *ps = w->ps;
    ex_node *n = N(ps, k);
    if (n->op == EXO_AGG && n->x == w->s) {
        for (int i = w->first; i < ps->nidx; i++) {
            int o = ps->idx[i];
            if (same_tree(ps, o, k)) {
                N(ps, k)->y = N(ps, o)->y;
                return;
            }
        }
        n->y = w->nstate++;
        if (n->sub == EXAG_MIN || n->sub == EXAG_MAX)
            w->minmax = n->y;
        if (!w->rc)
            w->rc = add_idx(ps, k);
        return;
    }
    EACH_CHILD_OF(ps, k, c, collect_aggregates(w, c));
}

/* Aggregates of s that the walk above does not reach (in its WHERE, or in
 * a subquery of its WHERE): SQLite cannot code them. */
static int stray_aggregates(parser *ps, int k, int s)
{
    const ex_node *n = N(ps, k);
    if (n->op == EXO_AGG && n->x == s && n->y < 0)
        return exp_defer(ps, k, EXP_CODEGEN_ON, FOLIO_ERROR, n->pos, "misuse of aggregate: %.*s()",
                         (int)n->u.s.n, (const char *)ps->bytes + n->u.s.off) < 0;
    int rc = 0;
    EACH_CHILD_OF(ps, k, c, {
        if (!rc)
            rc = stray_aggregates(ps, c, s);
    });
    return rc;
}

/* Slots of the subquery's table read under k outside its own aggregates. */
static int collect_bare(parser *ps, int k, const ex_subq *q, int s, int first)
{
    const ex_node *n = N(ps, k);
    if (n->op == EXO_AGG && n->x == s)
        return 0;
    if (n->op == EXO_COLUMN && n->u.col >= q->base && n->u.col <= q->base + q->ncols) {
        for (int i = first; i < ps->nidx; i++)
            if (ps->idx[i] == n->u.col)
                return 0;
        if (add_idx(ps, n->u.col))
            return -1;
    }
    int rc = 0;
    EACH_CHILD_OF(ps, k, c, {
        if (!rc)
            rc = collect_bare(ps, c, q, s, first);
    });
    return rc;
}

static int complete_subquery(parser *ps, int s, const parts *pp, int has_agg)
{
    /* Accumulators of the aggregates, in SQLite's order: results, then
     * ORDER BY (those it does not reach keep y -1). */
    agg_walk w = {ps, s, ps->nidx, 0, -1, 0};
    static const int kinds[] = {EXP_PART_RESULT, EXP_PART_ORDER};
    for (size_t o = 0; o < (has_agg ? 2u : 1u); o++)
        for (int i = 0; i < pp->n; i++)
            if (N(ps, pp->v[i])->sub == kinds[o])
                collect_aggregates(&w, N(ps, pp->v[i])->a);
    if (w.rc)
        return -1;
    ex_subq *q = &ps->sq[s];
    /* x IN (SELECT rowid FROM t [ORDER BY ...]) is answered from t itself
     * (SQLite's isCandidateForInOpt and IN_INDEX_ROWID): the subquery,
     * its ORDER BY included, is never run. */
    if (q->kind == EXQ_IN && w.rc == 0 && ps->nidx == w.first && q->base >= 0 && q->limit < 0 &&
        q->where < 0 && q->result >= 0 && N(ps, q->result)->op == EXO_COLUMN &&
        N(ps, q->result)->u.col == q->base + q->ncols) {
        for (int j = 0; j < q->nord; j++)
            N(ps, ps->idx[q->ord_first + j])->aff2 = 1;
        q->nord = 0;
    }
    q->agg_first = w.first;
    q->nagg = ps->nidx - w.first;
    q->nstate = w.nstate;
    q->is_agg = q->nagg > 0;
    q->minmax_last = w.minmax;
    for (int i = 0; i < pp->n; i++)
        if (stray_aggregates(ps, pp->v[i], s))
            return -1;
    if (q->is_agg && q->base >= 0) {
        int first = ps->nidx;
        for (int i = 0; i < pp->n; i++)
            if (N(ps, pp->v[i])->sub == EXP_PART_RESULT &&
                collect_bare(ps, N(ps, pp->v[i])->a, &ps->sq[s], s, first))
                return -1;
        q = &ps->sq[s];
        q->bare_first = first;
        q->nbare = ps->nidx - first;
    }
    return 0;
}

int exp_parse_select(parser *ps, int kind, int left, size_t pos)
{
    const lx_token *t = exp_peek(ps, 0);
    if (exp_tok_is(t, "WITH"))
        return unsupported(ps, "WITH clauses in subqueries are not supported"), -1;
    if (exp_tok_is(t, "VALUES"))
        return unsupported(ps, "VALUES in subqueries is not supported"), -1;
    if (ps->nlv > EXS_MAX_NESTING)
        return exp_fail(ps, FOLIO_ERROR, exp_tok_pos(ps, t), "parser stack overflow"), -1;
    ps->i++; /* SELECT */
    if (exp_tok_is(exp_peek(ps, 0), "DISTINCT"))
        return unsupported(ps, "SELECT DISTINCT in subqueries is not supported"), -1;
    if (exp_tok_is(exp_peek(ps, 0), "ALL"))
        ps->i++;
    long from_at = find_from(ps);
    /* The subquery and its node, which its FROM errors belong to. */
    if (ps->nsq == ps->sqcap) {
        int cap = ps->sqcap ? ps->sqcap * 2 : 4;
        ex_subq *v = realloc(ps->sq, (size_t)cap * sizeof *v);
        if (!v)
            return exp_nomem(ps), -1;
        ps->sq = v;
        ps->sqcap = cap;
    }
    int s = ps->nsq++;
    ex_subq *q = &ps->sq[s];
    memset(q, 0, sizeof *q);
    q->kind = (uint8_t)kind;
    q->depth = ps->nlv;
    q->base = -1;
    q->result = q->where = q->limit = q->offset = q->left = -1;
    q->minmax_last = -1;
    int k = exp_new_node(ps, EXO_SUBQ, pos);
    if (k < 0)
        return -1;
    N(ps, k)->sub = (uint8_t)kind;
    N(ps, k)->u.i = s;
    q->node = k;
    exp_level l;
    memset(&l, 0, sizeof l);
    l.subq = s;
    l.base = -1;
    if (from_at >= 0 && lookup_from(ps, (size_t)from_at, k, &ps->sq[s], &l)) {
        free(l.name);
        return -1;
    }
    if (push_level(ps, &l)) {
        free(l.name);
        return -1;
    }
    int L = ps->nlv - 1;
    parts pp = {NULL, 0, 0};
    int nres = 0, first_res = -1, rc = -1;
    ps->lv[L].clause = CL_RESULT;
    if (result_list(ps, k, &pp, &nres, &first_res))
        goto done;
    /* Its own aggregates make it an aggregate query (SQLite's NC_HasAgg). */
    for (int i = 0; i < pp.n; i++)
        ps->lv[L].has_agg |= owns_aggregate(ps, N(ps, pp.v[i])->a, s);
    if (from_at >= 0) {
        if (ps->i != (size_t)from_at) {
            exp_syntax_error(ps);
            goto done;
        }
        if (from_clause(ps))
            goto done;
    }
    if (clauses(ps, &pp, nres, s))
        goto done;
    q = &ps->sq[s];
    q->result = kind == EXQ_EXISTS ? -1 : first_res;
    if (left >= 0) {
        q->left = left;
        if (part(ps, &pp, EXP_PART_LEFT, left, pos) < 0)
            goto done;
    }
    chain_parts(ps, k, &pp);
    if (exp_finish_node(ps, k))
        goto done;
    /* Not what finish_node finds from the parts: a subquery's value has the
     * affinity of its result and no collating sequence; IN's has its left
     * operand's. */
    ex_node *n = N(ps, k);
    n->constant = 0;
    n->pconst = 0;
    n->has_collate = 0;
    n->ecoll = EXL_NONE;
    n->eaff = EXA_NONE;
    if (kind == EXQ_SCALAR && first_res >= 0)
        n->eaff = N(ps, first_res)->eaff;
    if (kind == EXQ_IN) {
        n->has_collate = N(ps, left)->has_collate;
        n->ecoll = n->has_collate ? N(ps, left)->ecoll : EXL_NONE;
        if (first_res >= 0) {
            n->aff = exp_compare_affinity(N(ps, first_res)->eaff, N(ps, left)->eaff);
            n->coll = exp_compare_collation(ps, left, first_res);
            if (exp_check_collation(ps, k, left, first_res, n->coll, pos))
                goto done;
        }
    }
    if (kind != EXQ_EXISTS && nres != 1 &&
        exp_defer(ps, k, EXP_CODEGEN, FOLIO_ERROR, pos,
                  "sub-select returns %d columns - expected 1", nres) < 0)
        goto done;
    if (complete_subquery(ps, s, &pp, ps->lv[L].has_agg))
        goto done;
    rc = 0;
done:
    free(pp.v);
    level_free(&ps->lv[L]);
    ps->nlv = L;
    return rc ? -1 : k;
}
