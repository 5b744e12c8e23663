/*
 * alter_sql.c - the SQL text of CREATE statements for ALTER TABLE: tokens,
 * where each stands (see alter_int.h), and edits of the text. How SQLite
 * edits the text, and why words can be found without a full parser, is told
 * at the top of alter.c.
 */
#include "db/alter_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- words and names ---- */

static int fold(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* The token is the bare word w (ASCII case-insensitive). */
int asql_word(const lx_token *t, const char *w)
{
    size_t n = strlen(w);
    if (t->type != LX_ID || t->n != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (fold((unsigned char)t->z[i]) != fold((unsigned char)w[i]))
            return 0;
    return 1;
}

int asql_is_quote(char c)
{
    return c == '"' || c == '\'' || c == '[' || c == '`';
}

/* Whether the dequoted text of a name token is `name` (ASCII case folded,
 * as SQLite compares names). */
int asql_tok_eq(const lx_token *t, const char *name)
{
    size_t nl = strlen(name), j = 0;
    if (t->type == LX_ID) {
        if (t->n != nl)
            return 0;
        for (size_t i = 0; i < nl; i++)
            if (fold((unsigned char)t->z[i]) != fold((unsigned char)name[i]))
                return 0;
        return 1;
    }
    if ((t->type != LX_QID && t->type != LX_STRING) || t->n < 2)
        return 0;
    char q = t->z[0] == '[' ? ']' : t->z[0];
    for (size_t i = 1; i + 1 < t->n; i++) {
        char c = t->z[i];
        if (c == q && q != ']')
            i++; /* a doubled quote is one */
        if (j >= nl || fold((unsigned char)c) != fold((unsigned char)name[j]))
            return 0;
        j++;
    }
    return j == nl;
}

/* The dequoted text of a name token, allocated. */
char *asql_tok_text(const lx_token *t)
{
    char *s = os_malloc(t->n + 1);
    if (!s)
        return NULL;
    if (t->type == LX_ID || t->n < 2 || !asql_is_quote(t->z[0])) {
        memcpy(s, t->z, t->n);
        s[t->n] = 0;
        return s;
    }
    char q = t->z[0] == '[' ? ']' : t->z[0];
    size_t o = 0;
    for (size_t i = 1; i + 1 < t->n; i++) {
        s[o++] = t->z[i];
        if (t->z[i] == q && q != ']')
            i++;
    }
    s[o] = 0;
    return s;
}

/* Whether `name` starts with the lower-case `prefix` (ASCII case folded). */
int asql_has_prefix(const char *name, const char *prefix)
{
    for (size_t i = 0; prefix[i]; i++)
        if (fold((unsigned char)name[i]) != prefix[i])
            return 0;
    return 1;
}

int asql_name_is_internal(const char *name)
{
    return asql_has_prefix(name, "sqlite_");
}

/* `"name"` with inner double quotes doubled (SQLite's %w), and a space after
 * it when the text it replaces is followed by a double quote. */
char *asql_quoted_name(const char *name, int space)
{
    size_t n = strlen(name), o = 0;
    char *s = os_malloc(2 * n + 4);
    if (!s)
        return NULL;
    s[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        s[o++] = name[i];
        if (name[i] == '"')
            s[o++] = '"';
    }
    s[o++] = '"';
    if (space)
        s[o++] = ' ';
    s[o] = 0;
    return s;
}

/* ---- edits of a statement's text ---- */

void asql_edits_free(edits *e)
{
    for (int i = 0; i < e->n; i++)
        os_free(e->v[i].text);
    os_free(e->v);
    memset(e, 0, sizeof *e);
}

/* Add an edit; takes `text` (freed on failure). */
int asql_edits_add(edits *e, size_t off, size_t n, char *text)
{
    if (!text)
        return FOLIO_NOMEM;
    if (e->n == e->cap) {
        int cap = e->cap ? e->cap * 2 : 8;
        edit *v = os_realloc(e->v, sizeof *v * (size_t)cap);
        if (!v) {
            os_free(text);
            return FOLIO_NOMEM;
        }
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n++] = (edit){off, n, text};
    return 0;
}

static int edit_cmp(const void *a, const void *b)
{
    const edit *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off ? 1 : (x->n > y->n) - (x->n < y->n);
}

/* The text with the edits made; an edit that starts inside an earlier one
 * (a word inside a column definition being cut out) is dropped. */
char *asql_edits_apply(const char *sql, edits *e)
{
    qsort(e->v, (size_t)e->n, sizeof *e->v, edit_cmp);
    size_t len = strlen(sql), total = len + 1;
    for (int i = 0; i < e->n; i++)
        total += strlen(e->v[i].text);
    char *out = os_malloc(total);
    if (!out)
        return NULL;
    size_t o = 0, at = 0;
    for (int i = 0; i < e->n; i++) {
        const edit *x = &e->v[i];
        if (x->off < at)
            continue;
        memcpy(out + o, sql + at, x->off - at);
        o += x->off - at;
        size_t tn = strlen(x->text);
        memcpy(out + o, x->text, tn);
        o += tn;
        at = x->off + x->n;
    }
    memcpy(out + o, sql + at, len - at);
    out[o + len - at] = 0;
    return out;
}

/* ---- a CREATE statement's tokens and what each one is ---- */

void asql_stmt_close(stmt *s)
{
    os_free(s->t);
    os_free(s->match);
    os_free(s->role);
    os_free(s->cls);
    os_free(s->aux);
    memset(s, 0, sizeof *s);
}

/* Tokenize; FOLIO_CORRUPT when the text is not a statement at all (its
 * parentheses do not match). */
int asql_stmt_open(stmt *s, const char *sql)
{
    memset(s, 0, sizeof *s);
    s->sql = sql;
    char err[128];
    if (lx_tokenize(sql, strlen(sql), &s->t, &s->n, err, sizeof err) < 0)
        return FOLIO_CORRUPT;
    s->match = os_calloc(s->n, sizeof *s->match);
    s->role = os_calloc(s->n, 1);
    s->cls = os_calloc(s->n, 1);
    s->aux = os_calloc(s->n, sizeof *s->aux);
    size_t *stack = os_malloc(sizeof *stack * s->n);
    if (!s->match || !s->role || !s->cls || !s->aux || !stack) {
        os_free(stack);
        asql_stmt_close(s);
        return FOLIO_NOMEM;
    }
    size_t depth = 0;
    int rc = 0;
    for (size_t i = 0; i < s->n; i++) {
        s->match[i] = NO_TOKEN;
        s->aux[i] = NO_TOKEN;
        if (s->t[i].type == LX_LP) {
            stack[depth++] = i;
        } else if (s->t[i].type == LX_RP) {
            if (depth == 0) {
                rc = FOLIO_CORRUPT;
                break;
            }
            size_t o = stack[--depth];
            s->match[o] = i;
            s->match[i] = o;
        }
    }
    os_free(stack);
    if (rc == 0 && depth)
        rc = FOLIO_CORRUPT;
    if (rc < 0)
        asql_stmt_close(s);
    return rc;
}

size_t asql_tok_off(const stmt *s, size_t k)
{
    return (size_t)(s->t[k].z - s->sql);
}

/* The words of an expression (or of a list of them: `keys`, where ASC and
 * DESC end an item) in tokens [a, b): columns, their table qualifiers. */
static void mark_expr(stmt *s, size_t a, size_t b, int role, int keys)
{
    for (size_t k = a; k < b; k++)
        s->role[k] = (uint8_t)role;
    for (size_t k = a; k < b; k++) {
        const lx_token *t = &s->t[k];
        if (asql_word(t, "AS")) { /* CAST(x AS type): the type up to the CAST's ")" */
            int depth = 0;
            size_t j = k + 1;
            for (; j < b; j++) {
                if (s->t[j].type == LX_LP)
                    depth++;
                else if (s->t[j].type == LX_RP && depth-- == 0)
                    break;
            }
            k = j;
            continue;
        }
        if (asql_word(t, "COLLATE")) {
            k++;
            continue;
        }
        if (t->type != LX_ID && t->type != LX_QID)
            continue;
        if (t->type == LX_ID && !lx_is_name(t))
            continue;
        if (s->t[k + 1].type == LX_LP) /* a function */
            continue;
        if (keys && t->type == LX_ID && k > a && (asql_word(t, "ASC") || asql_word(t, "DESC")) &&
            (k + 1 == b || s->t[k + 1].type == LX_COMMA))
            continue;
        if (s->t[k + 1].type == LX_DOT) {
            s->cls[k] = C_QUAL;
            continue;
        }
        s->cls[k] = C_COL;
        s->aux[k] = k >= a + 2 && s->t[k - 1].type == LX_DOT ? k - 2 : NO_TOKEN;
    }
}

/* REFERENCES at k - 1: the parent table at k, its columns after it. Returns
 * the last token of the clause's name part. */
static size_t mark_refs(stmt *s, size_t k, size_t b)
{
    if (k >= b)
        return k - 1;
    s->role[k] = R_FK_TABLE;
    if (k + 1 < b && s->t[k + 1].type == LX_LP && s->match[k + 1] != NO_TOKEN) {
        size_t e = s->match[k + 1];
        for (size_t j = k + 2; j < e; j++)
            if (s->t[j].type != LX_COMMA) {
                s->role[j] = R_FK_TO;
                s->aux[j] = k;
            }
        return e;
    }
    return k;
}

/* The constraints of a column definition, tokens [a, b). */
static void scan_coldef(stmt *s, size_t a, size_t b, uint8_t *unique)
{
    for (size_t k = a; k < b; k++) {
        const lx_token *t = &s->t[k];
        size_t m = s->t[k + 1].type == LX_LP ? s->match[k + 1] : NO_TOKEN;
        if (t->type == LX_LP) {
            k = s->match[k];
        } else if ((asql_word(t, "CHECK") || asql_word(t, "AS")) && m != NO_TOKEN) {
            mark_expr(s, k + 2, m, asql_word(t, "CHECK") ? R_CHECK : R_GEN, 0);
            k = m;
        } else if (asql_word(t, "DEFAULT") && !(k > a && asql_word(&s->t[k - 1], "SET"))) {
            if (m != NO_TOKEN)
                k = m;
            else if (s->t[k + 1].type == LX_PLUS || s->t[k + 1].type == LX_MINUS)
                k += 2;
            else
                k++;
        } else if (asql_word(t, "COLLATE") || asql_word(t, "CONSTRAINT")) {
            k++;
        } else if (asql_word(t, "UNIQUE")) {
            *unique = 1;
        } else if (asql_word(t, "REFERENCES")) {
            k = mark_refs(s, k + 1, b);
        }
    }
}

/* Table constraints, tokens [a, b). */
static void scan_tcons(stmt *s, size_t a, size_t b)
{
    for (size_t k = a; k < b; k++) {
        const lx_token *t = &s->t[k];
        if (t->type == LX_LP) {
            k = s->match[k];
        } else if (asql_word(t, "CONSTRAINT")) {
            k++;
        } else if (asql_word(t, "PRIMARY") && asql_word(&s->t[k + 1], "KEY") &&
                   s->t[k + 2].type == LX_LP) {
            mark_expr(s, k + 3, s->match[k + 2], R_TKEYS, 1);
            k = s->match[k + 2];
        } else if (asql_word(t, "UNIQUE") && s->t[k + 1].type == LX_LP) {
            mark_expr(s, k + 2, s->match[k + 1], R_TKEYS, 1);
            k = s->match[k + 1];
        } else if (asql_word(t, "CHECK") && s->t[k + 1].type == LX_LP) {
            mark_expr(s, k + 2, s->match[k + 1], R_CHECK, 0);
            k = s->match[k + 1];
        } else if (asql_word(t, "FOREIGN") && asql_word(&s->t[k + 1], "KEY") &&
                   s->t[k + 2].type == LX_LP) {
            for (size_t j = k + 3; j < s->match[k + 2]; j++)
                if (s->t[j].type != LX_COMMA)
                    s->role[j] = R_FK_FROM;
            k = s->match[k + 2];
        } else if (asql_word(t, "REFERENCES")) {
            k = mark_refs(s, k + 1, b);
        }
    }
}

void asql_tscan_free(tscan *ts)
{
    os_free(ts->coltok);
    os_free(ts->colend);
    os_free(ts->colunique);
    memset(ts, 0, sizeof *ts);
}

static int is_tcons_start(const lx_token *t)
{
    return asql_word(t, "CONSTRAINT") || asql_word(t, "PRIMARY") || asql_word(t, "UNIQUE") ||
           asql_word(t, "CHECK") || asql_word(t, "FOREIGN");
}

/* Scan a CREATE TABLE. FOLIO_CORRUPT when it is not one folio can read. */
int asql_scan_table(stmt *s, tscan *ts)
{
    memset(ts, 0, sizeof *ts);
    size_t i = 1;
    if (!asql_word(&s->t[0], "CREATE"))
        return FOLIO_CORRUPT;
    if (asql_word(&s->t[i], "TEMP") || asql_word(&s->t[i], "TEMPORARY"))
        i++;
    if (asql_word(&s->t[i], "VIRTUAL")) {
        ts->is_virtual = 1;
        return 0;
    }
    if (!asql_word(&s->t[i], "TABLE"))
        return FOLIO_CORRUPT;
    i++;
    if (asql_word(&s->t[i], "IF") && asql_word(&s->t[i + 1], "NOT") &&
        asql_word(&s->t[i + 2], "EXISTS"))
        i += 3;
    if (s->t[i].type != LX_EOF && s->t[i + 1].type == LX_DOT)
        i += 2;
    if (!lx_is_name(&s->t[i]) || s->t[i + 1].type != LX_LP || s->match[i + 1] == NO_TOKEN)
        return FOLIO_CORRUPT;
    ts->name = i;
    s->role[i] = R_TNAME;
    ts->lp = i + 1;
    ts->rp = s->match[ts->lp];
    ts->add_off = asql_tok_off(s, ts->rp);
    size_t maxcols = 1;
    for (size_t k = ts->lp + 1; k < ts->rp; k++)
        maxcols += s->t[k].type == LX_COMMA;
    ts->coltok = os_malloc(sizeof *ts->coltok * maxcols);
    ts->colend = os_malloc(sizeof *ts->colend * maxcols);
    ts->colunique = os_calloc(maxcols, 1);
    if (!ts->coltok || !ts->colend || !ts->colunique) {
        asql_tscan_free(ts);
        return FOLIO_NOMEM;
    }
    int cons = 0;
    for (size_t j = ts->lp + 1; j < ts->rp;) {
        size_t e = j;
        while (e < ts->rp && s->t[e].type != LX_COMMA) {
            if (s->t[e].type == LX_LP)
                e = s->match[e];
            e++;
        }
        if (!cons && j > ts->lp + 1 && is_tcons_start(&s->t[j])) {
            cons = 1;
            ts->add_off = asql_tok_off(s, j - 1); /* the comma before the constraints */
        }
        if (cons) {
            scan_tcons(s, j, e);
        } else {
            if (!lx_is_name(&s->t[j])) {
                asql_tscan_free(ts);
                return FOLIO_CORRUPT;
            }
            s->role[j] = R_COLNAME;
            ts->coltok[ts->ncols] = j;
            ts->colend[ts->ncols] = e;
            scan_coldef(s, j + 1, e, &ts->colunique[ts->ncols]);
            ts->ncols++;
        }
        j = e + 1;
    }
    if (ts->ncols == 0) {
        asql_tscan_free(ts);
        return FOLIO_CORRUPT;
    }
    return 0;
}

/* Scan a CREATE INDEX: the table after ON, the keys, the WHERE. */
int asql_scan_index(stmt *s)
{
    size_t i = 1;
    if (!asql_word(&s->t[0], "CREATE"))
        return FOLIO_CORRUPT;
    if (asql_word(&s->t[i], "UNIQUE"))
        i++;
    if (!asql_word(&s->t[i], "INDEX"))
        return FOLIO_CORRUPT;
    i++;
    if (asql_word(&s->t[i], "IF") && asql_word(&s->t[i + 1], "NOT") &&
        asql_word(&s->t[i + 2], "EXISTS"))
        i += 3;
    if (s->t[i].type != LX_EOF && s->t[i + 1].type == LX_DOT)
        i += 2;
    i++; /* the index's name */
    if (!asql_word(&s->t[i], "ON") || !lx_is_name(&s->t[i + 1]) || s->t[i + 2].type != LX_LP ||
        s->match[i + 2] == NO_TOKEN)
        return FOLIO_CORRUPT;
    s->role[i + 1] = R_IDX_ON;
    size_t rp = s->match[i + 2];
    mark_expr(s, i + 3, rp, R_IKEYS, 1);
    if (asql_word(&s->t[rp + 1], "WHERE")) {
        size_t end = rp + 2;
        while (s->t[end].type != LX_EOF && s->t[end].type != LX_SEMI)
            end++;
        mark_expr(s, rp + 2, end, R_WHERE, 0);
    }
    return 0;
}

/* Whether `def` has a column named by the token. */
int asql_has_column_tok(const sch_table *def, const lx_token *t)
{
    for (int c = 0; c < def->ncols; c++)
        if (asql_tok_eq(t, def->cols[c].name))
            return 1;
    return 0;
}

/* Double-quoted words of the expressions SQLite's quote fix walks (CHECK,
 * generated columns, index keys and WHERE) that name no column of `def`:
 * strings. */
void asql_mark_dqs(stmt *s, const sch_table *def)
{
    for (size_t k = 0; k < s->n; k++) {
        int r = s->role[k];
        if (s->cls[k] != C_COL || s->aux[k] != NO_TOKEN || s->t[k].type != LX_QID ||
            s->t[k].z[0] != '"')
            continue;
        if ((r == R_CHECK || r == R_GEN || r == R_IKEYS || r == R_WHERE) &&
            !asql_has_column_tok(def, &s->t[k]))
            s->cls[k] = C_DQS;
    }
}

char *asql_single_quoted(const lx_token *t)
{
    char *v = asql_tok_text(t);
    if (!v)
        return NULL;
    size_t n = strlen(v), o = 0;
    char *q = os_malloc(2 * n + 4);
    if (!q) {
        os_free(v);
        return NULL;
    }
    q[o++] = '\'';
    for (size_t i = 0; i < n; i++) {
        q[o++] = v[i];
        if (v[i] == '\'')
            q[o++] = '\'';
    }
    q[o++] = '\'';
    if (t->z[t->n] == '\'')
        q[o++] = ' ';
    q[o] = 0;
    os_free(v);
    return q;
}

/* The edits that turn each double-quoted string into a single-quoted one
 * (and a space after it when a quote follows, as SQLite writes it). */
int asql_quotefix_edits(const stmt *s, edits *e)
{
    for (size_t k = 0; k < s->n; k++) {
        if (s->cls[k] != C_DQS)
            continue;
        int rc = asql_edits_add(e, asql_tok_off(s, k), s->t[k].n, asql_single_quoted(&s->t[k]));
        if (rc < 0)
            return rc;
    }
    return 0;
}
