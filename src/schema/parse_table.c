/*
 * parse_table.c - CREATE TABLE: columns, types, constraints, DEFAULT values,
 * the INTEGER PRIMARY KEY and the automatic indexes (rules in parse.h).
 */
#include "schema/parse_int.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Literals ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    return sp_ascii_lower((unsigned char)c) - 'a' + 10;
}

/* strtod() on a numeric token, independent of the locale's decimal point and
 * ignoring digit separators. */
static int token_to_double(parser *p, const lx_token *t, int neg, double *out)
{
    const char *dp = localeconv()->decimal_point;
    size_t ndp = dp && dp[0] ? strlen(dp) : 1;
    char *buf = malloc(t->n * ndp + 2);
    size_t j = 0;
    if (!buf)
        return sp_nomem(p);
    if (neg)
        buf[j++] = '-';
    for (size_t k = 0; k < t->n; k++) {
        if (t->z[k] == '_')
            continue;
        if (t->z[k] == '.' && dp && dp[0]) {
            memcpy(buf + j, dp, ndp);
            j += ndp;
        } else {
            buf[j++] = t->z[k];
        }
    }
    buf[j] = 0;
    *out = strtod(buf, NULL);
    free(buf);
    return 0;
}

/* Value of a numeric token, negated if neg. Returns 1, 0 if it has no value
 * folio can use (a hex literal wider than 64 bits, or the negation of
 * 0x8000000000000000, which SQLite rejects when it evaluates them), -1 on
 * error. Decimal integers outside int64 become REAL, as in SQLite. */
static int number_value_(parser *p, const lx_token *t, int neg, sch_default *d);

/* A numeric default also keeps its literal text (with the sign): a TEXT
 * column reads that text, as written, for rows older than the column. */
static int number_value(parser *p, const lx_token *t, int neg, sch_default *d)
{
    int rc = number_value_(p, t, neg, d);
    if (rc == 1) {
        free(d->p);
        d->p = malloc(t->n + 2);
        if (!d->p)
            return sp_nomem(p);
        size_t j = 0;
        if (neg)
            d->p[j++] = '-';
        memcpy(d->p + j, t->z, t->n);
        j += t->n;
        d->p[j] = 0;
        d->n = j;
    }
    return rc;
}

static int number_value_(parser *p, const lx_token *t, int neg, sch_default *d)
{
    if (t->type == LX_FLOAT) {
        d->kind = SCH_DFLT_REAL;
        return token_to_double(p, t, neg, &d->r) < 0 ? -1 : 1;
    }
    uint64_t v = 0;
    if (t->n > 2 && t->z[0] == '0' && (t->z[1] == 'x' || t->z[1] == 'X')) {
        size_t k = 2, digits = 0;
        while (k < t->n && (t->z[k] == '0' || t->z[k] == '_'))
            k++;
        for (; k < t->n; k++) {
            if (t->z[k] == '_')
                continue;
            if (++digits > 16)
                return 0;
            v = (v << 4) | (uint64_t)hexval(t->z[k]);
        }
        int64_t iv;
        memcpy(&iv, &v, sizeof iv); /* hex literals are two's complement */
        if (neg && iv == INT64_MIN)
            return 0;
        d->kind = SCH_DFLT_INTEGER;
        d->i = neg ? -iv : iv;
        return 1;
    }
    int overflow = 0;
    for (size_t k = 0; k < t->n; k++) {
        if (t->z[k] == '_')
            continue;
        unsigned digit = (unsigned)(t->z[k] - '0');
        if (v > (UINT64_MAX - digit) / 10)
            overflow = 1;
        else
            v = v * 10 + digit;
    }
    if (!overflow && !neg && v <= (uint64_t)INT64_MAX) {
        d->kind = SCH_DFLT_INTEGER;
        d->i = (int64_t)v;
        return 1;
    }
    if (!overflow && neg && v <= (uint64_t)INT64_MAX + 1) {
        d->kind = SCH_DFLT_INTEGER;
        d->i = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
        return 1;
    }
    d->kind = SCH_DFLT_REAL;
    return token_to_double(p, t, neg, &d->r) < 0 ? -1 : 1;
}

static int is_number(const lx_token *t)
{
    return t->type == LX_INTEGER || t->type == LX_FLOAT;
}

static int ctime_kind(const lx_token *t)
{
    if (sp_word_eq(t, "CURRENT_TIME"))
        return SCH_DFLT_CURRENT_TIME;
    if (sp_word_eq(t, "CURRENT_DATE"))
        return SCH_DFLT_CURRENT_DATE;
    if (sp_word_eq(t, "CURRENT_TIMESTAMP"))
        return SCH_DFLT_CURRENT_TIMESTAMP;
    return 0;
}

/* "term" of SQLite's grammar: a literal value token. */
static int is_term(const lx_token *t)
{
    return is_number(t) || t->type == LX_STRING || t->type == LX_BLOB || sp_word_eq(t, "NULL") ||
           ctime_kind(t);
}

/* Decode a single literal token: a term, or TRUE/FALSE when allow_bool.
 * Returns 1, 0 if it is not one, -1 on error. */
static int literal_value(parser *p, const lx_token *t, int allow_bool, sch_default *d)
{
    if (is_number(t))
        return number_value(p, t, 0, d);
    if (t->type == LX_STRING) {
        d->p = sp_tok_text(p, t);
        if (!d->p)
            return -1;
        d->kind = SCH_DFLT_TEXT;
        d->n = strlen(d->p);
        return 1;
    }
    if (t->type == LX_BLOB) {
        size_t n = (t->n - 3) / 2;
        d->p = malloc(n + 1);
        if (!d->p)
            return sp_nomem(p);
        for (size_t k = 0; k < n; k++)
            d->p[k] = (char)(hexval(t->z[2 + 2 * k]) << 4 | hexval(t->z[3 + 2 * k]));
        d->p[n] = 0;
        d->n = n;
        d->kind = SCH_DFLT_BLOB;
        return 1;
    }
    if (sp_word_eq(t, "NULL")) {
        d->kind = SCH_DFLT_NULL;
        return 1;
    }
    if (ctime_kind(t)) {
        d->kind = ctime_kind(t);
        return 1;
    }
    if (allow_bool && (sp_word_eq(t, "TRUE") || sp_word_eq(t, "FALSE"))) {
        d->kind = SCH_DFLT_INTEGER;
        d->i = sp_word_eq(t, "TRUE");
        return 1;
    }
    return 0;
}

/* Peel parentheses that enclose all of tokens [*a, *b). */
static void unwrap_parens(parser *p, size_t *a, size_t *b)
{
    while (*b - *a >= 2 && p->t[*a].type == LX_LP && p->match[*a] == *b - 1) {
        (*a)++;
        (*b)--;
    }
}

/* Value of the expression in tokens [a, b) when it is a plain literal,
 * possibly signed and parenthesised: 1, 0 if it is not, -1 on error. */
static int expr_literal(parser *p, size_t a, size_t b, sch_default *d)
{
    int sign = 0;
    unwrap_parens(p, &a, &b);
    if (b - a >= 2 && (p->t[a].type == LX_PLUS || p->t[a].type == LX_MINUS)) {
        sign = p->t[a].type == LX_MINUS ? -1 : 1;
        a++;
        unwrap_parens(p, &a, &b);
    }
    if (b - a != 1)
        return 0;
    const lx_token *t = &p->t[a];
    if (sign < 0) {
        if (is_number(t))
            return number_value(p, t, 1, d);
        if (sp_word_eq(t, "NULL")) {
            d->kind = SCH_DFLT_NULL;
            return 1;
        }
        return 0;
    }
    if (sign > 0 && !is_term(t))
        return 0;
    return literal_value(p, t, 1, d);
}

static void default_clear(sch_default *d)
{
    free(d->p);
    memset(d, 0, sizeof *d);
}

/* An expression default: its source text, tokens [a, b). */
static int default_expr(parser *p, size_t a, size_t b, sch_default *d)
{
    default_clear(d);
    d->kind = SCH_DFLT_EXPR;
    d->p = sp_span_text(p, a, b, &d->n);
    return d->p ? 0 : -1;
}

/* After DEFAULT: ( expr ) | [+|-] term | id. */
static int parse_default(parser *p, sch_default *d)
{
    const lx_token *t = sp_tok(p);
    int rc;
    default_clear(d);
    if (t->type == LX_LP) {
        size_t a = p->i + 1, b = p->match[p->i];
        if (sp_skip_paren_expr(p) < 0)
            return -1;
        rc = expr_literal(p, a, b, d);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        return default_expr(p, a, b, d);
    }
    if (t->type == LX_PLUS || t->type == LX_MINUS) {
        size_t a = p->i;
        sp_advance(p);
        if (!is_term(sp_tok(p)))
            return sp_syntax_error(p);
        sp_advance(p);
        rc = expr_literal(p, a, p->i, d);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        return default_expr(p, a, p->i, d);
    }
    if (is_term(t)) {
        sp_advance(p);
        rc = literal_value(p, t, 0, d);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        return default_expr(p, p->i - 1, p->i, d);
    }
    if (sp_is_id(t)) {
        /* SQLite takes a bare identifier as a string, except TRUE and FALSE. */
        sp_advance(p);
        if (t->type == LX_ID && (sp_word_eq(t, "TRUE") || sp_word_eq(t, "FALSE"))) {
            d->kind = SCH_DFLT_INTEGER;
            d->i = sp_word_eq(t, "TRUE");
            return 0;
        }
        d->p = sp_tok_text(p, t);
        if (!d->p)
            return -1;
        d->kind = SCH_DFLT_TEXT;
        d->n = strlen(d->p);
        return 0;
    }
    return sp_syntax_error(p);
}

/* ---- CREATE TABLE ---- */

/* A constraint that may create an automatic index, in statement order. */
typedef struct auto_cand {
    int ncols;
    sch_keycol *cols; /* collations as SQLite compares them when merging */
    int is_pk;
    int onconf;
    int dropped; /* merged into an earlier identical index */
    uint64_t hash;
    int next; /* hash chain */
} auto_cand;

typedef struct table_builder {
    sch_table *t;
    int cap_cols;
    auto_cand *cand;
    int ncand, cap_cand;
    int *bucket; /* hash table of the surviving candidates, chained by next */
    size_t nbucket;
    int col_first_cand; /* candidates of the column being defined: those from here on, */
    int col_live;       /* and its live one found so far (-1: none) */
    char *cons_name;    /* the CONSTRAINT name in force (see sch_check), else NULL */
    int cap_checks;
} table_builder;

static void builder_free(table_builder *b)
{
    free(b->cons_name);
    for (int k = 0; k < b->ncand; k++)
        sp_keycols_free(b->cand[k].cols, b->cand[k].ncols);
    free(b->cand);
    free(b->bucket);
}

static sch_keycol *keycols_copy(parser *p, const sch_keycol *src, int n)
{
    sch_keycol *kc = calloc((size_t)(n ? n : 1), sizeof *kc);
    if (!kc) {
        sp_nomem(p);
        return NULL;
    }
    for (int k = 0; k < n; k++) {
        kc[k].col = src[k].col;
        kc[k].desc = src[k].desc;
        kc[k].collation = src[k].collation;
        if (src[k].collation_name) {
            kc[k].collation_name =
                sp_dup_mem(p, src[k].collation_name, strlen(src[k].collation_name));
            if (!kc[k].collation_name) {
                sp_keycols_free(kc, n);
                return NULL;
            }
        }
    }
    return kc;
}

/* Give key columns without COLLATE the table column's collation. */
static int fill_collations(parser *p, const sch_table *t, sch_keycol *kc, int n)
{
    for (int k = 0; k < n; k++) {
        if (kc[k].collation_name)
            continue;
        if (sp_key_collation(p, &kc[k], NULL, t->cols[kc[k].col].collation_name) < 0)
            return -1;
    }
    return 0;
}

static uint64_t cand_hash(const auto_cand *c)
{
    uint64_t h = 1469598103934665603u ^ (uint64_t)c->ncols;
    for (int k = 0; k < c->ncols; k++) {
        h = (h ^ (uint64_t)(unsigned)c->cols[k].col) * 1099511628211u;
        for (const char *s = c->cols[k].collation_name; *s; s++)
            h = (h ^ (uint64_t)sp_ascii_lower((unsigned char)*s)) * 1099511628211u;
    }
    return h;
}

static int same_key(const auto_cand *x, const auto_cand *y)
{
    if (x->hash != y->hash || x->ncols != y->ncols)
        return 0;
    for (int k = 0; k < x->ncols; k++)
        if (x->cols[k].col != y->cols[k].col ||
            !sch_ident_eq(x->cols[k].collation_name, y->cols[k].collation_name))
            return 0;
    return 1;
}

static int rebuild_buckets(parser *p, table_builder *b, size_t want)
{
    size_t nb = b->nbucket ? b->nbucket : 16;
    while (nb < 2 * want)
        nb *= 2;
    if (nb != b->nbucket) {
        int *bucket = realloc(b->bucket, nb * sizeof *bucket);
        if (!bucket)
            return sp_nomem(p);
        b->bucket = bucket;
        b->nbucket = nb;
    }
    for (size_t k = 0; k < nb; k++)
        b->bucket[k] = -1;
    for (int k = 0; k < b->ncand; k++) {
        auto_cand *c = &b->cand[k];
        if (c->dropped)
            continue;
        c->hash = cand_hash(c);
        c->next = b->bucket[c->hash & (nb - 1)];
        b->bucket[c->hash & (nb - 1)] = k;
    }
    return 0;
}

/* Give candidate k (live, in the hash table) a new collation for its only
 * key column, moving it to its new hash chain. */
static int recollate_cand(parser *p, table_builder *b, int k, const char *collation)
{
    auto_cand *c = &b->cand[k];
    int *link = &b->bucket[c->hash & (b->nbucket - 1)];
    while (*link != k)
        link = &b->cand[*link].next;
    *link = c->next;
    free(c->cols[0].collation_name);
    c->cols[0].collation_name = NULL;
    if (sp_key_collation(p, &c->cols[0], NULL, collation) < 0)
        return -1;
    c->hash = cand_hash(c);
    c->next = b->bucket[c->hash & (b->nbucket - 1)];
    b->bucket[c->hash & (b->nbucket - 1)] = k;
    return 0;
}

/* Add a candidate automatic index (taking ownership of cols), merging it into
 * an earlier identical one (same columns and collations, in order) as SQLite
 * does when it creates the index: a merged PRIMARY KEY makes the earlier index
 * the key's, a merged ON CONFLICT fills in a missing one. Key columns without
 * COLLATE take the column's collation as it is at this point. */
static int add_cand(parser *p, table_builder *b, sch_keycol *cols, int ncols, int is_pk, int onconf)
{
    if (fill_collations(p, b->t, cols, ncols) < 0) {
        sp_keycols_free(cols, ncols);
        return -1;
    }
    if (b->ncand == b->cap_cand) {
        int ncap = b->cap_cand ? 2 * b->cap_cand : 4;
        auto_cand *nc = realloc(b->cand, (size_t)ncap * sizeof *nc);
        if (!nc) {
            sp_keycols_free(cols, ncols);
            return sp_nomem(p);
        }
        b->cand = nc;
        b->cap_cand = ncap;
    }
    if (b->nbucket < 2 * (size_t)(b->ncand + 1) &&
        rebuild_buckets(p, b, (size_t)b->ncand + 1) < 0) {
        sp_keycols_free(cols, ncols);
        return -1;
    }
    auto_cand *c = &b->cand[b->ncand++];
    memset(c, 0, sizeof *c);
    c->ncols = ncols;
    c->cols = cols;
    c->is_pk = is_pk;
    c->onconf = onconf;
    c->hash = cand_hash(c);
    size_t h = c->hash & (b->nbucket - 1);
    int j = b->bucket[h];
    while (j >= 0 && !same_key(&b->cand[j], c))
        j = b->cand[j].next;
    if (j < 0) {
        c->next = b->bucket[h];
        b->bucket[h] = b->ncand - 1;
        return 0;
    }
    auto_cand *e = &b->cand[j];
    c->dropped = 1;
    if (e->onconf != c->onconf && e->onconf != SCH_OC_DEFAULT && c->onconf != SCH_OC_DEFAULT)
        return sp_fail(p, "conflicting ON CONFLICT clauses specified");
    if (e->onconf == SCH_OC_DEFAULT)
        e->onconf = c->onconf;
    e->is_pk |= c->is_pk;
    return 0;
}

static int decltype_is_integer(const sch_column *c)
{
    return c->decltype && sch_ident_eq(c->decltype, "INTEGER");
}

/* Record the PRIMARY KEY (takes ownership of kc). A single INTEGER column is
 * the rowid alias unless a column constraint said DESC (col_desc); otherwise
 * the key gets an automatic index. */
static int add_primary_key(parser *p, table_builder *b, sch_keycol *kc, int n, int col_desc,
                           int autoinc, int onconf)
{
    sch_table *t = b->t;
    if (t->npk > 0) {
        sp_keycols_free(kc, n);
        return sp_fail(p, "table \"%s\" has more than one primary key", t->name);
    }
    t->pk = kc;
    t->npk = n;
    t->pk_onconflict = onconf;
    int generated = 0;
    for (int k = 0; k < n; k++) {
        t->cols[kc[k].col].primary_key = 1;
        generated |= t->cols[kc[k].col].generated;
    }
    /* SQLite reports the last of these errors (its messages overwrite). */
    if (n == 1 && decltype_is_integer(&t->cols[kc[0].col]) && !col_desc) {
        t->ipk = kc[0].col;
        if (autoinc) {
            t->autoincrement = 1;
            t->cols[t->ipk].autoincrement = 1;
        }
    } else if (autoinc) {
        return sp_fail(p, "AUTOINCREMENT is only allowed on an INTEGER PRIMARY KEY");
    }
    if (generated)
        return sp_fail(p, "generated columns cannot be part of the PRIMARY KEY");
    if (t->ipk >= 0)
        return 0;
    sch_keycol *copy = keycols_copy(p, kc, n);
    if (!copy)
        return -1;
    return add_cand(p, b, copy, n, 1, onconf);
}

/* SQLite runs a constraint's checks when its grammar rule is reduced, which
 * happens only once the token after it is known to be valid; so a syntax error
 * right after a constraint wins over a semantic error in it. These check the
 * token after a column constraint (or type) and after a table constraint. */
static int column_constraint_end(parser *p)
{
    static const char *const starts[] = {"CONSTRAINT", "DEFAULT", "NULL",      "NOT",
                                         "PRIMARY",    "UNIQUE",  "CHECK",     "REFERENCES",
                                         "DEFERRABLE", "COLLATE", "GENERATED", "AS"};
    const lx_token *t = sp_tok(p);
    if (t->type == LX_COMMA || t->type == LX_RP)
        return 0;
    for (size_t k = 0; k < sizeof starts / sizeof *starts; k++)
        if (sp_word_eq(t, starts[k]))
            return 0;
    return sp_syntax_error(p);
}

static int is_tcons_start(const lx_token *t)
{
    return sp_word_eq(t, "CONSTRAINT") || sp_word_eq(t, "PRIMARY") || sp_word_eq(t, "UNIQUE") ||
           sp_word_eq(t, "CHECK") || sp_word_eq(t, "FOREIGN");
}

static int table_constraint_end(parser *p)
{
    const lx_token *t = sp_tok(p);
    if (t->type == LX_COMMA || t->type == LX_RP || is_tcons_start(t))
        return 0;
    return sp_syntax_error(p);
}

/* After "(" of a table PRIMARY KEY or UNIQUE: the keys as written,
 * [AUTOINCREMENT] when autoinc is non-NULL, then ")". */
static int scan_table_keys(parser *p, sp_key **out, int *nout, int *autoinc)
{
    sp_key *keys = NULL;
    int n = 0, cap = 0;
    *out = NULL;
    *nout = 0;
    do {
        if (n >= SCH_MAX_COLUMNS) {
            free(keys);
            return sp_fail(p, "too many columns in index");
        }
        if (n == cap) {
            int ncap = cap ? 2 * cap : 4;
            sp_key *nk = realloc(keys, (size_t)ncap * sizeof *nk);
            if (!nk) {
                free(keys);
                return sp_nomem(p);
            }
            keys = nk;
            cap = ncap;
        }
        if (sp_parse_key(p, &keys[n++], autoinc != NULL) < 0) {
            free(keys);
            return -1;
        }
    } while (sp_accept(p, LX_COMMA));
    if (autoinc)
        *autoinc = sp_accept_kw(p, "AUTOINCREMENT");
    if (sp_expect(p, LX_RP) < 0) {
        free(keys);
        return -1;
    }
    *out = keys;
    *nout = n;
    return 0;
}

/* Key columns for keys that must each name a column of t. */
static int resolve_table_keys(parser *p, const sch_table *t, const sp_key *keys, int n,
                              sch_keycol **out)
{
    sch_keycol *kc = calloc((size_t)n, sizeof *kc);
    *out = NULL;
    if (!kc)
        return sp_nomem(p);
    for (int k = 0; k < n; k++) {
        char *name;
        if (!keys[k].name) {
            sp_keycols_free(kc, n);
            return sp_fail(p, "expressions prohibited in PRIMARY KEY and UNIQUE constraints");
        }
        if (!(name = sp_tok_text(p, keys[k].name))) {
            sp_keycols_free(kc, n);
            return -1;
        }
        kc[k].col = sp_find_column(t->cols, t->ncols, name);
        if (kc[k].col < 0) {
            sp_fail(p, "no such column: %s", name);
            free(name);
            sp_keycols_free(kc, n);
            return -1;
        }
        free(name);
        kc[k].desc = keys[k].desc;
        if (sp_key_collation(p, &kc[k], keys[k].coll, NULL) < 0) {
            sp_keycols_free(kc, n);
            return -1;
        }
    }
    *out = kc;
    return 0;
}

/* PRIMARY KEY (keys [AUTOINCREMENT]) [onconf] or UNIQUE (keys) [onconf],
 * after the keyword(s). */
static int parse_table_key_constraint(parser *p, table_builder *b, int is_pk)
{
    sp_key *keys;
    sch_keycol *kc;
    int n, oc, autoinc = 0;
    if (sp_expect(p, LX_LP) < 0 || scan_table_keys(p, &keys, &n, is_pk ? &autoinc : NULL) < 0)
        return -1;
    if ((oc = sp_parse_onconf(p)) < 0 || table_constraint_end(p) < 0 ||
        resolve_table_keys(p, b->t, keys, n, &kc) < 0) {
        free(keys);
        return -1;
    }
    free(keys);
    if (is_pk)
        return add_primary_key(p, b, kc, n, 0, autoinc, oc);
    if (n == 1)
        b->t->cols[kc[0].col].unique = 1;
    return add_cand(p, b, kc, n, 0, oc);
}

/* SQLite drops a trailing "always" (and "generated" before it) from a type
 * of 16 or more bytes: GENERATED and ALWAYS are also identifiers, so
 * "x INT GENERATED ALWAYS AS (...)" reads them as part of the type. */
static size_t trim_generated_always(const char *z, size_t n)
{
    if (n < 16 || !sp_mem_ieq(z + n - 6, "always", 6))
        return n;
    n -= 6;
    while (n > 0 && (z[n - 1] == ' ' || (z[n - 1] >= '\t' && z[n - 1] <= '\r')))
        n--;
    if (n >= 9 && sp_mem_ieq(z + n - 9, "generated", 9)) {
        n -= 9;
        while (n > 0 && (z[n - 1] == ' ' || (z[n - 1] >= '\t' && z[n - 1] <= '\r')))
            n--;
    }
    return n;
}

static int parse_signed(parser *p)
{
    if (sp_tok(p)->type == LX_PLUS || sp_tok(p)->type == LX_MINUS)
        sp_advance(p);
    if (!is_number(sp_tok(p)))
        return sp_syntax_error(p);
    sp_advance(p);
    return 0;
}

/* SQLite keeps the six STRICT type names (after removing the quotes around a
 * single quoted word) in upper case: "x [int]" reads back as type "INT". */
static const char *standard_type(const char *z, size_t n)
{
    static const char *const names[] = {"ANY", "BLOB", "INT", "INTEGER", "REAL", "TEXT"};
    if (n < 3)
        return NULL;
    if (z[0] == '"' || z[0] == '\'' || z[0] == '`' || z[0] == '[') {
        for (size_t k = 1; k + 1 < n; k++)
            if (z[k] == '"' || z[k] == '\'' || z[k] == '`' || z[k] == '[')
                return NULL;
        z++;
        n -= 2;
    }
    for (size_t k = 0; k < sizeof names / sizeof *names; k++)
        if (strlen(names[k]) == n && sp_mem_ieq(z, names[k], n))
            return names[k];
    return NULL;
}

/* [type]: words, then optionally ( signed [, signed] ). */
static int parse_type(parser *p, sch_column *c)
{
    size_t a = p->i;
    while (sp_is_ids(sp_tok(p)))
        sp_advance(p);
    if (p->i == a)
        return 0;
    if (sp_accept(p, LX_LP)) {
        if (parse_signed(p) < 0)
            return -1;
        if (sp_accept(p, LX_COMMA) && parse_signed(p) < 0)
            return -1;
        if (sp_expect(p, LX_RP) < 0)
            return -1;
    }
    const char *z = p->t[a].z;
    size_t n = (size_t)(p->t[p->i - 1].z + p->t[p->i - 1].n - z);
    n = trim_generated_always(z, n);
    if (n == 0)
        return 0;
    const char *std = standard_type(z, n);
    c->decltype = std ? sp_dup_mem(p, std, strlen(std)) : sp_dequote(p, z, n);
    return c->decltype ? 0 : -1;
}

/* After [GENERATED ALWAYS] AS: ( expr ) [STORED|VIRTUAL]. */
static int parse_generated(parser *p, sch_table *t, sch_column *c)
{
    const lx_token *kind = NULL;
    char *text = NULL;
    if (sp_paren_expr_text(p, &text) < 0)
        return -1;
    free(c->gen_text);
    c->gen_text = text;
    if (sp_is_id(sp_tok(p))) {
        kind = sp_tok(p);
        sp_advance(p);
    }
    if (column_constraint_end(p) < 0)
        return -1;
    if (c->dflt.kind != SCH_DFLT_NONE || c->generated ||
        (kind && !sp_word_eq(kind, "STORED") && !sp_word_eq(kind, "VIRTUAL")))
        return sp_fail(p, "error in generated column \"%s\"", c->name);
    if (c->primary_key)
        return sp_fail(p, "generated columns cannot be part of the PRIMARY KEY");
    c->generated = 1;
    c->hidden = kind && sp_word_eq(kind, "STORED") ? 3 : 2;
    t->has_generated = 1;
    return 0;
}

/* CONSTRAINT nm: the name of the constraints that follow (see sch_check). */
static int parse_constraint_name(parser *p, table_builder *b)
{
    char *name = NULL;
    if (sp_parse_nm(p, &name) < 0)
        return -1;
    free(b->cons_name);
    b->cons_name = name;
    return 0;
}

static void forget_constraint_name(table_builder *b)
{
    free(b->cons_name);
    b->cons_name = NULL;
}

/* At "(" after CHECK: the expression, kept with the name in force. */
static int parse_check(parser *p, table_builder *b, int col)
{
    sch_table *t = b->t;
    if (t->nchecks == b->cap_checks) {
        int ncap = b->cap_checks ? 2 * b->cap_checks : 4;
        sch_check *nc = realloc(t->checks, (size_t)ncap * sizeof *nc);
        if (!nc)
            return sp_nomem(p);
        t->checks = nc;
        b->cap_checks = ncap;
    }
    sch_check *ck = &t->checks[t->nchecks];
    memset(ck, 0, sizeof *ck);
    ck->col = col;
    if (sp_paren_expr_text(p, &ck->text) < 0)
        return -1;
    t->nchecks++;
    if (b->cons_name && !(ck->name = sp_dup_mem(p, b->cons_name, strlen(b->cons_name))))
        return -1;
    t->has_check = 1;
    return 0;
}

/* One column constraint of column `ci`. */
/* Append a parsed foreign key to the table (taking its contents). */
static int add_fkey(parser *p, sch_table *t, sch_fkey *fk)
{
    sch_fkey *nf = realloc(t->fkeys, (size_t)(t->nfkeys + 1) * sizeof *nf);
    if (!nf) {
        sp_fkey_free(fk);
        return sp_nomem(p);
    }
    t->fkeys = nf;
    t->fkeys[t->nfkeys++] = *fk;
    memset(fk, 0, sizeof *fk);
    return 0;
}

/* The child columns of FOREIGN KEY ( names ), already checked, from the
 * token after "(" up to the matching ")". */
static int fk_child_cols(parser *p, const sch_table *t, size_t at, size_t end, sch_fkey *fk, int n)
{
    if (!(fk->cols = calloc((size_t)n, sizeof *fk->cols)))
        return sp_nomem(p);
    int k = 0;
    for (size_t i = at + 1; i < end && k < n; i++) {
        char *name = sp_tok_text(p, &p->t[i]);
        if (!name)
            return -1;
        int col = -1;
        for (int c = 0; c < t->ncols && col < 0; c++)
            if (sch_ident_eq(t->cols[c].name, name))
                col = c;
        free(name);
        fk->cols[k++] = col;
        while (i < end && p->t[i].type != LX_COMMA)
            i++;
    }
    return 0;
}

static int parse_column_constraint(parser *p, table_builder *b, int ci)
{
    sch_table *t = b->t;
    sch_column *c = &t->cols[ci];
    int oc;
    if (sp_accept_kw(p, "CONSTRAINT"))
        return parse_constraint_name(p, b) < 0 ? -1 : column_constraint_end(p);
    if (sp_accept_kw(p, "DEFAULT")) {
        if (parse_default(p, &c->dflt) < 0 || column_constraint_end(p) < 0)
            return -1;
        return c->generated ? sp_fail(p, "cannot use DEFAULT on a generated column") : 0;
    }
    if (sp_accept_kw(p, "NULL"))
        return sp_parse_onconf(p) < 0 ? -1 : column_constraint_end(p);
    if (sp_accept_kw(p, "NOT")) {
        if (sp_accept_kw(p, "DEFERRABLE")) {
            /* As SQLite: about the table's last foreign key, wherever it is. */
            if (sp_parse_initially(p) < 0)
                return -1;
            if (t->nfkeys)
                t->fkeys[t->nfkeys - 1].deferred = 0;
            return column_constraint_end(p);
        }
        if (sp_expect_kw(p, "NULL") < 0 || (oc = sp_parse_onconf(p)) < 0 ||
            column_constraint_end(p) < 0)
            return -1;
        c->notnull = 1;
        c->notnull_onconflict = oc;
        return 0;
    }
    if (sp_accept_kw(p, "PRIMARY")) {
        int desc = 0, autoinc;
        if (sp_expect_kw(p, "KEY") < 0)
            return -1;
        if (!sp_accept_kw(p, "ASC"))
            desc = sp_accept_kw(p, "DESC");
        if ((oc = sp_parse_onconf(p)) < 0)
            return -1;
        autoinc = sp_accept_kw(p, "AUTOINCREMENT");
        if (column_constraint_end(p) < 0)
            return -1;
        sch_keycol *kc = calloc(1, sizeof *kc);
        if (!kc)
            return sp_nomem(p);
        kc->col = ci;
        kc->desc = desc;
        return add_primary_key(p, b, kc, 1, desc, autoinc, oc);
    }
    if (sp_accept_kw(p, "UNIQUE")) {
        if ((oc = sp_parse_onconf(p)) < 0 || column_constraint_end(p) < 0)
            return -1;
        sch_keycol *kc = calloc(1, sizeof *kc);
        if (!kc)
            return sp_nomem(p);
        kc->col = ci;
        c->unique = 1;
        return add_cand(p, b, kc, 1, 0, oc);
    }
    if (sp_accept_kw(p, "CHECK")) {
        c->has_check = 1;
        return parse_check(p, b, ci) < 0 ? -1 : column_constraint_end(p);
    }
    if (sp_accept_kw(p, "REFERENCES")) {
        c->has_references = t->has_foreign_key = 1;
        sch_fkey fk;
        memset(&fk, 0, sizeof fk);
        const lx_token *target = sp_tok(p);
        if (sp_parse_fk_target(p, &fk) < 0) {
            sp_fkey_free(&fk);
            return -1;
        }
        if (fk.pcols && fk.ncols != 1) {
            char *pt = sp_tok_text(p, target);
            sp_fail(p, "foreign key on %s should reference only one column of table %s", c->name,
                    pt ? pt : "?");
            free(pt);
            sp_fkey_free(&fk);
            return -1;
        }
        fk.ncols = 1;
        if (!(fk.cols = calloc(1, sizeof *fk.cols))) {
            sp_fkey_free(&fk);
            return sp_nomem(p);
        }
        fk.cols[0] = ci;
        if (add_fkey(p, t, &fk) < 0)
            return -1;
        return column_constraint_end(p);
    }
    if (sp_accept_kw(p, "DEFERRABLE")) {
        int d = sp_parse_initially(p);
        if (d < 0)
            return -1;
        if (t->nfkeys)
            t->fkeys[t->nfkeys - 1].deferred = d;
        return column_constraint_end(p);
    }
    if (sp_accept_kw(p, "COLLATE")) {
        if (!sp_is_ids(sp_tok(p)))
            return sp_syntax_error(p);
        free(c->collation_name);
        c->collation_name = sp_tok_text(p, sp_tok(p));
        if (!c->collation_name)
            return -1;
        c->collation = sch_collation_of(c->collation_name);
        sp_advance(p);
        if (column_constraint_end(p) < 0)
            return -1;
        /* Like SQLite, give the column's own indexes made so far the collation.
         * They all have one key, so at most one of them is live (the others
         * merged into it), and each is looked at once. */
        for (int k = b->col_first_cand; k < b->ncand; k++)
            if (!b->cand[k].dropped)
                b->col_live = k;
        b->col_first_cand = b->ncand;
        if (b->col_live >= 0 && recollate_cand(p, b, b->col_live, c->collation_name) < 0)
            return -1;
        return 0;
    }
    if (sp_accept_kw(p, "GENERATED")) {
        if (sp_expect_kw(p, "ALWAYS") < 0)
            return -1;
        if (!sp_word_eq(sp_tok(p), "AS"))
            return sp_syntax_error(p);
    }
    if (sp_accept_kw(p, "AS"))
        return parse_generated(p, t, c);
    return sp_syntax_error(p);
}

static int parse_column_def(parser *p, table_builder *b)
{
    sch_table *t = b->t;
    if (t->ncols == b->cap_cols) {
        int ncap = b->cap_cols ? 2 * b->cap_cols : 8;
        sch_column *nc = realloc(t->cols, (size_t)ncap * sizeof *nc);
        if (!nc)
            return sp_nomem(p);
        t->cols = nc;
        b->cap_cols = ncap;
    }
    int ci = t->ncols++;
    sch_column *c = &t->cols[ci];
    forget_constraint_name(b);
    b->col_first_cand = b->ncand;
    b->col_live = -1;
    memset(c, 0, sizeof *c);
    c->collation = SCH_COLL_BINARY;
    if (!(c->collation_name = sp_dup_mem(p, "BINARY", 6)))
        return -1;
    if (sp_parse_nm(p, &c->name) < 0 || parse_type(p, c) < 0 || column_constraint_end(p) < 0)
        return -1;
    if (ci >= SCH_MAX_COLUMNS)
        return sp_fail(p, "too many columns on %s", t->name);
    for (int k = 0; k < ci; k++)
        if (sch_ident_eq(t->cols[k].name, c->name))
            return sp_fail(p, "duplicate column name: %s", c->name);
    while (sp_tok(p)->type != LX_COMMA && sp_tok(p)->type != LX_RP)
        if (parse_column_constraint(p, b, ci) < 0)
            return -1;
    return 0;
}

static int parse_table_constraint(parser *p, table_builder *b)
{
    sch_table *t = b->t;
    if (sp_accept_kw(p, "CONSTRAINT"))
        return parse_constraint_name(p, b);
    if (sp_accept_kw(p, "PRIMARY"))
        return sp_expect_kw(p, "KEY") < 0 ? -1 : parse_table_key_constraint(p, b, 1);
    if (sp_accept_kw(p, "UNIQUE"))
        return parse_table_key_constraint(p, b, 0);
    if (sp_accept_kw(p, "CHECK")) {
        if (parse_check(p, b, -1) < 0)
            return -1;
        return sp_parse_onconf(p) < 0 ? -1 : 0;
    }
    if (sp_accept_kw(p, "FOREIGN")) {
        t->has_foreign_key = 1;
        if (sp_expect_kw(p, "KEY") < 0)
            return -1;
        size_t cols_at = p->i;
        sch_fkey fk;
        memset(&fk, 0, sizeof fk);
        if (sp_parse_eidlist(p, NULL, 0) < 0 || sp_expect_kw(p, "REFERENCES") < 0 ||
            sp_parse_fk_target(p, &fk) < 0) {
            sp_fkey_free(&fk);
            return -1;
        }
        int deferred = 0;
        if (sp_word_eq(sp_tok(p), "NOT") && sp_word_eq(sp_ahead(p, 1), "DEFERRABLE")) {
            sp_advance(p);
            sp_advance(p);
            if (sp_parse_initially(p) < 0) {
                sp_fkey_free(&fk);
                return -1;
            }
        } else if (sp_accept_kw(p, "DEFERRABLE") && (deferred = sp_parse_initially(p)) < 0) {
            sp_fkey_free(&fk);
            return -1;
        }
        if (table_constraint_end(p) < 0) {
            sp_fkey_free(&fk);
            return -1;
        }
        /* Now check the child columns: walk the list again. */
        size_t end = p->i;
        p->i = cols_at;
        if (sp_parse_eidlist(p, t->cols, t->ncols) < 0) {
            sp_fkey_free(&fk);
            return -1;
        }
        size_t close = p->i - 1;
        p->i = end;
        int n = 1;
        for (size_t i = cols_at + 1; i < close; i++)
            if (p->t[i].type == LX_COMMA)
                n++;
        if (fk.pcols && fk.ncols != n) {
            sp_fkey_free(&fk);
            return sp_fail(p, "number of columns in foreign key does not match the number of "
                              "columns in the referenced table");
        }
        fk.ncols = n;
        fk.deferred = deferred;
        if (fk_child_cols(p, t, cols_at, close, &fk, n) < 0) {
            sp_fkey_free(&fk);
            return -1;
        }
        return add_fkey(p, t, &fk);
    }
    return sp_syntax_error(p);
}

/* ( coldef {, coldef} {[,] tcons} ) */
static int parse_table_body(parser *p, table_builder *b)
{
    if (sp_expect(p, LX_LP) < 0)
        return -1;
    for (;;) {
        if (parse_column_def(p, b) < 0)
            return -1;
        if (sp_accept(p, LX_RP))
            return 0;
        if (sp_expect(p, LX_COMMA) < 0)
            return -1;
        if (is_tcons_start(sp_tok(p)))
            break;
    }
    /* (A name given at the end of the last column applies to the first
     * table constraint: SQLite forgets it at each column's start and at
     * the commas between table constraints only.) */
    for (;;) {
        if (parse_table_constraint(p, b) < 0)
            return -1;
        if (sp_accept(p, LX_RP))
            return 0;
        if (sp_tok(p)->type == LX_COMMA)
            forget_constraint_name(b);
        if (sp_accept(p, LX_COMMA) && !is_tcons_start(sp_tok(p)))
            return sp_syntax_error(p);
        if (!is_tcons_start(sp_tok(p)))
            return sp_syntax_error(p);
    }
}

/* [WITHOUT ROWID | STRICT] {, ...}, compared as written, like SQLite. */
static int parse_table_options(parser *p, sch_table *t)
{
    const lx_token *x;
    if (sp_tok(p)->type == LX_EOF || sp_tok(p)->type == LX_SEMI)
        return 0;
    do {
        if (sp_accept_kw(p, "WITHOUT")) {
            x = sp_tok(p);
            if (sp_parse_nm(p, NULL) < 0)
                return -1;
            if (x->type != LX_ID || !sp_word_eq(x, "ROWID"))
                return sp_fail(p, "unknown table option: %.*s", (int)(x->n > 40 ? 40 : x->n), x->z);
            t->without_rowid = 1;
        } else {
            x = sp_tok(p);
            if (sp_parse_nm(p, NULL) < 0)
                return -1;
            if (!sp_word_eq(x, "STRICT"))
                return sp_fail(p, "unknown table option: %.*s", (int)(x->n > 40 ? 40 : x->n), x->z);
            t->strict = 1;
        }
    } while (sp_accept(p, LX_COMMA));
    return 0;
}

/* Declared types of a STRICT table: the type and the affinity it implies. */
static int apply_strict_types(parser *p, sch_table *t)
{
    static const struct {
        const char *name;
        int type, aff;
    } types[] = {{"INT", SCH_STRICT_INTEGER, SCH_AFF_INTEGER},
                 {"INTEGER", SCH_STRICT_INTEGER, SCH_AFF_INTEGER},
                 {"REAL", SCH_STRICT_REAL, SCH_AFF_REAL},
                 {"TEXT", SCH_STRICT_TEXT, SCH_AFF_TEXT},
                 {"BLOB", SCH_STRICT_BLOB, SCH_AFF_BLOB},
                 {"ANY", SCH_STRICT_ANY, SCH_AFF_BLOB}};
    for (int k = 0; k < t->ncols; k++) {
        sch_column *c = &t->cols[k];
        if (!c->decltype)
            return sp_fail(p, "missing datatype for %s.%s", t->name, c->name);
        for (size_t j = 0; j < sizeof types / sizeof *types && !c->strict_type; j++) {
            if (sch_ident_eq(c->decltype, types[j].name)) {
                c->strict_type = types[j].type;
                c->affinity = types[j].aff;
            }
        }
        if (!c->strict_type)
            return sp_fail(p, "unknown datatype for %s.%s: \"%s\"", t->name, c->name, c->decltype);
    }
    return 0;
}

/* Number the surviving candidates and move them to t->autoidx, leaving out
 * the primary key of a WITHOUT ROWID table (the table b-tree itself). */
static int build_autoindexes(parser *p, table_builder *b)
{
    sch_table *t = b->t;
    int num = 0;
    t->autoidx = calloc((size_t)(b->ncand ? b->ncand : 1), sizeof *t->autoidx);
    if (!t->autoidx)
        return sp_nomem(p);
    for (int k = 0; k < b->ncand; k++) {
        auto_cand *c = &b->cand[k];
        if (c->dropped)
            continue;
        num++;
        if (t->without_rowid && c->is_pk) {
            t->pk_onconflict = c->onconf; /* (a merged UNIQUE's clause counts) */
            continue;
        }
        sch_autoindex *ai = &t->autoidx[t->nauto++];
        ai->unique = 1;
        ai->ncols = c->ncols;
        ai->cols = c->cols;
        ai->is_pk = c->is_pk;
        ai->num = num;
        ai->onconflict = c->onconf;
        c->cols = NULL;
        c->ncols = 0;
    }
    return 0;
}

/* A WITHOUT ROWID key keeps the first of repeated (column, collation) pairs. */
static void dedup_pk(sch_table *t)
{
    int n = 0;
    for (int k = 0; k < t->npk; k++) {
        int dup = 0;
        for (int j = 0; j < n && !dup; j++)
            dup = t->pk[j].col == t->pk[k].col &&
                  sch_ident_eq(t->pk[j].collation_name, t->pk[k].collation_name);
        if (dup) {
            free(t->pk[k].collation_name);
            continue;
        }
        t->pk[n++] = t->pk[k];
    }
    t->npk = n;
}

static int finish_table(parser *p, table_builder *b)
{
    sch_table *t = b->t;
    int nstored = 0;
    for (int k = 0; k < t->ncols; k++) {
        t->cols[k].affinity = sch_affinity_of(t->cols[k].decltype);
        nstored += !t->cols[k].generated;
    }
    if (t->strict && apply_strict_types(p, t) < 0)
        return -1;
    if (t->without_rowid) {
        if (t->npk == 0)
            return sp_fail(p, "PRIMARY KEY missing on table %s", t->name);
        if (t->autoincrement)
            return sp_fail(p, "AUTOINCREMENT not allowed on WITHOUT ROWID tables");
        if (t->ipk >= 0) {
            /* SQLite turns the rowid alias back into a key index at the end,
             * on the bare column: a COLLATE written in the key is dropped. */
            sch_keycol *copy = keycols_copy(p, t->pk, t->npk);
            if (!copy)
                return -1;
            free(copy[0].collation_name);
            copy[0].collation_name = NULL;
            if (add_cand(p, b, copy, t->npk, 1, t->pk_onconflict) < 0)
                return -1;
            t->ipk = -1;
        }
        /* SQLite makes every key column of a WITHOUT ROWID table NOT NULL. */
        for (int k = 0; k < t->npk; k++)
            t->cols[t->pk[k].col].notnull = 1;
    }
    if (nstored == 0)
        return sp_fail(p, "must have at least one non-generated column");
    if (fill_collations(p, t, t->pk, t->npk) < 0)
        return -1;
    /* A primary key merged into an earlier UNIQUE index takes that index's
     * key order (ASC/DESC): the index is what SQLite keeps. */
    for (int k = 0; k < b->ncand; k++) {
        if (b->cand[k].is_pk && !b->cand[k].dropped) {
            sch_keycol *copy = keycols_copy(p, b->cand[k].cols, b->cand[k].ncols);
            if (!copy)
                return -1;
            sp_keycols_free(t->pk, t->npk);
            t->pk = copy;
            t->npk = b->cand[k].ncols;
        }
    }
    if (build_autoindexes(p, b) < 0)
        return -1;
    if (t->without_rowid)
        dedup_pk(t);
    return 0;
}

/* Name the module of a CREATE VIRTUAL TABLE in the error when it can. */
static int virtual_table_error(parser *p)
{
    for (size_t k = p->i; k + 1 < p->nt; k++) {
        if (sp_word_eq(&p->t[k], "USING") && sp_is_nm(&p->t[k + 1])) {
            const lx_token *m = &p->t[k + 1];
            return sp_fail(p, "CREATE VIRTUAL TABLE is not supported (module %.*s)",
                           (int)(m->n > 40 ? 40 : m->n), m->z);
        }
    }
    return sp_fail(p, "CREATE VIRTUAL TABLE is not supported");
}

static int parse_create_table(parser *p, table_builder *b)
{
    sch_table *t = b->t;
    if (sp_expect_kw(p, "CREATE") < 0)
        return -1;
    if (sp_accept_kw(p, "TEMP") || sp_accept_kw(p, "TEMPORARY"))
        t->temp = 1;
    if (sp_word_eq(sp_tok(p), "VIRTUAL"))
        return virtual_table_error(p);
    if (!sp_accept_kw(p, "TABLE")) {
        if (sp_word_eq(sp_tok(p), "INDEX") || sp_word_eq(sp_tok(p), "UNIQUE") ||
            sp_word_eq(sp_tok(p), "VIEW") || sp_word_eq(sp_tok(p), "TRIGGER"))
            return sp_fail(p, "not a CREATE TABLE statement");
        return sp_syntax_error(p);
    }
    if (sp_accept_kw(p, "IF")) {
        if (sp_expect_kw(p, "NOT") < 0 || sp_expect_kw(p, "EXISTS") < 0)
            return -1;
        t->if_not_exists = 1;
    }
    if (sp_parse_nm(p, &t->name) < 0)
        return -1;
    if (sp_accept(p, LX_DOT)) {
        t->schema_name = t->name;
        t->name = NULL;
        if (sp_parse_nm(p, &t->name) < 0)
            return -1;
    }
    if (sp_word_eq(sp_tok(p), "AS"))
        return sp_fail(p, "CREATE TABLE ... AS SELECT is not supported");
    if (parse_table_body(p, b) < 0 || parse_table_options(p, t) < 0 || sp_expect_end(p) < 0)
        return -1;
    return finish_table(p, b);
}

int sch_parse_table(sch_table *out, const char *sql, char *err, size_t errlen)
{
    parser p;
    table_builder b;
    int rc = -1;
    if (!out) {
        if (err && errlen)
            snprintf(err, errlen, "no output table");
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->ipk = -1;
    memset(&b, 0, sizeof b);
    b.t = out;
    if (sp_parser_init(&p, sql, err, errlen) == 0)
        rc = parse_create_table(&p, &b);
    sp_parser_done(&p);
    builder_free(&b);
    if (rc < 0) {
        sch_table_free(out);
        return -1;
    }
    return 0;
}

void sch_table_free(sch_table *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->schema_name);
    for (int k = 0; t->cols && k < t->ncols; k++) {
        sch_column *c = &t->cols[k];
        free(c->name);
        free(c->decltype);
        free(c->collation_name);
        free(c->dflt.p);
        free(c->gen_text);
    }
    free(t->cols);
    for (int k = 0; t->checks && k < t->nchecks; k++) {
        free(t->checks[k].name);
        free(t->checks[k].text);
    }
    free(t->checks);
    for (int k = 0; t->fkeys && k < t->nfkeys; k++)
        sp_fkey_free(&t->fkeys[k]);
    free(t->fkeys);
    sp_keycols_free(t->pk, t->npk);
    for (int k = 0; t->autoidx && k < t->nauto; k++)
        sp_keycols_free(t->autoidx[k].cols, t->autoidx[k].ncols);
    free(t->autoidx);
    memset(t, 0, sizeof *t);
    t->ipk = -1;
}
