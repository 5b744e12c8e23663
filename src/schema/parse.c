/*
 * parse.c - CREATE TABLE and CREATE INDEX parser (see parse.h): tokens,
 * names, the clauses tables and indexes share, and CREATE INDEX. CREATE TABLE
 * and DEFAULT values are in parse_table.c.
 *
 * The statement is tokenized whole (lex.c), the matching parenthesis of every
 * "(" and ")" is found once, and a recursive-descent parser walks the token
 * array. Expressions (CHECK, DEFAULT (...), AS (...), index keys, WHERE) are not
 * parsed: they are skipped as balanced token spans, which the match table
 * makes O(1). No function recurses on the input, so deep nesting cannot
 * exhaust the stack, and every loop advances the token index.
 *
 * Grammar (SQLite's, as far as DDL goes):
 *   CREATE [TEMP|TEMPORARY] TABLE [IF NOT EXISTS] [schema.]name
 *       ( coldef {, coldef} {[,] tcons} ) [table-option {, table-option}]
 *   coldef  = name [type] {ccons}
 *   type    = ids {ids} [( signed [, signed] )]      ids: identifier or string
 *   ccons   = CONSTRAINT name | PRIMARY KEY [ASC|DESC] [onconf] [AUTOINCREMENT]
 *           | NOT NULL [onconf] | NULL [onconf] | UNIQUE [onconf] | CHECK (expr)
 *           | DEFAULT default | COLLATE ids | REFERENCES fk-target | [NOT] DEFERRABLE ...
 *           | [GENERATED ALWAYS] AS (expr) [STORED|VIRTUAL]
 *   tcons   = CONSTRAINT name | PRIMARY KEY (keys [AUTOINCREMENT]) [onconf]
 *           | UNIQUE (keys) [onconf] | CHECK (expr) [onconf]
 *           | FOREIGN KEY (names) REFERENCES fk-target [[NOT] DEFERRABLE ...]
 *   onconf  = ON CONFLICT (ROLLBACK|ABORT|FAIL|IGNORE|REPLACE)
 *   table-option = WITHOUT ROWID | STRICT
 *   CREATE [UNIQUE] INDEX [IF NOT EXISTS] [schema.]name ON table (keys) [WHERE expr]
 *   key     = expr [COLLATE ids] [ASC|DESC]
 */
#include "schema/parse_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Errors ---- */

int sp_fail(parser *p, const char *fmt, ...)
{
    if (!p->failed && p->err && p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->errlen, fmt, ap);
        va_end(ap);
    }
    p->failed = 1;
    return -1;
}

int sp_syntax_error(parser *p)
{
    const lx_token *t = &p->t[p->i];
    if (t->type == LX_EOF)
        return sp_fail(p, "incomplete input");
    return sp_fail(p, "near \"%.*s\": syntax error", (int)(t->n > 40 ? 40 : t->n), t->z);
}

int sp_nomem(parser *p)
{
    return sp_fail(p, "out of memory");
}

/* ---- Strings ---- */

int sp_ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int sp_mem_ieq(const char *a, const char *b, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (sp_ascii_lower((unsigned char)a[k]) != sp_ascii_lower((unsigned char)b[k]))
            return 0;
    return 1;
}

int sch_ident_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    for (;; a++, b++) {
        if (sp_ascii_lower((unsigned char)*a) != sp_ascii_lower((unsigned char)*b))
            return 0;
        if (!*a)
            return 1;
    }
}

char *sp_dup_mem(parser *p, const char *z, size_t n)
{
    char *s = malloc(n + 1);
    if (!s) {
        sp_nomem(p);
        return NULL;
    }
    if (n)
        memcpy(s, z, n);
    s[n] = 0;
    return s;
}

static int is_quote(char c)
{
    return c == '"' || c == '\'' || c == '`' || c == '[';
}

/* SQLite's dequoting of a name or type span: when it starts with a quote, the
 * text up to the closing quote with doubled quotes collapsed; else as is. */
char *sp_dequote(parser *p, const char *z, size_t n)
{
    if (n == 0 || !is_quote(z[0]))
        return sp_dup_mem(p, z, n);
    char q = z[0] == '[' ? ']' : z[0];
    char *s = malloc(n);
    size_t j = 0;
    if (!s) {
        sp_nomem(p);
        return NULL;
    }
    for (size_t k = 1; k < n; k++) {
        if (z[k] == q) {
            if (k + 1 < n && z[k + 1] == q) {
                s[j++] = q;
                k++;
                continue;
            }
            break;
        }
        s[j++] = z[k];
    }
    s[j] = 0;
    return s;
}

char *sp_tok_text(parser *p, const lx_token *t)
{
    return sp_dequote(p, t->z, t->n);
}

/* Raw source text of tokens [a, b). */
char *sp_span_text(parser *p, size_t a, size_t b, size_t *n)
{
    const char *z = p->t[a].z;
    size_t len = (size_t)(p->t[b - 1].z + p->t[b - 1].n - z);
    if (n)
        *n = len;
    return sp_dup_mem(p, z, len);
}

/* ---- Keywords ---- */

/* SQLite keywords that are never names (the ones without an ID fallback). */
static const char *const reserved_words[] = {
    "ADD",     "ALL",        "ALTER",       "AND",     "AS",       "AUTOINCREMENT",
    "BETWEEN", "CASE",       "CHECK",       "COLLATE", "COMMIT",   "CONSTRAINT",
    "CREATE",  "DEFAULT",    "DEFERRABLE",  "DELETE",  "DISTINCT", "DROP",
    "ELSE",    "ESCAPE",     "EXCEPT",      "EXISTS",  "FOREIGN",  "FROM",
    "GROUP",   "HAVING",     "IN",          "INDEX",   "INSERT",   "INTERSECT",
    "INTO",    "IS",         "ISNULL",      "JOIN",    "LIMIT",    "NOT",
    "NOTHING", "NOTNULL",    "NULL",        "ON",      "OR",       "ORDER",
    "PRIMARY", "REFERENCES", "RETURNING",   "SELECT",  "SET",      "TABLE",
    "THEN",    "TO",         "TRANSACTION", "UNION",   "UNIQUE",   "UPDATE",
    "USING",   "VALUES",     "WHEN",        "WHERE"};

/* Join keywords: names, but not types, DEFAULT identifiers or collations. */
static const char *const join_words[] = {"CROSS",   "FULL",  "INNER", "LEFT",
                                         "NATURAL", "OUTER", "RIGHT"};

int sp_word_eq(const lx_token *t, const char *w)
{
    size_t n = strlen(w);
    return t->type == LX_ID && t->n == n && sp_mem_ieq(t->z, w, n);
}

static int in_list(const lx_token *t, const char *const *list, size_t n)
{
    if (t->type != LX_ID)
        return 0;
    for (size_t k = 0; k < n; k++)
        if (sp_word_eq(t, list[k]))
            return 1;
    return 0;
}

static int is_reserved(const lx_token *t)
{
    return in_list(t, reserved_words, sizeof reserved_words / sizeof *reserved_words);
}

static int is_joinkw(const lx_token *t)
{
    return in_list(t, join_words, sizeof join_words / sizeof *join_words);
}

/* "nm": a table, column, index or constraint name. */
int sp_is_nm(const lx_token *t)
{
    return t->type == LX_QID || t->type == LX_STRING || (t->type == LX_ID && !is_reserved(t));
}

int lx_is_name(const lx_token *t)
{
    return sp_is_nm(t);
}

/* "id": DEFAULT identifier, generated column kind. */
int sp_is_id(const lx_token *t)
{
    return t->type == LX_QID || (t->type == LX_ID && !is_reserved(t) && !is_joinkw(t));
}

/* "ids": a word of a type name, a collation name. */
int sp_is_ids(const lx_token *t)
{
    return t->type == LX_STRING || (sp_is_id(t) && !sp_word_eq(t, "INDEXED"));
}

/* ---- Token stream ---- */

const lx_token *sp_tok(parser *p)
{
    return &p->t[p->i];
}

const lx_token *sp_ahead(parser *p, size_t k)
{
    size_t j = p->i + k;
    return &p->t[j < p->nt ? j : p->nt - 1];
}

void sp_advance(parser *p)
{
    if (p->i + 1 < p->nt)
        p->i++;
}

int sp_accept_kw(parser *p, const char *w)
{
    if (!sp_word_eq(sp_tok(p), w))
        return 0;
    sp_advance(p);
    return 1;
}

int sp_expect_kw(parser *p, const char *w)
{
    return sp_accept_kw(p, w) ? 0 : sp_syntax_error(p);
}

int sp_accept(parser *p, int type)
{
    if (sp_tok(p)->type != type)
        return 0;
    sp_advance(p);
    return 1;
}

int sp_expect(parser *p, int type)
{
    return sp_accept(p, type) ? 0 : sp_syntax_error(p);
}

/* Optional semicolons, then the end of the input. */
int sp_expect_end(parser *p)
{
    while (sp_accept(p, LX_SEMI))
        ;
    return sp_tok(p)->type == LX_EOF ? 0 : sp_syntax_error(p);
}

/* Expect a name token; store its dequoted text in *out when out is non-NULL. */
int sp_parse_nm(parser *p, char **out)
{
    if (!sp_is_nm(sp_tok(p)))
        return sp_syntax_error(p);
    if (out) {
        *out = sp_tok_text(p, sp_tok(p));
        if (!*out)
            return -1;
    }
    sp_advance(p);
    return 0;
}

int sp_paren_expr_text(parser *p, char **text)
{
    if (sp_tok(p)->type != LX_LP)
        return sp_syntax_error(p);
    size_t open = p->i, close = p->match[p->i];
    if (close == p->i + 1) {
        p->i = close;
        return sp_syntax_error(p);
    }
    if (text) {
        /* Between the parentheses, comments included, spaces trimmed. */
        const char *a = p->t[open].z + 1, *z = p->t[close].z;
        while (a < z && lx_is_space((unsigned char)*a))
            a++;
        while (z > a && lx_is_space((unsigned char)z[-1]))
            z--;
        if (!(*text = sp_dup_mem(p, a, (size_t)(z - a))))
            return -1;
    }
    p->i = close;
    sp_advance(p);
    return 0;
}

int sp_skip_paren_expr(parser *p)
{
    return sp_paren_expr_text(p, NULL);
}

int sp_parser_init(parser *p, const char *sql, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->sql = sql;
    p->err = err;
    p->errlen = errlen;
    if (err && errlen)
        err[0] = 0;
    if (!sql)
        return sp_fail(p, "no SQL text");
    if (lx_tokenize(sql, strlen(sql), &p->t, &p->nt, err, errlen) < 0) {
        p->failed = 1;
        return -1;
    }
    p->match = malloc(p->nt * sizeof *p->match);
    size_t *stack = malloc(p->nt * sizeof *stack);
    size_t depth = 0;
    if (!p->match || !stack) {
        free(stack);
        return sp_nomem(p);
    }
    for (size_t k = 0; k < p->nt; k++) {
        p->match[k] = k;
        if (p->t[k].type == LX_LP) {
            stack[depth++] = k;
        } else if (p->t[k].type == LX_RP) {
            if (depth == 0) {
                p->i = k;
                free(stack);
                return sp_syntax_error(p);
            }
            size_t open = stack[--depth];
            p->match[open] = k;
            p->match[k] = open;
        } else if (p->t[k].type == LX_SEMI && depth > 0) {
            p->i = k;
            free(stack);
            return sp_syntax_error(p);
        }
    }
    free(stack);
    if (depth > 0)
        return sp_fail(p, "incomplete input: unclosed parenthesis");
    return 0;
}

void sp_parser_done(parser *p)
{
    free(p->t);
    free(p->match);
}

/* ---- Affinity and collation ---- */

static int contains_ci(const char *s, const char *w)
{
    size_t n = strlen(w);
    for (; *s; s++)
        if (sp_mem_ieq(s, w, n))
            return 1;
    return 0;
}

int sch_affinity_of(const char *decltype)
{
    if (!decltype)
        return SCH_AFF_BLOB;
    if (contains_ci(decltype, "INT"))
        return SCH_AFF_INTEGER;
    if (contains_ci(decltype, "CHAR") || contains_ci(decltype, "CLOB") ||
        contains_ci(decltype, "TEXT"))
        return SCH_AFF_TEXT;
    if (contains_ci(decltype, "BLOB"))
        return SCH_AFF_BLOB;
    if (contains_ci(decltype, "REAL") || contains_ci(decltype, "FLOA") ||
        contains_ci(decltype, "DOUB"))
        return SCH_AFF_REAL;
    return SCH_AFF_NUMERIC;
}

int sch_collation_of(const char *name)
{
    if (!name || sch_ident_eq(name, "BINARY"))
        return SCH_COLL_BINARY;
    if (sch_ident_eq(name, "NOCASE"))
        return SCH_COLL_NOCASE;
    if (sch_ident_eq(name, "RTRIM"))
        return SCH_COLL_RTRIM;
    return SCH_COLL_UNKNOWN;
}

/* ---- Clauses shared by tables and indexes ---- */

/* [ON CONFLICT resolution]; returns SCH_OC_* or -1. */
int sp_parse_onconf(parser *p)
{
    static const char *const names[] = {"ROLLBACK", "ABORT", "FAIL", "IGNORE", "REPLACE"};
    if (!sp_word_eq(sp_tok(p), "ON") || !sp_word_eq(sp_ahead(p, 1), "CONFLICT"))
        return SCH_OC_DEFAULT;
    sp_advance(p);
    sp_advance(p);
    for (int k = 0; k < 5; k++)
        if (sp_accept_kw(p, names[k]))
            return SCH_OC_ROLLBACK + k;
    return sp_syntax_error(p);
}

/* [INITIALLY DEFERRED|IMMEDIATE], after [NOT] DEFERRABLE. */
int sp_parse_initially(parser *p)
{
    if (!sp_accept_kw(p, "INITIALLY"))
        return 0;
    if (sp_accept_kw(p, "DEFERRED"))
        return 1;
    if (sp_accept_kw(p, "IMMEDIATE"))
        return 0;
    return sp_syntax_error(p);
}

/* ( name [COLLATE ids] [ASC|DESC], ... ) of a foreign key. With cols, each
 * name must be a column of cols[0..ncols). */
int sp_parse_eidlist(parser *p, const sch_column *cols, int ncols)
{
    if (sp_expect(p, LX_LP) < 0)
        return -1;
    do {
        const lx_token *t = sp_tok(p);
        if (sp_parse_nm(p, NULL) < 0)
            return -1;
        if (cols) {
            char *name = sp_tok_text(p, t);
            int found = 0;
            if (!name)
                return -1;
            for (int k = 0; k < ncols && !found; k++)
                found = sch_ident_eq(cols[k].name, name);
            if (!found) {
                sp_fail(p, "unknown column \"%s\" in foreign key definition", name);
                free(name);
                return -1;
            }
            free(name);
        }
        if (sp_accept_kw(p, "COLLATE")) {
            if (!sp_is_ids(sp_tok(p)))
                return sp_syntax_error(p);
            sp_advance(p);
        }
        if (!sp_accept_kw(p, "ASC"))
            sp_accept_kw(p, "DESC");
    } while (sp_accept(p, LX_COMMA));
    return sp_expect(p, LX_RP);
}

/* The parent columns of a foreign key: ( name [COLLATE ids] [ASC|DESC], ... ). */
static int parse_fk_parent_cols(parser *p, sch_fkey *fk)
{
    size_t at = p->i;
    if (sp_parse_eidlist(p, NULL, 0) < 0)
        return -1;
    if (!fk)
        return 0;
    size_t end = p->i;
    int n = 0;
    for (size_t i = at + 1; i < end; i++)
        if (p->t[i].type == LX_COMMA)
            n++;
    n++;
    if (!(fk->pcols = calloc((size_t)n, sizeof *fk->pcols)))
        return sp_nomem(p);
    /* Each element starts after "(" or ",": a name, then what may follow it. */
    int k = 0;
    for (size_t i = at + 1; i < end && k < n; i++) {
        if (!(fk->pcols[k++] = sp_tok_text(p, &p->t[i])))
            return -1;
        while (i < end && p->t[i].type != LX_COMMA)
            i++;
    }
    fk->ncols = n; /* the parent's count, until the caller sets the child's */
    return 0;
}

static int fk_action(parser *p)
{
    if (sp_accept_kw(p, "SET")) {
        if (sp_accept_kw(p, "NULL"))
            return SCH_FK_SET_NULL;
        if (sp_accept_kw(p, "DEFAULT"))
            return SCH_FK_SET_DEFAULT;
        return sp_syntax_error(p);
    }
    if (sp_accept_kw(p, "NO"))
        return sp_expect_kw(p, "ACTION") < 0 ? -1 : SCH_FK_NO_ACTION;
    if (sp_accept_kw(p, "CASCADE"))
        return SCH_FK_CASCADE;
    if (sp_accept_kw(p, "RESTRICT"))
        return SCH_FK_RESTRICT;
    return sp_syntax_error(p);
}

/* After REFERENCES: table [(columns)] {MATCH name | ON DELETE|UPDATE|INSERT action}. */
int sp_parse_fk_target(parser *p, sch_fkey *fk)
{
    if (sp_parse_nm(p, fk ? &fk->parent : NULL) < 0)
        return -1;
    if (sp_tok(p)->type == LX_LP && parse_fk_parent_cols(p, fk) < 0)
        return -1;
    for (;;) {
        if (sp_accept_kw(p, "MATCH")) {
            if (sp_parse_nm(p, NULL) < 0)
                return -1;
        } else if (sp_word_eq(sp_tok(p), "ON") && !sp_word_eq(sp_ahead(p, 1), "CONFLICT")) {
            sp_advance(p);
            int which = sp_accept_kw(p, "DELETE")   ? 0
                        : sp_accept_kw(p, "UPDATE") ? 1
                        : sp_accept_kw(p, "INSERT") ? 2
                                                    : -1;
            if (which < 0)
                return sp_syntax_error(p);
            int a = fk_action(p);
            if (a < 0)
                return -1;
            if (fk && which == 0)
                fk->on_delete = a;
            else if (fk && which == 1)
                fk->on_update = a;
        } else {
            return 0;
        }
    }
}

void sp_fkey_free(sch_fkey *fk)
{
    free(fk->parent);
    free(fk->cols);
    for (int k = 0; fk->pcols && k < fk->ncols; k++)
        free(fk->pcols[k]);
    free(fk->pcols);
    memset(fk, 0, sizeof *fk);
}

/* Scan one key up to "," or ")" (or AUTOINCREMENT when stop_autoinc) at
 * this level, and take its ASC/DESC and COLLATE apart. */
int sp_parse_key(parser *p, sp_key *k, int stop_autoinc)
{
    size_t a = p->i;
    memset(k, 0, sizeof *k);
    for (;;) {
        const lx_token *t = sp_tok(p);
        if (t->type == LX_EOF || t->type == LX_COMMA || t->type == LX_RP ||
            (stop_autoinc && sp_word_eq(t, "AUTOINCREMENT")))
            break;
        if (t->type == LX_LP)
            p->i = p->match[p->i];
        sp_advance(p);
    }
    size_t b = p->i;
    if (b == a)
        return sp_syntax_error(p);
    if (b - a >= 3 && sp_word_eq(&p->t[b - 2], "NULLS") &&
        (sp_word_eq(&p->t[b - 1], "FIRST") || sp_word_eq(&p->t[b - 1], "LAST")))
        return sp_fail(p, "unsupported use of NULLS %s",
                       sp_word_eq(&p->t[b - 1], "FIRST") ? "FIRST" : "LAST");
    if (b - a >= 2 && (sp_word_eq(&p->t[b - 1], "ASC") || sp_word_eq(&p->t[b - 1], "DESC")) &&
        !sp_word_eq(&p->t[b - 2], "COLLATE")) {
        k->desc = sp_word_eq(&p->t[b - 1], "DESC");
        b--;
        /* "x ASC DESC": a second order word right after an operand. */
        const lx_token *prev = b - a >= 2 ? &p->t[b - 2] : NULL;
        if (prev && (sp_word_eq(&p->t[b - 1], "ASC") || sp_word_eq(&p->t[b - 1], "DESC")) &&
            (sp_is_nm(prev) || prev->type == LX_RP || prev->type == LX_INTEGER ||
             prev->type == LX_FLOAT || prev->type == LX_BLOB)) {
            p->i = b;
            return sp_syntax_error(p);
        }
    }
    k->a = a;
    k->b = b;
    for (;;) {
        if (b - a >= 3 && sp_word_eq(&p->t[b - 2], "COLLATE") && sp_is_ids(&p->t[b - 1])) {
            if (!k->coll)
                k->coll = &p->t[b - 1];
            b -= 2;
        } else if (b - a >= 2 && p->t[a].type == LX_LP && p->match[a] == b - 1) {
            a++;
            b--;
        } else {
            break;
        }
    }
    k->ea = a;
    k->eb = b;
    if (b - a == 1 && sp_is_nm(&p->t[a]))
        k->name = &p->t[a];
    return 0;
}

int sp_find_column(const sch_column *cols, int ncols, const char *name)
{
    for (int k = 0; k < ncols; k++)
        if (sch_ident_eq(cols[k].name, name))
            return k;
    return -1;
}

void sp_keycols_free(sch_keycol *kc, int n)
{
    for (int k = 0; kc && k < n; k++) {
        free(kc[k].collation_name);
        free(kc[k].text);
    }
    free(kc);
}

/* Set a key's collation from its COLLATE token, or copy `dflt` (NULL: none yet). */
int sp_key_collation(parser *p, sch_keycol *kc, const lx_token *coll, const char *dflt)
{
    kc->coll_explicit = coll != NULL;
    if (coll)
        kc->collation_name = sp_tok_text(p, coll);
    else if (dflt)
        kc->collation_name = sp_dup_mem(p, dflt, strlen(dflt));
    else
        return 0;
    if (!kc->collation_name)
        return -1;
    kc->collation = sch_collation_of(kc->collation_name);
    return 0;
}

/* A key column list of at most SCH_MAX_COLUMNS entries, as SQLite limits it. */
int sp_keycol_append(parser *p, sch_keycol **kc, int *n, int *cap)
{
    if (*n >= SCH_MAX_COLUMNS)
        return sp_fail(p, "too many columns in index");
    if (*n == *cap) {
        int ncap = *cap ? 2 * *cap : 4;
        sch_keycol *nk = realloc(*kc, (size_t)ncap * sizeof *nk);
        if (!nk)
            return sp_nomem(p);
        *kc = nk;
        *cap = ncap;
    }
    memset(&(*kc)[*n], 0, sizeof **kc);
    (*n)++;
    return 0;
}

/* ---- CREATE INDEX ---- */

/* The key column for a parsed key of CREATE INDEX. */
static int index_key(parser *p, sch_index *ix, const sch_table *tbl, const sp_key *k,
                     sch_keycol *kc)
{
    const char *dflt_coll = "BINARY";
    for (size_t j = k->a; j < k->b; j++)
        if (p->t[j].type == LX_DOT)
            return sp_fail(p, "the \".\" operator prohibited in index expressions");
    kc->desc = k->desc;
    kc->col = SCH_KEY_EXPR;
    if (k->name) {
        if (!(kc->text = sp_tok_text(p, k->name)))
            return -1;
        int col = tbl ? sp_find_column(tbl->cols, tbl->ncols, kc->text) : SCH_KEY_UNRESOLVED;
        if (col >= 0) {
            kc->col = col;
            dflt_coll = tbl->cols[col].collation_name;
        } else if (col == SCH_KEY_UNRESOLVED) {
            kc->col = col;
        } else if (k->name->type == LX_QID && k->name->z[0] == '"') {
            /* SQLite reads a double-quoted name that is no column as a string. */
            free(kc->text);
            kc->text = NULL;
        } else {
            return sp_fail(p, "no such column: %s", kc->text);
        }
    }
    if (kc->col == SCH_KEY_EXPR) {
        ix->has_expr = 1;
        if (!kc->text && !(kc->text = sp_span_text(p, k->a, k->b, NULL)))
            return -1;
    }
    return sp_key_collation(p, kc, k->coll, dflt_coll ? dflt_coll : "BINARY");
}

static int parse_create_index(parser *p, sch_index *ix, const sch_table *tbl)
{
    int cap = 0;
    if (sp_expect_kw(p, "CREATE") < 0)
        return -1;
    ix->unique = sp_accept_kw(p, "UNIQUE");
    if (!sp_accept_kw(p, "INDEX")) {
        if (sp_word_eq(sp_tok(p), "TABLE") || sp_word_eq(sp_tok(p), "VIEW") ||
            sp_word_eq(sp_tok(p), "TRIGGER") || sp_word_eq(sp_tok(p), "VIRTUAL") ||
            sp_word_eq(sp_tok(p), "TEMP") || sp_word_eq(sp_tok(p), "TEMPORARY"))
            return sp_fail(p, "not a CREATE INDEX statement");
        return sp_syntax_error(p);
    }
    if (sp_accept_kw(p, "IF")) {
        if (sp_expect_kw(p, "NOT") < 0 || sp_expect_kw(p, "EXISTS") < 0)
            return -1;
        ix->if_not_exists = 1;
    }
    if (sp_parse_nm(p, &ix->name) < 0)
        return -1;
    if (sp_accept(p, LX_DOT)) {
        ix->schema_name = ix->name;
        ix->name = NULL;
        if (sp_parse_nm(p, &ix->name) < 0)
            return -1;
    }
    if (sp_expect_kw(p, "ON") < 0 || sp_parse_nm(p, &ix->table) < 0)
        return -1;
    if (tbl && !sch_ident_eq(tbl->name, ix->table))
        return sp_fail(p, "index %s is on table %s, not %s", ix->name, ix->table,
                       tbl->name ? tbl->name : "?");
    if (sp_expect(p, LX_LP) < 0)
        return -1;
    do {
        sp_key k;
        if (sp_parse_key(p, &k, 0) < 0 || sp_keycol_append(p, &ix->cols, &ix->ncols, &cap) < 0 ||
            index_key(p, ix, tbl, &k, &ix->cols[ix->ncols - 1]) < 0)
            return -1;
    } while (sp_accept(p, LX_COMMA));
    if (sp_expect(p, LX_RP) < 0)
        return -1;
    if (sp_accept_kw(p, "WHERE")) {
        size_t a = p->i;
        while (sp_tok(p)->type != LX_EOF && sp_tok(p)->type != LX_SEMI) {
            if (sp_tok(p)->type == LX_LP)
                p->i = p->match[p->i];
            sp_advance(p);
        }
        if (p->i == a)
            return sp_syntax_error(p);
        ix->partial = 1;
        const lx_token *z = &p->t[p->i - 1];
        if (!(ix->where_text = sp_dup_mem(p, p->t[a].z, (size_t)(z->z + z->n - p->t[a].z))))
            return -1;
    }
    return sp_expect_end(p);
}

int sch_parse_index(sch_index *out, const char *sql, const sch_table *tbl, char *err, size_t errlen)
{
    parser p;
    int rc = -1;
    if (!out) {
        if (err && errlen)
            snprintf(err, errlen, "no output index");
        return -1;
    }
    memset(out, 0, sizeof *out);
    if (sp_parser_init(&p, sql, err, errlen) == 0)
        rc = parse_create_index(&p, out, tbl);
    sp_parser_done(&p);
    if (rc < 0) {
        sch_index_free(out);
        return -1;
    }
    return 0;
}

void sch_index_free(sch_index *ix)
{
    if (!ix)
        return;
    free(ix->name);
    free(ix->schema_name);
    free(ix->table);
    free(ix->where_text);
    sp_keycols_free(ix->cols, ix->ncols);
    memset(ix, 0, sizeof *ix);
}
