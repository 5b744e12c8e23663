/*
 * write.c - row operations: insert, update, upsert, patch, delete, for rowid
 * and WITHOUT ROWID tables, with affinity, constraints and index upkeep.
 *
 * Every call is one statement: all checks (types, NOT NULL, UNIQUE, primary
 * key) run before anything is written, and the pager's statement journal
 * undoes a call that fails half-way, so a failed call leaves the transaction
 * exactly as it was.
 */
#include "db/write_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- statements ---- */

int write_begin(folio_txn *txn, db_table *tab)
{
    folio_db *db = txn->db;
    TXN_ON_TIME(txn);
    if (txn->done)
        return db_err(db, FOLIO_MISUSE, "the transaction has ended");
    if (!txn->write)
        return db_err(db, FOLIO_READONLY, "a read transaction cannot write");
    if (txn->poisoned && txn->rb_msg[0])
        return db_err(db, FOLIO_CONSTRAINT,
                      "%s: the transaction was rolled back (RAISE(ROLLBACK)): roll it back",
                      txn->rb_msg);
    if (txn->poisoned)
        return db_err(db, FOLIO_ERROR,
                      "an earlier failure could not be undone: roll the transaction back");
    if (tab) {
        if (!tab->parsed)
            return db_err(db, FOLIO_UNSUPPORTED, "table %s cannot be written: %s", tab->name,
                          tab->parse_error ? tab->parse_error : "unknown definition");
        if (tab->unsupported)
            return db_err(db, FOLIO_UNSUPPORTED, "table %s cannot be written: %s", tab->name,
                          tab->unsupported);
        for (int i = 0; i < tab->nidx; i++)
            if (tab->idx[i]->unsupported)
                return db_err(db, FOLIO_UNSUPPORTED, "table %s cannot be written: index %s: %s",
                              tab->name, tab->idx[i]->name, tab->idx[i]->unsupported);
        if (tab->root == 1)
            return db_err(db, FOLIO_MISUSE, "sqlite_schema is written through folio_exec only");
    }
    if (txn->read_committed) {
        int rc = db_txn_refresh(txn);
        if (rc < 0)
            return rc;
    }
    /* A concurrent transaction whose pages outgrow the cache goes on as a
     * plain write transaction (its pages may then go to the WAL early). */
    if (txn->conc && !txn->stmt_nested && !txn->fk_depth && !txn->trig_nactive &&
        ptxn_over_budget(txn->pt)) {
        int rc = db_txn_upgrade(txn, "a concurrent transaction larger than the cache");
        if (rc < 0)
            return rc;
    }
    if (!txn->stmt_nested) { /* else the row call is part of a statement (filter.c) */
        /* Foreign key checks read other tables: their deferred index
         * entries go in first, outside the statement. */
        if (db_fk_on(txn) && txn->npending) {
            int rc = write_flush(txn, NULL);
            if (rc < 0)
                return rc;
        }
        pager_stmt_begin(txn->pt);
        fk_stmt_begin(txn);
        txn->stmt_keep = 0;
        txn->stmt_rollback = 0;
        txn->trig_now_set = 0;
        trig_stack_mark(txn);
    }
    return 0;
}

int write_end(folio_txn *txn, int rc)
{
    if (txn->stmt_nested) /* the statement that made this call ends it */
        return rc;
    if (rc >= 0) {
        int frc = fk_stmt_end(txn);
        if (frc >= 0) {
            pager_stmt_commit(txn->pt);
            return rc;
        }
        rc = frc;
    }
    /* Copy the message first: the undo may replace it. */
    char msg[512];
    snprintf(msg, sizeof msg, "%s", folio_errmsg(txn->db));
    if (txn->stmt_keep && !txn->stmt_rollback) {
        /* RAISE(FAIL), OR FAIL: what the statement did before stays -
         * unless it leaves an immediate foreign key violated: then, as
         * SQLite, it fails as that and is undone. */
        if (fk_stmt_end(txn) >= 0) {
            pager_stmt_commit(txn->pt);
            db_err(txn->db, rc, "%s", msg);
            return rc;
        }
        rc = FOLIO_CONSTRAINT;
        snprintf(msg, sizeof msg, "%s", folio_errmsg(txn->db));
    }
    fk_stmt_undo(txn);
    table_states_reset(txn);
    if (txn->stmt_rollback) {
        /* RAISE(ROLLBACK), OR ROLLBACK: the transaction is lost; it can
         * only be rolled back (folio_commit does so and fails). */
        pager_stmt_rollback(txn->pt);
        txn->poisoned = 1;
        snprintf(txn->rb_msg, sizeof txn->rb_msg, "%.*s", (int)sizeof txn->rb_msg - 1, msg);
        db_err(txn->db, rc, "%s", msg);
        return rc;
    }
    if (pager_stmt_rollback(txn->pt) < 0) {
        txn->poisoned = 1;
        return db_err(txn->db, rc, "%s (and it could not be undone: roll the transaction back)",
                      msg);
    }
    db_err(txn->db, rc, "%s", msg);
    return rc;
}

/* ---- preparing values ---- */

static const char *type_name(int t)
{
    static const char *names[] = {"NULL", "INTEGER", "REAL", "TEXT", "BLOB"};
    return t >= 0 && t <= 4 ? names[t] : "?";
}

static int table_ctx(folio_txn *txn, table_state *ts);

static int row_column(void *arg, int col, ex_value *out);

/* An expression's value for column c, its bytes kept in the state (they
 * live in the evaluation's scratch memory until the next evaluation). */
static int keep_value(folio_txn *txn, table_state *ts, int c, const ex_value *v, fmt_value *out)
{
    db_table *tab = ts->tab;
    memset(out, 0, sizeof *out);
    out->type = v->type;
    if (v->type == EX_TEXT || v->type == EX_BLOB) {
        if (!ts->dbuf) {
            ts->dbuf = os_calloc((size_t)tab->def.ncols, sizeof *ts->dbuf);
            ts->dcap = os_calloc((size_t)tab->def.ncols, sizeof *ts->dcap);
            if (!ts->dbuf || !ts->dcap)
                return db_err(txn->db, FOLIO_NOMEM, "out of memory");
        }
        if (v->u.s.n > ts->dcap[c]) {
            uint8_t *nb = os_realloc(ts->dbuf[c], (size_t)v->u.s.n);
            if (!nb)
                return db_err(txn->db, FOLIO_NOMEM, "out of memory");
            ts->dbuf[c] = nb;
            ts->dcap[c] = (size_t)v->u.s.n;
        }
        if (v->u.s.n)
            memcpy(ts->dbuf[c], v->u.s.p, (size_t)v->u.s.n);
        out->u.s.p = ts->dbuf[c] ? ts->dbuf[c] : (const uint8_t *)"";
        out->u.s.n = v->u.s.n;
    } else if (v->type == EX_REAL) {
        out->u.r = v->u.r;
    } else {
        out->u.i = v->u.i;
    }
    return 0;
}

/* Column c's DEFAULT expression evaluated, its bytes kept in the state until
 * the row is written. */
static int default_expr(folio_txn *txn, table_state *ts, int c, fmt_value *out)
{
    db_table *tab = ts->tab;
    const sch_column *cd = &tab->def.cols[c];
    int rc;
    if (!tab->dflt[c]) {
        /* It did not compile: say why (as SQLite would at this insert). */
        ex_prog *p = NULL;
        char err[256];
        rc = ex_compile(&p, cd->dflt.p, cd->dflt.n, &tab->scope, EX_DEFAULT, err, sizeof err);
        ex_prog_free(p);
        return db_err(txn->db, rc < 0 ? rc : FOLIO_ERROR, "DEFAULT of column %s: %s", cd->name,
                      rc < 0 ? err : "cannot be evaluated");
    }
    if ((rc = table_ctx(txn, ts)) < 0)
        return rc;
    ex_value v;
    if ((rc = ex_eval(tab->dflt[c], ts->cx, NULL, &v)) < 0)
        return db_err(txn->db, rc, "%s", ex_ctx_errmsg(ts->cx));
    return keep_value(txn, ts, c, &v, out);
}

int write_default_value(folio_txn *txn, table_state *ts, int c, fmt_value *out, char *buf)
{
    const sch_column *cd = &ts->tab->def.cols[c];
    memset(out, 0, sizeof *out);
    switch (cd->dflt.kind) {
    case SCH_DFLT_NONE:
    case SCH_DFLT_NULL:
        out->type = FMT_NULL;
        return 0;
    case SCH_DFLT_INTEGER:
        out->type = FMT_INTEGER;
        out->u.i = cd->dflt.i;
        return 0;
    case SCH_DFLT_REAL:
        out->type = FMT_REAL;
        out->u.r = cd->dflt.r;
        return 0;
    case SCH_DFLT_TEXT:
    case SCH_DFLT_BLOB:
        out->type = cd->dflt.kind == SCH_DFLT_TEXT ? FMT_TEXT : FMT_BLOB;
        out->u.s.p = (const uint8_t *)cd->dflt.p;
        out->u.s.n = cd->dflt.n;
        return 0;
    case SCH_DFLT_CURRENT_TIME:
    case SCH_DFLT_CURRENT_DATE:
    case SCH_DFLT_CURRENT_TIMESTAMP: {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        const char *fmt = cd->dflt.kind == SCH_DFLT_CURRENT_TIME   ? "%H:%M:%S"
                          : cd->dflt.kind == SCH_DFLT_CURRENT_DATE ? "%Y-%m-%d"
                                                                   : "%Y-%m-%d %H:%M:%S";
        size_t n = strftime(buf, SCH_NUMBER_TEXT_BYTES, fmt, &tm);
        out->type = FMT_TEXT;
        out->u.s.p = (const uint8_t *)buf;
        out->u.s.n = n;
        return 0;
    }
    default:
        return default_expr(txn, ts, c, out);
    }
}

static void column_affinity(const sch_table *d, const sch_column *cd, fmt_value *v, char *tb);

/*
 * The generated columns of `row` (all of them, or the VIRTUAL ones only when
 * the STORED ones came from the record), in dependency order, each with its
 * column's affinity; their bytes live in the state until the next row.
 */
int generated_compute(folio_txn *txn, table_state *ts, fmt_value *row, int64_t rowid,
                      int virtual_only)
{
    db_table *tab = ts->tab;
    int rc = table_ctx(txn, ts);
    if (rc < 0)
        return rc;
    ex_row er = {.column = row_column, .arg = row, .rowid = rowid};
    for (int k = 0; k < tab->ngen; k++) {
        int c = tab->gen_order[k];
        const sch_column *cd = &tab->def.cols[c];
        if (virtual_only && cd->hidden != 2)
            continue;
        ex_value v;
        if ((rc = ex_eval(tab->gen[c], ts->cx, &er, &v)) < 0)
            return db_err(txn->db, rc, "%s", ex_ctx_errmsg(ts->cx));
        if ((rc = keep_value(txn, ts, c, &v, &row[c])) < 0)
            return rc;
        column_affinity(&tab->def, cd, &row[c], ts_textbuf(ts, c));
    }
    return 0;
}

/* The caller's value as a record value (NaN, which SQLite stores as NULL,
 * becomes NULL). Returns 0, FOLIO_MISUSE (bytes without a pointer, or no
 * such type) or FOLIO_TOOBIG. */
static int value_in(const folio_value *in, fmt_value *v)
{
    switch (in->type) {
    case FOLIO_NULL:
        v->type = FMT_NULL;
        return 0;
    case FOLIO_INTEGER:
        v->type = FMT_INTEGER;
        v->u.i = in->u.i;
        return 0;
    case FOLIO_REAL:
        v->type = in->u.r != in->u.r ? FMT_NULL : FMT_REAL;
        v->u.r = in->u.r;
        return 0;
    case FOLIO_TEXT:
    case FOLIO_BLOB:
        if (in->u.s.n && !in->u.s.p)
            return FOLIO_MISUSE;
        if (in->u.s.n > FMT_MAX_LENGTH)
            return FOLIO_TOOBIG;
        v->type = in->type == FOLIO_TEXT ? FMT_TEXT : FMT_BLOB;
        v->u.s.p = in->u.s.p ? in->u.s.p : (const void *)"";
        v->u.s.n = in->u.s.n;
        return 0;
    default:
        return FOLIO_MISUSE;
    }
}

/* Column cd's affinity applied to v as SQLite applies it (numbers rendered
 * as text go to tb, SCH_NUMBER_TEXT_BYTES); a REAL column keeps a small integral value
 * as an integer in the record (it reads back as REAL; -0.0 so becomes 0). */
static void column_affinity(const sch_table *d, const sch_column *cd, fmt_value *v, char *tb)
{
    int aff = cd->affinity;
    if ((d->strict && cd->strict_type == SCH_STRICT_ANY) || aff == SCH_AFF_BLOB ||
        v->type == FMT_NULL || v->type == FMT_BLOB ||
        (v->type == FMT_INTEGER && (aff == SCH_AFF_INTEGER || aff == SCH_AFF_NUMERIC)) ||
        (v->type == FMT_TEXT && aff == SCH_AFF_TEXT))
        return; /* kept as given (the affinity would not change it) */
    sch_apply_affinity(v, aff, tb, SCH_NUMBER_TEXT_BYTES);
    if (aff == SCH_AFF_REAL && v->type == FMT_REAL && v->u.r >= -140737488355328.0 &&
        v->u.r <= 140737488355327.0 && v->u.r == (double)(int64_t)v->u.r) {
        int64_t iv = (int64_t)v->u.r;
        v->type = FMT_INTEGER;
        v->u.i = iv;
    }
}

/* Convert, default, apply affinity and check NOT NULL / STRICT for a new
 * row. Values missing at the end take their DEFAULT. */
static int column_checks(folio_txn *txn, table_state *ts, int64_t rowid);

void upsert_update_policy(folio_txn *txn)
{
    uint8_t *p = &txn->orconf_at[txn->fk_depth < 1024 ? txn->fk_depth : 1023];
    if (*p == SCH_OC_DEFAULT) /* SQLite codes an UPSERT's DO UPDATE OR ABORT */
        *p = SCH_OC_ABORT;
}

/*
 * An UPSERT turns to its DO UPDATE with the row its insert checked
 * (SQLite's excluded): a NULL in a NOT NULL ON CONFLICT REPLACE column is
 * the column's DEFAULT there, as the insert's NOT NULL check made it before
 * the conflict was found. ts->newrow holds the call's values again
 * (prepared); call it while the insert's conflict clause is in force
 * (before upsert_update_policy). With triggers the NOT NULL checks of
 * prepare_row wait for check_row, so the DEFAULT is not there yet.
 */
int upsert_excluded_defaults(folio_txn *txn, table_state *ts)
{
    const sch_table *d = &ts->tab->def;
    for (int c = 0; c < d->ncols; c++) {
        const sch_column *cd = &d->cols[c];
        fmt_value *v = &ts->newrow.v[c];
        if (c == d->ipk || !cd->notnull || cd->generated || v->type != FMT_NULL ||
            cd->dflt.kind == SCH_DFLT_NONE ||
            conflict_mode(txn, cd->notnull_onconflict) != SCH_OC_REPLACE)
            continue;
        int rc = write_default_value(txn, ts, c, v, ts_textbuf(ts, c));
        if (rc < 0)
            return rc;
        column_affinity(d, cd, v, ts_textbuf(ts, c));
    }
    return 0;
}

int conflict_mode(const folio_txn *txn, int own)
{
    int st = txn->orconf_at[txn->fk_depth < 1024 ? txn->fk_depth : 1023];
    if (st != SCH_OC_DEFAULT)
        return st;
    return own != SCH_OC_DEFAULT ? own : SCH_OC_ABORT;
}

int replace_mode(const folio_txn *txn, int own)
{
    return conflict_mode(txn, own) == SCH_OC_REPLACE;
}

/*
 * OR REPLACE: the row `rowid` of ts's table is in the way of the new row
 * (its key or a UNIQUE key): it is deleted, as SQLite deletes it - foreign
 * key actions run, its DELETE triggers only with recursive_triggers - and
 * the new row, which the delete may have reused ts for, is kept.
 */
int pin_refuse(folio_txn *txn, const db_table *tab)
{
    for (const write_pin *p = txn->pins; p; p = p->up)
        if (p->tab == tab && txn->fk_depth > p->depth) {
            /* Not the failure of a row's own constraint: no conflict
             * clause resolves it, the statement fails. */
            txn->conflict_at = 0;
            return db_err(txn->db, FOLIO_CONSTRAINT, "constraint failed");
        }
    return 0;
}

int replace_delete(folio_txn *txn, table_state *ts, int64_t rowid, const fmt_value *key, int pin)
{
    db_table *tab = ts->tab;
    int npk = tab->def.npk;
    folio_table *th;
    trig_rows keep, kk;
    memset(&keep, 0, sizeof keep);
    memset(&kk, 0, sizeof kk);
    folio_value fk[64];
    if (key && npk > 64)
        return db_err(txn->db, FOLIO_UNSUPPORTED, "primary key of %d columns", npk);
    int rc = db_table_handle(txn, tab, &th);
    if (rc < 0 ||
        (rc = trig_rows_save(txn, &keep, ts->newrow.v, 0, ts->oldrow.v, 0, tab->def.ncols)) < 0)
        return rc;
    /* The key, copied: the delete reuses ts. */
    if (key && (rc = trig_rows_save(txn, &kk, key, 0, NULL, 0, npk)) < 0) {
        trig_rows_free(&keep);
        return rc;
    }
    for (int k = 0; key && k < npk; k++) {
        const fmt_value *v = &kk.nv[k];
        memset(&fk[k], 0, sizeof fk[k]);
        fk[k].type = (folio_type)v->type;
        if (v->type == FMT_INTEGER)
            fk[k].u.i = v->u.i;
        else if (v->type == FMT_REAL)
            fk[k].u.r = v->u.r;
        else if (v->type == FMT_TEXT || v->type == FMT_BLOB) {
            fk[k].u.s.p = v->u.s.p;
            fk[k].u.s.n = (size_t)v->u.s.n;
        }
    }
    int saved = txn->stmt_nested, skipped = txn->row_skipped, quiet = txn->quiet_delete_at;
    /* The delete takes this depth's policy slot (its own OR REPLACE); the
     * call in progress keeps its own, which a constraint's REPLACE (the
     * statement saying none) must not turn into OR REPLACE for what it does
     * next (its other checks, the triggers it fires). */
    uint8_t *policy = &txn->orconf_at[txn->fk_depth < 1024 ? txn->fk_depth : 1023];
    uint8_t saved_policy = *policy;
    int conflict_at = txn->conflict_at, conflict_oc = txn->conflict_oc;
    const uint8_t *given = txn->vals_given; /* (the mask of the call in progress) */
    int keep_old = txn->vals_keep_old;
    txn->vals_given = NULL;
    txn->vals_keep_old = 0;
    txn->stmt_nested = 1;
    if (!txn->db->opts.recursive_triggers)
        txn->quiet_delete_at = txn->fk_depth + 1;
    /* The delete runs under OR REPLACE: its DELETE triggers take it (as
     * SQLite codes them), and it keeps the slot of the call in progress so,
     * whose next index may find another row in the way. */
    txn->onconf = SCH_OC_REPLACE;
    write_pin wp = {tab, txn->fk_depth, txn->pins};
    if (pin && txn->db->opts.recursive_triggers && tab->has_triggers &&
        ((rc = trig_any(txn, ts, SCH_TRIG_BEFORE, SCH_TRIG_DELETE, NULL)) > 0 ||
         (rc == 0 && (rc = trig_any(txn, ts, SCH_TRIG_AFTER, SCH_TRIG_DELETE, NULL)) > 0)))
        txn->pins = &wp;
    if (rc >= 0)
        rc = key ? folio_delete_key(th, fk, npk) : folio_delete(th, rowid);
    txn->pins = wp.up;
    txn->quiet_delete_at = quiet;
    *policy = saved_policy;
    txn->conflict_at = conflict_at;
    txn->conflict_oc = conflict_oc;
    txn->vals_given = given;
    txn->vals_keep_old = keep_old;
    txn->stmt_nested = saved;
    txn->row_skipped = skipped;
    memcpy(ts->newrow.v, keep.nv, sizeof *ts->newrow.v * (size_t)tab->def.ncols);
    memcpy(ts->oldrow.v, keep.ov, sizeof *ts->oldrow.v * (size_t)tab->def.ncols);
    /* Owned again even when the delete failed: the failure may be passed
     * over (OR IGNORE around it) and the call that holds ts go on. */
    if ((row_vals_own(&ts->newrow) < 0 || row_vals_own(&ts->oldrow) < 0) && rc >= 0)
        rc = db_err(txn->db, FOLIO_NOMEM, "out of memory");
    /* The delete left its own row's key in ts->pk / ts->opk: the new row's
     * and (an update) the old row's again, which the checks still to come
     * compare with. */
    for (int k = 0; tab->def.without_rowid && k < npk; k++) {
        ts->pk[k] = ts->newrow.v[tab->def.pk[k].col];
        ts->opk[k] = ts->oldrow.v[tab->def.pk[k].col];
    }
    trig_rows_free(&keep);
    trig_rows_free(&kk);
    return rc == FOLIO_NOTFOUND ? 0 : rc;
}

int prepare_row(folio_txn *txn, table_state *ts, const folio_value *vals, int n)
{
    db_table *tab = ts->tab;
    ts->now_set = 0;
    folio_db *db = txn->db;
    const sch_table *d = &tab->def;
    /* An INTEGER PRIMARY KEY that is not an integer is reported before any
     * other constraint, as in SQLite. A NaN is NULL there (the next rowid),
     * as SQLite binds it. */
    fmt_value ipk_conv;
    ipk_conv.type = FMT_NULL;
    int ipk_vi = d->ipk >= 0 ? tab->val_index[d->ipk] : -1; /* its place in vals */
    if (ipk_vi >= 0 && ipk_vi < n && (!txn->vals_given || txn->vals_given[ipk_vi]) &&
        vals[ipk_vi].type != FOLIO_NULL && vals[ipk_vi].type != FOLIO_INTEGER &&
        !(vals[ipk_vi].type == FOLIO_REAL && vals[ipk_vi].u.r != vals[ipk_vi].u.r)) {
        fmt_value t;
        memset(&t, 0, sizeof t);
        t.type = (int)vals[ipk_vi].type;
        if (t.type == FMT_REAL)
            t.u.r = vals[ipk_vi].u.r;
        else if (t.type == FMT_TEXT || t.type == FMT_BLOB) {
            t.u.s.p = vals[ipk_vi].u.s.p ? vals[ipk_vi].u.s.p : (const void *)"";
            t.u.s.n = vals[ipk_vi].u.s.n;
        }
        sch_apply_affinity(&t, SCH_AFF_INTEGER, ts_textbuf(ts, d->ipk), SCH_NUMBER_TEXT_BYTES);
        if (t.type != FMT_INTEGER)
            return db_err(db, FOLIO_MISMATCH, "datatype mismatch: %s.%s must be an integer",
                          tab->name, d->cols[d->ipk].name);
        ipk_conv = t; /* converted once; the loop below keeps it */
    }
    for (int c = 0; c < d->ncols; c++) {
        const sch_column *cd = &d->cols[c];
        fmt_value *v = &ts->newrow.v[c];
        char *tb = ts_textbuf(ts, c);
        int vi = tab->val_index[c];
        if (vi < 0)
            continue; /* generated: computed below */
        if (vi < n && (!txn->vals_given || txn->vals_given[vi])) {
            const folio_value *in = &vals[vi];
            int rc = value_in(in, v);
            if (rc == FOLIO_TOOBIG)
                return db_err(db, FOLIO_TOOBIG, "value for column %s is %zu bytes; the limit is %u",
                              cd->name, in->u.s.n, FMT_MAX_LENGTH);
            if (rc < 0 && (in->type == FOLIO_TEXT || in->type == FOLIO_BLOB))
                return db_err(db, FOLIO_MISUSE, "value %d has bytes but no pointer", vi);
            if (rc < 0)
                return db_err(db, FOLIO_MISUSE, "value %d has an invalid type %d", vi,
                              (int)in->type);
        } else if (vi < n && txn->vals_keep_old) {
            *v = ts->oldrow.v[c]; /* kept (codec.c): the old row is loaded */
        } else {
            int rc = write_default_value(txn, ts, c, v, tb);
            if (rc < 0)
                return rc;
        }
        if (c == d->ipk) {
            if (ipk_conv.type == FMT_INTEGER)
                *v = ipk_conv;
            continue; /* handled as the rowid */
        }
        column_affinity(d, cd, v, tb);
    }
    /* Generated columns may read the rowid: they are computed, and the
     * columns checked, once it is known (check_row). */
    return tab->ngen || tab->has_triggers ? 0 : column_checks(txn, ts, 0);
}

/*
 * NOT NULL, then STRICT types, of the new row, as SQLite checks them before
 * CHECK constraints. NOT NULL takes two passes, as SQLite's: the stored
 * columns in order, where a NULL is resolved by the constraint's conflict
 * mode (conflict_mode) - REPLACE puts the column's DEFAULT in its place (ABORT
 * when it has none) - then, when a REPLACE took a DEFAULT or a generated
 * column is NOT NULL, the generated columns (computed again after a
 * REPLACE) and the DEFAULTs that were NULL themselves (ABORT). A type error
 * is no conflict: no clause resolves it (SQLite aborts the statement).
 */
static int column_checks(folio_txn *txn, table_state *ts, int64_t rowid)
{
    db_table *tab = ts->tab;
    folio_db *db = txn->db;
    const sch_table *d = &tab->def;
    int pk_notnull = d->without_rowid || d->strict;
    int nreplaced = 0, ngen = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int c = 0; c < d->ncols; c++) {
            const sch_column *cd = &d->cols[c];
            fmt_value *v = &ts->newrow.v[c];
            if (c == d->ipk || !(cd->notnull || (cd->primary_key && pk_notnull)))
                continue;
            if (cd->generated && pass == 0) {
                ngen++;
                continue;
            }
            int mode = conflict_mode(txn, cd->notnull_onconflict);
            if (mode == SCH_OC_REPLACE && (pass == 1 || cd->dflt.kind == SCH_DFLT_NONE))
                mode = SCH_OC_ABORT;
            else if (pass == 1 && !cd->generated && mode != SCH_OC_REPLACE)
                continue;
            if (v->type != FMT_NULL)
                continue;
            if (mode == SCH_OC_REPLACE) {
                int rc = write_default_value(txn, ts, c, v, ts_textbuf(ts, c));
                if (rc < 0)
                    return rc;
                column_affinity(d, cd, v, ts_textbuf(ts, c));
                nreplaced++;
                continue;
            }
            return ROW_CONFLICT(txn, mode),
                   db_err(db, FOLIO_CONSTRAINT, "NOT NULL constraint failed: %s.%s", tab->name,
                          cd->name);
        }
        if (!nreplaced && !ngen)
            break;
        if (pass == 0 && nreplaced && tab->ngen) {
            int rc = generated_compute(txn, ts, ts->newrow.v, rowid, 0);
            if (rc < 0)
                return rc;
        }
    }
    for (int c = 0; c < d->ncols && d->strict; c++) {
        const sch_column *cd = &d->cols[c];
        const fmt_value *v = &ts->newrow.v[c];
        int want = cd->strict_type;
        if (c == d->ipk || v->type == FMT_NULL)
            continue;
        int ok = want == SCH_STRICT_ANY || (want == SCH_STRICT_INTEGER && v->type == FMT_INTEGER) ||
                 (want == SCH_STRICT_REAL && v->type == FMT_REAL) ||
                 (want == SCH_STRICT_TEXT && v->type == FMT_TEXT) ||
                 (want == SCH_STRICT_BLOB && v->type == FMT_BLOB);
        if (!ok)
            return db_err(db, FOLIO_CONSTRAINT, "cannot store %s value in %s column %s.%s",
                          type_name(v->type), cd->decltype ? cd->decltype : "?", tab->name,
                          cd->name);
    }
    return 0;
}

/* ---- expressions over the new row ---- */

/* Column `col` of the new row (ts->newrow) for an expression. */
static int newrow_column(void *arg, int col, ex_value *out)
{
    const table_state *ts = arg;
    const fmt_value *v = &ts->newrow.v[col];
    out->type = v->type;
    out->subtype = EX_SUBTYPE_NONE;
    if (v->type == FMT_TEXT || v->type == FMT_BLOB) {
        out->u.s.p = v->u.s.p;
        out->u.s.n = v->u.s.n;
    } else if (v->type == FMT_REAL) {
        out->u.r = v->u.r;
    } else {
        out->u.i = v->u.i;
    }
    return 0;
}

/* The state's evaluation context, with the time of this call for 'now'
 * (every use in one call sees one instant, as in one SQLite statement). */
static int table_ctx(folio_txn *txn, table_state *ts)
{
    if (!ts->cx && ex_ctx_new(&ts->cx) < 0)
        return db_err(txn->db, FOLIO_NOMEM, "out of memory");
    if (!ts->now_set) {
        struct timespec now;
        timespec_get(&now, TIME_UTC);
        ex_ctx_set_now(ts->cx, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
        ts->now_set = 1;
    }
    return 0;
}

/* The CHECK constraints, in order, on the new row (values converted by
 * their columns' affinity, as SQLite checks them) with its rowid: the first
 * that is false fails the write, FOLIO_CONSTRAINT "CHECK constraint failed:
 * <its name, else its text>" as SQLite words it. NULL passes. */
int check_row(folio_txn *txn, table_state *ts, int64_t rowid)
{
    db_table *tab = ts->tab;
    int rc;
    if (tab->ngen && (rc = generated_compute(txn, ts, ts->newrow.v, rowid, 0)) < 0)
        return rc;
    /* (BEFORE triggers run between prepare_row and here, as in SQLite) */
    if ((tab->ngen || tab->has_triggers) && (rc = column_checks(txn, ts, rowid)) < 0)
        return rc;
    if (!tab->checks)
        return 0;
    if ((rc = table_ctx(txn, ts)) < 0)
        return rc;
    ex_row row = {.column = newrow_column, .arg = ts, .rowid = rowid};
    for (int i = 0; i < tab->def.nchecks; i++) {
        const sch_check *ck = &tab->def.checks[i];
        const char *name = ck->name ? ck->name : ck->text;
        ex_value v;
        if ((rc = ex_eval(tab->checks[i], ts->cx, &row, &v)) < 0) /* as SQLite words it */
            return db_err(txn->db, rc, "%s", ex_ctx_errmsg(ts->cx));
        /* A CHECK has no conflict clause of its own (SQLite ignores one
         * written after a table CHECK); REPLACE is ABORT there. */
        int mode = conflict_mode(txn, SCH_OC_DEFAULT);
        if (ex_truth(&v) == 0)
            return ROW_CONFLICT(txn, mode == SCH_OC_REPLACE ? SCH_OC_ABORT : mode),
                   db_err(txn->db, FOLIO_CONSTRAINT, "CHECK constraint failed: %s", name);
    }
    return 0;
}

/* The rowid a new row asks for: *out_auto when it must be chosen. */
static int row_rowid(folio_txn *txn, table_state *ts, int64_t *out, int *out_auto)
{
    const sch_table *d = &ts->tab->def;
    *out_auto = 1;
    if (d->ipk < 0)
        return 0;
    fmt_value *v = &ts->newrow.v[d->ipk];
    char *tb = ts_textbuf(ts, d->ipk);
    if (v->type == FMT_NULL)
        return 0;
    sch_apply_affinity(v, SCH_AFF_INTEGER, tb, SCH_NUMBER_TEXT_BYTES);
    if (v->type != FMT_INTEGER)
        return db_err(txn->db, FOLIO_MISMATCH, "datatype mismatch: %s.%s must be an integer",
                      ts->tab->name, d->cols[d->ipk].name);
    *out = v->u.i;
    *out_auto = 0;
    return 0;
}

/* ---- encoding ---- */

static int grow(uint8_t **buf, size_t *cap, uint64_t need)
{
    if (need <= *cap)
        return 0;
    if (need > FMT_MAX_LENGTH)
        return FOLIO_TOOBIG;
    size_t n = *cap ? *cap : 256;
    while (n < need)
        n *= 2;
    uint8_t *b = os_realloc(*buf, n);
    if (!b)
        return FOLIO_NOMEM;
    *buf = b;
    *cap = n;
    return 0;
}

static int file_format(folio_txn *txn)
{
    uint32_t f = ptxn_header(txn->pt)->schema_format;
    return f ? (int)f : 4;
}

/* Encode the table record of row values (in record field order). */
int table_record(folio_txn *txn, table_state *ts, fmt_value *row, uint64_t *out)
{
    db_table *tab = ts->tab;
    int nf = tab->nstored;
    uint64_t size;
    int rc;
    if (ts->fields_identity) {
        /* Record fields are the columns in order: encode the row in place,
         * the INTEGER PRIMARY KEY column (the rowid) stored as NULL. */
        uint64_t st[WRITE_IDENTITY_MAX];
        assert(nf <= WRITE_IDENTITY_MAX);
        int ipk = tab->def.ipk;
        fmt_value save = {0};
        if (ipk >= 0) {
            save = row[ipk];
            row[ipk].type = FMT_NULL;
        }
        size = fmt_record_plan(row, nf, file_format(txn), st);
        rc = grow(&ts->rec, &ts->reccap, size);
        if (rc == 0)
            fmt_record_write(ts->rec, row, nf, st, size);
        if (ipk >= 0)
            row[ipk] = save;
    } else {
        fmt_value *fields = ts->fields; /* nstored entries */
        assert(nf <= ts->st_cap);
        for (int f = 0; f < nf; f++) {
            int c = tab->field_col[f];
            if (c == tab->def.ipk)
                fields[f].type = FMT_NULL;
            else
                fields[f] = row[c];
        }
        size = fmt_record_plan(fields, nf, file_format(txn), ts->st);
        rc = grow(&ts->rec, &ts->reccap, size);
        if (rc == 0)
            fmt_record_write(ts->rec, fields, nf, ts->st, size);
    }
    if (rc < 0)
        return db_err(txn->db, rc,
                      rc == FOLIO_TOOBIG ? "row of %s is %llu bytes; the limit is %u"
                                         : "out of memory encoding a row of %s (%llu bytes)",
                      tab->name, (unsigned long long)size, FMT_MAX_LENGTH);
    *out = size;
    return 0;
}

/* Column `col` of a row of values (arg) for an expression. */
static int row_column(void *arg, int col, ex_value *out)
{
    const fmt_value *v = (const fmt_value *)arg + col;
    out->type = v->type;
    out->subtype = EX_SUBTYPE_NONE;
    if (v->type == FMT_TEXT || v->type == FMT_BLOB) {
        out->u.s.p = v->u.s.p;
        out->u.s.n = v->u.s.n;
    } else if (v->type == FMT_REAL) {
        out->u.r = v->u.r;
    } else {
        out->u.i = v->u.i;
    }
    return 0;
}

/* Keep an expression key's value: its bytes go to is->xbuf at *used. */
static int keep_key_bytes(index_state *is, int i, const fmt_value *v, size_t *used)
{
    is->xoff[i] = *used;
    if (v->type != FMT_TEXT && v->type != FMT_BLOB)
        return 0;
    size_t need = *used + (size_t)v->u.s.n;
    if (need > is->xcap) {
        size_t cap = is->xcap ? is->xcap : 64;
        while (cap < need)
            cap *= 2;
        uint8_t *b = os_realloc(is->xbuf, cap);
        if (!b)
            return FOLIO_NOMEM;
        is->xbuf = b;
        is->xcap = cap;
    }
    if (v->u.s.n)
        memcpy(is->xbuf + *used, v->u.s.p, (size_t)v->u.s.n);
    *used = need;
    return 0;
}

/*
 * A partial index's WHERE on the row (INDEX_ROW_EXCLUDED unless true, as
 * SQLite indexes only rows where it is true), then the values of its
 * expression keys into is->kv, with the expression's affinity.
 */
static int index_exprs(table_state *ts, index_state *is, const fmt_value *row, int64_t rowid)
{
    db_index *ix = is->ix;
    ptxn *pt = ts->c.t;
    if (!ts->cx && ex_ctx_new(&ts->cx) < 0)
        return ptxn_error(pt, FOLIO_NOMEM, "out of memory");
    ex_row er = {.column = row_column, .arg = (void *)row, .rowid = rowid};
    ex_value v;
    int rc;
    if (ix->where) {
        if ((rc = ex_eval(ix->where, ts->cx, &er, &v)) < 0)
            return ptxn_error(pt, rc, "%s", ex_ctx_errmsg(ts->cx));
        if (ex_truth(&v) != 1)
            return INDEX_ROW_EXCLUDED;
    }
    if (!ix->kexpr)
        return 0;
    if (!is->xoff && !(is->xoff = os_calloc((size_t)ix->ncols, sizeof *is->xoff)))
        return ptxn_error(pt, FOLIO_NOMEM, "out of memory");
    size_t used = 0;
    for (int i = 0; i < ix->ncols; i++) {
        if (!ix->kexpr[i])
            continue;
        if ((rc = ex_eval(ix->kexpr[i], ts->cx, &er, &v)) < 0)
            return ptxn_error(pt, rc, "%s", ex_ctx_errmsg(ts->cx));
        fmt_value *k = &is->kv[i];
        k->type = v.type;
        k->u.i = v.u.i;
        if (v.type == EX_REAL)
            k->u.r = v.u.r;
        else if (v.type == EX_TEXT || v.type == EX_BLOB)
            k->u.s.p = v.u.s.p, k->u.s.n = v.u.s.n;
        char tb[SCH_NUMBER_TEXT_BYTES];
        if (ix->kaff[i] != EX_AFF_NONE && ix->kaff[i] != SCH_AFF_BLOB)
            sch_apply_affinity(k, ix->kaff[i], tb, sizeof tb);
        if ((rc = keep_key_bytes(is, i, k, &used)) < 0)
            return ptxn_error(pt, rc, "out of memory");
    }
    for (int i = 0; i < ix->ncols; i++)
        if (ix->kexpr[i] && (is->kv[i].type == FMT_TEXT || is->kv[i].type == FMT_BLOB))
            is->kv[i].u.s.p = is->xbuf ? is->xbuf + is->xoff[i] : (const uint8_t *)"";
    return 0;
}

int index_record_build(table_state *ts, index_state *is, const fmt_value *row, int64_t rowid,
                       uint64_t *out_size)
{
    db_index *ix = is->ix;
    db_table *tab = ts->tab;
    if (ix->where || ix->kexpr) {
        int rc = index_exprs(ts, is, row, rowid);
        if (rc != 0)
            return rc;
    }
    for (int i = 0; i < ix->ncols; i++) {
        int c = ix->cols[i];
        if (c < 0)
            continue; /* an expression key: index_exprs gave it */
        if (c == tab->def.ipk) {
            is->kv[i].type = FMT_INTEGER;
            is->kv[i].u.i = rowid;
        } else {
            is->kv[i] = row[c];
        }
    }
    if (tab->def.without_rowid) {
        for (int s = 0; s < ix->nsuffix; s++)
            is->kv[ix->ncols + s] = row[ix->suffix_cols[s]];
    } else {
        is->kv[ix->ncols].type = FMT_INTEGER;
        is->kv[ix->ncols].u.i = rowid;
    }
    assert(ix->nfields <= ts->st_cap);
    uint64_t size = fmt_record_plan(is->kv, ix->nfields, 4, ts->st);
    int rc = grow(&ts->irec, &ts->ireccap, size);
    if (rc < 0)
        return ptxn_error(ts->c.t, rc,
                          rc == FOLIO_TOOBIG ? "entry of index %s is %llu bytes; the limit is %u"
                                             : "out of memory building an entry of index %s "
                                               "(%llu bytes)",
                          ix->name, (unsigned long long)size, FMT_MAX_LENGTH);
    fmt_record_write(ts->irec, is->kv, ix->nfields, ts->st, size);
    *out_size = size;
    return 0;
}

static int index_key_cmp(void *ctx, const uint8_t *rec, uint64_t size, int *out)
{
    index_state *is = ctx;
    key_ctx k = {is->kv, is->order.n, is->order.desc, is->order.coll, is->order.enc, NULL, NULL};
    return key_compare(&k, rec, size, out);
}

int index_insert_row(table_state *ts, index_state *is, const fmt_value *row, int64_t rowid)
{
    uint64_t size;
    int rc = index_record_build(ts, is, row, rowid, &size);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    is->c.t = ts->c.t;
    return bt_insert_key(&is->c, ts->irec, size, index_key_cmp, is);
}

int index_delete_row(table_state *ts, index_state *is, const fmt_value *row, int64_t rowid)
{
    uint64_t size;
    int rc = index_record_build(ts, is, row, rowid, &size);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    rc = bt_seek_ge(&is->c, index_key_cmp, is, 1);
    if (rc < 0)
        return rc;
    int cmp = 1;
    if (rc == FOLIO_ROW) {
        const uint8_t *rec;
        uint64_t n;
        if ((rc = bt_payload(&is->c, &rec, &n)) < 0)
            return rc;
        if ((rc = index_key_cmp(is, rec, n, &cmp)) < 0)
            return rc == FOLIO_CORRUPT ? bt_corrupt_here(&is->c, "malformed index record") : rc;
    }
    if (cmp != 0)
        return ptxn_error(is->c.t, FOLIO_CORRUPT, "index %s lacks the entry of a row",
                          is->ix->name);
    return bt_delete(&is->c);
}

/* ---- constraint checks ---- */

/* The N of sqlite_autoindex_<table>_N, or 0 for an index that is not one. */
static int auto_num(const db_index *ix)
{
    const char *p = ix->is_auto ? strrchr(ix->name, '_') : NULL;
    return p ? atoi(p + 1) : 0;
}

/* WITHOUT ROWID: the N of the primary key's automatic index (it has no
 * row in sqlite_schema: the number the others skip). */
static int pk_auto_num(const db_table *tab)
{
    for (int n = 1;; n++) {
        int used = 0;
        for (int k = 0; k < tab->def.nauto && !used; k++)
            used = tab->def.autoidx[k].num == n;
        if (!used)
            return n;
    }
}

int index_checks(folio_txn *txn, table_state *ts, int64_t rowid, const fmt_value *self_pk,
                 int self_valid)
{
    return index_checks_pk(txn, ts, rowid, self_pk, self_valid, NULL, NULL);
}

int write_pk_onconflict(const db_table *tab)
{
    /* (A rowid table's PRIMARY KEY that is not the rowid is an index's.) */
    return tab->def.ipk >= 0 || tab->def.without_rowid ? tab->def.pk_onconflict : SCH_OC_DEFAULT;
}

/* Whether check `step` of write_check_order is a constraint that says ON
 * CONFLICT REPLACE itself. */
static int step_says_replace(const db_table *tab, int step)
{
    int own = step < 0 ? write_pk_onconflict(tab) : tab->idx[step]->onconflict;
    return own == SCH_OC_REPLACE;
}

/* Whether some uniqueness constraint of the table says ON CONFLICT REPLACE. */
static int table_says_replace(const db_table *tab)
{
    int any = write_pk_onconflict(tab) == SCH_OC_REPLACE;
    for (int i = 0; i < tab->nidx && !any; i++)
        any = tab->idx[i]->onconflict == SCH_OC_REPLACE;
    return any;
}

int write_check_order(const db_table *tab, int with_pk, int *order)
{
    /* A rowid table's rowid comes first; a WITHOUT ROWID table's primary
     * key takes its turn as the index it would be: made in declaration
     * order among the automatic ones. Then the indexes, the one made last
     * first. */
    int n = 0, wr = tab->def.without_rowid;
    int pk_num = with_pk && wr ? pk_auto_num(tab) : 0, pk_done = !(with_pk && wr);
    if (with_pk && !wr)
        order[n++] = -1;
    for (int i = tab->nidx - 1; i >= 0; i--) {
        if (!pk_done && tab->idx[i]->is_auto && auto_num(tab->idx[i]) < pk_num) {
            pk_done = 1;
            order[n++] = -1;
        }
        order[n++] = i;
    }
    if (!pk_done)
        order[n++] = -1;
    /* As SQLite links a table's indexes: those whose constraint says ON
     * CONFLICT REPLACE after all the others (in their order), so that the
     * checks that fail or skip the row run before any row is replaced. A
     * rowid table's rowid stays first (index_checks_pk may move it last). */
    int first = with_pk && !wr ? 1 : 0;
    for (int j = first, m = first; j < n; j++) {
        int step = order[j];
        if (step_says_replace(tab, step))
            continue;
        memmove(order + m + 1, order + m, sizeof *order * (size_t)(j - m));
        order[m++] = step;
    }
    return n;
}

/* An UPSERT's targets are checked first, in the order of its clauses (a
 * rowid table's rowid right after them when no clause names it), as SQLite
 * orders the checks; then the others in their usual order. */
static void upsert_order(const folio_txn *txn, const table_state *ts, int *order, int n)
{
    const db_upsert *u = txn->upsert;
    int m = 0;
    for (int k = 0; k < u->n; k++) {
        const ups_clause *c = &u->c[k];
        for (int j = m; j < n && c->kind != UPS_ANY; j++) {
            int step = order[j];
            if (step == -1 ? c->kind == UPS_PK
                           : c->kind == UPS_INDEX && ts->idx[step].ix == c->ix) {
                memmove(order + m + 1, order + m, sizeof *order * (size_t)(j - m));
                order[m++] = step;
                break;
            }
        }
    }
    for (int j = m; j < n && !ts->tab->def.without_rowid; j++) {
        if (order[j] == -1) {
            memmove(order + m + 1, order + m, sizeof *order * (size_t)(j - m));
            order[m++] = -1;
            break;
        }
    }
}

int index_checks_pk(folio_txn *txn, table_state *ts, int64_t rowid, const fmt_value *self_pk,
                    int self_valid, int (*pk)(folio_txn *, table_state *, void *), void *arg)
{
    /* The order is made only for an UPSERT (this frame is on the stack of
     * every level of a chain of triggers: it stays small). */
    int *order = NULL, n = ts->nidx + (pk != NULL), rc = 0;
    int wr = ts->tab->def.without_rowid;
    int ups = txn->upsert && txn->upsert_at == txn->fk_depth;
    if (ups || table_says_replace(ts->tab)) {
        if (!(order = os_malloc(sizeof *order * (size_t)(ts->nidx + 1))))
            return db_err(txn->db, FOLIO_NOMEM, "out of memory");
        n = write_check_order(ts->tab, pk != NULL, order);
        if (ups)
            upsert_order(txn, ts, order, n);
        /* A rowid conflict that the key's own REPLACE resolves (the
         * statement saying nothing) is checked after every index, as SQLite
         * defers it when the other constraints may resolve otherwise. */
        if (pk && !wr && ts->nidx > 0 &&
            txn->orconf_at[txn->fk_depth < 1024 ? txn->fk_depth : 1023] == SCH_OC_DEFAULT &&
            write_pk_onconflict(ts->tab) == SCH_OC_REPLACE) {
            for (int j = 0; j < n - 1; j++) {
                if (order[j] == -1) {
                    memmove(order + j, order + j + 1, sizeof *order * (size_t)(n - 1 - j));
                    order[n - 1] = -1;
                    break;
                }
            }
        }
    }
    int pk_num = pk && wr ? pk_auto_num(ts->tab) : 0, pk_done = !pk, i = ts->nidx - 1;
    /* (A code above 0 is an UPSERT's: the checks stop there.) */
    for (int k = 0; k < n && rc == 0; k++) {
        int step;
        if (order) {
            step = order[k];
        } else if (!pk_done &&
                   (!wr || i < 0 || (ts->idx[i].ix->is_auto && auto_num(ts->idx[i].ix) < pk_num))) {
            step = -1; /* (where write_check_order places it) */
            pk_done = 1;
        } else {
            step = i--;
        }
        if (step == -1) {
            rc = pk(txn, ts, arg);
            continue;
        }
        index_state *is = &ts->idx[step];
        if (is->ix->unique) {
            rc = unique_check(txn, ts, is, ts->newrow.v, rowid, self_pk, self_valid);
        } else if (is->ix->kexpr || is->ix->where) {
            uint64_t size;
            if ((rc = index_record_build(ts, is, ts->newrow.v, rowid, &size)) < 0)
                rc = db_err_txn(txn, rc);
            else
                rc = 0; /* (INDEX_ROW_EXCLUDED is no outcome) */
        }
    }
    os_free(order);
    return rc;
}

static void constraint_columns(char *buf, size_t cap, db_table *tab, db_index *ix)
{
    size_t off = 0;
    buf[0] = 0;
    if (ix->has_expr) { /* SQLite names an index on expressions itself */
        snprintf(buf, cap, "index '%s'", ix->name);
        return;
    }
    for (int i = 0; i < ix->ncols && off + 1 < cap; i++) {
        int c = ix->cols[i];
        const char *name = c >= 0 && c < tab->def.ncols ? tab->def.cols[c].name : "?";
        off += (size_t)snprintf(buf + off, cap - off, "%s%s.%s", i ? ", " : "", tab->name, name);
    }
}

/*
 * A uniqueness conflict of the new row on index ix (NULL: the rowid or the
 * primary key) while a body's UPSERT runs its insert: the clause that takes
 * it. DO NOTHING skips the row (TRIG_IGNORED); DO UPDATE keeps the row in
 * the way (its rowid `other`, or its primary key values `other_pk`) and the
 * row the insert would have made, with its rowid nid (SQLite's excluded:
 * REAL columns hold REAL values there), and returns UPSERT_UPDATE. 0: no
 * clause takes it.
 */
int upsert_take(folio_txn *txn, table_state *ts, const db_index *ix, int64_t other,
                const fmt_value *other_pk, int64_t nid)
{
    db_upsert *u = txn->upsert;
    if (!u || txn->upsert_at != txn->fk_depth)
        return 0;
    int at = -1;
    for (int k = 0; k < u->n && at < 0; k++) {
        const ups_clause *c = &u->c[k];
        if (c->kind == UPS_ANY || (ix ? c->kind == UPS_INDEX && c->ix == ix : c->kind == UPS_PK))
            at = k;
    }
    if (at < 0)
        return 0;
    if (!u->c[at].do_update)
        return TRIG_IGNORED;
    const sch_table *d = &ts->tab->def;
    int rc = trig_rows_save(txn, &u->x, ts->newrow.v, nid, NULL, 0, d->ncols);
    if (rc == 0 && other_pk)
        rc = trig_rows_save(txn, &u->key, other_pk, 0, NULL, 0, d->npk);
    if (rc < 0)
        return rc;
    fmt_value *xv = (fmt_value *)(uintptr_t)u->x.nv; /* (its own copy) */
    for (int c = 0; c < d->ncols; c++) {
        if (d->cols[c].affinity == SCH_AFF_REAL && xv[c].type == FMT_INTEGER) {
            double r = (double)xv[c].u.i;
            xv[c].type = FMT_REAL;
            xv[c].u.r = r;
        }
    }
    if (d->ipk >= 0) {
        xv[d->ipk].type = FMT_INTEGER;
        xv[d->ipk].u.i = nid;
    }
    u->hit = at;
    u->rowid = other;
    return UPSERT_UPDATE;
}

/*
 * WITHOUT ROWID: the primary key values of the row an index entry (rec, n)
 * stands for, copied into out (npk values, key order). A key column that is
 * also one of the index's columns is not repeated in the entry's suffix: it
 * is read from the index's own field.
 */
static int entry_pk(folio_txn *txn, table_state *ts, index_state *is, const uint8_t *rec,
                    uint64_t n, trig_rows *out)
{
    const db_table *tab = ts->tab;
    const db_index *ix = is->ix;
    int npk = tab->def.npk;
    fmt_value stackv[16];
    fmt_value *pk = npk <= 16 ? stackv : os_malloc(sizeof *pk * (size_t)npk);
    if (!pk)
        return db_err(txn->db, FOLIO_NOMEM, "out of memory");
    row_decoder rd = {0};
    int rc = row_decode(&rd, rec, n, n);
    for (int k = 0; k < npk && rc == 0; k++) {
        int col = tab->def.pk[k].col, f = -1;
        for (int s = 0; s < ix->nsuffix && f < 0; s++)
            if (ix->suffix_cols[s] == col)
                f = ix->ncols + s;
        for (int i = 0; i < ix->ncols && f < 0; i++)
            if (ix->cols[i] == col)
                f = i;
        if (f < 0 || (uint32_t)f >= rd.nfields ||
            fmt_serial_decode(rd.st[f], rec + rd.off[f], &pk[k]) < 0)
            rc = FOLIO_CORRUPT;
    }
    row_decoder_free(&rd);
    if (rc == 0)
        rc = trig_rows_save(txn, out, pk, 0, NULL, 0, npk);
    else
        rc = db_err_txn(txn, rc == FOLIO_NOMEM ? ptxn_error(txn->pt, rc, "out of memory")
                                               : bt_corrupt_here(&is->c, "malformed index record"));
    if (pk != stackv)
        os_free(pk);
    return rc;
}

/*
 * After OR REPLACE deleted the row in the way: the key must be free now, or
 * the write fails (OR ABORT), as SQLite checks again once its replace
 * triggers have run - a DELETE trigger may have kept the row (RAISE(IGNORE))
 * or made another. (Not replacing again: that could go on for ever.)
 */
static int unique_recheck(folio_txn *txn, table_state *ts, index_state *is, int64_t rowid,
                          const fmt_value *self_pk, int self_valid)
{
    uint8_t *p = &txn->orconf_at[txn->fk_depth < 1024 ? txn->fk_depth : 1023];
    uint8_t saved = *p;
    *p = SCH_OC_ABORT;
    int rc = unique_check(txn, ts, is, ts->newrow.v, rowid, self_pk, self_valid);
    *p = saved;
    return rc;
}

/*
 * A UNIQUE index would get a second entry with the same key: returns
 * FOLIO_CONSTRAINT. `self` (and self_valid) names the row being updated,
 * whose own entry does not count.
 */
int unique_check(folio_txn *txn, table_state *ts, index_state *is, const fmt_value *row,
                 int64_t rowid, const fmt_value *self_pk, int self_valid)
{
    db_index *ix = is->ix;
    if (!ix->unique)
        return 0;
    uint64_t size;
    int rc = index_record_build(ts, is, row, rowid, &size);
    if (rc < 0)
        return db_err_txn(txn, rc);
    if (rc == INDEX_ROW_EXCLUDED)
        return 0; /* not in the index: no conflict */
    for (int i = 0; i < ix->ncols; i++)
        if (is->kv[i].type == FMT_NULL)
            return 0; /* NULLs are distinct */
    key_ctx k = {is->kv, ix->ncols, is->order.desc, is->order.coll, is->order.enc, txn->pt, NULL};
    is->c.t = txn->pt;
    rc = bt_seek_ge(&is->c, key_compare, &k, 1);
    if (rc < 0)
        return db_err_txn(txn, rc);
    while (rc == FOLIO_ROW) {
        const uint8_t *rec;
        uint64_t n;
        int cmp;
        if ((rc = bt_payload(&is->c, &rec, &n)) < 0)
            return db_err_txn(txn, rc);
        if ((rc = key_compare(&k, rec, n, &cmp)) < 0)
            return db_err_txn(
                txn, rc == FOLIO_CORRUPT ? bt_corrupt_here(&is->c, "malformed index record") : rc);
        if (cmp != 0)
            break;
        /* Same key: is it the row itself? */
        int same = 0;
        if (self_valid) {
            row_decoder rd = {0};
            if ((rc = row_decode(&rd, rec, n, n)) < 0) {
                row_decoder_free(&rd);
                bt_cursor_reset(&is->c);
                return db_err_txn(txn, rc == FOLIO_NOMEM
                                           ? ptxn_error(txn->pt, rc, "out of memory")
                                           : bt_corrupt_here(&is->c, "malformed index record"));
            }
            same = 1;
            if (!ts->tab->def.without_rowid) {
                fmt_value v;
                uint32_t last = rd.nfields - 1;
                same = rd.nfields > 0 &&
                       fmt_serial_decode(rd.st[last], rec + rd.off[last], &v) == 0 &&
                       v.type == FMT_INTEGER && v.u.i == self_pk[0].u.i;
            } else {
                /* Every key column, from the suffix or, when the index has
                 * it among its own columns, from there (an update may have
                 * changed it: the entry is then another row's). */
                for (int k2 = 0; k2 < ts->tab->def.npk && same; k2++) {
                    fmt_value v;
                    int pkcol = ts->tab->def.pk[k2].col, f = -1;
                    for (int s = 0; s < ix->nsuffix && f < 0; s++)
                        if (ix->suffix_cols[s] == pkcol)
                            f = ix->ncols + s;
                    for (int i = 0; i < ix->ncols && f < 0; i++)
                        if (ix->cols[i] == pkcol)
                            f = i;
                    same = f >= 0 && (uint32_t)f < rd.nfields &&
                           fmt_serial_decode(rd.st[f], rec + rd.off[f], &v) == 0 &&
                           sch_compare(&v, &self_pk[k2], ts->tab->pk_coll[k2]) == 0;
                }
            }
            row_decoder_free(&rd);
        }
        if (!same && txn->upsert && txn->upsert_at == txn->fk_depth) {
            /* An UPSERT's clause may take it (its row found from the entry). */
            trig_rows kk;
            memset(&kk, 0, sizeof kk);
            int64_t other = 0;
            if (ts->tab->def.without_rowid) {
                rc = entry_pk(txn, ts, is, rec, n, &kk);
            } else {
                row_decoder rd = {0};
                fmt_value v;
                rc = row_decode(&rd, rec, n, n) == 0 && rd.nfields > 0 &&
                             fmt_serial_decode(rd.st[rd.nfields - 1], rec + rd.off[rd.nfields - 1],
                                               &v) == 0 &&
                             v.type == FMT_INTEGER
                         ? 0
                         : db_err_txn(txn, bt_corrupt_here(&is->c, "malformed index record"));
                other = rc == 0 ? v.u.i : 0;
                row_decoder_free(&rd);
            }
            if (rc == 0)
                rc = upsert_take(txn, ts, ix, other, kk.nv, rowid);
            trig_rows_free(&kk);
            if (rc != 0) {
                bt_cursor_reset(&is->c);
                return rc;
            }
        }
        if (!same && replace_mode(txn, ix->onconflict) && ts->tab->def.without_rowid) {
            /* OR REPLACE: the row that holds the key goes (its primary key
             * from the entry, copied before the cursor lets the page go);
             * look again. */
            trig_rows kk;
            memset(&kk, 0, sizeof kk);
            rc = entry_pk(txn, ts, is, rec, n, &kk);
            bt_cursor_reset(&is->c);
            if (rc == 0)
                rc = replace_delete(txn, ts, 0, kk.nv, self_valid);
            trig_rows_free(&kk);
            if (rc < 0)
                return rc;
            return unique_recheck(txn, ts, is, rowid, self_pk, self_valid);
        }
        if (!same && replace_mode(txn, ix->onconflict)) {
            /* OR REPLACE: the row that holds the key goes; look again. */
            row_decoder rd = {0};
            fmt_value v;
            int64_t other = 0;
            int ok =
                row_decode(&rd, rec, n, n) == 0 && rd.nfields > 0 &&
                fmt_serial_decode(rd.st[rd.nfields - 1], rec + rd.off[rd.nfields - 1], &v) == 0 &&
                v.type == FMT_INTEGER;
            if (ok)
                other = v.u.i;
            row_decoder_free(&rd);
            bt_cursor_reset(&is->c);
            if (!ok)
                return db_err_txn(txn, bt_corrupt_here(&is->c, "malformed index record"));
            if ((rc = replace_delete(txn, ts, other, NULL, self_valid)) < 0)
                return rc;
            return unique_recheck(txn, ts, is, rowid, self_pk, self_valid);
        }
        if (!same) {
            char cols[256];
            constraint_columns(cols, sizeof cols, ts->tab, ix);
            bt_cursor_reset(&is->c);
            return ROW_CONFLICT(txn, conflict_mode(txn, ix->onconflict)),
                   db_err(txn->db, FOLIO_CONSTRAINT, "UNIQUE constraint failed: %s", cols);
        }
        rc = bt_next(&is->c);
        if (rc < 0)
            return db_err_txn(txn, rc);
    }
    bt_cursor_reset(&is->c);
    return 0;
}

/* ---- reading the old row ---- */

/* Decode the row under the table cursor into ts->oldrow (owned copy). */
int load_old_row(folio_txn *txn, table_state *ts)
{
    db_table *tab = ts->tab;
    const uint8_t *rec;
    uint64_t size;
    int rc = bt_payload(&ts->c, &rec, &size);
    if (rc < 0)
        return rc;
    row_decoder *rd = &ts->rd; /* kept: no allocation per row once grown */
    if ((rc = row_decode(rd, rec, size, size)) < 0)
        return rc == FOLIO_NOMEM
                   ? ptxn_error(txn->pt, rc, "out of memory decoding a row of %s", tab->name)
                   : bt_corrupt_here(&ts->c, "malformed record");
    for (int c = 0; c < tab->def.ncols; c++) {
        fmt_value *v = &ts->oldrow.v[c];
        int f = tab->col_field[c];
        if (c == tab->def.ipk) {
            v->type = FMT_INTEGER;
            v->u.i = bt_rowid(&ts->c);
        } else if (f < 0 || (uint32_t)f >= rd->nfields) {
            if (row_default_value(&tab->def.cols[c], tab->def.strict, v, ts_textbuf(ts, c)) < 0)
                v->type = FMT_NULL;
        } else if (fmt_serial_decode(rd->st[f], rec + rd->off[f], v) < 0) {
            return bt_corrupt_here(&ts->c, "bad serial type in record");
        }
    }
    /* VIRTUAL generated columns, for the indexes on them. */
    int rc2;
    if (tab->ngen &&
        (rc2 = generated_compute(txn, ts, ts->oldrow.v,
                                 tab->def.without_rowid ? 0 : bt_rowid(&ts->c), 1)) < 0)
        return ptxn_error(txn->pt, rc2, "%s", folio_errmsg(txn->db));
    if (row_vals_own(&ts->oldrow) < 0)
        return ptxn_error(txn->pt, FOLIO_NOMEM, "out of memory copying a row of %s", tab->name);
    return 0;
}

/* ---- the operations ---- */

static int max_rowid(table_state *ts, int64_t *out, int *out_empty)
{
    if (ts->max_valid) {
        *out = ts->max_rowid;
        *out_empty = 0;
        return 0;
    }
    int rc = bt_max_rowid(&ts->c, out, out_empty);
    if (rc == 0 && !*out_empty) {
        ts->max_rowid = *out;
        ts->max_valid = 1;
    }
    return rc;
}

/* ---- conflict clauses and triggers around a row call ---- */

/* A nested call's conflict clause, taken as it starts. */
int take_onconf(folio_txn *txn)
{
    int oc = txn->onconf;
    txn->onconf = 0;
    txn->conflict_at = 0;
    txn->row_skipped = 0;
    txn->orconf_at[txn->fk_depth < 1024 ? txn->fk_depth : 1023] = (uint8_t)oc;
    return oc;
}

/* The call's outcome under the conflict mode of the row's check that failed
 * (conflict_mode: the call's clause `oc` when it has one, else the
 * constraint's own): IGNORE skips the row (what its BEFORE triggers did
 * stays, as in SQLite); FAIL and ROLLBACK fail as RAISE(FAIL) and
 * RAISE(ROLLBACK) do. */
int apply_onconf(folio_txn *txn, int oc, int rc)
{
    txn->row_skipped = 0;
    if (rc == UPSERT_UPDATE)
        return 0; /* (the UPSERT's DO UPDATE is done by its caller) */
    if (rc == TRIG_IGNORED) {
        txn->row_skipped = 1;
        return 0;
    }
    if (rc != FOLIO_CONSTRAINT || txn->conflict_at != txn->fk_depth + 1)
        return rc;
    oc = txn->conflict_oc; /* the statement's clause, else the failing constraint's */
    if (oc == SCH_OC_IGNORE) {
        db_clear_err(txn->db);
        txn->row_skipped = 1;
        return 0;
    }
    if (oc == SCH_OC_FAIL)
        txn->stmt_keep = 1;
    else if (oc == SCH_OC_ROLLBACK)
        txn->stmt_rollback = 1;
    return rc;
}

/* BEFORE INSERT: NEW is the prepared row, its rowid the INTEGER PRIMARY
 * KEY's value or -1 when it is to be chosen (SQLite's). The row is restored
 * from tr afterwards (a trigger writing this table reuses ts), so tr lives
 * until the insert is done. */
static int insert_before(folio_txn *txn, table_state *ts, int64_t nid, trig_rows *tr)
{
    db_table *tab = ts->tab;
    int rc = trig_any(txn, ts, SCH_TRIG_BEFORE, SCH_TRIG_INSERT, NULL);
    if (rc <= 0)
        return rc;
    if (nid == -1 && tab->def.ipk >= 0 && ts->newrow.v[tab->def.ipk].type == FMT_INTEGER)
        nid = ts->newrow.v[tab->def.ipk].u.i;
    if (tab->ngen && (rc = generated_compute(txn, ts, ts->newrow.v, nid, 0)) < 0)
        return rc;
    if ((rc = trig_rows_save(txn, tr, ts->newrow.v, nid, NULL, 0, tab->def.ncols)) < 0)
        return rc;
    rc = trig_fire(txn, ts, SCH_TRIG_BEFORE, SCH_TRIG_INSERT, NULL, tr);
    memcpy(ts->newrow.v, tr->nv, sizeof *ts->newrow.v * (size_t)tab->def.ncols);
    return rc;
}

/* AFTER INSERT (or UPDATE, with the old row): NEW is the row as stored. */
static int row_after(folio_txn *txn, table_state *ts, int event, const fk_change *chg, int64_t nid,
                     const fmt_value *orow, int64_t oid)
{
    int rc = trig_any(txn, ts, SCH_TRIG_AFTER, event, chg);
    if (rc <= 0)
        return rc;
    trig_rows tr;
    memset(&tr, 0, sizeof tr);
    if ((rc = trig_rows_save(txn, &tr, event == SCH_TRIG_DELETE ? NULL : ts->newrow.v, nid, orow,
                             oid, ts->tab->def.ncols)) < 0)
        return rc;
    rc = trig_fire(txn, ts, SCH_TRIG_AFTER, event, chg, &tr);
    trig_rows_free(&tr);
    return rc;
}

typedef struct rowid_check_arg {
    int64_t rowid;
    int may_exist; /* (not when it is past the largest) */
    int replace_ok;
    int replaced; /* OR REPLACE deleted the row that had it */
} rowid_check_arg;

static int rowid_taken(folio_txn *txn, const db_table *tab, int mode);

/* A new row's rowid must be free (index_checks_pk's primary key check). */
static int rowid_check(folio_txn *txn, table_state *ts, void *arg)
{
    rowid_check_arg *a = arg;
    db_table *tab = ts->tab;
    if (!a->may_exist)
        return 0;
    int rc = bt_seek_rowid(&ts->c, a->rowid);
    bt_cursor_reset(&ts->c);
    if (rc < 0)
        return db_err_txn(txn, rc);
    if (rc != FOLIO_ROW || a->replace_ok)
        return 0;
    if ((rc = upsert_take(txn, ts, NULL, a->rowid, NULL, a->rowid)) != 0)
        return rc;
    int mode = conflict_mode(txn, write_pk_onconflict(tab));
    if (mode == SCH_OC_REPLACE) {
        rc = replace_delete(txn, ts, a->rowid, NULL, 0);
        a->replaced = 1;
        return rc < 0 ? rc : 0;
    }
    return rowid_taken(txn, tab, mode);
}

static int rowid_taken(folio_txn *txn, const db_table *tab, int mode)
{
    const char *col = tab->def.ipk >= 0 ? tab->def.cols[tab->def.ipk].name : "rowid";
    ROW_CONFLICT(txn, mode);
    return db_err(txn->db, FOLIO_CONSTRAINT, "UNIQUE constraint failed: %s.%s", tab->name, col);
}

static int insert_rowid_row(folio_txn *txn, table_state *ts, int64_t rowid, int is_auto,
                            int64_t *out_rowid, int replace_ok)
{
    db_table *tab = ts->tab;
    int rc;
    int64_t mx = 0;
    int empty = 1;
    if ((rc = max_rowid(ts, &mx, &empty)) < 0)
        return db_err_txn(txn, rc);
    int64_t seq = 0;
    if (tab->def.autoincrement && (rc = autoinc_get(txn, tab, &seq)) < 0)
        return rc;
    if (is_auto) {
        int64_t base = empty ? 0 : mx;
        if (tab->def.autoincrement && seq > base)
            base = seq;
        if (base == INT64_MAX) {
            if (tab->def.autoincrement)
                return db_err(txn->db, FOLIO_FULL,
                              "AUTOINCREMENT table %s has used every rowid (database or disk "
                              "is full, as SQLite says)",
                              tab->name);
            /* As SQLite: past the largest rowid, try random unused ones. */
            uint64_t rs = ts->rand_state;
            int found = 0;
            for (int tries = 0; tries < 100 && !found; tries++) {
                rs ^= rs << 13;
                rs ^= rs >> 7;
                rs ^= rs << 17;
                ts->rand_state = rs;
                int64_t cand = (int64_t)(rs >> 1);
                if (cand <= 0)
                    continue;
                rc = bt_seek_rowid(&ts->c, cand);
                bt_cursor_reset(&ts->c);
                if (rc < 0)
                    return db_err_txn(txn, rc);
                if (rc == FOLIO_NOTFOUND) {
                    rowid = cand;
                    found = 1;
                }
            }
            if (!found)
                return db_err(txn->db, FOLIO_FULL, "table %s: no unused rowid found", tab->name);
        } else if (txn->conc || db_rowid_counters(txn->db)) {
            /* Concurrent inserts take rowids from the handle's counter; a
             * plain writer beside them too, past the ones they hold. */
            rowid = db_rowid_reserve(txn->db, tab->root, base);
            if (rowid <= 0)
                return db_err(txn->db, FOLIO_FULL, "table %s: no unused rowid found", tab->name);
        } else {
            rowid = base + 1;
        }
    }
    /* As SQLite: NOT NULL (prepare_row), then CHECK, then the keys. */
    if ((rc = check_row(txn, ts, rowid)) < 0)
        return rc;
    rowid_check_arg ra = {rowid, !is_auto && !empty && rowid <= mx, replace_ok, 0};
    if ((rc = index_checks_pk(txn, ts, rowid, NULL, 0, rowid_check, &ra)) != 0)
        return rc;
    if (ra.replaced) {
        /* As SQLite checks again after the deletes of OR REPLACE: a DELETE
         * trigger may have kept the row (RAISE(IGNORE)) or put one back. */
        rc = bt_seek_rowid(&ts->c, rowid);
        bt_cursor_reset(&ts->c);
        if (rc < 0)
            return db_err_txn(txn, rc);
        if (rc == FOLIO_ROW)
            return rowid_taken(txn, tab, SCH_OC_ABORT);
    }
    if ((rc = fk_new_row(txn, ts, ts->newrow.v, rowid, NULL, 0)) < 0)
        return rc;
    uint64_t size;
    if ((rc = pin_check(txn, ts->tab)) < 0 || (rc = table_record(txn, ts, ts->newrow.v, &size)) < 0)
        return rc;
    if ((rc = bt_insert_row(&ts->c, rowid, ts->rec, size)) < 0)
        return db_err_txn(txn, rc);
    uint64_t deferred = 0; /* bit i: index i's entry goes to its sorter */
    for (int i = 0; i < ts->nidx; i++) {
        if (!replace_ok && i < WRITE_DEFER_MAX && index_defer_wanted(txn, ts, &ts->idx[i]))
            deferred |= (uint64_t)1 << i;
        else if ((rc = index_insert_row(ts, &ts->idx[i], ts->newrow.v, rowid)) < 0)
            return db_err_txn(txn, rc);
    }
    if (empty || rowid > mx) {
        ts->max_rowid = rowid;
        ts->max_valid = 1;
    }
    if (tab->def.autoincrement && rowid > seq && !txn->replica &&
        (rc = autoinc_set(txn, tab, rowid)) < 0)
        return rc;
    /* Last, once nothing else can fail. */
    if (deferred && (rc = index_defer_add_row(txn, ts, deferred, ts->newrow.v, rowid)) < 0)
        return rc;
    if (out_rowid)
        *out_rowid = rowid;
    return 0;
}

int table_for(folio_table *t, table_state **out)
{
    if (t->dead)
        return db_err(t->txn->db, FOLIO_MISUSE, "table %s was dropped", t->tab->name);
    if (t->ts && t->ts_gen == t->txn->states_gen) {
        *out = t->ts;
    } else {
        int rc = table_state_get(out, t->txn, t->tab);
        if (rc < 0)
            return db_err(t->txn->db, rc, "out of memory");
        t->ts = *out;
        t->ts_gen = t->txn->states_gen;
    }
    (*out)->c.t = t->txn->pt;
    return 0;
}

/*
 * The append path of a load, for a row with a rowid past the table's largest
 * that goes into the leaf the previous append left the cursor on: the record
 * is encoded straight into the leaf, with no statement to begin or undo, as
 * nothing can fail once the cell is placed. It takes rows that give every
 * column a value (no DEFAULT), converted by the column affinities as in the
 * general path; any other row, and every refusal, takes the general path
 * (returns 0, having changed nothing) and is reported there. Returns 1 when
 * the row was inserted, or an error.
 */
static int insert_append(folio_table *t, const folio_value *vals, int n, int64_t *out_rowid)
{
    folio_txn *txn = t->txn;
    table_state *ts = t->ts;
    if (!ts || t->ts_gen != txn->states_gen || !ts->append_fast || !ts->max_valid || t->dead ||
        txn->done || !txn->write || txn->poisoned || txn->vals_given || txn->conc || txn->pins ||
        db_rowid_counters(txn->db) || (txn->deadline_ms && db_txn_expired(txn)) ||
        (db_fk_on(txn) && fk_involved(txn, ts) != 0))
        return 0; /* (the general path reports a timeout and foreign keys) */
    const sch_table *d = &ts->tab->def;
    if (n != d->ncols)
        return 0;
    /* The values as their columns store them: integers in INTEGER and
     * NUMERIC columns and text in TEXT columns as they come, the rest through
     * value_in and column_affinity as in prepare_row. */
    fmt_value *row = ts->newrow.v;
    for (int c = 0; c < n; c++) {
        const folio_value *in = &vals[c];
        fmt_value *v = &row[c];
        int aff = d->cols[c].affinity;
        if (in->type == FOLIO_INTEGER && (aff == SCH_AFF_INTEGER || aff == SCH_AFF_NUMERIC)) {
            v->type = FMT_INTEGER;
            v->u.i = in->u.i;
            continue;
        }
        if (in->type == FOLIO_TEXT && aff == SCH_AFF_TEXT && in->u.s.p &&
            in->u.s.n <= FMT_MAX_LENGTH && c != d->ipk) {
            v->type = FMT_TEXT;
            v->u.s.p = in->u.s.p;
            v->u.s.n = in->u.s.n;
            continue;
        }
        if (value_in(in, v) < 0)
            return 0;
        if (c == d->ipk) {
            if (in->type == FOLIO_REAL)
                return 0; /* NaN is a mismatch there, not NULL */
            continue;
        }
        column_affinity(d, &d->cols[c], v, ts_textbuf(ts, c));
        if (v->type == FMT_NULL && d->cols[c].notnull)
            return 0;
    }
    int64_t rowid;
    if (d->ipk >= 0 && row[d->ipk].type != FMT_NULL) {
        fmt_value *k = &row[d->ipk];
        if (k->type != FMT_INTEGER)
            sch_apply_affinity(k, SCH_AFF_INTEGER, ts_textbuf(ts, d->ipk), SCH_NUMBER_TEXT_BYTES);
        if (k->type != FMT_INTEGER || k->u.i <= ts->max_rowid)
            return 0;
        rowid = k->u.i;
        k->type = FMT_NULL; /* the rowid, stored as NULL */
    } else if (ts->max_rowid < INT64_MAX) {
        rowid = ts->max_rowid + 1;
    } else {
        return 0;
    }
    int format = file_format(txn);
    uint64_t st[64];
    uint64_t hdr = 0, body = 0;
    for (int c = 0; c < n; c++) {
        uint64_t s = fmt_serial_type_of(&row[c], format);
        st[c] = s;
        hdr += s < 0x80 ? 1 : (uint64_t)fmt_varint_len(s);
        body += fmt_serial_size(s);
    }
    /* The header counts its own length varint. */
    uint64_t hs = hdr + 1;
    while (hdr + (uint64_t)fmt_varint_len(hs) != hs)
        hs = hdr + (uint64_t)fmt_varint_len(hs);
    uint8_t *dst;
    int rc;
    if (ptxn_logs_changes(txn->pt)) {
        /* The commit log keeps the row: built first, logged and placed. */
        uint8_t rec[1024];
        if (hs + body > sizeof rec)
            return 0;
        fmt_record_write(rec, row, n, st, hs + body);
        if ((rc = bt_append_row(&ts->c, rowid, rec, hs + body)) <= 0)
            return rc < 0 ? db_err_txn(txn, rc) : 0;
    } else {
        if ((rc = bt_append_reserve(&ts->c, rowid, hs + body, &dst)) <= 0)
            return rc < 0 ? db_err_txn(txn, rc) : 0;
        fmt_record_write(dst, row, n, st, hs + body);
    }
    ts->max_rowid = rowid;
    if (out_rowid)
        *out_rowid = rowid;
    return 1;
}

/* Whether SQLite codes a top-level INSERT of one row into ts's table as a
 * statement that may write several rows (its multi-write mark): the table
 * has INSERT triggers, or a key that says ON CONFLICT REPLACE (whose delete
 * runs foreign key actions). */
static int insert_multi_write(folio_txn *txn, table_state *ts)
{
    const db_table *tab = ts->tab;
    if (write_pk_onconflict(tab) == SCH_OC_REPLACE)
        return 1;
    for (int i = 0; i < tab->nidx; i++)
        if (tab->idx[i]->unique && tab->idx[i]->onconflict == SCH_OC_REPLACE)
            return 1;
    int rc = trig_any(txn, ts, SCH_TRIG_BEFORE, SCH_TRIG_INSERT, NULL);
    return rc != 0 ? 1 : trig_any(txn, ts, SCH_TRIG_AFTER, SCH_TRIG_INSERT, NULL) != 0;
}

static int insert_call(int64_t *out_rowid, folio_table *t, const folio_value *vals, int n)
{
    folio_txn *txn = t->txn;
    int oc = take_onconf(txn);
    int rc = write_begin(txn, t->tab);
    if (rc < 0)
        return rc;
    table_state *ts;
    if ((rc = table_for(t, &ts)) < 0 || (rc = fk_prepare(txn, ts, 'i', NULL)) < 0 ||
        (rc = trig_prepare(txn, ts, SCH_TRIG_INSERT, NULL)) < 0 ||
        (rc = prepare_row(txn, ts, vals, n)) < 0)
        return write_end(txn, apply_onconf(txn, oc, rc));
    txn->fk_single_insert = txn->fk_depth == 0 && db_fk_on(txn) && !insert_multi_write(txn, ts);
    trig_rows tr;
    memset(&tr, 0, sizeof tr);
    int trig = t->tab->has_triggers;
    if (out_rowid)
        *out_rowid = 0;
    if (trig && (rc = insert_before(txn, ts, t->tab->def.without_rowid ? 0 : -1, &tr)) != 0) {
        trig_rows_free(&tr);
        return write_end(txn, apply_onconf(txn, oc, rc));
    }
    int64_t rowid = 0;
    if (t->tab->def.without_rowid) {
        rc = insert_key_row(txn, ts);
    } else {
        int is_auto;
        if ((rc = row_rowid(txn, ts, &rowid, &is_auto)) == 0)
            rc = insert_rowid_row(txn, ts, rowid, is_auto, &rowid, 0);
    }
    if (rc == 0 && out_rowid)
        *out_rowid = rowid;
    if (rc == 0 && trig)
        rc = row_after(txn, ts, SCH_TRIG_INSERT, NULL, rowid, NULL, 0);
    trig_rows_free(&tr);
    return write_end(txn, apply_onconf(txn, oc, rc));
}

int folio_insert(int64_t *out_rowid, folio_table *t, const folio_value *vals, int n)
{
    if (!t)
        return FOLIO_MISUSE;
    CHECK_VALUES(t, vals, n);
    int fast = insert_append(t, vals, n, out_rowid);
    if (fast != 0)
        return fast < 0 ? fast : 0;
    int saved = t->txn->fk_single_insert;
    int rc = insert_call(out_rowid, t, vals, n);
    t->txn->fk_single_insert = saved;
    return rc;
}

static int update_rowid_write(folio_txn *txn, table_state *ts, int64_t rowid, int64_t *out_newid,
                              const fk_change *chg, const fmt_value *orow);

/* BEFORE UPDATE: NEW and OLD saved in tb; then, as SQLite does, the row is
 * looked up again (TRIG_IGNORED when the trigger deleted it: nothing to
 * update) and the columns the call does not set are read again from it. */
static int update_before(folio_txn *txn, table_state *ts, int64_t rowid, const fk_change *chg,
                         trig_rows *tb)
{
    db_table *tab = ts->tab;
    int ncols = tab->def.ncols, rc;
    int64_t nid = rowid;
    if (tab->def.ipk >= 0 && ts->newrow.v[tab->def.ipk].type == FMT_INTEGER)
        nid = ts->newrow.v[tab->def.ipk].u.i;
    if (tab->ngen && (rc = generated_compute(txn, ts, ts->newrow.v, nid, 0)) < 0)
        return rc;
    if ((rc = trig_rows_save(txn, tb, ts->newrow.v, nid, ts->oldrow.v, rowid, ncols)) < 0 ||
        (rc = trig_fire(txn, ts, SCH_TRIG_BEFORE, SCH_TRIG_UPDATE, chg, tb)) != 0)
        return rc;
    rc = bt_seek_rowid(&ts->c, rowid);
    if (rc < 0)
        return db_err_txn(txn, rc);
    if (rc == FOLIO_NOTFOUND) {
        bt_cursor_reset(&ts->c);
        return TRIG_IGNORED;
    }
    if ((rc = load_old_row(txn, ts)) < 0)
        return db_err_txn(txn, rc);
    for (int c = 0; c < ncols; c++) {
        int set = !chg || !chg->cols;
        for (int k = 0; chg && chg->cols && k < chg->n && !set; k++)
            set = chg->cols[k] == c;
        ts->newrow.v[c] = set ? tb->nv[c] : ts->oldrow.v[c];
    }
    return 0;
}

/* Replace the row under ts->c (old values in ts->oldrow) by ts->newrow. */
static int update_rowid_row(folio_txn *txn, table_state *ts, int64_t rowid, int64_t *out_newid,
                            const fk_change *chg)
{
    db_table *tab = ts->tab;
    int rc;
    int64_t newid = rowid;
    trig_rows tb;
    memset(&tb, 0, sizeof tb);
    const fmt_value *orow = ts->oldrow.v; /* OLD (foreign keys, AFTER triggers) */
    if (tab->has_triggers) {
        rc = trig_any(txn, ts, SCH_TRIG_BEFORE, SCH_TRIG_UPDATE, chg);
        if (rc > 0)
            rc = update_before(txn, ts, rowid, chg, &tb);
        if (rc != 0) {
            trig_rows_free(&tb);
            return rc;
        }
        if (tb.mem)
            orow = tb.ov;
        rc = update_rowid_write(txn, ts, rowid, &newid, chg, orow);
        trig_rows_free(&tb);
        if (rc == 0 && out_newid)
            *out_newid = newid;
        return rc;
    }
    rc = update_rowid_write(txn, ts, rowid, &newid, chg, orow);
    if (rc == 0 && out_newid)
        *out_newid = newid;
    return rc;
}

/* An update's new rowid (ids[1]; the old one is ids[0]) must be free
 * (index_checks_pk's primary key check). */
static int update_rowid_check(folio_txn *txn, table_state *ts, void *arg)
{
    const int64_t *ids = arg;
    if (ids[1] == ids[0])
        return 0;
    int rc = bt_seek_rowid(&ts->c, ids[1]);
    bt_cursor_reset(&ts->c);
    if (rc < 0)
        return db_err_txn(txn, rc);
    if (rc != FOLIO_ROW)
        return 0;
    int mode = conflict_mode(txn, write_pk_onconflict(ts->tab));
    if (mode == SCH_OC_REPLACE) {
        rc = replace_delete(txn, ts, ids[1], NULL, 0);
        return rc < 0 ? rc : 0;
    }
    return rowid_taken(txn, ts->tab, mode);
}

static int update_rowid_write(folio_txn *txn, table_state *ts, int64_t rowid, int64_t *out_newid,
                              const fk_change *chg, const fmt_value *orow)
{
    db_table *tab = ts->tab;
    int rc;
    int64_t newid = rowid;
    if (tab->def.ipk >= 0) {
        fmt_value *v = &ts->newrow.v[tab->def.ipk];
        if (v->type != FMT_NULL) {
            sch_apply_affinity(v, SCH_AFF_INTEGER, ts_textbuf(ts, tab->def.ipk),
                               SCH_NUMBER_TEXT_BYTES);
            if (v->type != FMT_INTEGER)
                return db_err(txn->db, FOLIO_MISMATCH,
                              "datatype mismatch: %s.%s must be an integer", tab->name,
                              tab->def.cols[tab->def.ipk].name);
            newid = v->u.i;
        }
    }
    if ((rc = check_row(txn, ts, newid)) < 0)
        return rc;
    fmt_value self = {FMT_INTEGER, {.i = rowid}};
    int64_t ids[2] = {rowid, newid};
    if ((rc = index_checks_pk(txn, ts, newid, &self, 1, update_rowid_check, ids)) < 0 ||
        (rc = fk_old_row(txn, ts, orow, rowid, chg, 1)) < 0 || (rc = pin_check(txn, ts->tab)) < 0)
        return rc;
    for (int i = 0; i < ts->nidx; i++)
        if ((rc = index_delete_row(ts, &ts->idx[i], ts->oldrow.v, rowid)) < 0)
            return db_err_txn(txn, rc);
    /* As SQLite: with foreign keys to check, the old row goes before the
     * new one is checked (a scan of the table must not find it). */
    int fkon = fk_involved(txn, ts);
    if (fkon < 0)
        return fkon;
    if (newid != rowid || fkon) {
        if ((rc = bt_seek_rowid(&ts->c, rowid)) < 0 || (rc = bt_delete(&ts->c)) < 0)
            return db_err_txn(txn, rc < 0 ? rc : FOLIO_CORRUPT);
        if (ts->max_valid && rowid == ts->max_rowid && newid != rowid)
            ts->max_valid = 0;
        if (ts->max_valid && newid > ts->max_rowid)
            ts->max_rowid = newid;
    }
    if ((rc = fk_new_row(txn, ts, ts->newrow.v, newid, chg, 1)) < 0)
        return rc;
    uint64_t size;
    if ((rc = table_record(txn, ts, ts->newrow.v, &size)) < 0)
        return rc;
    if ((rc = bt_insert_row(&ts->c, newid, ts->rec, size)) < 0)
        return db_err_txn(txn, rc);
    for (int i = 0; i < ts->nidx; i++)
        if ((rc = index_insert_row(ts, &ts->idx[i], ts->newrow.v, newid)) < 0)
            return db_err_txn(txn, rc);
    /* SQLite moves sqlite_sequence on INSERT only, not on UPDATE. */
    if (out_newid)
        *out_newid = newid;
    if (!tab->has_triggers)
        return fk_actions(txn, ts, orow, rowid, ts->newrow.v, newid, chg);
    /* The new row is kept: the actions may write this table (reusing ts),
     * and the AFTER triggers read it next. */
    trig_rows keep;
    memset(&keep, 0, sizeof keep);
    if ((rc = trig_rows_save(txn, &keep, ts->newrow.v, newid, NULL, 0, tab->def.ncols)) < 0)
        return rc;
    rc = fk_actions(txn, ts, orow, rowid, keep.nv, newid, chg);
    memcpy(ts->newrow.v, keep.nv, sizeof *ts->newrow.v * (size_t)tab->def.ncols);
    if (rc == 0)
        rc = row_after(txn, ts, SCH_TRIG_UPDATE, chg, newid, orow, rowid);
    trig_rows_free(&keep);
    return rc;
}

static int find_rowid(folio_txn *txn, table_state *ts, int64_t rowid)
{
    int rc = bt_seek_rowid(&ts->c, rowid);
    if (rc < 0)
        return db_err_txn(txn, rc);
    if (rc == FOLIO_NOTFOUND) {
        bt_cursor_reset(&ts->c);
        return db_err(txn->db, FOLIO_NOTFOUND, "no row with rowid %lld in %s", (long long)rowid,
                      ts->tab->name);
    }
    if ((rc = load_old_row(txn, ts)) < 0)
        return db_err_txn(txn, rc);
    return 0;
}

int folio_update(folio_table *t, int64_t rowid, const folio_value *vals, int n)
{
    if (!t)
        return FOLIO_MISUSE;
    CHECK_VALUES(t, vals, n);
    folio_txn *txn = t->txn;
    if (t->tab->def.without_rowid)
        return db_err(txn->db, FOLIO_MISUSE, "table %s is WITHOUT ROWID: use folio_update_key",
                      t->tab->name);
    int oc = take_onconf(txn);
    int rc = write_flush(txn, t->tab);
    if (rc < 0)
        return rc;
    rc = write_begin(txn, t->tab);
    if (rc < 0)
        return rc;
    table_state *ts;
    if ((rc = table_for(t, &ts)) < 0 || (rc = fk_prepare(txn, ts, 'u', NULL)) < 0 ||
        (rc = trig_prepare(txn, ts, SCH_TRIG_UPDATE, NULL)) < 0 ||
        (rc = find_rowid(txn, ts, rowid)) != 0 || (rc = prepare_row(txn, ts, vals, n)) < 0)
        return write_end(txn, apply_onconf(txn, oc, rc));
    return write_end(txn, apply_onconf(txn, oc, update_rowid_row(txn, ts, rowid, NULL, NULL)));
}

int folio_upsert(int64_t *out_rowid, folio_table *t, int64_t rowid, const folio_value *vals, int n)
{
    if (!t)
        return FOLIO_MISUSE;
    CHECK_VALUES(t, vals, n);
    folio_txn *txn = t->txn;
    int oc = take_onconf(txn);
    int rc = write_flush(txn, t->tab);
    if (rc < 0)
        return rc;
    rc = write_begin(txn, t->tab);
    if (rc < 0)
        return rc;
    table_state *ts;
    if ((rc = table_for(t, &ts)) < 0 || (rc = fk_prepare(txn, ts, 'u', NULL)) < 0 ||
        (rc = trig_prepare(txn, ts, SCH_TRIG_INSERT, NULL)) < 0 ||
        (rc = trig_prepare(txn, ts, SCH_TRIG_UPDATE, NULL)) < 0)
        return write_end(txn, apply_onconf(txn, oc, rc));
    if (t->tab->has_triggers && !t->tab->def.without_rowid) {
        /* An UPSERT fires BEFORE INSERT first, with the row it would insert. */
        trig_rows tr;
        memset(&tr, 0, sizeof tr);
        if ((rc = prepare_row(txn, ts, vals, n)) == 0) {
            int ipk = t->tab->def.ipk;
            if (ipk >= 0 && ts->newrow.v[ipk].type == FMT_NULL) {
                ts->newrow.v[ipk].type = FMT_INTEGER;
                ts->newrow.v[ipk].u.i = rowid;
            }
            rc = insert_before(txn, ts, t->tab->def.without_rowid ? 0 : rowid, &tr);
            /* The row it would insert meets NOT NULL and CHECK before a
             * conflict turns it to DO UPDATE (its triggers), as in SQLite. */
            if (rc == 0)
                rc = check_row(txn, ts, rowid);
        }
        trig_rows_free(&tr);
        if (rc != 0)
            return write_end(txn, apply_onconf(txn, oc, rc));
    }
    if (t->tab->def.without_rowid) {
        rc = upsert_key_row(txn, ts, vals, n);
        if (rc == 0 && out_rowid)
            *out_rowid = 0;
        return write_end(txn, apply_onconf(txn, oc, rc));
    }
    rc = bt_seek_rowid(&ts->c, rowid);
    if (rc < 0)
        return write_end(txn, db_err_txn(txn, rc));
    if (rc == FOLIO_ROW) {
        if ((rc = load_old_row(txn, ts)) < 0)
            return write_end(txn, db_err_txn(txn, rc));
        if ((rc = prepare_row(txn, ts, vals, n)) < 0)
            return write_end(txn, apply_onconf(txn, oc, rc));
        if (t->tab->def.ipk >= 0 && ts->newrow.v[t->tab->def.ipk].type == FMT_NULL) {
            ts->newrow.v[t->tab->def.ipk].type = FMT_INTEGER;
            ts->newrow.v[t->tab->def.ipk].u.i = rowid;
        }
        if ((rc = upsert_excluded_defaults(txn, ts)) < 0)
            return write_end(txn, apply_onconf(txn, oc, rc));
        int64_t newid = rowid;
        upsert_update_policy(txn);
        rc = update_rowid_row(txn, ts, rowid, &newid, NULL);
        if (rc == 0 && out_rowid)
            *out_rowid = newid;
        return write_end(txn, apply_onconf(txn, oc, rc));
    }
    bt_cursor_reset(&ts->c);
    if ((rc = prepare_row(txn, ts, vals, n)) < 0)
        return write_end(txn, apply_onconf(txn, oc, rc));
    if (t->tab->def.ipk >= 0) {
        fmt_value *v = &ts->newrow.v[t->tab->def.ipk];
        if (v->type != FMT_NULL && !(v->type == FMT_INTEGER && v->u.i == rowid))
            return write_end(txn, db_err(txn->db, FOLIO_MISUSE,
                                         "the INTEGER PRIMARY KEY value differs from the rowid"));
    }
    rc = insert_rowid_row(txn, ts, rowid, 0, out_rowid, 0);
    if (rc == 0 && t->tab->has_triggers)
        rc = row_after(txn, ts, SCH_TRIG_INSERT, NULL, rowid, NULL, 0);
    return write_end(txn, apply_onconf(txn, oc, rc));
}

int folio_patch(folio_table *t, int64_t rowid, const int *cols, const folio_value *vals, int n)
{
    if (!t)
        return FOLIO_MISUSE;
    folio_txn *txn = t->txn;
    if (n < 0 || (n > 0 && (!cols || !vals)))
        return db_err(txn->db, FOLIO_MISUSE, "bad argument: cols and vals are required");
    if (t->tab->def.without_rowid)
        return db_err(txn->db, FOLIO_MISUSE, "table %s is WITHOUT ROWID: use folio_update_key",
                      t->tab->name);
    int ncols = t->tab->def.ncols;
    for (int i = 0; i < n; i++) {
        if (cols[i] < 0 || cols[i] >= ncols)
            return db_err(txn->db, FOLIO_MISUSE, "column %d out of range (table %s has %d)",
                          cols[i], t->tab->name, ncols);
        if (t->tab->val_index[cols[i]] < 0) /* as SQLite words it */
            return db_err(txn->db, FOLIO_ERROR, "cannot UPDATE generated column \"%s\"",
                          t->tab->def.cols[cols[i]].name);
    }
    int oc = take_onconf(txn);
    int rc = write_flush(txn, t->tab);
    if (rc < 0)
        return rc;
    rc = write_begin(txn, t->tab);
    if (rc < 0)
        return rc;
    table_state *ts;
    fk_change chg = {cols, n};
    if ((rc = table_for(t, &ts)) < 0 || (rc = fk_prepare(txn, ts, 'u', &chg)) < 0 ||
        (rc = trig_prepare(txn, ts, SCH_TRIG_UPDATE, &chg)) < 0 ||
        (rc = find_rowid(txn, ts, rowid)) != 0)
        return write_end(txn, apply_onconf(txn, oc, rc));
    /* New values: the old row with the patched columns replaced. */
    folio_value stackv[64];
    folio_value *fv = ncols <= 64 ? stackv : os_malloc(sizeof *fv * (size_t)ncols);
    if (!fv)
        return write_end(txn, db_err(txn->db, FOLIO_NOMEM, "out of memory"));
    const int *vix = t->tab->val_index; /* (a row value array leaves generated columns out) */
    for (int c = 0; c < ncols; c++) {
        const fmt_value *o = &ts->oldrow.v[c];
        if (vix[c] < 0)
            continue;
        folio_value *f = &fv[vix[c]];
        memset(f, 0, sizeof *f);
        f->type = (folio_type)o->type;
        if (o->type == FMT_INTEGER)
            f->u.i = o->u.i;
        else if (o->type == FMT_REAL)
            f->u.r = o->u.r;
        else if (o->type == FMT_TEXT || o->type == FMT_BLOB) {
            f->u.s.p = o->u.s.p;
            f->u.s.n = (size_t)o->u.s.n;
        }
    }
    for (int i = 0; i < n; i++)
        fv[vix[cols[i]]] = vals[i];
    rc = prepare_row(txn, ts, fv, t->tab->nvals);
    if (fv != stackv)
        os_free(fv);
    if (rc < 0)
        return write_end(txn, apply_onconf(txn, oc, rc));
    return write_end(txn, apply_onconf(txn, oc, update_rowid_row(txn, ts, rowid, NULL, &chg)));
}

/* A delete that fires triggers: OLD is the row as it was found (foreign
 * keys see it too); after the BEFORE triggers the row is looked up again
 * (gone: nothing to do) and its current image leaves the indexes. */
static int delete_with_triggers(folio_txn *txn, table_state *ts, int64_t rowid)
{
    trig_rows tr;
    memset(&tr, 0, sizeof tr);
    int rc = trig_rows_save(txn, &tr, NULL, 0, ts->oldrow.v, rowid, ts->tab->def.ncols);
    if (rc < 0)
        return rc;
    if ((rc = trig_fire(txn, ts, SCH_TRIG_BEFORE, SCH_TRIG_DELETE, NULL, &tr)) != 0)
        goto out;
    if ((rc = bt_seek_rowid(&ts->c, rowid)) == FOLIO_NOTFOUND) {
        bt_cursor_reset(&ts->c);
        rc = TRIG_IGNORED; /* deleted by a BEFORE trigger: nothing done */
        goto out;
    }
    if (rc < 0 || (rc = load_old_row(txn, ts)) < 0) {
        rc = db_err_txn(txn, rc);
        goto out;
    }
    if ((rc = fk_old_row(txn, ts, tr.ov, rowid, NULL, 0)) < 0 || (rc = pin_check(txn, ts->tab)) < 0)
        goto out;
    for (int i = 0; i < ts->nidx && rc == 0; i++)
        rc = index_delete_row(ts, &ts->idx[i], ts->oldrow.v, rowid);
    if (rc == 0 && (rc = bt_seek_rowid(&ts->c, rowid)) == FOLIO_ROW)
        rc = bt_delete(&ts->c);
    else if (rc == FOLIO_NOTFOUND)
        rc = ptxn_corrupt(txn->pt, ts->tab->root, "row vanished during delete");
    if (rc < 0) {
        rc = db_err_txn(txn, rc);
        goto out;
    }
    if (ts->max_valid && rowid == ts->max_rowid)
        ts->max_valid = 0;
    if ((rc = fk_actions(txn, ts, tr.ov, rowid, NULL, 0, NULL)) == 0)
        rc = trig_fire(txn, ts, SCH_TRIG_AFTER, SCH_TRIG_DELETE, NULL, &tr);
out:
    trig_rows_free(&tr);
    return rc;
}

int folio_delete(folio_table *t, int64_t rowid)
{
    if (!t)
        return FOLIO_MISUSE;
    folio_txn *txn = t->txn;
    if (t->tab->def.without_rowid)
        return db_err(txn->db, FOLIO_MISUSE, "table %s is WITHOUT ROWID: use folio_delete_key",
                      t->tab->name);
    int oc = take_onconf(txn);
    int rc = write_flush(txn, t->tab);
    if (rc < 0)
        return rc;
    rc = write_begin(txn, t->tab);
    if (rc < 0)
        return rc;
    table_state *ts;
    if ((rc = table_for(t, &ts)) < 0 || (rc = fk_prepare(txn, ts, 'd', NULL)) < 0 ||
        (rc = trig_prepare(txn, ts, SCH_TRIG_DELETE, NULL)) < 0 ||
        (rc = find_rowid(txn, ts, rowid)) != 0)
        return write_end(txn, apply_onconf(txn, oc, rc));
    if (t->tab->has_triggers)
        return write_end(txn, apply_onconf(txn, oc, delete_with_triggers(txn, ts, rowid)));
    if ((rc = fk_old_row(txn, ts, ts->oldrow.v, rowid, NULL, 0)) < 0 ||
        (rc = pin_check(txn, ts->tab)) < 0)
        return write_end(txn, rc);
    for (int i = 0; i < ts->nidx && rc == 0; i++)
        rc = index_delete_row(ts, &ts->idx[i], ts->oldrow.v, rowid);
    if (rc == 0 && (rc = bt_seek_rowid(&ts->c, rowid)) == FOLIO_ROW)
        rc = bt_delete(&ts->c);
    else if (rc == FOLIO_NOTFOUND)
        rc = ptxn_corrupt(txn->pt, ts->tab->root, "row vanished during delete");
    if (rc < 0)
        return write_end(txn, db_err_txn(txn, rc));
    if (ts->max_valid && rowid == ts->max_rowid)
        ts->max_valid = 0;
    return write_end(txn, fk_actions(txn, ts, ts->oldrow.v, rowid, NULL, 0, NULL));
}
