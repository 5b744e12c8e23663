/*
 * write_int.h - state a write transaction keeps per table, shared by the row
 * operations (write.c) and DDL (ddl.c).
 */
#ifndef FOLIO_DB_WRITE_INT_H
#define FOLIO_DB_WRITE_INT_H

#include "db/db_int.h"
#include "schema/affinity.h"

/* Ordering of the records of one b-tree (an index, or a WITHOUT ROWID table),
 * used for seeks that carry whole records and for rebalancing. */
typedef struct rec_order {
    int n;         /* fields compared */
    uint8_t *desc; /* per field */
    uint8_t *coll; /* per field */
    int enc;
} rec_order;

int rec_compare(void *cfg, const uint8_t *a, uint64_t na, const uint8_t *b, uint64_t nb, int *out);

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
    rec_order order; /* all nfields */
    fmt_value *kv;   /* an index record's values, nfields */
    /* Deferred entries (defer.c): inserts into a non-unique index collect
     * here, are sorted, and reach the tree in key order (bottom-up when the
     * index was empty) before anything reads or changes the index. */
    int dmode;        /* 0 undecided, 1 direct for now, 2 deferring */
    uint32_t ndirect; /* direct inserts while dmode is 1 */
    sorter *pending;
    uint64_t npending;
} index_state;

/* Per table, per write transaction. */
typedef struct table_state {
    db_table *tab;
    bt_cursor c;        /* the table tree */
    rec_order pk_order; /* WITHOUT ROWID: the primary key */
    int nidx;
    index_state *idx;
    int64_t max_rowid;
    int max_valid;
    int fields_identity; /* record field f is column f, for every column (<= 64) */
    int append_fast;     /* rows may take insert_append (see there) */
    row_vals newrow, oldrow;
    char *textbuf; /* 64 bytes per column for numbers rendered as text */
    uint8_t *rec;  /* record encoding buffer */
    size_t reccap;
    uint8_t *irec;
    size_t ireccap;
} table_state;

/** The write state of `tab` in `txn` (created on first use). */
int table_state_get(table_state **out, folio_txn *txn, db_table *tab);
void table_states_free(folio_txn *txn);
/** At the end of a transaction: keep its table states for the next one
 * (when the catalog stays), else free them. */
void table_states_stash(folio_txn *txn);
/** Free the states kept by table_states_stash (folio_close). */
void db_spare_states_free(folio_db *db);
/** Drop every table's cursors (after a rollback of a statement or DDL). */
void table_states_reset(folio_txn *txn);

/** Insert a row into sqlite_schema (root 1) and return its rowid. */
int schema_insert_row(folio_txn *txn, const char *type, const char *name, const char *tbl,
                      uint32_t root, const char *sql);

/** Before a mutation: begin the statement, refuse read-only use. */
int write_begin(folio_txn *txn, db_table *tab);
/** After: commit or undo the statement, map the code to the API. */
int write_end(folio_txn *txn, int rc);

/** Build the index record of `ix` for row values `row` (col values) and
 * rowid; returns its size in st->... buffers. */
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
