/*
 * cmd_edges.c: the graph edge commands of the folio tool, over the
 * _concepts and _relations tables of folio_relate() (folio.h):
 *
 *   folio relate DB SOURCE TARGET [--kind K] [--weight W] [--data VALUE]
 *   folio edges DB KEY [--out | --in] [--kind K] [--json]
 *
 * relate writes one edge in one write transaction (creating the database
 * and the tables when missing) and prints nothing. edges prints the edges
 * of KEY in one read transaction, one per line: tab-separated
 *
 *   out|in  SOURCE  TARGET  KIND  WEIGHT  DATA
 *
 * where SOURCE, TARGET and KIND are the text with backslash, tab, line feed
 * and carriage return written as \\, \t, \n and \r, and WEIGHT and DATA are
 * in the JSONL value encoding (jsonval.h); or with --json one object per
 * line, {"dir":"out","source":..,"target":..,"kind":..,"weight":..,"data":..},
 * every value in that encoding.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsonval.h"

/* ---- relate ------------------------------------------------------------------------ */

/* Parse --weight: a number (strtod's forms, infinities included), not NaN. */
static int parse_weight(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double w = strtod(s, &end);
    if (end == s || *end != '\0' || isnan(w) || (errno == ERANGE && isinf(w)))
        return -1;
    *out = w;
    return 0;
}

int cmd_relate(const cli_command *cmd, int argc, char **argv)
{
    const char *kind = NULL, *weight_text = NULL, *data_text = NULL;
    const cli_opt opts[] = {{"--kind", &kind, NULL},
                            {"--weight", &weight_text, NULL},
                            {"--data", &data_text, NULL},
                            {NULL, NULL, NULL}};
    char *pos[3];
    int npos = 0;
    int rc = cli_parse_args(cmd, argc, argv, opts, pos, 3, 3, &npos);
    if (rc != CLI_EXIT_OK)
        return rc;
    const char *path = pos[0], *source = pos[1], *target = pos[2];
    if (!source[0] || !target[0])
        return cli_usage_error(cmd, "relate: SOURCE and TARGET must not be empty");
    double weight = 1.0;
    if (weight_text && parse_weight(weight_text, &weight) != 0)
        return cli_usage_error(cmd, "relate: --weight: expected a number, not '%s'", weight_text);
    folio_value data = {.type = FOLIO_NULL};
    json_t *json = NULL;
    cli_arena arena = CLI_ARENA_INIT;
    if (data_text) {
        json_error_t jerr;
        char why[200];
        json = json_loads(data_text, JV_LOAD_FLAGS, &jerr);
        if (!json)
            return cli_usage_error(cmd, "relate: --data: not JSON: %s", jerr.text);
        if (jv_decode_value(&data, json, &arena, why, sizeof why) != 0) {
            json_decref(json);
            cli_arena_free(&arena);
            return cli_usage_error(cmd, "relate: --data: %s", why);
        }
    }

    folio_db *db = NULL;
    folio_txn *txn = NULL;
    int frc = 0;
    if (cli_open_db(&db, path, FOLIO_OPEN_CREATE) != CLI_EXIT_OK)
        rc = CLI_EXIT_FAIL;
    else if ((frc = folio_begin(&txn, db, FOLIO_TXN_WRITE)) < 0)
        rc = cli_fail_db(db, frc, "%s: cannot begin a write transaction", path);
    else if ((frc = folio_relate(txn, source, target, kind, weight, &data)) < 0)
        rc = cli_fail_db(db, frc, "%s: relate %s to %s", path, source, target);
    else if ((frc = folio_commit(txn)) < 0)
        rc = cli_fail_db(db, frc, "%s: cannot commit", path);
    else
        txn = NULL;
    if (txn)
        folio_rollback(txn);
    json_decref(json);
    cli_arena_free(&arena);
    if (db && (frc = folio_close(db)) < 0 && rc == CLI_EXIT_OK)
        rc = cli_fail("%s: cannot close: %s", path, folio_strerror(frc));
    return rc;
}

/* ---- edges ------------------------------------------------------------------------- */

/* A key or kind as a tab-separated field. */
static void put_field(cli_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\':
            cli_buf_puts(b, "\\\\");
            break;
        case '\t':
            cli_buf_puts(b, "\\t");
            break;
        case '\n':
            cli_buf_puts(b, "\\n");
            break;
        case '\r':
            cli_buf_puts(b, "\\r");
            break;
        default:
            cli_buf_putc(b, *s);
        }
    }
}

static void put_text_value(cli_buf *b, const char *s)
{
    folio_value v = {.type = FOLIO_TEXT};
    v.u.s.p = s;
    v.u.s.n = strlen(s);
    jv_put_value(b, &v);
}

static void put_edge(cli_buf *b, const folio_edge *e, int json)
{
    const char *dir = e->dir == FOLIO_EDGES_OUT ? "out" : "in";
    folio_value w = {.type = FOLIO_REAL, .u.r = e->weight};
    if (json) {
        cli_buf_printf(b, "{\"dir\":\"%s\",\"source\":", dir);
        put_text_value(b, e->source_key);
        cli_buf_puts(b, ",\"target\":");
        put_text_value(b, e->target_key);
        cli_buf_puts(b, ",\"kind\":");
        put_text_value(b, e->kind);
        cli_buf_puts(b, ",\"weight\":");
        jv_put_value(b, &w);
        cli_buf_puts(b, ",\"data\":");
        jv_put_value(b, &e->data);
        cli_buf_puts(b, "}\n");
        return;
    }
    cli_buf_puts(b, dir);
    cli_buf_putc(b, '\t');
    put_field(b, e->source_key);
    cli_buf_putc(b, '\t');
    put_field(b, e->target_key);
    cli_buf_putc(b, '\t');
    put_field(b, e->kind);
    cli_buf_putc(b, '\t');
    jv_put_value(b, &w);
    cli_buf_putc(b, '\t');
    jv_put_value(b, &e->data);
    cli_buf_putc(b, '\n');
}

int cmd_edges(const cli_command *cmd, int argc, char **argv)
{
    int out = 0, in = 0, json = 0;
    const char *kind = NULL;
    const cli_opt opts[] = {{"--out", NULL, &out},
                            {"--in", NULL, &in},
                            {"--kind", &kind, NULL},
                            {"--json", NULL, &json},
                            {NULL, NULL, NULL}};
    char *pos[2];
    int npos = 0;
    int rc = cli_parse_args(cmd, argc, argv, opts, pos, 2, 2, &npos);
    if (rc != CLI_EXIT_OK)
        return rc;
    const char *path = pos[0], *key = pos[1];
    if (!key[0])
        return cli_usage_error(cmd, "edges: KEY must not be empty");
    int dir = (out ? FOLIO_EDGES_OUT : 0) | (in ? FOLIO_EDGES_IN : 0);
    if (!dir)
        dir = FOLIO_EDGES_OUT | FOLIO_EDGES_IN;

    cli_session s;
    if (cli_session_open(&s, path) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;
    folio_edges *e = NULL;
    int frc = folio_edges_open(&e, s.txn, key, dir);
    if (frc >= 0 && kind)
        frc = folio_edges_kind(e, kind);
    cli_buf b = CLI_BUF_INIT;
    while (frc >= 0 && (frc = folio_edges_next(e)) == FOLIO_ROW) {
        folio_edge edge;
        if ((frc = folio_edges_get(&edge, e)) < 0)
            break;
        put_edge(&b, &edge, json);
        if (b.n >= 1 << 16 && cli_out_buf(&b) != 0)
            break; /* the output is gone */
    }
    if (frc < 0)
        rc = cli_fail_db(s.db, frc, "%s: edges of %s", path, key);
    else if (cli_out_buf(&b) != 0 || cli_out_failed())
        rc = CLI_EXIT_FAIL;
    cli_buf_free(&b);
    folio_edges_close(e);
    return cli_session_close(&s, rc);
}
