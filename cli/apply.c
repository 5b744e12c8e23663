/*
 * apply.c: JSONL operations, parsed with jansson and applied through the
 * public API (see apply.h for the operations).
 *
 * Each line is parsed into a json_t tree, checked (the op, the members it
 * allows, their types), its values decoded into reused folio_value vectors
 * (strings point into the tree, hex bytes into the arena) and then applied
 * with one library call, except where the API has no single call for it:
 * an insert with an explicit rowid (a cursor seek proves the rowid free, then
 * folio_upsert) and a patch of a WITHOUT ROWID row (a cursor seek reads the
 * row, then folio_update_key). The tree and the arena are released per line.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "apply.h"
#include "jsonval.h"

/* More values than SQLite allows columns (32767) is a mistake in the input. */
#define APPLY_MAX_VALUES 32767

enum {
    M_TABLE = 1 << 0,
    M_VALUES = 1 << 1,
    M_ROWID = 1 << 2,
    M_KEY = 1 << 3,
    M_SET = 1 << 4,
    M_SQL = 1 << 5,
    M_VERSION = 1 << 6,
    M_OLD = 1 << 7,
    M_TIME = 1 << 8,
    M_SOURCE = 1 << 9,
};

typedef enum {
    OP_INSERT,
    OP_UPDATE,
    OP_UPSERT,
    OP_PATCH,
    OP_DELETE,
    OP_EXEC,
    OP_SOURCE,
    OP_SNAPSHOT,
    OP_COMMIT
} op_kind;

typedef struct op_spec {
    const char *name;
    op_kind kind;
    unsigned allowed; /* members besides "op" */
    unsigned feed;    /* more members in a change feed (0: a feed's op only) */
} op_spec;

static const op_spec op_specs[] = {
    {"insert", OP_INSERT, M_TABLE | M_VALUES | M_ROWID, M_VERSION},
    {"update", OP_UPDATE, M_TABLE | M_VALUES | M_ROWID | M_KEY, M_VERSION | M_OLD},
    {"upsert", OP_UPSERT, M_TABLE | M_VALUES | M_ROWID, M_VERSION},
    {"patch", OP_PATCH, M_TABLE | M_SET | M_ROWID | M_KEY, M_VERSION},
    {"delete", OP_DELETE, M_TABLE | M_ROWID | M_KEY, M_VERSION | M_OLD},
    {"exec", OP_EXEC, M_SQL, M_VERSION},
    {"source", OP_SOURCE, 0, M_SOURCE},
    {"snapshot", OP_SNAPSHOT, 0, M_VERSION | M_TIME},
    {"commit", OP_COMMIT, 0, M_VERSION | M_TIME},
};

static const struct {
    const char *name;
    unsigned bit;
} member_names[] = {
    {"table", M_TABLE},  {"values", M_VALUES}, {"rowid", M_ROWID},     {"key", M_KEY},
    {"set", M_SET},      {"sql", M_SQL},       {"version", M_VERSION}, {"old", M_OLD},
    {"time_us", M_TIME}, {"source", M_SOURCE},
};

/* One parsed line. */
typedef struct op_line {
    const op_spec *spec;
    uint64_t lineno;
    json_t *root;
    const char *table;
    json_t *values, *key, *set;
    int has_rowid;
    int64_t rowid;
    int has_version;
    uint64_t version;
} op_line;

void apply_init(cli_apply *a, folio_db *db, int autocommit)
{
    memset(a, 0, sizeof *a);
    a->db = db;
    a->autocommit = autocommit;
}

/* ---- Errors ---------------------------------------------------------------------- */

static void rollback(cli_apply *a)
{
    if (a->txn) {
        folio_rollback(a->txn);
        a->txn = NULL;
    }
}

/* Set "line N: <message>", roll back, return -1. */
static int fail(cli_apply *a, uint64_t lineno, const char *fmt, ...) CLI_PRINTF(3, 4);
static int fail(cli_apply *a, uint64_t lineno, const char *fmt, ...)
{
    int len = snprintf(a->err, sizeof a->err, "line %llu: ", (unsigned long long)lineno);
    if (len < 0 || (size_t)len >= sizeof a->err)
        len = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->err + len, sizeof a->err - (size_t)len, fmt, ap);
    va_end(ap);
    rollback(a);
    return -1;
}

/* The library's message for `rc`: its last error on the database, or the
 * generic text when it left none. */
static const char *db_message(const cli_apply *a, int rc)
{
    const char *m = folio_errmsg(a->db);
    if (!m || !*m || strcmp(m, "not an error") == 0)
        m = folio_strerror(rc);
    return m;
}

static int fail_db(cli_apply *a, uint64_t lineno, int rc)
{
    return fail(a, lineno, "%s", db_message(a, rc));
}

/* ---- Value vectors ------------------------------------------------------------------ */

static folio_value *vec_reserve(apply_vec *v, int n)
{
    v->n = 0;
    if (n > v->cap) {
        int cap = v->cap ? v->cap : 16;
        while (cap < n)
            cap *= 2;
        folio_value *p = realloc(v->v, sizeof *p * (size_t)cap);
        if (!p)
            return NULL;
        v->v = p;
        v->cap = cap;
    }
    return v->v;
}

/* Decode the JSON array `arr` (member `what`) into `v`. */
static int decode_array(cli_apply *a, uint64_t lineno, const json_t *arr, const char *what,
                        apply_vec *v)
{
    if (!json_is_array(arr))
        return fail(a, lineno, "\"%s\" must be an array", what);
    size_t n = json_array_size(arr);
    if (n > APPLY_MAX_VALUES)
        return fail(a, lineno, "\"%s\" has %zu values; at most %d are allowed", what, n,
                    APPLY_MAX_VALUES);
    if (!vec_reserve(v, (int)n))
        return fail(a, lineno, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char why[256];
        if (jv_decode_value(&v->v[i], json_array_get(arr, i), &a->arena, why, sizeof why) != 0)
            return fail(a, lineno, "\"%s\"[%zu]: %s", what, i, why);
    }
    v->n = (int)n;
    return 0;
}

/* ---- Parsing a line ------------------------------------------------------------------ */

/* A JSON string member without NUL bytes (names and SQL are C strings). */
static int get_cstring(cli_apply *a, const op_line *op, const char *member, const char **out)
{
    const json_t *j = json_object_get(op->root, member);
    if (!j)
        return fail(a, op->lineno, "%s: missing \"%s\"", op->spec->name, member);
    if (!json_is_string(j))
        return fail(a, op->lineno, "\"%s\" must be a string", member);
    const char *s = json_string_value(j);
    if (strlen(s) != json_string_length(j))
        return fail(a, op->lineno, "\"%s\" contains a NUL character", member);
    *out = s;
    return 0;
}

static int parse_op(cli_apply *a, op_line *op)
{
    if (!json_is_object(op->root))
        return fail(a, op->lineno, "expected a JSON object with an \"op\"");
    const json_t *jop = json_object_get(op->root, "op");
    if (!jop)
        return fail(a, op->lineno, "missing \"op\"");
    if (!json_is_string(jop))
        return fail(a, op->lineno, "\"op\" must be a string");
    const char *name = json_string_value(jop);
    for (size_t i = 0; i < sizeof op_specs / sizeof op_specs[0]; i++)
        if (strcmp(op_specs[i].name, name) == 0)
            op->spec = &op_specs[i];
    int feed = a->mode == 2;
    if (!op->spec || (!op->spec->allowed && !feed))
        return fail(a, op->lineno,
                    "unknown op \"%s\" (expected insert, update, upsert, patch, delete or exec)",
                    name);

    const char *key;
    json_t *value;
    unsigned allowed = op->spec->allowed | (feed ? op->spec->feed : 0);
    json_object_foreach(op->root, key, value)
    {
        if (strcmp(key, "op") == 0)
            continue;
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof member_names / sizeof member_names[0]; i++)
            if (strcmp(member_names[i].name, key) == 0)
                bit = member_names[i].bit;
        if (!(bit & allowed))
            return fail(a, op->lineno, "%s: unexpected member \"%s\"", op->spec->name, key);
    }
    if (feed && op->spec->kind != OP_SOURCE) {
        const json_t *v = json_object_get(op->root, "version");
        if (!v)
            return fail(a, op->lineno, "%s: missing \"version\" (every line of a feed has one)",
                        op->spec->name);
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            return fail(a, op->lineno, "\"version\" must be an integer from 1 up");
        op->has_version = 1;
        op->version = (uint64_t)json_integer_value(v);
        const json_t *old = json_object_get(op->root, "old");
        if (old && !json_is_array(old))
            return fail(a, op->lineno, "\"old\" must be an array");
    }

    if (op->spec->kind >= OP_EXEC)
        return 0;
    if (get_cstring(a, op, "table", &op->table) != 0)
        return -1;
    op->values = json_object_get(op->root, "values");
    op->key = json_object_get(op->root, "key");
    op->set = json_object_get(op->root, "set");
    if ((op->spec->allowed & M_VALUES) && !op->values)
        return fail(a, op->lineno, "%s: missing \"values\"", op->spec->name);
    if ((op->spec->allowed & M_SET) && !op->set)
        return fail(a, op->lineno, "%s: missing \"set\"", op->spec->name);
    const json_t *rowid = json_object_get(op->root, "rowid");
    if (rowid) {
        if (!json_is_integer(rowid))
            return fail(a, op->lineno, "\"rowid\" must be an integer");
        op->has_rowid = 1;
        op->rowid = (int64_t)json_integer_value(rowid);
    }
    if (rowid && op->key)
        return fail(a, op->lineno, "%s: give \"rowid\" or \"key\", not both", op->spec->name);
    return 0;
}

/* ---- Operations ------------------------------------------------------------------------- */

/* Check that the row addressing of `op` fits table `t`: "rowid" for rowid
 * tables, "key" for WITHOUT ROWID tables, as the op requires. */
static int check_addressing(cli_apply *a, const op_line *op, int without_rowid)
{
    op_kind k = op->spec->kind;
    const char *name = op->spec->name;
    if (without_rowid) {
        if (op->has_rowid)
            return fail(a, op->lineno, "%s: %s is a WITHOUT ROWID table: it has no rowid (%s)",
                        name, op->table,
                        k == OP_INSERT || k == OP_UPSERT ? "the key comes from the values"
                                                         : "use \"key\"");
        if ((k == OP_UPDATE || k == OP_PATCH || k == OP_DELETE) && !op->key)
            return fail(a, op->lineno, "%s: missing \"key\" (%s is a WITHOUT ROWID table)", name,
                        op->table);
        return 0;
    }
    if (op->key)
        return fail(a, op->lineno, "%s: %s has rowids: use \"rowid\", not \"key\"", name,
                    op->table);
    if (k != OP_INSERT && !op->has_rowid)
        return fail(a, op->lineno, "%s: missing \"rowid\"", name);
    return 0;
}

/* Insert with an explicit rowid: an error if the rowid exists. */
static int insert_at(cli_apply *a, const op_line *op, folio_table *t)
{
    folio_cursor *c = NULL;
    int rc = folio_cursor_open(&c, t, NULL);
    if (rc < 0)
        return fail_db(a, op->lineno, rc);
    rc = folio_cursor_seek_rowid(c, op->rowid);
    folio_cursor_close(c);
    if (rc < 0)
        return fail_db(a, op->lineno, rc);
    if (rc == FOLIO_ROW)
        return fail(a, op->lineno, "UNIQUE constraint failed: %s.rowid (rowid %lld exists)",
                    op->table, (long long)op->rowid);
    rc = folio_upsert(NULL, t, op->rowid, a->vals.v, a->vals.n);
    return rc < 0 ? fail_db(a, op->lineno, rc) : 0;
}

/* The column of `t` called `name` (case-insensitive), or -1. */
static int find_column(folio_table *t, int ncols, const char *name)
{
    for (int i = 0; i < ncols; i++) {
        const char *cn = folio_table_colname(t, i);
        if (cn && strcasecmp(cn, name) == 0)
            return i;
    }
    return -1;
}

/* Decode "set" into a->cols and a->set. */
static int decode_set(cli_apply *a, const op_line *op, folio_table *t, int ncols)
{
    if (!json_is_object(op->set))
        return fail(a, op->lineno, "\"set\" must be an object of column values");
    size_t n = json_object_size(op->set);
    if (n > (size_t)ncols)
        return fail(a, op->lineno, "\"set\" names %zu columns; %s has %d", n, op->table, ncols);
    if ((int)n > a->cols_cap) {
        int *p = realloc(a->cols, sizeof *p * n);
        if (!p)
            return fail(a, op->lineno, "out of memory");
        a->cols = p;
        a->cols_cap = (int)n;
    }
    if (!vec_reserve(&a->set, (int)n))
        return fail(a, op->lineno, "out of memory");
    const char *name;
    json_t *value;
    int i = 0;
    json_object_foreach(op->set, name, value)
    {
        int col = find_column(t, ncols, name);
        if (col < 0)
            return fail(a, op->lineno, "table %s has no column named %s", op->table, name);
        for (int k = 0; k < i; k++)
            if (a->cols[k] == col)
                return fail(a, op->lineno, "\"set\" names column %s twice", name);
        char why[256];
        if (jv_decode_value(&a->set.v[i], value, &a->arena, why, sizeof why) != 0)
            return fail(a, op->lineno, "\"set\".%s: %s", name, why);
        a->cols[i++] = col;
    }
    a->set.n = i;
    return 0;
}

/* Patch a WITHOUT ROWID row: read it by its key, replace the set columns and
 * write it back. The old values are copied out of the cursor first: the
 * update rewrites the pages they point into. */
static int patch_by_key(cli_apply *a, const op_line *op, folio_table *t, int ncols)
{
    folio_cursor *c = NULL;
    int rc = folio_cursor_open(&c, t, NULL);
    if (rc < 0)
        return fail_db(a, op->lineno, rc);
    rc = folio_cursor_seek(c, a->key.v, a->key.n, FOLIO_SEEK_EQ);
    if (rc == FOLIO_NOTFOUND) {
        folio_cursor_close(c);
        return fail(a, op->lineno, "no row with that key in %s", op->table);
    }
    if (!vec_reserve(&a->vals, ncols)) {
        folio_cursor_close(c);
        return fail(a, op->lineno, "out of memory");
    }
    for (int i = 0; i < ncols && rc >= 0; i++) {
        folio_value *v = &a->vals.v[i];
        rc = folio_cursor_column(v, c, i);
        if (rc >= 0 && (v->type == FOLIO_TEXT || v->type == FOLIO_BLOB) && v->u.s.n > 0) {
            void *copy = cli_arena_alloc(&a->arena, v->u.s.n);
            if (!copy) {
                folio_cursor_close(c);
                return fail(a, op->lineno, "out of memory");
            }
            memcpy(copy, v->u.s.p, v->u.s.n);
            v->u.s.p = copy;
        }
    }
    folio_cursor_close(c);
    if (rc < 0)
        return fail_db(a, op->lineno, rc);
    a->vals.n = ncols;
    for (int i = 0; i < a->set.n; i++)
        a->vals.v[a->cols[i]] = a->set.v[i];
    rc = folio_update_key(t, a->key.v, a->key.n, a->vals.v, a->vals.n);
    return rc != FOLIO_OK ? fail_db(a, op->lineno, rc) : 0;
}

static int run_table_op(cli_apply *a, const op_line *op)
{
    folio_table *t = NULL;
    int rc = folio_table_open(&t, a->txn, op->table);
    if (rc < 0)
        return fail_db(a, op->lineno, rc);
    int without_rowid = folio_table_without_rowid(t) > 0;
    int ncols = folio_table_ncols(t);
    if (ncols < 0)
        return fail_db(a, op->lineno, ncols);
    if (check_addressing(a, op, without_rowid) != 0)
        return -1;
    if (op->values && decode_array(a, op->lineno, op->values, "values", &a->vals) != 0)
        return -1;
    if (op->key) {
        if (decode_array(a, op->lineno, op->key, "key", &a->key) != 0)
            return -1;
        if (a->key.n == 0)
            return fail(a, op->lineno, "\"key\" must not be empty");
    }
    if (op->set && decode_set(a, op, t, ncols) != 0)
        return -1;

    switch (op->spec->kind) {
    case OP_INSERT:
        if (op->has_rowid)
            return insert_at(a, op, t);
        rc = folio_insert(NULL, t, a->vals.v, a->vals.n);
        break;
    case OP_UPDATE:
        rc = without_rowid ? folio_update_key(t, a->key.v, a->key.n, a->vals.v, a->vals.n)
                           : folio_update(t, op->rowid, a->vals.v, a->vals.n);
        break;
    case OP_UPSERT:
        rc = folio_upsert(NULL, t, without_rowid ? 0 : op->rowid, a->vals.v, a->vals.n);
        break;
    case OP_PATCH:
        if (without_rowid)
            return patch_by_key(a, op, t, ncols);
        rc = folio_patch(t, op->rowid, a->cols, a->set.v, a->set.n);
        break;
    case OP_DELETE:
        rc = without_rowid ? folio_delete_key(t, a->key.v, a->key.n) : folio_delete(t, op->rowid);
        break;
    case OP_EXEC:
    default:
        return fail(a, op->lineno, "internal error: bad op");
    }
    /* FOLIO_NOTFOUND (a missing row) is a status, not an error code, but
     * an error here. */
    return rc != FOLIO_OK ? fail_db(a, op->lineno, rc) : 0;
}

static int run_op(cli_apply *a, const op_line *op)
{
    if (!a->txn) {
        int rc = folio_begin(&a->txn, a->db, FOLIO_TXN_WRITE);
        if (rc < 0) {
            a->txn = NULL;
            return fail(a, op->lineno, "cannot begin a write transaction: %s", db_message(a, rc));
        }
    }
    if (op->spec->kind == OP_EXEC) {
        const char *sql;
        if (get_cstring(a, op, "sql", &sql) != 0)
            return -1;
        int rc = folio_exec(a->txn, sql);
        return rc < 0 ? fail_db(a, op->lineno, rc) : 0;
    }
    return run_table_op(a, op);
}

/* ---- A change feed ---------------------------------------------------------------- */

static const char replica_sql[] = "CREATE TABLE IF NOT EXISTS _folio_replica(source TEXT PRIMARY "
                                  "KEY, version INTEGER NOT NULL)";

/* The row of `source` in _folio_replica: 1 with its rowid and version, 0 when
 * there is none, or a folio error. */
static int replica_find(folio_table *t, const char *source, int64_t *rowid, int64_t *version)
{
    folio_cursor *c;
    int rc = folio_cursor_open(&c, t, NULL);
    if (rc < 0)
        return rc;
    size_t n = strlen(source);
    int found = 0;
    for (rc = folio_cursor_first(c); rc == FOLIO_ROW && !found; rc = folio_cursor_next(c)) {
        folio_value s, v;
        if ((rc = folio_cursor_column(&s, c, 0)) < 0 || (rc = folio_cursor_column(&v, c, 1)) < 0)
            break;
        if (s.type == FOLIO_TEXT && s.u.s.n == n && memcmp(s.u.s.p, source, n) == 0) {
            *rowid = folio_cursor_rowid(c);
            *version = v.type == FOLIO_INTEGER ? v.u.i : 0;
            found = 1;
        }
    }
    folio_cursor_close(c);
    return rc < 0 ? rc : found;
}

/* The last version of a->source the replica holds, into a->applied. */
static int replica_read(cli_apply *a, uint64_t lineno)
{
    a->applied = 0;
    folio_txn *t;
    int rc = folio_begin(&t, a->db, FOLIO_TXN_READ);
    if (rc < 0)
        return fail_db(a, lineno, rc);
    folio_table *tb;
    rc = folio_table_open(&tb, t, "_folio_replica");
    if (rc == FOLIO_NOTFOUND_ERR) {
        folio_rollback(t);
        return 0;
    }
    int64_t rowid = 0, version = 0;
    if (rc >= 0)
        rc = replica_find(tb, a->source, &rowid, &version);
    if (rc < 0) {
        int r = fail_db(a, lineno, rc);
        folio_rollback(t);
        return r;
    }
    folio_rollback(t);
    a->applied = version > 0 ? (uint64_t)version : 0;
    return 0;
}

/* Record version `v` of a->source in the open transaction. */
static int replica_record(cli_apply *a, uint64_t lineno, uint64_t v)
{
    folio_table *t;
    int rc = folio_table_open(&t, a->txn, "_folio_replica");
    if (rc == FOLIO_NOTFOUND_ERR && (rc = folio_exec(a->txn, replica_sql)) >= 0)
        rc = folio_table_open(&t, a->txn, "_folio_replica");
    int64_t rowid = 0, old = 0;
    if (rc >= 0)
        rc = replica_find(t, a->source, &rowid, &old);
    if (rc < 0)
        return fail_db(a, lineno, rc);
    folio_value vals[2];
    memset(vals, 0, sizeof vals);
    vals[0].type = FOLIO_TEXT;
    vals[0].u.s.p = a->source;
    vals[0].u.s.n = strlen(a->source);
    vals[1].type = FOLIO_INTEGER;
    vals[1].u.i = (int64_t)v;
    rc = rc == 1 ? folio_update(t, rowid, vals, 2) : folio_insert(NULL, t, vals, 2);
    return rc < 0 ? fail_db(a, lineno, rc) : 0;
}

/* "DROP <what> \"name\"" with the name quoted. */
static int drop_named(cli_apply *a, uint64_t lineno, const char *what, const char *name)
{
    size_t n = strlen(name), k = 0;
    char *sql = malloc(strlen(what) + 2 * n + 16);
    if (!sql)
        return fail(a, lineno, "out of memory");
    k = (size_t)sprintf(sql, "DROP %s \"", what);
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '"')
            sql[k++] = '"';
        sql[k++] = name[i];
    }
    sql[k++] = '"';
    sql[k] = 0;
    int rc = folio_exec(a->txn, sql);
    free(sql);
    return rc < 0 ? fail_db(a, lineno, rc) : 0;
}

/* A snapshot begins: every table and view of the replica goes (but
 * _folio_replica), and every row of sqlite_sequence. */
static int wipe(cli_apply *a, uint64_t lineno)
{
    int n = folio_schema_count(a->txn);
    if (n < 0)
        return fail_db(a, lineno, n);
    char **names = calloc((size_t)n + 1, sizeof *names);
    int *views = calloc((size_t)n + 1, sizeof *views);
    int k = 0, rc = names && views ? 0 : -1;
    for (int i = 0; i < n && rc == 0; i++) {
        folio_schema_entry e;
        if (folio_schema_get(&e, a->txn, i) < 0 || !e.type || !e.name)
            continue;
        int view = strcmp(e.type, "view") == 0;
        if ((!view && strcmp(e.type, "table") != 0) || strncmp(e.name, "sqlite_", 7) == 0 ||
            strcmp(e.name, "_folio_replica") == 0)
            continue;
        views[k] = view;
        if (!(names[k++] = strdup(e.name)))
            rc = -1;
    }
    if (rc < 0)
        rc = fail(a, lineno, "out of memory");
    for (int pass = 1; pass >= 0 && rc == 0; pass--)
        for (int i = 0; i < k && rc == 0; i++)
            if (views[i] == pass)
                rc = drop_named(a, lineno, pass ? "VIEW" : "TABLE", names[i]);
    for (int i = 0; i < k; i++)
        free(names[i]);
    free(names);
    free(views);
    if (rc != 0)
        return -1;
    folio_table *seq;
    if (folio_table_open(&seq, a->txn, "sqlite_sequence") < 0)
        return 0;
    for (;;) {
        folio_cursor *c;
        if ((rc = folio_cursor_open(&c, seq, NULL)) < 0)
            return fail_db(a, lineno, rc);
        rc = folio_cursor_first(c);
        int64_t rowid = rc == FOLIO_ROW ? folio_cursor_rowid(c) : 0;
        folio_cursor_close(c);
        if (rc < 0)
            return fail_db(a, lineno, rc);
        if (rc != FOLIO_ROW)
            return 0;
        if ((rc = folio_delete(seq, rowid)) < 0)
            return fail_db(a, lineno, rc);
    }
}

/* One line of a change feed. */
static int feed_line(cli_apply *a, const op_line *op)
{
    op_kind k = op->spec->kind;
    if (k == OP_SOURCE) {
        if (a->cur)
            return fail(a, op->lineno, "\"source\" inside version %llu",
                        (unsigned long long)a->cur);
        const char *s;
        if (get_cstring(a, op, "source", &s) != 0)
            return -1;
        free(a->source);
        if (!(a->source = strdup(s)))
            return fail(a, op->lineno, "out of memory");
        return replica_read(a, op->lineno);
    }
    if (!a->source)
        return fail(a, op->lineno, "a feed begins with its {\"op\":\"source\"} line");
    if (a->cur && op->version != a->cur)
        return fail(a, op->lineno,
                    "version %llu begins before version %llu ended (no \"commit\" line)",
                    (unsigned long long)op->version, (unsigned long long)a->cur);
    if (!a->cur) {
        a->cur = op->version;
        a->cur_line = op->lineno;
        a->skipping = op->version <= a->applied;
        if (!a->skipping) {
            int rc = folio_begin(&a->txn, a->db, FOLIO_TXN_WRITE | FOLIO_TXN_REPLICA);
            if (rc < 0) {
                a->txn = NULL;
                return fail(a, op->lineno, "cannot begin a write transaction: %s",
                            db_message(a, rc));
            }
        }
    }
    if (a->skipping) {
        if (k == OP_COMMIT) {
            a->cur = 0;
            a->versions_skipped++;
        }
        return 0;
    }
    if (k == OP_SNAPSHOT)
        return wipe(a, op->lineno);
    if (k != OP_COMMIT)
        return run_op(a, op);
    if (replica_record(a, op->lineno, a->cur) != 0)
        return -1;
    if (apply_commit(a) != 0) {
        char why[APPLY_ERR_MAX];
        snprintf(why, sizeof why, "%s", a->err);
        return fail(a, op->lineno, "%s", why);
    }
    a->applied = a->cur;
    a->cur = 0;
    a->versions_applied++;
    return 0;
}

static int is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    return 1;
}

int apply_line(cli_apply *a, uint64_t lineno, const char *line, size_t n)
{
    if (is_blank(line, n))
        return 0;
    json_error_t jerr;
    op_line op;
    memset(&op, 0, sizeof op);
    op.lineno = lineno;
    op.root = json_loadb(line, n, JV_LOAD_FLAGS, &jerr);
    if (!op.root)
        return fail(a, lineno, "invalid JSON: %s (column %d)", jerr.text, jerr.column);
    if (a->mode == 0) {
        /* The first line says whether the input is a change feed. */
        const json_t *jop = json_object_get(op.root, "op");
        int feed = json_object_get(op.root, "version") ||
                   (json_is_string(jop) && strcmp(json_string_value(jop), "source") == 0);
        a->mode = feed ? 2 : 1;
        if (feed && a->autocommit) {
            json_decref(op.root);
            return fail(a, lineno,
                        "--autocommit does not apply to a change feed (each "
                        "version is one transaction)");
        }
    }
    int rc = parse_op(a, &op);
    if (rc == 0)
        rc = a->mode == 2 ? feed_line(a, &op) : run_op(a, &op);
    json_decref(op.root);
    cli_arena_reset(&a->arena);
    if (rc != 0)
        return -1;
    a->ops++;
    if (a->mode != 2 && a->autocommit && apply_commit(a) != 0) {
        char why[APPLY_ERR_MAX];
        snprintf(why, sizeof why, "%s", a->err);
        return fail(a, lineno, "%s", why);
    }
    return 0;
}

int apply_commit(cli_apply *a)
{
    if (!a->txn)
        return 0;
    int rc = folio_commit(a->txn);
    a->txn = NULL;
    if (rc < 0) {
        snprintf(a->err, sizeof a->err, "cannot commit: %s", db_message(a, rc));
        return -1;
    }
    return 0;
}

int apply_input(cli_apply *a, cli_input *in, cli_progress *prog)
{
    const char *line;
    size_t n;
    int got;
    while ((got = input_line(in, &line, &n)) > 0) {
        if (apply_line(a, in->line, line, n) != 0)
            return -1;
        if (prog)
            progress_update_sized(prog, in->line, in->pos);
    }
    if (got < 0) {
        rollback(a);
        snprintf(a->err, sizeof a->err, "cannot read %s: %s", in->name, strerror(in->err));
        return -1;
    }
    if (a->mode == 2 && a->cur && !a->skipping) {
        rollback(a);
        snprintf(a->err, sizeof a->err,
                 "the input ends inside version %llu (from line %llu): its changes were not "
                 "applied; feed the replica again to go on",
                 (unsigned long long)a->cur, (unsigned long long)a->cur_line);
        a->cur = 0;
        return -1;
    }
    return apply_commit(a);
}

void apply_free(cli_apply *a)
{
    rollback(a);
    free(a->source);
    a->source = NULL;
    cli_arena_free(&a->arena);
    free(a->vals.v);
    free(a->key.v);
    free(a->set.v);
    free(a->cols);
    memset(&a->vals, 0, sizeof a->vals);
    memset(&a->key, 0, sizeof a->key);
    memset(&a->set, 0, sizeof a->set);
    a->cols = NULL;
    a->cols_cap = 0;
}
