/*
 * feed_int.h - the change feed's private state, shared by feed.c (the API,
 * the log's records, row values) and feed_schema.c (the schema that walks
 * with the feed, bases and snapshots).
 */
#ifndef FOLIO_DB_FEED_INT_H
#define FOLIO_DB_FEED_INT_H

#include "db/commitlog.h"
#include "db/db_int.h"

typedef struct fd_block {
    struct fd_block *next;
    size_t n, cap;
    uint8_t data[];
} fd_block;

enum {
    PH_SNAP_BEGIN, /* a snapshot: its FOLIO_CHANGE_SNAPSHOT next */
    PH_SNAP_DDL,   /* its CREATE statements */
    PH_SNAP_ROWS,  /* its rows */
    PH_SNAP_END,   /* its FOLIO_CHANGE_COMMIT */
    PH_LOG,        /* between records */
    PH_REC,        /* inside a record */
    PH_REC_END     /* its FOLIO_CHANGE_COMMIT */
};

/* A DDL statement of the record being fed. */
typedef struct fd_ddl {
    size_t off;   /* its entry in the changes */
    size_t start; /* where the entries it made begin (off: none) */
    char *sql;
    char *table; /* the table it names, or NULL */
    char **gone; /* tables whose definition it changed or removed */
    int ngone;
    int done;                /* run on the shadow */
    char *ren_from, *ren_to; /* ALTER TABLE ... RENAME TO */
} fd_ddl;

/* A statement of a snapshot. */
typedef struct fd_stmt {
    char *sql, *table;
} fd_stmt;

struct folio_feed {
    folio_db *db;
    char dir[4096]; /* the log */
    char tmp[4096]; /* the feed's own directory ("" until made) */
    clog_manifest m;
    char source[48];
    clog_reader *r;
    uint64_t from;       /* the first version fed (1 at least) */
    uint64_t at;         /* the version the shadow's schema is at */
    uint64_t db_version; /* the source's version, as last asked */
    uint64_t expect;     /* the version of the next record (0: unknown) */
    int phase;
    int err_rc;
    char err[1200];
    /* The shadow: the schema alone, and a read transaction on it whose
     * catalog decodes rows. */
    folio_db *sdb;
    folio_txn *stx;
    unsigned nshadow;
    char **broken; /* tables a base holds that the shadow could not create */
    int nbroken;
    /* A snapshot being fed: the base's copy, its statements, its tables. */
    folio_db *bdb;
    folio_txn *btx;
    fd_stmt *snap;
    int nsnap, snap_i;
    char **snap_tabs;
    int nsnap_tabs, snap_t;
    folio_table *btab;
    folio_cursor *bcur;
    uint64_t snap_version;
    int64_t snap_time;
    /* The record being fed. */
    clog_rec rec;
    clog_commit c;
    int have_c;
    size_t pos;
    fd_ddl *ddl;
    int nddl, ddl_cap;
    int emitted; /* changes of this version given */
    /* The change handed out and what it points into. */
    folio_change ch;
    folio_value *nv, *ov, *kv;
    int vcap, kcap;
    const char **colnames;
    unsigned char *gen;
    int ccap;
    fd_block *arena; /* bytes of the change (reset per change) */
    char *name;      /* a table name */
    size_t name_cap;
    row_decoder rd;
    ex_ctx *ecx;
};

/* ---- feed.c ---- */

/** Set the feed's error (it stays: every later call returns it) and the
 * handle's message; returns rc. */
int feed_fail(folio_feed *f, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int feed_nomem(folio_feed *f);
/** A copy of n bytes with a NUL after them (NULL when out of memory). */
char *feed_dup_n(const char *p, size_t n);
char *feed_dup_s(const char *s);
void feed_free_strv(char **v, int n);
/** Append a copy of s to the array *v of *n strings. */
int feed_push_str(char ***v, int *n, const char *s);
/** Whether v holds s (names compared as SQLite compares them). */
int feed_str_in(char *const *v, int n, const char *s);
/** The change's table part: name, columns, key. */
int feed_set_table(folio_feed *f, db_table *tab, const char *name);
/** The change's key from a row's values (WITHOUT ROWID). */
void feed_key_of(folio_feed *f, const db_table *tab, const folio_value *row);

/* ---- feed_schema.c ---- */

/** Run statements on the shadow in one transaction (strict: a failure is
 * an error; else passed over, a table not made remembered as broken). */
int feed_shadow_run(folio_feed *f, const fd_stmt *v, int n, int strict, uint64_t version);
void feed_shadow_close(folio_feed *f);
/** The table a DDL statement names, and RENAME TO's names. */
int feed_ddl_names(folio_feed *f, fd_ddl *d);
/** Run a DDL statement of the record on the shadow, noting what it changed. */
int feed_ddl_run(folio_feed *f, fd_ddl *d, uint64_t version);
/** The bases of the log, in version order. */
int feed_list_bases(folio_feed *f, uint64_t **out, int *out_n);
/** Start from the base of `version` (with `snapshot`, fed as one). */
int feed_from_base(folio_feed *f, uint64_t version, int snapshot);
/** Versions first..last are not in the log: go on from a base after them
 * (1: there is none yet, but the gap is at the tip of the log). */
int feed_after_gap(folio_feed *f, uint64_t first, uint64_t last);
/** The next row of a snapshot: 1 with f->ch set, 0 after the last. */
int feed_snap_row(folio_feed *f);
void feed_snap_free(folio_feed *f);

#endif
