/*
 * edges.c - graph edges: folio_relate, folio_unrelate and the folio_edges
 * walker, over two ordinary tables (their statements are below, and in
 * folio.h):
 *
 *   _concepts(key TEXT PRIMARY KEY NOT NULL, data)
 *   _relations(source_key, target_key, kind, weight, data) WITHOUT ROWID,
 *       keyed by (source_key, target_key, kind)
 *   _relations_target ON _relations(target_key, kind, source_key)
 *
 * Everything goes through the record API (folio_exec, folio_insert,
 * folio_update_key, folio_delete_key, cursors and seeks), so the tables get
 * affinity, constraints and index upkeep as any other table does.
 *
 * A relate is one statement made of several row calls (and DDL on first
 * use): it begins the pager's statement itself and runs the calls with
 * txn->stmt_nested set, so that a failure at any step undoes every step.
 * Two things make that safe. Deferred index entries (defer.c) are put into
 * their indexes before the statement begins, because the undo restores
 * pages, not the queue; and inside the statement no entry is deferred
 * (index_defer_wanted). When the undone statement ran DDL, the catalog is
 * read again, as folio_exec does after a failure.
 *
 * The walker keeps no cursor between steps: each folio_edges_next opens a
 * cursor, seeks past the edge it returned last (its key, kept with the
 * edge), takes the next edge's values into the walker's own buffer and
 * closes the cursor. It therefore pins nothing, survives writes between
 * steps, and may be closed after its transaction ended. The key it seeks by
 * is the whole key of the tree it walks: (source, target, kind) for the
 * table, (target, kind, source) for the index, so every seek is exact.
 */
#include "db/write_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CONCEPTS     "_concepts"
#define RELATIONS    "_relations"
#define TARGET_INDEX "_relations_target"

static const char concepts_sql[] = "CREATE TABLE _concepts(key TEXT PRIMARY KEY NOT NULL, data)";
static const char relations_sql[] =
    "CREATE TABLE _relations(source_key TEXT, target_key TEXT, kind TEXT, weight REAL, data, "
    "PRIMARY KEY(source_key, target_key, kind)) WITHOUT ROWID";
static const char target_sql[] =
    "CREATE INDEX _relations_target ON _relations(target_key, kind, source_key)";

/* Columns of _relations, in declared order. */
enum { R_SOURCE, R_TARGET, R_KIND, R_WEIGHT, R_DATA, R_NCOLS };
static const char *const relations_cols[R_NCOLS] = {"source_key", "target_key", "kind", "weight",
                                                    "data"};

/* The walker's phase after both walks. */
#define EDGES_END 4

static folio_value text_value(const char *s, size_t n)
{
    folio_value v;
    memset(&v, 0, sizeof v);
    v.type = FOLIO_TEXT;
    v.u.s.p = s;
    v.u.s.n = n;
    return v;
}

/* Whether `v` is TEXT with exactly the n bytes at s. */
static int text_is(const folio_value *v, const char *s, size_t n)
{
    return v->type == FOLIO_TEXT && v->u.s.n == n && (n == 0 || memcmp(v->u.s.p, s, n) == 0);
}

/* ---- the tables' shape ---- */

/* The edge tables as the transaction sees them; each NULL when missing. */
typedef struct edge_schema {
    db_table *concepts, *relations;
    db_index *concepts_key; /* a rowid _concepts: the unique index of its key */
    db_index *target;       /* _relations_target */
} edge_schema;

static int shape_error(folio_txn *txn, const char *what, const char *why, const char *sql)
{
    return db_err(txn->db, FOLIO_ERROR,
                  "%s does not have the shape of graph edges (%s): expected %s", what, why, sql);
}

static int unreadable(folio_txn *txn, const db_table *t)
{
    return db_err(txn->db, FOLIO_UNSUPPORTED, "table %s cannot be read: %s", t->name,
                  t->unsupported ? t->unsupported
                                 : (t->parse_error ? t->parse_error : "unknown definition"));
}

/* Columns named `names` in this order, none generated. */
static const char *columns_differ(const db_table *t, const char *const *names, int n)
{
    if (t->def.ncols != n)
        return "another number of columns";
    for (int i = 0; i < n; i++) {
        if (!sch_ident_eq(t->def.cols[i].name, names[i]))
            return "other column names";
        if (t->def.cols[i].generated)
            return "a generated column";
    }
    return NULL;
}

/* An index key of exactly these table columns, ASC and BINARY, on every row. */
static int index_is(const db_index *ix, const int *cols, int n)
{
    if (ix->ncols != n || ix->partial || ix->has_expr || !ix->cols)
        return 0;
    for (int i = 0; i < n; i++)
        if (ix->cols[i] != cols[i] || ix->desc[i] || ix->coll[i] != SCH_COLL_BINARY)
            return 0;
    return 1;
}

static int relations_shape(folio_txn *txn, const db_table *t)
{
    if (!t->parsed)
        return unreadable(txn, t);
    const char *why = columns_differ(t, relations_cols, R_NCOLS);
    if (!why && !t->def.without_rowid)
        why = "it has rowids";
    if (!why && t->def.npk != 3)
        why = "another primary key";
    for (int k = 0; !why && k < 3; k++)
        if (t->def.pk[k].col != k || t->pk_desc[k] || t->pk_coll[k] != SCH_COLL_BINARY)
            why = "another primary key";
    return why ? shape_error(txn, "table " RELATIONS, why, relations_sql) : 0;
}

static int concepts_shape(folio_txn *txn, db_table *t, db_index **out_key)
{
    static const char *const names[] = {"key", "data"};
    *out_key = NULL;
    if (!t->parsed)
        return unreadable(txn, t);
    const char *why = columns_differ(t, names, 2);
    if (!why && t->def.without_rowid) {
        if (t->def.npk != 1 || t->def.pk[0].col != 0 || t->pk_coll[0] != SCH_COLL_BINARY)
            why = "key is not its primary key";
    } else if (!why) {
        static const int key_col[] = {0};
        for (int i = 0; i < t->nidx && !*out_key; i++)
            if (t->idx[i]->unique && index_is(t->idx[i], key_col, 1))
                *out_key = t->idx[i];
        if (!*out_key)
            why = "key is not unique";
    }
    return why ? shape_error(txn, "table " CONCEPTS, why, concepts_sql) : 0;
}

static int target_shape(folio_txn *txn, const db_index *ix)
{
    static const int cols[] = {R_TARGET, R_KIND, R_SOURCE};
    if (!sch_ident_eq(ix->table->name, RELATIONS))
        return shape_error(txn, "index " TARGET_INDEX, "it is not on " RELATIONS, target_sql);
    if (!index_is(ix, cols, 3))
        return shape_error(txn, "index " TARGET_INDEX, "another key", target_sql);
    return 0;
}

/* Find the edge tables and check their shape (_concepts only when asked). */
static int edge_schema_get(folio_txn *txn, edge_schema *s, int with_concepts)
{
    int rc;
    memset(s, 0, sizeof *s);
    s->relations = catalog_find_table(txn->cat, RELATIONS);
    if (s->relations && (rc = relations_shape(txn, s->relations)) < 0)
        return rc;
    s->target = catalog_find_index(txn->cat, TARGET_INDEX);
    if (s->target && (rc = target_shape(txn, s->target)) < 0)
        return rc;
    if (with_concepts && (s->concepts = catalog_find_table(txn->cat, CONCEPTS)) &&
        (rc = concepts_shape(txn, s->concepts, &s->concepts_key)) < 0)
        return rc;
    return 0;
}

/* ---- arguments ---- */

static int key_arg(folio_txn *txn, const char *key, const char *name)
{
    if (!key)
        return db_err(txn->db, FOLIO_MISUSE, "bad argument: %s is NULL", name);
    if (!key[0])
        return db_err(txn->db, FOLIO_MISUSE, "bad argument: %s is empty", name);
    return 0;
}

/* What every writing edge call checks first. */
static int write_args(folio_txn *txn, const char *source_key, const char *target_key)
{
    int rc;
    if ((rc = key_arg(txn, source_key, "source_key")) < 0 ||
        (rc = key_arg(txn, target_key, "target_key")) < 0)
        return rc;
    if (txn->done)
        return db_err(txn->db, FOLIO_MISUSE, "the transaction has ended");
    if (!txn->write)
        return db_err(txn->db, FOLIO_READONLY, "a read transaction cannot write");
    if (txn->stmt_nested)
        return db_err(txn->db, FOLIO_MISUSE, "a statement is already under way");
    return 0;
}

/* ---- lookups ---- */

/* Whether table `t` (through index `index`, NULL: its primary key) has an
 * entry equal to the n key values. */
static int key_exists(folio_table *t, const char *index, const folio_value *key, int n, int *found)
{
    folio_cursor *c;
    int rc = folio_cursor_open(&c, t, index);
    if (rc < 0)
        return rc;
    rc = folio_cursor_seek(c, key, n, FOLIO_SEEK_EQ);
    folio_cursor_close(c);
    if (rc < 0)
        return rc;
    *found = rc == FOLIO_ROW;
    return 0;
}

static int edge_exists(folio_txn *txn, const folio_value *key3, int *found)
{
    folio_table *rt;
    int rc = folio_table_open(&rt, txn, RELATIONS);
    return rc < 0 ? rc : key_exists(rt, NULL, key3, 3, found);
}

/* Insert concept `key` unless it exists. */
static int concept_ensure(folio_table *ct, const db_index *key_index, const char *key)
{
    folio_value row[2];
    row[0] = text_value(key, strlen(key));
    memset(&row[1], 0, sizeof row[1]);
    row[1].type = FOLIO_NULL;
    int found = 0;
    int rc = key_exists(ct, key_index ? key_index->name : NULL, row, 1, &found);
    if (rc < 0 || found)
        return rc;
    return folio_insert(NULL, ct, row, 2);
}

/* ---- relate ---- */

/* Run one statement's body with txn->stmt_nested set: the row calls (and
 * DDL) inside it neither begin nor end statements of their own. */
typedef int (*statement_body)(folio_txn *txn, void *arg);

static int run_statement(folio_txn *txn, statement_body body, void *arg, int with_ddl)
{
    int rc = write_begin(txn, NULL);
    if (rc < 0)
        return rc;
    txn->stmt_nested = 1;
    rc = body(txn, arg);
    txn->stmt_nested = 0;
    rc = write_end(txn, rc < 0 ? rc : 0);
    if (rc < 0 && with_ddl && !txn->poisoned) {
        /* The catalog describes tables the undo took away: read it again. */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", folio_errmsg(txn->db));
        if (ddl_reload_catalog(txn) < 0)
            txn->poisoned = 1;
        db_err(txn->db, rc, "%s", msg);
    }
    return rc;
}

typedef struct relate_args {
    const char *source, *target;
    folio_value row[R_NCOLS]; /* the edge; its first three values are its key */
    edge_schema s;
    int exists; /* the edge is there: update it */
} relate_args;

static int relate_body(folio_txn *txn, void *arg)
{
    relate_args *a = arg;
    int rc = 0;
    int ddl = !a->s.concepts || !a->s.relations || !a->s.target;
    if (!a->s.concepts && (rc = folio_exec(txn, concepts_sql)) < 0)
        return rc;
    if (!a->s.relations && (rc = folio_exec(txn, relations_sql)) < 0)
        return rc;
    if (!a->s.target && (rc = folio_exec(txn, target_sql)) < 0)
        return rc;
    if (ddl && (rc = edge_schema_get(txn, &a->s, 1)) < 0) /* the new objects */
        return rc;
    folio_table *ct, *rt;
    if ((rc = folio_table_open(&ct, txn, CONCEPTS)) < 0 ||
        (rc = folio_table_open(&rt, txn, RELATIONS)) < 0)
        return rc;
    if ((rc = concept_ensure(ct, a->s.concepts_key, a->source)) < 0)
        return rc;
    if (strcmp(a->source, a->target) != 0 &&
        (rc = concept_ensure(ct, a->s.concepts_key, a->target)) < 0)
        return rc;
    if (a->exists)
        return folio_update_key(rt, a->row, 3, a->row, R_NCOLS);
    return folio_insert(NULL, rt, a->row, R_NCOLS);
}

int folio_relate(folio_txn *txn, const char *source_key, const char *target_key, const char *kind,
                 double weight, const folio_value *data)
{
    if (!txn)
        return FOLIO_MISUSE;
    TXN_ON_TIME(txn);
    folio_db *db = txn->db;
    int rc = write_args(txn, source_key, target_key);
    if (rc < 0)
        return rc;
    if (isnan(weight))
        return db_err(db, FOLIO_MISUSE, "bad argument: weight is NaN");
    if (data && (data->type < FOLIO_NULL || data->type > FOLIO_BLOB))
        return db_err(db, FOLIO_MISUSE, "bad argument: data has an invalid type");
    if (!kind)
        kind = "";
    if (txn->pt)
        ptxn_clear_error(txn->pt);
    /* Creating its tables is DDL: a concurrent transaction goes on alone. */
    if (txn->conc &&
        (!catalog_find_table(txn->cat, "_concepts") ||
         !catalog_find_table(txn->cat, "_relations")) &&
        (rc = db_txn_upgrade(txn, "folio_relate (creating its tables)")) < 0)
        return rc;
    relate_args a;
    memset(&a, 0, sizeof a);
    a.source = source_key;
    a.target = target_key;
    a.row[R_SOURCE] = text_value(source_key, strlen(source_key));
    a.row[R_TARGET] = text_value(target_key, strlen(target_key));
    a.row[R_KIND] = text_value(kind, strlen(kind));
    a.row[R_WEIGHT].type = FOLIO_REAL;
    a.row[R_WEIGHT].u.r = weight;
    if (data)
        a.row[R_DATA] = *data;
    else
        a.row[R_DATA].type = FOLIO_NULL;
    if ((rc = edge_schema_get(txn, &a.s, 1)) < 0)
        return rc;
    if (a.s.relations && (rc = edge_exists(txn, a.row, &a.exists)) < 0)
        return rc;
    /* Deferred entries go into their indexes before the statement (see the
     * top of this file): every table's when DDL will run, else the two. */
    int ddl = !a.s.concepts || !a.s.relations || !a.s.target;
    if (ddl)
        rc = write_flush(txn, NULL);
    else if ((rc = write_flush(txn, a.s.relations)) == 0)
        rc = write_flush(txn, a.s.concepts);
    if (rc < 0)
        return rc;
    return run_statement(txn, relate_body, &a, ddl);
}

/* ---- unrelate ---- */

/* The kinds of the edges from one source to one target, as stored. */
typedef struct kind_list {
    int n, cap;
    folio_value *v; /* TEXT and BLOB bytes: offsets into bytes until kinds_fix */
    uint8_t *bytes;
    size_t used, bcap;
} kind_list;

static int kinds_add(kind_list *k, const folio_value *v)
{
    if (k->n == k->cap) {
        int cap = k->cap ? 2 * k->cap : 8;
        folio_value *nv = os_realloc(k->v, sizeof *nv * (size_t)cap);
        if (!nv)
            return FOLIO_NOMEM;
        k->v = nv;
        k->cap = cap;
    }
    folio_value *d = &k->v[k->n++];
    *d = *v;
    if (v->type == FOLIO_TEXT || v->type == FOLIO_BLOB) {
        if (k->used + v->u.s.n + 1 > k->bcap) {
            size_t cap = 2 * (k->used + v->u.s.n + 1);
            uint8_t *nb = os_realloc(k->bytes, cap);
            if (!nb)
                return FOLIO_NOMEM;
            k->bytes = nb;
            k->bcap = cap;
        }
        if (v->u.s.n)
            memcpy(k->bytes + k->used, v->u.s.p, v->u.s.n);
        d->u.s.p = (const void *)(uintptr_t)k->used;
        k->used += v->u.s.n;
    }
    return 0;
}

/* Turn the byte offsets into pointers (the buffer no longer moves). */
static void kinds_fix(kind_list *k)
{
    for (int i = 0; i < k->n; i++)
        if (k->v[i].type == FOLIO_TEXT || k->v[i].type == FOLIO_BLOB)
            k->v[i].u.s.p = k->bytes + (uintptr_t)k->v[i].u.s.p;
}

static void kinds_free(kind_list *k)
{
    os_free(k->v);
    os_free(k->bytes);
}

/* Every stored kind of the edges (key[0], key[1], *). */
static int kinds_collect(folio_table *rt, const folio_value *key, kind_list *out)
{
    folio_cursor *c;
    int rc = folio_cursor_open(&c, rt, NULL);
    if (rc < 0)
        return rc;
    rc = folio_cursor_seek(c, key, 2, FOLIO_SEEK_GE);
    for (; rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
        folio_value s, t, k;
        if ((rc = folio_cursor_column(&s, c, R_SOURCE)) < 0 ||
            (rc = folio_cursor_column(&t, c, R_TARGET)) < 0)
            break;
        if (!text_is(&s, key[0].u.s.p, key[0].u.s.n) || !text_is(&t, key[1].u.s.p, key[1].u.s.n))
            break;
        if ((rc = folio_cursor_column(&k, c, R_KIND)) < 0)
            break;
        if ((rc = kinds_add(out, &k)) < 0) {
            rc = db_err(rt->txn->db, rc, "out of memory");
            break;
        }
    }
    folio_cursor_close(c);
    return rc < 0 ? rc : 0;
}

typedef struct unrelate_args {
    folio_table *rt;
    folio_value key[3];
    const kind_list *kinds;
} unrelate_args;

static int unrelate_body(folio_txn *txn, void *arg)
{
    unrelate_args *a = arg;
    for (int i = 0; i < a->kinds->n; i++) {
        a->key[R_KIND] = a->kinds->v[i];
        int rc = folio_delete_key(a->rt, a->key, 3);
        if (rc != 0)
            return rc < 0 ? rc : db_err(txn->db, FOLIO_CORRUPT, "an edge of _relations vanished");
    }
    return 0;
}

int folio_unrelate(folio_txn *txn, const char *source_key, const char *target_key, const char *kind)
{
    if (!txn)
        return FOLIO_MISUSE;
    TXN_ON_TIME(txn);
    int rc = write_args(txn, source_key, target_key);
    if (rc < 0)
        return rc;
    edge_schema s;
    if ((rc = edge_schema_get(txn, &s, 0)) < 0)
        return rc;
    unrelate_args a;
    memset(&a, 0, sizeof a);
    a.key[R_SOURCE] = text_value(source_key, strlen(source_key));
    a.key[R_TARGET] = text_value(target_key, strlen(target_key));
    kind_list kinds;
    memset(&kinds, 0, sizeof kinds);
    if (s.relations) {
        if ((rc = write_flush(txn, s.relations)) < 0 ||
            (rc = folio_table_open(&a.rt, txn, RELATIONS)) < 0)
            return rc;
        if (kind) {
            int found = 0;
            a.key[R_KIND] = text_value(kind, strlen(kind));
            if ((rc = key_exists(a.rt, NULL, a.key, 3, &found)) < 0)
                return rc;
            if (found)
                rc = kinds_add(&kinds, &a.key[R_KIND]);
        } else {
            rc = kinds_collect(a.rt, a.key, &kinds);
        }
        if (rc < 0) {
            kinds_free(&kinds);
            return rc == FOLIO_NOMEM ? db_err(txn->db, rc, "out of memory") : rc;
        }
    }
    if (kinds.n == 0) {
        kinds_free(&kinds);
        if (kind)
            return db_err(txn->db, FOLIO_NOTFOUND, "no edge from %s to %s of kind '%s'", source_key,
                          target_key, kind);
        return db_err(txn->db, FOLIO_NOTFOUND, "no edge from %s to %s", source_key, target_key);
    }
    kinds_fix(&kinds);
    a.kinds = &kinds;
    rc = run_statement(txn, unrelate_body, &a, 0);
    kinds_free(&kinds);
    return rc;
}

/* ---- the walker ---- */

struct folio_edges {
    folio_txn *txn;
    int dir;        /* as asked: FOLIO_EDGES_OUT and/or FOLIO_EDGES_IN */
    int phase;      /* 0 before the first step, FOLIO_EDGES_OUT, FOLIO_EDGES_IN, EDGES_END */
    int positioned; /* the phase returned an edge: the next step goes on after it */
    int valid;      /* cur is an edge */
    char *key;
    size_t nkey;
    char *kind; /* the kind filter, or NULL */
    size_t nkind;
    /* The current edge. Its key values as stored (source, target, kind) for
     * the next seek, and the edge the caller sees: both point into buf. */
    folio_value last[3];
    folio_edge cur;
    uint8_t *buf;
    size_t cap;
};

static char *copy_text(const char *s, size_t *out_n)
{
    size_t n = strlen(s);
    char *p = os_malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    *out_n = n;
    return p;
}

int folio_edges_open(folio_edges **out, folio_txn *txn, const char *key, int dir)
{
    if (!txn)
        return FOLIO_MISUSE;
    TXN_ON_TIME(txn);
    FOLIO_CHECK_ARG(txn->db, out != NULL);
    *out = NULL;
    int rc = key_arg(txn, key, "key");
    if (rc < 0)
        return rc;
    if (dir < FOLIO_EDGES_OUT || dir > (FOLIO_EDGES_OUT | FOLIO_EDGES_IN))
        return db_err(txn->db, FOLIO_MISUSE,
                      "bad argument: dir is FOLIO_EDGES_OUT, FOLIO_EDGES_IN or both, not %d", dir);
    if (txn->done)
        return db_err(txn->db, FOLIO_MISUSE, "the transaction has ended");
    folio_edges *e = os_calloc(1, sizeof *e);
    if (!e || !(e->key = copy_text(key, &e->nkey))) {
        os_free(e);
        return db_err(txn->db, FOLIO_NOMEM, "out of memory");
    }
    e->txn = txn;
    e->dir = dir;
    *out = e;
    return FOLIO_OK;
}

int folio_edges_kind(folio_edges *e, const char *kind)
{
    if (!e)
        return FOLIO_MISUSE;
    if (e->phase != 0)
        return db_err(e->txn->db, FOLIO_MISUSE, "the kind is set before the walk's first step");
    char *k = NULL;
    size_t n = 0;
    if (kind && !(k = copy_text(kind, &n)))
        return db_err(e->txn->db, FOLIO_NOMEM, "out of memory");
    os_free(e->kind);
    e->kind = k;
    e->nkind = n;
    return FOLIO_OK;
}

/* A key value as the text of folio_edge: TEXT and BLOB bytes as they are,
 * numbers in decimal (%lld, %.15g), NULL as "". Only files written by other
 * programs hold keys that are not TEXT. */
static size_t key_text(const folio_value *v, char num[32], const void **out)
{
    if (v->type == FOLIO_TEXT || v->type == FOLIO_BLOB) {
        *out = v->u.s.p;
        return v->u.s.n;
    }
    int n = 0;
    if (v->type == FOLIO_INTEGER)
        n = snprintf(num, 32, "%lld", (long long)v->u.i);
    else if (v->type == FOLIO_REAL)
        n = snprintf(num, 32, "%.15g", v->u.r);
    *out = num;
    return n > 0 ? (size_t)n : 0;
}

/* Make the row under `c` the current edge: its values copied into the
 * walker, since the cursor closes before the caller reads them. */
static int capture(folio_edges *e, folio_cursor *c, int dir)
{
    folio_value v[R_NCOLS];
    for (int i = 0; i < R_NCOLS; i++) {
        int rc = folio_cursor_column(&v[i], c, i);
        if (rc < 0)
            return rc;
    }
    char num[3][32];
    const void *src[3];
    size_t len[3], need = 0;
    for (int i = 0; i < 3; i++) {
        len[i] = key_text(&v[i], num[i], &src[i]);
        need += len[i] + 1;
    }
    int data_bytes = v[R_DATA].type == FOLIO_TEXT || v[R_DATA].type == FOLIO_BLOB;
    if (data_bytes)
        need += v[R_DATA].u.s.n + 1;
    if (need > e->cap) {
        uint8_t *nb = os_realloc(e->buf, need);
        if (!nb)
            return db_err(e->txn->db, FOLIO_NOMEM, "out of memory");
        e->buf = nb;
        e->cap = need;
    }
    size_t off = 0;
    const char *text[3];
    for (int i = 0; i < 3; i++) {
        if (len[i])
            memcpy(e->buf + off, src[i], len[i]);
        e->buf[off + len[i]] = 0;
        text[i] = (const char *)e->buf + off;
        e->last[i] = v[i];
        if (v[i].type == FOLIO_TEXT || v[i].type == FOLIO_BLOB)
            e->last[i].u.s.p = e->buf + off;
        off += len[i] + 1;
    }
    e->cur.source_key = text[R_SOURCE];
    e->cur.target_key = text[R_TARGET];
    e->cur.kind = text[R_KIND];
    const folio_value *w = &v[R_WEIGHT];
    e->cur.weight = w->type == FOLIO_REAL      ? w->u.r
                    : w->type == FOLIO_INTEGER ? (double)w->u.i
                                               : NAN;
    e->cur.data = v[R_DATA];
    if (data_bytes) {
        if (v[R_DATA].u.s.n)
            memcpy(e->buf + off, v[R_DATA].u.s.p, v[R_DATA].u.s.n);
        e->buf[off + v[R_DATA].u.s.n] = 0;
        e->cur.data.u.s.p = e->buf + off;
    }
    e->cur.dir = dir;
    return 0;
}

/*
 * One step of a phase: the next edge after the last one, through `index`
 * (the incoming edges through _relations_target) or the table (outgoing
 * edges by their key prefix; incoming ones by a scan when the file has no
 * index). FOLIO_ROW with the edge captured, FOLIO_DONE, or an error.
 */
static int walk(folio_edges *e, folio_table *rel, const char *index)
{
    int out = e->phase == FOLIO_EDGES_OUT;
    folio_cursor *c;
    int rc = folio_cursor_open(&c, rel, index);
    if (rc < 0)
        return rc;
    folio_value k[3];
    if (e->positioned) {
        /* Past the last edge, by the whole key of the tree walked. */
        if (index) {
            k[0] = e->last[R_TARGET];
            k[1] = e->last[R_KIND];
            k[2] = e->last[R_SOURCE];
        } else {
            memcpy(k, e->last, sizeof k);
        }
        rc = folio_cursor_seek(c, k, 3, FOLIO_SEEK_GT);
    } else if (out || index) {
        int n = 1;
        k[0] = text_value(e->key, e->nkey);
        if (!out && e->kind)
            k[n++] = text_value(e->kind, e->nkind);
        rc = folio_cursor_seek(c, k, n, FOLIO_SEEK_GE);
    } else {
        rc = folio_cursor_first(c);
    }
    for (; rc == FOLIO_ROW; rc = folio_cursor_next(c)) {
        folio_value s, t, kd;
        if ((rc = folio_cursor_column(&s, c, R_SOURCE)) < 0 ||
            (rc = folio_cursor_column(&t, c, R_TARGET)) < 0 ||
            (rc = folio_cursor_column(&kd, c, R_KIND)) < 0)
            break;
        int kind_ok = !e->kind || text_is(&kd, e->kind, e->nkind);
        if (out) {
            if (!text_is(&s, e->key, e->nkey)) {
                rc = FOLIO_DONE; /* past the source's edges */
                break;
            }
        } else {
            if (!text_is(&t, e->key, e->nkey) || !kind_ok) {
                if (index) {
                    rc = FOLIO_DONE; /* past the target's edges (of the kind) */
                    break;
                }
                continue;
            }
            /* An edge from the key to itself came with the outgoing ones. */
            if ((e->dir & FOLIO_EDGES_OUT) && text_is(&s, e->key, e->nkey))
                continue;
        }
        if (!kind_ok)
            continue;
        rc = capture(e, c, e->phase);
        if (rc == 0)
            rc = FOLIO_ROW;
        break;
    }
    folio_cursor_close(c);
    return rc == FOLIO_NOTFOUND ? FOLIO_DONE : rc;
}

static int edges_step(folio_edges *e)
{
    edge_schema s;
    int rc = edge_schema_get(e->txn, &s, 0);
    if (rc < 0)
        return rc;
    if (!s.relations)
        return FOLIO_DONE; /* no edges at all */
    folio_table *rel;
    if ((rc = folio_table_open(&rel, e->txn, RELATIONS)) < 0)
        return rc;
    const char *index = e->phase == FOLIO_EDGES_IN && s.target ? s.target->name : NULL;
    return walk(e, rel, index);
}

int folio_edges_next(folio_edges *e)
{
    if (!e)
        return FOLIO_MISUSE;
    folio_txn *txn = e->txn;
    TXN_ON_TIME(txn);
    if (txn->done)
        return db_err(txn->db, FOLIO_MISUSE, "the transaction has ended");
    e->valid = 0;
    while (e->phase != EDGES_END) {
        if (e->phase == 0) {
            e->phase = e->dir & FOLIO_EDGES_OUT ? FOLIO_EDGES_OUT : FOLIO_EDGES_IN;
            e->positioned = 0;
        }
        int rc = edges_step(e);
        if (rc == FOLIO_ROW) {
            e->positioned = 1;
            e->valid = 1;
            return FOLIO_ROW;
        }
        if (rc < 0)
            return rc;
        e->phase =
            e->phase == FOLIO_EDGES_OUT && (e->dir & FOLIO_EDGES_IN) ? FOLIO_EDGES_IN : EDGES_END;
        e->positioned = 0;
    }
    return FOLIO_DONE;
}

int folio_edges_get(folio_edge *out, const folio_edges *e)
{
    if (!e || !out)
        return FOLIO_MISUSE;
    if (!e->valid)
        return db_err(e->txn->db, FOLIO_MISUSE, "the walk is on no edge");
    *out = e->cur;
    return FOLIO_OK;
}

void folio_edges_close(folio_edges *e)
{
    if (!e)
        return;
    os_free(e->key);
    os_free(e->kind);
    os_free(e->buf);
    os_free(e);
}
