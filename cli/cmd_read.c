/*
 * cmd_read.c: the read commands of the folio tool: info, schema, tables,
 * dump, check and stats. Each opens the database read-only (so they work on
 * read-only files and media) and does its work in one read transaction, which
 * sees one consistent snapshot.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "csv.h"
#include "jsonval.h"
#include "progress.h"

/* Parse the arguments of a command of the form "DB [flags]". */
static int parse_db_only(const cli_command *cmd, int argc, char **argv, const cli_opt *opts,
                         const char **out_path)
{
    char *pos[1];
    int npos = 0;
    int rc = cli_parse_args(cmd, argc, argv, opts, pos, 1, 1, &npos);
    if (rc == CLI_EXIT_OK)
        *out_path = pos[0];
    return rc;
}

/* ---- JSON output through jansson (tables, stats) ------------------------- */

/* A JSON string for a name from the file; names that are not valid UTF-8
 * (which jansson rejects) get U+FFFD in place of the bad bytes. */
static json_t *json_name(const char *s)
{
    if (!s)
        return json_null();
    size_t n = strlen(s);
    if (jv_utf8_valid(s, n))
        return json_stringn(s, n);
    cli_buf b = CLI_BUF_INIT;
    jv_put_string_lossy(&b, s, n);
    json_t *j = b.oom ? NULL : json_loadb(b.p, b.n, JSON_DECODE_ANY, NULL);
    cli_buf_free(&b);
    return j;
}

static json_t *json_u64(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v);
}

/* Set key to value; a NULL value (out of memory) is remembered in *ok. */
static void json_put(json_t *obj, const char *key, json_t *value, int *ok)
{
    if (!value || json_object_set_new(obj, key, value) != 0)
        *ok = 0;
}

/* Print `root` (consumed) followed by a newline. */
static int print_json(json_t *root, int ok)
{
    char *text = ok && root ? json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(root);
    if (!text)
        return cli_fail("out of memory");
    int rc = cli_out_puts(text) == 0 && cli_out_puts("\n") == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    free(text);
    return rc;
}

/* ---- Collected b-tree statistics (tables, stats) ---------------------------- */

typedef struct stats_list {
    folio_btree_stats *v;
    size_t n, cap;
    int oom;
} stats_list;

static int collect_stats_cb(void *arg, const folio_btree_stats *s)
{
    stats_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        folio_btree_stats *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = 1;
            return 1; /* stop the walk */
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *s;
    return 0;
}

static int collect_stats(stats_list *l, cli_session *s)
{
    memset(l, 0, sizeof *l);
    int frc = folio_stats(s->txn, collect_stats_cb, l);
    if (l->oom)
        return cli_fail("out of memory");
    if (frc < 0)
        return cli_fail_db(s->db, frc, "%s: cannot read the b-tree statistics", s->path);
    return CLI_EXIT_OK;
}

static const folio_btree_stats *find_stats(const stats_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].name && strcmp(l->v[i].name, name) == 0)
            return &l->v[i];
    return NULL;
}

static uint64_t stats_pages(const folio_btree_stats *st)
{
    return st->interior_pages + st->leaf_pages + st->overflow_pages;
}

/* ---- info ----------------------------------------------------------------------- */

static const char *encoding_name(uint32_t enc)
{
    switch (enc) {
    case 1:
        return "UTF-8";
    case 2:
        return "UTF-16le";
    case 3:
        return "UTF-16be";
    default:
        return NULL;
    }
}

int cmd_info(const cli_command *cmd, int argc, char **argv)
{
    const char *path;
    int rc = parse_db_only(cmd, argc, argv, NULL, &path);
    if (rc != CLI_EXIT_OK)
        return rc;
    cli_session s;
    if (cli_session_open(&s, path) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;

    folio_info in;
    int frc = folio_info_get(&in, s.txn);
    if (frc < 0) {
        rc = cli_fail_db(s.db, frc, "%s: cannot read the header", path);
        return cli_session_close(&s, rc);
    }
    uint64_t version;
    if ((frc = folio_txn_version(s.txn, &version)) < 0) {
        rc = cli_fail_db(s.db, frc, "%s: cannot tell the version", path);
        return cli_session_close(&s, rc);
    }
    const char *enc = encoding_name(in.text_encoding);
    unsigned v = in.sqlite_version;
    cli_out_printf("version: %llu\n", (unsigned long long)version);
    cli_out_printf("page_size: %u\n", (unsigned)in.page_size);
    cli_out_printf("page_count: %u\n", (unsigned)in.page_count);
    cli_out_printf("freelist_pages: %u\n", (unsigned)in.freelist_pages);
    cli_out_printf("freelist_trunk: %u\n", (unsigned)in.freelist_trunk);
    cli_out_printf("change_counter: %u\n", (unsigned)in.change_counter);
    cli_out_printf("schema_cookie: %u\n", (unsigned)in.schema_cookie);
    cli_out_printf("schema_format: %u\n", (unsigned)in.schema_format);
    if (enc)
        cli_out_printf("text_encoding: %s\n", enc);
    else
        cli_out_printf("text_encoding: unknown (%u)\n", (unsigned)in.text_encoding);
    cli_out_printf("user_version: %u\n", (unsigned)in.user_version);
    cli_out_printf("application_id: %u\n", (unsigned)in.application_id);
    cli_out_printf("reserved_bytes: %u\n", (unsigned)in.reserved_bytes);
    cli_out_printf("autovacuum: %u\n", (unsigned)in.autovacuum);
    cli_out_printf("incremental_vacuum: %u\n", (unsigned)in.incremental_vacuum);
    cli_out_printf("write_version: %u\n", (unsigned)in.write_version);
    cli_out_printf("read_version: %u\n", (unsigned)in.read_version);
    cli_out_printf("journal_mode: %s\n", in.write_version == 2 ? "WAL" : "rollback");
    cli_out_printf("sqlite_version: %u (%u.%u.%u)\n", v, v / 1000000, v / 1000 % 1000, v % 1000);
    cli_out_printf("file_bytes: %llu\n", (unsigned long long)in.file_bytes);
    cli_out_printf("wal_bytes: %llu\n", (unsigned long long)in.wal_bytes);
    cli_out_printf("wal_frames: %u\n", (unsigned)in.wal_frames);
    cli_out_printf("wal_checkpoint_seq: %u\n", (unsigned)in.wal_checkpoint_seq);
    cli_out_printf("wal_backfilled: %u\n", (unsigned)in.wal_backfilled);
    if (in.checkpoint_note && in.checkpoint_note[0])
        cli_out_printf("checkpoint_note: %s\n", in.checkpoint_note);
    /* The shared WAL index: read marks, and who holds which lock. */
    cli_out_printf("read_marks:");
    for (int i = 0; i < 5; i++) {
        if (in.read_marks[i] == 0xffffffffu)
            cli_out_printf(" -");
        else
            cli_out_printf(" %u", (unsigned)in.read_marks[i]);
    }
    cli_out_printf("\nread_locks_held:");
    if (!in.read_locks)
        cli_out_printf(" none");
    for (int i = 0; i < 5; i++)
        if (in.read_locks & (1u << i))
            cli_out_printf(" READ%d", i);
    cli_out_printf("\nwrite_lock: %s\n",
                   in.write_holder && in.write_holder[0] ? in.write_holder : "free");
    cli_out_printf("checkpoint_lock: %s\n",
                   in.ckpt_holder && in.ckpt_holder[0] ? in.ckpt_holder : "free");
    return cli_session_close(&s, cli_out_failed() ? CLI_EXIT_FAIL : CLI_EXIT_OK);
}

/* ---- schema ------------------------------------------------------------------------ */

int cmd_schema(const cli_command *cmd, int argc, char **argv)
{
    const char *path;
    int rc = parse_db_only(cmd, argc, argv, NULL, &path);
    if (rc != CLI_EXIT_OK)
        return rc;
    cli_session s;
    if (cli_session_open(&s, path) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;

    int n = folio_schema_count(s.txn);
    if (n < 0)
        return cli_session_close(&s, cli_fail_db(s.db, n, "%s: cannot read the schema", path));
    for (int i = 0; i < n && rc == CLI_EXIT_OK; i++) {
        folio_schema_entry e;
        int frc = folio_schema_get(&e, s.txn, i);
        if (frc < 0) {
            rc = cli_fail_db(s.db, frc, "%s: cannot read schema entry %d", path, i);
            break;
        }
        /* Automatic indexes have no statement; the rest print as stored, as
         * sqlite3's .schema does, so the output can be fed back to sqlite3. */
        if (!e.sql)
            continue;
        if (cli_out_puts(e.sql) != 0 || cli_out_puts(";\n") != 0)
            rc = CLI_EXIT_FAIL;
    }
    return cli_session_close(&s, rc);
}

/* ---- tables -------------------------------------------------------------------------- */

typedef struct table_row {
    folio_schema_entry e;
    int has_rows; /* 0: unknown (a virtual table) */
    uint64_t rows;
    uint64_t pages;
} table_row;

/* Count the rows of table `name` by walking it. */
static int count_rows(uint64_t *out, cli_session *s, const char *name)
{
    folio_table *t;
    folio_cursor *c = NULL;
    int frc = folio_table_open(&t, s->txn, name);
    if (frc >= 0)
        frc = folio_cursor_open(&c, t, NULL);
    if (frc < 0)
        return cli_fail_db(s->db, frc, "%s: cannot open table %s", s->path, name);
    uint64_t n = 0;
    for (frc = folio_cursor_first(c); frc == FOLIO_ROW; frc = folio_cursor_next(c))
        n++;
    folio_cursor_close(c);
    if (frc < 0)
        return cli_fail_db(s->db, frc, "%s: cannot read table %s", s->path, name);
    *out = n;
    return CLI_EXIT_OK;
}

static int collect_tables(table_row **out, size_t *out_n, cli_session *s, const stats_list *st)
{
    *out = NULL;
    *out_n = 0;
    int count = folio_schema_count(s->txn);
    if (count < 0)
        return cli_fail_db(s->db, count, "%s: cannot read the schema", s->path);
    table_row *rows = calloc((size_t)count + 1, sizeof *rows);
    if (!rows)
        return cli_fail("out of memory");
    size_t n = 0;
    int rc = CLI_EXIT_OK;
    for (int i = 0; i < count && rc == CLI_EXIT_OK; i++) {
        table_row *r = &rows[n];
        int frc = folio_schema_get(&r->e, s->txn, i);
        if (frc < 0) {
            rc = cli_fail_db(s->db, frc, "%s: cannot read schema entry %d", s->path, i);
            break;
        }
        int is_table = strcmp(r->e.type, "table") == 0;
        if (!is_table && strcmp(r->e.type, "index") != 0)
            continue; /* views and triggers have no storage */
        const folio_btree_stats *bt = find_stats(st, r->e.name);
        if (bt) {
            r->pages = stats_pages(bt);
            r->rows = bt->entries;
            r->has_rows = 1;
        }
        /* A table with root page 0 is virtual: it has no b-tree to count. */
        if (is_table && r->e.rootpage != 0) {
            rc = count_rows(&r->rows, s, r->e.name);
            r->has_rows = 1;
        }
        n++;
    }
    if (rc != CLI_EXIT_OK) {
        free(rows);
        return rc;
    }
    *out = rows;
    *out_n = n;
    return CLI_EXIT_OK;
}

static int print_tables_json(const table_row *rows, size_t n)
{
    json_t *arr = json_array();
    int ok = arr != NULL;
    for (size_t i = 0; i < n && ok; i++) {
        const table_row *r = &rows[i];
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o) != 0) {
            ok = 0;
            break;
        }
        json_put(o, "name", json_name(r->e.name), &ok);
        json_put(o, "type", json_name(r->e.type), &ok);
        json_put(o, "table", json_name(r->e.tbl_name), &ok);
        json_put(o, "rows", r->has_rows ? json_u64(r->rows) : json_null(), &ok);
        json_put(o, "pages", json_u64(r->pages), &ok);
    }
    return print_json(arr, ok);
}

static int print_tables_text(const table_row *rows, size_t n)
{
    int wname = 4, wtype = 4, wtbl = 5;
    for (size_t i = 0; i < n; i++) {
        int a = (int)strlen(rows[i].e.name), b = (int)strlen(rows[i].e.type),
            c = (int)strlen(rows[i].e.tbl_name ? rows[i].e.tbl_name : "");
        wname = a > wname ? a : wname;
        wtype = b > wtype ? b : wtype;
        wtbl = c > wtbl ? c : wtbl;
    }
    cli_out_printf("%-*s  %-*s  %-*s  %12s  %10s\n", wname, "name", wtype, "type", wtbl, "table",
                   "rows", "pages");
    for (size_t i = 0; i < n; i++) {
        const table_row *r = &rows[i];
        char count[24] = "-";
        if (r->has_rows)
            snprintf(count, sizeof count, "%llu", (unsigned long long)r->rows);
        cli_out_printf("%-*s  %-*s  %-*s  %12s  %10llu\n", wname, r->e.name, wtype, r->e.type, wtbl,
                       r->e.tbl_name ? r->e.tbl_name : "", count, (unsigned long long)r->pages);
    }
    return cli_out_failed() ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_tables(const cli_command *cmd, int argc, char **argv)
{
    int json = 0;
    const cli_opt opts[] = {{"--json", NULL, &json}, {NULL, NULL, NULL}};
    const char *path;
    int rc = parse_db_only(cmd, argc, argv, opts, &path);
    if (rc != CLI_EXIT_OK)
        return rc;
    cli_session s;
    if (cli_session_open(&s, path) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;

    stats_list st;
    table_row *rows = NULL;
    size_t n = 0;
    rc = collect_stats(&st, &s);
    if (rc == CLI_EXIT_OK)
        rc = collect_tables(&rows, &n, &s, &st);
    if (rc == CLI_EXIT_OK)
        rc = json ? print_tables_json(rows, n) : print_tables_text(rows, n);
    free(rows);
    free(st.v);
    return cli_session_close(&s, rc);
}

/* ---- dump ---------------------------------------------------------------------------- */

/* Whether the schema has a table called `name` (case-insensitive, as SQLite
 * names are). */
static int schema_has_table(folio_txn *txn, const char *name)
{
    int n = folio_schema_count(txn);
    for (int i = 0; i < n; i++) {
        folio_schema_entry e;
        if (folio_schema_get(&e, txn, i) == FOLIO_OK && strcmp(e.type, "table") == 0 &&
            strcasecmp(e.name, name) == 0)
            return 1;
    }
    return 0;
}

typedef struct dump_opts {
    const char *table;
    int csv;
    int with_rowid;
    const char *where; /* only the rows this expression selects, or NULL */
} dump_opts;

static void put_csv_header(cli_buf *b, const folio_table *t, int ncols, int with_rowid)
{
    if (with_rowid)
        cli_buf_puts(b, "rowid");
    for (int i = 0; i < ncols; i++) {
        if (i > 0 || with_rowid)
            cli_buf_putc(b, ',');
        const char *name = folio_table_colname(t, i);
        if (name)
            csv_put_field(b, name, strlen(name));
    }
    cli_buf_putc(b, '\n');
}

/* Stream the rows: one line built in `b` and written per row, so memory does
 * not grow with the table. */
static int dump_rows(cli_session *s, folio_table *t, const dump_opts *o, cli_buf *b)
{
    int ncols = folio_table_ncols(t);
    if (ncols < 0)
        return cli_fail_db(s->db, ncols, "%s: cannot read the columns of %s", s->path, o->table);
    if (o->csv) {
        put_csv_header(b, t, ncols, o->with_rowid);
        if (cli_out_buf(b) != 0)
            return CLI_EXIT_FAIL;
    }
    folio_filter *f = NULL;
    int frc;
    if (o->where && (frc = folio_filter_compile(&f, t, o->where)) < 0)
        return cli_fail_db(s->db, frc, "--where");
    folio_cursor *c = NULL;
    frc = folio_cursor_open(&c, t, NULL);
    if (frc >= 0 && f)
        frc = folio_cursor_filter(c, f);
    if (frc < 0) {
        folio_cursor_close(c);
        folio_filter_free(f);
        return cli_fail_db(s->db, frc, "%s: cannot read table %s", s->path, o->table);
    }

    /* A progress line only helps when the rows go somewhere other than the
     * terminal the line is drawn on. */
    cli_progress prog;
    progress_start(&prog, "dump", 0, "rows");
    if (isatty(STDOUT_FILENO))
        prog.active = 0;

    int rc = CLI_EXIT_OK;
    uint64_t nrows = 0;
    for (frc = folio_cursor_first(c); frc == FOLIO_ROW; frc = folio_cursor_next(c)) {
        if (!o->csv)
            cli_buf_putc(b, '[');
        if (o->with_rowid)
            jv_put_int(b, folio_cursor_rowid(c));
        for (int i = 0; i < ncols; i++) {
            folio_value v;
            int vrc = folio_cursor_column(&v, c, i);
            if (vrc < 0) {
                frc = vrc;
                break;
            }
            if (i > 0 || o->with_rowid)
                cli_buf_putc(b, ',');
            if (o->csv)
                csv_put_value(b, &v);
            else
                jv_put_value(b, &v);
        }
        if (frc < 0)
            break;
        cli_buf_puts(b, o->csv ? "\n" : "]\n");
        if (cli_out_buf(b) != 0) {
            rc = CLI_EXIT_FAIL;
            break;
        }
        progress_update(&prog, ++nrows);
    }
    progress_finish(&prog);
    if (rc == CLI_EXIT_OK && frc < 0)
        rc = cli_fail_db(s->db, frc, "%s: cannot read table %s", s->path, o->table);
    folio_cursor_close(c);
    folio_filter_free(f);
    return rc;
}

int cmd_dump(const cli_command *cmd, int argc, char **argv)
{
    const char *format = "jsonl";
    dump_opts o = {NULL, 0, 0, NULL};
    const cli_opt opts[] = {{"--format", &format, NULL},
                            {"--rowid", NULL, &o.with_rowid},
                            {"--where", &o.where, NULL},
                            {NULL, NULL, NULL}};
    char *pos[2];
    int npos = 0;
    int rc = cli_parse_args(cmd, argc, argv, opts, pos, 2, 2, &npos);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (strcmp(format, "csv") == 0)
        o.csv = 1;
    else if (strcmp(format, "jsonl") != 0)
        return cli_usage_error(cmd, "dump: unknown format '%s' (expected jsonl or csv)", format);
    const char *path = pos[0];
    o.table = pos[1];

    cli_session s;
    if (cli_session_open(&s, path) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;
    folio_table *t = NULL;
    int frc = folio_table_open(&t, s.txn, o.table);
    if (frc < 0) {
        if (frc == FOLIO_NOTFOUND_ERR || !schema_has_table(s.txn, o.table))
            rc = cli_fail("no such table: %s", o.table);
        else
            rc = cli_fail_db(s.db, frc, "%s: cannot open table %s", path, o.table);
        return cli_session_close(&s, rc);
    }
    if (o.with_rowid && folio_table_without_rowid(t) > 0) {
        rc = cli_fail("%s is a WITHOUT ROWID table: it has no rowid", o.table);
        return cli_session_close(&s, rc);
    }
    cli_buf b = CLI_BUF_INIT;
    rc = dump_rows(&s, t, &o, &b);
    cli_buf_free(&b);
    return cli_session_close(&s, rc);
}

/* ---- check --------------------------------------------------------------------------- */

typedef struct check_ctx {
    uint64_t problems;
} check_ctx;

static int check_cb(void *arg, const char *msg)
{
    check_ctx *ctx = arg;
    ctx->problems++;
    /* One problem per line, whatever the message holds. */
    cli_buf b = CLI_BUF_INIT;
    for (const char *p = msg ? msg : "(no message)"; *p; p++)
        cli_buf_putc(&b, *p == '\n' || *p == '\r' ? ' ' : *p);
    cli_buf_putc(&b, '\n');
    int rc = cli_out_buf(&b);
    cli_buf_free(&b);
    return rc != 0; /* stop when the output is gone */
}

/* One line per row that breaks a foreign key, as PRAGMA foreign_key_check:
 * table, rowid (or "-" for WITHOUT ROWID), parent, constraint id. */
static int fk_check_cb(void *arg, const folio_fk_violation *v)
{
    check_ctx *ctx = arg;
    ctx->problems++;
    cli_buf b = CLI_BUF_INIT;
    char rowid[32] = "-";
    if (v->has_rowid)
        snprintf(rowid, sizeof rowid, "%lld", (long long)v->rowid);
    cli_buf_printf(&b, "%s %s %s %d\n", v->table, rowid, v->parent, v->fkid);
    int rc = cli_out_buf(&b);
    cli_buf_free(&b);
    return rc != 0;
}

static int check_foreign_keys(const char *path)
{
    cli_session s;
    if (cli_session_open(&s, path) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;
    check_ctx ctx = {0};
    int frc = folio_foreign_key_check(s.txn, NULL, fk_check_cb, &ctx);
    int rc;
    if (cli_out_failed())
        rc = CLI_EXIT_FAIL;
    else if (frc != FOLIO_OK)
        rc = cli_fail_db(s.db, frc, "%s: foreign key check failed", path);
    else if (ctx.problems == 0)
        rc = cli_out_puts("ok\n") == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    else
        rc = CLI_EXIT_FAIL;
    return cli_session_close(&s, rc);
}

int cmd_check(const cli_command *cmd, int argc, char **argv)
{
    const char *max_text = NULL;
    int fks = 0, quick = 0;
    const cli_opt opts[] = {{"--max-errors", &max_text, NULL},
                            {"--foreign-keys", NULL, &fks},
                            {"--quick", NULL, &quick},
                            {NULL, NULL, NULL}};
    const char *path;
    int rc = parse_db_only(cmd, argc, argv, opts, &path);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (fks)
        return check_foreign_keys(path);
    uint64_t max_errors = 0;
    if (max_text &&
        (cli_parse_u64(max_text, &max_errors) != 0 || max_errors == 0 || max_errors > 1000000000))
        return cli_usage_error(cmd, "check: --max-errors: expected a positive number, not '%s'",
                               max_text);
    cli_session s;
    if (cli_session_open(&s, path) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;

    /* folio_check() reports no steps, so a terminal just sees "working". */
    cli_progress prog;
    progress_start(&prog, "check", 0, NULL);
    progress_show(&prog);
    check_ctx ctx = {0};
    int frc = folio_check_ex(s.txn, quick ? FOLIO_CHECK_QUICK : FOLIO_CHECK_FULL, check_cb, &ctx,
                             (int)max_errors);
    progress_finish(&prog);

    if (cli_out_failed()) {
        rc = CLI_EXIT_FAIL;
    } else if (frc == FOLIO_OK && ctx.problems == 0) {
        rc = cli_out_puts("ok\n") == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    } else if (frc == FOLIO_OK || frc == FOLIO_CORRUPT) {
        /* Problems are the result, printed on stdout; exit 1 says "not ok". */
        if (ctx.problems == 0)
            check_cb(&ctx, folio_errmsg(s.db));
        rc = CLI_EXIT_FAIL;
    } else {
        rc = cli_fail_db(s.db, frc, "%s: integrity check failed", path);
    }
    return cli_session_close(&s, rc);
}

/* ---- stats ----------------------------------------------------------------------------- */

typedef struct stats_totals {
    uint64_t pages;
    uint64_t payload_bytes;
    uint64_t unused_bytes;
    uint64_t fragmented_bytes;
} stats_totals;

/* Fill factor of a b-tree: the share of its pages' bytes holding cells and
 * headers, 1 - unused / (pages * page_size). */
static double fill_factor(const folio_btree_stats *st, uint32_t page_size)
{
    double space = (double)stats_pages(st) * (double)page_size;
    if (space <= 0)
        return 0;
    double f = 1.0 - (double)st->unused_bytes / space;
    return f < 0 ? 0 : f;
}

/* The schema type of b-tree `name` ("table" for WITHOUT ROWID tables too). */
static const char *btree_type(folio_txn *txn, const folio_btree_stats *st)
{
    int n = folio_schema_count(txn);
    for (int i = 0; i < n && st->name; i++) {
        folio_schema_entry e;
        if (folio_schema_get(&e, txn, i) == FOLIO_OK && strcmp(e.name, st->name) == 0)
            return e.type;
    }
    return st->is_index ? "index" : "table";
}

/* raw / stored of the log's commit records (0 when there are none). */
static double log_ratio(const folio_log_stats_data *lg)
{
    return lg->stored_bytes ? (double)lg->raw_bytes / (double)lg->stored_bytes : 0;
}

static json_t *log_json(const folio_log_stats_data *lg)
{
    json_t *o = json_object();
    int ok = o != NULL;
    json_put(o, "enabled", json_boolean(lg->enabled), &ok);
    json_put(o, "present", json_boolean(lg->present), &ok);
    if (lg->present) {
        char when[64];
        cli_time_iso(when, sizeof when, lg->newest_base_time_us);
        json_put(o, "compression", json_string(lg->compression == FOLIO_LOG_LZ4 ? "lz4" : "zstd"),
                 &ok);
        json_put(o, "disk_bytes", json_u64(lg->disk_bytes), &ok);
        json_put(o, "segments", json_u64(lg->segments), &ok);
        json_put(o, "bases", json_u64(lg->bases), &ok);
        json_put(o, "commits", json_u64(lg->commits), &ok);
        json_put(o, "gaps", json_u64(lg->gaps), &ok);
        json_put(o, "raw_bytes", json_u64(lg->raw_bytes), &ok);
        json_put(o, "stored_bytes", json_u64(lg->stored_bytes), &ok);
        json_put(o, "compression_ratio", json_real(log_ratio(lg)), &ok);
        json_put(o, "oldest_version", json_u64(lg->oldest_version), &ok);
        json_put(o, "newest_version", json_u64(lg->newest_version), &ok);
        json_put(o, "oldest_base", json_u64(lg->oldest_base), &ok);
        json_put(o, "newest_base", json_u64(lg->newest_base), &ok);
        json_put(o, "newest_base_time", lg->bases ? json_string(when) : json_null(), &ok);
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int print_stats_json(cli_session *s, const folio_info *in, const stats_list *l,
                            const stats_totals *tot, const folio_log_stats_data *lg)
{
    json_t *root = json_object();
    json_t *arr = json_array();
    int ok = root && arr;
    if (!ok) {
        json_decref(root);
        json_decref(arr);
        return cli_fail("out of memory");
    }
    json_put(root, "file_bytes", json_u64(in->file_bytes), &ok);
    json_put(root, "page_size", json_u64(in->page_size), &ok);
    json_put(root, "page_count", json_u64(in->page_count), &ok);
    json_put(root, "freelist_pages", json_u64(in->freelist_pages), &ok);
    json_put(root, "wal_bytes", json_u64(in->wal_bytes), &ok);
    json_put(root, "wal_frames", json_u64(in->wal_frames), &ok);
    json_put(root, "btree_pages", json_u64(tot->pages), &ok);
    json_put(root, "payload_bytes", json_u64(tot->payload_bytes), &ok);
    json_put(root, "unused_bytes", json_u64(tot->unused_bytes), &ok);
    json_put(root, "fragmented_bytes", json_u64(tot->fragmented_bytes), &ok);
    json_put(root, "log", log_json(lg), &ok);
    json_put(root, "btrees", arr, &ok);
    for (size_t i = 0; i < l->n && ok; i++) {
        const folio_btree_stats *st = &l->v[i];
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o) != 0) {
            ok = 0;
            break;
        }
        json_put(o, "name", json_name(st->name), &ok);
        json_put(o, "type", json_name(btree_type(s->txn, st)), &ok);
        json_put(o, "table", json_name(st->tbl_name), &ok);
        json_put(o, "rootpage", json_u64(st->rootpage), &ok);
        json_put(o, "depth", json_u64(st->depth), &ok);
        json_put(o, "interior_pages", json_u64(st->interior_pages), &ok);
        json_put(o, "leaf_pages", json_u64(st->leaf_pages), &ok);
        json_put(o, "overflow_pages", json_u64(st->overflow_pages), &ok);
        json_put(o, "entries", json_u64(st->entries), &ok);
        json_put(o, "payload_bytes", json_u64(st->payload_bytes), &ok);
        json_put(o, "unused_bytes", json_u64(st->unused_bytes), &ok);
        json_put(o, "fragmented_bytes", json_u64(st->fragmented_bytes), &ok);
        json_put(o, "fill", json_real(fill_factor(st, in->page_size)), &ok);
    }
    return print_json(root, ok);
}

static void print_log_text(const folio_log_stats_data *lg)
{
    if (!lg->present) {
        cli_out_printf("commit log:   %s\n",
                       lg->enabled ? "on, but its directory is missing" : "off");
        return;
    }
    cli_out_printf("commit log:   %s (%s), %llu bytes in %u segments and %u bases\n",
                   lg->enabled ? "on" : "off (its files stay)",
                   lg->compression == FOLIO_LOG_LZ4 ? "lz4" : "zstd",
                   (unsigned long long)lg->disk_bytes, (unsigned)lg->segments, (unsigned)lg->bases);
    cli_out_printf("log records:  %llu commits, %llu gaps, versions %llu to %llu, %llu raw bytes "
                   "stored in %llu (%.2fx)\n",
                   (unsigned long long)lg->commits, (unsigned long long)lg->gaps,
                   (unsigned long long)lg->oldest_version, (unsigned long long)lg->newest_version,
                   (unsigned long long)lg->raw_bytes, (unsigned long long)lg->stored_bytes,
                   log_ratio(lg));
    if (lg->bases) {
        char when[64];
        cli_time_iso(when, sizeof when, lg->newest_base_time_us);
        cli_out_printf("log bases:    oldest version %llu, newest version %llu (taken %s)\n",
                       (unsigned long long)lg->oldest_base, (unsigned long long)lg->newest_base,
                       when);
    } else {
        cli_out_printf("log bases:    none\n");
    }
}

static int print_stats_text(cli_session *s, const folio_info *in, const stats_list *l,
                            const stats_totals *tot, const folio_log_stats_data *lg)
{
    cli_out_printf("file:         %llu bytes, %u pages of %u bytes\n",
                   (unsigned long long)in->file_bytes, (unsigned)in->page_count,
                   (unsigned)in->page_size);
    cli_out_printf("freelist:     %u pages\n", (unsigned)in->freelist_pages);
    cli_out_printf("wal:          %llu bytes, %u frames\n", (unsigned long long)in->wal_bytes,
                   (unsigned)in->wal_frames);
    cli_out_printf("b-trees:      %zu, %llu pages, %llu payload bytes, %llu unused bytes\n", l->n,
                   (unsigned long long)tot->pages, (unsigned long long)tot->payload_bytes,
                   (unsigned long long)tot->unused_bytes);
    cli_out_printf("fragmented:   %llu bytes\n", (unsigned long long)tot->fragmented_bytes);
    print_log_text(lg);
    cli_out_puts("\n");

    int wname = 4;
    for (size_t i = 0; i < l->n; i++) {
        int len = l->v[i].name ? (int)strlen(l->v[i].name) : 0;
        wname = len > wname ? len : wname;
    }
    cli_out_printf("%-*s  %-5s  %8s  %5s  %9s  %9s  %9s  %12s  %14s  %14s  %10s  %6s\n", wname,
                   "name", "type", "root", "depth", "interior", "leaf", "overflow", "entries",
                   "payload", "unused", "fragmented", "fill");
    for (size_t i = 0; i < l->n; i++) {
        const folio_btree_stats *st = &l->v[i];
        cli_out_printf("%-*s  %-5s  %8u  %5u  %9llu  %9llu  %9llu  %12llu  %14llu  %14llu  %10llu  "
                       "%5.1f%%\n",
                       wname, st->name ? st->name : "?", btree_type(s->txn, st),
                       (unsigned)st->rootpage, (unsigned)st->depth,
                       (unsigned long long)st->interior_pages, (unsigned long long)st->leaf_pages,
                       (unsigned long long)st->overflow_pages, (unsigned long long)st->entries,
                       (unsigned long long)st->payload_bytes, (unsigned long long)st->unused_bytes,
                       (unsigned long long)st->fragmented_bytes,
                       100.0 * fill_factor(st, in->page_size));
    }
    return cli_out_failed() ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* A label value of the Prometheus text format: backslash, double quote and
 * newline escaped. */
static void prom_label(const char *v)
{
    for (const char *c = v ? v : ""; *c; c++) {
        if (*c == '\\' || *c == '"')
            cli_out_printf("\\%c", *c);
        else if (*c == '\n')
            cli_out_puts("\\n");
        else
            cli_out_printf("%c", *c);
    }
}

static void prom_family(const char *name, const char *help)
{
    cli_out_printf("# HELP folio_%s %s\n# TYPE folio_%s gauge\n", name, help, name);
}

static void prom_gauge(const char *name, const char *help, uint64_t v)
{
    prom_family(name, help);
    cli_out_printf("folio_%s %llu\n", name, (unsigned long long)v);
}

/* What a b-tree family reports, and for which b-trees. */
typedef enum { PROM_TABLES, PROM_INDEXES, PROM_ALL } prom_which;

static int prom_wants(cli_session *s, const folio_btree_stats *st, prom_which w)
{
    int index = strcmp(btree_type(s->txn, st), "index") == 0;
    return w == PROM_ALL || (w == PROM_INDEXES) == index;
}

/* The labels of b-tree `st`: {table="t"} for a table, {index="i",table="t"}
 * for an index, {name="n",type="...",table="t"} for every b-tree. */
static void prom_labels(cli_session *s, const folio_btree_stats *st, prom_which w,
                        const char *extra)
{
    cli_out_puts("{");
    if (w == PROM_INDEXES) {
        cli_out_puts("index=\"");
        prom_label(st->name);
        cli_out_puts("\",");
    } else if (w == PROM_ALL) {
        cli_out_puts("name=\"");
        prom_label(st->name);
        cli_out_printf("\",type=\"%s\",", btree_type(s->txn, st));
    }
    cli_out_puts("table=\"");
    prom_label(w == PROM_TABLES ? st->name : st->tbl_name);
    cli_out_printf("\"%s}", extra ? extra : "");
}

static void prom_btrees(cli_session *s, const stats_list *l, const char *name, const char *help,
                        prom_which w, size_t off)
{
    prom_family(name, help);
    for (size_t i = 0; i < l->n; i++) {
        const folio_btree_stats *st = &l->v[i];
        if (!prom_wants(s, st, w))
            continue;
        uint64_t v;
        memcpy(&v, (const char *)st + off, sizeof v);
        cli_out_printf("folio_%s", name);
        prom_labels(s, st, w, NULL);
        cli_out_printf(" %llu\n", (unsigned long long)v);
    }
}

/* `stats --prometheus`: the figures of the text report in the Prometheus
 * text exposition format, every one a gauge. */
static int print_stats_prometheus(cli_session *s, const folio_info *in, const stats_list *l,
                                  const stats_totals *tot, const folio_log_stats_data *lg)
{
    prom_gauge("file_bytes", "Size of the database file in bytes.", in->file_bytes);
    prom_gauge("page_size_bytes", "Page size of the database.", in->page_size);
    prom_gauge("pages", "Pages in the database.", in->page_count);
    prom_gauge("freelist_pages", "Pages on the freelist.", in->freelist_pages);
    prom_gauge("wal_bytes", "Size of the WAL file in bytes.", in->wal_bytes);
    prom_gauge("wal_frames", "Valid committed frames in the WAL.", in->wal_frames);
    prom_gauge("btrees", "B-trees (tables and indexes, sqlite_schema included).", l->n);
    prom_gauge("payload_bytes", "Bytes of record payload in all b-trees.", tot->payload_bytes);
    prom_gauge("unused_bytes", "Bytes of page space not used by cells or headers.",
               tot->unused_bytes);
    prom_gauge("fragmented_bytes", "Bytes in fragments too small to use.", tot->fragmented_bytes);
    prom_gauge("log_enabled", "1 when the commit log is on.", (uint64_t)lg->enabled);
    prom_gauge("log_bytes", "Bytes of the commit log's files.", lg->disk_bytes);
    prom_gauge("log_segments", "Segment files of the commit log.", lg->segments);
    prom_gauge("log_bases", "Base files of the commit log.", lg->bases);
    prom_gauge("log_commits", "Commit records in the commit log.", lg->commits);
    prom_gauge("log_raw_bytes", "Bytes of the commit records, uncompressed.", lg->raw_bytes);
    prom_gauge("log_stored_bytes", "Bytes of the commit records as stored.", lg->stored_bytes);
    prom_gauge("log_oldest_version", "Version of the oldest record of the commit log.",
               lg->oldest_version);
    prom_gauge("log_newest_version", "Version of the newest record of the commit log.",
               lg->newest_version);
    prom_gauge("log_oldest_base_version",
               "Version of the oldest base: the oldest version a restore can rebuild.",
               lg->oldest_base);
    prom_gauge("log_newest_base_version", "Version of the newest base of the commit log.",
               lg->newest_base);
    prom_btrees(s, l, "table_rows", "Rows of a table.", PROM_TABLES,
                offsetof(folio_btree_stats, entries));
    prom_btrees(s, l, "index_entries", "Entries of an index.", PROM_INDEXES,
                offsetof(folio_btree_stats, entries));
    prom_family("btree_pages", "Pages of a b-tree, by kind.");
    static const char *const kinds[] = {"interior", "leaf", "overflow"};
    for (size_t i = 0; i < l->n; i++) {
        const folio_btree_stats *st = &l->v[i];
        const uint64_t n[] = {st->interior_pages, st->leaf_pages, st->overflow_pages};
        for (int k = 0; k < 3; k++) {
            char extra[32];
            snprintf(extra, sizeof extra, ",kind=\"%s\"", kinds[k]);
            cli_out_puts("folio_btree_pages");
            prom_labels(s, st, PROM_ALL, extra);
            cli_out_printf(" %llu\n", (unsigned long long)n[k]);
        }
    }
    prom_family("btree_depth", "Depth of a b-tree.");
    for (size_t i = 0; i < l->n; i++) {
        cli_out_puts("folio_btree_depth");
        prom_labels(s, &l->v[i], PROM_ALL, NULL);
        cli_out_printf(" %u\n", (unsigned)l->v[i].depth);
    }
    prom_btrees(s, l, "btree_payload_bytes", "Bytes of record payload of a b-tree.", PROM_ALL,
                offsetof(folio_btree_stats, payload_bytes));
    prom_btrees(s, l, "btree_unused_bytes", "Bytes of page space a b-tree does not use.", PROM_ALL,
                offsetof(folio_btree_stats, unused_bytes));
    prom_btrees(s, l, "btree_fragmented_bytes", "Bytes in fragments of a b-tree's pages.", PROM_ALL,
                offsetof(folio_btree_stats, fragmented_bytes));
    return cli_out_failed() ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_stats(const cli_command *cmd, int argc, char **argv)
{
    int json = 0, prometheus = 0;
    const cli_opt opts[] = {
        {"--json", NULL, &json}, {"--prometheus", NULL, &prometheus}, {NULL, NULL, NULL}};
    const char *path;
    int rc = parse_db_only(cmd, argc, argv, opts, &path);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (json && prometheus)
        return cli_usage_error(cmd, "stats: --json and --prometheus exclude each other");
    cli_session s;
    if (cli_session_open(&s, path) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;

    folio_info in;
    folio_log_stats_data lg;
    stats_list l = {NULL, 0, 0, 0};
    int frc = folio_info_get(&in, s.txn);
    if (frc < 0)
        rc = cli_fail_db(s.db, frc, "%s: cannot read the header", path);
    else if ((frc = folio_log_stats(s.db, &lg)) < 0)
        rc = cli_fail_db(s.db, frc, "%s: cannot read its commit log", path);
    else
        rc = collect_stats(&l, &s);
    if (rc == CLI_EXIT_OK) {
        stats_totals tot = {0, 0, 0, 0};
        for (size_t i = 0; i < l.n; i++) {
            tot.pages += stats_pages(&l.v[i]);
            tot.payload_bytes += l.v[i].payload_bytes;
            tot.unused_bytes += l.v[i].unused_bytes;
            tot.fragmented_bytes += l.v[i].fragmented_bytes;
        }
        rc = json         ? print_stats_json(&s, &in, &l, &tot, &lg)
             : prometheus ? print_stats_prometheus(&s, &in, &l, &tot, &lg)
                          : print_stats_text(&s, &in, &l, &tot, &lg);
    }
    free(l.v);
    return cli_session_close(&s, rc);
}
