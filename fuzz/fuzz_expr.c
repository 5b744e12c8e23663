/*
 * fuzz_expr.c - SQLite expressions (src/expr) over arbitrary text: compiled
 * for a context chosen by the first byte, against a fixed table, then
 * evaluated over fixed rows with a context reused across inputs (its scratch
 * memory grows and is reused, as in the db layer). Nothing may crash, leak,
 * overflow or read a column it did not declare.
 */
#include "expr/expr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "folio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { NCOLS = 6, NROWS = 3 };

static const ex_column columns[NCOLS] = {
    {"id", SCH_AFF_INTEGER, SCH_COLL_BINARY, 0}, {"i", SCH_AFF_INTEGER, SCH_COLL_BINARY, 0},
    {"r", SCH_AFF_REAL, SCH_COLL_BINARY, 0},     {"x", SCH_AFF_TEXT, SCH_COLL_NOCASE, 0},
    {"b", SCH_AFF_BLOB, SCH_COLL_RTRIM, 0},      {"n", SCH_AFF_NUMERIC, SCH_COLL_BINARY, 1}};

typedef struct row {
    int64_t i;
    double r;
    const char *x;
    const uint8_t *b;
    size_t nb;
    int null_n;
} row;

static const uint8_t blob_bytes[] = {0x00, 0xff, 0x31, 0x2e};

static const row rows[NROWS] = {
    {INT64_MIN, -0.0, " 12 ", blob_bytes, sizeof blob_bytes, 0},
    {42, 1e308, "\xc3\xa9t\xc3\xa9", blob_bytes, 0, 1},
    {-1, 4.9e-324, "", blob_bytes, 1, 0},
};

static volatile uint8_t sink; /* reads of result bytes go here */
static const int *asked;      /* set per input: the columns the program declared */
static int nasked;

static int column(void *arg, int col, ex_value *out)
{
    const row *r = arg;
    int declared = 0;
    for (int k = 0; k < nasked; k++)
        declared |= asked[k] == col;
    if (!declared || col <= 0 || col >= NCOLS)
        abort(); /* a column the program did not declare, or the rowid alias */
    memset(out, 0, sizeof *out);
    switch (col) {
    case 1:
        out->type = EX_INTEGER;
        out->u.i = r->i;
        break;
    case 2:
        out->type = EX_REAL;
        out->u.r = r->r;
        break;
    case 3:
        out->type = EX_TEXT;
        out->u.s.p = (const uint8_t *)r->x;
        out->u.s.n = strlen(r->x);
        break;
    case 4:
        out->type = EX_BLOB;
        out->u.s.p = r->b;
        out->u.s.n = r->nb;
        break;
    default:
        out->type = r->null_n ? EX_NULL : EX_TEXT;
        out->u.s.p = (const uint8_t *)"1e5";
        out->u.s.n = 3;
        break;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned contexts[] = {EX_CHECK,     EX_INDEX_EXPR, EX_PARTIAL_WHERE,
                                        EX_GENERATED, EX_DEFAULT,    EX_FILTER};
    static ex_ctx *cx;
    if (!cx && ex_ctx_new(&cx))
        return 0;
    if (size == 0)
        return 0;
    unsigned flags = contexts[data[0] % (sizeof contexts / sizeof contexts[0])];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    ex_scope scope = {"t", columns, NCOLS, 0, 0, "n", NULL, 0, NULL, NULL};
    ex_prog *p = NULL;
    char err[256];
    if (ex_compile(&p, text, len, &scope, flags, err, sizeof err) != 0) {
        if (p || !memchr(err, 0, sizeof err) || !err[0])
            abort(); /* a failure has a message and no program */
        return 0;
    }
    const int *cols;
    int uses_rowid;
    nasked = ex_prog_columns(p, &cols, &uses_rowid);
    asked = cols;
    (void)ex_prog_is_constant(p);
    (void)ex_prog_is_volatile(p);
    (void)ex_prog_affinity(p);
    (void)ex_prog_collation(p);
    ex_ctx_set_now(cx, 1700000000000);
    /* Results up to SQLite's 1e9 bytes are legal (printf('%-590...s')) but
     * would exhaust the fuzzer's memory: a lower limit, as SQLite's
     * SQLITE_LIMIT_LENGTH allows. */
    ex_ctx_set_max_length(cx, 1u << 20);
    for (int k = 0; k < NROWS; k++) {
        ex_row r = {column, (void *)&rows[k], rows[k].i, NULL};
        ex_value v;
        if (ex_eval(p, cx, &r, &v) == 0) {
            (void)ex_truth(&v);
            if ((v.type == EX_TEXT || v.type == EX_BLOB) && v.u.s.n > 0) {
                /* The bytes must be readable. */
                for (uint64_t j = 0; j < v.u.s.n; j += 4096)
                    sink ^= v.u.s.p[j];
                sink ^= v.u.s.p[v.u.s.n - 1];
            }
        } else if (!ex_ctx_errmsg(cx)[0]) {
            abort(); /* an error has a message */
        }
    }
    ex_prog_free(p);
    return 0;
}
