/*
 * lex.c - tokenizer for the schema parser.
 *
 * Token rules (SQLite's, for what DDL uses):
 *   whitespace   space, \t, \n, \v, \f, \r
 *   comments     "--" to the end of the line or input; C-style comments, which
 *                must be closed (SQLite lets the last one run to the end; the
 *                SQL it stores never ends inside one, so folio calls it an error)
 *   identifiers  a letter, '_' or byte >= 0x80, then letters, digits, '_', '$',
 *                bytes >= 0x80; or quoted: "a""b", [a b], `a``b`
 *   strings      'it''s'
 *   blobs        x'0a1B' (even number of hex digits)
 *   numbers      123, 1.5, .5, 1., 1e10, 1.5E-3, 0x1F; a letter or digit right
 *                after a number makes it an unrecognized token; '_' between two
 *                digits is a digit separator (SQLite 3.46)
 *   variables    ?, ?12, :name, @name, $name
 *   operators    ( ) , . ; + - and the others SQLite knows (|| <= == -> ...)
 * Every loop advances through the input, so tokenizing ends after at most
 * len steps.
 */
#include "schema/lex.h"

#include <stdio.h>
#include <stdlib.h>

int lx_is_idchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || c >= 0x80;
}

static int is_idstart(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_xdigit(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int lx_is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Length of a run of digits (hex digits if hex) starting at z[i], allowing a
 * single '_' between two digits. */
static size_t digit_run(const char *z, size_t len, size_t i, int hex)
{
    size_t start = i;
    for (;;) {
        if (i < len && (hex ? is_xdigit((unsigned char)z[i]) : is_digit((unsigned char)z[i]))) {
            i++;
        } else if (i > start && i + 1 < len && z[i] == '_' &&
                   (hex ? is_xdigit((unsigned char)z[i + 1]) : is_digit((unsigned char)z[i + 1]))) {
            i++;
        } else {
            return i - start;
        }
    }
}

/* Scan a number starting at z[i] (a digit, or '.' followed by a digit). Sets
 * *type and returns its length; 0 if an identifier character follows it. */
static size_t scan_number(const char *z, size_t len, size_t i, int *type)
{
    size_t j = i;
    *type = LX_INTEGER;
    if (j + 2 < len && z[j] == '0' && (z[j + 1] == 'x' || z[j + 1] == 'X') &&
        is_xdigit((unsigned char)z[j + 2])) {
        j += 2;
        j += digit_run(z, len, j, 1);
    } else {
        j += digit_run(z, len, j, 0);
        if (j < len && z[j] == '.') {
            *type = LX_FLOAT;
            j++;
            j += digit_run(z, len, j, 0);
        }
        if (j < len && (z[j] == 'e' || z[j] == 'E')) {
            size_t k = j + 1;
            if (k < len && (z[k] == '+' || z[k] == '-'))
                k++;
            if (k < len && is_digit((unsigned char)z[k])) {
                *type = LX_FLOAT;
                j = k + digit_run(z, len, k, 0);
            }
        }
    }
    if (j < len && lx_is_idchar((unsigned char)z[j]))
        return 0;
    return j - i;
}

/* Length of the quoted token starting at z[i] with opening quote z[i];
 * 0 if it is not closed. Doubled closing quotes are escapes, except in []. */
static size_t scan_quoted(const char *z, size_t len, size_t i)
{
    char close = z[i] == '[' ? ']' : z[i];
    size_t j = i + 1;
    while (j < len) {
        if (z[j] == close) {
            if (close != ']' && j + 1 < len && z[j + 1] == close) {
                j += 2;
                continue;
            }
            return j + 1 - i;
        }
        j++;
    }
    return 0;
}

/* Length of the operator at z[i] and its type; 0 for an unrecognized byte. */
static size_t scan_operator(const char *z, size_t len, size_t i, int *type)
{
    char c = z[i];
    char d = i + 1 < len ? z[i + 1] : 0;
    *type = LX_OP;
    switch (c) {
    case '(':
        *type = LX_LP;
        return 1;
    case ')':
        *type = LX_RP;
        return 1;
    case ',':
        *type = LX_COMMA;
        return 1;
    case '.':
        *type = LX_DOT;
        return 1;
    case ';':
        *type = LX_SEMI;
        return 1;
    case '+':
        *type = LX_PLUS;
        return 1;
    case '-':
        if (d == '>')
            return i + 2 < len && z[i + 2] == '>' ? 3 : 2;
        *type = LX_MINUS;
        return 1;
    case '*':
    case '/':
    case '%':
    case '&':
    case '~':
        return 1;
    case '=':
        return d == '=' ? 2 : 1;
    case '<':
        return (d == '=' || d == '>' || d == '<') ? 2 : 1;
    case '>':
        return (d == '=' || d == '>') ? 2 : 1;
    case '!':
        return d == '=' ? 2 : 0;
    case '|':
        return d == '|' ? 2 : 1;
    default:
        return 0;
    }
}

/* The extent of the last unrecognized token (SQLite's TK_ILLEGAL). */
static _Thread_local size_t bad_len;

static void set_err(char *err, size_t errlen, const char *what, const char *z, size_t n)
{
    bad_len = n;
    if (err && errlen)
        snprintf(err, errlen, "%s: %.*s", what, (int)(n > 40 ? 40 : n), z);
}

/* Scan one token at z[i] (not whitespace or comment). Returns its length and
 * type, or 0 with a message in err. */
static size_t scan_token(const char *z, size_t len, size_t i, int *type, char *err, size_t errlen)
{
    unsigned char c = (unsigned char)z[i];
    size_t n;
    if ((c == 'x' || c == 'X') && i + 1 < len && z[i + 1] == '\'') {
        n = scan_quoted(z, len, i + 1);
        size_t nhex = n >= 2 ? n - 2 : 0;
        int ok = n >= 2 && nhex % 2 == 0;
        for (size_t k = 0; ok && k < nhex; k++)
            ok = is_xdigit((unsigned char)z[i + 2 + k]);
        if (!ok) {
            set_err(err, errlen, "unrecognized token", z + i, n ? n + 1 : len - i);
            return 0;
        }
        *type = LX_BLOB;
        return n + 1;
    }
    if (is_idstart(c)) {
        n = 1;
        while (i + n < len && lx_is_idchar((unsigned char)z[i + n]))
            n++;
        *type = LX_ID;
        return n;
    }
    if (is_digit(c) || (c == '.' && i + 1 < len && is_digit((unsigned char)z[i + 1]))) {
        n = scan_number(z, len, i, type);
        if (n == 0) {
            size_t m = 1;
            while (i + m < len && lx_is_idchar((unsigned char)z[i + m]))
                m++;
            set_err(err, errlen, "unrecognized token", z + i, m);
        }
        return n;
    }
    if (c == '\'' || c == '"' || c == '[' || c == '`') {
        n = scan_quoted(z, len, i);
        if (n == 0)
            set_err(err, errlen, c == '\'' ? "unterminated string" : "unterminated identifier",
                    z + i, len - i);
        *type = c == '\'' ? LX_STRING : LX_QID;
        return n;
    }
    if (c == '?') {
        n = 1;
        while (i + n < len && is_digit((unsigned char)z[i + n]))
            n++;
        *type = LX_VARIABLE;
        return n;
    }
    if (c == ':' || c == '@' || c == '$') {
        n = 1;
        while (i + n < len && lx_is_idchar((unsigned char)z[i + n]))
            n++;
        if (n == 1) {
            set_err(err, errlen, "unrecognized token", z + i, 1);
            return 0;
        }
        *type = LX_VARIABLE;
        return n;
    }
    n = scan_operator(z, len, i, type);
    if (n == 0)
        set_err(err, errlen, "unrecognized token", z + i, 1);
    return n;
}

/* Skip whitespace and comments from z[i]. Returns the new position, or
 * (size_t)-1 for an unterminated comment. */
static size_t skip_space(const char *z, size_t len, size_t i)
{
    while (i < len) {
        if (lx_is_space((unsigned char)z[i])) {
            i++;
        } else if (z[i] == '-' && i + 1 < len && z[i + 1] == '-') {
            while (i < len && z[i] != '\n')
                i++;
        } else if (z[i] == '/' && i + 1 < len && z[i + 1] == '*') {
            size_t j = i + 2;
            while (j + 1 < len && !(z[j] == '*' && z[j + 1] == '/'))
                j++;
            if (j + 1 >= len)
                return (size_t)-1;
            i = j + 2;
        } else {
            break;
        }
    }
    return i;
}

static int tokenize(const char *sql, size_t len, lx_token **out, size_t *nout, char *err,
                    size_t errlen, int keep_illegal)
{
    size_t cap = 16, n = 0, i = 0;
    lx_token *t = malloc(cap * sizeof *t);
    *out = NULL;
    *nout = 0;
    if (!t)
        goto nomem;
    for (;;) {
        i = skip_space(sql, len, i);
        if (i == (size_t)-1) {
            if (err && errlen)
                snprintf(err, errlen, "unterminated comment");
            free(t);
            return -1;
        }
        if (n + 1 >= cap) {
            lx_token *nt = realloc(t, 2 * cap * sizeof *t);
            if (!nt)
                goto nomem;
            t = nt;
            cap *= 2;
        }
        if (i >= len) {
            t[n].type = LX_EOF;
            t[n].z = sql + len;
            t[n].n = 0;
            *out = t;
            *nout = n + 1;
            return 0;
        }
        int type = LX_EOF;
        size_t m = scan_token(sql, len, i, &type, err, errlen);
        if (m == 0 && keep_illegal) {
            t[n].type = LX_ILLEGAL;
            t[n].z = sql + i;
            t[n].n = bad_len ? bad_len : 1;
            t[n + 1].type = LX_EOF;
            t[n + 1].z = sql + len;
            t[n + 1].n = 0;
            *out = t;
            *nout = n + 2;
            return 0;
        }
        if (m == 0) {
            free(t);
            return -1;
        }
        t[n].type = type;
        t[n].z = sql + i;
        t[n].n = m;
        n++;
        i += m;
    }
nomem:
    free(t);
    if (err && errlen)
        snprintf(err, errlen, "out of memory");
    return -1;
}

int lx_tokenize(const char *sql, size_t len, lx_token **out, size_t *nout, char *err, size_t errlen)
{
    return tokenize(sql, len, out, nout, err, errlen, 0);
}

int lx_tokenize_illegal(const char *sql, size_t len, lx_token **out, size_t *nout, char *err,
                        size_t errlen)
{
    return tokenize(sql, len, out, nout, err, errlen, 1);
}
