/*
 * fuzz_expr.c - SQLite expressions (src/expr) over arbitrary text: compiled
 * for a context chosen by the first byte, against a fixed table, then
 * evaluated over fixed rows with a context reused across inputs (its scratch
 * memory grows and is reused, as in the db layer). Nothing may crash, leak,
 * overflow or read a column it did not declare.
 *
 * The trigger contexts (EX_TRIGGER, and with EX_CONDITION) also have NEW and
 * OLD of the same table as sources, and tables t and u for subqueries,
 * scanned from fixed rows (a scan is refused past a budget of rows, so that
 * deeply nested subqueries end; that error must come back).
 */
#include "expr/expr.h"

#include <stdint.h>
#include <stdio.h>
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

/* Table u of the subqueries: (a INTEGER, v TEXT COLLATE NOCASE), 2 rows. */
enum { UCOLS = 2, UROWS = 2, MAX_SUBQ = 64, SCAN_BUDGET = 20000 };
static const ex_column ucolumns[UCOLS] = {{"a", SCH_AFF_INTEGER, SCH_COLL_BINARY, 0},
                                          {"v", SCH_AFF_TEXT, SCH_COLL_NOCASE, 0}};
static const ex_source sources[2] = {{"new", columns, NCOLS, 0, 0, 1},
                                     {"old", columns, NCOLS, 0, 0, 1}};

/* Where an evaluation is: the scope's row, NEW and OLD, each scan's row. */
typedef struct where {
    const row *top, *src[2];
    const ex_prog *p;
    int at[MAX_SUBQ]; /* -1 outside the subquery's scan */
    long visits;
} where;

static int table_lookup(void *arg, const char *name, ex_source *out, char *err, size_t errlen)
{
    (void)arg;
    if (strcmp(name, "t") == 0) {
        ex_source t = {"t", columns, NCOLS, 0, 0, 0};
        *out = t;
        return 0;
    }
    if (strcmp(name, "u") == 0) {
        ex_source u = {"u", ucolumns, UCOLS, -1, 0, 0};
        *out = u;
        return 0;
    }
    snprintf(err, errlen, "no such table: main.%s", name);
    return FOLIO_ERROR;
}

static void row_value(const row *r, int col, ex_value *out);

static int column(void *arg, int col, ex_value *out)
{
    const where *w = arg;
    int declared = 0;
    for (int k = 0; k < nasked; k++)
        declared |= asked[k] == col;
    if (!declared || col <= 0)
        abort(); /* a column the program did not declare, or the rowid alias */
    memset(out, 0, sizeof *out);
    if (col < NCOLS) {
        row_value(w->top, col, out);
        return 0;
    }
    const ex_subquery *q;
    int n = ex_prog_subqueries(w->p, &q);
    for (int s = 0; s < 2; s++) {
        int base = NCOLS + s * (NCOLS + 1);
        if (col == base)
            abort(); /* NEW's or OLD's rowid alias: its rowid slot is asked */
        if (col > base && col < base + NCOLS) {
            row_value(w->src[s], col - base, out);
            return 0;
        }
        if (col == base + NCOLS) {
            out->type = EX_INTEGER;
            out->u.i = w->src[s]->i;
            return 0;
        }
    }
    for (int s = 0; s < n && s < MAX_SUBQ; s++) {
        if (q[s].base < 0 || col < q[s].base || col > q[s].base + q[s].ncols)
            continue;
        int r = w->at[s];
        if (r < 0 || col == q[s].base + (q[s].ncols == NCOLS ? 0 : -1))
            abort(); /* outside its scan, or t's rowid alias */
        int c = col - q[s].base;
        if (c == q[s].ncols) {
            out->type = EX_INTEGER;
            out->u.i = q[s].ncols == NCOLS ? rows[r].i : 100 + r;
        } else if (q[s].ncols == NCOLS) {
            row_value(&rows[r], c, out);
        } else if (c == 0) {
            out->type = r ? EX_INTEGER : EX_NULL;
            out->u.i = r * 7;
        } else {
            out->type = EX_TEXT;
            out->u.s.p = (const uint8_t *)(r ? "abc" : "ABC ");
            out->u.s.n = r ? 3 : 4;
        }
        return 0;
    }
    abort(); /* a slot that is nobody's */
}

static int scan(void *arg, int subq, int (*visit)(void *), void *vctx)
{
    where *w = arg;
    const ex_subquery *q;
    int n = ex_prog_subqueries(w->p, &q);
    if (subq < 0 || subq >= n || subq >= MAX_SUBQ || !q[subq].table || w->at[subq] >= 0)
        abort(); /* no such subquery, no table, or scanned twice at once */
    int nrows = q[subq].ncols == NCOLS ? NROWS : UROWS, rc = 0;
    for (int r = 0; r < nrows && rc == 0; r++) {
        if (++w->visits > SCAN_BUDGET) {
            rc = FOLIO_ERROR;
            break;
        }
        w->at[subq] = r;
        rc = visit(vctx);
    }
    w->at[subq] = -1;
    return rc < 0 ? rc : 0;
}

static void row_value(const row *r, int col, ex_value *out)
{
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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned contexts[] = {
        EX_CHECK,   EX_INDEX_EXPR, EX_PARTIAL_WHERE, EX_GENERATED,
        EX_DEFAULT, EX_FILTER,     EX_TRIGGER,       EX_TRIGGER | EX_CONDITION};
    static ex_ctx *cx;
    if (!cx && ex_ctx_new(&cx))
        return 0;
    if (size == 0)
        return 0;
    unsigned flags = contexts[data[0] % (sizeof contexts / sizeof contexts[0])];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    ex_scope scope = {"t", columns, NCOLS, 0, 0, "n", NULL, 0, NULL, NULL, NULL, NULL};
    if (flags & EX_TRIGGER) {
        scope.sources = sources;
        scope.nsources = 2;
        scope.table_lookup = table_lookup;
    }
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
    /* Some inputs evaluate their rows as one statement: subqueries that are
     * not correlated run once. */
    if ((flags & EX_TRIGGER) && (data[0] / 8) % 2)
        ex_ctx_statement(cx);
    for (int k = 0; k < NROWS; k++) {
        where w;
        memset(&w, 0, sizeof w);
        w.top = &rows[k];
        w.src[0] = &rows[k];
        w.src[1] = &rows[(k + 1) % NROWS];
        w.p = p;
        for (int s = 0; s < MAX_SUBQ; s++)
            w.at[s] = -1;
        ex_row r = {column, &w, rows[k].i, scan};
        ex_value v;
        if (ex_eval(p, cx, &r, &v) == 0) {
            (void)ex_truth(&v);
            if ((v.type == EX_TEXT || v.type == EX_BLOB) && v.u.s.n > 0) {
                /* The bytes must be readable. */
                for (uint64_t j = 0; j < v.u.s.n; j += 4096)
                    sink ^= v.u.s.p[j];
                sink ^= v.u.s.p[v.u.s.n - 1];
            }
        } else if (!ex_ctx_errmsg(cx)[0] && ex_ctx_raised(cx) == EX_RAISE_NONE) {
            abort(); /* an error has a message (RAISE's may be empty, as SQLite's) */
        }
    }
    ex_prog_free(p);
    return 0;
}
