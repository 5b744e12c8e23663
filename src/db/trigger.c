/*
 * trigger.c - SQLite's row triggers: BEFORE and AFTER, INSERT, UPDATE [OF]
 * and DELETE, FOR EACH ROW, WHEN, NEW and OLD, run inside the row call that
 * fires them.
 *
 * A catalog's triggers are read and compiled once, when a write first needs
 * them (trig_set, made under the handle's lock as the foreign key graph is):
 * per table the list of its triggers in SQLite's firing order (the one made
 * last fires first), each with its WHEN clause and body statements compiled
 * by the expression layer against the tables they name, NEW and OLD being
 * two named row sources. What SQLite reports when it prepares a statement
 * (no such table, no such column) is kept with the trigger and reported by
 * every call that would fire it, as SQLite reports it for every statement
 * that would; what folio does not run (joins, UPSERT, ...) is reported the
 * same way, as FOLIO_UNSUPPORTED naming the trigger.
 *
 * A body statement runs as public row calls nested in the call that fired
 * the trigger (txn->stmt_nested), the way foreign key actions run: the rows
 * an UPDATE or DELETE changes are selected first (SQLite's two-pass form),
 * then each is changed by folio_patch / folio_delete, which fire their own
 * triggers and foreign key actions in turn. Everything is part of the
 * statement of the outermost call: when anything fails, write_end undoes it
 * all. txn->fk_depth counts trigger programs and actions together, up to
 * SQLite's limit of 1000. With recursive_triggers off (SQLite's default) a
 * trigger is not fired by what it itself does.
 *
 * RAISE(IGNORE) skips the rest of the row that fired the trigger (the row
 * call returns FOLIO_OK having done nothing more); RAISE(ABORT) fails the
 * call; RAISE(FAIL) fails it but keeps what its statement did before;
 * RAISE(ROLLBACK) fails it and the transaction, which then can only be
 * rolled back. Conflict clauses of body statements (OR IGNORE, OR FAIL, OR
 * ABORT, OR ROLLBACK) act on the nested call's own constraint checks the
 * same way.
 */
#define _GNU_SOURCE /* pthread_getattr_np: the thread's stack size */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/write_int.h"
#include "schema/affinity.h"
#include "schema/lex.h"

#define TRIG_MAX_DEPTH 1000 /* SQLite's SQLITE_MAX_TRIGGER_DEPTH */

/* ---- compiled triggers ---- */

typedef struct trig_step {
    const sch_trig_stmt *st;
    db_table *target; /* INSERT / UPDATE / DELETE target, or SELECT's FROM (NULL: none) */
    ex_scope scope;   /* the target's (SELECT: as aliased), or no table */
    /* INSERT: position of each value in the target's row value array */
    int *vpos;
    int nv;         /* values per row */
    ex_prog **vals; /* INSERT VALUES: nrows * nvals; SELECT source: nres */
    ex_prog **res;  /* SELECT: the results */
    ex_prog *where;
    int agg; /* an aggregate SELECT: one row, each result a scalar subquery */
    /* UPDATE / DELETE of a rowid table whose WHERE has a term "rowid = x"
     * (or the INTEGER PRIMARY KEY) with x free of the table: x, so that
     * the one row it can name is looked up instead of the table scanned. */
    ex_prog *key;
    int *set_cols;      /* UPDATE: the column of each SET */
    ex_prog **set_vals; /* UPDATE: its value */
    /* INSERT ... ON CONFLICT: per clause, what it targets and does, its DO
     * UPDATE's columns, values and WHERE (compiled with "excluded" as a
     * source after NEW and OLD: usrc). */
    ups_clause *ups;
    int nups;
    int **ups_cols;
    ex_prog ***ups_vals;
    ex_prog **ups_where;
    ex_source usrc[3];
} trig_step;

typedef struct trig_def {
    char *name;
    db_table *tab;
    sch_trigger def;
    char *sql;
    int *of_cols; /* UPDATE OF: the columns (names that match none are dropped) */
    int nof;
    ex_source src[2]; /* NEW and/or OLD, as the event has them */
    int nsrc;
    ex_prog *when;
    trig_step *steps;
    int nsteps;
    /* Why every call that would fire it fails: SQLite's error, or what
     * folio does not run (rc FOLIO_UNSUPPORTED). */
    int err_rc;
    char *err;
} trig_def;

typedef struct trig_tab {
    const db_table *tab;
    trig_def **defs; /* firing order */
    int n;
} trig_tab;

struct trig_set {
    trig_tab *tabs;
    int ntabs;
    uint64_t gen; /* unique to this set: table states cache their list by it */
};

static uint64_t g_set_gen;

static void step_free(trig_step *s)
{
    int nvals = s->st ? s->st->nrows * s->st->nvals : 0;
    if (s->vals) {
        int n = s->st && s->st->select_source ? s->st->nres : nvals;
        for (int i = 0; i < n; i++)
            ex_prog_free(s->vals[i]);
    }
    os_free(s->vals);
    if (s->res)
        for (int i = 0; i < s->st->nres; i++)
            ex_prog_free(s->res[i]);
    os_free(s->res);
    ex_prog_free(s->where);
    ex_prog_free(s->key);
    os_free(s->vpos);
    os_free(s->set_cols);
    if (s->set_vals)
        for (int i = 0; i < s->st->nset; i++)
            ex_prog_free(s->set_vals[i]);
    os_free(s->set_vals);
    for (int k = 0; k < s->nups; k++) {
        const sch_upsert *u = &s->st->upsert[k];
        if (s->ups_vals && s->ups_vals[k])
            for (int i = 0; i < u->nset; i++)
                ex_prog_free(s->ups_vals[k][i]);
        if (s->ups_vals)
            os_free(s->ups_vals[k]);
        if (s->ups_cols)
            os_free(s->ups_cols[k]);
        if (s->ups_where)
            ex_prog_free(s->ups_where[k]);
    }
    os_free(s->ups_vals);
    os_free(s->ups_cols);
    os_free(s->ups_where);
    os_free(s->ups);
}

static void def_free(trig_def *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->nsteps; i++)
        step_free(&d->steps[i]);
    os_free(d->steps);
    ex_prog_free(d->when);
    os_free(d->of_cols);
    sch_trigger_free(&d->def);
    os_free(d->name);
    os_free(d->sql);
    os_free(d->err);
    os_free(d);
}

void trig_set_free(struct trig_set *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->ntabs; i++) {
        for (int j = 0; j < s->tabs[i].n; j++)
            def_free(s->tabs[i].defs[j]);
        os_free(s->tabs[i].defs);
    }
    os_free(s->tabs);
    os_free(s);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *p = os_malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

static int def_fail(trig_def *d, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int def_fail(trig_def *d, int rc, const char *fmt, ...)
{
    if (d->err)
        return rc;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    d->err_rc = rc;
    d->err = dup_str(buf);
    return d->err ? rc : FOLIO_NOMEM;
}

/* Subqueries' tables (the expression layer asks by name). */
static int lookup_table(void *arg, const char *name, ex_source *out, char *err, size_t errlen)
{
    db_catalog *cat = arg;
    db_table *t = catalog_find_table(cat, name);
    if (!t || !t->parsed) {
        snprintf(err, errlen, "no such table: main.%s", name);
        return FOLIO_ERROR;
    }
    memset(out, 0, sizeof *out);
    out->name = t->name;
    out->cols = t->ex_cols;
    out->ncols = t->def.ncols;
    out->rowid_alias = t->def.ipk;
    out->without_rowid = t->def.without_rowid;
    return 0;
}

/* Compile one expression of the trigger's text. */
static int compile_text(trig_def *d, db_catalog *cat, const ex_scope *base, const char *text,
                        size_t len, ex_prog **out, unsigned flags)
{
    ex_scope sc = *base;
    if (!sc.sources) { /* (an UPSERT's DO UPDATE gives its own: NEW, OLD, excluded) */
        sc.sources = d->src;
        sc.nsources = d->nsrc;
    }
    sc.table_lookup = lookup_table;
    sc.lookup_arg = cat;
    char err[256];
    int rc = ex_compile(out, text, len, &sc, flags, err, sizeof err);
    if (rc == FOLIO_NOMEM)
        return rc;
    if (rc < 0) {
        /* (the message ends with the offset the expression layer found it
         * at, which SQLite does not say) */
        char *at = strstr(err, " (at offset ");
        if (at)
            *at = 0;
        if (rc == FOLIO_UNSUPPORTED)
            return def_fail(d, rc, "trigger %s: %s", d->name, err);
        return def_fail(d, rc, "%s", err);
    }
    return 0;
}

static int compile_as(trig_def *d, db_catalog *cat, const ex_scope *base, sch_span sp,
                      ex_prog **out, unsigned flags)
{
    return compile_text(d, cat, base, d->sql + sp.off, sp.len, out, flags);
}

/* A value (VALUES items, SET values, SELECT results). */
static int compile(trig_def *d, db_catalog *cat, const ex_scope *base, sch_span sp, ex_prog **out)
{
    return compile_as(d, cat, base, sp, out, EX_TRIGGER);
}

/* A condition (WHEN, WHERE): coded as SQLite's jumps. */
static int compile_cond(trig_def *d, db_catalog *cat, const ex_scope *base, sch_span sp,
                        ex_prog **out)
{
    return compile_as(d, cat, base, sp, out, EX_TRIGGER | EX_CONDITION);
}

static int column_of(const db_table *t, const char *name)
{
    for (int c = 0; c < t->def.ncols; c++)
        if (sch_ident_eq(t->def.cols[c].name, name))
            return c;
    return -1;
}

static const ex_scope no_table = {0};

static int step_target(trig_def *d, db_catalog *cat, trig_step *s, const char *name)
{
    (void)cat;
    db_table *t = catalog_find_table(cat, name);
    if (!t)
        return def_fail(d, FOLIO_ERROR, "no such table: main.%s", name);
    if (!t->parsed)
        return def_fail(d, FOLIO_UNSUPPORTED, "trigger %s: table %s cannot be used: %s", d->name,
                        name, t->parse_error ? t->parse_error : "unknown definition");
    s->target = t;
    s->scope = t->scope;
    return 0;
}

static int compile_list(trig_def *d, db_catalog *cat, const ex_scope *sc, const sch_span *sp, int n,
                        ex_prog ***out)
{
    if (n == 0)
        return 0;
    *out = os_calloc((size_t)n, sizeof **out);
    if (!*out)
        return FOLIO_NOMEM;
    for (int i = 0; i < n; i++) {
        int rc = compile(d, cat, sc, sp[i], &(*out)[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* name in double quotes (the quotes inside doubled) at q; its length. */
static size_t quote_ident(char *q, const char *name)
{
    size_t n = 0;
    q[n++] = '"';
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            q[n++] = '"';
        q[n++] = *p;
    }
    q[n++] = '"';
    q[n] = 0;
    return n;
}

/* A SELECT (statement or INSERT's source): FROM, WHERE, results. */
static int compile_select(trig_def *d, db_catalog *cat, trig_step *s, ex_prog ***res)
{
    const sch_trig_stmt *st = s->st;
    int rc;
    const ex_scope *sc = &no_table;
    if (st->from) {
        if ((rc = step_target(d, cat, s, st->from)) < 0)
            return rc;
        if (st->alias)
            s->scope.table = st->alias;
        sc = &s->scope;
    }
    if (st->has_where && (rc = compile_cond(d, cat, sc, st->where, &s->where)) < 0)
        return rc;
    rc = compile_list(d, cat, sc, st->res, st->nres, res);
    if (rc >= 0 || !d->err || strncmp(d->err, "misuse of aggregate function", 28) != 0)
        return rc;
    /* An aggregate SELECT (no GROUP BY): one row, whose every result is the
     * scalar subquery "(SELECT result FROM table WHERE ...)". */
    os_free(d->err);
    d->err = NULL;
    d->err_rc = 0;
    for (int i = 0; i < st->nres; i++) {
        ex_prog_free((*res)[i]);
        (*res)[i] = NULL;
    }
    ex_prog_free(s->where);
    s->where = NULL;
    s->agg = 1;
    s->target = NULL;
    for (int i = 0; i < st->nres && rc >= -1000; i++) {
        /* A result that names no column of the table (NEW.a, a constant):
         * itself, whether or not any row matches (as SQLite computes it on
         * the aggregate's one row). */
        rc = compile_text(d, cat, &no_table, d->sql + st->res[i].off, st->res[i].len, &(*res)[i],
                          EX_TRIGGER);
        if (rc == 0)
            continue;
        if (rc == FOLIO_NOMEM)
            return rc;
        os_free(d->err);
        d->err = NULL;
        d->err_rc = 0;
        char *q = os_malloc((size_t)st->res[i].len + (st->has_where ? st->where.len : 0) +
                            2 * (st->from ? strlen(st->from) : 0) +
                            2 * (st->alias ? strlen(st->alias) : 0) + 64);
        if (!q)
            return FOLIO_NOMEM;
        size_t n = (size_t)sprintf(q, "(SELECT %.*s", (int)st->res[i].len, d->sql + st->res[i].off);
        if (st->from) {
            n += (size_t)sprintf(q + n, " FROM ");
            n += quote_ident(q + n, st->from);
            if (st->alias) {
                n += (size_t)sprintf(q + n, " AS ");
                n += quote_ident(q + n, st->alias);
            }
        }
        if (st->has_where)
            n += (size_t)sprintf(q + n, " WHERE %.*s", (int)st->where.len, d->sql + st->where.off);
        n += (size_t)sprintf(q + n, ")");
        rc = compile_text(d, cat, &no_table, q, n, &(*res)[i], EX_TRIGGER);
        os_free(q);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Whether token tk names the rowid of table t (its INTEGER PRIMARY KEY
 * column; rowid, oid or _rowid_ when no column has that name). */
static int names_rowid(const db_table *t, const lx_token *tk)
{
    if (tk->type != LX_ID && tk->type != LX_QID)
        return 0;
    char name[128];
    size_t n = tk->n < sizeof name - 1 ? tk->n : sizeof name - 1;
    memcpy(name, tk->z, n);
    name[n] = 0;
    if (tk->type == LX_QID) { /* "x", [x], `x`: the inside (none with doubled quotes) */
        char close = name[0] == '[' ? ']' : name[0];
        if (n < 2 || memchr(name + 1, close, n - 2))
            return 0;
        memmove(name, name + 1, n - 2);
        name[n - 2] = 0;
    }
    int c = column_of(t, name);
    if (c >= 0)
        return c == t->def.ipk;
    return sch_ident_eq(name, "rowid") || sch_ident_eq(name, "oid") ||
           sch_ident_eq(name, "_rowid_");
}

static int word_is(const lx_token *tk, const char *w)
{
    return tk->type == LX_ID && tk->n == strlen(w) && strncasecmp(tk->z, w, tk->n) == 0;
}

/* Operators of the precedence of "=" and below, and words that make a
 * term more than "x = y": none may be at the top of the other side. */
static int weak_operator(const lx_token *tk)
{
    static const char *const words[] = {"AND",    "OR",      "NOT",    "IS",      "IN",
                                        "LIKE",   "GLOB",    "MATCH",  "REGEXP",  "BETWEEN",
                                        "ISNULL", "NOTNULL", "ESCAPE", "COLLATE", "CASE"};
    if (tk->type == LX_OP)
        return (tk->n == 1 && tk->z[0] == '=') || (tk->n == 2 && memcmp(tk->z, "==", 2) == 0) ||
               (tk->n == 2 && memcmp(tk->z, "!=", 2) == 0) ||
               (tk->n == 2 && memcmp(tk->z, "<>", 2) == 0);
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (word_is(tk, words[k]))
            return 1;
    return 0;
}

static int is_eq(const lx_token *tk)
{
    return tk->type == LX_OP &&
           ((tk->n == 1 && tk->z[0] == '=') || (tk->n == 2 && memcmp(tk->z, "==", 2) == 0));
}

/* A side of a term, tokens [a, b), with nothing weaker than "=" at its top. */
static int plain_side(const lx_token *tk, size_t a, size_t b)
{
    int depth = 0;
    if (a >= b)
        return 0;
    for (size_t i = a; i < b; i++) {
        if (tk[i].type == LX_LP)
            depth++;
        else if (tk[i].type == LX_RP)
            depth--;
        else if (depth == 0 && weak_operator(&tk[i]))
            return 0;
    }
    return 1;
}

/* Of a term, tokens [a, b): the x of "name = x" or "x = name" where name
 * (maybe table.name) is the target's rowid, as a span; 0 when none. */
static int term_key(const db_table *t, const lx_token *tk, size_t a, size_t b, size_t *xa,
                    size_t *xb)
{
    size_t e = a;
    while (e < b && !is_eq(&tk[e]) && tk[e].type != LX_LP)
        e++;
    if (e >= b || !is_eq(&tk[e]))
        return 0; /* (only a first "=" outside parentheses can be the term's top) */
    for (int side = 0; side < 2; side++) {
        size_t na = side ? e + 1 : a, nb = side ? b : e;
        *xa = side ? a : e + 1;
        *xb = side ? e : b;
        const lx_token *nm = NULL;
        if (nb - na == 1) {
            nm = &tk[na];
        } else if (nb - na == 3 && tk[na + 1].type == LX_DOT && tk[na].type == LX_ID) {
            char tn[128];
            snprintf(tn, sizeof tn, "%.*s", (int)tk[na].n, tk[na].z);
            if (sch_ident_eq(tn, t->name))
                nm = &tk[na + 2];
        }
        if (nm && names_rowid(t, nm) && plain_side(tk, *xa, *xb))
            return 1;
    }
    return 0;
}

/* Find "rowid = x" among the top-level AND terms of the step's WHERE and
 * compile x: it must not read the target (it is compiled without it). */
static int find_key_term(trig_def *d, db_catalog *cat, trig_step *s)
{
    const db_table *t = s->target;
    if (t->def.without_rowid || !s->st->has_where || d->err)
        return 0;
    const char *text = d->sql + s->st->where.off;
    lx_token *tk;
    size_t nt;
    char err[64];
    if (lx_tokenize(text, s->st->where.len, &tk, &nt, err, sizeof err) < 0)
        return 0;
    int rc = 0, depth = 0, between = 0, cases = 0;
    size_t a = 0;
    for (size_t i = 0; i < nt && !s->key && rc == 0; i++) {
        const lx_token *k = &tk[i];
        int at_end = k->type == LX_EOF;
        if (k->type == LX_LP) {
            depth++;
        } else if (k->type == LX_RP) {
            depth--;
        } else if (depth == 0 && word_is(k, "CASE")) {
            cases++;
        } else if (depth == 0 && word_is(k, "END")) {
            cases--;
        } else if (depth == 0 && cases == 0 && word_is(k, "BETWEEN")) {
            between = 1;
        } else if (depth == 0 && cases == 0 && word_is(k, "OR")) {
            break; /* an OR at the top: no one term holds for every selected row */
        } else if (depth == 0 && cases == 0 && word_is(k, "AND")) {
            if (between)
                between = 0;
            else
                at_end = 1;
        }
        if (!at_end)
            continue;
        size_t xa, xb;
        if (term_key(t, tk, a, i, &xa, &xb)) {
            sch_span sp = {s->st->where.off + (uint32_t)(tk[xa].z - text),
                           (uint32_t)(tk[xb - 1].z + tk[xb - 1].n - tk[xa].z)};
            ex_prog *p = NULL;
            rc = compile(d, cat, &no_table, sp, &p);
            if (d->err) { /* it reads the target (or cannot be compiled): no key */
                os_free(d->err);
                d->err = NULL;
                d->err_rc = 0;
                ex_prog_free(p);
                p = NULL;
                rc = rc == FOLIO_NOMEM ? rc : 0;
            }
            s->key = p;
        }
        a = i + 1;
    }
    free(tk);
    return rc == FOLIO_NOMEM ? rc : 0;
}

/* SQLite's ordinal words (its %r): 1st, 2nd, 3rd, 4th, ..., 11th, 21st. */
static const char *ordinal_suffix(int n)
{
    if (n % 100 >= 11 && n % 100 <= 13)
        return "th";
    return n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
}

/*
 * An UPSERT's conflict target, matched as SQLite's sqlite3UpsertAnalyzeTarget
 * matches it: the terms and the WHERE are resolved against the target table
 * (not NEW or OLD), then the clause names the rowid (one term that is the
 * rowid or its INTEGER PRIMARY KEY alias, no COLLATE) or else the first
 * uniqueness constraint, in the order SQLite keeps a table's indexes, that
 * has as many key columns as the target has terms, each key named by some
 * term - the term compared with the key as SQLite's sqlite3ExprCompare
 * compares expressions (ex_tree_compare_collated: the key under its
 * collating sequence, a term's COLLATE must be that one) - and, for a
 * partial index, a target WHERE of the same form as the index's WHERE.
 */
typedef struct target_forms {
    int n;
    ex_tree **term;
    ex_tree *where; /* NULL: none */
} target_forms;

static void target_forms_free(target_forms *f)
{
    for (int j = 0; f->term && j < f->n; j++)
        ex_tree_free(f->term[j]);
    os_free(f->term);
    ex_tree_free(f->where);
}

/* An expression of the trigger's text or of an index, as a tree; SQLite's
 * errors were found by compiling it first. */
static int tree_of(trig_def *d, const db_table *t, const char *text, size_t len, unsigned flags,
                   ex_tree **out)
{
    char err[256];
    int rc = ex_tree_parse(out, text, len, &t->scope, flags, err, sizeof err);
    if (rc == FOLIO_NOMEM || rc >= 0)
        return rc;
    char *at = strstr(err, " (at offset ");
    if (at)
        *at = 0;
    return def_fail(d, rc, "%s", err);
}

/* The tree of column c of t (a name that resolves to it: quoted, "" doubled). */
static int column_tree(trig_def *d, const db_table *t, int c, ex_tree **out, char **text)
{
    const char *name = t->def.cols[c].name;
    size_t n = strlen(name), k = 0;
    char *q = os_malloc(2 * n + 3);
    if (!q)
        return FOLIO_NOMEM;
    q[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '"')
            q[k++] = '"';
        q[k++] = name[i];
    }
    q[k++] = '"';
    q[k] = 0;
    *text = q;
    return tree_of(d, t, q, k, EX_INDEX_EXPR, out);
}

/* Whether key i (column col, or an expression's tree `expr`) is named by a
 * term of f, the key under collating sequence coll. */
static int key_named(trig_def *d, const db_table *t, const target_forms *f, int col,
                     const ex_tree *expr, int coll, int *named)
{
    *named = 0;
    if (!expr && col == t->def.ipk && !t->def.without_rowid)
        return 0; /* (SQLite's key is the column; a term names the rowid) */
    ex_tree *ct = NULL;
    char *text = NULL;
    int rc = expr ? 0 : column_tree(d, t, col, &ct, &text);
    for (int j = 0; rc == 0 && j < f->n && !*named; j++)
        *named = ex_tree_compare_collated(f->term[j], expr ? expr : ct, coll) < 2;
    ex_tree_free(ct);
    os_free(text);
    return rc;
}

/* Whether the keys of index ix (NULL: the WITHOUT ROWID primary key) and
 * its WHERE are what f names. */
static int index_named(trig_def *d, const db_table *t, const db_index *ix, const target_forms *f,
                       int *named)
{
    *named = 0;
    if (!ix) {
        if (t->def.npk != f->n)
            return 0;
        int rc = 0, ok = 1;
        for (int q = 0; q < t->def.npk && ok && rc == 0; q++)
            rc = key_named(d, t, f, t->def.pk[q].col, NULL, t->def.pk[q].collation, &ok);
        *named = rc == 0 && ok;
        return rc;
    }
    if (!ix->unique || ix->ncols != f->n || (ix->partial && !f->where))
        return 0;
    if (!ix->sql) { /* an automatic index: column keys, no WHERE */
        int rc = 0, ok = 1;
        for (int i = 0; i < ix->ncols && ok && rc == 0; i++)
            rc = key_named(d, t, f, ix->cols[i], NULL, ix->coll[i], &ok);
        *named = rc == 0 && ok;
        return rc;
    }
    sch_index def;
    char err[256];
    if (sch_parse_index(&def, ix->sql, &t->def, err, sizeof err) < 0)
        return def_fail(d, FOLIO_UNSUPPORTED, "trigger %s: index %s: %s", d->name, ix->name, err);
    int rc = 0, ok = def.ncols == f->n;
    if (ok && def.where_text) {
        ex_tree *w = NULL;
        rc = tree_of(d, t, def.where_text, strlen(def.where_text), EX_PARTIAL_WHERE, &w);
        ok = rc == 0 && ex_tree_compare(f->where, w) == 0;
        ex_tree_free(w);
    }
    for (int i = 0; i < def.ncols && ok && rc == 0; i++) {
        const sch_keycol *kc = &def.cols[i];
        ex_tree *e = NULL;
        if (kc->col == SCH_KEY_EXPR)
            rc = tree_of(d, t, kc->text, strlen(kc->text), EX_INDEX_EXPR, &e);
        /* (SQLite's collating sequence of an expression key is BINARY
         * unless a COLLATE says otherwise, which is then its top) */
        if (rc == 0)
            rc = key_named(d, t, f, kc->col, e,
                           kc->col == SCH_KEY_EXPR ? SCH_COLL_BINARY : kc->collation, &ok);
        ex_tree_free(e);
    }
    sch_index_free(&def);
    *named = rc == 0 && ok;
    return rc;
}

/* The terms and WHERE of clause u: compiled for SQLite's errors (over the
 * target table alone, as SQLite resolves them), then kept as trees. */
static int target_read(trig_def *d, db_catalog *cat, const db_table *t, const sch_upsert *u,
                       target_forms *f)
{
    ex_scope sc = t->scope;
    sc.sources = NULL;
    sc.nsources = 0;
    sc.table_lookup = lookup_table;
    sc.lookup_arg = cat;
    ex_source none = {0};
    int rc = 0;
    if (!(f->term = os_calloc((size_t)u->ntarget, sizeof *f->term)))
        return FOLIO_NOMEM;
    f->n = u->ntarget;
    for (int j = 0; j <= u->ntarget && rc == 0; j++) {
        if (j == u->ntarget && !u->has_target_where)
            break;
        sch_span sp = j < u->ntarget ? u->target[j] : u->target_where;
        unsigned flags = j < u->ntarget ? EX_TRIGGER : EX_TRIGGER | EX_CONDITION;
        ex_prog *prog = NULL;
        /* (sources set, and empty: compile_text leaves NEW and OLD out) */
        sc.sources = &none;
        rc = compile_text(d, cat, &sc, d->sql + sp.off, sp.len, &prog, flags);
        ex_prog_free(prog);
        if (rc == 0)
            rc = tree_of(d, t, d->sql + sp.off, sp.len, flags,
                         j < u->ntarget ? &f->term[j] : &f->where);
    }
    return rc;
}

/* The clause's target: the rowid, the WITHOUT ROWID primary key or a
 * UNIQUE index (the first that matches in the order SQLite tries them). */
static int resolve_target(trig_def *d, db_catalog *cat, const db_table *t, const sch_upsert *u,
                          int k, int nups, ups_clause *out)
{
    target_forms f = {0};
    int rc = target_read(d, cat, t, u, &f), col;
    if (rc < 0) {
        target_forms_free(&f);
        return rc;
    }
    if (!t->def.without_rowid && f.n == 1 && ex_tree_column(f.term[0], &col) && col == -1) {
        out->kind = UPS_PK;
        target_forms_free(&f);
        return 0;
    }
    int *order = os_malloc(sizeof *order * (size_t)(t->nidx + 1));
    if (!order) {
        target_forms_free(&f);
        return FOLIO_NOMEM;
    }
    int n = write_check_order(t, t->def.without_rowid, order), named = 0;
    for (int i = 0; i < n && rc == 0 && !named; i++) {
        const db_index *ix = order[i] < 0 ? NULL : t->idx[order[i]];
        rc = index_named(d, t, ix, &f, &named);
        if (rc == 0 && named) {
            out->kind = ix ? UPS_INDEX : UPS_PK;
            out->ix = ix;
        }
    }
    os_free(order);
    target_forms_free(&f);
    if (rc < 0 || named)
        return rc;
    if (nups == 1)
        return def_fail(d, FOLIO_ERROR,
                        "ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint");
    return def_fail(d, FOLIO_ERROR,
                    "%d%s ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint",
                    k + 1, ordinal_suffix(k + 1));
}

/* An INSERT's ON CONFLICT clauses: targets resolved (all of them first,
 * as SQLite analyses them), then each DO UPDATE's SET and WHERE over the
 * target table, with NEW, OLD and excluded. */
static int compile_upsert(trig_def *d, db_catalog *cat, trig_step *s)
{
    const sch_trig_stmt *st = s->st;
    db_table *t = s->target;
    int n = st->nupsert, rc;
    if (!(s->ups = os_calloc((size_t)n, sizeof *s->ups)) ||
        !(s->ups_cols = os_calloc((size_t)n, sizeof *s->ups_cols)) ||
        !(s->ups_vals = os_calloc((size_t)n, sizeof *s->ups_vals)) ||
        !(s->ups_where = os_calloc((size_t)n, sizeof *s->ups_where)))
        return FOLIO_NOMEM;
    s->nups = n;
    for (int k = 0; k < n; k++) {
        const sch_upsert *u = &st->upsert[k];
        s->ups[k].do_update = u->do_update;
        s->ups[k].kind = UPS_ANY;
        if (u->ntarget && (rc = resolve_target(d, cat, t, u, k, n, &s->ups[k])) < 0)
            return rc;
    }
    for (int k = 0; k < d->nsrc; k++)
        s->usrc[k] = d->src[k];
    ex_source *x = &s->usrc[d->nsrc];
    memset(x, 0, sizeof *x);
    x->name = "excluded";
    x->cols = t->ex_cols;
    x->ncols = t->def.ncols;
    x->rowid_alias = t->def.ipk;
    x->without_rowid = t->def.without_rowid;
    ex_scope sc = t->scope;
    sc.sources = s->usrc;
    sc.nsources = d->nsrc + 1;
    for (int k = 0; k < n; k++) {
        const sch_upsert *u = &st->upsert[k];
        if (!u->do_update)
            continue;
        if (!(s->ups_cols[k] = os_malloc(sizeof **s->ups_cols * (size_t)u->nset)))
            return FOLIO_NOMEM;
        for (int i = 0; i < u->nset; i++) {
            int c = column_of(t, u->set_cols[i]);
            if (c < 0)
                return def_fail(d, FOLIO_ERROR, "no such column: %s", u->set_cols[i]);
            if (t->val_index[c] < 0)
                return def_fail(d, FOLIO_ERROR, "cannot UPDATE generated column \"%s\"",
                                t->def.cols[c].name);
            s->ups_cols[k][i] = c;
        }
        if ((rc = compile_list(d, cat, &sc, u->set_vals, u->nset, &s->ups_vals[k])) < 0)
            return rc;
        if (u->has_where && (rc = compile_cond(d, cat, &sc, u->where, &s->ups_where[k])) < 0)
            return rc;
    }
    return 0;
}

static int compile_step(trig_def *d, db_catalog *cat, trig_step *s)
{
    const sch_trig_stmt *st = s->st;
    int rc;
    if (st->error)
        return def_fail(d, FOLIO_ERROR, "%s", st->error);
    if (st->unsupported)
        return def_fail(d, FOLIO_UNSUPPORTED, "trigger %s: %s is not supported", d->name,
                        st->unsupported);
    switch (st->kind) {
    case SCH_TS_SELECT:
        if (st->nrows) /* a bare VALUES: its expressions are evaluated */
            return compile_list(d, cat, &no_table, st->vals, st->nrows * st->nvals, &s->vals);
        return compile_select(d, cat, s, &s->res);
    case SCH_TS_DELETE:
        if ((rc = step_target(d, cat, s, st->table)) < 0)
            return rc;
        if (st->has_where && (rc = compile_cond(d, cat, &s->scope, st->where, &s->where)) < 0)
            return rc;
        return find_key_term(d, cat, s);
    case SCH_TS_UPDATE: {
        if ((rc = step_target(d, cat, s, st->table)) < 0)
            return rc;
        db_table *t = s->target;
        if (!(s->set_cols = os_malloc(sizeof *s->set_cols * (size_t)st->nset)))
            return FOLIO_NOMEM;
        for (int i = 0; i < st->nset; i++) {
            int c = column_of(t, st->set_cols[i]);
            if (c < 0)
                return def_fail(d, FOLIO_ERROR, "no such column: %s", st->set_cols[i]);
            if (t->val_index[c] < 0)
                return def_fail(d, FOLIO_ERROR, "cannot UPDATE generated column \"%s\"",
                                t->def.cols[c].name);
            s->set_cols[i] = c;
        }
        if ((rc = compile_list(d, cat, &s->scope, st->set_vals, st->nset, &s->set_vals)) < 0)
            return rc;
        if (st->has_where && (rc = compile_cond(d, cat, &s->scope, st->where, &s->where)) < 0)
            return rc;
        return find_key_term(d, cat, s);
    }
    case SCH_TS_INSERT: {
        db_table *t = catalog_find_table(cat, st->table);
        if (!t)
            return def_fail(d, FOLIO_ERROR, "no such table: main.%s", st->table);
        if (!t->parsed)
            return def_fail(d, FOLIO_UNSUPPORTED, "trigger %s: table %s cannot be used: %s",
                            d->name, t->name, t->parse_error ? t->parse_error : "?");
        int nv = st->default_values ? 0 : st->select_source ? st->nres : st->nvals;
        int want = st->ncols ? st->ncols : t->nvals;
        if (!st->default_values && nv != want) {
            if (st->ncols)
                return def_fail(d, FOLIO_ERROR, "%d values for %d columns", nv, want);
            return def_fail(d, FOLIO_ERROR, "table %s has %d columns but %d values were supplied",
                            t->name, want, nv);
        }
        s->nv = nv;
        if (nv && !(s->vpos = os_malloc(sizeof *s->vpos * (size_t)nv)))
            return FOLIO_NOMEM;
        for (int i = 0; i < nv; i++) {
            if (!st->ncols) {
                s->vpos[i] = i;
                continue;
            }
            int c = column_of(t, st->cols[i]);
            if (c < 0 && t->def.ipk < 0 && !t->def.without_rowid &&
                (sch_ident_eq(st->cols[i], "rowid") || sch_ident_eq(st->cols[i], "oid") ||
                 sch_ident_eq(st->cols[i], "_rowid_")))
                return def_fail(d, FOLIO_UNSUPPORTED,
                                "trigger %s: INSERT naming the rowid of a table without an "
                                "INTEGER PRIMARY KEY is not supported",
                                d->name);
            if (c < 0)
                return def_fail(d, FOLIO_ERROR, "table %s has no column named %s", t->name,
                                st->cols[i]);
            if (t->val_index[c] < 0)
                return def_fail(d, FOLIO_ERROR, "cannot INSERT into generated column \"%s\"",
                                t->def.cols[c].name);
            s->vpos[i] = t->val_index[c];
        }
        if (st->select_source) {
            rc = compile_select(d, cat, s, &s->vals);
        } else {
            rc = compile_list(d, cat, &no_table, st->vals, st->nrows * st->nvals, &s->vals);
        }
        s->target = t; /* (the SELECT's FROM table, if any, is looked up again when run) */
        if (rc < 0 || !st->nupsert)
            return rc;
        return compile_upsert(d, cat, s);
    }
    }
    return def_fail(d, FOLIO_ERROR, "trigger %s: unknown statement", d->name);
}

static int def_build(db_catalog *cat, db_table *tab, const folio_schema_entry *e, trig_def **out)
{
    trig_def *d = os_calloc(1, sizeof *d);
    if (!d)
        return FOLIO_NOMEM;
    *out = d;
    if (!(d->name = dup_str(e->name)) || !(d->sql = dup_str(e->sql ? e->sql : "")))
        return FOLIO_NOMEM;
    d->tab = tab;
    char err[256];
    if (sch_parse_trigger(&d->def, d->sql, err, sizeof err) < 0)
        return def_fail(d, FOLIO_UNSUPPORTED, "trigger %s cannot be read: %s", d->name, err);
    const sch_trigger *t = &d->def;
    if (t->timing == SCH_TRIG_INSTEAD_OF)
        return def_fail(d, FOLIO_UNSUPPORTED, "trigger %s: INSTEAD OF on a table", d->name);
    if (t->nof) {
        if (!(d->of_cols = os_malloc(sizeof *d->of_cols * (size_t)t->nof)))
            return FOLIO_NOMEM;
        for (int i = 0; i < t->nof; i++) {
            int c = column_of(tab, t->of[i]);
            if (c >= 0)
                d->of_cols[d->nof++] = c;
        }
    }
    /* NEW in INSERT and UPDATE triggers, OLD in UPDATE and DELETE ones. */
    static const char *const names[2] = {"new", "old"};
    for (int k = 0; k < 2; k++) {
        if ((k == 0 && t->event == SCH_TRIG_DELETE) || (k == 1 && t->event == SCH_TRIG_INSERT))
            continue;
        ex_source *s = &d->src[d->nsrc++];
        s->name = names[k];
        s->cols = tab->ex_cols;
        s->ncols = tab->def.ncols;
        s->rowid_alias = tab->def.ipk;
        s->without_rowid = tab->def.without_rowid;
        s->qualified_only = 1;
    }
    int rc;
    if (t->has_when && (rc = compile_cond(d, cat, &no_table, t->when, &d->when)) < 0)
        return rc == FOLIO_NOMEM ? rc : 0;
    if (!(d->steps = os_calloc((size_t)t->nstmts, sizeof *d->steps)))
        return FOLIO_NOMEM;
    for (int i = 0; i < t->nstmts; i++) {
        d->steps[i].st = &t->stmts[i];
        d->nsteps = i + 1;
        if ((rc = compile_step(d, cat, &d->steps[i])) < 0)
            return rc == FOLIO_NOMEM ? rc : 0;
    }
    return 0;
}

static int set_build(db_catalog *cat, struct trig_set **out)
{
    struct trig_set *s = os_calloc(1, sizeof *s);
    if (!s)
        return FOLIO_NOMEM;
    int rc = 0;
    for (int i = 0; i < cat->nentries && rc == 0; i++) {
        const folio_schema_entry *e = &cat->entries[i];
        if (strcmp(e->type, "trigger") != 0)
            continue;
        db_table *tab = catalog_find_table(cat, e->tbl_name);
        if (!tab)
            continue; /* (a trigger on a view) */
        trig_tab *tt = NULL;
        for (int k = 0; k < s->ntabs; k++)
            if (s->tabs[k].tab == tab)
                tt = &s->tabs[k];
        if (!tt) {
            trig_tab *na = os_realloc(s->tabs, sizeof *na * (size_t)(s->ntabs + 1));
            if (!na) {
                rc = FOLIO_NOMEM;
                break;
            }
            s->tabs = na;
            tt = &s->tabs[s->ntabs++];
            memset(tt, 0, sizeof *tt);
            tt->tab = tab;
        }
        trig_def **nd = os_realloc(tt->defs, sizeof *nd * (size_t)(tt->n + 1));
        if (!nd) {
            rc = FOLIO_NOMEM;
            break;
        }
        tt->defs = nd;
        /* SQLite fires the trigger made last first: schema order, reversed. */
        memmove(tt->defs + 1, tt->defs, sizeof *nd * (size_t)tt->n);
        tt->defs[0] = NULL;
        tt->n++;
        rc = def_build(cat, tab, e, &tt->defs[0]);
    }
    if (rc < 0) {
        trig_set_free(s);
        return rc;
    }
    s->gen = __atomic_add_fetch(&g_set_gen, 1, __ATOMIC_RELAXED);
    *out = s;
    return 0;
}

/* The triggers of ts's table (NULL when none, or on failure: *rc). The
 * catalog's set is made once, under the handle's lock; the table state
 * keeps its own list until the set changes. */
static const trig_tab *tab_triggers(folio_txn *txn, table_state *ts, int *rc)
{
    *rc = 0;
    struct trig_set *s = __atomic_load_n(&txn->cat->trig, __ATOMIC_ACQUIRE);
    if (s && ts->trig_gen == s->gen)
        return ts->trig_tt;
    if (!s) {
        folio_db *db = txn->db;
        pthread_mutex_lock(&db->mu);
        s = txn->cat->trig;
        if (!s && set_build(txn->cat, &s) == 0)
            __atomic_store_n(&txn->cat->trig, s, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&db->mu);
        if (!s) {
            *rc = db_err(db, FOLIO_NOMEM, "out of memory");
            return NULL;
        }
    }
    const trig_tab *tt = NULL;
    for (int i = 0; i < s->ntabs && !tt; i++)
        if (s->tabs[i].tab == ts->tab)
            tt = &s->tabs[i];
    ts->trig_gen = s->gen;
    ts->trig_tt = tt;
    return tt;
}

/* ---- which triggers a call fires ---- */

/* SQLite's checkColumnOverlap: UPDATE OF fires when a listed column is set
 * (chg NULL: every column is). */
static int overlaps(const trig_def *d, const fk_change *chg)
{
    if (!d->def.nof || !chg || !chg->cols)
        return 1;
    for (int i = 0; i < d->nof; i++)
        for (int k = 0; k < chg->n; k++)
            if (chg->cols[k] == d->of_cols[i])
                return 1;
    return 0;
}

static int relevant(const trig_def *d, int event, const fk_change *chg)
{
    return d->def.event == event && (event != SCH_TRIG_UPDATE || overlaps(d, chg));
}

int trig_prepare(folio_txn *txn, table_state *ts, int event, const fk_change *chg)
{
    if (!ts->tab->has_triggers || txn->replica ||
        (event == SCH_TRIG_DELETE && txn->quiet_delete_at == txn->fk_depth + 1))
        return 0;
    int rc;
    const trig_tab *tt = tab_triggers(txn, ts, &rc);
    if (!tt)
        return rc;
    for (int i = 0; i < tt->n; i++) {
        const trig_def *d = tt->defs[i];
        if (!relevant(d, event, chg))
            continue;
        if (d->err)
            return db_err(txn->db, d->err_rc, "%s", d->err);
    }
    return 0;
}

/* ---- evaluation ---- */

/* Where an expression's values come from while a trigger runs. */
typedef struct frame {
    folio_txn *txn;
    const trig_def *d;
    const fmt_value *nv, *ov; /* NEW and OLD rows (per column), or NULL */
    int64_t nid, oid;
    int orconf;          /* the firing call's conflict policy (SCH_OC_*) */
    const ex_prog *prog; /* being evaluated */
    folio_cursor *cur;   /* the row of the statement's own table, or NULL */
    db_table *cur_tab;
    folio_cursor *sub[32]; /* subqueries' rows, by subquery */
    int col_failed;
    /* An UPSERT's DO UPDATE: the excluded row (per column) and its rowid,
     * the source after NEW and OLD; NULL otherwise. */
    const fmt_value *xv;
    int64_t xid;
} frame;

static void fmt_to_ex(const fmt_value *v, ex_value *out)
{
    out->type = v->type;
    out->subtype = EX_SUBTYPE_NONE;
    if (v->type == FMT_TEXT || v->type == FMT_BLOB) {
        out->u.s.p = v->u.s.p;
        out->u.s.n = v->u.s.n;
    } else if (v->type == FMT_REAL) {
        out->u.r = v->u.r;
    } else {
        out->u.i = v->u.i;
    }
}

static int cursor_value(frame *f, folio_cursor *c, int col, ex_value *out)
{
    const sch_table *d = &c->t->tab->def;
    if (col == d->ncols || col == d->ipk) {
        out->type = EX_INTEGER;
        out->subtype = EX_SUBTYPE_NONE;
        out->u.i = folio_cursor_rowid(c);
        return 0;
    }
    folio_value v;
    int rc = db_cursor_column(c, col, &v);
    if (rc < 0) {
        f->col_failed = 1;
        return rc;
    }
    out->type = (int)v.type;
    out->subtype = EX_SUBTYPE_NONE;
    if (v.type == FOLIO_TEXT || v.type == FOLIO_BLOB) {
        out->u.s.p = v.u.s.p;
        out->u.s.n = v.u.s.n;
    } else if (v.type == FOLIO_REAL) {
        out->u.r = v.u.r;
    } else {
        out->u.i = v.u.i;
    }
    return 0;
}

static int frame_column(void *arg, int col, ex_value *out)
{
    frame *f = arg;
    int ncols = f->cur_tab ? f->cur_tab->def.ncols : 0;
    if (col < ncols)
        return cursor_value(f, f->cur, col, out);
    int at = ncols;
    for (int k = 0; k < f->d->nsrc; k++) {
        const ex_source *s = &f->d->src[k];
        if (col <= at + s->ncols) {
            int c = col - at;
            int isnew = s->name[0] == 'n';
            const fmt_value *row = isnew ? f->nv : f->ov;
            int64_t rowid = isnew ? f->nid : f->oid;
            if (c == s->ncols || c == s->rowid_alias) {
                out->type = EX_INTEGER;
                out->subtype = EX_SUBTYPE_NONE;
                out->u.i = rowid;
                return 0;
            }
            fmt_to_ex(&row[c], out);
            return 0;
        }
        at += s->ncols + 1;
    }
    if (f->xv && col <= at + f->cur_tab->def.ncols) {
        int c = col - at;
        if (c == f->cur_tab->def.ncols || c == f->cur_tab->def.ipk) {
            out->type = EX_INTEGER;
            out->subtype = EX_SUBTYPE_NONE;
            out->u.i = f->xid;
            return 0;
        }
        fmt_to_ex(&f->xv[c], out);
        return 0;
    }
    const ex_subquery *sq;
    int nsq = ex_prog_subqueries(f->prog, &sq);
    for (int k = 0; k < nsq && k < 32; k++)
        if (col >= sq[k].base && col <= sq[k].base + sq[k].ncols && f->sub[k])
            return cursor_value(f, f->sub[k], col - sq[k].base, out);
    f->col_failed = 1;
    return db_err(f->txn->db, FOLIO_MISUSE, "trigger %s: no value for column slot %d", f->d->name,
                  col);
}

int db_table_handle(folio_txn *txn, db_table *tab, folio_table **out)
{
    for (int i = 0; i < txn->ntables; i++)
        if (txn->tables[i]->tab == tab && !txn->tables[i]->dead) {
            *out = txn->tables[i];
            return 0;
        }
    return folio_table_open(out, txn, tab->name);
}

static int frame_scan(void *arg, int subq, int (*visit)(void *vctx), void *vctx)
{
    frame *f = arg;
    const ex_subquery *sq;
    int nsq = ex_prog_subqueries(f->prog, &sq);
    if (subq < 0 || subq >= nsq || subq >= 32)
        return db_err(f->txn->db, FOLIO_UNSUPPORTED, "trigger %s: too many subqueries", f->d->name);
    if (!sq[subq].table) {
        f->sub[subq] = NULL;
        return visit(vctx) < 0 ? FOLIO_ERROR : 0;
    }
    db_table *t = catalog_find_table(f->txn->cat, sq[subq].table);
    if (!t)
        return db_err(f->txn->db, FOLIO_ERROR, "no such table: main.%s", sq[subq].table);
    folio_table *th;
    folio_cursor *c;
    int rc = db_table_handle(f->txn, t, &th);
    if (rc < 0 || (rc = folio_cursor_open(&c, th, NULL)) < 0)
        return rc;
    folio_cursor *saved = f->sub[subq];
    f->sub[subq] = c;
    int v = 0;
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW; rc = folio_cursor_next(c))
        if ((v = visit(vctx)) != 0)
            break;
    f->sub[subq] = saved;
    folio_cursor_close(c);
    if (v < 0)
        return v;
    return rc < 0 ? rc : 0;
}

/* The evaluation context of this depth, with the statement's 'now'. */
static int depth_ctx(folio_txn *txn, ex_ctx **out)
{
    int depth = txn->fk_depth;
    if (depth >= txn->trig_ncx) {
        int n = depth + 8;
        ex_ctx **na = os_realloc(txn->trig_cx, sizeof *na * (size_t)n);
        if (!na)
            return db_err(txn->db, FOLIO_NOMEM, "out of memory");
        for (int i = txn->trig_ncx; i < n; i++)
            na[i] = NULL;
        txn->trig_cx = na;
        txn->trig_ncx = n;
    }
    if (!txn->trig_cx[depth] && ex_ctx_new(&txn->trig_cx[depth]) < 0)
        return db_err(txn->db, FOLIO_NOMEM, "out of memory");
    if (!txn->trig_now_set) {
        struct timespec now;
        timespec_get(&now, TIME_UTC);
        txn->trig_now = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
        txn->trig_now_set = 1;
    }
    ex_ctx_set_now(txn->trig_cx[depth], txn->trig_now);
    *out = txn->trig_cx[depth];
    return 0;
}

/* Evaluate p in the frame; RAISE becomes the trigger's outcome. Returns 0,
 * TRIG_IGNORED, or an error with the message set. */
static int eval(frame *f, ex_ctx *cx, const ex_prog *p, int64_t rowid, ex_value *out)
{
    f->prog = p;
    f->col_failed = 0;
    ex_row row;
    memset(&row, 0, sizeof row);
    row.column = frame_column;
    row.arg = f;
    row.rowid = rowid;
    row.scan = frame_scan;
    int rc = ex_eval(p, cx, &row, out);
    if (rc >= 0)
        return 0;
    if (f->col_failed)
        return rc;
    switch (ex_ctx_raised(cx)) {
    case EX_RAISE_IGNORE:
        return TRIG_IGNORED;
    case EX_RAISE_FAIL:
        f->txn->stmt_keep = 1;
        break;
    case EX_RAISE_ROLLBACK:
        f->txn->stmt_rollback = 1;
        break;
    default:
        break;
    }
    return db_err(f->txn->db, rc, "%s", ex_ctx_errmsg(cx));
}

/* ---- owned rows of values ---- */

typedef struct vbuf {
    folio_value *v;
    int n, cap;
    uint8_t *bytes;
    size_t used, bcap;
} vbuf;

static void vbuf_free(vbuf *b)
{
    os_free(b->v);
    os_free(b->bytes);
}

/* Append a value, its bytes copied (pointers fixed by vbuf_fix). */
static int vbuf_add(vbuf *b, const ex_value *x)
{
    if (b->n == b->cap) {
        int nc = b->cap ? b->cap * 2 : 16;
        folio_value *nv = os_realloc(b->v, sizeof *nv * (size_t)nc);
        if (!nv)
            return FOLIO_NOMEM;
        b->v = nv;
        b->cap = nc;
    }
    folio_value *v = &b->v[b->n++];
    memset(v, 0, sizeof *v);
    v->type = (folio_type)x->type;
    if (x->type == EX_INTEGER) {
        v->u.i = x->u.i;
    } else if (x->type == EX_REAL) {
        v->u.r = x->u.r;
    } else if (x->type == EX_TEXT || x->type == EX_BLOB) {
        size_t n = (size_t)x->u.s.n;
        if (b->used + n > b->bcap) {
            size_t nc = b->bcap ? b->bcap * 2 : 256;
            while (nc < b->used + n)
                nc *= 2;
            uint8_t *nb = os_realloc(b->bytes, nc);
            if (!nb)
                return FOLIO_NOMEM;
            b->bytes = nb;
            b->bcap = nc;
        }
        if (n)
            memcpy(b->bytes + b->used, x->u.s.p, n);
        v->u.s.p = (const void *)(uintptr_t)b->used; /* an offset until vbuf_fix */
        v->u.s.n = n;
        b->used += n;
    }
    return 0;
}

static void vbuf_fix(vbuf *b)
{
    for (int i = 0; i < b->n; i++)
        if (b->v[i].type == FOLIO_TEXT || b->v[i].type == FOLIO_BLOB)
            b->v[i].u.s.p = b->bytes ? b->bytes + (uintptr_t)b->v[i].u.s.p : (const void *)"";
}

/* ---- running a body statement ---- */

/* A body statement's conflict policy: its own OR clause, unless the call
 * that fired the trigger has one (SQLite: the outer statement's wins). */
static int policy(const frame *f, const sch_trig_stmt *st)
{
    return f->orconf != SCH_OC_DEFAULT ? f->orconf : st->onconf;
}

/* One nested row call of a body statement, with its conflict clause. */
static int nested_call(folio_txn *txn, int onconf, int (*call)(void *), void *arg)
{
    int saved = txn->stmt_nested, skipped = txn->row_skipped;
    txn->stmt_nested = 1;
    txn->onconf = onconf;
    int rc = call(arg);
    txn->onconf = 0;
    txn->stmt_nested = saved;
    txn->row_skipped = skipped; /* (it tells of the call that fired this) */
    return rc;
}

typedef struct ins_arg {
    folio_table *t;
    const folio_value *vals;
    int n;
    const uint8_t *given;
} ins_arg;

static int do_insert(void *p)
{
    ins_arg *a = p;
    folio_txn *txn = a->t->txn;
    const uint8_t *saved = txn->vals_given;
    txn->vals_given = a->given;
    int64_t rowid;
    int rc = folio_insert(&rowid, a->t, a->vals, a->n);
    txn->vals_given = saved;
    return rc;
}

static int insert_upsert(frame *f, const trig_step *s, ins_arg *a);
static int upsert_update(frame *f, const trig_step *s, folio_table *th, const db_upsert *u);

/* Insert one row of values (in the step's value order) into the target. */
static int insert_row(frame *f, const trig_step *s, folio_table *th, const folio_value *vals,
                      folio_value *row, uint8_t *given)
{
    const sch_trig_stmt *st = s->st;
    db_table *t = s->target;
    int n = t->nvals;
    for (int i = 0; i < n; i++) {
        memset(&row[i], 0, sizeof row[i]);
        given[i] = 0;
    }
    for (int i = 0; i < s->nv; i++) {
        row[s->vpos[i]] = vals[i];
        given[s->vpos[i]] = 1;
    }
    ins_arg a = {th, row, n, st->ncols || st->default_values ? given : NULL};
    if (!s->nups)
        return nested_call(f->txn, policy(f, st), do_insert, &a);
    return insert_upsert(f, s, &a);
}

/* INSERT ... ON CONFLICT: the insert's checks consult the clauses; a DO
 * UPDATE it stopped at runs here, after it. (Apart from insert_row, whose
 * frame every level of a chain of triggers holds.) */
static __attribute__((noinline)) int insert_upsert(frame *f, const trig_step *s, ins_arg *a)
{
    folio_txn *txn = f->txn;
    db_upsert u;
    memset(&u, 0, sizeof u);
    u.c = s->ups;
    u.n = s->nups;
    u.hit = -1;
    db_upsert *saved = txn->upsert;
    int saved_at = txn->upsert_at;
    txn->upsert = &u;
    txn->upsert_at = txn->fk_depth;
    int rc = nested_call(txn, policy(f, s->st), do_insert, a);
    txn->upsert = saved;
    txn->upsert_at = saved_at;
    if (rc == 0 && u.hit >= 0)
        rc = upsert_update(f, s, a->t, &u);
    trig_rows_free(&u.x);
    trig_rows_free(&u.key);
    return rc;
}

typedef struct key_list {
    int64_t *rowid;
    int64_t n, cap;
    vbuf keys; /* WITHOUT ROWID: npk values per row */
} key_list;

static int keys_add(key_list *k, folio_cursor *c, frame *f)
{
    if (k->n == k->cap) {
        int64_t nc = k->cap ? k->cap * 2 : 16;
        int64_t *nr = os_realloc(k->rowid, sizeof *nr * (size_t)nc);
        if (!nr)
            return FOLIO_NOMEM;
        k->rowid = nr;
        k->cap = nc;
    }
    const sch_table *d = &c->t->tab->def;
    k->rowid[k->n++] = d->without_rowid ? 0 : folio_cursor_rowid(c);
    for (int i = 0; d->without_rowid && i < d->npk; i++) {
        ex_value v;
        memset(&v, 0, sizeof v);
        int rc = cursor_value(f, c, d->pk[i].col, &v);
        if (rc < 0 || (rc = vbuf_add(&k->keys, &v)) < 0)
            return rc;
    }
    return 0;
}

/* The rows of the step's table its WHERE selects (all, without one). */
static int select_rows(frame *f, ex_ctx *cx, const trig_step *s, folio_table *th, key_list *out)
{
    folio_cursor *c;
    int rc = folio_cursor_open(&c, th, NULL);
    if (rc < 0)
        return rc;
    int step, one = 0;
    rc = 0;
    if (s->key) {
        /* The one row "rowid = x" can name: x as the rowid compares it
         * (numeric affinity; NULL, text or a fraction name none). x was
         * compiled without the table: evaluated before the table's row is
         * in the frame. */
        ex_value kv;
        memset(&kv, 0, sizeof kv);
        if ((rc = eval(f, cx, s->key, 0, &kv)) != 0) {
            folio_cursor_close(c);
            return rc;
        }
        fmt_value fv;
        memset(&fv, 0, sizeof fv);
        fv.type = kv.type;
        if (kv.type == EX_INTEGER) {
            fv.u.i = kv.u.i;
        } else if (kv.type == EX_REAL) {
            fv.u.r = kv.u.r;
        } else if (kv.type == EX_TEXT || kv.type == EX_BLOB) {
            fv.u.s.p = kv.u.s.p;
            fv.u.s.n = kv.u.s.n;
        }
        char tb[SCH_NUMBER_TEXT_BYTES];
        if (fv.type == FMT_TEXT || fv.type == FMT_REAL)
            sch_apply_affinity(&fv, SCH_AFF_INTEGER, tb, sizeof tb);
        one = 1;
        step = fv.type == FMT_INTEGER ? folio_cursor_seek_rowid(c, fv.u.i) : FOLIO_DONE;
        if (step == FOLIO_NOTFOUND)
            step = FOLIO_DONE;
    } else {
        step = folio_cursor_first(c);
    }
    f->cur = c;
    f->cur_tab = s->target;
    for (; step == FOLIO_ROW && rc == 0; step = one ? FOLIO_DONE : folio_cursor_next(c)) {
        if (s->where) {
            ex_value v;
            memset(&v, 0, sizeof v);
            if ((rc = eval(f, cx, s->where, folio_cursor_rowid(c), &v)) != 0)
                break;
            if (ex_truth(&v) != 1)
                continue;
        }
        if ((rc = keys_add(out, c, f)) < 0 && !f->col_failed)
            rc = db_err(f->txn->db, rc, "out of memory");
    }
    f->cur = NULL;
    f->cur_tab = NULL;
    folio_cursor_close(c);
    if (rc == 0 && step < 0)
        rc = step;
    vbuf_fix(&out->keys);
    return rc;
}

/* Position c on row i of the list: FOLIO_ROW, FOLIO_NOTFOUND or an error. */
static int seek_key(folio_cursor *c, const key_list *k, int64_t i)
{
    const sch_table *d = &c->t->tab->def;
    if (!d->without_rowid)
        return folio_cursor_seek_rowid(c, k->rowid[i]);
    int rc = folio_cursor_seek(c, k->keys.v + i * d->npk, d->npk, FOLIO_SEEK_EQ);
    return rc == FOLIO_DONE ? FOLIO_NOTFOUND : rc;
}

typedef struct upd_arg {
    folio_table *t;
    int64_t rowid;
    const folio_value *key;
    int npk;
    const int *cols;
    const folio_value *vals;
    int n;
    int del;
} upd_arg;

static int do_update(void *p)
{
    upd_arg *a = p;
    if (a->key)
        return a->del ? folio_delete_key(a->t, a->key, a->npk)
                      : db_patch_key(a->t, a->key, a->npk, a->cols, a->vals, a->n);
    return a->del ? folio_delete(a->t, a->rowid)
                  : folio_patch(a->t, a->rowid, a->cols, a->vals, a->n);
}

/*
 * An UPSERT's DO UPDATE of the row in the way (u->rowid, or WITHOUT ROWID
 * its key): its WHERE and SET values over that row, with excluded, then the
 * update as SQLite codes it - OR ABORT whatever the INSERT's clause, its
 * triggers (UPDATE OF the columns set) under it.
 */
static int upsert_update(frame *f, const trig_step *s, folio_table *th, const db_upsert *u)
{
    folio_txn *txn = f->txn;
    const db_table *t = s->target;
    const sch_upsert *su = &s->st->upsert[u->hit];
    int npk = t->def.npk, rc;
    folio_value *keyv = NULL;
    if (t->def.without_rowid && !(keyv = os_malloc(sizeof *keyv * (size_t)npk)))
        return db_err(txn->db, FOLIO_NOMEM, "out of memory");
    for (int k = 0; t->def.without_rowid && k < npk; k++) {
        const fmt_value *v = &u->key.nv[k];
        memset(&keyv[k], 0, sizeof keyv[k]);
        keyv[k].type = (folio_type)v->type;
        if (v->type == FMT_INTEGER)
            keyv[k].u.i = v->u.i;
        else if (v->type == FMT_REAL)
            keyv[k].u.r = v->u.r;
        else if (v->type == FMT_TEXT || v->type == FMT_BLOB) {
            keyv[k].u.s.p = v->u.s.p;
            keyv[k].u.s.n = (size_t)v->u.s.n;
        }
    }
    ex_ctx *cx;
    folio_cursor *c;
    if ((rc = depth_ctx(txn, &cx)) < 0 || (rc = folio_cursor_open(&c, th, NULL)) < 0) {
        os_free(keyv);
        return rc;
    }
    rc = t->def.without_rowid ? folio_cursor_seek(c, keyv, npk, FOLIO_SEEK_EQ)
                              : folio_cursor_seek_rowid(c, u->rowid);
    if (rc != FOLIO_ROW) {
        folio_cursor_close(c);
        os_free(keyv);
        return rc < 0 ? rc
                      : db_err(txn->db, FOLIO_CORRUPT, "the row an UPSERT found in %s is gone",
                               t->name);
    }
    int64_t rowid = t->def.without_rowid ? 0 : folio_cursor_rowid(c);
    f->cur = c;
    f->cur_tab = s->target;
    f->xv = u->x.nv;
    f->xid = u->x.nid;
    vbuf vals;
    memset(&vals, 0, sizeof vals);
    int take = 1;
    rc = 0;
    if (s->ups_where[u->hit]) {
        ex_value v;
        memset(&v, 0, sizeof v);
        if ((rc = eval(f, cx, s->ups_where[u->hit], rowid, &v)) == 0)
            take = ex_truth(&v) == 1;
    }
    for (int j = 0; take && rc == 0 && j < su->nset; j++) {
        ex_value v;
        memset(&v, 0, sizeof v);
        rc = eval(f, cx, s->ups_vals[u->hit][j], rowid, &v);
        if (rc == 0 && vbuf_add(&vals, &v) < 0)
            rc = db_err(txn->db, FOLIO_NOMEM, "out of memory");
    }
    f->cur = NULL;
    f->cur_tab = NULL;
    f->xv = NULL;
    folio_cursor_close(c);
    vbuf_fix(&vals);
    const int *cols = s->ups_cols[u->hit];
    for (int j = 0; take && rc == 0 && j < su->nset; j++)
        if (cols[j] == t->def.ipk && vals.v[j].type == FOLIO_NULL)
            rc = db_err(txn->db, FOLIO_MISMATCH, "datatype mismatch");
    if (take && rc == 0) {
        upd_arg a = {th, rowid, t->def.without_rowid ? keyv : NULL, npk, cols, vals.v, su->nset, 0};
        rc = nested_call(txn, SCH_OC_ABORT, do_update, &a);
    }
    vbuf_free(&vals);
    os_free(keyv);
    return rc;
}

static int run_update_delete(frame *f, ex_ctx *cx, const trig_step *s)
{
    folio_txn *txn = f->txn;
    const sch_trig_stmt *st = s->st;
    folio_table *th;
    int rc = db_table_handle(txn, s->target, &th);
    if (rc < 0)
        return rc;
    key_list k;
    memset(&k, 0, sizeof k);
    if ((rc = select_rows(f, cx, s, th, &k)) < 0) {
        vbuf_free(&k.keys);
        os_free(k.rowid);
        return rc;
    }
    const sch_table *d = &s->target->def;
    int del = st->kind == SCH_TS_DELETE;
    folio_cursor *c = NULL;
    if (!del && (rc = folio_cursor_open(&c, th, NULL)) < 0)
        k.n = 0;
    vbuf vals;
    memset(&vals, 0, sizeof vals);
    for (int64_t i = 0; i < k.n && rc >= 0; i++) {
        vals.n = 0;
        vals.used = 0;
        if (!del) {
            /* SET values over the row as it is now (an earlier row's
             * triggers may have changed or deleted it). */
            rc = seek_key(c, &k, i);
            if (rc == FOLIO_NOTFOUND) {
                rc = 0;
                continue;
            }
            if (rc < 0)
                break;
            f->cur = c;
            f->cur_tab = s->target;
            int64_t rowid = d->without_rowid ? 0 : folio_cursor_rowid(c);
            for (int j = 0; j < st->nset && rc >= 0; j++) {
                ex_value v;
                memset(&v, 0, sizeof v);
                rc = eval(f, cx, s->set_vals[j], rowid, &v);
                if (rc == 0 && vbuf_add(&vals, &v) < 0)
                    rc = db_err(txn->db, FOLIO_NOMEM, "out of memory");
            }
            f->cur = NULL;
            f->cur_tab = NULL;
            if (rc != 0)
                break;
            vbuf_fix(&vals);
            /* SQL's UPDATE cannot set an INTEGER PRIMARY KEY to NULL (the
             * row calls keep the rowid then). */
            for (int j = 0; j < st->nset && rc == 0; j++)
                if (s->set_cols[j] == d->ipk && vals.v[j].type == FOLIO_NULL)
                    rc = db_err(txn->db, FOLIO_MISMATCH, "datatype mismatch");
            if (rc != 0)
                break;
        }
        upd_arg a = {th,       k.rowid[i],  d->without_rowid ? k.keys.v + i * d->npk : NULL,
                     d->npk,   s->set_cols, vals.v,
                     st->nset, del};
        /* A DELETE has no conflict clause: SQLite codes the triggers it
         * fires with none, whatever is in force around it. */
        rc = nested_call(txn, del ? SCH_OC_DEFAULT : policy(f, st), do_update, &a);
        if (rc == FOLIO_NOTFOUND) /* gone already: skipped, as SQLite does */
            rc = 0;
    }
    folio_cursor_close(c);
    vbuf_free(&vals);
    vbuf_free(&k.keys);
    os_free(k.rowid);
    return rc;
}

/* SELECT: the results of every selected row are evaluated (for RAISE). */
static int run_select(frame *f, ex_ctx *cx, const trig_step *s)
{
    const sch_trig_stmt *st = s->st;
    ex_value v;
    memset(&v, 0, sizeof v);
    int rc = 0;
    if (st->nrows) {
        for (int i = 0; i < st->nrows * st->nvals && rc == 0; i++)
            rc = eval(f, cx, s->vals[i], 0, &v);
        return rc;
    }
    if (!s->target) {
        if (s->where) {
            if ((rc = eval(f, cx, s->where, 0, &v)) != 0)
                return rc;
            if (ex_truth(&v) != 1)
                return 0;
        }
        for (int i = 0; i < st->nres && rc == 0; i++)
            rc = eval(f, cx, s->res[i], 0, &v);
        return rc;
    }
    folio_table *th;
    folio_cursor *c;
    if ((rc = db_table_handle(f->txn, s->target, &th)) < 0 ||
        (rc = folio_cursor_open(&c, th, NULL)) < 0)
        return rc;
    f->cur = c;
    f->cur_tab = s->target;
    int step;
    rc = 0;
    for (step = folio_cursor_first(c); step == FOLIO_ROW && rc == 0; step = folio_cursor_next(c)) {
        int64_t rowid = folio_cursor_rowid(c);
        if (s->where) {
            if ((rc = eval(f, cx, s->where, rowid, &v)) != 0)
                break;
            if (ex_truth(&v) != 1)
                continue;
        }
        for (int i = 0; i < st->nres && rc == 0; i++)
            rc = eval(f, cx, s->res[i], rowid, &v);
    }
    f->cur = NULL;
    f->cur_tab = NULL;
    folio_cursor_close(c);
    return rc != 0 ? rc : step < 0 ? step : 0;
}

static int run_insert(frame *f, ex_ctx *cx, const trig_step *s)
{
    folio_txn *txn = f->txn;
    const sch_trig_stmt *st = s->st;
    folio_table *th;
    int rc = db_table_handle(txn, s->target, &th);
    if (rc < 0)
        return rc;
    int n = s->target->nvals;
    folio_value *row = os_malloc(sizeof *row * (size_t)(n ? n : 1));
    uint8_t *given = os_malloc((size_t)(n ? n : 1));
    vbuf vals;
    memset(&vals, 0, sizeof vals);
    if (!row || !given) {
        rc = db_err(txn->db, FOLIO_NOMEM, "out of memory");
        goto out;
    }
    if (st->default_values) {
        rc = insert_row(f, s, th, NULL, row, given);
        goto out;
    }
    ex_value v;
    memset(&v, 0, sizeof v);
    if (!st->select_source) {
        /* Every row is made before any goes in (SQLite does so whenever the
         * values could see the inserts: they read the table, or it has
         * triggers; otherwise the order cannot show). */
        for (int i = 0; i < st->nrows * st->nvals && rc == 0; i++) {
            rc = eval(f, cx, s->vals[i], 0, &v);
            if (rc == 0 && vbuf_add(&vals, &v) < 0)
                rc = db_err(txn->db, FOLIO_NOMEM, "out of memory");
        }
        vbuf_fix(&vals);
        for (int r = 0; r < st->nrows && rc == 0; r++)
            rc = insert_row(f, s, th, vals.v + r * st->nvals, row, given);
        goto out;
    }
    /* INSERT ... SELECT: the rows are made first, then inserted. */
    db_table *from = st->from && !s->agg ? catalog_find_table(txn->cat, st->from) : NULL;
    if (st->from && !s->agg && !from) {
        rc = db_err(txn->db, FOLIO_ERROR, "no such table: main.%s", st->from);
        goto out;
    }
    int64_t nrows = 0;
    if (!from) {
        int take = 1;
        if (s->where) {
            if ((rc = eval(f, cx, s->where, 0, &v)) != 0)
                goto out;
            take = ex_truth(&v) == 1;
        }
        for (int i = 0; take && i < st->nres && rc == 0; i++) {
            rc = eval(f, cx, s->vals[i], 0, &v);
            if (rc == 0 && vbuf_add(&vals, &v) < 0)
                rc = db_err(txn->db, FOLIO_NOMEM, "out of memory");
        }
        nrows = take;
    } else {
        folio_table *fh;
        folio_cursor *c;
        if ((rc = db_table_handle(txn, from, &fh)) < 0 ||
            (rc = folio_cursor_open(&c, fh, NULL)) < 0)
            goto out;
        f->cur = c;
        f->cur_tab = from;
        int step;
        for (step = folio_cursor_first(c); step == FOLIO_ROW && rc == 0;
             step = folio_cursor_next(c)) {
            int64_t rowid = folio_cursor_rowid(c);
            if (s->where) {
                if ((rc = eval(f, cx, s->where, rowid, &v)) != 0)
                    break;
                if (ex_truth(&v) != 1)
                    continue;
            }
            for (int i = 0; i < st->nres && rc == 0; i++) {
                rc = eval(f, cx, s->vals[i], rowid, &v);
                if (rc == 0 && vbuf_add(&vals, &v) < 0)
                    rc = db_err(txn->db, FOLIO_NOMEM, "out of memory");
            }
            if (rc == 0)
                nrows++;
        }
        f->cur = NULL;
        f->cur_tab = NULL;
        folio_cursor_close(c);
        if (rc == 0 && step < 0)
            rc = step;
    }
    vbuf_fix(&vals);
    for (int64_t r = 0; r < nrows && rc == 0; r++)
        rc = insert_row(f, s, th, vals.v + r * st->nres, row, given);
out:
    vbuf_free(&vals);
    os_free(row);
    os_free(given);
    return rc;
}

static int run_step(frame *f, ex_ctx *cx, const trig_step *s)
{
    /* A statement of its own: subqueries that read no row around them run
     * once in it (SQLite's OP_Once). */
    ex_ctx_statement(cx);
    switch (s->st->kind) {
    case SCH_TS_INSERT:
        return run_insert(f, cx, s);
    case SCH_TS_UPDATE:
    case SCH_TS_DELETE:
        return run_update_delete(f, cx, s);
    default:
        return run_select(f, cx, s);
    }
}

/* ---- firing ---- */

static int active(const folio_txn *txn, const trig_def *d)
{
    for (int i = 0; i < txn->trig_nactive; i++)
        if (txn->trig_active[i] == d)
            return 1;
    return 0;
}

/* The bytes of stack a chain of triggers may use in this thread: all of
 * the thread's stack but a sixteenth (at least 256 KiB) for the calls the
 * last level makes and for what lies above the statement (SQLite's
 * programs nest on the heap; folio's on the C stack, so a deep chain must
 * stop before the stack does). */
static size_t stack_budget(void)
{
    static _Thread_local size_t budget;
    if (!budget) {
        size_t size = 0;
#if defined(__GLIBC__)
        pthread_attr_t a;
        if (pthread_getattr_np(pthread_self(), &a) == 0) {
            pthread_attr_getstacksize(&a, &size);
            pthread_attr_destroy(&a);
        }
#endif
        size_t margin = size / 16 > ((size_t)256 << 10) ? size / 16 : (size_t)256 << 10;
        budget = !size ? (size_t)1 << 20 : size > 2 * margin ? size - margin : size / 2;
    }
    return budget;
}

void trig_stack_mark(folio_txn *txn)
{
    txn->stack_top = (uintptr_t)__builtin_frame_address(0);
}

static int fire_one(folio_txn *txn, const trig_def *d, const trig_rows *r)
{
    if (txn->fk_depth >= TRIG_MAX_DEPTH)
        return db_err(txn->db, FOLIO_ERROR, "too many levels of trigger recursion");
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    if (txn->stack_top > here && txn->stack_top - here > stack_budget())
        return db_err(txn->db, FOLIO_ERROR,
                      "too many levels of trigger recursion (%d deep: the thread's stack is "
                      "nearly full)",
                      txn->fk_depth);
    if (txn->trig_nactive == txn->trig_active_cap) {
        int nc = txn->trig_active_cap ? txn->trig_active_cap * 2 : 16;
        const void **na = os_realloc(txn->trig_active, sizeof *na * (size_t)nc);
        if (!na)
            return db_err(txn->db, FOLIO_NOMEM, "out of memory");
        txn->trig_active = na;
        txn->trig_active_cap = nc;
    }
    txn->fk_depth++;
    txn->trig_active[txn->trig_nactive++] = d;
    /* (a struct codec's value mask belongs to the call that fired this) */
    const uint8_t *given = txn->vals_given;
    int keep_old = txn->vals_keep_old;
    txn->vals_given = NULL;
    txn->vals_keep_old = 0;
    frame f;
    memset(&f, 0, sizeof f);
    f.txn = txn;
    f.d = d;
    f.orconf = txn->orconf_at[txn->fk_depth - 1 < 1024 ? txn->fk_depth - 1 : 1023];
    f.nv = r->nv;
    f.ov = r->ov;
    f.nid = r->nid;
    f.oid = r->oid;
    ex_ctx *cx = NULL;
    int rc = depth_ctx(txn, &cx);
    if (rc == 0 && d->when) {
        ex_value v;
        memset(&v, 0, sizeof v);
        ex_ctx_statement(cx);
        if ((rc = eval(&f, cx, d->when, 0, &v)) == 0 && ex_truth(&v) != 1)
            rc = 1; /* not this time */
    }
    for (int i = 0; rc == 0 && i < d->nsteps; i++)
        rc = run_step(&f, cx, &d->steps[i]);
    txn->vals_given = given;
    txn->vals_keep_old = keep_old;
    txn->trig_nactive--;
    txn->fk_depth--;
    return rc == 1 ? 0 : rc;
}

int trig_fire(folio_txn *txn, table_state *ts, int timing, int event, const fk_change *chg,
              const trig_rows *r)
{
    if (!ts->tab->has_triggers || txn->replica)
        return 0;
    int rc;
    const trig_tab *tt = tab_triggers(txn, ts, &rc);
    if (!tt)
        return rc;
    if (event == SCH_TRIG_DELETE && txn->quiet_delete_at == txn->fk_depth + 1)
        return 0; /* an OR REPLACE delete, recursive_triggers off */
    for (int i = 0; i < tt->n; i++) {
        const trig_def *d = tt->defs[i];
        if (d->def.timing != timing || !relevant(d, event, chg))
            continue;
        if (d->err)
            return db_err(txn->db, d->err_rc, "%s", d->err);
        if (!txn->db->opts.recursive_triggers && active(txn, d))
            continue;
        if ((rc = fire_one(txn, d, r)) != 0)
            /* RAISE(IGNORE) in an AFTER trigger ends the row's triggers;
             * its change is made (and counted) already. */
            return rc == TRIG_IGNORED && timing == SCH_TRIG_AFTER ? 0 : rc;
    }
    return 0;
}

int trig_any(folio_txn *txn, table_state *ts, int timing, int event, const fk_change *chg)
{
    if (!ts->tab->has_triggers || txn->replica ||
        (event == SCH_TRIG_DELETE && txn->quiet_delete_at == txn->fk_depth + 1))
        return 0;
    int rc;
    const trig_tab *tt = tab_triggers(txn, ts, &rc);
    if (!tt)
        return rc;
    for (int i = 0; i < tt->n; i++)
        if (tt->defs[i]->def.timing == timing && relevant(tt->defs[i], event, chg))
            return 1;
    return 0;
}

int trig_catalog_any(const db_catalog *cat)
{
    for (int i = 0; i < cat->nentries; i++)
        if (cat->entries[i].type && strcmp(cat->entries[i].type, "trigger") == 0)
            return 1;
    return 0;
}

void trig_txn_free(folio_txn *txn)
{
    for (int i = 0; i < txn->trig_ncx; i++)
        ex_ctx_free(txn->trig_cx[i]);
    os_free(txn->trig_cx);
    txn->trig_cx = NULL;
    txn->trig_ncx = 0;
    os_free(txn->trig_active);
    txn->trig_active = NULL;
    txn->trig_active_cap = 0;
    txn->trig_nactive = 0;
}

/* ---- rows saved across a trigger ---- */

int trig_rows_save(folio_txn *txn, trig_rows *r, const fmt_value *nv, int64_t nid,
                   const fmt_value *ov, int64_t oid, int ncols)
{
    size_t need = 0;
    for (int k = 0; k < 2; k++) {
        const fmt_value *v = k ? ov : nv;
        for (int c = 0; v && c < ncols; c++)
            if (v[c].type == FMT_TEXT || v[c].type == FMT_BLOB)
                need += v[c].u.s.n;
    }
    size_t vsz = sizeof(fmt_value) * (size_t)ncols;
    uint8_t *mem = os_malloc(2 * vsz + need + 1);
    if (!mem)
        return db_err(txn->db, FOLIO_NOMEM, "out of memory");
    r->mem = mem;
    uint8_t *bytes = mem + 2 * vsz;
    size_t at = 0;
    for (int k = 0; k < 2; k++) {
        const fmt_value *v = k ? ov : nv;
        fmt_value *o = (fmt_value *)(void *)(mem + (size_t)k * vsz);
        if (!v) {
            if (k)
                r->ov = NULL;
            else
                r->nv = NULL;
            continue;
        }
        for (int c = 0; c < ncols; c++) {
            o[c] = v[c];
            if (v[c].type == FMT_TEXT || v[c].type == FMT_BLOB) {
                if (v[c].u.s.n)
                    memcpy(bytes + at, v[c].u.s.p, v[c].u.s.n);
                o[c].u.s.p = bytes + at;
                at += v[c].u.s.n;
            }
        }
        if (k)
            r->ov = o;
        else
            r->nv = o;
    }
    r->nid = nid;
    r->oid = oid;
    return 0;
}

void trig_rows_free(trig_rows *r)
{
    os_free(r->mem);
    r->mem = NULL;
}
