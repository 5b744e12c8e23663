/*
 * cmd_import.c: `folio import DB TABLE FILE|-`: rows from CSV or JSONL into
 * a table, all in one write transaction.
 *
 * CSV follows sqlite3's .import: every field is TEXT and the table's column
 * affinity (applied by the library) makes '12' an integer in an INTEGER
 * column; --create makes missing tables with TEXT columns. Unlike .import, a
 * record with the wrong number of fields stops the import. JSONL lines are
 * arrays of values in column order (the encoding of jsonval.h) or objects
 * {"column": value}. Any failure rolls the transaction back: the table is
 * left as it was, and a table that --create made is gone again.
 *
 * The input is read in large blocks (input.c); fields and values live in
 * buffers reused from row to row, so the loop allocates only while rows grow.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cli.h"
#include "csv.h"
#include "input.h"
#include "jsonval.h"
#include "progress.h"

#define IMPORT_ERR_MAX 1024

typedef struct import_opts {
    const char *db_path;
    const char *table;
    const char *file;
    int jsonl;
    int header;
    int create;
    int null_empty;
} import_opts;

typedef struct importer {
    const import_opts *o;
    folio_db *db;
    folio_txn *txn;
    folio_table *t; /* NULL until a table missing under --create is made */
    int ncols;
    cli_input in;
    cli_progress prog;
    uint64_t rows;
    folio_value *vals; /* one row's values, reused */
    int vals_cap;
    unsigned char *given; /* JSONL objects: which columns a line names */
    cli_arena arena;      /* JSONL: decoded hex bytes of one line */
    cli_buf sql;          /* CREATE TABLE statement */
    char err[IMPORT_ERR_MAX];
} importer;

/* Set the message ("line N: ..." when `lineno` > 0) and return -1. */
static int fail_at(importer *im, uint64_t lineno, const char *fmt, ...) CLI_PRINTF(3, 4);
static int fail_at(importer *im, uint64_t lineno, const char *fmt, ...)
{
    int len = 0;
    if (lineno > 0)
        len = snprintf(im->err, sizeof im->err, "line %llu: ", (unsigned long long)lineno);
    if (len < 0 || (size_t)len >= sizeof im->err)
        len = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(im->err + len, sizeof im->err - (size_t)len, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *db_message(const importer *im, int rc)
{
    const char *m = folio_errmsg(im->db);
    if (!m || !*m || strcmp(m, "not an error") == 0)
        m = folio_strerror(rc);
    return m;
}

static folio_value *reserve_values(importer *im, int n)
{
    if (n <= im->vals_cap)
        return im->vals;
    int cap = im->vals_cap ? im->vals_cap : 16;
    while (cap < n)
        cap *= 2;
    folio_value *v = realloc(im->vals, sizeof *v * (size_t)cap);
    if (!v)
        return NULL;
    unsigned char *g = realloc(im->given, (size_t)cap);
    if (!g) {
        im->vals = v;
        return NULL;
    }
    im->vals = v;
    im->given = g;
    im->vals_cap = cap;
    return v;
}

/* ---- Creating the table --------------------------------------------------------- */

/* Append `name` as a quoted SQL identifier. */
static void put_ident(cli_buf *b, const char *name, size_t n)
{
    cli_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '"')
            cli_buf_putc(b, '"');
        cli_buf_putc(b, name[i]);
    }
    cli_buf_putc(b, '"');
}

/* Start "CREATE TABLE "T"(" in im->sql. */
static void create_begin(importer *im)
{
    im->sql.n = 0;
    cli_buf_puts(&im->sql, "CREATE TABLE ");
    put_ident(&im->sql, im->o->table, strlen(im->o->table));
    cli_buf_putc(&im->sql, '(');
}

/* Append column `i` named `name` (NULL or empty: c<i+1>), typed `type`. */
static int create_column(importer *im, uint64_t lineno, int i, const char *name, size_t n,
                         const char *type)
{
    if (name && memchr(name, '\0', n))
        return fail_at(im, lineno, "column name %d contains a NUL character", i + 1);
    if (i > 0)
        cli_buf_puts(&im->sql, ", ");
    if (name && n > 0) {
        put_ident(&im->sql, name, n);
    } else {
        char gen[32];
        int len = snprintf(gen, sizeof gen, "c%d", i + 1);
        put_ident(&im->sql, gen, (size_t)len);
    }
    if (type) {
        cli_buf_putc(&im->sql, ' ');
        cli_buf_puts(&im->sql, type);
    }
    return 0;
}

/* Finish the statement, run it and open the new table. */
static int create_end(importer *im, uint64_t lineno)
{
    cli_buf_puts(&im->sql, ")");
    cli_buf_putc(&im->sql, '\0');
    if (im->sql.oom)
        return fail_at(im, lineno, "out of memory");
    int rc = folio_exec(im->txn, im->sql.p);
    if (rc < 0)
        return fail_at(im, lineno, "cannot create table %s: %s", im->o->table, db_message(im, rc));
    rc = folio_table_open(&im->t, im->txn, im->o->table);
    if (rc < 0)
        return fail_at(im, lineno, "%s", db_message(im, rc));
    im->ncols = folio_table_ncols(im->t);
    return 0;
}

/* ---- Rows ------------------------------------------------------------------------------ */

static int insert_row(importer *im, uint64_t lineno, int n)
{
    int rc = folio_insert(NULL, im->t, im->vals, n);
    if (rc < 0)
        return fail_at(im, lineno, "%s", db_message(im, rc));
    im->rows++;
    progress_update_sized(&im->prog, im->rows, im->in.pos);
    return 0;
}

/* ---- CSV ------------------------------------------------------------------------------- */

static int csv_create(importer *im, const csv_reader *r, int from_header)
{
    create_begin(im);
    for (int i = 0; i < r->nfields; i++) {
        size_t n = 0;
        const char *name = from_header ? csv_field(r, i, &n) : NULL;
        if (create_column(im, r->line, i, name, n, "TEXT") != 0)
            return -1;
    }
    return create_end(im, r->line);
}

static int import_csv(importer *im)
{
    csv_reader r;
    csv_reader_init(&r, &im->in);
    int rc = 0, got;
    int first = 1;
    while (rc == 0 && (got = csv_read_record(&r, im->err, sizeof im->err)) > 0) {
        if (first) {
            first = 0;
            if (!im->t && (rc = csv_create(im, &r, im->o->header)) != 0)
                break;
            if (im->o->header)
                continue;
        }
        if (r.nfields != im->ncols) {
            rc = fail_at(im, r.line, "expected %d field%s, got %d", im->ncols,
                         im->ncols == 1 ? "" : "s", r.nfields);
            break;
        }
        if (!reserve_values(im, r.nfields)) {
            rc = fail_at(im, r.line, "out of memory");
            break;
        }
        for (int i = 0; i < r.nfields; i++) {
            folio_value *v = &im->vals[i];
            size_t n;
            const char *p = csv_field(&r, i, &n);
            if (n == 0 && im->o->null_empty && !r.quoted[i]) {
                v->type = FOLIO_NULL;
                continue;
            }
            v->type = FOLIO_TEXT;
            v->u.s.p = p;
            v->u.s.n = n;
        }
        rc = insert_row(im, r.line, r.nfields);
    }
    if (rc == 0 && got < 0)
        rc = -1; /* csv_read_record() wrote the message */
    if (rc == 0 && first && !im->t)
        rc = fail_at(im, 0, "%s is empty: no %s to create table %s from", im->in.name,
                     im->o->header ? "header" : "row", im->o->table);
    csv_reader_free(&r);
    return rc;
}

/* ---- JSONL ------------------------------------------------------------------------------ */

static int jsonl_create(importer *im, const json_t *row, uint64_t lineno)
{
    create_begin(im);
    if (json_is_array(row)) {
        size_t n = json_array_size(row);
        if (n == 0)
            return fail_at(im, lineno, "cannot create table %s from an empty array", im->o->table);
        for (size_t i = 0; i < n; i++)
            if (create_column(im, lineno, (int)i, NULL, 0, NULL) != 0)
                return -1;
    } else {
        const char *key;
        json_t *value;
        int i = 0;
        if (json_object_size(row) == 0)
            return fail_at(im, lineno, "cannot create table %s from an empty object", im->o->table);
        json_object_foreach((json_t *)row, key, value)
        {
            (void)value;
            if (create_column(im, lineno, i++, key, strlen(key), NULL) != 0)
                return -1;
        }
    }
    return create_end(im, lineno);
}

/* Values of an array line, in column order. */
static int jsonl_array(importer *im, const json_t *row, uint64_t lineno, int *out_n)
{
    size_t n = json_array_size(row);
    if (n != (size_t)im->ncols)
        return fail_at(im, lineno, "expected %d value%s, got %zu", im->ncols,
                       im->ncols == 1 ? "" : "s", n);
    if (!reserve_values(im, (int)n))
        return fail_at(im, lineno, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char why[256];
        if (jv_decode_value(&im->vals[i], json_array_get(row, i), &im->arena, why, sizeof why))
            return fail_at(im, lineno, "value %zu: %s", i + 1, why);
    }
    *out_n = (int)n;
    return 0;
}

/* Values of an object line: named columns get their values; the others are
 * NULL, except those after the last named one, which get their defaults. */
static int jsonl_object(importer *im, const json_t *row, uint64_t lineno, int *out_n)
{
    if (!reserve_values(im, im->ncols))
        return fail_at(im, lineno, "out of memory");
    memset(im->given, 0, (size_t)im->ncols);
    int n = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)row, key, value)
    {
        int col = -1;
        for (int i = 0; i < im->ncols && col < 0; i++) {
            const char *name = folio_table_colname(im->t, i);
            if (name && strcasecmp(name, key) == 0)
                col = i;
        }
        if (col < 0)
            return fail_at(im, lineno, "table %s has no column named %s", im->o->table, key);
        if (im->given[col])
            return fail_at(im, lineno, "column %s given twice", key);
        char why[256];
        if (jv_decode_value(&im->vals[col], value, &im->arena, why, sizeof why) != 0)
            return fail_at(im, lineno, "%s: %s", key, why);
        im->given[col] = 1;
        if (col + 1 > n)
            n = col + 1;
    }
    for (int i = 0; i < n; i++)
        if (!im->given[i])
            im->vals[i].type = FOLIO_NULL;
    *out_n = n;
    return 0;
}

static int import_jsonl_line(importer *im, const char *line, size_t len, uint64_t lineno)
{
    json_error_t jerr;
    json_t *row = json_loadb(line, len, JV_LOAD_FLAGS, &jerr);
    if (!row)
        return fail_at(im, lineno, "invalid JSON: %s (column %d)", jerr.text, jerr.column);
    int rc = 0, n = 0;
    if (!json_is_array(row) && !json_is_object(row))
        rc = fail_at(im, lineno, "expected an array of values or an object of column values");
    if (rc == 0 && !im->t)
        rc = jsonl_create(im, row, lineno);
    if (rc == 0)
        rc = json_is_array(row) ? jsonl_array(im, row, lineno, &n)
                                : jsonl_object(im, row, lineno, &n);
    if (rc == 0)
        rc = insert_row(im, lineno, n);
    json_decref(row);
    cli_arena_reset(&im->arena);
    return rc;
}

static int is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    return 1;
}

static int import_jsonl(importer *im)
{
    const char *line;
    size_t n;
    int got;
    while ((got = input_line(&im->in, &line, &n)) > 0) {
        if (im->in.line == 1 && n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
            line += 3; /* a byte order mark */
            n -= 3;
        }
        if (is_blank(line, n))
            continue;
        if (import_jsonl_line(im, line, n, im->in.line) != 0)
            return -1;
    }
    if (got < 0)
        return fail_at(im, 0, "cannot read %s: %s", im->in.name, strerror(im->in.err));
    if (!im->t)
        return fail_at(im, 0, "%s is empty: no row to create table %s from", im->in.name,
                       im->o->table);
    return 0;
}

/* ---- The command ----------------------------------------------------------------------- */

/* Open the table, or leave im->t NULL when it is missing and --create. */
static int open_table(importer *im)
{
    int rc = folio_table_open(&im->t, im->txn, im->o->table);
    if (rc == FOLIO_NOTFOUND_ERR && im->o->create) {
        im->t = NULL;
        return 0;
    }
    if (rc == FOLIO_NOTFOUND_ERR)
        return fail_at(im, 0, "no such table: %s (--create makes it)", im->o->table);
    if (rc < 0)
        return fail_at(im, 0, "%s: cannot open table %s: %s", im->o->db_path, im->o->table,
                       db_message(im, rc));
    im->ncols = folio_table_ncols(im->t);
    return 0;
}

static int run_import(importer *im)
{
    int rc = folio_begin(&im->txn, im->db, FOLIO_TXN_WRITE);
    if (rc < 0) {
        im->txn = NULL;
        return fail_at(im, 0, "%s: cannot begin a write transaction: %s", im->o->db_path,
                       db_message(im, rc));
    }
    progress_start_sized(&im->prog, "import", im->in.size, "rows");
    rc = open_table(im);
    if (rc == 0)
        rc = im->o->jsonl ? import_jsonl(im) : import_csv(im);
    progress_finish(&im->prog);
    if (rc != 0) {
        folio_rollback(im->txn);
        im->txn = NULL;
        return -1;
    }
    rc = folio_commit(im->txn);
    im->txn = NULL;
    if (rc < 0)
        return fail_at(im, 0, "%s: cannot commit: %s", im->o->db_path, db_message(im, rc));
    return 0;
}

/* Whether `path` ends with `suffix`. */
static int ends_with(const char *path, const char *suffix)
{
    size_t n = strlen(path), k = strlen(suffix);
    return n >= k && strcasecmp(path + n - k, suffix) == 0;
}

int cmd_import(const cli_command *cmd, int argc, char **argv)
{
    import_opts o;
    memset(&o, 0, sizeof o);
    const char *format = NULL;
    const cli_opt opts[] = {{"--format", &format, NULL},
                            {"--header", NULL, &o.header},
                            {"--create", NULL, &o.create},
                            {"--null-empty", NULL, &o.null_empty},
                            {NULL, NULL, NULL}};
    char *pos[3];
    int npos = 0;
    int rc = cli_parse_args(cmd, argc, argv, opts, pos, 3, 3, &npos);
    if (rc != CLI_EXIT_OK)
        return rc;
    o.db_path = pos[0];
    o.table = pos[1];
    o.file = pos[2];
    if (!format)
        o.jsonl = ends_with(o.file, ".jsonl") || ends_with(o.file, ".ndjson");
    else if (strcmp(format, "jsonl") == 0)
        o.jsonl = 1;
    else if (strcmp(format, "csv") != 0)
        return cli_usage_error(cmd, "import: unknown format '%s' (expected csv or jsonl)", format);
    if (o.jsonl && (o.header || o.null_empty))
        return cli_usage_error(cmd, "import: %s applies to CSV input only",
                               o.header ? "--header" : "--null-empty");

    importer im;
    memset(&im, 0, sizeof im);
    im.o = &o;
    /* The input first: a missing input file must not create the database. */
    if (input_open(&im.in, o.file) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;
    if (cli_open_db(&im.db, o.db_path, o.create ? FOLIO_OPEN_CREATE : 0) != CLI_EXIT_OK) {
        input_close(&im.in);
        return CLI_EXIT_FAIL;
    }
    if (run_import(&im) != 0)
        rc = cli_fail("%s", im.err);
    int frc = folio_close(im.db);
    if (frc < 0 && rc == CLI_EXIT_OK)
        rc = cli_fail("%s: cannot close: %s", o.db_path, folio_strerror(frc));
    input_close(&im.in);
    free(im.vals);
    free(im.given);
    cli_arena_free(&im.arena);
    cli_buf_free(&im.sql);
    return rc;
}
