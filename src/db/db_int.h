/*
 * db_int.h - private structures of the public API layer.
 */
#ifndef FOLIO_DB_INT_H
#define FOLIO_DB_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "btree/btree.h"
#include "expr/expr.h"
#include "folio.h"
#include "format/format.h"
#include "pager/pager.h"
#include "schema/collate.h"
#include "schema/parse.h"

/* ---- catalog: what sqlite_schema says, parsed ---- */

typedef struct db_index {
    char *name;
    char *sql; /* NULL for automatic indexes */
    uint32_t root;
    struct db_table *table;
    int unique;
    int is_auto;
    int is_pk;      /* the automatic index of a rowid table's PRIMARY KEY */
    int onconflict; /* SCH_OC_*: the ON CONFLICT clause of its UNIQUE / PRIMARY KEY
                       constraint (automatic indexes; SCH_OC_DEFAULT otherwise) */
    int partial, has_expr;
    int ncols;              /* key columns, not counting the rowid / PK suffix */
    int *cols;              /* table column of each key column (-2: expression) */
    uint8_t *desc, *coll;   /* per key column */
    uint8_t *fdesc, *fcoll; /* per record field: the keys, then the suffix */
    int nfields;            /* fields in an index record: ncols + rowid (1) or + PK suffix */
    int *suffix_cols;       /* WITHOUT ROWID: table columns appended after the key */
    int nsuffix;
    char *unsupported; /* why writes are refused, or NULL */
    /* Compiled with the table's scope (src/expr): a partial index's WHERE,
     * and per key column the expression of an expression key (NULL for a
     * column key) with its affinity (SCH_AFF_* or EX_AFF_NONE). */
    ex_prog *where;
    ex_prog **kexpr;
    int *kaff;
} db_index;

typedef struct db_table {
    int refs; /* catalogs that hold it: a table whose definition and indexes
                 did not change is shared by the catalog DDL makes next */
    char *name;
    char *sql;
    uint32_t root;
    sch_table def;
    int parsed;        /* def is valid (a virtual table or parse failure leaves it 0) */
    char *parse_error; /* why the definition could not be used */
    int nidx;
    db_index **idx;
    int *col_field;             /* record field of each column, -1 when not stored */
    int nstored;                /* fields in a table record */
    int *field_col;             /* column of each record field */
    uint8_t *pk_desc, *pk_coll; /* WITHOUT ROWID: per key field */
    int has_triggers;
    char *unsupported; /* why writes are refused, or NULL */
    /* Expressions compiled when the table was loaded (read-only, shared by
     * every transaction): the names they may use, and the CHECK constraints
     * in def.checks order. */
    ex_column *ex_cols;
    ex_scope scope;
    ex_prog **checks;
    ex_prog **dflt; /* per column: its DEFAULT (expr), when it compiled; else NULL */
    /* Generated columns: per column its expression (NULL for others or when
     * it did not compile), the order to compute them in (each after the
     * columns it reads), and each column's place in a row value array
     * (which leaves generated columns out; -1 for them). */
    ex_prog **gen;
    int *gen_order, ngen;
    int *val_index;
    int nvals; /* values in a row value array: the columns not generated */
} db_table;

typedef struct db_catalog {
    int refs;
    uint32_t cookie;     /* schema cookie it was read under */
    uint64_t change_key; /* change counter it was read under */
    int nentries, entries_cap;
    folio_schema_entry *entries;
    struct entry_text **etext; /* per entry: the block its strings live in (shared) */
    int *ehash;                /* open addressing by folded entry name: index into entries + 1 */
    uint32_t ehcap;
    int ntables, tables_cap;
    db_table **tables;
    int *thash; /* open addressing by folded name: index into tables + 1, 0 empty */
    uint32_t thcap;
    int text_encoding;
    int schema_format;
    int empty;             /* read from a file with no pages */
    struct fk_graph *fk;   /* its foreign keys resolved (fkey.c), made when first needed */
    struct trig_set *trig; /* its triggers compiled (trigger.c), made when first needed */
} db_catalog;

/* ---- handles ---- */

#define DB_SPARE_STATES 16

struct folio_db {
    pager *pager;
    folio_options opts;
    pthread_mutex_t mu; /* guards cat and the spare states */
    db_catalog *cat;    /* newest committed catalog, or NULL before first read */
    char *path;
    /* Write states of tables kept from ended transactions for the next one
     * on the same catalog (write.c): no allocation per small transaction. */
    struct table_state *spare[DB_SPARE_STATES];
    int nspare;
    db_catalog *spare_cat;       /* the catalog their tables belong to (a reference) */
    struct folio_txn *spare_txn; /* a finished transaction's object and arrays, for the next */
    /* Automatic rowid counters of concurrent inserts (concurrent.c), by
     * table root: open addressing, under mu. */
    struct rowid_ctr *rowid_ctr;
    uint32_t rowid_cap, nrowid;
    /* max_write_txns: write transactions live, and the ones waiting to
     * begin, in arrival order (under mu; wt_cv signals an end). */
    unsigned wt_live;
    struct wt_waiter *wt_head, *wt_tail;
    pthread_cond_t wt_cv;
    /* Versions (version.c): the newest this handle committed, the commit
     * callback (under mu; ver_cv signals a commit). */
    uint64_t ver_committed;
    folio_commit_fn on_commit;
    void *on_commit_arg;
    pthread_cond_t ver_cv;
    /* The commit log's writer (commitlog.c), under clog_mu. */
    struct clog_writer *clog;
    int clog_need_base;
    pthread_mutex_t clog_mu;
};

struct folio_cursor;

struct folio_txn {
    folio_db *db;
    ptxn *pt;
    int write;
    int conc;           /* FOLIO_TXN_CONCURRENT (concurrent.c) */
    int replica;        /* FOLIO_TXN_REPLICA: no triggers, foreign keys, AUTOINCREMENT */
    int wt_counted;     /* it counts in db->wt_live (max_write_txns) */
    int read_committed; /* FOLIO_TXN_READ_COMMITTED: db_txn_refresh before reads */
    int refreshing;
    int done;
    db_catalog *cat;              /* the catalog this transaction sees */
    int ntables;                  /* table handles in tables[] */
    struct folio_cursor *cursors; /* open cursors, linked */
    /* write transactions */
    int nstates;          /* table states in states[] */
    int poisoned;         /* a failed call could not be undone: only rollback remains */
    uint64_t npending;    /* deferred index entries of all tables (defer.c) */
    uint64_t states_gen;  /* bumped when the table states are freed */
    int schema_changed;   /* DDL ran: publish the catalog at commit */
    db_catalog **oldcats; /* catalogs replaced by DDL, kept alive for handles */
    int noldcats;
    char ckpt_note[160]; /* for folio_info */
    char write_holder[48], ckpt_holder[48];
    /* Row calls made by a statement of their own (folio_delete_where,
     * folio_update_where): they take part in it and neither begin nor end
     * one (write_begin, write_end). */
    int stmt_nested;
    uint64_t deadline_ms; /* txn_timeout_ms: when it is over (monotonic ms); 0: never */
    /* Foreign keys (fkey.c), counted as SQLite counts them: violations of
     * immediate constraints in the current statement, of deferred ones in
     * the transaction (and that count when the statement began). */
    int64_t fk_stmt, fk_deferred, fk_deferred_at_stmt;
    int fk_depth;           /* actions under way, one inside another */
    const void *fk_setnull; /* the link whose SET NULL action makes the next update */
    int fk_dropping;        /* DROP TABLE's implicit delete: parents may be missing */
    /* The call running is a folio_insert that SQLite would code as a write
     * of one row (no INSERT triggers, no key saying ON CONFLICT REPLACE):
     * the parent row it adds mends no immediate violation (fkey.c). */
    int fk_single_insert;
    /* What the last violation counted was, per counter (0 the statement's,
     * 1 the deferred one), while no removal came after it (then it is the
     * one left when the counter ends above zero): named in the error. */
    char fk_note[2][200];
    int fk_note_ok[2];
    char fk_note_at_stmt[200]; /* the deferred note when the statement began */
    int fk_note_ok_at_stmt;
    /* A row call of the struct codec (codec.c) sets these around itself:
     * value i of its row value array is the caller's when vals_given[i],
     * else the column's DEFAULT (insert) or, with vals_keep_old, its value
     * in the row being replaced (update). NULL: every value is given. */
    const uint8_t *vals_given;
    int vals_keep_old;
    struct folio_codec *codecs; /* bound to this transaction's tables, linked */
    /* Triggers (trigger.c): the programs running, one inside another
     * (counted in fk_depth with foreign key actions); an evaluation context
     * per depth; the statement's instant for 'now'. */
    const void **trig_active;
    int trig_nactive, trig_active_cap;
    struct ex_ctx **trig_cx;
    int trig_ncx;
    int64_t trig_now;
    int trig_now_set;
    /* A body statement's conflict clause (SCH_OC_*) for the nested row call
     * it makes (taken and cleared when that call starts), and the depth + 1
     * at which a row's own constraint check failed last. */
    int onconf;
    int conflict_at;
    int conflict_oc;     /* how that failure is resolved (SCH_OC_*): the statement's clause,
                            else the constraint's own, else ABORT */
    int row_skipped;     /* the last row call did nothing (RAISE(IGNORE), OR IGNORE, gone) */
    uintptr_t stack_top; /* the stack where the outermost statement began (trigger.c) */
    int quiet_delete_at; /* depth + 1 of an OR REPLACE delete that fires no DELETE triggers */
    /* The conflict policy of the row call running at each depth (SCH_OC_*):
     * a trigger it fires runs its statements under it unless it is the
     * default (SQLite's: the firing statement's OR clause overrides the
     * body's). */
    uint8_t orconf_at[1024];
    /* A body's INSERT with ON CONFLICT clauses (trigger.c): the uniqueness
     * checks of the insert it makes at depth upsert_at consult it. */
    struct db_upsert *upsert;
    int upsert_at;
    /* The statement failed by RAISE(FAIL) / OR FAIL: what it did stays; by
     * RAISE(ROLLBACK) / OR ROLLBACK: the transaction is lost (rb_msg). */
    int stmt_keep, stmt_rollback;
    char rb_msg[256];
    /* UPDATEs whose OR REPLACE is deleting a row in their way, innermost
     * first: their tables are pinned (write.c, replace_delete). */
    struct write_pin *pins;
    /* Kept when the handle reuses the object for its next transaction
     * (TXN_KEPT): every field from here on. */
    struct folio_table **tables; /* [ntables, tables_alloc): handles kept for reuse */
    int tables_cap, tables_alloc;
    struct table_state **states;
    int states_cap;
    struct folio_cursor *spare_cursor; /* a closed one, kept with its buffers */
};

/* Where the fields a reused transaction object keeps begin. */
#define TXN_KEPT offsetof(struct folio_txn, tables)

struct folio_table {
    folio_txn *txn;
    db_table *tab;
    int dead; /* its table was dropped in this transaction */
    /* The table's write state, while txn->states_gen is still ts_gen. */
    struct table_state *ts;
    uint64_t ts_gen;
};

typedef struct row_decoder {
    uint32_t cap;
    uint32_t nfields;
    uint64_t *st;  /* serial type of each field */
    uint64_t *off; /* offset of each field's data in the record */
    int valid;
} row_decoder;

/* Key values a cursor builds for a seek, a re-seek or a lookup of the row
 * of an index entry: grown to the widest key met and kept with the cursor,
 * so that a key of any width (up to SCH_MAX_COLUMNS + 1 fields) works and a
 * warm cursor allocates nothing. */
typedef struct key_scratch {
    int cap;
    fmt_value *v;  /* the key's values */
    fmt_value *nv; /* UTF-16 files: the same key in the other encoding */
    uint8_t *desc; /* per field */
    uint8_t *coll; /* per field */
    uint8_t **buf; /* per field: text converted between encodings */
    size_t *bufcap;
} key_scratch;

struct folio_cursor {
    folio_table *t;
    uint64_t gen;        /* b-tree generation when positioned (write transactions) */
    int64_t index_rowid; /* index cursors of rowid tables: the entry's rowid */
    int64_t saved_rowid;
    size_t saved_n;  /* bytes of saved_key in use */
    db_index *index; /* NULL: table order */
    int tc_valid;
    int positioned;
    struct folio_cursor *next_open, *prev_open;
    struct folio_filter *filter; /* rows it does not select are stepped over */
    /* Kept when the transaction reuses the object for its next cursor
     * (CURSOR_KEPT): every field from here on (the b-tree cursors through
     * bt_cursor_release_keep and bt_cursor_reinit). */
    uint8_t *saved_key; /* the entry's record, for re-seeking after writes */
    size_t saved_cap;
    bt_cursor bc;    /* over the table, or over the index */
    bt_cursor tc;    /* index cursors: the table row of the current entry */
    row_decoder rd;  /* the table row's record */
    row_decoder ird; /* the index record */
    key_scratch ks;
    key_scratch pks;  /* index cursors of WITHOUT ROWID tables: the row's key */
    uint8_t **colbuf; /* per column: UTF-16 converted text, a VIRTUAL column's bytes */
    size_t *colcap;
    int ncolslots; /* length of colbuf and colcap */
    /* VIRTUAL generated columns of the current row, computed together when
     * one is first read (virt_valid; cleared when the cursor moves). */
    ex_ctx *vcx;
    fmt_value *virt;
    int virt_valid;
};

/* Where the fields a reused cursor object keeps begin. */
#define CURSOR_KEPT offsetof(struct folio_cursor, saved_key)

/** Whether foreign keys are enforced in txn (folio_options.foreign_keys, and
 * not a replica's transaction, which replays what they did). */
static inline int db_fk_on(const folio_txn *txn)
{
    return txn->db->opts.foreign_keys && !txn->replica;
}

/** FOLIO_TIMEOUT (with its message) once the transaction is older than
 * txn_timeout_ms, else 0. */
int db_txn_expired(folio_txn *txn);
#define TXN_ON_TIME(txn)                                                                           \
    do {                                                                                           \
        if ((txn)->deadline_ms) {                                                                  \
            int trc_ = db_txn_expired(txn);                                                        \
            if (trc_ < 0)                                                                          \
                return trc_;                                                                       \
        }                                                                                          \
    } while (0)

/** Free a cursor object and its buffers (it must be closed: unlinked, no
 * pages held). */
void db_cursor_destroy(folio_cursor *c);
/** Column `col` of the row the cursor was just moved to (no check of its
 * arguments, no re-seek after writes): what folio_cursor_column returns.
 * Sets the message on failure. */
int db_cursor_column(folio_cursor *c, int col, folio_value *out);

/* ---- concurrent transactions (concurrent.c) ---- */

#define DB_CONC_NO_DDL                                                                             \
    "a concurrent transaction cannot change the schema: run DDL in a plain write transaction "     \
    "(FOLIO_TXN_WRITE)"

/** Replay a concurrent transaction's change log in txn, whose pager
 * transaction (txn->pt) is now a plain write transaction on the newest
 * database. FOLIO_CONFLICT when a change finds what another commit did
 * (err says which table and key); other errors as they come. */
int conc_apply(folio_txn *txn, const uint8_t *log, size_t n, char *err, size_t errlen);
/** The next automatic rowid of table `root` (past `base`, the largest the
 * transaction sees): the handle's counter for the table never goes back,
 * so that concurrent inserts take different rowids. */
int64_t db_rowid_reserve(folio_db *db, uint32_t root, int64_t base);
/** FOLIO_TXN_READ_COMMITTED: move the transaction to the newest commit
 * (a concurrent one replays its changes there; FOLIO_CONFLICT if they no
 * longer apply) when a cursor opens or a write call begins with no cursor
 * open. Does nothing for other transactions or while cursors are open. */
int db_txn_refresh(folio_txn *txn);
/** A concurrent transaction becomes a plain write transaction (for DDL,
 * or when its pages outgrow the cache): it waits for the writer role and
 * replays its changes on the newest database (FOLIO_CONFLICT if they no
 * longer apply; it is then left as it was). `why` names the cause for the
 * message when cursors are open (FOLIO_MISUSE). */
int db_txn_upgrade(folio_txn *txn, const char *why);
/** Whether the handle keeps a rowid counter for some table. */
int db_rowid_counters(folio_db *db);

/* ---- struct codecs (codec.c) ---- */

/** Free every codec bound in the transaction (it ends). */
void db_codecs_free(folio_txn *txn);

/* ---- filters (filter.c) ---- */

/** Whether the filter selects the cursor's current row: 1, 0, or an error
 * (the message set). */
int filter_match(struct folio_filter *f, folio_cursor *c);
/** A new statement begins with the filter (a scan starts): its 'now'. */
void filter_restart(struct folio_filter *f);

/* ---- errors (errors.c) ---- */

int db_err(const folio_db *db, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/** Copy the pager transaction's message as the thread's error on db. */
int db_err_txn(folio_txn *txn, int rc);
void db_clear_err(const folio_db *db);
void db_set_open_err(const char *msg);

#define FOLIO_CHECK_ARG(db, expr)                                                                  \
    do {                                                                                           \
        if (!(expr))                                                                               \
            return db_err((db), FOLIO_MISUSE, "bad argument: %s", #expr);                          \
    } while (0)

/* ---- catalog (catalog.c) ---- */

/** Read the catalog of txn's snapshot; tables `prev` (an earlier catalog,
 * may be NULL) holds unchanged are shared with it, not parsed again. */
int catalog_load(db_catalog **out, folio_txn *txn, const db_catalog *prev);
void catalog_unref(db_catalog *cat);
db_table *catalog_find_table(db_catalog *cat, const char *name);
db_index *catalog_find_index(db_catalog *cat, const char *name);
/** Whether any schema object (table, index, view, trigger) has this name. */
int catalog_name_taken(const db_catalog *cat, const char *name);
/** A private copy of `cat` that DDL may change: it shares every table and
 * entry with `cat` (copy on write). */
int catalog_clone(db_catalog **out, const db_catalog *cat);
/**
 * DDL on a private catalog: add the sqlite_schema rows `e[0..n)` just
 * inserted (tables and their indexes). A table that gains an index is
 * replaced by a new object when it is shared: *out_replaced (may be NULL)
 * then receives the old one, which the transaction's handles and write
 * state must let go of. Returns 0 or an error (the catalog is then to be
 * read again).
 */
int catalog_add_entries(db_catalog *cat, const folio_schema_entry *e, int n,
                        db_table **out_replaced);
/** Let go of a table reference catalog_add_entries handed out. */
void catalog_table_unref(db_table *t);
/** Get the catalog for a new transaction (cached while the cookie holds). */
int db_txn_catalog(folio_txn *txn);

/* ---- records (row.c) ---- */

/** Parse the record header of `rec` (avail bytes present, size in total). */
int row_decode(row_decoder *rd, const uint8_t *rec, uint64_t avail, uint64_t size);
void row_decoder_free(row_decoder *rd);
/** Convert UTF-16 (enc 2 le, 3 be) to UTF-8 into *buf (grown). */
int text_utf16_to_utf8(const uint8_t *p, size_t n, int enc, uint8_t **buf, size_t *cap,
                       size_t *out_n);
/** Convert UTF-8 to UTF-16 (enc 2 le, 3 be) into *buf (grown). */
int text_utf8_to_utf16(const uint8_t *p, size_t n, int enc, uint8_t **buf, size_t *cap,
                       size_t *out_n);
/** The default value of column `col` (for rows older than ALTER TABLE ADD
 * COLUMN) as a folio value. */
int row_default(const sch_column *col, folio_value *out);

/** The value a row written before ALTER TABLE ADD COLUMN has in column cd:
 * its DEFAULT with the column's affinity applied (text made from a number
 * goes into buf64, 64 bytes). */
int row_default_value(const sch_column *cd, int strict, fmt_value *out, char *buf64);

/** Key comparison context for index seeks. */
typedef struct key_ctx {
    const fmt_value *vals;
    int n;
    const uint8_t *desc, *coll;
    int enc;
    ptxn *pt;
    /* UTF-16 files: the key's TEXT values in the file's encoding, for
     * BINARY comparisons, which SQLite makes on the stored bytes. */
    const fmt_value *nvals;
} key_ctx;
int key_compare(void *ctx, const uint8_t *rec, uint64_t size, int *out);

/* ---- foreign keys (fkey.c) ---- */

/** Free a catalog's resolved foreign keys (the catalog is changing or going). */
void fk_graph_free(struct fk_graph *g);
/** Free a catalog's compiled triggers (trigger.c). */
void trig_set_free(struct trig_set *s);
/** Free a transaction's trigger state (it ends). */
void trig_txn_free(folio_txn *txn);

/* ---- check and stats (check.c, stats.c) ---- */
/* quick: the structural check only (folio_check_ex, FOLIO_CHECK_QUICK). */
int db_check(folio_txn *txn, int quick, int (*cb)(void *arg, const char *msg), void *arg,
             int max_errors);
int db_stats(folio_txn *txn, int (*cb)(void *arg, const folio_btree_stats *s), void *arg);

/* commitlog.c: the pager's hooks set on a handle; its writer freed; the
 * transaction being committed by this thread (for the catalog its record
 * names tables from); what follows a commit (a new base after a gap). */
void db_log_attach(folio_db *db);
void db_log_free(folio_db *db);
void db_log_committing(folio_txn *txn);
int db_log_after_commit(folio_db *db);
/** What this handle's log writer appended: records, their raw and stored
 * payload bytes (logadmin.c reads them for folio_metrics). */
void db_log_counters(folio_db *db, uint64_t out[3]);
/** The bytes of the files of the log of `db` and the version of its oldest
 * base (0, 0 without a log). */
void db_log_disk(folio_db *db, uint64_t *out_bytes, uint64_t *out_oldest_base);
/* version.c: a commit of this handle made `version` (0: nothing written). */
void db_version_committed(folio_db *db, uint64_t version);

#endif
