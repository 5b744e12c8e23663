/*
 * csv_read.c: the CSV record reader of import (see csv.h for the format).
 *
 * Records are read line by line from a cli_input. A line without any quote
 * is split at its commas in place: the fields point into the line. Otherwise
 * an unquoted field is found with memchr, a quoted one copied run by run
 * between its quotes, and a line break inside quotes pulls in the next line;
 * field bytes then go to one buffer reused for every record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

/* Fields a record may have: more is a mistake (SQLite allows 32767 columns). */
#define CSV_MAX_FIELDS 32767

void csv_reader_init(csv_reader *r, cli_input *in)
{
    memset(r, 0, sizeof *r);
    r->in = in;
}

void csv_reader_free(csv_reader *r)
{
    cli_buf_free(&r->bytes);
    free(r->starts);
    free(r->ends);
    free(r->quoted);
    r->starts = NULL;
    r->ends = NULL;
    r->quoted = NULL;
    r->cap = 0;
}

const char *csv_field(const csv_reader *r, int i, size_t *out_n)
{
    *out_n = r->ends[i] - r->starts[i];
    return r->base ? r->base + r->starts[i] : "";
}

static int grow_fields(csv_reader *r, char *err, size_t errlen)
{
    if (r->cap >= CSV_MAX_FIELDS) {
        snprintf(err, errlen, "line %llu: more than %d fields", (unsigned long long)r->line,
                 CSV_MAX_FIELDS);
        return -1;
    }
    int cap = r->cap ? r->cap * 2 : 16;
    size_t *starts = realloc(r->starts, sizeof *starts * (size_t)cap);
    if (starts)
        r->starts = starts;
    size_t *ends = realloc(r->ends, sizeof *ends * (size_t)cap);
    if (ends)
        r->ends = ends;
    unsigned char *q = realloc(r->quoted, (size_t)cap);
    if (q)
        r->quoted = q;
    if (!starts || !ends || !q) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->cap = cap;
    return 0;
}

/* End the current field at the current end of the bytes. */
static int end_field(csv_reader *r, int quoted, char *err, size_t errlen)
{
    if (r->nfields == r->cap && grow_fields(r, err, errlen) != 0)
        return -1;
    r->starts[r->nfields] = r->nfields > 0 ? r->ends[r->nfields - 1] : 0;
    r->ends[r->nfields] = r->bytes.n;
    r->quoted[r->nfields] = (unsigned char)quoted;
    r->nfields++;
    return 0;
}

static int next_line(csv_reader *r, const char **p, size_t *n, char *err, size_t errlen)
{
    int got = input_line(r->in, p, n);
    if (got < 0)
        snprintf(err, errlen, "cannot read %s: %s", r->in->name, strerror(r->in->err));
    return got;
}

/* The rest of a quoted field from `*i` (just after the opening quote) in
 * line `p`, reading more lines while the field runs on. On return `*p`,
 * `*n` and `*i` describe the line and offset after the closing quote. */
static int read_quoted(csv_reader *r, const char **p, size_t *n, size_t *i, char *err,
                       size_t errlen)
{
    for (;;) {
        const char *q = memchr(*p + *i, '"', *n - *i);
        if (!q) {
            /* The field goes on past the end of this line. */
            cli_buf_put(&r->bytes, *p + *i, *n - *i);
            cli_buf_putc(&r->bytes, '\n');
            int got = next_line(r, p, n, err, errlen);
            if (got < 0)
                return -1;
            if (got == 0) {
                snprintf(err, errlen, "line %llu: unterminated quoted field",
                         (unsigned long long)r->line);
                return -1;
            }
            *i = 0;
            continue;
        }
        size_t at = (size_t)(q - *p);
        cli_buf_put(&r->bytes, *p + *i, at - *i);
        if (at + 1 < *n && (*p)[at + 1] == '"') { /* "" is one quote */
            cli_buf_putc(&r->bytes, '"');
            *i = at + 2;
            continue;
        }
        *i = at + 1;
        return 0;
    }
}

int csv_read_record(csv_reader *r, char *err, size_t errlen)
{
    const char *p;
    size_t n;
    int got = next_line(r, &p, &n, err, errlen);
    if (got <= 0)
        return got;
    r->line = r->in->line;
    r->bytes.n = 0;
    r->nfields = 0;
    size_t i = 0;
    if (r->line == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        i = 3; /* a byte order mark */
    /* No quotes: the fields are the pieces of the line between commas (one
     * pass over the bytes; a quote anywhere sends the line the long way). */
    size_t m = n > i && p[n - 1] == '\r' ? n - 1 : n; /* CRLF */
    size_t start = i, k = i;
    for (;; k++) {
        if (k < m && p[k] != ',') {
            if (p[k] == '"')
                break;
            continue;
        }
        if (r->nfields == r->cap && grow_fields(r, err, errlen) != 0)
            return -1;
        r->starts[r->nfields] = start;
        r->ends[r->nfields] = k;
        r->quoted[r->nfields] = 0;
        r->nfields++;
        if (k == m) {
            r->base = p;
            return 1;
        }
        start = k + 1;
    }
    r->nfields = 0;
    for (;;) {
        if (i < n && p[i] == '"') {
            i++;
            if (read_quoted(r, &p, &n, &i, err, errlen) != 0)
                return -1;
            if (end_field(r, 1, err, errlen) != 0)
                return -1;
            if (i == n || (i + 1 == n && p[i] == '\r'))
                break;
            if (p[i] != ',') {
                snprintf(err, errlen, "line %llu: unexpected character after a closing quote: '%c'",
                         (unsigned long long)r->in->line, p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?');
                return -1;
            }
            i++;
            continue;
        }
        const char *comma = memchr(p + i, ',', n - i);
        size_t end = comma ? (size_t)(comma - p) : n;
        size_t len = end - i;
        if (!comma && len > 0 && p[end - 1] == '\r')
            len--; /* CRLF */
        cli_buf_put(&r->bytes, p + i, len);
        if (end_field(r, 0, err, errlen) != 0)
            return -1;
        if (!comma)
            break;
        i = end + 1;
    }
    if (r->bytes.oom) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->base = r->bytes.p;
    return 1;
}
