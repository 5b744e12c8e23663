/*
 * trig_pair.c - the two-engine harness of the trigger tests (trig_pair.h):
 * every row call goes to libsqlite3 as the SQL it stands for, then to
 * folio, and the outcomes, messages, rowids, counts and, after every
 * transaction, the files are compared.
 */
#include "trig_pair.h"

#include "compat.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int tp_debug(void)
{
    const char *e = getenv("TRIGDEBUG");
    return e && *e && strcmp(e, "0") != 0;
}

static int ref_mode(void)
{
    const char *e = getenv("TRIGREF");
    return e && *e && strcmp(e, "0") != 0;
}

const char *tp_class_name(int c)
{
    static const char *const n[] = {"ok",       "constraint",  "error", "no such row",
                                    "mismatch", "unsupported", "other", "skipped"};
    return c >= 0 && c <= TP_SKIPPED ? n[c] : "?";
}

/* ---- Values --------------------------------------------------------------- */

static void bind_value(sqlite3_stmt *st, int i, const folio_value *v)
{
    switch (v->type) {
    case FOLIO_NULL:
        sqlite3_bind_null(st, i);
        break;
    case FOLIO_INTEGER:
        sqlite3_bind_int64(st, i, v->u.i);
        break;
    case FOLIO_REAL:
        sqlite3_bind_double(st, i, v->u.r);
        break;
    case FOLIO_TEXT:
        sqlite3_bind_text(st, i, v->u.s.p, (int)v->u.s.n, SQLITE_TRANSIENT);
        break;
    case FOLIO_BLOB:
        sqlite3_bind_blob(st, i, v->u.s.p, (int)v->u.s.n, SQLITE_TRANSIENT);
        break;
    }
}

static void print_value(FILE *f, const folio_value *v)
{
    switch (v->type) {
    case FOLIO_NULL:
        fprintf(f, "NULL");
        break;
    case FOLIO_INTEGER:
        fprintf(f, "%" PRId64, v->u.i);
        break;
    case FOLIO_REAL:
        fprintf(f, "%.17g", v->u.r);
        break;
    case FOLIO_TEXT:
        fprintf(f, "'%.*s'", (int)v->u.s.n, (const char *)v->u.s.p);
        break;
    case FOLIO_BLOB:
        fprintf(f, "x'(%zu bytes)'", v->u.s.n);
        break;
    }
}

void tp_vals_sql(tp_pair *p, tp_vals *out, const char *list)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT %s", list);
    cr_assert_eq(tp_vals_query(p, out, sql), 1, "%s: no row", sql);
}

int tp_vals_query(tp_pair *p, tp_vals *out, const char *sql)
{
    sqlite3_stmt *st = compat_prepare(p->sq, sql);
    int rc = sqlite3_step(st);
    cr_assert(rc == SQLITE_ROW || rc == SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(p->sq));
    out->n = 0;
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return 0;
    }
    out->n = sqlite3_column_count(st);
    cr_assert(out->n <= TP_MAX_COLS, "%s: too many values", sql);
    for (int i = 0; i < out->n; i++) {
        folio_value *v = &out->v[i];
        memset(v, 0, sizeof *v);
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_NULL:
            v->type = FOLIO_NULL;
            break;
        case SQLITE_INTEGER:
            v->type = FOLIO_INTEGER;
            v->u.i = sqlite3_column_int64(st, i);
            break;
        case SQLITE_FLOAT:
            v->type = FOLIO_REAL;
            v->u.r = sqlite3_column_double(st, i);
            break;
        default: {
            int blob = sqlite3_column_type(st, i) == SQLITE_BLOB;
            const void *b = blob ? sqlite3_column_blob(st, i) : sqlite3_column_text(st, i);
            size_t n = (size_t)sqlite3_column_bytes(st, i);
            cr_assert(n < sizeof out->text[i], "%s: value %d too long", sql, i);
            if (n)
                memcpy(out->text[i], b, n);
            out->text[i][n] = 0;
            v->type = blob ? FOLIO_BLOB : FOLIO_TEXT;
            v->u.s.p = out->text[i];
            v->u.s.n = n;
        }
        }
    }
    sqlite3_finalize(st);
    return 1;
}

/* ---- Tables --------------------------------------------------------------- */

void tp_load_tables(tp_pair *p)
{
    p->ntables = 0;
    sqlite3_stmt *st = compat_prepare(p->sq, "SELECT name FROM sqlite_schema WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%' ORDER BY name");
    while (sqlite3_step(st) == SQLITE_ROW) {
        cr_assert(p->ntables < TP_MAX_TABLES, "too many tables");
        tp_table *t = &p->tables[p->ntables++];
        memset(t, 0, sizeof *t);
        snprintf(t->name, sizeof t->name, "%s", (const char *)sqlite3_column_text(st, 0));
        t->ipk = -1;
        t->without_rowid = (int)compat_query_int(
            p->sq, "SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = '%s'",
            t->name);
        char q[160];
        snprintf(q, sizeof q, "SELECT name, pk, upper(type) FROM pragma_table_info('%s')", t->name);
        sqlite3_stmt *ci = compat_prepare(p->sq, q);
        int pkpos[TP_MAX_COLS] = {0};
        while (sqlite3_step(ci) == SQLITE_ROW) {
            cr_assert(t->ncols < TP_MAX_COLS, "table %s: too many columns", t->name);
            snprintf(t->cols[t->ncols], sizeof t->cols[0], "%s",
                     (const char *)sqlite3_column_text(ci, 0));
            int pk = sqlite3_column_int(ci, 1);
            if (pk > 0) {
                pkpos[pk - 1] = t->ncols;
                t->npk = pk > t->npk ? pk : t->npk;
                if (!t->without_rowid &&
                    strcmp((const char *)sqlite3_column_text(ci, 2), "INTEGER") == 0)
                    t->ipk = t->ncols;
            }
            t->ncols++;
        }
        sqlite3_finalize(ci);
        memcpy(t->pk, pkpos, sizeof pkpos);
        if (t->without_rowid || t->npk != 1)
            t->ipk = -1;
    }
    sqlite3_finalize(st);
}

const tp_table *tp_table_named(tp_pair *p, const char *name)
{
    for (int i = 0; i < p->ntables; i++)
        if (strcasecmp(p->tables[i].name, name) == 0)
            return &p->tables[i];
    cr_assert_fail("%s: no table %s in the reference", p->ctx, name);
    return NULL;
}

static int col_index(const tp_table *t, const char *name)
{
    for (int c = 0; c < t->ncols; c++)
        if (strcasecmp(t->cols[c], name) == 0)
            return c;
    cr_assert_fail("table %s has no column %s", t->name, name);
    return -1;
}

/* ---- Opening and closing ----------------------------------------------------- */

static int progress_cb(void *arg)
{
    tp_pair *p = arg;
    p->steps += 1000;
    return p->guard && p->steps > p->steps_limit;
}

static void sqlite_pragmas(sqlite3 *db, int fk, int rec)
{
    compat_execf(db, "PRAGMA foreign_keys=%s; PRAGMA recursive_triggers=%s", fk ? "ON" : "OFF",
                 rec ? "ON" : "OFF");
}

void tp_open(tp_pair *p, const char *dir, const char *name, const char *setup, int fk, int rec)
{
    memset(p, 0, sizeof *p);
    p->dir = compat_path(dir, "");
    char fn[96];
    snprintf(fn, sizeof fn, "%s-base.db", name);
    char *base = compat_path(dir, fn);
    snprintf(fn, sizeof fn, "%s-folio.db", name);
    p->fpath = compat_path(dir, fn);
    snprintf(fn, sizeof fn, "%s-sqlite.db", name);
    p->spath = compat_path(dir, fn);
    p->fk = fk;
    p->rec = rec;
    p->steps_limit = TP_STEP_LIMIT;
    snprintf(p->ctx, sizeof p->ctx, "%s", name);
    sqlite3 *b = compat_sqlite_open(base);
    compat_exec(b, setup);
    compat_sqlite_close(b);
    compat_copy_db(base, p->fpath, 0);
    compat_copy_db(base, p->spath, 0);
    free(base);
    p->sq = compat_sqlite_open(p->spath);
    sqlite_pragmas(p->sq, fk, rec);
    sqlite3_progress_handler(p->sq, 1000, progress_cb, p);
    if (ref_mode()) {
        p->alt = compat_sqlite_open(p->fpath);
        sqlite_pragmas(p->alt, fk, rec);
    } else {
        folio_options o = FOLIO_OPTIONS_INIT;
        o.foreign_keys = fk;
        o.recursive_triggers = rec;
        o.mmap_bytes = compat_mmap_option();
        cr_assert_eq(folio_open(&p->db, p->fpath, &o), FOLIO_OK, "%s: folio_open: %s", p->ctx,
                     folio_open_errmsg());
    }
    tp_load_tables(p);
}

void tp_close(tp_pair *p)
{
    cr_assert(!p->in_txn, "%s: tp_close inside a transaction", p->ctx);
    if (p->alt)
        compat_sqlite_close(p->alt);
    else
        cr_assert_eq(folio_close(p->db), FOLIO_OK, "%s: folio_close: %s", p->ctx,
                     folio_errmsg(p->db));
    compat_sqlite_close(p->sq);
    char *ic = compat_integrity(p->fpath);
    cr_assert_str_eq(ic, "ok", "%s: integrity_check of folio's file %s: %s", p->ctx, p->fpath, ic);
    free(ic);
    compare_check(p->fpath);
    free(p->dir);
    free(p->fpath);
    free(p->spath);
    p->dir = p->fpath = p->spath = NULL;
}

/* ---- Running one statement on a libsqlite3 handle ------------------------------ */

typedef struct ref_out {
    int rc;
    double secs;
    int changes, others;
    int64_t last_rowid;
    int ended; /* the handle left its transaction */
    char msg[512];
} ref_out;

/* SQLite's message when triggers (or foreign key actions) nest too deep. */
static const char too_deep[] = "too many levels of trigger recursion";

static void ref_run(tp_pair *p, sqlite3 *db, const char *sql, const folio_value *b, int nb,
                    ref_out *o)
{
    memset(o, 0, sizeof *o);
    sqlite3_stmt *st = NULL;
    p->steps = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (p->in_txn)
        compat_exec(db, "SAVEPOINT tp_call");
    o->rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (o->rc == SQLITE_OK) {
        for (int i = 0; i < nb; i++)
            bind_value(st, i + 1, &b[i]);
        int before = sqlite3_total_changes(db);
        p->guard = 1;
        o->rc = sqlite3_step(st);
        p->guard = 0;
        o->changes = sqlite3_changes(db);
        o->others = sqlite3_total_changes(db) - before - o->changes;
        o->last_rowid = sqlite3_last_insert_rowid(db);
    }
    snprintf(o->msg, sizeof o->msg, "%s",
             o->rc == SQLITE_DONE || o->rc == SQLITE_OK ? "" : sqlite3_errmsg(db));
    sqlite3_finalize(st);
    o->ended = p->in_txn && sqlite3_get_autocommit(db);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    o->secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (p->in_txn && !o->ended) {
        /* SQLite 3.40 keeps what a statement did before it failed with
         * too_deep when no constraint of the statement (or of the triggers
         * it runs) could abort: it then runs without a statement journal.
         * folio undoes every failed call; so does the reference here. */
        if (strcmp(o->msg, too_deep) == 0) {
            compat_exec(db, "ROLLBACK TO tp_call");
            p->n_too_deep += db == p->sq;
        }
        /* The same with "datatype mismatch" (an INTEGER PRIMARY KEY given
         * text, in a body's INSERT whose other conflicts an UPSERT's DO
         * NOTHING or OR IGNORE takes): the statement keeps what it did
         * before. A mismatch is never kept by OR FAIL: undone here too. */
        if ((o->rc & 0xff) == SQLITE_MISMATCH)
            compat_exec(db, "ROLLBACK TO tp_call");
        compat_exec(db, "RELEASE tp_call");
    }
}

static int ref_class(const ref_out *o, int missing)
{
    if (o->rc == SQLITE_DONE)
        return missing ? TP_NOTFOUND : TP_OK;
    if (o->rc == SQLITE_INTERRUPT)
        return TP_SKIPPED;
    if ((o->rc & 0xff) == SQLITE_CONSTRAINT)
        return TP_CONSTRAINT;
    if ((o->rc & 0xff) == SQLITE_MISMATCH)
        return TP_MISMATCH;
    return TP_ERROR;
}

static int folio_class(int rc)
{
    switch (rc) {
    case FOLIO_OK:
        return TP_OK;
    case FOLIO_NOTFOUND:
        return TP_NOTFOUND;
    case FOLIO_CONSTRAINT:
        return TP_CONSTRAINT;
    case FOLIO_ERROR:
    case FOLIO_NOTFOUND_ERR:
        return TP_ERROR;
    case FOLIO_MISMATCH:
        return TP_MISMATCH;
    case FOLIO_UNSUPPORTED:
        return TP_UNSUPPORTED;
    default:
        return TP_OTHER;
    }
}

/* folio's message says SQLite's: the same, or SQLite's words and then
 * folio's details after ':' or ' '. */
static int same_words(const char *fmsg, const char *smsg)
{
    size_t n = strlen(smsg);
    return strcmp(fmsg, smsg) == 0 ||
           (n > 0 && strncmp(fmsg, smsg, n) == 0 && (fmsg[n] == ':' || fmsg[n] == ' '));
}

/* ---- The calls ------------------------------------------------------------------- */

typedef enum {
    K_INSERT,
    K_UPDATE,
    K_PATCH,
    K_DELETE,
    K_UPSERT,
    K_DELETE_WHERE,
    K_UPDATE_WHERE,
    K_UPDATE_KEY,
    K_DELETE_KEY
} call_kind;

static const char *const kind_names[] = {"insert",       "update",     "patch",
                                         "delete",       "upsert",     "delete_where",
                                         "update_where", "update_key", "delete_key"};

typedef struct call {
    call_kind kind;
    const tp_table *t;
    int64_t rowid;
    const folio_value *key;
    int nkey;
    const folio_value *v;
    int n;
    const int *cols;
    const char *expr;
} call;

/* The SQL of a call and its parameters (values, then the row's key). */
static int call_sql(const call *c, char *sql, size_t cap, folio_value *b)
{
    const tp_table *t = c->t;
    int at = 0, nb = 0;
#define ADD(...) at += snprintf(sql + at, cap - (size_t)at, __VA_ARGS__)
    switch (c->kind) {
    case K_INSERT:
    case K_UPSERT:
        ADD("INSERT INTO %s VALUES(", t->name);
        for (int i = 0; i < c->n; i++) {
            ADD("%s?", i ? ", " : "");
            b[nb++] = c->v[i];
        }
        ADD(")");
        if (c->kind == K_UPSERT) {
            ADD(" ON CONFLICT(");
            if (t->ipk >= 0)
                ADD("%s", t->cols[t->ipk]);
            else
                for (int k = 0; k < t->npk; k++)
                    ADD("%s%s", k ? ", " : "", t->cols[t->pk[k]]);
            ADD(") DO UPDATE SET ");
            for (int i = 0; i < t->ncols; i++)
                ADD("%s%s = excluded.%s", i ? ", " : "", t->cols[i], t->cols[i]);
        }
        break;
    case K_UPDATE:
    case K_UPDATE_KEY:
    case K_PATCH:
    case K_UPDATE_WHERE:
        ADD("UPDATE %s SET ", t->name);
        for (int i = 0; i < c->n; i++) {
            int col = c->kind == K_PATCH || c->kind == K_UPDATE_WHERE ? c->cols[i] : i;
            ADD("%s%s = ?", i ? ", " : "", t->cols[col]);
            b[nb++] = c->v[i];
        }
        break;
    case K_DELETE:
    case K_DELETE_KEY:
    case K_DELETE_WHERE:
        ADD("DELETE FROM %s", t->name);
        break;
    }
    switch (c->kind) {
    case K_UPDATE:
    case K_PATCH:
    case K_DELETE:
        ADD(" WHERE rowid = ?");
        b[nb].type = FOLIO_INTEGER;
        b[nb++].u.i = c->rowid;
        break;
    case K_UPDATE_KEY:
    case K_DELETE_KEY:
        ADD(" WHERE ");
        for (int k = 0; k < c->nkey; k++) {
            ADD("%s%s = ?", k ? " AND " : "", t->cols[t->pk[k]]);
            b[nb++] = c->key[k];
        }
        break;
    case K_DELETE_WHERE:
    case K_UPDATE_WHERE:
        ADD(" WHERE %s", c->expr);
        break;
    default:
        break;
    }
#undef ADD
    cr_assert((size_t)at < cap, "SQL too long");
    return nb;
}

/* Whether the row a single-row call names is missing (in the reference). */
static int row_missing(tp_pair *p, const call *c)
{
    char sql[512];
    folio_value b[TP_MAX_COLS];
    int nb = 0, at;
    if (c->kind == K_UPDATE || c->kind == K_PATCH || c->kind == K_DELETE) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE rowid = ?", c->t->name);
        b[0].type = FOLIO_INTEGER;
        b[0].u.i = c->rowid;
        nb = 1;
    } else if (c->kind == K_UPDATE_KEY || c->kind == K_DELETE_KEY) {
        at = snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE ", c->t->name);
        for (int k = 0; k < c->nkey; k++) {
            at += snprintf(sql + at, sizeof sql - (size_t)at, "%s%s = ?", k ? " AND " : "",
                           c->t->cols[c->t->pk[k]]);
            b[nb++] = c->key[k];
        }
    } else {
        return 0;
    }
    sqlite3_stmt *st = compat_prepare(p->sq, sql);
    for (int i = 0; i < nb; i++)
        bind_value(st, i + 1, &b[i]);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n == 0;
}

/* The folio call itself. */
static int folio_call(tp_pair *p, const call *c, int64_t *rowid, int64_t *count)
{
    folio_table *ft;
    int rc = folio_table_open(&ft, p->txn, c->t->name);
    if (rc != FOLIO_OK)
        return rc;
    switch (c->kind) {
    case K_INSERT:
        return folio_insert(rowid, ft, c->v, c->n);
    case K_UPDATE:
        return folio_update(ft, c->rowid, c->v, c->n);
    case K_PATCH:
        return folio_patch(ft, c->rowid, c->cols, c->v, c->n);
    case K_DELETE:
        return folio_delete(ft, c->rowid);
    case K_UPSERT:
        return folio_upsert(rowid, ft, c->rowid, c->v, c->n);
    case K_DELETE_WHERE:
        return folio_delete_where(count, ft, c->expr);
    case K_UPDATE_WHERE:
        return folio_update_where(count, ft, c->expr, c->cols, c->v, c->n);
    case K_UPDATE_KEY:
        return folio_update_key(ft, c->key, c->nkey, c->v, c->n);
    case K_DELETE_KEY:
        return folio_delete_key(ft, c->key, c->nkey);
    }
    return FOLIO_MISUSE;
}

static void debug_call(tp_pair *p, const call *c, const folio_value *b, int nb, int sc, int fc)
{
    fprintf(stderr, "[%s] step %d: %s: %s", p->ctx, p->step, kind_names[c->kind], p->sql);
    if (nb) {
        fprintf(stderr, "  [");
        for (int i = 0; i < nb; i++) {
            if (i)
                fprintf(stderr, ", ");
            print_value(stderr, &b[i]);
        }
        fprintf(stderr, "]");
    }
    fprintf(stderr, "\n    sqlite: %s%s%s (trigger changes %d, %.3f s)  folio: %s%s%s%s\n",
            tp_class_name(sc), *p->smsg ? " " : "", p->smsg, p->trigger_changes, p->ref_secs,
            tp_class_name(fc), fc == TP_OK ? "" : " ",
            fc == TP_OK ? "" : compat_rc_name(p->last_rc), *p->fmsg ? p->fmsg : "");
}

/* The reference ran past its steps: roll both back. */
static void skip_txn(tp_pair *p)
{
    if (!sqlite3_get_autocommit(p->sq))
        compat_exec(p->sq, "ROLLBACK");
    if (p->alt) {
        if (!sqlite3_get_autocommit(p->alt))
            compat_exec(p->alt, "ROLLBACK");
    } else {
        cr_assert_eq(folio_rollback(p->txn), FOLIO_OK, "%s: folio_rollback: %s", p->ctx,
                     folio_errmsg(p->db));
    }
    p->txn = NULL;
    p->in_txn = 0;
    p->ended_by_rollback = 1;
    tp_compare(p);
}

/* The rows of the reference's file that lack their parent. */
static int64_t ref_orphans(tp_pair *p)
{
    return compat_query_int(p->sq, "SELECT count(*) FROM pragma_foreign_key_check");
}

static int run_call(tp_pair *p, const call *c)
{
    cr_assert(p->in_txn, "%s: a row call outside a transaction", p->ctx);
    folio_value b[2 * TP_MAX_COLS + 1];
    int nb = call_sql(c, p->sql, sizeof p->sql, b);
    int missing = row_missing(p, c);
    /* (See the upsert check below.) */
    int64_t orphans = (c->kind == K_UPSERT || c->kind == K_INSERT) && p->fk ? ref_orphans(p) : 0;
    ref_out so;
    ref_run(p, p->sq, p->sql, b, nb, &so);
    int sc = ref_class(&so, missing);
    snprintf(p->smsg, sizeof p->smsg, "%s", so.msg);
    p->trigger_changes = so.rc == SQLITE_DONE ? so.others : 0;
    p->ref_secs = so.secs;
    p->step++;
    p->n_class[sc]++;
    if (sc == TP_SKIPPED) {
        if (tp_debug())
            fprintf(stderr, "[%s] step %d: %s: %s: the reference ran past %" PRIu64 " steps\n",
                    p->ctx, p->step, kind_names[c->kind], p->sql, p->steps_limit);
        skip_txn(p);
        return TP_SKIPPED;
    }
    if (p->trigger_changes > 0)
        p->n_trigger_changes++;
    /* folio's side. */
    int64_t rowid = INT64_MIN, count = -1;
    int fc, ended = 0;
    p->fmsg[0] = 0;
    if (p->alt) {
        ref_out ao;
        ref_run(p, p->alt, p->sql, b, nb, &ao);
        fc = ref_class(&ao, missing);
        p->last_rc = fc == TP_OK           ? FOLIO_OK
                     : fc == TP_NOTFOUND   ? FOLIO_NOTFOUND
                     : fc == TP_CONSTRAINT ? FOLIO_CONSTRAINT
                     : fc == TP_MISMATCH   ? FOLIO_MISMATCH
                                           : FOLIO_ERROR;
        snprintf(p->fmsg, sizeof p->fmsg, "%s", ao.msg);
        rowid = ao.last_rowid;
        count = ao.changes;
        ended = ao.ended;
    } else {
        p->last_rc = folio_call(p, c, &rowid, &count);
        fc = folio_class(p->last_rc);
        if (p->last_rc < 0)
            snprintf(p->fmsg, sizeof p->fmsg, "%s", folio_errmsg(p->db));
    }
    if (tp_debug())
        debug_call(p, c, b, nb, sc, fc);
    /* SQLite 3.40.1 skips the foreign key check of an INSERT's row when
     * coding its BEFORE INSERT triggers, or an upsert's DO UPDATE, coded the
     * SET NULL action of that key last (a trigger that deletes from the
     * parent, or reaches such a delete through other triggers):
     * isSetNullAction() looks at the last trigger program coded, and the
     * orphan goes in. folio refuses it, rightly. Such a call leaves both
     * transactions rolled back. (A deferred key: see tp_end.) */
    if (sc == TP_OK && fc == TP_CONSTRAINT && (c->kind == K_UPSERT || c->kind == K_INSERT) &&
        p->fk && strncmp(p->fmsg, "FOREIGN KEY constraint failed", 29) == 0 &&
        ref_orphans(p) > orphans) {
        p->n_sqlite_orphans++;
        if (tp_debug())
            fprintf(stderr, "[%s] step %d: SQLite took an orphan (its bug): rolled back\n", p->ctx,
                    p->step);
        skip_txn(p);
        return TP_SKIPPED;
    }
    cr_assert(fc != TP_OK || p->last_rc == FOLIO_OK, "%s step %d: %s (%s) returned %d", p->ctx,
              p->step, kind_names[c->kind], p->sql, p->last_rc);
    cr_assert_eq(
        fc, sc, "%s step %d: %s on %s (%s): folio %s %s (%d) '%s', sqlite %s '%s' (files in %s)",
        p->ctx, p->step, kind_names[c->kind], c->t->name, p->sql, tp_class_name(fc),
        compat_rc_name(p->last_rc), p->last_rc, p->fmsg, tp_class_name(sc), p->smsg, p->dir);
    if (fc == TP_CONSTRAINT || fc == TP_ERROR || fc == TP_MISMATCH)
        cr_assert(same_words(p->fmsg, p->smsg),
                  "%s step %d: %s on %s (%s): folio says '%s', sqlite '%s'", p->ctx, p->step,
                  kind_names[c->kind], c->t->name, p->sql, p->fmsg, p->smsg);
    if (fc == TP_OK && c->kind == K_INSERT && !c->t->without_rowid && so.changes == 1)
        cr_assert_eq(rowid, so.last_rowid,
                     "%s step %d: %s (%s): folio gave rowid %" PRId64 ", sqlite %" PRId64, p->ctx,
                     p->step, kind_names[c->kind], p->sql, rowid, (int64_t)so.last_rowid);
    if (fc == TP_OK && (c->kind == K_DELETE_WHERE || c->kind == K_UPDATE_WHERE))
        cr_assert_eq(count, so.changes,
                     "%s step %d: %s (%s): folio counted %" PRId64 " rows, sqlite %d", p->ctx,
                     p->step, kind_names[c->kind], p->sql, count, so.changes);
    p->ended_by_rollback = 0;
    if (so.ended) {
        /* The reference's transaction is over (RAISE(ROLLBACK), OR ROLLBACK):
         * folio's commit must fail and roll back. */
        p->n_txn_rollbacks++;
        int frc;
        if (p->alt) {
            cr_assert(ended, "%s step %d: the second connection kept its transaction", p->ctx,
                      p->step);
            frc = sqlite3_exec(p->alt, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? FOLIO_OK
                                                                                : FOLIO_ERROR;
        } else {
            frc = folio_commit(p->txn);
        }
        cr_assert(frc < 0,
                  "%s step %d: %s (%s) rolled SQLite's transaction back ('%s'); folio_commit "
                  "after it returned %s",
                  p->ctx, p->step, kind_names[c->kind], p->sql, p->smsg, compat_rc_name(frc));
        p->txn = NULL;
        p->in_txn = 0;
        p->ended_by_rollback = 1;
        tp_compare(p);
    }
    return sc;
}

int tp_insert(tp_pair *p, const char *t, const folio_value *v, int n)
{
    call c = {.kind = K_INSERT, .t = tp_table_named(p, t), .v = v, .n = n};
    return run_call(p, &c);
}

int tp_update(tp_pair *p, const char *t, int64_t rowid, const folio_value *v, int n)
{
    call c = {.kind = K_UPDATE, .t = tp_table_named(p, t), .rowid = rowid, .v = v, .n = n};
    return run_call(p, &c);
}

int tp_patch(tp_pair *p, const char *t, int64_t rowid, const int *cols, const folio_value *v, int n)
{
    call c = {
        .kind = K_PATCH, .t = tp_table_named(p, t), .rowid = rowid, .cols = cols, .v = v, .n = n};
    return run_call(p, &c);
}

int tp_delete(tp_pair *p, const char *t, int64_t rowid)
{
    call c = {.kind = K_DELETE, .t = tp_table_named(p, t), .rowid = rowid};
    return run_call(p, &c);
}

int tp_upsert(tp_pair *p, const char *t, int64_t rowid, const folio_value *v, int n)
{
    call c = {.kind = K_UPSERT, .t = tp_table_named(p, t), .rowid = rowid, .v = v, .n = n};
    cr_assert(c.t->ipk >= 0 || c.t->without_rowid, "upsert on %s: no key to conflict on", t);
    return run_call(p, &c);
}

int tp_delete_where(tp_pair *p, const char *t, const char *expr)
{
    call c = {.kind = K_DELETE_WHERE, .t = tp_table_named(p, t), .expr = expr};
    return run_call(p, &c);
}

int tp_update_where(tp_pair *p, const char *t, const char *expr, const int *cols,
                    const folio_value *v, int n)
{
    call c = {.kind = K_UPDATE_WHERE,
              .t = tp_table_named(p, t),
              .expr = expr,
              .cols = cols,
              .v = v,
              .n = n};
    return run_call(p, &c);
}

int tp_update_key(tp_pair *p, const char *t, const folio_value *key, int nkey, const folio_value *v,
                  int n)
{
    call c = {
        .kind = K_UPDATE_KEY, .t = tp_table_named(p, t), .key = key, .nkey = nkey, .v = v, .n = n};
    return run_call(p, &c);
}

int tp_delete_key(tp_pair *p, const char *t, const folio_value *key, int nkey)
{
    call c = {.kind = K_DELETE_KEY, .t = tp_table_named(p, t), .key = key, .nkey = nkey};
    return run_call(p, &c);
}

/* ---- The same with SQL values ------------------------------------------------------- */

static int col_list(const tp_table *t, const char *names, int *cols)
{
    int n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", names);
    for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok;
         tok = strtok_r(NULL, ", ", &save)) {
        cr_assert(n < TP_MAX_COLS);
        cols[n++] = col_index(t, tok);
    }
    return n;
}

int tp_insert_s(tp_pair *p, const char *t, const char *vals)
{
    tp_vals v;
    tp_vals_sql(p, &v, vals);
    return tp_insert(p, t, v.v, v.n);
}

int tp_update_s(tp_pair *p, const char *t, int64_t rowid, const char *vals)
{
    tp_vals v;
    tp_vals_sql(p, &v, vals);
    return tp_update(p, t, rowid, v.v, v.n);
}

int tp_patch_s(tp_pair *p, const char *t, int64_t rowid, const char *cols, const char *vals)
{
    tp_vals v;
    tp_vals_sql(p, &v, vals);
    int c[TP_MAX_COLS];
    int n = col_list(tp_table_named(p, t), cols, c);
    cr_assert_eq(n, v.n, "patch %s: %d columns, %d values", t, n, v.n);
    return tp_patch(p, t, rowid, c, v.v, v.n);
}

int tp_upsert_s(tp_pair *p, const char *t, int64_t rowid, const char *vals)
{
    tp_vals v;
    tp_vals_sql(p, &v, vals);
    return tp_upsert(p, t, rowid, v.v, v.n);
}

int tp_update_where_s(tp_pair *p, const char *t, const char *expr, const char *cols,
                      const char *vals)
{
    tp_vals v;
    tp_vals_sql(p, &v, vals);
    int c[TP_MAX_COLS];
    int n = col_list(tp_table_named(p, t), cols, c);
    cr_assert_eq(n, v.n, "update_where %s: %d columns, %d values", t, n, v.n);
    return tp_update_where(p, t, expr, c, v.v, v.n);
}

int tp_update_key_s(tp_pair *p, const char *t, const char *key, const char *vals)
{
    tp_vals k, v;
    tp_vals_sql(p, &k, key);
    tp_vals_sql(p, &v, vals);
    return tp_update_key(p, t, k.v, k.n, v.v, v.n);
}

int tp_delete_key_s(tp_pair *p, const char *t, const char *key)
{
    tp_vals k;
    tp_vals_sql(p, &k, key);
    return tp_delete_key(p, t, k.v, k.n);
}

int64_t tp_ref_int(tp_pair *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char sql[1024];
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return compat_query_int(p->sq, "%s", sql);
}

/* ---- Transactions -------------------------------------------------------------------- */

void tp_begin(tp_pair *p)
{
    cr_assert(!p->in_txn, "%s: tp_begin inside a transaction", p->ctx);
    if (p->alt)
        compat_exec(p->alt, "BEGIN");
    else
        cr_assert_eq(folio_begin(&p->txn, p->db, FOLIO_TXN_WRITE), FOLIO_OK, "%s: begin: %s",
                     p->ctx, folio_errmsg(p->db));
    compat_exec(p->sq, "BEGIN");
    p->orphans_at_begin = p->fk ? ref_orphans(p) : 0;
    p->in_txn = 1;
    p->ended_by_rollback = 0;
}

int tp_end(tp_pair *p, int commit)
{
    if (!p->in_txn)
        return TP_OK; /* a call ended it */
    int sc = TP_OK, fc = TP_OK, frc = FOLIO_OK;
    p->fmsg[0] = p->smsg[0] = 0;
    if (!commit) {
        if (tp_debug())
            fprintf(stderr, "[%s] rollback\n", p->ctx);
        compat_exec(p->sq, "ROLLBACK");
        if (p->alt)
            compat_exec(p->alt, "ROLLBACK");
        else
            cr_assert_eq(folio_rollback(p->txn), FOLIO_OK, "%s: folio_rollback: %s", p->ctx,
                         folio_errmsg(p->db));
    } else {
        int folio_first = 0;
        int cur = 0, hi = 0;
        if (!p->alt && p->fk && ref_orphans(p) > p->orphans_at_begin &&
            sqlite3_db_status(p->sq, SQLITE_DBSTATUS_DEFERRED_FKS, &cur, &hi, 0) == SQLITE_OK &&
            cur == 0) {
            /* The reference's transaction added rows without their parent
             * and counts no deferred violation: one SQLite 3.40.1 did not
             * count (an INSERT's check skipped, see run_call) would go in
             * with its COMMIT. folio commits first; when it refuses them,
             * the reference rolls back. */
            folio_first = 1;
            frc = folio_commit(p->txn);
            if (frc == FOLIO_CONSTRAINT &&
                strncmp(folio_errmsg(p->db), "FOREIGN KEY constraint failed", 29) == 0) {
                p->n_sqlite_orphans++;
                if (tp_debug())
                    fprintf(stderr,
                            "[%s] commit: SQLite would take an orphan (its bug): rolled back\n",
                            p->ctx);
                compat_exec(p->sq, "ROLLBACK");
                p->txn = NULL;
                p->in_txn = 0;
                tp_compare(p);
                return TP_SKIPPED;
            }
        }
        int src = sqlite3_exec(p->sq, "COMMIT", NULL, NULL, NULL);
        snprintf(p->smsg, sizeof p->smsg, "%s", src ? sqlite3_errmsg(p->sq) : "");
        sc = src == SQLITE_OK                    ? TP_OK
             : (src & 0xff) == SQLITE_CONSTRAINT ? TP_CONSTRAINT
                                                 : TP_ERROR;
        if (src != SQLITE_OK)
            compat_exec(p->sq, "ROLLBACK"); /* (a failed COMMIT leaves it open) */
        if (p->alt) {
            int arc = sqlite3_exec(p->alt, "COMMIT", NULL, NULL, NULL);
            snprintf(p->fmsg, sizeof p->fmsg, "%s", arc ? sqlite3_errmsg(p->alt) : "");
            fc = arc == SQLITE_OK                    ? TP_OK
                 : (arc & 0xff) == SQLITE_CONSTRAINT ? TP_CONSTRAINT
                                                     : TP_ERROR;
            if (arc != SQLITE_OK)
                compat_exec(p->alt, "ROLLBACK");
            frc = fc == TP_OK ? FOLIO_OK : fc == TP_CONSTRAINT ? FOLIO_CONSTRAINT : FOLIO_ERROR;
        } else {
            if (!folio_first)
                frc = folio_commit(p->txn);
            fc = folio_class(frc);
            if (frc < 0)
                snprintf(p->fmsg, sizeof p->fmsg, "%s", folio_errmsg(p->db));
        }
        if (tp_debug())
            fprintf(stderr, "[%s] commit: sqlite %s '%s', folio %s '%s'\n", p->ctx,
                    tp_class_name(sc), p->smsg, tp_class_name(fc), p->fmsg);
        cr_assert_eq(fc, sc, "%s step %d: commit: folio %s '%s', sqlite %s '%s'", p->ctx, p->step,
                     compat_rc_name(frc), p->fmsg, tp_class_name(sc), p->smsg);
        if (sc != TP_OK) {
            p->n_commit_fail++;
            cr_assert(same_words(p->fmsg, p->smsg), "%s: commit: folio says '%s', sqlite '%s'",
                      p->ctx, p->fmsg, p->smsg);
        }
    }
    p->txn = NULL;
    p->in_txn = 0;
    tp_compare(p);
    return sc;
}

int tp_exec(tp_pair *p, const char *ddl)
{
    cr_assert(p->in_txn, "%s: tp_exec outside a transaction", p->ctx);
    int src = sqlite3_exec(p->sq, ddl, NULL, NULL, NULL);
    snprintf(p->smsg, sizeof p->smsg, "%s", src ? sqlite3_errmsg(p->sq) : "");
    int sc = src == SQLITE_OK                    ? TP_OK
             : (src & 0xff) == SQLITE_CONSTRAINT ? TP_CONSTRAINT
                                                 : TP_ERROR;
    int fc;
    p->fmsg[0] = 0;
    if (p->alt) {
        int arc = sqlite3_exec(p->alt, ddl, NULL, NULL, NULL);
        snprintf(p->fmsg, sizeof p->fmsg, "%s", arc ? sqlite3_errmsg(p->alt) : "");
        fc = arc == SQLITE_OK                    ? TP_OK
             : (arc & 0xff) == SQLITE_CONSTRAINT ? TP_CONSTRAINT
                                                 : TP_ERROR;
        p->last_rc = fc == TP_OK ? FOLIO_OK : FOLIO_ERROR;
    } else {
        p->last_rc = folio_exec(p->txn, ddl);
        fc = folio_class(p->last_rc);
        if (p->last_rc < 0)
            snprintf(p->fmsg, sizeof p->fmsg, "%s", folio_errmsg(p->db));
    }
    snprintf(p->sql, sizeof p->sql, "%s", ddl);
    if (tp_debug())
        fprintf(stderr, "[%s] exec: %s\n    sqlite: %s '%s'  folio: %s '%s'\n", p->ctx, ddl,
                tp_class_name(sc), p->smsg, compat_rc_name(p->last_rc), p->fmsg);
    cr_assert_eq(fc, sc, "%s: folio_exec(%s): folio %s '%s', sqlite %s '%s'", p->ctx, ddl,
                 compat_rc_name(p->last_rc), p->fmsg, tp_class_name(sc), p->smsg);
    if (fc != TP_OK)
        cr_assert(same_words(p->fmsg, p->smsg), "%s: folio_exec(%s): folio says '%s', sqlite '%s'",
                  p->ctx, ddl, p->fmsg, p->smsg);
    else
        tp_load_tables(p);
    return sc;
}

/* ---- Comparing the files ----------------------------------------------------------------- */

static void compare_query(tp_pair *p, sqlite3 *f, const char *what, const char *sql)
{
    sqlite3_stmt *a = compat_prepare(f, sql), *b = compat_prepare(p->sq, sql);
    for (int row = 0;; row++) {
        int ra = sqlite3_step(a), rb = sqlite3_step(b);
        cr_assert(ra == SQLITE_ROW || ra == SQLITE_DONE, "%s: %s on folio's file: %s", p->ctx, sql,
                  sqlite3_errmsg(f));
        cr_assert_eq(ra, rb,
                     "%s step %d: %s: folio's file has %s at row %d, sqlite's %s (files in %s)",
                     p->ctx, p->step, what, ra == SQLITE_ROW ? "a row" : "no more rows", row,
                     rb == SQLITE_ROW ? "a row" : "no more rows", p->dir);
        if (ra != SQLITE_ROW)
            break;
        for (int c = 0; c < sqlite3_column_count(a); c++) {
            int ta = sqlite3_column_type(a, c), tb = sqlite3_column_type(b, c);
            int same = ta == tb;
            if (same && ta == SQLITE_INTEGER)
                same = sqlite3_column_int64(a, c) == sqlite3_column_int64(b, c);
            else if (same && ta == SQLITE_FLOAT) {
                double x = sqlite3_column_double(a, c), y = sqlite3_column_double(b, c);
                same = memcmp(&x, &y, sizeof x) == 0;
            } else if (same && ta != SQLITE_NULL) {
                const void *x = ta == SQLITE_BLOB ? sqlite3_column_blob(a, c)
                                                  : (const void *)sqlite3_column_text(a, c);
                int nx = sqlite3_column_bytes(a, c);
                const void *y = ta == SQLITE_BLOB ? sqlite3_column_blob(b, c)
                                                  : (const void *)sqlite3_column_text(b, c);
                int ny = sqlite3_column_bytes(b, c);
                same = nx == ny && (nx == 0 || memcmp(x, y, (size_t)nx) == 0);
            }
            if (!same) {
                const char *xa = (const char *)sqlite3_column_text(a, c);
                char *ca = xa ? strdup(xa) : NULL;
                const char *xb = (const char *)sqlite3_column_text(b, c);
                cr_assert_fail("%s step %d: %s: row %d, column %s: folio's file has %s (type %d), "
                               "sqlite's %s (type %d) (files in %s)",
                               p->ctx, p->step, what, row, sqlite3_column_name(a, c),
                               ca ? ca : "NULL", ta, xb ? xb : "NULL", tb, p->dir);
                free(ca);
            }
        }
    }
    sqlite3_finalize(a);
    sqlite3_finalize(b);
}

void tp_compare(tp_pair *p)
{
    cr_assert(!p->in_txn);
    sqlite3 *f = p->alt ? p->alt : compat_sqlite_open_ro(p->fpath);
    compare_query(p, f, "sqlite_schema",
                  "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name");
    if (compat_query_int(p->sq, "SELECT count(*) FROM sqlite_schema WHERE name = "
                                "'sqlite_sequence'"))
        compare_query(p, f, "sqlite_sequence", "SELECT * FROM sqlite_sequence ORDER BY name");
    for (int i = 0; i < p->ntables; i++) {
        const tp_table *t = &p->tables[i];
        char sql[512];
        int at;
        if (t->without_rowid) {
            at = snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY ", t->name);
            for (int k = 0; k < t->npk; k++)
                at += snprintf(sql + at, sizeof sql - (size_t)at, "%s%s", k ? ", " : "",
                               t->cols[t->pk[k]]);
        } else {
            snprintf(sql, sizeof sql, "SELECT rowid, * FROM %s ORDER BY rowid", t->name);
        }
        compare_query(p, f, t->name, sql);
    }
    if (!p->alt)
        compat_sqlite_close(f);
}
