/*
 * write_int.h - state a write transaction keeps per table, shared by the row
 * operations (write.c) and DDL (ddl.c).
 */
#ifndef FOLIO_DB_WRITE_INT_H
#define FOLIO_DB_WRITE_INT_H

#include "db/db_int.h"
#include "schema/affinity.h"
#include "schema/record_order.h"

/* A row's values with storage that the row owns. */
typedef struct row_vals {
    int n;
    fmt_value *v;
    uint8_t *bytes;
    size_t cap, used;
} row_vals;

typedef struct sorter sorter;

typedef struct index_state {
    db_index *ix;
    bt_cursor c;
    sch_order order; /* all nfields */
    fmt_value *kv;   /* an index record's values, nfields */
    /* Deferred entries (defer.c): inserts into a non-unique index collect
     * here, are sorted, and reach the tree in key order (bottom-up when the
     * index was empty) before anything reads or changes the index. */
    int dmode;        /* 0 undecided, 1 direct for now, 2 deferring */
    uint32_t ndirect; /* direct inserts while dmode is 1 */
    sorter *pending;
    uint64_t npending;
    /* Expression keys: their values' bytes (xbuf), each key's offset there. */
    uint8_t *xbuf;
    size_t xcap;
    size_t *xoff;
} index_state;

/* Per table, per write transaction. Every array is sized from the table's
 * definition when the state is made, so that no row operation relies on a
 * fixed bound: a table may have SCH_MAX_COLUMNS columns, an index or a
 * primary key as many key columns. */
typedef struct table_state {
    db_table *tab;
    bt_cursor c;        /* the table tree */
    sch_order pk_order; /* WITHOUT ROWID: the primary key */
    int nidx;
    index_state *idx;
    int64_t max_rowid;
    int max_valid;
    int fields_identity; /* record field f is column f, for every column
                            (at most WRITE_IDENTITY_MAX columns) */
    int append_fast;     /* rows may take insert_append (see there) */
    uint64_t rand_state; /* random rowids past INT64_MAX (as SQLite picks them) */
    row_vals newrow, oldrow;
    row_decoder rd;      /* the old row's record */
    char *textbuf;       /* SCH_NUMBER_TEXT_BYTES per column: numbers rendered as text */
    fmt_value *fields;   /* a table record's values in field order, nstored */
    uint64_t *st;        /* serial types of a record being encoded: st_cap entries */
    int st_cap;          /* max(nstored, every index's nfields) */
    fmt_value *pk, *opk; /* WITHOUT ROWID: a new and an old row's key values, npk */
    uint8_t *rec;        /* record encoding buffer */
    size_t reccap;
    uint8_t *irec;
    size_t ireccap;
    ex_ctx *cx;     /* evaluation of the table's expressions (made when first needed) */
    int now_set;    /* cx has this call's time for 'now' (prepare_row clears it) */
    uint8_t **dbuf; /* per column: the bytes of its DEFAULT expression's value */
    size_t *dcap;
    /* Foreign keys (fkey.c): the links where the table is the child (out)
     * and the parent (in), for the catalog graph of generation fk_gen. */
    uint64_t fk_gen;
    int fk_nout, fk_nin;
    struct fk_link **fk_out, **fk_in;
    /* Triggers (trigger.c): the table's list in the catalog's set of
     * generation trig_gen. */
    uint64_t trig_gen;
    const struct trig_tab *trig_tt;
} table_state;

/* Tables of at most this many columns, each stored in its own field, take
 * the paths that encode a row in place (table_record, insert_append) with a
 * stack array of serial types. */
#define WRITE_IDENTITY_MAX 64

/* The text of a column's number (affinity TEXT), at a column's slot. */
static inline char *ts_textbuf(table_state *ts, int col)
{
    return ts->textbuf + (size_t)SCH_NUMBER_TEXT_BYTES * (size_t)col;
}

/** The write state of `tab` in `txn` (created on first use). */
int table_state_get(table_state **out, folio_txn *txn, db_table *tab);
void table_states_free(folio_txn *txn);
/** Free the write state of table `tab` alone (DDL replaced its object). */
void table_state_drop(folio_txn *txn, const db_table *tab);
/** At the end of a transaction: keep its table states for the next one
 * (when the catalog stays), else free them. */
void table_states_stash(folio_txn *txn);
/** Free the states kept by table_states_stash (folio_close). */
void db_spare_states_free(folio_db *db);
/** Drop every table's cursors (after a rollback of a statement or DDL). */
void table_states_reset(folio_txn *txn);

/** Copy the TEXT/BLOB bytes of every value into the row's own storage. */
int row_vals_own(row_vals *r);

/** AUTOINCREMENT: the table's sqlite_sequence value (0 when none), and
 * setting it (schema_rows.c). Both set the message on failure. */
int autoinc_get(folio_txn *txn, db_table *tab, int64_t *out);
int autoinc_set(folio_txn *txn, db_table *tab, int64_t seq);

/** Read the transaction's catalog again from sqlite_schema (ddl.c): after a
 * statement that ran DDL was undone. Handles follow their tables. */
int ddl_reload_catalog(folio_txn *txn);

/** Insert a row into sqlite_schema (root 1) and return its rowid. */
int schema_insert_row(folio_txn *txn, const char *type, const char *name, const char *tbl,
                      uint32_t root, const char *sql);

/* Row operations take at most this many values (the table's columns); a
 * NULL vals with n > 0 is misuse. */
/* A row value array has a value for each column that is not generated. */
#define CHECK_VALUES(t, vals, n)                                                                   \
    do {                                                                                           \
        if ((n) < 0 || (n) > (t)->tab->nvals)                                                      \
            return db_err((t)->txn->db, FOLIO_MISUSE, "table %s has %d columns%s, got %d values",  \
                          (t)->tab->name, (t)->tab->nvals, (t)->tab->ngen ? " not generated" : "", \
                          (n));                                                                    \
        if ((n) > 0 && !(vals))                                                                    \
            return db_err((t)->txn->db, FOLIO_MISUSE, "bad argument: vals is NULL");               \
    } while (0)

/* Indexes past the first WRITE_DEFER_MAX of a table take their entries at
 * once: the set of deferred indexes of a row is a 64-bit mask. */
#define WRITE_DEFER_MAX 64

/** The write state of a table handle (made on first use; the message is
 * set on failure). */
int table_for(folio_table *t, table_state **out);
/** Convert, default, apply affinity and check NOT NULL / STRICT for a new
 * row into ts->newrow. Values missing at the end take their DEFAULT. */
int prepare_row(folio_txn *txn, table_state *ts, const folio_value *vals, int n);
/** Encode the table record of `row` (column values) into ts->rec. */
int table_record(folio_txn *txn, table_state *ts, fmt_value *row, uint64_t *out);
/** FOLIO_CONSTRAINT if a UNIQUE index would get a second entry for `row`;
 * self_pk (when self_valid) names the row being replaced, whose own entry
 * does not count: its rowid, or its primary key values. */
int unique_check(folio_txn *txn, table_state *ts, index_state *is, const fmt_value *row,
                 int64_t rowid, const fmt_value *self_pk, int self_valid);
/* The new row (ts->newrow) against every index, in SQLite's order (the index
 * made last first): UNIQUE conflicts, and the errors of index expressions
 * and partial indexes' WHERE. `self_pk` names the row being replaced. */
int index_checks(folio_txn *txn, table_state *ts, int64_t rowid, const fmt_value *self_pk,
                 int self_valid);
/* The same, with a WITHOUT ROWID table's primary key check (pk) in its turn. */
int index_checks_pk(folio_txn *txn, table_state *ts, int64_t rowid, const fmt_value *self_pk,
                    int self_valid, int (*pk)(folio_txn *, table_state *, void *), void *arg);
/** Decode the row under ts->c into ts->oldrow (values it owns). Sets the
 * transaction's message on failure. */
int load_old_row(folio_txn *txn, table_state *ts);
int check_row(folio_txn *txn, table_state *ts, int64_t rowid);
int generated_compute(folio_txn *txn, table_state *ts, fmt_value *row, int64_t rowid,
                      int virtual_only);

/** The value of column c's DEFAULT for a new row (TEXT/BLOB bytes in the
 * column's definition, in buf (SCH_NUMBER_TEXT_BYTES) or in ts). */
int write_default_value(folio_txn *txn, table_state *ts, int c, fmt_value *out, char *buf);

/* ---- foreign keys (fkey.c) ---- */

/* Which columns an update sets (SQLite's aChange): NULL means every one. */
typedef struct fk_change {
    const int *cols;
    int n;
} fk_change;

/** Whether foreign keys are enforced and `ts`'s table is the child or the
 * parent of one (fills ts's links). Negative: an error (message set). */
int fk_involved(folio_txn *txn, table_state *ts);
/** Before the checks of an insert (op 'i'), update ('u', with chg) or
 * delete ('d'): the errors SQLite reports before it runs the statement
 * (a missing parent table, a parent key with no unique index). */
int fk_prepare(folio_txn *txn, table_state *ts, int op, const fk_change *chg);
/** The old row goes (delete, or the old image of an update): count what
 * this resolves and breaks. row has a value per column; rowid (rowid
 * tables) names the row. */
int fk_old_row(folio_txn *txn, table_state *ts, const fmt_value *row, int64_t rowid,
               const fk_change *chg, int is_update);
/** The new row comes (insert, or the new image of an update). */
int fk_new_row(folio_txn *txn, table_state *ts, const fmt_value *row, int64_t rowid,
               const fk_change *chg, int is_update);
/** After the row was deleted (nrow NULL) or updated: the ON DELETE / ON
 * UPDATE actions of the foreign keys that have the table as parent. */
int fk_actions(folio_txn *txn, table_state *ts, const fmt_value *orow, int64_t orowid,
               const fmt_value *nrow, int64_t nrowid, const fk_change *chg);
/** Statement bounds (write_begin / write_end): counters. */
void fk_stmt_begin(folio_txn *txn);
/** At the end of a statement that succeeded so far: FOLIO_CONSTRAINT when
 * an immediate constraint stays violated. */
int fk_stmt_end(folio_txn *txn);
void fk_stmt_undo(folio_txn *txn);
/** At commit: FOLIO_CONSTRAINT (message set) when deferred violations are
 * counted. */
int fk_commit_check(folio_txn *txn);
/** A concurrent transaction's commit: the foreign key of a BT_LOG_FK_KEY
 * entry holds in the newest database (txn->pt), or FOLIO_CONFLICT with
 * `msg` saying why. */
int fk_conc_verify(folio_txn *txn, const bt_log_entry *e, const uint8_t *rec, char *msg,
                   size_t cap);
/** DROP TABLE: SQLite's implicit DELETE FROM first. */
int fk_drop_table(folio_txn *txn, db_table *tab);
/** WITHOUT ROWID: set some columns of the row with this key (folio_patch's
 * counterpart). */
int db_patch_key(folio_table *t, const folio_value *key, int nkey, const int *cols,
                 const folio_value *vals, int n);

/* ---- triggers (trigger.c) ---- */

/* A row call's NEW and OLD, copied out of the table state (a trigger that
 * writes the same table reuses it): per column, with the rowids. */
typedef struct trig_rows {
    const fmt_value *nv, *ov;
    int64_t nid, oid;
    void *mem;
} trig_rows;

/* A trigger said RAISE(IGNORE): the row call skips the rest of its row. */
#define TRIG_IGNORED 1000

/** Before the checks of a call: the error of a trigger the call would fire
 * (SQLite's, from preparing its program, or FOLIO_UNSUPPORTED). */
int trig_prepare(folio_txn *txn, table_state *ts, int event, const fk_change *chg);
/** Whether any trigger of this timing (SCH_TRIG_*) would fire (1), or an error. */
int trig_any(folio_txn *txn, table_state *ts, int timing, int event, const fk_change *chg);
/** Fire the triggers of timing and event: 0, TRIG_IGNORED, or an error. */
int trig_fire(folio_txn *txn, table_state *ts, int timing, int event, const fk_change *chg,
              const trig_rows *r);
/** Copy rows (either may be NULL) into r (trig_rows_free releases it). */
int trig_rows_save(folio_txn *txn, trig_rows *r, const fmt_value *nv, int64_t nid,
                   const fmt_value *ov, int64_t oid, int ncols);
void trig_rows_free(trig_rows *r);
/** A statement begins here: the stack a chain of triggers uses is measured
 * from this call's frame. */
void trig_stack_mark(folio_txn *txn);
/** Whether the catalog has any trigger. */
int trig_catalog_any(const db_catalog *cat);

/** A nested row call's conflict clause (txn->onconf), taken as it starts;
 * and its outcome under the mode of the check that failed (the clause, else
 * the constraint's own: OR IGNORE skips the row, ...). */
int take_onconf(folio_txn *txn);
int apply_onconf(folio_txn *txn, int oc, int rc);

/** An UPSERT turns to its DO UPDATE with its insert's row (SQLite's
 * excluded): a NULL given for a NOT NULL ON CONFLICT REPLACE column is its
 * DEFAULT in ts->newrow (prepared again from the call's values). Call it
 * before upsert_update_policy. */
int upsert_excluded_defaults(folio_txn *txn, table_state *ts);
/** An UPSERT turns to its DO UPDATE: the triggers it fires then run their
 * statements OR ABORT, as SQLite codes it (unless a policy is in force). */
void upsert_update_policy(folio_txn *txn);
/** Whether a conflict on a constraint whose own clause is `own` is resolved
 * by REPLACE in the row call running now. */
int replace_mode(const folio_txn *txn, int own);
/** OR REPLACE: delete the row `rowid` (WITHOUT ROWID: with primary key
 * values `key`) that is in the way of ts->newrow. `pin`: an update's row is
 * in the way of a UNIQUE index or a WITHOUT ROWID key (see write_pin). */
int replace_delete(folio_txn *txn, table_state *ts, int64_t rowid, const fmt_value *key, int pin);
/** A handle on `tab` in txn (an open one, or a new one). */
int db_table_handle(folio_txn *txn, db_table *tab, folio_table **out);

/** How a conflict on a constraint whose own ON CONFLICT clause is `own`
 * (SCH_OC_*) is resolved, as SQLite decides: by the running statement's OR
 * clause when it has one, else by the constraint's clause, else ABORT. */
int conflict_mode(const folio_txn *txn, int own);
/* A row's own constraint check failed, to be resolved by `mode` (SCH_OC_*):
 * OR IGNORE and the like act on it. */
/* SQLite pins an UPDATE's cursor on its table while an OR REPLACE deletes
 * a row in the way of a UNIQUE index or of a WITHOUT ROWID table's key, when
 * recursive_triggers is on and the table has DELETE triggers: a write to
 * the table by those triggers or by the delete's foreign key actions fails
 * the statement (SQLITE_CONSTRAINT_PINNED, "constraint failed"). The
 * delete's own write runs at the update's depth, theirs deeper. */
typedef struct write_pin {
    const db_table *tab;
    int depth; /* txn->fk_depth of the update */
    struct write_pin *up;
} write_pin;

int pin_refuse(folio_txn *txn, const db_table *tab);

/** Before a write to tab's table tree: FOLIO_CONSTRAINT (message set) when
 * an update pins it, else 0. */
static inline int pin_check(folio_txn *txn, const db_table *tab)
{
    return txn->pins ? pin_refuse(txn, tab) : 0;
}

#define ROW_CONFLICT(txn, mode)                                                                    \
    ((txn)->conflict_oc = (mode), (txn)->conflict_at = (txn)->fk_depth + 1)

/* ---- UPSERT of a trigger body (trigger.c sets it up, the checks take it) ---- */

/* One ON CONFLICT clause: what it targets and what it does. */
enum { UPS_ANY, UPS_PK, UPS_INDEX };
typedef struct ups_clause {
    int kind;           /* UPS_ANY (no target), UPS_PK (the rowid / primary key), UPS_INDEX */
    const db_index *ix; /* UPS_INDEX: the UNIQUE index */
    int do_update;      /* DO UPDATE (else DO NOTHING) */
} ups_clause;

/* The clauses of an INSERT ... ON CONFLICT, and what the insert found: the
 * clause that took a conflict (hit, -1 for none), the row in the way (its
 * rowid, or WITHOUT ROWID its primary key values in key.nv) and the row the
 * insert would have made (excluded: x.nv, x.nid). */
typedef struct db_upsert {
    const ups_clause *c;
    int n;
    int hit;
    int64_t rowid;
    trig_rows key, x;
} db_upsert;

/* The insert stopped at a conflict that an UPSERT's DO UPDATE takes. */
#define UPSERT_UPDATE 1001

/** A uniqueness conflict of the new row on ix (NULL: the rowid or the
 * primary key) taken by the UPSERT in force: 0 (none takes it),
 * TRIG_IGNORED (DO NOTHING), UPSERT_UPDATE (the rows kept in txn->upsert)
 * or an error. */
int upsert_take(folio_txn *txn, table_state *ts, const db_index *ix, int64_t other,
                const fmt_value *other_pk, int64_t nid);
/** The order of a new row's uniqueness checks, as SQLite makes them:
 * indexes (tab->idx positions) and -1 for the rowid or primary key (when
 * with_pk). order has room for nidx + 1; returns the count. */
int write_check_order(const db_table *tab, int with_pk, int *order);
/** The ON CONFLICT clause of the rowid or primary key (SCH_OC_*). */
int write_pk_onconflict(const db_table *tab);

/* ---- WITHOUT ROWID tables (write_key.c) ---- */

/** Insert ts->newrow (prepared), whose key must be free. */
int insert_key_row(folio_txn *txn, table_state *ts);
/** Insert or replace the row the values name by their key. */
int upsert_key_row(folio_txn *txn, table_state *ts, const folio_value *vals, int n);

/** Before a mutation: begin the statement, refuse read-only use. */
int write_begin(folio_txn *txn, db_table *tab);
/** After: commit or undo the statement, map the code to the API. */
int write_end(folio_txn *txn, int rc);

/** Build the index record of `ix` for row values `row` (col values) and
 * rowid; returns its size in st->... buffers. */
/* The index record of a row in ts->irec: 0, or INDEX_ROW_EXCLUDED when a
 * partial index's WHERE leaves the row out (nothing built), or an error. */
#define INDEX_ROW_EXCLUDED 1
int index_record_build(table_state *ts, index_state *is, const fmt_value *row, int64_t rowid,
                       uint64_t *out_size);
/** Insert / delete the index entry of a row. */
int index_insert_row(table_state *ts, index_state *is, const fmt_value *row, int64_t rowid);
int index_delete_row(table_state *ts, index_state *is, const fmt_value *row, int64_t rowid);

/* ---- deferred index entries (defer.c) ---- */

/** Whether this insert's entry for `is` should be deferred. */
int index_defer_wanted(folio_txn *txn, table_state *ts, index_state *is);
/** Queue a row's entries for the indexes in `mask` (bit i: ts->idx[i]),
 * after every other part of the insert succeeded. All or nothing: on
 * failure no entry of the row stays queued. */
int index_defer_add_row(folio_txn *txn, table_state *ts, uint64_t mask, const fmt_value *row,
                        int64_t rowid);
/** Put every deferred entry of `tab` (NULL: of every table) into its index.
 * Call outside statements. A failure poisons the transaction. */
int write_flush(folio_txn *txn, const db_table *tab);
/** Drop the deferred entries (the transaction ends). */
void index_defer_free(index_state *is);

#endif
