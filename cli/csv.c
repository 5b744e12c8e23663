/*
 * csv.c: CSV output (see csv.h for the format; the reader is csv_read.c).
 */
#include <math.h>
#include <string.h>

#include "csv.h"
#include "jsonval.h"

static int needs_quotes(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
            return 1;
    return 0;
}

void csv_put_field(cli_buf *b, const void *p, size_t n)
{
    const unsigned char *s = p;
    if (n == 0)
        return;
    if (!needs_quotes(s, n)) {
        cli_buf_put(b, s, n);
        return;
    }
    cli_buf_putc(b, '"');
    size_t run = 0; /* start of the bytes not yet copied */
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '"')
            continue;
        cli_buf_put(b, s + run, i + 1 - run);
        cli_buf_putc(b, '"');
        run = i + 1;
    }
    cli_buf_put(b, s + run, n - run);
    cli_buf_putc(b, '"');
}

void csv_put_value(cli_buf *b, const folio_value *v)
{
    switch (v->type) {
    case FOLIO_INTEGER:
        jv_put_int(b, v->u.i);
        return;
    case FOLIO_REAL: {
        if (isnan(v->u.r))
            return; /* SQLite cannot store NaN; show it as NULL */
        char text[JV_REAL_MAX];
        size_t len = jv_format_real(text, v->u.r);
        cli_buf_put(b, text, len);
        return;
    }
    case FOLIO_TEXT:
        if (v->u.s.n == 0)
            cli_buf_put(b, "\"\"", 2);
        else
            csv_put_field(b, v->u.s.p, v->u.s.n);
        return;
    case FOLIO_BLOB:
        jv_put_hex(b, v->u.s.p, v->u.s.n);
        return;
    case FOLIO_NULL:
    default:
        return;
    }
}
