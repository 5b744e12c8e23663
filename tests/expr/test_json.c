/*
 * test_json.c - the JSON functions (src/expr/expr_json.c) against libsqlite3,
 * call for call in the same run.
 *
 * Every case is an expression tree of JSON function calls over literal
 * values. libsqlite3 evaluates it as SQL, `SELECT capture(<expr>)`, where
 * capture() records the value its argument arrives with (type, bytes or bit
 * pattern, subtype); folio calls the functions of ex_json_functions on the
 * same values. The two must agree on error or not, the error message, the
 * storage class, the value (reals bit for bit) and the subtype.
 *
 * Deterministic cases are written as SQL and parsed by a small parser here;
 * random cases (documents valid and malformed, paths valid and invalid,
 * values of every storage class with and without the JSON subtype, nested
 * calls) bind their literals as parameters. Random cases print seed=N;
 * FOLIO_SEED=N replays them, FOLIO_SOAK=1 runs twenty times as many.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "expr/expr_fn.h"
#include "folio.h"
#include "test_json_ctx.h"

/* Random cases per run, and the mismatches printed before giving up. */
#define RANDOM_CASES     20000
#define SOAK_FACTOR      20
#define MISMATCHES_SHOWN 12
#define MAX_ARGS         12

/* ---------------------------------------------------------------------------
 * Arena for one case: trees, literals, generated text.
 */

typedef struct arena_block {
    struct arena_block *next;
    max_align_t data[];
} arena_block;

static arena_block *g_arena;

static void *arena_alloc(size_t n)
{
    arena_block *b = malloc(sizeof(arena_block) + n + 1);
    cr_assert(b != NULL);
    b->next = g_arena;
    g_arena = b;
    return b->data;
}

static void arena_reset(void)
{
    while (g_arena) {
        arena_block *next = g_arena->next;
        free(g_arena);
        g_arena = next;
    }
}

static uint8_t *arena_copy(const void *p, size_t n)
{
    uint8_t *c = arena_alloc(n + 1);
    if (n)
        memcpy(c, p, n);
    c[n] = 0;
    return c;
}

/* A growable byte string. */
typedef struct str {
    char *p;
    size_t n, cap;
} str;

static void str_add(str *s, const void *p, size_t n)
{
    if (n == 0 && s->p)
        return;
    if (s->n + n + 1 > s->cap) {
        s->cap = (s->n + n + 1) * 2;
        s->p = realloc(s->p, s->cap);
        cr_assert(s->p != NULL);
    }
    if (n)
        memcpy(s->p + s->n, p, n);
    s->n += n;
    s->p[s->n] = 0;
}

static void str_cat(str *s, const char *z)
{
    str_add(s, z, strlen(z));
}

static void str_printf(str *s, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < sizeof buf);
    str_add(s, buf, (size_t)n);
}

/* ---------------------------------------------------------------------------
 * Expression trees.
 */

typedef struct tnode {
    int is_call;
    ex_value lit;   /* a literal (bound as a parameter, or written in SQL) */
    const char *fn; /* a call: the function's name in ex_json_functions */
    int argc;
    struct tnode *arg[MAX_ARGS];
} tnode;

static tnode *t_lit(ex_value v)
{
    tnode *t = arena_alloc(sizeof *t);
    memset(t, 0, sizeof *t);
    t->lit = v;
    return t;
}

static tnode *t_null(void)
{
    ex_value v = {.type = EX_NULL};
    return t_lit(v);
}

static tnode *t_int(int64_t i)
{
    ex_value v = {.type = EX_INTEGER, .u.i = i};
    return t_lit(v);
}

static tnode *t_real(double r)
{
    ex_value v = {.type = EX_REAL, .u.r = r};
    return t_lit(v);
}

static tnode *t_bytes(int type, const void *p, size_t n)
{
    ex_value v = {.type = type};
    v.u.s.p = arena_copy(p, n);
    v.u.s.n = n;
    return t_lit(v);
}

static tnode *t_text(const char *z)
{
    return t_bytes(EX_TEXT, z, strlen(z));
}

static tnode *t_call(const char *fn, int argc, tnode **args)
{
    tnode *t = arena_alloc(sizeof *t);
    memset(t, 0, sizeof *t);
    cr_assert(argc <= MAX_ARGS);
    t->is_call = 1;
    t->fn = fn;
    t->argc = argc;
    for (int i = 0; i < argc; i++)
        t->arg[i] = args[i];
    return t;
}

static tnode *t_call1(const char *fn, tnode *a)
{
    return t_call(fn, 1, &a);
}

static tnode *t_call2(const char *fn, tnode *a, tnode *b)
{
    tnode *args[2] = {a, b};
    return t_call(fn, 2, args);
}

static int is_operator(const char *fn)
{
    return fn[0] == '-';
}

/* The SQL of a tree; literals become parameters ?1, ?2, ... in `params`. */
static void tree_sql(const tnode *t, str *sql, const ex_value **params, int *nparams)
{
    if (!t->is_call) {
        params[*nparams] = &t->lit;
        (*nparams)++;
        str_printf(sql, "?%d", *nparams);
        return;
    }
    if (is_operator(t->fn)) {
        str_cat(sql, "(");
        tree_sql(t->arg[0], sql, params, nparams);
        str_printf(sql, " %s ", t->fn);
        tree_sql(t->arg[1], sql, params, nparams);
        str_cat(sql, ")");
        return;
    }
    str_printf(sql, "%s(", t->fn);
    for (int i = 0; i < t->argc; i++) {
        if (i)
            str_cat(sql, ", ");
        tree_sql(t->arg[i], sql, params, nparams);
    }
    str_cat(sql, ")");
}

/* ---------------------------------------------------------------------------
 * Evaluation: libsqlite3 and folio.
 */

typedef struct result {
    int err;
    char msg[4096];
    int type;
    unsigned subtype;
    int64_t i;
    double r;
    str bytes;
} result;

static sqlite3 *g_db;
static ex_ctx *g_cx;
static result g_captured;

static void capture_fn(sqlite3_context *c, int argc, sqlite3_value **argv)
{
    (void)argc;
    result *r = sqlite3_user_data(c);
    sqlite3_value *v = argv[0];
    r->bytes.n = 0;
    r->subtype = sqlite3_value_subtype(v);
    switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
        r->type = EX_INTEGER;
        r->i = sqlite3_value_int64(v);
        break;
    case SQLITE_FLOAT:
        r->type = EX_REAL;
        r->r = sqlite3_value_double(v);
        break;
    case SQLITE_TEXT: {
        r->type = EX_TEXT;
        const unsigned char *p = sqlite3_value_text(v);
        str_add(&r->bytes, p, (size_t)sqlite3_value_bytes(v));
        break;
    }
    case SQLITE_BLOB: {
        r->type = EX_BLOB;
        const void *p = sqlite3_value_blob(v);
        str_add(&r->bytes, p, (size_t)sqlite3_value_bytes(v));
        break;
    }
    default:
        r->type = EX_NULL;
        break;
    }
    sqlite3_result_null(c);
}

static void bind_value(sqlite3_stmt *st, int k, const ex_value *v)
{
    switch (v->type) {
    case EX_NULL:
        sqlite3_bind_null(st, k);
        break;
    case EX_INTEGER:
        sqlite3_bind_int64(st, k, v->u.i);
        break;
    case EX_REAL:
        sqlite3_bind_double(st, k, v->u.r);
        break;
    case EX_TEXT:
        sqlite3_bind_text(st, k, (const char *)v->u.s.p, (int)v->u.s.n, SQLITE_STATIC);
        break;
    default:
        sqlite3_bind_blob(st, k, v->u.s.p, (int)v->u.s.n, SQLITE_STATIC);
        break;
    }
}

/* Run `SELECT capture(<sql>)` with the parameters. */
static void sqlite_eval(const char *sql, const ex_value **params, int nparams, result *out)
{
    str q = {0};
    str_printf(&q, "SELECT capture(");
    str_cat(&q, sql);
    str_cat(&q, ")");
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(g_db, q.p, -1, &st, NULL);
    cr_assert(rc == SQLITE_OK, "prepare %s: %s", q.p, sqlite3_errmsg(g_db));
    for (int k = 0; k < nparams; k++)
        bind_value(st, k + 1, params[k]);
    g_captured.type = -1;
    rc = sqlite3_step(st);
    out->err = rc != SQLITE_ROW;
    out->msg[0] = 0;
    if (out->err) {
        snprintf(out->msg, sizeof out->msg, "%s", sqlite3_errmsg(g_db));
    } else {
        cr_assert(g_captured.type >= 0);
        out->type = g_captured.type;
        out->subtype = g_captured.subtype;
        out->i = g_captured.i;
        out->r = g_captured.r;
        out->bytes.n = 0;
        str_add(&out->bytes, g_captured.bytes.p ? g_captured.bytes.p : "", g_captured.bytes.n);
    }
    sqlite3_finalize(st);
    free(q.p);
}

static const ex_fn_def *find_fn(const char *name)
{
    for (const ex_fn_def *d = ex_json_functions; d->name; d++)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

static int folio_eval_tree(const tnode *t, ex_value *out)
{
    if (!t->is_call) {
        *out = t->lit;
        return 0;
    }
    ex_value args[MAX_ARGS];
    for (int i = 0; i < t->argc; i++) {
        int rc = folio_eval_tree(t->arg[i], &args[i]);
        if (rc != 0)
            return rc;
    }
    const ex_fn_def *d = find_fn(t->fn);
    cr_assert(d != NULL, "no function %s", t->fn);
    cr_assert(t->argc >= d->min_args && (d->max_args < 0 || t->argc <= d->max_args),
              "%s with %d arguments", t->fn, t->argc);
    memset(out, 0xa5, sizeof *out); /* a function must set all of it */
    return d->fn(g_cx, t->argc, args, out);
}

static void folio_eval(const tnode *t, result *out)
{
    ex_value v;
    tjc_reset(g_cx);
    int rc = folio_eval_tree(t, &v);
    out->err = rc != 0;
    out->msg[0] = 0;
    out->bytes.n = 0;
    if (rc != 0) {
        cr_assert(rc == FOLIO_ERROR || rc == FOLIO_NOMEM, "code %d", rc);
        snprintf(out->msg, sizeof out->msg, "%s", tjc_errmsg(g_cx));
        cr_assert(out->msg[0] != 0, "an error without a message");
        return;
    }
    out->type = v.type;
    out->subtype = v.subtype;
    switch (v.type) {
    case EX_INTEGER:
        out->i = v.u.i;
        break;
    case EX_REAL:
        out->r = v.u.r;
        break;
    case EX_TEXT:
    case EX_BLOB:
        str_add(&out->bytes, v.u.s.n ? (const char *)v.u.s.p : "", (size_t)v.u.s.n);
        break;
    default:
        cr_assert(v.type == EX_NULL, "type %d", v.type);
        break;
    }
}

/* Do the two results agree? The JSON subtype matters on TEXT only: it is
 * what a JSON function reads from an argument. */
static int results_agree(const result *a, const result *b)
{
    if (a->err || b->err)
        return a->err == b->err && strcmp(a->msg, b->msg) == 0;
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case EX_INTEGER:
        return a->i == b->i;
    case EX_REAL:
        return memcmp(&a->r, &b->r, sizeof a->r) == 0;
    case EX_TEXT:
        if ((a->subtype == EX_SUBTYPE_JSON) != (b->subtype == EX_SUBTYPE_JSON))
            return 0;
        /* fall through */
    case EX_BLOB:
        return a->bytes.n == b->bytes.n && memcmp(a->bytes.p, b->bytes.p, a->bytes.n) == 0;
    default:
        return 1;
    }
}

static void describe(const result *r, str *s)
{
    static const char *const types[] = {"NULL", "INTEGER", "REAL", "TEXT", "BLOB"};
    if (r->err) {
        str_printf(s, "error '%s'", r->msg);
        return;
    }
    str_printf(s, "%s", types[r->type]);
    if (r->type == EX_INTEGER)
        str_printf(s, " %lld", (long long)r->i);
    if (r->type == EX_REAL)
        str_printf(s, " %.17g", r->r);
    if (r->type == EX_TEXT || r->type == EX_BLOB) {
        str_cat(s, r->type == EX_TEXT && r->subtype == EX_SUBTYPE_JSON ? " (json) '" : " '");
        for (size_t i = 0; i < r->bytes.n && i < 400; i++) {
            unsigned char c = (unsigned char)r->bytes.p[i];
            if (c < 0x20 || c >= 0x7f)
                str_printf(s, "\\x%02x", c);
            else
                str_add(s, &c, 1);
        }
        str_cat(s, "'");
    }
}

static void describe_params(const ex_value **params, int nparams, str *s)
{
    for (int k = 0; k < nparams; k++) {
        result r = {0};
        r.type = params[k]->type;
        r.i = params[k]->u.i;
        r.r = params[k]->u.r;
        if (r.type == EX_TEXT || r.type == EX_BLOB)
            str_add(&r.bytes, params[k]->u.s.n ? (const char *)params[k]->u.s.p : "",
                    (size_t)params[k]->u.s.n);
        str_printf(s, "  ?%d = ", k + 1);
        describe(&r, s);
        str_cat(s, "\n");
        free(r.bytes.p);
    }
}

static int g_mismatches;
static long g_compared;
/* What the compared cases came to: errors by message, results by type
 * (TEXT with the JSON subtype apart), so a run shows what it covered. */
static long g_errors_malformed, g_errors_path, g_errors_other, g_by_type[6];

/* Evaluate the tree both ways; print and count a disagreement. */
static int check_tree(const tnode *t, const char *label)
{
    str sql = {0};
    const ex_value *params[256];
    int nparams = 0;
    tree_sql(t, &sql, params, &nparams);
    cr_assert(nparams < 256);
    result want = {0}, got = {0};
    sqlite_eval(sql.p, params, nparams, &want);
    folio_eval(t, &got);
    g_compared++;
    if (want.err && strcmp(want.msg, "malformed JSON") == 0)
        g_errors_malformed++;
    else if (want.err && strncmp(want.msg, "JSON path error", 15) == 0)
        g_errors_path++;
    else if (want.err)
        g_errors_other++;
    else
        g_by_type[want.type == EX_TEXT && want.subtype == EX_SUBTYPE_JSON ? 5 : want.type]++;
    int ok = results_agree(&want, &got);
    if (!ok && g_mismatches++ < MISMATCHES_SHOWN) {
        str s = {0};
        str_printf(&s, "MISMATCH (%s)\n  %s\n", label, sql.p);
        describe_params(params, nparams, &s);
        str_cat(&s, "  sqlite: ");
        describe(&want, &s);
        str_cat(&s, "\n  folio:  ");
        describe(&got, &s);
        fprintf(stderr, "%s\n", s.p);
        free(s.p);
    }
    free(sql.p);
    free(want.bytes.p);
    free(got.bytes.p);
    return ok;
}

/* ---------------------------------------------------------------------------
 * A small parser of the SQL the deterministic cases are written in: calls,
 * 'text', X'blob', numbers, NULL, and the -> and ->> operators.
 */

typedef struct sqlp {
    const char *z;
    size_t i;
} sqlp;

static void sp_space(sqlp *p)
{
    while (p->z[p->i] == ' ' || p->z[p->i] == '\n')
        p->i++;
}

static tnode *sp_expr(sqlp *p);

static tnode *sp_primary(sqlp *p)
{
    sp_space(p);
    const char *z = p->z + p->i;
    if (z[0] == '\'') {
        str s = {0};
        size_t k = 1;
        for (;; k++) {
            cr_assert(z[k] != 0, "unterminated string in %s", p->z);
            if (z[k] == '\'') {
                if (z[k + 1] != '\'')
                    break;
                k++;
            }
            str_add(&s, &z[k], 1);
        }
        p->i += k + 1;
        tnode *t = t_bytes(EX_TEXT, s.p ? s.p : "", s.n);
        free(s.p);
        return t;
    }
    if ((z[0] == 'x' || z[0] == 'X') && z[1] == '\'') {
        uint8_t buf[256];
        size_t n = 0, k = 2;
        for (; z[k] != '\''; k += 2) {
            unsigned byte;
            cr_assert(sscanf(z + k, "%2x", &byte) == 1 && n < sizeof buf);
            buf[n++] = (uint8_t)byte;
        }
        p->i += k + 1;
        return t_bytes(EX_BLOB, buf, n);
    }
    if (z[0] == '-' || (z[0] >= '0' && z[0] <= '9')) {
        size_t k = z[0] == '-';
        int real = 0;
        while ((z[k] >= '0' && z[k] <= '9') || z[k] == '.' || z[k] == 'e' || z[k] == 'E' ||
               ((z[k] == '+' || z[k] == '-') && (z[k - 1] == 'e' || z[k - 1] == 'E'))) {
            real |= z[k] == '.' || z[k] == 'e' || z[k] == 'E';
            k++;
        }
        char num[64];
        cr_assert(k < sizeof num);
        memcpy(num, z, k);
        num[k] = 0;
        p->i += k;
        return real ? t_real(strtod(num, NULL)) : t_int(strtoll(num, NULL, 10));
    }
    if (strncmp(z, "NULL", 4) == 0) {
        p->i += 4;
        return t_null();
    }
    size_t k = 0;
    while ((z[k] >= 'a' && z[k] <= 'z') || z[k] == '_')
        k++;
    cr_assert(k > 0 && z[k] == '(', "cannot parse at: %s", z);
    char *name = arena_alloc(k + 1);
    memcpy(name, z, k);
    name[k] = 0;
    p->i += k + 1;
    tnode *args[MAX_ARGS];
    int argc = 0;
    sp_space(p);
    if (p->z[p->i] != ')') {
        for (;;) {
            cr_assert(argc < MAX_ARGS);
            args[argc++] = sp_expr(p);
            sp_space(p);
            if (p->z[p->i] != ',')
                break;
            p->i++;
        }
    }
    cr_assert(p->z[p->i] == ')', "expected ) at: %s", p->z + p->i);
    p->i++;
    return t_call(name, argc, args);
}

static tnode *sp_expr(sqlp *p)
{
    tnode *t = sp_primary(p);
    for (;;) {
        sp_space(p);
        const char *z = p->z + p->i;
        if (strncmp(z, "->>", 3) == 0) {
            p->i += 3;
            t = t_call2("->>", t, sp_primary(p));
        } else if (strncmp(z, "->", 2) == 0) {
            p->i += 2;
            t = t_call2("->", t, sp_primary(p));
        } else {
            return t;
        }
    }
}

static int check_sql(const char *sql)
{
    sqlp p = {sql, 0};
    tnode *t = sp_expr(&p);
    sp_space(&p);
    cr_assert(sql[p.i] == 0, "trailing text in %s", sql);
    int ok = check_tree(t, sql);
    arena_reset();
    return ok;
}

static void check_all(const char *const *cases, size_t n)
{
    int before = g_mismatches;
    for (size_t k = 0; k < n; k++)
        check_sql(cases[k]);
    cr_assert(g_mismatches == before, "%d of %zu cases differ from SQLite", g_mismatches - before,
              n);
}

#define CHECK_ALL(cases) check_all(cases, sizeof cases / sizeof cases[0])

/* ---------------------------------------------------------------------------
 * Setup.
 */

static void setup(void)
{
    cr_assert(sqlite3_open(":memory:", &g_db) == SQLITE_OK);
    cr_assert(sqlite3_create_function(g_db, "capture", 1, SQLITE_UTF8, &g_captured, capture_fn,
                                      NULL, NULL) == SQLITE_OK);
    g_cx = tjc_new();
    cr_assert(g_cx != NULL);
    g_mismatches = 0;
    g_compared = 0;
}

static void teardown(void)
{
    arena_reset();
    tjc_free(g_cx);
    sqlite3_close(g_db);
    free(g_captured.bytes.p);
    g_captured.bytes.p = NULL;
    g_captured.bytes.n = g_captured.bytes.cap = 0;
}

TestSuite(expr_json, .init = setup, .fini = teardown);

/* ---------------------------------------------------------------------------
 * Deterministic cases.
 */

Test(expr_json, harness_sees_differences)
{
    /* The comparison itself: a different value, type, subtype or message. */
    result a = {0}, b = {0};
    a.type = b.type = EX_TEXT;
    str_cat(&a.bytes, "[1]");
    str_cat(&b.bytes, "[1]");
    a.subtype = EX_SUBTYPE_JSON;
    cr_assert(!results_agree(&a, &b), "subtype ignored");
    b.subtype = EX_SUBTYPE_JSON;
    cr_assert(results_agree(&a, &b));
    b.bytes.n = 0;
    str_cat(&b.bytes, "[2]");
    cr_assert(!results_agree(&a, &b), "text ignored");
    a.type = b.type = EX_REAL;
    a.r = 0.0;
    b.r = -0.0;
    cr_assert(!results_agree(&a, &b), "the sign of zero ignored");
    a.err = b.err = 1;
    strcpy(a.msg, "malformed JSON");
    strcpy(b.msg, "JSON path error near ''");
    cr_assert(!results_agree(&a, &b), "message ignored");
    free(a.bytes.p);
    free(b.bytes.p);
    /* And through both engines: json_quote('a') is not json_quote('b'). */
    tnode *ta = t_call1("json_quote", t_text("a"));
    result want = {0}, got = {0};
    sqlite_eval("json_quote('b')", NULL, 0, &want);
    folio_eval(ta, &got);
    cr_assert(!results_agree(&want, &got));
    free(want.bytes.p);
    free(got.bytes.p);
}

Test(expr_json, table_matches_sqlite_function_list)
{
    /* Every scalar JSON function of libsqlite3, with its numbers of
     * arguments and determinism, is in the table, and nothing else is. */
    sqlite3_stmt *st;
    cr_assert(sqlite3_prepare_v2(g_db,
                                 "SELECT name, min(narg), max(narg), max(flags & 0x800) "
                                 "FROM pragma_function_list WHERE type = 's' AND "
                                 "(name LIKE 'json%' OR name LIKE '->%') GROUP BY name",
                                 -1, &st, NULL) == SQLITE_OK);
    size_t seen = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        int lo = sqlite3_column_int(st, 1), hi = sqlite3_column_int(st, 2);
        const ex_fn_def *d = find_fn(name);
        cr_assert(d != NULL, "%s is missing from ex_json_functions", name);
        if (lo == -1)
            cr_expect(d->max_args == -1, "%s takes any number of arguments", name);
        else
            cr_expect(d->min_args == lo && d->max_args == hi,
                      "%s takes %d..%d arguments, not %d..%d", name, lo, hi, d->min_args,
                      d->max_args);
        cr_expect(sqlite3_column_int(st, 3) != 0 && d->flags == 0, "%s is deterministic", name);
        seen++;
    }
    sqlite3_finalize(st);
    size_t entries = 0;
    while (ex_json_functions[entries].name)
        entries++;
    cr_assert(seen == entries, "libsqlite3 has %zu scalar JSON functions, the table %zu", seen,
              entries);
}

Test(expr_json, json_minifies_and_validates)
{
    static const char *const cases[] = {
        "json(' [1.0e5, -0, 1E+2 , \"\\u0041\", true,false , null] ')",
        "json('{\"a\" : { \"b\":[ ] , \"c\":{}}}')",
        "json('\"\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\\\\\\"\"')",
        "json('123456789012345678901234567890')",
        "json('-0.0e-0')",
        "json('1e400')",
        "json('  \"x\"  ')",
        "json('')",
        "json('   ')",
        "json('[1,]')",
        "json('{\"a\":1,}')",
        "json('[1 2]')",
        "json('{\"a\" 1}')",
        "json('{1:2}')",
        "json('{\"a\"}')",
        "json('[\"a\tb\"]')",
        "json('\"\\x\"')",
        "json('\"\\u12\"')",
        "json('\"\\u12g4\"')",
        "json('01')",
        "json('-01')",
        "json('0x10')",
        "json('1.')",
        "json('.5')",
        "json('-.5')",
        "json('1.e5')",
        "json('1e')",
        "json('1e+')",
        "json('1.5.5')",
        "json('-')",
        "json('+1')",
        "json('tru')",
        "json('truex')",
        "json('[true_]')",
        "json('nul')",
        "json('NULL')",
        "json('[1]x')",
        "json('{}{}')",
        "json(']')",
        "json('}')",
        "json('[')",
        "json('{\"a\":')",
        "json('{\"a\":\"b\",')",
        "json('''')",
        "json(NULL)",
        "json(1)",
        "json(-12)",
        "json(1.5)",
        "json(1e300)",
        "json(1e400)",
        "json(x'5b315d')",
        "json(x'')",
        "json(json('[1]'))",
        "json_valid('{\"a\":[1,{\"b\":null}]}')",
        "json_valid('[1,]')",
        "json_valid(NULL)",
        "json_valid('')",
        "json_valid(12)",
        "json_valid(1.5)",
        "json_valid(x'7b7d')",
        "json_valid('{[\"a\"]:1}')",
        "json_valid('{{\"a\":\"b\"}:1}')",
        "json_valid('{{\"a\":1}:1}')",
        "json_valid('{[]:1}')",
        "json_valid('{true:1}')",
    };
    CHECK_ALL(cases);
}

Test(expr_json, json5_and_other_extensions_are_malformed)
{
    /* JSON5 came in 3.42: 3.40 reads RFC 8259 only. */
    static const char *const cases[] = {
        "json('{a:1}')",
        "json('[1,/*c*/2]')",
        "json('[1]//c')",
        "json('Infinity')",
        "json('-Infinity')",
        "json('NaN')",
        "json('[nan]')",
        "json('''a''')",
        "json('[''a'']')",
        "json('\"\\x41\"')",
        "json('\"\\v\"')",
        "json('\"\\''\"')",
        "json('\"\\0\"')",
        "json('\"a\\\nb\"')",
        "json('0X1f')",
        "json('+0')",
        "json('1e5.')",
        "json('[1]\v')",
        "json('\f[1]')",
        "json('[\f1]')",
        "json('[1\v]')",
        "json('\xc2\xa0 1')",
        "json('[\"a\x1f"
        "b\"]')",
        "json('[\"a\x7f"
        "b\"]')",
        "json('[\"a\nb\"]')",
        "json('[\"a\rb\"]')",
        "json_valid('{a:1}')",
        "json_valid('[.5]')",
        "json_valid('[5.]')",
        "json_valid('[\"\\x41\"]')",
        "json_valid('Infinity')",
        "json_valid(' \t\n\r1\r\n\t ')",
        "json_valid('\v1')",
        "json_valid('\f1')",
        "json_extract('{a:1}', '$.a')",
        "json_set('[1,]', '$[0]', 2)",
        "json_type('NaN')",
        "'{a:1}' -> 'a'",
    };
    CHECK_ALL(cases);
}

Test(expr_json, member_names_that_are_containers)
{
    /* 3.40 accepts any value whose last node is a string as a name; these
     * stay inside the parse, where SQLite's node arithmetic is defined. */
    static const char *const cases[] = {
        "json('[{[\"a\"]:1},5]')",
        "json('{[\"x\",\"a\"]:1}')",
        "json_extract('[{[\"x\",\"a\"]:1},5]', '$[0].a')",
        "json_extract('{[\"x\",\"a\"]:1}', '$.a')",
        "json_extract('{[\"x\",\"a\"]:1}', '$.x')",
        "json_type('{[\"x\",\"a\"]:1}', '$.a')",
        "json_array_length('[{[\"a\"]:1},5]', '$[0]')",
        "json('[{{\"k\":\"a\"}:1},2]')",
    };
    CHECK_ALL(cases);
}

Test(expr_json, constructors_and_quoting)
{
    static const char *const cases[] = {
        "json_array()",
        "json_array(1, 2.5, 'x', NULL, -9223372036854775808)",
        "json_array(1e400, -1e400, 1.0, 1e15, 1e-5, 0.1, 123456789012345678)",
        "json_array('[1]', json('[1]'), json_array(1), json_object('a', 1))",
        "json_array(x'01')",
        "json_array(1, x'01', 2)",
        "json_array('a\"b\\c', '\n\t\r', 'é😀')",
        "json_array(json_quote('x'))",
        "json_array(json_extract('{\"a\":[1]}', '$.a'), json_extract('{\"a\":\"s\"}', '$.a'))",
        "json_array('{\"a\":[1,2]}' -> 'a', '{\"a\":[1,2]}' ->> 'a')",
        "json_object()",
        "json_object('a', 1, 'b', 'two', 'c', NULL, 'd', json('{}'))",
        "json_object('a', 1, 'a', 2)",
        "json_object('a')",
        "json_object('a', 1, 'b')",
        "json_object(1, 2)",
        "json_object(NULL, 2)",
        "json_object('a', x'00')",
        "json_object('a', x'01', 2, 3)",
        "json_object('a', 1, 2, x'01')",
        "json_object(x'61', 1)",
        "json_object(json('\"x\"'), 1)",
        "json_object('q\"k', 'v\"')",
        "json_quote('a\"b\\')",
        "json_quote(NULL)",
        "json_quote(12)",
        "json_quote(-0.0)",
        "json_quote(1e-5)",
        "json_quote(1e400)",
        "json_quote(123456789012345678)",
        "json_quote(json('[1, 2]'))",
        "json_quote('[1, 2]')",
        "json_quote(x'00')",
        "json_quote('')",
    };
    CHECK_ALL(cases);
}

Test(expr_json, extract_and_paths)
{
    static const char *const cases[] = {
        "json_extract('{\"a\":1}')",
        "json_extract('bad')",
        "json_extract('bad', '$')",
        "json_extract(NULL, '$')",
        "json_extract('[1]', NULL)",
        "json_extract('[1,2]', '$[1]', NULL)",
        "json_extract('[1,2]', '$[1]', '$[5]', '$')",
        "json_extract('{\"a\":1}', '$.a', '$x')",
        "json_extract('[1]', 0)",
        "json_extract('[1]', 1.5)",
        "json_extract('[1]', x'24')",
        "json_extract('{\"a\":{\"b\":[10,20,{\"c\":\"d\"}]}}', '$.a.b[2].c')",
        "json_extract('{\"a b\":1, \"a.b\":2, \"\":3}', '$.\"a b\"', '$.\"a.b\"', '$.\"\"')",
        "json_extract('{\"a\":1}', '$.')",
        "json_extract('1', '$.')",
        "json_extract('{\"a\":1}', '$..a')",
        "json_extract('{\"a\":1}', '$.\"a')",
        "json_extract('{\"a\":1}', '$a')",
        "json_extract('{\"a\":1}', 'a')",
        "json_extract('{\"a\":1}', '')",
        "json_extract('{\"a\":1}', '$ ')",
        "json_extract('{\"a\":1}', '$.b[')",
        "json_extract('{\"a\":[1]}', '$.a[')",
        "json_extract('{\"a\":[1]}', '$.a[0')",
        "json_extract('{\"a\":[1]}', '$.a[x]')",
        "json_extract('{\"a\":[1]}', '$.a[]')",
        "json_extract('{\"a\":[1]}', '$.a[-1]')",
        "json_extract('{\"it''s\":1}', '$.it''s[')",
        "json_extract('{\"a\":1}', '$x''y')",
        "json_extract('[0,1,2]', '$[#-1]', '$[#]', '$[#-4]', '$[#-0]', '$[#-3]')",
        "json_extract('[0,1,2]', '$[#-]')",
        "json_extract('[0,1,2]', '$[#+1]')",
        "json_extract('[0,1,2]', '$[#1]')",
        "json_extract('{}', '$[#-1]')",
        "json_extract('{}', '$[#x]')",
        "json_extract('{}', '$[0x]')",
        "json_extract('[0,1,2]', '$[4294967297]')",
        "json_extract('[0,1,2]', '$[#-4294967295]')",
        "json_extract('[0,1,2]', '$[00001]')",
        "json_extract('{\"\\u0061\":1}', '$.a', '$.\\u0061')",
        "json_extract('{\"a\":1,\"a\":2}', '$.a')",
        "json_extract('[1,[2,[3]]]', '$[1][1][0]')",
        "json_extract('[1.0e5, -0, -0.0, 1E2, 12345678901234567890]', '$[0]')",
        "json_extract('[1.0e5, -0, -0.0, 1E2, 12345678901234567890]', '$[1]')",
        "json_extract('[1.0e5, -0, -0.0, 1E2, 12345678901234567890]', '$[2]')",
        "json_extract('[1.0e5, -0, -0.0, 1E2, 12345678901234567890]', '$[3]')",
        "json_extract('[1.0e5, -0, -0.0, 1E2, 12345678901234567890]', '$[4]')",
        "json_extract('[9223372036854775807, 9223372036854775808]', '$[0]')",
        "json_extract('[9223372036854775807, 9223372036854775808]', '$[1]')",
        "json_extract('[-9223372036854775808, -9223372036854775809]', '$[0]')",
        "json_extract('[-9223372036854775808, -9223372036854775809]', '$[1]')",
        "json_extract('[922337203685477580, 9223372036854775799]', '$[1]')",
        "json_extract('[1e400, -1e400, 1e-400, -1e-400]', '$[0]', '$[1]')",
        "json_extract('[-1e-400]', '$[0]')",
        "json_extract('[1e-400]', '$[0]')",
        "json_extract('[1e400]', '$[0]')",
        "json_extract('[true,false,null]', '$[0]')",
        "json_extract('[true,false,null]', '$[1]')",
        "json_extract('[true,false,null]', '$[2]')",
        "json_extract('[\"a\\u0000b\"]', '$[0]')",
        "json_extract('[\"\\u00e9\\u0800\\uffff\\ud83d\\ude00\"]', '$[0]')",
        "json_extract('[\"\\ud800x\\udc00\\ud800\\u0041\"]', '$[0]')",
        "json_extract('[\"\\ud800\"]', '$[0]')",
        "json_extract('[\"\\ud800\\udbff\"]', '$[0]')",
        "json_extract('[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]', '$[0]')",
        "json_extract('{\"a\":[1,{\"b\":2}]}', '$.a')",
        "json_extract('{\"a\":\"x\"}', '$')",
        "json_extract('\"x\"', '$')",
    };
    CHECK_ALL(cases);
}

Test(expr_json, arrow_operators)
{
    static const char *const cases[] = {
        "'{\"a\":\"x\"}' -> 'a'",
        "'{\"a\":\"x\"}' ->> 'a'",
        "'[1,2]' -> '$'",
        "'{\"a b\":1}' -> 'a b'",
        "'{\"a\":{\"b\":2}}' -> 'a.b'",
        "'[[1,[2]]]' -> '[0][1]'",
        "'[5,6]' -> 1",
        "'[5,6]' ->> 1",
        "'[5,6]' -> -1",
        "'{\"-1\":3}' -> -1",
        "'[5,6]' -> '[1]'",
        "'[5,6]' -> 1.0",
        "'[5,6]' -> '1abc'",
        "'{\"$a\":1}' -> '$a'",
        "'{\"a\":1}' -> ''",
        "'[1]' -> ''",
        "'{\"a\":1}' -> NULL",
        "NULL -> 'a'",
        "'bad' -> NULL",
        "'{\"a\":[1,2]}' ->> 'a'",
        "'{\"a\":{\"b\":null}}' -> 'a' -> 'b'",
        "'{\"a\":{\"b\":null}}' ->> 'a' ->> 'b'",
        "'{\"a\":1}' -> x'61'",
        "'{\"a\":\"\\u0041\"}' -> 'a'",
        "'{\"a\":\"\\u0041\"}' ->> 'a'",
        "'{\"a\":1.50}' -> 'a'",
        "'{\"a\":1.50}' ->> 'a'",
        "'{\"a\":true}' ->> 'a'",
        "'{\"a\":1}' -> '\"a\"'",
        "'{\"a\":1}' -> '$.a'",
        "'[5,6]' -> 4294967296",
        "'[5,6]' -> 4294967297",
        "'[5,6]' ->> 9223372036854775807",
        "'[5,6]' ->> -9223372036854775808",
        "'{\"a\":1}' -> 0",
        "'{\"0\":1}' -> 0",
        "'[5,6]' -> '#-1'",
        "'[5,6]' -> '[#-1]'",
        "'[5,6]' -> ' 1'",
        "'{\" a\":1}' -> ' a'",
        "'[5,6]' -> 1e0",
        "'[5,6]' -> -0.0",
        "'{\"a\":[1]}' -> 'a[0]'",
        "'{\"a\":[1]}' -> 'a[0'",
        "'{\"a\":[1]}' ->> 'a[0'",
        "'bad' -> 'a'",
        "'bad' ->> 'a'",
        "'[1]' -> x'00'",
        "json_array('{\"a\":[1]}' -> 'a')",
        "json_array('{\"a\":[1]}' ->> 'a')",
    };
    CHECK_ALL(cases);
}

Test(expr_json, type_and_array_length)
{
    static const char *const cases[] = {
        "json_type('{\"a\":[1,2.5,\"x\",true,false,null,{}]}')",
        "json_type('{\"a\":[1,2.5,\"x\",true,false,null,{}]}', '$.a')",
        "json_type('{\"a\":[1,2.5,\"x\",true,false,null,{}]}', '$.a[0]')",
        "json_type('{\"a\":[1,2.5,\"x\",true,false,null,{}]}', '$.a[1]')",
        "json_type('{\"a\":[1,2.5,\"x\",true,false,null,{}]}', '$.a[2]')",
        "json_type('{\"a\":[1,2.5,\"x\",true,false,null,{}]}', '$.a[3]')",
        "json_type('{\"a\":[1,2.5,\"x\",true,false,null,{}]}', '$.a[4]')",
        "json_type('{\"a\":[1,2.5,\"x\",true,false,null,{}]}', '$.a[5]')",
        "json_type('{\"a\":[1,2.5,\"x\",true,false,null,{}]}', '$.a[6]')",
        "json_type('{\"a\":[1,2.5,\"x\",true,false,null,{}]}', '$.a[7]')",
        "json_type('1', NULL)",
        "json_type(NULL, '$')",
        "json_type('[1]', '$x')",
        "json_type('bad', NULL)",
        "json_type('1e5')",
        "json_type('-0')",
        "json_type(12)",
        "json_type(1.5)",
        "json_array_length('[1,[2,3],{\"a\":4}]')",
        "json_array_length('[1,[2,3],{\"a\":4}]', '$[1]')",
        "json_array_length('[1,[2,3],{\"a\":4}]', '$[2]')",
        "json_array_length('[1,[2,3],{\"a\":4}]', '$[9]')",
        "json_array_length('[1,[2,3],{\"a\":4}]', NULL)",
        "json_array_length('[]')",
        "json_array_length('{}')",
        "json_array_length('7')",
        "json_array_length('[1]', '$x')",
        "json_array_length('[1', NULL)",
        "json_array_length(NULL)",
    };
    CHECK_ALL(cases);
}

Test(expr_json, edits)
{
    static const char *const cases[] = {
        "json_set()",
        "json_insert()",
        "json_replace()",
        "json_remove()",
        "json_set('[1]')",
        "json_set('[1', '$', 1, '$')",
        "json_set('[1]', '$')",
        "json_insert('[1]', '$', 1, '$')",
        "json_replace('[1]', '$', 1, '$')",
        "json_set('[1]', NULL, 2)",
        "json_set(NULL, '$', 2)",
        "json_set('bad', '$', 2)",
        "json_set('{\"a\":1}', '$.a', 2, '$.b', 3)",
        "json_insert('{\"a\":1}', '$.a', 2, '$.b', 3)",
        "json_replace('{\"a\":1}', '$.a', 2, '$.b', 3)",
        "json_replace('1', '$', 2)",
        "json_replace('1', '$', x'01')",
        "json_replace('1', '$', NULL)",
        "json_set('{}', '$', 'abc')",
        "json_set('{}', '$', json('[1]'))",
        "json_array(json_set('{}', '$', '[1]'), json_set('{}', '$', json('[1]')))",
        "json_set('{}', '$.a', x'01')",
        "json_set('{}', '$.a', 1, '$.b', x'01', '$.c[', 1)",
        "json_set('{\"a\":{\"b\":1}}', '$.a', 1, '$.a.b[', 2)",
        "json_set('{\"a\":{\"b\":1}}', '$.a', json('{\"c\":5}'), '$.a.b', 2)",
        "json_set('{\"a\":{\"b\":1}}', '$.a', json('{\"c\":5}'), '$.a.d', 2)",
        "json_set('[1,2]', '$[#]', 3, '$[0]', 9)",
        "json_set('{\"a\":1}', '$.b', 3, '$.a', 9)",
        "json_set('[1,2]', '$[#]', 3, '$[#]', 4, '$[#]', 5)",
        "json_remove(json_set('[1,2]', '$[#]', 3), '$[0]')",
        "json_set('{\"a\":{\"b\":1}}', '$.a.c', 3, '$.a.b', 9)",
        "json_insert('[1,2]', '$[#]', 3)",
        "json_insert('[1,2]', '$[#-0]', 3)",
        "json_set('[1,2]', '$[#-3]', 3)",
        "json_set('[1,2]', '$[2]', 3, '$[3]', 4, '$[5]', 6)",
        "json_set('{}', '$.a.b.c', 1)",
        "json_set('{}', '$.a[0].c', 1)",
        "json_set('{}', '$.a[1].c', 1)",
        "json_set('[]', '$[0][0][0]', 1)",
        "json_set('[]', '$[0][#]', 1)",
        "json_set('{}', '$.a.', 1)",
        "json_set('{}', '$.a.\"b', 1)",
        "json_set('{}', '$.a\"b', 1, '$.a\"b', 2)",
        "json_set('{}', '$.\"a\\\"b\"', 1)",
        "json_set('{}', '$.\"x y\".z', json_array(1, 2))",
        "json_set('{\"a\":[1]}', '$.a[#]', json('{\"b\":[]}'), '$.a[1].b[0]', 'deep')",
        "json_set('[1]', '$[0]', 2, '$[0]', 3)",
        "json_insert('[1]', '$[1]', 2, '$[1]', 3)",
        "json_set('1', '$.a', 2)",
        "json_set('1', '$[0]', 2)",
        "json_set('{\"a\":1}', '$.a.b', 2)",
        "json_set('{\"a\":1}', '$.a[0]', 2)",
        "json_set('{\"a\":1}', '$', 2, '$.b', 3)",
        "json_set('{\"a\":1}', '$.b', 2, '$', 3)",
        "json_set('{\"x\":{}}', '$.x.a', 1, '$.x', 2)",
        "json_set('{\"a\":1}', 1, 2)",
        "json_set('{\"a\":1}', '$.b', 1.5, '$.c', -0.0, '$.d', 1e400)",
        "json_set('{\"a\":1}', '$.b', 'q\"uote', '$.c', json_quote('q'))",
        "json_remove('[0,1,2]', '$[0]', '$[0]')",
        "json_remove('[1]', '$')",
        "json_remove('[1]', NULL, '$[')",
        "json_remove('[1]', '$[', NULL)",
        "json_remove('[1]')",
        "json_remove('{\"a\":1,\"b\":2}', '$.a', '$.a', '$.c')",
        "json_remove('{\"a\":[1,2,3]}', '$.a[#-1]', '$.a[#-1]')",
        "json_remove('{\"a\":[1,2,3]}', '$.a[1]', '$.a[1]', '$.a[1]')",
        "json_remove(NULL, '$')",
        "json_remove('bad', '$')",
        "json_remove('[1,2]', '$[0]', '$.x', '$[0]')",
    };
    CHECK_ALL(cases);
}

Test(expr_json, patch)
{
    static const char *const cases[] = {
        "json_patch('{\"a\":1,\"b\":2}', '{\"b\":null,\"c\":3}')",
        "json_patch('{}', '{\"a\":1,\"a\":2}')",
        "json_patch('{\"a\":0}', '{\"a\":1,\"a\":2}')",
        "json_patch('{\"a\":0}', '{\"a\":null,\"a\":2}')",
        "json_patch('{\"a\":{\"b\":1}}', '{\"a\":{\"b\":null,\"c\":{\"d\":null,\"e\":1}}}')",
        "json_patch('{\"a\":{\"b\":1}}', '{\"x\":1,\"a\":{\"b\":null,\"c\":1}}')",
        "json_patch('{\"a\":[1]}', '{\"a\":{\"b\":null,\"c\":1}}')",
        "json_patch('[1]', '{\"a\":null,\"b\":{\"c\":null}}')",
        "json_patch('{\"a\":1}', '[1,null]')",
        "json_patch('{\"a\":1}', '7')",
        "json_patch('{\"a\":1}', 'null')",
        "json_patch('{\"a\":1,\"a\":2}', '{\"a\":3}')",
        "json_patch('{\"a\":{\"x\":1},\"a\":{\"y\":2}}', '{\"a\":{\"z\":3}}')",
        "json_patch('{\"a\":{}}', '{\"a\":{\"b\":{\"c\":{\"d\":1}}}}')",
        "json_patch(NULL, 'bad')",
        "json_patch('bad', NULL)",
        "json_patch('{}', NULL)",
        "json_patch('{}', 'bad')",
        "json_patch('{\"\\u0061\":1}', '{\"a\":2}')",
        "json_patch(json('{\"a\":1}'), json_object('b', json_array(1,2)))",
        "json_patch('{\"a\":1}', '{\"a\":{\"b\":[null]}}')",
    };
    CHECK_ALL(cases);
}

/* Containers nested `depth` deep, as text. */
static tnode *nested(const char *open, const char *close, int depth)
{
    str s = {0};
    for (int i = 0; i < depth; i++)
        str_cat(&s, open);
    str_cat(&s, "1");
    for (int i = 0; i < depth; i++)
        str_cat(&s, close);
    tnode *t = t_bytes(EX_TEXT, s.p, s.n);
    free(s.p);
    return t;
}

Test(expr_json, nesting_limit)
{
    static const struct {
        const char *open, *close;
    } kinds[] = {{"[", "]"}, {"{\"a\":", "}"}, {"[{\"a\":", "}]"}};
    int before = g_mismatches;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        int step = k == 2 ? 2 : 1;
        for (int depth = 1990 / step; depth <= 2010 / step; depth++) {
            tnode *doc = nested(kinds[k].open, kinds[k].close, depth);
            check_tree(t_call1("json_valid", doc), "nesting");
            check_tree(t_call1("json", doc), "nesting");
            arena_reset();
        }
    }
    /* json_set builds deeper than the parser reads: output still works. */
    str path = {0};
    str_cat(&path, "$");
    for (int i = 0; i < 3000; i++)
        str_cat(&path, i % 2 ? "[0]" : ".k");
    tnode *set = t_call("json_set", 3,
                        (tnode *[]){t_text("{}"), t_bytes(EX_TEXT, path.p, path.n), t_int(7)});
    check_tree(set, "deep json_set");
    check_tree(t_call1("json_valid", set), "deep json_set");
    check_tree(t_call2("json_extract", set, t_bytes(EX_TEXT, path.p, path.n)), "deep json_set");
    free(path.p);
    arena_reset();
    cr_assert(g_mismatches == before, "%d nesting cases differ", g_mismatches - before);
}

Test(expr_json, out_of_memory_is_an_error)
{
    /* Every scratch allocation that fails makes the call fail cleanly. */
    static const char *const cases[] = {
        "json_set('{\"a\":[1,2,{\"b\":\"\\u0041\"}]}', '$.a[#]', json('[1]'), '$.c.d', 2.5)",
        "json_patch('{\"a\":{\"b\":1}}', '{\"a\":{\"c\":null,\"d\":[1]},\"e\":1}')",
        "json_extract('{\"a\":[1,2,{\"b\":\"\\u0041\"}]}', '$.a', '$.a[2].b', '$.x')",
        "'{\"a\":[1.5e3,\"\\u0041\"]}' ->> '$.a[1]'",
        "json_object('a', 1.5, 'b', json_array(1, 'x'))",
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        sqlp p = {cases[k], 0};
        tnode *t = sp_expr(&p);
        int succeeded = 0;
        for (long n = 0; n < 200 && !succeeded; n++) {
            tjc_reset(g_cx);
            tjc_fail_scratch_after(g_cx, n);
            ex_value v;
            int rc = folio_eval_tree(t, &v);
            tjc_fail_scratch_after(g_cx, -1);
            if (rc == 0) {
                succeeded = 1;
            } else {
                cr_assert(rc == FOLIO_NOMEM, "%s with %ld allocations: %d %s", cases[k], n, rc,
                          tjc_errmsg(g_cx));
                cr_assert(strcmp(tjc_errmsg(g_cx), "out of memory") == 0);
            }
        }
        cr_assert(succeeded, "%s never succeeded", cases[k]);
        check_tree(t, cases[k]);
        arena_reset();
    }
    cr_assert(g_mismatches == 0);
}

/* ---------------------------------------------------------------------------
 * Random cases.
 */

static uint64_t g_rng;

static uint64_t rnd(void)
{
    /* xorshift64* */
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 2685821657736338717ull;
}

static unsigned rn(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static int chance(unsigned percent)
{
    return rn(100) < percent;
}

static const char *pick(const char *const *list, size_t n)
{
    return list[rn((unsigned)n)];
}

#define PICK(list) pick(list, sizeof list / sizeof list[0])

/* Member names, as JSON string contents and as path keys. */
static const char *const g_keys_json[] = {"a", "b",      "c",       "ab",       "a b",  "a.b",
                                          "",  "x\\\"y", "\\u0061", "\xc3\xa9", "it's", "a[0]"};
static const char *const g_keys_path[] = {"a",       "b",        "c",   "ab",      "\"a b\"",
                                          "\"a.b\"", "\"\"",     "x\\", "\\u0061", "\xc3\xa9",
                                          "it's",    "\"a[0]\"", "d"};

/* Set while a document meant to be malformed is written: numbers and
 * spaces that 3.40 refuses (and a few it accepts) come in. */
static int g_odd_tokens;

static void gen_space(str *s)
{
    static const char *const ws[] = {" ", "\t", "\n", "\r", "  ", " \n "};
    /* Not JSON's whitespace (JSON5's, or nobody's): malformed in 3.40. */
    static const char *const not_ws[] = {"\v", "\f", "\xc2\xa0", "\x01"};
    if (chance(15))
        str_cat(s, PICK(ws));
    else if (g_odd_tokens && chance(25))
        str_cat(s, PICK(not_ws));
}

static void gen_string_body(str *s)
{
    static const char *const pieces[] = {"a",
                                         "b",
                                         "xyz",
                                         " ",
                                         "\\\"",
                                         "\\\\",
                                         "\\/",
                                         "\\b",
                                         "\\f",
                                         "\\n",
                                         "\\r",
                                         "\\t",
                                         "\\u0041",
                                         "\\u00e9",
                                         "\\u0800",
                                         "\\uFFFF",
                                         "\\ud83d\\ude00",
                                         "\\uD800",
                                         "\\udc00",
                                         "\\ud800\\u0041",
                                         "\\u0000",
                                         "\\u001f",
                                         "\xc3\xa9",
                                         "\xf0\x9f\x98\x80",
                                         "'",
                                         "\x7f",
                                         "\xff",
                                         "\xc3",
                                         "\\u12ab"};
    unsigned n = rn(5);
    for (unsigned i = 0; i < n; i++)
        str_cat(s, PICK(pieces));
}

static void gen_number(str *s)
{
    static const char *const special[] = {"0",
                                          "-0",
                                          "0.0",
                                          "-0.0",
                                          "1",
                                          "-1",
                                          "1.5",
                                          "1.0e5",
                                          "1E+2",
                                          "1e-2",
                                          "2e0",
                                          "1e400",
                                          "-1e400",
                                          "1e-400",
                                          "-1e-400",
                                          "9223372036854775807",
                                          "9223372036854775808",
                                          "-9223372036854775808",
                                          "-9223372036854775809",
                                          "922337203685477580",
                                          "123456789012345678901234567890",
                                          "0.1",
                                          "3.14159265358979323846"};
    static const char *const odd[] = {"00",  "01",   "-01", "0x10",  "1.",    "-.5",  ".5",
                                      "1e",  "1e+",  "--1", "+1",    "0e5",   "0E-0", "-0e0",
                                      "1_0", "1.e3", "-",   "0.0.1", "1e5e5", "-0x1"};
    if (g_odd_tokens && chance(40)) {
        str_cat(s, PICK(odd)); /* malformed mostly: 0e5, 0E-0, -0e0 are not */
        return;
    }
    if (chance(50)) {
        str_cat(s, PICK(special));
        return;
    }
    if (chance(30))
        str_cat(s, "-");
    unsigned digits = 1 + rn(22);
    str_printf(s, "%u", 1 + rn(9));
    for (unsigned i = 1; i < digits; i++)
        str_printf(s, "%u", rn(10));
    if (chance(40)) {
        str_cat(s, ".");
        unsigned frac = 1 + rn(18);
        for (unsigned i = 0; i < frac; i++)
            str_printf(s, "%u", rn(10));
    }
    if (chance(30))
        str_printf(s, "%s%s%d", chance(50) ? "e" : "E",
                   chance(30)   ? "+"
                   : chance(50) ? "-"
                                : "",
                   (int)rn(400));
}

static void gen_value(str *s, int depth)
{
    gen_space(s);
    unsigned k = rn(depth > 0 ? 10 : 6);
    switch (k) {
    case 0:
        str_cat(s, PICK(((const char *const[]){"null", "true", "false"})));
        break;
    case 1:
    case 2:
        gen_number(s);
        break;
    case 3:
    case 4:
    case 5:
        str_cat(s, "\"");
        gen_string_body(s);
        str_cat(s, "\"");
        break;
    case 6:
    case 7: {
        str_cat(s, "[");
        unsigned n = rn(5);
        for (unsigned i = 0; i < n; i++) {
            if (i)
                str_cat(s, ",");
            gen_value(s, depth - 1);
        }
        gen_space(s);
        str_cat(s, "]");
        break;
    }
    default: {
        str_cat(s, "{");
        unsigned n = rn(5);
        for (unsigned i = 0; i < n; i++) {
            if (i)
                str_cat(s, ",");
            gen_space(s);
            str_printf(s, "\"%s\"", PICK(g_keys_json));
            gen_space(s);
            str_cat(s, ":");
            gen_value(s, depth - 1);
        }
        gen_space(s);
        str_cat(s, "}");
        break;
    }
    }
    gen_space(s);
}

/* Would SQLite read past its nodes? A container where a member name goes
 * (only mutations make one). */
static int has_container_name(const char *z, size_t n)
{
    char stack[64];
    int sp = 0, want_name = 0;
    for (size_t i = 0; i < n; i++) {
        char c = z[i];
        if (c == '"') {
            want_name = 0;
            for (i++; i < n && z[i] != '"'; i++)
                if (z[i] == '\\')
                    i++;
        } else if (c == '[' || c == '{') {
            if (sp > 0 && stack[sp - 1] == '{' && want_name)
                return 1;
            if (sp < (int)sizeof stack)
                stack[sp++] = c;
            want_name = c == '{';
        } else if (c == ']' || c == '}') {
            if (sp > 0)
                sp--;
            want_name = 0;
        } else if (c == ',') {
            want_name = sp > 0 && stack[sp - 1] == '{';
        } else if (c == ':') {
            want_name = 0;
        }
    }
    return 0;
}

/* Break a document: delete, insert, replace or cut bytes. */
static void mutate(str *s)
{
    static const char inserts[] = ",:[]{}\"\\ 0x-.eE+\t\f\v\x01aZu#'";
    unsigned edits = 1 + rn(2);
    for (unsigned e = 0; e < edits; e++) {
        size_t at = s->n ? rn((unsigned)s->n + 1) : 0;
        char c = inserts[rn(sizeof inserts - 1)];
        switch (rn(5)) {
        case 0:
            if (at < s->n) {
                memmove(s->p + at, s->p + at + 1, s->n - at - 1);
                s->n--;
            }
            break;
        case 1:
            str_add(s, "", 1);
            memmove(s->p + at + 1, s->p + at, s->n - at - 1);
            s->p[at] = c;
            break;
        case 2:
            if (at < s->n)
                s->p[at] = c;
            break;
        case 3:
            s->n = at;
            break;
        default:
            str_add(s, &c, 1);
            break;
        }
        if (s->p)
            s->p[s->n] = 0;
    }
}

static int g_skipped;

/* A JSON document: valid mostly, sometimes broken (pmalformed percent). */
static tnode *gen_doc(unsigned pmalformed, int depth)
{
    str s = {0};
    /* Broken one way or the other: odd numbers and spaces, or mutations. */
    int broken = chance(pmalformed), odd = broken && chance(35);
    g_odd_tokens = odd;
    gen_value(&s, depth);
    g_odd_tokens = 0;
    if (broken && !odd) {
        mutate(&s);
        if (has_container_name(s.p ? s.p : "", s.n))
            g_skipped++, s.n = 0; /* an empty text: malformed */
    }
    if (chance(2) && s.n > 0)
        s.p[rn((unsigned)s.n)] = 0; /* a NUL inside ends the text for SQLite */
    tnode *t = t_bytes(EX_TEXT, s.p ? s.p : "", s.n);
    free(s.p);
    return t;
}

static void gen_path_text(str *s)
{
    static const char *const bad[] = {"",  "[", "[x]", "[#-]",  "[-1]", "[1",    ".\"u",  "x",
                                      " ", ".", "[]",  "[#+1]", "'",    "[0x1]", "[#-x]", "..a"};
    if (!chance(8))
        str_cat(s, "$");
    unsigned n = rn(4);
    for (unsigned i = 0; i < n; i++) {
        unsigned k = rn(20);
        if (k < 9)
            str_printf(s, ".%s", PICK(g_keys_path));
        else if (k < 14)
            str_printf(s, "[%u]", rn(4));
        else if (k < 16)
            str_cat(s, "[#]");
        else if (k < 18)
            str_printf(s, "[#-%u]", rn(5));
        else
            str_printf(s, "[%s]", PICK(((const char *const[]){"10", "4294967296", "4294967297"})));
        if (chance(5))
            str_cat(s, PICK(bad));
    }
}

static tnode *gen_path(void)
{
    if (chance(4))
        return t_null();
    if (chance(2))
        return t_int((int64_t)rn(3));
    str s = {0};
    gen_path_text(&s);
    if (chance(2))
        str_add(&s, "\0[", 2); /* SQLite reads the path up to a NUL */
    tnode *t = t_bytes(EX_TEXT, s.p ? s.p : "", s.n);
    free(s.p);
    return t;
}

/* The right operand of -> and ->>. */
static tnode *gen_arrow_operand(void)
{
    switch (rn(6)) {
    case 0:
        return t_int((int64_t)rn(5) - 1);
    case 1:
        return t_text(PICK(((const char *const[]){"a", "b", "a b", "ab", "a.b", "[0]", "[#-1]", "0",
                                                  "1x", "", "\"a b\"", "$a", "c[1]"})));
    default:
        return gen_path();
    }
}

static tnode *gen_json_arg(int depth);

/* A value of any kind, for json_array, json_object, json_set... */
static tnode *gen_value_arg(int depth)
{
    static const int64_t ints[] = {0, 1, -1, 42, INT64_MAX, INT64_MIN, 9007199254740993};
    static const double reals[] = {
        0.0, -0.0, 1.5, -2.25, 0.1, 1e15, 1e16, 1e-5, 1e300, 123456789012345.6, 1e-320, 3.0e-308};
    switch (rn(depth > 0 ? 12 : 9)) {
    case 0:
        return t_null();
    case 1:
        return t_int(chance(50) ? ints[rn(sizeof ints / sizeof ints[0])] : (int64_t)rnd());
    case 2:
        if (chance(10))
            return t_real(chance(50) ? INFINITY : -INFINITY);
        if (chance(50))
            return t_real(reals[rn(sizeof reals / sizeof reals[0])]);
        {
            uint64_t bits = rnd();
            double r;
            memcpy(&r, &bits, sizeof r);
            return isnan(r) ? t_real(0.5) : t_real(r);
        }
    case 3:
    case 4: {
        str s = {0};
        gen_string_body(&s);
        if (chance(20))
            str_cat(&s, PICK(((const char *const[]){"[1]", "\"", "\x01\n", "{}"})));
        if (chance(10))
            str_add(&s, "\0z", 2);
        tnode *t = t_bytes(EX_TEXT, s.p ? s.p : "", s.n);
        free(s.p);
        return t;
    }
    case 5:
        return t_bytes(EX_BLOB, "\x01\x5b", rn(3));
    case 6:
    case 7:
        return t_call1("json", gen_doc(0, 2));
    case 8:
        return gen_json_arg(0);
    case 9:
        return t_call2("json_array", gen_value_arg(depth - 1), gen_value_arg(depth - 1));
    case 10:
        return t_call2("json_object", t_text(PICK(g_keys_json)), gen_value_arg(depth - 1));
    default:
        return chance(50) ? t_call2("json_extract", gen_doc(0, 3), gen_path())
                          : t_call2(chance(50) ? "->" : "->>", gen_doc(0, 3), gen_arrow_operand());
    }
}

/* The JSON argument: text mostly, sometimes a number, NULL, a BLOB, or
 * JSON made by another function. */
static tnode *gen_json_arg(int depth)
{
    switch (rn(20)) {
    case 0:
        return t_null();
    case 1:
        return t_int((int64_t)rn(100) - 50);
    case 2:
        return t_real(chance(50) ? 1.5 : 1e300);
    case 3:
        return t_bytes(EX_BLOB, "[1]", 3);
    case 4:
    case 5:
        return t_call1("json", gen_doc(0, depth + 2));
    default:
        return gen_doc(12, depth + 3);
    }
}

/* An object document for json_patch (with nulls to remove). */
static tnode *gen_patch_doc(void)
{
    if (chance(25))
        return gen_json_arg(0);
    str s = {0};
    str_cat(&s, "{");
    unsigned n = rn(5);
    for (unsigned i = 0; i < n; i++) {
        if (i)
            str_cat(&s, ",");
        str_printf(&s, "\"%s\":", PICK(g_keys_json));
        if (chance(30))
            str_cat(&s, "null");
        else if (chance(30)) {
            str_printf(&s, "{\"%s\":%s,\"%s\":", PICK(g_keys_json), chance(50) ? "null" : "1",
                       PICK(g_keys_json));
            gen_value(&s, 2);
            str_cat(&s, "}");
        } else {
            gen_value(&s, 2);
        }
    }
    str_cat(&s, "}");
    tnode *t = t_bytes(EX_TEXT, s.p, s.n);
    free(s.p);
    return t;
}

/* An array of numbers and one of them read back as an SQL value. */
static tnode *gen_number_case(void)
{
    str s = {0};
    str_cat(&s, "[");
    unsigned n = 1 + rn(4);
    for (unsigned i = 0; i < n; i++) {
        if (i)
            str_cat(&s, ",");
        gen_number(&s);
    }
    str_cat(&s, "]");
    tnode *doc = t_bytes(EX_TEXT, s.p, s.n);
    free(s.p);
    unsigned k = rn(n);
    if (chance(50))
        return t_call2("->>", doc, t_int((int64_t)k));
    char path[32];
    snprintf(path, sizeof path, "$[%u]", k);
    return t_call2("json_extract", doc, t_text(path));
}

static tnode *gen_case(void)
{
    static const char *const fns[] = {
        "json",        "json_array", "json_array_length", "json_extract", "json_insert",
        "json_object", "json_patch", "json_quote",        "json_remove",  "json_replace",
        "json_set",    "json_type",  "json_valid",        "->",           "->>"};
    if (chance(8))
        return gen_number_case();
    const char *fn = PICK(fns);
    tnode *args[MAX_ARGS];
    int argc = 0;
    if (strcmp(fn, "json") == 0 || strcmp(fn, "json_valid") == 0 || strcmp(fn, "json_quote") == 0) {
        args[argc++] = strcmp(fn, "json_quote") == 0 ? gen_value_arg(2) : gen_json_arg(0);
    } else if (strcmp(fn, "json_array") == 0) {
        unsigned n = rn(5);
        while (argc < (int)n)
            args[argc++] = gen_value_arg(2);
    } else if (strcmp(fn, "json_object") == 0) {
        unsigned n = 2 * rn(4) + (chance(5) ? 1 : 0);
        for (; argc < (int)n; argc++)
            args[argc] = argc % 2 == 0 && !chance(5) ? t_text(PICK(g_keys_json)) : gen_value_arg(2);
    } else if (strcmp(fn, "json_patch") == 0) {
        args[argc++] = gen_patch_doc();
        args[argc++] = gen_patch_doc();
    } else if (strcmp(fn, "json_type") == 0 || strcmp(fn, "json_array_length") == 0) {
        args[argc++] = gen_json_arg(0);
        if (chance(70))
            args[argc++] = gen_path();
    } else if (fn[0] == '-') {
        args[argc++] = gen_json_arg(0);
        args[argc++] = gen_arrow_operand();
    } else if (strcmp(fn, "json_extract") == 0 || strcmp(fn, "json_remove") == 0) {
        args[argc++] = gen_json_arg(0);
        unsigned n = chance(60) ? 1 : rn(5);
        for (unsigned i = 0; i < n; i++)
            args[argc++] = gen_path();
    } else { /* json_set, json_insert, json_replace */
        args[argc++] = gen_json_arg(0);
        unsigned pairs = rn(4);
        for (unsigned i = 0; i < pairs; i++) {
            args[argc++] = gen_path();
            args[argc++] = gen_value_arg(2);
        }
        if (chance(3))
            args[argc++] = gen_path();
    }
    tnode *t = t_call(fn, argc, args);
    /* Sometimes the result feeds another function. */
    if (chance(10))
        t = t_call2("json_array", t, gen_value_arg(0));
    return t;
}

static uint64_t seed_from_env(void)
{
    const char *e = getenv("FOLIO_SEED");
    if (e && *e)
        return strtoull(e, NULL, 10);
    return (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);
}

Test(expr_json, random_calls_match_sqlite, .timeout = 600)
{
    uint64_t seed = seed_from_env();
    const char *soak = getenv("FOLIO_SOAK");
    long cases = RANDOM_CASES * (soak && strcmp(soak, "1") == 0 ? SOAK_FACTOR : 1);
    printf("seed=%llu\n", (unsigned long long)seed);
    fflush(stdout);
    g_rng = seed ? seed : 1;
    g_skipped = 0;
    for (long k = 0; k < cases; k++) {
        tnode *t = gen_case();
        char label[64];
        snprintf(label, sizeof label, "seed=%llu case %ld", (unsigned long long)seed, k);
        check_tree(t, label);
        arena_reset();
    }
    printf("seed=%llu: %ld cases compared (%d documents skipped): errors %ld malformed, %ld "
           "path, %ld other; NULL %ld, INTEGER %ld, REAL %ld, TEXT %ld, JSON text %ld, BLOB %ld\n",
           (unsigned long long)seed, g_compared, g_skipped, g_errors_malformed, g_errors_path,
           g_errors_other, g_by_type[EX_NULL], g_by_type[EX_INTEGER], g_by_type[EX_REAL],
           g_by_type[EX_TEXT], g_by_type[5], g_by_type[EX_BLOB]);
    cr_assert(g_mismatches == 0, "seed=%llu: %d of %ld random cases differ from SQLite",
              (unsigned long long)seed, g_mismatches, g_compared);
}
